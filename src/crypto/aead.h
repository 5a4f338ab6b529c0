/*
 * The one AEAD of veritee: AES-256-GCM with a 96-bit nonce and a 128-bit tag (SPEC: NIST SP
 * 800-38D; RFC 7518 section 5.3, A256GCM). JWE content encryption (jose.c) and the values sealed
 * at rest (the broker's data keys, secrets, signing keys and master-key check; the cache's
 * bundle-signing key) go through it; nothing else in the tree calls a cipher for them.
 *
 * Internal to the veritee tree (src/), not installed.
 */
#ifndef VT_CRYPTO_AEAD_H
#define VT_CRYPTO_AEAD_H

#include <veritee/buf.h>
#include <veritee/common.h>
#include <veritee/error.h>

#define VT_AEAD_KEY_LEN 32
#define VT_AEAD_NONCE_LEN 12
#define VT_AEAD_TAG_LEN 16
/* Largest plaintext vt_aead_seal takes (and vt_aead_open gives back). */
#define VT_AEAD_SEAL_MAX (64u << 10)

/*
 * Encrypt pt[n] (n <= INT_MAX; pt may be NULL when n is 0) under key and nonce, authenticating
 * aad[aadn] too: ct gets n bytes (ct may equal pt), tag the 16-byte tag. VT_E_CRYPTO if the
 * library fails, VT_E_TOO_LARGE past INT_MAX. Records nothing: callers name the value.
 */
VT_MUST_USE enum vt_err vt_aead_encrypt(const uint8_t key[VT_AEAD_KEY_LEN],
                                        const uint8_t nonce[VT_AEAD_NONCE_LEN], const void *aad,
                                        size_t aadn, const uint8_t *pt, size_t n, uint8_t *ct,
                                        uint8_t tag[VT_AEAD_TAG_LEN]);

/*
 * Decrypt ct[n] and check tag over aad and ct: pt gets n bytes (pt may equal ct) only once the tag
 * verifies; on VT_E_CRYPTO (tag mismatch: wrong key, altered data) pt[0..n) is wiped. Records
 * nothing.
 */
VT_MUST_USE enum vt_err vt_aead_decrypt(const uint8_t key[VT_AEAD_KEY_LEN],
                                        const uint8_t nonce[VT_AEAD_NONCE_LEN], const void *aad,
                                        size_t aadn, const uint8_t *ct, size_t n,
                                        const uint8_t tag[VT_AEAD_TAG_LEN], uint8_t *pt);

/*
 * Values sealed at rest: a fresh random nonce, the NUL-terminated aad (naming the value's role
 * and row, so that a sealed value cannot be moved to another row), and the sealed form nonce (12)
 * || ciphertext || tag (16) appended to out. Plaintexts of at most VT_AEAD_SEAL_MAX bytes:
 * VT_E_TOO_LARGE ("secret") beyond; VT_E_CRYPTO ("seal") if the library fails; vt_buf_append's
 * errors.
 */
VT_MUST_USE enum vt_err vt_aead_seal(const uint8_t key[VT_AEAD_KEY_LEN], const char *aad,
                                     const uint8_t *pt, size_t n, struct vt_buf *out,
                                     struct vt_diag *d);

/*
 * Open a sealed value ct[n] made by vt_aead_seal with the same key and aad; the plaintext is
 * appended to out. VT_E_TRUNCATED ("unseal") for a length that no sealed value has, VT_E_CRYPTO
 * ("unseal") for a wrong key or altered data (nothing is appended then).
 */
VT_MUST_USE enum vt_err vt_aead_open(const uint8_t key[VT_AEAD_KEY_LEN], const char *aad,
                                     const uint8_t *ct, size_t n, struct vt_buf *out,
                                     struct vt_diag *d);

#endif
