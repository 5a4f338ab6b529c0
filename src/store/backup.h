/*
 * Backup and restore of SQLite databases (`veritee backup`, `veritee restore`; docs/deploy.md,
 * "Backup and restore"). A backup is one self-contained SQLite file (rollback-journal mode, no
 * -wal beside it) copied with SQLite's online backup API in one read transaction: one snapshot of
 * every table, taken while services keep writing (WAL readers do not block writers). PostgreSQL
 * databases are backed up with pg_dump or pg_basebackup instead.
 */
#ifndef VT_STORE_BACKUP_H
#define VT_STORE_BACKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "store/master_key.h"
#include "store/store.h"

/* The file of an SQLite database URL ("sqlite:PATH" or a bare path); NULL for postgres://... and
 * postgresql://... (and any other "scheme://"). */
const char *vt_sqlite_url_path(const char *url);

/* What a veritee SQLite database or backup holds (read without writing to it). */
struct vt_sqlite_info {
    int64_t bytes;           /* page_count * page_size */
    int64_t tables;          /* tables in sqlite_master */
    int64_t keys;            /* broker keys (vb_keys); -1 without the broker's tables */
    int64_t key_versions;    /* their sealed versions (vb_key_versions); -1 likewise */
    int64_t signing_keys;    /* sealed token/checkpoint signing keys; -1 likewise */
    int64_t log_entries;     /* audit log entries (vb_log); -1 likewise */
    int64_t checkpoint_size; /* the tree size of the latest signed checkpoint; 0: none */
    int64_t cache_items;     /* collateral items (vt_items); -1 without the cache's tables */
    bool sealed;             /* holds values sealed under a master key */
    char master_key_id[VT_MASTER_KEY_ID_LEN + 1]; /* the id recorded in vt_meta, "" if none */
};

/*
 * Copy the SQLite database at db_path (live or not; never written to) into the new file out,
 * created with mode 0600: first as out.partial, then linked to out once complete, checked
 * (PRAGMA integrity_check) and synced, so out never holds a partial copy. Errors (the check):
 * out exists, or out.partial does ("backup.out"); no database at db_path ("backup.db"); not an
 * SQLite database or no veritee tables ("backup.db"); the copy ("backup.copy"); the copy fails
 * its integrity check ("backup.integrity"). info (optional) describes the copy.
 */
VT_MUST_USE enum vt_err vt_sqlite_backup(const char *db_path, const char *out,
                                         struct vt_sqlite_info *info, struct vt_diag *d);

/*
 * Check a backup (or any veritee SQLite database) read-only: an SQLite database ("backup.file")
 * that passes PRAGMA integrity_check ("backup.integrity") and holds veritee's tables
 * ("backup.tables"). info (optional) describes it.
 */
VT_MUST_USE enum vt_err vt_sqlite_check(const char *path, struct vt_sqlite_info *info,
                                        struct vt_diag *d);

/*
 * VT_OK if nothing is at path (and no stale path-wal either) or path is an SQLite database with
 * no table; else VT_E_ARG at "restore.target", naming the tables found, or saying that the file
 * is not an SQLite database.
 */
VT_MUST_USE enum vt_err vt_sqlite_target_empty(const char *path, struct vt_diag *d);

/*
 * Write the database at src into the SQLite database at dst with the backup API. dst must be
 * empty (vt_sqlite_target_empty, checked again here); it is created with mode 0600 if absent
 * (and removed again if the restore fails), left in WAL mode, checked with PRAGMA
 * integrity_check and synced. Errors at "restore.target" and "restore.copy".
 */
VT_MUST_USE enum vt_err vt_sqlite_restore(const char *src, const char *dst, struct vt_diag *d);

/* Remove the SQLite database at path with its -wal, -shm and -journal files (a work copy). */
void vt_sqlite_remove(const char *path);

#endif
