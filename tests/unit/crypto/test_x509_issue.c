/*
 * Unit tests for src/crypto/x509_issue.c (the broker's CA): certificate requests read from
 * untrusted clients (every truncation of the DER, trailing bytes after the DER and after the PEM
 * block, a broken PEM, the size cap, refused keys and signature algorithms, a broken
 * self-signature, a version other than v1), requests made by vt_csr_create, the CA certificate
 * and leaf certificates checked with OpenSSL apart from our code, DNS names, and
 * vt_jwk_from_spki_der.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/crypto.h"
#include "base/encoding.h"
#include "crypto/jose.h"

#define T0 INT64_C(1750000000)

/* A CSR (DER, heap) for pkey signed with md (NULL: Ed25519), version v. */
static uint8_t *make_csr(EVP_PKEY *pkey, const EVP_MD *md, long version, size_t *len)
{
    X509_REQ *req = X509_REQ_new();
    assert_non_null(req);
    X509_REQ_set_version(req, version);
    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_ASC,
                               (const unsigned char *)"w.example", -1, -1, 0);
    assert_int_equal(X509_REQ_set_pubkey(req, pkey), 1);
    assert_true(X509_REQ_sign(req, pkey, md) > 0);
    unsigned char *der = NULL;
    int n = i2d_X509_REQ(req, &der);
    assert_true(n > 0);
    uint8_t *out = malloc((size_t)n);
    memcpy(out, der, (size_t)n);
    *len = (size_t)n;
    OPENSSL_free(der);
    X509_REQ_free(req);
    return out;
}

static enum vt_err parse(const uint8_t *p, size_t n, struct vt_diag *d)
{
    struct vt_csr *c = NULL;
    vt_diag_init(d);
    enum vt_err err = vt_csr_parse(p, n, &c, d);
    assert_true(err == VT_OK ? c != NULL : c == NULL);
    if (err != VT_OK) {
        assert_int_equal(d->code, err);
    }
    vt_csr_free(c);
    return err;
}

static void test_csr_good(void **state)
{
    (void)state;
    const char *curves[] = {"P-256", "P-384", "P-521"};
    for (size_t i = 0; i < 3; i++) {
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curves[i]);
        size_t n = 0;
        uint8_t *der = make_csr(k, i == 1 ? EVP_sha384() : EVP_sha256(), X509_REQ_VERSION_1, &n);
        struct vt_csr *c = NULL;
        struct vt_diag d;
        vt_diag_init(&d);
        assert_int_equal(vt_csr_parse(der, n, &c, &d), VT_OK);
        assert_string_equal(vt_csr_key_name(c), curves[i]);
        size_t sl = 0;
        const uint8_t *spki = vt_csr_spki(c, &sl);
        unsigned char *want = NULL;
        int wn = i2d_PUBKEY(k, &want);
        assert_int_equal(sl, (size_t)wn);
        assert_memory_equal(spki, want, sl);
        /* the key as a JWK, whose thumbprint the broker compares with cnf.jkt */
        struct vt_jwk *j = NULL;
        assert_int_equal(vt_jwk_from_spki_der(spki, sl, &j, &d), VT_OK);
        struct vt_buf again;
        vt_buf_init(&again, 4096);
        assert_int_equal(vt_jwk_spki_der(j, &again), VT_OK);
        assert_int_equal(again.len, sl);
        assert_memory_equal(again.data, spki, sl);
        vt_buf_cleanup(&again);
        vt_jwk_free(j);
        OPENSSL_free(want);
        vt_csr_free(c);
        free(der);
        EVP_PKEY_free(k);
    }
    EVP_PKEY *r = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    size_t n = 0;
    uint8_t *der = make_csr(r, EVP_sha512(), X509_REQ_VERSION_1, &n);
    struct vt_csr *c = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_csr_parse(der, n, &c, &d), VT_OK);
    assert_string_equal(vt_csr_key_name(c), "RSA-2048");
    vt_csr_free(c);
    free(der);
    EVP_PKEY_free(r);
}

