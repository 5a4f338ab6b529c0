/*
 * Backend-independent part of the store: URL dispatch, schema creation, locking, transactions,
 * and the reader connections: the writer connection is shared under the store's mutex (a
 * transaction holds it from begin to commit, fsync included), so reads that need not see a
 * transaction of their own go to up to VT_STORE_READERS more connections, opened on first use,
 * each under its own mutex, and never wait for a commit in progress.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#define VT_STORE_READERS 4

struct reader {
    pthread_mutex_t lock;
    void *conn;  /* NULL until first used */
    bool failed; /* could not be opened: reads go to the writer */
};

struct vt_store {
    enum vt_store_backend backend;
    void *conn;
    const struct vt_store_ops *ops;
    pthread_mutex_t lock;
    char *target; /* what the readers open: the SQLite path or PostgreSQL URL; NULL: no readers */
    struct reader readers[VT_STORE_READERS];
    atomic_uint next_reader;
};

/* The store whose transaction this thread is inside, if any. */
static _Thread_local const struct vt_store *tx_store;

const char *vt_row_text(const struct vt_sql_row *r, size_t i)
{
    return i < r->n && r->val[i] != NULL ? (const char *)r->val[i] : "";
}

int64_t vt_row_int(const struct vt_sql_row *r, size_t i)
{
    return i < r->n && r->val[i] != NULL ? strtoll((const char *)r->val[i], NULL, 10) : 0;
}

const uint8_t *vt_row_blob(const struct vt_sql_row *r, size_t i, size_t *len)
{
    if (i >= r->n || r->val[i] == NULL) {
        *len = 0;
        return NULL;
    }
    *len = r->len[i];
    return r->val[i];
}

enum vt_store_backend vt_store_backend(const struct vt_store *s)
{
    return s->backend;
}

/* Lock unless this thread already holds the lock inside a transaction. */
static bool lock(struct vt_store *s)
{
    if (tx_store == s) {
        return false;
    }
    pthread_mutex_lock(&s->lock);
    return true;
}

enum vt_err vt_store_exec(struct vt_store *s, const char *sql, const struct vt_sql_arg *args,
                          size_t nargs, vt_row_fn fn, void *ctx, int64_t *changes,
                          struct vt_diag *d)
{
    bool locked = lock(s);
    enum vt_err err = s->ops->exec(s->conn, sql, args, nargs, fn, ctx, changes, d);
    if (locked) {
        pthread_mutex_unlock(&s->lock);
    }
    return err;
}

/* Open reader r (its lock held): a connection of its own, refusing writes. */
static void *open_reader(struct vt_store *s)
{
    void *conn = NULL;
    const struct vt_store_ops *ops = NULL;
    enum vt_err err = s->backend == VT_STORE_POSTGRES
                          ? vt_store_pg_open(s->target, &conn, &ops, NULL)
                          : vt_store_sqlite_open(s->target, &conn, &ops, NULL);
    if (err != VT_OK) {
        return NULL;
    }
    const char *ro = s->backend == VT_STORE_POSTGRES ? "SET default_transaction_read_only = on"
                                                     : "PRAGMA query_only = 1";
    if (ops->exec(conn, ro, NULL, 0, NULL, NULL, NULL, NULL) != VT_OK) {
        ops->close(conn);
        return NULL;
    }
    return conn;
}

enum vt_err vt_store_read(struct vt_store *s, const char *sql, const struct vt_sql_arg *args,
                          size_t nargs, vt_row_fn fn, void *ctx, struct vt_diag *d)
{
    if (s->target == NULL || tx_store == s) {
        return vt_store_exec(s, sql, args, nargs, fn, ctx, NULL, d);
    }
    /* A free reader if there is one, else wait for one (round robin). */
    unsigned first = atomic_fetch_add(&s->next_reader, 1) % VT_STORE_READERS;
    struct reader *r = NULL;
    for (unsigned i = 0; i < VT_STORE_READERS && r == NULL; i++) {
        struct reader *c = &s->readers[(first + i) % VT_STORE_READERS];
        if (pthread_mutex_trylock(&c->lock) == 0) {
            r = c;
        }
    }
    if (r == NULL) {
        r = &s->readers[first];
        pthread_mutex_lock(&r->lock);
    }
    if (r->conn == NULL && !r->failed) {
        r->conn = open_reader(s);
        r->failed = r->conn == NULL;
    }
    if (r->conn == NULL) {
        pthread_mutex_unlock(&r->lock);
        return vt_store_exec(s, sql, args, nargs, fn, ctx, NULL, d);
    }
    enum vt_err err = s->ops->exec(r->conn, sql, args, nargs, fn, ctx, NULL, d);
    pthread_mutex_unlock(&r->lock);
    return err;
}

