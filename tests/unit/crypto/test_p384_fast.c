/*
 * Unit tests for src/crypto/p384_fast.c, the tables that verify P-384 signatures of reused keys:
 * the field arithmetic against GMP, the point formulas (exceptional cases included) and the
 * two-scalar multiplication against OpenSSL's EC_POINT arithmetic, the x(R) mod n comparison
 * with crafted values, and verification verdicts against nettle's (p384.c) on OpenSSL-made
 * signatures, every single-bit flip, range edges, u1 = 0, the keys G and -G, and thousands of
 * random valid and tweaked signatures. Random values come from a fixed-seed generator, so a
 * failure repeats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gmp.h>
#include <pthread.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"

static const char p_hex[] = "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe"
                            "ffffffff0000000000000000ffffffff";
static const char n_hex[] = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
                            "581a0db248b0a77aecec196accc52973";

/* ---- deterministic randomness ---- */

static uint64_t rng_state = 0x5eed0f384fa57ULL;

static uint64_t rng64(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_bytes(uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)rng64();
    }
}

/* ---- GMP and OpenSSL helpers ---- */

static void mpz_from48(mpz_t r, const uint8_t in[48])
{
    mpz_import(r, 48, 1, 1, 0, 0, in);
}

static void mpz_to48(uint8_t out[48], const mpz_t v)
{
    memset(out, 0, 48);
    size_t n = (mpz_sizeinbase(v, 2) + 7) / 8;
    assert_true(mpz_sgn(v) >= 0 && n <= 48);
    size_t count = 0;
    if (mpz_sgn(v) != 0) {
        mpz_export(out + 48 - n, &count, 1, 1, 0, 0, v);
        assert_int_equal(count, n);
    }
}

struct curve {
    EC_GROUP *group;
    BIGNUM *n;
    BIGNUM *p;
    BN_CTX *bn;
    mpz_t mp;
    mpz_t mn;
};

static struct curve C;

static int setup(void **state)
{
    (void)state;
    C.group = EC_GROUP_new_by_curve_name(NID_secp384r1);
    C.bn = BN_CTX_new();
    C.n = NULL;
    C.p = NULL;
    if (C.group == NULL || C.bn == NULL || BN_hex2bn(&C.n, n_hex) == 0 ||
        BN_hex2bn(&C.p, p_hex) == 0) {
        return -1;
    }
    mpz_init_set_str(C.mp, p_hex, 16);
    mpz_init_set_str(C.mn, n_hex, 16);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EC_GROUP_free(C.group);
    BN_free(C.n);
    BN_free(C.p);
    BN_CTX_free(C.bn);
    mpz_clear(C.mp);
    mpz_clear(C.mn);
    return 0;
}

static void bn_to48(uint8_t out[48], const BIGNUM *v)
{
    assert_int_equal(BN_bn2binpad(v, out, 48), 48);
}

/* A random scalar in [1, n-1]. */
static BIGNUM *rand_scalar(void)
{
    uint8_t buf[56];
    rng_bytes(buf, sizeof(buf));
    BIGNUM *b = BN_bin2bn(buf, sizeof(buf), NULL);
    BIGNUM *nm1 = BN_dup(C.n);
    assert_non_null(b);
    assert_non_null(nm1);
    assert_int_equal(BN_sub_word(nm1, 1), 1);
    assert_int_equal(BN_mod(b, b, nm1, C.bn), 1);
    assert_int_equal(BN_add_word(b, 1), 1);
    BN_free(nm1);
    return b;
}

/* xy = affine k*G + m*Q (OpenSSL), false at infinity. qxy NULL: no Q term. */
static bool ossl_mul(uint8_t xy[96], const BIGNUM *k, const uint8_t *qxy, const BIGNUM *m)
{
    EC_POINT *r = EC_POINT_new(C.group);
    EC_POINT *q = NULL;
    assert_non_null(r);
    if (qxy != NULL) {
        q = EC_POINT_new(C.group);
        BIGNUM *x = BN_bin2bn(qxy, 48, NULL);
        BIGNUM *y = BN_bin2bn(qxy + 48, 48, NULL);
        assert_int_equal(EC_POINT_set_affine_coordinates(C.group, q, x, y, C.bn), 1);
        BN_free(x);
        BN_free(y);
    }
    assert_int_equal(EC_POINT_mul(C.group, r, k, q, m, C.bn), 1);
    bool inf = EC_POINT_is_at_infinity(C.group, r) == 1;
    if (!inf) {
        BIGNUM *x = BN_new();
        BIGNUM *y = BN_new();
        assert_int_equal(EC_POINT_get_affine_coordinates(C.group, r, x, y, C.bn), 1);
        bn_to48(xy, x);
        bn_to48(xy + 48, y);
        BN_free(x);
        BN_free(y);
    }
    EC_POINT_free(q);
    EC_POINT_free(r);
    return !inf;
}

/* The public key d*G. */
static void key_xy(const BIGNUM *d, uint8_t xy[96])
{
    assert_true(ossl_mul(xy, d, NULL, NULL));
}

/* SPEC: FIPS 186-5 6.4.1 with a given nonce k: r = x(kG) mod n, s = k^-1 (e + r d) mod n. */
static void sign_with(const BIGNUM *d, const uint8_t e48[48], const BIGNUM *k, uint8_t sig[96])
{
    uint8_t rxy[96];
    assert_true(ossl_mul(rxy, k, NULL, NULL));
    BIGNUM *r = BN_bin2bn(rxy, 48, NULL);
    BIGNUM *e = BN_bin2bn(e48, 48, NULL);
    BIGNUM *s = BN_new();
    BIGNUM *ki = BN_new();
    assert_int_equal(BN_nnmod(r, r, C.n, C.bn), 1);
    assert_int_equal(BN_nnmod(e, e, C.n, C.bn), 1);
    assert_int_equal(BN_mod_mul(s, r, d, C.n, C.bn), 1);
    assert_int_equal(BN_mod_add(s, s, e, C.n, C.bn), 1);
    assert_non_null(BN_mod_inverse(ki, k, C.n, C.bn));
    assert_int_equal(BN_mod_mul(s, s, ki, C.n, C.bn), 1);
    assert_false(BN_is_zero(r));
    assert_false(BN_is_zero(s));
    bn_to48(sig, r);
    bn_to48(sig + 48, s);
    BN_free(r);
    BN_free(e);
    BN_free(s);
    BN_free(ki);
}

