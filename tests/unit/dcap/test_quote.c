/*
 * vt_dcap_quote_parse and vt_sgx_report_decode: synthetic quotes of every version and body type
 * built field by field (so each field can be set to a chosen bad value), every reject path with
 * its exact error, truncation at every byte length, and the real fixture quotes.
 */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <veritee/limits.h>

#include "tee/dcap/dcap.h"

#include "vt_fixtures.h"

/* ---- a synthetic quote builder ---- */

#define QBUF_MAX 20000

/* What to build. Start from spec_default() and change single fields. */
struct qspec {
    uint16_t version;
    uint16_t att_key;
    uint32_t tee;
    uint16_t body_type; /* v5 descriptor */
    uint32_t body_size; /* v5 descriptor */
    bool bad_vendor;
    uint16_t outer_type;   /* v4/v5 */
    long outer_size_delta; /* declared minus actual outer size */
    uint16_t auth_len;     /* QE auth data bytes written */
    long auth_size_delta;  /* declared minus written */
    uint16_t cert_type;    /* inner (v4/v5) or only (v3) certification data type */
    uint32_t cert_len;     /* certification data bytes written */
    long cert_size_delta;  /* declared minus written */
    long sig_len_delta;    /* declared minus actual signature data length */
    size_t extra_in_block; /* zero bytes after the certification data, inside the block */
    size_t trailing;       /* zero bytes after the signature data */
};

/* Where the builder put things. */
struct qbuild {
    uint8_t b[QBUF_MAX];
    size_t n;
    size_t body_off, body_len, sig_off, qe_off, auth_off, cert_off, quote_len;
};

static uint32_t natural_body_size(uint16_t type)
{
    return type == VT_DCAP_BODY_TD15   ? VT_TD15_REPORT_SIZE
           : type == VT_DCAP_BODY_TD10 ? VT_TD10_REPORT_SIZE
                                       : VT_SGX_REPORT_SIZE;
}

static struct qspec spec_default(uint16_t version, uint32_t tee, uint16_t body_type)
{
    struct qspec s = {0};
    s.version = version;
    s.att_key = VT_DCAP_ATT_KEY_ECDSA_P256;
    s.tee = tee;
    s.body_type = body_type;
    s.body_size = natural_body_size(body_type);
    s.outer_type = VT_DCAP_CERT_QE_REPORT;
    s.auth_len = 32;
    s.cert_type = VT_DCAP_CERT_PCK_CHAIN;
    s.cert_len = 100;
    return s;
}

/* A position-dependent byte, so a field read from the wrong offset shows. */
static uint8_t pattern(size_t i)
{
    uint32_t x = (uint32_t)i * 2654435761u;
    x ^= x >> 15;
    x *= 2246822519u;
    x ^= x >> 13;
    return (uint8_t)x;
}

static void put(struct qbuild *q, const void *p, size_t n)
{
    assert_true(q->n + n <= QBUF_MAX);
    memcpy(q->b + q->n, p, n);
    q->n += n;
}

static void put_u16(struct qbuild *q, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(q, x, 2);
}

static void put_u32(struct qbuild *q, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(q, x, 4);
}

static void set_u32(struct qbuild *q, size_t at, uint32_t v)
{
    for (size_t i = 0; i < 4; i++) {
        q->b[at + i] = (uint8_t)(v >> (8 * i));
    }
}

static void put_pattern(struct qbuild *q, size_t n)
{
    assert_true(q->n + n <= QBUF_MAX);
    for (size_t i = 0; i < n; i++) {
        q->b[q->n] = pattern(q->n);
        q->n++;
    }
}

static void put_zeros(struct qbuild *q, size_t n)
{
    assert_true(q->n + n <= QBUF_MAX);
    memset(q->b + q->n, 0, n);
    q->n += n;
}

