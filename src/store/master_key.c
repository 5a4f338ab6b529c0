/* The id of a master key and the refusal of a wrong one (master_key.h). */
#include <string.h>

#include "crypto/crypto.h"
#include "base/encoding.h"

#include "store/master_key.h"

#define ID_LABEL "veritee master key id"
#define ID_ROW "master_key_id"

void vt_master_key_id(const uint8_t key[32], char id[VT_MASTER_KEY_ID_LEN + 1])
{
    uint8_t mac[VT_SHA256_LEN];
    vt_hmac_sha256(key, 32, ID_LABEL, strlen(ID_LABEL), mac);
    vt_hex_encode(mac, VT_MASTER_KEY_ID_LEN / 2, id);
    vt_wipe(mac, sizeof(mac));
}

static bool row_id(void *ctx, const struct vt_sql_row *row)
{
    char *id = ctx;
    const char *v = vt_row_text(row, 0);
    if (strlen(v) == VT_MASTER_KEY_ID_LEN &&
        strspn(v, "0123456789abcdef") == VT_MASTER_KEY_ID_LEN) {
        memcpy(id, v, VT_MASTER_KEY_ID_LEN + 1);
    }
    return false;
}

enum vt_err vt_master_key_id_stored(struct vt_store *s, char id[VT_MASTER_KEY_ID_LEN + 1],
                                    struct vt_diag *d)
{
    id[0] = '\0';
    struct vt_sql_arg a[] = {VT_SQL_T(ID_ROW)};
    return vt_store_exec(s, "SELECT value FROM vt_meta WHERE name = ?", a, 1, row_id, id, NULL, d);
}

enum vt_err vt_master_key_id_record(struct vt_store *s, const uint8_t key[32], struct vt_diag *d)
{
    char want[VT_MASTER_KEY_ID_LEN + 1], have[VT_MASTER_KEY_ID_LEN + 1];
    vt_master_key_id(key, want);
    VT_TRY(vt_master_key_id_stored(s, have, d));
    if (strcmp(want, have) == 0) {
        return VT_OK;
    }
    struct vt_sql_arg a[] = {VT_SQL_T(ID_ROW), VT_SQL_T(want)};
    return vt_store_exec(s,
                         "INSERT INTO vt_meta(name, value) VALUES (?, ?)"
                         " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                         a, 2, NULL, NULL, NULL, d);
}

enum vt_err vt_master_key_refuse(struct vt_store *s, const uint8_t key[32], const char *what,
                                 struct vt_diag *d)
{
    char given[VT_MASTER_KEY_ID_LEN + 1], stored[VT_MASTER_KEY_ID_LEN + 1] = "";
    vt_master_key_id(key, given);
    struct vt_diag ignored;
    vt_diag_init(&ignored);
    if (vt_master_key_id_stored(s, stored, &ignored) != VT_OK) {
        stored[0] = '\0';
    }
    if (stored[0] != '\0') {
        return vt_fail(d, VT_E_ARG, "master_key",
                       "the master key given (id %s) does not open %s: the database records "
                       "master key id %s. Give that key (`veritee broker master-key-id` prints "
                       "a key's id); after a rewrap it is the new key, and a backup needs the key "
                       "it was taken under",
                       given, what, stored);
    }
    return vt_fail(d, VT_E_ARG, "master_key",
                   "the master key given (id %s) does not open %s, and the database records no "
                   "key id (it was written by an older veritee). Give the key it was sealed "
                   "under; after a rewrap it is the new key, and a backup needs the key it was "
                   "taken under",
                   given, what);
}
