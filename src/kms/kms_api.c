/*
 * The KMS service over HTTP (docs/kms.md): the AWS JSON 1.1 protocol, as AWS KMS speaks it.
 *
 *   POST /   X-Amz-Target: TrentService.<Operation>
 *            Content-Type: application/x-amz-json-1.1
 *            Authorization: AWS4-HMAC-SHA256 ... (or the query form), X-Amz-Date
 *            body: the operation's members as JSON
 *   200      Content-Type: application/x-amz-json-1.1, x-amzn-RequestId, the response members
 *   4xx/5xx  {"__type": "<Exception>", "message": "..."} with the status KMS uses
 *   GET /healthz   {"status":"ok"}, no authentication (load balancers, tests)
 *
 * Each request: the target and body are read (kms_request.c), the signature is verified with
 * vt_sigv4_verify (service "kms", the configured region; the access key's secret and principal
 * from the store), then the call runs (kms_ops.c). Requests refused before a caller is known
 * (no or a bad signature, an unknown target, a body that is not JSON) are not in the audit log:
 * anyone could write those. A Recipient call's log receipt is returned in the headers
 * x-veritee-receipt (base64 of the receipt JSON, docs/audit-log.md) and x-veritee-receipt-kid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "kms/kms.h"

#define JSON_11 "application/x-amz-json-1.1"
#define MAX_HEADERS VT_HTTP_MAX_FIELDS

void vt_kms_reply_error(struct vt_http_resp *resp, const char *request_id,
                        const struct vt_kms_error *e)
{
    json_t *o = json_pack("{s:s,s:s}", "__type", e->type, "message", e->message);
    char *body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    vt_http_resp_status(resp, e->status, JSON_11);
    if (body == NULL || !vt_http_resp_body(resp, body, strlen(body))) {
        vt_http_resp_status(resp, 500, JSON_11);
    }
    free(body);
    if (request_id != NULL) {
        (void)!vt_http_resp_header(resp, "x-amzn-RequestId", request_id);
    }
}

static void reply_json(struct vt_http_resp *resp, const char *request_id, json_t *out)
{
    char *body = json_dumps(out, JSON_COMPACT);
    if (body == NULL) {
        struct vt_kms_error e;
        vt_kms_fail(&e, VT_KMS_EXC_INTERNAL, "cannot encode the response");
        vt_kms_reply_error(resp, request_id, &e);
        return;
    }
    vt_http_resp_status(resp, 200, JSON_11);
    size_t n = strlen(body);
    if (!vt_http_resp_body(resp, body, n) ||
        !vt_http_resp_header(resp, "x-amzn-RequestId", request_id)) {
        vt_http_resp_status(resp, 500, JSON_11);
    }
    vt_wipe(body, n); /* it may hold a plaintext */
    free(body);
}

/* ---- SigV4: the access key's secret, principal and flags from the store ---- */

struct secret_ctx {
    struct vt_kms *k;
    struct vt_kms_caller *caller;
    bool storage_failed;
};

static bool secret_of(void *ctx, const char *access_key_id, char secret[VT_SIGV4_SECRET_MAX],
                      char *principal, size_t principal_cap)
{
    struct secret_ctx *s = ctx;
    struct vt_kms_access_key key;
    bool found = false;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_kms_access_key_get(s->k, access_key_id, &key, secret, &found, &d) != VT_OK) {
        fprintf(stderr, "veritee-kms: access key lookup: %s: %s\n", d.check, d.detail);
        s->storage_failed = true;
        return false;
    }
    if (!found || key.disabled) {
        vt_wipe(secret, VT_SIGV4_SECRET_MAX);
        return false;
    }
    snprintf(principal, principal_cap, "%s", key.principal);
    snprintf(s->caller->account, sizeof(s->caller->account), "%s", key.account);
    s->caller->admin = key.admin;
    return true;
}

