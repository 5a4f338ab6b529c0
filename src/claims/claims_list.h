/*
 * THE claims registry: every claim vt_claims_to_json can emit, once. Everything else is generated
 * from this list (src/claims/registry.c): the claim ids, the JSON writer (names, order, presence,
 * encoding), the policy language's claim table (names, types, hex lengths, enum values) and the
 * typed values policies evaluate, and the tables of docs/claims.md (`veritee claims --markdown`;
 * the CTest test claims_doc fails when the file differs).
 *
 * X(id, section, name, type, lengths, values, when, get, doc)
 *   id       VT_CLAIM_<id>
 *   section  COMMON, NITRO, SNP, SGX, TDX, DCAP, COLLATERAL: the docs table it is listed in
 *   name     the JSON name; a name ending in '.' is a prefix (name + any non-empty suffix)
 *   type     STRING, ENUM, HEX, INT, BOOL, TIME, U64 ("0x..." of a 64-bit number), ARRAY,
 *            OBJECT, ANY
 *   lengths  HEX: the allowed byte lengths, e.g. (32) or (32, 48, 64); (0): any length
 *   values   ENUM: the function listing its values; NULL otherwise
 *   when     when the claim is present (an expression of c, the struct vt_claims)
 *   get      how its value is read from c: G_STR, G_BYTES (an array), G_BYTES_N (pointer,
 *            length), G_INT, G_BOOL, G_U64, G_TIME, G_FN (a function filling v), G_DYN (a prefix
 *            claim: a function of the full name)
 *   doc      its meaning in docs/claims.md; "" continues the row above (same meaning)
 *
 * Order is the JSON order: the writer walks the list (sections NITRO and SNP, SGX and TDX are
 * exclusive by `when`); names under "collateral." are members of the "collateral" object. Claim
 * names are never renamed (policies and tokens depend on them); new ones may be added.
 */
#ifndef VERITEE_CLAIMS_LIST_H
#define VERITEE_CLAIMS_LIST_H

/* clang-format off */
#define VT_CLAIMS_IS_DCAP(c) ((c)->tee == VT_TEE_SGX || (c)->tee == VT_TEE_TDX)
/* The SNP policy and platform info bits, and a decoded TCB. */
#define VT_CLAIMS_SNP_POLICY_BIT(X, id, name, bit, doc)                                             \
    X(id, SNP, name, BOOL, (0), NULL, c->tee == VT_TEE_SEV_SNP,                                     \
      G_BOOL((c->snp.policy >> (bit)) & 1), doc)
#define VT_CLAIMS_SNP_PINFO_BIT(X, id, name, bit, doc)                                              \
    X(id, SNP, name, BOOL, (0), NULL, c->tee == VT_TEE_SEV_SNP,                                     \
      G_BOOL((c->snp.platform_info >> (bit)) & 1), doc)
#define VT_CLAIMS_SNP_TCB(X, ID, tcb, doc)                                                          \
    X(ID##_BOOTLOADER, SNP, "snp." #tcb ".bootloader", INT, (0), NULL, c->tee == VT_TEE_SEV_SNP,    \
      G_INT(c->snp.tcb.bootloader), doc)                                                            \
    X(ID##_TEE, SNP, "snp." #tcb ".tee", INT, (0), NULL, c->tee == VT_TEE_SEV_SNP,                  \
      G_INT(c->snp.tcb.tee), "")                                                                    \
    X(ID##_SNP, SNP, "snp." #tcb ".snp", INT, (0), NULL, c->tee == VT_TEE_SEV_SNP,                  \
      G_INT(c->snp.tcb.snp), "")                                                                    \
    X(ID##_MICROCODE, SNP, "snp." #tcb ".microcode", INT, (0), NULL, c->tee == VT_TEE_SEV_SNP,      \
      G_INT(c->snp.tcb.microcode), "")                                                              \
    X(ID##_FMC, SNP, "snp." #tcb ".fmc", INT, (0), NULL,                                            \
      c->tee == VT_TEE_SEV_SNP && strcmp(c->snp.product, "Turin") == 0, G_INT(c->snp.tcb.fmc),      \
      "")                                                                                           \
    X(ID##_RAW, SNP, "snp." #tcb ".raw", U64, (0), NULL, c->tee == VT_TEE_SEV_SNP,                  \
      G_U64(c->snp.tcb.raw), "")
#define VT_CLAIMS_PCR(X, i, doc)                                                                    \
    X(NITRO_PCR##i, NITRO, "nitro.pcr" #i, HEX, (32, 48, 64), NULL,                                 \
      c->tee == VT_TEE_NITRO && (c->nitro.pcr_mask & (1u << (i))) != 0,                             \
      G_BYTES_N(c->nitro.pcrs[i], c->nitro.pcr_len[i]), doc)

