/*
 * The KMS service's tables (the "kms" component of store/migrations.c): keys, their versions'
 * material sealed under the master key, key policies, aliases and SigV4 access keys whose secrets
 * are sealed under the master key too (SigV4 needs the secret itself, so it cannot be hashed).
 * Sealed values name their row in the associated data (vt_aead_seal), so a sealed value moved to
 * another row does not open. Key material is wiped after use and never leaves this file but to
 * the caller that encrypts or decrypts with it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto/aead.h"
#include "kms/kms.h"

#define POLICY_NAME "default"

static void material_aad(const char *key_id, uint32_t version, char aad[128])
{
    snprintf(aad, 128, "veritee kms key %s v%" PRIu32, key_id, version);
}

static void secret_aad(const char *id, char aad[96])
{
    snprintf(aad, 96, "veritee kms access key %s", id);
}

void vt_kms_key_cleanup(struct vt_kms_key *key)
{
    if (key != NULL) {
        free(key->description);
        key->description = NULL;
    }
}

/* ---- keys ---- */

#define KEY_COLUMNS                                                                                \
    "key_id, arn, account, description, key_state, key_spec, key_usage, created, deletion_date,"   \
    " pending_window, current_version, rotation_enabled, rotation_period, next_rotation,"          \
    " (SELECT COUNT(*) FROM vk_key_versions v WHERE v.key_id = vk_keys.key_id AND v.on_demand = "  \
    "1)"

struct key_row {
    struct vt_kms_key *key;
    bool found;
};

static bool row_key(void *ctx, const struct vt_sql_row *row)
{
    struct key_row *r = ctx;
    struct vt_kms_key *k = r->key;
    snprintf(k->key_id, sizeof(k->key_id), "%s", vt_row_text(row, 0));
    snprintf(k->arn, sizeof(k->arn), "%s", vt_row_text(row, 1));
    snprintf(k->account, sizeof(k->account), "%s", vt_row_text(row, 2));
    free(k->description);
    k->description = strdup(vt_row_text(row, 3));
    snprintf(k->state, sizeof(k->state), "%s", vt_row_text(row, 4));
    snprintf(k->key_spec, sizeof(k->key_spec), "%s", vt_row_text(row, 5));
    snprintf(k->key_usage, sizeof(k->key_usage), "%s", vt_row_text(row, 6));
    k->created = vt_row_int(row, 7);
    k->deletion_date = vt_row_int(row, 8);
    k->pending_window = vt_row_int(row, 9);
    k->version = (uint32_t)vt_row_int(row, 10);
    k->rotation_enabled = vt_row_int(row, 11) != 0;
    k->rotation_period = vt_row_int(row, 12);
    k->next_rotation = vt_row_int(row, 13);
    k->on_demand = vt_row_int(row, 14);
    r->found = k->description != NULL;
    return false;
}

enum vt_err vt_kms_key_get(struct vt_kms *k, const char *key_id, struct vt_kms_key *key,
                           bool *found, struct vt_diag *d)
{
    struct key_row r = {key, false};
    struct vt_sql_arg a[] = {VT_SQL_T(key_id), VT_SQL_I(vt_kms_now(k))};
    /* a key whose deletion date has passed is gone, whether or not it was purged yet */
    VT_TRY(vt_store_read(k->b->store,
                         "SELECT " KEY_COLUMNS " FROM vk_keys WHERE key_id = ? AND"
                         " (key_state <> 'PendingDeletion' OR deletion_date > ?)",
                         a, 2, row_key, &r, d));
    *found = r.found;
    return VT_OK;
}

static bool row_text_copy(void *ctx, const struct vt_sql_row *row)
{
    char *out = ctx;
    snprintf(out, VT_KMS_UUID_LEN + 1, "%s", vt_row_text(row, 0));
    return false;
}

enum vt_err vt_kms_alias_target(struct vt_kms *k, const char *alias,
                                char key_id[VT_KMS_UUID_LEN + 1], bool *found, struct vt_diag *d)
{
    key_id[0] = '\0';
    struct vt_sql_arg a[] = {VT_SQL_T(alias)};
    VT_TRY(vt_store_read(k->b->store, "SELECT key_id FROM vk_aliases WHERE name = ?", a, 1,
                         row_text_copy, key_id, d));
    *found = key_id[0] != '\0';
    return VT_OK;
}

