/*
 * CMS EnvelopedData as AWS KMS returns it in CiphertextForRecipient (SPEC: nitro_snp.md A6;
 * RFC 5652 sections 3 and 6; RFC 8017 A.2.1; RFC 4055 section 4.1; RFC 3565; RFC 5754 section 2),
 * its decryption with the recipient's RSA key, and a producer of the same shape.
 *
 *   ContentInfo SEQUENCE {                                          30
 *     contentType OID 1.2.840.113549.1.7.3 (envelopedData)          06 09 2a864886f70d010703
 *     content [0] EXPLICIT                                          a0
 *       EnvelopedData SEQUENCE {                                    30
 *         version INTEGER 2                                         02 01 02
 *         originatorInfo [0]                                        must be absent
 *         recipientInfos SET OF (exactly one)                       31
 *           KeyTransRecipientInfo SEQUENCE {                        30
 *             version INTEGER 2                                     02 01 02
 *             rid [0] IMPLICIT SubjectKeyIdentifier (1..64 bytes)   80 20 <KMS: 32 bytes>
 *             keyEncryptionAlgorithm SEQUENCE {                     30
 *               OID 1.2.840.113549.1.1.7 (id-RSAES-OAEP)            06 09 2a864886f70d010107
 *               RSAES-OAEP-params SEQUENCE {                        30
 *                 [0] hashAlgorithm SEQUENCE {                      a0 30
 *                       OID 2.16.840.1.101.3.4.2.1 (sha256)         06 09 608648016503040201
 *                       NULL (KMS) or absent (RFC 5754) }           05 00
 *                 [1] maskGenAlgorithm SEQUENCE {                   a1 30
 *                       OID 1.2.840.113549.1.1.8 (id-mgf1)          06 09 2a864886f70d010108
 *                       SEQUENCE { sha256, NULL or absent } }       30 06 09 ... 05 00
 *                 [2] pSourceFunc: absent (KMS), or pSpecified      a2 30 06 09 ...010109 04 00
 *                     with the empty label (the DEFAULT written out)
 *               } }
 *             encryptedKey OCTET STRING                             04 <RSA-OAEP(CEK)>
 *           }
 *         encryptedContentInfo SEQUENCE {                           30
 *           contentType OID 1.2.840.113549.1.7.1 (id-data)          06 09 2a864886f70d010701
 *           contentEncryptionAlgorithm SEQUENCE {                   30
 *             OID 2.16.840.1.101.3.4.1.42 (aes256-CBC)              06 09 60864801650304012a
 *             IV OCTET STRING (16 bytes) }                          04 10
 *           encryptedContent [0] IMPLICIT OCTET STRING, either      80 <ciphertext>
 *             primitive, or constructed: OCTET STRINGs (possibly    a0 { 04 .. 04 .. }
 *             constructed themselves) whose contents concatenate
 *         }
 *         unprotectedAttrs [1]                                      must be absent
 *       }
 *   }
 *
 * What KMS sends (observed in the aws-nitro-enclaves-sdk-c test vectors): ContentInfo, the [0],
 * EnvelopedData, EncryptedContentInfo and a constructed encryptedContent with indefinite lengths;
 * the SET, the KeyTransRecipientInfo and the algorithm identifiers with definite lengths; both
 * SHA-256 identifiers with explicit NULL parameters; no pSourceFunc. Accepted here: that shape and
 * its DER equivalent, with any constructed element definite or indefinite (X.690 8.1.3.6), SHA-256
 * parameters NULL or absent (RFC 5754 section 2 requires accepting both; OpenSSL 3 writes them
 * absent), and pSourceFunc absent or the empty label. Not accepted although BER allows them:
 * non-minimal length encodings, high tag numbers, and constructed encodings of any string other
 * than the encrypted content (neither KMS nor DER produces them). Everything else is rejected
 * with the element named in the diag.
 *
 * Integrity: AES-256-CBC has none, and neither does this format (no MAC, no AEAD). A modified
 * ciphertext either fails the PKCS#7 padding check (VT_E_CRYPTO) or decrypts to different bytes.
 * KMS's response is protected by TLS and the content key is bound to the attested recipient key;
 * callers must not treat a successful decryption as proof of origin.
 *
 * The producer writes DER with a primitive [0] IMPLICIT encryptedContent, OAEP parameters written
 * as KMS writes them (NULL hash parameters, no pSourceFunc) and rid = SHA-256 of the recipient's
 * SubjectPublicKeyInfo DER.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <veritee/buf.h>

#include "base/der.h"
#include "crypto/cms.h"

#include "crypto_internal.h"

/* Caps local to this format. */
#define CMS_STRING_DEPTH_MAX 8 /* constructed OCTET STRINGs nested inside the encryptedContent */
#define CMS_SKI_MAX 64         /* subjectKeyIdentifier bytes (KMS: 32) */
#define CMS_RSA_MIN_BITS 2048  /* smallest recipient key accepted (KMS and the SDK use 2048) */
#define CMS_RSA_MAX_BITS 8192  /* largest; bounds encryptedKey and the unwrap buffer */
#define CMS_RSA_MAX_BYTES (CMS_RSA_MAX_BITS / 8)
#define CMS_KEY_INPUT_MAX 65536 /* largest private key or SubjectPublicKeyInfo input */
#define CMS_CEK_LEN 32          /* AES-256 */
#define CMS_IV_LEN 16
#define CMS_BLOCK 16

/* BER tags (X.690 8.1.2): universal, and context-specific [n] primitive / constructed. */
#define TAG_EOC 0x00
#define TAG_INTEGER 0x02
#define TAG_OCTET_STRING 0x04
#define TAG_OCTET_STRING_CONS 0x24
#define TAG_NULL 0x05
#define TAG_OID 0x06
#define TAG_SEQUENCE 0x30
#define TAG_SET 0x31
#define TAG_CTX0_PRIM 0x80
#define TAG_CTX0_CONS 0xa0
#define TAG_CTX1_CONS 0xa1
#define TAG_CTX2_CONS 0xa2
#define TAG_CONSTRUCTED 0x20

