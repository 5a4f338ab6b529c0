/* The broker test harness (broker_harness.h). */
#include "broker_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct bh *bh_start(vt_time now, const char *collateral_sub, int64_t nonce_ttl, int64_t token_ttl,
                    const char *issuer)
{
    return bh_start_db(now, collateral_sub, nonce_ttl, token_ttl, issuer, NULL);
}

struct bh *bh_start_db(vt_time now, const char *collateral_sub, int64_t nonce_ttl,
                       int64_t token_ttl, const char *issuer, const char *db_url)
{
    return bh_start_cfg(now, collateral_sub, nonce_ttl, token_ttl, issuer, db_url, NULL);
}

struct bh *bh_start_cfg(vt_time now, const char *collateral_sub, int64_t nonce_ttl,
                        int64_t token_ttl, const char *issuer, const char *db_url,
                        const struct vt_broker_config *over)
{
    struct bh *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        return NULL;
    }
    snprintf(h->dir, sizeof(h->dir), "/tmp/vt-broker-XXXXXX");
    if (mkdtemp(h->dir) == NULL) {
        free(h);
        return NULL;
    }
    char simdir[128], db[512], coll[700];
    snprintf(simdir, sizeof(simdir), "%s/sim", h->dir);
    snprintf(db, sizeof(db), "sqlite:%s/broker.db", h->dir);
    if (db_url != NULL) {
        snprintf(db, sizeof(db), "%s", db_url);
    }
    h->sim = vt_bsim_new(simdir, now);
    if (h->sim == NULL) {
        bh_stop(h);
        return NULL;
    }
    snprintf(coll, sizeof(coll), "%s%s%s", vt_bsim_collateral_dir(h->sim),
             collateral_sub[0] ? "/" : "", collateral_sub);
    struct vt_broker_config cfg = {.db = db,
                                   .collateral = over && over->collateral ? over->collateral : coll,
                                   .trust_anchors = vt_bsim_anchors(h->sim),
                                   .clock_base = over ? over->clock_base : 0,
                                   .cert_ttl = over ? over->cert_ttl : 0,
                                   .nonce_ttl = nonce_ttl,
                                   .token_ttl = token_ttl,
                                   .issuer = issuer,
                                   .max_kbs_sessions = over ? over->max_kbs_sessions : 0,
                                   .log_batch_max = over ? over->log_batch_max : 0,
                                   .log_batch_wait_us = over ? over->log_batch_wait_us : 0,
                                   .kbs_token_profile =
                                       over ? over->kbs_token_profile : VT_KBS_TOKEN_VERITEE};
    memset(cfg.master_key, 0x42, sizeof(cfg.master_key));
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_http_server_opts so = {.threads = 2, .route = vt_broker_http_route};
    if (vt_broker_open(&cfg, &h->b, &d) != VT_OK ||
        vt_http_server_start(&so, vt_broker_http_handler, h->b, &h->srv, &d) != VT_OK ||
        vt_tokens_create(h->b->store, "admin", "test", now, h->admin, &d) != VT_OK) {
        fprintf(stderr, "bh_start: %s: %s\n", d.check, d.detail);
        bh_stop(h);
        return NULL;
    }
    snprintf(h->url, sizeof(h->url), "http://127.0.0.1:%u", vt_http_server_port(h->srv));
    return h;
}

void bh_stop(struct bh *h)
{
    if (h == NULL) {
        return;
    }
    vt_http_server_stop(h->srv);
    vt_broker_close(h->b);
    vt_bsim_free(h->sim);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", h->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", h->dir);
    }
    free(h);
}

long bh_call(const struct bh *h, const char *method, const char *path, const char *body,
             const char *bearer, json_t **out, char **raw)
{
    char url[256], auth[128];
    snprintf(url, sizeof(url), "%s%s", h->url, path);
    const char *hdrs[3] = {"Content-Type: application/json", NULL, NULL};
    if (bearer != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
        hdrs[1] = auth;
    }
    struct vt_http_request_opts o = {.timeout_ms = 30000,
                                     .method = method,
                                     .body = (const uint8_t *)body,
                                     .body_len = body ? strlen(body) : 0,
                                     .headers = hdrs};
    struct vt_http_response r;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_http_request(url, &o, &r, &d) != VT_OK) {
        fprintf(stderr, "bh_call %s: %s\n", url, d.detail);
        return -1;
    }
    if (out != NULL) {
        *out = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
    }
    if (raw != NULL) {
        *raw = strndup(r.body.data ? (const char *)r.body.data : "", r.body.len);
    }
    long st = r.status;
    vt_http_response_cleanup(&r);
    return st;
}

bool bh_challenge(const struct bh *h, char nonce[64], uint8_t raw[32])
{
    json_t *o = NULL;
    if (bh_call(h, "POST", "/v1/challenge", "{}", NULL, &o, NULL) != 201) {
        json_decref(o);
        return false;
    }
    const char *n = json_string_value(json_object_get(o, "nonce"));
    size_t len = 0;
    bool ok = n != NULL && strlen(n) == 43 &&
              vt_base64_decode(n, 43, true, raw, 32, &len) == VT_OK && len == 32;
    if (ok) {
        snprintf(nonce, 64, "%s", n);
    }
    json_decref(o);
    return ok;
}

json_t *bh_attest_body(struct bh *h, enum vt_tee tee, const char *nonce, const uint8_t raw[32],
                       const struct vt_jwk *key, unsigned variant)
{
    struct vt_buf tp, spki;
    vt_buf_init(&tp, 8192);
    vt_buf_init(&spki, 8192);
    json_t *o = NULL;
    if (vt_jwk_thumbprint_input(key, &tp) == VT_OK && vt_jwk_spki_der(key, &spki) == VT_OK) {
        size_t n = 0, vn = 0;
        uint8_t *vek = NULL;
        uint8_t *ev = vt_bsim_evidence(h->sim, tee, raw, tp.data, tp.len, spki.data, spki.len,
                                       variant, &n, &vek, &vn);
        char *e = ev ? vt_base64_alloc(ev, n, false) : NULL;
        char *pub = vt_jwk_public_json(key);
        json_t *k = pub ? json_loads(pub, 0, NULL) : NULL;
        if (e != NULL && k != NULL) {
            o = json_pack("{s:s,s:s,s:o}", "evidence", e, "nonce", nonce, "runtime_key", k);
            k = NULL;
            if (vek != NULL) {
                char *v = vt_base64_alloc(vek, vn, false);
                json_object_set_new(o, "vcek", json_string(v ? v : ""));
                free(v);
            }
        }
        json_decref(k);
        free(pub);
        free(e);
        free(ev);
        free(vek);
    }
    vt_buf_cleanup(&tp);
    vt_buf_cleanup(&spki);
    return o;
}

static void answer_503(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)ctx;
    (void)req;
    vt_http_problem(resp, 503, "Service Unavailable", "down", NULL);
}

struct vt_http_server *bh_down_source(char url[64])
{
    struct vt_http_server *s = NULL;
    struct vt_http_server_opts so = {.threads = 1};
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_http_server_start(&so, answer_503, NULL, &s, &d) != VT_OK) {
        return NULL;
    }
    snprintf(url, 64, "http://127.0.0.1:%u", vt_http_server_port(s));
    return s;
}
