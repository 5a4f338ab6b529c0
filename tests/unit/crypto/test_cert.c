/*
 * Unit tests for src/crypto/cert.c: DER parsing, accessors, extensions, signatures, lists and
 * PEM bundles (plain, CRLF, URL-encoded, NUL-padded), and the real Intel SGX root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "base/encoding.h"

#include "vt_fixtures.h"
#include "x509_gen.h"

#define T0 INT64_C(1750000000)
#define DAY INT64_C(86400)

/* Intel's SGX extension OID (SPEC: dcap.md 2), carried non-critical by PCK certificates. */
#define SGX_EXT_OID "1.2.840.113741.1.13.1"

struct fixture {
    struct vt_testgen_pki pki;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(
        vt_testgen_pki_init(&f->pki, T0 - 1000 * DAY, T0 + 1000 * DAY, T0 - DAY, T0 + DAY, NULL),
        VT_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    vt_testgen_pki_cleanup(&f->pki);
    free(f);
    return 0;
}

/* Concatenate text pieces into a malloc'd buffer (NUL-terminated; *len excludes it). */
static char *concat(size_t *len, const char *a, size_t an, const char *b, size_t bn)
{
    char *out = malloc(an + bn + 1);
    assert_non_null(out);
    memcpy(out, a, an);
    memcpy(out + an, b, bn);
    out[an + bn] = '\0';
    *len = an + bn;
    return out;
}

/* URL-encode: `all` escapes every byte, otherwise only what PCS escapes (space, LF, + / =). */
static char *url_encode(const char *s, size_t n, bool all, size_t *len)
{
    char *out = malloc(3 * n + 1);
    assert_non_null(out);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (all || c == ' ' || c == '\n' || c == '+' || c == '/' || c == '=') {
            snprintf(out + o, 4, all ? "%%%02x" : "%%%02X", c);
            o += 3;
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    *len = o;
    return out;
}

static void test_der_roundtrip_and_accessors(void **state)
{
    struct fixture *f = *state;
    size_t len = 0;
    uint8_t *der = NULL;
    assert_int_equal(vt_testgen_cert_der(f->pki.ca, &der, &len, NULL), VT_OK);
    struct vt_cert *c = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cert_from_der(der, len, &c, &d), VT_OK);

    size_t got_len = 0;
    const uint8_t *got = vt_cert_der(c, &got_len);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, der, len);
    uint8_t h1[VT_SHA256_LEN];
    uint8_t h2[VT_SHA256_LEN];
    vt_cert_sha256(c, h1);
    vt_sha256(der, len, h2);
    assert_memory_equal(h1, h2, sizeof(h1));

    char buf[200];
    assert_int_equal(vt_cert_subject_cn(c, buf, sizeof(buf)), VT_OK);
    assert_string_equal(buf, "Test Intermediate CA");
    assert_int_equal(vt_cert_subject_cn(c, buf, 20), VT_E_BUFFER_TOO_SMALL);
    assert_int_equal(vt_cert_subject_cn(c, buf, 21), VT_OK);
    vt_cert_subject_text(c, buf, sizeof(buf));
    assert_string_equal(buf, "CN=Test Intermediate CA,O=veritee test,C=US");
    vt_cert_issuer_text(c, buf, sizeof(buf));
    assert_string_equal(buf, "CN=Test Root CA,O=veritee test,C=US");
    vt_cert_issuer_text(c, buf, 8);
    assert_string_equal(buf, "CN=Test");
    vt_cert_serial_hex(c, buf, sizeof(buf));
    assert_string_equal(buf, "02");
    assert_int_equal(vt_cert_not_before(c), T0 - 1000 * DAY);
    assert_int_equal(vt_cert_not_after(c), T0 + 1000 * DAY);

    uint8_t xy[64];
    uint8_t want[64];
    assert_int_equal(vt_cert_p256_xy(c, xy, &d), VT_OK);
    assert_int_equal(vt_testgen_p256_xy(f->pki.ca_key, want, NULL), VT_OK);
    assert_memory_equal(xy, want, 64);

    /* References. */
    struct vt_cert *r = vt_cert_ref(c);
    assert_ptr_equal(r, c);
    vt_cert_free(c);
    assert_int_equal(vt_cert_subject_cn(r, buf, sizeof(buf)), VT_OK);
    vt_cert_free(r);
    vt_cert_free(NULL);
    free(der);
}

