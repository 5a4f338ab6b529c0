/*
 * The bounded reader: every getter's value and byte order, and for every getter and every
 * short length that the call fails with VT_E_TRUNCATED leaving the reader and the output exactly
 * as they were.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/reader.h"

static const uint8_t seq[16] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90};

static void assert_reader_at(const struct vt_reader *r, const uint8_t *buf, size_t off, size_t left)
{
    (void)buf;
    assert_ptr_equal(vt_reader_rest(r), buf + off);
    assert_int_equal(vt_reader_left(r), left);
    assert_int_equal(vt_reader_offset(r), off);
}

static void test_init_and_offset(void **state)
{
    (void)state;
    struct vt_reader r;
    vt_reader_init(&r, seq, sizeof(seq));
    assert_reader_at(&r, seq, 0, 16);
    assert_int_equal(vt_reader_skip(&r, 5), VT_OK);
    assert_reader_at(&r, seq, 5, 11);

    /* An empty reader over NULL is valid and simply has nothing. */
    vt_reader_init(&r, NULL, 0);
    assert_int_equal(vt_reader_left(&r), 0);
    assert_int_equal(vt_reader_offset(&r), 0);
    assert_int_equal(vt_reader_expect_end(&r), VT_OK);
    assert_int_equal(vt_reader_skip(&r, 0), VT_OK);
    uint8_t b = 0x5a;
    assert_int_equal(vt_reader_get_u8(&r, &b), VT_E_TRUNCATED);
    assert_int_equal(b, 0x5a);
    /* NULL data with a length is treated as empty. */
    vt_reader_init(&r, NULL, 10);
    assert_int_equal(vt_reader_left(&r), 0);
}

static void test_integers(void **state)
{
    (void)state;
    struct vt_reader r;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;

    vt_reader_init(&r, seq, sizeof(seq));
    assert_int_equal(vt_reader_get_u8(&r, &u8), VT_OK);
    assert_int_equal(u8, 0x01);
    assert_int_equal(vt_reader_get_u16le(&r, &u16), VT_OK);
    assert_int_equal(u16, 0x0302);
    assert_int_equal(vt_reader_get_u32le(&r, &u32), VT_OK);
    assert_int_equal(u32, 0x07060504);
    assert_int_equal(vt_reader_get_u64le(&r, &u64), VT_OK);
    assert_true(u64 == 0x8f8e8d8c8b8a8908ull);
    assert_reader_at(&r, seq, 15, 1);

    vt_reader_init(&r, seq, sizeof(seq));
    assert_int_equal(vt_reader_get_u16be(&r, &u16), VT_OK);
    assert_int_equal(u16, 0x0102);
    assert_int_equal(vt_reader_get_u32be(&r, &u32), VT_OK);
    assert_int_equal(u32, 0x03040506);
    assert_int_equal(vt_reader_get_u64be(&r, &u64), VT_OK);
    assert_true(u64 == 0x0708898a8b8c8d8eull);
    assert_reader_at(&r, seq, 14, 2);

    /* High bits survive (no sign extension). */
    vt_reader_init(&r, seq + 8, 8);
    assert_int_equal(vt_reader_get_u64be(&r, &u64), VT_OK);
    assert_true(u64 == 0x898a8b8c8d8e8f90ull);
    vt_reader_init(&r, seq + 8, 8);
    assert_int_equal(vt_reader_get_u32le(&r, &u32), VT_OK);
    assert_int_equal(u32, 0x8c8b8a89u);
}

static void test_peek_does_not_move(void **state)
{
    (void)state;
    struct vt_reader r;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    vt_reader_init(&r, seq, sizeof(seq));
    assert_int_equal(vt_reader_skip(&r, 1), VT_OK);
    assert_int_equal(vt_reader_peek_u8(&r, &u8), VT_OK);
    assert_int_equal(u8, 0x02);
    assert_int_equal(vt_reader_peek_u16le(&r, &u16), VT_OK);
    assert_int_equal(u16, 0x0302);
    assert_int_equal(vt_reader_peek_u32le(&r, &u32), VT_OK);
    assert_int_equal(u32, 0x05040302);
    assert_reader_at(&r, seq, 1, 15);
}

