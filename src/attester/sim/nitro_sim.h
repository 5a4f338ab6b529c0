/*
 * A synthetic AWS Nitro Enclaves world for tests: a five-level test PKI shaped like AWS's (root,
 * regional, zonal, instance, leaf; ECDSA P-384 / SHA-384) and COSE_Sign1 attestation documents
 * signed with the leaf key, with knobs to reach every field, expiry and reject path that real
 * documents cannot.
 *
 * Formats: shared/spec/nitro_snp.md part A (A1 envelope, A2 payload, A3 chain shape). The
 * certificates mirror AWS's (subject attribute order per level, basicConstraints critical with
 * pathLen 2/1/0 below a root without pathLen, keyUsage digitalSignature+keyCertSign+cRLSign on
 * root/regional/zonal, keyCertSign only on the instance CA, digitalSignature+nonRepudiation on
 * the leaf, SKI/AKI and CRL distribution points where AWS has them) under "test.nitro-enclaves"
 * names; nothing is derived from real fixture bytes.
 *
 * Conventions (as dcap_sim.h): times are unix seconds (vt_time) except the document timestamp
 * (milliseconds, as in the payload). Functions return bool (true on success) or a pointer (NULL on
 * failure) and print OpenSSL's error queue to stderr. Byte buffers handed to the caller are
 * struct vt_sim_blob (malloc'd, freed with vt_sim_blob_cleanup). Params structs are plain data
 * owned by the caller; pointers inside them are borrowed for the duration of the call.
 * Part of veritee_sim (src/attester/sim): it uses OpenSSL directly.
 */
#ifndef VT_TEST_NITRO_SIM_H
#define VT_TEST_NITRO_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <veritee/time.h>

#include "dcap_sim.h" /* struct vt_sim_blob, vt_sim_blob_cleanup */

#define VT_NSIM_MINUTE ((vt_time)60)
#define VT_NSIM_HOUR ((vt_time)3600)
#define VT_NSIM_DAY ((vt_time)86400)
#define VT_NSIM_YEAR (365 * VT_NSIM_DAY)

/* ---- a small canonical CBOR encoder (RFC 8949), usable by tests to craft payloads ---- */

/*
 * A growable output buffer. Zero-initialise; every call appends; an allocation failure sets
 * `failed`, makes further calls no-ops and makes vt_nsim_cbor_finish fail. Heads use the
 * shortest form (preferred serialisation).
 */
struct vt_nsim_cbor {
    uint8_t *p;
    size_t len, cap;
    bool failed;
};

/* A head: major type 0..7 and argument (minimal length). */
void vt_nsim_cbor_head(struct vt_nsim_cbor *c, unsigned major, uint64_t arg);
void vt_nsim_cbor_uint(struct vt_nsim_cbor *c, uint64_t v);
/* An integer (major 0 for v >= 0, major 1 for v < 0). */
void vt_nsim_cbor_int(struct vt_nsim_cbor *c, int64_t v);
void vt_nsim_cbor_bstr(struct vt_nsim_cbor *c, const void *p, size_t n);
/* Text from a NUL-terminated string (written verbatim; no UTF-8 check). */
void vt_nsim_cbor_text(struct vt_nsim_cbor *c, const char *s);
void vt_nsim_cbor_textn(struct vt_nsim_cbor *c, const char *s, size_t n);
/* Definite-length heads: the caller then writes n items (arrays) or n key/value pairs (maps). */
void vt_nsim_cbor_array(struct vt_nsim_cbor *c, uint64_t n);
void vt_nsim_cbor_map(struct vt_nsim_cbor *c, uint64_t n);
/* Indefinite-length starts (0x9F, 0xBF) and the break (0xFF). */
void vt_nsim_cbor_array_indef(struct vt_nsim_cbor *c);
void vt_nsim_cbor_map_indef(struct vt_nsim_cbor *c);
void vt_nsim_cbor_break(struct vt_nsim_cbor *c);
void vt_nsim_cbor_tag(struct vt_nsim_cbor *c, uint64_t tag);
void vt_nsim_cbor_null(struct vt_nsim_cbor *c);
void vt_nsim_cbor_bool(struct vt_nsim_cbor *c, bool v);
/* Raw bytes, copied as they are (pre-encoded items, deliberate garbage). */
void vt_nsim_cbor_raw(struct vt_nsim_cbor *c, const void *p, size_t n);
/* Hand the bytes to out (NUL-terminated one past len) and reset c. False on earlier failure. */
bool vt_nsim_cbor_finish(struct vt_nsim_cbor *c, struct vt_sim_blob *out);
/* Free and reset without producing output. */
void vt_nsim_cbor_discard(struct vt_nsim_cbor *c);

/* ---- the PKI ---- */

