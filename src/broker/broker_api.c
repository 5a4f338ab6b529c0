/*
 * The broker's HTTP API (docs/api/broker.yaml): the attestation protocol, the JWKS, the public
 * log views, and the admin endpoints (bearer token of role admin). Errors are RFC 7807 problem
 * details with a stable "reason"; a 403 says only the reason id, its explanation goes to the
 * admin log (GET /admin/v1/log?explain=1).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "broker/broker.h"
#include "console/console.h"
#include "net/json_fields.h"

static void refuse(struct vt_http_resp *resp, const struct vt_broker_denial *den)
{
    /* A policy denial's explanation is for the admin log only. */
    const char *detail =
        den->status == 403 ? "denied by policy; the reason id says which rule" : den->detail;
    vt_http_problem(resp, den->status, vt_http_status_title(den->status), detail, den->reason);
    if (den->status == 503 && den->retry_after > 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%" PRId64, den->retry_after);
        (void)!vt_http_resp_header(resp, "Retry-After", ra);
    }
}

/* A refusal by the broker; one that left no log entry is counted in the metrics instead. */
static void refuse_counted(struct vt_broker *b, enum vt_broker_endpoint ep,
                           struct vt_http_resp *resp, const struct vt_broker_denial *den)
{
    if (!den->logged) {
        vt_broker_count_unlogged(b, ep, den->reason);
    }
    refuse(resp, den);
}

static void bad(struct vt_http_resp *resp, unsigned status, const char *reason, const char *detail)
{
    vt_http_problem(resp, status, vt_http_status_title(status), detail, reason);
}

static json_t *body_json(const struct vt_http_req *req, struct vt_http_resp *resp)
{
    size_t n = 0;
    const uint8_t *p = vt_http_req_body(req, &n);
    json_error_t je;
    json_t *o = p ? json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        bad(resp, 400, "body", p ? "the body is not a JSON object" : "a JSON body is required");
        return NULL;
    }
    return o;
}

/*
 * A 400 for a body field that a typed reader (net/json_fields.h) refused: the reason is the
 * member's name (the last element of the path in d->check, "$.evidence" -> "evidence"), except
 * runtime_key and nonce, whose reasons (runtime-key, nonce-malformed) the broker gave them before;
 * the detail names the path and what is wrong ("$.evidence: expected a string, got a number").
 */
static void bad_field(struct vt_http_resp *resp, const struct vt_diag *d)
{
    const char *dot = strrchr(d->check, '.');
    const char *name = dot != NULL ? dot + 1 : d->check;
    const char *reason = strcmp(name, "runtime_key") == 0 ? "runtime-key"
                         : strcmp(name, "nonce") == 0     ? "nonce-malformed"
                                                          : name;
    bad(resp, d->code == VT_E_NOMEM ? 500 : 400, reason, d->detail);
}

/* runtime_key: a JWK object (or its JSON text), optional. Heap text in *out (NULL: absent). */
static enum vt_err jwk_member(json_t *o, char **out, struct vt_diag *d)
{
    *out = NULL;
    json_t *k = json_object_get(o, "runtime_key");
    if (k == NULL || json_is_null(k)) {
        return VT_OK;
    }
    VT_ENSURE(json_is_string(k) || json_is_object(k), d, VT_E_BAD_FIELD, "$.runtime_key",
              "$.runtime_key: expected an object (a JWK) or a string (its JSON text), got %s",
              vt_json_type_name(k));
    *out = json_is_string(k) ? strdup(json_string_value(k))
                             : json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
    VT_ENSURE(*out != NULL, d, VT_E_NOMEM, "$.runtime_key", "$.runtime_key: out of memory");
    return VT_OK;
}

struct attest_input {
    uint8_t *evidence, *vek;
    char *runtime_key;
    struct vt_broker_attest_req q;
};

static void attest_input_cleanup(struct attest_input *in)
{
    free(in->evidence);
    free(in->vek);
    free(in->runtime_key);
}

