/*
 * The broker's bounds on unauthenticated writes (docs/broker.md, "Limits"), in one process over
 * real HTTP, on SQLite or, with VT_TEST_BROKER_DB=postgres://... (tests/integration/
 * broker_postgres.sh), on PostgreSQL:
 *  - at most max_nonces challenges and max_kbs_sessions KBS sessions are outstanding; the next
 *    one is a 503 with Retry-After and writes nothing; an answered challenge frees its place;
 *  - expired nonces and sessions no longer count, and are deleted by the periodic collection
 *    pass that challenges run (they do not accumulate);
 *  - the counters on /metrics.
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

static const char *db_url(void)
{
    const char *pg = getenv("VT_TEST_BROKER_DB");
    return pg != NULL && pg[0] != '\0' ? pg : NULL;
}

static struct bh *start(int64_t nonce_ttl, int64_t max_nonces, int64_t max_sessions)
{
    struct vt_broker_config over = {.max_nonces = max_nonces, .max_kbs_sessions = max_sessions};
    struct bh *h = bh_start_cfg(vt_time_now(), "", nonce_ttl, 600, NULL, db_url(), &over);
    assert_non_null(h);
    /* a shared PostgreSQL keeps rows of earlier tests: start from none */
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(
        vt_store_exec(h->b->store, "DELETE FROM vb_nonces", NULL, 0, NULL, NULL, NULL, &d), VT_OK);
    assert_int_equal(
        vt_store_exec(h->b->store, "DELETE FROM vb_kbs_sessions", NULL, 0, NULL, NULL, NULL, &d),
        VT_OK);
    return h;
}

static int64_t count(const struct bh *h, const char *sql)
{
    int64_t n = -1;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_store_exec(h->b->store, sql, NULL, 0, vt_store_row_int, &n, NULL, &d),
                     VT_OK);
    return n;
}

/* POST path body; the status, the "reason" of a problem body and the Retry-After header. */
static long post(const struct bh *h, const char *path, const char *body, char reason[96],
                 long *retry_after)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", h->url, path);
    const char *hdrs[2] = {"Content-Type: application/json", NULL};
    struct vt_http_request_opts o = {.timeout_ms = 30000,
                                     .method = "POST",
                                     .body = (const uint8_t *)body,
                                     .body_len = strlen(body),
                                     .headers = hdrs};
    struct vt_http_response r;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_http_request(url, &o, &r, &d), VT_OK);
    json_t *j = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
    const char *rs = json_string_value(json_object_get(j, "reason"));
    snprintf(reason, 96, "%s", rs ? rs : "");
    const char *ra = vt_http_response_header(&r, "Retry-After");
    *retry_after = ra ? strtol(ra, NULL, 10) : -1;
    long st = r.status;
    json_decref(j);
    vt_http_response_cleanup(&r);
    return st;
}

#define KBS_AUTH "{\"version\":\"0.4.0\",\"tee\":\"tdx\",\"extra-params\":\"\"}"

static void test_nonce_cap(void **state)
{
    (void)state;
    struct bh *h = start(300, 5, 0);
    char reason[96];
    long ra;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(post(h, "/v1/challenge", "{}", reason, &ra), 201);
    }
    /* the sixth: refused, with when to come back (the oldest expires in about 300 s) */
    assert_int_equal(post(h, "/v1/challenge", "{}", reason, &ra), 503);
    assert_string_equal(reason, "nonce-limit");
    assert_true(ra >= 290 && ra <= 300);
    assert_int_equal(count(h, "SELECT COUNT(*) FROM vb_nonces"), 5); /* nothing written */
    /* an answered challenge frees its place: attest with a fresh key and evidence */
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_jwk *key = NULL;
    assert_int_equal(vt_jwk_generate("P-256", &key, &d), VT_OK);
    char nonce[64];
    uint8_t raw[32];
    assert_int_equal(vt_store_exec(h->b->store,
                                   "UPDATE vb_nonces SET used = 1 WHERE nonce IN"
                                   " (SELECT nonce FROM vb_nonces ORDER BY nonce LIMIT 1)",
                                   NULL, 0, NULL, NULL, NULL, &d),
                     VT_OK);
    assert_true(bh_challenge(h, nonce, raw));
    json_t *body = bh_attest_body(h, VT_TEE_SGX, nonce, raw, key, 0);
    char *text = json_dumps(body, JSON_COMPACT);
    /* the cap is reached again, and a redeemed nonce still counts for nothing */
    assert_int_equal(post(h, "/v1/challenge", "{}", reason, &ra), 503);
    assert_int_equal(bh_call(h, "POST", "/v1/attest", text, NULL, NULL, NULL), 200);
    assert_int_equal(post(h, "/v1/challenge", "{}", reason, &ra), 201);
    free(text);
    json_decref(body);
    vt_jwk_free(key);
    /* the refusals are counted */
    char *m = NULL;
    assert_int_equal(bh_call(h, "GET", "/metrics", NULL, NULL, NULL, &m), 200);
    assert_non_null(strstr(m, "veritee_broker_limit_refusals_total{limit=\"nonces\"} 2\n"));
    assert_non_null(strstr(m, "veritee_broker_outstanding{kind=\"nonces\"} 5\n"));
    free(m);
    bh_stop(h);
}

