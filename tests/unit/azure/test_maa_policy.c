/*
 * Azure Attestation (MAA) policies, version 1.0 (src/azure/maa_policy.c, maa_policy_eval.c,
 * docs/maa-policy.md): policies of the shapes MAA documents (written here, with values of our
 * own), permit / deny / add / issue / issueproperty, joins over multi-valued claims, type-strict
 * comparison, and every refusal of the compiler and the evaluator with its exact code, line and
 * column.
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

#include "azure/maa_policy.h"

#define SIGNER "5ab2c4f1e0d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3"
#define SIGNER2 "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"

static struct vt_maa_policy *compile_ok(const char *text)
{
    struct vt_maa_policy *p = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_maa_policy_compile(text, strlen(text), &p, &d);
    if (err != VT_OK) {
        fail_msg("compile failed: %s %s: %s\n%s", vt_err_name(err), d.check, d.detail, text);
    }
    assert_non_null(p);
    return p;
}

/* Compiling `text` fails with `code`, and the detail contains `detail`. */
static void compile_err_n(const char *text, size_t len, enum vt_err code, const char *detail)
{
    struct vt_maa_policy *p = (struct vt_maa_policy *)&p;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_maa_policy_compile(text, len, &p, &d);
    if (err != code || strstr(d.detail, detail) == NULL) {
        fail_msg("expected %s \"%s\", got %s %s: %s\npolicy: %s", vt_err_name(code), detail,
                 vt_err_name(err), d.check, d.detail, text);
    }
    assert_null(p);
    assert_int_equal(d.code, code);
    assert_string_equal(d.check, "maa.policy");
}

static void compile_err(const char *text, enum vt_err code, const char *detail)
{
    compile_err_n(text, strlen(text), code, detail);
}

static json_t *claims(const char *json)
{
    json_error_t jerr;
    json_t *j = json_loads(json, JSON_ALLOW_NUL, &jerr);
    if (j == NULL) {
        fail_msg("bad test JSON: %s: %s", jerr.text, json);
    }
    return j;
}

/* n claims of type `type` with values 0..n-1, as JSON text. */
static char *numbered(const char *type, size_t n)
{
    size_t cap = 64 + n * (strlen(type) + 40);
    char *s = malloc(cap);
    assert_non_null(s);
    size_t k = (size_t)snprintf(s, cap, "[");
    for (size_t i = 0; i < n; i++) {
        k += (size_t)snprintf(s + k, cap - k, "%s{\"type\":\"%s\",\"value\":%zu}", i ? "," : "",
                              type, i);
    }
    snprintf(s + k, cap - k, "]");
    return s;
}

/* Evaluate `policy` over `incoming` (JSON text); the result must be VT_OK. */
static void eval_ok(const char *policy, const char *incoming, struct vt_maa_policy_result *r)
{
    struct vt_maa_policy *p = compile_ok(policy);
    json_t *in = claims(incoming);
    char *before = json_dumps(in, JSON_SORT_KEYS);
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_maa_policy_eval(p, in, r, &d);
    if (err != VT_OK) {
        fail_msg("eval failed: %s %s: %s", vt_err_name(err), d.check, d.detail);
    }
    /* The incoming set is borrowed and left as it was. */
    char *after = json_dumps(in, JSON_SORT_KEYS);
    assert_string_equal(before, after);
    free(before);
    free(after);
    json_decref(in);
    vt_maa_policy_free(p);
    assert_non_null(r->properties);
    assert_true(json_is_object(r->properties));
    if (r->permitted) {
        assert_non_null(r->issued);
        assert_string_equal(r->reason, "");
    } else {
        assert_null(r->issued);
        assert_true(r->reason[0] != '\0');
    }
}

/* The issued claims as compact JSON text, for comparison. */
static void assert_issued(const struct vt_maa_policy_result *r, const char *expected_json)
{
    json_t *want = claims(expected_json);
    if (!json_equal(want, r->issued)) {
        char *got = json_dumps(r->issued, JSON_COMPACT);
        fail_msg("issued %s, expected %s", got, expected_json);
    }
    json_decref(want);
}

static bool permitted(const char *policy, const char *incoming)
{
    struct vt_maa_policy_result r;
    eval_ok(policy, incoming, &r);
    bool ok = r.permitted;
    vt_maa_policy_result_cleanup(&r);
    return ok;
}

#define V10 "version=1.0;\n"
#define AUTHR "authorizationrules { "

/* ---- documented shapes ---- */

/* An SGX enclave policy of the shape MAA's examples use: debuggable false, product id, SVN
 * floor, signer; the signer issued under a name of the policy's own. */
static const char *const sgx_policy =
    "version= 1.0;\n"
    "authorizationrules\n"
    "{\n"
    "    [ type==\"x-ms-sgx-is-debuggable\", value==false ]\n"
    "     && [ type==\"x-ms-sgx-product-id\", value==7 ]\n"
    "     && [ type==\"x-ms-sgx-svn\", value>= 2 ]\n"
    "     && [ type==\"x-ms-sgx-mrsigner\", value==\"" SIGNER "\"]\n"
    "  => permit();\n"
    "};\n"
    "issuancerules {\n"
    "c:[type==\"x-ms-sgx-mrsigner\"] => issue(type=\"signer\", "
    "value=c.value);\n"
    "};\n";

static void sgx_claims(char *buf, size_t size, const char *debuggable, int svn, const char *signer)
{
    snprintf(buf, size,
             "[{\"type\":\"x-ms-sgx-is-debuggable\",\"value\":%s},"
             "{\"type\":\"x-ms-sgx-product-id\",\"value\":7},"
             "{\"type\":\"x-ms-sgx-svn\",\"value\":%d},"
             "{\"type\":\"x-ms-sgx-mrsigner\",\"value\":\"%s\"},"
             "{\"type\":\"x-ms-sgx-mrenclave\",\"value\":\"00ff\"}]",
             debuggable, svn, signer);
}

static void test_sgx_policy(void **state)
{
    (void)state;
    char in[1024];
    struct vt_maa_policy_result r;
    sgx_claims(in, sizeof(in), "false", 2, SIGNER);
    eval_ok(sgx_policy, in, &r);
    assert_true(r.permitted);
    assert_issued(&r, "[{\"type\":\"signer\",\"value\":\"" SIGNER "\","
                      "\"issuer\":\"AttestationPolicy\"}]");
    assert_int_equal(json_object_size(r.properties), 0);
    vt_maa_policy_result_cleanup(&r);
    assert_null(r.issued);

    sgx_claims(in, sizeof(in), "false", 9, SIGNER);
    assert_true(permitted(sgx_policy, in));
    /* Debuggable, an SVN below the floor, another signer: not permitted, and nothing issued. */
    sgx_claims(in, sizeof(in), "true", 2, SIGNER);
    eval_ok(sgx_policy, in, &r);
    assert_false(r.permitted);
    assert_string_equal(r.reason, "not permitted: no rule of authorizationrules (1) ran permit()");
    vt_maa_policy_result_cleanup(&r);
    sgx_claims(in, sizeof(in), "false", 1, SIGNER);
    assert_false(permitted(sgx_policy, in));
    sgx_claims(in, sizeof(in), "false", 2, SIGNER2);
    assert_false(permitted(sgx_policy, in));
    /* A claim missing altogether. */
    assert_false(permitted(sgx_policy, "[{\"type\":\"x-ms-sgx-is-debuggable\",\"value\":false}]"));
    assert_false(permitted(sgx_policy, "[]"));
}

/* Several enclaves (signer rotation): one permit rule each. */
static void test_several_enclaves(void **state)
{
    (void)state;
    const char *policy = "version= 1.0;\n"
                         "authorizationrules \n"
                         "{\n"
                         "\t[ type==\"x-ms-sgx-is-debuggable\", value==false ]&&\n"
                         "\t[ type==\"x-ms-sgx-mrsigner\", value==\"" SIGNER "\"] => permit();\n"
                         "\t[ type==\"x-ms-sgx-is-debuggable\", value==false ]&&\n"
                         "\t[ type==\"x-ms-sgx-mrsigner\", value==\"" SIGNER2 "\"] => permit();\n"
                         "};\n";
    char in[1024];
    sgx_claims(in, sizeof(in), "false", 1, SIGNER);
    assert_true(permitted(policy, in));
    sgx_claims(in, sizeof(in), "false", 1, SIGNER2);
    assert_true(permitted(policy, in));
    sgx_claims(in, sizeof(in), "false", 1, "aa");
    assert_false(permitted(policy, in));
    sgx_claims(in, sizeof(in), "true", 1, SIGNER2);
    assert_false(permitted(policy, in));
}

