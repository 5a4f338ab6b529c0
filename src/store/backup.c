/*
 * Backup and restore of SQLite databases with SQLite's online backup API (backup.h). The source
 * is always opened read-only; every copy is made by one sqlite3_backup_step(-1), which reads all
 * pages in one read transaction: in WAL mode that is one snapshot of the whole database, taken
 * while the service's connection keeps committing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/backup.h"

#define BUSY_MS 10000
#define PATH_MAX_LEN 4096

const char *vt_sqlite_url_path(const char *url)
{
    if (url == NULL || strstr(url, "://") != NULL) {
        return NULL;
    }
    return strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
}

static enum vt_err db_fail(sqlite3 *db, struct vt_diag *d, const char *check, const char *what,
                           const char *path)
{
    return vt_fail(d, VT_E_STORAGE, check, "%s %.300s: %s", what, path,
                   db ? sqlite3_errmsg(db) : "cannot allocate a connection");
}

/* Open path read-only (it must exist: never created here). */
static enum vt_err open_ro(const char *path, const char *check, sqlite3 **db, struct vt_diag *d)
{
    *db = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        return vt_fail(d, errno == ENOENT ? VT_E_NOT_FOUND : VT_E_IO, check, "%.300s: %s", path,
                       errno == ENOENT ? "no such file" : strerror(errno));
    }
    VT_ENSURE(S_ISREG(st.st_mode), d, VT_E_ARG, check, "%.300s is not a regular file", path);
    VT_ENSURE(st.st_size > 0, d, VT_E_ARG, check, "%.300s is empty: not a veritee database", path);
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        enum vt_err err = db_fail(*db, d, check, "cannot open", path);
        sqlite3_close_v2(*db);
        *db = NULL;
        return err;
    }
    sqlite3_busy_timeout(*db, BUSY_MS);
    return VT_OK;
}

/* The integer of a one-value query; -1 if it fails (e.g. no such table). */
static int64_t query_int(sqlite3 *db, const char *sql, const char *arg)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        (arg == NULL || sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC) == SQLITE_OK) &&
        sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

static bool has_table(sqlite3 *db, const char *name)
{
    return query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                     name) > 0;
}

/* The database must be readable as SQLite and hold vt_meta (every veritee database does). */
static enum vt_err check_veritee(sqlite3 *db, const char *path, const char *check,
                                 struct vt_diag *d)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if ((rc & 0xff) == SQLITE_CORRUPT) {
        return vt_fail(d, VT_E_INTEGRITY, "backup.integrity",
                       "%.300s is a damaged SQLite database (%s)", path, sqlite3_errstr(rc));
    }
    if (rc != SQLITE_ROW) {
        return vt_fail(d, VT_E_ARG, check, "%.300s is not an SQLite database (%s)", path,
                       sqlite3_errmsg(db));
    }
    VT_ENSURE(has_table(db, "vt_meta"), d, VT_E_ARG, check,
              "%.300s holds no veritee tables (no vt_meta): not a veritee database or backup",
              path);
    return VT_OK;
}

static void read_info(sqlite3 *db, struct vt_sqlite_info *info)
{
    memset(info, 0, sizeof(*info));
    int64_t pages = query_int(db, "PRAGMA page_count", NULL);
    int64_t size = query_int(db, "PRAGMA page_size", NULL);
    info->bytes = pages > 0 && size > 0 ? pages * size : 0;
    info->tables = query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", NULL);
    bool broker = has_table(db, "vb_keys");
    info->keys = broker ? query_int(db, "SELECT count(*) FROM vb_keys", NULL) : -1;
    info->key_versions = broker ? query_int(db, "SELECT count(*) FROM vb_key_versions", NULL) : -1;
    info->signing_keys = broker ? query_int(db, "SELECT count(*) FROM vb_signing_keys", NULL) : -1;
    info->log_entries = broker ? query_int(db, "SELECT count(*) FROM vb_log", NULL) : -1;
    info->checkpoint_size =
        broker ? query_int(db, "SELECT coalesce(max(size), 0) FROM vb_checkpoints", NULL) : 0;
    info->cache_items =
        has_table(db, "vt_items") ? query_int(db, "SELECT count(*) FROM vt_items", NULL) : -1;
    info->sealed =
        query_int(db, "SELECT count(*) FROM vt_meta WHERE name = 'broker_master_check'", NULL) >
            0 ||
        query_int(
            db, "SELECT count(*) FROM vt_meta WHERE name = 'bundle_key' AND value LIKE 'sealed:%'",
            NULL) > 0 ||
        info->key_versions > 0 || info->signing_keys > 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT value FROM vt_meta WHERE name = 'master_key_id'", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (v != NULL && strlen(v) == VT_MASTER_KEY_ID_LEN &&
            strspn(v, "0123456789abcdef") == VT_MASTER_KEY_ID_LEN) {
            memcpy(info->master_key_id, v, VT_MASTER_KEY_ID_LEN + 1);
        }
    }
    sqlite3_finalize(st);
}