static void test_kbs_session_cap(void **state)
{
    (void)state;
    struct bh *h = start(300, 0, 3);
    char reason[96];
    long ra;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(post(h, "/kbs/v0/auth", KBS_AUTH, reason, &ra), 200);
    }
    assert_int_equal(post(h, "/kbs/v0/auth", KBS_AUTH, reason, &ra), 503);
    assert_string_equal(reason, "kbs-session-limit");
    assert_true(ra >= 290 && ra <= 300);
    assert_int_equal(count(h, "SELECT COUNT(*) FROM vb_kbs_sessions"), 3);
    /* the nonce cap is another one */
    assert_int_equal(post(h, "/v1/challenge", "{}", reason, &ra), 201);
    /* a session whose challenge was answered no longer counts */
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_store_exec(h->b->store,
                                   "UPDATE vb_kbs_sessions SET used = 1 WHERE id IN"
                                   " (SELECT id FROM vb_kbs_sessions ORDER BY id LIMIT 1)",
                                   NULL, 0, NULL, NULL, NULL, &d),
                     VT_OK);
    assert_int_equal(post(h, "/kbs/v0/auth", KBS_AUTH, reason, &ra), 200);
    assert_int_equal(post(h, "/kbs/v0/auth", KBS_AUTH, reason, &ra), 503);
    char *m = NULL;
    assert_int_equal(bh_call(h, "GET", "/metrics", NULL, NULL, NULL, &m), 200);
    assert_non_null(strstr(m, "veritee_broker_limit_refusals_total{limit=\"kbs_sessions\"} 2\n"));
    assert_non_null(strstr(m, "veritee_broker_kbs_sessions_total 4\n"));
    free(m);
    bh_stop(h);
}

static void test_expired_collected(void **state)
{
    (void)state;
    /* five-second challenges (the eight requests below take less), at most four of each
     * outstanding */
    struct bh *h = start(5, 4, 4);
    char reason[96];
    long ra;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(post(h, "/v1/challenge", "{}", reason, &ra), 201);
        assert_int_equal(post(h, "/kbs/v0/auth", KBS_AUTH, reason, &ra), 200);
    }
    assert_int_equal(post(h, "/v1/challenge", "{}", reason, &ra), 503);
    assert_true(ra >= 1 && ra <= 5);
    sleep(6);
    /* expired challenges no longer count against the cap */
    assert_int_equal(post(h, "/v1/challenge", "{}", reason, &ra), 201);
    assert_int_equal(count(h, "SELECT COUNT(*) FROM vb_nonces"), 5);
    /* and they are deleted by the next collection pass, which a challenge runs once
     * VT_BROKER_GC_INTERVAL seconds have passed since the last (here: made to look so) */
    atomic_store(&h->b->gc_last_ms, 1);
    assert_int_equal(post(h, "/kbs/v0/auth", KBS_AUTH, reason, &ra), 200);
    assert_int_equal(count(h, "SELECT COUNT(*) FROM vb_nonces"), 1);
    assert_int_equal(count(h, "SELECT COUNT(*) FROM vb_kbs_sessions"), 1);
    /* a pass runs at most once a second when forced, every VT_BROKER_GC_INTERVAL otherwise */
    sleep(6);
    assert_int_equal(vt_broker_collect(h->b, false), 0);
    assert_int_equal(vt_broker_collect(h->b, true), 2);
    assert_int_equal(vt_broker_collect(h->b, true), 0);
    assert_int_equal(count(h, "SELECT COUNT(*) FROM vb_nonces"), 0);
    assert_int_equal(count(h, "SELECT COUNT(*) FROM vb_kbs_sessions"), 0);
    char *m = NULL;
    assert_int_equal(bh_call(h, "GET", "/metrics", NULL, NULL, NULL, &m), 200);
    assert_non_null(strstr(m, "veritee_broker_expired_collected_total{table=\"nonces\"} 5\n"));
    assert_non_null(
        strstr(m, "veritee_broker_expired_collected_total{table=\"kbs_sessions\"} 5\n"));
    free(m);
    bh_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nonce_cap),
        cmocka_unit_test(test_kbs_session_cap),
        cmocka_unit_test(test_expired_collected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
