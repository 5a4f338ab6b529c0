/*
 * Every real SEV-SNP report in ../shared/fixtures/snp (expected.json) verifies with its VCEK or
 * VLEK, with and without the KDS chain, with every field listed there; fails one second outside
 * the VEK's window; the two synthetic invalid VCEKs fail and their extensions still parse; the
 * Turin VCEK chains to the embedded Turin ARK; a VLEK passed for a VCEK report (and the reverse)
 * fails; the Azure HCL reports bind their runtime data; and flipping any byte of a report (signed
 * region, signature and its reserved tail) or of an HCL report's runtime data fails.
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

#define DAY 86400

struct file {
    uint8_t *p;
    size_t n;
};

static const char *fixtures(void)
{
    const char *root = vt_fixtures_or_skip();
    if (root == NULL) {
        skip();
    }
    return root;
}

static struct file load(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/snp/%s", fixtures(), rel);
    struct file f;
    f.p = vt_test_read_file(path, &f.n);
    if (f.p == NULL) {
        fail_msg("cannot read %s", path);
    }
    return f;
}

static json_t *load_expected(void)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/snp/expected.json", fixtures());
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    assert_non_null(j);
    return j;
}

static vt_time exp_time(json_t *o, const char *key)
{
    return vt_fixtures_time(json_string_value(json_object_get(o, key)));
}

static void expect_hex(const char *name, const uint8_t *p, size_t n, json_t *want)
{
    char hex[2 * 64 + 1];
    assert_true(n <= 64);
    vt_hex_encode(p, n, hex);
    if (strcmp(hex, json_string_value(want)) != 0) {
        fail_msg("%s: got %s, want %s", name, hex, json_string_value(want));
    }
}

static void expect_tcb(const char *name, const struct vt_snp_tcb_claim *t, json_t *want)
{
    if (t->bootloader != json_integer_value(json_object_get(want, "bl")) ||
        t->tee != json_integer_value(json_object_get(want, "tee")) ||
        t->snp != json_integer_value(json_object_get(want, "snp")) ||
        t->microcode != json_integer_value(json_object_get(want, "ucode"))) {
        fail_msg("%s: got bl %u tee %u snp %u ucode %u", name, t->bootloader, t->tee, t->snp,
                 t->microcode);
    }
}

static uint64_t hex_u64(json_t *j)
{
    return strtoull(json_string_value(j), NULL, 16);
}

static void check_claims(json_t *e, const struct vt_claims *c)
{
    const struct vt_snp_claims *s = &c->snp;
    assert_int_equal(c->tee, VT_TEE_SEV_SNP);
    assert_int_equal(c->status, VT_TCB_UP_TO_DATE);
    assert_string_equal(s->product, json_string_value(json_object_get(e, "generation")));
    assert_int_equal(s->version, json_integer_value(json_object_get(e, "version")));
    assert_int_equal(s->guest_svn, json_integer_value(json_object_get(e, "guest_svn")));
    assert_int_equal(s->vmpl, json_integer_value(json_object_get(e, "vmpl")));
    assert_int_equal(s->policy, hex_u64(json_object_get(e, "policy")));
    assert_int_equal(s->platform_info, hex_u64(json_object_get(e, "platform_info")));
    assert_int_equal(s->key_info, hex_u64(json_object_get(e, "key_info")));
    assert_int_equal(c->debug, (s->policy >> 19) & 1);
    expect_hex("report_data", c->report_data, 64, json_object_get(e, "report_data"));
    expect_hex("measurement", s->measurement, 48, json_object_get(e, "measurement"));
    expect_hex("host_data", s->host_data, 32, json_object_get(e, "host_data"));
    expect_hex("id_key_digest", s->id_key_digest, 48, json_object_get(e, "id_key_digest"));
    expect_hex("family_id", s->family_id, 16, json_object_get(e, "family_id"));
    expect_hex("image_id", s->image_id, 16, json_object_get(e, "image_id"));
    expect_hex("chip_id", s->chip_id, 64, json_object_get(e, "chip_id"));
    expect_hex("report_id", s->report_id, 32, json_object_get(e, "report_id"));
    expect_tcb("current_tcb", &s->current_tcb, json_object_get(e, "current_tcb"));
    expect_tcb("reported_tcb", &s->reported_tcb, json_object_get(e, "reported_tcb"));
    expect_tcb("committed_tcb", &s->committed_tcb, json_object_get(e, "committed_tcb"));
    expect_tcb("launch_tcb", &s->launch_tcb, json_object_get(e, "launch_tcb"));
    json_t *cpuid = json_object_get(e, "cpuid");
    if (json_is_array(cpuid)) {
        assert_int_equal(s->cpuid_fam_id, hex_u64(json_array_get(cpuid, 0)));
        assert_int_equal(s->cpuid_mod_id, hex_u64(json_array_get(cpuid, 1)));
        assert_int_equal(s->cpuid_step, hex_u64(json_array_get(cpuid, 2)));
    }
    const char *cn = json_string_value(json_object_get(e, "vek_subject_cn"));
    assert_int_equal(s->signing_key, strcmp(cn, "SEV-VLEK") == 0 ? 1 : 0);
    assert_string_equal(s->product_name, json_string_value(json_object_get(
                                             json_object_get(e, "vek_extensions"), "productName")));
    char *json = vt_claims_to_json(c);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"snp.measurement\":"));
    assert_non_null(strstr(json, "\"snp.reported_tcb.microcode\":"));
    free(json);
}

/* The amd-roots file of a report's chain. */
static const char *chain_file(json_t *e)
{
    const char *gen = json_string_value(json_object_get(e, "generation"));
    bool vlek = strcmp(json_string_value(json_object_get(e, "vek_subject_cn")), "SEV-VLEK") == 0;
    if (strcmp(gen, "Milan") == 0) {
        return vlek ? "amd-roots/ask_ark_milan_vlek.pem" : "amd-roots/ask_ark_milan.pem";
    }
    return vlek ? "amd-roots/ask_ark_genoa_vlek.pem" : "amd-roots/ask_ark_genoa.pem";
}

