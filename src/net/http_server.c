/*
 * The HTTP/1.1 server of the veritee services: epoll worker threads sharing one listening socket,
 * optional TLS (src/crypto/tls.c), one synchronous handler call per request on the worker that
 * read it.
 *
 * A request goes through three phases, each with its own deadline, so a client that trickles bytes
 * cannot hold a connection longer than the phase allows:
 *
 *   head   connect (TLS handshake included), or the first byte of a later request, to the blank
 *          line: head_timeout_s. The head is parsed strictly (http_parse.c).
 *   route  the service's route function sees the head and decides: answer now (401, 404, 405)
 *          or take a body of at most route.max_body bytes. Then the per-client rate limit of the
 *          route's class (429), the reserve (503), the body limit (413) and the memory of all
 *          bodies in flight (503) are checked, all before a byte of the body is read. A refused
 *          request with a body closes its connection: nothing unread is ever taken as a request.
 *   body   the end of the head to the end of the body: body_timeout_s. Then the handler runs,
 *          and the response must be sent within write_timeout_s.
 *
 * Connections are counted in all (max_connections) and per client address; the last
 * reserved_connections slots serve only routes marked priority (health, metrics, admin).
 */
#define _GNU_SOURCE 1 /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"

#include "crypto/tls.h"
#include "net/http.h"
#include "net/http_guard.h"
#include "net/http_parse.h"

#define IN_CAP VT_HTTP_MAX_HEAD /* the read buffer: a whole head, or a slice of a body */
#define ACCEPT_BATCH 64
#define DRIVE_ROUNDS 64 /* steps of one connection before the worker serves the others */
#define SWEEP_MS 200    /* how often deadlines are checked */
/* After a response that closes the connection, unread request bytes are read and dropped for a
 * short while, so the client sees the response rather than a reset (a lingering close). */
#define LINGER_MS 2000
#define EVICT_SCAN 256           /* connections looked at for one eviction */
#define TLS_COALESCE (16u << 10) /* a TLS response body this small is sent with its head */
#define LINGER_MAX (4u << 20)

/* Server counters, exported by vt_http_server_metrics. */
enum counter {
    C_ACCEPTED,
    C_REFUSED_FULL,
    C_REFUSED_CLIENT,
    C_REFUSED_RESERVE,
    C_EVICTED,
    C_TIMEOUT_HEAD,
    C_TIMEOUT_BODY,
    C_TIMEOUT_IDLE,
    C_TIMEOUT_WRITE,
    C_BAD_REQUEST,
    C_TOO_LARGE,
    C_BODY_MEMORY,
    C_RATE_ATTEST,
    C_RATE_READ,
    C_REQUESTS,
    C_COUNT
};

struct worker;

struct vt_http_server {
    vt_http_handler handler;
    vt_http_route_fn route;
    void *ctx;
    size_t default_body;
    struct vt_http_limits lim;
    struct vt_http_proxies proxies;
    struct vt_http_peers *peers;
    struct vt_http_rates *rates;
    struct vt_tls_server *tls;
    int lfd;
    int spare_fd;             /* held open to accept-and-close when out of descriptors */
    pthread_mutex_t spare_mu; /* guards spare_fd */
    unsigned port;
    unsigned n_workers;
    struct worker *workers;
    atomic_uint open;         /* open connections */
    atomic_size_t body_bytes; /* request body bytes reserved in memory */
    atomic_uint_fast64_t counters[C_COUNT];
};

enum state {
    S_HANDSHAKE, /* TLS handshake */
    S_HEAD,      /* waiting for, or reading, a request head */
    S_BODY,      /* reading a request body */
    S_WRITE,     /* sending a response (or a 100 Continue) */
    S_LINGER,    /* response sent, write side shut: dropping what the client still sends */
};

struct conn {
    struct worker *w;
    struct conn *prev, *next; /* the worker's list */
    struct conn *ready_next;  /* on the worker's ready list */
    bool on_ready;
    bool doomed;              /* evicted: closed after the worker's current batch of events */
    struct conn *doomed_next; /* on the worker's doomed list */
    int fd;
    struct vt_tls_conn *tls;
    enum state state;
    uint32_t events; /* epoll interest now registered */
    int64_t deadline_ms;
    bool started; /* a byte of the current request has arrived */
    bool reserve; /* admitted into the reserved slots */
    bool counted; /* holds a slot in the per-client table */
    bool close_after;
    bool interim; /* the write under way is a 100 Continue */
    struct vt_http_addr peer, peer_key;
    uint8_t in[IN_CAP];
    size_t in_len, scanned;
    size_t lingered; /* bytes dropped in S_LINGER */
    bool drained;    /* the last read took all the socket had: wait for epoll before the next */
    struct vt_http_head head;
    bool have_head;
    struct vt_http_route route;
    struct vt_buf body;
    uint64_t body_left; /* Content-Length bytes still to read */
    struct vt_http_chunked chunk;
    size_t reserved; /* bytes reserved in the server's body budget */
    char client[48]; /* text of the client address for handlers */
    /* the response being written: head bytes then body bytes */
    uint8_t *out_head;
    size_t out_head_len;
    const uint8_t *out_body;
    size_t out_body_len;
    uint8_t *out_owned;
    size_t out_off;
};

struct worker {
    struct vt_http_server *s;
    pthread_t thread;
    int ep;
    int wake;
    atomic_bool stop;
    struct conn *conns; /* newest first */
    struct conn *tail;  /* oldest */
    struct conn *ready;
    struct conn *doomed;
    int64_t last_sweep;
    int64_t now;   /* monotonic ms, read after each wait and each handler */
    char date[40]; /* IMF-fixdate of date_at */
    time_t date_at;
};

