/*
 * Fuzz vt_doc_check, the checker every upstream download and bundle item goes through before the
 * cache stores it. Input: byte 0 picks the document kind, byte 1 the expectation (TEE, CA type,
 * FMSPC and tcbEvaluationDataNumber present or not, VLEK); the rest is the body, then after the
 * first NUL the issuer-chain header value, then optional SGX-TCBm and SGX-FMSPC header values,
 * each after a further NUL. Anchors are the embedded Intel root and AMD ARKs, so signatures only
 * verify on vendor documents; the parsing before them is what this target explores.
 * Invariants: a failure records its code and leaves no DER in the metadata; a success has
 * issueDate <= nextUpdate, and a DER copy exactly for the CRL kinds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collateral/collateral.h"

static void require(int cond)
{
    if (!cond) {
        abort();
    }
}

static struct vt_cert_list intel, amd;

/* The next NUL-terminated field of the input (a heap copy), or NULL when the input is used up. */
static char *next_field(const uint8_t **p, size_t *left)
{
    if (*left == 0) {
        return NULL;
    }
    const uint8_t *z = memchr(*p, 0, *left);
    size_t n = z ? (size_t)(z - *p) : *left;
    char *s = malloc(n + 1);
    require(s != NULL);
    memcpy(s, *p, n);
    s[n] = '\0';
    *p += z ? n + 1 : n;
    *left -= z ? n + 1 : n;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct vt_diag d;
    vt_diag_init(&d);
    if (!ready) {
        vt_cert_list_init(&intel);
        vt_cert_list_init(&amd);
        require(vt_intel_sgx_root_add(&intel, &d) == VT_OK && vt_amd_arks_add(&amd, &d) == VT_OK);
        ready = 1;
    }
    if (size < 2) {
        return 0;
    }
    struct vt_doc_expect e;
    memset(&e, 0, sizeof(e));
    e.kind = (enum vt_doc_kind)(data[0] % VT_DOC_AMD_CRL + 1);
    uint8_t f = data[1];
    e.tee = (f & 1) ? VT_TEE_TDX : VT_TEE_SGX;
    e.ca = (f >> 1) & 3;
    e.has_fmspc = (f & 8) != 0;
    memcpy(e.fmspc, "\x00\x90\x6e\xd5\x00\x00", 6);
    e.has_eval = (f & 16) != 0;
    e.eval_num = 17;
    e.vlek = (f & 32) != 0;
    e.product = (f & 64) ? VT_SNP_GENOA : VT_SNP_MILAN;
    e.hwid_len = 64;

    const uint8_t *p = data + 2;
    size_t left = size - 2;
    const uint8_t *body = p;
    const uint8_t *z = memchr(p, 0, left);
    size_t body_len = z ? (size_t)(z - p) : left;
    p += z ? body_len + 1 : body_len;
    left -= z ? body_len + 1 : body_len;
    char *chain = next_field(&p, &left);
    char *tcbm = next_field(&p, &left);
    char *fmspc = next_field(&p, &left);

    struct vt_doc_anchors a = {&intel, &amd};
    struct vt_doc_meta m;
    memset(&m, 0, sizeof(m));
    enum vt_err err = vt_doc_check(&e, &a, body, body_len, chain, tcbm, fmspc, &m, &d);
    if (err != VT_OK) {
        require(d.code == err);
        require(m.der == NULL && m.der_len == 0);
    } else {
        require(m.issue_date <= m.next_update);
        bool crl =
            e.kind == VT_DOC_PCK_CRL || e.kind == VT_DOC_ROOT_CRL || e.kind == VT_DOC_AMD_CRL;
        require(crl == (m.der != NULL && m.der_len > 0));
    }
    vt_doc_meta_cleanup(&m);
    vt_doc_meta_cleanup(&m);
    free(chain);
    free(tcbm);
    free(fmspc);
    return 0;
}
