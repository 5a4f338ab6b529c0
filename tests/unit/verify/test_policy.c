/*
 * The policy language (src/verify/policy.c, docs/policy.md): compile accept and reject tables
 * (each rejection asserts the code and the exact JSON path), evaluation of every operator, the
 * defaults, the explanation, and the registry kept in sync with vt_claims_to_json: claims of
 * every TEE type (hand-filled with every optional part, and real fixtures through the veritee
 * command when they and $VT_BINARY are available) use only registered names and types.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "internal.h"

#include "vt_fixtures.h"

/* Hex of 4, 16, 32, 48 and 64 bytes. */
#define D8 "0123abcd"
#define D32 D8 D8 D8 D8
#define D64 D32 D32
#define D96 D64 D32
#define D128 D64 D64
#define U8 "0123ABCD"
#define U64 U8 U8 U8 U8 U8 U8 U8 U8
#define FF64 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

static struct vt_policy *compile_ok(const char *json)
{
    struct vt_policy *p = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_policy_compile(json, strlen(json), &p, &d);
    if (err != VT_OK) {
        fail_msg("compile failed: %s at %s: %s\n%s", vt_err_name(err), d.check, d.detail, json);
    }
    assert_non_null(p);
    return p;
}

/* ---- compile: accepted ---- */

static const char *const accepted[] = {
    "{\"version\":1}",
    " {\"version\" : 1 , \"rules\": {\"claim\":\"tee\",\"equals\":\"sgx\"}}\n",
    "{\"version\":1,\"allowDebug\":true,\"acceptStatus\":[\"UpToDate\",\"SWHardeningNeeded\","
    "\"ConfigurationNeeded\",\"ConfigurationAndSWHardeningNeeded\",\"OutOfDate\","
    "\"OutOfDateConfigurationNeeded\",\"Revoked\",\"TDRelaunchAdvised\","
    "\"TDRelaunchAdvisedConfigurationNeeded\"]}",
    /* SGX allow-list */
    "{\"version\":1,\"rules\":{\"allOf\":[{\"claim\":\"tee\",\"equals\":\"sgx\"},"
    "{\"claim\":\"sgx.mrenclave\",\"in\":[\"" D64 "\",\"" U64 "\"]},"
    "{\"claim\":\"sgx.mrsigner\",\"equals\":\"" FF64 "\"},"
    "{\"claim\":\"sgx.isv_prod_id\",\"equals\":1},{\"claim\":\"sgx.isv_svn\",\"gte\":3}]}}",
    /* TDX */
    "{\"version\":1,\"rules\":{\"allOf\":[{\"claim\":\"tdx.mrtd\",\"equals\":\"" D96 "\"},"
    "{\"claim\":\"tdx.rtmr0\",\"equals\":\"" D96 "\"},{\"claim\":\"tdx.rtmr3\",\"in\":[\"" D96
    "\"]},{\"claim\":\"dcap.tdx_module_identity\",\"equals\":\"TDX_01\"},"
    "{\"claim\":\"module_status\",\"in\":[\"UpToDate\"]}]}}",
    /* Nitro: every PCR index, and each allowed PCR length */
    "{\"version\":1,\"rules\":{\"anyOf\":[{\"claim\":\"nitro.pcr0\",\"equals\":\"" D96 "\"},"
    "{\"claim\":\"nitro.pcr8\",\"equals\":\"" D64
    "\"},{\"claim\":\"nitro.pcr31\",\"equals\":\"" D128
    "\"},{\"claim\":\"nitro.pcr15\",\"exists\":false},"
    "{\"claim\":\"nitro.timestamp\",\"gte\":\"2022-10-13T08:58:02.136Z\"},"
    "{\"claim\":\"nitro.timestamp_ms\",\"lte\":1665651482136}]}}",
    /* SNP */
    "{\"version\":1,\"rules\":{\"allOf\":[{\"claim\":\"snp.measurement\",\"equals\":\"" D96 "\"},"
    "{\"claim\":\"snp.reported_tcb.bootloader\",\"gte\":3},"
    "{\"claim\":\"snp.reported_tcb.microcode\",\"gte\":115},"
    "{\"claim\":\"snp.policy\",\"equals\":\"0x30000\"},{\"claim\":\"snp.policy\",\"in\":[196608]},"
    "{\"claim\":\"snp.policy.debug\",\"equals\":false},"
    "{\"claim\":\"snp.product\",\"in\":[\"Milan\",\"Genoa\",\"Turin\"]},"
    "{\"claim\":\"snp.runtime.vm_configuration.secure-boot\",\"equals\":true},"
    "{\"claim\":\"snp.runtime.keys.HCLAkPub\",\"exists\":true},"
    "{\"claim\":\"snp.launch_tcb.raw\",\"equals\":\"0xDB18000000000004\"}]}}",
    /* collateral, times, arrays, not */
    "{\"version\":1,\"rules\":{\"not\":{\"anyOf\":[{\"claim\":\"collateral.earliest_expiry\","
    "\"lte\":\"2025-08-01T00:00:00+02:00\"},{\"claim\":\"collateral.tcb_eval_num\",\"lte\":16},"
    "{\"claim\":\"advisory_ids\",\"equals\":[\"INTEL-SA-00615\"]},"
    "{\"claim\":\"collateral\",\"exists\":false},{\"claim\":\"user_data\",\"equals\":\"\"},"
    "{\"claim\":\"nonce\",\"equals\":\"0a0B\"}]}}}",
};

static void test_compile_accepts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        vt_policy_free(compile_ok(accepted[i]));
    }
    vt_policy_free(NULL);
}

/* ---- compile: rejected, with the exact path ---- */

