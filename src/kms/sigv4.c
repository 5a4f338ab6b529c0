/*
 * AWS Signature Version 4 (docs/kms.md, "Authentication (SigV4)"): a signed request checked as an
 * AWS JSON-protocol service (KMS) checks it, and the client's signing.
 *
 *   Authorization: AWS4-HMAC-SHA256 1*WSP Credential=AKID/YYYYMMDD/REGION/SERVICE/aws4_request
 *                  OWS "," OWS SignedHeaders=name;name;... OWS "," OWS Signature=64 lowercase hex
 *                  (the three parameters in any order, each once)
 *   time:          X-Amz-Date: YYYYMMDD'T'HHMMSS'Z', else Date: IMF-fixdate ("GMT", "+0000" or
 *                  "-0000" as botocore writes it)
 *   query form:    X-Amz-Algorithm=AWS4-HMAC-SHA256 & X-Amz-Credential=... & X-Amz-Date=...
 *                  & X-Amz-Expires=1..604800 & X-Amz-SignedHeaders=... & X-Amz-Signature=...
 *
 *   CanonicalRequest = Method LF CanonicalURI LF CanonicalQuery LF
 *                      *( name ":" trimall(value) *( "," trimall(value) ) LF ) LF
 *                      SignedHeaders LF HashedPayload
 *   StringToSign     = "AWS4-HMAC-SHA256" LF AmzDate LF YYYYMMDD/REGION/SERVICE/aws4_request LF
 *                      Hex(SHA-256(CanonicalRequest))
 *   kSigning         = HMAC(HMAC(HMAC(HMAC("AWS4" secret, YYYYMMDD), REGION), SERVICE),
 *                      "aws4_request")
 *   Signature        = Hex(HMAC(kSigning, StringToSign))
 *
 * SPEC: AWS IAM User Guide, "Elements of an AWS API request signature" and "Create a signed AWS
 * API request" (Signature Version 4). Where the text leaves a choice, the behaviour of botocore's
 * SigV4Auth / SigV4QueryAuth and of aws-sdk-js-v3's SignatureV4 decides: the canonical URI of a
 * service other than S3 is the path as sent with empty and dot segments removed, percent-encoded
 * once more ("%" becomes "%25"); the canonical query is every parameter decoded ('+' is a space,
 * as in the URLs botocore's request preparer writes), encoded again (RFC 3986 unreserved kept,
 * upper-case hex) and sorted by encoded name, then encoded value.
 *
 * Every byte of the request is read through the bounded reader; the spans below borrow from the
 * request or from this file's own buffers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <veritee/buf.h>
#include <veritee/limits.h>

#include "base/encoding.h"
#include "base/reader.h"
#include "crypto/crypto.h"

#include "kms/sigv4.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define TERMINATOR "aws4_request"
/* X-Amz-Expires: at least one second, at most seven days (AWS's limit for presigned requests). */
#define EXPIRES_MAX 604800
/* Region and service names: 1 to 63 characters. */
#define NAME_MAX_ 63
/* The canonical request: the path and query encoded again (three bytes for one at most) and the
 * signed header fields, with room to spare. */
#define CANONICAL_MAX (256u * 1024u)
/* A span shown in a diagnostic: printable ASCII as is, other bytes as \xHH, at most 80 bytes. */
#define SHOW_MAX 340

/* A borrowed view of bytes. */
struct span {
    const uint8_t *p;
    size_t n;
};

static struct span span_str(const char *s, size_t n)
{
    return (struct span){(const uint8_t *)s, n};
}

static bool span_eq(struct span a, const char *lit)
{
    size_t n = strlen(lit);
    return a.n == n && (n == 0 || memcmp(a.p, lit, n) == 0);
}

static uint8_t ascii_lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive equality of two spans. */
static bool span_eq_nocase(struct span a, struct span b)
{
    if (a.n != b.n) {
        return false;
    }
    struct vt_reader ra, rb;
    vt_reader_init(&ra, a.p, a.n);
    vt_reader_init(&rb, b.p, b.n);
    uint8_t x, y;
    while (vt_reader_get_u8(&ra, &x) == VT_OK && vt_reader_get_u8(&rb, &y) == VT_OK) {
        if (ascii_lower(x) != ascii_lower(y)) {
            return false;
        }
    }
    return true;
}

/* Byte order of two spans (the shorter first when one is a prefix of the other). */
static int span_cmp(struct span a, struct span b)
{
    size_t n = a.n < b.n ? a.n : b.n;
    int c = n > 0 ? memcmp(a.p, b.p, n) : 0;
    if (c != 0) {
        return c;
    }
    return a.n < b.n ? -1 : a.n > b.n ? 1 : 0;
}