static void test_serial_hex_uppercase(void **state)
{
    struct fixture *f = *state;
    struct vt_testgen_cert_opts o = {
        .cn = "Serial",
        .key = f->pki.leaf_key,
        .not_before = T0,
        .not_after = T0 + DAY,
        .serial = 0x1234abcdL,
    };
    X509 *x = NULL;
    assert_int_equal(vt_testgen_cert(&o, &x, NULL), VT_OK);
    struct vt_cert *c = NULL;
    assert_int_equal(vt_testgen_vt_cert(x, &c, NULL), VT_OK);
    char buf[32];
    vt_cert_serial_hex(c, buf, sizeof(buf));
    assert_string_equal(buf, "1234ABCD");
    vt_cert_serial_hex(c, buf, 5);
    assert_string_equal(buf, "1234");
    vt_cert_free(c);
    X509_free(x);
}

static void test_names_and_equality(void **state)
{
    struct fixture *f = *state;
    struct vt_cert *root = NULL;
    assert_int_equal(vt_testgen_vt_cert(f->pki.root, &root, NULL), VT_OK);
    struct vt_cert *ca = NULL;
    assert_int_equal(vt_testgen_vt_cert(f->pki.ca, &ca, NULL), VT_OK);
    struct vt_cert *leaf = NULL;
    assert_int_equal(vt_testgen_vt_cert(f->pki.leaf, &leaf, NULL), VT_OK);
    struct vt_cert *ca2 = NULL;
    assert_int_equal(vt_testgen_vt_cert(f->pki.ca, &ca2, NULL), VT_OK);
    assert_true(vt_cert_issuer_is(leaf, ca));
    assert_true(vt_cert_issuer_is(ca, root));
    assert_true(vt_cert_issuer_is(root, root));
    assert_false(vt_cert_issuer_is(leaf, root));
    assert_false(vt_cert_issuer_is(ca, leaf));
    assert_true(vt_cert_equal(ca, ca2));
    assert_false(vt_cert_equal(ca, root));
    vt_cert_free(root);
    vt_cert_free(ca);
    vt_cert_free(leaf);
    vt_cert_free(ca2);
}

static void test_no_cn(void **state)
{
    struct fixture *f = *state;
    struct vt_testgen_cert_opts o = {
        .key = f->pki.leaf_key,
        .not_before = T0,
        .not_after = T0 + DAY,
        .serial = 9,
    };
    X509 *x = NULL;
    assert_int_equal(vt_testgen_cert(&o, &x, NULL), VT_OK);
    struct vt_cert *c = NULL;
    assert_int_equal(vt_testgen_vt_cert(x, &c, NULL), VT_OK);
    char buf[64];
    assert_int_equal(vt_cert_subject_cn(c, buf, sizeof(buf)), VT_E_NOT_FOUND);
    vt_cert_subject_text(c, buf, sizeof(buf));
    assert_string_equal(buf, "O=veritee test,C=US");
    vt_cert_free(c);
    X509_free(x);
}

static void test_signed_by(void **state)
{
    struct fixture *f = *state;
    struct vt_cert *root = NULL;
    assert_int_equal(vt_testgen_vt_cert(f->pki.root, &root, NULL), VT_OK);
    struct vt_cert *ca = NULL;
    assert_int_equal(vt_testgen_vt_cert(f->pki.ca, &ca, NULL), VT_OK);
    struct vt_cert *leaf = NULL;
    assert_int_equal(vt_testgen_vt_cert(f->pki.leaf, &leaf, NULL), VT_OK);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cert_check_signed_by(leaf, ca, &d), VT_OK);
    assert_int_equal(vt_cert_check_signed_by(ca, root, &d), VT_OK);
    assert_int_equal(vt_cert_check_signed_by(root, root, &d), VT_OK);
    assert_int_equal(vt_cert_check_signed_by(leaf, root, &d), VT_E_CERT_SIGNATURE);
    assert_int_equal(d.code, VT_E_CERT_SIGNATURE);
    assert_string_equal(d.check, "cert.signature");
    assert_non_null(strstr(d.detail, "CN=Test Leaf"));
    assert_non_null(strstr(d.detail, "CN=Test Root CA"));
    assert_int_equal(vt_cert_check_signed_by(ca, leaf, NULL), VT_E_CERT_SIGNATURE);
    vt_cert_free(root);
    vt_cert_free(ca);
    vt_cert_free(leaf);
}

