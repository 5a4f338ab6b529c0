/*
 * The certificate extensions of attested TLS: OIDs, readers and writers (atls_format.h).
 */
#include <stdlib.h>
#include <string.h>

#include "base/cbor.h"
#include "base/der.h"
#include "base/reader.h"
#include "verify/atls_format.h"

struct oid_format {
    const char *oid;
    enum vt_atls_format format;
    bool unsupported;
};

static const struct oid_format oid_formats[] = {
    {VT_ATLS_OID_SGX_QUOTE, VT_ATLS_RATLS_SGX, false},
    {VT_ATLS_OID_GRAMINE_QUOTE_RAW, VT_ATLS_RATLS_SGX, false},
    {VT_ATLS_OID_GRAMINE_QUOTE, VT_ATLS_RATLS_SGX, false},
    {VT_ATLS_OID_TDX_QUOTE, VT_ATLS_RATLS_TDX, false},
    {VT_ATLS_OID_OE_REPORT, VT_ATLS_OE, false},
    {VT_ATLS_OID_CMW, VT_ATLS_CMW, false},
    {VT_ATLS_OID_BROKER, VT_ATLS_BROKER, false},
    {VT_ATLS_OID_TCG_DICE_CMW, VT_ATLS_CMW, true},
    {VT_ATLS_OID_OE_EVIDENCE, VT_ATLS_OE, true},
};

enum vt_atls_format vt_atls_oid_format(const char *oid, bool *unsupported)
{
    if (unsupported != NULL) {
        *unsupported = false;
    }
    for (size_t i = 0; oid != NULL && i < sizeof(oid_formats) / sizeof(oid_formats[0]); i++) {
        if (strcmp(oid, oid_formats[i].oid) == 0) {
            if (unsupported != NULL) {
                *unsupported = oid_formats[i].unsupported;
            }
            return oid_formats[i].format;
        }
    }
    return VT_ATLS_NONE;
}

/* ---- RA-TLS: the quote is the extension's value ---- */

static enum vt_err read_ratls(enum vt_atls_format f, const uint8_t *p, size_t n,
                              struct vt_atls_evidence *out, struct vt_diag *d)
{
    const char *check = f == VT_ATLS_RATLS_SGX ? "atls.ratls-sgx.quote" : "atls.ratls-tdx.quote";
    VT_ENSURE(n > 0, d, VT_E_MISSING_FIELD, check, "the extension is empty");
    out->evidence = p;
    out->evidence_len = n;
    return VT_OK;
}

/* ---- Open Enclave: oe_report_header_t (little-endian) then the quote ---- */

static enum vt_err read_oe(const uint8_t *p, size_t n, struct vt_atls_evidence *out,
                           struct vt_diag *d)
{
    VT_ENSURE(n >= VT_ATLS_OE_HEADER_LEN, d, VT_E_TRUNCATED, "atls.oe.header",
              "%zu bytes, the OE report header alone is %u", n, VT_ATLS_OE_HEADER_LEN);
    struct vt_reader r;
    vt_reader_init(&r, p, n);
    uint32_t version = 0, type = 0;
    uint64_t size = 0;
    VT_TRY(vt_reader_get_u32le(&r, &version));
    VT_TRY(vt_reader_get_u32le(&r, &type));
    VT_TRY(vt_reader_get_u64le(&r, &size));
    VT_ENSURE(version == VT_ATLS_OE_HEADER_VERSION, d, VT_E_UNSUPPORTED_VERSION,
              "atls.oe.header.version", "OE report header version %u, expected %u", version,
              VT_ATLS_OE_HEADER_VERSION);
    VT_ENSURE(type == VT_ATLS_OE_REPORT_REMOTE, d, VT_E_UNSUPPORTED, "atls.oe.header.report_type",
              "OE report type %u, expected %u (SGX remote report)", type, VT_ATLS_OE_REPORT_REMOTE);
    size_t left = n - VT_ATLS_OE_HEADER_LEN;
    VT_ENSURE(size == left, d, VT_E_BAD_LENGTH, "atls.oe.header.report_size",
              "report_size %llu, %zu bytes follow the header", (unsigned long long)size, left);
    VT_ENSURE(size > 0, d, VT_E_MISSING_FIELD, "atls.oe.header.report_size",
              "the OE report is empty");
    out->evidence = p + VT_ATLS_OE_HEADER_LEN;
    out->evidence_len = left;
    return VT_OK;
}

