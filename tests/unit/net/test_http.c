/*
 * The HTTP layer end to end on 127.0.0.1: our server (src/net/http_server.c) on a free port
 * answered by our client (libcurl). Methods, query arguments (percent-decoded), request headers and
 * bodies with NULs reach the handler; status, content type, headers and binary bodies come back; an
 * oversized body is refused with 413 before the handler runs; a silent server times out with a
 * precise error; a closed port fails cleanly; percent-encoding covers every reserved byte.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/http.h"

static int handled;

static void handler(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)ctx;
    handled++;
    const char *path = vt_http_req_path(req);
    if (strcmp(path, "/echo") == 0) {
        size_t n;
        const uint8_t *b = vt_http_req_body(req, &n);
        const char *a = vt_http_req_arg(req, "a");
        const char *h = vt_http_req_header(req, "X-Test");
        vt_http_resp_status(resp, 201, "application/octet-stream");
        assert_true(vt_http_resp_header(resp, "X-Method", vt_http_req_method(req)));
        assert_true(vt_http_resp_header(resp, "X-Arg", a ? a : "(none)"));
        assert_true(vt_http_resp_header(resp, "X-Header", h ? h : "(none)"));
        assert_true(vt_http_resp_body(resp, b ? b : (const uint8_t *)"", b ? n : 0));
        return;
    }
    vt_http_resp_status(resp, 404, "text/plain");
    assert_true(vt_http_resp_printf(resp, "no %s", path));
}

struct fixture {
    struct vt_http_server *srv;
    char base[64];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct vt_http_server_opts o = {.threads = 2, .max_body = 1024};
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_http_server_start(&o, handler, NULL, &f->srv, &d), VT_OK);
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", vt_http_server_port(f->srv));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    vt_http_server_stop(f->srv);
    free(f);
    return 0;
}

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    char url[128];
    snprintf(url, sizeof(url), "%s/echo?a=x%%20y%%26z&b=2", f->base);
    static const uint8_t body[] = {'a', 0, 'b', 0xff, 0};
    const char *hdrs[] = {"X-Test: hello", NULL};
    struct vt_http_request_opts o = {
        .method = "POST", .body = body, .body_len = sizeof(body), .headers = hdrs};
    struct vt_http_response r;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_http_request(url, &o, &r, &d), VT_OK);
    assert_int_equal(r.status, 201);
    assert_string_equal(vt_http_response_header(&r, "Content-Type"), "application/octet-stream");
    assert_string_equal(vt_http_response_header(&r, "x-method"), "POST"); /* any case */
    assert_string_equal(vt_http_response_header(&r, "X-Arg"), "x y&z");
    assert_string_equal(vt_http_response_header(&r, "X-Header"), "hello");
    assert_null(vt_http_response_header(&r, "X-Absent"));
    assert_int_equal(r.body.len, sizeof(body));
    assert_memory_equal(r.body.data, body, sizeof(body));
    vt_http_response_cleanup(&r);

    snprintf(url, sizeof(url), "%s/missing", f->base);
    struct vt_http_request_opts get = {0};
    assert_int_equal(vt_http_request(url, &get, &r, &d), VT_OK); /* a 404 is a response */
    assert_int_equal(r.status, 404);
    assert_int_equal(r.body.len, strlen("no /missing"));
    vt_http_response_cleanup(&r);
}

static void test_body_limit(void **state)
{
    struct fixture *f = *state;
    char url[128];
    snprintf(url, sizeof(url), "%s/echo", f->base);
    static uint8_t big[1025];
    memset(big, 'x', sizeof(big));
    struct vt_http_request_opts o = {.method = "POST", .body = big, .body_len = sizeof(big)};
    struct vt_http_response r;
    struct vt_diag d;
    vt_diag_init(&d);
    int before = handled;
    assert_int_equal(vt_http_request(url, &o, &r, &d), VT_OK);
    assert_int_equal(r.status, 413);
    assert_int_equal(handled, before);
    vt_http_response_cleanup(&r);
    o.body_len = 1024; /* exactly the limit */
    assert_int_equal(vt_http_request(url, &o, &r, &d), VT_OK);
    assert_int_equal(r.status, 201);
    assert_int_equal(r.body.len, 1024);
    vt_http_response_cleanup(&r);
}

static void test_timeout_and_refused(void **state)
{
    (void)state;
    /* a listening socket that never answers */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s, 4), 0);
    socklen_t al = sizeof(a);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", ntohs(a.sin_port));
    struct vt_http_request_opts o = {.timeout_ms = 300};
    struct vt_http_response r;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_http_request(url, &o, &r, &d), VT_E_UPSTREAM);
    assert_non_null(strstr(d.detail, "127.0.0.1"));
    close(s); /* now nothing listens there */
    vt_diag_init(&d);
    assert_int_equal(vt_http_request(url, &o, &r, &d), VT_E_UPSTREAM);
    assert_true(d.detail[0] != '\0');
    vt_diag_init(&d);
    assert_int_equal(vt_http_request("gopher://x/", &o, &r, &d), VT_E_UPSTREAM);
}

static void test_percent_encode(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 1024);
    static const uint8_t in[] = "-----BEGIN CERT-----\n+/=a~_.";
    assert_int_equal(vt_http_percent_encode(in, sizeof(in) - 1, &b), VT_OK);
    assert_string_equal((const char *)b.data, "-----BEGIN%20CERT-----%0A%2B%2F%3Da~_.");
    vt_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_limit, setup, teardown),
        cmocka_unit_test(test_timeout_and_refused),
        cmocka_unit_test(test_percent_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
