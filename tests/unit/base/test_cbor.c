/*
 * The strict CBOR reader: every head form at its limits, every refused form (reserved
 * information, non-minimal heads, indefinite integers, strings and tags, misplaced breaks, short
 * two-byte simple values), truncation at every byte, borrowed strings, container iteration,
 * skipping every type with the depth and item limits exactly at and past their caps, type names,
 * UTF-8 validation and head encoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <veritee/limits.h>

#include "base/cbor.h"

/* vt_cbor_get_head must fail with `want` and leave reader and output alone. */
static void assert_head_fails(const uint8_t *buf, size_t len, enum vt_err want)
{
    struct vt_reader r;
    vt_reader_init(&r, buf, len);
    struct vt_cbor_head h = {0xee, 0xee, true, 4242};
    enum vt_err err = vt_cbor_get_head(&r, &h);
    if (err != want) {
        fail_msg("head %02x (len %zu): got %d, want %d", len > 0 ? buf[0] : 0, len, err, want);
    }
    assert_ptr_equal(vt_reader_rest(&r), buf);
    assert_int_equal(vt_reader_left(&r), len);
    assert_int_equal(h.major, 0xee);
    assert_int_equal(h.info, 0xee);
    assert_true(h.indefinite);
    assert_int_equal(h.arg, 4242);
}

/* vt_cbor_skip must fail with `want` and leave the reader alone. */
static void assert_skip_fails(const uint8_t *buf, size_t len, enum vt_err want)
{
    struct vt_reader r;
    vt_reader_init(&r, buf, len);
    enum vt_err err = vt_cbor_skip(&r);
    if (err != want) {
        fail_msg("skip (len %zu, first %02x): got %d, want %d", len, len > 0 ? buf[0] : 0, err,
                 want);
    }
    assert_ptr_equal(vt_reader_rest(&r), buf);
    assert_int_equal(vt_reader_left(&r), len);
}

/* vt_cbor_skip must succeed and consume exactly `used` bytes. */
static void assert_skip_ok(const uint8_t *buf, size_t len, size_t used)
{
    struct vt_reader r;
    vt_reader_init(&r, buf, len);
    enum vt_err err = vt_cbor_skip(&r);
    if (err != VT_OK) {
        fail_msg("skip (len %zu, first %02x): got %d", len, buf[0], err);
    }
    assert_int_equal(vt_reader_offset(&r), used);
}

struct head_case {
    uint8_t bytes[VT_CBOR_HEAD_MAX];
    size_t len;
    uint8_t major;
    uint8_t info;
    bool indefinite;
    uint64_t arg;
};

