/*
 * Error messages, names and categories, all generated from VT_ERROR_LIST in error.h, and the
 * vt_diag detail context.
 *
 * vt_fail is the single place a failure is recorded; a debugger breakpoint on it stops at every
 * failure as it is detected (SQLite's corruption-constructor idea).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <veritee/error.h>

const char *vt_strerror(enum vt_err err)
{
    switch (err) {
#define VT_ERR_MSG_(name, value, msg)                                                              \
    case name:                                                                                     \
        return msg;
        VT_ERROR_LIST(VT_ERR_MSG_)
#undef VT_ERR_MSG_
    }
    return "unknown error";
}

const char *vt_err_name(enum vt_err err)
{
    switch (err) {
#define VT_ERR_NAME_(name, value, msg)                                                             \
    case name:                                                                                     \
        return #name;
        VT_ERROR_LIST(VT_ERR_NAME_)
#undef VT_ERR_NAME_
    }
    return "VT_E_UNKNOWN";
}

const char *vt_err_category(enum vt_err err)
{
    /* The category is the hundreds of the code (see the comments in VT_ERROR_LIST). Compare as
     * a wide signed value so that out-of-range values of either sign land in "unknown". */
    static const char *const names[] = {
        NULL,    "usage",    "malformed", "truncated", "unsupported", "signature",
        "chain", "validity", "mismatch",  "io",        "storage",     "internal",
    };
    long long v = (long long)err;
    if (v == 0) {
        return "ok";
    }
    if (v < 100 || v >= 100 * (long long)(sizeof(names) / sizeof(names[0]))) {
        return "unknown";
    }
    return names[v / 100];
}

void vt_diag_init(struct vt_diag *d)
{
    if (d == NULL) {
        return;
    }
    d->code = VT_OK;
    d->check[0] = '\0';
    d->detail[0] = '\0';
}

enum vt_err vt_fail(struct vt_diag *d, enum vt_err code, const char *check, const char *fmt, ...)
{
    if (d == NULL) {
        return code;
    }
    /* Format into locals first: a caller may pass d->detail or d->check as an argument (to wrap
     * an earlier message), and vsnprintf into an overlapping buffer is undefined. */
    char detail[VT_DIAG_DETAIL_MAX];
    char chk[VT_DIAG_CHECK_MAX];
    detail[0] = '\0';
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        if (n < 0) {
            detail[0] = '\0';
        }
    }
    size_t n = check != NULL ? strnlen(check, sizeof(chk) - 1) : 0;
    if (n > 0) {
        memcpy(chk, check, n);
    }
    chk[n] = '\0';

    d->code = code;
    memcpy(d->check, chk, n + 1);
    memcpy(d->detail, detail, strlen(detail) + 1);
    return code;
}
