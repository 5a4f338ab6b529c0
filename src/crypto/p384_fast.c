/*
 * Fast ECDSA P-384 verification for keys that verify many signatures (issue 22): a warm AWS Nitro
 * document or SEV-SNP report verification is one P-384 verification with a key that the
 * verifiers' caches hold for hours (a Nitro leaf certificate, an SNP VCEK). p384.c verifies a
 * key's first signature with nettle; from the second on it uses a table of precomputed multiples
 * of the key built here once, and the generator's table, so that u1*G + u2*Q is about 120 mixed
 * additions and no doublings at all.
 *
 * Field arithmetic: six 64-bit limbs, products through unsigned __int128, Montgomery form with
 * R = 2^384 and word-by-word (CIOS) reduction, one short generic loop (m = t0 * 0x100000001 is
 * the only thing specific to p); every value stays fully reduced below p, so equality is limb
 * equality. Measured on the development machine (AMD EPYC, one pinned core, -O3): a field
 * multiplication 37-39 ns with clang 14 and 48-52 ns with gcc 12, a mixed addition 0.45 and
 * 0.60 us. A variant whose reduction used p's form (p = 2^384 - c, c = 2^128 + 2^96 - 2^32 + 1:
 * m * p = m * 2^384 - m * c, two multiplications per word instead of six, then a borrow chain)
 * was no faster with clang (38-41 ns) and slower with gcc (61-67 ns), whose code for the
 * 128-bit borrow chain is poor; a Solinas reduction (FIPS 186-5's 32-bit word sums for this p)
 * has such chains throughout and was not tried. nettle's own P-384 reduction is the Solinas one
 * in assembly; what makes the difference here is the number of operations, not their speed.
 *
 * Scalars: signed windows. The generator's table holds j * 2^(7i) * G for j in 1..64 and 55 windows
 * i (3,520 affine points, 338 KB in .bss, built once per process under pthread_once in about 4 ms);
 * a key's table j * 2^(6i) * Q for j in 1..32 and 65 windows (2,080 points, 199,680 bytes, about
 * 1.6 ms with clang and 2.2 ms with gcc: the windows' bases by doublings, each window's multiples
 * of its affine base by mixed additions, one inversion for all of them (Montgomery's trick)). A
 * scalar below 2^384 recoded into digits in [-2^(w-1), 2^(w-1)] needs one table point per non-zero
 * digit, negated for a negative digit: u1*G and u2*Q are at most 55 + 65 mixed additions and no
 * doublings. No table point is the point at infinity (j * 2^k is not a multiple of the prime n for
 * j < n), so every one has affine coordinates; the build checks it anyway (a zero Z fails the
 * build, and the caller stays with nettle). A warm verification then takes about 55 us with clang
 * and 70-73 us with gcc, hashing 4.5 KB included, against nettle's 235 us (bench/bench_p384 prints
 * the current figures beside nettle's and OpenSSL's).
 *
 * The formulas are the usual Jacobian ones for a = -3 (dbl-2001-b, add-2007-bl without the
 * Z1 == 1 shortcuts, madd-2004-hmv), with the exceptional cases handled explicitly: either
 * operand at infinity, P == Q (the addition becomes a doubling), P == -Q (infinity). The
 * verification is variable-time, which is fine: the key, digest and signature are public.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>

#include <veritee/limits.h>

#include "crypto_internal.h"

__extension__ typedef unsigned __int128 u128;

/* SPEC: SEC 2 v2 2.5.1, secp384r1: p, n and G. */
static const vt_p384_fe P = {0x00000000ffffffffu, 0xffffffff00000000u, 0xfffffffffffffffeu,
                             0xffffffffffffffffu, 0xffffffffffffffffu, 0xffffffffffffffffu};
static const vt_p384_fe N = {0xecec196accc52973u, 0x581a0db248b0a77au, 0xc7634d81f4372ddfu,
                             0xffffffffffffffffu, 0xffffffffffffffffu, 0xffffffffffffffffu};
/* -p^-1 mod 2^64: p = 2^32 - 1 mod 2^64, and (2^32 - 1)(2^32 + 1) = -1 mod 2^64. */
#define PINV 0x0000000100000001u
/* R^2 mod p and R mod p (1 in Montgomery form), R = 2^384. */
static const vt_p384_fe R2 = {0xfffffffe00000001u, 0x0000000200000000u, 0xfffffffe00000000u,
                              0x0000000200000000u, 0x0000000000000001u, 0x0000000000000000u};
