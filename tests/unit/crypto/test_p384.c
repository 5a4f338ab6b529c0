/*
 * Unit tests for src/crypto/p384.c: raw X||Y keys and raw r||s signatures checked against
 * signatures made by OpenSSL and converted to raw form and against RFC 6979 A.2.6; keys from
 * certificates; certificate signatures checked on an OpenSSL-generated P-384 chain and on the
 * real AWS Nitro Enclaves root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include "crypto/crypto.h"
#include "base/encoding.h"

#include "vt_fixtures.h"
#include "x509_gen.h"

static const char msg[] = "veritee COSE_Sign1 Sig_structure to be signed";

/* SEC 2 secp384r1 group order n and field prime p. */
static const char n_hex[] = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
                            "581a0db248b0a77aecec196accc52973";
static const char p_hex[] = "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe"
                            "ffffffff0000000000000000ffffffff";

/* ecdsa-with-SHA384 AlgorithmIdentifier, parameters absent (RFC 5758 3.2). */
static const uint8_t alg_sha384[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                     0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};

enum { T0 = 1700000000, T1 = 2000000000 };

struct fixture {
    EVP_PKEY *key;
    uint8_t xy[96];
    uint8_t sig[96];
};

/* ---- OpenSSL-side helpers: P-384 keys and signatures in raw form ---- */

static EVP_PKEY *p384_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-384");
    assert_non_null(k);
    return k;
}

static void p384_xy(EVP_PKEY *key, uint8_t xy[96])
{
    uint8_t pub[97];
    size_t n = 0;
    assert_int_equal(
        EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &n), 1);
    assert_int_equal(n, 97);
    assert_int_equal(pub[0], 0x04);
    memcpy(xy, pub + 1, 96);
}

/* DER ECDSA-Sig-Value to raw r||s. */
static void der_sig_to_raw(const uint8_t *der, size_t len, uint8_t sig[96])
{
    const unsigned char *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)len);
    assert_non_null(s);
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, 48), 48);
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + 48, 48), 48);
    ECDSA_SIG_free(s);
}

/* ECDSA-SHA384 signature of msg as raw r||s. */
static void p384_sign(EVP_PKEY *key, const void *m, size_t n, uint8_t sig[96])
{
    uint8_t der[120];
    size_t der_len = sizeof(der);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha384(), NULL, key), 1);
    assert_int_equal(EVP_DigestSign(ctx, der, &der_len, m, n), 1);
    EVP_MD_CTX_free(ctx);
    der_sig_to_raw(der, der_len, sig);
}

static void hex_to(const char *hex, uint8_t *out, size_t n)
{
    assert_int_equal(vt_hex_decode_exact(hex, 2 * n, out, n), VT_OK);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->key = p384_key();
    p384_xy(f->key, f->xy);
    p384_sign(f->key, msg, sizeof(msg), f->sig);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY_free(f->key);
    free(f);
    return 0;
}

/* One-shot verification with a raw key, for tests that vary the signature. */
static enum vt_err verify_xy(const uint8_t xy[96], const void *m, size_t n, const uint8_t sig[96])
{
    struct vt_key *k = NULL;
    assert_int_equal(vt_key_from_p384_xy(xy, &k, NULL), VT_OK);
    enum vt_err err = vt_p384_verify(k, m, n, sig);
    vt_key_free(k);
    return err;
}

/* ---- raw keys and signatures ---- */

static void test_backend_named(void **state)
{
    (void)state;
    /* bench/bench_p384 measured nettle ahead of OpenSSL 3.0 by ~1.9x, and the tables of
     * p384_fast.c ahead of nettle for reused keys; see src/crypto/p384.c. */
    assert_string_equal(vt_p384_backend(), "nettle; veritee tables for reused keys");
}

static void test_good_signature(void **state)
{
    struct fixture *f = *state;
    struct vt_key *k = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_key_from_p384_xy(f->xy, &k, &d), VT_OK);
    assert_non_null(k);
    assert_int_equal(vt_p384_verify(k, msg, sizeof(msg), f->sig), VT_OK);
    /* The key is reusable. */
    assert_int_equal(vt_p384_verify(k, msg, sizeof(msg), f->sig), VT_OK);
    /* The digest form agrees. */
    uint8_t digest[VT_SHA384_LEN];
    vt_sha384(msg, sizeof(msg), digest);
    assert_int_equal(vt_p384_verify_digest(k, digest, f->sig), VT_OK);
    digest[47] ^= 0x01;
    assert_int_equal(vt_p384_verify_digest(k, digest, f->sig), VT_E_SIGNATURE);
    assert_int_equal(d.code, VT_OK);
    vt_key_free(k);
    vt_key_free(NULL);
}

