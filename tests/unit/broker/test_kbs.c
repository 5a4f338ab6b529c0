/*
 * The Trustee KBS protocol end to end (broker_kbs.c, docs/kbs.md), in one process over real HTTP
 * with simulated SGX/TDX quotes, each request built the way the Confidential Containers guest
 * (kbs_protocol's RCAR client) builds it: auth with version 0.4.0 -> attest with runtime-data
 * {nonce, tee-pubkey} and tee-evidence {primary_evidence {quote}, additional_evidence ""}, the
 * report data being SHA-384 of the RFC 8785 serialization of {"additional-evidence", "nonce",
 * "tee-pubkey"} padded with zeros -> GET the resource with the session cookie or the Bearer
 * token -> decrypt the flattened JWE with the TEE key. Every deny path with its status, its
 * ErrorInformation body {type, detail}, and no secret in it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker_harness.h"
#include "kbs_guest.h"
#include "vt_fixtures.h"

static const char secret_text[] = "kbs resource: 3f9a-only-for-the-attested-guest-51cc";

struct fx {
    struct bh *h;
    struct vt_jwk *ec, *rsa;
    char secret_b64[128];
};

/* ---- HTTP as the guest's client does it ---- */

struct kr {
    long status;
    char *body;
    json_t *json;
    char sid[64];         /* from Set-Cookie, "" if none */
    char set_cookie[256]; /* the whole header */
};

static void kr_cleanup(struct kr *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

static long kcall(struct fx *f, const char *method, const char *path, const char *body,
                  const char *sid, const char *bearer, struct kr *r)
{
    memset(r, 0, sizeof(*r));
    char url[512], cookie[128];
    static _Thread_local char auth[1 << 15]; /* tokens with TDX claims are several KB */
    snprintf(url, sizeof(url), "%s%s", f->h->url, path);
    const char *hdrs[4] = {"Content-Type: application/json", NULL, NULL, NULL};
    size_t n = 1;
    if (sid != NULL) {
        snprintf(cookie, sizeof(cookie), "Cookie: other=1; kbs-session-id=%s", sid);
        hdrs[n++] = cookie;
    }
    if (bearer != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
        hdrs[n++] = auth;
    }
    struct vt_http_request_opts o = {.timeout_ms = 30000,
                                     .method = method,
                                     .body = (const uint8_t *)body,
                                     .body_len = body ? strlen(body) : 0,
                                     .headers = hdrs};
    struct vt_http_response resp;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_http_request(url, &o, &resp, &d), VT_OK);
    r->status = resp.status;
    r->body = strndup(resp.body.data ? (const char *)resp.body.data : "", resp.body.len);
    r->json = json_loads(r->body, 0, NULL);
    const char *sc = vt_http_response_header(&resp, "Set-Cookie");
    if (sc != NULL) {
        snprintf(r->set_cookie, sizeof(r->set_cookie), "%s", sc);
        if (strncmp(sc, "kbs-session-id=", 15) == 0) {
            size_t l = strcspn(sc + 15, ";");
            snprintf(r->sid, sizeof(r->sid), "%.*s", (int)l, sc + 15);
        }
    }
    vt_http_response_cleanup(&resp);
    /* no reply ever carries the secret in clear */
    assert_null(strstr(r->body, secret_text));
    assert_null(strstr(r->body, f->secret_b64));
    return r->status;
}

/* A refusal: the status, a body the guest parses as ErrorInformation {type, detail}, and the
 * reason id. */
static void expect_refusal(struct kr *r, long status, const char *type_suffix, const char *reason)
{
    if (r->status != status) {
        fail_msg("expected %ld, got %ld: %s", status, r->status, r->body);
    }
    const char *type = json_string_value(json_object_get(r->json, "type"));
    assert_non_null(type);
    assert_non_null(json_string_value(json_object_get(r->json, "detail")));
    assert_true(strncmp(type, "https://github.com/confidential-containers/kbs/errors/", 54) == 0);
    if (type_suffix != NULL && strcmp(type + 54, type_suffix) != 0) {
        fail_msg("type %s, expected %s (%s)", type, type_suffix, r->body);
    }
    const char *rs = json_string_value(json_object_get(r->json, "reason"));
    if (reason != NULL && (rs == NULL || strncmp(rs, reason, strlen(reason)) != 0)) {
        fail_msg("reason %s, expected %s (%s)", rs ? rs : "(none)", reason, r->body);
    }
}

/* ---- the guest ---- */

/* The tee-pubkey the guest sends (kbs_types TeePubKey: "kty" first, then the variant's
 * members) and the RFC 8785 form it hashes (members sorted). */
static void guest_pubkey(const struct vt_jwk *key, json_t **sent, char canon[2048])
{
    char *pub = vt_jwk_public_json(key);
    json_t *k = json_loads(pub, 0, NULL);
    assert_non_null(k);
    const char *kty = json_string_value(json_object_get(k, "kty"));
    if (strcmp(kty, "EC") == 0) {
        const char *crv = json_string_value(json_object_get(k, "crv"));
        const char *x = json_string_value(json_object_get(k, "x"));
        const char *y = json_string_value(json_object_get(k, "y"));
        *sent = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kty", "EC", "crv", crv, "alg", "ECDH-ES+A256KW",
                          "x", x, "y", y);
        snprintf(
            canon, 2048,
            "{\"alg\":\"ECDH-ES+A256KW\",\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
            crv, x, y);
    } else {
        const char *nn = json_string_value(json_object_get(k, "n"));
        const char *e = json_string_value(json_object_get(k, "e"));
        *sent =
            json_pack("{s:s,s:s,s:s,s:s}", "kty", "RSA", "alg", "RSA-OAEP-256", "n", nn, "e", e);
        snprintf(canon, 2048,
                 "{\"alg\":\"RSA-OAEP-256\",\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", e, nn);
    }
    json_decref(k);
    free(pub);
}

