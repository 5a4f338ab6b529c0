/*
 * ECDSA P-384 / SHA-384 verification with raw encodings (SPEC: AWS Nitro Enclaves attestation
 * documents are COSE_Sign1 with ES384, whose signature is raw r||s, RFC 9053 2.1; the Nitro
 * certificate chain is P-384 with ecdsa-with-SHA384; AMD SEV-SNP reports use P-384 too).
 *
 *   key:        X (48 bytes, big-endian) || Y (48 bytes, big-endian); no 0x04 prefix
 *   signature:  r (48 bytes, big-endian) || s (48 bytes, big-endian)
 *
 * Backend: nettle (hogweed). Measured on the development machine (OpenSSL 3.0.22, nettle 3.8.1,
 * AMD EPYC x86-64, one core, SHA-384 of 4.5 KB, bench/bench_p384 running both in turn in one
 * process): OpenSSL's EVP_PKEY_verify with a pre-parsed key verifies ~1,200-1,500 signatures/s
 * (3.0 has no dedicated P-384 code: generic Montgomery arithmetic over BIGNUMs), nettle's
 * ecdsa_verify ~2,300-2,700/s, 1.8-1.9 times as many (a dedicated reduction for the P-384
 * prime, in x86-64 assembly, over GMP's mpn routines), so nettle is used. The key is checked once
 * into a nettle ecc_point (ecc_point_set rejects coordinates that are not below p or not on the
 * curve; P-384 has cofactor 1, so that is a full public key validation); ecdsa_verify only reads
 * the point, so a key can be shared by threads. nettle allocates through GMP, which aborts the
 * process when memory runs out instead of returning an error: a few hundred bytes per key and per
 * call.
 *
 * A key that verifies again (a Nitro leaf certificate signs every document of its three hours,
 * an SNP VCEK every report of its chip; both live in the verifiers' caches) gets its own table of
 * precomputed multiples at its second verification, and from then on is verified by
 * p384_fast.c: a warm verification costs about a quarter of nettle's (bench/bench_p384 prints
 * both; docs/performance.md "Fast P-384 for reused keys"). A key's first verification, and any
 * verification when no table could be built, stays with nettle, so a key used once (a chain's)
 * never pays for a table. Both paths give the same verdict on every input, including the one
 * case where nettle departs from FIPS 186-5 (u1*G == u2*Q, p384_fast.c).
 *
 * This file knows no certificates: reading a key from one and checking a certificate's signature
 * with it is cert_sig.c's job, which sits above both this file and cert.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>
#include <nettle/bignum.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>

#include "crypto_internal.h"

#define VT_P384_LEN 48

/* SPEC: SEC 2 v2 2.5.1, secp384r1 field prime p and group order n. */
static const uint8_t vt_p384_p[VT_P384_LEN] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
};
static const uint8_t vt_p384_n[VT_P384_LEN] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
};

static bool vt_p384_is_zero(const uint8_t v[VT_P384_LEN])
{
    uint8_t acc = 0;
    for (size_t i = 0; i < VT_P384_LEN; i++) {
        acc |= v[i];
    }
    return acc == 0;
}

/* True if 0 < v < bound (big-endian, 48 bytes). */
static bool vt_p384_in_range(const uint8_t v[VT_P384_LEN], const uint8_t bound[VT_P384_LEN])
{
    return !vt_p384_is_zero(v) && memcmp(v, bound, VT_P384_LEN) < 0;
}

enum vt_err vt_crypto_p384_key_new(const uint8_t xy[96], const char *label, EVP_PKEY *pkey,
                                   struct vt_key **out, struct vt_diag *d)
{
    /* Explicit range checks give a precise reason; nettle checks them again with the equation. */
    if (memcmp(xy, vt_p384_p, VT_P384_LEN) >= 0) {
        EVP_PKEY_free(pkey);
        return vt_fail(d, VT_E_BAD_KEY, "p384.key", "x coordinate is not below the field prime");
    }
    if (memcmp(xy + VT_P384_LEN, vt_p384_p, VT_P384_LEN) >= 0) {
        EVP_PKEY_free(pkey);
        return vt_fail(d, VT_E_BAD_KEY, "p384.key", "y coordinate is not below the field prime");
    }
    struct vt_key *k = vt_crypto_key_alloc(VT_KEY_P384);
    if (k == NULL) {
        EVP_PKEY_free(pkey);
        return vt_fail(d, VT_E_NOMEM, "p384.key", "out of memory");
    }
    k->pkey = pkey;
    enum vt_err err = VT_OK;
    mpz_t x;
    mpz_t y;
    nettle_mpz_init_set_str_256_u(x, VT_P384_LEN, xy);
    nettle_mpz_init_set_str_256_u(y, VT_P384_LEN, xy + VT_P384_LEN);
    ecc_point_init(&k->point, nettle_get_secp_384r1());
    k->has_point = true;
    /* SPEC: SEC 1 v2 3.2.2.1: coordinates in [0, p-1] and y^2 = x^3 - 3x + b. The point at
     * infinity has no affine coordinates and (0, 0) is not on the curve (b != 0). */
    if (ecc_point_set(&k->point, x, y) != 1) {
        err = vt_fail(d, VT_E_BAD_KEY, "p384.key", "point is not on the P-384 curve");
    } else if (k->pkey == NULL && !vt_crypto_ec_pkey("secp384r1", xy, 96, &k->pkey)) {
        /* nettle has checked the point, so only memory can fail here. */
        char why[VT_CRYPTO_ERRTEXT_MAX];
        vt_crypto_errors(why, sizeof(why));
        err = vt_fail(d, VT_E_CRYPTO, "p384.key", "cannot make an OpenSSL key: %s", why);
    }
    if (err != VT_OK) {
        vt_key_free(k);
    } else {
        memcpy(k->xy, xy, 96);
        snprintf(k->label, sizeof(k->label), "%s", label);
        *out = k;
    }
    mpz_clear(x);
    mpz_clear(y);
    return err;
}