static const struct {
    const char *json;
    enum vt_err code;
    const char *path;
} rejected[] = {
    {"", VT_E_BAD_JSON, "$"},
    {"{\"version\":1} x", VT_E_BAD_JSON, "$"},
    {"{\"version\":1,", VT_E_BAD_JSON, "$"},
    {"[1]", VT_E_BAD_FIELD, "$"},
    {"\"policy\"", VT_E_BAD_FIELD, "$"},
    {"{\"version\":1,\"version\":1}", VT_E_DUPLICATE, "$"},
    {"{}", VT_E_MISSING_FIELD, "version"},
    {"{\"rules\":{\"claim\":\"tee\",\"equals\":\"sgx\"}}", VT_E_MISSING_FIELD, "version"},
    {"{\"version\":2}", VT_E_UNSUPPORTED_VERSION, "version"},
    {"{\"version\":0}", VT_E_UNSUPPORTED_VERSION, "version"},
    {"{\"version\":\"1\"}", VT_E_BAD_FIELD, "version"},
    {"{\"version\":1.0}", VT_E_BAD_FIELD, "version"},
    {"{\"version\":1,\"rulez\":{}}", VT_E_BAD_FIELD, "rulez"},
    {"{\"version\":1,\"\":{}}", VT_E_BAD_FIELD, "$[\"\"]"},
    {"{\"version\":1,\"rules\":{\"claim\":\"debug\",\"exists\":true,\"a.\\\"b\":1}}",
     VT_E_BAD_FIELD, "rules[\"a.?b\"]"},
    {"{\"version\":1,\"allowDebug\":\"no\"}", VT_E_BAD_FIELD, "allowDebug"},
    {"{\"version\":1,\"acceptStatus\":[]}", VT_E_BAD_FIELD, "acceptStatus"},
    {"{\"version\":1,\"acceptStatus\":\"UpToDate\"}", VT_E_BAD_FIELD, "acceptStatus"},
    {"{\"version\":1,\"acceptStatus\":[\"UpToDate\",\"Fine\"]}", VT_E_BAD_FIELD, "acceptStatus[1]"},
    {"{\"version\":1,\"acceptStatus\":[\"uptodate\"]}", VT_E_BAD_FIELD, "acceptStatus[0]"},
    {"{\"version\":1,\"acceptStatus\":[\"None\"]}", VT_E_BAD_FIELD, "acceptStatus[0]"},
    {"{\"version\":1,\"acceptStatus\":[1]}", VT_E_BAD_FIELD, "acceptStatus[0]"},
    {"{\"version\":1,\"rules\":[]}", VT_E_BAD_FIELD, "rules"},
    {"{\"version\":1,\"rules\":true}", VT_E_BAD_FIELD, "rules"},
    {"{\"version\":1,\"rules\":{}}", VT_E_MISSING_FIELD, "rules"},
    {"{\"version\":1,\"rules\":{\"allOf\":[]}}", VT_E_BAD_FIELD, "rules.allOf"},
    {"{\"version\":1,\"rules\":{\"anyOf\":[]}}", VT_E_BAD_FIELD, "rules.anyOf"},
    {"{\"version\":1,\"rules\":{\"allOf\":{}}}", VT_E_BAD_FIELD, "rules.allOf"},
    {"{\"version\":1,\"rules\":{\"not\":[]}}", VT_E_BAD_FIELD, "rules.not"},
    {"{\"version\":1,\"rules\":{\"not\":{}}}", VT_E_MISSING_FIELD, "rules.not"},
    {"{\"version\":1,\"rules\":{\"allOf\":[{\"claim\":\"debug\",\"equals\":false},"
     "{\"claim\":\"debug\",\"equals\":false},{\"anyOf\":[{\"claim\":\"sgx.mrenclav\","
     "\"exists\":true}]}]}}",
     VT_E_BAD_FIELD, "rules.allOf[2].anyOf[0].claim"},
    {"{\"version\":1,\"rules\":{\"claim\":\"foo\",\"equals\":1}}", VT_E_BAD_FIELD, "rules.claim"},
    {"{\"version\":1,\"rules\":{\"claim\":\"nitro.pcr32\",\"exists\":true}}", VT_E_BAD_FIELD,
     "rules.claim"},
    {"{\"version\":1,\"rules\":{\"claim\":\"nitro.pcr01\",\"exists\":true}}", VT_E_BAD_FIELD,
     "rules.claim"},
    {"{\"version\":1,\"rules\":{\"claim\":\"tdx.rtmr4\",\"exists\":true}}", VT_E_BAD_FIELD,
     "rules.claim"},
    {"{\"version\":1,\"rules\":{\"claim\":\"snp.runtime.keys.\",\"exists\":true}}", VT_E_BAD_FIELD,
     "rules.claim"},
    {"{\"version\":1,\"rules\":{\"claim\":\"collateral.documents.x\",\"exists\":true}}",
     VT_E_BAD_FIELD, "rules.claim"},
    {"{\"version\":1,\"rules\":{\"claim\":5,\"equals\":1}}", VT_E_BAD_FIELD, "rules.claim"},
    {"{\"version\":1,\"rules\":{\"claim\":\"sgx.isv_svn\",\"gt\":1}}", VT_E_BAD_FIELD, "rules.gt"},
    {"{\"version\":1,\"rules\":{\"claim\":\"sgx.isv_svn\",\"gte\":1,\"lte\":5}}", VT_E_BAD_FIELD,
     "rules.lte"},
    {"{\"version\":1,\"rules\":{\"claim\":\"sgx.isv_svn\"}}", VT_E_MISSING_FIELD, "rules"},
    {"{\"version\":1,\"rules\":{\"equals\":1}}", VT_E_MISSING_FIELD, "rules.claim"},
    {"{\"version\":1,\"rules\":{\"claim\":\"debug\",\"equals\":false,\"comment\":\"x\"}}",
     VT_E_BAD_FIELD, "rules.comment"},
    {"{\"version\":1,\"rules\":{\"anyOf\":[{\"claim\":\"debug\",\"exists\":true}],"
     "\"claim\":\"debug\"}}",
     VT_E_BAD_FIELD, "rules.claim"},
    {"{\"version\":1,\"rules\":{\"claim\":\"debug\",\"exists\":true,"
     "\"not\":{\"claim\":\"debug\",\"exists\":true}}}",
     VT_E_BAD_FIELD, "rules.not"},
    {"{\"version\":1,\"rules\":{\"allOf\":[{\"claim\":\"debug\",\"exists\":true}],"
     "\"anyOf\":[{\"claim\":\"debug\",\"exists\":true}]}}",
     VT_E_BAD_FIELD, "rules.anyOf"},
    {"{\"version\":1,\"rules\":{\"not\":{\"claim\":\"debug\",\"equals\":\"false\"}}}",
     VT_E_BAD_FIELD, "rules.not.equals"},
    {"{\"version\":1,\"rules\":{\"claim\":\"sgx.isv_svn\",\"equals\":\"5\"}}", VT_E_BAD_FIELD,
     "rules.equals"},
    {"{\"version\":1,\"rules\":{\"claim\":\"sgx.isv_svn\",\"equals\":5.0}}", VT_E_BAD_FIELD,
     "rules.equals"},
    {"{\"version\":1,\"rules\":{\"claim\":\"sgx.isv_svn\",\"in\":[1,null]}}", VT_E_BAD_FIELD,
     "rules.in[1]"},
    {"{\"version\":1,\"rules\":{\"claim\":\"sgx.isv_svn\",\"gte\":null}}", VT_E_BAD_FIELD,
     "rules.gte"},
    {"{\"version\":1,\"rules\":{\"claim\":\"sgx.mrenclave\",\"equals\":\"" D64 "00\"}}",
     VT_E_BAD_LENGTH, "rules.equals"},
    {"{\"version\":1,\"rules\":{\"claim\":\"sgx.mrenclave\",\"in\":[\"" D64 "\",\"" D32 "\"]}}",
     VT_E_BAD_LENGTH, "rules.in[1]"},
    {"{\"version\":1,\"rules\":{\"claim\":\"sgx.mrenclave\",\"equals\":\"" D64 "0\"}}",
     VT_E_BAD_LENGTH, "rules.equals"},
    {"{\"version\":1,\"rules\":{\"claim\":\"nitro.pcr0\",\"equals\":\"" D96 "0123\"}}",
     VT_E_BAD_LENGTH, "rules.equals"},
    {"{\"version\":1,\"rules\":{\"claim\":\"nonce\",\"equals\":\"abc\"}}", VT_E_BAD_LENGTH,
     "rules.equals"},
    {"{\"version\":1,\"rules\":{\"claim\":\"sgx.mrenclave\",\"equals\":\"0x" D32 D8 D8 D8
     "0123ab\"}}",
     VT_E_BAD_HEX, "rules.equals"},
    {"{\"version\":1,\"rules\":{\"claim\":\"sgx.mrenclave\",\"equals\":32}}", VT_E_BAD_FIELD,
     "rules.equals"},
    {"{\"version\":1,\"rules\":{\"claim\":\"sgx.mrenclave\",\"gte\":\"" D64 "\"}}", VT_E_BAD_FIELD,
     "rules.gte"},
    {"{\"version\":1,\"rules\":{\"claim\":\"tee\",\"lte\":\"sgx\"}}", VT_E_BAD_FIELD, "rules.lte"},
    {"{\"version\":1,\"rules\":{\"claim\":\"snp.policy\",\"gte\":1}}", VT_E_BAD_FIELD, "rules.gte"},
    {"{\"version\":1,\"rules\":{\"claim\":\"debug\",\"gte\":false}}", VT_E_BAD_FIELD, "rules.gte"},
    {"{\"version\":1,\"rules\":{\"claim\":\"status\",\"equals\":\"Fine\"}}", VT_E_BAD_FIELD,
     "rules.equals"},
    {"{\"version\":1,\"rules\":{\"claim\":\"tee\",\"in\":[\"sgx\",\"SGX\"]}}", VT_E_BAD_FIELD,
     "rules.in[1]"},
    {"{\"version\":1,\"rules\":{\"claim\":\"tee\",\"in\":[]}}", VT_E_BAD_FIELD, "rules.in"},
    {"{\"version\":1,\"rules\":{\"claim\":\"tee\",\"in\":\"sgx\"}}", VT_E_BAD_FIELD, "rules.in"},
    {"{\"version\":1,\"rules\":{\"claim\":\"debug\",\"exists\":1}}", VT_E_BAD_FIELD,
     "rules.exists"},
    {"{\"version\":1,\"rules\":{\"claim\":\"debug\",\"equals\":0}}", VT_E_BAD_FIELD,
     "rules.equals"},
    {"{\"version\":1,\"rules\":{\"claim\":\"dcap.tcb_date\",\"gte\":\"2024-01-01\"}}",
     VT_E_BAD_TIME, "rules.gte"},
    {"{\"version\":1,\"rules\":{\"claim\":\"dcap.tcb_date\",\"gte\":1700000000}}", VT_E_BAD_FIELD,
     "rules.gte"},
    {"{\"version\":1,\"rules\":{\"claim\":\"snp.policy\",\"equals\":\"30000\"}}", VT_E_BAD_HEX,
     "rules.equals"},
    {"{\"version\":1,\"rules\":{\"claim\":\"snp.policy\",\"equals\":-1}}", VT_E_BAD_FIELD,
     "rules.equals"},
    {"{\"version\":1,\"rules\":{\"claim\":\"advisory_ids\",\"equals\":\"INTEL-SA-00615\"}}",
     VT_E_BAD_FIELD, "rules.equals"},
    {"{\"version\":1,\"rules\":{\"claim\":\"sgx.mrenclave\\u0000\",\"exists\":true}}",
     VT_E_BAD_JSON, "$"},
};

