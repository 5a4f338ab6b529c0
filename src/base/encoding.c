/*
 * Hex (RFC 4648 section 8), base64 (RFC 4648 sections 4 and 5) and percent-encoding (RFC 3986
 * section 2.1) for text that may come from anywhere.
 *
 * Decoders read their input through the bounded reader and run in two passes: the first
 * validates everything and measures the output, the second writes it. So a failure (bad
 * character, bad padding, short output buffer) never leaves a partial result in `out`.
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

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Value of a base64 digit in the chosen alphabet, or -1. */
static int b64_value(uint8_t c, bool url)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == (url ? '-' : '+')) {
        return 62;
    }
    if (c == (url ? '_' : '/')) {
        return 63;
    }
    return -1;
}

/*
 * Decode (or, with out == NULL, only validate and measure) base64. Rules: digits of the chosen
 * alphabet; whitespace anywhere is skipped; '=' only to complete the last quantum and nothing but
 * '=' and whitespace after the first one; a last quantum of one digit is never valid; padding is
 * required in the standard alphabet and optional (but exact if present) in the URL one; the
 * unused low bits of the last digit must be zero (RFC 4648 section 3.5), so every byte string
 * has exactly one accepted encoding apart from whitespace and optional padding.
 */
static enum vt_err b64_pass(const char *s, size_t len, bool url, uint8_t *out, size_t *out_len)
{
    struct vt_reader r;
    text_reader(&r, s, len);
    size_t digits = 0;
    size_t pads = 0;
    size_t o = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    uint8_t c;
    while (vt_reader_get_u8(&r, &c) == VT_OK) {
        if (is_space(c)) {
            continue;
        }
        if (c == '=') {
            if (digits % 4 < 2) {
                return VT_E_BAD_BASE64;
            }
            pads++;
            continue;
        }
        int v = b64_value(c, url);
        if (v < 0 || pads > 0) {
            return VT_E_BAD_BASE64;
        }
        digits++;
        acc = (acc << 6) | (uint32_t)v;
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
