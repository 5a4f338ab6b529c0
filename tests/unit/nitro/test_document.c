/*
 * The Nitro attestation document parser and the Sig_structure, on synthetic documents built
 * here with a small CBOR writer (no signatures: parsing does not check them): every reject path
 * with its exact code and the key named, truncation at every byte, definite and indefinite maps
 * and arrays, tagged and untagged envelopes, null and absent optionals, unknown keys skipped,
 * limits at and past their caps. With the real fixtures: every document of
 * nitro/expected.json parses to the values listed there, the damaged as-published 2026 document
 * fails, and the Sig_structure of the 2024-11-25 document equals the published bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <veritee/limits.h>

#include "base/cbor.h"
#include "base/encoding.h"
#include "tee/nitro/nitro.h"

#include "vt_fixtures.h"

/* ---- a small CBOR writer ---- */

#define W_CAP (64u * 1024u)

struct w {
    uint8_t b[W_CAP];
    size_t n;
};

static void w_raw(struct w *w, const void *p, size_t n)
{
    assert_true(w->n + n <= W_CAP);
    if (n > 0) {
        memcpy(w->b + w->n, p, n);
    }
    w->n += n;
}

static void w_byte(struct w *w, uint8_t b)
{
    w_raw(w, &b, 1);
}

static void w_head(struct w *w, uint8_t major, uint64_t arg)
{
    /* Written here independently of vt_cbor_encode_head, which is under test elsewhere. */
    uint8_t top = (uint8_t)(major << 5);
    if (arg < 24) {
        w_byte(w, (uint8_t)(top | arg));
        return;
    }
    int n = arg <= 0xff ? 1 : arg <= 0xffff ? 2 : arg <= 0xffffffff ? 4 : 8;
    w_byte(w, (uint8_t)(top | (n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27)));
    for (int i = n - 1; i >= 0; i--) {
        w_byte(w, (uint8_t)(arg >> (8 * i)));
    }
}

static void w_text(struct w *w, const char *s)
{
    w_head(w, 3, strlen(s));
    w_raw(w, s, strlen(s));
}

static void w_bstr_fill(struct w *w, size_t n, uint8_t fill)
{
    w_head(w, 2, n);
    for (size_t i = 0; i < n; i++) {
        w_byte(w, fill);
    }
}

static struct w *w_new(void)
{
    struct w *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    return w;
}

/* ---- payloads as a list of (key, encoded value) ---- */

#define MAX_ENTRIES 48

struct entry {
    char key[64];
    size_t key_len; /* keys may hold any bytes */
    uint8_t *val;   /* encoded value */
    size_t len;
    bool raw_key; /* the key is the whole encoded item key_item (non-text keys) */
    uint8_t key_item[16];
    size_t key_item_len;
};

struct payload {
    struct entry e[MAX_ENTRIES];
    size_t n;
    bool indefinite;
    bool no_break;
    size_t trailing; /* zero bytes after the map */
};

static void pl_free(struct payload *pl)
{
    for (size_t i = 0; i < pl->n; i++) {
        free(pl->e[i].val);
    }
    pl->n = 0;
}

static struct entry *pl_find(struct payload *pl, const char *key)
{
    for (size_t i = 0; i < pl->n; i++) {
        if (!pl->e[i].raw_key && pl->e[i].key_len == strlen(key) &&
            memcmp(pl->e[i].key, key, pl->e[i].key_len) == 0) {
            return &pl->e[i];
        }
    }
    return NULL;
}

/* Append an entry (even if the key exists). */
static void pl_add(struct payload *pl, const char *key, const struct w *val)
{
    assert_true(pl->n < MAX_ENTRIES);
    struct entry *e = &pl->e[pl->n++];
    memset(e, 0, sizeof(*e));
    e->key_len = strlen(key);
    memcpy(e->key, key, e->key_len);
    e->val = malloc(val->n);
    assert_non_null(e->val);
    memcpy(e->val, val->b, val->n);
    e->len = val->n;
}

/* Replace the value of key (which must exist). */
static void pl_set(struct payload *pl, const char *key, const struct w *val)
{
    struct entry *e = pl_find(pl, key);
    assert_non_null(e);
    free(e->val);
    e->val = malloc(val->n);
    assert_non_null(e->val);
    memcpy(e->val, val->b, val->n);
    e->len = val->n;
}

static void pl_set_raw(struct payload *pl, const char *key, const void *p, size_t n)
{
    struct w *w = w_new();
    w_raw(w, p, n);
    pl_set(pl, key, w);
    free(w);
}

static void pl_remove(struct payload *pl, const char *key)
{
    struct entry *e = pl_find(pl, key);
    assert_non_null(e);
    free(e->val);
    size_t i = (size_t)(e - pl->e);
    memmove(&pl->e[i], &pl->e[i + 1], (pl->n - i - 1) * sizeof(pl->e[0]));
    pl->n--;
}

/* pcrs value: n entries at the given indices, each len bytes of 0x10 + index. */
static void w_pcrs(struct w *w, const unsigned *idx, size_t n, size_t len, bool indefinite)
{
    if (indefinite) {
        w_byte(w, 0xbf);
    } else {
        w_head(w, 5, n);
    }
    for (size_t i = 0; i < n; i++) {
        w_head(w, 0, idx[i]);
        w_bstr_fill(w, len, (uint8_t)(0x10 + idx[i]));
    }
    if (indefinite) {
        w_byte(w, 0xff);
    }
}

static void w_cabundle(struct w *w, size_t n, bool indefinite)
{
    if (indefinite) {
        w_byte(w, 0x9f);
    } else {
        w_head(w, 4, n);
    }
    for (size_t i = 0; i < n; i++) {
        w_bstr_fill(w, 80 + i, (uint8_t)(0xa0 + i));
    }
    if (indefinite) {
        w_byte(w, 0xff);
    }
}

#define MODULE_ID "i-0123456789abcdef0-enc0123456789abcdef"
#define TIMESTAMP 1700000000123ull

/* What NSM writes (in NSM's key order), on a small scale: 3 PCRs, 2 CA certificates. */
static void pl_default(struct payload *pl)
{
    memset(pl, 0, sizeof(*pl));
    struct w *w = w_new();
    w_text(w, MODULE_ID);
    pl_add(pl, "module_id", w);
    w->n = 0;
    w_text(w, "SHA384");
    pl_add(pl, "digest", w);
    w->n = 0;
    w_head(w, 0, TIMESTAMP);
    pl_add(pl, "timestamp", w);
    w->n = 0;
    static const unsigned idx[] = {0, 1, 2};
    w_pcrs(w, idx, 3, 48, false);
    pl_add(pl, "pcrs", w);
    w->n = 0;
    w_bstr_fill(w, 100, 0xc1);
    pl_add(pl, "certificate", w);
    w->n = 0;
    w_cabundle(w, 2, false);
    pl_add(pl, "cabundle", w);
    w->n = 0;
    w_byte(w, 0xf6);
    pl_add(pl, "public_key", w);
    pl_add(pl, "user_data", w);
    pl_add(pl, "nonce", w);
    free(w);
}

static void pl_encode(const struct payload *pl, struct w *out)
{
    if (pl->indefinite) {
        w_byte(out, 0xbf);
    } else {
        w_head(out, 5, pl->n);
    }
    for (size_t i = 0; i < pl->n; i++) {
        const struct entry *e = &pl->e[i];
        if (e->raw_key) {
            w_raw(out, e->key_item, e->key_item_len);
        } else {
            w_head(out, 3, e->key_len);
            w_raw(out, e->key, e->key_len);
        }
        w_raw(out, e->val, e->len);
    }
    if (pl->indefinite && !pl->no_break) {
        w_byte(out, 0xff);
    }
    for (size_t i = 0; i < pl->trailing; i++) {
        w_byte(out, 0x00);
    }
}

/* ---- the envelope ---- */

struct env {
    bool tagged;
    const uint8_t *prefix; /* raw bytes instead of the tag/array head */
    size_t prefix_len;
    const uint8_t *prot; /* content of the protected bstr */
    size_t prot_len;
    const uint8_t *prot_item; /* a whole item instead of the protected bstr */
    size_t prot_item_len;
    const uint8_t *unprot; /* the unprotected item */
    size_t unprot_len;
    const uint8_t *payload_item; /* a whole item instead of the payload bstr */
    size_t payload_item_len;
    size_t sig_len;
    const uint8_t *sig_item; /* a whole item instead of the signature */
    size_t sig_item_len;
    size_t trailing;
};

static const uint8_t ES384_HDR[] = {0xa1, 0x01, 0x38, 0x22};
static const uint8_t EMPTY_MAP[] = {0xa0};

static void env_default(struct env *e)
{
    memset(e, 0, sizeof(*e));
    e->prot = ES384_HDR;
    e->prot_len = sizeof(ES384_HDR);
    e->unprot = EMPTY_MAP;
    e->unprot_len = sizeof(EMPTY_MAP);
    e->sig_len = VT_NITRO_SIG_SIZE;
}

