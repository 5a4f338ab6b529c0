/*
 * Collateral sources: where a verifier gets the vendor documents a piece of evidence needs, by
 * the identifiers the evidence carries. One interface for every TEE (Nitro needs none):
 *
 *   DCAP (SGX, TDX): the collateral set of a platform family (TCB info, QE identity, PCK CRL of
 *                    the PCK's CA, root CA CRL and their issuer chains) by TEE type, FMSPC and
 *                    PCK CA (processor or platform).
 *   SEV-SNP:         the VCEK (by product, CHIP_ID and REPORTED_TCB) or VLEK, the ASK/ASVK + ARK
 *                    chain (by product) and the AMD CRL.
 *
 * Implementations: a directory (vt_collateral_source_dir, here; the layout is in docs/verify.md
 * "Collateral directory"), and in the service library an HTTP base URL (Intel PCS, a PCCS, AMD
 * KDS, a veritee cache) and the in-process cache. Anyone can write another with
 * vt_collateral_source_new. A source only fetches: every document is verified by the verifier
 * (signatures, chains, CRL issuers, times, identifiers against the evidence).
 */
#ifndef VERITEE_COLLATERAL_H
#define VERITEE_COLLATERAL_H

#include <veritee/common.h>
#include <veritee/dcap.h>
#include <veritee/error.h>
#include <veritee/snp.h>

/* The PCK certificate's issuing CA, which names the PCK CRL to use. */
enum vt_pck_ca {
    VT_PCK_CA_PROCESSOR = 1,
    VT_PCK_CA_PLATFORM,
};

/* What a DCAP quote needs, from its PCK certificate chain. */
struct vt_dcap_collateral_request {
    enum vt_tee tee; /* VT_TEE_SGX or VT_TEE_TDX */
    /* false when the quote's PCK chain did not yield FMSPC and CA (the quote's verification will
     * say why): a source that needs them fails with check "collateral.request". */
    bool platform_known;
    uint8_t fmspc[6]; /* from the PCK certificate's SGX extension */
    enum vt_pck_ca ca;
};

/* What an SEV-SNP report needs, from the report. */
struct vt_snp_collateral_request {
    enum vt_snp_product product; /* from CPUID (v3+); VT_SNP_UNKNOWN for v2: try each product */
    bool vlek;                   /* KEY_INFO.SIGNING_KEY is the VLEK */
    bool have_vek;               /* the caller has the VEK: only the chain and CRL are wanted */
    uint8_t chip_id[64];         /* hwID (Turin: the first 8 bytes) */
    uint64_t reported_tcb;       /* REPORTED_TCB, raw */
};

/* SEV-SNP collateral as fetched: each member heap (owned) or NULL when the source has none. */
struct vt_snp_collateral {
    uint8_t *vek; /* VCEK or VLEK, DER or PEM */
    size_t vek_len;
    uint8_t *chain; /* ASK or ASVK, then ARK (PEM) */
    size_t chain_len;
    uint8_t *crl; /* AMD CRL (DER or PEM) */
    size_t crl_len;
};
/* Free the members and zero the struct (NULL-safe). */
VT_EXPORT void vt_snp_collateral_cleanup(struct vt_snp_collateral *c);

/*
 * The functions of a source. Each must be safe to call from several threads at once on one ctx
 * (a verifier calls them from concurrent vt_verify calls). Either fetch function may be NULL
 * (VT_E_COLLATERAL_MISSING: the source has no such collateral).
 *   dcap: a parsed, not yet verified set (vt_dcap_collateral_new); the caller frees *out.
 *   snp:  fill out (zeroed by the caller) with what the source has; a missing VEK is not an
 *         error here (the verifier reports it), a failure to reach the source is.
 *   free: release ctx when the source is freed (may be NULL).
 */
struct vt_collateral_source_ops {
    enum vt_err (*dcap)(void *ctx, const struct vt_dcap_collateral_request *req,
                        struct vt_dcap_collateral **out, struct vt_diag *d);
    enum vt_err (*snp)(void *ctx, const struct vt_snp_collateral_request *req,
                       struct vt_snp_collateral *out, struct vt_diag *d);
    void (*free)(void *ctx);
    const char *name; /* for messages: "directory", "http", "cache" */
};

/* A source: ops plus its context. Heap; vt_collateral_source_free is NULL-safe. */
struct vt_collateral_source;

/* Wrap ops (static storage, borrowed) and ctx (owned from success on: ops->free releases it). */
VT_EXPORT VT_MUST_USE enum vt_err
vt_collateral_source_new(const struct vt_collateral_source_ops *ops, void *ctx,
                         struct vt_collateral_source **out, struct vt_diag *d);
VT_EXPORT void vt_collateral_source_free(struct vt_collateral_source *s);

/*
 * A directory in the collateral layout (docs/verify.md "Collateral directory"): DCAP documents
 * at its top (tcb_info.json, qe_identity.json, tcb_info_issuer_chain.pem,
 * qe_identity_issuer_chain.pem, pck_crl.der, optional pck_crl_issuer_chain.pem, root_ca_crl.der)
 * or, when the top has no tcb_info.json, per TEE in sgx/ and tdx/; SEV-SNP files at its top
 * (vcek.der | vcek.pem | vlek.der | vlek.pem, optional cert_chain.pem | cert_chain, optional
 * crl.der | crl.pem). Files are read on every fetch (a verifier caches what it fetched). The
 * path is copied. Errors of a fetch name the file (VT_E_IO, VT_E_TOO_LARGE,
 * VT_E_COLLATERAL_MISSING).
 */
VT_EXPORT VT_MUST_USE enum vt_err
vt_collateral_source_dir(const char *dir, struct vt_collateral_source **out, struct vt_diag *d);

/* Fetch through a source (what the verifier calls). VT_E_COLLATERAL_MISSING if the source has no
 * function for the kind; otherwise the source's result. */
VT_EXPORT VT_MUST_USE enum vt_err
vt_collateral_fetch_dcap(struct vt_collateral_source *s, const struct vt_dcap_collateral_request *r,
                         struct vt_dcap_collateral **out, struct vt_diag *d);
VT_EXPORT VT_MUST_USE enum vt_err vt_collateral_fetch_snp(struct vt_collateral_source *s,
                                                          const struct vt_snp_collateral_request *r,
                                                          struct vt_snp_collateral *out,
                                                          struct vt_diag *d);

/* "processor" or "platform" (the PCS pckcrl?ca= value); "unknown" otherwise. */
VT_EXPORT const char *vt_pck_ca_name(enum vt_pck_ca ca);

#endif