static void build(const struct qspec *s, struct qbuild *q)
{
    memset(q, 0, sizeof(*q));
    put_u16(q, s->version);
    put_u16(q, s->att_key);
    put_u32(q, s->tee);
    put_u16(q, 0x1234);
    put_u16(q, 0x5678);
    uint8_t vendor[16];
    memcpy(vendor, vt_dcap_intel_qe_vendor_id, 16);
    if (s->bad_vendor) {
        vendor[15] ^= 0x01;
    }
    put(q, vendor, 16);
    put_pattern(q, 20);
    size_t body;
    if (s->version == 5) {
        put_u16(q, s->body_type);
        put_u32(q, s->body_size);
        body = natural_body_size(s->body_type);
    } else {
        body =
            s->version == 4 && s->tee == VT_DCAP_TEE_TDX ? VT_TD10_REPORT_SIZE : VT_SGX_REPORT_SIZE;
    }
    q->body_off = q->n;
    q->body_len = body;
    put_pattern(q, body);
    size_t sig_len_at = q->n;
    put_u32(q, 0);
    q->sig_off = q->n;
    put_pattern(q, 128);
    size_t outer_at = 0;
    if (s->version != 3) {
        put_u16(q, s->outer_type);
        outer_at = q->n;
        put_u32(q, 0);
    }
    q->qe_off = q->n;
    put_pattern(q, 384 + 64);
    put_u16(q, (uint16_t)((long)s->auth_len + s->auth_size_delta));
    q->auth_off = q->n;
    put_pattern(q, s->auth_len);
    put_u16(q, s->cert_type);
    put_u32(q, (uint32_t)((long)s->cert_len + s->cert_size_delta));
    q->cert_off = q->n;
    put_pattern(q, s->cert_len);
    put_zeros(q, s->extra_in_block);
    if (s->version != 3) {
        set_u32(q, outer_at, (uint32_t)((long)(q->n - outer_at - 4) + s->outer_size_delta));
    }
    set_u32(q, sig_len_at, (uint32_t)((long)(q->n - q->sig_off) + s->sig_len_delta));
    q->quote_len = q->n;
    put_zeros(q, s->trailing);
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Parse a copy of exactly the quote's bytes (so ASan sees any overread) and keep the copy. */
static enum vt_err parse_exact(const uint8_t *p, size_t n, uint8_t **copy_out,
                               struct vt_dcap_quote *q, struct vt_diag *d)
{
    uint8_t *c = malloc(n > 0 ? n : 1);
    assert_non_null(c);
    if (n > 0) {
        memcpy(c, p, n);
    }
    vt_diag_init(d);
    enum vt_err err = vt_dcap_quote_parse(n > 0 ? c : NULL, n, q, d);
    assert_int_equal(d->code, err);
    if (copy_out != NULL) {
        *copy_out = c;
    } else {
        free(c);
    }
    return err;
}

/* ---- field checks ---- */

static void check_sgx_report(const struct vt_sgx_report *r, const uint8_t *raw)
{
    assert_ptr_equal(r->raw, raw);
    assert_memory_equal(r->cpusvn, raw + 0, 16);
    assert_int_equal(r->miscselect, le32(raw + 16));
    assert_memory_equal(r->isv_ext_prod_id, raw + 32, 16);
    assert_memory_equal(r->attributes, raw + 48, 16);
    assert_memory_equal(r->mrenclave, raw + 64, 32);
    assert_memory_equal(r->mrsigner, raw + 128, 32);
    assert_memory_equal(r->config_id, raw + 192, 64);
    assert_int_equal(r->isv_prod_id, le16(raw + 256));
    assert_int_equal(r->isv_svn, le16(raw + 258));
    assert_int_equal(r->config_svn, le16(raw + 260));
    assert_memory_equal(r->isv_family_id, raw + 304, 16);
    assert_memory_equal(r->report_data, raw + 320, 64);
}

static void check_td_report(const struct vt_td_report *t, const uint8_t *raw, bool td15)
{
    assert_memory_equal(t->tee_tcb_svn, raw + 0, 16);
    assert_memory_equal(t->mrseam, raw + 16, 48);
    assert_memory_equal(t->mrsignerseam, raw + 64, 48);
    assert_memory_equal(t->seam_attributes, raw + 112, 8);
    assert_memory_equal(t->td_attributes, raw + 120, 8);
    assert_memory_equal(t->xfam, raw + 128, 8);
    assert_memory_equal(t->mrtd, raw + 136, 48);
    assert_memory_equal(t->mrconfigid, raw + 184, 48);
    assert_memory_equal(t->mrowner, raw + 232, 48);
    assert_memory_equal(t->mrownerconfig, raw + 280, 48);
    for (size_t i = 0; i < 4; i++) {
        assert_memory_equal(t->rtmr[i], raw + 328 + 48 * i, 48);
    }
    assert_memory_equal(t->report_data, raw + 520, 64);
    assert_int_equal(t->is_td15, td15);
    if (td15) {
        assert_memory_equal(t->tee_tcb_svn2, raw + 584, 16);
        assert_memory_equal(t->mrservicetd, raw + 600, 48);
    } else {
        static const uint8_t zero[48];
        assert_memory_equal(t->tee_tcb_svn2, zero, 16);
        assert_memory_equal(t->mrservicetd, zero, 48);
    }
}

/* Build, parse, and check every field against where the builder put it. */
static void accept(const struct qspec *s, uint16_t want_body_type)
{
    struct qbuild *qb = malloc(sizeof(*qb));
    assert_non_null(qb);
    build(s, qb);
    struct vt_dcap_quote q;
    struct vt_diag d;
    uint8_t *c;
    enum vt_err err = parse_exact(qb->b, qb->n, &c, &q, &d);
    if (err != VT_OK) {
        fail_msg("expected success, got %s (%s: %s)", vt_err_name(err), d.check, d.detail);
    }
    assert_int_equal(q.version, s->version);
    assert_int_equal(q.att_key_type, 2);
    assert_int_equal(q.tee_type, s->tee);
    assert_int_equal(q.qe_svn, s->version == 3 ? 0x1234 : 0);
    assert_int_equal(q.pce_svn, s->version == 3 ? 0x5678 : 0);
    assert_memory_equal(q.qe_vendor_id, vt_dcap_intel_qe_vendor_id, 16);
    assert_memory_equal(q.user_data, c + 28, 20);
    assert_int_equal(q.body_type, want_body_type);
    assert_int_equal(q.body_size, qb->body_len);
    if (want_body_type == VT_DCAP_BODY_SGX) {
        check_sgx_report(&q.sgx, c + qb->body_off);
    } else {
        check_td_report(&q.td, c + qb->body_off, want_body_type == VT_DCAP_BODY_TD15);
    }
    assert_ptr_equal(q.signed_data, c);
    assert_int_equal(q.signed_len, qb->body_off + qb->body_len);
    assert_int_equal(q.signed_len, qb->sig_off - 4);
    assert_int_equal(q.sig_data_len, qb->quote_len - qb->sig_off);
    assert_memory_equal(q.signature, c + qb->sig_off, 64);
    assert_memory_equal(q.attest_key, c + qb->sig_off + 64, 64);
    check_sgx_report(&q.qe_report, c + qb->qe_off);
    assert_memory_equal(q.qe_report_signature, c + qb->qe_off + 384, 64);
    assert_int_equal(q.qe_auth_data_len, s->auth_len);
    assert_ptr_equal(q.qe_auth_data, c + qb->auth_off);
    assert_int_equal(q.outer_cert_type, s->version == 3 ? s->cert_type : 6);
    assert_int_equal(q.cert_type, s->cert_type);
    assert_ptr_equal(q.cert_data, c + qb->cert_off);
    assert_int_equal(q.cert_data_len, s->cert_len);
    assert_int_equal(q.quote_len, qb->quote_len);
    assert_int_equal(q.trailing, s->trailing);
    assert_int_equal(q.quote_len + q.trailing, qb->n);
    free(c);
    free(qb);
}

/*
 * Build, parse, and require exactly `want` with check name `check`; the output struct must be
 * untouched. Returns nothing; `detail_has` (optional) must occur in the detail.
 */
static void reject(const struct qspec *s, enum vt_err want, const char *check,
                   const char *detail_has)
{
    struct qbuild *qb = malloc(sizeof(*qb));
    assert_non_null(qb);
    build(s, qb);
    struct vt_dcap_quote q, before;
    memset(&q, 0x5a, sizeof(q));
    memcpy(&before, &q, sizeof(q));
    struct vt_diag d;
    enum vt_err err = parse_exact(qb->b, qb->n, NULL, &q, &d);
    if (err != want) {
        fail_msg("expected %s, got %s (%s: %s)", vt_err_name(want), vt_err_name(err), d.check,
                 d.detail);
    }
    assert_string_equal(d.check, check);
    if (detail_has != NULL && strstr(d.detail, detail_has) == NULL) {
        fail_msg("detail \"%s\" lacks \"%s\"", d.detail, detail_has);
    }
    assert_memory_equal(&q, &before, sizeof(q));
    free(qb);
}

/* ---- accepted forms ---- */

static void test_v3_sgx(void **state)
{
    (void)state;
    struct qspec s = spec_default(3, VT_DCAP_TEE_SGX, VT_DCAP_BODY_SGX);
    accept(&s, VT_DCAP_BODY_SGX);
}

static void test_v4_sgx(void **state)
{
    (void)state;
    struct qspec s = spec_default(4, VT_DCAP_TEE_SGX, VT_DCAP_BODY_SGX);
    accept(&s, VT_DCAP_BODY_SGX);
}

static void test_v4_tdx(void **state)
{
    (void)state;
    struct qspec s = spec_default(4, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD10);
    accept(&s, VT_DCAP_BODY_TD10);
}

static void test_v5_body_types(void **state)
{
    (void)state;
    struct qspec s = spec_default(5, VT_DCAP_TEE_SGX, VT_DCAP_BODY_SGX);
    accept(&s, VT_DCAP_BODY_SGX);
    s = spec_default(5, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD10);
    accept(&s, VT_DCAP_BODY_TD10);
    s = spec_default(5, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD15);
    accept(&s, VT_DCAP_BODY_TD15);
}

static void test_cert_types(void **state)
{
    (void)state;
    static const uint16_t types[] = {1, 2, 3, 4, 5, 7};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        struct qspec s = spec_default(3, VT_DCAP_TEE_SGX, VT_DCAP_BODY_SGX);
        s.cert_type = types[i];
        accept(&s, VT_DCAP_BODY_SGX);
        s = spec_default(4, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD10);
        s.cert_type = types[i];
        accept(&s, VT_DCAP_BODY_TD10);
        s = spec_default(5, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD15);
        s.cert_type = types[i];
        accept(&s, VT_DCAP_BODY_TD15);
    }
}

