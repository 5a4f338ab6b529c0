/*
 * The minimal DER reader: short and long lengths at their limits, every rejected header form,
 * truncation at every byte of a TLV, tag checks, INTEGER minimality and range, BOOLEAN values,
 * and OID text with multi-byte, maximal and overflowing arcs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/der.h"

static void assert_reader_unmoved(const struct vt_reader *r, const uint8_t *buf, size_t len)
{
    assert_ptr_equal(vt_reader_rest(r), buf);
    assert_int_equal(vt_reader_left(r), len);
}

/* vt_der_get must fail with `want` and leave reader and output alone. */
static void assert_get_fails(const uint8_t *buf, size_t len, enum vt_err want)
{
    struct vt_reader r;
    vt_reader_init(&r, buf, len);
    struct vt_der_tlv tlv = {0xee, (const uint8_t *)"keep", 4242};
    enum vt_err err = vt_der_get(&r, &tlv);
    if (err != want) {
        fail_msg("got %d, want %d (len %zu)", err, want, len);
    }
    assert_reader_unmoved(&r, buf, len);
    assert_int_equal(tlv.tag, 0xee);
    assert_string_equal((const char *)tlv.val, "keep");
    assert_int_equal(tlv.len, 4242);
}

static void test_get_short_form(void **state)
{
    (void)state;
    static const uint8_t buf[] = {0x04, 0x03, 'a', 'b', 'c', 0x05, 0x00, 0x02, 0x01, 0x07};
    struct vt_reader r;
    struct vt_der_tlv tlv;
    vt_reader_init(&r, buf, sizeof(buf));
    assert_int_equal(vt_der_get(&r, &tlv), VT_OK);
    assert_int_equal(tlv.tag, VT_DER_OCTET_STRING);
    assert_int_equal(tlv.len, 3);
    assert_ptr_equal(tlv.val, buf + 2);
    assert_int_equal(vt_der_get(&r, &tlv), VT_OK);
    assert_int_equal(tlv.tag, VT_DER_NULL);
    assert_int_equal(tlv.len, 0);
    assert_int_equal(vt_der_get(&r, &tlv), VT_OK);
    assert_int_equal(tlv.tag, VT_DER_INTEGER);
    assert_int_equal(tlv.len, 1);
    assert_int_equal(tlv.val[0], 7);
    assert_int_equal(vt_reader_expect_end(&r), VT_OK);
    /* Nothing left: truncated. */
    assert_int_equal(vt_der_get(&r, &tlv), VT_E_TRUNCATED);

    /* 127, the largest short form. */
    static uint8_t b127[2 + 127] = {0x04, 0x7f};
    vt_reader_init(&r, b127, sizeof(b127));
    assert_int_equal(vt_der_get(&r, &tlv), VT_OK);
    assert_int_equal(tlv.len, 127);
    assert_int_equal(vt_reader_expect_end(&r), VT_OK);
}

static void test_get_long_form(void **state)
{
    (void)state;
    struct vt_reader r;
    struct vt_der_tlv tlv;

    /* 0x81 0x80: 128, the smallest long form. */
    static uint8_t b128[3 + 128] = {0x04, 0x81, 0x80};
    vt_reader_init(&r, b128, sizeof(b128));
    assert_int_equal(vt_der_get(&r, &tlv), VT_OK);
    assert_int_equal(tlv.len, 128);
    assert_ptr_equal(tlv.val, b128 + 3);
    assert_int_equal(vt_reader_expect_end(&r), VT_OK);

    /* 0x82 0x01 0x00: 256. */
    static uint8_t b256[4 + 256] = {0x30, 0x82, 0x01, 0x00};
    vt_reader_init(&r, b256, sizeof(b256));
    assert_int_equal(vt_der_get(&r, &tlv), VT_OK);
    assert_int_equal(tlv.tag, VT_DER_SEQUENCE);
    assert_int_equal(tlv.len, 256);

    /* 0x83 and 0x84 forms with the value present. */
    size_t n3 = 0x010000;
    uint8_t *b3 = calloc(1, 5 + n3);
    assert_non_null(b3);
    b3[0] = 0x04;
    b3[1] = 0x83;
    b3[2] = 0x01;
    vt_reader_init(&r, b3, 5 + n3);
    assert_int_equal(vt_der_get(&r, &tlv), VT_OK);
    assert_int_equal(tlv.len, n3);
    assert_int_equal(vt_reader_expect_end(&r), VT_OK);
    free(b3);

    size_t n4 = 0x01000000;
    uint8_t *b4 = calloc(1, 6 + n4);
    assert_non_null(b4);
    b4[0] = 0x04;
    b4[1] = 0x84;
    b4[2] = 0x01;
    vt_reader_init(&r, b4, 6 + n4);
    assert_int_equal(vt_der_get(&r, &tlv), VT_OK);
    assert_int_equal(tlv.len, n4);
    free(b4);

    /* Five length bytes are refused even when the value present would fit them (a reader that
     * kept only the low 32 bits would see 0x80 here). */
    static uint8_t b5[7 + 128] = {0x04, 0x85, 0x01, 0x00, 0x00, 0x00, 0x80};
    assert_get_fails(b5, sizeof(b5), VT_E_BAD_DER);

    /* The largest 4-byte length, far beyond the input: truncated, not wrapped. */
    static const uint8_t huge[] = {0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00};
    assert_get_fails(huge, sizeof(huge), VT_E_TRUNCATED);
}

