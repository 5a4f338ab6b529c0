/*
 * Collateral sources: where a verifier (verifier.h) gets the vendor documents a piece of evidence
 * needs (DCAP: TCB info, QE identity, CRLs and their issuer chains by FMSPC; SEV-SNP: the VCEK or
 * VLEK, the AMD chain and CRL), by the identifiers the evidence carries. Nitro needs none.
 *
 * Sources: a directory (the layout is in docs/verify.md "Collateral directory"), an HTTP base URL
 * (Intel PCS, a PCCS, AMD KDS, a veritee cache). A source only fetches: every document is
 * verified by the verifier (signatures, chains, CRL issuers, times, identifiers against the
 * evidence). Sources are safe to use from several threads at once.
 */
#ifndef VERITEE_COLLATERAL_H
#define VERITEE_COLLATERAL_H

#include <veritee/common.h>
#include <veritee/error.h>

/* A source (opaque). Heap; vt_collateral_source_free is NULL-safe. A verifier borrows it: free it
 * after the verifier. */
struct vt_collateral_source;

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

/*
 * A source fetching from base_url (http:// or https://; copied; libcurl). DCAP: TCB info by
 * FMSPC, QE identity, the PCK CRL of the PCK's CA, the root CA CRL (PCCS/THIM/veritee
 * /rootcacrl, or Intel's certificates host) and their issuer chains from the response headers.
 * SEV-SNP: the VCEK by CHIP_ID and REPORTED_TCB (product from the report, or each product in
 * turn for v2 reports) unless the caller has the VEK, the cert_chain, and the CRL (a 404 is no
 * error). KDS serves no VLEK: a VLEK-signed report without its VLEK is VT_E_COLLATERAL_MISSING.
 * Failures of a fetch name the URL and the HTTP status (VT_E_COLLATERAL_MISSING for 404,
 * VT_E_UPSTREAM otherwise).
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_collateral_source_http(const char *base_url,
                                                            struct vt_collateral_source **out,
                                                            struct vt_diag *d);

/* A source from a command-line argument: an http(s):// URL (vt_collateral_source_http), else a
 * directory (vt_collateral_source_dir). */
VT_EXPORT VT_MUST_USE enum vt_err
vt_collateral_source_open(const char *arg, struct vt_collateral_source **out, struct vt_diag *d);

#endif