struct vt_http_req {
    const struct vt_http_head *head;
    const struct vt_buf *body;
    const char *client;
    struct vt_http_server *server;
    const struct vt_http_route_entry *entry;
};

/* ---- the request seen by services ---- */

const char *vt_http_req_method(const struct vt_http_req *r)
{
    return r->head->method;
}

const char *vt_http_req_path(const struct vt_http_req *r)
{
    return r->head->path;
}

const char *vt_http_req_target(const struct vt_http_req *r)
{
    return r->head->target;
}

bool vt_http_req_header_at(const struct vt_http_req *r, size_t i, const char **name,
                           const char **value)
{
    if (i >= r->head->n_fields) {
        return false;
    }
    *name = r->head->fields[i].name;
    *value = r->head->fields[i].value;
    return true;
}

const char *vt_http_req_arg(const struct vt_http_req *r, const char *name)
{
    return vt_http_head_arg(r->head, name);
}

const char *vt_http_req_header(const struct vt_http_req *r, const char *name)
{
    return vt_http_head_field(r->head, name);
}

const uint8_t *vt_http_req_body(const struct vt_http_req *r, size_t *len)
{
    *len = r->body->len;
    return r->body->data != NULL ? r->body->data : (const uint8_t *)"";
}

struct vt_http_server *vt_http_req_server(const struct vt_http_req *r)
{
    return r->server;
}

const struct vt_http_route_entry *vt_http_req_route(const struct vt_http_req *r)
{
    return r->entry;
}

/* ---- helpers ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void count(struct vt_http_server *s, enum counter c)
{
    atomic_fetch_add_explicit(&s->counters[c], 1, memory_order_relaxed);
}

static bool budget_take(struct vt_http_server *s, size_t n)
{
    size_t cur = atomic_load(&s->body_bytes);
    do {
        if (n > s->lim.max_body_memory || cur > s->lim.max_body_memory - n) {
            return false;
        }
    } while (!atomic_compare_exchange_weak(&s->body_bytes, &cur, cur + n));
    return true;
}

static void budget_give(struct vt_http_server *s, size_t *n)
{
    atomic_fetch_sub(&s->body_bytes, *n);
    *n = 0;
}

static void want(struct conn *c, uint32_t events)
{
    if (c->events != events) {
        struct epoll_event ev = {.events = events, .data.ptr = c};
        if (epoll_ctl(c->w->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0) {
            c->events = events;
        }
    }
}

static void ready_push(struct conn *c)
{
    if (!c->on_ready) {
        c->on_ready = true;
        c->ready_next = c->w->ready;
        c->w->ready = c;
    }
}

/* The oldest of the last EVICT_SCAN connections of this worker that is waiting for (or reading)
 * a request head, shaking hands, or lingering: nothing of a request is lost by closing it.
 * outside_reserve: only one that holds a slot outside the reserve. */
static struct conn *evictable(struct worker *w, bool outside_reserve)
{
    int steps = 0;
    for (struct conn *c = w->tail; c != NULL && steps < EVICT_SCAN; c = c->prev, steps++) {
        if (!c->doomed && (!outside_reserve || !c->reserve) &&
            (c->state == S_HEAD || c->state == S_HANDSHAKE || c->state == S_LINGER)) {
            return c;
        }
    }
    return NULL;
}

/* Evict c: it is closed once the worker has handled its current batch of events (which may
 * still name it). */
static void doom(struct conn *c)
{
    if (!c->doomed) {
        c->doomed = true;
        c->doomed_next = c->w->doomed;
        c->w->doomed = c;
        count(c->w->s, C_EVICTED);
    }
}

static void out_clear(struct conn *c)
{
    free(c->out_head);
    free(c->out_owned);
    c->out_head = c->out_owned = NULL;
    c->out_body = NULL;
    c->out_head_len = c->out_body_len = c->out_off = 0;
}

static void request_clear(struct conn *c)
{
    vt_http_head_cleanup(&c->head);
    c->have_head = false;
    vt_buf_cleanup(&c->body);
    budget_give(c->w->s, &c->reserved);
    c->body_left = 0;
    c->started = false;
    c->interim = false;
    c->scanned = 0;
    memset(&c->route, 0, sizeof(c->route));
}

static void conn_close(struct conn *c)
{
    struct worker *w = c->w;
    struct vt_http_server *s = w->s;
    epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
    vt_tls_conn_free(c->tls);
    close(c->fd);
    request_clear(c);
    out_clear(c);
    if (c->counted) {
        vt_http_peers_release(s->peers, &c->peer_key);
    }
    atomic_fetch_sub(&s->open, 1);
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        w->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    } else {
        w->tail = c->prev;
    }
    if (c->on_ready) {
        for (struct conn **pp = &w->ready; *pp != NULL; pp = &(*pp)->ready_next) {
            if (*pp == c) {
                *pp = c->ready_next;
                break;
            }
        }
    }
    vt_wipe(c->in, sizeof(c->in));
    free(c);
}

/* ---- responses ---- */

/* A header name or value that could split the response is never sent. */
static bool header_safe(const char *s, bool name)
{
    if (!name) {
        return strpbrk(s, "\r\n") == NULL; /* values may be long: the library's scan */
    }
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch <= ' ' || ch == ':' || ch >= 0x7f) {
            return false;
        }
    }
    return true;
}

