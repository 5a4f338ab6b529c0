/*
 * The Key Vault keys API over HTTP (docs/skr.md, docs/api/keyvault.yaml), as Key Vault serves
 * it to @azure/keyvault-keys:
 *
 *   GET    /keys                              the keys (current versions)
 *   PUT    /keys/{name}                       import
 *   GET    /keys/{name}[/]                    the current version
 *   PATCH  /keys/{name}[/]                    update the current version
 *   POST   /keys/{name}/create                create (a new version when the name exists)
 *   GET    /keys/{name}/versions              the versions
 *   GET    /keys/{name}/{version}             one version
 *   PATCH  /keys/{name}/{version}             update one version
 *   POST   /keys/{name}[/{version}]/release   Secure Key Release
 *   GET    /healthz                           {"status":"ok"}, no authentication
 *
 * Every /keys request carries ?api-version= (one of VT_KV_API_VERSIONS) and a bearer token
 * (veritee's admin tokens, or tokens of role "keyvault"). Without an Authorization header the
 * answer is 401 with the challenge the SDK's keyVaultAuthenticationPolicy reads:
 * WWW-Authenticate: Bearer authorization="<authorization>", resource="<resource>". Errors are
 * {"error":{"code","message"}} with Key Vault's status codes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "azure/kv.h"
#include "base/encoding.h"
#include "store/store.h"

#define JSON_CT "application/json; charset=utf-8"

/* The api-versions of Key Vault's keys API that have release (7.3 on). */
static const char *const api_versions[] = {"7.3",           "7.4", "7.5",
                                           "7.6-preview.2", "7.6", "2025-07-01"};
#define N_API (sizeof(api_versions) / sizeof(api_versions[0]))

void vt_kv_reply_error(struct vt_http_resp *resp, const struct vt_az_error *e)
{
    vt_az_reply(resp, e->status, e->code, e->message);
}

bool vt_kv_body_read(const uint8_t *body, size_t len, json_t **out, struct vt_az_error *e)
{
    *out = NULL;
    if (len == 0) {
        return vt_az_fail(e, 400, "BadParameter", "the request has no body (a JSON object)");
    }
    if (len > VT_KV_BODY_MAX) {
        return vt_az_fail(e, 413, "RequestTooLarge", "the body is %zu bytes, at most %u", len,
                          VT_KV_BODY_MAX);
    }
    json_error_t je;
    json_t *o = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL) {
        return vt_az_fail(e, 400, "BadParameter", "the body is not JSON: %s (line %d, column %d)",
                          je.text, je.line, je.column);
    }
    if (!json_is_object(o)) {
        json_decref(o);
        return vt_az_fail(e, 400, "BadParameter", "the body is not a JSON object");
    }
    *out = o;
    return true;
}

/* ---- authentication ---- */

static void challenge(struct vt_kv *k, struct vt_http_resp *resp, const char *message)
{
    struct vt_az_error e;
    vt_az_fail(&e, 401, "Unauthorized", "%s", message);
    vt_kv_reply_error(resp, &e);
    char h[2 * VT_KV_URL_MAX + 64];
    snprintf(h, sizeof(h), "Bearer authorization=\"%s\", resource=\"%s\"", k->authorization,
             k->resource);
    (void)!vt_http_resp_header(resp, "WWW-Authenticate", h);
}

/* true if the request may go on; otherwise resp holds the 401. */
static bool authenticate(struct vt_kv *k, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    if (vt_http_req_header(req, "Authorization") == NULL) {
        challenge(k, resp, "AKV10000: Request is missing a Bearer or PoP token.");
        return false;
    }
    const char *token = vt_http_bearer(req);
    if (token == NULL || !vt_tokens_check(k->b->store, token, "keyvault")) {
        challenge(k, resp,
                  "AKV10022: Invalid bearer token (not a token of this veritee with role "
                  "keyvault or admin).");
        return false;
    }
    return true;
}

/* ---- paths ---- */

enum route_id {
    R_NONE,
    R_LIST,
    R_IMPORT,
    R_GET,
    R_UPDATE,
    R_CREATE,
    R_VERSIONS,
    R_RELEASE,
};

struct route {
    enum route_id id;
    bool path_known; /* the path exists with other methods */
    char allow[64];
    char name[VT_KV_NAME_MAX + 2];
    char version[VT_KV_VERSION_LEN + 2];
};

/* The routes (veritee routes, docs/api/keyvault.yaml); flags: the route id. "/keys/{key-name}/"
 * (the SDK's getKey and updateKeyProperties without a version) is read as "/keys/{key-name}". */