/* Seal a version's material and insert its row (in the caller's transaction). */
static enum vt_err version_insert(struct vt_kms *k, const char *key_id, uint32_t version,
                                  bool on_demand, struct vt_diag *d)
{
    uint8_t material[32];
    char aad[128];
    material_aad(key_id, version, aad);
    struct vt_buf sealed;
    vt_buf_init(&sealed, 256);
    enum vt_err err = vt_random_bytes(material, sizeof(material), d);
    if (err == VT_OK) {
        err = vt_aead_seal(k->b->cfg.master_key, aad, material, sizeof(material), &sealed, d);
    }
    vt_wipe(material, sizeof(material));
    if (err == VT_OK) {
        struct vt_sql_arg a[] = {VT_SQL_T(key_id), VT_SQL_I(version),
                                 VT_SQL_B(sealed.data, sealed.len), VT_SQL_I(vt_kms_now(k)),
                                 VT_SQL_I(on_demand ? 1 : 0)};
        err = vt_store_exec(k->b->store,
                            "INSERT INTO vk_key_versions(key_id, version, material, created,"
                            " on_demand) VALUES (?,?,?,?,?)",
                            a, 5, NULL, NULL, NULL, d);
    }
    vt_buf_cleanup(&sealed);
    return err;
}

static enum vt_err tx_end(struct vt_store *s, enum vt_err err, struct vt_diag *d)
{
    if (err == VT_OK) {
        return vt_store_commit(s, d);
    }
    vt_store_rollback(s);
    return err;
}

