/*
 * Every complete real DCAP fixture set (../shared/fixtures/dcap/<source>/<set>) verifies at its
 * expected.json time with exactly the expected status, advisory IDs, QE and module statuses; the
 * TCB-not-supported sets fail with that error. expected.json's validity window [lo, hi] has hi =
 * the earliest nextUpdate/notAfter: veritee follows QvE (expired when that date <= now), so hi - 1
 * is the last second that verifies and hi itself is expired, in both modes; one second before lo
 * strict mode fails, and expiry-only mode accepts it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <jansson.h>

#include "internal.h"

#include "vt_fixtures.h"

static const char *const sets[] = {
    "phala-dcap-qvl/sgx-v3-fmspc00a067110000",
    "phala-dcap-qvl/tdx-v4-fmspcb0c06f000000",
    "phala-dcap-qvl/tdx-v4-fmspc20a06f000000-near",
    "phala-dcap-qvl/tdx-v5-fmspc90c06f000000-tcb-not-supported",
    "automata-dcap-attestation/sgx-v3-fmspc00606a000000",
    "automata-dcap-attestation/tdx-v4-fmspc00806f050000",
    "automata-dcap-attestation/tdx-v5-fmspc90c06f000000-alibaba",
    "go-tdx-guest/tdx-v4-fmspc50806f000000-spr-e4",
};

struct fixture {
    char dir[1024];
    uint8_t *quote;
    size_t quote_len;
    json_t *expected;
    struct vt_dcap_collateral *coll;
    struct vt_dcap_verifier *verifier;
};

static void fixture_load(struct fixture *f, const char *set)
{
    const char *root = vt_fixtures_or_skip();
    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "%s/dcap/%s", root, set);
    char path[1200];
    snprintf(path, sizeof(path), "%s/quote.bin", f->dir);
    f->quote = vt_test_read_file(path, &f->quote_len);
    assert_non_null(f->quote);
    snprintf(path, sizeof(path), "%s/expected.json", f->dir);
    json_error_t jerr;
    f->expected = json_load_file(path, 0, &jerr);
    assert_non_null(f->expected);
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_dcap_collateral_load_dir(f->dir, &f->coll, &d);
    if (err != VT_OK) {
        fail_msg("%s: collateral: %s: %s", set, d.check, d.detail);
    }
    err = vt_dcap_verifier_new(NULL, f->coll, &f->verifier, &d);
    if (err != VT_OK) {
        fail_msg("%s: verifier: %s: %s", set, d.check, d.detail);
    }
}

static void fixture_free(struct fixture *f)
{
    vt_dcap_verifier_free(f->verifier);
    vt_dcap_collateral_free(f->coll);
    json_decref(f->expected);
    free(f->quote);
}

static vt_time window(const struct fixture *f, size_t i)
{
    return (vt_time)json_integer_value(
        json_array_get(json_object_get(f->expected, "validity_window"), i));
}

static enum vt_err verify_at(struct fixture *f, vt_time now, enum vt_time_mode mode,
                             struct vt_claims *c, struct vt_diag *d)
{
    struct vt_dcap_opts opts = {.now = now, .time_mode = mode};
    vt_diag_init(d);
    return vt_dcap_verify(f->verifier, f->quote, f->quote_len, &opts, c, d);
}

static bool expects_not_supported(const struct fixture *f)
{
    return strncmp(json_string_value(json_object_get(f->expected, "status")), "TCB_NOT_SUPPORTED",
                   17) == 0;
}

static void check_expected_verdict(struct fixture *f, vt_time now, enum vt_time_mode mode)
{
    struct vt_claims c;
    struct vt_diag d;
    enum vt_err err = verify_at(f, now, mode, &c, &d);
    if (expects_not_supported(f)) {
        if (err != VT_E_TCB_NOT_SUPPORTED) {
            fail_msg("%s: expected VT_E_TCB_NOT_SUPPORTED, got %s (%s: %s)", f->dir,
                     vt_err_name(err), d.check, d.detail);
        }
        print_message("  %s -> TCB not supported: %s\n", f->dir, d.detail);
        return;
    }
    if (err != VT_OK) {
        fail_msg("%s: %s: %s: %s", f->dir, vt_err_name(err), d.check, d.detail);
    }
    const char *tee = json_string_value(json_object_get(f->expected, "tee"));
    assert_int_equal(c.tee, strcmp(tee, "SGX") == 0 ? VT_TEE_SGX : VT_TEE_TDX);
    assert_string_equal(vt_tcb_status_name(c.status),
                        json_string_value(json_object_get(f->expected, "status")));
    assert_string_equal(vt_tcb_status_name(c.qe_status),
                        json_string_value(json_object_get(f->expected, "qe_status")));
    json_t *module = json_object_get(f->expected, "tdx_module_status");
    if (module != NULL) {
        assert_string_equal(vt_tcb_status_name(c.module_status), json_string_value(module));
        assert_string_equal(c.dcap.tdx_module_identity,
                            json_string_value(json_object_get(f->expected, "tdx_module_identity")));
    }
    json_t *adv = json_object_get(f->expected, "advisory_ids");
    assert_int_equal(c.advisories.n, json_array_size(adv));
    for (size_t i = 0; i < c.advisories.n; i++) {
        bool found = false;
        for (size_t j = 0; j < json_array_size(adv); j++) {
            found = found ||
                    strcmp(c.advisories.ids[i], json_string_value(json_array_get(adv, j))) == 0;
        }
        assert_true(found);
    }
    assert_int_equal(c.dcap.quote_version,
                     json_integer_value(json_object_get(f->expected, "quote_version")));
    assert_string_equal(c.dcap.pck_ca, json_string_value(json_object_get(f->expected, "pck_ca")));
    /* The FMSPC in the claims is the one the directory is named after. */
    char fmspc[13];
    vt_hex_encode(c.dcap.fmspc, 6, fmspc);
    const char *name = strstr(f->dir, "fmspc");
    assert_non_null(name);
    assert_true(strncasecmp(name + 5, fmspc, 12) == 0);
    assert_int_equal(c.verified_at, now);
    assert_true(c.collateral.earliest_expiry >= now);
    assert_int_equal(c.collateral.n, 4);
    assert_true(c.collateral.tcb_eval_num > 0);
    char *json = vt_claims_to_json(&c);
    assert_non_null(json);
    free(json);
}

