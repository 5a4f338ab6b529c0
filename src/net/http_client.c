/* HTTP client over libcurl: one blocking request per call, no redirects, bounded body and
 * header sizes, every transport failure reported with curl's reason. Each thread keeps one curl
 * handle (reset to no options after every request) and so its connection cache: requests to a
 * server this thread talked to reuse the open connection (HTTP keep-alive, TLS session) instead
 * of connecting and handshaking again; curl reuses a connection only for the same scheme, host,
 * port and TLS settings. The handle is freed when the thread ends. */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include <veritee/veritee.h> /* VT_VERSION */

#include "net/http_client.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static pthread_key_t curl_key; /* this thread's CURL handle */

static void curl_free_handle(void *c)
{
    curl_easy_cleanup(c);
}

static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    (void)!pthread_key_create(&curl_key, curl_free_handle);
}

/* This thread's handle, made on its first request. */
static CURL *thread_handle(void)
{
    CURL *c = pthread_getspecific(curl_key);
    if (c == NULL && (c = curl_easy_init()) != NULL && pthread_setspecific(curl_key, c) != 0) {
        curl_easy_cleanup(c);
        c = NULL;
    }
    return c;
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct vt_http_response *r = ctx;
    if (vt_buf_append(&r->body, p, size * n) != VT_OK) {
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    return size * n;
}

static char *dup_trim(const char *p, size_t n)
{
    while (n > 0 && isspace((unsigned char)*p)) {
        p++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)p[n - 1])) {
        n--;
    }
    char *s = malloc(n + 1);
    if (s != NULL) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

static void clear_headers(struct vt_http_response *r)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    r->n_headers = 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct vt_http_response *r = ctx;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        clear_headers(r); /* a new response (after 100 Continue) */
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (colon == NULL || r->n_headers == VT_HTTP_MAX_HEADERS) {
        return len;
    }
    char *name = dup_trim(p, (size_t)(colon - p));
    char *value = dup_trim(colon + 1, len - (size_t)(colon + 1 - p));
    if (name == NULL || value == NULL) {
        free(name);
        free(value);
        return 0;
    }
    r->headers[r->n_headers].name = name;
    r->headers[r->n_headers].value = value;
    r->n_headers++;
    return len;
}

enum vt_err vt_http_request(const char *url, const struct vt_http_request_opts *o,
                            struct vt_http_response *r, struct vt_diag *d)
{
    memset(r, 0, sizeof(*r));
    vt_buf_init(&r->body, VT_HTTP_MAX_BODY);
    pthread_once(&curl_once, curl_init);
    CURL *c = thread_handle();
    VT_ENSURE(c != NULL, d, VT_E_NOMEM, "http", "cannot create a curl handle");
    struct curl_slist *hl = NULL;
    enum vt_err err = VT_OK;
    if (o != NULL && o->headers != NULL) {
        for (size_t i = 0; o->headers[i] != NULL; i++) {
            struct curl_slist *next = curl_slist_append(hl, o->headers[i]);
            if (next == NULL) {
                err = vt_fail(d, VT_E_NOMEM, "http", "cannot add a request header");
                goto out;
            }
            hl = next;
        }
    }
    long timeout = o != NULL && o->timeout_ms > 0 ? o->timeout_ms : 10000;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout < 5000 ? timeout : 5000L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "veritee/" VT_VERSION);
    if (hl != NULL) {
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    }
    if (o != NULL && o->method != NULL) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, o->method);
    }
    if (o != NULL && o->body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)o->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
    }
    if (o != NULL && o->ca_file != NULL) {
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    }
    if (o != NULL && o->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &r->seconds);
    if (rc == CURLE_WRITE_ERROR && r->body.len + CURL_MAX_WRITE_SIZE >= VT_HTTP_MAX_BODY) {
        err = vt_fail(d, VT_E_TOO_LARGE, "http.body", "response from %s exceeds %u bytes", url,
                      VT_HTTP_MAX_BODY);
    } else if (rc != CURLE_OK) {
        err = vt_fail(d, VT_E_UPSTREAM, "http.transport", "%s: %s", url, curl_easy_strerror(rc));
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    }
out:
    curl_easy_reset(c); /* no option outlives the request; the connection cache stays */
    curl_slist_free_all(hl);
    return err;
}

void vt_http_response_cleanup(struct vt_http_response *r)
{
    if (r == NULL) {
        return;
    }
    clear_headers(r);
    vt_buf_cleanup(&r->body);
}

const char *vt_http_response_header(const struct vt_http_response *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0) {
            return r->headers[i].value;
        }
    }
    return NULL;
}

enum vt_err vt_http_percent_encode(const uint8_t *p, size_t n, struct vt_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            VT_TRY(vt_buf_append(out, &c, 1));
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            VT_TRY(vt_buf_append(out, e, 3));
        }
    }
    return VT_OK;
}
