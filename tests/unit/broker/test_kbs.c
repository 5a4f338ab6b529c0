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

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "broker_harness.h"
#include "kbs_guest.h"
#include "vt_fixtures.h"

static const char secret_text[] = "kbs resource: 3f9a-only-for-the-attested-guest-51cc";

struct fx {
    struct bh *h;
    struct vt_jwk *ec, *rsa, *p521;
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
    /* and as the guest's own code does it, without src/crypto/jose.c */
    size_t n = 0;
    const char *why = NULL;
    uint8_t *p = kbs_guest_jwe_decrypt(r->json, key, &n, &why);
    if (p == NULL) {
        fail_msg("the guest cannot decrypt: %s", why);
    }
    assert_int_equal(n, strlen(secret_text));
    assert_memory_equal(p, secret_text, n);
    free(p);
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

/* The resources every broker of these tests serves. */
static void put_keys(struct fx *f)
{
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
    /* the simulated SEV-SNP guest's launch measurement */
    uint8_t rd[64] = {0};
    size_t n = 0;
    free(vt_bsim_evidence_rd(f->h->sim, VT_TEE_SEV_SNP, rd, 0, &n));
    snprintf(pol, sizeof(pol),
             "{\"version\":1,\"rules\":{\"claim\":\"snp.measurement\",\"equals\":\"%s\"}}",
             vt_bsim_measurement(f->h->sim, VT_TEE_SEV_SNP));
    put_key(f, "kbs.default.key.snp", pol);
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
    /* the guest's ECDH-ES+A256KW-P521 (attestation-agent tee_key_algorithm) */
    assert_int_equal(vt_jwk_generate("P-521", &f->p521, &d), VT_OK);
    put_keys(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    bh_stop(f->h);
    vt_jwk_free(f->ec);
    vt_jwk_free(f->rsa);
    vt_jwk_free(f->p521);
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
    /* the experimental ML-KEM key of kbs_types (kty AKP) is no key this KBS wraps to */
    char nonce[64];
    guest_auth(f, "tdx", sid, nonce);
    o = (struct attest_opts){0};
    char *body = guest_attestation(f, VT_TEE_TDX, f->ec, nonce, &o);
    json_t *j = json_loads(body, 0, NULL);
    json_object_set_new(
        json_object_get(j, "runtime-data"), "tee-pubkey",
        json_pack("{s:s,s:s,s:s}", "kty", "AKP", "alg", "ML-KEM-768+A192KW", "pub", "AAAA"));
    char *akp = json_dumps(j, JSON_COMPACT);
    kcall(f, "POST", "/kbs/v0/attest", akp, sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "runtime-key");
    assert_non_null(strstr(r.body, "kty must be EC or RSA"));
    kr_cleanup(&r);
    free(akp);
    json_decref(j);
    free(body);
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

/* ---- SEV-SNP ---- */

/* An SNP guest with its certificate table (VCEK, ASK, ARK), as configfs-tsm / the firmware gives
 * it on hosts that install one: the evidence the guest builds is a few tens of KB, well within
 * the route's 256 KiB. */
static void test_snp_flow_table(void **state)
{
    struct fx *f = *state;
    char sid[64], nonce[64];
    guest_auth(f, "snp", sid, nonce);
    struct attest_opts o = {.snp_table = 3};
    char *body = guest_attestation(f, VT_TEE_SEV_SNP, f->ec, nonce, &o);
    assert_true(strlen(body) < 64u * 1024u);
    /* the shape guest-components' SNP attester sends */
    json_t *j = json_loads(body, 0, NULL);
    json_t *pe = json_object_get(json_object_get(j, "tee-evidence"), "primary_evidence");
    assert_int_equal(json_object_size(pe), 2);
    assert_int_equal(json_array_size(json_object_get(pe, "cert_chain")), 3);
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(pe, "attestation_report"), "report_data")),
        64);
    json_decref(j);
    struct kr r;
    if (kcall(f, "POST", "/kbs/v0/attest", body, sid, NULL, &r) != 200) {
        fail_msg("attest: %ld %s", r.status, r.body);
    }
    kr_cleanup(&r);
    free(body);
    kcall(f, "GET", "/kbs/v0/resource/default/key/snp", NULL, sid, NULL, &r);
    guest_decrypt(&r, f->ec);
    kr_cleanup(&r);
    /* the TD's key is not for it */
    kcall(f, "GET", "/kbs/v0/resource/default/key/tdx", NULL, sid, NULL, &r);
    expect_refusal(&r, 401, "PolicyDeny", "release-policy");
    kr_cleanup(&r);
}

/* Without a certificate table (cert_chain null) the VCEK comes from the collateral source (the
 * cache, here its directory form); with the VCEK alone, its ASK does. */
static void test_snp_flow_fetched_vcek(void **state)
{
    struct fx *f = *state;
    for (int table = 0; table < 2; table++) {
        struct attest_opts o = {.snp_table = table};
        char sid[64], *token = NULL;
        struct kr r;
        if (guest_attest(f, VT_TEE_SEV_SNP, f->rsa, &o, sid, &token, &r) != 200) {
            fail_msg("table %d: %ld %s", table, r.status, r.body);
        }
        kr_cleanup(&r);
        kcall(f, "GET", "/kbs/v0/resource/default/key/snp", NULL, NULL, token, &r);
        guest_decrypt(&r, f->rsa);
        kr_cleanup(&r);
        free(token);
    }
}