static void test_csr_truncated_and_trailing(void **state)
{
    (void)state;
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    size_t n = 0;
    uint8_t *der = make_csr(k, EVP_sha256(), X509_REQ_VERSION_1, &n);
    struct vt_diag d;
    /* every truncation: an error naming the DER (never a crash, never VT_OK) */
    assert_int_equal(parse(der, 0, &d), VT_E_MISSING_FIELD);
    for (size_t i = 1; i < n; i++) {
        enum vt_err err = parse(der, i, &d);
        if (err != VT_E_BAD_DER) {
            fail_msg("truncated to %zu of %zu bytes: %s (%s: %s)", i, n, vt_err_name(err), d.check,
                     d.detail);
        }
        assert_string_equal(d.check, "csr.der");
    }
    /* a byte after the DER */
    uint8_t *more = malloc(n + 1);
    memcpy(more, der, n);
    more[n] = 0;
    assert_int_equal(parse(more, n + 1, &d), VT_E_TRAILING_DATA);
    assert_string_equal(d.check, "csr.der");
    /* PEM: good, then with text after the block, then with broken base64 */
    char *b64 = vt_base64_alloc(der, n, false);
    char pem[4096];
    snprintf(pem, sizeof(pem),
             "\n-----BEGIN CERTIFICATE REQUEST-----\n%s\n-----END CERTIFICATE REQUEST-----\n\n",
             b64);
    assert_int_equal(parse((const uint8_t *)pem, strlen(pem), &d), VT_OK);
    snprintf(pem, sizeof(pem),
             "-----BEGIN CERTIFICATE REQUEST-----\n%s\n-----END CERTIFICATE REQUEST-----\nmore",
             b64);
    assert_int_equal(parse((const uint8_t *)pem, strlen(pem), &d), VT_E_TRAILING_DATA);
    assert_string_equal(d.check, "csr.pem");
    snprintf(pem, sizeof(pem),
             "-----BEGIN CERTIFICATE REQUEST-----\n!%s\n-----END CERTIFICATE REQUEST-----\n", b64);
    assert_int_equal(parse((const uint8_t *)pem, strlen(pem), &d), VT_E_BAD_PEM);
    snprintf(pem, sizeof(pem), "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n", b64);
    assert_int_equal(parse((const uint8_t *)pem, strlen(pem), &d), VT_E_BAD_PEM);
    /* over the cap */
    uint8_t *big = calloc(1, VT_MAX_CSR_SIZE + 1);
    assert_int_equal(parse(big, VT_MAX_CSR_SIZE + 1, &d), VT_E_TOO_LARGE);
    assert_string_equal(d.check, "csr.size");
    free(big);
    free(b64);
    free(more);
    free(der);
    EVP_PKEY_free(k);
}

static void test_csr_refused(void **state)
{
    (void)state;
    struct vt_diag d;
    size_t n = 0;
    /* a flipped bit in the signature */
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    uint8_t *der = make_csr(k, EVP_sha256(), X509_REQ_VERSION_1, &n);
    der[n - 3] ^= 0x10;
    enum vt_err err = parse(der, n, &d);
    assert_true(err == VT_E_SIGNATURE || err == VT_E_BAD_DER);
    if (err == VT_E_SIGNATURE) {
        assert_string_equal(d.check, "csr.signature");
    }
    free(der);
    /* SHA-1 */
    der = make_csr(k, EVP_sha1(), X509_REQ_VERSION_1, &n);
    assert_int_equal(parse(der, n, &d), VT_E_UNSUPPORTED_ALGORITHM);
    assert_string_equal(d.check, "csr.signature_algorithm");
    assert_non_null(strstr(d.detail, "SHA1"));
    free(der);
    /* version 2 (not PKCS#10 v1) */
    der = make_csr(k, EVP_sha256(), 1, &n);
    assert_int_equal(parse(der, n, &d), VT_E_UNSUPPORTED_VERSION);
    assert_string_equal(d.check, "csr.version");
    free(der);
    EVP_PKEY_free(k);
    /* Ed25519, RSA-1024, secp256k1 */
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    der = make_csr(ed, NULL, X509_REQ_VERSION_1, &n);
    assert_int_equal(parse(der, n, &d), VT_E_UNSUPPORTED_ALGORITHM);
    assert_string_equal(d.check, "csr.key");
    free(der);
    /* its SubjectPublicKeyInfo is no JWK either */
    unsigned char *spki = NULL;
    int sl = i2d_PUBKEY(ed, &spki);
    struct vt_jwk *j = NULL;
    vt_diag_init(&d);
    assert_int_equal(vt_jwk_from_spki_der(spki, (size_t)sl, &j, &d), VT_E_UNSUPPORTED_ALGORITHM);
    assert_null(j);
    assert_int_equal(vt_jwk_from_spki_der(spki, (size_t)sl - 1, &j, &d), VT_E_BAD_KEY);
    assert_string_equal(d.check, "jwk.spki");
    OPENSSL_free(spki);
    EVP_PKEY_free(ed);
    EVP_PKEY *r = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    der = make_csr(r, EVP_sha256(), X509_REQ_VERSION_1, &n);
    assert_int_equal(parse(der, n, &d), VT_E_UNSUPPORTED_ALGORITHM);
    assert_non_null(strstr(d.detail, "1024"));
    free(der);
    EVP_PKEY_free(r);
    EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    der = make_csr(k1, EVP_sha256(), X509_REQ_VERSION_1, &n);
    assert_int_equal(parse(der, n, &d), VT_E_UNSUPPORTED_ALGORITHM);
    assert_non_null(strstr(d.detail, "secp256k1"));
    free(der);
    EVP_PKEY_free(k1);
}

