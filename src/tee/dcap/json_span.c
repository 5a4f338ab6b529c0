/*
 * Locating the raw bytes of a top-level JSON member, byte-exact.
 *
 * Intel signs the exact text of the inner object of its collateral documents:
 *
 *   {"tcbInfo":{ ...signed bytes... },"signature":"<128 hex>"}
 *              ^-------- span -----^
 *
 * so the verifier must find that text without re-serialising anything (SPEC: dcap.md section 3,
 * "computed over the exact bytes of the inner object text"). This file is a small strict scanner
 * for RFC 8259 JSON: it walks the top-level object, skips every value (strings with all escapes,
 * numbers in the RFC grammar, true/false/null, nested arrays and objects up to VT_MAX_JSON_DEPTH
 * levels counting the top-level object as 1), and returns the span of the value whose member
 * name equals `key`. Member names are compared as raw bytes: a name written with escapes never
 * matches (the names we look for are plain ASCII; the parsers that use the span also parse the
 * whole document with jansson, which rejects duplicates after unescaping).
 *
 * Strings must be valid UTF-8 without raw control characters; \u escapes must pair surrogates.
 * Whitespace (space, tab, CR, LF) may surround the object; anything else after it is an error.
 * Every byte is read through the bounded reader.
 *
 * The second half of the file holds the field readers shared by tcb_info.c and qe_identity.c
 * (json_internal.h): jansson values in, typed fields out, errors naming the JSON path.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <veritee/limits.h>

#include "base/encoding.h"
#include "base/reader.h"
#include "tee/dcap/dcap.h"

#include "json_internal.h"

struct scan {
    struct vt_reader r;
    struct vt_diag *d;
};

static enum vt_err syntax(struct scan *s, const char *what)
{
    uint8_t c;
    if (vt_reader_peek_u8(&s->r, &c) != VT_OK) {
        return vt_fail(s->d, VT_E_BAD_JSON, "json.syntax", "offset %zu: %s (end of input)",
                       vt_reader_offset(&s->r), what);
    }
    return vt_fail(s->d, VT_E_BAD_JSON, "json.syntax", "offset %zu: %s (got byte 0x%02x)",
                   vt_reader_offset(&s->r), what, c);
}

static bool peek_is(const struct scan *s, uint8_t want)
{
    uint8_t c;
    return vt_reader_peek_u8(&s->r, &c) == VT_OK && c == want;
}

static bool peek_digit(const struct scan *s)
{
    uint8_t c;
    return vt_reader_peek_u8(&s->r, &c) == VT_OK && c >= '0' && c <= '9';
}

/* Step over one byte that a successful peek has just shown is there. */
static void advance(struct vt_reader *r)
{
    if (vt_reader_skip(r, 1) != VT_OK) {
        /* Unreachable: the caller peeked at this byte. */
        vt_reader_skip_rest(r);
    }
}

static void skip_ws(struct scan *s)
{
    uint8_t c;
    while (vt_reader_peek_u8(&s->r, &c) == VT_OK &&
           (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
        advance(&s->r);
    }
}

/* Consume `want` or fail with `what`. */
static enum vt_err expect(struct scan *s, uint8_t want, const char *what)
{
    if (!peek_is(s, want)) {
        return syntax(s, what);
    }
    advance(&s->r);
    return VT_OK;
}

/* The four hex digits of a \u escape (after "\u"). */
static enum vt_err get_u_escape(struct scan *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c;
        int h;
        if (vt_reader_peek_u8(&s->r, &c) != VT_OK || (h = vt_hex_value(c)) < 0) {
            return syntax(s, "expected 4 hex digits after \\u");
        }
        advance(&s->r);
        v = (v << 4) | (unsigned)h;
    }
    *out = v;
    return VT_OK;
}