static void test_extension_lookup(void **state)
{
    struct fixture *f = *state;
    static const uint8_t value[] = {0x30, 0x06, 0x06, 0x01, 0x2a, 0x04, 0x01, 0x07};
    struct vt_testgen_cert_opts o = {
        .cn = "SGX PCK-like",
        .key = f->pki.leaf_key,
        .issuer = f->pki.ca,
        .signer = f->pki.ca_key,
        .not_before = T0,
        .not_after = T0 + DAY,
        .serial = 10,
        .ext_oid = SGX_EXT_OID,
        .ext_der = value,
        .ext_len = sizeof(value),
    };
    X509 *x = NULL;
    assert_int_equal(vt_testgen_cert(&o, &x, NULL), VT_OK);
    struct vt_cert *c = NULL;
    assert_int_equal(vt_testgen_vt_cert(x, &c, NULL), VT_OK);
    const uint8_t *val = NULL;
    size_t len = 0;
    assert_int_equal(vt_cert_extension(c, SGX_EXT_OID, &val, &len), VT_OK);
    assert_int_equal(len, sizeof(value));
    assert_memory_equal(val, value, sizeof(value));
    /* basicConstraints, by OID: the DER of BasicConstraints with cA FALSE is an empty SEQUENCE */
    assert_int_equal(vt_cert_extension(c, "2.5.29.19", &val, &len), VT_OK);
    assert_int_equal(len, 2);
    assert_int_equal(val[0], 0x30);
    assert_int_equal(vt_cert_extension(c, "1.2.840.113741.1.13.2", &val, &len), VT_E_NOT_FOUND);
    assert_int_equal(vt_cert_extension(c, "not an oid", &val, &len), VT_E_ARG);
    vt_cert_free(c);
    X509_free(x);
}

static void test_p256_xy_rejects_other_keys(void **state)
{
    (void)state;
    EVP_PKEY *k384 = EVP_EC_gen("P-384");
    assert_non_null(k384);
    struct vt_testgen_cert_opts o = {
        .cn = "P-384",
        .key = k384,
        .not_before = T0,
        .not_after = T0 + DAY,
        .serial = 11,
    };
    X509 *x = NULL;
    assert_int_equal(vt_testgen_cert(&o, &x, NULL), VT_OK);
    struct vt_cert *c = NULL;
    assert_int_equal(vt_testgen_vt_cert(x, &c, NULL), VT_OK);
    uint8_t xy[64];
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cert_p256_xy(c, xy, &d), VT_E_UNSUPPORTED_ALGORITHM);
    assert_int_equal(d.code, VT_E_UNSUPPORTED_ALGORITHM);
    assert_non_null(strstr(d.detail, "secp384r1"));
    vt_cert_free(c);
    X509_free(x);
    EVP_PKEY_free(k384);
}

static void test_times_around_2050(void **state)
{
    struct fixture *f = *state;
    /* UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5). */
    static const int64_t times[][2] = {
        {INT64_C(-631152000), INT64_C(2524607999)},  /* 1950-01-01, 2049-12-31T23:59:59Z */
        {INT64_C(2524607999), INT64_C(2524608000)},  /* 2049-12-31T23:59:59Z, 2050-01-01 */
        {INT64_C(951782400), INT64_C(253402300799)}, /* 2000-02-29, 9999-12-31T23:59:59Z */
        {INT64_C(4107542400), INT64_C(4107628799)},  /* 2100-03-01, 2100-03-01T23:59:59Z */
    };
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        struct vt_testgen_cert_opts o = {
            .cn = "Times",
            .key = f->pki.leaf_key,
            .not_before = times[i][0],
            .not_after = times[i][1],
            .serial = 12,
        };
        X509 *x = NULL;
        assert_int_equal(vt_testgen_cert(&o, &x, NULL), VT_OK);
        struct vt_cert *c = NULL;
        assert_int_equal(vt_testgen_vt_cert(x, &c, NULL), VT_OK);
        assert_int_equal(vt_cert_not_before(c), times[i][0]);
        assert_int_equal(vt_cert_not_after(c), times[i][1]);
        vt_cert_free(c);
        X509_free(x);
    }
}