static void test_trailing_and_sizes(void **state)
{
    (void)state;
    /* Padding after the signature data is counted, not parsed. */
    static const size_t trailing[] = {1, 39, 70, 3065};
    for (size_t i = 0; i < sizeof(trailing) / sizeof(trailing[0]); i++) {
        struct qspec s = spec_default(4, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD10);
        s.trailing = trailing[i];
        accept(&s, VT_DCAP_BODY_TD10);
        s = spec_default(3, VT_DCAP_TEE_SGX, VT_DCAP_BODY_SGX);
        s.trailing = trailing[i];
        accept(&s, VT_DCAP_BODY_SGX);
    }
    /* Empty auth and certification data; auth data at the cap. */
    struct qspec s = spec_default(5, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD15);
    s.auth_len = 0;
    s.cert_len = 0;
    accept(&s, VT_DCAP_BODY_TD15);
    s = spec_default(3, VT_DCAP_TEE_SGX, VT_DCAP_BODY_SGX);
    s.auth_len = VT_MAX_QE_AUTH_DATA;
    accept(&s, VT_DCAP_BODY_SGX);
    s = spec_default(4, VT_DCAP_TEE_SGX, VT_DCAP_BODY_SGX);
    s.auth_len = VT_MAX_QE_AUTH_DATA;
    s.cert_len = 5000;
    accept(&s, VT_DCAP_BODY_SGX);
}

