/* TCB status names and parsing, and the advisory ID set (src/claims/tcb_status.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static const struct {
    enum vt_tcb_status status;
    const char *name;
} names[] = {
    {VT_TCB_UP_TO_DATE, "UpToDate"},
    {VT_TCB_SW_HARDENING_NEEDED, "SWHardeningNeeded"},
    {VT_TCB_CONFIGURATION_NEEDED, "ConfigurationNeeded"},
    {VT_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED, "ConfigurationAndSWHardeningNeeded"},
    {VT_TCB_OUT_OF_DATE, "OutOfDate"},
    {VT_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED, "OutOfDateConfigurationNeeded"},
    {VT_TCB_REVOKED, "Revoked"},
    {VT_TCB_TD_RELAUNCH_ADVISED, "TDRelaunchAdvised"},
    {VT_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED, "TDRelaunchAdvisedConfigurationNeeded"},
};
#define N_NAMES (sizeof(names) / sizeof(names[0]))

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(vt_tcb_status_name(VT_TCB_NONE), "None");
    for (size_t i = 0; i < N_NAMES; i++) {
        assert_string_equal(vt_tcb_status_name(names[i].status), names[i].name);
    }
    assert_string_equal(vt_tcb_status_name((enum vt_tcb_status)99), "Unknown");
    assert_string_equal(vt_tcb_status_name((enum vt_tcb_status) - 1), "Unknown");
}

static void test_parse_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_NAMES; i++) {
        enum vt_tcb_status s = VT_TCB_NONE;
        assert_int_equal(vt_tcb_status_parse(names[i].name, strlen(names[i].name), &s), VT_OK);
        assert_int_equal(s, names[i].status);
    }
}

static void test_parse_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "None",       "uptodate",  "UPTODATE",
        "UpToDat",    "UpToDatee", "UpToDate ",
        " UpToDate",  "",          "OutOfDateConfiguration",
        "Up To Date", "Unknown",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum vt_tcb_status s = VT_TCB_REVOKED;
        assert_int_equal(vt_tcb_status_parse(bad[i], strlen(bad[i]), &s), VT_E_BAD_FIELD);
        assert_int_equal(s, VT_TCB_REVOKED); /* untouched */
    }
    /* The length is what counts, not a NUL: a prefix of a longer buffer. */
    enum vt_tcb_status s = VT_TCB_NONE;
    assert_int_equal(vt_tcb_status_parse("OutOfDateXYZ", 9, &s), VT_OK);
    assert_int_equal(s, VT_TCB_OUT_OF_DATE);
    assert_int_equal(vt_tcb_status_parse("UpToDate\0", 9, &s), VT_E_BAD_FIELD);
    assert_int_equal(vt_tcb_status_parse(NULL, 0, &s), VT_E_ARG);
    assert_int_equal(vt_tcb_status_parse("UpToDate", 8, NULL), VT_E_ARG);
}

static void test_advisories_add(void **state)
{
    (void)state;
    static struct vt_advisories a;
    memset(&a, 0, sizeof(a));
    assert_int_equal(vt_advisories_add(&a, "INTEL-SA-00615"), VT_OK);
    assert_int_equal(vt_advisories_add(&a, "INTEL-SA-00657"), VT_OK);
    assert_int_equal(vt_advisories_add(&a, "INTEL-SA-00615"), VT_OK); /* present: no-op */
    assert_int_equal(a.n, 2);
    assert_string_equal(a.ids[0], "INTEL-SA-00615");
    assert_string_equal(a.ids[1], "INTEL-SA-00657");
    /* Case matters: advisory IDs are opaque strings. */
    assert_int_equal(vt_advisories_add(&a, "intel-sa-00615"), VT_OK);
    assert_int_equal(a.n, 3);
}

static void test_advisories_limits(void **state)
{
    (void)state;
    static struct vt_advisories a;
    memset(&a, 0, sizeof(a));
    char id[VT_ADVISORY_ID_MAX + 8];
    memset(id, 'A', sizeof(id));
    id[VT_ADVISORY_ID_MAX] = '\0'; /* 32 characters: one too many */
    assert_int_equal(vt_advisories_add(&a, id), VT_E_TOO_LARGE);
    id[VT_ADVISORY_ID_MAX - 1] = '\0'; /* 31: the longest accepted */
    assert_int_equal(vt_advisories_add(&a, id), VT_OK);
    assert_int_equal(strlen(a.ids[0]), VT_ADVISORY_ID_MAX - 1);
    assert_int_equal(vt_advisories_add(&a, ""), VT_E_ARG);
    assert_int_equal(vt_advisories_add(&a, NULL), VT_E_ARG);
    assert_int_equal(vt_advisories_add(NULL, "X"), VT_E_ARG);
    assert_int_equal(a.n, 1);

    for (int i = 1; i < VT_MAX_ADVISORIES; i++) {
        char buf[32];
        snprintf(buf, sizeof(buf), "INTEL-SA-%05d", i);
        assert_int_equal(vt_advisories_add(&a, buf), VT_OK);
    }
    assert_int_equal(a.n, VT_MAX_ADVISORIES);
    /* Full: a present ID is still fine, a new one is not. */
    assert_int_equal(vt_advisories_add(&a, "INTEL-SA-00001"), VT_OK);
    assert_int_equal(vt_advisories_add(&a, "INTEL-SA-99999"), VT_E_TOO_LARGE);
    assert_int_equal(a.n, VT_MAX_ADVISORIES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_parse_round_trip),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_advisories_add),
        cmocka_unit_test(test_advisories_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
