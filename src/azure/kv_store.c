/*
 * The Key Vault service's tables (the "keyvault" schema component, store/migrations.c): key
 * names with their current version, versions with their public members, attributes, release
 * policy and private material sealed under the master key (associated data "keyvault key NAME
 * VERSION", so a sealed value moved to another row does not open), and the release signing key.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure/kv.h"
#include "base/encoding.h"
#include "crypto/aead.h"

#define VERSION_COLUMNS                                                                            \
    "v.name, v.version, v.kty, v.key_ops, v.public_jwk, v.enabled, v.exportable, v.nbf, v.exp,"    \
    " v.release_policy, v.tags, v.created, v.updated"

void vt_kv_key_cleanup(struct vt_kv_key *key)
{
    free(key->key_ops);
    free(key->public_jwk);
    free(key->policy);
    free(key->tags);
    memset(key, 0, sizeof(*key));
}

static void material_aad(const char *name, const char *version, char aad[200])
{
    snprintf(aad, 200, "keyvault key %s %s", name, version);
}

struct key_row {
    struct vt_kv_key *key;
    bool found, nomem;
};

static char *dup_or_null(const char *s)
{
    return s[0] != '\0' ? strdup(s) : NULL;
}

static bool row_key(void *ctx, const struct vt_sql_row *row)
{
    struct key_row *r = ctx;
    struct vt_kv_key *k = r->key;
    snprintf(k->name, sizeof(k->name), "%s", vt_row_text(row, 0));
    snprintf(k->version, sizeof(k->version), "%s", vt_row_text(row, 1));
    snprintf(k->kty, sizeof(k->kty), "%s", vt_row_text(row, 2));
    k->key_ops = strdup(vt_row_text(row, 3));
    k->public_jwk = strdup(vt_row_text(row, 4));
    k->enabled = vt_row_int(row, 5) != 0;
    k->exportable = vt_row_int(row, 6) != 0;
    k->nbf = vt_row_int(row, 7);
    k->exp = vt_row_int(row, 8);
    k->policy = dup_or_null(vt_row_text(row, 9));
    k->tags = dup_or_null(vt_row_text(row, 10));
    k->created = vt_row_int(row, 11);
    k->updated = vt_row_int(row, 12);
    r->nomem = k->key_ops == NULL || k->public_jwk == NULL ||
               (vt_row_text(row, 9)[0] != '\0' && k->policy == NULL) ||
               (vt_row_text(row, 10)[0] != '\0' && k->tags == NULL);
    r->found = true;
    return false;
}

enum vt_err vt_kv_key_get(struct vt_kv *k, const char *name, const char *version,
                          struct vt_kv_key *key, bool *found, struct vt_diag *d)
{
    memset(key, 0, sizeof(*key));
    *found = false;
    struct key_row r = {key, false, false};
    enum vt_err err;
    if (version == NULL || version[0] == '\0') {
        struct vt_sql_arg a[] = {VT_SQL_T(name)};
        err = vt_store_read(k->b->store,
                            "SELECT " VERSION_COLUMNS " FROM kv_key_versions v JOIN kv_keys k ON"
                            " k.name = v.name AND k.current_version = v.version WHERE k.name = ?",
                            a, 1, row_key, &r, d);
    } else {
        struct vt_sql_arg a[] = {VT_SQL_T(name), VT_SQL_T(version)};
        err = vt_store_read(k->b->store,
                            "SELECT " VERSION_COLUMNS " FROM kv_key_versions v WHERE v.name = ?"
                            " AND v.version = ?",
                            a, 2, row_key, &r, d);
    }
    if (err == VT_OK && r.nomem) {
        err = vt_fail(d, VT_E_NOMEM, "kv.store", "no memory");
    }
    if (err != VT_OK) {
        vt_kv_key_cleanup(key);
        return err;
    }
    *found = r.found;
    return VT_OK;
}

static enum vt_err tx_end(struct vt_store *s, enum vt_err err, struct vt_diag *d)
{
    if (err == VT_OK) {
        return vt_store_commit(s, d);
    }
    vt_store_rollback(s);
    return err;
}

enum vt_err vt_kv_key_insert(struct vt_kv *k, struct vt_kv_key *key, const uint8_t *material,
                             size_t n, struct vt_diag *d)
{
    uint8_t v[16];
    VT_TRY(vt_random_bytes(v, sizeof(v), d));
    vt_hex_encode(v, sizeof(v), key->version);
    int64_t now = vt_kv_now(k);
    key->created = key->updated = now;
    char aad[200];
    material_aad(key->name, key->version, aad);
    struct vt_buf sealed;
    vt_buf_init(&sealed, VT_AEAD_SEAL_MAX + 64);
    VT_TRY(vt_aead_seal(k->b->cfg.master_key, aad, material, n, &sealed, d));
    struct vt_store *s = k->b->store;
    enum vt_err err = vt_store_begin(s, d);
    if (err != VT_OK) {
        vt_buf_cleanup(&sealed);
        return err;
    }
    struct vt_sql_arg a[] = {VT_SQL_T(key->name),
                             VT_SQL_T(key->version),
                             VT_SQL_T(key->kty),
                             VT_SQL_T(key->key_ops),
                             VT_SQL_T(key->public_jwk),
                             VT_SQL_B(sealed.data, sealed.len),
                             VT_SQL_I(key->enabled ? 1 : 0),
                             VT_SQL_I(key->exportable ? 1 : 0),
                             VT_SQL_I(key->nbf),
                             VT_SQL_I(key->exp),
                             VT_SQL_T(key->policy ? key->policy : ""),
                             VT_SQL_T(key->tags ? key->tags : ""),
                             VT_SQL_I(now),
                             VT_SQL_I(now)};
    err = vt_store_exec(s,
                        "INSERT INTO kv_key_versions(name, version, kty, key_ops, public_jwk,"
                        " material, enabled, exportable, nbf, exp, release_policy, tags, created,"
                        " updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        a, 14, NULL, NULL, NULL, d);
    int64_t changed = 0;
    if (err == VT_OK) {
        struct vt_sql_arg u[] = {VT_SQL_T(key->version), VT_SQL_I(now), VT_SQL_T(key->name)};
        err = vt_store_exec(s, "UPDATE kv_keys SET current_version = ?, updated = ? WHERE name = ?",
                            u, 3, NULL, NULL, &changed, d);
    }
    if (err == VT_OK && changed == 0) {
        struct vt_sql_arg i[] = {VT_SQL_T(key->name), VT_SQL_T(key->version), VT_SQL_I(now),
                                 VT_SQL_I(now)};
        err = vt_store_exec(s,
                            "INSERT INTO kv_keys(name, current_version, created, updated)"
                            " VALUES (?,?,?,?)",
                            i, 4, NULL, NULL, NULL, d);
    }
    vt_buf_cleanup(&sealed);
    return tx_end(s, err, d);
}

static bool row_blob(void *ctx, const struct vt_sql_row *row)
{
    struct vt_buf *b = ctx;
    size_t n = 0;
    const uint8_t *p = vt_row_blob(row, 0, &n);
    (void)!vt_buf_append(b, p, n);
    return false;
}

enum vt_err vt_kv_material(struct vt_kv *k, const char *name, const char *version,
                           struct vt_buf *out, struct vt_diag *d)
{
    struct vt_buf sealed;
    vt_buf_init(&sealed, VT_AEAD_SEAL_MAX + 64);
    struct vt_sql_arg a[] = {VT_SQL_T(name), VT_SQL_T(version)};
    enum vt_err err = vt_store_read(k->b->store,
                                    "SELECT material FROM kv_key_versions WHERE name = ? AND"
                                    " version = ?",
                                    a, 2, row_blob, &sealed, d);
    if (err == VT_OK && sealed.len == 0) {
        err = vt_fail(d, VT_E_NOT_FOUND, "kv.material", "key %s version %s has no material", name,
                      version);
    }
    char aad[200];
    material_aad(name, version, aad);
    struct vt_diag ignored;
    if (err == VT_OK &&
        vt_aead_open(k->b->cfg.master_key, aad, sealed.data, sealed.len, out, &ignored) != VT_OK) {
        err = vt_fail(d, VT_E_INTEGRITY, "kv.material",
                      "key %s version %s: its material does not open under the master key "
                      "(altered, or sealed under another master key)",
                      name, version);
    }
    vt_buf_cleanup(&sealed);
    return err;
}

enum vt_err vt_kv_key_update(struct vt_kv *k, const struct vt_kv_key *key, struct vt_diag *d)
{
    struct vt_sql_arg a[] = {VT_SQL_T(key->key_ops),
                             VT_SQL_I(key->enabled ? 1 : 0),
                             VT_SQL_I(key->nbf),
                             VT_SQL_I(key->exp),
                             VT_SQL_T(key->policy ? key->policy : ""),
                             VT_SQL_T(key->tags ? key->tags : ""),
                             VT_SQL_I(vt_kv_now(k)),
                             VT_SQL_T(key->name),
                             VT_SQL_T(key->version)};
    int64_t changed = 0;
    VT_TRY(vt_store_exec(k->b->store,
                         "UPDATE kv_key_versions SET key_ops = ?, enabled = ?, nbf = ?, exp = ?,"
                         " release_policy = ?, tags = ?, updated = ? WHERE name = ? AND"
                         " version = ?",
                         a, 9, NULL, NULL, &changed, d));
    VT_ENSURE(changed == 1, d, VT_E_NOT_FOUND, "kv.key", "no key %s version %s", key->name,
              key->version);
    return VT_OK;
}

enum vt_err vt_kv_keys_list(struct vt_kv *k, const char *name, vt_row_fn fn, void *ctx,
                            struct vt_diag *d)
{
    if (name != NULL) {
        struct vt_sql_arg a[] = {VT_SQL_T(name)};
        return vt_store_read(k->b->store,
                             "SELECT " VERSION_COLUMNS " FROM kv_key_versions v WHERE v.name = ?"
                             " ORDER BY v.created, v.version",
                             a, 1, fn, ctx, d);
    }
    return vt_store_read(k->b->store,
                         "SELECT " VERSION_COLUMNS " FROM kv_key_versions v JOIN kv_keys k ON"
                         " k.name = v.name AND k.current_version = v.version ORDER BY v.name",
                         NULL, 0, fn, ctx, d);
}

/* ---- master-key operations ---- */

