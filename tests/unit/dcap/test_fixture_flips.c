/*
 * Flipping any single byte of a real quote's header, body or signature data, or of the signed
 * inner object of a real tcb_info.json or qe_identity.json, makes verification fail, with the
 * error of the region the byte belongs to. Every position is tried.
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

static const char *const sets[] = {
    "phala-dcap-qvl/sgx-v3-fmspc00a067110000",
    "automata-dcap-attestation/sgx-v3-fmspc00606a000000",
    "phala-dcap-qvl/tdx-v4-fmspcb0c06f000000",
    "automata-dcap-attestation/tdx-v5-fmspc90c06f000000-alibaba",
};

#define MAX_ALLOWED 12

/* A region of the quote and the errors a flip inside it may produce. */
struct region {
    const char *name;
    size_t start, end;
    enum vt_err allowed[MAX_ALLOWED];
};

static bool allowed(const struct region *r, enum vt_err err)
{
    for (size_t i = 0; i < MAX_ALLOWED && r->allowed[i] != VT_OK; i++) {
        if (r->allowed[i] == err) {
            return true;
        }
    }
    return false;
}

struct files {
    char dir[1024];
    uint8_t *raw[7];
    size_t len[7];
};

static const char *const file_names[7] = {
    "tcb_info.json",
    "qe_identity.json",
    "tcb_info_issuer_chain.pem",
    "qe_identity_issuer_chain.pem",
    "pck_crl.der",
    "pck_crl_issuer_chain.pem",
    "root_ca_crl.der",
};

static void files_load(struct files *f, const char *set)
{
    const char *root = vt_fixtures_or_skip();
    snprintf(f->dir, sizeof(f->dir), "%s/dcap/%s", root, set);
    for (size_t i = 0; i < 7; i++) {
        char path[1200];
        snprintf(path, sizeof(path), "%s/%s", f->dir, file_names[i]);
        f->raw[i] = vt_test_read_file(path, &f->len[i]);
        assert_non_null(f->raw[i]);
    }
}

static void files_free(struct files *f)
{
    for (size_t i = 0; i < 7; i++) {
        free(f->raw[i]);
    }
}

/* Build collateral and a verifier from the files, with document `which` replaced by `doc`. */
static enum vt_err make_verifier(const struct files *f, size_t which, const uint8_t *doc,
                                 struct vt_dcap_collateral **coll, struct vt_dcap_verifier **v,
                                 struct vt_diag *d)
{
    const uint8_t *p[7];
    for (size_t i = 0; i < 7; i++) {
        p[i] = i == which ? doc : f->raw[i];
    }
    struct vt_dcap_collateral_input in = {
        p[0],      f->len[0], p[1],      f->len[1], p[2],      f->len[2], p[3],
        f->len[3], p[4],      f->len[4], p[5],      f->len[5], p[6],      f->len[6],
    };
    *coll = NULL;
    *v = NULL;
    vt_diag_init(d);
    enum vt_err err = vt_dcap_collateral_new(&in, coll, d);
    if (err == VT_OK) {
        err = vt_dcap_verifier_new(NULL, *coll, v, d);
    }
    return err;
}

