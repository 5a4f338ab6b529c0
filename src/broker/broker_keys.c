/*
 * Keys and secrets at rest: envelope encryption. Each secret version is sealed with AES-256-GCM
 * under its own random 256-bit data key; the data key is sealed under the master key. The
 * associated data names the key, version and role, so sealed values cannot be swapped between
 * rows. Sealed value: nonce (12) || ciphertext || tag (16). Plaintexts are wiped after use.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "broker/broker.h"
#include "crypto/aead.h"
#include "store/master_key.h"

/* VT_BROKER_SECRET_MAX is VT_SEALED_MAX: every secret version fits one sealed value. */
_Static_assert(VT_BROKER_SECRET_MAX == VT_SEALED_MAX, "a secret must fit one sealed value");

enum vt_err vt_broker_seal(const struct vt_broker *b, const char *aad, const uint8_t *pt, size_t n,
                           struct vt_buf *out, struct vt_diag *d)
{
    return vt_aead_seal(b->cfg.master_key, aad, pt, n, out, d);
}

enum vt_err vt_broker_unseal(const struct vt_broker *b, const char *aad, const uint8_t *ct,
                             size_t n, struct vt_buf *out, struct vt_diag *d)
{
    return vt_aead_open(b->cfg.master_key, aad, ct, n, out, d);
}

void vt_broker_secret_free(uint8_t *secret, size_t len)
{
    if (secret != NULL) {
        vt_wipe(secret, len);
        free(secret);
    }
}

static void aads(const char *name, uint32_t version, char dek[200], char sec[200])
{
    snprintf(dek, 200, "veritee data key %s v%" PRIu32, name, version);
    snprintf(sec, 200, "veritee secret %s v%" PRIu32, name, version);
}

static enum vt_err check_name(const char *name, struct vt_diag *d)
{
    size_t n = name ? strlen(name) : 0;
    VT_ENSURE(n > 0 && n < VT_BROKER_NAME_MAX, d, VT_E_ARG, "name",
              "a key name is 1 to %d characters", VT_BROKER_NAME_MAX - 1);
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        VT_ENSURE((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.',
                  d, VT_E_ARG, "name", "key name \"%.*s\" may only hold letters, digits, - _ .",
                  (int)n, name);
    }
    return VT_OK;
}

static enum vt_err policy_sha(const char *json, char sha[65], struct vt_diag *d)
{
    struct vt_policy *p = NULL;
    VT_TRY(vt_policy_compile(json, strlen(json), &p, d));
    uint8_t h[32];
    vt_policy_digest(p, h);
    vt_policy_free(p);
    vt_hex_encode(h, 32, sha);
    return VT_OK;
}

