/*
 * Every real Nitro attestation document in ../shared/fixtures/nitro (expected.json) verifies at
 * the edges of its chain window and at its timestamp, with the PCRs, module_id, user_data, nonce
 * and public_key listed there; fails one second outside the window; honours --nonce and
 * --max-age; the corrupted as-published 2026 document fails; and flipping any byte of the
 * protected header, payload or signature fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "internal.h"

#include "vt_fixtures.h"

struct doc {
    char path[1024];
    uint8_t *bytes;
    size_t len;
    json_t *exp; /* borrowed from the expected.json root */
};

static json_t *load_expected(void)
{
    const char *root = vt_fixtures_or_skip();
    char path[1024];
    snprintf(path, sizeof(path), "%s/nitro/expected.json", root);
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    assert_non_null(j);
    return j;
}

static void doc_load(struct doc *doc, json_t *exp)
{
    const char *root = vt_fixtures_or_skip();
    doc->exp = exp;
    snprintf(doc->path, sizeof(doc->path), "%s/nitro/%s", root,
             json_string_value(json_object_get(exp, "file")));
    doc->bytes = vt_test_read_file(doc->path, &doc->len);
    assert_non_null(doc->bytes);
}

static vt_time exp_time(json_t *exp, const char *key)
{
    return vt_fixtures_time(json_string_value(json_object_get(exp, key)));
}

static enum vt_err verify(struct vt_nitro_verifier *v, const struct doc *doc, vt_time now,
                          int64_t max_age, const uint8_t *nonce, size_t nonce_len,
                          struct vt_claims *c, struct vt_diag *d)
{
    struct vt_nitro_opts o = {.now = now,
                              .time_mode = VT_TIME_STRICT,
                              .max_age = max_age,
                              .nonce = nonce,
                              .nonce_len = nonce_len};
    vt_diag_init(d);
    return vt_nitro_verify(v, doc->bytes, doc->len, &o, c, d);
}

static void expect_hex(const char *name, const uint8_t *p, size_t n, const char *want)
{
    char *hex = malloc(2 * n + 1);
    assert_non_null(hex);
    vt_hex_encode(p, n, hex);
    if (strcmp(hex, want) != 0) {
        fail_msg("%s: got %s, want %s", name, hex, want);
    }
    free(hex);
}

static void expect_binding(const struct vt_binding_claim *b, json_t *want, const char *name)
{
    if (json_is_null(want) || want == NULL) {
        assert_false(b->present);
        return;
    }
    assert_true(b->present);
    expect_hex(name, b->data, b->len, json_string_value(want));
}

static void check_claims(const struct doc *doc, const struct vt_claims *c)
{
    json_t *exp = doc->exp;
    assert_int_equal(c->tee, VT_TEE_NITRO);
    assert_int_equal(c->status, VT_TCB_UP_TO_DATE);
    assert_string_equal(c->nitro.module_id, json_string_value(json_object_get(exp, "module_id")));
    assert_int_equal(c->nitro.timestamp_ms,
                     json_integer_value(json_object_get(exp, "timestamp_ms")));
    json_t *nonzero = json_object_get(exp, "pcrs_nonzero");
    size_t count = (size_t)json_integer_value(json_object_get(exp, "pcr_count"));
    for (unsigned i = 0; i < count; i++) {
        assert_true(c->nitro.pcr_mask & (1u << i));
        char key[8];
        snprintf(key, sizeof(key), "%u", i);
        json_t *want = json_object_get(nonzero, key);
        if (want != NULL) {
            expect_hex(key, c->nitro.pcrs[i], c->nitro.pcr_len[i], json_string_value(want));
        } else {
            for (size_t k = 0; k < c->nitro.pcr_len[i]; k++) {
                assert_int_equal(c->nitro.pcrs[i][k], 0);
            }
        }
    }
    assert_int_equal(c->nitro.pcr_mask >> count, 0);
    /* Debug enclaves report PCR0 as zero. */
    assert_int_equal(c->debug, json_object_get(nonzero, "0") == NULL);
    expect_binding(&c->public_key, json_object_get(exp, "public_key"), "public_key");
    expect_binding(&c->user_data, json_object_get(exp, "user_data"), "user_data");
    expect_binding(&c->nonce, json_object_get(exp, "nonce"), "nonce");
    char *json = vt_claims_to_json(c);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"nitro.pcr0\":"));
    free(json);
}

