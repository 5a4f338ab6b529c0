/*
 * PostgreSQL backend over libpq: `?` placeholders become $1..$n, every parameter is sent as
 * text except blobs (binary, bytea); results come back as text, bytea decoded from its "\x" hex
 * form. A broken connection is re-established once per statement (a replica survives a database
 * restart). Queries and data changes (SELECT, INSERT, UPDATE, DELETE) are prepared once per
 * connection and kept by their SQL text (the callers use a fixed set of statements), so the server
 * parses and plans each once; a new connection starts with none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "base/encoding.h"

#include "store/store.h"

#define STMT_CACHE 64

struct pg {
    PGconn *c;
    char *url;
    struct {
        char *sql; /* as the caller wrote it; NULL: a free slot */
        unsigned id;
    } cache[STMT_CACHE];
    unsigned next, ids;
};

/* Forget the prepared statements (the session that held them is gone). */
static void cache_clear(struct pg *p)
{
    for (size_t i = 0; i < STMT_CACHE; i++) {
        free(p->cache[i].sql);
        p->cache[i].sql = NULL;
    }
}

static bool preparable(const char *sql)
{
    static const char *const kinds[] = {"SELECT ", "INSERT ", "UPDATE ", "DELETE "};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strncmp(sql, kinds[i], strlen(kinds[i])) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * The name of sql's prepared statement on this connection, preparing it (q: its numbered text)
 * if it is not yet. False if it is not prepared: with *failed the server's refusal of it (the
 * statement's own error, to report), else for want of memory (the caller runs it unprepared).
 */
static bool prepared(struct pg *p, const char *sql, const char *q, int nargs, char name[24],
                     PGresult **failed)
{
    *failed = NULL;
    for (size_t i = 0; i < STMT_CACHE; i++) {
        if (p->cache[i].sql != NULL && strcmp(p->cache[i].sql, sql) == 0) {
            snprintf(name, 24, "vt%u", p->cache[i].id);
            return true;
        }
    }
    char *copy = strdup(sql);
    if (copy == NULL) {
        return false;
    }
    unsigned id = ++p->ids;
    snprintf(name, 24, "vt%u", id);
    PGresult *r = PQprepare(p->c, name, q, nargs, NULL);
    if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
        *failed = r;
        free(copy);
        return false;
    }
    PQclear(r);
    size_t i = p->next;
    p->next = (p->next + 1) % STMT_CACHE;
    if (p->cache[i].sql != NULL) {
        char dealloc[40];
        snprintf(dealloc, sizeof(dealloc), "DEALLOCATE vt%u", p->cache[i].id);
        PQclear(PQexec(p->c, dealloc));
        free(p->cache[i].sql);
    }
    p->cache[i].sql = copy;
    p->cache[i].id = id;
    return true;
}

/* Rewrite `?` placeholders as $1..$n. Our SQL has no `?` inside string literals. */
static char *number_params(const char *sql)
{
    size_t n = strlen(sql), q = 0;
    for (size_t i = 0; i < n; i++) {
        q += sql[i] == '?';
    }
    /* "$" and up to 10 digits per placeholder (an unsigned), then the NUL. */
    size_t cap = n + q * 10 + 1;
    char *out = malloc(cap);
    if (out == NULL) {
        return NULL;
    }
    size_t o = 0;
    unsigned k = 0;
    for (size_t i = 0; i < n; i++) {
        if (sql[i] == '?') {
            int w = snprintf(out + o, cap - o, "$%u", ++k);
            if (w < 0 || (size_t)w >= cap - o) {
                free(out);
                return NULL;
            }
            o += (size_t)w;
        } else {
            out[o++] = sql[i];
        }
    }
    out[o] = '\0';
    return out;
}

static enum vt_err pg_connect(struct pg *p, struct vt_diag *d)
{
    if (p->c != NULL && PQstatus(p->c) == CONNECTION_OK) {
        return VT_OK;
    }
    cache_clear(p); /* a new session: no prepared statements */
    if (p->c != NULL) {
        PQreset(p->c);
    } else {
        p->c = PQconnectdb(p->url);
    }
    if (p->c == NULL || PQstatus(p->c) != CONNECTION_OK) {
        return vt_fail(d, VT_E_STORAGE, "postgres", "cannot connect: %s",
                       p->c ? PQerrorMessage(p->c) : "out of memory");
    }
    PGresult *r = PQexec(p->c, "SET client_min_messages TO WARNING");
    PQclear(r);
    return VT_OK;
}

