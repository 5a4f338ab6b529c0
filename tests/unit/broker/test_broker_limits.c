/*
 * The broker's bounds on unauthenticated writes (docs/broker.md, "Limits" and "Nonces"), in one
 * process over real HTTP, on SQLite or, with VT_TEST_BROKER_DB=postgres://... (tests/integration/
 * broker_postgres.sh), on PostgreSQL:
 *  - /v1/challenge writes nothing: a nonce is its expiry, random bytes and a MAC; it is stored
 *    when redeemed, and a forged, expired or replayed one is refused; a row issued by an earlier
 *    release is still redeemed once;
 *  - at most max_kbs_sessions KBS sessions are outstanding; the next one is a 503 with
 *    Retry-After and writes nothing; an answered one frees its place;
 *  - expired sessions no longer count and are deleted by the periodic collection pass; redeemed
 *    nonces are deleted VT_BROKER_NONCE_GRACE seconds after they expire (they do not accumulate);
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
#include "crypto/crypto.h"

static const char *db_url(void)
{
    const char *pg = getenv("VT_TEST_BROKER_DB");
    return pg != NULL && pg[0] != '\0' ? pg : NULL;
}

static struct bh *start(int64_t nonce_ttl, int64_t max_sessions)
{
    struct vt_broker_config over = {.max_kbs_sessions = max_sessions};
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

/* A nonce of the documented form: expiry (big-endian), 8 bytes, the first 16 bytes of
 * HMAC-SHA-256(key, "veritee nonce v1" || the first 16), as base64url. */
static void make_nonce(const uint8_t key[32], int64_t expires, char nonce[64], uint8_t raw[32])
{
    for (int i = 7; i >= 0; i--, expires >>= 8) {
        raw[i] = (uint8_t)expires;
    }
    memset(raw + 8, 0x5a, 8);
    uint8_t msg[32], mac[32];
    memcpy(msg, "veritee nonce v1", 16);
    memcpy(msg + 16, raw, 16);
    vt_hmac_sha256(key, 32, msg, sizeof(msg), mac);
    memcpy(raw + 16, mac, 16);
    assert_int_equal(vt_base64_encode(raw, 32, true, nonce, 64), VT_OK);
}

/* POST /v1/attest with fresh evidence bound to nonce: the status and the refusal's reason. */
static long attest(struct bh *h, const char *nonce, const uint8_t raw[32], char reason[96])
{
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_jwk *key = NULL;
    assert_int_equal(vt_jwk_generate("P-256", &key, &d), VT_OK);
    json_t *body = bh_attest_body(h, VT_TEE_SGX, nonce, raw, key, 0);
    char *text = json_dumps(body, JSON_COMPACT);
    long ra;
    long st = post(h, "/v1/attest", text, reason, &ra);
    free(text);
    json_decref(body);
    vt_jwk_free(key);
    return st;
}

static void test_nonces(void **state)
{
    (void)state;
    struct bh *h = start(300, 0);
    char reason[96], nonce[64];
    uint8_t raw[32];
    long ra;
    /* challenges store nothing, however many */
    for (int i = 0; i < 50; i++) {
        assert_int_equal(post(h, "/v1/challenge", "{}", reason, &ra), 201);
    }
    assert_int_equal(count(h, "SELECT COUNT(*) FROM vb_nonces"), 0);
    /* redeemed once: its row goes in, with the nonce's expiry */
    assert_true(bh_challenge(h, nonce, raw));
    int64_t expires = 0;
    for (int i = 0; i < 8; i++) {
        expires = expires << 8 | raw[i];
    }
    vt_time now = vt_broker_now(h->b);
    assert_true(expires >= now + 299 && expires <= now + 300);
    assert_int_equal(attest(h, nonce, raw, reason), 200);
    assert_int_equal(count(h, "SELECT COUNT(*) FROM vb_nonces"), 1);
    char sql[200];
    snprintf(sql, sizeof(sql), "SELECT expires FROM vb_nonces WHERE nonce = '%s'", nonce);
    assert_int_equal(count(h, sql), expires);
    assert_int_equal(attest(h, nonce, raw, reason), 401);
    assert_string_equal(reason, "nonce-replayed");
    /* the form is as documented: a nonce made here with the broker's key is accepted */
    make_nonce(h->b->nonce_key, now + 60, nonce, raw);
    assert_int_equal(attest(h, nonce, raw, reason), 200);
    /* expired, with a good MAC */
    make_nonce(h->b->nonce_key, now - 1, nonce, raw);
    assert_int_equal(attest(h, nonce, raw, reason), 401);
    assert_string_equal(reason, "nonce-expired");
    /* a MAC under another key (another master key), or one bit of the expiry changed */
    uint8_t other[32];
    memset(other, 7, sizeof(other));
    make_nonce(other, now + 60, nonce, raw);
    assert_int_equal(attest(h, nonce, raw, reason), 401);
    assert_string_equal(reason, "nonce-unknown");
    make_nonce(h->b->nonce_key, now + 60, nonce, raw);
    raw[7] ^= 1;
    assert_int_equal(vt_base64_encode(raw, 32, true, nonce, 64), VT_OK);
    assert_int_equal(attest(h, nonce, raw, reason), 401);
    assert_string_equal(reason, "nonce-unknown");
    /* a random nonce an earlier release stored at /v1/challenge: redeemed once, then refused */
    memset(raw, 0x33, sizeof(raw));
    assert_int_equal(vt_base64_encode(raw, 32, true, nonce, 64), VT_OK);
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_sql_arg row[] = {VT_SQL_T(nonce), VT_SQL_I(now + 300)};
    assert_int_equal(vt_store_exec(h->b->store,
                                   "INSERT INTO vb_nonces(nonce, expires, used) VALUES (?,?,0)",
                                   row, 2, NULL, NULL, NULL, &d),
                     VT_OK);
    assert_int_equal(attest(h, nonce, raw, reason), 200);
    assert_int_equal(attest(h, nonce, raw, reason), 401);
    assert_string_equal(reason, "nonce-replayed");
    /* the metrics: issued nonces counted, none said to be outstanding */
    char *m = NULL;
    assert_int_equal(bh_call(h, "GET", "/metrics", NULL, NULL, NULL, &m), 200);
    assert_non_null(strstr(m, "veritee_broker_challenges_total 51\n"));
    assert_null(strstr(m, "kind=\"nonces\""));
    free(m);
    bh_stop(h);
}

