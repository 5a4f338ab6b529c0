/*
 * AWS Signature Version 4 (src/kms/sigv4.c): known answers from an independent implementation
 * (botocore's SigV4Auth and SigV4QueryAuth, run at test time by tests/support/sigv4_vectors.py:
 * every request verifies, and vt_sigv4_sign writes botocore's Authorization value), canonical
 * requests written out by hand here and signed with the raw HMAC chain, and every refusal with
 * its AWS error type, error code and check: no signature, each malformed part of the header and
 * the query form, the algorithm, the credential and its scope (date, region, service,
 * terminator), the signed-header rules, the clock both ways, an expired presigned request, the
 * payload hash, an unknown key, each bit of the signature, a changed header, body, method, path
 * or query; and the bounds of what is read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/encoding.h"
#include "crypto/crypto.h"
#include "kms/sigv4.h"
#include "vt_fixtures.h"
#include "vt_proc.h"

#ifndef VT_SIGV4_VECTORS_PY
#define VT_SIGV4_VECTORS_PY "tests/support/sigv4_vectors.py"
#endif

#define AKID "AKIDVERITEETEST0001"
#define SECRET "vtTestSecret/0123+abcdefghijklmnopQRSTUVwx"
#define PRINCIPAL "arn:aws:iam::111122223333:user/test"
#define T0 ((vt_time)1752919277) /* 2025-07-19T10:01:17Z */
#define T0_AMZ "20250719T100117Z"
#define HOST "kms.us-east-1.amazonaws.com"
#define BODY "{\"KeyId\":\"alias/app\",\"Plaintext\":\"aGVsbG8=\"}"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- keys ---- */

struct key {
    const char *akid, *secret, *principal;
};

static const struct key KEYS[] = {
    {AKID, SECRET, PRINCIPAL},
    {"AKIDOTHER", "another secret", "arn:aws:iam::111122223333:user/other"},
};

static int lookups;

static bool lookup(void *ctx, const char *akid, char secret[VT_SIGV4_SECRET_MAX], char *principal,
                   size_t cap)
{
    (void)ctx;
    lookups++;
    for (size_t i = 0; i < sizeof(KEYS) / sizeof(KEYS[0]); i++) {
        if (strcmp(KEYS[i].akid, akid) == 0) {
            snprintf(secret, VT_SIGV4_SECRET_MAX, "%s", KEYS[i].secret);
            snprintf(principal, cap, "%s", KEYS[i].principal);
            return true;
        }
    }
    return false;
}

static struct vt_sigv4_expect expect_at(vt_time now)
{
    struct vt_sigv4_expect e;
    memset(&e, 0, sizeof(e));
    e.service = "kms";
    e.now = now;
    e.secret = lookup;
    return e;
}

/* ---- requests ---- */

#define MAXH 80

/* A request under construction; names and values are borrowed (literals or the buffers here). */
struct treq {
    struct vt_sigv4_request req;
    struct vt_sigv4_header h[MAXH];
    char auth[1024];
    char date[17];
};

static void treq_init(struct treq *t, const char *method, const char *path, const char *query,
                      const char *body)
{
    memset(t, 0, sizeof(*t));
    t->req.method = method;
    t->req.path = path;
    t->req.query = query;
    t->req.headers = t->h;
    t->req.body = (const uint8_t *)body;
    t->req.body_len = body != NULL ? strlen(body) : 0;
}

static void treq_add(struct treq *t, const char *name, const char *value)
{
    assert_true(t->req.n_headers < MAXH);
    t->h[t->req.n_headers++] = (struct vt_sigv4_header){name, value};
}

static void treq_del(struct treq *t, const char *name)
{
    size_t o = 0;
    for (size_t i = 0; i < t->req.n_headers; i++) {
        if (strcasecmp(t->h[i].name, name) != 0) {
            t->h[o++] = t->h[i];
        }
    }
    t->req.n_headers = o;
}

/* Replace the first field named name (any case), or add it. */
static void treq_set(struct treq *t, const char *name, const char *value)
{
    for (size_t i = 0; i < t->req.n_headers; i++) {
        if (strcasecmp(t->h[i].name, name) == 0) {
            t->h[i].value = value;
            return;
        }
    }
    treq_add(t, name, value);
}

/* Sign with vt_sigv4_sign and add Authorization and X-Amz-Date. */
static void treq_sign(struct treq *t, vt_time at, const char *akid, const char *secret,
                      const char *region)
{
    treq_del(t, "Authorization");
    treq_del(t, "X-Amz-Date");
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_sigv4_sign(&t->req, akid, secret, region, "kms", at, t->auth,
                                    sizeof(t->auth), t->date, &d);
    if (err != VT_OK) {
        fail_msg("sign: %s %s: %s", vt_err_name(err), d.check, d.detail);
    }
    treq_add(t, "X-Amz-Date", t->date);
    treq_add(t, "Authorization", t->auth);
}

/* A KMS Encrypt request as an SDK sends it, signed at T0 in us-east-1. */
static void treq_kms(struct treq *t)
{
    treq_init(t, "POST", "/", "", BODY);
    treq_add(t, "Host", HOST);
    treq_add(t, "Content-Type", "application/x-amz-json-1.1");
    treq_add(t, "X-Amz-Target", "TrentService.Encrypt");
    treq_sign(t, T0, AKID, SECRET, "us-east-1");
}

static void expect_ok_with(struct treq *t, const struct vt_sigv4_expect *e, const char *what)
{
    struct vt_sigv4_result res;
    memset(&res, 0, sizeof(res));
    enum vt_sigv4_refusal r = VT_SIGV4_INCOMPLETE;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_sigv4_verify(&t->req, e, &res, &r, &d);
    if (err != VT_OK || r != VT_SIGV4_OK) {
        fail_msg("%s: refused (%s, %s) %s: %s", what, vt_err_name(err), vt_sigv4_refusal_type(r),
                 d.check, d.detail);
    }
}

static void expect_ok(struct treq *t, const char *what)
{
    struct vt_sigv4_expect e = expect_at(T0 + 10);
    expect_ok_with(t, &e, what);
}

/* A refusal of this kind, code and check (and a detail containing words). The result is left
 * untouched. */
static void expect_refused_with(struct treq *t, const struct vt_sigv4_expect *e,
                                enum vt_sigv4_refusal want, enum vt_err want_err, const char *check,
                                const char *words)
{
    struct vt_sigv4_result res, before;
    memset(&res, 0x5a, sizeof(res));
    before = res;
    enum vt_sigv4_refusal r = VT_SIGV4_OK;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_sigv4_verify(&t->req, e, &res, &r, &d);
    if (err != want_err || r != want || strcmp(d.check, check) != 0 ||
        (words != NULL && strstr(d.detail, words) == NULL)) {
        fail_msg("want %s %s %s \"%s\"; got %s %s %s: %s", vt_sigv4_refusal_type(want),
                 vt_err_name(want_err), check, words != NULL ? words : "", vt_sigv4_refusal_type(r),
                 vt_err_name(err), d.check, d.detail);
    }
    assert_memory_equal(&res, &before, sizeof(res));
}

static void expect_refused(struct treq *t, enum vt_sigv4_refusal want, enum vt_err want_err,
                           const char *check, const char *words)
{
    struct vt_sigv4_expect e = expect_at(T0 + 10);
    expect_refused_with(t, &e, want, want_err, check, words);
}

/* The signature of a canonical request written out by hand: the string to sign and the HMAC
 * chain of the SigV4 text, computed here without the code under test. */
