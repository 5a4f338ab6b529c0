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

#endif