static struct vt_key *make_key(const uint8_t xy[96])
{
    struct vt_key *k = NULL;
    assert_int_equal(vt_key_from_p384_xy(xy, &k, NULL), VT_OK);
    return k;
}

/* The table path's verdict, checked equal to nettle's; returns it. */
static enum vt_err both(const struct vt_key *k, const struct vt_p384_table *t,
                        const uint8_t digest[48], const uint8_t sig[96])
{
    enum vt_err fast = vt_p384_table_verify(t, digest, sig);
    enum vt_err slow = vt_p384_verify_nettle(k, digest, sig);
    assert_int_equal(fast, slow);
    assert_true(fast == VT_OK || fast == VT_E_SIGNATURE);
    return fast;
}

/* OpenSSL's verdict on raw r||s over a digest with the key's EVP_PKEY (FIPS 186-5 exactly). */
static bool openssl_accepts(const struct vt_key *k, const uint8_t digest[48], const uint8_t sig[96])
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 48, NULL);
    BIGNUM *s = BN_bin2bn(sig + 48, 48, NULL);
    assert_non_null(es);
    assert_int_equal(ECDSA_SIG_set0(es, r, s), 1);
    uint8_t *der = NULL;
    int len = i2d_ECDSA_SIG(es, &der);
    assert_true(len > 0);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->pkey, NULL);
    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
    int ok = EVP_PKEY_verify(ctx, der, (size_t)len, digest, 48);
    EVP_PKEY_CTX_free(ctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    return ok == 1;
}

/* ---- field arithmetic against GMP ---- */

enum { SPECIALS = 14 };

/* Values near 0, p, limb and word boundaries, and random ones, all below p. */
static void field_value(size_t i, uint8_t out[48])
{
    mpz_t v;
    mpz_init(v);
    switch (i) {
    case 0:
        mpz_set_ui(v, 0);
        break;
    case 1:
        mpz_set_ui(v, 1);
        break;
    case 2:
        mpz_set_ui(v, 2);
        break;
    case 3:
        mpz_sub_ui(v, C.mp, 1);
        break;
    case 4:
        mpz_sub_ui(v, C.mp, 2);
        break;
    case 5:
        mpz_sub_ui(v, C.mp, 0xffffffffu);
        break;
    case 6:
        mpz_ui_pow_ui(v, 2, 383);
        break;
    case 7:
        mpz_ui_pow_ui(v, 2, 64);
        mpz_sub_ui(v, v, 1);
        break;
    case 8:
        mpz_ui_pow_ui(v, 2, 128);
        break;
    case 9:
        mpz_ui_pow_ui(v, 2, 320);
        mpz_sub_ui(v, v, 1);
        break;
    case 10:
        mpz_fdiv_q_ui(v, C.mp, 2);
        break;
    case 11:
        mpz_fdiv_q_ui(v, C.mp, 2);
        mpz_add_ui(v, v, 1);
        break;
    case 12:
        mpz_set(v, C.mn);
        break;
    case 13:
        mpz_ui_pow_ui(v, 2, 384);
        mpz_sub(v, v, C.mp);
        break; /* R mod p */
    default: {
        uint8_t raw[48];
        rng_bytes(raw, 48);
        if (i % 3 == 0) {
            memset(raw, 0xff, 24); /* top half all ones: near p */
        }
        mpz_from48(v, raw);
        mpz_mod(v, v, C.mp);
        break;
    }
    }
    mpz_to48(out, v);
    mpz_clear(v);
}

static void check_ops(const uint8_t a48[48], const uint8_t b48[48])
{
    vt_p384_fe a, b, r;
    uint8_t got[48], want[48];
    mpz_t ma, mb, mr;
    mpz_inits(ma, mb, mr, NULL);
    mpz_from48(ma, a48);
    mpz_from48(mb, b48);
    vt_p384_fe_from_bytes(a, a48);
    vt_p384_fe_from_bytes(b, b48);

    vt_p384_fe_to_bytes(got, a);
    assert_memory_equal(got, a48, 48);

    vt_p384_fe_add(r, a, b);
    vt_p384_fe_to_bytes(got, r);
    mpz_add(mr, ma, mb);
    mpz_mod(mr, mr, C.mp);
    mpz_to48(want, mr);
    assert_memory_equal(got, want, 48);

    vt_p384_fe_sub(r, a, b);
    vt_p384_fe_to_bytes(got, r);
    mpz_sub(mr, ma, mb);
    mpz_mod(mr, mr, C.mp);
    mpz_to48(want, mr);
    assert_memory_equal(got, want, 48);

    vt_p384_fe_mul(r, a, b);
    vt_p384_fe_to_bytes(got, r);
    mpz_mul(mr, ma, mb);
    mpz_mod(mr, mr, C.mp);
    mpz_to48(want, mr);
    assert_memory_equal(got, want, 48);

    vt_p384_fe_sqr(r, a);
    vt_p384_fe_to_bytes(got, r);
    mpz_mul(mr, ma, ma);
    mpz_mod(mr, mr, C.mp);
    mpz_to48(want, mr);
    assert_memory_equal(got, want, 48);

    /* Aliasing: r is an operand. */
    memcpy(r, a, sizeof(r));
    vt_p384_fe_mul(r, r, b);
    vt_p384_fe_to_bytes(got, r);
    mpz_mul(mr, ma, mb);
    mpz_mod(mr, mr, C.mp);
    mpz_to48(want, mr);
    assert_memory_equal(got, want, 48);
    mpz_clears(ma, mb, mr, NULL);
}

static void test_field_against_gmp(void **state)
{
    (void)state;
    enum { VALUES = 80 };
    uint8_t v[VALUES][48];
    for (size_t i = 0; i < VALUES; i++) {
        field_value(i, v[i]);
    }
    for (size_t i = 0; i < VALUES; i++) {
        for (size_t j = 0; j < VALUES; j++) {
            check_ops(v[i], v[j]);
        }
    }
    /* More random pairs. */
    for (size_t i = 0; i < 3000; i++) {
        uint8_t a[48], b[48];
        field_value(SPECIALS + i, a);
        field_value(SPECIALS + i + 1, b);
        check_ops(a, b);
    }
}

