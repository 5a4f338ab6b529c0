/*
 * Certificates from the broker (docs/attested-tls.md, "Certificates from the broker"): the
 * broker's CA, certificate profiles, and POST /v1/cert, which signs a short-lived certificate
 * for a workload's runtime key once it has attested.
 *
 * What goes into a certificate is decided here, never taken from the request: the key is the
 * CSR's only after it was checked to be the runtime key the attestation bound (the token's
 * cnf.jkt, or the key the evidence's report data binds); the names are the profile's; the
 * lifetime is the profile's or the broker's, cut at the token's expiry; the appraisal extension
 * (include/veritee/atls.h, VT_ATLS_OID_BROKER) carries the claims the broker appraised, its EAR
 * token, the profile's policy and the issuance's index in the audit log.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <veritee/atls.h>

#include "broker/broker.h"
#include "net/json_fields.h"

struct vt_broker_ca {
    char id[40];
    struct vt_key *key;
    struct vt_cert *cert;
    char *pem;
};

static void deny(struct vt_broker_denial *den, unsigned status, const char *reason,
                 const char *detail)
{
    den->status = status;
    snprintf(den->reason, sizeof(den->reason), "%s", reason);
    snprintf(den->detail, sizeof(den->detail), "%s", detail ? detail : "");
}

/* A denial from a diag: "<check>: <detail>". */
static void deny_diag(struct vt_broker_denial *den, unsigned status, const char *reason,
                      const struct vt_diag *d)
{
    char msg[sizeof(den->detail)];
    snprintf(msg, sizeof(msg), "%s: %s", d->check, d->detail);
    deny(den, status, reason, msg);
}

/* ---- the CA ---- */

void vt_broker_ca_free(struct vt_broker *b)
{
    if (b->ca == NULL) {
        return;
    }
    vt_key_free(b->ca->key);
    vt_cert_free(b->ca->cert);
    free(b->ca->pem);
    free(b->ca);
    b->ca = NULL;
}

struct ca_row {
    struct vt_broker *b;
    struct vt_broker_ca *ca;
    enum vt_err err;
    struct vt_diag *d;
};

static bool row_ca(void *ctx, const struct vt_sql_row *row)
{
    struct ca_row *l = ctx;
    struct vt_broker_ca *ca = calloc(1, sizeof(*ca));
    if (ca == NULL) {
        l->err = vt_fail(l->d, VT_E_NOMEM, "ca", "no memory");
        return false;
    }
    snprintf(ca->id, sizeof(ca->id), "%s", vt_row_text(row, 0));
    size_t sn = 0, cn = 0;
    const uint8_t *sealed = vt_row_blob(row, 1, &sn);
    const uint8_t *der = vt_row_blob(row, 2, &cn);
    char aad[96];
    snprintf(aad, sizeof(aad), "veritee broker ca key %s", ca->id);
    struct vt_buf pem, out;
    vt_buf_init(&pem, 4096);
    vt_buf_init(&out, 8192);
    enum vt_err err = vt_broker_unseal(l->b, aad, sealed, sn, &pem, l->d);
    if (err == VT_OK) {
        err = vt_key_from_private_pem((const char *)pem.data, pem.len, VT_KEY_P256, &ca->key, l->d);
    }
    if (err == VT_OK) {
        err = vt_cert_from_der(der, cn, &ca->cert, l->d);
    }
    if (err == VT_OK) {
        err = vt_der_to_pem("CERTIFICATE", der, cn, &out, l->d);
    }
    if (err == VT_OK) {
        ca->pem = (char *)vt_buf_steal(&out, NULL);
        err = ca->pem ? VT_OK : vt_fail(l->d, VT_E_NOMEM, "ca", "no memory");
    }
    vt_buf_cleanup(&pem);
    vt_buf_cleanup(&out);
    if (err != VT_OK) {
        vt_key_free(ca->key);
        vt_cert_free(ca->cert);
        free(ca);
        l->err = err;
        return false;
    }
    l->ca = ca;
    return false;
}