/* The worker's Date value, formatted once a second. */
static void http_date(struct worker *w)
{
    time_t t = time(NULL);
    if (t != w->date_at) {
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(w->date, sizeof(w->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        w->date_at = t;
    }
}

/* Turn resp into the bytes to send; takes the body. head_only: HEAD request (no body sent). */
static void respond(struct conn *c, struct vt_http_resp *resp, bool head_only)
{
    out_clear(c);
    unsigned status = resp->status != 0 ? resp->status : 500;
    bool safe = header_safe(resp->content_type, false);
    for (size_t i = 0; i < resp->n_headers && safe; i++) {
        safe =
            header_safe(resp->headers[i].name, true) && header_safe(resp->headers[i].value, false);
    }
    if (!safe) {
        vt_http_resp_cleanup(resp);
        vt_http_problem(resp, 500, "Internal Server Error",
                        "the response would carry a header with a line break", NULL);
        status = 500;
    }
    const uint8_t *body = resp->body_static != NULL ? resp->body_static : resp->body;
    size_t blen = body != NULL ? resp->body_len : 0;
    bool no_body = status < 200 || status == 204 || status == 304;
    bool keep = c->have_head && c->head.keep_alive && !c->close_after;
    if (!keep) {
        c->close_after = true;
    }
    /* A handler's own Date (a service with a pinned clock) replaces the worker's. */
    const char *date = NULL;
    for (size_t i = 0; i < resp->n_headers; i++) {
        if (strcasecmp(resp->headers[i].name, "Date") == 0) {
            date = resp->headers[i].value;
        }
    }
    http_date(c->w);
    char first[96], length[48];
    snprintf(first, sizeof(first), "HTTP/1.1 %u %s\r\nDate: ", status,
             vt_http_status_title(status));
    snprintf(length, sizeof(length), "Content-Length: %zu\r\n", blen);
    const char *conn = !keep                                   ? "Connection: close\r\n"
                       : c->have_head && c->head.version == 10 ? "Connection: keep-alive\r\n"
                                                               : "";
    /* Appended piece by piece (a header value may be a few KB of URL-encoded certificates:
     * printf would walk it twice), into one allocation sized first. */
    const char *parts[2 * VT_HTTP_MAX_HEADERS + 12];
    size_t n = 0, total = 0;
    parts[n++] = first;
    parts[n++] = date != NULL ? date : c->w->date;
    parts[n++] = "\r\n";
    if (resp->content_type[0] != '\0') {
        parts[n++] = "Content-Type: ";
        parts[n++] = resp->content_type;
        parts[n++] = "\r\n";
    }
    for (size_t i = 0; i < resp->n_headers; i++) {
        if (strcasecmp(resp->headers[i].name, "Date") == 0) {
            continue;
        }
        parts[n++] = resp->headers[i].name;
        parts[n++] = ": ";
        parts[n++] = resp->headers[i].value;
        parts[n++] = "\r\n";
    }
    parts[n++] = no_body ? "" : length;
    parts[n++] = conn;
    parts[n++] = "\r\n";
    size_t lens[sizeof(parts) / sizeof(parts[0])];
    for (size_t i = 0; i < n; i++) {
        lens[i] = strlen(parts[i]);
        total += lens[i];
    }
    /* A small TLS response goes out as one record for head and body, not two. */
    bool coalesce = c->tls != NULL && !head_only && !no_body && blen > 0 && blen <= TLS_COALESCE;
    struct vt_buf h;
    vt_buf_init(&h, 1u << 20);
    enum vt_err err = vt_buf_reserve(&h, total + (coalesce ? blen : 0));
    for (size_t i = 0; i < n && err == VT_OK; i++) {
        err = vt_buf_append(&h, parts[i], lens[i]);
    }
    if (err != VT_OK) {
        vt_buf_cleanup(&h);
        static const char fallback[] = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: "
                                       "0\r\nConnection: close\r\n\r\n";
        c->out_head = (uint8_t *)strdup(fallback);
        c->out_head_len = c->out_head != NULL ? strlen(fallback) : 0;
        c->close_after = true;
        vt_http_resp_cleanup(resp);
        c->state = S_WRITE;
        return;
    }
    if (coalesce && vt_buf_append(&h, body, blen) == VT_OK) {
        blen = 0;
    }
    c->out_head = vt_buf_steal(&h, &c->out_head_len);
    if (!head_only && !no_body && blen > 0) {
        if (resp->body_static != NULL) {
            c->out_body = resp->body_static;
        } else {
            c->out_owned = resp->body;
            c->out_body = resp->body;
            resp->body = NULL;
        }
        c->out_body_len = blen;
    }
    vt_http_resp_cleanup(resp);
    c->state = S_WRITE;
}

/* Answer without running the handler: an RFC 7807 problem; close the connection after it if
 * close is set (a body left unread, or framing that cannot be trusted). */
static void refuse(struct conn *c, unsigned status, const char *detail, const char *reason,
                   unsigned retry_after, bool close)
{
    struct vt_http_resp r;
    memset(&r, 0, sizeof(r));
    vt_http_problem(&r, status, vt_http_status_title(status), detail, reason);
    if (retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%u", retry_after);
        (void)!vt_http_resp_header(&r, "Retry-After", ra);
    }
    if (close) {
        c->close_after = true;
    }
    respond(c, &r, false);
}

/* ---- requests ---- */

static bool body_pending(const struct conn *c)
{
    return c->head.chunked || (c->head.has_length && c->head.content_length > 0);
}

static void run_handler(struct conn *c)
{
    struct vt_http_server *s = c->w->s;
    struct vt_http_req req = {&c->head, &c->body, c->client, s, c->route.entry};
    struct vt_http_resp resp;
    memset(&resp, 0, sizeof(resp));
    count(s, C_REQUESTS);
    s->handler(s->ctx, &req, &resp);
    c->w->now = now_ms(); /* a handler may have waited (an upstream fetch) */
    budget_give(s, &c->reserved);
    respond(c, &resp, strcmp(c->head.method, "HEAD") == 0);
}

/* The head is complete: route it and decide, before reading any of the body. */
static void on_head(struct conn *c)
{
    struct vt_http_server *s = c->w->s;
    struct vt_http_addr client;
    vt_http_client_addr(&s->proxies, &c->peer, vt_http_head_field(&c->head, "X-Forwarded-For"),
                        &client);
    vt_http_addr_text(&client, c->client, sizeof(c->client));
    vt_buf_init(&c->body, 0);
    struct vt_http_req req = {&c->head, &c->body, c->client, s, NULL};
    struct vt_http_resp resp;
    memset(&resp, 0, sizeof(resp));
    c->route = (struct vt_http_route){s->default_body, VT_HTTP_RATE_NONE, false, NULL};
    if (s->route != NULL) {
        s->route(s->ctx, &req, &c->route, &resp);
    }
    bool pending = body_pending(c);
    if (resp.status != 0) {
        c->close_after = c->close_after || pending;
        respond(c, &resp, strcmp(c->head.method, "HEAD") == 0);
        return;
    }
    vt_http_resp_cleanup(&resp);
    if (c->reserve && !c->route.priority) {
        /* A whole request outranks a connection still trickling its head: take the slot of one
         * outside the reserve if this worker has one. */
        struct conn *v = evictable(c->w, true);
        if (v != NULL && v != c) {
            doom(v);
            v->reserve = true;
            c->reserve = false;
        }
    }
    if (c->reserve && !c->route.priority) {
        count(s, C_REFUSED_RESERVE);
        refuse(c, 503,
               "the server is at its connection limit; only health and admin calls are "
               "served on the reserved connections",
               "connections", 1, true);
        return;
    }
    struct vt_http_addr key;
    vt_http_addr_client_key(&client, &key);
    unsigned retry = 0;
    if (!vt_http_rates_take(s->rates, &key, c->route.rate, c->w->now, &retry)) {
        count(s, c->route.rate == VT_HTTP_RATE_ATTEST ? C_RATE_ATTEST : C_RATE_READ);
        char detail[160];
        snprintf(detail, sizeof(detail), "client %s is over its %s request rate (%g/s, burst %g)",
                 c->client, c->route.rate == VT_HTTP_RATE_ATTEST ? "attest" : "read",
                 s->lim.rates[c->route.rate].per_second, s->lim.rates[c->route.rate].burst);
        refuse(c, 429, detail, "rate-limit", retry, pending);
        return;
    }
    if (pending && (c->route.max_body == 0 ||
                    (c->head.has_length && c->head.content_length > c->route.max_body))) {
        count(s, C_TOO_LARGE);
        char detail[160];
        if (c->head.has_length) {
            snprintf(detail, sizeof(detail),
                     "the body (%llu bytes) exceeds this route's limit of %zu bytes",
                     (unsigned long long)c->head.content_length, c->route.max_body);
        } else {
            snprintf(detail, sizeof(detail), "%s %s takes no body", c->head.method, c->head.path);
        }
        refuse(c, 413, detail, "body-size", 0, true);
        return;
    }
    if (c->head.has_length && c->head.content_length > 0 &&
        !budget_take(s, (size_t)c->head.content_length)) {
        count(s, C_BODY_MEMORY);
        refuse(c, 503, "request bodies in memory are at the server's limit; retry shortly",
               "body-memory", 1, true);
        return;
    }
    if (c->head.has_length) {
        c->reserved = (size_t)c->head.content_length;
    }
    if (!pending) {
        run_handler(c);
        return;
    }
    vt_buf_init(&c->body, c->route.max_body);
    if (c->head.has_length && vt_buf_reserve(&c->body, (size_t)c->head.content_length) != VT_OK) {
        refuse(c, 503, "cannot hold the request body", "body-memory", 1, true);
        return;
    }
    c->body_left = c->head.has_length ? c->head.content_length : 0;
    vt_http_chunked_init(&c->chunk);
    c->deadline_ms = c->w->now + (int64_t)s->lim.body_timeout_s * 1000;
    c->state = S_BODY;
    if (c->head.expect_continue && c->in_len == 0) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        c->out_head = (uint8_t *)strdup(cont);
        c->out_head_len = c->out_head != NULL ? strlen(cont) : 0;
        c->interim = true;
        c->state = S_WRITE;
    }
}

static void consume(struct conn *c, size_t n)
{
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
}

/* Parse what has arrived. Returns when more bytes are needed or a response is ready. */
static void process(struct conn *c)
{
    struct vt_http_server *s = c->w->s;
    while (c->in_len > 0) {
        if (c->state == S_HEAD) {
            if (!c->started) {
                c->started = true;
                c->deadline_ms = c->w->now + (int64_t)s->lim.head_timeout_s * 1000;
            }
            size_t from = c->scanned > 3 ? c->scanned - 3 : 0;
            if (c->in_len < IN_CAP && !vt_http_head_ends(c->in, c->in_len, from)) {
                c->scanned = c->in_len;
                return;
            }
            size_t used = 0;
            unsigned status = 0;
            struct vt_diag d;
            vt_diag_init(&d);
            enum vt_err err = vt_http_head_parse(c->in, c->in_len, &c->head, &used, &status, &d);
            if (err == VT_E_TRUNCATED) {
                vt_http_head_cleanup(&c->head);
                c->scanned = c->in_len;
                return;
            }
            if (err != VT_OK) {
                vt_http_head_cleanup(&c->head);
                count(s, C_BAD_REQUEST);
                refuse(c, status ? status : 400, d.detail, d.check, 0, true);
                return;
            }
            c->have_head = true;
            consume(c, used);
            on_head(c);
            continue;
        }
        if (c->state != S_BODY) {
            return;
        }
        if (c->head.chunked) {
            size_t used = 0, before = c->body.len;
            struct vt_diag d;
            vt_diag_init(&d);
            enum vt_err err =
                vt_http_chunked_feed(&c->chunk, c->in, c->in_len, &used, &c->body, &d);
            consume(c, used);
            size_t grown = c->body.len - before;
            if (grown > 0 && !budget_take(s, grown)) {
                count(s, C_BODY_MEMORY);
                refuse(c, 503, "request bodies in memory are at the server's limit; retry shortly",
                       "body-memory", 1, true);
                return;
            }
            c->reserved += grown;
            if (err == VT_E_TRUNCATED) {
                continue;
            }
            if (err != VT_OK) {
                count(s, err == VT_E_TOO_LARGE ? C_TOO_LARGE : C_BAD_REQUEST);
                refuse(c, err == VT_E_TOO_LARGE ? 413 : 400, d.detail,
                       err == VT_E_TOO_LARGE ? "body-size" : d.check, 0, true);
                return;
            }
        } else {
            size_t take = c->in_len < c->body_left ? c->in_len : (size_t)c->body_left;
            if (vt_buf_append(&c->body, c->in, take) != VT_OK) {
                refuse(c, 500, "cannot hold the request body", NULL, 0, true);
                return;
            }
            consume(c, take);
            c->body_left -= take;
            if (c->body_left > 0) {
                continue;
            }
        }
        run_handler(c);
        return;
    }
}

/* A response (or a 100 Continue) has been sent: read the body, the next request, or nothing
 * more. */
static void written(struct conn *c)
{
    struct vt_http_server *s = c->w->s;
    bool interim = c->interim;
    out_clear(c);
    if (interim) {
        c->interim = false;
        c->state = S_BODY;
        c->deadline_ms = c->w->now + (int64_t)s->lim.body_timeout_s * 1000;
    } else if (c->close_after) {
        shutdown(c->fd, SHUT_WR);
        c->state = S_LINGER;
        c->in_len = 0;
        c->deadline_ms = c->w->now + LINGER_MS;
        return;
    } else {
        request_clear(c);
        c->state = S_HEAD;
        c->deadline_ms = c->w->now + (int64_t)s->lim.idle_timeout_s * 1000;
    }
    if (c->in_len > 0) {
        process(c); /* a pipelined request, or body bytes that came with the head */
    }
}

/* ---- I/O ---- */

enum io { IO_OK, IO_WAIT_READ, IO_WAIT_WRITE, IO_CLOSED };

static enum io map_tls(enum vt_tls_io r)
{
    switch (r) {
    case VT_TLS_DONE:
        return IO_OK;
    case VT_TLS_WANT_READ:
        return IO_WAIT_READ;
    case VT_TLS_WANT_WRITE:
        return IO_WAIT_WRITE;
    default:
        return IO_CLOSED;
    }
}

static enum io do_read(struct conn *c)
{
    size_t room = IN_CAP - c->in_len, n = 0;
    if (room == 0) {
        return IO_OK; /* process() will decide (a head this long is 431) */
    }
    if (c->tls != NULL) {
        enum io r = map_tls(vt_tls_read(c->tls, c->in + c->in_len, room, &n));
        if (r != IO_OK) {
            return r;
        }
    } else {
        ssize_t got = recv(c->fd, c->in + c->in_len, room, 0);
        if (got < 0) {
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? IO_WAIT_READ
                                                                             : IO_CLOSED;
        }
        if (got == 0) {
            return IO_CLOSED;
        }
        n = (size_t)got;
        /* Less than asked for: the socket is empty for now, and a level-triggered epoll says
         * when it is not; this saves a recv that would only answer EAGAIN. */
        c->drained = n < room;
    }
    c->in_len += n;
    return IO_OK;
}

static enum io do_write(struct conn *c)
{
    while (c->out_off < c->out_head_len + c->out_body_len) {
        size_t n = 0;
        if (c->tls != NULL) {
            const uint8_t *p = c->out_off < c->out_head_len
                                   ? c->out_head + c->out_off
                                   : c->out_body + (c->out_off - c->out_head_len);
            size_t len = c->out_off < c->out_head_len
                             ? c->out_head_len - c->out_off
                             : c->out_body_len - (c->out_off - c->out_head_len);
            enum io r = map_tls(vt_tls_write(c->tls, p, len, &n));
            if (r != IO_OK) {
                return r;
            }
        } else {
            struct iovec iov[2];
            int cnt = 0;
            if (c->out_off < c->out_head_len) {
                iov[cnt++] = (struct iovec){c->out_head + c->out_off, c->out_head_len - c->out_off};
                if (c->out_body_len > 0) {
                    iov[cnt++] = (struct iovec){(void *)(uintptr_t)c->out_body, c->out_body_len};
                }
            } else {
                size_t off = c->out_off - c->out_head_len;
                iov[cnt++] =
                    (struct iovec){(void *)(uintptr_t)(c->out_body + off), c->out_body_len - off};
            }
            struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
            ssize_t put = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
            if (put < 0) {
                return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? IO_WAIT_WRITE
                                                                                 : IO_CLOSED;
            }
            n = (size_t)put;
        }
        c->out_off += n;
    }
    return IO_OK;
}

/* Drop what a client still sends after its last response. */
static enum io do_linger(struct conn *c)
{
    for (;;) {
        ssize_t got = recv(c->fd, c->in, sizeof(c->in), 0);
        if (got < 0) {
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? IO_WAIT_READ
                                                                             : IO_CLOSED;
        }
        c->lingered += (size_t)got;
        if (got == 0 || c->lingered > LINGER_MAX) {
            return IO_CLOSED;
        }
    }
}

/* Advance a connection as far as it goes without blocking. */
static void drive(struct conn *c)
{
    struct vt_http_server *s = c->w->s;
    c->drained = false; /* woken by epoll (or the ready list): read again */
    for (int round = 0; round < DRIVE_ROUNDS; round++) {
        enum io r;
        switch (c->state) {
        case S_HANDSHAKE:
            r = map_tls(vt_tls_handshake(c->tls));
            if (r == IO_OK) {
                c->state = S_HEAD;
                continue;
            }
            break;
        case S_WRITE:
            r = do_write(c);
            if (r == IO_OK) {
                written(c);
                if (c->state == S_WRITE) {
                    c->deadline_ms = c->w->now + (int64_t)s->lim.write_timeout_s * 1000;
                }
                continue;
            }
            break;
        case S_LINGER:
            r = do_linger(c);
            break;
        case S_HEAD:
        case S_BODY:
        default:
            if (c->drained) {
                c->drained = false;
                r = IO_WAIT_READ;
                break;
            }
            r = do_read(c);
            if (r == IO_OK) {
                process(c);
                if (c->state == S_WRITE) {
                    c->deadline_ms = c->w->now + (int64_t)s->lim.write_timeout_s * 1000;
                }
                continue;
            }
            break;
        }
        if (r == IO_WAIT_READ) {
            want(c, EPOLLIN);
        } else if (r == IO_WAIT_WRITE) {
            want(c, EPOLLOUT);
        } else {
            conn_close(c);
        }
        return;
    }
    ready_push(c);
}

/* ---- accepting ---- */

/* A short answer on a connection that is refused at accept (plain HTTP only: there is no TLS
 * session yet to carry it). Best effort; the socket is closed right after. */
static void quick_refusal(struct vt_http_server *s, int fd, unsigned status)
{
    if (s->tls != NULL) {
        return;
    }
    char msg[160];
    int n = snprintf(msg, sizeof(msg),
                     "HTTP/1.1 %u %s\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: "
                     "close\r\n\r\n",
                     status, vt_http_status_title(status));
    (void)!send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void admit(struct worker *w, int fd, const struct sockaddr *sa)
{
    struct vt_http_server *s = w->s;
    struct vt_http_addr peer, key;
    vt_http_addr_from_sockaddr(sa, &peer);
    vt_http_addr_client_key(&peer, &key);
    bool trusted = vt_http_proxies_has(&s->proxies, &peer);
    if (!trusted && !vt_http_peers_acquire(s->peers, &key, s->lim.max_connections_per_client)) {
        count(s, C_REFUSED_CLIENT);
        quick_refusal(s, fd, 429);
        close(fd);
        return;
    }
    unsigned open = atomic_fetch_add(&s->open, 1) + 1;
    bool reserve = open > s->lim.max_connections - s->lim.reserved_connections;
    if (open > s->lim.max_connections) {
        /* Full: the newcomer takes the place of the oldest connection that has not sent a whole
         * request head (a slow client, or an idle keep-alive), if this worker has one. */
        struct conn *victim = evictable(w, false);
        if (victim == NULL) {
            atomic_fetch_sub(&s->open, 1);
            if (!trusted) {
                vt_http_peers_release(s->peers, &key);
            }
            count(s, C_REFUSED_FULL);
            quick_refusal(s, fd, 503);
            close(fd);
            return;
        }
        reserve = victim->reserve;
        doom(victim);
    }
    struct conn *c = calloc(1, sizeof(*c));
    if (c != NULL && s->tls != NULL && (c->tls = vt_tls_conn_new(s->tls, fd)) == NULL) {
        free(c);
        c = NULL;
    }
    if (c == NULL) {
        if (!trusted) {
            vt_http_peers_release(s->peers, &key);
        }
        atomic_fetch_sub(&s->open, 1);
        close(fd);
        return;
    }
    count(s, C_ACCEPTED);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->w = w;
    c->fd = fd;
    c->peer = peer;
    c->peer_key = key;
    c->counted = !trusted;
    c->reserve = reserve;
    c->state = c->tls != NULL ? S_HANDSHAKE : S_HEAD;
    c->started = true; /* the first request's head is due from the connect */
    c->deadline_ms = c->w->now + (int64_t)s->lim.head_timeout_s * 1000;
    c->events = EPOLLIN;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    c->next = w->conns;
    if (w->conns != NULL) {
        w->conns->prev = c;
    } else {
        w->tail = c;
    }
    w->conns = c;
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        conn_close(c);
        return;
    }
    drive(c);
}

/* Out of file descriptors, a pending connection would keep the listening socket readable and
 * the workers spinning: give up the spare descriptor, accept the connection and close it at once
 * (counted as refused at the limit), then take the spare back. */
static void shed_one(struct vt_http_server *s)
{
    pthread_mutex_lock(&s->spare_mu);
    if (s->spare_fd >= 0) {
        close(s->spare_fd);
        int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            count(s, C_REFUSED_FULL);
            close(fd);
        }
        s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    pthread_mutex_unlock(&s->spare_mu);
}

static void accept_some(struct worker *w)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage sa;
        socklen_t sl = sizeof(sa);
        int fd = accept4(w->s->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                shed_one(w->s);
            }
            return; /* EAGAIN (none left), or an error the next wake-up retries */
        }
        admit(w, fd, (const struct sockaddr *)&sa);
    }
}