static enum vt_err verify(struct vt_snp_verifier *v, const struct file *report,
                          const struct file *vek, const struct file *chain, vt_time now,
                          enum vt_time_mode mode, struct vt_claims *c, struct vt_diag *d)
{
    struct vt_snp_opts o = {.now = now, .time_mode = mode, .vek = vek->p, .vek_len = vek->n};
    if (chain != NULL) {
        o.chain = chain->p;
        o.chain_len = chain->n;
    }
    vt_diag_init(d);
    return vt_snp_verify(v, report->p, report->n, &o, c, d);
}

static void test_reports(void **state)
{
    (void)state;
    json_t *all = load_expected();
    json_t *reports = json_object_get(all, "reports");
    assert_true(json_array_size(reports) >= 7);
    struct vt_snp_verifier *v;
    struct vt_diag d;
    assert_int_equal(vt_snp_verifier_new(NULL, &v, &d), VT_OK);
    struct vt_claims c;
    size_t i;
    json_t *e;
    json_array_foreach(reports, i, e)
    {
        const char *name = json_string_value(json_object_get(e, "report"));
        struct file report = load(name);
        struct file vek = load(json_string_value(json_object_get(e, "vek")));
        struct file chain = load(chain_file(e));
        vt_time nb = exp_time(e, "vek_not_before");
        vt_time na = exp_time(e, "vek_not_after");
        const vt_time inside[] = {nb, nb + DAY, na};
        for (size_t k = 0; k < 3; k++) {
            for (int with_chain = 0; with_chain < 2; with_chain++) {
                enum vt_err err = verify(v, &report, &vek, with_chain ? &chain : NULL, inside[k],
                                         VT_TIME_STRICT, &c, &d);
                if (err != VT_OK) {
                    fail_msg("%s at %lld: %s %s: %s", name, (long long)inside[k], vt_err_name(err),
                             d.check, d.detail);
                }
                check_claims(e, &c);
            }
        }
        assert_int_equal(verify(v, &report, &vek, NULL, na + 1, VT_TIME_STRICT, &c, &d),
                         VT_E_EXPIRED);
        assert_int_equal(verify(v, &report, &vek, NULL, nb - 1, VT_TIME_STRICT, &c, &d),
                         VT_E_NOT_YET_VALID);
        assert_int_equal(verify(v, &report, &vek, NULL, nb - 1, VT_TIME_EXPIRY_ONLY, &c, &d),
                         VT_OK);
        print_message("  %s: verified in [%lld, %lld]\n", name, (long long)nb, (long long)na);
        free(report.p);
        free(vek.p);
        free(chain.p);
    }
    vt_snp_verifier_free(v);
    json_decref(all);
}