/* A TPM policy of the documented shape: permit everything, issue one claim when four booleans
 * hold. */
static void test_tpm_policy(void **state)
{
    (void)state;
    const char *policy = "version=1.0;\n\n"
                         "authorizationrules { \n    => permit();\n};\n\n\n"
                         "issuancerules\n{\n"
                         "[type==\"aikValidated\", value==true]&& \n"
                         "[type==\"secureBootEnabled\", value==true] &&\n"
                         "[type==\"bootDebuggingDisabled\", value==true] && \n"
                         "[type==\"notSafeMode\", value==true] => issue(type=\"PlatformAttested\", "
                         "value=true);\n"
                         "};\n";
    const char *good = "[{\"type\":\"aikValidated\",\"value\":true},"
                       "{\"type\":\"secureBootEnabled\",\"value\":true},"
                       "{\"type\":\"bootDebuggingDisabled\",\"value\":true},"
                       "{\"type\":\"notSafeMode\",\"value\":true}]";
    struct vt_maa_policy_result r;
    eval_ok(policy, good, &r);
    assert_true(r.permitted);
    assert_issued(&r, "[{\"type\":\"PlatformAttested\",\"value\":true,"
                      "\"issuer\":\"AttestationPolicy\"}]");
    vt_maa_policy_result_cleanup(&r);
    /* One boolean false: still permitted (authorization permits all), nothing issued. */
    eval_ok(policy,
            "[{\"type\":\"aikValidated\",\"value\":true},"
            "{\"type\":\"secureBootEnabled\",\"value\":false},"
            "{\"type\":\"bootDebuggingDisabled\",\"value\":true},"
            "{\"type\":\"notSafeMode\",\"value\":true}]",
            &r);
    assert_true(r.permitted);
    assert_issued(&r, "[]");
    vt_maa_policy_result_cleanup(&r);
}

/* The default-policy shape: permit, then rename claims. */
static void test_default_shape(void **state)
{
    (void)state;
    const char *policy = "version= 1.0;\n"
                         "authorizationrules{\n\t=> permit();\n};\n"
                         "issuancerules{\n"
                         "\tc:[type==\"x-ms-sgx-is-debuggable\"] => issue(type=\"is-debuggable\", "
                         "value=c.value);\n"
                         "\tc:[type==\"x-ms-sgx-svn\"] => issue(type=\"svn\", value=c.value);\n"
                         "\tc:[type==\"x-ms-attestation-type\"] => issue(type=\"tee\", "
                         "value=c.value);\n"
                         "};\n";
    struct vt_maa_policy_result r;
    eval_ok(policy,
            "[{\"type\":\"x-ms-sgx-svn\",\"value\":3},"
            "{\"type\":\"x-ms-sgx-is-debuggable\",\"value\":false},"
            "{\"type\":\"x-ms-attestation-type\",\"value\":\"sgx\"}]",
            &r);
    assert_true(r.permitted);
    assert_issued(&r, "[{\"type\":\"is-debuggable\",\"value\":false,\"issuer\":"
                      "\"AttestationPolicy\"},"
                      "{\"type\":\"svn\",\"value\":3,\"issuer\":\"AttestationPolicy\"},"
                      "{\"type\":\"tee\",\"value\":\"sgx\",\"issuer\":\"AttestationPolicy\"}]");
    vt_maa_policy_result_cleanup(&r);
}

/* ---- permit and deny ---- */

static void test_deny(void **state)
{
    (void)state;
    struct vt_maa_policy_result r;
    eval_ok(V10 "authorizationrules\n{\n  => deny();\n};\nissuancerules\n{\n};\n", "[]", &r);
    assert_false(r.permitted);
    assert_string_equal(r.reason,
                        "denied by deny() of the authorizationrules rule at line 4, column 3");
    vt_maa_policy_result_cleanup(&r);

    /* deny() wins over an earlier permit(), and stops the rules after it. */
    const char *policy = V10 "authorizationrules {\n"
                             " => permit();\n"
                             " [type==\"debug\", value==true] => deny();\n"
                             " => add(type=\"after\", value=1);\n"
                             "};\n";
    eval_ok(policy, "[{\"type\":\"debug\",\"value\":true}]", &r);
    assert_false(r.permitted);
    assert_string_equal(r.reason,
                        "denied by deny() of the authorizationrules rule at line 4, column 2");
    vt_maa_policy_result_cleanup(&r);
    assert_true(permitted(policy, "[{\"type\":\"debug\",\"value\":false}]"));
    /* deny() before a permit() that would match. */
    assert_false(permitted(V10 "authorizationrules { [type==\"a\"] => deny(); => permit(); };",
                           "[{\"type\":\"a\",\"value\":1}]"));
    assert_true(permitted(V10 "authorizationrules { [type==\"a\"] => deny(); => permit(); };",
                          "[{\"type\":\"b\",\"value\":1}]"));

    /* Nothing permits: an empty section, or only add(). */
    eval_ok(V10 "authorizationrules{};", "[]", &r);
    assert_false(r.permitted);
    assert_string_equal(r.reason,
                        "not permitted: authorizationrules has no rules (nothing permits)");
    vt_maa_policy_result_cleanup(&r);
    assert_false(permitted(V10 "authorizationrules{ => add(type=\"x\", value=1); };", "[]"));
}

/* ---- add, issue, issueproperty ---- */

static void test_add(void **state)
{
    (void)state;
    /* add() in authorizationrules feeds the rules after it, in both sections, with the issuer
     * AttestationPolicy; it issues nothing itself. */
    const char *policy =
        V10 "authorizationrules {\n"
            " c:[type==\"svn\", value>=3] => add(type=\"fresh\", value=c.value);\n"
            " [type==\"fresh\", issuer==\"AttestationPolicy\"] => permit();\n"
            "};\n"
            "issuancerules {\n"
            " c:[type==\"fresh\"] => issue(type=\"level\", value=c.value);\n"
            " c:[type==\"fresh\", issuer==\"AttestationService\"] => issue(type=\"never\", "
            "value=1);\n"
            " => add(claim=c);\n"
            "};\n";
    compile_err(policy, VT_E_MALFORMED,
                "line 9, column 15: unknown identifier 'c' (claim= names a condition of the same "
                "rule)");
    const char *policy2 =
        V10 "authorizationrules {\n"
            " c:[type==\"svn\", value>=3] => add(type=\"fresh\", value=c.value);\n"
            " [type==\"fresh\", issuer==\"AttestationPolicy\"] => permit();\n"
            "};\n"
            "issuancerules {\n"
            " c:[type==\"fresh\"] => issue(type=\"level\", value=c.value);\n"
            " c:[type==\"fresh\", issuer==\"AttestationService\"] => issue(type=\"never\", "
            "value=1);\n"
            " c:[type==\"svn\"] => add(claim=c);\n"
            " c:[type==\"svn\", issuer==\"AttestationPolicy\"] => issue(type=\"copied\", "
            "value=c.value);\n"
            "};\n";
    struct vt_maa_policy_result r;
    eval_ok(policy2, "[{\"type\":\"svn\",\"value\":4}]", &r);
    assert_true(r.permitted);
    assert_issued(&r, "[{\"type\":\"level\",\"value\":4,\"issuer\":\"AttestationPolicy\"},"
                      "{\"type\":\"copied\",\"value\":4,\"issuer\":\"AttestationPolicy\"}]");
    vt_maa_policy_result_cleanup(&r);
    assert_false(permitted(policy2, "[{\"type\":\"svn\",\"value\":2}]"));
    /* A rule does not see what its own action adds. */
    eval_ok(V10 "authorizationrules { => permit(); };\n"
                "issuancerules {\n"
                " c:[type==\"n\"] => add(type=\"n\", value=5);\n"
                " c:[type==\"n\"] => issue(claim=c);\n"
                "};",
            "[{\"type\":\"n\",\"value\":1}]", &r);
    assert_issued(&r, "[{\"type\":\"n\",\"value\":1,\"issuer\":\"AttestationPolicy\"},"
                      "{\"type\":\"n\",\"value\":5,\"issuer\":\"AttestationPolicy\"}]");
    vt_maa_policy_result_cleanup(&r);
}

