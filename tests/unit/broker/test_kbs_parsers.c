/*
 * The KBS protocol's parsers of untrusted input (src/broker/kbs.h): the SEV-SNP evidence as the
 * Confidential Containers guest serializes it (the sev crate's serde form of the report, and its
 * certificate table) rebuilt into the signed report bytes, and the init-data TOML.
 *
 * The guest's side is tests/support/kbs_guest.c, written from the sev crate's parser
 * (AttestationReport::from_bytes) independently of the broker's rebuild: every report, simulated
 * for each product and version or real (the fixtures, among them Trustee's own e2e evidence in
 * the guest's JSON), goes to JSON and back to the same 1184 bytes. Every reject path has its
 * precise error.
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

#include "internal.h"

#include "broker/kbs.h"
#include "kbs_guest.h"
#include "snp_sim.h"
#include "vt_fixtures.h"

/* ---- SEV-SNP evidence ---- */

/* A signed simulated report of product p and version v. */
static void sim_report(enum vt_snp_product p, uint32_t v, uint8_t out[VT_SNP_REPORT_SIZE],
                       uint8_t **vcek, size_t *vcek_len)
{
    struct vt_ssim_pki pki;
    vt_time now = vt_time_now();
    assert_int_equal(vt_ssim_pki_init(&pki, p, now - 86400, now + 86400, NULL), VT_OK);
    struct vt_ssim_vek_opts o;
    vt_ssim_vek_defaults(&pki, &o, false, now - 86400, now + 86400);
    EVP_PKEY *key = NULL;
    X509 *vek = NULL;
    assert_int_equal(vt_ssim_vek(&pki, &o, &vek, &key, NULL), VT_OK);
    assert_non_null(vek);
    struct vt_ssim_report r;
    vt_ssim_report_defaults(&pki, &o, &r);
    r.version = v;
    memset(r.host_data, 0xa7, sizeof(r.host_data));
    assert_int_equal(vt_ssim_report_sign(&r, key, out, NULL), VT_OK);
    if (vcek != NULL) {
        assert_int_equal(vt_ssim_der(vek, vcek, vcek_len, NULL), VT_OK);
    }
    X509_free(vek);
    EVP_PKEY_free(key);
    vt_ssim_pki_cleanup(&pki);
}

static json_t *evidence_of(const uint8_t report[VT_SNP_REPORT_SIZE], json_t *chain)
{
    json_t *rep = kbs_guest_snp_report(report);
    assert_non_null(rep);
    return json_pack("{s:o,s:o}", "attestation_report", rep, "cert_chain",
                     chain ? chain : json_null());
}

static void round_trip(const uint8_t report[VT_SNP_REPORT_SIZE], const char *what)
{
    json_t *ev = evidence_of(report, NULL);
    /* as it goes over the wire: JSON text, parsed again */
    char *text = json_dumps(ev, JSON_COMPACT);
    json_t *wire = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(wire);
    uint8_t back[VT_SNP_REPORT_SIZE];
    struct vt_buf pem;
    vt_buf_init(&pem, 1 << 16);
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_kbs_snp_evidence(wire, back, &pem, &d) != VT_OK) {
        fail_msg("%s: %s: %s", what, d.check, d.detail);
    }
    assert_int_equal(pem.len, 0); /* no table: the VEK comes from the collateral source */
    if (memcmp(back, report, VT_SNP_REPORT_SIZE) != 0) {
        for (size_t i = 0; i < VT_SNP_REPORT_SIZE; i++) {
            if (back[i] != report[i]) {
                fail_msg("%s: byte 0x%zx is 0x%02x, was 0x%02x", what, i, back[i], report[i]);
            }
        }
    }
    struct vt_snp_report parsed;
    assert_int_equal(vt_snp_report_parse(back, sizeof(back), &parsed, NULL), VT_OK);
    vt_buf_cleanup(&pem);
    json_decref(wire);
    free(text);
    json_decref(ev);
}