static void test_der_rejects(void **state)
{
    struct fixture *f = *state;
    size_t len = 0;
    uint8_t *der = NULL;
    assert_int_equal(vt_testgen_cert_der(f->pki.leaf, &der, &len, NULL), VT_OK);
    struct vt_cert *c = NULL;
    struct vt_diag d;
    vt_diag_init(&d);

    uint8_t *longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, der, len);
    longer[len] = 0x00;
    assert_int_equal(vt_cert_from_der(longer, len + 1, &c, &d), VT_E_BAD_CERT);
    assert_non_null(strstr(d.detail, "trailing"));
    assert_null(c);
    for (size_t cut = 0; cut < len; cut += 37) {
        assert_int_equal(vt_cert_from_der(der, cut, &c, NULL), VT_E_BAD_CERT);
    }
    assert_int_equal(vt_cert_from_der(der, len - 1, &c, &d), VT_E_BAD_CERT);
    assert_int_equal(d.code, VT_E_BAD_CERT);
    assert_string_equal(d.check, "cert.der");
    assert_null(c);
    static const uint8_t junk[] = "this is not a certificate";
    assert_int_equal(vt_cert_from_der(junk, sizeof(junk), &c, NULL), VT_E_BAD_CERT);
    uint8_t *huge = calloc(1, VT_MAX_CERT_SIZE + 1);
    assert_non_null(huge);
    assert_int_equal(vt_cert_from_der(huge, VT_MAX_CERT_SIZE + 1, &c, &d), VT_E_TOO_LARGE);
    assert_null(c);
    free(huge);
    free(longer);
    free(der);
}

static void test_der_rejects_duplicate_extension(void **state)
{
    struct fixture *f = *state;
    static const uint8_t value[] = {0x05, 0x00};
    struct vt_testgen_cert_opts o = {
        .cn = "Dup",
        .key = f->pki.leaf_key,
        .not_before = T0,
        .not_after = T0 + DAY,
        .serial = 13,
        .no_basic = true,
        .ext_oid = "2.5.29.14", /* a second subjectKeyIdentifier */
        .ext_der = value,
        .ext_len = sizeof(value),
    };
    X509 *x = NULL;
    assert_int_equal(vt_testgen_cert(&o, &x, NULL), VT_OK);
    size_t len = 0;
    uint8_t *der = NULL;
    assert_int_equal(vt_testgen_cert_der(x, &der, &len, NULL), VT_OK);
    struct vt_cert *c = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cert_from_der(der, len, &c, &d), VT_E_BAD_CERT);
    assert_string_equal(d.check, "cert.extensions");
    assert_null(c);
    free(der);
    X509_free(x);
}

static void test_list_add(void **state)
{
    struct fixture *f = *state;
    struct vt_cert *c = NULL;
    assert_int_equal(vt_testgen_vt_cert(f->pki.leaf, &c, NULL), VT_OK);
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    for (size_t i = 0; i < VT_MAX_CHAIN_DEPTH; i++) {
        assert_int_equal(vt_cert_list_add(&l, c), VT_OK);
    }
    assert_int_equal(vt_cert_list_add(&l, c), VT_E_TOO_LARGE);
    assert_int_equal(l.n, VT_MAX_CHAIN_DEPTH);
    vt_cert_free(c); /* the list keeps its own references */
    char cn[32];
    assert_int_equal(vt_cert_subject_cn(l.certs[VT_MAX_CHAIN_DEPTH - 1], cn, sizeof(cn)), VT_OK);
    assert_string_equal(cn, "Test Leaf");
    vt_cert_list_cleanup(&l);
    assert_int_equal(l.n, 0);
    vt_cert_list_cleanup(NULL);
}

struct pems {
    char *leaf;
    size_t leaf_len;
    char *ca;
    size_t ca_len;
    char *both;
    size_t both_len;
};

static void make_pems(struct fixture *f, struct pems *p)
{
    assert_int_equal(vt_testgen_cert_pem(f->pki.leaf, &p->leaf, &p->leaf_len, NULL), VT_OK);
    assert_int_equal(vt_testgen_cert_pem(f->pki.ca, &p->ca, &p->ca_len, NULL), VT_OK);
    p->both = concat(&p->both_len, p->leaf, p->leaf_len, p->ca, p->ca_len);
}

