/*
 * The replica registry (src/store/replicas.c, GET /admin/v1/log/status "replicas"): two brokers
 * on one SQLite file (or, with VT_TEST_BROKER_DB=postgres://..., on one PostgreSQL database: run
 * by tests/integration/broker_postgres.sh) each list both, themselves marked, with the log each
 * last committed; a replica without a heartbeat for more than three intervals is stale and one
 * gone for more than a day is deleted by the next heartbeat, one that stops cleanly leaves at
 * once; bad roles and intervals are refused
 * with nothing written; the endpoint refuses a request without the admin token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker_harness.h"
#include "crypto/jose.h"
#include "store/replicas.h"

/* Two brokers on one database: the second on the first's SQLite file (or the PostgreSQL URL). */
static void two_brokers(struct bh **a, struct bh **b)
{
    const char *pg = getenv("VT_TEST_BROKER_DB");
    *a = bh_start_db(vt_time_now(), "", 300, 600, NULL, pg);
    assert_non_null(*a);
    char db[128];
    snprintf(db, sizeof(db), "sqlite:%s/broker.db", (*a)->dir);
    *b = bh_start_db(vt_time_now(), "", 300, 600, NULL, pg != NULL ? pg : db);
    assert_non_null(*b);
}

/* The row of id in an array of replicas, NULL if absent. */
static json_t *replica_of(json_t *arr, const char *id)
{
    size_t i;
    json_t *r;
    json_array_foreach(arr, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "id")), id) == 0) {
            return r;
        }
    }
    return NULL;
}

static json_t *log_status(struct bh *h)
{
    json_t *o = NULL;
    assert_int_equal(bh_call(h, "GET", "/admin/v1/log/status", NULL, h->admin, &o, NULL), 200);
    assert_true(json_is_array(json_object_get(o, "replicas")));
    return o;
}

static long attest(struct bh *h)
{
    char nonce[64];
    uint8_t raw[32];
    assert_true(bh_challenge(h, nonce, raw));
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_jwk *key = NULL;
    assert_int_equal(vt_jwk_generate("P-256", &key, &d), VT_OK);
    json_t *body = bh_attest_body(h, VT_TEE_SGX, nonce, raw, key, 0);
    char *text = json_dumps(body, JSON_COMPACT);
    long st = bh_call(h, "POST", "/v1/attest", text, NULL, NULL, NULL);
    free(text);
    json_decref(body);
    vt_jwk_free(key);
    return st;
}