static void sign_canonical(const char *canonical, const char *amz_date, const char *region,
                           const char *secret, char out[65])
{
    uint8_t h[VT_SHA256_LEN];
    char hx[65];
    vt_sha256(canonical, strlen(canonical), h);
    vt_hex_encode(h, sizeof(h), hx);
    char sts[512];
    int n = snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%.8s/%s/kms/aws4_request\n%s",
                     amz_date, amz_date, region, hx);
    assert_true(n > 0 && (size_t)n < sizeof(sts));
    char k0[256];
    int kn = snprintf(k0, sizeof(k0), "AWS4%s", secret);
    uint8_t a[32], b[32];
    vt_hmac_sha256((const uint8_t *)k0, (size_t)kn, amz_date, 8, a);
    vt_hmac_sha256(a, 32, region, strlen(region), b);
    vt_hmac_sha256(b, 32, "kms", 3, a);
    vt_hmac_sha256(a, 32, "aws4_request", 12, b);
    vt_hmac_sha256(b, 32, sts, (size_t)n, a);
    vt_hex_encode(a, 32, out);
}

/* ---- botocore's vectors ---- */

static json_t *vectors;
static char vectors_skip[256];

static int load_vectors(void **state)
{
    (void)state;
    const char *script = getenv("VT_SIGV4_VECTORS");
    if (script == NULL || *script == '\0') {
        script = VT_SIGV4_VECTORS_PY;
    }
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "python3 '%s'", script);
    size_t cap = 1u << 20;
    char *out = malloc(cap);
    assert_non_null(out);
    int rc = vt_test_run_capture(cmd, out, cap);
    if (rc == 0) {
        json_error_t je;
        vectors = json_loads(out, 0, &je);
        if (vectors == NULL) {
            snprintf(vectors_skip, sizeof(vectors_skip), "%s printed no JSON: %s", script, je.text);
        }
    } else {
        snprintf(vectors_skip, sizeof(vectors_skip),
                 "%s exited %d (77: botocore missing, apt-get install python3-botocore; "
                 "127: no python3)",
                 script, rc);
    }
    free(out);
    return 0;
}

static int free_vectors(void **state)
{
    (void)state;
    json_decref(vectors);
    vectors = NULL;
    return 0;
}

static json_t *vectors_or_skip(void)
{
    if (vectors == NULL) {
        if (vt_fixtures_absent_is_failure()) {
            fail_msg("botocore's vectors are needed under CI=true: %s", vectors_skip);
        }
        print_message("skipping botocore's vectors: %s\n", vectors_skip);
        skip();
    }
    return json_object_get(vectors, "vectors");
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    assert_non_null(s);
    return s;
}

/* One vector as a request: its headers borrowed from the JSON, its body decoded into body. */
static void vector_request(json_t *v, struct treq *t, uint8_t *body, size_t cap)
{
    size_t blen = 0;
    const char *bhex = jstr(v, "body_hex");
    assert_int_equal(vt_hex_decode(bhex, strlen(bhex), body, cap, &blen), VT_OK);
    treq_init(t, jstr(v, "method"), jstr(v, "path"), jstr(v, "query"), NULL);
    t->req.body = body;
    t->req.body_len = blen;
    json_t *hs = json_object_get(v, "headers");
    for (size_t i = 0; i < json_array_size(hs); i++) {
        json_t *pair = json_array_get(hs, i);
        treq_add(t, json_string_value(json_array_get(pair, 0)),
                 json_string_value(json_array_get(pair, 1)));
    }
}

static void test_botocore_vectors(void **state)
{
    (void)state;
    json_t *vs = vectors_or_skip();
    assert_true(json_array_size(vs) >= 9);
    print_message("botocore %s: %zu vectors\n",
                  json_string_value(json_object_get(vectors, "botocore")), json_array_size(vs));
    size_t compared = 0;
    for (size_t i = 0; i < json_array_size(vs); i++) {
        json_t *v = json_array_get(vs, i);
        const char *name = jstr(v, "name");
        vt_time at = (vt_time)json_integer_value(json_object_get(v, "time"));
        bool query_form = strcmp(jstr(v, "form"), "query") == 0;
        const char *region = jstr(v, "region");
        static uint8_t body[4096];
        struct treq t;
        vector_request(v, &t, body, sizeof(body));

        /* Accepted at the signing time, and at the edges of the skew (or of X-Amz-Expires). */
        const char *regions[] = {"us-east-1", region, NULL};
        struct vt_sigv4_expect e = expect_at(at);
        e.regions = regions;
        expect_ok_with(&t, &e, name);
        struct vt_sigv4_result res;
        enum vt_sigv4_refusal r;
        struct vt_diag d;
        vt_diag_init(&d);
        assert_int_equal(vt_sigv4_verify(&t.req, &e, &res, &r, &d), VT_OK);
        assert_string_equal(res.access_key_id, AKID);
        assert_string_equal(res.principal, PRINCIPAL);
        assert_string_equal(res.region, region);
        assert_int_equal(res.signed_at, at);
        e.now = at - VT_SIGV4_MAX_SKEW;
        expect_ok_with(&t, &e, name);
        if (query_form) {
            /* botocore's expiry: 300 s for query_form_get, seven days for query_form_post */
            const char *q = t.req.query;
            long long expires = strstr(q, "X-Amz-Expires=300&") != NULL ? 300 : 604800;
            e.now = at + expires;
            expect_ok_with(&t, &e, name);
            e.now = at + expires + 1;
            expect_refused_with(&t, &e, VT_SIGV4_EXPIRED, VT_E_EXPIRED, "sigv4.expires",
                                "Signature expired");
        } else {
            e.now = at + VT_SIGV4_MAX_SKEW;
            expect_ok_with(&t, &e, name);
            e.now = at + VT_SIGV4_MAX_SKEW + 1;
            expect_refused_with(&t, &e, VT_SIGV4_EXPIRED, VT_E_EXPIRED, "sigv4.skew",
                                "Signature expired");
        }
        e.now = at - VT_SIGV4_MAX_SKEW - 1;
        expect_refused_with(&t, &e, VT_SIGV4_EXPIRED, VT_E_NOT_YET_VALID, "sigv4.skew",
                            "not yet current");

        /* A changed body is refused (by the signature, or by x-amz-content-sha256). */
        e.now = at;
        uint8_t saved = body[0];
        size_t saved_len = t.req.body_len;
        if (t.req.body_len == 0) {
            body[0] = 'x';
            t.req.body_len = 1;
        } else {
            body[0] ^= 1;
        }
        bool has_hash = false;
        for (size_t k = 0; k < t.req.n_headers; k++) {
            has_hash = has_hash || strcasecmp(t.h[k].name, "X-Amz-Content-SHA256") == 0;
        }
        expect_refused_with(&t, &e, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE,
                            has_hash ? "sigv4.payload" : "sigv4.signature", NULL);
        body[0] = saved;
        t.req.body_len = saved_len;
        expect_ok_with(&t, &e, name);

        if (!json_is_true(json_object_get(v, "compare_sign"))) {
            continue;
        }
        /* vt_sigv4_sign from the headers botocore signed gives botocore's Authorization. */
        struct treq s = t;
        s.req.headers = s.h;
        treq_del(&s, "Authorization");
        treq_del(&s, "X-Amz-Date");
        char auth[1024], date[17];
        vt_diag_init(&d);
        enum vt_err err = vt_sigv4_sign(&s.req, jstr(v, "access_key"), jstr(v, "secret"), region,
                                        jstr(v, "service"), at, auth, sizeof(auth), date, &d);
        if (err != VT_OK) {
            fail_msg("%s: sign: %s %s", name, d.check, d.detail);
        }
        if (strcmp(auth, jstr(v, "authorization")) != 0) {
            fail_msg("%s:\n ours     %s\n botocore %s", name, auth, jstr(v, "authorization"));
        }
        compared++;
    }
    assert_true(compared >= 5);
}

/* ---- canonical requests written by hand ---- */

