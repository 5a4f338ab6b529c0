/*
 * Parsed evidence and verification of it (tree-internal, not installed): the broker and the
 * cache's impact preview parse evidence once to refuse malformed evidence early, then verify the
 * parsed form. The installed API is vt_verify on bytes (include/veritee/verifier.h).
 */
#ifndef VT_VERIFY_EVIDENCE_H
#define VT_VERIFY_EVIDENCE_H

#include <veritee/verifier.h>

#include "tee/dcap/dcap.h"
#include "tee/nitro/nitro.h"
#include "tee/snp/snp.h"

/*
 * Evidence detected and parsed, borrowing from the bytes (which must outlive it). The broker
 * parses evidence once to refuse malformed evidence early and then verifies the parsed form.
 */
struct vt_evidence {
    enum vt_evidence_kind kind;
    enum vt_tee tee; /* SGX or TDX (from the quote), SEV-SNP, Nitro */
    const uint8_t *bytes;
    size_t len;
    union {
        struct vt_dcap_quote quote;
        struct vt_nitro_doc nitro;
        struct {
            struct vt_snp_report report;
            struct vt_hcl_report hcl; /* VT_EVIDENCE_AZURE_HCL only */
        } snp;
    } u;
};

/*
 * Detect and parse evidence (no verification): the kind, the TEE and the parsed form. Errors:
 * VT_E_UNKNOWN_EVIDENCE (check "evidence.type") when it is no known format, else the parser's
 * own error.
 */
VT_MUST_USE enum vt_err vt_evidence_parse(const uint8_t *p, size_t n, struct vt_evidence *e,
                                          struct vt_diag *d);

/*
 * Verify parsed evidence at opts->now and fill claims. Thread-safe: any number of calls may run
 * at once on one verifier. VT_OK means every check passed and the verdict (which may be
 * OutOfDate or Revoked) is in claims; any failed check returns its error with the detail in d,
 * and claims must not be used. Collateral errors: VT_E_COLLATERAL_MISSING (no source, or it has
 * nothing; check "collateral.source", or "vcek" for an SEV-SNP report without its VEK), the
 * source's own errors (VT_E_UPSTREAM, VT_E_IO, ...), then the TEE verifier's errors
 * (docs/verify.md).
 */
VT_MUST_USE enum vt_err vt_verify_evidence(struct vt_verifier *v, const struct vt_evidence *e,
                                           const struct vt_verify_opts *opts,
                                           struct vt_claims *claims, struct vt_diag *d);

#endif