static void test_field_inverse(void **state)
{
    (void)state;
    for (size_t i = 0; i < 60; i++) {
        uint8_t a48[48], got[48], want[48];
        field_value(i, a48);
        vt_p384_fe a, r;
        vt_p384_fe_from_bytes(a, a48);
        vt_p384_fe_inv(r, a);
        vt_p384_fe_to_bytes(got, r);
        mpz_t ma;
        mpz_init(ma);
        mpz_from48(ma, a48);
        if (mpz_sgn(ma) == 0) {
            memset(want, 0, 48); /* 0 has no inverse; 0^(p-2) = 0 */
        } else {
            assert_int_not_equal(mpz_invert(ma, ma, C.mp), 0);
            mpz_to48(want, ma);
        }
        assert_memory_equal(got, want, 48);
        mpz_clear(ma);
    }
}

/* Inputs at or above p (not produced by veritee, whose inputs are checked below p) reduce. */
static void test_field_reduces_input(void **state)
{
    (void)state;
    uint8_t in[48], got[48], want[48];
    mpz_t v;
    mpz_init(v);
    const unsigned long adds[] = {0, 1, 12345};
    for (size_t i = 0; i < 3; i++) {
        mpz_add_ui(v, C.mp, adds[i]);
        mpz_to48(in, v);
        vt_p384_fe a;
        vt_p384_fe_from_bytes(a, in);
        vt_p384_fe_to_bytes(got, a);
        mpz_sub(v, v, C.mp);
        mpz_to48(want, v);
        assert_memory_equal(got, want, 48);
    }
    memset(in, 0xff, 48);
    mpz_from48(v, in);
    mpz_mod(v, v, C.mp);
    mpz_to48(want, v);
    vt_p384_fe a;
    vt_p384_fe_from_bytes(a, in);
    vt_p384_fe_to_bytes(got, a);
    assert_memory_equal(got, want, 48);
    mpz_clear(v);
}

/* ---- points against OpenSSL ---- */

static void aff_from_xy(struct vt_p384_aff *a, const uint8_t xy[96])
{
    vt_p384_fe_from_bytes(a->x, xy);
    vt_p384_fe_from_bytes(a->y, xy + 48);
}

/* (lambda^2 x, lambda^3 y, lambda) for a random lambda != 0: the same point, Z != 1. */
static void jac_scaled(struct vt_p384_jac *j, const struct vt_p384_aff *a)
{
    uint8_t l48[48];
    vt_p384_fe l, l2;
    do {
        rng_bytes(l48, 48);
        l48[0] &= 0x7f;
        vt_p384_fe_from_bytes(l, l48);
    } while ((l[0] | l[1] | l[2] | l[3] | l[4] | l[5]) == 0);
    vt_p384_fe_sqr(l2, l);
    vt_p384_fe_mul(j->x, a->x, l2);
    vt_p384_fe_mul(l2, l2, l);
    vt_p384_fe_mul(j->y, a->y, l2);
    memcpy(j->z, l, sizeof(l));
}

static bool jac_is_inf(const struct vt_p384_jac *j)
{
    return (j->z[0] | j->z[1] | j->z[2] | j->z[3] | j->z[4] | j->z[5]) == 0;
}

static void assert_jac_is(const struct vt_p384_jac *j, const uint8_t xy[96])
{
    struct vt_p384_aff a;
    assert_true(vt_p384_jac_to_aff(&a, j));
    uint8_t got[96];
    vt_p384_fe_to_bytes(got, a.x);
    vt_p384_fe_to_bytes(got + 48, a.y);
    assert_memory_equal(got, xy, 96);
}

static void test_point_formulas(void **state)
{
    (void)state;
    for (int it = 0; it < 40; it++) {
        BIGNUM *k1 = rand_scalar();
        BIGNUM *k2 = rand_scalar();
        BIGNUM *t = BN_new();
        uint8_t p1[96], p2[96], dbl[96], sum[96], neg[96];
        key_xy(k1, p1);
        key_xy(k2, p2);
        assert_int_equal(BN_mod_add(t, k1, k1, C.n, C.bn), 1);
        key_xy(t, dbl);
        assert_int_equal(BN_mod_add(t, k1, k2, C.n, C.bn), 1);
        bool sum_finite = ossl_mul(sum, t, NULL, NULL);
        assert_int_equal(BN_sub(t, C.n, k1), 1);
        key_xy(t, neg);

        struct vt_p384_aff a1, a2, an;
        aff_from_xy(&a1, p1);
        aff_from_xy(&a2, p2);
        aff_from_xy(&an, neg);
        struct vt_p384_jac j1, j1b, j2, jn, r, inf;
        jac_scaled(&j1, &a1);
        jac_scaled(&j1b, &a1);
        jac_scaled(&j2, &a2);
        jac_scaled(&jn, &an);
        memset(&inf, 0, sizeof(inf));

        vt_p384_jac_dbl(&r, &j1);
        assert_jac_is(&r, dbl);
        /* Mixed: P + Q, P + P (doubles), P + -P (infinity), infinity + Q. */
        vt_p384_jac_add_aff(&r, &j1, &a2);
        if (sum_finite) {
            assert_jac_is(&r, sum);
        }
        vt_p384_jac_add_aff(&r, &j1, &a1);
        assert_jac_is(&r, dbl);
        vt_p384_jac_add_aff(&r, &j1, &an);
        assert_true(jac_is_inf(&r));
        vt_p384_jac_add_aff(&r, &inf, &a2);
        assert_jac_is(&r, p2);
        /* Full: the same cases, and infinity on either side; r aliasing p. */
        vt_p384_jac_add(&r, &j1, &j2);
        assert_jac_is(&r, sum);
        vt_p384_jac_add(&r, &j1, &j1b);
        assert_jac_is(&r, dbl);
        vt_p384_jac_add(&r, &j1, &jn);
        assert_true(jac_is_inf(&r));
        vt_p384_jac_add(&r, &inf, &j2);
        assert_jac_is(&r, p2);
        vt_p384_jac_add(&r, &j2, &inf);
        assert_jac_is(&r, p2);
        r = j1;
        vt_p384_jac_add_aff(&r, &r, &a2);
        assert_jac_is(&r, sum);
        r = j1;
        vt_p384_jac_dbl(&r, &r);
        assert_jac_is(&r, dbl);
        BN_free(k1);
        BN_free(k2);
        BN_free(t);
    }
    struct vt_p384_jac inf, r;
    memset(&inf, 0, sizeof(inf));
    vt_p384_jac_dbl(&r, &inf);
    assert_true(jac_is_inf(&r));
    vt_p384_jac_add(&r, &inf, &inf);
    assert_true(jac_is_inf(&r));
    struct vt_p384_aff a;
    assert_false(vt_p384_jac_to_aff(&a, &inf));
}

