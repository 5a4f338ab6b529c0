/*
 * Time parsing (RFC 3339 and unix seconds), formatting, and validity windows: known instants,
 * leap years, every out-of-range field, offsets, malformed text, int64 limits, and windows whose
 * bounds are inclusive to the second in both modes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <veritee/time.h>

#include "base/time_check.h"

#define T_2025 INT64_C(1752919277) /* 2025-07-19T10:01:17Z */
#define SENTINEL INT64_C(-4242)

static void assert_parses(const char *s, vt_time want)
{
    vt_time t = SENTINEL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_time_parse(s, strlen(s), &t, &d);
    if (err != VT_OK) {
        fail_msg("\"%s\": %s: %s", s, d.check, d.detail);
    }
    if (t != want) {
        fail_msg("\"%s\": got %lld, want %lld", s, (long long)t, (long long)want);
    }
    assert_int_equal(d.code, VT_OK);
}

static void assert_rejects(const char *s, size_t len)
{
    vt_time t = SENTINEL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_time_parse(s, len, &t, &d);
    if (err != VT_E_BAD_TIME) {
        fail_msg("\"%.*s\": got %d (%lld), want VT_E_BAD_TIME", (int)len, s, err, (long long)t);
    }
    assert_true(t == SENTINEL);
    assert_int_equal(d.code, VT_E_BAD_TIME);
    assert_string_equal(d.check, "time.parse");
    assert_true(strlen(d.detail) > 0);
    assert_int_equal(vt_time_parse(s, len, &t, NULL), VT_E_BAD_TIME);
}

static void assert_rejects_str(const char *s)
{
    assert_rejects(s, strlen(s));
}

static void test_rfc3339_basic(void **state)
{
    (void)state;
    assert_parses("1970-01-01T00:00:00Z", 0);
    assert_parses("1969-12-31T23:59:59Z", -1);
    assert_parses("2025-07-19T10:01:17Z", T_2025);
    assert_parses("2025-07-19t10:01:17z", T_2025);
    assert_parses("0000-01-01T00:00:00Z", INT64_C(-62167219200));
    assert_parses("9999-12-31T23:59:59Z", INT64_C(253402300799));
    assert_parses("1900-03-01T00:00:00Z", INT64_C(-2203891200));
}

static void test_rfc3339_leap_years(void **state)
{
    (void)state;
    assert_parses("2000-02-29T12:00:00Z", INT64_C(951825600));
    assert_parses("2024-02-29T00:00:00Z", INT64_C(1709164800));
    assert_parses("2024-03-01T00:00:00Z", INT64_C(1709164800) + 86400);
    assert_parses("0000-02-29T00:00:00Z", INT64_C(-62167219200) + 59 * 86400);
    assert_parses("2024-12-31T00:00:00Z", INT64_C(1709164800) + (366 - 60) * 86400);
    assert_rejects_str("2023-02-29T00:00:00Z");
    assert_rejects_str("1900-02-29T00:00:00Z"); /* divisible by 100, not by 400 */
    assert_rejects_str("2100-02-29T00:00:00Z");
    assert_rejects_str("2000-02-30T00:00:00Z");
    assert_rejects_str("2024-02-30T00:00:00Z");
}

static void test_rfc3339_fractions(void **state)
{
    (void)state;
    assert_parses("2025-07-19T10:01:17.0Z", T_2025);
    assert_parses("2025-07-19T10:01:17.5Z", T_2025);
    assert_parses("2025-07-19T10:01:17.999999999Z", T_2025); /* truncated, not rounded */
    assert_parses("2025-07-19T10:01:17.123456789012345678901234567890Z", T_2025);
    assert_parses("2025-07-19T10:01:17.25+02:00", T_2025 - 7200);
    assert_parses("1969-12-31T23:59:59.9Z", -1);
    assert_rejects_str("2025-07-19T10:01:17.Z");
    assert_rejects_str("2025-07-19T10:01:17.");
    assert_rejects_str("2025-07-19T10:01:17.5");
    assert_rejects_str("2025-07-19T10:01:17,5Z");
    assert_rejects_str("2025-07-19T10:01:17.5.5Z");
}