#define BODY VT_KV_BODY_MAX
#define READ VT_HTTP_RATE_READ
static const struct vt_http_route_entry routes[] = {
    {"GET", "/healthz", 0, VT_HTTP_RATE_NONE, true, R_NONE, NULL},
    {"GET", "/keys", 0, READ, false, R_LIST, NULL},
    {"PUT", "/keys/{key-name}", BODY, READ, false, R_IMPORT, NULL},
    {"GET", "/keys/{key-name}", 0, READ, false, R_GET, NULL},
    {"PATCH", "/keys/{key-name}", BODY, READ, false, R_UPDATE, NULL},
    {"POST", "/keys/{key-name}/create", BODY, READ, false, R_CREATE, NULL},
    {"GET", "/keys/{key-name}/versions", 0, READ, false, R_VERSIONS, NULL},
    {"POST", "/keys/{key-name}/release", BODY, READ, false, R_RELEASE, NULL},
    {"GET", "/keys/{key-name}/{key-version}", 0, READ, false, R_GET, NULL},
    {"PATCH", "/keys/{key-name}/{key-version}", BODY, READ, false, R_UPDATE, NULL},
    {"POST", "/keys/{key-name}/{key-version}/release", BODY, READ, false, R_RELEASE, NULL},
};
#undef BODY
#undef READ

const struct vt_http_route_entry *vt_kv_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}

static void match(const char *method, const char *path, struct route *r)
{
    memset(r, 0, sizeof(*r));
    char trimmed[512];
    size_t len = strlen(path);
    if (len >= sizeof(trimmed)) {
        return;
    }
    memcpy(trimmed, path, len + 1);
    /* "/keys/NAME/": the current version */
    if (len > 7 && trimmed[len - 1] == '/' && strncmp(trimmed, "/keys/", 6) == 0 &&
        strchr(trimmed + 6, '/') == trimmed + len - 1) {
        trimmed[len - 1] = '\0';
    }
    char allow[64];
    const struct vt_http_route_entry *e =
        vt_http_route_find(routes, sizeof(routes) / sizeof(routes[0]), method, trimmed,
                           &r->path_known, allow, sizeof(allow));
    snprintf(r->allow, sizeof(r->allow), "%s", allow);
    if (e == NULL || e->flags == R_NONE) {
        return;
    }
    r->id = (enum route_id)e->flags;
    if (r->id != R_LIST && !vt_http_path_segment(trimmed, 1, r->name, sizeof(r->name))) {
        r->id = R_NONE;
        r->path_known = false;
        return;
    }
    if (strstr(e->path, "{key-version}") != NULL &&
        !vt_http_path_segment(trimmed, 2, r->version, sizeof(r->version))) {
        r->id = R_NONE;
        r->path_known = false;
    }
}

/* The vault URL of key ids: configured, or https:// and a Host of [A-Za-z0-9.:[]-]. */
static bool vault_url(struct vt_kv *k, const struct vt_http_req *req, char out[VT_KV_URL_MAX],
                      struct vt_az_error *e)
{
    if (k->vault_url[0] != '\0') {
        snprintf(out, VT_KV_URL_MAX, "%s", k->vault_url);
        return true;
    }
    const char *host = vt_http_req_header(req, "Host");
    size_t n = host ? strlen(host) : 0;
    if (n == 0 || n > 200 ||
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789.-:[]") != n) {
        return vt_az_fail(e, 400, "BadParameter", "the Host header is missing or not a host name");
    }
    snprintf(out, VT_KV_URL_MAX, "https://%s", host);
    return true;
}

static void reply_json(struct vt_http_resp *resp, json_t *out)
{
    char *body = json_dumps(out, JSON_COMPACT);
    vt_http_resp_status(resp, 200, JSON_CT);
    if (body == NULL || !vt_http_resp_body(resp, body, strlen(body))) {
        vt_http_resp_status(resp, 500, JSON_CT);
    }
    free(body);
}

static void receipt_headers(struct vt_http_resp *resp, const struct vt_kv_call *c)
{
    if (c->receipt == NULL) {
        return;
    }
    char *b64 = vt_base64_alloc((const uint8_t *)c->receipt, strlen(c->receipt), false);
    if (b64 != NULL) {
        (void)!vt_http_resp_header(resp, "x-veritee-receipt", b64);
        (void)!vt_http_resp_header(resp, "x-veritee-receipt-kid", c->receipt_kid);
    }
    free(b64);
}

