/*
 * HTTP/1.1 request framing, read strictly (RFC 9112, RFC 9110).
 *
 *   request   = *( CRLF ) request-line *( field-line CRLF ) CRLF [ body ]
 *   request-line = method SP request-target SP HTTP-version CRLF      (one SP each)
 *   field-line   = field-name ":" OWS field-value OWS                 (no space before ":")
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *
 * A lone LF ends a line as CRLF does (RFC 9112 §2.2 allows it); a CR anywhere else is refused. All
 * bytes are read through the bounded reader; strings handed to the services are copies in the
 * head's own memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/encoding.h"
#include "base/reader.h"

#include "net/http_parse.h"

static bool is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* SPEC: RFC 9110 §5.6.2 tchar. */
static bool is_tchar(uint8_t c)
{
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return is_alnum(c);
    }
}

/* SPEC: RFC 3986 pchar less pct-encoded and ';' (a path parameter a proxy may read otherwise). */
static bool is_path_char(uint8_t c)
{
    switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case '/':
    case ':':
    case '@':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case '=':
        return true;
    default:
        return is_alnum(c);
    }
}

/* Bytes a request target may hold at all: visible ASCII less '#' and the characters RFC 3986
 * never allows unencoded. */
static bool is_target_char(uint8_t c)
{
    switch (c) {
    case '#':
    case '"':
    case '<':
    case '>':
    case '\\':
    case '^':
    case '`':
    case '{':
    case '|':
    case '}':
        return false;
    default:
        return c > 0x20 && c < 0x7f;
    }
}

/* The strings of a head are copied into one block, each NUL-terminated. */
struct sink {
    char *p;
    size_t left;
};

static const char *sink_put(struct sink *s, const uint8_t *p, size_t n)
{
    if (n + 1 > s->left) {
        return NULL; /* cannot happen: the block is sized from the head */
    }
    char *out = s->p;
    if (n > 0) {
        memcpy(out, p, n);
    }
    out[n] = '\0';
    s->p += n + 1;
    s->left -= n + 1;
    return out;
}

/* The next line: its bytes without the LF and without a CR just before it. */
static enum vt_err next_line(struct vt_reader *r, const uint8_t **line, size_t *len)
{
    size_t off;
    const uint8_t *p;
    VT_TRY(vt_reader_find_u8(r, '\n', &off));
    VT_TRY(vt_reader_get_bytes(r, off + 1, &p));
    struct vt_reader v;
    vt_reader_init(&v, p, off);
    uint8_t last = 0;
    if (off > 0) {
        VT_TRY(vt_reader_skip(&v, off - 1));
        VT_TRY(vt_reader_get_u8(&v, &last));
    }
    *line = p;
    *len = last == '\r' ? off - 1 : off;
    return VT_OK;
}

static enum vt_err refuse(unsigned *status, unsigned code, struct vt_diag *d, enum vt_err err,
                          const char *check, const char *detail)
{
    *status = code;
    return vt_fail(d, err, check, "%s", detail);
}

/* Split v at the first byte equal to sep: *a is before it, the reader is left after it. */
static bool split_at(struct vt_reader *v, uint8_t sep, const uint8_t **a, size_t *alen)
{
    size_t off;
    if (vt_reader_find_u8(v, sep, &off) != VT_OK || vt_reader_get_bytes(v, off, a) != VT_OK ||
        vt_reader_skip(v, 1) != VT_OK) {
        return false;
    }
    *alen = off;
    return true;
}

/* The rest of a reader as a view. */
static void rest(struct vt_reader *v, const uint8_t **p, size_t *n)
{
    *n = vt_reader_left(v);
    if (vt_reader_get_bytes(v, *n, p) != VT_OK) {
        *p = NULL;
        *n = 0;
    }
}

static enum vt_err parse_version(const uint8_t *p, size_t n, unsigned *version, unsigned *status,
                                 struct vt_diag *d)
{
    struct vt_reader v;
    vt_reader_init(&v, p, n);
    uint8_t name[5], major, dot, minor;
    if (vt_reader_copy(&v, name, 5) != VT_OK || memcmp(name, "HTTP/", 5) != 0 ||
        vt_reader_get_u8(&v, &major) != VT_OK || vt_reader_get_u8(&v, &dot) != VT_OK ||
        vt_reader_get_u8(&v, &minor) != VT_OK || vt_reader_expect_end(&v) != VT_OK || major < '0' ||
        major > '9' || dot != '.' || minor < '0' || minor > '9') {
        *status = 400;
        return vt_fail(d, VT_E_MALFORMED, "http.version",
                       "the request line does not end in HTTP/DIGIT.DIGIT (%zu bytes)", n);
    }
    if (major != '1') {
        *status = 505;
        return vt_fail(d, VT_E_UNSUPPORTED_VERSION, "http.version", "HTTP/%c.%c is not served",
                       major, minor);
    }
    *version = minor == '0' ? 10 : 11;
    return VT_OK;
}

