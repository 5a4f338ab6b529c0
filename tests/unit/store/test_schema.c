/*
 * Schema versions and migrations (src/store/schema.c) with a test-only component "test" of
 * three steps, opened by "binaries" that know one, two or three of them: creation, migration of
 * an older database (data kept), adoption of unrecorded tables, refusals (newer, pending outside
 * migrate mode, absent in read mode) that change nothing, a failing step that rolls back every
 * step of the run, a corrupt record, two processes migrating at once (each step applied once:
 * step 2 is not idempotent, so a second run would fail), and the rules every step of veritee's
 * own components keeps (src/store/migrations.c). On SQLite; on PostgreSQL too when
 * VT_TEST_SCHEMA_DB names an empty database (tests/integration/db_upgrade.sh postgres).
 */
#include <ctype.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"

#include "store/schema.h"

static enum vt_err slow(struct vt_store *s, struct vt_diag *d)
{
    (void)s;
    (void)d;
    usleep(300 * 1000); /* long enough for a second process to come and wait */
    return VT_OK;
}

#define STEP_A                                                                                     \
    {                                                                                              \
        "tm_a", "CREATE TABLE IF NOT EXISTS tm_a(k TEXT PRIMARY KEY, n BIGINT NOT NULL)", NULL     \
    }
/* not idempotent: applied twice, it fails */
#define STEP_NOTE                                                                                  \
    {                                                                                              \
        "tm_a.note", "ALTER TABLE tm_a ADD COLUMN note TEXT NOT NULL DEFAULT 'none'", slow         \
    }
static const struct vt_schema_step steps[] = {
    STEP_A,
    STEP_NOTE,
    {"tm_b and its row", "CREATE TABLE tm_b(x BIGINT NOT NULL);\nINSERT INTO tm_b(x) VALUES (42)",
     NULL},
};
static const struct vt_schema_component v1 = {"test", "tm_a", steps, 1};
static const struct vt_schema_component v2 = {"test", "tm_a", steps, 2};
static const struct vt_schema_component v3 = {"test", "tm_a", steps, 3};

static const struct vt_schema_step bad_steps[] = {
    STEP_A,
    STEP_NOTE,
    {"a step that fails", "INSERT INTO tm_missing(x) VALUES (1)", NULL},
};
static const struct vt_schema_component v3_bad = {"test", "tm_a", bad_steps, 3};

struct fixture {
    char dir[64];
    char url[512];
    struct vt_store *s;
};

static const char *pg_url(void)
{
    const char *u = getenv("VT_TEST_SCHEMA_DB");
    return u != NULL && u[0] != '\0' ? u : NULL;
}

static void exec(struct vt_store *s, const char *sql)
{
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_store_exec(s, sql, NULL, 0, NULL, NULL, NULL, &d) != VT_OK) {
        fail_msg("%s: %s", sql, d.detail);
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (pg_url() != NULL) {
        snprintf(f->url, sizeof(f->url), "%s", pg_url());
    } else {
        snprintf(f->dir, sizeof(f->dir), "/tmp/vt-schema-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->url, sizeof(f->url), "sqlite:%s/db", f->dir);
    }
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_store_open(f->url, NULL, &f->s, &d), VT_OK);
    /* a shared PostgreSQL database keeps the tables of the previous test (test code, not a
     * step: steps never drop) */
    exec(f->s, "DROP TABLE IF EXISTS tm_a");
    exec(f->s, "DROP TABLE IF EXISTS tm_b");
    exec(f->s, "DROP TABLE IF EXISTS vt_schema");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    vt_store_close(f->s);
    if (f->dir[0] != '\0') {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
        assert_int_equal(system(cmd), 0);
    }
    free(f);
    return 0;
}

static enum vt_err apply(struct vt_store *s, const struct vt_schema_component *c,
                         enum vt_schema_mode mode, struct vt_schema_plan *done, struct vt_diag *d)
{
    const struct vt_schema_component *comps[] = {c};
    vt_diag_init(d);
    return vt_schema_apply(s, comps, 1, mode, done, d);
}