static void test_compile_rejects(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
        struct vt_policy *p = (struct vt_policy *)1;
        struct vt_diag d;
        vt_diag_init(&d);
        enum vt_err err = vt_policy_compile(rejected[i].json, strlen(rejected[i].json), &p, &d);
        if (err != rejected[i].code || strcmp(d.check, rejected[i].path) != 0 || d.code != err ||
            d.detail[0] == '\0') {
            fail_msg("case %zu: got %s at \"%s\" (%s), want %s at \"%s\"\n%s", i, vt_err_name(err),
                     d.check, d.detail, vt_err_name(rejected[i].code), rejected[i].path,
                     rejected[i].json);
        }
        assert_null(p);
    }
}

/* The messages say what is wrong, with the values involved. */
static void test_compile_messages(void **state)
{
    (void)state;
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"{\"version\":1,\"rules\":{\"claim\":\"sgx.mrenclav\",\"exists\":true}}",
         "unknown claim \"sgx.mrenclav\"; did you mean \"sgx.mrenclave\"?"},
        {"{\"version\":1,\"rules\":{\"claim\":\"sgx.mrenclave\",\"equals\":\"abcd\"}}",
         "sgx.mrenclave is hex of 32 bytes (64 digits); got 4 hex digits"},
        {"{\"version\":1,\"rules\":{\"claim\":\"sgx.mrenclave\",\"gte\":\"abcd\"}}",
         "gte compares integer and time claims; sgx.mrenclave is hex"},
        {"{\"version\":1,\"rules\":{\"claim\":\"sgx.isv_svn\",\"gte\":1,\"lte\":5}}",
         "two operators, \"gte\" and \"lte\""},
        {"{\"version\":2}", "policy version 2; this veritee reads version 1"},
        {"{\"version\":1,\"rules\":{\"claim\":\"status\",\"equals\":\"Fine\"}}",
         "\"Fine\" is not a valid status value; expected one of UpToDate, SWHardeningNeeded"},
        {"{\"version\":1,\"acceptStatus\":[\"Fine\"]}", "\"Fine\" is not a TCB status"},
        {"{\"version\":1,\"rules\":{\"claim\":\"sgx.isv_svn\",\"equals\":\"5\"}}",
         "sgx.isv_svn has type integer: expected an integer, got a string"},
        {"{\"version\":1,\"x\":1}", "unknown member \"x\""},
        {"{\"version\":1,", "line 1 column "},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vt_policy *p = NULL;
        struct vt_diag d;
        vt_diag_init(&d);
        assert_int_not_equal(vt_policy_compile(cases[i].json, strlen(cases[i].json), &p, &d),
                             VT_OK);
        if (strstr(d.detail, cases[i].want) == NULL) {
            fail_msg("case %zu: detail \"%s\" lacks \"%s\"", i, d.detail, cases[i].want);
        }
    }
}