enum vt_err vt_kms_key_create(struct vt_kms *k, struct vt_kms_key *key, const char *policy,
                              struct vt_diag *d)
{
    if (key->key_id[0] == '\0') {
        VT_TRY(vt_kms_uuid_new(key->key_id, d));
    }
    snprintf(key->arn, sizeof(key->arn), "arn:aws:kms:%s:%s:key/%s", k->region, k->account,
             key->key_id);
    snprintf(key->account, sizeof(key->account), "%s", k->account);
    snprintf(key->state, sizeof(key->state), "Enabled");
    key->created = vt_kms_now(k);
    key->version = 1;
    struct vt_store *s = k->b->store;
    VT_TRY(vt_store_begin(s, d));
    struct vt_sql_arg a[] = {VT_SQL_T(key->key_id),
                             VT_SQL_T(key->arn),
                             VT_SQL_T(key->account),
                             VT_SQL_T(key->description ? key->description : ""),
                             VT_SQL_T(key->state),
                             VT_SQL_T(key->key_spec),
                             VT_SQL_T(key->key_usage),
                             VT_SQL_I(key->created),
                             VT_SQL_I(0),
                             VT_SQL_I(0),
                             VT_SQL_I(1),
                             VT_SQL_I(key->rotation_enabled ? 1 : 0),
                             VT_SQL_I(key->rotation_period),
                             VT_SQL_I(key->next_rotation),
                             VT_SQL_I(key->created)};
    enum vt_err err = vt_store_exec(
        s,
        "INSERT INTO vk_keys(key_id, arn, account, description, key_state, key_spec, key_usage,"
        " created, deletion_date, pending_window, current_version, rotation_enabled,"
        " rotation_period, next_rotation, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        a, 15, NULL, NULL, NULL, d);
    if (err == VT_OK) {
        err = version_insert(k, key->key_id, 1, false, d);
    }
    if (err == VT_OK) {
        struct vt_sql_arg p[] = {VT_SQL_T(key->key_id), VT_SQL_T(POLICY_NAME), VT_SQL_T(policy),
                                 VT_SQL_I(key->created)};
        err = vt_store_exec(s,
                            "INSERT INTO vk_key_policies(key_id, name, policy, updated)"
                            " VALUES (?,?,?,?)",
                            p, 4, NULL, NULL, NULL, d);
    }
    return tx_end(s, err, d);
}

struct blob_row {
    struct vt_buf *buf;
    bool found;
};

static bool row_blob(void *ctx, const struct vt_sql_row *row)
{
    struct blob_row *r = ctx;
    size_t n = 0;
    const uint8_t *p = vt_row_blob(row, 0, &n);
    r->found = p != NULL && vt_buf_append(r->buf, p, n) == VT_OK;
    return false;
}

enum vt_err vt_kms_material(struct vt_kms *k, const char *key_id, uint32_t version,
                            uint8_t material[32], struct vt_diag *d)
{
    struct vt_buf sealed, plain;
    vt_buf_init(&sealed, 256);
    vt_buf_init(&plain, 64);
    struct blob_row r = {&sealed, false};
    struct vt_sql_arg a[] = {VT_SQL_T(key_id), VT_SQL_I(version)};
    enum vt_err err = vt_store_read(k->b->store,
                                    "SELECT material FROM vk_key_versions WHERE key_id = ? AND"
                                    " version = ?",
                                    a, 2, row_blob, &r, d);
    if (err == VT_OK && !r.found) {
        err = vt_fail(d, VT_E_NOT_FOUND, "kms.version", "key %s has no version %" PRIu32, key_id,
                      version);
    }
    char aad[128];
    material_aad(key_id, version, aad);
    struct vt_diag ignored;
    vt_diag_init(&ignored);
    if (err == VT_OK && (vt_aead_open(k->b->cfg.master_key, aad, sealed.data, sealed.len, &plain,
                                      &ignored) != VT_OK ||
                         plain.len != 32)) {
        err = vt_fail(d, VT_E_INTEGRITY, "kms.material",
                      "key %s version %" PRIu32 ": its material does not open under the master "
                      "key",
                      key_id, version);
    }
    if (err == VT_OK) {
        memcpy(material, plain.data, 32);
    }
    vt_buf_cleanup(&sealed);
    vt_buf_cleanup(&plain);
    return err;
}

enum vt_err vt_kms_key_rotate(struct vt_kms *k, const char *key_id, bool on_demand,
                              int64_t next_rotation, uint32_t *version, struct vt_diag *d)
{
    struct vt_store *s = k->b->store;
    VT_TRY(vt_store_begin(s, d));
    int64_t cur = 0;
    struct vt_sql_arg a[] = {VT_SQL_T(key_id)};
    enum vt_err err = vt_store_exec(s, "SELECT current_version FROM vk_keys WHERE key_id = ?", a, 1,
                                    vt_store_row_int, &cur, NULL, d);
    if (err == VT_OK && cur < 1) {
        err = vt_fail(d, VT_E_NOT_FOUND, "kms.key", "no key %s", key_id);
    }
    if (err == VT_OK) {
        *version = (uint32_t)cur + 1;
        err = version_insert(k, key_id, *version, on_demand, d);
    }
    if (err == VT_OK) {
        struct vt_sql_arg u[] = {VT_SQL_I(*version),      VT_SQL_I(next_rotation),
                                 VT_SQL_I(next_rotation), VT_SQL_I(vt_kms_now(k)),
                                 VT_SQL_T(key_id),        VT_SQL_I(cur)};
        int64_t changes = 0;
        err = vt_store_exec(s,
                            "UPDATE vk_keys SET current_version = ?, next_rotation ="
                            " CASE WHEN ? > 0 THEN ? ELSE next_rotation END, updated = ?"
                            " WHERE key_id = ? AND current_version = ?",
                            u, 6, NULL, NULL, &changes, d);
        if (err == VT_OK && changes != 1) {
            err = vt_fail(d, VT_E_STORAGE, "kms.rotate", "key %s was rotated meanwhile", key_id);
        }
    }
    return tx_end(s, err, d);
}

static enum vt_err update_one(struct vt_kms *k, const char *sql, const struct vt_sql_arg *a,
                              size_t n, const char *key_id, struct vt_diag *d)
{
    int64_t changes = 0;
    VT_TRY(vt_store_exec(k->b->store, sql, a, n, NULL, NULL, &changes, d));
    VT_ENSURE(changes == 1, d, VT_E_NOT_FOUND, "kms.key", "no key %s", key_id);
    return VT_OK;
}

enum vt_err vt_kms_key_set_state(struct vt_kms *k, const char *key_id, const char *state,
                                 int64_t deletion_date, int64_t pending_window, struct vt_diag *d)
{
    struct vt_sql_arg a[] = {VT_SQL_T(state), VT_SQL_I(deletion_date), VT_SQL_I(pending_window),
                             VT_SQL_I(vt_kms_now(k)), VT_SQL_T(key_id)};
    return update_one(k,
                      "UPDATE vk_keys SET key_state = ?, deletion_date = ?, pending_window = ?,"
                      " updated = ? WHERE key_id = ?",
                      a, 5, key_id, d);
}

enum vt_err vt_kms_key_set_rotation(struct vt_kms *k, const char *key_id, bool enabled,
                                    int64_t period, int64_t next, struct vt_diag *d)
{
    struct vt_sql_arg a[] = {VT_SQL_I(enabled ? 1 : 0), VT_SQL_I(period), VT_SQL_I(next),
                             VT_SQL_I(vt_kms_now(k)), VT_SQL_T(key_id)};
    return update_one(k,
                      "UPDATE vk_keys SET rotation_enabled = ?, rotation_period = ?,"
                      " next_rotation = ?, updated = ? WHERE key_id = ?",
                      a, 5, key_id, d);
}

enum vt_err vt_kms_key_set_description(struct vt_kms *k, const char *key_id,
                                       const char *description, struct vt_diag *d)
{
    struct vt_sql_arg a[] = {VT_SQL_T(description), VT_SQL_I(vt_kms_now(k)), VT_SQL_T(key_id)};
    return update_one(k, "UPDATE vk_keys SET description = ?, updated = ? WHERE key_id = ?", a, 3,
                      key_id, d);
}

static bool row_strdup(void *ctx, const struct vt_sql_row *row)
{
    *(char **)ctx = strdup(vt_row_text(row, 0));
    return false;
}

enum vt_err vt_kms_policy_get(struct vt_kms *k, const char *key_id, char **policy,
                              struct vt_diag *d)
{
    *policy = NULL;
    struct vt_sql_arg a[] = {VT_SQL_T(key_id), VT_SQL_T(POLICY_NAME)};
    VT_TRY(vt_store_read(k->b->store,
                         "SELECT policy FROM vk_key_policies WHERE key_id = ? AND name = ?", a, 2,
                         row_strdup, policy, d));
    VT_ENSURE(*policy != NULL, d, VT_E_NOT_FOUND, "kms.policy", "key %s has no key policy", key_id);
    return VT_OK;
}

enum vt_err vt_kms_policy_put(struct vt_kms *k, const char *key_id, const char *policy,
                              struct vt_diag *d)
{
    struct vt_sql_arg a[] = {VT_SQL_T(policy), VT_SQL_I(vt_kms_now(k)), VT_SQL_T(key_id),
                             VT_SQL_T(POLICY_NAME)};
    int64_t changes = 0;
    VT_TRY(vt_store_exec(k->b->store,
                         "UPDATE vk_key_policies SET policy = ?, updated = ? WHERE key_id = ?"
                         " AND name = ?",
                         a, 4, NULL, NULL, &changes, d));
    VT_ENSURE(changes == 1, d, VT_E_NOT_FOUND, "kms.policy", "key %s has no key policy", key_id);
    return VT_OK;
}

enum vt_err vt_kms_keys_list(struct vt_kms *k, const char *after, int64_t limit, vt_row_fn fn,
                             void *ctx, struct vt_diag *d)
{
    struct vt_sql_arg a[] = {VT_SQL_T(after), VT_SQL_I(vt_kms_now(k)), VT_SQL_I(limit)};
    return vt_store_read(k->b->store,
                         "SELECT key_id, arn FROM vk_keys WHERE key_id > ? AND"
                         " (key_state <> 'PendingDeletion' OR deletion_date > ?)"
                         " ORDER BY key_id LIMIT ?",
                         a, 3, fn, ctx, d);
}

/* ---- aliases ---- */

enum vt_err vt_kms_alias_create(struct vt_kms *k, const char *alias, const char *key_id,
                                struct vt_diag *d)
{
    vt_time now = vt_kms_now(k);
    struct vt_sql_arg a[] = {VT_SQL_T(alias), VT_SQL_T(key_id), VT_SQL_I(now), VT_SQL_I(now)};
    int64_t changes = 0;
    VT_TRY(vt_store_exec(k->b->store,
                         "INSERT INTO vk_aliases(name, key_id, created, updated) VALUES (?,?,?,?)"
                         " ON CONFLICT (name) DO NOTHING",
                         a, 4, NULL, NULL, &changes, d));
    VT_ENSURE(changes == 1, d, VT_E_DUPLICATE, "kms.alias", "the alias %s exists", alias);
    return VT_OK;
}

enum vt_err vt_kms_alias_update(struct vt_kms *k, const char *alias, const char *key_id,
                                struct vt_diag *d)
{
    struct vt_sql_arg a[] = {VT_SQL_T(key_id), VT_SQL_I(vt_kms_now(k)), VT_SQL_T(alias)};
    int64_t changes = 0;
    VT_TRY(vt_store_exec(k->b->store,
                         "UPDATE vk_aliases SET key_id = ?, updated = ? WHERE name = ?", a, 3, NULL,
                         NULL, &changes, d));
    VT_ENSURE(changes == 1, d, VT_E_NOT_FOUND, "kms.alias", "no alias %s", alias);
    return VT_OK;
}

enum vt_err vt_kms_alias_delete(struct vt_kms *k, const char *alias, struct vt_diag *d)
{
    struct vt_sql_arg a[] = {VT_SQL_T(alias)};
    int64_t changes = 0;
    VT_TRY(vt_store_exec(k->b->store, "DELETE FROM vk_aliases WHERE name = ?", a, 1, NULL, NULL,
                         &changes, d));
    VT_ENSURE(changes == 1, d, VT_E_NOT_FOUND, "kms.alias", "no alias %s", alias);
    return VT_OK;
}

enum vt_err vt_kms_aliases_list(struct vt_kms *k, const char *key_id, const char *after,
                                int64_t limit, vt_row_fn fn, void *ctx, struct vt_diag *d)
{
    if (key_id != NULL) {
        struct vt_sql_arg a[] = {VT_SQL_T(after), VT_SQL_T(key_id), VT_SQL_I(limit)};
        return vt_store_read(k->b->store,
                             "SELECT name, key_id, created, updated FROM vk_aliases WHERE name > ?"
                             " AND key_id = ? ORDER BY name LIMIT ?",
                             a, 3, fn, ctx, d);
    }
    struct vt_sql_arg a[] = {VT_SQL_T(after), VT_SQL_I(limit)};
    return vt_store_read(k->b->store,
                         "SELECT name, key_id, created, updated FROM vk_aliases WHERE name > ?"
                         " ORDER BY name LIMIT ?",
                         a, 2, fn, ctx, d);
}

/* ---- deletion ---- */

struct id_list {
    char (*ids)[VT_KMS_UUID_LEN + 1];
    char (*arns)[VT_KMS_ARN_MAX];
    size_t n, cap;
};

static bool row_id(void *ctx, const struct vt_sql_row *row)
{
    struct id_list *l = ctx;
    if (l->n == l->cap) {
        return false; /* the rest at the next purge */
    }
    snprintf(l->ids[l->n], sizeof(l->ids[0]), "%s", vt_row_text(row, 0));
    snprintf(l->arns[l->n], sizeof(l->arns[0]), "%s", vt_row_text(row, 1));
    l->n++;
    return true;
}

#define PURGE_BATCH 64
#define PURGE_INTERVAL 60

void vt_kms_purge(struct vt_kms *k, bool force)
{
    vt_time now = vt_kms_now(k);
    int_fast64_t last = atomic_load(&k->purged_at);
    if (!force && last != 0 && now - last < PURGE_INTERVAL) {
        return;
    }
    if (!atomic_compare_exchange_strong(&k->purged_at, &last, now)) {
        return; /* another thread purges */
    }
    char ids[PURGE_BATCH][VT_KMS_UUID_LEN + 1], arns[PURGE_BATCH][VT_KMS_ARN_MAX];
    struct id_list l = {ids, arns, 0, PURGE_BATCH};
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_sql_arg a[] = {VT_SQL_I(now)};
    if (vt_store_read(k->b->store,
                      "SELECT key_id, arn FROM vk_keys WHERE key_state = 'PendingDeletion' AND"
                      " deletion_date <= ? ORDER BY key_id",
                      a, 1, row_id, &l, &d) != VT_OK) {
        fprintf(stderr, "veritee-kms: cannot list the keys to delete: %s\n", d.detail);
        return;
    }
    static const char *const deletes[] = {"DELETE FROM vk_key_versions WHERE key_id = ?",
                                          "DELETE FROM vk_key_policies WHERE key_id = ?",
                                          "DELETE FROM vk_aliases WHERE key_id = ?",
                                          "DELETE FROM vk_keys WHERE key_id = ?"};
    for (size_t i = 0; i < l.n; i++) {
        enum vt_err err = vt_store_begin(k->b->store, &d);
        struct vt_sql_arg id[] = {VT_SQL_T(ids[i])};
        for (size_t j = 0; err == VT_OK && j < sizeof(deletes) / sizeof(deletes[0]); j++) {
            err = vt_store_exec(k->b->store, deletes[j], id, 1, NULL, NULL, NULL, &d);
        }
        if (err == VT_OK) {
            err = tx_end(k->b->store, err, &d);
        } else {
            vt_store_rollback(k->b->store);
        }
        if (err != VT_OK) {
            fprintf(stderr, "veritee-kms: cannot delete key %s: %s\n", ids[i], d.detail);
            continue;
        }
        /* the deletion is a call of its own in the log, as KMS records DeleteKey */
        struct vt_kms_caller service = {.principal = "veritee", .account = ""};
        snprintf(service.account, sizeof(service.account), "%s", k->account);
        struct vt_kms_audit au = {.op = VT_KMS_OP_COUNT,
                                  .event = "DeleteKey",
                                  .caller = &service,
                                  .request_id = "",
                                  .key_arn = arns[i],
                                  .allowed = true};
        uint64_t idx;
        if (vt_kms_audit_append(k, &au, false, &idx, NULL, NULL, &d) != VT_OK) {
            fprintf(stderr, "veritee-kms: cannot log the deletion of key %s: %s\n", ids[i],
                    d.detail);
        }
    }
}

/* ---- access keys ---- */

static const char base32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

enum vt_err vt_kms_access_key_create(struct vt_kms *k, const char *principal, bool admin,
                                     struct vt_kms_access_key *out,
                                     char secret[VT_KMS_SECRET_LEN + 1], struct vt_diag *d)
{
    memset(out, 0, sizeof(*out));
    VT_ENSURE(principal != NULL && strlen(principal) < sizeof(out->principal) &&
                  vt_kms_principal_account(principal, out->account),
              d, VT_E_ARG, "kms.principal",
              "the principal \"%.200s\" is not an ARN arn:PARTITION:SERVICE:REGION:ACCOUNT:"
              "RESOURCE with a 12-digit account (e.g. arn:aws:iam::111122223333:role/enclave)",
              principal ? principal : "");
    uint8_t raw[10 + 30];
    VT_TRY(vt_random_bytes(raw, sizeof(raw), d));
    /* "AKIA" and 16 base32 characters (80 bits), as AWS access key ids look */
    memcpy(out->id, "AKIA", 4);
    for (size_t i = 0; i < 16; i++) {
        size_t bit = i * 5;
        unsigned v = (unsigned)(raw[bit / 8] << 8 | (bit / 8 + 1 < 10 ? raw[bit / 8 + 1] : 0));
        out->id[4 + i] = base32[(v >> (11 - bit % 8)) & 31];
    }
    out->id[VT_KMS_ACCESS_KEY_ID_LEN] = '\0';
    /* 40 characters of base64 (240 bits), as AWS secret access keys look */
    enum vt_err err = vt_base64_encode(raw + 10, 30, false, secret, VT_KMS_SECRET_LEN + 1);
    vt_wipe(raw, sizeof(raw));
    VT_ENSURE(err == VT_OK, d, VT_E_INTERNAL, "kms.secret", "cannot encode the secret");
    snprintf(out->principal, sizeof(out->principal), "%s", principal);
    out->admin = admin;
    out->created = vt_kms_now(k);
    char aad[96];
    secret_aad(out->id, aad);
    struct vt_buf sealed;
    vt_buf_init(&sealed, 256);
    err = vt_aead_seal(k->b->cfg.master_key, aad, (const uint8_t *)secret, VT_KMS_SECRET_LEN,
                       &sealed, d);
    if (err == VT_OK) {
        struct vt_sql_arg a[] = {VT_SQL_T(out->id),        VT_SQL_B(sealed.data, sealed.len),
                                 VT_SQL_T(out->principal), VT_SQL_T(out->account),
                                 VT_SQL_I(admin ? 1 : 0),  VT_SQL_I(out->created)};
        err = vt_store_exec(k->b->store,
                            "INSERT INTO vk_access_keys(id, secret, principal, account, admin,"
                            " created, disabled) VALUES (?,?,?,?,?,?,0)",
                            a, 6, NULL, NULL, NULL, d);
    }
    vt_buf_cleanup(&sealed);
    if (err != VT_OK) {
        vt_wipe(secret, VT_KMS_SECRET_LEN + 1);
    }
    return err;
}

struct access_row {
    struct vt_kms_access_key *key;
    struct vt_buf *sealed;
    bool found;
};

static bool row_access(void *ctx, const struct vt_sql_row *row)
{
    struct access_row *r = ctx;
    size_t n = 0;
    const uint8_t *p = vt_row_blob(row, 0, &n);
    snprintf(r->key->principal, sizeof(r->key->principal), "%s", vt_row_text(row, 1));
    snprintf(r->key->account, sizeof(r->key->account), "%s", vt_row_text(row, 2));
    r->key->admin = vt_row_int(row, 3) != 0;
    r->key->created = vt_row_int(row, 4);
    r->key->disabled = vt_row_int(row, 5) != 0;
    r->found = p != NULL && vt_buf_append(r->sealed, p, n) == VT_OK;
    return false;
}

enum vt_err vt_kms_access_key_get(struct vt_kms *k, const char *id, struct vt_kms_access_key *out,
                                  char secret[VT_SIGV4_SECRET_MAX], bool *found, struct vt_diag *d)
{
    memset(out, 0, sizeof(*out));
    secret[0] = '\0';
    *found = false;
    if (id == NULL || strlen(id) != VT_KMS_ACCESS_KEY_ID_LEN) {
        return VT_OK;
    }
    snprintf(out->id, sizeof(out->id), "%s", id);
    struct vt_buf sealed, plain;
    vt_buf_init(&sealed, 256);
    vt_buf_init(&plain, VT_SIGV4_SECRET_MAX);
    struct access_row r = {out, &sealed, false};
    struct vt_sql_arg a[] = {VT_SQL_T(id)};
    enum vt_err err = vt_store_read(k->b->store,
                                    "SELECT secret, principal, account, admin, created, disabled"
                                    " FROM vk_access_keys WHERE id = ?",
                                    a, 1, row_access, &r, d);
    char aad[96];
    secret_aad(id, aad);
    struct vt_diag ignored;
    vt_diag_init(&ignored);
    if (err == VT_OK && r.found &&
        (vt_aead_open(k->b->cfg.master_key, aad, sealed.data, sealed.len, &plain, &ignored) !=
             VT_OK ||
         plain.len >= VT_SIGV4_SECRET_MAX)) {
        err = vt_fail(d, VT_E_INTEGRITY, "kms.access_key",
                      "the secret of access key %s does not open under the master key", id);
    }
    if (err == VT_OK && r.found) {
        memcpy(secret, plain.data, plain.len);
        secret[plain.len] = '\0';
        *found = true;
    }
    vt_buf_cleanup(&sealed);
    vt_buf_cleanup(&plain);
    return err;
}

enum vt_err vt_kms_access_key_disable(struct vt_kms *k, const char *id, struct vt_diag *d)
{
    struct vt_sql_arg a[] = {VT_SQL_I(vt_kms_now(k)), VT_SQL_T(id ? id : "")};
    int64_t changes = 0;
    VT_TRY(vt_store_exec(k->b->store, "UPDATE vk_access_keys SET disabled = ? WHERE id = ?", a, 2,
                         NULL, NULL, &changes, d));
    VT_ENSURE(changes == 1, d, VT_E_NOT_FOUND, "kms.access_key", "no access key %.40s",
              id ? id : "");
    return VT_OK;
}

static bool row_access_json(void *ctx, const struct vt_sql_row *row)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:I,s:b}", "access_key_id", vt_row_text(row, 0),
                          "principal", vt_row_text(row, 1), "account", vt_row_text(row, 2), "admin",
                          vt_row_int(row, 3) != 0, "created", (json_int_t)vt_row_int(row, 4),
                          "disabled", vt_row_int(row, 5) != 0);
    return o != NULL && json_array_append_new(ctx, o) == 0;
}