static void test_null_arguments(void **state)
{
    struct fixture *f = *state;
    struct vt_key *k = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_key_from_p384_xy(NULL, &k, &d), VT_E_ARG);
    assert_int_equal(d.code, VT_E_ARG);
    assert_int_equal(vt_key_from_p384_xy(f->xy, NULL, NULL), VT_E_ARG);
    assert_int_equal(vt_key_from_cert(NULL, VT_KEY_P384, &k, NULL), VT_E_ARG);
    assert_null(k);
    assert_int_equal(vt_key_from_p384_xy(f->xy, &k, NULL), VT_OK);
    uint8_t digest[VT_SHA384_LEN] = {0};
    assert_int_equal(vt_p384_verify(NULL, msg, sizeof(msg), f->sig), VT_E_ARG);
    assert_int_equal(vt_p384_verify(k, NULL, 1, f->sig), VT_E_ARG);
    assert_int_equal(vt_p384_verify(k, msg, sizeof(msg), NULL), VT_E_ARG);
    assert_int_equal(vt_p384_verify_digest(NULL, digest, f->sig), VT_E_ARG);
    assert_int_equal(vt_p384_verify_digest(k, NULL, f->sig), VT_E_ARG);
    assert_int_equal(vt_p384_verify_digest(k, digest, NULL), VT_E_ARG);
    vt_diag_init(&d);
    assert_int_equal(vt_cert_check_signed_by_p384(NULL, k, &d), VT_E_ARG);
    assert_int_equal(d.code, VT_E_ARG);
    vt_key_free(k);
}

static void test_bad_signature(void **state)
{
    struct fixture *f = *state;
    char other[sizeof(msg)];
    memcpy(other, msg, sizeof(msg));
    other[0] ^= 0x01;
    assert_int_equal(verify_xy(f->xy, other, sizeof(other), f->sig), VT_E_SIGNATURE);
    assert_int_equal(verify_xy(f->xy, msg, sizeof(msg) - 1, f->sig), VT_E_SIGNATURE);
    for (size_t i = 0; i < 96; i += 5) {
        uint8_t bad[96];
        memcpy(bad, f->sig, 96);
        bad[i] ^= 0x10;
        assert_int_equal(verify_xy(f->xy, msg, sizeof(msg), bad), VT_E_SIGNATURE);
    }
    /* r and s swapped. */
    uint8_t swapped[96];
    memcpy(swapped, f->sig + 48, 48);
    memcpy(swapped + 48, f->sig, 48);
    assert_int_equal(verify_xy(f->xy, msg, sizeof(msg), swapped), VT_E_SIGNATURE);
    /* A signature by another key, and a P-256-sized signature padded out. */
    EVP_PKEY *k2 = p384_key();
    uint8_t sig2[96];
    p384_sign(k2, msg, sizeof(msg), sig2);
    assert_int_equal(verify_xy(f->xy, msg, sizeof(msg), sig2), VT_E_SIGNATURE);
    EVP_PKEY_free(k2);
}

static void test_bad_key(void **state)
{
    struct fixture *f = *state;
    struct vt_key *k = NULL;
    struct vt_diag d;
    uint8_t xy[96];

    /* Off the curve: y with its low bit flipped. */
    memcpy(xy, f->xy, 96);
    xy[95] ^= 0x01;
    vt_diag_init(&d);
    assert_int_equal(vt_key_from_p384_xy(xy, &k, &d), VT_E_BAD_KEY);
    assert_null(k);
    assert_int_equal(d.code, VT_E_BAD_KEY);
    assert_string_equal(d.check, "p384.key");
    assert_non_null(strstr(d.detail, "not on the P-384 curve"));

    /* Off the curve in x. */
    memcpy(xy, f->xy, 96);
    xy[20] ^= 0x40;
    assert_int_equal(vt_key_from_p384_xy(xy, &k, &d), VT_E_BAD_KEY);
    assert_null(k);

    /* The all-zero point (what an unset key looks like). */
    memset(xy, 0, sizeof(xy));
    assert_int_equal(vt_key_from_p384_xy(xy, &k, &d), VT_E_BAD_KEY);
    assert_null(k);

    /* Coordinates not below p: x = p, y = 2^384 - 1. */
    memcpy(xy, f->xy, 96);
    hex_to(p_hex, xy, 48);
    vt_diag_init(&d);
    assert_int_equal(vt_key_from_p384_xy(xy, &k, &d), VT_E_BAD_KEY);
    assert_non_null(strstr(d.detail, "x coordinate"));
    memcpy(xy, f->xy, 96);
    memset(xy + 48, 0xff, 48);
    vt_diag_init(&d);
    assert_int_equal(vt_key_from_p384_xy(xy, &k, &d), VT_E_BAD_KEY);
    assert_non_null(strstr(d.detail, "y coordinate"));
    assert_null(k);
}