static void test_report_decode(void **state)
{
    (void)state;
    uint8_t raw[VT_SGX_REPORT_SIZE];
    for (size_t i = 0; i < sizeof(raw); i++) {
        raw[i] = pattern(i + 7);
    }
    struct vt_sgx_report r;
    vt_sgx_report_decode(raw, &r);
    check_sgx_report(&r, raw);
    /* NULL-safe. */
    vt_sgx_report_decode(raw, NULL);
    vt_sgx_report_decode(NULL, &r);
    assert_null(r.raw);
    assert_int_equal(r.isv_prod_id, 0);
}

static void test_vendor_id(void **state)
{
    (void)state;
    static const uint8_t intel[16] = {0x93, 0x9A, 0x72, 0x33, 0xF7, 0x9C, 0x4C, 0xA9,
                                      0x94, 0x0A, 0x0D, 0xB3, 0x95, 0x7F, 0x06, 0x07};
    assert_memory_equal(vt_dcap_intel_qe_vendor_id, intel, 16);
}

/* ---- rejects ---- */

static void test_reject_header(void **state)
{
    (void)state;
    struct qspec s = spec_default(6, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD10);
    reject(&s, VT_E_UNSUPPORTED_VERSION, "quote.header.version",
           "version 6 at offset 0; expected 3, 4 or 5");
    s.version = 2;
    reject(&s, VT_E_UNSUPPORTED_VERSION, "quote.header.version", "version 2 at offset 0");
    s.version = 0;
    reject(&s, VT_E_UNSUPPORTED_VERSION, "quote.header.version", NULL);
    s.version = 0xffff;
    reject(&s, VT_E_UNSUPPORTED_VERSION, "quote.header.version", "65535");

    s = spec_default(4, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD10);
    s.att_key = 3;
    reject(&s, VT_E_UNSUPPORTED_KEY_TYPE, "quote.header.att_key_type",
           "attestation key type 3 at offset 2");
    s.att_key = 0;
    reject(&s, VT_E_UNSUPPORTED_KEY_TYPE, "quote.header.att_key_type", NULL);

    s = spec_default(3, VT_DCAP_TEE_TDX, VT_DCAP_BODY_SGX);
    reject(&s, VT_E_UNSUPPORTED_TEE, "quote.header.tee_type", "0x00000081 at offset 4");
    s.tee = 1;
    reject(&s, VT_E_UNSUPPORTED_TEE, "quote.header.tee_type", NULL);
    s = spec_default(4, 0x80, VT_DCAP_BODY_TD10);
    reject(&s, VT_E_UNSUPPORTED_TEE, "quote.header.tee_type", "0x00000080 at offset 4");
    s = spec_default(5, 0x81000000u, VT_DCAP_BODY_TD10);
    reject(&s, VT_E_UNSUPPORTED_TEE, "quote.header.tee_type", NULL);

    s = spec_default(4, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD10);
    s.bad_vendor = true;
    reject(&s, VT_E_UNSUPPORTED_QE_VENDOR, "quote.header.qe_vendor_id",
           "939a7233f79c4ca9940a0db3957f0606 at offset 12; expected Intel's "
           "939a7233f79c4ca9940a0db3957f0607");
    s = spec_default(3, VT_DCAP_TEE_SGX, VT_DCAP_BODY_SGX);
    s.bad_vendor = true;
    reject(&s, VT_E_UNSUPPORTED_QE_VENDOR, "quote.header.qe_vendor_id", NULL);
}