static void free_pems(struct pems *p)
{
    free(p->leaf);
    free(p->ca);
    free(p->both);
}

/* Expect `text` to parse into [leaf, ca]. */
static void expect_two(struct fixture *f, const char *text, size_t len)
{
    struct vt_cert_list l;
    struct vt_diag d;
    vt_cert_list_init(&l);
    vt_diag_init(&d);
    enum vt_err err = vt_cert_list_from_pem(text, len, &l, &d);
    if (err != VT_OK) {
        fail_msg("%s: %s: %s", vt_err_name(err), d.check, d.detail);
    }
    assert_int_equal(l.n, 2);
    struct vt_cert *leaf = NULL;
    assert_int_equal(vt_testgen_vt_cert(f->pki.leaf, &leaf, NULL), VT_OK);
    struct vt_cert *ca = NULL;
    assert_int_equal(vt_testgen_vt_cert(f->pki.ca, &ca, NULL), VT_OK);
    assert_true(vt_cert_equal(l.certs[0], leaf));
    assert_true(vt_cert_equal(l.certs[1], ca));
    vt_cert_free(leaf);
    vt_cert_free(ca);
    vt_cert_list_cleanup(&l);
}

static void test_pem_forms(void **state)
{
    struct fixture *f = *state;
    struct pems p;
    make_pems(f, &p);
    expect_two(f, p.both, p.both_len);

    /* Trailing NULs and whitespace (quotes pad the certification data). */
    char tail[] = "\n\r\n  \0\0\0\0\n\0";
    size_t n = 0;
    char *padded = concat(&n, p.both, p.both_len, tail, sizeof(tail));
    expect_two(f, padded, n);
    free(padded);

    /* Leading whitespace, blank lines between blocks, no newline after the last END. */
    char *spaced = malloc(p.both_len + 16);
    assert_non_null(spaced);
    n = (size_t)snprintf(spaced, p.both_len + 16, "\n\n  %s\n\n\t%.*s", p.leaf, (int)(p.ca_len - 1),
                         p.ca);
    expect_two(f, spaced, n);
    free(spaced);

    /* CRLF line endings. */
    char *crlf = malloc(2 * p.both_len + 1);
    assert_non_null(crlf);
    n = 0;
    for (size_t i = 0; i < p.both_len; i++) {
        if (p.both[i] == '\n') {
            crlf[n++] = '\r';
        }
        crlf[n++] = p.both[i];
    }
    expect_two(f, crlf, n);
    free(crlf);

    /* URL-encoded as PCS sends it, with trailing NULs, and with every byte escaped. */
    char *url = url_encode(p.both, p.both_len, false, &n);
    assert_non_null(strstr(url, "-----BEGIN%20CERTIFICATE-----%0A"));
    expect_two(f, url, n);
    char *url_padded = NULL;
    size_t m = 0;
    url_padded = concat(&m, url, n, "\0\0\0", 3);
    expect_two(f, url_padded, m);
    free(url_padded);
    free(url);
    url = url_encode(p.both, p.both_len, true, &n);
    expect_two(f, url, n);
    free(url);
    free_pems(&p);
}

/* Expect `text` to fail with `code` and leave a list holding one certificate unchanged. */
static void expect_reject(struct fixture *f, const char *text, size_t len, enum vt_err code)
{
    struct vt_cert_list l;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_testgen_list(&l, &f->pki.root, 1, NULL), VT_OK);
    enum vt_err err = vt_cert_list_from_pem(text, len, &l, &d);
    if (err != code) {
        fail_msg("expected %s, got %s (%s: %s)", vt_err_name(code), vt_err_name(err), d.check,
                 d.detail);
    }
    assert_int_equal(d.code, code);
    assert_int_equal(l.n, 1);
    vt_cert_list_cleanup(&l);
}