/* s for a diagnostic: printable ASCII as is, anything else as \xHH, cut at 80 bytes with "...". */
static const char *show(struct span s, char out[SHOW_MAX])
{
    static const char hexd[] = "0123456789abcdef";
    struct vt_reader r;
    vt_reader_init(&r, s.p, s.n);
    size_t o = 0, shown = 0;
    uint8_t c;
    while (shown < 80 && vt_reader_get_u8(&r, &c) == VT_OK) {
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hexd[c >> 4];
            out[o++] = hexd[c & 15];
        }
        shown++;
    }
    if (vt_reader_left(&r) > 0) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(uint8_t c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* SPEC: RFC 3986 §2.3 unreserved: kept as is by the canonical encoding. */
static bool is_unreserved(uint8_t c)
{
    return is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

/* SPEC: RFC 9110 §5.6.2 tchar (field names, methods). */
static bool is_tchar(uint8_t c)
{
    return is_alnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Every byte of s satisfies ok (and s is 1..max bytes long). */
static bool span_all(struct span s, size_t max, bool (*ok)(uint8_t))
{
    if (s.n == 0 || s.n > max) {
        return false;
    }
    struct vt_reader r;
    vt_reader_init(&r, s.p, s.n);
    uint8_t c;
    while (vt_reader_get_u8(&r, &c) == VT_OK) {
        if (!ok(c)) {
            return false;
        }
    }
    return true;
}

static bool is_lower_tchar(uint8_t c)
{
    return is_tchar(c) && !(c >= 'A' && c <= 'Z');
}

/* Region and service names: lower-case letters, digits and '-'. */
static bool is_name_char(uint8_t c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || c == '-';
}

/* Access key ids: AWS's pattern [\w]+ (letters, digits, '_'). */
static bool is_akid_char(uint8_t c)
{
    return is_alnum(c) || c == '_';
}

static bool is_lower_hex(uint8_t c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* The bytes before the next sep (consumed with it), or all that is left when there is none;
 * *last says which. */
static struct span take_part(struct vt_reader *r, uint8_t sep, bool *last)
{
    size_t off;
    struct span s = {NULL, 0};
    *last = vt_reader_find_u8(r, sep, &off) != VT_OK;
    size_t n = *last ? vt_reader_left(r) : off;
    if (vt_reader_get_bytes(r, n, &s.p) == VT_OK) {
        s.n = n;
    }
    if (!*last) {
        (void)!vt_reader_skip(r, 1);
    }
    return s;
}

/* s without spaces and tabs at either end. */
static struct span trim_ows(struct span s)
{
    struct vt_reader r;
    vt_reader_init(&r, s.p, s.n);
    uint8_t c;
    while (vt_reader_peek_u8(&r, &c) == VT_OK && is_ows(c)) {
        (void)!vt_reader_skip(&r, 1);
    }
    struct span t = {vt_reader_rest(&r), vt_reader_left(&r)};
    while (t.n > 0) {
        struct vt_reader e;
        vt_reader_init(&e, t.p, t.n);
        if (vt_reader_skip(&e, t.n - 1) != VT_OK || vt_reader_get_u8(&e, &c) != VT_OK ||
            !is_ows(c)) {
            break;
        }
        t.n--;
    }
    return t;
}

static bool span_has(struct span s, uint8_t b)
{
    struct vt_reader r;
    vt_reader_init(&r, s.p, s.n);
    size_t off;
    return vt_reader_find_u8(&r, b, &off) == VT_OK;
}

/* ---- output buffers ---- */

static enum vt_err put(struct vt_buf *b, const void *p, size_t n, struct vt_diag *d)
{
    enum vt_err err = vt_buf_append(b, p, n);
    if (err == VT_E_TOO_LARGE) {
        return vt_fail(d, err, "sigv4.size", "the canonical form exceeds %zu bytes", b->max);
    }
    if (err != VT_OK) {
        return vt_fail(d, err, "sigv4.size", "out of memory building the canonical form");
    }
    return VT_OK;
}

static enum vt_err put_span(struct vt_buf *b, struct span s, struct vt_diag *d)
{
    return put(b, s.p, s.n, d);
}

static enum vt_err put_str(struct vt_buf *b, const char *s, struct vt_diag *d)
{
    return put(b, s, strlen(s), d);
}

/* s percent-encoded: unreserved bytes (and '/' when keep_slash) as is, others as %XX. */
static enum vt_err put_encoded(struct vt_buf *b, struct span s, bool keep_slash, struct vt_diag *d)
{
    static const char hexd[] = "0123456789ABCDEF";
    struct vt_reader r;
    vt_reader_init(&r, s.p, s.n);
    uint8_t c;
    while (vt_reader_get_u8(&r, &c) == VT_OK) {
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            VT_TRY(put(b, &c, 1, d));
        } else {
            char e[3] = {'%', hexd[c >> 4], hexd[c & 15]};
            VT_TRY(put(b, e, 3, d));
        }
    }
    return VT_OK;
}

/* ---- the request as received ---- */

static bool field_value_byte(uint8_t c)
{
    /* SPEC: RFC 9110 §5.5 field-value: VCHAR, obs-text, SP, HTAB. */
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool target_byte(uint8_t c)
{
    return c > 0x20 && c < 0x7f && c != '#';
}

static bool path_byte(uint8_t c)
{
    return target_byte(c) && c != '?';
}

static size_t cstr_len(const char *s, size_t max)
{
    return s != NULL ? strnlen(s, max + 1) : 0;
}

/* The request's shape: a method token, a path and query of request-target bytes, header fields
 * with token names and field-value bytes, every length within its cap. VT_E_MALFORMED or
 * VT_E_TOO_LARGE, check "sigv4.request". */
static enum vt_err check_request(const struct vt_sigv4_request *req, struct vt_diag *d)
{
    char sh[SHOW_MAX];
    size_t n = cstr_len(req->method, 32);
    if (n == 0 || n > 32 || !span_all(span_str(req->method, n), 32, is_tchar)) {
        return vt_fail(d, VT_E_MALFORMED, "sigv4.request", "the method \"%s\" is not a token",
                       req->method != NULL ? show(span_str(req->method, n), sh) : "(none)");
    }
    n = cstr_len(req->path, VT_SIGV4_MAX_PATH);
    if (n > VT_SIGV4_MAX_PATH) {
        return vt_fail(d, VT_E_TOO_LARGE, "sigv4.request", "the path exceeds %u bytes",
                       VT_SIGV4_MAX_PATH);
    }
    if (n > 0) {
        struct vt_reader r;
        vt_reader_init(&r, (const uint8_t *)req->path, n);
        uint8_t first = 0;
        (void)!vt_reader_peek_u8(&r, &first);
        if (first != '/' || !span_all(span_str(req->path, n), VT_SIGV4_MAX_PATH, path_byte)) {
            return vt_fail(d, VT_E_MALFORMED, "sigv4.request",
                           "the path \"%s\" does not start with '/' or holds a byte a request "
                           "target may not",
                           show(span_str(req->path, n), sh));
        }
    }
    n = cstr_len(req->query, VT_SIGV4_MAX_QUERY);
    if (n > VT_SIGV4_MAX_QUERY) {
        return vt_fail(d, VT_E_TOO_LARGE, "sigv4.request", "the query exceeds %u bytes",
                       VT_SIGV4_MAX_QUERY);
    }
    if (n > 0 && !span_all(span_str(req->query, n), VT_SIGV4_MAX_QUERY, target_byte)) {
        return vt_fail(d, VT_E_MALFORMED, "sigv4.request",
                       "the query \"%s\" holds a byte a request target may not",
                       show(span_str(req->query, n), sh));
    }
    if (req->n_headers > VT_SIGV4_MAX_HEADERS) {
        return vt_fail(d, VT_E_TOO_LARGE, "sigv4.request", "%zu header fields (at most %d)",
                       req->n_headers, VT_SIGV4_MAX_HEADERS);
    }
    if (req->n_headers > 0 && req->headers == NULL) {
        return vt_fail(d, VT_E_MALFORMED, "sigv4.request", "%zu header fields but no array",
                       req->n_headers);
    }
    size_t total = 0;
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct vt_sigv4_header *h = &req->headers[i];
        size_t nn = cstr_len(h->name, VT_SIGV4_MAX_HEADER_NAME);
        size_t vn = cstr_len(h->value, VT_SIGV4_MAX_HEADER_VALUE);
        if (h->name == NULL || h->value == NULL ||
            !span_all(span_str(h->name, nn), VT_SIGV4_MAX_HEADER_NAME, is_tchar)) {
            return vt_fail(d, nn > VT_SIGV4_MAX_HEADER_NAME ? VT_E_TOO_LARGE : VT_E_MALFORMED,
                           "sigv4.request",
                           "header field %zu: the name \"%s\" is not a token of at most %d bytes "
                           "(or the value is missing)",
                           i, h->name != NULL ? show(span_str(h->name, nn), sh) : "(none)",
                           VT_SIGV4_MAX_HEADER_NAME);
        }
        if (vn > VT_SIGV4_MAX_HEADER_VALUE) {
            return vt_fail(d, VT_E_TOO_LARGE, "sigv4.request",
                           "header field %s: the value exceeds %u bytes", h->name,
                           VT_SIGV4_MAX_HEADER_VALUE);
        }
        if (vn > 0 && !span_all(span_str(h->value, vn), vn, field_value_byte)) {
            return vt_fail(d, VT_E_MALFORMED, "sigv4.request",
                           "header field %s: the value \"%s\" holds a control byte", h->name,
                           show(span_str(h->value, vn), sh));
        }
        total += nn + vn;
        if (total > VT_SIGV4_MAX_HEADER_BYTES) {
            return vt_fail(d, VT_E_TOO_LARGE, "sigv4.request",
                           "the header fields exceed %u bytes together", VT_SIGV4_MAX_HEADER_BYTES);
        }
    }
    if (req->body_len > 0 && req->body == NULL) {
        return vt_fail(d, VT_E_MALFORMED, "sigv4.request", "a body of %zu bytes but no pointer",
                       req->body_len);
    }
    return VT_OK;
}

static struct span header_name(const struct vt_sigv4_header *h)
{
    return span_str(h->name, strlen(h->name)); /* checked: at most VT_SIGV4_MAX_HEADER_NAME */
}

static struct span header_value(const struct vt_sigv4_header *h)
{
    return span_str(h->value, strlen(h->value)); /* checked: at most VT_SIGV4_MAX_HEADER_VALUE */
}

/* How many header fields are named `name` (any case), and the first one's value, trimmed. */
static size_t header_find(const struct vt_sigv4_request *req, const char *name, struct span *value)
{
    size_t count = 0;
    struct span want = span_str(name, strlen(name));
    for (size_t i = 0; i < req->n_headers; i++) {
        if (span_eq_nocase(header_name(&req->headers[i]), want)) {
            if (count == 0 && value != NULL) {
                *value = trim_ows(header_value(&req->headers[i]));
            }
            count++;
        }
    }
    return count;
}

/* ---- the query ---- */

/* One parameter: its decoded name and value (in dec, each NUL-terminated) and their canonical
 * encodings (in enc), as offsets into those buffers. */
struct qparam {
    size_t name, name_len, value, value_len;
    size_t ename, ename_len, evalue, evalue_len;
};

struct query {
    struct qparam p[VT_SIGV4_MAX_PARAMS];
    size_t n;
    struct vt_buf dec;
    struct vt_buf enc;
};

static void query_init(struct query *q)
{
    q->n = 0;
    vt_buf_init(&q->dec, VT_SIGV4_MAX_QUERY + 2 * VT_SIGV4_MAX_PARAMS + 16);
    vt_buf_init(&q->enc, 3 * VT_SIGV4_MAX_QUERY + 16);
}

static void query_cleanup(struct query *q)
{
    vt_buf_cleanup(&q->dec);
    vt_buf_cleanup(&q->enc);
}

/* A span of one of the query's buffers (which hold nothing yet when every piece was empty). */
static struct span buf_span(const struct vt_buf *b, size_t off, size_t n)
{
    return b->data != NULL ? (struct span){b->data + off, n} : (struct span){NULL, 0};
}

static struct span q_name(const struct query *q, size_t i)
{
    return buf_span(&q->dec, q->p[i].name, q->p[i].name_len);
}

static struct span q_value(const struct query *q, size_t i)
{
    return buf_span(&q->dec, q->p[i].value, q->p[i].value_len);
}

static struct span q_ename(const struct query *q, size_t i)
{
    return buf_span(&q->enc, q->p[i].ename, q->p[i].ename_len);
}

static struct span q_evalue(const struct query *q, size_t i)
{
    return buf_span(&q->enc, q->p[i].evalue, q->p[i].evalue_len);
}

/* Percent-decode s into b ('+' is a space), NUL-terminated; *off and *len locate it. */
static enum vt_err decode_into(struct vt_buf *b, struct span s, size_t *off, size_t *len,
                               struct vt_diag *d)
{
    char sh[SHOW_MAX];
    *off = b->len;
    struct vt_reader r;
    vt_reader_init(&r, s.p, s.n);
    uint8_t c;
    while (vt_reader_get_u8(&r, &c) == VT_OK) {
        if (c == '%') {
            uint8_t hi = 0, lo = 0;
            int h = -1, l = -1;
            if (vt_reader_get_u8(&r, &hi) == VT_OK && vt_reader_get_u8(&r, &lo) == VT_OK) {
                h = vt_hex_value(hi);
                l = vt_hex_value(lo);
            }
            if (h < 0 || l < 0) {
                return vt_fail(d, VT_E_BAD_PERCENT, "sigv4.query",
                               "'%%' is not followed by two hex digits in \"%s\"", show(s, sh));
            }
            c = (uint8_t)(h << 4 | l);
        } else if (c == '+') {
            c = ' ';
        }
        VT_TRY(put(b, &c, 1, d));
    }
    *len = b->len - *off;
    uint8_t nul = 0;
    return put(b, &nul, 1, d);
}

/* SPEC: SigV4 canonical query string: each name and value URI-encoded (after decoding what was
 * sent); empty pieces ("a=1&&b=2", a trailing '&') are not parameters; a piece without '=' is a
 * name with an empty value. */
static enum vt_err query_parse(struct span raw, struct query *q, struct vt_diag *d)
{
    struct vt_reader r;
    vt_reader_init(&r, raw.p, raw.n);
    while (vt_reader_left(&r) > 0) {
        bool last;
        struct span piece = take_part(&r, '&', &last);
        if (piece.n == 0) {
            continue;
        }
        if (q->n == VT_SIGV4_MAX_PARAMS) {
            return vt_fail(d, VT_E_TOO_LARGE, "sigv4.query", "more than %d query parameters",
                           VT_SIGV4_MAX_PARAMS);
        }
        struct vt_reader pr;
        vt_reader_init(&pr, piece.p, piece.n);
        bool no_eq;
        struct span name = take_part(&pr, '=', &no_eq);
        struct span value = {vt_reader_rest(&pr), vt_reader_left(&pr)};
        struct qparam *p = &q->p[q->n];
        VT_TRY(decode_into(&q->dec, name, &p->name, &p->name_len, d));
        VT_TRY(decode_into(&q->dec, value, &p->value, &p->value_len, d));
        p->ename = q->enc.len;
        VT_TRY(put_encoded(&q->enc, q_name(q, q->n), false, d));
        p->ename_len = q->enc.len - p->ename;
        p->evalue = q->enc.len;
        VT_TRY(put_encoded(&q->enc, q_value(q, q->n), false, d));
        p->evalue_len = q->enc.len - p->evalue;
        q->n++;
    }
    return VT_OK;
}

/* How many parameters are named `name` (exactly), and the first one's decoded value. */
static size_t query_find(const struct query *q, const char *name, struct span *value)
{
    size_t count = 0;
    for (size_t i = 0; i < q->n; i++) {
        if (span_eq(q_name(q, i), name)) {
            if (count == 0 && value != NULL) {
                *value = q_value(q, i);
            }
            count++;
        }
    }
    return count;
}

/* ---- the canonical request ---- */

/* SPEC: SigV4 canonical URI for services other than S3 (botocore normalize_url_path then quote,
 * aws-sdk-js-v3 getCanonicalPath): empty and "." segments dropped, ".." drops the one before,
 * the leading '/' kept, a trailing '/' kept when a segment remains, each segment encoded as
 * sent once more; "/" for an empty path. */
static enum vt_err canonical_uri(struct span path, struct vt_buf *out, struct vt_diag *d)
{
    if (path.n == 0) {
        return put_str(out, "/", d);
    }
    struct vt_buf joined;
    vt_buf_init(&joined, 3 * VT_SIGV4_MAX_PATH + 16);
    size_t count = 0;
    enum vt_err err = VT_OK;
    bool trailing = false;
    struct vt_reader r;
    vt_reader_init(&r, path.p, path.n);
    while (err == VT_OK && vt_reader_left(&r) > 0) {
        bool last;
        struct span seg = take_part(&r, '/', &last);
        trailing = !last || seg.n == 0;
        if (seg.n == 0 || span_eq(seg, ".")) {
            continue;
        }
        if (span_eq(seg, "..")) {
            if (count > 0) {
                /* Back to the '/' before the last segment (or to nothing); segments, once
                 * encoded, hold no '/'. */
                size_t keep = 0;
                for (size_t i = joined.len; i > 0; i--) {
                    if (joined.data[i - 1] == '/') {
                        keep = i - 1;
                        break;
                    }
                }
                joined.len = keep;
                count--;
            }
            continue;
        }
        if (count > 0) {
            err = put_str(&joined, "/", d);
        }
        if (err == VT_OK) {
            err = put_encoded(&joined, seg, false, d);
        }
        count++;
    }
    /* The path starts with '/' (check_request); it ends with one when the last piece is empty. */
    if (err == VT_OK) {
        err = put_str(out, "/", d);
    }
    if (err == VT_OK && joined.len > 0) {
        err = put(out, joined.data, joined.len, d);
    }
    if (err == VT_OK && count > 0 && trailing) {
        err = put_str(out, "/", d);
    }
    vt_buf_cleanup(&joined);
    return err;
}

static int qparam_cmp(const struct query *q, size_t a, size_t b)
{
    int c = span_cmp(q_ename(q, a), q_ename(q, b));
    return c != 0 ? c : span_cmp(q_evalue(q, a), q_evalue(q, b));
}

/* SPEC: SigV4 canonical query: sorted by encoded name, then encoded value; "name=value" joined
 * with '&'; in the query form without X-Amz-Signature. */
static enum vt_err canonical_query(const struct query *q, bool skip_signature, struct vt_buf *out,
                                   struct vt_diag *d)
{
    size_t idx[VT_SIGV4_MAX_PARAMS];
    size_t m = 0;
    for (size_t i = 0; i < q->n; i++) {
        if (skip_signature && span_eq(q_name(q, i), "X-Amz-Signature")) {
            continue;
        }
        /* insertion sort: at most VT_SIGV4_MAX_PARAMS */
        size_t j = m++;
        while (j > 0 && qparam_cmp(q, idx[j - 1], i) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    for (size_t k = 0; k < m; k++) {
        if (k > 0) {
            VT_TRY(put_str(out, "&", d));
        }
        VT_TRY(put_span(out, q_ename(q, idx[k]), d));
        VT_TRY(put_str(out, "=", d));
        VT_TRY(put_span(out, q_evalue(q, idx[k]), d));
    }
    return VT_OK;
}

/* SPEC: SigV4 canonical header value: Trimall, white space at either end removed and each run
 * of it inside made one space. White space here is SP and HTAB, the only kinds a field value may
 * hold (check_request). */
static enum vt_err put_trimall(struct vt_buf *out, struct span v, struct vt_diag *d)
{
    struct vt_reader r;
    vt_reader_init(&r, v.p, v.n);
    bool any = false, gap = false;
    uint8_t c;
    while (vt_reader_get_u8(&r, &c) == VT_OK) {
        if (is_ows(c)) {
            gap = any;
            continue;
        }
        if (gap) {
            VT_TRY(put_str(out, " ", d));
            gap = false;
        }
        VT_TRY(put(out, &c, 1, d));
        any = true;
    }
    return VT_OK;
}

/* What a signature covers, in either direction. */
struct canon {
    const struct vt_sigv4_request *req;
    const struct query *q;
    bool skip_signature;      /* the query form: X-Amz-Signature is not signed */
    const struct span *names; /* the signed header names, lower case, sorted, unique */
    size_t n_names;
    struct span signed_list; /* those names joined with ';' */
    struct span payload;     /* hex SHA-256 of the body (or the x-amz-content-sha256 value) */
    char amz_date[17];
    char scope[8 + 1 + NAME_MAX_ + 1 + NAME_MAX_ + 1 + sizeof(TERMINATOR)];
};

static enum vt_err canonical_request(const struct canon *c, struct vt_buf *out, struct vt_diag *d)
{
    const struct vt_sigv4_request *req = c->req;
    VT_TRY(put_str(out, req->method, d));
    VT_TRY(put_str(out, "\n", d));
    VT_TRY(canonical_uri(span_str(req->path, req->path != NULL ? strlen(req->path) : 0), out, d));
    VT_TRY(put_str(out, "\n", d));
    VT_TRY(canonical_query(c->q, c->skip_signature, out, d));
    VT_TRY(put_str(out, "\n", d));
    for (size_t k = 0; k < c->n_names; k++) {
        VT_TRY(put_span(out, c->names[k], d));
        VT_TRY(put_str(out, ":", d));
        bool first = true;
        for (size_t i = 0; i < req->n_headers; i++) {
            if (!span_eq_nocase(header_name(&req->headers[i]), c->names[k])) {
                continue;
            }
            if (!first) {
                VT_TRY(put_str(out, ",", d));
            }
            VT_TRY(put_trimall(out, header_value(&req->headers[i]), d));
            first = false;
        }
        VT_TRY(put_str(out, "\n", d));
    }
    VT_TRY(put_str(out, "\n", d));
    VT_TRY(put_span(out, c->signed_list, d));
    VT_TRY(put_str(out, "\n", d));
    return put_span(out, c->payload, d);
}

/* The signature of c under secret, and the hex SHA-256 of the canonical request (for the diag). */
static enum vt_err compute_signature(const struct canon *c, const char *secret,
                                     uint8_t sig[VT_SHA256_LEN], char cr_hex[2 * VT_SHA256_LEN + 1],
                                     struct vt_diag *d)
{
    struct vt_buf cr;
    vt_buf_init(&cr, CANONICAL_MAX);
    enum vt_err err = canonical_request(c, &cr, d);
    if (err != VT_OK) {
        vt_buf_cleanup(&cr);
        return err;
    }
    uint8_t h[VT_SHA256_LEN];
    vt_sha256(cr.data, cr.len, h);
    vt_buf_cleanup(&cr);
    vt_hex_encode(h, sizeof(h), cr_hex);

    char sts[sizeof(ALGORITHM) + 17 + sizeof(c->scope) + 2 * VT_SHA256_LEN + 4];
    int n = snprintf(sts, sizeof(sts), ALGORITHM "\n%s\n%s\n%s", c->amz_date, c->scope, cr_hex);
    if (n < 0 || (size_t)n >= sizeof(sts)) {
        return vt_fail(d, VT_E_INTERNAL, "sigv4.string_to_sign", "does not fit");
    }

    /* SPEC: SigV4 signing key: kDate, kRegion, kService, kSigning. The scope is
     * DATE/REGION/SERVICE/aws4_request, each part checked free of '/'. */
    size_t slen = strlen(secret);
    uint8_t kin[4 + VT_SIGV4_SECRET_MAX];
    memcpy(kin, "AWS4", 4);
    memcpy(kin + 4, secret, slen);
    char parts[3][NAME_MAX_ + 1];
    const char *s = c->scope;
    for (size_t i = 0; i < 3; i++) {
        const char *slash = strchr(s, '/');
        size_t len = slash != NULL ? (size_t)(slash - s) : 0;
        if (len == 0 || len > NAME_MAX_) {
            vt_wipe(kin, sizeof(kin));
            return vt_fail(d, VT_E_INTERNAL, "sigv4.scope", "scope \"%s\" malformed", c->scope);
        }
        memcpy(parts[i], s, len);
        parts[i][len] = '\0';
        s = slash + 1;
    }
    uint8_t a[VT_SHA256_LEN], b[VT_SHA256_LEN];
    vt_hmac_sha256(kin, 4 + slen, parts[0], strlen(parts[0]), a);
    vt_hmac_sha256(a, sizeof(a), parts[1], strlen(parts[1]), b);
    vt_hmac_sha256(b, sizeof(b), parts[2], strlen(parts[2]), a);
    vt_hmac_sha256(a, sizeof(a), TERMINATOR, strlen(TERMINATOR), b);
    vt_hmac_sha256(b, sizeof(b), sts, (size_t)n, sig);
    vt_wipe(kin, sizeof(kin));
    vt_wipe(a, sizeof(a));
    vt_wipe(b, sizeof(b));
    return VT_OK;
}

/* ---- times ---- */

/* SPEC: SigV4 X-Amz-Date, ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z' (UTC). */
static bool parse_amz_date(struct span s, vt_time *t)
{
    uint8_t b[16];
    struct vt_reader r;
    vt_reader_init(&r, s.p, s.n);
    if (s.n != sizeof(b) || vt_reader_copy(&r, b, sizeof(b)) != VT_OK) {
        return false;
    }
    for (size_t i = 0; i < sizeof(b); i++) {
        bool want_digit = i != 8 && i != 15;
        if (want_digit != is_digit(b[i])) {
            return false;
        }
    }
    if (b[8] != 'T' || b[15] != 'Z') {
        return false;
    }
    char rfc[32];
    int n = snprintf(rfc, sizeof(rfc), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", (const char *)b,
                     (const char *)b + 4, (const char *)b + 6, (const char *)b + 9,
                     (const char *)b + 11, (const char *)b + 13);
    return n == 20 && vt_time_parse(rfc, 20, t, NULL) == VT_OK;
}

static const char *const WEEKDAYS[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const MONTHS[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* SPEC: RFC 9110 §5.6.7 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), and the same with "+0000"
 * or "-0000" for "GMT" (RFC 5322, what botocore's formatdate writes). The weekday must be the
 * date's. The obsolete RFC 850 and asctime forms are not accepted. */
static bool parse_http_date(struct span s, vt_time *t)
{
    char b[32];
    struct vt_reader r;
    vt_reader_init(&r, s.p, s.n);
    if ((s.n != 29 && s.n != 31) || vt_reader_copy(&r, b, s.n) != VT_OK) {
        return false;
    }
    b[s.n] = '\0';
    const char *zone = b + 26;
    if (!(s.n == 29 && strcmp(zone, "GMT") == 0) &&
        !(s.n == 31 && (strcmp(zone, "+0000") == 0 || strcmp(zone, "-0000") == 0))) {
        return false;
    }
    int wd = -1, mo = -1;
    for (int i = 0; i < 7; i++) {
        if (memcmp(b, WEEKDAYS[i], 3) == 0) {
            wd = i;
        }
    }
    for (int i = 0; i < 12; i++) {
        if (memcmp(b + 8, MONTHS[i], 3) == 0) {
            mo = i + 1;
        }
    }
    /* '0' a digit, 'a' a letter checked above, anything else itself */
    static const char shape[] = "aaa, 00 aaa 0000 00:00:00 ";
    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        bool ok = shape[i] == 'a' || (shape[i] == '0' ? is_digit((uint8_t)b[i]) : b[i] == shape[i]);
        if (!ok) {
            return false;
        }
    }
    if (wd < 0 || mo < 0) {
        return false;
    }
    char rfc[32];
    int n = snprintf(rfc, sizeof(rfc), "%.4s-%02d-%.2sT%.8sZ", b + 12, mo, b + 5, b + 17);
    if (n != 20 || vt_time_parse(rfc, 20, t, NULL) != VT_OK) {
        return false;
    }
    int64_t days = *t / 86400 - (*t % 86400 < 0 ? 1 : 0);
    int64_t w = (days + 4) % 7; /* 1970-01-01 was a Thursday */
    return (w < 0 ? w + 7 : w) == wd;
}

/* t as YYYYMMDD'T'HHMMSS'Z' when its year has four digits (true), else RFC 3339 (false). */
static bool format_amz_date(vt_time t, char out[VT_TIME_STR_MAX])
{
    char rfc[VT_TIME_STR_MAX];
    vt_time_format(t, rfc);
    if (strlen(rfc) != 20 || !is_digit((uint8_t)rfc[0])) {
        memcpy(out, rfc, sizeof(rfc));
        return false;
    }
    snprintf(out, VT_TIME_STR_MAX, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", rfc, rfc + 5, rfc + 8, rfc + 11,
             rfc + 14, rfc + 17);
    return true;
}

/* "15 min." as AWS writes the skew, or "N s" when it is not whole minutes. */
static void format_skew(int64_t s, char out[32])
{
    if (s % 60 == 0) {
        snprintf(out, 32, "%lld min.", (long long)(s / 60));
    } else {
        snprintf(out, 32, "%lld s", (long long)s);
    }
}

/* ---- verification ---- */

struct verify {
    const struct vt_sigv4_request *req;
    const struct vt_sigv4_expect *exp;
    struct vt_diag *d;
    enum vt_sigv4_refusal refusal;
    struct query q;
    bool query_form;
    /* the signature's parameters, borrowed from the Authorization value or the decoded query */
    struct span credential, signed_list, signature, date, expires;
    bool http_date; /* the time is the Date header's */
    struct span akid, scope_date, region, service, terminator;
    vt_time t;
    struct span names[VT_SIGV4_MAX_SIGNED];
    size_t n_names;
    char payload[2 * VT_SHA256_LEN + 1];
    struct canon canon;
};

/* Record a refusal of kind `kind` with the diag's code, check and detail. */
#define REFUSE(v, kind, code, check, ...)                                                          \
    ((v)->refusal = (kind), vt_fail((v)->d, (code), (check), __VA_ARGS__))

static bool is_auth_param(struct span name)
{
    return span_eq(name, "X-Amz-Algorithm") || span_eq(name, "X-Amz-Credential") ||
           span_eq(name, "X-Amz-Signature") || span_eq(name, "X-Amz-SignedHeaders") ||
           span_eq(name, "X-Amz-Expires");
}

/* SPEC: SigV4 Authorization header: the algorithm, then Credential, SignedHeaders and Signature
 * as name=value separated by commas (spaces after a comma, as AWS tolerates them). */
static enum vt_err parse_authorization(struct verify *v, struct span value)
{
    char sh[SHOW_MAX];
    if (value.n > VT_SIGV4_MAX_AUTH) {
        return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_TOO_LARGE, "sigv4.header",
                      "the Authorization header exceeds %u bytes", VT_SIGV4_MAX_AUTH);
    }
    struct vt_reader r;
    vt_reader_init(&r, value.p, value.n);
    size_t alg_n = 0;
    struct vt_reader scan = r;
    uint8_t c;
    while (vt_reader_get_u8(&scan, &c) == VT_OK && !is_ows(c)) {
        alg_n++;
    }
    struct span alg = {NULL, 0};
    if (vt_reader_get_bytes(&r, alg_n, &alg.p) == VT_OK) {
        alg.n = alg_n;
    }
    if (!span_eq(alg, ALGORITHM)) {
        return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_UNSUPPORTED_ALGORITHM, "sigv4.algorithm",
                      "the Authorization header's algorithm is \"%s\", not " ALGORITHM,
                      show(alg, sh));
    }
    while (vt_reader_peek_u8(&r, &c) == VT_OK && is_ows(c)) {
        (void)!vt_reader_skip(&r, 1);
    }
    static const char *const NAMES[3] = {"Credential", "SignedHeaders", "Signature"};
    struct span *dest[3] = {&v->credential, &v->signed_list, &v->signature};
    bool seen[3] = {false, false, false};
    bool last = vt_reader_left(&r) == 0;
    while (!last) {
        struct span part = trim_ows(take_part(&r, ',', &last));
        if (part.n == 0) {
            return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.header",
                          "an empty parameter in the Authorization header (two commas, or one at "
                          "the end)");
        }
        struct vt_reader pr;
        vt_reader_init(&pr, part.p, part.n);
        bool no_eq;
        struct span name = take_part(&pr, '=', &no_eq);
        struct span val = {vt_reader_rest(&pr), vt_reader_left(&pr)};
        if (no_eq) {
            return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.header",
                          "'%s' not a valid key=value pair (missing equal-sign) in Authorization "
                          "header",
                          show(part, sh));
        }
        if (span_has(val, ' ') || span_has(val, '\t')) {
            return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.header",
                          "'%s' not a valid key=value pair (white space in the value) in "
                          "Authorization header",
                          show(part, sh));
        }
        int which = -1;
        for (int i = 0; i < 3; i++) {
            if (span_eq(name, NAMES[i])) {
                which = i;
            }
        }
        if (which < 0) {
            return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.header",
                          "unknown parameter '%s' in the Authorization header (Credential, "
                          "SignedHeaders and Signature are its parameters)",
                          show(name, sh));
        }
        if (seen[which]) {
            return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_DUPLICATE, "sigv4.header",
                          "'%s' appears twice in the Authorization header", NAMES[which]);
        }
        if (val.n == 0) {
            return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.header",
                          "'%s' has an empty value in the Authorization header", NAMES[which]);
        }
        seen[which] = true;
        *dest[which] = val;
    }
    if (!seen[0] || !seen[1] || !seen[2]) {
        /* AWS's message, in its order. */
        return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.header", "%s%s%s",
                      seen[0] ? "" : "Authorization header requires 'Credential' parameter. ",
                      seen[2] ? "" : "Authorization header requires 'Signature' parameter. ",
                      seen[1] ? "" : "Authorization header requires 'SignedHeaders' parameter.");
    }
    return VT_OK;
}