static void test_get_rejects_bad_headers(void **state)
{
    (void)state;
    static const struct {
        uint8_t b[8];
        size_t len;
    } bad[] = {
        {{0x04, 0x80, 0x00, 0x00}, 4},                   /* indefinite length */
        {{0x30, 0x80, 0x00, 0x00}, 4},                   /* indefinite length, constructed */
        {{0x04, 0x85, 0x00, 0x00, 0x00, 0x00, 0x01}, 7}, /* five length bytes */
        {{0x04, 0xff, 0x00}, 3},                         /* reserved 0xff */
        {{0x04, 0x81, 0x00}, 3},                         /* long form for 0 */
        {{0x04, 0x81, 0x7f}, 3},                         /* long form for 127 */
        {{0x04, 0x82, 0x00, 0x80}, 4},                   /* leading zero length byte */
        {{0x04, 0x82, 0x00, 0xff}, 4},                   /* leading zero length byte */
        {{0x04, 0x84, 0x00, 0x00, 0x01, 0x00}, 6},       /* leading zero length byte */
        {{0x1f, 0x01, 0x00}, 3},                         /* high tag number */
        {{0x3f, 0x81, 0x01, 0x00}, 4},                   /* high tag number, constructed */
        {{0x9f, 0x01, 0x00}, 3},                         /* high tag number, context class */
        {{0xff, 0x00}, 2},                               /* high tag number, private class */
        {{0x00, 0x00}, 2},                               /* BER end-of-contents */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_get_fails(bad[i].b, bad[i].len, VT_E_BAD_DER);
    }
}

static void test_get_truncated_at_every_byte(void **state)
{
    (void)state;
    /* One TLV of each header shape; every proper prefix is truncated. */
    static uint8_t shapes[3][300];
    static const size_t lens[3] = {2 + 5, 3 + 200, 4 + 290};
    memcpy(shapes[0], "\x04\x05hello", 7);
    memcpy(shapes[1], "\x04\x81\xc8", 3);
    memcpy(shapes[2], "\x30\x82\x01\x22", 4);
    for (size_t k = 0; k < 3; k++) {
        for (size_t len = 0; len < lens[k]; len++) {
            assert_get_fails(shapes[k], len, VT_E_TRUNCATED);
        }
        struct vt_reader r;
        struct vt_der_tlv tlv;
        vt_reader_init(&r, shapes[k], lens[k]);
        assert_int_equal(vt_der_get(&r, &tlv), VT_OK);
        assert_int_equal(vt_reader_expect_end(&r), VT_OK);
    }
}

static void test_get_inside_sub_reader(void **state)
{
    (void)state;
    /* The TLV's declared length runs past the sub-reader though the parent has the bytes. */
    static const uint8_t buf[] = {0x04, 0x03, 'a', 'b', 'c'};
    struct vt_reader r;
    struct vt_reader sub;
    struct vt_der_tlv tlv;
    vt_reader_init(&r, buf, sizeof(buf));
    assert_int_equal(vt_reader_sub(&r, 4, &sub), VT_OK);
    assert_int_equal(vt_der_get(&sub, &tlv), VT_E_TRUNCATED);
    assert_int_equal(vt_reader_left(&sub), 4);
}