static const char *tee_str(enum vt_tee tee)
{
    return tee == VT_TEE_TDX ? "tdx" : tee == VT_TEE_SEV_SNP ? "snp" : "sgx";
}

/* POST /kbs/v0/auth as the guest: returns the session id and the nonce. */
static void guest_auth(struct fx *f, const char *tee, char sid[64], char nonce[64])
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"version\":\"0.4.0\",\"tee\":\"%s\",\"extra-params\":{\"supported-hash-"
             "algorithms\":[\"sha256\",\"sha384\",\"sha512\"]}}",
             tee);
    struct kr r;
    if (kcall(f, "POST", "/kbs/v0/auth", body, NULL, NULL, &r) != 200) {
        fail_msg("auth: %ld %s", r.status, r.body);
    }
    const char *n = json_string_value(json_object_get(r.json, "nonce"));
    assert_non_null(n);
    /* 32 random bytes, standard base64 */
    assert_int_equal(strlen(n), 44);
    uint8_t raw[40];
    size_t len = 0;
    assert_int_equal(vt_base64_decode(n, 44, false, raw, sizeof(raw), &len), VT_OK);
    assert_int_equal(len, 32);
    /* no hash algorithm selected: the guest falls back to SHA-384 */
    assert_string_equal(json_string_value(json_object_get(r.json, "extra-params")), "");
    assert_int_equal(strlen(r.sid), 32);
    assert_non_null(strstr(r.set_cookie, "Expires="));
    assert_non_null(strstr(r.set_cookie, "HttpOnly"));
    snprintf(sid, 64, "%s", r.sid);
    snprintf(nonce, 64, "%s", n);
    kr_cleanup(&r);
}

struct attest_opts {
    const char *rt_nonce;   /* runtime-data.nonce (NULL: the session's) */
    const char *bind_nonce; /* the nonce hashed into report_data (NULL: rt_nonce) */
    const char *ae_sent;    /* additional_evidence sent (NULL: "") */
    const char *ae_bound;   /* additional-evidence hashed (NULL: ae_sent) */
    const char *alg;        /* override tee-pubkey alg */
    enum vt_tee evidence_tee;
    unsigned variant;
    /* init-data: the TOML body the guest sends (format "toml" unless init_format), hashed with
     * init_alg ("sha256", "sha384", "sha512") into the TEE's init-data field at "launch", unless
     * init_field gives that field's bytes */
    const char *init_toml;
    const char *init_format;
    const char *init_alg;
    const uint8_t *init_field;
    size_t init_field_len;
    /* SEV-SNP: the certificate table the guest sends: 0 null (the VEK is fetched), 1 the VCEK,
     * 3 VCEK, ASK and ARK; snp_edit changes the evidence JSON before it is sent */
    int snp_table;
    void (*snp_edit)(json_t *evidence);
};

/* The init-data digest a host puts in the TEE's field: the TOML's algorithm over its bytes. */
static size_t init_digest(const char *alg, const char *body, uint8_t out[64])
{
    if (strcmp(alg, "sha256") == 0) {
        vt_sha256(body, strlen(body), out);
        return 32;
    }
    if (strcmp(alg, "sha512") == 0) {
        vt_sha512(body, strlen(body), out);
        return 64;
    }
    vt_sha384(body, strlen(body), out);
    return 48;
}

/* The SEV-SNP evidence as guest-components' SNP attester serializes it: {"attestation_report":
 * the sev crate's serde form, "cert_chain": the certificate table or null}. */
static json_t *guest_snp_evidence(struct fx *f, const uint8_t *report, int table)
{
    json_t *chain = json_null();
    if (table > 0) {
        static const char *const types[3] = {"VCEK", "ASK", "ARK"};
        chain = json_array();
        for (int i = 0; i < table; i++) {
            size_t n = 0;
            uint8_t *der = vt_bsim_snp_cert(f->h->sim, i, &n);
            json_array_append_new(chain, kbs_guest_cert_entry(types[i], der, n));
            free(der);
        }
    }
    json_t *rep = kbs_guest_snp_report(report);
    assert_non_null(rep);
    return json_pack("{s:o,s:o}", "attestation_report", rep, "cert_chain", chain);
}

