/*
 * AMD SEV-SNP attestation reports (versions 2, 3, 5; 4 treated as 3), their VCEK/VLEK
 * certificates and AMD chains (ARK -> ASK/ASVK -> VCEK/VLEK), and Azure confidential VM HCL
 * reports. Reference: AMD SEV-SNP ABI specification (report layout, TCB_VERSION), AMD VCEK
 * certificate specification; spec/nitro_snp.md part B; docs/verify.md.
 */
#ifndef VT_TEE_SNP_SNP_H
#define VT_TEE_SNP_SNP_H

#include <veritee/claims.h>
#include <veritee/common.h>
#include <veritee/error.h>
#include <veritee/time.h>

#include "crypto/crypto.h"

#define VT_SNP_REPORT_SIZE 0x4a0
#define VT_SNP_SIGNED_SIZE 0x2a0

enum vt_snp_product {
    VT_SNP_UNKNOWN = 0,
    VT_SNP_MILAN,
    VT_SNP_GENOA,
    VT_SNP_TURIN,
};

/* "Milan", "Genoa", "Turin"; "unknown". */
const char *vt_snp_product_name(enum vt_snp_product p);

/* A decoded TCB_VERSION (its byte layout depends on the product: Turin has FMC first). */
struct vt_snp_tcb {
    uint64_t raw;
    uint8_t fmc; /* Turin and later */
    uint8_t bootloader;
    uint8_t tee;
    uint8_t snp;
    uint8_t microcode;
};

/* SIGNING_KEY of KEY_INFO. */
#define VT_SNP_KEY_VCEK 0
#define VT_SNP_KEY_VLEK 1
#define VT_SNP_KEY_NONE 7

/* A parsed report; fields copied, `raw` borrows the 1184 input bytes. */
struct vt_snp_report {
    uint32_t version;
    uint32_t guest_svn;
    uint64_t policy;
    uint8_t family_id[16];
    uint8_t image_id[16];
    uint32_t vmpl;
    uint32_t sig_algo;
    uint64_t current_tcb_raw;
    uint64_t platform_info;
    uint32_t key_info; /* bit0 AUTHOR_KEY_EN, bit1 MASK_CHIP_KEY, bits 4:2 SIGNING_KEY */
    uint8_t report_data[64];
    uint8_t measurement[48];
    uint8_t host_data[32];
    uint8_t id_key_digest[48];
    uint8_t author_key_digest[48];
    uint8_t report_id[32];
    uint8_t report_id_ma[32];
    uint64_t reported_tcb_raw;
    uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step; /* version >= 3 */
    uint8_t chip_id[64];
    uint64_t committed_tcb_raw;
    uint8_t current_build, current_minor, current_major;
    uint8_t committed_build, committed_minor, committed_major;
    uint64_t launch_tcb_raw;
    uint64_t launch_mit_vector, current_mit_vector; /* version >= 5 */
    uint8_t signature_r[48]; /* big-endian, converted from the little-endian field */
    uint8_t signature_s[48];
    const uint8_t *raw;
};

/*
 * Parse exactly VT_SNP_REPORT_SIZE bytes: version 2..5 (else VT_E_UNSUPPORTED_VERSION),
 * SIGNATURE_ALGO 1 (ECDSA P-384 with SHA-384, else VT_E_UNSUPPORTED_ALGORITHM), reserved
 * fields that must be zero are zero, the upper 24 bytes of the 72-byte r and s fields are zero
 * (VT_E_BAD_FIELD). VT_E_TRUNCATED / VT_E_TRAILING_DATA for other sizes.
 */
VT_MUST_USE enum vt_err vt_snp_report_parse(const uint8_t *p, size_t n, struct vt_snp_report *r,
                                            struct vt_diag *d);

/* The product of a report: from CPUID family/model (v3+), else VT_SNP_UNKNOWN. */
enum vt_snp_product vt_snp_report_product(const struct vt_snp_report *r);
/* Decode a TCB_VERSION for a product (Turin: FMC, BL, TEE, SNP, -, -, -, UCODE; earlier: BL, TEE,
 * -, -, -, -, SNP, UCODE). */
void vt_snp_tcb_decode(uint64_t raw, enum vt_snp_product p, struct vt_snp_tcb *out);

