/*
 * The cache's HTTP API: Intel PCS v4 and AMD KDS read paths (same bodies, headers, content types
 * and status codes as the vendors), /healthz, /metrics, PCCS-style platform registration and the
 * admin endpoints. See docs/cache.md and docs/api/cache.yaml.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "cache/cache.h"
#include "console/console.h"
#include "net/json_fields.h"

/* Request-ID: 128 random bits per response, from a per-thread generator seeded once from
 * /dev/urandom (an identifier for logs, not a secret). */
static void request_id(struct vt_http_resp *resp)
{
    static _Thread_local uint64_t s[2];
    if (s[0] == 0 && s[1] == 0) {
        FILE *f = fopen("/dev/urandom", "rb");
        if (f == NULL || fread(s, 1, sizeof(s), f) != sizeof(s)) {
            s[0] = (uint64_t)(uintptr_t)&s ^ 0x9e3779b97f4a7c15ull;
            s[1] = (uint64_t)time(NULL);
        }
        if (f != NULL) {
            fclose(f);
        }
        s[0] |= 1;
    }
    uint8_t raw[16];
    for (size_t i = 0; i < 2; i++) { /* xorshift128+ */
        uint64_t x = s[0], y = s[1];
        s[0] = y;
        x ^= x << 23;
        s[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
        uint64_t v = s[1] + y;
        memcpy(raw + 8 * i, &v, 8);
    }
    char hex[33];
    vt_hex_encode(raw, sizeof(raw), hex);
    (void)!vt_http_resp_header(resp, "Request-ID", hex);
}

/* Intel's error shape: status, Error-Code and Error-Message headers, empty body (KDS paths: the
 * Error-Message alone). For our own endpoints, RFC 7807 problem details. */
static void intel_error(struct vt_http_resp *resp, unsigned status, const char *code,
                        const char *msg)
{
    vt_http_resp_status(resp, status, NULL);
    request_id(resp);
    if (code != NULL) {
        (void)!vt_http_resp_header(resp, "Error-Code", code);
    }
    if (msg != NULL) {
        (void)!vt_http_resp_header(resp, "Error-Message", msg);
    }
}

static void problem(struct vt_http_resp *resp, unsigned status, const char *title,
                    const char *detail)
{
    vt_http_problem(resp, status, title, detail, NULL);
}

/* 200 with the JSON text s (heap, freed here). */
static void send_json(struct vt_http_resp *resp, char *s)
{
    vt_http_resp_status(resp, 200, "application/json");
    if (!vt_http_resp_body(resp, s, strlen(s))) {
        problem(resp, 500, "Internal Server Error", "out of memory");
    }
    free(s);
}

/* SPEC: PCCS middleware/auth.js: its admin routes read the admin-token header, POST platforms the
 * user-token header; both carry the token itself. A bearer token works everywhere. */
bool vt_cache_authorized(struct vt_cache *c, const struct vt_http_req *req,
                         struct vt_http_resp *resp, const char *role)
{
    const char *given[3] = {vt_http_bearer(req), vt_http_req_header(req, "admin-token"),
                            vt_http_req_header(req, "user-token")};
    for (size_t i = 0; i < 3; i++) {
        if (given[i] != NULL && vt_cache_token_check(c, given[i], role)) {
            return true;
        }
    }
    problem(resp, 401, "Unauthorized",
            strcmp(role, "user") == 0
                ? "a user-token (a token of role user or admin) or a bearer token is required"
            : strcmp(role, "admin") == 0
                ? "an admin-token (a token of role admin) or a bearer token is required"
                : "a valid bearer token is required");
    (void)!vt_http_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"veritee-cache\"");
    return false;
}

/* Call fn with each stored "Name: value" line (names under 64 bytes, as the vendors send). */
static void each_stored_header(const char *headers,
                               void (*fn)(void *ctx, const char *name, const char *value),
                               void *ctx)
{
    for (const char *p = headers; p != NULL && *p != '\0';) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (colon != NULL && (size_t)(colon - p) < 64) {
            char name[64];
            memcpy(name, p, (size_t)(colon - p));
            name[colon - p] = '\0';
            const char *v = colon + 1;
            while (*v == ' ') {
                v++;
            }
            char *val = strndup(v, len - (size_t)(v - p));
            if (val != NULL) {
                fn(ctx, name, val);
            }
            free(val);
        }
        p = eol ? eol + 1 : NULL;
    }
}

