/*
 * Key Vault SKR release policies (src/azure/skr_policy.c, docs/skr.md "Release policies"): the
 * shapes Azure documents (SGX and SEV-SNP examples), every operator both ways, type strictness,
 * nested claims, authorities, the explanation, and every refusal of the parser with its exact
 * code, check and JSON path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "azure/skr_policy.h"

#define MAA "https://sharedeus2.eus2.attest.azure.net"
#define MRE "9fa48b1629bd246a1de3d38fb7df97f6554cd65d6b3b72e85b86848ae6b578ba"

static struct vt_skr_policy *parse_ok(const char *json)
{
    struct vt_skr_policy *p = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_skr_policy_parse(json, strlen(json), &p, &d);
    if (err != VT_OK) {
        fail_msg("parse failed: %s at %s: %s\n%s", vt_err_name(err), d.check, d.detail, json);
    }
    assert_non_null(p);
    return p;
}

static void refuse(const char *json, enum vt_err want, const char *check, const char *in_detail)
{
    struct vt_skr_policy *p = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_skr_policy_parse(json, strlen(json), &p, &d);
    if (err != want || strcmp(d.check, check) != 0 ||
        (in_detail != NULL && strstr(d.detail, in_detail) == NULL)) {
        fail_msg("%s: got %s at %s: %s; wanted %s at %s with \"%s\"", json, vt_err_name(err),
                 d.check, d.detail, vt_err_name(want), check, in_detail ? in_detail : "");
    }
    assert_null(p);
}

static bool eval(const char *policy, const char *iss, const char *claims, char **explain)
{
    struct vt_skr_policy *p = parse_ok(policy);
    json_error_t je;
    json_t *c = json_loads(claims, 0, &je);
    assert_non_null(c);
    struct vt_buf b;
    vt_buf_init(&b, 1u << 20);
    bool r = vt_skr_policy_eval(p, iss, c, &b);
    if (explain != NULL) {
        *explain = strdup(b.data ? (const char *)b.data : "");
    }
    vt_buf_cleanup(&b);
    json_decref(c);
    vt_skr_policy_free(p);
    return r;
}

#define SGX_POLICY(cond)                                                                           \
    "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"" MAA "\",\"allOf\":[" cond "]}]}"

static void test_documented_sgx(void **state)
{
    (void)state;
    const char *pol = SGX_POLICY("{\"claim\":\"x-ms-sgx-mrsigner\",\"equals\":\"" MRE "\"},"
                                 "{\"claim\":\"x-ms-sgx-svn\",\"greater\":1}");
    char *ex = NULL;
    assert_true(eval(pol, MAA, "{\"x-ms-sgx-mrsigner\":\"" MRE "\",\"x-ms-sgx-svn\":2}", &ex));
    assert_non_null(strstr(ex, "release policy: satisfied"));
    assert_non_null(strstr(ex, "claim x-ms-sgx-svn greater 1: actual 2 -> true"));
    free(ex);
    assert_false(eval(pol, MAA, "{\"x-ms-sgx-mrsigner\":\"" MRE "\",\"x-ms-sgx-svn\":1}", &ex));
    assert_non_null(strstr(ex, "claim x-ms-sgx-svn greater 1: actual 1 -> false"));
    assert_non_null(strstr(ex, "release policy: not satisfied"));
    free(ex);
    /* a trailing slash and case of the issuer do not matter */
    assert_true(eval(pol, "HTTPS://sharedeus2.eus2.attest.azure.net/",
                     "{\"x-ms-sgx-mrsigner\":\"" MRE "\",\"x-ms-sgx-svn\":5}", NULL));
    /* another issuer: no authority applies */
    assert_false(eval(pol, "https://other.attest.azure.net",
                      "{\"x-ms-sgx-mrsigner\":\"" MRE "\",\"x-ms-sgx-svn\":5}", &ex));
    assert_non_null(strstr(ex, "is not the token's issuer"));
    free(ex);
    assert_false(eval(pol, NULL, "{}", NULL));
}