/* One escape sequence after the backslash. */
static enum vt_err scan_escape(struct scan *s)
{
    uint8_t c;
    if (vt_reader_get_u8(&s->r, &c) != VT_OK) {
        return syntax(s, "unterminated escape");
    }
    switch (c) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        return VT_OK;
    case 'u':
        break;
    default:
        return vt_fail(s->d, VT_E_BAD_JSON, "json.syntax", "offset %zu: invalid escape \\%c",
                       vt_reader_offset(&s->r) - 2, c >= 0x20 && c < 0x7f ? c : '?');
    }
    unsigned u = 0;
    VT_TRY(get_u_escape(s, &u));
    if (u >= 0xDC00 && u <= 0xDFFF) {
        return syntax(s, "lone low surrogate in \\u escape");
    }
    if (u >= 0xD800 && u <= 0xDBFF) {
        /* SPEC: RFC 8259 section 7: a high surrogate must be followed by a low one. */
        unsigned lo = 0;
        if (!peek_is(s, '\\')) {
            return syntax(s, "high surrogate not followed by a low surrogate");
        }
        advance(&s->r);
        VT_TRY(expect(s, 'u', "high surrogate not followed by a low surrogate"));
        VT_TRY(get_u_escape(s, &lo));
        if (lo < 0xDC00 || lo > 0xDFFF) {
            return syntax(s, "high surrogate not followed by a low surrogate");
        }
    }
    return VT_OK;
}

/* The continuation bytes of a UTF-8 sequence whose lead byte `c` was consumed. */
static enum vt_err scan_utf8(struct scan *s, uint8_t c)
{
    size_t more;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the first continuation byte */
    if (c >= 0xC2 && c <= 0xDF) {
        more = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        more = 2;
        lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlong forms */
        hi = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        more = 3;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
    } else {
        return vt_fail(s->d, VT_E_BAD_JSON, "json.utf8",
                       "offset %zu: invalid UTF-8 lead byte 0x%02x", vt_reader_offset(&s->r) - 1,
                       c);
    }
    for (size_t i = 0; i < more; i++) {
        uint8_t b;
        if (vt_reader_peek_u8(&s->r, &b) != VT_OK || b < lo || b > hi) {
            return vt_fail(s->d, VT_E_BAD_JSON, "json.utf8",
                           "offset %zu: invalid UTF-8 continuation byte", vt_reader_offset(&s->r));
        }
        advance(&s->r);
        lo = 0x80;
        hi = 0xBF;
    }
    return VT_OK;
}

/* A string, from its opening quote; *escaped tells whether it held a backslash escape. */
static enum vt_err scan_string(struct scan *s, bool *escaped)
{
    VT_TRY(expect(s, '"', "expected '\"'"));
    *escaped = false;
    for (;;) {
        uint8_t c;
        if (vt_reader_get_u8(&s->r, &c) != VT_OK) {
            return syntax(s, "unterminated string");
        }
        if (c == '"') {
            return VT_OK;
        }
        if (c == '\\') {
            *escaped = true;
            VT_TRY(scan_escape(s));
        } else if (c < 0x20) {
            return vt_fail(s->d, VT_E_BAD_JSON, "json.syntax",
                           "offset %zu: raw control character 0x%02x in string",
                           vt_reader_offset(&s->r) - 1, c);
        } else if (c >= 0x80) {
            VT_TRY(scan_utf8(s, c));
        }
    }
}

static void skip_digits(struct scan *s)
{
    while (peek_digit(s)) {
        advance(&s->r);
    }
}

/* SPEC: RFC 8259 section 6: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)? */
static enum vt_err scan_number(struct scan *s)
{
    if (peek_is(s, '-')) {
        advance(&s->r);
    }
    if (peek_is(s, '0')) {
        advance(&s->r);
    } else if (peek_digit(s)) {
        skip_digits(s);
    } else {
        return syntax(s, "expected a digit");
    }
    if (peek_is(s, '.')) {
        advance(&s->r);
        if (!peek_digit(s)) {
            return syntax(s, "expected a digit after '.'");
        }
        skip_digits(s);
    }
    if (peek_is(s, 'e') || peek_is(s, 'E')) {
        advance(&s->r);
        if (peek_is(s, '+') || peek_is(s, '-')) {
            advance(&s->r);
        }
        if (!peek_digit(s)) {
            return syntax(s, "expected a digit in the exponent");
        }
        skip_digits(s);
    }
    return VT_OK;
}

static enum vt_err scan_literal(struct scan *s, const char *lit)
{
    size_t n = strlen(lit);
    struct vt_reader save = s->r;
    const uint8_t *p;
    if (vt_reader_get_bytes(&s->r, n, &p) != VT_OK || memcmp(p, lit, n) != 0) {
        s->r = save;
        return syntax(s, "invalid literal");
    }
    return VT_OK;
}

static enum vt_err skip_value(struct scan *s, int depth);

