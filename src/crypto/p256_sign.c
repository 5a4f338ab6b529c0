/*
 * ECDSA P-256 private keys (struct vt_key with its private half) for signing (the collateral
 * cache's bundle key; the broker's token keys): generate, load and save as PKCS#8 PEM, sign with
 * raw r||s output. OpenSSL backend.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crypto_internal.h"

/* A private P-256 key around pkey (taken, freed on failure), its raw point kept beside it. */
static enum vt_err wrap(EVP_PKEY *pkey, const char *label, struct vt_key **out, struct vt_diag *d)
{
    uint8_t pt[65];
    size_t n = 0;
    if (!EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &n) ||
        n != 65 || pt[0] != 0x04) {
        EVP_PKEY_free(pkey);
        return vt_fail(d, VT_E_CRYPTO, "p256.key", "cannot export the public point");
    }
    struct vt_key *k = vt_crypto_key_alloc(VT_KEY_P256);
    if (k == NULL) {
        EVP_PKEY_free(pkey);
        return vt_fail(d, VT_E_NOMEM, "p256.key", "cannot allocate a key");
    }
    k->pkey = pkey;
    k->has_private = true;
    memcpy(k->xy, pt + 1, 64);
    snprintf(k->label, sizeof(k->label), "%s", label);
    *out = k;
    return VT_OK;
}

enum vt_err vt_crypto_p256_generate(struct vt_key **out, struct vt_diag *d)
{
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    VT_ENSURE(pkey != NULL, d, VT_E_CRYPTO, "p256.key", "cannot generate a P-256 key");
    return wrap(pkey, "a generated P-256 key", out, d);
}

enum vt_err vt_key_from_private_pem(const char *pem, size_t len, enum vt_key_alg want,
                                    struct vt_key **out, struct vt_diag *d)
{
    VT_ENSURE(want == VT_KEY_P256, d, VT_E_UNSUPPORTED_KEY_TYPE, "p256.key",
              "a %s private key from PEM is not supported", vt_key_alg_name(want));
    VT_ENSURE(len < INT32_MAX, d, VT_E_TOO_LARGE, "p256.key", "key text too large");
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    VT_ENSURE(b != NULL, d, VT_E_NOMEM, "p256.key", "cannot allocate a BIO");
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    VT_ENSURE(pkey != NULL, d, VT_E_BAD_PEM, "p256.key", "not a PEM private key");
    char group[32] = "";
    size_t gl = 0;
    if (!EVP_PKEY_is_a(pkey, "EC") ||
        !EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                        &gl) ||
        strcmp(group, "prime256v1") != 0) {
        EVP_PKEY_free(pkey);
        return vt_fail(d, VT_E_UNSUPPORTED_KEY_TYPE, "p256.key", "key is not EC P-256 (%s)",
                       group[0] ? group : "not EC");
    }
    return wrap(pkey, "a P-256 key from PEM", out, d);
}

enum vt_err vt_key_private_pem(const struct vt_key *k, struct vt_buf *out, struct vt_diag *d)
{
    VT_ENSURE(k != NULL && k->has_private, d, VT_E_ARG, "p256.key",
              "a public key, expected a private key");
    BIO *b = BIO_new(BIO_s_mem());
    VT_ENSURE(b != NULL, d, VT_E_NOMEM, "p256.key", "cannot allocate a BIO");
    enum vt_err err = VT_OK;
    char *p = NULL;
    if (!PEM_write_bio_PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL)) {
        err = vt_fail(d, VT_E_CRYPTO, "p256.key", "cannot write the key");
    } else {
        long n = BIO_get_mem_data(b, &p);
        err = vt_buf_append(out, p, (size_t)n);
    }
    BIO_free(b);
    return err;
}

enum vt_err vt_p256_sign(const struct vt_key *k, const void *msg, size_t n, uint8_t sig[64],
                         struct vt_diag *d)
{
    VT_TRY(vt_key_expect(k, VT_KEY_P256, true, "p256.sign", d));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    VT_ENSURE(ctx != NULL, d, VT_E_NOMEM, "p256.sign", "cannot allocate a digest context");
    uint8_t der[80];
    size_t der_len = sizeof(der);
    enum vt_err err = VT_OK;
    if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) != 1 ||
        EVP_DigestSign(ctx, der, &der_len, msg, n) != 1) {
        err = vt_fail(d, VT_E_CRYPTO, "p256.sign", "ECDSA signing failed");
    }
    EVP_MD_CTX_free(ctx);
    VT_TRY(err);
    const uint8_t *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    VT_ENSURE(s != NULL, d, VT_E_CRYPTO, "p256.sign", "cannot decode the signature");
    if (BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + 32, 32) != 32) {
        err = vt_fail(d, VT_E_CRYPTO, "p256.sign", "signature values out of range");
    }
    ECDSA_SIG_free(s);
    return err;
}