static void test_issue_feeds_later_rules(void **state)
{
    (void)state;
    struct vt_maa_policy_result r;
    eval_ok(V10 "authorizationrules { => permit(); };\n"
                "issuancerules {\n"
                " => issue(type=\"stage\", value=\"one\");\n"
                " [type==\"stage\", value==\"one\", issuer==\"AttestationPolicy\"] => "
                "issue(type=\"stage2\", value=2);\n"
                " => issueproperty(type=\"prop\", value=\"p\");\n"
                " [type==\"prop\"] => issue(type=\"saw-prop\", value=true);\n"
                "};",
            "[]", &r);
    assert_issued(&r, "[{\"type\":\"stage\",\"value\":\"one\",\"issuer\":\"AttestationPolicy\"},"
                      "{\"type\":\"stage2\",\"value\":2,\"issuer\":\"AttestationPolicy\"},"
                      "{\"type\":\"saw-prop\",\"value\":true,\"issuer\":\"AttestationPolicy\"}]");
    vt_maa_policy_result_cleanup(&r);
}

static void test_issueproperty(void **state)
{
    (void)state;
    struct vt_maa_policy_result r;
    eval_ok(V10 "authorizationrules { => permit(); };\n"
                "issuancerules {\n"
                " => issueproperty(type=\"report_validity_in_minutes\", value=1440);\n"
                " c:[type==\"tcb\"] => issueproperty(claim=c);\n"
                " => issueproperty(type=\"x\", value=\"first\");\n"
                " => issueproperty(type=\"x\", value=\"second\");\n"
                "};",
            "[{\"type\":\"tcb\",\"value\":\"azuredefault\"}]", &r);
    assert_true(r.permitted);
    assert_issued(&r, "[]");
    json_t *want = claims("{\"report_validity_in_minutes\":1440,\"tcb\":\"azuredefault\","
                          "\"x\":\"second\"}");
    assert_true(json_equal(want, r.properties));
    json_decref(want);
    vt_maa_policy_result_cleanup(&r);
    assert_null(r.properties);
}

/* ---- joins and multi-valued claims ---- */

/* MAA's example: a CustomClaim and a service claim of the same type with the same value. */
static void test_join(void **state)
{
    (void)state;
    const char *policy =
        V10 "authorizationrules { => permit(); };\n"
            "issuancerules {\n"
            "F1:[type==\"OSName\" , issuer==\"CustomClaim\"] && \n"
            "[type==\"OSName\" , issuer==\"AttestationService\", value== F1.value ] \n"
            "=> issueproperty(type=\"report_validity_in_minutes\", value=1440);\n"
            "F1:[type==\"OSName\" , issuer==\"CustomClaim\"] && \n"
            "C2:[type==\"OSName\" , issuer==\"AttestationService\", value== F1.value ] \n"
            "=> issue(claim = C2);\n"
            "};";
    struct vt_maa_policy_result r;
    /* Two custom names, three service names: one pair agrees. */
    eval_ok(policy,
            "[{\"type\":\"OSName\",\"value\":\"Windows\",\"issuer\":\"CustomClaim\"},"
            "{\"type\":\"OSName\",\"value\":\"Linux\",\"issuer\":\"CustomClaim\"},"
            "{\"type\":\"OSName\",\"value\":\"BSD\"},"
            "{\"type\":\"OSName\",\"value\":\"Linux\",\"issuer\":\"AttestationService\"},"
            "{\"type\":\"OSName\",\"value\":\"Plan9\"}]",
            &r);
    assert_issued(&r, "[{\"type\":\"OSName\",\"value\":\"Linux\",\"issuer\":"
                      "\"AttestationPolicy\"}]");
    assert_int_equal(
        json_integer_value(json_object_get(r.properties, "report_validity_in_minutes")), 1440);
    vt_maa_policy_result_cleanup(&r);
    /* No pair agrees: neither rule runs. */
    eval_ok(policy,
            "[{\"type\":\"OSName\",\"value\":\"Windows\",\"issuer\":\"CustomClaim\"},"
            "{\"type\":\"OSName\",\"value\":\"Linux\"}]",
            &r);
    assert_issued(&r, "[]");
    assert_int_equal(json_object_size(r.properties), 0);
    vt_maa_policy_result_cleanup(&r);
}

static void test_multivalued(void **state)
{
    (void)state;
    struct vt_maa_policy_result r;
    /* issue(claim=c) runs once per claim that satisfies c; an action that reads no binding runs
     * once; a rule never issues the same claim twice. */
    eval_ok(V10 "authorizationrules { => permit(); };\n"
                "issuancerules {\n"
                " c:[type==\"pcr\"] => issue(claim=c);\n"
                " [type==\"pcr\"] => issue(type=\"has-pcr\", value=true);\n"
                " c:[type==\"pcr\"] && d:[type==\"pcr\"] => issue(type=\"pair\", value=d.value);\n"
                " c:[type==\"pcr\"] => issue(type=\"k\", value=c.type);\n"
                "};",
            "[{\"type\":\"pcr\",\"value\":\"a\"},{\"type\":\"pcr\",\"value\":\"b\"},"
            "{\"type\":\"pcr\",\"value\":\"a\"},{\"type\":\"other\",\"value\":\"z\"}]",
            &r);
    assert_issued(&r, "[{\"type\":\"pcr\",\"value\":\"a\",\"issuer\":\"AttestationPolicy\"},"
                      "{\"type\":\"pcr\",\"value\":\"b\",\"issuer\":\"AttestationPolicy\"},"
                      "{\"type\":\"has-pcr\",\"value\":true,\"issuer\":\"AttestationPolicy\"},"
                      "{\"type\":\"pair\",\"value\":\"a\",\"issuer\":\"AttestationPolicy\"},"
                      "{\"type\":\"pair\",\"value\":\"b\",\"issuer\":\"AttestationPolicy\"},"
                      "{\"type\":\"k\",\"value\":\"pcr\",\"issuer\":\"AttestationPolicy\"}]");
    vt_maa_policy_result_cleanup(&r);

    /* A join where only the second of several first-condition claims leads to a match: the
     * evaluator must backtrack into the first condition. */
    eval_ok(V10 "authorizationrules { => permit(); };\n"
                "issuancerules {\n"
                " a:[type==\"x\"] && b:[type==\"y\", value==a.value] && [type==\"z\", "
                "value==b.value] => issue(type=\"ok\", value=a.value);\n"
                "};",
            "[{\"type\":\"x\",\"value\":1},{\"type\":\"x\",\"value\":2},"
            "{\"type\":\"y\",\"value\":1},{\"type\":\"y\",\"value\":2},"
            "{\"type\":\"z\",\"value\":2}]",
            &r);
    assert_issued(&r, "[{\"type\":\"ok\",\"value\":2,\"issuer\":\"AttestationPolicy\"}]");
    vt_maa_policy_result_cleanup(&r);

    /* A condition nothing reads between two that bind: every claim of the needed ones is still
     * tried, and the action runs once per distinct result. */
    eval_ok(V10 "authorizationrules { => permit(); };\n"
                "issuancerules {\n"
                " a:[type==\"x\"] && [type==\"q\"] && [type==\"y\", value==a.value] => "
                "issue(type=\"hit\", value=a.value);\n"
                " [type==\"q\"] && c:[type==\"x\"] => issue(claim=c);\n"
                "};",
            "[{\"type\":\"x\",\"value\":1},{\"type\":\"x\",\"value\":2},"
            "{\"type\":\"q\",\"value\":0},{\"type\":\"q\",\"value\":9},"
            "{\"type\":\"y\",\"value\":2}]",
            &r);
    assert_issued(&r, "[{\"type\":\"hit\",\"value\":2,\"issuer\":\"AttestationPolicy\"},"
                      "{\"type\":\"x\",\"value\":1,\"issuer\":\"AttestationPolicy\"},"
                      "{\"type\":\"x\",\"value\":2,\"issuer\":\"AttestationPolicy\"}]");
    vt_maa_policy_result_cleanup(&r);

    /* The same claim may satisfy two conditions. */
    assert_true(permitted(V10 "authorizationrules { a:[type==\"x\"] && [value==a.value, "
                              "type==a.type] => permit(); };",
                          "[{\"type\":\"x\",\"value\":1}]"));
    /* An empty [] matches any claim, but needs one. */
    assert_true(
        permitted(V10 "authorizationrules { [] => permit(); };", "[{\"type\":\"x\",\"value\":1}]"));
    assert_false(permitted(V10 "authorizationrules { [] => permit(); };", "[]"));
}