enum vt_nsim_level {
    VT_NSIM_ROOT = 0,
    VT_NSIM_REGIONAL,
    VT_NSIM_ZONAL,
    VT_NSIM_INSTANCE,
    VT_NSIM_LEAF,
    VT_NSIM_LEVELS
};

/* keyUsage bits, vt_nsim_cert_params.key_usage. 0: no keyUsage extension at all. */
enum vt_nsim_ku {
    VT_NSIM_KU_DIGITAL_SIGNATURE = 1u << 0,
    VT_NSIM_KU_NON_REPUDIATION = 1u << 1,
    VT_NSIM_KU_KEY_CERT_SIGN = 1u << 2,
    VT_NSIM_KU_CRL_SIGN = 1u << 3,
};

/*
 * One certificate. vt_nsim_pki_params_default fills AWS's shape; tests then flip knobs:
 *   level   ca     pathlen  basic critical  key_usage (critical)          lifetime
 *   root    true   -1       yes             DS|KCS|CRL   (yes)            30 y
 *   region  true   2        yes             DS|KCS|CRL   (yes)            20 d 1 h
 *   zonal   true   1        yes             DS|KCS|CRL   (yes)            5 d 17 h
 *   inst    true   0        yes             KCS          (yes)            1 d
 *   leaf    false  -1       yes             DS|NR        (no)             3 h 3 s
 */
struct vt_nsim_cert_params {
    vt_time not_before, not_after;
    const char *cn; /* NULL: the default name for the level (see vt_nsim_pki_new) */
    bool ca;        /* basicConstraints cA; true on the leaf = "leaf as CA" */
    int pathlen;    /* pathLenConstraint when ca; < 0: none */
    bool omit_basic_constraints;
    bool basic_not_critical;
    unsigned key_usage; /* enum vt_nsim_ku bits; 0 omits the extension */
    bool key_usage_critical;
    /* Defects: */
    bool wrong_key;  /* issuer name and AKI as expected, signature by an unrelated key */
    bool p256;       /* this level's key is P-256 instead of P-384 */
    bool sig_sha256; /* signed ecdsa-with-SHA256 instead of ecdsa-with-SHA384 */
};

struct vt_nsim_pki_params {
    vt_time now;
    const char *region; /* NULL: "us-east-1" */
    struct vt_nsim_cert_params level[VT_NSIM_LEVELS];
    /* Reuse this root (borrowed; a reference is taken) instead of generating one: the levels
     * below are then issued by root_key. Both or neither. */
    EVP_PKEY *root_key;
    X509 *root_cert;
};

/*
 * AWS's shape (table above) around now: root now-5y .. +30y, regional now-2d .. +20d1h, zonal
 * now-12h .. +5d17h, instance now-4h .. +1d, leaf now-10min .. +3h3s. So `now` lies inside every
 * window; the first to close is the leaf's (now + 2h50m3s), then the instance's (now + 20h).
 */
void vt_nsim_pki_params_default(struct vt_nsim_pki_params *p, vt_time now);

/* The PKI. Fields are readable; treat them as const. */
struct vt_nsim_pki {
    struct vt_nsim_pki_params params; /* a copy; cn/region pointers are not kept (NULLed) */
    EVP_PKEY *key[VT_NSIM_LEVELS];
    X509 *cert[VT_NSIM_LEVELS];
    EVP_PKEY *unrelated_key; /* P-384; signs what is asked to be signed with a wrong key */
    char cn[VT_NSIM_LEVELS][128];
    char module_id[64]; /* the module_id that matches the leaf name */
};

/*
 * Generate keys and the five certificates (random 16-byte serials). Default names, for region R:
 *   root      "test.nitro-enclaves"                          C=US, O=Veritee Test, OU=NSIM, CN
 *   regional  "5eed0f1e2d3c4b5a.R.test.nitro-enclaves"       C, O, OU, CN
 *   zonal     "a1b2c3d4e5f60718.zonal.R.test.nitro-enclaves" CN, OU, O, C, ST, L
 *   instance  "i-0f1e2d3c4b5a69788.R.test.nitro-enclaves"    C, ST, L, O, OU, CN
 *   leaf      "i-0f1e2d3c4b5a69788-enc0198a7b6c5d4e3f2.R.test"  C, ST, L, O, OU, CN
 * and module_id "i-0f1e2d3c4b5a69788-enc0198a7b6c5d4e3f2". Extension order per level as AWS's.
 * NULL on failure.
 */
struct vt_nsim_pki *vt_nsim_pki_new(const struct vt_nsim_pki_params *p);
void vt_nsim_pki_free(struct vt_nsim_pki *pki); /* NULL-safe */

/* One certificate as DER, or PEM (NUL-terminated, len without the NUL). Root: --trust-anchor. */
bool vt_nsim_cert_der(const struct vt_nsim_pki *pki, enum vt_nsim_level which,
                      struct vt_sim_blob *out);
