/*
 * vt_json_member_span: the exact bytes of a top-level member's value. Spans of every value kind,
 * whitespace, the strict grammar (every malformed form is VT_E_BAD_JSON), duplicates, depth,
 * truncation at every byte, untouched outputs on failure, and on the real PCS bodies: the
 * "tcbEvaluationDataNumbers" span of each *tcbeval.json verifies against Intel's signature.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "internal.h"

#include "vt_fixtures.h"

/* Span of `key` in the NUL-terminated text, or the error. */
static enum vt_err span(const char *json, const char *key, const char **val, size_t *len)
{
    struct vt_diag d;
    vt_diag_init(&d);
    const uint8_t *v = NULL;
    enum vt_err err = vt_json_member_span((const uint8_t *)json, strlen(json), key, &v, len, &d);
    *val = (const char *)v;
    if (err != VT_OK) {
        assert_int_equal(d.code, err);
        assert_true(d.check[0] != '\0');
    }
    return err;
}

static void expect_span(const char *json, const char *key, const char *want)
{
    const char *v;
    size_t len;
    enum vt_err err = span(json, key, &v, &len);
    if (err != VT_OK) {
        fail_msg("%s in %s: %s", key, json, vt_err_name(err));
    }
    assert_int_equal(len, strlen(want));
    assert_memory_equal(v, want, len);
    /* The span lies inside the input. */
    assert_true(v >= json && v + len <= json + strlen(json));
}

static void test_spans(void **state)
{
    (void)state;
    const char *doc = "{\"a\":1,\"tcbInfo\":{\"x\":[1,{\"y\":\"}\"}],\"z\":\"\\\"}\"},"
                      "\"s\":\"ab\\u00e9\\\\\",\"n\":-0.5e+10,\"t\":true,\"f\":false,"
                      "\"nul\":null,\"arr\":[ [] , {} ,\"]\" ],\"e\":{}}";
    expect_span(doc, "tcbInfo", "{\"x\":[1,{\"y\":\"}\"}],\"z\":\"\\\"}\"}");
    expect_span(doc, "a", "1");
    expect_span(doc, "s", "\"ab\\u00e9\\\\\"");
    expect_span(doc, "n", "-0.5e+10");
    expect_span(doc, "t", "true");
    expect_span(doc, "f", "false");
    expect_span(doc, "nul", "null");
    expect_span(doc, "arr", "[ [] , {} ,\"]\" ]");
    expect_span(doc, "e", "{}");
    /* Whitespace around the object and around tokens; the span excludes it. */
    expect_span(" \t\r\n{ \"k\" :\n [ 1 , 2 ] \t, \"m\":0 }\n\n ", "k", "[ 1 , 2 ]");
    expect_span("{\"k\":0}", "k", "0");
    /* UTF-8 and surrogate pairs in strings, names included. */
    expect_span("{\"\xc3\xa9\":1,\"k\":\"\xf0\x9f\x98\x80\\ud83d\\ude00\xe2\x82\xac\"}", "k",
                "\"\xf0\x9f\x98\x80\\ud83d\\ude00\xe2\x82\xac\"");
    /* \u0000 is valid JSON (the collateral parsers reject it through jansson). */
    expect_span("{\"k\":\"\\u0000\"}", "k", "\"\\u0000\"");
    /* Numbers of every form. */
    static const char *const numbers[] = {"0",    "-0",    "12",     "-12.5",   "1e5",
                                          "1E+5", "1e-05", "0.0001", "123.45E6"};
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        char json[64];
        snprintf(json, sizeof(json), "{\"k\":%s}", numbers[i]);
        expect_span(json, "k", numbers[i]);
    }
}

