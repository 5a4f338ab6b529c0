/*
 * Hex, base64 and percent decoding: RFC 4648 test vectors, every reject path with its exact code,
 * short output buffers, and that a failed decode never writes to the output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/encoding.h"

#define FILL 0xa5

static void fill(void *p, size_t n)
{
    memset(p, FILL, n);
}

static void assert_filled(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(b[i], FILL);
    }
}

static void test_hex_decode(void **state)
{
    (void)state;
    uint8_t out[8];
    size_t n = 99;
    assert_int_equal(vt_hex_decode("00ff7FaB", 8, out, sizeof(out), &n), VT_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "\x00\xff\x7f\xab", 4);
    /* Length is explicit: what follows is not read. */
    assert_int_equal(vt_hex_decode("0102zz", 4, out, sizeof(out), &n), VT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(vt_hex_decode("", 0, NULL, 0, &n), VT_OK);
    assert_int_equal(n, 0);
    /* Exactly enough room. */
    assert_int_equal(vt_hex_decode("0102", 4, out, 2, &n), VT_OK);
    assert_int_equal(n, 2);
}

static void test_hex_decode_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {"0", "abc", "0g", "g0", "0 ", " 0", "0x12", "1-", "+1"};
    uint8_t out[8];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = 77;
        fill(out, sizeof(out));
        assert_int_equal(vt_hex_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n), VT_E_BAD_HEX);
        assert_int_equal(n, 77);
        assert_filled(out, sizeof(out));
    }
    /* A bad digit late in the input: nothing written before it either. */
    size_t n = 77;
    fill(out, sizeof(out));
    assert_int_equal(vt_hex_decode("0102030x", 8, out, sizeof(out), &n), VT_E_BAD_HEX);
    assert_filled(out, sizeof(out));
    /* An embedded NUL is a bad digit, not an end. */
    assert_int_equal(vt_hex_decode("01\0"
                                   "2",
                                   4, out, sizeof(out), &n),
                     VT_E_BAD_HEX);
    /* One byte short of room. */
    fill(out, sizeof(out));
    assert_int_equal(vt_hex_decode("010203", 6, out, 2, &n), VT_E_BUFFER_TOO_SMALL);
    assert_int_equal(n, 77);
    assert_filled(out, sizeof(out));
}

static void test_hex_decode_exact(void **state)
{
    (void)state;
    uint8_t out[4];
    fill(out, sizeof(out));
    assert_int_equal(vt_hex_decode_exact("DEADbeef", 8, out, 4), VT_OK);
    assert_memory_equal(out, "\xde\xad\xbe\xef", 4);
    fill(out, sizeof(out));
    assert_int_equal(vt_hex_decode_exact("deadbe", 6, out, 4), VT_E_BAD_LENGTH);
    assert_int_equal(vt_hex_decode_exact("deadbeef00", 10, out, 4), VT_E_BAD_LENGTH);
    assert_int_equal(vt_hex_decode_exact("deadbee", 7, out, 4), VT_E_BAD_LENGTH);
    assert_int_equal(vt_hex_decode_exact("deadbeeg", 8, out, 4), VT_E_BAD_HEX);
    assert_int_equal(vt_hex_decode_exact("deadbeg", 7, out, 4), VT_E_BAD_HEX);
    assert_int_equal(vt_hex_decode_exact("00", 2, out, SIZE_MAX), VT_E_BAD_LENGTH);
    /* 2 * n wraps around to 2: still the wrong length, nothing written. */
    assert_int_equal(vt_hex_decode_exact("00", 2, out, SIZE_MAX / 2 + 2), VT_E_BAD_LENGTH);
    assert_filled(out, sizeof(out));
    assert_int_equal(vt_hex_decode_exact("", 0, out, 0), VT_OK);
}

