/*
 * The broker client against a real broker (in this process, over HTTP and HTTPS on 127.0.0.1):
 * attest then release with the token, release with evidence, the CMS form, each refusal as its
 * error and reason, retries on 503 with backoff (a stub server), and TLS with a pinned CA
 * (accepted with the broker's CA, refused with another).
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

#include <veritee/client.h>

#include "broker_harness.h"
#include "vt_fixtures.h"

struct ev_ctx {
    struct bh *h;
    enum vt_tee tee;
    unsigned variant;
    const struct vt_jwk *key; /* the simulator binds from its thumbprint input */
};

/* Evidence from the simulators, bound as the client asks. */
static enum vt_err sim_evidence(void *ctx, const uint8_t report_data[64], const uint8_t nonce[32],
                                const uint8_t *spki, size_t spki_len, struct vt_buf *evidence,
                                struct vt_buf *vek, struct vt_diag *d)
{
    struct ev_ctx *e = ctx;
    /* The simulator binds SHA-512(nonce || thumbprint input) itself: it must be what the client
     * asked for. */
    struct vt_buf tp;
    vt_buf_init(&tp, 16384);
    uint8_t want[64];
    VT_TRY(vt_jwk_thumbprint_input(e->key, &tp));
    VT_TRY(vt_client_report_data(nonce, e->key, want, d));
    VT_ENSURE(memcmp(want, report_data, 64) == 0, d, VT_E_BINDING, "sim", "report data differs");
    size_t n = 0, vn = 0;
    uint8_t *v = NULL;
    uint8_t *ev = vt_bsim_evidence(e->h->sim, e->tee, nonce, tp.data, tp.len, spki, spki_len,
                                   e->variant, &n, &v, &vn);
    vt_buf_cleanup(&tp);
    VT_ENSURE(ev != NULL, d, VT_E_INTERNAL, "sim", "the simulator failed");
    enum vt_err err = vt_buf_append(evidence, ev, n);
    if (err == VT_OK && v != NULL) {
        err = vt_buf_append(vek, v, vn);
    }
    free(ev);
    free(v);
    return err;
}

static struct bh *h;
static struct vt_jwk *ec, *rsa;

static int setup(void **state)
{
    (void)state;
    h = bh_start(vt_time_now(), "", 300, 600, NULL);
    assert_non_null(h);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_jwk_generate("P-256", &ec, &d), VT_OK);
    assert_int_equal(vt_jwk_generate("RSA-2048", &rsa, &d), VT_OK);
    assert_int_equal(bh_call(h, "POST", "/admin/v1/keys",
                             "{\"name\":\"pepper\",\"secret\":\"cGVwcGVy\"}", h->admin, NULL, NULL),
                     201);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vt_jwk_free(ec);
    vt_jwk_free(rsa);
    bh_stop(h);
    return 0;
}

static struct vt_client *client_for(const char *url, const char *ca)
{
    struct vt_client_config cfg = {.url = url, .ca_file = ca, .backoff_ms = 10, .retries = 2};
    struct vt_client *c = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_client_new(&cfg, &c, &d), VT_OK);
    return c;
}