/* PRAGMA integrity_check must answer one row "ok"; else its first problems are reported. */
static enum vt_err integrity(sqlite3 *db, const char *path, struct vt_diag *d)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
        return db_fail(db, d, "backup.integrity", "cannot check", path);
    }
    char problems[200] = "";
    int rc, rows = 0;
    bool ok = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        ok = ++rows == 1 && v != NULL && strcmp(v, "ok") == 0;
        size_t used = strlen(problems);
        if (v != NULL && strncmp(v, "*** ", 4) != 0 && used + 3 < sizeof(problems)) {
            snprintf(problems + used, sizeof(problems) - used, "%s%s", used ? "; " : "", v);
        }
    }
    enum vt_err err = VT_OK;
    if (rc != SQLITE_DONE) {
        err = (rc & 0xff) == SQLITE_CORRUPT
                  ? vt_fail(d, VT_E_INTEGRITY, "backup.integrity",
                            "%.300s is a damaged SQLite database (%s)", path, sqlite3_errmsg(db))
                  : db_fail(db, d, "backup.integrity", "cannot check", path);
    } else if (!ok || rows != 1) {
        err = vt_fail(d, VT_E_INTEGRITY, "backup.integrity",
                      "%.300s fails PRAGMA integrity_check: %s", path, problems);
    }
    sqlite3_finalize(st);
    return err;
}

/* One statement whose result rows are ignored. */
static enum vt_err run(sqlite3 *db, const char *sql, const char *check, const char *path,
                       struct vt_diag *d)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        return vt_fail(d, VT_E_STORAGE, check, "%s on %.300s: %s", sql, path, sqlite3_errmsg(db));
    }
    return VT_OK;
}

/* Every page of src into dst in one step, that is in one read transaction on src. A busy source
 * (a WAL recovery, a checkpoint resetting the log) is retried for BUSY_MS. */
static enum vt_err copy_pages(sqlite3 *src, sqlite3 *dst, const char *check, const char *path,
                              struct vt_diag *d)
{
    sqlite3_backup *bk = sqlite3_backup_init(dst, "main", src, "main");
    if (bk == NULL) {
        return db_fail(dst, d, check, "cannot start the copy into", path);
    }
    int rc;
    for (int waited = 0;; waited += 50) {
        rc = sqlite3_backup_step(bk, -1);
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited >= BUSY_MS) {
            break;
        }
        sqlite3_sleep(50);
    }
    int frc = sqlite3_backup_finish(bk);
    if (rc != SQLITE_DONE) {
        return vt_fail(d, VT_E_STORAGE, check, "copying into %.300s: %s", path,
                       rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? "the source stayed locked"
                                                                : sqlite3_errstr(rc));
    }
    if (frc != SQLITE_OK) {
        return db_fail(dst, d, check, "copying into", path);
    }
    return VT_OK;
}

static void unlink_with(const char *path, const char *suffix)
{
    char p[PATH_MAX_LEN + 16];
    snprintf(p, sizeof(p), "%s%s", path, suffix);
    (void)!unlink(p);
}

void vt_sqlite_remove(const char *path)
{
    unlink_with(path, "");
    unlink_with(path, "-wal");
    unlink_with(path, "-shm");
    unlink_with(path, "-journal");
}

/* fsync a file, or a directory (so that a new name in it survives a crash too). */
static enum vt_err sync_path(const char *path, bool dir, struct vt_diag *d)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | (dir ? O_DIRECTORY : 0));
    bool ok = fd >= 0 && fsync(fd) == 0;
    int e = errno;
    if (fd >= 0) {
        close(fd);
    }
    VT_ENSURE(ok, d, VT_E_IO, "backup.sync", "cannot sync %.300s: %s", path, strerror(e));
    return VT_OK;
}