static void test_hex_encode_and_is_hex(void **state)
{
    (void)state;
    char out[9];
    memset(out, 'x', sizeof(out));
    vt_hex_encode((const uint8_t *)"\x00\xff\x7f\xab", 4, out);
    assert_string_equal(out, "00ff7fab");
    vt_hex_encode(NULL, 0, out);
    assert_string_equal(out, "");

    assert_true(vt_is_hex("00ff7FaB", 8));
    assert_false(vt_is_hex("", 0));
    assert_false(vt_is_hex("abc", 3));
    assert_false(vt_is_hex("ag", 2));
    assert_true(vt_is_hex("abzz", 2));

    /* Round trip over every byte value. */
    uint8_t all[256];
    uint8_t back[256];
    char text[513];
    for (size_t i = 0; i < 256; i++) {
        all[i] = (uint8_t)i;
    }
    vt_hex_encode(all, 256, text);
    size_t n;
    assert_int_equal(vt_hex_decode(text, 512, back, sizeof(back), &n), VT_OK);
    assert_int_equal(n, 256);
    assert_memory_equal(all, back, 256);
}

/* RFC 4648 section 10. */
static const struct {
    const char *raw;
    const char *std;
    const char *url;
} vectors[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};
#define N_VECTORS (sizeof(vectors) / sizeof(vectors[0]))

static enum vt_err b64(const char *s, bool url, uint8_t *out, size_t cap, size_t *n)
{
    return vt_base64_decode(s, strlen(s), url, out, cap, n);
}

static void test_base64_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        uint8_t out[16];
        char text[16];
        size_t n = 99;
        size_t raw_len = strlen(vectors[i].raw);
        assert_int_equal(b64(vectors[i].std, false, out, sizeof(out), &n), VT_OK);
        assert_int_equal(n, raw_len);
        assert_memory_equal(out, vectors[i].raw, raw_len);
        /* URL: with or without padding. */
        assert_int_equal(b64(vectors[i].url, true, out, sizeof(out), &n), VT_OK);
        assert_int_equal(n, raw_len);
        assert_memory_equal(out, vectors[i].raw, raw_len);
        assert_int_equal(b64(vectors[i].std, true, out, sizeof(out), &n), VT_OK);
        assert_int_equal(n, raw_len);
        /* Exactly enough room. */
        assert_int_equal(b64(vectors[i].std, false, out, raw_len, &n), VT_OK);

        assert_int_equal(
            vt_base64_encode((const uint8_t *)vectors[i].raw, raw_len, false, text, sizeof(text)),
            VT_OK);
        assert_string_equal(text, vectors[i].std);
        assert_int_equal(
            vt_base64_encode((const uint8_t *)vectors[i].raw, raw_len, true, text, sizeof(text)),
            VT_OK);
        assert_string_equal(text, vectors[i].url);
    }
}

static void test_base64_alphabets(void **state)
{
    (void)state;
    /* 0xfb 0xff 0xbf encodes to "+/+/" and "-_-_". */
    uint8_t out[4];
    size_t n;
    char text[8];
    assert_int_equal(b64("+/+/", false, out, sizeof(out), &n), VT_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "\xfb\xff\xbf", 3);
    assert_int_equal(b64("-_-_", true, out, sizeof(out), &n), VT_OK);
    assert_memory_equal(out, "\xfb\xff\xbf", 3);
    /* Each alphabet's two special digits are invalid in the other. */
    assert_int_equal(b64("-_-_", false, out, sizeof(out), &n), VT_E_BAD_BASE64);
    assert_int_equal(b64("+/+/", true, out, sizeof(out), &n), VT_E_BAD_BASE64);
    assert_int_equal(b64("AA+A", true, out, sizeof(out), &n), VT_E_BAD_BASE64);
    assert_int_equal(b64("AA_A", false, out, sizeof(out), &n), VT_E_BAD_BASE64);
    assert_int_equal(vt_base64_encode((const uint8_t *)"\xfb\xff\xbf", 3, false, text, 8), VT_OK);
    assert_string_equal(text, "+/+/");
    assert_int_equal(vt_base64_encode((const uint8_t *)"\xfb\xff\xbf", 3, true, text, 8), VT_OK);
    assert_string_equal(text, "-_-_");
}

