/*
 * The HTTP/1.1 request reader (src/net/http_parse.c): what a head means when it is accepted, and
 * every refusal with its status, error code and check: request smuggling shapes (Content-Length
 * with Transfer-Encoding, two lengths, unknown codings), bytes no reader may see alike (NUL, bare
 * CR, control bytes, folded lines, white space before a colon), paths that would decode or
 * normalise to another path, query arguments, limits; the chunked decoder whole and byte by byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/http_parse.h"

/* Parse s (n bytes, or strlen) and return the error; the head is kept in *h for inspection. */
static enum vt_err parse_n(const char *s, size_t n, struct vt_http_head *h, size_t *used,
                           unsigned *status, struct vt_diag *d)
{
    vt_diag_init(d);
    return vt_http_head_parse((const uint8_t *)s, n, h, used, status, d);
}

static void ok(const char *s, struct vt_http_head *h)
{
    size_t used;
    unsigned status;
    struct vt_diag d;
    enum vt_err err = parse_n(s, strlen(s), h, &used, &status, &d);
    if (err != VT_OK) {
        fail_msg("refused (%u %s): %s", status, d.check, d.detail);
    }
}

/* Expect a refusal with this status, code and check (and detail containing `words`). */
static void refused_n(const char *s, size_t n, unsigned want_status, enum vt_err want_err,
                      const char *check, const char *words)
{
    struct vt_http_head h;
    size_t used;
    unsigned status;
    struct vt_diag d;
    enum vt_err err = parse_n(s, n, &h, &used, &status, &d);
    vt_http_head_cleanup(&h);
    if (err != want_err || status != want_status || strcmp(d.check, check) != 0 ||
        (words != NULL && strstr(d.detail, words) == NULL)) {
        fail_msg("%s: got %s %u %s (%s)", s, vt_err_name(err), status, d.check, d.detail);
    }
}

static void refused(const char *s, unsigned want_status, enum vt_err want_err, const char *check,
                    const char *words)
{
    refused_n(s, strlen(s), want_status, want_err, check, words);
}

static void test_accepts(void **state)
{
    (void)state;
    struct vt_http_head h;
    const char *req = "\r\nGET /sgx/certification/v4/crl?ca=platform&uri=https%3A%2F%2Fx%2Fy+z "
                      "HTTP/1.1\r\nHost: localhost:8081\r\nAccept: a\r\naccept: b\r\n"
                      "Authorization:   Bearer abc  \r\n\r\nBODY";
    size_t used;
    unsigned status;
    struct vt_diag d;
    assert_int_equal(parse_n(req, strlen(req), &h, &used, &status, &d), VT_OK);
    assert_int_equal(used, strlen(req) - 4);
    assert_string_equal(h.method, "GET");
    assert_string_equal(h.path, "/sgx/certification/v4/crl");
    assert_string_equal(vt_http_head_arg(&h, "ca"), "platform");
    assert_string_equal(vt_http_head_arg(&h, "uri"), "https://x/y z");
    assert_null(vt_http_head_arg(&h, "nope"));
    assert_string_equal(vt_http_head_field(&h, "authorization"), "Bearer abc");
    assert_string_equal(vt_http_head_field(&h, "ACCEPT"), "a"); /* a list field: two allowed */
    assert_int_equal(h.version, 11);
    assert_true(h.keep_alive);
    assert_false(h.chunked || h.has_length || h.expect_continue);
    vt_http_head_cleanup(&h);

    /* LF alone ends lines; HTTP/1.0 needs no Host and keeps the connection only if asked */
    ok("POST /v1/attest HTTP/1.0\nContent-Length: 12\nConnection: Keep-Alive\n\n", &h);
    assert_int_equal(h.version, 10);
    assert_true(h.has_length);
    assert_int_equal(h.content_length, 12);
    assert_true(h.keep_alive);
    vt_http_head_cleanup(&h);
    ok("GET / HTTP/1.0\r\n\r\n", &h);
    assert_false(h.keep_alive);
    vt_http_head_cleanup(&h);
    ok("PUT /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nExpect: 100-Continue\r\n"
       "Connection: keep-alive, close\r\n\r\n",
       &h);
    assert_true(h.chunked && h.expect_continue);
    assert_false(h.keep_alive);
    vt_http_head_cleanup(&h);
    /* HTTP/1.2 is read as 1.1; empty query items and a value-less argument */
    ok("GET /a/b.c/...?&x&y=&&z=1 HTTP/1.2\r\nHost: a\r\n\r\n", &h);
    assert_int_equal(h.version, 11);
    assert_int_equal(h.n_args, 3);
    assert_string_equal(vt_http_head_arg(&h, "x"), "");
    assert_string_equal(vt_http_head_arg(&h, "z"), "1");
    vt_http_head_cleanup(&h);
}