static bool attest_input(json_t *o, bool evidence_required, struct attest_input *in,
                         struct vt_http_resp *resp)
{
    memset(in, 0, sizeof(*in));
    size_t n = 0, vn = 0;
    const char *nonce = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = evidence_required
                          ? vt_json_req_base64(o, "$", "evidence", &in->evidence, &n, &d)
                          : vt_json_opt_base64(o, "$", "evidence", &in->evidence, &n, &d);
    if (err == VT_OK) {
        err = vt_json_opt_base64(o, "$", "vcek", &in->vek, &vn, &d);
    }
    if (err == VT_OK) {
        err = vt_json_opt_string(o, "$", "nonce", &nonce, &d);
    }
    if (err == VT_OK) {
        err = jwk_member(o, &in->runtime_key, &d);
    }
    if (err != VT_OK) {
        attest_input_cleanup(in);
        memset(in, 0, sizeof(*in));
        bad_field(resp, &d);
        return false;
    }
    in->q = (struct vt_broker_attest_req){
        .evidence = in->evidence,
        .evidence_len = n,
        .nonce = nonce,
        .runtime_key = in->runtime_key,
        .vek = in->vek,
        .vek_len = vn,
    };
    return true;
}

static void challenge(struct vt_broker *b, struct vt_http_resp *resp)
{
    char nonce[64], when[VT_TIME_STR_MAX];
    vt_time exp;
    struct vt_broker_denial den;
    if (!vt_broker_challenge(b, nonce, &exp, &den)) {
        refuse(resp, &den); /* counted as a limit refusal, or a storage error */
        return;
    }
    vt_time_format(exp, when);
    vt_http_json_reply(resp, 201, json_pack("{s:s,s:s}", "nonce", nonce, "expires_at", when));
}

static void text_json(struct vt_http_resp *resp, char *s);

static void attest(struct vt_broker *b, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    json_t *o = body_json(req, resp);
    struct attest_input in;
    if (o == NULL || !attest_input(o, true, &in, resp)) {
        vt_broker_count_unlogged(b, VT_BM_ATTEST, "request");
        json_decref(o);
        return;
    }
    struct vt_broker_attest_res r;
    struct vt_broker_denial den;
    if (!vt_broker_attest(b, &in.q, &r, &den)) {
        refuse_counted(b, VT_BM_ATTEST, resp, &den);
    } else {
        char when[VT_TIME_STR_MAX];
        vt_time_format(r.expires, when);
        json_t *o2 = json_pack("{s:s,s:s,s:s,s:I}", "token", r.token, "expires_at", when, "claims",
                               VT_JSON_RAW_PLACEHOLDER, "log_index", (json_int_t)r.log_index);
        char *text = o2 ? vt_json_dumps_raw(o2, "claims", r.claims_json) : NULL;
        json_decref(o2);
        text_json(resp, text);
    }
    vt_broker_attest_res_cleanup(&r);
    attest_input_cleanup(&in);
    json_decref(o);
}

static void release(struct vt_broker *b, const char *name, const struct vt_http_req *req,
                    struct vt_http_resp *resp)
{
    json_t *o = body_json(req, resp);
    if (o == NULL) {
        vt_broker_count_unlogged(b, VT_BM_RELEASE, "request");
        return;
    }
    const char *token = NULL, *format = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_json_opt_string(o, "$", "token", &token, &d) != VT_OK ||
        vt_json_opt_string(o, "$", "format", &format, &d) != VT_OK) {
        vt_broker_count_unlogged(b, VT_BM_RELEASE, "request");
        bad_field(resp, &d);
        json_decref(o);
        return;
    }
    struct attest_input in;
    if (!attest_input(o, token == NULL, &in, resp)) {
        vt_broker_count_unlogged(b, VT_BM_RELEASE, "request");
        json_decref(o);
        return;
    }
    if (format != NULL && strcmp(format, "jwe") != 0 && strcmp(format, "cms") != 0) {
        vt_broker_count_unlogged(b, VT_BM_RELEASE, "format");
        bad(resp, 400, "format", "format is jwe (default) or cms");
        attest_input_cleanup(&in);
        json_decref(o);
        return;
    }
    struct vt_broker_release_req q = {
        .key_name = name,
        .token = token,
        .attest = in.q,
        .runtime_key = in.runtime_key,
        .cms = format != NULL && strcmp(format, "cms") == 0,
    };
    struct vt_broker_release_res r;
    struct vt_broker_denial den;
    if (!vt_broker_release(b, &q, &r, &den)) {
        refuse_counted(b, VT_BM_RELEASE, resp, &den);
    } else {
        json_t *receipt = json_loads(r.receipt, 0, NULL);
        json_t *out =
            json_pack("{s:s,s:I,s:o,s:s}", "key", name, "version", (json_int_t)r.version, "receipt",
                      receipt ? receipt : json_null(), "receipt_kid", r.receipt_kid);
        if (r.jwe != NULL) {
            json_object_set_new(out, "jwe", json_string(r.jwe));
        } else {
            char *b64 = vt_base64_alloc(r.cms, r.cms_len, false);
            json_object_set_new(out, "cms", b64 ? json_string(b64) : json_null());
            free(b64);
        }
        vt_http_json_reply(resp, 200, out);
    }
    vt_broker_release_res_cleanup(&r);
    attest_input_cleanup(&in);
    json_decref(o);
}