/* The Attestation message exactly as the guest builds it. */
static char *guest_attestation(struct fx *f, enum vt_tee tee, const struct vt_jwk *key,
                               const char *nonce, const struct attest_opts *o)
{
    json_t *pk = NULL;
    char canon[2048];
    guest_pubkey(key, &pk, canon);
    if (o->alg != NULL) {
        json_object_set_new(pk, "alg", json_string(o->alg));
    }
    const char *rt_nonce = o->rt_nonce ? o->rt_nonce : nonce;
    const char *bind_nonce = o->bind_nonce ? o->bind_nonce : rt_nonce;
    const char *ae = o->ae_sent ? o->ae_sent : "";
    const char *ae_bound = o->ae_bound ? o->ae_bound : ae;
    /* the runtime data as RFC 8785 writes it (keys sorted, no whitespace) */
    json_t *aej = json_string(ae_bound);
    char *ae_json = json_dumps(aej, JSON_ENCODE_ANY); /* quoted, '"' and '\\' escaped */
    json_decref(aej);
    char runtime[4096];
    snprintf(runtime, sizeof(runtime),
             "{\"additional-evidence\":%s,\"nonce\":\"%s\",\"tee-pubkey\":%s}", ae_json, bind_nonce,
             canon);
    free(ae_json);
    uint8_t rd[64] = {0};
    vt_sha384(runtime, strlen(runtime), rd); /* 48 bytes, then zeros */
    uint8_t field[64] = {0};
    size_t field_len = 0;
    if (o->init_field != NULL) {
        field_len = o->init_field_len;
        memcpy(field, o->init_field, field_len);
    } else if (o->init_toml != NULL) {
        field_len = init_digest(o->init_alg ? o->init_alg : "sha384", o->init_toml, field);
    }
    size_t n = 0;
    enum vt_tee etee = o->evidence_tee ? o->evidence_tee : tee;
    uint8_t *ev = vt_bsim_evidence_rd_init(f->h->sim, etee, rd, field_len ? field : NULL, field_len,
                                           o->variant, &n);
    assert_non_null(ev);
    json_t *primary = NULL;
    if (tee == VT_TEE_SEV_SNP && etee == VT_TEE_SEV_SNP) {
        primary = guest_snp_evidence(f, ev, o->snp_table);
        if (o->snp_edit != NULL) {
            o->snp_edit(primary);
        }
    } else {
        size_t cap = 4 * ((n + 2) / 3) + 1;
        char *q = malloc(cap);
        assert_int_equal(vt_base64_encode(ev, n, false, q, cap), VT_OK);
        primary = tee == VT_TEE_TDX ? json_pack("{s:n,s:s}", "cc_eventlog", "quote", q)
                                    : json_pack("{s:s}", "quote", q);
        free(q);
    }
    json_t *init = o->init_toml
                       ? json_pack("{s:s,s:s}", "format", o->init_format ? o->init_format : "toml",
                                   "body", o->init_toml)
                       : json_null();
    json_t *att = json_pack("{s:o,s:{s:s,s:o},s:{s:o,s:s}}", "init-data", init, "runtime-data",
                            "nonce", rt_nonce, "tee-pubkey", pk, "tee-evidence", "primary_evidence",
                            primary, "additional_evidence", ae);
    assert_non_null(att);
    char *s = json_dumps(att, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(att);
    free(ev);
    return s;
}

/* auth + attest; returns the status of attest, the session id, and the token on 200. */
static long guest_attest(struct fx *f, enum vt_tee tee, const struct vt_jwk *key,
                         const struct attest_opts *o, char sid[64], char **token, struct kr *out)
{
    char nonce[64];
    guest_auth(f, tee_str(tee), sid, nonce);
    char *body = guest_attestation(f, tee, key, nonce, o);
    struct kr r;
    long st = kcall(f, "POST", "/kbs/v0/attest", body, sid, NULL, &r);
    free(body);
    if (token != NULL) {
        const char *t = json_string_value(json_object_get(r.json, "token"));
        *token = st == 200 && t ? strdup(t) : NULL;
    }
    if (st == 200) {
        assert_string_equal(r.sid, sid); /* the cookie is set again with the token's life */
    }
    if (out != NULL) {
        *out = r;
    } else {
        kr_cleanup(&r);
    }
    return st;
}

static char *b64url_of(const char *s)
{
    size_t n = strlen(s), cap = 4 * ((n + 2) / 3) + 1;
    char *o = malloc(cap);
    assert_int_equal(vt_base64_encode((const uint8_t *)s, n, true, o, cap), VT_OK);
    return o;
}

/* Decrypt the resource response as the guest does: the flattened JWE's members, the AAD from
 * the protected header re-serialized (alg, enc, then the other members sorted), the CEK
 * unwrapped with the TEE key, A256GCM. */
static void guest_decrypt(const struct kr *r, const struct vt_jwk *key)
{
    if (r->status != 200) {
        fail_msg("resource: %ld %s", r->status, r->body);
    }
    const char *m[5] = {"protected", "encrypted_key", "iv", "ciphertext", "tag"};
    const char *v[5];
    for (size_t i = 0; i < 5; i++) {
        v[i] = json_string_value(json_object_get(r->json, m[i]));
        assert_non_null(v[i]);
    }
    assert_int_equal(json_object_size(r->json), 5); /* no "aad" */
    uint8_t hdr[1024];
    size_t hl = 0;
    assert_int_equal(vt_base64_decode(v[0], strlen(v[0]), true, hdr, sizeof(hdr) - 1, &hl), VT_OK);
    hdr[hl] = '\0';
    json_t *h = json_loads((const char *)hdr, 0, NULL);
    assert_non_null(h);
    assert_string_equal(json_string_value(json_object_get(h, "enc")), "A256GCM");
    const char *alg = json_string_value(json_object_get(h, "alg"));
    assert_string_equal(alg,
                        strcmp(vt_jwk_kty(key), "RSA") == 0 ? "RSA-OAEP-256" : "ECDH-ES+A256KW");
    char *again = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);
    char *aad = b64url_of(again);
    assert_string_equal(aad, v[0]);
    free(aad);
    free(again);
    json_decref(h);
    char compact[1 << 14];
    snprintf(compact, sizeof(compact), "%s.%s.%s.%s.%s", v[0], v[1], v[2], v[3], v[4]);
    struct vt_buf pt;
    vt_buf_init(&pt, 1 << 16);
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_jwe_decrypt(key, compact, strlen(compact), &pt, &d) != VT_OK) {
        fail_msg("decrypt: %s: %s", d.check, d.detail);
    }
    assert_int_equal(pt.len, strlen(secret_text));
    assert_memory_equal(pt.data, secret_text, pt.len);
    vt_buf_cleanup(&pt);
}

