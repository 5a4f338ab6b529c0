/*
 * The real evidence the verifier tests run through vt_verify: one of each kind, with the time
 * it verifies at and the collateral it needs (paths relative to ../shared/fixtures).
 */
#ifndef VT_TEST_VERIFIER_CASES_H
#define VT_TEST_VERIFIER_CASES_H

#include "internal.h"

struct vcase {
    const char *evidence;   /* relative to the fixtures */
    const char *collateral; /* DCAP: the fixture set's directory; NULL otherwise */
    const char *vek;        /* SEV-SNP: the VCEK/VLEK file; NULL otherwise */
    vt_time at;
    enum vt_evidence_kind kind;
    enum vt_tee tee;
};

static const struct vcase vcases[] = {
    {"dcap/phala-dcap-qvl/sgx-v3-fmspc00a067110000/quote.bin",
     "dcap/phala-dcap-qvl/sgx-v3-fmspc00a067110000", NULL, 1752919277, VT_EVIDENCE_DCAP_QUOTE,
     VT_TEE_SGX},
    {"dcap/automata-dcap-attestation/sgx-v3-fmspc00606a000000/quote.bin",
     "dcap/automata-dcap-attestation/sgx-v3-fmspc00606a000000", NULL, 1755236700,
     VT_EVIDENCE_DCAP_QUOTE, VT_TEE_SGX},
    {"dcap/phala-dcap-qvl/tdx-v4-fmspcb0c06f000000/quote.bin",
     "dcap/phala-dcap-qvl/tdx-v4-fmspcb0c06f000000", NULL, 1752919234, VT_EVIDENCE_DCAP_QUOTE,
     VT_TEE_TDX},
    {"dcap/automata-dcap-attestation/tdx-v5-fmspc90c06f000000-alibaba/quote.bin",
     "dcap/automata-dcap-attestation/tdx-v5-fmspc90c06f000000-alibaba", NULL, 1749945600,
     VT_EVIDENCE_DCAP_QUOTE, VT_TEE_TDX},
    {"nitro/base-nitro-validator/attestation-2024-11-30.cose", NULL, NULL, 1732983768,
     VT_EVIDENCE_NITRO_DOC, VT_TEE_NITRO},
    {"nitro/evervault/test-data/beta/valid-attestation-doc-bytes", NULL, NULL, 1665651482,
     VT_EVIDENCE_NITRO_DOC, VT_TEE_NITRO},
    {"snp/trustee/test-report.bin", NULL, "snp/trustee/test-vcek.der", 1748736000,
     VT_EVIDENCE_SNP_REPORT, VT_TEE_SEV_SNP},
    {"snp/trustee/derived/e2e-genoa-report.bin", NULL, "snp/trustee/derived/e2e-genoa-vcek.der",
     1748736000, VT_EVIDENCE_SNP_REPORT, VT_TEE_SEV_SNP},
    {"snp/trustee-azure/hcl-report.bin", NULL, "snp/trustee-azure/vcek.pem", 1748736000,
     VT_EVIDENCE_AZURE_HCL, VT_TEE_SEV_SNP},
};
#define N_VCASES (sizeof(vcases) / sizeof(vcases[0]))

#endif
