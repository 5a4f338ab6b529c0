/*
 * Values sealed at rest: AES-256-GCM under a 256-bit key with associated data that names the
 * value's role and row, so that a sealed value cannot be moved to another row. Sealed form:
 * nonce (12) || ciphertext || tag (16). Used for the broker's data keys, signing keys and
 * master-key check, and for the cache's bundle-signing key.
 */
#include <string.h>

#include <openssl/evp.h>

#include <veritee/crypto.h>

#include "store/store.h"

enum vt_err vt_seal_gcm(const uint8_t key[32], const char *aad, const uint8_t *pt, size_t n,
                        struct vt_buf *out, struct vt_diag *d)
{
    uint8_t iv[12], tag[16];
    VT_TRY(vt_random_bytes(iv, sizeof(iv), d));
    VT_ENSURE(n <= VT_SEALED_MAX, d, VT_E_TOO_LARGE, "secret", "secret of %zu bytes exceeds %u", n,
              VT_SEALED_MAX);
    VT_TRY(vt_buf_append(out, iv, sizeof(iv)));
    size_t at = out->len;
    VT_TRY(vt_buf_append(out, pt, n)); /* room for the ciphertext, overwritten below */
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l = 0;
    bool ok = c != NULL && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv) == 1 &&
              EVP_EncryptUpdate(c, NULL, &l, (const uint8_t *)aad, (int)strlen(aad)) == 1 &&
              EVP_EncryptUpdate(c, out->data + at, &l, pt, (int)n) == 1 &&
              EVP_EncryptFinal_ex(c, out->data + at + l, &l) == 1 &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    VT_ENSURE(ok, d, VT_E_CRYPTO, "seal", "AES-256-GCM encryption failed");
    return vt_buf_append(out, tag, sizeof(tag));
}

enum vt_err vt_unseal_gcm(const uint8_t key[32], const char *aad, const uint8_t *ct, size_t n,
                          struct vt_buf *out, struct vt_diag *d)
{
    VT_ENSURE(n >= 28 && n - 28 <= VT_SEALED_MAX, d, VT_E_TRUNCATED, "unseal",
              "sealed value of %zu bytes is too short or too long", n);
    size_t len = n - 28, at = out->len;
    VT_TRY(vt_buf_append(out, ct + 12, len)); /* room, overwritten by the plaintext */
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l = 0;
    bool ok = c != NULL && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, ct) == 1 &&
              EVP_DecryptUpdate(c, NULL, &l, (const uint8_t *)aad, (int)strlen(aad)) == 1 &&
              EVP_DecryptUpdate(c, out->data + at, &l, ct + 12, (int)len) == 1 &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(ct + n - 16)) == 1 &&
              EVP_DecryptFinal_ex(c, out->data + at + l, &l) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        vt_wipe(out->data + at, len);
        out->len = at;
        return vt_fail(d, VT_E_CRYPTO, "unseal",
                       "AES-256-GCM authentication failed for \"%s\" (wrong key or altered data)",
                       aad);
    }
    return VT_OK;
}
