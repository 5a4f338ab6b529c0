/*
 * The cache in lazy mode against an upstream double in this process, over real HTTP:
 *  - upstream fetches for documents never seen are throttled (a token bucket, default 50 at once
 *    and 5 a second): a flood of random FMSPCs gets 503 with Retry-After instead of as many
 *    upstream requests, while documents held (and "not found" tombstones) are served as always;
 *  - an upstream body over the size limit is a 503 (every upstream failed), not a 500.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache/cache.h"
#include "net/http.h"

#define T0 1771600000

struct fx {
    char dir[64];
    struct vt_http_server *upstream, *srv;
    struct vt_cache *c;
    char up_url[64], url[64];
    atomic_int fetches;
};

/* The upstream: no TCB info for anyone (404), and a root CA CRL over the size limit. */
static void upstream_handler(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    struct fx *f = ctx;
    atomic_fetch_add(&f->fetches, 1);
    const char *path = vt_http_req_path(req);
    if (strstr(path, "rootcacrl") != NULL || strstr(path, "RootCA") != NULL) {
        size_t n = VT_HTTP_MAX_BODY + (1u << 20);
        uint8_t *big = calloc(1, n);
        vt_http_resp_status(resp, 200, "application/pkix-crl");
        if (big == NULL || !vt_http_resp_body(resp, big, n)) {
            resp->status = 500;
        }
        free(big);
        return;
    }
    vt_http_resp_status(resp, 404, NULL);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/vt-cache-up-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_http_server_opts uo = {.host = "127.0.0.1", .threads = 2};
    assert_int_equal(vt_http_server_start(&uo, upstream_handler, f, &f->upstream, &d), VT_OK);
    snprintf(f->up_url, sizeof(f->up_url), "http://127.0.0.1:%u", vt_http_server_port(f->upstream));
    char db[128];
    snprintf(db, sizeof(db), "sqlite:%s/cache.db", f->dir);
    /* new keys: a burst of 50, then one every 100 s, so no token comes back during a test however
     * slowly it runs (sanitizers, a loaded machine) */
    struct vt_cache_config cfg = {
        .db = db, .mode = VT_CACHE_LAZY, .clock_base = T0, .new_fetch_rate = 0.01};
    cfg.upstreams[cfg.n_upstreams++] = f->up_url;
    assert_int_equal(vt_cache_open(&cfg, &f->c, &d), VT_OK);
    struct vt_http_server_opts so = {.host = "127.0.0.1", .threads = 2};
    assert_int_equal(vt_http_server_start(&so, vt_cache_http_handler, f->c, &f->srv, &d), VT_OK);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u", vt_http_server_port(f->srv));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    vt_http_server_stop(f->srv);
    vt_http_server_stop(f->upstream);
    vt_cache_close(f->c);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* GET path from the cache: the status, and Retry-After (-1 if absent). */
static long get(struct fx *f, const char *path, long *retry_after, char **body)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", f->url, path);
    struct vt_http_request_opts o = {.timeout_ms = 60000};
    struct vt_http_response r;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_http_request(url, &o, &r, &d), VT_OK);
    const char *ra = vt_http_response_header(&r, "Retry-After");
    if (retry_after != NULL) {
        *retry_after = ra ? strtol(ra, NULL, 10) : -1;
    }
    if (body != NULL) {
        *body = strndup(r.body.data ? (const char *)r.body.data : "", r.body.len);
    }
    long st = r.status;
    vt_http_response_cleanup(&r);
    return st;
}

static void test_new_key_throttle(void **state)
{
    struct fx *f = *state;
    char path[128];
    int not_found = 0, throttled = 0;
    for (int i = 0; i < 70; i++) {
        snprintf(path, sizeof(path), "/sgx/certification/v4/tcb?fmspc=%012x", 0x100000 + i);
        long ra;
        long st = get(f, path, &ra, NULL);
        if (st == 404) {
            not_found++;
        } else if (st == 503) {
            assert_true(ra >= 1 && ra <= 101);
            throttled++;
        } else {
            fail_msg("%s: %ld", path, st);
        }
    }
    /* the burst (50) went upstream; not the rest */
    int fetched = atomic_load(&f->fetches);
    if (fetched != 50 || throttled != 20) {
        fail_msg("%d upstream fetches, %d not found, %d throttled", fetched, not_found, throttled);
    }
    assert_int_equal(fetched, not_found);
    /* the bucket is empty now; documents held are never throttled: a remembered 404 ... */
    long ra;
    assert_int_equal(get(f, "/sgx/certification/v4/tcb?fmspc=000000100000", &ra, NULL), 404);
    assert_int_equal(atomic_load(&f->fetches), fetched);
    /* ... and a document */
    struct vt_cache_item it;
    memset(&it, 0, sizeof(it));
    snprintf(it.key, sizeof(it.key), "/sgx/certification/v4/qe/identity?update=standard");
    it.kind = VT_DOC_QE_IDENTITY;
    it.tee = VT_TEE_SGX;
    it.eval_num = 17;
    snprintf(it.content_type, sizeof(it.content_type), "application/json");
    it.headers = (char *)"";
    it.body = (uint8_t *)"{\"enclaveIdentity\":{}}";
    it.body_len = strlen((const char *)it.body);
    it.next_update = T0 + 86400;
    bool kept;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cache_put(f->c, &it, &kept, &d), VT_OK);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(get(f, "/sgx/certification/v4/qe/identity", NULL, NULL), 200);
    }
    /* while a new key still waits */
    assert_int_equal(get(f, "/sgx/certification/v4/tcb?fmspc=0000001fffff", &ra, NULL), 503);
    /* except for an operator (registration, impact) */
    struct vt_cache_req q;
    struct vt_cache_result res;
    assert_int_equal(vt_cache_req_from_key(
                         "/sgx/certification/v4/tcb?fmspc=0000001fffff&update=standard", &q, &d),
                     VT_OK);
    q.no_throttle = true;
    int before = atomic_load(&f->fetches);
    assert_int_equal(vt_cache_get(f->c, &q, &res, &d), VT_E_NOT_FOUND);
    assert_int_equal(atomic_load(&f->fetches), before + 1);
    char *m = NULL;
    assert_int_equal(get(f, "/metrics", NULL, &m), 200);
    const char *t = strstr(m, "\nveritee_cache_throttled_total ");
    assert_non_null(t);
    assert_true(strtol(t + strlen("\nveritee_cache_throttled_total "), NULL, 10) >= throttled + 1);
    free(m);
}

static void test_upstream_body_too_large(void **state)
{
    struct fx *f = *state;
    long ra;
    char *body = NULL;
    assert_int_equal(get(f, "/sgx/certification/v4/rootcacrl", &ra, &body), 503);
    assert_true(ra > 0);
    assert_non_null(strstr(body, "exceeds"));
    free(body);
    /* the same through the in-process source the broker uses */
    struct vt_http_response r;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cache_collateral_get(f->c, "/sgx/certification/v4/rootcacrl", &r, &d),
                     VT_OK);
    assert_int_equal(r.status, 503);
    vt_http_response_cleanup(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_key_throttle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upstream_body_too_large, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