/* Deep nesting is refused with a path that still names the place. */
static void test_compile_limits(void **state)
{
    (void)state;
    char json[2048];
    size_t n = (size_t)snprintf(json, sizeof(json), "{\"version\":1,\"rules\":");
    for (int i = 0; i < 40; i++) {
        n += (size_t)snprintf(json + n, sizeof(json) - n, "{\"not\":");
    }
    n += (size_t)snprintf(json + n, sizeof(json) - n, "{\"claim\":\"debug\",\"exists\":true}");
    for (int i = 0; i < 41; i++) {
        json[n++] = '}';
    }
    json[n] = '\0';
    struct vt_policy *p = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_policy_compile(json, n, &p, &d), VT_E_TOO_LARGE);
    assert_null(p);
    assert_memory_equal(d.check, "rules.not.not.not", 17);
    assert_non_null(strstr(d.detail, "at rules.not.not."));

    /* 31 levels of not below rules are fine. */
    n = (size_t)snprintf(json, sizeof(json), "{\"version\":1,\"rules\":");
    for (int i = 0; i < 31; i++) {
        n += (size_t)snprintf(json + n, sizeof(json) - n, "{\"not\":");
    }
    n += (size_t)snprintf(json + n, sizeof(json) - n, "{\"claim\":\"debug\",\"exists\":true}");
    for (int i = 0; i < 32; i++) {
        json[n++] = '}';
    }
    json[n] = '\0';
    vt_policy_free(compile_ok(json));

    /* Oversized input. */
    size_t big = VT_POLICY_MAX_SIZE + 1;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, ' ', big);
    assert_int_equal(vt_policy_compile(huge, big, &p, &d), VT_E_TOO_LARGE);
    assert_string_equal(d.check, "$");
    free(huge);
    assert_int_equal(vt_policy_compile(NULL, 0, &p, &d), VT_E_BAD_JSON);
}

static void test_digest(void **state)
{
    (void)state;
    const char *a = "{\"version\":1}";
    const char *b = "{ \"version\": 1 }";
    struct vt_policy *pa = compile_ok(a), *pb = compile_ok(b);
    uint8_t da[32], db[32], want[32];
    vt_policy_digest(pa, da);
    vt_policy_digest(pb, db);
    vt_sha256(a, strlen(a), want);
    assert_memory_equal(da, want, 32);
    assert_memory_not_equal(da, db, 32);
    vt_policy_free(pa);
    vt_policy_free(pb);
}

static void test_registry(void **state)
{
    (void)state;
    assert_string_equal(vt_policy_claim_type("sgx.mrenclave"), "hex");
    assert_string_equal(vt_policy_claim_type("sgx.isv_svn"), "integer");
    assert_string_equal(vt_policy_claim_type("tee"), "enum");
    assert_string_equal(vt_policy_claim_type("status"), "enum");
    assert_string_equal(vt_policy_claim_type("debug"), "boolean");
    assert_string_equal(vt_policy_claim_type("verified_at"), "time");
    assert_string_equal(vt_policy_claim_type("advisory_ids"), "array");
    assert_string_equal(vt_policy_claim_type("snp.policy"), "hex-number");
    assert_string_equal(vt_policy_claim_type("nitro.pcr31"), "hex");
    assert_string_equal(vt_policy_claim_type("snp.reported_tcb.fmc"), "integer");
    assert_string_equal(vt_policy_claim_type("snp.runtime.keys.HCLAkPub"), "object");
    assert_string_equal(vt_policy_claim_type("collateral.tcb_eval_num"), "integer");
    assert_null(vt_policy_claim_type("nitro.pcr32"));
    assert_null(vt_policy_claim_type("sgx"));
    assert_null(vt_policy_claim_type(""));
    assert_null(vt_policy_claim_type(NULL));
}

/* ---- evaluation ---- */

/* SGX-shaped claims with a few claims of every other type. */
static const char *claims_with(const char *status, bool debug)
{
    static char buf[4096];
    snprintf(buf, sizeof(buf),
             "{\"tee\":\"sgx\",\"verified_at\":\"2025-07-19T10:01:17Z\",\"status\":\"%s\","
             "\"advisory_ids\":[],\"debug\":%s,\"sgx.mrenclave\":\"" D64 "\","
             "\"sgx.mrsigner\":\"" FF64 "\",\"sgx.isv_prod_id\":1,\"sgx.isv_svn\":5,"
             "\"dcap.pck_ca\":\"platform\",\"dcap.tcb_date\":\"2024-03-13T00:00:00Z\","
             "\"dcap.qe_tcb_date\":null,\"dcap.tdx_module_identity\":\"TDX_01\","
             "\"snp.policy\":\"0x30000\",\"snp.runtime.vm_configuration.secure-boot\":true,"
             "\"nitro.timestamp\":\"2022-10-13T08:58:02.136Z\",\"user_data\":\"0a0b\","
             "\"collateral\":{\"documents\":[],\"earliest_expiry\":\"2025-08-01T00:00:00Z\","
             "\"tcb_eval_num\":17}}",
             status, debug ? "true" : "false");
    return buf;
}

#define P(rules) "{\"version\":1,\"rules\":" rules "}"
#define T_(c, op, v) "{\"claim\":\"" c "\",\"" op "\":" v "}"
#define TRUE_T T_("sgx.isv_svn", "equals", "5")
#define FALSE_T T_("sgx.isv_svn", "equals", "6")

