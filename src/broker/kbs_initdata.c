/*
 * The KBS Attestation message's init-data (src/broker/kbs.h; Trustee kbs/docs/initdata.md):
 * {"format": "toml", "body": "<TOML>"}. The guest sends the body exactly as the host gave it; the
 * TOML's "algorithm" names the hash of the whole body, which the host put in the TEE's init-data
 * field (TDX MRCONFIGID, SNP HOST_DATA) at launch.
 *
 * The reader below takes the subset of TOML 1.0 such documents use and refuses the rest by name:
 * it is a bounded, single-pass scanner over the body (valid UTF-8, checked first), one key/value
 * pair, table header, comment or blank per line. Values must be strings (basic "..", literal
 * '..', multi-line """..""" and '''..''' with TOML's escapes, line-ending backslashes and first
 * newline trimmed); keys bare or quoted, not dotted; tables [name], not [[arrays]].
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "broker/kbs.h"

#define CHECK "initdata.toml"
#define KEY_MAX 1024

struct entry {
    int table; /* index into tables, -1 for the root */
    char *key;
    size_t key_len;
    char *val;
    size_t val_len;
};

struct toml {
    const char *s;
    size_t n, i;
    size_t line, line_start;
    struct vt_diag *d;
    struct entry *e;
    size_t ne;
    struct vt_buf tables[VT_KBS_INITDATA_KEYS]; /* names of the [tables], in order */
    size_t nt;
    int table;
};

static enum vt_err at(struct toml *t, enum vt_err code, const char *fmt, ...) VT_PRINTF(3, 4);

static enum vt_err at(struct toml *t, enum vt_err code, const char *fmt, ...)
{
    char msg[VT_DIAG_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return vt_fail(t->d, code, CHECK, "line %zu column %zu: %s", t->line, t->i - t->line_start + 1,
                   msg);
}

/* Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF); the offset of the first bad
 * byte, or n. */
static size_t utf8_bad(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 0;
        if (k == 0 || n - i <= k) {
            return i;
        }
        uint32_t cp = c & (0x3fu >> k);
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80) {
                return i;
            }
            cp = (cp << 6) | (p[i + j] & 0x3fu);
        }
        static const uint32_t min[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return i;
        }
        i += k + 1;
    }
    return n;
}

static bool eof(const struct toml *t)
{
    return t->i >= t->n;
}

static char peek(const struct toml *t, size_t ahead)
{
    return t->i + ahead < t->n ? t->s[t->i + ahead] : '\0';
}

static void skip_ws(struct toml *t)
{
    while (!eof(t) && (t->s[t->i] == ' ' || t->s[t->i] == '\t')) {
        t->i++;
    }
}

/* A newline (LF or CRLF) at the cursor: its length, else 0. */
static size_t newline(const struct toml *t)
{
    return peek(t, 0) == '\n' ? 1 : peek(t, 0) == '\r' && peek(t, 1) == '\n' ? 2 : 0;
}

static void next_line(struct toml *t, size_t nl)
{
    t->i += nl;
    t->line++;
    t->line_start = t->i;
}