static void test_documents(void **state)
{
    (void)state;
    json_t *all = load_expected();
    struct vt_nitro_verifier *v;
    struct vt_diag d;
    assert_int_equal(vt_nitro_verifier_new(NULL, &v, &d), VT_OK);
    json_t *docs = json_object_get(all, "documents");
    assert_true(json_array_size(docs) >= 8);
    struct vt_claims c;
    for (size_t i = 0; i < json_array_size(docs); i++) {
        struct doc doc;
        doc_load(&doc, json_array_get(docs, i));
        vt_time lo = exp_time(doc.exp, "chain_valid_from_utc");
        vt_time hi = exp_time(doc.exp, "chain_valid_until_utc");
        vt_time ts = (vt_time)(json_integer_value(json_object_get(doc.exp, "timestamp_ms")) / 1000);
        const vt_time inside[] = {lo, ts, hi};
        for (size_t k = 0; k < 3; k++) {
            enum vt_err err = verify(v, &doc, inside[k], -1, NULL, 0, &c, &d);
            if (err != VT_OK) {
                fail_msg("%s at %lld: %s %s: %s", doc.path, (long long)inside[k], vt_err_name(err),
                         d.check, d.detail);
            }
            check_claims(&doc, &c);
        }
        assert_int_equal(verify(v, &doc, hi + 1, -1, NULL, 0, &c, &d), VT_E_EXPIRED);
        assert_int_equal(verify(v, &doc, lo - 1, -1, NULL, 0, &c, &d), VT_E_NOT_YET_VALID);

        /* Freshness: max-age on the timestamp, and the expected nonce. */
        assert_int_equal(verify(v, &doc, ts + 10, 60, NULL, 0, &c, &d), VT_OK);
        if (ts + 100 <= hi) {
            assert_int_equal(verify(v, &doc, ts + 100, 60, NULL, 0, &c, &d), VT_E_EXPIRED);
            assert_string_equal(d.check, "document.max_age");
        }
        const uint8_t wrong[4] = {1, 2, 3, 4};
        json_t *nonce = json_object_get(doc.exp, "nonce");
        assert_int_equal(verify(v, &doc, ts, -1, wrong, sizeof(wrong), &c, &d),
                         VT_E_NONCE_MISMATCH);
        if (json_is_string(nonce)) {
            uint8_t want[1024];
            size_t n;
            const char *hex = json_string_value(nonce);
            assert_int_equal(vt_hex_decode(hex, strlen(hex), want, sizeof(want), &n), VT_OK);
            assert_int_equal(verify(v, &doc, ts, -1, want, n, &c, &d), VT_OK);
            want[n - 1] ^= 1;
            assert_int_equal(verify(v, &doc, ts, -1, want, n, &c, &d), VT_E_NONCE_MISMATCH);
        }
        print_message("  %s: verified in [%lld, %lld]\n", doc.path, (long long)lo, (long long)hi);
        free(doc.bytes);
    }
    vt_nitro_verifier_free(v);
    json_decref(all);
}

/* Without the AWS root as an anchor (a synthetic anchor only), real documents are untrusted. */
static void test_untrusted_without_aws_root(void **state)
{
    (void)state;
    json_t *all = load_expected();
    struct doc doc;
    doc_load(&doc, json_array_get(json_object_get(all, "documents"), 0));
    struct vt_cert_list anchors;
    vt_cert_list_init(&anchors);
    struct vt_diag d;
    assert_int_equal(vt_intel_sgx_root_add(&anchors, &d), VT_OK);
    struct vt_nitro_verifier *v;
    assert_int_equal(vt_nitro_verifier_new(&anchors, &v, &d), VT_OK);
    struct vt_claims c;
    assert_int_equal(
        verify(v, &doc, exp_time(doc.exp, "chain_valid_from_utc"), -1, NULL, 0, &c, &d),
        VT_E_UNTRUSTED_ROOT);
    vt_nitro_verifier_free(v);
    vt_cert_list_cleanup(&anchors);
    free(doc.bytes);
    json_decref(all);
}

static uint8_t *read_decoded(const char *rel, size_t *len)
{
    const char *root = vt_fixtures_or_skip();
    char path[1024];
    snprintf(path, sizeof(path), "%s/nitro/%s", root, rel);
    struct vt_buf b;
    struct vt_diag d;
    vt_buf_init(&b, VT_MAX_EVIDENCE_SIZE);
    assert_int_equal(vt_file_read(path, &b, &d), VT_OK);
    enum vt_err err = vt_evidence_decode_text(&b, &d);
    if (err != VT_OK) {
        vt_buf_cleanup(&b);
        return NULL;
    }
    return vt_buf_steal(&b, len);
}

/* The as-published 2026 document lacks 3 bytes: it must not verify. The base64 evervault file
 * decodes to the same document as its derived .cose. */
