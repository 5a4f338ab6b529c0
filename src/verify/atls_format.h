/*
 * The certificate extensions of attested TLS (docs/attested-tls.md "Formats"): their OIDs, and
 * the readers and writers of their contents. Readers take untrusted bytes (fuzz/fuzz_atls_cert.c)
 * and never verify anything: vt_atls_verify_cert (atls.c) does.
 *
 * Internal to the veritee tree (src/), not installed.
 */
#ifndef VT_VERIFY_ATLS_FORMAT_H
#define VT_VERIFY_ATLS_FORMAT_H

#include <veritee/atls.h>
#include <veritee/buf.h>

/* Intel's DCAP RA-TLS OIDs (written and read). */
#define VT_ATLS_OID_SGX_QUOTE "1.2.840.113741.1.13.1.0"
#define VT_ATLS_OID_TDX_QUOTE "1.2.840.113741.1.5.5.1.6"
/* Gramine's legacy RA-TLS quote OID, read only: Gramine writes the DER of
 * 1.2.840.113741.1337.6 with its tag and length as the OID's content octets, which decodes as
 * 0.6.9.42.840.113741.1337.6; some tools write the plain OID. */
#define VT_ATLS_OID_GRAMINE_QUOTE_RAW "0.6.9.42.840.113741.1337.6"
#define VT_ATLS_OID_GRAMINE_QUOTE "1.2.840.113741.1337.6"
/* Open Enclave's report extension (the legacy form: an oe_report_header then an SGX quote). */
#define VT_ATLS_OID_OE_REPORT "1.2.840.113556.10.1.1"
/* id-pe-cmw (draft-ietf-rats-msg-wrap, IANA SMI "PKIX Certificate Extension" 35). */
#define VT_ATLS_OID_CMW "1.3.6.1.5.5.7.1.35"
/* Recognised but not read: refused as unsupported rather than ignored. */
#define VT_ATLS_OID_TCG_DICE_CMW "2.23.133.5.4.9"
#define VT_ATLS_OID_OE_EVIDENCE "1.3.6.1.4.1.311.105.1"

/* OE's report header: version 1, type 2 (SGX remote report), then the quote's length. */
#define VT_ATLS_OE_HEADER_LEN 16
#define VT_ATLS_OE_HEADER_VERSION 1u
#define VT_ATLS_OE_REPORT_REMOTE 2u

/* The CMW collection veritee writes (docs/attested-tls.md "CMW"). */
#define VT_ATLS_CMW_COLLECTION_TYPE "tag:veritee.dev,2026:atls-cmw/v1"
#define VT_ATLS_CMW_SNP_TYPE "application/vnd.veritee.sev-snp-report"
#define VT_ATLS_CMW_NITRO_TYPE "application/vnd.veritee.aws-nitro-attestation-document"
#define VT_ATLS_CMW_VCEK_TYPE "application/pkix-cert"
#define VT_ATLS_CMW_IND_ENDORSEMENTS 2u
#define VT_ATLS_CMW_IND_EVIDENCE 4u
/* Limits of what the readers accept. */
#define VT_ATLS_EXT_MAX (64u * 1024u)
#define VT_ATLS_CMW_ITEMS_MAX 8u

/* What the extension of a recognised OID is, or VT_ATLS_NONE (not an attestation extension).
 * *unsupported is set for an attestation OID veritee does not read (TCG DICE, OE evidence). */
enum vt_atls_format vt_atls_oid_format(const char *oid, bool *unsupported);

/* The evidence an extension carries (views into the extension's bytes). */
struct vt_atls_evidence {
    const uint8_t *evidence;
    size_t evidence_len;
    const uint8_t *vcek; /* CMW with an SNP report: the VCEK, if the collection has one */
    size_t vcek_len;
    enum vt_tee tee; /* CMW: from the record's type; DCAP formats: VT_TEE_NONE (the quote says) */
};

/*
 * Read the extension of format f (not BROKER). Errors with checks "atls.<format>.*":
 * RA-TLS: an empty or oversized value; OE: the header (length, version, type, size); CMW: the
 * OCTET STRING, the CBOR map, the collection type, each record, an unknown label, no evidence or
 * two.
 */
VT_MUST_USE enum vt_err vt_atls_ext_read(enum vt_atls_format f, const uint8_t *p, size_t n,
                                         struct vt_atls_evidence *out, struct vt_diag *d);

/* Write the extension value of format f for evidence (and vcek for CMW with SNP) into out. */
VT_MUST_USE enum vt_err vt_atls_ext_write(enum vt_atls_format f, enum vt_tee tee,
                                          const uint8_t *evidence, size_t evidence_len,
                                          const uint8_t *vcek, size_t vcek_len, struct vt_buf *out,
                                          struct vt_diag *d);

/* The broker extension's content: the JSON object (heap, free()) after its DER UTF8String.
 * VT_E_BAD_DER / VT_E_BAD_FIELD ("atls.broker.extension"). */
VT_MUST_USE enum vt_err vt_atls_broker_ext_text(const uint8_t *p, size_t n, char **json,
                                                size_t *json_len, struct vt_diag *d);

#endif