/* Every product and report version the guest can send comes back byte for byte. */
static void test_snp_round_trip_sim(void **state)
{
    (void)state;
    static const struct {
        enum vt_snp_product p;
        uint32_t v;
    } cases[] = {{VT_SNP_MILAN, 2}, {VT_SNP_MILAN, 3}, {VT_SNP_MILAN, 5}, {VT_SNP_GENOA, 2},
                 {VT_SNP_GENOA, 3}, {VT_SNP_GENOA, 4}, {VT_SNP_TURIN, 2}, {VT_SNP_TURIN, 5}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t r[VT_SNP_REPORT_SIZE];
        sim_report(cases[i].p, cases[i].v, r, NULL, NULL);
        char what[64];
        snprintf(what, sizeof(what), "%s v%u", vt_snp_product_name(cases[i].p), cases[i].v);
        round_trip(r, what);
        /* the JSON has what the sev crate gives for that version and product */
        json_t *j = kbs_guest_snp_report(r);
        json_t *tcb = json_object_get(j, "reported_tcb");
        assert_int_equal(json_is_null(json_object_get(tcb, "fmc")), cases[i].p != VT_SNP_TURIN);
        assert_int_equal(json_is_null(json_object_get(j, "cpuid_fam_id")), cases[i].v == 2);
        assert_int_equal(json_is_null(json_object_get(j, "launch_mit_vector")), cases[i].v < 5);
        assert_int_equal(json_array_size(json_object_get(j, "host_data")), 32);
        json_decref(j);
    }
}

/* The real reports of the fixtures, through the guest's JSON and back; and Trustee's own e2e
 * evidence, which is the guest's JSON, rebuilds into the report whose signature verifies. */
static void test_snp_real(void **state)
{
    (void)state;
    const char *fx = vt_fixtures_or_skip();
    if (fx == NULL) {
        return;
    }
    static const char *const reports[] = {"trustee/test-report.bin",
                                          "trustee/test-vlek-report.bin",
                                          "trustee/derived/e2e-genoa-report.bin",
                                          "trustee-azure/derived/hcl-report.snp-report.bin",
                                          "trustee-azure/derived/genoa-hcl-report.snp-report.bin",
                                          "go-sev-guest/attestation.bin",
                                          "virtee-sev/derived/report_milan.bin"};
    char path[1024];
    for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
        snprintf(path, sizeof(path), "%s/snp/%s", fx, reports[i]);
        size_t n = 0;
        uint8_t *r = vt_test_read_file(path, &n);
        assert_non_null(r);
        assert_int_equal(n, VT_SNP_REPORT_SIZE);
        round_trip(r, reports[i]);
        free(r);
    }
    snprintf(path, sizeof(path), "%s/snp/trustee/e2e-evidence.json", fx);
    json_error_t je;
    json_t *ev = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    assert_non_null(ev);
    uint8_t back[VT_SNP_REPORT_SIZE];
    struct vt_buf pem;
    vt_buf_init(&pem, 1 << 16);
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_kbs_snp_evidence(ev, back, &pem, &d) != VT_OK) {
        fail_msg("%s: %s", d.check, d.detail);
    }
    snprintf(path, sizeof(path), "%s/snp/trustee/derived/e2e-genoa-report.bin", fx);
    size_t n = 0;
    uint8_t *want = vt_test_read_file(path, &n);
    assert_non_null(want);
    assert_int_equal(n, VT_SNP_REPORT_SIZE);
    assert_memory_equal(back, want, n);
    free(want);
    /* its table holds the VCEK only: the PEM is that certificate */
    snprintf(path, sizeof(path), "%s/snp/trustee/derived/e2e-genoa-vcek.der", fx);
    uint8_t *vcek = vt_test_read_file(path, &n);
    assert_non_null(vcek);
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    assert_int_equal(vt_cert_list_from_bytes(pem.data, pem.len, &l, NULL), VT_OK);
    assert_int_equal(l.n, 1);
    struct vt_cert *c = NULL;
    assert_int_equal(vt_cert_from_der(vcek, n, &c, NULL), VT_OK);
    assert_true(vt_cert_equal(c, l.certs[0]));
    vt_cert_free(c);
    vt_cert_list_cleanup(&l);
    free(vcek);
    /* and it verifies against the genuine AMD Genoa chain, at any time in the VCEK's life */
    struct vt_snp_verifier *v = NULL;
    assert_int_equal(vt_snp_verifier_new(NULL, &v, NULL), VT_OK);
    struct vt_snp_opts o = {
        .now = vt_time_now(), .time_mode = VT_TIME_STRICT, .vek = pem.data, .vek_len = pem.len};
    struct vt_claims claims;
    vt_claims_init(&claims);
    vt_diag_init(&d);
    if (vt_snp_verify(v, back, sizeof(back), &o, &claims, &d) != VT_OK) {
        fail_msg("%s: %s", d.check, d.detail);
    }
    assert_string_equal(claims.snp.product, "Genoa");
    vt_snp_verifier_free(v);
    vt_buf_cleanup(&pem);
    json_decref(ev);
}

