/*
 * The MAA service's lifecycle and signing key (maa.h). The key that signs tokens is RSA-2048,
 * made at the first start on a database and kept in vm_signing_keys: its PKCS#8 PEM sealed under
 * the master key (associated data naming its kid, so a sealed key moved to another row does not
 * open) and a self-signed certificate (CN "veritee MAA token signing", ten years), which /certs
 * publishes in x5c as MAA publishes its own. Replicas sharing the database share the key: the
 * first to start inserts it, the others find it (the oldest row is the active key).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "azure/maa.h"
#include "base/encoding.h"
#include "crypto/aead.h"
#include "crypto/x509_self.h"

#define CERT_CN "veritee MAA token signing"
#define CERT_YEARS 10

static const char *const type_names[VT_MAA_TYPE_COUNT] = {"SgxEnclave", "OpenEnclave", "TdxVm",
                                                          "SevSnpVm"};

const char *vt_maa_type_name(enum vt_maa_type t)
{
    return t < VT_MAA_TYPE_COUNT ? type_names[t] : "?";
}

bool vt_maa_type_parse(const char *s, enum vt_maa_type *t)
{
    for (size_t i = 0; i < VT_MAA_TYPE_COUNT; i++) {
        if (strcasecmp(s, type_names[i]) == 0) {
            *t = (enum vt_maa_type)i;
            return true;
        }
    }
    return false;
}

bool vt_maa_api_version_ok(const char *v)
{
    return v != NULL && (strcmp(v, "2020-10-01") == 0 || strcmp(v, "2022-08-01") == 0);
}

vt_time vt_maa_now(const struct vt_maa *m)
{
    return vt_broker_now(m->b);
}

static void key_aad(const char *kid, char aad[VT_JOSE_KID_MAX + 32])
{
    snprintf(aad, VT_JOSE_KID_MAX + 32, "veritee maa signing key %s", kid);
}

/* ---- the signing key ---- */

struct key_row {
    char kid[VT_JOSE_KID_MAX];
    struct vt_buf sealed, cert;
    bool found;
};

static bool row_key(void *ctx, const struct vt_sql_row *row)
{
    struct key_row *k = ctx;
    size_t sn = 0, cn = 0;
    const uint8_t *s = vt_row_blob(row, 1, &sn), *c = vt_row_blob(row, 2, &cn);
    snprintf(k->kid, sizeof(k->kid), "%s", vt_row_text(row, 0));
    k->found = vt_buf_append(&k->sealed, s, sn) == VT_OK && vt_buf_append(&k->cert, c, cn) == VT_OK;
    return false;
}

static enum vt_err signer_create(struct vt_maa *m, struct vt_diag *d)
{
    struct vt_jwk *key = NULL;
    VT_TRY(vt_jwk_generate("RSA-2048", &key, d));
    char kid[44];
    vt_jwk_thumbprint_b64(key, kid);
    struct vt_buf pem, sealed, cert;
    vt_buf_init(&pem, 16 << 10);
    vt_buf_init(&sealed, 16 << 10);
    vt_buf_init(&cert, 16 << 10);
    vt_time now = vt_maa_now(m);
    char aad[VT_JOSE_KID_MAX + 32];
    key_aad(kid, aad);
    enum vt_err err = vt_jwk_private_pem(key, &pem, d);
    if (err == VT_OK) {
        err = vt_broker_seal(m->b, aad, pem.data, pem.len, &sealed, d);
    }
    if (err == VT_OK) {
        err = vt_x509_self_signed_der(key, CERT_CN, now - 3600,
                                      now + (vt_time)CERT_YEARS * 365 * 86400, &cert, d);
    }
    if (err == VT_OK) {
        /* another replica may have inserted its key meanwhile: then both rows exist and the
         * oldest (created, kid) is the active one everywhere */
        struct vt_sql_arg a[] = {VT_SQL_T(kid), VT_SQL_B(sealed.data, sealed.len),
                                 VT_SQL_B(cert.data, cert.len), VT_SQL_I(now)};
        err = vt_store_exec(m->b->store,
                            "INSERT INTO vm_signing_keys(kid, sealed, certificate, created)"
                            " VALUES (?,?,?,?)",
                            a, 4, NULL, NULL, NULL, d);
    }
    vt_buf_cleanup(&cert);
    vt_buf_cleanup(&sealed);
    vt_buf_cleanup(&pem);
    vt_jwk_free(key);
    return err;
}

