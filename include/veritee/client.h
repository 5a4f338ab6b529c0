/*
 * The broker client, for programs running inside a TEE: challenge, evidence bound to the nonce
 * and a runtime key, attest, release, and unwrapping of the released secret (JWE, or KMS-style
 * CMS). Retries with backoff on transport errors, 429 and 5xx; TLS with a pinned CA (libcurl).
 * docs/client.md.
 */
#ifndef VERITEE_CLIENT_H
#define VERITEE_CLIENT_H

#include <veritee/attester.h>
#include <veritee/buf.h>
#include <veritee/common.h>
#include <veritee/error.h>

/*
 * The runtime key: a key pair that exists only in the TEE's memory, whose public half the
 * evidence binds and to which the broker wraps released secrets. Immutable; heap; vt_jwk_free
 * (NULL-safe) wipes the private half.
 */
struct vt_jwk;

/*
 * Generate a key with its private half. type is "RSA-2048", "RSA-3072", "RSA-4096", "P-256",
 * "P-384" or "P-521"; anything else is VT_E_UNSUPPORTED_ALGORITHM ("jwk.generate"). VT_E_CRYPTO if
 * the library fails. RSA keys can receive KMS-style CMS (vt_client_release's cms), every key a JWE.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_jwk_generate(const char *type, struct vt_jwk **out,
                                                  struct vt_diag *d);
VT_EXPORT void vt_jwk_free(struct vt_jwk *k);
/* The public JWK as compact JSON (the required public members, sorted: the RFC 7638 thumbprint
 * input). Heap (free()); NULL only when out of memory. */
VT_EXPORT char *vt_jwk_public_json(const struct vt_jwk *k);
/* Append the private key as unencrypted PKCS#8 PEM to out (a TLS server's key: the runtime key
 * of a certificate from vt_client_cert). VT_E_STATE ("jwk.private") if k has no private half.
 * The caller wipes the text (vt_buf_cleanup does). */
VT_EXPORT VT_MUST_USE enum vt_err vt_jwk_private_pem(const struct vt_jwk *k, struct vt_buf *out,
                                                     struct vt_diag *d);

struct vt_client_config {
    const char *url;     /* the broker's base URL, http:// or https:// */
    const char *ca_file; /* PEM: trust only this CA for https (pinning); NULL: system CAs */
    long timeout_ms;     /* per request; default 15000 */
    unsigned retries;    /* extra attempts on transport errors, 429 and 5xx (0: none) */
    long backoff_ms;     /* first retry delay, doubling; default 200 */
};

/*
 * Produce evidence for a challenge. For SGX, TDX and SEV-SNP put report_data (64 bytes,
 * SHA-512(nonce || thumbprint input)) in the report; for Nitro put nonce and spki (the runtime
 * key as DER SubjectPublicKeyInfo) in the document. vek: SEV-SNP's VCEK DER if the TEE has it
 * (certificate table), else leave empty.
 */
typedef enum vt_err (*vt_client_evidence_fn)(void *ctx, const uint8_t report_data[64],
                                             const uint8_t nonce[32], const uint8_t *spki,
                                             size_t spki_len, struct vt_buf *evidence,
                                             struct vt_buf *vek, struct vt_diag *d);

/* A vt_client_evidence_fn over an attester (ctx: the struct vt_attester * of
 * include/veritee/attester.h): report data for SGX/TDX/SEV-SNP, nonce and public key for Nitro. */
VT_EXPORT VT_MUST_USE enum vt_err
vt_client_attester_evidence(void *ctx, const uint8_t report_data[64], const uint8_t nonce[32],
                            const uint8_t *spki, size_t spki_len, struct vt_buf *evidence,
                            struct vt_buf *vek, struct vt_diag *d);

struct vt_client;

VT_EXPORT VT_MUST_USE enum vt_err vt_client_new(const struct vt_client_config *cfg,
                                                struct vt_client **out, struct vt_diag *d);
VT_EXPORT void vt_client_free(struct vt_client *c);

/* The outcome of a refused request: the HTTP status and the broker's reason id. */
struct vt_client_status {
    long http_status;
    char reason[96];
};

/*
 * challenge -> evidence -> /v1/attest. key: the runtime key (with its private half). *token and
 * *claims (heap) on success. A refusal is VT_E_UNAUTHORIZED (401; 403, a policy's denial) or
 * VT_E_ARG (400) with d->check "broker" and the broker's reason and detail; st (optional) gets the
 * HTTP status and reason, which tell a denial (403) from the rest.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_client_attest(struct vt_client *c, vt_client_evidence_fn fn,
                                                   void *ctx, const struct vt_jwk *key,
                                                   char **token, char **claims,
                                                   struct vt_client_status *st, struct vt_diag *d);

/*
 * Release key_name: with a token (from vt_client_attest), or with fresh evidence (token NULL:
 * challenge -> evidence -> release in one request). The secret is unwrapped with key into
 * secret (wiped by vt_buf_cleanup); *version and *receipt (heap JSON, optional) as the broker
 * gave them. cms: ask for KMS-style CMS (RSA keys) instead of JWE. Refusals as above, and
 * VT_E_NOT_FOUND for 404.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_client_release(struct vt_client *c, const char *key_name,
                                                    const char *token, vt_client_evidence_fn fn,
                                                    void *ctx, const struct vt_jwk *key, bool cms,
                                                    struct vt_buf *secret, uint32_t *version,
                                                    char **receipt, struct vt_client_status *st,
                                                    struct vt_diag *d);

/*
 * A certificate for key from the broker's CA (POST /v1/cert, docs/attested-tls.md): a PKCS#10
 * request signed by key (CN=profile) for the certificate profile `profile`, with a token (from
 * vt_client_attest for this key) or, token NULL, with fresh evidence (challenge -> evidence ->
 * /v1/cert in one request). *cert_pem (heap) gets the certificate; *response (optional, heap
 * JSON) the whole answer: certificate, ca, serial, not_before, not_after, log_index, receipt,
 * receipt_kid (and token, with evidence). Refusals as vt_client_release's.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_client_cert(struct vt_client *c, const char *profile,
                                                 const char *token, vt_client_evidence_fn fn,
                                                 void *ctx, const struct vt_jwk *key,
                                                 char **cert_pem, char **response,
                                                 struct vt_client_status *st, struct vt_diag *d);

/* report_data for a nonce and key: SHA-512(nonce || RFC 7638 thumbprint input). */
VT_EXPORT VT_MUST_USE enum vt_err vt_client_report_data(const uint8_t nonce[32],
                                                        const struct vt_jwk *key, uint8_t out[64],
                                                        struct vt_diag *d);

#endif
