/*
 * Time: RFC 3339 and unix-seconds parsing, RFC 3339 formatting, validity windows.
 *
 * Accepted RFC 3339 form (RFC 3339 section 5.6, date-time):
 *
 *   YYYY-MM-DD ('T'|'t') hh:mm:ss [ '.' 1*DIGIT ] ( 'Z' | 'z' | ('+'|'-') hh:mm )
 *
 * Years 0000-9999 (proleptic Gregorian), day checked against the month and leap years, hour
 * 0-23, minute 0-59, second 0-59, offset up to +-23:59; the fraction is truncated. A leap second
 * (ss = 60) is rejected: none of the documents veritee reads (X.509 times, Intel's collateral)
 * uses one, and accepting it would give two spellings of one instant.
 *
 * Date arithmetic is done here (the days-from-civil algorithm) rather than with timegm, which
 * is not in C17 or POSIX and whose range and error behaviour vary by platform.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <veritee/time.h>

#include "base/reader.h"
#include "base/time_check.h"

#define SECONDS_PER_DAY 86400
/* Longest part of a bad input quoted in an error detail. */
#define QUOTE_MAX 48

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1-12, d 1-31). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);                       /* [0, 399] */
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);                          /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    unsigned mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Exactly n decimal digits. */
static bool get_digits(struct vt_reader *r, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c;
        if (vt_reader_get_u8(r, &c) != VT_OK || !is_digit(c)) {
            return false;
        }
        v = v * 10 + (unsigned)(c - '0');
    }
    *out = v;
    return true;
}

/* One character equal to a or b. */
static bool get_either(struct vt_reader *r, char a, char b, uint8_t *got)
{
    uint8_t c;
    if (vt_reader_get_u8(r, &c) != VT_OK || (c != (uint8_t)a && c != (uint8_t)b)) {
        return false;
    }
    if (got != NULL) {
        *got = c;
    }
    return true;
}

static bool get_char(struct vt_reader *r, char a)
{
    return get_either(r, a, a, NULL);
}

/* Parse RFC 3339; on failure return what is wrong, else NULL. */
static const char *parse_rfc3339(const char *s, size_t len, vt_time *out)
{
    struct vt_reader r;
    vt_reader_init(&r, (const uint8_t *)s, len);
    unsigned y, mo, d, h, mi, sec;
    if (!get_digits(&r, 4, &y) || !get_char(&r, '-') || !get_digits(&r, 2, &mo) ||
        !get_char(&r, '-') || !get_digits(&r, 2, &d)) {
        return "not YYYY-MM-DD";
    }
    if (!get_either(&r, 'T', 't', NULL)) {
        return "no 'T' after the date";
    }
    if (!get_digits(&r, 2, &h) || !get_char(&r, ':') || !get_digits(&r, 2, &mi) ||
        !get_char(&r, ':') || !get_digits(&r, 2, &sec)) {
        return "not hh:mm:ss";
    }
    uint8_t c;
    if (vt_reader_peek_u8(&r, &c) == VT_OK && c == '.') {
        if (vt_reader_skip(&r, 1) != VT_OK || vt_reader_peek_u8(&r, &c) != VT_OK || !is_digit(c)) {
            return "no digits after '.'";
        }
        while (vt_reader_peek_u8(&r, &c) == VT_OK && is_digit(c)) {
            if (vt_reader_skip(&r, 1) != VT_OK) {
                return "internal";
            }
        }
    }
    int64_t offset = 0;
    if (vt_reader_get_u8(&r, &c) != VT_OK) {
        return "no time zone";
    }
    if (c == '+' || c == '-') {
        unsigned oh, om;
        if (!get_digits(&r, 2, &oh) || !get_char(&r, ':') || !get_digits(&r, 2, &om)) {
            return "offset is not hh:mm";
        }
        if (oh > 23 || om > 59) {
            return "offset out of range";
        }
        offset = (int64_t)(oh * 3600 + om * 60);
        offset = c == '-' ? -offset : offset;
    } else if (c != 'Z' && c != 'z') {
        return "time zone is not 'Z' or an offset";
    }
    if (vt_reader_expect_end(&r) != VT_OK) {
        return "trailing characters";
    }
    if (mo < 1 || mo > 12) {
        return "month out of range";
    }
    if (d < 1 || d > days_in_month(y, mo)) {
        return "day out of range";
    }
    if (h > 23) {
        return "hour out of range";
    }
    if (mi > 59) {
        return "minute out of range";
    }
    if (sec > 59) {
        return "second out of range";
    }
    /* Local time minus its offset is UTC. */
    *out =
        days_from_civil(y, mo, d) * SECONDS_PER_DAY + (int64_t)(h * 3600 + mi * 60 + sec) - offset;
    return NULL;
}