/* SPEC: RFC 9112 §3: method SP request-target SP HTTP-version, each separator one SP. */
static enum vt_err parse_request_line(const uint8_t *line, size_t len, struct vt_http_head *h,
                                      struct sink *s, unsigned *status, struct vt_diag *d)
{
    struct vt_reader v;
    vt_reader_init(&v, line, len);
    const uint8_t *m, *t, *ver;
    size_t mlen, tlen, vlen;
    if (!split_at(&v, ' ', &m, &mlen) || !split_at(&v, ' ', &t, &tlen)) {
        return refuse(status, 400, d, VT_E_MALFORMED, "http.request_line",
                      "the request line is not METHOD SP TARGET SP VERSION");
    }
    rest(&v, &ver, &vlen);
    struct vt_reader mv;
    vt_reader_init(&mv, m, mlen);
    uint8_t c;
    while (vt_reader_get_u8(&mv, &c) == VT_OK) {
        if (!is_tchar(c)) {
            *status = 400;
            return vt_fail(d, VT_E_MALFORMED, "http.method",
                           "the method holds byte 0x%02x at offset %zu", c,
                           vt_reader_offset(&mv) - 1);
        }
    }
    if (mlen == 0 || mlen > 32) {
        *status = 400;
        return vt_fail(d, VT_E_MALFORMED, "http.method", "the method is %zu bytes (1 to 32)", mlen);
    }
    struct vt_reader tv;
    vt_reader_init(&tv, t, tlen);
    uint8_t first = 0;
    if (tlen == 0 || vt_reader_peek_u8(&tv, &first) != VT_OK || first != '/') {
        return refuse(status, 400, d, VT_E_MALFORMED, "http.target",
                      "the request target is not an absolute path (origin-form, RFC 9112 §3.2.1)");
    }
    while (vt_reader_get_u8(&tv, &c) == VT_OK) {
        if (!is_target_char(c)) {
            *status = 400;
            return vt_fail(d, VT_E_MALFORMED, "http.target",
                           "the request target holds byte 0x%02x at offset %zu", c,
                           vt_reader_offset(&tv) - 1);
        }
    }
    VT_TRY(parse_version(ver, vlen, &h->version, status, d));
    h->method = sink_put(s, m, mlen);
    h->target = sink_put(s, t, tlen);
    return VT_OK;
}

