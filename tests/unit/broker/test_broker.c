/*
 * The key broker end to end, in one process over real HTTP on 127.0.0.1 and a real SQLite store,
 * with fresh simulated evidence of each TEE (synthetic roots as trust anchors):
 * challenge -> attest -> release -> the client unwraps the secret, for SGX, TDX, SEV-SNP and
 * Nitro (JWE, and CMS for Nitro); every deny path with its status, reason id and no secret in the
 * body; the log (receipts, audit, a modified row detected); admin operations; keys at rest; and
 * the real fixtures through /v1/attest at their recorded time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker_harness.h"
#include "store/master_key.h"

/* The id of the all-zero master key, computed apart from our code: Python's
 * hmac.new(bytes(32), b"veritee master key id", hashlib.sha256).hexdigest()[:16] */
#define ZERO_KEY_ID "ba385c28d5ed5258"
#include "vt_fixtures.h"

static const char secret_text[] = "pepper: 7c1e-not-for-the-host-eyes-4b9a";
static const char secret_b64[] = "cGVwcGVyOiA3YzFlLW5vdC1mb3ItdGhlLWhvc3QtZXllcy00Yjlh";

struct fx {
    struct bh *h;
    struct vt_jwk *ec256, *ec384, *rsa;
};

static void put_key(struct bh *h, const char *name, const char *policy)
{
    char body[2048];
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"secret\":\"%s\"%s%s}", name, secret_b64,
             policy ? ",\"policy\":" : "", policy ? policy : "");
    long st = bh_call(h, "POST", "/admin/v1/keys", body, h->admin, NULL, NULL);
    assert_int_equal(st, 201);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->h = bh_start(vt_time_now(), "", 300, 600, NULL);
    assert_non_null(f->h);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_jwk_generate("P-256", &f->ec256, &d), VT_OK);
    assert_int_equal(vt_jwk_generate("P-384", &f->ec384, &d), VT_OK);
    assert_int_equal(vt_jwk_generate("RSA-2048", &f->rsa, &d), VT_OK);
    char pol[600];
    snprintf(pol, sizeof(pol),
             "{\"version\":1,\"rules\":{\"claim\":\"sgx.mrenclave\",\"equals\":\"%s\"}}",
             vt_bsim_measurement(f->h->sim, VT_TEE_SGX));
    put_key(f->h, "k-sgx", pol);
    snprintf(pol, sizeof(pol),
             "{\"version\":1,\"rules\":{\"claim\":\"tdx.mrtd\",\"equals\":\"%s\"}}",
             vt_bsim_measurement(f->h->sim, VT_TEE_TDX));
    put_key(f->h, "k-tdx", pol);
    put_key(f->h, "k-any", NULL);
    put_key(f->h, "k-off", NULL);
    assert_int_equal(
        bh_call(f->h, "POST", "/admin/v1/keys/k-off/disable", "", f->h->admin, NULL, NULL), 200);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    bh_stop(f->h);
    vt_jwk_free(f->ec256);
    vt_jwk_free(f->ec384);
    vt_jwk_free(f->rsa);
    free(f);
    return 0;
}

/* Attest: returns the status; *token (heap) on 200, *reason on failure. */
static long attest(struct fx *f, enum vt_tee tee, const struct vt_jwk *key, unsigned variant,
                   char **token, char reason[96])
{
    char nonce[64];
    uint8_t raw[32];
    assert_true(bh_challenge(f->h, nonce, raw));
    json_t *body = bh_attest_body(f->h, tee, nonce, raw, key, variant);
    assert_non_null(body);
    char *text = json_dumps(body, JSON_COMPACT);
    json_t *out = NULL;
    char *rawbody = NULL;
    long st = bh_call(f->h, "POST", "/v1/attest", text, NULL, &out, &rawbody);
    if (token != NULL) {
        const char *t = json_string_value(json_object_get(out, "token"));
        *token = t ? strdup(t) : NULL;
    }
    if (reason != NULL) {
        const char *r = json_string_value(json_object_get(out, "reason"));
        snprintf(reason, 96, "%s", r ? r : "");
    }
    assert_null(strstr(rawbody, secret_text));
    if (st != 200 && getenv("VT_TEST_VERBOSE") != NULL) {
        fprintf(stderr, "attest -> %ld %s\n", st, rawbody);
    }
    free(rawbody);
    json_decref(out);
    free(text);
    json_decref(body);
    return st;
}

/* Release with a token; checks the unwrapped secret on 200. */
static long release_token(struct fx *f, const char *name, const char *token,
                          const struct vt_jwk *key, char reason[96], uint32_t *version)
{
    char *pub = vt_jwk_public_json(key);
    char path[160], *body = NULL;
    snprintf(path, sizeof(path), "/v1/keys/%s/release", name);
    json_t *b = json_pack("{s:s,s:o}", "token", token, "runtime_key", json_loads(pub, 0, NULL));
    body = json_dumps(b, JSON_COMPACT);
    json_t *out = NULL;
    char *raw = NULL;
    long st = bh_call(f->h, "POST", path, body, NULL, &out, &raw);
    assert_null(strstr(raw, secret_text));
    assert_null(strstr(raw, secret_b64));
    if (st == 200) {
        const char *jwe = json_string_value(json_object_get(out, "jwe"));
        assert_non_null(jwe);
        struct vt_buf pt;
        vt_buf_init(&pt, 1 << 16);
        struct vt_diag d;
        vt_diag_init(&d);
        assert_int_equal(vt_jwe_decrypt(key, jwe, strlen(jwe), &pt, &d), VT_OK);
        assert_int_equal(pt.len, strlen(secret_text));
        assert_memory_equal(pt.data, secret_text, pt.len);
        vt_buf_cleanup(&pt);
        assert_non_null(json_object_get(out, "receipt"));
        if (version != NULL) {
            *version = (uint32_t)json_integer_value(json_object_get(out, "version"));
        }
    }
    if (reason != NULL) {
        const char *r = json_string_value(json_object_get(out, "reason"));
        snprintf(reason, 96, "%s", r ? r : "");
    }
    free(raw);
    json_decref(out);
    free(body);
    json_decref(b);
    free(pub);
    return st;
}

static bool row_text(void *ctx, const struct vt_sql_row *row)
{
    snprintf(ctx, 1024, "%s", vt_row_text(row, 0));
    return false;
}

