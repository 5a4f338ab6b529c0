/*
 * A strict, minimal CBOR (RFC 8949) reader over the bounded reader, for the COSE_Sign1 attestation
 * documents of AWS Nitro Enclaves. It decodes one item head at a time; strings are borrowed views;
 * whole items of any type can be skipped under depth and item limits. Nothing is allocated.
 *
 * Accepted: every major type; definite-length strings; definite and indefinite-length arrays and
 * maps; tags (the tagged item follows the tag head); simple values and floats (skipped, never
 * interpreted).
 * Rejected as VT_E_MALFORMED, on purpose:
 *   - additional information 28..30 (reserved, RFC 8949 section 3);
 *   - indefinite length on major types 0, 1 and 6 (not well-formed) and on byte and text strings
 *     (well-formed CBOR, but NSM never writes it, so it is not accepted);
 *   - non-minimal heads: an argument in a longer form than needed (e.g. 0x18 0x05 for 5). NSM
 *     encodes with preferred serialisation, so every real document is minimal; accepting only
 *     one encoding of each head avoids two readers disagreeing about the same bytes;
 *   - the two-byte simple values 0..31 (0xf8 0x00..0x1f, not well-formed);
 *   - a break (0xff) where an item is expected, or closing an indefinite map after a key.
 * Running out of input is VT_E_TRUNCATED; nesting deeper than VT_MAX_CBOR_DEPTH or more than
 * VT_MAX_CBOR_ITEMS items in one skipped item is VT_E_TOO_LARGE. Text strings are not checked
 * for UTF-8 here (vt_cbor_utf8_valid does that where a value is used).
 *
 * Like the DER reader, these functions record nothing in a vt_diag (the caller knows which field
 * it was reading) and leave the reader and the outputs untouched on failure.
 */
#ifndef VT_BASE_CBOR_H
#define VT_BASE_CBOR_H

#include "base/reader.h"

/* Major types (the top three bits of the initial byte). */
#define VT_CBOR_UINT 0
#define VT_CBOR_NEGINT 1
#define VT_CBOR_BYTES 2
#define VT_CBOR_TEXT 3
#define VT_CBOR_ARRAY 4
#define VT_CBOR_MAP 5
#define VT_CBOR_TAG 6
#define VT_CBOR_SIMPLE 7 /* simple values and floats */

/* Simple values (major 7, argument). */
#define VT_CBOR_FALSE 20
#define VT_CBOR_TRUE 21
#define VT_CBOR_NULL 22
#define VT_CBOR_UNDEFINED 23

/* Longest head: the initial byte and an 8-byte argument. */
#define VT_CBOR_HEAD_MAX 9

/*
 * One item head. `arg` is the integer value (major 0; the value is -1 - arg for major 1), the
 * length of a string, the number of elements of an array or of pairs of a map, the tag number,
 * or the simple value or float bits (major 7). `indefinite` is set only for arrays and maps,
 * whose `arg` is then 0.
 */
struct vt_cbor_head {
    uint8_t major; /* VT_CBOR_UINT .. VT_CBOR_SIMPLE */
    uint8_t info;  /* additional information, 0..27 or 31 */
    bool indefinite;
    uint64_t arg;
};

/*
 * Read the next head. VT_E_TRUNCATED if the input ends inside it, VT_E_MALFORMED for the forms
 * listed above (a break included: use vt_cbor_get_break where one may come).
 */
VT_MUST_USE enum vt_err vt_cbor_get_head(struct vt_reader *r, struct vt_cbor_head *h);

/*
 * If the next byte is a break (0xff), consume it and set *found; otherwise set *found = false and
 * leave the reader. VT_E_TRUNCATED if nothing is left.
 */
VT_MUST_USE enum vt_err vt_cbor_get_break(struct vt_reader *r, bool *found);

/*
 * The content of the byte or text string whose head `h` was just read from r, as a view borrowed
 * from r's buffer (for an empty string, *out is r's current position). VT_E_TRUNCATED if fewer
 * than h->arg bytes are left; VT_E_ARG if h is not the head of a definite string.
 */
VT_MUST_USE enum vt_err vt_cbor_get_string(struct vt_reader *r, const struct vt_cbor_head *h,
                                           const uint8_t **out, size_t *len);

/*
 * For a loop over the array or map whose head is `h`, having read `done` elements (pairs, for a
 * map): sets *more when another element follows. For an indefinite container this consumes the
 * closing break (VT_E_TRUNCATED if the input ends first); for a definite one it reads nothing.
 */
VT_MUST_USE enum vt_err vt_cbor_next(struct vt_reader *r, const struct vt_cbor_head *h,
                                     uint64_t done, bool *more);

/*
 * Skip one complete item of any type, checking that it is well-formed (as above), that its
 * containers nest at most VT_MAX_CBOR_DEPTH deep and that it holds at most VT_MAX_CBOR_ITEMS
 * items (tags, keys and values each count). Errors: VT_E_TRUNCATED, VT_E_MALFORMED,
 * VT_E_TOO_LARGE.
 */
VT_MUST_USE enum vt_err vt_cbor_skip(struct vt_reader *r);

/* The same for an item whose head `h` has just been read from r: skips the rest of it. */
VT_MUST_USE enum vt_err vt_cbor_skip_rest(struct vt_reader *r, const struct vt_cbor_head *h);

/*
 * A name for the type of item `h` starts, for error messages: "unsigned integer", "negative
 * integer", "byte string", "text string", "array", "map", "tag", "false", "true", "null",
 * "undefined", "float", "simple value". Never NULL.
 */
const char *vt_cbor_type_name(const struct vt_cbor_head *h);

/* True if p[n] is well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or values beyond
 * U+10FFFF). */
bool vt_cbor_utf8_valid(const uint8_t *p, size_t n);

/*
 * Encode the shortest head of `major` (0..6) with argument `arg` into out; returns its length
 * (1..VT_CBOR_HEAD_MAX).
 */
size_t vt_cbor_encode_head(uint8_t major, uint64_t arg, uint8_t out[VT_CBOR_HEAD_MAX]);

#endif
