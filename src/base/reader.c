/*
 * The bounded reader over untrusted bytes.
 *
 * Every getter checks `left` before touching a byte and commits (advances the reader, writes the
 * output) only after the whole read is known to fit, so a failed call changes nothing. Integers
 * are assembled byte by byte: no casts of wire bytes to wider types, no alignment assumptions.
 */
#include <string.h>

#include "base/reader.h"

void vt_reader_init(struct vt_reader *r, const uint8_t *data, size_t len)
{
    r->cur_ = data;
    r->left_ = data != NULL ? len : 0;
    r->start_ = data;
}

void vt_reader_init_within(struct vt_reader *r, const struct vt_reader *outer, const uint8_t *data,
                           size_t len)
{
    vt_reader_init(r, data, len);
    if (outer->start_ != NULL && data != NULL) {
        r->start_ = outer->start_;
    }
}

size_t vt_reader_left(const struct vt_reader *r)
{
    return r->left_;
}

const uint8_t *vt_reader_rest(const struct vt_reader *r)
{
    return r->cur_;
}

void vt_reader_skip_rest(struct vt_reader *r)
{
    if (r->left_ > 0) { /* an empty reader may hold a NULL cur: no NULL + 0 */
        r->cur_ += r->left_;
        r->left_ = 0;
    }
}

size_t vt_reader_offset(const struct vt_reader *r)
{
    if (r->start_ == NULL || r->cur_ == NULL) {
        return 0;
    }
    return (size_t)(r->cur_ - r->start_);
}

/* Little- and big-endian assembly of n <= 8 bytes at p. */
static uint64_t load_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i > 0; i--) {
        v = (v << 8) | p[i - 1];
    }
    return v;
}

static uint64_t load_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

static void advance(struct vt_reader *r, size_t n)
{
    /* Skip n == 0: an empty reader may hold a NULL cur, and NULL + 0 is undefined in C. */
    if (n == 0) {
        return;
    }
    r->cur_ += n;
    r->left_ -= n;
}

enum vt_err vt_reader_peek_u8(const struct vt_reader *r, uint8_t *out)
{
    if (r->left_ < 1) {
        return VT_E_TRUNCATED;
    }
    *out = r->cur_[0];
    return VT_OK;
}

enum vt_err vt_reader_peek_u16le(const struct vt_reader *r, uint16_t *out)
{
    if (r->left_ < 2) {
        return VT_E_TRUNCATED;
    }
    *out = (uint16_t)load_le(r->cur_, 2);
    return VT_OK;
}

enum vt_err vt_reader_peek_u32le(const struct vt_reader *r, uint32_t *out)
{
    if (r->left_ < 4) {
        return VT_E_TRUNCATED;
    }
    *out = (uint32_t)load_le(r->cur_, 4);
    return VT_OK;
}

enum vt_err vt_reader_get_u8(struct vt_reader *r, uint8_t *out)
{
    VT_TRY(vt_reader_peek_u8(r, out));
    advance(r, 1);
    return VT_OK;
}

enum vt_err vt_reader_get_u16le(struct vt_reader *r, uint16_t *out)
{
    VT_TRY(vt_reader_peek_u16le(r, out));
    advance(r, 2);
    return VT_OK;
}

enum vt_err vt_reader_get_u32le(struct vt_reader *r, uint32_t *out)
{
    VT_TRY(vt_reader_peek_u32le(r, out));
    advance(r, 4);
    return VT_OK;
}

enum vt_err vt_reader_get_u64le(struct vt_reader *r, uint64_t *out)
{
    if (r->left_ < 8) {
        return VT_E_TRUNCATED;
    }
    *out = load_le(r->cur_, 8);
    advance(r, 8);
    return VT_OK;
}

enum vt_err vt_reader_get_u16be(struct vt_reader *r, uint16_t *out)
{
    if (r->left_ < 2) {
        return VT_E_TRUNCATED;
    }
    *out = (uint16_t)load_be(r->cur_, 2);
    advance(r, 2);
    return VT_OK;
}

enum vt_err vt_reader_get_u32be(struct vt_reader *r, uint32_t *out)
{
    if (r->left_ < 4) {
        return VT_E_TRUNCATED;
    }
    *out = (uint32_t)load_be(r->cur_, 4);
    advance(r, 4);
    return VT_OK;
}

enum vt_err vt_reader_get_u64be(struct vt_reader *r, uint64_t *out)
{
    if (r->left_ < 8) {
        return VT_E_TRUNCATED;
    }
    *out = load_be(r->cur_, 8);
    advance(r, 8);
    return VT_OK;
}

enum vt_err vt_reader_get_bytes(struct vt_reader *r, size_t n, const uint8_t **out)
{
    if (r->left_ < n) {
        return VT_E_TRUNCATED;
    }
    *out = r->cur_;
    advance(r, n);
    return VT_OK;
}

enum vt_err vt_reader_copy(struct vt_reader *r, void *dst, size_t n)
{
    if (r->left_ < n) {
        return VT_E_TRUNCATED;
    }
    if (n > 0) {
        memcpy(dst, r->cur_, n);
    }
    advance(r, n);
    return VT_OK;
}

enum vt_err vt_reader_skip(struct vt_reader *r, size_t n)
{
    if (r->left_ < n) {
        return VT_E_TRUNCATED;
    }
    advance(r, n);
    return VT_OK;
}

enum vt_err vt_reader_sub(struct vt_reader *r, size_t n, struct vt_reader *sub)
{
    if (r->left_ < n) {
        return VT_E_TRUNCATED;
    }
    sub->cur_ = r->cur_;
    sub->left_ = n;
    sub->start_ = r->start_;
    advance(r, n);
    return VT_OK;
}

enum vt_err vt_reader_get_lp16le(struct vt_reader *r, const uint8_t **out, uint16_t *len)
{
    uint16_t n;
    VT_TRY(vt_reader_peek_u16le(r, &n));
    if (r->left_ - 2 < n) {
        return VT_E_TRUNCATED;
    }
    advance(r, 2);
    *out = r->cur_;
    *len = n;
    advance(r, n);
    return VT_OK;
}

enum vt_err vt_reader_get_lp32le(struct vt_reader *r, const uint8_t **out, uint32_t *len)
{
    uint32_t n;
    VT_TRY(vt_reader_peek_u32le(r, &n));
    if (r->left_ - 4 < n) {
        return VT_E_TRUNCATED;
    }
    advance(r, 4);
    *out = r->cur_;
    *len = n;
    advance(r, n);
    return VT_OK;
}

enum vt_err vt_reader_expect_end(const struct vt_reader *r)
{
    return r->left_ == 0 ? VT_OK : VT_E_TRAILING_DATA;
}

enum vt_err vt_reader_find_u8(const struct vt_reader *r, uint8_t b, size_t *off)
{
    const uint8_t *hit = r->left_ > 0 ? memchr(r->cur_, b, r->left_) : NULL;
    if (hit == NULL) {
        return VT_E_TRUNCATED;
    }
    *off = (size_t)(hit - r->cur_);
    return VT_OK;
}