/* A nested object or array; `depth` is its own nesting level. */
static enum vt_err skip_container(struct scan *s, int depth, uint8_t close)
{
    if (depth > VT_MAX_JSON_DEPTH) {
        return vt_fail(s->d, VT_E_TOO_LARGE, "json.depth",
                       "offset %zu: nesting deeper than %d levels", vt_reader_offset(&s->r),
                       VT_MAX_JSON_DEPTH);
    }
    advance(&s->r); /* the opening bracket, already peeked */
    skip_ws(s);
    if (peek_is(s, close)) {
        advance(&s->r);
        return VT_OK;
    }
    for (;;) {
        skip_ws(s);
        if (close == '}') {
            bool escaped;
            VT_TRY(scan_string(s, &escaped));
            skip_ws(s);
            VT_TRY(expect(s, ':', "expected ':' after member name"));
            skip_ws(s);
        }
        VT_TRY(skip_value(s, depth));
        skip_ws(s);
        if (peek_is(s, ',')) {
            advance(&s->r);
            continue;
        }
        return expect(s, close, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

/* Any value, inside a container at nesting level `depth`. */
static enum vt_err skip_value(struct scan *s, int depth)
{
    uint8_t c;
    if (vt_reader_peek_u8(&s->r, &c) != VT_OK) {
        return syntax(s, "expected a value");
    }
    switch (c) {
    case '{':
        return skip_container(s, depth + 1, '}');
    case '[':
        return skip_container(s, depth + 1, ']');
    case '"': {
        bool escaped;
        return scan_string(s, &escaped);
    }
    case 't':
        return scan_literal(s, "true");
    case 'f':
        return scan_literal(s, "false");
    case 'n':
        return scan_literal(s, "null");
    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            return scan_number(s);
        }
        return syntax(s, "expected a value");
    }
}

/* Bytes consumed between `from` (a copy of the reader taken earlier) and the reader now, as a
 * borrowed view taken through the copy. */
static const uint8_t *consumed_view(const struct scan *s, struct vt_reader from, size_t *len)
{
    const uint8_t *p = NULL;
    *len = vt_reader_offset(&s->r) - vt_reader_offset(&from);
    if (vt_reader_get_bytes(&from, *len, &p) != VT_OK) {
        *len = 0;
        return NULL;
    }
    return p;
}

enum vt_err vt_json_member_span(const uint8_t *json, size_t len, const char *key,
                                const uint8_t **val, size_t *val_len, struct vt_diag *d)
{
    if ((json == NULL && len > 0) || key == NULL || val == NULL || val_len == NULL) {
        return vt_fail(d, VT_E_ARG, "json.member", "NULL argument");
    }
    struct scan s = {.d = d};
    vt_reader_init(&s.r, json, len);
    size_t key_len = strlen(key);
    const uint8_t *found = NULL;
    size_t found_len = 0;

    skip_ws(&s);
    VT_TRY(expect(&s, '{', "expected a JSON object"));
    skip_ws(&s);
    if (peek_is(&s, '}')) {
        advance(&s.r);
    } else {
        for (;;) {
            skip_ws(&s);
            struct vt_reader name_start = s.r;
            bool escaped;
            VT_TRY(scan_string(&s, &escaped));
            size_t name_len;
            const uint8_t *name = consumed_view(&s, name_start, &name_len); /* with quotes */
            bool match = !escaped && name != NULL && name_len == key_len + 2 &&
                         memcmp(name + 1, key, key_len) == 0;
            skip_ws(&s);
            VT_TRY(expect(&s, ':', "expected ':' after member name"));
            skip_ws(&s);
            struct vt_reader value_start = s.r;
            VT_TRY(skip_value(&s, 1));
            if (match) {
                if (found != NULL) {
                    return vt_fail(d, VT_E_DUPLICATE, "json.duplicate",
                                   "member \"%s\" occurs twice (again at offset %zu)", key,
                                   vt_reader_offset(&name_start));
                }
                found = consumed_view(&s, value_start, &found_len);
            }
            skip_ws(&s);
            if (peek_is(&s, ',')) {
                advance(&s.r);
                continue;
            }
            VT_TRY(expect(&s, '}', "expected ',' or '}'"));
            break;
        }
    }
    skip_ws(&s);
    if (vt_reader_expect_end(&s.r) != VT_OK) {
        return syntax(&s, "unexpected data after the top-level object");
    }
    if (found == NULL) {
        return vt_fail(d, VT_E_MISSING_FIELD, "json.member", "top-level member \"%s\" not found",
                       key);
    }
    *val = found;
    *val_len = found_len;
    return VT_OK;
}

/* ---- helpers for the signed collateral parsers (json_internal.h) ---- */

/* Longest part of an untrusted string quoted in an error detail. */
#define QUOTE_MAX 64

void vt_jpath_init(struct vt_jpath *p, const char *root, struct vt_diag *d)
{
    p->d = d;
    p->len = 0;
    p->buf[0] = '\0';
    if (root != NULL) {
        (void)vt_jpath_key(p, root);
    }
}

/* Append sep + key (key != NULL) or "[i]"; the path is cut at its capacity. */
static size_t jpath_append(struct vt_jpath *p, const char *sep, const char *key, size_t i)
{
    size_t mark = p->len;
    size_t room = sizeof(p->buf) - p->len;
    int n = key != NULL ? snprintf(p->buf + p->len, room, "%s%s", sep, key)
                        : snprintf(p->buf + p->len, room, "[%zu]", i);
    if (n > 0) {
        p->len += (size_t)n < room ? (size_t)n : room - 1;
    }
    return mark;
}

size_t vt_jpath_key(struct vt_jpath *p, const char *key)
{
    return jpath_append(p, p->len == 0 ? "" : ".", key, 0);
}

size_t vt_jpath_index(struct vt_jpath *p, size_t i)
{
    return jpath_append(p, "", NULL, i);
}

void vt_jpath_pop(struct vt_jpath *p, size_t mark)
{
    if (mark <= p->len) {
        p->len = mark;
        p->buf[mark] = '\0';
    }
}

enum vt_err vt_jpath_fail(struct vt_jpath *p, enum vt_err code, const char *fmt, ...)
{
    /* check: the path without its [i] parts */
    char check[VT_DIAG_CHECK_MAX];
    size_t n = 0;
    bool in_index = false;
    for (size_t i = 0; i < p->len && n + 1 < sizeof(check); i++) {
        char c = p->buf[i];
        if (c == '[') {
            in_index = true;
        } else if (c == ']') {
            in_index = false;
        } else if (!in_index) {
            check[n++] = c;
        }
    }
    check[n] = '\0';
    char what[VT_DIAG_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (w < 0) {
        what[0] = '\0';
    }
    return vt_fail(p->d, code, check, "%s: %s", p->buf, what);
}

/* A short printable description of an untrusted JSON value, for error details. */
static void describe(const json_t *v, char *out, size_t cap)
{
    if (v == NULL) {
        snprintf(out, cap, "nothing");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        size_t o = 0;
        out[o++] = '"';
        for (size_t i = 0; i < len && i < QUOTE_MAX && o + 6 < cap; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                out[o++] = (char)c;
            } else {
                o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
            }
        }
        if (len > QUOTE_MAX && o + 5 < cap) {
            memcpy(out + o, "...", 3);
            o += 3;
        }
        out[o++] = '"';
        out[o] = '\0';
        return;
    }
    case JSON_INTEGER:
        snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return;
    case JSON_REAL:
        snprintf(out, cap, "%g", json_real_value(v));
        return;
    case JSON_TRUE:
        snprintf(out, cap, "true");
        return;
    case JSON_FALSE:
        snprintf(out, cap, "false");
        return;
    case JSON_NULL:
        snprintf(out, cap, "null");
        return;
    case JSON_OBJECT:
        snprintf(out, cap, "an object");
        return;
    case JSON_ARRAY:
        snprintf(out, cap, "an array of %zu", json_array_size(v));
        return;
    }
    snprintf(out, cap, "a value");
}

enum vt_err vt_json_bad_value(struct vt_jpath *p, const json_t *v, const char *expected)
{
    char got[QUOTE_MAX * 4 + 8];
    describe(v, got, sizeof(got));
    return vt_jpath_fail(p, VT_E_BAD_FIELD, "expected %s, got %s", expected, got);
}

enum vt_err vt_json_member(struct vt_jpath *p, json_t *obj, const char *key, json_t **out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        size_t mark = vt_jpath_key(p, key);
        enum vt_err err = vt_jpath_fail(p, VT_E_MISSING_FIELD, "required field is missing");
        vt_jpath_pop(p, mark);
        return err;
    }
    *out = v;
    return VT_OK;
}