/* A control character TOML allows nowhere outside multi-line strings (tab excepted). */
static bool control(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* The end of a line: blanks, an optional comment, a newline or the end of the body. */
static enum vt_err end_of_line(struct toml *t, const char *after)
{
    skip_ws(t);
    if (peek(t, 0) == '#') {
        while (!eof(t) && newline(t) == 0) {
            if (control((unsigned char)t->s[t->i])) {
                return at(t, VT_E_MALFORMED, "control character 0x%02x in a comment",
                          (unsigned char)t->s[t->i]);
            }
            t->i++;
        }
    }
    if (eof(t)) {
        return VT_OK;
    }
    size_t nl = newline(t);
    if (nl == 0) {
        return at(t, VT_E_MALFORMED, "expected the end of the line after %s", after);
    }
    next_line(t, nl);
    return VT_OK;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static enum vt_err put_cp(struct toml *t, struct vt_buf *out, uint32_t cp)
{
    uint8_t u[4];
    size_t k;
    if (cp < 0x80) {
        u[0] = (uint8_t)cp;
        k = 1;
    } else if (cp < 0x800) {
        u[0] = (uint8_t)(0xc0 | (cp >> 6));
        u[1] = (uint8_t)(0x80 | (cp & 0x3f));
        k = 2;
    } else if (cp < 0x10000) {
        u[0] = (uint8_t)(0xe0 | (cp >> 12));
        u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (uint8_t)(0x80 | (cp & 0x3f));
        k = 3;
    } else {
        u[0] = (uint8_t)(0xf0 | (cp >> 18));
        u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (uint8_t)(0x80 | (cp & 0x3f));
        k = 4;
    }
    enum vt_err err = vt_buf_append(out, u, k);
    return err == VT_OK ? VT_OK : at(t, err, "the string is too long");
}

/* An escape after the backslash at the cursor (basic strings). */
static enum vt_err escape(struct toml *t, struct vt_buf *out)
{
    char c = peek(t, 1);
    static const char from[] = "btnfr\"\\";
    static const char to[] = "\b\t\n\f\r\"\\";
    const char *f = c != '\0' ? strchr(from, c) : NULL;
    if (f != NULL) {
        t->i += 2;
        enum vt_err err = vt_buf_append(out, &to[f - from], 1);
        return err == VT_OK ? VT_OK : at(t, err, "the string is too long");
    }
    if (c == 'u' || c == 'U') {
        size_t digits = c == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (size_t j = 0; j < digits; j++) {
            int h = hexval(peek(t, 2 + j));
            if (h < 0) {
                return at(t, VT_E_MALFORMED, "\\%c needs %zu hex digits", c, digits);
            }
            cp = (cp << 4) | (uint32_t)h;
        }
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return at(t, VT_E_MALFORMED, "\\%c%0*X is not a Unicode scalar value", c, (int)digits,
                      cp);
        }
        if (cp == 0) { /* the claims are JSON text, where U+0000 is not carried */
            return at(t, VT_E_UNSUPPORTED,
                      "\\%c%0*X: a NUL character in a string is not "
                      "supported",
                      c, (int)digits, cp);
        }
        t->i += 2 + digits;
        return put_cp(t, out, cp);
    }
    return at(t, VT_E_MALFORMED,
              "invalid escape \\%c (TOML has \\b \\t \\n \\f \\r \\\" \\\\ \\u \\U)",
              c >= 0x20 && c < 0x7f ? c : '?');
}

/* A string at the cursor (after the caller saw its first quote): basic or literal, single- or
 * multi-line (allowed only for values). The decoded text goes to out. */
static enum vt_err string(struct toml *t, bool multi_ok, struct vt_buf *out)
{
    char q = peek(t, 0);
    bool basic = q == '"';
    bool multi = peek(t, 1) == q && peek(t, 2) == q;
    if (multi && !multi_ok) {
        return at(t, VT_E_MALFORMED, "a key cannot be a multi-line string");
    }
    t->i += multi ? 3 : 1;
    if (multi) { /* a newline right after the opening delimiter is trimmed */
        size_t nl = newline(t);
        if (nl > 0) {
            next_line(t, nl);
        }
    }
    for (;;) {
        if (eof(t)) {
            return at(t, VT_E_MALFORMED, "the string is not closed");
        }
        unsigned char c = (unsigned char)t->s[t->i];
        if (c == (unsigned char)q) {
            if (!multi) {
                t->i++;
                return VT_OK;
            }
            size_t run = 0;
            while (peek(t, run) == q) {
                run++;
            }
            if (run >= 3) { /* up to two quotes may precede the closing delimiter */
                if (run > 5) {
                    return at(t, VT_E_MALFORMED, "%zu quotes in a row close a multi-line string",
                              run);
                }
                enum vt_err err = vt_buf_append(out, t->s + t->i, run - 3);
                t->i += run;
                return err == VT_OK ? VT_OK : at(t, err, "the string is too long");
            }
            enum vt_err err = vt_buf_append(out, t->s + t->i, run);
            if (err != VT_OK) {
                return at(t, err, "the string is too long");
            }
            t->i += run;
            continue;
        }
        size_t nl = newline(t);
        if (nl > 0) {
            if (!multi) {
                return at(t, VT_E_MALFORMED, "a newline in a single-line string");
            }
            enum vt_err err = vt_buf_append(out, t->s + t->i, nl); /* LF or CRLF, as written */
            if (err != VT_OK) {
                return at(t, err, "the string is too long");
            }
            next_line(t, nl);
            continue;
        }
        if (control(c)) {
            return at(t, VT_E_MALFORMED, "control character 0x%02x in a string", c);
        }
        if (c == '\\' && basic) {
            if (multi) { /* a line-ending backslash trims the blanks and newlines after it */
                size_t j = 1;
                while (peek(t, j) == ' ' || peek(t, j) == '\t') {
                    j++;
                }
                size_t save = t->i;
                t->i += j;
                if (newline(t) > 0) {
                    while (!eof(t)) {
                        size_t k = newline(t);
                        if (k > 0) {
                            next_line(t, k);
                        } else if (peek(t, 0) == ' ' || peek(t, 0) == '\t') {
                            t->i++;
                        } else {
                            break;
                        }
                    }
                    continue;
                }
                t->i = save;
            }
            VT_TRY(escape(t, out));
            continue;
        }
        enum vt_err err = vt_buf_append(out, t->s + t->i, 1);
        if (err != VT_OK) {
            return at(t, err, "the string is too long");
        }
        t->i++;
    }
}

static bool bare(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* A key (bare or quoted, not dotted) into out. */
static enum vt_err key(struct toml *t, struct vt_buf *out)
{
    char c = peek(t, 0);
    if (c == '"' || c == '\'') {
        VT_TRY(string(t, false, out));
    } else {
        size_t start = t->i;
        while (!eof(t) && bare(t->s[t->i])) {
            t->i++;
        }
        if (t->i == start) {
            unsigned char u = (unsigned char)c;
            return at(t, VT_E_MALFORMED, "expected a key, found %s%c%s",
                      u >= 0x20 && u < 0x7f ? "'" : "byte 0x", u >= 0x20 && u < 0x7f ? c : '?',
                      u >= 0x20 && u < 0x7f ? "'" : "");
        }
        enum vt_err err = vt_buf_append(out, t->s + start, t->i - start);
        if (err != VT_OK) {
            return at(t, err, "the key is too long");
        }
    }
    skip_ws(t);
    if (peek(t, 0) == '.') {
        return at(t, VT_E_UNSUPPORTED,
                  "dotted keys are not supported in init-data: write [table] headers and quote "
                  "keys that hold dots");
    }
    return VT_OK;
}

static bool same(const char *a, size_t an, const uint8_t *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* A key's text for a message (an empty buffer has no data). */
static const char *txt(const struct vt_buf *b)
{
    return b->data != NULL ? (const char *)b->data : "";
}

static enum vt_err header(struct toml *t)
{
    if (peek(t, 1) == '[') {
        return at(t, VT_E_UNSUPPORTED, "arrays of tables ([[...]]) are not supported in init-data");
    }
    t->i++;
    skip_ws(t);
    if (t->nt == VT_KBS_INITDATA_KEYS) {
        return at(t, VT_E_TOO_LARGE, "more than %d tables", VT_KBS_INITDATA_KEYS);
    }
    struct vt_buf *name = &t->tables[t->nt];
    vt_buf_init(name, KEY_MAX);
    t->nt++;
    VT_TRY(key(t, name));
    if (peek(t, 0) != ']') {
        return at(t, VT_E_MALFORMED, "expected ']' to close the table header");
    }
    t->i++;
    for (size_t j = 0; j + 1 < t->nt; j++) {
        if (same((const char *)t->tables[j].data, t->tables[j].len, name->data, name->len)) {
            return at(t, VT_E_DUPLICATE, "table [%.*s] is defined twice", (int)(name->len % 200),
                      txt(name));
        }
    }
    for (size_t j = 0; j < t->ne; j++) {
        if (t->e[j].table < 0 && same(t->e[j].key, t->e[j].key_len, name->data, name->len)) {
            return at(t, VT_E_DUPLICATE, "\"%.*s\" is defined as a value and as a table",
                      (int)(name->len % 200), txt(name));
        }
    }
    t->table = (int)(t->nt - 1);
    return end_of_line(t, "a table header");
}

static const char *value_kind(char c)
{
    return c == '['               ? "an array"
           : c == '{'             ? "an inline table"
           : c == 't' || c == 'f' ? "a boolean"
           : (c >= '0' && c <= '9') || c == '+' || c == '-' || c == 'i' || c == 'n'
               ? "a number or date"
               : "not a TOML value";
}

static enum vt_err pair(struct toml *t)
{
    if (t->ne == VT_KBS_INITDATA_KEYS) {
        return at(t, VT_E_TOO_LARGE, "more than %d keys", VT_KBS_INITDATA_KEYS);
    }
    struct vt_buf k;
    struct vt_buf v;
    vt_buf_init(&k, KEY_MAX);
    vt_buf_init(&v, VT_KBS_INITDATA_MAX);
    enum vt_err err = key(t, &k);
    if (err == VT_OK && peek(t, 0) != '=') {
        err = at(t, VT_E_MALFORMED, "expected '=' after the key");
    }
    if (err == VT_OK) {
        t->i++;
        skip_ws(t);
        char c = peek(t, 0);
        if (c != '"' && c != '\'') {
            err =
                at(t, VT_E_UNSUPPORTED, "the value of \"%.*s\" is %s: init-data values are strings",
                   (int)(k.len % 200), txt(&k), value_kind(c));
        } else {
            err = string(t, true, &v);
        }
    }
    for (size_t j = 0; err == VT_OK && j < t->ne; j++) {
        if (t->e[j].table == t->table && same(t->e[j].key, t->e[j].key_len, k.data, k.len)) {
            err =
                at(t, VT_E_DUPLICATE, "key \"%.*s\" is defined twice", (int)(k.len % 200), txt(&k));
        }
    }
    for (size_t j = 0; err == VT_OK && t->table < 0 && j < t->nt; j++) {
        if (same((const char *)t->tables[j].data, t->tables[j].len, k.data, k.len)) {
            err = at(t, VT_E_DUPLICATE, "\"%.*s\" is defined as a table and as a value",
                     (int)(k.len % 200), txt(&k));
        }
    }
    if (err == VT_OK) {
        struct entry *e = &t->e[t->ne];
        e->table = t->table;
        e->key_len = k.len;
        e->val_len = v.len;
        e->key = (char *)vt_buf_steal(&k, NULL);
        e->val = (char *)vt_buf_steal(&v, NULL);
        if (e->key == NULL) {
            e->key = strdup("");
        }
        if (e->val == NULL) {
            e->val = strdup("");
        }
        t->ne++;
        if (e->key == NULL || e->val == NULL) {
            err = vt_fail(t->d, VT_E_NOMEM, CHECK, "no memory");
        }
    }
    vt_buf_cleanup(&k);
    vt_buf_cleanup(&v);
    return err == VT_OK ? end_of_line(t, "a value") : err;
}

static enum vt_err document(struct toml *t)
{
    if (t->n >= 3 && memcmp(t->s, "\xef\xbb\xbf", 3) == 0) {
        t->i = 3; /* a byte order mark */
        t->line_start = 3;
    }
    while (!eof(t)) {
        skip_ws(t);
        char c = peek(t, 0);
        if (eof(t) || c == '#' || newline(t) > 0) {
            VT_TRY(end_of_line(t, "a comment"));
        } else if (c == '[') {
            VT_TRY(header(t));
        } else {
            VT_TRY(pair(t));
        }
    }
    return VT_OK;
}

static const struct entry *root_value(const struct toml *t, const char *name)
{
    for (size_t j = 0; j < t->ne; j++) {
        if (t->e[j].table < 0 &&
            same(name, strlen(name), (const uint8_t *)t->e[j].key, t->e[j].key_len)) {
            return &t->e[j];
        }
    }
    return NULL;
}

static void toml_cleanup(struct toml *t)
{
    for (size_t j = 0; j < t->ne; j++) {
        free(t->e[j].key);
        free(t->e[j].val);
    }
    free(t->e);
    for (size_t j = 0; j < t->nt; j++) {
        vt_buf_cleanup(&t->tables[j]);
    }
}

void vt_kbs_initdata_cleanup(struct vt_kbs_initdata *i)
{
    free(i->data_json);
    memset(i, 0, sizeof(*i));
}

/* The document's fields: version, algorithm, and the data table as JSON. */
static enum vt_err fields(struct toml *t, const char *body, size_t len, struct vt_kbs_initdata *out,
                          struct vt_diag *d)
{
    VT_ENSURE(root_value(t, "version") != NULL, d, VT_E_MISSING_FIELD, "initdata.version",
              "the init-data has no \"version\" (a string, \"0.1.0\")");
    const struct entry *alg = root_value(t, "algorithm");
    VT_ENSURE(alg != NULL, d, VT_E_MISSING_FIELD, "initdata.algorithm",
              "the init-data has no \"algorithm\" (sha256, sha384 or sha512)");
    if (same("sha256", 6, (const uint8_t *)alg->val, alg->val_len)) {
        vt_sha256(body, len, out->digest);
        out->digest_len = VT_SHA256_LEN;
    } else if (same("sha384", 6, (const uint8_t *)alg->val, alg->val_len)) {
        vt_sha384(body, len, out->digest);
        out->digest_len = VT_SHA384_LEN;
    } else if (same("sha512", 6, (const uint8_t *)alg->val, alg->val_len)) {
        vt_sha512(body, len, out->digest);
        out->digest_len = VT_SHA512_LEN;
    } else {
        char shown[40];
        size_t k = 0;
        for (size_t j = 0; j < alg->val_len && k + 1 < sizeof(shown); j++) {
            unsigned char c = (unsigned char)alg->val[j];
            shown[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
        shown[k] = '\0';
        return vt_fail(d, VT_E_BAD_FIELD, "initdata.algorithm",
                       "algorithm \"%s\" is none of sha256, sha384, sha512", shown);
    }
    snprintf(out->algorithm, sizeof(out->algorithm), "%.*s", (int)alg->val_len, alg->val);
    int data = -1;
    for (size_t j = 0; j < t->nt; j++) {
        if (same("data", 4, t->tables[j].data, t->tables[j].len)) {
            data = (int)j;
        }
    }
    VT_ENSURE(data >= 0, d, root_value(t, "data") ? VT_E_BAD_FIELD : VT_E_MISSING_FIELD,
              "initdata.data",
              root_value(t, "data") ? "\"data\" must be a table of strings ([data]), not a string"
                                    : "the init-data has no [data] table");
    json_t *o = json_object();
    bool ok = o != NULL;
    for (size_t j = 0; ok && j < t->ne; j++) {
        if (t->e[j].table == data) {
            ok = json_object_setn_new(o, t->e[j].key, t->e[j].key_len,
                                      json_stringn(t->e[j].val, t->e[j].val_len)) == 0;
        }
    }
    out->data_json = ok ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    VT_ENSURE(out->data_json != NULL, d, VT_E_NOMEM, "initdata.data", "cannot encode the data");
    return VT_OK;
}

enum vt_err vt_kbs_initdata_parse(const char *format, const char *body, size_t len,
                                  struct vt_kbs_initdata *out, struct vt_diag *d)
{
    memset(out, 0, sizeof(*out));
    VT_ENSURE(format != NULL && strcmp(format, "toml") == 0, d, VT_E_UNSUPPORTED, "initdata.format",
              "Unsupported initdata format: %.32s (only toml)", format ? format : "(none)");
    VT_ENSURE(len <= VT_KBS_INITDATA_MAX, d, VT_E_TOO_LARGE, CHECK,
              "init-data of %zu bytes, at most %u", len, VT_KBS_INITDATA_MAX);
    size_t bad = utf8_bad((const uint8_t *)body, len);
    VT_ENSURE(bad == len, d, VT_E_MALFORMED, CHECK, "byte %zu is not UTF-8 (TOML is UTF-8)", bad);
    struct toml *t = calloc(1, sizeof(*t));
    VT_ENSURE(t != NULL, d, VT_E_NOMEM, CHECK, "no memory");
    t->s = body;
    t->n = len;
    t->line = 1;
    t->d = d;
    t->table = -1;
    t->e = calloc(VT_KBS_INITDATA_KEYS, sizeof(*t->e));
    enum vt_err err = t->e != NULL ? document(t) : vt_fail(d, VT_E_NOMEM, CHECK, "no memory");
    if (err == VT_OK) {
        err = fields(t, body, len, out, d);
    }
    toml_cleanup(t);
    free(t);
    if (err != VT_OK) {
        vt_kbs_initdata_cleanup(out);
    }
    return err;
}
