/*
 * AWS Nitro Enclaves attestation documents: the COSE_Sign1 envelope and the payload map.
 *
 * SPEC: AWS nsm-api attestation document (the CDDL of "Attestation document specification" and
 * the checks of "Attestation document validation"); RFC 9052 section 4.2 (COSE_Sign1) and 4.4
 * (Sig_structure); our notes in spec/nitro_snp.md A1 (envelope) and A2 (payload).
 *
 *   COSE_Sign1 (the whole input, at most VT_NITRO_MAX_DOC_SIZE bytes, nothing after it):
 *     [d2]                  optional tag 18 (every real NSM document is untagged)
 *     84                    array(4), definite
 *       44 a1 01 38 22      protected: bstr holding exactly the map {1: -35}, alg ES384
 *       a0                  unprotected: a map (NSM writes it empty; any content is skipped)
 *       59 LL LL <payload>  payload: bstr of at most VT_NITRO_MAX_PAYLOAD_SIZE bytes
 *       58 60 <r || s>      signature: bstr of 96 bytes, raw P-384 r and s, big-endian
 *
 *   payload (the content of the payload bstr; nothing may follow the map):
 *     a9 ... | bf ... ff    map with text keys, definite or indefinite (a 2026 document)
 *       "module_id"         tstr, 1..256 bytes of UTF-8 without NUL
 *       "digest"            tstr "SHA384"
 *       "timestamp"         uint, milliseconds since the Unix epoch
 *       "pcrs"              map (definite or indefinite) of 1..32 entries:
 *                             uint 0..31 => bstr of 32, 48 or 64 bytes
 *       "certificate"       bstr 1..1024, the leaf certificate (DER)
 *       "cabundle"          array (definite or indefinite) of 1..8 bstr 1..1024, root first
 *       "public_key"        bstr 1..1024, or null, or absent
 *       "user_data"         bstr 0..1024, or null, or absent
 *       "nonce"             bstr 0..1024, or null, or absent
 *       any other text key  value skipped (must be well-formed; at most
 *                           VT_NITRO_MAX_UNKNOWN_KEYS such keys, no duplicates)
 *
 * NSM writes the nine keys in the order above, with null for an absent optional field; the
 * parser accepts any order. CBOR itself is read by src/base/cbor.c, which refuses non-minimal
 * heads and indefinite-length strings (NSM writes neither).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <veritee/limits.h>

#include "base/cbor.h"
#include "tee/nitro/nitro.h"

#include "tee/tee_internal.h"

#define COSE_TAG 18
#define ALG_ES384 (-35)

enum key_id {
    K_MODULE_ID,
    K_DIGEST,
    K_TIMESTAMP,
    K_PCRS,
    K_CERTIFICATE,
    K_CABUNDLE,
    K_PUBLIC_KEY,
    K_USER_DATA,
    K_NONCE,
    K_COUNT,
    K_UNKNOWN = K_COUNT,
};

/* The first K_REQUIRED keys must be present. */
#define K_REQUIRED (K_CABUNDLE + 1)

static const char *const key_names[K_COUNT] = {
    "module_id", "digest",     "timestamp", "pcrs",  "certificate",
    "cabundle",  "public_key", "user_data", "nonce",
};
static const char *const key_checks[K_COUNT + 1] = {
    "payload.module_id",   "payload.digest",      "payload.timestamp",  "payload.pcrs",
    "payload.certificate", "payload.cabundle",    "payload.public_key", "payload.user_data",
    "payload.nonce",       "payload.unknown_key",
};

struct view {
    const uint8_t *p;
    size_t n;
};

struct parse {
    struct vt_nitro_doc *doc;
    struct vt_diag *d;
    unsigned seen; /* bit per enum key_id */
    size_t n_unknown;
    struct view unknown[VT_NITRO_MAX_UNKNOWN_KEYS];
};

/* Printable rendering of untrusted bytes for a message: ASCII as is, the rest as \xNN. */
static const char *printable(const uint8_t *p, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o + 8 > cap) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\') {
            out[o++] = (char)p[i];
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[p[i] >> 4];
            out[o++] = hex[p[i] & 0x0f];
        }
    }
    out[o] = '\0';
    return out;
}