static void test_reject_v5_body(void **state)
{
    (void)state;
    struct qspec s = spec_default(5, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD15);
    s.body_type = 0;
    reject(&s, VT_E_BAD_FIELD, "quote.body.type", "body type 0 at offset 48");
    s.body_type = 4;
    reject(&s, VT_E_BAD_FIELD, "quote.body.type", "body type 4 at offset 48");
    /* Type and TEE disagree. */
    s = spec_default(5, VT_DCAP_TEE_TDX, VT_DCAP_BODY_SGX);
    reject(&s, VT_E_BAD_FIELD, "quote.body.type", "does not match TEE type 0x00000081");
    s = spec_default(5, VT_DCAP_TEE_SGX, VT_DCAP_BODY_TD10);
    reject(&s, VT_E_BAD_FIELD, "quote.body.type", NULL);
    s = spec_default(5, VT_DCAP_TEE_SGX, VT_DCAP_BODY_TD15);
    reject(&s, VT_E_BAD_FIELD, "quote.body.type", NULL);
    /* Size must be the type's. */
    s = spec_default(5, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD10);
    s.body_size = 583;
    reject(&s, VT_E_BAD_LENGTH, "quote.body.size",
           "body size 583 at offset 50; body type 2 needs 584");
    s.body_size = VT_TD15_REPORT_SIZE;
    reject(&s, VT_E_BAD_LENGTH, "quote.body.size", NULL);
    s = spec_default(5, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD15);
    s.body_size = VT_TD10_REPORT_SIZE;
    reject(&s, VT_E_BAD_LENGTH, "quote.body.size", "body type 3 needs 648");
    s = spec_default(5, VT_DCAP_TEE_SGX, VT_DCAP_BODY_SGX);
    s.body_size = 0xffffffffu;
    reject(&s, VT_E_BAD_LENGTH, "quote.body.size", NULL);
}

