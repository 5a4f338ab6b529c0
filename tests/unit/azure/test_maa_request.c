/*
 * The MAA request readers (src/azure/maa_request.c): attest bodies of every type, Open Enclave
 * report headers and policy tokens, each accepted shape and every refusal with its exact code and
 * check, and nothing left allocated after a refusal.
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
#include "crypto/x509_self.h"

/* base64url of a string (static buffer, one at a time per slot). */
static const char *b64u(const char *s, size_t n, int slot)
{
    static char buf[4][4096];
    assert_int_equal(vt_base64_encode((const uint8_t *)s, n, true, buf[slot], sizeof(buf[slot])),
                     VT_OK);
    return buf[slot];
}

static enum vt_err parse(enum vt_maa_type t, const char *body, struct vt_maa_attest_req *r,
                         struct vt_diag *d)
{
    vt_diag_init(d);
    return vt_maa_attest_req_parse(t, (const uint8_t *)body, strlen(body), r, d);
}

/* A body refused with code at check (and the request left empty). */
static void refused(enum vt_maa_type t, const char *body, enum vt_err code, const char *check)
{
    struct vt_maa_attest_req r;
    struct vt_diag d;
    enum vt_err err = parse(t, body, &r, &d);
    if (err != code || strcmp(d.check, check) != 0) {
        fail_msg("%s: got %s at %s (%s), want %s at %s", body, vt_err_name(err), d.check, d.detail,
                 vt_err_name(code), check);
    }
    assert_null(r.evidence);
    assert_null(r.runtime.data);
    assert_null(r.runtime.json);
    assert_null(r.nonce);
    assert_null(r.draft_policy);
    vt_maa_attest_req_cleanup(&r);
}

static void test_attest_ok(void **state)
{
    (void)state;
    char body[2048];
    const char *json = "{\"a\":[1,2]}";
    FMT(body, sizeof(body),
        "{\"quote\":\"%s\",\"runtimeData\":{\"data\":\"%s\",\"dataType\":\"JSON\"},"
        "\"initTimeData\":{\"data\":\"%s\",\"dataType\":\"Binary\"},\"nonce\":\"n1\","
        "\"draftPolicyForAttestation\":\"version= 1.0;\"}",
        b64u("QUOTE", 5, 0), b64u(json, strlen(json), 1), b64u("\x00\x01", 2, 2));
    struct vt_maa_attest_req r;
    struct vt_diag d;
    assert_int_equal(parse(VT_MAA_SGX, body, &r, &d), VT_OK);
    assert_int_equal(r.evidence_len, 5);
    assert_memory_equal(r.evidence, "QUOTE", 5);
    assert_int_equal(r.runtime.type, VT_MAA_DATA_JSON);
    assert_int_equal(r.runtime.len, strlen(json));
    assert_true(json_is_array(json_object_get(r.runtime.json, "a")));
    assert_int_equal(r.inittime.type, VT_MAA_DATA_BINARY);
    assert_int_equal(r.inittime.len, 2);
    assert_null(r.inittime.json);
    assert_string_equal(r.nonce, "n1");
    assert_string_equal(r.draft_policy, "version= 1.0;");
    vt_maa_attest_req_cleanup(&r);
    /* the report types take "report"; dataType absent is Binary; any case of the names */
    FMT(body, sizeof(body), "{\"report\":\"%s\",\"runtimeData\":{\"data\":\"%s\"}}",
        b64u("R", 1, 0), b64u("x", 1, 1));
    for (enum vt_maa_type t = VT_MAA_OE; t <= VT_MAA_SNP; t += 2) {
        assert_int_equal(parse(t, body, &r, &d), VT_OK);
        assert_int_equal(r.runtime.type, VT_MAA_DATA_BINARY);
        vt_maa_attest_req_cleanup(&r);
    }
    FMT(body, sizeof(body),
        "{\"quote\":\"%s\",\"runtimeData\":{\"data\":\"%s\","
        "\"dataType\":\"binary\"}}",
        b64u("Q", 1, 0), b64u("x", 1, 1));
    assert_int_equal(parse(VT_MAA_TDX, body, &r, &d), VT_OK);
    vt_maa_attest_req_cleanup(&r);
    /* null optional members are absent */
    FMT(body, sizeof(body), "{\"quote\":\"%s\",\"runtimeData\":null,\"nonce\":null}",
        b64u("Q", 1, 0));
    assert_int_equal(parse(VT_MAA_SGX, body, &r, &d), VT_OK);
    assert_int_equal(r.runtime.type, VT_MAA_DATA_NONE);
    vt_maa_attest_req_cleanup(&r);
}

