/*
 * The verifier: one thread-safe entry point for every kind of evidence veritee verifies (Intel
 * SGX and TDX DCAP quotes, AMD SEV-SNP reports and Azure HCL reports wrapping them, AWS Nitro
 * Enclaves attestation documents). vt_verify detects the evidence once, parses it once, fetches
 * the collateral it needs through the configured source (include/veritee/collateral.h),
 * verifies and fills the claims.
 *
 * A verifier caches, shared by all calls and guarded by locks: DCAP collateral sets fetched and
 * verified per platform (TEE + PCK chain) for collateral_ttl seconds, with their verified PCK
 * chains; SEV-SNP collateral fetched per (product, chip, TCB) for collateral_ttl seconds and the
 * verified VCEK/VLEK chains; verified Nitro CA chains. Every verification still checks every
 * validity window at its own `now`. See docs/verify.md "The verifier API".
 */
#ifndef VERITEE_VERIFIER_H
#define VERITEE_VERIFIER_H

#include <veritee/buf.h>
#include <veritee/claims.h>
#include <veritee/collateral.h>
#include <veritee/common.h>
#include <veritee/error.h>
#include <veritee/time.h>

/* collateral_ttl value: keep fetched collateral for the verifier's lifetime. */
#define VT_VERIFIER_TTL_FOREVER INT64_MAX
/* collateral_ttl when the configuration says 0. */
#define VT_VERIFIER_TTL_DEFAULT 60

struct vt_verifier_config {
    /* Extra trusted roots, added to the embedded vendor roots of every TEE (Intel SGX Root CA,
     * AWS Nitro Enclaves Root G1, AMD ARKs), never replacing them. NULL: the embedded roots. The
     * certificates are referenced, not copied: the list may be cleaned up after vt_verifier_new. */
    const struct vt_cert_list *trust_anchors;
    /* Where DCAP and SEV-SNP collateral come from (borrowed; must outlive the verifier). NULL:
     * none (a DCAP quote then fails with VT_E_COLLATERAL_MISSING; an SEV-SNP report needs its
     * VEK in the options). */
    struct vt_collateral_source *collateral;
    /* VT_TIME_STRICT, or VT_TIME_EXPIRY_ONLY to skip the lower bounds of validity windows. */
    enum vt_time_mode time_mode;
    /* Seconds fetched collateral is reused (0: VT_VERIFIER_TTL_DEFAULT; VT_VERIFIER_TTL_FOREVER),
     * measured on clock (NULL: vt_time_now()), not on the verification's `now`, which may be a
     * pinned time. */
    int64_t collateral_ttl;
    vt_time (*clock)(void *ctx);
    void *clock_ctx;
};

struct vt_verifier;

/*
 * A list of trusted root certificates (opaque here). vt_trust_anchors_load reads each file of
 * the NULL-terminated list `files` (PEM certificates, or one DER certificate; at most
 * VT_MAX_CHAIN_DEPTH in all) into a new list for vt_verifier_config.trust_anchors. Errors:
 * VT_E_ARG, VT_E_NOMEM, VT_E_IO / VT_E_TOO_LARGE naming the file, VT_E_BAD_PEM / VT_E_BAD_CERT,
 * VT_E_TOO_LARGE past the depth. Heap; vt_trust_anchors_free is NULL-safe.
 */
struct vt_cert_list;
VT_EXPORT VT_MUST_USE enum vt_err
vt_trust_anchors_load(const char *const *files, struct vt_cert_list **out, struct vt_diag *d);
VT_EXPORT void vt_trust_anchors_free(struct vt_cert_list *l);

