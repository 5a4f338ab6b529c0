/*
 * Hex, base64 and percent decoding: RFC 4648 test vectors, every reject path with its exact code,
 * short output buffers, and that a failed decode never writes to the output (base64: never past
 * cap, and not at all when cap is below the text's upper bound). The base64 decoder is checked
 * against a byte-at-a-time model of its rules on every short string over the characters that
 * matter and on random longer ones.
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
        /* With room for anything the text could decode to, the one-pass decoder may write
         * out[0, cap) before it finds the error: nothing past cap, and no length. */
        uint8_t out[32];
        size_t n = 77;
        fill(out, sizeof(out));
        enum vt_err err = b64(bad[i].s, bad[i].url, out, 16, &n);
        if (err != VT_E_BAD_BASE64) {
            fail_msg("\"%s\" (url %d): got %d", bad[i].s, bad[i].url, err);
        }
        assert_int_equal(n, 77);
        assert_filled(out + 16, sizeof(out) - 16);
        /* With less room: bad text is still reported as bad text, and nothing is written. */
        fill(out, sizeof(out));
        err = b64(bad[i].s, bad[i].url, out, 0, &n);
        if (err != VT_E_BAD_BASE64) {
            fail_msg("\"%s\" (url %d, cap 0): got %d", bad[i].s, bad[i].url, err);
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

/*
 * The base64 rules one byte at a time, as the decoder's comment states them (the decoder used to
 * be exactly this): the model the table-driven decoder must match on every input.
 */
static enum vt_err b64_model(const char *s, size_t len, bool url, uint8_t *out, size_t cap,
                             size_t *out_len)
{
    uint8_t tmp[256];
    size_t digits = 0;
    size_t pads = 0;
    size_t o = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    assert_true(len <= sizeof(tmp));
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            continue;
        }
        if (c == '=') {
            if (digits % 4 < 2) {
                return VT_E_BAD_BASE64;
            }
            pads++;
            continue;
        }
        int v = -1;
        if (c >= 'A' && c <= 'Z') {
            v = c - 'A';
        } else if (c >= 'a' && c <= 'z') {
            v = c - 'a' + 26;
        } else if (c >= '0' && c <= '9') {
            v = c - '0' + 52;
        } else if (c == (url ? '-' : '+')) {
            v = 62;
        } else if (c == (url ? '_' : '/')) {
            v = 63;
        }
        if (v < 0 || pads > 0) {
            return VT_E_BAD_BASE64;
        }
        digits++;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            tmp[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    size_t rem = digits % 4;
    if (rem == 1 || acc != 0) {
        return VT_E_BAD_BASE64;
    }
    if (pads != (rem == 0 ? 0 : 4 - rem) && !(url && pads == 0)) {
        return VT_E_BAD_BASE64;
    }
    if (cap < o) {
        return VT_E_BUFFER_TOO_SMALL;
    }
    memcpy(out, tmp, o);
    *out_len = o;
    return VT_OK;
}

/* The decoder against the model on s[len], both alphabets, with ample, exact and short room. */
static void b64_against_model(const char *s, size_t len)
{
    for (int url = 0; url < 2; url++) {
        uint8_t want[256];
        size_t want_n = 0;
        enum vt_err want_err = b64_model(s, len, url, want, sizeof(want), &want_n);
        size_t caps[] = {sizeof(want), want_n, want_n > 0 ? want_n - 1 : 0, 0};
        for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
            uint8_t got[256 + 8];
            size_t n = 77;
            fill(got, sizeof(got));
            enum vt_err err = vt_base64_decode(s, len, url, got, caps[k], &n);
            enum vt_err expect = want_err;
            if (want_err == VT_OK && caps[k] < want_n) {
                expect = VT_E_BUFFER_TOO_SMALL;
            }
            if (err != expect) {
                fail_msg("len %zu url %d cap %zu: got %d, the model says %d", len, url, caps[k],
                         err, expect);
            }
            if (err == VT_OK) {
                assert_int_equal(n, want_n);
                assert_memory_equal(got, want, want_n);
            } else {
                assert_int_equal(n, 77);
            }
            assert_filled(got + caps[k], sizeof(got) - caps[k] > 8 ? 8 : sizeof(got) - caps[k]);
            if (err != VT_OK && caps[k] < len / 4 * 3 + len % 4 * 3 / 4) {
                assert_filled(got, sizeof(got)); /* measured first: nothing written */
            }
        }
    }
}