static void test_missing_and_nested(void **state)
{
    (void)state;
    const char *v;
    size_t len;
    assert_int_equal(span("{}", "k", &v, &len), VT_E_MISSING_FIELD);
    assert_int_equal(span("{\"a\":1}", "k", &v, &len), VT_E_MISSING_FIELD);
    /* Only top-level members count. */
    assert_int_equal(span("{\"a\":{\"k\":1},\"b\":[{\"k\":2}]}", "k", &v, &len),
                     VT_E_MISSING_FIELD);
    /* A string value equal to the key is not a member name. */
    assert_int_equal(span("{\"a\":\"k\"}", "k", &v, &len), VT_E_MISSING_FIELD);
    /* Names are compared exactly: case, prefixes, and escapes all differ. */
    assert_int_equal(span("{\"tcbinfo\":1}", "tcbInfo", &v, &len), VT_E_MISSING_FIELD);
    assert_int_equal(span("{\"tcbInfo2\":1}", "tcbInfo", &v, &len), VT_E_MISSING_FIELD);
    assert_int_equal(span("{\"tcbInf\":1}", "tcbInfo", &v, &len), VT_E_MISSING_FIELD);
    assert_int_equal(span("{\"tcb\\u0049nfo\":1}", "tcbInfo", &v, &len), VT_E_MISSING_FIELD);
    /* ... so an escaped twin is not a duplicate here (jansson catches it in the parsers). */
    expect_span("{\"tcb\\u0049nfo\":1,\"tcbInfo\":2}", "tcbInfo", "2");
}

static void test_duplicate(void **state)
{
    (void)state;
    const char *v;
    size_t len;
    assert_int_equal(span("{\"k\":1,\"k\":1}", "k", &v, &len), VT_E_DUPLICATE);
    assert_int_equal(span("{\"k\":{},\"a\":2,\"k\":[]}", "k", &v, &len), VT_E_DUPLICATE);
    /* Duplicates of other names are not this function's business. */
    expect_span("{\"a\":1,\"a\":2,\"k\":3}", "k", "3");
    /* Nested duplicates of the key are not top-level members. */
    expect_span("{\"k\":{\"k\":1,\"k\":2}}", "k", "{\"k\":1,\"k\":2}");
}

static void test_bad_json(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "   ",
        "[]",
        "\"k\"",
        "1",
        "null",
        "{",
        "}",
        "{\"k\"}",
        "{\"k\":}",
        "{\"k\" 1}",
        "{\"k\":1,}",
        "{,\"k\":1}",
        "{\"k\":1 \"a\":2}",
        "{k:1}",
        "{'k':1}",
        "{\"k\":01}",
        "{\"k\":1.}",
        "{\"k\":.5}",
        "{\"k\":-}",
        "{\"k\":+1}",
        "{\"k\":1e}",
        "{\"k\":1e+}",
        "{\"k\":0x10}",
        "{\"k\":NaN}",
        "{\"k\":Infinity}",
        "{\"k\":tru}",
        "{\"k\":True}",
        "{\"k\":nul}",
        "{\"k\":falsey}",
        "{\"k\":[1,]}",
        "{\"k\":[,1]}",
        "{\"k\":[1 2]}",
        "{\"k\":[1}",
        "{\"k\":{\"a\"}}",
        "{\"k\":{\"a\":1,}}",
        "{\"k\":{1:2}}",
        "{\"k\":\"abc}",
        "{\"k\":\"\\x\"}",
        "{\"k\":\"\\u12G4\"}",
        "{\"k\":\"\\u12\"}",
        "{\"k\":\"\\ud800\"}",
        "{\"k\":\"\\ud800\\n\"}",
        "{\"k\":\"\\ud800\\u0041\"}",
        "{\"k\":\"\\udc00\"}",
        "{\"k\":\"a\tb\"}",
        "{\"k\":\"a\nb\"}",
        "{\"k\":\"\x7f\x80\"}",
        "{\"k\":\"\xc0\x80\"}",
        "{\"k\":\"\xc3\"}",
        "{\"k\":\"\xe0\x80\x80\"}",
        "{\"k\":\"\xed\xa0\x80\"}",
        "{\"k\":\"\xf0\x80\x80\x80\"}",
        "{\"k\":\"\xf4\x90\x80\x80\"}",
        "{\"k\":\"\xf5\x80\x80\x80\"}",
        "{\"k\":\"\xff\"}",
        "{\"k\":1}x",
        "{\"k\":1}{}",
        "{\"k\":1},",
        "{\"k\":1}\v",
        "\xef\xbb\xbf{\"k\":1}",
        "{\"k\":1}/* */",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *v = "untouched";
        size_t len = 12345;
        enum vt_err err = span(bad[i], "k", &v, &len);
        if (err != VT_E_BAD_JSON) {
            fail_msg("case %zu \"%s\": got %s, want VT_E_BAD_JSON", i, bad[i], vt_err_name(err));
        }
        assert_int_equal(len, 12345);
    }
    /* A NUL byte inside the buffer is not whitespace nor part of a string. */
    struct vt_diag d;
    const uint8_t *v;
    size_t len;
    assert_int_equal(vt_json_member_span((const uint8_t *)"{\"k\":1}\0", 8, "k", &v, &len, &d),
                     VT_E_BAD_JSON);
    assert_int_equal(vt_json_member_span((const uint8_t *)"{\"k\":\"a\0\"}", 10, "k", &v, &len, &d),
                     VT_E_BAD_JSON);
}