/* Record a failure of the CBOR reader (which records nothing) on `what`, starting at r. */
static enum vt_err cbor_fail(struct vt_diag *d, enum vt_err err, const char *check,
                             const char *what, const struct vt_reader *r)
{
    size_t off = vt_reader_offset(r);
    uint8_t b = 0;
    switch (err) {
    case VT_E_TRUNCATED:
        return vt_fail(d, err, check, "%s at offset %zu: the input ends inside the CBOR item", what,
                       off);
    case VT_E_MALFORMED:
        if (vt_reader_peek_u8(r, &b) != VT_OK) {
            b = 0;
        }
        return vt_fail(d, err, check,
                       "%s at offset %zu (initial byte 0x%02x): CBOR not accepted (reserved or "
                       "non-minimal head, indefinite-length string, integer or tag, or a misplaced "
                       "break)",
                       what, off, b);
    case VT_E_TOO_LARGE:
        return vt_fail(d, err, check,
                       "%s at offset %zu: CBOR nested deeper than %d or holding more than %d items",
                       what, off, VT_MAX_CBOR_DEPTH, VT_MAX_CBOR_ITEMS);
    default:
        return vt_fail(d, err, check, "%s at offset %zu: %s", what, off, vt_strerror(err));
    }
}

static enum vt_err get_head(struct vt_reader *r, struct vt_cbor_head *h, const char *check,
                            const char *what, struct vt_diag *d)
{
    enum vt_err err = vt_cbor_get_head(r, h);
    return err == VT_OK ? VT_OK : cbor_fail(d, err, check, what, r);
}

static enum vt_err get_string(struct vt_reader *r, const struct vt_cbor_head *h, struct view *v,
                              const char *check, const char *what, struct vt_diag *d)
{
    enum vt_err err = vt_cbor_get_string(r, h, &v->p, &v->n);
    return err == VT_OK ? VT_OK : cbor_fail(d, err, check, what, r);
}

static enum vt_err next(struct vt_reader *r, const struct vt_cbor_head *h, uint64_t done,
                        bool *more, const char *check, const char *what, struct vt_diag *d)
{
    enum vt_err err = vt_cbor_next(r, h, done, more);
    return err == VT_OK ? VT_OK : cbor_fail(d, err, check, what, r);
}

static bool is_null(const struct vt_cbor_head *h)
{
    return h->major == VT_CBOR_SIMPLE && h->info == VT_CBOR_NULL;
}

/* The head of `what` must have major type `major` (described as `want`). */
static enum vt_err expect_type(const struct vt_cbor_head *h, uint8_t major, size_t off,
                               const char *check, const char *what, const char *want,
                               struct vt_diag *d)
{
    VT_ENSURE(h->major == major, d, VT_E_BAD_FIELD, check, "%s at offset %zu: expected %s, got %s",
              what, off, want, vt_cbor_type_name(h));
    return VT_OK;
}

/* ---- the envelope ---- */

/* The value of an integer head as text ("-35"). */
static void int_text(const struct vt_cbor_head *h, char out[24])
{
    if (h->major == VT_CBOR_UINT) {
        snprintf(out, 24, "%" PRIu64, h->arg);
    } else if (h->arg == UINT64_MAX) {
        snprintf(out, 24, "-18446744073709551616");
    } else {
        snprintf(out, 24, "-%" PRIu64, h->arg + 1);
    }
}

/*
 * Look for an integer alg (label 1) in a protected header that is not exactly {1: -35}. True if
 * the header is a well-formed map naming an integer alg, which goes to alg.
 */
static bool find_alg(const struct view *prot, struct vt_cbor_head *alg)
{
    struct vt_reader r;
    vt_reader_init(&r, prot->p, prot->n);
    struct vt_cbor_head m, k, v;
    bool found = false;
    if (vt_cbor_get_head(&r, &m) != VT_OK || m.major != VT_CBOR_MAP) {
        return false;
    }
    for (uint64_t i = 0;; i++) {
        bool more;
        if (vt_cbor_next(&r, &m, i, &more) != VT_OK) {
            return false;
        }
        if (!more) {
            break;
        }
        if (vt_cbor_get_head(&r, &k) != VT_OK || vt_cbor_skip_rest(&r, &k) != VT_OK) {
            return false;
        }
        struct vt_reader t = r;
        if (vt_cbor_get_head(&t, &v) != VT_OK || vt_cbor_skip(&r) != VT_OK) {
            return false;
        }
        if (k.major == VT_CBOR_UINT && k.arg == 1 &&
            (v.major == VT_CBOR_UINT || v.major == VT_CBOR_NEGINT)) {
            *alg = v;
            found = true;
        }
    }
    return found && vt_reader_expect_end(&r) == VT_OK;
}