/* The embedded ARKs are AMD's (fingerprints in expected.json), and each published ASK/ASVK
 * chains to one of them. */
static void test_roots(void **state)
{
    (void)state;
    json_t *all = load_expected();
    struct vt_cert_list arks;
    vt_cert_list_init(&arks);
    struct vt_diag d;
    assert_int_equal(vt_amd_arks_add(&arks, &d), VT_OK);
    assert_int_equal(arks.n, 3);
    const char *file;
    json_t *certs;
    size_t matched = 0;
    json_object_foreach(json_object_get(all, "amd_roots"), file, certs)
    {
        json_t *ark = json_array_get(certs, 1);
        uint8_t h[VT_SHA256_LEN];
        char hex[2 * VT_SHA256_LEN + 1];
        for (size_t k = 0; k < arks.n; k++) {
            vt_cert_sha256(arks.certs[k], h);
            vt_hex_encode(h, sizeof(h), hex);
            matched += strcmp(hex, json_string_value(json_object_get(ark, "sha256_der"))) == 0;
        }
        char rel[256];
        snprintf(rel, sizeof(rel), "amd-roots/%s", file);
        struct file f = load(rel);
        struct vt_cert_list chain;
        vt_cert_list_init(&chain);
        assert_int_equal(vt_cert_list_from_bytes(f.p, f.n, &chain, &d), VT_OK);
        assert_int_equal(chain.n, 2);
        enum vt_err err =
            vt_chain_verify(&chain, &arks, 1893456000 /* 2030 */, VT_TIME_STRICT, "amd", &d);
        if (err != VT_OK) {
            fail_msg("%s: %s %s", file, d.check, d.detail);
        }
        for (size_t k = 0; k < chain.n; k++) {
            assert_int_equal(vt_cert_check_rsa_pss(chain.certs[k], 384, 48, "pss", &d), VT_OK);
        }
        assert_int_equal(vt_cert_check_rsa_pss(chain.certs[0], 256, 48, "pss", &d),
                         VT_E_UNSUPPORTED_ALGORITHM);
        assert_int_equal(vt_cert_check_rsa_pss(chain.certs[0], 384, 32, "pss", &d),
                         VT_E_UNSUPPORTED_ALGORITHM);
        vt_cert_list_cleanup(&chain);
        free(f.p);
    }
    assert_int_equal(matched, 6); /* each of the six files' ARK is one of the three embedded */
    vt_cert_list_cleanup(&arks);
    json_decref(all);
}

static struct vt_cert *load_cert(const char *rel)
{
    struct file f = load(rel);
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    struct vt_diag d;
    assert_int_equal(vt_cert_list_from_bytes(f.p, f.n, &l, &d), VT_OK);
    struct vt_cert *c = vt_cert_ref(l.certs[0]);
    vt_cert_list_cleanup(&l);
    free(f.p);
    return c;
}

