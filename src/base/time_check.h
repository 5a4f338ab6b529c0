/*
 * Validity windows checked at an explicit time (tree-internal, not installed): every certificate,
 * CRL and collateral document of a verification goes through these. enum vt_time_mode is in
 * include/veritee/time.h.
 */
#ifndef VT_BASE_TIME_CHECK_H
#define VT_BASE_TIME_CHECK_H

#include <veritee/time.h>

/*
 * Whether the upper bound itself is still valid. The lower bound is always inclusive.
 *
 * INCLUSIVE: [not_before, not_after]; now == not_after is valid (RFC 5280 4.1.2.5: "notBefore
 * through notAfter, inclusive"). Used for Nitro and SEV-SNP.
 * EXPIRES_AT: [not_before, not_after); now == not_after is expired. Intel's QvE treats DCAP
 * collateral as expired when its earliest expiration date (nextUpdate, notAfter) <= the check
 * date. Used for every DCAP certificate, CRL and document.
 */
enum vt_time_edge {
    VT_EDGE_INCLUSIVE = 0,
    VT_EDGE_EXPIRES_AT = 1,
};

/*
 * Check now against [not_before, not_after] under mode, both bounds inclusive. On failure returns
 * VT_E_EXPIRED or VT_E_NOT_YET_VALID with check = `what` and a detail giving the bound and now in
 * RFC 3339. The same as vt_time_check_edges with VT_EDGE_INCLUSIVE.
 */
VT_MUST_USE enum vt_err vt_time_check_window(const char *what, vt_time not_before,
                                             vt_time not_after, vt_time now, enum vt_time_mode mode,
                                             struct vt_diag *d);
/* Check now against the window under mode with the upper edge as `edge` says (an unknown edge
 * or mode is VT_E_ARG, never a pass). VT_E_EXPIRED detail for EXPIRES_AT: "now X is at or after
 * not_after Y". */
VT_MUST_USE enum vt_err vt_time_check_edges(const char *what, vt_time not_before, vt_time not_after,
                                            vt_time now, enum vt_time_mode mode,
                                            enum vt_time_edge edge, struct vt_diag *d);

#endif
