/* The console's static files (console.h): lookup, security headers, ETag. */
#include <stdio.h>
#include <string.h>

#include "base/encoding.h"
#include "console/console.h"
#include "crypto/crypto.h"

/* Same origin only: scripts, styles, fetches, images (the charts are inline SVG elements made by
 * the script, not data: URLs); no inline script or style, no plugin, no framing, no form posting
 * elsewhere, no <base> rewrite. */
const char vt_console_csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                              "img-src 'self'; connect-src 'self'; object-src 'none'; "
                              "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

bool vt_console_owns_path(const char *path)
{
    return strncmp(path, "/console", 8) == 0 && (path[8] == '\0' || path[8] == '/');
}

const struct vt_console_asset *vt_console_find(const char *path)
{
    if (!vt_console_owns_path(path)) {
        return NULL;
    }
    const char *name = path[8] == '\0' || path[9] == '\0' ? "index.html" : path + 9;
    for (size_t i = 0; i < vt_console_n_assets; i++) {
        if (strcmp(vt_console_assets[i].name, name) == 0) {
            return &vt_console_assets[i];
        }
    }
    return NULL;
}

static bool is_get(const struct vt_http_req *req)
{
    const char *m = vt_http_req_method(req);
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

/* The headers of every console answer, errors included. */
static void security_headers(struct vt_http_resp *resp)
{
    (void)!vt_http_resp_header(resp, "Content-Security-Policy", vt_console_csp);
    (void)!vt_http_resp_header(resp, "X-Content-Type-Options", "nosniff");
    (void)!vt_http_resp_header(resp, "X-Frame-Options", "DENY");
    (void)!vt_http_resp_header(resp, "Referrer-Policy", "no-referrer");
    (void)!vt_http_resp_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    (void)!vt_http_resp_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
}

static void refuse(struct vt_http_resp *resp, unsigned status, const char *detail)
{
    vt_http_problem(resp, status, vt_http_status_title(status), detail, NULL);
    if (status == 405) {
        (void)!vt_http_resp_header(resp, "Allow", "GET, HEAD");
    }
    security_headers(resp);
}

void vt_console_http_route(const struct vt_http_req *req, struct vt_http_route *route,
                           struct vt_http_resp *resp)
{
    if (!is_get(req)) {
        refuse(resp, 405, "the console's files are read with GET");
    } else if (vt_console_find(vt_http_req_path(req)) == NULL) {
        refuse(resp, 404, "no such file in the console");
    } else {
        *route = (struct vt_http_route){0, VT_HTTP_RATE_READ, false, NULL};
    }
}

void vt_console_http_handler(const struct vt_http_req *req, struct vt_http_resp *resp)
{
    const struct vt_console_asset *a = vt_console_find(vt_http_req_path(req));
    if (!is_get(req)) {
        refuse(resp, 405, "the console's files are read with GET");
        return;
    }
    if (a == NULL) {
        refuse(resp, 404, "no such file in the console");
        return;
    }
    uint8_t h[VT_SHA256_LEN];
    vt_sha256(a->data, a->len, h);
    char etag[2 + 2 * 16 + 1];
    etag[0] = '"';
    vt_hex_encode(h, 16, etag + 1);
    etag[1 + 32] = '"';
    etag[2 + 32] = '\0';
    security_headers(resp);
    /* Revalidated on every load (the files change with the binary), never stored by shared
     * caches. */
    (void)!vt_http_resp_header(resp, "Cache-Control", "no-cache, private");
    (void)!vt_http_resp_header(resp, "ETag", etag);
    const char *inm = vt_http_req_header(req, "If-None-Match");
    if (inm != NULL && strcmp(inm, etag) == 0) {
        vt_http_resp_status(resp, 304, a->content_type);
        return;
    }
    vt_http_resp_status(resp, 200, a->content_type);
    resp->body_static = a->data;
    resp->body_len = a->len;
}