/* ---- fixture ---- */

static void put_key(struct fx *f, const char *name, const char *policy)
{
    char body[2048];
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"secret\":\"%s\"%s%s}", name, f->secret_b64,
             policy ? ",\"policy\":" : "", policy ? policy : "");
    char *raw = NULL;
    long st = bh_call(f->h, "POST", "/admin/v1/keys", body, f->h->admin, NULL, &raw);
    if (st != 201) {
        fail_msg("put %s: %ld %s", name, st, raw);
    }
    free(raw);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->h = bh_start(vt_time_now(), "", 300, 600, NULL);
    assert_non_null(f->h);
    assert_int_equal(vt_base64_encode((const uint8_t *)secret_text, strlen(secret_text), false,
                                      f->secret_b64, sizeof(f->secret_b64)),
                     VT_OK);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_jwk_generate("P-256", &f->ec, &d), VT_OK); /* the guest's default */
    assert_int_equal(vt_jwk_generate("RSA-2048", &f->rsa, &d), VT_OK);
    char pol[600];
    snprintf(pol, sizeof(pol),
             "{\"version\":1,\"rules\":{\"claim\":\"tdx.mrtd\",\"equals\":\"%s\"}}",
             vt_bsim_measurement(f->h->sim, VT_TEE_TDX));
    put_key(f, "kbs.default.key.tdx", pol);
    snprintf(pol, sizeof(pol),
             "{\"version\":1,\"rules\":{\"claim\":\"sgx.mrenclave\",\"equals\":\"%s\"}}",
             vt_bsim_measurement(f->h->sim, VT_TEE_SGX));
    put_key(f, "kbs.default.key.sgx", pol);
    put_key(f, "kbs.default.image-key.tls.crt", NULL);
    char zeros[97];
    memset(zeros, '0', 96);
    zeros[96] = '\0';
    snprintf(pol, sizeof(pol),
             "{\"version\":1,\"rules\":{\"claim\":\"tdx.mrtd\",\"equals\":\"%s\"}}", zeros);
    put_key(f, "kbs.default.key.deny", pol);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    bh_stop(f->h);
    vt_jwk_free(f->ec);
    vt_jwk_free(f->rsa);
    free(f);
    return 0;
}

/* ---- the flows ---- */

static void test_tdx_flow_cookie(void **state)
{
    struct fx *f = *state;
    struct attest_opts o = {0};
    char sid[64], *token = NULL;
    long st = guest_attest(f, VT_TEE_TDX, f->ec, &o, sid, &token, NULL);
    assert_int_equal(st, 200);
    assert_non_null(token);
    struct kr r;
    kcall(f, "GET", "/kbs/v0/resource/default/key/tdx", NULL, sid, NULL, &r);
    guest_decrypt(&r, f->ec);
    kr_cleanup(&r);
    /* a tag with dots, and the cookie works for several resources */
    kcall(f, "GET", "/kbs/v0/resource/default/image-key/tls.crt", NULL, sid, NULL, &r);
    guest_decrypt(&r, f->ec);
    kr_cleanup(&r);
    free(token);
}

static void test_sgx_flow_cookie_and_bearer(void **state)
{
    struct fx *f = *state;
    struct attest_opts o = {0};
    char sid[64], *token = NULL;
    assert_int_equal(guest_attest(f, VT_TEE_SGX, f->rsa, &o, sid, &token, NULL), 200);
    struct kr r;
    kcall(f, "GET", "/kbs/v0/resource/default/key/sgx", NULL, sid, NULL, &r);
    guest_decrypt(&r, f->rsa);
    kr_cleanup(&r);
    /* the token alone, as a Bearer credential (no cookie) */
    kcall(f, "GET", "/kbs/v0/resource/default/key/sgx", NULL, NULL, token, &r);
    guest_decrypt(&r, f->rsa);
    kr_cleanup(&r);
    /* a tampered token: one character of the signature changed */
    size_t tl = strlen(token);
    token[tl - 2] = token[tl - 2] == 'A' ? 'B' : 'A';
    kcall(f, "GET", "/kbs/v0/resource/default/key/sgx", NULL, NULL, token, &r);
    expect_refusal(&r, 401, "TokenVerifierError", "token");
    kr_cleanup(&r);
    /* a token-shaped string never issued */
    kcall(f, "GET", "/kbs/v0/resource/default/key/sgx", NULL, NULL, "eyJhbGciOiJFUzI1NiJ9.e30.AA",
          &r);
    expect_refusal(&r, 401, "TokenVerifierError", "token-unknown");
    kr_cleanup(&r);
    free(token);
}

