/*
 * The error list: every code has its own message, name and category; vt_fail records, formats
 * and truncates safely; the guard macros propagate; TEE names are stable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <veritee/common.h>
#include <veritee/error.h>

struct code_info {
    enum vt_err code;
    long value;
    const char *name;
};

static const struct code_info all_codes[] = {
#define ROW_(name, value, msg) {name, value, #name},
    VT_ERROR_LIST(ROW_)
#undef ROW_
};
#define N_CODES (sizeof(all_codes) / sizeof(all_codes[0]))

static void test_every_code_has_message(void **state)
{
    (void)state;
    assert_true(N_CODES > 50);
    for (size_t i = 0; i < N_CODES; i++) {
        const char *m = vt_strerror(all_codes[i].code);
        assert_non_null(m);
        assert_true(strlen(m) > 0);
        assert_string_not_equal(m, "unknown error");
        for (size_t j = 0; j < i; j++) {
            /* Messages, names and values are all distinct. */
            assert_string_not_equal(m, vt_strerror(all_codes[j].code));
            assert_string_not_equal(all_codes[i].name, all_codes[j].name);
            assert_int_not_equal(all_codes[i].value, all_codes[j].value);
        }
    }
}

static void test_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CODES; i++) {
        assert_string_equal(vt_err_name(all_codes[i].code), all_codes[i].name);
        assert_int_equal((long)all_codes[i].code, all_codes[i].value);
    }
    assert_string_equal(vt_err_name(VT_E_EXPIRED), "VT_E_EXPIRED");
    assert_string_equal(vt_err_name(VT_OK), "VT_OK");
    assert_string_equal(vt_err_name((enum vt_err)99), "VT_E_UNKNOWN");
    assert_string_equal(vt_err_name((enum vt_err)5000), "VT_E_UNKNOWN");
    assert_string_equal(vt_strerror((enum vt_err)99), "unknown error");
    assert_string_equal(vt_strerror((enum vt_err)5000), "unknown error");
    assert_string_equal(vt_strerror(VT_E_EXPIRED), "expired");
}

static void test_categories(void **state)
{
    (void)state;
    static const char *const expected[] = {"ok",          "usage",     "malformed", "truncated",
                                           "unsupported", "signature", "chain",     "validity",
                                           "mismatch",    "io",        "storage",   "internal"};
    for (size_t i = 0; i < N_CODES; i++) {
        long v = all_codes[i].value;
        assert_true(v >= 0 && v / 100 < 12);
        assert_true(v == 0 || v >= 100); /* 1..99 is no category */
        assert_string_equal(vt_err_category(all_codes[i].code), expected[v / 100]);
    }
    /* Spot checks, independent of the table above. */
    assert_string_equal(vt_err_category(VT_OK), "ok");
    assert_string_equal(vt_err_category(VT_E_ARG), "usage");
    assert_string_equal(vt_err_category(VT_E_BAD_PERCENT), "malformed");
    assert_string_equal(vt_err_category(VT_E_TOO_LARGE), "truncated");
    assert_string_equal(vt_err_category(VT_E_UNSUPPORTED_ALGORITHM), "unsupported");
    assert_string_equal(vt_err_category(VT_E_BAD_KEY), "signature");
    assert_string_equal(vt_err_category(VT_E_CERT_EXTENSION), "chain");
    assert_string_equal(vt_err_category(VT_E_REVOKED), "validity");
    assert_string_equal(vt_err_category(VT_E_BINDING), "mismatch");
    assert_string_equal(vt_err_category(VT_E_NOT_FOUND), "io");
    assert_string_equal(vt_err_category(VT_E_STORAGE), "storage");
    assert_string_equal(vt_err_category(VT_E_CRYPTO), "internal");
    /* Unlisted values: by range inside the ranges, "unknown" outside. */
    assert_string_equal(vt_err_category((enum vt_err)150), "usage");
    assert_string_equal(vt_err_category((enum vt_err)1), "unknown");
    assert_string_equal(vt_err_category((enum vt_err)1200), "unknown");
    assert_string_equal(vt_err_category((enum vt_err)99999), "unknown");
}

static void test_diag_init(void **state)
{
    (void)state;
    struct vt_diag d;
    memset(&d, 'x', sizeof(d));
    vt_diag_init(&d);
    assert_int_equal(d.code, VT_OK);
    assert_string_equal(d.check, "");
    assert_string_equal(d.detail, "");
    vt_diag_init(NULL); /* must not crash */
}

static void test_fail_formats(void **state)
{
    (void)state;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_fail(&d, VT_E_UNSUPPORTED_VERSION, "quote.header.version",
                              "expected %d or %d, got %u at offset %zu", 3, 4, 7u, (size_t)0);
    assert_int_equal(err, VT_E_UNSUPPORTED_VERSION);
    assert_int_equal(d.code, VT_E_UNSUPPORTED_VERSION);
    assert_string_equal(d.check, "quote.header.version");
    assert_string_equal(d.detail, "expected 3 or 4, got 7 at offset 0");

    /* A second failure overwrites the first completely. */
    err = vt_fail(&d, VT_E_EXPIRED, "a", "b");
    assert_int_equal(err, VT_E_EXPIRED);
    assert_int_equal(d.code, VT_E_EXPIRED);
    assert_string_equal(d.check, "a");
    assert_string_equal(d.detail, "b");
}

