/*
 * The HTTP client over libcurl (tree-internal, in libveritee): the HTTP collateral source
 * (src/collateral) and the broker client (src/client) fetch through it, and so do the services'
 * upstream fetches. The verifiers themselves never touch the network: a verifier fetches only
 * through the collateral source it is given.
 */
#ifndef VT_NET_HTTP_CLIENT_H
#define VT_NET_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veritee/buf.h>
#include <veritee/error.h>

#define VT_HTTP_MAX_HEADERS 48
#define VT_HTTP_MAX_BODY (8u << 20)

struct vt_http_header {
    char *name;
    char *value;
};

struct vt_http_response {
    long status;
    struct vt_buf body;
    size_t n_headers;
    struct vt_http_header headers[VT_HTTP_MAX_HEADERS];
    double seconds; /* total transfer time */
};

struct vt_http_request_opts {
    long timeout_ms;     /* whole transfer; 0: 10 s */
    const char *method;  /* NULL: GET */
    const uint8_t *body; /* POST/PUT body */
    size_t body_len;
    const char *const *headers; /* "Name: value" strings, NULL-terminated; may be NULL */
    const char *ca_file;        /* PEM bundle to verify https:// servers; NULL: system default */
    bool insecure;              /* https:// without verifying the server (tests only) */
};

/* Perform one request. VT_OK whenever an HTTP response arrived (any status); VT_E_UPSTREAM with
 * curl's reason for transport failures (connect, timeout, TLS, reset); VT_E_TOO_LARGE past
 * VT_HTTP_MAX_BODY. r must be cleaned up either way. */
VT_MUST_USE enum vt_err vt_http_request(const char *url, const struct vt_http_request_opts *o,
                                        struct vt_http_response *r, struct vt_diag *d);
void vt_http_response_cleanup(struct vt_http_response *r);
/* Value of the first header named `name` (case-insensitive), or NULL. */
const char *vt_http_response_header(const struct vt_http_response *r, const char *name);

/* Percent-encode for a query value or a PCS issuer-chain header (RFC 3986 unreserved kept). */
VT_MUST_USE enum vt_err vt_http_percent_encode(const uint8_t *p, size_t n, struct vt_buf *out);

#endif
