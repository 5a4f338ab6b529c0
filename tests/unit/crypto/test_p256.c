/*
 * Unit tests for src/crypto/p256.c: raw X||Y keys and raw r||s signatures, checked against
 * signatures made by OpenSSL and converted to raw form, and against RFC 6979 A.2.5.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "base/encoding.h"

#include "x509_gen.h"

static const char msg[] = "veritee quote body to be signed";

/* SEC 2 secp256r1 group order n and field prime p. */
static const char n_hex[] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
static const char p_hex[] = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";

struct fixture {
    EVP_PKEY *key;
    uint8_t xy[64];
    uint8_t sig[64];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(vt_testgen_p256_key(&f->key, NULL), VT_OK);
    assert_int_equal(vt_testgen_p256_xy(f->key, f->xy, NULL), VT_OK);
    assert_int_equal(vt_testgen_p256_sign(f->key, msg, sizeof(msg), f->sig, NULL), VT_OK);
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

static void hex32(const char *hex, uint8_t out[32])
{
    assert_int_equal(vt_hex_decode_exact(hex, 64, out, 32), VT_OK);
}

static void test_backend_named(void **state)
{
    (void)state;
    const char *b = vt_p256_backend();
    assert_non_null(b);
    assert_true(strcmp(b, "openssl") == 0 || strcmp(b, "nettle") == 0);
}

static void test_good_signature(void **state)
{
    struct fixture *f = *state;
    struct vt_key *k = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_key_from_p256_xy(f->xy, &k, &d), VT_OK);
    uint8_t back[64];
    vt_key_p256_xy(k, back);
    assert_memory_equal(back, f->xy, 64);
    assert_int_equal(vt_p256_verify(k, msg, sizeof(msg), f->sig), VT_OK);
    /* The key is reusable. */
    assert_int_equal(vt_p256_verify(k, msg, sizeof(msg), f->sig), VT_OK);
    vt_key_free(k);
    assert_int_equal(vt_p256_verify_xy(f->xy, msg, sizeof(msg), f->sig, &d), VT_OK);
    vt_key_free(NULL);
}

static void test_bad_signature(void **state)
{
    struct fixture *f = *state;
    struct vt_diag d;
    vt_diag_init(&d);
    char other[sizeof(msg)];
    memcpy(other, msg, sizeof(msg));
    other[0] ^= 0x01;
    assert_int_equal(vt_p256_verify_xy(f->xy, other, sizeof(other), f->sig, &d), VT_E_SIGNATURE);
    /* A signature is not recorded: callers name the signature that failed. */
    assert_int_equal(d.code, VT_OK);
    assert_int_equal(vt_p256_verify_xy(f->xy, msg, sizeof(msg) - 1, f->sig, &d), VT_E_SIGNATURE);
    for (size_t i = 0; i < 64; i += 7) {
        uint8_t bad[64];
        memcpy(bad, f->sig, 64);
        bad[i] ^= 0x10;
        assert_int_equal(vt_p256_verify_xy(f->xy, msg, sizeof(msg), bad, NULL), VT_E_SIGNATURE);
    }
    /* r and s swapped. */
    uint8_t swapped[64];
    memcpy(swapped, f->sig + 32, 32);
    memcpy(swapped + 32, f->sig, 32);
    assert_int_equal(vt_p256_verify_xy(f->xy, msg, sizeof(msg), swapped, NULL), VT_E_SIGNATURE);
    /* Signature by another key. */
    EVP_PKEY *k2 = NULL;
    assert_int_equal(vt_testgen_p256_key(&k2, NULL), VT_OK);
    uint8_t sig2[64];
    assert_int_equal(vt_testgen_p256_sign(k2, msg, sizeof(msg), sig2, NULL), VT_OK);
    assert_int_equal(vt_p256_verify_xy(f->xy, msg, sizeof(msg), sig2, NULL), VT_E_SIGNATURE);
    EVP_PKEY_free(k2);
}

static void test_bad_key(void **state)
{
    struct fixture *f = *state;
    struct vt_key *k = NULL;
    struct vt_diag d;
    uint8_t xy[64];

    /* Off the curve: y + 1. */
    memcpy(xy, f->xy, 64);
    xy[63] ^= 0x01;
    vt_diag_init(&d);
    assert_int_equal(vt_key_from_p256_xy(xy, &k, &d), VT_E_BAD_KEY);
    assert_null(k);
    assert_int_equal(d.code, VT_E_BAD_KEY);
    assert_string_equal(d.check, "p256.key");

    /* The all-zero point (what an unset key looks like). */
    memset(xy, 0, sizeof(xy));
    assert_int_equal(vt_key_from_p256_xy(xy, &k, &d), VT_E_BAD_KEY);
    assert_null(k);

    /* Coordinates not below p. */
    memcpy(xy, f->xy, 64);
    hex32(p_hex, xy);
    assert_int_equal(vt_key_from_p256_xy(xy, &k, &d), VT_E_BAD_KEY);
    assert_non_null(strstr(d.detail, "x coordinate"));
    memcpy(xy, f->xy, 64);
    memset(xy + 32, 0xff, 32);
    assert_int_equal(vt_key_from_p256_xy(xy, &k, &d), VT_E_BAD_KEY);
    assert_non_null(strstr(d.detail, "y coordinate"));
    assert_null(k);

    /* The one-shot form records the bad key. */
    memcpy(xy, f->xy, 64);
    xy[10] ^= 0x40;
    vt_diag_init(&d);
    assert_int_equal(vt_p256_verify_xy(xy, msg, sizeof(msg), f->sig, &d), VT_E_BAD_KEY);
    assert_int_equal(d.code, VT_E_BAD_KEY);
}