/* Parse [-]1*19DIGIT as int64; on failure return what is wrong, else NULL. */
static const char *parse_unix(const char *s, size_t len, vt_time *out)
{
    struct vt_reader r;
    vt_reader_init(&r, (const uint8_t *)s, len);
    uint8_t c;
    bool neg = vt_reader_peek_u8(&r, &c) == VT_OK && c == '-';
    if (neg && vt_reader_skip(&r, 1) != VT_OK) {
        return "internal";
    }
    if (vt_reader_left(&r) < 1 || vt_reader_left(&r) > 19) {
        return "not 1 to 19 digits";
    }
    /* INT64_MAX, or its magnitude + 1 for a negative value. */
    uint64_t limit = (uint64_t)INT64_MAX + (neg ? 1u : 0u);
    uint64_t v = 0;
    while (vt_reader_get_u8(&r, &c) == VT_OK) {
        if (!is_digit(c)) {
            return "not a number";
        }
        uint64_t digit = (uint64_t)(c - '0');
        if (v > (limit - digit) / 10) {
            return "out of range";
        }
        v = v * 10 + digit;
    }
    if (neg) {
        *out = v == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v;
    } else {
        *out = (int64_t)v;
    }
    return NULL;
}

/* True if s is [-]DIGITS only (so it is meant as unix seconds). */
static bool looks_unix(const char *s, size_t len)
{
    struct vt_reader r;
    vt_reader_init(&r, (const uint8_t *)s, len);
    uint8_t c;
    if (vt_reader_peek_u8(&r, &c) == VT_OK && c == '-' && vt_reader_skip(&r, 1) != VT_OK) {
        return false;
    }
    if (vt_reader_left(&r) == 0) {
        return true; /* "" and "-": let parse_unix say why they are bad */
    }
    while (vt_reader_get_u8(&r, &c) == VT_OK) {
        if (!is_digit(c)) {
            return false;
        }
    }
    return true;
}

/* Printable excerpt of untrusted text for a detail message. */
static void quote_input(const char *s, size_t len, char out[QUOTE_MAX + 4])
{
    struct vt_reader r;
    vt_reader_init(&r, (const uint8_t *)s, len);
    size_t o = 0;
    uint8_t c;
    while (o < QUOTE_MAX && vt_reader_get_u8(&r, &c) == VT_OK) {
        out[o++] = c >= 0x20 && c < 0x7f && c != '"' ? (char)c : '?';
    }
    if (vt_reader_left(&r) > 0) {
        out[o++] = '.';
        out[o++] = '.';
        out[o++] = '.';
    }
    out[o] = '\0';
}

enum vt_err vt_time_parse(const char *s, size_t len, vt_time *out, struct vt_diag *d)
{
    if (s == NULL) {
        return vt_fail(d, VT_E_BAD_TIME, "time.parse", "no time given");
    }
    vt_time t = 0;
    const char *why = looks_unix(s, len) ? parse_unix(s, len, &t) : parse_rfc3339(s, len, &t);
    if (why != NULL) {
        char q[QUOTE_MAX + 4];
        quote_input(s, len, q);
        return vt_fail(d, VT_E_BAD_TIME, "time.parse",
                       "\"%s\" is not an RFC 3339 time or unix seconds: %s", q, why);
    }
    *out = t;
    return VT_OK;
}

/* If s is [-]1*DIGIT "." 1*DIGIT (unix seconds with a decimal fraction): true, with the length
 * of the integer part (sign included), its sign and whether the fraction is non-zero. */