/*
 * Create a verifier. Errors: VT_E_ARG (NULL cfg or out), VT_E_NOMEM, errors adding the embedded
 * roots. Heap; vt_verifier_free is NULL-safe and must not run concurrently with vt_verify.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_verifier_new(const struct vt_verifier_config *cfg,
                                                  struct vt_verifier **out, struct vt_diag *d);
VT_EXPORT void vt_verifier_free(struct vt_verifier *v);

struct vt_verify_opts {
    vt_time now; /* the time every certificate, CRL and document is checked at */
    /* Nitro only (the only evidence with its own nonce field and timestamp; other evidence binds
     * a nonce through its report data, see expect_report_data): the document's nonce must equal
     * these bytes (NULL: not checked), and with has_max_age its timestamp must be >= now -
     * max_age. For other evidence they are not checked, as `veritee verify` always did. */
    const uint8_t *nonce;
    size_t nonce_len;
    bool has_max_age;
    int64_t max_age;
    /* SGX, TDX, SEV-SNP: REPORT_DATA must be these bytes (at most 64) followed by zero bytes
     * (VT_E_BINDING otherwise). NULL: not checked. A Nitro document has no report
     * data: with this set it fails with VT_E_UNSUPPORTED. */
    const uint8_t *expect_report_data;
    size_t expect_report_data_len;
    /* SEV-SNP collateral the caller has (the guest's certificate table, command-line files): each
     * one given replaces what the source would give (DER or PEM). */
    const uint8_t *vek;
    size_t vek_len;
    const uint8_t *snp_chain;
    size_t snp_chain_len;
    const uint8_t *snp_crl;
    size_t snp_crl_len;
};

/*
 * Verify evidence (bytes, as vt_evidence_detect recognises them) at opts->now and fill claims:
 * detect, parse once, fetch collateral through the configured source, verify. Thread-safe: any
 * number of calls may run at once on one verifier. VT_OK means every check passed and the verdict
 * (which may be OutOfDate or Revoked) is in claims; any failed check returns its error with the
 * detail in d, and claims must not be used. Errors: VT_E_UNKNOWN_EVIDENCE (check "evidence.type")
 * for bytes of no known format, the parser's errors, VT_E_COLLATERAL_MISSING (no source, or it has
 * nothing; check "collateral.source", or "vcek" for an SEV-SNP report without its VEK), the
 * source's own errors (VT_E_UPSTREAM, VT_E_IO, ...), then the TEE verifier's errors
 * (docs/verify.md).
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_verify(struct vt_verifier *v, const uint8_t *evidence,
                                            size_t len, const struct vt_verify_opts *opts,
                                            struct vt_claims *claims, struct vt_diag *d);

enum vt_evidence_kind {
    VT_EVIDENCE_UNKNOWN = 0,
    VT_EVIDENCE_DCAP_QUOTE, /* Intel SGX or TDX ECDSA quote, v3-v5 */
    VT_EVIDENCE_NITRO_DOC,  /* AWS Nitro Enclaves attestation document (COSE_Sign1) */
    VT_EVIDENCE_SNP_REPORT, /* AMD SEV-SNP attestation report (1184 bytes) */
    VT_EVIDENCE_AZURE_HCL,  /* Azure confidential VM HCL report wrapping an SNP report */
};

/* Stable name: "dcap-quote", "nitro-document", "snp-report", "azure-hcl-report"; "unknown". */
VT_EXPORT const char *vt_evidence_kind_name(enum vt_evidence_kind k);

/*
 * Recognise evidence from its first bytes (no verification): a DCAP quote has version 3-5,
 * attestation key type 2, TEE type SGX or TDX and Intel's QE vendor ID; a Nitro document is a
 * CBOR array of four items (optionally tagged 18) starting with a byte string; an SNP report is
 * exactly 1184 bytes with version 2-5 and signature algorithm 1; an HCL report starts "HCLA".
 */
VT_EXPORT enum vt_evidence_kind vt_evidence_detect(const uint8_t *p, size_t n);

/*
 * If `b` holds evidence as text (hex, or base64, surrounded by optional whitespace) rather than
 * binary, decode it in place. Binary evidence is left as is. VT_OK in both cases; an error only
 * when decoding text that looked like an encoding fails.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_evidence_decode_text(struct vt_buf *b, struct vt_diag *d);

#endif