/* The latest log entry's JSON text. */
static void last_entry(struct fx *f, char out[1024])
{
    struct vt_diag d;
    vt_diag_init(&d);
    out[0] = '\0';
    assert_int_equal(vt_store_exec(f->h->b->store,
                                   "SELECT entry FROM vb_log ORDER BY idx DESC LIMIT 1", NULL, 0,
                                   row_text, out, NULL, &d),
                     VT_OK);
    assert_non_null(strstr(out, "\"type\":\"release\""));
}

/* A string member of a log entry (static storage, two at a time). */
static const char *entry_field(const char *entry, const char *name)
{
    static char buf[2][128];
    static int which;
    char *out = buf[which++ % 2];
    json_t *o = json_loads(entry, 0, NULL);
    const char *v = json_string_value(json_object_get(o, name));
    snprintf(out, 128, "%s", v ? v : "(none)");
    json_decref(o);
    return out;
}

static void e2e(struct fx *f, enum vt_tee tee, const struct vt_jwk *key, const char *kname)
{
    char *token = NULL, reason[96];
    long st = attest(f, tee, key, 0, &token, reason);
    if (st != 200) {
        fail_msg("attest %d: %ld %s", (int)tee, st, reason);
    }
    assert_non_null(token);
    st = release_token(f, kname, token, key, reason, NULL);
    if (st != 200) {
        fail_msg("release %s: %ld %s", kname, st, reason);
    }
    char first[1024];
    last_entry(f, first);
    /* a token this process did not issue (here: forgotten) takes the full check: the same
     * decision and the same claims */
    assert_int_equal(vt_broker_tokens_forget(f->h->b), VT_OK);
    st = release_token(f, kname, token, key, reason, NULL);
    assert_int_equal(st, 200);
    char second[1024];
    last_entry(f, second);
    assert_string_equal(entry_field(first, "claims_sha256"), entry_field(second, "claims_sha256"));
    assert_string_equal(entry_field(first, "policy_sha256"), entry_field(second, "policy_sha256"));
    assert_string_equal(entry_field(first, "runtime_key_jkt"),
                        entry_field(second, "runtime_key_jkt"));
    st = release_token(f, "k-any", token, key, reason, NULL);
    assert_int_equal(st, 200);
    free(token);
}

static void test_sgx(void **state)
{
    struct fx *f = *state;
    e2e(f, VT_TEE_SGX, f->ec256, "k-sgx");
}

static void test_tdx(void **state)
{
    struct fx *f = *state;
    e2e(f, VT_TEE_TDX, f->rsa, "k-tdx");
}

static void test_snp(void **state)
{
    struct fx *f = *state;
    e2e(f, VT_TEE_SEV_SNP, f->ec384, "k-any");
}

static void test_nitro(void **state)
{
    struct fx *f = *state;
    e2e(f, VT_TEE_NITRO, f->rsa, "k-any");
}

/* Release with evidence in the request (no token), and the CMS form for a Nitro RSA key. */
static void test_release_with_evidence_and_cms(void **state)
{
    struct fx *f = *state;
    char nonce[64];
    uint8_t raw[32];
    assert_true(bh_challenge(f->h, nonce, raw));
    json_t *body = bh_attest_body(f->h, VT_TEE_NITRO, nonce, raw, f->rsa, 0);
    json_object_set_new(body, "format", json_string("cms"));
    char *text = json_dumps(body, JSON_COMPACT);
    json_t *out = NULL;
    long st = bh_call(f->h, "POST", "/v1/keys/k-any/release", text, NULL, &out, NULL);
    assert_int_equal(st, 200);
    const char *cms = json_string_value(json_object_get(out, "cms"));
    assert_non_null(cms);
    uint8_t der[8192];
    size_t n = 0;
    assert_int_equal(vt_base64_decode(cms, strlen(cms), false, der, sizeof(der), &n), VT_OK);
    struct vt_buf pem, pt;
    vt_buf_init(&pem, 16384);
    vt_buf_init(&pt, 4096);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_jwk_private_pem(f->rsa, &pem, &d), VT_OK);
    struct vt_key *rk = NULL;
    assert_int_equal(vt_key_from_rsa_private(pem.data, pem.len, &rk, &d), VT_OK);
    struct vt_cms_enveloped e;
    assert_int_equal(vt_cms_enveloped_parse(der, n, &e, &d), VT_OK);
    assert_int_equal(vt_cms_decrypt(&e, rk, &pt, &d), VT_OK);
    assert_int_equal(pt.len, strlen(secret_text));
    assert_memory_equal(pt.data, secret_text, pt.len);
    vt_cms_enveloped_cleanup(&e);
    vt_key_free(rk);
    vt_buf_cleanup(&pem);
    vt_buf_cleanup(&pt);
    json_decref(out);
    free(text);
    json_decref(body);
}

static void expect_attest(struct fx *f, enum vt_tee tee, unsigned variant, long want,
                          const char *want_reason)
{
    char reason[96];
    long st = attest(f, tee, f->ec256, variant, NULL, reason);
    if (st != want || strncmp(reason, want_reason, strlen(want_reason)) != 0) {
        fail_msg("tee %d variant %u: got %ld %s, want %ld %s", (int)tee, variant, st, reason, want,
                 want_reason);
    }
}

static void test_deny_attest(void **state)
{
    struct fx *f = *state;
    enum vt_tee tees[4] = {VT_TEE_SGX, VT_TEE_TDX, VT_TEE_SEV_SNP, VT_TEE_NITRO};
    for (size_t i = 0; i < 4; i++) {
        expect_attest(f, tees[i], VT_BSIM_DEBUG, 403, "attestation-policy:debug");
        expect_attest(f, tees[i], VT_BSIM_CORRUPT, 401, "evidence");
    }
}

