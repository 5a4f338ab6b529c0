/*
 * The X.509 and SEV-SNP generators of the simulators return errors instead of aborting: each
 * reject path here names the generator step that failed (check "sim.x509.<step>" or
 * "sim.snp.<step>") with the values or OpenSSL's reason, leaves the outputs untouched and the
 * process running. The sim:snp backend's refusals of a bad sim dir are in test_sim.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "snp_sim.h"
#include "x509_gen.h"

#define NOW ((int64_t)1750000000)

static void expect_err(enum vt_err got, const struct vt_diag *d, enum vt_err want,
                       const char *check, const char *detail_part)
{
    if (got != want || strcmp(d->check, check) != 0 || strstr(d->detail, detail_part) == NULL) {
        fail_msg("got %s [%s] %s, want %s [%s] ...%s...", vt_err_name(got), d->check, d->detail,
                 vt_err_name(want), check, detail_part);
    }
}

static void test_x509_cert(void **state)
{
    (void)state;
    struct vt_diag d;
    vt_diag_init(&d);
    EVP_PKEY *key = NULL;
    assert_int_equal(vt_testgen_p256_key(&key, &d), VT_OK);
    X509 *x = NULL;

    /* no subject key */
    struct vt_testgen_cert_opts o = {.cn = "t", .not_before = NOW, .not_after = NOW + 60};
    expect_err(vt_testgen_cert(&o, &x, &d), &d, VT_E_ARG, "sim.x509.cert",
               "no subject key (opts.key)");
    assert_null(x);

    /* a keyUsage OpenSSL's config parser does not know: the call, and OpenSSL's reason */
    o.key = key;
    o.key_usage = "critical,bogusUsage";
    expect_err(vt_testgen_cert(&o, &x, &d), &d, VT_E_CRYPTO, "sim.x509.add_ext",
               "ext != NULL failed; openssl: error:");
    assert_null(x);

    /* an extension OID that is no OID */
    o.key_usage = NULL;
    o.ext_oid = "not.an.oid";
    o.ext_der = (const uint8_t *)"\x05\x00";
    o.ext_len = 2;
    expect_err(vt_testgen_cert(&o, &x, &d), &d, VT_E_ARG, "sim.x509.add_raw_ext",
               "extension OID \"not.an.oid\" is not a dotted OID");
    assert_null(x);

    /* and the same options without the defect work */
    o.ext_oid = NULL;
    assert_int_equal(vt_testgen_cert(&o, &x, &d), VT_OK);
    assert_non_null(x);

    /* re-issue without a signer */
    struct vt_testgen_reissue_opts r = {.not_before = NOW, .not_after = NOW + 60, .pathlen = -1};
    X509 *y = NULL;
    expect_err(vt_testgen_reissue(x, &r, &y, &d), &d, VT_E_ARG, "sim.x509.reissue",
               "no signing key (opts.signer)");
    assert_null(y);
    X509_free(x);
    EVP_PKEY_free(key);

    /* DER / PEM of nothing */
    uint8_t *der = NULL;
    size_t len = 7;
    expect_err(vt_testgen_cert_der(NULL, &der, &len, &d), &d, VT_E_ARG, "sim.x509.cert_der",
               "no certificate");
    assert_null(der);
    assert_int_equal(len, 7);
}

static void test_x509_keys(void **state)
{
    (void)state;
    struct vt_diag d;
    vt_diag_init(&d);
    /* a P-384 key where the raw 32-byte r || s of P-256 is asked for */
    EVP_PKEY *p384 = EVP_EC_gen("P-384");
    assert_non_null(p384);
    uint8_t sig[64] = {0}, xy[64] = {0}, zero[64] = {0};
    expect_err(vt_testgen_p256_sign(p384, "m", 1, sig, &d), &d, VT_E_ARG, "sim.x509.p256_sign",
               "the key is EC, want an EC P-256 key");
    expect_err(vt_testgen_p256_xy(p384, xy, &d), &d, VT_E_ARG, "sim.x509.p256_xy",
               "want an EC P-256 key");
    assert_memory_equal(sig, zero, 64);
    assert_memory_equal(xy, zero, 64);

    /* a CRL with no signer */
    struct vt_testgen_pki pki;
    assert_int_equal(vt_testgen_pki_init(&pki, NOW - 60, NOW + 60, NOW - 60, NOW + 60, &d), VT_OK);
    X509_CRL *crl = NULL;
    expect_err(vt_testgen_crl(pki.ca, NULL, NULL, 0, NOW, NOW + 60, 1, &crl, &d), &d, VT_E_ARG,
               "sim.x509.crl", "no issuer certificate or signing key");
    assert_null(crl);
    /* a chain list of a certificate that is missing: the list stays empty */
    struct vt_cert_list l;
    X509 *certs[2] = {pki.leaf, NULL};
    expect_err(vt_testgen_list(&l, certs, 2, &d), &d, VT_E_ARG, "sim.x509.cert_der",
               "no certificate");
    assert_int_equal(l.n, 0);
    vt_testgen_pki_cleanup(&pki);
    EVP_PKEY_free(p384);
}