static enum vt_err signer_load(struct vt_maa *m, struct vt_diag *d)
{
    struct key_row k = {.found = false};
    vt_buf_init(&k.sealed, 64 << 10);
    vt_buf_init(&k.cert, 64 << 10);
    enum vt_err err = vt_store_exec(m->b->store,
                                    "SELECT kid, sealed, certificate FROM vm_signing_keys"
                                    " ORDER BY created, kid LIMIT 1",
                                    NULL, 0, row_key, &k, NULL, d);
    if (err == VT_OK && !k.found) {
        err = signer_create(m, d);
        if (err == VT_OK) {
            vt_buf_cleanup(&k.sealed);
            vt_buf_cleanup(&k.cert);
            vt_buf_init(&k.sealed, 64 << 10);
            vt_buf_init(&k.cert, 64 << 10);
            err = vt_store_exec(m->b->store,
                                "SELECT kid, sealed, certificate FROM vm_signing_keys"
                                " ORDER BY created, kid LIMIT 1",
                                NULL, 0, row_key, &k, NULL, d);
        }
    }
    struct vt_buf pem;
    vt_buf_init(&pem, 64 << 10);
    if (err == VT_OK && !k.found) {
        err = vt_fail(d, VT_E_STORAGE, "maa.signing_key", "the signing key row cannot be read");
    }
    if (err == VT_OK) {
        char aad[VT_JOSE_KID_MAX + 32];
        key_aad(k.kid, aad);
        if (vt_broker_unseal(m->b, aad, k.sealed.data, k.sealed.len, &pem, d) != VT_OK) {
            err = vt_fail(d, VT_E_INTEGRITY, "maa.signing_key",
                          "the MAA signing key %s does not open under this master key", k.kid);
        }
    }
    if (err == VT_OK) {
        err = vt_jwk_from_private_pem((const char *)pem.data, pem.len, &m->signer.key, d);
    }
    if (err == VT_OK) {
        snprintf(m->signer.kid, sizeof(m->signer.kid), "%s", k.kid);
        m->signer.cert_der = vt_buf_steal(&k.cert, &m->signer.cert_len);
        if (m->signer.cert_der == NULL) {
            err = vt_fail(d, VT_E_NOMEM, "maa", "no memory");
        }
    }
    vt_buf_cleanup(&pem);
    vt_buf_cleanup(&k.sealed);
    vt_buf_cleanup(&k.cert);
    return err;
}

/* ---- lifecycle ---- */

static void policy_free(void *value)
{
    vt_maa_policy_free(value);
}

static bool issuer_ok(const char *url)
{
    size_t n = url != NULL ? strlen(url) : 0;
    if (n == 0 || n >= VT_MAA_ISSUER_MAX || url[n - 1] == '/') {
        return false;
    }
    const char *host = strncmp(url, "https://", 8) == 0  ? url + 8
                       : strncmp(url, "http://", 7) == 0 ? url + 7
                                                         : NULL;
    if (host == NULL || *host == '\0') {
        return false;
    }
    for (const char *p = url; *p; p++) {
        if ((unsigned char)*p <= 0x20 || *p == '"' || *p == '\\' || (unsigned char)*p >= 0x7f) {
            return false;
        }
    }
    return true;
}

enum vt_err vt_maa_set_issuer(struct vt_maa *m, const char *url, struct vt_diag *d)
{
    VT_ENSURE(
        issuer_ok(url), d, VT_E_ARG, "maa.issuer",
        "the issuer \"%.300s\" is not an http(s):// URL of at most %d printable bytes without "
        "a trailing slash",
        url ? url : "", VT_MAA_ISSUER_MAX - 1);
    pthread_mutex_lock(&m->lock);
    snprintf(m->issuer, sizeof(m->issuer), "%s", url);
    pthread_mutex_unlock(&m->lock);
    return VT_OK;
}