/* SPEC: SigV4 query form: the six X-Amz-* parameters, each once. */
static enum vt_err parse_query_auth(struct verify *v)
{
    char sh[SHOW_MAX];
    static const char *const NAMES[6] = {"X-Amz-Algorithm",     "X-Amz-Credential",
                                         "X-Amz-Signature",     "X-Amz-Date",
                                         "X-Amz-SignedHeaders", "X-Amz-Expires"};
    struct span alg = {NULL, 0};
    struct span *dest[6] = {&alg,     &v->credential,  &v->signature,
                            &v->date, &v->signed_list, &v->expires};
    char missing[256] = "";
    for (size_t i = 0; i < 6; i++) {
        size_t n = query_find(&v->q, NAMES[i], dest[i]);
        if (n > 1) {
            return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_DUPLICATE, "sigv4.query",
                          "the query parameter %s appears %zu times", NAMES[i], n);
        }
        if (n == 0 || dest[i]->n == 0) {
            size_t used = strlen(missing);
            snprintf(missing + used, sizeof(missing) - used, "%s'%s'", used ? ", " : "", NAMES[i]);
        }
    }
    if (missing[0] != '\0') {
        return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.query",
                      "the query form needs a non-empty %s", missing);
    }
    if (!span_eq(alg, ALGORITHM)) {
        return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_UNSUPPORTED_ALGORITHM, "sigv4.algorithm",
                      "X-Amz-Algorithm is \"%s\", not " ALGORITHM, show(alg, sh));
    }
    return VT_OK;
}