static void text_json(struct vt_http_resp *resp, char *s)
{
    if (s == NULL) {
        bad(resp, 500, "internal", "cannot produce the response");
        return;
    }
    vt_http_resp_status(resp, 200, "application/json");
    if (!vt_http_resp_body(resp, s, strlen(s))) {
        bad(resp, 500, "internal", "out of memory");
    }
    free(s);
}

static bool u64_arg(const struct vt_http_req *req, const char *name, uint64_t def, uint64_t *out)
{
    const char *s = vt_http_req_arg(req, name);
    if (s == NULL) {
        *out = def;
        return true;
    }
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    *out = v;
    return s[0] >= '0' && s[0] <= '9' && *end == '\0';
}

/* ---- admin ---- */

static void key_create(struct vt_broker *b, const char *name, json_t *o, struct vt_http_resp *resp)
{
    uint8_t *secret = NULL;
    size_t len = 0;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err ferr = vt_json_opt_base64(o, "$", "secret", &secret, &len, &d);
    /* the secret's text in the request is wiped too, not only its decoded copy */
    json_t *st = json_object_get(o, "secret");
    if (json_is_string(st)) {
        vt_wipe((char *)json_string_value(st), json_string_length(st));
    }
    int64_t gen = 0;
    json_t *pol = NULL;
    if (ferr == VT_OK) {
        ferr = vt_json_opt_int(o, "$", "generate", INT64_MIN, INT64_MAX, &gen, &d);
    }
    if (ferr == VT_OK) {
        ferr = vt_json_opt_object(o, "$", "policy", &pol, &d);
    }
    if (ferr != VT_OK) {
        if (secret != NULL) {
            vt_wipe(secret, len);
        }
        free(secret);
        bad_field(resp, &d);
        return;
    }
    char *pj = pol != NULL ? json_dumps(pol, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    uint32_t version = 0;
    enum vt_err err;
    if (secret == NULL && gen <= 0) {
        err = vt_fail(&d, VT_E_ARG, "secret", "give secret (base64) or generate (bytes)");
    } else if (pol != NULL && pj == NULL) {
        err = vt_fail(&d, VT_E_NOMEM, "policy", "out of memory");
    } else {
        err =
            vt_broker_key_put(b, name, secret, len, (size_t)(gen > 0 ? gen : 0), pj, &version, &d);
    }
    if (secret != NULL) {
        vt_wipe(secret, len);
    }
    free(secret);
    free(pj);
    if (err != VT_OK) {
        char msg[VT_DIAG_DETAIL_MAX + 80];
        snprintf(msg, sizeof(msg), "%s: %s", d.check, d.detail);
        bad(resp, err == VT_E_STORAGE ? 500 : 400, "invalid", msg);
        return;
    }
    vt_http_json_reply(resp, 201,
                       json_pack("{s:s,s:I}", "name", name, "version", (json_int_t)version));
}

static bool admin_authorized(struct vt_broker *b, const struct vt_http_req *req,
                             struct vt_http_resp *resp)
{
    if (vt_tokens_check(b->store, vt_http_bearer(req), "admin")) {
        return true;
    }
    bad(resp, 401, "unauthorized", "an admin bearer token is required");
    (void)!vt_http_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"veritee-broker\"");
    return false;
}