/* ---- VCEK / VLEK certificate extensions (1.3.6.1.4.1.3704.1.*) ---- */

struct vt_snp_vek_ext {
    bool has_struct_version;
    int64_t struct_version;
    char product_name[32]; /* e.g. "Milan-B0", "Genoa", "Turin" */
    bool has_bl, has_tee, has_snp, has_ucode, has_fmc;
    uint8_t bl_spl, tee_spl, snp_spl, ucode_spl, fmc_spl;
    size_t hwid_len; /* 0 (VLEK), 8 (Turin) or 64 */
    uint8_t hwid[64];
    char csp_id[128]; /* VLEK only, "" if absent */
};

/* Parse the AMD extensions of a VCEK or VLEK certificate. hwID is accepted raw (real
 * certificates) or DER OCTET STRING wrapped. VT_E_CERT_EXTENSION with the OID on a bad one. */
VT_MUST_USE enum vt_err vt_snp_vek_ext_parse(const struct vt_cert *c, struct vt_snp_vek_ext *out,
                                             struct vt_diag *d);

/* ---- Azure confidential VM HCL report ---- */

/*
 * An HCL report: 32-byte header ("HCLA", version 1 or 2, report size, request type 2), the SNP
 * report at 0x20, a runtime-data header at 0x4C0 (data size, version, report type 2 = SNP, hash
 * type 1 = SHA-256, var-data size) and the JSON runtime data at 0x4D4. Views borrow the input.
 */
struct vt_hcl_report {
    uint32_t version;
    const uint8_t *snp_report;   /* VT_SNP_REPORT_SIZE bytes */
    const uint8_t *runtime_data; /* the JSON var data */
    size_t runtime_data_len;
    uint32_t hash_type;
};

VT_MUST_USE enum vt_err vt_hcl_report_parse(const uint8_t *p, size_t n, struct vt_hcl_report *h,
                                            struct vt_diag *d);

/* ---- verification ---- */

struct vt_snp_opts {
    vt_time now;
    enum vt_time_mode time_mode;
    /* The VCEK or VLEK (DER or PEM; a PEM may also carry the ASK/ASVK and ARK after it, as Azure's
     * THIM serves them) and optionally the ASK/ASVK + ARK chain (PEM, KDS cert_chain order). The
     * chain is matched against the embedded ARKs; a supplied ARK is never trusted as given. */
    const uint8_t *vek;
    size_t vek_len;
    const uint8_t *chain;
    size_t chain_len;
    /* Optional AMD CRL (KDS /crl, DER or PEM) checked for revocation of the ASK/ASVK. */
    const uint8_t *crl;
    size_t crl_len;
};

/* An SEV-SNP verifier: anchors plus a cache of verified VEK chains (by the bytes given), under a
 * lock: thread-safe. */
struct vt_snp_verifier;

/* Append the embedded genuine AMD ARKs (Milan, Genoa, Turin) to l. */
VT_MUST_USE enum vt_err vt_amd_arks_add(struct vt_cert_list *l, struct vt_diag *d);

/* anchors: trusted ARKs (NULL: the embedded genuine ARKs of Milan, Genoa and Turin, plus their
 * ASKs and ASVKs as known intermediates). */
VT_MUST_USE enum vt_err vt_snp_verifier_new(const struct vt_cert_list *anchors,
                                            struct vt_snp_verifier **out, struct vt_diag *d);
void vt_snp_verifier_free(struct vt_snp_verifier *v);

/*
 * Verify an SNP report, or an Azure HCL report (detected), at opts->now: the chain ARK -> ASK
 * (VCEK) or ASVK (VLEK) chosen by KEY_INFO.SIGNING_KEY, the VEK's TCB extensions equal to
 * REPORTED_TCB, hwID equal to CHIP_ID for a VCEK (unless the report masks it), the report's
 * P-384 signature over bytes 0x000..0x29F; for an HCL report also SHA-256(runtime data) ==
 * REPORT_DATA[0..32]. Fills claims (tee sev-snp, status UpToDate, snp.* fields, debug = policy
 * bit 19).
 */
VT_MUST_USE enum vt_err vt_snp_verify(struct vt_snp_verifier *v, const uint8_t *report, size_t len,
                                      const struct vt_snp_opts *opts, struct vt_claims *claims,
                                      struct vt_diag *d);

#endif