/* The document: envelope e around payload bytes p[n]. */
static void doc_encode(const struct env *e, const uint8_t *p, size_t n, struct w *out)
{
    out->n = 0;
    if (e->prefix != NULL) {
        w_raw(out, e->prefix, e->prefix_len);
    } else {
        if (e->tagged) {
            w_byte(out, 0xd2);
        }
        w_byte(out, 0x84);
    }
    if (e->prot_item != NULL) {
        w_raw(out, e->prot_item, e->prot_item_len);
    } else {
        w_head(out, 2, e->prot_len);
        w_raw(out, e->prot, e->prot_len);
    }
    w_raw(out, e->unprot, e->unprot_len);
    if (e->payload_item != NULL) {
        w_raw(out, e->payload_item, e->payload_item_len);
    } else {
        w_head(out, 2, n);
        w_raw(out, p, n);
    }
    if (e->sig_item != NULL) {
        w_raw(out, e->sig_item, e->sig_item_len);
    } else {
        w_head(out, 2, e->sig_len);
        for (size_t i = 0; i < e->sig_len; i++) {
            w_byte(out, (uint8_t)(0x5a ^ i));
        }
    }
    for (size_t i = 0; i < e->trailing; i++) {
        w_byte(out, 0x00);
    }
}

/* A whole document from a payload and an envelope; the caller frees it. */
static struct w *build(const struct payload *pl, const struct env *e)
{
    struct w *pw = w_new();
    pl_encode(pl, pw);
    struct w *doc = w_new();
    doc_encode(e, pw->b, pw->n, doc);
    free(pw);
    return doc;
}

static struct w *build_default(void)
{
    struct payload pl;
    struct env e;
    pl_default(&pl);
    env_default(&e);
    struct w *doc = build(&pl, &e);
    pl_free(&pl);
    return doc;
}

static bool all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0) {
            return false;
        }
    }
    return true;
}

static void parse_ok(const struct w *doc, struct vt_nitro_doc *out)
{
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_nitro_doc_parse(doc->b, doc->n, out, &d);
    if (err != VT_OK) {
        fail_msg("parse failed: %s [%s] %s", vt_err_name(err), d.check, d.detail);
    }
}

/*
 * Parsing must fail with `want`, record it in the diag with check `check` and a detail that
 * contains `needle` (NULL: no check), and leave the document zeroed.
 */
static void expect_fail_at(const uint8_t *p, size_t n, enum vt_err want, const char *check,
                           const char *needle)
{
    struct vt_nitro_doc doc;
    memset(&doc, 0x5a, sizeof(doc));
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_nitro_doc_parse(p, n, &doc, &d);
    if (err != want) {
        fail_msg("got %s [%s] %s; want %s", vt_err_name(err), d.check, d.detail, vt_err_name(want));
    }
    assert_int_equal(d.code, want);
    if (check != NULL && strcmp(d.check, check) != 0) {
        fail_msg("check [%s], want [%s] (%s)", d.check, check, d.detail);
    }
    if (needle != NULL && strstr(d.detail, needle) == NULL) {
        fail_msg("detail \"%s\" lacks \"%s\"", d.detail, needle);
    }
    assert_true(all_zero(&doc, sizeof(doc)));
}

static void expect_fail(const struct w *doc, enum vt_err want, const char *check,
                        const char *needle)
{
    expect_fail_at(doc->b, doc->n, want, check, needle);
}

/* Build pl in the default envelope and expect a failure; frees pl. */
static void payload_fails(struct payload *pl, enum vt_err want, const char *check,
                          const char *needle)
{
    struct env e;
    env_default(&e);
    struct w *doc = build(pl, &e);
    expect_fail(doc, want, check, needle);
    free(doc);
    pl_free(pl);
}

/* The last document payload_ok parsed without handing it to the caller: the views of its
 * result stay valid until the next such call. */
static struct w *g_last;

/* Build pl in the default envelope and parse it; frees pl. keep: receives the document (the
 * caller frees it); NULL: it is kept in g_last. */
static void payload_ok(struct payload *pl, struct vt_nitro_doc *out, struct w **keep)
{
    struct env e;
    env_default(&e);
    struct w *doc = build(pl, &e);
    parse_ok(doc, out);
    pl_free(pl);
    if (keep != NULL) {
        *keep = doc;
    } else {
        free(g_last);
        g_last = doc;
    }
}

static bool inside(const struct w *doc, const void *p, size_t n)
{
    const uint8_t *b = p;
    return b >= doc->b && n <= doc->n && (size_t)(b - doc->b) <= doc->n - n;
}

/* ---- tests: the default document ---- */

static void test_default_document(void **state)
{
    (void)state;
    struct w *doc = build_default();
    struct vt_nitro_doc nd;
    parse_ok(doc, &nd);
    assert_false(nd.tagged);
    assert_int_equal(nd.protected_len, 4);
    assert_memory_equal(nd.protected_hdr, ES384_HDR, 4);
    assert_ptr_equal(nd.protected_hdr, doc->b + 2);
    assert_true(inside(doc, nd.payload, nd.payload_len));
    assert_int_equal(nd.payload[0], 0xa9);
    assert_ptr_equal(nd.signature, doc->b + doc->n - VT_NITRO_SIG_SIZE);
    assert_int_equal(nd.module_id_len, strlen(MODULE_ID));
    assert_memory_equal(nd.module_id, MODULE_ID, nd.module_id_len);
    assert_true(nd.timestamp_ms == TIMESTAMP);
    assert_int_equal(nd.n_pcrs, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(nd.pcrs[i].index, i);
        assert_int_equal(nd.pcrs[i].len, 48);
        assert_int_equal(nd.pcrs[i].value[0], 0x10 + i);
        assert_true(inside(doc, nd.pcrs[i].value, nd.pcrs[i].len));
    }
    assert_int_equal(nd.certificate_len, 100);
    assert_int_equal(nd.certificate[0], 0xc1);
    assert_int_equal(nd.n_cabundle, 2);
    assert_true(nd.cabundle[0].present);
    assert_int_equal(nd.cabundle[0].len, 80);
    assert_int_equal(nd.cabundle[0].data[0], 0xa0);
    assert_int_equal(nd.cabundle[1].len, 81);
    assert_int_equal(nd.cabundle[1].data[80], 0xa1);
    assert_false(nd.public_key.present);
    assert_false(nd.user_data.present);
    assert_false(nd.nonce.present);
    assert_null(nd.nonce.data);
    free(doc);
}

static void test_tagged(void **state)
{
    (void)state;
    struct payload pl;
    struct env e;
    pl_default(&pl);
    env_default(&e);
    e.tagged = true;
    struct w *doc = build(&pl, &e);
    struct vt_nitro_doc nd;
    parse_ok(doc, &nd);
    assert_true(nd.tagged);
    assert_ptr_equal(nd.protected_hdr, doc->b + 3);
    free(doc);
    /* Another tag, or tag 18 twice. */
    static const uint8_t tag17[] = {0xd1, 0x84};
    e.prefix = tag17;
    e.prefix_len = sizeof(tag17);
    doc = build(&pl, &e);
    expect_fail(doc, VT_E_BAD_FIELD, "cose.tag", "tag 17");
    free(doc);
    static const uint8_t tag18x2[] = {0xd2, 0xd2, 0x84};
    e.prefix = tag18x2;
    e.prefix_len = sizeof(tag18x2);
    doc = build(&pl, &e);
    expect_fail(doc, VT_E_BAD_FIELD, "cose", "got tag");
    free(doc);
    static const uint8_t tag_self[] = {0xd9, 0xd9, 0xf7, 0x84};
    e.prefix = tag_self;
    e.prefix_len = sizeof(tag_self);
    doc = build(&pl, &e);
    expect_fail(doc, VT_E_BAD_FIELD, "cose.tag", "tag 55799");
    free(doc);
    pl_free(&pl);
}

/* ---- tests: the envelope ---- */

/* Default payload, envelope modified by `e`, expecting a failure. */
static void env_fails(const struct env *e, enum vt_err want, const char *check, const char *needle)
{
    struct payload pl;
    pl_default(&pl);
    struct w *doc = build(&pl, e);
    expect_fail(doc, want, check, needle);
    free(doc);
    pl_free(&pl);
}