/* OID contents (X.690 8.19). */
static const uint8_t oid_enveloped_data[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03};
static const uint8_t oid_data[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};
static const uint8_t oid_rsaes_oaep[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x07};
static const uint8_t oid_mgf1[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08};
static const uint8_t oid_pspecified[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x09};
static const uint8_t oid_sha256[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
static const uint8_t oid_aes256_cbc[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a};

/*
 * keyEncryptionAlgorithm as the producer writes it: id-RSAES-OAEP with SHA-256 and MGF1-SHA-256,
 * NULL hash parameters, no pSourceFunc (the way KMS writes it).
 */
static const uint8_t oaep_sha256_alg[] = {
    0x30, 0x3c,                                                       /* AlgorithmIdentifier */
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x07, /* id-RSAES-OAEP */
    0x30, 0x2f,                                                       /* RSAES-OAEP-params */
    0xa0, 0x0f, 0x30, 0x0d,                                           /* [0] hashAlgorithm */
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, /* sha256 */
    0x05, 0x00,                                                       /* NULL */
    0xa1, 0x1c, 0x30, 0x1a,                                           /* [1] maskGenAlgorithm */
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, /* id-mgf1 */
    0x30, 0x0d,                                                       /* its hash */
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, /* sha256 */
    0x05, 0x00,                                                       /* NULL */
};

/* ---- a small BER reader over the bounded reader ---- */

/*
 * One element being read. For a definite length, `r` is exactly its contents. For an indefinite
 * length, `r` is everything after its header up to the end of the enclosing contents; reading the
 * children consumes it and ber_leave() checks the end-of-contents and moves the parent past it.
 * `bounded` says whether the end of `r` is a definite length (running into it means the encoding
 * is inconsistent: VT_E_BAD_DER) or the end of the input (running into it: VT_E_TRUNCATED).
 */
struct ber_el {
    struct vt_reader r;
    uint8_t tag;
    bool indefinite;
    bool bounded;
    size_t off; /* offset of the identifier octet in the input */
};

/* Code for running out of bytes inside `el`. */
static enum vt_err ber_short(const struct ber_el *el)
{
    return el->bounded ? VT_E_BAD_DER : VT_E_TRUNCATED;
}

/* True if the contents of `el` are used up: no bytes left (definite) or an end-of-contents
 * (00 00) next (indefinite). */
static bool ber_at_end(const struct ber_el *el)
{
    if (!el->indefinite) {
        return vt_reader_left(&el->r) == 0;
    }
    struct vt_reader t = el->r;
    uint16_t eoc;
    return vt_reader_get_u16be(&t, &eoc) == VT_OK && eoc == 0;
}

/*
 * The next identifier octet inside `el`, without consuming it. False at the end of contents, when
 * the input has ended, and at a 0x00 inside an indefinite element (the start of an end-of-contents
 * that may be cut short): the caller's ber_get or ber_leave then reports exactly what is wrong.
 */
static bool ber_peek(const struct ber_el *el, uint8_t *tag)
{
    uint8_t t;
    if (ber_at_end(el) || vt_reader_peek_u8(&el->r, &t) != VT_OK ||
        (el->indefinite && t == TAG_EOC)) {
        return false;
    }
    *tag = t;
    return true;
}

/*
 * Read the next element of `parent` into `el`; its identifier octet must be exactly `want` (class,
 * constructed bit and number). `what` names the element for the diag. On failure the parent is
 * unchanged.
 */
static enum vt_err ber_get(struct ber_el *parent, uint8_t want, const char *what, struct ber_el *el,
                           struct vt_diag *d)
{
    struct vt_reader t = parent->r;
    size_t off = vt_reader_offset(&t);
    uint8_t tag;
    uint8_t first;
    if (ber_at_end(parent)) {
        if (!parent->bounded && !parent->indefinite) {
            return vt_fail(d, VT_E_TRUNCATED, what, "input ends at offset %zu", off);
        }
        return vt_fail(d, VT_E_BAD_DER, what,
                       "missing: the enclosing element (offset %zu) ends at offset %zu",
                       parent->off, off);
    }
    if (vt_reader_get_u8(&t, &tag) != VT_OK) {
        return vt_fail(d, ber_short(parent), what, "input ends at offset %zu before the element",
                       off);
    }
    if (tag == TAG_EOC && vt_reader_left(&t) == 0) {
        return vt_fail(d, ber_short(parent), what, "input ends at offset %zu inside a 0x00 tag",
                       off);
    }
    /* Every tag expected here is a low tag number, so this also rejects the high-number form. */
    if (tag != want) {
        return vt_fail(d, VT_E_BAD_DER, what, "tag 0x%02x at offset %zu, expected 0x%02x", tag, off,
                       want);
    }
    if (vt_reader_get_u8(&t, &first) != VT_OK) {
        return vt_fail(d, ber_short(parent), what, "input ends at offset %zu inside the header",
                       off);
    }
    el->tag = tag;
    el->off = off;
    if (first == 0x80) {
        /* X.690 8.1.3.6: the indefinite form is for constructed encodings only. */
        if ((tag & TAG_CONSTRUCTED) == 0) {
            return vt_fail(d, VT_E_BAD_DER, what,
                           "indefinite length on primitive tag 0x%02x at offset %zu", tag, off);
        }
        el->r = t;
        el->indefinite = true;
        el->bounded = parent->bounded;
        parent->r = t; /* advanced past the contents by ber_leave() */
        return VT_OK;
    }
    size_t len = first;
    if (first > 0x80) {
        size_t n = first & 0x7fu;
        if (n > 4) {
            return vt_fail(d, VT_E_BAD_DER, what, "length of %zu bytes at offset %zu", n, off);
        }
        len = 0;
        for (size_t i = 0; i < n; i++) {
            uint8_t b;
            if (vt_reader_get_u8(&t, &b) != VT_OK) {
                return vt_fail(d, ber_short(parent), what,
                               "input ends at offset %zu inside the length", off);
            }
            if (i == 0 && b == 0) {
                return vt_fail(d, VT_E_BAD_DER, what, "non-minimal length at offset %zu", off);
            }
            len = len << 8 | b;
        }
        if (len < 0x80) {
            return vt_fail(d, VT_E_BAD_DER, what, "non-minimal length %zu at offset %zu", len, off);
        }
    }
    if (vt_reader_sub(&t, len, &el->r) != VT_OK) {
        return vt_fail(d, ber_short(parent), what,
                       "length %zu at offset %zu exceeds the %zu bytes that follow", len, off,
                       vt_reader_left(&t));
    }
    el->indefinite = false;
    el->bounded = true;
    parent->r = t;
    return VT_OK;
}

/* Finish `el`: nothing may be left in it (definite) or an end-of-contents must follow
 * (indefinite), which moves `parent` past it. */
static enum vt_err ber_leave(struct ber_el *parent, struct ber_el *el, const char *what,
                             struct vt_diag *d)
{
    if (!el->indefinite) {
        if (vt_reader_left(&el->r) != 0) {
            uint8_t tag = 0;
            if (vt_reader_peek_u8(&el->r, &tag) != VT_OK) {
                tag = 0; /* unreachable: left != 0 */
            }
            return vt_fail(d, VT_E_BAD_DER, what, "unexpected element (tag 0x%02x) at offset %zu",
                           tag, vt_reader_offset(&el->r));
        }
        return VT_OK;
    }
    size_t off = vt_reader_offset(&el->r);
    uint8_t tag;
    uint8_t len;
    if (vt_reader_get_u8(&el->r, &tag) != VT_OK || vt_reader_get_u8(&el->r, &len) != VT_OK) {
        return vt_fail(d, ber_short(el), what,
                       "input ends at offset %zu before the end-of-contents of the element at "
                       "offset %zu",
                       off, el->off);
    }
    if (tag != TAG_EOC) {
        return vt_fail(d, VT_E_BAD_DER, what,
                       "unexpected element (tag 0x%02x) at offset %zu, expected end-of-contents",
                       tag, off);
    }
    if (len != 0) {
        return vt_fail(d, VT_E_BAD_DER, what,
                       "end-of-contents with length byte 0x%02x at offset %zu", len, off);
    }
    parent->r = el->r;
    return VT_OK;
}

/* The whole contents of a primitive element as a view. */
static void ber_value(struct ber_el *el, const uint8_t **p, size_t *n)
{
    *n = vt_reader_left(&el->r);
    if (vt_reader_get_bytes(&el->r, *n, p) != VT_OK) {
        *p = NULL; /* cannot happen: exactly what is left */
        *n = 0;
    }
}

/* Dotted text of OID contents for messages. */
static void oid_text(const uint8_t *p, size_t n, char *out, size_t cap)
{
    if (vt_der_oid_to_text(p, n, out, cap) != VT_OK) {
        snprintf(out, cap, "(invalid OID of %zu bytes)", n);
    }
}

/* Read an OBJECT IDENTIFIER and compare it with `oid`; a different one fails with `code`. */
static enum vt_err ber_expect_oid(struct ber_el *parent, const uint8_t *oid, size_t oid_len,
                                  const char *name, enum vt_err code, const char *what,
                                  struct vt_diag *d)
{
    struct ber_el el;
    const uint8_t *p;
    size_t n;
    VT_TRY(ber_get(parent, TAG_OID, what, &el, d));
    ber_value(&el, &p, &n);
    if (n != oid_len || memcmp(p, oid, n) != 0) {
        char got[64];
        char want[64];
        oid_text(p, n, got, sizeof(got));
        oid_text(oid, oid_len, want, sizeof(want));
        return vt_fail(d, code, what, "%s at offset %zu, expected %s (%s)", got, el.off, want,
                       name);
    }
    return VT_OK;
}

/* Read an INTEGER that must equal `want` (a version). */
static enum vt_err ber_expect_version(struct ber_el *parent, uint64_t want, const char *what,
                                      struct vt_diag *d)
{
    struct ber_el el;
    struct vt_der_tlv tlv;
    uint64_t v;
    VT_TRY(ber_get(parent, TAG_INTEGER, what, &el, d));
    tlv.tag = TAG_INTEGER;
    ber_value(&el, &tlv.val, &tlv.len);
    if (vt_der_uint(&tlv, UINT64_MAX, &v) != VT_OK) {
        return vt_fail(d, VT_E_BAD_DER, what,
                       "INTEGER at offset %zu is empty, negative, non-minimal or too long", el.off);
    }
    if (v != want) {
        return vt_fail(d, VT_E_UNSUPPORTED_VERSION, what, "%llu at offset %zu, expected %llu",
                       (unsigned long long)v, el.off, (unsigned long long)want);
    }
    return VT_OK;
}

/* A primitive OCTET STRING of `min`..`max` bytes (else VT_E_BAD_FIELD). */
static enum vt_err ber_octets(struct ber_el *parent, uint8_t tag, size_t min, size_t max,
                              const char *what, const uint8_t **p, size_t *n, struct vt_diag *d)
{
    struct ber_el el;
    VT_TRY(ber_get(parent, tag, what, &el, d));
    ber_value(&el, p, n);
    if (*n < min || *n > max) {
        if (min == max) {
            return vt_fail(d, VT_E_BAD_FIELD, what, "%zu bytes at offset %zu, expected %zu", *n,
                           el.off, min);
        }
        return vt_fail(d, VT_E_BAD_FIELD, what, "%zu bytes at offset %zu, expected %zu..%zu", *n,
                       el.off, min, max);
    }
    return VT_OK;
}

/* ---- the parser ---- */

/* AlgorithmIdentifier { sha256, parameters NULL or absent } (RFC 5754 section 2). */
static enum vt_err parse_sha256_alg(struct ber_el *parent, const char *what, struct vt_diag *d)
{
    struct ber_el alg;
    struct ber_el null;
    VT_TRY(ber_get(parent, TAG_SEQUENCE, what, &alg, d));
    VT_TRY(ber_expect_oid(&alg, oid_sha256, sizeof(oid_sha256), "sha256",
                          VT_E_UNSUPPORTED_ALGORITHM, what, d));
    if (!ber_at_end(&alg)) {
        VT_TRY(ber_get(&alg, TAG_NULL, what, &null, d));
        if (vt_reader_left(&null.r) != 0) {
            return vt_fail(d, VT_E_BAD_DER, what, "NULL of %zu bytes at offset %zu",
                           vt_reader_left(&null.r), null.off);
        }
    }
    return ber_leave(parent, &alg, what, d);
}

/* keyEncryptionAlgorithm: id-RSAES-OAEP with SHA-256, MGF1-SHA-256 and the empty label. */
static enum vt_err parse_oaep_alg(struct ber_el *ktri, struct vt_diag *d)
{
    static const char what_alg[] = "cms.ktri.key_encryption_algorithm";
    static const char what_params[] = "cms.ktri.oaep_params";
    struct ber_el alg;
    struct ber_el params;
    struct ber_el ex;
    struct ber_el inner;
    uint8_t tag = 0;
    VT_TRY(ber_get(ktri, TAG_SEQUENCE, what_alg, &alg, d));
    VT_TRY(ber_expect_oid(&alg, oid_rsaes_oaep, sizeof(oid_rsaes_oaep), "id-RSAES-OAEP",
                          VT_E_UNSUPPORTED_ALGORITHM, what_alg, d));
    /* SPEC: RFC 8017 A.2.1, every field of RSAES-OAEP-params defaults to SHA-1. */
    if (ber_at_end(&alg)) {
        return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, what_params,
                       "absent: the defaults are SHA-1 and MGF1-SHA-1, expected SHA-256");
    }
    VT_TRY(ber_get(&alg, TAG_SEQUENCE, what_params, &params, d));

    /* [0] hashAlgorithm */
    if (ber_at_end(&params) ||
        (ber_peek(&params, &tag) && (tag == TAG_CTX1_CONS || tag == TAG_CTX2_CONS))) {
        return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "cms.ktri.oaep_params.hash",
                       "absent: the default is SHA-1, expected SHA-256");
    }
    VT_TRY(ber_get(&params, TAG_CTX0_CONS, "cms.ktri.oaep_params.hash", &ex, d));
    VT_TRY(parse_sha256_alg(&ex, "cms.ktri.oaep_params.hash", d));
    VT_TRY(ber_leave(&params, &ex, "cms.ktri.oaep_params.hash", d));

    /* [1] maskGenAlgorithm */
    if (ber_at_end(&params) || (ber_peek(&params, &tag) && tag == TAG_CTX2_CONS)) {
        return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "cms.ktri.oaep_params.mgf",
                       "absent: the default is MGF1 with SHA-1, expected MGF1 with SHA-256");
    }
    VT_TRY(ber_get(&params, TAG_CTX1_CONS, "cms.ktri.oaep_params.mgf", &ex, d));
    VT_TRY(ber_get(&ex, TAG_SEQUENCE, "cms.ktri.oaep_params.mgf", &inner, d));
    VT_TRY(ber_expect_oid(&inner, oid_mgf1, sizeof(oid_mgf1), "id-mgf1", VT_E_UNSUPPORTED_ALGORITHM,
                          "cms.ktri.oaep_params.mgf", d));
    VT_TRY(parse_sha256_alg(&inner, "cms.ktri.oaep_params.mgf_hash", d));
    VT_TRY(ber_leave(&ex, &inner, "cms.ktri.oaep_params.mgf", d));
    VT_TRY(ber_leave(&params, &ex, "cms.ktri.oaep_params.mgf", d));

    /* [2] pSourceFunc: absent, or the DEFAULT (pSpecified with an empty label) written out. */
    if (ber_peek(&params, &tag) && tag == TAG_CTX2_CONS) {
        const uint8_t *label;
        size_t label_len;
        VT_TRY(ber_get(&params, TAG_CTX2_CONS, "cms.ktri.oaep_params.psource", &ex, d));
        VT_TRY(ber_get(&ex, TAG_SEQUENCE, "cms.ktri.oaep_params.psource", &inner, d));
        VT_TRY(ber_expect_oid(&inner, oid_pspecified, sizeof(oid_pspecified), "id-pSpecified",
                              VT_E_UNSUPPORTED_ALGORITHM, "cms.ktri.oaep_params.psource", d));
        VT_TRY(ber_octets(&inner, TAG_OCTET_STRING, 0, SIZE_MAX, "cms.ktri.oaep_params.psource",
                          &label, &label_len, d));
        if (label_len != 0) {
            return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "cms.ktri.oaep_params.psource",
                           "OAEP label of %zu bytes, expected the empty label", label_len);
        }
        VT_TRY(ber_leave(&ex, &inner, "cms.ktri.oaep_params.psource", d));
        VT_TRY(ber_leave(&params, &ex, "cms.ktri.oaep_params.psource", d));
    }
    VT_TRY(ber_leave(&alg, &params, what_params, d));
    return ber_leave(ktri, &alg, what_alg, d);
}