bool vt_nsim_cert_pem(const struct vt_nsim_pki *pki, enum vt_nsim_level which,
                      struct vt_sim_blob *out);

/* ---- documents ---- */

#define VT_NSIM_MAX_PCRS 40     /* more than the 32 a parser accepts, for over-limit tests */
#define VT_NSIM_PCR_MAX_LEN 80  /* more than 64, likewise */
#define VT_NSIM_MAX_CABUNDLE 12 /* more than VT_NITRO_MAX_CABUNDLE */

/* Payload keys, for the omit/duplicate/wrong-type bit masks. */
enum vt_nsim_key {
    VT_NSIM_K_MODULE_ID = 1u << 0,
    VT_NSIM_K_DIGEST = 1u << 1,
    VT_NSIM_K_TIMESTAMP = 1u << 2,
    VT_NSIM_K_PCRS = 1u << 3,
    VT_NSIM_K_CERTIFICATE = 1u << 4,
    VT_NSIM_K_CABUNDLE = 1u << 5,
    VT_NSIM_K_PUBLIC_KEY = 1u << 6,
    VT_NSIM_K_USER_DATA = 1u << 7,
    VT_NSIM_K_NONCE = 1u << 8,
};

/* An optional byte-string field (public_key, user_data, nonce). */
enum vt_nsim_opt_kind {
    VT_NSIM_OPT_NULL = 0, /* key present, value CBOR null (what NSM writes for "absent") */
    VT_NSIM_OPT_ABSENT,   /* key left out of the map */
    VT_NSIM_OPT_BYTES,    /* key present with data[len] (len may be 0) */
};
struct vt_nsim_opt {
    enum vt_nsim_opt_kind kind;
    const uint8_t *data; /* borrowed */
    size_t len;
};

struct vt_nsim_pcr {
    uint64_t index;
    size_t len; /* <= VT_NSIM_PCR_MAX_LEN */
    uint8_t value[VT_NSIM_PCR_MAX_LEN];
};

/* A cabundle entry: a PKI level's certificate, or raw bytes when der != NULL. */
struct vt_nsim_cab_entry {
    enum vt_nsim_level level;
    const uint8_t *der; /* borrowed; overrides level */
    size_t len;
};

/* What happens to the COSE signature. */
enum vt_nsim_sig_defect {
    VT_NSIM_SIG_OK = 0,
    VT_NSIM_SIG_WRONG_KEY,   /* a valid-looking signature by pki->unrelated_key */
    VT_NSIM_SIG_FLIP,        /* one bit of r flipped (byte 10, 0x01) */
    VT_NSIM_SIG_SHORT,       /* the last byte dropped: 95 bytes */
    VT_NSIM_SIG_LONG,        /* a zero byte appended: 97 bytes */
    VT_NSIM_SIG_HIGH_S,      /* s replaced by n - s: still valid (the malleable twin) */
    VT_NSIM_SIG_ZERO,        /* 96 zero bytes */
    VT_NSIM_SIG_DER,         /* the DER ECDSA-Sig-Value instead of raw r||s */
    VT_NSIM_SIG_RAW_PAYLOAD, /* signs the payload bytes, not the Sig_structure */
};

/*
 * A document. Defaults (vt_nsim_doc_params_default) give what NSM produces: untagged, protected
 * a1 01 38 22, unprotected a0, a definite-length payload map with the nine keys in NSM's order,
 * PCRs 0..15 of 48 bytes, the leaf and cabundle [root, regional, zonal, instance], public_key,
 * user_data and nonce null.
 */