static void test_envelope_shape(void **state)
{
    (void)state;
    struct env e;
    static const uint8_t map4[] = {0xa4}, arr3[] = {0x83}, arr5[] = {0x85}, indef[] = {0x9f},
                         bstr[] = {0x44}, nonmin[] = {0x98, 0x04};
    env_default(&e);
    e.prefix = map4;
    e.prefix_len = 1;
    env_fails(&e, VT_E_BAD_FIELD, "cose", "got map");
    e.prefix = arr3;
    env_fails(&e, VT_E_BAD_FIELD, "cose", "3 elements");
    e.prefix = arr5;
    env_fails(&e, VT_E_BAD_FIELD, "cose", "5 elements");
    e.prefix = indef;
    env_fails(&e, VT_E_BAD_FIELD, "cose", "indefinite");
    e.prefix = bstr;
    env_fails(&e, VT_E_BAD_FIELD, "cose", "got byte string");
    e.prefix = nonmin;
    e.prefix_len = 2;
    env_fails(&e, VT_E_MALFORMED, "cose", "0x98");
    /* Trailing bytes after the array. */
    env_default(&e);
    e.trailing = 1;
    env_fails(&e, VT_E_TRAILING_DATA, "cose", "1 bytes follow");
    /* Nothing at all; NULL arguments. */
    expect_fail_at(NULL, 0, VT_E_TRUNCATED, "cose", NULL);
    struct vt_diag d;
    struct vt_nitro_doc nd;
    assert_int_equal(vt_nitro_doc_parse(NULL, 5, &nd, &d), VT_E_ARG);
    static const uint8_t one[] = {0x84};
    assert_int_equal(vt_nitro_doc_parse(one, 1, NULL, &d), VT_E_ARG);
}

static void test_protected_header(void **state)
{
    (void)state;
    struct env e;
    env_default(&e);
    static const uint8_t es256[] = {0xa1, 0x01, 0x26};
    e.prot = es256;
    e.prot_len = sizeof(es256);
    env_fails(&e, VT_E_UNSUPPORTED_ALGORITHM, "cose.protected", "alg -7");
    static const uint8_t es512[] = {0xa1, 0x01, 0x38, 0x23};
    e.prot = es512;
    e.prot_len = sizeof(es512);
    env_fails(&e, VT_E_UNSUPPORTED_ALGORITHM, "cose.protected", "alg -36");
    static const uint8_t pos[] = {0xa1, 0x01, 0x18, 0x20};
    e.prot = pos;
    e.prot_len = sizeof(pos);
    env_fails(&e, VT_E_UNSUPPORTED_ALGORITHM, "cose.protected", "alg 32");
    static const uint8_t other_alg_more[] = {0xa2, 0x04, 0x41, 0x00, 0x01, 0x26};
    e.prot = other_alg_more;
    e.prot_len = sizeof(other_alg_more);
    env_fails(&e, VT_E_UNSUPPORTED_ALGORITHM, "cose.protected", "alg -7");
    /* ES384, but not exactly {1: -35}. */
    static const uint8_t extra[] = {0xa2, 0x01, 0x38, 0x22, 0x04, 0x41, 0x00};
    e.prot = extra;
    e.prot_len = sizeof(extra);
    env_fails(&e, VT_E_BAD_FIELD, "cose.protected", "{1: -35}");
    static const uint8_t indef[] = {0xbf, 0x01, 0x38, 0x22, 0xff};
    e.prot = indef;
    e.prot_len = sizeof(indef);
    env_fails(&e, VT_E_BAD_FIELD, "cose.protected", "{1: -35}");
    static const uint8_t nonmin[] = {0xa1, 0x01, 0x39, 0x00, 0x22};
    e.prot = nonmin;
    e.prot_len = sizeof(nonmin);
    env_fails(&e, VT_E_BAD_FIELD, "cose.protected", "{1: -35}");
    static const uint8_t text_alg[] = {0xa1, 0x01, 0x65, 'E', 'S', '3', '8', '4'};
    e.prot = text_alg;
    e.prot_len = sizeof(text_alg);
    env_fails(&e, VT_E_BAD_FIELD, "cose.protected", "ES384");
    static const uint8_t trailing[] = {0xa1, 0x01, 0x38, 0x22, 0x00};
    e.prot = trailing;
    e.prot_len = sizeof(trailing);
    env_fails(&e, VT_E_BAD_FIELD, "cose.protected", "5 bytes");
    static const uint8_t other_trailing[] = {0xa1, 0x01, 0x26, 0x00};
    e.prot = other_trailing;
    e.prot_len = sizeof(other_trailing);
    env_fails(&e, VT_E_BAD_FIELD, "cose.protected", "4 bytes");
    e.prot = NULL;
    e.prot_len = 0;
    env_fails(&e, VT_E_BAD_FIELD, "cose.protected", "0 bytes");
    /* Not a byte string. */
    static const uint8_t as_map[] = {0xa1, 0x01, 0x38, 0x22};
    e.prot_item = as_map;
    e.prot_item_len = sizeof(as_map);
    env_fails(&e, VT_E_BAD_FIELD, "cose.protected", "got map");
    static const uint8_t indef_bstr[] = {0x5f, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xff};
    e.prot_item = indef_bstr;
    e.prot_item_len = sizeof(indef_bstr);
    env_fails(&e, VT_E_MALFORMED, "cose.protected", "0x5f");
}

static void test_unprotected_header(void **state)
{
    (void)state;
    struct payload pl;
    struct env e;
    struct vt_nitro_doc nd;
    /* Any well-formed map is skipped. */
    static const uint8_t kid[] = {0xa2, 0x04, 0x42, 0x01, 0x02, 0x21, 0x81, 0xf6};
    static const uint8_t indef[] = {0xbf, 0x04, 0x40, 0xff};
    const uint8_t *good[] = {kid, indef};
    size_t good_len[] = {sizeof(kid), sizeof(indef)};
    for (size_t i = 0; i < 2; i++) {
        pl_default(&pl);
        env_default(&e);
        e.unprot = good[i];
        e.unprot_len = good_len[i];
        struct w *doc = build(&pl, &e);
        parse_ok(doc, &nd);
        assert_int_equal(nd.n_pcrs, 3);
        free(doc);
        pl_free(&pl);
    }
    env_default(&e);
    static const uint8_t bstr[] = {0x40}, null[] = {0xf6}, odd[] = {0xbf, 0x04, 0xff},
                         reserved[] = {0xa1, 0x04, 0x1c}, brk[] = {0xa1, 0x04, 0xff};
    e.unprot = bstr;
    e.unprot_len = 1;
    env_fails(&e, VT_E_BAD_FIELD, "cose.unprotected", "got byte string");
    e.unprot = null;
    env_fails(&e, VT_E_BAD_FIELD, "cose.unprotected", "got null");
    e.unprot = odd;
    e.unprot_len = sizeof(odd);
    env_fails(&e, VT_E_MALFORMED, "cose.unprotected", NULL);
    e.unprot = reserved;
    e.unprot_len = sizeof(reserved);
    env_fails(&e, VT_E_MALFORMED, "cose.unprotected", NULL);
    e.unprot = brk;
    e.unprot_len = sizeof(brk);
    env_fails(&e, VT_E_MALFORMED, "cose.unprotected", NULL);
    /* Nested beyond the depth limit. */
    uint8_t deep[VT_MAX_CBOR_DEPTH + 4];
    size_t n = 0;
    deep[n++] = 0xa1;
    deep[n++] = 0x04;
    for (int i = 0; i < VT_MAX_CBOR_DEPTH; i++) {
        deep[n++] = 0x81;
    }
    deep[n++] = 0x00;
    e.unprot = deep;
    e.unprot_len = n;
    env_fails(&e, VT_E_TOO_LARGE, "cose.unprotected", NULL);
    /* One level less is accepted. */
    deep[n - 2] = 0x00;
    pl_default(&pl);
    e.unprot_len = n - 1;
    struct w *doc = build(&pl, &e);
    parse_ok(doc, &nd);
    free(doc);
    pl_free(&pl);
}

static void test_payload_and_signature_items(void **state)
{
    (void)state;
    struct env e;
    env_default(&e);
    static const uint8_t text[] = {0x61, 'x'}, null[] = {0xf6}, indef[] = {0x5f, 0x41, 0x00, 0xff};
    e.payload_item = text;
    e.payload_item_len = sizeof(text);
    env_fails(&e, VT_E_BAD_FIELD, "cose.payload", "got text string");
    e.payload_item = null;
    e.payload_item_len = sizeof(null);
    env_fails(&e, VT_E_BAD_FIELD, "cose.payload", "got null");
    e.payload_item = indef;
    e.payload_item_len = sizeof(indef);
    env_fails(&e, VT_E_MALFORMED, "cose.payload", NULL);
    /* An empty payload: the map is missing. */
    static const uint8_t empty[] = {0x40};
    e.payload_item = empty;
    e.payload_item_len = sizeof(empty);
    env_fails(&e, VT_E_TRUNCATED, "payload", NULL);
    /* Signature sizes and type. */
    env_default(&e);
    e.sig_len = 95;
    env_fails(&e, VT_E_BAD_FIELD, "cose.signature", "95 bytes");
    e.sig_len = 97;
    env_fails(&e, VT_E_BAD_FIELD, "cose.signature", "97 bytes");
    e.sig_len = 0;
    env_fails(&e, VT_E_BAD_FIELD, "cose.signature", "0 bytes");
    e.sig_len = 64;
    env_fails(&e, VT_E_BAD_FIELD, "cose.signature", "64 bytes");
    static const uint8_t sig_arr[] = {0x80};
    e.sig_item = sig_arr;
    e.sig_item_len = 1;
    env_fails(&e, VT_E_BAD_FIELD, "cose.signature", "got array");
}