static void test_scalar_range(void **state)
{
    struct fixture *f = *state;
    uint8_t n[48];
    uint8_t bad[96];
    hex_to(n_hex, n, 48);

    memcpy(bad, f->sig, 96);
    memset(bad, 0, 48); /* r = 0 */
    assert_int_equal(verify_xy(f->xy, msg, sizeof(msg), bad), VT_E_SIGNATURE);
    memcpy(bad, f->sig, 96);
    memset(bad + 48, 0, 48); /* s = 0 */
    assert_int_equal(verify_xy(f->xy, msg, sizeof(msg), bad), VT_E_SIGNATURE);
    memcpy(bad, f->sig, 96);
    memcpy(bad, n, 48); /* r = n */
    assert_int_equal(verify_xy(f->xy, msg, sizeof(msg), bad), VT_E_SIGNATURE);
    memcpy(bad, f->sig, 96);
    memcpy(bad + 48, n, 48); /* s = n */
    assert_int_equal(verify_xy(f->xy, msg, sizeof(msg), bad), VT_E_SIGNATURE);

    /* r + n and s + n are congruent to r and s: a verifier that reduced mod n would accept them.
     * They fit in 48 bytes only when the value is below 2^384 - n (about 1 in 2^190 values are
     * not), so each is tried when it fits. */
    for (size_t half = 0; half < 2; half++) {
        memcpy(bad, f->sig, 96);
        unsigned carry = 0;
        for (size_t i = 48; i-- > 0;) {
            unsigned v = (unsigned)bad[48 * half + i] + n[i] + carry;
            bad[48 * half + i] = (uint8_t)v;
            carry = v >> 8;
        }
        if (carry == 0) {
            assert_int_equal(verify_xy(f->xy, msg, sizeof(msg), bad), VT_E_SIGNATURE);
        }
    }
    memset(bad, 0xff, 96);
    assert_int_equal(verify_xy(f->xy, msg, sizeof(msg), bad), VT_E_SIGNATURE);
}

/* (r, n - s) is valid too: there is no low-S rule. */
static void test_high_s_accepted(void **state)
{
    struct fixture *f = *state;
    uint8_t n[48];
    uint8_t neg[96];
    hex_to(n_hex, n, 48);
    memcpy(neg, f->sig, 48);
    unsigned borrow = 0;
    for (size_t i = 48; i-- > 0;) {
        int v = (int)n[i] - (int)f->sig[48 + i] - (int)borrow;
        borrow = v < 0 ? 1 : 0;
        neg[48 + i] = (uint8_t)(v + (v < 0 ? 256 : 0));
    }
    assert_int_equal(verify_xy(f->xy, msg, sizeof(msg), neg), VT_OK);
    assert_int_equal(verify_xy(f->xy, msg, sizeof(msg), f->sig), VT_OK);
}

/* RFC 6979 A.2.6, ECDSA P-384 with SHA-384, messages "sample" and "test". */
static void test_rfc6979_vectors(void **state)
{
    (void)state;
    uint8_t xy[96];
    uint8_t sig[96];
    hex_to("ec3a4e415b4e19a4568618029f427fa5da9a8bc4ae92e02e06aae5286b300c64"
           "def8f0ea9055866064a254515480bc13"
           "8015d9b72d7d57244ea8ef9ac0c621896708a59367f9dfb9f54ca84b3f1c9db1"
           "288b231c3ae0d4fe7344fd2533264720",
           xy, 96);
    hex_to("94edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c"
           "81a648152e44acf96e36dd1e80fabe46"
           "99ef4aeb15f178cea1fe40db2603138f130e740a19624526203b6351d0a3a94f"
           "a329c145786e679e7b82c71a38628ac8",
           sig, 96);
    assert_int_equal(verify_xy(xy, "sample", 6, sig), VT_OK);
    assert_int_equal(verify_xy(xy, "samplf", 6, sig), VT_E_SIGNATURE);
    hex_to("8203b63d3c853e8d77227fb377bcf7b7b772e97892a80f36ab775d509d7a5feb"
           "0542a7f0812998da8f1dd3ca3cf023db"
           "ddd0760448d42d8a43af45af836fce4de8be06b485e9b61b827c2f13173923e0"
           "6a739f040649a667bf3b828246baa5a5",
           sig, 96);
    assert_int_equal(verify_xy(xy, "test", 4, sig), VT_OK);
    assert_int_equal(verify_xy(xy, "sample", 6, sig), VT_E_SIGNATURE);
}

static void test_empty_message(void **state)
{
    struct fixture *f = *state;
    uint8_t sig[96];
    p384_sign(f->key, "", 0, sig);
    assert_int_equal(verify_xy(f->xy, NULL, 0, sig), VT_OK);
    assert_int_equal(verify_xy(f->xy, "x", 1, sig), VT_E_SIGNATURE);
}

/* ---- keys from certificates ---- */