/* SPEC: AWS nsm-api: the protected header is {1: -35} (ES384), RFC 9052 section 3.1. */
static enum vt_err check_protected(const struct view *prot, size_t off, struct vt_diag *d)
{
    static const uint8_t es384[] = {0xa1, 0x01, 0x38, 0x22};
    if (prot->n == sizeof(es384) && memcmp(prot->p, es384, sizeof(es384)) == 0) {
        return VT_OK;
    }
    struct vt_cbor_head alg = {0};
    if (find_alg(prot, &alg) && !(alg.major == VT_CBOR_NEGINT && alg.arg == -1 - ALG_ES384)) {
        char text[24];
        int_text(&alg, text);
        return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "cose.protected",
                       "protected header at offset %zu names COSE alg %s; only ES384 (-35) is "
                       "supported",
                       off, text);
    }
    char shown[64];
    return vt_fail(d, VT_E_BAD_FIELD, "cose.protected",
                   "protected header at offset %zu is %zu bytes \"%s\"; it must be exactly the map "
                   "{1: -35} (a1 01 38 22)",
                   off, prot->n, printable(prot->p, prot->n, shown, sizeof(shown)));
}

/* A byte-string member of the COSE array; longer than `max` is VT_E_TOO_LARGE. */
static enum vt_err get_cose_bstr(struct vt_reader *r, const char *check, const char *what,
                                 uint64_t max, struct view *v, struct vt_diag *d)
{
    size_t off = vt_reader_offset(r);
    struct vt_cbor_head h;
    VT_TRY(get_head(r, &h, check, what, d));
    VT_TRY(expect_type(&h, VT_CBOR_BYTES, off, check, what, "a byte string", d));
    VT_ENSURE(h.arg <= max, d, VT_E_TOO_LARGE, check,
              "%s at offset %zu is %" PRIu64 " bytes; at most %" PRIu64 " are accepted", what, off,
              h.arg, max);
    return get_string(r, &h, v, check, what, d);
}

/* ---- payload fields ---- */

/* A text value of key k. */
static enum vt_err get_text(struct parse *ps, struct vt_reader *r, enum key_id k, struct view *v)
{
    size_t off = vt_reader_offset(r);
    struct vt_cbor_head h;
    VT_TRY(get_head(r, &h, key_checks[k], key_names[k], ps->d));
    VT_TRY(expect_type(&h, VT_CBOR_TEXT, off, key_checks[k], key_names[k], "a text string", ps->d));
    return get_string(r, &h, v, key_checks[k], key_names[k], ps->d);
}

/* A byte string of key k (or the entry `what` of it) of min..max bytes. */
static enum vt_err get_bstr(struct parse *ps, struct vt_reader *r, enum key_id k, const char *what,
                            size_t min, size_t max, struct view *v)
{
    size_t off = vt_reader_offset(r);
    struct vt_cbor_head h;
    VT_TRY(get_head(r, &h, key_checks[k], what, ps->d));
    VT_TRY(expect_type(&h, VT_CBOR_BYTES, off, key_checks[k], what, "a byte string", ps->d));
    VT_TRY(get_string(r, &h, v, key_checks[k], what, ps->d));
    VT_ENSURE(v->n >= min && v->n <= max, ps->d, VT_E_BAD_FIELD, key_checks[k],
              "%s at offset %zu has %zu bytes; expected %zu..%zu", what, off, v->n, min, max);
    return VT_OK;
}

