/*
 * The SEV-SNP report and HCL parsers on synthetic bytes: every field at its offset, the
 * little-endian signature conversion, product and TCB decoding, and each reject path with its
 * error code and check name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static void put32(uint8_t *p, uint32_t v)
{
    for (size_t i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put64(uint8_t *p, uint64_t v)
{
    for (size_t i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* A well-formed report of `version` with recognisable field values. */
static void make_report(uint8_t r[VT_SNP_REPORT_SIZE], uint32_t version)
{
    memset(r, 0, VT_SNP_REPORT_SIZE);
    put32(r + 0x000, version);
    put32(r + 0x004, 7);
    put64(r + 0x008, 0x30000);
    memset(r + 0x010, 0x11, 16);
    memset(r + 0x020, 0x22, 16);
    put32(r + 0x030, 1);
    put32(r + 0x034, 1);
    put64(r + 0x038, 0xd20800000000000aULL);
    put64(r + 0x040, 0x25);
    put32(r + 0x048, 0x4);
    memset(r + 0x050, 0x50, 64);
    memset(r + 0x090, 0x90, 48);
    memset(r + 0x0c0, 0xc0, 32);
    memset(r + 0x0e0, 0xe0, 48);
    memset(r + 0x110, 0x10, 48);
    memset(r + 0x140, 0x40, 32);
    memset(r + 0x160, 0xff, 32);
    put64(r + 0x180, 0x7308000000000003ULL);
    if (version >= 3) {
        r[0x188] = 0x19;
        r[0x189] = 0x11;
        r[0x18a] = 0x01;
    }
    memset(r + 0x1a0, 0xa0, 64);
    put64(r + 0x1e0, 0x1e0);
    r[0x1e8] = 21;
    r[0x1e9] = 55;
    r[0x1ea] = 1;
    r[0x1ec] = 20;
    r[0x1ed] = 54;
    r[0x1ee] = 1;
    put64(r + 0x1f0, 0x1f0);
    if (version >= 5) {
        put64(r + 0x1f8, 0x1f8);
        put64(r + 0x200, 0x200);
    }
    for (size_t i = 0; i < 48; i++) {
        r[0x2a0 + i] = (uint8_t)(i + 1);   /* r little-endian: 1, 2, ..., 48 */
        r[0x2e8 + i] = (uint8_t)(100 + i); /* s */
    }
}

static enum vt_err parse(const uint8_t *p, size_t n, struct vt_snp_report *r, struct vt_diag *d)
{
    vt_diag_init(d);
    return vt_snp_report_parse(p, n, r, d);
}

static void test_fields(void **state)
{
    (void)state;
    uint8_t b[VT_SNP_REPORT_SIZE];
    struct vt_snp_report r;
    struct vt_diag d;
    for (uint32_t v = 2; v <= 5; v++) {
        make_report(b, v);
        assert_int_equal(parse(b, sizeof(b), &r, &d), VT_OK);
        assert_int_equal(r.version, v);
        assert_int_equal(r.guest_svn, 7);
        assert_int_equal(r.policy, 0x30000);
        assert_int_equal(r.family_id[15], 0x11);
        assert_int_equal(r.image_id[0], 0x22);
        assert_int_equal(r.vmpl, 1);
        assert_int_equal(r.current_tcb_raw, 0xd20800000000000aULL);
        assert_int_equal(r.platform_info, 0x25);
        assert_int_equal(r.key_info, 4);
        assert_int_equal(r.report_data[63], 0x50);
        assert_int_equal(r.measurement[47], 0x90);
        assert_int_equal(r.host_data[31], 0xc0);
        assert_int_equal(r.id_key_digest[0], 0xe0);
        assert_int_equal(r.author_key_digest[47], 0x10);
        assert_int_equal(r.report_id[0], 0x40);
        assert_int_equal(r.report_id_ma[31], 0xff);
        assert_int_equal(r.reported_tcb_raw, 0x7308000000000003ULL);
        assert_int_equal(r.chip_id[63], 0xa0);
        assert_int_equal(r.committed_tcb_raw, 0x1e0);
        assert_int_equal(r.current_build, 21);
        assert_int_equal(r.current_minor, 55);
        assert_int_equal(r.current_major, 1);
        assert_int_equal(r.committed_build, 20);
        assert_int_equal(r.launch_tcb_raw, 0x1f0);
        assert_int_equal(r.cpuid_fam_id, v >= 3 ? 0x19 : 0);
        assert_int_equal(r.launch_mit_vector, v >= 5 ? 0x1f8 : 0);
        assert_int_equal(r.current_mit_vector, v >= 5 ? 0x200 : 0);
        /* r and s are converted to big-endian: the last little-endian byte comes first. */
        assert_int_equal(r.signature_r[0], 48);
        assert_int_equal(r.signature_r[47], 1);
        assert_int_equal(r.signature_s[0], 147);
        assert_ptr_equal(r.raw, b);
        assert_int_equal(vt_snp_report_product(&r), v >= 3 ? VT_SNP_GENOA : VT_SNP_UNKNOWN);
    }
}