static enum vt_err ca_read(struct vt_broker *b, struct vt_broker_ca **out, struct vt_diag *d)
{
    struct ca_row l = {.b = b, .d = d};
    VT_TRY(vt_store_exec(b->store,
                         "SELECT id, sealed, cert FROM vb_ca WHERE retired = 0"
                         " ORDER BY created DESC, id LIMIT 1",
                         NULL, 0, row_ca, &l, NULL, d));
    *out = l.ca;
    return l.err;
}

/* A new CA: a P-256 key sealed under the master key, a self-signed certificate. Inserted only
 * while the database has none (a replica starting at the same time may store its own first:
 * the caller reads back whichever is stored). */
static enum vt_err ca_create(struct vt_broker *b, struct vt_diag *d)
{
    struct vt_key *k = NULL;
    VT_TRY(vt_key_generate(VT_KEY_P256, 0, &k, d));
    uint8_t xy[64], h[32], serial[16];
    vt_key_p256_xy(k, xy);
    vt_sha256(xy, 64, h);
    char hx[17], id[40], aad[96], cn[160];
    vt_hex_encode(h, 8, hx);
    snprintf(id, sizeof(id), "ca-%s", hx);
    snprintf(aad, sizeof(aad), "veritee broker ca key %s", id);
    snprintf(cn, sizeof(cn), "%.100s broker CA", b->cfg.issuer);
    vt_time now = vt_broker_now(b);
    struct vt_buf pem, sealed, der;
    vt_buf_init(&pem, 4096);
    vt_buf_init(&sealed, 4200);
    vt_buf_init(&der, VT_MAX_CERT_SIZE);
    enum vt_err err = vt_random_bytes(serial, sizeof(serial), d);
    serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40); /* positive, 16 bytes */
    if (err == VT_OK) {
        err = vt_x509_ca_create(k, cn, now, now + VT_BROKER_CA_VALIDITY, serial, &der, d);
    }
    if (err == VT_OK) {
        err = vt_key_private_pem(k, &pem, d);
    }
    if (err == VT_OK) {
        err = vt_broker_seal(b, aad, pem.data, pem.len, &sealed, d);
    }
    vt_key_free(k);
    vt_buf_cleanup(&pem);
    if (err == VT_OK) {
        struct vt_sql_arg a[] = {VT_SQL_T(id), VT_SQL_B(sealed.data, sealed.len),
                                 VT_SQL_B(der.data, der.len), VT_SQL_I(now)};
        err = vt_store_exec(b->store,
                            "INSERT INTO vb_ca(id, sealed, cert, created, retired)"
                            " SELECT CAST(? AS TEXT), ?, ?, CAST(? AS BIGINT), 0"
                            " WHERE NOT EXISTS (SELECT 1 FROM vb_ca WHERE retired = 0)",
                            a, 4, NULL, NULL, NULL, d);
    }
    vt_buf_cleanup(&sealed);
    vt_buf_cleanup(&der);
    return err;
}

enum vt_err vt_broker_ca_load(struct vt_broker *b, struct vt_diag *d)
{
    struct vt_broker_ca *ca = NULL;
    VT_TRY(ca_read(b, &ca, d));
    if (ca == NULL) {
        VT_TRY(ca_create(b, d));
        VT_TRY(ca_read(b, &ca, d));
        VT_ENSURE(ca != NULL, d, VT_E_STORAGE, "ca", "the broker's CA was not stored");
    }
    pthread_mutex_lock(&b->sign_lock);
    vt_broker_ca_free(b);
    b->ca = ca;
    pthread_mutex_unlock(&b->sign_lock);
    return VT_OK;
}

char *vt_broker_ca_pem(struct vt_broker *b)
{
    return b->ca != NULL && b->ca->pem != NULL ? strdup(b->ca->pem) : NULL;
}

