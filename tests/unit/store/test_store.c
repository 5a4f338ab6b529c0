/*
 * The storage layer on SQLite (PostgreSQL runs the same code paths in the cache's integration
 * suite): schema creation and reopening, parameters of every type, rows of every type, change
 * counts, transactions that commit and roll back, and precise errors for bad URLs and bad SQL
 * that leave the store usable; reads on reader connections that do not wait for another thread's
 * open transaction, see what it committed once it has, and cannot write.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <semaphore.h>

#include "store/store.h"

static const char schema[] = "CREATE TABLE IF NOT EXISTS t(k TEXT PRIMARY KEY, n BIGINT NOT NULL,"
                             " b BLOB, note TEXT);\n"
                             "CREATE TABLE IF NOT EXISTS u(x INTEGER)";

struct fixture {
    char dir[64];
    char url[128];
    struct vt_store *s;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/vt-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->url, sizeof(f->url), "sqlite:%s/db", f->dir);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_store_open(f->url, schema, &f->s, &d), VT_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    vt_store_close(f->s);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

struct rows {
    size_t n;
    char k[4][32];
    int64_t v[4];
    size_t blob_len[4];
    uint8_t blob[4][8];
    bool null_note[4];
};

static bool collect(void *ctx, const struct vt_sql_row *row)
{
    struct rows *r = ctx;
    if (r->n == 4) {
        return false;
    }
    snprintf(r->k[r->n], sizeof(r->k[0]), "%s", vt_row_text(row, 0));
    r->v[r->n] = vt_row_int(row, 1);
    const uint8_t *b = vt_row_blob(row, 2, &r->blob_len[r->n]);
    if (b != NULL && r->blob_len[r->n] <= 8) {
        memcpy(r->blob[r->n], b, r->blob_len[r->n]);
    }
    r->null_note[r->n] = row->val[3] == NULL && vt_row_text(row, 3)[0] == '\0';
    r->n++;
    return true;
}

static void insert(struct vt_store *s, const char *k, int64_t n, const uint8_t *b, size_t bl)
{
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_sql_arg a[] = {VT_SQL_T(k), VT_SQL_I(n), VT_SQL_B(b, bl)};
    int64_t changes = -1;
    assert_int_equal(
        vt_store_exec(s, "INSERT INTO t(k, n, b) VALUES (?, ?, ?)", a, 3, NULL, NULL, &changes, &d),
        VT_OK);
    assert_int_equal(changes, 1);
}

static void test_params_and_rows(void **state)
{
    struct fixture *f = *state;
    static const uint8_t blob[] = {0, 1, 0xff, 0, 7};
    insert(f->s, "a", INT64_MAX, blob, sizeof(blob));
    insert(f->s, "b", -5, (const uint8_t *)"", 0);
    struct rows r = {0};
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_store_exec(f->s, "SELECT k, n, b, note FROM t ORDER BY k", NULL, 0, collect,
                                   &r, NULL, &d),
                     VT_OK);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.k[0], "a");
    assert_true(r.v[0] == INT64_MAX);
    assert_int_equal(r.blob_len[0], sizeof(blob));
    assert_memory_equal(r.blob[0], blob, sizeof(blob)); /* embedded NULs survive */
    assert_true(r.null_note[0]);
    assert_int_equal(r.v[1], -5);
    assert_int_equal(r.blob_len[1], 0);
    /* A callback returning false stops the iteration without an error. */
    struct rows few = {.n = 3};
    assert_int_equal(
        vt_store_exec(f->s, "SELECT k, n, b, note FROM t", NULL, 0, collect, &few, NULL, &d),
        VT_OK);
    assert_int_equal(few.n, 4);
}

static void test_changes(void **state)
{
    struct fixture *f = *state;
    insert(f->s, "x", 1, NULL, 0);
    insert(f->s, "y", 1, NULL, 0);
    struct vt_diag d;
    vt_diag_init(&d);
    int64_t changes = -1;
    struct vt_sql_arg a[] = {VT_SQL_I(1)};
    assert_int_equal(
        vt_store_exec(f->s, "UPDATE t SET n = n + 1 WHERE n = ?", a, 1, NULL, NULL, &changes, &d),
        VT_OK);
    assert_int_equal(changes, 2);
    /* An upsert whose guard is false writes nothing: 0 changes. */
    struct vt_sql_arg u[] = {VT_SQL_T("x"), VT_SQL_I(0)};
    assert_int_equal(vt_store_exec(f->s,
                                   "INSERT INTO t(k, n) VALUES (?, ?) ON CONFLICT(k) DO UPDATE"
                                   " SET n = excluded.n WHERE t.n <= excluded.n",
                                   u, 2, NULL, NULL, &changes, &d),
                     VT_OK);
    assert_int_equal(changes, 0);
}