static bool authenticate(struct vt_kms *k, const struct vt_http_req *req,
                         struct vt_kms_caller *caller, struct vt_kms_error *e)
{
    struct vt_sigv4_header headers[MAX_HEADERS];
    size_t n = 0;
    const char *name, *value;
    while (n < MAX_HEADERS && vt_http_req_header_at(req, n, &name, &value)) {
        headers[n] = (struct vt_sigv4_header){name, value};
        n++;
    }
    const char *target = vt_http_req_target(req);
    const char *q = target != NULL ? strchr(target, '?') : NULL;
    size_t body_len = 0;
    const uint8_t *body = vt_http_req_body(req, &body_len);
    struct vt_sigv4_request r = {.method = vt_http_req_method(req),
                                 .path = vt_http_req_path(req),
                                 .query = q != NULL ? q + 1 : "",
                                 .headers = headers,
                                 .n_headers = n,
                                 .body = body,
                                 .body_len = body_len};
    struct secret_ctx sc = {k, caller, false};
    struct vt_sigv4_expect exp = {.service = "kms",
                                  .regions = k->regions,
                                  .now = vt_kms_now(k),
                                  .max_skew = 0,
                                  .secret = secret_of,
                                  .ctx = &sc};
    struct vt_sigv4_result res;
    enum vt_sigv4_refusal refusal = VT_SIGV4_OK;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_sigv4_verify(&r, &exp, &res, &refusal, &d);
    if (err != VT_OK) {
        if (sc.storage_failed) {
            return vt_kms_fail(e, VT_KMS_EXC_INTERNAL, "the access key cannot be read");
        }
        if (err == VT_E_ARG || err == VT_E_NOMEM || err == VT_E_INTERNAL) {
            /* this service's own fault, not the request's (sigv4.h) */
            fprintf(stderr, "veritee-kms: signature check: %s: %s\n", d.check, d.detail);
            return vt_kms_fail(e, VT_KMS_EXC_INTERNAL, "the signature could not be checked");
        }
        snprintf(e->type, sizeof(e->type), "%s", vt_sigv4_refusal_type(refusal));
        e->status = vt_sigv4_refusal_status(refusal);
        /* AWS's text in the answer; the values (access key id, the canonical request's hash)
         * are for the operator (docs/kms.md, "Authentication") */
        const char *text = refusal == VT_SIGV4_MISSING ? "Request is missing Authentication Token"
                           : refusal == VT_SIGV4_UNKNOWN_KEY
                               ? "The security token included in the request is invalid."
                           : refusal == VT_SIGV4_BAD_SIGNATURE
                               ? "The request signature we calculated does not match the "
                                 "signature you provided. Check your AWS Secret Access Key and "
                                 "signing method. Consult the service documentation for details."
                               : NULL;
        snprintf(e->message, sizeof(e->message), "%s",
                 text          ? text
                 : d.detail[0] ? d.detail
                               : d.check);
        if (refusal != VT_SIGV4_MISSING) {
            fprintf(stderr, "veritee-kms: %s: %s: %s\n", e->type, d.check, d.detail);
        }
        if (e->type[0] == '\0' || e->status == 0) {
            return vt_kms_fail(e, VT_KMS_EXC_INTERNAL, "signature check: %s", d.detail);
        }
        return false;
    }
    snprintf(caller->access_key_id, sizeof(caller->access_key_id), "%s", res.access_key_id);
    snprintf(caller->principal, sizeof(caller->principal), "%s", res.principal);
    return true;
}

/* ---- the handler ---- */

static void receipt_headers(struct vt_http_resp *resp, const struct vt_kms_call *c)
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

