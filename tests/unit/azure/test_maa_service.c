/*
 * The MAA service (src/azure/maa*.c) on an in-process broker with the simulators' PKIs
 * (tests/support/broker_harness.h): the signing key made once and found again, attestation of
 * every type with the report-data and init-time rules, the policies (stored, draft, reset, signer
 * trust), the master-key operations on the sealed key, and the HTTP layer's refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "azure/maa.h"

/* snprintf that must not truncate (and whose result gcc sees used) */
#define FMT(buf, cap, ...) assert_true(snprintf((buf), (cap), __VA_ARGS__) < (int)(cap))
#include "base/encoding.h"
#include "broker_harness.h"
#include "crypto/x509_self.h"

struct fx {
    struct bh *h;
    struct vt_maa *m;
};

static struct vt_maa *open_maa(struct bh *h, const char *const *signers)
{
    struct vt_maa_config c = {.issuer = "https://maa.test", .policy_signers = signers};
    struct vt_maa *m = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_maa_open(&c, h->b, &m, &d);
    if (err != VT_OK) {
        fail_msg("vt_maa_open: %s: %s", d.check, d.detail);
    }
    return m;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->h = bh_start(vt_time_now(), "", 300, 600, NULL);
    assert_non_null(f->h);
    f->m = open_maa(f->h, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    vt_maa_close(f->m);
    bh_stop(f->h);
    free(f);
    return 0;
}

/* ---- helpers ---- */

static uint8_t *evidence(struct fx *f, enum vt_tee tee, const uint8_t *bind, size_t bind_len,
                         const uint8_t *init, size_t init_len, size_t *len)
{
    uint8_t rd[64] = {0};
    if (bind != NULL) {
        vt_sha256(bind, bind_len, rd);
    }
    uint8_t ih[32];
    if (init != NULL) {
        vt_sha256(init, init_len, ih);
    }
    uint8_t *ev =
        vt_bsim_evidence_rd_init(f->h->sim, tee, rd, init ? ih : NULL, init ? 32 : 0, 0, len);
    assert_non_null(ev);
    return ev;
}

/* A request of type t for evidence (copied), with JSON runtime data (NULL: none). */
static void request(struct vt_maa_attest_req *q, enum vt_maa_type t, const uint8_t *ev, size_t n,
                    const char *runtime_json)
{
    memset(q, 0, sizeof(*q));
    q->type = t;
    q->evidence = malloc(n);
    memcpy(q->evidence, ev, n);
    q->evidence_len = n;
    if (runtime_json != NULL) {
        q->runtime.type = VT_MAA_DATA_JSON;
        q->runtime.len = strlen(runtime_json);
        q->runtime.data = (uint8_t *)strdup(runtime_json);
        q->runtime.json = json_loads(runtime_json, 0, NULL);
        assert_non_null(q->runtime.json);
    }
}

static const struct vt_jwk *resolve(void *ctx, const json_t *header, struct vt_diag *d)
{
    const struct vt_jwk *k =
        vt_maa_signer_key(ctx, json_string_value(json_object_get(header, "kid")));
    if (k == NULL) {
        vt_fail(d, VT_E_NOT_FOUND, "jws.kid", "unknown kid");
    }
    return k;
}

/* The verified payload of a token of this MAA (caller decrefs). */
static json_t *verified(struct vt_maa *m, const char *jwt)
{
    struct vt_buf p;
    vt_buf_init(&p, 1 << 20);
    struct vt_diag d;
    vt_diag_init(&d);
    json_t *h = NULL;
    enum vt_err err = vt_jws_verify_rs256(jwt, strlen(jwt), resolve, m, &p, &h, &d);
    if (err != VT_OK) {
        fail_msg("token: %s: %s", d.check, d.detail);
    }
    assert_string_equal(json_string_value(json_object_get(h, "jku")), "https://maa.test/certs");
    assert_string_equal(json_string_value(json_object_get(h, "typ")), "JWT");
    assert_true(json_is_array(json_object_get(h, "x5c")));
    json_decref(h);
    json_t *o = json_loadb((const char *)p.data, p.len, 0, NULL);
    vt_buf_cleanup(&p);
    assert_non_null(o);
    return o;
}

static json_t *attest_ok(struct vt_maa *m, const struct vt_maa_attest_req *q)
{
    char *jwt = NULL;
    struct vt_az_error e;
    if (!vt_maa_attest(m, q, &jwt, &e)) {
        fail_msg("attest: %u %s %s", e.status, e.code, e.message);
    }
    json_t *o = verified(m, jwt);
    free(jwt);
    return o;
}

static void attest_refused(struct vt_maa *m, const struct vt_maa_attest_req *q, unsigned status,
                           const char *code, const char *part)
{
    char *jwt = NULL;
    struct vt_az_error e;
    assert_false(vt_maa_attest(m, q, &jwt, &e));
    assert_null(jwt);
    if (e.status != status || strcmp(e.code, code) != 0 || strstr(e.message, part) == NULL) {
        fail_msg("got %u %s \"%s\", want %u %s with \"%s\"", e.status, e.code, e.message, status,
                 code, part);
    }
}

/* An unsigned policy token of text (heap). */
static char *unsigned_policy(const char *text)
{
    char *p = vt_base64_alloc((const uint8_t *)text, strlen(text), true);
    char payload[8192];
    FMT(payload, sizeof(payload), "{\"AttestationPolicy\":\"%s\"}", p);
    free(p);
    char *h = vt_base64_alloc((const uint8_t *)"{\"alg\":\"none\"}", 14, true);
    char *b = vt_base64_alloc((const uint8_t *)payload, strlen(payload), true);
    size_t cap = strlen(h) + strlen(b) + 3;
    char *out = malloc(cap);
    FMT(out, cap, "%s.%s.", h, b);
    free(h);
    free(b);
    return out;
}

static enum vt_err put_policy(struct vt_maa *m, enum vt_maa_type t, const char *token,
                              struct vt_diag *d)
{
    struct vt_maa_policy_token tok;
    vt_diag_init(d);
    enum vt_err err =
        vt_maa_policy_token_parse(token, strlen(token), strstr(token, "..") == NULL, &tok, d);
    if (err == VT_OK) {
        err = vt_maa_policy_put(m, t, &tok, token, d);
    }
    vt_maa_policy_token_cleanup(&tok);
    return err;
}

/* ---- tests ---- */

static void test_signing_key(void **state)
{
    struct fx *f = *state;
    char kid[VT_JOSE_KID_MAX];
    FMT(kid, sizeof(kid), "%s", f->m->signer.kid);
    assert_non_null(vt_maa_signer_key(f->m, kid));
    assert_null(vt_maa_signer_key(f->m, "other"));
    assert_null(vt_maa_signer_key(f->m, NULL));
    assert_string_equal(vt_maa_issuer(f->m), "https://maa.test");
    /* opened again on the same database: the same key */
    struct vt_maa *again = open_maa(f->h, NULL);
    assert_string_equal(again->signer.kid, kid);
    vt_maa_close(again);
    /* the JWKS: the key with its certificate, whose public key is the signer's */
    char *jwks = vt_maa_jwks(f->m);
    json_t *o = json_loads(jwks, 0, NULL);
    free(jwks);
    json_t *k = json_array_get(json_object_get(o, "keys"), 0);
    assert_string_equal(json_string_value(json_object_get(k, "kid")), kid);
    assert_string_equal(json_string_value(json_object_get(k, "alg")), "RS256");
    const char *x5c = json_string_value(json_array_get(json_object_get(k, "x5c"), 0));
    uint8_t der[4096];
    size_t dn = 0;
    assert_int_equal(vt_base64_decode(x5c, strlen(x5c), false, der, sizeof(der), &dn), VT_OK);
    struct vt_jwk *pub = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_x509_rsa_jwk(der, dn, &pub, &d), VT_OK);
    char tp1[44], tp2[44];
    vt_jwk_thumbprint_b64(pub, tp1);
    vt_jwk_thumbprint_b64(vt_maa_signer_key(f->m, kid), tp2);
    assert_string_equal(tp1, tp2);
    vt_jwk_free(pub);
    json_decref(o);
    char *oid = vt_maa_openid_configuration(f->m);
    assert_non_null(strstr(oid, "\"jwks_uri\":\"https://maa.test/certs\""));
    free(oid);
    /* issuers */
    assert_int_equal(vt_maa_set_issuer(f->m, "ftp://x", &d), VT_E_ARG);
    assert_string_equal(d.check, "maa.issuer");
    assert_int_equal(vt_maa_set_issuer(f->m, "https://x/", &d), VT_E_ARG);
    assert_int_equal(vt_maa_set_issuer(f->m, "https://", &d), VT_E_ARG);
    assert_int_equal(vt_maa_set_issuer(f->m, "https://a b", &d), VT_E_ARG);
    assert_string_equal(vt_maa_issuer(f->m), "https://maa.test");
    struct vt_maa_config bad = {.issuer = "maa.test"};
    struct vt_maa *m2 = NULL;
    assert_int_equal(vt_maa_open(&bad, f->h->b, &m2, &d), VT_E_ARG);
    assert_null(m2);
    struct vt_maa_config neg = {.token_ttl = -1};
    assert_int_equal(vt_maa_open(&neg, f->h->b, &m2, &d), VT_E_ARG);
    const char *missing[] = {"/nonexistent/signer.pem", NULL};
    struct vt_maa_config sig = {.policy_signers = missing};
    assert_int_not_equal(vt_maa_open(&sig, f->h->b, &m2, &d), VT_OK);
    assert_null(m2);
}