/* The one RecipientInfo: KeyTransRecipientInfo v2 with a subjectKeyIdentifier. */
static enum vt_err parse_ktri(struct ber_el *set, struct vt_cms_enveloped *e, struct vt_diag *d)
{
    struct ber_el ktri;
    uint8_t tag = 0;
    (void)ber_peek(set, &tag);
    /* SPEC: RFC 5652 6.2, RecipientInfo CHOICE: ktri SEQUENCE, kari [1], kekri [2], pwri [3],
     * ori [4]. */
    if (tag >= TAG_CTX1_CONS && tag <= TAG_CTX0_CONS + 4) {
        return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "cms.recipient_info",
                       "RecipientInfo [%u] at offset %zu, only KeyTransRecipientInfo is supported",
                       (unsigned)(tag - TAG_CTX0_CONS), vt_reader_offset(&set->r));
    }
    VT_TRY(ber_get(set, TAG_SEQUENCE, "cms.recipient_info", &ktri, d));
    VT_TRY(ber_expect_version(&ktri, 2, "cms.ktri.version", d));
    /* SPEC: RFC 5652 6.2.1, version 2 goes with rid = subjectKeyIdentifier. */
    if (ber_peek(&ktri, &tag) && tag == TAG_SEQUENCE) {
        return vt_fail(d, VT_E_BAD_FIELD, "cms.ktri.rid",
                       "issuerAndSerialNumber at offset %zu, expected [0] subjectKeyIdentifier",
                       vt_reader_offset(&ktri.r));
    }
    VT_TRY(ber_octets(&ktri, TAG_CTX0_PRIM, 1, CMS_SKI_MAX, "cms.ktri.rid", &e->rid_ski,
                      &e->rid_ski_len, d));
    VT_TRY(parse_oaep_alg(&ktri, d));
    VT_TRY(ber_octets(&ktri, TAG_OCTET_STRING, 1, CMS_RSA_MAX_BYTES, "cms.ktri.encrypted_key",
                      &e->encrypted_key, &e->encrypted_key_len, d));
    return ber_leave(set, &ktri, "cms.recipient_info", d);
}