/* The working set grows past its first allocation. */
static void test_growth(void **state)
{
    (void)state;
    char *in = numbered("t", 10);
    struct vt_maa_policy_result r;
    eval_ok(V10 AUTHR "=> permit(); }; issuancerules {\n"
                      " c:[type==\"t\"] => add(type=\"u\", value=c.value);\n"
                      " c:[type==\"u\"] => issue(claim=c);\n"
                      " c:[type==\"u\", issuer==\"AttestationPolicy\"] => issue(type=\"v\", "
                      "value=c.value);\n"
                      "};",
            in, &r);
    assert_true(r.permitted);
    assert_int_equal(json_array_size(r.issued), 20);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(r.issued, 19), "value")), 9);
    vt_maa_policy_result_cleanup(&r);
    free(in);
}

/* One compiled policy evaluated many times over different sets: nothing carries over. */
static void test_reuse(void **state)
{
    (void)state;
    struct vt_maa_policy *p = compile_ok(sgx_policy);
    for (int round = 0; round < 3; round++) {
        for (int svn = 0; svn < 4; svn++) {
            char in[1024];
            sgx_claims(in, sizeof(in), "false", svn, SIGNER);
            json_t *j = claims(in);
            struct vt_maa_policy_result r;
            assert_int_equal(vt_maa_policy_eval(p, j, &r, NULL), VT_OK);
            assert_int_equal(r.permitted, svn >= 2);
            assert_int_equal(r.issued != NULL ? json_array_size(r.issued) : 0, svn >= 2 ? 1 : 0);
            vt_maa_policy_result_cleanup(&r);
            json_decref(j);
        }
    }
    vt_maa_policy_free(p);
}

/* ---- comparison ---- */

static void test_type_strict(void **state)
{
    (void)state;
    const char *in = "[{\"type\":\"s\",\"value\":\"1\"},{\"type\":\"i\",\"value\":1},"
                     "{\"type\":\"b\",\"value\":true},{\"type\":\"t\",\"value\":\"true\"}]";
#define AUTH(cond) V10 "authorizationrules { [" cond "] => permit(); };"
    assert_true(permitted(AUTH("type==\"s\", value==\"1\""), in));
    assert_false(permitted(AUTH("type==\"s\", value==1"), in));
    assert_true(permitted(AUTH("type==\"s\", value!=1"), in));
    assert_false(permitted(AUTH("type==\"s\", value>=0"), in));
    assert_true(permitted(AUTH("type==\"i\", value==1"), in));
    assert_false(permitted(AUTH("type==\"i\", value==\"1\""), in));
    assert_false(permitted(AUTH("type==\"i\", value==true"), in));
    assert_true(permitted(AUTH("type==\"b\", value==true"), in));
    assert_false(permitted(AUTH("type==\"b\", value==\"true\""), in));
    assert_false(permitted(AUTH("type==\"b\", value==1"), in));
    assert_true(permitted(AUTH("type==\"t\", value==\"true\""), in));
    assert_false(permitted(AUTH("type==\"t\", value==true"), in));
    assert_true(permitted(AUTH("type==\"b\", value!=false"), in));
    /* Types and issuers compare exactly (case-sensitive). */
    assert_false(permitted(AUTH("type==\"S\""), in));
    assert_true(permitted(AUTH("type!=\"s\""), in));
    /* valueType and issuer (absent: AttestationService). */
    assert_true(permitted(AUTH("type==\"i\", valueType==\"Integer\""), in));
    assert_true(permitted(AUTH("type==\"s\", valueType==\"String\""), in));
    assert_true(permitted(AUTH("type==\"b\", valueType==\"Boolean\""), in));
    assert_false(permitted(AUTH("type==\"s\", valueType==\"Integer\""), in));
    assert_true(permitted(AUTH("type==\"s\", valueType!=\"Integer\""), in));
    assert_true(permitted(AUTH("type==\"s\", issuer==\"AttestationService\""), in));
    assert_false(permitted(AUTH("type==\"s\", issuer!=\"AttestationService\""), in));
    assert_true(permitted(AUTH("issuer==\"CustomClaim\""),
                          "[{\"type\":\"c\",\"value\":1,\"issuer\":\"CustomClaim\"}]"));
    /* References compare by kind too. */
    assert_false(permitted(V10 "authorizationrules { a:[type==\"s\"] && [type==\"i\", "
                               "value==a.value] => permit(); };",
                           in));
    assert_true(permitted(V10 "authorizationrules { a:[type==\"s\"] && [type==\"i\", "
                              "value!=a.value] => permit(); };",
                          in));
    /* Claims of different kinds are different claims for the duplicate check too. */
    struct vt_maa_policy_result r;
    eval_ok(V10 AUTHR "=> permit(); }; issuancerules { c:[type==\"a\"] => issue(type=\"x\", "
                      "value=c.value); };",
            "[{\"type\":\"a\",\"value\":\"1\"},{\"type\":\"a\",\"value\":1},"
            "{\"type\":\"a\",\"value\":true},{\"type\":\"a\",\"value\":1,\"issuer\":"
            "\"CustomClaim\"}]",
            &r);
    assert_issued(&r, "[{\"type\":\"x\",\"value\":\"1\",\"issuer\":\"AttestationPolicy\"},"
                      "{\"type\":\"x\",\"value\":1,\"issuer\":\"AttestationPolicy\"},"
                      "{\"type\":\"x\",\"value\":true,\"issuer\":\"AttestationPolicy\"}]");
    vt_maa_policy_result_cleanup(&r);
    /* Strings with escapes and UTF-8 (two, three and four bytes). */
    assert_true(permitted(AUTH("value==\"\xc2\xb5\xe2\x82\xac\xf0\x9f\x94\x92\""),
                          "[{\"type\":\"e\",\"value\":\"\\u00b5\\u20ac\\ud83d\\udd12\"}]"));
    assert_true(
        permitted(AUTH("value==\"a\\\"b\\\\c\""), "[{\"type\":\"e\",\"value\":\"a\\\"b\\\\c\"}]"));
    assert_true(
        permitted(AUTH("value==\"caf\xc3\xa9\""), "[{\"type\":\"e\",\"value\":\"caf\\u00e9\"}]"));
    assert_true(permitted(AUTH("value==\"\""), "[{\"type\":\"e\",\"value\":\"\"}]"));
    /* A string with a NUL in the claim differs from the literal before the NUL. */
    assert_false(permitted(AUTH("value==\"a\""), "[{\"type\":\"e\",\"value\":\"a\\u0000b\"}]"));
}

