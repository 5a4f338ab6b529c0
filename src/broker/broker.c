/*
 * The key broker's protocol: nonces, attestation (appraisal, binding, attestation policy, EAR
 * token), release (token or evidence, key release policy, wrapping to the runtime key), each
 * outcome recorded in the audit log. SPEC: docs/broker.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <veritee/client.h>

#include "broker/broker.h"
#include "net/json_fields.h"
#include "cache/cache.h"
#include "store/master_key.h"
#include "store/replicas.h"

/* The store's tables: the core and broker components of src/store/migrations.c. */
static const struct vt_schema_component *const schema[] = {&vt_schema_core, &vt_schema_broker};

static int64_t mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

vt_time vt_broker_now(const struct vt_broker *b)
{
    if (b->cfg.clock_base == 0) {
        return vt_time_now();
    }
    return b->cfg.clock_base + (mono_seconds() - b->clock_start);
}

static void deny(struct vt_broker_denial *den, unsigned status, const char *reason,
                 const char *detail)
{
    den->status = status;
    snprintf(den->reason, sizeof(den->reason), "%s", reason);
    snprintf(den->detail, sizeof(den->detail), "%s", detail ? detail : "");
}

/* ---- lifecycle ---- */

static bool row_text_dup(void *ctx, const struct vt_sql_row *row)
{
    *(char **)ctx = strdup(vt_row_text(row, 0));
    return false;
}

/* The master key must open the check value sealed with it on first use (a replica starting at
 * the same time may store its own first: the stored one is read back and checked). */
static enum vt_err master_check(struct vt_broker *b, struct vt_diag *d)
{
    char *hex = NULL;
    struct vt_sql_arg a[] = {VT_SQL_T("broker_master_check")};
    VT_TRY(vt_store_exec(b->store, "SELECT value FROM vt_meta WHERE name = ?", a, 1, row_text_dup,
                         &hex, NULL, d));
    struct vt_buf buf;
    vt_buf_init(&buf, 4096);
    enum vt_err err;
    if (hex == NULL) {
        err = vt_broker_seal(b, "veritee master check", (const uint8_t *)"veritee", 7, &buf, d);
        char out[256];
        if (err == VT_OK && buf.len * 2 < sizeof(out)) {
            vt_hex_encode(buf.data, buf.len, out);
            struct vt_sql_arg ins[] = {VT_SQL_T("broker_master_check"), VT_SQL_T(out)};
            err = vt_store_exec(b->store,
                                "INSERT INTO vt_meta(name, value) VALUES (?, ?)"
                                " ON CONFLICT(name) DO NOTHING",
                                ins, 2, NULL, NULL, NULL, d);
        }
        vt_buf_cleanup(&buf);
        VT_TRY(err);
        VT_TRY(vt_store_exec(b->store, "SELECT value FROM vt_meta WHERE name = ?", a, 1,
                             row_text_dup, &hex, NULL, d));
        VT_ENSURE(hex != NULL, d, VT_E_STORAGE, "master_key",
                  "the master-key check was not stored");
    }
    uint8_t raw[128];
    size_t n = strlen(hex) / 2;
    bool corrupt = n > sizeof(raw) || vt_hex_decode_exact(hex, strlen(hex), raw, n) != VT_OK;
    err = corrupt ? vt_fail(d, VT_E_STORAGE, "master_key", "the stored master-key check is corrupt")
                  : vt_broker_unseal(b, "veritee master check", raw, n, &buf, d);
    free(hex);
    vt_buf_cleanup(&buf);
    if (err != VT_OK) {
        return corrupt ? err
                       : vt_master_key_refuse(b->store, b->cfg.master_key,
                                              "this database's sealed keys", d);
    }
    return vt_master_key_id_record(b->store, b->cfg.master_key, d);
}

/*
 * The key that MACs /v1/challenge nonces: HMAC-SHA-256(master key, label || salt), the salt a
 * random value in vt_meta (the first replica to start stores it, the others read it back). A
 * restore deletes the salt (tools/cmd_backup.c), so nonces issued before it, which may have been
 * redeemed after the backup was taken, are refused as unknown after it.
 */
static enum vt_err nonce_key(struct vt_broker *b, struct vt_diag *d)
{
    char *salt = NULL;
    struct vt_sql_arg a[] = {VT_SQL_T("broker_nonce_salt")};
    VT_TRY(vt_store_exec(b->store, "SELECT value FROM vt_meta WHERE name = ?", a, 1, row_text_dup,
                         &salt, NULL, d));
    if (salt == NULL) {
        uint8_t raw[16];
        char hex[33];
        VT_TRY(vt_random_bytes(raw, sizeof(raw), d));
        vt_hex_encode(raw, sizeof(raw), hex);
        struct vt_sql_arg ins[] = {VT_SQL_T("broker_nonce_salt"), VT_SQL_T(hex)};
        VT_TRY(vt_store_exec(b->store,
                             "INSERT INTO vt_meta(name, value) VALUES (?, ?)"
                             " ON CONFLICT(name) DO NOTHING",
                             ins, 2, NULL, NULL, NULL, d));
        VT_TRY(vt_store_exec(b->store, "SELECT value FROM vt_meta WHERE name = ?", a, 1,
                             row_text_dup, &salt, NULL, d));
        VT_ENSURE(salt != NULL, d, VT_E_STORAGE, "nonce", "the nonce salt was not stored");
    }
    char msg[128];
    int n = snprintf(msg, sizeof(msg), "veritee broker nonce key v1:%s", salt);
    free(salt);
    VT_ENSURE(n > 0 && (size_t)n < sizeof(msg), d, VT_E_STORAGE, "nonce",
              "the stored nonce salt is too long");
    vt_hmac_sha256(b->cfg.master_key, sizeof(b->cfg.master_key), msg, (size_t)n, b->nonce_key);
    return VT_OK;
}

/* A compiled policy and its digest (the log's policy_sha256). Read-only once stored. */
struct policy_entry {
    struct vt_policy *p;
    char sha[65];
};

static void policy_entry_free(void *value)
{
    struct policy_entry *e = value;
    vt_policy_free(e->p);
    free(e);
}

/*
 * An EAR token this process issued, with what a release reads from it. A release presenting
 * the same token text skips the signature check and the parsing: the text is what this process
 * signed, so its signature is good and its claims are these. Expiry is still checked against the
 * token's exp, and the key binding, TEE and policies as for any token. Tokens of other replicas,
 * and of the Trustee profile, take the full check.
 */
struct issued {
    int64_t exp;
    enum vt_tee tee;
    char jkt[64];
    char policy_sha[65];
    char *claims;
};

static void issued_free(void *value)
{
    struct issued *t = value;
    free(t->claims);
    free(t);
}

enum vt_err vt_broker_open(const struct vt_broker_config *cfg, struct vt_broker **out,
                           struct vt_diag *d)
{
    struct vt_broker *b = calloc(1, sizeof(*b));
    VT_ENSURE(b != NULL, d, VT_E_NOMEM, "broker", "cannot allocate the broker");
    b->cfg = *cfg;
    if (b->cfg.nonce_ttl <= 0) {
        b->cfg.nonce_ttl = 300;
    }
    if (b->cfg.token_ttl <= 0) {
        b->cfg.token_ttl = 600;
    }
    if (b->cfg.collateral_ttl <= 0) {
        b->cfg.collateral_ttl = 60;
    }
    if (b->cfg.cert_ttl <= 0) {
        b->cfg.cert_ttl = VT_BROKER_CERT_TTL;
    }
    if (b->cfg.max_kbs_sessions <= 0) {
        b->cfg.max_kbs_sessions = VT_BROKER_MAX_KBS_SESSIONS;
    }
    b->cfg.issuer = strdup(cfg->issuer ? cfg->issuer : "veritee");
    b->cfg.collateral = cfg->collateral ? strdup(cfg->collateral) : NULL;
    b->cfg.db = NULL; /* only used here */
    b->cfg.trust_anchors = NULL;
    b->clock_start = mono_seconds();
    pthread_mutex_init(&b->sign_lock, NULL);
    pthread_mutex_init(&b->log_lock, NULL);
    pthread_mutex_init(&b->batch_lock, NULL);
    pthread_cond_init(&b->batch_cond, NULL);
    b->batch_tail = &b->batch_head;
    if (b->cfg.log_batch_max <= 0) {
        b->cfg.log_batch_max = VT_BROKER_LOG_BATCH_MAX;
    }
    if (b->cfg.log_batch_wait_us < 0) {
        b->cfg.log_batch_wait_us = 0;
    }
    enum vt_err err =
        b->cfg.issuer != NULL && (cfg->collateral == NULL || b->cfg.collateral) &&
                vt_pincache_init(&b->policies, VT_BROKER_POLICY_CACHE, policy_entry_free) ==
                    VT_OK &&
                vt_pincache_init(&b->issued, VT_BROKER_TOKEN_CACHE, issued_free) == VT_OK
            ? vt_broker_appraise_init(b, cfg->trust_anchors, d)
            : vt_fail(d, VT_E_NOMEM, "broker", "no memory");
    if (err == VT_OK) {
        err = vt_store_open(cfg->db, NULL, &b->store, d);
    }
    if (err == VT_OK) {
        err = vt_schema_apply(b->store, schema, 2, cfg->schema_mode, NULL, d);
    }
    if (err == VT_OK && !cfg->audit_only) {
        err = master_check(b, d);
    }
    if (err == VT_OK && !cfg->audit_only) {
        err = nonce_key(b, d);
    }
    if (err == VT_OK && !cfg->audit_only) {
        err = vt_broker_signers_load(b, d);
    }
    if (err == VT_OK && !cfg->audit_only) {
        err = vt_broker_ca_load(b, d);
    }
    if (err == VT_OK && !cfg->audit_only) {
        /* the cache's bundle-signing key, if this database holds one, is sealed too */
        err = vt_cache_bundle_key_seal_stored(b->store, b->cfg.master_key, d);
    }
    if (err == VT_OK) {
        b->tree = vt_merkle_tree_new();
        err = b->tree ? VT_OK : vt_fail(d, VT_E_NOMEM, "log", "no memory for the log tree");
    }
    if (err != VT_OK) {
        vt_broker_close(b);
        return err;
    }
    *out = b;
    return VT_OK;
}

