/*
 * Intel DCAP: SGX and TDX ECDSA quotes (v3, v4, v5), the PCK certificate's SGX extension, TCB
 * info (v2, v3), QE identity (v2), and verification as Intel's QVL/QvE decide.
 * Reference: Intel SGX/TDX DCAP Quote Verification Library (DCAP 1.21); docs/verify.md.
 */
#ifndef VT_TEE_DCAP_DCAP_H
#define VT_TEE_DCAP_DCAP_H

#include <veritee/claims.h>
#include <veritee/common.h>
#include <veritee/error.h>
#include <veritee/time.h>

#include "base/time_check.h"
#include "crypto/crypto.h"

/* ---- quote ---- */

#define VT_DCAP_HEADER_SIZE 48
#define VT_SGX_REPORT_SIZE 384
#define VT_TD10_REPORT_SIZE 584
#define VT_TD15_REPORT_SIZE 648
#define VT_DCAP_TEE_SGX 0x00000000u
#define VT_DCAP_TEE_TDX 0x00000081u
#define VT_DCAP_ATT_KEY_ECDSA_P256 2
#define VT_DCAP_BODY_SGX 1
#define VT_DCAP_BODY_TD10 2
#define VT_DCAP_BODY_TD15 3

/* Intel's QE vendor ID, 939A7233F79C4CA9940A0DB3957F0607. */
extern const uint8_t vt_dcap_intel_qe_vendor_id[16];

/* An SGX report body (the enclave report, and the QE report). Copied fields. */
struct vt_sgx_report {
    uint8_t cpusvn[16];
    uint32_t miscselect;
    uint8_t isv_ext_prod_id[16];
    uint8_t attributes[16];
    uint8_t mrenclave[32];
    uint8_t mrsigner[32];
    uint8_t config_id[64];
    uint16_t isv_prod_id;
    uint16_t isv_svn;
    uint16_t config_svn;
    uint8_t isv_family_id[16];
    uint8_t report_data[64];
    const uint8_t *raw; /* the 384 raw bytes, borrowed from the quote */
};

/* A TD report body, TDX 1.0 (584 bytes) or 1.5 (648 bytes). Copied fields. */
struct vt_td_report {
    uint8_t tee_tcb_svn[16];
    uint8_t mrseam[48];
    uint8_t mrsignerseam[48];
    uint8_t seam_attributes[8];
    uint8_t td_attributes[8];
    uint8_t xfam[8];
    uint8_t mrtd[48];
    uint8_t mrconfigid[48];
    uint8_t mrowner[48];
    uint8_t mrownerconfig[48];
    uint8_t rtmr[4][48];
    uint8_t report_data[64];
    bool is_td15;
    uint8_t tee_tcb_svn2[16]; /* TD 1.5 only */
    uint8_t mrservicetd[48];  /* TD 1.5 only */
};

/* Certification data types. */
#define VT_DCAP_CERT_PPID_CLEAR 1
#define VT_DCAP_CERT_PPID_RSA2048 2
#define VT_DCAP_CERT_PPID_RSA3072 3
#define VT_DCAP_CERT_PCK_LEAF 4
#define VT_DCAP_CERT_PCK_CHAIN 5
#define VT_DCAP_CERT_QE_REPORT 6
#define VT_DCAP_CERT_PLATFORM_MANIFEST 7

/*
 * A parsed quote. Pointers borrow from the quote buffer, which must outlive the struct.
 * Layout per Intel's quote format: header(48) [v5: u16 body type, u32 body size] body,
 * u32 signature data length, signature data (v3 or v4 form). Bytes after the signature data are
 * counted in `trailing` and otherwise ignored, as Intel's QVL does.
 */
struct vt_dcap_quote {
    uint16_t version;      /* 3, 4, 5 */
    uint16_t att_key_type; /* 2 */
    uint32_t tee_type;     /* VT_DCAP_TEE_SGX or VT_DCAP_TEE_TDX */
    uint16_t qe_svn;       /* v3 header only */
    uint16_t pce_svn;      /* v3 header only */
    uint8_t qe_vendor_id[16];
    uint8_t user_data[20];
    uint16_t body_type; /* VT_DCAP_BODY_*; derived for v3/v4 */
    uint32_t body_size;
    struct vt_sgx_report sgx;   /* body_type == SGX */
    struct vt_td_report td;     /* body_type == TD10 or TD15 */
    const uint8_t *signed_data; /* header through body: what the quote signature covers */
    size_t signed_len;
    uint32_t sig_data_len;
    uint8_t signature[64];  /* raw r||s */
    uint8_t attest_key[64]; /* raw X||Y */
    struct vt_sgx_report qe_report;
    uint8_t qe_report_signature[64];
    const uint8_t *qe_auth_data;
    uint16_t qe_auth_data_len;
    uint16_t outer_cert_type; /* v4/v5: 6; v3: same as cert_type */
    uint16_t cert_type;       /* the certification data type (1-5; 7 recognised) */
    const uint8_t *cert_data; /* borrowed */
    uint32_t cert_data_len;
    size_t quote_len; /* bytes through the end of the signature data */
    size_t trailing;  /* bytes after it */
};