static void resp_header(void *ctx, const char *name, const char *value)
{
    if (vt_cache_header_allowed(name)) { /* rows stored before bundles were checked, too */
        (void)!vt_http_resp_header(ctx, name, value);
    }
}

/* The v3 API's name of the TCB info issuer chain. */
static void resp_header_v3(void *ctx, const char *name, const char *value)
{
    if (strcmp(name, "TCB-Info-Issuer-Chain") == 0) {
        (void)!vt_http_resp_header(ctx, "SGX-TCB-Info-Issuer-Chain", value);
    } else {
        resp_header(ctx, name, value);
    }
}

/* The stored header lines, sent back as they came (under the v3 API's names on a v3 path). */
static void add_stored_headers(struct vt_http_resp *resp, const char *headers, unsigned api)
{
    each_stored_header(headers, api == 3 ? resp_header_v3 : resp_header, resp);
}

/* Hex text of a DER CRL, as PCCS sends rootcacrl, and pckcrl without encoding=der. */
static bool hex_crl(struct vt_http_resp *resp, const uint8_t *der, size_t n)
{
    char *hex = malloc(2 * n + 1);
    if (hex == NULL) {
        return false;
    }
    vt_hex_encode(der, n, hex);
    bool ok = vt_http_resp_body(resp, hex, 2 * n);
    free(hex);
    return ok;
}

/* PEM text of a DER CRL, as PCS sends pckcrl without encoding=der. */
static bool pem_crl(struct vt_http_resp *resp, const uint8_t *der, size_t n)
{
    char *b64 = vt_base64_alloc(der, n, false);
    struct vt_buf out;
    vt_buf_init(&out, 3 * n + 256);
    bool ok = b64 != NULL && vt_buf_printf(&out, "-----BEGIN X509 CRL-----\n") == VT_OK;
    for (size_t i = 0, l = ok ? strlen(b64) : 0; ok && i < l; i += 64) {
        ok = vt_buf_printf(&out, "%.64s\n", b64 + i) == VT_OK;
    }
    ok = ok && vt_buf_printf(&out, "-----END X509 CRL-----\n") == VT_OK &&
         vt_http_resp_body(resp, out.data, out.len);
    free(b64);
    vt_buf_cleanup(&out);
    return ok;
}

static const char *req_arg(void *ctx, const char *name)
{
    return vt_http_req_arg(ctx, name);
}

static void serve_document(struct vt_cache *c, const struct vt_http_req *req,
                           struct vt_http_resp *resp)
{
    const char *path = vt_http_req_path(req);
    bool kds = strncmp(path, "/vcek/", 6) == 0 || strncmp(path, "/vlek/", 6) == 0;
    struct vt_cache_req r;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_cache_parse_request(path, req_arg, (void *)req, &r, &d);
    atomic_fetch_add(&c->m.requests[err == VT_OK ? (size_t)r.kind : 0], 1);
    if (err == VT_E_NOT_FOUND) {
        intel_error(resp, 404, NULL, kds ? d.detail : NULL); /* KDS: why no chip is found */
        return;
    }
    if (err != VT_OK) {
        /* SPEC: PCS v4: 400 with Error-Code / Error-Message headers (KDS: plain 400; ours names
         * the parameter in Error-Message). */
        intel_error(resp, 400, kds ? NULL : "InvalidRequestSyntax", d.detail);
        return;
    }
    struct vt_cache_result res;
    err = vt_cache_get(c, &r, &res, &d);
    if (err != VT_OK && strcmp(d.check, "qeid.offline") == 0) {
        /* SPEC: PCCS OFFLINE: a platform neither registered nor uploaded is 461 (QCNL:
         * SGX_QCNL_ERROR_STATUS_PLATFORM_UNKNOWN). */
        intel_error(resp, 461, NULL, NULL);
        (void)!vt_http_resp_header(resp, "Error-Message", d.detail);
        return;
    }
    if (err == VT_E_MISSING_FIELD || err == VT_E_BAD_FIELD || err == VT_E_ARG) {
        intel_error(resp, 400, "InvalidRequestSyntax", d.detail);
        return;
    }
    if (err != VT_OK) {
        unsigned st = err == VT_E_NOT_FOUND ? (res.upstream_status == 410 ? 410 : 404)
                      : err == VT_E_UPSTREAM || err == VT_E_EXPIRED ? 503
                                                                    : 500;
        if (st >= 500) {
            problem(resp, st, st == 503 ? "Service Unavailable" : "Internal Server Error",
                    d.detail);
            if (st == 503) {
                char ra[24];
                snprintf(ra, sizeof(ra), "%" PRId64, res.retry_after > 0 ? res.retry_after : 30);
                (void)!vt_http_resp_header(resp, "Retry-After", ra);
            }
        } else {
            intel_error(resp, st, NULL, NULL);
            if (strcmp(d.check, "qeid") == 0) { /* a QE ID neither registered nor with a PPID */
                (void)!vt_http_resp_header(resp, "Error-Message", d.detail);
            }
        }
        return;
    }
    const struct vt_cache_item *it = &res.item;
    vt_http_resp_status(resp, 200, vt_cache_content_type(r.kind));
    add_stored_headers(resp, it->headers, r.api);
    if (!kds) {
        request_id(resp);
    }
    if (res.stale) {
        char when[VT_TIME_STR_MAX], w[160];
        vt_time_format(it->next_update, when);
        snprintf(w, sizeof(w), "110 veritee \"Response is Stale: nextUpdate %s passed\"", when);
        (void)!vt_http_resp_header(resp, "Warning", w);
    }
    bool ok;
    if (r.form == VT_CACHE_FORM_PEM) {
        ok = pem_crl(resp, it->body, it->body_len);
        vt_http_resp_status(resp, 200, "application/x-pem-file");
    } else if (r.form == VT_CACHE_FORM_HEX) {
        /* SPEC: PCCS: rootcacrl as application/pkix-crl, pckcrl as application/x-pem-file,
         * both hex text of the DER. */
        ok = hex_crl(resp, it->body, it->body_len);
        if (r.kind == VT_DOC_PCK_CRL) {
            vt_http_resp_status(resp, 200, "application/x-pem-file");
        }
    } else {
        ok = vt_http_resp_body(resp, it->body, it->body_len);
    }
    if (!ok) {
        problem(resp, 500, "Internal Server Error", "out of memory");
    }
    vt_cache_result_cleanup(&res);
}