static void test_reject_sig_data_len(void **state)
{
    (void)state;
    static const uint16_t versions[] = {3, 4, 5};
    for (size_t i = 0; i < 3; i++) {
        uint16_t bt = versions[i] == 3 ? VT_DCAP_BODY_SGX : VT_DCAP_BODY_TD10;
        uint32_t tee = versions[i] == 3 ? VT_DCAP_TEE_SGX : VT_DCAP_TEE_TDX;
        /* Longer than the input. */
        struct qspec s = spec_default(versions[i], tee, bt);
        s.sig_len_delta = 1;
        reject(&s, VT_E_TRUNCATED, "quote.sig_data.size", "only");
        s.sig_len_delta = 0x7fffffff;
        reject(&s, VT_E_TRUNCATED, "quote.sig_data.size", NULL);
        /* Longer than its content (the extra byte is present as padding). */
        s = spec_default(versions[i], tee, bt);
        s.sig_len_delta = 1;
        s.trailing = 1;
        reject(&s, VT_E_BAD_LENGTH,
               versions[i] == 3 ? "quote.cert_data.size" : "quote.outer_cert_data.size", NULL);
        /* Shorter than its content. */
        s = spec_default(versions[i], tee, bt);
        s.sig_len_delta = -1;
        reject(&s, VT_E_BAD_LENGTH,
               versions[i] == 3 ? "quote.cert_data" : "quote.outer_cert_data.size", NULL);
        /* Too short for the signature and key: these lengths disagree with their content. */
        s = spec_default(versions[i], tee, bt);
        /* Declared 100: room for the signature, not the key. */
        s.sig_len_delta =
            -(long)(s.cert_len + s.auth_len + 6 + 2 + 448 + (versions[i] == 3 ? 0 : 6) + 28);
        reject(&s, VT_E_BAD_LENGTH, "quote.attest_key", NULL);
        s.sig_len_delta -= 100;
        reject(&s, VT_E_BAD_LENGTH, "quote.signature", NULL);
    }
}

static void test_reject_outer_cert(void **state)
{
    (void)state;
    static const uint16_t known[] = {1, 2, 3, 4, 5, 7};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        struct qspec s = spec_default(4, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD10);
        s.outer_type = known[i];
        reject(&s, VT_E_UNSUPPORTED_CERT_DATA, "quote.outer_cert_data.type", "expected 6");
        s = spec_default(5, VT_DCAP_TEE_SGX, VT_DCAP_BODY_SGX);
        s.outer_type = known[i];
        reject(&s, VT_E_UNSUPPORTED_CERT_DATA, "quote.outer_cert_data.type", NULL);
    }
    static const uint16_t unknown[] = {0, 8, 9, 0x106, 0xffff};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        struct qspec s = spec_default(4, VT_DCAP_TEE_SGX, VT_DCAP_BODY_SGX);
        s.outer_type = unknown[i];
        reject(&s, VT_E_BAD_FIELD, "quote.outer_cert_data.type", "not a known");
    }
    /* SPEC: QVL step 6: the declared size equals what the signature data holds. */
    struct qspec s = spec_default(4, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD10);
    s.outer_size_delta = 1;
    reject(&s, VT_E_BAD_LENGTH, "quote.outer_cert_data.size", "bytes remain in the signature");
    s.outer_size_delta = -1;
    reject(&s, VT_E_BAD_LENGTH, "quote.outer_cert_data.size", NULL);
    s = spec_default(5, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD15);
    s.outer_size_delta = -1000;
    reject(&s, VT_E_BAD_LENGTH, "quote.outer_cert_data.size", NULL);
}