/* Call getter number `which` with an output pre-filled with 0xa5 bytes; return its result and
 * whether the output still holds the fill. */
enum getter {
    G_U8,
    G_U16LE,
    G_U32LE,
    G_U64LE,
    G_U16BE,
    G_U32BE,
    G_U64BE,
    G_PEEK_U8,
    G_PEEK_U16LE,
    G_PEEK_U32LE,
    G_COUNT
};
static const size_t getter_width[G_COUNT] = {1, 2, 4, 8, 2, 4, 8, 1, 2, 4};

static enum vt_err call_getter(enum getter g, struct vt_reader *r, bool *untouched)
{
    union {
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
        uint8_t bytes[8];
    } out;
    memset(&out, 0xa5, sizeof(out));
    enum vt_err err = VT_E_INTERNAL;
    switch (g) {
    case G_U8:
        err = vt_reader_get_u8(r, &out.u8);
        break;
    case G_U16LE:
        err = vt_reader_get_u16le(r, &out.u16);
        break;
    case G_U32LE:
        err = vt_reader_get_u32le(r, &out.u32);
        break;
    case G_U64LE:
        err = vt_reader_get_u64le(r, &out.u64);
        break;
    case G_U16BE:
        err = vt_reader_get_u16be(r, &out.u16);
        break;
    case G_U32BE:
        err = vt_reader_get_u32be(r, &out.u32);
        break;
    case G_U64BE:
        err = vt_reader_get_u64be(r, &out.u64);
        break;
    case G_PEEK_U8:
        err = vt_reader_peek_u8(r, &out.u8);
        break;
    case G_PEEK_U16LE:
        err = vt_reader_peek_u16le(r, &out.u16);
        break;
    case G_PEEK_U32LE:
        err = vt_reader_peek_u32le(r, &out.u32);
        break;
    case G_COUNT:
        break;
    }
    *untouched = true;
    for (size_t i = 0; i < sizeof(out.bytes); i++) {
        *untouched = *untouched && out.bytes[i] == 0xa5;
    }
    return err;
}

static void test_truncation_every_getter_every_length(void **state)
{
    (void)state;
    for (int g = 0; g < G_COUNT; g++) {
        size_t w = getter_width[g];
        bool peek = g >= G_PEEK_U8;
        for (size_t avail = 0; avail <= w; avail++) {
            /* Start one byte in, so that a wrong bound would read a valid neighbour. */
            struct vt_reader r;
            vt_reader_init(&r, seq, 1 + avail);
            assert_int_equal(vt_reader_skip(&r, 1), VT_OK);
            bool untouched;
            enum vt_err err = call_getter((enum getter)g, &r, &untouched);
            if (avail < w) {
                assert_int_equal(err, VT_E_TRUNCATED);
                assert_true(untouched);
                assert_reader_at(&r, seq, 1, avail);
            } else {
                assert_int_equal(err, VT_OK);
                assert_false(untouched);
                assert_reader_at(&r, seq, peek ? 1 : 1 + w, peek ? w : 0);
            }
        }
    }
}