/* ---- admin routes (every one checks the admin token: at the head, and again here) ---- */

/* Segment i of the path, a key name: false (after a 404) if it is no name at all. */
static bool name_at(const struct vt_http_req *req, size_t i, char name[VT_BROKER_NAME_MAX],
                    struct vt_http_resp *resp)
{
    if (!vt_http_path_segment(vt_http_req_path(req), i, name, VT_BROKER_NAME_MAX)) {
        bad(resp, 404, "unknown-key", "no key of that name");
        return false;
    }
    return true;
}

static void key_result(struct vt_http_resp *resp, enum vt_err err, const struct vt_diag *d,
                       const char *name)
{
    if (err != VT_OK) {
        char msg[VT_DIAG_DETAIL_MAX + 80];
        snprintf(msg, sizeof(msg), "%s: %s", d->check, d->detail);
        bad(resp,
            err == VT_E_NOT_FOUND ? 404
            : err == VT_E_STORAGE ? 500
                                  : 400,
            err == VT_E_NOT_FOUND ? "unknown-key" : "invalid", msg);
        return;
    }
    if (name != NULL) {
        vt_http_json_reply(resp, 200, json_pack("{s:s,s:s}", "name", name, "result", "ok"));
    } else {
        vt_http_json_reply(resp, 200, json_pack("{s:s}", "result", "ok"));
    }
}

/* The body as a NUL-terminated string (heap), or NULL with a diag. */
static char *body_text(const struct vt_http_req *req, const char *what, struct vt_diag *d)
{
    size_t n = 0;
    const uint8_t *p = vt_http_req_body(req, &n);
    char *s = n > 0 ? strndup((const char *)p, n) : NULL;
    if (s == NULL) {
        vt_fail(d, VT_E_ARG, what, "a %s body is required", what);
    }
    return s;
}

static void h_keys_list(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)req;
    text_json(resp, vt_broker_keys_json(ctx));
}

static void h_keys_create(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    json_t *o = body_json(req, resp);
    const char *name = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    if (o != NULL && vt_json_req_string(o, "$", "name", &name, &d) != VT_OK) {
        bad_field(resp, &d);
    } else if (o != NULL) {
        key_create(ctx, name, o, resp);
    }
    json_decref(o);
}

/* /admin/v1/keys/{name}/versions */
static void h_key_version(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    char name[VT_BROKER_NAME_MAX];
    if (!name_at(req, 3, name, resp)) {
        return;
    }
    json_t *o = body_json(req, resp);
    if (o != NULL) {
        key_create(ctx, name, o, resp);
    }
    json_decref(o);
}

static void h_key_policy(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    char name[VT_BROKER_NAME_MAX];
    if (!name_at(req, 3, name, resp)) {
        return;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    char *pj = body_text(req, "policy", &d);
    enum vt_err err = pj ? vt_broker_key_set_policy(ctx, name, pj, &d) : d.code;
    free(pj);
    key_result(resp, err, &d, name);
}

/* /admin/v1/keys/{name}/disable and /enable: the last segment says which */
static void h_key_able(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    char name[VT_BROKER_NAME_MAX], what[16];
    if (!name_at(req, 3, name, resp) ||
        !vt_http_path_segment(vt_http_req_path(req), 4, what, sizeof(what))) {
        return;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_broker_key_set_disabled(ctx, name, strcmp(what, "disable") == 0, &d);
    key_result(resp, err, &d, name);
}

static void h_policy(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    struct vt_diag d;
    vt_diag_init(&d);
    char *pj = body_text(req, "policy", &d);
    enum vt_err err = pj ? vt_broker_set_attestation_policy(ctx, pj, &d) : d.code;
    free(pj);
    key_result(resp, err, &d, NULL);
}

/* Compile a policy without storing it (the console's policy check): 200 with {ok, sha256} or
 * {ok: false, check, detail, code}; 400 only without a body. */
static void h_policy_check(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)ctx;
    size_t n = 0;
    const uint8_t *p = vt_http_req_body(req, &n);
    if (n == 0) {
        bad(resp, 400, "invalid", "a policy body is required");
        return;
    }
    struct vt_policy *pol = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_policy_compile((const char *)p, n, &pol, &d);
    if (err != VT_OK) {
        vt_http_json_reply(resp, 200,
                           json_pack("{s:b,s:s,s:s,s:s}", "ok", false, "check", d.check, "detail",
                                     d.detail, "code", vt_err_name(err)));
        return;
    }
    uint8_t h[VT_SHA256_LEN];
    char hx[2 * VT_SHA256_LEN + 1];
    vt_policy_digest(pol, h);
    vt_policy_free(pol);
    vt_hex_encode(h, sizeof(h), hx);
    vt_http_json_reply(resp, 200, json_pack("{s:b,s:s}", "ok", true, "sha256", hx));
}

static void h_log_status(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)req;
    text_json(resp, vt_broker_log_status_json(ctx));
}

