/*
 * One key type for every public-key algorithm (issue 16): struct vt_key holds its algorithm
 * (P-256, P-384, RSA), an OpenSSL EVP_PKEY, and what a fast path needs beside it (the raw EC
 * point; for P-384 public keys the nettle point of p384.c). This file owns the type's life cycle
 * and the algorithm checks; the constructors for one algorithm sit with its arithmetic (p256.c,
 * p384.c), those reading certificates above cert.c (cert_sig.c).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include "crypto_internal.h"

const char *vt_key_alg_name(enum vt_key_alg alg)
{
    switch (alg) {
    case VT_KEY_P256:
        return "P-256";
    case VT_KEY_P384:
        return "P-384";
    case VT_KEY_RSA:
        return "RSA";
    case VT_KEY_P521:
        return "P-521";
    }
    return "unknown";
}

enum vt_key_alg vt_key_alg(const struct vt_key *k)
{
    return k->alg;
}

bool vt_key_has_private(const struct vt_key *k)
{
    return k != NULL && k->has_private;
}

enum vt_err vt_key_expect(const struct vt_key *k, enum vt_key_alg want, bool private_half,
                          const char *check, struct vt_diag *d)
{
    VT_ENSURE(k != NULL, d, VT_E_ARG, check, "no key, expected %s", vt_key_alg_name(want));
    VT_ENSURE(k->alg == want, d, VT_E_ARG, check, "the key is %s, expected %s",
              vt_key_alg_name(k->alg), vt_key_alg_name(want));
    VT_ENSURE(!private_half || k->has_private, d, VT_E_ARG, check,
              "the key is a public %s key, expected its private half", vt_key_alg_name(want));
    return VT_OK;
}

struct vt_key *vt_crypto_key_alloc(enum vt_key_alg alg)
{
    struct vt_key *k = calloc(1, sizeof(*k));
    if (k != NULL) {
        k->alg = alg;
    }
    return k;
}

void vt_key_free(struct vt_key *k)
{
    if (k == NULL) {
        return;
    }
    if (k->has_point) {
        ecc_point_clear(&k->point);
    }
    EVP_PKEY_free(k->pkey);
    vt_wipe(k, sizeof(*k));
    free(k);
}

void vt_key_p256_xy(const struct vt_key *k, uint8_t xy[64])
{
    memset(xy, 0, 64);
    if (k != NULL && k->alg == VT_KEY_P256) {
        memcpy(xy, k->xy, 64);
    }
}

enum vt_err vt_key_generate(enum vt_key_alg alg, unsigned rsa_bits, struct vt_key **out,
                            struct vt_diag *d)
{
    VT_ENSURE(out != NULL, d, VT_E_ARG, "key.generate", "no output");
    switch (alg) {
    case VT_KEY_P256:
        return vt_crypto_p256_generate(out, d);
    case VT_KEY_RSA:
        return vt_crypto_rsa_generate(rsa_bits, out, d);
    case VT_KEY_P384:
    case VT_KEY_P521:
        break;
    }
    return vt_fail(d, VT_E_ARG, "key.generate", "cannot generate a %s key", vt_key_alg_name(alg));
}

bool vt_crypto_ec_pkey(const char *group, const uint8_t *xy, size_t n, EVP_PKEY **out)
{
    uint8_t point[1 + 96];
    if (n > sizeof(point) - 1) {
        return false;
    }
    point[0] = 0x04;
    memcpy(point + 1, xy, n);
    char name[16];
    size_t gl = strlen(group);
    if (gl >= sizeof(name)) {
        return false;
    }
    memcpy(name, group, gl + 1);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, name, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, n + 1),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    bool ok = ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
              EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

enum vt_err vt_key_spki_der(const struct vt_key *k, struct vt_buf *out, struct vt_diag *d)
{
    VT_ENSURE(k != NULL && out != NULL, d, VT_E_ARG, "key.spki", "no key or output");
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k->pkey, &der);
    if (n <= 0) {
        char why[VT_CRYPTO_ERRTEXT_MAX];
        vt_crypto_errors(why, sizeof(why));
        return vt_fail(d, VT_E_CRYPTO, "key.spki", "cannot encode the public key: %s", why);
    }
    /* Built aside, so that out is unchanged on failure. */
    struct vt_buf tmp;
    vt_buf_init(&tmp, out->max);
    enum vt_err err = vt_buf_append(&tmp, der, (size_t)n);
    OPENSSL_free(der);
    if (err != VT_OK) {
        vt_buf_cleanup(&tmp);
        return vt_fail(d, err, "key.spki", "cannot hold %d bytes (limit %zu)", n, out->max);
    }
    vt_buf_cleanup(out);
    *out = tmp;
    return VT_OK;
}