static void test_sizes(void **state)
{
    (void)state;
    /* A payload of exactly 16 KiB (padded with an unknown key) passes; one more byte does not. */
    struct payload pl;
    pl_default(&pl);
    struct w *pw = w_new();
    pl_encode(&pl, pw);
    size_t base = pw->n;
    /* Adding key "pad" (4 bytes + a 3-byte bstr head) and one map count stays a one-byte head. */
    size_t pad = VT_NITRO_MAX_PAYLOAD_SIZE - base - 4 - 3;
    struct w *v = w_new();
    w_bstr_fill(v, pad, 0xee);
    pl_add(&pl, "pad", v);
    pw->n = 0;
    pl_encode(&pl, pw);
    assert_int_equal(pw->n, VT_NITRO_MAX_PAYLOAD_SIZE);
    struct env e;
    env_default(&e);
    struct w *doc = w_new();
    doc_encode(&e, pw->b, pw->n, doc);
    struct vt_nitro_doc nd;
    parse_ok(doc, &nd);
    assert_int_equal(nd.payload_len, VT_NITRO_MAX_PAYLOAD_SIZE);
    /* One byte more. */
    v->n = 0;
    w_bstr_fill(v, pad + 1, 0xee);
    pl_set(&pl, "pad", v);
    pw->n = 0;
    pl_encode(&pl, pw);
    doc_encode(&e, pw->b, pw->n, doc);
    expect_fail(doc, VT_E_TOO_LARGE, "cose.payload", "16385 bytes");
    /* A whole document beyond 20 KiB, whatever it is. */
    uint8_t *big = calloc(1, VT_NITRO_MAX_DOC_SIZE + 1);
    assert_non_null(big);
    expect_fail_at(big, VT_NITRO_MAX_DOC_SIZE + 1, VT_E_TOO_LARGE, "document.size", "20481");
    free(big);
    free(doc);
    free(v);
    free(pw);
    pl_free(&pl);
}

/* ---- tests: truncation ---- */

static void truncate_everywhere(const struct w *doc)
{
    for (size_t n = 0; n < doc->n; n++) {
        struct vt_nitro_doc nd;
        memset(&nd, 0x5a, sizeof(nd));
        struct vt_diag d;
        vt_diag_init(&d);
        /* A copy of exactly n bytes, so ASan sees any read past the end. */
        uint8_t *p = malloc(n > 0 ? n : 1);
        assert_non_null(p);
        memcpy(p, doc->b, n);
        enum vt_err err = vt_nitro_doc_parse(p, n, &nd, &d);
        free(p);
        if (err != VT_E_TRUNCATED) {
            fail_msg("prefix of %zu/%zu bytes: %s [%s] %s", n, doc->n, vt_err_name(err), d.check,
                     d.detail);
        }
        assert_int_equal(d.code, err);
        assert_true(all_zero(&nd, sizeof(nd)));
    }
}

static void test_truncation_every_byte(void **state)
{
    (void)state;
    struct w *doc = build_default();
    truncate_everywhere(doc);
    free(doc);
    /* Tagged, indefinite everything, optional fields present, an unknown key. */
    struct payload pl;
    struct env e;
    pl_default(&pl);
    env_default(&e);
    e.tagged = true;
    pl.indefinite = true;
    struct w *v = w_new();
    static const unsigned idx[] = {0, 4};
    w_pcrs(v, idx, 2, 32, true);
    pl_set(&pl, "pcrs", v);
    v->n = 0;
    w_cabundle(v, 2, true);
    pl_set(&pl, "cabundle", v);
    v->n = 0;
    w_bstr_fill(v, 5, 0x01);
    pl_set(&pl, "public_key", v);
    pl_set(&pl, "nonce", v);
    v->n = 0;
    static const uint8_t extra[] = {0xbf, 0x61, 'a', 0x9f, 0xc1, 0x00, 0xff, 0xff};
    w_raw(v, extra, sizeof(extra));
    pl_add(&pl, "x-extra", v);
    doc = build(&pl, &e);
    struct vt_nitro_doc nd;
    parse_ok(doc, &nd);
    truncate_everywhere(doc);
    free(doc);
    free(v);
    pl_free(&pl);
}

/* A correct envelope around every prefix of the payload: the map is cut off inside. */
static void test_payload_truncation(void **state)
{
    (void)state;
    for (int indefinite = 0; indefinite < 2; indefinite++) {
        struct payload pl;
        pl_default(&pl);
        pl.indefinite = indefinite;
        struct w *pw = w_new();
        pl_encode(&pl, pw);
        struct env e;
        env_default(&e);
        struct w *doc = w_new();
        for (size_t n = 0; n < pw->n; n++) {
            doc_encode(&e, pw->b, n, doc);
            expect_fail(doc, VT_E_TRUNCATED, NULL, NULL);
        }
        doc_encode(&e, pw->b, pw->n, doc);
        struct vt_nitro_doc nd;
        parse_ok(doc, &nd);
        free(doc);
        free(pw);
        pl_free(&pl);
    }
}

/* ---- tests: the payload map ---- */

static void test_definite_and_indefinite(void **state)
{
    (void)state;
    /* Every combination of definite/indefinite payload map, pcrs map and cabundle array gives
     * the same result. */
    for (unsigned mask = 0; mask < 8; mask++) {
        struct payload pl;
        pl_default(&pl);
        pl.indefinite = mask & 1;
        struct w *v = w_new();
        static const unsigned idx[] = {0, 1, 2};
        w_pcrs(v, idx, 3, 48, mask & 2);
        pl_set(&pl, "pcrs", v);
        v->n = 0;
        w_cabundle(v, 2, mask & 4);
        pl_set(&pl, "cabundle", v);
        free(v);
        struct vt_nitro_doc nd;
        struct w *doc;
        payload_ok(&pl, &nd, &doc);
        assert_int_equal(nd.payload[0], (mask & 1) ? 0xbf : 0xa9);
        assert_int_equal(nd.n_pcrs, 3);
        assert_int_equal(nd.pcrs[2].index, 2);
        assert_int_equal(nd.pcrs[2].value[47], 0x12);
        assert_int_equal(nd.n_cabundle, 2);
        assert_int_equal(nd.cabundle[1].len, 81);
        assert_true(nd.timestamp_ms == TIMESTAMP);
        free(doc);
    }
}

static void test_indefinite_payload_breaks(void **state)
{
    (void)state;
    struct payload pl;
    pl_default(&pl);
    pl.indefinite = true;
    pl.no_break = true;
    payload_fails(&pl, VT_E_TRUNCATED, "payload", "payload map");
    pl_default(&pl);
    pl.indefinite = true;
    pl.trailing = 1;
    payload_fails(&pl, VT_E_TRAILING_DATA, "payload", "1 bytes follow the payload map");
    pl_default(&pl);
    pl.trailing = 2;
    payload_fails(&pl, VT_E_TRAILING_DATA, "payload", "2 bytes follow the payload map");
    /* A break inside a definite map, where a key should be. */
    pl_default(&pl);
    pl_remove(&pl, "nonce");
    struct env e;
    env_default(&e);
    struct w *pw = w_new();
    pl_encode(&pl, pw);
    pw->b[0] = 0xa9; /* claims 9 pairs, has 8 */
    w_byte(pw, 0xff);
    struct w *doc = w_new();
    doc_encode(&e, pw->b, pw->n, doc);
    expect_fail(doc, VT_E_MALFORMED, "payload.key", "0xff");
    /* A map whose count runs past the end. */
    pw->b[0] = 0xaa;
    pw->n--;
    doc_encode(&e, pw->b, pw->n, doc);
    expect_fail(doc, VT_E_TRUNCATED, "payload.key", NULL);
    free(doc);
    free(pw);
    pl_free(&pl);
    /* An empty indefinite map: every required key is missing. */
    pl_default(&pl);
    while (pl.n > 0) {
        pl_remove(&pl, pl.e[0].key);
    }
    pl.indefinite = true;
    payload_fails(&pl, VT_E_MISSING_FIELD, "payload.module_id", "module_id");
}

static void test_payload_not_a_map(void **state)
{
    (void)state;
    struct env e;
    env_default(&e);
    static const uint8_t arr[] = {0x80}, nonmin[] = {0xb8, 0x00}, text[] = {0x60};
    struct w *doc = w_new();
    doc_encode(&e, arr, sizeof(arr), doc);
    expect_fail(doc, VT_E_BAD_FIELD, "payload", "got array");
    doc_encode(&e, text, sizeof(text), doc);
    expect_fail(doc, VT_E_BAD_FIELD, "payload", "got text string");
    doc_encode(&e, nonmin, sizeof(nonmin), doc);
    expect_fail(doc, VT_E_MALFORMED, "payload", "0xb8");
    free(doc);
}