static void test_rfc3339_offsets(void **state)
{
    (void)state;
    assert_parses("2025-07-19T11:01:17+01:00", T_2025);
    assert_parses("2025-07-19T04:31:17-05:30", T_2025);
    assert_parses("2025-07-19T10:01:17+00:00", T_2025);
    assert_parses("2025-07-19T10:01:17-00:00", T_2025);
    assert_parses("2025-07-20T09:59:17+23:58", T_2025);
    assert_parses("1970-01-01T00:00:00+23:59", -(23 * 3600 + 59 * 60));
    assert_parses("1969-12-31T00:00:00-23:59", -86400 + 23 * 3600 + 59 * 60);
    assert_parses("0000-01-01T00:00:00-23:59", INT64_C(-62167219200) + 23 * 3600 + 59 * 60);
    assert_parses("9999-12-31T23:59:59+23:59", INT64_C(253402300799) - 23 * 3600 - 59 * 60);
    assert_rejects_str("2025-07-19T10:01:17+24:00");
    assert_rejects_str("2025-07-19T10:01:17+00:60");
    assert_rejects_str("2025-07-19T10:01:17-99:99");
    assert_rejects_str("2025-07-19T10:01:17+0100");
    assert_rejects_str("2025-07-19T10:01:17+01");
    assert_rejects_str("2025-07-19T10:01:17+1:00");
    assert_rejects_str("2025-07-19T10:01:17+01:00Z");
    assert_rejects_str("2025-07-19T10:01:17 +01:00");
    assert_rejects_str("2025-07-19T10:01:17UTC");
}

static void test_rfc3339_field_ranges(void **state)
{
    (void)state;
    assert_parses("2025-01-31T00:00:00Z", INT64_C(1738281600));
    assert_parses("2025-04-30T23:59:59Z", INT64_C(1746057599));
    assert_parses("2025-12-31T23:59:59Z", INT64_C(1767225599));
    static const char *const bad[] = {
        "2025-00-19T10:01:17Z",                         /* month 0 */
        "2025-13-19T10:01:17Z",                         /* month 13 */
        "2025-99-19T10:01:17Z", "2025-07-00T10:01:17Z", /* day 0 */
        "2025-07-32T10:01:17Z",                         /* day 32 */
        "2025-04-31T10:01:17Z",                         /* April has 30 */
        "2025-06-31T10:01:17Z", "2025-09-31T10:01:17Z", "2025-11-31T10:01:17Z",
        "2025-01-32T10:01:17Z", "2025-07-19T24:00:00Z", /* hour 24 */
        "2025-07-19T99:00:00Z", "2025-07-19T10:60:17Z", /* minute 60 */
        "2025-07-19T10:01:60Z",                         /* leap seconds are not accepted */
        "2025-07-19T10:01:61Z", "2025-07-19T10:01:99Z",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_rejects_str(bad[i]);
    }
}

static void test_rfc3339_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2025-07-19",
        "2025-07-19T",
        "2025-07-19 10:01:17Z", /* space separator */
        "2025-07-19_10:01:17Z",
        "2025-07-19T10:01:17", /* no zone */
        "2025-07-19T10:01Z",   /* no seconds */
        "2025-7-19T10:01:17Z",
        "2025-07-9T10:01:17Z",
        "25-07-19T10:01:17Z",
        "02025-07-19T10:01:17Z",
        "+2025-07-19T10:01:17Z",
        "-2025-07-19T10:01:17Z",
        "2025/07/19T10:01:17Z",
        "2025-07-19T10-01-17Z",
        "2025-07-19T10:01:17ZZ",
        "2025-07-19T10:01:17Z ",
        " 2025-07-19T10:01:17Z",
        "2025-07-19T1a:01:17Z",
        "2025-07-19T10:01:17Zjunk",
        "Sat, 19 Jul 2025 10:01:17 GMT",
        "20250719T100117Z",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_rejects_str(bad[i]);
    }
    /* The length is explicit: a valid prefix alone is not enough, and bytes past len are never
     * looked at. */
    assert_rejects("2025-07-19T10:01:17Z", 19);
    vt_time t;
    assert_int_equal(vt_time_parse("2025-07-19T10:01:17Zgarbage", 20, &t, NULL), VT_OK);
    assert_true(t == T_2025);
    /* An embedded NUL is a bad character. */
    assert_rejects("2025-07-19T10:01:17\0Z", 21);
    assert_int_equal(vt_time_parse(NULL, 0, &t, NULL), VT_E_BAD_TIME);
}

