/* Backend-independent part of the store: URL dispatch, schema creation, locking, transactions. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

struct vt_store {
    enum vt_store_backend backend;
    void *conn;
    const struct vt_store_ops *ops;
    pthread_mutex_t lock;
    pthread_t owner; /* the thread inside a transaction */
    bool in_tx;
};

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
    if (s->in_tx && pthread_equal(s->owner, pthread_self())) {
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

enum vt_err vt_store_begin(struct vt_store *s, struct vt_diag *d)
{
    pthread_mutex_lock(&s->lock);
    const char *sql = s->backend == VT_STORE_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN";
    enum vt_err err = s->ops->exec(s->conn, sql, NULL, 0, NULL, NULL, NULL, d);
    if (err != VT_OK) {
        pthread_mutex_unlock(&s->lock);
        return err;
    }
    s->owner = pthread_self();
    s->in_tx = true;
    return VT_OK;
}

enum vt_err vt_store_commit(struct vt_store *s, struct vt_diag *d)
{
    enum vt_err err = s->ops->exec(s->conn, "COMMIT", NULL, 0, NULL, NULL, NULL, d);
    if (err != VT_OK) {
        (void)s->ops->exec(s->conn, "ROLLBACK", NULL, 0, NULL, NULL, NULL, NULL);
    }
    s->in_tx = false;
    pthread_mutex_unlock(&s->lock);
    return err;
}

void vt_store_rollback(struct vt_store *s)
{
    enum vt_err err = s->ops->exec(s->conn, "ROLLBACK", NULL, 0, NULL, NULL, NULL, NULL);
    (void)err;
    s->in_tx = false;
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
    enum vt_err err;
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        s->backend = VT_STORE_POSTGRES;
        err = vt_store_pg_open(url, &s->conn, &s->ops, d);
    } else if (strstr(url, "://") != NULL) {
        err = vt_fail(d, VT_E_ARG, "db",
                      "unknown database URL scheme in \"%.60s\"; expected sqlite:PATH or "
                      "postgres://...",
                      url);
    } else {
        s->backend = VT_STORE_SQLITE;
        err = vt_store_sqlite_open(strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url, &s->conn,
                                   &s->ops, d);
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
    if (s->ops != NULL) {
        s->ops->close(s->conn);
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

bool vt_store_row_int(void *ctx, const struct vt_sql_row *row)
{
    *(int64_t *)ctx = vt_row_int(row, 0);
    return false;
}
