/*
 * AES-256-GCM, the one AEAD (aead.h), over OpenSSL's EVP interface.
 *
 *   sealed value:  nonce (12) || ciphertext (n) || tag (16)
 */
#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "aead.h"
#include "crypto_internal.h"

/* One pass of GCM in either direction; for decryption `tag` is the expected tag. */
static bool aead_run(bool enc, const uint8_t key[VT_AEAD_KEY_LEN],
                     const uint8_t nonce[VT_AEAD_NONCE_LEN], const void *aad, size_t aadn,
                     const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[VT_AEAD_TAG_LEN])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l = 0;
    int fin = 0;
    uint8_t none[1]; /* GCM's final step writes nothing; a valid pointer when out is NULL */
    /* The default IV length of EVP_aes_256_gcm is 12 bytes, the nonce size here. */
    bool ok = c != NULL && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc) == 1 &&
              (aadn == 0 || EVP_CipherUpdate(c, NULL, &l, aad, (int)aadn) == 1);
    l = 0;
    ok = ok && (n == 0 || EVP_CipherUpdate(c, out, &l, in, (int)n) == 1) &&
         (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, VT_AEAD_TAG_LEN, tag) == 1) &&
         EVP_CipherFinal_ex(c, out != NULL ? out + l : none, &fin) == 1 &&
         (size_t)l + (size_t)fin == n &&
         (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, VT_AEAD_TAG_LEN, tag) == 1);
    EVP_CIPHER_CTX_free(c);
    ERR_clear_error();
    return ok;
}

enum vt_err vt_aead_encrypt(const uint8_t key[VT_AEAD_KEY_LEN],
                            const uint8_t nonce[VT_AEAD_NONCE_LEN], const void *aad, size_t aadn,
                            const uint8_t *pt, size_t n, uint8_t *ct, uint8_t tag[VT_AEAD_TAG_LEN])
{
    if (n > INT_MAX || aadn > INT_MAX) {
        return VT_E_TOO_LARGE;
    }
    return aead_run(true, key, nonce, aad, aadn, pt, n, ct, tag) ? VT_OK : VT_E_CRYPTO;
}

enum vt_err vt_aead_decrypt(const uint8_t key[VT_AEAD_KEY_LEN],
                            const uint8_t nonce[VT_AEAD_NONCE_LEN], const void *aad, size_t aadn,
                            const uint8_t *ct, size_t n, const uint8_t tag[VT_AEAD_TAG_LEN],
                            uint8_t *pt)
{
    if (n > INT_MAX || aadn > INT_MAX) {
        return VT_E_TOO_LARGE;
    }
    uint8_t want[VT_AEAD_TAG_LEN];
    memcpy(want, tag, sizeof(want));
    if (!aead_run(false, key, nonce, aad, aadn, ct, n, pt, want)) {
        if (n > 0) {
            vt_wipe(pt, n);
        }
        return VT_E_CRYPTO;
    }
    return VT_OK;
}

enum vt_err vt_aead_seal(const uint8_t key[VT_AEAD_KEY_LEN], const char *aad, const uint8_t *pt,
                         size_t n, struct vt_buf *out, struct vt_diag *d)
{
    uint8_t nonce[VT_AEAD_NONCE_LEN];
    uint8_t tag[VT_AEAD_TAG_LEN];
    VT_TRY(vt_random_bytes(nonce, sizeof(nonce), d));
    VT_ENSURE(n <= VT_AEAD_SEAL_MAX, d, VT_E_TOO_LARGE, "secret", "secret of %zu bytes exceeds %u",
              n, VT_AEAD_SEAL_MAX);
    size_t start = out->len;
    VT_TRY(vt_buf_append(out, nonce, sizeof(nonce)));
    size_t at = out->len;
    enum vt_err err = vt_buf_append(out, pt, n); /* room for the ciphertext, overwritten below */
    if (err == VT_OK && vt_aead_encrypt(key, nonce, aad, strlen(aad), out->data + at, n,
                                        out->data + at, tag) != VT_OK) {
        err = vt_fail(d, VT_E_CRYPTO, "seal", "AES-256-GCM encryption failed");
    }
    if (err == VT_OK) {
        err = vt_buf_append(out, tag, sizeof(tag));
    }
    if (err != VT_OK) {
        vt_wipe(out->data + start, out->len - start);
        out->len = start;
    }
    return err;
}

enum vt_err vt_aead_open(const uint8_t key[VT_AEAD_KEY_LEN], const char *aad, const uint8_t *ct,
                         size_t n, struct vt_buf *out, struct vt_diag *d)
{
    const size_t over = VT_AEAD_NONCE_LEN + VT_AEAD_TAG_LEN;
    VT_ENSURE(n >= over && n - over <= VT_AEAD_SEAL_MAX, d, VT_E_TRUNCATED, "unseal",
              "sealed value of %zu bytes is too short or too long", n);
    size_t len = n - over;
    size_t at = out->len;
    VT_TRY(vt_buf_append(out, ct + VT_AEAD_NONCE_LEN, len)); /* room, decrypted in place */
    if (vt_aead_decrypt(key, ct, aad, strlen(aad), out->data + at, len, ct + n - VT_AEAD_TAG_LEN,
                        out->data + at) != VT_OK) {
        out->len = at;
        return vt_fail(d, VT_E_CRYPTO, "unseal",
                       "AES-256-GCM authentication failed for \"%s\" (wrong key or altered data)",
                       aad);
    }
    return VT_OK;
}