static void drop_measurement(json_t *ev)
{
    json_object_del(json_object_get(ev, "attestation_report"), "measurement");
}

static void flip_measurement(json_t *ev)
{
    json_t *m = json_object_get(json_object_get(ev, "attestation_report"), "measurement");
    json_array_set_new(m, 0, json_integer(json_integer_value(json_array_get(m, 0)) ^ 1));
}

static void table_without_vek(json_t *ev)
{
    json_array_remove(json_object_get(ev, "cert_chain"), 0);
}

static void fmc_on_milan(json_t *ev)
{
    json_object_set_new(json_object_get(json_object_get(ev, "attestation_report"), "current_tcb"),
                        "fmc", json_integer(1));
}

static int64_t log_rows(struct fx *f);

/* The SNP evidence's refusals: a shape the sev crate would not produce is a malformed request
 * (nothing spent, nothing logged), a report whose signed bytes were changed fails its signature
 * (logged). */
static void test_snp_rejects(void **state)
{
    struct fx *f = *state;
    static const struct {
        void (*edit)(json_t *);
        int table;
        const char *check;
    } bad[] = {{drop_measurement, 0, "snp.attestation_report.measurement"},
               {table_without_vek, 3, "snp.cert_chain"},
               {fmc_on_milan, 0, "snp.attestation_report.current_tcb.fmc"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char sid[64], nonce[64];
        guest_auth(f, "snp", sid, nonce);
        struct attest_opts o = {.snp_table = bad[i].table, .snp_edit = bad[i].edit};
        char *body = guest_attestation(f, VT_TEE_SEV_SNP, f->ec, nonce, &o);
        int64_t logged = log_rows(f);
        struct kr r;
        kcall(f, "POST", "/kbs/v0/attest", body, sid, NULL, &r);
        expect_refusal(&r, 401, "AttestationError", "evidence-format");
        assert_non_null(strstr(r.body, bad[i].check));
        kr_cleanup(&r);
        free(body);
        assert_int_equal(log_rows(f), logged);
        /* the session was not spent: the guest's retry with good evidence succeeds */
        o = (struct attest_opts){.snp_table = bad[i].table ? 1 : 0};
        body = guest_attestation(f, VT_TEE_SEV_SNP, f->ec, nonce, &o);
        assert_int_equal(kcall(f, "POST", "/kbs/v0/attest", body, sid, NULL, &r), 200);
        kr_cleanup(&r);
        free(body);
    }
    /* a changed measurement: the rebuilt bytes are not what the VCEK signed */
    struct attest_opts o = {.snp_table = 1, .snp_edit = flip_measurement};
    char sid[64];
    struct kr r;
    int64_t logged = log_rows(f);
    guest_attest(f, VT_TEE_SEV_SNP, f->ec, &o, sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "evidence");
    assert_non_null(strstr(r.body, "snp.report.signature"));
    kr_cleanup(&r);
    assert_int_equal(log_rows(f), logged + 1);
    /* an SNP session takes SNP evidence: a DCAP quote's {quote} is not, nor the reverse */
    char nonce[64];
    guest_auth(f, "snp", sid, nonce);
    o = (struct attest_opts){0};
    char *tdx = guest_attestation(f, VT_TEE_TDX, f->ec, nonce, &o);
    kcall(f, "POST", "/kbs/v0/attest", tdx, sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "evidence-format");
    assert_non_null(strstr(r.body, "snp.attestation_report"));
    kr_cleanup(&r);
    free(tdx);
    guest_auth(f, "tdx", sid, nonce);
    char *snp = guest_attestation(f, VT_TEE_SEV_SNP, f->ec, nonce, &o);
    kcall(f, "POST", "/kbs/v0/attest", snp, sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "evidence-format");
    assert_non_null(strstr(r.body, "quote"));
    kr_cleanup(&r);
    free(snp);
}

/* Build an Attestation around a given primary_evidence (and the session's nonce, a guest key):
 * for real evidence, which binds some other runtime data. */
static char *attestation_with(const char *nonce, const struct vt_jwk *key, json_t *primary)
{
    json_t *pk = NULL;
    char canon[2048];
    guest_pubkey(key, &pk, canon);
    json_t *att = json_pack("{s:n,s:{s:s,s:o},s:{s:o,s:s}}", "init-data", "runtime-data", "nonce",
                            nonce, "tee-pubkey", pk, "tee-evidence", "primary_evidence", primary,
                            "additional_evidence", "");
    char *s = json_dumps(att, JSON_COMPACT);
    json_decref(att);
    return s;
}

/* Real SEV-SNP evidence in the guest's JSON: Trustee's own e2e evidence (a Genoa report with its
 * VCEK in the table) and a Milan report of the fixtures rendered as the guest renders it. Both
 * are verified to the genuine AMD roots through this KBS and refused only at the binding: their
 * REPORT_DATA is not this session's runtime data. */
static void test_snp_real_evidence(void **state)
{
    struct fx *f = *state;
    const char *fx = vt_fixtures_or_skip();
    if (fx == NULL) {
        return;
    }
    char path[1024];
    snprintf(path, sizeof(path), "%s/snp/trustee/e2e-evidence.json", fx);
    json_t *e2e = json_load_file(path, 0, NULL);
    assert_non_null(e2e);
    snprintf(path, sizeof(path), "%s/snp/trustee/test-report.bin", fx);
    size_t n = 0;
    uint8_t *rep = vt_test_read_file(path, &n);
    assert_non_null(rep);
    snprintf(path, sizeof(path), "%s/snp/trustee/test-vcek.der", fx);
    size_t vn = 0;
    uint8_t *vcek = vt_test_read_file(path, &vn);
    assert_non_null(vcek);
    json_t *milan = json_pack("{s:o,s:[o]}", "attestation_report", kbs_guest_snp_report(rep),
                              "cert_chain", kbs_guest_cert_entry("VCEK", vcek, vn));
    json_t *evidence[2] = {e2e, milan};
    for (size_t i = 0; i < 2; i++) {
        char sid[64], nonce[64];
        guest_auth(f, "snp", sid, nonce);
        char *body = attestation_with(nonce, f->ec, evidence[i]);
        int64_t logged = log_rows(f);
        struct kr r;
        kcall(f, "POST", "/kbs/v0/attest", body, sid, NULL, &r);
        expect_refusal(&r, 401, "AttestationError", "binding");
        kr_cleanup(&r);
        free(body);
        assert_int_equal(log_rows(f), logged + 1);
    }
    free(rep);
    free(vcek);
}

/* ---- P-521 ---- */

/* The guest's ECDH-ES+A256KW-P521 key: bound, attested, and the resource wrapped to it on P-521
 * (66-byte coordinates), which the guest unwraps. */
static void test_p521_flow(void **state)
{
    struct fx *f = *state;
    static const enum vt_tee tees[2] = {VT_TEE_TDX, VT_TEE_SEV_SNP};
    for (size_t i = 0; i < 2; i++) {
        struct attest_opts o = {.snp_table = 1};
        char sid[64], *token = NULL;
        struct kr r;
        if (guest_attest(f, tees[i], f->p521, &o, sid, &token, &r) != 200) {
            fail_msg("%s: %ld %s", tee_str(tees[i]), r.status, r.body);
        }
        kr_cleanup(&r);
        kcall(f, "GET",
              tees[i] == VT_TEE_TDX ? "/kbs/v0/resource/default/key/tdx"
                                    : "/kbs/v0/resource/default/key/snp",
              NULL, sid, NULL, &r);
        guest_decrypt(&r, f->p521);
        uint8_t hdr[1024];
        size_t hl = 0;
        const char *prot = json_string_value(json_object_get(r.json, "protected"));
        assert_int_equal(vt_base64_decode(prot, strlen(prot), true, hdr, sizeof(hdr) - 1, &hl),
                         VT_OK);
        json_t *h = json_loadb((const char *)hdr, hl, 0, NULL);
        json_t *epk = json_object_get(h, "epk");
        assert_string_equal(json_string_value(json_object_get(epk, "crv")), "P-521");
        assert_int_equal(strlen(json_string_value(json_object_get(epk, "x"))), 88); /* 66 B */
        json_decref(h);
        kr_cleanup(&r);
        /* the token binds the P-521 key: another key cannot use it */
        kcall(f, "GET", "/kbs/v0/resource/default/image-key/tls.crt", NULL, NULL, token, &r);
        guest_decrypt(&r, f->p521);
        kr_cleanup(&r);
        free(token);
    }
    /* a P-521 point off the curve, and a coordinate of the P-384 size */
    char sid[64], nonce[64];
    guest_auth(f, "tdx", sid, nonce);
    struct attest_opts o = {0};
    char *body = guest_attestation(f, VT_TEE_TDX, f->p521, nonce, &o);
    json_t *j = json_loads(body, 0, NULL);
    json_t *pk = json_object_get(json_object_get(j, "runtime-data"), "tee-pubkey");
    char y[100];
    snprintf(y, sizeof(y), "%s", json_string_value(json_object_get(pk, "y")));
    y[20] = y[20] == 'A' ? 'B' : 'A';
    json_object_set_new(pk, "y", json_string(y));
    char *bad = json_dumps(j, JSON_COMPACT);
    struct kr r;
    kcall(f, "POST", "/kbs/v0/attest", bad, sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "runtime-key");
    assert_non_null(strstr(r.body, "jwk.point"));
    kr_cleanup(&r);
    free(bad);
    y[64] = '\0'; /* 48 bytes */
    json_object_set_new(pk, "y", json_string(y));
    bad = json_dumps(j, JSON_COMPACT);
    kcall(f, "POST", "/kbs/v0/attest", bad, sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "runtime-key");
    assert_non_null(strstr(r.body, "jwk.y"));
    kr_cleanup(&r);
    free(bad);
    json_decref(j);
    free(body);
}

/* ---- init-data ---- */

static const char initdata_toml[] =
    "algorithm = \"%s\"\nversion = \"0.1.0\"\n\n[data]\n"
    "\"aa.toml\" = '''\n[token_configs.kbs]\nurl = \"https://veritee.example:8080\"\n'''\n"
    "\"policy.rego\" = '''\npackage agent_policy\ndefault AllowRequests := true'''\n";

/* init-data as the guest sends it ({"format": "toml", "body"}), its digest in the TEE's field
 * as the host set it at launch: TDX MRCONFIGID (48 bytes), SNP HOST_DATA (32: a SHA-384 digest is
 * truncated), SGX CONFIGID (64: a SHA-256 digest is zero-padded). */
static void test_initdata_bound(void **state)
{
    struct fx *f = *state;
    static const struct {
        enum vt_tee tee;
        const char *alg;
    } ok[] = {{VT_TEE_TDX, "sha384"},     {VT_TEE_TDX, "sha256"}, {VT_TEE_SEV_SNP, "sha256"},
              {VT_TEE_SEV_SNP, "sha384"}, {VT_TEE_SGX, "sha512"}, {VT_TEE_SGX, "sha256"}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char toml[1024];
        snprintf(toml, sizeof(toml), initdata_toml, ok[i].alg);
        struct attest_opts o = {.init_toml = toml, .init_alg = ok[i].alg, .snp_table = 1};
        char sid[64];
        struct kr r;
        if (guest_attest(f, ok[i].tee, f->ec, &o, sid, NULL, &r) != 200) {
            fail_msg("%s %s: %ld %s", tee_str(ok[i].tee), ok[i].alg, r.status, r.body);
        }
        kr_cleanup(&r);
    }
    /* without init-data the field is not checked, as by Trustee */
    uint8_t field[48];
    memset(field, 0x77, sizeof(field));
    struct attest_opts o = {.init_field = field, .init_field_len = sizeof(field)};
    char sid[64];
    assert_int_equal(guest_attest(f, VT_TEE_TDX, f->ec, &o, sid, NULL, NULL), 200);
}

static void test_initdata_refused(void **state)
{
    struct fx *f = *state;
    char toml[1024];
    snprintf(toml, sizeof(toml), initdata_toml, "sha384");
    uint8_t other[48];
    memset(other, 0x77, sizeof(other));
    /* a field that is not the digest (another init-data, or none set at launch): Trustee's
     * messages, logged, the session spent */
    static const struct {
        enum vt_tee tee;
        bool unset;
        const char *msg;
    } mismatch[] = {{VT_TEE_TDX, false, "MRCONFIGID is different from that in TDX Quote"},
                    {VT_TEE_TDX, true, "MRCONFIGID is different from that in TDX Quote"},
                    {VT_TEE_SEV_SNP, false, "Host Data Mismatch"},
                    {VT_TEE_SGX, false, "CONFIGID is different from that in SGX Quote"}};
    for (size_t i = 0; i < sizeof(mismatch) / sizeof(mismatch[0]); i++) {
        struct attest_opts o = {.init_toml = toml, .snp_table = 1};
        if (!mismatch[i].unset) {
            o.init_field = other;
            o.init_field_len = sizeof(other);
        } else {
            o.init_field = other;
            o.init_field_len = 0;
        }
        char sid[64];
        struct kr r;
        int64_t logged = log_rows(f);
        guest_attest(f, mismatch[i].tee, f->ec, &o, sid, NULL, &r);
        expect_refusal(&r, 401, "AttestationError", "init-data-mismatch");
        assert_non_null(strstr(r.body, mismatch[i].msg));
        kr_cleanup(&r);
        assert_int_equal(log_rows(f), logged + 1);
    }
    /* init-data that cannot be read: a malformed request, nothing spent */
    static const struct {
        const char *format, *body, *detail;
    } unread[] = {
        {"json", "{\"algorithm\":\"sha384\"}", "Unsupported initdata format: json"},
        {"toml", "algorithm = \"sha384\"\nversion = \"0.1.0\"\n", "no [data] table"},
        {"toml", "algorithm = \"md5\"\nversion = \"0.1.0\"\n[data]\n", "none of sha256"},
        {"toml", "algorithm = 'sha384\n", "line 1"},
    };
    for (size_t i = 0; i < sizeof(unread) / sizeof(unread[0]); i++) {
        char sid[64], nonce[64];
        guest_auth(f, "tdx", sid, nonce);
        struct attest_opts o = {.init_toml = unread[i].body,
                                .init_format = unread[i].format,
                                .init_field = other,
                                .init_field_len = 0};
        char *body = guest_attestation(f, VT_TEE_TDX, f->ec, nonce, &o);
        int64_t logged = log_rows(f);
        struct kr r;
        kcall(f, "POST", "/kbs/v0/attest", body, sid, NULL, &r);
        expect_refusal(&r, 401, "AttestationError", "init-data");
        if (strstr(r.body, unread[i].detail) == NULL) {
            fail_msg("%s", r.body);
        }
        kr_cleanup(&r);
        free(body);
        assert_int_equal(log_rows(f), logged);
        o = (struct attest_opts){0};
        body = guest_attestation(f, VT_TEE_TDX, f->ec, nonce, &o);
        assert_int_equal(kcall(f, "POST", "/kbs/v0/attest", body, sid, NULL, &r), 200);
        kr_cleanup(&r);
        free(body);
    }
    /* init-data of another shape than {format, body} */
    char sid[64], nonce[64];
    guest_auth(f, "tdx", sid, nonce);
    struct attest_opts o = {0};
    char *body = guest_attestation(f, VT_TEE_TDX, f->ec, nonce, &o);
    json_t *j = json_loads(body, 0, NULL);
    json_object_set_new(j, "init-data", json_pack("{s:s}", "format", "toml"));
    char *bad = json_dumps(j, JSON_COMPACT);
    struct kr r;
    kcall(f, "POST", "/kbs/v0/attest", bad, sid, NULL, &r);
    expect_refusal(&r, 401, "AttestationError", "attestation");
    kr_cleanup(&r);
    free(bad);
    json_decref(j);
    free(body);
}

/* ---- request shapes: the member that is wrong, by its JSON path ---- */

/* Each malformed auth Request and Attestation is a 401 with the reason Trustee's clients know
 * ("request", "attestation") and a detail that names the member and what is wrong; the session
 * is not spent. */
static void test_request_shapes(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *body, *detail;
    } auth[] = {
        {"", "$: the body is empty"},
        {"not json", "$: the body is not JSON: "},
        {"[\"0.4.0\",\"tdx\"]", "$: expected an object, got an array"},
        {"{\"tee\":\"tdx\",\"extra-params\":\"\"}", "$.version: required field is missing"},
        {"{\"version\":4,\"tee\":\"tdx\"}", "$.version: expected a string, got a number"},
        {"{\"version\":\"0.4.0\",\"tee\":7}", "$.tee: expected a string, got a number"},
        {"{\"version\":\"0.4.0\",\"tee\":null}", "$.tee: expected a string, got null"},
    };
    for (size_t i = 0; i < sizeof(auth) / sizeof(auth[0]); i++) {
        struct kr r;
        kcall(f, "POST", "/kbs/v0/auth", auth[i].body, NULL, NULL, &r);
        expect_refusal(&r, 401, "AttestationError", "request");
        const char *detail = json_string_value(json_object_get(r.json, "detail"));
        if (detail == NULL || strstr(detail, auth[i].detail) == NULL ||
            strstr(detail, "(a KBS Request is {\"version\", \"tee\", \"extra-params\"})") == NULL) {
            fail_msg("auth %s: %s", auth[i].body, r.body);
        }
        assert_string_equal(r.sid, "");
        kr_cleanup(&r);
    }
#define RD_EC                                                                                      \
    "\"runtime-data\":{\"nonce\":\"x\",\"tee-pubkey\":{\"kty\":\"EC\",\"crv\":\"P-256\","          \
    "\"alg\":\"ECDH-ES+A256KW\",\"x\":\"AA\",\"y\":\"AA\"}}"
#define TE_OK "\"tee-evidence\":{\"primary_evidence\":{},\"additional_evidence\":\"\"}"
    static const struct {
        const char *body, *detail;
    } att[] = {
        {"{}", "$.runtime-data: required field is missing"},
        {"7", "$: expected an object, got a number"},
        {"{\"runtime-data\":[]," TE_OK "}", "$.runtime-data: expected an object, got an array"},
        {"{\"runtime-data\":{\"tee-pubkey\":{\"kty\":\"EC\"}}," TE_OK "}",
         "$.runtime-data.nonce: required field is missing"},
        {"{\"runtime-data\":{\"nonce\":1,\"tee-pubkey\":{}}," TE_OK "}",
         "$.runtime-data.nonce: expected a string, got a number"},
        {"{\"runtime-data\":{\"nonce\":\"x\"}," TE_OK "}",
         "$.runtime-data.tee-pubkey: required field is missing"},
        {"{\"runtime-data\":{\"nonce\":\"x\",\"tee-pubkey\":\"AQAB\"}," TE_OK "}",
         "$.runtime-data.tee-pubkey: expected an object, got a string"},
        {"{\"runtime-data\":{\"nonce\":\"x\",\"tee-pubkey\":{\"kty\":true}}," TE_OK "}",
         "$.runtime-data.tee-pubkey.kty: expected a string, got a boolean"},
        {"{\"runtime-data\":{\"nonce\":\"x\",\"tee-pubkey\":{\"kty\":\"OKP\"}}," TE_OK "}",
         "$.runtime-data.tee-pubkey.kty: \"OKP\" is none of kbs_types' TeePubKey (EC, RSA)"},
        {"{\"runtime-data\":{\"nonce\":\"x\",\"tee-pubkey\":{\"kty\":\"EC\",\"crv\":\"P-256\","
         "\"alg\":\"ECDH-ES+A256KW\",\"x\":\"AA\"}}," TE_OK "}",
         "$.runtime-data.tee-pubkey.y: required field is missing (an EC tee-pubkey needs"},
        {"{\"runtime-data\":{\"nonce\":\"x\",\"tee-pubkey\":{\"kty\":\"RSA\",\"alg\":\"RSA-OAEP-"
         "256\",\"n\":\"AQAB\",\"e\":65537}}," TE_OK "}",
         "$.runtime-data.tee-pubkey.e: expected a string, got a number (an RSA tee-pubkey"},
        {"{" RD_EC "}", "$.tee-evidence: required field is missing"},
        {"{" RD_EC ",\"tee-evidence\":\"quote\"}", "$.tee-evidence: expected an object, got a "
                                                   "string"},
        {"{" RD_EC ",\"tee-evidence\":{\"additional_evidence\":\"\"}}",
         "$.tee-evidence.primary_evidence: required field is missing"},
        {"{" RD_EC ",\"tee-evidence\":{\"primary_evidence\":{},\"additional_evidence\":7}}",
         "$.tee-evidence.additional_evidence: expected a string, got a number"},
        {"{" RD_EC ",\"tee-evidence\":{\"primary_evidence\":{},\"additional_evidence\":null}}",
         "$.tee-evidence.additional_evidence: expected a string, got null"},
        {"{" RD_EC "," TE_OK ",\"init-data\":\"toml\"}",
         "$.init-data: expected an object, got a string"},
        {"{" RD_EC "," TE_OK ",\"init-data\":{\"format\":\"toml\"}}",
         "$.init-data.body: required field is missing"},
        {"{" RD_EC "," TE_OK ",\"init-data\":{\"format\":1,\"body\":\"\"}}",
         "$.init-data.format: expected a string, got a number"},
    };
#undef RD_EC
#undef TE_OK
    char sid[64], nonce[64];
    guest_auth(f, "tdx", sid, nonce);
    int64_t logged = log_rows(f);
    for (size_t i = 0; i < sizeof(att) / sizeof(att[0]); i++) {
        struct kr r;
        kcall(f, "POST", "/kbs/v0/attest", att[i].body, sid, NULL, &r);
        expect_refusal(&r, 401, "AttestationError", "attestation");
        const char *detail = json_string_value(json_object_get(r.json, "detail"));
        if (detail == NULL || strstr(detail, att[i].detail) == NULL) {
            fail_msg("attest %s: %s", att[i].body, r.body);
        }
        kr_cleanup(&r);
    }
    assert_int_equal(log_rows(f), logged);
    /* the session was not spent: a well-formed Attestation still gets its token */
    struct attest_opts o = {0};
    char *body = guest_attestation(f, VT_TEE_TDX, f->ec, nonce, &o);
    struct kr r;
    assert_int_equal(kcall(f, "POST", "/kbs/v0/attest", body, sid, NULL, &r), 200);
    kr_cleanup(&r);
    free(body);
}