static void test_reject_inner(void **state)
{
    (void)state;
    static const uint16_t versions[] = {3, 4, 5};
    for (size_t i = 0; i < 3; i++) {
        uint16_t v = versions[i];
        uint32_t tee = v == 3 ? VT_DCAP_TEE_SGX : VT_DCAP_TEE_TDX;
        uint16_t bt = v == 3 ? VT_DCAP_BODY_SGX : VT_DCAP_BODY_TD10;
        /* Certification data types other than 1-5 and 7 (6 is only the outer wrapper). */
        static const uint16_t bad[] = {0, 6, 8, 0xffff};
        for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
            struct qspec s = spec_default(v, tee, bt);
            s.cert_type = bad[k];
            reject(&s, VT_E_BAD_FIELD, "quote.cert_data.type", "expected 1-5 or 7");
        }
        /* Certification data size past the block, or short of its end. */
        struct qspec s = spec_default(v, tee, bt);
        s.cert_size_delta = 1;
        reject(&s, VT_E_BAD_LENGTH, "quote.cert_data", "needs 101 bytes; 100 left");
        s.cert_size_delta = -1;
        reject(&s, VT_E_BAD_LENGTH, "quote.cert_data.size", "leaves 1 unparsed bytes");
        s = spec_default(v, tee, bt);
        s.extra_in_block = 5;
        reject(&s, VT_E_BAD_LENGTH, "quote.cert_data.size", "leaves 5 unparsed bytes");
        /* QE auth data: over the cap, or past the block. */
        s = spec_default(v, tee, bt);
        s.auth_len = VT_MAX_QE_AUTH_DATA;
        s.auth_size_delta = 1;
        reject(&s, VT_E_TOO_LARGE, "quote.qe_auth_data.size", "4097");
        s = spec_default(v, tee, bt);
        s.auth_len = 32;
        s.auth_size_delta = 4000;
        s.cert_len = 10;
        reject(&s, VT_E_BAD_LENGTH, "quote.qe_auth_data", NULL);
        /* A shorter auth size shifts the certification data header: its type becomes a
         * pattern byte pair, or the sizes disagree. */
        s = spec_default(v, tee, bt);
        s.auth_size_delta = -2;
        s.cert_type = VT_DCAP_CERT_PCK_CHAIN;
        struct qbuild *qb = malloc(sizeof(*qb));
        assert_non_null(qb);
        build(&s, qb);
        struct vt_dcap_quote q;
        struct vt_diag d;
        enum vt_err err = parse_exact(qb->b, qb->n, NULL, &q, &d);
        assert_true(err == VT_E_BAD_FIELD || err == VT_E_BAD_LENGTH);
        free(qb);
    }
}

static void test_reject_args_and_size(void **state)
{
    (void)state;
    struct vt_dcap_quote q;
    struct vt_diag d;
    vt_diag_init(&d);
    uint8_t one = 3;
    assert_int_equal(vt_dcap_quote_parse(NULL, 10, &q, &d), VT_E_ARG);
    assert_int_equal(d.code, VT_E_ARG);
    assert_int_equal(vt_dcap_quote_parse(&one, 1, NULL, &d), VT_E_ARG);
    assert_int_equal(vt_dcap_quote_parse(NULL, 0, &q, &d), VT_E_TRUNCATED);
    assert_int_equal(vt_dcap_quote_parse(&one, 1, &q, NULL), VT_E_TRUNCATED);
    /* Larger than the evidence cap, even when a valid quote is at the start. */
    uint8_t *big = calloc(1, (size_t)VT_MAX_EVIDENCE_SIZE + 1);
    assert_non_null(big);
    struct qspec s = spec_default(4, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD10);
    struct qbuild *qb = malloc(sizeof(*qb));
    assert_non_null(qb);
    build(&s, qb);
    memcpy(big, qb->b, qb->n);
    assert_int_equal(vt_dcap_quote_parse(big, (size_t)VT_MAX_EVIDENCE_SIZE + 1, &q, &d),
                     VT_E_TOO_LARGE);
    assert_string_equal(d.check, "quote.size");
    assert_int_equal(vt_dcap_quote_parse(big, VT_MAX_EVIDENCE_SIZE, &q, &d), VT_OK);
    assert_int_equal(q.trailing, VT_MAX_EVIDENCE_SIZE - qb->n);
    free(qb);
    free(big);
}

/* Every proper prefix of a valid quote fails as truncated (or inconsistent), never crashes. */
static void truncate_all(const struct qspec *s)
{
    struct qbuild *qb = malloc(sizeof(*qb));
    assert_non_null(qb);
    build(s, qb);
    struct vt_dcap_quote q;
    struct vt_diag d;
    size_t truncated = 0;
    for (size_t len = 0; len < qb->n; len++) {
        enum vt_err err = parse_exact(qb->b, len, NULL, &q, &d);
        if (err != VT_E_TRUNCATED && err != VT_E_BAD_LENGTH) {
            fail_msg("prefix of %zu/%zu bytes gave %s (%s: %s)", len, qb->n, vt_err_name(err),
                     d.check, d.detail);
        }
        truncated += err == VT_E_TRUNCATED;
    }
    assert_int_equal(truncated, qb->n);
    assert_int_equal(parse_exact(qb->b, qb->n, NULL, &q, &d), VT_OK);
    free(qb);
}

static void test_truncation(void **state)
{
    (void)state;
    struct qspec s = spec_default(3, VT_DCAP_TEE_SGX, VT_DCAP_BODY_SGX);
    truncate_all(&s);
    s = spec_default(5, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD15);
    truncate_all(&s);
    s = spec_default(5, VT_DCAP_TEE_SGX, VT_DCAP_BODY_SGX);
    truncate_all(&s);
    s = spec_default(4, VT_DCAP_TEE_TDX, VT_DCAP_BODY_TD10);
    truncate_all(&s);
}