/* The extensions of every VEK in the fixtures, against expected.json. */
static void check_ext(const char *rel, json_t *want)
{
    struct vt_cert *c = load_cert(rel);
    struct vt_snp_vek_ext x;
    struct vt_diag d;
    assert_int_equal(vt_snp_vek_ext_parse(c, &x, &d), VT_OK);
    assert_true(x.has_struct_version);
    assert_int_equal(x.struct_version, json_integer_value(json_object_get(want, "structVersion")));
    assert_string_equal(x.product_name, json_string_value(json_object_get(want, "productName")));
    assert_int_equal(x.bl_spl, json_integer_value(json_object_get(want, "blSPL")));
    assert_int_equal(x.tee_spl, json_integer_value(json_object_get(want, "teeSPL")));
    assert_int_equal(x.snp_spl, json_integer_value(json_object_get(want, "snpSPL")));
    assert_int_equal(x.ucode_spl, json_integer_value(json_object_get(want, "ucodeSPL")));
    json_t *fmc = json_object_get(want, "fmcSPL");
    assert_int_equal(x.has_fmc, fmc != NULL);
    if (fmc != NULL) {
        assert_int_equal(x.fmc_spl, json_integer_value(fmc));
    }
    json_t *hwid = json_object_get(want, "hwID");
    if (hwid == NULL) {
        assert_int_equal(x.hwid_len, 0);
        assert_string_not_equal(x.csp_id, "");
    } else {
        const char *hex = json_string_value(hwid);
        /* The synthetic "new" form: the OCTET STRING header is not part of the hwID. */
        if (strncmp(hex, "0440", 4) == 0) {
            hex += 4;
        }
        json_t *j = json_string(hex);
        expect_hex("hwID", x.hwid, x.hwid_len, j);
        json_decref(j);
    }
    vt_cert_free(c);
}

static void test_vek_extensions(void **state)
{
    (void)state;
    json_t *all = load_expected();
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(all, "reports"), i, e)
    {
        check_ext(json_string_value(json_object_get(e, "vek")),
                  json_object_get(e, "vek_extensions"));
    }
    json_array_foreach(json_object_get(all, "extra_veks"), i, e)
    {
        check_ext(json_string_value(json_object_get(e, "vek")), json_object_get(e, "extensions"));
    }
    json_decref(all);
}

/* The two synthetic VCEKs carry no valid AMD signature. */
static void test_invalid_veks(void **state)
{
    (void)state;
    struct vt_snp_verifier *v;
    struct vt_diag d;
    assert_int_equal(vt_snp_verifier_new(NULL, &v, &d), VT_OK);
    struct file report = load("trustee/test-report.bin");
    const char *bad[] = {"trustee/test-vcek-invalid-legacy.der",
                         "trustee/test-vcek-invalid-new.der"};
    struct vt_claims c;
    for (size_t i = 0; i < 2; i++) {
        struct file vek = load(bad[i]);
        assert_int_equal(verify(v, &report, &vek, NULL, 1893456000, VT_TIME_STRICT, &c, &d),
                         VT_E_CERT_SIGNATURE);
        assert_string_equal(d.check, "snp_chain[0].signature");
        free(vek.p);
    }
    /* A real VCEK with one byte of its signature changed fails the same way; a changed TBS byte
     * (the subject key) fails too. */
    struct file vek = load("trustee/test-vcek.der");
    vek.p[vek.n - 10] ^= 1;
    assert_int_equal(verify(v, &report, &vek, NULL, 1893456000, VT_TIME_STRICT, &c, &d),
                     VT_E_CERT_SIGNATURE);
    free(vek.p);
    free(report.p);
    vt_snp_verifier_free(v);
}

/* The Turin VCEK: 8-byte hwID, fmcSPL, and a chain to the embedded Turin ARK. */
static void test_turin_chain(void **state)
{
    (void)state;
    struct vt_cert *vek = load_cert("virtee-sev/vcek_turin.der");
    struct file f = load("virtee-sev/cert_chain_turin");
    struct vt_cert_list chain;
    struct vt_cert_list arks;
    vt_cert_list_init(&chain);
    vt_cert_list_init(&arks);
    struct vt_diag d;
    assert_int_equal(vt_amd_arks_add(&arks, &d), VT_OK);
    assert_int_equal(vt_cert_list_add(&chain, vek), VT_OK);
    assert_int_equal(vt_cert_list_from_bytes(f.p, f.n, &chain, &d), VT_OK);
    enum vt_err err = vt_chain_verify(&chain, &arks, 1893456000, VT_TIME_STRICT, "turin", &d);
    if (err != VT_OK) {
        fail_msg("%s %s", d.check, d.detail);
    }
    vt_cert_list_cleanup(&chain);
    vt_cert_list_cleanup(&arks);
    vt_cert_free(vek);
    free(f.p);
}

