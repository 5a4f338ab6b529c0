/*
 * vt_sgx_pck_ext_parse: the SGX extension of PCK certificates, built here entry by entry with a
 * small DER writer (Processor-CA 5-entry and Platform-CA 7-entry forms, any order), every reject
 * with its exact error, truncation at every length, and the PCK leaves of the real fixture
 * quotes (FMSPC against the set's name, entry count against the issuing CA).
 */
#include <ctype.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tee/dcap/dcap.h"
#include "base/der.h"

#include "vt_fixtures.h"

/* ---- a small DER writer ---- */

#define DBUF_MAX 4096

struct dbuf {
    uint8_t b[DBUF_MAX];
    size_t n;
};

static void d_put(struct dbuf *o, const void *p, size_t n)
{
    assert_true(o->n + n <= DBUF_MAX);
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void d_byte(struct dbuf *o, uint8_t v)
{
    d_put(o, &v, 1);
}

/* tag, definite minimal length, content. */
static void d_tlv(struct dbuf *o, uint8_t tag, const uint8_t *c, size_t n)
{
    d_byte(o, tag);
    if (n < 0x80) {
        d_byte(o, (uint8_t)n);
    } else if (n < 0x100) {
        d_byte(o, 0x81);
        d_byte(o, (uint8_t)n);
    } else {
        assert_true(n < 0x10000);
        d_byte(o, 0x82);
        d_byte(o, (uint8_t)(n >> 8));
        d_byte(o, (uint8_t)n);
    }
    d_put(o, c, n);
}

/* Minimal non-negative INTEGER content of v. */
static size_t enc_uint(uint32_t v, uint8_t out[5])
{
    uint8_t tmp[5];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)v;
        v >>= 8;
    } while (v != 0);
    size_t k = 0;
    if (tmp[n - 1] & 0x80) {
        out[k++] = 0;
    }
    while (n > 0) {
        out[k++] = tmp[--n];
    }
    return k;
}

/* 1.2.840.113741.1.13.1 */
static const uint8_t sgx_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

enum nested { VAL_RAW, VAL_TCB, VAL_CONFIG };

/* One SEQUENCE { OID (the SGX OID + arcs), value } entry, or raw bytes in its place. */
struct pair {
    uint8_t arcs[4];
    size_t narcs;
    uint8_t tag;
    uint8_t val[32];
    size_t len;
    enum nested nested;
    const uint8_t *raw; /* if set, written instead of the entry */
    size_t raw_len;
};

struct ext {
    struct pair top[10];
    size_t ntop;
    struct pair tcb[22];
    size_t ntcb;
    struct pair cfg[5];
    size_t ncfg;
    size_t trailing;
};

static void write_pairs(const struct ext *e, const struct pair *list, size_t n, struct dbuf *out);

static void write_pair(const struct ext *e, const struct pair *p, struct dbuf *out)
{
    if (p->raw != NULL) {
        d_put(out, p->raw, p->raw_len);
        return;
    }
    struct dbuf *inner = calloc(1, sizeof(*inner));
    struct dbuf *oid = calloc(1, sizeof(*oid));
    assert_non_null(inner);
    assert_non_null(oid);
    d_put(oid, sgx_oid, sizeof(sgx_oid));
    d_put(oid, p->arcs, p->narcs);
    d_tlv(inner, 0x06, oid->b, oid->n);
    if (p->nested == VAL_RAW) {
        d_tlv(inner, p->tag, p->val, p->len);
    } else {
        struct dbuf *seq = calloc(1, sizeof(*seq));
        assert_non_null(seq);
        if (p->nested == VAL_TCB) {
            write_pairs(e, e->tcb, e->ntcb, seq);
        } else {
            write_pairs(e, e->cfg, e->ncfg, seq);
        }
        d_tlv(inner, p->tag, seq->b, seq->n);
        free(seq);
    }
    d_tlv(out, 0x30, inner->b, inner->n);
    free(oid);
    free(inner);
}

static void write_pairs(const struct ext *e, const struct pair *list, size_t n, struct dbuf *out)
{
    for (size_t i = 0; i < n; i++) {
        write_pair(e, &list[i], out);
    }
}