static enum vt_err pg_exec(void *conn, const char *sql, const struct vt_sql_arg *args, size_t nargs,
                           vt_row_fn fn, void *ctx, int64_t *changes, struct vt_diag *d)
{
    struct pg *p = conn;
    VT_ENSURE(nargs <= 32, d, VT_E_ARG, "postgres", "too many parameters (%zu)", nargs);
    char *q = number_params(sql);
    VT_ENSURE(q != NULL, d, VT_E_NOMEM, "postgres", "cannot copy the statement");
    const char *vals[32];
    int lens[32], fmts[32];
    char ints[32][24];
    for (size_t i = 0; i < nargs; i++) {
        lens[i] = 0;
        fmts[i] = 0;
        switch (args[i].type) {
        case VT_SQL_TEXT:
            vals[i] = args[i].text;
            break;
        case VT_SQL_INT:
            snprintf(ints[i], sizeof(ints[i]), "%lld", (long long)args[i].i);
            vals[i] = ints[i];
            break;
        case VT_SQL_BLOB:
            vals[i] = args[i].blob ? (const char *)args[i].blob : "";
            lens[i] = (int)args[i].len;
            fmts[i] = 1;
            break;
        default:
            vals[i] = NULL;
        }
    }
    enum vt_err err = VT_OK;
    PGresult *r = NULL;
    /* One reconnect attempt, outside transactions only (a lost transaction must fail). */
    for (int attempt = 0; attempt < 2; attempt++) {
        if ((err = pg_connect(p, d)) != VT_OK) {
            break;
        }
        char name[24];
        PGresult *failed = NULL;
        /* Not inside a failed transaction, where preparing fails too: there the statement runs
         * unprepared and reports why. */
        if (preparable(sql) && PQtransactionStatus(p->c) != PQTRANS_INERROR &&
            prepared(p, sql, q, (int)nargs, name, &failed)) {
            r = PQexecPrepared(p->c, name, (int)nargs, vals, lens, fmts, 0);
        } else if (failed != NULL) {
            r = failed;
        } else if (nargs == 0 && !preparable(sql)) {
            /* transaction control, schema, settings: the simple protocol, which also takes
             * several statements at once (vt_store_begin_locked: BEGIN and the lock in one
             * round trip); the result is the last statement's */
            r = PQexec(p->c, q);
        } else {
            r = PQexecParams(p->c, q, (int)nargs, NULL, vals, lens, fmts, 0);
        }
        if (r != NULL && PQstatus(p->c) == CONNECTION_BAD &&
            PQtransactionStatus(p->c) == PQTRANS_UNKNOWN) {
            PQclear(r);
            r = NULL;
            continue;
        }
        break;
    }
    free(q);
    if (err != VT_OK) {
        return err;
    }
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        err = vt_fail(d, VT_E_STORAGE, "postgres", "%s (in: %.80s)",
                      r ? PQresultErrorMessage(r) : PQerrorMessage(p->c), sql);
        PQclear(r);
        return err;
    }
    int nrows = PQntuples(r), ncol = PQnfields(r);
    const uint8_t *cols[32];
    size_t clens[32];
    uint8_t *decoded[32] = {0};
    bool more = fn != NULL && ncol <= 32;
    for (int row = 0; row < nrows && more; row++) {
        for (int c = 0; c < ncol; c++) {
            if (PQgetisnull(r, row, c)) {
                cols[c] = NULL;
                clens[c] = 0;
                continue;
            }
            const char *v = PQgetvalue(r, row, c);
            size_t n = (size_t)PQgetlength(r, row, c);
            if (PQftype(r, c) == 17 /* bytea */ && n >= 2 && v[0] == '\\' && v[1] == 'x') {
                size_t out_len = 0;
                decoded[c] = malloc(n / 2 + 1);
                if (decoded[c] == NULL ||
                    vt_hex_decode(v + 2, n - 2, decoded[c], n / 2 + 1, &out_len) != VT_OK) {
                    err = vt_fail(d, VT_E_STORAGE, "postgres", "bad bytea value in column %d", c);
                    more = false;
                    break;
                }
                cols[c] = decoded[c];
                clens[c] = out_len;
            } else {
                cols[c] = (const uint8_t *)v;
                clens[c] = n;
            }
        }
        if (more) {
            struct vt_sql_row sr = {(size_t)ncol, cols, clens};
            more = fn(ctx, &sr);
        }
        for (int c = 0; c < ncol; c++) {
            free(decoded[c]);
            decoded[c] = NULL;
        }
    }
    if (err == VT_OK && changes != NULL) {
        const char *t = PQcmdTuples(r);
        *changes = t[0] ? strtoll(t, NULL, 10) : 0;
    }
    PQclear(r);
    return err;
}

static void pg_close(void *conn)
{
    struct pg *p = conn;
    if (p == NULL) {
        return;
    }
    cache_clear(p);
    PQfinish(p->c);
    free(p->url);
    free(p);
}

static const struct vt_store_ops pg_ops = {pg_exec, pg_close};

enum vt_err vt_store_pg_open(const char *url, void **conn, const struct vt_store_ops **ops,
                             struct vt_diag *d)
{
    struct pg *p = calloc(1, sizeof(*p));
    VT_ENSURE(p != NULL, d, VT_E_NOMEM, "postgres", "cannot allocate the connection");
    p->url = strdup(url);
    enum vt_err err = p->url ? pg_connect(p, d) : VT_E_NOMEM;
    if (err != VT_OK) {
        pg_close(p);
        return err == VT_E_NOMEM ? vt_fail(d, err, "postgres", "out of memory") : err;
    }
    *conn = p;
    *ops = &pg_ops;
    return VT_OK;
}