/* ---- CMW: a DER OCTET STRING holding a CBOR collection ---- */

static enum vt_err cbor_text(struct vt_reader *r, const char *check, const uint8_t **s, size_t *len,
                             struct vt_diag *d)
{
    struct vt_cbor_head h;
    enum vt_err err = vt_cbor_get_head(r, &h);
    VT_ENSURE(err == VT_OK, d, err, check, "cannot read a CBOR item (%s)", vt_err_name(err));
    VT_ENSURE(h.major == VT_CBOR_TEXT && !h.indefinite, d, VT_E_BAD_FIELD, check,
              "a %s, expected a definite text string", vt_cbor_type_name(&h));
    err = vt_cbor_get_string(r, &h, s, len);
    VT_ENSURE(err == VT_OK, d, err, check, "truncated text string");
    VT_ENSURE(vt_cbor_utf8_valid(*s, *len), d, VT_E_BAD_FIELD, check, "text is not UTF-8");
    return VT_OK;
}

static bool text_is(const uint8_t *s, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(s, want, n) == 0;
}

/* One CMW record [type, value, ?indicator] whose type must be want_type. */
static enum vt_err read_record(struct vt_reader *r, const char *label, const char *want_type,
                               unsigned want_ind, const uint8_t **val, size_t *val_len,
                               struct vt_diag *d)
{
    struct vt_cbor_head h;
    enum vt_err err = vt_cbor_get_head(r, &h);
    VT_ENSURE(err == VT_OK, d, err, "atls.cmw.record", "%s: cannot read the record", label);
    VT_ENSURE(h.major == VT_CBOR_ARRAY && !h.indefinite && (h.arg == 2 || h.arg == 3), d,
              VT_E_BAD_FIELD, "atls.cmw.record",
              "%s: a %s of %llu items, expected an array [type, value, ?indicator]", label,
              vt_cbor_type_name(&h), (unsigned long long)h.arg);
    const uint8_t *type = NULL;
    size_t type_len = 0;
    VT_TRY(cbor_text(r, "atls.cmw.record.type", &type, &type_len, d));
    VT_ENSURE(text_is(type, type_len, want_type), d, VT_E_BAD_FIELD, "atls.cmw.record.type",
              "%s: type \"%.*s\", expected \"%s\"", label, (int)(type_len > 80 ? 80 : type_len),
              (const char *)type, want_type);
    struct vt_cbor_head v;
    err = vt_cbor_get_head(r, &v);
    VT_ENSURE(err == VT_OK, d, err, "atls.cmw.record.value", "%s: cannot read the value", label);
    VT_ENSURE(v.major == VT_CBOR_BYTES && !v.indefinite, d, VT_E_BAD_FIELD, "atls.cmw.record.value",
              "%s: a %s, expected a byte string", label, vt_cbor_type_name(&v));
    err = vt_cbor_get_string(r, &v, val, val_len);
    VT_ENSURE(err == VT_OK, d, err, "atls.cmw.record.value", "%s: truncated value", label);
    VT_ENSURE(*val_len > 0, d, VT_E_MISSING_FIELD, "atls.cmw.record.value", "%s: empty value",
              label);
    if (h.arg == 3) {
        struct vt_cbor_head ind;
        err = vt_cbor_get_head(r, &ind);
        VT_ENSURE(err == VT_OK, d, err, "atls.cmw.record.indicator",
                  "%s: cannot read the indicator", label);
        VT_ENSURE(ind.major == VT_CBOR_UINT && ind.arg == want_ind, d, VT_E_BAD_FIELD,
                  "atls.cmw.record.indicator", "%s: indicator %s %llu, expected %u", label,
                  vt_cbor_type_name(&ind), (unsigned long long)ind.arg, want_ind);
    }
    return VT_OK;
}