static void test_canonical_by_hand(void **state)
{
    (void)state;
    /* Path: empty and dot segments removed, '..' drops one, each segment encoded again;
     * query: decoded ('+' a space), encoded again, sorted by name then value. */
    const char *canonical = "GET\n"
                            "/a/c%2520d/e%253Af/%21%2A/\n"
                            "A=1&a=%20&a=%2B&b=x%2Fy~&c=&d=%C3%A9\n"
                            "host:" HOST "\n"
                            "x-amz-date:" T0_AMZ "\n"
                            "x-amz-meta-z:a b c,d\n"
                            "\n"
                            "host;x-amz-date;x-amz-meta-z\n" EMPTY_SHA256;
    char sig[65];
    sign_canonical(canonical, T0_AMZ, "us-east-1", SECRET, sig);
    char auth[512];
    snprintf(auth, sizeof(auth),
             "AWS4-HMAC-SHA256 Credential=" AKID "/20250719/us-east-1/kms/aws4_request,"
             "SignedHeaders=host;x-amz-date;x-amz-meta-z,Signature=%s",
             sig);
    struct treq t;
    treq_init(&t, "GET", "//a/./b/../c%20d/e%3Af//x/..//!*/", "d=%c3%a9&c&b=x/y~&a=%2B&a=+&A=1&&",
              NULL);
    treq_add(&t, "hOST", HOST);
    treq_add(&t, "X-Amz-Date", T0_AMZ);
    treq_add(&t, "x-amz-meta-z", "  a \t b   c ");
    treq_add(&t, "X-AMZ-META-Z", "d");
    treq_add(&t, "User-Agent", "not signed");
    treq_add(&t, "Authorization", auth);
    expect_ok(&t, "by hand");

    /* The Date header instead of X-Amz-Date; the string to sign takes its basic form. */
    const char *c2 = "POST\n/\n\n"
                     "date:Sat, 19 Jul 2025 10:01:17 GMT\n"
                     "host:" HOST "\n"
                     "\n"
                     "date;host\n" EMPTY_SHA256;
    sign_canonical(c2, T0_AMZ, "us-east-1", SECRET, sig);
    snprintf(auth, sizeof(auth),
             "AWS4-HMAC-SHA256 Credential=" AKID "/20250719/us-east-1/kms/aws4_request, "
             "SignedHeaders=date;host, Signature=%s",
             sig);
    treq_init(&t, "POST", "", NULL, NULL);
    treq_add(&t, "Host", HOST);
    treq_add(&t, "Date", "Sat, 19 Jul 2025 10:01:17 GMT");
    treq_add(&t, "Authorization", auth);
    expect_ok(&t, "Date header");
    /* The weekday must be the date's; other forms of a date are refused. */
    treq_set(&t, "Date", "Fri, 19 Jul 2025 10:01:17 GMT");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_BAD_TIME, "sigv4.date", "IMF-fixdate");
    treq_set(&t, "Date", "Saturday, 19-Jul-25 10:01:17 GMT");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_BAD_TIME, "sigv4.date", "IMF-fixdate");
    static const char *const bad_dates[] = {
        "Sat, 19 Jul 2025 10:01:17 +0100", "Sat, 19 Jul 2025 10:01:17 GMX",
        "Sat, 19 Jux 2025 10:01:17 GMT",   "Sat, 1x Jul 2025 10:01:17 GMT",
        "Sat, 19 Jul 2025 10-01:17 GMT",   "Sat, 31 Feb 2025 10:01:17 GMT",
        "Xyz, 19 Jul 2025 10:01:17 GMT",   "Sat, 19 Jul 2025 24:01:17 GMT",
    };
    for (size_t i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++) {
        treq_set(&t, "Date", bad_dates[i]);
        expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_BAD_TIME, "sigv4.date", "IMF-fixdate");
    }
    /* Before 1970 the weekday still counts right (then the scope's date differs). */
    treq_set(&t, "Date", "Wed, 31 Dec 1969 23:59:59 GMT");
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_BAD_FIELD, "sigv4.scope",
                   "'20250719' != '19691231'");
    /* "-0000" reads as the same time (botocore's vector date_header is signed so), but the
     * value is signed as sent. */
    treq_set(&t, "Date", "Sat, 19 Jul 2025 10:01:17 -0000");
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature",
                   "date 20250719T100117Z");
    treq_set(&t, "Date", "Sat, 19 Jul 2025 10:01:18 GMT");
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature", "does not match");
    /* Date signed but unsigned in the list: 'date' is required when it gives the time. */
    treq_set(&t, "Date", "Sat, 19 Jul 2025 10:01:17 GMT");
    snprintf(auth, sizeof(auth),
             "AWS4-HMAC-SHA256 Credential=" AKID "/20250719/us-east-1/kms/aws4_request, "
             "SignedHeaders=host, Signature=%s",
             sig);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.signed_headers",
                   "'date' must be");
    /* X-Amz-Date wins over Date. */
    treq_add(&t, "X-Amz-Date", "20250719T100118Z");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.signed_headers",
                   "'x-amz-date' must be");

    /* The query form, by hand: X-Amz-Signature is left out of the canonical query. */
    const char *c3 = "GET\n/\n"
                     "Action=ListKeys&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AKID
                     "%2F20250719%2Fus-east-1%2Fkms%2Faws4_request&X-Amz-Date=" T0_AMZ
                     "&X-Amz-Expires=300&X-Amz-SignedHeaders=host\n"
                     "host:" HOST "\n\nhost\n" EMPTY_SHA256;
    sign_canonical(c3, T0_AMZ, "us-east-1", SECRET, sig);
    char query[1024];
    snprintf(query, sizeof(query),
             "X-Amz-Signature=%s&Action=ListKeys&X-Amz-Algorithm=AWS4-HMAC-SHA256&"
             "X-Amz-Credential=" AKID "/20250719/us-east-1/kms/aws4_request&X-Amz-Date=" T0_AMZ
             "&X-Amz-Expires=300&X-Amz-SignedHeaders=host",
             sig);
    treq_init(&t, "GET", "/", query, NULL);
    treq_add(&t, "Host", HOST);
    expect_ok(&t, "query form by hand");
}

/* ---- refusals ---- */

static void test_missing(void **state)
{
    (void)state;
    struct treq t;
    treq_kms(&t);
    expect_ok(&t, "base");
    treq_del(&t, "Authorization");
    expect_refused(&t, VT_SIGV4_MISSING, VT_E_UNAUTHORIZED, "sigv4.missing",
                   "missing Authentication Token");
    /* X-Amz-Date alone in the query is no signature either. */
    t.req.query = "X-Amz-Date=" T0_AMZ;
    expect_refused(&t, VT_SIGV4_MISSING, VT_E_UNAUTHORIZED, "sigv4.missing", NULL);
}

/* Replace the Authorization value with a formatted one. */
static void with_auth(struct treq *t, char *buf, size_t cap, const char *fmt, ...) VT_PRINTF(4, 5);
static void with_auth(struct treq *t, char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    treq_set(t, "Authorization", buf);
}