void vt_broker_close(struct vt_broker *b)
{
    if (b == NULL) {
        return;
    }
    vt_replica_stop(b->replica);
    vt_broker_appraise_cleanup(b);
    vt_pincache_cleanup(&b->policies);
    vt_pincache_cleanup(&b->issued);
    vt_broker_signers_free(b);
    vt_broker_ca_free(b);
    vt_merkle_tree_free(b->tree);
    vt_store_close(b->store);
    vt_wipe(b->cfg.master_key, sizeof(b->cfg.master_key));
    free((char *)b->cfg.issuer);
    free((char *)b->cfg.collateral);
    pthread_mutex_destroy(&b->sign_lock);
    pthread_mutex_destroy(&b->log_lock);
    pthread_mutex_destroy(&b->batch_lock);
    pthread_cond_destroy(&b->batch_cond);
    free(b);
}

/* ---- nonces, KBS sessions: caps and expiry ---- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t vt_broker_collect(struct vt_broker *b, bool force)
{
    int64_t t = mono_ms(), last = atomic_load(&b->gc_last_ms);
    int64_t every = force ? 1000 : VT_BROKER_GC_INTERVAL * 1000;
    if (last != 0 && t - last < every) {
        return 0;
    }
    if (!atomic_compare_exchange_strong(&b->gc_last_ms, &last, t)) {
        return 0; /* another thread is collecting */
    }
    vt_time now = vt_broker_now(b);
    struct vt_sql_arg a[] = {VT_SQL_I(now)}, g[] = {VT_SQL_I(now - VT_BROKER_NONCE_GRACE)};
    int64_t n = 0, k = 0;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_store_exec(b->store, "DELETE FROM vb_nonces WHERE expires <= ?", g, 1, NULL, NULL, &n,
                      &d) != VT_OK ||
        vt_store_exec(b->store, "DELETE FROM vb_kbs_sessions WHERE expires <= ?", a, 1, NULL, NULL,
                      &k, &d) != VT_OK) {
        fprintf(stderr, "veritee-broker: cannot delete expired challenges: %s\n", d.detail);
    }
    atomic_fetch_add(&b->m.collected_nonces, (uint_fast64_t)(n > 0 ? n : 0));
    atomic_fetch_add(&b->m.collected_kbs_sessions, (uint_fast64_t)(k > 0 ? k : 0));
    return (n > 0 ? n : 0) + (k > 0 ? k : 0);
}

/* The row goes in only while fewer than the cap are outstanding: the count is part of the
 * INSERT, so it holds for replicas too (up to their concurrent inserts on PostgreSQL, whose
 * READ COMMITTED lets two statements count the same rows). */
static const char admit_session_sql[] =
    "INSERT INTO vb_kbs_sessions(id, nonce, tee, expires, used, token, token_sha256,"
    " runtime_key) SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT),"
    " 0, '', '', '' WHERE (SELECT COUNT(*) FROM (SELECT 1 FROM vb_kbs_sessions WHERE used = 0"
    " AND expires > ? LIMIT ?) AS o) < ?";

bool vt_broker_admit_session(struct vt_broker *b, const struct vt_sql_arg *row,
                             struct vt_broker_denial *den)
{
    int64_t cap = b->cfg.max_kbs_sessions;
    struct vt_sql_arg a[7];
    memcpy(a, row, 4 * sizeof(*a));
    vt_time now = vt_broker_now(b);
    a[4] = VT_SQL_I(now);
    a[5] = VT_SQL_I(cap);
    a[6] = VT_SQL_I(cap);
    vt_broker_collect(b, false);
    struct vt_diag d;
    vt_diag_init(&d);
    int64_t changes = 0;
    if (vt_store_exec(b->store, admit_session_sql, a, 7, NULL, NULL, &changes, &d) != VT_OK) {
        deny(den, 500, "storage", d.detail);
        return false;
    }
    if (changes == 1) {
        atomic_fetch_add(&b->m.kbs_sessions, 1);
        return true;
    }
    /* At the cap (expired rows do not count towards it). Someone is asking for many: delete what
     * has expired now rather than at the next pass, so that storage stays bounded by the cap and
     * the rows of one collection interval; the client retries when the oldest outstanding
     * session expires. */
    vt_broker_collect(b, true);
    int64_t first = 0;
    struct vt_sql_arg q[] = {VT_SQL_I(now)};
    (void)!vt_store_exec(b->store,
                         "SELECT MIN(expires) FROM vb_kbs_sessions WHERE used = 0 AND expires > ?",
                         q, 1, vt_store_row_int, &first, NULL, NULL);
    atomic_fetch_add(&b->m.limit_kbs_sessions, 1);
    char msg[200];
    snprintf(msg, sizeof(msg),
             "%" PRId64 " KBS sessions are outstanding, the limit (max-kbs-sessions): retry when "
             "one is answered or expires",
             cap);
    deny(den, 503, "kbs-session-limit", msg);
    den->retry_after = first > now ? first - now : 1;
    return false;
}

/*
 * A /v1/challenge nonce is 32 bytes: its expiry (seconds since the epoch, big-endian), 8 random
 * bytes, and the first 16 bytes of HMAC-SHA-256(nonce key, "veritee nonce v1" || the first 16
 * bytes). Nothing is stored when it is issued; the MAC says this broker (or a replica with the
 * same master key) issued it, and its row in vb_nonces, inserted when it is redeemed, that it
 * was redeemed.
 */
#define NONCE_BODY 16
#define NONCE_MAC 16

static void put_be64(uint8_t p[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8) {
        p[i] = (uint8_t)v;
    }
}