/* public_key, user_data, nonce: a byte string of min..1024 bytes, or null (absent). */
static enum vt_err get_optional(struct parse *ps, struct vt_reader *r, enum key_id k, size_t min,
                                struct vt_nitro_bytes *out)
{
    struct vt_reader t = *r;
    struct vt_cbor_head h;
    VT_TRY(get_head(&t, &h, key_checks[k], key_names[k], ps->d));
    if (is_null(&h)) {
        /* SPEC: nitro_snp.md A2: NSM writes an absent optional field as null. */
        *r = t;
        out->present = false;
        return VT_OK;
    }
    struct view v;
    if (h.major != VT_CBOR_BYTES) {
        return vt_fail(ps->d, VT_E_BAD_FIELD, key_checks[k],
                       "%s at offset %zu: expected a byte string or null, got %s", key_names[k],
                       vt_reader_offset(r), vt_cbor_type_name(&h));
    }
    VT_TRY(get_bstr(ps, r, k, key_names[k], min, VT_NITRO_MAX_BINDING, &v));
    out->present = true;
    out->data = v.p;
    out->len = v.n;
    return VT_OK;
}

static enum vt_err parse_module_id(struct parse *ps, struct vt_reader *r)
{
    size_t off = vt_reader_offset(r);
    struct view v;
    VT_TRY(get_text(ps, r, K_MODULE_ID, &v));
    VT_ENSURE(v.n >= 1 && v.n <= VT_NITRO_MAX_MODULE_ID, ps->d, VT_E_BAD_FIELD, "payload.module_id",
              "module_id at offset %zu has %zu bytes; expected 1..%d", off, v.n,
              VT_NITRO_MAX_MODULE_ID);
    /* It becomes a claim (JSON text): valid UTF-8 (RFC 8949 section 3.1) and no NUL. */
    VT_ENSURE(vt_cbor_utf8_valid(v.p, v.n) && memchr(v.p, 0, v.n) == NULL, ps->d, VT_E_BAD_FIELD,
              "payload.module_id", "module_id at offset %zu is not UTF-8 text without NUL", off);
    ps->doc->module_id = (const char *)v.p;
    ps->doc->module_id_len = v.n;
    return VT_OK;
}

static enum vt_err parse_digest(struct parse *ps, struct vt_reader *r)
{
    size_t off = vt_reader_offset(r);
    struct view v;
    VT_TRY(get_text(ps, r, K_DIGEST, &v));
    /* SPEC: AWS nsm-api: digest is always "SHA384" in an attestation document. */
    if (v.n != 6 || memcmp(v.p, "SHA384", 6) != 0) {
        char shown[64];
        return vt_fail(ps->d, VT_E_BAD_FIELD, "payload.digest",
                       "digest at offset %zu is \"%s\"; expected \"SHA384\"", off,
                       printable(v.p, v.n, shown, sizeof(shown)));
    }
    return VT_OK;
}

static enum vt_err parse_timestamp(struct parse *ps, struct vt_reader *r)
{
    size_t off = vt_reader_offset(r);
    struct vt_cbor_head h;
    VT_TRY(get_head(r, &h, "payload.timestamp", "timestamp", ps->d));
    VT_TRY(expect_type(&h, VT_CBOR_UINT, off, "payload.timestamp", "timestamp",
                       "an unsigned integer", ps->d));
    ps->doc->timestamp_ms = h.arg;
    return VT_OK;
}

