/*
 * The id of a master key, so that an error can say which key a database (or a backup of it) is
 * sealed under without holding it: the first 8 bytes of HMAC-SHA-256(key, "veritee master key
 * id") as 16 hex digits. The id reveals nothing useful about a 256-bit random key. The broker
 * and the cache record the id of the key that opens their sealed values in vt_meta
 * ("master_key_id") and update it on rewrap; the row is not authenticated (it only names a key
 * in messages: the sealed check value is what decides).
 */
#ifndef VT_STORE_MASTER_KEY_H
#define VT_STORE_MASTER_KEY_H

#include <stdint.h>

#include "store/store.h"

#define VT_MASTER_KEY_ID_LEN 16

void vt_master_key_id(const uint8_t key[32], char id[VT_MASTER_KEY_ID_LEN + 1]);

/* The id recorded in vt_meta, "" if none (a database from before ids were recorded). */
VT_MUST_USE enum vt_err
vt_master_key_id_stored(struct vt_store *s, char id[VT_MASTER_KEY_ID_LEN + 1], struct vt_diag *d);

/* Record key's id in vt_meta, unless it is already the one recorded. */
VT_MUST_USE enum vt_err vt_master_key_id_record(struct vt_store *s, const uint8_t key[32],
                                                struct vt_diag *d);

/*
 * The refusal of a master key that does not open what (e.g. "this database's sealed keys"):
 * VT_E_ARG at check "master_key", naming the id of the key given and the id recorded in the
 * database, and how to go on.
 */
VT_MUST_USE enum vt_err vt_master_key_refuse(struct vt_store *s, const uint8_t key[32],
                                             const char *what, struct vt_diag *d);

/*
 * A service that keeps values of its own sealed under the master key in the store (src/kms,
 * src/azure, src/cache). The broker, whose keys every service seals with, rotates the master key
 * and checks a restored database: besides its own keys it calls each service it is given, so
 * that it knows none of them (the list of every service is the commands': tools/cli.h).
 */
struct vt_sealed_service {
    const char *name;
    /* Re-seal every value under new_master, inside the caller's transaction; *n += the number
     * re-sealed. Nothing when the store has none of the service's tables or values. */
    enum vt_err (*rewrap)(struct vt_store *s, const uint8_t master[32],
                          const uint8_t new_master[32], size_t *n, struct vt_diag *d);
    /* Open every value under master (a restored database's check); *n += the number opened;
     * VT_E_INTEGRITY naming the first that does not open. NULL: nothing to check. */
    enum vt_err (*check)(struct vt_store *s, const uint8_t master[32], size_t *n,
                         struct vt_diag *d);
};

#endif