static void h_log(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    uint64_t start, limit;
    const char *ex = vt_http_req_arg(req, "explain");
    char *s = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    if (!u64_arg(req, "start", 0, &start) || !u64_arg(req, "limit", 100, &limit)) {
        bad(resp, 400, "invalid", "start and limit are decimal numbers");
    } else if (vt_broker_log_entries(ctx, start, limit, ex != NULL && strcmp(ex, "0") != 0, &s,
                                     &d) != VT_OK) {
        bad(resp, 500, "storage", d.detail);
    } else {
        text_json(resp, s);
    }
}

static void h_fleet(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    uint64_t limit;
    char *s = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    if (!u64_arg(req, "limit", 1000, &limit)) {
        bad(resp, 400, "invalid", "limit is a decimal number");
    } else if (vt_broker_fleet(ctx, limit, &s, &d) != VT_OK) {
        bad(resp, 500, "storage", d.detail);
    } else {
        text_json(resp, s);
    }
}

static void h_rotate(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)req;
    char kid[64];
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_broker_rotate_signing_key(ctx, kid, &d) != VT_OK) {
        bad(resp, 500, "storage", d.detail);
        return;
    }
    vt_http_json_reply(resp, 200, json_pack("{s:s}", "kid", kid));
}

static void h_audit(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)req;
    uint64_t n, cp;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_broker_audit_verify(ctx, &n, &cp, &d);
    vt_http_json_reply(resp, 200,
                       json_pack("{s:b,s:I,s:I,s:s,s:s}", "ok", err == VT_OK, "entries",
                                 (json_int_t)n, "checkpoints", (json_int_t)cp, "check",
                                 err == VT_OK ? "" : d.check, "detail",
                                 err == VT_OK ? "" : d.detail));
}

/* ---- public routes ---- */

static void h_challenge(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)req;
    challenge(ctx, resp);
}

static void h_attest(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    attest(ctx, req, resp);
}

/* /v1/keys/{name}/release */
static void h_release(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    char name[VT_BROKER_NAME_MAX];
    if (name_at(req, 2, name, resp)) {
        release(ctx, name, req, resp);
    }
}

/* GET /v1/ca: the broker's CA certificate (PEM), unauthenticated */
static void h_ca(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)req;
    char *pem = vt_broker_ca_pem(ctx);
    if (pem == NULL) {
        bad(resp, 500, "internal", "no CA certificate");
        return;
    }
    vt_http_resp_status(resp, 200, "application/pem-certificate-chain");
    if (!vt_http_resp_body(resp, pem, strlen(pem))) {
        bad(resp, 500, "internal", "out of memory");
    }
    free(pem);
}

