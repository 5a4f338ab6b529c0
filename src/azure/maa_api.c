/*
 * The MAA service over HTTP (docs/maa.md, docs/api/maa.yaml), as Azure Attestation's data plane
 * answers the @azure/attestation SDK:
 *
 *   POST /attest/{SgxEnclave|OpenEnclave|TdxVm|SevSnpVm}?api-version=V   -> {"token": JWT}
 *   GET  /certs                                  the token signing keys, JWKS with x5c
 *   GET  /.well-known/openid-configuration       OpenID metadata (issuer, jwks_uri)
 *   GET  /policies/{type}?api-version=V          admin: {"token": JWT of a PolicyResult}
 *   PUT  /policies/{type}?api-version=V          admin: body the policy JWS (text/plain)
 *   POST /policies/{type}:reset?api-version=V    admin: body an empty JWS
 *   GET  /healthz                                {"status":"ok"}
 *
 * Errors are Azure's CloudError: {"error": {"code": ..., "message": ...}} with the status. The
 * policy endpoints need an admin bearer token of this veritee (`veritee broker token`), which
 * the SDK sends only over https (so serve these with --tls-cert/--tls-key).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "azure/maa.h"
#include "base/encoding.h"
#include "crypto/x509_self.h"

#define JSON "application/json; charset=utf-8"
#define ADMIN 1u   /* the route needs an admin bearer token */
#define API_VER 2u /* the route needs an accepted api-version */

static void reply_diag(struct vt_http_resp *resp, unsigned status, const char *code,
                       const struct vt_diag *d)
{
    char msg[VT_DIAG_DETAIL_MAX + VT_DIAG_CHECK_MAX + 8];
    snprintf(msg, sizeof(msg), "%s: %s", d->check, d->detail);
    vt_az_reply(resp, status, code, msg);
}

static void reply_text(struct vt_http_resp *resp, const char *ctype, char *body)
{
    if (body == NULL) {
        vt_az_reply(resp, 500, "InternalError", "cannot encode the response");
        return;
    }
    vt_http_resp_status(resp, 200, ctype);
    if (!vt_http_resp_body(resp, body, strlen(body))) {
        vt_az_reply(resp, 500, "InternalError", "no memory");
    }
    free(body);
}

static void reply_token(struct vt_http_resp *resp, const char *jwt)
{
    json_t *o = json_pack("{s:s}", "token", jwt);
    reply_text(resp, JSON, o != NULL ? json_dumps(o, JSON_COMPACT) : NULL);
    json_decref(o);
}

/* The attestation type of path segment 1 ("/attest/SgxEnclave", "/policies/TdxVm:reset"). */
static bool path_type(const struct vt_http_req *req, enum vt_maa_type *t, struct vt_http_resp *resp)
{
    char seg[64];
    if (!vt_http_path_segment(vt_http_req_path(req), 1, seg, sizeof(seg))) {
        vt_az_reply(resp, 400, "InvalidParameter", "no attestation type in the path");
        return false;
    }
    char *colon = strchr(seg, ':');
    if (colon != NULL) {
        *colon = '\0';
    }
    if (!vt_maa_type_parse(seg, t)) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "the attestation type \"%.40s\" is not SgxEnclave, OpenEnclave, TdxVm or SevSnpVm",
                 seg);
        vt_az_reply(resp, 400, "InvalidParameter", msg);
        return false;
    }
    return true;
}

/* ---- attest ---- */

static void h_attest(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    struct vt_maa *m = ctx;
    enum vt_maa_type t;
    if (!path_type(req, &t, resp)) {
        return;
    }
    size_t n = 0;
    const uint8_t *body = vt_http_req_body(req, &n);
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_maa_attest_req q;
    if (vt_maa_attest_req_parse(t, body, n, &q, &d) != VT_OK) {
        reply_diag(resp, 400, "InvalidParameter", &d);
        return;
    }
    char *jwt = NULL;
    struct vt_az_error e;
    if (vt_maa_attest(m, &q, &jwt, &e)) {
        reply_token(resp, jwt);
    } else {
        vt_az_reply(resp, e.status, e.code, e.message);
        if (e.status == 503) {
            (void)!vt_http_resp_header(resp, "Retry-After", "5");
        }
    }
    free(jwt);
    vt_maa_attest_req_cleanup(&q);
}