static void test_bad_time_detail_quotes_input(void **state)
{
    (void)state;
    struct vt_diag d;
    vt_time t;
    vt_diag_init(&d);
    assert_int_equal(vt_time_parse("2025-13-01T00:00:00Z", 20, &t, &d), VT_E_BAD_TIME);
    assert_non_null(strstr(d.detail, "\"2025-13-01T00:00:00Z\""));
    assert_non_null(strstr(d.detail, "month"));
    /* Unprintable bytes are not copied into the detail; long input is cut. */
    char junk[300];
    memset(junk, '\n', sizeof(junk));
    junk[0] = '\x1b';
    assert_int_equal(vt_time_parse(junk, sizeof(junk), &t, &d), VT_E_BAD_TIME);
    assert_null(strchr(d.detail, '\n'));
    assert_null(strchr(d.detail, '\x1b'));
    assert_true(strlen(d.detail) < 200);
    assert_non_null(strstr(d.detail, "..."));
}

static void test_unix_seconds(void **state)
{
    (void)state;
    assert_parses("0", 0);
    assert_parses("-0", 0);
    assert_parses("1752919277", T_2025);
    assert_parses("-1", -1);
    assert_parses("-62167219200", INT64_C(-62167219200));
    assert_parses("0000000000000000001", 1); /* 19 digits */
    assert_parses("9223372036854775807", INT64_MAX);
    assert_parses("-9223372036854775808", INT64_MIN);
    assert_parses("2025", 2025); /* digits only: unix seconds, not a year */
    static const char *const bad[] = {
        "-",
        "--1",
        "+1",
        "1-",
        " 1",
        "1 ",
        "1e5",
        "0x10",
        "1.5",
        "9223372036854775808",  /* INT64_MAX + 1 */
        "-9223372036854775809", /* INT64_MIN - 1 */
        "9999999999999999999",
        "00000000000000000001", /* 20 digits */
        "18446744073709551616",
        "-99999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_rejects_str(bad[i]);
    }
}

static void assert_arg_parses(const char *s, vt_time want)
{
    vt_time t = SENTINEL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_time_parse_arg(s, strlen(s), &t, &d);
    if (err != VT_OK) {
        fail_msg("\"%s\": %s: %s", s, d.check, d.detail);
    }
    if (t != want) {
        fail_msg("\"%s\": got %lld, want %lld", s, (long long)t, (long long)want);
    }
}

static void assert_arg_rejects(const char *s)
{
    vt_time t = SENTINEL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_time_parse_arg(s, strlen(s), &t, &d);
    if (err != VT_E_BAD_TIME) {
        fail_msg("\"%s\": got %d (%lld), want VT_E_BAD_TIME", s, err, (long long)t);
    }
    assert_true(t == SENTINEL);
    assert_string_equal(d.check, "time.parse");
    assert_non_null(strstr(d.detail, "is not an RFC 3339 time or unix seconds"));
}

/* The command line's --at: unix seconds with a fraction, dropped toward the earlier second (as
 * an RFC 3339 fraction is); everything vt_time_parse takes. */
static void test_arg_unix_fraction(void **state)
{
    (void)state;
    assert_arg_parses("1752919277.5", T_2025);
    assert_arg_parses("1752919277.0", T_2025);
    assert_arg_parses("1752919277.999999999999999999999", T_2025);
    assert_arg_parses("1752919277.000000001", T_2025);
    assert_arg_parses("0.5", 0);
    assert_arg_parses("-0.5", -1);
    assert_arg_parses("-0.0", 0);
    assert_arg_parses("-1.5", -2);
    assert_arg_parses("-1.000", -1);
    assert_arg_parses("9223372036854775807.9", INT64_MAX);
    assert_arg_parses("-9223372036854775807.5", INT64_MIN);
    assert_arg_parses("-9223372036854775808.0", INT64_MIN);
    /* The same instant written both ways gives the same second. */
    assert_arg_parses("2025-07-19T10:01:17.5Z", T_2025);
    assert_arg_parses("1752919277", T_2025);
    assert_arg_parses("-1", -1);
    static const char *const bad[] = {
        "1752919277.",
        ".5",
        "-.5",
        "1.5.5",
        "1,5",
        "1.5e3",
        "1.-5",
        "+1.5",
        " 1.5",
        "1.5 ",
        "1.5Z",
        "0x1.8",
        "-9223372036854775808.5", /* below INT64_MIN */
        "9223372036854775808.0",  /* INT64_MAX + 1 */
        "00000000000000000001.5", /* 20 integer digits */
        "yesterday",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_arg_rejects(bad[i]);
    }
    /* vt_time_parse itself (documents, stored times) still takes whole seconds only. */
    vt_time t = SENTINEL;
    assert_int_equal(vt_time_parse("1.5", 3, &t, NULL), VT_E_BAD_TIME);
    assert_int_equal(vt_time_parse_arg(NULL, 0, &t, NULL), VT_E_BAD_TIME);
    assert_true(t == SENTINEL);
}

