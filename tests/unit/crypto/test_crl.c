/*
 * Unit tests for src/crypto/crl.c: DER, PEM and hex forms normalised to the same DER, trailing
 * bytes, issuer and signature checks, revocation lookup, and Intel's real CRLs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/x509v3.h>

#include "crypto/crypto.h"
#include "base/encoding.h"

#include "vt_fixtures.h"
#include "x509_gen.h"

#define T0 INT64_C(1750000000)
#define DAY INT64_C(86400)

struct fixture {
    struct vt_testgen_pki pki;
    X509_CRL *crl; /* by the intermediate CA, listing the leaf (serial 3) and serial 77 */
    uint8_t *der;
    size_t der_len;
};

static const long revoked_serials[] = {77, 3};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(
        vt_testgen_pki_init(&f->pki, T0 - 1000 * DAY, T0 + 1000 * DAY, T0 - DAY, T0 + DAY, NULL),
        VT_OK);
    assert_int_equal(vt_testgen_crl(f->pki.ca, f->pki.ca_key, revoked_serials, 2, T0, T0 + 30 * DAY,
                                    42, &f->crl, NULL),
                     VT_OK);
    assert_int_equal(vt_testgen_crl_der(f->crl, &f->der, &f->der_len, NULL), VT_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->der);
    X509_CRL_free(f->crl);
    vt_testgen_pki_cleanup(&f->pki);
    free(f);
    return 0;
}

static char *hex_of(const uint8_t *p, size_t n, bool upper, size_t *len)
{
    char *out = malloc(2 * n + 1);
    assert_non_null(out);
    vt_hex_encode(p, n, out);
    if (upper) {
        for (size_t i = 0; i < 2 * n; i++) {
            if (out[i] >= 'a' && out[i] <= 'f') {
                out[i] = (char)(out[i] - 'a' + 'A');
            }
        }
    }
    *len = 2 * n;
    return out;
}

static uint8_t *append(const void *a, size_t an, const void *b, size_t bn, size_t *len)
{
    uint8_t *out = malloc(an + bn + 1);
    assert_non_null(out);
    memcpy(out, a, an);
    memcpy(out + an, b, bn);
    *len = an + bn;
    return out;
}

/* Parse and expect the normalised DER to equal the fixture's DER. */
static void expect_normalised(struct fixture *f, const void *p, size_t len)
{
    struct vt_crl *crl = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_crl_parse(p, len, &crl, &d);
    if (err != VT_OK) {
        fail_msg("%s: %s: %s", vt_err_name(err), d.check, d.detail);
    }
    size_t n = 0;
    const uint8_t *der = vt_crl_der(crl, &n);
    assert_int_equal(n, f->der_len);
    assert_memory_equal(der, f->der, n);
    vt_crl_free(crl);
}

static void expect_reject(const void *p, size_t len, enum vt_err code)
{
    struct vt_crl *crl = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_crl_parse(p, len, &crl, &d);
    if (err != code) {
        fail_msg("expected %s, got %s (%s: %s)", vt_err_name(code), vt_err_name(err), d.check,
                 d.detail);
    }
    assert_int_equal(d.code, code);
    assert_null(crl);
}

static void test_forms_normalise(void **state)
{
    struct fixture *f = *state;
    size_t n = 0;
    uint8_t *t;
    expect_normalised(f, f->der, f->der_len);
    t = append(f->der, f->der_len, "\0\0\n", 3, &n);
    expect_normalised(f, t, n);
    free(t);

    char *pem = NULL;
    assert_int_equal(vt_testgen_crl_pem(f->crl, &pem, &n, NULL), VT_OK);
    assert_non_null(strstr(pem, "-----BEGIN X509 CRL-----"));
    expect_normalised(f, pem, n);
    size_t m = 0;
    t = append(pem, n, "\r\n\0\0\0", 5, &m);
    expect_normalised(f, t, m);
    free(t);
    t = append("\n  ", 3, pem, n, &m);
    expect_normalised(f, t, m);
    free(t);
    free(pem);

    char *hex = hex_of(f->der, f->der_len, false, &n);
    expect_normalised(f, hex, n);
    t = append(hex, n, "\n\0", 2, &m);
    expect_normalised(f, t, m);
    free(t);
    free(hex);
    hex = hex_of(f->der, f->der_len, true, &n);
    t = append(" \n", 2, hex, n, &m);
    expect_normalised(f, t, m);
    free(t);
    free(hex);
}