static void test_keys_must_be_text(void **state)
{
    (void)state;
    static const struct {
        uint8_t key[4];
        size_t len;
        const char *type;
    } cases[] = {
        {{0x01}, 1, "unsigned integer"},
        {{0x20}, 1, "negative integer"},
        {{0x41, 'x'}, 2, "byte string"},
        {{0xf6}, 1, "null"},
        {{0x80}, 1, "array"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct payload pl;
        pl_default(&pl);
        struct w *v = w_new();
        w_byte(v, 0x00);
        pl_add(&pl, "tmp", v);
        free(v);
        struct entry *en = &pl.e[pl.n - 1];
        en->raw_key = true;
        memcpy(en->key_item, cases[i].key, cases[i].len);
        en->key_item_len = cases[i].len;
        payload_fails(&pl, VT_E_BAD_FIELD, "payload.key", cases[i].type);
    }
    /* An indefinite text key is refused by the reader. */
    struct payload pl;
    pl_default(&pl);
    struct w *v = w_new();
    w_byte(v, 0x00);
    pl_add(&pl, "tmp", v);
    free(v);
    struct entry *en = &pl.e[pl.n - 1];
    en->raw_key = true;
    static const uint8_t indef_key[] = {0x7f, 0x61, 'a', 0xff};
    memcpy(en->key_item, indef_key, sizeof(indef_key));
    en->key_item_len = sizeof(indef_key);
    payload_fails(&pl, VT_E_MALFORMED, "payload.key", "0x7f");
}

static const char *const REQUIRED[] = {"module_id", "digest",      "timestamp",
                                       "pcrs",      "certificate", "cabundle"};
static const char *const OPTIONAL[] = {"public_key", "user_data", "nonce"};

static void test_missing_required(void **state)
{
    (void)state;
    for (size_t i = 0; i < 6; i++) {
        struct payload pl;
        pl_default(&pl);
        pl_remove(&pl, REQUIRED[i]);
        char check[64];
        snprintf(check, sizeof(check), "payload.%s", REQUIRED[i]);
        payload_fails(&pl, VT_E_MISSING_FIELD, check, REQUIRED[i]);
    }
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < 9; i++) {
        const char *key = i < 6 ? REQUIRED[i] : OPTIONAL[i - 6];
        struct payload pl;
        pl_default(&pl);
        struct entry *en = pl_find(&pl, key);
        struct w *v = w_new();
        w_raw(v, en->val, en->len);
        pl_add(&pl, key, v);
        free(v);
        char check[64];
        snprintf(check, sizeof(check), "payload.%s", key);
        payload_fails(&pl, VT_E_DUPLICATE, check, key);
    }
}

static void test_key_order_free(void **state)
{
    (void)state;
    struct payload pl;
    pl_default(&pl);
    /* Reverse the entries. */
    for (size_t i = 0; i < pl.n / 2; i++) {
        struct entry t = pl.e[i];
        pl.e[i] = pl.e[pl.n - 1 - i];
        pl.e[pl.n - 1 - i] = t;
    }
    struct vt_nitro_doc nd;
    payload_ok(&pl, &nd, NULL);
    assert_int_equal(nd.n_pcrs, 3);
    assert_int_equal(nd.module_id_len, strlen(MODULE_ID));
}

/* Set key to the encoded bytes and expect `want` naming the key (and `needle`). */
static void value_fails(const char *key, const uint8_t *val, size_t n, enum vt_err want,
                        const char *needle)
{
    struct payload pl;
    pl_default(&pl);
    pl_set_raw(&pl, key, val, n);
    char check[64];
    snprintf(check, sizeof(check), "payload.%s", key);
    payload_fails(&pl, want, check, needle);
}

static void value_fails_w(const char *key, const struct w *v, enum vt_err want, const char *needle)
{
    value_fails(key, v->b, v->n, want, needle);
}

static void value_ok_w(const char *key, const struct w *v, struct vt_nitro_doc *nd)
{
    struct payload pl;
    pl_default(&pl);
    pl_set(&pl, key, v);
    payload_ok(&pl, nd, NULL);
}

static void test_module_id(void **state)
{
    (void)state;
    struct w *v = w_new();
    struct vt_nitro_doc nd;
    static const uint8_t empty[] = {0x60}, bstr[] = {0x41, 'i'}, badutf8[] = {0x62, 'i', 0xc0},
                         nul[] = {0x63, 'i', 0x00, 'x'}, null[] = {0xf6};
    value_fails("module_id", empty, sizeof(empty), VT_E_BAD_FIELD, "module_id");
    value_fails("module_id", bstr, sizeof(bstr), VT_E_BAD_FIELD, "got byte string");
    value_fails("module_id", badutf8, sizeof(badutf8), VT_E_BAD_FIELD, "UTF-8");
    value_fails("module_id", nul, sizeof(nul), VT_E_BAD_FIELD, "NUL");
    value_fails("module_id", null, sizeof(null), VT_E_BAD_FIELD, "got null");
    char s[VT_NITRO_MAX_MODULE_ID + 2];
    memset(s, 'm', sizeof(s));
    s[VT_NITRO_MAX_MODULE_ID] = '\0';
    w_text(v, s);
    value_ok_w("module_id", v, &nd);
    assert_int_equal(nd.module_id_len, VT_NITRO_MAX_MODULE_ID);
    s[VT_NITRO_MAX_MODULE_ID] = 'm';
    s[VT_NITRO_MAX_MODULE_ID + 1] = '\0';
    v->n = 0;
    w_text(v, s);
    value_fails_w("module_id", v, VT_E_BAD_FIELD, "257 bytes");
    v->n = 0;
    w_text(v, "caf\xc3\xa9");
    value_ok_w("module_id", v, &nd);
    assert_int_equal(nd.module_id_len, 5);
    free(v);
}

static void test_digest(void **state)
{
    (void)state;
    static const uint8_t sha256[] = {0x66, 'S', 'H', 'A', '2', '5', '6'},
                         lower[] = {0x66, 's', 'h', 'a', '3', '8', '4'},
                         longer[] = {0x67, 'S', 'H', 'A', '3', '8', '4', 0x00},
                         bstr[] = {0x46, 'S', 'H', 'A', '3', '8', '4'}, num[] = {0x18, 0x30};
    value_fails("digest", sha256, sizeof(sha256), VT_E_BAD_FIELD, "\"SHA256\"");
    value_fails("digest", lower, sizeof(lower), VT_E_BAD_FIELD, "\"sha384\"");
    value_fails("digest", longer, sizeof(longer), VT_E_BAD_FIELD, "SHA384\\x00");
    value_fails("digest", bstr, sizeof(bstr), VT_E_BAD_FIELD, "got byte string");
    value_fails("digest", num, sizeof(num), VT_E_BAD_FIELD, "got unsigned integer");
}

static void test_timestamp(void **state)
{
    (void)state;
    static const uint8_t neg[] = {0x20}, text[] = {0x61, '1'},
                         flt[] = {0xfb, 0x42, 0x78, 0xbc, 0xfe, 0x56, 0x80, 0x00, 0x00},
                         tagged[] = {0xc1, 0x1a, 0x65, 0x53, 0xf1, 0x00},
                         nonmin[] = {0x1b, 0, 0, 0, 0, 0, 0, 0, 1};
    value_fails("timestamp", neg, sizeof(neg), VT_E_BAD_FIELD, "got negative integer");
    value_fails("timestamp", text, sizeof(text), VT_E_BAD_FIELD, "got text string");
    value_fails("timestamp", flt, sizeof(flt), VT_E_BAD_FIELD, "got float");
    value_fails("timestamp", tagged, sizeof(tagged), VT_E_BAD_FIELD, "got tag");
    value_fails("timestamp", nonmin, sizeof(nonmin), VT_E_MALFORMED, "timestamp");
    struct w *v = w_new();
    struct vt_nitro_doc nd;
    w_head(v, 0, UINT64_MAX);
    value_ok_w("timestamp", v, &nd);
    assert_true(nd.timestamp_ms == UINT64_MAX);
    v->n = 0;
    w_head(v, 0, 0);
    value_ok_w("timestamp", v, &nd);
    assert_true(nd.timestamp_ms == 0);
    free(v);
}