/* SPEC: SigV4 credential: AKID/YYYYMMDD/REGION/SERVICE/aws4_request. The parts are checked
 * against the request in check_scope. */
static enum vt_err parse_credential(struct verify *v)
{
    char sh[SHOW_MAX];
    struct span parts[5];
    size_t n = 0;
    struct vt_reader r;
    vt_reader_init(&r, v->credential.p, v->credential.n);
    bool last = false;
    while (!last) {
        if (n == 5) {
            n++;
            break;
        }
        parts[n++] = take_part(&r, '/', &last);
    }
    bool empty = false;
    for (size_t i = 0; i < n && i < 5; i++) {
        empty = empty || parts[i].n == 0;
    }
    if (n != 5 || empty) {
        return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.credential",
                      "Credential \"%s\" is not AKID/YYYYMMDD/REGION/SERVICE/aws4_request",
                      show(v->credential, sh));
    }
    if (!span_all(parts[0], VT_SIGV4_ACCESS_KEY_MAX - 1, is_akid_char)) {
        return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.credential",
                      "the access key id \"%s\" is not 1 to %d letters, digits or '_'",
                      show(parts[0], sh), VT_SIGV4_ACCESS_KEY_MAX - 1);
    }
    v->akid = parts[0];
    v->scope_date = parts[1];
    v->region = parts[2];
    v->service = parts[3];
    v->terminator = parts[4];
    return VT_OK;
}