static void test_set(void **state)
{
    const char *set = *state;
    struct fixture f;
    fixture_load(&f, set);
    vt_time at = (vt_time)json_integer_value(json_object_get(f.expected, "verification_time"));
    vt_time lo = window(&f, 0), hi = window(&f, 1);
    assert_true(lo <= at && at < hi);

    /* At the recorded time, and at both edges of the validity window, in both modes. */
    check_expected_verdict(&f, at, VT_TIME_STRICT);
    check_expected_verdict(&f, at, VT_TIME_EXPIRY_ONLY);
    check_expected_verdict(&f, lo, VT_TIME_STRICT);
    check_expected_verdict(&f, lo + 1, VT_TIME_STRICT);
    check_expected_verdict(&f, hi - 1, VT_TIME_STRICT);
    check_expected_verdict(&f, hi - 1, VT_TIME_EXPIRY_ONLY);

    struct vt_claims c;
    struct vt_diag d;
    /* At the earliest expiration date and one second after: expired, in both modes. */
    assert_int_equal(verify_at(&f, hi, VT_TIME_STRICT, &c, &d), VT_E_EXPIRED);
    print_message("  hi: %s: %s\n", d.check, d.detail);
    assert_non_null(strstr(d.detail, "is at or after not_after"));
    assert_int_equal(verify_at(&f, hi, VT_TIME_EXPIRY_ONLY, &c, &d), VT_E_EXPIRED);
    assert_int_equal(verify_at(&f, hi + 1, VT_TIME_STRICT, &c, &d), VT_E_EXPIRED);
    assert_int_equal(verify_at(&f, hi + 1, VT_TIME_EXPIRY_ONLY, &c, &d), VT_E_EXPIRED);
    /* One second before: strict mode fails, Intel's expiry-only mode gives the verdict. */
    assert_int_equal(verify_at(&f, lo - 1, VT_TIME_STRICT, &c, &d), VT_E_NOT_YET_VALID);
    print_message("  -1s: %s: %s\n", d.check, d.detail);
    check_expected_verdict(&f, lo - 1, VT_TIME_EXPIRY_ONLY);
    fixture_free(&f);
}

/* The partial go-tdx-guest set has no QE identity or CRLs: loading it names what is missing. */
static void test_partial_set(void **state)
{
    (void)state;
    const char *root = vt_fixtures_or_skip();
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/dcap/go-tdx-guest/tdx-v5-fmspc90c06f000000-partial", root);
    struct vt_dcap_collateral *coll = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_dcap_collateral_load_dir(dir, &coll, &d), VT_E_COLLATERAL_MISSING);
    assert_null(coll);
    assert_non_null(strstr(d.detail, "qe_identity.json"));
}

/* The embedded root is the genuine Intel SGX Root CA, byte for byte the published one. */
static void test_embedded_root(void **state)
{
    (void)state;
    size_t len;
    const uint8_t *der = vt_intel_sgx_root_der(&len);
    uint8_t h[32];
    vt_sha256(der, len, h);
    char hex[65];
    vt_hex_encode(h, 32, hex);
    assert_string_equal(hex, "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3");
    const char *root = vt_fixtures_dir();
    if (root == NULL) {
        return;
    }
    char path[1024];
    snprintf(path, sizeof(path), "%s/dcap/phala-dcap-qvl/TrustedRootCA.der", root);
    size_t flen;
    uint8_t *file = vt_test_read_file(path, &flen);
    assert_non_null(file);
    assert_int_equal(flen, len);
    assert_memory_equal(file, der, len);
    free(file);
}

int main(void)
{
    struct CMUnitTest tests[sizeof(sets) / sizeof(sets[0]) + 2];
    size_t n = 0;
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        tests[n++] = (struct CMUnitTest){sets[i], test_set, NULL, NULL, (void *)sets[i]};
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_partial_set);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_embedded_root);
    return _cmocka_run_group_tests("dcap_fixtures", tests, n, NULL, NULL);
}
