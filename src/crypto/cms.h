/*
 * CMS EnvelopedData as AWS KMS returns it in CiphertextForRecipient: ContentInfo(envelopedData)
 * holding EnvelopedData v2 with one KeyTransRecipientInfo v2 (rid = [0] subjectKeyIdentifier,
 * RSAES-OAEP with SHA-256 and MGF1-SHA-256) and content encrypted with AES-256-CBC (16-byte IV),
 * the encrypted content either a constructed [0] of OCTET STRINGs or a primitive [0] IMPLICIT.
 * BER (indefinite lengths, as KMS sends) and DER are both accepted.
 * Reference: RFC 5652, RFC 8017; aws-nitro-enclaves-sdk-c source/cms.c behaviour.
 */
#ifndef VT_CRYPTO_CMS_H
#define VT_CRYPTO_CMS_H

#include <veritee/buf.h>
#include <veritee/common.h>
#include <veritee/error.h>

#include "crypto/crypto.h" /* struct vt_key, its constructors */

#define VT_CMS_MAX_SIZE (1024u * 1024u)

struct vt_cms_enveloped {
    const uint8_t *rid_ski; /* subjectKeyIdentifier of the recipient, borrowed */
    size_t rid_ski_len;
    const uint8_t *encrypted_key; /* RSA-OAEP ciphertext of the content-encryption key, borrowed */
    size_t encrypted_key_len;
    uint8_t iv[16];
    struct vt_buf ciphertext; /* owned: the concatenated encrypted content */
};

/*
 * Parse a CiphertextForRecipient blob. Any other structure (other content types, versions,
 * algorithms, more than one recipient, a missing end-of-contents, trailing bytes) is rejected:
 * VT_E_BAD_DER (encoding), VT_E_UNSUPPORTED_ALGORITHM, VT_E_UNSUPPORTED_VERSION, VT_E_BAD_FIELD,
 * VT_E_TRUNCATED, VT_E_TRAILING_DATA, VT_E_TOO_LARGE; the detail names the element. The input
 * must outlive the struct. vt_cms_enveloped_cleanup is safe after a failed parse.
 */
VT_MUST_USE enum vt_err vt_cms_enveloped_parse(const uint8_t *ber, size_t len,
                                               struct vt_cms_enveloped *out, struct vt_diag *d);
void vt_cms_enveloped_cleanup(struct vt_cms_enveloped *e);

/* The recipient's key is a struct vt_key (crypto.h): vt_key_from_rsa_private, or
 * vt_key_generate(VT_KEY_RSA, bits, ...); its public half as DER by vt_key_spki_der. */

/*
 * Decrypt: RSA-OAEP-SHA-256 unwraps the 32-byte content-encryption key, then AES-256-CBC with
 * PKCS#7 padding. plaintext receives the content (wiped by vt_buf_cleanup). Errors:
 * VT_E_SIGNATURE is never used; a wrong key or corrupted ciphertext is VT_E_CRYPTO with the
 * stage ("key unwrap", "content") in the detail; VT_E_ARG for a key that is not a private RSA
 * key. The content-encryption key is wiped after use.
 */
VT_MUST_USE enum vt_err vt_cms_decrypt(const struct vt_cms_enveloped *e, const struct vt_key *k,
                                       struct vt_buf *plaintext, struct vt_diag *d);

/*
 * Produce a CiphertextForRecipient-format blob (DER) for a recipient RSA public key given as DER
 * SubjectPublicKeyInfo: a fresh random AES-256 key and IV, the key wrapped with RSA-OAEP-SHA-256,
 * rid = SHA-256 of the SubjectPublicKeyInfo as subjectKeyIdentifier. VT_E_BAD_KEY if spki is not
 * an RSA key of 2048 bits or more.
 */
VT_MUST_USE enum vt_err vt_cms_encrypt_for_recipient(const uint8_t *spki, size_t spki_len,
                                                     const uint8_t *plaintext, size_t len,
                                                     struct vt_buf *out, struct vt_diag *d);

#endif
