/*
 * The claims model: what every verifier produces. Names and JSON spellings are documented in
 * docs/claims.md and are stable: policies and tokens depend on them.
 */
#ifndef VERITEE_CLAIMS_H
#define VERITEE_CLAIMS_H

#include <veritee/common.h>
#include <veritee/error.h>
#include <veritee/limits.h>
#include <veritee/time.h>

/* TCB statuses, with Intel's names. VT_TCB_NONE means "not applicable" (absent from JSON). */
enum vt_tcb_status {
    VT_TCB_NONE = 0,
    VT_TCB_UP_TO_DATE,
    VT_TCB_SW_HARDENING_NEEDED,
    VT_TCB_CONFIGURATION_NEEDED,
    VT_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
    VT_TCB_OUT_OF_DATE,
    VT_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
    VT_TCB_REVOKED,
    VT_TCB_TD_RELAUNCH_ADVISED,
    VT_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
};

/* "UpToDate", "SWHardeningNeeded", ..., "TDRelaunchAdvised",
 * "TDRelaunchAdvisedConfigurationNeeded"; "None" for VT_TCB_NONE. */
VT_EXPORT const char *vt_tcb_status_name(enum vt_tcb_status s);
/* Parse Intel's spelling of a TCB status (exact, case-sensitive). VT_E_BAD_FIELD otherwise. */
VT_EXPORT VT_MUST_USE enum vt_err vt_tcb_status_parse(const char *s, size_t len,
                                                      enum vt_tcb_status *out);

struct vt_advisories {
    size_t n;
    char ids[VT_MAX_ADVISORIES][VT_ADVISORY_ID_MAX];
};

/* One collateral document that a verification used. */
#define VT_COLLATERAL_DOCS_MAX 12
struct vt_collateral_doc {
    char name[24]; /* "tcb_info", "qe_identity", "pck_crl", "root_ca_crl", ... */
    uint8_t sha256[VT_SHA256_LEN];
    vt_time issue_date;   /* issueDate / thisUpdate / notBefore */
    vt_time next_update;  /* nextUpdate / notAfter */
    int64_t tcb_eval_num; /* tcbEvaluationDataNumber, -1 if not applicable */
};

struct vt_collateral_claims {
    size_t n;
    struct vt_collateral_doc docs[VT_COLLATERAL_DOCS_MAX];
    vt_time earliest_expiry; /* min over every certificate notAfter and document nextUpdate */
    int64_t tcb_eval_num;    /* min over the documents that carry one; -1 if none */
};

struct vt_sgx_claims {
    uint8_t mrenclave[32];
    uint8_t mrsigner[32];
    uint16_t isv_prod_id;
    uint16_t isv_svn;
    uint16_t config_svn;
    uint8_t cpusvn[16];
    uint32_t miscselect;
    uint8_t attributes[16];
    uint8_t config_id[64];
    uint8_t isv_ext_prod_id[16];
    uint8_t isv_family_id[16];
};

struct vt_tdx_claims {
    uint8_t tee_tcb_svn[16];
    bool has_tee_tcb_svn2; /* TD 1.5 body */
    uint8_t tee_tcb_svn2[16];
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
    uint8_t mrservicetd[48]; /* TD 1.5 only */
};

/* Platform and quote facts from DCAP verification. */
struct vt_dcap_claims {
    uint16_t quote_version;
    uint16_t body_type; /* 1 SGX, 2 TD 1.0, 3 TD 1.5 */
    uint8_t fmspc[6];
    uint8_t pceid[2];
    char pck_ca[12]; /* "processor" or "platform" */
    uint8_t sgx_tcb_components[16];
    uint16_t pcesvn;
    uint8_t cpusvn[16];
    uint8_t ppid[16];
    int sgx_type; /* 0 Standard, 1 Scalable, 2 ScalableWithIntegrity */
    bool has_platform_instance_id;
    uint8_t platform_instance_id[16];
    bool has_configuration;
    bool dynamic_platform, cached_keys, smt_enabled;
    vt_time tcb_date;    /* tcbDate of the matched TCB level */
    vt_time qe_tcb_date; /* tcbDate of the matched QE identity level */
    uint16_t qe_isv_svn;
    char tdx_module_identity[16]; /* "TDX_01" when a versioned module matched, else "" */
    uint8_t qe_user_data[20];
};