static void assert_formats(vt_time t, const char *want)
{
    char out[VT_TIME_STR_MAX];
    memset(out, 'x', sizeof(out));
    vt_time_format(t, out);
    assert_string_equal(out, want);
}

static void test_format(void **state)
{
    (void)state;
    assert_formats(0, "1970-01-01T00:00:00Z");
    assert_formats(-1, "1969-12-31T23:59:59Z");
    assert_formats(T_2025, "2025-07-19T10:01:17Z");
    assert_formats(INT64_C(951825600), "2000-02-29T12:00:00Z");
    assert_formats(INT64_C(-62167219200), "0000-01-01T00:00:00Z");
    assert_formats(INT64_C(253402300799), "9999-12-31T23:59:59Z");
    /* The extremes stay within the buffer and do not overflow. */
    char out[VT_TIME_STR_MAX];
    vt_time_format(INT64_MAX, out);
    assert_true(strlen(out) < VT_TIME_STR_MAX);
    assert_non_null(strstr(out, "T15:30:07Z"));
    vt_time_format(INT64_MIN, out);
    assert_true(strlen(out) < VT_TIME_STR_MAX);
    assert_int_equal(out[0], '-');
    assert_non_null(strstr(out, "T08:29:52Z"));
}

static void test_format_parse_round_trip(void **state)
{
    (void)state;
    /* Every third day from year 0 to 9999 (with a varying time of day, so every day of the
     * month and every hour come up), and libc agrees for 1970-2099. */
    const vt_time lo = INT64_C(-62167219200);
    const vt_time hi = INT64_C(253402300799);
    size_t n = 0;
    for (vt_time t = lo; t <= hi; t += 3 * 86400 + 3607) {
        char s[VT_TIME_STR_MAX];
        vt_time_format(t, s);
        vt_time back = SENTINEL;
        assert_int_equal(vt_time_parse(s, strlen(s), &back, NULL), VT_OK);
        if (back != t) {
            fail_msg("%lld -> %s -> %lld", (long long)t, s, (long long)back);
        }
        if (t >= 0 && t < INT64_C(4102444800)) {
            time_t tt = (time_t)t;
            struct tm tm;
            char libc[VT_TIME_STR_MAX];
            assert_non_null(gmtime_r(&tt, &tm));
            strftime(libc, sizeof(libc), "%Y-%m-%dT%H:%M:%SZ", &tm);
            assert_string_equal(s, libc);
        }
        n++;
    }
    assert_true(n > 1000000);
}

static void test_now(void **state)
{
    (void)state;
    vt_time before = (vt_time)time(NULL);
    vt_time now = vt_time_now();
    vt_time after = (vt_time)time(NULL);
    assert_true(now >= before && now <= after);
    assert_true(now > INT64_C(1704067200)); /* after 2024-01-01 */
}

static void test_window_inside_and_bounds(void **state)
{
    (void)state;
    const vt_time nb = T_2025 - 1000;
    const vt_time na = T_2025;
    for (int mode = VT_TIME_STRICT; mode <= VT_TIME_EXPIRY_ONLY; mode++) {
        struct vt_diag d;
        vt_diag_init(&d);
        assert_int_equal(vt_time_check_window("x", nb, na, nb, (enum vt_time_mode)mode, &d), VT_OK);
        assert_int_equal(vt_time_check_window("x", nb, na, na, (enum vt_time_mode)mode, &d), VT_OK);
        assert_int_equal(vt_time_check_window("x", nb, na, nb + 500, (enum vt_time_mode)mode, &d),
                         VT_OK);
        assert_int_equal(d.code, VT_OK);
        /* A one-second window, and the widest one. */
        assert_int_equal(vt_time_check_window("x", na, na, na, (enum vt_time_mode)mode, NULL),
                         VT_OK);
        assert_int_equal(
            vt_time_check_window("x", INT64_MIN, INT64_MAX, 0, (enum vt_time_mode)mode, NULL),
            VT_OK);
        assert_int_equal(vt_time_check_window("x", INT64_MIN, INT64_MAX, INT64_MIN,
                                              (enum vt_time_mode)mode, NULL),
                         VT_OK);
        assert_int_equal(vt_time_check_window("x", INT64_MIN, INT64_MAX, INT64_MAX,
                                              (enum vt_time_mode)mode, NULL),
                         VT_OK);
    }
}