static void test_incomplete_and_size(void **state)
{
    (void)state;
    struct vt_http_head h;
    size_t used;
    unsigned status;
    struct vt_diag d;
    const char *part = "GET / HTTP/1.1\r\nHost: a\r\n";
    assert_int_equal(parse_n(part, strlen(part), &h, &used, &status, &d), VT_E_TRUNCATED);
    vt_http_head_cleanup(&h);
    assert_int_equal(parse_n("\r\n\r\n", 4, &h, &used, &status, &d), VT_E_TRUNCATED);
    vt_http_head_cleanup(&h);
    /* a head that fills the limit without ending is 431 */
    char *big = malloc(VT_HTTP_MAX_HEAD + 10);
    assert_non_null(big);
    size_t n = (size_t)snprintf(big, 64, "GET / HTTP/1.1\r\nX-Pad: ");
    memset(big + n, 'a', VT_HTTP_MAX_HEAD + 10 - n);
    refused_n(big, VT_HTTP_MAX_HEAD, 431, VT_E_TOO_LARGE, "http.head", "exceed");
    refused_n(big, VT_HTTP_MAX_HEAD + 10, 431, VT_E_TOO_LARGE, "http.head", "exceed");
    free(big);
    /* more fields than the limit */
    struct vt_buf b;
    vt_buf_init(&b, 1 << 16);
    assert_int_equal(vt_buf_printf(&b, "GET / HTTP/1.1\r\nHost: a\r\n"), VT_OK);
    for (int i = 0; i < VT_HTTP_MAX_FIELDS; i++) {
        assert_int_equal(vt_buf_printf(&b, "X-F%d: v\r\n", i), VT_OK);
    }
    assert_int_equal(vt_buf_printf(&b, "\r\n"), VT_OK);
    refused((const char *)b.data, 431, VT_E_TOO_LARGE, "http.fields", "more than");
    vt_buf_cleanup(&b);
}