static void test_quote_flips(void **state)
{
    const char *set = *state;
    struct files f;
    files_load(&f, set);
    char path[1200];
    snprintf(path, sizeof(path), "%s/quote.bin", f.dir);
    size_t n;
    uint8_t *quote = vt_test_read_file(path, &n);
    assert_non_null(quote);
    json_error_t jerr;
    snprintf(path, sizeof(path), "%s/expected.json", f.dir);
    json_t *expected = json_load_file(path, 0, &jerr);
    assert_non_null(expected);
    struct vt_dcap_opts opts = {
        .now = (vt_time)json_integer_value(json_object_get(expected, "verification_time")),
        .time_mode = VT_TIME_STRICT};

    struct vt_dcap_collateral *coll;
    struct vt_dcap_verifier *v;
    struct vt_diag d;
    assert_int_equal(make_verifier(&f, 99, NULL, &coll, &v, &d), VT_OK);
    struct vt_claims c;
    assert_int_equal(vt_dcap_verify(v, quote, n, &opts, &c, &d), VT_OK);

    struct vt_dcap_quote q;
    assert_int_equal(vt_dcap_quote_parse(quote, n, &q, &d), VT_OK);
    size_t body = q.version == 5 ? 54 : 48;
    size_t sig = q.signed_len + 4;
    size_t qer = (size_t)(q.qe_report.raw - quote);
    size_t auth = (size_t)(q.qe_auth_data - quote);
    size_t cert = (size_t)(q.cert_data - quote);
    const enum vt_err framing[] = {VT_E_BAD_FIELD, VT_E_BAD_LENGTH, VT_E_TRUNCATED,
                                   VT_E_UNSUPPORTED_CERT_DATA, VT_E_UNSUPPORTED_TEE};
    struct region regions[] = {
        {"header.version", 0, 2, {VT_E_UNSUPPORTED_VERSION}},
        {"header.key_type", 2, 4, {VT_E_UNSUPPORTED_KEY_TYPE}},
        {"header.tee_type", 4, 8, {VT_E_UNSUPPORTED_TEE}},
        {"header.svn_reserved", 8, 12, {VT_E_QUOTE_SIGNATURE}},
        {"header.qe_vendor_id", 12, 28, {VT_E_UNSUPPORTED_QE_VENDOR}},
        {"header.user_data", 28, 48, {VT_E_QUOTE_SIGNATURE}},
        {"body_descriptor", 48, body, {0}},
        {"body", body, q.signed_len, {VT_E_QUOTE_SIGNATURE, VT_E_TDX_MODULE_MISMATCH}},
        {"sig_data_len", q.signed_len, sig, {0}},
        {"quote_signature", sig, sig + 64, {VT_E_QUOTE_SIGNATURE}},
        {"attestation_key", sig + 64, sig + 128, {VT_E_QE_REPORT_DATA}},
        {"outer_cert_header", sig + 128, qer, {0}},
        {"qe_report", qer, qer + 384, {VT_E_QE_REPORT_SIGNATURE}},
        {"qe_report_signature", qer + 384, qer + 448, {VT_E_QE_REPORT_SIGNATURE}},
        {"qe_auth_size", qer + 448, auth, {0}},
        {"qe_auth_data", auth, auth + q.qe_auth_data_len, {VT_E_QE_REPORT_DATA}},
        {"cert_header", auth + q.qe_auth_data_len, cert, {0}},
        {"cert_data",
         cert,
         cert + q.cert_data_len,
         {VT_E_BAD_PEM, VT_E_BAD_CERT, VT_E_CERT_SIGNATURE, VT_E_UNTRUSTED_ROOT, VT_E_CHAIN,
          VT_E_CHAIN_NAME, VT_E_CHAIN_LENGTH, VT_E_BAD_DER, VT_E_CERT_EXTENSION}},
    };
    /* The version field may also turn the quote into another layout that then fails framing. */
    for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
        struct region *r = &regions[i];
        size_t k = 0;
        while (k < MAX_ALLOWED && r->allowed[k] != VT_OK) {
            k++;
        }
        if (i == 0 || r->allowed[0] == VT_OK) {
            for (size_t j = 0; j < sizeof(framing) / sizeof(framing[0]) && k < MAX_ALLOWED; j++) {
                r->allowed[k++] = framing[j];
            }
        }
    }
    assert_int_equal(regions[17].end, q.quote_len);

    size_t tried = 0;
    for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
        const struct region *r = &regions[i];
        for (size_t pos = r->start; pos < r->end; pos++) {
            quote[pos] ^= 0x01;
            enum vt_err err = vt_dcap_verify(v, quote, n, &opts, &c, &d);
            quote[pos] ^= 0x01;
            tried++;
            if (!allowed(r, err)) {
                fail_msg("%s: flip at %zu (%s) gave %s (%s: %s)", set, pos, r->name,
                         vt_err_name(err), d.check, d.detail);
            }
        }
    }
    assert_int_equal(tried, q.quote_len);
    /* The original still verifies: no flip left state behind. */
    assert_int_equal(vt_dcap_verify(v, quote, n, &opts, &c, &d), VT_OK);
    print_message("  %s: %zu positions flipped, all rejected\n", set, tried);
    vt_dcap_verifier_free(v);
    vt_dcap_collateral_free(coll);
    json_decref(expected);
    free(quote);
    files_free(&f);
}