/* ---- a re-attest ---- */

/* An attested session answers attest with its token, as Trustee does, but only for a message
 * that is an Attestation (Trustee deserializes it first); its nonce is not looked at again. */
static void test_reattest_body_read_first(void **state)
{
    struct fx *f = *state;
    char sid[64], *token = NULL;
    struct attest_opts o = {0};
    assert_int_equal(guest_attest(f, VT_TEE_TDX, f->ec, &o, sid, &token, NULL), 200);
    static const char *const bad[] = {
        "{}",
        "not json",
        "{\"runtime-data\":{\"nonce\":\"x\",\"tee-pubkey\":{\"kty\":\"OKP\"}},\"tee-evidence\":"
        "{\"primary_evidence\":{},\"additional_evidence\":\"\"}}",
        "{\"runtime-data\":{\"nonce\":\"x\",\"tee-pubkey\":{\"kty\":\"EC\",\"crv\":\"P-256\"}},"
        "\"tee-evidence\":{\"primary_evidence\":{},\"additional_evidence\":\"\"}}",
        "{\"runtime-data\":{\"nonce\":\"x\",\"tee-pubkey\":{\"kty\":\"RSA\",\"alg\":\"RSA-OAEP-"
        "256\","
        "\"n\":\"AQAB\",\"e\":\"AQAB\"}},\"tee-evidence\":{\"additional_evidence\":\"\"}}",
        "{\"runtime-data\":{\"nonce\":\"x\",\"tee-pubkey\":{\"kty\":\"RSA\",\"alg\":\"RSA-OAEP-"
        "256\","
        "\"n\":\"AQAB\",\"e\":\"AQAB\"}},\"tee-evidence\":{\"primary_evidence\":{},"
        "\"additional_evidence\":7}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct kr r;
        kcall(f, "POST", "/kbs/v0/attest", bad[i], sid, NULL, &r);
        expect_refusal(&r, 401, "AttestationError", "attestation");
        assert_null(strstr(r.body, token));
        kr_cleanup(&r);
    }
    /* a well-formed Attestation gets the token, whatever its nonce */
    char *body =
        guest_attestation(f, VT_TEE_TDX, f->ec, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", &o);
    struct kr r;
    assert_int_equal(kcall(f, "POST", "/kbs/v0/attest", body, sid, NULL, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "token")), token);
    kr_cleanup(&r);
    free(body);
    free(token);
}