static void test_expect(void **state)
{
    (void)state;
    /* SEQUENCE { OID 1.2.3, SEQUENCE { INTEGER 5 }, one stray byte } followed by NULL. */
    static const uint8_t buf[] = {0x30, 0x0a, 0x06, 0x02, 0x2a, 0x03, 0x30,
                                  0x03, 0x02, 0x01, 0x05, 0x05, 0x05, 0x00};
    struct vt_reader r;
    struct vt_reader seq;
    struct vt_reader inner;
    struct vt_reader oid;
    struct vt_der_tlv tlv;
    uint64_t v;
    vt_reader_init(&r, buf, sizeof(buf));
    assert_int_equal(vt_der_expect(&r, VT_DER_SEQUENCE, &seq), VT_OK);
    assert_int_equal(vt_reader_left(&seq), 10);
    assert_int_equal(vt_reader_offset(&seq), 2); /* offsets stay relative to the whole */
    assert_int_equal(vt_der_expect(&seq, VT_DER_OID, &oid), VT_OK);
    assert_int_equal(vt_reader_left(&oid), 2);
    assert_int_equal(vt_der_expect(&seq, VT_DER_SEQUENCE, &inner), VT_OK);
    assert_int_equal(vt_der_get(&inner, &tlv), VT_OK);
    assert_int_equal(vt_der_uint(&tlv, 10, &v), VT_OK);
    assert_int_equal(v, 5);
    assert_int_equal(vt_reader_expect_end(&inner), VT_OK);
    /* The SEQUENCE has 1 byte more than its two children. */
    assert_int_equal(vt_reader_expect_end(&seq), VT_E_TRAILING_DATA);
    assert_int_equal(vt_reader_offset(&r), 12);

    /* Wrong tag: BAD_DER, reader and content untouched. */
    struct vt_reader keep = r;
    struct vt_reader content = {(const uint8_t *)"c", 1, (const uint8_t *)"c"};
    assert_int_equal(vt_der_expect(&r, VT_DER_SEQUENCE, &content), VT_E_BAD_DER);
    assert_ptr_equal(vt_reader_rest(&r), vt_reader_rest(&keep));
    assert_int_equal(vt_reader_left(&r), vt_reader_left(&keep));
    assert_int_equal(vt_reader_left(&content), 1);
    /* A bad header or truncation propagates with its own code. */
    static const uint8_t indef[] = {0x30, 0x80, 0x00, 0x00};
    vt_reader_init(&r, indef, sizeof(indef));
    assert_int_equal(vt_der_expect(&r, VT_DER_SEQUENCE, &content), VT_E_BAD_DER);
    assert_int_equal(vt_reader_left(&r), sizeof(indef));
    vt_reader_init(&r, buf, 5);
    assert_int_equal(vt_der_expect(&r, VT_DER_SEQUENCE, &content), VT_E_TRUNCATED);
    assert_int_equal(vt_reader_left(&r), 5);
    assert_int_equal(vt_reader_left(&content), 1);
}

static enum vt_err uint_of(uint8_t tag, const uint8_t *val, size_t len, uint64_t max, uint64_t *out)
{
    struct vt_der_tlv tlv = {tag, val, len};
    return vt_der_uint(&tlv, max, out);
}

static void test_uint(void **state)
{
    (void)state;
    uint64_t v;
    static const struct {
        const char *bytes;
        size_t len;
        uint64_t want;
    } good[] = {
        {"\x00", 1, 0},
        {"\x01", 1, 1},
        {"\x7f", 1, 127},
        {"\x00\x80", 2, 128},
        {"\x00\xff", 2, 255},
        {"\x01\x00", 2, 256},
        {"\x7f\xff\xff\xff\xff\xff\xff\xff", 8, INT64_MAX},
        {"\x00\x80\x00\x00\x00\x00\x00\x00\x00", 9, UINT64_C(0x8000000000000000)},
        {"\x00\xff\xff\xff\xff\xff\xff\xff\xff", 9, UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        v = 4242;
        assert_int_equal(
            uint_of(VT_DER_INTEGER, (const uint8_t *)good[i].bytes, good[i].len, UINT64_MAX, &v),
            VT_OK);
        assert_true(v == good[i].want);
        /* Exactly at max is fine, one below is not. */
        assert_int_equal(uint_of(VT_DER_ENUMERATED, (const uint8_t *)good[i].bytes, good[i].len,
                                 good[i].want, &v),
                         VT_OK);
        if (good[i].want > 0) {
            v = 4242;
            assert_int_equal(uint_of(VT_DER_INTEGER, (const uint8_t *)good[i].bytes, good[i].len,
                                     good[i].want - 1, &v),
                             VT_E_BAD_DER);
            assert_int_equal(v, 4242);
        }
    }
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"", 0},                                          /* empty */
        {"\x80", 1},                                      /* negative */
        {"\xff", 1},                                      /* -1 */
        {"\xff\x7f", 2},                                  /* negative */
        {"\x00\x00", 2},                                  /* non-minimal zero */
        {"\x00\x7f", 2},                                  /* non-minimal */
        {"\x00\x00\x80", 3},                              /* non-minimal */
        {"\x01\x00\x00\x00\x00\x00\x00\x00\x00", 9},      /* 2^64 */
        {"\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00", 10}, /* non-minimal and too big */
        {"\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff", 10}, /* more than 64 bits */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 4242;
        enum vt_err err =
            uint_of(VT_DER_INTEGER, (const uint8_t *)bad[i].bytes, bad[i].len, UINT64_MAX, &v);
        if (err != VT_E_BAD_DER) {
            fail_msg("bad[%zu]: got %d", i, err);
        }
        assert_int_equal(v, 4242);
    }
    /* Only INTEGER and ENUMERATED. */
    assert_int_equal(uint_of(VT_DER_OCTET_STRING, (const uint8_t *)"\x01", 1, 10, &v),
                     VT_E_BAD_DER);
    assert_int_equal(uint_of(VT_DER_BOOLEAN, (const uint8_t *)"\x01", 1, 10, &v), VT_E_BAD_DER);
    assert_int_equal(uint_of(0x82, (const uint8_t *)"\x01", 1, 10, &v), VT_E_BAD_DER);
    assert_int_equal(v, 4242);
}

