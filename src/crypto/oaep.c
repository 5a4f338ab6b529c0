/*
 * RSA-OAEP with SHA-256 and MGF1-SHA-256 and the empty label, the one OAEP set-up (SPEC: RFC 8017
 * 7.1; RFC 7518 4.3, JWE "RSA-OAEP-256"; AWS KMS RSAES_OAEP_SHA_256, CMS id-RSAES-OAEP with SHA-256
 * parameters, RFC 4055 4.1). jose.c and cms.c both wrap content keys with it.
 */
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "crypto_internal.h"

bool vt_crypto_oaep(EVP_PKEY *pkey, bool encrypt, const uint8_t *in, size_t n, uint8_t *out,
                    size_t *outn)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    bool ok = ctx != NULL &&
              (encrypt ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
              EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1 &&
              EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1 &&
              (encrypt ? EVP_PKEY_encrypt(ctx, out, outn, in, n)
                       : EVP_PKEY_decrypt(ctx, out, outn, in, n)) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}