/* A certificate for key, signed by signer (NULL: self) with md. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *signer, bool ca,
                       const EVP_MD *md)
{
    struct vt_testgen_cert_opts o = {
        .cn = cn,
        .key = key,
        .issuer = issuer,
        .signer = signer,
        .not_before = T0,
        .not_after = T1,
        .serial = 7,
        .ca = ca,
        .pathlen = -1,
        .key_usage = ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature",
    };
    X509 *x = NULL;
    assert_int_equal(vt_testgen_cert(&o, &x, NULL), VT_OK);
    /* The generator signs with SHA-256; sign again (both algorithm fields are rewritten). */
    if (md != NULL) {
        assert_true(X509_sign(x, signer != NULL ? signer : key, md) > 0);
    }
    return x;
}

static void test_key_from_cert(void **state)
{
    struct fixture *f = *state;
    X509 *x = make_cert("veritee p384 key", f->key, NULL, NULL, false, EVP_sha384());
    struct vt_cert *c = NULL;
    assert_int_equal(vt_testgen_vt_cert(x, &c, NULL), VT_OK);
    struct vt_key *k = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_key_from_cert(c, VT_KEY_P384, &k, &d), VT_OK);
    assert_int_equal(vt_p384_verify(k, msg, sizeof(msg), f->sig), VT_OK);
    uint8_t bad[96];
    memcpy(bad, f->sig, 96);
    bad[95] ^= 0x01;
    assert_int_equal(vt_p384_verify(k, msg, sizeof(msg), bad), VT_E_SIGNATURE);
    vt_key_free(k);
    vt_cert_free(c);
    X509_free(x);
}

static void test_key_from_cert_wrong_curve(void **state)
{
    (void)state;
    struct vt_key *k = NULL;
    struct vt_diag d;

    /* P-256. */
    EVP_PKEY *p256 = NULL;
    assert_int_equal(vt_testgen_p256_key(&p256, NULL), VT_OK);
    X509 *x = make_cert("veritee p256", p256, NULL, NULL, false, NULL);
    struct vt_cert *c = NULL;
    assert_int_equal(vt_testgen_vt_cert(x, &c, NULL), VT_OK);
    vt_diag_init(&d);
    assert_int_equal(vt_key_from_cert(c, VT_KEY_P384, &k, &d), VT_E_UNSUPPORTED_ALGORITHM);
    assert_null(k);
    assert_int_equal(d.code, VT_E_UNSUPPORTED_ALGORITHM);
    assert_string_equal(d.check, "cert.public_key");
    assert_non_null(strstr(d.detail, "prime256v1"));
    vt_cert_free(c);
    X509_free(x);
    EVP_PKEY_free(p256);

    /* P-521. */
    EVP_PKEY *p521 = EVP_EC_gen("P-521");
    assert_non_null(p521);
    x = make_cert("veritee p521", p521, NULL, NULL, false, EVP_sha512());
    assert_int_equal(vt_testgen_vt_cert(x, &c, NULL), VT_OK);
    vt_diag_init(&d);
    assert_int_equal(vt_key_from_cert(c, VT_KEY_P384, &k, &d), VT_E_UNSUPPORTED_ALGORITHM);
    assert_null(k);
    assert_non_null(strstr(d.detail, "secp521r1"));
    vt_cert_free(c);
    X509_free(x);
    EVP_PKEY_free(p521);

    /* Not EC at all. */
    EVP_PKEY *rsa = EVP_RSA_gen(2048);
    assert_non_null(rsa);
    x = make_cert("veritee rsa", rsa, NULL, NULL, false, NULL);
    assert_int_equal(vt_testgen_vt_cert(x, &c, NULL), VT_OK);
    vt_diag_init(&d);
    assert_int_equal(vt_key_from_cert(c, VT_KEY_P384, &k, &d), VT_E_UNSUPPORTED_ALGORITHM);
    assert_null(k);
    assert_non_null(strstr(d.detail, "RSA"));
    vt_cert_free(c);
    X509_free(x);
    EVP_PKEY_free(rsa);
}

/* ---- certificate signatures ---- */

struct chain {
    EVP_PKEY *root_key;
    EVP_PKEY *ca_key;
    EVP_PKEY *leaf_key;
    X509 *root;
    X509 *ca;
    X509 *leaf;
};

/* root (self-signed) -> ca -> leaf, all P-384 with ecdsa-with-SHA384. */
static void chain_init(struct chain *ch)
{
    ch->root_key = p384_key();
    ch->ca_key = p384_key();
    ch->leaf_key = p384_key();
    ch->root = make_cert("veritee p384 root", ch->root_key, NULL, NULL, true, EVP_sha384());
    ch->ca = make_cert("veritee p384 ca", ch->ca_key, ch->root, ch->root_key, true, EVP_sha384());
    ch->leaf =
        make_cert("veritee p384 leaf", ch->leaf_key, ch->ca, ch->ca_key, false, EVP_sha384());
}

