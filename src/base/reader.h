/*
 * The bounded reader: the only way veritee reads untrusted bytes.
 *
 * Every call checks the remaining length first. On failure the reader and the outputs are left
 * untouched and VT_E_TRUNCATED (or VT_E_TRAILING_DATA for vt_reader_expect_end) is returned; the
 * reader records nothing in a vt_diag, so parsers add the context (which field, which offset).
 * Byte views returned by get_bytes/sub borrow from the reader's buffer.
 */
#ifndef VT_BASE_READER_H
#define VT_BASE_READER_H

#include <veritee/common.h>
#include <veritee/error.h>

/*
 * Caller storage, but the members are the reader's own: only src/base/reader.c touches them
 * (scripts/banned-functions.py fails the build's lint test on a member access anywhere else).
 * Everything else goes through the functions below.
 */
struct vt_reader {
    const uint8_t *cur_;   /* next unread byte */
    size_t left_;          /* bytes left */
    const uint8_t *start_; /* start of the whole buffer, for offsets in error messages */
};

void vt_reader_init(struct vt_reader *r, const uint8_t *data, size_t len);
/*
 * A reader over data[0..len), a span of outer's buffer found by other means (a CBOR or DER item's
 * content), whose offsets count from the start of outer's buffer as with vt_reader_sub, so errors
 * name offsets in the whole input. data must point into outer's buffer.
 */
void vt_reader_init_within(struct vt_reader *r, const struct vt_reader *outer, const uint8_t *data,
                           size_t len);
/* Offset of the next unread byte from the start of the buffer. */
size_t vt_reader_offset(const struct vt_reader *r);
/* Bytes not yet read. */
size_t vt_reader_left(const struct vt_reader *r);
/* Borrowed view of the unread bytes (vt_reader_left of them; NULL or any value when none). */
const uint8_t *vt_reader_rest(const struct vt_reader *r);
/* Consume everything left (a parser that ignores the rest of a span, as its spec says). */
void vt_reader_skip_rest(struct vt_reader *r);

VT_MUST_USE enum vt_err vt_reader_get_u8(struct vt_reader *r, uint8_t *out);
VT_MUST_USE enum vt_err vt_reader_get_u16le(struct vt_reader *r, uint16_t *out);
VT_MUST_USE enum vt_err vt_reader_get_u32le(struct vt_reader *r, uint32_t *out);
VT_MUST_USE enum vt_err vt_reader_get_u64le(struct vt_reader *r, uint64_t *out);
VT_MUST_USE enum vt_err vt_reader_get_u16be(struct vt_reader *r, uint16_t *out);
VT_MUST_USE enum vt_err vt_reader_get_u32be(struct vt_reader *r, uint32_t *out);
VT_MUST_USE enum vt_err vt_reader_get_u64be(struct vt_reader *r, uint64_t *out);
VT_MUST_USE enum vt_err vt_reader_peek_u8(const struct vt_reader *r, uint8_t *out);
VT_MUST_USE enum vt_err vt_reader_peek_u16le(const struct vt_reader *r, uint16_t *out);
VT_MUST_USE enum vt_err vt_reader_peek_u32le(const struct vt_reader *r, uint32_t *out);
/* Borrowed view of the next n bytes. */
VT_MUST_USE enum vt_err vt_reader_get_bytes(struct vt_reader *r, size_t n, const uint8_t **out);
/* Copy the next n bytes into dst (caller storage of at least n bytes). */
VT_MUST_USE enum vt_err vt_reader_copy(struct vt_reader *r, void *dst, size_t n);
VT_MUST_USE enum vt_err vt_reader_skip(struct vt_reader *r, size_t n);
/* A sub-reader over the next n bytes (its offsets stay relative to the parent's start). */
VT_MUST_USE enum vt_err vt_reader_sub(struct vt_reader *r, size_t n, struct vt_reader *sub);
/* Length-prefixed views: a u16le or u32le length, then that many bytes. */
VT_MUST_USE enum vt_err vt_reader_get_lp16le(struct vt_reader *r, const uint8_t **out,
                                             uint16_t *len);
VT_MUST_USE enum vt_err vt_reader_get_lp32le(struct vt_reader *r, const uint8_t **out,
                                             uint32_t *len);
/* Offset (from the next unread byte) of the first byte equal to b, without consuming anything;
 * VT_E_TRUNCATED if no remaining byte is b. */
VT_MUST_USE enum vt_err vt_reader_find_u8(const struct vt_reader *r, uint8_t b, size_t *off);
/* VT_OK if nothing is left, VT_E_TRAILING_DATA otherwise. */
VT_MUST_USE enum vt_err vt_reader_expect_end(const struct vt_reader *r);

#endif