static void healthz(struct vt_cache *c, struct vt_http_resp *resp)
{
    int64_t n = 0;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_store_exec(c->store, "SELECT COUNT(*) FROM vt_items", NULL, 0,
                                    vt_store_row_int, &n, NULL, &d);
    vt_http_json_reply(resp, err == VT_OK ? 200 : 503,
                       json_pack("{s:s,s:s,s:s,s:I}", "status", err == VT_OK ? "ok" : "unavailable",
                                 "store", err == VT_OK ? "ok" : d.detail, "mode",
                                 c->cfg.mode == VT_CACHE_OFFLINE ? "offline" : "lazy", "items",
                                 (json_int_t)n));
}

/* ---- admin routes (the token is checked at the head and again before the handler) ---- */

static void h_enforce_list(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)req;
    char *s = vt_cache_enforce_list(ctx);
    vt_http_json_reply(resp, s ? 200 : 500, s ? json_loads(s, 0, NULL) : NULL);
    free(s);
}

static void h_recoveries(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)req;
    struct vt_diag d;
    vt_diag_init(&d);
    char *s = NULL;
    if (vt_cache_recoveries(ctx, &s, &d) != VT_OK) {
        problem(resp, 500, "Internal Server Error", d.detail);
        return;
    }
    send_json(resp, s);
}

/* GET /admin/v1/platforms[?tee=sgx|tdx][&limit=N]: the platforms the cache has seen. */
static void h_platforms(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    struct vt_diag d;
    vt_diag_init(&d);
    const char *tee = vt_http_req_arg(req, "tee"), *lim = vt_http_req_arg(req, "limit");
    enum vt_tee tt = VT_TEE_NONE;
    uint64_t limit = 1000;
    if (tee != NULL && strcmp(tee, "sgx") != 0 && strcmp(tee, "tdx") != 0) {
        problem(resp, 400, "Bad Request",
                "tee must be sgx or tdx (or absent: judged per platform)");
        return;
    }
    if (tee != NULL) {
        tt = strcmp(tee, "tdx") == 0 ? VT_TEE_TDX : VT_TEE_SGX;
    }
    if (lim != NULL) {
        char *end = NULL;
        unsigned long long v = 0;
        bool digits = lim[0] >= '0' && lim[0] <= '9' && strlen(lim) <= 5;
        if (digits) {
            v = strtoull(lim, &end, 10);
        }
        if (!digits || end == NULL || *end != '\0' || v < 1 || v > 10000) {
            problem(resp, 400, "Bad Request", "limit must be a decimal number from 1 to 10000");
            return;
        }
        limit = v;
    }
    char *s = NULL;
    if (vt_cache_platforms(ctx, tt, limit, &s, &d) != VT_OK) {
        problem(resp, 500, "Internal Server Error", d.detail);
        return;
    }
    send_json(resp, s);
}