/* u1*G + u2*Q by the tables against OpenSSL, for one u pair. */
static void check_mul2(const struct vt_p384_table *t, const uint8_t qxy[96], const BIGNUM *u1,
                       const BIGNUM *u2)
{
    uint8_t b1[48], b2[48], want[96];
    bn_to48(b1, u1);
    bn_to48(b2, u2);
    bool finite = ossl_mul(want, u1, qxy, u2);
    struct vt_p384_jac r;
    assert_true(vt_p384_fast_mul2(&r, b1, b2, t));
    if (finite) {
        assert_jac_is(&r, want);
    } else {
        assert_true(jac_is_inf(&r));
    }
}

static void test_mul2(void **state)
{
    (void)state;
    BIGNUM *d = rand_scalar();
    BIGNUM *one = BN_new();
    BIGNUM *nm1 = BN_dup(C.n);
    uint8_t xy[96], gxy[96], ngxy[96];
    assert_int_equal(BN_one(one), 1);
    assert_int_equal(BN_sub_word(nm1, 1), 1);
    key_xy(d, xy);
    key_xy(one, gxy);
    key_xy(nm1, ngxy);
    struct vt_p384_table *t = vt_p384_table_new(xy);
    struct vt_p384_table *tg = vt_p384_table_new(gxy);
    struct vt_p384_table *tng = vt_p384_table_new(ngxy);
    assert_non_null(t);
    assert_non_null(tg);
    assert_non_null(tng);
    BIGNUM *zero = BN_new();
    BN_zero(zero);
    /* Edge scalars: 0, 1, 2, n-1, 2^383, 2^k - 1 runs (every digit carries). */
    BIGNUM *edges[8];
    edges[0] = zero;
    edges[1] = one;
    edges[2] = BN_new();
    assert_int_equal(BN_set_word(edges[2], 2), 1);
    edges[3] = nm1;
    edges[4] = BN_new();
    assert_int_equal(BN_set_bit(edges[4], 383), 1);
    edges[5] = BN_new();
    assert_int_equal(BN_set_bit(edges[5], 300), 1);
    assert_int_equal(BN_sub_word(edges[5], 1), 1);
    edges[6] = BN_new();
    assert_int_equal(BN_hex2bn(&edges[6], "5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f"
                                          "5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f"),
                     96);
    edges[7] = BN_new();
    assert_int_equal(BN_hex2bn(&edges[7], "fffffffffffffffffffffffffffffffffffffffffffffffe"), 48);
    for (size_t i = 0; i < 8; i++) {
        for (size_t j = 0; j < 8; j++) {
            check_mul2(t, xy, edges[i], edges[j]);
            check_mul2(tg, gxy, edges[i], edges[j]);   /* Q == G: sums meet G's multiples */
            check_mul2(tng, ngxy, edges[i], edges[j]); /* Q == -G: and cancel them */
        }
    }
    for (int it = 0; it < 100; it++) {
        BIGNUM *u1 = rand_scalar();
        BIGNUM *u2 = rand_scalar();
        check_mul2(t, xy, u1, u2);
        check_mul2(tg, gxy, u1, u2);
        check_mul2(tng, ngxy, u1, u1); /* u*G + u*(-G): infinity */
        check_mul2(tng, ngxy, u1, u2);
        BN_free(u1);
        BN_free(u2);
    }
    for (size_t i = 0; i < 8; i++) {
        BN_free(edges[i]);
    }
    BN_free(d);
    vt_p384_table_free(t);
    vt_p384_table_free(tg);
    vt_p384_table_free(tng);
}

/* ---- the x(R) mod n comparison ---- */

/* A Jacobian "point" whose affine x is x48 (the comparison reads only X and Z). */
static void jac_with_x(struct vt_p384_jac *j, const uint8_t x48[48])
{
    struct vt_p384_aff a;
    vt_p384_fe_from_bytes(a.x, x48);
    memset(a.y, 0, sizeof(a.y));
    jac_scaled(j, &a);
}