/* The certificate table: the first VCEK or VLEK, then the ASK and ARK, as PEM; other entries
 * ignored; a table without a VEK refused. */
static void test_snp_table(void **state)
{
    (void)state;
    uint8_t r[VT_SNP_REPORT_SIZE];
    uint8_t *vcek = NULL;
    size_t vn = 0;
    sim_report(VT_SNP_MILAN, 3, r, &vcek, &vn);
    uint8_t *other = NULL;
    size_t on = 0;
    uint8_t r2[VT_SNP_REPORT_SIZE];
    sim_report(VT_SNP_GENOA, 3, r2, &other, &on);
    json_t *chain =
        json_pack("[o,o,o,o,o,o]", kbs_guest_cert_entry("CRL", (const uint8_t *)"x", 1),
                  json_pack("{s:{s:s},s:[i]}", "cert_type", "OTHER",
                            "d56fe6fa-5e4a-4c0e-8f3a-3f8d0b7d3c2a", "data", 7),
                  kbs_guest_cert_entry("ARK", other, on), kbs_guest_cert_entry("VCEK", vcek, vn),
                  kbs_guest_cert_entry("VLEK", other, on), kbs_guest_cert_entry("ASK", other, on));
    json_t *ev = evidence_of(r, chain);
    uint8_t back[VT_SNP_REPORT_SIZE];
    struct vt_buf pem;
    vt_buf_init(&pem, 1 << 16);
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_kbs_snp_evidence(ev, back, &pem, &d) != VT_OK) {
        fail_msg("%s: %s", d.check, d.detail);
    }
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    assert_int_equal(vt_cert_list_from_bytes(pem.data, pem.len, &l, NULL), VT_OK);
    assert_int_equal(l.n, 3); /* the VCEK (the first VEK), the ASK, the ARK */
    struct vt_cert *c = NULL;
    assert_int_equal(vt_cert_from_der(vcek, vn, &c, NULL), VT_OK);
    assert_true(vt_cert_equal(c, l.certs[0]));
    vt_cert_free(c);
    vt_cert_list_cleanup(&l);
    vt_buf_cleanup(&pem);
    json_decref(ev);
    free(vcek);
    free(other);
}

/* The guest's evidence of report with member ("outer.inner", or "-" for none) set to value
 * (NULL: deleted) and the table chain: refused with want under check. */
static void snp_rejects(const uint8_t report[VT_SNP_REPORT_SIZE], const char *member, json_t *value,
                        enum vt_err want, const char *check, json_t *chain)
{
    json_t *ev = evidence_of(report, chain);
    json_t *rep = json_object_get(ev, "attestation_report");
    const char *dot = strchr(member, '.');
    if (strcmp(member, "-") == 0) {
        /* unchanged: the table is what fails */
    } else if (dot != NULL) {
        char outer[64];
        snprintf(outer, sizeof(outer), "%.*s", (int)(dot - member), member);
        json_t *o = json_object_get(rep, outer);
        value ? json_object_set_new(o, dot + 1, value) : json_object_del(o, dot + 1);
    } else {
        value ? json_object_set_new(rep, member, value) : json_object_del(rep, member);
    }
    uint8_t back[VT_SNP_REPORT_SIZE];
    struct vt_buf pem;
    vt_buf_init(&pem, 1 << 16);
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_kbs_snp_evidence(ev, back, &pem, &d);
    if (err != want || strcmp(d.check, check) != 0) {
        fail_msg("%s: got %s %s (%s), expected %s %s", member, vt_err_name(err), d.check, d.detail,
                 vt_err_name(want), check);
    }
    assert_true(d.detail[0] != '\0');
    vt_buf_cleanup(&pem);
    json_decref(ev);
}