static const struct {
    const char *policy;
    const char *status; /* NULL: UpToDate */
    bool debug;
    bool allowed;
    const char *reason;
} evals[] = {
    /* defaults */
    {"{\"version\":1}", NULL, false, true, ""},
    {"{\"version\":1}", "SWHardeningNeeded", false, true, ""},
    {"{\"version\":1}", NULL, true, false, "debug"},
    {"{\"version\":1}", "OutOfDate", false, false, "status"},
    {"{\"version\":1}", "Revoked", false, false, "status"},
    {"{\"version\":1}", "ConfigurationNeeded", false, false, "status"},
    {"{\"version\":1}", "ConfigurationAndSWHardeningNeeded", false, false, "status"},
    {"{\"version\":1}", "TDRelaunchAdvised", false, false, "status"},
    {"{\"version\":1}", "OutOfDate", true, false, "debug"},
    {"{\"version\":1,\"rules\":" FALSE_T "}", "Revoked", false, false, "status"},
    /* overrides */
    {"{\"version\":1,\"allowDebug\":true}", NULL, true, true, ""},
    {"{\"version\":1,\"allowDebug\":false}", NULL, true, false, "debug"},
    {"{\"version\":1,\"acceptStatus\":[\"OutOfDate\"]}", "OutOfDate", false, true, ""},
    {"{\"version\":1,\"acceptStatus\":[\"OutOfDate\"]}", "UpToDate", false, false, "status"},
    {"{\"version\":1,\"acceptStatus\":[\"UpToDate\",\"Revoked\"]}", "Revoked", false, true, ""},
    {"{\"version\":1,\"allowDebug\":true,\"acceptStatus\":[\"UpToDate\",\"ConfigurationNeeded\"]}",
     "ConfigurationNeeded", true, true, ""},
    /* equals, per type */
    {P(TRUE_T), NULL, false, true, ""},
    {P(FALSE_T), NULL, false, false, "rules"},
    {P(T_("sgx.mrenclave", "equals", "\"" D64 "\"")), NULL, false, true, ""},
    {P(T_("sgx.mrenclave", "equals", "\"" U64 "\"")), NULL, false, true, ""},
    {P(T_("sgx.mrenclave", "equals", "\"" FF64 "\"")), NULL, false, false, "rules"},
    {P(T_("tee", "equals", "\"sgx\"")), NULL, false, true, ""},
    {P(T_("tee", "equals", "\"tdx\"")), NULL, false, false, "rules"},
    {P(T_("dcap.tdx_module_identity", "equals", "\"TDX_01\"")), NULL, false, true, ""},
    {P(T_("dcap.tdx_module_identity", "equals", "\"tdx_01\"")), NULL, false, false, "rules"},
    {P(T_("debug", "equals", "false")), NULL, false, true, ""},
    {P(T_("debug", "equals", "true")), NULL, false, false, "rules"},
    {P(T_("snp.policy", "equals", "196608")), NULL, false, true, ""},
    {P(T_("snp.policy", "equals", "\"0x030000\"")), NULL, false, true, ""},
    {P(T_("snp.policy", "equals", "\"0x1\"")), NULL, false, false, "rules"},
    {P(T_("advisory_ids", "equals", "[]")), NULL, false, true, ""},
    {P(T_("advisory_ids", "equals", "[\"INTEL-SA-00615\"]")), NULL, false, false, "rules"},
    {P(T_("snp.runtime.vm_configuration.secure-boot", "equals", "true")), NULL, false, true, ""},
    {P(T_("snp.runtime.vm_configuration.secure-boot", "equals", "\"true\"")), NULL, false, false,
     "rules"},
    {P(T_("user_data", "equals", "\"0A0B\"")), NULL, false, true, ""},
    {P(T_("dcap.tcb_date", "equals", "\"2024-03-13T01:00:00+01:00\"")), NULL, false, true, ""},
    /* in */
    {P(T_("sgx.mrenclave", "in", "[\"" FF64 "\",\"" U64 "\"]")), NULL, false, true, ""},
    {P(T_("sgx.mrenclave", "in", "[\"" FF64 "\"]")), NULL, false, false, "rules"},
    {P(T_("sgx.isv_prod_id", "in", "[0,1,2]")), NULL, false, true, ""},
    {P(T_("tee", "in", "[\"tdx\",\"nitro\"]")), NULL, false, false, "rules"},
    {P(T_("dcap.pck_ca", "in", "[\"processor\",\"platform\"]")), NULL, false, true, ""},
    /* gte / lte on integers (inclusive) and times */
    {P(T_("sgx.isv_svn", "gte", "5")), NULL, false, true, ""},
    {P(T_("sgx.isv_svn", "gte", "6")), NULL, false, false, "rules"},
    {P(T_("sgx.isv_svn", "lte", "5")), NULL, false, true, ""},
    {P(T_("sgx.isv_svn", "lte", "4")), NULL, false, false, "rules"},
    {P(T_("sgx.isv_svn", "gte", "-9223372036854775807")), NULL, false, true, ""},
    {P(T_("dcap.tcb_date", "gte", "\"2024-03-13T00:00:00Z\"")), NULL, false, true, ""},
    {P(T_("dcap.tcb_date", "gte", "\"2024-03-13T00:00:01Z\"")), NULL, false, false, "rules"},
    {P(T_("dcap.tcb_date", "lte", "\"2024-03-12T23:00:00-01:00\"")), NULL, false, true, ""},
    {P(T_("nitro.timestamp", "gte", "\"2022-10-13T08:58:02.136Z\"")), NULL, false, true, ""},
    {P(T_("nitro.timestamp", "gte", "\"2022-10-13T08:58:02.137Z\"")), NULL, false, false, "rules"},
    {P(T_("nitro.timestamp", "lte", "\"2022-10-13T08:58:02Z\"")), NULL, false, false, "rules"},
    {P(T_("collateral.earliest_expiry", "gte", "\"2025-07-19T10:01:17Z\"")), NULL, false, true, ""},
    {P(T_("collateral.tcb_eval_num", "gte", "17")), NULL, false, true, ""},
    {P(T_("collateral.tcb_eval_num", "gte", "18")), NULL, false, false, "rules"},
    /* exists, absent and null claims */
    {P(T_("sgx.mrenclave", "exists", "true")), NULL, false, true, ""},
    {P(T_("sgx.mrenclave", "exists", "false")), NULL, false, false, "rules"},
    {P(T_("tdx.mrtd", "exists", "true")), NULL, false, false, "rules"},
    {P(T_("tdx.mrtd", "exists", "false")), NULL, false, true, ""},
    {P(T_("dcap.qe_tcb_date", "exists", "true")), NULL, false, false, "rules"},
    {P(T_("dcap.qe_tcb_date", "gte", "\"2000-01-01T00:00:00Z\"")), NULL, false, false, "rules"},
    {P(T_("tdx.mrtd", "equals", "\"" D96 "\"")), NULL, false, false, "rules"},
    {P(T_("tdx.mrtd", "in", "[\"" D96 "\"]")), NULL, false, false, "rules"},
    {P(T_("snp.reported_tcb.microcode", "gte", "0")), NULL, false, false, "rules"},
    {P(T_("nitro.timestamp_ms", "lte", "0")), NULL, false, false, "rules"},
    {P(T_("collateral.documents", "exists", "true")), NULL, false, true, ""},
    /* not */
    {P("{\"not\":" T_("tdx.mrtd", "exists", "true") "}"), NULL, false, true, ""},
    {P("{\"not\":" T_("tdx.mrtd", "equals", "\"" D96 "\"") "}"), NULL, false, true, ""},
    {P("{\"not\":" TRUE_T "}"), NULL, false, false, "rules"},
    {P("{\"not\":{\"not\":" TRUE_T "}}"), NULL, false, true, ""},
    /* allOf / anyOf and nesting: the reason names the first failing rule */
    {P("{\"allOf\":[" TRUE_T "," TRUE_T "]}"), NULL, false, true, ""},
    {P("{\"allOf\":[" TRUE_T "," FALSE_T "," FALSE_T "]}"), NULL, false, false, "rules.allOf[1]"},
    {P("{\"anyOf\":[" FALSE_T "," TRUE_T "]}"), NULL, false, true, ""},
    {P("{\"anyOf\":[" FALSE_T "," FALSE_T "]}"), NULL, false, false, "rules"},
    {P("{\"allOf\":[" TRUE_T ",{\"anyOf\":[" FALSE_T "," FALSE_T "]}]}"), NULL, false, false,
     "rules.allOf[1]"},
    {P("{\"allOf\":[" TRUE_T ",{\"allOf\":[" TRUE_T "," FALSE_T "]}]}"), NULL, false, false,
     "rules.allOf[1].allOf[1]"},
    {P("{\"allOf\":[{\"anyOf\":[" FALSE_T ",{\"allOf\":[" TRUE_T "," TRUE_T "]}]},{\"not\":" FALSE_T
       "}]}"),
     NULL, false, true, ""},
    {P("{\"allOf\":[" TRUE_T ",{\"not\":{\"allOf\":[" TRUE_T "]}}]}"), NULL, false, false,
     "rules.allOf[1]"},
    /* debug refusal comes first even when the rules fail */
    {P(FALSE_T), NULL, true, false, "debug"},
};

