/* Common definitions shared by every public veritee header. */
#ifndef VERITEE_COMMON_H
#define VERITEE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define VT_MUST_USE __attribute__((warn_unused_result))
#define VT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define VT_EXPORT __attribute__((visibility("default")))
#else
#define VT_MUST_USE
#define VT_PRINTF(fmt, args)
#define VT_EXPORT
#endif

/* Bytes of a SHA-256 digest (claims, policy digests, receipts). */
#define VT_SHA256_LEN 32

/* The trusted execution environments veritee knows. Names are stable: they appear in claims. */
enum vt_tee {
    VT_TEE_NONE = 0,
    VT_TEE_SGX,
    VT_TEE_TDX,
    VT_TEE_SEV_SNP,
    VT_TEE_NITRO,
};

/* "sgx", "tdx", "sev-snp", "nitro"; "none" for VT_TEE_NONE. Never NULL. */
VT_EXPORT const char *vt_tee_name(enum vt_tee tee);

#endif