static void h_status(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)req;
    char *s = vt_cache_status_json(ctx);
    if (s == NULL) {
        problem(resp, 500, "Internal Server Error", "out of memory");
        return;
    }
    send_json(resp, s);
}

static void h_enforce(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    struct vt_cache *c = ctx;
    struct vt_diag d;
    vt_diag_init(&d);
    size_t n;
    const uint8_t *body = vt_http_req_body(req, &n);
    json_t *o = json_loadb((const char *)body, n, JSON_REJECT_DUPLICATES, NULL);
    const char *tee = NULL, *from = NULL;
    int64_t ev = 0;
    vt_time t = vt_cache_now(c);
    enum vt_err err = VT_OK;
    if (!json_is_object(o)) {
        err = vt_fail(&d, VT_E_BAD_JSON, "$", "the body is not a JSON object");
    }
    if (err == VT_OK) {
        err = vt_json_req_string(o, "$", "tee", &tee, &d);
    }
    if (err == VT_OK) {
        err = vt_json_req_int(o, "$", "tcb_eval", 1, UINT32_MAX, &ev, &d);
    }
    if (err == VT_OK) {
        err = vt_json_opt_string(o, "$", "from", &from, &d);
    }
    if (err == VT_OK && from != NULL) {
        err = vt_time_parse(from, strlen(from), &t, &d);
    }
    enum vt_tee tt = tee && strcmp(tee, "sgx") == 0   ? VT_TEE_SGX
                     : tee && strcmp(tee, "tdx") == 0 ? VT_TEE_TDX
                                                      : VT_TEE_NONE;
    if (err == VT_OK) {
        err = vt_cache_enforce(c, tt, (uint32_t)ev, t, &d);
    }
    json_decref(o);
    if (err != VT_OK) {
        problem(resp, err == VT_E_STORAGE ? 500 : 400, "Bad Request", d.detail);
        return;
    }
    char *s = vt_cache_enforce_list(c);
    vt_http_json_reply(resp, 200, s ? json_loads(s, 0, NULL) : json_array());
    free(s);
}

static void h_refresh(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)req;
    struct vt_diag d;
    vt_diag_init(&d);
    size_t renewed = 0, failed = 0;
    enum vt_err err = vt_cache_refresh(ctx, &renewed, &failed, &d);
    if (err == VT_E_STATE) {
        problem(resp, 409, "Conflict", d.detail);
        return;
    }
    if (err != VT_OK) {
        problem(resp, 500, "Internal Server Error", d.detail);
        return;
    }
    vt_http_json_reply(
        resp, 200,
        json_pack("{s:I,s:I}", "renewed", (json_int_t)renewed, "failed", (json_int_t)failed));
}

static void h_export(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)req;
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_buf b;
    vt_buf_init(&b, 512u << 20);
    size_t items = 0;
    enum vt_err err = vt_cache_export(ctx, &b, &items, &d);
    if (err != VT_OK) {
        vt_buf_cleanup(&b);
        problem(resp, 500, "Internal Server Error", d.detail);
        return;
    }
    vt_http_resp_status(resp, 200, "application/json");
    if (!vt_http_resp_body(resp, b.data, b.len)) {
        problem(resp, 500, "Internal Server Error", "out of memory");
    }
    vt_buf_cleanup(&b);
}

static void h_import(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    struct vt_diag d;
    vt_diag_init(&d);
    size_t n;
    const uint8_t *body = vt_http_req_body(req, &n);
    const char *key = vt_http_req_arg(req, "trust_key");
    uint8_t xy[64];
    if (key == NULL || vt_hex_decode_exact(key, strlen(key), xy, 64) != VT_OK) {
        problem(resp, 400, "Bad Request",
                "trust_key (the exporter's P-256 public key, 128 hex characters) is required");
        return;
    }
    size_t items = 0;
    enum vt_err err = vt_cache_import(ctx, body, n, xy, &items, &d);
    if (err != VT_OK) {
        problem(resp, err == VT_E_STORAGE ? 500 : 400, "Bad Request", d.detail);
        return;
    }
    vt_http_json_reply(resp, 200, json_pack("{s:I}", "imported", (json_int_t)items));
}