enum vt_err vt_kms_access_keys_json(struct vt_kms *k, char **json, struct vt_diag *d)
{
    *json = NULL;
    json_t *arr = json_array();
    VT_ENSURE(arr != NULL, d, VT_E_NOMEM, "kms", "no memory");
    enum vt_err err = vt_store_read(k->b->store,
                                    "SELECT id, principal, account, admin, created, disabled FROM"
                                    " vk_access_keys ORDER BY created, id",
                                    NULL, 0, row_access_json, arr, d);
    if (err == VT_OK && (*json = json_dumps(arr, JSON_COMPACT)) == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "kms", "no memory");
    }
    json_decref(arr);
    return err;
}

/* ---- master-key operations ---- */

static enum vt_err kms_present(struct vt_store *s, bool *present, struct vt_diag *d)
{
    const struct vt_schema_component *c[] = {&vt_schema_kms};
    struct vt_schema_state st;
    VT_TRY(vt_schema_inspect(s, c, 1, &st, d));
    *present = st.version > 0;
    return VT_OK;
}

struct sealed_row {
    char id[VT_KMS_ACCESS_KEY_ID_LEN + VT_KMS_UUID_LEN + 1];
    int64_t version; /* -1: an access key */
    struct vt_buf sealed;
};

struct sealed_list {
    struct sealed_row *rows;
    size_t n, cap;
};