static enum vt_err begin(struct vt_store *s, const char *sql, vt_row_fn fn, void *ctx,
                         struct vt_diag *d)
{
    pthread_mutex_lock(&s->lock);
    enum vt_err err = s->ops->exec(s->conn, sql, NULL, 0, fn, ctx, NULL, d);
    if (err != VT_OK && s->backend == VT_STORE_POSTGRES) {
        /* several statements in one: a later one may have failed after BEGIN */
        (void)s->ops->exec(s->conn, "ROLLBACK", NULL, 0, NULL, NULL, NULL, NULL);
    }
    if (err != VT_OK) {
        pthread_mutex_unlock(&s->lock);
        return err;
    }
    tx_store = s;
    return VT_OK;
}

enum vt_err vt_store_begin(struct vt_store *s, struct vt_diag *d)
{
    return begin(s, s->backend == VT_STORE_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN", NULL, NULL, d);
}

/* sql with each `?` replaced by the next integer argument (PostgreSQL's simple protocol takes no
 * parameters; integers written in decimal cannot change a statement's meaning). NULL if an
 * argument is not an integer, the counts differ, or no memory. */
static char *with_ints(const char *sql, const struct vt_sql_arg *args, size_t nargs)
{
    size_t n = strlen(sql), cap = n + 21 * nargs + 1, o = 0, k = 0;
    char *out = malloc(cap);
    for (size_t i = 0; out != NULL && i < n; i++) {
        if (sql[i] != '?') {
            out[o++] = sql[i];
        } else if (k < nargs && args[k].type == VT_SQL_INT) {
            o += (size_t)snprintf(out + o, cap - o, "%lld", (long long)args[k++].i);
        } else {
            k = nargs + 1;
        }
    }
    if (out == NULL || k != nargs) {
        free(out);
        return NULL;
    }
    out[o] = '\0';
    return out;
}

enum vt_err vt_store_begin_locked(struct vt_store *s, int64_t key, const char *then,
                                  const struct vt_sql_arg *args, size_t nargs, vt_row_fn fn,
                                  void *ctx, struct vt_diag *d)
{
    if (s->backend == VT_STORE_SQLITE) {
        VT_TRY(begin(s, "BEGIN IMMEDIATE", NULL, NULL, d));
        enum vt_err err =
            then != NULL ? s->ops->exec(s->conn, then, args, nargs, fn, ctx, NULL, d) : VT_OK;
        if (err != VT_OK) {
            vt_store_rollback(s);
        }
        return err;
    }
    char *stmt = then != NULL ? with_ints(then, args, nargs) : NULL;
    VT_ENSURE(then == NULL || stmt != NULL, d, VT_E_ARG, "store",
              "the statement after BEGIN takes integer arguments only, one per placeholder");
    size_t n = 64 + (stmt != NULL ? strlen(stmt) : 0);
    char *sql = malloc(n);
    enum vt_err err = VT_E_NOMEM;
    if (sql != NULL) {
        snprintf(sql, n, "BEGIN; SELECT pg_advisory_xact_lock(%lld)%s%s", (long long)key,
                 stmt != NULL ? "; " : "", stmt != NULL ? stmt : "");
        err = begin(s, sql, stmt != NULL ? fn : NULL, ctx, d);
    } else {
        (void)vt_fail(d, err, "store", "no memory");
    }
    free(sql);
    free(stmt);
    return err;
}

enum vt_err vt_store_commit(struct vt_store *s, struct vt_diag *d)
{
    enum vt_err err = s->ops->exec(s->conn, "COMMIT", NULL, 0, NULL, NULL, NULL, d);
    if (err != VT_OK) {
        (void)s->ops->exec(s->conn, "ROLLBACK", NULL, 0, NULL, NULL, NULL, NULL);
    }
    tx_store = NULL;
    pthread_mutex_unlock(&s->lock);
    return err;
}

void vt_store_rollback(struct vt_store *s)
{
    enum vt_err err = s->ops->exec(s->conn, "ROLLBACK", NULL, 0, NULL, NULL, NULL, NULL);
    (void)err;
    tx_store = NULL;
    pthread_mutex_unlock(&s->lock);
}

/* Run the schema statements, with "BLOB" rewritten to "BYTEA" for PostgreSQL. */
static enum vt_err apply_schema(struct vt_store *s, const char *schema, struct vt_diag *d)
{
    size_t n = strlen(schema);
    char *copy = malloc(2 * n + 1);
    VT_ENSURE(copy != NULL, d, VT_E_NOMEM, "store.schema", "cannot copy the schema");
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s->backend == VT_STORE_POSTGRES && strncmp(schema + i, "BLOB", 4) == 0) {
            memcpy(copy + o, "BYTEA", 5);
            o += 5;
            i += 3;
        } else {
            copy[o++] = schema[i];
        }
    }
    copy[o] = '\0';
    /* Replicas starting together must not race on CREATE TABLE IF NOT EXISTS. */
    enum vt_err err = VT_OK;
    if (s->backend == VT_STORE_POSTGRES) {
        err = s->ops->exec(s->conn, "SELECT pg_advisory_lock(7665726974)", NULL, 0, NULL, NULL,
                           NULL, d);
    }
    char *save = NULL;
    for (char *stmt = strtok_r(copy, ";", &save); stmt != NULL && err == VT_OK;
         stmt = strtok_r(NULL, ";", &save)) {
        stmt += strspn(stmt, " \n");
        if (*stmt != '\0') {
            err = s->ops->exec(s->conn, stmt, NULL, 0, NULL, NULL, NULL, d);
        }
    }
    if (s->backend == VT_STORE_POSTGRES) {
        enum vt_err e2 = s->ops->exec(s->conn, "SELECT pg_advisory_unlock(7665726974)", NULL, 0,
                                      NULL, NULL, NULL, d);
        if (err == VT_OK) {
            err = e2;
        }
    }
    free(copy);
    return err;
}