static void test_pcrs(void **state)
{
    (void)state;
    struct w *v = w_new();
    struct vt_nitro_doc nd;
    /* Any order in, ascending out; 32 and 64-byte values. */
    static const unsigned shuffled[] = {31, 5, 0, 16};
    w_pcrs(v, shuffled, 4, 32, false);
    value_ok_w("pcrs", v, &nd);
    assert_int_equal(nd.n_pcrs, 4);
    static const unsigned sorted[] = {0, 5, 16, 31};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(nd.pcrs[i].index, sorted[i]);
        assert_int_equal(nd.pcrs[i].len, 32);
        assert_int_equal(nd.pcrs[i].value[0], 0x10 + sorted[i]);
    }
    v->n = 0;
    static const unsigned one[] = {8};
    w_pcrs(v, one, 1, 64, true);
    value_ok_w("pcrs", v, &nd);
    assert_int_equal(nd.n_pcrs, 1);
    assert_int_equal(nd.pcrs[0].index, 8);
    assert_int_equal(nd.pcrs[0].len, 64);
    /* All 32, definite and indefinite. */
    unsigned all[VT_NITRO_MAX_PCRS + 1];
    for (unsigned i = 0; i <= VT_NITRO_MAX_PCRS; i++) {
        all[i] = (VT_NITRO_MAX_PCRS - 1 - i) % VT_NITRO_MAX_PCRS; /* 31..0, then 31 again */
    }
    for (int indef = 0; indef < 2; indef++) {
        v->n = 0;
        w_pcrs(v, all, VT_NITRO_MAX_PCRS, 48, indef);
        value_ok_w("pcrs", v, &nd);
        assert_int_equal(nd.n_pcrs, VT_NITRO_MAX_PCRS);
        for (size_t i = 0; i < VT_NITRO_MAX_PCRS; i++) {
            assert_int_equal(nd.pcrs[i].index, i);
        }
        /* 33 entries. */
        v->n = 0;
        w_pcrs(v, all, VT_NITRO_MAX_PCRS + 1, 48, indef);
        value_fails_w("pcrs", v, VT_E_BAD_FIELD, indef ? "more than 32" : "33 entries");
        /* None. */
        v->n = 0;
        w_pcrs(v, all, 0, 48, indef);
        value_fails_w("pcrs", v, VT_E_BAD_FIELD, indef ? "empty" : "0 entries");
    }
    /* Index and value errors. */
    static const unsigned dup[] = {3, 1, 3};
    v->n = 0;
    w_pcrs(v, dup, 3, 48, false);
    value_fails_w("pcrs", v, VT_E_DUPLICATE, "index 3");
    static const unsigned big[] = {0, 32};
    v->n = 0;
    w_pcrs(v, big, 2, 48, false);
    value_fails_w("pcrs", v, VT_E_BAD_FIELD, "index 32");
    static const size_t bad_lens[] = {0, 31, 33, 47, 49, 63, 65, 96};
    for (size_t i = 0; i < sizeof(bad_lens) / sizeof(bad_lens[0]); i++) {
        v->n = 0;
        w_pcrs(v, one, 1, bad_lens[i], false);
        char needle[40];
        snprintf(needle, sizeof(needle), "PCR8 at offset");
        value_fails_w("pcrs", v, VT_E_BAD_FIELD, needle);
    }
    static const uint8_t neg_index[] = {0xa1, 0x20, 0x58, 0x20}, text_index[] = {0xa1, 0x61, '0'},
                         text_value[] = {0xa1, 0x00, 0x61, 'x'}, arr[] = {0x81, 0x40},
                         null[] = {0xf6}, odd_indef[] = {0xbf, 0x00, 0xff},
                         nonmin_index[] = {0xa1, 0x18, 0x01, 0x40};
    value_fails("pcrs", neg_index, sizeof(neg_index), VT_E_BAD_FIELD, "got negative integer");
    value_fails("pcrs", text_index, sizeof(text_index), VT_E_BAD_FIELD, "got text string");
    value_fails("pcrs", text_value, sizeof(text_value), VT_E_BAD_FIELD, "got text string");
    value_fails("pcrs", arr, sizeof(arr), VT_E_BAD_FIELD, "got array");
    value_fails("pcrs", null, sizeof(null), VT_E_BAD_FIELD, "got null");
    value_fails("pcrs", odd_indef, sizeof(odd_indef), VT_E_MALFORMED, "PCR0");
    value_fails("pcrs", nonmin_index, sizeof(nonmin_index), VT_E_MALFORMED, "pcrs index");
    free(v);
}

static void test_certificate(void **state)
{
    (void)state;
    struct w *v = w_new();
    struct vt_nitro_doc nd;
    w_bstr_fill(v, VT_NITRO_MAX_CERT_SIZE, 0x30);
    value_ok_w("certificate", v, &nd);
    assert_int_equal(nd.certificate_len, VT_NITRO_MAX_CERT_SIZE);
    v->n = 0;
    w_bstr_fill(v, 1, 0x30);
    value_ok_w("certificate", v, &nd);
    assert_int_equal(nd.certificate_len, 1);
    v->n = 0;
    w_bstr_fill(v, VT_NITRO_MAX_CERT_SIZE + 1, 0x30);
    value_fails_w("certificate", v, VT_E_BAD_FIELD, "1025 bytes");
    static const uint8_t empty[] = {0x40}, null[] = {0xf6}, text[] = {0x61, '0'};
    value_fails("certificate", empty, sizeof(empty), VT_E_BAD_FIELD, "0 bytes");
    value_fails("certificate", null, sizeof(null), VT_E_BAD_FIELD, "got null");
    value_fails("certificate", text, sizeof(text), VT_E_BAD_FIELD, "got text string");
    free(v);
}

static void test_cabundle(void **state)
{
    (void)state;
    struct w *v = w_new();
    struct vt_nitro_doc nd;
    for (int indef = 0; indef < 2; indef++) {
        v->n = 0;
        w_cabundle(v, VT_NITRO_MAX_CABUNDLE, indef);
        value_ok_w("cabundle", v, &nd);
        assert_int_equal(nd.n_cabundle, VT_NITRO_MAX_CABUNDLE);
        assert_int_equal(nd.cabundle[7].len, 87);
        assert_int_equal(nd.cabundle[7].data[0], 0xa7);
        v->n = 0;
        w_cabundle(v, 1, indef);
        value_ok_w("cabundle", v, &nd);
        assert_int_equal(nd.n_cabundle, 1);
        v->n = 0;
        w_cabundle(v, VT_NITRO_MAX_CABUNDLE + 1, indef);
        value_fails_w("cabundle", v, VT_E_BAD_FIELD, indef ? "more than 8" : "9 certificates");
        v->n = 0;
        w_cabundle(v, 0, indef);
        value_fails_w("cabundle", v, VT_E_BAD_FIELD, indef ? "empty" : "0 certificates");
    }
    v->n = 0;
    w_head(v, 4, 2);
    w_bstr_fill(v, VT_NITRO_MAX_CERT_SIZE, 0x30);
    w_bstr_fill(v, VT_NITRO_MAX_CERT_SIZE + 1, 0x30);
    value_fails_w("cabundle", v, VT_E_BAD_FIELD, "cabundle[1] at offset");
    static const uint8_t empty_entry[] = {0x82, 0x41, 0x30, 0x40}, text_entry[] = {0x81, 0x61, 'x'},
                         as_map[] = {0xa1, 0x00, 0x41, 0x30}, null[] = {0xf6},
                         no_break[] = {0x9f, 0x41, 0x30};
    value_fails("cabundle", empty_entry, sizeof(empty_entry), VT_E_BAD_FIELD, "cabundle[1]");
    value_fails("cabundle", text_entry, sizeof(text_entry), VT_E_BAD_FIELD, "got text string");
    value_fails("cabundle", as_map, sizeof(as_map), VT_E_BAD_FIELD, "got map");
    value_fails("cabundle", null, sizeof(null), VT_E_BAD_FIELD, "got null");
    /* The indefinite array takes the next key's head as an entry. */
    value_fails("cabundle", no_break, sizeof(no_break), VT_E_BAD_FIELD, "cabundle[1]");
    free(v);
}

static void test_optional_fields(void **state)
{
    (void)state;
    struct w *v = w_new();
    struct vt_nitro_doc nd;
    for (size_t i = 0; i < 3; i++) {
        const char *key = OPTIONAL[i];
        size_t min = i == 0 ? 1 : 0;
        char check[64], needle[64];
        snprintf(check, sizeof(check), "payload.%s", key);
        /* Present: min and max sizes. */
        for (size_t k = 0; k < 2; k++) {
            size_t len = k == 0 ? min : VT_NITRO_MAX_BINDING;
            v->n = 0;
            w_bstr_fill(v, len, 0x42);
            value_ok_w(key, v, &nd);
            const struct vt_nitro_bytes *b = i == 0   ? &nd.public_key
                                             : i == 1 ? &nd.user_data
                                                      : &nd.nonce;
            assert_true(b->present);
            assert_int_equal(b->len, len);
            assert_non_null(b->data);
        }
        v->n = 0;
        w_bstr_fill(v, VT_NITRO_MAX_BINDING + 1, 0x42);
        snprintf(needle, sizeof(needle), "%s at offset", key);
        value_fails_w(key, v, VT_E_BAD_FIELD, needle);
        if (min == 1) {
            static const uint8_t empty[] = {0x40};
            value_fails(key, empty, sizeof(empty), VT_E_BAD_FIELD, "0 bytes");
        }
        static const uint8_t text[] = {0x61, 'x'}, undef[] = {0xf7}, fls[] = {0xf4}, arr[] = {0x80};
        value_fails(key, text, sizeof(text), VT_E_BAD_FIELD, "got text string");
        value_fails(key, undef, sizeof(undef), VT_E_BAD_FIELD, "got undefined");
        value_fails(key, fls, sizeof(fls), VT_E_BAD_FIELD, "got false");
        value_fails(key, arr, sizeof(arr), VT_E_BAD_FIELD, "got array");
        /* Absent altogether. */
        struct payload pl;
        pl_default(&pl);
        pl_remove(&pl, key);
        payload_ok(&pl, &nd, NULL);
        assert_false(nd.public_key.present || nd.user_data.present || nd.nonce.present);
    }
    /* All three absent; all three present. */
    struct payload pl;
    pl_default(&pl);
    for (size_t i = 0; i < 3; i++) {
        pl_remove(&pl, OPTIONAL[i]);
    }
    payload_ok(&pl, &nd, NULL);
    assert_int_equal(nd.n_cabundle, 2);
    pl_default(&pl);
    v->n = 0;
    w_bstr_fill(v, 7, 0x42);
    for (size_t i = 0; i < 3; i++) {
        pl_set(&pl, OPTIONAL[i], v);
    }
    struct w *doc;
    payload_ok(&pl, &nd, &doc);
    assert_true(nd.public_key.present && nd.user_data.present && nd.nonce.present);
    assert_true(inside(doc, nd.nonce.data, nd.nonce.len));
    assert_int_equal(nd.nonce.len, 7);
    free(doc);
    free(v);
}