static void test_window_expired(void **state)
{
    (void)state;
    for (int mode = VT_TIME_STRICT; mode <= VT_TIME_EXPIRY_ONLY; mode++) {
        struct vt_diag d;
        vt_diag_init(&d);
        assert_int_equal(vt_time_check_window("pck_crl", T_2025 - 1000, T_2025, T_2025 + 1,
                                              (enum vt_time_mode)mode, &d),
                         VT_E_EXPIRED);
        assert_int_equal(d.code, VT_E_EXPIRED);
        assert_string_equal(d.check, "pck_crl");
        assert_string_equal(d.detail,
                            "now 2025-07-19T10:01:18Z is after not_after 2025-07-19T10:01:17Z");
        assert_int_equal(vt_time_check_window("pck_crl", T_2025 - 1000, T_2025, INT64_MAX,
                                              (enum vt_time_mode)mode, NULL),
                         VT_E_EXPIRED);
    }
}

static void test_window_not_yet_valid(void **state)
{
    (void)state;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(
        vt_time_check_window("tcb_info", T_2025, T_2025 + 1000, T_2025 - 1, VT_TIME_STRICT, &d),
        VT_E_NOT_YET_VALID);
    assert_int_equal(d.code, VT_E_NOT_YET_VALID);
    assert_string_equal(d.check, "tcb_info");
    assert_string_equal(d.detail,
                        "now 2025-07-19T10:01:16Z is before not_before 2025-07-19T10:01:17Z");
    /* Expiry-only mode does not look at the lower bound at all. */
    vt_diag_init(&d);
    assert_int_equal(vt_time_check_window("tcb_info", T_2025, T_2025 + 1000, T_2025 - 1,
                                          VT_TIME_EXPIRY_ONLY, &d),
                     VT_OK);
    assert_int_equal(
        vt_time_check_window("tcb_info", T_2025, T_2025 + 1000, INT64_MIN, VT_TIME_EXPIRY_ONLY, &d),
        VT_OK);
    assert_int_equal(d.code, VT_OK);
    assert_int_equal(
        vt_time_check_window("tcb_info", T_2025, T_2025 + 1000, INT64_MIN, VT_TIME_STRICT, NULL),
        VT_E_NOT_YET_VALID);
}

/* The upper edge: inclusive (RFC 5280, Nitro and SEV-SNP) or the first expired second (Intel's
 * QvE, DCAP); the lower edge inclusive in both; each edge and one second either side. */