static void test_deny_nonce_and_binding(void **state)
{
    struct fx *f = *state;
    char nonce[64];
    uint8_t raw[32];
    assert_true(bh_challenge(f->h, nonce, raw));
    json_t *body = bh_attest_body(f->h, VT_TEE_SGX, nonce, raw, f->ec256, 0);
    char *text = json_dumps(body, JSON_COMPACT);
    json_t *out = NULL;
    assert_int_equal(bh_call(f->h, "POST", "/v1/attest", text, NULL, NULL, NULL), 200);
    /* replayed */
    assert_int_equal(bh_call(f->h, "POST", "/v1/attest", text, NULL, &out, NULL), 401);
    assert_string_equal(json_string_value(json_object_get(out, "reason")), "nonce-replayed");
    json_decref(out);
    free(text);
    /* a nonce never issued */
    json_object_set_new(body, "nonce", json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    text = json_dumps(body, JSON_COMPACT);
    assert_int_equal(bh_call(f->h, "POST", "/v1/attest", text, NULL, &out, NULL), 401);
    assert_string_equal(json_string_value(json_object_get(out, "reason")), "nonce-unknown");
    json_decref(out);
    free(text);
    json_decref(body);
    /* wrong binding: evidence bound to another key than runtime_key */
    assert_true(bh_challenge(f->h, nonce, raw));
    body = bh_attest_body(f->h, VT_TEE_SGX, nonce, raw, f->ec384, 0);
    char *pub = vt_jwk_public_json(f->ec256);
    json_object_set_new(body, "runtime_key", json_loads(pub, 0, NULL));
    free(pub);
    text = json_dumps(body, JSON_COMPACT);
    assert_int_equal(bh_call(f->h, "POST", "/v1/attest", text, NULL, &out, NULL), 401);
    assert_string_equal(json_string_value(json_object_get(out, "reason")), "binding");
    json_decref(out);
    free(text);
    json_decref(body);
    /* Nitro: nonce bound to another nonce */
    uint8_t other[32];
    assert_true(bh_challenge(f->h, nonce, raw));
    memcpy(other, raw, 32);
    other[0] ^= 1;
    body = bh_attest_body(f->h, VT_TEE_NITRO, nonce, other, f->rsa, 0);
    text = json_dumps(body, JSON_COMPACT);
    assert_int_equal(bh_call(f->h, "POST", "/v1/attest", text, NULL, &out, NULL), 401);
    assert_string_equal(json_string_value(json_object_get(out, "reason")), "binding");
    json_decref(out);
    free(text);
    json_decref(body);
}

static void test_deny_release(void **state)
{
    struct fx *f = *state;
    char *token = NULL, reason[96];
    /* wrong measurement: attested (default policy), refused by the key's policy */
    assert_int_equal(attest(f, VT_TEE_SGX, f->ec256, VT_BSIM_OTHER_CODE, &token, reason), 200);
    assert_int_equal(release_token(f, "k-sgx", token, f->ec256, reason, NULL), 403);
    assert_string_equal(reason, "release-policy:rules");
    /* the right TEE for another key's policy */
    assert_int_equal(release_token(f, "k-tdx", token, f->ec256, reason, NULL), 403);
    free(token);
    assert_int_equal(attest(f, VT_TEE_SGX, f->ec256, 0, &token, reason), 200);
    assert_int_equal(release_token(f, "no-such-key", token, f->ec256, reason, NULL), 404);
    assert_string_equal(reason, "unknown-key");
    assert_int_equal(release_token(f, "k-off", token, f->ec256, reason, NULL), 403);
    assert_string_equal(reason, "key-disabled");
    /* the token names another runtime key */
    assert_int_equal(release_token(f, "k-any", token, f->ec384, reason, NULL), 401);
    assert_string_equal(reason, "token-binding");
    /* tampered token: one payload character changed */
    char *t = strdup(token);
    char *dot = strchr(t, '.');
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    assert_int_equal(release_token(f, "k-any", t, f->ec256, reason, NULL), 401);
    assert_string_equal(reason, "token");
    free(t);
    assert_int_equal(release_token(f, "k-any", "not.a.token", f->ec256, reason, NULL), 401);
    free(token);
    /* a token from another broker */
    struct fx g = {.h = bh_start(vt_time_now(), "", 300, 600, NULL)};
    assert_non_null(g.h);
    assert_int_equal(attest(&g, VT_TEE_SGX, f->ec256, 0, &token, reason), 200);
    assert_int_equal(release_token(f, "k-any", token, f->ec256, reason, NULL), 401);
    assert_string_equal(reason, "token");
    free(token);
    bh_stop(g.h);
}

static void test_deny_expiry_and_tcb(void **state)
{
    struct fx *f = *state;
    /* a broker with a three-second nonce and token life (one second was too short for the
     * attestation itself on a loaded machine under the sanitizers) */
    struct fx g = {.h = bh_start(vt_time_now(), "", 3, 3, NULL)};
    assert_non_null(g.h);
    char nonce[64], reason[96], *token = NULL;
    uint8_t raw[32];
    assert_true(bh_challenge(g.h, nonce, raw));
    json_t *body = bh_attest_body(g.h, VT_TEE_SGX, nonce, raw, f->ec256, 0);
    char *text = json_dumps(body, JSON_COMPACT);
    assert_int_equal(attest(&g, VT_TEE_SGX, f->ec256, 0, &token, reason), 200);
    sleep(4);
    json_t *out = NULL;
    assert_int_equal(bh_call(g.h, "POST", "/v1/attest", text, NULL, &out, NULL), 401);
    assert_string_equal(json_string_value(json_object_get(out, "reason")), "nonce-expired");
    json_decref(out);
    put_key(g.h, "k", NULL);
    assert_int_equal(release_token(&g, "k", token, f->ec256, reason, NULL), 401);
    assert_string_equal(reason, "token");
    free(token);
    free(text);
    json_decref(body);
    bh_stop(g.h);
    /* OutOfDate platform TCB: refused by the default attestation policy */
    g.h = bh_start(vt_time_now(), "sgx-ood", 300, 600, NULL);
    assert_non_null(g.h);
    assert_int_equal(attest(&g, VT_TEE_SGX, f->ec256, VT_BSIM_OUT_OF_DATE, NULL, reason), 403);
    assert_string_equal(reason, "attestation-policy:status");
    /* accepted once the operator's attestation policy accepts OutOfDate */
    assert_int_equal(bh_call(g.h, "PUT", "/admin/v1/policy",
                             "{\"version\":1,\"acceptStatus\":[\"UpToDate\",\"OutOfDate\"]}",
                             g.h->admin, NULL, NULL),
                     200);
    assert_int_equal(attest(&g, VT_TEE_SGX, f->ec256, VT_BSIM_OUT_OF_DATE, NULL, reason), 200);
    bh_stop(g.h);
}

static void test_bad_requests(void **state)
{
    struct fx *f = *state;
    json_t *out = NULL;
    assert_int_equal(bh_call(f->h, "POST", "/v1/attest", "not json", NULL, &out, NULL), 400);
    assert_string_equal(json_string_value(json_object_get(out, "reason")), "body");
    json_decref(out);
    assert_int_equal(bh_call(f->h, "POST", "/v1/attest", "{\"nonce\":\"x\"}", NULL, &out, NULL),
                     400);
    json_decref(out);
    char nonce[64];
    uint8_t raw[32];
    assert_true(bh_challenge(f->h, nonce, raw));
    json_t *body = bh_attest_body(f->h, VT_TEE_SGX, nonce, raw, f->ec256, 0);
    json_object_set_new(body, "runtime_key", json_pack("{s:s,s:s}", "kty", "EC", "crv", "P-999"));
    char *text = json_dumps(body, JSON_COMPACT);
    assert_int_equal(bh_call(f->h, "POST", "/v1/attest", text, NULL, &out, NULL), 400);
    assert_string_equal(json_string_value(json_object_get(out, "reason")), "runtime-key");
    json_decref(out);
    free(text);
    json_decref(body);
    /* every typed field of the attest, release and key bodies: missing or mistyped is a 400
     * whose reason names the field and whose detail names its JSON path */
    static const struct {
        const char *method, *path, *body;
        bool admin;
        const char *reason, *detail;
    } cases[] = {
        {"POST", "/v1/attest", "{\"nonce\":\"x\"}", false, "evidence",
         "$.evidence: required field is missing"},
        {"POST", "/v1/attest", "{\"evidence\":5}", false, "evidence",
         "$.evidence: expected a string, got a number"},
        {"POST", "/v1/attest", "{\"evidence\":null}", false, "evidence",
         "$.evidence: expected a string, got null"},
        {"POST", "/v1/attest", "{\"evidence\":\"!!\"}", false, "evidence",
         "$.evidence: expected base64, got a string of 2 characters that does not decode"},
        {"POST", "/v1/attest", "{\"evidence\":\"AAAA\",\"vcek\":[]}", false, "vcek",
         "$.vcek: expected a string, got an array"},
        {"POST", "/v1/attest", "{\"evidence\":\"AAAA\",\"vcek\":\"*\"}", false, "vcek",
         "$.vcek: expected base64, got a string of 1 characters that does not decode"},
        {"POST", "/v1/attest", "{\"evidence\":\"AAAA\",\"nonce\":7}", false, "nonce-malformed",
         "$.nonce: expected a string, got a number"},
        {"POST", "/v1/attest", "{\"evidence\":\"AAAA\",\"runtime_key\":true}", false, "runtime-key",
         "$.runtime_key: expected an object (a JWK) or a string (its JSON text), got a boolean"},
        {"POST", "/v1/keys/k-any/release", "{\"token\":1}", false, "token",
         "$.token: expected a string, got a number"},
        {"POST", "/v1/keys/k-any/release", "{\"token\":\"t\",\"format\":{}}", false, "format",
         "$.format: expected a string, got an object"},
        {"POST", "/v1/keys/k-any/release", "{\"format\":\"cms\"}", false, "evidence",
         "$.evidence: required field is missing"},
        {"POST", "/admin/v1/keys", "{}", true, "name", "$.name: required field is missing"},
        {"POST", "/admin/v1/keys", "{\"name\":[\"k\"]}", true, "name",
         "$.name: expected a string, got an array"},
        {"POST", "/admin/v1/keys", "{\"name\":\"k-new\",\"secret\":3}", true, "secret",
         "$.secret: expected a string, got a number"},
        {"POST", "/admin/v1/keys", "{\"name\":\"k-new\",\"secret\":\"#\"}", true, "secret",
         "$.secret: expected base64, got a string of 1 characters that does not decode"},
        {"POST", "/admin/v1/keys", "{\"name\":\"k-new\",\"generate\":\"32\"}", true, "generate",
         "$.generate: expected an integer, got a string"},
        {"POST", "/admin/v1/keys", "{\"name\":\"k-new\",\"generate\":32,\"policy\":\"p\"}", true,
         "policy", "$.policy: expected an object, got a string"},
        {"POST", "/admin/v1/keys/k-any/versions", "{\"generate\":true}", true, "generate",
         "$.generate: expected an integer, got a boolean"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long st = bh_call(f->h, cases[i].method, cases[i].path, cases[i].body,
                          cases[i].admin ? f->h->admin : NULL, &out, NULL);
        const char *reason = json_string_value(json_object_get(out, "reason"));
        const char *detail = json_string_value(json_object_get(out, "detail"));
        if (st != 400 || reason == NULL || strcmp(reason, cases[i].reason) != 0 || detail == NULL ||
            strcmp(detail, cases[i].detail) != 0) {
            fail_msg("%s %s %s: got %ld %s / %s, want 400 %s / %s", cases[i].method, cases[i].path,
                     cases[i].body, st, reason ? reason : "-", detail ? detail : "-",
                     cases[i].reason, cases[i].detail);
        }
        json_decref(out);
        out = NULL;
    }
    /* no key was created by a refused request */
    assert_int_equal(
        bh_call(f->h, "POST", "/admin/v1/keys/k-new/disable", "", f->h->admin, NULL, NULL), 404);
    /* an unknown path is 404; a known one with another method 405 (with Allow) */
    assert_int_equal(bh_call(f->h, "GET", "/v1/nothing", NULL, NULL, NULL, NULL), 404);
    assert_int_equal(bh_call(f->h, "POST", "/v1/keys/k-any/open", "{}", NULL, NULL, NULL), 404);
    assert_int_equal(bh_call(f->h, "GET", "/v1/attest", NULL, NULL, NULL, NULL), 405);
}

static int64_t log_rows(const struct bh *h)
{
    int64_t n = -1;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_store_exec(h->b->store, "SELECT COUNT(*) FROM vb_log", NULL, 0,
                                   vt_store_row_int, &n, NULL, &d),
                     VT_OK);
    return n;
}

/* The value of veritee_broker_<name> on /metrics (-1 if absent). */
static long long metric(const struct bh *h, const char *name)
{
    char *m = NULL;
    if (bh_call(h, "GET", "/metrics", NULL, NULL, NULL, &m) != 200) {
        free(m);
        return -1;
    }
    char want[256];
    snprintf(want, sizeof(want), "\nveritee_broker_%s ", name);
    const char *p = strstr(m, want);
    long long v = p ? strtoll(p + strlen(want), NULL, 10) : -1;
    free(m);
    return v;
}

/* A request that fails before its evidence is even parsed writes no log entry and spends no
 * nonce; the metrics count it instead. */
static void test_unparsed_not_logged(void **state)
{
    struct fx *f = *state;
    int64_t before = log_rows(f->h);
    long long m_ev =
        metric(f->h, "refusals_unlogged_total{endpoint=\"attest\",reason=\"evidence\"}");
    long long m_req =
        metric(f->h, "refusals_unlogged_total{endpoint=\"attest\",reason=\"request\"}");
    long long m_rel =
        metric(f->h, "refusals_unlogged_total{endpoint=\"release\",reason=\"evidence\"}");
    char nonce[64];
    uint8_t raw[32];
    assert_true(bh_challenge(f->h, nonce, raw));
    json_t *good = bh_attest_body(f->h, VT_TEE_TDX, nonce, raw, f->ec256, 0);
    const char *ev = json_string_value(json_object_get(good, "evidence"));
    /* evidence in no known format, a truncated quote (its header is a TDX quote's), an SNP-sized
     * report with a bad version, bytes that are not base64 */
    char truncated[801];
    snprintf(truncated, sizeof(truncated), "%.800s", ev);
    char snp_like[1600];
    uint8_t rep[1184];
    memset(rep, 0, sizeof(rep));
    rep[0] = 9;
    rep[0x34] = 1;
    assert_int_equal(vt_base64_encode(rep, sizeof(rep), false, snp_like, sizeof(snp_like)), VT_OK);
    const char *junk[] = {"AAAAAAAAAAAAAAAAAAAAAAAAAAAA", truncated, snp_like};
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        json_t *b = json_deep_copy(good);
        json_object_set_new(b, "evidence", json_string(junk[i]));
        char *text = json_dumps(b, JSON_COMPACT);
        json_t *out = NULL;
        long st = bh_call(f->h, "POST", "/v1/attest", text, NULL, &out, NULL);
        const char *reason = json_string_value(json_object_get(out, "reason"));
        if (st != 400 || reason == NULL || strcmp(reason, "evidence-format") != 0) {
            fail_msg("junk %zu: %ld %s", i, st, reason ? reason : "");
        }
        /* the evidence release path refuses it the same way */
        assert_int_equal(bh_call(f->h, "POST", "/v1/keys/k-any/release", text, NULL, NULL, NULL),
                         400);
        json_decref(out);
        json_decref(b);
        free(text);
    }
    const char *bodies[] = {"not json", "{\"nonce\":\"x\"}", "{\"evidence\":\"!!!\"}", "[]"};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_int_equal(bh_call(f->h, "POST", "/v1/attest", bodies[i], NULL, NULL, NULL), 400);
        assert_int_equal(
            bh_call(f->h, "POST", "/v1/keys/k-any/release", bodies[i], NULL, NULL, NULL), 400);
    }
    assert_int_equal(log_rows(f->h), before);
    /* the nonce was not spent: the real evidence still attests with it */
    char *text = json_dumps(good, JSON_COMPACT);
    assert_int_equal(bh_call(f->h, "POST", "/v1/attest", text, NULL, NULL, NULL), 200);
    assert_int_equal(log_rows(f->h), before + 1);
    free(text);
    json_decref(good);
    /* counted on /metrics instead */
    assert_int_equal(
        metric(f->h, "refusals_unlogged_total{endpoint=\"attest\",reason=\"evidence\"}"), m_ev + 3);
    assert_int_equal(
        metric(f->h, "refusals_unlogged_total{endpoint=\"attest\",reason=\"request\"}"), m_req + 4);
    assert_int_equal(
        metric(f->h, "refusals_unlogged_total{endpoint=\"release\",reason=\"evidence\"}"),
        m_rel + 3);
}

