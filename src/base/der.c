/*
 * Minimal DER (ITU-T X.690 section 10, over the BER rules of section 8) for the few structures
 * veritee decodes itself, such as Intel's SGX PCK certificate extension.
 *
 *   identifier  1 byte: class (2 bits) | constructed (1 bit) | tag number (5 bits, < 31)
 *   length      0xxxxxxx                    short form, 0..127
 *               1nnnnnnn + n bytes (n 1..4)  long form, big-endian, only for lengths >= 128,
 *                                           no leading zero byte
 *   value       length bytes
 *
 * Rejected (VT_E_BAD_DER): high tag numbers (low five bits 11111), tag 0x00 (BER end-of-contents),
 * the indefinite length 0x80, long forms of more than four bytes, and non-minimal lengths.
 * Running out of input is VT_E_TRUNCATED. Nothing is read except through the bounded reader.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/der.h"

enum vt_err vt_der_get(struct vt_reader *r, struct vt_der_tlv *out)
{
    /* Work on a copy so that the caller's reader moves only on success. */
    struct vt_reader t = *r;
    uint8_t tag;
    uint8_t first;
    VT_TRY(vt_reader_get_u8(&t, &tag));
    if ((tag & 0x1f) == 0x1f || tag == 0x00) {
        return VT_E_BAD_DER;
    }
    VT_TRY(vt_reader_get_u8(&t, &first));
    size_t len;
    if (first < 0x80) {
        len = first;
    } else {
        size_t n = first & 0x7f;
        if (n == 0 || n > 4) {
            return VT_E_BAD_DER; /* indefinite (0x80), or longer than we accept */
        }
        uint32_t v = 0;
        for (size_t i = 0; i < n; i++) {
            uint8_t b;
            VT_TRY(vt_reader_get_u8(&t, &b));
            if (i == 0 && b == 0) {
                return VT_E_BAD_DER; /* leading zero: could be shorter */
            }
            v = v << 8 | b;
        }
        if (v < 0x80) {
            return VT_E_BAD_DER; /* fits the short form */
        }
        len = v;
    }
    const uint8_t *val;
    VT_TRY(vt_reader_get_bytes(&t, len, &val));
    out->tag = tag;
    out->val = val;
    out->len = len;
    *r = t;
    return VT_OK;
}

enum vt_err vt_der_expect(struct vt_reader *r, uint8_t tag, struct vt_reader *content)
{
    struct vt_reader t = *r;
    struct vt_der_tlv tlv;
    VT_TRY(vt_der_get(&t, &tlv));
    if (tlv.tag != tag) {
        return VT_E_BAD_DER;
    }
    /* Offsets in the content stay relative to the outer buffer, as with vt_reader_sub. */
    vt_reader_init_within(content, r, tlv.val, tlv.len);
    *r = t;
    return VT_OK;
}

enum vt_err vt_der_uint(const struct vt_der_tlv *tlv, uint64_t max, uint64_t *out)
{
    if (tlv->tag != VT_DER_INTEGER && tlv->tag != VT_DER_ENUMERATED) {
        return VT_E_BAD_DER;
    }
    struct vt_reader r;
    vt_reader_init(&r, tlv->val, tlv->len);
    uint8_t b0;
    uint8_t b1;
    if (vt_reader_get_u8(&r, &b0) != VT_OK) {
        return VT_E_BAD_DER; /* X.690 8.3.1: at least one content byte */
    }
    if (b0 & 0x80) {
        return VT_E_BAD_DER; /* negative */
    }
    if (b0 == 0x00 && vt_reader_peek_u8(&r, &b1) == VT_OK) {
        if (!(b1 & 0x80)) {
            return VT_E_BAD_DER; /* X.690 8.3.2: the first nine bits must not all be zero */
        }
    }
    if (vt_reader_left(&r) > 8 || (vt_reader_left(&r) == 8 && b0 != 0)) {
        return VT_E_BAD_DER; /* more than 64 bits */
    }
    uint64_t v = b0;
    uint8_t b;
    while (vt_reader_get_u8(&r, &b) == VT_OK) {
        v = v << 8 | b;
    }
    if (v > max) {
        return VT_E_BAD_DER;
    }
    *out = v;
    return VT_OK;
}

enum vt_err vt_der_bool(const struct vt_der_tlv *tlv, bool *out)
{
    struct vt_reader r;
    vt_reader_init(&r, tlv->val, tlv->len);
    uint8_t b;
    if (tlv->tag != VT_DER_BOOLEAN || vt_reader_get_u8(&r, &b) != VT_OK ||
        vt_reader_expect_end(&r) != VT_OK || (b != 0x00 && b != 0xff)) {
        return VT_E_BAD_DER; /* X.690 11.1: FALSE is 0x00, TRUE is 0xff */
    }
    *out = b == 0xff;
    return VT_OK;
}

/* Next base-128 subidentifier (X.690 8.19.2): minimal (no leading 0x80), fits 64 bits. */
static enum vt_err get_arc(struct vt_reader *r, uint64_t *out)
{
    uint64_t v = 0;
    bool first = true;
    for (;;) {
        uint8_t b;
        if (vt_reader_get_u8(r, &b) != VT_OK) {
            return VT_E_BAD_DER; /* last byte still had its continuation bit */
        }
        if (first && b == 0x80) {
            return VT_E_BAD_DER;
        }
        first = false;
        if (v > UINT64_MAX >> 7) {
            return VT_E_BAD_DER;
        }
        v = v << 7 | (b & 0x7f);
        if (!(b & 0x80)) {
            *out = v;
            return VT_OK;
        }
    }
}

/* Append text at out[*pos] if out is not NULL; always advance *pos. */
static void emit(char *out, size_t *pos, const char *text)
{
    size_t n = strlen(text);
    if (out != NULL) {
        memcpy(out + *pos, text, n);
    }
    *pos += n;
}

/* Convert (or, with out == NULL, only validate and measure) an OID without its NUL. */
static enum vt_err oid_pass(const uint8_t *oid, size_t len, char *out, size_t *text_len)
{
    struct vt_reader r;
    vt_reader_init(&r, oid, len);
    size_t pos = 0;
    char num[48];
    uint64_t v;
    VT_TRY(get_arc(&r, &v));
    /* X.690 8.19.4: the first subidentifier is 40 * arc1 + arc2, arc1 in 0..2. */
    if (v < 80) {
        snprintf(num, sizeof(num), "%" PRIu64 ".%" PRIu64, v / 40, v % 40);
    } else {
        snprintf(num, sizeof(num), "2.%" PRIu64, v - 80);
    }
    emit(out, &pos, num);
    while (vt_reader_left(&r) > 0) {
        VT_TRY(get_arc(&r, &v));
        snprintf(num, sizeof(num), ".%" PRIu64, v);
        emit(out, &pos, num);
    }
    *text_len = pos;
    return VT_OK;
}

enum vt_err vt_der_oid_to_text(const uint8_t *oid, size_t len, char *out, size_t cap)
{
    size_t n;
    if (len == 0) {
        return VT_E_BAD_DER;
    }
    VT_TRY(oid_pass(oid, len, NULL, &n));
    if (cap < n + 1) {
        return VT_E_BUFFER_TOO_SMALL;
    }
    VT_TRY(oid_pass(oid, len, out, &n));
    out[n] = '\0';
    return VT_OK;
}