/*
 * Parse and validate a quote's structure: version in {3,4,5}, key type 2, TEE type SGX or TDX
 * (v3: SGX only), Intel QE vendor ID, v5 body type consistent with TEE and size, signature data
 * lengths consistent, certification data type 1-7 (v4/v5: outer type 6 wrapping 1-7).
 * Errors: VT_E_TRUNCATED, VT_E_UNSUPPORTED_VERSION, VT_E_UNSUPPORTED_KEY_TYPE,
 * VT_E_UNSUPPORTED_TEE, VT_E_UNSUPPORTED_QE_VENDOR, VT_E_BAD_LENGTH, VT_E_BAD_FIELD,
 * VT_E_TOO_LARGE; detail names the field, its offset and value.
 */
VT_MUST_USE enum vt_err vt_dcap_quote_parse(const uint8_t *p, size_t n, struct vt_dcap_quote *q,
                                            struct vt_diag *d);
/* Decode an SGX report body from exactly 384 bytes (used for the enclave and QE reports). */
void vt_sgx_report_decode(const uint8_t raw[VT_SGX_REPORT_SIZE], struct vt_sgx_report *out);

/* ---- PCK certificate: Intel SGX extension (OID 1.2.840.113741.1.13.1) ---- */

#define VT_SGX_EXT_OID "1.2.840.113741.1.13.1"

struct vt_sgx_pck_ext {
    uint8_t ppid[16];
    uint8_t tcb_components[16];
    uint16_t pcesvn;
    uint8_t cpusvn[16];
    uint8_t pceid[2];
    uint8_t fmspc[6];
    int sgx_type; /* 0 Standard, 1 Scalable, 2 ScalableWithIntegrity */
    bool has_platform_instance_id;
    uint8_t platform_instance_id[16];
    bool has_configuration;
    bool dynamic_platform, cached_keys, smt_enabled;
    bool has_dynamic_platform, has_cached_keys, has_smt_enabled;
};

/*
 * Parse the DER value of the SGX extension (a SEQUENCE of (OID, value) pairs). Processor-CA
 * certificates carry 5 entries, Platform-CA certificates 7; other counts, unknown or duplicate
 * OIDs, wrong types or sizes are VT_E_CERT_EXTENSION with the OID and the problem in the detail.
 */
VT_MUST_USE enum vt_err vt_sgx_pck_ext_parse(const uint8_t *der, size_t len,
                                             struct vt_sgx_pck_ext *out, struct vt_diag *d);

/* ---- collateral: TCB info and enclave identity ---- */

struct vt_tcb_level {
    uint8_t sgx_components[16];
    uint16_t pcesvn;
    uint8_t tdx_components[16]; /* TDX TCB info only */
    vt_time tcb_date;
    enum vt_tcb_status status;
    size_t n_advisories;
    char (*advisory_ids)[VT_ADVISORY_ID_MAX]; /* owned */
};

/* A level of an enclave identity or a TDX module identity. */
struct vt_isv_level {
    uint16_t isvsvn;
    vt_time tcb_date;
    enum vt_tcb_status status; /* UpToDate, OutOfDate or Revoked */
    size_t n_advisories;
    char (*advisory_ids)[VT_ADVISORY_ID_MAX]; /* owned */
};

struct vt_tdx_module_identity {
    char id[16]; /* "TDX_01", as written */
    uint8_t mrsigner[48];
    uint8_t attributes[8];
    uint8_t attributes_mask[8];
    size_t n_levels;
    struct vt_isv_level *levels; /* owned; sorted by isvsvn, descending */
};

struct vt_tcb_info {
    int version;     /* 2 or 3 */
    enum vt_tee tee; /* v3: from "id"; v2: VT_TEE_SGX */
    vt_time issue_date;
    vt_time next_update;
    uint8_t fmspc[6];
    uint8_t pceid[2];
    int tcb_type;
    uint32_t tcb_eval_num;
    bool has_tdx_module;
    uint8_t tdx_module_mrsigner[48];
    uint8_t tdx_module_attributes[8];
    uint8_t tdx_module_attributes_mask[8];
    size_t n_module_identities;
    struct vt_tdx_module_identity *module_identities; /* owned */
    size_t n_levels;
    struct vt_tcb_level *levels; /* owned; sorted descending as Intel's QVL orders them */
    const uint8_t *body;         /* the signed inner object's raw bytes, borrowed */
    size_t body_len;
    uint8_t signature[64]; /* raw r||s */
};