/* SPEC: AWS nsm-api CDDL: pcrs = { + index => pcr }, index 0..31, pcr 32/48/64 bytes. */
static enum vt_err parse_pcrs(struct parse *ps, struct vt_reader *r)
{
    static const char check[] = "payload.pcrs";
    struct vt_diag *d = ps->d;
    size_t off = vt_reader_offset(r);
    struct vt_cbor_head m;
    VT_TRY(get_head(r, &m, check, "pcrs", d));
    VT_TRY(expect_type(&m, VT_CBOR_MAP, off, check, "pcrs", "a map of index to byte string", d));
    VT_ENSURE(m.indefinite || (m.arg >= 1 && m.arg <= VT_NITRO_MAX_PCRS), d, VT_E_BAD_FIELD, check,
              "pcrs at offset %zu has %" PRIu64 " entries; expected 1..%d", off, m.arg,
              VT_NITRO_MAX_PCRS);
    struct view by_index[VT_NITRO_MAX_PCRS];
    uint32_t present = 0;
    size_t count = 0;
    for (uint64_t i = 0;; i++) {
        bool more;
        VT_TRY(next(r, &m, i, &more, check, "pcrs", d));
        if (!more) {
            break;
        }
        VT_ENSURE(count < VT_NITRO_MAX_PCRS, d, VT_E_BAD_FIELD, check,
                  "pcrs at offset %zu has more than %d entries", off, VT_NITRO_MAX_PCRS);
        size_t koff = vt_reader_offset(r);
        struct vt_cbor_head k;
        VT_TRY(get_head(r, &k, check, "pcrs index", d));
        VT_TRY(expect_type(&k, VT_CBOR_UINT, koff, check, "pcrs index", "an unsigned integer", d));
        VT_ENSURE(k.arg < VT_NITRO_MAX_PCRS, d, VT_E_BAD_FIELD, check,
                  "pcrs index %" PRIu64 " at offset %zu is beyond %d", k.arg, koff,
                  VT_NITRO_MAX_PCRS - 1);
        unsigned idx = (unsigned)k.arg;
        VT_ENSURE(!(present & (1u << idx)), d, VT_E_DUPLICATE, check,
                  "pcrs index %u at offset %zu appears twice", idx, koff);
        char what[24];
        snprintf(what, sizeof(what), "PCR%u", idx);
        size_t voff = vt_reader_offset(r);
        struct view v;
        VT_TRY(get_bstr(ps, r, K_PCRS, what, 0, SIZE_MAX, &v));
        VT_ENSURE(v.n == 32 || v.n == 48 || v.n == 64, d, VT_E_BAD_FIELD, check,
                  "%s at offset %zu has %zu bytes; expected 32, 48 or 64", what, voff, v.n);
        present |= 1u << idx;
        by_index[idx] = v;
        count++;
    }
    VT_ENSURE(count > 0, d, VT_E_BAD_FIELD, check,
              "pcrs at offset %zu is empty; expected 1..%d entries", off, VT_NITRO_MAX_PCRS);
    /* Stored in ascending index order, whatever order the map had. */
    struct vt_nitro_doc *doc = ps->doc;
    doc->n_pcrs = 0;
    for (unsigned idx = 0; idx < VT_NITRO_MAX_PCRS; idx++) {
        if (present & (1u << idx)) {
            struct vt_nitro_pcr *p = &doc->pcrs[doc->n_pcrs++];
            p->index = (uint8_t)idx;
            p->value = by_index[idx].p;
            p->len = by_index[idx].n;
        }
    }
    return VT_OK;
}

/* SPEC: AWS nsm-api CDDL: cabundle = [* cert], cert 1..1024 bytes; nitro_snp.md A2, root first. */
static enum vt_err parse_cabundle(struct parse *ps, struct vt_reader *r)
{
    static const char check[] = "payload.cabundle";
    struct vt_diag *d = ps->d;
    size_t off = vt_reader_offset(r);
    struct vt_cbor_head a;
    VT_TRY(get_head(r, &a, check, "cabundle", d));
    VT_TRY(expect_type(&a, VT_CBOR_ARRAY, off, check, "cabundle", "an array of byte strings", d));
    VT_ENSURE(a.indefinite || (a.arg >= 1 && a.arg <= VT_NITRO_MAX_CABUNDLE), d, VT_E_BAD_FIELD,
              check, "cabundle at offset %zu has %" PRIu64 " certificates; expected 1..%d", off,
              a.arg, VT_NITRO_MAX_CABUNDLE);
    struct vt_nitro_doc *doc = ps->doc;
    doc->n_cabundle = 0;
    for (uint64_t i = 0;; i++) {
        bool more;
        VT_TRY(next(r, &a, i, &more, check, "cabundle", d));
        if (!more) {
            break;
        }
        VT_ENSURE(doc->n_cabundle < VT_NITRO_MAX_CABUNDLE, d, VT_E_BAD_FIELD, check,
                  "cabundle at offset %zu has more than %d certificates", off,
                  VT_NITRO_MAX_CABUNDLE);
        char what[24];
        snprintf(what, sizeof(what), "cabundle[%zu]", doc->n_cabundle);
        struct view v;
        VT_TRY(get_bstr(ps, r, K_CABUNDLE, what, 1, VT_NITRO_MAX_CERT_SIZE, &v));
        struct vt_nitro_bytes *b = &doc->cabundle[doc->n_cabundle++];
        b->present = true;
        b->data = v.p;
        b->len = v.n;
    }
    VT_ENSURE(doc->n_cabundle > 0, d, VT_E_BAD_FIELD, check,
              "cabundle at offset %zu is empty; expected 1..%d certificates", off,
              VT_NITRO_MAX_CABUNDLE);
    return VT_OK;
}