/* ---- profiles ---- */

static bool profile_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.')) {
            return false;
        }
    }
    return true;
}

enum vt_err vt_broker_cert_profile_put(struct vt_broker *b, const char *name,
                                       const char *policy_json, const char *const *dns,
                                       size_t n_dns, int64_t lifetime, struct vt_diag *d)
{
    VT_ENSURE(name != NULL && profile_name_ok(name), d, VT_E_BAD_FIELD, "profile.name",
              "a profile name is 1 to 64 characters of A-Z a-z 0-9 - _ .");
    VT_ENSURE(n_dns <= VT_BROKER_CERT_DNS_MAX, d, VT_E_TOO_LARGE, "profile.dns",
              "%zu DNS names; at most %d", n_dns, VT_BROKER_CERT_DNS_MAX);
    VT_ENSURE(lifetime >= 0 && lifetime <= VT_BROKER_CERT_TTL_MAX, d, VT_E_BAD_FIELD,
              "profile.lifetime",
              "lifetime %" PRId64 " s is outside 0 (the broker's default) to %d", lifetime,
              VT_BROKER_CERT_TTL_MAX);
    json_t *arr = json_array();
    VT_ENSURE(arr != NULL, d, VT_E_NOMEM, "profile", "no memory");
    for (size_t i = 0; i < n_dns; i++) {
        if (!vt_x509_dns_name_ok(dns[i])) {
            json_decref(arr);
            return vt_fail(d, VT_E_BAD_FIELD, "profile.dns", "\"%.80s\" is not a DNS name", dns[i]);
        }
        json_array_append_new(arr, json_string(dns[i]));
    }
    char *dj = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    VT_ENSURE(dj != NULL, d, VT_E_NOMEM, "profile", "no memory");
    const char *pj = policy_json ? policy_json : "{\"version\":1}";
    struct vt_policy *p = NULL;
    enum vt_err err = vt_policy_compile(pj, strlen(pj), &p, d);
    if (err == VT_OK) {
        uint8_t h[32];
        char sha[65];
        vt_policy_digest(p, h);
        vt_hex_encode(h, 32, sha);
        vt_policy_free(p);
        struct vt_sql_arg a[] = {VT_SQL_T(name), VT_SQL_T(pj),       VT_SQL_T(sha),
                                 VT_SQL_T(dj),   VT_SQL_I(lifetime), VT_SQL_I(vt_broker_now(b))};
        err = vt_store_exec(b->store,
                            "INSERT INTO vb_cert_profiles(name, policy, policy_sha256, dns,"
                            " lifetime, updated) VALUES (?,?,?,?,?,?) ON CONFLICT(name) DO UPDATE"
                            " SET policy = excluded.policy, policy_sha256 = excluded.policy_sha256,"
                            " dns = excluded.dns, lifetime = excluded.lifetime,"
                            " updated = excluded.updated",
                            a, 6, NULL, NULL, NULL, d);
    }
    free(dj);
    return err;
}

static bool row_profile_json(void *ctx, const struct vt_sql_row *row)
{
    json_t *arr = ctx;
    json_error_t je;
    json_t *dns = json_loads(vt_row_text(row, 3), 0, &je);
    json_array_append_new(
        arr, json_pack("{s:s,s:s,s:o,s:I,s:I}", "name", vt_row_text(row, 0), "policy_sha256",
                       vt_row_text(row, 2), "dns", dns ? dns : json_array(), "lifetime",
                       (json_int_t)vt_row_int(row, 4), "updated", (json_int_t)vt_row_int(row, 5)));
    return true;
}

char *vt_broker_cert_profiles_json(struct vt_broker *b)
{
    json_t *arr = json_array();
    struct vt_diag d;
    vt_diag_init(&d);
    if (arr == NULL || vt_store_read(b->store,
                                     "SELECT name, policy, policy_sha256, dns, lifetime, updated"
                                     " FROM vb_cert_profiles ORDER BY name",
                                     NULL, 0, row_profile_json, arr, &d) != VT_OK) {
        json_decref(arr);
        return NULL;
    }
    char *s = json_dumps(arr, JSON_COMPACT | JSON_INDENT(0));
    json_decref(arr);
    return s;
}