static void chain_cleanup(struct chain *ch)
{
    X509_free(ch->leaf);
    X509_free(ch->ca);
    X509_free(ch->root);
    EVP_PKEY_free(ch->leaf_key);
    EVP_PKEY_free(ch->ca_key);
    EVP_PKEY_free(ch->root_key);
}

static struct vt_key *key_of(const struct vt_cert *c)
{
    struct vt_key *k = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_key_from_cert(c, VT_KEY_P384, &k, &d) != VT_OK) {
        fail_msg("vt_key_from_cert: %s: %s", d.check, d.detail);
    }
    return k;
}

/* Parse a modified DER (which must still parse) and check it against key. */
static enum vt_err check_der(const uint8_t *der, size_t len, const struct vt_key *key,
                             struct vt_diag *d)
{
    struct vt_cert *c = NULL;
    struct vt_diag pd;
    vt_diag_init(&pd);
    if (vt_cert_from_der(der, len, &c, &pd) != VT_OK) {
        fail_msg("modified certificate no longer parses: %s: %s", pd.check, pd.detail);
    }
    vt_diag_init(d);
    enum vt_err err = vt_cert_check_signed_by_p384(c, key, d);
    vt_cert_free(c);
    return err;
}

/* Offset of the first occurrence of needle in hay. */
static size_t find(const uint8_t *hay, size_t hn, const void *needle, size_t nn)
{
    for (size_t i = 0; i + nn <= hn; i++) {
        if (memcmp(hay + i, needle, nn) == 0) {
            return i;
        }
    }
    fail_msg("pattern not found");
    return 0;
}

/*
 * Offset of the signatureValue BIT STRING, the certificate's last TLV: 03 L 00 30 L-3 02 ...
 * (a P-384 ECDSA-Sig-Value is at most 104 bytes, so both lengths are in the short form).
 */
static size_t sig_bits_at(const uint8_t *der, size_t len)
{
    for (size_t b = len - 8; b > 0; b--) {
        if (der[b] == 0x03 && der[b + 1] == len - b - 2 && der[b + 2] == 0x00 &&
            der[b + 3] == 0x30 && der[b + 4] == len - b - 5 && der[b + 5] == 0x02) {
            return b;
        }
    }
    fail_msg("no signatureValue found");
    return 0;
}

static void test_cert_chain_good(void **state)
{
    (void)state;
    struct chain ch;
    chain_init(&ch);
    struct vt_cert *root = NULL;
    assert_int_equal(vt_testgen_vt_cert(ch.root, &root, NULL), VT_OK);
    struct vt_cert *ca = NULL;
    assert_int_equal(vt_testgen_vt_cert(ch.ca, &ca, NULL), VT_OK);
    struct vt_cert *leaf = NULL;
    assert_int_equal(vt_testgen_vt_cert(ch.leaf, &leaf, NULL), VT_OK);
    struct vt_key *root_key = key_of(root);
    struct vt_key *ca_key = key_of(ca);
    struct vt_diag d;
    vt_diag_init(&d);

    assert_int_equal(vt_cert_check_signed_by_p384(root, root_key, &d), VT_OK);
    assert_int_equal(vt_cert_check_signed_by_p384(ca, root_key, &d), VT_OK);
    assert_int_equal(vt_cert_check_signed_by_p384(leaf, ca_key, &d), VT_OK);
    assert_int_equal(d.code, VT_OK);
    /* OpenSSL's verifier agrees. */
    assert_int_equal(vt_cert_check_signed_by(ca, root, &d), VT_OK);
    assert_int_equal(vt_cert_check_signed_by(leaf, ca, &d), VT_OK);

    /* The wrong issuer key. */
    assert_int_equal(vt_cert_check_signed_by_p384(leaf, root_key, &d), VT_E_CERT_SIGNATURE);
    assert_int_equal(d.code, VT_E_CERT_SIGNATURE);
    assert_string_equal(d.check, "cert.signature");
    assert_non_null(strstr(d.detail, "veritee p384 leaf"));
    assert_non_null(strstr(d.detail, "veritee p384 ca"));
    assert_non_null(strstr(d.detail, "veritee p384 root"));
    vt_diag_init(&d);
    assert_int_equal(vt_cert_check_signed_by_p384(root, ca_key, &d), VT_E_CERT_SIGNATURE);

    /* A raw key is named as such. */
    uint8_t xy[96];
    struct vt_key *raw = NULL;
    p384_xy(ch.root_key, xy);
    assert_int_equal(vt_key_from_p384_xy(xy, &raw, NULL), VT_OK);
    assert_int_equal(vt_cert_check_signed_by_p384(ca, raw, &d), VT_OK);
    vt_diag_init(&d);
    assert_int_equal(vt_cert_check_signed_by_p384(leaf, raw, &d), VT_E_CERT_SIGNATURE);
    assert_non_null(strstr(d.detail, "raw P-384 key"));

    vt_key_free(raw);
    vt_key_free(ca_key);
    vt_key_free(root_key);
    vt_cert_free(leaf);
    vt_cert_free(ca);
    vt_cert_free(root);
    chain_cleanup(&ch);
}

