/*
 * Evidence for the broker's tests: one synthetic PKI per TEE (the simulators of the verifier
 * issues), written to a directory as trust anchors and collateral, and fresh evidence of each TEE
 * bound to any nonce and runtime key, with variants for the deny paths.
 */
#ifndef VT_TEST_BROKER_SIM_H
#define VT_TEST_BROKER_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* Variants of the evidence. */
enum {
    VT_BSIM_DEBUG = 1,       /* a debug enclave / TD / guest / enclave image */
    VT_BSIM_OTHER_CODE = 2,  /* a different measurement (MRENCLAVE, MRTD, MEASUREMENT, PCR0) */
    VT_BSIM_CORRUPT = 4,     /* one signed byte flipped after signing: the verifier rejects it */
    VT_BSIM_OUT_OF_DATE = 8, /* SGX/TDX: a platform whose TCB level is OutOfDate */
};

struct vt_bsim;

/*
 * Build the PKIs valid around now and write, under dir: anchors/{sgx,tdx,sgx-ood,snp,nitro}.pem
 * (roots to trust), collateral/sgx/ and collateral/tdx/ (each a collateral set in the verify
 * layout), collateral/cert_chain.pem (the synthetic ASK + ARK) and collateral/vcek.der (the SNP
 * VCEK). NULL on failure.
 */
struct vt_bsim *vt_bsim_new(const char *dir, vt_time now);
void vt_bsim_free(struct vt_bsim *s);
/* The anchor files, NULL-terminated (for vt_broker_config.trust_anchors / --trust-anchor). */
const char *const *vt_bsim_anchors(const struct vt_bsim *s);
const char *vt_bsim_collateral_dir(const struct vt_bsim *s);

/*
 * Evidence of tee bound to nonce (32 bytes) and the runtime key: SGX/TDX/SNP report_data =
 * SHA-512(nonce || thumbprint input); Nitro nonce = nonce, public_key = spki. For SNP *vek gets
 * the VCEK DER (malloc'd) to send as "vcek". Returns malloc'd evidence or NULL.
 */
uint8_t *vt_bsim_evidence(struct vt_bsim *s, enum vt_tee tee, const uint8_t nonce[32],
                          const uint8_t *tp_input, size_t tp_len, const uint8_t *spki,
                          size_t spki_len, unsigned variant, size_t *len, uint8_t **vek,
                          size_t *vek_len);

/*
 * SGX, TDX or SEV-SNP evidence whose report_data is exactly report_data[64] (another protocol's
 * binding, e.g. the KBS protocol's hash of its runtime data padded with zeros). The variants as
 * above (SNP: none). Returns malloc'd evidence or NULL (also for Nitro).
 */
uint8_t *vt_bsim_evidence_rd(struct vt_bsim *s, enum vt_tee tee, const uint8_t report_data[64],
                             unsigned variant, size_t *len);

/* The same with the TEE's init-data field set (TDX MRCONFIGID, SNP HOST_DATA, SGX CONFIGID):
 * init[init_len] (at most the field's size), zeros after. SNP takes the variants too. */
uint8_t *vt_bsim_evidence_rd_init(struct vt_bsim *s, enum vt_tee tee, const uint8_t report_data[64],
                                  const uint8_t *init, size_t init_len, unsigned variant,
                                  size_t *len);

/* The VCEK of the SEV-SNP evidence, and the ASK and ARK above it (DER, malloc'd): the guest's
 * certificate table. which: 0 VCEK, 1 ASK, 2 ARK. */
uint8_t *vt_bsim_snp_cert(const struct vt_bsim *s, int which, size_t *len);

/* The measurement claims of the default evidence, lowercase hex: "sgx.mrenclave", "tdx.mrtd",
 * "snp.measurement", "nitro.pcr0". */
const char *vt_bsim_measurement(const struct vt_bsim *s, enum vt_tee tee);

#endif