static void serialize(const struct ext *e, struct dbuf *out)
{
    struct dbuf *seq = calloc(1, sizeof(*seq));
    assert_non_null(seq);
    memset(out, 0, sizeof(*out));
    write_pairs(e, e->top, e->ntop, seq);
    d_tlv(out, 0x30, seq->b, seq->n);
    for (size_t i = 0; i < e->trailing; i++) {
        d_byte(out, 0);
    }
    free(seq);
}

static struct pair mk(uint8_t arc1, int arc2, uint8_t tag, const uint8_t *val, size_t len)
{
    struct pair p;
    memset(&p, 0, sizeof(p));
    p.arcs[0] = arc1;
    p.narcs = 1;
    if (arc2 >= 0) {
        p.arcs[1] = (uint8_t)arc2;
        p.narcs = 2;
    }
    p.tag = tag;
    assert_true(len <= sizeof(p.val));
    if (len > 0) {
        memcpy(p.val, val, len);
    }
    p.len = len;
    return p;
}

static struct pair mk_uint(uint8_t arc1, int arc2, uint8_t tag, uint32_t v)
{
    uint8_t c[5];
    size_t n = enc_uint(v, c);
    return mk(arc1, arc2, tag, c, n);
}

static struct pair mk_nested(uint8_t arc, enum nested which)
{
    struct pair p = mk(arc, -1, 0x30, NULL, 0);
    p.nested = which;
    return p;
}

/* Expected values of the default extension. */
static const uint8_t comps[16] = {0, 1, 127, 128, 255, 3, 4, 5, 6, 7, 8, 9, 10, 11, 254, 2};
#define PCESVN 0x8001u
static const uint8_t ppid[16] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
static const uint8_t cpusvn[16] = {0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
                                   0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf};
static const uint8_t pceid[2] = {0x00, 0x01};
static const uint8_t fmspc[6] = {0x00, 0xa0, 0x67, 0x11, 0x00, 0x00};
static const uint8_t pinst[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                  0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};

static void ext_default(struct ext *e, bool platform)
{
    memset(e, 0, sizeof(*e));
    for (int k = 1; k <= 16; k++) {
        e->tcb[e->ntcb++] = mk_uint(2, k, 0x02, comps[k - 1]);
    }
    e->tcb[e->ntcb++] = mk_uint(2, 17, 0x02, PCESVN);
    e->tcb[e->ntcb++] = mk(2, 18, 0x04, cpusvn, 16);
    e->top[e->ntop++] = mk(1, -1, 0x04, ppid, 16);
    e->top[e->ntop++] = mk_nested(2, VAL_TCB);
    e->top[e->ntop++] = mk(3, -1, 0x04, pceid, 2);
    e->top[e->ntop++] = mk(4, -1, 0x04, fmspc, 6);
    e->top[e->ntop++] = mk_uint(5, -1, 0x0a, 1);
    if (platform) {
        static const uint8_t t = 0xff, f = 0x00;
        e->cfg[e->ncfg++] = mk(7, 1, 0x01, &t, 1);
        e->cfg[e->ncfg++] = mk(7, 2, 0x01, &f, 1);
        e->cfg[e->ncfg++] = mk(7, 3, 0x01, &t, 1);
        e->top[e->ntop++] = mk(6, -1, 0x04, pinst, 16);
        e->top[e->ntop++] = mk_nested(7, VAL_CONFIG);
    }
}

static void drop(struct pair *list, size_t *n, size_t i)
{
    memmove(&list[i], &list[i + 1], (*n - i - 1) * sizeof(list[0]));
    (*n)--;
}

static enum vt_err parse_ext(const struct ext *e, struct vt_sgx_pck_ext *out, struct vt_diag *d)
{
    struct dbuf *b = malloc(sizeof(*b));
    assert_non_null(b);
    serialize(e, b);
    /* An exact-size copy, so ASan sees any overread. */
    uint8_t *c = malloc(b->n);
    assert_non_null(c);
    memcpy(c, b->b, b->n);
    vt_diag_init(d);
    enum vt_err err = vt_sgx_pck_ext_parse(c, b->n, out, d);
    assert_int_equal(d->code, err);
    free(c);
    free(b);
    return err;
}