static void test_head_valid_forms(void **state)
{
    (void)state;
    static const struct head_case cases[] = {
        {{0x00}, 1, 0, 0, false, 0},
        {{0x17}, 1, 0, 23, false, 23},
        {{0x18, 0x18}, 2, 0, 24, false, 24},
        {{0x18, 0xff}, 2, 0, 24, false, 255},
        {{0x19, 0x01, 0x00}, 3, 0, 25, false, 256},
        {{0x19, 0xff, 0xff}, 3, 0, 25, false, 0xffff},
        {{0x1a, 0x00, 0x01, 0x00, 0x00}, 5, 0, 26, false, 0x10000},
        {{0x1a, 0xff, 0xff, 0xff, 0xff}, 5, 0, 26, false, 0xffffffff},
        {{0x1b, 0, 0, 0, 1, 0, 0, 0, 0}, 9, 0, 27, false, 0x100000000},
        {{0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 9, 0, 27, false, UINT64_MAX},
        {{0x20}, 1, 1, 0, false, 0},
        {{0x38, 0x22}, 2, 1, 24, false, 34},
        {{0x40}, 1, 2, 0, false, 0},
        {{0x59, 0x11, 0x16}, 3, 2, 25, false, 0x1116},
        {{0x6a}, 1, 3, 10, false, 10},
        {{0x84}, 1, 4, 4, false, 4},
        {{0x9f}, 1, 4, 31, true, 0},
        {{0xa9}, 1, 5, 9, false, 9},
        {{0xbf}, 1, 5, 31, true, 0},
        {{0xd2}, 1, 6, 18, false, 18},
        {{0xd8, 0x18}, 2, 6, 24, false, 24},
        {{0xd9, 0xd9, 0xf7}, 3, 6, 25, false, 55799},
        {{0xf4}, 1, 7, 20, false, 20},
        {{0xf6}, 1, 7, 22, false, 22},
        {{0xf8, 0x20}, 2, 7, 24, false, 32},
        {{0xf8, 0xff}, 2, 7, 24, false, 255},
        /* Floats keep their bits; a short float is not "non-minimal". */
        {{0xf9, 0x00, 0x00}, 3, 7, 25, false, 0},
        {{0xfa, 0x00, 0x00, 0x00, 0x01}, 5, 7, 26, false, 1},
        {{0xfb, 0, 0, 0, 0, 0, 0, 0, 0}, 9, 7, 27, false, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct head_case *c = &cases[i];
        uint8_t buf[VT_CBOR_HEAD_MAX + 1];
        memcpy(buf, c->bytes, c->len);
        buf[c->len] = 0x5a; /* must not be consumed */
        struct vt_reader r;
        vt_reader_init(&r, buf, c->len + 1);
        struct vt_cbor_head h;
        assert_int_equal(vt_cbor_get_head(&r, &h), VT_OK);
        assert_int_equal(h.major, c->major);
        assert_int_equal(h.info, c->info);
        assert_int_equal(h.indefinite, c->indefinite);
        assert_true(h.arg == c->arg);
        assert_int_equal(vt_reader_offset(&r), c->len);
        /* Every shorter prefix is truncated. */
        for (size_t k = 0; k < c->len; k++) {
            assert_head_fails(c->bytes, k, VT_E_TRUNCATED);
        }
    }
}

static void test_head_non_minimal(void **state)
{
    (void)state;
    static const uint8_t cases[][VT_CBOR_HEAD_MAX] = {
        {0x18, 0x00},
        {0x18, 0x17},
        {0x19, 0x00, 0xff},
        {0x1a, 0x00, 0x00, 0xff, 0xff},
        {0x1b, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff},
        {0x38, 0x00},
        {0x58, 0x17},
        {0x79, 0x00, 0x05},
        {0x99, 0x00, 0x04},
        {0xb8, 0x01},
        {0xd8, 0x12},
        {0xda, 0x00, 0x00, 0x00, 0x12},
    };
    static const size_t lens[] = {2, 2, 3, 5, 9, 2, 2, 3, 3, 2, 2, 5};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        assert_head_fails(cases[i], lens[i], VT_E_MALFORMED);
    }
    /* Two-byte simple values below 32 are not well-formed (RFC 8949 section 3.3). */
    static const uint8_t s0[] = {0xf8, 0x00}, s31[] = {0xf8, 0x1f}, s22[] = {0xf8, 0x16};
    assert_head_fails(s0, 2, VT_E_MALFORMED);
    assert_head_fails(s31, 2, VT_E_MALFORMED);
    assert_head_fails(s22, 2, VT_E_MALFORMED);
}

static void test_head_reserved_and_indefinite(void **state)
{
    (void)state;
    for (unsigned major = 0; major < 8; major++) {
        for (unsigned info = 28; info <= 30; info++) {
            uint8_t b[2] = {(uint8_t)(major << 5 | info), 0x00};
            assert_head_fails(b, sizeof(b), VT_E_MALFORMED);
        }
    }
    /* Indefinite length: only arrays and maps. Strings are refused on purpose; integers, tags
     * are not well-formed; 0xff is a break where an item was expected. */
    static const uint8_t refused[] = {0x1f, 0x3f, 0x5f, 0x7f, 0xdf, 0xff};
    for (size_t i = 0; i < sizeof(refused); i++) {
        uint8_t b[3] = {refused[i], 0x41, 0x00};
        assert_head_fails(b, sizeof(b), VT_E_MALFORMED);
    }
    assert_head_fails(NULL, 0, VT_E_TRUNCATED);
}

static void test_break(void **state)
{
    (void)state;
    static const uint8_t buf[] = {0xff, 0x00};
    struct vt_reader r;
    vt_reader_init(&r, buf, sizeof(buf));
    bool found = false;
    assert_int_equal(vt_cbor_get_break(&r, &found), VT_OK);
    assert_true(found);
    assert_int_equal(vt_reader_offset(&r), 1);
    assert_int_equal(vt_cbor_get_break(&r, &found), VT_OK);
    assert_false(found);
    assert_int_equal(vt_reader_offset(&r), 1);
    assert_int_equal(vt_reader_skip(&r, 1), VT_OK);
    found = true;
    assert_int_equal(vt_cbor_get_break(&r, &found), VT_E_TRUNCATED);
    assert_true(found);
}

static void test_get_string(void **state)
{
    (void)state;
    static const uint8_t buf[] = {0x43, 'a', 'b', 'c', 0x60, 0x62, 'x'};
    struct vt_reader r;
    vt_reader_init(&r, buf, sizeof(buf));
    struct vt_cbor_head h;
    const uint8_t *p;
    size_t n;
    assert_int_equal(vt_cbor_get_head(&r, &h), VT_OK);
    assert_int_equal(vt_cbor_get_string(&r, &h, &p, &n), VT_OK);
    assert_ptr_equal(p, buf + 1);
    assert_int_equal(n, 3);
    assert_int_equal(vt_cbor_get_head(&r, &h), VT_OK);
    assert_int_equal(h.major, VT_CBOR_TEXT);
    assert_int_equal(vt_cbor_get_string(&r, &h, &p, &n), VT_OK);
    assert_int_equal(n, 0);
    assert_ptr_equal(p, buf + 5);
    /* A text string of 2 with one byte left: truncated, nothing moves. */
    assert_int_equal(vt_cbor_get_head(&r, &h), VT_OK);
    p = NULL;
    n = 99;
    assert_int_equal(vt_cbor_get_string(&r, &h, &p, &n), VT_E_TRUNCATED);
    assert_null(p);
    assert_int_equal(n, 99);
    assert_int_equal(vt_reader_offset(&r), 6);
    /* Not a string head. */
    struct vt_cbor_head a = {VT_CBOR_ARRAY, 1, false, 1};
    assert_int_equal(vt_cbor_get_string(&r, &a, &p, &n), VT_E_ARG);
    struct vt_cbor_head ind = {VT_CBOR_BYTES, 31, true, 0};
    assert_int_equal(vt_cbor_get_string(&r, &ind, &p, &n), VT_E_ARG);
    /* A length beyond anything a size_t could hold is truncated, not wrapped. */
    struct vt_cbor_head huge = {VT_CBOR_BYTES, 27, false, UINT64_MAX};
    assert_int_equal(vt_cbor_get_string(&r, &huge, &p, &n), VT_E_TRUNCATED);
}

static void test_next(void **state)
{
    (void)state;
    /* [_ 1, 2] and [1, 2] iterate the same way. */
    static const uint8_t indef[] = {0x9f, 0x01, 0x02, 0xff};
    static const uint8_t def[] = {0x82, 0x01, 0x02};
    const uint8_t *bufs[] = {indef, def};
    size_t lens[] = {sizeof(indef), sizeof(def)};
    for (size_t b = 0; b < 2; b++) {
        struct vt_reader r;
        vt_reader_init(&r, bufs[b], lens[b]);
        struct vt_cbor_head a, e;
        assert_int_equal(vt_cbor_get_head(&r, &a), VT_OK);
        uint64_t i = 0;
        for (;; i++) {
            bool more;
            assert_int_equal(vt_cbor_next(&r, &a, i, &more), VT_OK);
            if (!more) {
                break;
            }
            assert_int_equal(vt_cbor_get_head(&r, &e), VT_OK);
            assert_int_equal(e.arg, i + 1);
        }
        assert_int_equal(i, 2);
        assert_int_equal(vt_reader_expect_end(&r), VT_OK);
    }
    /* An indefinite array whose input ends before the break. */
    struct vt_reader r;
    vt_reader_init(&r, indef, 3);
    struct vt_cbor_head a;
    bool more;
    assert_int_equal(vt_cbor_get_head(&r, &a), VT_OK);
    assert_int_equal(vt_reader_skip(&r, 2), VT_OK);
    assert_int_equal(vt_cbor_next(&r, &a, 2, &more), VT_E_TRUNCATED);
}

/*
 * Every type: {1: [h'00', "a", -1, 1.5, null, true, 24(h''), 2.5f32, 1.0f64, simple(32)],
 *  "x": {_ "k": [_ 1, 2], "e": [_ ]}, 0: 18(["s"]), 2: {}, 3: []}
 */
static const uint8_t every_type[] = {
    0xa5,                                                 /* map(5) */
    0x01, 0x8a,                                           /* 1: array(10) */
    0x41, 0x00,                                           /* h'00' */
    0x61, 'a',                                            /* "a" */
    0x20,                                                 /* -1 */
    0xf9, 0x3e, 0x00,                                     /* 1.5 (half) */
    0xf6, 0xf5,                                           /* null, true */
    0xd8, 0x18, 0x40,                                     /* 24(h'') */
    0xfa, 0x40, 0x20, 0x00, 0x00,                         /* 2.5 (single) */
    0xfb, 0x3f, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 1.0 (double) */
    0xf8, 0x20,                                           /* simple(32) */
    0x61, 'x',  0xbf,                                     /* "x": {_ */
    0x61, 'k',  0x9f, 0x01, 0x02, 0xff,                   /*   "k": [_ 1, 2], */
    0x61, 'e',  0x9f, 0xff, 0xff,                         /*   "e": [_ ] } */
    0x00, 0xd2, 0x81, 0x61, 's',                          /* 0: 18(["s"]) */
    0x02, 0xa0,                                           /* 2: {} */
    0x03, 0x80,                                           /* 3: [] */
};

static void test_skip_every_type(void **state)
{
    (void)state;
    uint8_t buf[sizeof(every_type) + 1];
    memcpy(buf, every_type, sizeof(every_type));
    buf[sizeof(every_type)] = 0x00;
    assert_skip_ok(buf, sizeof(buf), sizeof(every_type));
    /* skip_rest after reading the head. */
    struct vt_reader r;
    vt_reader_init(&r, buf, sizeof(buf));
    struct vt_cbor_head h;
    assert_int_equal(vt_cbor_get_head(&r, &h), VT_OK);
    assert_int_equal(vt_cbor_skip_rest(&r, &h), VT_OK);
    assert_int_equal(vt_reader_offset(&r), sizeof(every_type));
    /* Scalars and strings alone. */
    static const uint8_t u[] = {0x19, 0x01, 0x00}, s[] = {0x62, 'h', 'i'}, t[] = {0xc1, 0x00};
    assert_skip_ok(u, sizeof(u), 3);
    assert_skip_ok(s, sizeof(s), 3);
    assert_skip_ok(t, sizeof(t), 2);
    /* A long chain of tags is no deeper: tags count as items, not as nesting. */
    uint8_t tags[101];
    memset(tags, 0xc0, 100);
    tags[100] = 0x00;
    assert_skip_ok(tags, sizeof(tags), sizeof(tags));
}

static void test_skip_truncated_everywhere(void **state)
{
    (void)state;
    for (size_t n = 0; n < sizeof(every_type); n++) {
        assert_skip_fails(every_type, n, VT_E_TRUNCATED);
    }
}

static void test_skip_malformed(void **state)
{
    (void)state;
    static const struct {
        uint8_t b[8];
        size_t n;
        enum vt_err want;
    } cases[] = {
        {{0xff}, 1, VT_E_MALFORMED},                         /* break at the top */
        {{0x81, 0xff}, 2, VT_E_MALFORMED},                   /* break in a definite array */
        {{0xa1, 0x01, 0xff}, 3, VT_E_MALFORMED},             /* break for a definite value */
        {{0x9f, 0xc0, 0xff}, 3, VT_E_MALFORMED},             /* break right after a tag */
        {{0xbf, 0x01, 0xff}, 3, VT_E_MALFORMED},             /* key without value */
        {{0xbf, 0x01, 0x02, 0x03, 0xff}, 5, VT_E_MALFORMED}, /* likewise */
        {{0x82, 0x01, 0x1c}, 3, VT_E_MALFORMED},             /* reserved, nested */
        {{0x81, 0x5f, 0x41, 0x00, 0xff}, 5, VT_E_MALFORMED}, /* indefinite bstr, nested */
        {{0x9f, 0x18, 0x01, 0xff}, 4, VT_E_MALFORMED},       /* non-minimal, nested */
        {{0xa1, 0xf8, 0x10, 0x00}, 4, VT_E_MALFORMED},       /* short simple, nested */
        {{0x9f, 0x01}, 2, VT_E_TRUNCATED},                   /* no break */
        {{0xbf, 0x01, 0x02}, 3, VT_E_TRUNCATED},             /* no break */
        {{0xc0}, 1, VT_E_TRUNCATED},                         /* tag without item */
        /* Counts beyond what is left: caught before any loop. */
        {{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 8, VT_E_TRUNCATED},
        {{0x9a, 0x00, 0x01, 0x00, 0x00, 0x00}, 6, VT_E_TRUNCATED},
        {{0xa2, 0x01, 0x02, 0x03}, 4, VT_E_TRUNCATED},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_skip_fails(cases[i].b, cases[i].n, cases[i].want);
    }
    /* 9b with its full 8-byte count and one element byte. */
    static const uint8_t huge[] = {0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00};
    assert_skip_fails(huge, sizeof(huge), VT_E_TRUNCATED);
    static const uint8_t hugemap[] = {0xbb, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00};
    assert_skip_fails(hugemap, sizeof(hugemap), VT_E_TRUNCATED);
}

/* depth nested containers opened by `open` (0x81, 0x9f or 0xa1 0x00), innermost empty. */
static size_t nest(uint8_t *buf, size_t depth, uint8_t open)
{
    size_t n = 0;
    for (size_t i = 0; i + 1 < depth; i++) {
        buf[n++] = open;
        if (open == 0xa1) {
            buf[n++] = 0x00; /* key */
        }
    }
    buf[n++] = open == 0x9f ? 0x9f : 0x80;
    if (open == 0x9f) {
        for (size_t i = 0; i < depth; i++) {
            buf[n++] = 0xff;
        }
    }
    return n;
}

static void test_skip_depth_limit(void **state)
{
    (void)state;
    static const uint8_t opens[] = {0x81, 0x9f, 0xa1};
    uint8_t buf[4 * (VT_MAX_CBOR_DEPTH + 2)];
    for (size_t i = 0; i < sizeof(opens); i++) {
        size_t n = nest(buf, VT_MAX_CBOR_DEPTH, opens[i]);
        assert_skip_ok(buf, n, n);
        n = nest(buf, VT_MAX_CBOR_DEPTH + 1, opens[i]);
        assert_skip_fails(buf, n, VT_E_TOO_LARGE);
    }
    /* skip_rest counts the container whose head was read. */
    size_t n = nest(buf, VT_MAX_CBOR_DEPTH + 1, 0x81);
    struct vt_reader r;
    vt_reader_init(&r, buf, n);
    struct vt_cbor_head h;
    assert_int_equal(vt_cbor_get_head(&r, &h), VT_OK);
    assert_int_equal(vt_cbor_skip_rest(&r, &h), VT_E_TOO_LARGE);
    assert_int_equal(vt_reader_offset(&r), 1);
}

static void test_skip_item_limit(void **state)
{
    (void)state;
    /* array(k) of k zeros holds k + 1 items. */
    size_t cap = 3 + VT_MAX_CBOR_ITEMS;
    uint8_t *buf = calloc(1, cap);
    assert_non_null(buf);
    size_t k = VT_MAX_CBOR_ITEMS - 1;
    buf[0] = 0x99;
    buf[1] = (uint8_t)(k >> 8);
    buf[2] = (uint8_t)k;
    assert_skip_ok(buf, 3 + k, 3 + k);
    k = VT_MAX_CBOR_ITEMS;
    buf[1] = (uint8_t)(k >> 8);
    buf[2] = (uint8_t)k;
    assert_skip_fails(buf, 3 + k, VT_E_TOO_LARGE);
    free(buf);
}

static void test_type_names(void **state)
{
    (void)state;
    static const struct {
        uint8_t b[3];
        const char *name;
    } cases[] = {
        {{0x00}, "unsigned integer"},
        {{0x20}, "negative integer"},
        {{0x40}, "byte string"},
        {{0x60}, "text string"},
        {{0x80}, "array"},
        {{0xbf}, "map"},
        {{0xd2}, "tag"},
        {{0xf4}, "false"},
        {{0xf5}, "true"},
        {{0xf6}, "null"},
        {{0xf7}, "undefined"},
        {{0xf0}, "simple value"},
        {{0xf8, 0x20}, "simple value"},
        {{0xf9, 0x00, 0x00}, "float"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vt_reader r;
        vt_reader_init(&r, cases[i].b, sizeof(cases[i].b));
        struct vt_cbor_head h;
        assert_int_equal(vt_cbor_get_head(&r, &h), VT_OK);
        assert_string_equal(vt_cbor_type_name(&h), cases[i].name);
    }
    /* Also for a float with info 26/27 and a simple value's argument that looks like null. */
    struct vt_cbor_head f = {VT_CBOR_SIMPLE, 27, false, VT_CBOR_NULL};
    assert_string_equal(vt_cbor_type_name(&f), "float");
}

static void test_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"", true},
        {"SHA384", true},
        {"\x7f", true},
        {"\xc2\x80", true},          /* U+0080 */
        {"\xdf\xbf", true},          /* U+07FF */
        {"\xe0\xa0\x80", true},      /* U+0800 */
        {"\xef\xbf\xbf", true},      /* U+FFFF */
        {"\xf0\x90\x80\x80", true},  /* U+10000 */
        {"\xf4\x8f\xbf\xbf", true},  /* U+10FFFF */
        {"caf\xc3\xa9", true},       /* café */
        {"\x80", false},             /* lone continuation */
        {"\xc0\x80", false},         /* overlong NUL */
        {"\xc1\xbf", false},         /* overlong */
        {"\xe0\x80\x80", false},     /* overlong */
        {"\xf0\x80\x80\x80", false}, /* overlong */
        {"\xed\xa0\x80", false},     /* surrogate U+D800 */
        {"\xed\xbf\xbf", false},     /* surrogate U+DFFF */
        {"\xf4\x90\x80\x80", false}, /* U+110000 */
        {"\xf5\x80\x80\x80", false}, /* beyond */
        {"\xff", false},             /* never */
        {"\xe2\x82", false},         /* truncated */
        {"\xc3\x28", false},         /* bad continuation */
        {"ok\xf0\x9f\x98", false},   /* truncated at the end */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *s = cases[i].s;
        if (vt_cbor_utf8_valid((const uint8_t *)s, strlen(s)) != cases[i].ok) {
            fail_msg("case %zu: expected %s", i, cases[i].ok ? "valid" : "invalid");
        }
    }
    /* NUL is valid UTF-8 (the parser refuses it in module_id separately). */
    static const uint8_t nul[] = {'a', 0x00, 'b'};
    assert_true(vt_cbor_utf8_valid(nul, sizeof(nul)));
}