static void test_attest_then_release(void **state)
{
    (void)state;
    enum vt_tee tees[4] = {VT_TEE_SGX, VT_TEE_TDX, VT_TEE_SEV_SNP, VT_TEE_NITRO};
    struct vt_client *c = client_for(h->url, NULL);
    for (size_t i = 0; i < 4; i++) {
        struct ev_ctx e = {h, tees[i], 0, ec};
        char *token = NULL, *claims = NULL, *receipt = NULL;
        struct vt_diag d;
        vt_diag_init(&d);
        enum vt_err err = vt_client_attest(c, sim_evidence, &e, ec, &token, &claims, NULL, &d);
        if (err != VT_OK) {
            fail_msg("tee %d: %s: %s", (int)tees[i], d.check, d.detail);
        }
        assert_non_null(strstr(claims, "\"tee\""));
        struct vt_buf s;
        vt_buf_init(&s, 4096);
        uint32_t version = 0;
        assert_int_equal(vt_client_release(c, "pepper", token, NULL, NULL, ec, false, &s, &version,
                                           &receipt, NULL, &d),
                         VT_OK);
        assert_int_equal(s.len, 6);
        assert_memory_equal(s.data, "pepper", 6);
        assert_int_equal(version, 1);
        assert_non_null(strstr(receipt, "\"inclusion\""));
        vt_buf_cleanup(&s);
        /* release with fresh evidence, no token */
        vt_buf_init(&s, 4096);
        assert_int_equal(vt_client_release(c, "pepper", NULL, sim_evidence, &e, ec, false, &s, NULL,
                                           NULL, NULL, &d),
                         VT_OK);
        assert_int_equal(s.len, 6);
        vt_buf_cleanup(&s);
        free(token);
        free(claims);
        free(receipt);
    }
    /* CMS for a Nitro RSA key */
    struct ev_ctx e = {h, VT_TEE_NITRO, 0, rsa};
    struct vt_buf s;
    vt_buf_init(&s, 4096);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(
        vt_client_release(c, "pepper", NULL, sim_evidence, &e, rsa, true, &s, NULL, NULL, NULL, &d),
        VT_OK);
    assert_memory_equal(s.data, "pepper", 6);
    vt_buf_cleanup(&s);
    vt_client_free(c);
}

static void test_refusals(void **state)
{
    (void)state;
    struct vt_client *c = client_for(h->url, NULL);
    struct vt_client_status st;
    struct vt_diag d;
    vt_diag_init(&d);
    char *token = NULL;
    struct ev_ctx dbg = {h, VT_TEE_TDX, VT_BSIM_DEBUG, ec};
    assert_int_equal(vt_client_attest(c, sim_evidence, &dbg, ec, &token, NULL, &st, &d),
                     VT_E_UNAUTHORIZED);
    assert_int_equal(st.http_status, 403);
    assert_string_equal(st.reason, "attestation-policy:debug");
    assert_null(token);
    struct ev_ctx bad = {h, VT_TEE_SGX, VT_BSIM_CORRUPT, ec};
    assert_int_equal(vt_client_attest(c, sim_evidence, &bad, ec, &token, NULL, &st, &d),
                     VT_E_UNAUTHORIZED);
    assert_string_equal(st.reason, "evidence");
    struct ev_ctx ok = {h, VT_TEE_SGX, 0, ec};
    struct vt_buf s;
    vt_buf_init(&s, 4096);
    assert_int_equal(vt_client_release(c, "nothing", NULL, sim_evidence, &ok, ec, false, &s, NULL,
                                       NULL, &st, &d),
                     VT_E_NOT_FOUND);
    assert_string_equal(st.reason, "unknown-key");
    assert_int_equal(s.len, 0);
    assert_int_equal(
        vt_client_release(c, "pepper", "a.b.c", NULL, NULL, ec, false, &s, NULL, NULL, &st, &d),
        VT_E_UNAUTHORIZED);
    assert_string_equal(st.reason, "token");
    assert_int_equal(
        vt_client_release(c, "a/b", "t", NULL, NULL, ec, false, &s, NULL, NULL, &st, &d), VT_E_ARG);
    vt_buf_cleanup(&s);
    vt_client_free(c);
    struct vt_client_config cfg = {.url = "ftp://x"};
    struct vt_client *none = NULL;
    assert_int_equal(vt_client_new(&cfg, &none, &d), VT_E_ARG);
}

/* A stub answering 503 to the first n_fail requests, then a challenge. */
static int stub_calls, stub_fail;

static void stub(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)ctx;
    (void)req;
    if (stub_calls++ < stub_fail) {
        vt_http_resp_status(resp, 503, "application/problem+json");
        (void)!vt_http_resp_printf(resp, "{\"status\":503,\"reason\":\"busy\"}");
        return;
    }
    vt_http_resp_status(resp, 401, "application/problem+json");
    (void)!vt_http_resp_printf(resp, "{\"status\":401,\"reason\":\"nonce-unknown\"}");
}