/* ---- token profiles ---- */

static json_t *token_payload(const char *token)
{
    const char *p = strchr(token, '.');
    const char *q = p ? strchr(p + 1, '.') : NULL;
    assert_non_null(q);
    uint8_t buf[1 << 15];
    size_t n = 0;
    assert_int_equal(vt_base64_decode(p + 1, (size_t)(q - p - 1), true, buf, sizeof(buf), &n),
                     VT_OK);
    json_t *o = json_loadb((const char *)buf, n, 0, NULL);
    assert_non_null(o);
    return o;
}

/* The default (veritee) profile is unchanged: this broker's EAR, claims under the TEE's name. */
static void test_token_default_profile(void **state)
{
    struct fx *f = *state;
    char sid[64], *token = NULL;
    struct attest_opts o = {0};
    assert_int_equal(guest_attest(f, VT_TEE_TDX, f->ec, &o, sid, &token, NULL), 200);
    json_t *p = token_payload(token);
    assert_string_equal(json_string_value(json_object_get(p, "eat_profile")),
                        "tag:github.com,2023:veraison/ear");
    json_t *sub = json_object_get(json_object_get(p, "submods"), "tdx");
    assert_non_null(json_object_get(sub, "veritee.claims"));
    assert_null(json_object_get(json_object_get(p, "submods"), "cpu0"));
    assert_non_null(json_object_get(json_object_get(p, "cnf"), "jkt"));
    json_decref(p);
    free(token);
}