struct profile {
    bool found;
    char *policy;
    char *dns;
    int64_t lifetime;
};

static bool row_profile(void *ctx, const struct vt_sql_row *row)
{
    struct profile *p = ctx;
    p->found = true;
    p->policy = strdup(vt_row_text(row, 0));
    p->dns = strdup(vt_row_text(row, 1));
    p->lifetime = vt_row_int(row, 2);
    return false;
}

/* ---- the request ---- */

void vt_broker_cert_req_cleanup(struct vt_broker_cert_req *q)
{
    free(q->evidence);
    free(q->vek);
    free(q->csr);
    memset(q, 0, sizeof(*q));
}

bool vt_broker_cert_request_parse(const uint8_t *body, size_t n, json_t **o,
                                  struct vt_broker_cert_req *q, struct vt_broker_denial *den)
{
    memset(q, 0, sizeof(*q));
    memset(den, 0, sizeof(*den));
    json_error_t je;
    *o = body != NULL ? json_loadb((const char *)body, n, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!json_is_object(*o)) {
        json_decref(*o);
        *o = NULL;
        deny(den, 400, "body", body ? "the body is not a JSON object" : "a JSON body is required");
        return false;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    const char *csr = NULL;
    enum vt_err err = vt_json_req_string(*o, "$", "profile", &q->profile, &d);
    if (err == VT_OK) {
        err = vt_json_req_string(*o, "$", "csr", &csr, &d);
    }
    if (err == VT_OK) {
        err = vt_json_opt_string(*o, "$", "token", &q->token, &d);
    }
    if (err == VT_OK) {
        err = vt_json_opt_base64(*o, "$", "evidence", &q->evidence, &q->evidence_len, &d);
    }
    if (err == VT_OK) {
        err = vt_json_opt_string(*o, "$", "nonce", &q->nonce, &d);
    }
    if (err == VT_OK) {
        err = vt_json_opt_base64(*o, "$", "vcek", &q->vek, &q->vek_len, &d);
    }
    if (err != VT_OK) {
        const char *dot = strrchr(d.check, '.');
        deny(den, d.code == VT_E_NOMEM ? 500 : 400, dot ? dot + 1 : d.check, d.detail);
    } else if (q->token != NULL && q->evidence != NULL) {
        deny(den, 400, "body", "give token or evidence (with nonce), not both");
    } else if (q->token == NULL && q->evidence == NULL) {
        deny(den, 400, "evidence-missing",
             "give token (the EAR token /v1/attest returned) or evidence and nonce");
    } else if (q->evidence != NULL && q->nonce == NULL) {
        deny(den, 400, "nonce-malformed", "evidence needs the nonce it binds");
    } else if (!profile_name_ok(q->profile)) {
        deny(den, 400, "profile", "$.profile: 1 to 64 characters of A-Z a-z 0-9 - _ .");
    } else if ((q->csr_len = strlen(csr)) > VT_MAX_CSR_SIZE) {
        char msg[128];
        snprintf(msg, sizeof(msg), "$.csr: %zu bytes; the limit is %u", q->csr_len,
                 VT_MAX_CSR_SIZE);
        deny(den, 413, "csr-size", msg);
    } else if ((q->csr = (uint8_t *)strndup(csr, q->csr_len)) == NULL) {
        deny(den, 500, "internal", "no memory");
    } else {
        return true;
    }
    vt_broker_cert_req_cleanup(q);
    json_decref(*o);
    *o = NULL;
    return false;
}

/* ---- issuing ---- */

void vt_broker_cert_res_cleanup(struct vt_broker_cert_res *r)
{
    free(r->cert_pem);
    free(r->ca_pem);
    free(r->receipt);
    free(r->token);
    memset(r, 0, sizeof(*r));
}

/* The CSR's refusal: the reason by the check that failed. */
static void csr_denial(struct vt_broker_denial *den, enum vt_err err, const struct vt_diag *d)
{
    if (err == VT_E_TOO_LARGE) {
        deny_diag(den, 413, "csr-size", d);
    } else if (err == VT_E_SIGNATURE) {
        deny_diag(den, 400, "csr-signature", d);
    } else if (err == VT_E_UNSUPPORTED_ALGORITHM) {
        deny_diag(den, 400, "csr-algorithm", d);
    } else if (err == VT_E_NOMEM) {
        deny_diag(den, 500, "internal", d);
    } else {
        deny_diag(den, 400, "csr", d);
    }
}

/* The appraisal extension's JSON (include/veritee/atls.h): heap, or NULL. */
static char *appraisal_json(const char *claims, const char *token, const char *profile,
                            const char *policy_sha, uint64_t log_index)
{
    json_t *o = json_pack("{s:i,s:s,s:s,s:s,s:s,s:I}", "v", 1, "claims", VT_JSON_RAW_PLACEHOLDER,
                          "ear", token, "policy", profile, "policy_digest", policy_sha, "log_index",
                          (json_int_t)log_index);
    char *s = o ? vt_json_dumps_raw(o, "claims", claims) : NULL;
    json_decref(o);
    return s;
}

struct issue_ctx {
    struct vt_broker *b;
    const struct vt_broker_cert_req *q;
    struct vt_broker_cert_res *r;
    struct vt_broker_denial *den;
    struct vt_csr *csr;
    char *runtime_key;
    const char *token;
    struct vt_broker_attested a;
    struct profile prof;
    json_t *dns;
    char spki_sha[65];
    char policy_sha[65];
    char *explain;
};

/* Record a refusal after authentication in the log. */
static void log_denial(struct issue_ctx *c)
{
    struct vt_broker_cert_entry ce = {c->q->profile, "", c->spki_sha, 0, 0, c->dns};
    struct vt_broker_decision x = {.type = "cert",
                                   .claims = c->a.claims,
                                   .policy_sha = c->policy_sha,
                                   .allowed = false,
                                   .reason = c->den->reason,
                                   .jkt = c->a.jkt,
                                   .cert = &ce};
    uint64_t idx;
    struct vt_diag e;
    vt_diag_init(&e);
    if (vt_broker_record(c->b, &x, c->explain ? c->explain : c->den->detail, false, &idx, NULL,
                         NULL, &e) == VT_OK) {
        c->den->logged = true;
    } else {
        fprintf(stderr, "veritee-broker: cannot log a certificate refusal: %s\n", e.detail);
    }
}

/* Authenticate: the token (or the evidence, attested here as /v1/attest does, which logs it)
 * must bind the CSR's key. */
static bool authenticate(struct issue_ctx *c)
{
    if (c->q->evidence != NULL) {
        struct vt_broker_attest_req aq = {.evidence = c->q->evidence,
                                          .evidence_len = c->q->evidence_len,
                                          .nonce = c->q->nonce,
                                          .runtime_key = c->runtime_key,
                                          .vek = c->q->vek,
                                          .vek_len = c->q->vek_len};
        struct vt_broker_attest_res ar;
        if (!vt_broker_attest(c->b, &aq, &ar, c->den)) {
            if (strcmp(c->den->reason, "binding") == 0) {
                char msg[sizeof(c->den->detail)];
                snprintf(msg, sizeof(msg), "the evidence does not bind the CSR's key: %.540s",
                         c->den->detail);
                snprintf(c->den->detail, sizeof(c->den->detail), "%s", msg);
            }
            vt_broker_attest_res_cleanup(&ar);
            return false;
        }
        c->r->token = ar.token;
        ar.token = NULL;
        vt_broker_attest_res_cleanup(&ar);
    }
    c->token = c->r->token ? c->r->token : c->q->token;
    if (vt_broker_token_attested(c->b, c->token, c->runtime_key, &c->a, c->den)) {
        return true;
    }
    if (strcmp(c->den->reason, "token-binding") == 0) {
        /* the token verified: a refusal after authentication, logged */
        char msg[sizeof(c->den->detail)];
        snprintf(msg, sizeof(msg),
                 "the CSR's public key is not the runtime key the attestation bound (%.515s)",
                 c->den->detail);
        deny(c->den, 401, "csr-key-mismatch", msg);
        log_denial(c);
    }
    return false;
}

static bool issue(struct issue_ctx *c)
{
    struct vt_broker *b = c->b;
    struct vt_diag d;
    vt_diag_init(&d);
    /* the profile, and its policy on the appraised claims */
    struct vt_sql_arg pa[] = {VT_SQL_T(c->q->profile)};
    if (vt_store_read(b->store, "SELECT policy, dns, lifetime FROM vb_cert_profiles WHERE name = ?",
                      pa, 1, row_profile, &c->prof, &d) != VT_OK) {
        deny(c->den, 500, "storage", d.detail);
        return false;
    }
    if (!c->prof.found) {
        char msg[160];
        snprintf(msg, sizeof(msg), "no certificate profile \"%.64s\"", c->q->profile);
        deny(c->den, 404, "unknown-profile", msg);
        log_denial(c);
        return false;
    }
    json_error_t je;
    c->dns = c->prof.dns ? json_loads(c->prof.dns, 0, &je) : NULL;
    if (c->prof.policy == NULL || !json_is_array(c->dns)) {
        deny(c->den, 500, "storage", "the profile's row is corrupt");
        return false;
    }
    if (!vt_broker_policy_check(b, c->prof.policy, c->a.claims, "cert-policy", c->policy_sha,
                                &c->explain, c->den)) {
        if (c->den->status == 403) {
            log_denial(c);
        }
        return false;
    }
    /* the lifetime: the profile's or the broker's, never beyond the token's expiry */
    vt_time now = vt_broker_now(b);
    int64_t ttl = c->prof.lifetime > 0 ? c->prof.lifetime : b->cfg.cert_ttl;
    int64_t not_after = now + ttl;
    if (c->a.exp > 0 && c->a.exp < not_after) {
        not_after = c->a.exp;
    }
    if (not_after <= now) {
        deny(c->den, 401, "token", "the token expires now");
        return false;
    }
    uint8_t serial[16];
    if (vt_random_bytes(serial, sizeof(serial), &d) != VT_OK) {
        deny(c->den, 500, "internal", d.detail);
        return false;
    }
    serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40);
    vt_hex_encode(serial, sizeof(serial), c->r->serial);
    c->r->not_before = now;
    c->r->not_after = not_after;
    /* the issuance is logged before it is signed: the certificate carries its index */
    struct vt_broker_cert_entry ce = {c->q->profile, c->r->serial, c->spki_sha,
                                      now,           not_after,    c->dns};
    struct vt_broker_decision x = {.type = "cert",
                                   .claims = c->a.claims,
                                   .policy_sha = c->policy_sha,
                                   .allowed = true,
                                   .reason = "",
                                   .jkt = c->a.jkt,
                                   .cert = &ce};
    if (vt_broker_record(b, &x, c->explain ? c->explain : "", true, &c->r->log_index,
                         &c->r->receipt, c->r->receipt_kid, &d) != VT_OK) {
        deny(c->den, 500, "log", d.detail);
        return false;
    }
    size_t n_dns = json_array_size(c->dns);
    const char *names[VT_BROKER_CERT_DNS_MAX];
    for (size_t i = 0; i < n_dns && i < VT_BROKER_CERT_DNS_MAX; i++) {
        names[i] = json_string_value(json_array_get(c->dns, i));
        names[i] = names[i] ? names[i] : "";
    }
    char *ext =
        appraisal_json(c->a.claims, c->token, c->q->profile, c->policy_sha, c->r->log_index);
    size_t spki_len = 0;
    const uint8_t *spki = vt_csr_spki(c->csr, &spki_len);
    struct vt_x509_leaf leaf = {.spki = spki,
                                .spki_len = spki_len,
                                .common_name = n_dns > 0 ? names[0] : c->q->profile,
                                .dns = names,
                                .n_dns =
                                    n_dns < VT_BROKER_CERT_DNS_MAX ? n_dns : VT_BROKER_CERT_DNS_MAX,
                                .not_before = now,
                                .not_after = not_after,
                                .serial = serial,
                                .serial_len = sizeof(serial),
                                .ext_oid = VT_ATLS_OID_BROKER,
                                .ext_text = ext,
                                .ext_len = ext ? strlen(ext) : 0};
    struct vt_buf der, pem;
    vt_buf_init(&der, VT_MAX_CERT_SIZE * 8);
    vt_buf_init(&pem, VT_MAX_CERT_SIZE * 12);
    pthread_mutex_lock(&b->sign_lock);
    enum vt_err err = ext == NULL ? vt_fail(&d, VT_E_NOMEM, "cert", "no memory")
                                  : vt_x509_issue(b->ca->key, b->ca->cert, &leaf, &der, &d);
    pthread_mutex_unlock(&b->sign_lock);
    free(ext);
    if (err == VT_OK) {
        err = vt_der_to_pem("CERTIFICATE", der.data, der.len, &pem, &d);
    }
    if (err == VT_OK) {
        c->r->cert_pem = (char *)vt_buf_steal(&pem, NULL);
        c->r->ca_pem = vt_broker_ca_pem(b);
        if (c->r->cert_pem == NULL || c->r->ca_pem == NULL) {
            err = vt_fail(&d, VT_E_NOMEM, "cert", "no memory");
        }
    }
    vt_buf_cleanup(&der);
    vt_buf_cleanup(&pem);
    if (err != VT_OK) {
        deny_diag(c->den, 500, "internal", &d);
        return false;
    }
    return true;
}