static void test_eval_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(evals) / sizeof(evals[0]); i++) {
        struct vt_policy *p = compile_ok(evals[i].policy);
        const char *claims =
            claims_with(evals[i].status != NULL ? evals[i].status : "UpToDate", evals[i].debug);
        struct vt_policy_result r;
        struct vt_diag d;
        vt_diag_init(&d);
        assert_int_equal(vt_policy_eval(p, claims, strlen(claims), &r, &d), VT_OK);
        if (r.allowed != evals[i].allowed || strcmp(r.reason, evals[i].reason) != 0) {
            fail_msg("case %zu: allowed %d reason \"%s\", want %d \"%s\"\n%s\n%s", i, r.allowed,
                     r.reason, evals[i].allowed, evals[i].reason, evals[i].policy, r.explanation);
        }
        assert_non_null(r.explanation);
        vt_policy_result_cleanup(&r);
        assert_null(r.explanation);
        vt_policy_result_cleanup(&r);
        vt_policy_free(p);
    }
}

/* Missing or malformed debug/status fail closed; bad claims input is an error, not a verdict. */
static void test_eval_edges(void **state)
{
    (void)state;
    struct vt_policy *p = compile_ok("{\"version\":1}");
    struct vt_policy_result r;
    struct vt_diag d;
    vt_diag_init(&d);
    static const struct {
        const char *claims;
        const char *reason;
    } cases[] = {
        {"{\"status\":\"UpToDate\"}", "debug"},
        {"{\"debug\":\"false\",\"status\":\"UpToDate\"}", "debug"},
        {"{\"debug\":false}", "status"},
        {"{\"debug\":false,\"status\":\"uptodate\"}", "status"},
        {"{\"debug\":false,\"status\":null}", "status"},
        {"{\"debug\":false,\"status\":\"UpToDate\"}", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(vt_policy_eval(p, cases[i].claims, strlen(cases[i].claims), &r, &d),
                         VT_OK);
        assert_string_equal(r.reason, cases[i].reason);
        assert_int_equal(r.allowed, cases[i].reason[0] == '\0');
        vt_policy_result_cleanup(&r);
    }
    assert_int_equal(vt_policy_eval(p, "[]", 2, &r, &d), VT_E_BAD_FIELD);
    assert_false(r.allowed);
    assert_null(r.explanation);
    assert_int_equal(vt_policy_eval(p, "{", 1, &r, &d), VT_E_BAD_JSON);
    assert_string_equal(d.check, "claims");
    assert_false(r.allowed);
    assert_int_equal(vt_policy_eval(NULL, "{}", 2, &r, &d), VT_E_ARG);
    assert_false(r.allowed);

    /* The json_t variant gives the same verdict. */
    json_t *c = json_pack("{s:b,s:s}", "debug", 0, "status", "OutOfDate");
    assert_int_equal(vt_policy_eval_json(p, c, &r, &d), VT_OK);
    assert_false(r.allowed);
    assert_string_equal(r.reason, "status");
    vt_policy_result_cleanup(&r);
    json_decref(c);
    vt_policy_free(p);
}

static json_t *entry(json_t *expl, size_t i)
{
    json_t *e = json_array_get(expl, i);
    assert_true(json_is_object(e));
    return e;
}

static const char *str(json_t *e, const char *k)
{
    const char *s = json_string_value(json_object_get(e, k));
    assert_non_null(s);
    return s;
}

static void test_explanation(void **state)
{
    (void)state;
    struct vt_policy *p = compile_ok(P("{\"allOf\":[" T_("sgx.isv_svn", "gte", "3") "," T_(
        "tdx.mrtd", "exists", "true") ","
                                      "{\"not\":" T_("sgx.mrenclave", "in",
                                                     "[\"" U64 "\"]") "}]}"));
    const char *claims = claims_with("UpToDate", false);
    struct vt_policy_result r;
    struct vt_diag d;
    assert_int_equal(vt_policy_eval(p, claims, strlen(claims), &r, &d), VT_OK);
    assert_false(r.allowed);
    assert_string_equal(r.reason, "rules.allOf[1]");
    char *copy = vt_policy_result_explain(&r);
    assert_non_null(copy);
    assert_string_equal(copy, r.explanation);
    free(copy);

    json_error_t jerr;
    json_t *x = json_loads(r.explanation, 0, &jerr);
    assert_true(json_is_array(x));
    assert_int_equal(json_array_size(x), 7);

    json_t *e = entry(x, 0);
    assert_string_equal(str(e, "path"), "allowDebug");
    assert_string_equal(str(e, "claim"), "debug");
    assert_string_equal(str(e, "op"), "equals");
    assert_true(json_is_true(json_object_get(e, "outcome")));
    assert_true(json_is_false(json_object_get(e, "expected")));
    assert_true(json_is_false(json_object_get(e, "actual")));

    e = entry(x, 1);
    assert_string_equal(str(e, "path"), "acceptStatus");
    assert_string_equal(str(e, "claim"), "status");
    assert_string_equal(str(e, "op"), "in");
    assert_string_equal(str(e, "actual"), "UpToDate");
    json_t *want = json_pack("[ss]", "UpToDate", "SWHardeningNeeded");
    assert_true(json_equal(json_object_get(e, "expected"), want));
    json_decref(want);

    e = entry(x, 2);
    assert_string_equal(str(e, "path"), "rules");
    assert_string_equal(str(e, "op"), "allOf");
    assert_true(json_is_false(json_object_get(e, "outcome")));
    assert_null(json_object_get(e, "claim"));

    e = entry(x, 3);
    assert_string_equal(str(e, "path"), "rules.allOf[0]");
    assert_string_equal(str(e, "claim"), "sgx.isv_svn");
    assert_string_equal(str(e, "op"), "gte");
    assert_int_equal(json_integer_value(json_object_get(e, "expected")), 3);
    assert_int_equal(json_integer_value(json_object_get(e, "actual")), 5);
    assert_true(json_is_true(json_object_get(e, "present")));
    assert_true(json_is_true(json_object_get(e, "outcome")));

    e = entry(x, 4);
    assert_string_equal(str(e, "path"), "rules.allOf[1]");
    assert_string_equal(str(e, "claim"), "tdx.mrtd");
    assert_string_equal(str(e, "op"), "exists");
    assert_true(json_is_true(json_object_get(e, "expected")));
    assert_true(json_is_null(json_object_get(e, "actual")));
    assert_true(json_is_false(json_object_get(e, "present")));
    assert_true(json_is_false(json_object_get(e, "outcome")));

    e = entry(x, 5);
    assert_string_equal(str(e, "path"), "rules.allOf[2]");
    assert_string_equal(str(e, "op"), "not");
    assert_true(json_is_false(json_object_get(e, "outcome")));

    /* Evaluation goes on after the first failure; the expected value is shown as written. */
    e = entry(x, 6);
    assert_string_equal(str(e, "path"), "rules.allOf[2].not");
    assert_string_equal(str(e, "op"), "in");
    assert_string_equal(json_string_value(json_array_get(json_object_get(e, "expected"), 0)), U64);
    assert_string_equal(str(e, "actual"), D64);
    assert_true(json_is_true(json_object_get(e, "outcome")));
    json_decref(x);
    vt_policy_result_cleanup(&r);

    /* allowDebug: true skips the debug check entirely. */
    vt_policy_free(p);
    p = compile_ok("{\"version\":1,\"allowDebug\":true}");
    assert_int_equal(vt_policy_eval(p, claims, strlen(claims), &r, &d), VT_OK);
    x = json_loads(r.explanation, 0, &jerr);
    assert_int_equal(json_array_size(x), 1);
    assert_string_equal(str(entry(x, 0), "path"), "acceptStatus");
    json_decref(x);
    vt_policy_result_cleanup(&r);
    vt_policy_free(p);
}

/* ---- the registry in sync with vt_claims_to_json ---- */

static void check_claims_json(const char *what, const char *json)
{
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_policy_claims_check(json, strlen(json), &d);
    if (err != VT_OK) {
        fail_msg("%s: %s: %s\n%s", what, d.check, d.detail, json);
    }
    /* Every key can be named in a policy: exists on it compiles and holds. */
    json_t *o = json_loads(json, 0, NULL);
    assert_non_null(o);
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (json_is_null(v)) {
            continue;
        }
        char pol[512];
        snprintf(pol, sizeof(pol),
                 "{\"version\":1,\"allowDebug\":true,\"acceptStatus\":"
                 "[\"UpToDate\",\"OutOfDate\"],\"rules\":"
                 "{\"claim\":\"%s\",\"exists\":true}}",
                 key);
        struct vt_policy *p = compile_ok(pol);
        struct vt_policy_result r;
        assert_int_equal(vt_policy_eval_json(p, o, &r, &d), VT_OK);
        if (strcmp(r.reason, "rules") == 0) {
            fail_msg("%s: exists on %s is false", what, key);
        }
        vt_policy_result_cleanup(&r);
        vt_policy_free(p);
    }
    json_decref(o);
}