/* A key the parser does not know: remembered (for duplicates) and its value skipped. */
static enum vt_err parse_unknown(struct parse *ps, struct vt_reader *r, const struct view *key,
                                 size_t koff)
{
    static const char check[] = "payload.unknown_key";
    char shown[80];
    printable(key->p, key->n, shown, sizeof(shown));
    for (size_t i = 0; i < ps->n_unknown; i++) {
        const struct view *u = &ps->unknown[i];
        VT_ENSURE(u->n != key->n || (key->n > 0 && memcmp(u->p, key->p, key->n) != 0), ps->d,
                  VT_E_DUPLICATE, check, "payload key \"%s\" at offset %zu appears twice", shown,
                  koff);
    }
    VT_ENSURE(ps->n_unknown < VT_NITRO_MAX_UNKNOWN_KEYS, ps->d, VT_E_TOO_LARGE, check,
              "payload key \"%s\" at offset %zu: more than %d unknown keys", shown, koff,
              VT_NITRO_MAX_UNKNOWN_KEYS);
    ps->unknown[ps->n_unknown++] = *key;
    enum vt_err err = vt_cbor_skip(r);
    if (err != VT_OK) {
        char what[112];
        snprintf(what, sizeof(what), "value of payload key \"%s\"", shown);
        return cbor_fail(ps->d, err, check, what, r);
    }
    return VT_OK;
}

static enum key_id key_lookup(const struct view *key)
{
    for (unsigned k = 0; k < K_COUNT; k++) {
        size_t n = strlen(key_names[k]);
        if (key->n == n && memcmp(key->p, key_names[k], n) == 0) {
            return (enum key_id)k;
        }
    }
    return K_UNKNOWN;
}

static enum vt_err parse_value(struct parse *ps, struct vt_reader *r, enum key_id k)
{
    struct vt_nitro_doc *doc = ps->doc;
    struct view v;
    switch (k) {
    case K_MODULE_ID:
        return parse_module_id(ps, r);
    case K_DIGEST:
        return parse_digest(ps, r);
    case K_TIMESTAMP:
        return parse_timestamp(ps, r);
    case K_PCRS:
        return parse_pcrs(ps, r);
    case K_CERTIFICATE:
        VT_TRY(get_bstr(ps, r, K_CERTIFICATE, "certificate", 1, VT_NITRO_MAX_CERT_SIZE, &v));
        doc->certificate = v.p;
        doc->certificate_len = v.n;
        return VT_OK;
    case K_CABUNDLE:
        return parse_cabundle(ps, r);
    case K_PUBLIC_KEY:
        return get_optional(ps, r, K_PUBLIC_KEY, 1, &doc->public_key);
    case K_USER_DATA:
        return get_optional(ps, r, K_USER_DATA, 0, &doc->user_data);
    case K_NONCE:
        return get_optional(ps, r, K_NONCE, 0, &doc->nonce);
    default:
        return vt_fail(ps->d, VT_E_INTERNAL, "payload", "no parser for key %d", (int)k);
    }
}