enum vt_err vt_broker_key_put(struct vt_broker *b, const char *name, const uint8_t *secret,
                              size_t len, size_t gen_len, const char *policy_json,
                              uint32_t *version, struct vt_diag *d)
{
    VT_TRY(check_name(name, d));
    size_t n = secret ? len : gen_len;
    VT_ENSURE(n > 0 && n <= VT_BROKER_SECRET_MAX, d, VT_E_ARG, "secret",
              "a secret is 1 to %u bytes (got %zu)", VT_BROKER_SECRET_MAX, n);
    char sha[65] = "";
    if (policy_json != NULL) {
        VT_TRY(policy_sha(policy_json, sha, d));
    }
    uint8_t *gen = NULL, dek[32];
    if (secret == NULL) {
        gen = malloc(n);
        VT_ENSURE(gen != NULL, d, VT_E_NOMEM, "secret", "no memory");
        if (vt_random_bytes(gen, n, d) != VT_OK) {
            free(gen);
            return d ? d->code : VT_E_INTERNAL;
        }
        secret = gen;
    }
    struct vt_buf sdek, ssec;
    vt_buf_init(&sdek, 256);
    vt_buf_init(&ssec, VT_BROKER_SECRET_MAX + 64);
    enum vt_err err = vt_random_bytes(dek, sizeof(dek), d);
    bool tx = false;
    int64_t cur = 0;
    if (err == VT_OK && (err = vt_store_begin(b->store, d)) == VT_OK) {
        tx = true;
        struct vt_sql_arg a[] = {VT_SQL_T(name)};
        err = vt_store_exec(b->store, "SELECT current FROM vb_keys WHERE name = ?", a, 1,
                            vt_store_row_int, &cur, NULL, d);
    }
    *version = (uint32_t)cur + 1;
    char adek[200], asec[200];
    aads(name, *version, adek, asec);
    if (err == VT_OK) {
        err = vt_aead_seal(dek, asec, secret, n, &ssec, d);
    }
    if (err == VT_OK) {
        err = vt_aead_seal(b->cfg.master_key, adek, dek, sizeof(dek), &sdek, d);
    }
    vt_time now = vt_broker_now(b);
    if (err == VT_OK) {
        struct vt_sql_arg a[] = {VT_SQL_T(name), VT_SQL_I(*version), VT_SQL_B(sdek.data, sdek.len),
                                 VT_SQL_B(ssec.data, ssec.len), VT_SQL_I(now)};
        err = vt_store_exec(b->store,
                            "INSERT INTO vb_key_versions(name, version, dek, secret, created)"
                            " VALUES (?,?,?,?,?)",
                            a, 5, NULL, NULL, NULL, d);
    }
    if (err == VT_OK) {
        const char *pj = policy_json ? policy_json : "{\"version\":1}";
        if (policy_json == NULL) {
            err = policy_sha(pj, sha, d);
        }
        struct vt_sql_arg a[] = {VT_SQL_T(name), VT_SQL_I(*version), VT_SQL_T(pj),
                                 VT_SQL_T(sha),  VT_SQL_I(now),      VT_SQL_I(now)};
        /* A new version keeps the key's policy unless one is given. */
        if (err == VT_OK) {
            err = vt_store_exec(
                b->store,
                policy_json ? "INSERT INTO vb_keys(name, current, disabled, policy, policy_sha256,"
                              " created, updated) VALUES (?,?,0,?,?,?,?) ON CONFLICT(name) DO"
                              " UPDATE SET current = excluded.current, policy = excluded.policy,"
                              " policy_sha256 = excluded.policy_sha256, updated = excluded.updated"
                            : "INSERT INTO vb_keys(name, current, disabled, policy, policy_sha256,"
                              " created, updated) VALUES (?,?,0,?,?,?,?) ON CONFLICT(name) DO"
                              " UPDATE SET current = excluded.current,"
                              " updated = excluded.updated",
                a, 6, NULL, NULL, NULL, d);
        }
    }
    if (tx) {
        if (err == VT_OK) {
            err = vt_store_commit(b->store, d);
        } else {
            vt_store_rollback(b->store);
        }
    }
    vt_wipe(dek, sizeof(dek));
    vt_broker_secret_free(gen, n);
    vt_buf_cleanup(&sdek);
    vt_buf_cleanup(&ssec);
    return err;
}

enum vt_err vt_broker_key_set_policy(struct vt_broker *b, const char *name, const char *policy_json,
                                     struct vt_diag *d)
{
    char sha[65];
    VT_TRY(policy_sha(policy_json, sha, d));
    struct vt_sql_arg a[] = {VT_SQL_T(policy_json), VT_SQL_T(sha), VT_SQL_I(vt_broker_now(b)),
                             VT_SQL_T(name)};
    int64_t changes = 0;
    VT_TRY(vt_store_exec(b->store,
                         "UPDATE vb_keys SET policy = ?, policy_sha256 = ?, updated = ?"
                         " WHERE name = ?",
                         a, 4, NULL, NULL, &changes, d));
    VT_ENSURE(changes == 1, d, VT_E_NOT_FOUND, "key", "no key named \"%s\"", name);
    return VT_OK;
}

enum vt_err vt_broker_key_set_disabled(struct vt_broker *b, const char *name, bool disabled,
                                       struct vt_diag *d)
{
    struct vt_sql_arg a[] = {VT_SQL_I(disabled ? 1 : 0), VT_SQL_I(vt_broker_now(b)),
                             VT_SQL_T(name)};
    int64_t changes = 0;
    VT_TRY(vt_store_exec(b->store, "UPDATE vb_keys SET disabled = ?, updated = ? WHERE name = ?", a,
                         3, NULL, NULL, &changes, d));
    VT_ENSURE(changes == 1, d, VT_E_NOT_FOUND, "key", "no key named \"%s\"", name);
    return VT_OK;
}

