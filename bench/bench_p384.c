/*
 * ECDSA P-384 / SHA-384 verification rate of the two library backends, measured side by side in
 * the same run, and of veritee's vt_p384_verify with a reused key (src/crypto/p384.c: nettle for
 * a key's first verification, then the key's table of src/crypto/p384_fast.c). Each verification
 * hashes the message and verifies with a key parsed once:
 *
 *   openssl   EVP_PKEY_verify on a fresh EVP_PKEY_CTX from a pre-parsed EVP_PKEY (as p256.c
 *             does), DER signature
 *   nettle    ecdsa_verify on a pre-checked ecc_point, r and s imported into mpz each time
 *   veritee   vt_p384_verify on a struct vt_key that has verified before (warm: its table built)
 *
 * It also prints the time to build the generator's table (once per process) and a key's table
 * (once per key), and the size of a key's table.
 *
 * The backends take turns for ROUNDS rounds so that load from other processes hits them alike;
 * the best round of each is reported. This benchmark calls OpenSSL and nettle directly on purpose
 * (it compares them); the library keeps them inside src/crypto/.
 *
 * Usage: bench_p384 [SECONDS_PER_ROUND] [ROUNDS]   (default 1 s, 3 rounds)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmp.h>
#include <nettle/bignum.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>
#include <nettle/version.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"

/* A COSE_Sign1 Sig_structure of a Nitro attestation document is about 4.5 KB. */
#define MSG_LEN 4500

