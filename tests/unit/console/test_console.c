/*
 * The console's files (src/console, docs/console.md) as the broker serves them: every file with
 * its type, the security headers on answers and refusals (CSP without 'unsafe-inline', nosniff,
 * no framing), the ETag and its 304, the reject paths (unknown file, other methods, look-alike
 * paths), and the files themselves: no inline script or style, no innerHTML, nothing fetched
 * from another origin, no storage of the token. The admin API the page calls refuses requests
 * without the token or with a wrong one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker_harness.h"
#include "console/console.h"
#include "crypto/jose.h"

static struct bh *h;

static int setup(void **state)
{
    (void)state;
    h = bh_start(vt_time_now(), "", 300, 600, NULL);
    return h == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    bh_stop(h);
    return 0;
}

/* A request to the broker; r is the answer (cleaned up by the caller). */
static long get(const char *method, const char *path, const char *header,
                struct vt_http_response *r)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", h->url, path);
    const char *hdrs[2] = {header, NULL};
    struct vt_http_request_opts o = {.timeout_ms = 30000, .method = method, .headers = hdrs};
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_http_request(url, &o, r, &d) != VT_OK) {
        fail_msg("%s: %s", url, d.detail);
    }
    return r->status;
}

static void assert_security_headers(const struct vt_http_response *r)
{
    const char *csp = vt_http_response_header(r, "Content-Security-Policy");
    assert_non_null(csp);
    assert_string_equal(csp, vt_console_csp);
    assert_non_null(strstr(csp, "default-src 'self'"));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    assert_non_null(strstr(csp, "object-src 'none'"));
    assert_null(strstr(csp, "unsafe"));
    assert_null(strstr(csp, "http"));
    assert_string_equal(vt_http_response_header(r, "X-Content-Type-Options"), "nosniff");
    assert_string_equal(vt_http_response_header(r, "X-Frame-Options"), "DENY");
    assert_string_equal(vt_http_response_header(r, "Referrer-Policy"), "no-referrer");
}

static void test_every_file_served(void **state)
{
    (void)state;
    assert_true(vt_console_n_assets >= 4);
    for (size_t i = 0; i < vt_console_n_assets; i++) {
        const struct vt_console_asset *a = &vt_console_assets[i];
        char path[128];
        snprintf(path, sizeof(path), "/console/%s", a->name);
        struct vt_http_response r;
        assert_int_equal(get("GET", path, NULL, &r), 200);
        assert_int_equal(r.body.len, a->len);
        assert_memory_equal(r.body.data, a->data, a->len);
        assert_string_equal(vt_http_response_header(&r, "Content-Type"), a->content_type);
        assert_string_equal(vt_http_response_header(&r, "Cache-Control"), "no-cache, private");
        assert_security_headers(&r);
        vt_http_response_cleanup(&r);
    }
}

static void test_index_and_etag(void **state)
{
    (void)state;
    const char *paths[] = {"/console", "/console/", "/console/index.html"};
    char etag[64] = "";
    for (size_t i = 0; i < 3; i++) {
        struct vt_http_response r;
        assert_int_equal(get("GET", paths[i], NULL, &r), 200);
        assert_string_equal(vt_http_response_header(&r, "Content-Type"),
                            "text/html; charset=utf-8");
        const char *e = vt_http_response_header(&r, "ETag");
        assert_non_null(e);
        assert_int_equal(strlen(e), 34);
        if (i == 0) {
            snprintf(etag, sizeof(etag), "%s", e);
        }
        assert_string_equal(e, etag);
        vt_http_response_cleanup(&r);
    }
    char inm[128];
    snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
    struct vt_http_response r;
    assert_int_equal(get("GET", "/console", inm, &r), 304);
    assert_int_equal(r.body.len, 0);
    assert_security_headers(&r);
    vt_http_response_cleanup(&r);
    assert_int_equal(get("GET", "/console", "If-None-Match: \"00\"", &r), 200);
    vt_http_response_cleanup(&r);
}