#define R "snp.attestation_report."

static void test_snp_rejects(void **state)
{
    (void)state;
    uint8_t v3[VT_SNP_REPORT_SIZE], v2[VT_SNP_REPORT_SIZE], turin[VT_SNP_REPORT_SIZE];
    sim_report(VT_SNP_MILAN, 3, v3, NULL, NULL);
    sim_report(VT_SNP_GENOA, 2, v2, NULL, NULL);
    sim_report(VT_SNP_TURIN, 5, turin, NULL, NULL);
    /* every member is required, and has its type */
    static const char *const required[] = {"version",
                                           "guest_svn",
                                           "policy",
                                           "family_id",
                                           "image_id",
                                           "vmpl",
                                           "sig_algo",
                                           "current_tcb",
                                           "plat_info",
                                           "key_info",
                                           "report_data",
                                           "measurement",
                                           "host_data",
                                           "id_key_digest",
                                           "author_key_digest",
                                           "report_id",
                                           "report_id_ma",
                                           "reported_tcb",
                                           "chip_id",
                                           "committed_tcb",
                                           "current",
                                           "committed",
                                           "launch_tcb",
                                           "signature",
                                           "current_tcb.bootloader",
                                           "current.major",
                                           "signature.r",
                                           "signature.s",
                                           "launch_tcb.microcode"};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        char check[96];
        snprintf(check, sizeof(check), R "%s", required[i]);
        snp_rejects(v3, required[i], NULL, VT_E_MISSING_FIELD, check, NULL);
    }
    snp_rejects(v3, "version", json_string("3"), VT_E_BAD_FIELD, R "version", NULL);
    snp_rejects(v3, "version", json_integer(1), VT_E_UNSUPPORTED_VERSION, R "version", NULL);
    snp_rejects(v3, "vmpl", json_integer(-1), VT_E_BAD_FIELD, R "vmpl", NULL);
    snp_rejects(v3, "vmpl", json_integer(INT64_C(1) << 32), VT_E_BAD_FIELD, R "vmpl", NULL);
    snp_rejects(v3, "policy", json_real(196608.0), VT_E_BAD_FIELD, R "policy", NULL);
    snp_rejects(v3, "guest_svn", json_null(), VT_E_BAD_FIELD, R "guest_svn", NULL);
    snp_rejects(v3, "measurement", json_pack("[i,i]", 1, 2), VT_E_BAD_LENGTH, R "measurement",
                NULL);
    snp_rejects(v3, "chip_id", json_string("00"), VT_E_BAD_FIELD, R "chip_id", NULL);
    json_t *a = json_array();
    for (int i = 0; i < 64; i++) {
        json_array_append_new(a, json_integer(i == 5 ? 256 : 0));
    }
    snp_rejects(v3, "report_data", a, VT_E_BAD_FIELD, R "report_data", NULL);
    snp_rejects(v3, "current_tcb", json_integer(0), VT_E_BAD_FIELD, R "current_tcb", NULL);
    snp_rejects(v3, "current_tcb.snp", json_integer(300), VT_E_BAD_FIELD, R "current_tcb.snp",
                NULL);
    snp_rejects(v3, "signature.r", json_pack("[i]", 0), VT_E_BAD_LENGTH, R "signature.r", NULL);
    /* the optional members exactly where the version and product have them */
    snp_rejects(v3, "reported_tcb.fmc", json_integer(1), VT_E_BAD_FIELD, R "reported_tcb.fmc",
                NULL);
    snp_rejects(turin, "launch_tcb.fmc", json_null(), VT_E_BAD_FIELD, R "launch_tcb.fmc", NULL);
    snp_rejects(turin, "committed_tcb.fmc", NULL, VT_E_BAD_FIELD, R "committed_tcb.fmc", NULL);
    snp_rejects(v3, "cpuid_step", json_null(), VT_E_BAD_FIELD, R "cpuid_step", NULL);
    snp_rejects(v2, "cpuid_fam_id", json_integer(0x19), VT_E_BAD_FIELD, R "cpuid_fam_id", NULL);
    snp_rejects(v3, "launch_mit_vector", json_integer(3), VT_E_BAD_FIELD, R "launch_mit_vector",
                NULL);
    snp_rejects(turin, "current_mit_vector", json_null(), VT_E_BAD_FIELD, R "current_mit_vector",
                NULL);
    /* a product the sev crate does not know, and a version 2 report it cannot place */
    snp_rejects(v3, "cpuid_fam_id", json_integer(0x17), VT_E_BAD_FIELD, R "cpuid_mod_id", NULL);
    snp_rejects(v3, "cpuid_mod_id", json_integer(0x30), VT_E_BAD_FIELD, R "cpuid_mod_id", NULL);
    a = json_array();
    for (int i = 0; i < 64; i++) {
        json_array_append_new(a, json_integer(0));
    }
    snp_rejects(v2, "chip_id", a, VT_E_BAD_FIELD, R "chip_id", NULL);
    /* the evidence itself */
    json_t *ev = json_pack("{s:s}", "attestation_report", "x");
    uint8_t back[VT_SNP_REPORT_SIZE];
    struct vt_buf pem;
    vt_buf_init(&pem, 1 << 16);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_kbs_snp_evidence(ev, back, &pem, &d), VT_E_BAD_FIELD);
    assert_string_equal(d.check, "snp.attestation_report");
    json_decref(ev);
    ev = json_pack("{s:n}", "cert_chain");
    assert_int_equal(vt_kbs_snp_evidence(ev, back, &pem, &d), VT_E_MISSING_FIELD);
    json_decref(ev);
    ev = json_string("a quote");
    assert_int_equal(vt_kbs_snp_evidence(ev, back, &pem, &d), VT_E_BAD_JSON);
    assert_string_equal(d.check, "snp.evidence");
    json_decref(ev);
    vt_buf_cleanup(&pem);
    /* the certificate table */
    uint8_t x[3] = {0x30, 0x01, 0x00};
    snp_rejects(v3, "-", NULL, VT_E_BAD_FIELD, "snp.cert_chain", json_string("VCEK"));
    snp_rejects(v3, "-", NULL, VT_E_MISSING_FIELD, "snp.cert_chain", json_array());
    snp_rejects(v3, "-", NULL, VT_E_MISSING_FIELD, "snp.cert_chain",
                json_pack("[o]", kbs_guest_cert_entry("ASK", x, 3)));
    snp_rejects(v3, "-", NULL, VT_E_BAD_FIELD, "snp.cert_chain[0]", json_pack("[s]", "VCEK"));
    snp_rejects(v3, "-", NULL, VT_E_MISSING_FIELD, "snp.cert_chain[0].cert_type",
                json_pack("[{s:[i]}]", "data", 1));
    snp_rejects(
        v3, "-", NULL, VT_E_BAD_FIELD, "snp.cert_chain[1].cert_type",
        json_pack("[o,o]", kbs_guest_cert_entry("VCEK", x, 3), kbs_guest_cert_entry("vcek", x, 3)));
    snp_rejects(v3, "-", NULL, VT_E_BAD_FIELD, "snp.cert_chain[0].cert_type",
                json_pack("[{s:{s:i},s:[]}]", "cert_type", "OTHER", 1, "data"));
    snp_rejects(v3, "-", NULL, VT_E_MISSING_FIELD, "snp.cert_chain[0].data",
                json_pack("[{s:s}]", "cert_type", "VCEK"));
    snp_rejects(v3, "-", NULL, VT_E_BAD_FIELD, "snp.cert_chain[0].data",
                json_pack("[{s:s,s:s}]", "cert_type", "VCEK", "data", "MIIB"));
    snp_rejects(v3, "-", NULL, VT_E_BAD_FIELD, "snp.cert_chain[0].data",
                json_pack("[{s:s,s:[i,i]}]", "cert_type", "CRL", "data", 1, -1));
    json_t *many = json_array();
    for (int i = 0; i < 17; i++) {
        json_array_append_new(many, kbs_guest_cert_entry("VCEK", x, 3));
    }
    snp_rejects(v3, "-", NULL, VT_E_TOO_LARGE, "snp.cert_chain", many);
    uint8_t *big = calloc(16385, 1);
    snp_rejects(v3, "-", NULL, VT_E_TOO_LARGE, "snp.cert_chain[0].data",
                json_pack("[o]", kbs_guest_cert_entry("VCEK", big, 16385)));
    free(big);
}

