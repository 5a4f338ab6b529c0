/*
 * The operator's web console (docs/console.md): static files under /console/, built into the
 * binary from console/ by cmake/embed.cmake, served by the cache and the broker (veritee serve,
 * cache serve, broker serve) with a strict Content-Security-Policy. The page holds no data of
 * its own: it calls the admin APIs with the token the operator types in.
 */
#ifndef VT_CONSOLE_CONSOLE_H
#define VT_CONSOLE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/http.h"

struct vt_console_asset {
    const char *name; /* path under /console/, e.g. "app.js" */
    const char *content_type;
    const uint8_t *data;
    size_t len;
};

/* Generated at build time (console_assets.c). */
extern const struct vt_console_asset vt_console_assets[];
extern const size_t vt_console_n_assets;

/* The Content-Security-Policy every console response carries. */
extern const char vt_console_csp[];

/* Whether path is the console's: "/console" or under "/console/". */
bool vt_console_owns_path(const char *path);

/* The asset of a path ("/console" and "/console/" are index.html), or NULL. */
const struct vt_console_asset *vt_console_find(const char *path);

/* Route a console request from its head: no body, no rate class; a method other than GET or
 * HEAD is answered 405 at once, an unknown file 404. */
void vt_console_http_route(const struct vt_http_req *req, struct vt_http_route *route,
                           struct vt_http_resp *resp);

/* Answer a console request: the file with its type, the security headers and an ETag (the
 * SHA-256 of the bytes, computed once); 304 to a matching If-None-Match. */
void vt_console_http_handler(const struct vt_http_req *req, struct vt_http_resp *resp);

#endif