enum vt_err vt_key_from_p384_xy(const uint8_t xy[96], struct vt_key **out, struct vt_diag *d)
{
    if (xy == NULL || out == NULL) {
        return vt_fail(d, VT_E_ARG, "p384.key", "null argument");
    }
    return vt_crypto_p384_key_new(xy, "a raw P-384 key", NULL, out, d);
}

enum vt_err vt_p384_verify_nettle(const struct vt_key *k, const uint8_t digest[VT_SHA384_LEN],
                                  const uint8_t sig[96])
{
    if (k == NULL || k->alg != VT_KEY_P384 || !k->has_point || digest == NULL || sig == NULL) {
        return VT_E_ARG;
    }
    /* SPEC: FIPS 186-5 6.4.2 step 2, reject r or s outside [1, n-1]. No low-S rule (COSE and
     * X.509 have none). nettle checks the range too; this keeps the rule visible and cheap. */
    if (!vt_p384_in_range(sig, vt_p384_n) || !vt_p384_in_range(sig + VT_P384_LEN, vt_p384_n)) {
        return VT_E_SIGNATURE;
    }
    struct dsa_signature s;
    dsa_signature_init(&s);
    nettle_mpz_set_str_256_u(s.r, VT_P384_LEN, sig);
    nettle_mpz_set_str_256_u(s.s, VT_P384_LEN, sig + VT_P384_LEN);
    /* The digest is exactly the bit length of n, so nettle uses all of it (FIPS 186-5 6.4.2). */
    int ok = ecdsa_verify(&k->point, VT_SHA384_LEN, digest, &s);
    dsa_signature_clear(&s);
    return ok == 1 ? VT_OK : VT_E_SIGNATURE;
}

const struct vt_p384_table *vt_p384_key_table(const struct vt_key *k)
{
    if (k == NULL || k->alg != VT_KEY_P384 || !k->has_point) {
        return NULL;
    }
    return atomic_load_explicit(&k->p384_table, memory_order_acquire);
}

/*
 * The key's table for its second and later verifications, built here by the first thread that
 * gets there while the others go on with nettle; NULL for its first verification and whenever
 * no table could be built (memory), so that a key used once (a certificate chain's) never pays
 * for one. The key is shared by threads (the verifiers' caches): the counter and the flag are
 * atomics, and the table is published once with a compare-and-swap (release) that readers pair
 * with an acquire load, so a reader that sees the pointer sees the whole table. The casts drop
 * only the const of the key, whose lazily filled fields are atomics for this purpose.
 */
static const struct vt_p384_table *p384_table_for(const struct vt_key *ck)
{
    struct vt_key *k = (struct vt_key *)(uintptr_t)ck;
    struct vt_p384_table *t = atomic_load_explicit(&k->p384_table, memory_order_acquire);
    if (t != NULL) {
        return t;
    }
    if (atomic_load_explicit(&k->p384_uses, memory_order_relaxed) == 0) {
        atomic_fetch_add_explicit(&k->p384_uses, 1u, memory_order_relaxed);
        return NULL;
    }
    if (atomic_exchange_explicit(&k->p384_building, true, memory_order_acquire)) {
        return NULL; /* another thread is building it */
    }
    t = vt_p384_table_new(k->xy);
    if (t != NULL) {
        struct vt_p384_table *none = NULL;
        if (!atomic_compare_exchange_strong_explicit(&k->p384_table, &none, t, memory_order_acq_rel,
                                                     memory_order_acquire)) {
            vt_p384_table_free(t); /* published by another thread meanwhile */
            t = none;
        }
    }
    atomic_store_explicit(&k->p384_building, false, memory_order_release);
    return t;
}

enum vt_err vt_p384_verify_digest(const struct vt_key *k, const uint8_t digest[VT_SHA384_LEN],
                                  const uint8_t sig[96])
{
    if (k == NULL || k->alg != VT_KEY_P384 || !k->has_point || digest == NULL || sig == NULL) {
        return VT_E_ARG;
    }
    const struct vt_p384_table *t = p384_table_for(k);
    if (t != NULL) {
        return vt_p384_table_verify(t, digest, sig);
    }
    return vt_p384_verify_nettle(k, digest, sig);
}

enum vt_err vt_p384_verify(const struct vt_key *k, const void *msg, size_t n, const uint8_t sig[96])
{
    if (k == NULL || sig == NULL || (msg == NULL && n > 0)) {
        return VT_E_ARG;
    }
    uint8_t digest[VT_SHA384_LEN];
    vt_sha384(msg, n, digest);
    return vt_p384_verify_digest(k, digest, sig);
}

const char *vt_p384_backend(void)
{
    return "nettle; veritee tables for reused keys";
}