/* The request time: X-Amz-Date (query parameter in the query form, else header), else the Date
 * header; v->canon.amz_date gets it in the basic format the string to sign uses. */
static enum vt_err request_time(struct verify *v)
{
    char sh[SHOW_MAX];
    if (!v->query_form) {
        size_t n = header_find(v->req, "x-amz-date", &v->date);
        if (n > 1) {
            return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_DUPLICATE, "sigv4.date",
                          "%zu X-Amz-Date headers", n);
        }
        if (n == 0) {
            n = header_find(v->req, "date", &v->date);
            if (n == 0) {
                return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.date",
                              "Authorization header requires existence of either a 'X-Amz-Date' "
                              "or a 'Date' header.");
            }
            if (n > 1) {
                return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_DUPLICATE, "sigv4.date",
                              "%zu Date headers", n);
            }
            v->http_date = true;
        }
    }
    if (v->http_date) {
        if (!parse_http_date(v->date, &v->t)) {
            return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_BAD_TIME, "sigv4.date",
                          "the Date header \"%s\" is not an IMF-fixdate (\"Sun, 06 Nov 1994 "
                          "08:49:37 GMT\")",
                          show(v->date, sh));
        }
        char when[VT_TIME_STR_MAX];
        if (!format_amz_date(v->t, when)) {
            return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_BAD_TIME, "sigv4.date",
                          "the Date header \"%s\" has no four-digit year", show(v->date, sh));
        }
        memcpy(v->canon.amz_date, when, sizeof(v->canon.amz_date) - 1);
        v->canon.amz_date[sizeof(v->canon.amz_date) - 1] = '\0';
        return VT_OK;
    }
    if (!parse_amz_date(v->date, &v->t)) {
        return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_BAD_TIME, "sigv4.date",
                      "Date must be in ISO-8601 'basic format'. Got '%s'.", show(v->date, sh));
    }
    memcpy(v->canon.amz_date, v->date.p, 16);
    v->canon.amz_date[16] = '\0';
    return VT_OK;
}