static void test_reattest_returns_token(void **state)
{
    struct fx *f = *state;
    char nonce[64], sid[64];
    guest_auth(f, "tdx", sid, nonce);
    struct attest_opts o = {0};
    char *body = guest_attestation(f, VT_TEE_TDX, f->ec, nonce, &o);
    struct kr r1, r2;
    assert_int_equal(kcall(f, "POST", "/kbs/v0/attest", body, sid, NULL, &r1), 200);
    assert_int_equal(kcall(f, "POST", "/kbs/v0/attest", body, sid, NULL, &r2), 200);
    assert_string_equal(json_string_value(json_object_get(r1.json, "token")),
                        json_string_value(json_object_get(r2.json, "token")));
    kr_cleanup(&r1);
    kr_cleanup(&r2);
    free(body);
}

/* ---- deny paths ---- */

static void test_no_or_bad_session(void **state)
{
    struct fx *f = *state;
    struct kr r;
    /* resource with no credentials at all */
    kcall(f, "GET", "/kbs/v0/resource/default/key/tdx", NULL, NULL, NULL, &r);
    expect_refusal(&r, 401, "TokenNotFound", "token-missing");
    kr_cleanup(&r);
    /* attest without the cookie */
    kcall(f, "POST", "/kbs/v0/attest", "{}", NULL, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "session-missing");
    kr_cleanup(&r);
    /* a well-formed but unknown session id, and a malformed one */
    const char *unknown = "0123456789abcdef0123456789abcdef";
    kcall(f, "POST", "/kbs/v0/attest", "{}", unknown, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "session-unknown");
    kr_cleanup(&r);
    kcall(f, "GET", "/kbs/v0/resource/default/key/tdx", NULL, unknown, NULL, &r);
    expect_refusal(&r, 401, "TokenVerifierError", "session-unknown");
    kr_cleanup(&r);
    kcall(f, "GET", "/kbs/v0/resource/default/key/tdx", NULL, "../../etc", NULL, &r);
    expect_refusal(&r, 401, NULL, "session-unknown");
    kr_cleanup(&r);
    /* a session that is not attested yet cannot read */
    char sid[64], nonce[64];
    guest_auth(f, "tdx", sid, nonce);
    kcall(f, "GET", "/kbs/v0/resource/default/key/tdx", NULL, sid, NULL, &r);
    expect_refusal(&r, 401, "TokenVerifierError", "session-not-attested");
    kr_cleanup(&r);
    /* an expired session (its row aged in the store, as after nonce_ttl) */
    struct attest_opts o = {0};
    char *body = guest_attestation(f, VT_TEE_TDX, f->ec, nonce, &o);
    struct vt_sql_arg a[] = {VT_SQL_T(sid)};
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_store_exec(f->h->b->store,
                                   "UPDATE vb_kbs_sessions SET expires = 1 WHERE id = ?", a, 1,
                                   NULL, NULL, NULL, &d),
                     VT_OK);
    kcall(f, "POST", "/kbs/v0/attest", body, sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "session-expired");
    kr_cleanup(&r);
    free(body);
    /* an attested session past its expiry no longer reads */
    char *token = NULL;
    assert_int_equal(guest_attest(f, VT_TEE_TDX, f->ec, &o, sid, &token, NULL), 200);
    assert_int_equal(vt_store_exec(f->h->b->store,
                                   "UPDATE vb_kbs_sessions SET expires = 1 WHERE id = ?", a, 1,
                                   NULL, NULL, NULL, &d),
                     VT_OK);
    kcall(f, "GET", "/kbs/v0/resource/default/key/tdx", NULL, sid, NULL, &r);
    expect_refusal(&r, 401, "TokenVerifierError", "session-expired");
    kr_cleanup(&r);
    free(token);
}