static bool row_key_json(void *ctx, const struct vt_sql_row *row)
{
    json_t *o = json_loads(vt_row_text(row, 3), 0, NULL);
    json_array_append_new(
        ctx, json_pack("{s:s,s:I,s:b,s:o,s:s,s:I,s:I,s:o}", "name", vt_row_text(row, 0), "version",
                       (json_int_t)vt_row_int(row, 1), "disabled", vt_row_int(row, 2) != 0,
                       "policy", o ? o : json_null(), "policy_sha256", vt_row_text(row, 4),
                       "created", (json_int_t)vt_row_int(row, 5), "updated",
                       (json_int_t)vt_row_int(row, 6), "versions", json_array()));
    return true;
}

/* One version of a key: its number, when it was added, whether releases return it (the current
 * one) and whether the key is disabled. Never its secret or data key (not even selected). */
static bool row_key_version(void *ctx, const struct vt_sql_row *row)
{
    json_t *arr = ctx;
    const char *name = vt_row_text(row, 0);
    size_t i;
    json_t *k;
    json_array_foreach(arr, i, k)
    {
        if (strcmp(json_string_value(json_object_get(k, "name")), name) == 0) {
            int64_t v = vt_row_int(row, 1);
            json_array_append_new(json_object_get(k, "versions"),
                                  json_pack("{s:I,s:I,s:b,s:O}", "version", (json_int_t)v,
                                            "created", (json_int_t)vt_row_int(row, 2), "current",
                                            json_integer_value(json_object_get(k, "version")) == v,
                                            "disabled", json_object_get(k, "disabled")));
            break;
        }
    }
    return true;
}

char *vt_broker_keys_json(struct vt_broker *b)
{
    json_t *arr = json_array();
    if (vt_store_exec(b->store,
                      "SELECT name, current, disabled, policy, policy_sha256, created, updated"
                      " FROM vb_keys ORDER BY name",
                      NULL, 0, row_key_json, arr, NULL, NULL) != VT_OK ||
        vt_store_exec(b->store,
                      "SELECT name, version, created FROM vb_key_versions ORDER BY name, version",
                      NULL, 0, row_key_version, arr, NULL, NULL) != VT_OK) {
        json_decref(arr);
        return NULL;
    }
    char *s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return s;
}

struct key_row {
    bool found;
    int64_t version, disabled;
    char *policy;
    struct vt_buf dek, secret;
};

static bool row_key(void *ctx, const struct vt_sql_row *row)
{
    struct key_row *k = ctx;
    k->found = true;
    k->version = vt_row_int(row, 0);
    k->disabled = vt_row_int(row, 1);
    k->policy = strdup(vt_row_text(row, 2));
    size_t n;
    const uint8_t *p = vt_row_blob(row, 3, &n);
    if (p == NULL || vt_buf_append(&k->dek, p, n) != VT_OK) {
        return false;
    }
    p = vt_row_blob(row, 4, &n);
    return p != NULL && vt_buf_append(&k->secret, p, n) == VT_OK;
}

enum vt_err vt_broker_key_open(struct vt_broker *b, const char *name, uint8_t **secret, size_t *len,
                               uint32_t *version, char **policy_json, bool *disabled,
                               struct vt_diag *d)
{
    *secret = NULL;
    *len = 0;
    *policy_json = NULL;
    struct key_row k = {0};
    vt_buf_init(&k.dek, 256);
    vt_buf_init(&k.secret, VT_BROKER_SECRET_MAX + 64);
    struct vt_sql_arg a[] = {VT_SQL_T(name ? name : "")};
    enum vt_err err = vt_store_read(
        b->store,
        "SELECT k.current, k.disabled, k.policy, v.dek, v.secret FROM vb_keys k"
        " JOIN vb_key_versions v ON v.name = k.name AND v.version = k.current WHERE k.name = ?",
        a, 1, row_key, &k, d);
    if (err == VT_OK && !k.found) {
        err = vt_fail(d, VT_E_NOT_FOUND, "key", "no key named \"%.100s\"", name ? name : "");
    }
    *version = (uint32_t)k.version;
    *disabled = k.disabled != 0;
    uint8_t dek[32];
    struct vt_buf plain, pdek;
    vt_buf_init(&plain, VT_BROKER_SECRET_MAX);
    vt_buf_init(&pdek, 64);
    char adek[200], asec[200];
    aads(name ? name : "", *version, adek, asec);
    if (err == VT_OK && !*disabled) {
        err = vt_aead_open(b->cfg.master_key, adek, k.dek.data, k.dek.len, &pdek, d);
        if (err == VT_OK && pdek.len != 32) {
            err = vt_fail(d, VT_E_STORAGE, "key", "data key of %s has %zu bytes", name, pdek.len);
        }
        if (err == VT_OK) {
            memcpy(dek, pdek.data, 32);
            err = vt_aead_open(dek, asec, k.secret.data, k.secret.len, &plain, d);
            vt_wipe(dek, sizeof(dek));
        }
        if (err == VT_OK) {
            *len = plain.len;
            *secret = vt_buf_steal(&plain, NULL);
        }
    }
    if (err == VT_OK) {
        *policy_json = k.policy;
        k.policy = NULL;
    }
    free(k.policy);
    vt_buf_cleanup(&plain);
    vt_buf_cleanup(&pdek);
    vt_buf_cleanup(&k.dek);
    vt_buf_cleanup(&k.secret);
    return err;
}