static bool row_sealed(void *ctx, const struct vt_sql_row *row)
{
    struct sealed_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        void *p = realloc(l->rows, cap * sizeof(*l->rows));
        if (p == NULL) {
            return false;
        }
        l->rows = p;
        l->cap = cap;
    }
    struct sealed_row *r = &l->rows[l->n];
    snprintf(r->id, sizeof(r->id), "%s", vt_row_text(row, 0));
    r->version = vt_row_int(row, 1);
    vt_buf_init(&r->sealed, 256);
    size_t n = 0;
    const uint8_t *p = vt_row_blob(row, 2, &n);
    l->n++;
    return p != NULL && vt_buf_append(&r->sealed, p, n) == VT_OK;
}

static void sealed_free(struct sealed_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        vt_buf_cleanup(&l->rows[i].sealed);
    }
    free(l->rows);
}

/* Every sealed value of the KMS tables: key versions (version >= 1), access keys (version -1). */
static enum vt_err sealed_rows(struct vt_store *s, struct sealed_list *l, struct vt_diag *d)
{
    VT_TRY(vt_store_exec(s,
                         "SELECT key_id, version, material FROM vk_key_versions ORDER BY key_id,"
                         " version",
                         NULL, 0, row_sealed, l, NULL, d));
    return vt_store_exec(s, "SELECT id, -1, secret FROM vk_access_keys ORDER BY id", NULL, 0,
                         row_sealed, l, NULL, d);
}