static void test_request_line(void **state)
{
    (void)state;
    refused("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.target", NULL);
    refused(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.method", "1 to 32");
    refused("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.version", NULL);
    refused("GET /\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.request_line", NULL);
    refused("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.method", "0x28");
    refused("GETGETGETGETGETGETGETGETGETGETGET1 / HTTP/1.1\r\n\r\n", 400, VT_E_MALFORMED,
            "http.method", "34 bytes");
    refused("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.target",
            "origin-form");
    refused("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.target", NULL);
    refused("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.target", "0x23");
    refused("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.target", "0x7f");
    refused("GET /a\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.target",
            "0xc3");
    refused("GET /\rX HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.request_line",
            "bare CR");
    refused("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, VT_E_UNSUPPORTED_VERSION, "http.version",
            "HTTP/2.0");
    refused("GET / HTTP/1.x\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.version", NULL);
    refused("GET / http/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.version", NULL);
}

static void test_fields(void **state)
{
    (void)state;
    /* a NUL in a value: "Bearer <token>\0junk" is not the token */
    static const char nul[] = "GET /admin/v1/keys HTTP/1.1\r\nHost: a\r\n"
                              "Authorization: Bearer tok\0junk\r\n\r\n";
    refused_n(nul, sizeof(nul) - 1, 400, VT_E_MALFORMED, "http.field.value", "a NUL");
    refused("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400, VT_E_MALFORMED, "http.field.value",
            "bare CR");
    refused("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n", 400, VT_E_MALFORMED,
            "http.field.value", "control byte");
    refused("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", 400, VT_E_MALFORMED,
            "http.field.value", "control byte");
    refused("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400, VT_E_MALFORMED,
            "http.field.folded", "folding");
    refused("GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n", 400, VT_E_MALFORMED,
            "http.field.name", "before ':'");
    refused("GET / HTTP/1.1\r\nHost: a\r\nX-Bad Name: v\r\n\r\n", 400, VT_E_MALFORMED,
            "http.field.name", "0x20");
    refused("GET / HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n", 400, VT_E_MALFORMED, "http.field",
            "no field name");
    refused("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", 400, VT_E_MALFORMED, "http.field", NULL);
    refused("GET / HTTP/1.1\r\nHost: a\r\nX\x80: v\r\n\r\n", 400, VT_E_MALFORMED, "http.field.name",
            "0x80");
    /* obs-text is allowed in values */
    struct vt_http_head h;
    ok("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\t!\r\n\r\n", &h);
    assert_string_equal(vt_http_head_field(&h, "x"), "caf\xc3\xa9\t!");
    vt_http_head_cleanup(&h);
    /* duplicates: any field that is not a list */
    refused(
        "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\n\r\n",
        400, VT_E_DUPLICATE, "http.field.duplicate", "authorization");
    refused("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, VT_E_DUPLICATE,
            "http.field.duplicate", "Host");
    refused("GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n", 400, VT_E_DUPLICATE,
            "http.field.duplicate", NULL);
    refused("GET / HTTP/1.1\r\n\r\n", 400, VT_E_MISSING_FIELD, "http.host", NULL);
    refused("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417, VT_E_UNSUPPORTED,
            "http.expect", "200-ok");
}

static void test_framing(void **state)
{
    (void)state;
    /* SPEC: RFC 9112 §6.1, the classic smuggling shape */
    refused(
        "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        400, VT_E_MALFORMED, "http.framing", "both Content-Length and Transfer-Encoding");
    refused(
        "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
        400, VT_E_MALFORMED, "http.framing", NULL);
    refused("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400,
            VT_E_DUPLICATE, "http.field.duplicate", "Content-Length");
    refused("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", 400, VT_E_MALFORMED,
            "http.content_length", NULL);
    refused("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400, VT_E_MALFORMED,
            "http.content_length", NULL);
    refused("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", 400, VT_E_MALFORMED,
            "http.content_length", NULL);
    refused("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456789\r\n\r\n", 400,
            VT_E_MALFORMED, "http.content_length", "18 decimal digits");
    refused("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400, VT_E_MALFORMED,
            "http.content_length", "empty");
    refused("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501,
            VT_E_UNSUPPORTED, "http.transfer_encoding", "only chunked");
    refused("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400,
            VT_E_MALFORMED, "http.transfer_encoding", "does not end in chunked");
    refused("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 400,
            VT_E_MALFORMED, "http.transfer_encoding", NULL);
    refused("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
            "Transfer-Encoding: chunked\r\n\r\n",
            400, VT_E_DUPLICATE, "http.field.duplicate", NULL);
    refused("POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, VT_E_MALFORMED,
            "http.framing", "HTTP/1.0");
    struct vt_http_head h;
    ok("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 000000000000000001\r\n\r\n", &h);
    assert_int_equal(h.content_length, 1);
    vt_http_head_cleanup(&h);
}

static void test_paths(void **state)
{
    (void)state;
    const char *encoded[] = {"/%61dmin/v1/keys", "/admin%2fv1/keys", "/admin/%2e%2e/v1", "/a%00b",
                             "/%2F"};
    for (size_t i = 0; i < sizeof(encoded) / sizeof(encoded[0]); i++) {
        char req[128];
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", encoded[i]);
        refused(req, 400, VT_E_MALFORMED, "http.path", "percent-encoded");
    }
    refused("GET /a//b HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.path",
            "empty segment");
    refused("GET //admin HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.path",
            "empty segment");
    refused("GET /a/./b HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.path",
            "dot segment");
    refused("GET /v1/../admin/v1/keys HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED,
            "http.path", "dot segment");
    refused("GET /a/.. HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.path",
            "ends in a dot segment");
    refused("GET /. HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.path", NULL);
    refused("GET /admin;x/v1 HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.path", "';'");
    refused("GET /a[b] HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.path",
            "not allowed");
    struct vt_http_head h;
    ok("GET /a/.b/..c/.../ HTTP/1.1\r\nHost: a\r\n\r\n", &h); /* names, not dot segments */
    assert_string_equal(h.path, "/a/.b/..c/.../");
    vt_http_head_cleanup(&h);
}

static void test_query(void **state)
{
    (void)state;
    refused("GET /a?x=%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_BAD_PERCENT, "http.query",
            "two hex digits");
    refused("GET /a?x=%4 HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_BAD_PERCENT, "http.query", NULL);
    refused("GET /a?x=a%00 HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_BAD_PERCENT, "http.query",
            "NUL");
    refused("GET /a?fmspc=1&fmspc=2 HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_DUPLICATE, "http.query",
            "more than once");
    refused("GET /a?x=1&%78=2 HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_DUPLICATE, "http.query",
            NULL);
    refused("GET /a?=1 HTTP/1.1\r\nHost: a\r\n\r\n", 400, VT_E_MALFORMED, "http.query",
            "empty name");
    struct vt_buf b;
    vt_buf_init(&b, 4096);
    assert_int_equal(vt_buf_printf(&b, "GET /a?"), VT_OK);
    for (int i = 0; i <= VT_HTTP_MAX_ARGS; i++) {
        assert_int_equal(vt_buf_printf(&b, "a%d=1&", i), VT_OK);
    }
    assert_int_equal(vt_buf_printf(&b, " HTTP/1.1\r\nHost: a\r\n\r\n"), VT_OK);
    refused((const char *)b.data, 400, VT_E_TOO_LARGE, "http.query", "more than");
    vt_buf_cleanup(&b);
}

static void test_head_ends(void **state)
{
    (void)state;
    const uint8_t *p = (const uint8_t *)"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    size_t n = strlen((const char *)p);
    assert_true(vt_http_head_ends(p, n, 0));
    assert_false(vt_http_head_ends(p, n - 1, 0));
    assert_true(vt_http_head_ends(p, n, n - 4));
    assert_false(vt_http_head_ends(p, n, n));
    assert_true(vt_http_head_ends((const uint8_t *)"a\n\n", 3, 0));
    assert_false(vt_http_head_ends((const uint8_t *)"a\r\nb\r\n", 6, 0));
}

/* Decode s in one piece and a byte at a time; both must agree. */
static enum vt_err chunked(const char *s, size_t max, char *out, size_t *out_len, size_t *used,
                           struct vt_diag *d)
{
    enum vt_err result[2];
    size_t lens[2], useds[2];
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        struct vt_http_chunked c;
        vt_http_chunked_init(&c);
        struct vt_buf body;
        vt_buf_init(&body, max);
        size_t n = strlen(s), off = 0;
        enum vt_err err = VT_E_TRUNCATED;
        vt_diag_init(d);
        while (off < n && err == VT_E_TRUNCATED) {
            size_t step = bytewise ? 1 : n - off, u = 0;
            err = vt_http_chunked_feed(&c, (const uint8_t *)s + off, step, &u, &body, d);
            off += u;
        }
        result[bytewise] = err;
        lens[bytewise] = body.len;
        useds[bytewise] = off;
        if (out != NULL && body.len > 0) {
            memcpy(out, body.data, body.len);
        }
        vt_buf_cleanup(&body);
    }
    assert_int_equal(result[0], result[1]);
    if (result[0] == VT_OK) {
        assert_int_equal(lens[0], lens[1]);
        assert_int_equal(useds[0], useds[1]);
    }
    *out_len = lens[0];
    *used = useds[0];
    return result[0];
}

static void test_chunked(void **state)
{
    (void)state;
    char out[256];
    size_t len, used;
    struct vt_diag d;
    const char *body = "5;name=val\r\nhello\r\n6 ; x\r\n world\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\nNEXT";
    assert_int_equal(chunked(body, 64, out, &len, &used, &d), VT_OK);
    assert_int_equal(len, 11);
    assert_memory_equal(out, "hello world", 11);
    assert_int_equal(used, strlen(body) - 4);
    assert_int_equal(chunked("a\nabcdefghij\n0\n\n", 64, out, &len, &used, &d), VT_OK);
    assert_int_equal(len, 10);
    assert_int_equal(chunked("0\r\n\r\n", 64, out, &len, &used, &d), VT_OK);
    assert_int_equal(len, 0);
    assert_int_equal(chunked("5\r\nhel", 64, out, &len, &used, &d), VT_E_TRUNCATED);

    struct {
        const char *in;
        enum vt_err err;
        const char *words;
    } bad[] = {
        {"x\r\n", VT_E_MALFORMED, "does not start with a hex digit"},
        {"5x\r\nhello\r\n", VT_E_MALFORMED, "not a hex digit"},
        {"1000000000000000\r\n", VT_E_MALFORMED, "more than 15 hex digits"},
        {"5\rX", VT_E_MALFORMED, "bare CR"},
        {"5\r\nhelloX\r\n", VT_E_MALFORMED, "longer than its size"},
        {"5\r\nhello\rX", VT_E_MALFORMED, "bare CR"},
        {"5;a\x01\r\n", VT_E_MALFORMED, "control byte"},
        {"0\r\nX: 1\r\n folded\r\n\r\n", VT_E_MALFORMED, "folding"},
        {"0\r\nX: \x00\r\n\r\n", VT_E_TRUNCATED, NULL}, /* strlen stops at the NUL */
        {"0\r\nX: a\rb\r\n\r\n", VT_E_MALFORMED, "bare CR"},
        {"0\r\n\rX", VT_E_MALFORMED, "ends in a bare CR"},
        {"40\r\n", VT_E_TRUNCATED, NULL},
        {"41\r\n0123456789012345678901234567890123456789012345678901234567890123456789",
         VT_E_TOO_LARGE, "exceeds 64"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum vt_err err = chunked(bad[i].in, 64, NULL, &len, &used, &d);
        if (err != bad[i].err || (bad[i].words != NULL && strstr(d.detail, bad[i].words) == NULL)) {
            fail_msg("case %zu: %s %s", i, vt_err_name(err), d.detail);
        }
    }
    /* a trailer section is bounded */
    struct vt_buf b;
    vt_buf_init(&b, 1 << 16);
    assert_int_equal(vt_buf_printf(&b, "0\r\n"), VT_OK);
    for (int i = 0; i < 60; i++) {
        assert_int_equal(vt_buf_printf(&b, "X-T%03d: %070d\r\n", i, i), VT_OK);
    }
    assert_int_equal(chunked((const char *)b.data, 64, NULL, &len, &used, &d), VT_E_TOO_LARGE);
    assert_non_null(strstr(d.detail, "trailer"));
    vt_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts),      cmocka_unit_test(test_incomplete_and_size),
        cmocka_unit_test(test_request_line), cmocka_unit_test(test_fields),
        cmocka_unit_test(test_framing),      cmocka_unit_test(test_paths),
        cmocka_unit_test(test_query),        cmocka_unit_test(test_head_ends),
        cmocka_unit_test(test_chunked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