static void h_impact(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    struct vt_diag d;
    vt_diag_init(&d);
    const char *tee = vt_http_req_arg(req, "tee"), *ev = vt_http_req_arg(req, "tcb_eval");
    enum vt_tee tt = tee && strcmp(tee, "tdx") == 0 ? VT_TEE_TDX : VT_TEE_SGX;
    char *s = NULL;
    long v = ev ? strtol(ev, NULL, 10) : 0;
    enum vt_err err = v > 0 ? vt_cache_impact(ctx, tt, (uint32_t)v, NULL, NULL, 0, &s, &d)
                            : vt_fail(&d, VT_E_ARG, "tcb_eval", "tcb_eval is required");
    if (err != VT_OK) {
        problem(resp, 400, "Bad Request", d.detail);
        return;
    }
    send_json(resp, s);
}

static void h_healthz(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)req;
    healthz(ctx, resp);
}

static void h_metrics(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    char *s = vt_cache_metrics_text(ctx);
    vt_http_metrics_reply(resp, req, s);
    free(s);
}

static void h_document(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    serve_document(ctx, req, resp);
}

/* Body limits: registrations (a platform manifest is ~56 KB), policies and admin requests; an
 * upload (a bundle, PCCS's platformcollateral) has its own, max_upload. Reads take no body. */
#define BODY_ADMIN (1u << 20)
#define BODY_UPLOAD_DEFAULT (64u << 20)
/* flags of the routes */
#define UPLOAD 1u    /* the body limit is max_upload */
#define TOK_ADMIN 2u /* a token of role admin */
#define TOK_USER 4u  /* a token of role user (or admin): PCCS's registration */
#define TOK_READ 8u  /* a token of role read (or admin), when read tokens are required */

#define DOC(path)                                                                                  \
    {                                                                                              \
        "GET", path, 0, VT_HTTP_RATE_READ, false, TOK_READ, h_document                             \
    }
#define ADMIN_ROUTE(method, path, body, flags, fn)                                                 \
    {                                                                                              \
        method, path, body, VT_HTTP_RATE_NONE, true, TOK_ADMIN | (flags), fn                       \
    }

/* Every route of the cache: docs/api/cache.yaml lists exactly these (tests/openapi). A path
 * matching none is a 404 (a known path with another method a 405) from the head. */