static void test_relational(void **state)
{
    (void)state;
    const char *in = "[{\"type\":\"svn\",\"value\":5},{\"type\":\"neg\",\"value\":-3},"
                     "{\"type\":\"max\",\"value\":9223372036854775807},"
                     "{\"type\":\"min\",\"value\":-9223372036854775808}]";
    assert_true(permitted(AUTH("type==\"svn\", value>=5"), in));
    assert_false(permitted(AUTH("type==\"svn\", value>5"), in));
    assert_true(permitted(AUTH("type==\"svn\", value>4"), in));
    assert_true(permitted(AUTH("type==\"svn\", value<=5"), in));
    assert_false(permitted(AUTH("type==\"svn\", value<5"), in));
    assert_true(permitted(AUTH("type==\"svn\", value<6"), in));
    assert_true(permitted(AUTH("type==\"svn\", value>=2, value<=7"), in));
    assert_false(permitted(AUTH("type==\"svn\", value>=2, value<=4"), in));
    assert_true(permitted(AUTH("type==\"neg\", value<-2"), in));
    assert_true(permitted(AUTH("type==\"neg\", value==-3"), in));
    assert_true(permitted(AUTH("type==\"max\", value==9223372036854775807"), in));
    assert_true(permitted(AUTH("type==\"min\", value==-9223372036854775808"), in));
    assert_true(permitted(AUTH("type==\"min\", value<-9223372036854775807"), in));
    /* Against another claim's value. */
    assert_true(permitted(V10 "authorizationrules { a:[type==\"neg\"] && [type==\"svn\", "
                              "value>a.value] => permit(); };",
                          in));
    assert_false(permitted(V10 "authorizationrules { a:[type==\"svn\"] && [type==\"neg\", "
                               "value>=a.value] => permit(); };",
                           in));
}

/* ---- the text ---- */

static void test_lexical(void **state)
{
    (void)state;
    /* Comments, any whitespace, a byte order mark, sections in either order. */
    const char *policy = "\xef\xbb\xbf// the policy\r\n"
                         "version /* major */ = 1 . 0 ;\r\n"
                         "issuancerules{ => issue(value=1, type=\"one\"); // trailing\n};\n"
                         "authorizationrules{/* nothing */=>permit();};";
    struct vt_maa_policy_result r;
    eval_ok(policy, "[]", &r);
    assert_true(r.permitted);
    assert_issued(&r, "[{\"type\":\"one\",\"value\":1,\"issuer\":\"AttestationPolicy\"}]");
    vt_maa_policy_result_cleanup(&r);
    /* The last line may be a comment without a newline. */
    assert_true(permitted(V10 "authorizationrules{=>permit();};// end", "[]"));
    /* Keywords in any case; identifiers are case-sensitive. */
    eval_ok("VERSION=1.0;\nAuthorizationRules { C:[Type==\"x\", VALUE==TRUE, "
            "Issuer==\"AttestationService\", ValueType==\"Boolean\"] => Permit(); };\n"
            "Issuancerules { C:[type==\"x\"] => Issue(Claim=C); => IssueProperty(TYPE=\"p\", "
            "Value=False); => ADD(type=\"a\", value=1); };",
            "[{\"type\":\"x\",\"value\":true}]", &r);
    assert_true(r.permitted);
    assert_issued(&r, "[{\"type\":\"x\",\"value\":true,\"issuer\":\"AttestationPolicy\"}]");
    vt_maa_policy_result_cleanup(&r);
    compile_err(V10 AUTHR "C:[] => add(claim=c); };", VT_E_MALFORMED,
                "line 2, column 40: unknown identifier 'c'");
    compile_err(V10 AUTHR "c:[] && C:[value==c.value] && [value==C.Value] => permit(); }; "
                          "issuancerules{ c:[] => issue(type=\"t\", value=C.value); };",
                VT_E_MALFORMED, "line 2, column 130: unknown identifier 'C'");
    /* Identifiers may be keywords of other places. */
    assert_true(permitted(V10 "authorizationrules{ type:[type==\"x\"] && value:[value==type.value] "
                              "=> permit(); };",
                          "[{\"type\":\"x\",\"value\":1}]"));
}

/* ---- refusals ---- */

struct bad {
    const char *text;
    enum vt_err code;
    const char *detail;
};

static void check_bad(const struct bad *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        compile_err(cases[i].text, cases[i].code, cases[i].detail);
    }
}