static void test_args(void **state)
{
    (void)state;
    const uint8_t *v;
    size_t len;
    struct vt_diag d;
    const uint8_t j[] = "{\"k\":1}";
    assert_int_equal(vt_json_member_span(NULL, 3, "k", &v, &len, &d), VT_E_ARG);
    assert_int_equal(vt_json_member_span(j, 7, NULL, &v, &len, &d), VT_E_ARG);
    assert_int_equal(vt_json_member_span(j, 7, "k", NULL, &len, &d), VT_E_ARG);
    assert_int_equal(vt_json_member_span(j, 7, "k", &v, NULL, &d), VT_E_ARG);
    assert_int_equal(vt_json_member_span(NULL, 0, "k", &v, &len, &d), VT_E_BAD_JSON);
    /* d may be NULL. */
    assert_int_equal(vt_json_member_span(j, 7, "k", &v, &len, NULL), VT_OK);
    assert_int_equal(vt_json_member_span(j, 6, "k", &v, &len, NULL), VT_E_BAD_JSON);
}

/* An object nested `depth` levels deep in total (the top-level object is level 1). */
static char *nested(int depth, char open, char close)
{
    size_t n = (size_t)depth * 2 + 16;
    char *s = malloc(n);
    assert_non_null(s);
    size_t o = 0;
    o += (size_t)snprintf(s, n, "{\"k\":");
    for (int i = 1; i < depth; i++) {
        s[o++] = open;
        if (open == '{' && i + 1 < depth) {
            memcpy(s + o, "\"a\":", 4);
            o += 4;
        }
    }
    for (int i = 1; i < depth; i++) {
        s[o++] = close;
    }
    s[o++] = '}';
    s[o] = '\0';
    return s;
}

static void test_depth(void **state)
{
    (void)state;
    const char *v;
    size_t len;
    /* Only arrays (the object form needs "a": names, built below). */
    for (int depth = 2; depth <= VT_MAX_JSON_DEPTH + 1; depth++) {
        char *s = nested(depth, '[', ']');
        enum vt_err err = span(s, "k", &v, &len);
        assert_int_equal(err, depth <= VT_MAX_JSON_DEPTH ? VT_OK : VT_E_TOO_LARGE);
        free(s);
    }
    /* Objects: {"k":{"a":{"a":{}}}} */
    char buf[512];
    for (int depth = 2; depth <= VT_MAX_JSON_DEPTH + 1; depth++) {
        size_t o = (size_t)snprintf(buf, sizeof(buf), "{\"k\":");
        for (int i = 2; i < depth; i++) {
            o += (size_t)snprintf(buf + o, sizeof(buf) - o, "{\"a\":");
        }
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "{}");
        for (int i = 2; i < depth; i++) {
            buf[o++] = '}';
        }
        buf[o++] = '}';
        buf[o] = '\0';
        assert_int_equal(span(buf, "k", &v, &len),
                         depth <= VT_MAX_JSON_DEPTH ? VT_OK : VT_E_TOO_LARGE);
    }
    /* A depth bomb far past the limit is refused without recursing into it. */
    char *bomb = nested(200000, '[', ']');
    assert_int_equal(span(bomb, "k", &v, &len), VT_E_TOO_LARGE);
    free(bomb);
    /* Depth counts in members other than the one looked for, too. */
    char *deep = nested(VT_MAX_JSON_DEPTH + 1, '[', ']');
    deep[2] = 'x'; /* the deep member is now "x" */
    assert_int_equal(span(deep, "k", &v, &len), VT_E_TOO_LARGE);
    free(deep);
}