static void test_nonce_and_binding(void **state)
{
    struct fx *f = *state;
    const char *other = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    struct kr r;
    char sid[64];
    /* runtime-data carries another nonce (evidence consistently bound to it) */
    struct attest_opts o = {.rt_nonce = other};
    guest_attest(f, VT_TEE_TDX, f->ec, &o, sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "nonce-mismatch");
    kr_cleanup(&r);
    /* the right nonce in runtime-data, but report_data is the hash of other runtime data */
    o = (struct attest_opts){.bind_nonce = other};
    guest_attest(f, VT_TEE_TDX, f->ec, &o, sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "binding");
    kr_cleanup(&r);
    /* the challenge is answered once: the same session refuses a second try */
    struct kr r2;
    struct attest_opts plain = {0};
    char *again = guest_attestation(f, VT_TEE_TDX, f->ec, other, &plain);
    kcall(f, "POST", "/kbs/v0/attest", again, sid, NULL, &r2);
    expect_refusal(&r2, 401, "AttestationError", "session-used");
    kr_cleanup(&r2);
    free(again);
    /* additional_evidence is part of the hashed runtime data */
    o = (struct attest_opts){.ae_sent = "{\"sample-device\":{}}", .ae_bound = ""};
    guest_attest(f, VT_TEE_SGX, f->rsa, &o, sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "binding");
    kr_cleanup(&r);
    /* ...and bound consistently it is accepted (the device evidence itself is not appraised) */
    o = (struct attest_opts){.ae_sent = "{\"sample-device\":\"x\\\\\"}"};
    char *token = NULL;
    assert_int_equal(guest_attest(f, VT_TEE_SGX, f->rsa, &o, sid, &token, NULL), 200);
    free(token);
    /* evidence of the other TEE than the session's */
    o = (struct attest_opts){.evidence_tee = VT_TEE_TDX};
    guest_attest(f, VT_TEE_SGX, f->rsa, &o, sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "tee-mismatch");
    kr_cleanup(&r);
    /* a quote the verifier rejects, and one the attestation policy's defaults refuse */
    o = (struct attest_opts){.variant = VT_BSIM_CORRUPT};
    guest_attest(f, VT_TEE_TDX, f->ec, &o, sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "evidence");
    kr_cleanup(&r);
    /* RSA1_5 is refused, as a key alg that does not fit its kty */
    o = (struct attest_opts){.alg = "RSA1_5"};
    guest_attest(f, VT_TEE_SGX, f->rsa, &o, sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "runtime-key");
    assert_non_null(strstr(r.body, "RSA1_5 is not supported"));
    kr_cleanup(&r);
    o = (struct attest_opts){.alg = "RSA-OAEP-256"};
    guest_attest(f, VT_TEE_SGX, f->ec, &o, sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "runtime-key");
    kr_cleanup(&r);
}

static int64_t log_rows(struct fx *f)
{
    int64_t n = -1;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_store_exec(f->h->b->store, "SELECT COUNT(*) FROM vb_log", NULL, 0,
                                   vt_store_row_int, &n, NULL, &d),
                     VT_OK);
    return n;
}

static void set_session_tee(struct fx *f, const char *sid, const char *tee)
{
    struct vt_sql_arg a[] = {VT_SQL_T(tee), VT_SQL_T(sid)};
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_store_exec(f->h->b->store,
                                   "UPDATE vb_kbs_sessions SET tee = ? WHERE id = ?", a, 2, NULL,
                                   NULL, NULL, &d),
                     VT_OK);
}

/* The session's declared TEE is the evidence's, at attest and at every resource read. */
static void test_session_tee(void **state)
{
    struct fx *f = *state;
    struct kr r;
    char sid[64], nonce[64];
    /* an SGX session answered with an SEV-SNP report bound to its runtime data (its first bytes
     * also read as an SGX quote header) */
    guest_auth(f, "sgx", sid, nonce);
    struct attest_opts o = {.evidence_tee = VT_TEE_SEV_SNP};
    char *body = guest_attestation(f, VT_TEE_SGX, f->ec, nonce, &o);
    int64_t logged = log_rows(f);
    kcall(f, "POST", "/kbs/v0/attest", body, sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "tee-mismatch");
    kr_cleanup(&r);
    free(body);
    assert_int_equal(log_rows(f), logged);
    kcall(f, "GET", "/kbs/v0/resource/default/image-key/tls.crt", NULL, sid, NULL, &r);
    expect_refusal(&r, 401, "TokenVerifierError", "session-not-attested");
    kr_cleanup(&r);
    /* the refusal spent nothing: the session's own TEE still attests */
    o = (struct attest_opts){0};
    body = guest_attestation(f, VT_TEE_SGX, f->ec, nonce, &o);
    assert_int_equal(kcall(f, "POST", "/kbs/v0/attest", body, sid, NULL, &r), 200);
    char *token = strdup(json_string_value(json_object_get(r.json, "token")));
    kr_cleanup(&r);
    free(body);
    kcall(f, "GET", "/kbs/v0/resource/default/image-key/tls.crt", NULL, sid, NULL, &r);
    guest_decrypt(&r, f->ec);
    kr_cleanup(&r);
    /* a session whose declared TEE is not its token's reads nothing (cookie or Bearer) */
    set_session_tee(f, sid, "tdx");
    kcall(f, "GET", "/kbs/v0/resource/default/image-key/tls.crt", NULL, sid, NULL, &r);
    expect_refusal(&r, 401, "TokenVerifierError", "tee-mismatch");
    kr_cleanup(&r);
    kcall(f, "GET", "/kbs/v0/resource/default/image-key/tls.crt", NULL, NULL, token, &r);
    expect_refusal(&r, 401, "TokenVerifierError", "tee-mismatch");
    kr_cleanup(&r);
    /* nor one whose declared TEE this KBS does not serve */
    set_session_tee(f, sid, "az-snp-vtpm");
    kcall(f, "GET", "/kbs/v0/resource/default/image-key/tls.crt", NULL, sid, NULL, &r);
    expect_refusal(&r, 401, "TokenVerifierError", "tee-unsupported");
    kr_cleanup(&r);
    kcall(f, "POST", "/kbs/v0/attest", "{}", sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "tee-unsupported");
    kr_cleanup(&r);
    free(token);
    guest_auth(f, "tdx", sid, nonce);
    set_session_tee(f, sid, "az-snp-vtpm");
    body = guest_attestation(f, VT_TEE_TDX, f->ec, nonce, &o);
    kcall(f, "POST", "/kbs/v0/attest", body, sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "tee-unsupported");
    kr_cleanup(&r);
    free(body);
}