static void accept(const struct ext *e, struct vt_sgx_pck_ext *out)
{
    struct vt_diag d;
    enum vt_err err = parse_ext(e, out, &d);
    if (err != VT_OK) {
        fail_msg("expected success, got %s (%s: %s)", vt_err_name(err), d.check, d.detail);
    }
}

static void reject(const struct ext *e, const char *detail_has)
{
    struct vt_sgx_pck_ext out, before;
    memset(&out, 0x5a, sizeof(out));
    memcpy(&before, &out, sizeof(out));
    struct vt_diag d;
    enum vt_err err = parse_ext(e, &out, &d);
    if (err != VT_E_CERT_EXTENSION) {
        fail_msg("expected VT_E_CERT_EXTENSION, got %s (%s: %s)", vt_err_name(err), d.check,
                 d.detail);
    }
    assert_string_equal(d.check, "pck_cert.sgx_extension");
    if (detail_has != NULL && strstr(d.detail, detail_has) == NULL) {
        fail_msg("detail \"%s\" lacks \"%s\"", d.detail, detail_has);
    }
    assert_memory_equal(&out, &before, sizeof(out));
}

static void check_common(const struct vt_sgx_pck_ext *x)
{
    assert_memory_equal(x->ppid, ppid, 16);
    assert_memory_equal(x->tcb_components, comps, 16);
    assert_int_equal(x->pcesvn, PCESVN);
    assert_memory_equal(x->cpusvn, cpusvn, 16);
    assert_memory_equal(x->pceid, pceid, 2);
    assert_memory_equal(x->fmspc, fmspc, 6);
    assert_int_equal(x->sgx_type, 1);
}

/* ---- accepted forms ---- */

static void test_processor_form(void **state)
{
    (void)state;
    struct ext e;
    struct vt_sgx_pck_ext x;
    ext_default(&e, false);
    accept(&e, &x);
    check_common(&x);
    assert_false(x.has_platform_instance_id);
    assert_false(x.has_configuration);
    assert_false(x.has_dynamic_platform || x.has_cached_keys || x.has_smt_enabled);
}

static void test_platform_form(void **state)
{
    (void)state;
    struct ext e;
    struct vt_sgx_pck_ext x;
    ext_default(&e, true);
    accept(&e, &x);
    check_common(&x);
    assert_true(x.has_platform_instance_id);
    assert_memory_equal(x.platform_instance_id, pinst, 16);
    assert_true(x.has_configuration);
    assert_true(x.has_dynamic_platform && x.has_cached_keys && x.has_smt_enabled);
    assert_true(x.dynamic_platform);
    assert_false(x.cached_keys);
    assert_true(x.smt_enabled);
}

static void test_any_order(void **state)
{
    (void)state;
    struct ext e;
    struct vt_sgx_pck_ext x;
    ext_default(&e, true);
    /* Reverse the top level and rotate the TCB entries. */
    for (size_t i = 0; i < e.ntop / 2; i++) {
        struct pair t = e.top[i];
        e.top[i] = e.top[e.ntop - 1 - i];
        e.top[e.ntop - 1 - i] = t;
    }
    struct pair tcb[22];
    for (size_t i = 0; i < e.ntcb; i++) {
        tcb[i] = e.tcb[(i + 7) % e.ntcb];
    }
    memcpy(e.tcb, tcb, e.ntcb * sizeof(tcb[0]));
    e.cfg[0] = e.cfg[2];
    e.cfg[2] = mk(7, 1, 0x01, (const uint8_t[]){0xff}, 1);
    accept(&e, &x);
    check_common(&x);
    assert_true(x.dynamic_platform && !x.cached_keys && x.smt_enabled);
}

static void test_config_optional(void **state)
{
    (void)state;
    struct ext e;
    struct vt_sgx_pck_ext x;
    ext_default(&e, true);
    e.ncfg = 0;
    accept(&e, &x);
    assert_true(x.has_configuration);
    assert_false(x.has_dynamic_platform || x.has_cached_keys || x.has_smt_enabled);
    ext_default(&e, true);
    drop(e.cfg, &e.ncfg, 0);
    drop(e.cfg, &e.ncfg, 0);
    accept(&e, &x);
    assert_false(x.has_dynamic_platform || x.has_cached_keys);
    assert_true(x.has_smt_enabled && x.smt_enabled);
}