/* ---- init-data ---- */

static void initdata_ok(const char *body, const char *alg, const char *data_json)
{
    struct vt_kbs_initdata i;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_kbs_initdata_parse("toml", body, strlen(body), &i, &d) != VT_OK) {
        fail_msg("%s: %s\n%s", d.check, d.detail, body);
    }
    assert_string_equal(i.algorithm, alg);
    uint8_t want[64];
    size_t n = strcmp(alg, "sha256") == 0 ? 32 : strcmp(alg, "sha384") == 0 ? 48 : 64;
    if (n == 32) {
        vt_sha256(body, strlen(body), want);
    } else if (n == 48) {
        vt_sha384(body, strlen(body), want);
    } else {
        vt_sha512(body, strlen(body), want);
    }
    assert_int_equal(i.digest_len, n);
    assert_memory_equal(i.digest, want, n);
    if (strcmp(i.data_json, data_json) != 0) {
        fail_msg("data %s, expected %s", i.data_json, data_json);
    }
    vt_kbs_initdata_cleanup(&i);
}

static void initdata_rejects(const char *format, const char *body, size_t len, enum vt_err want,
                             const char *check, const char *in_detail)
{
    struct vt_kbs_initdata i;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_kbs_initdata_parse(format, body, len, &i, &d);
    if (err != want || strcmp(d.check, check) != 0 ||
        (in_detail != NULL && strstr(d.detail, in_detail) == NULL)) {
        fail_msg("got %s %s (%s), expected %s %s (%s)\n%.*s", vt_err_name(err), d.check, d.detail,
                 vt_err_name(want), check, in_detail ? in_detail : "", (int)len, body);
    }
    assert_null(i.data_json);
}