static void test_sgx(void **state)
{
    struct fx *f = *state;
    const char *rt = "{\"keys\":[],\"n\":1}";
    size_t n = 0;
    uint8_t *ev = evidence(f, VT_TEE_SGX, (const uint8_t *)rt, strlen(rt), NULL, 0, &n);
    struct vt_maa_attest_req q;
    request(&q, VT_MAA_SGX, ev, n, rt);
    q.nonce = strdup("nonce-1");
    json_t *o = attest_ok(f->m, &q);
    assert_string_equal(json_string_value(json_object_get(o, "x-ms-attestation-type")), "sgx");
    assert_string_equal(json_string_value(json_object_get(o, "iss")), "https://maa.test");
    assert_string_equal(json_string_value(json_object_get(o, "nonce")), "nonce-1");
    assert_string_equal(json_string_value(json_object_get(o, "x-ms-sgx-mrenclave")),
                        vt_bsim_measurement(f->h->sim, VT_TEE_SGX));
    assert_true(json_is_false(json_object_get(o, "x-ms-sgx-is-debuggable")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "x-ms-runtime"), "n")),
                     1);
    assert_null(json_object_get(o, "x-ms-sgx-ehd")); /* JSON data: claims, not ehd */
    assert_true(json_integer_value(json_object_get(o, "exp")) -
                    json_integer_value(json_object_get(o, "iat")) ==
                VT_MAA_TOKEN_TTL);
    assert_non_null(json_object_get(json_object_get(o, "x-ms-sgx-collateral"), "quotehash"));
    json_decref(o);
    vt_maa_attest_req_cleanup(&q);
    /* the same evidence with other runtime data: the report data does not bind it */
    request(&q, VT_MAA_SGX, ev, n, "{\"n\":2}");
    attest_refused(f->m, &q, 400, "InvalidParameter", "runtimeData does not match");
    vt_maa_attest_req_cleanup(&q);
    /* a private key in the runtime data's keys */
    request(&q, VT_MAA_SGX, ev, n, "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"}]}");
    attest_refused(f->m, &q, 400, "InvalidParameter", "runtimeData.data.keys[0]");
    vt_maa_attest_req_cleanup(&q);
    request(&q, VT_MAA_SGX, ev, n, "{\"keys\":{}}");
    attest_refused(f->m, &q, 400, "InvalidParameter", "runtimeData.data.keys");
    vt_maa_attest_req_cleanup(&q);
    /* an SGX quote is not TDX evidence, nor an OE report */
    request(&q, VT_MAA_TDX, ev, n, rt);
    attest_refused(f->m, &q, 400, "InvalidParameter", "TdxVm takes tdx evidence, not sgx");
    vt_maa_attest_req_cleanup(&q);
    request(&q, VT_MAA_OE, ev, n, rt);
    attest_refused(f->m, &q, 400, "InvalidParameter", "oe.");
    vt_maa_attest_req_cleanup(&q);
    /* a corrupted quote */
    ev[n - 50] ^= 1;
    request(&q, VT_MAA_SGX, ev, n, NULL);
    attest_refused(f->m, &q, 400, "InvalidParameter", "does not verify");
    vt_maa_attest_req_cleanup(&q);
    request(&q, VT_MAA_SGX, (const uint8_t *)"junk", 4, NULL);
    attest_refused(f->m, &q, 400, "InvalidParameter", "does not parse");
    vt_maa_attest_req_cleanup(&q);
    free(ev);
}