static void test_rejects(void **state)
{
    (void)state;
    struct vt_http_response r;
    /* unknown files, traversal, a directory of the console: 404 with the headers */
    const char *missing[] = {"/console/nope.js", "/console/x/app.js", "/console/app.js/",
                             "/console/APP.JS", "/console//app.js"};
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        long got = get("GET", missing[i], NULL, &r);
        /* 400: the server refused the path's shape before the console saw it */
        assert_true(got == 404 || got == 400);
        if (got == 404) {
            assert_security_headers(&r);
        }
        vt_http_response_cleanup(&r);
    }
    assert_int_equal(get("GET", "/console/nope.js", NULL, &r), 404);
    assert_security_headers(&r);
    vt_http_response_cleanup(&r);
    /* an encoded traversal is no file (the server may refuse the encoding itself) */
    long st = get("GET", "/console/%2e%2e/console/app.js", NULL, &r);
    assert_true(st == 400 || st == 404);
    vt_http_response_cleanup(&r);
    /* other methods: 405, Allow: GET, HEAD, the body never read */
    const char *methods[] = {"POST", "PUT", "DELETE"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(get(methods[i], "/console/app.js", NULL, &r), 405);
        assert_string_equal(vt_http_response_header(&r, "Allow"), "GET, HEAD");
        assert_security_headers(&r);
        vt_http_response_cleanup(&r);
    }
    /* a look-alike path is not the console's */
    assert_int_equal(get("GET", "/consoles", NULL, &r), 404);
    assert_null(vt_http_response_header(&r, "Content-Security-Policy"));
    vt_http_response_cleanup(&r);
    assert_false(vt_console_owns_path("/consolex"));
    assert_false(vt_console_owns_path("/admin/console"));
    assert_true(vt_console_owns_path("/console"));
    assert_null(vt_console_find("/console/../console.css"));
}

/* The admin API the page calls: no token, a wrong token and a non-bearer scheme are 401. */
static void test_admin_api_needs_the_token(void **state)
{
    (void)state;
    const char *paths[] = {"/admin/v1/keys", "/admin/v1/log?explain=1", "/admin/v1/log/status"};
    char good[128], wrong[128];
    snprintf(good, sizeof(good), "Authorization: Bearer %s", h->admin);
    snprintf(wrong, sizeof(wrong), "Authorization: Bearer %.*sx", (int)strlen(h->admin) - 1,
             h->admin);
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct vt_http_response r;
        assert_int_equal(get("GET", paths[i], NULL, &r), 401);
        vt_http_response_cleanup(&r);
        assert_int_equal(get("GET", paths[i], wrong, &r), 401);
        vt_http_response_cleanup(&r);
        assert_int_equal(get("GET", paths[i], "Authorization: Basic eDp5", &r), 401);
        vt_http_response_cleanup(&r);
        assert_int_equal(get("GET", paths[i], good, &r), 200);
        vt_http_response_cleanup(&r);
    }
}

/* GET /admin/v1/log/status: the store, the log and its tree in step, the sequencer idle; each
 * committed append counted. */
static void test_log_status(void **state)
{
    (void)state;
    json_t *o = NULL;
    assert_int_equal(bh_call(h, "GET", "/admin/v1/log/status", NULL, h->admin, &o, NULL), 200);
    json_t *store = json_object_get(o, "store"), *log = json_object_get(o, "log"),
           *seq = json_object_get(o, "sequencer");
    assert_string_equal(json_string_value(json_object_get(store, "state")), "ok");
    assert_string_equal(json_string_value(json_object_get(store, "backend")), "sqlite");
    json_int_t size = json_integer_value(json_object_get(log, "size"));
    assert_true(size >= 0);
    assert_int_equal(json_integer_value(json_object_get(log, "tree_size")), size);
    assert_int_equal(json_integer_value(json_object_get(log, "behind")), 0);
    assert_string_equal(json_string_value(json_object_get(seq, "state")), "idle");
    assert_int_equal(json_integer_value(json_object_get(seq, "queued")), 0);
    assert_false(json_is_true(json_object_get(seq, "leader")));
    assert_true(json_integer_value(json_object_get(seq, "batch_max")) > 0);
    json_int_t batches = json_integer_value(json_object_get(seq, "batches"));
    json_decref(o);
    /* an attestation's entry: one more entry, one more batch, a checkpoint of the new size */
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_jwk *key = NULL;
    assert_int_equal(vt_jwk_generate("P-256", &key, &d), VT_OK);
    char nonce[64];
    uint8_t raw[32];
    assert_true(bh_challenge(h, nonce, raw));
    json_t *body = bh_attest_body(h, VT_TEE_TDX, nonce, raw, key, 0);
    char *text = json_dumps(body, JSON_COMPACT);
    assert_int_equal(bh_call(h, "POST", "/v1/attest", text, NULL, NULL, NULL), 200);
    free(text);
    json_decref(body);
    vt_jwk_free(key);
    assert_int_equal(bh_call(h, "GET", "/admin/v1/log/status", NULL, h->admin, &o, NULL), 200);
    log = json_object_get(o, "log");
    seq = json_object_get(o, "sequencer");
    assert_int_equal(json_integer_value(json_object_get(log, "size")), size + 1);
    assert_int_equal(json_integer_value(json_object_get(log, "tree_size")), size + 1);
    assert_int_equal(json_integer_value(json_object_get(seq, "batches")), batches + 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(log, "checkpoint"), "size")), size + 1);
    assert_non_null(json_string_value(json_object_get(log, "last_entry")));
    json_decref(o);
}

