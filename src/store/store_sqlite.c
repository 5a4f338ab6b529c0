/*
 * SQLite backend: one connection in WAL mode with a busy timeout. Prepared statements are kept by
 * their SQL text (the store's callers use a fixed set of statements): a statement is prepared
 * once and then reset and rebound, the bindings cleared and the statement reset after every use
 * so it holds no read transaction and no caller's memory. The store's mutex serialises use of
 * the connection, so the cache needs no lock of its own.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store.h"

static enum vt_err sql_fail(sqlite3 *db, struct vt_diag *d, const char *sql)
{
    return vt_fail(d, VT_E_STORAGE, "sqlite", "%s (in: %.80s)", sqlite3_errmsg(db), sql);
}

#define STMT_CACHE 64

struct sq_conn {
    sqlite3 *db;
    struct {
        char *sql;
        sqlite3_stmt *st;
    } cache[STMT_CACHE];
    size_t next; /* the slot the next new statement takes (round robin) */
};

/* Done with a statement from stmt_get: reset it and clear its bindings, or finalize it if it is
 * not cached. */
static void stmt_put(sqlite3_stmt *st, bool cached)
{
    if (cached) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    } else {
        sqlite3_finalize(st);
    }
}

/* The prepared statement of sql: from the cache, or prepared and cached (*cached says which). */
static sqlite3_stmt *stmt_get(struct sq_conn *c, const char *sql, bool *cached)
{
    for (size_t i = 0; i < STMT_CACHE; i++) {
        if (c->cache[i].sql != NULL && strcmp(c->cache[i].sql, sql) == 0) {
            *cached = true;
            return c->cache[i].st;
        }
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return NULL;
    }
    char *copy = strdup(sql);
    *cached = copy != NULL;
    if (copy != NULL) {
        size_t i = c->next;
        c->next = (c->next + 1) % STMT_CACHE;
        free(c->cache[i].sql);
        sqlite3_finalize(c->cache[i].st);
        c->cache[i].sql = copy;
        c->cache[i].st = st;
    }
    return st;
}

static enum vt_err sq_exec(void *conn, const char *sql, const struct vt_sql_arg *args, size_t nargs,
                           vt_row_fn fn, void *ctx, int64_t *changes, struct vt_diag *d)
{
    struct sq_conn *c = conn;
    sqlite3 *db = c->db;
    bool cached = false;
    sqlite3_stmt *st = stmt_get(c, sql, &cached);
    if (st == NULL) {
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
            enum vt_err err = sql_fail(db, d, sql);
            stmt_put(st, cached);
            return err;
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
        for (int k = 0; k < ncol; k++) {
            if (sqlite3_column_type(st, k) == SQLITE_BLOB) {
                vals[k] = sqlite3_column_blob(st, k);
                lens[k] = (size_t)sqlite3_column_bytes(st, k);
                if (vals[k] == NULL) {
                    vals[k] = (const uint8_t *)"";
                }
            } else if (sqlite3_column_type(st, k) == SQLITE_NULL) {
                vals[k] = NULL;
                lens[k] = 0;
            } else {
                vals[k] = sqlite3_column_text(st, k);
                lens[k] = (size_t)sqlite3_column_bytes(st, k);
            }
        }
        struct vt_sql_row row = {(size_t)ncol, vals, lens};
        more = fn(ctx, &row);
    }
    if (err == VT_OK && changes != NULL) {
        *changes = sqlite3_changes64(db);
    }
    stmt_put(st, cached);
    return err;
}

static void sq_close(void *conn)
{
    struct sq_conn *c = conn;
    for (size_t i = 0; i < STMT_CACHE; i++) {
        free(c->cache[i].sql);
        sqlite3_finalize(c->cache[i].st);
    }
    sqlite3_close_v2(c->db);
    free(c);
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
    struct sq_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        sqlite3_close_v2(db);
        return vt_fail(d, VT_E_NOMEM, "sqlite", "no memory");
    }
    c->db = db;
    static const char *const pragmas[] = {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                                          "PRAGMA foreign_keys=ON"};
    for (size_t i = 0; i < sizeof(pragmas) / sizeof(pragmas[0]); i++) {
        enum vt_err err = sq_exec(c, pragmas[i], NULL, 0, NULL, NULL, NULL, d);
        if (err != VT_OK) {
            sq_close(c);
            return err;
        }
    }
    *conn = c;
    *ops = &sqlite_ops;
    return VT_OK;
}
