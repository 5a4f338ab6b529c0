/*
 * Collateral over HTTP (service library, libveritee_svc): collateral sources
 * (include/veritee/collateral.h) that fetch from a PCS- or KDS-shaped service (a veritee cache, a
 * PCCS, Intel PCS, AMD KDS) or from a function answering the same paths (the in-process cache).
 * The document checks live in the core: tee/collateral/check.h.
 */
#ifndef VT_COLLATERAL_COLLATERAL_H
#define VT_COLLATERAL_COLLATERAL_H

#include <veritee/collateral.h>
#include <veritee/veritee.h>

#include "tee/collateral/check.h"

/*
 * A source fetching from base_url (http:// or https://; copied). DCAP: TCB info by FMSPC, QE
 * identity, the PCK CRL of the PCK's CA, the root CA CRL (PCCS/THIM/veritee /rootcacrl, or Intel's
 * certificates host) and their issuer chains from the response headers. SEV-SNP: the VCEK by
 * CHIP_ID and REPORTED_TCB (product from the request, or each product in turn for v2 reports)
 * unless the caller has the VEK, the cert_chain, and the CRL (a 404 is no error). KDS serves no
 * VLEK: a VLEK-signed report without its VLEK is VT_E_COLLATERAL_MISSING. Failures name the URL
 * and the HTTP status (VT_E_COLLATERAL_MISSING for 404, VT_E_UPSTREAM otherwise).
 */
VT_MUST_USE enum vt_err vt_collateral_source_http(const char *base_url,
                                                  struct vt_collateral_source **out,
                                                  struct vt_diag *d);

/* The same from a function answering PCS/KDS paths with a response as an HTTP service would give
 * it (the in-process cache: vt_cache_collateral_get). ctx is borrowed and must outlive the
 * source; fn must be thread-safe. */
struct vt_http_response;
typedef enum vt_err (*vt_collateral_get_fn)(void *ctx, const char *path, struct vt_http_response *r,
                                            struct vt_diag *d);
VT_MUST_USE enum vt_err vt_collateral_source_fn(vt_collateral_get_fn fn, void *ctx,
                                                struct vt_collateral_source **out,
                                                struct vt_diag *d);

/* A source from a --collateral argument: an http(s):// URL (vt_collateral_source_http) or else a
 * directory (vt_collateral_source_dir). */
VT_MUST_USE enum vt_err
vt_collateral_source_open(const char *arg, struct vt_collateral_source **out, struct vt_diag *d);

#endif