/* A JSON pointer (RFC 6901, without escapes), as Trustee's token verifier resolves its paths. */
static json_t *pointer(json_t *o, const char *path)
{
    char seg[128];
    while (o != NULL && *path == '/') {
        const char *e = strchr(path + 1, '/');
        size_t n = e ? (size_t)(e - path - 1) : strlen(path + 1);
        snprintf(seg, sizeof(seg), "%.*s", (int)n, path + 1);
        o = json_object_get(o, seg);
        path += n + 1;
    }
    return o;
}

/* ES256 over "header.payload" with the JWKS key of the header's kid, with OpenSSL alone. */
static bool es256_verifies(const char *token, json_t *jwks)
{
    const char *dot1 = strchr(token, '.');
    const char *dot2 = strrchr(token, '.');
    uint8_t hb[512], sig[64];
    size_t hn = 0, sn = 0;
    if (vt_base64_decode(token, (size_t)(dot1 - token), true, hb, sizeof(hb) - 1, &hn) != VT_OK ||
        vt_base64_decode(dot2 + 1, strlen(dot2 + 1), true, sig, sizeof(sig), &sn) != VT_OK ||
        sn != 64) {
        return false;
    }
    json_t *h = json_loadb((const char *)hb, hn, 0, NULL);
    const char *kid = json_string_value(json_object_get(h, "kid"));
    /* Trustee's verifier takes a header "jwk" only with an x5c chain it trusts: none here */
    bool ok = kid != NULL && json_object_get(h, "jwk") == NULL &&
              strcmp(json_string_value(json_object_get(h, "alg")), "ES256") == 0;
    json_t *key = NULL;
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(jwks, "keys"), i, k)
    {
        if (ok && strcmp(json_string_value(json_object_get(k, "kid")), kid) == 0) {
            key = k;
        }
    }
    ok = ok && key != NULL &&
         strcmp(json_string_value(json_object_get(key, "alg")), "ES256") == 0; /* key_algorithm */
    uint8_t pt[65] = {0x04};
    size_t xn = 0, yn = 0;
    ok = ok &&
         vt_base64_decode(json_string_value(json_object_get(key, "x")), 43, true, pt + 1, 32,
                          &xn) == VT_OK &&
         vt_base64_decode(json_string_value(json_object_get(key, "y")), 43, true, pt + 33, 32,
                          &yn) == VT_OK;
    json_decref(h);
    EVP_PKEY *pk = NULL;
    if (ok) {
        OSSL_PARAM params[3] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
            OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt)),
            OSSL_PARAM_construct_end()};
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        ok = c && EVP_PKEY_fromdata_init(c) == 1 &&
             EVP_PKEY_fromdata(c, &pk, EVP_PKEY_PUBLIC_KEY, params) == 1;
        EVP_PKEY_CTX_free(c);
    }
    if (ok) {
        ECDSA_SIG *es = ECDSA_SIG_new();
        ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
        unsigned char *der = NULL;
        int dl = i2d_ECDSA_SIG(es, &der);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        ok = dl > 0 && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
             EVP_DigestVerify(md, der, (size_t)dl, (const uint8_t *)token,
                              (size_t)(dot2 - token)) == 1;
        EVP_MD_CTX_free(md);
        OPENSSL_free(der);
        ECDSA_SIG_free(es);
    }
    EVP_PKEY_free(pk);
    return ok;
}