/* ---- keys and metadata ---- */

static void h_certs(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)req;
    reply_text(resp, JSON, vt_maa_jwks(ctx));
}

static void h_openid(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)req;
    reply_text(resp, JSON, vt_maa_openid_configuration(ctx));
}

static void h_health(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)ctx;
    (void)req;
    reply_text(resp, JSON, strdup("{\"status\":\"ok\"}"));
}

/* ---- policies ---- */

/* Sign a PolicyResult body (with iat, nbf, exp and iss added) and answer {"token": ...}. */
static void reply_policy_result(struct vt_maa *m, json_t *body, struct vt_http_resp *resp)
{
    vt_time now = vt_maa_now(m);
    json_object_set_new(body, "iss", json_string(vt_maa_issuer(m)));
    json_object_set_new(body, "iat", json_integer(now));
    json_object_set_new(body, "nbf", json_integer(now));
    json_object_set_new(body, "exp", json_integer(now + m->token_ttl));
    struct vt_diag d;
    vt_diag_init(&d);
    char *jwt = NULL;
    if (vt_maa_sign(m, body, &jwt, &d) != VT_OK) {
        reply_diag(resp, 500, "InternalError", &d);
        return;
    }
    reply_token(resp, jwt);
    free(jwt);
}

static void h_policy_get(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    struct vt_maa *m = ctx;
    enum vt_maa_type t;
    if (!path_type(req, &t, resp)) {
        return;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_maa_stored s;
    if (vt_maa_policy_get(m, t, &s, &d) != VT_OK) {
        reply_diag(resp, 500, "InternalError", &d);
        return;
    }
    json_t *body = json_pack("{s:s}", "x-ms-policy", s.token);
    if (body != NULL && s.signer_der != NULL) {
        json_t *jwk = vt_maa_signer_jwk(s.signer_der, s.signer_len);
        if (jwk != NULL) {
            json_object_set_new(body, "x-ms-policy-signer", jwk);
        }
    }
    if (body == NULL) {
        vt_az_reply(resp, 500, "InternalError", "no memory");
    } else {
        reply_policy_result(m, body, resp);
    }
    json_decref(body);
    vt_maa_stored_cleanup(&s);
}

/* PUT /policies/{type} (set) and POST /policies/{type}:reset. */
static void policy_change(struct vt_maa *m, const struct vt_http_req *req, bool set,
                          struct vt_http_resp *resp)
{
    enum vt_maa_type t;
    if (!path_type(req, &t, resp)) {
        return;
    }
    size_t n = 0;
    const uint8_t *raw = vt_http_req_body(req, &n);
    /* the SDK sends the JWS as text/plain; a JSON string of it is taken too */
    char *text = malloc(n + 1);
    if (text == NULL) {
        vt_az_reply(resp, 500, "InternalError", "no memory");
        return;
    }
    memcpy(text, raw, n);
    text[n] = '\0';
    size_t len = n;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ')) {
        text[--len] = '\0';
    }
    if (len >= 2 && text[0] == '"' && text[len - 1] == '"') {
        memmove(text, text + 1, len - 2);
        len -= 2;
        text[len] = '\0';
    }
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_maa_policy_token tok;
    enum vt_err err = vt_maa_policy_token_parse(text, len, set, &tok, &d);
    if (err == VT_OK) {
        err = vt_maa_policy_put(m, t, &tok, text, &d);
    }
    if (err != VT_OK) {
        unsigned status = err == VT_E_UNAUTHORIZED                   ? 401
                          : err == VT_E_STORAGE || err == VT_E_NOMEM ? 500
                                                                     : 400;
        reply_diag(resp, status,
                   status == 401   ? "PolicySignerNotTrusted"
                   : status == 500 ? "InternalError"
                                   : "InvalidParameter",
                   &d);
    } else {
        char hash[44];
        (void)!vt_base64_encode(tok.token_hash, sizeof(tok.token_hash), true, hash, sizeof(hash));
        json_t *body = json_pack("{s:s,s:s}", "x-ms-policy-result", set ? "Updated" : "Removed",
                                 "x-ms-policy-token-hash", hash);
        if (body != NULL && tok.signed_) {
            json_t *jwk = vt_maa_signer_jwk(tok.signer_der, tok.signer_len);
            if (jwk != NULL) {
                json_object_set_new(body, "x-ms-policy-signer", jwk);
            }
        }
        if (body == NULL) {
            vt_az_reply(resp, 500, "InternalError", "no memory");
        } else {
            reply_policy_result(m, body, resp);
        }
        json_decref(body);
    }
    vt_maa_policy_token_cleanup(&tok);
    free(text);
}

