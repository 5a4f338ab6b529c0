/*
 * The collateral source interface behind include/veritee/collateral.h (tree-internal, not
 * installed): the requests a verifier makes from the identifiers the evidence carries, the
 * functions a source implements, and the fetch calls of the verifier. One interface for every
 * TEE (Nitro needs none):
 *
 *   DCAP (SGX, TDX): the collateral set of a platform family (TCB info, QE identity, PCK CRL of
 *                    the PCK's CA, root CA CRL and their issuer chains) by TEE type, FMSPC and
 *                    PCK CA (processor or platform).
 *   SEV-SNP:         the VCEK (by product, CHIP_ID and REPORTED_TCB) or VLEK, the ASK/ASVK + ARK
 *                    chain (by product) and the AMD CRL.
 *
 * A source only fetches: every document is verified by the verifier (signatures, chains, CRL
 * issuers, times, identifiers against the evidence). The DCAP fetch returns a parsed set (struct
 * vt_dcap_collateral), a tree-internal type: that is why writing a source is not installed API.
 */
#ifndef VT_TEE_COLLATERAL_SOURCE_H
#define VT_TEE_COLLATERAL_SOURCE_H

#include <veritee/collateral.h>

#include "tee/dcap/dcap.h"
#include "tee/snp/snp.h"

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
void vt_snp_collateral_cleanup(struct vt_snp_collateral *c);

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

/* Wrap ops (static storage, borrowed) and ctx (owned from success on: ops->free releases it). */
VT_MUST_USE enum vt_err vt_collateral_source_new(const struct vt_collateral_source_ops *ops,
                                                 void *ctx, struct vt_collateral_source **out,
                                                 struct vt_diag *d);
/* Fetch through a source (what the verifier calls). VT_E_COLLATERAL_MISSING if the source has no
 * function for the kind; otherwise the source's result. */
VT_MUST_USE enum vt_err vt_collateral_fetch_dcap(struct vt_collateral_source *s,
                                                 const struct vt_dcap_collateral_request *r,
                                                 struct vt_dcap_collateral **out,
                                                 struct vt_diag *d);
VT_MUST_USE enum vt_err vt_collateral_fetch_snp(struct vt_collateral_source *s,
                                                const struct vt_snp_collateral_request *r,
                                                struct vt_snp_collateral *out, struct vt_diag *d);

/* "processor" or "platform" (the PCS pckcrl?ca= value); "unknown" otherwise. */
const char *vt_pck_ca_name(enum vt_pck_ca ca);

#endif
