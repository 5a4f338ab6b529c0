/*
 * The Key Vault service's lifecycle (kv.h): it runs on a broker (store, master key, clock, audit
 * log) and owns its configuration, the trusted issuers' keys and the release signing key.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "azure/kv.h"
#include "base/encoding.h"
#include "crypto/aead.h"
#include "crypto/rsa_aes_wrap.h"

const struct vt_schema_component *const vt_kv_schema[3] = {&vt_schema_core, &vt_schema_broker,
                                                           &vt_schema_keyvault};

bool vt_kv_name_ok(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n == 0 || n > VT_KV_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-')) {
            return false;
        }
    }
    return true;
}

bool vt_kv_version_ok(const char *s)
{
    if (s == NULL || strlen(s) != VT_KV_VERSION_LEN) {
        return false;
    }
    for (size_t i = 0; i < VT_KV_VERSION_LEN; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

static bool url_ok(const char *s)
{
    return s != NULL && strlen(s) < VT_KV_URL_MAX &&
           (strncasecmp(s, "https://", 8) == 0 || strncasecmp(s, "http://", 7) == 0) &&
           strpbrk(s, " \"\\,\r\n\t") == NULL;
}

/* ---- trusted issuers ---- */

void vt_kv_issuer_cleanup(struct vt_kv_issuer *is)
{
    for (size_t i = 0; i < is->n; i++) {
        vt_jwk_free(is->keys[i]);
    }
    memset(is, 0, sizeof(*is));
}

/* The RSA key of a base64 certificate (x5c[0]). */
static enum vt_err cert_key(const char *b64, const char *file, const char *kid, struct vt_jwk **out,
                            struct vt_diag *d)
{
    size_t len = strlen(b64), n = 0;
    VT_ENSURE(len <= (96u << 10), d, VT_E_TOO_LARGE, "kv.jwks.x5c",
              "%.200s: key %s: the certificate is too large", file, kid);
    uint8_t *der = malloc(len / 4 * 3 + 3);
    VT_ENSURE(der != NULL, d, VT_E_NOMEM, "kv.jwks.x5c", "no memory");
    enum vt_err err = vt_base64_decode(b64, len, false, der, len / 4 * 3 + 3, &n);
    if (err != VT_OK) {
        err = vt_fail(d, VT_E_BAD_BASE64, "kv.jwks.x5c",
                      "%.200s: key %s: x5c[0] is not base64 (RFC 7517 4.7)", file, kid);
    } else {
        err = vt_jwk_from_cert_der(der, n, out, d);
    }
    free(der);
    return err;
}

