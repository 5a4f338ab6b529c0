/*
 * The parsers of PCCS's request bodies: PCKIDRetrievalTool's registration (byte for byte as its
 * generate_json_message_body writes it, in both modes), the PCCS admin tool's appraisal policy
 * upload, and every refusal of a platformcollateral upload that needs no vendor data (the
 * uploads of real collateral are in tests/integration/cache_pccs.sh). Every refusal names its
 * field by its JSON path ("$.collaterals.pck_certs[0].tcbm", net/json_fields.h's style).
 *
 * test_field_refusals: every member each body's parser reads, missing and of a wrong type (and
 * empty or malformed where that is refused), from a body the parser takes: the parser's code and
 * path, then the same body over HTTP to a cache (400, the problem's detail starting with the
 * path) that stores nothing (its items, platforms and policies unchanged). The upload's base body
 * carries a PCK certificate of the test PKI (src/attester/sim), so that certificate selection
 * reads the TCB info's levels.
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
#include <jansson.h>

#include "cache/cache.h"
#include "dcap_sim.h"
#include "net/http.h"

/* The detail starts with path and ": "; the check is path (cut at VT_DIAG_CHECK_MAX). */
static bool names_path(const struct vt_diag *d, const char *path)
{
    size_t n = strlen(path);
    return strncmp(d->detail, path, n) == 0 && d->detail[n] == ':' &&
           strncmp(d->check, path, sizeof(d->check) - 1) == 0;
}

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
    assert_true(names_path(&d, "$.enc_ppid"));
    assert_non_null(strstr(d.detail, "platform manifest"));

    const struct {
        const char *body;
        enum vt_err err;
        const char *check;
    } bads[] = {
        {"", VT_E_BAD_JSON, "$"},
        {"[]", VT_E_BAD_JSON, "$"},
        {"{\"pce_id\":\"0000\"}", VT_E_MISSING_FIELD, "$.qe_id"},
        {"{\"qe_id\":\"\",\"pce_id\":\"0000\"}", VT_E_MISSING_FIELD, "$.qe_id"},
        {"{\"qe_id\":\"" X16 X16 "00\",\"pce_id\":\"0000\"}", VT_E_BAD_FIELD, "$.qe_id"},
        {"{\"qe_id\":\"" X16 "\",\"pce_id\":\"000\"}", VT_E_BAD_FIELD, "$.pce_id"},
        {"{\"qe_id\":\"" X16 "\",\"pce_id\":0}", VT_E_BAD_FIELD, "$.pce_id"},
        {"{\"qe_id\":\"" X16 "\",\"pce_id\":\"0000\",\"pce_svn\":\"0d00\"}", VT_E_MISSING_FIELD,
         "$.cpu_svn"},
        {"{\"qe_id\":\"" X16 "\",\"pce_id\":\"0000\",\"cpu_svn\":\"" X16 X16
         "\",\"pce_svn\":\"0d00\"}",
         VT_E_MISSING_FIELD, "$.enc_ppid"},
        {"{\"qe_id\":\"" X16 "\",\"pce_id\":\"0000\",\"cpu_svn\":\"" X16 X16
         "\",\"pce_svn\":\"0d00\",\"enc_ppid\":\"00\"}",
         VT_E_BAD_FIELD, "$.enc_ppid"},
        {"{\"qe_id\":\"" X16 "\",\"pce_id\":\"0000\",\"cpu_svn\":\"" X16 X16
         "\",\"pce_svn\":\"0d00\",\"enc_ppid\":\"" PPID_UPPER "\",\"platform_manifest\":7}",
         VT_E_BAD_FIELD, "$.platform_manifest"},
        {"{\"qe_id\":\"" X16 "\",\"qe_id\":\"" X16 "\",\"pce_id\":\"0000\"}", VT_E_BAD_JSON, "$"},
    };
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        vt_diag_init(&d);
        enum vt_err err = vt_cache_pccs_platform_parse((const uint8_t *)bads[i].body,
                                                       strlen(bads[i].body), &p, &d);
        if (err != bads[i].err || !names_path(&d, bads[i].check)) {
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
        {"nope", VT_E_BAD_JSON, "$"},
        {"{\"is_default\":true,\"fmspc\":\"00a067110000\"}", VT_E_MISSING_FIELD, "$.policy"},
        {"{\"policy\":\"a.b.c\",\"fmspc\":\"00a067110000\"}", VT_E_MISSING_FIELD, "$.is_default"},
        {"{\"policy\":\"a.b.c\",\"is_default\":1,\"fmspc\":\"00a067110000\"}", VT_E_BAD_FIELD,
         "$.is_default"},
        {"{\"policy\":\"a.b.c\",\"is_default\":true,\"fmspc\":\"00a06711\"}", VT_E_BAD_FIELD,
         "$.fmspc"},
        {"{\"policy\":\"a.b\",\"is_default\":true,\"fmspc\":\"00a067110000\"}", VT_E_BAD_FIELD,
         "$.policy"},
        {"{\"policy\":\"a.!!.c\",\"is_default\":true,\"fmspc\":\"00a067110000\"}", VT_E_BAD_FIELD,
         "$.policy<payload>"},
        {"{\"policy\":\"" JWT_HEAD "e30.c2ln\",\"is_default\":true,\"fmspc\":\"00a067110000\"}",
         VT_E_MISSING_FIELD, "$.policy<payload>.policy_payload"},
        /* payloads [] and {"policy_payload":7} */
        {"{\"policy\":\"" JWT_HEAD "W10.c2ln\",\"is_default\":true,\"fmspc\":\"00a067110000\"}",
         VT_E_BAD_FIELD, "$.policy<payload>"},
        {"{\"policy\":\"" JWT_HEAD "eyJwb2xpY3lfcGF5bG9hZCI6N30.c2ln\",\"is_default\":true,"
         "\"fmspc\":\"00a067110000\"}",
         VT_E_BAD_FIELD, "$.policy<payload>.policy_payload"},
        {"{\"policy\":\"" JWT_HEAD ZERO_CLASS ".c2ln\",\"is_default\":false,"
         "\"fmspc\":\"00a067110000\"}",
         VT_E_BAD_FIELD,
         "$.policy<payload>.policy_payload<json>.policy_array[0].environment.class_id"},
        {"{\"policy\":\"" JWT_HEAD TDQE_CLASS ".c2ln\",\"is_default\":false,"
         "\"fmspc\":\"00a067110000\"}",
         VT_E_BAD_FIELD, "$.policy<payload>.policy_payload<json>.policy_array"},
    };
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        vt_diag_init(&d);
        enum vt_err err =
            vt_cache_pccs_policy_parse((const uint8_t *)bads[i].body, strlen(bads[i].body), &p, &d);
        vt_cache_pccs_policy_cleanup(&p);
        if (err != bads[i].err || !names_path(&d, bads[i].check)) {
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
        {"{", 4, VT_E_BAD_JSON, "$"},
        {"{\"collaterals\":{}}", 4, VT_E_MISSING_FIELD, "$.platforms"},
        {"{\"platforms\":[],\"collaterals\":{}}", 4, VT_E_MISSING_FIELD, "$.collaterals.pck_certs"},
        {"{\"platforms\":[],\"collaterals\":{\"version\":3,\"pck_certs\":[],\"tcbinfos\":[]"
         "," CERTS_EMPTY "}}",
         4, VT_E_BAD_FIELD, "$.collaterals.version"},
        {COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[],\"certificates\":{}}}", 4, VT_E_MISSING_FIELD,
         "$.collaterals.certificates.SGX-PCK-Certificate-Issuer-Chain"},
        {COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[]," CERTS_EMPTY "}}", 4, VT_E_MISSING_FIELD,
         "$.collaterals"},
        {COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[{\"fmspc\":\"00a0671100\"}]," CERTS_EMPTY "}}", 4,
         VT_E_BAD_FIELD, "$.collaterals.tcbinfos[0].fmspc"},
        {COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[{\"fmspc\":\"00a067110000\",\"sgx_tcbinfo\":"
                  "\"x\"}]," CERTS_EMPTY "}}",
         4, VT_E_BAD_FIELD, "$.collaterals.tcbinfos[0].sgx_tcbinfo"},
        {COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[{\"fmspc\":\"00a067110000\",\"sgx_tcbinfo\":"
                  "{\"tcbInfo\":{},\"signature\":\"00\"}}]," CERTS_EMPTY "}}",
         4, VT_E_MISSING_FIELD, "$.collaterals.certificates.TCB-Info-Issuer-Chain"},
        {COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[],\"qeidentity\":\"{}\"," CERTS_EMPTY "}}", 4,
         VT_E_MISSING_FIELD, "$.collaterals.certificates.SGX-Enclave-Identity-Issuer-Chain"},
        {COL_HEAD
         "\"pck_certs\":[],\"tcbinfos\":[],\"pckcacrl\":{\"processorCrl\":\"00\"}," CERTS_EMPTY
         "}}",
         4, VT_E_MISSING_FIELD,
         "$.collaterals.certificates.SGX-PCK-Certificate-Issuer-Chain.PROCESSOR"},
        {COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[],\"pckcacrl\":[]," CERTS_EMPTY "}}", 4,
         VT_E_BAD_FIELD, "$.collaterals.pckcacrl"},
        {COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[],\"rootcacrl\":7," CERTS_EMPTY "}}", 4,
         VT_E_BAD_FIELD, "$.collaterals.rootcacrl"},
        {COL_HEAD "\"pck_certs\":[{\"qe_id\":\"" X16 "\",\"pce_id\":\"0000\",\"enc_ppid\":\"\","
                  "\"platform_manifest\":\"AB\",\"certs\":[]}],\"tcbinfos\":[]," CERTS_EMPTY "}}",
         4, VT_E_UNSUPPORTED, "$.collaterals.pck_certs[0].enc_ppid"},
        {COL_HEAD "\"pck_certs\":[{\"qe_id\":\"" X16
                  "\",\"pce_id\":\"0000\",\"enc_ppid\":\"" PPID_UPPER
                  "\",\"certs\":[]}],\"tcbinfos\":[]," CERTS_EMPTY "}}",
         4, VT_E_MISSING_FIELD, "$.collaterals.pck_certs[0].certs"},
        {COL_HEAD
         "\"pck_certs\":[{\"qe_id\":\"" X16 "\",\"pce_id\":\"0000\",\"enc_ppid\":\"" PPID_UPPER
         "\",\"certs\":[{\"tcbm\":\"00\",\"cert\":\"x\"}]}],\"tcbinfos\":[]," CERTS_EMPTY "}}",
         4, VT_E_BAD_FIELD, "$.collaterals.pck_certs[0].certs[0].tcbm"},
        {COL_HEAD "\"pck_certs\":[],\"tcbinfos\":[],\"certificates\":{"
                  "\"SGX-PCK-Certificate-Issuer-Chain\":{\"PROCESSOR\":\"a%0Ab\\tc\"}}}}",
         4, VT_E_BAD_FIELD,
         "$.collaterals.certificates.SGX-PCK-Certificate-Issuer-Chain.PROCESSOR"},
    };
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        struct vt_pccs_upload u;
        struct vt_diag d;
        vt_diag_init(&d);
        enum vt_err err = vt_cache_pccs_upload_parse((const uint8_t *)bads[i].body,
                                                     strlen(bads[i].body), bads[i].api, &u, &d);
        if (err != bads[i].err || !names_path(&d, bads[i].check)) {
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

/* ---- every field of every body, missing and mistyped, by parser and over HTTP ---- */

#define T0 1771600000
#define QE X16 X16
#define PPID_LOWER_X16 "0123456789abcdef"

enum body_kind { REG, POL, UP4, UP3 };

struct fx {
    char dir[64];
    struct vt_cache *c;
    struct vt_http_server *srv;
    char url[64], token[64];
    json_t *base[4];
};

static json_t *load(const char *text)
{
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    if (o == NULL) {
        fail_msg("%s: %s", je.text, text);
    }
    return o;
}

/* The upload's base body: one platform whose raw TCB is above its one PCK certificate's (so the
 * certificate is selected through the TCB info's levels), every document kind, every chain. */
static json_t *upload_base(void)
{
    struct vt_sim_pki_params pp;
    vt_sim_pki_params_default(&pp, VT_TEE_SGX, T0);
    struct vt_sim_pki *pki = vt_sim_pki_new(&pp);
    assert_non_null(pki);
    struct vt_sim_blob pem = {0};
    assert_true(vt_sim_pki_cert_pem(pki, VT_SIM_CERT_PCK_LEAF, &pem));
    struct vt_buf cert;
    vt_buf_init(&cert, 1u << 20);
    assert_int_equal(vt_http_percent_encode(pem.data, pem.len, &cert), VT_OK);
    const struct vt_sim_pck_params *k = &pki->params.pck;
    char tcbm[37], raw[33], comps[512] = "";
    vt_hex_encode(k->cpusvn, 16, tcbm);
    snprintf(tcbm + 32, 5, "%02x%02x", k->pcesvn & 0xffu, (unsigned)k->pcesvn >> 8);
    memcpy(raw, tcbm, 32);
    raw[31] = '9'; /* the last component above the certificate's */
    raw[32] = '\0';
    size_t cl = 0;
    for (size_t i = 0; i < 16; i++) {
        cl += (size_t)snprintf(comps + cl, sizeof(comps) - cl, "%s{\"svn\":%u}", i ? "," : "",
                               k->tcb_comps[i]);
    }
    char fmspc[13];
    vt_hex_encode(k->fmspc, 6, fmspc);
    size_t cap = cert.len + 8192;
    char *text = malloc(cap);
    assert_non_null(text);
    snprintf(
        text, cap,
        "{\"platforms\":[{\"qe_id\":\"" QE "\",\"pce_id\":\"0000\",\"cpu_svn\":\"%s\","
        "\"pce_svn\":\"%.4s\",\"enc_ppid\":\"" PPID_UPPER "\",\"platform_manifest\":\"\"}],"
        "\"collaterals\":{\"version\":4,"
        "\"pck_certs\":[{\"qe_id\":\"" QE "\",\"pce_id\":\"0000\",\"enc_ppid\":\"" PPID_UPPER "\","
        "\"platform_manifest\":\"\",\"certs\":[{\"tcb\":{},\"tcbm\":\"%s\",\"cert\":\"%s\"}]}],"
        "\"tcbinfos\":[{\"fmspc\":\"%s\",\"sgx_tcbinfo\":{\"tcbInfo\":{\"tcbType\":0,"
        "\"tcbLevels\":[{\"tcb\":{\"sgxtcbcomponents\":[%s],\"pcesvn\":%u}}]},\"signature\":\"00\"}"
        ","
        "\"tdx_tcbinfo\":{\"tcbInfo\":{},\"signature\":\"00\"}}],"
        "\"pckcacrl\":{\"processorCrl\":\"3082\",\"platformCrl\":\"\"},"
        "\"qeidentity\":\"{}\",\"qeidentity_early\":\"\",\"qveidentity\":\"{}\","
        "\"qveidentity_early\":\"\",\"tdqeidentity\":\"{}\",\"tdqeidentity_early\":\"\","
        "\"rootcacrl\":\"3081\",\"certificates\":{\"SGX-PCK-Certificate-Issuer-Chain\":"
        "{\"PROCESSOR\":\"A%%20B\",\"PLATFORM\":\"\"},\"TCB-Info-Issuer-Chain\":\"C%%20D\","
        "\"SGX-Enclave-Identity-Issuer-Chain\":\"E%%20F\"}}}",
        raw, tcbm + 32, tcbm, (const char *)cert.data, fmspc, comps, k->pcesvn);
    json_t *o = load(text);
    free(text);
    vt_buf_cleanup(&cert);
    vt_sim_blob_cleanup(&pem);
    vt_sim_pki_free(pki);
    return o;
}

/* The v3 form of the same file: tcbinfo, SGX-TCB-Info-Issuer-Chain, no version, no TD QE. */
static json_t *upload_v3(const json_t *v4)
{
    json_t *o = json_deep_copy(v4);
    json_t *col = json_object_get(o, "collaterals");
    json_t *t = json_array_get(json_object_get(col, "tcbinfos"), 0);
    json_object_set(t, "tcbinfo", json_object_get(t, "sgx_tcbinfo"));
    json_object_del(t, "sgx_tcbinfo");
    json_object_del(t, "tdx_tcbinfo");
    json_t *certs = json_object_get(col, "certificates");
    json_object_set(certs, "SGX-TCB-Info-Issuer-Chain",
                    json_object_get(certs, "TCB-Info-Issuer-Chain"));
    json_object_del(certs, "TCB-Info-Issuer-Chain");
    json_object_del(col, "version");
    json_object_del(col, "tdqeidentity");
    json_object_del(col, "tdqeidentity_early");
    return o;
}

static const char *const routes[4][2] = {
    {"POST", "/sgx/certification/v4/platforms"},
    {"PUT", "/sgx/certification/v4/appraisalpolicy"},
    {"PUT", "/sgx/certification/v4/platformcollateral"},
    {"PUT", "/sgx/certification/v3/platformcollateral"},
};

/* Send body to the route of kind; the status, and the problem's detail into detail. */
static long send_body(struct fx *f, enum body_kind kind, const char *body, char *detail, size_t cap)
{
    char url[160], auth[128];
    snprintf(url, sizeof(url), "%s%s", f->url, routes[kind][1]);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", f->token);
    const char *headers[] = {"Content-Type: application/json", auth, NULL};
    struct vt_http_request_opts o = {.timeout_ms = 60000,
                                     .method = routes[kind][0],
                                     .body = (const uint8_t *)body,
                                     .body_len = strlen(body),
                                     .headers = headers};
    struct vt_http_response r;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_http_request(url, &o, &r, &d), VT_OK);
    json_t *pj = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
    const char *det = json_string_value(json_object_get(pj, "detail"));
    snprintf(detail, cap, "%s", det ? det : "");
    json_decref(pj);
    long st = r.status;
    vt_http_response_cleanup(&r);
    return st;
}

/* What a request could change: rows of items, platforms and policies, and their contents. */
static void state_of(struct fx *f, int64_t out[3])
{
    static const char *const q[3] = {
        "SELECT COUNT(*) + COALESCE(SUM(length(body)), 0) * 1000 FROM vt_items",
        ("SELECT COUNT(*) + COALESCE(SUM(last_seen + pcesvn + length(cpusvn)), 0) * 1000"
         " FROM vt_platforms"),
        "SELECT COUNT(*) + COALESCE(SUM(is_default + created), 0) * 1000 FROM vt_policies",
    };
    for (size_t i = 0; i < 3; i++) {
        out[i] = -1;
        assert_int_equal(
            vt_store_exec(f->c->store, q[i], NULL, 0, vt_store_row_int, &out[i], NULL, NULL),
            VT_OK);
    }
}

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/vt-cache-pccs-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char db[128];
    snprintf(db, sizeof(db), "sqlite:%s/cache.db", f->dir);
    struct vt_cache_config cfg = {.db = db, .mode = VT_CACHE_OFFLINE, .clock_base = T0};
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cache_open(&cfg, &f->c, &d), VT_OK);
    assert_int_equal(vt_cache_token_create(f->c, "admin", "test", f->token, &d), VT_OK);
    struct vt_http_server_opts so = {
        .host = "127.0.0.1", .threads = 2, .route = vt_cache_http_route};
    assert_int_equal(vt_http_server_start(&so, vt_cache_http_handler, f->c, &f->srv, &d), VT_OK);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u", vt_http_server_port(f->srv));
    f->base[REG] = load(tool_body);
    f->base[POL] = load("{\"policy\": \"" JWT_HEAD SGX_CLASS ".c2ln\", \"is_default\": true,"
                        " \"fmspc\": \"00a067110000\"}");
    f->base[UP4] = upload_base();
    f->base[UP3] = upload_v3(f->base[UP4]);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    vt_http_server_stop(f->srv);
    vt_cache_close(f->c);
    for (size_t i = 0; i < 4; i++) {
        json_decref(f->base[i]);
    }
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* A copy of base, as text, with the member at loc ("a/b/0/c": members and array indexes)
 * removed (value NULL) or set to the JSON text value. */
static char *mutate(const json_t *base, const char *loc, const char *value)
{
    json_t *o = json_deep_copy(base);
    char buf[160];
    snprintf(buf, sizeof(buf), "%s", loc);
    json_t *parent = o;
    char *name = buf;
    for (char *slash; (slash = strchr(name, '/')) != NULL; name = slash + 1) {
        *slash = '\0';
        parent = json_is_array(parent) ? json_array_get(parent, strtoul(name, NULL, 10))
                                       : json_object_get(parent, name);
        if (parent == NULL) {
            fail_msg("%s: no %s", loc, name);
        }
    }
    json_t *v = value ? json_loads(value, JSON_DECODE_ANY, NULL) : NULL;
    assert_true(value == NULL || v != NULL);
    int r;
    if (json_is_array(parent)) {
        size_t i = strtoul(name, NULL, 10);
        r = v ? json_array_set_new(parent, i, v) : json_array_remove(parent, i);
    } else {
        r = v ? json_object_set_new(parent, name, v) : json_object_del(parent, name);
    }
    if (r != 0) {
        fail_msg("%s: cannot %s", loc, value ? "set" : "remove");
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    assert_non_null(s);
    return s;
}

static enum vt_err parse(enum body_kind kind, const char *body, struct vt_diag *d)
{
    const uint8_t *b = (const uint8_t *)body;
    size_t n = strlen(body);
    enum vt_err err;
    if (kind == REG) {
        struct vt_pccs_platform p;
        return vt_cache_pccs_platform_parse(b, n, &p, d);
    }
    if (kind == POL) {
        struct vt_pccs_policy p;
        err = vt_cache_pccs_policy_parse(b, n, &p, d);
        vt_cache_pccs_policy_cleanup(&p);
        return err;
    }
    struct vt_pccs_upload u;
    err = vt_cache_pccs_upload_parse(b, n, kind == UP3 ? 3 : 4, &u, d);
    if (err != VT_OK) {
        assert_null(u.items);
        assert_null(u.platforms);
    }
    vt_cache_pccs_upload_cleanup(&u);
    return err;
}

#define M VT_E_MISSING_FIELD
#define B VT_E_BAD_FIELD
#define PCK0 "collaterals/pck_certs/0/"
#define PCK0P "$.collaterals.pck_certs[0]."
#define CERT0 PCK0 "certs/0/"
#define CERT0P PCK0P "certs[0]."
#define CHAINS "collaterals/certificates/"
#define CHAINSP "$.collaterals.certificates."
#define PCKCH CHAINS "SGX-PCK-Certificate-Issuer-Chain"
#define PCKCHP CHAINSP "SGX-PCK-Certificate-Issuer-Chain"
#define TI0 "collaterals/tcbinfos/0/"
#define TI0P "$.collaterals.tcbinfos[0]."
#define SGXTI TI0 "sgx_tcbinfo/"
#define SGXTIP TI0P "sgx_tcbinfo."
#define LV0 SGXTI "tcbInfo/tcbLevels/0/"
#define LV0P SGXTIP "tcbInfo.tcbLevels[0]."
#define PL0 "platforms/0/"
#define PL0P "$.platforms[0]."

/* loc NULL: value is the whole body; value NULL: the member removed; err VT_OK: any failure. */
static const struct field_case {
    enum body_kind kind;
    const char *loc, *value;
    enum vt_err err;
    const char *path;
} field_cases[] = {
    /* POST platforms: PCKIDRetrievalTool's body */
    {REG, NULL, "[]", VT_E_BAD_JSON, "$"},
    {REG, NULL, "{", VT_E_BAD_JSON, "$"},
    {REG, "qe_id", NULL, M, "$.qe_id"},
    {REG, "qe_id", "7", B, "$.qe_id"},
    {REG, "qe_id", "null", B, "$.qe_id"},
    {REG, "qe_id", "\"\"", M, "$.qe_id"},
    {REG, "qe_id", "\"xyz\"", B, "$.qe_id"},
    {REG, "pce_id", NULL, M, "$.pce_id"},
    {REG, "pce_id", "0", B, "$.pce_id"},
    {REG, "pce_id", "\"000\"", B, "$.pce_id"},
    {REG, "cpu_svn", NULL, M, "$.cpu_svn"},
    {REG, "cpu_svn", "11", B, "$.cpu_svn"},
    {REG, "cpu_svn", "\"\"", M, "$.cpu_svn"},
    {REG, "cpu_svn", "\"0b\"", B, "$.cpu_svn"},
    {REG, "pce_svn", NULL, M, "$.pce_svn"},
    {REG, "pce_svn", "13", B, "$.pce_svn"},
    {REG, "pce_svn", "[]", B, "$.pce_svn"},
    {REG, "enc_ppid", NULL, M, "$.enc_ppid"},
    {REG, "enc_ppid", "{}", B, "$.enc_ppid"},
    {REG, "enc_ppid", "\"\"", M, "$.enc_ppid"},
    {REG, "enc_ppid", "\"00\"", B, "$.enc_ppid"},
    {REG, "platform_manifest", "7", B, "$.platform_manifest"},
    {REG, "platform_manifest", "false", B, "$.platform_manifest"},
    /* PUT appraisalpolicy */
    {POL, NULL, "nope", VT_E_BAD_JSON, "$"},
    {POL, NULL, "\"policy\"", VT_E_BAD_JSON, "$"},
    {POL, "policy", NULL, M, "$.policy"},
    {POL, "policy", "7", B, "$.policy"},
    {POL, "policy", "\"\"", M, "$.policy"},
    {POL, "policy", "\"a.b\"", B, "$.policy"},
    {POL, "is_default", NULL, M, "$.is_default"},
    {POL, "is_default", "1", B, "$.is_default"},
    {POL, "is_default", "\"true\"", B, "$.is_default"},
    {POL, "fmspc", NULL, M, "$.fmspc"},
    {POL, "fmspc", "10616000000", B, "$.fmspc"},
    {POL, "fmspc", "\"00a06711\"", B, "$.fmspc"},
    /* PUT platformcollateral (v4): the head */
    {UP4, NULL, "[]", VT_E_BAD_JSON, "$"},
    {UP4, "platforms", NULL, M, "$.platforms"},
    {UP4, "platforms", "{}", B, "$.platforms"},
    {UP4, "collaterals", NULL, M, "$.collaterals"},
    {UP4, "collaterals", "[]", B, "$.collaterals"},
    {UP4, "collaterals/version", NULL, M, "$.collaterals.version"},
    {UP4, "collaterals/version", "\"4\"", B, "$.collaterals.version"},
    {UP4, "collaterals/version", "3", B, "$.collaterals.version"},
    {UP4, "collaterals/pck_certs", NULL, M, "$.collaterals.pck_certs"},
    {UP4, "collaterals/pck_certs", "{}", B, "$.collaterals.pck_certs"},
    {UP4, "collaterals/tcbinfos", NULL, M, "$.collaterals.tcbinfos"},
    {UP4, "collaterals/tcbinfos", "\"x\"", B, "$.collaterals.tcbinfos"},
    {UP4, "collaterals/certificates", NULL, M, "$.collaterals.certificates"},
    {UP4, "collaterals/certificates", "[]", B, "$.collaterals.certificates"},
    /* the chains */
    {UP4, PCKCH, NULL, M, PCKCHP},
    {UP4, PCKCH, "\"x\"", B, PCKCHP},
    {UP4, PCKCH "/PROCESSOR", NULL, M, PCKCHP ".PROCESSOR"},
    {UP4, PCKCH "/PROCESSOR", "\"\"", M, PCKCHP ".PROCESSOR"},
    {UP4, PCKCH "/PROCESSOR", "7", B, PCKCHP ".PROCESSOR"},
    {UP4, PCKCH "/PROCESSOR", "\"a\\tb\"", B, PCKCHP ".PROCESSOR"},
    {UP4, PCKCH "/PLATFORM", "[]", B, PCKCHP ".PLATFORM"},
    {UP4, CHAINS "TCB-Info-Issuer-Chain", NULL, M, CHAINSP "TCB-Info-Issuer-Chain"},
    {UP4, CHAINS "TCB-Info-Issuer-Chain", "7", B, CHAINSP "TCB-Info-Issuer-Chain"},
    {UP4, CHAINS "SGX-Enclave-Identity-Issuer-Chain", NULL, M,
     CHAINSP "SGX-Enclave-Identity-Issuer-Chain"},
    {UP4, CHAINS "SGX-Enclave-Identity-Issuer-Chain", "{}", B,
     CHAINSP "SGX-Enclave-Identity-Issuer-Chain"},
    /* pck_certs[] */
    {UP4, "collaterals/pck_certs/0", "\"x\"", B, "$.collaterals.pck_certs[0]"},
    {UP4, PCK0 "qe_id", NULL, M, PCK0P "qe_id"},
    {UP4, PCK0 "qe_id", "7", B, PCK0P "qe_id"},
    {UP4, PCK0 "pce_id", NULL, M, PCK0P "pce_id"},
    {UP4, PCK0 "pce_id", "[]", B, PCK0P "pce_id"},
    {UP4, PCK0 "enc_ppid", NULL, VT_E_UNSUPPORTED, PCK0P "enc_ppid"},
    {UP4, PCK0 "enc_ppid", "7", B, PCK0P "enc_ppid"},
    {UP4, PCK0 "platform_manifest", "7", B, PCK0P "platform_manifest"},
    {UP4, PCK0 "cpu_svn", "\"0b0b\"", B, PCK0P "cpu_svn"},
    {UP4, PCK0 "certs", NULL, M, PCK0P "certs"},
    {UP4, PCK0 "certs", "{}", B, PCK0P "certs"},
    {UP4, PCK0 "certs", "[]", M, PCK0P "certs"},
    {UP4, PCK0 "certs/0", "\"x\"", B, PCK0P "certs[0]"},
    {UP4, CERT0 "tcbm", NULL, M, CERT0P "tcbm"},
    {UP4, CERT0 "tcbm", "7", B, CERT0P "tcbm"},
    {UP4, CERT0 "tcbm", "\"00\"", B, CERT0P "tcbm"},
    {UP4, CERT0 "cert", NULL, M, CERT0P "cert"},
    {UP4, CERT0 "cert", "7", B, CERT0P "cert"},
    {UP4, CERT0 "cert", "\"x\"", VT_OK, CERT0P "cert"},
    {UP4, CERT0 "cert", "\"%zz\"", B, CERT0P "cert"},
    /* platforms[] */
    {UP4, "platforms/0", "7", B, "$.platforms[0]"},
    {UP4, PL0 "qe_id", NULL, M, PL0P "qe_id"},
    {UP4, PL0 "qe_id", "7", B, PL0P "qe_id"},
    {UP4, PL0 "pce_id", NULL, M, PL0P "pce_id"},
    {UP4, PL0 "pce_id", "7", B, PL0P "pce_id"},
    {UP4, PL0 "cpu_svn", NULL, M, PL0P "cpu_svn"},
    {UP4, PL0 "cpu_svn", "7", B, PL0P "cpu_svn"},
    {UP4, PL0 "pce_svn", NULL, M, PL0P "pce_svn"},
    {UP4, PL0 "pce_svn", "7", B, PL0P "pce_svn"},
    {UP4, PL0 "enc_ppid", "7", B, PL0P "enc_ppid"},
    {UP4, PL0 "platform_manifest", "7", B, PL0P "platform_manifest"},
    /* tcbinfos[], and the levels certificate selection reads */
    {UP4, "collaterals/tcbinfos/0", "7", B, "$.collaterals.tcbinfos[0]"},
    {UP4, "collaterals/tcbinfos", "[]", M, "$.collaterals.tcbinfos"},
    {UP4, TI0 "fmspc", NULL, M, TI0P "fmspc"},
    {UP4, TI0 "fmspc", "7", B, TI0P "fmspc"},
    {UP4, TI0 "fmspc", "\"00a0671100\"", B, TI0P "fmspc"},
    {UP4, TI0 "sgx_tcbinfo", NULL, M, TI0P "sgx_tcbinfo"},
    {UP4, TI0 "sgx_tcbinfo", "\"x\"", B, TI0P "sgx_tcbinfo"},
    {UP4, TI0 "sgx_tcbinfo_early", "7", B, TI0P "sgx_tcbinfo_early"},
    {UP4, TI0 "tdx_tcbinfo", "[]", B, TI0P "tdx_tcbinfo"},
    {UP4, TI0 "tdx_tcbinfo_early", "7", B, TI0P "tdx_tcbinfo_early"},
    {UP4, TI0 "tdx_tcbinfo/tcbInfo", NULL, M, TI0P "tdx_tcbinfo.tcbInfo"},
    {UP4, SGXTI "tcbInfo", NULL, M, SGXTIP "tcbInfo"},
    {UP4, SGXTI "tcbInfo", "\"x\"", B, SGXTIP "tcbInfo"},
    {UP4, SGXTI "signature", NULL, M, SGXTIP "signature"},
    {UP4, SGXTI "signature", "7", B, SGXTIP "signature"},
    {UP4, SGXTI "tcbInfo/tcbType", NULL, M, SGXTIP "tcbInfo.tcbType"},
    {UP4, SGXTI "tcbInfo/tcbType", "\"0\"", B, SGXTIP "tcbInfo.tcbType"},
    {UP4, SGXTI "tcbInfo/tcbType", "1", VT_E_UNSUPPORTED, SGXTIP "tcbInfo.tcbType"},
    {UP4, SGXTI "tcbInfo/tcbLevels", NULL, M, SGXTIP "tcbInfo.tcbLevels"},
    {UP4, SGXTI "tcbInfo/tcbLevels", "{}", B, SGXTIP "tcbInfo.tcbLevels"},
    {UP4, SGXTI "tcbInfo/tcbLevels", "[]", VT_E_NOT_FOUND, "$.platforms[0]"},
    {UP4, SGXTI "tcbInfo/tcbLevels/0", "7", B, SGXTIP "tcbInfo.tcbLevels[0]"},
    {UP4, LV0 "tcb", NULL, M, LV0P "tcb"},
    {UP4, LV0 "tcb", "[]", B, LV0P "tcb"},
    {UP4, LV0 "tcb/pcesvn", NULL, M, LV0P "tcb.pcesvn"},
    {UP4, LV0 "tcb/pcesvn", "\"13\"", B, LV0P "tcb.pcesvn"},
    {UP4, LV0 "tcb/pcesvn", "65536", B, LV0P "tcb.pcesvn"},
    {UP4, LV0 "tcb/sgxtcbcomponents", "7", B, LV0P "tcb.sgxtcbcomponents"},
    {UP4, LV0 "tcb/sgxtcbcomponents", NULL, M, LV0P "tcb.sgxtcbcomp01svn"},
    {UP4, LV0 "tcb/sgxtcbcomponents/15", NULL, M, LV0P "tcb.sgxtcbcomponents[15]"},
    {UP4, LV0 "tcb/sgxtcbcomponents/0", "7", B, LV0P "tcb.sgxtcbcomponents[0]"},
    {UP4, LV0 "tcb/sgxtcbcomponents/0/svn", NULL, M, LV0P "tcb.sgxtcbcomponents[0].svn"},
    {UP4, LV0 "tcb/sgxtcbcomponents/0/svn", "\"9\"", B, LV0P "tcb.sgxtcbcomponents[0].svn"},
    {UP4, LV0 "tcb/sgxtcbcomponents/0/svn", "256", B, LV0P "tcb.sgxtcbcomponents[0].svn"},
    /* the documents held as strings */
    {UP4, "collaterals/pckcacrl", "[]", B, "$.collaterals.pckcacrl"},
    {UP4, "collaterals/pckcacrl/processorCrl", "7", B, "$.collaterals.pckcacrl.processorCrl"},
    {UP4, "collaterals/pckcacrl/platformCrl", "{}", B, "$.collaterals.pckcacrl.platformCrl"},
    {UP4, "collaterals/pckcacrl/platformCrl", "\"3082\"", M, PCKCHP ".PLATFORM"},
    {UP4, "collaterals/rootcacrl", "7", B, "$.collaterals.rootcacrl"},
    {UP4, "collaterals/qeidentity", "{}", B, "$.collaterals.qeidentity"},
    {UP4, "collaterals/qeidentity_early", "7", B, "$.collaterals.qeidentity_early"},
    {UP4, "collaterals/qveidentity", "[]", B, "$.collaterals.qveidentity"},
    {UP4, "collaterals/qveidentity_early", "true", B, "$.collaterals.qveidentity_early"},
    {UP4, "collaterals/tdqeidentity", "7", B, "$.collaterals.tdqeidentity"},
    {UP4, "collaterals/tdqeidentity_early", "7", B, "$.collaterals.tdqeidentity_early"},
    /* v3 */
    {UP3, TI0 "tcbinfo", "\"x\"", B, TI0P "tcbinfo"},
    {UP3, TI0 "tcbinfo", NULL, M, TI0P "tcbinfo"},
    {UP3, TI0 "tcbinfo_early", "7", B, TI0P "tcbinfo_early"},
    {UP3, CHAINS "SGX-TCB-Info-Issuer-Chain", NULL, M, CHAINSP "SGX-TCB-Info-Issuer-Chain"},
    {UP3, CHAINS "SGX-TCB-Info-Issuer-Chain", "7", B, CHAINSP "SGX-TCB-Info-Issuer-Chain"},
};

/* What Intel's tools send, or PCCS's schemas leave optional, is taken. */
static const struct field_case accepted[] = {
    {REG, "platform_manifest", NULL, VT_OK, NULL},
    {REG, "platform_manifest", "null", VT_OK, NULL},
    {REG, "platform_manifest", "\"ABCD\"", VT_OK, NULL},
    {UP4, PL0 "enc_ppid", NULL, VT_OK, NULL},
    {UP4, PL0 "enc_ppid", "\"\"", VT_OK, NULL},
    {UP4, PL0 "platform_manifest", "null", VT_OK, NULL},
    {UP4, PCK0 "cpu_svn", "\"\"", VT_OK, NULL},
    {UP4, PCKCH "/PLATFORM", NULL, VT_OK, NULL},
    {UP4, PCKCH "/PLATFORM", "null", VT_OK, NULL},
    {UP4, TI0 "tdx_tcbinfo", NULL, VT_OK, NULL},
    {UP4, TI0 "tdx_tcbinfo", "null", VT_OK, NULL},
    {UP4, "collaterals/pckcacrl", NULL, VT_OK, NULL},
    {UP4, "collaterals/qveidentity", "null", VT_OK, NULL},
    {UP4, "collaterals/qveidentity", "\"\"", VT_OK, NULL},
    {UP4, "collaterals/rootcacrl", NULL, VT_OK, NULL},
    {UP4, CERT0 "tcb", NULL, VT_OK, NULL},
    {UP3, "collaterals/version", "\"any\"", VT_OK, NULL},
};

static void test_field_refusals(void **state)
{
    struct fx *f = *state;
    struct vt_diag d;
    char detail[VT_DIAG_DETAIL_MAX + 64];
    /* the bases parse; a registration and a policy are held before the refusals */
    for (size_t k = 0; k < 4; k++) {
        char *s = json_dumps(f->base[k], JSON_COMPACT | JSON_PRESERVE_ORDER);
        vt_diag_init(&d);
        if (parse((enum body_kind)k, s, &d) != VT_OK) {
            fail_msg("base %zu: %s", k, d.detail);
        }
        if (k == REG || k == POL) {
            long st = send_body(f, (enum body_kind)k, s, detail, sizeof(detail));
            if (st != 200) {
                fail_msg("base %zu: %ld %s", k, st, detail);
            }
        }
        free(s);
    }
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        const struct field_case *t = &accepted[i];
        char *s = mutate(f->base[t->kind], t->loc, t->value);
        vt_diag_init(&d);
        if (parse(t->kind, s, &d) != VT_OK) {
            fail_msg("accepted %s = %s: %s", t->loc, t->value ? t->value : "(removed)", d.detail);
        }
        free(s);
    }
    int64_t before[3], after[3];
    state_of(f, before);
    assert_true(before[0] == 0 && before[1] > 0 && before[2] > 0);
    for (size_t i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
        const struct field_case *t = &field_cases[i];
        char *s = t->loc ? mutate(f->base[t->kind], t->loc, t->value) : strdup(t->value);
        assert_non_null(s);
        vt_diag_init(&d);
        enum vt_err err = parse(t->kind, s, &d);
        if (err == VT_OK || (t->err != VT_OK && err != t->err) || !names_path(&d, t->path)) {
            fail_msg("%zu %s = %s: got %s (%s), want %s at %s", i, t->loc ? t->loc : "body",
                     t->value ? t->value : "(removed)", vt_err_name(err), d.detail,
                     vt_err_name(t->err), t->path);
        }
        long st = send_body(f, t->kind, s, detail, sizeof(detail));
        size_t pl = strlen(t->path);
        if (st != 400 || strncmp(detail, t->path, pl) != 0 || detail[pl] != ':') {
            fail_msg("%zu %s %s: HTTP %ld \"%s\", want 400 at %s", i, routes[t->kind][0],
                     routes[t->kind][1], st, detail, t->path);
        }
        state_of(f, after);
        if (memcmp(before, after, sizeof(before)) != 0) {
            fail_msg("%zu %s: the refused request changed the store", i, t->path);
        }
        free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registration),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_upload_refusals),
        cmocka_unit_test(test_upload_keys),
        cmocka_unit_test_setup_teardown(test_field_refusals, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
