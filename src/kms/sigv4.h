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
    int64_t max_skew;           /* seconds (at most 604800); 0: VT_SIGV4_MAX_SKEW */
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
 * The AWS error a refusal answers with: its __type (as KMS returns it) and HTTP status. KMS is an
 * AWS JSON-protocol service; such services answer each of these with 400. AWS's own messages,
 * as its services return them (the diag's detail repeats them where this code makes the same
 * check; docs/kms.md lists every check):
 *   MissingAuthenticationTokenException  "Request is missing Authentication Token"
 *   IncompleteSignatureException         "Authorization header requires 'Credential' parameter.
 *                                        Authorization header requires 'Signature' parameter. ...",
 *                                        "'...' not a valid key=value pair (missing equal-sign) in
 *                                        Authorization header", "'x' is named as a SignedHeader,
 *                                        but it does not exist in the HTTP request."
 *   UnrecognizedClientException          "The security token included in the request is invalid."
 *   InvalidSignatureException            "The request signature we calculated does not match the
 *                                        signature you provided. Check your AWS Secret Access Key
 *                                        and signing method. ...", "Signature expired: T is now
 *                                        earlier than B (NOW - 15 min.)", "Signature not yet
 *                                        current: T is still later than B (NOW + 15 min.)",
 *                                        "Credential should be scoped to a valid region, not 'r'."
 */
enum vt_sigv4_refusal {
    VT_SIGV4_OK = 0,
    VT_SIGV4_MISSING,       /* MissingAuthenticationTokenException (no signature at all) */
    VT_SIGV4_INCOMPLETE,    /* IncompleteSignatureException (malformed header, query form or
                               request; a required signed header missing) */
    VT_SIGV4_UNKNOWN_KEY,   /* UnrecognizedClientException (the access key id is not known; a
                               session token) */
    VT_SIGV4_BAD_SIGNATURE, /* InvalidSignatureException (does not match; also a wrong scope or
                               x-amz-content-sha256) */
    VT_SIGV4_EXPIRED, /* InvalidSignatureException "Signature expired" (skew, X-Amz-Expires) */
};
/* "" for VT_SIGV4_OK; "InvalidSignatureException" for a value outside the enum. Never NULL. */
const char *vt_sigv4_refusal_type(enum vt_sigv4_refusal r); /* e.g. "InvalidSignatureException" */
/* 400 for every refusal (and for a value outside the enum), 200 for VT_SIGV4_OK. */
unsigned vt_sigv4_refusal_status(enum vt_sigv4_refusal r);

/*
 * Verify req. VT_OK with *res filled and *refusal VT_SIGV4_OK, or a failure with *refusal set and
 * the diag naming the check (sigv4.request, sigv4.query, sigv4.missing, sigv4.form,
 * sigv4.security_token, sigv4.header, sigv4.algorithm, sigv4.credential, sigv4.date,
 * sigv4.scope, sigv4.skew, sigv4.expires, sigv4.signed_headers, sigv4.payload, sigv4.signature,
 * sigv4.key, sigv4.size) and the values involved; *res is untouched then. Nothing else changes:
 * the secret callback is the only call out, made once the request is well formed, in time and
 * in scope. Format and bound errors are VT_E_MALFORMED, VT_E_TOO_LARGE, VT_E_BAD_PERCENT,
 * VT_E_BAD_TIME, VT_E_MISSING_FIELD, VT_E_DUPLICATE, VT_E_UNSUPPORTED(_ALGORITHM); a scope that
 * is not the server's VT_E_BAD_FIELD; the time VT_E_EXPIRED / VT_E_NOT_YET_VALID; a signature
 * or payload hash that does not match VT_E_SIGNATURE; no signature, an unknown key or a session
 * token VT_E_UNAUTHORIZED. The caller's own errors (VT_E_ARG: NULL pointers, no secret callback,
 * a service name that is not 1 to 63 of [a-z0-9-], a skew outside 0..604800 s, a time beyond
 * ±2^62 s; VT_E_NOMEM; VT_E_INTERNAL: a secret that is empty or not NUL-terminated) come with
 * *refusal VT_SIGV4_INCOMPLETE (never OK), and deserve a 500 rather than the refusal's status.
 */
VT_MUST_USE enum vt_err vt_sigv4_verify(const struct vt_sigv4_request *req,
                                        const struct vt_sigv4_expect *exp,
                                        struct vt_sigv4_result *res, enum vt_sigv4_refusal *refusal,
                                        struct vt_diag *d);

/*
 * Sign a request (the client side, for veritee's own tools and tests): adds nothing to req, but
 * writes the Authorization header's value and the X-Amz-Date value the caller must send. The
 * signed headers are the request's headers (host must be among them) plus x-amz-date; the
 * payload hash is the x-amz-content-sha256 header's value when there is one (as botocore does),
 * else the body's SHA-256. VT_E_ARG for a request that already has Authorization or X-Amz-Date,
 * no Host, an access key id that is not 1 to 127 of [A-Za-z0-9_], a secret that is not 1 to 127
 * bytes, a region or service that is not 1 to 63 of [a-z0-9-], a time whose year is not 0000 to
 * 9999; the request's own format errors as vt_sigv4_verify reports them;
 * VT_E_BUFFER_TOO_SMALL when auth_cap is short (authorization is then "").
 */
VT_MUST_USE enum vt_err vt_sigv4_sign(const struct vt_sigv4_request *req, const char *access_key_id,
                                      const char *secret, const char *region, const char *service,
                                      vt_time at, char *authorization, size_t auth_cap,
                                      char amz_date[17], struct vt_diag *d);

#endif