static void test_base64_whitespace(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t n;
    assert_int_equal(b64(" Zm9v\r\nYmFy\t", false, out, sizeof(out), &n), VT_OK);
    assert_int_equal(n, 6);
    assert_memory_equal(out, "foobar", 6);
    assert_int_equal(b64("Zm 8\n=\n", false, out, sizeof(out), &n), VT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(b64("Z g = =", false, out, sizeof(out), &n), VT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(b64(" \n\t\r", false, out, sizeof(out), &n), VT_OK);
    assert_int_equal(n, 0);
    /* Other whitespace-like characters are not skipped. */
    assert_int_equal(b64("Zm9v\v", false, out, sizeof(out), &n), VT_E_BAD_BASE64);
    assert_int_equal(b64("Zm9v\f", false, out, sizeof(out), &n), VT_E_BAD_BASE64);
}

static void test_base64_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool url;
    } bad[] = {
        {"Zg", false},        /* standard requires padding */
        {"Zm8", false},       /* standard requires padding */
        {"Zg=", false},       /* too little padding */
        {"Zg=", true},        /* padding, when present, must be exact */
        {"Zm8==", false},     /* too much padding */
        {"Zm9v=", false},     /* padding after a full quantum */
        {"Zm9v====", false},  /* a whole quantum of padding */
        {"=", false},         /* padding alone */
        {"Z===", false},      /* one digit cannot make a byte */
        {"Z", true},          /* one digit cannot make a byte */
        {"Zm9vY", true},      /* one digit cannot make a byte */
        {"Zg==Zg==", false},  /* data after padding */
        {"Zg=g", false},      /* data after padding */
        {"Zh==", false},      /* non-zero unused bits */
        {"Zm9=", false},      /* non-zero unused bits */
        {"Zh", true},         /* non-zero unused bits */
        {"Zm9vYm E$", false}, /* bad character */
        {"Zm9v.", false},     /* bad character */
        {"Zm9v\x80", false},  /* bad character */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t out[16];
        size_t n = 77;
        fill(out, sizeof(out));
        enum vt_err err = b64(bad[i].s, bad[i].url, out, sizeof(out), &n);
        if (err != VT_E_BAD_BASE64) {
            fail_msg("\"%s\" (url %d): got %d", bad[i].s, bad[i].url, err);
        }
        assert_int_equal(n, 77);
        assert_filled(out, sizeof(out));
    }
    /* A NUL inside the given length is a bad character, not whitespace or an end. */
    uint8_t out[4];
    size_t n;
    assert_int_equal(vt_base64_decode("Zg==\0", 5, false, out, sizeof(out), &n), VT_E_BAD_BASE64);
}

static void test_base64_short_output(void **state)
{
    (void)state;
    uint8_t out[8];
    size_t n = 77;
    fill(out, sizeof(out));
    assert_int_equal(b64("Zm9vYmFy", false, out, 5, &n), VT_E_BUFFER_TOO_SMALL);
    assert_int_equal(n, 77);
    assert_filled(out, sizeof(out));

    char text[9];
    fill(text, sizeof(text));
    /* "foobar" needs 8 + 1; "foob" needs 8 + 1 standard, 6 + 1 URL. */
    assert_int_equal(vt_base64_encode((const uint8_t *)"foobar", 6, false, text, 8),
                     VT_E_BUFFER_TOO_SMALL);
    assert_filled(text, sizeof(text));
    assert_int_equal(vt_base64_encode((const uint8_t *)"foob", 4, false, text, 8),
                     VT_E_BUFFER_TOO_SMALL);
    assert_int_equal(vt_base64_encode((const uint8_t *)"foob", 4, true, text, 6),
                     VT_E_BUFFER_TOO_SMALL);
    assert_int_equal(vt_base64_encode((const uint8_t *)"foob", 4, true, text, 7), VT_OK);
    assert_string_equal(text, "Zm9vYg");
    assert_int_equal(vt_base64_encode(NULL, 0, false, text, 0), VT_E_BUFFER_TOO_SMALL);
    assert_int_equal(vt_base64_encode(NULL, 0, false, text, 1), VT_OK);
    assert_string_equal(text, "");
    assert_int_equal(vt_base64_encode((const uint8_t *)"x", SIZE_MAX, false, text, 9),
                     VT_E_BUFFER_TOO_SMALL);
}