/* A quote that does not parse is a malformed request: the session is not spent and nothing is
 * logged. */
static void test_unparsed_quote(void **state)
{
    struct fx *f = *state;
    char sid[64], nonce[64];
    guest_auth(f, "tdx", sid, nonce);
    struct attest_opts o = {0};
    char *body = guest_attestation(f, VT_TEE_TDX, f->ec, nonce, &o);
    json_t *j = json_loads(body, 0, NULL);
    json_t *pe = json_object_get(json_object_get(j, "tee-evidence"), "primary_evidence");
    char truncated[801];
    snprintf(truncated, sizeof(truncated), "%.800s",
             json_string_value(json_object_get(pe, "quote")));
    json_object_set_new(pe, "quote", json_string(truncated));
    char *bad = json_dumps(j, JSON_COMPACT);
    int64_t logged = log_rows(f);
    struct kr r;
    kcall(f, "POST", "/kbs/v0/attest", bad, sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "evidence-format");
    kr_cleanup(&r);
    assert_int_equal(log_rows(f), logged);
    assert_int_equal(kcall(f, "POST", "/kbs/v0/attest", body, sid, NULL, &r), 200);
    kr_cleanup(&r);
    assert_int_equal(log_rows(f), logged + 1);
    free(bad);
    json_decref(j);
    free(body);
}

/* No collateral now (the source answers 503): 503 ServiceUnavailable, and the session's
 * challenge stays open, so the same Attestation succeeds on a retry rather than "session-used". */
static void test_collateral_unavailable(void **state)
{
    struct fx *f = *state;
    char url[64];
    struct vt_http_server *up = bh_down_source(url);
    assert_non_null(up);
    struct vt_broker_config over = {.collateral = url};
    struct bh *saved = f->h;
    f->h = bh_start_cfg(vt_time_now(), "", 300, 600, NULL, NULL, &over);
    assert_non_null(f->h);
    char sid[64], nonce[64];
    guest_auth(f, "tdx", sid, nonce);
    struct attest_opts o = {0};
    char *body = guest_attestation(f, VT_TEE_TDX, f->ec, nonce, &o);
    for (int i = 0; i < 2; i++) {
        struct kr r;
        kcall(f, "POST", "/kbs/v0/attest", body, sid, NULL, &r);
        expect_refusal(&r, 503, "ServiceUnavailable", "collateral-unavailable");
        kr_cleanup(&r);
    }
    assert_int_equal(log_rows(f), 0);
    free(body);
    bh_stop(f->h);
    f->h = saved;
    vt_http_server_stop(up);
}

static void test_policy_deny_and_unknown(void **state)
{
    struct fx *f = *state;
    struct attest_opts o = {0};
    char sid[64], *token = NULL;
    assert_int_equal(guest_attest(f, VT_TEE_TDX, f->ec, &o, sid, &token, NULL), 200);
    struct kr r;
    /* a release policy denial is a 401 PolicyDeny, as Trustee answers it */
    kcall(f, "GET", "/kbs/v0/resource/default/key/deny", NULL, sid, NULL, &r);
    expect_refusal(&r, 401, "PolicyDeny", "release-policy");
    kr_cleanup(&r);
    /* the SGX key's policy does not admit a TD */
    kcall(f, "GET", "/kbs/v0/resource/default/key/sgx", NULL, NULL, token, &r);
    expect_refusal(&r, 401, "PolicyDeny", "release-policy");
    kr_cleanup(&r);
    /* no such resource: 401 PluginInternalError, as Trustee's resource plugin */
    kcall(f, "GET", "/kbs/v0/resource/default/key/nothing-here", NULL, sid, NULL, &r);
    expect_refusal(&r, 401, "PluginInternalError", "unknown-key");
    kr_cleanup(&r);
    /* paths that name no resource */
    const char *bad[] = {"/kbs/v0/resource/default/key", "/kbs/v0/resource/default/key/a/b",
                         "/kbs/v0/resource/de.fault/key/a", "/kbs/v0/resource/default/key/..."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        kcall(f, "GET", bad[i], NULL, sid, NULL, &r);
        expect_refusal(&r, 404, "InvalidRequestPath", NULL);
        kr_cleanup(&r);
    }
    /* empty segments and encoded paths never reach the KBS: the server refuses them (libcurl
     * removes dot segments itself; tests/unit/net/test_http_server.c sends them raw) */
    const char *unread[] = {"/kbs/v0/resource/default//a", "/kbs/v0/resource/default/key/%74dx"};
    for (size_t i = 0; i < sizeof(unread) / sizeof(unread[0]); i++) {
        kcall(f, "GET", unread[i], NULL, sid, NULL, &r);
        assert_int_equal(r.status, 400);
        assert_string_equal(json_string_value(json_object_get(r.json, "reason")), "http.path");
        kr_cleanup(&r);
    }
    /* without being attested, an unknown resource is a 401, not a 404 */
    kcall(f, "GET", "/kbs/v0/resource/default/key/nothing-here", NULL, NULL, NULL, &r);
    expect_refusal(&r, 401, "TokenNotFound", NULL);
    kr_cleanup(&r);
    free(token);
}