/*
 * Parse a PCS TCB info response body {"tcbInfo":{...},"signature":"<128 hex>"}. The raw bytes of
 * the inner object are located exactly (never re-serialised) and parsed; body/body_len point at
 * them inside `json`, which must outlive the struct. Levels are sorted as QVL sorts them; a
 * duplicate level is VT_E_DUPLICATE. Errors: VT_E_BAD_JSON, VT_E_MISSING_FIELD, VT_E_BAD_FIELD,
 * VT_E_UNSUPPORTED_VERSION, VT_E_DUPLICATE, VT_E_TOO_LARGE, with the JSON path in the detail.
 * The signature is not checked here (see vt_dcap_collateral_verify).
 */
VT_MUST_USE enum vt_err vt_tcb_info_parse(const uint8_t *json, size_t len, struct vt_tcb_info *out,
                                          struct vt_diag *d);
void vt_tcb_info_cleanup(struct vt_tcb_info *t);

enum vt_identity_id {
    VT_IDENTITY_QE = 1,
    VT_IDENTITY_QVE,
    VT_IDENTITY_QAE,
    VT_IDENTITY_TD_QE,
};

struct vt_qe_identity {
    enum vt_identity_id id;
    int version; /* 2 */
    vt_time issue_date;
    vt_time next_update;
    uint32_t tcb_eval_num;
    uint8_t miscselect[4];
    uint8_t miscselect_mask[4];
    uint8_t attributes[16];
    uint8_t attributes_mask[16];
    uint8_t mrsigner[32];
    uint16_t isvprodid;
    size_t n_levels;
    struct vt_isv_level *levels; /* owned; sorted by isvsvn, descending */
    const uint8_t *body;         /* signed inner object, borrowed */
    size_t body_len;
    uint8_t signature[64];
};

/* Parse a PCS enclave identity body {"enclaveIdentity":{...},"signature":"..."}; same contract
 * as vt_tcb_info_parse. Only version 2 is accepted. */
VT_MUST_USE enum vt_err vt_qe_identity_parse(const uint8_t *json, size_t len,
                                             struct vt_qe_identity *out, struct vt_diag *d);
void vt_qe_identity_cleanup(struct vt_qe_identity *q);

/*
 * Locate the raw value of top-level member `key` of a JSON object without re-serialising:
 * val and val_len span the value's exact bytes inside json. VT_E_BAD_JSON if json is not one
 * well-formed object, VT_E_MISSING_FIELD if key is absent, VT_E_DUPLICATE if it occurs twice.
 */
VT_MUST_USE enum vt_err vt_json_member_span(const uint8_t *json, size_t len, const char *key,
                                            const uint8_t **val, size_t *val_len,
                                            struct vt_diag *d);

/* ---- collateral set ---- */

/*
 * The collateral for verifying quotes of one platform family (FMSPC, TEE): raw documents held
 * byte-exact, parsed once. Heap; free with vt_dcap_collateral_free (NULL-safe).
 */
struct vt_dcap_collateral {
    /* raw bytes, owned */
    uint8_t *tcb_info_raw;
    size_t tcb_info_len;
    uint8_t *qe_identity_raw;
    size_t qe_identity_len;
    /* parsed */
    struct vt_tcb_info tcb_info;
    struct vt_qe_identity qe_identity;
    struct vt_cert_list tcb_info_chain;    /* signer first, then root */
    struct vt_cert_list qe_identity_chain; /* signer first, then root */
    struct vt_cert_list pck_crl_chain;     /* PCK CA first, then root (optional) */
    struct vt_crl *pck_crl;
    struct vt_crl *root_ca_crl;
};

/*
 * Build a collateral set from the raw documents (all required except pck_crl_chain, which may be
 * NULL/0). Issuer chains may be PEM or URL-encoded PEM; CRLs DER, PEM or hex. The documents are
 * parsed but nothing is verified yet. Errors name the document ("tcb_info", "pck_crl", ...).
 */
struct vt_dcap_collateral_input {
    const uint8_t *tcb_info;
    size_t tcb_info_len;
    const uint8_t *qe_identity;
    size_t qe_identity_len;
    const uint8_t *tcb_info_chain;
    size_t tcb_info_chain_len;
    const uint8_t *qe_identity_chain;
    size_t qe_identity_chain_len;
    const uint8_t *pck_crl;
    size_t pck_crl_len;
    const uint8_t *pck_crl_chain;
    size_t pck_crl_chain_len;
    const uint8_t *root_ca_crl;
    size_t root_ca_crl_len;
};

VT_MUST_USE enum vt_err vt_dcap_collateral_new(const struct vt_dcap_collateral_input *in,
                                               struct vt_dcap_collateral **out, struct vt_diag *d);