/* Close connections past their phase's deadline. A client that is late with its head gets a 408
 * when the socket has room for it. */
static void sweep(struct worker *w, int64_t now)
{
    struct vt_http_server *s = w->s;
    struct conn *c = w->conns;
    while (c != NULL) {
        struct conn *next = c->next;
        if (c->deadline_ms <= now) {
            if (c->state == S_LINGER) {
                /* the lingering close is over */
            } else if (c->state == S_WRITE) {
                count(s, C_TIMEOUT_WRITE);
            } else if (c->state == S_BODY) {
                count(s, C_TIMEOUT_BODY);
            } else if (c->started || c->state == S_HANDSHAKE) {
                count(s, C_TIMEOUT_HEAD);
                if (c->state == S_HEAD) {
                    quick_refusal(s, c->fd, 408);
                }
            } else {
                count(s, C_TIMEOUT_IDLE);
            }
            conn_close(c);
        }
        c = next;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct epoll_event evs[64];
    while (!atomic_load(&w->stop)) {
        int n = epoll_wait(w->ep, evs, 64, w->ready != NULL ? 0 : SWEEP_MS);
        w->now = now_ms();
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &w->s->lfd) {
                accept_some(w);
            } else if (p == &w->wake) {
                uint64_t v;
                (void)!read(w->wake, &v, sizeof(v));
            } else {
                struct conn *c = p;
                if (c->on_ready || c->doomed) {
                    continue; /* driven from the ready list below, or about to be closed */
                }
                drive(c);
            }
        }
        struct conn *ready = w->ready;
        w->ready = NULL;
        while (ready != NULL) {
            struct conn *c = ready;
            ready = c->ready_next;
            c->on_ready = false;
            if (!c->doomed) {
                drive(c);
            }
        }
        while (w->doomed != NULL) {
            struct conn *c = w->doomed;
            w->doomed = c->doomed_next;
            conn_close(c);
        }
        int64_t now = w->now;
        if (now - w->last_sweep >= SWEEP_MS) {
            w->last_sweep = now;
            sweep(w, now);
        }
    }
    while (w->conns != NULL) {
        conn_close(w->conns);
    }
    return NULL;
}