/* ---- master key rotation ---- */

struct rewrap_row {
    char name[VT_BROKER_NAME_MAX];
    int64_t version;
    struct vt_buf sealed;
};

struct rewrap_list {
    struct rewrap_row *rows;
    size_t n, cap;
};

static bool row_rewrap(void *ctx, const struct vt_sql_row *row)
{
    struct rewrap_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        void *p = realloc(l->rows, cap * sizeof(*l->rows));
        if (p == NULL) {
            return false;
        }
        l->rows = p;
        l->cap = cap;
    }
    struct rewrap_row *r = &l->rows[l->n++];
    snprintf(r->name, sizeof(r->name), "%s", vt_row_text(row, 0));
    r->version = vt_row_int(row, 1);
    vt_buf_init(&r->sealed, 4096);
    size_t n;
    const uint8_t *p = vt_row_blob(row, 2, &n);
    return p != NULL && vt_buf_append(&r->sealed, p, n) == VT_OK;
}

enum vt_err vt_broker_rewrap(struct vt_broker *b, const uint8_t new_master[32],
                             const struct vt_sealed_service *const *services, size_t n_services,
                             size_t *n, struct vt_diag *d)
{
    *n = 0;
    struct rewrap_list keys = {0}, signers = {0}, cas = {0};
    VT_TRY(vt_store_begin(b->store, d));
    enum vt_err err = vt_store_exec(b->store, "SELECT name, version, dek FROM vb_key_versions",
                                    NULL, 0, row_rewrap, &keys, NULL, d);
    if (err == VT_OK) {
        err = vt_store_exec(b->store, "SELECT kid, 0, sealed FROM vb_signing_keys", NULL, 0,
                            row_rewrap, &signers, NULL, d);
    }
    if (err == VT_OK) { /* the certificate authority's keys (broker_cert.c) */
        err = vt_store_exec(b->store, "SELECT id, 0, sealed FROM vb_ca", NULL, 0, row_rewrap, &cas,
                            NULL, d);
    }
    struct rewrap_list *lists[3] = {&keys, &signers, &cas};
    static const char *const update[3] = {
        "UPDATE vb_key_versions SET dek = ? WHERE name = ? AND version = ?",
        "UPDATE vb_signing_keys SET sealed = ? WHERE kid = ? AND 0 = ?",
        "UPDATE vb_ca SET sealed = ? WHERE id = ? AND 0 = ?"};
    for (size_t li = 0; li < 3; li++) {
        for (size_t i = 0; err == VT_OK && i < lists[li]->n; i++) {
            struct rewrap_row *r = &lists[li]->rows[i];
            char aad[200], unused[200];
            if (li == 0) {
                aads(r->name, (uint32_t)r->version, aad, unused);
            } else if (li == 1) {
                snprintf(aad, sizeof(aad), "veritee signing key %s", r->name);
            } else {
                snprintf(aad, sizeof(aad), "veritee broker ca key %s", r->name);
            }
            struct vt_buf plain, again;
            vt_buf_init(&plain, 4096);
            vt_buf_init(&again, 4200);
            err = vt_aead_open(b->cfg.master_key, aad, r->sealed.data, r->sealed.len, &plain, d);
            if (err == VT_OK) {
                err = vt_aead_seal(new_master, aad, plain.data, plain.len, &again, d);
            }
            if (err == VT_OK) {
                struct vt_sql_arg a[] = {VT_SQL_B(again.data, again.len), VT_SQL_T(r->name),
                                         VT_SQL_I(r->version)};
                err = vt_store_exec(b->store, update[li], a, 3, NULL, NULL, NULL, d);
                (*n)++;
            }
            vt_buf_cleanup(&plain);
            vt_buf_cleanup(&again);
        }
    }
    /* the services' sealed values (the KMS service's key material, Key Vault's keys, the MAA
     * drop-in's signing key, the cache's bundle-signing key in veritee serve's database), each
     * only if the database has them */
    for (size_t i = 0; err == VT_OK && i < n_services; i++) {
        err = services[i]->rewrap(b->store, b->cfg.master_key, new_master, n, d);
    }
    /* the master-key check value, too */
    if (err == VT_OK) {
        struct vt_buf chk;
        vt_buf_init(&chk, 256);
        err = vt_aead_seal(new_master, "veritee master check", (const uint8_t *)"veritee", 7, &chk,
                           d);
        char hex[256];
        if (err == VT_OK) {
            vt_hex_encode(chk.data, chk.len, hex);
            struct vt_sql_arg a[] = {VT_SQL_T(hex), VT_SQL_T("broker_master_check")};
            err = vt_store_exec(b->store, "UPDATE vt_meta SET value = ? WHERE name = ?", a, 2, NULL,
                                NULL, NULL, d);
        }
        vt_buf_cleanup(&chk);
    }
    /* and the id that names the key in errors (store/master_key.h) */
    if (err == VT_OK) {
        err = vt_master_key_id_record(b->store, new_master, d);
    }
    if (err == VT_OK) {
        err = vt_store_commit(b->store, d);
    } else {
        vt_store_rollback(b->store);
    }
    for (size_t li = 0; li < 3; li++) {
        for (size_t i = 0; i < lists[li]->n; i++) {
            vt_buf_cleanup(&lists[li]->rows[i].sealed);
        }
        free(lists[li]->rows);
    }
    if (err == VT_OK) {
        memcpy(b->cfg.master_key, new_master, 32);
    }
    return err;
}