/* SPEC: RFC 9110 §5.5: field-value = *field-content; VCHAR, obs-text, SP and HTAB only. */
static enum vt_err parse_field(const uint8_t *line, size_t len, struct vt_http_head *h,
                               struct sink *s, unsigned *status, struct vt_diag *d)
{
    struct vt_reader v;
    vt_reader_init(&v, line, len);
    uint8_t c;
    if (vt_reader_peek_u8(&v, &c) == VT_OK && (c == ' ' || c == '\t')) {
        return refuse(status, 400, d, VT_E_MALFORMED, "http.field.folded",
                      "a header line starts with white space (obsolete line folding, RFC 9112 "
                      "§5.2)");
    }
    const uint8_t *name;
    size_t nlen;
    if (!split_at(&v, ':', &name, &nlen) || nlen == 0) {
        return refuse(status, 400, d, VT_E_MALFORMED, "http.field",
                      "a header line has no field name followed by ':'");
    }
    struct vt_reader nv;
    vt_reader_init(&nv, name, nlen);
    while (vt_reader_get_u8(&nv, &c) == VT_OK) {
        if (!is_tchar(c)) {
            *status = 400;
            return vt_fail(d, VT_E_MALFORMED, "http.field.name",
                           "header field %zu: name holds byte 0x%02x%s", h->n_fields + 1, c,
                           c == ' ' || c == '\t' ? " (white space before ':', RFC 9112 §5.1)" : "");
        }
    }
    /* Leading and trailing OWS are not part of the value. */
    while (vt_reader_peek_u8(&v, &c) == VT_OK && (c == ' ' || c == '\t')) {
        (void)!vt_reader_skip(&v, 1);
    }
    const uint8_t *val;
    size_t vlen;
    rest(&v, &val, &vlen);
    struct vt_reader vv;
    vt_reader_init(&vv, val, vlen);
    size_t keep = 0;
    while (vt_reader_get_u8(&vv, &c) == VT_OK) {
        if (c == 0 || c == '\r' || (c < 0x20 && c != '\t') || c == 0x7f) {
            *status = 400;
            return vt_fail(d, VT_E_MALFORMED, "http.field.value",
                           "header field \"%.*s\" holds %s at offset %zu of its value",
                           (int)(nlen > 64 ? 64 : nlen), (const char *)name,
                           c == 0      ? "a NUL"
                           : c == '\r' ? "a bare CR"
                                       : "a control byte",
                           vt_reader_offset(&vv) - 1);
        }
        if (c != ' ' && c != '\t') {
            keep = vt_reader_offset(&vv);
        }
    }
    if (h->n_fields == VT_HTTP_MAX_FIELDS) {
        *status = 431;
        return vt_fail(d, VT_E_TOO_LARGE, "http.fields", "more than %u header fields",
                       VT_HTTP_MAX_FIELDS);
    }
    struct vt_http_kv *f = &h->fields[h->n_fields++];
    f->name = sink_put(s, name, nlen);
    f->value = sink_put(s, val, keep);
    return VT_OK;
}

/* Fields whose value is a comma-separated list: they may appear more than once (RFC 9110 §5.3).
 * Any other field appearing twice is refused, so no two readers can pick different copies. */
