/*
 * The pieces of Azure Key Vault's Secure Key Release that need OpenSSL (docs/skr.md):
 *
 *  - CKM_RSA_AES_KEY_WRAP and its SHA-2 variants (SPEC: PKCS#11 v2.40 section 2.1.21; Azure Key
 *    Vault BYOK specification, "key transfer blob"): a fresh AES-256 key is encrypted to an RSA
 *    key with RSA-OAEP (the digest and MGF1 digest both SHA-1, SHA-256 or SHA-384, empty label),
 *    the key material is wrapped with that AES key by AES Key Wrap with Padding (RFC 5649), and
 *    the result is the RSA ciphertext (the modulus size) followed by the wrapped material.
 *  - A key's private half as DER PKCS#8 (what the wrap carries for RSA and EC keys).
 *  - A self-signed certificate for the release responses' signing key (their x5c).
 */
#ifndef VT_CRYPTO_RSA_AES_WRAP_H
#define VT_CRYPTO_RSA_AES_WRAP_H

#include <veritee/buf.h>
#include <veritee/common.h>
#include <veritee/error.h>

#include "crypto/jose.h"

enum vt_rsa_aes_hash { VT_RSA_AES_SHA1, VT_RSA_AES_SHA256, VT_RSA_AES_SHA384 };

/* Largest material vt_rsa_aes_key_wrap takes (an RSA-4096 PKCS#8 is about 2.4 KB). */
#define VT_RSA_AES_MATERIAL_MAX (16u << 10)

/*
 * Wrap pt[n] (1..VT_RSA_AES_MATERIAL_MAX bytes) to the RSA public key of `kek`: the RSA-OAEP
 * ciphertext of a fresh AES-256 key, then AES-KWP of pt under it, appended to out. Errors:
 * VT_E_ARG ("rsa_aes.kek": not an RSA key; "rsa_aes.material": size), VT_E_CRYPTO, and
 * vt_buf_append's. The AES key is wiped.
 */
VT_MUST_USE enum vt_err vt_rsa_aes_key_wrap(const struct vt_jwk *kek, enum vt_rsa_aes_hash hash,
                                            const uint8_t *pt, size_t n, struct vt_buf *out,
                                            struct vt_diag *d);

/*
 * The reverse, with kek's private half (tests and tools): the material is appended to out.
 * VT_E_BAD_LENGTH ("rsa_aes.blob": shorter than the modulus plus 16), VT_E_CRYPTO
 * ("rsa_aes.unwrap": wrong key or altered blob).
 */
VT_MUST_USE enum vt_err vt_rsa_aes_key_unwrap(const struct vt_jwk *kek, enum vt_rsa_aes_hash hash,
                                              const uint8_t *blob, size_t n, struct vt_buf *out,
                                              struct vt_diag *d);

/* Append k's private half as DER PKCS#8 (PrivateKeyInfo) to out. VT_E_STATE ("jwk.private") if
 * k has none, VT_E_CRYPTO. The caller wipes out (vt_buf_cleanup does). */
VT_MUST_USE enum vt_err vt_jwk_private_pkcs8_der(const struct vt_jwk *k, struct vt_buf *out,
                                                 struct vt_diag *d);

/*
 * Append a self-signed X.509 v3 certificate (DER) of k's public key to out, signed by k (RSA
 * with SHA-256, or ECDSA with SHA-256/384), subject and issuer "CN=<cn>", valid from not_before
 * for `days` days, a random serial, basicConstraints CA:FALSE, keyUsage digitalSignature.
 * VT_E_STATE ("jwk.private"), VT_E_ARG ("cert.cn": empty or over 64 bytes), VT_E_CRYPTO.
 */
VT_MUST_USE enum vt_err vt_jwk_self_signed_der(const struct vt_jwk *k, const char *cn,
                                               int64_t not_before, unsigned days,
                                               struct vt_buf *out, struct vt_diag *d);

/*
 * A private key from the members of a JSON Web Key (what Key Vault's import takes; RFC 7518
 * section 6): RSA with n, e, d, p, q, dp, dq, qi (all required; 2048..8192 bits, the pair checked),
 * or EC with crv (P-256, P-384, P-521), x, y, d (the point on the curve and matching d). Values
 * are base64url. *out is a key with its private half, as vt_jwk_from_private_pem makes. Errors:
 * VT_E_MISSING_FIELD / VT_E_BAD_BASE64 ("jwk.<member>"), VT_E_UNSUPPORTED_ALGORITHM ("jwk.kty",
 * "jwk.crv"), VT_E_BAD_KEY ("jwk.private": the members do not make a consistent key), and
 * vt_jwk_from_private_pem's.
 */
VT_MUST_USE enum vt_err vt_jwk_private_from_json(const struct json_t *jwk, struct vt_jwk **out,
                                                 struct vt_diag *d);

/*
 * The RSA public key of an X.509 certificate (DER), as a JWK: what an attestation service's
 * /certs publishes as a JWK with only "x5c". The certificate's dates and issuer are not checked:
 * the administrator trusts the key by configuring it. VT_E_BAD_CERT ("jwk.x5c": not a
 * certificate), VT_E_UNSUPPORTED_ALGORITHM ("jwk.x5c": not an RSA key), vt_jwk_from_json's.
 */
VT_MUST_USE enum vt_err vt_jwk_from_cert_der(const uint8_t *der, size_t n, struct vt_jwk **out,
                                             struct vt_diag *d);

#endif