/*
 * With --kbs-token-profile trustee the token is one a Trustee KBS takes as a Bearer credential
 * when it trusts this broker's JWKS (trusted_jwk_sets): what that KBS does with it is replayed
 * here (kbs/src/token, api_server.rs): the signature by the JWKS key of the header's kid with the
 * key's algorithm, "exp" required and in the future; the TEE key from the first of its claim
 * paths that exists, read as kbs_types TeePubKey; the default resource policy (no "sample"
 * evidence in submodule cpu0) and the affirming one (every submodule's ear.status "affirming");
 * the init-data claims at cpu0; the resource then wrapped to that key, which the guest unwraps.
 * This broker accepts the same token back, cookie or Bearer, with its release policies on the
 * claims the token carries.
 */
static void test_token_trustee_profile(void **state)
{
    struct fx *f = *state;
    struct vt_broker_config over = {.kbs_token_profile = VT_KBS_TOKEN_TRUSTEE};
    struct bh *saved = f->h;
    f->h = bh_start_cfg(vt_time_now(), "", 300, 600, NULL, NULL, &over);
    assert_non_null(f->h);
    put_keys(f);
    char toml[1024];
    snprintf(toml, sizeof(toml), initdata_toml, "sha384");
    static const enum vt_tee tees[2] = {VT_TEE_TDX, VT_TEE_SEV_SNP};
    json_t *jwks = NULL;
    assert_int_equal(bh_call(f->h, "GET", "/.well-known/jwks.json", NULL, NULL, &jwks, NULL), 200);
    for (size_t t = 0; t < 2; t++) {
        struct attest_opts o = {.init_toml = toml, .snp_table = 1};
        char sid[64], *token = NULL;
        struct kr r;
        const struct vt_jwk *key = t == 0 ? f->ec : f->p521;
        if (guest_attest(f, tees[t], key, &o, sid, &token, &r) != 200) {
            fail_msg("%ld %s", r.status, r.body);
        }
        kr_cleanup(&r);
        /* Trustee's token verifier */
        assert_true(es256_verifies(token, jwks));
        json_t *p = token_payload(token);
        json_int_t exp = json_integer_value(json_object_get(p, "exp"));
        assert_true(json_is_integer(json_object_get(p, "exp")) && exp > vt_time_now());
        assert_string_equal(json_string_value(json_object_get(p, "eat_profile")),
                            "tag:github.com,2024:confidential-containers/Trustee");
        static const char *const paths[] = {
            "/tdx/attester_runtime_data/tee-pubkey", "/tdx/attester_user_data/tee-pubkey",
            "/customized_claims/runtime_data/tee-pubkey",
            "/submods/cpu0/ear.veraison.annotated-evidence/runtime_data_claims/tee-pubkey",
            "/tee-pubkey"};
        json_t *pk = NULL;
        size_t found = 0;
        for (size_t i = 0; pk == NULL && i < 5; i++) {
            pk = pointer(p, paths[i]);
            found = i;
        }
        assert_int_equal(found, 3);
        json_t *sent = NULL;
        char canon[2048];
        guest_pubkey(key, &sent, canon);
        assert_true(json_equal(pk, sent)); /* kty, crv, alg, x, y as the guest sent them */
        json_decref(sent);
        json_t *submods = json_object_get(p, "submods");
        assert_int_equal(json_object_size(submods), 1);
        json_t *cpu0 = json_object_get(submods, "cpu0");
        json_t *ae = json_object_get(cpu0, "ear.veraison.annotated-evidence");
        assert_null(json_object_get(ae, "sample")); /* default.rego allows */
        assert_string_equal(json_string_value(json_object_get(cpu0, "ear.status")), "affirming");
        json_t *tv = json_object_get(cpu0, "ear.trustworthiness-vector");
        assert_int_equal(json_integer_value(json_object_get(tv, "hardware")), 2);
        assert_int_equal(json_integer_value(json_object_get(tv, "configuration")), 2);
        /* the claims under the TEE's KBS name, the runtime and init-data claims beside them */
        json_t *claims = json_object_get(ae, tee_str(tees[t]));
        assert_string_equal(json_string_value(json_object_get(claims, "tee")),
                            vt_tee_name(tees[t]));
        json_t *rd = json_object_get(ae, "runtime_data_claims");
        assert_string_equal(json_string_value(json_object_get(rd, "additional-evidence")), "");
        assert_non_null(json_string_value(json_object_get(rd, "nonce")));
        json_t *idc = pointer(p, "/submods/cpu0/ear.veraison.annotated-evidence/init_data_claims");
        assert_non_null(strstr(json_string_value(json_object_get(idc, "aa.toml")),
                               "https://veritee.example:8080"));
        uint8_t dg[48];
        vt_sha384(toml, strlen(toml), dg);
        char hex[129];
        vt_hex_encode(dg, tees[t] == VT_TEE_TDX ? 48 : 32, hex);
        assert_string_equal(json_string_value(json_object_get(ae, "init_data")), hex);
        assert_int_equal(strlen(json_string_value(json_object_get(ae, "report_data"))), 128);
        /* the Trustee KBS wraps its resource to that key: the guest unwraps it */
        char *pkj = json_dumps(pk, JSON_COMPACT);
        struct vt_jwk *tk = NULL;
        assert_int_equal(vt_jwk_parse(pkj, strlen(pkj), &tk, NULL), VT_OK);
        char *jwe = NULL;
        assert_int_equal(
            vt_jwe_encrypt(tk, (const uint8_t *)secret_text, strlen(secret_text), NULL, &jwe, NULL),
            VT_OK);
        char *parts[5];
        char *cur = jwe;
        for (int i = 0; i < 5; i++) {
            parts[i] = cur;
            cur = strchr(cur, '.');
            if (cur != NULL) {
                *cur++ = '\0';
            }
        }
        json_t *flat = json_pack("{s:s,s:s,s:s,s:s,s:s}", "protected", parts[0], "encrypted_key",
                                 parts[1], "iv", parts[2], "ciphertext", parts[3], "tag", parts[4]);
        size_t n = 0;
        const char *why = NULL;
        uint8_t *pt = kbs_guest_jwe_decrypt(flat, key, &n, &why);
        assert_non_null(pt);
        assert_memory_equal(pt, secret_text, n);
        free(pt);
        json_decref(flat);
        free(jwe);
        vt_jwk_free(tk);
        free(pkj);
        json_decref(p);
        /* this broker takes it back: cookie, Bearer, release policies on its claims */
        const char *path =
            t == 0 ? "/kbs/v0/resource/default/key/tdx" : "/kbs/v0/resource/default/key/snp";
        kcall(f, "GET", path, NULL, sid, NULL, &r);
        guest_decrypt(&r, key);
        kr_cleanup(&r);
        kcall(f, "GET", path, NULL, NULL, token, &r);
        guest_decrypt(&r, key);
        kr_cleanup(&r);
        kcall(f, "GET", "/kbs/v0/resource/default/key/deny", NULL, NULL, token, &r);
        expect_refusal(&r, 401, "PolicyDeny", "release-policy");
        kr_cleanup(&r);
        /* and its TEE is checked against the session's, as for this broker's own profile */
        set_session_tee(f, sid, t == 0 ? "sgx" : "tdx");
        kcall(f, "GET", path, NULL, NULL, token, &r);
        expect_refusal(&r, 401, "TokenVerifierError", "tee-mismatch");
        kr_cleanup(&r);
        free(token);
    }
    json_decref(jwks);
    bh_stop(f->h);
    f->h = saved;
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
        cmocka_unit_test(test_snp_flow_table),
        cmocka_unit_test(test_snp_flow_fetched_vcek),
        cmocka_unit_test(test_snp_rejects),
        cmocka_unit_test(test_snp_real_evidence),
        cmocka_unit_test(test_p521_flow),
        cmocka_unit_test(test_initdata_bound),
        cmocka_unit_test(test_initdata_refused),
        cmocka_unit_test(test_request_shapes),
        cmocka_unit_test(test_reattest_body_read_first),
        cmocka_unit_test(test_token_default_profile),
        cmocka_unit_test(test_token_trustee_profile),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