static struct vt_schema_state state_of(struct vt_store *s, const struct vt_schema_component *c)
{
    const struct vt_schema_component *comps[] = {c};
    struct vt_schema_state st;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_schema_inspect(s, comps, 1, &st, &d), VT_OK);
    return st;
}

static int64_t count(struct vt_store *s, const char *sql)
{
    int64_t n = -1;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_store_exec(s, sql, NULL, 0, vt_store_row_int, &n, NULL, &d) != VT_OK) {
        return -1; /* e.g. no such table */
    }
    return n;
}

static bool have_table(struct vt_store *s, const char *t)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             vt_store_backend(s) == VT_STORE_SQLITE
                 ? "SELECT COUNT(*) FROM sqlite_master WHERE name = '%s'"
                 : "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = '%s'",
             t);
    return count(s, sql) > 0;
}

static bool have_note(struct vt_store *s)
{
    return count(s, "SELECT COUNT(note) FROM tm_a") >= 0;
}

static void test_create(void **state)
{
    struct fixture *f = *state;
    struct vt_schema_plan p;
    struct vt_diag d;
    assert_int_equal(state_of(f->s, &v3).version, 0);
    assert_int_equal(apply(f->s, &v3, VT_SCHEMA_CREATE, &p, &d), VT_OK);
    assert_int_equal(p.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(p.a[i].version, i + 1);
        assert_int_equal(p.a[i].kind, VT_SCHEMA_ACT_CREATE);
    }
    struct vt_schema_state st = state_of(f->s, &v3);
    assert_int_equal(st.version, 3);
    assert_true(st.recorded);
    assert_string_equal(st.by, VT_VERSION);
    assert_int_equal(count(f->s, "SELECT COUNT(*) FROM vt_schema WHERE component = 'test'"), 3);
    assert_int_equal(count(f->s, "SELECT x FROM tm_b"), 42);
    /* current: nothing to do, and read mode accepts it */
    assert_int_equal(apply(f->s, &v3, VT_SCHEMA_MIGRATE, &p, &d), VT_OK);
    assert_int_equal(p.n, 0);
    assert_int_equal(apply(f->s, &v3, VT_SCHEMA_READ, &p, &d), VT_OK);
}

static void test_migrate_keeps_data(void **state)
{
    struct fixture *f = *state;
    struct vt_schema_plan p;
    struct vt_diag d;
    assert_int_equal(apply(f->s, &v1, VT_SCHEMA_MIGRATE, &p, &d), VT_OK);
    exec(f->s, "INSERT INTO tm_a(k, n) VALUES ('kept', 7)");
    assert_int_equal(apply(f->s, &v3, VT_SCHEMA_MIGRATE, &p, &d), VT_OK);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.a[0].version, 2);
    assert_int_equal(p.a[0].kind, VT_SCHEMA_ACT_MIGRATE);
    assert_int_equal(p.a[1].version, 3);
    assert_int_equal(state_of(f->s, &v3).version, 3);
    assert_int_equal(count(f->s, "SELECT n FROM tm_a WHERE k = 'kept' AND note = 'none'"), 7);
    assert_int_equal(count(f->s, "SELECT x FROM tm_b"), 42);
}