static void row_aad(const struct sealed_row *r, char aad[128])
{
    if (r->version < 0) {
        secret_aad(r->id, aad);
    } else {
        material_aad(r->id, (uint32_t)r->version, aad);
    }
}

enum vt_err vt_kms_store_rewrap(struct vt_store *s, const uint8_t master[32],
                                const uint8_t new_master[32], size_t *n, struct vt_diag *d)
{
    bool present = false;
    VT_TRY(kms_present(s, &present, d));
    if (!present) {
        return VT_OK;
    }
    struct sealed_list l = {0};
    enum vt_err err = sealed_rows(s, &l, d);
    for (size_t i = 0; err == VT_OK && i < l.n; i++) {
        struct sealed_row *r = &l.rows[i];
        char aad[128];
        row_aad(r, aad);
        struct vt_buf plain, again;
        vt_buf_init(&plain, 256);
        vt_buf_init(&again, 256);
        err = vt_aead_open(master, aad, r->sealed.data, r->sealed.len, &plain, d);
        if (err == VT_OK) {
            err = vt_aead_seal(new_master, aad, plain.data, plain.len, &again, d);
        }
        if (err == VT_OK) {
            struct vt_sql_arg a[] = {VT_SQL_B(again.data, again.len), VT_SQL_T(r->id),
                                     VT_SQL_I(r->version)};
            err = vt_store_exec(s,
                                r->version < 0
                                    ? "UPDATE vk_access_keys SET secret = ? WHERE id = ? AND -1 = ?"
                                    : "UPDATE vk_key_versions SET material = ? WHERE key_id = ?"
                                      " AND version = ?",
                                a, 3, NULL, NULL, NULL, d);
            (*n)++;
        }
        vt_buf_cleanup(&plain);
        vt_buf_cleanup(&again);
    }
    sealed_free(&l);
    return err;
}