static void test_fail_null_diag(void **state)
{
    (void)state;
    assert_int_equal(vt_fail(NULL, VT_E_BAD_DER, "x", "%s", "y"), VT_E_BAD_DER);
    assert_int_equal(vt_fail(NULL, VT_E_NOMEM, NULL, NULL), VT_E_NOMEM);
}

static void test_fail_null_check_and_fmt(void **state)
{
    (void)state;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_fail(&d, VT_E_IO, NULL, NULL), VT_E_IO);
    assert_int_equal(d.code, VT_E_IO);
    assert_string_equal(d.check, "");
    assert_string_equal(d.detail, "");
}

static void test_fail_truncates(void **state)
{
    (void)state;
    char long_check[200];
    memset(long_check, 'c', sizeof(long_check) - 1);
    long_check[sizeof(long_check) - 1] = '\0';
    char long_detail[2000];
    memset(long_detail, 'd', sizeof(long_detail) - 1);
    long_detail[sizeof(long_detail) - 1] = '\0';

    struct vt_diag d;
    memset(&d, 'z', sizeof(d));
    assert_int_equal(vt_fail(&d, VT_E_MALFORMED, long_check, "%s!", long_detail), VT_E_MALFORMED);
    assert_int_equal(strlen(d.check), VT_DIAG_CHECK_MAX - 1);
    assert_int_equal(strlen(d.detail), VT_DIAG_DETAIL_MAX - 1);
    assert_memory_equal(d.check, long_check, VT_DIAG_CHECK_MAX - 1);
    assert_memory_equal(d.detail, long_detail, VT_DIAG_DETAIL_MAX - 1);

    /* Exactly at the limit: nothing lost. */
    long_check[VT_DIAG_CHECK_MAX - 1] = '\0';
    assert_int_equal(vt_fail(&d, VT_E_MALFORMED, long_check, "short"), VT_E_MALFORMED);
    assert_string_equal(d.check, long_check);
    assert_string_equal(d.detail, "short");
}

static void test_fail_may_quote_itself(void **state)
{
    (void)state;
    struct vt_diag d;
    vt_diag_init(&d);
    (void)vt_fail(&d, VT_E_BAD_JSON, "tcb_info.json", "unexpected token at %d", 17);
    /* Wrapping an earlier message: the arguments alias the diag's own fields. */
    (void)vt_fail(&d, VT_E_COLLATERAL_MISSING, d.check, "%s: %s", d.check, d.detail);
    assert_int_equal(d.code, VT_E_COLLATERAL_MISSING);
    assert_string_equal(d.check, "tcb_info.json");
    assert_string_equal(d.detail, "tcb_info.json: unexpected token at 17");
}

static enum vt_err step(enum vt_err e, int *calls)
{
    (*calls)++;
    return e;
}

static enum vt_err two_steps(enum vt_err first, enum vt_err second, int *calls)
{
    VT_TRY(step(first, calls));
    VT_TRY(step(second, calls));
    return VT_OK;
}

static enum vt_err ensure_positive(int v, struct vt_diag *d)
{
    VT_ENSURE(v > 0, d, VT_E_BAD_FIELD, "value.sign", "expected > 0, got %d", v);
    return VT_OK;
}

static void test_guard_macros(void **state)
{
    (void)state;
    int calls = 0;
    assert_int_equal(two_steps(VT_OK, VT_OK, &calls), VT_OK);
    assert_int_equal(calls, 2);
    calls = 0;
    assert_int_equal(two_steps(VT_E_TRUNCATED, VT_OK, &calls), VT_E_TRUNCATED);
    assert_int_equal(calls, 1);
    calls = 0;
    assert_int_equal(two_steps(VT_OK, VT_E_BAD_HEX, &calls), VT_E_BAD_HEX);
    assert_int_equal(calls, 2);

    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(ensure_positive(1, &d), VT_OK);
    assert_int_equal(d.code, VT_OK);
    assert_int_equal(ensure_positive(-3, &d), VT_E_BAD_FIELD);
    assert_int_equal(d.code, VT_E_BAD_FIELD);
    assert_string_equal(d.check, "value.sign");
    assert_string_equal(d.detail, "expected > 0, got -3");
    assert_int_equal(ensure_positive(-3, NULL), VT_E_BAD_FIELD);
}

static void test_tee_names(void **state)
{
    (void)state;
    assert_string_equal(vt_tee_name(VT_TEE_NONE), "none");
    assert_string_equal(vt_tee_name(VT_TEE_SGX), "sgx");
    assert_string_equal(vt_tee_name(VT_TEE_TDX), "tdx");
    assert_string_equal(vt_tee_name(VT_TEE_SEV_SNP), "sev-snp");
    assert_string_equal(vt_tee_name(VT_TEE_NITRO), "nitro");
    assert_string_equal(vt_tee_name((enum vt_tee)77), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_has_message),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_categories),
        cmocka_unit_test(test_diag_init),
        cmocka_unit_test(test_fail_formats),
        cmocka_unit_test(test_fail_null_diag),
        cmocka_unit_test(test_fail_null_check_and_fmt),
        cmocka_unit_test(test_fail_truncates),
        cmocka_unit_test(test_fail_may_quote_itself),
        cmocka_unit_test(test_guard_macros),
        cmocka_unit_test(test_tee_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