static void fill_common(struct vt_claims *c, enum vt_tee tee)
{
    vt_claims_init(c);
    c->tee = tee;
    c->verified_at = 1752919277;
    c->status = VT_TCB_OUT_OF_DATE;
    c->platform_status = VT_TCB_OUT_OF_DATE;
    c->qe_status = VT_TCB_UP_TO_DATE;
    c->module_status = VT_TCB_UP_TO_DATE;
    assert_int_equal(vt_advisories_add(&c->advisories, "INTEL-SA-00615"), VT_OK);
    memset(c->report_data, 0xab, sizeof(c->report_data));
    uint8_t h[32] = {1};
    vt_claims_add_collateral(c, "tcb_info", h, 1750000000, 1760000000, 17);
    vt_claims_add_collateral(c, "pck_crl", h, 1750000000, 1760000000, -1);
}

static void fill_dcap(struct vt_claims *c, uint16_t body)
{
    struct vt_dcap_claims *dc = &c->dcap;
    dc->quote_version = body == 3 ? 5 : 4;
    dc->body_type = body;
    memset(dc->fmspc, 0x90, 6);
    snprintf(dc->pck_ca, sizeof(dc->pck_ca), "platform");
    dc->sgx_type = 2;
    dc->has_platform_instance_id = true;
    dc->has_configuration = true;
    dc->smt_enabled = true;
    dc->tcb_date = 1710288000;
    dc->qe_tcb_date = 1710288000;
    dc->qe_isv_svn = 8;
    snprintf(dc->tdx_module_identity, sizeof(dc->tdx_module_identity), "TDX_01");
}