static void test_header_parts(void **state)
{
    (void)state;
    struct treq t;
    treq_kms(&t);
    /* The three parameters of botocore's value, taken apart. */
    char cred[256], sh[256], sig[128];
    const char *a = t.auth;
    assert_int_equal(sscanf(a,
                            "AWS4-HMAC-SHA256 Credential=%255[^,], SignedHeaders=%255[^,], "
                            "Signature=%127s",
                            cred, sh, sig),
                     3);
    char ok1[1024], buf[1024];
    char c_sh[600];
    snprintf(c_sh, sizeof(c_sh), "Credential=%s,SignedHeaders=%s", cred, sh);

    /* Tolerated: no space after the commas, several, a tab; another order; OWS at the ends. */
    with_auth(&t, ok1, sizeof(ok1), "AWS4-HMAC-SHA256 %s,Signature=%s", c_sh, sig);
    expect_ok(&t, "no spaces");
    snprintf(ok1, sizeof(ok1),
             "  AWS4-HMAC-SHA256   Signature=%s ,\tSignedHeaders=%s,   Credential=%s  ", sig, sh,
             cred);
    treq_set(&t, "Authorization", ok1);
    expect_ok(&t, "reordered");

    /* Each part missing, with AWS's message. */
    with_auth(&t, buf, sizeof(buf), "AWS4-HMAC-SHA256");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.header",
                   "Authorization header requires 'Credential' parameter. Authorization header "
                   "requires 'Signature' parameter. Authorization header requires "
                   "'SignedHeaders' parameter.");
    with_auth(&t, buf, sizeof(buf), "AWS4-HMAC-SHA256 SignedHeaders=%s, Signature=%s", sh, sig);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.header",
                   "requires 'Credential' parameter.");
    with_auth(&t, buf, sizeof(buf), "AWS4-HMAC-SHA256 Credential=%s, Signature=%s", cred, sig);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.header",
                   "requires 'SignedHeaders' parameter.");
    with_auth(&t, buf, sizeof(buf), "AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=%s", cred, sh);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.header",
                   "requires 'Signature' parameter.");
    /* Empty values, repeats, unknown names, no '=', spaces inside a value, empty parameters. */
    with_auth(&t, buf, sizeof(buf), "AWS4-HMAC-SHA256 %s, Signature=%s", c_sh, "");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.header",
                   "'Signature' has an empty value");
    with_auth(&t, buf, sizeof(buf), "AWS4-HMAC-SHA256 %s, Signature=%s, Signature=00", c_sh, sig);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_DUPLICATE, "sigv4.header", "appears twice");
    snprintf(buf, sizeof(buf), "AWS4-HMAC-SHA256 Credential=%s, Credential=%s, SignedHeaders=%s",
             cred, cred, sh);
    treq_set(&t, "Authorization", buf);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_DUPLICATE, "sigv4.header",
                   "'Credential' appears twice");
    with_auth(&t, buf, sizeof(buf), "AWS4-HMAC-SHA256 %s, Signature=%s, Region=x", c_sh, sig);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.header",
                   "unknown parameter 'Region'");
    with_auth(&t, buf, sizeof(buf), "AWS4-HMAC-SHA256 %s, signature=%s", c_sh, sig);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.header",
                   "unknown parameter 'signature'");
    with_auth(&t, buf, sizeof(buf), "AWS4-HMAC-SHA256 %s, Signature %s", c_sh, sig);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.header",
                   "not a valid key=value pair (missing equal-sign)");
    snprintf(buf, sizeof(buf), "AWS4-HMAC-SHA256 Credential= %s, SignedHeaders=%s, Signature=%s",
             cred, sh, sig);
    treq_set(&t, "Authorization", buf);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.header", "white space");
    with_auth(&t, buf, sizeof(buf), "AWS4-HMAC-SHA256 %s, Signature=%s,", c_sh, sig);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.header", "empty parameter");
    with_auth(&t, buf, sizeof(buf), "AWS4-HMAC-SHA256 %s,, Signature=%s", c_sh, sig);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.header", "empty parameter");
    with_auth(&t, buf, sizeof(buf), "AWS4-HMAC-SHA256 %s Signature=%s", c_sh, sig);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.header", "white space");
    /* Two Authorization headers. */
    treq_set(&t, "Authorization", t.auth);
    treq_add(&t, "authorization", t.auth);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_DUPLICATE, "sigv4.header",
                   "2 Authorization headers");
    /* Too long. */
    treq_del(&t, "Authorization");
    static char huge[VT_SIGV4_MAX_AUTH + 64];
    snprintf(huge, sizeof(huge), "AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=%s, Signature=%s",
             cred, sh, sig);
    memset(huge + strlen(huge), ' ', sizeof(huge) - strlen(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    huge[sizeof(huge) - 2] = 'x';
    treq_add(&t, "Authorization", huge);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_TOO_LARGE, "sigv4.header", "exceeds");
}

static void test_algorithm(void **state)
{
    (void)state;
    struct treq t;
    treq_kms(&t);
    char buf[2048];
    const char *rest = t.auth + strlen("AWS4-HMAC-SHA256");
    static const char *const algs[] = {
        "AWS4-HMAC-SHA512", "aws4-hmac-sha256", "AWS4-ECDSA-P256-SHA256",
        "AWS3-HMAC-SHA256", "Bearer",           ""};
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        snprintf(buf, sizeof(buf), "%s%s", algs[i], rest);
        treq_set(&t, "Authorization", buf);
        expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_UNSUPPORTED_ALGORITHM, "sigv4.algorithm",
                       "not AWS4-HMAC-SHA256");
    }
    /* No space after the algorithm. */
    snprintf(buf, sizeof(buf), "AWS4-HMAC-SHA256%s", rest + 1);
    treq_set(&t, "Authorization", buf);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_UNSUPPORTED_ALGORITHM, "sigv4.algorithm",
                   "AWS4-HMAC-SHA256Credential=");
    treq_set(&t, "Authorization", "");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_UNSUPPORTED_ALGORITHM, "sigv4.algorithm", NULL);
}

/* The Authorization value with its credential replaced by cred. */
static void with_credential(struct treq *t, char *buf, size_t cap, const char *cred)
{
    const char *sh = strstr(t->auth, ", SignedHeaders=");
    assert_non_null(sh);
    snprintf(buf, cap, "AWS4-HMAC-SHA256 Credential=%s%s", cred, sh);
    treq_set(t, "Authorization", buf);
}

static void test_credential_and_scope(void **state)
{
    (void)state;
    struct treq t;
    treq_kms(&t);
    char buf[1024];
    /* Malformed credentials. */
    static const char *const bad[] = {
        AKID "/20250719/us-east-1/kms",
        AKID "/20250719/us-east-1/kms/aws4_request/x",
        AKID "/20250719/us-east-1/kms/aws4_request/",
        AKID "//us-east-1/kms/aws4_request",
        "/20250719/us-east-1/kms/aws4_request",
        AKID,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        with_credential(&t, buf, sizeof(buf), bad[i]);
        expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.credential",
                       "is not AKID/YYYYMMDD/REGION/SERVICE/aws4_request");
    }
    with_credential(&t, buf, sizeof(buf), "AKID-1/20250719/us-east-1/kms/aws4_request");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.credential",
                   "access key id \"AKID-1\"");
    char longkey[200];
    memset(longkey, 'A', 128);
    snprintf(longkey + 128, sizeof(longkey) - 128, "/20250719/us-east-1/kms/aws4_request");
    with_credential(&t, buf, sizeof(buf), longkey);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.credential", "1 to 127");

    /* The scope: date, region, service, terminator (InvalidSignatureException at AWS). */
    with_credential(&t, buf, sizeof(buf), AKID "/20250718/us-east-1/kms/aws4_request");
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_BAD_FIELD, "sigv4.scope",
                   "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                   "date from HTTP: '20250718' != '20250719', from '" T0_AMZ "'.");
    with_credential(&t, buf, sizeof(buf), AKID "/2025071/us-east-1/kms/aws4_request");
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_BAD_FIELD, "sigv4.scope",
                   "Date in Credential scope");
    with_credential(&t, buf, sizeof(buf), AKID "/20250719/us-east-1/s3/aws4_request");
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_BAD_FIELD, "sigv4.scope",
                   "Credential should be scoped to correct service: 'kms'");
    with_credential(&t, buf, sizeof(buf), AKID "/20250719/us-east-1/KMS/aws4_request");
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_BAD_FIELD, "sigv4.scope", "correct service");
    with_credential(&t, buf, sizeof(buf), AKID "/20250719/us-east-1/kms/aws4_requesx");
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_BAD_FIELD, "sigv4.scope",
                   "Credential should be scoped with a valid terminator: 'aws4_request', not "
                   "'aws4_requesx'.");
    with_credential(&t, buf, sizeof(buf), AKID "/20250719/US-EAST-1/kms/aws4_request");
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_BAD_FIELD, "sigv4.scope",
                   "Credential should be scoped to a valid region, not 'US-EAST-1'.");
    /* A region the server does not accept: signed properly for eu-west-1. */
    treq_sign(&t, T0, AKID, SECRET, "eu-west-1");
    const char *regions[] = {"us-east-1", "us-west-2", NULL};
    struct vt_sigv4_expect e = expect_at(T0);
    e.regions = regions;
    expect_refused_with(&t, &e, VT_SIGV4_BAD_SIGNATURE, VT_E_BAD_FIELD, "sigv4.scope",
                        "valid region, not 'eu-west-1'");
    e.regions = NULL;
    expect_ok_with(&t, &e, "any region");
    /* Signed for one region, the scope naming another: the key differs. */
    with_credential(&t, buf, sizeof(buf), AKID "/20250719/us-east-1/kms/aws4_request");
    expect_refused_with(&t, &e, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature",
                        "does not match");
}