static void test_nested_and_any(void **state)
{
    (void)state;
    const char *pol =
        "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://a.example\",\"anyOf\":["
        "{\"claim\":\"x-ms-isolation-tee.x-ms-attestation-type\",\"equals\":\"sevsnpvm\"},"
        "{\"allOf\":[{\"claim\":\"x-ms-attestation-type\",\"equals\":\"sgx\"},"
        "{\"claim\":\"x-ms-sgx-is-debuggable\",\"equals\":false}]}]},"
        "{\"authority\":\"https://b.example\",\"allOf\":[{\"claim\":\"tee\",\"equals\":\"x\"}]}]}";
    assert_true(eval(pol, "https://a.example",
                     "{\"x-ms-isolation-tee\":{\"x-ms-attestation-type\":\"sevsnpvm\"}}", NULL));
    assert_false(eval(pol, "https://a.example",
                      "{\"x-ms-isolation-tee\":{\"x-ms-attestation-type\":\"tdxvm\"}}", NULL));
    assert_true(eval(pol, "https://a.example",
                     "{\"x-ms-attestation-type\":\"sgx\",\"x-ms-sgx-is-debuggable\":false}", NULL));
    assert_false(eval(pol, "https://a.example",
                      "{\"x-ms-attestation-type\":\"sgx\",\"x-ms-sgx-is-debuggable\":true}", NULL));
    /* the path does not go through a non-object */
    assert_false(eval(pol, "https://a.example", "{\"x-ms-isolation-tee\":\"sevsnpvm\"}", NULL));
    assert_true(eval(pol, "https://b.example", "{\"tee\":\"x\"}", NULL));
    assert_false(eval(pol, "https://b.example",
                      "{\"x-ms-attestation-type\":\"sgx\","
                      "\"x-ms-sgx-is-debuggable\":false}",
                      NULL));
}