static void test_pem_rejects(void **state)
{
    struct fixture *f = *state;
    struct pems p;
    make_pems(f, &p);
    size_t n = 0;
    char *t;

    expect_reject(f, "", 0, VT_E_BAD_PEM);
    expect_reject(f, " \n\t\r\n", 5, VT_E_BAD_PEM);
    expect_reject(f, "\0\0\0", 3, VT_E_BAD_PEM);
    expect_reject(f, "garbage", 7, VT_E_BAD_PEM);

    t = concat(&n, p.leaf, p.leaf_len, "garbage\n", 8); /* after the last block */
    expect_reject(f, t, n, VT_E_BAD_PEM);
    free(t);
    t = concat(&n, p.leaf, p.leaf_len, "x", 1);
    expect_reject(f, t, n, VT_E_BAD_PEM);
    free(t);
    t = concat(&n, "subject=CN=x\n", 13, p.leaf, p.leaf_len); /* text before */
    expect_reject(f, t, n, VT_E_BAD_PEM);
    free(t);
    char *mid = concat(&n, p.leaf, p.leaf_len, "junk\n", 5); /* between blocks */
    t = concat(&n, mid, n, p.ca, p.ca_len);
    expect_reject(f, t, n, VT_E_BAD_PEM);
    free(t);
    free(mid);
    mid = concat(&n, p.leaf, p.leaf_len, "\0", 1); /* a NUL between blocks is not a tail */
    t = concat(&n, mid, n, p.ca, p.ca_len);
    expect_reject(f, t, n, VT_E_BAD_PEM);
    free(t);
    free(mid);

    /* Missing END line; wrong label; corrupt base64; empty block. */
    expect_reject(f, p.leaf, p.leaf_len - 10, VT_E_BAD_PEM);
    t = strdup(p.leaf);
    assert_non_null(t);
    memcpy(strstr(t, "CERTIFICATE"), "CERTIFICATX", 11);
    expect_reject(f, t, p.leaf_len, VT_E_BAD_PEM);
    free(t);
    t = strdup(p.leaf);
    assert_non_null(t);
    t[40] = '*';
    expect_reject(f, t, p.leaf_len, VT_E_BAD_PEM);
    free(t);
    const char empty[] = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
    expect_reject(f, empty, sizeof(empty) - 1, VT_E_BAD_PEM);

    /* Valid base64 that is not a certificate. */
    const char notcert[] = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END "
                           "CERTIFICATE-----\n";
    expect_reject(f, notcert, sizeof(notcert) - 1, VT_E_BAD_CERT);

    /* A bad percent escape. */
    t = url_encode(p.leaf, p.leaf_len, false, &n);
    t[n - 2] = 'G';
    expect_reject(f, t, n, VT_E_BAD_PEM);
    free(t);

    /* Too many certificates: 8 in the list already would overflow; 9 in one bundle. */
    char *many = malloc(9 * p.leaf_len + 1);
    assert_non_null(many);
    for (size_t i = 0; i < 9; i++) {
        memcpy(many + i * p.leaf_len, p.leaf, p.leaf_len);
    }
    expect_reject(f, many, 9 * p.leaf_len, VT_E_TOO_LARGE);
    expect_reject(f, many, 8 * p.leaf_len, VT_E_TOO_LARGE); /* 1 + 8 */
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    assert_int_equal(vt_cert_list_from_pem(many, 8 * p.leaf_len, &l, NULL), VT_OK);
    assert_int_equal(l.n, 8);
    vt_cert_list_cleanup(&l);
    free(many);
    free_pems(&p);
}

static void test_pem_appends(void **state)
{
    struct fixture *f = *state;
    struct pems p;
    make_pems(f, &p);
    struct vt_cert_list l;
    assert_int_equal(vt_testgen_list(&l, &f->pki.root, 1, NULL), VT_OK);
    assert_int_equal(vt_cert_list_from_pem(p.both, p.both_len, &l, NULL), VT_OK);
    assert_int_equal(l.n, 3);
    char cn[64];
    assert_int_equal(vt_cert_subject_cn(l.certs[0], cn, sizeof(cn)), VT_OK);
    assert_string_equal(cn, "Test Root CA");
    assert_int_equal(vt_cert_subject_cn(l.certs[2], cn, sizeof(cn)), VT_OK);
    assert_string_equal(cn, "Test Intermediate CA");
    vt_cert_list_cleanup(&l);
    free_pems(&p);
}