static void test_bool(void **state)
{
    (void)state;
    bool b = false;
    struct vt_der_tlv t = {VT_DER_BOOLEAN, (const uint8_t *)"\xff", 1};
    assert_int_equal(vt_der_bool(&t, &b), VT_OK);
    assert_true(b);
    t.val = (const uint8_t *)"\x00";
    assert_int_equal(vt_der_bool(&t, &b), VT_OK);
    assert_false(b);
    b = true;
    static const struct vt_der_tlv bad[] = {
        {VT_DER_BOOLEAN, (const uint8_t *)"\x01", 1}, /* BER true, not DER */
        {VT_DER_BOOLEAN, (const uint8_t *)"\xfe", 1},
        {VT_DER_BOOLEAN, (const uint8_t *)"", 0},         /* empty */
        {VT_DER_BOOLEAN, (const uint8_t *)"\xff\xff", 2}, /* too long */
        {VT_DER_BOOLEAN, (const uint8_t *)"\x00\x00", 2},
        {VT_DER_INTEGER, (const uint8_t *)"\xff", 1}, /* wrong tag */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(vt_der_bool(&bad[i], &b), VT_E_BAD_DER);
        assert_true(b);
    }
}

static enum vt_err oid_text(const char *bytes, size_t len, char *out, size_t cap)
{
    return vt_der_oid_to_text((const uint8_t *)bytes, len, out, cap);
}