static void test_values(void **state)
{
    (void)state;
    struct ext e;
    struct vt_sgx_pck_ext x;
    for (uint32_t t = 0; t <= 2; t++) {
        ext_default(&e, false);
        e.top[4] = mk_uint(5, -1, 0x0a, t);
        accept(&e, &x);
        assert_int_equal(x.sgx_type, (int)t);
    }
    ext_default(&e, false);
    e.tcb[16] = mk_uint(2, 17, 0x02, 65535);
    accept(&e, &x);
    assert_int_equal(x.pcesvn, 65535);
    e.tcb[16] = mk_uint(2, 17, 0x02, 0);
    accept(&e, &x);
    assert_int_equal(x.pcesvn, 0);
}

/* ---- rejects ---- */

static void test_reject_framing(void **state)
{
    (void)state;
    struct vt_sgx_pck_ext x;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_sgx_pck_ext_parse(NULL, 5, &x, &d), VT_E_ARG);
    uint8_t empty_seq[] = {0x30, 0x00};
    assert_int_equal(vt_sgx_pck_ext_parse(empty_seq, 2, NULL, &d), VT_E_ARG);
    assert_int_equal(vt_sgx_pck_ext_parse(NULL, 0, &x, &d), VT_E_CERT_EXTENSION);
    assert_int_equal(vt_sgx_pck_ext_parse(empty_seq, 2, &x, &d), VT_E_CERT_EXTENSION);
    assert_non_null(strstr(d.detail, "0 entries"));
    uint8_t set[] = {0x31, 0x00};
    assert_int_equal(vt_sgx_pck_ext_parse(set, 2, &x, &d), VT_E_CERT_EXTENSION);
    assert_non_null(strstr(d.detail, "not a DER SEQUENCE"));
    /* Indefinite length and non-minimal length are not DER. */
    uint8_t indef[] = {0x30, 0x80, 0x00, 0x00};
    assert_int_equal(vt_sgx_pck_ext_parse(indef, 4, &x, &d), VT_E_CERT_EXTENSION);
    uint8_t longlen[] = {0x30, 0x81, 0x00};
    assert_int_equal(vt_sgx_pck_ext_parse(longlen, 3, &x, &d), VT_E_CERT_EXTENSION);

    struct ext e;
    ext_default(&e, true);
    e.trailing = 1;
    reject(&e, "1 trailing bytes after the SEQUENCE");
    ext_default(&e, false);
    e.trailing = 3;
    reject(&e, "3 trailing bytes");
}

static void test_reject_counts(void **state)
{
    (void)state;
    struct ext e;
    /* 4 entries. */
    ext_default(&e, false);
    drop(e.top, &e.ntop, 4);
    reject(&e, "has 4 entries; expected 5 (Processor CA) or 7 (Platform CA)");
    /* 6 entries: a Platform form without Configuration, or a Processor form plus .6. */
    ext_default(&e, true);
    drop(e.top, &e.ntop, 6);
    reject(&e, "has 6 entries");
    ext_default(&e, true);
    drop(e.top, &e.ntop, 5);
    reject(&e, "has 6 entries");
    /* 5 entries that are not .1-.5. */
    ext_default(&e, true);
    drop(e.top, &e.ntop, 4);
    drop(e.top, &e.ntop, 5);
    reject(&e, "OID 1.2.840.113741.1.13.1.5 (SGX Type) is missing");
    ext_default(&e, true);
    drop(e.top, &e.ntop, 0);
    drop(e.top, &e.ntop, 0);
    reject(&e, "(PPID) is missing from the 5-entry form");
    /* Nothing. */
    ext_default(&e, false);
    e.ntop = 0;
    reject(&e, "has 0 entries");
}