/* A labelled series of /metrics, absent counting as 0. */
static long long series(const struct bh *h, const char *name)
{
    long long v = metric(h, name);
    return v < 0 ? 0 : v;
}

/* Attestations and releases are counted by TEE, decision and reason class, and timed. */
static void test_outcome_metrics(void **state)
{
    struct fx *f = *state;
    static const char *const names[] = {
        "attestations_total{tee=\"sgx\",decision=\"allow\",reason=\"none\"}",
        "attestations_total{tee=\"sgx\",decision=\"deny\",reason=\"binding\"}",
        "attestations_total{tee=\"nitro\",decision=\"deny\",reason=\"policy\"}",
        "attestations_total{tee=\"sev-snp\",decision=\"deny\",reason=\"evidence\"}",
        "releases_total{tee=\"sgx\",decision=\"deny\",reason=\"key\"}",
        "releases_total{tee=\"none\",decision=\"deny\",reason=\"token\"}",
        "attest_duration_seconds_count{tee=\"sgx\"}",
        "attest_duration_seconds_bucket{tee=\"sgx\",le=\"+Inf\"}",
        "release_duration_seconds_count{tee=\"sgx\"}",
    };
    enum { N = sizeof(names) / sizeof(names[0]) };
    static const long long want[N] = {1, 1, 1, 1, 1, 1, 2, 2, 1};
    long long before[N];
    for (size_t i = 0; i < N; i++) {
        before[i] = series(f->h, names[i]);
    }
    /* SGX evidence bound to another key than runtime_key */
    char nonce[64];
    uint8_t raw[32];
    assert_true(bh_challenge(f->h, nonce, raw));
    json_t *body = bh_attest_body(f->h, VT_TEE_SGX, nonce, raw, f->ec384, 0);
    char *pub = vt_jwk_public_json(f->ec256);
    json_object_set_new(body, "runtime_key", json_loads(pub, 0, NULL));
    free(pub);
    char *text = json_dumps(body, JSON_COMPACT);
    assert_int_equal(bh_call(f->h, "POST", "/v1/attest", text, NULL, NULL, NULL), 401);
    free(text);
    json_decref(body);
    expect_attest(f, VT_TEE_NITRO, VT_BSIM_DEBUG, 403, "attestation-policy:debug");
    expect_attest(f, VT_TEE_SEV_SNP, VT_BSIM_CORRUPT, 401, "evidence");
    char *token = NULL, reason[96];
    assert_int_equal(attest(f, VT_TEE_SGX, f->ec256, 0, &token, reason), 200);
    assert_int_equal(release_token(f, "no-such-key", token, f->ec256, reason, NULL), 404);
    assert_int_equal(release_token(f, "k-any", "not.a.token", f->ec256, reason, NULL), 401);
    free(token);
    for (size_t i = 0; i < N; i++) {
        long long got = series(f->h, names[i]);
        if (got != before[i] + want[i]) {
            fail_msg("%s: %lld, expected %lld", names[i], got, before[i] + want[i]);
        }
    }
    /* the table and log gauges read the store */
    assert_int_equal(metric(f->h, "log_size"), log_rows(f->h));
    assert_int_equal(metric(f->h, "log_checkpoint_size"), log_rows(f->h));
    assert_true(metric(f->h, "table_rows{table=\"nonces\"}") >= 1);
}

