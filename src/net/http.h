/*
 * HTTP for the veritee services: our own HTTP/1.1 server (http_server.c, http_parse.c: the cache
 * and broker APIs), in the service library (libveritee_svc), and the client over libcurl
 * (net/http_client.h, in libveritee: the HTTP collateral source and the broker client).
 */
#ifndef VT_NET_HTTP_H
#define VT_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veritee/buf.h>
#include <veritee/error.h>

#include "net/http_client.h"

/* ---- server ---- */

struct vt_http_server;
struct vt_http_req;

/* A response being built by a handler. Headers and the body are copied by the server. */
struct vt_http_resp {
    unsigned status;
    char content_type[80];
    size_t n_headers;
    struct {
        char name[64];
        char *value; /* owned */
    } headers[VT_HTTP_MAX_HEADERS];
    uint8_t *body; /* owned unless body_static */
    size_t body_len;
    const uint8_t *body_static; /* borrowed body, outlives the response (used if non-NULL) */
};

typedef void (*vt_http_handler)(void *ctx, const struct vt_http_req *req,
                                struct vt_http_resp *resp);

/* A service's routes as a table: what its route function answers from, what its handler
 * dispatches on, and what `veritee routes` and the OpenAPI check list. path is an OpenAPI path
 * template: "{name}" stands for one non-empty segment. The first entry that matches wins, so a
 * literal segment ("/vcek/v1/{product}/crl") is listed before a parameter in its place. */
struct vt_http_route_entry {
    const char *method; /* "GET" (HEAD is served by GET routes), "POST", "PUT", ... */
    const char *path;
    size_t max_body;
    int rate;       /* enum vt_http_rate_class */
    bool priority;  /* may use the reserved connections */
    unsigned flags; /* the service's own (e.g. which token the route needs) */
    void (*handler)(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp);
};

/* The entry for method and path, or NULL. When NULL and *path_known is set, the path exists
 * with other methods: *allow (caller storage of cap bytes) lists them for a 405's Allow. */
const struct vt_http_route_entry *vt_http_route_find(const struct vt_http_route_entry *table,
                                                     size_t n, const char *method, const char *path,
                                                     bool *path_known, char *allow, size_t cap);
/* Segment i of a path ("/a/b/c": 0 is "a") into out[cap]; false if absent or too long. */
bool vt_http_path_segment(const char *path, size_t i, char *out, size_t cap);

/* Per-client request rate classes. A route names its class; each class has its own limits. */
enum vt_http_rate_class {
    VT_HTTP_RATE_NONE = 0, /* never limited */
    VT_HTTP_RATE_ATTEST,   /* unauthenticated calls that create state: challenge, attest, KBS */
    VT_HTTP_RATE_READ,     /* everything else that is not priority */
    VT_HTTP_RATE_CLASSES,
};

/* What a service decides from the head of a request, before any byte of its body is read. */
struct vt_http_route {
    size_t max_body;              /* the largest body this route takes; 0: none */
    enum vt_http_rate_class rate; /* per-client rate class */
    bool priority;                /* health, metrics and admin: may use the reserved connections */
    const struct vt_http_route_entry *entry; /* the table entry, for the handler; may be NULL */
};

/*
 * Route a request from its head (method, path, query, headers; the body is empty). To answer at
 * once (401, 404, 405, ...) without reading the body, set a response status; otherwise fill
 * route. Runs on a worker thread, like the handler.
 */
typedef void (*vt_http_route_fn)(void *ctx, const struct vt_http_req *req,
                                 struct vt_http_route *route, struct vt_http_resp *resp);

/* A token bucket per client address: `per_second` requests a second on average, bursts of up to
 * `burst`. per_second 0: unlimited. */
struct vt_http_rate {
    double per_second;
    double burst;
};

/* The server's defences against slow, greedy or flooding clients. Zero fields take the default
 * shown (rates: zero is unlimited; the command line sets its own defaults, docs/deploy.md). */
struct vt_http_limits {
    unsigned max_connections;            /* open connections in all; 4096 */
    unsigned reserved_connections;       /* of those, kept for priority routes; 64 */
    unsigned max_connections_per_client; /* per client address; 64 (trusted proxies: no limit) */
    unsigned head_timeout_s;  /* from connect (or the first byte of a later request) to the end
                                 of the head, TLS handshake included; 10 */
    unsigned body_timeout_s;  /* from the end of the head to the end of the body; 60 */
    unsigned idle_timeout_s;  /* keep-alive wait for the next request; 30 */
    unsigned write_timeout_s; /* to send a whole response; 60 */
    size_t max_body_memory;   /* request bodies of all connections in memory at once; 256 MiB */
    struct vt_http_rate rates[VT_HTTP_RATE_CLASSES];
    /* Comma-separated IPv4/IPv6 addresses or CIDR blocks of reverse proxies: requests from them
     * are rate-limited on the address their X-Forwarded-For names. NULL: none. */
    const char *trusted_proxies;
};