static void test_x_matches(void **state)
{
    (void)state;
    mpz_t x, r;
    mpz_inits(x, r, NULL);
    uint8_t x48[48], r48[48];
    struct vt_p384_jac j;
    /* x in [n, p): r = x - n matches, r = x - n + 1 does not, r = x is out of range. */
    for (int it = 0; it < 200; it++) {
        switch (it) {
        case 0:
            mpz_set(x, C.mn);
            break;
        case 1:
            mpz_add_ui(x, C.mn, 1);
            break;
        case 2:
            mpz_sub_ui(x, C.mp, 1);
            break;
        default: {
            uint8_t raw[48];
            rng_bytes(raw, 48);
            mpz_from48(x, raw);
            mpz_sub(r, C.mp, C.mn);
            mpz_mod(x, x, r);
            mpz_add(x, x, C.mn);
            break;
        }
        }
        mpz_to48(x48, x);
        jac_with_x(&j, x48);
        mpz_sub(r, x, C.mn);
        if (mpz_sgn(r) != 0) {
            mpz_to48(r48, r);
            assert_true(vt_p384_x_matches(&j, r48));
        }
        mpz_add_ui(r, r, 1);
        mpz_to48(r48, r);
        assert_false(vt_p384_x_matches(&j, r48));
        assert_false(vt_p384_x_matches(&j, x48)); /* r >= n is no valid r */
    }
    /* x below n: r = x matches, r = x + 1 does not; and x = r + n - p (r + n >= p wraps). */
    for (int it = 0; it < 200; it++) {
        uint8_t raw[48];
        rng_bytes(raw, 48);
        mpz_from48(x, raw);
        if (it % 2 == 0) {
            mpz_fdiv_r_2exp(x, x, 180); /* small: r + n < p */
        }
        mpz_mod(x, x, C.mn);
        if (mpz_sgn(x) == 0) {
            continue;
        }
        mpz_to48(x48, x);
        jac_with_x(&j, x48);
        assert_true(vt_p384_x_matches(&j, x48));
        mpz_add_ui(r, x, 1);
        if (mpz_cmp(r, C.mn) < 0) {
            mpz_to48(r48, r);
            assert_false(vt_p384_x_matches(&j, r48));
        }
    }
    /* r with r + n >= p: x = r + n - p must not match r. */
    mpz_sub(r, C.mp, C.mn);
    mpz_add_ui(r, r, 5);
    mpz_to48(r48, r);
    mpz_set_ui(x, 5);
    mpz_to48(x48, x);
    jac_with_x(&j, x48);
    assert_false(vt_p384_x_matches(&j, r48));
    /* The largest r whose r + n is still below p. */
    mpz_sub(r, C.mp, C.mn);
    mpz_sub_ui(r, r, 1);
    mpz_add(x, r, C.mn);
    mpz_to48(r48, r);
    mpz_to48(x48, x);
    jac_with_x(&j, x48);
    assert_true(vt_p384_x_matches(&j, r48));
    /* Infinity and r = 0 never match. */
    memset(&j, 0, sizeof(j));
    assert_false(vt_p384_x_matches(&j, r48));
    memset(r48, 0, 48);
    mpz_set_ui(x, 0);
    mpz_to48(x48, x);
    jac_with_x(&j, x48);
    assert_false(vt_p384_x_matches(&j, r48));
    mpz_clears(x, r, NULL);
}

/* ---- verification ---- */

static EVP_PKEY *evp_key(uint8_t xy[96])
{
    EVP_PKEY *k = EVP_EC_gen("P-384");
    assert_non_null(k);
    uint8_t pub[97];
    size_t n = 0;
    assert_int_equal(
        EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &n), 1);
    assert_int_equal(n, 97);
    memcpy(xy, pub + 1, 96);
    return k;
}

/* OpenSSL's ECDSA signature of a 48-byte digest, as raw r||s. */
static void evp_sign(EVP_PKEY *k, const uint8_t digest[48], uint8_t sig[96])
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
    uint8_t der[120];
    size_t len = sizeof(der);
    assert_int_equal(EVP_PKEY_sign(ctx, der, &len, digest, 48), 1);
    EVP_PKEY_CTX_free(ctx);
    const unsigned char *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)len);
    assert_non_null(s);
    bn_to48(sig, ECDSA_SIG_get0_r(s));
    bn_to48(sig + 48, ECDSA_SIG_get0_s(s));
    ECDSA_SIG_free(s);
}

static void test_openssl_signatures(void **state)
{
    (void)state;
    for (int ki = 0; ki < 12; ki++) {
        uint8_t xy[96];
        EVP_PKEY *pk = evp_key(xy);
        struct vt_key *k = make_key(xy);
        struct vt_p384_table *t = vt_p384_table_new(xy);
        assert_non_null(t);
        for (int mi = 0; mi < 10; mi++) {
            uint8_t digest[48], sig[96];
            rng_bytes(digest, 48);
            evp_sign(pk, digest, sig);
            assert_int_equal(both(k, t, digest, sig), VT_OK);
            /* The same through the key: nettle first, then its table. */
            assert_int_equal(vt_p384_verify_digest(k, digest, sig), VT_OK);
        }
        assert_non_null(vt_p384_key_table(k));
        vt_p384_table_free(t);
        vt_key_free(k);
        EVP_PKEY_free(pk);
    }
}

static void test_every_bit_flip(void **state)
{
    (void)state;
    for (int round = 0; round < 2; round++) {
        uint8_t xy[96], digest[48], sig[96];
        EVP_PKEY *pk = evp_key(xy);
        struct vt_key *k = make_key(xy);
        struct vt_p384_table *t = vt_p384_table_new(xy);
        assert_non_null(t);
        rng_bytes(digest, 48);
        evp_sign(pk, digest, sig);
        assert_int_equal(both(k, t, digest, sig), VT_OK);
        for (size_t bit = 0; bit < 48 * 8; bit++) {
            uint8_t mask = (uint8_t)(1u << (bit % 8));
            digest[bit / 8] ^= mask;
            assert_int_equal(both(k, t, digest, sig), VT_E_SIGNATURE);
            digest[bit / 8] ^= mask;
        }
        for (size_t bit = 0; bit < 96 * 8; bit++) {
            uint8_t mask = (uint8_t)(1u << (bit % 8));
            sig[bit / 8] ^= mask;
            assert_int_equal(both(k, t, digest, sig), VT_E_SIGNATURE);
            sig[bit / 8] ^= mask;
        }
        assert_int_equal(both(k, t, digest, sig), VT_OK);
        vt_p384_table_free(t);
        vt_key_free(k);
        EVP_PKEY_free(pk);
    }
}