/* No collateral now is not a verdict on the evidence: 503 with Retry-After, no log entry, and the
 * nonce given back so the same request succeeds once the collateral can be had. */
static void test_collateral_unavailable(void **state)
{
    struct fx *f = *state;
    char url[64];
    struct vt_http_server *up = bh_down_source(url);
    assert_non_null(up);
    struct vt_broker_config over = {.collateral = url};
    struct bh *h = bh_start_cfg(vt_time_now(), "", 300, 600, NULL, NULL, &over);
    assert_non_null(h);
    char nonce[64];
    uint8_t raw[32];
    assert_true(bh_challenge(h, nonce, raw));
    json_t *body = bh_attest_body(h, VT_TEE_TDX, nonce, raw, f->ec256, 0);
    char *text = json_dumps(body, JSON_COMPACT);
    for (int i = 0; i < 2; i++) { /* twice: the first did not spend the nonce */
        json_t *out = NULL;
        char *raw_out = NULL;
        long st = bh_call(h, "POST", "/v1/attest", text, NULL, &out, &raw_out);
        const char *reason = json_string_value(json_object_get(out, "reason"));
        if (st != 503 || reason == NULL || strcmp(reason, "collateral-unavailable") != 0) {
            fail_msg("attempt %d: %ld %s", i, st, raw_out ? raw_out : "");
        }
        json_decref(out);
        free(raw_out);
    }
    assert_int_equal(log_rows(h), 0);
    assert_int_equal(
        metric(h, "refusals_unlogged_total{endpoint=\"attest\",reason=\"collateral\"}"), 2);
    free(text);
    json_decref(body);
    bh_stop(h);
    vt_http_server_stop(up);
}