static void test_parse_rejects(void **state)
{
    struct fixture *f = *state;
    size_t n = 0;
    uint8_t *t;

    expect_reject("", 0, VT_E_BAD_CRL);
    expect_reject("\n\0\0", 3, VT_E_BAD_CRL);
    expect_reject("not a crl", 9, VT_E_BAD_CRL);
    /* Trailing garbage after DER (a NUL tail is fine, anything else is not). */
    t = append(f->der, f->der_len, "\0x", 2, &n);
    expect_reject(t, n, VT_E_BAD_CRL);
    free(t);
    t = append(f->der, f->der_len, f->der, f->der_len, &n);
    expect_reject(t, n, VT_E_BAD_CRL);
    free(t);
    /* Truncations. */
    for (size_t cut = 1; cut < f->der_len; cut += 29) {
        expect_reject(f->der, cut, VT_E_BAD_CRL);
    }
    /* Hex: odd length, a non-hex character, hex of trailing garbage. */
    char *hex = hex_of(f->der, f->der_len, false, &n);
    expect_reject(hex, n - 1, VT_E_BAD_CRL);
    hex[10] = 'g';
    expect_reject(hex, n, VT_E_BAD_CRL);
    free(hex);
    t = append(f->der, f->der_len, "\x01", 1, &n);
    hex = hex_of(t, n, false, &n);
    expect_reject(hex, n, VT_E_BAD_CRL);
    free(hex);
    free(t);
    /* PEM: text after the block, a missing END line, corrupt base64, a certificate label. */
    char *pem = NULL;
    assert_int_equal(vt_testgen_crl_pem(f->crl, &pem, &n, NULL), VT_OK);
    size_t m = 0;
    t = append(pem, n, "trailing", 8, &m);
    expect_reject(t, m, VT_E_BAD_CRL);
    free(t);
    expect_reject(pem, n - 8, VT_E_BAD_CRL);
    pem[40] = '!';
    expect_reject(pem, n, VT_E_BAD_CRL);
    free(pem);
    const char cert_pem[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    expect_reject(cert_pem, sizeof(cert_pem) - 1, VT_E_BAD_CRL);
    /* A certificate is not a CRL. */
    uint8_t *cert = NULL;
    assert_int_equal(vt_testgen_cert_der(f->pki.ca, &cert, &n, NULL), VT_OK);
    expect_reject(cert, n, VT_E_BAD_CRL);
    free(cert);
}

static void test_fields(void **state)
{
    struct fixture *f = *state;
    struct vt_crl *crl = NULL;
    assert_int_equal(vt_crl_parse(f->der, f->der_len, &crl, NULL), VT_OK);
    assert_int_equal(vt_crl_this_update(crl), T0);
    assert_int_equal(vt_crl_next_update(crl), T0 + 30 * DAY);
    char buf[128];
    vt_crl_issuer_text(crl, buf, sizeof(buf));
    assert_string_equal(buf, "CN=Test Intermediate CA,O=veritee test,C=US");
    vt_crl_number_text(crl, buf, sizeof(buf));
    assert_string_equal(buf, "42");
    vt_crl_free(crl);
    vt_crl_free(NULL);

    /* No nextUpdate; a CRL number past 64 bits is not needed; a large one in decimal. */
    X509_CRL *x = NULL;
    assert_int_equal(
        vt_testgen_crl(f->pki.ca, f->pki.ca_key, NULL, 0, T0, -1, 1234567890L, &x, NULL), VT_OK);
    size_t n = 0;
    uint8_t *der = NULL;
    assert_int_equal(vt_testgen_crl_der(x, &der, &n, NULL), VT_OK);
    assert_int_equal(vt_crl_parse(der, n, &crl, NULL), VT_OK);
    assert_int_equal(vt_crl_next_update(crl), INT64_MAX);
    vt_crl_number_text(crl, buf, sizeof(buf));
    assert_string_equal(buf, "1234567890");
    vt_crl_number_text(crl, buf, 4);
    assert_string_equal(buf, "123");
    vt_crl_free(crl);
    free(der);
    X509_CRL_free(x);
}

static void test_check_issuer(void **state)
{
    struct fixture *f = *state;
    struct vt_crl *crl = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_crl_parse(f->der, f->der_len, &crl, &d), VT_OK);
    struct vt_cert *ca = NULL;
    assert_int_equal(vt_testgen_vt_cert(f->pki.ca, &ca, NULL), VT_OK);
    struct vt_cert *root = NULL;
    assert_int_equal(vt_testgen_vt_cert(f->pki.root, &root, NULL), VT_OK);
    assert_int_equal(vt_crl_check_issuer(crl, ca, "pck_crl", &d), VT_OK);

    assert_int_equal(vt_crl_check_issuer(crl, root, "pck_crl", &d), VT_E_CRL_ISSUER);
    assert_string_equal(d.check, "pck_crl.issuer");
    assert_non_null(strstr(d.detail, "CN=Test Intermediate CA"));
    assert_non_null(strstr(d.detail, "CN=Test Root CA"));

    /* Same name, other key: the signature does not verify. */
    EVP_PKEY *k = NULL;
    assert_int_equal(vt_testgen_p256_key(&k, NULL), VT_OK);
    struct vt_testgen_cert_opts o = {
        .cn = "Test Intermediate CA",
        .key = k,
        .issuer = f->pki.root,
        .signer = f->pki.root_key,
        .not_before = T0 - DAY,
        .not_after = T0 + DAY,
        .serial = 70,
        .ca = true,
        .pathlen = 0,
        .key_usage = "critical,keyCertSign,cRLSign",
    };
    X509 *impostor = NULL;
    assert_int_equal(vt_testgen_cert(&o, &impostor, NULL), VT_OK);
    struct vt_cert *imp = NULL;
    assert_int_equal(vt_testgen_vt_cert(impostor, &imp, NULL), VT_OK);
    assert_int_equal(vt_crl_check_issuer(crl, imp, "root_ca_crl", &d), VT_E_CRL_SIGNATURE);
    assert_string_equal(d.check, "root_ca_crl.signature");
    vt_cert_free(imp);
    X509_free(impostor);

    /* The right key whose keyUsage lacks cRLSign. */
    o.key = f->pki.ca_key;
    o.key_usage = "critical,keyCertSign";
    X509 *nocrl = NULL;
    assert_int_equal(vt_testgen_cert(&o, &nocrl, NULL), VT_OK);
    struct vt_cert *nc = NULL;
    assert_int_equal(vt_testgen_vt_cert(nocrl, &nc, NULL), VT_OK);
    assert_int_equal(vt_crl_check_issuer(crl, nc, "pck_crl", &d), VT_E_CRL_ISSUER);
    assert_non_null(strstr(d.detail, "cRLSign"));
    vt_cert_free(nc);
    X509_free(nocrl);

    /* A corrupted signature. */
    uint8_t *bad = malloc(f->der_len);
    assert_non_null(bad);
    memcpy(bad, f->der, f->der_len);
    bad[f->der_len - 2] ^= 0x01;
    struct vt_crl *badcrl = NULL;
    assert_int_equal(vt_crl_parse(bad, f->der_len, &badcrl, NULL), VT_OK);
    assert_int_equal(vt_crl_check_issuer(badcrl, ca, "pck_crl", &d), VT_E_CRL_SIGNATURE);
    vt_crl_free(badcrl);
    free(bad);

    EVP_PKEY_free(k);
    vt_cert_free(ca);
    vt_cert_free(root);
    vt_crl_free(crl);
}