struct sealed_row {
    char name[VT_KV_NAME_MAX + 1], version[VT_KV_VERSION_LEN + 1], kid[64];
    struct vt_buf sealed;
};

struct sealed_rows {
    struct sealed_row *v;
    size_t n, cap;
    bool signers, nomem;
};

static bool row_sealed(void *ctx, const struct vt_sql_row *row)
{
    struct sealed_rows *rs = ctx;
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? 2 * rs->cap : 16;
        struct sealed_row *v = realloc(rs->v, cap * sizeof(*v));
        if (v == NULL) {
            rs->nomem = true;
            return false;
        }
        rs->v = v;
        rs->cap = cap;
    }
    struct sealed_row *r = &rs->v[rs->n];
    memset(r, 0, sizeof(*r));
    vt_buf_init(&r->sealed, VT_AEAD_SEAL_MAX + 64);
    rs->n++;
    size_t n = 0;
    const uint8_t *p;
    if (rs->signers) {
        snprintf(r->kid, sizeof(r->kid), "%s", vt_row_text(row, 0));
        p = vt_row_blob(row, 1, &n);
    } else {
        snprintf(r->name, sizeof(r->name), "%s", vt_row_text(row, 0));
        snprintf(r->version, sizeof(r->version), "%s", vt_row_text(row, 1));
        p = vt_row_blob(row, 2, &n);
    }
    if (vt_buf_append(&r->sealed, p, n) != VT_OK) {
        rs->nomem = true;
        return false;
    }
    return true;
}