enum vt_err vt_json_get_object(struct vt_jpath *p, json_t *obj, const char *key, json_t **out)
{
    json_t *v = NULL;
    VT_TRY(vt_json_member(p, obj, key, &v));
    if (!json_is_object(v)) {
        size_t mark = vt_jpath_key(p, key);
        enum vt_err err = vt_json_bad_value(p, v, "an object");
        vt_jpath_pop(p, mark);
        return err;
    }
    *out = v;
    return VT_OK;
}

enum vt_err vt_json_get_array(struct vt_jpath *p, json_t *obj, const char *key, size_t min,
                              size_t max, json_t **out)
{
    json_t *v = NULL;
    VT_TRY(vt_json_member(p, obj, key, &v));
    size_t mark = vt_jpath_key(p, key);
    enum vt_err err = VT_OK;
    if (!json_is_array(v)) {
        err = vt_json_bad_value(p, v, "an array");
    } else if (json_array_size(v) > max) {
        err = vt_jpath_fail(p, VT_E_TOO_LARGE, "%zu elements, at most %zu accepted",
                            json_array_size(v), max);
    } else if (json_array_size(v) < min) {
        err = vt_jpath_fail(p, VT_E_BAD_FIELD, "%zu elements, at least %zu required",
                            json_array_size(v), min);
    } else {
        *out = v;
    }
    vt_jpath_pop(p, mark);
    return err;
}

