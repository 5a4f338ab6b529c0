/*
 * Filling claims (tree-internal, not installed): what the TEE verifiers call while they verify.
 * The struct and its JSON are installed API (include/veritee/claims.h).
 */
#ifndef VT_CLAIMS_CLAIMS_FILL_H
#define VT_CLAIMS_CLAIMS_FILL_H

#include <veritee/claims.h>

/* Add an advisory ID unless present. VT_E_TOO_LARGE past the caps. */
VT_MUST_USE enum vt_err vt_advisories_add(struct vt_advisories *a, const char *id);

/* Record a collateral document (first VT_COLLATERAL_DOCS_MAX only) and fold its dates into
 * earliest_expiry / tcb_eval_num. */
void vt_claims_add_collateral(struct vt_claims *c, const char *name,
                              const uint8_t sha256[VT_SHA256_LEN], vt_time issue_date,
                              vt_time next_update, int64_t tcb_eval_num);
/* Fold a certificate's notAfter into earliest_expiry. */
void vt_claims_note_expiry(struct vt_claims *c, vt_time not_after);

#endif
