/*
 * HTTP/1.1 request framing (RFC 9112) for the veritee services: the request head, a chunked body,
 * and the query string. Pure functions over the bytes received so far, so the server, the unit
 * tests and the fuzzer all exercise the same code.
 *
 * The reading is strict on purpose: every request has exactly one meaning, the one a reverse proxy
 * in front of veritee would also see. A request that could be read two ways (Content-Length with
 * Transfer-Encoding, two Content-Lengths, a folded line, a bare CR, a NUL, a space before a colon,
 * a percent-encoded or dot-segment path) is refused, never repaired.
 */
#ifndef VT_NET_HTTP_PARSE_H
#define VT_NET_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veritee/buf.h>
#include <veritee/error.h>
#include <veritee/limits.h>

struct vt_http_kv {
    const char *name;
    const char *value;
};

/* A parsed request head. Every string points into mem (owned, NUL-terminated copies). */
struct vt_http_head {
    char *mem;
    const char *method;
    const char *target; /* the raw request target */
    const char *path;   /* the raw path: it holds no '%', so raw and decoded agree */
    unsigned version;   /* 10 (HTTP/1.0) or 11 (HTTP/1.1 and later 1.x) */
    size_t n_fields;
    struct vt_http_kv fields[VT_HTTP_MAX_FIELDS];
    size_t n_args;
    struct vt_http_kv args[VT_HTTP_MAX_ARGS]; /* percent- and '+'-decoded */
    bool chunked;                             /* Transfer-Encoding: chunked */
    bool has_length;                          /* Content-Length present */
    uint64_t content_length;
    bool keep_alive;      /* the connection may carry another request after this one */
    bool expect_continue; /* Expect: 100-continue */
};

/*
 * Parse a request head from p[0..n). VT_OK: the head is complete, *used is its length (the body or
 * the next request starts there). VT_E_TRUNCATED: no complete head yet and fewer than
 * VT_HTTP_MAX_HEAD bytes; read more. Anything else refuses the request: *status is the HTTP status
 * to answer (400, 417, 431, 501 or 505) and d says which rule, with the values. h must be
 * cleaned up whatever the result.
 */
VT_MUST_USE enum vt_err vt_http_head_parse(const uint8_t *p, size_t n, struct vt_http_head *h,
                                           size_t *used, unsigned *status, struct vt_diag *d);
void vt_http_head_cleanup(struct vt_http_head *h);
/* The value of the field named `name` (case-insensitive), or NULL. Names of fields that may
 * appear once are unique after a successful parse. */
const char *vt_http_head_field(const struct vt_http_head *h, const char *name);
/* The decoded query argument `name`, or NULL (names are unique after a successful parse). */
const char *vt_http_head_arg(const struct vt_http_head *h, const char *name);

/* True if p[0..n) may hold the end of a head: a blank line, i.e. "\n\n" or "\n\r\n". `from` is
 * where to start looking (the server passes the previous length less 3, so each byte is looked at
 * a bounded number of times however slowly the head arrives). */
bool vt_http_head_ends(const uint8_t *p, size_t n, size_t from);

/* An incremental decoder of the chunked transfer coding (RFC 9112 §7.1). Chunk extensions are
 * skipped; trailer fields are checked like header fields and dropped. */
struct vt_http_chunked {
    int state;
    uint64_t left;      /* data bytes left in the current chunk */
    unsigned digits;    /* hex digits of the current chunk size */
    size_t line;        /* bytes of the current size or trailer line */
    size_t trailer;     /* bytes of the trailer section */
    unsigned n_trailer; /* trailer fields */
};

void vt_http_chunked_init(struct vt_http_chunked *c);
/*
 * Feed p[0..n): chunk data is appended to body (whose max is the route's body limit). *used is how
 * many bytes were consumed. VT_OK: the body is complete (bytes after *used belong to the next
 * request). VT_E_TRUNCATED: all n bytes were consumed, more are needed. VT_E_TOO_LARGE: the body
 * exceeds body->max (413). Anything else is malformed framing (400), with d saying where.
 */
VT_MUST_USE enum vt_err vt_http_chunked_feed(struct vt_http_chunked *c, const uint8_t *p, size_t n,
                                             size_t *used, struct vt_buf *body, struct vt_diag *d);

#endif