static void h_policy_put(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    policy_change(ctx, req, true, resp);
}

static void h_policy_reset(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    policy_change(ctx, req, false, resp);
}

/* ---- routing ---- */

static const struct vt_http_route_entry routes[] = {
    {"POST", "/attest/{attestationType}", VT_MAA_BODY_MAX, VT_HTTP_RATE_ATTEST, false, API_VER,
     h_attest},
    {"GET", "/certs", 0, VT_HTTP_RATE_READ, false, 0, h_certs},
    {"GET", "/.well-known/openid-configuration", 0, VT_HTTP_RATE_READ, false, 0, h_openid},
    {"POST", "/policies/{attestationType}:reset", VT_MAA_POLICY_TOKEN_MAX, VT_HTTP_RATE_NONE, true,
     ADMIN | API_VER, h_policy_reset},
    {"GET", "/policies/{attestationType}", 0, VT_HTTP_RATE_NONE, true, ADMIN | API_VER,
     h_policy_get},
    {"PUT", "/policies/{attestationType}", VT_MAA_POLICY_TOKEN_MAX, VT_HTTP_RATE_NONE, true,
     ADMIN | API_VER, h_policy_put},
    {"GET", "/healthz", 0, VT_HTTP_RATE_NONE, true, 0, h_health},
};

const struct vt_http_route_entry *vt_maa_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}

/* The entry of a request, or NULL after answering 404/405/400 (api-version)/401 (admin). */
static const struct vt_http_route_entry *entry_of(struct vt_maa *m, const struct vt_http_req *req,
                                                  struct vt_http_resp *resp)
{
    bool known = false;
    char allow[64];
    const struct vt_http_route_entry *e =
        vt_http_route_find(routes, sizeof(routes) / sizeof(routes[0]), vt_http_req_method(req),
                           vt_http_req_path(req), &known, allow, sizeof(allow));
    if (e == NULL) {
        vt_az_reply(resp, known ? 405 : 404, known ? "MethodNotAllowed" : "NotFound",
                    known ? "no such method on this endpoint" : "no such endpoint");
        if (known) {
            (void)!vt_http_resp_header(resp, "Allow", allow);
        }
        return NULL;
    }
    if ((e->flags & API_VER) != 0) {
        const char *v = vt_http_req_arg(req, "api-version");
        if (v == NULL) {
            vt_az_reply(resp, 400, "MissingApiVersionParameter",
                        "the api-version query parameter is required (" VT_MAA_API_VERSIONS ")");
            return NULL;
        }
        if (!vt_maa_api_version_ok(v)) {
            char msg[200];
            snprintf(msg, sizeof(msg),
                     "the api-version '%.40s' is not supported; the supported versions are "
                     "" VT_MAA_API_VERSIONS,
                     v);
            vt_az_reply(resp, 400, "InvalidApiVersionParameter", msg);
            return NULL;
        }
    }
    if ((e->flags & ADMIN) != 0 && !vt_tokens_check(m->b->store, vt_http_bearer(req), "admin")) {
        vt_az_reply(resp, 401, "Unauthorized",
                    "an admin bearer token of this veritee is required (veritee broker token)");
        (void)!vt_http_resp_header(resp, "WWW-Authenticate", "Bearer");
        return NULL;
    }
    return e;
}

void vt_maa_http_route(void *ctx, const struct vt_http_req *req, struct vt_http_route *route,
                       struct vt_http_resp *resp)
{
    const struct vt_http_route_entry *e = entry_of(ctx, req, resp);
    if (e != NULL) {
        *route =
            (struct vt_http_route){e->max_body, (enum vt_http_rate_class)e->rate, e->priority, e};
    }
}

void vt_maa_http_handler(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    const struct vt_http_route_entry *e = entry_of(ctx, req, resp);
    if (e != NULL) {
        e->handler(ctx, req, resp);
    }
}