static void test_registry_sync_synthetic(void **state)
{
    (void)state;
    struct vt_claims *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    char *json;

    /* SGX, with every DCAP option. */
    fill_common(c, VT_TEE_SGX);
    c->module_status = VT_TCB_NONE;
    fill_dcap(c, 1);
    c->sgx.isv_svn = 5;
    c->sgx.miscselect = 0xffffffffu;
    json = vt_claims_to_json(c);
    assert_non_null(json);
    check_claims_json("sgx", json);
    free(json);

    /* TDX 1.5 with a module identity. */
    fill_common(c, VT_TEE_TDX);
    fill_dcap(c, 3);
    c->tdx.has_tee_tcb_svn2 = true;
    c->debug = true;
    json = vt_claims_to_json(c);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"tdx.mrservicetd\""));
    check_claims_json("tdx", json);
    free(json);

    /* Nitro: all 32 PCRs in each length, and every binding. */
    fill_common(c, VT_TEE_NITRO);
    c->status = VT_TCB_UP_TO_DATE;
    c->platform_status = c->qe_status = c->module_status = VT_TCB_NONE;
    snprintf(c->nitro.module_id, sizeof(c->nitro.module_id), "i-0123-enc0456");
    c->nitro.timestamp_ms = 1665651482136;
    c->nitro.pcr_mask = 0xffffffffu;
    for (unsigned i = 0; i < VT_CLAIMS_MAX_PCRS; i++) {
        c->nitro.pcr_len[i] = (uint8_t)(i % 3 == 0 ? 48 : i % 3 == 1 ? 32 : 64);
    }
    c->user_data.present = c->nonce.present = c->public_key.present = true;
    c->user_data.len = 13;
    c->nonce.len = 0;
    c->public_key.len = VT_CLAIMS_MAX_BINDING;
    json = vt_claims_to_json(c);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"nitro.pcr31\""));
    check_claims_json("nitro", json);
    free(json);

    /* SEV-SNP v5 on Turin, VLEK, with Azure HCL runtime data. */
    static const char *const products[] = {"Milan", "Turin"};
    for (size_t i = 0; i < 2; i++) {
        fill_common(c, VT_TEE_SEV_SNP);
        c->status = VT_TCB_UP_TO_DATE;
        c->platform_status = c->qe_status = c->module_status = VT_TCB_NONE;
        c->user_data.present = true;
        c->user_data.len = 3;
        struct vt_snp_claims *s = &c->snp;
        s->version = 5;
        snprintf(s->product, sizeof(s->product), "%s", products[i]);
        snprintf(s->product_name, sizeof(s->product_name), "%s-B0", products[i]);
        s->signing_key = 1;
        snprintf(s->csp_id, sizeof(s->csp_id), "CN=cc-us-east-1.amazonaws.com");
        s->policy = 0x30000;
        s->platform_info = 0xff;
        s->reported_tcb.raw = 0xdb18000000000004ull;
        s->launch_mit_vector = UINT64_MAX;
        s->has_runtime_data = true;
        s->n_runtime_keys = 2;
        snprintf(s->runtime_keys[0].kid, sizeof(s->runtime_keys[0].kid), "HCLAkPub");
        snprintf(s->runtime_keys[0].jwk, sizeof(s->runtime_keys[0].jwk),
                 "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"sXch\"}");
        snprintf(s->runtime_keys[1].kid, sizeof(s->runtime_keys[1].kid), "HCLEkPub");
        snprintf(s->runtime_keys[1].jwk, sizeof(s->runtime_keys[1].jwk),
                 "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"abcd\"}");
        snprintf(s->vm_configuration, sizeof(s->vm_configuration),
                 "{\"console-enabled\":false,\"secure-boot\":true,\"tpm-enabled\":true,"
                 "\"vmUniqueId\":\"68A5A4E6\"}");
        json = vt_claims_to_json(c);
        assert_non_null(json);
        assert_non_null(strstr(json, "\"snp.current_mit_vector\""));
        check_claims_json(products[i], json);
        free(json);
    }

    /* A claims object with a name outside the registry is caught. */
    struct vt_diag d;
    const char *bad = "{\"tee\":\"sgx\",\"sgx.mrenclavex\":\"00\"}";
    assert_int_equal(vt_policy_claims_check(bad, strlen(bad), &d), VT_E_BAD_FIELD);
    assert_string_equal(d.check, "sgx.mrenclavex");
    bad = "{\"sgx.mrenclave\":\"00\"}";
    assert_int_equal(vt_policy_claims_check(bad, strlen(bad), &d), VT_E_BAD_FIELD);
    assert_string_equal(d.check, "sgx.mrenclave");
    bad = "{\"collateral\":{\"documents\":[],\"extra\":1}}";
    assert_int_equal(vt_policy_claims_check(bad, strlen(bad), &d), VT_E_BAD_FIELD);
    assert_string_equal(d.check, "collateral");
    free(c);
}

/* Real fixtures through the veritee command: the claims of every TEE type it verifies. */
static void test_registry_sync_fixtures(void **state)
{
    (void)state;
    const char *root = vt_fixtures_or_skip();
    const char *bin = getenv("VT_BINARY");
    if (root == NULL) {
        return;
    }
    if (bin == NULL || bin[0] == '\0') {
        printf("VT_BINARY not set: skipping the fixture claims (run under ctest)\n");
        return;
    }
    static const struct {
        const char *name;
        const char *args; /* @: the fixtures root */
    } runs[] = {
        {"sgx", "--collateral @/dcap/phala-dcap-qvl/sgx-v3-fmspc00a067110000 --at 1752919277 "
                "@/dcap/phala-dcap-qvl/sgx-v3-fmspc00a067110000/quote.bin"},
        {"tdx", "--collateral @/dcap/phala-dcap-qvl/tdx-v4-fmspcb0c06f000000 --at 1752919234 "
                "@/dcap/phala-dcap-qvl/tdx-v4-fmspcb0c06f000000/quote.bin"},
        {"nitro", "--at 2022-10-13T09:00:00Z "
                  "@/nitro/evervault/test-data/beta/valid-attestation-doc-bytes"},
        {"nitro-debug", "--at 2022-10-12T14:00:00Z "
                        "@/nitro/evervault/test-data/beta/debug-mode-attestation-doc-bytes"},
        {"snp", "--vcek @/snp/trustee/test-vcek.der @/snp/trustee/test-report.bin"},
        {"snp-hcl", "--vcek @/snp/trustee-azure/vcek.pem @/snp/trustee-azure/hcl-report.bin"},
    };
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        char args[1024], cmd[1400];
        size_t n = 0;
        for (const char *t = runs[i].args; *t != '\0' && n + strlen(root) + 2 < sizeof(args); t++) {
            if (*t == '@') {
                memcpy(args + n, root, strlen(root));
                n += strlen(root);
            } else {
                args[n++] = *t;
            }
        }
        args[n] = '\0';
        snprintf(cmd, sizeof(cmd), "'%s' verify %s 2>/dev/null", bin, args);
        FILE *f = popen(cmd, "r");
        assert_non_null(f);
        json_error_t jerr;
        json_t *out = json_loadf(f, 0, &jerr);
        int status = pclose(f);
        if (out == NULL || status != 0 || !json_is_true(json_object_get(out, "verified"))) {
            fail_msg("%s: %s did not verify (status %d)", runs[i].name, cmd, status);
        }
        char *claims = json_dumps(json_object_get(out, "claims"), JSON_COMPACT);
        check_claims_json(runs[i].name, claims);
        free(claims);
        json_decref(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compile_accepts),
        cmocka_unit_test(test_compile_rejects),
        cmocka_unit_test(test_compile_messages),
        cmocka_unit_test(test_compile_limits),
        cmocka_unit_test(test_digest),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_eval_table),
        cmocka_unit_test(test_eval_edges),
        cmocka_unit_test(test_explanation),
        cmocka_unit_test(test_registry_sync_synthetic),
        cmocka_unit_test(test_registry_sync_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