static void test_attest_refused(void **state)
{
    (void)state;
    char body[4096];
    refused(VT_MAA_SGX, "", VT_E_BAD_JSON, "$");
    refused(VT_MAA_SGX, "{\"quote\":", VT_E_BAD_JSON, "$");
    refused(VT_MAA_SGX, "[]", VT_E_BAD_FIELD, "$");
    refused(VT_MAA_SGX, "{\"quote\":\"QQ\",\"quote\":\"QQ\"}", VT_E_DUPLICATE, "$");
    refused(VT_MAA_SGX, "{}", VT_E_MISSING_FIELD, "$.quote");
    refused(VT_MAA_SGX, "{\"quote\":5}", VT_E_BAD_FIELD, "$.quote");
    refused(VT_MAA_SGX, "{\"quote\":\"\"}", VT_E_BAD_LENGTH, "$.quote");
    refused(VT_MAA_SGX, "{\"quote\":\"!!!!\"}", VT_E_BAD_BASE64, "$.quote");
    /* the standard alphabet is not base64url */
    refused(VT_MAA_SGX, "{\"quote\":\"ab+/\"}", VT_E_BAD_BASE64, "$.quote");
    refused(VT_MAA_SGX, "{\"quote\":\"QQ\",\"report\":\"QQ\"}", VT_E_UNSUPPORTED, "$.report");
    refused(VT_MAA_OE, "{\"quote\":\"QQ\"}", VT_E_UNSUPPORTED, "$.quote");
    refused(VT_MAA_SNP, "{\"report\":\"QQ\",\"extra\":1}", VT_E_UNSUPPORTED, "$.extra");
    refused(VT_MAA_SGX, "{\"quote\":\"QQ\",\"runtimeData\":\"x\"}", VT_E_BAD_FIELD,
            "$.runtimeData");
    refused(VT_MAA_SGX, "{\"quote\":\"QQ\",\"runtimeData\":{}}", VT_E_MISSING_FIELD,
            "$.runtimeData.data");
    refused(VT_MAA_SGX, "{\"quote\":\"QQ\",\"runtimeData\":{\"data\":\"QQ\",\"x\":1}}",
            VT_E_UNSUPPORTED, "$.runtimeData");
    refused(VT_MAA_SGX,
            "{\"quote\":\"QQ\",\"runtimeData\":{\"data\":\"QQ\",\"dataType\":\"Text\"}}",
            VT_E_BAD_FIELD, "$.runtimeData.dataType");
    refused(VT_MAA_SGX, "{\"quote\":\"QQ\",\"runtimeData\":{\"data\":\"QQ\",\"dataType\":1}}",
            VT_E_BAD_FIELD, "$.runtimeData.dataType");
    refused(VT_MAA_SGX, "{\"quote\":\"QQ\",\"initTimeData\":{\"data\":\"\"}}", VT_E_BAD_LENGTH,
            "$.initTimeData.data");
    FMT(body, sizeof(body),
        "{\"quote\":\"QQ\",\"runtimeData\":{\"data\":\"%s\",\"dataType\":\"JSON\"}}",
        b64u("not json", 8, 0));
    refused(VT_MAA_SGX, body, VT_E_BAD_JSON, "$.runtimeData.data");
    FMT(body, sizeof(body),
        "{\"quote\":\"QQ\",\"runtimeData\":{\"data\":\"%s\",\"dataType\":\"JSON\"}}",
        b64u("[1]", 3, 0));
    refused(VT_MAA_SGX, body, VT_E_BAD_FIELD, "$.runtimeData.data");
    FMT(body, sizeof(body),
        "{\"quote\":\"QQ\",\"initTimeData\":{\"data\":\"%s\",\"dataType\":\"JSON\"}}",
        b64u("{\"a\":1,\"a\":2}", 13, 0));
    refused(VT_MAA_SGX, body, VT_E_BAD_JSON, "$.initTimeData.data");
    refused(VT_MAA_SGX, "{\"quote\":\"QQ\",\"nonce\":\"\"}", VT_E_BAD_LENGTH, "$.nonce");
    refused(VT_MAA_SGX, "{\"quote\":\"QQ\",\"nonce\":1}", VT_E_BAD_FIELD, "$.nonce");
    char nonce[VT_MAA_NONCE_MAX + 2];
    memset(nonce, 'n', sizeof(nonce) - 1);
    nonce[sizeof(nonce) - 1] = '\0';
    FMT(body, sizeof(body), "{\"quote\":\"QQ\",\"nonce\":\"%s\"}", nonce);
    refused(VT_MAA_SGX, body, VT_E_BAD_LENGTH, "$.nonce");
    refused(VT_MAA_SGX, "{\"quote\":\"QQ\",\"draftPolicyForAttestation\":\"\"}", VT_E_BAD_LENGTH,
            "$.draftPolicyForAttestation");
    refused(VT_MAA_SGX, "{\"quote\":\"QQ\",\"draftPolicyForAttestation\":[]}", VT_E_BAD_FIELD,
            "$.draftPolicyForAttestation");
    /* sizes: the body, the evidence, the data */
    size_t big = VT_MAA_BODY_MAX + 1;
    char *huge = malloc(big + 1);
    assert_non_null(huge);
    memset(huge, ' ', big);
    huge[big] = '\0';
    refused(VT_MAA_SGX, huge, VT_E_TOO_LARGE, "$");
    size_t ev = (VT_MAA_EVIDENCE_MAX / 3 + 8) * 4;
    FMT(huge, 16, "{\"quote\":\"");
    memset(huge + 10, 'A', ev);
    FMT(huge + 10 + ev, 8, "\"}");
    refused(VT_MAA_SGX, huge, VT_E_TOO_LARGE, "$.quote");
    size_t dn = (VT_MAA_DATA_MAX / 3 + 8) * 4;
    int off = snprintf(huge, 64, "{\"quote\":\"QQ\",\"runtimeData\":{\"data\":\"");
    memset(huge + off, 'A', dn);
    FMT(huge + off + dn, 8, "\"}}");
    refused(VT_MAA_SGX, huge, VT_E_TOO_LARGE, "$.runtimeData.data");
    free(huge);
}