static void test_from_bytes(void **state)
{
    struct fixture *f = *state;
    struct pems p;
    make_pems(f, &p);
    size_t len = 0;
    uint8_t *der = NULL;
    assert_int_equal(vt_testgen_cert_der(f->pki.ca, &der, &len, NULL), VT_OK);
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    assert_int_equal(vt_cert_list_from_bytes(der, len, &l, NULL), VT_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(vt_cert_list_from_bytes((const uint8_t *)p.both, p.both_len, &l, NULL), VT_OK);
    assert_int_equal(l.n, 3);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cert_list_from_bytes(der, len - 1, &l, &d), VT_E_BAD_CERT);
    assert_int_equal(l.n, 3);
    assert_int_equal(vt_cert_list_from_bytes((const uint8_t *)"nope", 4, &l, &d), VT_E_BAD_PEM);
    assert_int_equal(l.n, 3);
    vt_cert_list_cleanup(&l);
    free(der);
    free_pems(&p);
}

/* The real Intel SGX Root CA (SPEC: dcap.md 2, root certificate facts). */
static void test_fixture_intel_root(void **state)
{
    (void)state;
    const char *dir = vt_fixtures_or_skip();
    char path[1024];
    snprintf(path, sizeof(path), "%s/dcap/intel-sgx-root-ca.pem", dir);
    size_t len = 0;
    uint8_t *pem = vt_test_read_file(path, &len);
    assert_non_null(pem);
    struct vt_cert_list l;
    struct vt_diag d;
    vt_cert_list_init(&l);
    vt_diag_init(&d);
    assert_int_equal(vt_cert_list_from_bytes(pem, len, &l, &d), VT_OK);
    assert_int_equal(l.n, 1);
    struct vt_cert *root = l.certs[0];
    char buf[128];
    assert_int_equal(vt_cert_subject_cn(root, buf, sizeof(buf)), VT_OK);
    assert_string_equal(buf, "Intel SGX Root CA");
    vt_cert_subject_text(root, buf, sizeof(buf));
    assert_string_equal(buf, "CN=Intel SGX Root CA,O=Intel Corporation,L=Santa Clara,ST=CA,C=US");
    vt_cert_serial_hex(root, buf, sizeof(buf));
    assert_string_equal(buf, "22650CD65A9D3489F383B49552BF501B392706AC");
    assert_int_equal(vt_cert_not_before(root), INT64_C(1526899510)); /* 2018-05-21T10:45:10Z */
    assert_int_equal(vt_cert_not_after(root), INT64_C(2524607999));  /* 2049-12-31T23:59:59Z */
    uint8_t fp[VT_SHA256_LEN];
    uint8_t want[VT_SHA256_LEN];
    vt_cert_sha256(root, fp);
    assert_int_equal(
        vt_hex_decode_exact("44A0196B2B99F889B8E149E95B807A350E7424964399E885A7CBB8CCFAB674D3", 64,
                            want, sizeof(want)),
        VT_OK);
    assert_memory_equal(fp, want, sizeof(fp));
    uint8_t xy[64];
    assert_int_equal(vt_cert_p256_xy(root, xy, &d), VT_OK);
    uint8_t key[64];
    assert_int_equal(vt_hex_decode_exact("0ba9c4c0c0c86193a3fe23d6b02cda10a8bbd4e88e48b4458561a3"
                                         "6e705525f567918e2edc88e40d860bd0cc4ee26aacc988e505a953"
                                         "558c453f6b0904ae7394",
                                         128, key, sizeof(key)),
                     VT_OK);
    assert_memory_equal(xy, key, sizeof(key));
    assert_int_equal(vt_cert_check_signed_by(root, root, &d), VT_OK);
    vt_cert_list_cleanup(&l);
    free(pem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_der_roundtrip_and_accessors),
        cmocka_unit_test(test_serial_hex_uppercase),
        cmocka_unit_test(test_names_and_equality),
        cmocka_unit_test(test_no_cn),
        cmocka_unit_test(test_signed_by),
        cmocka_unit_test(test_extension_lookup),
        cmocka_unit_test(test_p256_xy_rejects_other_keys),
        cmocka_unit_test(test_times_around_2050),
        cmocka_unit_test(test_der_rejects),
        cmocka_unit_test(test_der_rejects_duplicate_extension),
        cmocka_unit_test(test_list_add),
        cmocka_unit_test(test_pem_forms),
        cmocka_unit_test(test_pem_rejects),
        cmocka_unit_test(test_pem_appends),
        cmocka_unit_test(test_from_bytes),
        cmocka_unit_test(test_fixture_intel_root),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