static void expect_reject(const uint8_t *b, size_t n, enum vt_err want, const char *check)
{
    struct vt_snp_report r;
    memset(&r, 0x5a, sizeof(r));
    struct vt_snp_report before = r;
    struct vt_diag d;
    enum vt_err err = parse(b, n, &r, &d);
    if (err != want || strcmp(d.check, check) != 0) {
        fail_msg("got %s %s (%s), want %s %s", vt_err_name(err), d.check, d.detail,
                 vt_err_name(want), check);
    }
    assert_memory_equal(&r, &before, sizeof(r)); /* output untouched */
}

static void test_rejects(void **state)
{
    (void)state;
    uint8_t b[VT_SNP_REPORT_SIZE + 1];
    make_report(b, 3);
    b[VT_SNP_REPORT_SIZE] = 0;
    expect_reject(b, VT_SNP_REPORT_SIZE - 1, VT_E_TRUNCATED, "snp.report.size");
    expect_reject(b, VT_SNP_REPORT_SIZE + 1, VT_E_TRAILING_DATA, "snp.report.size");
    expect_reject(b, 0, VT_E_TRUNCATED, "snp.report.size");

    const uint32_t bad_versions[] = {0, 1, 6, 0x10003};
    for (size_t i = 0; i < 4; i++) {
        make_report(b, 3);
        put32(b, bad_versions[i]);
        expect_reject(b, VT_SNP_REPORT_SIZE, VT_E_UNSUPPORTED_VERSION, "snp.report.version");
    }
    make_report(b, 3);
    put32(b + 0x34, 2);
    expect_reject(b, VT_SNP_REPORT_SIZE, VT_E_UNSUPPORTED_ALGORITHM, "snp.report.signature_algo");
    make_report(b, 3);
    put32(b + 0x48, 0x24);
    expect_reject(b, VT_SNP_REPORT_SIZE, VT_E_BAD_FIELD, "snp.report.key_info");

    /* Reserved (must-be-zero) bytes: every one of them, per version. */
    struct span {
        size_t off, len;
        uint32_t max_version; /* reserved up to this version */
    };
    const struct span spans[] = {
        {0x04c, 4, 5},
        {0x188, 3, 2},
        {0x18b, 21, 5},
        {0x1eb, 1, 5},
        {0x1ef, 1, 5},
        {0x1f8, 16, 4},
        {0x208, 0x2a0 - 0x208, 5},
    };
    for (uint32_t v = 2; v <= 5; v++) {
        for (size_t s = 0; s < sizeof(spans) / sizeof(spans[0]); s++) {
            for (size_t k = 0; k < spans[s].len; k++) {
                make_report(b, v);
                b[spans[s].off + k] ^= 0x40;
                if (v <= spans[s].max_version) {
                    expect_reject(b, VT_SNP_REPORT_SIZE, VT_E_BAD_FIELD, "snp.report.reserved");
                } else {
                    struct vt_snp_report r;
                    struct vt_diag d;
                    assert_int_equal(parse(b, VT_SNP_REPORT_SIZE, &r, &d), VT_OK);
                }
            }
        }
    }
    /* The high 24 bytes of r and s, and the 368 reserved bytes after them. */
    for (size_t k = 48; k < 72; k++) {
        make_report(b, 2);
        b[0x2a0 + k] = 1;
        expect_reject(b, VT_SNP_REPORT_SIZE, VT_E_BAD_FIELD, "snp.report.signature.r");
        make_report(b, 2);
        b[0x2e8 + k] = 1;
        expect_reject(b, VT_SNP_REPORT_SIZE, VT_E_BAD_FIELD, "snp.report.signature.s");
    }
    for (size_t off = 0x330; off < VT_SNP_REPORT_SIZE; off++) {
        make_report(b, 2);
        b[off] = 0x80;
        expect_reject(b, VT_SNP_REPORT_SIZE, VT_E_BAD_FIELD, "snp.report.signature.reserved");
    }
}