/* Load from a directory in the fixtures' layout (tcb_info.json, qe_identity.json,
 * tcb_info_issuer_chain.pem, qe_identity_issuer_chain.pem, pck_crl.der, pck_crl_issuer_chain.pem
 * (optional), root_ca_crl.der). VT_E_IO / VT_E_COLLATERAL_MISSING name the file. */
VT_MUST_USE enum vt_err
vt_dcap_collateral_load_dir(const char *dir, struct vt_dcap_collateral **out, struct vt_diag *d);
void vt_dcap_collateral_free(struct vt_dcap_collateral *c);

/* ---- verification ---- */

/* now: every certificate, CRL and document must satisfy lower bound <= now < upper bound (the
 * upper bound is expired at its own second, as in Intel's QvE: VT_EDGE_EXPIRES_AT); time_mode
 * EXPIRY_ONLY skips the lower bounds. */
struct vt_dcap_opts {
    vt_time now;
    enum vt_time_mode time_mode;
};

/*
 * A DCAP verifier: trust anchors plus one collateral set, whose signatures and chains are
 * verified once at creation (time-independent checks); time checks run on every verification.
 * It caches verified PCK chains (keyed by the SHA-256 of the certification data), so repeated
 * quotes from one platform cost two P-256 verifications. Thread-safe: the cache is under a lock
 * and an entry in use is pinned (vt_verify, include/veritee/verifier.h, shares one per platform).
 * Heap; vt_dcap_verifier_free is NULL-safe. The verifier keeps references to anchors' certs and
 * takes no ownership of `coll`, which must outlive it.
 */
struct vt_dcap_verifier;

/* anchors: the trusted roots (NULL: the embedded Intel SGX Root CA only). Errors from collateral
 * verification (VT_E_COLLATERAL_SIGNATURE, VT_E_CRL_*, chain errors) name the document. */
VT_MUST_USE enum vt_err vt_dcap_verifier_new(const struct vt_cert_list *anchors,
                                             const struct vt_dcap_collateral *coll,
                                             struct vt_dcap_verifier **out, struct vt_diag *d);
void vt_dcap_verifier_free(struct vt_dcap_verifier *v);

/*
 * Verify a quote at opts->now and fill `claims`. VT_OK means every check passed; the TCB verdict
 * (which may be OutOfDate or Revoked) is in claims->status. Any failed check returns its error
 * with the detail in d, and claims must not be used.
 */
VT_MUST_USE enum vt_err vt_dcap_verify(struct vt_dcap_verifier *v, const uint8_t *quote, size_t len,
                                       const struct vt_dcap_opts *opts, struct vt_claims *claims,
                                       struct vt_diag *d);

/*
 * Verify one signed PCS document on its own: the issuer chain (signing certificate, root) ends at
 * an anchor and names the TCB Signing certificate, the signer is not revoked by root_crl (skipped
 * when NULL), and sig (raw r||s) verifies over body. Used by the collateral cache to check every
 * download before storing it. Errors as for vt_dcap_verifier_new, naming doc and chain_name.
 */
VT_MUST_USE enum vt_err vt_dcap_signed_doc_verify(const struct vt_cert_list *chain,
                                                  const struct vt_cert_list *anchors,
                                                  const struct vt_crl *root_crl,
                                                  const uint8_t *body, size_t body_len,
                                                  const uint8_t sig[64], const char *doc,
                                                  const char *chain_name, struct vt_diag *d);

/*
 * The TCB status of a platform under a TCB info, as a quote from it would get (level selection,
 * TDX module identity and convergence; not the QE identity): SGX components and PCESVN from the
 * PCK certificate, and for TDX the quote's TEE_TCB_SVN (NULL for SGX, or when unknown: then only
 * the SGX components are judged). VT_E_TCB_NOT_SUPPORTED when no level matches. adv (NULL: not
 * wanted): the advisory IDs of the matched level and module level (not the QE's). Used by
 * `veritee cache impact` and the cache's platforms (GET /admin/v1/platforms).
 */
VT_MUST_USE enum vt_err vt_dcap_platform_status(const struct vt_tcb_info *ti,
                                                const uint8_t sgx_components[16], uint16_t pcesvn,
                                                const uint8_t *tee_tcb_svn, enum vt_tcb_status *out,
                                                struct vt_advisories *adv, struct vt_diag *d);

/* The embedded genuine Intel SGX Root CA (DER, borrowed static data). */
const uint8_t *vt_intel_sgx_root_der(size_t *len);
/* Append the embedded Intel SGX Root CA to l. */
VT_MUST_USE enum vt_err vt_intel_sgx_root_add(struct vt_cert_list *l, struct vt_diag *d);

#endif