static void test_encode_head(void **state)
{
    (void)state;
    static const uint64_t args[] = {0,      1,       23,         24,          255,      256,
                                    0xffff, 0x10000, 0xffffffff, 0x100000000, 1u << 20, UINT64_MAX};
    static const size_t lens[] = {1, 1, 1, 2, 2, 3, 3, 5, 5, 9, 5, 9};
    for (uint8_t major = 0; major <= VT_CBOR_TAG; major++) {
        for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
            uint8_t out[VT_CBOR_HEAD_MAX];
            size_t n = vt_cbor_encode_head(major, args[i], out);
            assert_int_equal(n, lens[i]);
            assert_int_equal(out[0] >> 5, major);
            /* What we write, we read back, and it is minimal. */
            struct vt_reader r;
            vt_reader_init(&r, out, n);
            struct vt_cbor_head h;
            assert_int_equal(vt_cbor_get_head(&r, &h), VT_OK);
            assert_int_equal(h.major, major);
            assert_true(h.arg == args[i]);
            assert_false(h.indefinite);
            assert_int_equal(vt_reader_left(&r), 0);
        }
    }
    uint8_t out[VT_CBOR_HEAD_MAX];
    assert_int_equal(vt_cbor_encode_head(VT_CBOR_BYTES, 0x1116, out), 3);
    assert_int_equal(out[0], 0x59);
    assert_int_equal(out[1], 0x11);
    assert_int_equal(out[2], 0x16);
    assert_int_equal(vt_cbor_encode_head(VT_CBOR_NEGINT, 34, out), 2);
    assert_int_equal(out[0], 0x38);
    assert_int_equal(out[1], 0x22);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_head_valid_forms),
        cmocka_unit_test(test_head_non_minimal),
        cmocka_unit_test(test_head_reserved_and_indefinite),
        cmocka_unit_test(test_break),
        cmocka_unit_test(test_get_string),
        cmocka_unit_test(test_next),
        cmocka_unit_test(test_skip_every_type),
        cmocka_unit_test(test_skip_truncated_everywhere),
        cmocka_unit_test(test_skip_malformed),
        cmocka_unit_test(test_skip_depth_limit),
        cmocka_unit_test(test_skip_item_limit),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_encode_head),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