static void test_adopt(void **state)
{
    struct fixture *f = *state;
    struct vt_schema_plan p;
    struct vt_diag d;
    /* tables of version 1 from before versions were recorded */
    exec(f->s, "CREATE TABLE tm_a(k TEXT PRIMARY KEY, n BIGINT NOT NULL)");
    exec(f->s, "INSERT INTO tm_a(k, n) VALUES ('old', 1)");
    struct vt_schema_state st = state_of(f->s, &v1);
    assert_int_equal(st.version, 1);
    assert_false(st.recorded);
    /* read mode takes them as version 1 and writes nothing */
    assert_int_equal(apply(f->s, &v1, VT_SCHEMA_READ, &p, &d), VT_OK);
    assert_int_equal(p.n, 0);
    assert_false(have_table(f->s, "vt_schema"));
    /* a writable open records them */
    assert_int_equal(apply(f->s, &v1, VT_SCHEMA_CREATE, &p, &d), VT_OK);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.a[0].kind, VT_SCHEMA_ACT_ADOPT);
    st = state_of(f->s, &v1);
    assert_true(st.recorded);
    assert_int_equal(st.version, 1);
    assert_int_equal(count(f->s, "SELECT COUNT(*) FROM vt_schema WHERE name LIKE 'adopted: %'"), 1);
    assert_int_equal(count(f->s, "SELECT n FROM tm_a WHERE k = 'old'"), 1);
    /* adopted, then migrated in one run */
    exec(f->s, "DROP TABLE vt_schema");
    assert_int_equal(apply(f->s, &v2, VT_SCHEMA_MIGRATE, &p, &d), VT_OK);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.a[0].kind, VT_SCHEMA_ACT_ADOPT);
    assert_int_equal(p.a[1].kind, VT_SCHEMA_ACT_MIGRATE);
    assert_int_equal(state_of(f->s, &v2).version, 2);
}

static void test_pending_refused(void **state)
{
    struct fixture *f = *state;
    struct vt_schema_plan p;
    struct vt_diag d;
    assert_int_equal(apply(f->s, &v1, VT_SCHEMA_MIGRATE, &p, &d), VT_OK);
    enum vt_schema_mode modes[] = {VT_SCHEMA_CREATE, VT_SCHEMA_READ};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(apply(f->s, &v3, modes[i], &p, &d), VT_E_STATE);
        assert_string_equal(d.check, "schema.pending");
        assert_non_null(strstr(d.detail, "test schema is at version 1, this veritee"));
        assert_non_null(strstr(d.detail, "'s is 3 (step 2: tm_a.note, ...)"));
        assert_non_null(strstr(d.detail, "veritee db migrate"));
        assert_int_equal(p.n, 0);
    }
    assert_int_equal(state_of(f->s, &v3).version, 1);
    assert_false(have_note(f->s));
}

static void test_newer_refused(void **state)
{
    struct fixture *f = *state;
    struct vt_schema_plan p;
    struct vt_diag d;
    assert_int_equal(apply(f->s, &v3, VT_SCHEMA_MIGRATE, &p, &d), VT_OK);
    exec(f->s, "UPDATE vt_schema SET veritee_version = '9.9.9' WHERE version = 3");
    enum vt_schema_mode modes[] = {VT_SCHEMA_MIGRATE, VT_SCHEMA_CREATE, VT_SCHEMA_READ};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(apply(f->s, &v1, modes[i], &p, &d), VT_E_UNSUPPORTED_VERSION);
        assert_string_equal(d.check, "schema.newer");
        assert_non_null(
            strstr(d.detail, "test schema is at version 3 (migrated by veritee 9.9.9)"));
        assert_non_null(strstr(d.detail, "knows version 1 at most"));
    }
    assert_int_equal(count(f->s, "SELECT COUNT(*) FROM vt_schema"), 3);
}

static void test_absent_in_read_mode(void **state)
{
    struct fixture *f = *state;
    struct vt_schema_plan p;
    struct vt_diag d;
    assert_int_equal(apply(f->s, &v1, VT_SCHEMA_READ, &p, &d), VT_E_NOT_FOUND);
    assert_string_equal(d.check, "schema.absent");
    assert_non_null(strstr(d.detail, "no test schema (no table tm_a"));
    assert_false(have_table(f->s, "vt_schema"));
    assert_false(have_table(f->s, "tm_a"));
}