static void test_syntax_errors(void **state)
{
    (void)state;
    static const struct bad cases[] = {
        {"", VT_E_MALFORMED,
         "line 1, column 1: expected 'version' (a policy starts with version=1.0;), found end "
         "of input"},
        {"authorizationrules{};", VT_E_MALFORMED,
         "line 1, column 1: expected 'version' (a policy starts with version=1.0;), found "
         "identifier 'authorizationrules'"},
        {"version 1.0;", VT_E_MALFORMED,
         "line 1, column 9: expected '=' after version, found integer '1'"},
        {"version=one;", VT_E_MALFORMED,
         "line 1, column 9: expected a version number such as 1.0, found identifier 'one'"},
        {"version=1;", VT_E_MALFORMED,
         "line 1, column 10: expected '.' in the version number, found ';'"},
        {"version=1.;", VT_E_MALFORMED,
         "line 1, column 11: expected the minor version number, found ';'"},
        {"version=1.0", VT_E_MALFORMED,
         "line 1, column 12: expected ';' after the version, found end of input"},
        {V10, VT_E_MALFORMED,
         "line 2, column 1: expected the authorizationrules section, found end of input"},
        {V10 "rules{};", VT_E_MALFORMED,
         "line 2, column 1: expected a section (authorizationrules or issuancerules), found "
         "identifier 'rules'"},
        {V10 "authorizationrules [];", VT_E_MALFORMED,
         "line 2, column 20: expected '{', found '['"},
        {V10 "authorizationrules {", VT_E_MALFORMED,
         "line 2, column 21: expected a rule or '}', found end of input"},
        {V10 "authorizationrules {}", VT_E_MALFORMED,
         "line 2, column 22: expected ';' after the section's '}', found end of input"},
        {V10 "authorizationrules {};authorizationrules {};", VT_E_MALFORMED,
         "line 2, column 23: section authorizationrules given twice"},
        {V10 "issuancerules {};issuancerules {};", VT_E_MALFORMED,
         "line 2, column 18: section issuancerules given twice"},
        {V10 "issuancerules {};", VT_E_MALFORMED,
         "line 2, column 18: expected the authorizationrules section, found end of input"},
        {V10 AUTHR "=> permit() };", VT_E_MALFORMED,
         "line 2, column 34: expected ';' after the rule's action, found '}'"},
        {V10 AUTHR "=> permit(1); };", VT_E_MALFORMED,
         "line 2, column 32: expected ')' (permit() takes no arguments), found integer '1'"},
        {V10 AUTHR "=> deny(x); };", VT_E_MALFORMED,
         "line 2, column 30: expected ')' (deny() takes no arguments), found identifier 'x'"},
        {V10 AUTHR "=> permit; };", VT_E_MALFORMED, "line 2, column 31: expected '(', found ';'"},
        {V10 AUTHR "=> allow(); };", VT_E_MALFORMED,
         "line 2, column 25: expected an action (permit, deny, issue, issueproperty or add), "
         "found identifier 'allow'"},
        {V10 AUTHR "permit(); };", VT_E_UNSUPPORTED,
         "line 2, column 22: function calls are not supported (identifier 'permit' followed by "
         "'(')"},
        {V10 AUTHR "[type==\"a\"] permit(); };", VT_E_MALFORMED,
         "line 2, column 34: expected '&&' or '=>', found identifier 'permit'"},
        {V10 AUTHR "[type==\"a\"] & [type==\"b\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 34: unexpected character '&' (conditions join with '&&')"},
        {V10 AUTHR "[type=\"a\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 27: expected a comparison operator (==, !=, <, <=, >, >=; '=' assigns, "
         "conditions compare with '=='), found '='"},
        {V10 AUTHR "[type \"a\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 28: expected a comparison operator (==, !=, <, <=, >, >=), found string "
         "\"a\""},
        {V10 AUTHR "[kind==\"a\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 23: expected a claim property (type, value, issuer or valueType), found "
         "identifier 'kind'"},
        {V10 AUTHR "[originalissuer==\"a\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 23: expected a claim property (type, value, issuer or valueType), found "
         "identifier 'originalissuer'"},
        {V10 AUTHR "[type==\"a\" value==1] => permit(); };", VT_E_MALFORMED,
         "line 2, column 33: expected ',' or ']', found identifier 'value'"},
        {V10 AUTHR "[type==\"a\",] => permit(); };", VT_E_MALFORMED,
         "line 2, column 33: expected a claim property (type, value, issuer or valueType), found "
         "']'"},
        {V10 AUTHR "[value==] => permit(); };", VT_E_MALFORMED,
         "line 2, column 30: expected a value (string, integer, true, false) or a reference such "
         "as c.value, found ']'"},
        {V10 AUTHR "[value==abc] => permit(); };", VT_E_MALFORMED,
         "line 2, column 30: expected a value (string, integer, true, false) or a reference such "
         "as c.value, found identifier 'abc'"},
        {V10 AUTHR "c:[type==\"a\"] && [value==c.val] => permit(); };", VT_E_MALFORMED,
         "line 2, column 49: expected a claim property (type, value, issuer or valueType) after "
         "'.', found identifier 'val'"},
        {V10 AUTHR "c [type==\"a\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 22: expected a condition ('[' or an identifier and ':') or '=>', found "
         "identifier 'c'"},
        {V10 AUTHR "c: type==\"a\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 25: expected '[' to open a condition, found identifier 'type'"},
        {V10 AUTHR "[type==\"a\"]] => permit(); };", VT_E_MALFORMED,
         "line 2, column 33: expected '&&' or '=>', found ']'"},
        {V10 AUTHR "; };", VT_E_MALFORMED,
         "line 2, column 22: expected a condition ('[' or an identifier and ':') or '=>', found "
         "';'"},
        {V10 AUTHR "=> permit(); }; extra", VT_E_MALFORMED,
         "line 2, column 38: expected a section (authorizationrules or issuancerules), found "
         "identifier 'extra'"},
        /* A long token is cut in the message. */
        {V10 AUTHR "[type==\"a\"] abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij => "
                   "permit(); };",
         VT_E_MALFORMED,
         "line 2, column 34: expected '&&' or '=>', found identifier "
         "'abcdefghijabcdefghijabcdefghijabcdefghij...'"},
        /* Columns count code points: the string before the error has a four-byte one. */
        {V10 AUTHR "[value==\"\xf0\x9f\x94\x92\" x] => permit(); };", VT_E_MALFORMED,
         "line 2, column 34: expected ',' or ']', found identifier 'x'"},
        /* Lexical. */
        {V10 AUTHR "[type==\"a] => permit(); };", VT_E_MALFORMED,
         "line 2, column 29: unterminated string: no closing '\"' on its line"},
        {V10 AUTHR "[type==\"a\nb\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 29: unterminated string: no closing '\"' on its line"},
        {V10 AUTHR "[type==\"a\x01\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 31: control character 0x01 in a string"},
        {V10 "/* open", VT_E_MALFORMED,
         "line 2, column 1: unterminated comment: '/*' without '*/'"},
        {V10 AUTHR "@ };", VT_E_MALFORMED, "line 2, column 22: unexpected character '@'"},
        {V10 AUTHR "[value==0x10] => permit(); };", VT_E_MALFORMED,
         "line 2, column 30: invalid number: a letter follows its digits (integers are decimal)"},
        {V10 AUTHR "[value==9223372036854775808] => permit(); };", VT_E_MALFORMED,
         "line 2, column 30: integer out of range (64-bit signed)"},
        {V10 AUTHR "[value==-9223372036854775809] => permit(); };", VT_E_MALFORMED,
         "line 2, column 30: integer out of range (64-bit signed)"},
        {V10 AUTHR "[value==- 1] => permit(); };", VT_E_MALFORMED,
         "line 2, column 30: unexpected character '-'"},
        {V10 AUTHR "[value==\"caf\xc3\xa9\", x] => permit(); };", VT_E_MALFORMED,
         "line 2, column 38: expected a claim property (type, value, issuer or valueType), found "
         "identifier 'x'"},
        {V10 AUTHR "[value==\"\xc3\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 31: invalid UTF-8 sequence (byte 0x22 after 0xc3)"},
        {V10 AUTHR "[value==\"\xc0\xaf\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 31: invalid UTF-8 sequence (overlong, surrogate or beyond U+10FFFF)"},
        {V10 AUTHR "[value==\"\xed\xa0\x80\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 31: invalid UTF-8 sequence (overlong, surrogate or beyond U+10FFFF)"},
        {V10 AUTHR "[value==\"\xff\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 31: invalid UTF-8 byte 0xff"},
        {V10 AUTHR "\xe2\x82", VT_E_MALFORMED,
         "line 2, column 22: truncated UTF-8 sequence at the end of the text"},
        {V10 AUTHR "\xc3\xa9 };", VT_E_MALFORMED,
         "line 2, column 22: unexpected character (byte 0xc3) outside a string or comment"},
    };
    check_bad(cases, sizeof(cases) / sizeof(cases[0]));
    /* A NUL byte in the text. */
    static const char nul[] = "version=1.0;\0authorizationrules{};";
    compile_err_n(nul, sizeof(nul) - 1, VT_E_MALFORMED, "line 1, column 13: NUL byte");
}

