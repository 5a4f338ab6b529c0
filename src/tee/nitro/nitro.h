/*
 * AWS Nitro Enclaves attestation documents: COSE_Sign1 (ES384) over a CBOR payload, signed by a
 * leaf certificate that chains to the AWS Nitro Enclaves Root G1.
 * Reference: AWS nsm-api "Attestation document validation"; RFC 9052; docs/verify.md.
 */
#ifndef VT_TEE_NITRO_NITRO_H
#define VT_TEE_NITRO_NITRO_H

#include <veritee/claims.h>
#include <veritee/common.h>
#include <veritee/error.h>
#include <veritee/time.h>

#include "crypto/crypto.h"

/* AWS's limits on the document (nsm-api CDDL). */
#define VT_NITRO_MAX_DOC_SIZE (20u * 1024u) /* the payload is at most 16 KiB */
#define VT_NITRO_MAX_PAYLOAD_SIZE (16u * 1024u)
#define VT_NITRO_MAX_PCRS 32
#define VT_NITRO_MAX_CERT_SIZE 1024
#define VT_NITRO_MAX_CABUNDLE 8
#define VT_NITRO_MAX_MODULE_ID 256
#define VT_NITRO_MAX_BINDING 1024 /* public_key, user_data, nonce */
#define VT_NITRO_SIG_SIZE 96      /* raw r||s, P-384 */

struct vt_nitro_pcr {
    uint8_t index;        /* 0..31 */
    const uint8_t *value; /* borrowed; 32, 48 or 64 bytes */
    size_t len;
};

struct vt_nitro_bytes {
    bool present;        /* false when absent or CBOR null */
    const uint8_t *data; /* borrowed */
    size_t len;
};

/*
 * A parsed document. Every pointer borrows from the input, which must outlive the struct.
 * Layout: [tag 18] [protected: bstr {1: -35}, unprotected: map, payload: bstr, signature: bstr(96)]
 * with the payload a map of text keys (module_id, digest, timestamp, pcrs, certificate, cabundle,
 * public_key, user_data, nonce; unknown keys are ignored, since they are signed).
 */
struct vt_nitro_doc {
    bool tagged;
    const uint8_t *protected_hdr; /* content of the protected bstr */
    size_t protected_len;
    const uint8_t *payload; /* content of the payload bstr */
    size_t payload_len;
    const uint8_t *signature; /* 96 bytes */
    const char *module_id;    /* not NUL-terminated */
    size_t module_id_len;
    uint64_t timestamp_ms;
    size_t n_pcrs;
    struct vt_nitro_pcr pcrs[VT_NITRO_MAX_PCRS]; /* ascending index, no duplicates */
    const uint8_t *certificate;                  /* leaf, DER */
    size_t certificate_len;
    size_t n_cabundle;
    struct vt_nitro_bytes cabundle[VT_NITRO_MAX_CABUNDLE]; /* root first */
    struct vt_nitro_bytes public_key;
    struct vt_nitro_bytes user_data;
    struct vt_nitro_bytes nonce;
};

/*
 * Parse and validate the structure: COSE_Sign1 tagged (18) or untagged, protected header exactly
 * the map {1: -35} (ES384), unprotected header a map, payload map with every required key of the
 * right type and size (module_id non-empty text, digest "SHA384", timestamp uint, pcrs 1..32
 * entries index 0..31 of 32/48/64 bytes, certificate and cabundle entries 1..1024 bytes,
 * cabundle 1..VT_NITRO_MAX_CABUNDLE entries, public_key 1..1024, user_data and nonce 0..1024 or
 * null); definite or indefinite-length payload maps, pcrs and cabundle (the COSE array itself is
 * definite, as NSM writes it); duplicate keys, trailing bytes, a missing
 * break, nesting beyond limits are rejected. Errors: VT_E_TRUNCATED, VT_E_TRAILING_DATA,
 * VT_E_MALFORMED (CBOR structure), VT_E_BAD_FIELD, VT_E_MISSING_FIELD, VT_E_DUPLICATE,
 * VT_E_TOO_LARGE, VT_E_UNSUPPORTED_ALGORITHM (alg other than ES384); detail names the key.
 */
VT_MUST_USE enum vt_err vt_nitro_doc_parse(const uint8_t *p, size_t n, struct vt_nitro_doc *doc,
                                           struct vt_diag *d);

/*
 * The COSE Sig_structure ["Signature1", protected, h'', payload] rebuilt from the original
 * protected and payload bytes, written to out[cap]. VT_E_BUFFER_TOO_SMALL if cap is short
 * (VT_NITRO_MAX_DOC_SIZE + 64 always suffices).
 */
VT_MUST_USE enum vt_err vt_nitro_sig_structure(const struct vt_nitro_doc *doc, uint8_t *out,
                                               size_t cap, size_t *len);

/* ---- verification ---- */

struct vt_nitro_opts {
    vt_time now;
    enum vt_time_mode time_mode;
    int64_t max_age; /* seconds; the document timestamp must be >= now - max_age; < 0: no check */
    const uint8_t *nonce; /* expected nonce, or NULL for no check */
    size_t nonce_len;
};

/*
 * A Nitro verifier: trust anchors and a cache of verified intermediate chains (root, regional,
 * zonal, instance), so a document costs its leaf certificate and COSE signature. Thread-safe
 * (the cache is under a lock). Heap; vt_nitro_verifier_free is NULL-safe.
 */
struct vt_nitro_verifier;

/* anchors: trusted roots (NULL: the embedded AWS Nitro Enclaves Root G1 only). */
VT_MUST_USE enum vt_err vt_nitro_verifier_new(const struct vt_cert_list *anchors,
                                              struct vt_nitro_verifier **out, struct vt_diag *d);
void vt_nitro_verifier_free(struct vt_nitro_verifier *v);

/*
 * Verify a document at opts->now and fill claims (tee nitro, status UpToDate, PCRs, module_id,
 * timestamp, public_key, user_data, nonce; debug when PCR0 is all zero). The chain is
 * cabundle[0] (an anchor's subject and key: vt_chain_anchor_for), ..., the leaf `certificate`;
 * every certificate valid at now (both edges inclusive); CA constraints and key usage as AWS
 * requires. Errors: parse errors, chain errors, VT_E_SIGNATURE family (VT_E_SIGNATURE for the COSE
 * signature), VT_E_EXPIRED / VT_E_NOT_YET_VALID (also for a document older than max_age),
 * VT_E_NONCE_MISMATCH.
 */
VT_MUST_USE enum vt_err vt_nitro_verify(struct vt_nitro_verifier *v, const uint8_t *doc, size_t len,
                                        const struct vt_nitro_opts *opts, struct vt_claims *claims,
                                        struct vt_diag *d);

/* The embedded genuine AWS Nitro Enclaves Root G1 (DER). */
const uint8_t *vt_aws_nitro_root_der(size_t *len);
VT_MUST_USE enum vt_err vt_aws_nitro_root_add(struct vt_cert_list *l, struct vt_diag *d);

#endif
