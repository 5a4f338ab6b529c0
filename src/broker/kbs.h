/*
 * The parts of the Trustee KBS protocol that read untrusted input beyond JSON shapes
 * (docs/kbs.md): the SEV-SNP evidence as the Confidential Containers guest sends it, and the
 * init-data document. Both are pure functions of their input (fuzz/fuzz_kbs_attestation.c).
 */
#ifndef VT_BROKER_KBS_H
#define VT_BROKER_KBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

struct json_t;

/*
 * The guest's SEV-SNP evidence (guest-components attester/src/snp: {"attestation_report": the
 * sev crate's serde form of the parsed report, "cert_chain": null or the certificate table as
 * [{"cert_type": "VCEK"|"VLEK"|"ASK"|"ARK"|..., "data": [bytes]}]}) back into what the verifiers
 * read: the 1184 signed report bytes (rebuilt as the sev crate writes them: reserved bytes zero,
 * the TCB layout of the report's product) and, if the table holds a VCEK or VLEK, that VEK
 * followed by the table's ASK/ASVK and ARK as one PEM text in *vek_pem (empty otherwise: the
 * VEK then comes from the collateral source).
 *
 * Every field of the report is required except those the sev crate makes optional (fmc,
 * cpuid_*, *_mit_vector), which must be present exactly for the report versions and products
 * that have them; integers must fit their field; byte arrays have their exact length; members
 * the sev crate does not define are ignored (as it does). A table given must hold a VCEK or VLEK
 * (as Trustee requires); its first one is used. Errors name the member: VT_E_BAD_JSON,
 * VT_E_MISSING_FIELD, VT_E_BAD_FIELD, VT_E_BAD_LENGTH, VT_E_UNSUPPORTED_VERSION, VT_E_TOO_LARGE,
 * with check names "snp.attestation_report.<member>" and "snp.cert_chain[<i>].<member>".
 */
VT_MUST_USE enum vt_err vt_kbs_snp_evidence(const struct json_t *primary,
                                            uint8_t report[VT_SNP_REPORT_SIZE],
                                            struct vt_buf *vek_pem, struct vt_diag *d);

/* Limits of an init-data document. */
#define VT_KBS_INITDATA_MAX (256u << 10)
#define VT_KBS_INITDATA_KEYS 256

/* A parsed init-data (Trustee kbs/docs/initdata.md, the TOML encoding the guest sends). */
struct vt_kbs_initdata {
    char algorithm[8];  /* "sha256", "sha384" or "sha512" */
    uint8_t digest[64]; /* the algorithm over the whole body as sent */
    size_t digest_len;
    char *data_json; /* the "data" table as a JSON object of strings (heap) */
};
void vt_kbs_initdata_cleanup(struct vt_kbs_initdata *i);

/*
 * Parse the Attestation message's init-data {format, body}: format "toml" (as Trustee's built-in
 * attestation service, which refuses any other with "Unsupported initdata format: <f>"), body a
 * TOML document holding the string "version", the string "algorithm" (sha256, sha384 or sha512)
 * and the table "data" of strings. The digest is that algorithm over the body's bytes.
 *
 * The TOML accepted is the subset init-data documents use: comments, bare and quoted keys,
 * [table] headers, and the four kinds of strings (basic and literal, single- and multi-line, with
 * every escape of TOML 1.0); values of other types, dotted keys and arrays of tables are refused
 * with an error that says so. The body must be UTF-8. Errors: VT_E_UNSUPPORTED ("initdata.format",
 * "initdata.toml"), VT_E_MALFORMED ("initdata.toml", the line and column), VT_E_DUPLICATE,
 * VT_E_MISSING_FIELD / VT_E_BAD_FIELD ("initdata.version", "initdata.algorithm",
 * "initdata.data"), VT_E_TOO_LARGE.
 */
VT_MUST_USE enum vt_err vt_kbs_initdata_parse(const char *format, const char *body, size_t len,
                                              struct vt_kbs_initdata *out, struct vt_diag *d);

#endif