/* Nitro Enclaves facts. */
#define VT_CLAIMS_MAX_PCRS 32
struct vt_nitro_claims {
    char module_id[257]; /* NUL-terminated */
    uint64_t timestamp_ms;
    uint32_t pcr_mask; /* bit i set: PCR i present */
    uint8_t pcr_len[VT_CLAIMS_MAX_PCRS];
    uint8_t pcrs[VT_CLAIMS_MAX_PCRS][64];
};

/* SEV-SNP facts. TCBs are decoded per product (docs/claims.md). */
struct vt_snp_tcb_claim {
    uint64_t raw;
    uint8_t fmc, bootloader, tee, snp, microcode;
};

#define VT_SNP_RUNTIME_KEYS_MAX 4
#define VT_SNP_JWK_MAX 1200
/* A public key (JWK) from an Azure HCL report's runtime data, e.g. kid "HCLAkPub". */
struct vt_snp_runtime_key {
    char kid[64];
    char jwk[VT_SNP_JWK_MAX]; /* the JWK as compact JSON with sorted member names */
};

struct vt_snp_claims {
    uint32_t version;
    char product[16];      /* "Milan", "Genoa", "Turin" */
    char product_name[32]; /* the VCEK/VLEK productName, e.g. "Milan-B0" */
    uint8_t measurement[48];
    uint8_t host_data[32];
    uint8_t chip_id[64];
    bool chip_id_masked; /* CHIP_ID is all zero (MASK_CHIP_ID, or a VLEK-signed report) */
    uint32_t vmpl;
    uint32_t guest_svn;
    uint64_t policy;
    uint64_t platform_info;
    uint32_t key_info;
    uint8_t family_id[16];
    uint8_t image_id[16];
    uint8_t id_key_digest[48];
    uint8_t author_key_digest[48];
    uint8_t report_id[32];
    uint8_t report_id_ma[32];
    int signing_key;  /* 0 VCEK, 1 VLEK */
    char csp_id[128]; /* VLEK: the cloud provider's id, "" otherwise */
    uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step; /* version >= 3 */
    uint8_t current_build, current_minor, current_major;
    uint8_t committed_build, committed_minor, committed_major;
    uint64_t launch_mit_vector, current_mit_vector; /* version >= 5 */
    struct vt_snp_tcb_claim current_tcb, reported_tcb, committed_tcb, launch_tcb;
    /* Azure HCL report: the runtime data bound by REPORT_DATA. */
    bool has_runtime_data;
    struct vt_snp_runtime_key runtime_keys[VT_SNP_RUNTIME_KEYS_MAX];
    size_t n_runtime_keys;
    char vm_configuration[512]; /* the "vm-configuration" object as compact JSON, "" if absent */
};

/* A variable-length binding claim (user_data, nonce, public_key). */
#define VT_CLAIMS_MAX_BINDING 1024
struct vt_binding_claim {
    bool present;
    size_t len;
    uint8_t data[VT_CLAIMS_MAX_BINDING];
};

struct vt_claims {
    enum vt_tee tee;
    vt_time verified_at;
    enum vt_tcb_status status;          /* converged status */
    enum vt_tcb_status platform_status; /* TCB level status before convergence */
    enum vt_tcb_status qe_status;
    enum vt_tcb_status module_status; /* TDX module identity status */
    struct vt_advisories advisories;
    bool debug;
    uint8_t report_data[64];
    struct vt_sgx_claims sgx; /* tee == VT_TEE_SGX */
    struct vt_tdx_claims tdx; /* tee == VT_TEE_TDX */
    struct vt_dcap_claims dcap;
    struct vt_nitro_claims nitro; /* tee == VT_TEE_NITRO */
    struct vt_snp_claims snp;     /* tee == VT_TEE_SEV_SNP */
    struct vt_binding_claim user_data;
    struct vt_binding_claim nonce;
    struct vt_binding_claim public_key;
    struct vt_collateral_claims collateral;
};

VT_EXPORT void vt_claims_init(struct vt_claims *c);
/*
 * Serialise the claims as a JSON object (flat dotted names, see docs/claims.md). Returns a
 * malloc'd NUL-terminated string the caller frees, or NULL on allocation failure.
 */
VT_EXPORT char *vt_claims_to_json(const struct vt_claims *c);

#endif