static void test_failing_step_rolls_back(void **state)
{
    struct fixture *f = *state;
    struct vt_schema_plan p;
    struct vt_diag d;
    /* on an empty database: nothing at all is left, not even vt_schema */
    assert_int_equal(apply(f->s, &v3_bad, VT_SCHEMA_MIGRATE, &p, &d), VT_E_STORAGE);
    assert_string_equal(d.check, "schema.step");
    assert_non_null(strstr(d.detail, "test step 3 (a step that fails) failed"));
    assert_non_null(strstr(d.detail, "tm_missing"));
    assert_int_equal(p.n, 0);
    assert_false(have_table(f->s, "tm_a"));
    assert_false(have_table(f->s, "vt_schema"));
    /* on a database at version 1: steps 2 and 3 both undone, the data kept */
    assert_int_equal(apply(f->s, &v1, VT_SCHEMA_MIGRATE, &p, &d), VT_OK);
    exec(f->s, "INSERT INTO tm_a(k, n) VALUES ('kept', 7)");
    assert_int_equal(apply(f->s, &v3_bad, VT_SCHEMA_MIGRATE, &p, &d), VT_E_STORAGE);
    assert_int_equal(state_of(f->s, &v3).version, 1);
    assert_false(have_note(f->s));
    assert_int_equal(count(f->s, "SELECT n FROM tm_a WHERE k = 'kept'"), 7);
    /* and the store is usable: the real steps apply */
    assert_int_equal(apply(f->s, &v3, VT_SCHEMA_MIGRATE, &p, &d), VT_OK);
    assert_int_equal(state_of(f->s, &v3).version, 3);
}

static void test_records(void **state)
{
    struct fixture *f = *state;
    struct vt_schema_plan p;
    struct vt_diag d;
    assert_int_equal(apply(f->s, &v2, VT_SCHEMA_MIGRATE, &p, &d), VT_OK);
    /* another veritee's component is not ours to judge */
    exec(f->s, "INSERT INTO vt_schema(component, version, name, applied_at, veritee_version)"
               " VALUES ('future', 5, 'x', 0, '9.0')");
    assert_int_equal(apply(f->s, &v2, VT_SCHEMA_READ, &p, &d), VT_OK);
    /* a version below 1 is corrupt */
    exec(f->s, "INSERT INTO vt_schema(component, version, name, applied_at, veritee_version)"
               " VALUES ('test', 0, 'x', 0, '9.0')");
    assert_int_equal(apply(f->s, &v2, VT_SCHEMA_MIGRATE, &p, &d), VT_E_INTEGRITY);
    assert_string_equal(d.check, "schema.record");
    assert_non_null(strstr(d.detail, "version 0 of component test"));
}

struct racer {
    const char *url;
    size_t applied;
    enum vt_err err;
    char detail[VT_DIAG_DETAIL_MAX];
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_store *s = NULL;
    struct vt_schema_plan p = {.n = 0};
    r->err = vt_store_open(r->url, NULL, &s, &d);
    if (r->err == VT_OK) {
        r->err = apply(s, &v3, VT_SCHEMA_MIGRATE, &p, &d);
    }
    r->applied = p.n;
    snprintf(r->detail, sizeof(r->detail), "%s", d.detail);
    vt_store_close(s);
    return NULL;
}

static void test_concurrent(void **state)
{
    struct fixture *f = *state;
    struct vt_schema_plan p;
    struct vt_diag d;
    assert_int_equal(apply(f->s, &v1, VT_SCHEMA_MIGRATE, &p, &d), VT_OK);
    /* Two processes (own connections) start together: one applies steps 2 and 3 (step 2 takes
     * 300 ms), the other waits for the lock and then finds them applied. */
    struct racer r[2] = {{.url = f->url}, {.url = f->url}};
    pthread_t t[2];
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (size_t i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        if (r[i].err != VT_OK) {
            fail_msg("migrator %zu: %s", i, r[i].detail);
        }
    }
    assert_int_equal(r[0].applied + r[1].applied, 2);
    assert_int_equal(count(f->s, "SELECT COUNT(*) FROM vt_schema WHERE component = 'test'"), 3);
    assert_int_equal(state_of(f->s, &v3).version, 3);
}

static bool contains_word(const char *sql, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = sql; *p != '\0'; p++) {
        if (strncasecmp(p, word, n) == 0 && (p == sql || !isalnum((unsigned char)p[-1])) &&
            !isalnum((unsigned char)p[n])) {
            return true;
        }
    }
    return false;
}