static uint64_t get_be64(const uint8_t p[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static void nonce_mac(const struct vt_broker *b, const uint8_t body[NONCE_BODY],
                      uint8_t mac[NONCE_MAC])
{
    uint8_t msg[16 + NONCE_BODY], full[32];
    memcpy(msg, "veritee nonce v1", 16);
    memcpy(msg + 16, body, NONCE_BODY);
    vt_hmac_sha256(b->nonce_key, sizeof(b->nonce_key), msg, sizeof(msg), full);
    memcpy(mac, full, NONCE_MAC);
}

bool vt_broker_challenge(struct vt_broker *b, char nonce[64], vt_time *expires,
                         struct vt_broker_denial *den)
{
    memset(den, 0, sizeof(*den));
    uint8_t raw[VT_BROKER_NONCE_LEN];
    struct vt_diag d;
    vt_diag_init(&d);
    *expires = vt_broker_now(b) + b->cfg.nonce_ttl;
    put_be64(raw, (uint64_t)*expires);
    if (vt_random_bytes(raw + 8, 8, &d) != VT_OK) {
        deny(den, 500, "internal", "cannot make a nonce");
        return false;
    }
    nonce_mac(b, raw, raw + NONCE_BODY);
    if (vt_base64_encode(raw, sizeof(raw), true, nonce, 64) != VT_OK) {
        deny(den, 500, "internal", "cannot make a nonce");
        return false;
    }
    vt_broker_collect(b, false);
    atomic_fetch_add(&b->m.challenges, 1);
    return true;
}

struct nonce_row {
    bool found;
    int64_t expires, used;
};

static bool row_nonce(void *ctx, const struct vt_sql_row *row)
{
    struct nonce_row *n = ctx;
    n->found = true;
    n->expires = vt_row_int(row, 0);
    n->used = vt_row_int(row, 1);
    return false;
}

/*
 * The nonce is well formed, was issued (its MAC, or a row of an earlier release), has not been
 * redeemed and has not expired: refused early, before the evidence is appraised. It is redeemed
 * with the request's log entry, in the same transaction (vt_broker_log_append): the statement
 * there is the check, so two requests (or two replicas) cannot both redeem one nonce.
 */
static bool check_nonce(struct vt_broker *b, const char *nonce, uint8_t raw[VT_BROKER_NONCE_LEN],
                        struct vt_broker_redeem *redeem, struct vt_broker_denial *den)
{
    size_t n = 0;
    if (nonce == NULL || strlen(nonce) != 43 ||
        vt_base64_decode(nonce, 43, true, raw, VT_BROKER_NONCE_LEN, &n) != VT_OK ||
        n != VT_BROKER_NONCE_LEN) {
        deny(den, 400, "nonce-malformed", "nonce is not 32 bytes of base64url");
        return false;
    }
    uint8_t mac[NONCE_MAC];
    nonce_mac(b, raw, mac);
    bool ours = vt_ct_memeq(mac, raw + NONCE_BODY, NONCE_MAC);
    struct nonce_row r = {0};
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_sql_arg q[] = {VT_SQL_T(nonce)};
    if (vt_store_read(b->store, "SELECT expires, used FROM vb_nonces WHERE nonce = ?", q, 1,
                      row_nonce, &r, &d) != VT_OK) {
        deny(den, 500, "storage", d.detail);
        return false;
    }
    vt_time now = vt_broker_now(b);
    int64_t expires = ours ? (int64_t)get_be64(raw) : r.expires;
    if (!ours && !r.found) {
        deny(den, 401, "nonce-unknown", "the nonce was not issued by this broker");
    } else if (r.found && (ours || r.used != 0)) {
        deny(den, 401, "nonce-replayed", "the nonce was already used");
    } else if (expires <= now) {
        deny(den, 401, "nonce-expired", "the nonce expired");
    } else {
        *redeem = (struct vt_broker_redeem){nonce, ours ? expires : 0};
        return true;
    }
    return false;
}

/* ---- binding ---- */

/* SGX, TDX, SEV-SNP: report_data = SHA-512(nonce || RFC 7638 thumbprint input of the runtime
 * key). Nitro: the document's nonce is the nonce and its public_key is the runtime key (DER
 * SubjectPublicKeyInfo, as KMS expects). */
static bool check_binding(const struct vt_claims *c, const uint8_t nonce[VT_BROKER_NONCE_LEN],
                          const struct vt_jwk *key, struct vt_broker_denial *den)
{
    bool ok = false;
    if (c->tee == VT_TEE_NITRO) {
        struct vt_buf spki;
        vt_buf_init(&spki, 8192);
        ok = c->nonce.present && c->nonce.len == VT_BROKER_NONCE_LEN &&
             vt_ct_memeq(c->nonce.data, nonce, VT_BROKER_NONCE_LEN);
        if (!ok) {
            deny(den, 401, "binding", "the document's nonce is not the issued nonce");
        } else if (vt_jwk_spki_der(key, &spki) != VT_OK || !c->public_key.present ||
                   c->public_key.len != spki.len ||
                   !vt_ct_memeq(c->public_key.data, spki.data, spki.len)) {
            ok = false;
            deny(den, 401, "binding",
                 "the document's public_key is not the runtime key (DER SubjectPublicKeyInfo)");
        }
        vt_buf_cleanup(&spki);
        return ok;
    }
    /* the formula the client uses (client.h), so both sides cannot drift apart */
    uint8_t want[64];
    ok = vt_client_report_data(nonce, key, want, NULL) == VT_OK &&
         vt_ct_memeq(want, c->report_data, sizeof(want));
    if (!ok) {
        deny(den, 401, "binding",
             "report_data is not SHA-512(nonce || RFC 7638 thumbprint input of runtime_key)");
    }
    return ok;
}

/* Another protocol's binding: report_data = expected bytes, then zeros (not for Nitro). */
static bool check_report_data(const struct vt_claims *c, const struct vt_broker_attest_req *q,
                              struct vt_broker_denial *den)
{
    size_t n = q->expect_report_data_len;
    bool ok = c->tee != VT_TEE_NITRO && n <= sizeof(c->report_data) &&
              vt_ct_memeq(c->report_data, q->expect_report_data, n);
    for (size_t i = n; ok && i < sizeof(c->report_data); i++) {
        ok = c->report_data[i] == 0;
    }
    if (!ok) {
        deny(den, 401, "binding", "report_data is not the hash of the request's runtime data");
    }
    return ok;
}

/* KBS init-data: the TEE's init-data field is the digest, truncated or zero-padded to the
 * field's size, as Trustee's verifiers compare them (the messages are theirs). */
static bool check_init_data(const struct vt_claims *c, const struct vt_broker_attest_req *q,
                            struct vt_broker_denial *den)
{
    const uint8_t *field = NULL;
    size_t n = 0;
    const char *name = "";
    const char *trustee = "";
    if (c->tee == VT_TEE_TDX) {
        field = c->tdx.mrconfigid;
        n = sizeof(c->tdx.mrconfigid);
        name = "MRCONFIGID";
        trustee = "MRCONFIGID is different from that in TDX Quote";
    } else if (c->tee == VT_TEE_SEV_SNP) {
        field = c->snp.host_data;
        n = sizeof(c->snp.host_data);
        name = "HOST_DATA";
        trustee = "Host Data Mismatch";
    } else if (c->tee == VT_TEE_SGX) {
        field = c->sgx.config_id;
        n = sizeof(c->sgx.config_id);
        name = "CONFIGID";
        trustee = "CONFIGID is different from that in SGX Quote";
    } else {
        deny(den, 401, "init-data-mismatch", "this TEE's evidence has no init-data field");
        return false;
    }
    uint8_t want[64] = {0};
    size_t k = q->expect_init_data_len < n ? q->expect_init_data_len : n;
    memcpy(want, q->expect_init_data, k);
    if (vt_ct_memeq(want, field, n)) {
        return true;
    }
    char w[129];
    char g[129];
    vt_hex_encode(want, n, w);
    vt_hex_encode(field, n, g);
    char msg[sizeof(den->detail)];
    snprintf(msg, sizeof(msg), "%s: the init-data digest as %zu bytes is %s, the evidence's %s %s",
             trustee, n, w, name, g);
    deny(den, 401, "init-data-mismatch", msg);
    return false;
}

/* ---- policies ---- */

static bool row_policy(void *ctx, const struct vt_sql_row *row)
{
    *(char **)ctx = strdup(vt_row_text(row, 0));
    return false;
}

/*
 * The compiled policy of json, pinned in *pin (vt_pincache_release(&b->policies, pin) unpins):
 * policies are compiled once per text and kept by the SHA-256 of the text, so a request reads the
 * policy's row but never parses it again. A policy that does not compile is not kept.
 */
static enum vt_err compiled_policy(struct vt_broker *b, const char *json, struct vt_pin *pin,
                                   struct vt_diag *d)
{
    uint8_t id[32];
    vt_sha256(json, strlen(json), id);
    if (vt_pincache_get(&b->policies, id, NULL, NULL, pin) != NULL) {
        return VT_OK;
    }
    struct policy_entry *e = calloc(1, sizeof(*e));
    VT_ENSURE(e != NULL, d, VT_E_NOMEM, "policy", "no memory");
    enum vt_err err = vt_policy_compile(json, strlen(json), &e->p, d);
    if (err != VT_OK) {
        free(e);
        return err;
    }
    uint8_t h[32];
    vt_policy_digest(e->p, h);
    vt_hex_encode(h, 32, e->sha);
    (void)vt_pincache_put(&b->policies, id, e, NULL, NULL, pin);
    return VT_OK;
}

/* The attestation policy in force (the default policy when none is set), pinned in *pin. */
static enum vt_err attestation_policy(struct vt_broker *b, struct vt_pin *pin, struct vt_diag *d)
{
    char *json = NULL;
    struct vt_sql_arg a[] = {VT_SQL_T("attestation")};
    VT_TRY(vt_store_read(b->store, "SELECT json FROM vb_policy WHERE name = ?", a, 1, row_policy,
                         &json, d));
    enum vt_err err = compiled_policy(b, json ? json : "{\"version\":1}", pin, d);
    free(json);
    return err;
}

enum vt_err vt_broker_set_attestation_policy(struct vt_broker *b, const char *json,
                                             struct vt_diag *d)
{
    struct vt_policy *p = NULL;
    VT_TRY(vt_policy_compile(json, strlen(json), &p, d));
    uint8_t h[32];
    char sha[65];
    vt_policy_digest(p, h);
    vt_hex_encode(h, 32, sha);
    vt_policy_free(p);
    struct vt_sql_arg a[] = {VT_SQL_T("attestation"), VT_SQL_T(json), VT_SQL_T(sha),
                             VT_SQL_I(vt_broker_now(b))};
    return vt_store_exec(b->store,
                         "INSERT INTO vb_policy(name, json, sha256, updated) VALUES (?,?,?,?)"
                         " ON CONFLICT(name) DO UPDATE SET json = excluded.json,"
                         " sha256 = excluded.sha256, updated = excluded.updated",
                         a, 4, NULL, NULL, NULL, d);
}

/* Evaluate on the verifier's typed claims (typed != NULL) or on claims JSON (a token's); on denial
 * fill den (403, "<prefix>:<reason>"); the explanation goes to *explain. */
static bool policy_allows(const struct vt_policy *p, const struct vt_claims *typed,
                          const char *claims, const char *prefix, char **explain,
                          struct vt_broker_denial *den)
{
    struct vt_policy_result r;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = typed != NULL ? vt_policy_eval_claims(p, typed, &r, &d)
                                    : vt_policy_eval(p, claims, strlen(claims), &r, &d);
    if (err != VT_OK) {
        deny(den, 500, "policy-error", d.detail);
        return false;
    }
    *explain = vt_policy_result_explain(&r);
    bool ok = r.allowed;
    if (!ok) {
        den->status = 403;
        snprintf(den->reason, sizeof(den->reason), "%s:%.60s", prefix, r.reason);
        snprintf(den->detail, sizeof(den->detail), "%s", *explain ? *explain : r.reason);
    }
    vt_policy_result_cleanup(&r);
    return ok;
}

/* ---- the log entry of a decision ---- */

static char *entry_json(struct vt_broker *b, const struct vt_broker_decision *x)
{
    char when[VT_TIME_STR_MAX], ev[65] = "", cl[65] = "";
    vt_time_format(vt_broker_now(b), when);
    uint8_t h[32];
    if (x->evidence != NULL) {
        vt_sha256(x->evidence, x->evidence_len, h);
        vt_hex_encode(h, 32, ev);
    }
    if (x->claims != NULL) {
        vt_sha256(x->claims, strlen(x->claims), h);
        vt_hex_encode(h, 32, cl);
    }
    json_t *coll = json_array();
    for (size_t i = 0; x->c != NULL && i < x->c->collateral.n; i++) {
        char hx[65];
        vt_hex_encode(x->c->collateral.docs[i].sha256, 32, hx);
        json_array_append_new(
            coll, json_pack("{s:s,s:s}", "name", x->c->collateral.docs[i].name, "sha256", hx));
    }
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:s}", "type", x->type, "time", when,
                          "evidence_sha256", ev, "claims_sha256", cl, "collateral", coll,
                          "policy_sha256", x->policy_sha ? x->policy_sha : "", "decision",
                          x->allowed ? "allow" : "deny", "reason", x->reason ? x->reason : "");
    if (o != NULL && x->key != NULL) {
        json_object_set_new(o, "key", json_string(x->key));
        json_object_set_new(o, "key_version", json_integer(x->version));
    }
    if (o != NULL && x->jkt != NULL) {
        json_object_set_new(o, "runtime_key_jkt", json_string(x->jkt));
    }
    if (o != NULL && x->cert != NULL) {
        json_object_set_new(o, "cert",
                            json_pack("{s:s,s:s,s:s,s:I,s:I,s:O}", "profile", x->cert->profile,
                                      "serial", x->cert->serial, "spki_sha256",
                                      x->cert->spki_sha256, "not_before",
                                      (json_int_t)x->cert->not_before, "not_after",
                                      (json_int_t)x->cert->not_after, "dns", x->cert->dns));
    }
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return s;
}