static void test_reject_oids(void **state)
{
    (void)state;
    struct ext e;
    /* Unknown arcs under the SGX OID, and OIDs near it. */
    ext_default(&e, false);
    e.top[4] = mk_uint(8, -1, 0x0a, 1);
    reject(&e, "unknown OID 1.2.840.113741.1.13.1.8");
    ext_default(&e, false);
    e.top[4] = mk_uint(0, -1, 0x0a, 1);
    reject(&e, "unknown OID 1.2.840.113741.1.13.1.0");
    ext_default(&e, false);
    e.top[0] = mk(1, 1, 0x04, ppid, 16);
    reject(&e, "unknown OID 1.2.840.113741.1.13.1.1.1");
    ext_default(&e, false);
    e.top[0].narcs = 0;
    reject(&e, "unknown OID 1.2.840.113741.1.13.1");
    ext_default(&e, false);
    e.top[2].arcs[0] = 0x83; /* 1.2.840.113741.1.13.1.3xx: a multi-byte arc */
    e.top[2].arcs[1] = 0x01;
    e.top[2].narcs = 2;
    reject(&e, "unknown OID 1.2.840.113741.1.13.1.385");
    /* Duplicates. */
    ext_default(&e, false);
    e.top[e.ntop++] = mk(4, -1, 0x04, fmspc, 6);
    reject(&e, "duplicate OID 1.2.840.113741.1.13.1.4 (FMSPC)");
    ext_default(&e, true);
    e.top[5] = e.top[0];
    reject(&e, "duplicate OID 1.2.840.113741.1.13.1.1 (PPID)");
    /* Malformed OID encodings: a trailing continuation bit, a non-minimal arc. */
    ext_default(&e, false);
    e.top[3].arcs[0] = 0x84;
    e.top[3].narcs = 1;
    reject(&e, "malformed or overlong OID");
    ext_default(&e, false);
    e.top[3].arcs[0] = 0x80;
    e.top[3].arcs[1] = 0x04;
    e.top[3].narcs = 2;
    reject(&e, "malformed or overlong OID");
}

