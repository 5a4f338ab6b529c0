/*
 * Internal to libveritee: the per-TEE verifiers' entry points on evidence that is already parsed,
 * used by vt_verify (src/verify/verifier.c) so that one verification parses its evidence once;
 * and a test-only count of how often each evidence parser is entered.
 */
#ifndef VT_TEE_INTERNAL_H
#define VT_TEE_INTERNAL_H

#include "tee/dcap/dcap.h"
#include "tee/nitro/nitro.h"
#include "tee/snp/snp.h"

/* vt_dcap_verify on a quote parsed by vt_dcap_quote_parse from bytes that are still alive.
 * cert_sha256: SHA-256 of q->cert_data if the caller has it (the PCK cache key), else NULL. */
VT_MUST_USE enum vt_err vt_dcap_verify_quote(struct vt_dcap_verifier *v,
                                             const struct vt_dcap_quote *q,
                                             const uint8_t *cert_sha256,
                                             const struct vt_dcap_opts *opts,
                                             struct vt_claims *claims, struct vt_diag *d);
/* vt_nitro_verify on a parsed document. */
VT_MUST_USE enum vt_err vt_nitro_verify_doc(struct vt_nitro_verifier *v,
                                            const struct vt_nitro_doc *doc,
                                            const struct vt_nitro_opts *opts,
                                            struct vt_claims *claims, struct vt_diag *d);
/* vt_snp_verify on a parsed report; hcl is its parsed Azure envelope, or NULL. */
VT_MUST_USE enum vt_err vt_snp_verify_report(struct vt_snp_verifier *v,
                                             const struct vt_snp_report *r,
                                             const struct vt_hcl_report *hcl,
                                             const struct vt_snp_opts *opts,
                                             struct vt_claims *claims, struct vt_diag *d);

/*
 * VT_PARSE_COUNT(name): when the translation unit is compiled with VT_PARSE_COUNTERS (only the
 * copies of the parsers that tests/unit/verify/test_verifier_parse_once.c builds), count one
 * entry into the parser `name` in the atomic counter vt_parse_count_<name>, which that test
 * defines. In the library it compiles to nothing.
 */
#ifdef VT_PARSE_COUNTERS
#include <stdatomic.h>
extern atomic_ulong vt_parse_count_dcap_quote, vt_parse_count_nitro_doc, vt_parse_count_snp_report,
    vt_parse_count_hcl_report;
#define VT_PARSE_COUNT(name) atomic_fetch_add(&vt_parse_count_##name, 1)
#else
#define VT_PARSE_COUNT(name) ((void)0)
#endif

#endif
