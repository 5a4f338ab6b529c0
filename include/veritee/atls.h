/*
 * Attested TLS (docs/attested-tls.md): X.509 certificates that prove the TEE holding their key,
 * and their verification by any OpenSSL client or server.
 *
 * Two kinds of certificate:
 *  - evidence in the certificate: a self-signed certificate whose extension carries the TEE's
 *    evidence, with report data bound to the certificate's SubjectPublicKeyInfo, in the formats
 *    other projects use (Intel/Gramine RA-TLS for SGX and TDX, Open Enclave's attested TLS) and a
 *    CBOR CMW form (draft-ietf-rats-msg-wrap) for SEV-SNP and Nitro;
 *  - issued by a veritee broker: after a successful attestation the broker signs a short-lived
 *    certificate for the workload's key with its CA, carrying the appraisal in an extension; a
 *    client then needs only the broker's CA certificate and a policy.
 *
 * Verification of either kind gives the same claims as vt_verify, checked against an optional
 * policy. libcrypto only: the callback is for SSL_CTX_set_cert_verify_callback, which hands it
 * an X509_STORE_CTX and the argument it was registered with, so libveritee does not link libssl.
 */
#ifndef VERITEE_ATLS_H
#define VERITEE_ATLS_H

#include <veritee/buf.h>
#include <veritee/claims.h>
#include <veritee/common.h>
#include <veritee/error.h>
#include <veritee/time.h>

struct vt_verifier;
struct vt_policy;
struct vt_cert_list;
struct vt_attester;
struct x509_store_ctx_st; /* OpenSSL's X509_STORE_CTX */

enum vt_atls_format {
    VT_ATLS_NONE = 0,
    VT_ATLS_RATLS_SGX, /* Intel/Gramine RA-TLS: an SGX DCAP quote in its extension */
    VT_ATLS_RATLS_TDX, /* the same for a TDX quote */
    VT_ATLS_OE,        /* Open Enclave attested TLS: an OE evidence extension (SGX) */
    VT_ATLS_CMW,       /* a CBOR CMW collection in an extension: SEV-SNP report or Nitro document */
    VT_ATLS_BROKER,    /* issued by a veritee broker's CA, the appraisal in an extension */
};

/* Stable name: "ratls-sgx", "ratls-tdx", "oe", "cmw", "broker"; "none" otherwise. */
VT_EXPORT const char *vt_atls_format_name(enum vt_atls_format f);
/* The format named so (as above); VT_ATLS_NONE for anything else. */
VT_EXPORT enum vt_atls_format vt_atls_format_parse(const char *name);

/* ---- making an evidence-carrying certificate (attester side) ---- */

struct vt_atls_cert_opts {
    enum vt_atls_format format; /* VT_ATLS_NONE: the usual one for the attester's TEE */
    const char *key_type;       /* "P-256" (default), "P-384", "RSA-2048", "RSA-3072" */
    const char *common_name;    /* subject CN; NULL: "veritee attested TLS" */
    const char *const *dns;     /* subjectAltName dNSName entries (may be NULL) */
    size_t n_dns;
    vt_time not_before;       /* 0: now */
    int64_t validity_seconds; /* 0: 86400 */
};

/*
 * Generate a key, have the attester produce evidence whose report data binds the key's
 * SubjectPublicKeyInfo as the format defines, and write a self-signed certificate carrying that
 * evidence (PEM into cert_pem) and its private key (PKCS#8 PEM into key_pem; the caller wipes it:
 * vt_buf_cleanup does). Errors: VT_E_ARG (a format the attester's TEE cannot produce, naming
 * both), the attester's errors, VT_E_CRYPTO, VT_E_NOMEM.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_atls_cert_create(struct vt_attester *a,
                                                      const struct vt_atls_cert_opts *o,
                                                      struct vt_buf *cert_pem,
                                                      struct vt_buf *key_pem, struct vt_diag *d);

/* ---- verifying a certificate of either kind ---- */

struct vt_atls_verify_opts {
    vt_time now;                    /* validity, evidence and collateral are checked at this time */
    const struct vt_policy *policy; /* NULL: any verified evidence is accepted */
    /* Trusted broker CA certificates for VT_ATLS_BROKER certificates; NULL or empty: such
     * certificates are refused (VT_E_UNTRUSTED_ROOT). Borrowed. */
    const struct vt_cert_list *broker_cas;
};