static void test_range_edges(void **state)
{
    (void)state;
    uint8_t xy[96], digest[48], sig[96];
    EVP_PKEY *pk = evp_key(xy);
    struct vt_key *k = make_key(xy);
    struct vt_p384_table *t = vt_p384_table_new(xy);
    assert_non_null(t);
    rng_bytes(digest, 48);
    evp_sign(pk, digest, sig);
    uint8_t edges[6][48];
    mpz_t v;
    mpz_init(v);
    memset(edges[0], 0, 48); /* 0 */
    mpz_set(v, C.mn);        /* n */
    mpz_to48(edges[1], v);
    mpz_sub_ui(v, C.mn, 1); /* n - 1 */
    mpz_to48(edges[2], v);
    mpz_add_ui(v, C.mn, 1); /* n + 1 */
    mpz_to48(edges[3], v);
    memset(edges[4], 0xff, 48); /* 2^384 - 1 */
    memset(edges[5], 0, 48);    /* 1 */
    edges[5][47] = 1;
    const enum vt_err must[6] = {VT_E_SIGNATURE, VT_E_SIGNATURE, VT_E_SIGNATURE,
                                 VT_E_SIGNATURE, VT_E_SIGNATURE, VT_E_SIGNATURE};
    for (size_t i = 0; i < 6; i++) {
        uint8_t s2[96];
        memcpy(s2, sig, 96);
        memcpy(s2, edges[i], 48);
        assert_int_equal(both(k, t, digest, s2), must[i]);
        memcpy(s2, sig, 96);
        memcpy(s2 + 48, edges[i], 48);
        assert_int_equal(both(k, t, digest, s2), must[i]);
        for (size_t j = 0; j < 6; j++) {
            memcpy(s2, edges[i], 48);
            memcpy(s2 + 48, edges[j], 48);
            assert_int_equal(both(k, t, digest, s2), VT_E_SIGNATURE);
        }
    }
    /* s and n - s are both valid (no low-S rule). */
    mpz_t s;
    mpz_init(s);
    mpz_from48(s, sig + 48);
    mpz_sub(s, C.mn, s);
    uint8_t s2[96];
    memcpy(s2, sig, 48);
    mpz_to48(s2 + 48, s);
    assert_int_equal(both(k, t, digest, s2), VT_OK);
    mpz_clear(s);
    mpz_clear(v);
    /* Bad arguments. */
    assert_int_equal(vt_p384_table_verify(NULL, digest, sig), VT_E_ARG);
    assert_int_equal(vt_p384_table_verify(t, NULL, sig), VT_E_ARG);
    assert_int_equal(vt_p384_table_verify(t, digest, NULL), VT_E_ARG);
    assert_null(vt_p384_table_new(NULL));
    assert_null(vt_p384_key_table(NULL));
    vt_p384_table_free(NULL);
    vt_p384_table_free(t);
    vt_key_free(k);
    EVP_PKEY_free(pk);
}

/* u1 = e*w mod n is 0 when e = 0 mod n: R = u2*Q alone. (u2 = r*w is never 0: 0 < r, w < n.) */
static void test_u1_zero(void **state)
{
    (void)state;
    BIGNUM *d = rand_scalar();
    uint8_t xy[96], sig[96];
    key_xy(d, xy);
    struct vt_key *k = make_key(xy);
    struct vt_p384_table *t = vt_p384_table_new(xy);
    assert_non_null(t);
    uint8_t digests[3][48];
    memset(digests[0], 0, 48);
    mpz_t v;
    mpz_init(v);
    mpz_to48(digests[1], C.mn); /* e = n */
    mpz_sub_ui(v, C.mn, 1);     /* e = n - 1: u1 = -w */
    mpz_to48(digests[2], v);
    for (size_t i = 0; i < 3; i++) {
        for (int it = 0; it < 5; it++) {
            BIGNUM *nonce = rand_scalar();
            sign_with(d, digests[i], nonce, sig);
            assert_int_equal(both(k, t, digests[i], sig), VT_OK);
            sig[95] ^= 1;
            assert_int_equal(both(k, t, digests[i], sig), VT_E_SIGNATURE);
            BN_free(nonce);
        }
    }
    /* e = 0 and e = n are the same scalar: a signature for one holds for the other. */
    BIGNUM *nonce = rand_scalar();
    sign_with(d, digests[0], nonce, sig);
    assert_int_equal(both(k, t, digests[1], sig), VT_OK);
    BN_free(nonce);
    mpz_clear(v);
    BN_free(d);
    vt_p384_table_free(t);
    vt_key_free(k);
}

/*
 * The keys G (d = 1) and -G (d = n - 1) make the additions meet their exceptional cases. With
 * e = r = s, u1 = u2 = 1: for Q = G, R = G + G, and r = x(2G) mod n would make a valid
 * signature under FIPS 186-5 (OpenSSL accepts it), but nettle rejects every signature with
 * u1*G == u2*Q (its final addition cannot double; see p384_fast.c), and so does the table path,
 * so that a verdict never depends on whether the key is warm; for Q = -G, R = G - G is infinity and
 * nothing is valid. With r = n - e and s = e, u1 = 1 and u2 = n - 1, so for Q = G R is infinity.
 */
