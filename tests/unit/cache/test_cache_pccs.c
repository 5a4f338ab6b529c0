/*
 * The parsers of PCCS's request bodies: PCKIDRetrievalTool's registration (byte for byte as its
 * generate_json_message_body writes it, in both modes), the PCCS admin tool's appraisal policy
 * upload, and every refusal of a platformcollateral upload that needs no vendor data (the
 * uploads of real collateral are in tests/integration/cache_pccs.sh). Every refusal names its
 * field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cache/cache.h"

#define X16 "0123456789ABCDEF"
#define PPID_UPPER                                                                                 \
    X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16    \
        X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16    \
            X16 X16 X16

/* PCKIDRetrievalTool (utility.cpp, generate_json_message_body), enclave mode: uppercase hex,
 * " ," between members, an empty platform_manifest for a single-package platform. */
static const char tool_body[] = "{\"enc_ppid\": \"" PPID_UPPER "\" ,\"pce_id\": \"0000\" ,"
                                "\"cpu_svn\": \"0B0B0202FF0100000000000000000000\" ,"
                                "\"pce_svn\": \"0D00\" ,\"qe_id\": \"" X16 X16 "\" ,"
                                "\"platform_manifest\": \"\" }";

/* Non-enclave mode: PCE ID, platform ID and the platform manifest only. */
static const char tool_body_manifest[] =
    "{\"pce_id\": \"0000\" ,\"qe_id\": \"" X16 X16 "\" ,\"platform_manifest\": \"ABCDEF0123\" }";

static void test_registration(void **state)
{
    (void)state;
    struct vt_pccs_platform p;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(
        vt_cache_pccs_platform_parse((const uint8_t *)tool_body, strlen(tool_body), &p, &d), VT_OK);
    assert_string_equal(p.qe_id, "0123456789abcdef0123456789abcdef");
    assert_string_equal(p.pce_id, "0000");
    assert_string_equal(p.cpu_svn, "0b0b0202ff0100000000000000000000");
    assert_string_equal(p.pce_svn, "0d00");
    assert_int_equal(strlen(p.enc_ppid), 768);
    assert_memory_equal(p.enc_ppid, "0123456789abcdef", 16);
    assert_false(p.has_manifest);

    assert_int_equal(vt_cache_pccs_platform_parse((const uint8_t *)tool_body_manifest,
                                                  strlen(tool_body_manifest), &p, &d),
                     VT_E_UNSUPPORTED);
    assert_string_equal(d.check, "enc_ppid");
    assert_non_null(strstr(d.detail, "platform manifest"));

    const struct {
        const char *body;
        enum vt_err err;
        const char *check;
    } bads[] = {
        {"", VT_E_BAD_JSON, "platform"},
        {"[]", VT_E_BAD_JSON, "platform"},
        {"{\"pce_id\":\"0000\"}", VT_E_MISSING_FIELD, "qe_id"},
        {"{\"qe_id\":\"\",\"pce_id\":\"0000\"}", VT_E_MISSING_FIELD, "qe_id"},
        {"{\"qe_id\":\"" X16 X16 "00\",\"pce_id\":\"0000\"}", VT_E_BAD_FIELD, "qe_id"},
        {"{\"qe_id\":\"" X16 "\",\"pce_id\":\"000\"}", VT_E_BAD_FIELD, "pce_id"},
        {"{\"qe_id\":\"" X16 "\",\"pce_id\":0}", VT_E_BAD_FIELD, "pce_id"},
        {"{\"qe_id\":\"" X16 "\",\"pce_id\":\"0000\",\"pce_svn\":\"0d00\"}", VT_E_MISSING_FIELD,
         "cpu_svn"},
        {"{\"qe_id\":\"" X16 "\",\"pce_id\":\"0000\",\"cpu_svn\":\"" X16 X16
         "\",\"pce_svn\":\"0d00\"}",
         VT_E_MISSING_FIELD, "enc_ppid"},
        {"{\"qe_id\":\"" X16 "\",\"pce_id\":\"0000\",\"cpu_svn\":\"" X16 X16
         "\",\"pce_svn\":\"0d00\",\"enc_ppid\":\"00\"}",
         VT_E_BAD_FIELD, "enc_ppid"},
        {"{\"qe_id\":\"" X16 "\",\"pce_id\":\"0000\",\"cpu_svn\":\"" X16 X16
         "\",\"pce_svn\":\"0d00\",\"enc_ppid\":\"" PPID_UPPER "\",\"platform_manifest\":7}",
         VT_E_BAD_FIELD, "platform_manifest"},
        {"{\"qe_id\":\"" X16 "\",\"qe_id\":\"" X16 "\",\"pce_id\":\"0000\"}", VT_E_BAD_JSON,
         "platform"},
    };
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        vt_diag_init(&d);
        enum vt_err err = vt_cache_pccs_platform_parse((const uint8_t *)bads[i].body,
                                                       strlen(bads[i].body), &p, &d);
        if (err != bads[i].err || strcmp(d.check, bads[i].check) != 0) {
            fail_msg("%s: got %s (%s: %s), want %s (%s)", bads[i].body, vt_err_name(err), d.check,
                     d.detail, vt_err_name(bads[i].err), bads[i].check);
        }
    }
}