static void test_cert_tampered(void **state)
{
    (void)state;
    struct chain ch;
    chain_init(&ch);
    struct vt_cert *root = NULL;
    assert_int_equal(vt_testgen_vt_cert(ch.root, &root, NULL), VT_OK);
    struct vt_key *root_key = key_of(root);
    size_t len = 0;
    uint8_t *der = NULL;
    assert_int_equal(vt_testgen_cert_der(ch.ca, &der, &len, NULL), VT_OK);
    uint8_t *mod = malloc(len);
    assert_non_null(mod);
    struct vt_diag d;

    /* Unmodified, for reference. */
    assert_int_equal(check_der(der, len, root_key, &d), VT_OK);

    /* One letter of the subject CN inside the TBS. */
    memcpy(mod, der, len);
    size_t at = find(mod, len, "p384 ca", 7);
    mod[at] = 'q';
    assert_int_equal(check_der(mod, len, root_key, &d), VT_E_CERT_SIGNATURE);
    assert_int_equal(d.code, VT_E_CERT_SIGNATURE);
    assert_non_null(strstr(d.detail, "veritee q384 ca"));

    /* The serial number. */
    memcpy(mod, der, len);
    at = find(mod, len, "\x02\x01\x07", 3);
    mod[at + 2] = 0x08;
    assert_int_equal(check_der(mod, len, root_key, &d), VT_E_CERT_SIGNATURE);

    /* The last byte of s (the certificate's last byte). */
    memcpy(mod, der, len);
    mod[len - 1] ^= 0x01;
    assert_int_equal(check_der(mod, len, root_key, &d), VT_E_CERT_SIGNATURE);
    assert_non_null(strstr(d.detail, "does not verify"));

    /* The TBS signature field says ecdsa-with-SHA256 while the outer one says SHA-384
     * (RFC 5280 4.1.1.2 requires them equal). */
    memcpy(mod, der, len);
    at = find(mod, len, alg_sha384, sizeof(alg_sha384));
    mod[at + sizeof(alg_sha384) - 1] = 0x02;
    assert_int_equal(check_der(mod, len, root_key, &d), VT_E_CERT_SIGNATURE);
    assert_non_null(strstr(d.detail, "ecdsa-with-SHA256"));

    /* BER that OpenSSL accepts but DER forbids: the serial's length in the long form
     * (02 81 01 07 for 02 01 07), with the two enclosing two-byte lengths grown by one. */
    assert_true(der[0] == 0x30 && der[1] == 0x82 && der[4] == 0x30 && der[5] == 0x82);
    uint8_t *ber = malloc(len + 1);
    assert_non_null(ber);
    at = find(der, len, "\x02\x01\x07", 3);
    memcpy(ber, der, at + 1);
    ber[at + 1] = 0x81;
    memcpy(ber + at + 2, der + at + 1, len - at - 1);
    for (size_t i = 2; i <= 6; i += 4) {
        unsigned v = ((unsigned)ber[i] << 8 | ber[i + 1]) + 1;
        ber[i] = (uint8_t)(v >> 8);
        ber[i + 1] = (uint8_t)v;
    }
    assert_int_equal(check_der(ber, len + 1, root_key, &d), VT_E_BAD_CERT);
    assert_string_equal(d.check, "cert.der");
    free(ber);

    /* The encoding of the signature value. */
    size_t b = sig_bits_at(der, len);
    memcpy(mod, der, len);
    mod[b + 2] = 0x01; /* an unused bit in the BIT STRING */
    assert_int_equal(check_der(mod, len, root_key, &d), VT_E_CERT_SIGNATURE);
    assert_non_null(strstr(d.detail, "cannot be decoded"));
    memcpy(mod, der, len);
    mod[b + 3] = 0x31; /* a SET instead of the SEQUENCE */
    assert_int_equal(check_der(mod, len, root_key, &d), VT_E_CERT_SIGNATURE);
    memcpy(mod, der, len);
    mod[b + 5] = 0x04; /* r as an OCTET STRING */
    assert_int_equal(check_der(mod, len, root_key, &d), VT_E_CERT_SIGNATURE);

    vt_key_free(root_key);
    vt_cert_free(root);
    free(mod);
    free(der);
    chain_cleanup(&ch);
}