static void test_keys_g_and_minus_g(void **state)
{
    (void)state;
    BIGNUM *one = BN_new();
    BIGNUM *two = BN_new();
    BIGNUM *nm1 = BN_dup(C.n);
    assert_int_equal(BN_one(one), 1);
    assert_int_equal(BN_set_word(two, 2), 1);
    assert_int_equal(BN_sub_word(nm1, 1), 1);
    uint8_t gxy[96], ngxy[96], g2[96];
    key_xy(one, gxy);
    key_xy(nm1, ngxy);
    key_xy(two, g2);
    struct vt_key *kg = make_key(gxy);
    struct vt_key *kng = make_key(ngxy);
    struct vt_p384_table *tg = vt_p384_table_new(gxy);
    struct vt_p384_table *tng = vt_p384_table_new(ngxy);
    assert_non_null(tg);
    assert_non_null(tng);

    uint8_t e[48], sig[96];
    mpz_t r;
    mpz_init(r);
    mpz_from48(r, g2);
    mpz_mod(r, r, C.mn);
    mpz_to48(e, r);
    memcpy(sig, e, 48);
    memcpy(sig + 48, e, 48);
    assert_int_equal(both(kg, tg, e, sig), VT_E_SIGNATURE); /* u1*G == u2*Q: as nettle */
    assert_true(openssl_accepts(kg, e, sig));               /* FIPS 186-5 (and OpenSSL) accept it */
    /* The arithmetic itself doubles: G + G is 2G. */
    struct vt_p384_jac sum;
    uint8_t one48[48] = {0};
    one48[47] = 1;
    assert_true(vt_p384_fast_mul2(&sum, one48, one48, tg));
    assert_jac_is(&sum, g2);
    assert_true(vt_p384_x_matches(&sum, e));
    /* A random key d with u1*G == u2*Q: u1 = d*u2, i.e. e = d*r; r = x(2*u1*G) mod n. */
    {
        BIGNUM *d = rand_scalar();
        BIGNUM *u1 = rand_scalar();
        BIGNUM *t2 = BN_new();
        BIGNUM *rb = BN_new();
        BIGNUM *eb = BN_new();
        BIGNUM *sb = BN_new();
        BIGNUM *ns = BN_new();
        uint8_t qxy[96], rxy[96], e48[48], s48[96];
        key_xy(d, qxy);
        struct vt_key *kq = make_key(qxy);
        struct vt_p384_table *tq = vt_p384_table_new(qxy);
        assert_non_null(tq);
        assert_int_equal(BN_mod_add(t2, u1, u1, C.n, C.bn), 1);
        key_xy(t2, rxy);
        assert_non_null(BN_bin2bn(rxy, 48, rb));
        assert_int_equal(BN_nnmod(rb, rb, C.n, C.bn), 1);
        /* u1 = e*w with e = d*r: s = 1/w = e/u1. */
        assert_int_equal(BN_mod_mul(eb, d, rb, C.n, C.bn), 1);
        assert_non_null(BN_mod_inverse(t2, u1, C.n, C.bn));
        assert_int_equal(BN_mod_mul(sb, eb, t2, C.n, C.bn), 1);
        bn_to48(e48, eb);
        bn_to48(s48, rb);
        bn_to48(s48 + 48, sb);
        assert_int_equal(both(kq, tq, e48, s48), VT_E_SIGNATURE);
        assert_true(openssl_accepts(kq, e48, s48));
        /* n - s negates both u: R = -2*u1*G has the same x; rejected alike. */
        assert_int_equal(BN_sub(ns, C.n, sb), 1);
        bn_to48(s48 + 48, ns);
        assert_int_equal(both(kq, tq, e48, s48), VT_E_SIGNATURE);
        assert_true(openssl_accepts(kq, e48, s48));
        BN_free(ns);
        BN_free(d);
        BN_free(u1);
        BN_free(t2);
        BN_free(rb);
        BN_free(eb);
        BN_free(sb);
        vt_p384_table_free(tq);
        vt_key_free(kq);
    }
    assert_int_equal(both(kng, tng, e, sig), VT_E_SIGNATURE); /* infinity */

    /* u1 = 1, u2 = n - 1 with Q = G: infinity. */
    for (int it = 0; it < 20; it++) {
        rng_bytes(e, 48);
        mpz_from48(r, e);
        mpz_mod(r, r, C.mn);
        if (mpz_sgn(r) == 0) {
            continue;
        }
        mpz_to48(e, r);
        mpz_sub(r, C.mn, r);
        mpz_to48(sig, r);
        memcpy(sig + 48, e, 48);
        assert_int_equal(both(kg, tg, e, sig), VT_E_SIGNATURE);
        assert_int_equal(both(kng, tng, e, sig), VT_E_SIGNATURE);
    }
    /* Ordinary signatures for both keys, and tweaks of them. */
    for (int it = 0; it < 30; it++) {
        BIGNUM *nonce = rand_scalar();
        rng_bytes(e, 48);
        sign_with(one, e, nonce, sig);
        assert_int_equal(both(kg, tg, e, sig), VT_OK);
        assert_int_equal(both(kng, tng, e, sig), VT_E_SIGNATURE);
        sign_with(nm1, e, nonce, sig);
        assert_int_equal(both(kng, tng, e, sig), VT_OK);
        assert_int_equal(both(kg, tg, e, sig), VT_E_SIGNATURE);
        BN_free(nonce);
    }
    mpz_clear(r);
    BN_free(one);
    BN_free(two);
    BN_free(nm1);
    vt_p384_table_free(tg);
    vt_p384_table_free(tng);
    vt_key_free(kg);
    vt_key_free(kng);
}

/* Table verdict == nettle verdict over random valid and tweaked signatures and random junk. */
static void test_differential(void **state)
{
    (void)state;
    enum { KEYS = 5, ROUNDS = 700 };
    BIGNUM *d[KEYS];
    struct vt_key *k[KEYS];
    struct vt_p384_table *t[KEYS];
    for (size_t i = 0; i < KEYS; i++) {
        uint8_t xy[96];
        if (i == 0) {
            d[i] = BN_new();
            assert_int_equal(BN_one(d[i]), 1);
        } else if (i == 1) {
            d[i] = BN_dup(C.n);
            assert_int_equal(BN_sub_word(d[i], 1), 1);
        } else {
            d[i] = rand_scalar();
        }
        key_xy(d[i], xy);
        k[i] = make_key(xy);
        t[i] = vt_p384_table_new(xy);
        assert_non_null(t[i]);
    }
    size_t accepted = 0;
    size_t compared = 0;
    for (int it = 0; it < ROUNDS; it++) {
        size_t ki = (size_t)(rng64() % KEYS);
        uint8_t e[48], sig[96], s2[96], e2[48];
        rng_bytes(e, 48);
        BIGNUM *nonce = rand_scalar();
        sign_with(d[ki], e, nonce, sig);
        BN_free(nonce);
        for (int tweak = 0; tweak < 8; tweak++) {
            memcpy(s2, sig, 96);
            memcpy(e2, e, 48);
            mpz_t v;
            mpz_init(v);
            switch (tweak) {
            case 0:
                break; /* valid */
            case 1:
                rng_bytes(s2, 48);
                break;
            case 2:
                rng_bytes(s2 + 48, 48);
                break;
            case 3: /* s -> n - s: valid */
                mpz_from48(v, s2 + 48);
                mpz_sub(v, C.mn, v);
                mpz_to48(s2 + 48, v);
                break;
            case 4: /* r + 1 */
                mpz_from48(v, s2);
                mpz_add_ui(v, v, 1);
                mpz_to48(s2, v);
                break;
            case 5:
                e2[rng64() % 48] ^= (uint8_t)(1u + rng64() % 255);
                break;
            case 6:
                memcpy(s2, sig + 48, 48);
                memcpy(s2 + 48, sig, 48);
                break;
            default: /* another key's verdict on this signature */
                ki = (ki + 1) % KEYS;
                break;
            }
            mpz_clear(v);
            if (both(k[ki], t[ki], e2, s2) == VT_OK) {
                accepted++;
            }
            compared++;
        }
    }
    /* Valid ones (tweaks 0 and 3) were accepted; the rest almost surely not. */
    assert_true(accepted >= 2 * ROUNDS);
    assert_true(compared == 8 * ROUNDS);
    print_message("differential: %zu verdicts equal, %zu accepted\n", compared, accepted);
    for (size_t i = 0; i < KEYS; i++) {
        BN_free(d[i]);
        vt_p384_table_free(t[i]);
        vt_key_free(k[i]);
    }
}