static void test_catalogue_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vt_schema_all) / sizeof(vt_schema_all[0]); i++) {
        const struct vt_schema_component *c = vt_schema_all[i];
        assert_true(strlen(c->name) > 0 && strlen(c->name) < VT_SCHEMA_NAME_MAX);
        assert_true(c->n_steps >= 1 && c->n_steps <= VT_SCHEMA_MAX_STEPS);
        char probe[96];
        snprintf(probe, sizeof(probe), "CREATE TABLE IF NOT EXISTS %s(", c->probe);
        assert_non_null(strstr(c->steps[0].sql, probe)); /* step 1 makes the probe table */
        for (size_t j = 0; j < c->n_steps; j++) {
            const struct vt_schema_step *s = &c->steps[j];
            assert_true(s->name != NULL && s->name[0] != '\0');
            assert_true(s->sql != NULL || s->run != NULL);
            static const char *const never[] = {"DROP", "DELETE", "TRUNCATE", "RENAME", "REPLACE"};
            for (size_t k = 0; s->sql != NULL && k < sizeof(never) / sizeof(never[0]); k++) {
                if (contains_word(s->sql, never[k])) {
                    fail_msg("%s step %zu uses %s: steps never remove data", c->name, j + 1,
                             never[k]);
                }
            }
        }
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(vt_schema_all[j]->name, c->name);
        }
    }
}

static bool collect(void *ctx, const char *stmt)
{
    char *out = ctx; /* 512 bytes */
    size_t used = strlen(out);
    snprintf(out + used, 512 - used, "%s|", stmt);
    return true;
}

static void test_step_sql(void **state)
{
    (void)state;
    const struct vt_schema_step s = {
        "x", "CREATE TABLE t(b BLOB NOT NULL);\n CREATE INDEX i ON t(b)", NULL};
    char pg[512] = "", sq[512] = "";
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_schema_step_sql(&s, VT_STORE_POSTGRES, collect, pg, &d), VT_OK);
    assert_string_equal(pg, "CREATE TABLE t(b BYTEA NOT NULL)|CREATE INDEX i ON t(b)|");
    assert_int_equal(vt_schema_step_sql(&s, VT_STORE_SQLITE, collect, sq, &d), VT_OK);
    assert_string_equal(sq, "CREATE TABLE t(b BLOB NOT NULL)|CREATE INDEX i ON t(b)|");
}

static void test_veritee_components(void **state)
{
    struct fixture *f = *state;
    struct vt_schema_plan p;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(
        vt_schema_apply(f->s, vt_schema_all, VT_SCHEMA_ALL_N, VT_SCHEMA_MIGRATE, &p, &d), VT_OK);
    size_t steps_total = 0;
    for (size_t i = 0; i < VT_SCHEMA_ALL_N; i++) {
        steps_total += vt_schema_all[i]->n_steps;
    }
    assert_int_equal(p.n, steps_total);
    struct vt_schema_state st[VT_SCHEMA_ALL_N];
    assert_int_equal(vt_schema_inspect(f->s, vt_schema_all, VT_SCHEMA_ALL_N, st, &d), VT_OK);
    for (size_t i = 0; i < VT_SCHEMA_ALL_N; i++) {
        assert_int_equal(st[i].version, vt_schema_all[i]->n_steps);
        assert_true(st[i].recorded);
    }
    /* leave nothing for the next test on a shared database */
    if (pg_url() != NULL) {
        static const char *const tables[] = {
            "vt_meta",         "vt_tokens",       "vt_items",        "vt_enforce",
            "vt_platforms",    "vt_policies",     "vb_nonces",       "vb_keys",
            "vb_key_versions", "vb_signing_keys", "vb_policy",       "vb_log",
            "vb_checkpoints",  "vb_decisions",    "vb_kbs_sessions", "vk_keys",
            "vk_key_versions", "vk_key_policies", "vk_aliases",      "vk_access_keys"};
        for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
            char sql[96];
            snprintf(sql, sizeof(sql), "DROP TABLE %s", tables[i]);
            exec(f->s, sql);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_keeps_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adopt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent_in_read_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_step_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
        cmocka_unit_test(test_catalogue_rules),
        cmocka_unit_test(test_step_sql),
        cmocka_unit_test_setup_teardown(test_veritee_components, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