/* ---- Open Enclave reports ---- */

static void oe_header(uint8_t *p, uint32_t version, uint32_t type, uint64_t size)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(version >> (8 * i));
        p[4 + i] = (uint8_t)(type >> (8 * i));
    }
    for (int i = 0; i < 8; i++) {
        p[8 + i] = (uint8_t)(size >> (8 * i));
    }
}

static void oe_refused(const uint8_t *p, size_t n, enum vt_err code, const char *check)
{
    const uint8_t *q = NULL;
    size_t qn = 0;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_maa_oe_report_parse(p, n, &q, &qn, &d), code);
    assert_string_equal(d.check, check);
    assert_null(q);
}

static void test_oe_report(void **state)
{
    (void)state;
    uint8_t r[20];
    memset(r, 0xaa, sizeof(r));
    oe_header(r, 1, 2, 4);
    const uint8_t *q = NULL;
    size_t qn = 0;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_maa_oe_report_parse(r, sizeof(r), &q, &qn, &d), VT_OK);
    assert_ptr_equal(q, r + 16);
    assert_int_equal(qn, 4);
    for (size_t n = 0; n < 16; n++) {
        oe_refused(r, n, VT_E_TRUNCATED, "oe.header");
    }
    oe_header(r, 2, 2, 4);
    oe_refused(r, sizeof(r), VT_E_UNSUPPORTED_VERSION, "oe.version");
    oe_header(r, 1, 1, 4);
    oe_refused(r, sizeof(r), VT_E_UNSUPPORTED, "oe.report_type");
    oe_header(r, 1, 3, 4);
    oe_refused(r, sizeof(r), VT_E_UNSUPPORTED, "oe.report_type");
    oe_header(r, 1, 2, 5);
    oe_refused(r, sizeof(r), VT_E_BAD_LENGTH, "oe.report_size");
    oe_header(r, 1, 2, 3);
    oe_refused(r, sizeof(r), VT_E_BAD_LENGTH, "oe.report_size");
    oe_header(r, 1, 2, 0);
    oe_refused(r, 16, VT_E_BAD_LENGTH, "oe.report_size");
    oe_header(r, 1, 2, UINT64_MAX);
    oe_refused(r, sizeof(r), VT_E_BAD_LENGTH, "oe.report_size");
}

/* ---- policy tokens ---- */

