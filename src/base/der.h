/*
 * Minimal DER reader over the bounded reader, for the X.509 extensions veritee parses itself
 * (Intel's SGX extension, later AMD's VCEK extensions). Single-byte tags only, definite minimal
 * lengths only; anything else is VT_E_BAD_DER.
 */
#ifndef VT_BASE_DER_H
#define VT_BASE_DER_H

#include "base/reader.h"

#define VT_DER_BOOLEAN 0x01
#define VT_DER_INTEGER 0x02
#define VT_DER_OCTET_STRING 0x04
#define VT_DER_NULL 0x05
#define VT_DER_OID 0x06
#define VT_DER_ENUMERATED 0x0a
#define VT_DER_UTF8_STRING 0x0c
#define VT_DER_IA5_STRING 0x16
#define VT_DER_SEQUENCE 0x30
#define VT_DER_SET 0x31

struct vt_der_tlv {
    uint8_t tag;
    const uint8_t *val; /* borrowed */
    size_t len;
};

/* Read one TLV. VT_E_TRUNCATED if the reader ends early, VT_E_BAD_DER on a bad header. */
VT_MUST_USE enum vt_err vt_der_get(struct vt_reader *r, struct vt_der_tlv *out);
/* Read one TLV that must have `tag`; `content` becomes a reader over its value. VT_E_BAD_DER if
 * the tag differs. */
VT_MUST_USE enum vt_err vt_der_expect(struct vt_reader *r, uint8_t tag, struct vt_reader *content);
/* Non-negative INTEGER or ENUMERATED value up to `max` (VT_E_BAD_DER if negative, non-minimal or
 * larger than max). */
VT_MUST_USE enum vt_err vt_der_uint(const struct vt_der_tlv *tlv, uint64_t max, uint64_t *out);
/* BOOLEAN (0x00 or 0xff only). */
VT_MUST_USE enum vt_err vt_der_bool(const struct vt_der_tlv *tlv, bool *out);
/* Encode an OID's content bytes as dotted text ("1.2.840.113741.1.13.1.2") into out[cap]. */
VT_MUST_USE enum vt_err vt_der_oid_to_text(const uint8_t *oid, size_t len, char *out, size_t cap);

#endif
