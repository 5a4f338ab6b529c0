/* Bearer tokens for the admin APIs of the cache and the broker: only SHA-256 hashes are stored,
 * and checking compares every stored hash in constant time. */
#include <string.h>

#include "internal.h"

#include "store/store.h"

enum vt_err vt_tokens_create(struct vt_store *s, const char *role, const char *name, int64_t now,
                             char token[64], struct vt_diag *d)
{
    uint8_t raw[28], h[VT_SHA256_LEN];
    VT_TRY(vt_random_bytes(raw, sizeof(raw), d));
    memcpy(token, "vt_", 3);
    vt_hex_encode(raw, sizeof(raw), token + 3); /* 3 + 56 characters */
    vt_wipe(raw, sizeof(raw));
    vt_sha256(token, strlen(token), h);
    char hex[2 * VT_SHA256_LEN + 1];
    vt_hex_encode(h, sizeof(h), hex);
    struct vt_sql_arg a[] = {VT_SQL_T(hex), VT_SQL_T(role), VT_SQL_T(name ? name : ""),
                             VT_SQL_I(now)};
    return vt_store_exec(s, "INSERT INTO vt_tokens(hash, role, name, created) VALUES (?,?,?,?)", a,
                         4, NULL, NULL, NULL, d);
}

enum vt_err vt_tokens_add(struct vt_store *s, const char *role, const char *name, int64_t now,
                          const char *value, struct vt_diag *d)
{
    size_t n = value ? strlen(value) : 0;
    /* PCCS's installer takes any password cracklib passes (8 characters or more) */
    VT_ENSURE(n >= 8 && n <= 200, d, VT_E_ARG, "token",
              "a given token must be 8 to 200 characters (got %zu)", n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)value[i];
        VT_ENSURE(c > 0x20 && c < 0x7f, d, VT_E_ARG, "token",
                  "a given token must be printable ASCII without spaces (character %zu)", i);
    }
    uint8_t h[VT_SHA256_LEN];
    vt_sha256(value, n, h);
    char hex[2 * VT_SHA256_LEN + 1];
    vt_hex_encode(h, sizeof(h), hex);
    struct vt_sql_arg a[] = {VT_SQL_T(hex), VT_SQL_T(role), VT_SQL_T(name ? name : ""),
                             VT_SQL_I(now)};
    return vt_store_exec(s,
                         "INSERT INTO vt_tokens(hash, role, name, created) VALUES (?,?,?,?)"
                         " ON CONFLICT(hash) DO UPDATE SET role = excluded.role,"
                         " name = excluded.name",
                         a, 4, NULL, NULL, NULL, d);
}

struct token_scan {
    uint8_t h[VT_SHA256_LEN];
    const char *role;
    bool ok;
};

static bool row_token(void *ctx, const struct vt_sql_row *row)
{
    struct token_scan *t = ctx;
    uint8_t stored[VT_SHA256_LEN];
    const char *hex = vt_row_text(row, 0);
    if (vt_hex_decode_exact(hex, strlen(hex), stored, sizeof(stored)) != VT_OK) {
        return true;
    }
    /* Every row is compared, in constant time, whatever matched before. */
    bool match = vt_ct_memeq(stored, t->h, sizeof(stored));
    bool role_ok =
        strcmp(vt_row_text(row, 1), "admin") == 0 || strcmp(vt_row_text(row, 1), t->role) == 0;
    t->ok |= match && role_ok;
    return true;
}

bool vt_tokens_check(struct vt_store *s, const char *token, const char *role)
{
    if (token == NULL || token[0] == '\0' || strlen(token) > 200) {
        return false;
    }
    struct token_scan t = {.role = role, .ok = false};
    vt_sha256(token, strlen(token), t.h);
    enum vt_err err =
        vt_store_exec(s, "SELECT hash, role FROM vt_tokens", NULL, 0, row_token, &t, NULL, NULL);
    return err == VT_OK && t.ok;
}
