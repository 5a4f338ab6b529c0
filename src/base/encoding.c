/*
 * Hex (RFC 4648 section 8), base64 (RFC 4648 sections 4 and 5) and percent-encoding (RFC 3986
 * section 2.1) for text that may come from anywhere.
 *
 * Decoders read their input through the bounded reader. The hex and percent decoders run in two
 * passes: the first validates everything and measures the output, the second writes it, so a
 * failure (bad character, bad padding, short output buffer) never leaves a partial result in
 * `out`. Base64, on the hot path of every request that carries evidence or a token, decodes in
 * one pass when `cap` holds the most the text could decode to, and may then leave a partial
 * result in out[0, cap) on failure; with a smaller `cap` it measures first as the others do.
 */
#include <stdlib.h>
#include <string.h>

#include "base/encoding.h"
#include "base/reader.h"

static const char hex_digits[] = "0123456789abcdef";
static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int vt_hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static void text_reader(struct vt_reader *r, const char *s, size_t len)
{
    vt_reader_init(r, (const uint8_t *)s, len);
}

/* Decode (or, with out == NULL, only validate) an even-length hex string. */
static enum vt_err hex_pass(const char *hex, size_t len, uint8_t *out)
{
    struct vt_reader r;
    text_reader(&r, hex, len);
    size_t i = 0;
    uint8_t hi;
    uint8_t lo;
    while (vt_reader_get_u8(&r, &hi) == VT_OK) {
        if (vt_reader_get_u8(&r, &lo) != VT_OK) {
            return VT_E_BAD_HEX; /* odd length */
        }
        int h = vt_hex_value(hi);
        int l = vt_hex_value(lo);
        if (h < 0 || l < 0) {
            return VT_E_BAD_HEX;
        }
        if (out != NULL) {
            out[i] = (uint8_t)(h << 4 | l);
        }
        i++;
    }
    return VT_OK;
}

enum vt_err vt_hex_decode(const char *hex, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    VT_TRY(hex_pass(hex, len, NULL));
    if (cap < len / 2) {
        return VT_E_BUFFER_TOO_SMALL;
    }
    VT_TRY(hex_pass(hex, len, out));
    *out_len = len / 2;
    return VT_OK;
}

/* True if every one of the len characters is a hex digit (any length). */
static bool all_hex_digits(const char *s, size_t len)
{
    struct vt_reader r;
    text_reader(&r, s, len);
    uint8_t c;
    while (vt_reader_get_u8(&r, &c) == VT_OK) {
        if (vt_hex_value(c) < 0) {
            return false;
        }
    }
    return true;
}

enum vt_err vt_hex_decode_exact(const char *hex, size_t len, uint8_t *out, size_t n)
{
    /* A bad digit is reported as such; well-formed hex of the wrong size (odd lengths included)
     * as VT_E_BAD_LENGTH. */
    if (!all_hex_digits(hex, len)) {
        return VT_E_BAD_HEX;
    }
    if (n > SIZE_MAX / 2 || len != 2 * n) {
        return VT_E_BAD_LENGTH;
    }
    return hex_pass(hex, len, out);
}