/* ---- real fixtures ---- */

struct trailing_expect {
    const char *set;
    size_t trailing;
    bool seen;
};

static void test_fixture_quotes(void **state)
{
    (void)state;
    const char *root = vt_fixtures_or_skip();
    struct trailing_expect known[] = {
        {"phala-dcap-qvl/tdx-v4-fmspcb0c06f000000", 70, false},
        {"phala-dcap-qvl/tdx-v4-fmspc20a06f000000-near", 70, false},
        {"automata-dcap-attestation/tdx-v4-fmspc00806f050000", 3065, false},
        {"go-tdx-guest/tdx-v4-fmspc50806f000000-spr-e4", 39, false},
    };
    char pat[1200];
    snprintf(pat, sizeof(pat), "%s/dcap/*/*/quote.bin", root);
    glob_t g;
    assert_int_equal(glob(pat, 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 9);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i];
        size_t n;
        uint8_t *buf = vt_test_read_file(path, &n);
        assert_non_null(buf);
        struct vt_dcap_quote q;
        struct vt_diag d;
        uint8_t *c;
        enum vt_err err = parse_exact(buf, n, &c, &q, &d);
        if (err != VT_OK) {
            fail_msg("%s: %s (%s: %s)", path, vt_err_name(err), d.check, d.detail);
        }
        /* The set name: the two directories above quote.bin. */
        char set[512];
        size_t plen = strlen(path) - strlen("/quote.bin");
        size_t rlen = strlen(root) + strlen("/dcap/");
        snprintf(set, sizeof(set), "%.*s", (int)(plen - rlen), path + rlen);

        char exp_path[1200];
        snprintf(exp_path, sizeof(exp_path), "%.*s/expected.json", (int)plen, path);
        json_error_t jerr;
        json_t *exp = json_load_file(exp_path, 0, &jerr);
        assert_non_null(exp);
        assert_int_equal(q.version, json_integer_value(json_object_get(exp, "quote_version")));
        json_t *bt = json_object_get(exp, "body_type");
        if (bt != NULL) {
            assert_int_equal(q.body_type, json_integer_value(bt));
        }
        const char *tee = json_string_value(json_object_get(exp, "tee"));
        assert_non_null(tee);
        assert_int_equal(q.tee_type, strcmp(tee, "TDX") == 0 ? VT_DCAP_TEE_TDX : VT_DCAP_TEE_SGX);
        assert_int_equal(q.cert_type, VT_DCAP_CERT_PCK_CHAIN);
        assert_int_equal(q.outer_cert_type, q.version == 3 ? 5 : 6);
        assert_int_equal(q.qe_auth_data_len, 32);
        assert_int_equal(q.quote_len + q.trailing, n);
        assert_ptr_equal(q.signed_data, c);
        assert_int_equal(q.signed_len, q.version == 5 ? 54 + q.body_size : 48 + q.body_size);
        size_t want = 0;
        for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
            if (strcmp(known[k].set, set) == 0) {
                want = known[k].trailing;
                known[k].seen = true;
            }
        }
        print_message("  %s: v%u body type %u, %zu bytes, quote %zu, trailing %zu\n", set,
                      q.version, q.body_type, n, q.quote_len, q.trailing);
        assert_int_equal(q.trailing, want);
        json_decref(exp);
        free(c);
        free(buf);
    }
    for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
        if (!known[k].seen) {
            fail_msg("fixture set %s not found", known[k].set);
        }
    }
    globfree(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v3_sgx),
        cmocka_unit_test(test_v4_sgx),
        cmocka_unit_test(test_v4_tdx),
        cmocka_unit_test(test_v5_body_types),
        cmocka_unit_test(test_cert_types),
        cmocka_unit_test(test_trailing_and_sizes),
        cmocka_unit_test(test_report_decode),
        cmocka_unit_test(test_vendor_id),
        cmocka_unit_test(test_reject_header),
        cmocka_unit_test(test_reject_v5_body),
        cmocka_unit_test(test_reject_sig_data_len),
        cmocka_unit_test(test_reject_outer_cert),
        cmocka_unit_test(test_reject_inner),
        cmocka_unit_test(test_reject_args_and_size),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_fixture_quotes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