/* The payload map, over the content of the payload bstr. */
static enum vt_err parse_payload(struct parse *ps, struct vt_reader *r)
{
    struct vt_diag *d = ps->d;
    size_t off = vt_reader_offset(r);
    struct vt_cbor_head m;
    VT_TRY(get_head(r, &m, "payload", "payload", d));
    VT_TRY(expect_type(&m, VT_CBOR_MAP, off, "payload", "payload", "a map", d));
    for (uint64_t i = 0;; i++) {
        bool more;
        VT_TRY(next(r, &m, i, &more, "payload", "payload map", d));
        if (!more) {
            break;
        }
        size_t koff = vt_reader_offset(r);
        struct vt_cbor_head kh;
        struct view key;
        VT_TRY(get_head(r, &kh, "payload.key", "payload key", d));
        /* SPEC: AWS nsm-api CDDL: every key of the attestation document is a text string. */
        VT_TRY(
            expect_type(&kh, VT_CBOR_TEXT, koff, "payload.key", "payload key", "a text string", d));
        VT_TRY(get_string(r, &kh, &key, "payload.key", "payload key", d));
        enum key_id k = key_lookup(&key);
        if (k == K_UNKNOWN) {
            /* Ignored: the key is signed, so ignoring it cannot change what was attested. */
            VT_TRY(parse_unknown(ps, r, &key, koff));
            continue;
        }
        VT_ENSURE(!(ps->seen & (1u << k)), d, VT_E_DUPLICATE, key_checks[k],
                  "payload key %s at offset %zu appears twice", key_names[k], koff);
        ps->seen |= 1u << k;
        VT_TRY(parse_value(ps, r, k));
    }
    VT_ENSURE(vt_reader_left(r) == 0, d, VT_E_TRAILING_DATA, "payload",
              "%zu bytes follow the payload map at offset %zu inside the payload byte string",
              vt_reader_left(r), vt_reader_offset(r));
    for (unsigned k = 0; k < K_REQUIRED; k++) {
        VT_ENSURE(ps->seen & (1u << k), d, VT_E_MISSING_FIELD, key_checks[k],
                  "the payload map at offset %zu has no %s", off, key_names[k]);
    }
    return VT_OK;
}

static enum vt_err parse_document(const uint8_t *p, size_t n, struct vt_nitro_doc *doc,
                                  struct vt_diag *d)
{
    /* SPEC: AWS nsm-api CDDL: the payload is at most 16 KiB; the envelope adds under 4 KiB. */
    VT_ENSURE(n <= VT_NITRO_MAX_DOC_SIZE, d, VT_E_TOO_LARGE, "document.size",
              "the document is %zu bytes; at most %u are accepted", n, VT_NITRO_MAX_DOC_SIZE);
    struct vt_reader r;
    vt_reader_init(&r, p, n);
    struct vt_cbor_head h;
    VT_TRY(get_head(&r, &h, "cose", "COSE_Sign1", d));
    if (h.major == VT_CBOR_TAG) {
        /* SPEC: RFC 9052 section 4.2: COSE_Sign1_Tagged is tag 18. */
        VT_ENSURE(h.arg == COSE_TAG, d, VT_E_BAD_FIELD, "cose.tag",
                  "the document starts with tag %" PRIu64 "; only 18 (COSE_Sign1) is accepted",
                  h.arg);
        doc->tagged = true;
        VT_TRY(get_head(&r, &h, "cose", "COSE_Sign1", d));
    }
    size_t off = doc->tagged ? 1 : 0;
    VT_TRY(expect_type(&h, VT_CBOR_ARRAY, off, "cose", "COSE_Sign1", "an array", d));
    VT_ENSURE(!h.indefinite && h.arg == 4, d, VT_E_BAD_FIELD, "cose",
              "the COSE_Sign1 array at offset %zu has %s%" PRIu64
              " elements; expected a definite array of 4",
              off, h.indefinite ? "indefinite length, " : "", h.arg);

    struct view prot, payload, sig;
    size_t prot_off = vt_reader_offset(&r);
    VT_TRY(get_cose_bstr(&r, "cose.protected", "protected header", UINT64_MAX, &prot, d));
    VT_TRY(check_protected(&prot, prot_off, d));

    size_t unprot_off = vt_reader_offset(&r);
    VT_TRY(get_head(&r, &h, "cose.unprotected", "unprotected header", d));
    VT_TRY(expect_type(&h, VT_CBOR_MAP, unprot_off, "cose.unprotected", "unprotected header",
                       "a map", d));
    enum vt_err err = vt_cbor_skip_rest(&r, &h);
    if (err != VT_OK) {
        return cbor_fail(d, err, "cose.unprotected", "unprotected header", &r);
    }

    /* SPEC: AWS nsm-api CDDL: the payload is at most 16 KiB. */
    VT_TRY(get_cose_bstr(&r, "cose.payload", "payload", VT_NITRO_MAX_PAYLOAD_SIZE, &payload, d));