/* Append the decision to the log, redeeming the nonce `redeem` (NULL: none) in the same
 * transaction; VT_E_NONCE_MISMATCH (nothing appended) if another request redeemed it first. */
static enum vt_err record(struct vt_broker *b, const struct vt_broker_decision *x,
                          const char *explanation, const struct vt_broker_redeem *redeem,
                          bool want_receipt, uint64_t *index, char **receipt, char *kid,
                          struct vt_diag *d)
{
    char *e = entry_json(b, x);
    VT_ENSURE(e != NULL, d, VT_E_NOMEM, "log", "cannot encode the log entry");
    /* the fleet row is made here, not in the log batch, which holds the sequencer */
    struct vt_broker_fleet_note *fleet = NULL;
    enum vt_err err = vt_broker_fleet_note_make(x->claims, x->type, x->allowed, &fleet, d);
    if (err == VT_OK) {
        err = vt_broker_log_append(b, e, explanation, redeem, fleet, want_receipt, index, receipt,
                                   kid, d);
    }
    vt_broker_fleet_note_free(fleet);
    free(e);
    if (err == VT_OK) {
        atomic_fetch_add(&b->m.logged[x->type[0] == 'r'   ? 1
                                      : x->type[0] == 'c' ? 2
                                                          : 0][!x->allowed],
                         1);
    }
    return err;
}

/* ---- attest ---- */

void vt_broker_attest_res_cleanup(struct vt_broker_attest_res *r)
{
    free(r->token);
    free(r->claims_json);
    memset(r, 0, sizeof(*r));
}

void vt_broker_attested_cleanup(struct vt_broker_attested *a)
{
    free(a->claims);
    vt_jwk_free(a->key);
    memset(a, 0, sizeof(*a));
}

static bool attest_common(struct vt_broker *b, const struct vt_broker_attest_req *q,
                          struct vt_broker_attested *a, struct vt_broker_denial *den)
{
    memset(a, 0, sizeof(*a));
    struct vt_diag d;
    vt_diag_init(&d);
    if (q->runtime_key == NULL ||
        vt_jwk_parse(q->runtime_key, strlen(q->runtime_key), &a->key, &d) != VT_OK) {
        deny(den, 400, "runtime-key", q->runtime_key ? d.detail : "runtime_key is missing");
        return false;
    }
    vt_jwk_thumbprint_b64(a->key, a->jkt);
    if (q->evidence == NULL || q->evidence_len == 0) {
        deny(den, 400, "evidence-missing", "evidence is missing");
        return false;
    }
    /* Evidence that does not even parse is refused here: no nonce spent, no log entry (the
     * metrics count it). */
    struct vt_evidence parsed_here;
    const struct vt_evidence *ev = q->parsed;
    if (ev == NULL &&
        vt_broker_evidence_parse(q->evidence, q->evidence_len, &parsed_here, &d) == VT_OK) {
        ev = &parsed_here;
    }
    if (ev == NULL) {
        char msg[VT_DIAG_DETAIL_MAX + VT_DIAG_CHECK_MAX + 8];
        snprintf(msg, sizeof(msg), "%s: %s", d.check, d.detail);
        deny(den, 400, "evidence-format", msg);
        return false;
    }
    enum vt_tee tee = ev->tee;
    a->tee = tee;
    if (q->expect_tee != VT_TEE_NONE && tee != q->expect_tee) {
        char msg[128];
        snprintf(msg, sizeof(msg), "the evidence is of %s, not of %s", vt_tee_name(tee),
                 vt_tee_name(q->expect_tee));
        deny(den, 401, "tee-mismatch", msg);
        return false;
    }
    if (q->expect_report_data == NULL) {
        if (!check_nonce(b, q->nonce, a->nonce, &a->nonce_redeem, den)) {
            return false;
        }
        a->redeem = &a->nonce_redeem;
    }
    struct vt_pin ppin;
    if (attestation_policy(b, &ppin, &d) != VT_OK) {
        deny(den, 500, "policy-error", d.detail);
        return false;
    }
    const struct policy_entry *pe = ppin.value;
    const struct vt_policy *p = pe->p;
    snprintf(a->policy_sha, sizeof(a->policy_sha), "%s", pe->sha);
    vt_time now = vt_broker_now(b);
    bool ok = true;
    char *explain = NULL;
    struct vt_broker_decision x = {.type = "attest",
                                   .evidence = q->evidence,
                                   .evidence_len = q->evidence_len,
                                   .policy_sha = a->policy_sha,
                                   .jkt = a->jkt};
    enum vt_err aerr = vt_broker_appraise(b, ev, q->vek, q->vek_len, now, &a->c, &d);
    if (aerr == VT_E_UPSTREAM) {
        /* The collateral cannot be had now (the upstreams fail, or the cache is throttling
         * fetches of documents it does not hold): no verdict on the evidence. The nonce is not
         * redeemed, nothing is logged, and the client retries the same request. */
        char msg[VT_DIAG_DETAIL_MAX + VT_DIAG_CHECK_MAX + 8];
        snprintf(msg, sizeof(msg), "%s: %s", d.check, d.detail);
        deny(den, 503, "collateral-unavailable", msg);
        den->retry_after = VT_BROKER_COLLATERAL_RETRY;
        vt_pincache_release(&b->policies, &ppin);
        return false;
    }
    if (aerr != VT_OK) {
        char msg[VT_DIAG_DETAIL_MAX + VT_DIAG_CHECK_MAX + 8];
        snprintf(msg, sizeof(msg), "%s: %s", d.check, d.detail);
        deny(den, 401, "evidence", msg);
        ok = false;
    } else if ((a->claims = vt_claims_to_json(&a->c)) == NULL) {
        deny(den, 500, "internal", "cannot encode the claims");
        ok = false;
    } else {
        x.claims = a->claims;
        x.c = &a->c;
        if (a->c.tee != tee) { /* the verifier's TEE is the one the structure said */
            char msg[128];
            snprintf(msg, sizeof(msg), "the verified evidence is of %s, not of %s",
                     vt_tee_name(a->c.tee), vt_tee_name(tee));
            deny(den, 401, "tee-mismatch", msg);
            ok = false;
        } else {
            ok = (q->expect_report_data ? check_report_data(&a->c, q, den)
                                        : check_binding(&a->c, a->nonce, a->key, den)) &&
                 (q->expect_init_data == NULL || check_init_data(&a->c, q, den)) &&
                 policy_allows(p, &a->c, a->claims, "attestation-policy", &explain, den);
        }
    }
    vt_pincache_release(&b->policies, &ppin);
    if (!ok) {
        x.allowed = false;
        x.reason = den->reason;
        uint64_t idx;
        struct vt_diag e;
        vt_diag_init(&e);
        enum vt_err lerr = record(b, &x, den->detail, a->redeem, false, &idx, NULL, NULL, &e);
        if (lerr == VT_E_NONCE_MISMATCH) {
            deny(den, 401, "nonce-replayed", "the nonce was already used");
        } else if (lerr != VT_OK) {
            fprintf(stderr, "veritee-broker: cannot log a denial: %s\n", e.detail);
        } else {
            den->logged = true;
        }
    }
    free(explain);
    return ok;
}

