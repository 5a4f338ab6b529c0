/*
 * Intel DCAP ECDSA quotes, versions 3, 4 and 5: structure parsing and validation.
 *
 * SPEC: Intel SGX/TDX DCAP Quote Verification Library (DCAP 1.21), Quote.cpp and
 * QuoteConstants.h; our summary in spec/dcap.md section 1. All integers are little-endian.
 *
 * Header, 48 bytes, every version:
 *
 *   +0    u16  version          3 | 4 | 5
 *   +2    u16  att_key_type     2 = ECDSA-256-with-P-256 (the only one accepted)
 *   +4    u32  tee_type         0x00000000 SGX | 0x00000081 TDX (v3: reserved, must be 0)
 *   +8    u16  qe_svn           v3; reserved in v4/v5
 *   +10   u16  pce_svn          v3; reserved in v4/v5
 *   +12   16   qe_vendor_id     Intel: 939A7233 F79C4CA9 940A0DB3 957F0607
 *   +28   20   user_data        Intel QEs put the 16-byte QE-ID here
 *
 * Framing:
 *
 *   v3  header | SGX report (384)                       | u32 sig_len | signature data, v3 form
 *   v4  header | SGX report (384) or TD 1.0 report (584) | u32 sig_len | signature data, v4 form
 *   v5  header | u16 body_type | u32 body_size | body   | u32 sig_len | signature data, v4 form
 *       body_type 1 = SGX report (384), 2 = TD 1.0 report (584), 3 = TD 1.5 report (648)
 *       |<------------- signed_data / signed_len ------>|
 *   then `trailing` bytes (buffer padding), counted and ignored as Intel's QVL ignores them.
 *
 * Signature data (offsets from its start):
 *
 *   v3 form                                     v4/v5 form
 *   +0     64  quote signature r||s             +0    64  quote signature r||s
 *   +64    64  attestation key X||Y             +64   64  attestation key X||Y
 *   +128  384  QE report                        +128  u16 certification data type = 6
 *   +512   64  QE report signature              +130  u32 size = sig_len - 134
 *   +576  u16  N, QE auth data size             +134  QE report certification data:
 *   +578   N   QE auth data                             384 QE report | 64 QE report signature
 *   +578+N u16 certification data type                  | u16 N | N QE auth data
 *   +580+N u32 M, certification data size               | u16 certification data type
 *   +584+N M   certification data                       | u32 M | M certification data
 *              (ends exactly at sig_len)                  (ends exactly at the outer size)
 *
 * Certification data types: 1-3 PCK identifier (PPID clear / RSA-2048 / RSA-3072 encrypted),
 * 4 PCK leaf, 5 PCK chain (PEM), 6 QE report certification data (the v4/v5 wrapper only),
 * 7 platform manifest. Types 1-5 and 7 are returned as found; whether they can be verified
 * offline is the verifier's decision.
 *
 * Errors: a read past the end of the input is VT_E_TRUNCATED; a read past the end of a block
 * whose declared length is fully present (signature data, QE report certification data) is
 * VT_E_BAD_LENGTH, because the lengths disagree with each other rather than with the input.
 */
#include <stdio.h>
#include <string.h>

#include <veritee/limits.h>

#include "base/reader.h"
#include "tee/dcap/dcap.h"

#include "tee/tee_internal.h"