static void test_two_brokers_see_each_other(void **state)
{
    (void)state;
    struct bh *a, *b;
    two_brokers(&a, &b);
    struct vt_diag d;
    vt_diag_init(&d);
    /* before they register: listed nowhere */
    json_t *o = log_status(a);
    assert_null(replica_of(json_object_get(o, "replicas"), "none"));
    json_decref(o);
    assert_int_equal(vt_broker_replica_start(a->b, 0, &d), VT_OK);
    assert_int_equal(vt_broker_replica_start(b->b, 0, &d), VT_OK);
    const char *ia = vt_replica_id(a->b->replica), *ib = vt_replica_id(b->b->replica);
    assert_int_equal(strlen(ia), 16);
    assert_string_not_equal(ia, ib);

    struct bh *both[2] = {a, b};
    for (size_t k = 0; k < 2; k++) {
        o = log_status(both[k]);
        json_t *arr = json_object_get(o, "replicas");
        json_t *ra = replica_of(arr, ia), *rb = replica_of(arr, ib);
        assert_non_null(ra);
        assert_non_null(rb);
        assert_int_equal(json_is_true(json_object_get(ra, "self")), k == 0);
        assert_int_equal(json_is_true(json_object_get(rb, "self")), k == 1);
        for (json_t *r = ra; r != NULL; r = r == ra ? rb : NULL) {
            assert_string_equal(json_string_value(json_object_get(r, "role")), "broker");
            assert_int_equal(json_integer_value(json_object_get(r, "pid")), (json_int_t)getpid());
            assert_string_equal(json_string_value(json_object_get(r, "version")), VT_VERSION);
            assert_int_equal(json_integer_value(json_object_get(r, "interval_s")),
                             VT_REPLICA_INTERVAL_DEFAULT);
            assert_false(json_is_true(json_object_get(r, "stale")));
            assert_true(json_integer_value(json_object_get(r, "age_s")) <=
                        VT_REPLICA_STALE_INTERVALS * VT_REPLICA_INTERVAL_DEFAULT);
            assert_non_null(json_string_value(json_object_get(r, "host")));
            assert_non_null(json_string_value(json_object_get(r, "started")));
            assert_non_null(json_string_value(json_object_get(r, "last_seen")));
            assert_int_equal(json_integer_value(json_object_get(r, "log_size")), 0);
            assert_true(json_is_integer(json_object_get(r, "log_batches")));
        }
        json_decref(o);
    }

    /* a commits to the log; its next heartbeat says so, and b sees it */
    assert_int_equal(attest(a), 200);
    assert_int_equal(vt_replica_beat(a->b->replica, &d), VT_OK);
    o = log_status(b);
    json_t *ra = replica_of(json_object_get(o, "replicas"), ia);
    assert_int_equal(json_integer_value(json_object_get(ra, "log_size")), 1);
    assert_true(json_integer_value(json_object_get(ra, "log_batches")) >= 1);
    assert_int_equal(json_integer_value(json_object_get(
                         replica_of(json_object_get(o, "replicas"), ib), "log_size")),
                     0);
    json_decref(o);

    /* the endpoint is the admin's */
    assert_int_equal(bh_call(b, "GET", "/admin/v1/log/status", NULL, NULL, NULL, NULL), 401);
    assert_int_equal(bh_call(b, "GET", "/admin/v1/log/status", NULL, "vt_wrong", NULL, NULL), 401);
    bh_stop(b);
    bh_stop(a);
}

static int64_t test_now;
static int64_t test_clock(void *ctx)
{
    (void)ctx;
    return test_now;
}

/* Stale after three intervals without a heartbeat, deleted after a day; on a clock of the test's
 * (no thread: each heartbeat is the test's call). */
static void test_stale_and_forgotten(void **state)
{
    (void)state;
    struct bh *h = bh_start_db(vt_time_now(), "", 300, 600, NULL, getenv("VT_TEST_BROKER_DB"));
    assert_non_null(h);
    struct vt_store *s = h->b->store;
    struct vt_diag d;
    vt_diag_init(&d);
    test_now = 1800000000;
    struct vt_replica_opts o = {
        .role = "cache", .interval = 10, .now = test_clock, .no_thread = true};
    struct vt_replica *x = NULL, *y = NULL;
    assert_int_equal(vt_replica_start(s, &o, &x, &d), VT_OK);
    assert_int_equal(vt_replica_start(s, &o, &y, &d), VT_OK);

    /* y beats, x does not: 30 s (three intervals) later x is not yet stale, 31 s later it is */
    test_now += 30;
    assert_int_equal(vt_replica_beat(y, &d), VT_OK);
    json_t *arr = vt_replicas_json(s, test_now, vt_replica_id(y), &d);
    assert_non_null(arr);
    json_t *rx = replica_of(arr, vt_replica_id(x));
    assert_false(json_is_true(json_object_get(rx, "stale")));
    assert_int_equal(json_integer_value(json_object_get(rx, "age_s")), 30);
    assert_null(json_object_get(rx, "log_size")); /* a cache has no log */
    json_decref(arr);
    test_now += 1;
    arr = vt_replicas_json(s, test_now, vt_replica_id(y), &d);
    rx = replica_of(arr, vt_replica_id(x));
    json_t *ry = replica_of(arr, vt_replica_id(y));
    assert_true(json_is_true(json_object_get(rx, "stale")));
    assert_int_equal(json_integer_value(json_object_get(rx, "age_s")), 31);
    assert_false(json_is_true(json_object_get(ry, "stale")));
    assert_true(json_is_true(json_object_get(ry, "self")));
    assert_false(json_is_true(json_object_get(rx, "self")));
    /* newest heartbeat first */
    assert_ptr_equal(json_array_get(arr, 0), ry);
    json_decref(arr);

    /* a day after x's last heartbeat, y's heartbeat keeps x; a second later it deletes it */
    test_now = 1800000000 + VT_REPLICA_FORGET_AFTER;
    assert_int_equal(vt_replica_beat(y, &d), VT_OK);
    arr = vt_replicas_json(s, test_now, NULL, &d);
    assert_non_null(replica_of(arr, vt_replica_id(x)));
    json_decref(arr);
    test_now += 1;
    assert_int_equal(vt_replica_beat(y, &d), VT_OK);
    arr = vt_replicas_json(s, test_now, NULL, &d);
    assert_null(replica_of(arr, vt_replica_id(x)));
    assert_non_null(replica_of(arr, vt_replica_id(y)));
    json_decref(arr);
    vt_replica_stop(x);

    /* a replica that stops cleanly leaves the registry at once */
    struct vt_replica *z = NULL;
    assert_int_equal(vt_replica_start(s, &o, &z, &d), VT_OK);
    char zid[17];
    snprintf(zid, sizeof(zid), "%s", vt_replica_id(z));
    arr = vt_replicas_json(s, test_now, NULL, &d);
    assert_non_null(replica_of(arr, zid));
    json_decref(arr);
    vt_replica_stop(z);
    arr = vt_replicas_json(s, test_now, NULL, &d);
    assert_null(replica_of(arr, zid));
    assert_non_null(replica_of(arr, vt_replica_id(y)));
    json_decref(arr);
    vt_replica_stop(y);
    bh_stop(h);
}