static void test_protocol_edges(void **state)
{
    struct fx *f = *state;
    struct kr r;
    kcall(f, "POST", "/kbs/v0/auth",
          "{\"version\":\"0.3.0\",\"tee\":\"tdx\",\"extra-params\":\"\"}", NULL, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "protocol-version");
    assert_non_null(strstr(r.body, "KBS Client Protocol Version Mismatch"));
    kr_cleanup(&r);
    /* TEEs of the protocol that this KBS does not serve, each with the reason, and a name that
     * is none */
    static const struct {
        const char *tee, *why;
    } refused[] = {{"az-snp-vtpm", "vTPM quote"},
                   {"az-tdx-vtpm", "vTPM quote"},
                   {"sev", "without SNP"},
                   {"cca", "Arm CCA"},
                   {"csv", "Hygon CSV"},
                   {"se", "IBM Secure Execution"},
                   {"tpm", "TPM"},
                   {"nvidia", "NVIDIA"},
                   {"hygondcu", "Hygon DCU"},
                   {"sample", "test TEE"},
                   {"sampledevice", "test TEE"},
                   {"SNP", "not a TEE of the KBS protocol"}};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char body[160];
        snprintf(body, sizeof(body), "{\"version\":\"0.4.0\",\"tee\":\"%s\",\"extra-params\":\"\"}",
                 refused[i].tee);
        kcall(f, "POST", "/kbs/v0/auth", body, NULL, NULL, &r);
        expect_refusal(&r, 401, "AttestationError", "tee-unsupported");
        if (strstr(r.body, refused[i].why) == NULL) {
            fail_msg("%s: %s", refused[i].tee, r.body);
        }
        kr_cleanup(&r);
    }
    /* a body that is no Request is a 401 too, as Trustee answers every failure at auth */
    kcall(f, "POST", "/kbs/v0/auth", "not json", NULL, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "request");
    kr_cleanup(&r);
    kcall(f, "POST", "/kbs/v0/auth", "{\"version\":\"0.4.0\",\"tee\":7}", NULL, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "request");
    kr_cleanup(&r);
    /* auth and attest with another method: Trustee finds no plugin of that name */
    kcall(f, "GET", "/kbs/v0/auth", NULL, NULL, NULL, &r);
    expect_refusal(&r, 404, "PluginNotFound", "method");
    kr_cleanup(&r);
    kcall(f, "GET", "/kbs/v0/attest", NULL, NULL, NULL, &r);
    expect_refusal(&r, 404, "PluginNotFound", "method");
    kr_cleanup(&r);
    kcall(f, "POST", "/kbs/v0/resource/default/key/tdx", "x", NULL, f->h->admin, &r);
    expect_refusal(&r, 405, NULL, "method");
    kr_cleanup(&r);
    kcall(f, "POST", "/kbs/v0/resource-policy", "{}", NULL, f->h->admin, &r);
    expect_refusal(&r, 404, NULL, "not-implemented");
    kr_cleanup(&r);
    kcall(f, "GET", "/kbs/v0/nebula-ca/credential", NULL, NULL, NULL, &r);
    expect_refusal(&r, 404, "PluginNotFound", NULL);
    kr_cleanup(&r);
    assert_true(vt_broker_owns_path("/kbs/v0/auth"));
    assert_true(vt_broker_owns_path("/kbs/v0/resource/a/b/c"));
    assert_false(vt_broker_owns_path("/kbs/v1/auth"));
}

static void test_key_name_mapping(void **state)
{
    (void)state;
    char n[VT_BROKER_NAME_MAX];
    assert_true(vt_broker_kbs_key_name("default/key/tdx", n));
    assert_string_equal(n, "kbs.default.key.tdx");
    assert_true(vt_broker_kbs_key_name("my_repo/cosign-public-key/v1.2", n));
    assert_string_equal(n, "kbs.my_repo.cosign-public-key.v1.2");
    const char *bad[] = {"",     "a",    "a/b",   "a/b/c/d", "a.b/c/d", "a/b.c/d",  "/b/c",
                         "a//c", "a/b/", "a/b/.", "a/b/..",  "a/b/c d", "a/b/c%2F", "a/b/\xc3\xa9"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (vt_broker_kbs_key_name(bad[i], n)) {
            fail_msg("accepted \"%s\" as %s", bad[i], n);
        }
    }
    char longp[200];
    memset(longp, 'a', sizeof(longp));
    longp[60] = '/';
    longp[121] = '/';
    longp[125] = '\0';
    assert_false(vt_broker_kbs_key_name(longp, n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_name_mapping),
        cmocka_unit_test(test_tdx_flow_cookie),
        cmocka_unit_test(test_sgx_flow_cookie_and_bearer),
        cmocka_unit_test(test_reattest_returns_token),
        cmocka_unit_test(test_no_or_bad_session),
        cmocka_unit_test(test_nonce_and_binding),
        cmocka_unit_test(test_collateral_unavailable),
        cmocka_unit_test(test_policy_deny_and_unknown),
        cmocka_unit_test(test_session_tee),
        cmocka_unit_test(test_unparsed_quote),
        cmocka_unit_test(test_protocol_edges),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