enum vt_err vt_store_open(const char *url, const char *schema, struct vt_store **out,
                          struct vt_diag *d)
{
    VT_ENSURE(url != NULL && url[0] != '\0', d, VT_E_ARG, "db", "no database URL given");
    struct vt_store *s = calloc(1, sizeof(*s));
    VT_ENSURE(s != NULL, d, VT_E_NOMEM, "db", "cannot allocate the store");
    pthread_mutex_init(&s->lock, NULL);
    for (size_t i = 0; i < VT_STORE_READERS; i++) {
        pthread_mutex_init(&s->readers[i].lock, NULL);
    }
    enum vt_err err;
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        s->backend = VT_STORE_POSTGRES;
        s->target = strdup(url);
        err = vt_store_pg_open(url, &s->conn, &s->ops, d);
    } else if (strstr(url, "://") != NULL) {
        err = vt_fail(d, VT_E_ARG, "db",
                      "unknown database URL scheme in \"%.60s\"; expected sqlite:PATH or "
                      "postgres://...",
                      url);
    } else {
        s->backend = VT_STORE_SQLITE;
        const char *path = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
        err = vt_store_sqlite_open(path, &s->conn, &s->ops, d);
        /* An in-memory or temporary database is private to its connection: no readers. */
        if (path[0] != '\0' && strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0) {
            s->target = strdup(path);
        }
    }
    if (err == VT_OK && schema != NULL) {
        err = apply_schema(s, schema, d);
    }
    if (err != VT_OK) {
        vt_store_close(s);
        return err;
    }
    *out = s;
    return VT_OK;
}

void vt_store_close(struct vt_store *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < VT_STORE_READERS; i++) {
        if (s->readers[i].conn != NULL) {
            s->ops->close(s->readers[i].conn);
        }
        pthread_mutex_destroy(&s->readers[i].lock);
    }
    if (s->ops != NULL && s->conn != NULL) {
        s->ops->close(s->conn);
    }
    pthread_mutex_destroy(&s->lock);
    free(s->target);
    free(s);
}

bool vt_store_row_int(void *ctx, const struct vt_sql_row *row)
{
    *(int64_t *)ctx = vt_row_int(row, 0);
    return false;
}
