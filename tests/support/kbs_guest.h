/*
 * What the Confidential Containers guest (guest-components' attestation agent and kbs_protocol)
 * sends a KBS, rebuilt for the tests independently of the broker: the SEV-SNP evidence as its SNP
 * attester serializes it (the sev crate's serde form of AttestationReport::from_bytes, plus the
 * certificate table), and the guest's JWE decryption done with OpenSSL alone (ECDH, Concat KDF,
 * AES key unwrap, AES-GCM with the re-serialized protected header as AAD).
 */
#ifndef VT_TEST_KBS_GUEST_H
#define VT_TEST_KBS_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "internal.h"

/* The "attestation_report" of the guest's SNP evidence: every field as the sev crate (6.x)
 * parses the report and serde renders it, in its order. NULL where the crate refuses the report
 * (version 0 or 1, an unknown CPUID family/model, a version 2 report with a masked CHIP_ID). */
json_t *kbs_guest_snp_report(const uint8_t report[VT_SNP_REPORT_SIZE]);
/* One entry of the certificate table: {"cert_type": type, "data": [bytes]}. */
json_t *kbs_guest_cert_entry(const char *type, const uint8_t *der, size_t n);

/* Decrypt a flattened JWE {protected, encrypted_key, iv, ciphertext, tag} for an EC or RSA TEE
 * key (with its private half) the way the guest does, without src/crypto/jose.c: the plaintext
 * (malloc'd, *n its length) or NULL with *why. */
uint8_t *kbs_guest_jwe_decrypt(const json_t *jwe, const struct vt_jwk *key, size_t *n,
                               const char **why);

#endif
