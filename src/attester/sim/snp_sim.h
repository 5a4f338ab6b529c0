/*
 * A synthetic AMD SEV-SNP world for tests: an AMD-shaped PKI per product (ARK, ASK, ASVK: RSA
 * with RSASSA-PSS SHA-384 / salt 48; VCEK and VLEK: EC P-384 with the AMD extensions), reports
 * signed by the VCEK or VLEK, Azure HCL envelopes and AMD-style CRLs, with knobs to reach every
 * reject path of the verifier that real reports cannot.
 *
 * Formats: spec/nitro_snp.md B1-B5. Names follow AMD's (ARK-<gen>, SEV-<gen>, SEV-VLEK-<gen>,
 * SEV-VCEK, SEV-VLEK) under O=veritee test; nothing is derived from real fixture bytes. RSA keys
 * are 2048 bits (AMD's are 4096) and generated once per process.
 * It uses OpenSSL directly (veritee_sim). Every function that can fail returns VT_OK or an error
 * with the failed check in d (sim_assert.h: check "sim.snp.<function>", the failed OpenSSL call,
 * the values and OpenSSL's error queue; VT_E_BAD_KEY for a signing key of the wrong type);
 * outputs are untouched on failure and nothing is leaked. Outputs belong to the caller.
 */
#ifndef VT_TEST_SNP_SIM_H
#define VT_TEST_SNP_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tee/snp/snp.h"

/* A product's synthetic CAs, valid over [nb, na]. */
struct vt_ssim_pki {
    enum vt_snp_product product;
    EVP_PKEY *ark_key, *ask_key, *asvk_key; /* shared, not freed */
    X509 *ark, *ask, *asvk;
};

/* On failure p is left zeroed (nothing to clean up). */
VT_MUST_USE enum vt_err vt_ssim_pki_init(struct vt_ssim_pki *p, enum vt_snp_product product,
                                         int64_t nb, int64_t na, struct vt_diag *d);
void vt_ssim_pki_cleanup(struct vt_ssim_pki *p);
/* Free the process-wide RSA keys (a group teardown calls it). */
void vt_ssim_free_keys(void);

/* A VCEK or VLEK. Zero-initialise, then vt_ssim_vek_defaults, then change what a test needs. */
struct vt_ssim_vek_opts {
    bool vlek;
    const char *cn;               /* default SEV-VCEK / SEV-VLEK */
    const char *product_name;     /* default Milan-B0, Genoa, Turin */
    int struct_version;           /* default 0, Turin 1 */
    int bl, tee, snp, ucode, fmc; /* SPLs; < 0 omits the extension */
    uint8_t hwid[64];
    size_t hwid_len;    /* default 64 (VCEK), 8 (Turin VCEK), 0 (VLEK: omitted) */
    const char *csp_id; /* VLEK: default "CN=cc-test.example" */
    int64_t nb, na;
    long serial;      /* default 0, as AMD's */
    X509 *issuer;     /* default the ASK (VCEK) or ASVK (VLEK) */
    EVP_PKEY *signer; /* default the issuer's key */
    int salt;         /* PSS salt, default 48 */
};

void vt_ssim_vek_defaults(const struct vt_ssim_pki *p, struct vt_ssim_vek_opts *o, bool vlek,
                          int64_t nb, int64_t na);
/* Build the VEK into *out; *key gets its new P-384 key pair (caller frees both). */
VT_MUST_USE enum vt_err vt_ssim_vek(const struct vt_ssim_pki *p, const struct vt_ssim_vek_opts *o,
                                    X509 **out, EVP_PKEY **key, struct vt_diag *d);

/* The TCB_VERSION encoding of a product. */
uint64_t vt_ssim_tcb(enum vt_snp_product p, int fmc, int bl, int tee, int snp, int ucode);

/* A report's fields (the rest are fixed filler). vt_ssim_report_defaults fills them to match a
 * VEK built from `o`. */
struct vt_ssim_report {
    uint32_t version;
    uint32_t guest_svn; /* default 1 */
    uint64_t policy;
    uint32_t vmpl;
    uint32_t key_info;
    uint64_t current_tcb, reported_tcb;
    uint8_t report_data[64];
    uint8_t measurement[48];
    uint8_t host_data[32]; /* default zero */
    uint8_t chip_id[64];
    uint8_t cpuid[3];
};

void vt_ssim_report_defaults(const struct vt_ssim_pki *p, const struct vt_ssim_vek_opts *o,
                             struct vt_ssim_report *r);
/*
 * Serialise and sign with key (ECDSA P-384 / SHA-384 over 0x000-0x29F, r and s little-endian).
 * VT_E_BAD_KEY (check sim.snp.report_sign) when key is not an EC P-384 key.
 */
VT_MUST_USE enum vt_err vt_ssim_report_sign(const struct vt_ssim_report *r, EVP_PKEY *key,
                                            uint8_t out[VT_SNP_REPORT_SIZE], struct vt_diag *d);
/*
 * An Azure HCL report (version 2, padded to 2600 bytes) around a report whose REPORT_DATA is
 * SHA-256(json) || zeros, signed with key: the malloc'd bytes in *out, *len.
 */
VT_MUST_USE enum vt_err vt_ssim_hcl(struct vt_ssim_report *r, EVP_PKEY *key, const char *json,
                                    uint8_t **out, size_t *len, struct vt_diag *d);

/* DER / PEM conversions (malloc'd). */
VT_MUST_USE enum vt_err vt_ssim_der(X509 *x, uint8_t **out, size_t *len, struct vt_diag *d);
/* PEM of the certificates in order (e.g. ASK then ARK: KDS cert_chain), NUL-terminated. */
VT_MUST_USE enum vt_err vt_ssim_pem(X509 *const *certs, size_t n, char **out, size_t *len,
                                    struct vt_diag *d);
/* An AMD-style CRL signed by the ARK listing serials, DER (malloc'd). */
VT_MUST_USE enum vt_err vt_ssim_crl(const struct vt_ssim_pki *p, EVP_PKEY *signer,
                                    const long *serials, size_t n, int64_t this_update,
                                    int64_t next_update, uint8_t **out, size_t *len,
                                    struct vt_diag *d);

#endif
