/*
 * The HTTP server against hostile clients, over raw sockets on loopback (client addresses
 * 127.0.0.x): one reading of every request (Content-Length with Transfer-Encoding, a NUL in a
 * header, encoded and dot-segment paths), answers from the head before any body byte (401, 404,
 * 413), the memory budget of bodies in flight, phase deadlines against clients that trickle,
 * per-client connection limits with a reserve for health and admin calls, per-client rate limits
 * (429 with Retry-After) on the socket address or behind a trusted proxy, 100-continue,
 * pipelining, chunked bodies, HEAD, and responses that would split a header.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/http.h"

static atomic_int handled;

static void handler(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)ctx;
    atomic_fetch_add(&handled, 1);
    const char *path = vt_http_req_path(req);
    if (strcmp(path, "/big") == 0) {
        static uint8_t big[16u << 20];
        vt_http_resp_status(resp, 200, "application/octet-stream");
        resp->body_static = big;
        resp->body_len = sizeof(big);
        return;
    }
    if (strcmp(path, "/split") == 0) {
        vt_http_resp_status(resp, 200, "text/plain");
        assert_true(vt_http_resp_header(resp, "X-Bad", "a\r\nSet-Cookie: stolen=1"));
        assert_true(vt_http_resp_body(resp, "x", 1));
        return;
    }
    size_t n;
    const uint8_t *b = vt_http_req_body(req, &n);
    vt_http_resp_status(resp, 200, "application/octet-stream");
    assert_true(vt_http_resp_body(resp, b, n));
}

/* /admin/...: priority, needs "Bearer good"; /healthz: priority; /echo, /whoami, /big, /split:
 * read class, 1 KiB bodies; /attest: attest class, 800 KiB bodies; anything else: 404 at once. */
static void route(void *ctx, const struct vt_http_req *req, struct vt_http_route *r,
                  struct vt_http_resp *resp)
{
    (void)ctx;
    const char *path = vt_http_req_path(req);
    const char *auth = vt_http_req_header(req, "Authorization");
    if (strncmp(path, "/admin/", 7) == 0) {
        *r = (struct vt_http_route){1u << 20, VT_HTTP_RATE_NONE, true, NULL};
        if (auth == NULL || strcmp(auth, "Bearer good") != 0) {
            vt_http_problem(resp, 401, "Unauthorized", "token", NULL);
        }
    } else if (strcmp(path, "/healthz") == 0) {
        *r = (struct vt_http_route){0, VT_HTTP_RATE_NONE, true, NULL};
    } else if (strcmp(path, "/attest") == 0) {
        *r = (struct vt_http_route){800u << 10, VT_HTTP_RATE_ATTEST, false, NULL};
    } else if (strcmp(path, "/echo") == 0 || strcmp(path, "/whoami") == 0 ||
               strcmp(path, "/big") == 0 || strcmp(path, "/split") == 0) {
        *r = (struct vt_http_route){1024, VT_HTTP_RATE_READ, false, NULL};
    } else {
        vt_http_problem(resp, 404, "Not Found", path, NULL);
    }
}

static struct vt_http_server *start_n(const struct vt_http_limits *lim, unsigned threads,
                                      unsigned *port)
{
    struct vt_http_server_opts o = {.threads = threads, .route = route};
    if (lim != NULL) {
        o.limits = *lim;
    }
    struct vt_http_server *s = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_http_server_start(&o, handler, NULL, &s, &d) != VT_OK) {
        fail_msg("start: %s", d.detail);
    }
    *port = vt_http_server_port(s);
    return s;
}

static struct vt_http_server *start(const struct vt_http_limits *lim, unsigned *port)
{
    return start_n(lim, 2, port);
}

/* A connection from 127.0.0.<from> (loopback holds the whole /8). */
static int dial(int from, unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(0x7f000000u | (unsigned)from);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    a.sin_addr.s_addr = htonl(0x7f000001u);
    a.sin_port = htons((uint16_t)port);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void put(int fd, const void *p, size_t n)
{
    assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void puts_(int fd, const char *s)
{
    put(fd, s, strlen(s));
}

/* Read until the peer closes, cap bytes, or timeout_ms of silence. Returns bytes read; *closed
 * tells whether the peer closed (EOF or reset). */
static size_t drain(int fd, char *buf, size_t cap, int timeout_ms, bool *closed)
{
    size_t n = 0;
    *closed = false;
    while (n + 1 < cap) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0) {
            break;
        }
        ssize_t got = recv(fd, buf + n, cap - 1 - n, 0);
        if (got <= 0) {
            *closed = true;
            break;
        }
        n += (size_t)got;
    }
    buf[n] = '\0';
    return n;
}