static enum vt_err append_content(struct vt_cms_enveloped *e, const uint8_t *p, size_t n,
                                  struct vt_diag *d)
{
    enum vt_err err = vt_buf_append(&e->ciphertext, p, n);
    if (err != VT_OK) {
        return vt_fail(d, err, "cms.encrypted_content", "cannot hold %zu more bytes after %zu", n,
                       e->ciphertext.len);
    }
    return VT_OK;
}

/* The OCTET STRINGs inside a constructed string, concatenated (X.690 8.7.3.2). */
static enum vt_err collect_segments(struct ber_el *cons, unsigned depth, struct vt_cms_enveloped *e,
                                    struct vt_diag *d)
{
    static const char what[] = "cms.encrypted_content";
    while (!ber_at_end(cons)) {
        uint8_t tag = 0;
        struct ber_el seg;
        const uint8_t *p;
        size_t n;
        if (vt_reader_peek_u8(&cons->r, &tag) != VT_OK) {
            tag = 0; /* an empty remainder is reported by the element read below */
        }
        if (tag == TAG_OCTET_STRING_CONS) {
            if (depth >= CMS_STRING_DEPTH_MAX) {
                return vt_fail(d, VT_E_TOO_LARGE, what,
                               "constructed strings nested deeper than %d at offset %zu",
                               CMS_STRING_DEPTH_MAX, vt_reader_offset(&cons->r));
            }
            VT_TRY(ber_get(cons, TAG_OCTET_STRING_CONS, what, &seg, d));
            VT_TRY(collect_segments(&seg, depth + 1, e, d));
            VT_TRY(ber_leave(cons, &seg, what, d));
            continue;
        }
        VT_TRY(ber_get(cons, TAG_OCTET_STRING, what, &seg, d));
        ber_value(&seg, &p, &n);
        VT_TRY(append_content(e, p, n, d));
    }
    return VT_OK;
}

/* EncryptedContentInfo: id-data, aes256-CBC with a 16-byte IV, and the encrypted content. */
static enum vt_err parse_eci(struct ber_el *ed, struct vt_cms_enveloped *e, struct vt_diag *d)
{
    struct ber_el eci;
    struct ber_el alg;
    struct ber_el content;
    const uint8_t *iv;
    size_t iv_len;
    uint8_t tag = 0;
    VT_TRY(ber_get(ed, TAG_SEQUENCE, "cms.encrypted_content_info", &eci, d));
    VT_TRY(ber_expect_oid(&eci, oid_data, sizeof(oid_data), "id-data", VT_E_BAD_FIELD,
                          "cms.encrypted_content_info.content_type", d));
    VT_TRY(ber_get(&eci, TAG_SEQUENCE, "cms.content_encryption_algorithm", &alg, d));
    VT_TRY(ber_expect_oid(&alg, oid_aes256_cbc, sizeof(oid_aes256_cbc), "aes256-CBC",
                          VT_E_UNSUPPORTED_ALGORITHM, "cms.content_encryption_algorithm", d));
    /* SPEC: RFC 3565 section 4.1, the parameters are the 16-byte IV. */
    VT_TRY(ber_octets(&alg, TAG_OCTET_STRING, CMS_IV_LEN, CMS_IV_LEN, "cms.content_encryption.iv",
                      &iv, &iv_len, d));
    VT_TRY(ber_leave(&eci, &alg, "cms.content_encryption_algorithm", d));