/* The Authorization value with its SignedHeaders replaced (the signature kept). */
static void with_signed(struct treq *t, char *buf, size_t cap, const char *list)
{
    const char *sh = strstr(t->auth, ", SignedHeaders=");
    const char *sig = strstr(t->auth, ", Signature=");
    assert_non_null(sh);
    assert_non_null(sig);
    snprintf(buf, cap, "%.*s, SignedHeaders=%s%s", (int)(sh - t->auth), t->auth, list, sig);
    treq_set(t, "Authorization", buf);
}

static void test_signed_headers(void **state)
{
    (void)state;
    struct treq t;
    treq_kms(&t);
    assert_non_null(strstr(t.auth, "SignedHeaders=content-type;host;x-amz-date;x-amz-target,"));
    char buf[1024];
    with_signed(&t, buf, sizeof(buf), "content-type;x-amz-date;x-amz-target");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.signed_headers",
                   "'host' must be a 'SignedHeader'");
    with_signed(&t, buf, sizeof(buf), "content-type;host;x-amz-target");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.signed_headers",
                   "'x-amz-date' must be a 'SignedHeader'");
    with_signed(&t, buf, sizeof(buf), "content-type;host;x-amz-date");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.signed_headers",
                   "X-Amz-Target is not signed");
    with_signed(&t, buf, sizeof(buf), "content-type;host;x-amz-date;x-amz-meta;x-amz-target");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.signed_headers",
                   "'x-amz-meta' is named as a SignedHeader, but it does not exist in the HTTP "
                   "request.");
    with_signed(&t, buf, sizeof(buf), "content-type;host;x-amz-target;x-amz-date");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.signed_headers", "not sorted");
    with_signed(&t, buf, sizeof(buf), "content-type;host;host;x-amz-date;x-amz-target");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.signed_headers",
                   "repeats a name");
    with_signed(&t, buf, sizeof(buf), "Content-Type;host;x-amz-date;x-amz-target");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.signed_headers",
                   "\"Content-Type\" is not a lower-case header name");
    with_signed(&t, buf, sizeof(buf), "content-type;;host;x-amz-date;x-amz-target");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.signed_headers",
                   "\"\" is not a lower-case");
    with_signed(&t, buf, sizeof(buf), "authorization;content-type;host;x-amz-date;x-amz-target");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_BAD_FIELD, "sigv4.signed_headers",
                   "'authorization' cannot be");
    char many[2048] = "a000";
    for (int i = 1; i <= VT_SIGV4_MAX_SIGNED; i++) {
        size_t u = strlen(many);
        snprintf(many + u, sizeof(many) - u, ";a%03d", i);
    }
    with_signed(&t, buf, sizeof(buf), many);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_TOO_LARGE, "sigv4.signed_headers", "more than 64");
    /* A signed header absent from the request. */
    treq_set(&t, "Authorization", t.auth);
    treq_del(&t, "Content-Type");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.signed_headers",
                   "'content-type' is named as a SignedHeader");
    /* Unsigned header fields that are not x-amz-* may come along. */
    treq_kms(&t);
    treq_add(&t, "User-Agent", "aws-sdk");
    treq_add(&t, "Content-Length", "44");
    expect_ok(&t, "unsigned extras");
    treq_add(&t, "x-amz-user-agent", "aws-sdk-js/3");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.signed_headers",
                   "x-amz-user-agent is not signed");
}

static void test_skew(void **state)
{
    (void)state;
    struct treq t;
    treq_kms(&t);
    struct vt_sigv4_expect e = expect_at(T0 + 900);
    expect_ok_with(&t, &e, "+900");
    e.now = T0 - 900;
    expect_ok_with(&t, &e, "-900");
    e.now = T0 + 901;
    expect_refused_with(&t, &e, VT_SIGV4_EXPIRED, VT_E_EXPIRED, "sigv4.skew",
                        "Signature expired: 20250719T100117Z is now earlier than 20250719T100118Z "
                        "(20250719T101618Z - 15 min.)");
    e.now = T0 - 901;
    expect_refused_with(&t, &e, VT_SIGV4_EXPIRED, VT_E_NOT_YET_VALID, "sigv4.skew",
                        "Signature not yet current: 20250719T100117Z is still later than "
                        "20250719T100116Z (20250719T094616Z + 15 min.)");
    e.max_skew = 60;
    e.now = T0 + 61;
    expect_refused_with(&t, &e, VT_SIGV4_EXPIRED, VT_E_EXPIRED, "sigv4.skew", "- 1 min.)");
    e.now = T0 + 60;
    expect_ok_with(&t, &e, "+60 of 60");
    e.max_skew = 90;
    e.now = T0 - 91;
    expect_refused_with(&t, &e, VT_SIGV4_EXPIRED, VT_E_NOT_YET_VALID, "sigv4.skew", "+ 90 s)");
    /* A far clock: the bound is written in RFC 3339 when its year has no four digits. */
    e.max_skew = 0;
    e.now = (vt_time)1 << 40;
    expect_refused_with(&t, &e, VT_SIGV4_EXPIRED, VT_E_EXPIRED, "sigv4.skew", "is now earlier");
    e.now = -((vt_time)1 << 40);
    expect_refused_with(&t, &e, VT_SIGV4_EXPIRED, VT_E_NOT_YET_VALID, "sigv4.skew",
                        "not yet current");

    /* The request date itself. */
    treq_set(&t, "X-Amz-Date", "2025-07-19T10:01:17Z");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_BAD_TIME, "sigv4.date",
                   "Date must be in ISO-8601 'basic format'. Got '2025-07-19T10:01:17Z'.");
    static const char *const bad[] = {
        "20250719T100117",  "20250719t100117z", "20251319T100117Z", "20250732T100117Z",
        "20250719T250117Z", "20250719T100160Z", "2025071 T100117Z", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        treq_set(&t, "X-Amz-Date", bad[i]);
        expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_BAD_TIME, "sigv4.date", "basic format");
    }
    treq_set(&t, "X-Amz-Date", t.date);
    treq_add(&t, "x-amz-date", t.date);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_DUPLICATE, "sigv4.date", "2 X-Amz-Date headers");
    treq_del(&t, "X-Amz-Date");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.date",
                   "Authorization header requires existence of either a 'X-Amz-Date' or a "
                   "'Date' header.");
    treq_add(&t, "Date", "Sat, 19 Jul 2025 10:01:17 GMT");
    treq_add(&t, "Date", "Sat, 19 Jul 2025 10:01:17 GMT");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_DUPLICATE, "sigv4.date", "2 Date headers");
}

/* A presigned request (the query form) for Action=ListKeys, signed by hand; expires and extra
 * are spliced into the query (extra may be ""). */