/* Read one response: its head and a Content-Length body. Returns the status. */
static int response(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    char *end = NULL;
    while ((end = strstr(buf, "\r\n\r\n")) == NULL || n < (size_t)(end - buf) + 4) {
        struct pollfd p = {fd, POLLIN, 0};
        if (n + 1 >= cap || poll(&p, 1, 5000) <= 0) {
            return -1;
        }
        ssize_t got = recv(fd, buf + n, 1, 0);
        if (got <= 0) {
            return -1;
        }
        n += (size_t)got;
        buf[n] = '\0';
    }
    const char *cl = strstr(buf, "Content-Length: ");
    size_t want = cl != NULL ? strtoul(cl + 16, NULL, 10) : 0;
    size_t head = (size_t)(end - buf) + 4;
    if (strncmp(buf, "HEAD", 4) != 0) {
        while (n < head + want && n + 1 < cap) {
            ssize_t got =
                recv(fd, buf + n, cap - 1 - n < head + want - n ? cap - 1 - n : head + want - n, 0);
            if (got <= 0) {
                return -1;
            }
            n += (size_t)got;
        }
        buf[n] = '\0';
    }
    return (int)strtol(buf + 9, NULL, 10);
}

static int count_of(const char *hay, const char *needle)
{
    int k = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++) {
        k++;
    }
    return k;
}

static uint64_t metric(struct vt_http_server *s, const char *name)
{
    struct vt_buf b;
    vt_buf_init(&b, 1 << 16);
    assert_int_equal(vt_http_server_metrics(s, &b), VT_OK);
    char key[128];
    snprintf(key, sizeof(key), "\n%s ", name);
    const char *p = strstr((const char *)b.data, key);
    uint64_t v = p != NULL ? strtoull(p + strlen(key), NULL, 10) : UINT64_MAX;
    vt_buf_cleanup(&b);
    return v;
}

static void test_one_reading(void **state)
{
    (void)state;
    unsigned port;
    struct vt_http_server *s = start(NULL, &port);
    char buf[8192];
    bool closed;
    int before = atomic_load(&handled);
    /* CL.TE: the chunked reading would leave "GET /admin/x" as a second request */
    int fd = dial(1, port);
    puts_(fd, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 30\r\nTransfer-Encoding: "
              "chunked\r\n\r\n0\r\n\r\nGET /admin/x HTTP/1.1\r\nHost: a\r\n\r\n");
    drain(fd, buf, sizeof(buf), 3000, &closed);
    assert_true(closed);
    assert_int_equal(count_of(buf, "HTTP/1.1 "), 1);
    assert_non_null(strstr(buf, "HTTP/1.1 400 "));
    assert_non_null(strstr(buf, "http.framing"));
    close(fd);
    /* a NUL in the Authorization value */
    fd = dial(1, port);
    static const char nul[] = "GET /admin/x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer "
                              "good\0junk\r\n\r\n";
    put(fd, nul, sizeof(nul) - 1);
    assert_int_equal(response(fd, buf, sizeof(buf)), 400);
    assert_non_null(strstr(buf, "http.field.value"));
    close(fd);
    fd = dial(1, port);
    puts_(fd, "GET /admin/x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer good\r\n\r\n");
    assert_int_equal(response(fd, buf, sizeof(buf)), 200);
    /* paths as sent: encoded or dot segments are refused, not decoded into /admin */
    const char *paths[] = {"/%61dmin/x", "/echo/../admin/x", "/./admin/x",
                           "//admin/x",  "/admin%2Fx",       "/echo%00"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        char req[256];
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", paths[i]);
        int f2 = dial(1, port);
        puts_(f2, req);
        assert_int_equal(response(f2, buf, sizeof(buf)), 400);
        assert_non_null(strstr(buf, "http.path"));
        close(f2);
    }
    close(fd);
    /* only the one authorised request reached the handler */
    assert_int_equal(atomic_load(&handled), before + 1);
    assert_true(metric(s, "veritee_http_requests_refused_total{reason=\"malformed\"}") >= 8);
    vt_http_server_stop(s);
}