void vt_hex_encode(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex_digits[p[i] >> 4];
        out[2 * i + 1] = hex_digits[p[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

bool vt_is_hex(const char *s, size_t len)
{
    return len > 0 && len % 2 == 0 && hex_pass(s, len, NULL) == VT_OK;
}

/*
 * Base64 decoding tables, one per alphabet, indexed by the input byte: B64_DIGIT(v) for a digit
 * of value v, B64_SPACE for the whitespace that is skipped, B64_PAD for '=', 0 for everything
 * else (so every byte not named here, NUL and bytes >= 0x80 included, is invalid).
 */
#define B64_DIGIT(v) (0x80 | (v))
#define B64_SPACE 0x40
#define B64_PAD 0x20
#define B64_COMMON                                                                                 \
    [' '] = B64_SPACE, ['\t'] = B64_SPACE, ['\r'] = B64_SPACE, ['\n'] = B64_SPACE,                 \
    ['='] = B64_PAD, ['A'] = B64_DIGIT(0), ['B'] = B64_DIGIT(1), ['C'] = B64_DIGIT(2),             \
    ['D'] = B64_DIGIT(3), ['E'] = B64_DIGIT(4), ['F'] = B64_DIGIT(5), ['G'] = B64_DIGIT(6),        \
    ['H'] = B64_DIGIT(7), ['I'] = B64_DIGIT(8), ['J'] = B64_DIGIT(9), ['K'] = B64_DIGIT(10),       \
    ['L'] = B64_DIGIT(11), ['M'] = B64_DIGIT(12), ['N'] = B64_DIGIT(13), ['O'] = B64_DIGIT(14),    \
    ['P'] = B64_DIGIT(15), ['Q'] = B64_DIGIT(16), ['R'] = B64_DIGIT(17), ['S'] = B64_DIGIT(18),    \
    ['T'] = B64_DIGIT(19), ['U'] = B64_DIGIT(20), ['V'] = B64_DIGIT(21), ['W'] = B64_DIGIT(22),    \
    ['X'] = B64_DIGIT(23), ['Y'] = B64_DIGIT(24), ['Z'] = B64_DIGIT(25), ['a'] = B64_DIGIT(26),    \
    ['b'] = B64_DIGIT(27), ['c'] = B64_DIGIT(28), ['d'] = B64_DIGIT(29), ['e'] = B64_DIGIT(30),    \
    ['f'] = B64_DIGIT(31), ['g'] = B64_DIGIT(32), ['h'] = B64_DIGIT(33), ['i'] = B64_DIGIT(34),    \
    ['j'] = B64_DIGIT(35), ['k'] = B64_DIGIT(36), ['l'] = B64_DIGIT(37), ['m'] = B64_DIGIT(38),    \
    ['n'] = B64_DIGIT(39), ['o'] = B64_DIGIT(40), ['p'] = B64_DIGIT(41), ['q'] = B64_DIGIT(42),    \
    ['r'] = B64_DIGIT(43), ['s'] = B64_DIGIT(44), ['t'] = B64_DIGIT(45), ['u'] = B64_DIGIT(46),    \
    ['v'] = B64_DIGIT(47), ['w'] = B64_DIGIT(48), ['x'] = B64_DIGIT(49), ['y'] = B64_DIGIT(50),    \
    ['z'] = B64_DIGIT(51), ['0'] = B64_DIGIT(52), ['1'] = B64_DIGIT(53), ['2'] = B64_DIGIT(54),    \
    ['3'] = B64_DIGIT(55), ['4'] = B64_DIGIT(56), ['5'] = B64_DIGIT(57), ['6'] = B64_DIGIT(58),    \
    ['7'] = B64_DIGIT(59), ['8'] = B64_DIGIT(60), ['9'] = B64_DIGIT(61)

static const uint8_t b64_std_values[256] = {
    B64_COMMON, ['+'] = B64_DIGIT(62), ['/'] = B64_DIGIT(63)};
static const uint8_t b64_url_values[256] = {
    B64_COMMON, ['-'] = B64_DIGIT(62), ['_'] = B64_DIGIT(63)};

/*
 * Decode (or, with out == NULL, only validate and measure) base64. Rules: digits of the chosen
 * alphabet; whitespace anywhere is skipped; '=' only to complete the last quantum and nothing but
 * '=' and whitespace after the first one; a last quantum of one digit is never valid; padding is
 * required in the standard alphabet and optional (but exact if present) in the URL one; the
 * unused low bits of the last digit must be zero (RFC 4648 section 3.5), so every byte string
 * has exactly one accepted encoding apart from whitespace and optional padding.
 *
 * Writes at most 3 * len / 4 bytes (rounded down) to out, also when it then fails. Runs of four
 * digits at a quantum boundary are decoded four at a time from a view of the reader's rest;
 * everything else (whitespace, '=', a bad byte, the tail) one byte at a time by the same rules.
 */
static enum vt_err b64_pass(const char *s, size_t len, bool url, uint8_t *out, size_t *out_len)
{
    const uint8_t *values = url ? b64_url_values : b64_std_values;
    struct vt_reader r;
    text_reader(&r, s, len);
    size_t digits = 0;
    size_t pads = 0;
    size_t o = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (;;) {
        if (digits % 4 == 0 && pads == 0) {
            /* At a quantum boundary (acc and bits are 0): whole quanta of digits. */
            const uint8_t *p = vt_reader_rest(&r);
            size_t left = vt_reader_left(&r);
            size_t i = 0;
            for (; left - i >= 4; i += 4) {
                uint32_t a = values[p[i]];
                uint32_t b = values[p[i + 1]];
                uint32_t c = values[p[i + 2]];
                uint32_t e = values[p[i + 3]];
                if ((a & b & c & e & 0x80) == 0) {
                    break;
                }
                uint32_t v = (a & 63) << 18 | (b & 63) << 12 | (c & 63) << 6 | (e & 63);
                if (out != NULL) {
                    out[o] = (uint8_t)(v >> 16);
                    out[o + 1] = (uint8_t)(v >> 8);
                    out[o + 2] = (uint8_t)v;
                }
                o += 3;
            }
            digits += i;
            (void)!vt_reader_skip(&r, i); /* i <= left */
        }
        uint8_t c;
        if (vt_reader_get_u8(&r, &c) != VT_OK) {
            break;
        }
        uint8_t v = values[c];
        if (v == B64_SPACE) {
            continue;
        }
        if (v == B64_PAD) {
            if (digits % 4 < 2) {
                return VT_E_BAD_BASE64;
            }
            pads++;
            continue;
        }
        if ((v & 0x80) == 0 || pads > 0) {
            return VT_E_BAD_BASE64;
        }
        digits++;
        acc = (acc << 6) | (v & 63u);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (out != NULL) {
                out[o] = (uint8_t)(acc >> bits);
            }
            o++;
            acc &= (1u << bits) - 1;
        }
    }
    size_t rem = digits % 4;
    size_t want_pads = rem == 0 ? 0 : 4 - rem;
    if (rem == 1 || acc != 0) {
        return VT_E_BAD_BASE64;
    }
    if (pads != want_pads && !(url && pads == 0)) {
        return VT_E_BAD_BASE64;
    }
    *out_len = o;
    return VT_OK;
}

enum vt_err vt_base64_decode(const char *s, size_t len, bool url, uint8_t *out, size_t cap,
                             size_t *out_len)
{
    size_t n;
    /* Room for the most that len characters can decode to (every one a digit): one pass, which
     * writes out even if it then fails. Otherwise measure first, so that a short buffer is
     * reported as such (and left untouched) whenever the text itself is valid. */
    if (cap >= len / 4 * 3 + len % 4 * 3 / 4) {
        VT_TRY(b64_pass(s, len, url, out, &n));
        *out_len = n;
        return VT_OK;
    }
    VT_TRY(b64_pass(s, len, url, NULL, &n));
    if (cap < n) {
        return VT_E_BUFFER_TOO_SMALL;
    }
    VT_TRY(b64_pass(s, len, url, out, &n));
    *out_len = n;
    return VT_OK;
}

enum vt_err vt_base64_encode(const uint8_t *p, size_t n, bool url, char *out, size_t cap)
{
    const char *alpha = url ? b64_url : b64_std;
    if (n / 3 > (SIZE_MAX - 5) / 4) {
        return VT_E_BUFFER_TOO_SMALL;
    }
    /* Standard: 4 digits per started group of 3; URL: no padding, so 2 or 3 for a last group
     * of 1 or 2 bytes. Plus the NUL. */
    size_t need = 4 * (n / 3);
    if (n % 3 != 0) {
        need += url ? n % 3 + 1 : 4;
    }
    if (cap < need + 1) {
        return VT_E_BUFFER_TOO_SMALL;
    }
    size_t o = 0;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        out[o++] = alpha[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        if (!url) {
            out[o++] = '=';
            out[o++] = '=';
        }
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        if (!url) {
            out[o++] = '=';
        }
    }
    out[o] = '\0';
    return VT_OK;
}

/*
 * Decode (or, with out == NULL, only validate and measure) percent-encoding. A NUL, escaped as
 * "%00" or raw, is rejected: the result is text, and an embedded NUL would let one layer see a
 * shorter string than another.
 */
static enum vt_err percent_pass(const char *s, size_t len, char *out, size_t *out_len)
{
    struct vt_reader r;
    text_reader(&r, s, len);
    size_t o = 0;
    uint8_t c;
    while (vt_reader_get_u8(&r, &c) == VT_OK) {
        if (c == '%') {
            uint8_t hi;
            uint8_t lo;
            if (vt_reader_get_u8(&r, &hi) != VT_OK || vt_reader_get_u8(&r, &lo) != VT_OK) {
                return VT_E_BAD_PERCENT;
            }
            int h = vt_hex_value(hi);
            int l = vt_hex_value(lo);
            if (h < 0 || l < 0 || (h == 0 && l == 0)) {
                return VT_E_BAD_PERCENT;
            }
            c = (uint8_t)(h << 4 | l);
        } else if (c == '\0') {
            return VT_E_BAD_PERCENT;
        }
        if (out != NULL) {
            out[o] = (char)c;
        }
        o++;
    }
    *out_len = o;
    return VT_OK;
}

enum vt_err vt_percent_decode(const char *s, size_t len, char *out, size_t cap, size_t *out_len)
{
    size_t n;
    VT_TRY(percent_pass(s, len, NULL, &n));
    if (cap < n) {
        return VT_E_BUFFER_TOO_SMALL;
    }
    VT_TRY(percent_pass(s, len, out, &n));
    *out_len = n;
    return VT_OK;
}

char *vt_base64_alloc(const uint8_t *p, size_t n, bool url)
{
    if (n / 3 > (SIZE_MAX - 5) / 4) {
        return NULL;
    }
    size_t cap = 4 * ((n + 2) / 3) + 1;
    char *s = malloc(cap);
    if (s != NULL && vt_base64_encode(n ? p : (const uint8_t *)"", n, url, s, cap) != VT_OK) {
        free(s);
        return NULL;
    }
    return s;
}