static void test_reject_entries(void **state)
{
    (void)state;
    struct ext e;
    /* An entry that is not a SEQUENCE. */
    static const uint8_t octets[] = {0x04, 0x01, 0x00};
    ext_default(&e, false);
    e.top[4].raw = octets;
    e.top[4].raw_len = sizeof(octets);
    reject(&e, "entry at offset");
    /* A SEQUENCE not starting with an OID. */
    static const uint8_t no_oid[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    e.top[4].raw = no_oid;
    e.top[4].raw_len = sizeof(no_oid);
    reject(&e, "does not start with an OID");
    /* An OID without a value, and an OID with two values. */
    static const uint8_t no_val[] = {0x30, 0x0c, 0x06, 0x0a, 0x2a, 0x86, 0x48,
                                     0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01, 0x05};
    e.top[4].raw = no_val;
    e.top[4].raw_len = sizeof(no_val);
    reject(&e, "OID 1.2.840.113741.1.13.1.5 at offset");
    static const uint8_t two_vals[] = {0x30, 0x12, 0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d,
                                       0x01, 0x0d, 0x01, 0x05, 0x0a, 0x01, 0x01, 0x0a, 0x01, 0x01};
    e.top[4].raw = two_vals;
    e.top[4].raw_len = sizeof(two_vals);
    reject(&e, "1.2.840.113741.1.13.1.5 at offset");
    /* The same entry written well is accepted (the raw bytes above differ only as intended). */
    static const uint8_t good[] = {0x30, 0x0f, 0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf8,
                                   0x4d, 0x01, 0x0d, 0x01, 0x05, 0x0a, 0x01, 0x02};
    e.top[4].raw = good;
    e.top[4].raw_len = sizeof(good);
    struct vt_sgx_pck_ext x;
    accept(&e, &x);
    assert_int_equal(x.sgx_type, 2);
}

static void test_reject_top_values(void **state)
{
    (void)state;
    struct ext e;
    static const uint8_t z[32];
    struct {
        size_t index;
        struct pair p;
        bool platform;
        const char *detail;
    } cases[] = {
        {0, mk(1, -1, 0x04, ppid, 15), false,
         "OID 1.2.840.113741.1.13.1.1 (PPID): OCTET STRING of 15 bytes; expected 16"},
        {0, mk(1, -1, 0x04, z, 17), false, "of 17 bytes"},
        {0, mk(1, -1, 0x02, ppid, 16), false, "(PPID): value has tag 0x02 (INTEGER)"},
        {1, mk(2, -1, 0x04, z, 4), false, "(TCB): value has tag 0x04 (OCTET STRING)"},
        {2, mk(3, -1, 0x04, z, 1), false, "1.2.840.113741.1.13.1.3 (PCE-ID): OCTET STRING of 1"},
        {2, mk(3, -1, 0x04, z, 3), false, "(PCE-ID): OCTET STRING of 3"},
        {3, mk(4, -1, 0x04, fmspc, 5), false, "1.2.840.113741.1.13.1.4 (FMSPC): OCTET STRING of 5"},
        {3, mk(4, -1, 0x04, z, 7), false, "(FMSPC): OCTET STRING of 7"},
        {3, mk(4, -1, 0x0c, fmspc, 6), false, "(FMSPC): value has tag 0x0c"},
        {4, mk_uint(5, -1, 0x0a, 3), false, "1.2.840.113741.1.13.1.5 (SGX Type): ENUMERATED"},
        {4, mk_uint(5, -1, 0x0a, 256), false, "(SGX Type)"},
        {4, mk(5, -1, 0x0a, (const uint8_t[]){0xff}, 1), false, "(SGX Type)"},
        {4, mk(5, -1, 0x0a, (const uint8_t[]){0x00, 0x01}, 2), false, "(SGX Type)"},
        {4, mk(5, -1, 0x0a, NULL, 0), false, "(SGX Type)"},
        {4, mk_uint(5, -1, 0x02, 1), false, "(SGX Type): value has tag 0x02"},
        {5, mk(6, -1, 0x04, pinst, 15), true,
         "1.2.840.113741.1.13.1.6 (PlatformInstanceID): OCTET STRING of 15"},
        {5, mk(6, -1, 0x05, NULL, 0), true, "(PlatformInstanceID): value has tag 0x05"},
        {6, mk(7, -1, 0x04, z, 0), true, "1.2.840.113741.1.13.1.7 (Configuration): value has tag"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ext_default(&e, cases[i].platform);
        e.top[cases[i].index] = cases[i].p;
        reject(&e, cases[i].detail);
    }
}

static void test_reject_tcb(void **state)
{
    (void)state;
    struct ext e;
    /* Each of the 18 entries missing in turn. */
    for (size_t i = 0; i < 18; i++) {
        ext_default(&e, false);
        drop(e.tcb, &e.ntcb, i);
        char want[96];
        snprintf(want, sizeof(want), "OID 1.2.840.113741.1.13.1.2.%zu is missing", i + 1);
        reject(&e, want);
    }
    ext_default(&e, false);
    e.tcb[e.ntcb++] = mk_uint(2, 3, 0x02, 1);
    reject(&e, "TCB (1.2.840.113741.1.13.1.2): duplicate OID 1.2.840.113741.1.13.1.2.3");
    ext_default(&e, false);
    e.tcb[e.ntcb++] = mk_uint(2, 19, 0x02, 1);
    reject(&e, "unknown OID 1.2.840.113741.1.13.1.2.19");
    ext_default(&e, false);
    e.tcb[5] = mk_uint(3, 6, 0x02, 1);
    reject(&e, "unknown OID 1.2.840.113741.1.13.1.3.6");
    ext_default(&e, false);
    e.tcb[0] = mk_uint(2, 0, 0x02, 1);
    reject(&e, "unknown OID 1.2.840.113741.1.13.1.2.0");
    ext_default(&e, false);
    e.tcb[0] = mk_uint(2, -1, 0x02, 1);
    reject(&e, "unknown OID 1.2.840.113741.1.13.1.2");

    struct {
        size_t index;
        struct pair p;
        const char *detail;
    } cases[] = {
        {0, mk_uint(2, 1, 0x02, 256), "1.2.840.113741.1.13.1.2.1 (SGX TCB comp 01 SVN)"},
        {15, mk_uint(2, 16, 0x02, 1000), "1.2.840.113741.1.13.1.2.16 (SGX TCB comp 16 SVN)"},
        {3, mk(2, 4, 0x02, (const uint8_t[]){0x80}, 1), "(SGX TCB comp 04 SVN): INTEGER"},
        {3, mk(2, 4, 0x02, (const uint8_t[]){0x00, 0x05}, 2), "(SGX TCB comp 04 SVN)"},
        {3, mk(2, 4, 0x04, (const uint8_t[]){0x05}, 1), "(SGX TCB comp 04 SVN): value has tag"},
        {3, mk(2, 4, 0x0a, (const uint8_t[]){0x05}, 1), "value has tag 0x0a (ENUMERATED)"},
        {16, mk_uint(2, 17, 0x02, 65536), "1.2.840.113741.1.13.1.2.17 (PCESVN)"},
        {16, mk(2, 17, 0x04, (const uint8_t[]){0x00, 0x01}, 2), "(PCESVN): value has tag"},
        {17, mk(2, 18, 0x04, cpusvn, 15),
         "1.2.840.113741.1.13.1.2.18 (CPUSVN): OCTET STRING of 15"},
        {17, mk_uint(2, 18, 0x02, 5), "(CPUSVN): value has tag 0x02"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ext_default(&e, false);
        e.tcb[cases[i].index] = cases[i].p;
        reject(&e, cases[i].detail);
    }
    /* A TCB entry that is not a SEQUENCE. */
    static const uint8_t octets[] = {0x04, 0x00};
    ext_default(&e, false);
    e.tcb[2].raw = octets;
    e.tcb[2].raw_len = sizeof(octets);
    reject(&e, "TCB: entry at offset");
}

static void test_reject_config(void **state)
{
    (void)state;
    struct ext e;
    ext_default(&e, true);
    e.cfg[e.ncfg++] = mk(7, 2, 0x01, (const uint8_t[]){0xff}, 1);
    reject(&e, "Configuration (1.2.840.113741.1.13.1.7): duplicate OID 1.2.840.113741.1.13.1.7.2");
    ext_default(&e, true);
    e.cfg[0] = mk(7, 4, 0x01, (const uint8_t[]){0xff}, 1);
    reject(&e, "unknown OID 1.2.840.113741.1.13.1.7.4");
    ext_default(&e, true);
    e.cfg[0] = mk(2, 1, 0x01, (const uint8_t[]){0xff}, 1);
    reject(&e, "unknown OID 1.2.840.113741.1.13.1.2.1");
    ext_default(&e, true);
    e.cfg[1] = mk(7, 2, 0x01, (const uint8_t[]){0x01}, 1);
    reject(&e, "1.2.840.113741.1.13.1.7.2 (cachedKeys): BOOLEAN is not 0x00 or 0xff");
    ext_default(&e, true);
    e.cfg[2] = mk(7, 3, 0x01, (const uint8_t[]){0xff, 0xff}, 2);
    reject(&e, "(SMTEnabled): BOOLEAN");
    ext_default(&e, true);
    e.cfg[0] = mk(7, 1, 0x02, (const uint8_t[]){0x01}, 1);
    reject(&e, "1.2.840.113741.1.13.1.7.1 (dynamicPlatform): value has tag 0x02");
}

/* Every proper prefix of both forms fails cleanly. */
static void test_truncation(void **state)
{
    (void)state;
    for (int platform = 0; platform <= 1; platform++) {
        struct ext e;
        ext_default(&e, platform != 0);
        struct dbuf *b = malloc(sizeof(*b));
        assert_non_null(b);
        serialize(&e, b);
        for (size_t len = 0; len < b->n; len++) {
            uint8_t *c = malloc(len > 0 ? len : 1);
            assert_non_null(c);
            memcpy(c, b->b, len);
            struct vt_sgx_pck_ext x;
            struct vt_diag d;
            vt_diag_init(&d);
            assert_int_equal(vt_sgx_pck_ext_parse(c, len, &x, &d), VT_E_CERT_EXTENSION);
            assert_int_equal(d.code, VT_E_CERT_EXTENSION);
            free(c);
        }
        struct vt_sgx_pck_ext x;
        struct vt_diag d;
        assert_int_equal(vt_sgx_pck_ext_parse(b->b, b->n, &x, &d), VT_OK);
        free(b);
    }
}

/* ---- real PCK certificates from the fixture quotes ---- */

static X509 *leaf_from_chain(const uint8_t *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    assert_non_null(bio);
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return x;
}

static void test_fixture_leaves(void **state)
{
    (void)state;
    const char *root = vt_fixtures_or_skip();
    char pat[1200];
    snprintf(pat, sizeof(pat), "%s/dcap/*/*/quote.bin", root);
    glob_t g;
    assert_int_equal(glob(pat, 0, NULL, &g), 0);
    assert_true(g.gl_pathc > 0);
    ASN1_OBJECT *obj = OBJ_txt2obj(VT_SGX_EXT_OID, 1);
    assert_non_null(obj);
    bool saw_phala_sgx = false;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i];
        size_t n;
        uint8_t *buf = vt_test_read_file(path, &n);
        assert_non_null(buf);
        struct vt_dcap_quote q;
        struct vt_diag d;
        vt_diag_init(&d);
        assert_int_equal(vt_dcap_quote_parse(buf, n, &q, &d), VT_OK);
        assert_int_equal(q.cert_type, VT_DCAP_CERT_PCK_CHAIN);
        X509 *leaf = leaf_from_chain(q.cert_data, q.cert_data_len);
        assert_non_null(leaf);
        int idx = X509_get_ext_by_OBJ(leaf, obj, -1);
        assert_true(idx >= 0);
        const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_get_ext(leaf, idx));
        struct vt_sgx_pck_ext x;
        enum vt_err err =
            vt_sgx_pck_ext_parse(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), &x, &d);
        if (err != VT_OK) {
            fail_msg("%s: %s (%s)", path, vt_err_name(err), d.detail);
        }

        /* FMSPC: the 12 hex digits after "fmspc" in the set's directory name. */
        const char *set = strstr(path, "/dcap/");
        assert_non_null(set);
        set += strlen("/dcap/");
        const char *f = strstr(set, "fmspc");
        assert_non_null(f);
        char got[13];
        for (size_t k = 0; k < 6; k++) {
            snprintf(got + 2 * k, 3, "%02x", x.fmspc[k]);
        }
        char want[13];
        for (size_t k = 0; k < 12; k++) {
            want[k] = (char)tolower((unsigned char)f[5 + k]);
        }
        want[12] = '\0';
        assert_string_equal(got, want);

        /* Entry count against the issuing CA: Processor CA 5, Platform CA 7. */
        char cn[256] = "";
        assert_true(X509_NAME_get_text_by_NID(X509_get_issuer_name(leaf), NID_commonName, cn,
                                              (int)sizeof(cn)) > 0);
        bool processor = strstr(cn, "Processor") != NULL;
        assert_true(processor || strstr(cn, "Platform") != NULL);
        assert_int_equal(x.has_platform_instance_id, !processor);
        assert_int_equal(x.has_configuration, !processor);
        char exp_path[1200];
        snprintf(exp_path, sizeof(exp_path), "%.*s/expected.json",
                 (int)(strlen(path) - strlen("/quote.bin")), path);
        json_error_t jerr;
        json_t *exp = json_load_file(exp_path, 0, &jerr);
        assert_non_null(exp);
        const char *pck_ca = json_string_value(json_object_get(exp, "pck_ca"));
        if (pck_ca != NULL) {
            assert_string_equal(pck_ca, processor ? "processor" : "platform");
        }
        if (strstr(path, "phala-dcap-qvl/sgx-v3-fmspc00a067110000") != NULL) {
            assert_true(processor);
            assert_false(x.has_platform_instance_id);
            saw_phala_sgx = true;
        }
        print_message("  %.*s: fmspc %s, %s CA (%d entries), pcesvn %u, sgx type %d\n",
                      (int)(strlen(set) - strlen("/quote.bin")), set, got,
                      processor ? "Processor" : "Platform", processor ? 5 : 7, x.pcesvn,
                      x.sgx_type);
        json_decref(exp);
        X509_free(leaf);
        free(buf);
    }
    assert_true(saw_phala_sgx);
    ASN1_OBJECT_free(obj);
    globfree(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_processor_form), cmocka_unit_test(test_platform_form),
        cmocka_unit_test(test_any_order),      cmocka_unit_test(test_config_optional),
        cmocka_unit_test(test_values),         cmocka_unit_test(test_reject_framing),
        cmocka_unit_test(test_reject_counts),  cmocka_unit_test(test_reject_oids),
        cmocka_unit_test(test_reject_entries), cmocka_unit_test(test_reject_top_values),
        cmocka_unit_test(test_reject_tcb),     cmocka_unit_test(test_reject_config),
        cmocka_unit_test(test_truncation),     cmocka_unit_test(test_fixture_leaves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