const char *vt_maa_issuer(const struct vt_maa *m)
{
    return m->issuer;
}

const struct vt_jwk *vt_maa_signer_key(struct vt_maa *m, const char *kid)
{
    if (m == NULL || kid == NULL || m->signer.key == NULL || strcmp(kid, m->signer.kid) != 0) {
        return NULL;
    }
    return m->signer.key;
}

enum vt_err vt_maa_open(const struct vt_maa_config *cfg, struct vt_broker *b, struct vt_maa **out,
                        struct vt_diag *d)
{
    *out = NULL;
    VT_ENSURE(b != NULL && b->store != NULL, d, VT_E_ARG, "maa", "the MAA service needs a broker");
    VT_ENSURE(
        cfg->issuer == NULL || issuer_ok(cfg->issuer), d, VT_E_ARG, "maa.issuer",
        "the issuer \"%.300s\" is not an http(s):// URL of at most %d printable bytes without "
        "a trailing slash",
        cfg->issuer, VT_MAA_ISSUER_MAX - 1);
    VT_ENSURE(cfg->token_ttl >= 0, d, VT_E_ARG, "maa.token_ttl", "the token lifetime is negative");
    const struct vt_schema_component *maa_only[] = {&vt_schema_maa};
    VT_TRY(vt_schema_apply(b->store, maa_only, 1, cfg->schema_mode, NULL, d));
    struct vt_maa *m = calloc(1, sizeof(*m));
    VT_ENSURE(m != NULL, d, VT_E_NOMEM, "maa", "no memory");
    if (vt_pincache_init(&m->policies, VT_MAA_POLICY_CACHE, policy_free) != VT_OK) {
        free(m);
        return vt_fail(d, VT_E_NOMEM, "maa", "no memory");
    }
    m->b = b;
    pthread_mutex_init(&m->lock, NULL);
    vt_cert_list_init(&m->trusted_signers);
    m->token_ttl = cfg->token_ttl > 0 ? cfg->token_ttl : VT_MAA_TOKEN_TTL;
    if (cfg->issuer != NULL) {
        snprintf(m->issuer, sizeof(m->issuer), "%s", cfg->issuer);
    }
    enum vt_err err = VT_OK;
    for (size_t i = 0; err == VT_OK && cfg->policy_signers && cfg->policy_signers[i]; i++) {
        err = vt_cert_list_from_file(cfg->policy_signers[i], &m->trusted_signers, d);
    }
    if (err == VT_OK && m->trusted_signers.n > VT_MAA_SIGNERS_MAX) {
        err = vt_fail(d, VT_E_ARG, "maa.policy_signers", "%zu policy signers (at most %d)",
                      m->trusted_signers.n, VT_MAA_SIGNERS_MAX);
    }
    if (err == VT_OK) {
        err = signer_load(m, d);
    }
    if (err != VT_OK) {
        vt_maa_close(m);
        return err;
    }
    *out = m;
    return VT_OK;
}