static size_t count_rows(struct vt_store *s)
{
    int64_t n = -1;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_store_exec(s, "SELECT COUNT(*) FROM vt_replicas", NULL, 0, vt_store_row_int,
                                   &n, NULL, &d),
                     VT_OK);
    return (size_t)n;
}

/* A role other than broker or cache, an interval outside 1 to 3600 s: refused, nothing written. */
static void test_bad_options(void **state)
{
    (void)state;
    struct bh *h = bh_start_db(vt_time_now(), "", 300, 600, NULL, getenv("VT_TEST_BROKER_DB"));
    assert_non_null(h);
    struct vt_store *s = h->b->store;
    size_t before = count_rows(s);
    static const struct {
        const char *role;
        int64_t interval;
        const char *check;
    } bad[] = {{NULL, 5, "replica.role"},
               {"", 5, "replica.role"},
               {"kms", 5, "replica.role"},
               {"Broker", 5, "replica.role"},
               {"broker", -1, "replica.interval"},
               {"cache", 3601, "replica.interval"},
               {"cache", INT64_MIN, "replica.interval"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct vt_diag d;
        vt_diag_init(&d);
        struct vt_replica_opts o = {.role = bad[i].role, .interval = bad[i].interval};
        struct vt_replica *r = NULL;
        assert_int_equal(vt_replica_start(s, &o, &r, &d), VT_E_ARG);
        assert_null(r);
        assert_string_equal(d.check, bad[i].check);
    }
    assert_int_equal(count_rows(s), before);
    /* the bounds themselves are fine */
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_replica *r1 = NULL, *r2 = NULL;
    struct vt_replica_opts lo = {.role = "broker", .interval = 1, .no_thread = true};
    struct vt_replica_opts hi = {.role = "cache", .interval = 3600, .no_thread = true};
    assert_int_equal(vt_replica_start(s, &lo, &r1, &d), VT_OK);
    assert_int_equal(vt_replica_start(s, &hi, &r2, &d), VT_OK);
    assert_int_equal(count_rows(s), before + 2);
    vt_replica_stop(r1);
    vt_replica_stop(r2);
    vt_replica_stop(NULL);
    bh_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_brokers_see_each_other),
        cmocka_unit_test(test_stale_and_forgotten),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