static void kms_call(struct vt_kms *k, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    char request_id[VT_KMS_UUID_LEN + 1] = "";
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_kms_error e;
    memset(&e, 0, sizeof(e));
    if (vt_kms_uuid_new(request_id, &d) != VT_OK) {
        vt_kms_fail(&e, VT_KMS_EXC_INTERNAL, "no randomness for a request id");
        vt_kms_reply_error(resp, NULL, &e);
        return;
    }
    size_t len = 0;
    const uint8_t *body = vt_http_req_body(req, &len);
    json_t *json = NULL;
    struct vt_kms_input *in = malloc(sizeof(*in)); /* a few KB: not on a worker's stack */
    struct vt_kms_caller caller;
    memset(&caller, 0, sizeof(caller));
    if (in == NULL) {
        vt_kms_fail(&e, VT_KMS_EXC_INTERNAL, "out of memory");
        vt_kms_reply_error(resp, request_id, &e);
        return;
    }
    /* Authentication comes first, as at AWS: an unsigned request learns nothing of the API. */
    if (!authenticate(k, req, &caller, &e) ||
        !vt_kms_request_read(vt_http_req_header(req, "X-Amz-Target"),
                             vt_http_req_header(req, "Content-Type"), body, len, &json, in, &e)) {
        vt_kms_reply_error(resp, request_id, &e);
        free(in);
        return;
    }
    struct vt_kms_call c = {.caller = &caller, .in = in, .request_id = request_id};
    if (vt_kms_call_run(k, &c)) {
        reply_json(resp, request_id, c.out);
    } else {
        vt_kms_reply_error(resp, request_id, &c.err);
    }
    receipt_headers(resp, &c);
    vt_kms_call_cleanup(&c);
    vt_kms_input_cleanup(in);
    free(in);
    json_decref(json);
}

/*
 * The response's Date from the service's clock: with --now pinned, the SDKs (which correct their
 * clock offset from every answer's Date) go on signing at the service's time.
 */
static void date_header(struct vt_kms *k, struct vt_http_resp *resp)
{
    time_t t = (time_t)vt_kms_now(k);
    struct tm tm;
    char date[40];
    if (gmtime_r(&t, &tm) != NULL &&
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0) {
        (void)!vt_http_resp_header(resp, "Date", date);
    }
}

static void handle(struct vt_kms *k, const struct vt_http_req *req, struct vt_http_resp *resp);

void vt_kms_http_handler(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    handle(ctx, req, resp);
    date_header(ctx, resp);
}

static void handle(struct vt_kms *k, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    const char *method = vt_http_req_method(req), *path = vt_http_req_path(req);
    if (strcmp(path, "/healthz") == 0 && strcmp(method, "GET") == 0) {
        vt_http_json_reply(resp, 200, json_pack("{s:s}", "status", "ok"));
        return;
    }
    if (strcmp(path, "/") == 0 && strcmp(method, "POST") == 0) {
        kms_call(k, req, resp);
        return;
    }
    struct vt_kms_error e;
    bool known = strcmp(path, "/") == 0 || strcmp(path, "/healthz") == 0;
    vt_kms_fail(&e, VT_KMS_EXC_UNKNOWN_OPERATION,
                known ? "%s is not a method of %s (the AWS JSON 1.1 protocol: POST /)"
                      : "No such resource: %.100s (the AWS JSON 1.1 protocol: POST /)",
                known ? method : path, path);
    e.status = known ? 405 : 404;
    vt_kms_reply_error(resp, NULL, &e);
    if (known) {
        (void)!vt_http_resp_header(resp, "Allow", strcmp(path, "/") == 0 ? "POST" : "GET");
    }
}

void vt_kms_http_route(void *ctx, const struct vt_http_req *req, struct vt_http_route *route,
                       struct vt_http_resp *resp)
{
    (void)ctx;
    const char *method = vt_http_req_method(req), *path = vt_http_req_path(req);
    if (strcmp(path, "/") == 0 && strcmp(method, "POST") == 0) {
        /* enclaves reach KMS through one proxy (vsock-proxy): no per-client rate by default */
        *route = (struct vt_http_route){VT_KMS_BODY_MAX, VT_HTTP_RATE_READ, false, NULL};
        return;
    }
    if (strcmp(path, "/healthz") == 0 && strcmp(method, "GET") == 0) {
        *route = (struct vt_http_route){0, VT_HTTP_RATE_NONE, true, NULL};
        return;
    }
    vt_kms_http_handler(ctx, req, resp); /* 404 or 405 from the head */
}