/* ---- the server ---- */

static void limits_defaults(struct vt_http_limits *l)
{
    if (l->max_connections == 0) {
        l->max_connections = 4096;
    }
    if (l->reserved_connections == 0) {
        l->reserved_connections = 64;
    }
    if (l->reserved_connections >= l->max_connections) {
        l->reserved_connections = l->max_connections / 2;
    }
    if (l->max_connections_per_client == 0) {
        l->max_connections_per_client = 64;
    }
    if (l->head_timeout_s == 0) {
        l->head_timeout_s = 10;
    }
    if (l->body_timeout_s == 0) {
        l->body_timeout_s = 60;
    }
    if (l->idle_timeout_s == 0) {
        l->idle_timeout_s = 30;
    }
    if (l->write_timeout_s == 0) {
        l->write_timeout_s = 60;
    }
    if (l->max_body_memory == 0) {
        l->max_body_memory = 256u << 20;
    }
}

static void server_free(struct vt_http_server *s)
{
    if (s->lfd >= 0) {
        close(s->lfd);
    }
    if (s->spare_fd >= 0) {
        close(s->spare_fd);
    }
    pthread_mutex_destroy(&s->spare_mu);
    vt_tls_server_free(s->tls);
    vt_http_rates_free(s->rates);
    vt_http_peers_free(s->peers);
    vt_http_proxies_cleanup(&s->proxies);
    free(s->workers);
    free(s);
}