/* SPEC: SigV4 credential scope: the terminator, the service, a region the server accepts and
 * the request's own day. Any of them wrong is InvalidSignatureException at AWS. */
static enum vt_err check_scope(struct verify *v)
{
    char sh[SHOW_MAX];
    const struct vt_sigv4_expect *exp = v->exp;
    if (!span_eq(v->terminator, TERMINATOR)) {
        return REFUSE(v, VT_SIGV4_BAD_SIGNATURE, VT_E_BAD_FIELD, "sigv4.scope",
                      "Credential should be scoped with a valid terminator: 'aws4_request', not "
                      "'%s'.",
                      show(v->terminator, sh));
    }
    if (!span_eq(v->service, exp->service)) {
        return REFUSE(v, VT_SIGV4_BAD_SIGNATURE, VT_E_BAD_FIELD, "sigv4.scope",
                      "Credential should be scoped to correct service: '%s' (not '%s').",
                      exp->service, show(v->service, sh));
    }
    bool region_ok = span_all(v->region, NAME_MAX_, is_name_char);
    if (region_ok && exp->regions != NULL) {
        region_ok = false;
        for (size_t i = 0; exp->regions[i] != NULL; i++) {
            region_ok = region_ok || span_eq(v->region, exp->regions[i]);
        }
    }
    if (!region_ok) {
        return REFUSE(v, VT_SIGV4_BAD_SIGNATURE, VT_E_BAD_FIELD, "sigv4.scope",
                      "Credential should be scoped to a valid region, not '%s'.",
                      show(v->region, sh));
    }
    if (v->scope_date.n != 8 || memcmp(v->scope_date.p, v->canon.amz_date, 8) != 0) {
        return REFUSE(v, VT_SIGV4_BAD_SIGNATURE, VT_E_BAD_FIELD, "sigv4.scope",
                      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                      "date from HTTP: '%s' != '%.8s', from '%s'.",
                      show(v->scope_date, sh), v->canon.amz_date, v->canon.amz_date);
    }
    snprintf(v->canon.scope, sizeof(v->canon.scope), "%.8s/%.*s/%s/" TERMINATOR, v->canon.amz_date,
             (int)v->region.n, (const char *)v->region.p, exp->service);
    return VT_OK;
}

/* SPEC: AWS refuses a header-signed request whose time is more than the skew limit (15 minutes)
 * from its own, either way ("Signature expired: T is now earlier than NOW-15 (NOW - 15 min.)",
 * "Signature not yet current: T is still later than NOW+15 (NOW + 15 min.)"); a presigned one
 * from its X-Amz-Date plus X-Amz-Expires seconds on, and before its X-Amz-Date less the skew. */
static enum vt_err check_time(struct verify *v)
{
    char sh[SHOW_MAX];
    int64_t skew = v->exp->max_skew > 0 ? v->exp->max_skew : VT_SIGV4_MAX_SKEW;
    vt_time now = v->exp->now;
    char now_s[VT_TIME_STR_MAX], bound_s[VT_TIME_STR_MAX], skew_s[32];
    format_amz_date(now, now_s);
    format_skew(skew, skew_s);
    int64_t expires = 0;
    if (v->query_form) {
        /* SPEC: X-Amz-Expires, 1 to 604800 seconds. */
        struct vt_reader r;
        vt_reader_init(&r, v->expires.p, v->expires.n);
        uint8_t c;
        bool ok = v->expires.n > 0 && v->expires.n <= 7;
        while (ok && vt_reader_get_u8(&r, &c) == VT_OK) {
            ok = is_digit(c);
            expires = expires * 10 + (c - '0');
        }
        if (!ok || expires < 1 || expires > EXPIRES_MAX) {
            return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_BAD_FIELD, "sigv4.expires",
                          "X-Amz-Expires \"%s\" is not a number of seconds from 1 to %d",
                          show(v->expires, sh), EXPIRES_MAX);
        }
        if (now - v->t > expires) {
            format_amz_date(v->t + expires, bound_s);
            return REFUSE(v, VT_SIGV4_EXPIRED, VT_E_EXPIRED, "sigv4.expires",
                          "Signature expired: %s (X-Amz-Date %s + X-Amz-Expires %lld s) is now "
                          "earlier than %s",
                          bound_s, v->canon.amz_date, (long long)expires, now_s);
        }
    } else if (v->t < now - skew) {
        format_amz_date(now - skew, bound_s);
        return REFUSE(v, VT_SIGV4_EXPIRED, VT_E_EXPIRED, "sigv4.skew",
                      "Signature expired: %s is now earlier than %s (%s - %s)", v->canon.amz_date,
                      bound_s, now_s, skew_s);
    }
    if (v->t > now + skew) {
        format_amz_date(now + skew, bound_s);
        return REFUSE(v, VT_SIGV4_EXPIRED, VT_E_NOT_YET_VALID, "sigv4.skew",
                      "Signature not yet current: %s is still later than %s (%s + %s)",
                      v->canon.amz_date, bound_s, now_s, skew_s);
    }
    return VT_OK;
}

/* Is `name` (a span of any case) one of the signed names? */
static bool is_signed(const struct verify *v, struct span name)
{
    for (size_t k = 0; k < v->n_names; k++) {
        if (span_eq_nocase(v->names[k], name)) {
            return true;
        }
    }
    return false;
}

/* SPEC: SigV4 SignedHeaders: lower-case names joined with ';', sorted. Required here: `host`;
 * the date header the time came from (x-amz-date or date) in the header form; every x-amz-*
 * header of the request (as S3 requires: X-Amz-Target names the KMS operation); every name
 * present in the request; never `authorization`. */
static enum vt_err check_signed_headers(struct verify *v)
{
    char sh[SHOW_MAX], sh2[SHOW_MAX];
    struct vt_reader r;
    vt_reader_init(&r, v->signed_list.p, v->signed_list.n);
    bool last = false;
    v->n_names = 0;
    while (!last) {
        struct span name = take_part(&r, ';', &last);
        if (v->n_names == VT_SIGV4_MAX_SIGNED) {
            return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_TOO_LARGE, "sigv4.signed_headers",
                          "more than %d names in SignedHeaders", VT_SIGV4_MAX_SIGNED);
        }
        if (!span_all(name, VT_SIGV4_MAX_HEADER_NAME, is_lower_tchar)) {
            return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.signed_headers",
                          "SignedHeaders \"%s\": \"%s\" is not a lower-case header name",
                          show(v->signed_list, sh), show(name, sh2));
        }
        if (v->n_names > 0 && span_cmp(v->names[v->n_names - 1], name) >= 0) {
            return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.signed_headers",
                          "SignedHeaders \"%s\" is not sorted or repeats a name",
                          show(v->signed_list, sh));
        }
        v->names[v->n_names++] = name;
    }
    const char *date_name = v->query_form ? NULL : v->http_date ? "date" : "x-amz-date";
    const char *required[2] = {"host", date_name};
    for (size_t i = 0; i < 2; i++) {
        if (required[i] != NULL && !is_signed(v, span_str(required[i], strlen(required[i])))) {
            return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.signed_headers",
                          "'%s' must be a 'SignedHeader' in the AWS Authorization (SignedHeaders "
                          "\"%s\")",
                          required[i], show(v->signed_list, sh));
        }
    }
    for (size_t k = 0; k < v->n_names; k++) {
        if (span_eq(v->names[k], "authorization")) {
            return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_BAD_FIELD, "sigv4.signed_headers",
                          "'authorization' cannot be a SignedHeader");
        }
        char name[VT_SIGV4_MAX_HEADER_NAME + 1];
        memcpy(name, v->names[k].p, v->names[k].n);
        name[v->names[k].n] = '\0';
        if (header_find(v->req, name, NULL) == 0) {
            return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.signed_headers",
                          "'%s' is named as a SignedHeader, but it does not exist in the HTTP "
                          "request.",
                          name);
        }
    }
    for (size_t i = 0; i < v->req->n_headers; i++) {
        struct span name = header_name(&v->req->headers[i]);
        struct span prefix = {name.p, name.n < 6 ? name.n : 6};
        if (name.n > 6 && span_eq_nocase(prefix, span_str("x-amz-", 6)) && !is_signed(v, name)) {
            return REFUSE(
                v, VT_SIGV4_INCOMPLETE, VT_E_MISSING_FIELD, "sigv4.signed_headers",
                "the header %s is not signed: every x-amz-* header must be (SignedHeaders "
                "\"%s\")",
                v->req->headers[i].name, show(v->signed_list, sh));
        }
    }
    v->canon.names = v->names;
    v->canon.n_names = v->n_names;
    v->canon.signed_list = v->signed_list;
    return VT_OK;
}