#define TOML_REJECTS(body, err, check, detail)                                                     \
    initdata_rejects("toml", (body), strlen(body), (err), (check), (detail))

static void test_initdata_accept(void **state)
{
    (void)state;
    /* the shape the CoCo tooling writes: quoted keys holding dots, multi-line literal strings */
    initdata_ok("algorithm = \"sha384\"\nversion = \"0.1.0\"\n\n[data]\n"
                "\"aa.toml\" = '''\n[token_configs.kbs]\nurl = \"http://10.0.0.1:8080\"\n'''\n\n"
                "\"policy.rego\" = '''\npackage agent_policy\ndefault AllowRequests := true'''\n",
                "sha384",
                "{\"aa.toml\":\"[token_configs.kbs]\\nurl = \\\"http://10.0.0.1:8080\\\"\\n\","
                "\"policy.rego\":\"package agent_policy\\ndefault AllowRequests := true\"}");
    initdata_ok("version='0.1.0'\nalgorithm='sha256'\n[data]\n", "sha256", "{}");
    initdata_ok("# a comment\r\nversion = \"0.1.0\" # trailing\r\nalgorithm = \"sha512\"\r\n"
                "[ data ]\r\nk = \"v\"\r\n",
                "sha512", "{\"k\":\"v\"}");
    /* every escape of a basic string, and multi-line basic strings with line-ending backslashes
     * and quotes before the closing delimiter */
    initdata_ok("version = \"0.1.0\"\nalgorithm = \"sha384\"\n[data]\n"
                "e = \"\\b\\t\\n\\f\\r\\\"\\\\ \\u00e9 \\U0001F600\"\n"
                "m = \"\"\"\nfirst \\\n    second\"\"\"\n"
                "q = \"\"\"two quotes: \"\"\"\"\"\n"
                "l = '''a\"b''''\n"
                "\"quoted key\" = 'x'\n'literal.key' = \"y\"\n-_9 = \"z\"\n",
                "sha384",
                "{\"-_9\":\"z\",\"e\":\"\\b\\t\\n\\f\\r\\\"\\\\ \xc3\xa9 "
                "\xf0\x9f\x98\x80\",\"l\":\"a\\\"b'\","
                "\"literal.key\":\"y\",\"m\":\"first second\",\"q\":\"two quotes: \\\"\\\"\","
                "\"quoted key\":\"x\"}");
    /* other tables and keys are read and ignored; a byte order mark is skipped */
    initdata_ok("\xef\xbb\xbfversion = \"0.1.0\"\nalgorithm = \"sha384\"\nextra = \"1\"\n"
                "[other]\nk = \"v\"\n[data]\nk = \"w\"\n",
                "sha384", "{\"k\":\"w\"}");
}