static void test_scalar_range(void **state)
{
    struct fixture *f = *state;
    uint8_t n[32];
    uint8_t bad[64];
    hex32(n_hex, n);

    memcpy(bad, f->sig, 64);
    memset(bad, 0, 32); /* r = 0 */
    assert_int_equal(vt_p256_verify_xy(f->xy, msg, sizeof(msg), bad, NULL), VT_E_SIGNATURE);
    memcpy(bad, f->sig, 64);
    memset(bad + 32, 0, 32); /* s = 0 */
    assert_int_equal(vt_p256_verify_xy(f->xy, msg, sizeof(msg), bad, NULL), VT_E_SIGNATURE);
    memcpy(bad, f->sig, 64);
    memcpy(bad, n, 32); /* r = n */
    assert_int_equal(vt_p256_verify_xy(f->xy, msg, sizeof(msg), bad, NULL), VT_E_SIGNATURE);
    memcpy(bad, f->sig, 64);
    memcpy(bad + 32, n, 32); /* s = n */
    assert_int_equal(vt_p256_verify_xy(f->xy, msg, sizeof(msg), bad, NULL), VT_E_SIGNATURE);

    /* s + n is congruent to s: a verifier that reduced mod n would accept it. s + n must fit
     * in 32 bytes for the test, so use it only when s < 2^256 - n (almost always). */
    memcpy(bad, f->sig, 64);
    unsigned carry = 0;
    for (size_t i = 32; i-- > 0;) {
        unsigned v = (unsigned)bad[32 + i] + n[i] + carry;
        bad[32 + i] = (uint8_t)v;
        carry = v >> 8;
    }
    if (carry == 0) {
        assert_int_equal(vt_p256_verify_xy(f->xy, msg, sizeof(msg), bad, NULL), VT_E_SIGNATURE);
    }
    memset(bad, 0xff, 64);
    assert_int_equal(vt_p256_verify_xy(f->xy, msg, sizeof(msg), bad, NULL), VT_E_SIGNATURE);
}

/* ECDSA accepts (r, n - s) too (no low-s rule in DCAP); this also exercises the DER conversion
 * of values with the top bit set or clear. */
static void test_high_s_accepted(void **state)
{
    struct fixture *f = *state;
    uint8_t n[32];
    uint8_t neg[64];
    hex32(n_hex, n);
    memcpy(neg, f->sig, 32);
    unsigned borrow = 0;
    for (size_t i = 32; i-- > 0;) {
        int v = (int)n[i] - (int)f->sig[32 + i] - (int)borrow;
        borrow = v < 0 ? 1 : 0;
        neg[32 + i] = (uint8_t)(v + (v < 0 ? 256 : 0));
    }
    assert_int_equal(vt_p256_verify_xy(f->xy, msg, sizeof(msg), neg, NULL), VT_OK);
}

/* Signatures whose r or s starts with a zero byte need a shorter DER INTEGER. */
static void test_leading_zero_scalars(void **state)
{
    struct fixture *f = *state;
    struct vt_key *k = NULL;
    assert_int_equal(vt_key_from_p256_xy(f->xy, &k, NULL), VT_OK);
    bool seen_r = false;
    bool seen_s = false;
    for (int i = 0; i < 20000 && !(seen_r && seen_s); i++) {
        uint8_t sig[64];
        uint8_t m[8];
        memcpy(m, &i, sizeof(i));
        assert_int_equal(vt_testgen_p256_sign(f->key, m, sizeof(m), sig, NULL), VT_OK);
        if ((sig[0] == 0 && !seen_r) || (sig[32] == 0 && !seen_s)) {
            seen_r = seen_r || sig[0] == 0;
            seen_s = seen_s || sig[32] == 0;
            assert_int_equal(vt_p256_verify(k, m, sizeof(m), sig), VT_OK);
            m[0] ^= 1;
            assert_int_equal(vt_p256_verify(k, m, sizeof(m), sig), VT_E_SIGNATURE);
        }
    }
    assert_true(seen_r && seen_s);
    vt_key_free(k);
}

/* RFC 6979 A.2.5, ECDSA P-256 with SHA-256, messages "sample" and "test". */
static void test_rfc6979_vectors(void **state)
{
    (void)state;
    uint8_t xy[64];
    uint8_t sig[64];
    hex32("60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6", xy);
    hex32("7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299", xy + 32);
    hex32("efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716", sig);
    hex32("f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8", sig + 32);
    assert_int_equal(vt_p256_verify_xy(xy, "sample", 6, sig, NULL), VT_OK);
    assert_int_equal(vt_p256_verify_xy(xy, "samplf", 6, sig, NULL), VT_E_SIGNATURE);
    hex32("f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367", sig);
    hex32("019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083", sig + 32);
    assert_int_equal(vt_p256_verify_xy(xy, "test", 4, sig, NULL), VT_OK);
}

static void test_empty_message(void **state)
{
    struct fixture *f = *state;
    uint8_t sig[64];
    assert_int_equal(vt_testgen_p256_sign(f->key, "", 0, sig, NULL), VT_OK);
    assert_int_equal(vt_p256_verify_xy(f->xy, NULL, 0, sig, NULL), VT_OK);
    assert_int_equal(vt_p256_verify_xy(f->xy, "x", 1, sig, NULL), VT_E_SIGNATURE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_named),        cmocka_unit_test(test_good_signature),
        cmocka_unit_test(test_bad_signature),        cmocka_unit_test(test_bad_key),
        cmocka_unit_test(test_scalar_range),         cmocka_unit_test(test_high_s_accepted),
        cmocka_unit_test(test_leading_zero_scalars), cmocka_unit_test(test_rfc6979_vectors),
        cmocka_unit_test(test_empty_message),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