static void dir_of(const char *path, char dir[PATH_MAX_LEN])
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        snprintf(dir, PATH_MAX_LEN, ".");
    } else if (slash == path) {
        snprintf(dir, PATH_MAX_LEN, "/");
    } else {
        snprintf(dir, PATH_MAX_LEN, "%.*s", (int)(slash - path), path);
    }
}

/* Create path (mode 0600) that must not exist. */
static enum vt_err create_new(const char *path, const char *check, const char *exists_msg,
                              struct vt_diag *d)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return errno == EEXIST
                   ? vt_fail(d, VT_E_ARG, check, "%.300s exists: %s", path, exists_msg)
                   : vt_fail(d, VT_E_IO, check, "cannot create %.300s: %s", path, strerror(errno));
    }
    close(fd);
    return VT_OK;
}

/* Give the complete copy tmp its name out. link, unlike rename, never replaces a file that
 * appeared at out meanwhile; where the file system has no hard links (some network mounts),
 * rename after checking that out is still free. */
static enum vt_err name_copy(const char *tmp, const char *out, struct vt_diag *d)
{
    struct stat st;
    if (link(tmp, out) == 0) {
        return VT_OK;
    }
    int e = errno;
    if (e == EPERM || e == ENOTSUP || e == EOPNOTSUPP || e == EMLINK || e == ENOSYS) {
        e = lstat(out, &st) == 0 ? EEXIST : rename(tmp, out) == 0 ? 0 : errno;
    }
    if (e == 0) {
        return VT_OK;
    }
    return e == EEXIST ? vt_fail(d, VT_E_ARG, "backup.out",
                                 "%.300s appeared during the backup; it was left as it is", out)
                       : vt_fail(d, VT_E_IO, "backup.out", "cannot name the copy %.300s: %s", out,
                                 strerror(e));
}

enum vt_err vt_sqlite_backup(const char *db_path, const char *out, struct vt_sqlite_info *info,
                             struct vt_diag *d)
{
    VT_ENSURE(db_path != NULL && db_path[0] != '\0', d, VT_E_ARG, "backup.db", "no database given");
    VT_ENSURE(out != NULL && out[0] != '\0', d, VT_E_ARG, "backup.out", "no output file given");
    VT_ENSURE(strlen(out) < PATH_MAX_LEN - 16 && strlen(db_path) < PATH_MAX_LEN, d, VT_E_ARG,
              "backup.out", "path too long");
    struct stat st;
    VT_ENSURE(lstat(out, &st) != 0, d, VT_E_ARG, "backup.out",
              "%.300s exists: a backup never overwrites a file; give a new name", out);
    char tmp[PATH_MAX_LEN];
    snprintf(tmp, sizeof(tmp), "%s.partial", out);
    sqlite3 *src = NULL, *dst = NULL;
    enum vt_err err = open_ro(db_path, "backup.db", &src, d);
    if (err == VT_OK) {
        err = check_veritee(src, db_path, "backup.db", d);
    }
    if (err != VT_OK) {
        sqlite3_close_v2(src);
        return err;
    }
    err = create_new(tmp, "backup.out",
                     "an interrupted backup? Remove it (and any -journal or -wal beside it)", d);
    if (err != VT_OK) {
        sqlite3_close_v2(src);
        return err;
    }
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        err = db_fail(dst, d, "backup.copy", "cannot open", tmp);
    }
    if (err == VT_OK) {
        sqlite3_busy_timeout(dst, BUSY_MS);
        err = copy_pages(src, dst, "backup.copy", tmp, d);
    }
    sqlite3_close_v2(src);
    /* one self-contained file: the copy took the source's WAL mode with its header */
    if (err == VT_OK) {
        err = run(dst, "PRAGMA journal_mode=DELETE", "backup.copy", tmp, d);
    }
    if (err == VT_OK) {
        err = integrity(dst, out, d);
    }
    if (err == VT_OK && info != NULL) {
        read_info(dst, info);
    }
    sqlite3_close_v2(dst);
    if (err == VT_OK) {
        err = sync_path(tmp, false, d);
    }
    if (err == VT_OK) {
        err = name_copy(tmp, out, d);
    }
    vt_sqlite_remove(tmp);
    if (err == VT_OK) {
        char dir[PATH_MAX_LEN];
        dir_of(out, dir);
        err = sync_path(dir, true, d);
    }
    return err;
}