static void test_bytes_copy_skip(void **state)
{
    (void)state;
    struct vt_reader r;
    const uint8_t *view = NULL;
    uint8_t dst[8];

    vt_reader_init(&r, seq, sizeof(seq));
    assert_int_equal(vt_reader_get_bytes(&r, 3, &view), VT_OK);
    assert_ptr_equal(view, seq); /* borrowed, not copied */
    assert_int_equal(vt_reader_copy(&r, dst, 4), VT_OK);
    assert_memory_equal(dst, seq + 3, 4);
    assert_int_equal(vt_reader_skip(&r, 2), VT_OK);
    assert_reader_at(&r, seq, 9, 7);
    assert_int_equal(vt_reader_get_bytes(&r, 0, &view), VT_OK);
    assert_ptr_equal(view, seq + 9);
    assert_int_equal(vt_reader_copy(&r, NULL, 0), VT_OK);
    assert_reader_at(&r, seq, 9, 7);

    /* Exactly the rest, then nothing. */
    assert_int_equal(vt_reader_get_bytes(&r, 7, &view), VT_OK);
    assert_ptr_equal(view, seq + 9);
    assert_int_equal(vt_reader_expect_end(&r), VT_OK);

    /* Every short length fails and changes nothing; SIZE_MAX does not wrap. */
    for (size_t avail = 0; avail < 8; avail++) {
        size_t lens[] = {avail + 1, SIZE_MAX};
        for (size_t k = 0; k < 2; k++) {
            vt_reader_init(&r, seq, avail);
            view = (const uint8_t *)"sentinel";
            assert_int_equal(vt_reader_get_bytes(&r, lens[k], &view), VT_E_TRUNCATED);
            assert_string_equal((const char *)view, "sentinel");
            memset(dst, 0xa5, sizeof(dst));
            assert_int_equal(vt_reader_copy(&r, dst, lens[k]), VT_E_TRUNCATED);
            for (size_t i = 0; i < sizeof(dst); i++) {
                assert_int_equal(dst[i], 0xa5);
            }
            assert_int_equal(vt_reader_skip(&r, lens[k]), VT_E_TRUNCATED);
            assert_reader_at(&r, seq, 0, avail);
        }
    }
}

static void test_sub_reader(void **state)
{
    (void)state;
    struct vt_reader r;
    struct vt_reader sub;
    uint32_t u32;
    vt_reader_init(&r, seq, sizeof(seq));
    assert_int_equal(vt_reader_skip(&r, 2), VT_OK);
    assert_int_equal(vt_reader_sub(&r, 6, &sub), VT_OK);
    assert_reader_at(&r, seq, 8, 8);
    /* Offsets in the sub-reader stay relative to the whole buffer. */
    assert_reader_at(&sub, seq, 2, 6);
    assert_int_equal(vt_reader_get_u32le(&sub, &u32), VT_OK);
    assert_int_equal(u32, 0x06050403);
    assert_int_equal(vt_reader_offset(&sub), 6);
    /* The sub-reader cannot see past its end even though the parent has more. */
    assert_int_equal(vt_reader_get_u32le(&sub, &u32), VT_E_TRUNCATED);
    assert_int_equal(u32, 0x06050403);
    assert_int_equal(vt_reader_expect_end(&sub), VT_E_TRAILING_DATA);
    assert_int_equal(vt_reader_skip(&sub, 2), VT_OK);
    assert_int_equal(vt_reader_expect_end(&sub), VT_OK);

    /* A sub of a sub keeps the original start. */
    struct vt_reader sub2;
    struct vt_reader inner;
    assert_int_equal(vt_reader_sub(&r, 8, &sub2), VT_OK);
    assert_int_equal(vt_reader_skip(&sub2, 3), VT_OK);
    assert_int_equal(vt_reader_sub(&sub2, 2, &inner), VT_OK);
    assert_reader_at(&inner, seq, 11, 2);

    /* Too long: parent and sub untouched. */
    vt_reader_init(&r, seq, 4);
    struct vt_reader before = {(const uint8_t *)"x", 99, (const uint8_t *)"y"};
    sub = before;
    assert_int_equal(vt_reader_sub(&r, 5, &sub), VT_E_TRUNCATED);
    assert_reader_at(&r, seq, 0, 4);
    assert_memory_equal(&sub, &before, sizeof(sub));
    assert_int_equal(vt_reader_sub(&r, SIZE_MAX, &sub), VT_E_TRUNCATED);
    assert_int_equal(vt_reader_sub(&r, 4, &sub), VT_OK);
    assert_reader_at(&sub, seq, 0, 4);
    assert_int_equal(vt_reader_expect_end(&r), VT_OK);
}

