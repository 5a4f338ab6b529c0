/* Hex, base64 and percent encodings. Decoders accept untrusted text and never over-read. */
#ifndef VT_BASE_ENCODING_H
#define VT_BASE_ENCODING_H

#include <veritee/common.h>
#include <veritee/error.h>

/*
 * Decode hex (either case, no separators, even length) into out[cap]. *out_len gets the decoded
 * length. VT_E_BAD_HEX on a bad digit or odd length, VT_E_BUFFER_TOO_SMALL if cap < len/2.
 */
VT_MUST_USE enum vt_err vt_hex_decode(const char *hex, size_t len, uint8_t *out, size_t cap,
                                      size_t *out_len);
/* Decode hex that must decode to exactly n bytes (VT_E_BAD_LENGTH otherwise). */
VT_MUST_USE enum vt_err vt_hex_decode_exact(const char *hex, size_t len, uint8_t *out, size_t n);
/* Value of one hex digit (either case), or -1. */
int vt_hex_value(uint8_t c);
/* Lowercase hex of p[n] into out, which must hold 2n+1 bytes; NUL-terminated. */
void vt_hex_encode(const uint8_t *p, size_t n, char *out);
/* True if every one of the len characters is a hex digit (and len is even and non-zero). */
bool vt_is_hex(const char *s, size_t len);

/*
 * Base64 (RFC 4648 standard alphabet, padding required unless url is true) decode into out[cap].
 * Whitespace (space, tab, CR, LF) is skipped. url selects the URL-safe alphabet with optional
 * padding. Decoded size is at most 3*len/4. VT_E_BAD_BASE64 on bad text (checked first),
 * VT_E_BUFFER_TOO_SMALL if valid text does not fit; *out_len is set on success only. On failure
 * the content of out[0, cap) is unspecified (partly written when cap >= 3*len/4): do not use it.
 */
VT_MUST_USE enum vt_err vt_base64_decode(const char *s, size_t len, bool url, uint8_t *out,
                                         size_t cap, size_t *out_len);
/* Encode into out (cap must be at least 4*ceil(n/3)+1); NUL-terminated. url: URL-safe alphabet,
 * no padding. Returns VT_E_BUFFER_TOO_SMALL if cap is short. */
VT_MUST_USE enum vt_err vt_base64_encode(const uint8_t *p, size_t n, bool url, char *out,
                                         size_t cap);

/* The same into a new NUL-terminated heap string (free() it); NULL if memory runs out. */
char *vt_base64_alloc(const uint8_t *p, size_t n, bool url);

/* Percent-decode (RFC 3986; '+' is left as is) into out[cap]. VT_E_BAD_PERCENT on a bad escape. */
VT_MUST_USE enum vt_err vt_percent_decode(const char *s, size_t len, char *out, size_t cap,
                                          size_t *out_len);

#endif