static void flip_document(const struct files *f, size_t which, const char *member)
{
    const uint8_t *span;
    size_t span_len;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(
        vt_json_member_span(f->raw[which], f->len[which], member, &span, &span_len, &d), VT_OK);
    size_t start = (size_t)(span - f->raw[which]);
    uint8_t *doc = malloc(f->len[which]);
    assert_non_null(doc);
    memcpy(doc, f->raw[which], f->len[which]);
    size_t sig_failures = 0;
    for (size_t pos = start; pos < start + span_len; pos++) {
        doc[pos] ^= 0x01;
        struct vt_dcap_collateral *coll;
        struct vt_dcap_verifier *v;
        enum vt_err err = make_verifier(f, which, doc, &coll, &v, &d);
        doc[pos] ^= 0x01;
        vt_dcap_verifier_free(v);
        vt_dcap_collateral_free(coll);
        /* Either the flipped body no longer parses (a malformed-input error naming the field),
         * or it parses and its signature fails. */
        bool malformed = err >= 200 && err < 400;
        if (err == VT_E_COLLATERAL_SIGNATURE) {
            sig_failures++;
        } else if (!malformed && err != VT_E_UNSUPPORTED_VERSION) {
            fail_msg("%s %s: flip at %zu gave %s (%s: %s)", f->dir, file_names[which], pos,
                     vt_err_name(err), d.check, d.detail);
        }
    }
    print_message("  %s: %zu positions, %zu signature failures, the rest malformed\n",
                  file_names[which], span_len, sig_failures);
    assert_true(sig_failures > 0);
    free(doc);
}

static void test_collateral_flips(void **state)
{
    struct files f;
    files_load(&f, *state);
    flip_document(&f, 0, "tcbInfo");
    flip_document(&f, 1, "enclaveIdentity");
    /* The signature itself: every hex digit of it. */
    for (size_t which = 0; which < 2; which++) {
        const uint8_t *span;
        size_t span_len;
        struct vt_diag d;
        assert_int_equal(
            vt_json_member_span(f.raw[which], f.len[which], "signature", &span, &span_len, &d),
            VT_OK);
        size_t start = (size_t)(span - f.raw[which]) + 1; /* skip the quote mark */
        uint8_t *doc = malloc(f.len[which]);
        assert_non_null(doc);
        memcpy(doc, f.raw[which], f.len[which]);
        for (size_t pos = start; pos < start + 128; pos++) {
            uint8_t orig = doc[pos];
            doc[pos] = orig == '0' ? '1' : '0';
            struct vt_dcap_collateral *coll;
            struct vt_dcap_verifier *v;
            enum vt_err err = make_verifier(&f, which, doc, &coll, &v, &d);
            doc[pos] = orig;
            vt_dcap_verifier_free(v);
            vt_dcap_collateral_free(coll);
            assert_int_equal(err, VT_E_COLLATERAL_SIGNATURE);
        }
        free(doc);
    }
    files_free(&f);
}

int main(void)
{
    const size_t nsets = sizeof(sets) / sizeof(sets[0]);
    struct CMUnitTest tests[2 * sizeof(sets) / sizeof(sets[0])];
    for (size_t i = 0; i < nsets; i++) {
        tests[i] = (struct CMUnitTest){sets[i], test_quote_flips, NULL, NULL, (void *)sets[i]};
        tests[nsets + i] =
            (struct CMUnitTest){"collateral", test_collateral_flips, NULL, NULL, (void *)sets[i]};
    }
    return _cmocka_run_group_tests("dcap_fixture_flips", tests, 2 * nsets, NULL, NULL);
}