static void test_inittime(void **state)
{
    struct fx *f = *state;
    const char *init = "{\"config\":\"x\"}";
    size_t n = 0;
    for (enum vt_tee tee = VT_TEE_SGX; tee <= VT_TEE_SEV_SNP; tee++) {
        enum vt_maa_type t = tee == VT_TEE_SGX   ? VT_MAA_SGX
                             : tee == VT_TEE_TDX ? VT_MAA_TDX
                                                 : VT_MAA_SNP;
        uint8_t *ev = evidence(f, tee, NULL, 0, (const uint8_t *)init, strlen(init), &n);
        struct vt_maa_attest_req q;
        request(&q, t, ev, n, NULL);
        q.inittime.type = VT_MAA_DATA_JSON;
        q.inittime.data = (uint8_t *)strdup(init);
        q.inittime.len = strlen(init);
        q.inittime.json = json_loads(init, 0, NULL);
        json_t *o = attest_ok(f->m, &q);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(o, "x-ms-inittime"), "config")), "x");
        json_decref(o);
        q.inittime.data[2] ^= 1;
        attest_refused(f->m, &q, 400, "InvalidParameter", "initTimeData does not match");
        vt_maa_attest_req_cleanup(&q);
        free(ev);
    }
}

static void test_oe_tdx_snp(void **state)
{
    struct fx *f = *state;
    const char *rt = "{\"tee\":1}";
    size_t n = 0;
    /* an Open Enclave report around an SGX quote */
    uint8_t *ev = evidence(f, VT_TEE_SGX, (const uint8_t *)rt, strlen(rt), NULL, 0, &n);
    uint8_t *oe = malloc(n + 16);
    memset(oe, 0, 16);
    oe[0] = 1;
    oe[4] = 2;
    for (int i = 0; i < 8; i++) {
        oe[8 + i] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    memcpy(oe + 16, ev, n);
    struct vt_maa_attest_req q;
    request(&q, VT_MAA_OE, oe, n + 16, rt);
    json_t *o = attest_ok(f->m, &q);
    assert_string_equal(json_string_value(json_object_get(o, "x-ms-sgx-mrenclave")),
                        vt_bsim_measurement(f->h->sim, VT_TEE_SGX));
    json_decref(o);
    vt_maa_attest_req_cleanup(&q);
    free(oe);
    free(ev);
    /* TDX */
    ev = evidence(f, VT_TEE_TDX, (const uint8_t *)rt, strlen(rt), NULL, 0, &n);
    request(&q, VT_MAA_TDX, ev, n, rt);
    o = attest_ok(f->m, &q);
    assert_string_equal(json_string_value(json_object_get(o, "x-ms-attestation-type")), "tdxvm");
    assert_string_equal(json_string_value(json_object_get(o, "tdx_mrtd")),
                        vt_bsim_measurement(f->h->sim, VT_TEE_TDX));
    assert_string_equal(json_string_value(json_object_get(o, "dbgstat")), "disabled");
    assert_null(json_object_get(o, "x-ms-sgx-ehd"));
    assert_non_null(json_object_get(o, "x-ms-runtime"));
    json_decref(o);
    vt_maa_attest_req_cleanup(&q);
    free(ev);
    /* SEV-SNP: the raw report (the VCEK from the collateral), and MAA's JSON envelope with the
     * VCEK chain */
    ev = evidence(f, VT_TEE_SEV_SNP, (const uint8_t *)rt, strlen(rt), NULL, 0, &n);
    request(&q, VT_MAA_SNP, ev, n, rt);
    o = attest_ok(f->m, &q);
    assert_string_equal(json_string_value(json_object_get(o, "x-ms-attestation-type")), "sevsnpvm");
    assert_string_equal(json_string_value(json_object_get(o, "x-ms-sevsnpvm-launchmeasurement")),
                        vt_bsim_measurement(f->h->sim, VT_TEE_SEV_SNP));
    json_decref(o);
    vt_maa_attest_req_cleanup(&q);
    size_t vn = 0;
    uint8_t *vek = vt_bsim_snp_cert(f->h->sim, 0, &vn);
    char *vb = vt_base64_alloc(vek, vn, false);
    char pem[8192];
    FMT(pem, sizeof(pem), "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n", vb);
    char *rep = vt_base64_alloc(ev, n, true),
         *chain = vt_base64_alloc((uint8_t *)pem, strlen(pem), true);
    char env[16384];
    FMT(env, sizeof(env), "{\"SnpReport\":\"%s\",\"VcekCertChain\":\"%s\"}", rep, chain);
    request(&q, VT_MAA_SNP, (const uint8_t *)env, strlen(env), rt);
    o = attest_ok(f->m, &q);
    json_decref(o);
    vt_maa_attest_req_cleanup(&q);
    request(&q, VT_MAA_SNP, (const uint8_t *)"{\"x\":1}", 7, NULL);
    attest_refused(f->m, &q, 400, "InvalidParameter", "unknown member");
    vt_maa_attest_req_cleanup(&q);
    request(&q, VT_MAA_SNP, (const uint8_t *)"{\"SnpReport\":\"%%\"}", 18, NULL);
    attest_refused(f->m, &q, 400, "InvalidParameter", "report.SnpReport");
    vt_maa_attest_req_cleanup(&q);
    request(&q, VT_MAA_SNP, (const uint8_t *)"{", 1, NULL);
    attest_refused(f->m, &q, 400, "InvalidParameter", "SevSnpVm report is JSON");
    vt_maa_attest_req_cleanup(&q);
    FMT(env, sizeof(env), "{\"SnpReport\":\"%s\",\"VcekCertChain\":\"AAAA\"}", rep);
    request(&q, VT_MAA_SNP, (const uint8_t *)env, strlen(env), NULL);
    attest_refused(f->m, &q, 400, "InvalidParameter", "report.VcekCertChain");
    vt_maa_attest_req_cleanup(&q);
    free(rep);
    free(chain);
    free(vb);
    free(vek);
    free(ev);
}

static void test_policies(void **state)
{
    struct fx *f = *state;
    struct vt_diag d;
    size_t n = 0;
    uint8_t *ev = evidence(f, VT_TEE_SGX, NULL, 0, NULL, 0, &n);
    struct vt_maa_attest_req q;
    request(&q, VT_MAA_SGX, ev, n, NULL);
    /* the default, then a policy that refuses this enclave */
    struct vt_maa_stored s;
    assert_int_equal(vt_maa_policy_get(f->m, VT_MAA_SGX, &s, &d), VT_OK);
    assert_true(s.is_default);
    assert_string_equal(s.text, vt_maa_default_policy);
    vt_maa_stored_cleanup(&s);
    char text[1024];
    FMT(text, sizeof(text),
        "version= 1.0; authorizationrules { [type==\"x-ms-sgx-mrenclave\", value==\"%s\"] => "
        "deny(); => permit(); }; issuancerules { c:[type==\"x-ms-sgx-svn\"] => "
        "issue(type=\"svn-copy\", value=c.value); };",
        vt_bsim_measurement(f->h->sim, VT_TEE_SGX));
    char *tok = unsigned_policy(text);
    assert_int_equal(put_policy(f->m, VT_MAA_SGX, tok, &d), VT_OK);
    assert_int_equal(vt_maa_policy_get(f->m, VT_MAA_SGX, &s, &d), VT_OK);
    assert_false(s.is_default);
    assert_string_equal(s.text, text);
    assert_string_equal(s.token, tok);
    vt_maa_stored_cleanup(&s);
    free(tok);
    attest_refused(f->m, &q, 400, "PolicyEvaluationError", "deny decision");
    /* a draft that permits: an unsigned token, the stored policy unchanged */
    q.draft_policy = strdup("version= 1.0; authorizationrules { => permit(); }; issuancerules { "
                            "=> issue(type=\"draft\", value=true); };");
    char *jwt = NULL;
    struct vt_az_error e;
    assert_true(vt_maa_attest(f->m, &q, &jwt, &e));
    assert_non_null(strstr(jwt, "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."));
    assert_true(jwt[strlen(jwt) - 1] == '.');
    free(jwt);
    free(q.draft_policy);
    q.draft_policy = strdup("version= 1.0; nonsense");
    attest_refused(f->m, &q, 400, "InvalidParameter", "draftPolicyForAttestation");
    free(q.draft_policy);
    q.draft_policy = NULL;
    attest_refused(f->m, &q, 400, "PolicyEvaluationError", "deny");
    /* other types keep their default */
    assert_int_equal(vt_maa_policy_get(f->m, VT_MAA_TDX, &s, &d), VT_OK);
    assert_true(s.is_default);
    vt_maa_stored_cleanup(&s);
    /* a text the compiler refuses is not stored */
    tok = unsigned_policy("version= 1.0; authorizationrules { => permit() };");
    assert_int_equal(put_policy(f->m, VT_MAA_SGX, tok, &d), VT_E_MALFORMED);
    free(tok);
    assert_int_equal(vt_maa_policy_get(f->m, VT_MAA_SGX, &s, &d), VT_OK);
    assert_string_equal(s.text, text);
    vt_maa_stored_cleanup(&s);
    /* reset: the default again, and the enclave permitted with the issued claim gone */
    char reset[64];
    FMT(reset, sizeof(reset), "%s..", "eyJhbGciOiJub25lIn0");
    assert_int_equal(put_policy(f->m, VT_MAA_SGX, reset, &d), VT_OK);
    json_t *o = attest_ok(f->m, &q);
    assert_null(json_object_get(o, "svn-copy"));
    json_decref(o);
    /* issued claims reach the token, never over the service's */
    tok = unsigned_policy("version= 1.0; authorizationrules { => permit(); }; issuancerules { "
                          "=> issue(type=\"x-ms-sgx-svn\", value=99); => issue(type=\"c1\", "
                          "value=\"v\"); };");
    assert_int_equal(put_policy(f->m, VT_MAA_SGX, tok, &d), VT_OK);
    free(tok);
    o = attest_ok(f->m, &q);
    assert_string_equal(json_string_value(json_object_get(o, "c1")), "v");
    assert_int_not_equal(json_integer_value(json_object_get(o, "x-ms-sgx-svn")), 99);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "x-ms-policy"), "c1")),
                        "v");
    json_decref(o);
    assert_int_equal(put_policy(f->m, VT_MAA_SGX, reset, &d), VT_OK);
    vt_maa_attest_req_cleanup(&q);
    free(ev);
}