static void test_admin(void **state)
{
    struct fx *f = *state;
    json_t *out = NULL;
    assert_int_equal(bh_call(f->h, "GET", "/admin/v1/keys", NULL, NULL, NULL, NULL), 401);
    assert_int_equal(bh_call(f->h, "GET", "/admin/v1/keys", NULL, "vt_wrong", NULL, NULL), 401);
    char *raw = NULL;
    assert_int_equal(bh_call(f->h, "GET", "/admin/v1/keys", NULL, f->h->admin, NULL, &raw), 200);
    assert_non_null(strstr(raw, "\"k-sgx\""));
    assert_null(strstr(raw, secret_b64));
    free(raw);
    /* a policy naming an unknown claim is refused with its JSON path */
    assert_int_equal(bh_call(f->h, "PUT", "/admin/v1/keys/k-any/policy",
                             "{\"version\":1,\"rules\":{\"allOf\":[{\"claim\":\"sgx.mrenclav\","
                             "\"exists\":true}]}}",
                             f->h->admin, &out, &raw),
                     400);
    assert_non_null(strstr(raw, "rules.allOf[0].claim"));
    free(raw);
    json_decref(out);
    /* a new version (rotation) is what releases return */
    assert_int_equal(bh_call(f->h, "POST", "/admin/v1/keys/k-any/versions", "{\"generate\":32}",
                             f->h->admin, &out, NULL),
                     201);
    assert_int_equal(json_integer_value(json_object_get(out, "version")), 2);
    json_decref(out);
    /* the list gives every version (number, created, current, disabled), never a secret */
    assert_int_equal(
        bh_call(f->h, "POST", "/admin/v1/keys/k-any/disable", "", f->h->admin, NULL, NULL), 200);
    assert_int_equal(bh_call(f->h, "GET", "/admin/v1/keys", NULL, f->h->admin, &out, &raw), 200);
    assert_null(strstr(raw, secret_b64));
    assert_null(strstr(raw, "\"dek\""));
    assert_null(strstr(raw, "\"secret\""));
    free(raw);
    json_t *k_any = NULL, *k_sgx = NULL, *k;
    size_t ki;
    json_array_foreach(out, ki, k)
    {
        const char *n = json_string_value(json_object_get(k, "name"));
        k_any = strcmp(n, "k-any") == 0 ? k : k_any;
        k_sgx = strcmp(n, "k-sgx") == 0 ? k : k_sgx;
    }
    assert_non_null(k_any);
    json_t *vs = json_object_get(k_any, "versions");
    assert_int_equal(json_array_size(vs), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_array_get(vs, i);
        assert_int_equal(json_integer_value(json_object_get(v, "version")), (json_int_t)i + 1);
        assert_true(json_integer_value(json_object_get(v, "created")) > 0);
        assert_int_equal(json_is_true(json_object_get(v, "current")), i == 1);
        assert_true(json_is_true(json_object_get(v, "disabled")));
        assert_int_equal(json_object_size(v), 4); /* nothing else: no secret, no data key */
    }
    assert_non_null(k_sgx);
    vs = json_object_get(k_sgx, "versions");
    assert_int_equal(json_array_size(vs), 1);
    assert_true(json_is_true(json_object_get(json_array_get(vs, 0), "current")));
    assert_true(json_is_false(json_object_get(json_array_get(vs, 0), "disabled")));
    json_decref(out);
    assert_int_equal(
        bh_call(f->h, "POST", "/admin/v1/keys/k-any/enable", "", f->h->admin, NULL, NULL), 200);
    char *token = NULL, reason[96];
    assert_int_equal(attest(f, VT_TEE_SGX, f->ec256, 0, &token, reason), 200);
    /* signing-key rotation: the old token stays valid, both keys are published */
    assert_int_equal(
        bh_call(f->h, "POST", "/admin/v1/signing-keys/rotate", "", f->h->admin, NULL, NULL), 200);
    assert_int_equal(bh_call(f->h, "GET", "/.well-known/jwks.json", NULL, NULL, &out, NULL), 200);
    assert_true(json_array_size(json_object_get(out, "keys")) >= 2);
    json_decref(out);
    assert_int_equal(release_token(f, "k-sgx", token, f->ec256, reason, NULL), 200);
    free(token);
    /* back to the text secret for the other tests */
    char body[256];
    snprintf(body, sizeof(body), "{\"secret\":\"%s\"}", secret_b64);
    assert_int_equal(
        bh_call(f->h, "POST", "/admin/v1/keys/k-any/versions", body, f->h->admin, NULL, NULL), 201);
}