static char *ear_payload(struct vt_broker *b, const struct vt_broker_attested *a, const char *nonce,
                         vt_time now, vt_time exp)
{
    const char *status =
        a->c.status == VT_TCB_UP_TO_DATE || a->c.tee == VT_TEE_NITRO ? "affirming" : "warning";
    char pol[80];
    snprintf(pol, sizeof(pol), "sha256:%s", a->policy_sha);
    uint8_t jti_raw[16];
    char jti[33] = "";
    if (vt_random_bytes(jti_raw, sizeof(jti_raw), NULL) == VT_OK) {
        vt_hex_encode(jti_raw, sizeof(jti_raw), jti);
    }
    json_t *sub = json_pack("{s:s,s:s,s:s}", "ear.status", status, "ear.appraisal-policy-id", pol,
                            "veritee.claims", VT_JSON_RAW_PLACEHOLDER);
    json_t *o =
        json_pack("{s:s,s:s,s:I,s:I,s:I,s:s,s:{s:s,s:s},s:s,s:{s:s},s:{s:o}}", "eat_profile",
                  "tag:github.com,2023:veraison/ear", "iss", b->cfg.issuer, "iat", (json_int_t)now,
                  "nbf", (json_int_t)now, "exp", (json_int_t)exp, "jti", jti, "ear.verifier-id",
                  "developer", "veritee", "build", "veritee " VT_VERSION, "eat_nonce", nonce, "cnf",
                  "jkt", a->jkt, "submods", vt_tee_name(a->c.tee), sub);
    /* the claims as encoded (vt_claims_to_json), not parsed and encoded again */
    char *s = o ? vt_json_dumps_raw(o, "veritee.claims", a->claims) : NULL;
    json_decref(o);
    return s;
}

enum vt_err vt_broker_tokens_forget(struct vt_broker *b)
{
    vt_pincache_cleanup(&b->issued);
    return vt_pincache_init(&b->issued, VT_BROKER_TOKEN_CACHE, issued_free);
}

/* Keep the token just issued (best effort: without memory it is simply checked in full). */
static void remember_token(struct vt_broker *b, const char *token, int64_t exp,
                           const struct vt_broker_attested *a)
{
    struct issued *t = calloc(1, sizeof(*t));
    /* the claims' text is the token's (ear_payload), which a full check reads back and encodes
     * to the same text (token_claims; compared by tests/unit/broker/test_broker.c) */
    if (t != NULL) {
        t->claims = strdup(a->claims);
    }
    if (t == NULL || t->claims == NULL) {
        free(t);
        return;
    }
    t->exp = exp;
    t->tee = a->tee;
    snprintf(t->jkt, sizeof(t->jkt), "%s", a->jkt);
    snprintf(t->policy_sha, sizeof(t->policy_sha), "%s", a->policy_sha);
    uint8_t id[32];
    vt_sha256(token, strlen(token), id);
    struct vt_pin pin;
    (void)vt_pincache_put(&b->issued, id, t, NULL, NULL, &pin);
    vt_pincache_release(&b->issued, &pin);
}

