/* The broker client (client.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "internal.h"
#include "net/http_client.h"
#include "net/json_fields.h"

struct vt_client {
    struct vt_client_config cfg;
    char *url;
    char *ca_file;
};

enum vt_err vt_client_new(const struct vt_client_config *cfg, struct vt_client **out,
                          struct vt_diag *d)
{
    VT_ENSURE(cfg->url != NULL &&
                  (strncmp(cfg->url, "http://", 7) == 0 || strncmp(cfg->url, "https://", 8) == 0),
              d, VT_E_ARG, "url", "the broker URL must be http:// or https://");
    struct vt_client *c = calloc(1, sizeof(*c));
    VT_ENSURE(c != NULL, d, VT_E_NOMEM, "client", "no memory");
    c->cfg = *cfg;
    c->url = strdup(cfg->url);
    c->ca_file = cfg->ca_file ? strdup(cfg->ca_file) : NULL;
    if (c->url == NULL || (cfg->ca_file && c->ca_file == NULL)) {
        vt_client_free(c);
        return vt_fail(d, VT_E_NOMEM, "client", "no memory");
    }
    size_t n = strlen(c->url);
    while (n > 0 && c->url[n - 1] == '/') {
        c->url[--n] = '\0';
    }
    if (c->cfg.timeout_ms <= 0) {
        c->cfg.timeout_ms = 15000;
    }
    if (c->cfg.backoff_ms <= 0) {
        c->cfg.backoff_ms = 200;
    }
    c->cfg.url = c->url;
    c->cfg.ca_file = c->ca_file;
    *out = c;
    return VT_OK;
}

void vt_client_free(struct vt_client *c)
{
    if (c != NULL) {
        free(c->url);
        free(c->ca_file);
        free(c);
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* POST JSON; retries transport errors, 429 and 5xx. *out: the parsed body. */
static enum vt_err post(struct vt_client *c, const char *path, json_t *body, long *status,
                        json_t **out, struct vt_diag *d)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", c->url, path);
    char *text = body ? json_dumps(body, JSON_COMPACT) : strdup("{}");
    VT_ENSURE(text != NULL, d, VT_E_NOMEM, "client", "no memory");
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    struct vt_http_request_opts o = {.timeout_ms = c->cfg.timeout_ms,
                                     .method = "POST",
                                     .body = (const uint8_t *)text,
                                     .body_len = strlen(text),
                                     .headers = hdrs,
                                     .ca_file = c->cfg.ca_file};
    enum vt_err err = VT_OK;
    long backoff = c->cfg.backoff_ms;
    for (unsigned attempt = 0;; attempt++) {
        struct vt_http_response r;
        err = vt_http_request(url, &o, &r, d);
        bool retry = err != VT_OK || r.status == 429 || r.status >= 500;
        if (err == VT_OK && (!retry || attempt >= c->cfg.retries)) {
            json_error_t je;
            *status = r.status;
            *out = json_loadb((const char *)r.body.data, r.body.len, 0, &je);
            vt_http_response_cleanup(&r);
            /* a refusal may come from a proxy (an HTML 502): refused() reports its status; an
             * answer that claims success must be a JSON object */
            if (*status >= 200 && *status < 300 && !json_is_object(*out)) {
                err = *out == NULL ? vt_fail(d, VT_E_BAD_JSON, "$",
                                             "POST %s: the HTTP %ld answer is not JSON: %s at "
                                             "line %d column %d",
                                             path, *status, je.text, je.line, je.column)
                                   : vt_fail(d, VT_E_BAD_JSON, "$",
                                             "POST %s: the HTTP %ld answer is %s, not an object",
                                             path, *status, vt_json_type_name(*out));
                json_decref(*out);
                *out = NULL;
            }
            break;
        }
        if (err == VT_OK) {
            vt_http_response_cleanup(&r);
        }
        if (attempt >= c->cfg.retries) {
            break;
        }
        sleep_ms(backoff);
        backoff *= 2;
    }
    if (text != NULL) {
        vt_wipe(text, strlen(text));
    }
    free(text);
    return err;
}