/* SPEC: SigV4 hashed payload: hex SHA-256 of the body. An x-amz-content-sha256 header, when
 * present, must be that hash: UNSIGNED-PAYLOAD and the streaming forms are refused, as the body
 * of a KMS request is its whole operation. */
static enum vt_err check_payload(struct verify *v)
{
    char sh[SHOW_MAX];
    uint8_t h[VT_SHA256_LEN];
    vt_sha256(v->req->body_len > 0 ? v->req->body : (const uint8_t *)"", v->req->body_len, h);
    vt_hex_encode(h, sizeof(h), v->payload);
    v->canon.payload = span_str(v->payload, 2 * VT_SHA256_LEN);
    struct span given;
    size_t n = header_find(v->req, "x-amz-content-sha256", &given);
    if (n > 1) {
        return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_DUPLICATE, "sigv4.payload",
                      "%zu x-amz-content-sha256 headers", n);
    }
    if (n == 0) {
        return VT_OK;
    }
    if (span_eq(given, "UNSIGNED-PAYLOAD") ||
        (given.n > 10 && memcmp(given.p, "STREAMING-", 10) == 0)) {
        return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_UNSUPPORTED, "sigv4.payload",
                      "x-amz-content-sha256 is %s: the body must be signed", show(given, sh));
    }
    if (!span_eq(given, v->payload)) {
        return REFUSE(v, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.payload",
                      "The provided 'x-amz-content-sha256' header does not match what was "
                      "computed: %s, the body's SHA-256 is %s",
                      show(given, sh), v->payload);
    }
    return VT_OK;
}

static enum vt_err find_form(struct verify *v, struct span *auth)
{
    size_t n_auth = header_find(v->req, "authorization", auth);
    bool in_query = false;
    for (size_t i = 0; i < v->q.n; i++) {
        in_query = in_query || is_auth_param(q_name(&v->q, i));
    }
    if (n_auth == 0 && !in_query) {
        return REFUSE(v, VT_SIGV4_MISSING, VT_E_UNAUTHORIZED, "sigv4.missing",
                      "Request is missing Authentication Token (no Authorization header, no "
                      "X-Amz-Credential query parameter)");
    }
    if (n_auth > 0 && in_query) {
        return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_MALFORMED, "sigv4.form",
                      "both an Authorization header and X-Amz-* query parameters: only one auth "
                      "mechanism allowed");
    }
    if (n_auth > 1) {
        return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_DUPLICATE, "sigv4.header",
                      "%zu Authorization headers", n_auth);
    }
    v->query_form = in_query;
    /* Session credentials are not issued here: a token is one this service cannot check. */
    if (header_find(v->req, "x-amz-security-token", NULL) > 0 ||
        query_find(&v->q, "X-Amz-Security-Token", NULL) > 0) {
        return REFUSE(v, VT_SIGV4_UNKNOWN_KEY, VT_E_UNAUTHORIZED, "sigv4.security_token",
                      "The security token included in the request is invalid (session tokens "
                      "are not supported)");
    }
    return VT_OK;
}

static bool service_ok(const char *s)
{
    return s != NULL && span_all(span_str(s, strnlen(s, NAME_MAX_ + 1)), NAME_MAX_, is_name_char);
}

static enum vt_err verify_steps(struct verify *v, struct vt_sigv4_result *out)
{
    char sh[SHOW_MAX];
    const struct vt_sigv4_request *req = v->req;
    enum vt_err err = check_request(req, v->d);
    if (err == VT_OK) {
        err = query_parse(span_str(req->query, req->query != NULL ? strlen(req->query) : 0), &v->q,
                          v->d);
    }
    if (err != VT_OK) {
        v->refusal = VT_SIGV4_INCOMPLETE;
        return err;
    }
    struct span auth = {NULL, 0};
    VT_TRY(find_form(v, &auth));
    VT_TRY(v->query_form ? parse_query_auth(v) : parse_authorization(v, auth));
    VT_TRY(parse_credential(v));
    VT_TRY(request_time(v));
    VT_TRY(check_scope(v));
    VT_TRY(check_time(v));
    VT_TRY(check_signed_headers(v));
    VT_TRY(check_payload(v));

    uint8_t given[VT_SHA256_LEN];
    if (!span_all(v->signature, 2 * VT_SHA256_LEN, is_lower_hex) ||
        v->signature.n != 2 * VT_SHA256_LEN ||
        vt_hex_decode_exact((const char *)v->signature.p, v->signature.n, given, sizeof(given)) !=
            VT_OK) {
        return REFUSE(v, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature",
                      "Signature \"%s\" is not 64 lower-case hex digits", show(v->signature, sh));
    }

    memcpy(out->access_key_id, v->akid.p, v->akid.n);
    out->access_key_id[v->akid.n] = '\0';
    memcpy(out->region, v->region.p, v->region.n);
    out->region[v->region.n] = '\0';
    out->signed_at = v->t;
    char secret[VT_SIGV4_SECRET_MAX];
    memset(secret, 0, sizeof(secret));
    out->principal[0] = '\0';
    if (!v->exp->secret(v->exp->ctx, out->access_key_id, secret, out->principal,
                        sizeof(out->principal))) {
        vt_wipe(secret, sizeof(secret));
        return REFUSE(v, VT_SIGV4_UNKNOWN_KEY, VT_E_UNAUTHORIZED, "sigv4.key",
                      "The security token included in the request is invalid (access key id %s "
                      "is not known)",
                      out->access_key_id);
    }
    out->principal[sizeof(out->principal) - 1] = '\0';
    size_t slen = strnlen(secret, sizeof(secret));
    if (slen == 0 || slen == sizeof(secret)) {
        vt_wipe(secret, sizeof(secret));
        return REFUSE(v, VT_SIGV4_INCOMPLETE, VT_E_INTERNAL, "sigv4.key",
                      "the secret of access key id %s is empty or not NUL-terminated within %d "
                      "bytes",
                      out->access_key_id, VT_SIGV4_SECRET_MAX);
    }

    v->canon.req = req;
    v->canon.q = &v->q;
    v->canon.skip_signature = v->query_form;
    uint8_t want[VT_SHA256_LEN];
    char cr_hex[2 * VT_SHA256_LEN + 1];
    err = compute_signature(&v->canon, secret, want, cr_hex, v->d);
    vt_wipe(secret, sizeof(secret));
    if (err != VT_OK) {
        v->refusal = VT_SIGV4_INCOMPLETE;
        return err;
    }
    bool match = vt_ct_memeq(want, given, sizeof(want));
    vt_wipe(want, sizeof(want));
    if (!match) {
        return REFUSE(v, VT_SIGV4_BAD_SIGNATURE, VT_E_SIGNATURE, "sigv4.signature",
                      "The request signature we calculated does not match the signature you "
                      "provided. Check your AWS Secret Access Key and signing method. (access "
                      "key id %s, scope %s, date %s, canonical request SHA-256 %s)",
                      out->access_key_id, v->canon.scope, v->canon.amz_date, cr_hex);
    }
    return VT_OK;
}

enum vt_err vt_sigv4_verify(const struct vt_sigv4_request *req, const struct vt_sigv4_expect *exp,
                            struct vt_sigv4_result *res, enum vt_sigv4_refusal *refusal,
                            struct vt_diag *d)
{
    if (refusal == NULL) {
        return vt_fail(d, VT_E_ARG, "sigv4.args", "no refusal to fill");
    }
    *refusal = VT_SIGV4_INCOMPLETE;
    /* now within ±2^62 s: the time arithmetic below cannot overflow. */
    if (req == NULL || exp == NULL || res == NULL || exp->secret == NULL ||
        !service_ok(exp->service) || exp->max_skew < 0 || exp->max_skew > EXPIRES_MAX ||
        exp->now > ((int64_t)1 << 62) || exp->now < -((int64_t)1 << 62)) {
        return vt_fail(d, VT_E_ARG, "sigv4.args",
                       "a request, a result, a secret callback, a service name of 1 to %d "
                       "characters [a-z0-9-], a skew of 0 to %d s and a time within 2^62 s are "
                       "needed",
                       NAME_MAX_, EXPIRES_MAX);
    }
    struct verify *v = calloc(1, sizeof(*v));
    if (v == NULL) {
        return vt_fail(d, VT_E_NOMEM, "sigv4.args", "out of memory");
    }
    v->req = req;
    v->exp = exp;
    v->d = d;
    v->refusal = VT_SIGV4_INCOMPLETE;
    query_init(&v->q);
    struct vt_sigv4_result out;
    memset(&out, 0, sizeof(out));
    enum vt_err err = verify_steps(v, &out);
    if (err == VT_OK) {
        *res = out;
        *refusal = VT_SIGV4_OK;
    } else {
        *refusal = v->refusal != VT_SIGV4_OK ? v->refusal : VT_SIGV4_INCOMPLETE;
    }
    query_cleanup(&v->q);
    free(v);
    return err;
}

