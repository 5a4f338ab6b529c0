/*
 * Making and reading the certificates of attested TLS (docs/attested-tls.md) at the crypto
 * boundary: key generation of the types a TLS certificate uses, self-signed certificates carrying
 * extensions given as bytes, the extensions and public key of a parsed certificate, and the leaf
 * of an OpenSSL X509_STORE_CTX (libcrypto only: never libssl).
 *
 * Internal to the veritee tree (src/), not installed.
 */
#ifndef VT_CRYPTO_X509_MAKE_H
#define VT_CRYPTO_X509_MAKE_H

#include "crypto/crypto.h"

/* ---- making ---- */

/*
 * A new key pair for a certificate: "P-256", "P-384", "RSA-2048" or "RSA-3072" (NULL: "P-256").
 * VT_E_ARG ("x509.key_type") naming anything else; VT_E_CRYPTO if generation fails.
 */
VT_MUST_USE enum vt_err vt_x509_key_generate(const char *type, struct vt_key **out,
                                             struct vt_diag *d);

/* One extension of a certificate being made: the dotted OID, or the OID's content octets (the
 * bytes after the OBJECT IDENTIFIER tag and length) when oid_der is set, and the extnValue
 * content. */
struct vt_x509_ext {
    const char *oid;
    const uint8_t *oid_der;
    size_t oid_der_len;
    bool critical;
    const uint8_t *value;
    size_t value_len;
};

struct vt_x509_template {
    const char *common_name;
    const char *const *dns; /* subjectAltName dNSName entries (none: no extension) */
    size_t n_dns;
    vt_time not_before, not_after;
    const struct vt_x509_ext *exts;
    size_t n_exts;
};

/*
 * A self-signed X.509 v3 certificate for k (with its private half) from t: a random positive
 * 128-bit serial, subject = issuer = CN, basicConstraints cA=FALSE, keyUsage digitalSignature
 * (and keyEncipherment for RSA), extendedKeyUsage serverAuth and clientAuth, the SANs, then t's
 * extensions in order; signed with SHA-256 (ECDSA or RSA PKCS#1 v1.5; SHA-384 for P-384).
 * Appended to pem_out as PEM. VT_E_ARG for a bad template (check "x509.template"), VT_E_CRYPTO.
 */
VT_MUST_USE enum vt_err vt_x509_self_signed(const struct vt_key *k,
                                            const struct vt_x509_template *t,
                                            struct vt_buf *pem_out, struct vt_diag *d);

/* ---- reading ---- */

/* Number of extensions of c. */
size_t vt_cert_ext_count(const struct vt_cert *c);
/*
 * Extension i (< vt_cert_ext_count) of c: its OID in dotted form into oid[cap] (truncated to
 * cap; OpenSSL decodes the content octets whatever they are), criticality, and the extnValue
 * content (borrowed from c). VT_E_ARG for a bad index.
 */
VT_MUST_USE enum vt_err vt_cert_ext_at(const struct vt_cert *c, size_t i, char *oid, size_t cap,
                                       bool *critical, const uint8_t **val, size_t *len);
/* Replace out's contents by c's DER SubjectPublicKeyInfo. VT_E_BAD_CERT ("cert.spki"). */
VT_MUST_USE enum vt_err vt_cert_spki(const struct vt_cert *c, struct vt_buf *out,
                                     struct vt_diag *d);
/* Replace out's contents by c's public key as PEM ("-----BEGIN PUBLIC KEY-----", 64-character
 * lines, a final newline), NUL not included. VT_E_BAD_CERT ("cert.public_key_pem"). */
VT_MUST_USE enum vt_err vt_cert_pubkey_pem(const struct vt_cert *c, struct vt_buf *out,
                                           struct vt_diag *d);

/* ---- OpenSSL's X509_STORE_CTX ---- */

struct x509_store_ctx_st;

/* Replace out's contents by the DER of the certificate being verified (the peer's leaf).
 * VT_E_BAD_CERT ("atls.callback") when there is none. */
VT_MUST_USE enum vt_err vt_x509_store_leaf(struct x509_store_ctx_st *s, struct vt_buf *out,
                                           struct vt_diag *d);
/* Mark the store's verification as refused by the application (X509_V_ERR_APPLICATION_
 * VERIFICATION), so OpenSSL reports a certificate verify failure. */
void vt_x509_store_refuse(struct x509_store_ctx_st *s);

#endif