    /* encryptedContent is OPTIONAL in RFC 5652; KMS always sends it. */
    if (ber_at_end(&eci)) {
        return vt_fail(d, VT_E_MISSING_FIELD, "cms.encrypted_content",
                       "absent (EncryptedContentInfo at offset %zu)", eci.off);
    }
    if (ber_peek(&eci, &tag) && tag == TAG_CTX0_CONS) {
        VT_TRY(ber_get(&eci, TAG_CTX0_CONS, "cms.encrypted_content", &content, d));
        VT_TRY(collect_segments(&content, 0, e, d));
        VT_TRY(ber_leave(&eci, &content, "cms.encrypted_content", d));
    } else {
        const uint8_t *p;
        size_t n;
        VT_TRY(ber_get(&eci, TAG_CTX0_PRIM, "cms.encrypted_content", &content, d));
        ber_value(&content, &p, &n);
        VT_TRY(append_content(e, p, n, d));
    }
    /* SPEC: RFC 3565 + PKCS#7 padding: a whole, non-zero number of AES blocks. */
    if (e->ciphertext.len == 0 || e->ciphertext.len % CMS_BLOCK != 0) {
        return vt_fail(d, VT_E_BAD_FIELD, "cms.encrypted_content",
                       "%zu bytes, expected a non-zero multiple of %d", e->ciphertext.len,
                       CMS_BLOCK);
    }
    VT_TRY(ber_leave(ed, &eci, "cms.encrypted_content_info", d));
    memcpy(e->iv, iv, CMS_IV_LEN);
    return VT_OK;
}

/* EnvelopedData v2 without originatorInfo and unprotectedAttrs, with one recipient. */
static enum vt_err parse_enveloped_data(struct ber_el *ex, struct vt_cms_enveloped *e,
                                        struct vt_diag *d)
{
    struct ber_el ed;
    struct ber_el set;
    uint8_t tag = 0;
    VT_TRY(ber_get(ex, TAG_SEQUENCE, "cms.enveloped_data", &ed, d));
    VT_TRY(ber_expect_version(&ed, 2, "cms.enveloped_data.version", d));
    if (ber_peek(&ed, &tag) && tag == TAG_CTX0_CONS) {
        return vt_fail(d, VT_E_BAD_FIELD, "cms.enveloped_data.originator_info",
                       "present at offset %zu, not supported", vt_reader_offset(&ed.r));
    }
    VT_TRY(ber_get(&ed, TAG_SET, "cms.recipient_infos", &set, d));
    if (ber_at_end(&set)) {
        return vt_fail(d, VT_E_BAD_FIELD, "cms.recipient_infos",
                       "empty SET at offset %zu, expected one RecipientInfo", set.off);
    }
    VT_TRY(parse_ktri(&set, e, d));
    if (ber_peek(&set, &tag)) {
        return vt_fail(d, VT_E_BAD_FIELD, "cms.recipient_infos",
                       "more than one RecipientInfo (second at offset %zu), expected one",
                       vt_reader_offset(&set.r));
    }
    VT_TRY(ber_leave(&ed, &set, "cms.recipient_infos", d));
    VT_TRY(parse_eci(&ed, e, d));
    if (ber_peek(&ed, &tag) && tag == TAG_CTX1_CONS) {
        return vt_fail(d, VT_E_BAD_FIELD, "cms.enveloped_data.unprotected_attrs",
                       "present at offset %zu, not supported", vt_reader_offset(&ed.r));
    }
    return ber_leave(ex, &ed, "cms.enveloped_data", d);
}

static void cms_empty(struct vt_cms_enveloped *e)
{
    memset(e, 0, sizeof(*e));
    vt_buf_init(&e->ciphertext, VT_CMS_MAX_SIZE);
}

enum vt_err vt_cms_enveloped_parse(const uint8_t *ber, size_t len, struct vt_cms_enveloped *out,
                                   struct vt_diag *d)
{
    VT_ENSURE(out != NULL, d, VT_E_ARG, "cms.parse", "no output");
    cms_empty(out);
    VT_ENSURE(ber != NULL || len == 0, d, VT_E_ARG, "cms.parse", "no input");
    VT_ENSURE(len <= VT_CMS_MAX_SIZE, d, VT_E_TOO_LARGE, "cms.size", "%zu bytes, the limit is %u",
              len, VT_CMS_MAX_SIZE);

    struct vt_cms_enveloped e;
    cms_empty(&e);
    struct ber_el top;
    struct ber_el ci;
    struct ber_el ex;
    memset(&top, 0, sizeof(top));
    vt_reader_init(&top.r, ber, len);

    enum vt_err err = ber_get(&top, TAG_SEQUENCE, "cms.content_info", &ci, d);
    if (err == VT_OK) {
        err = ber_expect_oid(&ci, oid_enveloped_data, sizeof(oid_enveloped_data), "envelopedData",
                             VT_E_BAD_FIELD, "cms.content_info.content_type", d);
    }
    if (err == VT_OK) {
        err = ber_get(&ci, TAG_CTX0_CONS, "cms.content_info.content", &ex, d);
    }
    if (err == VT_OK) {
        err = parse_enveloped_data(&ex, &e, d);
    }
    if (err == VT_OK) {
        err = ber_leave(&ci, &ex, "cms.content_info.content", d);
    }
    if (err == VT_OK) {
        err = ber_leave(&top, &ci, "cms.content_info", d);
    }
    if (err == VT_OK && vt_reader_left(&top.r) != 0) {
        err = vt_fail(d, VT_E_TRAILING_DATA, "cms.trailing",
                      "%zu bytes after the ContentInfo at offset %zu", vt_reader_left(&top.r),
                      vt_reader_offset(&top.r));
    }
    if (err != VT_OK) {
        vt_cms_enveloped_cleanup(&e);
        return err;
    }
    *out = e;
    return VT_OK;
}

void vt_cms_enveloped_cleanup(struct vt_cms_enveloped *e)
{
    if (e == NULL) {
        return;
    }
    vt_buf_cleanup(&e->ciphertext);
    cms_empty(e);
}

/* ---- RSA keys ---- */

/* Never hand out a passphrase: an encrypted key is an error, not a terminal prompt. */
static int no_passphrase(char *buf, size_t size, size_t *len, const OSSL_PARAM params[], void *arg)
{
    (void)buf;
    (void)size;
    (void)params;
    (void)arg;
    *len = 0;
    return 0;
}