static enum vt_err read_cmw(const uint8_t *p, size_t n, struct vt_atls_evidence *out,
                            struct vt_diag *d)
{
    struct vt_reader outer, r;
    vt_reader_init(&outer, p, n);
    enum vt_err err = vt_der_expect(&outer, 0x04, &r);
    VT_ENSURE(err == VT_OK, d, err == VT_E_TRUNCATED ? err : VT_E_BAD_DER, "atls.cmw.octet_string",
              "the id-pe-cmw value is not a DER OCTET STRING (the CBOR choice): %s",
              vt_err_name(err));
    VT_ENSURE(vt_reader_left(&outer) == 0, d, VT_E_TRAILING_DATA, "atls.cmw.octet_string",
              "%zu bytes after the OCTET STRING", vt_reader_left(&outer));
    struct vt_cbor_head m;
    err = vt_cbor_get_head(&r, &m);
    VT_ENSURE(err == VT_OK, d, err, "atls.cmw.collection", "cannot read the CBOR head (%s)",
              vt_err_name(err));
    VT_ENSURE(m.major == VT_CBOR_MAP && !m.indefinite, d, VT_E_BAD_FIELD, "atls.cmw.collection",
              "a %s, expected a definite CBOR map (a CMW collection)", vt_cbor_type_name(&m));
    VT_ENSURE(m.arg >= 2 && m.arg <= VT_ATLS_CMW_ITEMS_MAX, d, VT_E_BAD_FIELD,
              "atls.cmw.collection", "%llu entries, expected 2 to %u", (unsigned long long)m.arg,
              VT_ATLS_CMW_ITEMS_MAX);
    bool seen_type = false, seen_vcek = false;
    memset(out, 0, sizeof(*out));
    for (uint64_t i = 0; i < m.arg; i++) {
        const uint8_t *label = NULL;
        size_t label_len = 0;
        VT_TRY(cbor_text(&r, "atls.cmw.label", &label, &label_len, d));
        if (text_is(label, label_len, "__cmwc_t")) {
            VT_ENSURE(!seen_type, d, VT_E_DUPLICATE, "atls.cmw.label", "__cmwc_t twice");
            seen_type = true;
            const uint8_t *t = NULL;
            size_t tl = 0;
            VT_TRY(cbor_text(&r, "atls.cmw.type", &t, &tl, d));
            VT_ENSURE(text_is(t, tl, VT_ATLS_CMW_COLLECTION_TYPE), d, VT_E_UNSUPPORTED,
                      "atls.cmw.type", "collection type \"%.*s\", expected \"%s\"",
                      (int)(tl > 80 ? 80 : tl), (const char *)t, VT_ATLS_CMW_COLLECTION_TYPE);
        } else if (text_is(label, label_len, "snp-report") ||
                   text_is(label, label_len, "nitro-document")) {
            bool snp = label[0] == 's';
            VT_ENSURE(out->evidence == NULL, d, VT_E_DUPLICATE, "atls.cmw.evidence",
                      "a second evidence record (%s)", snp ? "snp-report" : "nitro-document");
            VT_TRY(read_record(&r, snp ? "snp-report" : "nitro-document",
                               snp ? VT_ATLS_CMW_SNP_TYPE : VT_ATLS_CMW_NITRO_TYPE,
                               VT_ATLS_CMW_IND_EVIDENCE, &out->evidence, &out->evidence_len, d));
            out->tee = snp ? VT_TEE_SEV_SNP : VT_TEE_NITRO;
        } else if (text_is(label, label_len, "vcek")) {
            VT_ENSURE(!seen_vcek, d, VT_E_DUPLICATE, "atls.cmw.label", "vcek twice");
            seen_vcek = true;
            VT_TRY(read_record(&r, "vcek", VT_ATLS_CMW_VCEK_TYPE, VT_ATLS_CMW_IND_ENDORSEMENTS,
                               &out->vcek, &out->vcek_len, d));
        } else {
            return vt_fail(d, VT_E_BAD_FIELD, "atls.cmw.label",
                           "unknown label \"%.*s\" (known: __cmwc_t, snp-report, "
                           "nitro-document, vcek)",
                           (int)(label_len > 80 ? 80 : label_len), (const char *)label);
        }
    }
    VT_ENSURE(vt_reader_left(&r) == 0, d, VT_E_TRAILING_DATA, "atls.cmw.collection",
              "%zu bytes after the CBOR map", vt_reader_left(&r));
    VT_ENSURE(seen_type, d, VT_E_MISSING_FIELD, "atls.cmw.type", "no __cmwc_t");
    VT_ENSURE(out->evidence != NULL, d, VT_E_MISSING_FIELD, "atls.cmw.evidence",
              "no snp-report or nitro-document record");
    VT_ENSURE(!seen_vcek || out->tee == VT_TEE_SEV_SNP, d, VT_E_BAD_FIELD, "atls.cmw.label",
              "a vcek record beside a Nitro document");
    return VT_OK;
}