static void test_unknown_keys(void **state)
{
    (void)state;
    struct payload pl;
    struct vt_nitro_doc nd;
    struct w *v = w_new();
    /* Values of every kind, including an empty key, are skipped. */
    static const uint8_t complex[] = {0xa3, 0x61, 'n', 0x21, 0x61, 'a',  0x85, 0x01, 0x42, 0x00,
                                      0xff, 0x61, 'x', 0xf6, 0xf5, 0x61, 't',  0xc1, 0x00};
    pl_default(&pl);
    w_raw(v, complex, sizeof(complex));
    pl_add(&pl, "veritee_extra", v);
    pl_add(&pl, "", v);
    v->n = 0;
    w_byte(v, 0xbf);
    w_byte(v, 0xff);
    pl_add(&pl, "digest ", v); /* not "digest" */
    payload_ok(&pl, &nd, NULL);
    assert_int_equal(nd.n_pcrs, 3);
    /* Duplicate unknown keys. */
    pl_default(&pl);
    v->n = 0;
    w_byte(v, 0x00);
    pl_add(&pl, "x-a", v);
    pl_add(&pl, "x-b", v);
    pl_add(&pl, "x-a", v);
    payload_fails(&pl, VT_E_DUPLICATE, "payload.unknown_key", "\"x-a\"");
    pl_default(&pl);
    pl_add(&pl, "", v);
    pl_add(&pl, "", v);
    payload_fails(&pl, VT_E_DUPLICATE, "payload.unknown_key", "\"\"");
    /* Up to VT_NITRO_MAX_UNKNOWN_KEYS of them, not more. */
    for (int extra = 0; extra < 2; extra++) {
        pl_default(&pl);
        for (int i = 0; i < VT_NITRO_MAX_UNKNOWN_KEYS + extra; i++) {
            char key[16];
            snprintf(key, sizeof(key), "k%d", i);
            pl_add(&pl, key, v);
        }
        if (extra == 0) {
            payload_ok(&pl, &nd, NULL);
        } else {
            payload_fails(&pl, VT_E_TOO_LARGE, "payload.unknown_key", "k32");
        }
    }
    /* Their values must be well-formed. */
    static const uint8_t reserved[] = {0x81, 0x1d}, indef_text[] = {0x7f, 0xff},
                         odd[] = {0xbf, 0x00, 0xff}, short_simple[] = {0xf8, 0x05};
    const uint8_t *bad[] = {reserved, indef_text, odd, short_simple};
    size_t bad_len[] = {sizeof(reserved), sizeof(indef_text), sizeof(odd), sizeof(short_simple)};
    for (size_t i = 0; i < 4; i++) {
        pl_default(&pl);
        v->n = 0;
        w_raw(v, bad[i], bad_len[i]);
        pl_add(&pl, "junk\x01", v);
        payload_fails(&pl, VT_E_MALFORMED, "payload.unknown_key", "\"junk\\x01\"");
    }
    /* Too deep. */
    pl_default(&pl);
    v->n = 0;
    for (int i = 0; i <= VT_MAX_CBOR_DEPTH; i++) {
        w_byte(v, 0x81);
    }
    w_byte(v, 0x00);
    pl_add(&pl, "deep", v);
    payload_fails(&pl, VT_E_TOO_LARGE, "payload.unknown_key", "deep");
    /* An unknown key at the end, whose value runs out: truncated. */
    pl_default(&pl);
    v->n = 0;
    w_byte(v, 0x82);
    w_byte(v, 0x00);
    pl_add(&pl, "last", v);
    payload_fails(&pl, VT_E_TRUNCATED, "payload.unknown_key", "last");
    free(v);
}

/* ---- the Sig_structure ---- */

static void test_sig_structure(void **state)
{
    (void)state;
    /* The default document, and hand-made views whose lengths need each head size (the bytes
     * need not be a valid payload here). */
    static const uint8_t bytes[VT_NITRO_MAX_PAYLOAD_SIZE];
    static const size_t lens[] = {0, 0, 23, 24, 255, 256, VT_NITRO_MAX_PAYLOAD_SIZE};
    for (size_t t = 0; t < sizeof(lens) / sizeof(lens[0]); t++) {
        struct vt_nitro_doc nd;
        struct w *doc = NULL;
        if (t == 0) {
            struct payload pl;
            pl_default(&pl);
            payload_ok(&pl, &nd, &doc);
        } else {
            memset(&nd, 0, sizeof(nd));
            nd.protected_hdr = ES384_HDR;
            nd.protected_len = t == 1 ? 0 : sizeof(ES384_HDR);
            nd.payload = t == 1 ? NULL : bytes;
            nd.payload_len = lens[t];
        }
        /* What it must be, written independently. */
        struct w *want = w_new();
        w_byte(want, 0x84);
        w_text(want, "Signature1");
        w_head(want, 2, nd.protected_len);
        w_raw(want, nd.protected_hdr, nd.protected_len);
        w_byte(want, 0x40);
        w_head(want, 2, nd.payload_len);
        w_raw(want, nd.payload, nd.payload_len);
        uint8_t *out = malloc(want->n);
        assert_non_null(out);
        size_t len = 0;
        assert_int_equal(vt_nitro_sig_structure(&nd, out, want->n, &len), VT_OK);
        assert_int_equal(len, want->n);
        assert_memory_equal(out, want->b, len);
        /* It starts as the spec says: 84 6a "Signature1" 44 a1013822 40. */
        static const uint8_t start[] = {0x84, 0x6a, 'S', 'i',  'g',  'n',  'a',  't',  'u',
                                        'r',  'e',  '1', 0x44, 0xa1, 0x01, 0x38, 0x22, 0x40};
        if (nd.protected_len == 4) {
            assert_memory_equal(out, start, sizeof(start));
        }
        len = 12345;
        assert_int_equal(vt_nitro_sig_structure(&nd, out, want->n - 1, &len),
                         VT_E_BUFFER_TOO_SMALL);
        assert_int_equal(len, 12345);
        assert_int_equal(vt_nitro_sig_structure(NULL, out, want->n, &len), VT_E_ARG);
        assert_int_equal(vt_nitro_sig_structure(&nd, NULL, want->n, &len), VT_E_ARG);
        assert_int_equal(vt_nitro_sig_structure(&nd, out, want->n, NULL), VT_E_ARG);
        free(out);
        free(want);
        free(doc);
    }
    /* The documented capacity always suffices: the largest payload. */
    struct vt_nitro_doc big;
    memset(&big, 0, sizeof(big));
    static const uint8_t payload[VT_NITRO_MAX_PAYLOAD_SIZE];
    big.protected_hdr = ES384_HDR;
    big.protected_len = sizeof(ES384_HDR);
    big.payload = payload;
    big.payload_len = sizeof(payload);
    uint8_t *out = malloc(VT_NITRO_MAX_DOC_SIZE + 64);
    assert_non_null(out);
    size_t len;
    assert_int_equal(vt_nitro_sig_structure(&big, out, VT_NITRO_MAX_DOC_SIZE + 64, &len), VT_OK);
    assert_int_equal(len, 1 + 11 + 5 + 1 + 3 + VT_NITRO_MAX_PAYLOAD_SIZE);
    free(out);
}

/* ---- the real fixtures ---- */