static void presigned(struct treq *t, char *query, size_t cap, const char *expires,
                      const char *extra)
{
    char canonical[1024], sig[65];
    snprintf(canonical, sizeof(canonical),
             "GET\n/\nAction=ListKeys&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AKID
             "%%2F20250719%%2Fus-east-1%%2Fkms%%2Faws4_request&X-Amz-Date=" T0_AMZ
             "&X-Amz-Expires=%s&X-Amz-SignedHeaders=host\nhost:" HOST "\n\nhost\n" EMPTY_SHA256,
             expires);
    sign_canonical(canonical, T0_AMZ, "us-east-1", SECRET, sig);
    snprintf(query, cap,
             "Action=ListKeys&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AKID
             "%%2F20250719%%2Fus-east-1%%2Fkms%%2Faws4_request&X-Amz-Date=" T0_AMZ
             "&X-Amz-Expires=%s&X-Amz-SignedHeaders=host&X-Amz-Signature=%s%s",
             expires, sig, extra);
    treq_init(t, "GET", "/", query, NULL);
    treq_add(t, "Host", HOST);
}

static void test_query_form(void **state)
{
    (void)state;
    struct treq t;
    char q[2048];
    presigned(&t, q, sizeof(q), "300", "");
    struct vt_sigv4_expect e = expect_at(T0);
    expect_ok_with(&t, &e, "presigned");
    e.now = T0 + 300;
    expect_ok_with(&t, &e, "presigned at expiry");
    e.now = T0 + 301;
    expect_refused_with(&t, &e, VT_SIGV4_EXPIRED, VT_E_EXPIRED, "sigv4.expires",
                        "Signature expired: 20250719T100617Z (X-Amz-Date 20250719T100117Z + "
                        "X-Amz-Expires 300 s) is now earlier than 20250719T100618Z");
    e.now = T0 - 901;
    expect_refused_with(&t, &e, VT_SIGV4_EXPIRED, VT_E_NOT_YET_VALID, "sigv4.skew",
                        "not yet current");
    e.now = T0 - 900;
    expect_ok_with(&t, &e, "presigned early");
    /* A week is the longest, a second the shortest. */
    presigned(&t, q, sizeof(q), "604800", "");
    e.now = T0 + 604800;
    expect_ok_with(&t, &e, "a week");
    e.now = T0 + 604801;
    expect_refused_with(&t, &e, VT_SIGV4_EXPIRED, VT_E_EXPIRED, "sigv4.expires", NULL);
    static const char *const bad[] = {"0", "604801", "-1", "1e3", "+5", "10000000", "x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        presigned(&t, q, sizeof(q), bad[i], "");
        expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_BAD_FIELD, "sigv4.expires",
                       "is not a number of seconds from 1 to 604800");
    }
    /* The signature covers every other parameter. */
    presigned(&t, q, sizeof(q), "300", "&Extra=1");
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature", "does not match");
    /* Repeats, missing parameters, the algorithm, both forms at once, a session token. */
    presigned(&t, q, sizeof(q), "300", "&X-Amz-Credential=x");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_DUPLICATE, "sigv4.query",
                   "X-Amz-Credential appears 2 times");
    treq_init(&t, "GET", "/",
              "X-Amz-Credential=" AKID "%2F20250719%2Fus-east-1%2Fkms%2Faws4_request", NULL);
    treq_add(&t, "Host", HOST);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.query",
                   "'X-Amz-Algorithm', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', "
                   "'X-Amz-Expires'");
    treq_init(&t, "GET", "/",
              "X-Amz-Algorithm=AWS4-HMAC-SHA1&X-Amz-Credential=a&X-Amz-Signature=b&X-Amz-Date=c&"
              "X-Amz-SignedHeaders=host&X-Amz-Expires=1",
              NULL);
    treq_add(&t, "Host", HOST);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_UNSUPPORTED_ALGORITHM, "sigv4.algorithm",
                   "X-Amz-Algorithm is \"AWS4-HMAC-SHA1\"");
    presigned(&t, q, sizeof(q), "300", "");
    treq_add(&t, "Authorization", "AWS4-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature=y");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.form",
                   "only one auth mechanism");
    presigned(&t, q, sizeof(q), "300", "&X-Amz-Security-Token=abc");
    expect_refused(&t, VT_SIGV4_UNKNOWN_KEY, VT_E_UNAUTHORIZED, "sigv4.security_token",
                   "security token included in the request is invalid");
    /* The query form needs host signed too (the x-amz-date rule is the header form's). */
    presigned(&t, q, sizeof(q), "300", "");
    char *sh = strstr(q, "X-Amz-SignedHeaders=host");
    assert_non_null(sh);
    memcpy(sh + strlen("X-Amz-SignedHeaders="), "hosx", 4);
    treq_add(&t, "hosx", "1");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.signed_headers",
                   "'host' must be");
}

static void test_payload(void **state)
{
    (void)state;
    struct treq t;
    uint8_t h[VT_SHA256_LEN];
    char hex[65], wrong[65];
    vt_sha256(BODY, strlen(BODY), h);
    vt_hex_encode(h, sizeof(h), hex);
    /* Signed with the body's hash: accepted. */
    treq_init(&t, "POST", "/", NULL, BODY);
    treq_add(&t, "Host", HOST);
    treq_add(&t, "X-Amz-Content-Sha256", hex);
    treq_sign(&t, T0, AKID, SECRET, "us-east-1");
    expect_ok(&t, "content sha256");
    /* Signed with another hash: the signature matches, the payload does not. */
    memcpy(wrong, hex, sizeof(hex));
    wrong[0] = wrong[0] == '0' ? '1' : '0';
    treq_set(&t, "X-Amz-Content-Sha256", wrong);
    treq_sign(&t, T0, AKID, SECRET, "us-east-1");
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.payload",
                   "does not match what was computed");
    /* Upper-case hex is another string than the one signed: refused too. */
    for (size_t i = 0; i < 64; i++) {
        wrong[i] = hex[i] >= 'a' ? (char)(hex[i] - 32) : hex[i];
    }
    treq_set(&t, "X-Amz-Content-Sha256", wrong);
    treq_sign(&t, T0, AKID, SECRET, "us-east-1");
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.payload", NULL);
    /* UNSIGNED-PAYLOAD and the streaming forms. */
    treq_set(&t, "X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD");
    treq_sign(&t, T0, AKID, SECRET, "us-east-1");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_UNSUPPORTED, "sigv4.payload",
                   "UNSIGNED-PAYLOAD: the body must be signed");
    treq_set(&t, "X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    treq_sign(&t, T0, AKID, SECRET, "us-east-1");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_UNSUPPORTED, "sigv4.payload", "STREAMING");
    treq_set(&t, "X-Amz-Content-Sha256", hex);
    treq_add(&t, "x-amz-content-sha256", hex);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_DUPLICATE, "sigv4.payload",
                   "2 x-amz-content-sha256 headers");
}

static void test_unknown_key(void **state)
{
    (void)state;
    struct treq t;
    treq_init(&t, "POST", "/", NULL, BODY);
    treq_add(&t, "Host", HOST);
    treq_sign(&t, T0, "AKIDNOBODY", SECRET, "us-east-1");
    expect_refused(&t, VT_SIGV4_UNKNOWN_KEY, VT_E_UNAUTHORIZED, "sigv4.key",
                   "access key id AKIDNOBODY is not known");
    /* Another known key's id with this key's secret. */
    treq_sign(&t, T0, "AKIDOTHER", SECRET, "us-east-1");
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature", "does not match");
    treq_sign(&t, T0, "AKIDOTHER", "another secret", "us-east-1");
    expect_ok(&t, "other key");
    /* A session token is never one this service issued. */
    treq_add(&t, "X-Amz-Security-Token", "FwoGZXIvYXdzE");
    expect_refused(&t, VT_SIGV4_UNKNOWN_KEY, VT_E_UNAUTHORIZED, "sigv4.security_token", NULL);
    /* Format errors are refused before the key is looked up. */
    treq_kms(&t);
    treq_del(&t, "X-Amz-Date");
    lookups = 0;
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.date", NULL);
    assert_int_equal(lookups, 0);
}