/* VT_E_BAD_KEY unless pkey is an RSA key of CMS_RSA_MIN_BITS..CMS_RSA_MAX_BITS. */
static enum vt_err check_rsa(const EVP_PKEY *pkey, const char *check, struct vt_diag *d)
{
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
        const char *type = EVP_PKEY_get0_type_name(pkey);
        return vt_fail(d, VT_E_BAD_KEY, check, "a %s key, expected RSA",
                       type != NULL ? type : "non-RSA");
    }
    int bits = EVP_PKEY_get_bits(pkey);
    if (bits < CMS_RSA_MIN_BITS || bits > CMS_RSA_MAX_BITS) {
        return vt_fail(d, VT_E_BAD_KEY, check, "RSA key of %d bits, expected %d..%d", bits,
                       CMS_RSA_MIN_BITS, CMS_RSA_MAX_BITS);
    }
    return VT_OK;
}

/* True if the input starts (after whitespace) with a PEM BEGIN line. */
static bool looks_like_pem(const uint8_t *p, size_t len)
{
    static const char begin[] = "-----BEGIN ";
    struct vt_reader r;
    const uint8_t *head;
    vt_reader_init(&r, p, len);
    vt_crypto_skip_space(&r);
    return vt_reader_get_bytes(&r, sizeof(begin) - 1, &head) == VT_OK &&
           memcmp(head, begin, sizeof(begin) - 1) == 0;
}

enum vt_err vt_key_from_rsa_private(const uint8_t *p, size_t len, struct vt_key **out,
                                    struct vt_diag *d)
{
    VT_ENSURE(out != NULL && p != NULL && len > 0, d, VT_E_ARG, "rsa_key.parse",
              "no input or output");
    VT_ENSURE(len <= CMS_KEY_INPUT_MAX, d, VT_E_TOO_LARGE, "rsa_key.parse",
              "%zu bytes, the limit is %d", len, CMS_KEY_INPUT_MAX);
    bool pem = looks_like_pem(p, len);
    EVP_PKEY *pkey = NULL;
    char why[VT_CRYPTO_ERRTEXT_MAX];
    enum vt_err err = VT_OK;
    /* Any structure (PrivateKeyInfo or type-specific RSAPrivateKey), any key type: the type is
     * checked below so that the diag can name it. */
    OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, pem ? "PEM" : "DER", NULL, NULL,
                                                           EVP_PKEY_KEYPAIR, NULL, NULL);
    if (dctx == NULL || OSSL_DECODER_CTX_set_passphrase_cb(dctx, no_passphrase, NULL) != 1) {
        vt_crypto_errors(why, sizeof(why));
        err = vt_fail(d, VT_E_CRYPTO, "rsa_key.parse", "cannot create a key decoder: %s", why);
        goto out_ctx;
    }
    const unsigned char *data = p;
    size_t left = len;
    if (OSSL_DECODER_from_data(dctx, &data, &left) != 1 || pkey == NULL) {
        vt_crypto_errors(why, sizeof(why));
        err = vt_fail(d, VT_E_BAD_KEY, "rsa_key.parse",
                      "not an unencrypted private key in PKCS#8 or PKCS#1 %s: %s",
                      pem ? "PEM" : "DER", why);
        goto out_ctx;
    }
    if (!pem && left != 0) {
        err = vt_fail(d, VT_E_TRAILING_DATA, "rsa_key.parse", "%zu bytes after the DER key", left);
        goto out_ctx;
    }
    err = check_rsa(pkey, "rsa_key.parse", d);
    if (err != VT_OK) {
        goto out_ctx;
    }
    BIGNUM *priv = NULL;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D, &priv) != 1) {
        err = vt_fail(d, VT_E_BAD_KEY, "rsa_key.parse", "a public key, expected a private key");
        goto out_ctx;
    }
    BN_clear_free(priv);
    struct vt_key *k = vt_crypto_key_alloc(VT_KEY_RSA);
    if (k == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "rsa_key.parse", "cannot allocate the key");
        goto out_ctx;
    }
    k->pkey = pkey;
    k->has_private = true;
    snprintf(k->label, sizeof(k->label), "an RSA-%d key", EVP_PKEY_get_bits(pkey));
    pkey = NULL;
    *out = k;

out_ctx:
    EVP_PKEY_free(pkey);
    OSSL_DECODER_CTX_free(dctx);
    ERR_clear_error();
    return err;
}

enum vt_err vt_crypto_rsa_generate(unsigned bits, struct vt_key **out, struct vt_diag *d)
{
    VT_ENSURE(out != NULL, d, VT_E_ARG, "rsa_key.generate", "no output");
    VT_ENSURE(bits >= 2048 && bits <= 4096, d, VT_E_ARG, "rsa_key.generate",
              "%u bits, expected 2048..4096", bits);
    struct vt_key *k = vt_crypto_key_alloc(VT_KEY_RSA);
    VT_ENSURE(k != NULL, d, VT_E_NOMEM, "rsa_key.generate", "cannot allocate the key");
    k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    if (k->pkey == NULL) {
        char why[VT_CRYPTO_ERRTEXT_MAX];
        vt_crypto_errors(why, sizeof(why));
        vt_key_free(k);
        return vt_fail(d, VT_E_CRYPTO, "rsa_key.generate", "RSA-%u generation failed: %s", bits,
                       why);
    }
    k->has_private = true;
    snprintf(k->label, sizeof(k->label), "a generated RSA-%u key", bits);
    *out = k;
    return VT_OK;
}

/* vt_buf_replace, failing at check. */
static enum vt_err buf_replace(struct vt_buf *out, const uint8_t *p, size_t n, const char *check,
                               struct vt_diag *d)
{
    enum vt_err err = vt_buf_replace(out, p, n);
    return err == VT_OK ? VT_OK
                        : vt_fail(d, err, check, "cannot hold %zu bytes (limit %zu)", n, out->max);
}

/* ---- decryption ---- */

/* RSA-OAEP unwrap of the content-encryption key into cek[CMS_CEK_LEN]. */
static enum vt_err unwrap_cek(const struct vt_cms_enveloped *e, const struct vt_key *k,
                              uint8_t cek[CMS_CEK_LEN], struct vt_diag *d)
{
    char why[VT_CRYPTO_ERRTEXT_MAX];
    uint8_t out[CMS_RSA_MAX_BYTES];
    size_t out_len = sizeof(out);
    enum vt_err err = VT_OK;
    size_t mod = (size_t)EVP_PKEY_get_size(k->pkey);
    /* SPEC: RFC 8017 7.1.2 step 1, the ciphertext is exactly k bytes. */
    if (e->encrypted_key_len != mod || mod > sizeof(out)) {
        return vt_fail(d, VT_E_CRYPTO, "cms.decrypt",
                       "key unwrap: encrypted key of %zu bytes, the RSA key's modulus has %zu",
                       e->encrypted_key_len, mod);
    }
    if (!vt_crypto_oaep(k->pkey, false, e->encrypted_key, e->encrypted_key_len, out, &out_len)) {
        vt_crypto_errors(why, sizeof(why));
        err = vt_fail(d, VT_E_CRYPTO, "cms.decrypt",
                      "key unwrap: RSA-OAEP-SHA-256 decryption failed (wrong key or corrupted "
                      "encrypted key): %s",
                      why);
    } else if (out_len != CMS_CEK_LEN) {
        err = vt_fail(d, VT_E_CRYPTO, "cms.decrypt",
                      "key unwrap: content-encryption key of %zu bytes, expected %d", out_len,
                      CMS_CEK_LEN);
    } else {
        memcpy(cek, out, CMS_CEK_LEN);
    }
    OPENSSL_cleanse(out, sizeof(out));
    return err;
}