static void test_answers_from_the_head(void **state)
{
    (void)state;
    unsigned port;
    struct vt_http_server *s = start(NULL, &port);
    char buf[8192];
    bool closed;
    int before = atomic_load(&handled);
    const char *heads[] = {
        /* no token: 401 */
        "POST /admin/import HTTP/1.1\r\nHost: a\r\nContent-Length: 7340032\r\n\r\n",
        /* no such route: 404 */
        "POST /nowhere HTTP/1.1\r\nHost: a\r\nContent-Length: 7340032\r\n\r\n",
        /* over the route's limit: 413 */
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1025\r\n\r\n",
        /* a chunked body to a route that takes none: 413 */
        "POST /healthz HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
    };
    const int want[] = {401, 404, 413, 413};
    for (size_t i = 0; i < 4; i++) {
        int fd = dial(1, port);
        puts_(fd, heads[i]); /* the head only: the body never comes */
        drain(fd, buf, sizeof(buf), 3000, &closed);
        char status[16];
        snprintf(status, sizeof(status), " %d ", want[i]);
        if (strstr(buf, status) == NULL || !closed) {
            fail_msg("case %zu: %s (closed %d)", i, buf, closed);
        }
        assert_non_null(strstr(buf, "Connection: close"));
        close(fd);
    }
    assert_int_equal(atomic_load(&handled), before);
    assert_int_equal(metric(s, "veritee_http_body_bytes"), 0);
    /* 100-continue: the client waits for the go-ahead before it sends the body */
    int fd = dial(1, port);
    puts_(fd,
          "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    size_t n = drain(fd, buf, sizeof(buf), 1000, &closed);
    assert_true(n > 0);
    assert_string_equal(buf, "HTTP/1.1 100 Continue\r\n\r\n");
    puts_(fd, "hello");
    memset(buf, 0, sizeof(buf));
    assert_int_equal(response(fd, buf, sizeof(buf)), 200);
    assert_non_null(strstr(buf, "\r\n\r\nhello"));
    close(fd);
    /* ... and gets the refusal instead when there is one */
    fd = dial(1, port);
    puts_(fd,
          "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
    memset(buf, 0, sizeof(buf));
    assert_int_equal(response(fd, buf, sizeof(buf)), 413);
    close(fd);
    vt_http_server_stop(s);
}

static void test_body_memory(void **state)
{
    (void)state;
    struct vt_http_limits lim = {.max_body_memory = 1u << 20};
    unsigned port;
    struct vt_http_server *s = start(&lim, &port);
    char buf[8192];
    static char body[600000];
    memset(body, 'b', sizeof(body));
    /* A holds 600000 bytes of the 1 MiB budget with an unfinished body */
    int a = dial(1, port);
    puts_(a, "POST /attest HTTP/1.1\r\nHost: a\r\nContent-Length: 600000\r\n\r\n");
    put(a, body, 1000);
    usleep(200 * 1000);
    assert_int_equal(metric(s, "veritee_http_body_bytes"), 600000);
    /* B cannot have another 600000 */
    int b = dial(2, port);
    puts_(b, "POST /attest HTTP/1.1\r\nHost: a\r\nContent-Length: 600000\r\n\r\n");
    assert_int_equal(response(b, buf, sizeof(buf)), 503);
    assert_non_null(strstr(buf, "Retry-After: 1"));
    assert_non_null(strstr(buf, "body-memory"));
    close(b);
    /* A finishes; the budget is free again */
    put(a, body + 1000, sizeof(body) - 1000);
    static char big[700000];
    assert_int_equal(response(a, big, sizeof(big)), 200);
    close(a);
    assert_int_equal(metric(s, "veritee_http_body_bytes"), 0);
    b = dial(2, port);
    puts_(b, "POST /attest HTTP/1.1\r\nHost: a\r\nContent-Length: 600000\r\n\r\n");
    put(b, body, sizeof(body));
    assert_int_equal(response(b, big, sizeof(big)), 200);
    close(b);
    assert_int_equal(metric(s, "veritee_http_requests_refused_total{reason=\"body_memory\"}"), 1);
    vt_http_server_stop(s);
}

static void test_deadlines(void **state)
{
    (void)state;
    struct vt_http_limits lim = {.head_timeout_s = 1, .body_timeout_s = 1, .write_timeout_s = 1};
    unsigned port;
    struct vt_http_server *s = start(&lim, &port);
    char buf[8192];
    bool closed = false;
    /* a head trickled a byte every 100 ms: cut off at the head deadline, with a 408 */
    int fd = dial(2, port);
    const char *head = "GET /echo HTTP/1.1\r\nHost: a\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    size_t sent = 0;
    for (; sent < strlen(head); sent++) {
        if (send(fd, head + sent, 1, MSG_NOSIGNAL) != 1) {
            break;
        }
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) > 0) {
            break; /* the server answered (and closed) before the head was done */
        }
    }
    assert_true(sent < strlen(head));
    drain(fd, buf, sizeof(buf), 2000, &closed);
    assert_true(closed);
    assert_non_null(strstr(buf, "408"));
    close(fd);
    /* a connection that never sends anything is closed too */
    fd = dial(2, port);
    drain(fd, buf, sizeof(buf), 4000, &closed);
    assert_true(closed);
    close(fd);
    /* a body that stops arriving */
    fd = dial(2, port);
    puts_(fd, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc");
    drain(fd, buf, sizeof(buf), 4000, &closed);
    assert_true(closed);
    close(fd);
    /* a client that never reads its response */
    fd = dial(2, port);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    puts_(fd, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
    for (int i = 0; i < 40 && metric(s, "veritee_http_timeouts_total{phase=\"write\"}") == 0; i++) {
        usleep(100 * 1000);
    }
    assert_int_equal(metric(s, "veritee_http_timeouts_total{phase=\"write\"}"), 1);
    close(fd);
    assert_true(metric(s, "veritee_http_timeouts_total{phase=\"head\"}") >= 2);
    assert_int_equal(metric(s, "veritee_http_timeouts_total{phase=\"body\"}"), 1);
    assert_int_equal(metric(s, "veritee_http_connections_open"), 0);
    vt_http_server_stop(s);
}

/* Wait (up to 2 s) until the server has seen closed connections go: n open. */
static void wait_open(struct vt_http_server *s, uint64_t n)
{
    /* up to 5 s: the suite runs under sanitizers beside other tests on 2 cores */
    for (int i = 0; i < 100 && metric(s, "veritee_http_connections_open") != n; i++) {
        usleep(50 * 1000);
    }
    assert_int_equal(metric(s, "veritee_http_connections_open"), n);
}

/* A connection from 127.0.0.<from> busy with a request: its head sent, its body not. */
static int busy(int from, unsigned port, bool admin)
{
    int fd = dial(from, port);
    puts_(fd, admin ? "POST /admin/x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer good\r\n"
                      "Content-Length: 10\r\n\r\nabc"
                    : "POST /attest HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
    return fd;
}

static void test_connection_limits(void **state)
{
    (void)state;
    struct vt_http_limits lim = {
        .max_connections = 20, .reserved_connections = 4, .max_connections_per_client = 6};
    unsigned port;
    /* one worker: which connection is the oldest is then the order they were opened in */
    struct vt_http_server *s = start_n(&lim, 1, &port);
    char buf[8192];
    bool closed;
    int fds[32], n = 0;
    /* 127.0.0.2 holds its 6; its 7th and 8th are refused with 429 */
    for (int i = 0; i < 6; i++) {
        fds[n++] = busy(2, port, false);
    }
    usleep(200 * 1000);
    for (int i = 0; i < 2; i++) {
        int fd = dial(2, port);
        drain(fd, buf, sizeof(buf), 2000, &closed);
        assert_true(closed);
        assert_non_null(strstr(buf, "HTTP/1.1 429 "));
        close(fd);
    }
    /* meanwhile 127.0.0.1 is served */
    int fd = dial(1, port);
    puts_(fd, "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(response(fd, buf, sizeof(buf)), 200);
    close(fd);
    wait_open(s, 6);
    /* busy up to the reserve: 6 + 6 + 4 = 16 of 20 */
    for (int i = 0; i < 6; i++) {
        fds[n++] = busy(3, port, false);
    }
    for (int i = 0; i < 4; i++) {
        fds[n++] = busy(4, port, false);
    }
    wait_open(s, 16);
    /* on a reserved connection: health and admin calls only */
    fd = dial(5, port);
    puts_(fd, "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(response(fd, buf, sizeof(buf)), 503);
    assert_non_null(strstr(buf, "only health and admin"));
    close(fd);
    wait_open(s, 16);
    fd = dial(5, port);
    puts_(fd, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(response(fd, buf, sizeof(buf)), 200);
    close(fd);
    wait_open(s, 16);
    /* a whole request outranks a connection without one: when the first from 127.0.0.2 is done
     * and idle, a call on a reserved connection takes its slot and is served */
    put(fds[0], "0123456", 7);
    assert_int_equal(response(fds[0], buf, sizeof(buf)), 200);
    fd = dial(5, port);
    puts_(fd, "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(response(fd, buf, sizeof(buf)), 200);
    close(fd);
    assert_int_equal(metric(s, "veritee_http_connections_evicted_total"), 1);
    drain(fds[0], buf, sizeof(buf), 2000, &closed);
    assert_true(closed);
    close(fds[0]);
    fds[0] = busy(2, port, false);
    /* full of busy connections (admin calls in the reserve): refused at accept */
    for (int i = 0; i < 4; i++) {
        fds[n++] = busy(6, port, true);
    }
    wait_open(s, 20);
    fd = dial(9, port);
    drain(fd, buf, sizeof(buf), 2000, &closed);
    assert_true(closed);
    assert_non_null(strstr(buf, "HTTP/1.1 503 "));
    close(fd);
    for (int i = 0; i < n; i++) {
        close(fds[i]);
    }
    assert_int_equal(metric(s, "veritee_http_connections_refused_total{reason=\"per_client\"}"), 2);
    assert_int_equal(metric(s, "veritee_http_connections_refused_total{reason=\"reserve\"}"), 1);
    assert_int_equal(metric(s, "veritee_http_connections_refused_total{reason=\"limit\"}"), 1);
    assert_int_equal(metric(s, "veritee_http_connections_evicted_total"), 1);
    vt_http_server_stop(s);
}

/* A full server takes a newcomer in the place of a connection that never sent a request. */
static void test_eviction(void **state)
{
    (void)state;
    struct vt_http_limits lim = {.max_connections = 8, .reserved_connections = 2};
    unsigned port;
    struct vt_http_server *s = start_n(&lim, 1, &port);
    char buf[8192];
    bool closed;
    int fds[8];
    for (int i = 0; i < 8; i++) {
        fds[i] = dial(2, port);
        puts_(fds[i], "GET /echo HTTP/1.1\r\n"); /* a head that never ends */
        usleep(20 * 1000);
    }
    usleep(200 * 1000);
    int fd = dial(1, port);
    puts_(fd, "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(response(fd, buf, sizeof(buf)), 200); /* the oldest slot, not a reserved one */
    close(fd);
    drain(fds[0], buf, sizeof(buf), 2000, &closed);
    assert_true(closed);
    assert_int_equal(metric(s, "veritee_http_connections_evicted_total"), 1);
    for (int i = 0; i < 8; i++) {
        close(fds[i]);
    }
    vt_http_server_stop(s);
}

/* n GETs of path on one connection from 127.0.0.<from>, with an X-Forwarded-For if given;
 * returns the status of the last, with its response in buf. */
static int get_n(unsigned port, int from, const char *path, const char *xff, int n, char *buf,
                 size_t cap)
{
    int fd = dial(from, port), st = -1;
    for (int i = 0; i < n; i++) {
        char req[256];
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: a\r\n%s%s%s\r\n", path,
                 xff ? "X-Forwarded-For: " : "", xff ? xff : "", xff ? "\r\n" : "");
        puts_(fd, req);
        memset(buf, 0, cap);
        st = response(fd, buf, cap);
    }
    close(fd);
    return st;
}

static void test_rate_limits(void **state)
{
    (void)state;
    struct vt_http_limits lim = {.trusted_proxies = "127.0.0.3, 10.0.0.0/8"};
    lim.rates[VT_HTTP_RATE_READ] = (struct vt_http_rate){0.01, 2};
    unsigned port;
    struct vt_http_server *s = start(&lim, &port);
    char buf[8192];
    /* 127.0.0.2: two in its burst, then 429 with Retry-After, on a connection kept open */
    assert_int_equal(get_n(port, 2, "/echo", NULL, 2, buf, sizeof(buf)), 200);
    int fd = dial(2, port);
    puts_(fd, "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(response(fd, buf, sizeof(buf)), 429);
    assert_non_null(strstr(buf, "Retry-After: "));
    assert_true(strtol(strstr(buf, "Retry-After: ") + 13, NULL, 10) >= 1);
    assert_null(strstr(buf, "Connection: close"));
    puts_(fd, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"); /* not rate-limited */
    assert_int_equal(response(fd, buf, sizeof(buf)), 200);
    close(fd);
    /* an untrusted client cannot pick its bucket with X-Forwarded-For */
    assert_int_equal(get_n(port, 2, "/echo", "198.51.100.1", 1, buf, sizeof(buf)), 429);
    assert_int_equal(get_n(port, 2, "/whoami", "198.51.100.1", 1, buf, sizeof(buf)), 429);
    /* another address has its own bucket (the 429 names the client whose bucket is empty) */
    assert_int_equal(get_n(port, 4, "/whoami", NULL, 2, buf, sizeof(buf)), 200);
    assert_int_equal(get_n(port, 4, "/whoami", NULL, 1, buf, sizeof(buf)), 429);
    assert_non_null(strstr(buf, "client 127.0.0.4 is over"));
    /* behind the trusted proxy 127.0.0.3, each forwarded client has its own bucket: the
     * right-most address that is not a trusted proxy */
    assert_int_equal(get_n(port, 3, "/whoami", "203.0.113.9, 10.1.2.3", 2, buf, sizeof(buf)), 200);
    assert_int_equal(get_n(port, 3, "/whoami", "203.0.113.9, 10.1.2.3", 1, buf, sizeof(buf)), 429);
    assert_non_null(strstr(buf, "client 203.0.113.9 is over"));
    assert_int_equal(get_n(port, 3, "/echo", "192.0.2.1, 203.0.113.9", 1, buf, sizeof(buf)), 429);
    assert_int_equal(get_n(port, 3, "/echo", "203.0.113.10", 2, buf, sizeof(buf)), 200);
    /* an unreadable entry counts against the proxy itself */
    assert_int_equal(get_n(port, 3, "/whoami", "not-an-address", 2, buf, sizeof(buf)), 200);
    assert_int_equal(get_n(port, 3, "/whoami", "not-an-address", 1, buf, sizeof(buf)), 429);
    assert_non_null(strstr(buf, "client 127.0.0.3 is over"));
    assert_true(metric(s, "veritee_http_requests_refused_total{reason=\"rate_read\"}") >= 4);
    vt_http_server_stop(s);
}

static void test_framing_features(void **state)
{
    (void)state;
    unsigned port;
    struct vt_http_server *s = start(NULL, &port);
    char buf[8192];
    bool closed;
    /* two pipelined requests, the second chunked, answered in order on one connection */
    int fd = dial(1, port);
    puts_(fd, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\none"
              "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
              "3\r\ntwo\r\n4;x=y\r\nfour\r\n0\r\nX-Trailer: t\r\n\r\n");
    assert_int_equal(response(fd, buf, sizeof(buf)), 200);
    assert_non_null(strstr(buf, "\r\n\r\none"));
    memset(buf, 0, sizeof(buf));
    assert_int_equal(response(fd, buf, sizeof(buf)), 200);
    assert_non_null(strstr(buf, "\r\n\r\ntwofour"));
    /* HEAD: the length, no body */
    puts_(fd, "HEAD /echo HTTP/1.1\r\nHost: a\r\n\r\n");
    size_t n = drain(fd, buf, sizeof(buf), 500, &closed);
    assert_true(n > 0 && !closed);
    assert_non_null(strstr(buf, "Content-Length: 0\r\n"));
    assert_true(strstr(buf, "\r\n\r\n") + 4 == buf + n);
    close(fd);
    /* HTTP/1.0 closes after the response */
    fd = dial(1, port);
    puts_(fd, "GET /echo HTTP/1.0\r\n\r\n");
    drain(fd, buf, sizeof(buf), 2000, &closed);
    assert_true(closed);
    assert_non_null(strstr(buf, "HTTP/1.1 200 "));
    close(fd);
    /* a chunked body that breaks its framing */
    fd = dial(1, port);
    puts_(fd, "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    assert_int_equal(response(fd, buf, sizeof(buf)), 400);
    assert_non_null(strstr(buf, "http.chunked"));
    close(fd);
    /* a response header that would split the response is never sent */
    fd = dial(1, port);
    puts_(fd, "GET /split HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(response(fd, buf, sizeof(buf)), 500);
    assert_null(strstr(buf, "stolen"));
    close(fd);
    /* HTTP/2 and unknown versions */
    fd = dial(1, port);
    puts_(fd, "GET /echo HTTP/2.0\r\nHost: a\r\n\r\n");
    assert_int_equal(response(fd, buf, sizeof(buf)), 505);
    close(fd);
    vt_http_server_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_reading),       cmocka_unit_test(test_answers_from_the_head),
        cmocka_unit_test(test_body_memory),       cmocka_unit_test(test_deadlines),
        cmocka_unit_test(test_connection_limits), cmocka_unit_test(test_eviction),
        cmocka_unit_test(test_rate_limits),       cmocka_unit_test(test_framing_features),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