static void test_semantic_errors(void **state)
{
    (void)state;
    static const struct bad cases[] = {
        {V10 AUTHR "[value==c.value] => permit(); };", VT_E_MALFORMED,
         "line 2, column 30: unknown identifier 'c' (a reference names an earlier condition of "
         "the same rule)"},
        {V10 AUTHR "[value==c.value] && c:[type==\"a\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 30: unknown identifier 'c'"},
        {V10 AUTHR "c:[type==\"a\", value==c.value] => permit(); };", VT_E_MALFORMED,
         "line 2, column 43: a condition cannot refer to its own claim ('c')"},
        {V10 AUTHR "c:[type==\"a\"] && c:[type==\"b\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 39: identifier 'c' names two conditions of the same rule"},
        {V10 AUTHR "c:[type==\"a\"] => permit(); [value==c.value] => permit(); };", VT_E_MALFORMED,
         "line 2, column 57: unknown identifier 'c'"},
        {V10 AUTHR "true:[type==\"a\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 22: 'true' cannot name a condition (a boolean literal)"},
        {V10 AUTHR "False:[type==\"a\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 22: 'False' cannot name a condition (a boolean literal)"},
        {V10 AUTHR "=> issue(type=\"a\", value=1); };", VT_E_MALFORMED,
         "line 2, column 25: issue() is not allowed in authorizationrules (permit, deny and add "
         "are)"},
        {V10 AUTHR "=> issueproperty(type=\"a\", value=1); };", VT_E_MALFORMED,
         "line 2, column 25: issueproperty() is not allowed in authorizationrules"},
        {V10 AUTHR "=> permit(); }; issuancerules { => permit(); };", VT_E_MALFORMED,
         "line 2, column 57: permit() is not allowed in issuancerules (issue, issueproperty and "
         "add are)"},
        {V10 AUTHR "=> permit(); }; issuancerules { => deny(); };", VT_E_MALFORMED,
         "line 2, column 57: deny() is not allowed in issuancerules"},
        {V10 AUTHR "[type>\"a\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 27: operator '>' compares integer values; type compares with == or != "
         "only"},
        {V10 AUTHR "[issuer<=\"CustomClaim\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 29: operator '<=' compares integer values; issuer compares with == or "
         "!= only"},
        {V10 AUTHR "[value>=\"1\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 30: operator '>=' compares integers; found a String"},
        {V10 AUTHR "[value<true] => permit(); };", VT_E_MALFORMED,
         "line 2, column 29: operator '<' compares integers; found a Boolean"},
        {V10 AUTHR "[type==1] => permit(); };", VT_E_MALFORMED,
         "line 2, column 29: type compares with a string; found a Integer"},
        {V10 AUTHR "[valueType==true] => permit(); };", VT_E_MALFORMED,
         "line 2, column 34: valueType compares with a string; found a Boolean"},
        {V10 AUTHR "[issuer==\"Service\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 31: unknown issuer (AttestationService, AttestationPolicy or "
         "CustomClaim)"},
        {V10 AUTHR "[valueType==\"Float\"] => permit(); };", VT_E_MALFORMED,
         "line 2, column 34: unknown valueType (String, Integer or Boolean)"},
        {V10 AUTHR "=> add(type=\"a\"); };", VT_E_MALFORMED,
         "line 2, column 29: add() needs value="},
        {V10 AUTHR "=> add(value=1); };", VT_E_MALFORMED, "line 2, column 29: add() needs type="},
        {V10 AUTHR "=> add(type=\"a\", type=\"b\", value=1); };", VT_E_MALFORMED,
         "line 2, column 39: type= given twice"},
        {V10 AUTHR "=> add(type=\"a\", value=1, value=2); };", VT_E_MALFORMED,
         "line 2, column 48: value= given twice"},
        {V10 AUTHR "=> add(type=\"\", value=1); };", VT_E_MALFORMED,
         "line 2, column 34: type= takes a non-empty string"},
        {V10 AUTHR "=> add(type=7, value=1); };", VT_E_MALFORMED,
         "line 2, column 34: type= takes a non-empty string"},
        {V10 AUTHR "c:[type==\"a\"] => add(type=c.value, value=1); };", VT_E_MALFORMED,
         "line 2, column 48: type= takes a string or a claim's type, issuer or valueType"},
        {V10 AUTHR "=> add(kind=\"a\", value=1); };", VT_E_MALFORMED,
         "line 2, column 29: expected type=, value= or claim=, found identifier 'kind'"},
        {V10 AUTHR "=> add(); };", VT_E_MALFORMED,
         "line 2, column 29: expected type=, value= or claim=, found ')'"},
        {V10 AUTHR "=> add(type=\"a\", value=1; };", VT_E_MALFORMED,
         "line 2, column 46: expected ',' or ')', found ';'"},
        {V10 AUTHR "=> add(claim=c); };", VT_E_MALFORMED,
         "line 2, column 35: unknown identifier 'c' (claim= names a condition of the same rule)"},
        {V10 AUTHR "c:[] => add(claim=\"c\"); };", VT_E_MALFORMED,
         "line 2, column 40: expected the identifier of a condition after claim=, found string"},
        {V10 AUTHR "c:[] => add(claim=c, type=\"x\"); };", VT_E_MALFORMED,
         "line 2, column 41: expected ')' after claim=IDENTIFIER, found ','"},
        {V10 AUTHR "c:[] => add(claim c); };", VT_E_MALFORMED,
         "line 2, column 40: expected '=' after claim, found identifier 'c'"},
        {V10 AUTHR "=> add(type \"a\", value=1); };", VT_E_MALFORMED,
         "line 2, column 34: expected '=' after type, found string \"a\""},
    };
    check_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_unsupported(void **state)
{
    (void)state;
    static const struct bad cases[] = {
        {"version=1.1;\nconfigurationrules{};", VT_E_UNSUPPORTED,
         "line 1, column 9: policy version 1.1 is not supported (only 1.0)"},
        {"version=1.2;", VT_E_UNSUPPORTED,
         "line 1, column 9: policy version 1.2 is not supported (only 1.0)"},
        {"version= 2.0;", VT_E_UNSUPPORTED,
         "line 1, column 10: policy version 2.0 is not supported (only 1.0)"},
        {"version=0.9;", VT_E_UNSUPPORTED, "policy version 0.9 is not supported"},
        {V10 "configurationrules{ => issueproperty(type=\"x\", value=1); };", VT_E_UNSUPPORTED,
         "line 2, column 1: configurationrules is not supported (policy version 1.1)"},
        {V10 AUTHR "![type==\"a\"] => permit(); };", VT_E_UNSUPPORTED,
         "line 2, column 22: negated condition '![...]' is not supported (policy version 1.2)"},
        {V10 AUTHR "c:![type==\"a\"] => permit(); };", VT_E_UNSUPPORTED,
         "line 2, column 24: negated condition '![...]' is not supported"},
        {V10 AUTHR "[type=~\"^a\"] => permit(); };", VT_E_UNSUPPORTED,
         "line 2, column 27: regular expression operator '=~' is not supported"},
        {V10 AUTHR "[type!~\"^a\"] => permit(); };", VT_E_UNSUPPORTED,
         "line 2, column 27: regular expression operator '!~' is not supported"},
        {V10 AUTHR "[type==\"a\"] || [type==\"b\"] => permit(); };", VT_E_UNSUPPORTED,
         "line 2, column 34: '||' between conditions is not supported"},
        {V10 AUTHR "exists([type==\"a\"]) => permit(); };", VT_E_UNSUPPORTED,
         "line 2, column 22: function calls are not supported (identifier 'exists' followed by "
         "'(')"},
        {V10 AUTHR "[value==NegateBool(true)] => permit(); };", VT_E_UNSUPPORTED,
         "line 2, column 30: function calls are not supported (identifier 'NegateBool' followed "
         "by '('; functions belong to policy version 1.2)"},
        {V10 AUTHR "c:[type==\"a\"] => add(type=\"j\", value=JmesPath(c.value, \"foo\")); };",
         VT_E_UNSUPPORTED,
         "line 2, column 59: function calls are not supported (identifier 'JmesPath' followed by "
         "'('"},
        {V10 AUTHR "c:[type==\"a\"] => add(type=\"j\", value=c.value + \"x\"); };",
         VT_E_UNSUPPORTED, "line 2, column 67: value expressions with '+' are not supported"},
        {V10 AUTHR "[value==\"a\" + \"b\"] => permit(); };", VT_E_UNSUPPORTED,
         "line 2, column 34: value expressions with '+' are not supported"},
        {V10 AUTHR "c:[] => add(claim=c + c); };", VT_E_UNSUPPORTED,
         "line 2, column 42: value expressions with '+' are not supported"},
        {V10 AUTHR "=> add(type=\"a\", value=1, valueType=\"Integer\"); };", VT_E_UNSUPPORTED,
         "line 2, column 48: the valueType argument of add() is not supported (type and value "
         "only)"},
        {V10 AUTHR "=> add(issuer=\"CustomClaim\", type=\"a\", value=1); };", VT_E_UNSUPPORTED,
         "line 2, column 29: the issuer argument of add() is not supported"},
        {V10 AUTHR "[value==\"a\\nb\"] => permit(); };", VT_E_UNSUPPORTED,
         "line 2, column 32: escape sequence '\\n' is not supported (strings escape only \\\" "
         "and \\\\)"},
        {V10 AUTHR "[value==\"a\\u0041\"] => permit(); };", VT_E_UNSUPPORTED,
         "line 2, column 32: escape sequence '\\u' is not supported"},
        {V10 AUTHR "[value==\"a\\", VT_E_UNSUPPORTED,
         "line 2, column 32: escape sequence '\\' followed by byte 0x00 is not supported"},
    };
    check_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

/* ---- bounds ---- */

static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t len = strlen(head) + strlen(unit) * n + strlen(tail) + 1;
    char *s = malloc(len);
    assert_non_null(s);
    size_t k = 0;
    memcpy(s, head, strlen(head));
    k += strlen(head);
    for (size_t i = 0; i < n; i++) {
        memcpy(s + k, unit, strlen(unit));
        k += strlen(unit);
    }
    memcpy(s + k, tail, strlen(tail) + 1);
    return s;
}

static void test_compile_limits(void **state)
{
    (void)state;
    /* Size. */
    char *big = repeat(V10 AUTHR "=> permit(); }; //", "x", VT_MAA_POLICY_MAX_SIZE, "");
    compile_err(big, VT_E_TOO_LARGE, "exceeds 65536");
    free(big);
    big = repeat(V10 AUTHR "=> permit(); }; //", "x",
                 VT_MAA_POLICY_MAX_SIZE - strlen(V10 AUTHR "=> permit(); }; //"), "");
    vt_maa_policy_free(compile_ok(big));
    free(big);
    /* Rules: 256 compile, 257 do not (the 257th named where it starts). */
    char *s = repeat(V10 AUTHR, "=>permit();", VT_MAA_POLICY_MAX_RULES, "};");
    vt_maa_policy_free(compile_ok(s));
    free(s);
    s = repeat(V10 AUTHR, "=>permit();", VT_MAA_POLICY_MAX_RULES + 1, "};");
    compile_err(s, VT_E_TOO_LARGE, "line 2, column 2838: more than 256 rules in the policy");
    free(s);
    /* Conditions in a rule. */
    s = repeat(V10 AUTHR, "[]&&", VT_MAA_POLICY_MAX_CONDITIONS - 1, "[]=>permit();};");
    vt_maa_policy_free(compile_ok(s));
    free(s);
    s = repeat(V10 AUTHR, "[]&&", VT_MAA_POLICY_MAX_CONDITIONS, "[]=>permit();};");
    compile_err(s, VT_E_TOO_LARGE, "line 2, column 86: more than 16 conditions in one rule");
    free(s);
    /* Property conditions in a condition. */
    s = repeat(V10 AUTHR "[", "value>=1,", VT_MAA_POLICY_MAX_TESTS - 1, "value>=1]=>permit();};");
    vt_maa_policy_free(compile_ok(s));
    free(s);
    s = repeat(V10 AUTHR "[", "value>=1,", VT_MAA_POLICY_MAX_TESTS, "value>=1]=>permit();};");
    compile_err(s, VT_E_TOO_LARGE,
                "line 2, column 167: more than 16 property conditions in one condition");
    free(s);
    /* Identifier length. */
    s = repeat(V10 AUTHR, "c", VT_MAA_POLICY_MAX_IDENT, ":[]=>permit();};");
    vt_maa_policy_free(compile_ok(s));
    free(s);
    s = repeat(V10 AUTHR, "c", VT_MAA_POLICY_MAX_IDENT + 1, ":[]=>permit();};");
    compile_err(s, VT_E_TOO_LARGE, "line 2, column 22: identifier longer than 64 characters");
    free(s);
    /* String length, counted unescaped. */
    s = repeat(V10 AUTHR "[value==\"", "\\\"", VT_MAA_POLICY_MAX_STRING, "\"]=>permit();};");
    vt_maa_policy_free(compile_ok(s));
    free(s);
    s = repeat(V10 AUTHR "[value==\"", "a", VT_MAA_POLICY_MAX_STRING + 1, "\"]=>permit();};");
    compile_err(s, VT_E_TOO_LARGE, "line 2, column 30: string longer than 4096 bytes");
    free(s);
}

static void eval_err(const char *policy, const char *incoming, enum vt_err code, const char *check,
                     const char *detail)
{
    struct vt_maa_policy *p = compile_ok(policy);
    json_t *in = claims(incoming);
    struct vt_maa_policy_result r;
    memset(&r, 0xa5, sizeof(r));
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_maa_policy_eval(p, in, &r, &d);
    if (err != code || strcmp(d.check, check) != 0 || strstr(d.detail, detail) == NULL) {
        fail_msg("expected %s %s \"%s\", got %s %s: %s", vt_err_name(code), check, detail,
                 vt_err_name(err), d.check, d.detail);
    }
    assert_null(r.issued);
    assert_null(r.properties);
    assert_false(r.permitted);
    json_decref(in);
    vt_maa_policy_free(p);
}

static void test_bad_claims(void **state)
{
    (void)state;
    const char *policy = V10 AUTHR "=> permit(); };";
    static const struct {
        const char *claims, *detail;
    } cases[] = {
        {"{}", "the claim set is not a JSON array"},
        {"[1]", "claim [0] is not an object"},
        {"[{\"type\":\"a\",\"value\":1},{\"type\":\"b\",\"value\":1,\"valueType\":\"Integer\"}]",
         "claim [1] has the member \"valueType\" (type, value, issuer only)"},
        {"[{\"value\":1}]", "claim [0]: type is missing, empty or not a string"},
        {"[{\"type\":\"\",\"value\":1}]", "claim [0]: type is missing, empty or not a string"},
        {"[{\"type\":7,\"value\":1}]", "claim [0]: type is missing, empty or not a string"},
        {"[{\"type\":\"a\\u0000b\",\"value\":1}]", "claim [0]: type has a NUL"},
        {"[{\"type\":\"a\"}]", "claim [0] (a): value is missing"},
        {"[{\"type\":\"a\",\"value\":null}]", "claim [0] (a): value is of another JSON type"},
        {"[{\"type\":\"a\",\"value\":1.5}]", "claim [0] (a): value is of another JSON type"},
        {"[{\"type\":\"a\",\"value\":[1]}]", "claim [0] (a): value is of another JSON type"},
        {"[{\"type\":\"a\",\"value\":1,\"issuer\":\"Me\"}]",
         "claim [0] (a): issuer is not AttestationService, AttestationPolicy or CustomClaim"},
        {"[{\"type\":\"a\",\"value\":1,\"issuer\":1}]", "claim [0] (a): issuer is not"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        eval_err(policy, cases[i].claims, VT_E_ARG, "maa.policy.claims", cases[i].detail);
    }
    /* NULL arguments. */
    struct vt_maa_policy *p = compile_ok(policy);
    struct vt_maa_policy_result r;
    assert_int_equal(vt_maa_policy_eval(p, NULL, &r, NULL), VT_E_ARG);
    assert_int_equal(vt_maa_policy_eval(NULL, NULL, &r, NULL), VT_E_ARG);
    assert_int_equal(vt_maa_policy_eval(p, NULL, NULL, NULL), VT_E_ARG);
    vt_maa_policy_free(p);
    assert_int_equal(vt_maa_policy_compile(NULL, 1, &p, NULL), VT_E_ARG);
    assert_null(p);
    assert_int_equal(vt_maa_policy_compile("", 0, NULL, NULL), VT_E_ARG);
    vt_maa_policy_free(NULL);
    vt_maa_policy_result_cleanup(NULL);
}

static void test_eval_limits(void **state)
{
    (void)state;
    /* The incoming set itself. */
    char *in = numbered("t", VT_MAA_POLICY_MAX_CLAIMS + 1);
    eval_err(V10 AUTHR "=> permit(); };", in, VT_E_TOO_LARGE, "maa.policy.claims",
             "4097 claims exceed 4096");
    free(in);
    /* Claims the policy adds. */
    in = numbered("t", 3000);
    eval_err(V10 AUTHR "=> permit(); }; issuancerules { c:[type==\"t\"] => add(type=\"u\", "
                       "value=c.value); };",
             in, VT_E_TOO_LARGE, "maa.policy.eval",
             "the claim set would exceed 4096 claims (the issuancerules rule at line 2, column "
             "54)");
    free(in);
    /* A join of four conditions that all bind: 60^4 tuples exceed the step bound. */
    in = numbered("t", 60);
    eval_err(V10 AUTHR "a:[type==\"t\"] && b:[type==\"t\"] && c:[type==\"t\"] && "
                       "d:[type==\"t\", value==-1, type==a.type, type==b.type, type==c.type] => "
                       "permit(); };",
             in, VT_E_TOO_LARGE, "maa.policy.eval",
             "evaluation exceeded 1000000 steps in the authorizationrules rule at line 2, "
             "column 22");
    /* One rule may produce thousands of distinct claims: its duplicate check is a hash set,
     * well within the step bound. */
    free(in);
    in = numbered("t", 2000);
    struct vt_maa_policy_result r;
    eval_ok(V10 AUTHR "=> permit(); }; issuancerules { c:[type==\"t\"] => issue(claim=c); "
                      "c:[type==\"t\"] => issue(type=\"same\", value=1); };",
            in, &r);
    assert_int_equal(json_array_size(r.issued), 2001);
    vt_maa_policy_result_cleanup(&r);
    free(in);
    in = numbered("t", 60);
    /* The same shape where nothing reads the bindings stays linear. */
    assert_false(permitted(V10 AUTHR "[type==\"t\"] && [type==\"t\"] && [type==\"t\"] && "
                                     "[type==\"t\", value==-1] => permit(); };",
                           in));
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgx_policy),
        cmocka_unit_test(test_several_enclaves),
        cmocka_unit_test(test_tpm_policy),
        cmocka_unit_test(test_default_shape),
        cmocka_unit_test(test_deny),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_issue_feeds_later_rules),
        cmocka_unit_test(test_issueproperty),
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_multivalued),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_type_strict),
        cmocka_unit_test(test_relational),
        cmocka_unit_test(test_lexical),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_semantic_errors),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_compile_limits),
        cmocka_unit_test(test_bad_claims),
        cmocka_unit_test(test_eval_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