void vt_maa_close(struct vt_maa *m)
{
    if (m == NULL) {
        return;
    }
    vt_pincache_cleanup(&m->policies);
    vt_jwk_free(m->signer.key);
    free(m->signer.cert_der);
    vt_cert_list_cleanup(&m->trusted_signers);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* ---- published keys and signing ---- */

/* The signing key's JWK members with x5c (a new object). */
static json_t *signer_jwk(const struct vt_maa *m)
{
    char *pub = vt_jwk_public_json(m->signer.key);
    json_t *o = pub != NULL ? json_loads(pub, 0, NULL) : NULL;
    free(pub);
    char *x5c = vt_base64_alloc(m->signer.cert_der, m->signer.cert_len, false);
    if (o == NULL || x5c == NULL ||
        json_object_set_new(o, "kid", json_string(m->signer.kid)) != 0 ||
        json_object_set_new(o, "use", json_string("sig")) != 0 ||
        json_object_set_new(o, "alg", json_string("RS256")) != 0 ||
        json_object_set_new(o, "x5c", json_pack("[s]", x5c)) != 0) {
        json_decref(o);
        o = NULL;
    }
    free(x5c);
    return o;
}

json_t *vt_maa_signer_jwk(const uint8_t *der, size_t n)
{
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_jwk *k = NULL;
    if (vt_x509_rsa_jwk(der, n, &k, &d) != VT_OK) {
        return NULL;
    }
    char *pub = vt_jwk_public_json(k);
    vt_jwk_free(k);
    json_t *o = pub != NULL ? json_loads(pub, 0, NULL) : NULL;
    free(pub);
    char *x5c = vt_base64_alloc(der, n, false);
    if (o != NULL && (x5c == NULL || json_object_set_new(o, "x5c", json_pack("[s]", x5c)) != 0)) {
        json_decref(o);
        o = NULL;
    }
    free(x5c);
    return o;
}

char *vt_maa_jwks(struct vt_maa *m)
{
    json_t *k = signer_jwk(m);
    json_t *o = k != NULL ? json_pack("{s:[o]}", "keys", k) : NULL;
    char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

char *vt_maa_openid_configuration(struct vt_maa *m)
{
    char iss[VT_MAA_ISSUER_MAX], jwks[VT_MAA_ISSUER_MAX + 8];
    pthread_mutex_lock(&m->lock);
    snprintf(iss, sizeof(iss), "%s", m->issuer);
    pthread_mutex_unlock(&m->lock);
    snprintf(jwks, sizeof(jwks), "%s/certs", iss);
    json_t *o = json_pack("{s:s,s:s,s:[s],s:[s],s:[s],s:[s]}", "issuer", iss, "jwks_uri", jwks,
                          "id_token_signing_alg_values_supported", "RS256",
                          "revocation_endpoint_auth_methods_supported", "none",
                          "response_types_supported", "token", "claims_supported", "iss");
    json_t *claims = json_object_get(o, "claims_supported");
    static const char *const more[] = {"iat",
                                       "exp",
                                       "nbf",
                                       "jti",
                                       "nonce",
                                       "x-ms-ver",
                                       "x-ms-attestation-type",
                                       "x-ms-policy-hash",
                                       "x-ms-runtime",
                                       "x-ms-inittime",
                                       "x-ms-sgx-is-debuggable",
                                       "x-ms-sgx-mrenclave",
                                       "x-ms-sgx-mrsigner",
                                       "x-ms-sgx-product-id",
                                       "x-ms-sgx-svn",
                                       "x-ms-sgx-ehd",
                                       "x-ms-sgx-report-data",
                                       "x-ms-sgx-collateral",
                                       "x-ms-sgx-tcbidentifier",
                                       "tee"};
    for (size_t i = 0; claims != NULL && i < sizeof(more) / sizeof(more[0]); i++) {
        json_array_append_new(claims, json_string(more[i]));
    }
    char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

enum vt_err vt_maa_sign(struct vt_maa *m, const json_t *payload, char **jwt, struct vt_diag *d)
{
    *jwt = NULL;
    char jku[VT_MAA_ISSUER_MAX + 8];
    pthread_mutex_lock(&m->lock);
    snprintf(jku, sizeof(jku), "%s/certs", m->issuer);
    pthread_mutex_unlock(&m->lock);
    char *x5c = vt_base64_alloc(m->signer.cert_der, m->signer.cert_len, false);
    json_t *h = x5c != NULL ? json_pack("{s:s,s:s,s:s,s:[s]}", "jku", jku, "kid", m->signer.kid,
                                        "typ", "JWT", "x5c", x5c)
                            : NULL;
    free(x5c);
    char *body = json_dumps(payload, JSON_COMPACT);
    enum vt_err err = VT_OK;
    if (h == NULL || body == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "maa.token", "no memory");
    } else {
        err = vt_jws_sign_rs256(m->signer.key, h, (const uint8_t *)body, strlen(body), jwt, d);
    }
    free(body);
    json_decref(h);
    return err;
}

/* ---- master-key operations on the stored signing keys ---- */

static enum vt_err maa_present(struct vt_store *s, bool *present, struct vt_diag *d)
{
    const struct vt_schema_component *c[] = {&vt_schema_maa};
    struct vt_schema_state st;
    VT_TRY(vt_schema_inspect(s, c, 1, &st, d));
    *present = st.version > 0;
    return VT_OK;
}

struct sealed_rows {
    struct {
        char kid[VT_JOSE_KID_MAX];
        struct vt_buf sealed;
    } r[8];
    size_t n;
    bool overflow;
};

static bool row_sealed(void *ctx, const struct vt_sql_row *row)
{
    struct sealed_rows *l = ctx;
    if (l->n == sizeof(l->r) / sizeof(l->r[0])) {
        l->overflow = true;
        return false;
    }
    size_t n = 0;
    const uint8_t *p = vt_row_blob(row, 1, &n);
    snprintf(l->r[l->n].kid, sizeof(l->r[l->n].kid), "%s", vt_row_text(row, 0));
    vt_buf_init(&l->r[l->n].sealed, 64 << 10);
    if (vt_buf_append(&l->r[l->n].sealed, p, n) != VT_OK) {
        l->overflow = true;
    }
    l->n++;
    return true;
}

static void sealed_free(struct sealed_rows *l)
{
    for (size_t i = 0; i < l->n; i++) {
        vt_buf_cleanup(&l->r[i].sealed);
    }
}

/* Open each stored key under master; with new_master, seal it again under that and store it. */
static enum vt_err each_sealed(struct vt_store *s, const uint8_t master[32],
                               const uint8_t *new_master, size_t *n, struct vt_diag *d)
{
    bool present = false;
    VT_TRY(maa_present(s, &present, d));
    if (!present) {
        return VT_OK;
    }
    struct sealed_rows l = {.n = 0};
    enum vt_err err = vt_store_exec(s, "SELECT kid, sealed FROM vm_signing_keys ORDER BY kid", NULL,
                                    0, row_sealed, &l, NULL, d);
    if (err == VT_OK && l.overflow) {
        err = vt_fail(d, VT_E_STORAGE, "maa.signing_key", "more MAA signing keys than expected");
    }
    for (size_t i = 0; err == VT_OK && i < l.n; i++) {
        char aad[VT_JOSE_KID_MAX + 32];
        key_aad(l.r[i].kid, aad);
        struct vt_buf plain, again;
        vt_buf_init(&plain, 64 << 10);
        vt_buf_init(&again, 64 << 10);
        if (vt_aead_open(master, aad, l.r[i].sealed.data, l.r[i].sealed.len, &plain, d) != VT_OK) {
            err = vt_fail(d, VT_E_INTEGRITY, "maa.signing_key",
                          "the MAA signing key %s does not open under the master key", l.r[i].kid);
        }
        if (err == VT_OK && new_master != NULL) {
            err = vt_aead_seal(new_master, aad, plain.data, plain.len, &again, d);
            if (err == VT_OK) {
                struct vt_sql_arg a[] = {VT_SQL_B(again.data, again.len), VT_SQL_T(l.r[i].kid)};
                err = vt_store_exec(s, "UPDATE vm_signing_keys SET sealed = ? WHERE kid = ?", a, 2,
                                    NULL, NULL, NULL, d);
            }
        }
        if (err == VT_OK) {
            (*n)++;
        }
        vt_buf_cleanup(&plain);
        vt_buf_cleanup(&again);
    }
    sealed_free(&l);
    return err;
}

enum vt_err vt_maa_store_rewrap(struct vt_store *s, const uint8_t master[32],
                                const uint8_t new_master[32], size_t *n, struct vt_diag *d)
{
    return each_sealed(s, master, new_master, n, d);
}

enum vt_err vt_maa_store_check(struct vt_store *s, const uint8_t master[32], size_t *n,
                               struct vt_diag *d)
{
    return each_sealed(s, master, NULL, n, d);
}

const struct vt_sealed_service vt_maa_sealed = {"maa", vt_maa_store_rewrap, vt_maa_store_check};