static void test_oid(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len;
        const char *text;
    } good[] = {
        /* Intel SGX extensions and the PCK's FMSPC. */
        {"\x2a\x86\x48\x86\xf8\x4d\x01\x0d\x01", 9, "1.2.840.113741.1.13.1"},
        {"\x2a\x86\x48\x86\xf8\x4d\x01\x0d\x01\x04", 10, "1.2.840.113741.1.13.1.4"},
        {"\x2a\x86\x48\xce\x3d\x04\x03\x02", 8, "1.2.840.10045.4.3.2"}, /* ecdsa-with-SHA256 */
        {"\x55\x1d\x13", 3, "2.5.29.19"},                               /* basicConstraints */
        {"\x00", 1, "0.0"},
        {"\x27", 1, "0.39"},
        {"\x28", 1, "1.0"},
        {"\x4f", 1, "1.39"},
        {"\x50", 1, "2.0"},
        {"\x88\x37", 2, "2.999"},
        {"\x2a\x00\x7f\x81\x00", 5, "1.2.0.127.128"},
        /* The largest arc that fits 64 bits. */
        {"\x2a\x81\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11, "1.2.18446744073709551615"},
        /* ... also as the first subidentifier. */
        {"\x81\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10, "2.18446744073709551535"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char out[64];
        assert_int_equal(oid_text(good[i].bytes, good[i].len, out, sizeof(out)), VT_OK);
        assert_string_equal(out, good[i].text);
        /* Exactly enough room, then one byte short. */
        size_t need = strlen(good[i].text) + 1;
        memset(out, 'x', sizeof(out));
        assert_int_equal(oid_text(good[i].bytes, good[i].len, out, need), VT_OK);
        assert_string_equal(out, good[i].text);
        memset(out, 'x', sizeof(out));
        assert_int_equal(oid_text(good[i].bytes, good[i].len, out, need - 1),
                         VT_E_BUFFER_TOO_SMALL);
        assert_int_equal(out[0], 'x');
    }
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"", 0},                                              /* empty */
        {"\x80\x01", 2},                                      /* non-minimal first arc */
        {"\x2a\x80\x01", 3},                                  /* non-minimal arc */
        {"\x2a\x80\x80\x01", 4},                              /* non-minimal arc */
        {"\x2a\x86", 2},                                      /* last arc unfinished */
        {"\x86", 1},                                          /* first arc unfinished */
        {"\x2a\x03\xff", 3},                                  /* last arc unfinished */
        {"\x2a\x82\x80\x80\x80\x80\x80\x80\x80\x80\x00", 11}, /* 2^64 */
        {"\x2a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11}, /* 70 bits */
        {"\x2a\x81\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 12},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char out[64];
        memset(out, 'x', sizeof(out));
        enum vt_err err = oid_text(bad[i].bytes, bad[i].len, out, sizeof(out));
        if (err != VT_E_BAD_DER) {
            fail_msg("bad[%zu]: got %d", i, err);
        }
        assert_int_equal(out[0], 'x');
    }
}

static void test_parse_nested_structure(void **state)
{
    (void)state;
    /*
     * The shape of Intel's SGX extension entries:
     *   SEQUENCE { SEQUENCE { OID 1.2.840.113741.1.13.1.4, OCTET STRING (6) },
     *              SEQUENCE { OID ...13.1.2.1, INTEGER 255 } }
     */
    static const uint8_t buf[] = {
        0x30, 0x23,                                                       /* outer */
        0x30, 0x12, 0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, /* entry 1 */
        0x0d, 0x01, 0x04, 0x04, 0x04, 0x00, 0x90, 0x6e, 0xa1,             /* fmspc (4 here) */
        0x30, 0x0d, 0x06, 0x07, 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, /* entry 2 */
        0x02, 0x02, 0x00, 0xff,                                           /* INTEGER 255 */
    };
    struct vt_reader r;
    struct vt_reader outer;
    struct vt_reader e;
    struct vt_der_tlv oid;
    struct vt_der_tlv val;
    char text[64];
    uint64_t v;
    vt_reader_init(&r, buf, sizeof(buf));
    assert_int_equal(vt_der_expect(&r, VT_DER_SEQUENCE, &outer), VT_OK);
    assert_int_equal(vt_reader_expect_end(&r), VT_OK);

    assert_int_equal(vt_der_expect(&outer, VT_DER_SEQUENCE, &e), VT_OK);
    assert_int_equal(vt_der_get(&e, &oid), VT_OK);
    assert_int_equal(oid.tag, VT_DER_OID);
    assert_int_equal(vt_der_oid_to_text(oid.val, oid.len, text, sizeof(text)), VT_OK);
    assert_string_equal(text, "1.2.840.113741.1.13.1.4");
    assert_int_equal(vt_der_get(&e, &val), VT_OK);
    assert_int_equal(val.tag, VT_DER_OCTET_STRING);
    assert_int_equal(val.len, 4);
    assert_int_equal(vt_reader_expect_end(&e), VT_OK);

    assert_int_equal(vt_der_expect(&outer, VT_DER_SEQUENCE, &e), VT_OK);
    assert_int_equal(vt_der_get(&e, &oid), VT_OK);
    assert_int_equal(vt_der_oid_to_text(oid.val, oid.len, text, sizeof(text)), VT_OK);
    assert_string_equal(text, "1.2.840.113741.1");
    assert_int_equal(vt_der_get(&e, &val), VT_OK);
    assert_int_equal(vt_der_uint(&val, 255, &v), VT_OK);
    assert_int_equal(v, 255);
    assert_int_equal(vt_reader_expect_end(&e), VT_OK);
    assert_int_equal(vt_reader_expect_end(&outer), VT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_short_form),
        cmocka_unit_test(test_get_long_form),
        cmocka_unit_test(test_get_rejects_bad_headers),
        cmocka_unit_test(test_get_truncated_at_every_byte),
        cmocka_unit_test(test_get_inside_sub_reader),
        cmocka_unit_test(test_expect),
        cmocka_unit_test(test_uint),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_oid),
        cmocka_unit_test(test_parse_nested_structure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