/* A VLEK passed for a VCEK-signed report, and a VCEK for the VLEK-signed one. */
static void test_wrong_key_role(void **state)
{
    (void)state;
    struct vt_snp_verifier *v;
    struct vt_diag d;
    struct vt_claims c;
    assert_int_equal(vt_snp_verifier_new(NULL, &v, &d), VT_OK);
    struct file vcek_report = load("trustee/test-report.bin");
    struct file vlek_report = load("trustee/test-vlek-report.bin");
    struct file vcek = load("trustee/test-vcek.der");
    struct file vlek = load("trustee/test-vlek.der");
    struct file asvk = load("amd-roots/ask_ark_milan_vlek.pem");
    vt_time t = 1748736000; /* 2025-06-01, inside the VLEK's year */
    assert_int_equal(verify(v, &vcek_report, &vlek, NULL, t, VT_TIME_STRICT, &c, &d),
                     VT_E_CHAIN_NAME);
    assert_string_equal(d.check, "snp.vek.role");
    assert_int_equal(verify(v, &vcek_report, &vlek, &asvk, t, VT_TIME_STRICT, &c, &d),
                     VT_E_CHAIN_NAME);
    assert_int_equal(verify(v, &vlek_report, &vcek, NULL, t, VT_TIME_STRICT, &c, &d),
                     VT_E_CHAIN_NAME);
    assert_string_equal(d.check, "snp.vek.role");
    /* The right pairs verify. */
    assert_int_equal(verify(v, &vlek_report, &vlek, &asvk, t, VT_TIME_STRICT, &c, &d), VT_OK);
    assert_string_equal(c.snp.csp_id, "CN=cc-us-east-2.amazonaws.com");
    assert_true(c.snp.chip_id_masked);
    /* Another VCEK of the same product: its hwID, TCB or key do not match the report. */
    struct file other = load("virtee-sev/vcek_milan.der");
    assert_int_not_equal(verify(v, &vcek_report, &other, NULL, t, VT_TIME_STRICT, &c, &d), VT_OK);
    free(other.p);
    free(vcek_report.p);
    free(vlek_report.p);
    free(vcek.p);
    free(vlek.p);
    free(asvk.p);
    vt_snp_verifier_free(v);
}

/* The error a flip at offset `off` of a report must give, by region. */
static enum vt_err flip_error(size_t off)
{
    if (off >= 0x2a0 && off < 0x2a0 + 48) {
        return VT_E_SIGNATURE; /* r */
    }
    if (off >= 0x2e8 && off < 0x2e8 + 48) {
        return VT_E_SIGNATURE; /* s */
    }
    if (off >= 0x2a0) {
        return VT_E_BAD_FIELD; /* high bytes of r and s, reserved tail */
    }
    return VT_OK; /* signed region: any error */
}

static void flip_all(struct vt_snp_verifier *v, const char *rel, const char *vek_rel, vt_time t,
                     size_t from, size_t to)
{
    struct file report = load(rel);
    struct file vek = load(vek_rel);
    struct vt_claims c;
    struct vt_diag d;
    assert_int_equal(verify(v, &report, &vek, NULL, t, VT_TIME_STRICT, &c, &d), VT_OK);
    size_t base = report.n == VT_SNP_REPORT_SIZE ? 0 : 0x20;
    for (size_t off = from; off < to && off < report.n; off++) {
        static const uint8_t masks[] = {0x01, 0x80};
        for (size_t m = 0; m < 2; m++) {
            report.p[off] ^= masks[m];
            enum vt_err err = verify(v, &report, &vek, NULL, t, VT_TIME_STRICT, &c, &d);
            report.p[off] ^= masks[m];
            if (err == VT_OK) {
                fail_msg("%s: flipping 0x%02x at 0x%zx still verifies", rel, masks[m], off);
            }
            enum vt_err want =
                off >= base && off < base + VT_SNP_REPORT_SIZE ? flip_error(off - base) : VT_OK;
            if (want != VT_OK && err != want) {
                fail_msg("%s: flip at 0x%zx gave %s (%s), want %s", rel, off, vt_err_name(err),
                         d.check, vt_err_name(want));
            }
        }
    }
    free(report.p);
    free(vek.p);
}