static int64_t count(struct vt_store *s)
{
    struct vt_diag d;
    vt_diag_init(&d);
    struct rows r = {0};
    assert_int_equal(
        vt_store_exec(s, "SELECT 'n', COUNT(*), NULL, NULL FROM t", NULL, 0, collect, &r, NULL, &d),
        VT_OK);
    return r.v[0];
}

static void test_transactions(void **state)
{
    struct fixture *f = *state;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_store_begin(f->s, &d), VT_OK);
    insert(f->s, "r1", 1, NULL, 0);
    insert(f->s, "r2", 2, NULL, 0);
    vt_store_rollback(f->s);
    assert_int_equal(count(f->s), 0);
    assert_int_equal(vt_store_begin(f->s, &d), VT_OK);
    insert(f->s, "c1", 1, NULL, 0);
    assert_int_equal(vt_store_commit(f->s, &d), VT_OK);
    assert_int_equal(count(f->s), 1);
    /* A failing statement inside a transaction: rolled back as a whole. */
    assert_int_equal(vt_store_begin(f->s, &d), VT_OK);
    insert(f->s, "c2", 1, NULL, 0);
    struct vt_sql_arg a[] = {VT_SQL_T("c1"), VT_SQL_I(1)};
    assert_int_equal(
        vt_store_exec(f->s, "INSERT INTO t(k, n) VALUES (?, ?)", a, 2, NULL, NULL, NULL, &d),
        VT_E_STORAGE);
    vt_store_rollback(f->s);
    assert_int_equal(count(f->s), 1);
}

static void test_errors(void **state)
{
    struct fixture *f = *state;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_store_exec(f->s, "SELEC nonsense", NULL, 0, NULL, NULL, NULL, &d),
                     VT_E_STORAGE);
    assert_non_null(strstr(d.detail, "syntax"));
    vt_diag_init(&d);
    struct vt_sql_arg a[] = {VT_SQL_T("k")};
    assert_int_equal(
        vt_store_exec(f->s, "INSERT INTO t(k, n) VALUES (?, NULL)", a, 1, NULL, NULL, NULL, &d),
        VT_E_STORAGE);
    assert_non_null(strstr(d.detail, "NOT NULL"));
    /* the store stays usable */
    insert(f->s, "after", 1, NULL, 0);
    assert_int_equal(count(f->s), 1);

    struct vt_store *s = NULL;
    vt_diag_init(&d);
    assert_int_equal(vt_store_open("mysql://x", schema, &s, &d), VT_E_ARG);
    assert_null(s);
    assert_non_null(strstr(d.detail, "mysql://x"));
    vt_diag_init(&d);
    assert_int_equal(vt_store_open("sqlite:/nonexistent-dir/x/db", schema, &s, &d), VT_E_STORAGE);
    assert_null(s);
    vt_diag_init(&d);
    assert_int_equal(vt_store_open("postgres://127.0.0.1:1/none?connect_timeout=2", schema, &s, &d),
                     VT_E_STORAGE);
    assert_null(s);
}

static void test_reopen(void **state)
{
    struct fixture *f = *state;
    insert(f->s, "kept", 42, NULL, 0);
    vt_store_close(f->s);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_store_open(f->url, schema, &f->s, &d), VT_OK);
    assert_int_equal(vt_store_backend(f->s), VT_STORE_SQLITE);
    assert_int_equal(count(f->s), 1);
}

static int64_t read_count(struct vt_store *s, const char *sql)
{
    int64_t n = -1;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_store_read(s, sql, NULL, 0, vt_store_row_int, &n, &d), VT_OK);
    return n;
}

struct writer {
    struct vt_store *s;
    sem_t begun, go_on;
    int64_t own_read; /* what the writer read inside its transaction */
};