static void test_lp16(void **state)
{
    (void)state;
    /* len 3 "abc", len 0, then a length claiming more than is there. */
    static const uint8_t buf[] = {0x03, 0x00, 'a', 'b', 'c', 0x00, 0x00, 0x05, 0x00, 'x'};
    struct vt_reader r;
    const uint8_t *p = NULL;
    uint16_t n = 0;
    vt_reader_init(&r, buf, sizeof(buf));
    assert_int_equal(vt_reader_get_lp16le(&r, &p, &n), VT_OK);
    assert_int_equal(n, 3);
    assert_ptr_equal(p, buf + 2);
    assert_int_equal(vt_reader_get_lp16le(&r, &p, &n), VT_OK);
    assert_int_equal(n, 0);
    assert_reader_at(&r, buf, 7, 3);
    const uint8_t *keep = p;
    assert_int_equal(vt_reader_get_lp16le(&r, &p, &n), VT_E_TRUNCATED);
    assert_ptr_equal(p, keep);
    assert_int_equal(n, 0);
    assert_reader_at(&r, buf, 7, 3);

    /* Every prefix of the first record is truncated and changes nothing. */
    for (size_t avail = 0; avail < 5; avail++) {
        vt_reader_init(&r, buf, avail);
        p = NULL;
        n = 77;
        assert_int_equal(vt_reader_get_lp16le(&r, &p, &n), VT_E_TRUNCATED);
        assert_null(p);
        assert_int_equal(n, 77);
        assert_reader_at(&r, buf, 0, avail);
    }

    /* Maximum length 0xffff with exactly that much data. */
    static uint8_t big[2 + 0xffff];
    big[0] = 0xff;
    big[1] = 0xff;
    vt_reader_init(&r, big, sizeof(big));
    assert_int_equal(vt_reader_get_lp16le(&r, &p, &n), VT_OK);
    assert_int_equal(n, 0xffff);
    assert_int_equal(vt_reader_expect_end(&r), VT_OK);
    vt_reader_init(&r, big, sizeof(big) - 1);
    assert_int_equal(vt_reader_get_lp16le(&r, &p, &n), VT_E_TRUNCATED);
}

static void test_lp32(void **state)
{
    (void)state;
    static const uint8_t buf[] = {0x02, 0x00, 0x00, 0x00, 'h', 'i', 0xff, 0xff, 0xff, 0xff, 'z'};
    struct vt_reader r;
    const uint8_t *p = NULL;
    uint32_t n = 0;
    vt_reader_init(&r, buf, sizeof(buf));
    assert_int_equal(vt_reader_get_lp32le(&r, &p, &n), VT_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(p, "hi", 2);
    assert_reader_at(&r, buf, 6, 5);
    /* A length of 0xffffffff with one byte left: no wrap-around. */
    assert_int_equal(vt_reader_get_lp32le(&r, &p, &n), VT_E_TRUNCATED);
    assert_int_equal(n, 2);
    assert_reader_at(&r, buf, 6, 5);

    for (size_t avail = 0; avail < 6; avail++) {
        vt_reader_init(&r, buf, avail);
        p = NULL;
        n = 77;
        assert_int_equal(vt_reader_get_lp32le(&r, &p, &n), VT_E_TRUNCATED);
        assert_null(p);
        assert_int_equal(n, 77);
        assert_reader_at(&r, buf, 0, avail);
    }
}

static void test_expect_end(void **state)
{
    (void)state;
    struct vt_reader r;
    vt_reader_init(&r, seq, 2);
    assert_int_equal(vt_reader_expect_end(&r), VT_E_TRAILING_DATA);
    assert_int_equal(vt_reader_skip(&r, 1), VT_OK);
    assert_int_equal(vt_reader_expect_end(&r), VT_E_TRAILING_DATA);
    assert_int_equal(vt_reader_skip(&r, 1), VT_OK);
    assert_int_equal(vt_reader_expect_end(&r), VT_OK);
    assert_reader_at(&r, seq, 2, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_and_offset),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_peek_does_not_move),
        cmocka_unit_test(test_truncation_every_getter_every_length),
        cmocka_unit_test(test_bytes_copy_skip),
        cmocka_unit_test(test_sub_reader),
        cmocka_unit_test(test_lp16),
        cmocka_unit_test(test_lp32),
        cmocka_unit_test(test_expect_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