static void test_flips(void **state)
{
    (void)state;
    struct vt_snp_verifier *v;
    struct vt_diag d;
    assert_int_equal(vt_snp_verifier_new(NULL, &v, &d), VT_OK);
    vt_time t = 1748736000;
    flip_all(v, "trustee/test-report.bin", "trustee/test-vcek.der", t, 0, VT_SNP_REPORT_SIZE);
    flip_all(v, "trustee/test-vlek-report.bin", "trustee/test-vlek.der", t, 0, VT_SNP_REPORT_SIZE);
    flip_all(v, "trustee/derived/e2e-genoa-report.bin", "trustee/derived/e2e-genoa-vcek.der", t, 0,
             VT_SNP_REPORT_SIZE);
    /* An HCL report: header, runtime-data header, every byte of the runtime data, padding. */
    flip_all(v, "trustee-azure/hcl-report.bin", "trustee-azure/vcek.pem", t, 0, 0x20);
    flip_all(v, "trustee-azure/hcl-report.bin", "trustee-azure/vcek.pem", t, 0x4c0, 2600);
    vt_snp_verifier_free(v);
}

/* The HCL reports: runtime data bound, JWKs and VM configuration exposed. */
static void test_hcl(void **state)
{
    (void)state;
    struct vt_snp_verifier *v;
    struct vt_diag d;
    struct vt_claims c;
    assert_int_equal(vt_snp_verifier_new(NULL, &v, &d), VT_OK);
    const char *pairs[2][2] = {
        {"trustee-azure/hcl-report.bin", "trustee-azure/vcek.pem"},
        {"trustee-azure/derived/genoa-hcl-report.bin", "trustee-azure/vcek-genoa.pem"},
    };
    for (size_t i = 0; i < 2; i++) {
        struct file report = load(pairs[i][0]);
        struct file vek = load(pairs[i][1]);
        assert_int_equal(vt_evidence_detect(report.p, report.n), VT_EVIDENCE_AZURE_HCL);
        assert_int_equal(verify(v, &report, &vek, NULL, 1893456000, VT_TIME_STRICT, &c, &d), VT_OK);
        assert_true(c.snp.has_runtime_data);
        assert_int_equal(c.snp.n_runtime_keys, 2);
        assert_string_equal(c.snp.runtime_keys[0].kid, "HCLAkPub");
        assert_non_null(strstr(c.snp.runtime_keys[0].jwk, "\"kty\":\"RSA\""));
        assert_non_null(strstr(c.snp.vm_configuration, "\"secure-boot\":"));
        assert_true(c.user_data.present);
        char *json = vt_claims_to_json(&c);
        assert_non_null(strstr(json, "\"snp.runtime.keys.HCLAkPub\":{"));
        free(json);
        /* The embedded SNP report alone verifies too, without the runtime claims. */
        struct vt_hcl_report h;
        assert_int_equal(vt_hcl_report_parse(report.p, report.n, &h, &d), VT_OK);
        struct file inner = {.p = (uint8_t *)h.snp_report, .n = VT_SNP_REPORT_SIZE};
        assert_int_equal(verify(v, &inner, &vek, NULL, 1893456000, VT_TIME_STRICT, &c, &d), VT_OK);
        assert_false(c.snp.has_runtime_data);
        free(report.p);
        free(vek.p);
    }
    vt_snp_verifier_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roots),
        cmocka_unit_test(test_reports),
        cmocka_unit_test(test_vek_extensions),
        cmocka_unit_test(test_invalid_veks),
        cmocka_unit_test(test_turin_chain),
        cmocka_unit_test(test_wrong_key_role),
        cmocka_unit_test(test_hcl),
        cmocka_unit_test(test_flips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
