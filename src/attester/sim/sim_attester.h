/*
 * The simulator backends of the attester ("sim:sgx", "sim:tdx", "sim:snp", "sim:nitro"), in the
 * static library veritee_sim (never installed; include/veritee/attester.h).
 */
#ifndef VT_ATTESTER_SIM_SIM_ATTESTER_H
#define VT_ATTESTER_SIM_SIM_ATTESTER_H

#include <veritee/attester.h>

/* Make the "sim:*" backends known to vt_attester_open. Idempotent; call once, before opening. */
void vt_attester_sim_register(void);

/*
 * Export what a verifier needs to trust a sim backend's evidence, under dir (created if missing):
 * anchors/<tee>.pem (the synthetic root: a --trust-anchor), and for SGX/TDX collateral/<tee>/ in
 * the verify layout (tcb_info.json, qe_identity.json, their issuer chains, pck_crl.der,
 * pck_crl_issuer_chain.pem, root_ca_crl.der, root.pem), for SEV-SNP collateral/snp/cert_chain.pem
 * (ASK then ARK). <tee> is vt_tee_name(). VT_E_STATE for a non-sim attester; VT_E_IO naming the
 * file.
 */
VT_MUST_USE enum vt_err vt_attester_sim_export(struct vt_attester *a, const char *dir,
                                               struct vt_diag *d);

#endif