struct vt_http_server_opts {
    const char *host;       /* listen address, IPv4 dotted or "localhost"; NULL: 127.0.0.1 */
    unsigned port;          /* 0: any free port (see vt_http_server_port) */
    unsigned threads;       /* worker threads; 0: the number of CPUs */
    const char *tls_cert;   /* PEM text of the certificate chain; NULL: plain HTTP */
    const char *tls_key;    /* PEM text of the key */
    size_t max_body;        /* body limit of every route when route is NULL; 0: 1 MiB */
    vt_http_route_fn route; /* NULL: every request is routed {max_body, NONE, not priority} */
    struct vt_http_limits limits;
};

VT_MUST_USE enum vt_err vt_http_server_start(const struct vt_http_server_opts *o, vt_http_handler h,
                                             void *ctx, struct vt_http_server **out,
                                             struct vt_diag *d);
unsigned vt_http_server_port(const struct vt_http_server *s);
void vt_http_server_stop(struct vt_http_server *s);
/* Append the server's counters (connections, refusals by reason, bodies in memory) in the
 * Prometheus text format, names prefixed "veritee_http_". Nothing for a NULL server. */
VT_MUST_USE enum vt_err vt_http_server_metrics(struct vt_http_server *s, struct vt_buf *out);
/* Parse a trusted-proxy list (see vt_http_limits) only to check it; d says what is wrong. */
VT_MUST_USE enum vt_err vt_http_proxies_check(const char *list, struct vt_diag *d);

const char *vt_http_req_method(const struct vt_http_req *r);
const char *vt_http_req_path(const struct vt_http_req *r);
/* The request target as received (path and query, e.g. for a signature over it). */
const char *vt_http_req_target(const struct vt_http_req *r);
/* Header field i (0-based, in the order received, repeated names as they came): false past the
 * last. Name and value are borrowed from the request. */
bool vt_http_req_header_at(const struct vt_http_req *r, size_t i, const char **name,
                           const char **value);
/* A query argument (decoded), or NULL. */
const char *vt_http_req_arg(const struct vt_http_req *r, const char *name);
const char *vt_http_req_header(const struct vt_http_req *r, const char *name);
const uint8_t *vt_http_req_body(const struct vt_http_req *r, size_t *len);
/* The server that received the request (for its metrics). */
struct vt_http_server *vt_http_req_server(const struct vt_http_req *r);
/* The route table entry the route function chose for this request, or NULL. */
const struct vt_http_route_entry *vt_http_req_route(const struct vt_http_req *r);

/* Response helpers. Each replaces what was set before for the same field. */
void vt_http_resp_status(struct vt_http_resp *r, unsigned status, const char *content_type);
VT_MUST_USE bool vt_http_resp_header(struct vt_http_resp *r, const char *name, const char *value);
VT_MUST_USE bool vt_http_resp_body(struct vt_http_resp *r, const void *p, size_t n);
VT_MUST_USE bool vt_http_resp_printf(struct vt_http_resp *r, const char *fmt, ...) VT_PRINTF(2, 3);
void vt_http_resp_cleanup(struct vt_http_resp *r);

/* The reason phrase of a status ("Not Found"), "Internal Server Error" for unlisted ones. */
const char *vt_http_status_title(unsigned status);

/* RFC 7807 problem details (application/problem+json); reason: an extra stable id, or NULL. */
void vt_http_problem(struct vt_http_resp *resp, unsigned status, const char *title,
                     const char *detail, const char *reason);
/* A JSON body (takes the reference to o; 500 if it cannot be encoded). */
struct json_t;
void vt_http_json_reply(struct vt_http_resp *resp, unsigned status, struct json_t *o);
/* A Prometheus /metrics answer: text (a service's counters; 500 if NULL) followed by those of the
 * server that received req. */
void vt_http_metrics_reply(struct vt_http_resp *resp, const struct vt_http_req *req,
                           const char *text);
/* The token of "Authorization: Bearer TOKEN", or NULL. */
const char *vt_http_bearer(const struct vt_http_req *req);

#endif