#define JWT_HEAD "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
/* payloads {"policy_payload":"{\"policy_array\":[{\"environment\":{\"class_id\":C},...}]}"} */
#define SGX_CLASS                                                                                  \
    "eyJwb2xpY3lfcGF5bG9hZCI6IntcInBvbGljeV9hcnJheVwiOlt7XCJlbnZpcm9ubWVudFwiOntcImNsYXNzX2lkXCI6" \
    "XCIzMTIzZWMzNS04ZDM4LTRlYTUtODdhNS1kNmM0OGI1Njc1NzBcIn0sXCJyZWZlcmVuY2VcIjp7fX1dfSJ9"
#define ZERO_CLASS                                                                                 \
    "eyJwb2xpY3lfcGF5bG9hZCI6IntcInBvbGljeV9hcnJheVwiOlt7XCJlbnZpcm9ubWVudFwiOntcImNsYXNzX2lkXCI6" \
    "XCIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDBcIn0sXCJyZWZlcmVuY2VcIjp7fX1dfSJ9"
#define TDQE_CLASS                                                                                 \
    "eyJwb2xpY3lfcGF5bG9hZCI6IntcInBvbGljeV9hcnJheVwiOlt7XCJlbnZpcm9ubWVudFwiOntcImNsYXNzX2lkXCI6" \
    "XCIzNzY5MjU4Yy03NWU2LTRiYzctOGQ3Mi1kMmIwZTIyNGNhZDJcIn0sXCJyZWZlcmVuY2VcIjp7fX1dfSJ9"

static void test_policy(void **state)
{
    (void)state;
    struct vt_pccs_policy p;
    struct vt_diag d;
    vt_diag_init(&d);
    /* as `pccsadmin put -u .../appraisalpolicy` sends it: json.dumps of {policy, is_default,
     * fmspc} */
    const char *good = "{\"policy\": \"" JWT_HEAD SGX_CLASS ".c2ln\", \"is_default\": true,"
                       " \"fmspc\": \"00a067110000\"}";
    assert_int_equal(vt_cache_pccs_policy_parse((const uint8_t *)good, strlen(good), &p, &d),
                     VT_OK);
    assert_string_equal(p.fmspc, "00A067110000");
    assert_int_equal(p.type, 0);
    assert_true(p.is_default);
    assert_int_equal(strlen(p.id), 96);
    assert_string_equal(p.policy, JWT_HEAD SGX_CLASS ".c2ln");
    vt_cache_pccs_policy_cleanup(&p);

    const struct {
        const char *body;
        enum vt_err err;
        const char *check;
    } bads[] = {
        {"nope", VT_E_BAD_JSON, "appraisalpolicy"},
        {"{\"is_default\":true,\"fmspc\":\"00a067110000\"}", VT_E_MISSING_FIELD, "policy"},
        {"{\"policy\":\"a.b.c\",\"fmspc\":\"00a067110000\"}", VT_E_MISSING_FIELD, "is_default"},
        {"{\"policy\":\"a.b.c\",\"is_default\":1,\"fmspc\":\"00a067110000\"}", VT_E_MISSING_FIELD,
         "is_default"},
        {"{\"policy\":\"a.b.c\",\"is_default\":true,\"fmspc\":\"00a06711\"}", VT_E_BAD_FIELD,
         "fmspc"},
        {"{\"policy\":\"a.b\",\"is_default\":true,\"fmspc\":\"00a067110000\"}", VT_E_BAD_FIELD,
         "policy"},
        {"{\"policy\":\"a.!!.c\",\"is_default\":true,\"fmspc\":\"00a067110000\"}", VT_E_BAD_FIELD,
         "policy"},
        {"{\"policy\":\"" JWT_HEAD "e30.c2ln\",\"is_default\":true,\"fmspc\":\"00a067110000\"}",
         VT_E_MISSING_FIELD, "policy.policy_payload"},
        {"{\"policy\":\"" JWT_HEAD ZERO_CLASS ".c2ln\",\"is_default\":false,"
         "\"fmspc\":\"00a067110000\"}",
         VT_E_BAD_FIELD, "policy.class_id"},
        {"{\"policy\":\"" JWT_HEAD TDQE_CLASS ".c2ln\",\"is_default\":false,"
         "\"fmspc\":\"00a067110000\"}",
         VT_E_BAD_FIELD, "policy.class_id"},
    };
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        vt_diag_init(&d);
        enum vt_err err =
            vt_cache_pccs_policy_parse((const uint8_t *)bads[i].body, strlen(bads[i].body), &p, &d);
        vt_cache_pccs_policy_cleanup(&p);
        if (err != bads[i].err || strcmp(d.check, bads[i].check) != 0) {
            fail_msg("%s: got %s (%s: %s), want %s (%s)", bads[i].body, vt_err_name(err), d.check,
                     d.detail, vt_err_name(bads[i].err), bads[i].check);
        }
    }
}