enum vt_err vt_sqlite_check(const char *path, struct vt_sqlite_info *info, struct vt_diag *d)
{
    sqlite3 *db = NULL;
    enum vt_err err = open_ro(path, "backup.file", &db, d);
    if (err == VT_OK) {
        err = check_veritee(db, path, "backup.file", d);
    }
    if (err == VT_OK) {
        err = integrity(db, path, d);
    }
    if (err == VT_OK && info != NULL) {
        read_info(db, info);
    }
    sqlite3_close_v2(db);
    return err;
}

enum vt_err vt_sqlite_target_empty(const char *path, struct vt_diag *d)
{
    VT_ENSURE(path != NULL && path[0] != '\0' && strlen(path) < PATH_MAX_LEN - 16, d, VT_E_ARG,
              "restore.target", "no target database file given");
    struct stat st;
    if (lstat(path, &st) != 0) {
        char wal[PATH_MAX_LEN + 16];
        snprintf(wal, sizeof(wal), "%s-wal", path);
        VT_ENSURE(lstat(wal, &st) != 0, d, VT_E_ARG, "restore.target",
                  "%.300s does not exist but %.300s does (left from a removed database): remove "
                  "it, and %.300s-shm",
                  path, wal, path);
        return VT_OK;
    }
    VT_ENSURE(S_ISREG(st.st_mode), d, VT_E_ARG, "restore.target", "%.300s is not a regular file",
              path);
    if (st.st_size == 0) {
        return VT_OK;
    }
    sqlite3 *db = NULL;
    enum vt_err err = VT_OK;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        err = vt_fail(d, VT_E_ARG, "restore.target", "%.300s exists and cannot be opened: %s", path,
                      db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close_v2(db);
        return err;
    }
    sqlite3_busy_timeout(db, BUSY_MS);
    sqlite3_stmt *st2 = NULL;
    char names[200] = "";
    int64_t n = 0;
    int rc = sqlite3_prepare_v2(
        db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", -1, &st2, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st2)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st2, 0);
        size_t used = strlen(names);
        if (n < 4 && name != NULL && used + strlen(name) + 3 < sizeof(names)) {
            snprintf(names + used, sizeof(names) - used, "%s%s", n ? ", " : "", name);
        }
        n++;
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) {
        err = vt_fail(d, VT_E_ARG, "restore.target",
                      "%.300s exists and is not an SQLite database (%s)", path, sqlite3_errmsg(db));
    } else if (n > 0) {
        err =
            vt_fail(d, VT_E_ARG, "restore.target",
                    "%.300s is not empty: it holds %lld tables (%s%s). A restore writes only into "
                    "an empty database: give a new file, or move this one away with its -wal "
                    "and -shm files",
                    path, (long long)n, names, n > 4 ? ", ..." : "");
    }
    sqlite3_finalize(st2);
    sqlite3_close_v2(db);
    return err;
}

enum vt_err vt_sqlite_restore(const char *src_path, const char *dst_path, struct vt_diag *d)
{
    VT_TRY(vt_sqlite_target_empty(dst_path, d));
    struct stat st;
    bool created = false;
    if (lstat(dst_path, &st) != 0) {
        VT_TRY(create_new(dst_path, "restore.target", "it appeared during the restore", d));
        created = true;
    }
    sqlite3 *src = NULL, *dst = NULL;
    enum vt_err err = open_ro(src_path, "restore.copy", &src, d);
    if (err == VT_OK &&
        sqlite3_open_v2(dst_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) !=
            SQLITE_OK) {
        err = db_fail(dst, d, "restore.target", "cannot open", dst_path);
    }
    if (err == VT_OK) {
        sqlite3_busy_timeout(dst, BUSY_MS);
        err = copy_pages(src, dst, "restore.copy", dst_path, d);
    }
    sqlite3_close_v2(src);
    /* the mode the service runs in (store_sqlite.c) */
    if (err == VT_OK) {
        err = run(dst, "PRAGMA journal_mode=WAL", "restore.copy", dst_path, d);
    }
    if (err == VT_OK) {
        err = integrity(dst, dst_path, d);
    }
    if (err == VT_OK) {
        err = run(dst, "PRAGMA wal_checkpoint(TRUNCATE)", "restore.copy", dst_path, d);
    }
    sqlite3_close_v2(dst);
    if (err == VT_OK) {
        err = sync_path(dst_path, false, d);
    }
    if (err == VT_OK) {
        char dir[PATH_MAX_LEN];
        dir_of(dst_path, dir);
        err = sync_path(dir, true, d);
    }
    if (err != VT_OK && created) {
        vt_sqlite_remove(dst_path);
    }
    return err;
}