enum vt_err vt_json_get_string(struct vt_jpath *p, json_t *obj, const char *key, const char **s,
                               size_t *len)
{
    json_t *v = NULL;
    VT_TRY(vt_json_member(p, obj, key, &v));
    if (!json_is_string(v)) {
        size_t mark = vt_jpath_key(p, key);
        enum vt_err err = vt_json_bad_value(p, v, "a string");
        vt_jpath_pop(p, mark);
        return err;
    }
    *s = json_string_value(v);
    *len = json_string_length(v);
    return VT_OK;
}

enum vt_err vt_json_get_uint(struct vt_jpath *p, json_t *obj, const char *key, uint64_t max,
                             uint64_t *out)
{
    json_t *v = NULL;
    VT_TRY(vt_json_member(p, obj, key, &v));
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max) {
        char expected[64];
        snprintf(expected, sizeof(expected), "an integer in 0..%" PRIu64, max);
        size_t mark = vt_jpath_key(p, key);
        enum vt_err err = vt_json_bad_value(p, v, expected);
        vt_jpath_pop(p, mark);
        return err;
    }
    *out = (uint64_t)json_integer_value(v);
    return VT_OK;
}

enum vt_err vt_json_get_hex(struct vt_jpath *p, json_t *obj, const char *key, uint8_t *out,
                            size_t n)
{
    json_t *v = NULL;
    VT_TRY(vt_json_member(p, obj, key, &v));
    size_t mark = vt_jpath_key(p, key);
    enum vt_err err = VT_OK;
    char expected[48];
    snprintf(expected, sizeof(expected), "%zu hex digits", 2 * n);
    if (!json_is_string(v) || json_string_length(v) != 2 * n ||
        vt_hex_decode_exact(json_string_value(v), 2 * n, out, n) != VT_OK) {
        err = vt_json_bad_value(p, v, expected);
    }
    vt_jpath_pop(p, mark);
    return err;
}

enum vt_err vt_json_get_time(struct vt_jpath *p, json_t *obj, const char *key, vt_time *out)
{
    json_t *v = NULL;
    VT_TRY(vt_json_member(p, obj, key, &v));
    vt_time t;
    if (!json_is_string(v) ||
        vt_time_parse(json_string_value(v), json_string_length(v), &t, NULL) != VT_OK) {
        size_t mark = vt_jpath_key(p, key);
        enum vt_err err = vt_json_bad_value(p, v, "an RFC 3339 date-time");
        vt_jpath_pop(p, mark);
        return err;
    }
    *out = t;
    return VT_OK;
}

