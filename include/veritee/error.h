/*
 * One error enum for all of veritee, with messages and a detail context.
 *
 * Errors say that something could not be verified or done. They are never verdicts: a quote that
 * verifies with TCB status OutOfDate is a success whose claims carry that status, and a policy
 * that denies is a successful evaluation whose result says so (policy.h).
 *
 * Codes are grouped in category ranges and are append-only: never renumber or reuse one.
 */
#ifndef VERITEE_ERROR_H
#define VERITEE_ERROR_H

#include <veritee/common.h>

/* X(name, value, message) */
#define VT_ERROR_LIST(X)                                                                           \
    X(VT_OK, 0, "success")                                                                         \
    /* 100: usage */                                                                               \
    X(VT_E_ARG, 100, "invalid argument")                                                           \
    X(VT_E_BUFFER_TOO_SMALL, 101, "output buffer too small")                                       \
    X(VT_E_STATE, 102, "object used in the wrong state")                                           \
    X(VT_E_UNAUTHORIZED, 103, "missing or invalid credentials")                                    \
    /* 200: malformed */                                                                           \
    X(VT_E_MALFORMED, 200, "malformed input")                                                      \
    X(VT_E_BAD_HEX, 201, "invalid hex encoding")                                                   \
    X(VT_E_BAD_BASE64, 202, "invalid base64 encoding")                                             \
    X(VT_E_BAD_TIME, 203, "invalid time value")                                                    \
    X(VT_E_BAD_JSON, 204, "invalid JSON")                                                          \
    X(VT_E_BAD_DER, 205, "invalid DER encoding")                                                   \
    X(VT_E_BAD_PEM, 206, "invalid PEM encoding")                                                   \
    X(VT_E_BAD_CERT, 207, "invalid X.509 certificate")                                             \
    X(VT_E_BAD_CRL, 208, "invalid certificate revocation list")                                    \
    X(VT_E_BAD_FIELD, 209, "field has an invalid value")                                           \
    X(VT_E_MISSING_FIELD, 210, "required field is missing")                                        \
    X(VT_E_DUPLICATE, 211, "duplicate entry")                                                      \
    X(VT_E_BAD_LENGTH, 212, "length field is inconsistent")                                        \
    X(VT_E_BAD_PERCENT, 213, "invalid percent encoding")                                           \
    /* 300: truncated or oversized */                                                              \
    X(VT_E_TRUNCATED, 300, "input is truncated")                                                   \
    X(VT_E_TRAILING_DATA, 301, "unexpected trailing data")                                         \
    X(VT_E_TOO_LARGE, 302, "input exceeds a size limit")                                           \
    /* 400: unsupported */                                                                         \
    X(VT_E_UNSUPPORTED, 400, "unsupported feature")                                                \
    X(VT_E_UNKNOWN_EVIDENCE, 401, "evidence type not recognised")                                  \
    X(VT_E_UNSUPPORTED_VERSION, 402, "unsupported version")                                        \
    X(VT_E_UNSUPPORTED_KEY_TYPE, 403, "unsupported attestation key type")                          \
    X(VT_E_UNSUPPORTED_TEE, 404, "unsupported TEE type")                                           \
    X(VT_E_UNSUPPORTED_QE_VENDOR, 405, "unsupported quoting enclave vendor")                       \
    X(VT_E_UNSUPPORTED_CERT_DATA, 406, "certification data type cannot be verified offline")       \
    X(VT_E_UNSUPPORTED_ALGORITHM, 407, "unsupported signature or key algorithm")                   \
    /* 500: signature */                                                                           \
    X(VT_E_SIGNATURE, 500, "signature verification failed")                                        \
    X(VT_E_QUOTE_SIGNATURE, 501, "quote signature is invalid")                                     \
    X(VT_E_QE_REPORT_SIGNATURE, 502, "QE report signature is invalid")                             \
    X(VT_E_COLLATERAL_SIGNATURE, 503, "collateral signature is invalid")                           \
    X(VT_E_QE_REPORT_DATA, 504, "QE report data does not bind the attestation key")                \
    X(VT_E_BAD_KEY, 505, "public key is invalid")                                                  \
    /* 600: certificate chain */                                                                   \
    X(VT_E_CHAIN, 600, "certificate chain is invalid")                                             \
    X(VT_E_UNTRUSTED_ROOT, 601, "certificate chain does not end at a trusted root")                \
    X(VT_E_CHAIN_LENGTH, 602, "certificate chain has the wrong length")                            \
    X(VT_E_CHAIN_NAME, 603, "certificate has an unexpected name")                                  \
    X(VT_E_CRL_ISSUER, 604, "CRL was not issued by the expected CA")                               \
    X(VT_E_CRL_SIGNATURE, 605, "CRL signature is invalid")                                         \
    X(VT_E_CERT_SIGNATURE, 606, "certificate signature is invalid")                                \
    X(VT_E_CERT_EXTENSION, 607, "certificate extension is invalid or missing")                     \
    /* 700: revoked or out of validity */                                                          \
    X(VT_E_REVOKED, 700, "certificate is revoked")                                                 \
    X(VT_E_EXPIRED, 701, "expired")                                                                \
    X(VT_E_NOT_YET_VALID, 702, "not yet valid")                                                    \
    /* 800: evidence does not match collateral or expectation */                                   \
    X(VT_E_TCB_INFO_MISMATCH, 800, "TCB info does not match the platform")                         \
    X(VT_E_QE_IDENTITY_MISMATCH, 801, "QE report does not match the QE identity")                  \
    X(VT_E_TDX_MODULE_MISMATCH, 802, "TDX module does not match the TCB info")                     \
    X(VT_E_TCB_NOT_SUPPORTED, 803, "no TCB level matches the platform")                            \
    X(VT_E_COLLATERAL_MISSING, 804, "required collateral is missing")                              \
    X(VT_E_NONCE_MISMATCH, 805, "nonce does not match")                                            \
    /* 806 retired (VT_E_POLICY): a policy denial is a verdict (struct vt_policy_result), not an   \
     * error; never reuse it */                                                                    \
    X(VT_E_BINDING, 807, "evidence does not bind the expected data")                               \
    /* 900: I/O */                                                                                 \
    X(VT_E_IO, 900, "input/output error")                                                          \
    X(VT_E_NOT_FOUND, 901, "not found")                                                            \
    X(VT_E_UPSTREAM, 902, "upstream service failed")                                               \
    /* 1000: storage */                                                                            \
    X(VT_E_STORAGE, 1000, "storage error")                                                         \
    X(VT_E_INTEGRITY, 1001, "stored data fails its integrity check")                               \
    /* 1100: internal */                                                                           \
    X(VT_E_INTERNAL, 1100, "internal error")                                                       \
    X(VT_E_NOMEM, 1101, "out of memory")                                                           \
    X(VT_E_CRYPTO, 1102, "cryptographic library error")

