/*
 * Fuzz the cache's request parser (vt_cache_req_from_key, which is vt_cache_parse_request on a
 * path and query string: the form in which HTTP requests, stored keys and bundle items reach it).
 * Invariants: a failure records its code; a success yields a non-empty canonical key that parses
 * again to itself with the same kind and expectation (canonical keys are fixed points), and an
 * upstream path that starts with '/', the KDS expectations (product, hwID of its product's
 * length, SPLs) included. (Requests by QE ID are resolved to a key through the registrations
 * later, so only their parse is exercised.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"

static void require(int cond)
{
    if (!cond) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096 || memchr(data, 0, size) != NULL) {
        return 0;
    }
    char *s = malloc(size + 1);
    require(s != NULL);
    memcpy(s, data, size);
    s[size] = '\0';
    struct vt_cache_req r;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_cache_req_from_key(s, &r, &d);
    if (err != VT_OK) {
        require(d.code == err);
    } else if (r.qeid[0] == '\0') { /* a request by QE ID is resolved to a key later */
        size_t kl = strnlen(r.key, sizeof(r.key));
        require(kl > 0 && kl < sizeof(r.key));
        require(strnlen(r.path, sizeof(r.path)) < sizeof(r.path) && r.path[0] == '/');
        require(r.kind >= VT_DOC_TCB_INFO && r.kind <= VT_DOC_AMD_CRL && r.expect.kind == r.kind);
        struct vt_cache_req again;
        require(vt_cache_req_from_key(r.key, &again, &d) == VT_OK);
        require(strcmp(again.key, r.key) == 0 && again.kind == r.kind);
        require(strcmp(again.path, r.path) == 0);
        require(again.expect.tee == r.expect.tee && again.expect.has_fmspc == r.expect.has_fmspc &&
                again.expect.has_eval == r.expect.has_eval &&
                again.expect.eval_num == r.expect.eval_num);
        /* KDS: the product, signer, hwID and every SPL survive; a VCEK's hwID has its product's
         * length (Turin 8 bytes, Milan and Genoa 64) */
        const struct vt_doc_expect *a = &again.expect, *e = &r.expect;
        require(a->product == e->product && a->vlek == e->vlek && a->hwid_len == e->hwid_len &&
                memcmp(a->hwid, e->hwid, e->hwid_len) == 0 && a->bl == e->bl &&
                a->tee_spl == e->tee_spl && a->snp == e->snp && a->ucode == e->ucode &&
                a->fmc == e->fmc);
        require(r.kind != VT_DOC_VCEK ||
                r.expect.hwid_len == (r.expect.product == VT_SNP_TURIN ? 8u : 64u));
    }
    free(s);
    return 0;
}