/* A refusal from the broker as an error naming its reason. */
static enum vt_err refused(long status, json_t *o, struct vt_client_status *st, struct vt_diag *d)
{
    const char *reason = json_string_value(json_object_get(o, "reason"));
    const char *detail = json_string_value(json_object_get(o, "detail"));
    if (st != NULL) {
        st->http_status = status;
        snprintf(st->reason, sizeof(st->reason), "%s", reason ? reason : "");
    }
    /* 401 and 403 alike: the broker refused the credentials (evidence, token) it was shown;
     * st->http_status tells a denial (403, a verdict of a policy) from the rest. */
    enum vt_err code = status == 401 || status == 403 ? VT_E_UNAUTHORIZED
                       : status == 404                ? VT_E_NOT_FOUND
                       : status == 400                ? VT_E_ARG
                                                      : VT_E_UPSTREAM;
    return vt_fail(d, code, "broker", "HTTP %ld %s: %s", status, reason ? reason : "",
                   detail ? detail : "");
}

enum vt_err vt_client_report_data(const uint8_t nonce[32], const struct vt_jwk *key,
                                  uint8_t out[64], struct vt_diag *d)
{
    struct vt_buf m;
    vt_buf_init(&m, 16384);
    enum vt_err err = vt_buf_append(&m, nonce, 32);
    if (err == VT_OK) {
        err = vt_jwk_thumbprint_input(key, &m);
    }
    if (err == VT_OK) {
        vt_sha512(m.data, m.len, out);
    } else {
        vt_fail(d, err, "runtime_key", "cannot encode the runtime key");
    }
    vt_buf_cleanup(&m);
    return err;
}

/* challenge -> evidence: the request body {evidence, nonce, runtime_key[, vcek]}. */
static enum vt_err evidence_body(struct vt_client *c, vt_client_evidence_fn fn, void *ctx,
                                 const struct vt_jwk *key, json_t **body,
                                 struct vt_client_status *st, struct vt_diag *d)
{
    long status = 0;
    json_t *ch = NULL;
    VT_TRY(post(c, "/v1/challenge", NULL, &status, &ch, d));
    const char *nonce = NULL;
    uint8_t raw[32], rd[64];
    size_t n = 0;
    enum vt_err err = VT_OK;
    if (status != 201) {
        err = refused(status, ch, st, d);
    } else if ((err = vt_json_req_string(ch, "$", "nonce", &nonce, d)) != VT_OK) {
        /* recorded */
    } else if (strlen(nonce) != 43 ||
               vt_base64_decode(nonce, 43, true, raw, sizeof(raw), &n) != VT_OK || n != 32) {
        err = vt_fail(d, VT_E_BAD_FIELD, "broker.nonce", "the challenge holds no 32-byte nonce");
    }
    struct vt_buf ev, vek, spki;
    vt_buf_init(&ev, VT_MAX_EVIDENCE_SIZE);
    vt_buf_init(&vek, VT_MAX_COLLATERAL_SIZE);
    vt_buf_init(&spki, 16384);
    if (err == VT_OK && (err = vt_client_report_data(raw, key, rd, d)) == VT_OK &&
        (err = vt_jwk_spki_der(key, &spki)) == VT_OK) {
        err = fn(ctx, rd, raw, spki.data, spki.len, &ev, &vek, d);
    }
    char *pub = err == VT_OK ? vt_jwk_public_json(key) : NULL;
    char *e = err == VT_OK ? vt_base64_alloc(ev.data, ev.len, false) : NULL;
    if (err == VT_OK && (pub == NULL || e == NULL)) {
        err = vt_fail(d, VT_E_NOMEM, "client", "no memory");
    }
    if (err == VT_OK) {
        *body = json_pack("{s:s,s:s,s:o}", "evidence", e, "nonce", nonce, "runtime_key",
                          json_loads(pub, 0, NULL));
        if (*body != NULL && vek.len > 0) {
            char *v = vt_base64_alloc(vek.data, vek.len, false);
            json_object_set_new(*body, "vcek", json_string(v ? v : ""));
            free(v);
        }
        err = *body ? VT_OK : vt_fail(d, VT_E_NOMEM, "client", "no memory");
    }
    free(pub);
    free(e);
    vt_buf_cleanup(&ev);
    vt_buf_cleanup(&vek);
    vt_buf_cleanup(&spki);
    json_decref(ch);
    return err;
}