static enum vt_err listen_on(struct vt_http_server *s, const struct sockaddr_in *sa,
                             struct vt_diag *d)
{
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    VT_ENSURE(s->lfd >= 0, d, VT_E_IO, "listen", "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa->sin_addr, host, sizeof(host));
    VT_ENSURE(bind(s->lfd, (const struct sockaddr *)sa, sizeof(*sa)) == 0, d, VT_E_IO, "listen",
              "cannot listen on %s:%u: %s", host, ntohs(sa->sin_port), strerror(errno));
    VT_ENSURE(listen(s->lfd, 4096) == 0, d, VT_E_IO, "listen", "listen: %s", strerror(errno));
    struct sockaddr_in bound;
    socklen_t bl = sizeof(bound);
    VT_ENSURE(getsockname(s->lfd, (struct sockaddr *)&bound, &bl) == 0, d, VT_E_IO, "listen",
              "getsockname: %s", strerror(errno));
    s->port = ntohs(bound.sin_port);
    return VT_OK;
}

static enum vt_err workers_start(struct vt_http_server *s, struct vt_diag *d)
{
    s->workers = calloc(s->n_workers, sizeof(*s->workers));
    VT_ENSURE(s->workers != NULL, d, VT_E_NOMEM, "http_server", "cannot allocate the workers");
    /* Workers never take SIGPIPE (a peer that went away is an error return), and leave
     * SIGINT/SIGTERM to the thread that waits for them. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    enum vt_err err = VT_OK;
    unsigned started = 0;
    for (unsigned i = 0; i < s->n_workers; i++) {
        struct worker *w = &s->workers[i];
        w->s = s;
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &s->lfd};
        struct epoll_event wev = {.events = EPOLLIN, .data.ptr = &w->wake};
        if (w->ep < 0 || w->wake < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, s->lfd, &lev) != 0 ||
            epoll_ctl(w->ep, EPOLL_CTL_ADD, w->wake, &wev) != 0 ||
            pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            err = vt_fail(d, VT_E_IO, "http_server", "cannot start worker %u: %s", i,
                          strerror(errno));
            if (w->ep >= 0) {
                close(w->ep);
            }
            if (w->wake >= 0) {
                close(w->wake);
            }
            break;
        }
        started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != VT_OK) {
        s->n_workers = started;
    }
    return err;
}

void vt_http_server_stop(struct vt_http_server *s)
{
    if (s == NULL) {
        return;
    }
    for (unsigned i = 0; i < s->n_workers; i++) {
        atomic_store(&s->workers[i].stop, true);
        uint64_t one = 1;
        (void)!write(s->workers[i].wake, &one, sizeof(one));
    }
    for (unsigned i = 0; i < s->n_workers; i++) {
        pthread_join(s->workers[i].thread, NULL);
        close(s->workers[i].ep);
        close(s->workers[i].wake);
    }
    server_free(s);
}

enum vt_err vt_http_server_start(const struct vt_http_server_opts *o, vt_http_handler h, void *ctx,
                                 struct vt_http_server **out, struct vt_diag *d)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o->port);
    const char *host = o->host != NULL ? o->host : "127.0.0.1";
    if (strcmp(host, "localhost") == 0) {
        host = "127.0.0.1";
    }
    VT_ENSURE(inet_pton(AF_INET, host, &sa.sin_addr) == 1, d, VT_E_ARG, "listen",
              "listen address \"%s\" is not an IPv4 address", host);
    VT_ENSURE(o->port <= 65535, d, VT_E_ARG, "listen", "port %u is out of range", o->port);
    struct vt_http_server *s = calloc(1, sizeof(*s));
    VT_ENSURE(s != NULL, d, VT_E_NOMEM, "http_server", "cannot allocate the server");
    s->lfd = -1;
    s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    pthread_mutex_init(&s->spare_mu, NULL);
    s->handler = h;
    s->route = o->route;
    s->ctx = ctx;
    s->default_body = o->max_body > 0 ? o->max_body : (1u << 20);
    s->lim = o->limits;
    limits_defaults(&s->lim);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    s->n_workers = o->threads > 0 ? o->threads : (ncpu > 0 ? (unsigned)ncpu : 1);
    enum vt_err err = vt_http_proxies_parse(s->lim.trusted_proxies, &s->proxies, d);
    s->lim.trusted_proxies = NULL; /* parsed; the caller's string is not kept */
    if (err == VT_OK && ((s->peers = vt_http_peers_new()) == NULL ||
                         (s->rates = vt_http_rates_new(s->lim.rates)) == NULL)) {
        err = vt_fail(d, VT_E_NOMEM, "http_server", "cannot allocate the client tables");
    }
    if (err == VT_OK && o->tls_cert != NULL) {
        err = vt_tls_server_new(o->tls_cert, o->tls_key != NULL ? o->tls_key : "", &s->tls, d);
    }
    if (err == VT_OK) {
        err = listen_on(s, &sa, d);
    }
    if (err == VT_OK) {
        err = workers_start(s, d);
        if (err != VT_OK) {
            vt_http_server_stop(s);
            return err;
        }
    }
    if (err != VT_OK) {
        server_free(s);
        return err;
    }
    *out = s;
    return VT_OK;
}

unsigned vt_http_server_port(const struct vt_http_server *s)
{
    return s->port;
}

enum vt_err vt_http_proxies_check(const char *list, struct vt_diag *d)
{
    struct vt_http_proxies p;
    VT_TRY(vt_http_proxies_parse(list, &p, d));
    vt_http_proxies_cleanup(&p);
    return VT_OK;
}

enum vt_err vt_http_server_metrics(struct vt_http_server *s, struct vt_buf *out)
{
    static const struct {
        enum counter c;
        const char *name, *label, *help;
    } rows[] = {
        {C_ACCEPTED, "connections_accepted_total", NULL, "Connections accepted."},
        {C_REFUSED_FULL, "connections_refused_total", "reason=\"limit\"",
         "Connections refused at accept, or requests refused on a reserved connection."},
        {C_REFUSED_CLIENT, "connections_refused_total", "reason=\"per_client\"", NULL},
        {C_REFUSED_RESERVE, "connections_refused_total", "reason=\"reserve\"", NULL},
        {C_EVICTED, "connections_evicted_total", NULL,
         "Connections without a whole request head closed to admit a new one at the limit."},
        {C_TIMEOUT_HEAD, "timeouts_total", "phase=\"head\"",
         "Connections closed for missing a phase deadline."},
        {C_TIMEOUT_BODY, "timeouts_total", "phase=\"body\"", NULL},
        {C_TIMEOUT_IDLE, "timeouts_total", "phase=\"idle\"", NULL},
        {C_TIMEOUT_WRITE, "timeouts_total", "phase=\"write\"", NULL},
        {C_BAD_REQUEST, "requests_refused_total", "reason=\"malformed\"",
         "Requests refused before the handler ran."},
        {C_TOO_LARGE, "requests_refused_total", "reason=\"body_size\"", NULL},
        {C_BODY_MEMORY, "requests_refused_total", "reason=\"body_memory\"", NULL},
        {C_RATE_ATTEST, "requests_refused_total", "reason=\"rate_attest\"", NULL},
        {C_RATE_READ, "requests_refused_total", "reason=\"rate_read\"", NULL},
        {C_REQUESTS, "requests_total", NULL, "Requests passed to the handler."},
    };
    if (s == NULL) {
        return VT_OK;
    }
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (rows[i].help != NULL) {
            VT_TRY(vt_buf_printf(out, "# HELP veritee_http_%s %s\n# TYPE veritee_http_%s counter\n",
                                 rows[i].name, rows[i].help, rows[i].name));
        }
        VT_TRY(vt_buf_printf(out, "veritee_http_%s%s%s%s %llu\n", rows[i].name,
                             rows[i].label ? "{" : "", rows[i].label ? rows[i].label : "",
                             rows[i].label ? "}" : "",
                             (unsigned long long)atomic_load(&s->counters[rows[i].c])));
    }
    VT_TRY(vt_buf_printf(out,
                         "# HELP veritee_http_connections_open Connections open now.\n"
                         "# TYPE veritee_http_connections_open gauge\n"
                         "veritee_http_connections_open %u\n"
                         "# HELP veritee_http_body_bytes Request body bytes held in memory now.\n"
                         "# TYPE veritee_http_body_bytes gauge\nveritee_http_body_bytes %zu\n"
                         "# HELP veritee_http_body_bytes_limit The limit of body bytes in memory.\n"
                         "# TYPE veritee_http_body_bytes_limit gauge\n"
                         "veritee_http_body_bytes_limit %zu\n",
                         atomic_load(&s->open), atomic_load(&s->body_bytes),
                         s->lim.max_body_memory));
    return VT_OK;
}