#define VT_CLAIMS_LIST(X)                                                                           \
    /* ---- common ---- */                                                                          \
    X(TEE, COMMON, "tee", ENUM, (0), vt_claim_values_tee, true, G_STR(vt_tee_name(c->tee)),         \
      "the TEE that produced the evidence")                                                         \
    X(VERIFIED_AT, COMMON, "verified_at", TIME, (0), NULL, true, G_TIME(c->verified_at),            \
      "the `now` the verification used")                                                            \
    X(STATUS, COMMON, "status", ENUM, (0), vt_claim_values_status, c->status != VT_TCB_NONE,        \
      G_STR(vt_tcb_status_name(c->status)),                                                         \
      "the converged TCB status (Intel's names); `UpToDate` for every verified Nitro document "     \
      "and SEV-SNP report (AMD publishes no TCB status)")                                           \
    X(PLATFORM_STATUS, COMMON, "platform_status", ENUM, (0), vt_claim_values_status,                \
      c->platform_status != VT_TCB_NONE, G_STR(vt_tcb_status_name(c->platform_status)),             \
      "DCAP: the matched TCB level's status before convergence")                                    \
    X(QE_STATUS, COMMON, "qe_status", ENUM, (0), vt_claim_values_status,                            \
      c->qe_status != VT_TCB_NONE, G_STR(vt_tcb_status_name(c->qe_status)),                         \
      "DCAP: the quoting enclave's identity status (`UpToDate`, `OutOfDate`, `Revoked`)")           \
    X(MODULE_STATUS, COMMON, "module_status", ENUM, (0), vt_claim_values_status,                    \
      c->module_status != VT_TCB_NONE, G_STR(vt_tcb_status_name(c->module_status)),                 \
      "TDX module identity status; absent when the module is not versioned (TEE_TCB_SVN[1] = 0)")   \
    X(ADVISORY_IDS, COMMON, "advisory_ids", ARRAY, (0), NULL, true, G_FN(vt_claim_advisories),      \
      "Intel advisories of the matched TCB, module and QE levels (may be non-empty with "           \
      "`UpToDate`)")                                                                                \
    X(DEBUG, COMMON, "debug", BOOL, (0), NULL, true, G_BOOL(c->debug),                              \
      "SGX: ATTRIBUTES.DEBUG (flags bit 1); TDX: TDATTRIBUTES.DEBUG (bit 0); Nitro: PCR0 is "       \
      "all zero; SEV-SNP: POLICY bit 19")                                                           \
    X(REPORT_DATA, COMMON, "report_data", HEX, (64), NULL,                                          \
      VT_CLAIMS_IS_DCAP(c) || c->tee == VT_TEE_SEV_SNP, G_BYTES(c->report_data),                    \
      "the report data of the enclave, TD or guest (SGX, TDX, SEV-SNP): the binding")               \
    X(USER_DATA, COMMON, "user_data", HEX, (0), NULL, c->user_data.present,                         \
      G_BYTES_N(c->user_data.data, c->user_data.len),                                               \
      "Nitro: the document's optional `user_data`; Azure HCL reports: the runtime data's "          \
      "`user-data`; absent when absent or null")                                                    \
    X(NONCE, COMMON, "nonce", HEX, (0), NULL, c->nonce.present,                                     \
      G_BYTES_N(c->nonce.data, c->nonce.len),                                                       \
      "Nitro: the document's optional bindings; absent when absent or null")                        \
    X(PUBLIC_KEY, COMMON, "public_key", HEX, (0), NULL, c->public_key.present,                      \
      G_BYTES_N(c->public_key.data, c->public_key.len), "")                                         \
    /* ---- Nitro Enclaves ---- */                                                                  \
    X(NITRO_MODULE_ID, NITRO, "nitro.module_id", STRING, (0), NULL, c->tee == VT_TEE_NITRO,         \
      G_STR(c->nitro.module_id), "the enclave's module ID (instance ID and enclave ID)")            \
    X(NITRO_TIMESTAMP, NITRO, "nitro.timestamp", TIME, (0), NULL, c->tee == VT_TEE_NITRO,           \
      G_TIME_MS(c->nitro.timestamp_ms),                                                             \
      "when NSM produced the document, RFC 3339 with milliseconds")                                 \
    X(NITRO_TIMESTAMP_MS, NITRO, "nitro.timestamp_ms", INT, (0), NULL, c->tee == VT_TEE_NITRO,      \
      G_INT(c->nitro.timestamp_ms), "the same, milliseconds since the epoch")                       \
    VT_CLAIMS_PCR(X, 0,                                                                             \
                  "each PCR present, lowercase hex (48 bytes for SHA-384): 0 enclave image, 1 "     \
                  "kernel and bootstrap, 2 application, 3 parent's IAM role, 4 parent instance "    \
                  "ID, 8 EIF signing certificate")                                                  \
    VT_CLAIMS_PCR(X, 1, "")                                                                         \
    VT_CLAIMS_PCR(X, 2, "")                                                                         \
    VT_CLAIMS_PCR(X, 3, "")                                                                         \
    VT_CLAIMS_PCR(X, 4, "")                                                                         \
    VT_CLAIMS_PCR(X, 5, "")                                                                         \
    VT_CLAIMS_PCR(X, 6, "")                                                                         \
    VT_CLAIMS_PCR(X, 7, "")                                                                         \
    VT_CLAIMS_PCR(X, 8, "")                                                                         \
    VT_CLAIMS_PCR(X, 9, "")                                                                         \
    VT_CLAIMS_PCR(X, 10, "")                                                                        \
    VT_CLAIMS_PCR(X, 11, "")                                                                        \
    VT_CLAIMS_PCR(X, 12, "")                                                                        \
    VT_CLAIMS_PCR(X, 13, "")                                                                        \
    VT_CLAIMS_PCR(X, 14, "")                                                                        \
    VT_CLAIMS_PCR(X, 15, "")                                                                        \
    VT_CLAIMS_PCR(X, 16, "")                                                                        \
    VT_CLAIMS_PCR(X, 17, "")                                                                        \
    VT_CLAIMS_PCR(X, 18, "")                                                                        \
    VT_CLAIMS_PCR(X, 19, "")                                                                        \
    VT_CLAIMS_PCR(X, 20, "")                                                                        \
    VT_CLAIMS_PCR(X, 21, "")                                                                        \
    VT_CLAIMS_PCR(X, 22, "")                                                                        \
    VT_CLAIMS_PCR(X, 23, "")                                                                        \
    VT_CLAIMS_PCR(X, 24, "")                                                                        \
    VT_CLAIMS_PCR(X, 25, "")                                                                        \
    VT_CLAIMS_PCR(X, 26, "")                                                                        \
    VT_CLAIMS_PCR(X, 27, "")                                                                        \
    VT_CLAIMS_PCR(X, 28, "")                                                                        \
    VT_CLAIMS_PCR(X, 29, "")                                                                        \
    VT_CLAIMS_PCR(X, 30, "")                                                                        \
    VT_CLAIMS_PCR(X, 31, "")                                                                        \
    /* ---- SEV-SNP ---- */                                                                         \
    X(SNP_VERSION, SNP, "snp.version", INT, (0), NULL, c->tee == VT_TEE_SEV_SNP,                    \
      G_INT(c->snp.version), "report version (2, 3, 5)")                                            \
    X(SNP_PRODUCT, SNP, "snp.product", ENUM, (0), vt_claim_values_snp_product,                      \
      c->tee == VT_TEE_SEV_SNP, G_STR(c->snp.product),                                              \
      "from the AMD chain, equal to CPUID on v3+")                                                  \
    X(SNP_PRODUCT_NAME, SNP, "snp.product_name", STRING, (0), NULL, c->tee == VT_TEE_SEV_SNP,       \
      G_STR(c->snp.product_name), "the VEK's productName, e.g. `Milan-B0`")                         \
    X(SNP_MEASUREMENT, SNP, "snp.measurement", HEX, (48), NULL, c->tee == VT_TEE_SEV_SNP,           \
      G_BYTES(c->snp.measurement), "launch digest")                                                 \
    X(SNP_HOST_DATA, SNP, "snp.host_data", HEX, (32), NULL, c->tee == VT_TEE_SEV_SNP,               \
      G_BYTES(c->snp.host_data), "data the host set at launch")                                     \
    X(SNP_REPORT_DATA, SNP, "snp.report_data", HEX, (64), NULL, c->tee == VT_TEE_SEV_SNP,           \
      G_BYTES(c->report_data), "the guest's 64 bytes (the binding; also `report_data`)")            \
    X(SNP_CHIP_ID, SNP, "snp.chip_id", HEX, (64), NULL, c->tee == VT_TEE_SEV_SNP,                   \
      G_BYTES(c->snp.chip_id), "CHIP_ID (8 bytes meaningful on Turin)")                             \
    X(SNP_CHIP_ID_MASKED, SNP, "snp.chip_id_masked", BOOL, (0), NULL, c->tee == VT_TEE_SEV_SNP,     \
      G_BOOL(c->snp.chip_id_masked), "true when CHIP_ID is all zero")                               \
    X(SNP_VMPL, SNP, "snp.vmpl", INT, (0), NULL, c->tee == VT_TEE_SEV_SNP, G_INT(c->snp.vmpl),      \
      "VMPL of the requester")                                                                      \
    X(SNP_GUEST_SVN, SNP, "snp.guest_svn", INT, (0), NULL, c->tee == VT_TEE_SEV_SNP,                \
      G_INT(c->snp.guest_svn), "guest SVN from the ID block")                                       \
    X(SNP_POLICY, SNP, "snp.policy", U64, (0), NULL, c->tee == VT_TEE_SEV_SNP,                      \
      G_U64(c->snp.policy), "POLICY")                                                               \
    X(SNP_POLICY_ABI_MINOR, SNP, "snp.policy.abi_minor", INT, (0), NULL,                            \
      c->tee == VT_TEE_SEV_SNP, G_INT(c->snp.policy & 0xff), "POLICY's fields")                     \
    X(SNP_POLICY_ABI_MAJOR, SNP, "snp.policy.abi_major", INT, (0), NULL,                            \
      c->tee == VT_TEE_SEV_SNP, G_INT((c->snp.policy >> 8) & 0xff), "")                             \
    VT_CLAIMS_SNP_POLICY_BIT(X, SNP_POLICY_SMT, "snp.policy.smt", 16, "POLICY's bits")              \
    VT_CLAIMS_SNP_POLICY_BIT(X, SNP_POLICY_MIGRATE_MA, "snp.policy.migrate_ma", 18, "")             \
    VT_CLAIMS_SNP_POLICY_BIT(X, SNP_POLICY_DEBUG, "snp.policy.debug", 19, "")                       \
    VT_CLAIMS_SNP_POLICY_BIT(X, SNP_POLICY_SINGLE_SOCKET, "snp.policy.single_socket", 20, "")       \
    VT_CLAIMS_SNP_POLICY_BIT(X, SNP_POLICY_CXL_ALLOW, "snp.policy.cxl_allow", 21, "")               \
    VT_CLAIMS_SNP_POLICY_BIT(X, SNP_POLICY_MEM_AES_256_XTS, "snp.policy.mem_aes_256_xts", 22, "")   \
    VT_CLAIMS_SNP_POLICY_BIT(X, SNP_POLICY_RAPL_DIS, "snp.policy.rapl_dis", 23, "")                 \
    VT_CLAIMS_SNP_POLICY_BIT(X, SNP_POLICY_CIPHERTEXT_HIDING, "snp.policy.ciphertext_hiding", 24,   \
                             "")                                                                    \
    VT_CLAIMS_SNP_POLICY_BIT(X, SNP_POLICY_PAGE_SWAP_DISABLE, "snp.policy.page_swap_disable", 25,   \
                             "")                                                                    \
    X(SNP_PLATFORM_INFO, SNP, "snp.platform_info", U64, (0), NULL, c->tee == VT_TEE_SEV_SNP,        \
      G_U64(c->snp.platform_info), "PLATFORM_INFO")                                                 \
    VT_CLAIMS_SNP_PINFO_BIT(X, SNP_PI_SMT_ENABLED, "snp.platform_info.smt_enabled", 0,              \
                            "PLATFORM_INFO's bits")                                                 \
    VT_CLAIMS_SNP_PINFO_BIT(X, SNP_PI_TSME_ENABLED, "snp.platform_info.tsme_enabled", 1, "")        \
    VT_CLAIMS_SNP_PINFO_BIT(X, SNP_PI_ECC_ENABLED, "snp.platform_info.ecc_enabled", 2, "")          \
    VT_CLAIMS_SNP_PINFO_BIT(X, SNP_PI_RAPL_DISABLED, "snp.platform_info.rapl_disabled", 3, "")      \
    VT_CLAIMS_SNP_PINFO_BIT(X, SNP_PI_CIPHERTEXT_HIDING_ENABLED,                                    \
                            "snp.platform_info.ciphertext_hiding_enabled", 4, "")                   \
    VT_CLAIMS_SNP_PINFO_BIT(X, SNP_PI_ALIAS_CHECK_COMPLETE,                                         \
                            "snp.platform_info.alias_check_complete", 5, "")                        \
    VT_CLAIMS_SNP_PINFO_BIT(X, SNP_PI_TIO_ENABLED, "snp.platform_info.tio_enabled", 7, "")          \
    X(SNP_SIGNING_KEY, SNP, "snp.signing_key", ENUM, (0), vt_claim_values_snp_signing_key,          \
      c->tee == VT_TEE_SEV_SNP, G_STR(vt_claim_values_snp_signing_key(c->snp.signing_key == 1)),    \
      "the key that signed the report")                                                             \
    X(SNP_AUTHOR_KEY_EN, SNP, "snp.author_key_en", BOOL, (0), NULL, c->tee == VT_TEE_SEV_SNP,       \
      G_BOOL(c->snp.key_info & 1), "KEY_INFO.AUTHOR_KEY_EN")                                        \
    X(SNP_FAMILY_ID, SNP, "snp.family_id", HEX, (16), NULL, c->tee == VT_TEE_SEV_SNP,               \
      G_BYTES(c->snp.family_id), "from the ID block")                                               \
    X(SNP_IMAGE_ID, SNP, "snp.image_id", HEX, (16), NULL, c->tee == VT_TEE_SEV_SNP,                 \
      G_BYTES(c->snp.image_id), "")                                                                 \
    X(SNP_ID_KEY_DIGEST, SNP, "snp.id_key_digest", HEX, (48), NULL, c->tee == VT_TEE_SEV_SNP,       \
      G_BYTES(c->snp.id_key_digest),                                                                \
      "SHA-384 of the ID and author keys (zero without an ID block)")                               \
    X(SNP_AUTHOR_KEY_DIGEST, SNP, "snp.author_key_digest", HEX, (48), NULL,                         \
      c->tee == VT_TEE_SEV_SNP, G_BYTES(c->snp.author_key_digest), "")                              \
    X(SNP_REPORT_ID, SNP, "snp.report_id", HEX, (32), NULL, c->tee == VT_TEE_SEV_SNP,               \
      G_BYTES(c->snp.report_id), "guest report IDs (all `ff` without a migration agent)")           \
    X(SNP_REPORT_ID_MA, SNP, "snp.report_id_ma", HEX, (32), NULL, c->tee == VT_TEE_SEV_SNP,         \
      G_BYTES(c->snp.report_id_ma), "")                                                             \
    X(SNP_CURRENT_VERSION, SNP, "snp.current_version", STRING, (0), NULL,                           \
      c->tee == VT_TEE_SEV_SNP, G_FN(vt_claim_snp_current_version),                                 \
      "firmware `major.minor.build`")                                                               \
    X(SNP_COMMITTED_VERSION, SNP, "snp.committed_version", STRING, (0), NULL,                       \
      c->tee == VT_TEE_SEV_SNP, G_FN(vt_claim_snp_committed_version), "")                           \
    VT_CLAIMS_SNP_TCB(X, SNP_CURRENT_TCB, current_tcb,                                              \
                      "TCBs as integers (`fmc` on Turin only), `raw` as a hex number")              \
    VT_CLAIMS_SNP_TCB(X, SNP_REPORTED_TCB, reported_tcb, "the TCB the VCEK certifies")              \
    VT_CLAIMS_SNP_TCB(X, SNP_COMMITTED_TCB, committed_tcb, "the committed TCB")                     \
    VT_CLAIMS_SNP_TCB(X, SNP_LAUNCH_TCB, launch_tcb, "the TCB at launch")                           \
    X(SNP_CSP_ID, SNP, "snp.csp_id", STRING, (0), NULL,                                             \
      c->tee == VT_TEE_SEV_SNP && c->snp.csp_id[0] != '\0', G_STR(c->snp.csp_id),                   \
      "for a VLEK the cloud provider's id (AWS: `CN=cc-<region>.amazonaws.com`)")                   \
    X(SNP_CPUID_FAMILY, SNP, "snp.cpuid.family", INT, (0), NULL,                                    \
      c->tee == VT_TEE_SEV_SNP && c->snp.version >= 3, G_INT(c->snp.cpuid_fam_id),                  \
      "CPUID family, model, stepping (v3+)")                                                        \
    X(SNP_CPUID_MODEL, SNP, "snp.cpuid.model", INT, (0), NULL,                                      \
      c->tee == VT_TEE_SEV_SNP && c->snp.version >= 3, G_INT(c->snp.cpuid_mod_id), "")              \
    X(SNP_CPUID_STEPPING, SNP, "snp.cpuid.stepping", INT, (0), NULL,                                \
      c->tee == VT_TEE_SEV_SNP && c->snp.version >= 3, G_INT(c->snp.cpuid_step), "")                \
    X(SNP_LAUNCH_MIT_VECTOR, SNP, "snp.launch_mit_vector", U64, (0), NULL,                          \
      c->tee == VT_TEE_SEV_SNP && c->snp.version >= 5, G_U64(c->snp.launch_mit_vector),             \
      "mitigation vectors (v5)")                                                                    \
    X(SNP_CURRENT_MIT_VECTOR, SNP, "snp.current_mit_vector", U64, (0), NULL,                        \
      c->tee == VT_TEE_SEV_SNP && c->snp.version >= 5, G_U64(c->snp.current_mit_vector), "")        \
    X(SNP_RUNTIME_KEYS, SNP, "snp.runtime.keys.", OBJECT, (0), NULL,                                \
      c->tee == VT_TEE_SEV_SNP && c->snp.has_runtime_data, G_DYN(vt_claim_snp_runtime_key),         \
      "Azure HCL reports: each JWK of the runtime data by its `kid` (`HCLAkPub`, the vTPM "         \
      "attestation key that signs TPM quotes; `HCLEkPub`)")                                         \
    X(SNP_RUNTIME_VM_CONFIGURATION, SNP, "snp.runtime.vm_configuration.", ANY, (0), NULL,           \
      c->tee == VT_TEE_SEV_SNP && c->snp.has_runtime_data, G_DYN(vt_claim_snp_vm_configuration),    \
      "Azure HCL reports: `secure-boot`, `tpm-enabled`, `console-enabled`, `vmUniqueId`, ... "      \
      "as given")                                                                                   \
    /* ---- SGX ---- */                                                                             \
    X(SGX_MRENCLAVE, SGX, "sgx.mrenclave", HEX, (32), NULL, c->tee == VT_TEE_SGX,                   \
      G_BYTES(c->sgx.mrenclave), "enclave measurement and signer")                                  \
    X(SGX_MRSIGNER, SGX, "sgx.mrsigner", HEX, (32), NULL, c->tee == VT_TEE_SGX,                     \
      G_BYTES(c->sgx.mrsigner), "")                                                                 \
    X(SGX_ISV_PROD_ID, SGX, "sgx.isv_prod_id", INT, (0), NULL, c->tee == VT_TEE_SGX,                \
      G_INT(c->sgx.isv_prod_id), "ISV product ID, SVN, CONFIGSVN")                                  \
    X(SGX_ISV_SVN, SGX, "sgx.isv_svn", INT, (0), NULL, c->tee == VT_TEE_SGX,                        \
      G_INT(c->sgx.isv_svn), "")                                                                    \
    X(SGX_CONFIG_SVN, SGX, "sgx.config_svn", INT, (0), NULL, c->tee == VT_TEE_SGX,                  \
      G_INT(c->sgx.config_svn), "")                                                                 \
    X(SGX_CPUSVN, SGX, "sgx.cpusvn", HEX, (16), NULL, c->tee == VT_TEE_SGX,                         \
      G_BYTES(c->sgx.cpusvn), "the report's CPUSVN")                                                \
    X(SGX_MISCSELECT, SGX, "sgx.miscselect", HEX, (4), NULL, c->tee == VT_TEE_SGX,                  \
      G_FN(vt_claim_sgx_miscselect), "8 hex digits, the u32 value")                                 \
    X(SGX_ATTRIBUTES, SGX, "sgx.attributes", HEX, (16), NULL, c->tee == VT_TEE_SGX,                 \
      G_BYTES(c->sgx.attributes), "flags ‖ xfrm, little-endian as in the report")                   \
    X(SGX_CONFIG_ID, SGX, "sgx.config_id", HEX, (64), NULL, c->tee == VT_TEE_SGX,                   \
      G_BYTES(c->sgx.config_id), "CONFIGID")                                                        \
    X(SGX_ISV_EXT_PROD_ID, SGX, "sgx.isv_ext_prod_id", HEX, (16), NULL, c->tee == VT_TEE_SGX,       \
      G_BYTES(c->sgx.isv_ext_prod_id), "KSS extended product ID and family ID")                     \
    X(SGX_ISV_FAMILY_ID, SGX, "sgx.isv_family_id", HEX, (16), NULL, c->tee == VT_TEE_SGX,           \
      G_BYTES(c->sgx.isv_family_id), "")                                                            \
    /* ---- TDX ---- */                                                                             \
    X(TDX_MRTD, TDX, "tdx.mrtd", HEX, (48), NULL, c->tee == VT_TEE_TDX, G_BYTES(c->tdx.mrtd),       \
      "initial TD measurement")                                                                     \
    X(TDX_RTMR0, TDX, "tdx.rtmr0", HEX, (48), NULL, c->tee == VT_TEE_TDX,                           \
      G_BYTES(c->tdx.rtmr[0]), "runtime measurement registers")                                     \
    X(TDX_RTMR1, TDX, "tdx.rtmr1", HEX, (48), NULL, c->tee == VT_TEE_TDX,                           \
      G_BYTES(c->tdx.rtmr[1]), "")                                                                  \
    X(TDX_RTMR2, TDX, "tdx.rtmr2", HEX, (48), NULL, c->tee == VT_TEE_TDX,                           \
      G_BYTES(c->tdx.rtmr[2]), "")                                                                  \
    X(TDX_RTMR3, TDX, "tdx.rtmr3", HEX, (48), NULL, c->tee == VT_TEE_TDX,                           \
      G_BYTES(c->tdx.rtmr[3]), "")                                                                  \
    X(TDX_MRCONFIGID, TDX, "tdx.mrconfigid", HEX, (48), NULL, c->tee == VT_TEE_TDX,                 \
      G_BYTES(c->tdx.mrconfigid), "MRCONFIGID, MROWNER, MROWNERCONFIG")                             \
    X(TDX_MROWNER, TDX, "tdx.mrowner", HEX, (48), NULL, c->tee == VT_TEE_TDX,                       \
      G_BYTES(c->tdx.mrowner), "")                                                                  \
    X(TDX_MROWNERCONFIG, TDX, "tdx.mrownerconfig", HEX, (48), NULL, c->tee == VT_TEE_TDX,           \
      G_BYTES(c->tdx.mrownerconfig), "")                                                            \
    X(TDX_MRSEAM, TDX, "tdx.mrseam", HEX, (48), NULL, c->tee == VT_TEE_TDX,                         \
      G_BYTES(c->tdx.mrseam), "TDX module measurement and signer")                                  \
    X(TDX_MRSIGNERSEAM, TDX, "tdx.mrsignerseam", HEX, (48), NULL, c->tee == VT_TEE_TDX,             \
      G_BYTES(c->tdx.mrsignerseam), "")                                                             \
    X(TDX_SEAM_ATTRIBUTES, TDX, "tdx.seam_attributes", HEX, (8), NULL, c->tee == VT_TEE_TDX,        \
      G_BYTES(c->tdx.seam_attributes), "SEAMATTRIBUTES, TDATTRIBUTES, XFAM")                        \
    X(TDX_TD_ATTRIBUTES, TDX, "tdx.td_attributes", HEX, (8), NULL, c->tee == VT_TEE_TDX,            \
      G_BYTES(c->tdx.td_attributes), "")                                                            \
    X(TDX_XFAM, TDX, "tdx.xfam", HEX, (8), NULL, c->tee == VT_TEE_TDX, G_BYTES(c->tdx.xfam), "")    \
    X(TDX_TEE_TCB_SVN, TDX, "tdx.tee_tcb_svn", HEX, (16), NULL, c->tee == VT_TEE_TDX,               \
      G_BYTES(c->tdx.tee_tcb_svn), "[0] module SVN, [1] module major version, ...")                 \
    X(TDX_TEE_TCB_SVN2, TDX, "tdx.tee_tcb_svn2", HEX, (16), NULL,                                   \
      c->tee == VT_TEE_TDX && c->tdx.has_tee_tcb_svn2, G_BYTES(c->tdx.tee_tcb_svn2),                \
      "TD 1.5 bodies only: the running module's SVNs after a TD-preserving update")                 \
    X(TDX_MRSERVICETD, TDX, "tdx.mrservicetd", HEX, (48), NULL,                                     \
      c->tee == VT_TEE_TDX && c->tdx.has_tee_tcb_svn2, G_BYTES(c->tdx.mrservicetd),                 \
      "TD 1.5 bodies only: the bound service TD (e.g. MigTD)")                                      \
    /* ---- DCAP platform and quote facts (SGX and TDX) ---- */                                     \
    X(FMSPC, DCAP, "fmspc", HEX, (6), NULL, VT_CLAIMS_IS_DCAP(c), G_BYTES(c->dcap.fmspc),           \
      "platform family, from the PCK certificate")                                                  \
    X(DCAP_QUOTE_VERSION, DCAP, "dcap.quote_version", INT, (0), NULL, VT_CLAIMS_IS_DCAP(c),         \
      G_INT(c->dcap.quote_version), "3, 4 or 5")                                                    \
    X(DCAP_BODY_TYPE, DCAP, "dcap.body_type", INT, (0), NULL, VT_CLAIMS_IS_DCAP(c),                 \
      G_INT(c->dcap.body_type), "1 SGX, 2 TD 1.0, 3 TD 1.5")                                        \
    X(DCAP_PCEID, DCAP, "dcap.pceid", HEX, (2), NULL, VT_CLAIMS_IS_DCAP(c),                         \
      G_BYTES(c->dcap.pceid), "PCE ID")                                                             \
    X(DCAP_PCK_CA, DCAP, "dcap.pck_ca", ENUM, (0), vt_claim_values_pck_ca, VT_CLAIMS_IS_DCAP(c),    \
      G_STR(c->dcap.pck_ca), "which Intel CA issued the PCK certificate")                           \
    X(DCAP_SGX_TCB_COMPONENTS, DCAP, "dcap.sgx_tcb_components", ARRAY, (0), NULL,                   \
      VT_CLAIMS_IS_DCAP(c), G_FN(vt_claim_sgx_tcb_components),                                      \
      "the 16 SGX TCB component SVNs of the PCK certificate")                                       \
    X(DCAP_PCESVN, DCAP, "dcap.pcesvn", INT, (0), NULL, VT_CLAIMS_IS_DCAP(c),                       \
      G_INT(c->dcap.pcesvn), "PCE SVN of the PCK certificate")                                      \
    X(DCAP_CPUSVN, DCAP, "dcap.cpusvn", HEX, (16), NULL, VT_CLAIMS_IS_DCAP(c),                      \
      G_BYTES(c->dcap.cpusvn), "raw CPUSVN of the PCK certificate (informational)")                 \
    X(DCAP_PPID, DCAP, "dcap.ppid", HEX, (16), NULL, VT_CLAIMS_IS_DCAP(c), G_BYTES(c->dcap.ppid),   \
      "platform provisioning ID")                                                                   \
    X(DCAP_SGX_TYPE, DCAP, "dcap.sgx_type", ENUM, (0), vt_claim_values_sgx_type,                    \
      VT_CLAIMS_IS_DCAP(c), G_FN(vt_claim_sgx_type), "the platform's SGX type")                     \
    X(DCAP_TCB_DATE, DCAP, "dcap.tcb_date", TIME, (0), NULL, VT_CLAIMS_IS_DCAP(c),                  \
      G_TIME(c->dcap.tcb_date), "tcbDate of the matched TCB level")                                 \
    X(DCAP_QE_TCB_DATE, DCAP, "dcap.qe_tcb_date", TIME, (0), NULL, VT_CLAIMS_IS_DCAP(c),            \
      G_TIME(c->dcap.qe_tcb_date), "the QE identity level's tcbDate")                               \
    X(DCAP_QE_ISV_SVN, DCAP, "dcap.qe_isv_svn", INT, (0), NULL, VT_CLAIMS_IS_DCAP(c),               \
      G_INT(c->dcap.qe_isv_svn), "the QE's ISVSVN")                                                 \
    X(DCAP_QE_USER_DATA, DCAP, "dcap.qe_user_data", HEX, (20), NULL, VT_CLAIMS_IS_DCAP(c),          \
      G_BYTES(c->dcap.qe_user_data),                                                                \
      "the quote header's user data (Intel QEs put the QE-ID here)")                                \
    X(DCAP_PLATFORM_INSTANCE_ID, DCAP, "dcap.platform_instance_id", HEX, (16), NULL,                \
      VT_CLAIMS_IS_DCAP(c) && c->dcap.has_platform_instance_id,                                     \
      G_BYTES(c->dcap.platform_instance_id), "Platform-CA certificates only")                       \
    X(DCAP_DYNAMIC_PLATFORM, DCAP, "dcap.dynamic_platform", BOOL, (0), NULL,                        \
      VT_CLAIMS_IS_DCAP(c) && c->dcap.has_configuration, G_BOOL(c->dcap.dynamic_platform),          \
      "the PCK certificate's configuration (Platform-CA certificates only)")                        \
    X(DCAP_CACHED_KEYS, DCAP, "dcap.cached_keys", BOOL, (0), NULL,                                  \
      VT_CLAIMS_IS_DCAP(c) && c->dcap.has_configuration, G_BOOL(c->dcap.cached_keys), "")           \
    X(DCAP_SMT_ENABLED, DCAP, "dcap.smt_enabled", BOOL, (0), NULL,                                  \
      VT_CLAIMS_IS_DCAP(c) && c->dcap.has_configuration, G_BOOL(c->dcap.smt_enabled), "")           \
    X(DCAP_TDX_MODULE_IDENTITY, DCAP, "dcap.tdx_module_identity", STRING, (0), NULL,                \
      VT_CLAIMS_IS_DCAP(c) && c->dcap.tdx_module_identity[0] != '\0',                               \
      G_STR(c->dcap.tdx_module_identity),                                                           \
      "`TDX_01` etc. when a versioned module identity matched")                                     \
    /* ---- collateral: the members of the "collateral" object ---- */                              \
    X(COLLATERAL_DOCUMENTS, COLLATERAL, "collateral.documents", ARRAY, (0), NULL, true,             \
      G_FN(vt_claim_collateral_documents),                                                          \
      "each document used: `name`, `sha256` of the exact bytes used (DER for CRLs), "               \
      "`issue_date`, `next_update`, `tcb_eval_num`")                                                \
    X(COLLATERAL_EARLIEST_EXPIRY, COLLATERAL, "collateral.earliest_expiry", TIME, (0), NULL,        \
      true, G_TIME(c->collateral.earliest_expiry),                                                  \
      "minimum notAfter/nextUpdate of everything used: for DCAP the first second at which the "     \
      "evidence no longer verifies, as in QvE; for Nitro and SEV-SNP the last second at which "     \
      "it still does (docs/verify.md, Time edges)")                                                 \
    X(COLLATERAL_TCB_EVAL_NUM, COLLATERAL, "collateral.tcb_eval_num", INT, (0), NULL,               \
      c->collateral.tcb_eval_num >= 0, G_INT(c->collateral.tcb_eval_num),                           \
      "minimum tcbEvaluationDataNumber (QvE's `tcb_eval_ref_num`)")                                 \
    X(COLLATERAL, COLLATERAL, "collateral", OBJECT, (0), NULL, true, G_FN(vt_claim_collateral),     \
      "the collateral used, with the members above")
/* clang-format on */

#endif