enum vt_err {
#define VT_ERR_ENUM_(name, value, msg) name = value,
    VT_ERROR_LIST(VT_ERR_ENUM_)
#undef VT_ERR_ENUM_
};

/* Message for a code; "unknown error" for a value not in the list. Never NULL. */
VT_EXPORT const char *vt_strerror(enum vt_err err);

/* Symbolic name ("VT_E_EXPIRED"); "VT_E_UNKNOWN" for a value not in the list. Never NULL. */
VT_EXPORT const char *vt_err_name(enum vt_err err);

/* Category name of a code: "usage", "malformed", "truncated", "unsupported", "signature",
 * "chain", "validity", "mismatch", "io", "storage", "internal"; "ok" for VT_OK. */
VT_EXPORT const char *vt_err_category(enum vt_err err);

#define VT_DIAG_CHECK_MAX 64
#define VT_DIAG_DETAIL_MAX 512

/*
 * Detail of a failure, filled by the function that detects it. `check` is a short stable name of
 * the check that failed (e.g. "pck_crl.issuer", "quote.header.version"), `detail` states the
 * values involved. Caller storage; may be NULL wherever a function takes one.
 */
struct vt_diag {
    enum vt_err code;
    char check[VT_DIAG_CHECK_MAX];
    char detail[VT_DIAG_DETAIL_MAX];
};

VT_EXPORT void vt_diag_init(struct vt_diag *d);

/*
 * Record a failure in `d` (if not NULL) and return `code`. Overwrites what `d` held: the function
 * that detects a failure records it; callers propagate the code without recording again.
 */
VT_EXPORT enum vt_err vt_fail(struct vt_diag *d, enum vt_err code, const char *check,
                              const char *fmt, ...) VT_PRINTF(4, 5);

/* Guards for functions that own nothing (no cleanup needed). */
#define VT_TRY(expr)                                                                               \
    do {                                                                                           \
        enum vt_err vt_try_err_ = (expr);                                                          \
        if (vt_try_err_ != VT_OK) {                                                                \
            return vt_try_err_;                                                                    \
        }                                                                                          \
    } while (0)

#define VT_ENSURE(cond, d, code, check, ...)                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            return vt_fail((d), (code), (check), __VA_ARGS__);                                     \
        }                                                                                          \
    } while (0)

#endif
