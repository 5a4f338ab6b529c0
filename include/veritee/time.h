/* Time as signed seconds since the Unix epoch (UTC). `now` is always a parameter in veritee. */
#ifndef VERITEE_TIME_H
#define VERITEE_TIME_H

#include <veritee/common.h>
#include <veritee/error.h>

typedef int64_t vt_time;

/*
 * Parse RFC 3339 ("2025-07-19T10:01:17Z", optional fraction, "Z" or "+hh:mm" offset; 't'/'z'
 * accepted) or plain unix seconds (ASCII digits, optional leading '-'). Fractions are truncated.
 * VT_E_BAD_TIME (detail: the input) on anything else, including out-of-range fields.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_time_parse(const char *s, size_t len, vt_time *out,
                                                struct vt_diag *d);
/*
 * A time given by a person (the command line's --at): what vt_time_parse accepts, and also unix
 * seconds with a decimal fraction ("1752919277.5", "-1.25"). As for RFC 3339, the result is the
 * whole second that contains the instant: the fraction is dropped toward the earlier second (1.9
 * gives 1, -1.5 gives -2), never rounded up. VT_E_BAD_TIME (check "time.parse") otherwise.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_time_parse_arg(const char *s, size_t len, vt_time *out,
                                                    struct vt_diag *d);
/* Format as RFC 3339 UTC with "Z", no fraction. out must hold VT_TIME_STR_MAX bytes. */
#define VT_TIME_STR_MAX 32
VT_EXPORT void vt_time_format(vt_time t, char out[VT_TIME_STR_MAX]);
/* Current wall-clock time. Only command-line front ends call this. */
VT_EXPORT vt_time vt_time_now(void);

/*
 * How validity windows are enforced. STRICT (the default): now must also be at or after the lower
 * bound (notBefore, thisUpdate, issueDate) of every certificate, CRL and collateral document.
 * EXPIRY_ONLY: only the upper bound (notAfter, nextUpdate) is checked, as Intel's QVL does.
 */
enum vt_time_mode {
    VT_TIME_STRICT = 0,
    VT_TIME_EXPIRY_ONLY = 1,
};

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
VT_EXPORT VT_MUST_USE enum vt_err vt_time_check_window(const char *what, vt_time not_before,
                                                       vt_time not_after, vt_time now,
                                                       enum vt_time_mode mode, struct vt_diag *d);
/* Check now against the window under mode with the upper edge as `edge` says (an unknown edge
 * or mode is VT_E_ARG, never a pass). VT_E_EXPIRED detail for EXPIRES_AT: "now X is at or after
 * not_after Y". */
VT_EXPORT VT_MUST_USE enum vt_err vt_time_check_edges(const char *what, vt_time not_before,
                                                      vt_time not_after, vt_time now,
                                                      enum vt_time_mode mode,
                                                      enum vt_time_edge edge, struct vt_diag *d);

#endif