static enum vt_err issuer_keys(struct vt_kv_issuer *out, const char *file, const json_t *jwks,
                               struct vt_diag *d)
{
    const json_t *keys = json_object_get(jwks, "keys");
    VT_ENSURE(json_is_array(keys) && json_array_size(keys) > 0, d, VT_E_BAD_JSON, "kv.jwks",
              "%.200s: not a JWK set ({\"keys\": [...]} with at least one key)", file);
    VT_ENSURE(json_array_size(keys) <= VT_KV_ISSUER_KEYS_MAX, d, VT_E_TOO_LARGE, "kv.jwks",
              "%.200s: %zu keys, at most %d", file, json_array_size(keys), VT_KV_ISSUER_KEYS_MAX);
    size_t i;
    const json_t *jk;
    json_array_foreach(keys, i, jk)
    {
        const char *kid = json_string_value(json_object_get(jk, "kid"));
        VT_ENSURE(kid != NULL && kid[0] != '\0' && strlen(kid) < VT_JOSE_KID_MAX, d,
                  VT_E_MISSING_FIELD, "kv.jwks.kid",
                  "%.200s: key %zu has no \"kid\" of 1 to 127 bytes (tokens name their key by kid)",
                  file, i);
        const char *kty = json_string_value(json_object_get(jk, "kty"));
        VT_ENSURE(kty != NULL && strcmp(kty, "RSA") == 0, d, VT_E_UNSUPPORTED_ALGORITHM,
                  "kv.jwks.kty", "%.200s: key %s is not RSA (tokens are RS256)", file, kid);
        struct vt_jwk *key = NULL;
        const json_t *x5c = json_array_get(json_object_get(jk, "x5c"), 0);
        if (json_object_get(jk, "n") == NULL && json_is_string(x5c)) {
            /* an attestation service's /certs: the key is the certificate's */
            VT_TRY(cert_key(json_string_value(x5c), file, kid, &key, d));
        } else {
            /* the key's public members only: vt_jwk_from_json refuses private ones */
            json_t *pub = json_pack("{s:O,s:O,s:O}", "kty", json_object_get(jk, "kty"), "n",
                                    json_object_get(jk, "n"), "e", json_object_get(jk, "e"));
            VT_ENSURE(pub != NULL, d, VT_E_MISSING_FIELD, "kv.jwks",
                      "%.200s: key %s has neither \"n\" and \"e\" nor \"x5c\"", file, kid);
            enum vt_err err = vt_jwk_from_json(pub, &key, d);
            json_decref(pub);
            VT_TRY(err);
        }
        out->keys[out->n] = key;
        snprintf(out->kids[out->n], VT_JOSE_KID_MAX, "%s", kid);
        out->n++;
    }
    return VT_OK;
}

enum vt_err vt_kv_issuer_load(const char *spec, struct vt_kv_issuer *out, struct vt_diag *d)
{
    memset(out, 0, sizeof(*out));
    const char *eq = spec != NULL ? strchr(spec, '=') : NULL;
    VT_ENSURE(eq != NULL && eq > spec && eq[1] != '\0', d, VT_E_ARG, "kv.issuer",
              "a trusted issuer is ISSUER_URL=JWKS_FILE, found \"%.200s\"", spec ? spec : "");
    size_t n = (size_t)(eq - spec);
    VT_ENSURE(n < sizeof(out->iss), d, VT_E_ARG, "kv.issuer", "the issuer URL is too long");
    memcpy(out->iss, spec, n);
    out->iss[n] = '\0';
    VT_ENSURE(url_ok(out->iss), d, VT_E_ARG, "kv.issuer",
              "the issuer \"%.200s\" is not an http(s) URL", out->iss);
    struct vt_buf b;
    vt_buf_init(&b, 1u << 20);
    enum vt_err err = vt_file_read(eq + 1, &b, d);
    json_t *jwks = NULL;
    if (err == VT_OK) {
        json_error_t je;
        jwks = json_loadb((const char *)b.data, b.len, JSON_REJECT_DUPLICATES, &je);
        if (jwks == NULL) {
            err = vt_fail(d, VT_E_BAD_JSON, "kv.jwks", "%.200s: %s (line %d)", eq + 1, je.text,
                          je.line);
        }
    }
    if (err == VT_OK) {
        err = issuer_keys(out, eq + 1, jwks, d);
    }
    json_decref(jwks);
    vt_buf_cleanup(&b);
    if (err != VT_OK) {
        vt_kv_issuer_cleanup(out);
    }
    return err;
}

/* ---- the release signing key ---- */

static bool row_signer(void *ctx, const struct vt_sql_row *row)
{
    struct vt_buf *bufs = ctx;
    size_t n = 0;
    const uint8_t *p = vt_row_blob(row, 1, &n);
    size_t cn = 0;
    const uint8_t *c = vt_row_blob(row, 2, &cn);
    const char *kid = vt_row_text(row, 0);
    return vt_buf_append(&bufs[0], kid, strlen(kid)) == VT_OK &&
           vt_buf_append(&bufs[1], p, n) == VT_OK && vt_buf_append(&bufs[2], c, cn) == VT_OK;
}