/* POST /v1/cert: a certificate for an attested workload's runtime key (broker_cert.c) */
static void h_cert(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    struct vt_broker *b = ctx;
    size_t n = 0;
    const uint8_t *p = vt_http_req_body(req, &n);
    json_t *o = NULL;
    struct vt_broker_cert_req q;
    struct vt_broker_denial den;
    if (!vt_broker_cert_request_parse(p, n, &o, &q, &den)) {
        vt_broker_count_unlogged(b, VT_BM_CERT, "request");
        refuse(resp, &den);
        return;
    }
    struct vt_broker_cert_res r;
    if (!vt_broker_cert_issue(b, &q, &r, &den)) {
        refuse_counted(b, VT_BM_CERT, resp, &den);
    } else {
        char nb[VT_TIME_STR_MAX], na[VT_TIME_STR_MAX];
        vt_time_format(r.not_before, nb);
        vt_time_format(r.not_after, na);
        json_t *receipt = json_loads(r.receipt, 0, NULL);
        json_t *out = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:o,s:s}", "certificate", r.cert_pem,
                                "ca", r.ca_pem, "serial", r.serial, "not_before", nb, "not_after",
                                na, "log_index", (json_int_t)r.log_index, "receipt",
                                receipt ? receipt : json_null(), "receipt_kid", r.receipt_kid);
        if (out != NULL && r.token != NULL) {
            json_object_set_new(out, "token", json_string(r.token));
        }
        vt_http_json_reply(resp, 200, out);
    }
    vt_broker_cert_res_cleanup(&r);
    vt_broker_cert_req_cleanup(&q);
    json_decref(o);
}

/* /admin/v1/cert-profiles: list (GET) or set one (POST {name, policy, dns, lifetime}) */
static void h_profiles_list(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)req;
    text_json(resp, vt_broker_cert_profiles_json(ctx));
}

static void h_profile_put(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    json_t *o = body_json(req, resp);
    if (o == NULL) {
        return;
    }
    const char *name = NULL;
    json_t *pol = NULL;
    int64_t lifetime = 0;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_json_req_string(o, "$", "name", &name, &d);
    if (err == VT_OK) {
        err = vt_json_opt_object(o, "$", "policy", &pol, &d);
    }
    if (err == VT_OK) {
        err = vt_json_opt_int(o, "$", "lifetime", 0, VT_BROKER_CERT_TTL_MAX, &lifetime, &d);
    }
    json_t *dns = json_object_get(o, "dns");
    const char *names[VT_BROKER_CERT_DNS_MAX];
    size_t nd = 0;
    if (err == VT_OK && dns != NULL) {
        if (!json_is_array(dns) || json_array_size(dns) > VT_BROKER_CERT_DNS_MAX) {
            err = vt_fail(&d, VT_E_BAD_FIELD, "$.dns", "$.dns: an array of at most %d strings",
                          VT_BROKER_CERT_DNS_MAX);
        }
        for (size_t i = 0; err == VT_OK && i < json_array_size(dns); i++) {
            names[nd] = json_string_value(json_array_get(dns, i));
            if (names[nd++] == NULL) {
                err = vt_fail(&d, VT_E_BAD_FIELD, "$.dns", "$.dns[%zu]: expected a string", i);
            }
        }
    }
    if (err != VT_OK) {
        bad_field(resp, &d);
        json_decref(o);
        return;
    }
    char *pj = pol ? json_dumps(pol, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    err = pol != NULL && pj == NULL
              ? vt_fail(&d, VT_E_NOMEM, "policy", "out of memory")
              : vt_broker_cert_profile_put(ctx, name, pj, names, nd, lifetime, &d);
    free(pj);
    key_result(resp, err, &d, name);
    json_decref(o);
}

static void h_jwks(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)req;
    text_json(resp, vt_broker_jwks(ctx));
}

static void h_checkpoint(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)req;
    text_json(resp, vt_broker_log_checkpoint(ctx));
}

static void h_consistency(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    uint64_t o, n;
    char *s = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    if (!u64_arg(req, "old", 0, &o) || !u64_arg(req, "new", 0, &n)) {
        bad(resp, 400, "invalid", "old and new are decimal tree sizes");
    } else if (vt_broker_log_consistency(ctx, o, n, &s, &d) != VT_OK) {
        bad(resp, 400, "invalid", d.detail);
    } else {
        text_json(resp, s);
    }
}