/* ---- the check of a restored database ---- */

struct keys_check {
    const uint8_t *master;
    size_t versions;
    enum vt_err err;
    struct vt_diag *d;
};

static bool row_key_check(void *ctx, const struct vt_sql_row *row)
{
    struct keys_check *c = ctx;
    const char *name = vt_row_text(row, 0);
    uint32_t version = (uint32_t)vt_row_int(row, 1);
    size_t ndek = 0, nsec = 0;
    const uint8_t *sdek = vt_row_blob(row, 2, &ndek), *ssec = vt_row_blob(row, 3, &nsec);
    char adek[200], asec[200];
    aads(name, version, adek, asec);
    struct vt_buf dek, plain;
    vt_buf_init(&dek, 64);
    vt_buf_init(&plain, VT_BROKER_SECRET_MAX);
    struct vt_diag ignored;
    vt_diag_init(&ignored);
    if (sdek == NULL || vt_aead_open(c->master, adek, sdek, ndek, &dek, &ignored) != VT_OK ||
        dek.len != 32) {
        c->err = vt_fail(c->d, VT_E_INTEGRITY, "key.dek",
                         "key %.100s version %" PRIu32 ": its data key does not open under the "
                         "master key (altered, or sealed under another master key)",
                         name, version);
    } else if (ssec == NULL ||
               vt_aead_open(dek.data, asec, ssec, nsec, &plain, &ignored) != VT_OK) {
        c->err = vt_fail(c->d, VT_E_INTEGRITY, "key.secret",
                         "key %.100s version %" PRIu32 ": its secret does not open under its "
                         "data key (altered)",
                         name, version);
    } else {
        c->versions++;
    }
    vt_buf_cleanup(&dek);
    vt_buf_cleanup(&plain);
    return c->err == VT_OK;
}

enum vt_err vt_broker_keys_check(struct vt_broker *b,
                                 const struct vt_sealed_service *const *services, size_t n,
                                 size_t *versions, struct vt_diag *d)
{
    struct keys_check c = {.master = b->cfg.master_key, .err = VT_OK, .d = d};
    enum vt_err err = vt_store_exec(
        b->store, "SELECT name, version, dek, secret FROM vb_key_versions ORDER BY name, version",
        NULL, 0, row_key_check, &c, NULL, d);
    *versions = c.versions;
    /* and the services' sealed values, if the database has them */
    for (size_t i = 0; err == VT_OK && c.err == VT_OK && i < n; i++) {
        if (services[i]->check != NULL) {
            err = services[i]->check(b->store, b->cfg.master_key, versions, d);
        }
    }
    return err != VT_OK ? err : c.err;
}
