/* SQLite backend: one connection in WAL mode with a busy timeout, prepared per statement. */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store.h"

static enum vt_err sql_fail(sqlite3 *db, struct vt_diag *d, const char *sql)
{
    return vt_fail(d, VT_E_STORAGE, "sqlite", "%s (in: %.80s)", sqlite3_errmsg(db), sql);
}

static enum vt_err sq_exec(void *conn, const char *sql, const struct vt_sql_arg *args, size_t nargs,
                           vt_row_fn fn, void *ctx, int64_t *changes, struct vt_diag *d)
{
    sqlite3 *db = conn;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        return sql_fail(db, d, sql);
    }
    for (size_t i = 0; i < nargs; i++) {
        int idx = (int)i + 1, rc;
        switch (args[i].type) {
        case VT_SQL_TEXT:
            rc = sqlite3_bind_text(st, idx, args[i].text, -1, SQLITE_STATIC);
            break;
        case VT_SQL_INT:
            rc = sqlite3_bind_int64(st, idx, args[i].i);
            break;
        case VT_SQL_BLOB:
            rc = sqlite3_bind_blob64(st, idx, args[i].blob ? (const void *)args[i].blob : "",
                                     args[i].len, SQLITE_STATIC);
            break;
        default:
            rc = sqlite3_bind_null(st, idx);
        }
        if (rc != SQLITE_OK) {
            sqlite3_finalize(st);
            return sql_fail(db, d, sql);
        }
    }
    enum vt_err err = VT_OK;
    int ncol = sqlite3_column_count(st);
    const uint8_t *vals[32];
    size_t lens[32];
    bool more = true;
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
            break;
        }
        if (rc != SQLITE_ROW) {
            err = sql_fail(db, d, sql);
            break;
        }
        if (fn == NULL || !more || ncol > 32) {
            continue;
        }
        for (int c = 0; c < ncol; c++) {
            if (sqlite3_column_type(st, c) == SQLITE_BLOB) {
                vals[c] = sqlite3_column_blob(st, c);
                lens[c] = (size_t)sqlite3_column_bytes(st, c);
                if (vals[c] == NULL) {
                    vals[c] = (const uint8_t *)"";
                }
            } else if (sqlite3_column_type(st, c) == SQLITE_NULL) {
                vals[c] = NULL;
                lens[c] = 0;
            } else {
                vals[c] = sqlite3_column_text(st, c);
                lens[c] = (size_t)sqlite3_column_bytes(st, c);
            }
        }
        struct vt_sql_row row = {(size_t)ncol, vals, lens};
        more = fn(ctx, &row);
    }
    if (err == VT_OK && changes != NULL) {
        *changes = sqlite3_changes64(db);
    }
    sqlite3_finalize(st);
    return err;
}

static void sq_close(void *conn)
{
    sqlite3_close_v2(conn);
}

static const struct vt_store_ops sqlite_ops = {sq_exec, sq_close};

enum vt_err vt_store_sqlite_open(const char *path, void **conn, const struct vt_store_ops **ops,
                                 struct vt_diag *d)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(
        path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    if (rc != SQLITE_OK) {
        enum vt_err err = vt_fail(d, VT_E_STORAGE, "sqlite", "cannot open %s: %s", path,
                                  db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        return err;
    }
    sqlite3_busy_timeout(db, 10000);
    static const char *const pragmas[] = {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                                          "PRAGMA foreign_keys=ON"};
    for (size_t i = 0; i < sizeof(pragmas) / sizeof(pragmas[0]); i++) {
        enum vt_err err = sq_exec(db, pragmas[i], NULL, 0, NULL, NULL, NULL, d);
        if (err != VT_OK) {
            sqlite3_close_v2(db);
            return err;
        }
    }
    *conn = db;
    *ops = &sqlite_ops;
    return VT_OK;
}