static void sealed_rows_cleanup(struct sealed_rows *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        vt_buf_cleanup(&rs->v[i].sealed);
    }
    free(rs->v);
}

static void row_aad(const struct sealed_rows *rs, const struct sealed_row *r, char aad[200])
{
    if (rs->signers) {
        snprintf(aad, 200, "keyvault signer %s", r->kid);
    } else {
        material_aad(r->name, r->version, aad);
    }
}

static enum vt_err load_sealed(struct vt_store *s, bool signers, struct sealed_rows *rs,
                               struct vt_diag *d)
{
    memset(rs, 0, sizeof(*rs));
    rs->signers = signers;
    enum vt_err err = vt_store_read(
        s,
        signers ? "SELECT kid, private FROM kv_signers ORDER BY kid"
                : "SELECT name, version, material FROM kv_key_versions ORDER BY name, version",
        NULL, 0, row_sealed, rs, d);
    if (err == VT_OK && rs->nomem) {
        err = vt_fail(d, VT_E_NOMEM, "kv.store", "no memory");
    }
    return err;
}

static bool component_present(struct vt_store *s, struct vt_diag *d, enum vt_err *err)
{
    const struct vt_schema_component *c[] = {&vt_schema_keyvault};
    struct vt_schema_state st[1];
    *err = vt_schema_inspect(s, c, 1, st, d);
    return *err == VT_OK && st[0].version > 0;
}