static X509 *x509_of(const struct vt_buf *der)
{
    const unsigned char *p = der->data;
    X509 *x = d2i_X509(NULL, &p, (long)der->len);
    assert_non_null(x);
    return x;
}

static void test_ca_and_leaf(void **state)
{
    (void)state;
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_key *ca_key = NULL;
    assert_int_equal(vt_key_generate(VT_KEY_P256, 0, &ca_key, &d), VT_OK);
    uint8_t serial[16];
    memset(serial, 0x41, sizeof(serial));
    struct vt_buf ca_der;
    vt_buf_init(&ca_der, VT_MAX_CERT_SIZE);
    assert_int_equal(vt_x509_ca_create(ca_key, "test CA", T0, T0 + 86400, serial, &ca_der, &d),
                     VT_OK);
    X509 *ca = x509_of(&ca_der);
    assert_int_equal(X509_check_ca(ca), 1);
    assert_int_equal(X509_get_pathlen(ca), 0);
    assert_int_equal(X509_verify(ca, X509_get0_pubkey(ca)), 1);
    assert_true((X509_get_key_usage(ca) & KU_KEY_CERT_SIGN) != 0);
    /* an empty validity is refused */
    assert_int_equal(vt_x509_ca_create(ca_key, "x", T0, T0, serial, &ca_der, &d), VT_E_ARG);
    struct vt_cert *cac = NULL;
    assert_int_equal(vt_cert_from_der(ca_der.data, ca_der.len, &cac, &d), VT_OK);
    /* a leaf for a key made here, through a CSR made by vt_csr_create */
    struct vt_key *wk = NULL;
    assert_int_equal(vt_key_generate(VT_KEY_P256, 0, &wk, &d), VT_OK);
    struct vt_buf csr;
    vt_buf_init(&csr, VT_MAX_CSR_SIZE);
    assert_int_equal(vt_csr_create(wk, "w", &csr, &d), VT_OK);
    struct vt_csr *c = NULL;
    assert_int_equal(vt_csr_parse(csr.data, csr.len, &c, &d), VT_OK);
    size_t sl = 0;
    const uint8_t *spki = vt_csr_spki(c, &sl);
    const char *dns[] = {"a.example", "*.b.example"};
    const char ext[] = "{\"v\":1}";
    struct vt_x509_leaf l = {.spki = spki,
                             .spki_len = sl,
                             .common_name = "a.example",
                             .dns = dns,
                             .n_dns = 2,
                             .not_before = T0,
                             .not_after = T0 + 600,
                             .serial = serial,
                             .serial_len = sizeof(serial),
                             .ext_oid = "2.25.229478036226361393545283536436640327405",
                             .ext_text = ext,
                             .ext_len = strlen(ext)};
    struct vt_buf leaf;
    vt_buf_init(&leaf, VT_MAX_CERT_SIZE);
    assert_int_equal(vt_x509_issue(ca_key, cac, &l, &leaf, &d), VT_OK);
    X509 *x = x509_of(&leaf);
    assert_int_equal(X509_verify(x, X509_get0_pubkey(ca)), 1);
    assert_int_equal(X509_check_issued(ca, x), X509_V_OK);
    assert_int_equal(X509_check_ca(x), 0);
    assert_int_equal(X509_check_host(x, "a.example", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(x, "z.b.example", 0, 0, NULL), 1);
    assert_int_equal(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0), 1);
    assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notAfter(x), (time_t)(T0 + 600)), 0);
    /* the extension: non-critical, a DER UTF8String of the text */
    struct vt_cert *lc = NULL;
    assert_int_equal(vt_cert_from_der(leaf.data, leaf.len, &lc, &d), VT_OK);
    const uint8_t *ev = NULL;
    size_t en = 0;
    assert_int_equal(vt_cert_extension(lc, l.ext_oid, &ev, &en), VT_OK);
    assert_int_equal(en, 2 + strlen(ext));
    assert_int_equal(ev[0], 0x0c); /* UTF8String */
    assert_int_equal(ev[1], strlen(ext));
    assert_memory_equal(ev + 2, ext, strlen(ext));
    /* a name that is no DNS name is refused, nothing written */
    const char *bad[] = {"a b.example"};
    l.dns = bad;
    l.n_dns = 1;
    size_t before = leaf.len;
    assert_int_equal(vt_x509_issue(ca_key, cac, &l, &leaf, &d), VT_E_BAD_FIELD);
    assert_string_equal(d.check, "x509.issue.dns");
    assert_int_equal(leaf.len, before);
    vt_cert_free(lc);
    X509_free(x);
    vt_buf_cleanup(&leaf);
    vt_csr_free(c);
    vt_buf_cleanup(&csr);
    vt_key_free(wk);
    vt_cert_free(cac);
    X509_free(ca);
    vt_buf_cleanup(&ca_der);
    vt_key_free(ca_key);
}