static void test_snp(void **state)
{
    (void)state;
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_ssim_pki pki;
    assert_int_equal(vt_ssim_pki_init(&pki, VT_SNP_MILAN, NOW - 60, NOW + 86400, &d), VT_OK);
    struct vt_ssim_vek_opts o;
    vt_ssim_vek_defaults(&pki, &o, false, NOW - 60, NOW + 86400);
    struct vt_ssim_report r;
    vt_ssim_report_defaults(&pki, &o, &r);

    /* a report signed with a key that is not P-384: the key's type and size */
    uint8_t report[VT_SNP_REPORT_SIZE];
    memset(report, 0xee, sizeof(report));
    expect_err(vt_ssim_report_sign(&r, pki.ark_key, report, &d), &d, VT_E_BAD_KEY,
               "sim.snp.report_sign", "the signing key is RSA (2048 bits), want EC P-384");
    EVP_PKEY *p256 = EVP_EC_gen("P-256");
    assert_non_null(p256);
    expect_err(vt_ssim_report_sign(&r, p256, report, &d), &d, VT_E_BAD_KEY, "sim.snp.report_sign",
               "the signing key is EC (256 bits), want EC P-384");
    assert_int_equal(report[0], 0xee); /* untouched */
    /* an HCL envelope around it fails the same way and hands out nothing */
    uint8_t *hcl = NULL;
    size_t hcl_len = 0;
    expect_err(vt_ssim_hcl(&r, p256, "{}", &hcl, &hcl_len, &d), &d, VT_E_BAD_KEY,
               "sim.snp.report_sign", "want EC P-384");
    assert_null(hcl);

    /* a VCEK signed by an EC key where AMD's CAs sign RSASSA-PSS */
    X509 *vek = NULL;
    EVP_PKEY *vek_key = NULL;
    o.signer = p256;
    expect_err(vt_ssim_vek(&pki, &o, &vek, &vek_key, &d), &d, VT_E_BAD_KEY, "sim.snp.sign_pss",
               "the signing key is EC, want an RSA key");
    assert_null(vek);
    assert_null(vek_key);
    /* a product name longer than the generator encodes */
    char longname[200];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    vt_ssim_vek_defaults(&pki, &o, false, NOW - 60, NOW + 86400);
    o.product_name = longname;
    expect_err(vt_ssim_vek(&pki, &o, &vek, &vek_key, &d), &d, VT_E_ARG, "sim.snp.add_amd_string",
               "1.3.6.1.4.1.3704.1.2: a string of 199 bytes (at most 127)");
    assert_null(vek);

    /* a PEM chain with a hole in it */
    X509 *chain[2] = {pki.ask, NULL};
    char *pem = NULL;
    size_t pem_len = 0;
    expect_err(vt_ssim_pem(chain, 2, &pem, &pem_len, &d), &d, VT_E_ARG, "sim.snp.pem",
               "certificate 1 of 2 is missing");
    assert_null(pem);

    /* and the defaults still work */
    vt_ssim_vek_defaults(&pki, &o, false, NOW - 60, NOW + 86400);
    assert_int_equal(vt_ssim_vek(&pki, &o, &vek, &vek_key, &d), VT_OK);
    assert_int_equal(vt_ssim_report_sign(&r, vek_key, report, &d), VT_OK);
    X509_free(vek);
    EVP_PKEY_free(vek_key);
    EVP_PKEY_free(p256);
    vt_ssim_pki_cleanup(&pki);
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
        cmocka_unit_test(test_x509_cert),
        cmocka_unit_test(test_x509_keys),
        cmocka_unit_test(test_snp),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