enum vt_err vt_kv_store_rewrap(struct vt_store *s, const uint8_t master[32],
                               const uint8_t new_master[32], size_t *n, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    if (!component_present(s, d, &err)) {
        return err;
    }
    for (int pass = 0; err == VT_OK && pass < 2; pass++) {
        struct sealed_rows rs;
        err = load_sealed(s, pass == 1, &rs, d);
        for (size_t i = 0; err == VT_OK && i < rs.n; i++) {
            struct sealed_row *r = &rs.v[i];
            char aad[200];
            row_aad(&rs, r, aad);
            struct vt_buf plain, again;
            vt_buf_init(&plain, VT_AEAD_SEAL_MAX);
            vt_buf_init(&again, VT_AEAD_SEAL_MAX + 64);
            err = vt_aead_open(master, aad, r->sealed.data, r->sealed.len, &plain, d);
            if (err == VT_OK) {
                err = vt_aead_seal(new_master, aad, plain.data, plain.len, &again, d);
            }
            if (err == VT_OK && rs.signers) {
                struct vt_sql_arg a[] = {VT_SQL_B(again.data, again.len), VT_SQL_T(r->kid)};
                err = vt_store_exec(s, "UPDATE kv_signers SET private = ? WHERE kid = ?", a, 2,
                                    NULL, NULL, NULL, d);
            } else if (err == VT_OK) {
                struct vt_sql_arg a[] = {VT_SQL_B(again.data, again.len), VT_SQL_T(r->name),
                                         VT_SQL_T(r->version)};
                err = vt_store_exec(s,
                                    "UPDATE kv_key_versions SET material = ? WHERE name = ? AND"
                                    " version = ?",
                                    a, 3, NULL, NULL, NULL, d);
            }
            vt_buf_cleanup(&plain);
            vt_buf_cleanup(&again);
            *n += err == VT_OK;
        }
        sealed_rows_cleanup(&rs);
    }
    return err;
}

enum vt_err vt_kv_store_check(struct vt_store *s, const uint8_t master[32], size_t *n,
                              struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    if (!component_present(s, d, &err)) {
        return err;
    }
    for (int pass = 0; err == VT_OK && pass < 2; pass++) {
        struct sealed_rows rs;
        err = load_sealed(s, pass == 1, &rs, d);
        for (size_t i = 0; err == VT_OK && i < rs.n; i++) {
            struct sealed_row *r = &rs.v[i];
            char aad[200];
            row_aad(&rs, r, aad);
            struct vt_buf plain;
            vt_buf_init(&plain, VT_AEAD_SEAL_MAX);
            struct vt_diag ignored;
            if (vt_aead_open(master, aad, r->sealed.data, r->sealed.len, &plain, &ignored) !=
                VT_OK) {
                err = rs.signers ? vt_fail(d, VT_E_INTEGRITY, "kv.signer",
                                           "Key Vault signing key %s does not open under the "
                                           "master key (altered, or sealed under another master "
                                           "key)",
                                           r->kid)
                                 : vt_fail(d, VT_E_INTEGRITY, "kv.material",
                                           "Key Vault key %s version %s does not open under the "
                                           "master key (altered, or sealed under another master "
                                           "key)",
                                           r->name, r->version);
            }
            vt_buf_cleanup(&plain);
            *n += err == VT_OK;
        }
        sealed_rows_cleanup(&rs);
    }
    return err;
}

const struct vt_sealed_service vt_kv_sealed = {"keyvault", vt_kv_store_rewrap, vt_kv_store_check};