#define COL_HEAD "{\"platforms\":[],\"collaterals\":{\"version\":4,"
#define CERTS_EMPTY "\"certificates\":{\"SGX-PCK-Certificate-Issuer-Chain\":{}}"

static void test_upload_refusals(void **state)
{
    (void)state;
    const struct {
        const char *body;
        unsigned api;
        enum vt_err err;
        const char *check;
    } bads[] = {
        {"{", 4, VT_E_BAD_JSON, "platformcollateral"},
        {"{\"collaterals\":{}}", 4, VT_E_MISSING_FIELD, "platformcollateral"},
        {"{\"platforms\":[],\"collaterals\":{}}", 4, VT_E_MISSING_FIELD, "collaterals"},
        {"{\"platforms\":[],\"collaterals\":{\"version\":3,\"pck_certs\":[],\"tcbinfos\":[]"
         "," CERTS_EMPTY "}}",
         4, VT_E_BAD_FIELD, "collaterals.version"},
        {COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[],\"certificates\":{}}}", 4, VT_E_MISSING_FIELD,
         "certificates"},
        {COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[]," CERTS_EMPTY "}}", 4, VT_E_MISSING_FIELD,
         "collaterals"},
        {COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[{\"fmspc\":\"00a0671100\"}]," CERTS_EMPTY "}}", 4,
         VT_E_BAD_FIELD, "fmspc"},
        {COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[{\"fmspc\":\"00a067110000\",\"sgx_tcbinfo\":"
                  "\"x\"}]," CERTS_EMPTY "}}",
         4, VT_E_BAD_FIELD, "tcbinfos"},
        {COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[{\"fmspc\":\"00a067110000\",\"sgx_tcbinfo\":"
                  "{\"tcbInfo\":{},\"signature\":\"00\"}}]," CERTS_EMPTY "}}",
         4, VT_E_MISSING_FIELD, "certificates"},
        {COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[],\"qeidentity\":\"{}\"," CERTS_EMPTY "}}", 4,
         VT_E_MISSING_FIELD, "certificates"},
        {COL_HEAD
         "\"pck_certs\":[],\"tcbinfos\":[],\"pckcacrl\":{\"processorCrl\":\"00\"}," CERTS_EMPTY
         "}}",
         4, VT_E_MISSING_FIELD, "certificates"},
        {COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[],\"pckcacrl\":[]," CERTS_EMPTY "}}", 4,
         VT_E_BAD_FIELD, "pckcacrl"},
        {COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[],\"rootcacrl\":7," CERTS_EMPTY "}}", 4,
         VT_E_BAD_FIELD, "platformcollateral"},
        {COL_HEAD "\"pck_certs\":[{\"qe_id\":\"" X16 "\",\"pce_id\":\"0000\",\"enc_ppid\":\"\","
                  "\"platform_manifest\":\"AB\",\"certs\":[]}],\"tcbinfos\":[]," CERTS_EMPTY "}}",
         4, VT_E_UNSUPPORTED, "enc_ppid"},
        {COL_HEAD "\"pck_certs\":[{\"qe_id\":\"" X16
                  "\",\"pce_id\":\"0000\",\"enc_ppid\":\"" PPID_UPPER
                  "\",\"certs\":[]}],\"tcbinfos\":[]," CERTS_EMPTY "}}",
         4, VT_E_MISSING_FIELD, "certs"},
        {COL_HEAD
         "\"pck_certs\":[{\"qe_id\":\"" X16 "\",\"pce_id\":\"0000\",\"enc_ppid\":\"" PPID_UPPER
         "\",\"certs\":[{\"tcbm\":\"00\",\"cert\":\"x\"}]}],\"tcbinfos\":[]," CERTS_EMPTY "}}",
         4, VT_E_BAD_FIELD, "certs"},
        {COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[],\"certificates\":{"
                  "\"SGX-PCK-Certificate-Issuer-Chain\":{\"PROCESSOR\":\"a%0Ab\\tc\"}}}}",
         4, VT_E_BAD_FIELD, "certificates"},
    };
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        struct vt_pccs_upload u;
        struct vt_diag d;
        vt_diag_init(&d);
        enum vt_err err = vt_cache_pccs_upload_parse((const uint8_t *)bads[i].body,
                                                     strlen(bads[i].body), bads[i].api, &u, &d);
        if (err != bads[i].err || strcmp(d.check, bads[i].check) != 0) {
            fail_msg("%zu %s: got %s (%s: %s), want %s (%s)", i, bads[i].body, vt_err_name(err),
                     d.check, d.detail, vt_err_name(bads[i].err), bads[i].check);
        }
        assert_int_equal(u.n_items, 0);
        assert_null(u.items);
    }
}

/* The documents of an upload land under their keys with the headers the lazy fill would store;
 * a v3 upload's TCB info and identities under the v3 keys. (Bodies here are not vendor data: the
 * checks that refuse them run when the upload is stored.) */
static void test_upload_keys(void **state)
{
    (void)state;
    const char *body4 =
        COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[{\"fmspc\":\"00A067110000\","
                 "\"sgx_tcbinfo\": {\"tcbInfo\": {\"id\": \"SGX\", \"version\": 3},"
                 " \"signature\": \"ab\"},"
                 "\"tdx_tcbinfo_early\":{\"tcbInfo\":{\"id\":\"TDX\"},\"signature\":\"cd\"}}],"
                 "\"pckcacrl\":{\"platformCrl\":\"3082\"},\"qeidentity\":\"{\\\"q\\\":1}\","
                 "\"tdqeidentity\":\"\",\"rootcacrl\":\"3081\","
                 "\"certificates\":{\"SGX-PCK-Certificate-Issuer-Chain\":{\"PLATFORM\":"
                 "\"-----BEGIN CERTIFICATE-----\\nAB+/=\\n-----END CERTIFICATE-----\\n\"},"
                 "\"TCB-Info-Issuer-Chain\":\"A%20B\","
                 "\"SGX-Enclave-Identity-Issuer-Chain\":\"C%20D\"}}}";
    struct vt_pccs_upload u;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_cache_pccs_upload_parse((const uint8_t *)body4, strlen(body4), 4, &u, &d);
    if (err != VT_OK) {
        fail_msg("%s", d.detail);
    }
    const char *want[][3] = {
        {"/sgx/certification/v4/tcb?fmspc=00a067110000&update=standard",
         "TCB-Info-Issuer-Chain: A%20B\n",
         "{\"tcbInfo\":{\"id\":\"SGX\",\"version\":3},"
         "\"signature\":\"ab\"}"},
        {"/tdx/certification/v4/tcb?fmspc=00a067110000&update=early",
         "TCB-Info-Issuer-Chain: A%20B\n", NULL},
        {"/sgx/certification/v4/pckcrl?ca=platform",
         "SGX-PCK-CRL-Issuer-Chain: -----BEGIN%20CERTIFICATE-----%0AAB%2B%2F%3D%0A-----END%"
         "20CERTIFICATE-----%0A\n",
         "3082"},
        {"/sgx/certification/v4/rootcacrl", "", "3081"},
        {"/sgx/certification/v4/qe/identity?update=standard",
         "SGX-Enclave-Identity-Issuer-Chain: C%20D\n", "{\"q\":1}"},
    };
    assert_int_equal(u.n_items, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < u.n_items; i++) {
        assert_string_equal(u.items[i].key, want[i][0]);
        assert_string_equal(u.items[i].headers, want[i][1]);
        if (want[i][2] != NULL) {
            assert_int_equal(u.items[i].body_len, strlen(want[i][2]));
            assert_memory_equal(u.items[i].body, want[i][2], u.items[i].body_len);
        }
    }
    vt_cache_pccs_upload_cleanup(&u);

    const char *body3 = "{\"platforms\":[],\"collaterals\":{\"pck_certs\":[],\"tcbinfos\":["
                        "{\"fmspc\":\"00606a000000\",\"tcbinfo\":{\"tcbInfo\":{\"version\":2},"
                        "\"signature\":\"00\"}}],\"qveidentity\":\"{}\",\"certificates\":{"
                        "\"SGX-PCK-Certificate-Issuer-Chain\":{},"
                        "\"SGX-TCB-Info-Issuer-Chain\":\"E\","
                        "\"SGX-Enclave-Identity-Issuer-Chain\":\"F\"}}}";
    assert_int_equal(vt_cache_pccs_upload_parse((const uint8_t *)body3, strlen(body3), 3, &u, &d),
                     VT_OK);
    assert_int_equal(u.n_items, 2);
    assert_string_equal(u.items[0].key,
                        "/sgx/certification/v3/tcb?fmspc=00606a000000&update=standard");
    assert_string_equal(u.items[0].headers, "TCB-Info-Issuer-Chain: E\n");
    assert_string_equal(u.items[1].key, "/sgx/certification/v3/qve/identity?update=standard");
    vt_cache_pccs_upload_cleanup(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registration),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_upload_refusals),
        cmocka_unit_test(test_upload_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