enum vt_err vt_kms_store_check(struct vt_store *s, const uint8_t master[32], size_t *n,
                               struct vt_diag *d)
{
    bool present = false;
    VT_TRY(kms_present(s, &present, d));
    if (!present) {
        return VT_OK;
    }
    struct sealed_list l = {0};
    enum vt_err err = sealed_rows(s, &l, d);
    for (size_t i = 0; err == VT_OK && i < l.n; i++) {
        struct sealed_row *r = &l.rows[i];
        char aad[128];
        row_aad(r, aad);
        struct vt_buf plain;
        vt_buf_init(&plain, 256);
        struct vt_diag ignored;
        vt_diag_init(&ignored);
        if (vt_aead_open(master, aad, r->sealed.data, r->sealed.len, &plain, &ignored) != VT_OK) {
            err = r->version < 0
                      ? vt_fail(d, VT_E_INTEGRITY, "kms.access_key",
                                "access key %s: its secret does not open under the master key "
                                "(altered, or sealed under another master key)",
                                r->id)
                      : vt_fail(d, VT_E_INTEGRITY, "kms.material",
                                "KMS key %s version %" PRId64 ": its material does not open under "
                                "the master key (altered, or sealed under another master key)",
                                r->id, r->version);
        } else {
            (*n)++;
        }
        vt_buf_cleanup(&plain);
    }
    sealed_free(&l);
    return err;
}

const struct vt_sealed_service vt_kms_sealed = {"kms", vt_kms_store_rewrap, vt_kms_store_check};
