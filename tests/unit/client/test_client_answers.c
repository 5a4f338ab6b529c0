/*
 * The broker client against a fake broker (the project's HTTP server in this process, on
 * 127.0.0.1) that answers with malformed bodies: each is refused with the precise error, the JSON
 * path of the missing or mistyped member, and no token, secret or version handed out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <veritee/client.h>

#include "net/http.h"

/* What the fake broker answers: a status and a body per endpoint. */
struct fake_answer {
    unsigned status;
    const char *body;
};
static struct fake_answer fake_challenge, fake_attest, fake_release;
/* a well-formed challenge: a 32-byte nonce, base64url without padding */
static const char good_challenge[] = "{\"nonce\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"}";

static void fake_broker(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)ctx;
    const char *path = vt_http_req_path(req);
    const struct fake_answer *a = strcmp(path, "/v1/challenge") == 0   ? &fake_challenge
                                  : strcmp(path, "/v1/attest") == 0    ? &fake_attest
                                  : strncmp(path, "/v1/keys/", 9) == 0 ? &fake_release
                                                                       : NULL;
    if (a == NULL) {
        vt_http_resp_status(resp, 404, "application/problem+json");
        (void)!vt_http_resp_printf(resp, "{\"status\":404,\"reason\":\"not-found\"}");
        return;
    }
    vt_http_resp_status(resp, a->status, "application/json");
    (void)!vt_http_resp_printf(resp, "%s", a->body);
}

/* Evidence that only a fake broker would take. */
static enum vt_err fixed_evidence(void *ctx, const uint8_t report_data[64], const uint8_t nonce[32],
                                  const uint8_t *spki, size_t spki_len, struct vt_buf *evidence,
                                  struct vt_buf *vek, struct vt_diag *d)
{
    (void)ctx;
    (void)report_data;
    (void)nonce;
    (void)spki;
    (void)spki_len;
    (void)vek;
    (void)d;
    return vt_buf_append(evidence, "evidence", 8);
}

