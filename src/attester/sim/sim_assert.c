/* Failed generator checks as vt_diag errors (sim_assert.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "sim_assert.h"

/* "sim.x509" + "vt_testgen_cert" -> "sim.x509.cert"; file-local helpers keep their name. */
static void check_name(char *out, size_t cap, const char *area, const char *func)
{
    static const char *const prefixes[] = {"vt_testgen_", "vt_ssim_"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(func, prefixes[i], n) == 0) {
            func += n;
            break;
        }
    }
    snprintf(out, cap, "%s.%s", area, func);
}

/* OpenSSL's error queue, drained, as "; openssl: <e1>; <e2>" (empty when the queue is). */
static void openssl_queue(char *out, size_t cap)
{
    size_t used = 0;
    unsigned long e;
    out[0] = '\0';
    while ((e = ERR_get_error()) != 0) {
        if (used + 64 < cap) {
            int n = snprintf(out + used, cap - used, "%s", used == 0 ? "; openssl: " : "; ");
            used += n > 0 ? (size_t)n : 0;
            ERR_error_string_n(e, out + used, cap - used);
            used = strlen(out);
        }
    }
}

enum vt_err vt_sim_check_failed(struct vt_diag *d, enum vt_err code, const char *area,
                                const char *func, const char *expr, bool has_values, long long got,
                                long long want)
{
    char check[VT_DIAG_CHECK_MAX];
    char ssl[300];
    char values[64] = "";
    check_name(check, sizeof(check), area, func);
    openssl_queue(ssl, sizeof(ssl));
    if (has_values) {
        snprintf(values, sizeof(values), ": got %lld, want %lld", got, want);
    }
    return vt_fail(d, code, check, "%.160s failed%s%s", expr, values, ssl);
}

enum vt_err vt_sim_arg_failed(struct vt_diag *d, enum vt_err code, const char *area,
                              const char *func, const char *fmt, ...)
{
    char check[VT_DIAG_CHECK_MAX];
    char detail[VT_DIAG_DETAIL_MAX];
    check_name(check, sizeof(check), area, func);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    ERR_clear_error();
    return vt_fail(d, code, check, "%s", detail);
}