static void test_kbs_session_cap(void **state)
{
    (void)state;
    struct bh *h = start(300, 3);
    char reason[96];
    long ra;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(post(h, "/kbs/v0/auth", KBS_AUTH, reason, &ra), 200);
    }
    assert_int_equal(post(h, "/kbs/v0/auth", KBS_AUTH, reason, &ra), 503);
    assert_string_equal(reason, "kbs-session-limit");
    assert_true(ra >= 290 && ra <= 300);
    assert_int_equal(count(h, "SELECT COUNT(*) FROM vb_kbs_sessions"), 3);
    /* challenges are not capped */
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
    /* five-second sessions (the requests below take less), at most four outstanding */
    struct bh *h = start(5, 4);
    char reason[96];
    long ra;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(post(h, "/kbs/v0/auth", KBS_AUTH, reason, &ra), 200);
    }
    assert_int_equal(post(h, "/kbs/v0/auth", KBS_AUTH, reason, &ra), 503);
    assert_true(ra >= 1 && ra <= 5);
    /* redeemed nonces: two expired long enough ago, one within the grace, one unexpired */
    vt_time now = vt_broker_now(h->b);
    const int64_t exp[] = {now - VT_BROKER_NONCE_GRACE - 100, now - VT_BROKER_NONCE_GRACE - 1,
                           now - VT_BROKER_NONCE_GRACE + 100, now + 100};
    struct vt_diag d;
    vt_diag_init(&d);
    for (int i = 0; i < 4; i++) {
        char n[8];
        snprintf(n, sizeof(n), "n%d", i);
        struct vt_sql_arg row[] = {VT_SQL_T(n), VT_SQL_I(exp[i]), VT_SQL_I(now)};
        assert_int_equal(vt_store_exec(h->b->store,
                                       "INSERT INTO vb_nonces(nonce, expires, used) VALUES (?,?,?)",
                                       row, 3, NULL, NULL, NULL, &d),
                         VT_OK);
    }
    sleep(6);
    /* expired sessions no longer count against the cap */
    assert_int_equal(post(h, "/kbs/v0/auth", KBS_AUTH, reason, &ra), 200);
    assert_int_equal(count(h, "SELECT COUNT(*) FROM vb_kbs_sessions"), 5);
    /* and they are deleted by the next collection pass, which a request runs once
     * VT_BROKER_GC_INTERVAL seconds have passed since the last (here: made to look so) */
    atomic_store(&h->b->gc_last_ms, 1);
    assert_int_equal(post(h, "/v1/challenge", "{}", reason, &ra), 201);
    assert_int_equal(count(h, "SELECT COUNT(*) FROM vb_kbs_sessions"), 1);
    assert_int_equal(count(h, "SELECT COUNT(*) FROM vb_nonces"), 2);
    assert_int_equal(count(h, "SELECT COUNT(*) FROM vb_nonces WHERE nonce IN ('n2', 'n3')"), 2);
    /* a pass runs at most once a second when forced, every VT_BROKER_GC_INTERVAL otherwise */
    sleep(6);
    assert_int_equal(vt_broker_collect(h->b, false), 0);
    assert_int_equal(vt_broker_collect(h->b, true), 1);
    assert_int_equal(vt_broker_collect(h->b, true), 0);
    assert_int_equal(count(h, "SELECT COUNT(*) FROM vb_kbs_sessions"), 0);
    char *m = NULL;
    assert_int_equal(bh_call(h, "GET", "/metrics", NULL, NULL, NULL, &m), 200);
    assert_non_null(strstr(m, "veritee_broker_expired_collected_total{table=\"nonces\"} 2\n"));
    assert_non_null(
        strstr(m, "veritee_broker_expired_collected_total{table=\"kbs_sessions\"} 5\n"));
    free(m);
    bh_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nonces),
        cmocka_unit_test(test_kbs_session_cap),
        cmocka_unit_test(test_expired_collected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