struct vt_nsim_doc_params {
    /* payload fields */
    const char *module_id; /* NULL: pki->module_id */
    size_t module_id_len;  /* with a non-NULL module_id: its length (0: strlen) */
    bool module_id_empty;  /* write "" (length 0) */
    const char *digest;    /* NULL: "SHA384" */
    uint64_t timestamp_ms;
    size_t n_pcrs; /* written in array order, so duplicates and disorder are possible */
    struct vt_nsim_pcr pcrs[VT_NSIM_MAX_PCRS];
    const uint8_t *certificate; /* NULL: the PKI's leaf DER */
    size_t certificate_len;
    size_t n_cabundle;
    struct vt_nsim_cab_entry cabundle[VT_NSIM_MAX_CABUNDLE];
    struct vt_nsim_opt public_key, user_data, nonce;
    /* payload encoding */
    bool indefinite_map;      /* payload map BF .. FF (as the 2026 document) */
    bool indefinite_pcrs;     /* pcrs map BF .. FF */
    bool indefinite_cabundle; /* cabundle array 9F .. FF */
    bool no_break;            /* with indefinite_map: leave out the final break */
    bool reverse_keys;        /* write the keys in reverse order */
    unsigned omit_keys;       /* enum vt_nsim_key bits: keys left out */
    unsigned dup_keys;        /* keys written twice (same value), the second right after */
    /* Keys whose value has the wrong CBOR type: text fields become bstr, bstr fields text,
     * timestamp a negative integer (-1), pcrs an array of its values, cabundle a map
     * {index: cert}. */
    unsigned wrong_type_keys;
    bool extra_key; /* an unknown key "veritee_extra" after timestamp, value extra_value */
    const uint8_t *extra_value; /* raw CBOR of its value; NULL: {"n": -2, "a": [1, h'00ff',
                                   "x", null, true], "t": 1(0)} */
    size_t extra_value_len;
    size_t payload_trailing; /* zero bytes after the payload map, inside the payload bstr */
    /* The whole payload bstr content (signed as given); overrides everything above. */
    const uint8_t *payload_override;
    size_t payload_override_len;
    /* envelope */
    bool tagged;                  /* tag 18 (0xD2) before the array */
    bool indefinite_array;        /* the COSE array as 9F .. FF */
    const uint8_t *protected_hdr; /* content of the protected bstr; NULL: a1 01 38 22 */
    size_t protected_len;
    const uint8_t *unprotected; /* raw CBOR item for the unprotected header; NULL: a0 */
    size_t unprotected_len;
    enum vt_nsim_sig_defect sig_defect;
    EVP_PKEY *signer; /* borrowed; NULL: the PKI's leaf key */
    size_t trailing;  /* zero bytes after the COSE array */
};

/*
 * Defaults for pki: module_id pki->module_id, digest "SHA384", timestamp = (leaf notBefore + 3 s)
 * in ms (NSM signs its first document seconds after the leaf is issued; with default PKI params
 * that is now - 597 s), 16 PCRs 0..15 of 48 bytes with PCR0..4 non-zero fixed patterns (PCR0..2:
 * image, kernel, application; 3 role, 4 instance) and PCR5..15 zero, cabundle [root, regional,
 * zonal, instance], optional fields null, no defects.
 */
void vt_nsim_doc_params_default(struct vt_nsim_doc_params *p, const struct vt_nsim_pki *pki);
/* Set p's PCRs the way a debug-mode enclave has them: PCR0, 1, 2 and 8 zero. */
void vt_nsim_doc_params_debug(struct vt_nsim_doc_params *p);

/* Where things are in a built document (byte offsets from its start). */
struct vt_nsim_doc_layout {
    size_t protected_off, protected_len; /* content of the protected bstr */
    size_t payload_off, payload_len;     /* content of the payload bstr */
    size_t sig_off, sig_len;             /* content of the signature bstr */
    size_t cose_len;                     /* through the end of the COSE item (before trailing) */
};

/* The payload bytes alone (the content of the payload bstr) as p describes them. */
bool vt_nsim_payload_build(const struct vt_nsim_pki *pki, const struct vt_nsim_doc_params *p,
                           struct vt_sim_blob *out);

/*
 * The CBOR Sig_structure ["Signature1", h'protected', h'', h'payload'] (what is signed).
 */
bool vt_nsim_sig_structure(const uint8_t *protected_hdr, size_t protected_len,
                           const uint8_t *payload, size_t payload_len, struct vt_sim_blob *out);

/*
 * ECDSA with SHA-384 over msg as raw r||s, each half left-padded to 48 bytes (so a P-256 key
 * also gives 96 bytes). False on failure.
 */
bool vt_nsim_sign_es384(EVP_PKEY *key, const void *msg, size_t len, uint8_t sig[96]);
/* Verify a raw 96-byte r||s with SHA-384 over msg against key. */
bool vt_nsim_verify_es384(EVP_PKEY *key, const void *msg, size_t len, const uint8_t sig[96]);

/*
 * Build the COSE_Sign1 document: payload as above, signed (ES384 raw r||s over SHA-384 of the
 * Sig_structure built from the protected and payload bytes actually written) with p->signer or
 * the leaf key, then the signature defect applied. layout may be NULL.
 */
bool vt_nsim_doc_build(const struct vt_nsim_pki *pki, const struct vt_nsim_doc_params *p,
                       struct vt_sim_blob *out, struct vt_nsim_doc_layout *layout);

/*
 * One call: a default PKI around now and a default document that verifies at now against the
 * PKI's root. *pki is freed with vt_nsim_pki_free, doc with vt_sim_blob_cleanup. On failure
 * both outputs are left NULL/empty.
 */
bool vt_nsim_default(vt_time now, struct vt_nsim_pki **pki, struct vt_sim_blob *doc);

/*
 * Write doc.cose (the document), root.pem and root.der (the PKI's root, for --trust-anchor) to
 * dir, creating dir if missing.
 */
bool vt_nsim_write_dir(const struct vt_nsim_pki *pki, const struct vt_sim_blob *doc,
                       const char *dir);

#endif