enum vt_err vt_json_get_status(struct vt_jpath *p, json_t *obj, const char *key, bool isv_only,
                               enum vt_tcb_status *out)
{
    json_t *v = NULL;
    VT_TRY(vt_json_member(p, obj, key, &v));
    enum vt_tcb_status s = VT_TCB_NONE;
    bool ok = json_is_string(v) &&
              vt_tcb_status_parse(json_string_value(v), json_string_length(v), &s) == VT_OK;
    if (ok && isv_only) {
        /* SPEC: dcap.md section 3: identity and module levels use only these three. */
        ok = s == VT_TCB_UP_TO_DATE || s == VT_TCB_OUT_OF_DATE || s == VT_TCB_REVOKED;
    } else if (ok) {
        /* SPEC: dcap.md section 3: the seven TCB level statuses; the relaunch pair is a
         * verification result, never a level status. */
        ok =
            s != VT_TCB_TD_RELAUNCH_ADVISED && s != VT_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
    }
    if (!ok) {
        size_t mark = vt_jpath_key(p, key);
        enum vt_err err = vt_json_bad_value(
            p, v, isv_only ? "UpToDate, OutOfDate or Revoked" : "a TCB level status");
        vt_jpath_pop(p, mark);
        return err;
    }
    *out = s;
    return VT_OK;
}