static void test_window_edges(void **state)
{
    (void)state;
    const vt_time nb = T_2025 - 1000;
    const vt_time na = T_2025;
    for (int mode = VT_TIME_STRICT; mode <= VT_TIME_EXPIRY_ONLY; mode++) {
        const enum vt_time_mode m = (enum vt_time_mode)mode;
        struct vt_diag d;
        vt_diag_init(&d);
        /* EXPIRES_AT: na - 1 is the last valid second. */
        assert_int_equal(vt_time_check_edges("x", nb, na, na - 1, m, VT_EDGE_EXPIRES_AT, &d),
                         VT_OK);
        assert_int_equal(vt_time_check_edges("tcb_info", nb, na, na, m, VT_EDGE_EXPIRES_AT, &d),
                         VT_E_EXPIRED);
        assert_string_equal(d.check, "tcb_info");
        assert_string_equal(
            d.detail, "now 2025-07-19T10:01:17Z is at or after not_after 2025-07-19T10:01:17Z");
        assert_int_equal(vt_time_check_edges("x", nb, na, na + 1, m, VT_EDGE_EXPIRES_AT, NULL),
                         VT_E_EXPIRED);
        /* INCLUSIVE: na is the last valid second. */
        assert_int_equal(vt_time_check_edges("x", nb, na, na - 1, m, VT_EDGE_INCLUSIVE, NULL),
                         VT_OK);
        assert_int_equal(vt_time_check_edges("x", nb, na, na, m, VT_EDGE_INCLUSIVE, NULL), VT_OK);
        assert_int_equal(vt_time_check_edges("x", nb, na, na + 1, m, VT_EDGE_INCLUSIVE, &d),
                         VT_E_EXPIRED);
        assert_string_equal(d.detail,
                            "now 2025-07-19T10:01:18Z is after not_after 2025-07-19T10:01:17Z");
        /* The lower edge is inclusive under both; before it only strict mode fails. */
        for (int e = VT_EDGE_INCLUSIVE; e <= VT_EDGE_EXPIRES_AT; e++) {
            const enum vt_time_edge edge = (enum vt_time_edge)e;
            assert_int_equal(vt_time_check_edges("x", nb, na, nb + 1, m, edge, NULL), VT_OK);
            assert_int_equal(vt_time_check_edges("x", nb, na, nb, m, edge, NULL), VT_OK);
            assert_int_equal(vt_time_check_edges("x", nb, na, nb - 1, m, edge, NULL),
                             m == VT_TIME_STRICT ? VT_E_NOT_YET_VALID : VT_OK);
        }
        /* A window whose bounds are equal holds that second only when inclusive. */
        assert_int_equal(vt_time_check_edges("x", na, na, na, m, VT_EDGE_INCLUSIVE, NULL), VT_OK);
        assert_int_equal(vt_time_check_edges("x", na, na, na, m, VT_EDGE_EXPIRES_AT, NULL),
                         VT_E_EXPIRED);
        /* INT64_MAX as not_after: EXPIRES_AT never reaches it except at INT64_MAX itself. */
        assert_int_equal(
            vt_time_check_edges("x", nb, INT64_MAX, INT64_MAX - 1, m, VT_EDGE_EXPIRES_AT, NULL),
            VT_OK);
        /* vt_time_check_window is the inclusive form. */
        assert_int_equal(vt_time_check_window("x", nb, na, na, m, NULL), VT_OK);
    }
    /* An unknown edge is a usage error, never a pass. */
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_time_check_edges("x", 0, 10, 5, VT_TIME_STRICT, (enum vt_time_edge)2, &d),
                     VT_E_ARG);
    assert_int_equal(d.code, VT_E_ARG);
}

static void test_window_odd_arguments(void **state)
{
    (void)state;
    struct vt_diag d;
    vt_diag_init(&d);
    /* A long name is cut to the check field. */
    char what[200];
    memset(what, 'w', sizeof(what) - 1);
    what[sizeof(what) - 1] = '\0';
    assert_int_equal(vt_time_check_window(what, 0, 10, 11, VT_TIME_STRICT, &d), VT_E_EXPIRED);
    assert_int_equal(strlen(d.check), VT_DIAG_CHECK_MAX - 1);
    assert_int_equal(vt_time_check_window(NULL, 0, 10, 11, VT_TIME_STRICT, &d), VT_E_EXPIRED);
    assert_true(strlen(d.check) > 0);
    /* An inverted window accepts nothing. */
    assert_int_equal(vt_time_check_window("x", 10, 5, 7, VT_TIME_STRICT, NULL), VT_E_EXPIRED);
    assert_int_equal(vt_time_check_window("x", 10, 5, 4, VT_TIME_STRICT, NULL), VT_E_NOT_YET_VALID);
    /* An unknown mode is a usage error, never a pass. */
    assert_int_equal(vt_time_check_window("x", 0, 10, 5, (enum vt_time_mode)7, &d), VT_E_ARG);
    assert_int_equal(d.code, VT_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339_basic),
        cmocka_unit_test(test_rfc3339_leap_years),
        cmocka_unit_test(test_rfc3339_fractions),
        cmocka_unit_test(test_rfc3339_offsets),
        cmocka_unit_test(test_rfc3339_field_ranges),
        cmocka_unit_test(test_rfc3339_malformed),
        cmocka_unit_test(test_bad_time_detail_quotes_input),
        cmocka_unit_test(test_unix_seconds),
        cmocka_unit_test(test_arg_unix_fraction),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_parse_round_trip),
        cmocka_unit_test(test_now),
        cmocka_unit_test(test_window_inside_and_bounds),
        cmocka_unit_test(test_window_expired),
        cmocka_unit_test(test_window_not_yet_valid),
        cmocka_unit_test(test_window_edges),
        cmocka_unit_test(test_window_odd_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