/* A compact JWS header.payload.sig from texts (sig: raw text already base64url, or NULL). */
static char *jws(const char *hdr, const char *payload, const char *sig)
{
    static char out[8192];
    FMT(out, sizeof(out), "%s.%s.%s", b64u(hdr, strlen(hdr), 0), b64u(payload, strlen(payload), 1),
        sig ? sig : "");
    return out;
}

static void tok_refused(const char *compact, bool want, enum vt_err code, const char *check)
{
    struct vt_maa_policy_token t;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_maa_policy_token_parse(compact, strlen(compact), want, &t, &d);
    if (err != code || strcmp(d.check, check) != 0) {
        fail_msg("%s: got %s at %s (%s), want %s at %s", compact, vt_err_name(err), d.check,
                 d.detail, vt_err_name(code), check);
    }
    assert_null(t.policy);
    assert_null(t.signer_der);
    assert_false(t.signed_);
    vt_maa_policy_token_cleanup(&t);
}

static char *stored(const char *policy)
{
    static char buf[4096];
    FMT(buf, sizeof(buf), "{\"AttestationPolicy\":\"%s\"}", b64u(policy, strlen(policy), 2));
    return buf;
}

static void test_policy_token_unsigned(void **state)
{
    (void)state;
    const char *pol = "version= 1.0; authorizationrules { => permit(); };";
    char *c = jws("{\"alg\":\"none\"}", stored(pol), NULL);
    struct vt_maa_policy_token t;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_maa_policy_token_parse(c, strlen(c), true, &t, &d), VT_OK);
    assert_false(t.signed_);
    assert_string_equal(t.policy, pol);
    uint8_t h[32];
    vt_sha256(c, strlen(c), h);
    assert_memory_equal(t.token_hash, h, 32);
    vt_maa_policy_token_cleanup(&t);
    /* a reset token: empty payload (or {}) */
    char reset[128];
    FMT(reset, sizeof(reset), "%s..", b64u("{\"alg\":\"none\"}", 14, 0));
    assert_int_equal(vt_maa_policy_token_parse(reset, strlen(reset), false, &t, &d), VT_OK);
    assert_null(t.policy);
    vt_maa_policy_token_cleanup(&t);

    tok_refused("", true, VT_E_MALFORMED, "policy.token");
    tok_refused("a.b", true, VT_E_MALFORMED, "policy.token");
    tok_refused("a.b.c.d", true, VT_E_MALFORMED, "policy.token");
    tok_refused(".b.c", true, VT_E_MALFORMED, "policy.token");
    tok_refused("a+b.c.d", true, VT_E_MALFORMED, "policy.token");
    tok_refused("A.QQ.", true, VT_E_BAD_BASE64, "policy.header");
    tok_refused(jws("[1]", "{}", NULL), true, VT_E_BAD_JSON, "policy.header");
    tok_refused(jws("{\"typ\":\"JWT\"}", "{}", NULL), true, VT_E_MISSING_FIELD, "policy.alg");
    tok_refused(jws("{\"alg\":\"none\",\"crit\":[\"x\"]}", "{}", NULL), true, VT_E_UNSUPPORTED,
                "policy.crit");
    tok_refused(jws("{\"alg\":\"HS256\"}", "{}", NULL), true, VT_E_UNSUPPORTED_ALGORITHM,
                "policy.alg");
    tok_refused(jws("{\"alg\":\"none\"}", "{}", "c2ln"), true, VT_E_MALFORMED, "policy.token");
    tok_refused(jws("{\"alg\":\"none\"}", "x", NULL), true, VT_E_BAD_JSON, "policy.payload");
    tok_refused(jws("{\"alg\":\"none\"}", "[]", NULL), true, VT_E_BAD_FIELD, "policy.payload");
    tok_refused(jws("{\"alg\":\"none\"}", "{}", NULL), true, VT_E_MISSING_FIELD,
                "policy.AttestationPolicy");
    tok_refused(jws("{\"alg\":\"none\"}", "{\"AttestationPolicy\":1}", NULL), true, VT_E_BAD_FIELD,
                "policy.AttestationPolicy");
    tok_refused(jws("{\"alg\":\"none\"}", "{\"AttestationPolicy\":\"\"}", NULL), true,
                VT_E_BAD_LENGTH, "policy.AttestationPolicy");
    tok_refused(jws("{\"alg\":\"none\"}", "{\"AttestationPolicy\":\"%%%\"}", NULL), true,
                VT_E_BAD_BASE64, "policy.AttestationPolicy");
    char nul[64];
    FMT(nul, sizeof(nul), "{\"AttestationPolicy\":\"%s\"}", b64u("a\0b", 3, 2));
    tok_refused(jws("{\"alg\":\"none\"}", nul, NULL), true, VT_E_BAD_FIELD,
                "policy.AttestationPolicy");
    tok_refused(jws("{\"alg\":\"none\"}", stored("x"), NULL), false, VT_E_BAD_FIELD,
                "policy.payload");
    tok_refused(jws("{\"alg\":\"RS256\"}", "{}", "c2ln"), true, VT_E_MISSING_FIELD, "policy.x5c");
    tok_refused(jws("{\"alg\":\"RS256\",\"x5c\":[\"%%\"]}", "{}", "c2ln"), true, VT_E_BAD_BASE64,
                "policy.x5c");
    tok_refused(jws("{\"alg\":\"RS256\",\"x5c\":[\"AAAA\"]}", "{}", "c2ln"), true, VT_E_BAD_CERT,
                "policy.x5c");
    char *big = malloc(VT_MAA_POLICY_TOKEN_MAX + 2);
    assert_non_null(big);
    memset(big, 'A', VT_MAA_POLICY_TOKEN_MAX + 1);
    big[VT_MAA_POLICY_TOKEN_MAX + 1] = '\0';
    tok_refused(big, true, VT_E_TOO_LARGE, "policy.token");
    free(big);
}