enum vt_err vt_client_attest(struct vt_client *c, vt_client_evidence_fn fn, void *ctx,
                             const struct vt_jwk *key, char **token, char **claims,
                             struct vt_client_status *st, struct vt_diag *d)
{
    *token = NULL;
    if (claims != NULL) {
        *claims = NULL;
    }
    json_t *body = NULL, *out = NULL;
    VT_TRY(evidence_body(c, fn, ctx, key, &body, st, d));
    long status = 0;
    enum vt_err err = post(c, "/v1/attest", body, &status, &out, d);
    json_decref(body);
    if (err == VT_OK && status != 200) {
        err = refused(status, out, st, d);
    }
    const char *t = NULL;
    json_t *cl = NULL;
    if (err == VT_OK) {
        err = vt_json_req_string(out, "$", "token", &t, d);
    }
    if (err == VT_OK) {
        err = vt_json_opt_object(out, "$", "claims", &cl, d);
    }
    if (err == VT_OK) {
        *token = strdup(t);
        if (claims != NULL) {
            *claims = cl != NULL ? json_dumps(cl, JSON_COMPACT) : NULL;
        }
        if (st != NULL) {
            st->http_status = 200;
            st->reason[0] = '\0';
        }
    }
    json_decref(out);
    return err;
}

/* Unwrap the released secret: compact JWE, or base64 CMS EnvelopedData for an RSA key. */
static enum vt_err unwrap(const struct vt_jwk *key, json_t *out, struct vt_buf *secret,
                          struct vt_diag *d)
{
    const char *jwe = NULL, *cms = NULL;
    VT_TRY(vt_json_opt_string(out, "$", "jwe", &jwe, d));
    if (jwe != NULL) {
        return vt_jwe_decrypt(key, jwe, strlen(jwe), secret, d);
    }
    VT_TRY(vt_json_opt_string(out, "$", "cms", &cms, d));
    VT_ENSURE(cms != NULL, d, VT_E_MISSING_FIELD, "$.jwe",
              "$.jwe, $.cms: neither is in the answer");
    size_t cl = strlen(cms), n = 0;
    uint8_t *der = malloc(cl + 1);
    struct vt_buf pem;
    vt_buf_init(&pem, 65536);
    struct vt_key *rk = NULL;
    struct vt_cms_enveloped e;
    memset(&e, 0, sizeof(e));
    enum vt_err err = der && vt_base64_decode(cms, cl, false, der, cl + 1, &n) == VT_OK
                          ? VT_OK
                          : vt_fail(d, VT_E_BAD_BASE64, "broker.cms", "cms is not base64");
    if (err == VT_OK && (err = vt_jwk_private_pem(key, &pem, d)) == VT_OK &&
        (err = vt_key_from_rsa_private(pem.data, pem.len, &rk, d)) == VT_OK &&
        (err = vt_cms_enveloped_parse(der, n, &e, d)) == VT_OK) {
        err = vt_cms_decrypt(&e, rk, secret, d);
    }
    vt_cms_enveloped_cleanup(&e);
    vt_key_free(rk);
    vt_buf_cleanup(&pem);
    free(der);
    return err;
}

enum vt_err vt_client_release(struct vt_client *c, const char *key_name, const char *token,
                              vt_client_evidence_fn fn, void *ctx, const struct vt_jwk *key,
                              bool cms, struct vt_buf *secret, uint32_t *version, char **receipt,
                              struct vt_client_status *st, struct vt_diag *d)
{
    if (receipt != NULL) {
        *receipt = NULL;
    }
    VT_ENSURE(key_name != NULL && strlen(key_name) < 128 && strchr(key_name, '/') == NULL, d,
              VT_E_ARG, "key", "key name missing, too long or containing '/'");
    json_t *body = NULL, *out = NULL;
    if (token != NULL) {
        char *pub = vt_jwk_public_json(key);
        body = pub ? json_pack("{s:s,s:o}", "token", token, "runtime_key", json_loads(pub, 0, NULL))
                   : NULL;
        free(pub);
        VT_ENSURE(body != NULL, d, VT_E_NOMEM, "client", "no memory");
    } else {
        VT_TRY(evidence_body(c, fn, ctx, key, &body, st, d));
    }
    if (cms) {
        json_object_set_new(body, "format", json_string("cms"));
    }
    char path[200];
    snprintf(path, sizeof(path), "/v1/keys/%s/release", key_name);
    long status = 0;
    enum vt_err err = post(c, path, body, &status, &out, d);
    json_decref(body);
    if (err == VT_OK && status != 200) {
        err = refused(status, out, st, d);
    }
    int64_t v = 0;
    if (err == VT_OK) {
        err = vt_json_req_int(out, "$", "version", 1, UINT32_MAX, &v, d);
    }
    if (err == VT_OK) {
        err = unwrap(key, out, secret, d);
    }
    if (err == VT_OK) {
        if (version != NULL) {
            *version = (uint32_t)v;
        }
        if (receipt != NULL) {
            json_t *r = json_pack("{s:O,s:O}", "receipt", json_object_get(out, "receipt"),
                                  "receipt_kid", json_object_get(out, "receipt_kid"));
            *receipt = r ? json_dumps(r, JSON_COMPACT) : NULL;
            json_decref(r);
        }
        if (st != NULL) {
            st->http_status = 200;
            st->reason[0] = '\0';
        }
    }
    json_decref(out);
    return err;
}

