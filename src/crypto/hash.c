/*
 * Hashing, constant-time comparison and wiping, over OpenSSL's EVP interface.
 *
 * The hash functions return void: their only failure is the library failing to allocate a
 * digest context, after which no caller could continue safely, so it aborts (fails closed)
 * rather than hand back an uninitialised digest that might be compared against something.
 */
#include <limits.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "crypto/crypto.h"

static void vt_digest2(const EVP_MD *md, const void *a, size_t an, const void *b, size_t bn,
                       uint8_t *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
              (an == 0 || EVP_DigestUpdate(ctx, a, an) == 1) &&
              (bn == 0 || EVP_DigestUpdate(ctx, b, bn) == 1) &&
              EVP_DigestFinal_ex(ctx, out, NULL) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        abort();
    }
}

void vt_sha256(const void *p, size_t n, uint8_t out[VT_SHA256_LEN])
{
    vt_digest2(EVP_sha256(), p, n, NULL, 0, out);
}

void vt_sha256_2(const void *a, size_t an, const void *b, size_t bn, uint8_t out[VT_SHA256_LEN])
{
    vt_digest2(EVP_sha256(), a, an, b, bn, out);
}

void vt_sha384(const void *p, size_t n, uint8_t out[VT_SHA384_LEN])
{
    vt_digest2(EVP_sha384(), p, n, NULL, 0, out);
}

void vt_sha512(const void *p, size_t n, uint8_t out[VT_SHA512_LEN])
{
    vt_digest2(EVP_sha512(), p, n, NULL, 0, out);
}

bool vt_ct_memeq(const void *a, const void *b, size_t n)
{
    if (n == 0) {
        return true;
    }
    return CRYPTO_memcmp(a, b, n) == 0;
}

void vt_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0) {
        OPENSSL_cleanse(p, n);
    }
}

enum vt_err vt_random_bytes(void *p, size_t n, struct vt_diag *d)
{
    VT_ENSURE(n <= INT_MAX && RAND_priv_bytes(p, (int)n) == 1, d, VT_E_INTERNAL, "random",
              "the CSPRNG failed to give %zu bytes", n);
    return VT_OK;
}

void vt_hmac_sha256(const uint8_t *key, size_t keyn, const void *msg, size_t n,
                    uint8_t out[VT_SHA256_LEN])
{
    unsigned len = 0;
    if (keyn > INT_MAX || HMAC(EVP_sha256(), key, (int)keyn, msg, n, out, &len) == NULL ||
        len != VT_SHA256_LEN) {
        abort(); /* as the hashes above: only an allocation failure gets here */
    }
}