static void test_log_and_audit(void **state)
{
    struct fx *f = *state;
    char *token = NULL, reason[96];
    assert_int_equal(attest(f, VT_TEE_SGX, f->ec256, 0, &token, reason), 200);
    /* a release's receipt verifies offline with the JWKS key it names */
    char *pub = vt_jwk_public_json(f->ec256);
    json_t *b = json_pack("{s:s,s:o}", "token", token, "runtime_key", json_loads(pub, 0, NULL));
    char *body = json_dumps(b, JSON_COMPACT);
    json_t *out = NULL, *jwks = NULL;
    assert_int_equal(bh_call(f->h, "POST", "/v1/keys/k-sgx/release", body, NULL, &out, NULL), 200);
    assert_int_equal(bh_call(f->h, "GET", "/.well-known/jwks.json", NULL, NULL, &jwks, NULL), 200);
    json_t *receipt = json_object_get(out, "receipt");
    const char *kid = json_string_value(json_object_get(out, "receipt_kid"));
    assert_non_null(kid);
    uint8_t xy[64];
    bool found = false;
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(jwks, "keys"), i, k)
    {
        if (strcmp(json_string_value(json_object_get(k, "kid")), kid) == 0) {
            char *one = json_dumps(k, JSON_COMPACT);
            struct vt_jwk *jk = NULL;
            struct vt_diag d;
            vt_diag_init(&d);
            assert_int_equal(vt_jwk_parse(one, strlen(one), &jk, &d), VT_OK);
            assert_int_equal(vt_jwk_p256_xy(jk, xy, &d), VT_OK);
            vt_jwk_free(jk);
            free(one);
            found = true;
        }
    }
    assert_true(found);
    char *rtext = json_dumps(receipt, JSON_COMPACT);
    struct vt_receipt_info info;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_receipt_verify(rtext, strlen(rtext), xy, &info, &d), VT_OK);
    free(rtext);
    json_decref(jwks);
    json_decref(out);
    free(body);
    json_decref(b);
    free(pub);
    free(token);
    /* the admin log explains denials; the public error did not */
    char *raw = NULL;
    assert_int_equal(
        bh_call(f->h, "GET", "/admin/v1/log?explain=1&limit=1000", NULL, f->h->admin, NULL, &raw),
        200);
    assert_non_null(strstr(raw, "\"decision\":\"deny\""));
    assert_non_null(strstr(raw, "\"explanation\""));
    assert_null(strstr(raw, secret_text));
    free(raw);
    /* a monitor's view: the latest checkpoint is consistent with the tree of size 1, whose root
     * is the first entry's leaf hash */
    json_t *cpj = NULL, *first = NULL, *cons = NULL;
    assert_int_equal(bh_call(f->h, "GET", "/v1/log/checkpoint", NULL, NULL, &cpj, NULL), 200);
    const char *cpbody = json_string_value(json_object_get(cpj, "body"));
    struct vt_checkpoint latest;
    assert_int_equal(vt_checkpoint_parse(cpbody, strlen(cpbody), &latest, &d), VT_OK);
    assert_true(latest.size > 2);
    assert_int_equal(
        bh_call(f->h, "GET", "/admin/v1/log?start=0&limit=1", NULL, f->h->admin, &first, NULL),
        200);
    char *entry0 = json_dumps(json_object_get(json_array_get(first, 0), "entry"),
                              JSON_COMPACT | JSON_SORT_KEYS);
    uint8_t root1[32];
    vt_merkle_leaf_hash(entry0, strlen(entry0), root1);
    char cpath[96];
    snprintf(cpath, sizeof(cpath), "/v1/log/consistency?old=1&new=%llu",
             (unsigned long long)latest.size);
    assert_int_equal(bh_call(f->h, "GET", cpath, NULL, NULL, &cons, NULL), 200);
    json_t *hashes = json_object_get(cons, "consistency");
    size_t np = json_array_size(hashes);
    uint8_t(*proof)[32] = calloc(np ? np : 1, 32);
    for (size_t j = 0; j < np; j++) {
        const char *h = json_string_value(json_array_get(hashes, j));
        assert_int_equal(vt_hex_decode_exact(h, strlen(h), proof[j], 32), VT_OK);
    }
    assert_int_equal(vt_merkle_verify_consistency(1, latest.size, root1, latest.root,
                                                  (const uint8_t(*)[32])proof, np, &d),
                     VT_OK);
    proof[0][0] ^= 1;
    assert_int_not_equal(vt_merkle_verify_consistency(1, latest.size, root1, latest.root,
                                                      (const uint8_t(*)[32])proof, np, &d),
                         VT_OK);
    assert_int_equal(
        bh_call(f->h, "GET", "/v1/log/consistency?old=5&new=2", NULL, NULL, NULL, NULL), 400);
    free(proof);
    free(entry0);
    json_decref(cons);
    json_decref(first);
    json_decref(cpj);
    /* audit: the whole log verifies; a modified row is detected */
    uint64_t n = 0, cp = 0;
    assert_int_equal(vt_broker_audit_verify(f->h->b, &n, &cp, &d), VT_OK);
    assert_true(n > 10 && cp == n);
    assert_int_equal(vt_store_exec(f->h->b->store,
                                   "UPDATE vb_log SET entry = replace(entry, '\"deny\"',"
                                   " '\"allow\"') WHERE idx = (SELECT MIN(idx) FROM vb_log"
                                   " WHERE entry LIKE '%\"deny\"%')",
                                   NULL, 0, NULL, NULL, NULL, &d),
                     VT_OK);
    vt_diag_init(&d);
    assert_int_equal(vt_broker_audit_verify(f->h->b, &n, &cp, &d), VT_E_INTEGRITY);
    assert_string_equal(d.check, "log.entry");
}