static const vt_p384_fe ONE = {0xffffffff00000001u, 0x00000000ffffffffu, 0x0000000000000001u,
                               0x0000000000000000u, 0x0000000000000000u, 0x0000000000000000u};
static const uint8_t G_XY[96] = {
    0xaa, 0x87, 0xca, 0x22, 0xbe, 0x8b, 0x05, 0x37, 0x8e, 0xb1, 0xc7, 0x1e, 0xf3, 0x20, 0xad, 0x74,
    0x6e, 0x1d, 0x3b, 0x62, 0x8b, 0xa7, 0x9b, 0x98, 0x59, 0xf7, 0x41, 0xe0, 0x82, 0x54, 0x2a, 0x38,
    0x55, 0x02, 0xf2, 0x5d, 0xbf, 0x55, 0x29, 0x6c, 0x3a, 0x54, 0x5e, 0x38, 0x72, 0x76, 0x0a, 0xb7,
    0x36, 0x17, 0xde, 0x4a, 0x96, 0x26, 0x2c, 0x6f, 0x5d, 0x9e, 0x98, 0xbf, 0x92, 0x92, 0xdc, 0x29,
    0xf8, 0xf4, 0x1d, 0xbd, 0x28, 0x9a, 0x14, 0x7c, 0xe9, 0xda, 0x31, 0x13, 0xb5, 0xf0, 0xb8, 0xc0,
    0x0a, 0x60, 0xb1, 0xce, 0x1d, 0x7e, 0x81, 0x9d, 0x7a, 0x43, 0x1d, 0x7c, 0x90, 0xea, 0x0e, 0x5f,
};

/* Window widths and counts: (384 + 1 + w - 1) / w windows leave the top digit room for the last
 * carry (see recode). */
#define G_W 7u
#define G_HALF (1u << (G_W - 1))
#define G_WINDOWS ((385u + G_W - 1) / G_W)
#define Q_W 6u
#define Q_HALF (1u << (Q_W - 1))
#define Q_WINDOWS ((385u + Q_W - 1) / Q_W)

struct vt_p384_table {
    struct vt_p384_aff pts[Q_WINDOWS * Q_HALF];
};

/* ---- limbs ---- */

static void limbs_from_bytes(vt_p384_fe r, const uint8_t in[48])
{
    for (size_t i = 0; i < VT_P384_LIMBS; i++) {
        const uint8_t *b = in + 40 - 8 * i;
        uint64_t v = 0;
        for (size_t j = 0; j < 8; j++) {
            v = (v << 8) | b[j];
        }
        r[i] = v;
    }
}

static void limbs_to_bytes(uint8_t out[48], const vt_p384_fe a)
{
    for (size_t i = 0; i < VT_P384_LIMBS; i++) {
        uint8_t *b = out + 40 - 8 * i;
        for (size_t j = 0; j < 8; j++) {
            b[j] = (uint8_t)(a[i] >> (56 - 8 * j));
        }
    }
}

static bool limbs_is_zero(const vt_p384_fe a)
{
    uint64_t acc = 0;
    for (size_t i = 0; i < VT_P384_LIMBS; i++) {
        acc |= a[i];
    }
    return acc == 0;
}

static bool limbs_eq(const vt_p384_fe a, const vt_p384_fe b)
{
    uint64_t acc = 0;
    for (size_t i = 0; i < VT_P384_LIMBS; i++) {
        acc |= a[i] ^ b[i];
    }
    return acc == 0;
}