static void test_base64_round_trip(void **state)
{
    (void)state;
    uint8_t raw[70];
    for (size_t i = 0; i < sizeof(raw); i++) {
        raw[i] = (uint8_t)(i * 37 + 11);
    }
    for (size_t n = 0; n <= sizeof(raw); n++) {
        for (int url = 0; url < 2; url++) {
            char text[100];
            uint8_t back[70];
            size_t got;
            assert_int_equal(vt_base64_encode(raw, n, url, text, sizeof(text)), VT_OK);
            size_t tl = strlen(text);
            assert_int_equal(tl, url ? (4 * n + 2) / 3 : 4 * ((n + 2) / 3));
            assert_int_equal(vt_base64_decode(text, tl, url, back, sizeof(back), &got), VT_OK);
            assert_int_equal(got, n);
            assert_memory_equal(back, raw, n);
            /* The header's documented capacity suffices. */
            assert_int_equal(vt_base64_encode(raw, n, url, text, 4 * ((n + 2) / 3) + 1), VT_OK);
        }
    }
}

static enum vt_err pct(const char *s, char *out, size_t cap, size_t *n)
{
    return vt_percent_decode(s, strlen(s), out, cap, n);
}

static void test_percent(void **state)
{
    (void)state;
    char out[64];
    size_t n = 0;
    assert_int_equal(pct("a%20b%2Fc%2fd+e", out, sizeof(out), &n), VT_OK);
    assert_int_equal(n, 9);
    assert_memory_equal(out, "a b/c/d+e", 9); /* '+' stays '+' */
    assert_int_equal(pct("-----BEGIN%20CERT%0A", out, sizeof(out), &n), VT_OK);
    assert_int_equal(n, 16);
    assert_memory_equal(out, "-----BEGIN CERT\n", 16);
    assert_int_equal(pct("%ff%41", out, sizeof(out), &n), VT_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(out,
                        "\xff"
                        "A",
                        2);
    assert_int_equal(pct("", out, 0, &n), VT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(pct("abc", out, 3, &n), VT_OK);
    assert_int_equal(n, 3);
}

static void test_percent_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {"%",   "a%",   "%2",  "a%2",     "%zz", "%2g",
                                      "%g2", "% 20", "%00", "ab%00cd", "%%41"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char out[16];
        size_t n = 77;
        fill(out, sizeof(out));
        enum vt_err err = pct(bad[i], out, sizeof(out), &n);
        if (err != VT_E_BAD_PERCENT) {
            fail_msg("\"%s\": got %d", bad[i], err);
        }
        assert_int_equal(n, 77);
        assert_filled(out, sizeof(out));
    }
    /* A raw NUL inside the given length. */
    char out[16];
    size_t n = 77;
    assert_int_equal(vt_percent_decode("ab\0c", 4, out, sizeof(out), &n), VT_E_BAD_PERCENT);
    /* Short output. */
    fill(out, sizeof(out));
    assert_int_equal(pct("abc%20", out, 3, &n), VT_E_BUFFER_TOO_SMALL);
    assert_int_equal(n, 77);
    assert_filled(out, sizeof(out));
}

static void test_base64_alloc(void **state)
{
    (void)state;
    static const uint8_t in[] = {0xfb, 0xff, 0x00, 'a'};
    char *s = vt_base64_alloc(in, sizeof(in), false);
    assert_non_null(s);
    assert_string_equal(s, "+/8AYQ==");
    free(s);
    s = vt_base64_alloc(in, sizeof(in), true);
    assert_string_equal(s, "-_8AYQ");
    free(s);
    s = vt_base64_alloc(NULL, 0, false);
    assert_string_equal(s, "");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_alloc),          cmocka_unit_test(test_hex_decode),
        cmocka_unit_test(test_hex_decode_rejects),    cmocka_unit_test(test_hex_decode_exact),
        cmocka_unit_test(test_hex_encode_and_is_hex), cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_base64_alphabets),      cmocka_unit_test(test_base64_whitespace),
        cmocka_unit_test(test_base64_rejects),        cmocka_unit_test(test_base64_short_output),
        cmocka_unit_test(test_base64_round_trip),     cmocka_unit_test(test_percent),
        cmocka_unit_test(test_percent_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