static void test_at_rest(void **state)
{
    (void)state;
    struct bh *h = bh_start(vt_time_now(), "", 300, 600, NULL);
    assert_non_null(h);
    put_key(h, "rest", NULL);
    /* no plaintext in the database file */
    char path[128];
    snprintf(path, sizeof(path), "%s/broker.db", h->dir);
    size_t n = 0;
    uint8_t *db = vt_test_read_file(path, &n);
    assert_non_null(db);
    size_t sl = strlen(secret_text);
    for (size_t i = 0; i + sl <= n; i++) {
        assert_false(memcmp(db + i, secret_text, sl) == 0);
    }
    free(db);
    /* the wrong master key cannot open it; a re-wrapped store opens with the new key only */
    char url[160];
    snprintf(url, sizeof(url), "sqlite:%s/broker.db", h->dir);
    struct vt_broker_config cfg = {.db = url};
    memset(cfg.master_key, 0x43, 32);
    struct vt_broker *b = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_broker_open(&cfg, &b, &d), VT_E_ARG);
    assert_string_equal(d.check, "master_key");
    /* the refusal names the key given and the key the database needs, by id */
    uint8_t k42[32];
    memset(k42, 0x42, 32);
    char id42[VT_MASTER_KEY_ID_LEN + 1], id43[VT_MASTER_KEY_ID_LEN + 1], want[96];
    vt_master_key_id(k42, id42);
    vt_master_key_id(cfg.master_key, id43);
    assert_int_equal(strlen(id42), VT_MASTER_KEY_ID_LEN);
    assert_string_not_equal(id42, id43);
    snprintf(want, sizeof(want), "master key given (id %s)", id43);
    assert_non_null(strstr(d.detail, want));
    snprintf(want, sizeof(want), "records master key id %s", id42);
    assert_non_null(strstr(d.detail, want));
    /* the ids are stable: the first 8 bytes of HMAC-SHA-256(key, "veritee master key id") */
    uint8_t zero[32] = {0};
    char id0[VT_MASTER_KEY_ID_LEN + 1];
    vt_master_key_id(zero, id0);
    assert_string_equal(id0, ZERO_KEY_ID);
    uint8_t nk[32];
    memset(nk, 0x43, 32);
    size_t count = 0;
    assert_int_equal(vt_broker_rewrap(h->b, nk, NULL, 0, &count, &d), VT_OK);
    assert_true(count >= 2); /* the data key and the signing key */
    assert_int_equal(vt_broker_open(&cfg, &b, &d), VT_OK);
    /* rewrap recorded the new key's id */
    char stored[VT_MASTER_KEY_ID_LEN + 1];
    assert_int_equal(vt_master_key_id_stored(b->store, stored, &d), VT_OK);
    assert_string_equal(stored, id43);
    size_t versions = 0;
    assert_int_equal(vt_broker_keys_check(b, NULL, 0, &versions, &d), VT_OK);
    assert_int_equal(versions, 1);
    uint8_t *secret = NULL;
    size_t len = 0;
    uint32_t version = 0;
    char *policy = NULL;
    bool disabled = true;
    assert_int_equal(vt_broker_key_open(b, "rest", &secret, &len, &version, &policy, &disabled, &d),
                     VT_OK);
    assert_int_equal(len, strlen(secret_text));
    assert_memory_equal(secret, secret_text, len);
    vt_broker_secret_free(secret, len);
    free(policy);
    vt_broker_close(b);
    memset(cfg.master_key, 0x42, 32);
    assert_int_equal(vt_broker_open(&cfg, &b, &d), VT_E_ARG);
    bh_stop(h);
}

/* Real evidence through /v1/attest at its recorded time: the verification passes, and the
 * binding to our nonce (which real evidence cannot carry) is what refuses it; a corrupted copy
 * is refused by the verifier. */
static void test_real_fixtures(void **state)
{
    struct fx *f = *state;
    const char *fx = vt_fixtures_or_skip();
    if (fx == NULL) {
        skip();
    }
    char dir[512], qpath[600];
    snprintf(dir, sizeof(dir), "%s/dcap/automata-dcap-attestation/tdx-v5-fmspc90c06f000000-alibaba",
             fx);
    snprintf(qpath, sizeof(qpath), "%s/quote.bin", dir);
    size_t n = 0;
    uint8_t *quote = vt_test_read_file(qpath, &n);
    assert_non_null(quote);
    char db[160];
    snprintf(db, sizeof(db), "sqlite:%s/fixtures.db", f->h->dir);
    struct vt_broker_config cfg = {.db = db, .collateral = dir, .clock_base = 1749945600};
    memset(cfg.master_key, 7, 32);
    struct vt_broker *b = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_broker_open(&cfg, &b, &d), VT_OK);
    char nonce[64];
    vt_time exp;
    struct vt_broker_denial den;
    assert_true(vt_broker_challenge(b, nonce, &exp, &den));
    char *pub = vt_jwk_public_json(f->ec256);
    struct vt_broker_attest_req q = {
        .evidence = quote, .evidence_len = n, .nonce = nonce, .runtime_key = pub};
    struct vt_broker_attest_res r;
    assert_false(vt_broker_attest(b, &q, &r, &den));
    assert_string_equal(den.reason, "binding");
    quote[n - 100] ^= 1; /* in the signature data */
    assert_true(vt_broker_challenge(b, nonce, &exp, &den));
    assert_false(vt_broker_attest(b, &q, &r, &den));
    assert_string_equal(den.reason, "evidence");
    free(pub);
    free(quote);
    vt_broker_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgx),
        cmocka_unit_test(test_tdx),
        cmocka_unit_test(test_snp),
        cmocka_unit_test(test_nitro),
        cmocka_unit_test(test_release_with_evidence_and_cms),
        cmocka_unit_test(test_deny_attest),
        cmocka_unit_test(test_deny_nonce_and_binding),
        cmocka_unit_test(test_deny_release),
        cmocka_unit_test(test_deny_expiry_and_tcb),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_unparsed_not_logged),
        cmocka_unit_test(test_collateral_unavailable),
        cmocka_unit_test(test_outcome_metrics),
        cmocka_unit_test(test_admin),
        cmocka_unit_test(test_log_and_audit),
        cmocka_unit_test(test_at_rest),
        cmocka_unit_test(test_real_fixtures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