static void test_product_and_tcb(void **state)
{
    (void)state;
    uint8_t b[VT_SNP_REPORT_SIZE];
    struct vt_snp_report r;
    struct vt_diag d;
    const struct {
        uint8_t fam, model;
        enum vt_snp_product want;
    } cases[] = {
        {0x19, 0x00, VT_SNP_MILAN},   {0x19, 0x01, VT_SNP_MILAN},   {0x19, 0x0f, VT_SNP_MILAN},
        {0x19, 0x10, VT_SNP_GENOA},   {0x19, 0x11, VT_SNP_GENOA},   {0x19, 0x1f, VT_SNP_GENOA},
        {0x19, 0xa0, VT_SNP_GENOA},   {0x19, 0xaf, VT_SNP_GENOA},   {0x19, 0x20, VT_SNP_UNKNOWN},
        {0x19, 0xb0, VT_SNP_UNKNOWN}, {0x1a, 0x00, VT_SNP_TURIN},   {0x1a, 0x11, VT_SNP_TURIN},
        {0x1a, 0x12, VT_SNP_UNKNOWN}, {0x17, 0x01, VT_SNP_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        make_report(b, 3);
        b[0x188] = cases[i].fam;
        b[0x189] = cases[i].model;
        assert_int_equal(parse(b, sizeof(b), &r, &d), VT_OK);
        assert_int_equal(vt_snp_report_product(&r), cases[i].want);
    }
    assert_string_equal(vt_snp_product_name(VT_SNP_MILAN), "Milan");
    assert_string_equal(vt_snp_product_name(VT_SNP_GENOA), "Genoa");
    assert_string_equal(vt_snp_product_name(VT_SNP_TURIN), "Turin");
    assert_string_equal(vt_snp_product_name(VT_SNP_UNKNOWN), "unknown");
    assert_int_equal(vt_snp_report_product(NULL), VT_SNP_UNKNOWN);

    /* Milan/Genoa: BL, TEE, -, -, -, -, SNP, UCODE. Turin: FMC, BL, TEE, SNP, -, -, -, UCODE. */
    struct vt_snp_tcb t;
    uint64_t raw = 0xd9180000000a0304ULL; /* bytes 04 03 0a 00 00 00 18 d9 */
    vt_snp_tcb_decode(raw, VT_SNP_MILAN, &t);
    assert_int_equal(t.raw, raw);
    assert_int_equal(t.bootloader, 4);
    assert_int_equal(t.tee, 3);
    assert_int_equal(t.snp, 0x18);
    assert_int_equal(t.microcode, 0xd9);
    assert_int_equal(t.fmc, 0);
    vt_snp_tcb_decode(raw, VT_SNP_TURIN, &t);
    assert_int_equal(t.fmc, 4);
    assert_int_equal(t.bootloader, 3);
    assert_int_equal(t.tee, 0x0a);
    assert_int_equal(t.snp, 0);
    assert_int_equal(t.microcode, 0xd9);
}

/* ---- HCL ---- */

#define HCL_SIZE 2600

static const char runtime_json[] =
    "{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"e\":\"AQAB\","
    "\"n\":\"AQAB\"}],\"user-data\":\"00\"}";

static void make_hcl(uint8_t h[HCL_SIZE])
{
    size_t var = strlen(runtime_json);
    memset(h, 0, HCL_SIZE);
    memcpy(h, "HCLA", 4);
    put32(h + 4, 2);
    put32(h + 8, (uint32_t)(0x4d4 + var));
    put32(h + 12, 2);
    make_report(h + 0x20, 2);
    put32(h + 0x4c0, (uint32_t)(20 + var));
    put32(h + 0x4c4, 1);
    put32(h + 0x4c8, 2);
    put32(h + 0x4cc, 1);
    put32(h + 0x4d0, (uint32_t)var);
    memcpy(h + 0x4d4, runtime_json, var);
}

static void hcl_reject(const uint8_t *h, size_t n, enum vt_err want, const char *check)
{
    struct vt_hcl_report r;
    memset(&r, 0, sizeof(r));
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_hcl_report_parse(h, n, &r, &d);
    if (err != want || strcmp(d.check, check) != 0) {
        fail_msg("got %s %s (%s), want %s %s", vt_err_name(err), d.check, d.detail,
                 vt_err_name(want), check);
    }
    assert_null(r.snp_report);
}

static void test_hcl(void **state)
{
    (void)state;
    uint8_t h[HCL_SIZE];
    struct vt_hcl_report r;
    struct vt_diag d;
    make_hcl(h);
    assert_int_equal(vt_hcl_report_parse(h, sizeof(h), &r, &d), VT_OK);
    assert_int_equal(r.version, 2);
    assert_ptr_equal(r.snp_report, h + 0x20);
    assert_ptr_equal(r.runtime_data, h + 0x4d4);
    assert_int_equal(r.runtime_data_len, strlen(runtime_json));
    assert_int_equal(r.hash_type, 1);
    assert_int_equal(vt_evidence_detect(h, sizeof(h)), VT_EVIDENCE_AZURE_HCL);
    /* Without padding too. */
    assert_int_equal(vt_hcl_report_parse(h, 0x4d4 + strlen(runtime_json), &r, &d), VT_OK);

    const struct {
        size_t off;
        uint32_t value;
        enum vt_err err;
        const char *check;
    } cases[] = {
        {0x00, 0x41434c48 /* "HLCA" */, VT_E_BAD_FIELD, "hcl.magic"},
        {0x04, 3, VT_E_UNSUPPORTED_VERSION, "hcl.version"},
        {0x04, 0, VT_E_UNSUPPORTED_VERSION, "hcl.version"},
        {0x08, 0x4d4, VT_E_BAD_LENGTH, "hcl.report_size"},
        {0x0c, 1, VT_E_BAD_FIELD, "hcl.request_type"},
        {0x10, 1, VT_E_BAD_FIELD, "hcl.status"},
        {0x18, 1, VT_E_BAD_FIELD, "hcl.reserved"},
        {0x4c0, 20, VT_E_BAD_LENGTH, "hcl.runtime.data_size"},
        {0x4c4, 2, VT_E_BAD_FIELD, "hcl.runtime.version"},
        {0x4c8, 4, VT_E_UNSUPPORTED_TEE, "hcl.runtime.report_type"},
        {0x4cc, 0, VT_E_UNSUPPORTED_ALGORITHM, "hcl.runtime.hash_type"},
        {0x4cc, 4, VT_E_UNSUPPORTED_ALGORITHM, "hcl.runtime.hash_type"},
        {0x4d0, 5000, VT_E_BAD_LENGTH, "hcl.runtime.data_size"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        make_hcl(h);
        put32(h + cases[i].off, cases[i].value);
        hcl_reject(h, sizeof(h), cases[i].err, cases[i].check);
    }
    /* Var data running past the end, with consistent sizes. */
    make_hcl(h);
    put32(h + 0x4d0, 5000);
    put32(h + 0x4c0, 5020);
    put32(h + 0x08, 0x4d4 + 5000);
    hcl_reject(h, sizeof(h), VT_E_TRUNCATED, "hcl.runtime.var_data");
    make_hcl(h);
    put32(h + 0x4d0, 0);
    put32(h + 0x4c0, 20);
    put32(h + 0x08, 0x4d4);
    hcl_reject(h, sizeof(h), VT_E_TRUNCATED, "hcl.runtime.var_data");
    /* Non-zero padding after the var data. */
    make_hcl(h);
    h[HCL_SIZE - 1] = 1;
    hcl_reject(h, sizeof(h), VT_E_TRAILING_DATA, "hcl.padding");
    make_hcl(h);
    hcl_reject(h, 0x4d3, VT_E_TRUNCATED, "hcl.size");
    hcl_reject(h, 70000, VT_E_TOO_LARGE, "hcl.size");
}

static void test_detect(void **state)
{
    (void)state;
    uint8_t b[VT_SNP_REPORT_SIZE];
    make_report(b, 2);
    assert_int_equal(vt_evidence_detect(b, sizeof(b)), VT_EVIDENCE_SNP_REPORT);
    assert_string_equal(vt_evidence_kind_name(VT_EVIDENCE_SNP_REPORT), "snp-report");
    assert_string_equal(vt_evidence_kind_name(VT_EVIDENCE_AZURE_HCL), "azure-hcl-report");
    assert_int_equal(vt_evidence_detect(b, sizeof(b) - 1), VT_EVIDENCE_UNKNOWN);
    put32(b + 0x34, 2);
    assert_int_equal(vt_evidence_detect(b, sizeof(b)), VT_EVIDENCE_UNKNOWN);
    make_report(b, 6);
    assert_int_equal(vt_evidence_detect(b, sizeof(b)), VT_EVIDENCE_UNKNOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),          cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_product_and_tcb), cmocka_unit_test(test_hcl),
        cmocka_unit_test(test_detect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