static bool advisory_char_ok(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

enum vt_err vt_json_get_advisories(struct vt_jpath *p, json_t *level, size_t *n,
                                   char (**ids)[VT_ADVISORY_ID_MAX])
{
    *n = 0;
    *ids = NULL;
    json_t *arr = json_object_get(level, "advisoryIDs");
    if (arr == NULL) {
        return VT_OK; /* optional */
    }
    json_t *checked;
    VT_TRY(vt_json_get_array(p, level, "advisoryIDs", 0, VT_MAX_ADVISORIES, &checked));
    size_t count = json_array_size(arr);
    if (count == 0) {
        return VT_OK;
    }
    char(*out)[VT_ADVISORY_ID_MAX] = calloc(count, sizeof(*out));
    if (out == NULL) {
        return vt_jpath_fail(p, VT_E_NOMEM, "out of memory for %zu advisory IDs", count);
    }
    size_t mark = vt_jpath_key(p, "advisoryIDs");
    enum vt_err err = VT_OK;
    for (size_t i = 0; i < count && err == VT_OK; i++) {
        json_t *v = json_array_get(arr, i);
        size_t imark = vt_jpath_index(p, i);
        if (!json_is_string(v) || json_string_length(v) == 0) {
            err = vt_json_bad_value(p, v, "a non-empty string");
        } else if (json_string_length(v) >= VT_ADVISORY_ID_MAX) {
            err = vt_jpath_fail(p, VT_E_TOO_LARGE, "advisory ID of %zu characters, at most %d",
                                json_string_length(v), VT_ADVISORY_ID_MAX - 1);
        } else {
            const char *s = json_string_value(v);
            size_t len = json_string_length(v);
            for (size_t k = 0; k < len && err == VT_OK; k++) {
                if (!advisory_char_ok((unsigned char)s[k])) {
                    err = vt_json_bad_value(p, v, "printable ASCII without spaces");
                }
            }
            if (err == VT_OK) {
                memcpy(out[i], s, len);
                out[i][len] = '\0';
            }
        }
        vt_jpath_pop(p, imark);
    }
    vt_jpath_pop(p, mark);
    if (err != VT_OK) {
        free(out);
        return err;
    }
    *n = count;
    *ids = out;
    return VT_OK;
}

void vt_isv_levels_free(struct vt_isv_level *levels, size_t n)
{
    if (levels == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free(levels[i].advisory_ids);
    }
    free(levels);
}

static int isv_level_cmp_desc(const void *a, const void *b)
{
    const struct vt_isv_level *x = a, *y = b;
    return (x->isvsvn < y->isvsvn) - (x->isvsvn > y->isvsvn);
}

static enum vt_err isv_level_parse(struct vt_jpath *p, json_t *lv, struct vt_isv_level *out)
{
    if (!json_is_object(lv)) {
        return vt_json_bad_value(p, lv, "an object");
    }
    json_t *tcb;
    uint64_t svn;
    VT_TRY(vt_json_get_object(p, lv, "tcb", &tcb));
    size_t mark = vt_jpath_key(p, "tcb");
    enum vt_err err = vt_json_get_uint(p, tcb, "isvsvn", UINT16_MAX, &svn);
    vt_jpath_pop(p, mark);
    VT_TRY(err);
    out->isvsvn = (uint16_t)svn;
    VT_TRY(vt_json_get_time(p, lv, "tcbDate", &out->tcb_date));
    VT_TRY(vt_json_get_status(p, lv, "tcbStatus", true, &out->status));
    return vt_json_get_advisories(p, lv, &out->n_advisories, &out->advisory_ids);
}

enum vt_err vt_json_get_isv_levels(struct vt_jpath *p, json_t *obj, struct vt_isv_level **levels,
                                   size_t *n)
{
    json_t *arr;
    VT_TRY(vt_json_get_array(p, obj, "tcbLevels", 1, VT_MAX_TCB_LEVELS, &arr));
    size_t count = json_array_size(arr);
    struct vt_isv_level *out = calloc(count, sizeof(*out));
    if (out == NULL) {
        return vt_jpath_fail(p, VT_E_NOMEM, "out of memory for %zu levels", count);
    }
    size_t mark = vt_jpath_key(p, "tcbLevels");
    enum vt_err err = VT_OK;
    for (size_t i = 0; i < count && err == VT_OK; i++) {
        size_t imark = vt_jpath_index(p, i);
        err = isv_level_parse(p, json_array_get(arr, i), &out[i]);
        vt_jpath_pop(p, imark);
    }
    if (err == VT_OK) {
        /* SPEC: dcap.md 4.2 step 10 and 4.3: levels ordered by isvsvn, descending, whatever the
         * JSON order; QVL keeps them in a set, so two levels with one isvsvn are an error. */
        qsort(out, count, sizeof(*out), isv_level_cmp_desc);
        for (size_t i = 1; i < count && err == VT_OK; i++) {
            if (out[i].isvsvn == out[i - 1].isvsvn) {
                err = vt_jpath_fail(p, VT_E_DUPLICATE, "two levels with isvsvn %u", out[i].isvsvn);
            }
        }
    }
    vt_jpath_pop(p, mark);
    if (err != VT_OK) {
        vt_isv_levels_free(out, count);
        return err;
    }
    *levels = out;
    *n = count;
    return VT_OK;
}

/* Jansson's own failure, as ours. */
static enum vt_err jansson_fail(struct vt_diag *d, const char *what, const json_error_t *e)
{
    enum vt_err code =
        json_error_code(e) == json_error_duplicate_key ? VT_E_DUPLICATE : VT_E_BAD_JSON;
    return vt_fail(d, code, code == VT_E_DUPLICATE ? "json.duplicate" : "json.parse",
                   "%s: %s at offset %d", what, e->text, e->position);
}

enum vt_err vt_signed_doc_load(const uint8_t *json, size_t len, const char *name, json_t **inner,
                               const uint8_t **body, size_t *body_len, uint8_t signature[64],
                               struct vt_diag *d)
{
    if (json == NULL && len > 0) {
        return vt_fail(d, VT_E_ARG, name, "NULL document");
    }
    if (len > VT_MAX_COLLATERAL_SIZE) {
        return vt_fail(d, VT_E_TOO_LARGE, name, "document of %zu bytes, at most %u accepted", len,
                       VT_MAX_COLLATERAL_SIZE);
    }
    /* The scanner first: it bounds the nesting depth before jansson recurses, and finds the
     * exact bytes that the signature covers. */
    const uint8_t *span;
    size_t span_len;
    VT_TRY(vt_json_member_span(json, len, name, &span, &span_len, d));

    /* The whole document with jansson: duplicate names anywhere (also after unescaping), NUL
     * characters (JSON_ALLOW_NUL is not given) and integer overflow are rejected there. */
    json_error_t e;
    json_t *root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &e);
    if (root == NULL) {
        return jansson_fail(d, "document", &e);
    }
    struct vt_jpath p;
    vt_jpath_init(&p, NULL, d);
    json_t *v = NULL;
    enum vt_err err = vt_json_get_object(&p, root, name, &v);
    if (err == VT_OK) {
        err = vt_json_get_hex(&p, root, "signature", signature, 64);
    }
    json_decref(root);
    VT_TRY(err);

    /* What is signed is what is used: the fields come from the span's own bytes. */
    json_t *obj = json_loadb((const char *)span, span_len, JSON_REJECT_DUPLICATES, &e);
    if (obj == NULL) {
        return jansson_fail(d, name, &e);
    }
    if (!json_is_object(obj)) {
        json_decref(obj);
        return vt_fail(d, VT_E_BAD_FIELD, name, "%s: expected an object", name);
    }
    *inner = obj;
    *body = span;
    *body_len = span_len;
    return VT_OK;
}