/* A signed policy token by key (its certificate in x5c). */
static char *signed_policy(const struct vt_jwk *key, const struct vt_buf *cert, const char *text)
{
    char *p = vt_base64_alloc((const uint8_t *)text, strlen(text), true);
    char payload[8192];
    FMT(payload, sizeof(payload), "{\"AttestationPolicy\":\"%s\"}", p);
    free(p);
    char *x5c = vt_base64_alloc(cert->data, cert->len, false);
    json_t *h = json_pack("{s:[s]}", "x5c", x5c);
    free(x5c);
    char *out = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_jws_sign_rs256(key, h, (const uint8_t *)payload, strlen(payload), &out, &d),
                     VT_OK);
    json_decref(h);
    return out;
}

static void test_policy_signers(void **state)
{
    struct fx *f = *state;
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_jwk *trusted = NULL, *other = NULL;
    assert_int_equal(vt_jwk_generate("RSA-2048", &trusted, &d), VT_OK);
    assert_int_equal(vt_jwk_generate("RSA-2048", &other, &d), VT_OK);
    struct vt_buf tc, oc;
    vt_buf_init(&tc, 1 << 16);
    vt_buf_init(&oc, 1 << 16);
    vt_time now = vt_time_now();
    assert_int_equal(vt_x509_self_signed_der(trusted, "trusted", now - 60, now + 3600, &tc, &d),
                     VT_OK);
    assert_int_equal(vt_x509_self_signed_der(other, "other", now - 60, now + 3600, &oc, &d), VT_OK);
    char path[256];
    FMT(path, sizeof(path), "%s/signer.pem", f->h->dir);
    FILE *fp = fopen(path, "w");
    char *b = vt_base64_alloc(tc.data, tc.len, false);
    fprintf(fp, "-----BEGIN CERTIFICATE-----\n");
    for (size_t i = 0; i < strlen(b); i += 64) {
        fprintf(fp, "%.64s\n", b + i);
    }
    fprintf(fp, "-----END CERTIFICATE-----\n");
    fclose(fp);
    free(b);
    const char *signers[] = {path, NULL};
    struct vt_maa *m = open_maa(f->h, signers);
    const char *text = vt_maa_default_policy;
    char *tok = unsigned_policy(text);
    assert_int_equal(put_policy(m, VT_MAA_TDX, tok, &d), VT_E_UNAUTHORIZED);
    assert_string_equal(d.check, "policy.signer");
    free(tok);
    tok = signed_policy(other, &oc, text);
    assert_int_equal(put_policy(m, VT_MAA_TDX, tok, &d), VT_E_UNAUTHORIZED);
    assert_non_null(strstr(d.detail, "not one of"));
    free(tok);
    tok = signed_policy(trusted, &tc, text);
    assert_int_equal(put_policy(m, VT_MAA_TDX, tok, &d), VT_OK);
    free(tok);
    struct vt_maa_stored s;
    assert_int_equal(vt_maa_policy_get(m, VT_MAA_TDX, &s, &d), VT_OK);
    assert_int_equal(s.signer_len, tc.len);
    vt_maa_stored_cleanup(&s);
    /* without configured signers, a self-signed policy is taken and recorded */
    tok = signed_policy(other, &oc, text);
    assert_int_equal(put_policy(f->m, VT_MAA_OE, tok, &d), VT_OK);
    free(tok);
    assert_int_equal(vt_maa_policy_get(f->m, VT_MAA_OE, &s, &d), VT_OK);
    assert_memory_equal(s.signer_der, oc.data, oc.len);
    vt_maa_stored_cleanup(&s);
    /* tokens under it name the signer (x-ms-policy-signer with its certificate) */
    size_t n = 0;
    uint8_t *ev = evidence(f, VT_TEE_SGX, NULL, 0, NULL, 0, &n);
    uint8_t *oe = malloc(n + 16);
    memset(oe, 0, 16);
    oe[0] = 1;
    oe[4] = 2;
    for (int i = 0; i < 8; i++) {
        oe[8 + i] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    memcpy(oe + 16, ev, n);
    struct vt_maa_attest_req q;
    request(&q, VT_MAA_OE, oe, n + 16, NULL);
    json_t *o = attest_ok(f->m, &q);
    json_t *signer = json_object_get(o, "x-ms-policy-signer");
    char *x5c = vt_base64_alloc(oc.data, oc.len, false);
    assert_string_equal(json_string_value(json_array_get(json_object_get(signer, "x5c"), 0)), x5c);
    assert_string_equal(json_string_value(json_object_get(signer, "kty")), "RSA");
    free(x5c);
    json_decref(o);
    vt_maa_attest_req_cleanup(&q);
    free(oe);
    free(ev);
    vt_maa_close(m);
    vt_buf_cleanup(&tc);
    vt_buf_cleanup(&oc);
    vt_jwk_free(trusted);
    vt_jwk_free(other);
}

static void test_master_key(void **state)
{
    struct fx *f = *state;
    uint8_t mk[32], nmk[32];
    memset(mk, 0x42, sizeof(mk)); /* the harness's */
    memset(nmk, 0x17, sizeof(nmk));
    struct vt_diag d;
    vt_diag_init(&d);
    size_t n = 0;
    assert_int_equal(vt_maa_store_check(f->h->b->store, mk, &n, &d), VT_OK);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(vt_maa_store_check(f->h->b->store, nmk, &n, &d), VT_E_INTEGRITY);
    assert_string_equal(d.check, "maa.signing_key");
    n = 0;
    assert_int_equal(vt_store_begin(f->h->b->store, &d), VT_OK);
    assert_int_equal(vt_maa_store_rewrap(f->h->b->store, mk, nmk, &n, &d), VT_OK);
    assert_int_equal(vt_store_commit(f->h->b->store, &d), VT_OK);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(vt_maa_store_check(f->h->b->store, nmk, &n, &d), VT_OK);
    /* this broker's master key no longer opens it */
    struct vt_maa_config c = {.issuer = "https://maa.test"};
    struct vt_maa *m = NULL;
    assert_int_equal(vt_maa_open(&c, f->h->b, &m, &d), VT_E_INTEGRITY);
    assert_null(m);
    n = 0;
    assert_int_equal(vt_store_begin(f->h->b->store, &d), VT_OK);
    assert_int_equal(vt_maa_store_rewrap(f->h->b->store, nmk, mk, &n, &d), VT_OK);
    assert_int_equal(vt_store_commit(f->h->b->store, &d), VT_OK);
}

/* ---- HTTP ---- */

static void test_http(void **state)
{
    struct fx *f = *state;
    struct vt_http_server_opts so = {.threads = 2, .route = vt_maa_http_route};
    struct vt_http_server *srv = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_http_server_start(&so, vt_maa_http_handler, f->m, &srv, &d), VT_OK);
    struct bh c = *f->h;
    FMT(c.url, sizeof(c.url), "http://127.0.0.1:%u", vt_http_server_port(srv));
    struct {
        const char *method, *path, *body, *bearer;
        long status;
        const char *code;
    } cases[] = {
        {"GET", "/nope", NULL, NULL, 404, "NotFound"},
        {"GET", "/attest/SgxEnclave?api-version=2022-08-01", NULL, NULL, 405, "MethodNotAllowed"},
        {"POST", "/attest/SgxEnclave", "{}", NULL, 400, "MissingApiVersionParameter"},
        {"POST", "/attest/SgxEnclave?api-version=2018-09-01-preview", "{}", NULL, 400,
         "InvalidApiVersionParameter"},
        {"POST", "/attest/Tpm?api-version=2022-08-01", "{}", NULL, 400, "InvalidParameter"},
        {"POST", "/attest/SgxEnclave?api-version=2022-08-01", "{}", NULL, 400, "InvalidParameter"},
        {"POST", "/attest/SgxEnclave?api-version=2022-08-01", "{\"quote\":\"AAAA\"}", NULL, 400,
         "InvalidParameter"},
        {"GET", "/policies/SgxEnclave?api-version=2022-08-01", NULL, NULL, 401, "Unauthorized"},
        {"GET", "/policies/SgxEnclave?api-version=2022-08-01", NULL, "vt_wrong", 401,
         "Unauthorized"},
        {"GET", "/policies/Nope?api-version=2022-08-01", NULL, f->h->admin, 400,
         "InvalidParameter"},
        {"PUT", "/policies/SgxEnclave?api-version=2022-08-01", "not a jws", f->h->admin, 400,
         "InvalidParameter"},
        {"POST", "/policies/SgxEnclave:reset?api-version=2022-08-01", "x.y.z", f->h->admin, 400,
         "InvalidParameter"},
        {"GET", "/policies/SgxEnclave?api-version=2022-08-01", NULL, f->h->admin, 200, NULL},
        {"POST", "/policies/SgxEnclave:reset?api-version=2022-08-01", "eyJhbGciOiJub25lIn0..",
         f->h->admin, 200, NULL},
        {"GET", "/certs", NULL, NULL, 200, NULL},
        {"GET", "/.well-known/openid-configuration", NULL, NULL, 200, NULL},
        {"GET", "/healthz", NULL, NULL, 200, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *o = NULL;
        char *raw = NULL;
        long st =
            bh_call(&c, cases[i].method, cases[i].path, cases[i].body, cases[i].bearer, &o, &raw);
        const char *code = json_string_value(json_object_get(json_object_get(o, "error"), "code"));
        if (st != cases[i].status ||
            (cases[i].code != NULL && (code == NULL || strcmp(code, cases[i].code) != 0))) {
            fail_msg("%s %s: %ld %s, want %ld %s", cases[i].method, cases[i].path, st,
                     raw ? raw : "", cases[i].status, cases[i].code ? cases[i].code : "");
        }
        json_decref(o);
        free(raw);
    }
    vt_http_server_stop(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_signing_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sgx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inittime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oe_tdx_snp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_signers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_master_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