/* Characters that exercise every rule: digits with and without unused low bits set, each
 * alphabet's own two digits, padding, skipped whitespace, and bytes that are never valid. */
static const char model_chars[] = {'A', 'B', 'Q', 'g',  'E',  '9',  '+', '/',       '-',
                                   '_', '=', ' ', '\n', '\v', '\0', '$', (char)0x80};

/* Every string of up to max_len characters from chars[k]. */
static void b64_all_strings(const char *chars, size_t k, size_t max_len)
{
    char s[8];
    assert_true(max_len <= sizeof(s));
    for (size_t len = 0; len <= max_len; len++) {
        size_t total = 1;
        for (size_t i = 0; i < len; i++) {
            total *= k;
        }
        for (size_t x = 0; x < total; x++) {
            size_t y = x;
            for (size_t i = 0; i < len; i++) {
                s[i] = chars[y % k];
                y /= k;
            }
            b64_against_model(s, len);
        }
    }
}

static void test_base64_model_exhaustive(void **state)
{
    (void)state;
    b64_all_strings(model_chars, sizeof(model_chars), 4);
    /* One character past a whole quantum, over fewer characters. */
    static const char fewer[] = {'A', 'B', 'Q', '+', '-', '=', ' ', '$'};
    b64_all_strings(fewer, sizeof(fewer), 5);
}

static void test_base64_model_random(void **state)
{
    (void)state;
    /* Encodings of random bytes, then a few characters replaced, inserted or removed: mostly
     * long runs of digits (the four-at-a-time path) broken by whitespace, padding or errors. */
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t raw[96];
        char text[200];
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t n = (size_t)(x % sizeof(raw));
        for (size_t i = 0; i < n; i++) {
            raw[i] = (uint8_t)(x >> (8 * (i % 8)) ^ i * 131);
        }
        bool url = (x >> 40) & 1;
        assert_int_equal(vt_base64_encode(raw, n, url, text, sizeof(text)), VT_OK);
        size_t len = strlen(text);
        int edits = (int)((x >> 44) % 4);
        for (int e = 0; e < edits && len > 0; e++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            size_t at = (size_t)(x % len);
            char c = model_chars[(x >> 32) % sizeof(model_chars)];
            switch ((x >> 48) % 3) {
            case 0:
                text[at] = c;
                break;
            case 1:
                if (len + 1 < sizeof(text)) {
                    memmove(text + at + 1, text + at, len - at);
                    text[at] = c;
                    len++;
                }
                break;
            default:
                memmove(text + at, text + at + 1, len - at - 1);
                len--;
                break;
            }
        }
        b64_against_model(text, len);
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
        cmocka_unit_test(test_base64_alloc),
        cmocka_unit_test(test_hex_decode),
        cmocka_unit_test(test_hex_decode_rejects),
        cmocka_unit_test(test_hex_decode_exact),
        cmocka_unit_test(test_hex_encode_and_is_hex),
        cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_base64_alphabets),
        cmocka_unit_test(test_base64_whitespace),
        cmocka_unit_test(test_base64_rejects),
        cmocka_unit_test(test_base64_short_output),
        cmocka_unit_test(test_base64_round_trip),
        cmocka_unit_test(test_percent),
        cmocka_unit_test(test_percent_rejects),
        cmocka_unit_test(test_base64_model_exhaustive),
        cmocka_unit_test(test_base64_model_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