enum vt_err vt_cms_decrypt(const struct vt_cms_enveloped *e, const struct vt_key *k,
                           struct vt_buf *plaintext, struct vt_diag *d)
{
    VT_ENSURE(e != NULL && k != NULL && plaintext != NULL, d, VT_E_ARG, "cms.decrypt",
              "no envelope, key or output");
    VT_TRY(vt_key_expect(k, VT_KEY_RSA, true, "cms.decrypt", d));
    const uint8_t *ct = e->ciphertext.data;
    size_t ct_len = e->ciphertext.len;
    VT_ENSURE(ct != NULL && ct_len > 0 && ct_len % CMS_BLOCK == 0 && ct_len <= VT_CMS_MAX_SIZE &&
                  e->encrypted_key != NULL,
              d, VT_E_CRYPTO, "cms.decrypt",
              "content: %zu bytes of ciphertext, expected a non-zero multiple of %d", ct_len,
              CMS_BLOCK);

    char why[VT_CRYPTO_ERRTEXT_MAX];
    uint8_t cek[CMS_CEK_LEN];
    VT_TRY(unwrap_cek(e, k, cek, d));

    enum vt_err err = VT_OK;
    size_t cap = ct_len + CMS_BLOCK;
    uint8_t *work = malloc(cap);
    EVP_CIPHER_CTX *cctx = EVP_CIPHER_CTX_new();
    int n1 = 0;
    int n2 = 0;
    if (work == NULL || cctx == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "cms.decrypt", "content: cannot allocate %zu bytes", cap);
        goto out_work;
    }
    /* SPEC: RFC 3565 section 2.3, AES-256-CBC with PKCS#7 padding (OpenSSL's default). */
    if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, cek, e->iv) != 1 ||
        EVP_DecryptUpdate(cctx, work, &n1, ct, (int)ct_len) != 1) {
        vt_crypto_errors(why, sizeof(why));
        err = vt_fail(d, VT_E_CRYPTO, "cms.decrypt", "content: AES-256-CBC failed: %s", why);
        goto out_work;
    }
    if (EVP_DecryptFinal_ex(cctx, work + n1, &n2) != 1) {
        vt_crypto_errors(why, sizeof(why));
        err = vt_fail(d, VT_E_CRYPTO, "cms.decrypt",
                      "content: AES-256-CBC padding is invalid (wrong key or corrupted "
                      "ciphertext): %s",
                      why);
        goto out_work;
    }
    err = buf_replace(plaintext, work, (size_t)n1 + (size_t)n2, "cms.decrypt", d);

out_work:
    OPENSSL_cleanse(cek, sizeof(cek));
    if (work != NULL) {
        OPENSSL_cleanse(work, cap);
        free(work);
    }
    EVP_CIPHER_CTX_free(cctx); /* clears the expanded key schedule */
    return err;
}

/* ---- the producer ---- */

/* Bytes of a DER length field for a value of n bytes. */
static size_t der_len_size(size_t n)
{
    size_t size = 1;
    if (n < 0x80) {
        return size;
    }
    while (n > 0) {
        size++;
        n >>= 8;
    }
    return size;
}

/* Bytes of a whole TLV with n content bytes. */
static size_t der_tlv_size(size_t n)
{
    return 1 + der_len_size(n) + n;
}

/* Append-only DER writer: the first failure sticks; the caller sized the buffer beforehand. */
struct der_writer {
    struct vt_buf *b;
    enum vt_err err;
};

static void w_bytes(struct der_writer *w, const void *p, size_t n)
{
    if (w->err == VT_OK) {
        w->err = vt_buf_append(w->b, p, n);
    }
}

static void w_header(struct der_writer *w, uint8_t tag, size_t n)
{
    uint8_t h[6];
    size_t len_size = der_len_size(n);
    h[0] = tag;
    if (len_size == 1) {
        h[1] = (uint8_t)n;
    } else {
        h[1] = (uint8_t)(0x80u | (len_size - 1));
        for (size_t i = 0; i < len_size - 1; i++) {
            h[len_size - i] = (uint8_t)(n >> (8 * i));
        }
    }
    w_bytes(w, h, 1 + len_size);
}

static void w_tlv(struct der_writer *w, uint8_t tag, const void *p, size_t n)
{
    w_header(w, tag, n);
    w_bytes(w, p, n);
}

/* The parts of one envelope. */
struct cms_parts {
    const uint8_t *ski;
    size_t ski_len;
    const uint8_t *ek;
    size_t ek_len;
    const uint8_t *iv;
    const uint8_t *ct;
    size_t ct_len;
};

/* Write the DER ContentInfo for `c` into b (sized to the total, which is returned in *total). */
static enum vt_err write_envelope(const struct cms_parts *c, struct vt_buf *b, struct vt_diag *d)
{
    static const uint8_t version2[] = {0x02, 0x01, 0x02};
    size_t ktri_c = sizeof(version2) + der_tlv_size(c->ski_len) + sizeof(oaep_sha256_alg) +
                    der_tlv_size(c->ek_len);
    size_t set_c = der_tlv_size(ktri_c);
    size_t cea_c = der_tlv_size(sizeof(oid_aes256_cbc)) + der_tlv_size(CMS_IV_LEN);
    size_t eci_c = der_tlv_size(sizeof(oid_data)) + der_tlv_size(cea_c) + der_tlv_size(c->ct_len);
    size_t ed_c = sizeof(version2) + der_tlv_size(set_c) + der_tlv_size(eci_c);
    size_t ex_c = der_tlv_size(ed_c);
    size_t ci_c = der_tlv_size(sizeof(oid_enveloped_data)) + der_tlv_size(ex_c);
    size_t total = der_tlv_size(ci_c);
    if (total > b->max) {
        return vt_fail(d, VT_E_TOO_LARGE, "cms.encrypt", "envelope of %zu bytes, the limit is %zu",
                       total, b->max);
    }
    struct der_writer w = {b, VT_OK};
    w_header(&w, TAG_SEQUENCE, ci_c); /* ContentInfo */
    w_tlv(&w, TAG_OID, oid_enveloped_data, sizeof(oid_enveloped_data));
    w_header(&w, TAG_CTX0_CONS, ex_c);
    w_header(&w, TAG_SEQUENCE, ed_c); /* EnvelopedData */
    w_bytes(&w, version2, sizeof(version2));
    w_header(&w, TAG_SET, set_c);
    w_header(&w, TAG_SEQUENCE, ktri_c); /* KeyTransRecipientInfo */
    w_bytes(&w, version2, sizeof(version2));
    w_tlv(&w, TAG_CTX0_PRIM, c->ski, c->ski_len);
    w_bytes(&w, oaep_sha256_alg, sizeof(oaep_sha256_alg));
    w_tlv(&w, TAG_OCTET_STRING, c->ek, c->ek_len);
    w_header(&w, TAG_SEQUENCE, eci_c); /* EncryptedContentInfo */
    w_tlv(&w, TAG_OID, oid_data, sizeof(oid_data));
    w_header(&w, TAG_SEQUENCE, cea_c);
    w_tlv(&w, TAG_OID, oid_aes256_cbc, sizeof(oid_aes256_cbc));
    w_tlv(&w, TAG_OCTET_STRING, c->iv, CMS_IV_LEN);
    w_tlv(&w, TAG_CTX0_PRIM, c->ct, c->ct_len);
    if (w.err != VT_OK) {
        return vt_fail(d, w.err, "cms.encrypt", "cannot write the %zu-byte envelope", total);
    }
    if (b->len != total) {
        return vt_fail(d, VT_E_INTERNAL, "cms.encrypt", "wrote %zu bytes, computed %zu", b->len,
                       total);
    }
    return VT_OK;
}