static void test_text_documents(void **state)
{
    (void)state;
    struct vt_nitro_verifier *v;
    struct vt_diag d;
    assert_int_equal(vt_nitro_verifier_new(NULL, &v, &d), VT_OK);
    size_t len;
    uint8_t *bad =
        read_decoded("base-nitro-validator/attestation-2026-01-03.as-published.b64", &len);
    if (bad != NULL) {
        struct vt_claims c;
        struct vt_nitro_opts o = {.now = 1767472867, .max_age = -1};
        enum vt_err err = vt_nitro_verify(v, bad, len, &o, &c, &d);
        assert_int_not_equal(err, VT_OK);
        print_message("  as-published 2026 document: %s (%s: %s)\n", vt_err_name(err), d.check,
                      d.detail);
        free(bad);
    }
    size_t n1, n2;
    uint8_t *b64 = read_decoded("evervault/test-data/valid-attestation-doc-base64", &n1);
    const char *root = vt_fixtures_or_skip();
    char path[1024];
    snprintf(path, sizeof(path),
             "%s/nitro/evervault/derived/valid-attestation-doc-ga-2023-09-18.cose", root);
    uint8_t *cose = vt_test_read_file(path, &n2);
    assert_non_null(b64);
    assert_non_null(cose);
    assert_int_equal(n1, n2);
    assert_memory_equal(b64, cose, n1);
    free(b64);
    free(cose);
    vt_nitro_verifier_free(v);
}

static void flip_all(const char *file, bool definite)
{
    json_t *all = load_expected();
    json_t *docs = json_object_get(all, "documents");
    struct doc doc = {0};
    for (size_t i = 0; i < json_array_size(docs); i++) {
        if (strcmp(json_string_value(json_object_get(json_array_get(docs, i), "file")), file) ==
            0) {
            doc_load(&doc, json_array_get(docs, i));
        }
    }
    assert_non_null(doc.bytes);
    struct vt_nitro_verifier *v;
    struct vt_diag d;
    assert_int_equal(vt_nitro_verifier_new(NULL, &v, &d), VT_OK);
    vt_time at = exp_time(doc.exp, "chain_valid_from_utc");
    struct vt_claims c;
    assert_int_equal(verify(v, &doc, at, -1, NULL, 0, &c, &d), VT_OK);
    struct vt_nitro_doc parsed;
    assert_int_equal(vt_nitro_doc_parse(doc.bytes, doc.len, &parsed, &d), VT_OK);
    assert_int_equal(parsed.payload[0], definite ? 0xa9 : 0xbf);
    /* Every byte from the protected header's head to the end of the signature. */
    size_t start = (size_t)(parsed.protected_hdr - doc.bytes) - 1;
    size_t sig = (size_t)(parsed.signature - doc.bytes);
    size_t sig_failures = 0;
    for (size_t pos = start; pos < doc.len; pos++) {
        doc.bytes[pos] ^= 0x01;
        enum vt_err err = verify(v, &doc, at, -1, NULL, 0, &c, &d);
        doc.bytes[pos] ^= 0x01;
        if (err == VT_OK) {
            fail_msg("%s: flip at %zu of %zu verified", file, pos, doc.len);
        }
        if (pos >= sig) {
            assert_int_equal(err, VT_E_SIGNATURE);
        }
        sig_failures += err == VT_E_SIGNATURE;
    }
    assert_int_equal(verify(v, &doc, at, -1, NULL, 0, &c, &d), VT_OK);
    print_message("  %s: %zu positions flipped, all rejected (%zu by the COSE signature)\n", file,
                  doc.len - start, sig_failures);
    vt_nitro_verifier_free(v);
    free(doc.bytes);
    json_decref(all);
}

static void test_flips_definite(void **state)
{
    (void)state;
    flip_all("base-nitro-validator/attestation-2024-11-30.cose", true);
}

static void test_flips_indefinite(void **state)
{
    (void)state;
    flip_all("base-nitro-validator/attestation-2026-01-03.repaired.cose", false);
}

/* The embedded root is the genuine AWS Nitro Enclaves Root G1. */
static void test_embedded_root(void **state)
{
    (void)state;
    size_t len;
    const uint8_t *der = vt_aws_nitro_root_der(&len);
    uint8_t h[32];
    char hex[65];
    vt_sha256(der, len, h);
    vt_hex_encode(h, 32, hex);
    assert_string_equal(hex, "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_root),
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_untrusted_without_aws_root),
        cmocka_unit_test(test_text_documents),
        cmocka_unit_test(test_flips_definite),
        cmocka_unit_test(test_flips_indefinite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