static void test_dns_names(void **state)
{
    (void)state;
    const char *good[] = {"localhost", "a.example", "*.example.com", "x-1.y2.example", "a"};
    const char *bad[] = {"",    "a..b", ".a",    "a.", "-a.example", "a-.example", "a_b.example",
                         "a b", "*",    "a.*.b", "*.", "é.example"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_true(vt_x509_dns_name_ok(good[i]));
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (vt_x509_dns_name_ok(bad[i])) {
            fail_msg("\"%s\" accepted as a DNS name", bad[i]);
        }
    }
    char longname[300];
    memset(longname, 'a', 64);
    longname[64] = '\0';
    assert_false(vt_x509_dns_name_ok(longname)); /* a label of 64 */
    longname[63] = '\0';
    assert_true(vt_x509_dns_name_ok(longname));
}

static void test_pem_out(void **state)
{
    (void)state;
    uint8_t der[100];
    for (size_t i = 0; i < sizeof(der); i++) {
        der[i] = (uint8_t)i;
    }
    struct vt_buf out;
    vt_buf_init(&out, 4096);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_der_to_pem("TEST", der, sizeof(der), &out, &d), VT_OK);
    assert_int_equal(vt_buf_append(&out, "", 1), VT_OK);
    const char *s = (const char *)out.data;
    assert_int_equal(strncmp(s, "-----BEGIN TEST-----\n", 21), 0);
    assert_non_null(strstr(s, "\n-----END TEST-----\n"));
    /* lines of 64 characters */
    const char *nl = strchr(s + 21, '\n');
    assert_int_equal(nl - (s + 21), 64);
    vt_buf_cleanup(&out);
    /* an output too small for it */
    vt_buf_init(&out, 20);
    assert_int_not_equal(vt_der_to_pem("TEST", der, sizeof(der), &out, &d), VT_OK);
    vt_buf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csr_good),    cmocka_unit_test(test_csr_truncated_and_trailing),
        cmocka_unit_test(test_csr_refused), cmocka_unit_test(test_ca_and_leaf),
        cmocka_unit_test(test_dns_names),   cmocka_unit_test(test_pem_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