static const struct vt_http_route_entry routes[] = {
    {"GET", "/healthz", 0, VT_HTTP_RATE_NONE, true, 0, h_healthz},
    {"GET", "/metrics", 0, VT_HTTP_RATE_NONE, true, 0, h_metrics},
    /* Intel PCS v4 (tee: sgx or tdx) */
    DOC("/{tee}/certification/v4/tcb"),
    DOC("/{tee}/certification/v4/qe/identity"),
    DOC("/sgx/certification/v4/qve/identity"),
    DOC("/{tee}/certification/v4/pckcrl"),
    DOC("/{tee}/certification/v4/rootcacrl"),
    DOC("/sgx/certification/v4/crl"),
    DOC("/{tee}/certification/v4/tcbevaluationdatanumbers"),
    DOC("/sgx/certification/v4/fmspcs"),
    DOC("/sgx/certification/v4/pckcert"),
    DOC("/sgx/certification/v4/pckcerts"),
    /* Intel PCS/PCCS v3 */
    DOC("/sgx/certification/v3/tcb"),
    DOC("/sgx/certification/v3/qe/identity"),
    DOC("/sgx/certification/v3/qve/identity"),
    DOC("/sgx/certification/v3/pckcrl"),
    DOC("/sgx/certification/v3/rootcacrl"),
    DOC("/sgx/certification/v3/crl"),
    DOC("/sgx/certification/v3/pckcert"),
    /* PCCS's own, v4 and v3 */
    {"GET", "/sgx/certification/v4/appraisalpolicy", 0, VT_HTTP_RATE_READ, false, TOK_READ,
     vt_cache_pccs_get_policy},
    ADMIN_ROUTE("PUT", "/sgx/certification/v4/appraisalpolicy", BODY_ADMIN, 0,
                vt_cache_pccs_put_policy),
    {"POST", "/sgx/certification/v4/platforms", BODY_ADMIN, VT_HTTP_RATE_NONE, true, TOK_USER,
     vt_cache_pccs_post_platforms},
    ADMIN_ROUTE("GET", "/sgx/certification/v4/platforms", 0, 0, vt_cache_pccs_get_platforms),
    ADMIN_ROUTE("PUT", "/sgx/certification/v4/platformcollateral", 0, UPLOAD,
                vt_cache_pccs_put_collateral),
    ADMIN_ROUTE("GET", "/sgx/certification/v4/refresh", 4096, 0, vt_cache_pccs_refresh),
    ADMIN_ROUTE("POST", "/sgx/certification/v4/refresh", 4096, 0, vt_cache_pccs_refresh),
    {"GET", "/sgx/certification/v3/appraisalpolicy", 0, VT_HTTP_RATE_READ, false, TOK_READ,
     vt_cache_pccs_get_policy},
    ADMIN_ROUTE("PUT", "/sgx/certification/v3/appraisalpolicy", BODY_ADMIN, 0,
                vt_cache_pccs_put_policy),
    {"POST", "/sgx/certification/v3/platforms", BODY_ADMIN, VT_HTTP_RATE_NONE, true, TOK_USER,
     vt_cache_pccs_post_platforms},
    ADMIN_ROUTE("GET", "/sgx/certification/v3/platforms", 0, 0, vt_cache_pccs_get_platforms),
    ADMIN_ROUTE("PUT", "/sgx/certification/v3/platformcollateral", 0, UPLOAD,
                vt_cache_pccs_put_collateral),
    ADMIN_ROUTE("GET", "/sgx/certification/v3/refresh", 4096, 0, vt_cache_pccs_refresh),
    ADMIN_ROUTE("POST", "/sgx/certification/v3/refresh", 4096, 0, vt_cache_pccs_refresh),
    /* AMD KDS (product: Milan, Genoa, Turin); literal segments before {hwid} */
    DOC("/vcek/v1/{product}/cert_chain"),
    DOC("/vcek/v1/{product}/crl"),
    DOC("/vcek/v1/{product}/{hwid}"),
    DOC("/vlek/v1/{product}/cert_chain"),
    DOC("/vlek/v1/{product}/crl"),
    /* veritee's own administration */
    ADMIN_ROUTE("GET", "/admin/v1/enforce", 0, 0, h_enforce_list),
    ADMIN_ROUTE("POST", "/admin/v1/enforce", BODY_ADMIN, 0, h_enforce),
    ADMIN_ROUTE("GET", "/admin/v1/impact", 0, 0, h_impact),
    ADMIN_ROUTE("GET", "/admin/v1/recoveries", 0, 0, h_recoveries),
    ADMIN_ROUTE("GET", "/admin/v1/platforms", 0, 0, h_platforms),
    ADMIN_ROUTE("GET", "/admin/v1/status", 0, 0, h_status),
    ADMIN_ROUTE("POST", "/admin/v1/refresh", 0, 0, h_refresh),
    ADMIN_ROUTE("GET", "/admin/v1/export", 0, 0, h_export),
    ADMIN_ROUTE("POST", "/admin/v1/import", 0, UPLOAD, h_import),
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

const struct vt_http_route_entry *vt_cache_routes(size_t *n)
{
    *n = N_ROUTES;
    return routes;
}

/* The route's token, checked at the head and again before the handler. */
static bool route_authorized(struct vt_cache *c, const struct vt_http_route_entry *e,
                             const struct vt_http_req *req, struct vt_http_resp *resp)
{
    if ((e->flags & TOK_ADMIN) != 0) {
        return vt_cache_authorized(c, req, resp, "admin");
    }
    if ((e->flags & TOK_USER) != 0) {
        return vt_cache_authorized(c, req, resp, "user");
    }
    if ((e->flags & TOK_READ) != 0 && c->cfg.read_token_required) {
        return vt_cache_authorized(c, req, resp, "read");
    }
    return true;
}

/* The request's entry: the one the route function chose, or found now (a server run without
 * the route function). NULL after answering: a 404 in the vendors' shape (for a document path,
 * with the parser's reason: KDS names why no chip is found), or a 405 with Allow. */
static const struct vt_http_route_entry *entry_of(const struct vt_http_req *req,
                                                  struct vt_http_resp *resp)
{
    const struct vt_http_route_entry *e = vt_http_req_route(req);
    if (e != NULL) {
        return e;
    }
    const char *path = vt_http_req_path(req);
    bool known = false;
    char allow[64];
    e = vt_http_route_find(routes, N_ROUTES, vt_http_req_method(req), path, &known, allow,
                           sizeof(allow));
    if (e == NULL && known) {
        problem(resp, 405, "Method Not Allowed", "no such method on this endpoint");
        (void)!vt_http_resp_header(resp, "Allow", allow);
    } else if (e == NULL) {
        struct vt_cache_req r;
        struct vt_diag d;
        vt_diag_init(&d);
        bool kds = strncmp(path, "/vcek/", 6) == 0 || strncmp(path, "/vlek/", 6) == 0;
        (void)!vt_cache_parse_request(path, req_arg, (void *)req, &r, &d);
        intel_error(resp, 404, NULL, kds && d.detail[0] ? d.detail : NULL);
    }
    return e;
}

void vt_cache_http_route(void *ctx, const struct vt_http_req *req, struct vt_http_route *route,
                         struct vt_http_resp *resp)
{
    struct vt_cache *c = ctx;
    if (vt_console_owns_path(vt_http_req_path(req))) {
        vt_console_http_route(req, route, resp); /* the console's files (docs/console.md) */
        return;
    }
    const struct vt_http_route_entry *e = entry_of(req, resp);
    if (e == NULL) {
        return;
    }
    size_t upload = c->cfg.max_upload > 0 ? c->cfg.max_upload : BODY_UPLOAD_DEFAULT;
    *route = (struct vt_http_route){(e->flags & UPLOAD) != 0 ? upload : e->max_body,
                                    (enum vt_http_rate_class)e->rate, e->priority, e};
    (void)route_authorized(c, e, req, resp); /* a 401 now, before the body is read */
}

void vt_cache_http_handler(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    if (vt_console_owns_path(vt_http_req_path(req))) {
        vt_console_http_handler(req, resp);
        return;
    }
    const struct vt_http_route_entry *e = entry_of(req, resp);
    if (e != NULL && route_authorized(ctx, e, req, resp)) {
        e->handler(ctx, req, resp);
    }
}

char *vt_cache_metrics_text(struct vt_cache *c)
{
    struct vt_buf b;
    vt_buf_init(&b, 1u << 20);
    vt_time now = vt_cache_now(c);
    int64_t items = -1, oldest = 0;
    struct vt_sql_arg a[] = {VT_SQL_I(now)};
    (void)!vt_store_exec(c->store, "SELECT COUNT(*) FROM vt_items", NULL, 0, vt_store_row_int,
                         &items, NULL, NULL);
    (void)!vt_store_exec(c->store,
                         "SELECT COALESCE(MAX(? - next_update), 0) FROM vt_items"
                         " WHERE next_update > 0",
                         a, 1, vt_store_row_int, &oldest, NULL, NULL);
    if (oldest < 0) {
        oldest = 0;
    }
    struct vt_cache_metrics *m = &c->m;
    enum vt_err err = vt_buf_printf(
        &b,
        "# HELP veritee_cache_hits_total Requests served from the cache.\n"
        "# TYPE veritee_cache_hits_total counter\nveritee_cache_hits_total %" PRIuFAST64 "\n"
        "# HELP veritee_cache_misses_total Requests that needed an upstream.\n"
        "# TYPE veritee_cache_misses_total counter\nveritee_cache_misses_total %" PRIuFAST64 "\n"
        "# HELP veritee_cache_stale_served_total Items served past nextUpdate (outage).\n"
        "# TYPE veritee_cache_stale_served_total counter\n"
        "veritee_cache_stale_served_total %" PRIuFAST64 "\n"
        "# HELP veritee_cache_not_found_total Requests no upstream could answer (404/410).\n"
        "# TYPE veritee_cache_not_found_total counter\n"
        "veritee_cache_not_found_total %" PRIuFAST64 "\n"
        "# HELP veritee_cache_rejected_total Upstream documents refused (bad signature, wrong "
        "content).\n# TYPE veritee_cache_rejected_total counter\n"
        "veritee_cache_rejected_total %" PRIuFAST64 "\n"
        "# HELP veritee_cache_upstream_requests_total Upstream HTTP attempts.\n"
        "# TYPE veritee_cache_upstream_requests_total counter\n"
        "veritee_cache_upstream_requests_total %" PRIuFAST64 "\n"
        "# HELP veritee_cache_upstream_errors_total Upstream attempts that failed.\n"
        "# TYPE veritee_cache_upstream_errors_total counter\n"
        "veritee_cache_upstream_errors_total %" PRIuFAST64 "\n"
        "# HELP veritee_cache_upstream_latency_seconds Upstream request latency.\n"
        "# TYPE veritee_cache_upstream_latency_seconds summary\n"
        "veritee_cache_upstream_latency_seconds_sum %.6f\n"
        "veritee_cache_upstream_latency_seconds_count %" PRIuFAST64 "\n"
        "# HELP veritee_cache_refreshes_total Items renewed by the refresher.\n"
        "# TYPE veritee_cache_refreshes_total counter\n"
        "veritee_cache_refreshes_total %" PRIuFAST64 "\n"
        "# HELP veritee_cache_refresh_failures_total Items the refresher could not renew.\n"
        "# TYPE veritee_cache_refresh_failures_total counter\n"
        "veritee_cache_refresh_failures_total %" PRIuFAST64 "\n"
        "# HELP veritee_cache_items Items held.\n# TYPE veritee_cache_items gauge\n"
        "veritee_cache_items %" PRId64 "\n"
        "# HELP veritee_cache_oldest_past_next_update_seconds Age of the oldest item past its "
        "nextUpdate (0 if none).\n"
        "# TYPE veritee_cache_oldest_past_next_update_seconds gauge\n"
        "veritee_cache_oldest_past_next_update_seconds %" PRId64 "\n"
        "# HELP veritee_cache_throttled_total Upstream fetches of documents not held refused by"
        " the new-fetch throttle (503).\n"
        "# TYPE veritee_cache_throttled_total counter\n"
        "veritee_cache_throttled_total %" PRIuFAST64 "\n"
        "# HELP veritee_cache_requests_total Document requests per endpoint.\n"
        "# TYPE veritee_cache_requests_total counter\n",
        atomic_load(&m->hits), atomic_load(&m->misses), atomic_load(&m->stale_served),
        atomic_load(&m->not_found), atomic_load(&m->rejected), atomic_load(&m->upstream_requests),
        atomic_load(&m->upstream_errors), (double)atomic_load(&m->upstream_latency_us) / 1e6,
        atomic_load(&m->upstream_requests), atomic_load(&m->refreshes),
        atomic_load(&m->refresh_failures), items, oldest, atomic_load(&m->throttled));
    for (size_t k = 0; k <= VT_DOC_AMD_CRL && err == VT_OK; k++) {
        err = vt_buf_printf(&b, "veritee_cache_requests_total{endpoint=\"%s\"} %" PRIuFAST64 "\n",
                            k == 0 ? "other" : vt_doc_kind_name((enum vt_doc_kind)k),
                            atomic_load(&m->requests[k]));
    }
    if (err == VT_OK && c->metrics_extra != NULL) {
        char *extra = c->metrics_extra(c->metrics_extra_ctx);
        err = extra ? vt_buf_append(&b, extra, strlen(extra)) : VT_E_NOMEM;
        free(extra);
    }
    if (err != VT_OK) {
        vt_buf_cleanup(&b);
        return NULL;
    }
    return (char *)vt_buf_steal(&b, NULL);
}

static void response_header(void *ctx, const char *name, const char *value)
{
    struct vt_http_response *r = ctx;
    if (r->n_headers < VT_HTTP_MAX_HEADERS && vt_cache_header_allowed(name)) {
        r->headers[r->n_headers].name = strdup(name);
        r->headers[r->n_headers].value = strdup(value);
        r->n_headers++;
    }
}

/* In-process collateral source (vt_collateral_fetch_with): a document as the HTTP API would
 * answer it, without the HTTP. */
enum vt_err vt_cache_collateral_get(void *ctx, const char *path, struct vt_http_response *r,
                                    struct vt_diag *d)
{
    struct vt_cache *c = ctx;
    memset(r, 0, sizeof(*r));
    vt_buf_init(&r->body, VT_HTTP_MAX_BODY);
    struct vt_cache_req q;
    enum vt_err err = vt_cache_req_from_key(path, &q, d);
    if (err != VT_OK) {
        r->status = err == VT_E_NOT_FOUND ? 404 : 400;
        return VT_OK;
    }
    atomic_fetch_add(&c->m.requests[(size_t)q.kind], 1);
    struct vt_cache_result res;
    struct vt_diag e;
    vt_diag_init(&e);
    err = vt_cache_get(c, &q, &res, &e);
    if (err != VT_OK) {
        r->status = err == VT_E_NOT_FOUND ? (res.upstream_status == 410 ? 410 : 404) : 503;
        return VT_OK;
    }
    r->status = 200;
    each_stored_header(res.item.headers, response_header, r);
    err = vt_buf_append(&r->body, res.item.body, res.item.body_len);
    vt_cache_result_cleanup(&res);
    if (err != VT_OK) {
        vt_http_response_cleanup(r);
        return vt_fail(d, err, "collateral", "no memory for %s", path);
    }
    return VT_OK;
}