    size_t sig_off = vt_reader_offset(&r);
    VT_TRY(get_cose_bstr(&r, "cose.signature", "signature", UINT64_MAX, &sig, d));
    /* SPEC: nitro_snp.md A1: ES384 signatures are raw r || s, 48 bytes each. */
    VT_ENSURE(sig.n == VT_NITRO_SIG_SIZE, d, VT_E_BAD_FIELD, "cose.signature",
              "the signature at offset %zu has %zu bytes; expected %d (raw P-384 r || s)", sig_off,
              sig.n, VT_NITRO_SIG_SIZE);
    VT_ENSURE(vt_reader_left(&r) == 0, d, VT_E_TRAILING_DATA, "cose",
              "%zu bytes follow the COSE_Sign1 array (offset %zu)", vt_reader_left(&r),
              vt_reader_offset(&r));

    doc->protected_hdr = prot.p;
    doc->protected_len = prot.n;
    doc->payload = payload.p;
    doc->payload_len = payload.n;
    doc->signature = sig.p;

    /* The payload, read in place: offsets stay relative to the document. */
    struct vt_reader pr;
    vt_reader_init_within(&pr, &r, payload.p, payload.n);
    struct parse ps = {.doc = doc, .d = d};
    return parse_payload(&ps, &pr);
}

enum vt_err vt_nitro_doc_parse(const uint8_t *p, size_t n, struct vt_nitro_doc *doc,
                               struct vt_diag *d)
{
    VT_PARSE_COUNT(nitro_doc);
    VT_ENSURE(doc != NULL, d, VT_E_ARG, "document", "NULL output");
    memset(doc, 0, sizeof(*doc));
    VT_ENSURE(p != NULL || n == 0, d, VT_E_ARG, "document", "NULL input of %zu bytes", n);
    enum vt_err err = parse_document(p, n, doc, d);
    if (err != VT_OK) {
        memset(doc, 0, sizeof(*doc));
    }
    return err;
}

/* Append one head and then `len` bytes of `data` (if not NULL) at out[*pos]; cap is checked by
 * the caller. */
static void put(uint8_t *out, size_t *pos, int major, uint64_t arg, const void *data, size_t len)
{
    if (major >= 0) {
        uint8_t head[VT_CBOR_HEAD_MAX];
        size_t hn = vt_cbor_encode_head((uint8_t)major, arg, head);
        memcpy(out + *pos, head, hn);
        *pos += hn;
    }
    if (len > 0) {
        memcpy(out + *pos, data, len);
        *pos += len;
    }
}

static size_t head_len(uint64_t arg)
{
    uint8_t head[VT_CBOR_HEAD_MAX];
    return vt_cbor_encode_head(VT_CBOR_BYTES, arg, head);
}

enum vt_err vt_nitro_sig_structure(const struct vt_nitro_doc *doc, uint8_t *out, size_t cap,
                                   size_t *len)
{
    /* SPEC: RFC 9052 section 4.4: Sig_structure = ["Signature1", body_protected,
     * external_aad, payload], with the protected header and payload as the original bytes. */
    static const char context[] = "Signature1";
    const size_t ctx_len = sizeof(context) - 1;
    if (doc == NULL || out == NULL || len == NULL ||
        (doc->protected_hdr == NULL && doc->protected_len > 0) ||
        (doc->payload == NULL && doc->payload_len > 0)) {
        return VT_E_ARG;
    }
    if (doc->protected_len > VT_NITRO_MAX_DOC_SIZE || doc->payload_len > VT_NITRO_MAX_DOC_SIZE) {
        return VT_E_ARG; /* not from vt_nitro_doc_parse; also keeps the sum below from wrapping */
    }
    size_t total = 1 + 1 + ctx_len + head_len(doc->protected_len) + doc->protected_len + 1 +
                   head_len(doc->payload_len) + doc->payload_len;
    if (cap < total) {
        return VT_E_BUFFER_TOO_SMALL;
    }
    size_t pos = 0;
    put(out, &pos, VT_CBOR_ARRAY, 4, NULL, 0);
    put(out, &pos, VT_CBOR_TEXT, ctx_len, context, ctx_len);
    put(out, &pos, VT_CBOR_BYTES, doc->protected_len, doc->protected_hdr, doc->protected_len);
    put(out, &pos, VT_CBOR_BYTES, 0, NULL, 0); /* external_aad: h'' */
    put(out, &pos, VT_CBOR_BYTES, doc->payload_len, doc->payload, doc->payload_len);
    *len = pos;
    return VT_OK;
}
