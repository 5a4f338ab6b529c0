/*
 * Differential libFuzzer target for the P-384 tables of src/crypto/p384_fast.c: the table path's
 * verdict (vt_p384_table_verify) must equal nettle's (vt_p384_verify_nettle) on every input, and
 * through a struct vt_key (vt_p384_verify_digest, which switches from nettle to the table after
 * the key's first verification) too. Aborts on any difference.
 *
 * Input: byte 0 picks one of five fixed keys (bits 0-2, modulo 5: d = 1 (G), n - 1 (-G), 2, and
 * two others) and the mode (bit 7).
 *   mode 0: bytes 1..48 are the digest, 49..144 r||s (missing bytes are zero).
 *   mode 1: bytes 1..48 are the digest, 49..96 a nonce k; the target signs the digest with the
 *           key's private scalar and k (OpenSSL's EC arithmetic), then each following pair of
 *           bytes (position, value) XORs value into digest||r||s at position mod 144, so that
 *           valid signatures and near misses are reached.
 * Seed corpus: fuzz/corpus/fuzz_p384_fast, written by hand (see its README).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"

#define KEYS 5

/* The private scalars: 1, n - 1, 2 and SHA-384("veritee fuzz key 1"/"2") mod n (as in
 * tests/support/gen_p384_fast_seeds.py); the public points d*G are computed at start-up. */
static const char *const d_hex[KEYS] = {
    "1",
    "ffffffffffffffffffffffffffffffffffffffffffffffff"
    "c7634d81f4372ddf581a0db248b0a77aecec196accc52972",
    "2",
    "d8472b2df6cf8a7557e499645340a5cf1f0f8276edd3e38a"
    "6e2d792fde68ca55ec6d081ac5d26d89a1cc1eb2f47e1cca",
    "7ec669ded5e2bf66c1906e298bc621d7db8354525b71d788"
    "82cac14b17ba1bb40f87a94810586b5fdf5e03e608c9dbff",
};

struct state {
    struct vt_key *key[KEYS];
    struct vt_p384_table *table[KEYS];
    BIGNUM *d[KEYS];
    EC_GROUP *group;
    BIGNUM *n;
    BN_CTX *bn;
};

static struct state *st;

static void setup(void)
{
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        abort();
    }
    st->group = EC_GROUP_new_by_curve_name(NID_secp384r1);
    st->bn = BN_CTX_new();
    if (st->group == NULL || st->bn == NULL ||
        BN_hex2bn(&st->n, "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
                          "581a0db248b0a77aecec196accc52973") == 0) {
        abort();
    }
    for (size_t i = 0; i < KEYS; i++) {
        EC_POINT *q = EC_POINT_new(st->group);
        BIGNUM *x = BN_new();
        BIGNUM *y = BN_new();
        uint8_t xy[96];
        if (q == NULL || x == NULL || y == NULL || BN_hex2bn(&st->d[i], d_hex[i]) == 0 ||
            EC_POINT_mul(st->group, q, st->d[i], NULL, NULL, st->bn) != 1 ||
            EC_POINT_get_affine_coordinates(st->group, q, x, y, st->bn) != 1 ||
            BN_bn2binpad(x, xy, 48) != 48 || BN_bn2binpad(y, xy + 48, 48) != 48 ||
            vt_key_from_p384_xy(xy, &st->key[i], NULL) != VT_OK) {
            abort();
        }
        st->table[i] = vt_p384_table_new(xy);
        if (st->table[i] == NULL) {
            abort();
        }
        EC_POINT_free(q);
        BN_free(x);
        BN_free(y);
    }
}

/* r||s of digest under key i with nonce k48 (reduced mod n; 0 becomes 1); false if r or s is 0
 * (then the input is used as it is). */
static bool sign(size_t i, const uint8_t digest[48], const uint8_t k48[48], uint8_t sig[96])
{
    bool ok = false;
    BIGNUM *k = BN_bin2bn(k48, 48, NULL);
    BIGNUM *e = BN_bin2bn(digest, 48, NULL);
    BIGNUM *r = BN_new();
    BIGNUM *s = BN_new();
    BIGNUM *t = BN_new();
    EC_POINT *R = EC_POINT_new(st->group);
    if (k == NULL || e == NULL || r == NULL || s == NULL || t == NULL || R == NULL ||
        BN_nnmod(k, k, st->n, st->bn) != 1) {
        abort();
    }
    if (BN_is_zero(k)) {
        (void)!BN_one(k);
    }
    if (EC_POINT_mul(st->group, R, k, NULL, NULL, st->bn) != 1 ||
        EC_POINT_get_affine_coordinates(st->group, R, r, NULL, st->bn) != 1 ||
        BN_nnmod(r, r, st->n, st->bn) != 1 || BN_nnmod(e, e, st->n, st->bn) != 1 ||
        BN_mod_mul(s, r, st->d[i], st->n, st->bn) != 1 || BN_mod_add(s, s, e, st->n, st->bn) != 1 ||
        BN_mod_inverse(t, k, st->n, st->bn) == NULL || BN_mod_mul(s, s, t, st->n, st->bn) != 1) {
        abort();
    }
    if (!BN_is_zero(r) && !BN_is_zero(s)) {
        ok = BN_bn2binpad(r, sig, 48) == 48 && BN_bn2binpad(s, sig + 48, 48) == 48;
    }
    BN_free(k);
    BN_free(e);
    BN_free(r);
    BN_free(s);
    BN_free(t);
    EC_POINT_free(R);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (st == NULL) {
        setup();
    }
    if (size < 1) {
        return 0;
    }
    size_t ki = (size_t)(data[0] & 7u) % KEYS;
    bool signing = (data[0] & 0x80u) != 0;
    uint8_t buf[144] = {0}; /* digest || r || s */
    size_t take = size - 1 < sizeof(buf) ? size - 1 : sizeof(buf);
    if (!signing) {
        memcpy(buf, data + 1, take);
    } else {
        uint8_t k48[48] = {0};
        size_t dlen = take < 48 ? take : 48;
        memcpy(buf, data + 1, dlen);
        if (size > 49) {
            size_t klen = size - 49 < 48 ? size - 49 : 48;
            memcpy(k48, data + 49, klen);
        }
        if (sign(ki, buf, k48, buf + 48)) {
            for (size_t at = 97; at + 1 < size; at += 2) {
                buf[data[at] % sizeof(buf)] ^= data[at + 1];
            }
        }
    }
    enum vt_err fast = vt_p384_table_verify(st->table[ki], buf, buf + 48);
    enum vt_err slow = vt_p384_verify_nettle(st->key[ki], buf, buf + 48);
    enum vt_err keyed = vt_p384_verify_digest(st->key[ki], buf, buf + 48);
    if (fast != slow || keyed != slow || (slow != VT_OK && slow != VT_E_SIGNATURE)) {
        abort();
    }
    return 0;
}