/* POST /admin/v1/policy/check: compiles without storing; refuses without the admin token. */
static void test_policy_check(void **state)
{
    (void)state;
    const char *good = "{\"version\":1,\"rules\":{\"claim\":\"tdx.mrtd\",\"exists\":true}}";
    const char *bad = "{\"version\":1,\"rules\":{\"claim\":\"tdx.mrtdd\",\"exists\":true}}";
    json_t *o = NULL;
    assert_int_equal(bh_call(h, "POST", "/admin/v1/policy/check", good, NULL, NULL, NULL), 401);
    assert_int_equal(bh_call(h, "POST", "/admin/v1/policy/check", good, "vt_wrong", NULL, NULL),
                     401);
    assert_int_equal(bh_call(h, "POST", "/admin/v1/policy/check", good, h->admin, &o, NULL), 200);
    assert_true(json_is_true(json_object_get(o, "ok")));
    assert_int_equal(strlen(json_string_value(json_object_get(o, "sha256"))), 64);
    json_decref(o);
    assert_int_equal(bh_call(h, "POST", "/admin/v1/policy/check", bad, h->admin, &o, NULL), 200);
    assert_true(json_is_false(json_object_get(o, "ok")));
    assert_string_equal(json_string_value(json_object_get(o, "check")), "rules.claim");
    assert_non_null(strstr(json_string_value(json_object_get(o, "detail")), "tdx.mrtdd"));
    json_decref(o);
    assert_int_equal(bh_call(h, "POST", "/admin/v1/policy/check", "{", h->admin, &o, NULL), 200);
    assert_true(json_is_false(json_object_get(o, "ok")));
    assert_string_equal(json_string_value(json_object_get(o, "code")), "VT_E_BAD_JSON");
    json_decref(o);
    assert_int_equal(bh_call(h, "POST", "/admin/v1/policy/check", NULL, h->admin, NULL, NULL), 400);
    /* nothing stored: the attestation policy's hash in a new log entry is unchanged, and the
     * check is not a key */
    char *raw = NULL;
    assert_int_equal(bh_call(h, "GET", "/admin/v1/keys", NULL, h->admin, NULL, &raw), 200);
    assert_string_equal(raw, "[]");
    free(raw);
}

static bool contains(const struct vt_console_asset *a, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= a->len; i++) {
        if (memcmp(a->data + i, needle, n) == 0) {
            return true;
        }
    }
    return false;
}

/* The files: scripts only from the console's own files, no inline code or style, values never
 * parsed as HTML, nothing from elsewhere, the token in memory only. */
static void test_files_are_clean(void **state)
{
    (void)state;
    const struct vt_console_asset *index = vt_console_find("/console/index.html");
    assert_non_null(index);
    assert_true(contains(index, "<script type=\"module\" src=\"/console/app.js\"></script>"));
    for (size_t i = 0; i < vt_console_n_assets; i++) {
        const struct vt_console_asset *a = &vt_console_assets[i];
        const char *banned[] = {
            "innerHTML",    "outerHTML",    "insertAdjacentHTML", "document.write",  "eval(",
            "new Function", "localStorage", "sessionStorage",     "document.cookie", "style=\"",
            " onclick",     " onload",      "https://",           "javascript:",     "<script>"};
        for (size_t j = 0; j < sizeof(banned) / sizeof(banned[0]); j++) {
            if (contains(a, banned[j])) {
                fail_msg("%s contains %s", a->name, banned[j]);
            }
        }
        /* the one http:// URL allowed: the SVG namespace name (never fetched) */
        if (contains(a, "http://") && !contains(a, "'http://www.w3.org/2000/svg'")) {
            fail_msg("%s names an http:// URL", a->name);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_file_served), cmocka_unit_test(test_index_and_etag),
        cmocka_unit_test(test_rejects),           cmocka_unit_test(test_admin_api_needs_the_token),
        cmocka_unit_test(test_policy_check),      cmocka_unit_test(test_log_status),
        cmocka_unit_test(test_files_are_clean),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
