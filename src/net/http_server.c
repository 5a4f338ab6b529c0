/*
 * HTTP server over libmicrohttpd: an epoll thread pool, optional TLS (GnuTLS inside MHD), bounded
 * request bodies, and one synchronous handler per request. Handlers fill a vt_http_resp; this file
 * turns it into an MHD response and frees it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "net/http.h"

struct vt_http_server {
    struct MHD_Daemon *daemon;
    vt_http_handler handler;
    void *ctx;
    size_t max_body;
    unsigned port;
};

struct vt_http_req {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    struct vt_buf body;
    bool too_large;
};

const char *vt_http_req_method(const struct vt_http_req *r)
{
    return r->method;
}

const char *vt_http_req_path(const struct vt_http_req *r)
{
    return r->path;
}

const char *vt_http_req_arg(const struct vt_http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct args_visit {
    void (*fn)(void *ctx, const char *name, const char *value);
    void *ctx;
};

static enum MHD_Result visit_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    struct args_visit *v = cls;
    v->fn(v->ctx, key, value != NULL ? value : "");
    return MHD_YES;
}

void vt_http_req_args(const struct vt_http_req *r,
                      void (*fn)(void *ctx, const char *name, const char *value), void *ctx)
{
    struct args_visit v = {fn, ctx};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, visit_arg, &v);
}

const char *vt_http_req_header(const struct vt_http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const uint8_t *vt_http_req_body(const struct vt_http_req *r, size_t *len)
{
    *len = r->body.len;
    return r->body.data != NULL ? r->body.data : (const uint8_t *)"";
}

void vt_http_req_peer(const struct vt_http_req *r, char *out, size_t cap)
{
    snprintf(out, cap, "?");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL) {
        return;
    }
    if (ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ci->client_addr;
        inet_ntop(AF_INET, &a->sin_addr, out, (socklen_t)cap);
    } else if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)ci->client_addr;
        inet_ntop(AF_INET6, &a->sin6_addr, out, (socklen_t)cap);
    }
}

void vt_http_resp_status(struct vt_http_resp *r, unsigned status, const char *content_type)
{
    r->status = status;
    snprintf(r->content_type, sizeof(r->content_type), "%s", content_type ? content_type : "");
}

bool vt_http_resp_header(struct vt_http_resp *r, const char *name, const char *value)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0) {
            char *v = strdup(value);
            if (v == NULL) {
                return false;
            }
            free(r->headers[i].value);
            r->headers[i].value = v;
            return true;
        }
    }
    if (r->n_headers == VT_HTTP_MAX_HEADERS || strlen(name) >= sizeof(r->headers[0].name)) {
        return false;
    }
    char *v = strdup(value);
    if (v == NULL) {
        return false;
    }
    snprintf(r->headers[r->n_headers].name, sizeof(r->headers[0].name), "%s", name);
    r->headers[r->n_headers].value = v;
    r->n_headers++;
    return true;
}

bool vt_http_resp_body(struct vt_http_resp *r, const void *p, size_t n)
{
    uint8_t *b = malloc(n > 0 ? n : 1);
    if (b == NULL) {
        return false;
    }
    if (n > 0) {
        memcpy(b, p, n);
    }
    free(r->body);
    r->body = b;
    r->body_len = n;
    r->body_static = NULL;
    return true;
}

bool vt_http_resp_printf(struct vt_http_resp *r, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s != NULL) {
        vsnprintf(s, (size_t)n + 1, fmt, ap2);
    }
    va_end(ap2);
    if (s == NULL) {
        return false;
    }
    free(r->body);
    r->body = (uint8_t *)s;
    r->body_len = (size_t)n;
    r->body_static = NULL;
    return true;
}

void vt_http_resp_cleanup(struct vt_http_resp *r)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].value);
    }
    free(r->body);
    memset(r, 0, sizeof(*r));
}

static enum MHD_Result send_resp(struct MHD_Connection *conn, struct vt_http_resp *out)
{
    const void *body = out->body_static != NULL ? (const void *)out->body_static : out->body;
    size_t len = body != NULL ? out->body_len : 0;
    struct MHD_Response *mr =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (mr == NULL) {
        return MHD_NO;
    }
    if (out->content_type[0] != '\0') {
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, out->content_type);
    }
    for (size_t i = 0; i < out->n_headers; i++) {
        MHD_add_response_header(mr, out->headers[i].name, out->headers[i].value);
    }
    enum MHD_Result ret = MHD_queue_response(conn, out->status ? out->status : 500, mr);
    MHD_destroy_response(mr);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct vt_http_server *s = cls;
    struct vt_http_req *req = *con_cls;
    if (req == NULL) {
        req = calloc(1, sizeof(*req));
        if (req == NULL) {
            return MHD_NO;
        }
        vt_buf_init(&req->body, s->max_body);
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!req->too_large && vt_buf_append(&req->body, upload_data, *upload_size) != VT_OK) {
            req->too_large = true;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    req->conn = conn;
    req->method = method;
    req->path = url;
    struct vt_http_resp out;
    memset(&out, 0, sizeof(out));
    if (req->too_large) {
        vt_http_resp_status(&out, 413, "application/problem+json");
        if (!vt_http_resp_printf(&out,
                                 "{\"type\":\"about:blank\",\"title\":\"Payload Too Large\","
                                 "\"status\":413,\"detail\":\"request body exceeds %zu bytes\"}",
                                 s->max_body)) {
            out.status = 500;
        }
    } else {
        s->handler(s->ctx, req, &out);
    }
    enum MHD_Result ret = send_resp(conn, &out);
    vt_http_resp_cleanup(&out);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct vt_http_req *req = *con_cls;
    if (req != NULL) {
        vt_buf_cleanup(&req->body);
        free(req);
        *con_cls = NULL;
    }
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
    s->handler = h;
    s->ctx = ctx;
    s->max_body = o->max_body > 0 ? o->max_body : (1u << 20);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = o->threads > 0 ? o->threads : (ncpu > 0 ? (unsigned)ncpu : 1);
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (o->tls_cert != NULL) {
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &sa},
        {MHD_OPTION_THREAD_POOL_SIZE, threads, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s ? o->timeout_s : 30, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, 4096, NULL},
        {o->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, (void *)o->tls_cert},
        {o->tls_cert ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, (void *)o->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, opts,
                                 MHD_OPTION_END);
    if (s->daemon == NULL) {
        free(s);
        return vt_fail(d, VT_E_IO, "listen",
                       "cannot listen on %s:%u%s (address in use, or a bad TLS certificate/key)",
                       host, o->port, o->tls_cert ? " with TLS" : "");
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di != NULL ? di->port : o->port;
    *out = s;
    return VT_OK;
}

unsigned vt_http_server_port(const struct vt_http_server *s)
{
    return s->port;
}

void vt_http_server_stop(struct vt_http_server *s)
{
    if (s == NULL) {
        return;
    }
    MHD_stop_daemon(s->daemon);
    free(s);
}