static void test_operators(void **state)
{
    (void)state;
    struct {
        const char *cond, *claims;
        bool want;
    } cases[] = {
        {"{\"claim\":\"n\",\"equals\":3}", "{\"n\":3}", true},
        {"{\"claim\":\"n\",\"equals\":3}", "{\"n\":3.0}", true},
        {"{\"claim\":\"n\",\"equals\":3}", "{\"n\":\"3\"}", false},
        {"{\"claim\":\"n\",\"equals\":\"3\"}", "{\"n\":3}", false},
        {"{\"claim\":\"n\",\"equals\":true}", "{\"n\":\"true\"}", false},
        {"{\"claim\":\"n\",\"equals\":true}", "{\"n\":true}", true},
        {"{\"claim\":\"n\",\"equals\":\"abc\"}", "{\"n\":\"ABC\"}", false},
        {"{\"claim\":\"n\",\"equals\":\"abc\"}", "{}", false},
        {"{\"claim\":\"n\",\"notEquals\":\"abc\"}", "{\"n\":\"abd\"}", true},
        {"{\"claim\":\"n\",\"notEquals\":\"abc\"}", "{\"n\":\"abc\"}", false},
        {"{\"claim\":\"n\",\"notEquals\":\"abc\"}", "{}", false},
        {"{\"claim\":\"n\",\"notEquals\":\"abc\"}", "{\"n\":1}", false},
        {"{\"claim\":\"n\",\"less\":3}", "{\"n\":2}", true},
        {"{\"claim\":\"n\",\"less\":3}", "{\"n\":3}", false},
        {"{\"claim\":\"n\",\"lessOrEquals\":3}", "{\"n\":3}", true},
        {"{\"claim\":\"n\",\"lessOrEquals\":3}", "{\"n\":3.5}", false},
        {"{\"claim\":\"n\",\"greater\":3}", "{\"n\":4}", true},
        {"{\"claim\":\"n\",\"greater\":3}", "{\"n\":3}", false},
        {"{\"claim\":\"n\",\"greaterOrEquals\":2.5}", "{\"n\":3}", true},
        {"{\"claim\":\"n\",\"greaterOrEquals\":3}", "{\"n\":2}", false},
        {"{\"claim\":\"n\",\"greater\":3}", "{\"n\":\"9\"}", false},
        {"{\"claim\":\"n\",\"greater\":3}", "{}", false},
        {"{\"claim\":\"n\",\"exists\":true}", "{\"n\":null}", true},
        {"{\"claim\":\"n\",\"exists\":true}", "{}", false},
        {"{\"claim\":\"n\",\"exists\":false}", "{}", true},
        {"{\"claim\":\"n\",\"exists\":false}", "{\"n\":1}", false},
        {"{\"claim\":\"a.b.c\",\"equals\":1}", "{\"a\":{\"b\":{\"c\":1}}}", true},
        {"{\"claim\":\"a.b.c\",\"equals\":1}", "{\"a\":{\"b\":[1]}}", false},
        {"{\"claim\":\"a.b\",\"equals\":1}", "{\"a.b\":1}", false},
        {"{\"CLAIM\":\"n\",\"EQUALS\":1}", "{\"n\":1}", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char pol[512];
        snprintf(pol, sizeof(pol), SGX_POLICY("%s"), cases[i].cond);
        char *ex = NULL;
        bool got = eval(pol, MAA, cases[i].claims, &ex);
        if (got != cases[i].want) {
            fail_msg("case %zu: %s on %s: got %d\n%s", i, cases[i].cond, cases[i].claims, got, ex);
        }
        free(ex);
    }
}

static void test_explanation_type(void **state)
{
    (void)state;
    char *ex = NULL;
    assert_false(eval(SGX_POLICY("{\"claim\":\"n\",\"equals\":\"1\"}"), MAA, "{\"n\":1}", &ex));
    assert_non_null(strstr(ex, "type-strict"));
    free(ex);
    assert_false(eval(SGX_POLICY("{\"claim\":\"n\",\"equals\":\"1\"}"), MAA, "{}", &ex));
    assert_non_null(strstr(ex, "actual (absent) -> false (the claim is absent)"));
    free(ex);
}

static void test_refusals(void **state)
{
    (void)state;
    refuse("", VT_E_BAD_JSON, "skr.json", NULL);
    refuse("{\"version\":\"1.0.0\",\"version\":\"1.0.0\"}", VT_E_DUPLICATE, "skr.json", NULL);
    refuse("[]", VT_E_BAD_FIELD, "skr.policy", "$: a release policy is a JSON object");
    refuse("{\"anyOf\":[]}", VT_E_MISSING_FIELD, "skr.version", "$.version is missing");
    refuse("{\"version\":1,\"anyOf\":[]}", VT_E_BAD_FIELD, "skr.version", "found a number");
    refuse("{\"version\":\"1.1.0\",\"anyOf\":[]}", VT_E_UNSUPPORTED_VERSION, "skr.version",
           "\"1.1.0\"");
    refuse("{\"version\":\"1.0.0\"}", VT_E_MISSING_FIELD, "skr.authority", "$.anyOf");
    refuse("{\"version\":\"1.0.0\",\"anyOf\":{}}", VT_E_BAD_FIELD, "skr.authority", "an object");
    refuse("{\"version\":\"1.0.0\",\"anyOf\":[]}", VT_E_BAD_FIELD, "skr.authority", "empty");
    refuse("{\"version\":\"1.0.0\",\"anyOf\":[],\"allOf\":[]}", VT_E_UNSUPPORTED, "skr.member",
           "$: the member \"allOf\"");
    refuse("{\"version\":\"1.0.0\",\"anyOf\":[],\"ANYOF\":[]}", VT_E_DUPLICATE, "skr.member",
           "\"anyOf\" appears twice");
    refuse("{\"version\":\"1.0.0\",\"anyOf\":[1]}", VT_E_BAD_FIELD, "skr.authority",
           "$.anyOf[0]: an authority is an object");
    refuse("{\"version\":\"1.0.0\",\"anyOf\":[{\"allOf\":[]}]}", VT_E_MISSING_FIELD,
           "skr.authority", "$.anyOf[0]: \"authority\"");
    refuse("{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":3,\"allOf\":[]}]}", VT_E_BAD_FIELD,
           "skr.authority", "$.anyOf[0].authority: expected a string");
    refuse("{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"\",\"allOf\":[]}]}", VT_E_BAD_FIELD,
           "skr.authority", "1 to 1024 bytes");
    refuse("{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"ftp://x\",\"allOf\":[]}]}",
           VT_E_BAD_FIELD, "skr.authority", "not an http(s) URL");
    refuse("{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://x\"}]}", VT_E_MISSING_FIELD,
           "skr.authority", "needs \"anyOf\" or \"allOf\"");
    refuse("{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://x\",\"allOf\":[],"
           "\"anyOf\":[]}]}",
           VT_E_BAD_FIELD, "skr.authority", "not both");
    refuse("{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://x\",\"allOf\":[],"
           "\"claim\":\"x\"}]}",
           VT_E_UNSUPPORTED, "skr.member", "$.anyOf[0]: the member \"claim\"");
    refuse(SGX_POLICY(""), VT_E_BAD_FIELD, "skr.list", "$.anyOf[0].allOf: an empty list");
    refuse("{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://x\",\"allOf\":{}}]}",
           VT_E_BAD_FIELD, "skr.list", "$.anyOf[0].allOf: expected an array");
    refuse(SGX_POLICY("\"x\""), VT_E_BAD_FIELD, "skr.condition",
           "$.anyOf[0].allOf[0]: a condition is an object, found a string");
    refuse(SGX_POLICY("{}"), VT_E_MISSING_FIELD, "skr.claim", "$.anyOf[0].allOf[0]");
    refuse(SGX_POLICY("{\"claim\":1,\"equals\":1}"), VT_E_BAD_FIELD, "skr.claim",
           "$.anyOf[0].allOf[0].claim: expected a string");
    refuse(SGX_POLICY("{\"claim\":\"\",\"equals\":1}"), VT_E_BAD_FIELD, "skr.claim", "1 to 256");
    refuse(SGX_POLICY("{\"claim\":\"a..b\",\"equals\":1}"), VT_E_BAD_FIELD, "skr.claim",
           "empty segment");
    refuse(SGX_POLICY("{\"claim\":\".a\",\"equals\":1}"), VT_E_BAD_FIELD, "skr.claim",
           "empty segment");
    refuse(SGX_POLICY("{\"claim\":\"a\\u0001\",\"equals\":1}"), VT_E_BAD_FIELD, "skr.claim",
           "control character");
    refuse(SGX_POLICY("{\"claim\":\"a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a\",\"equals\":1}"),
           VT_E_TOO_LARGE, "skr.claim", "17 segments");
    refuse(SGX_POLICY("{\"claim\":\"x\"}"), VT_E_MISSING_FIELD, "skr.operator", "found 0");
    refuse(SGX_POLICY("{\"claim\":\"x\",\"equals\":1,\"less\":2}"), VT_E_BAD_FIELD, "skr.operator",
           "found 2");
    refuse(SGX_POLICY("{\"claim\":\"x\",\"in\":[1]}"), VT_E_UNSUPPORTED, "skr.member",
           "$.anyOf[0].allOf[0]: the member \"in\"");
    refuse(SGX_POLICY("{\"claim\":\"x\",\"equals\":null}"), VT_E_UNSUPPORTED, "skr.operator",
           "$.anyOf[0].allOf[0].equals: compares with a string, a boolean or a number, found null");
    refuse(SGX_POLICY("{\"claim\":\"x\",\"equals\":[1]}"), VT_E_UNSUPPORTED, "skr.operator",
           "found an array");
    refuse(SGX_POLICY("{\"claim\":\"x\",\"notEquals\":{}}"), VT_E_UNSUPPORTED, "skr.operator",
           "found an object");
    refuse(SGX_POLICY("{\"claim\":\"x\",\"greater\":\"1\"}"), VT_E_UNSUPPORTED, "skr.operator",
           "orders numbers only, found a string");
    refuse(SGX_POLICY("{\"claim\":\"x\",\"exists\":1}"), VT_E_UNSUPPORTED, "skr.operator",
           "true or false, found a number");
    refuse(SGX_POLICY("{\"anyOf\":[{\"claim\":\"x\",\"exists\":true}],\"claim\":\"y\"}"),
           VT_E_BAD_FIELD, "skr.condition", "\"claim\" beside anyOf");
    refuse(SGX_POLICY("{\"anyOf\":[],\"allOf\":[]}"), VT_E_BAD_FIELD, "skr.condition", "not both");
    refuse(SGX_POLICY("{\"anyOf\":[]}"), VT_E_BAD_FIELD, "skr.list",
           "$.anyOf[0].allOf[0].anyOf: an empty list");
    /* nesting: the authorities' list and the authority's list count, then 6 more levels */
    refuse(SGX_POLICY("{\"anyOf\":[{\"anyOf\":[{\"anyOf\":[{\"anyOf\":[{\"anyOf\":[{\"anyOf\":["
                      "{\"anyOf\":[{\"claim\":\"x\",\"exists\":true}]}]}]}]}]}]}]}"),
           VT_E_TOO_LARGE, "skr.depth", "nested deeper than 8");
    vt_skr_policy_free(parse_ok(SGX_POLICY("{\"anyOf\":[{\"anyOf\":[{\"anyOf\":[{\"anyOf\":["
                                           "{\"anyOf\":[{\"anyOf\":[{\"claim\":\"x\","
                                           "\"exists\":true}]}]}]}]}]}]}")));
}

static void test_limits(void **state)
{
    (void)state;
    /* more nodes than allowed */
    size_t n = VT_SKR_NODES_MAX + 1;
    char *big = malloc(n * 40 + 256);
    assert_non_null(big);
    size_t at = (size_t)snprintf(big, 256,
                                 "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":"
                                 "\"https://x\",\"allOf\":[");
    for (size_t i = 0; i < n; i++) {
        at += (size_t)snprintf(big + at, 40, "%s{\"claim\":\"c\",\"exists\":true}", i ? "," : "");
    }
    snprintf(big + at, 8, "]}]}");
    refuse(big, VT_E_TOO_LARGE, "skr.nodes", "more than 512");
    free(big);
    /* text too large */
    size_t len = VT_SKR_POLICY_MAX + 1;
    char *huge = malloc(len + 1);
    assert_non_null(huge);
    memset(huge, ' ', len);
    huge[len] = '\0';
    struct vt_skr_policy *p = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_skr_policy_parse(huge, len, &p, &d), VT_E_TOO_LARGE);
    assert_string_equal(d.check, "skr.policy");
    free(huge);
}

static void test_authorities_listed(void **state)
{
    (void)state;
    struct vt_skr_policy *p = parse_ok(SGX_POLICY("{\"claim\":\"x\",\"exists\":true}"));
    assert_string_equal(vt_skr_policy_authority(p, 0), MAA);
    assert_null(vt_skr_policy_authority(p, 1));
    vt_skr_policy_free(p);
    vt_skr_policy_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documented_sgx),     cmocka_unit_test(test_nested_and_any),
        cmocka_unit_test(test_operators),          cmocka_unit_test(test_explanation_type),
        cmocka_unit_test(test_refusals),           cmocka_unit_test(test_limits),
        cmocka_unit_test(test_authorities_listed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
