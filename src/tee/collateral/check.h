/*
 * Collateral documents as the vendors' services serve them (Intel PCS v4, AMD KDS): checking one
 * download before it is stored or used. Core library (libveritee, not installed: the collateral
 * cache and the HTTP source of the service library use it).
 */
#ifndef VT_TEE_COLLATERAL_CHECK_H
#define VT_TEE_COLLATERAL_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veritee/error.h>
#include <veritee/time.h>

#include "base/encoding.h"
#include "crypto/crypto.h"
#include "tee/dcap/dcap.h"
#include "tee/snp/snp.h"

enum vt_doc_kind {
    VT_DOC_TCB_INFO = 1,
    VT_DOC_QE_IDENTITY,  /* QE (sgx) or TD_QE (tdx) */
    VT_DOC_QVE_IDENTITY, /* QVE (sgx) */
    VT_DOC_EVAL_NUMBERS, /* tcbevaluationdatanumbers */
    VT_DOC_PCK_CRL,
    VT_DOC_ROOT_CRL,
    VT_DOC_PCK_CERT,
    VT_DOC_PCK_CERTS,
    VT_DOC_FMSPCS,
    VT_DOC_VCEK,      /* also the VLEK */
    VT_DOC_AMD_CHAIN, /* cert_chain: ASK (or ASVK) then ARK */
    VT_DOC_AMD_CRL,
};

const char *vt_doc_kind_name(enum vt_doc_kind k);

/* What a request asked for: a download must be exactly that. */
struct vt_doc_expect {
    enum vt_doc_kind kind;
    enum vt_tee tee; /* Intel documents: VT_TEE_SGX or VT_TEE_TDX */
    bool has_fmspc;
    uint8_t fmspc[6];
    bool has_eval;
    uint32_t eval_num;
    int ca; /* PCK CRL / cert: 1 processor, 2 platform, 0 either */
    bool has_pceid;
    uint8_t pceid[2];
    /* AMD */
    enum vt_snp_product product;
    bool vlek;
    size_t hwid_len;
    uint8_t hwid[64];
    uint8_t bl, tee_spl, snp, ucode, fmc;
    const struct vt_cert_list *amd_chain; /* VT_DOC_VCEK: the verified ASK + ARK */
};

/* What the checker learnt from a good document. */
struct vt_doc_meta {
    vt_time issue_date;  /* issueDate / thisUpdate / notBefore */
    vt_time next_update; /* nextUpdate / notAfter; INT64_MAX if none */
    int64_t eval_num;    /* -1 if the document has none */
    char fmspc[13];      /* lowercase hex, "" if none */
    int ca;              /* PCK CRL and certificates: 1 processor, 2 platform */
    /* PCK certificate: the platform's TCB */
    bool has_pck;
    uint8_t pck_components[16];
    uint16_t pck_pcesvn;
    uint8_t pck_pceid[2];
    uint8_t pck_cpusvn[16];
    /* CRLs: the DER to store (the download may be PEM or hex); heap, owned by the caller */
    uint8_t *der;
    size_t der_len;
};

/* Trust anchors for checking downloads. */
struct vt_doc_anchors {
    const struct vt_cert_list *intel; /* Intel SGX Root CA(s) */
    const struct vt_cert_list *amd;   /* ARKs */
};

/*
 * Check a downloaded document against what was asked for: parse it strictly, verify its
 * signature and issuer chain to the anchors (chain: the issuer-chain header value, URL-encoded
 * PEM or PEM, for the Intel kinds that have one), and compare every identifying field with the
 * request (TEE, FMSPC, tcbEvaluationDataNumber, CA type, product, hwID, SPLs). Times are not
 * checked here: a cache may hold expired items on purpose. headers_tcbm / headers_fmspc are the
 * SGX-TCBm and SGX-FMSPC values of a pckcert response (NULL if absent).
 */
VT_MUST_USE enum vt_err vt_doc_check(const struct vt_doc_expect *e, const struct vt_doc_anchors *a,
                                     const uint8_t *body, size_t len, const char *chain,
                                     const char *headers_tcbm, const char *headers_fmspc,
                                     struct vt_doc_meta *m, struct vt_diag *d);
void vt_doc_meta_cleanup(struct vt_doc_meta *m);

/* Product from a KDS path segment ("Milan", "Genoa", "Turin"), VT_SNP_UNKNOWN otherwise. */
enum vt_snp_product vt_snp_product_from_kds(const char *s);

#endif