static void keys_call(struct vt_kv *k, const struct vt_http_req *req, const struct route *r,
                      struct vt_http_resp *resp)
{
    struct vt_kv_call c;
    memset(&c, 0, sizeof(c));
    char url[VT_KV_URL_MAX];
    c.vault_url = url;
    const char *api = vt_http_req_arg(req, "api-version");
    size_t i = 0;
    while (api != NULL && i < N_API && strcmp(api, api_versions[i]) != 0) {
        i++;
    }
    json_t *body = NULL;
    bool ok;
    if (api == NULL || i == N_API) {
        ok = vt_az_fail(&c.err, 400, "BadParameter",
                        api == NULL ? "The api-version query parameter is missing (7.3 to 7.6, "
                                      "2025-07-01)"
                                    : "The api-version %.32s is not one this service takes (7.3 "
                                      "to 7.6, 2025-07-01)",
                        api);
    } else {
        c.api_version = api_versions[i];
        ok = vault_url(k, req, url, &c.err);
    }
    if (ok && r->id != R_LIST && !vt_kv_name_ok(r->name)) {
        ok = vt_az_fail(&c.err, 400, "BadParameter",
                        "The key name \"%.64s\" is not 1 to 127 letters, digits and dashes",
                        r->name);
    }
    if (ok && r->version[0] != '\0' && !vt_kv_version_ok(r->version)) {
        ok = vt_az_fail(&c.err, 404, "KeyNotFound",
                        "A key with (name/id) %s/%.40s was not found in this key vault.", r->name,
                        r->version);
    }
    bool needs_body =
        r->id == R_IMPORT || r->id == R_UPDATE || r->id == R_CREATE || r->id == R_RELEASE;
    if (ok && needs_body) {
        size_t len = 0;
        const uint8_t *p = vt_http_req_body(req, &len);
        ok = vt_kv_body_read(p, len, &body, &c.err);
    }
    if (ok) {
        switch (r->id) {
        case R_LIST:
            ok = vt_kv_list(k, &c, NULL);
            break;
        case R_VERSIONS:
            ok = vt_kv_list(k, &c, r->name);
            break;
        case R_IMPORT:
            ok = vt_kv_import(k, &c, r->name, body);
            break;
        case R_GET:
            ok = vt_kv_get(k, &c, r->name, r->version);
            break;
        case R_UPDATE:
            ok = vt_kv_update(k, &c, r->name, r->version, body);
            break;
        case R_CREATE:
            ok = vt_kv_create(k, &c, r->name, body);
            break;
        case R_RELEASE:
            ok = vt_kv_release(k, &c, r->name, r->version, body);
            break;
        default:
            ok = vt_az_fail(&c.err, 500, "InternalServerError", "no such route");
            break;
        }
    }
    if (ok) {
        reply_json(resp, c.out);
    } else {
        vt_kv_reply_error(resp, &c.err);
    }
    receipt_headers(resp, &c);
    vt_kv_call_cleanup(&c);
    json_decref(body);
}

void vt_kv_http_handler(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    struct vt_kv *k = ctx;
    const char *method = vt_http_req_method(req), *path = vt_http_req_path(req);
    if (strcmp(path, "/healthz") == 0 && strcmp(method, "GET") == 0) {
        vt_http_json_reply(resp, 200, json_pack("{s:s}", "status", "ok"));
        return;
    }
    struct route r;
    match(method, path, &r);
    struct vt_az_error e;
    if (r.id == R_NONE) {
        vt_az_fail(&e, r.path_known ? 405 : 404, r.path_known ? "MethodNotAllowed" : "NotFound",
                   r.path_known ? "%s is not a method of %.100s" : "No such resource: %.100s%s",
                   r.path_known ? method : path, r.path_known ? path : "");
        vt_kv_reply_error(resp, &e);
        if (r.path_known) {
            (void)!vt_http_resp_header(resp, "Allow", r.allow);
        }
        return;
    }
    /* Authentication comes first: an unauthenticated request learns only the challenge. */
    if (!authenticate(k, req, resp)) {
        return;
    }
    keys_call(k, req, &r, resp);
}

void vt_kv_http_route(void *ctx, const struct vt_http_req *req, struct vt_http_route *route,
                      struct vt_http_resp *resp)
{
    struct vt_kv *k = ctx;
    const char *method = vt_http_req_method(req), *path = vt_http_req_path(req);
    if (strcmp(path, "/healthz") == 0 && strcmp(method, "GET") == 0) {
        *route = (struct vt_http_route){0, VT_HTTP_RATE_NONE, true, NULL};
        return;
    }
    struct route r;
    match(method, path, &r);
    if (r.id == R_NONE) {
        vt_kv_http_handler(ctx, req, resp); /* 404 or 405 from the head */
        return;
    }
    /* the challenge before the body is read (the SDK sends its first request without one) */
    if (!authenticate(k, req, resp)) {
        return;
    }
    bool body = r.id == R_IMPORT || r.id == R_UPDATE || r.id == R_CREATE || r.id == R_RELEASE;
    *route = (struct vt_http_route){body ? VT_KV_BODY_MAX : 0, VT_HTTP_RATE_READ, false, NULL};
}