/* The recipient's public key from DER SubjectPublicKeyInfo: RSA, 2048..8192 bits, no extra bytes.
 */
/*
 * Recipients' public keys, parsed and checked, by their SubjectPublicKeyInfo: an enclave sends
 * the same key with every call of its life, and OpenSSL's decoder costs more than the rest of
 * the wrapping. A vt_pkey_memo like the EC keys' (key.c; docs/design.md): it holds
 * only public keys that passed the checks, a hit compares the whole input (not only its hash),
 * and bad input never enters it.
 */
#define RSA_CACHE_SLOTS 64

static struct vt_pkey_memo rsa_memo = VT_PKEY_MEMO_INIT(RSA_CACHE_SLOTS);

static enum vt_err recipient_key_parse(const uint8_t *spki, size_t spki_len, void *ctx,
                                       EVP_PKEY **out, struct vt_diag *d)
{
    (void)ctx;
    VT_ENSURE(spki_len > 0 && spki_len <= CMS_KEY_INPUT_MAX, d, VT_E_BAD_KEY, "cms.recipient_key",
              "SubjectPublicKeyInfo of %zu bytes", spki_len);
    const unsigned char *p = spki;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, (long)spki_len);
    if (pkey == NULL) {
        char why[VT_CRYPTO_ERRTEXT_MAX];
        vt_crypto_errors(why, sizeof(why));
        return vt_fail(d, VT_E_BAD_KEY, "cms.recipient_key", "not a DER SubjectPublicKeyInfo: %s",
                       why);
    }
    size_t used = (size_t)(p - spki);
    if (used != spki_len) {
        EVP_PKEY_free(pkey);
        return vt_fail(d, VT_E_BAD_KEY, "cms.recipient_key",
                       "%zu bytes after the %zu-byte SubjectPublicKeyInfo", spki_len - used, used);
    }
    enum vt_err err = check_rsa(pkey, "cms.recipient_key", d);
    if (err != VT_OK) {
        EVP_PKEY_free(pkey);
        return err;
    }
    *out = pkey;
    return VT_OK;
}

/* The recipient's public key (a reference of the caller's own), from the memo or parsed. */
static enum vt_err recipient_key(const uint8_t *spki, size_t spki_len, EVP_PKEY **out,
                                 struct vt_diag *d)
{
    return vt_pkey_memo_get(&rsa_memo, spki, spki_len, recipient_key_parse, NULL, out, d);
}

enum vt_err vt_cms_encrypt_for_recipient(const uint8_t *spki, size_t spki_len,
                                         const uint8_t *plaintext, size_t len, struct vt_buf *out,
                                         struct vt_diag *d)
{
    VT_ENSURE(spki != NULL && out != NULL && (plaintext != NULL || len == 0), d, VT_E_ARG,
              "cms.encrypt", "no key, plaintext or output");
    VT_ENSURE(len <= VT_CMS_MAX_SIZE, d, VT_E_TOO_LARGE, "cms.encrypt",
              "plaintext of %zu bytes, the limit is %u", len, VT_CMS_MAX_SIZE);
    EVP_PKEY *pub = NULL;
    VT_TRY(recipient_key(spki, spki_len, &pub, d));

    char why[VT_CRYPTO_ERRTEXT_MAX];
    enum vt_err err = VT_OK;
    uint8_t cek[CMS_CEK_LEN];
    uint8_t iv[CMS_IV_LEN];
    uint8_t ski[VT_SHA256_LEN];
    uint8_t ek[CMS_RSA_MAX_BYTES];
    size_t ek_len = sizeof(ek);
    size_t cap = len + CMS_BLOCK;
    uint8_t *ct = malloc(cap);
    int n1 = 0;
    int n2 = 0;
    EVP_CIPHER_CTX *cctx = EVP_CIPHER_CTX_new();
    struct vt_buf tmp;
    vt_buf_init(&tmp, out->max);
    if (ct == NULL || cctx == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "cms.encrypt", "cannot allocate %zu bytes", cap);
        goto out_all;
    }
    if (RAND_priv_bytes(cek, sizeof(cek)) != 1 || RAND_bytes(iv, sizeof(iv)) != 1) {
        vt_crypto_errors(why, sizeof(why));
        err = vt_fail(d, VT_E_CRYPTO, "cms.encrypt", "no random bytes: %s", why);
        goto out_all;
    }
    if (EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, cek, iv) != 1 ||
        EVP_EncryptUpdate(cctx, ct, &n1, plaintext, (int)len) != 1 ||
        EVP_EncryptFinal_ex(cctx, ct + n1, &n2) != 1) {
        vt_crypto_errors(why, sizeof(why));
        err = vt_fail(d, VT_E_CRYPTO, "cms.encrypt", "content: AES-256-CBC failed: %s", why);
        goto out_all;
    }
    if (!vt_crypto_oaep(pub, true, cek, sizeof(cek), ek, &ek_len)) {
        vt_crypto_errors(why, sizeof(why));
        err = vt_fail(d, VT_E_CRYPTO, "cms.encrypt", "key wrap: RSA-OAEP-SHA-256 failed: %s", why);
        goto out_all;
    }
    vt_sha256(spki, spki_len, ski);
    struct cms_parts parts = {ski, sizeof(ski), ek, ek_len, iv, ct, (size_t)n1 + (size_t)n2};
    err = write_envelope(&parts, &tmp, d);
    if (err == VT_OK) {
        vt_buf_cleanup(out);
        *out = tmp;
        vt_buf_init(&tmp, 0);
    }

out_all:
    OPENSSL_cleanse(cek, sizeof(cek));
    if (ct != NULL) {
        OPENSSL_cleanse(ct, cap);
        free(ct);
    }
    vt_buf_cleanup(&tmp);
    EVP_CIPHER_CTX_free(cctx);
    EVP_PKEY_free(pub);
    return err;
}