static void test_revocation(void **state)
{
    struct fixture *f = *state;
    struct vt_crl *crl = NULL;
    assert_int_equal(vt_crl_parse(f->der, f->der_len, &crl, NULL), VT_OK);
    struct vt_cert *leaf = NULL;
    assert_int_equal(vt_testgen_vt_cert(f->pki.leaf, &leaf, NULL), VT_OK); /* serial 3 */
    struct vt_cert *ca = NULL;
    assert_int_equal(vt_testgen_vt_cert(f->pki.ca, &ca, NULL), VT_OK); /* serial 2 */
    vt_time when = 0;
    assert_true(vt_crl_is_revoked(crl, leaf, &when));
    /* The generator dates the i-th listed serial at this_update - 60 * (i + 1). */
    assert_int_equal(when, T0 - 120);
    assert_true(vt_crl_is_revoked(crl, leaf, NULL));
    when = 5;
    assert_false(vt_crl_is_revoked(crl, ca, &when));
    assert_int_equal(when, 5);
    vt_cert_free(leaf);
    vt_cert_free(ca);
    vt_crl_free(crl);
}

/* A CRL with one extra extension, as DER. */
static uint8_t *crl_with_ext(struct fixture *f, int nid, bool critical, size_t *len)
{
    X509_CRL *x = NULL;
    assert_int_equal(vt_testgen_crl(f->pki.ca, f->pki.ca_key, NULL, 0, T0, T0 + DAY, 1, &x, NULL),
                     VT_OK);
    ASN1_INTEGER *v = ASN1_INTEGER_new();
    assert_non_null(v);
    assert_int_equal(ASN1_INTEGER_set(v, 1), 1);
    if (nid == NID_delta_crl) {
        assert_int_equal(X509_CRL_add1_ext_i2d(x, nid, v, critical ? 1 : 0, 0), 1);
    } else {
        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        assert_non_null(os);
        assert_int_equal(ASN1_OCTET_STRING_set(os, (const unsigned char *)"\x05\x00", 2), 1);
        X509_EXTENSION *ext = X509_EXTENSION_create_by_NID(NULL, nid, critical ? 1 : 0, os);
        assert_non_null(ext);
        assert_int_equal(X509_CRL_add_ext(x, ext, -1), 1);
        X509_EXTENSION_free(ext);
        ASN1_OCTET_STRING_free(os);
    }
    ASN1_INTEGER_free(v);
    assert_true(X509_CRL_sign(x, f->pki.ca_key, EVP_sha256()) > 0);
    uint8_t *der = NULL;
    assert_int_equal(vt_testgen_crl_der(x, &der, len, NULL), VT_OK);
    X509_CRL_free(x);
    return der;
}