struct bench {
    uint8_t msg[MSG_LEN];
    uint8_t der[120]; /* DER signature */
    size_t der_len;
    uint8_t raw[96]; /* r || s */
    EVP_PKEY *ossl_pub;
    struct ecc_point nettle_pub;
    struct vt_key *vt_key;
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int verify_openssl(struct bench *b)
{
    uint8_t digest[VT_SHA384_LEN];
    vt_sha384(b->msg, sizeof(b->msg), digest);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, b->ossl_pub, NULL);
    int ok = ctx != NULL && EVP_PKEY_verify_init(ctx) == 1 &&
             EVP_PKEY_verify(ctx, b->der, b->der_len, digest, sizeof(digest)) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static int verify_nettle(struct bench *b)
{
    uint8_t digest[VT_SHA384_LEN];
    vt_sha384(b->msg, sizeof(b->msg), digest);
    struct dsa_signature s;
    dsa_signature_init(&s);
    nettle_mpz_set_str_256_u(s.r, 48, b->raw);
    nettle_mpz_set_str_256_u(s.s, 48, b->raw + 48);
    int ok = ecdsa_verify(&b->nettle_pub, sizeof(digest), digest, &s);
    dsa_signature_clear(&s);
    return ok;
}

static int verify_veritee(struct bench *b)
{
    return vt_p384_verify(b->vt_key, b->msg, sizeof(b->msg), b->raw) == VT_OK;
}

/* Verifications per second over about `seconds`; negative if one failed. */
static double rate(int (*fn)(struct bench *), struct bench *b, double seconds)
{
    long n = 0;
    double t0 = now();
    double t;
    do {
        for (int i = 0; i < 16; i++) {
            if (!fn(b)) {
                return -1.0;
            }
        }
        n += 16;
        t = now() - t0;
    } while (t < seconds);
    return (double)n / t;
}

static int setup(struct bench *b)
{
    for (size_t i = 0; i < sizeof(b->msg); i++) {
        b->msg[i] = (uint8_t)(i * 131u + 7u);
    }
    EVP_PKEY *priv = EVP_EC_gen("P-384");
    if (priv == NULL) {
        return -1;
    }
    /* Sign with OpenSSL; keep the DER form for OpenSSL and r||s for nettle and veritee. */
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    b->der_len = sizeof(b->der);
    int ok = mctx != NULL && EVP_DigestSignInit(mctx, NULL, EVP_sha384(), NULL, priv) == 1 &&
             EVP_DigestSign(mctx, b->der, &b->der_len, b->msg, sizeof(b->msg)) == 1;
    EVP_MD_CTX_free(mctx);
    const unsigned char *p = b->der;
    ECDSA_SIG *sig = ok ? d2i_ECDSA_SIG(NULL, &p, (long)b->der_len) : NULL;
    ok = sig != NULL && BN_bn2binpad(ECDSA_SIG_get0_r(sig), b->raw, 48) == 48 &&
         BN_bn2binpad(ECDSA_SIG_get0_s(sig), b->raw + 48, 48) == 48;
    ECDSA_SIG_free(sig);

    /* The public key alone, parsed once for each backend. */
    uint8_t pub[97];
    size_t pub_len = 0;
    ok = ok &&
         EVP_PKEY_get_octet_string_param(priv, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub),
                                         &pub_len) == 1 &&
         pub_len == sizeof(pub);
    EVP_PKEY_free(priv);
    if (!ok) {
        return -1;
    }
    char group[] = "secp384r1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *fctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    ok = fctx != NULL && EVP_PKEY_fromdata_init(fctx) == 1 &&
         EVP_PKEY_fromdata(fctx, &b->ossl_pub, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(fctx);

    mpz_t x;
    mpz_t y;
    nettle_mpz_init_set_str_256_u(x, 48, pub + 1);
    nettle_mpz_init_set_str_256_u(y, 48, pub + 49);
    ecc_point_init(&b->nettle_pub, nettle_get_secp_384r1());
    ok = ok && ecc_point_set(&b->nettle_pub, x, y) == 1;
    mpz_clear(x);
    mpz_clear(y);

    struct vt_diag d;
    vt_diag_init(&d);
    if (ok && vt_key_from_p384_xy(pub + 1, &b->vt_key, &d) != VT_OK) {
        fprintf(stderr, "vt_key_from_p384_xy: %s\n", d.detail);
        ok = 0;
    }
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 1.0;
    int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 3;
    if (seconds <= 0 || rounds <= 0) {
        fprintf(stderr, "usage: bench_p384 [SECONDS_PER_ROUND] [ROUNDS]\n");
        return 2;
    }
    struct bench *b = calloc(1, sizeof(*b));
    if (b == NULL || setup(b) != 0) {
        fprintf(stderr, "bench_p384: setup failed\n");
        return 1;
    }
    /* The tables: the generator's is built by the first table ever; then a key's alone. */
    double t0 = now();
    struct vt_p384_table *first = vt_p384_table_new(b->vt_key->xy);
    double first_ms = (now() - t0) * 1e3;
    vt_p384_table_free(first);
    double build_best = 1e9;
    double build_sum = 0;
    enum { BUILDS = 20 };
    for (int i = 0; i < BUILDS; i++) {
        t0 = now();
        struct vt_p384_table *t = vt_p384_table_new(b->vt_key->xy);
        double ms = (now() - t0) * 1e3;
        if (t == NULL) {
            fprintf(stderr, "bench_p384: no table\n");
            return 1;
        }
        vt_p384_table_free(t);
        build_sum += ms;
        build_best = ms < build_best ? ms : build_best;
    }
    /* Warm the key: its first verification uses nettle, the second builds its table. */
    if (!verify_veritee(b) || !verify_veritee(b) || vt_p384_key_table(b->vt_key) == NULL) {
        fprintf(stderr, "bench_p384: the key has no table after two verifications\n");
        return 1;
    }
    printf("ECDSA P-384 verify, SHA-384 of %d bytes, one thread; %s, nettle %d.%d\n", MSG_LEN,
           OpenSSL_version(OPENSSL_VERSION), nettle_version_major(), nettle_version_minor());
    printf("tables: generator + first key %.2f ms; a key's table %.2f ms (best of %d, mean %.2f),"
           " %zu bytes\n",
           first_ms, build_best, BUILDS, build_sum / BUILDS, vt_p384_table_bytes());
    printf("%-6s %14s %14s %14s\n", "round", "openssl/s", "nettle/s", "veritee/s");
    double best[3] = {0, 0, 0};
    int rc = 0;
    for (int r = 0; r < rounds; r++) {
        double v[3] = {
            rate(verify_openssl, b, seconds),
            rate(verify_nettle, b, seconds),
            rate(verify_veritee, b, seconds),
        };
        for (int i = 0; i < 3; i++) {
            if (v[i] < 0) {
                rc = 1;
            }
            best[i] = v[i] > best[i] ? v[i] : best[i];
        }
        printf("%-6d %14.0f %14.0f %14.0f\n", r + 1, v[0], v[1], v[2]);
    }
    printf("%-6s %14.0f %14.0f %14.0f\n", "best", best[0], best[1], best[2]);
    if (best[0] > 0) {
        printf("nettle / openssl: %.2fx; warm veritee / nettle: %.2fx (%.1f us per verify);"
               " veritee backend: %s\n",
               best[1] / best[0], best[2] / best[1], 1e6 / best[2], vt_p384_backend());
    }
    if (rc != 0) {
        fprintf(stderr, "bench_p384: a verification failed\n");
    }
    vt_key_free(b->vt_key);
    ecc_point_clear(&b->nettle_pub);
    EVP_PKEY_free(b->ossl_pub);
    free(b);
    return rc;
}
