/*
 * One storage interface over two backends: SQLite (embedded default, WAL) and PostgreSQL
 * (several replicas on one database). Callers write portable SQL with `?` placeholders; the
 * PostgreSQL backend numbers them. Each store object owns one connection guarded by a mutex, so
 * it may be shared by threads; a transaction holds the mutex from begin to commit/rollback.
 * Reads that need not wait for that (vt_store_read) use a few more connections of their own.
 */
#ifndef VT_STORE_STORE_H
#define VT_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veritee/buf.h>
#include <veritee/error.h>

#include "crypto/aead.h"

struct vt_store;

enum vt_store_backend { VT_STORE_SQLITE = 1, VT_STORE_POSTGRES };

enum vt_sql_type { VT_SQL_NULL, VT_SQL_TEXT, VT_SQL_INT, VT_SQL_BLOB };

struct vt_sql_arg {
    enum vt_sql_type type;
    const char *text;
    int64_t i;
    const uint8_t *blob;
    size_t len;
};

#define VT_SQL_T(s) ((struct vt_sql_arg){.type = VT_SQL_TEXT, .text = (s)})
#define VT_SQL_I(v) ((struct vt_sql_arg){.type = VT_SQL_INT, .i = (int64_t)(v)})
#define VT_SQL_B(p, n) ((struct vt_sql_arg){.type = VT_SQL_BLOB, .blob = (p), .len = (n)})

/* One result row: column values as bytes (text columns NUL-terminated), NULL for SQL NULL. */
struct vt_sql_row {
    size_t n;
    const uint8_t *const *val;
    const size_t *len;
};

const char *vt_row_text(const struct vt_sql_row *r, size_t i); /* "" for NULL */
int64_t vt_row_int(const struct vt_sql_row *r, size_t i);      /* 0 for NULL */
const uint8_t *vt_row_blob(const struct vt_sql_row *r, size_t i, size_t *len);

/* Return false to stop the iteration (not an error). */
typedef bool (*vt_row_fn)(void *ctx, const struct vt_sql_row *row);
/* A vt_row_fn storing column 0 of the first row as an integer into *(int64_t *)ctx. */
bool vt_store_row_int(void *ctx, const struct vt_sql_row *row);

/*
 * Open "sqlite:PATH" (or a bare path) or "postgres://..." / "postgresql://...", and create the
 * schema if missing (each statement in `schema` separated by ";\n"; "BLOB" is rewritten to
 * "BYTEA" for PostgreSQL). Errors: VT_E_ARG for an unknown scheme, VT_E_STORAGE with the
 * backend's message.
 */
VT_MUST_USE enum vt_err vt_store_open(const char *url, const char *schema, struct vt_store **out,
                                      struct vt_diag *d);
void vt_store_close(struct vt_store *s);
enum vt_store_backend vt_store_backend(const struct vt_store *s);

/* Run one statement; rows (if any) go to fn. *changes (optional) gets the affected row count. */
VT_MUST_USE enum vt_err vt_store_exec(struct vt_store *s, const char *sql,
                                      const struct vt_sql_arg *args, size_t nargs, vt_row_fn fn,
                                      void *ctx, int64_t *changes, struct vt_diag *d);

/*
 * Run one read-only statement on a reader connection: it does not wait for a transaction being
 * committed on the store's connection, and sees every commit that completed before it started.
 * Inside this thread's own transaction, or where the store has no readers (a SQLite database in
 * memory; a reader that cannot be opened), it runs as vt_store_exec. Reader connections refuse
 * writes.
 */
VT_MUST_USE enum vt_err vt_store_read(struct vt_store *s, const char *sql,
                                      const struct vt_sql_arg *args, size_t nargs, vt_row_fn fn,
                                      void *ctx, struct vt_diag *d);

/* Transactions. begin takes the store's lock until commit or rollback; rollback never fails. */
VT_MUST_USE enum vt_err vt_store_begin(struct vt_store *s, struct vt_diag *d);
/*
 * The same, holding PostgreSQL's transaction-scoped advisory lock `key` from the start, then
 * running `then` (or nothing, if NULL) inside the transaction with its rows to fn. On SQLite,
 * whose write transaction is exclusive anyway, vt_store_begin and then `then` with its arguments
 * (one cached statement). On PostgreSQL all three go in one round trip, so `then`'s arguments
 * must be integers (VT_E_ARG otherwise): they are written into its text. On failure no
 * transaction is open.
 */
VT_MUST_USE enum vt_err vt_store_begin_locked(struct vt_store *s, int64_t key, const char *then,
                                              const struct vt_sql_arg *args, size_t nargs,
                                              vt_row_fn fn, void *ctx, struct vt_diag *d);
VT_MUST_USE enum vt_err vt_store_commit(struct vt_store *s, struct vt_diag *d);
void vt_store_rollback(struct vt_store *s);

/* Bearer tokens for admin APIs, stored as SHA-256 hashes (table vt_tokens: the core component
 * of migrations.c). A token is "vt_" and 56 hex characters from the system CSPRNG, shown once. */
VT_MUST_USE enum vt_err vt_tokens_create(struct vt_store *s, const char *role, const char *name,
                                         int64_t now, char token[64], struct vt_diag *d);
/* Store a token the operator chose (8 to 200 printable ASCII characters, no spaces), e.g. the
 * password PCKIDRetrievalTool's network_setting.conf already holds. */
VT_MUST_USE enum vt_err vt_tokens_add(struct vt_store *s, const char *role, const char *name,
                                      int64_t now, const char *value, struct vt_diag *d);
/* True if token hashes to a stored token of this role or of role "admin"; every stored hash is
 * compared in constant time. */
bool vt_tokens_check(struct vt_store *s, const char *token, const char *role);

/* Values sealed at rest go through the one AEAD (src/crypto/aead.h: vt_aead_seal, vt_aead_open);
 * a broker secret version is at most one sealed value. */
#define VT_SEALED_MAX VT_AEAD_SEAL_MAX

/* Backend entry points (store_sqlite.c, store_pg.c). */
struct vt_store_ops {
    enum vt_err (*exec)(void *conn, const char *sql, const struct vt_sql_arg *args, size_t nargs,
                        vt_row_fn fn, void *ctx, int64_t *changes, struct vt_diag *d);
    void (*close)(void *conn);
};
VT_MUST_USE enum vt_err vt_store_sqlite_open(const char *path, void **conn,
                                             const struct vt_store_ops **ops, struct vt_diag *d);
VT_MUST_USE enum vt_err vt_store_pg_open(const char *url, void **conn,
                                         const struct vt_store_ops **ops, struct vt_diag *d);

#endif