static bool attest_run(struct vt_broker *b, const struct vt_broker_attest_req *q,
                       struct vt_broker_attest_res *r, struct vt_broker_denial *den,
                       enum vt_tee *tee)
{
    memset(r, 0, sizeof(*r));
    memset(den, 0, sizeof(*den));
    struct vt_broker_attested a;
    bool ok = attest_common(b, q, &a, den);
    *tee = a.tee;
    if (!ok) {
        vt_broker_attested_cleanup(&a);
        return false;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    vt_time now = vt_broker_now(b);
    r->expires = now + b->cfg.token_ttl;
    char *payload = q->trustee != NULL
                        ? vt_broker_trustee_payload(b, q->trustee, &a.c, a.claims, a.policy_sha,
                                                    a.jkt, now, r->expires)
                        : ear_payload(b, &a, q->nonce, now, r->expires);
    enum vt_err err = payload ? vt_broker_token_issue(b, payload, &r->token, &d)
                              : vt_fail(&d, VT_E_NOMEM, "token", "cannot encode the token");
    free(payload);
    if (err == VT_OK && q->trustee == NULL) {
        remember_token(b, r->token, r->expires, &a);
    }
    if (err == VT_OK) {
        struct vt_broker_decision x = {.type = "attest",
                                       .evidence = q->evidence,
                                       .evidence_len = q->evidence_len,
                                       .claims = a.claims,
                                       .c = &a.c,
                                       .policy_sha = a.policy_sha,
                                       .allowed = true,
                                       .reason = "",
                                       .jkt = a.jkt};
        err = record(b, &x, "", a.redeem, false, &r->log_index, NULL, NULL, &d);
    }
    if (err == VT_E_NONCE_MISMATCH) {
        deny(den, 401, "nonce-replayed", "the nonce was already used");
        vt_broker_attest_res_cleanup(r);
        vt_broker_attested_cleanup(&a);
        return false;
    }
    if (err != VT_OK) {
        deny(den, 500, "internal", d.detail);
        vt_broker_attest_res_cleanup(r);
        vt_broker_attested_cleanup(&a);
        return false;
    }
    r->claims_json = a.claims;
    a.claims = NULL;
    vt_broker_attested_cleanup(&a);
    return true;
}

/* ---- release ---- */

void vt_broker_release_res_cleanup(struct vt_broker_release_res *r)
{
    free(r->jwe);
    free(r->cms);
    free(r->receipt);
    memset(r, 0, sizeof(*r));
}

/* 401 "token-binding", naming both thumbprints. */
static void binding_denial(struct vt_broker_denial *den, const char *mine, const char *jkt)
{
    char msg[256];
    snprintf(msg, sizeof(msg),
             "runtime_key is not the key the token was issued to: its RFC 7638 thumbprint is %.60s,"
             " the token's cnf.jkt %.60s",
             mine, jkt);
    deny(den, 401, "token-binding", msg);
}

/* The claims of a token this process issued (struct issued): the checks token_claims makes
 * after the token's signature and payload, with the same refusals. */
static bool issued_claims(struct vt_broker *b, const struct issued *t, const char *runtime_key,
                          enum vt_tee expect_tee, struct vt_broker_attested *a,
                          struct vt_broker_denial *den)
{
    struct vt_diag d;
    vt_diag_init(&d);
    vt_time now = vt_broker_now(b);
    char mine[64];
    a->tee = t->tee;
    if (t->exp <= now) {
        char msg[96];
        snprintf(msg, sizeof(msg), "the token expired %lld seconds ago", (long long)(now - t->exp));
        deny(den, 401, "token", msg);
    } else if (expect_tee != VT_TEE_NONE && t->tee != expect_tee) {
        char msg[128];
        snprintf(msg, sizeof(msg), "the token was issued for %.20s evidence, not %s",
                 vt_tee_name(t->tee), vt_tee_name(expect_tee));
        deny(den, 401, "tee-mismatch", msg);
    } else if (runtime_key == NULL ||
               vt_jwk_parse(runtime_key, strlen(runtime_key), &a->key, &d) != VT_OK) {
        deny(den, 400, "runtime-key", runtime_key ? d.detail : "runtime_key is missing");
    } else if ((vt_jwk_thumbprint_b64(a->key, mine), strcmp(mine, t->jkt) != 0)) {
        binding_denial(den, mine, t->jkt);
    } else {
        a->exp = t->exp;
        snprintf(a->jkt, sizeof(a->jkt), "%s", t->jkt);
        snprintf(a->policy_sha, sizeof(a->policy_sha), "%s", t->policy_sha);
        a->claims = strdup(t->claims);
        if (a->claims != NULL) {
            return true;
        }
        deny(den, 500, "internal", "cannot encode the claims");
    }
    return false;
}

/* A token's claims and key binding: the payload must carry cnf.jkt equal to the runtime key's
 * thumbprint, and the claims of exactly one submodule. */
static bool token_claims(struct vt_broker *b, const char *token, const char *runtime_key,
                         enum vt_tee expect_tee, struct vt_broker_attested *a,
                         struct vt_broker_denial *den)
{
    memset(a, 0, sizeof(*a));
    struct vt_diag d;
    vt_diag_init(&d);
    if (token != NULL && strlen(token) < 64 * 1024) {
        uint8_t id[32];
        vt_sha256(token, strlen(token), id);
        struct vt_pin pin;
        const struct issued *t = vt_pincache_get(&b->issued, id, NULL, NULL, &pin);
        if (t != NULL) {
            bool ok = issued_claims(b, t, runtime_key, expect_tee, a, den);
            vt_pincache_release(&b->issued, &pin);
            return ok;
        }
    }
    char *payload = NULL;
    if (vt_broker_token_check(b, token, &payload, &d) != VT_OK) {
        deny(den, 401, "token", d.detail);
        return false;
    }
    json_t *o = json_loads(payload, 0, NULL);
    free(payload);
    const char *jkt = json_string_value(json_object_get(json_object_get(o, "cnf"), "jkt"));
    json_t *subs = json_object_get(o, "submods");
    const char *tee = NULL;
    json_t *sub = NULL;
    if (json_object_size(subs) == 1) {
        void *it = json_object_iter(subs);
        tee = json_object_iter_key(it);
        sub = json_object_iter_value(it);
        for (int t = VT_TEE_SGX; t <= VT_TEE_NITRO; t++) {
            if (strcmp(tee, vt_tee_name((enum vt_tee)t)) == 0) {
                a->tee = (enum vt_tee)t;
            }
        }
    }
    json_t *claims = json_object_get(sub, "veritee.claims");
    if (claims == NULL && tee != NULL && strcmp(tee, "cpu0") == 0) {
        /* the Trustee profile (docs/kbs.md): the claims in the annotated evidence */
        claims = vt_broker_trustee_claims(sub);
        tee = json_string_value(json_object_get(claims, "tee"));
    }
    const char *pol = json_string_value(json_object_get(sub, "ear.appraisal-policy-id"));
    bool ok = false;
    char mine[64];
    if (jkt == NULL || !json_is_object(claims) || tee == NULL) {
        deny(den, 401, "token", "the token lacks cnf.jkt or its claims");
    } else if (expect_tee != VT_TEE_NONE && strcmp(tee, vt_tee_name(expect_tee)) != 0) {
        char msg[128];
        snprintf(msg, sizeof(msg), "the token was issued for %.20s evidence, not %s", tee,
                 vt_tee_name(expect_tee));
        deny(den, 401, "tee-mismatch", msg);
    } else if (runtime_key == NULL ||
               vt_jwk_parse(runtime_key, strlen(runtime_key), &a->key, &d) != VT_OK) {
        deny(den, 400, "runtime-key", runtime_key ? d.detail : "runtime_key is missing");
    } else if ((vt_jwk_thumbprint_b64(a->key, mine), strcmp(mine, jkt) != 0)) {
        binding_denial(den, mine, jkt);
    } else {
        a->exp = (int64_t)json_integer_value(json_object_get(o, "exp"));
        snprintf(a->jkt, sizeof(a->jkt), "%s", jkt);
        snprintf(a->policy_sha, sizeof(a->policy_sha), "%s",
                 pol && strncmp(pol, "sha256:", 7) == 0 ? pol + 7 : "");
        a->claims = json_dumps(claims, JSON_COMPACT);
        ok = a->claims != NULL;
        if (!ok) {
            deny(den, 500, "internal", "cannot encode the claims");
        }
    }
    json_decref(o);
    return ok;
}

static bool release_run(struct vt_broker *b, const struct vt_broker_release_req *q,
                        struct vt_broker_release_res *r, struct vt_broker_denial *den,
                        enum vt_tee *tee)
{
    memset(r, 0, sizeof(*r));
    memset(den, 0, sizeof(*den));
    struct vt_broker_attested a;
    struct vt_broker_attest_req aq = q->attest;
    if (aq.expect_tee == VT_TEE_NONE) {
        aq.expect_tee = q->expect_tee;
    }
    bool ok = q->token != NULL ? token_claims(b, q->token, q->runtime_key, q->expect_tee, &a, den)
                               : attest_common(b, &aq, &a, den);
    *tee = a.tee;
    if (!ok) {
        vt_broker_attested_cleanup(&a);
        return false;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    uint8_t *secret = NULL;
    size_t len = 0;
    char *policy_json = NULL, *explain = NULL;
    bool disabled = false;
    struct vt_broker_decision x = {.type = "release",
                                   .evidence = q->token ? NULL : q->attest.evidence,
                                   .evidence_len = q->token ? 0 : q->attest.evidence_len,
                                   .claims = a.claims,
                                   .c = q->token ? NULL : &a.c,
                                   .key = q->key_name,
                                   .jkt = a.jkt};
    enum vt_err err =
        vt_broker_key_open(b, q->key_name, &secret, &len, &r->version, &policy_json, &disabled, &d);
    x.version = r->version;
    struct vt_pin ppin = {0};
    char psha[65] = "";
    bool denied = false; /* a verdict: the key is disabled or its policy says no */
    if (err == VT_E_NOT_FOUND) {
        deny(den, 404, "unknown-key", d.detail);
    } else if (err != VT_OK) {
        deny(den, 500, "storage", d.detail);
    } else if (disabled) {
        deny(den, 403, "key-disabled", "the key is disabled");
        denied = true;
    } else if ((err = compiled_policy(b, policy_json, &ppin, &d)) != VT_OK) {
        deny(den, 500, "policy-error", d.detail);
    } else {
        const struct policy_entry *pe = ppin.value;
        snprintf(psha, sizeof(psha), "%s", pe->sha);
        x.policy_sha = psha;
        if (!policy_allows(pe->p, q->token ? NULL : &a.c, a.claims, "release-policy", &explain,
                           den)) {
            denied = true;
        } else if (q->cms) {
            /* KMS's CiphertextForRecipient shape, for Nitro clients with RSA runtime keys */
            struct vt_buf spki, out;
            vt_buf_init(&spki, 8192);
            vt_buf_init(&out, VT_BROKER_SECRET_MAX + 4096);
            err = vt_jwk_spki_der(a.key, &spki);
            if (err == VT_OK) {
                err = vt_cms_encrypt_for_recipient(spki.data, spki.len, secret, len, &out, &d);
            } else {
                vt_fail(&d, err, "runtime_key", "cannot encode the runtime key");
            }
            if (err == VT_OK) {
                r->cms_len = out.len;
                r->cms = vt_buf_steal(&out, NULL);
            } else {
                deny(den, 400, "wrap", d.detail);
            }
            vt_buf_cleanup(&spki);
            vt_buf_cleanup(&out);
        } else {
            err = vt_jwe_encrypt(a.key, secret, len, NULL, &r->jwe, &d);
            if (err != VT_OK) {
                deny(den, 400, "wrap", d.detail);
            }
        }
    }
    vt_pincache_release(&b->policies, &ppin);
    vt_broker_secret_free(secret, len);
    free(policy_json);
    ok = err == VT_OK && !denied;
    x.allowed = ok;
    x.reason = ok ? "" : den->reason;
    uint64_t idx;
    struct vt_diag e;
    vt_diag_init(&e);
    /* The release is acknowledged only once its log record is stored. */
    enum vt_err lerr = record(b, &x, explain ? explain : den->detail, a.redeem, ok, &idx,
                              ok ? &r->receipt : NULL, r->receipt_kid, &e);
    den->logged = lerr == VT_OK;
    if (lerr == VT_E_NONCE_MISMATCH) { /* redeemed by another request first: not logged */
        deny(den, 401, "nonce-replayed", "the nonce was already used");
        ok = false;
        lerr = VT_OK;
    }
    free(explain);
    vt_broker_attested_cleanup(&a);
    if (ok && lerr != VT_OK) {
        deny(den, 500, "log", e.detail);
        ok = false;
    }
    if (!ok) {
        vt_broker_release_res_cleanup(r);
    }
    return ok;
}

/* ---- for other endpoints (the certificate endpoint, broker_cert.c) ---- */

bool vt_broker_token_attested(struct vt_broker *b, const char *token, const char *runtime_key,
                              struct vt_broker_attested *a, struct vt_broker_denial *den)
{
    memset(den, 0, sizeof(*den));
    return token_claims(b, token, runtime_key, VT_TEE_NONE, a, den);
}

bool vt_broker_policy_check(struct vt_broker *b, const char *policy_json, const char *claims,
                            const char *prefix, char policy_sha[65], char **explain,
                            struct vt_broker_denial *den)
{
    *explain = NULL;
    struct vt_pin pin;
    struct vt_diag d;
    vt_diag_init(&d);
    if (compiled_policy(b, policy_json, &pin, &d) != VT_OK) {
        deny(den, 500, "policy-error", d.detail);
        return false;
    }
    const struct policy_entry *pe = pin.value;
    snprintf(policy_sha, 65, "%s", pe->sha);
    bool ok = policy_allows(pe->p, NULL, claims, prefix, explain, den);
    vt_pincache_release(&b->policies, &pin);
    return ok;
}

enum vt_err vt_broker_record(struct vt_broker *b, const struct vt_broker_decision *x,
                             const char *explanation, bool want_receipt, uint64_t *index,
                             char **receipt, char kid[64], struct vt_diag *d)
{
    return record(b, x, explanation, NULL, want_receipt, index, receipt, kid, d);
}

/* ---- outcomes and latency of attest and release (metrics) ---- */

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static enum vt_broker_reason_class reason_class(const char *r);

static void count_outcome(struct vt_broker *b, int op, enum vt_tee tee, bool allowed,
                          const char *reason, int64_t start_us)
{
    static const double bounds[VT_BROKER_LATENCY_BUCKETS] = VT_BROKER_LATENCY_BOUNDS;
    size_t t = (unsigned)tee < VT_BROKER_TEES ? (size_t)tee : 0;
    size_t o = allowed ? 0 : 1 + (size_t)reason_class(reason);
    atomic_fetch_add(&b->m.outcomes[op][t][o], 1);
    int64_t us = mono_us() - start_us;
    us = us < 0 ? 0 : us;
    size_t i = 0;
    while (i < VT_BROKER_LATENCY_BUCKETS && (double)us > bounds[i] * 1e6) {
        i++;
    }
    struct vt_broker_histogram *h = &b->m.latency[op][t];
    atomic_fetch_add(&h->le[i], 1);
    atomic_fetch_add(&h->sum_us, (uint_fast64_t)us);
}

bool vt_broker_attest(struct vt_broker *b, const struct vt_broker_attest_req *q,
                      struct vt_broker_attest_res *r, struct vt_broker_denial *den)
{
    int64_t start = mono_us();
    enum vt_tee tee = VT_TEE_NONE;
    bool ok = attest_run(b, q, r, den, &tee);
    count_outcome(b, 0, tee, ok, den->reason, start);
    return ok;
}

bool vt_broker_release(struct vt_broker *b, const struct vt_broker_release_req *q,
                       struct vt_broker_release_res *r, struct vt_broker_denial *den)
{
    int64_t start = mono_us();
    enum vt_tee tee = VT_TEE_NONE;
    bool ok = release_run(b, q, r, den, &tee);
    count_outcome(b, 1, tee, ok, den->reason, start);
    return ok;
}

/* ---- metrics ---- */

static enum vt_broker_reason_class reason_class(const char *r)
{
    size_t n = strlen(r);
    if (n >= 6 && strcmp(r + n - 6, "-limit") == 0) {
        return VT_BR_LIMIT;
    }
    static const struct {
        const char *prefix;
        enum vt_broker_reason_class c;
    } map[] = {
        {"attestation-policy", VT_BR_POLICY},
        {"cert-policy", VT_BR_POLICY},
        {"csr-key-mismatch", VT_BR_BINDING},
        {"csr", VT_BR_REQUEST},
        {"profile", VT_BR_REQUEST},
        {"unknown-profile", VT_BR_KEY},
        {"release-policy", VT_BR_POLICY},
        {"policy-error", VT_BR_INTERNAL},
        {"binding", VT_BR_BINDING},
        {"unknown-key", VT_BR_KEY},
        {"key-disabled", VT_BR_KEY},
        {"storage", VT_BR_INTERNAL},
        {"internal", VT_BR_INTERNAL},
        {"log", VT_BR_INTERNAL},
        {"wrap", VT_BR_RUNTIME_KEY},
        {"evidence", VT_BR_EVIDENCE},
        {"vcek", VT_BR_EVIDENCE},
        {"attestation", VT_BR_REQUEST},
        {"runtime-key", VT_BR_RUNTIME_KEY},
        {"nonce", VT_BR_NONCE},
        {"session", VT_BR_SESSION},
        {"tee", VT_BR_TEE},
        {"protocol", VT_BR_REQUEST},
        {"token", VT_BR_TOKEN},
        {"body", VT_BR_REQUEST},
        {"request", VT_BR_REQUEST},
        {"format", VT_BR_REQUEST},
        {"method", VT_BR_REQUEST},
        {"not-found", VT_BR_REQUEST},
        {"collateral", VT_BR_COLLATERAL},
        {"init-data", VT_BR_REQUEST},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strncmp(r, map[i].prefix, strlen(map[i].prefix)) == 0) {
            return map[i].c;
        }
    }
    return VT_BR_OTHER;
}

void vt_broker_count_unlogged(struct vt_broker *b, enum vt_broker_endpoint ep, const char *reason)
{
    if ((unsigned)ep < VT_BM_ENDPOINTS) {
        atomic_fetch_add(&b->m.unlogged[ep][reason_class(reason ? reason : "")], 1);
    }
}

static const char *const endpoint_names[VT_BM_ENDPOINTS] = {
    "challenge", "attest", "release", "kbs_auth", "kbs_attest", "kbs_resource", "cert"};
static const char *const class_names[VT_BR_CLASSES] = {
    "request", "evidence",   "runtime-key", "nonce",   "session", "tee", "token",
    "limit",   "collateral", "other",       "binding", "policy",  "key", "internal"};

/* attestations_total / releases_total by TEE, decision and reason class (series that occurred),
 * then the latency histogram of the same calls by TEE. */
static enum vt_err outcome_text(struct vt_buf *o, const struct vt_broker_metrics *m, int op)
{
    static const double bounds[VT_BROKER_LATENCY_BUCKETS] = VT_BROKER_LATENCY_BOUNDS;
    const char *name = op == 0 ? "attestations" : "releases";
    const char *call = op == 0 ? "attest" : "release";
    VT_TRY(vt_buf_printf(o,
                         "# HELP veritee_broker_%s_total Calls of %s (both protocols) by TEE,"
                         " decision and the class of the refusal's reason.\n"
                         "# TYPE veritee_broker_%s_total counter\n",
                         name, call, name));
    for (size_t t = 0; t < VT_BROKER_TEES; t++) {
        for (size_t k = 0; k <= VT_BR_CLASSES; k++) {
            uint_fast64_t v = atomic_load(&m->outcomes[op][t][k]);
            if (v != 0) {
                VT_TRY(vt_buf_printf(
                    o,
                    "veritee_broker_%s_total{tee=\"%s\",decision=\"%s\",reason=\"%s\"} %" PRIuFAST64
                    "\n",
                    name, vt_tee_name((enum vt_tee)t), k == 0 ? "allow" : "deny",
                    k == 0 ? "none" : class_names[k - 1], v));
            }
        }
    }
    VT_TRY(vt_buf_printf(o,
                         "# HELP veritee_broker_%s_duration_seconds Time to answer a %s call, by"
                         " TEE (collateral fetches included).\n"
                         "# TYPE veritee_broker_%s_duration_seconds histogram\n",
                         call, call, call));
    for (size_t t = 0; t < VT_BROKER_TEES; t++) {
        const struct vt_broker_histogram *h = &m->latency[op][t];
        uint_fast64_t cum = 0;
        for (size_t i = 0; i <= VT_BROKER_LATENCY_BUCKETS; i++) {
            cum += atomic_load(&h->le[i]);
        }
        if (cum == 0) {
            continue;
        }
        const char *tee = vt_tee_name((enum vt_tee)t);
        cum = 0;
        for (size_t i = 0; i <= VT_BROKER_LATENCY_BUCKETS; i++) {
            cum += atomic_load(&h->le[i]);
            char le[24];
            if (i < VT_BROKER_LATENCY_BUCKETS) {
                snprintf(le, sizeof(le), "%g", bounds[i]);
            } else {
                snprintf(le, sizeof(le), "+Inf");
            }
            VT_TRY(vt_buf_printf(o,
                                 "veritee_broker_%s_duration_seconds_bucket{tee=\"%s\",le=\"%s\"} "
                                 "%" PRIuFAST64 "\n",
                                 call, tee, le, cum));
        }
        VT_TRY(vt_buf_printf(o,
                             "veritee_broker_%s_duration_seconds_sum{tee=\"%s\"} %.6f\n"
                             "veritee_broker_%s_duration_seconds_count{tee=\"%s\"} %" PRIuFAST64
                             "\n",
                             call, tee, (double)atomic_load(&h->sum_us) / 1e6, call, tee, cum));
    }
    return VT_OK;
}

/* The tables and the log, as the store holds them (all replicas). */
static enum vt_err store_text(struct vt_broker *b, struct vt_buf *o)
{
    vt_time now = vt_broker_now(b);
    int64_t rows_n = -1, rows_s = -1, log_size = -1, cp_size = 0, cp_time = -1;
    (void)!vt_store_exec(b->store, "SELECT COUNT(*) FROM vb_nonces", NULL, 0, vt_store_row_int,
                         &rows_n, NULL, NULL);
    (void)!vt_store_exec(b->store, "SELECT COUNT(*) FROM vb_kbs_sessions", NULL, 0,
                         vt_store_row_int, &rows_s, NULL, NULL);
    (void)!vt_store_exec(b->store, "SELECT COALESCE(MAX(idx) + 1, 0) FROM vb_log", NULL, 0,
                         vt_store_row_int, &log_size, NULL, NULL);
    (void)!vt_store_exec(b->store, "SELECT COALESCE(MAX(size), 0) FROM vb_checkpoints", NULL, 0,
                         vt_store_row_int, &cp_size, NULL, NULL);
    if (cp_size > 0) { /* a checkpoint is signed in the transaction of its last entry */
        struct vt_sql_arg a[] = {VT_SQL_I(cp_size - 1)};
        (void)!vt_store_exec(b->store, "SELECT created FROM vb_log WHERE idx = ?", a, 1,
                             vt_store_row_int, &cp_time, NULL, NULL);
    }
    char age[32] = "NaN", when[32] = "NaN";
    if (cp_time >= 0) {
        snprintf(age, sizeof(age), "%" PRId64, now > cp_time ? now - cp_time : 0);
        snprintf(when, sizeof(when), "%" PRId64, cp_time);
    }
    return vt_buf_printf(
        o,
        "# HELP veritee_broker_table_rows Rows held in the challenge tables (nonces: redeemed"
        " ones, kept until some minutes after they expire; KBS sessions: outstanding, answered"
        " and expired ones not yet deleted; all replicas).\n"
        "# TYPE veritee_broker_table_rows gauge\n"
        "veritee_broker_table_rows{table=\"nonces\"} %" PRId64 "\n"
        "veritee_broker_table_rows{table=\"kbs_sessions\"} %" PRId64 "\n"
        "# HELP veritee_broker_log_size Entries in the audit log (all replicas).\n"
        "# TYPE veritee_broker_log_size gauge\n"
        "veritee_broker_log_size %" PRId64 "\n"
        "# HELP veritee_broker_log_checkpoint_size Entries covered by the latest signed"
        " checkpoint.\n"
        "# TYPE veritee_broker_log_checkpoint_size gauge\n"
        "veritee_broker_log_checkpoint_size %" PRId64 "\n"
        "# HELP veritee_broker_log_checkpoint_timestamp_seconds When the latest checkpoint was"
        " signed (Unix time; NaN before the first).\n"
        "# TYPE veritee_broker_log_checkpoint_timestamp_seconds gauge\n"
        "veritee_broker_log_checkpoint_timestamp_seconds %s\n"
        "# HELP veritee_broker_log_checkpoint_age_seconds Seconds since the latest checkpoint was"
        " signed (NaN before the first).\n"
        "# TYPE veritee_broker_log_checkpoint_age_seconds gauge\n"
        "veritee_broker_log_checkpoint_age_seconds %s\n",
        rows_n, rows_s, log_size, cp_size, when, age);
}

char *vt_broker_metrics_text(struct vt_broker *b)
{
    struct vt_broker_metrics *m = &b->m;
    int64_t sessions = -1;
    struct vt_sql_arg a[] = {VT_SQL_I(vt_broker_now(b))};
    (void)!vt_store_exec(b->store,
                         "SELECT COUNT(*) FROM vb_kbs_sessions WHERE used = 0 AND expires > ?", a,
                         1, vt_store_row_int, &sessions, NULL, NULL);
    struct vt_buf o;
    vt_buf_init(&o, 1u << 20);
    enum vt_err err = vt_buf_printf(
        &o,
        "# HELP veritee_broker_challenges_total Nonces issued by /v1/challenge.\n"
        "# TYPE veritee_broker_challenges_total counter\n"
        "veritee_broker_challenges_total %" PRIuFAST64 "\n"
        "# HELP veritee_broker_kbs_sessions_total KBS sessions opened by /kbs/v0/auth.\n"
        "# TYPE veritee_broker_kbs_sessions_total counter\n"
        "veritee_broker_kbs_sessions_total %" PRIuFAST64 "\n"
        "# HELP veritee_broker_outstanding KBS sessions opened, not answered, not expired (all"
        " replicas; /v1/challenge nonces are not stored until redeemed).\n"
        "# TYPE veritee_broker_outstanding gauge\n"
        "veritee_broker_outstanding{kind=\"kbs_sessions\"} %" PRId64 "\n"
        "# HELP veritee_broker_limit_refusals_total KBS sessions refused at their cap (503).\n"
        "# TYPE veritee_broker_limit_refusals_total counter\n"
        "veritee_broker_limit_refusals_total{limit=\"kbs_sessions\"} %" PRIuFAST64 "\n"
        "# HELP veritee_broker_expired_collected_total Expired rows deleted.\n"
        "# TYPE veritee_broker_expired_collected_total counter\n"
        "veritee_broker_expired_collected_total{table=\"nonces\"} %" PRIuFAST64 "\n"
        "veritee_broker_expired_collected_total{table=\"kbs_sessions\"} %" PRIuFAST64 "\n"
        "# HELP veritee_broker_log_entries_total Decisions appended to the audit log.\n"
        "# TYPE veritee_broker_log_entries_total counter\n"
        "veritee_broker_log_entries_total{type=\"attest\",decision=\"allow\"} %" PRIuFAST64 "\n"
        "veritee_broker_log_entries_total{type=\"attest\",decision=\"deny\"} %" PRIuFAST64 "\n"
        "veritee_broker_log_entries_total{type=\"release\",decision=\"allow\"} %" PRIuFAST64 "\n"
        "veritee_broker_log_entries_total{type=\"release\",decision=\"deny\"} %" PRIuFAST64 "\n"
        "veritee_broker_log_entries_total{type=\"cert\",decision=\"allow\"} %" PRIuFAST64 "\n"
        "veritee_broker_log_entries_total{type=\"cert\",decision=\"deny\"} %" PRIuFAST64 "\n"
        "# HELP veritee_broker_log_batches_total Audit log batches committed by this replica (one"
        " transaction and one signed checkpoint each; entries / batches is the mean batch).\n"
        "# TYPE veritee_broker_log_batches_total counter\n"
        "veritee_broker_log_batches_total %" PRIuFAST64 "\n"
        "# HELP veritee_broker_refusals_unlogged_total Refusals that wrote no log entry (the"
        " request failed before its evidence was appraised, or before authentication).\n"
        "# TYPE veritee_broker_refusals_unlogged_total counter\n",
        atomic_load(&m->challenges), atomic_load(&m->kbs_sessions), sessions,
        atomic_load(&m->limit_kbs_sessions), atomic_load(&m->collected_nonces),
        atomic_load(&m->collected_kbs_sessions), atomic_load(&m->logged[0][0]),
        atomic_load(&m->logged[0][1]), atomic_load(&m->logged[1][0]), atomic_load(&m->logged[1][1]),
        atomic_load(&m->logged[2][0]), atomic_load(&m->logged[2][1]), atomic_load(&m->log_batches));
    for (size_t e = 0; err == VT_OK && e < VT_BM_ENDPOINTS; e++) {
        for (size_t c = 0; err == VT_OK && c < VT_BR_CLASSES; c++) {
            err = vt_buf_printf(&o,
                                "veritee_broker_refusals_unlogged_total{endpoint=\"%s\","
                                "reason=\"%s\"} %" PRIuFAST64 "\n",
                                endpoint_names[e], class_names[c], atomic_load(&m->unlogged[e][c]));
        }
    }
    for (int op = 0; err == VT_OK && op < 2; op++) {
        err = outcome_text(&o, m, op);
    }
    if (err == VT_OK) {
        err = store_text(b, &o);
    }
    if (err != VT_OK) {
        vt_buf_cleanup(&o);
        return NULL;
    }
    return (char *)vt_buf_steal(&o, NULL);
}

char *vt_broker_metrics_hook(void *ctx)
{
    return vt_broker_metrics_text(ctx);
}
