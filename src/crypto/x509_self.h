/*
 * Self-signed certificates for service signing keys (the MAA drop-in publishes its token signing
 * key as a certificate in /certs' x5c, as MAA does), and RSA public JWKs from certificates (the
 * x5c of a signed MAA policy token). Internal to the veritee tree.
 */
#ifndef VT_CRYPTO_X509_SELF_H
#define VT_CRYPTO_X509_SELF_H

#include <veritee/buf.h>
#include <veritee/common.h>
#include <veritee/error.h>

#include "crypto/jose.h"

/*
 * A self-signed X.509 v3 certificate (DER, replacing der's contents) for the key of `key` (which
 * must hold its private half): subject = issuer = CN=cn, serial a random 64-bit positive number,
 * validity [not_before, not_after], basicConstraints CA:FALSE, keyUsage digitalSignature, signed
 * with SHA-256 (RSA PKCS#1 v1.5 or ECDSA). Errors: VT_E_ARG ("x509.key": no private half;
 * "x509.cn": empty or longer than 64 bytes), VT_E_CRYPTO with the library's reason, VT_E_NOMEM.
 */
VT_MUST_USE enum vt_err vt_x509_self_signed_der(const struct vt_jwk *key, const char *cn,
                                                vt_time not_before, vt_time not_after,
                                                struct vt_buf *der, struct vt_diag *d);

/*
 * The RSA public key of a DER certificate as a JWK (heap, vt_jwk_free). Only the key is read: no
 * chain, validity or usage check. Errors: VT_E_BAD_CERT ("x509.der"), VT_E_UNSUPPORTED_ALGORITHM
 * ("x509.key": not RSA), the vt_jwk_parse errors (size or exponent out of bounds), VT_E_NOMEM.
 */
VT_MUST_USE enum vt_err vt_x509_rsa_jwk(const uint8_t *der, size_t len, struct vt_jwk **out,
                                        struct vt_diag *d);

#endif