static bool is_list_field(const char *name)
{
    static const char *const lists[] = {"accept",          "accept-charset",
                                        "accept-encoding", "accept-language",
                                        "cache-control",   "connection",
                                        "pragma",          "te",
                                        "trailer",         "via",
                                        "warning",         "forwarded"};
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        if (strcasecmp(name, lists[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* True if the comma-separated list s holds the token tok (case-insensitive, OWS ignored). */
static bool list_has(const char *s, const char *tok)
{
    size_t n = strlen(tok);
    while (*s != '\0') {
        while (*s == ' ' || *s == '\t' || *s == ',') {
            s++;
        }
        const char *e = s;
        while (*e != '\0' && *e != ',') {
            e++;
        }
        const char *t = e;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t')) {
            t--;
        }
        if ((size_t)(t - s) == n && strncasecmp(s, tok, n) == 0) {
            return true;
        }
        s = e;
    }
    return false;
}

static enum vt_err parse_framing(struct vt_http_head *h, unsigned *status, struct vt_diag *d)
{
    for (size_t i = 0; i < h->n_fields; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcasecmp(h->fields[i].name, h->fields[j].name) == 0 &&
                !is_list_field(h->fields[i].name)) {
                *status = 400;
                return vt_fail(d, VT_E_DUPLICATE, "http.field.duplicate",
                               "header field %s appears more than once", h->fields[i].name);
            }
        }
    }
    const char *te = vt_http_head_field(h, "Transfer-Encoding");
    const char *cl = vt_http_head_field(h, "Content-Length");
    /* SPEC: RFC 9112 §6.1: a request with both may be an attempt at request smuggling. */
    if (te != NULL && cl != NULL) {
        return refuse(status, 400, d, VT_E_MALFORMED, "http.framing",
                      "the request has both Content-Length and Transfer-Encoding (RFC 9112 §6.1)");
    }
    if (te != NULL) {
        if (h->version == 10) {
            return refuse(status, 400, d, VT_E_MALFORMED, "http.framing",
                          "Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)");
        }
        if (strcasecmp(te, "chunked") != 0) {
            /* SPEC: RFC 9112 §6.3: chunked not final is 400; an unknown coding is 501. */
            bool final_chunked = false;
            size_t n = strlen(te);
            if (n >= 7 && strcasecmp(te + n - 7, "chunked") == 0 &&
                (n == 7 || te[n - 8] == ',' || te[n - 8] == ' ')) {
                final_chunked = true;
            }
            *status = final_chunked ? 501 : 400;
            return vt_fail(d, final_chunked ? VT_E_UNSUPPORTED : VT_E_MALFORMED,
                           "http.transfer_encoding",
                           final_chunked ? "transfer coding \"%.64s\": only chunked is served"
                                         : "transfer coding \"%.64s\" does not end in chunked",
                           te);
        }
        h->chunked = true;
    }
    if (cl != NULL) {
        uint64_t v = 0;
        size_t n = 0;
        for (const char *p = cl; *p != '\0'; p++, n++) {
            if (*p < '0' || *p > '9' || n == 18) {
                *status = 400;
                return vt_fail(d, VT_E_MALFORMED, "http.content_length",
                               "Content-Length \"%.32s\" is not 1 to 18 decimal digits", cl);
            }
            v = v * 10 + (uint64_t)(*p - '0');
        }
        if (n == 0) {
            return refuse(status, 400, d, VT_E_MALFORMED, "http.content_length",
                          "Content-Length is empty");
        }
        h->has_length = true;
        h->content_length = v;
    }
    /* SPEC: RFC 9112 §3.2: an HTTP/1.1 request without Host is 400. */
    if (h->version == 11 && vt_http_head_field(h, "Host") == NULL) {
        return refuse(status, 400, d, VT_E_MISSING_FIELD, "http.host",
                      "an HTTP/1.1 request must carry Host");
    }
    h->keep_alive = h->version == 11;
    for (size_t i = 0; i < h->n_fields; i++) {
        if (strcasecmp(h->fields[i].name, "Connection") != 0) {
            continue;
        }
        if (list_has(h->fields[i].value, "close")) {
            h->keep_alive = false;
            break;
        }
        if (h->version == 10 && list_has(h->fields[i].value, "keep-alive")) {
            h->keep_alive = true;
        }
    }
    const char *expect = vt_http_head_field(h, "Expect");
    if (expect != NULL) {
        if (strcasecmp(expect, "100-continue") != 0) {
            *status = 417;
            return vt_fail(d, VT_E_UNSUPPORTED, "http.expect",
                           "Expect \"%.64s\": only 100-continue is met", expect);
        }
        h->expect_continue = true;
    }
    return VT_OK;
}

/* Percent- and '+'-decode p[0..n) into the sink (a literal '+' is a space, as form-encoded query
 * strings have it; "%2B" is '+'). NULL (with d set) if a %XY is malformed or decodes to NUL. */
static const char *decode_into(struct sink *s, const uint8_t *p, size_t n, const char *what,
                               struct vt_diag *d)
{
    if (n + 1 > s->left) {
        return NULL;
    }
    char *out = s->p;
    struct vt_reader v;
    vt_reader_init(&v, p, n);
    uint8_t c;
    for (size_t i = 0; vt_reader_get_u8(&v, &c) == VT_OK; i++) {
        out[i] = c == '+' ? ' ' : (char)c; /* the raw target holds no space to confuse */
    }
    size_t len = 0;
    if (vt_percent_decode(out, n, out, n, &len) != VT_OK) { /* in place: it never grows */
        vt_fail(d, VT_E_BAD_PERCENT, "http.query",
                "query %s: '%%' not followed by two hex digits, or %%00 (a NUL)", what);
        return NULL;
    }
    out[len] = '\0';
    s->p += len + 1;
    s->left -= len + 1;
    return out;
}

/* SPEC: RFC 3986 §3.3 path, matched as sent: no percent-encoding, no dot or empty segments. */
static enum vt_err check_path(const uint8_t *p, size_t n, unsigned *status, struct vt_diag *d)
{
    struct vt_reader v;
    vt_reader_init(&v, p, n);
    uint8_t c;
    size_t seg = 0, dots = 0, segno = 0;
    const char *why = NULL;
    while (vt_reader_get_u8(&v, &c) == VT_OK) {
        size_t at = vt_reader_offset(&v) - 1;
        if (c == '%') {
            why = "is percent-encoded: paths are matched as sent, so an encoded path is refused";
        } else if (c == ';') {
            why = "holds ';' (a path parameter)";
        } else if (!is_path_char(c)) {
            why = "holds a byte not allowed in a path";
        } else if (c == '/') {
            if (at > 0 && seg == 0) {
                why = "has an empty segment (\"//\")";
            } else if (at > 0 && seg == dots && dots <= 2) {
                why = "has a dot segment (\".\" or \"..\")";
            }
            seg = dots = 0;
            segno++;
            if (why == NULL) {
                continue;
            }
        } else {
            seg++;
            dots += c == '.';
            continue;
        }
        *status = 400;
        return vt_fail(d, VT_E_MALFORMED, "http.path", "the path %s (segment %zu, offset %zu)", why,
                       segno, at);
    }
    if (n > 1 && seg > 0 && seg == dots && dots <= 2) {
        return refuse(status, 400, d, VT_E_MALFORMED, "http.path",
                      "the path ends in a dot segment (\".\" or \"..\")");
    }
    return VT_OK;
}

static enum vt_err parse_target(struct vt_http_head *h, struct sink *s, unsigned *status,
                                struct vt_diag *d)
{
    const uint8_t *t = (const uint8_t *)h->target;
    struct vt_reader v;
    vt_reader_init(&v, t, strlen(h->target));
    const uint8_t *path, *query = NULL;
    size_t plen, qlen = 0;
    if (split_at(&v, '?', &path, &plen)) {
        rest(&v, &query, &qlen);
    } else {
        rest(&v, &path, &plen);
    }
    VT_TRY(check_path(path, plen, status, d));
    h->path = sink_put(s, path, plen);
    struct vt_reader q;
    vt_reader_init(&q, query, qlen);
    while (vt_reader_left(&q) > 0) {
        const uint8_t *item;
        size_t ilen;
        if (!split_at(&q, '&', &item, &ilen)) {
            rest(&q, &item, &ilen);
        }
        if (ilen == 0) {
            continue;
        }
        struct vt_reader iv;
        vt_reader_init(&iv, item, ilen);
        const uint8_t *name, *val = NULL;
        size_t nlen, vlen = 0;
        if (split_at(&iv, '=', &name, &nlen)) {
            rest(&iv, &val, &vlen);
        } else {
            rest(&iv, &name, &nlen);
        }
        if (nlen == 0) {
            return refuse(status, 400, d, VT_E_MALFORMED, "http.query",
                          "a query argument has an empty name");
        }
        if (h->n_args == VT_HTTP_MAX_ARGS) {
            *status = 400;
            return vt_fail(d, VT_E_TOO_LARGE, "http.query", "more than %u query arguments",
                           VT_HTTP_MAX_ARGS);
        }
        struct vt_http_kv *a = &h->args[h->n_args];
        if ((a->name = decode_into(s, name, nlen, "argument name", d)) == NULL ||
            (a->value = decode_into(s, val, vlen, "argument value", d)) == NULL) {
            *status = 400;
            return d != NULL ? d->code : VT_E_BAD_PERCENT;
        }
        for (size_t j = 0; j < h->n_args; j++) {
            if (strcmp(h->args[j].name, a->name) == 0) {
                *status = 400;
                return vt_fail(d, VT_E_DUPLICATE, "http.query",
                               "query argument %.64s appears more than once", a->name);
            }
        }
        h->n_args++;
    }
    return VT_OK;
}

enum vt_err vt_http_head_parse(const uint8_t *p, size_t n, struct vt_http_head *h, size_t *used,
                               unsigned *status, struct vt_diag *d)
{
    memset(h, 0, sizeof(*h));
    *status = 0;
    *used = 0;
    struct vt_reader r;
    vt_reader_init(&r, p, n > VT_HTTP_MAX_HEAD ? VT_HTTP_MAX_HEAD : n);
    const uint8_t *line;
    size_t len;
    enum vt_err err;
    /* SPEC: RFC 9112 §2.2: empty lines before the request line are ignored. */
    do {
        if ((err = next_line(&r, &line, &len)) != VT_OK) {
            goto incomplete;
        }
    } while (len == 0);
    const uint8_t *request_line = line;
    size_t request_len = len;
    /* Find the end of the head before reading anything into memory. */
    struct vt_reader scan = r;
    do {
        if ((err = next_line(&scan, &line, &len)) != VT_OK) {
            goto incomplete;
        }
    } while (len > 0);
    size_t head = vt_reader_offset(&scan);
    /* Every string is a copy of at most the head's bytes, and decoding never grows them. */
    size_t cap = 2 * head + 2 * (VT_HTTP_MAX_FIELDS + VT_HTTP_MAX_ARGS) + 8;
    h->mem = malloc(cap);
    VT_ENSURE(h->mem != NULL, d, VT_E_NOMEM, "http.head", "cannot allocate %zu bytes", cap);
    struct sink s = {h->mem, cap};
    struct vt_reader bad;
    vt_reader_init(&bad, request_line, request_len);
    size_t cr;
    if (vt_reader_find_u8(&bad, '\r', &cr) == VT_OK) {
        return refuse(status, 400, d, VT_E_MALFORMED, "http.request_line",
                      "the request line holds a bare CR");
    }
    VT_TRY(parse_request_line(request_line, request_len, h, &s, status, d));
    while ((err = next_line(&r, &line, &len)) == VT_OK && len > 0) {
        VT_TRY(parse_field(line, len, h, &s, status, d));
    }
    VT_TRY(parse_framing(h, status, d));
    VT_TRY(parse_target(h, &s, status, d));
    *used = head;
    return VT_OK;
incomplete:
    if (n >= VT_HTTP_MAX_HEAD) {
        *status = 431;
        return vt_fail(d, VT_E_TOO_LARGE, "http.head",
                       "the request line and header fields exceed %u bytes", VT_HTTP_MAX_HEAD);
    }
    return VT_E_TRUNCATED;
}

void vt_http_head_cleanup(struct vt_http_head *h)
{
    if (h != NULL) {
        free(h->mem);
        memset(h, 0, sizeof(*h));
    }
}

const char *vt_http_head_field(const struct vt_http_head *h, const char *name)
{
    for (size_t i = 0; i < h->n_fields; i++) {
        if (strcasecmp(h->fields[i].name, name) == 0) {
            return h->fields[i].value;
        }
    }
    return NULL;
}

const char *vt_http_head_arg(const struct vt_http_head *h, const char *name)
{
    for (size_t i = 0; i < h->n_args; i++) {
        if (strcmp(h->args[i].name, name) == 0) {
            return h->args[i].value;
        }
    }
    return NULL;
}

bool vt_http_head_ends(const uint8_t *p, size_t n, size_t from)
{
    struct vt_reader r;
    vt_reader_init(&r, p, n);
    if (vt_reader_skip(&r, from) != VT_OK) {
        return false;
    }
    size_t off;
    uint8_t a, b;
    while (vt_reader_find_u8(&r, '\n', &off) == VT_OK) {
        (void)!vt_reader_skip(&r, off + 1);
        if (vt_reader_peek_u8(&r, &a) != VT_OK) {
            return false;
        }
        if (a == '\n') {
            return true;
        }
        struct vt_reader two = r;
        if (a == '\r' && vt_reader_skip(&two, 1) == VT_OK && vt_reader_peek_u8(&two, &b) == VT_OK &&
            b == '\n') {
            return true;
        }
    }
    return false;
}

/* ---- chunked ---- */

enum {
    CH_SIZE,      /* hex digits of a chunk size */
    CH_EXT,       /* a chunk extension, up to the end of the line */
    CH_SIZE_LF,   /* the LF after the size line's CR */
    CH_DATA,      /* chunk data */
    CH_DATA_CR,   /* the CRLF after chunk data */
    CH_DATA_LF,   /* the LF of that CRLF */
    CH_TRAILER,   /* the start of a trailer line, or the final CRLF */
    CH_TRAILER_L, /* inside a trailer field line */
    CH_TRAILER_LF,
    CH_END_LF, /* the LF of the final CRLF */
    CH_DONE,
};

#define CH_MAX_LINE 1024 /* a size line with its extensions */

void vt_http_chunked_init(struct vt_http_chunked *c)
{
    memset(c, 0, sizeof(*c));
    c->state = CH_SIZE;
}

static enum vt_err chunk_bad(struct vt_diag *d, const char *what, size_t off)
{
    return vt_fail(d, VT_E_MALFORMED, "http.chunked",
                   "chunked body: %s (at offset %zu of this read)", what, off);
}

/* After the LF that ends a size line: data, or the trailer after the last chunk. */
static void chunk_size_done(struct vt_http_chunked *c)
{
    c->state = c->left > 0 ? CH_DATA : CH_TRAILER;
    c->line = 0;
}

enum vt_err vt_http_chunked_feed(struct vt_http_chunked *c, const uint8_t *p, size_t n,
                                 size_t *used, struct vt_buf *body, struct vt_diag *d)
{
    struct vt_reader r;
    vt_reader_init(&r, p, n);
    uint8_t b;
    *used = 0;
    while (c->state != CH_DONE) {
        if (c->state == CH_DATA) {
            size_t take = vt_reader_left(&r) < c->left ? vt_reader_left(&r) : (size_t)c->left;
            const uint8_t *data;
            if (take == 0) {
                break;
            }
            VT_TRY(vt_reader_get_bytes(&r, take, &data));
            if (vt_buf_append(body, data, take) != VT_OK) {
                *used = vt_reader_offset(&r);
                return vt_fail(d, VT_E_TOO_LARGE, "http.body", "the chunked body exceeds %zu bytes",
                               body->max);
            }
            c->left -= take;
            if (c->left == 0) {
                c->state = CH_DATA_CR;
            }
            continue;
        }
        if (vt_reader_get_u8(&r, &b) != VT_OK) {
            break;
        }
        size_t at = vt_reader_offset(&r) - 1;
        switch (c->state) {
        case CH_SIZE:
            if (vt_hex_value(b) >= 0) {
                if (c->digits == 15) {
                    return chunk_bad(d, "a chunk size has more than 15 hex digits", at);
                }
                c->left = c->left * 16 + (uint64_t)vt_hex_value(b);
                c->digits++;
            } else if (c->digits == 0) {
                return chunk_bad(d, "a chunk size does not start with a hex digit", at);
            } else if (b == ';' || b == ' ' || b == '\t') {
                c->state = CH_EXT;
            } else if (b == '\r') {
                c->state = CH_SIZE_LF;
            } else if (b == '\n') {
                chunk_size_done(c);
            } else {
                return chunk_bad(d, "a chunk size holds a byte that is not a hex digit", at);
            }
            break;
        case CH_EXT:
            if (++c->line > CH_MAX_LINE) {
                return chunk_bad(d, "a chunk extension is longer than 1024 bytes", at);
            }
            if (b == '\r') {
                c->state = CH_SIZE_LF;
            } else if (b == '\n') {
                chunk_size_done(c);
            } else if (b == 0 || (b < 0x20 && b != '\t') || b == 0x7f) {
                return chunk_bad(d, "a chunk extension holds a control byte", at);
            }
            break;
        case CH_SIZE_LF:
            if (b != '\n') {
                return chunk_bad(d, "a chunk size line holds a bare CR", at);
            }
            chunk_size_done(c);
            break;
        case CH_DATA_CR:
            if (b == '\r') {
                c->state = CH_DATA_LF;
            } else if (b == '\n') {
                c->state = CH_SIZE;
                c->digits = 0;
            } else {
                return chunk_bad(d, "chunk data is longer than its size", at);
            }
            break;
        case CH_DATA_LF:
            if (b != '\n') {
                return chunk_bad(d, "chunk data is followed by a bare CR", at);
            }
            c->state = CH_SIZE;
            c->digits = 0;
            break;
        case CH_TRAILER:
        case CH_TRAILER_L:
            if (++c->trailer > VT_HTTP_MAX_TRAILER) {
                return vt_fail(d, VT_E_TOO_LARGE, "http.chunked",
                               "the trailer section exceeds %u bytes", VT_HTTP_MAX_TRAILER);
            }
            if (c->state == CH_TRAILER && (b == '\r' || b == '\n')) {
                c->state = b == '\r' ? CH_END_LF : CH_DONE;
            } else if (c->state == CH_TRAILER && (b == ' ' || b == '\t')) {
                return chunk_bad(d, "a trailer line starts with white space (folding)", at);
            } else if (b == '\r') {
                c->state = CH_TRAILER_LF;
            } else if (b == '\n') {
                c->state = CH_TRAILER;
                c->n_trailer++;
            } else if (b == 0 || (b < 0x20 && b != '\t') || b == 0x7f) {
                return chunk_bad(d, "a trailer field holds a control byte", at);
            } else {
                c->state = CH_TRAILER_L;
            }
            if (c->n_trailer > VT_HTTP_MAX_FIELDS) {
                return chunk_bad(d, "the trailer section holds too many fields", at);
            }
            break;
        case CH_TRAILER_LF:
            if (b != '\n') {
                return chunk_bad(d, "a trailer field holds a bare CR", at);
            }
            c->state = CH_TRAILER;
            c->n_trailer++;
            break;
        case CH_END_LF:
            if (b != '\n') {
                return chunk_bad(d, "the chunked body ends in a bare CR", at);
            }
            c->state = CH_DONE;
            break;
        default:
            return chunk_bad(d, "decoder in an unknown state", at);
        }
    }
    *used = vt_reader_offset(&r);
    return c->state == CH_DONE ? VT_OK : VT_E_TRUNCATED;
}