static void h_healthz(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)ctx;
    (void)req;
    vt_http_json_reply(resp, 200, json_pack("{s:s}", "status", "ok"));
}

static void h_metrics(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    char *m = vt_broker_metrics_text(ctx); /* veritee serve: appended to the cache's */
    vt_http_metrics_reply(resp, req, m);
    free(m);
}

static void h_kbs(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    vt_broker_kbs_handler(ctx, req, resp); /* the Trustee KBS protocol (docs/kbs.md) */
}

bool vt_broker_owns_path(const char *path)
{
    static const char *const admin_paths[] = {"keys",  "policy", "log",          "signing-keys",
                                              "audit", "fleet",  "cert-profiles"};
    if (strncmp(path, "/v1/", 4) == 0 || strcmp(path, "/.well-known/jwks.json") == 0 ||
        strncmp(path, "/kbs/v0/", 8) == 0) {
        return true;
    }
    if (strncmp(path, "/admin/v1/", 10) == 0) {
        const char *p = path + 10;
        for (size_t i = 0; i < sizeof(admin_paths) / sizeof(admin_paths[0]); i++) {
            size_t n = strlen(admin_paths[i]);
            if (strncmp(p, admin_paths[i], n) == 0 && (p[n] == '\0' || p[n] == '/')) {
                return true;
            }
        }
    }
    return false;
}

/* Body limits of the broker's routes (docs/http.md). Evidence with its certificates is a few
 * KB (a KBS guest's SEV-SNP evidence with its whole certificate table about 18 KB); secrets are
 * at most 64 KiB. */
#define BODY_SMALL (4u << 10)      /* challenge, KBS auth */
#define BODY_EVIDENCE (256u << 10) /* attest, release, KBS attest */
#define BODY_ADMIN (1u << 20)
#define ADMIN 1u /* the route needs an admin bearer token */

/* Every route of the broker: docs/api/broker.yaml lists exactly these (tests/openapi). */
static const struct vt_http_route_entry routes[] = {
    {"POST", "/v1/challenge", BODY_SMALL, VT_HTTP_RATE_ATTEST, false, 0, h_challenge},
    {"POST", "/v1/attest", BODY_EVIDENCE, VT_HTTP_RATE_ATTEST, false, 0, h_attest},
    {"POST", "/v1/keys/{name}/release", BODY_EVIDENCE, VT_HTTP_RATE_ATTEST, false, 0, h_release},
    {"GET", "/v1/ca", 0, VT_HTTP_RATE_READ, false, 0, h_ca},
    {"POST", "/v1/cert", BODY_EVIDENCE, VT_HTTP_RATE_ATTEST, false, 0, h_cert},
    {"GET", "/.well-known/jwks.json", 0, VT_HTTP_RATE_READ, false, 0, h_jwks},
    {"GET", "/v1/log/checkpoint", 0, VT_HTTP_RATE_READ, false, 0, h_checkpoint},
    {"GET", "/v1/log/consistency", 0, VT_HTTP_RATE_READ, false, 0, h_consistency},
    {"GET", "/healthz", 0, VT_HTTP_RATE_NONE, true, 0, h_healthz},
    {"GET", "/metrics", 0, VT_HTTP_RATE_NONE, true, 0, h_metrics},
    {"GET", "/admin/v1/keys", 0, VT_HTTP_RATE_NONE, true, ADMIN, h_keys_list},
    {"POST", "/admin/v1/keys", BODY_ADMIN, VT_HTTP_RATE_NONE, true, ADMIN, h_keys_create},
    {"POST", "/admin/v1/keys/{name}/versions", BODY_ADMIN, VT_HTTP_RATE_NONE, true, ADMIN,
     h_key_version},
    {"PUT", "/admin/v1/keys/{name}/policy", BODY_ADMIN, VT_HTTP_RATE_NONE, true, ADMIN,
     h_key_policy},
    {"POST", "/admin/v1/keys/{name}/disable", 0, VT_HTTP_RATE_NONE, true, ADMIN, h_key_able},
    {"POST", "/admin/v1/keys/{name}/enable", 0, VT_HTTP_RATE_NONE, true, ADMIN, h_key_able},
    {"PUT", "/admin/v1/policy", BODY_ADMIN, VT_HTTP_RATE_NONE, true, ADMIN, h_policy},
    {"POST", "/admin/v1/policy/check", BODY_ADMIN, VT_HTTP_RATE_NONE, true, ADMIN, h_policy_check},
    {"GET", "/admin/v1/log", 0, VT_HTTP_RATE_NONE, true, ADMIN, h_log},
    {"GET", "/admin/v1/log/status", 0, VT_HTTP_RATE_NONE, true, ADMIN, h_log_status},
    {"GET", "/admin/v1/fleet", 0, VT_HTTP_RATE_NONE, true, ADMIN, h_fleet},
    {"POST", "/admin/v1/signing-keys/rotate", 0, VT_HTTP_RATE_NONE, true, ADMIN, h_rotate},
    {"POST", "/admin/v1/audit", 0, VT_HTTP_RATE_NONE, true, ADMIN, h_audit},
    {"GET", "/admin/v1/cert-profiles", 0, VT_HTTP_RATE_NONE, true, ADMIN, h_profiles_list},
    {"POST", "/admin/v1/cert-profiles", BODY_ADMIN, VT_HTTP_RATE_NONE, true, ADMIN, h_profile_put},
    {"POST", "/kbs/v0/auth", BODY_SMALL, VT_HTTP_RATE_ATTEST, false, 0, h_kbs},
    {"POST", "/kbs/v0/attest", BODY_EVIDENCE, VT_HTTP_RATE_ATTEST, false, 0, h_kbs},
    {"GET", "/kbs/v0/resource/{repository}/{type}/{tag}", 0, VT_HTTP_RATE_READ, false, 0, h_kbs},
};