/* The key's own path: nettle for its first verification, a table from its second. */
static void test_lazy_table(void **state)
{
    (void)state;
    uint8_t xy[96], digest[48], sig[96], bad[96];
    EVP_PKEY *pk = evp_key(xy);
    rng_bytes(digest, 48);
    evp_sign(pk, digest, sig);
    memcpy(bad, sig, 96);
    bad[50] ^= 0x10;
    struct vt_key *k = make_key(xy);
    assert_null(vt_p384_key_table(k));
    assert_int_equal(vt_p384_verify_digest(k, digest, sig), VT_OK);
    assert_null(vt_p384_key_table(k)); /* a key used once has no table */
    assert_int_equal(vt_p384_verify_digest(k, digest, bad), VT_E_SIGNATURE);
    const struct vt_p384_table *t = vt_p384_key_table(k);
    assert_non_null(t);
    assert_int_equal(vt_p384_verify_digest(k, digest, sig), VT_OK);
    assert_int_equal(vt_p384_verify_digest(k, digest, bad), VT_E_SIGNATURE);
    assert_ptr_equal(vt_p384_key_table(k), t); /* built once */
    assert_int_equal(vt_p384_verify_digest(NULL, digest, sig), VT_E_ARG);
    assert_int_equal(vt_p384_verify_digest(k, NULL, sig), VT_E_ARG);
    vt_key_free(k);
    EVP_PKEY_free(pk);
}

/* Past the process's budget for tables a key verifies with nettle, with the same verdicts; a
 * freed key's table gives its room back. */
static void test_table_budget(void **state)
{
    (void)state;
    uint8_t xy[2][96], digest[48], sig[2][96], bad[96];
    EVP_PKEY *pk[2];
    struct vt_key *k[2];
    rng_bytes(digest, 48);
    for (int i = 0; i < 2; i++) {
        pk[i] = evp_key(xy[i]);
        evp_sign(pk[i], digest, sig[i]);
        k[i] = make_key(xy[i]);
    }
    memcpy(bad, sig[1], 96);
    bad[7] ^= 0x01;
    size_t base = vt_p384_tables_in_use();
    size_t was = vt_p384_table_budget_set((base + 1) * vt_p384_table_bytes());
    for (int round = 0; round < 3; round++) {
        assert_int_equal(vt_p384_verify_digest(k[0], digest, sig[0]), VT_OK);
    }
    assert_non_null(vt_p384_key_table(k[0]));
    assert_int_equal(vt_p384_tables_in_use(), base + 1);
    for (int round = 0; round < 3; round++) { /* no room: nettle every time */
        assert_int_equal(vt_p384_verify_digest(k[1], digest, sig[1]), VT_OK);
        assert_int_equal(vt_p384_verify_digest(k[1], digest, bad), VT_E_SIGNATURE);
        assert_null(vt_p384_key_table(k[1]));
    }
    assert_int_equal(vt_p384_tables_in_use(), base + 1);
    vt_key_free(k[0]); /* its table's room comes back */
    assert_int_equal(vt_p384_tables_in_use(), base);
    assert_int_equal(vt_p384_verify_digest(k[1], digest, sig[1]), VT_OK);
    assert_non_null(vt_p384_key_table(k[1]));
    assert_int_equal(vt_p384_verify_digest(k[1], digest, bad), VT_E_SIGNATURE);
    (void)vt_p384_table_budget_set(was);
    vt_key_free(k[1]);
    assert_int_equal(vt_p384_tables_in_use(), base);
    EVP_PKEY_free(pk[0]);
    EVP_PKEY_free(pk[1]);
}

struct shared {
    const struct vt_key *k;
    const uint8_t *digest;
    const uint8_t *sig;
    const uint8_t *bad;
    int wrong;
};

static void *worker(void *arg)
{
    struct shared *s = arg;
    int wrong = 0;
    for (int i = 0; i < 40; i++) {
        if (vt_p384_verify_digest(s->k, s->digest, s->sig) != VT_OK) {
            wrong++;
        }
        if (vt_p384_verify_digest(s->k, s->digest, s->bad) != VT_E_SIGNATURE) {
            wrong++;
        }
    }
    s->wrong = wrong;
    return NULL;
}

/* Threads sharing a fresh key race to build its table; every verdict stays right. */
static void test_threads_share_key(void **state)
{
    (void)state;
    uint8_t xy[96], digest[48], sig[96], bad[96];
    EVP_PKEY *pk = evp_key(xy);
    rng_bytes(digest, 48);
    evp_sign(pk, digest, sig);
    memcpy(bad, sig, 96);
    bad[3] ^= 0x01;
    for (int round = 0; round < 3; round++) {
        struct vt_key *k = make_key(xy);
        enum { THREADS = 4 };
        pthread_t th[THREADS];
        struct shared sh[THREADS];
        for (int i = 0; i < THREADS; i++) {
            sh[i] = (struct shared){k, digest, sig, bad, -1};
            assert_int_equal(pthread_create(&th[i], NULL, worker, &sh[i]), 0);
        }
        for (int i = 0; i < THREADS; i++) {
            assert_int_equal(pthread_join(th[i], NULL), 0);
            assert_int_equal(sh[i].wrong, 0);
        }
        assert_non_null(vt_p384_key_table(k));
        vt_key_free(k);
    }
    EVP_PKEY_free(pk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_against_gmp),
        cmocka_unit_test(test_field_inverse),
        cmocka_unit_test(test_field_reduces_input),
        cmocka_unit_test(test_point_formulas),
        cmocka_unit_test(test_mul2),
        cmocka_unit_test(test_x_matches),
        cmocka_unit_test(test_openssl_signatures),
        cmocka_unit_test(test_every_bit_flip),
        cmocka_unit_test(test_range_edges),
        cmocka_unit_test(test_u1_zero),
        cmocka_unit_test(test_keys_g_and_minus_g),
        cmocka_unit_test(test_differential),
        cmocka_unit_test(test_lazy_table),
        cmocka_unit_test(test_table_budget),
        cmocka_unit_test(test_threads_share_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
