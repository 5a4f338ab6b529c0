/*
 * Evidence detection and the front door of verification: what kind of evidence some bytes are,
 * and decoding of evidence handed over as text.
 */
#ifndef VERITEE_VERIFY_H
#define VERITEE_VERIFY_H

#include <veritee/buf.h>
#include <veritee/common.h>
#include <veritee/error.h>

enum vt_evidence_kind {
    VT_EVIDENCE_UNKNOWN = 0,
    VT_EVIDENCE_DCAP_QUOTE, /* Intel SGX or TDX ECDSA quote, v3-v5 */
    VT_EVIDENCE_NITRO_DOC,  /* AWS Nitro Enclaves attestation document (COSE_Sign1) */
    VT_EVIDENCE_SNP_REPORT, /* AMD SEV-SNP attestation report (1184 bytes) */
    VT_EVIDENCE_AZURE_HCL,  /* Azure confidential VM HCL report wrapping an SNP report */
};

/* Stable name: "dcap-quote", "nitro-document", "snp-report", "azure-hcl-report"; "unknown". */
VT_EXPORT const char *vt_evidence_kind_name(enum vt_evidence_kind k);

/*
 * Recognise evidence from its first bytes (no verification): a DCAP quote has version 3-5,
 * attestation key type 2, TEE type SGX or TDX and Intel's QE vendor ID; a Nitro document is a
 * CBOR array of four items (optionally tagged 18) starting with a byte string; an SNP report is
 * exactly 1184 bytes with version 2-5 and signature algorithm 1; an HCL report starts "HCLA".
 */
VT_EXPORT enum vt_evidence_kind vt_evidence_detect(const uint8_t *p, size_t n);

/*
 * If `b` holds evidence as text (hex, or base64, surrounded by optional whitespace) rather than
 * binary, decode it in place. Binary evidence is left as is. VT_OK in both cases; an error only
 * when decoding text that looked like an encoding fails.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_evidence_decode_text(struct vt_buf *b, struct vt_diag *d);

#endif