static enum vt_err signer_create(struct vt_kv *k, struct vt_diag *d)
{
    struct vt_jwk *key = NULL;
    VT_TRY(vt_jwk_generate("RSA-2048", &key, d));
    struct vt_buf pem, sealed, cert;
    vt_buf_init(&pem, 1u << 16);
    vt_buf_init(&sealed, 1u << 16);
    vt_buf_init(&cert, 1u << 16);
    char kid[44];
    vt_jwk_thumbprint_b64(key, kid);
    char aad[96];
    snprintf(aad, sizeof(aad), "keyvault signer %s", kid);
    enum vt_err err = vt_jwk_private_pem(key, &pem, d);
    if (err == VT_OK) {
        err = vt_aead_seal(k->b->cfg.master_key, aad, pem.data, pem.len, &sealed, d);
    }
    if (err == VT_OK) {
        err = vt_jwk_self_signed_der(key, "veritee Key Vault release signing", vt_kv_now(k), 3650,
                                     &cert, d);
    }
    if (err == VT_OK) {
        struct vt_sql_arg a[] = {VT_SQL_T(kid), VT_SQL_B(sealed.data, sealed.len),
                                 VT_SQL_B(cert.data, cert.len), VT_SQL_I(vt_kv_now(k))};
        /* two replicas starting at once: the first row stays, the other is ignored */
        err = vt_store_exec(k->b->store,
                            "INSERT INTO kv_signers(kid, private, cert, created) VALUES (?,?,?,?)"
                            " ON CONFLICT DO NOTHING",
                            a, 4, NULL, NULL, NULL, d);
    }
    vt_jwk_free(key);
    vt_buf_cleanup(&pem);
    vt_buf_cleanup(&sealed);
    vt_buf_cleanup(&cert);
    return err;
}

static enum vt_err signer_load(struct vt_kv *k, bool *found, struct vt_diag *d)
{
    struct vt_buf b[3];
    for (int i = 0; i < 3; i++) {
        vt_buf_init(&b[i], 1u << 16);
    }
    *found = false;
    enum vt_err err = vt_store_read(k->b->store,
                                    "SELECT kid, private, cert FROM kv_signers ORDER BY created,"
                                    " kid LIMIT 1",
                                    NULL, 0, row_signer, b, d);
    struct vt_buf pem;
    vt_buf_init(&pem, 1u << 16);
    if (err == VT_OK && b[0].len > 0) {
        *found = true;
        char aad[96];
        snprintf(aad, sizeof(aad), "keyvault signer %s", (const char *)b[0].data);
        if (vt_aead_open(k->b->cfg.master_key, aad, b[1].data, b[1].len, &pem, d) != VT_OK) {
            err = vt_fail(d, VT_E_INTEGRITY, "kv.signer",
                          "the release signing key %s does not open under the master key",
                          (const char *)b[0].data);
        }
        if (err == VT_OK) {
            err = vt_jwk_from_private_pem((const char *)pem.data, pem.len, &k->signer, d);
        }
        if (err == VT_OK) {
            snprintf(k->signer_kid, sizeof(k->signer_kid), "%s", (const char *)b[0].data);
            k->signer_x5c = vt_base64_alloc(b[2].data, b[2].len, false);
            uint8_t h[VT_SHA256_LEN];
            vt_sha256(b[2].data, b[2].len, h);
            (void)!vt_base64_encode(h, sizeof(h), true, k->signer_x5t_s256,
                                    sizeof(k->signer_x5t_s256));
            if (k->signer_x5c == NULL) {
                err = vt_fail(d, VT_E_NOMEM, "kv.signer", "no memory");
            }
        }
    }
    vt_buf_cleanup(&pem);
    for (int i = 0; i < 3; i++) {
        vt_buf_cleanup(&b[i]);
    }
    return err;
}