/* Begin, insert a row, let the main thread read, then commit. */
static void *write_slowly(void *arg)
{
    struct writer *w = arg;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_store_begin(w->s, &d) != VT_OK) {
        return NULL;
    }
    struct vt_sql_arg a[] = {VT_SQL_T("pending"), VT_SQL_I(1)};
    (void)!vt_store_exec(w->s, "INSERT INTO t(k, n) VALUES (?, ?)", a, 2, NULL, NULL, NULL, &d);
    w->own_read = -1;
    (void)!vt_store_read(w->s, "SELECT COUNT(*) FROM t", NULL, 0, vt_store_row_int, &w->own_read,
                         &d);
    sem_post(&w->begun);
    sem_wait(&w->go_on);
    (void)!vt_store_commit(w->s, &d);
    return NULL;
}

static void test_readers(void **state)
{
    struct fixture *f = *state;
    struct writer w = {.s = f->s};
    sem_init(&w.begun, 0, 0);
    sem_init(&w.go_on, 0, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_slowly, &w), 0);
    sem_wait(&w.begun);
    /* the writer holds the store's connection inside its transaction: a read does not wait for
     * it (if it did, this test would never end), and does not see the uncommitted row */
    assert_int_equal(read_count(f->s, "SELECT COUNT(*) FROM t"), 0);
    assert_int_equal(w.own_read, 1); /* inside its transaction, the writer sees its own row */
    sem_post(&w.go_on);
    assert_int_equal(pthread_join(t, NULL), 0);
    /* committed: every reader sees it */
    for (int i = 0; i < 8; i++) {
        assert_int_equal(read_count(f->s, "SELECT COUNT(*) FROM t WHERE k = 'pending'"), 1);
    }
    /* readers cannot write */
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_sql_arg a[] = {VT_SQL_T("x"), VT_SQL_I(2)};
    assert_int_equal(vt_store_read(f->s, "INSERT INTO t(k, n) VALUES (?, ?)", a, 2, NULL, NULL, &d),
                     VT_E_STORAGE);
    assert_int_equal(read_count(f->s, "SELECT COUNT(*) FROM t"), 1);
    sem_destroy(&w.begun);
    sem_destroy(&w.go_on);
}

/* vt_store_begin_locked: the transaction open with the statement's rows read; a failing
 * statement leaves no transaction open. (PostgreSQL's one-round-trip form runs in the broker's
 * tests on PostgreSQL: every log batch begins with it.) */
static void test_begin_locked(void **state)
{
    struct fixture *f = *state;
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_sql_arg a[] = {VT_SQL_T("a"), VT_SQL_I(7)};
    assert_int_equal(
        vt_store_exec(f->s, "INSERT INTO t(k, n) VALUES (?, ?)", a, 2, NULL, NULL, NULL, &d),
        VT_OK);
    int64_t n = 0;
    struct vt_sql_arg seven[] = {VT_SQL_I(7)};
    assert_int_equal(vt_store_begin_locked(f->s, 42, "SELECT n FROM t WHERE n = ?", seven, 1,
                                           vt_store_row_int, &n, &d),
                     VT_OK);
    assert_int_equal(n, 7);
    assert_int_equal(vt_store_commit(f->s, &d), VT_OK);
    assert_int_equal(
        vt_store_begin_locked(f->s, 42, "SELECT nothing FROM nowhere", NULL, 0, NULL, NULL, &d),
        VT_E_STORAGE);
    assert_non_null(strstr(d.detail, "nowhere"));
    /* no transaction was left open: another begins and commits */
    assert_int_equal(vt_store_begin_locked(f->s, 42, NULL, NULL, 0, NULL, NULL, &d), VT_OK);
    assert_int_equal(vt_store_commit(f->s, &d), VT_OK);
}

/* A database in memory has no readers: reads go to its one connection. */
static void test_readers_in_memory(void **state)
{
    (void)state;
    struct vt_store *s = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_store_open("sqlite::memory:", schema, &s, &d), VT_OK);
    struct vt_sql_arg a[] = {VT_SQL_T("m"), VT_SQL_I(3)};
    assert_int_equal(
        vt_store_exec(s, "INSERT INTO t(k, n) VALUES (?, ?)", a, 2, NULL, NULL, NULL, &d), VT_OK);
    assert_int_equal(read_count(s, "SELECT n FROM t WHERE k = 'm'"), 3);
    vt_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_params_and_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_begin_locked, setup, teardown),
        cmocka_unit_test(test_readers_in_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