/* r = a - b mod 2^384; the borrow out (0 or 1). */
static uint64_t limbs_sub(vt_p384_fe r, const vt_p384_fe a, const vt_p384_fe b)
{
    uint64_t borrow = 0;
    for (size_t i = 0; i < VT_P384_LIMBS; i++) {
        u128 d = (u128)a[i] - b[i] - borrow;
        r[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1u;
    }
    return borrow;
}

/* r = a + b mod 2^384; the carry out. */
static uint64_t limbs_add(vt_p384_fe r, const vt_p384_fe a, const vt_p384_fe b)
{
    u128 c = 0;
    for (size_t i = 0; i < VT_P384_LIMBS; i++) {
        c += (u128)a[i] + b[i];
        r[i] = (uint64_t)c;
        c >>= 64;
    }
    return (uint64_t)c;
}

/* True if a < b. */
static bool limbs_lt(const vt_p384_fe a, const vt_p384_fe b)
{
    vt_p384_fe t;
    return limbs_sub(t, a, b) != 0;
}

/* ---- field ---- */

void vt_p384_fe_add(vt_p384_fe r, const vt_p384_fe a, const vt_p384_fe b)
{
    vt_p384_fe t;
    vt_p384_fe u;
    uint64_t carry = limbs_add(t, a, b);
    uint64_t borrow = limbs_sub(u, t, P);
    /* a + b < 2p: subtract p when the sum reached 2^384 or is at least p. */
    memcpy(r, (carry != 0 || borrow == 0) ? u : t, sizeof(vt_p384_fe));
}

void vt_p384_fe_sub(vt_p384_fe r, const vt_p384_fe a, const vt_p384_fe b)
{
    vt_p384_fe t;
    if (limbs_sub(t, a, b) != 0) {
        (void)limbs_add(t, t, P);
    }
    memcpy(r, t, sizeof(vt_p384_fe));
}

/* Montgomery multiplication, r = a * b / 2^384 mod p for a, b < p (CIOS: after each word of b,
 * add the multiple m * p that clears the lowest word and shift it out; t stays below 2p). */
static void mont_mul(vt_p384_fe r, const vt_p384_fe a, const vt_p384_fe b)
{
    uint64_t t[VT_P384_LIMBS + 2] = {0};
    for (size_t i = 0; i < VT_P384_LIMBS; i++) {
        u128 c = 0;
        for (size_t j = 0; j < VT_P384_LIMBS; j++) {
            c += (u128)a[j] * b[i] + t[j];
            t[j] = (uint64_t)c;
            c >>= 64;
        }
        c += t[6];
        t[6] = (uint64_t)c;
        t[7] = (uint64_t)(c >> 64);
        uint64_t m = t[0] * PINV;
        c = ((u128)m * P[0] + t[0]) >> 64;
        for (size_t j = 1; j < VT_P384_LIMBS; j++) {
            c += (u128)m * P[j] + t[j];
            t[j - 1] = (uint64_t)c;
            c >>= 64;
        }
        c += t[6];
        t[5] = (uint64_t)c;
        t[6] = t[7] + (uint64_t)(c >> 64);
    }
    vt_p384_fe u;
    uint64_t borrow = limbs_sub(u, t, P);
    memcpy(r, (t[6] != 0 || borrow == 0) ? u : t, sizeof(vt_p384_fe));
}

void vt_p384_fe_mul(vt_p384_fe r, const vt_p384_fe a, const vt_p384_fe b)
{
    mont_mul(r, a, b);
}

void vt_p384_fe_sqr(vt_p384_fe r, const vt_p384_fe a)
{
    mont_mul(r, a, a);
}

void vt_p384_fe_from_bytes(vt_p384_fe r, const uint8_t in[48])
{
    vt_p384_fe t;
    vt_p384_fe u;
    limbs_from_bytes(t, in);
    /* Below 2^384 < 2p: one subtraction reduces it. */
    if (limbs_sub(u, t, P) == 0) {
        memcpy(t, u, sizeof(t));
    }
    mont_mul(r, t, R2);
}

void vt_p384_fe_to_bytes(uint8_t out[48], const vt_p384_fe a)
{
    static const vt_p384_fe one = {1, 0, 0, 0, 0, 0};
    vt_p384_fe t;
    mont_mul(t, a, one);
    limbs_to_bytes(out, t);
}

/* SPEC: Fermat, a^(p-2) = a^-1 for a != 0 mod the prime p; left to right over the bits. */
void vt_p384_fe_inv(vt_p384_fe r, const vt_p384_fe a)
{
    vt_p384_fe e;
    static const vt_p384_fe two = {2, 0, 0, 0, 0, 0};
    (void)limbs_sub(e, P, two);
    vt_p384_fe acc;
    memcpy(acc, ONE, sizeof(acc));
    for (int i = 383; i >= 0; i--) {
        mont_mul(acc, acc, acc);
        if ((e[i / 64] >> (i % 64)) & 1u) {
            mont_mul(acc, acc, a);
        }
    }
    memcpy(r, acc, sizeof(acc));
}

/* ---- points ---- */

static void jac_set_inf(struct vt_p384_jac *r)
{
    memset(r, 0, sizeof(*r));
}

static void jac_from_aff(struct vt_p384_jac *r, const struct vt_p384_aff *a)
{
    memcpy(r->x, a->x, sizeof(r->x));
    memcpy(r->y, a->y, sizeof(r->y));
    memcpy(r->z, ONE, sizeof(r->z));
}

/* SPEC: dbl-2001-b (Bernstein-Lange, Explicit-Formulas Database), a = -3:
 * delta = Z^2, gamma = Y^2, beta = X*gamma, alpha = 3*(X-delta)*(X+delta),
 * X3 = alpha^2 - 8*beta, Z3 = (Y+Z)^2 - gamma - delta, Y3 = alpha*(4*beta - X3) - 8*gamma^2.
 * Y = 0 (no such point on P-384) would give Z3 = 0, infinity, as it should. */
void vt_p384_jac_dbl(struct vt_p384_jac *r, const struct vt_p384_jac *p)
{
    if (limbs_is_zero(p->z)) {
        jac_set_inf(r);
        return;
    }
    vt_p384_fe delta, gamma, beta, alpha, t1, t2, x3, y3, z3;
    vt_p384_fe_sqr(delta, p->z);
    vt_p384_fe_sqr(gamma, p->y);
    vt_p384_fe_mul(beta, p->x, gamma);
    vt_p384_fe_sub(t1, p->x, delta);
    vt_p384_fe_add(t2, p->x, delta);
    vt_p384_fe_mul(t1, t1, t2);
    vt_p384_fe_add(alpha, t1, t1);
    vt_p384_fe_add(alpha, alpha, t1);
    vt_p384_fe_sqr(x3, alpha);
    vt_p384_fe_add(t1, beta, beta); /* 2 beta */
    vt_p384_fe_add(t1, t1, t1);     /* 4 beta */
    vt_p384_fe_add(t2, t1, t1);     /* 8 beta */
    vt_p384_fe_sub(x3, x3, t2);
    vt_p384_fe_add(z3, p->y, p->z);
    vt_p384_fe_sqr(z3, z3);
    vt_p384_fe_sub(z3, z3, gamma);
    vt_p384_fe_sub(z3, z3, delta);
    vt_p384_fe_sub(t1, t1, x3);
    vt_p384_fe_mul(y3, alpha, t1);
    vt_p384_fe_sqr(t2, gamma);
    vt_p384_fe_add(t2, t2, t2);
    vt_p384_fe_add(t2, t2, t2);
    vt_p384_fe_add(t2, t2, t2);
    vt_p384_fe_sub(y3, y3, t2);
    memcpy(r->x, x3, sizeof(x3));
    memcpy(r->y, y3, sizeof(y3));
    memcpy(r->z, z3, sizeof(z3));
}

/* The sum from U1 = X1*Z2^2, S1 = Y1*Z2^3, H = U2 - U1 != 0, R = S2 - S1, and Z1*Z2 (zz):
 * X3 = R^2 - H^3 - 2*U1*H^2, Y3 = R*(U1*H^2 - X3) - S1*H^3, Z3 = zz*H. */
static void jac_add_finish(struct vt_p384_jac *r, const vt_p384_fe u1, const vt_p384_fe s1,
                           const vt_p384_fe h, const vt_p384_fe rr, const vt_p384_fe zz)
{
    vt_p384_fe hh, hhh, v, x3, y3, z3, t;
    vt_p384_fe_sqr(hh, h);
    vt_p384_fe_mul(hhh, h, hh);
    vt_p384_fe_mul(v, u1, hh);
    vt_p384_fe_sqr(x3, rr);
    vt_p384_fe_sub(x3, x3, hhh);
    vt_p384_fe_sub(x3, x3, v);
    vt_p384_fe_sub(x3, x3, v);
    vt_p384_fe_sub(t, v, x3);
    vt_p384_fe_mul(y3, rr, t);
    vt_p384_fe_mul(t, s1, hhh);
    vt_p384_fe_sub(y3, y3, t);
    vt_p384_fe_mul(z3, zz, h);
    memcpy(r->x, x3, sizeof(x3));
    memcpy(r->y, y3, sizeof(y3));
    memcpy(r->z, z3, sizeof(z3));
}

/* SPEC: madd-2004-hmv (Hankerson, Menezes, Vanstone, Guide to ECC, alg. 3.22) with Z2 = 1. */
void vt_p384_jac_add_aff(struct vt_p384_jac *r, const struct vt_p384_jac *p,
                         const struct vt_p384_aff *q)
{
    if (limbs_is_zero(p->z)) {
        jac_from_aff(r, q);
        return;
    }
    vt_p384_fe z1z1, u2, s2, h, rr;
    vt_p384_fe_sqr(z1z1, p->z);
    vt_p384_fe_mul(u2, q->x, z1z1);
    vt_p384_fe_mul(s2, q->y, p->z);
    vt_p384_fe_mul(s2, s2, z1z1);
    vt_p384_fe_sub(h, u2, p->x);
    vt_p384_fe_sub(rr, s2, p->y);
    if (limbs_is_zero(h)) {
        /* Same x: P == Q (same y) doubles, P == -Q gives infinity. */
        if (limbs_is_zero(rr)) {
            vt_p384_jac_dbl(r, p);
        } else {
            jac_set_inf(r);
        }
        return;
    }
    vt_p384_fe u1, s1, zz;
    memcpy(u1, p->x, sizeof(u1));
    memcpy(s1, p->y, sizeof(s1));
    memcpy(zz, p->z, sizeof(zz));
    jac_add_finish(r, u1, s1, h, rr, zz);
}

/* SPEC: add-2007-bl's quantities (Explicit-Formulas Database), the exceptional cases first. */
void vt_p384_jac_add(struct vt_p384_jac *r, const struct vt_p384_jac *p,
                     const struct vt_p384_jac *q)
{
    if (limbs_is_zero(p->z)) {
        *r = *q;
        return;
    }
    if (limbs_is_zero(q->z)) {
        *r = *p;
        return;
    }
    vt_p384_fe z1z1, z2z2, u1, u2, s1, s2, h, rr, zz;
    vt_p384_fe_sqr(z1z1, p->z);
    vt_p384_fe_sqr(z2z2, q->z);
    vt_p384_fe_mul(u1, p->x, z2z2);
    vt_p384_fe_mul(u2, q->x, z1z1);
    vt_p384_fe_mul(s1, p->y, q->z);
    vt_p384_fe_mul(s1, s1, z2z2);
    vt_p384_fe_mul(s2, q->y, p->z);
    vt_p384_fe_mul(s2, s2, z1z1);
    vt_p384_fe_sub(h, u2, u1);
    vt_p384_fe_sub(rr, s2, s1);
    if (limbs_is_zero(h)) {
        if (limbs_is_zero(rr)) {
            vt_p384_jac_dbl(r, p);
        } else {
            jac_set_inf(r);
        }
        return;
    }
    vt_p384_fe_mul(zz, p->z, q->z);
    jac_add_finish(r, u1, s1, h, rr, zz);
}

bool vt_p384_jac_to_aff(struct vt_p384_aff *r, const struct vt_p384_jac *p)
{
    if (limbs_is_zero(p->z)) {
        return false;
    }
    vt_p384_fe zi, zi2;
    vt_p384_fe_inv(zi, p->z);
    vt_p384_fe_sqr(zi2, zi);
    vt_p384_fe_mul(r->x, p->x, zi2);
    vt_p384_fe_mul(zi2, zi2, zi);
    vt_p384_fe_mul(r->y, p->y, zi2);
    return true;
}

bool vt_p384_x_matches(const struct vt_p384_jac *p, const uint8_t r[48])
{
    if (limbs_is_zero(p->z)) {
        return false;
    }
    vt_p384_fe rl, z2, t;
    limbs_from_bytes(rl, r);
    if (limbs_is_zero(rl) || !limbs_lt(rl, N)) {
        return false;
    }
    vt_p384_fe_sqr(z2, p->z);
    /* x mod n == r with x < p < 2n: x == r, or x == r + n if that is below p. */
    mont_mul(t, rl, R2);
    vt_p384_fe_mul(t, t, z2);
    if (limbs_eq(t, p->x)) {
        return true;
    }
    vt_p384_fe rn;
    if (limbs_add(rn, rl, N) != 0 || !limbs_lt(rn, P)) {
        return false;
    }
    mont_mul(t, rn, R2);
    vt_p384_fe_mul(t, t, z2);
    return limbs_eq(t, p->x);
}

/* ---- tables ---- */

/* Affine forms of the n points in pts (none at infinity), with one inversion (Montgomery's
 * trick): pre[k] = Z0 * ... * Zk. False if a point is at infinity. */
static bool batch_to_aff(struct vt_p384_aff *out, const struct vt_p384_jac *pts, vt_p384_fe *pre,
                         size_t n)
{
    memcpy(pre[0], pts[0].z, sizeof(vt_p384_fe));
    for (size_t k = 1; k < n; k++) {
        vt_p384_fe_mul(pre[k], pre[k - 1], pts[k].z);
    }
    if (limbs_is_zero(pre[n - 1])) {
        return false;
    }
    vt_p384_fe inv, zi, zi2;
    vt_p384_fe_inv(inv, pre[n - 1]);
    for (size_t k = n; k-- > 0;) {
        if (k > 0) {
            vt_p384_fe_mul(zi, inv, pre[k - 1]); /* 1/Zk */
            vt_p384_fe_mul(inv, inv, pts[k].z);  /* 1/(Z0...Zk-1) */
        } else {
            memcpy(zi, inv, sizeof(zi));
        }
        vt_p384_fe_sqr(zi2, zi);
        vt_p384_fe_mul(out[k].x, pts[k].x, zi2);
        vt_p384_fe_mul(zi2, zi2, zi);
        vt_p384_fe_mul(out[k].y, pts[k].y, zi2);
    }
    return true;
}

/*
 * out[i * half + j - 1] = j * 2^(w*i) * p for j in 1..half, i below windows: first the windows'
 * bases 2^(w*i) * p (w doublings each), made affine together, then each window's multiples by
 * mixed additions of its base, made affine together.
 */
static bool build_table(struct vt_p384_aff *out, const struct vt_p384_aff *p, unsigned w,
                        unsigned windows)
{
    size_t half = (size_t)1 << (w - 1);
    size_t total = half * windows;
    struct vt_p384_jac *tmp = malloc(total * sizeof(*tmp));
    vt_p384_fe *pre = malloc(total * sizeof(*pre));
    struct vt_p384_aff *bases = malloc(windows * sizeof(*bases));
    bool ok = tmp != NULL && pre != NULL && bases != NULL;
    if (ok) {
        struct vt_p384_jac b;
        jac_from_aff(&b, p);
        for (size_t i = 0; i < windows; i++) {
            tmp[i] = b;
            for (unsigned k = 0; k < w; k++) {
                vt_p384_jac_dbl(&b, &b);
            }
        }
        ok = batch_to_aff(bases, tmp, pre, windows);
    }
    if (ok) {
        for (size_t i = 0; i < windows; i++) {
            struct vt_p384_jac *row = tmp + i * half;
            jac_from_aff(&row[0], &bases[i]);
            vt_p384_jac_dbl(&row[1], &row[0]);
            for (size_t j = 2; j < half; j++) {
                vt_p384_jac_add_aff(&row[j], &row[j - 1], &bases[i]);
            }
        }
        ok = batch_to_aff(out, tmp, pre, total);
    }
    free(tmp);
    free(pre);
    free(bases);
    return ok;
}

static struct vt_p384_aff g_table[G_WINDOWS * G_HALF];
static bool g_ready;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static mpz_t n_mpz;

static void g_init(void)
{
    struct vt_p384_aff g;
    vt_p384_fe_from_bytes(g.x, G_XY);
    vt_p384_fe_from_bytes(g.y, G_XY + 48);
    mpz_init(n_mpz);
    mpz_import(n_mpz, VT_P384_LIMBS, -1, sizeof(uint64_t), 0, 0, N);
    g_ready = build_table(g_table, &g, G_W, G_WINDOWS);
}

static bool g_available(void)
{
    return pthread_once(&g_once, g_init) == 0 && g_ready;
}

size_t vt_p384_table_bytes(void)
{
    return sizeof(struct vt_p384_table);
}

/* The keys' tables in the process: their bytes, and the most they may take (VT_P384_TABLE_BUDGET;
 * vt_p384_table_budget_set for the tests). A verifier caches up to 1,024 Nitro leaves and 1,024
 * SNP keys, which would be 400 MB of tables; past the budget a key verifies with nettle. */
static atomic_size_t tables_used;
static atomic_size_t tables_budget = VT_P384_TABLE_BUDGET;

size_t vt_p384_table_budget_set(size_t bytes)
{
    return atomic_exchange(&tables_budget, bytes);
}

size_t vt_p384_tables_in_use(void)
{
    return atomic_load(&tables_used) / sizeof(struct vt_p384_table);
}

struct vt_p384_table *vt_p384_table_new(const uint8_t xy[96])
{
    if (xy == NULL || !g_available()) {
        return NULL;
    }
    size_t size = sizeof(struct vt_p384_table);
    size_t used = atomic_fetch_add(&tables_used, size);
    if (used + size > atomic_load(&tables_budget)) {
        atomic_fetch_sub(&tables_used, size);
        return NULL;
    }
    struct vt_p384_table *t = malloc(size);
    struct vt_p384_aff q;
    if (t != NULL) {
        vt_p384_fe_from_bytes(q.x, xy);
        vt_p384_fe_from_bytes(q.y, xy + 48);
    }
    if (t == NULL || !build_table(t->pts, &q, Q_W, Q_WINDOWS)) {
        free(t);
        atomic_fetch_sub(&tables_used, size);
        return NULL;
    }
    return t;
}

void vt_p384_table_free(struct vt_p384_table *t)
{
    if (t != NULL) {
        free(t);
        atomic_fetch_sub(&tables_used, sizeof(struct vt_p384_table));
    }
}

/* ---- scalars ---- */

/* Bits pos .. pos+w-1 of k (zero above bit 383). */
static unsigned bits_at(const vt_p384_fe k, unsigned pos, unsigned w)
{
    if (pos >= 384) {
        return 0;
    }
    unsigned li = pos / 64;
    unsigned sh = pos % 64;
    uint64_t v = k[li] >> sh;
    if (sh + w > 64 && li + 1 < VT_P384_LIMBS) {
        v |= k[li + 1] << (64 - sh);
    }
    return (unsigned)(v & ((1u << w) - 1));
}

/* Signed digits d[i] in [-2^(w-1), 2^(w-1)], k = sum d[i] * 2^(w*i). With k < 2^384 and
 * w * windows >= 385 the top window holds less than 2^(w-1) before its carry, so no carry is
 * left over; false if one were. */
static bool recode(int8_t *d, const vt_p384_fe k, unsigned w, unsigned windows)
{
    unsigned carry = 0;
    unsigned half = 1u << (w - 1);
    for (unsigned i = 0; i < windows; i++) {
        unsigned raw = bits_at(k, i * w, w) + carry;
        if (raw > half) {
            d[i] = (int8_t)((int)raw - (int)(1u << w));
            carry = 1;
        } else {
            d[i] = (int8_t)raw;
            carry = 0;
        }
    }
    return carry == 0;
}

static void add_digits(struct vt_p384_jac *acc, const struct vt_p384_aff *table, size_t half,
                       const int8_t *d, unsigned windows)
{
    for (unsigned i = 0; i < windows; i++) {
        if (d[i] > 0) {
            vt_p384_jac_add_aff(acc, acc, &table[i * half + (size_t)d[i] - 1]);
        } else if (d[i] < 0) {
            struct vt_p384_aff neg;
            const struct vt_p384_aff *e = &table[i * half + (size_t)(-d[i]) - 1];
            memcpy(neg.x, e->x, sizeof(neg.x));
            vt_p384_fe_sub(neg.y, (const uint64_t[VT_P384_LIMBS]){0}, e->y);
            vt_p384_jac_add_aff(acc, acc, &neg);
        }
    }
}

/* u1*G and u2*Q, each from its own table into its own accumulator. */
static bool mul2_split(struct vt_p384_jac *ug, struct vt_p384_jac *uq, const vt_p384_fe u1,
                       const vt_p384_fe u2, const struct vt_p384_table *t)
{
    int8_t d1[G_WINDOWS];
    int8_t d2[Q_WINDOWS];
    if (!g_available() || !recode(d1, u1, G_W, G_WINDOWS) || !recode(d2, u2, Q_W, Q_WINDOWS)) {
        return false;
    }
    jac_set_inf(ug);
    jac_set_inf(uq);
    add_digits(ug, g_table, G_HALF, d1, G_WINDOWS);
    add_digits(uq, t->pts, Q_HALF, d2, Q_WINDOWS);
    return true;
}

/* True if a and b (neither at infinity) have the same affine x: a == b or a == -b. */
static bool jac_same_x(const struct vt_p384_jac *a, const struct vt_p384_jac *b)
{
    vt_p384_fe za, zb, ua, ub;
    vt_p384_fe_sqr(za, a->z);
    vt_p384_fe_sqr(zb, b->z);
    vt_p384_fe_mul(ua, a->x, zb);
    vt_p384_fe_mul(ub, b->x, za);
    return limbs_eq(ua, ub);
}

bool vt_p384_fast_mul2(struct vt_p384_jac *out, const uint8_t u1[48], const uint8_t u2[48],
                       const struct vt_p384_table *t)
{
    vt_p384_fe a;
    vt_p384_fe b;
    limbs_from_bytes(a, u1);
    limbs_from_bytes(b, u2);
    struct vt_p384_jac ug;
    struct vt_p384_jac uq;
    if (t == NULL || !mul2_split(&ug, &uq, a, b, t)) {
        return false;
    }
    vt_p384_jac_add(out, &ug, &uq);
    return true;
}

static void mpz_to_limbs(vt_p384_fe r, const mpz_t v)
{
    memset(r, 0, sizeof(vt_p384_fe));
    size_t count = 0;
    (void)mpz_export(r, &count, -1, sizeof(uint64_t), 0, 0, v);
}

enum vt_err vt_p384_table_verify(const struct vt_p384_table *t, const uint8_t digest[VT_SHA384_LEN],
                                 const uint8_t sig[96])
{
    if (t == NULL || digest == NULL || sig == NULL || !g_available()) {
        return VT_E_ARG;
    }
    /* SPEC: FIPS 186-5 6.4.2 step 2: r and s in [1, n-1]. */
    vt_p384_fe rl, sl;
    limbs_from_bytes(rl, sig);
    limbs_from_bytes(sl, sig + 48);
    if (limbs_is_zero(rl) || !limbs_lt(rl, N) || limbs_is_zero(sl) || !limbs_lt(sl, N)) {
        return VT_E_SIGNATURE;
    }
    /* Steps 3-5: e is the whole digest (its 384 bits are the bit length of n); w = s^-1 mod n,
     * u1 = e*w mod n, u2 = r*w mod n. s is invertible: n is prime and 0 < s < n. */
    mpz_t r, s, e, w, u;
    mpz_inits(r, s, e, w, u, NULL);
    mpz_import(r, VT_P384_LIMBS, -1, sizeof(uint64_t), 0, 0, rl);
    mpz_import(s, VT_P384_LIMBS, -1, sizeof(uint64_t), 0, 0, sl);
    mpz_import(e, VT_SHA384_LEN, 1, 1, 0, 0, digest);
    int inv = mpz_invert(w, s, n_mpz);
    vt_p384_fe u1, u2;
    mpz_mul(u, e, w);
    mpz_mod(u, u, n_mpz);
    mpz_to_limbs(u1, u);
    mpz_mul(u, r, w);
    mpz_mod(u, u, n_mpz);
    mpz_to_limbs(u2, u);
    mpz_clears(r, s, e, w, u, NULL);
    /* Steps 6-8: R = u1*G + u2*Q, not infinity, and x(R) mod n == r. */
    struct vt_p384_jac ug;
    struct vt_p384_jac uq;
    if (inv == 0 || !mul2_split(&ug, &uq, u1, u2, t)) {
        return VT_E_SIGNATURE;
    }
    /* u1*G == +-u2*Q (both finite) gives nettle's ecdsa_verify, whose final addition does not
     * handle it, a zero point and a rejection; FIPS 186-5 would reject -u2*Q (R is infinity) but
     * accept u2*Q if x(2*u1*G) mod n == r. Such a signature exists only for whoever knows the
     * private key (d = +-u1/u2 mod n), but a verdict must not depend on whether the key is warm,
     * so the table path rejects it as nettle does (tests/unit/crypto/test_p384_fast.c). */
    struct vt_p384_jac rp;
    if (limbs_is_zero(ug.z)) {
        rp = uq;
    } else if (limbs_is_zero(uq.z)) {
        rp = ug;
    } else if (jac_same_x(&ug, &uq)) {
        return VT_E_SIGNATURE;
    } else {
        vt_p384_jac_add(&rp, &ug, &uq);
    }
    return vt_p384_x_matches(&rp, sig) ? VT_OK : VT_E_SIGNATURE;
}