static void test_signature_bits(void **state)
{
    (void)state;
    struct treq t;
    treq_kms(&t);
    char *sig = strstr(t.auth, "Signature=");
    assert_non_null(sig);
    sig += strlen("Signature=");
    assert_int_equal(strlen(sig), 64);
    uint8_t raw[32];
    assert_int_equal(vt_hex_decode_exact(sig, 64, raw, sizeof(raw)), VT_OK);
    char orig[65];
    memcpy(orig, sig, sizeof(orig));
    for (size_t bit = 0; bit < 256; bit++) {
        raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        vt_hex_encode(raw, sizeof(raw), sig);
        expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature",
                       "The request signature we calculated does not match the signature you "
                       "provided.");
        raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    memcpy(sig, orig, sizeof(orig));
    expect_ok(&t, "restored");
    /* Upper-case hex, short, long, not hex. */
    for (size_t i = 0; i < 64; i++) {
        sig[i] = sig[i] >= 'a' ? (char)(sig[i] - 32) : sig[i];
    }
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature",
                   "not 64 lower-case hex digits");
    memcpy(sig, orig, sizeof(orig));
    sig[63] = '\0';
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature",
                   "not 64 lower-case hex digits");
    memcpy(sig, orig, sizeof(orig));
    sig[10] = 'g';
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature",
                   "not 64 lower-case hex digits");
}

static void test_changed_request(void **state)
{
    (void)state;
    struct treq t;
    treq_kms(&t);
    /* White space a proxy may change, and the names' case, are not signed. */
    treq_set(&t, "X-Amz-Target", "  TrentService.Encrypt \t");
    expect_ok(&t, "trimmed");
    for (size_t i = 0; i < t.req.n_headers; i++) {
        if (strcmp(t.h[i].name, "X-Amz-Target") == 0) {
            t.h[i].name = "x-amz-TARGET";
        }
    }
    expect_ok(&t, "name case");
    /* A signed header's value. */
    treq_set(&t, "x-amz-target", "TrentService.Decrypt");
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature", "does not match");
    treq_set(&t, "x-amz-target", "TrentService. Encrypt");
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature", NULL);
    treq_set(&t, "x-amz-target", "TrentService.Encrypt");
    treq_set(&t, "Content-Type", "application/json");
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature", NULL);
    treq_set(&t, "Content-Type", "application/x-amz-json-1.1");
    treq_set(&t, "Host", "kms.us-east-2.amazonaws.com");
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature", NULL);
    treq_set(&t, "Host", HOST);
    /* A repeated signed header: its values are joined, so the signature changes. */
    treq_add(&t, "Content-Type", "text/plain");
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature", NULL);
    treq_del(&t, "Content-Type");
    treq_add(&t, "Content-Type", "application/x-amz-json-1.1");
    expect_ok(&t, "restored");
    /* The body, one byte. */
    char body[] = BODY;
    t.req.body = (const uint8_t *)body;
    body[5] ^= 0x20;
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature", NULL);
    body[5] ^= 0x20;
    t.req.body_len--;
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature", NULL);
    t.req.body_len++;
    expect_ok(&t, "body restored");
    /* Method, path, query. */
    t.req.method = "PUT";
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature", NULL);
    t.req.method = "POST";
    t.req.path = "/x";
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature", NULL);
    t.req.path = "//./"; /* normalises to "/" as the signer saw it */
    expect_ok(&t, "path normalised");
    t.req.path = NULL;
    expect_ok(&t, "no path");
    t.req.query = "a=1";
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature", NULL);
    t.req.query = "&&"; /* no parameters */
    expect_ok(&t, "empty query pieces");
    t.req.query = "="; /* one parameter, its name and value empty */
    expect_refused(&t, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature", NULL);
    treq_sign(&t, T0, AKID, SECRET, "us-east-1");
    expect_ok(&t, "signed with an empty parameter");
}

static void test_request_bounds(void **state)
{
    (void)state;
    struct treq t;
    treq_kms(&t);
    t.req.method = "PO ST";
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.request", "method");
    t.req.method = NULL;
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.request", "(none)");
    t.req.method = "POST";
    t.req.path = "x";
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.request", "path");
    t.req.path = "/a b";
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.request", "path");
    t.req.path = "/a?b";
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.request", "path");
    static char longpath[VT_SIGV4_MAX_PATH + 2];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    t.req.path = longpath;
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_TOO_LARGE, "sigv4.request", "path exceeds");
    t.req.path = "/";
    t.req.query = "a=%zz";
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_BAD_PERCENT, "sigv4.query", "two hex digits");
    t.req.query = "a=%4";
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_BAD_PERCENT, "sigv4.query", NULL);
    t.req.query = "a=b#c";
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.request", "query");
    static char longquery[VT_SIGV4_MAX_QUERY + 2];
    memset(longquery, 'a', sizeof(longquery) - 1);
    t.req.query = longquery;
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_TOO_LARGE, "sigv4.request", "query exceeds");
    char many[1024] = "p=0";
    for (int i = 1; i <= VT_SIGV4_MAX_PARAMS; i++) {
        size_t u = strlen(many);
        snprintf(many + u, sizeof(many) - u, "&p=%d", i);
    }
    t.req.query = many;
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_TOO_LARGE, "sigv4.query", "more than 64");
    t.req.query = NULL;
    /* Header fields: a control byte, a bad name, too many, too long. */
    treq_set(&t, "X-Amz-Target", "a\nb");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.request", "control byte");
    treq_set(&t, "X-Amz-Target", "TrentService.Encrypt");
    treq_add(&t, "Bad Name", "x");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.request", "\"Bad Name\"");
    treq_del(&t, "Bad Name");
    treq_add(&t, "", "x");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.request", "not a token");
    treq_del(&t, "");
    static char longname[VT_SIGV4_MAX_HEADER_NAME + 2];
    memset(longname, 'n', sizeof(longname) - 1);
    treq_add(&t, longname, "x");
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_TOO_LARGE, "sigv4.request", "at most 128");
    treq_del(&t, longname);
    static char longvalue[VT_SIGV4_MAX_HEADER_VALUE + 2];
    memset(longvalue, 'v', sizeof(longvalue) - 1);
    treq_add(&t, "X-Long", longvalue);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_TOO_LARGE, "sigv4.request", "value exceeds");
    treq_del(&t, "X-Long");
    static char value[VT_SIGV4_MAX_HEADER_VALUE];
    memset(value, 'v', sizeof(value) - 1);
    for (int i = 0; i < 5; i++) {
        treq_add(&t, "X-Big", value);
    }
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_TOO_LARGE, "sigv4.request",
                   "exceed 32768 bytes together");
    treq_del(&t, "X-Big");
    expect_ok(&t, "back");
    while (t.req.n_headers <= VT_SIGV4_MAX_HEADERS) {
        treq_add(&t, "X-Other", "1");
    }
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_TOO_LARGE, "sigv4.request", "header fields");
    treq_del(&t, "X-Other");
    treq_add(&t, "X-Null", NULL);
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.request",
                   "the value is missing");
    treq_del(&t, "X-Null");
    t.req.headers = NULL;
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.request", "but no array");
    t.req.headers = t.h;
    t.req.body = NULL;
    expect_refused(&t, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.request", "no pointer");
}