/* A signed token: RS256 by key with its self-signed certificate in x5c. */
static char *signed_token(const struct vt_jwk *key, const uint8_t *der, size_t dn,
                          const char *payload)
{
    char *x5c = vt_base64_alloc(der, dn, false);
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

static void test_policy_token_signed(void **state)
{
    (void)state;
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_jwk *key = NULL, *other = NULL, *ec = NULL;
    assert_int_equal(vt_jwk_generate("RSA-2048", &key, &d), VT_OK);
    assert_int_equal(vt_jwk_generate("RSA-2048", &other, &d), VT_OK);
    assert_int_equal(vt_jwk_generate("P-256", &ec, &d), VT_OK);
    struct vt_buf cert, other_cert, ec_cert;
    vt_buf_init(&cert, 1 << 16);
    vt_buf_init(&other_cert, 1 << 16);
    vt_buf_init(&ec_cert, 1 << 16);
    assert_int_equal(vt_x509_self_signed_der(key, "signer", 1700000000, 1900000000, &cert, &d),
                     VT_OK);
    assert_int_equal(
        vt_x509_self_signed_der(other, "other", 1700000000, 1900000000, &other_cert, &d), VT_OK);
    assert_int_equal(vt_x509_self_signed_der(ec, "ec", 1700000000, 1900000000, &ec_cert, &d),
                     VT_OK);
    const char *pol = "version= 1.0; authorizationrules { => permit(); };";
    char *c = signed_token(key, cert.data, cert.len, stored(pol));
    struct vt_maa_policy_token t;
    assert_int_equal(vt_maa_policy_token_parse(c, strlen(c), true, &t, &d), VT_OK);
    assert_true(t.signed_);
    assert_string_equal(t.policy, pol);
    assert_int_equal(t.signer_len, cert.len);
    assert_memory_equal(t.signer_der, cert.data, cert.len);
    vt_maa_policy_token_cleanup(&t);
    free(c);
    /* the certificate in x5c is not the signer's */
    c = signed_token(key, other_cert.data, other_cert.len, stored(pol));
    tok_refused(c, true, VT_E_SIGNATURE, "jws.signature");
    free(c);
    /* an EC certificate: not RSA */
    c = signed_token(key, ec_cert.data, ec_cert.len, stored(pol));
    tok_refused(c, true, VT_E_UNSUPPORTED_ALGORITHM, "policy.x5c");
    free(c);
    /* an altered payload */
    c = signed_token(key, cert.data, cert.len, stored(pol));
    char *dot = strchr(c, '.');
    dot[1] = dot[1] == 'e' ? 'f' : 'e';
    tok_refused(c, true, VT_E_SIGNATURE, "jws.signature");
    free(c);
    /* x509 helpers' own refusals */
    struct vt_buf none;
    vt_buf_init(&none, 1 << 16);
    struct vt_jwk *pub = NULL;
    assert_int_equal(vt_x509_self_signed_der(key, "", 0, 1, &none, &d), VT_E_ARG);
    assert_string_equal(d.check, "x509.cn");
    assert_int_equal(vt_x509_rsa_jwk((const uint8_t *)"xx", 2, &pub, &d), VT_E_BAD_CERT);
    assert_int_equal(vt_x509_rsa_jwk(ec_cert.data, ec_cert.len, &pub, &d),
                     VT_E_UNSUPPORTED_ALGORITHM);
    assert_int_equal(vt_x509_rsa_jwk(cert.data, cert.len, &pub, &d), VT_OK);
    vt_jwk_free(pub);
    vt_buf_cleanup(&none);
    vt_buf_cleanup(&cert);
    vt_buf_cleanup(&other_cert);
    vt_buf_cleanup(&ec_cert);
    vt_jwk_free(key);
    vt_jwk_free(other);
    vt_jwk_free(ec);
}

static void snp_refused(const char *text, enum vt_err code, const char *check)
{
    uint8_t *rep = NULL, *vek = NULL;
    size_t rn = 0, vn = 0;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err =
        vt_maa_snp_envelope_parse((const uint8_t *)text, strlen(text), &rep, &rn, &vek, &vn, &d);
    if (err != code || strcmp(d.check, check) != 0) {
        fail_msg("%s: got %s at %s (%s), want %s at %s", text, vt_err_name(err), d.check, d.detail,
                 vt_err_name(code), check);
    }
    assert_null(rep);
    assert_null(vek);
}

static void test_snp_envelope(void **state)
{
    (void)state;
    uint8_t *rep = NULL, *vek = NULL;
    size_t rn = 0, vn = 0;
    struct vt_diag d;
    vt_diag_init(&d);
    const char *ok = "{\"SnpReport\":\"UkVQT1JU\"}";
    assert_int_equal(
        vt_maa_snp_envelope_parse((const uint8_t *)ok, strlen(ok), &rep, &rn, &vek, &vn, &d),
        VT_OK);
    assert_int_equal(rn, 6);
    assert_memory_equal(rep, "REPORT", 6);
    assert_null(vek);
    free(rep);
    snp_refused("", VT_E_BAD_JSON, "report");
    snp_refused("[]", VT_E_BAD_FIELD, "report");
    snp_refused("{\"SnpReport\":\"QQ\",\"SnpReport\":\"QQ\"}", VT_E_BAD_JSON, "report");
    snp_refused("{}", VT_E_MISSING_FIELD, "report.SnpReport");
    snp_refused("{\"SnpReport\":1}", VT_E_BAD_FIELD, "report.SnpReport");
    snp_refused("{\"SnpReport\":\"\"}", VT_E_BAD_LENGTH, "report.SnpReport");
    snp_refused("{\"SnpReport\":\"%%\"}", VT_E_BAD_BASE64, "report.SnpReport");
    snp_refused("{\"SnpReport\":\"QQ\",\"Other\":1}", VT_E_UNSUPPORTED, "report");
    snp_refused("{\"SnpReport\":\"QQ\",\"VcekCertChain\":\"QUFB\"}", VT_E_BAD_PEM,
                "report.VcekCertChain");
    snp_refused("{\"SnpReport\":\"QQ\",\"VcekCertChain\":7}", VT_E_BAD_FIELD,
                "report.VcekCertChain");
}

static void test_names(void **state)
{
    (void)state;
    enum vt_maa_type t;
    assert_true(vt_maa_type_parse("sgxenclave", &t));
    assert_int_equal(t, VT_MAA_SGX);
    assert_true(vt_maa_type_parse("SevSnpVm", &t));
    assert_int_equal(t, VT_MAA_SNP);
    assert_false(vt_maa_type_parse("Tpm", &t));
    assert_false(vt_maa_type_parse("", &t));
    assert_string_equal(vt_maa_type_name(VT_MAA_TDX), "TdxVm");
    assert_true(vt_maa_api_version_ok("2020-10-01"));
    assert_true(vt_maa_api_version_ok("2022-08-01"));
    assert_false(vt_maa_api_version_ok("2022-09-01-preview"));
    assert_false(vt_maa_api_version_ok(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attest_ok),
        cmocka_unit_test(test_attest_refused),
        cmocka_unit_test(test_oe_report),
        cmocka_unit_test(test_policy_token_unsigned),
        cmocka_unit_test(test_policy_token_signed),
        cmocka_unit_test(test_snp_envelope),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
