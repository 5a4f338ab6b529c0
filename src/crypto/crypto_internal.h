/*
 * Private to src/crypto/: the certificate object shared by cert.c, chain.c and crl.c, and the
 * helpers that turn OpenSSL's conventions (error queue, ASN1_TIME, X509_NAME) into veritee's.
 * Nothing outside src/crypto/ includes this header.
 */
#ifndef VT_CRYPTO_INTERNAL_H
#define VT_CRYPTO_INTERNAL_H

#include <stdatomic.h>

#include <openssl/asn1.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"
#include "base/reader.h"

/* Room for the library's messages inside a vt_diag detail that also names the values. */
#define VT_CRYPTO_ERRTEXT_MAX 200

struct vt_cert {
    atomic_size_t refs;
    X509 *x509;   /* owned; immutable after parsing */
    uint8_t *der; /* owned copy of the exact input bytes */
    size_t der_len;
    vt_time not_before;
    vt_time not_after;
};

/*
 * Drain OpenSSL's (thread-local) error queue into out[cap] as "lib:reason; ..." text, or
 * "no detail from the library" if it was empty. Always leaves the queue empty.
 */
void vt_crypto_errors(char *out, size_t cap);

/* Convert an ASN1_TIME (UTCTime or GeneralizedTime) to seconds since the epoch. VT_E_BAD_TIME if
 * OpenSSL cannot parse it. Records nothing. */
VT_MUST_USE enum vt_err vt_crypto_asn1_time(const ASN1_TIME *t, vt_time *out);

/* A name as one-line text in its DER order ("CN=...,O=..."), truncated to cap (cap > 0). */
void vt_crypto_name_text(const X509_NAME *name, char *out, size_t cap);

/* "cert <pos> (CN=...)" for diag details: the subject CN, or the whole subject if it has none. */
void vt_crypto_cert_label(const struct vt_cert *c, size_t pos, char *out, size_t cap);

/* vt_cert_check_signed_by with the check name given by the caller. */
VT_MUST_USE enum vt_err vt_crypto_check_signed_by(const struct vt_cert *child,
                                                  const struct vt_cert *issuer, const char *check,
                                                  struct vt_diag *d);

/*
 * Decode one PEM block "-----BEGIN <label>-----" ... "-----END <label>-----" at the reader (which
 * must be positioned at the BEGIN line) into a malloc'd DER buffer of at most max bytes, and move
 * the reader past the END line. On failure the reader is unchanged and *why says what was wrong:
 * VT_E_BAD_PEM (markers or base64), VT_E_TOO_LARGE, VT_E_NOMEM. Records nothing.
 */

VT_MUST_USE enum vt_err vt_crypto_pem_block(struct vt_reader *r, const char *label, size_t max,
                                            uint8_t **der, size_t *len, const char **why);

/* PEM and text helpers shared with crl.c. */
bool vt_crypto_is_space(uint8_t c);
/* Skip spaces, tabs, CR and LF. */
void vt_crypto_skip_space(struct vt_reader *r);
/* True if every byte left is whitespace or NUL (the tail that files and quotes carry). */
bool vt_crypto_only_tail(const struct vt_reader *r);

/* The certificate's public key (borrowed) if it is EC on the curve `nid` (named `curve` in
 * messages); VT_E_UNSUPPORTED_ALGORITHM otherwise. */
enum vt_err vt_crypto_cert_ec_key(const struct vt_cert *c, int nid, const char *curve,
                                  EVP_PKEY **out, struct vt_diag *d);

/* A checked P-384 key from a raw X||Y point (p384.c); label names its origin in messages ("a raw
 * P-384 key", "[subject]" of its certificate). VT_E_BAD_KEY if the point is not on the curve. */
VT_MUST_USE enum vt_err vt_crypto_p384_key_new(const uint8_t xy[96], const char *label,
                                               struct vt_p384_key **out, struct vt_diag *d);
/* The key's label (borrowed). */
const char *vt_crypto_p384_key_label(const struct vt_p384_key *k);

/*
 * RSA-OAEP with SHA-256, MGF1-SHA-256 and the empty label (oaep.c), the one OAEP set-up for JWE
 * RSA-OAEP-256 and KMS's CMS: encrypt or decrypt in[n] into out; *outn is the room on entry and the
 * length on return. False on failure, with the reason left in OpenSSL's error queue.
 */
bool vt_crypto_oaep(EVP_PKEY *pkey, bool encrypt, const uint8_t *in, size_t n, uint8_t *out,
                    size_t *outn);

#endif
