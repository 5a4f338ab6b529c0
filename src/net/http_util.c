/* Response helpers shared by the cache's and the broker's APIs: building a response, RFC 7807
 * problem details, JSON replies, and the bearer token of a request. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "net/http.h"

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

void vt_http_problem(struct vt_http_resp *resp, unsigned status, const char *title,
                     const char *detail, const char *reason)
{
    json_t *o = json_pack("{s:s,s:s,s:i,s:s}", "type", "about:blank", "title", title, "status",
                          (int)status, "detail", detail ? detail : "");
    if (o != NULL && reason != NULL) {
        json_object_set_new(o, "reason", json_string(reason));
    }
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    vt_http_resp_status(resp, status, "application/problem+json");
    if (s == NULL || !vt_http_resp_body(resp, s, strlen(s))) {
        resp->status = 500;
    }
    free(s);
    json_decref(o);
}

void vt_http_json_reply(struct vt_http_resp *resp, unsigned status, json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    vt_http_resp_status(resp, status, "application/json");
    if (s == NULL || !vt_http_resp_body(resp, s, strlen(s))) {
        vt_http_problem(resp, 500, "Internal Server Error", "cannot encode the response", NULL);
    }
    free(s);
    json_decref(o);
}

const char *vt_http_bearer(const struct vt_http_req *req)
{
    const char *h = vt_http_req_header(req, "Authorization");
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
        return NULL;
    }
    return h + 7;
}

const char *vt_http_status_title(unsigned status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 417:
        return "Expectation Failed";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 461: /* PCCS: the platform is not in the cache */
        return "Platform Unknown";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Internal Server Error";
    }
}

void vt_http_metrics_reply(struct vt_http_resp *resp, const struct vt_http_req *req,
                           const char *text)
{
    struct vt_buf b;
    vt_buf_init(&b, 1u << 20);
    bool ok = text != NULL && vt_buf_append(&b, text, strlen(text)) == VT_OK &&
              vt_http_server_metrics(vt_http_req_server(req), &b) == VT_OK;
    vt_http_resp_status(resp, ok ? 200 : 500, "text/plain; version=0.0.4");
    if (!ok || !vt_http_resp_body(resp, b.data, b.len)) {
        resp->status = 500;
    }
    vt_buf_cleanup(&b);
}

/* Does path match the template: the same segments, "{...}" standing for any non-empty one. */
static bool template_match(const char *t, const char *p)
{
    while (*t != '\0' && *p != '\0') {
        if (*t == '{') {
            const char *close = strchr(t, '}');
            if (close == NULL || *p == '/') {
                return false;
            }
            t = close + 1;
            /* a parameter is one segment, or its part up to the literal text that follows it in
             * the segment ("/policies/{type}:reset") */
            while (*p != '\0' && *p != '/' && (*t == '\0' || *t == '/' || *p != *t)) {
                p++;
            }
            continue;
        }
        if (*t != *p) {
            return false;
        }
        t++;
        p++;
    }
    return *t == '\0' && *p == '\0';
}

const struct vt_http_route_entry *vt_http_route_find(const struct vt_http_route_entry *table,
                                                     size_t n, const char *method, const char *path,
                                                     bool *path_known, char *allow, size_t cap)
{
    *path_known = false;
    if (cap > 0) {
        allow[0] = '\0';
    }
    bool head = strcmp(method, "HEAD") == 0;
    for (size_t i = 0; i < n; i++) {
        if (!template_match(table[i].path, path)) {
            continue;
        }
        if (strcmp(table[i].method, method) == 0 || (head && strcmp(table[i].method, "GET") == 0)) {
            return &table[i];
        }
        if (cap > 0 && strstr(allow, table[i].method) == NULL) {
            size_t used = strlen(allow);
            snprintf(allow + used, cap - used, "%s%s", used ? ", " : "", table[i].method);
            if (strcmp(table[i].method, "GET") == 0 && strstr(allow, "HEAD") == NULL) {
                used = strlen(allow);
                snprintf(allow + used, cap - used, ", HEAD");
            }
        }
        *path_known = true;
    }
    return NULL;
}

bool vt_http_path_segment(const char *path, size_t i, char *out, size_t cap)
{
    const char *p = path;
    for (size_t k = 0; k <= i; k++) {
        if (*p != '/') {
            return false;
        }
        p++;
        const char *end = strchr(p, '/');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (k == i) {
            if (n == 0 || n >= cap) {
                return false;
            }
            memcpy(out, p, n);
            out[n] = '\0';
            return true;
        }
        p += n;
    }
    return false;
}