enum vt_err vt_kv_open(const struct vt_kv_config *cfg, struct vt_broker *b, struct vt_kv **out,
                       struct vt_diag *d)
{
    *out = NULL;
    VT_ENSURE(b != NULL && b->store != NULL, d, VT_E_ARG, "kv",
              "the Key Vault service needs a broker");
    const char *resource = cfg->resource ? cfg->resource : "https://vault.azure.net";
    const char *authz =
        cfg->authorization ? cfg->authorization : "https://login.microsoftonline.com/veritee";
    VT_ENSURE(url_ok(resource), d, VT_E_ARG, "kv.resource",
              "the challenge resource \"%.200s\" is not an http(s) URL", resource);
    VT_ENSURE(url_ok(authz), d, VT_E_ARG, "kv.authorization",
              "the challenge authorization \"%.200s\" is not an http(s) URL", authz);
    VT_ENSURE(cfg->vault_url == NULL || url_ok(cfg->vault_url), d, VT_E_ARG, "kv.vault_url",
              "the vault URL \"%.200s\" is not an http(s) URL", cfg->vault_url);
    VT_ENSURE(cfg->n_issuers <= VT_KV_ISSUERS_MAX, d, VT_E_ARG, "kv.issuer",
              "%zu trusted issuers, at most %d", cfg->n_issuers, VT_KV_ISSUERS_MAX);
    VT_ENSURE(cfg->maa_key == NULL || url_ok(cfg->maa_issuer), d, VT_E_ARG, "kv.maa_issuer",
              "the MAA service's issuer is not an http(s) URL");
    VT_ENSURE(cfg->token_leeway >= 0 && cfg->token_leeway <= 3600, d, VT_E_ARG, "kv.leeway",
              "the token clock leeway is 0 to 3600 seconds");
    const struct vt_schema_component *only[] = {&vt_schema_keyvault};
    VT_TRY(vt_schema_apply(b->store, only, 1, cfg->schema_mode, NULL, d));
    struct vt_kv *k = calloc(1, sizeof(*k));
    VT_ENSURE(k != NULL, d, VT_E_NOMEM, "kv", "no memory");
    k->b = b;
    snprintf(k->resource, sizeof(k->resource), "%s", resource);
    snprintf(k->authorization, sizeof(k->authorization), "%s", authz);
    if (cfg->vault_url != NULL) {
        snprintf(k->vault_url, sizeof(k->vault_url), "%s", cfg->vault_url);
        size_t n = strlen(k->vault_url);
        if (n > 0 && k->vault_url[n - 1] == '/') {
            k->vault_url[n - 1] = '\0';
        }
    }
    k->token_leeway = cfg->token_leeway;
    if (cfg->maa_key != NULL) {
        snprintf(k->maa_issuer, sizeof(k->maa_issuer), "%s", cfg->maa_issuer);
        k->maa_key = cfg->maa_key;
        k->maa_ctx = cfg->maa_ctx;
    }
    enum vt_err err = VT_OK;
    for (size_t i = 0; err == VT_OK && i < cfg->n_issuers; i++) {
        err = vt_kv_issuer_load(cfg->issuers[i], &k->issuers[i], d);
        k->n_issuers = err == VT_OK ? i + 1 : i;
    }
    bool found = false;
    if (err == VT_OK) {
        err = signer_load(k, &found, d);
    }
    if (err == VT_OK && !found) {
        err = signer_create(k, d);
        if (err == VT_OK) {
            err = signer_load(k, &found, d);
        }
    }
    if (err != VT_OK) {
        vt_kv_close(k);
        return err;
    }
    *out = k;
    return VT_OK;
}

void vt_kv_close(struct vt_kv *k)
{
    if (k == NULL) {
        return;
    }
    for (size_t i = 0; i < k->n_issuers; i++) {
        vt_kv_issuer_cleanup(&k->issuers[i]);
    }
    vt_jwk_free(k->signer);
    free(k->signer_x5c);
    free(k);
}

vt_time vt_kv_now(const struct vt_kv *k)
{
    return vt_broker_now(k->b);
}