static void test_args_and_types(void **state)
{
    (void)state;
    struct treq t;
    treq_kms(&t);
    struct vt_sigv4_expect e = expect_at(T0);
    struct vt_sigv4_result res;
    enum vt_sigv4_refusal r = VT_SIGV4_OK;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_sigv4_verify(NULL, &e, &res, &r, &d), VT_E_ARG);
    assert_int_equal(r, VT_SIGV4_INCOMPLETE);
    assert_int_equal(vt_sigv4_verify(&t.req, &e, &res, NULL, &d), VT_E_ARG);
    r = VT_SIGV4_OK;
    e.service = "K M S";
    assert_int_equal(vt_sigv4_verify(&t.req, &e, &res, &r, &d), VT_E_ARG);
    assert_int_not_equal(r, VT_SIGV4_OK);
    e.service = "kms";
    e.secret = NULL;
    assert_int_equal(vt_sigv4_verify(&t.req, &e, &res, &r, &d), VT_E_ARG);
    e.secret = lookup;
    e.max_skew = -1;
    assert_int_equal(vt_sigv4_verify(&t.req, &e, &res, &r, &d), VT_E_ARG);
    e.max_skew = 0;
    e.now = INT64_MAX;
    assert_int_equal(vt_sigv4_verify(&t.req, &e, &res, &r, &d), VT_E_ARG);
    e.now = T0;
    assert_int_equal(vt_sigv4_verify(&t.req, &e, &res, &r, NULL), VT_OK);
    assert_int_equal(r, VT_SIGV4_OK);

    /* AWS's types and statuses (KMS is a JSON-protocol service: 400 for each). */
    assert_string_equal(vt_sigv4_refusal_type(VT_SIGV4_MISSING),
                        "MissingAuthenticationTokenException");
    assert_string_equal(vt_sigv4_refusal_type(VT_SIGV4_INCOMPLETE), "IncompleteSignatureException");
    assert_string_equal(vt_sigv4_refusal_type(VT_SIGV4_UNKNOWN_KEY), "UnrecognizedClientException");
    assert_string_equal(vt_sigv4_refusal_type(VT_SIGV4_BAD_SIGNATURE), "InvalidSignatureException");
    assert_string_equal(vt_sigv4_refusal_type(VT_SIGV4_EXPIRED), "InvalidSignatureException");
    assert_string_equal(vt_sigv4_refusal_type(VT_SIGV4_OK), "");
    assert_string_equal(vt_sigv4_refusal_type((enum vt_sigv4_refusal)99),
                        "InvalidSignatureException");
    for (int i = VT_SIGV4_MISSING; i <= VT_SIGV4_EXPIRED; i++) {
        assert_int_equal(vt_sigv4_refusal_status((enum vt_sigv4_refusal)i), 400);
    }
    assert_int_equal(vt_sigv4_refusal_status((enum vt_sigv4_refusal)99), 400);
    assert_int_equal(vt_sigv4_refusal_status(VT_SIGV4_OK), 200);

    /* A secret callback that writes no terminator is the server's bug, and refuses. */
}

static bool bad_secret(void *ctx, const char *akid, char secret[VT_SIGV4_SECRET_MAX],
                       char *principal, size_t cap)
{
    (void)akid;
    (void)principal;
    (void)cap;
    memset(secret, ctx != NULL ? 'x' : 0, VT_SIGV4_SECRET_MAX);
    return true;
}

static void test_secret_callback(void **state)
{
    (void)state;
    struct treq t;
    treq_kms(&t);
    struct vt_sigv4_expect e = expect_at(T0);
    e.secret = bad_secret;
    e.ctx = &e;
    expect_refused_with(&t, &e, VT_SIGV4_INCOMPLETE, VT_E_INTERNAL, "sigv4.key",
                        "not NUL-terminated");
    e.ctx = NULL;
    expect_refused_with(&t, &e, VT_SIGV4_INCOMPLETE, VT_E_INTERNAL, "sigv4.key", "empty");
}

static void test_sign(void **state)
{
    (void)state;
    struct treq t;
    treq_init(&t, "POST", "/", NULL, BODY);
    char auth[1024], date[17];
    struct vt_diag d;
    vt_diag_init(&d);
    /* No Host to sign. */
    assert_int_equal(
        vt_sigv4_sign(&t.req, AKID, SECRET, "us-east-1", "kms", T0, auth, sizeof(auth), date, &d),
        VT_E_ARG);
    assert_non_null(strstr(d.detail, "no Host"));
    treq_add(&t, "Host", HOST);
    assert_int_equal(
        vt_sigv4_sign(&t.req, AKID, SECRET, "us-east-1", "kms", T0, auth, sizeof(auth), date, &d),
        VT_OK);
    assert_string_equal(date, T0_AMZ);
    assert_non_null(strstr(auth, "AWS4-HMAC-SHA256 Credential=" AKID
                                 "/20250719/us-east-1/kms/aws4_request, SignedHeaders=host;"
                                 "x-amz-date, Signature="));
    /* Too small a buffer. */
    assert_int_equal(
        vt_sigv4_sign(&t.req, AKID, SECRET, "us-east-1", "kms", T0, auth, 100, date, &d),
        VT_E_BUFFER_TOO_SMALL);
    assert_string_equal(auth, "");
    /* Bad arguments. */
    assert_int_equal(vt_sigv4_sign(&t.req, "AK-ID", SECRET, "us-east-1", "kms", T0, auth,
                                   sizeof(auth), date, &d),
                     VT_E_ARG);
    assert_int_equal(
        vt_sigv4_sign(&t.req, AKID, "", "us-east-1", "kms", T0, auth, sizeof(auth), date, &d),
        VT_E_ARG);
    assert_int_equal(
        vt_sigv4_sign(&t.req, AKID, SECRET, "us east", "kms", T0, auth, sizeof(auth), date, &d),
        VT_E_ARG);
    assert_int_equal(vt_sigv4_sign(&t.req, AKID, SECRET, "us-east-1", "kms", (vt_time)1 << 40, auth,
                                   sizeof(auth), date, &d),
                     VT_E_ARG);
    assert_int_equal(
        vt_sigv4_sign(NULL, AKID, SECRET, "us-east-1", "kms", T0, auth, sizeof(auth), date, &d),
        VT_E_ARG);
    /* The request already signed. */
    treq_add(&t, "X-Amz-Date", T0_AMZ);
    assert_int_equal(
        vt_sigv4_sign(&t.req, AKID, SECRET, "us-east-1", "kms", T0, auth, sizeof(auth), date, &d),
        VT_E_ARG);
    treq_del(&t, "X-Amz-Date");
    /* Two payload hashes. */
    treq_add(&t, "X-Amz-Content-Sha256", EMPTY_SHA256);
    treq_add(&t, "x-amz-content-sha256", EMPTY_SHA256);
    assert_int_equal(
        vt_sigv4_sign(&t.req, AKID, SECRET, "us-east-1", "kms", T0, auth, sizeof(auth), date, &d),
        VT_E_ARG);
    treq_del(&t, "X-Amz-Content-Sha256");
    /* A malformed request. */
    t.req.query = "%";
    assert_int_equal(
        vt_sigv4_sign(&t.req, AKID, SECRET, "us-east-1", "kms", T0, auth, sizeof(auth), date, &d),
        VT_E_BAD_PERCENT);
    t.req.query = NULL;
    while (t.req.n_headers < VT_SIGV4_MAX_HEADERS) {
        treq_add(&t, "X-Other", "1");
    }
    assert_int_equal(
        vt_sigv4_sign(&t.req, AKID, SECRET, "us-east-1", "kms", T0, auth, sizeof(auth), date, &d),
        VT_E_TOO_LARGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_botocore_vectors),
        cmocka_unit_test(test_canonical_by_hand),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_header_parts),
        cmocka_unit_test(test_algorithm),
        cmocka_unit_test(test_credential_and_scope),
        cmocka_unit_test(test_signed_headers),
        cmocka_unit_test(test_skew),
        cmocka_unit_test(test_query_form),
        cmocka_unit_test(test_payload),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_signature_bits),
        cmocka_unit_test(test_changed_request),
        cmocka_unit_test(test_request_bounds),
        cmocka_unit_test(test_args_and_types),
        cmocka_unit_test(test_secret_callback),
        cmocka_unit_test(test_sign),
    };
    return cmocka_run_group_tests(tests, load_vectors, free_vectors);
}