enum vt_err vt_atls_ext_read(enum vt_atls_format f, const uint8_t *p, size_t n,
                             struct vt_atls_evidence *out, struct vt_diag *d)
{
    VT_ENSURE(out != NULL && (p != NULL || n == 0), d, VT_E_ARG, "atls.extension",
              "no extension or output");
    memset(out, 0, sizeof(*out));
    VT_ENSURE(n <= VT_ATLS_EXT_MAX, d, VT_E_TOO_LARGE, "atls.extension", "%zu bytes, at most %u", n,
              VT_ATLS_EXT_MAX);
    switch (f) {
    case VT_ATLS_RATLS_SGX:
    case VT_ATLS_RATLS_TDX:
        return read_ratls(f, p, n, out, d);
    case VT_ATLS_OE:
        return read_oe(p, n, out, d);
    case VT_ATLS_CMW:
        return read_cmw(p, n, out, d);
    case VT_ATLS_NONE:
    case VT_ATLS_BROKER:
        break;
    }
    return vt_fail(d, VT_E_ARG, "atls.extension", "format %s carries no evidence",
                   vt_atls_format_name(f));
}

/* ---- writers ---- */

static enum vt_err put_head(struct vt_buf *b, uint8_t major, uint64_t arg)
{
    uint8_t h[VT_CBOR_HEAD_MAX];
    size_t n = vt_cbor_encode_head(major, arg, h);
    return vt_buf_append(b, h, n);
}

static enum vt_err put_text(struct vt_buf *b, const char *s)
{
    VT_TRY(put_head(b, VT_CBOR_TEXT, strlen(s)));
    return vt_buf_append(b, s, strlen(s));
}

static enum vt_err put_record(struct vt_buf *b, const char *label, const char *type,
                              const uint8_t *v, size_t n, unsigned ind)
{
    VT_TRY(put_text(b, label));
    VT_TRY(put_head(b, VT_CBOR_ARRAY, 3));
    VT_TRY(put_text(b, type));
    VT_TRY(put_head(b, VT_CBOR_BYTES, n));
    VT_TRY(vt_buf_append(b, v, n));
    return put_head(b, VT_CBOR_UINT, ind);
}

static enum vt_err der_len(struct vt_buf *b, size_t n)
{
    uint8_t l[5];
    size_t k = 0;
    if (n < 0x80) {
        l[k++] = (uint8_t)n;
    } else if (n <= 0xff) {
        l[k++] = 0x81;
        l[k++] = (uint8_t)n;
    } else if (n <= 0xffff) {
        l[k++] = 0x82;
        l[k++] = (uint8_t)(n >> 8);
        l[k++] = (uint8_t)n;
    } else {
        l[k++] = 0x83;
        l[k++] = (uint8_t)(n >> 16);
        l[k++] = (uint8_t)(n >> 8);
        l[k++] = (uint8_t)n;
    }
    return vt_buf_append(b, l, k);
}

static enum vt_err write_all(enum vt_atls_format f, enum vt_tee tee, const uint8_t *ev, size_t n,
                             const uint8_t *vcek, size_t vcek_len, struct vt_buf *out)
{
    if (f == VT_ATLS_RATLS_SGX || f == VT_ATLS_RATLS_TDX) {
        return vt_buf_append(out, ev, n);
    }
    if (f == VT_ATLS_OE) {
        uint8_t h[VT_ATLS_OE_HEADER_LEN] = {0};
        h[0] = VT_ATLS_OE_HEADER_VERSION;
        h[4] = VT_ATLS_OE_REPORT_REMOTE;
        for (size_t i = 0; i < 8; i++) {
            h[8 + i] = (uint8_t)((uint64_t)n >> (8 * i));
        }
        VT_TRY(vt_buf_append(out, h, sizeof(h)));
        return vt_buf_append(out, ev, n);
    }
    struct vt_buf cbor;
    vt_buf_init(&cbor, VT_ATLS_EXT_MAX);
    bool snp = tee == VT_TEE_SEV_SNP;
    enum vt_err err = put_head(&cbor, VT_CBOR_MAP, snp && vcek_len > 0 ? 3 : 2);
    if (err == VT_OK) {
        err = put_text(&cbor, "__cmwc_t");
    }
    if (err == VT_OK) {
        err = put_text(&cbor, VT_ATLS_CMW_COLLECTION_TYPE);
    }
    if (err == VT_OK) {
        err = put_record(&cbor, snp ? "snp-report" : "nitro-document",
                         snp ? VT_ATLS_CMW_SNP_TYPE : VT_ATLS_CMW_NITRO_TYPE, ev, n,
                         VT_ATLS_CMW_IND_EVIDENCE);
    }
    if (err == VT_OK && snp && vcek_len > 0) {
        err = put_record(&cbor, "vcek", VT_ATLS_CMW_VCEK_TYPE, vcek, vcek_len,
                         VT_ATLS_CMW_IND_ENDORSEMENTS);
    }
    uint8_t tag = 0x04;
    if (err == VT_OK) {
        err = vt_buf_append(out, &tag, 1);
    }
    if (err == VT_OK) {
        err = der_len(out, cbor.len);
    }
    if (err == VT_OK) {
        err = vt_buf_append(out, cbor.data, cbor.len);
    }
    vt_buf_cleanup(&cbor);
    return err;
}