struct fixture {
    struct vt_http_server *srv;
    struct vt_client *c;
    struct vt_jwk *ec, *rsa;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_http_server_opts so = {.threads = 1};
    assert_int_equal(vt_http_server_start(&so, fake_broker, NULL, &f->srv, &d), VT_OK);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", vt_http_server_port(f->srv));
    struct vt_client_config cfg = {.url = url, .backoff_ms = 1, .retries = 0};
    assert_int_equal(vt_client_new(&cfg, &f->c, &d), VT_OK);
    assert_int_equal(vt_jwk_generate("P-256", &f->ec, &d), VT_OK);
    assert_int_equal(vt_jwk_generate("RSA-2048", &f->rsa, &d), VT_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    vt_client_free(f->c);
    vt_http_server_stop(f->srv);
    vt_jwk_free(f->ec);
    vt_jwk_free(f->rsa);
    free(f);
    return 0;
}

static void expect(enum vt_err got, const struct vt_diag *d, enum vt_err want, const char *check,
                   const char *detail)
{
    if (got != want || strcmp(d->check, check) != 0 || strstr(d->detail, detail) == NULL) {
        fail_msg("got %s [%s] %s, want %s [%s] ...%s...", vt_err_name(got), d->check, d->detail,
                 vt_err_name(want), check, detail);
    }
}

/* Attest against the fake broker's current answers. */
static void attest_expect(struct fixture *f, enum vt_err want, const char *check,
                          const char *detail)
{
    struct vt_diag d;
    vt_diag_init(&d);
    char *token = (char *)"untouched", *claims = (char *)"untouched";
    struct vt_client_status st = {0};
    expect(vt_client_attest(f->c, fixed_evidence, NULL, f->ec, &token, &claims, &st, &d), &d, want,
           check, detail);
    assert_null(token);
    assert_null(claims);
}

static void test_challenge_answers(void **state)
{
    struct fixture *f = *state;
    fake_attest = (struct fake_answer){200, "{\"token\":\"a.b.c\"}"};
    fake_challenge = (struct fake_answer){201, "{\"expires_in\":60}"};
    attest_expect(f, VT_E_MISSING_FIELD, "$.nonce", "$.nonce: required field is missing");
    fake_challenge = (struct fake_answer){201, "{\"nonce\":42}"};
    attest_expect(f, VT_E_BAD_FIELD, "$.nonce", "$.nonce: expected a string, got a number");
    fake_challenge = (struct fake_answer){201, "{\"nonce\":null}"};
    attest_expect(f, VT_E_BAD_FIELD, "$.nonce", "$.nonce: expected a string, got null");
    fake_challenge = (struct fake_answer){201, "{\"nonce\":\"c2hvcnQ\"}"};
    attest_expect(f, VT_E_BAD_FIELD, "broker.nonce", "no 32-byte nonce");
    fake_challenge = (struct fake_answer){201, "<html>ok</html>"};
    attest_expect(f, VT_E_BAD_JSON, "$", "POST /v1/challenge: the HTTP 201 answer is not JSON");
    fake_challenge = (struct fake_answer){201, "[\"nonce\"]"};
    attest_expect(f, VT_E_BAD_JSON, "$",
                  "POST /v1/challenge: the HTTP 201 answer is an array, not an object");
    /* a refusal that is no JSON (a proxy's page) is still a refusal with its status */
    fake_challenge = (struct fake_answer){502, "<html>bad gateway</html>"};
    struct vt_diag d;
    vt_diag_init(&d);
    char *token = NULL;
    struct vt_client_status st = {0};
    expect(vt_client_attest(f->c, fixed_evidence, NULL, f->ec, &token, NULL, &st, &d), &d,
           VT_E_UPSTREAM, "broker", "HTTP 502");
    assert_int_equal(st.http_status, 502);
    assert_string_equal(st.reason, "");
}

static void test_attest_answers(void **state)
{
    struct fixture *f = *state;
    fake_challenge = (struct fake_answer){201, good_challenge};
    fake_attest = (struct fake_answer){200, "{\"claims\":{\"tee\":\"sgx\"}}"};
    attest_expect(f, VT_E_MISSING_FIELD, "$.token", "$.token: required field is missing");
    fake_attest = (struct fake_answer){200, "{\"token\":[\"a.b.c\"]}"};
    attest_expect(f, VT_E_BAD_FIELD, "$.token", "$.token: expected a string, got an array");
    fake_attest = (struct fake_answer){200, "{\"token\":\"a.b.c\",\"claims\":\"tee=sgx\"}"};
    attest_expect(f, VT_E_BAD_FIELD, "$.claims", "$.claims: expected an object, got a string");
    fake_attest = (struct fake_answer){200, "{\"token\":\"a.b.c\""};
    attest_expect(f, VT_E_BAD_JSON, "$", "POST /v1/attest: the HTTP 200 answer is not JSON");
    /* and a well-formed answer passes (claims optional, null alike) */
    fake_attest = (struct fake_answer){200, "{\"token\":\"a.b.c\",\"claims\":null}"};
    struct vt_diag d;
    vt_diag_init(&d);
    char *token = NULL, *claims = NULL;
    assert_int_equal(vt_client_attest(f->c, fixed_evidence, NULL, f->ec, &token, &claims, NULL, &d),
                     VT_OK);
    assert_string_equal(token, "a.b.c");
    assert_null(claims);
    free(token);
}

/* Release with a token (no evidence) against the fake broker's current answer. */
static void release_expect(struct fixture *f, const struct vt_jwk *key, bool cms, enum vt_err want,
                           const char *check, const char *detail)
{
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_buf s;
    vt_buf_init(&s, 4096);
    uint32_t version = 77;
    char *receipt = (char *)"untouched";
    expect(vt_client_release(f->c, "pepper", "a.b.c", NULL, NULL, key, cms, &s, &version, &receipt,
                             NULL, &d),
           &d, want, check, detail);
    assert_int_equal(s.len, 0);
    assert_int_equal(version, 77);
    assert_null(receipt);
    vt_buf_cleanup(&s);
}

static void test_release_answers(void **state)
{
    struct fixture *f = *state;
    fake_release = (struct fake_answer){200, "{\"jwe\":\"a.b.c.d.e\"}"};
    release_expect(f, f->ec, false, VT_E_MISSING_FIELD, "$.version",
                   "$.version: required field is missing");
    fake_release = (struct fake_answer){200, "{\"version\":\"1\",\"jwe\":\"a.b.c.d.e\"}"};
    release_expect(f, f->ec, false, VT_E_BAD_FIELD, "$.version",
                   "$.version: expected an integer, got a string");
    fake_release = (struct fake_answer){200, "{\"version\":1.5,\"jwe\":\"a.b.c.d.e\"}"};
    release_expect(f, f->ec, false, VT_E_BAD_FIELD, "$.version",
                   "$.version: expected an integer, got a number");
    fake_release = (struct fake_answer){200, "{\"version\":0,\"jwe\":\"a.b.c.d.e\"}"};
    release_expect(f, f->ec, false, VT_E_BAD_FIELD, "$.version",
                   "$.version: expected an integer from 1 to 4294967295, got 0");
    fake_release = (struct fake_answer){200, "{\"version\":4294967296,\"jwe\":\"a.b.c.d.e\"}"};
    release_expect(f, f->ec, false, VT_E_BAD_FIELD, "$.version", "got 4294967296");
    /* the wrapped secret */
    fake_release = (struct fake_answer){200, "{\"version\":1}"};
    release_expect(f, f->ec, false, VT_E_MISSING_FIELD, "$.jwe",
                   "$.jwe, $.cms: neither is in the answer");
    fake_release = (struct fake_answer){200, "{\"version\":1,\"jwe\":{\"protected\":\"x\"}}"};
    release_expect(f, f->ec, false, VT_E_BAD_FIELD, "$.jwe",
                   "$.jwe: expected a string, got an object");
    fake_release = (struct fake_answer){200, "{\"version\":1,\"jwe\":\"not-a-jwe\"}"};
    release_expect(f, f->ec, false, VT_E_MALFORMED, "jwe.compact",
                   "1 dot-separated segments, expected 5");
    /* five segments, but a header that is no JSON */
    fake_release = (struct fake_answer){200, "{\"version\":1,\"jwe\":\"bm90IGpzb24.a.b.c.d\"}"};
    release_expect(f, f->ec, false, VT_E_BAD_JSON, "jwe.header", "'[' or '{' expected near 'not'");
    fake_release = (struct fake_answer){200, "{\"version\":1,\"cms\":7}"};
    release_expect(f, f->rsa, true, VT_E_BAD_FIELD, "$.cms",
                   "$.cms: expected a string, got a number");
    fake_release = (struct fake_answer){200, "{\"version\":1,\"cms\":\"***\"}"};
    release_expect(f, f->rsa, true, VT_E_BAD_BASE64, "broker.cms", "cms is not base64");
    fake_release = (struct fake_answer){200, "version=1"};
    release_expect(f, f->ec, false, VT_E_BAD_JSON, "$",
                   "POST /v1/keys/pepper/release: the HTTP 200 answer is not JSON");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_challenge_answers),
        cmocka_unit_test(test_attest_answers),
        cmocka_unit_test(test_release_answers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