static void test_retries(void **state)
{
    (void)state;
    struct vt_http_server *srv = NULL;
    struct vt_http_server_opts so = {.threads = 1};
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_http_server_start(&so, stub, NULL, &srv, &d), VT_OK);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", vt_http_server_port(srv));
    struct vt_client *c = client_for(url, NULL);
    struct vt_client_status st;
    char *token = NULL;
    struct ev_ctx e = {h, VT_TEE_SGX, 0, ec};
    stub_calls = 0;
    stub_fail = 2; /* two 503s, then an answer: 3 calls */
    assert_int_equal(vt_client_attest(c, sim_evidence, &e, ec, &token, NULL, &st, &d),
                     VT_E_UNAUTHORIZED);
    assert_int_equal(stub_calls, 3);
    assert_string_equal(st.reason, "nonce-unknown");
    stub_calls = 0;
    stub_fail = 10; /* more than the retries: the 503 is reported */
    assert_int_equal(vt_client_attest(c, sim_evidence, &e, ec, &token, NULL, &st, &d),
                     VT_E_UPSTREAM);
    assert_int_equal(stub_calls, 3);
    assert_int_equal(st.http_status, 503);
    vt_client_free(c);
    vt_http_server_stop(srv);
    /* nothing listening: a transport error after the retries */
    c = client_for(url, NULL);
    assert_int_equal(vt_client_attest(c, sim_evidence, &e, ec, &token, NULL, &st, &d),
                     VT_E_UPSTREAM);
    vt_client_free(c);
}

static void test_tls_pinned(void **state)
{
    (void)state;
    char dir[] = "/tmp/vt-client-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[1024];
    for (int i = 0; i < 2; i++) {
        snprintf(cmd, sizeof(cmd),
                 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
                 "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout %s/key%d.pem "
                 "-out %s/cert%d.pem 2>/dev/null",
                 dir, i, dir, i);
        assert_int_equal(system(cmd), 0);
    }
    char path[128];
    snprintf(path, sizeof(path), "%s/cert0.pem", dir);
    size_t cn = 0, kn = 0;
    char *cert = (char *)vt_test_read_file(path, &cn);
    snprintf(path, sizeof(path), "%s/key0.pem", dir);
    char *key = (char *)vt_test_read_file(path, &kn);
    assert_non_null(cert);
    assert_non_null(key);
    char *cz = realloc(cert, cn + 1), *kz = realloc(key, kn + 1);
    cz[cn] = '\0';
    kz[kn] = '\0';
    struct vt_http_server *srv = NULL;
    struct vt_http_server_opts so = {
        .threads = 2, .tls_cert = cz, .tls_key = kz, .route = vt_broker_http_route};
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_http_server_start(&so, vt_broker_http_handler, h->b, &srv, &d), VT_OK);
    char url[64], ca[128], other[128];
    snprintf(url, sizeof(url), "https://127.0.0.1:%u", vt_http_server_port(srv));
    snprintf(ca, sizeof(ca), "%s/cert0.pem", dir);
    snprintf(other, sizeof(other), "%s/cert1.pem", dir);
    struct ev_ctx e = {h, VT_TEE_SGX, 0, ec};
    struct vt_client *c = client_for(url, ca);
    struct vt_buf s;
    vt_buf_init(&s, 4096);
    assert_int_equal(
        vt_client_release(c, "pepper", NULL, sim_evidence, &e, ec, false, &s, NULL, NULL, NULL, &d),
        VT_OK);
    assert_memory_equal(s.data, "pepper", 6);
    vt_buf_cleanup(&s);
    vt_client_free(c);
    c = client_for(url, other);
    char *token = NULL;
    assert_int_equal(vt_client_attest(c, sim_evidence, &e, ec, &token, NULL, NULL, &d),
                     VT_E_UPSTREAM);
    vt_client_free(c);
    vt_http_server_stop(srv);
    free(cz);
    free(kz);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attest_then_release),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_retries),
        cmocka_unit_test(test_tls_pinned),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