const uint8_t vt_dcap_intel_qe_vendor_id[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                                0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

/* SPEC: Intel DCAP quote v4, signature data: fixed parts before the QE report cert data. */
#define SIG_FIXED_LEN 128u
#define OUTER_CERT_HEADER_LEN 6u

/*
 * A block being parsed: the reader, what the block is called in error messages, and the code a
 * read past its end gets (VT_E_TRUNCATED for the input itself, VT_E_BAD_LENGTH for a block whose
 * declared length is inconsistent with its contents).
 */
struct block {
    struct vt_reader r;
    const char *name;
    enum vt_err overrun;
};

static enum vt_err overrun(const struct block *b, const char *check, const char *field, size_t need,
                           struct vt_diag *d)
{
    return vt_fail(d, b->overrun, check, "%s at offset %zu needs %zu bytes; %zu left in the %s",
                   field, vt_reader_offset(&b->r), need, vt_reader_left(&b->r), b->name);
}

static enum vt_err get_u16(struct block *b, uint16_t *out, const char *check, const char *field,
                           struct vt_diag *d)
{
    if (vt_reader_get_u16le(&b->r, out) != VT_OK) {
        return overrun(b, check, field, 2, d);
    }
    return VT_OK;
}

static enum vt_err get_u32(struct block *b, uint32_t *out, const char *check, const char *field,
                           struct vt_diag *d)
{
    if (vt_reader_get_u32le(&b->r, out) != VT_OK) {
        return overrun(b, check, field, 4, d);
    }
    return VT_OK;
}

static enum vt_err copy(struct block *b, void *dst, size_t n, const char *check, const char *field,
                        struct vt_diag *d)
{
    if (vt_reader_copy(&b->r, dst, n) != VT_OK) {
        return overrun(b, check, field, n, d);
    }
    return VT_OK;
}

static enum vt_err view(struct block *b, size_t n, const uint8_t **out, const char *check,
                        const char *field, struct vt_diag *d)
{
    if (vt_reader_get_bytes(&b->r, n, out) != VT_OK) {
        return overrun(b, check, field, n, d);
    }
    return VT_OK;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

/* ---- report bodies: fixed-size, so every read below succeeds ---- */

static void take(struct vt_reader *r, void *dst, size_t n)
{
    if (vt_reader_copy(r, dst, n) != VT_OK) {
        memset(dst, 0, n);
    }
}

static void take_skip(struct vt_reader *r, size_t n)
{
    if (vt_reader_skip(r, n) != VT_OK) {
        vt_reader_skip_rest(r);
    }
}

static uint16_t take_u16(struct vt_reader *r)
{
    uint16_t v = 0;
    if (vt_reader_get_u16le(r, &v) != VT_OK) {
        v = 0;
    }
    return v;
}

static uint32_t take_u32(struct vt_reader *r)
{
    uint32_t v = 0;
    if (vt_reader_get_u32le(r, &v) != VT_OK) {
        v = 0;
    }
    return v;
}

/* SPEC: Intel SGX report body (sgx_report_body_t), 384 bytes; spec/dcap.md 1.2. */
void vt_sgx_report_decode(const uint8_t raw[VT_SGX_REPORT_SIZE], struct vt_sgx_report *out)
{
    if (out == NULL) {
        return;
    }
    memset(out, 0, sizeof(*out));
    if (raw == NULL) {
        return;
    }
    struct vt_reader r;
    vt_reader_init(&r, raw, VT_SGX_REPORT_SIZE);
    take(&r, out->cpusvn, 16);          /* 0 */
    out->miscselect = take_u32(&r);     /* 16 */
    take_skip(&r, 12);                  /* 20: reserved */
    take(&r, out->isv_ext_prod_id, 16); /* 32 */
    take(&r, out->attributes, 16);      /* 48 */
    take(&r, out->mrenclave, 32);       /* 64 */
    take_skip(&r, 32);                  /* 96: reserved */
    take(&r, out->mrsigner, 32);        /* 128 */
    take_skip(&r, 32);                  /* 160: reserved */
    take(&r, out->config_id, 64);       /* 192 */
    out->isv_prod_id = take_u16(&r);    /* 256 */
    out->isv_svn = take_u16(&r);        /* 258 */
    out->config_svn = take_u16(&r);     /* 260 */
    take_skip(&r, 42);                  /* 262: reserved */
    take(&r, out->isv_family_id, 16);   /* 304 */
    take(&r, out->report_data, 64);     /* 320 */
    out->raw = raw;
}

/* SPEC: Intel TDX DCAP quote v4/v5, TD report body (TD 1.0: 584 bytes; TD 1.5: 648 bytes). */
static void td_report_decode(const uint8_t *raw, size_t len, struct vt_td_report *out)
{
    struct vt_reader r;
    memset(out, 0, sizeof(*out));
    vt_reader_init(&r, raw, len);
    take(&r, out->tee_tcb_svn, 16);    /* 0 */
    take(&r, out->mrseam, 48);         /* 16 */
    take(&r, out->mrsignerseam, 48);   /* 64 */
    take(&r, out->seam_attributes, 8); /* 112 */
    take(&r, out->td_attributes, 8);   /* 120 */
    take(&r, out->xfam, 8);            /* 128 */
    take(&r, out->mrtd, 48);           /* 136 */
    take(&r, out->mrconfigid, 48);     /* 184 */
    take(&r, out->mrowner, 48);        /* 232 */
    take(&r, out->mrownerconfig, 48);  /* 280 */
    for (size_t i = 0; i < 4; i++) {   /* 328, 376, 424, 472 */
        take(&r, out->rtmr[i], 48);
    }
    take(&r, out->report_data, 64); /* 520 */
    out->is_td15 = len == VT_TD15_REPORT_SIZE;
    if (out->is_td15) {
        take(&r, out->tee_tcb_svn2, 16); /* 584 */
        take(&r, out->mrservicetd, 48);  /* 600 */
    }
}

/* ---- header and body ---- */

static enum vt_err parse_header(struct block *b, struct vt_dcap_quote *q, struct vt_diag *d)
{
    /* SPEC: Intel DCAP quote header, version: QVL accepts 3, 4 and 5. */
    VT_TRY(get_u16(b, &q->version, "quote.header.version", "version", d));
    if (q->version < 3 || q->version > 5) {
        return vt_fail(d, VT_E_UNSUPPORTED_VERSION, "quote.header.version",
                       "version %u at offset 0; expected 3, 4 or 5", q->version);
    }
    /* SPEC: Intel DCAP quote header, attestation key type: only 2 (ECDSA-256 with P-256). */
    VT_TRY(get_u16(b, &q->att_key_type, "quote.header.att_key_type", "attestation key type", d));
    if (q->att_key_type != VT_DCAP_ATT_KEY_ECDSA_P256) {
        return vt_fail(d, VT_E_UNSUPPORTED_KEY_TYPE, "quote.header.att_key_type",
                       "attestation key type %u at offset 2; expected 2 (ECDSA-256 with P-256)",
                       q->att_key_type);
    }
    /* SPEC: Intel DCAP quote header, TEE type: 0 SGX, 0x81 TDX; reserved (0) in v3. */
    VT_TRY(get_u32(b, &q->tee_type, "quote.header.tee_type", "TEE type", d));
    if (q->version == 3 && q->tee_type != VT_DCAP_TEE_SGX) {
        return vt_fail(d, VT_E_UNSUPPORTED_TEE, "quote.header.tee_type",
                       "TEE type 0x%08x at offset 4 in a version 3 quote; expected 0x00000000 "
                       "(v3 quotes are SGX only)",
                       q->tee_type);
    }
    if (q->tee_type != VT_DCAP_TEE_SGX && q->tee_type != VT_DCAP_TEE_TDX) {
        return vt_fail(d, VT_E_UNSUPPORTED_TEE, "quote.header.tee_type",
                       "TEE type 0x%08x at offset 4; expected 0x00000000 (SGX) or 0x00000081 "
                       "(TDX)",
                       q->tee_type);
    }
    /* SPEC: v3 header bytes 8..11 are QE SVN and PCE SVN; v4/v5 reserved. */
    uint16_t svn[2];
    VT_TRY(get_u16(b, &svn[0], "quote.header.qe_svn", "QE SVN", d));
    VT_TRY(get_u16(b, &svn[1], "quote.header.pce_svn", "PCE SVN", d));
    if (q->version == 3) {
        q->qe_svn = svn[0];
        q->pce_svn = svn[1];
    }
    /* SPEC: Intel DCAP quote header, QE vendor ID: QVL accepts Intel's only. */
    VT_TRY(copy(b, q->qe_vendor_id, 16, "quote.header.qe_vendor_id", "QE vendor ID", d));
    if (memcmp(q->qe_vendor_id, vt_dcap_intel_qe_vendor_id, 16) != 0) {
        char got[33], want[33];
        hex(q->qe_vendor_id, 16, got);
        hex(vt_dcap_intel_qe_vendor_id, 16, want);
        return vt_fail(d, VT_E_UNSUPPORTED_QE_VENDOR, "quote.header.qe_vendor_id",
                       "QE vendor ID %s at offset 12; expected Intel's %s", got, want);
    }
    VT_TRY(copy(b, q->user_data, 20, "quote.header.user_data", "user data", d));
    return VT_OK;
}

static uint32_t body_size_for(uint16_t type)
{
    switch (type) {
    case VT_DCAP_BODY_SGX:
        return VT_SGX_REPORT_SIZE;
    case VT_DCAP_BODY_TD10:
        return VT_TD10_REPORT_SIZE;
    default:
        return VT_TD15_REPORT_SIZE;
    }
}

/* SPEC: Intel DCAP quote v5, body descriptor: u16 type, u32 size (QVL Quote::parse). */
static enum vt_err parse_body_descriptor(struct block *b, struct vt_dcap_quote *q,
                                         struct vt_diag *d)
{
    size_t off = vt_reader_offset(&b->r);
    VT_TRY(get_u16(b, &q->body_type, "quote.body.type", "body type", d));
    if (q->body_type < VT_DCAP_BODY_SGX || q->body_type > VT_DCAP_BODY_TD15) {
        return vt_fail(d, VT_E_BAD_FIELD, "quote.body.type",
                       "body type %u at offset %zu; expected 1 (SGX), 2 (TD 1.0) or 3 (TD 1.5)",
                       q->body_type, off);
    }
    /* SPEC: QVL requires SGX TEE <=> body type 1 and TDX TEE <=> body type 2 or 3. */
    bool sgx_body = q->body_type == VT_DCAP_BODY_SGX;
    if (sgx_body != (q->tee_type == VT_DCAP_TEE_SGX)) {
        return vt_fail(d, VT_E_BAD_FIELD, "quote.body.type",
                       "body type %u at offset %zu does not match TEE type 0x%08x; expected %s",
                       q->body_type, off, q->tee_type,
                       sgx_body ? "0x00000000 (SGX)" : "0x00000081 (TDX)");
    }
    VT_TRY(get_u32(b, &q->body_size, "quote.body.size", "body size", d));
    uint32_t want = body_size_for(q->body_type);
    if (q->body_size != want) {
        return vt_fail(d, VT_E_BAD_LENGTH, "quote.body.size",
                       "body size %u at offset %zu; body type %u needs %u", q->body_size, off + 2,
                       q->body_type, want);
    }
    return VT_OK;
}

static enum vt_err parse_body(struct block *b, struct vt_dcap_quote *q, struct vt_diag *d)
{
    if (q->version == 5) {
        VT_TRY(parse_body_descriptor(b, q, d));
    } else if (q->tee_type == VT_DCAP_TEE_SGX) {
        /* SPEC: v3 and v4-with-SGX carry a 384-byte SGX report body. */
        q->body_type = VT_DCAP_BODY_SGX;
        q->body_size = VT_SGX_REPORT_SIZE;
    } else {
        /* SPEC: Intel TDX DCAP quote v4: a TD 1.0 report body of 584 bytes. */
        q->body_type = VT_DCAP_BODY_TD10;
        q->body_size = VT_TD10_REPORT_SIZE;
    }
    const uint8_t *raw;
    VT_TRY(view(b, q->body_size, &raw, "quote.body", "report body", d));
    if (q->body_type == VT_DCAP_BODY_SGX) {
        vt_sgx_report_decode(raw, &q->sgx);
    } else {
        td_report_decode(raw, q->body_size, &q->td);
    }
    return VT_OK;
}

/* ---- signature data ---- */

static bool cert_type_known(uint16_t t)
{
    return (t >= VT_DCAP_CERT_PPID_CLEAR && t <= VT_DCAP_CERT_PCK_CHAIN) ||
           t == VT_DCAP_CERT_PLATFORM_MANIFEST;
}

/*
 * QE report, its signature, the QE authentication data and the certification data: the tail of
 * the v3 signature data and the content of the v4/v5 QE report certification data alike. The
 * block must end exactly where the certification data ends.
 */
static enum vt_err parse_qe_block(struct block *b, struct vt_dcap_quote *q, struct vt_diag *d)
{
    const uint8_t *raw;
    VT_TRY(view(b, VT_SGX_REPORT_SIZE, &raw, "quote.qe_report", "QE report", d));
    vt_sgx_report_decode(raw, &q->qe_report);
    VT_TRY(
        copy(b, q->qe_report_signature, 64, "quote.qe_report_signature", "QE report signature", d));

    /* SPEC: QE authentication data: u16 size then the data (32 bytes in every real quote). */
    size_t off = vt_reader_offset(&b->r);
    VT_TRY(get_u16(b, &q->qe_auth_data_len, "quote.qe_auth_data.size", "QE auth data size", d));
    if (q->qe_auth_data_len > VT_MAX_QE_AUTH_DATA) {
        return vt_fail(d, VT_E_TOO_LARGE, "quote.qe_auth_data.size",
                       "QE auth data size %u at offset %zu; the limit is %u", q->qe_auth_data_len,
                       off, VT_MAX_QE_AUTH_DATA);
    }
    VT_TRY(view(b, q->qe_auth_data_len, &q->qe_auth_data, "quote.qe_auth_data", "QE auth data", d));

    /* SPEC: certification data: u16 type (1-5, or 7), u32 size, data. */
    off = vt_reader_offset(&b->r);
    VT_TRY(get_u16(b, &q->cert_type, "quote.cert_data.type", "certification data type", d));
    if (!cert_type_known(q->cert_type)) {
        return vt_fail(d, VT_E_BAD_FIELD, "quote.cert_data.type",
                       "certification data type %u at offset %zu; expected 1-5 or 7%s",
                       q->cert_type, off,
                       q->cert_type == VT_DCAP_CERT_QE_REPORT
                           ? " (type 6 is only the outer wrapper of v4/v5 quotes)"
                           : "");
    }
    off = vt_reader_offset(&b->r);
    VT_TRY(get_u32(b, &q->cert_data_len, "quote.cert_data.size", "certification data size", d));
    VT_TRY(view(b, q->cert_data_len, &q->cert_data, "quote.cert_data", "certification data", d));
    if (vt_reader_expect_end(&b->r) != VT_OK) {
        return vt_fail(d, VT_E_BAD_LENGTH, "quote.cert_data.size",
                       "certification data size %u at offset %zu leaves %zu unparsed bytes at "
                       "offset %zu before the end of the %s",
                       q->cert_data_len, off, vt_reader_left(&b->r), vt_reader_offset(&b->r),
                       b->name);
    }
    return VT_OK;
}

/* SPEC: Intel DCAP quote v4, signature data: outer certification data type 6 wrapping the QE
 * report certification data, whose declared size must equal what is left (QVL step 6). */
static enum vt_err parse_outer_cert(struct block *sig, struct vt_dcap_quote *q, struct vt_diag *d)
{
    size_t off = vt_reader_offset(&sig->r);
    VT_TRY(get_u16(sig, &q->outer_cert_type, "quote.outer_cert_data.type",
                   "outer certification data type", d));
    if (q->outer_cert_type != VT_DCAP_CERT_QE_REPORT) {
        bool known = cert_type_known(q->outer_cert_type);
        return vt_fail(d, known ? VT_E_UNSUPPORTED_CERT_DATA : VT_E_BAD_FIELD,
                       "quote.outer_cert_data.type",
                       "certification data type %u at offset %zu in a version %u quote; expected "
                       "6 (QE report certification data)%s",
                       q->outer_cert_type, off, q->version,
                       known ? "" : "; not a known certification data type");
    }
    uint32_t size;
    VT_TRY(get_u32(sig, &size, "quote.outer_cert_data.size", "outer certification data size", d));
    if (size != vt_reader_left(&sig->r)) {
        return vt_fail(d, VT_E_BAD_LENGTH, "quote.outer_cert_data.size",
                       "certification data size %u at offset %zu; %zu bytes remain in the "
                       "signature data",
                       size, off + 2, vt_reader_left(&sig->r));
    }
    struct block inner = {.name = "QE report certification data", .overrun = VT_E_BAD_LENGTH};
    if (vt_reader_sub(&sig->r, size, &inner.r) != VT_OK) {
        return overrun(sig, "quote.outer_cert_data", "QE report certification data", size, d);
    }
    return parse_qe_block(&inner, q, d);
}

static enum vt_err parse_signature_data(struct block *b, struct vt_dcap_quote *q, struct vt_diag *d)
{
    size_t off = vt_reader_offset(&b->r);
    VT_TRY(get_u32(b, &q->sig_data_len, "quote.sig_data.size", "signature data size", d));
    struct block sig = {.name = "signature data", .overrun = VT_E_BAD_LENGTH};
    if (vt_reader_sub(&b->r, q->sig_data_len, &sig.r) != VT_OK) {
        return vt_fail(d, VT_E_TRUNCATED, "quote.sig_data.size",
                       "signature data size %u at offset %zu; only %zu bytes follow",
                       q->sig_data_len, off, vt_reader_left(&b->r));
    }
    /* SPEC: Intel DCAP quote v3/v4, signature data: quote signature then attestation key. */
    VT_TRY(copy(&sig, q->signature, 64, "quote.signature", "quote signature", d));
    VT_TRY(copy(&sig, q->attest_key, 64, "quote.attest_key", "attestation key", d));
    if (q->version == 3) {
        /* SPEC: Intel DCAP quote v3, signature data: the QE fields directly; the
         * certification data ends the signature data. */
        VT_TRY(parse_qe_block(&sig, q, d));
        q->outer_cert_type = q->cert_type;
        return VT_OK;
    }
    return parse_outer_cert(&sig, q, d);
}

enum vt_err vt_dcap_quote_parse(const uint8_t *p, size_t n, struct vt_dcap_quote *q,
                                struct vt_diag *d)
{
    VT_PARSE_COUNT(dcap_quote);
    VT_ENSURE(q != NULL && (p != NULL || n == 0), d, VT_E_ARG, "quote", "NULL argument");
    VT_ENSURE(n <= VT_MAX_EVIDENCE_SIZE, d, VT_E_TOO_LARGE, "quote.size",
              "quote is %zu bytes; the limit is %u", n, VT_MAX_EVIDENCE_SIZE);
    struct vt_dcap_quote t;
    memset(&t, 0, sizeof(t));
    struct block b = {.name = "quote", .overrun = VT_E_TRUNCATED};
    vt_reader_init(&b.r, p, n);

    VT_TRY(parse_header(&b, &t, d));
    VT_TRY(parse_body(&b, &t, d));
    /* SPEC: the quote signature covers the header through the body (v5: with its descriptor). */
    t.signed_data = p;
    t.signed_len = vt_reader_offset(&b.r);
    VT_TRY(parse_signature_data(&b, &t, d));
    /* SPEC: QVL ignores bytes after the signature data (buffer padding in real files). */
    t.quote_len = vt_reader_offset(&b.r);
    t.trailing = vt_reader_left(&b.r);
    *q = t;
    return VT_OK;
}