/* Sign ch->ca again until r's DER INTEGER has (padded) or lacks a leading zero byte; its DER. */
static uint8_t *ca_der_with_r(struct chain *ch, bool padded, size_t *len)
{
    for (int i = 0; i < 200; i++) {
        assert_true(X509_sign(ch->ca, ch->root_key, EVP_sha384()) > 0);
        uint8_t *der = NULL;
        assert_int_equal(vt_testgen_cert_der(ch->ca, &der, len, NULL), VT_OK);
        size_t b = sig_bits_at(der, *len);
        if ((der[b + 7] == 0x00) == padded) {
            return der;
        }
        free(der);
    }
    fail_msg("no signature with the wanted r after 200 tries");
    return NULL;
}

/* r encoded as a negative or a non-minimal INTEGER (s is decoded the same way). */
static void test_cert_bad_integers(void **state)
{
    (void)state;
    struct chain ch;
    chain_init(&ch);
    struct vt_cert *root = NULL;
    assert_int_equal(vt_testgen_vt_cert(ch.root, &root, NULL), VT_OK);
    struct vt_key *root_key = key_of(root);
    struct vt_diag d;
    size_t len = 0;

    /* r below 2^383 (no padding): setting its top bit makes a negative INTEGER of 48 bytes. */
    uint8_t *der = ca_der_with_r(&ch, false, &len);
    size_t b = sig_bits_at(der, len);
    assert_int_equal(check_der(der, len, root_key, &d), VT_OK);
    der[b + 7] |= 0x80;
    assert_int_equal(check_der(der, len, root_key, &d), VT_E_CERT_SIGNATURE);
    assert_non_null(strstr(d.detail, "cannot be decoded"));
    free(der);

    /* r with a padding zero: a 0x00 before a byte without the top bit is not minimal, and a
     * 0x80 first byte makes a negative INTEGER of 49 bytes. */
    der = ca_der_with_r(&ch, true, &len);
    b = sig_bits_at(der, len);
    assert_int_equal(check_der(der, len, root_key, &d), VT_OK);
    der[b + 8] &= 0x7f;
    assert_int_equal(check_der(der, len, root_key, &d), VT_E_CERT_SIGNATURE);
    assert_non_null(strstr(d.detail, "cannot be decoded"));
    der[b + 8] |= 0x80;
    der[b + 7] = 0x80;
    assert_int_equal(check_der(der, len, root_key, &d), VT_E_CERT_SIGNATURE);
    assert_non_null(strstr(d.detail, "cannot be decoded"));
    free(der);

    vt_key_free(root_key);
    vt_cert_free(root);
    chain_cleanup(&ch);
}

static void test_cert_wrong_algorithm(void **state)
{
    (void)state;
    struct chain ch;
    chain_init(&ch);
    struct vt_cert *root = NULL;
    assert_int_equal(vt_testgen_vt_cert(ch.root, &root, NULL), VT_OK);
    struct vt_key *root_key = key_of(root);
    struct vt_diag d;

    /* The right key, but ecdsa-with-SHA256. */
    X509 *x =
        make_cert("veritee sha256 child", ch.ca_key, ch.root, ch.root_key, true, EVP_sha256());
    struct vt_cert *c = NULL;
    assert_int_equal(vt_testgen_vt_cert(x, &c, NULL), VT_OK);
    assert_int_equal(vt_cert_check_signed_by(c, root, NULL), VT_OK);
    vt_diag_init(&d);
    assert_int_equal(vt_cert_check_signed_by_p384(c, root_key, &d), VT_E_UNSUPPORTED_ALGORITHM);
    assert_int_equal(d.code, VT_E_UNSUPPORTED_ALGORITHM);
    assert_string_equal(d.check, "cert.signature_algorithm");
    assert_non_null(strstr(d.detail, "ecdsa-with-SHA256 (1.2.840.10045.4.3.2)"));
    assert_non_null(strstr(d.detail, "veritee sha256 child"));
    vt_cert_free(c);
    X509_free(x);

    /* ecdsa-with-SHA512. */
    x = make_cert("veritee sha512 child", ch.ca_key, ch.root, ch.root_key, true, EVP_sha512());
    assert_int_equal(vt_testgen_vt_cert(x, &c, NULL), VT_OK);
    vt_diag_init(&d);
    assert_int_equal(vt_cert_check_signed_by_p384(c, root_key, &d), VT_E_UNSUPPORTED_ALGORITHM);
    vt_cert_free(c);
    X509_free(x);

    /* An RSA signature. */
    EVP_PKEY *rsa = EVP_RSA_gen(2048);
    assert_non_null(rsa);
    x = make_cert("veritee rsa child", ch.ca_key, ch.root, rsa, true, NULL);
    assert_int_equal(vt_testgen_vt_cert(x, &c, NULL), VT_OK);
    vt_diag_init(&d);
    assert_int_equal(vt_cert_check_signed_by_p384(c, root_key, &d), VT_E_UNSUPPORTED_ALGORITHM);
    assert_non_null(strstr(d.detail, "RSA-SHA256"));
    vt_cert_free(c);
    X509_free(x);
    EVP_PKEY_free(rsa);

    vt_key_free(root_key);
    vt_cert_free(root);
    chain_cleanup(&ch);
}