static void test_truncation(void **state)
{
    (void)state;
    const char *doc = "{\"tcbInfo\":{\"a\":[1,2.5e3,\"x\\u00e9\\n\",true,null],\"b\":{}},"
                      "\"signature\":\"abcd\"}";
    size_t n = strlen(doc);
    for (size_t cut = 0; cut < n; cut++) {
        struct vt_diag d;
        vt_diag_init(&d);
        const uint8_t *v = NULL;
        size_t len = 0;
        enum vt_err err = vt_json_member_span((const uint8_t *)doc, cut, "tcbInfo", &v, &len, &d);
        if (err != VT_E_BAD_JSON) {
            fail_msg("cut at %zu: got %s", cut, vt_err_name(err));
        }
        assert_null(v);
    }
    const char *v;
    size_t len;
    assert_int_equal(span(doc, "tcbInfo", &v, &len), VT_OK);
}

static bool verify_p256(const char *chain_path, const uint8_t *body, size_t len,
                        const uint8_t sig[64])
{
    FILE *f = fopen(chain_path, "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    ECDSA_SIG *s = ECDSA_SIG_new();
    assert_non_null(s);
    assert_int_equal(ECDSA_SIG_set0(s, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL)), 1);
    unsigned char *der = NULL;
    int der_len = i2d_ECDSA_SIG(s, &der);
    assert_true(der_len > 0);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    int ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, X509_get0_pubkey(x)) == 1 &&
             EVP_DigestVerify(ctx, der, (size_t)der_len, body, len) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(s);
    X509_free(x);
    return ok;
}

static void test_fixture_tcbeval(void **state)
{
    (void)state;
    const char *root = vt_fixtures_or_skip();
    char dir[1024], path[1400], chain[1400];
    snprintf(dir, sizeof(dir), "%s/dcap/automata-dcap-attestation/pcs-bodies", root);
    snprintf(chain, sizeof(chain),
             "%s/dcap/automata-dcap-attestation/sgx-v3-fmspc00606a000000/"
             "tcb_info_issuer_chain.pem",
             root);
    DIR *dh = opendir(dir);
    assert_non_null(dh);
    int found = 0;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        size_t nl = strlen(e->d_name);
        if (nl < 12 || strcmp(e->d_name + nl - 12, "tcbeval.json") != 0) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        size_t len;
        uint8_t *json = vt_test_read_file(path, &len);
        assert_non_null(json);
        struct vt_diag d;
        vt_diag_init(&d);
        const uint8_t *body, *sig_span;
        size_t body_len, sig_len;
        if (vt_json_member_span(json, len, "tcbEvaluationDataNumbers", &body, &body_len, &d) !=
            VT_OK) {
            fail_msg("%s: %s: %s", e->d_name, d.check, d.detail);
        }
        assert_int_equal(body[0], '{');
        assert_int_equal(body[body_len - 1], '}');
        assert_int_equal(vt_json_member_span(json, len, "signature", &sig_span, &sig_len, &d),
                         VT_OK);
        assert_int_equal(sig_len, 130); /* 128 hex digits in quotes */
        uint8_t sig[64];
        assert_int_equal(vt_hex_decode_exact((const char *)sig_span + 1, 128, sig, 64), VT_OK);
        if (!verify_p256(chain, body, body_len, sig)) {
            fail_msg("%s: signature does not verify over the span", e->d_name);
        }
        /* The span is the signed text: one byte more or less and it no longer verifies. */
        assert_false(verify_p256(chain, body, body_len - 1, sig));
        /* Missing members of the real document. */
        assert_int_equal(vt_json_member_span(json, len, "tcbInfo", &body, &body_len, &d),
                         VT_E_MISSING_FIELD);
        free(json);
        found++;
    }
    closedir(dh);
    print_message("verified %d tcbEvaluationDataNumbers spans\n", found);
    assert_true(found >= 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spans),      cmocka_unit_test(test_missing_and_nested),
        cmocka_unit_test(test_duplicate),  cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_args),       cmocka_unit_test(test_depth),
        cmocka_unit_test(test_truncation), cmocka_unit_test(test_fixture_tcbeval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
