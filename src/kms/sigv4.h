/*
 * AWS Signature Version 4: verification of signed requests, as AWS services check them
 * (docs/kms.md, "Authentication"). Both forms: the Authorization header
 * ("AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/REGION/SERVICE/aws4_request, SignedHeaders=...,
 * Signature=...") with X-Amz-Date, and the query form (X-Amz-Algorithm, X-Amz-Credential,
 * X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature). The canonical request is
 * rebuilt from the request as received (method, path, query, the signed headers, the payload's
 * SHA-256), the string to sign from it, and the signature compared in constant time with the
 * one derived from the access key's secret. The credential scope's date must be the request
 * date's, its service the expected one, its region one the server accepts; the request time must
 * be within the skew limit of now; `host` must be signed; an X-Amz-Content-Sha256 header, when
 * present, must be the body's hash.
 *
 * Internal to the veritee tree (src/), not installed.
 */
#ifndef VT_KMS_SIGV4_H
#define VT_KMS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veritee/error.h>
#include <veritee/time.h>

/* AWS's limit on the difference between a request's time and the server's: 15 minutes. */
#define VT_SIGV4_MAX_SKEW 900
#define VT_SIGV4_ACCESS_KEY_MAX 128
#define VT_SIGV4_SECRET_MAX 128

struct vt_sigv4_header {
    const char *name; /* as received (any case) */
    const char *value;
};

/* A request as received, borrowed. Headers may repeat (their values are joined with ","). */
struct vt_sigv4_request {
    const char *method;
    const char *path;  /* the request target's path, still percent-encoded as sent */
    const char *query; /* the part after '?', still encoded, or NULL / "" */
    const struct vt_sigv4_header *headers;
    size_t n_headers;
    const uint8_t *body;
    size_t body_len;
};

/*
 * The secret of an access key id, copied into secret (NUL-terminated) with the principal it
 * maps to; false if the id is unknown (or disabled).
 */
typedef bool (*vt_sigv4_secret_fn)(void *ctx, const char *access_key_id,
                                   char secret[VT_SIGV4_SECRET_MAX], char *principal,
                                   size_t principal_cap);

struct vt_sigv4_expect {
    const char *service;        /* "kms" */
    const char *const *regions; /* accepted regions (NULL-terminated), or NULL: any */
    vt_time now;                /* the server's time */
    int64_t max_skew;           /* seconds; 0: VT_SIGV4_MAX_SKEW */
    vt_sigv4_secret_fn secret;
    void *ctx;
};

/* What a verified request was signed by. */
struct vt_sigv4_result {
    char access_key_id[VT_SIGV4_ACCESS_KEY_MAX];
    char principal[256];
    char region[64];
    vt_time signed_at;
};

/*
 * The AWS error a refusal answers with: its __type (as KMS returns it) and HTTP status.
 */
enum vt_sigv4_refusal {
    VT_SIGV4_OK = 0,
    VT_SIGV4_MISSING,       /* MissingAuthenticationTokenException (no signature at all) */
    VT_SIGV4_INCOMPLETE,    /* IncompleteSignatureException (malformed header or query form) */
    VT_SIGV4_UNKNOWN_KEY,   /* UnrecognizedClientException (the access key id is not known) */
    VT_SIGV4_BAD_SIGNATURE, /* InvalidSignatureException (does not match; also a wrong scope) */
    VT_SIGV4_EXPIRED, /* InvalidSignatureException "Signature expired" (skew, X-Amz-Expires) */
};
const char *vt_sigv4_refusal_type(enum vt_sigv4_refusal r); /* e.g. "InvalidSignatureException" */
unsigned vt_sigv4_refusal_status(enum vt_sigv4_refusal r);  /* the HTTP status (400 or 403) */

/*
 * Verify req. VT_OK with *res filled, or a failure with *refusal set and the diag naming the check
 * (sigv4.header, sigv4.credential, sigv4.scope, sigv4.date, sigv4.skew, sigv4.signed_headers,
 * sigv4.payload, sigv4.signature, ...) and the values involved.
 */
VT_MUST_USE enum vt_err vt_sigv4_verify(const struct vt_sigv4_request *req,
                                        const struct vt_sigv4_expect *exp,
                                        struct vt_sigv4_result *res, enum vt_sigv4_refusal *refusal,
                                        struct vt_diag *d);

/*
 * Sign a request (the client side, for veritee's own tools and tests): adds nothing to req, but
 * writes the Authorization header's value and the X-Amz-Date value the caller must send. The
 * signed headers are the request's headers (host must be among them) plus x-amz-date.
 */
VT_MUST_USE enum vt_err vt_sigv4_sign(const struct vt_sigv4_request *req, const char *access_key_id,
                                      const char *secret, const char *region, const char *service,
                                      vt_time at, char *authorization, size_t auth_cap,
                                      char amz_date[17], struct vt_diag *d);

#endif