/*
 * Verify one certificate (DER, the peer's leaf): its validity at o->now, then by its format
 * (recognised from its extensions): the evidence verified with v and bound to this
 * certificate's SubjectPublicKeyInfo, or the broker CA's signature and the appraisal extension;
 * then o->policy over the claims. On VT_OK, *claims_json gets the claims as vt_claims_to_json
 * writes them (heap, free(); for a broker certificate, the claims the broker appraised, as its
 * extension carries them) and *format says which kind it was (format may be NULL). Errors:
 * VT_E_BAD_CERT, VT_E_EXPIRED / VT_E_NOT_YET_VALID (check "atls.validity"), VT_E_CERT_EXTENSION
 * ("atls.extension": no attestation extension, or two), the extension reader's errors
 * ("atls.<format>.*"), vt_verify's errors, VT_E_BINDING ("atls.binding": report data does not
 * bind the key, with both digests), VT_E_UNTRUSTED_ROOT / VT_E_CERT_SIGNATURE ("atls.broker"),
 * VT_E_BINDING ("atls.policy": the policy denied, with its first failed rule in the detail).
 */
VT_EXPORT VT_MUST_USE enum vt_err
vt_atls_verify_cert(struct vt_verifier *v, const uint8_t *der, size_t len,
                    const struct vt_atls_verify_opts *o, char **claims_json,
                    enum vt_atls_format *format, struct vt_diag *d);

/*
 * The broker's appraisal extension (VT_ATLS_BROKER), non-critical, OID VT_ATLS_OID_BROKER (an
 * OID under the UUID arc 2.25 of ITU-T X.667, so it needs no registration). Its extnValue is a
 * DER UTF8String holding a JSON object, members:
 *   "v": 1,
 *   "claims": the appraised claims (vt_claims_to_json's object),
 *   "ear": the broker's EAR token for the attestation (compact JWS, ES256, docs/broker.md),
 *   "policy": the broker policy's name and "policy_digest" its SHA-256 (hex), if one applied,
 *   "log_index": the issuance's index in the broker's Merkle log.
 * The certificate's SubjectPublicKeyInfo is the workload's runtime key from the attestation.
 */
#define VT_ATLS_OID_BROKER "2.25.229478036226361393545283536436640327405"

/* ---- for OpenSSL clients and servers ---- */

struct vt_atls_ctx;

/*
 * A verification context for TLS: v and o (copied; the policy and CA list are borrowed and must
 * outlive it) plus a bounded cache of accepted certificates by SHA-256 of their DER, so repeated
 * connections to one server cost one evidence check (an entry lives until the certificate or
 * the evidence's collateral would no longer verify at the clock's time, at most max_age
 * seconds; 0: 300). Thread-safe. Errors: VT_E_ARG, VT_E_NOMEM.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_atls_ctx_new(struct vt_verifier *v,
                                                  const struct vt_atls_verify_opts *o,
                                                  int64_t max_age, struct vt_atls_ctx **out,
                                                  struct vt_diag *d);
VT_EXPORT void vt_atls_ctx_free(struct vt_atls_ctx *c);

/*
 * The callback for SSL_CTX_set_cert_verify_callback(ssl_ctx, vt_atls_verify_callback, ctx):
 * arg is a struct vt_atls_ctx. Verifies the peer's
 * leaf with vt_atls_verify_cert at the current time (ignoring the usual chain building: an
 * evidence certificate is self-signed; a broker certificate is checked against the context's
 * CAs). Returns 1 to accept, 0 to refuse (the handshake fails; the reason is kept, see below).
 * The current time is vt_time_now(), unless the context's options pinned o->now (non-zero): then
 * that time (tests, `veritee client connect --at`).
 */
VT_EXPORT int vt_atls_verify_callback(struct x509_store_ctx_st *store, void *arg);

/* The last verification's outcome on this thread through ctx: its error (VT_OK if accepted),
 * diag, and the accepted certificate's claims as JSON (heap, free(); NULL if refused; claims_json
 * may be NULL). */
VT_EXPORT enum vt_err vt_atls_ctx_last(const struct vt_atls_ctx *c, struct vt_diag *d,
                                       char **claims_json);

/* Additions (issue 21, the library side). */

/* Verify a peer certificate (DER) through c at `now`, as the callback does: a cache hit costs a
 * hash and a lookup; the outcome is recorded for vt_atls_ctx_last. For servers and tools that
 * get the peer's certificate another way. */
VT_EXPORT VT_MUST_USE enum vt_err vt_atls_ctx_verify_der(struct vt_atls_ctx *c, const uint8_t *der,
                                                         size_t len, vt_time now,
                                                         struct vt_diag *d);
/* Cache hits and misses (full verifications) of c so far. */
VT_EXPORT void vt_atls_ctx_stats(const struct vt_atls_ctx *c, uint64_t *hits, uint64_t *misses);

#endif