static void test_unsupported_extensions(void **state)
{
    struct fixture *f = *state;
    size_t n = 0;
    uint8_t *der = crl_with_ext(f, NID_delta_crl, true, &n);
    expect_reject(der, n, VT_E_BAD_CRL);
    free(der);
    /* An unknown critical extension (subjectDirectoryAttributes stands in). */
    der = crl_with_ext(f, NID_subject_directory_attributes, true, &n);
    expect_reject(der, n, VT_E_BAD_CRL);
    free(der);
    der = crl_with_ext(f, NID_subject_directory_attributes, false, &n);
    struct vt_crl *crl = NULL;
    assert_int_equal(vt_crl_parse(der, n, &crl, NULL), VT_OK);
    vt_crl_free(crl);
    free(der);
}

static uint8_t *read_fixture(const char *dir, const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    uint8_t *p = vt_test_read_file(path, len);
    if (p == NULL) {
        fail_msg("cannot read %s", path);
    }
    return p;
}

/* SPEC: dcap.md 4.1, the root CA CRL is signed by the root; the PCK CRL by the PCK CA. */
static void test_fixture_intel_crls(void **state)
{
    (void)state;
    const char *dir = vt_fixtures_or_skip();
    const char *set = "dcap/phala-dcap-qvl/sgx-v3-fmspc00a067110000";
    char rel[256];
    size_t n = 0;
    struct vt_diag d;
    vt_diag_init(&d);

    uint8_t *pem = read_fixture(dir, "dcap/intel-sgx-root-ca.pem", &n);
    struct vt_cert_list roots;
    vt_cert_list_init(&roots);
    assert_int_equal(vt_cert_list_from_bytes(pem, n, &roots, &d), VT_OK);
    free(pem);
    snprintf(rel, sizeof(rel), "%s/pck_crl_issuer_chain.pem", set);
    pem = read_fixture(dir, rel, &n);
    struct vt_cert_list pck_chain;
    vt_cert_list_init(&pck_chain);
    assert_int_equal(vt_cert_list_from_bytes(pem, n, &pck_chain, &d), VT_OK);
    free(pem);

    snprintf(rel, sizeof(rel), "%s/root_ca_crl.der", set);
    uint8_t *der = read_fixture(dir, rel, &n);
    struct vt_crl *crl = NULL;
    assert_int_equal(vt_crl_parse(der, n, &crl, &d), VT_OK);
    assert_int_equal(vt_crl_check_issuer(crl, roots.certs[0], "root_ca_crl", &d), VT_OK);
    char buf[160];
    vt_crl_issuer_text(crl, buf, sizeof(buf));
    assert_string_equal(buf, "CN=Intel SGX Root CA,O=Intel Corporation,L=Santa Clara,ST=CA,C=US");
    vt_crl_number_text(crl, buf, sizeof(buf));
    assert_string_equal(buf, "1");
    assert_int_equal(vt_crl_this_update(crl), INT64_C(1742469717)); /* 2025-03-20T11:21:57Z */
    assert_int_equal(vt_crl_next_update(crl), INT64_C(1775215317)); /* 2026-04-03T11:21:57Z */
    assert_false(vt_crl_is_revoked(crl, pck_chain.certs[0], NULL));
    /* Issued by the root, not by the PCK CA. */
    assert_int_equal(vt_crl_check_issuer(crl, pck_chain.certs[0], "root_ca_crl", &d),
                     VT_E_CRL_ISSUER);
    /* The hex form PCCS serves normalises to the same DER. */
    size_t hex_len = 0;
    char *hex = hex_of(der, n, false, &hex_len);
    struct vt_crl *from_hex = NULL;
    assert_int_equal(vt_crl_parse((const uint8_t *)hex, hex_len, &from_hex, &d), VT_OK);
    size_t a_len = 0;
    size_t b_len = 0;
    const uint8_t *a = vt_crl_der(crl, &a_len);
    const uint8_t *b = vt_crl_der(from_hex, &b_len);
    assert_int_equal(a_len, b_len);
    assert_memory_equal(a, b, a_len);
    vt_crl_free(from_hex);
    free(hex);
    vt_crl_free(crl);
    free(der);

    snprintf(rel, sizeof(rel), "%s/pck_crl.der", set);
    der = read_fixture(dir, rel, &n);
    assert_int_equal(vt_crl_parse(der, n, &crl, &d), VT_OK);
    assert_int_equal(vt_crl_check_issuer(crl, pck_chain.certs[0], "pck_crl", &d), VT_OK);
    assert_int_equal(vt_crl_check_issuer(crl, roots.certs[0], "pck_crl", &d), VT_E_CRL_ISSUER);
    vt_crl_free(crl);
    free(der);

    vt_cert_list_cleanup(&pck_chain);
    vt_cert_list_cleanup(&roots);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms_normalise),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_check_issuer),
        cmocka_unit_test(test_revocation),
        cmocka_unit_test(test_unsupported_extensions),
        cmocka_unit_test(test_fixture_intel_crls),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