enum vt_err vt_client_attester_evidence(void *ctx, const uint8_t report_data[64],
                                        const uint8_t nonce[32], const uint8_t *spki,
                                        size_t spki_len, struct vt_buf *evidence,
                                        struct vt_buf *vek, struct vt_diag *d)
{
    struct vt_attester_input in;
    memset(&in, 0, sizeof(in));
    memcpy(in.report_data, report_data, 64);
    in.nonce = nonce;
    in.nonce_len = 32;
    in.public_key = spki;
    in.public_key_len = spki_len;
    return vt_attester_evidence(ctx, &in, evidence, vek, d);
}

enum vt_err vt_client_cert(struct vt_client *c, const char *profile, const char *token,
                           vt_client_evidence_fn fn, void *ctx, const struct vt_jwk *key,
                           char **cert_pem, char **response, struct vt_client_status *st,
                           struct vt_diag *d)
{
    *cert_pem = NULL;
    if (response != NULL) {
        *response = NULL;
    }
    VT_ENSURE(profile != NULL && key != NULL && vt_jwk_has_private(key), d, VT_E_ARG, "cert",
              "a profile and a runtime key with its private half are required");
    /* the request's proof of possession: a PKCS#10 request signed by the runtime key */
    struct vt_buf der, pem;
    vt_buf_init(&der, VT_MAX_CSR_SIZE);
    vt_buf_init(&pem, 2 * VT_MAX_CSR_SIZE);
    enum vt_err err = vt_csr_create(vt_jwk_key(key), profile, &der, d);
    if (err == VT_OK) {
        err = vt_der_to_pem("CERTIFICATE REQUEST", der.data, der.len, &pem, d);
    }
    if (err == VT_OK) {
        err = vt_buf_append(&pem, "", 1) == VT_OK ? VT_OK
                                                  : vt_fail(d, VT_E_NOMEM, "client", "no memory");
    }
    json_t *body = NULL, *out = NULL;
    if (err == VT_OK && token != NULL) {
        body = json_pack("{s:s}", "token", token);
        err = body ? VT_OK : vt_fail(d, VT_E_NOMEM, "client", "no memory");
    } else if (err == VT_OK) {
        err = evidence_body(c, fn, ctx, key, &body, st, d);
    }
    if (err == VT_OK) {
        json_object_set_new(body, "profile", json_string(profile));
        json_object_set_new(body, "csr", json_string((const char *)pem.data));
    }
    vt_buf_cleanup(&der);
    vt_buf_cleanup(&pem);
    long status = 0;
    if (err == VT_OK) {
        err = post(c, "/v1/cert", body, &status, &out, d);
    }
    json_decref(body);
    if (err == VT_OK && status != 200) {
        err = refused(status, out, st, d);
    }
    const char *cert = NULL;
    if (err == VT_OK) {
        err = vt_json_req_string(out, "$", "certificate", &cert, d);
    }
    if (err == VT_OK) {
        *cert_pem = strdup(cert);
        if (response != NULL) {
            *response = json_dumps(out, JSON_COMPACT);
        }
        if (*cert_pem == NULL || (response != NULL && *response == NULL)) {
            free(*cert_pem);
            *cert_pem = NULL;
            err = vt_fail(d, VT_E_NOMEM, "client", "no memory");
        }
        if (st != NULL) {
            st->http_status = 200;
            st->reason[0] = '\0';
        }
    }
    json_decref(out);
    return err;
}