static bool split_unix_fraction(const char *s, size_t len, size_t *int_len, bool *neg,
                                bool *nonzero)
{
    struct vt_reader r;
    vt_reader_init(&r, (const uint8_t *)s, len);
    uint8_t c;
    *neg = vt_reader_peek_u8(&r, &c) == VT_OK && c == '-';
    if (*neg && vt_reader_skip(&r, 1) != VT_OK) {
        return false;
    }
    size_t digits = 0, frac = 0;
    while (vt_reader_peek_u8(&r, &c) == VT_OK && is_digit(c) && vt_reader_skip(&r, 1) == VT_OK) {
        digits++;
    }
    if (digits == 0 || vt_reader_get_u8(&r, &c) != VT_OK || c != '.') {
        return false;
    }
    *int_len = len - vt_reader_left(&r) - 1;
    *nonzero = false;
    while (vt_reader_get_u8(&r, &c) == VT_OK) {
        if (!is_digit(c)) {
            return false;
        }
        *nonzero = *nonzero || c != '0';
        frac++;
    }
    return frac > 0;
}

enum vt_err vt_time_parse_arg(const char *s, size_t len, vt_time *out, struct vt_diag *d)
{
    size_t int_len;
    bool neg, nonzero;
    if (s == NULL || !split_unix_fraction(s, len, &int_len, &neg, &nonzero)) {
        return vt_time_parse(s, len, out, d);
    }
    vt_time t = 0;
    const char *why = parse_unix(s, int_len, &t);
    /* The second that contains the instant: a negative value with a fraction lies in the second
     * before its integer part (-1.5 is in [-2, -1)), as an RFC 3339 fraction is dropped. */
    if (why == NULL && neg && nonzero) {
        why = t == INT64_MIN ? "out of range" : NULL;
        t = t == INT64_MIN ? t : t - 1;
    }
    if (why != NULL) {
        char q[QUOTE_MAX + 4];
        quote_input(s, len, q);
        return vt_fail(d, VT_E_BAD_TIME, "time.parse",
                       "\"%s\" is not an RFC 3339 time or unix seconds: %s", q, why);
    }
    *out = t;
    return VT_OK;
}

void vt_time_format(vt_time t, char out[VT_TIME_STR_MAX])
{
    /* Floor division without forming days * 86400, which overflows near INT64_MIN. */
    int64_t days = t / SECONDS_PER_DAY;
    int64_t rem = t % SECONDS_PER_DAY;
    if (rem < 0) {
        rem += SECONDS_PER_DAY;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    /* The longest real result (INT64_MIN) is 29 characters; the larger scratch buffer only
     * keeps compilers that cannot see the field ranges from warning about truncation. */
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, m, d,
             (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60));
    size_t n = strnlen(tmp, VT_TIME_STR_MAX - 1);
    memcpy(out, tmp, n);
    out[n] = '\0';
}

vt_time vt_time_now(void)
{
    return (vt_time)time(NULL);
}

enum vt_err vt_time_check_edges(const char *what, vt_time not_before, vt_time not_after,
                                vt_time now, enum vt_time_mode mode, enum vt_time_edge edge,
                                struct vt_diag *d)
{
    const char *check = what != NULL ? what : "validity";
    if (mode != VT_TIME_STRICT && mode != VT_TIME_EXPIRY_ONLY) {
        return vt_fail(d, VT_E_ARG, check, "unknown time mode %d", (int)mode);
    }
    if (edge != VT_EDGE_INCLUSIVE && edge != VT_EDGE_EXPIRES_AT) {
        return vt_fail(d, VT_E_ARG, check, "unknown time edge %d", (int)edge);
    }
    char now_s[VT_TIME_STR_MAX];
    char bound_s[VT_TIME_STR_MAX];
    /* The lower bound is inclusive; the upper bound inclusive or the first expired second. */
    bool expired = edge == VT_EDGE_EXPIRES_AT ? now >= not_after : now > not_after;
    if (expired) {
        vt_time_format(now, now_s);
        vt_time_format(not_after, bound_s);
        return vt_fail(d, VT_E_EXPIRED, check, "now %s is %s not_after %s", now_s,
                       edge == VT_EDGE_EXPIRES_AT ? "at or after" : "after", bound_s);
    }
    if (mode == VT_TIME_STRICT && now < not_before) {
        vt_time_format(now, now_s);
        vt_time_format(not_before, bound_s);
        return vt_fail(d, VT_E_NOT_YET_VALID, check, "now %s is before not_before %s", now_s,
                       bound_s);
    }
    return VT_OK;
}

enum vt_err vt_time_check_window(const char *what, vt_time not_before, vt_time not_after,
                                 vt_time now, enum vt_time_mode mode, struct vt_diag *d)
{
    return vt_time_check_edges(what, not_before, not_after, now, mode, VT_EDGE_INCLUSIVE, d);
}