static void check_hex_field(const char *file, const char *name, json_t *want,
                            const struct vt_nitro_bytes *got)
{
    if (json_is_null(want)) {
        if (got->present) {
            fail_msg("%s: %s should be null", file, name);
        }
        return;
    }
    assert_true(json_is_string(want));
    if (!got->present) {
        fail_msg("%s: %s missing", file, name);
    }
    char *hex = malloc(2 * got->len + 1);
    assert_non_null(hex);
    vt_hex_encode(got->data, got->len, hex);
    if (strcmp(hex, json_string_value(want)) != 0) {
        fail_msg("%s: %s is %s, want %s", file, name, hex, json_string_value(want));
    }
    free(hex);
}

static void check_fixture(const char *root, json_t *exp)
{
    const char *file = json_string_value(json_object_get(exp, "file"));
    assert_non_null(file);
    char path[1024];
    snprintf(path, sizeof(path), "%s/nitro/%s", root, file);
    size_t len;
    uint8_t *bytes = vt_test_read_file(path, &len);
    if (bytes == NULL) {
        fail_msg("cannot read %s", path);
    }
    struct vt_nitro_doc nd;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_nitro_doc_parse(bytes, len, &nd, &d);
    if (err != VT_OK) {
        fail_msg("%s: %s [%s] %s", file, vt_err_name(err), d.check, d.detail);
    }
    const char *module_id = json_string_value(json_object_get(exp, "module_id"));
    assert_non_null(module_id);
    assert_int_equal(nd.module_id_len, strlen(module_id));
    assert_memory_equal(nd.module_id, module_id, nd.module_id_len);
    assert_true(nd.timestamp_ms ==
                (uint64_t)json_integer_value(json_object_get(exp, "timestamp_ms")));
    assert_int_equal(nd.n_pcrs, json_integer_value(json_object_get(exp, "pcr_count")));
    assert_int_equal(nd.n_cabundle, json_integer_value(json_object_get(exp, "cabundle_len")));
    assert_int_equal(nd.tagged, json_is_true(json_object_get(exp, "cose_tagged")));
    /* Non-zero PCRs exactly as listed; the others all zero. */
    json_t *nonzero = json_object_get(exp, "pcrs_nonzero");
    assert_true(json_is_object(nonzero));
    size_t n_nonzero = 0;
    for (size_t i = 0; i < nd.n_pcrs; i++) {
        if (i > 0) {
            assert_true(nd.pcrs[i].index > nd.pcrs[i - 1].index);
        }
        char key[8];
        snprintf(key, sizeof(key), "%u", nd.pcrs[i].index);
        json_t *want = json_object_get(nonzero, key);
        if (want == NULL) {
            assert_true(all_zero(nd.pcrs[i].value, nd.pcrs[i].len));
            continue;
        }
        n_nonzero++;
        char hex[2 * 64 + 1];
        vt_hex_encode(nd.pcrs[i].value, nd.pcrs[i].len, hex);
        if (strcmp(hex, json_string_value(want)) != 0) {
            fail_msg("%s: PCR%s is %s, want %s", file, key, hex, json_string_value(want));
        }
    }
    assert_int_equal(n_nonzero, json_object_size(nonzero));
    check_hex_field(file, "public_key", json_object_get(exp, "public_key"), &nd.public_key);
    check_hex_field(file, "user_data", json_object_get(exp, "user_data"), &nd.user_data);
    check_hex_field(file, "nonce", json_object_get(exp, "nonce"), &nd.nonce);
    /* The payload's first byte, as listed (definite a9 or indefinite bf). */
    const char *first = json_string_value(json_object_get(exp, "payload_first_byte"));
    if (first != NULL) {
        char hex[3];
        vt_hex_encode(nd.payload, 1, hex);
        assert_string_equal(hex, first);
    }
    /* Every real document's Sig_structure is what the spec shows. */
    uint8_t *sig = malloc(VT_NITRO_MAX_DOC_SIZE + 64);
    assert_non_null(sig);
    size_t sig_len;
    assert_int_equal(vt_nitro_sig_structure(&nd, sig, VT_NITRO_MAX_DOC_SIZE + 64, &sig_len), VT_OK);
    assert_int_equal(sig_len, 1 + 11 + 5 + 1 + 3 + nd.payload_len);
    free(sig);
    free(bytes);
}

static void test_fixtures_expected(void **state)
{
    (void)state;
    const char *root = vt_fixtures_or_skip();
    char path[1024];
    snprintf(path, sizeof(path), "%s/nitro/expected.json", root);
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (j == NULL) {
        fail_msg("%s: %s", path, jerr.text);
    }
    json_t *docs = json_object_get(j, "documents");
    assert_true(json_array_size(docs) >= 8);
    for (size_t i = 0; i < json_array_size(docs); i++) {
        check_fixture(root, json_array_get(docs, i));
    }
    json_decref(j);
}

static uint8_t *read_base64(const char *path, size_t *len)
{
    size_t tlen;
    uint8_t *text = vt_test_read_file(path, &tlen);
    if (text == NULL) {
        fail_msg("cannot read %s", path);
    }
    uint8_t *out = malloc(tlen);
    assert_non_null(out);
    assert_int_equal(vt_base64_decode((const char *)text, tlen, false, out, tlen, len), VT_OK);
    free(text);
    return out;
}

static void test_fixture_base64_forms(void **state)
{
    (void)state;
    const char *root = vt_fixtures_or_skip();
    char path[1024];
    /* evervault's base64 document is the same document as derived/...-ga-2023-09-18.cose. */
    snprintf(path, sizeof(path), "%s/nitro/evervault/test-data/valid-attestation-doc-base64", root);
    size_t len;
    uint8_t *doc = read_base64(path, &len);
    struct vt_nitro_doc nd;
    struct vt_diag d;
    assert_int_equal(vt_nitro_doc_parse(doc, len, &nd, &d), VT_OK);
    assert_int_equal(nd.module_id_len, strlen("i-0918f6c55e3b61d89-enc018aa8b8e2285d13"));
    assert_memory_equal(nd.module_id, "i-0918f6c55e3b61d89-enc018aa8b8e2285d13", nd.module_id_len);
    assert_int_equal(nd.nonce.len, 256);
    free(doc);
    /* The as-published 2026 document lacks three bytes: it must not parse. */
    snprintf(path, sizeof(path),
             "%s/nitro/base-nitro-validator/attestation-2026-01-03.as-published.b64", root);
    doc = read_base64(path, &len);
    vt_diag_init(&d);
    memset(&nd, 0x5a, sizeof(nd));
    enum vt_err err = vt_nitro_doc_parse(doc, len, &nd, &d);
    assert_int_not_equal(err, VT_OK);
    assert_int_equal(d.code, err);
    assert_true(all_zero(&nd, sizeof(nd)));
    print_message("as-published 2026 document: %s [%s] %s\n", vt_err_name(err), d.check, d.detail);
    free(doc);
}

static void test_fixture_sig_structure(void **state)
{
    (void)state;
    const char *root = vt_fixtures_or_skip();
    char path[1024];
    size_t len, want_len;
    snprintf(path, sizeof(path),
             "%s/nitro/base-nitro-validator/attestation-2024-11-25.reconstructed.cose", root);
    uint8_t *doc = vt_test_read_file(path, &len);
    assert_non_null(doc);
    snprintf(path, sizeof(path),
             "%s/nitro/base-nitro-validator/attestation-2024-11-25.sig_structure.cbor", root);
    uint8_t *want = vt_test_read_file(path, &want_len);
    assert_non_null(want);
    struct vt_nitro_doc nd;
    struct vt_diag d;
    assert_int_equal(vt_nitro_doc_parse(doc, len, &nd, &d), VT_OK);
    uint8_t *out = malloc(VT_NITRO_MAX_DOC_SIZE + 64);
    assert_non_null(out);
    size_t out_len;
    assert_int_equal(vt_nitro_sig_structure(&nd, out, VT_NITRO_MAX_DOC_SIZE + 64, &out_len), VT_OK);
    assert_int_equal(out_len, want_len);
    assert_memory_equal(out, want, want_len);
    free(out);
    free(want);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_document),
        cmocka_unit_test(test_tagged),
        cmocka_unit_test(test_envelope_shape),
        cmocka_unit_test(test_protected_header),
        cmocka_unit_test(test_unprotected_header),
        cmocka_unit_test(test_payload_and_signature_items),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_truncation_every_byte),
        cmocka_unit_test(test_payload_truncation),
        cmocka_unit_test(test_definite_and_indefinite),
        cmocka_unit_test(test_indefinite_payload_breaks),
        cmocka_unit_test(test_payload_not_a_map),
        cmocka_unit_test(test_keys_must_be_text),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_key_order_free),
        cmocka_unit_test(test_module_id),
        cmocka_unit_test(test_digest),
        cmocka_unit_test(test_timestamp),
        cmocka_unit_test(test_pcrs),
        cmocka_unit_test(test_certificate),
        cmocka_unit_test(test_cabundle),
        cmocka_unit_test(test_optional_fields),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_sig_structure),
        cmocka_unit_test(test_fixtures_expected),
        cmocka_unit_test(test_fixture_base64_forms),
        cmocka_unit_test(test_fixture_sig_structure),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    free(g_last);
    return failed;
}
