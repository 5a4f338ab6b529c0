/*
 * X.509 generator of the simulators (veritee_sim): P-256 keys, certificates with chosen names,
 * validity, CA constraints and extensions, CRLs, and the conversions tests need (DER, PEM, raw
 * r||s). Built on OpenSSL directly. Every function that can fail returns VT_OK, or an error with
 * the failed check in d (sim_assert.h: check "sim.x509.<function>", the failed OpenSSL call, the
 * values compared and OpenSSL's error queue): VT_E_CRYPTO for an OpenSSL failure, VT_E_NOMEM,
 * VT_E_ARG for an unusable argument. On failure the outputs are left untouched (NULL for the
 * caller's fresh pointers) and nothing is leaked. Outputs are owned by the caller: EVP_PKEY_free,
 * X509_free, X509_CRL_free, vt_cert_free, free() for byte and text buffers.
 */
#ifndef VT_TEST_X509_GEN_H
#define VT_TEST_X509_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"

/* A fresh P-256 key pair in *out. */
VT_MUST_USE enum vt_err vt_testgen_p256_key(EVP_PKEY **out, struct vt_diag *d);
/* The public key as raw X||Y (VT_E_ARG when key is not a P-256 key). */
VT_MUST_USE enum vt_err vt_testgen_p256_xy(EVP_PKEY *key, uint8_t xy[64], struct vt_diag *d);
/* ECDSA-SHA256 signature of msg as raw r||s (VT_E_ARG when key is not a P-256 key). */
VT_MUST_USE enum vt_err vt_testgen_p256_sign(EVP_PKEY *key, const void *msg, size_t n,
                                             uint8_t sig[64], struct vt_diag *d);

struct vt_testgen_cert_opts {
    const char *cn;        /* subject CN (NULL: none); the subject also has O=veritee test, C=US */
    EVP_PKEY *key;         /* subject public key */
    X509 *issuer;          /* issuer certificate; NULL: self-issued */
    const char *issuer_cn; /* overrides the issuer name (CN only) when not NULL */
    EVP_PKEY *signer;      /* signing key; NULL: key (self-signed) */
    int64_t not_before;
    int64_t not_after;
    long serial;
    bool ca;               /* basicConstraints cA=TRUE (critical) */
    bool no_basic;         /* omit basicConstraints */
    int pathlen;           /* pathLenConstraint when ca; < 0: none */
    const char *key_usage; /* keyUsage value, e.g. "critical,keyCertSign,cRLSign"; NULL none */
    const char *ext_oid;   /* an extra extension with raw DER value ext_der */
    const uint8_t *ext_der;
    size_t ext_len;
    bool ext_critical;
};

/* Build and sign a certificate into *out. */
VT_MUST_USE enum vt_err vt_testgen_cert(const struct vt_testgen_cert_opts *o, X509 **out,
                                        struct vt_diag *d);

/*
 * Another certificate made from `orig`: a copy with a new serial and validity, optionally another
 * subject key or another CN (in the subject and, for a self-issued orig, the issuer), and other
 * changes as asked, signed by `signer`. With signer = the key of a self-signed orig and nothing
 * else changed it is what a CA does to re-issue its root: same subject, same key, other bytes.
 * The signature algorithm follows the signer: ECDSA with SHA-256 (P-256) or SHA-384 (P-384),
 * RSASSA-PSS with SHA-384 and salt 48 (RSA, as AMD signs).
 */
struct vt_testgen_reissue_opts {
    EVP_PKEY *signer;      /* required */
    EVP_PKEY *key;         /* NULL: keep orig's public key */
    const char *cn;        /* NULL: keep the names; else the CN of the subject (and a self-issued
                            * orig's issuer) */
    const char *issuer_cn; /* not NULL: the issuer name's CN becomes this (not self-issued) */
    int64_t not_before, not_after;
    long serial;
    int pathlen; /* >= 0: basicConstraints cA=TRUE with this pathLenConstraint; < 0: keep */
    const char *critical_oid; /* not NULL: add this unknown extension, critical */
};
VT_MUST_USE enum vt_err vt_testgen_reissue(X509 *orig, const struct vt_testgen_reissue_opts *o,
                                           X509 **out, struct vt_diag *d);
/* DER (malloc'd) and PEM text (malloc'd, NUL-terminated; *len excludes the NUL). */
VT_MUST_USE enum vt_err vt_testgen_cert_der(X509 *x, uint8_t **out, size_t *len, struct vt_diag *d);
VT_MUST_USE enum vt_err vt_testgen_cert_pem(X509 *x, char **out, size_t *len, struct vt_diag *d);
/* x parsed by vt_cert_from_der (its error, as that reports it, when it does not parse). */
VT_MUST_USE enum vt_err vt_testgen_vt_cert(X509 *x, struct vt_cert **out, struct vt_diag *d);

/* A CRL by issuer/signer listing serials (revoked at this_update); next_update < 0: none. */
VT_MUST_USE enum vt_err vt_testgen_crl(X509 *issuer, EVP_PKEY *signer, const long *serials,
                                       size_t n, int64_t this_update, int64_t next_update,
                                       long number, X509_CRL **out, struct vt_diag *d);
VT_MUST_USE enum vt_err vt_testgen_crl_der(X509_CRL *crl, uint8_t **out, size_t *len,
                                           struct vt_diag *d);
VT_MUST_USE enum vt_err vt_testgen_crl_pem(X509_CRL *crl, char **out, size_t *len,
                                           struct vt_diag *d);

/*
 * A three-level PKI: root (CA, pathlen 1, keyCertSign+cRLSign), intermediate CA (pathlen 0,
 * keyCertSign+cRLSign) and leaf (no CA, digitalSignature), all valid over [nb, na] except the
 * leaf, valid over [leaf_nb, leaf_na].
 */
struct vt_testgen_pki {
    EVP_PKEY *root_key;
    EVP_PKEY *ca_key;
    EVP_PKEY *leaf_key;
    X509 *root;
    X509 *ca;
    X509 *leaf;
};

/* On failure p is left zeroed (nothing to clean up). */
VT_MUST_USE enum vt_err vt_testgen_pki_init(struct vt_testgen_pki *p, int64_t nb, int64_t na,
                                            int64_t leaf_nb, int64_t leaf_na, struct vt_diag *d);
void vt_testgen_pki_cleanup(struct vt_testgen_pki *p);
/* A vt_cert_list holding the given certificates in order; on failure l is left empty. */
VT_MUST_USE enum vt_err vt_testgen_list(struct vt_cert_list *l, X509 *const *certs, size_t n,
                                        struct vt_diag *d);

#endif