/* Signatures whose r or s is shorter than 48 bytes have shorter DER INTEGERs. */
static void test_cert_short_scalars(void **state)
{
    (void)state;
    struct chain ch;
    chain_init(&ch);
    struct vt_cert *root = NULL;
    assert_int_equal(vt_testgen_vt_cert(ch.root, &root, NULL), VT_OK);
    struct vt_key *root_key = key_of(root);
    bool seen_r = false;
    bool seen_s = false;
    for (int i = 0; i < 5000 && !(seen_r && seen_s); i++) {
        assert_true(X509_sign(ch.ca, ch.root_key, EVP_sha384()) > 0);
        const ASN1_BIT_STRING *bits = NULL;
        X509_get0_signature(&bits, NULL, ch.ca);
        const unsigned char *p = ASN1_STRING_get0_data(bits);
        ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, ASN1_STRING_length(bits));
        assert_non_null(s);
        bool short_r = BN_num_bytes(ECDSA_SIG_get0_r(s)) < 48;
        bool short_s = BN_num_bytes(ECDSA_SIG_get0_s(s)) < 48;
        ECDSA_SIG_free(s);
        if ((short_r && !seen_r) || (short_s && !seen_s)) {
            seen_r = seen_r || short_r;
            seen_s = seen_s || short_s;
            struct vt_cert *c = NULL;
            assert_int_equal(vt_testgen_vt_cert(ch.ca, &c, NULL), VT_OK);
            assert_int_equal(vt_cert_check_signed_by_p384(c, root_key, NULL), VT_OK);
            vt_cert_free(c);
            size_t len = 0;
            uint8_t *der = NULL;
            assert_int_equal(vt_testgen_cert_der(ch.ca, &der, &len, NULL), VT_OK);
            der[len - 1] ^= 0x01;
            struct vt_diag d;
            assert_int_equal(check_der(der, len, root_key, &d), VT_E_CERT_SIGNATURE);
            free(der);
        }
    }
    assert_true(seen_r && seen_s);
    vt_key_free(root_key);
    vt_cert_free(root);
    chain_cleanup(&ch);
}

/* The real AWS Nitro Enclaves root (P-384, self-signed with ecdsa-with-SHA384). */
static void test_nitro_root_fixture(void **state)
{
    (void)state;
    const char *dir = vt_fixtures_or_skip();
    if (dir == NULL) {
        skip();
    }
    char path[2048];
    snprintf(path, sizeof(path), "%s/nitro/aws-root/AWS_NitroEnclaves_Root-G1.der", dir);
    size_t len = 0;
    uint8_t *der = vt_test_read_file(path, &len);
    if (der == NULL) {
        fail_msg("cannot read %s", path);
    }
    uint8_t sha[VT_SHA256_LEN];
    uint8_t want[VT_SHA256_LEN];
    hex_to("641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b", want, sizeof(want));
    vt_sha256(der, len, sha);
    assert_memory_equal(sha, want, sizeof(sha));

    struct vt_cert *root = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cert_from_der(der, len, &root, &d), VT_OK);
    struct vt_key *key = key_of(root);
    assert_int_equal(vt_cert_check_signed_by_p384(root, key, &d), VT_OK);
    assert_int_equal(d.code, VT_OK);
    assert_int_equal(vt_cert_check_signed_by(root, root, &d), VT_OK);

    /* A changed letter of the subject (in memory only) breaks the self-signature. */
    size_t at = find(der, len, "aws.nitro-enclaves", 18);
    der[at] = 'b';
    assert_int_equal(check_der(der, len, key, &d), VT_E_CERT_SIGNATURE);
    assert_non_null(strstr(d.detail, "bws.nitro-enclaves"));

    vt_key_free(key);
    vt_cert_free(root);
    free(der);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_named),
        cmocka_unit_test(test_good_signature),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_bad_signature),
        cmocka_unit_test(test_bad_key),
        cmocka_unit_test(test_scalar_range),
        cmocka_unit_test(test_high_s_accepted),
        cmocka_unit_test(test_rfc6979_vectors),
        cmocka_unit_test(test_empty_message),
        cmocka_unit_test(test_key_from_cert),
        cmocka_unit_test(test_key_from_cert_wrong_curve),
        cmocka_unit_test(test_cert_chain_good),
        cmocka_unit_test(test_cert_tampered),
        cmocka_unit_test(test_cert_bad_integers),
        cmocka_unit_test(test_cert_wrong_algorithm),
        cmocka_unit_test(test_cert_short_scalars),
        cmocka_unit_test(test_nitro_root_fixture),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
