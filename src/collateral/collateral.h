/*
 * Collateral over HTTP, in libveritee: sources that fetch from a PCS- or KDS-shaped service (a
 * veritee cache, a PCCS, Intel PCS, AMD KDS: vt_collateral_source_http and
 * vt_collateral_source_open, installed API in include/veritee/collateral.h) or from a function
 * answering the same paths (the in-process cache: vt_collateral_source_fn, tree-internal). The
 * document checks live in the core: tee/collateral/check.h.
 */
#ifndef VT_COLLATERAL_COLLATERAL_H
#define VT_COLLATERAL_COLLATERAL_H

#include <veritee/collateral.h>

#include "tee/collateral/check.h"
#include "tee/collateral/source.h"

/* The same from a function answering PCS/KDS paths with a response as an HTTP service would give
 * it (the in-process cache: vt_cache_collateral_get). ctx is borrowed and must outlive the
 * source; fn must be thread-safe. */
struct vt_http_response;
typedef enum vt_err (*vt_collateral_get_fn)(void *ctx, const char *path, struct vt_http_response *r,
                                            struct vt_diag *d);
VT_MUST_USE enum vt_err vt_collateral_source_fn(vt_collateral_get_fn fn, void *ctx,
                                                struct vt_collateral_source **out,
                                                struct vt_diag *d);

#endif