const char *vt_sigv4_refusal_type(enum vt_sigv4_refusal r)
{
    switch (r) {
    case VT_SIGV4_OK:
        return "";
    case VT_SIGV4_MISSING:
        return "MissingAuthenticationTokenException";
    case VT_SIGV4_INCOMPLETE:
        return "IncompleteSignatureException";
    case VT_SIGV4_UNKNOWN_KEY:
        return "UnrecognizedClientException";
    case VT_SIGV4_BAD_SIGNATURE:
    case VT_SIGV4_EXPIRED:
        return "InvalidSignatureException";
    }
    return "InvalidSignatureException"; /* a value outside the enum refuses too */
}

unsigned vt_sigv4_refusal_status(enum vt_sigv4_refusal r)
{
    /* AWS JSON-protocol services (KMS, DynamoDB, Kinesis) answer every one of these 400. */
    return r == VT_SIGV4_OK ? 200 : 400;
}

/* ---- signing ---- */

enum vt_err vt_sigv4_sign(const struct vt_sigv4_request *req, const char *access_key_id,
                          const char *secret, const char *region, const char *service, vt_time at,
                          char *authorization, size_t auth_cap, char amz_date[17],
                          struct vt_diag *d)
{
    if (req == NULL || access_key_id == NULL || secret == NULL || authorization == NULL ||
        auth_cap == 0 || amz_date == NULL) {
        return vt_fail(d, VT_E_ARG, "sigv4.sign", "missing argument");
    }
    authorization[0] = '\0';
    size_t slen = strnlen(secret, VT_SIGV4_SECRET_MAX);
    if (!span_all(span_str(access_key_id, strnlen(access_key_id, VT_SIGV4_ACCESS_KEY_MAX)),
                  VT_SIGV4_ACCESS_KEY_MAX - 1, is_akid_char) ||
        slen == 0 || slen == VT_SIGV4_SECRET_MAX || !service_ok(region) || !service_ok(service)) {
        return vt_fail(d, VT_E_ARG, "sigv4.sign",
                       "an access key id of 1 to %d letters, digits or '_', a secret of 1 to %d "
                       "bytes, and region and service names of 1 to %d characters [a-z0-9-] are "
                       "needed",
                       VT_SIGV4_ACCESS_KEY_MAX - 1, VT_SIGV4_SECRET_MAX - 1, NAME_MAX_);
    }
    struct canon c;
    memset(&c, 0, sizeof(c));
    char when[VT_TIME_STR_MAX];
    if (!format_amz_date(at, when)) {
        return vt_fail(d, VT_E_ARG, "sigv4.sign", "the time %s has no four-digit year", when);
    }
    memcpy(c.amz_date, when, 17);
    VT_TRY(check_request(req, d));
    if (header_find(req, "authorization", NULL) > 0 || header_find(req, "x-amz-date", NULL) > 0) {
        return vt_fail(d, VT_E_ARG, "sigv4.sign",
                       "the request already has an Authorization or X-Amz-Date header");
    }
    if (header_find(req, "host", NULL) == 0) {
        return vt_fail(d, VT_E_ARG, "sigv4.sign", "the request has no Host header to sign");
    }
    if (req->n_headers >= VT_SIGV4_MAX_HEADERS) {
        return vt_fail(d, VT_E_TOO_LARGE, "sigv4.sign",
                       "%zu header fields and X-Amz-Date are more than %d", req->n_headers,
                       VT_SIGV4_MAX_HEADERS);
    }

    /* The request with X-Amz-Date, and its names in lower case, sorted, each once. */
    struct vt_sigv4_header hdrs[VT_SIGV4_MAX_HEADERS];
    for (size_t i = 0; i < req->n_headers; i++) {
        hdrs[i] = req->headers[i];
    }
    hdrs[req->n_headers] = (struct vt_sigv4_header){"X-Amz-Date", c.amz_date};
    struct vt_sigv4_request signed_req = *req;
    signed_req.headers = hdrs;
    signed_req.n_headers = req->n_headers + 1;
    char lower[VT_SIGV4_MAX_HEADERS][VT_SIGV4_MAX_HEADER_NAME + 1];
    struct span names[VT_SIGV4_MAX_HEADERS];
    size_t n_names = 0;
    for (size_t i = 0; i < signed_req.n_headers; i++) {
        struct span nm = header_name(&hdrs[i]);
        char *l = lower[n_names];
        struct vt_reader r;
        vt_reader_init(&r, nm.p, nm.n);
        uint8_t ch;
        size_t k = 0;
        while (vt_reader_get_u8(&r, &ch) == VT_OK) {
            l[k++] = (char)ascii_lower(ch);
        }
        l[k] = '\0';
        struct span s = span_str(l, k);
        size_t j = n_names;
        bool dup = false;
        for (size_t m = 0; m < n_names; m++) {
            dup = dup || span_cmp(names[m], s) == 0;
        }
        if (dup) {
            continue;
        }
        while (j > 0 && span_cmp(names[j - 1], s) > 0) {
            names[j] = names[j - 1];
            j--;
        }
        names[j] = s;
        n_names++;
    }
    char list[VT_SIGV4_MAX_HEADERS * (VT_SIGV4_MAX_HEADER_NAME + 1)];
    size_t ll = 0;
    for (size_t k = 0; k < n_names; k++) {
        if (k > 0) {
            list[ll++] = ';';
        }
        memcpy(list + ll, names[k].p, names[k].n);
        ll += names[k].n;
    }
    list[ll] = '\0';

    /* The payload: x-amz-content-sha256 as given (as botocore does), else the body's SHA-256. */
    char payload[2 * VT_SHA256_LEN + 1];
    struct span given;
    size_t n_given = header_find(req, "x-amz-content-sha256", &given);
    if (n_given > 1) {
        return vt_fail(d, VT_E_ARG, "sigv4.sign", "%zu x-amz-content-sha256 headers", n_given);
    }
    if (n_given == 1) {
        c.payload = given;
    } else {
        uint8_t h[VT_SHA256_LEN];
        vt_sha256(req->body_len > 0 ? req->body : (const uint8_t *)"", req->body_len, h);
        vt_hex_encode(h, sizeof(h), payload);
        c.payload = span_str(payload, 2 * VT_SHA256_LEN);
    }

    struct query *q = calloc(1, sizeof(*q));
    if (q == NULL) {
        return vt_fail(d, VT_E_NOMEM, "sigv4.sign", "out of memory");
    }
    query_init(q);
    enum vt_err err =
        query_parse(span_str(req->query, req->query != NULL ? strlen(req->query) : 0), q, d);
    c.req = &signed_req;
    c.q = q;
    c.skip_signature = false;
    c.names = names;
    c.n_names = n_names;
    c.signed_list = span_str(list, ll);
    snprintf(c.scope, sizeof(c.scope), "%.8s/%s/%s/" TERMINATOR, c.amz_date, region, service);
    uint8_t sig[VT_SHA256_LEN];
    char cr_hex[2 * VT_SHA256_LEN + 1];
    if (err == VT_OK) {
        err = compute_signature(&c, secret, sig, cr_hex, d);
    }
    query_cleanup(q);
    free(q);
    if (err != VT_OK) {
        return err;
    }
    char sig_hex[2 * VT_SHA256_LEN + 1];
    vt_hex_encode(sig, sizeof(sig), sig_hex);
    int n = snprintf(authorization, auth_cap,
                     ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s", access_key_id,
                     c.scope, list, sig_hex);
    if (n < 0 || (size_t)n >= auth_cap) {
        authorization[0] = '\0';
        return vt_fail(d, VT_E_BUFFER_TOO_SMALL, "sigv4.sign",
                       "the Authorization value needs %d bytes, %zu given", n + 1, auth_cap);
    }
    memcpy(amz_date, c.amz_date, 17);
    return VT_OK;
}