bool vt_broker_cert_issue(struct vt_broker *b, const struct vt_broker_cert_req *q,
                          struct vt_broker_cert_res *r, struct vt_broker_denial *den)
{
    memset(r, 0, sizeof(*r));
    memset(den, 0, sizeof(*den));
    struct issue_ctx c = {.b = b, .q = q, .r = r, .den = den};
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_jwk *jwk = NULL;
    bool ok = false;
    enum vt_err err = vt_csr_parse(q->csr, q->csr_len, &c.csr, &d);
    if (err != VT_OK) {
        csr_denial(den, err, &d);
    } else {
        size_t n = 0;
        const uint8_t *spki = vt_csr_spki(c.csr, &n);
        uint8_t h[32];
        vt_sha256(spki, n, h);
        vt_hex_encode(h, 32, c.spki_sha);
        err = vt_jwk_from_spki_der(spki, n, &jwk, &d);
        if (err != VT_OK) {
            csr_denial(den, err, &d);
        } else if ((c.runtime_key = vt_jwk_public_json(jwk)) == NULL) {
            deny(den, 500, "internal", "no memory");
        } else {
            ok = authenticate(&c) && issue(&c);
        }
    }
    vt_jwk_free(jwk);
    vt_csr_free(c.csr);
    free(c.runtime_key);
    free(c.explain);
    free(c.prof.policy);
    free(c.prof.dns);
    json_decref(c.dns);
    vt_broker_attested_cleanup(&c.a);
    if (!ok) {
        char *token = r->token; /* the token of an attestation that passed stays useful */
        r->token = NULL;
        vt_broker_cert_res_cleanup(r);
        free(token);
    }
    return ok;
}