const struct vt_http_route_entry *vt_broker_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}

/* The table entry of the request: the one the route function chose, or found now (a server
 * without the route function, as some tests run). NULL after answering 404 or 405. */
static const struct vt_http_route_entry *
entry_of(struct vt_broker *b, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    const struct vt_http_route_entry *e = vt_http_req_route(req);
    if (e != NULL) {
        return e;
    }
    const char *path = vt_http_req_path(req);
    bool known = false;
    char allow[64];
    e = vt_http_route_find(routes, sizeof(routes) / sizeof(routes[0]), vt_http_req_method(req),
                           path, &known, allow, sizeof(allow));
    if (e == NULL && strncmp(path, "/kbs/v0/", 8) == 0) {
        vt_broker_kbs_handler(b, req, resp); /* KBS errors in Trustee's shape */
    } else if (e == NULL) {
        bad(resp, known ? 405 : 404, "not-found",
            known ? "no such method on this endpoint" : "no such endpoint");
        if (known) {
            (void)!vt_http_resp_header(resp, "Allow", allow);
        }
    }
    return e;
}

void vt_broker_http_route(void *ctx, const struct vt_http_req *req, struct vt_http_route *route,
                          struct vt_http_resp *resp)
{
    struct vt_broker *b = ctx;
    if (vt_console_owns_path(vt_http_req_path(req))) {
        vt_console_http_route(req, route, resp); /* the console's files (docs/console.md) */
        return;
    }
    const struct vt_http_route_entry *e = entry_of(b, req, resp);
    if (e == NULL) {
        return; /* answered from the head: 404, 405 */
    }
    *route = (struct vt_http_route){e->max_body, (enum vt_http_rate_class)e->rate, e->priority, e};
    if ((e->flags & ADMIN) != 0) {
        (void)admin_authorized(b, req, resp); /* a 401 now, before the body is read */
    }
}

void vt_broker_http_handler(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    struct vt_broker *b = ctx;
    if (vt_console_owns_path(vt_http_req_path(req))) {
        vt_console_http_handler(req, resp);
        return;
    }
    const struct vt_http_route_entry *e = entry_of(b, req, resp);
    if (e != NULL && ((e->flags & ADMIN) == 0 || admin_authorized(b, req, resp))) {
        e->handler(ctx, req, resp);
    }
}