enum vt_err vt_atls_ext_write(enum vt_atls_format f, enum vt_tee tee, const uint8_t *evidence,
                              size_t evidence_len, const uint8_t *vcek, size_t vcek_len,
                              struct vt_buf *out, struct vt_diag *d)
{
    VT_ENSURE(evidence != NULL && evidence_len > 0 && out != NULL, d, VT_E_ARG, "atls.extension",
              "no evidence or output");
    VT_ENSURE(f == VT_ATLS_RATLS_SGX || f == VT_ATLS_RATLS_TDX || f == VT_ATLS_OE ||
                  (f == VT_ATLS_CMW && (tee == VT_TEE_SEV_SNP || tee == VT_TEE_NITRO)),
              d, VT_E_ARG, "atls.extension", "format %s cannot carry %s evidence",
              vt_atls_format_name(f), vt_tee_name(tee));
    enum vt_err err = write_all(f, tee, evidence, evidence_len, vcek, vcek_len, out);
    VT_ENSURE(err == VT_OK, d, err, "atls.extension", "cannot write the %s extension (%zu bytes)",
              vt_atls_format_name(f), evidence_len);
    VT_ENSURE(out->len <= VT_ATLS_EXT_MAX, d, VT_E_TOO_LARGE, "atls.extension",
              "the %s extension is %zu bytes, at most %u", vt_atls_format_name(f), out->len,
              VT_ATLS_EXT_MAX);
    return VT_OK;
}

/* ---- the broker's extension ---- */

enum vt_err vt_atls_broker_ext_text(const uint8_t *p, size_t n, char **json, size_t *json_len,
                                    struct vt_diag *d)
{
    VT_ENSURE(json != NULL && json_len != NULL, d, VT_E_ARG, "atls.broker.extension", "no output");
    *json = NULL;
    *json_len = 0;
    VT_ENSURE(n <= VT_ATLS_EXT_MAX, d, VT_E_TOO_LARGE, "atls.broker.extension",
              "%zu bytes, at most %u", n, VT_ATLS_EXT_MAX);
    struct vt_reader outer, r;
    vt_reader_init(&outer, p, n);
    enum vt_err err = vt_der_expect(&outer, 0x0c, &r);
    VT_ENSURE(err == VT_OK, d, VT_E_BAD_DER, "atls.broker.extension",
              "the value is not a DER UTF8String: %s", vt_err_name(err));
    VT_ENSURE(vt_reader_left(&outer) == 0, d, VT_E_TRAILING_DATA, "atls.broker.extension",
              "%zu bytes after the UTF8String", vt_reader_left(&outer));
    size_t len = vt_reader_left(&r);
    const uint8_t *s = NULL;
    VT_TRY(vt_reader_get_bytes(&r, len, &s));
    VT_ENSURE(vt_cbor_utf8_valid(s, len), d, VT_E_BAD_FIELD, "atls.broker.extension",
              "the UTF8String is not UTF-8");
    VT_ENSURE(memchr(s, '\0', len) == NULL, d, VT_E_BAD_FIELD, "atls.broker.extension",
              "the UTF8String holds a NUL byte");
    char *copy = malloc(len + 1);
    VT_ENSURE(copy != NULL, d, VT_E_NOMEM, "atls.broker.extension", "no memory");
    if (len > 0) {
        memcpy(copy, s, len);
    }
    copy[len] = '\0';
    *json = copy;
    *json_len = len;
    return VT_OK;
}