static void test_initdata_rejects(void **state)
{
    (void)state;
    const char *ok = "version = \"0.1.0\"\nalgorithm = \"sha384\"\n[data]\n";
    initdata_rejects("json", "{}", 2, VT_E_UNSUPPORTED, "initdata.format",
                     "Unsupported initdata format: json");
    initdata_rejects(NULL, ok, strlen(ok), VT_E_UNSUPPORTED, "initdata.format", NULL);
    TOML_REJECTS("version = \"\xff\"", VT_E_MALFORMED, "initdata.toml", "byte 11 is not UTF-8");
    TOML_REJECTS("v = \"\xed\xa0\x80\"", VT_E_MALFORMED, "initdata.toml",
                 "not UTF-8"); /* a UTF-16 surrogate */
    TOML_REJECTS("v = \"\xc0\xaf\"", VT_E_MALFORMED, "initdata.toml", "not UTF-8"); /* overlong */
    char *big = malloc(VT_KBS_INITDATA_MAX + 2);
    memset(big, '#', VT_KBS_INITDATA_MAX + 1);
    initdata_rejects("toml", big, VT_KBS_INITDATA_MAX + 1, VT_E_TOO_LARGE, "initdata.toml", NULL);
    free(big);
    /* the document's fields */
    TOML_REJECTS("algorithm = \"sha384\"\n[data]\n", VT_E_MISSING_FIELD, "initdata.version", NULL);
    TOML_REJECTS("version = \"0.1.0\"\n[data]\n", VT_E_MISSING_FIELD, "initdata.algorithm", NULL);
    TOML_REJECTS("version = \"0.1.0\"\nalgorithm = \"sm3\"\n[data]\n", VT_E_BAD_FIELD,
                 "initdata.algorithm", "\"sm3\" is none of sha256");
    TOML_REJECTS("version = \"0.1.0\"\nalgorithm = \"SHA384\"\n[data]\n", VT_E_BAD_FIELD,
                 "initdata.algorithm", NULL);
    TOML_REJECTS("version = \"0.1.0\"\nalgorithm = \"sha-384\"\n[data]\n", VT_E_BAD_FIELD,
                 "initdata.algorithm", NULL);
    TOML_REJECTS("version = \"0.1.0\"\nalgorithm = \"sha384\"\n", VT_E_MISSING_FIELD,
                 "initdata.data", "no [data] table");
    TOML_REJECTS("version = \"0.1.0\"\nalgorithm = \"sha384\"\ndata = \"x\"\n", VT_E_BAD_FIELD,
                 "initdata.data", "must be a table");
    TOML_REJECTS("version = \"0.1.0\"\nalgorithm = \"sha384\"\n[data]\n[data]\n", VT_E_DUPLICATE,
                 "initdata.toml", "line 4 column 7: table [data] is defined twice");
    TOML_REJECTS("version = \"0.1.0\"\nversion = \"0.2.0\"\n", VT_E_DUPLICATE, "initdata.toml",
                 "line 2");
    TOML_REJECTS("[data]\nk = \"1\"\n'k' = \"2\"\n", VT_E_DUPLICATE, "initdata.toml",
                 "key \"k\" is defined twice");
    TOML_REJECTS("data = \"x\"\n[data]\n", VT_E_DUPLICATE, "initdata.toml",
                 "as a value and as a table");
    /* outside the subset: said so */
    TOML_REJECTS("version = 1\n", VT_E_UNSUPPORTED, "initdata.toml", "a number or date");
    TOML_REJECTS("[data]\nk = true\n", VT_E_UNSUPPORTED, "initdata.toml", "a boolean");
    TOML_REJECTS("[data]\nk = [\"a\"]\n", VT_E_UNSUPPORTED, "initdata.toml", "an array");
    TOML_REJECTS("data = { k = \"v\" }\n", VT_E_UNSUPPORTED, "initdata.toml", "an inline table");
    TOML_REJECTS("data.k = \"v\"\n", VT_E_UNSUPPORTED, "initdata.toml", "dotted keys");
    TOML_REJECTS("[data.sub]\n", VT_E_UNSUPPORTED, "initdata.toml", "dotted keys");
    TOML_REJECTS("[[data]]\n", VT_E_UNSUPPORTED, "initdata.toml", "arrays of tables");
    /* malformed TOML */
    TOML_REJECTS("version = \"0.1.0\nalgorithm = \"sha384\"\n", VT_E_MALFORMED, "initdata.toml",
                 "line 1 column 17: a newline in a single-line string");
    TOML_REJECTS("k = 'abc", VT_E_MALFORMED, "initdata.toml", "not closed");
    TOML_REJECTS("k = '''abc''", VT_E_MALFORMED, "initdata.toml", "not closed");
    TOML_REJECTS("k = \"a\\x\"", VT_E_MALFORMED, "initdata.toml", "invalid escape \\x");
    TOML_REJECTS("k = \"\\u12\"", VT_E_MALFORMED, "initdata.toml", "4 hex digits");
    TOML_REJECTS("k = \"\\uD800\"", VT_E_MALFORMED, "initdata.toml", "not a Unicode scalar");
    TOML_REJECTS("k = \"a\\u0000\"", VT_E_UNSUPPORTED, "initdata.toml", "a NUL character");
    TOML_REJECTS("k = \"\\U00110000\"", VT_E_MALFORMED, "initdata.toml", "not a Unicode scalar");
    TOML_REJECTS("k = \"a\x01\"", VT_E_MALFORMED, "initdata.toml", "control character 0x01");
    TOML_REJECTS("k = \"\"\"a\"\"\"\"\"\"", VT_E_MALFORMED, "initdata.toml", "6 quotes");
    TOML_REJECTS("k = \"v\" x\n", VT_E_MALFORMED, "initdata.toml", "end of the line");
    TOML_REJECTS("k \"v\"\n", VT_E_MALFORMED, "initdata.toml", "expected '='");
    TOML_REJECTS("= \"v\"\n", VT_E_MALFORMED, "initdata.toml", "expected a key");
    TOML_REJECTS("\"\"\"k\"\"\" = \"v\"\n", VT_E_MALFORMED, "initdata.toml",
                 "a key cannot be a multi-line string");
    TOML_REJECTS("[data\n", VT_E_MALFORMED, "initdata.toml", "expected ']'");
    TOML_REJECTS("# bell \x07\n", VT_E_MALFORMED, "initdata.toml", "in a comment");
    TOML_REJECTS("k = \"v\"\rj = \"w\"\n", VT_E_MALFORMED, "initdata.toml", "end of the line");
    /* too many keys */
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    for (int i = 0; i <= VT_KBS_INITDATA_KEYS; i++) {
        assert_int_equal(vt_buf_printf(&b, "k%d = \"v\"\n", i), VT_OK);
    }
    initdata_rejects("toml", (const char *)b.data, b.len, VT_E_TOO_LARGE, "initdata.toml",
                     "more than 256 keys");
    vt_buf_cleanup(&b);
}

static int teardown(void **state)
{
    (void)state;
    vt_ssim_free_keys();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snp_round_trip_sim), cmocka_unit_test(test_snp_real),
        cmocka_unit_test(test_snp_table),          cmocka_unit_test(test_snp_rejects),
        cmocka_unit_test(test_initdata_accept),    cmocka_unit_test(test_initdata_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
