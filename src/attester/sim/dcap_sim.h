/*
 * A synthetic Intel DCAP world for tests: a test PKI shaped like Intel's (root, PCK Processor or
 * Platform CA, PCK leaf with the SGX extension, TCB signing certificate, root and PCK CRLs), the
 * signed collateral (TCB info v2/v3, enclave identity v2) and SGX/TDX quotes (v3, v4, v5), with
 * knobs to reach every reject path and TCB verdict that real data cannot.
 *
 * Formats: shared/spec/dcap.md sections 1-3. Certificates mirror Intel's shapes (subject
 * attributes, key usages, basic constraints, AKI/SKI, CRL distribution points, the SGX extension
 * as a SEQUENCE of (OID, value) pairs) with "Test ..." common names that still satisfy QVL's CN
 * substring checks ("SGX Root CA", "CA", "SGX PCK Certificate", "SGX TCB Signing").
 *
 * Conventions: times are unix seconds (vt_time). Functions that can fail return bool (true on
 * success) or a pointer (NULL on failure) and print OpenSSL's error queue to stderr. Every buffer
 * returned to the caller is malloc'd and freed with free(); every struct ending in _new is freed
 * with its _free (NULL-safe). Description structs (_params, vt_sim_tcb_info, ...) are plain data
 * owned by the caller; string pointers inside them are borrowed for the duration of the call.
 * Strings given for JSON (ids, statuses, advisory IDs) are written verbatim, without escaping,
 * so tests can produce malformed documents on purpose.
 * Part of veritee_sim (src/attester/sim): it uses OpenSSL directly.
 */
#ifndef VT_TEST_DCAP_SIM_H
#define VT_TEST_DCAP_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <veritee/common.h>
#include <veritee/time.h>

#include "tee/dcap/dcap.h"

#define VT_SIM_DAY ((vt_time)86400)
#define VT_SIM_YEAR (365 * VT_SIM_DAY)

#define VT_SIM_MAX_REVOKED 8
#define VT_SIM_MAX_LEVELS 16
#define VT_SIM_MAX_ADVISORIES 8
#define VT_SIM_MAX_MODULE_IDS 4
#define VT_SIM_MAX_QE_AUTH 512

/* The Intel QE MRSIGNERs and ISVPRODIDs (spec section 1.5), used by the defaults. */
extern const uint8_t vt_sim_qe_mrsigner_sgx[32];
extern const uint8_t vt_sim_qe_mrsigner_tdx[32];

/* ---- a byte buffer ---- */

/* An owned byte buffer (data is malloc'd; NUL-terminated one past len when it holds text). */
struct vt_sim_blob {
    uint8_t *data;
    size_t len;
};

/* Free the data and zero the blob. NULL-safe. */
void vt_sim_blob_cleanup(struct vt_sim_blob *b);

/* ---- the PKI ---- */

/* The certificates of a test PKI. */
enum vt_sim_cert {
    VT_SIM_CERT_ROOT = 0,
    VT_SIM_CERT_PCK_CA,     /* the PCK Processor or Platform CA that issued the leaf */
    VT_SIM_CERT_PCK_LEAF,   /* the PCK certificate */
    VT_SIM_CERT_TCB_SIGNER, /* signs TCB info and enclave identities */
    VT_SIM_CERT_OTHER_CA,   /* the other PCK CA kind (Platform if the PCK CA is Processor) */
    VT_SIM_CERT_COUNT
};
#define VT_SIM_CERT_BIT(c) (1u << (unsigned)(c))

/* Deliberate defects in the SGX extension of the PCK leaf, bits of vt_sim_pck_params.ext_defects.
 */
enum vt_sim_ext_defect {
    VT_SIM_EXT_OMIT = 1u << 0,            /* no SGX extension at all */
    VT_SIM_EXT_DROP_PCEID = 1u << 1,      /* leave out the PCE-ID entry (4 or 6 entries) */
    VT_SIM_EXT_DUP_FMSPC = 1u << 2,       /* the FMSPC entry twice (6 or 8 entries) */
    VT_SIM_EXT_UNKNOWN_OID = 1u << 3,     /* FMSPC's slot uses the unknown OID ...13.1.99 */
    VT_SIM_EXT_TCB_NO_CPUSVN = 1u << 4,   /* the TCB sequence has 17 entries (no .2.18) */
    VT_SIM_EXT_SHORT_FMSPC = 1u << 5,     /* FMSPC is 5 bytes */
    VT_SIM_EXT_SHORT_PPID = 1u << 6,      /* PPID is 15 bytes */
    VT_SIM_EXT_SGXTYPE_INTEGER = 1u << 7, /* SGX type as INTEGER rather than ENUMERATED */
    VT_SIM_EXT_SVN_OVER_255 = 1u << 8,    /* TCB component 01 encoded as INTEGER 256 */
    VT_SIM_EXT_TRAILING_BYTE = 1u << 9,   /* a stray 0x00 after the outer SEQUENCE */
};

/* The PCK leaf and its SGX extension (OID 1.2.840.113741.1.13.1). */
struct vt_sim_pck_params {
    uint8_t ppid[16];
    uint8_t tcb_comps[16]; /* .2.1 .. .2.16 */
    uint16_t pcesvn;       /* .2.17 */
    uint8_t cpusvn[16];    /* .2.18 */
    uint8_t pceid[2];
    uint8_t fmspc[6];
    int sgx_type; /* 0 Standard, 1 Scalable, 2 ScalableWithIntegrity */
    /* true: 7 entries (platform instance ID and configuration, as under the Platform CA);
     * false: 5 entries (as under the Processor CA). Independent of the issuing CA's kind. */
    bool platform;
    uint8_t platform_instance_id[16];
    bool dynamic_platform, cached_keys, smt_enabled;
    vt_time not_before, not_after;
    unsigned ext_defects; /* enum vt_sim_ext_defect bits; 0 for a well-formed extension */
    /* If non-NULL, these exact bytes are the extension value (overrides everything above). */
    const uint8_t *ext_override;
    size_t ext_override_len;
};

/* A certificate serial number (big-endian magnitude). */
struct vt_sim_serial {
    uint8_t b[20];
    size_t len;
};

/* A CRL: validity, revoked entries, and a defect knob. */
struct vt_sim_crl_params {
    vt_time this_update, next_update;
    unsigned revoke_certs; /* VT_SIM_CERT_BIT(...) of PKI certificates to list as revoked */
    size_t n_revoked;      /* further revoked serials */
    struct vt_sim_serial revoked[VT_SIM_MAX_REVOKED];
    bool wrong_key; /* issuer name as expected, but signed by an unrelated key */
};

struct vt_sim_pki_params {
    bool platform_ca; /* the PCK CA is "Test SGX PCK Platform CA" (else "... Processor CA") */
    vt_time root_not_before, root_not_after;
    vt_time ca_not_before, ca_not_after; /* both PCK CAs */
    vt_time signer_not_before, signer_not_after;
    struct vt_sim_pck_params pck;
    struct vt_sim_crl_params root_crl;
    struct vt_sim_crl_params pck_crl;
    /* The PCK CRL (and its issuer chain) comes from the other CA kind, so its issuer differs
     * from the PCK leaf's issuer: the "CRL issuer mismatch" case. */
    bool pck_crl_from_other_ca;
    /* Certificates whose signature is made with an unrelated key (issuer name unchanged). */
    unsigned bad_signature_certs; /* VT_SIM_CERT_BIT(...) */
    /* Common-name overrides (NULL: the defaults "Test SGX Root CA", "Test SGX PCK Processor
     * CA" / "Test SGX PCK Platform CA", "Test SGX PCK Certificate", "Test SGX TCB Signing"). */
    const char *root_cn, *ca_cn, *leaf_cn, *signer_cn;
};

/* The PKI: keys, certificates and the two CRLs. Fields are readable; treat them as const. */
struct vt_sim_pki {
    struct vt_sim_pki_params params; /* a copy; CN pointers are not kept (NULLed) */
    EVP_PKEY *key[VT_SIM_CERT_COUNT];
    X509 *cert[VT_SIM_CERT_COUNT];
    EVP_PKEY *unrelated_key; /* signs what params ask to be signed with a wrong key */
    struct vt_sim_blob root_crl_der;
    struct vt_sim_blob pck_crl_der;
};

/*
 * Defaults around `now`: root valid now-6y .. now+24y, PCK CAs now-6y .. now+8y, TCB signer
 * now-1y .. now+6y, PCK leaf now-1y .. now+6y (7 years), root CRL this now-100d next now+265d,
 * PCK CRL this now-1d next now+29d; nothing revoked; the PCK CA is the Platform CA when
 * platform_ca is true. PCK values: vt_sim_pck_params_default(tee).
 */
void vt_sim_pki_params_default(struct vt_sim_pki_params *p, enum vt_tee tee, vt_time now);
/* Default PCK values: SGX: comps {9,9,2,4,255,255,1,0..}, pcesvn 13, FMSPC 30606A000000,
 * Standard, 5 entries. TDX: comps {7,7,2,2,3,1,0,3,0..}, pcesvn 11, FMSPC 30806F050000,
 * Scalable, 7 entries (SMT on, cached keys on). PCE-ID 0000; cpusvn = comps; PPID and platform
 * instance ID a fixed pattern. Validity now-1y .. now+6y. */
void vt_sim_pck_params_default(struct vt_sim_pck_params *p, enum vt_tee tee, vt_time now);

/* Generate a PKI (fresh P-256 keys). NULL on failure. */
struct vt_sim_pki *vt_sim_pki_new(const struct vt_sim_pki_params *p);
void vt_sim_pki_free(struct vt_sim_pki *pki);

/* Serial number of one of the PKI's certificates. */
void vt_sim_pki_serial(const struct vt_sim_pki *pki, enum vt_sim_cert which,
                       struct vt_sim_serial *out);

/* Build a CRL with explicit parameters: is_root selects the root CRL (issued by the root) or the
 * PCK CRL (issued by the PCK CA, or by the other CA if params.pck_crl_from_other_ca). DER into
 * out. */
bool vt_sim_pki_make_crl(const struct vt_sim_pki *pki, bool is_root,
                         const struct vt_sim_crl_params *cp, struct vt_sim_blob *out);
/* Replace the PKI's root or PCK CRL with one made from cp. */
bool vt_sim_pki_set_crl(struct vt_sim_pki *pki, bool is_root, const struct vt_sim_crl_params *cp);

/* One certificate as PEM (text, NUL-terminated, len without the NUL) or DER. */
bool vt_sim_pki_cert_pem(const struct vt_sim_pki *pki, enum vt_sim_cert which,
                         struct vt_sim_blob *out);
bool vt_sim_pki_cert_der(const struct vt_sim_pki *pki, enum vt_sim_cert which,
                         struct vt_sim_blob *out);

enum vt_sim_chain {
    VT_SIM_CHAIN_PCK,            /* leaf, PCK CA, root: the quote's certification data type 5 */
    VT_SIM_CHAIN_TCB_SIGNER,     /* TCB signer, root: tcb_info / qe_identity issuer chains */
    VT_SIM_CHAIN_PCK_CRL_ISSUER, /* the PCK CRL's issuer CA, root: pck_crl_issuer_chain.pem */
};
/*
 * A chain as concatenated PEM. out->len counts the text; out->data is NUL-terminated either way.
 * with_nul: out->len also counts that NUL (the form the quote's certification data carries).
 */
bool vt_sim_pki_chain_pem(const struct vt_sim_pki *pki, enum vt_sim_chain which, bool with_nul,
                          struct vt_sim_blob *out);

/* The DER value of the SGX extension as p describes it (defects and override applied). */
bool vt_sim_pck_ext_der(const struct vt_sim_pck_params *p, struct vt_sim_blob *out);

/* ---- raw signatures ---- */

/* ECDSA P-256 / SHA-256 over msg with key, as raw r||s. */
bool vt_sim_sign_raw(EVP_PKEY *key, const void *msg, size_t len, uint8_t sig[64]);
/* Verify a raw r||s over msg with a raw X||Y public key. False on any failure. */
bool vt_sim_verify_raw(const uint8_t xy[64], const void *msg, size_t len, const uint8_t sig[64]);
/* The raw X||Y public key of a P-256 key. */
bool vt_sim_pubkey_xy(EVP_PKEY *key, uint8_t xy[64]);

/*
 * A PCS-style signed document {"<member>":<inner>,"signature":"<128 lowercase hex>"}, the
 * signature made by key over exactly the inner bytes (which need not be valid JSON).
 */
bool vt_sim_sign_json(EVP_PKEY *key, const char *member, const char *inner, size_t inner_len,
                      struct vt_sim_blob *out);

/* ---- TCB info ---- */

/* A TCB info level. Status strings are written verbatim (tests may use invalid ones). */
struct vt_sim_tcb_level {
    uint8_t sgx_comps[16];
    uint16_t pcesvn;
    uint8_t tdx_comps[16]; /* written when the TCB info is TDX v3 */
    const char *status;    /* NULL: "UpToDate" */
    vt_time tcb_date;
    size_t n_advisories;
    const char *advisories[VT_SIM_MAX_ADVISORIES];
};

/* A level of an enclave identity or of a TDX module identity. */
struct vt_sim_isv_level {
    uint16_t isvsvn;
    const char *status; /* NULL: "UpToDate" */
    vt_time tcb_date;
    size_t n_advisories;
    const char *advisories[VT_SIM_MAX_ADVISORIES];
};

struct vt_sim_module_identity {
    const char *id; /* "TDX_01" */
    uint8_t mrsigner[48];
    uint8_t attributes[8];
    uint8_t attributes_mask[8];
    size_t n_levels;
    struct vt_sim_isv_level levels[VT_SIM_MAX_LEVELS];
};

struct vt_sim_tcb_info {
    enum vt_tee tee; /* VT_TEE_SGX or VT_TEE_TDX: "id" (v3), TDX members */
    const char *id;  /* NULL: from tee; else written verbatim (v3) */
    int version;     /* 3 (PCS v4) or 2 (legacy, no "id", flat component fields) */
    vt_time issue_date, next_update;
    uint8_t fmspc[6];
    uint8_t pceid[2];
    bool fmspc_lowercase; /* hex case of fmspc/pceId (PCS varies); other hex is uppercase */
    int tcb_type;
    uint32_t tcb_eval_num;
    bool component_labels; /* v3: add "category"/"type" members to some components, as PCS */
    /* TDX v3 only: */
    bool has_tdx_module;
    uint8_t tdx_module_mrsigner[48];
    uint8_t tdx_module_attributes[8];
    uint8_t tdx_module_attributes_mask[8];
    size_t n_module_identities;
    struct vt_sim_module_identity module_identities[VT_SIM_MAX_MODULE_IDS];
    size_t n_levels;
    struct vt_sim_tcb_level levels[VT_SIM_MAX_LEVELS];
};

/* The inner object {"id":...,"tcbLevels":[...]} in PCS compact form and key order. */
bool vt_sim_tcb_info_inner(const struct vt_sim_tcb_info *t, struct vt_sim_blob *out);
/* The signed document {"tcbInfo":{...},"signature":"..."}, signed with key (normally the
 * PKI's TCB signer key: pki->key[VT_SIM_CERT_TCB_SIGNER]). */
bool vt_sim_tcb_info_json(const struct vt_sim_tcb_info *t, EVP_PKEY *key, struct vt_sim_blob *out);

/* ---- enclave (QE) identity ---- */

struct vt_sim_qe_identity {
    const char *id; /* "QE", "TD_QE", "QVE", ...; written verbatim */
    int version;    /* 2 */
    vt_time issue_date, next_update;
    uint32_t tcb_eval_num;
    uint8_t miscselect[4], miscselect_mask[4];   /* report byte order */
    uint8_t attributes[16], attributes_mask[16]; /* report byte order */
    uint8_t mrsigner[32];
    uint16_t isvprodid;
    size_t n_levels;
    struct vt_sim_isv_level levels[VT_SIM_MAX_LEVELS];
};

bool vt_sim_qe_identity_inner(const struct vt_sim_qe_identity *q, struct vt_sim_blob *out);
/* {"enclaveIdentity":{...},"signature":"..."} signed with key. */
bool vt_sim_qe_identity_json(const struct vt_sim_qe_identity *q, EVP_PKEY *key,
                             struct vt_sim_blob *out);

/* ---- quotes ---- */

/* The fields of an SGX report body (384 bytes): the enclave report and the QE report. */
struct vt_sim_sgx_report {
    uint8_t cpusvn[16];
    uint32_t miscselect;
    uint8_t isv_ext_prod_id[16];
    uint8_t attributes[16];
    uint8_t mrenclave[32];
    uint8_t mrsigner[32];
    uint8_t config_id[64];
    uint16_t isv_prod_id;
    uint16_t isv_svn;
    uint16_t config_svn;
    uint8_t isv_family_id[16];
    uint8_t report_data[64]; /* for the QE report: ignored unless qe_report_data_verbatim */
};

/* The fields of a TD report body (584 bytes for TDX 1.0, 648 for 1.5). */
struct vt_sim_td_report {
    uint8_t tee_tcb_svn[16];
    uint8_t mrseam[48];
    uint8_t mrsignerseam[48];
    uint8_t seam_attributes[8];
    uint8_t td_attributes[8];
    uint8_t xfam[8];
    uint8_t mrtd[48];
    uint8_t mrconfigid[48];
    uint8_t mrowner[48];
    uint8_t mrownerconfig[48];
    uint8_t rtmr[4][48];
    uint8_t report_data[64];
    uint8_t tee_tcb_svn2[16]; /* TD 1.5 */
    uint8_t mrservicetd[48];  /* TD 1.5 */
};

/* Deliberate defects, bits of vt_sim_quote_params.defects. */
enum vt_sim_quote_defect {
    VT_SIM_BAD_QUOTE_SIG = 1u << 0,       /* flip a bit of the quote signature */
    VT_SIM_BAD_QE_REPORT_SIG = 1u << 1,   /* flip a bit of the QE report signature */
    VT_SIM_BAD_QE_REPORT_DATA = 1u << 2,  /* QE report data[0] wrong (QE report still signed) */
    VT_SIM_QE_REPORT_DATA_TAIL = 1u << 3, /* QE report data[63] not zero (still signed) */
    /* attestation key bytes not on the curve (binding and QE signature over the bad bytes) */
    VT_SIM_BAD_ATT_KEY = 1u << 4,
};

struct vt_sim_quote_params {
    uint16_t version; /* layout: 3, 4 or 5 */
    enum vt_tee tee;  /* SGX or TDX */
    /* v5 body type (1 SGX, 2 TD 1.0, 3 TD 1.5); 0: SGX 1, TDX 3. v4 TDX is always TD 1.0. A type
     * inconsistent with tee is written as asked, with the body of the type's size. */
    uint16_t body_type;
    /* Raw header overrides (0: natural value): version field, key type, TEE type. */
    uint16_t header_version;
    uint16_t att_key_type;
    bool tee_type_override;
    uint32_t tee_type;
    uint16_t qe_svn, pce_svn; /* v3 header */
    uint8_t qe_vendor_id[16];
    uint8_t user_data[20];
    struct vt_sim_sgx_report sgx; /* enclave report (tee SGX) */
    struct vt_sim_td_report td;   /* TD report (tee TDX) */
    struct vt_sim_sgx_report qe;  /* QE report */
    bool qe_report_data_verbatim; /* use qe.report_data as is instead of the binding */
    uint16_t qe_auth_len;         /* <= VT_SIM_MAX_QE_AUTH */
    uint8_t qe_auth[VT_SIM_MAX_QE_AUTH];
    /* Certification data (inside the type-6 wrapper for v4/v5). cert_data NULL: the PKI's PCK
     * chain PEM with its NUL terminator. */
    uint16_t cert_type;       /* default 5 */
    uint16_t outer_cert_type; /* v4/v5; default 6 */
    const uint8_t *cert_data;
    size_t cert_data_len;
    /* Length-field offsets added to the natural values (0: consistent). */
    int32_t body_size_delta;    /* v5 body size field */
    int32_t sig_data_len_delta; /* the u32 signature data length */
    int32_t outer_size_delta;   /* v4/v5 type-6 size */
    int32_t cert_size_delta;    /* the (inner) certification data size */
    size_t trailing;            /* padding bytes (zero) after the signature data */
    unsigned defects;           /* enum vt_sim_quote_defect bits */
    EVP_PKEY *att_key;          /* borrowed; NULL: a fresh P-256 attestation key */
    /* borrowed, 64 bytes: the QE report's signature to carry instead of signing it again (a
     * platform's QE signs its report once per attestation key: with att_key, pass the signature
     * of an earlier quote's QE report, vt_sim_quote.layout.qe_report_sig_off); NULL: sign */
    const uint8_t *qe_report_sig;
};

/* Where things are in a built quote (byte offsets from the start). */
struct vt_sim_quote_layout {
    size_t body_off, body_size; /* report body */
    size_t signed_len;          /* the quote signature covers [0, signed_len) */
    size_t sig_data_len_off;    /* the u32 length */
    size_t sig_data_off;        /* signature data: quote signature at +0, key at +64 */
    size_t outer_cert_off;      /* v4/v5: the u16 type 6, then u32 size; v3: 0 */
    size_t qe_report_off;
    size_t qe_report_sig_off;
    size_t qe_auth_len_off; /* the u16 N; the data follows */
    size_t cert_type_off;   /* the (inner) u16 type, then u32 size, then the data */
    size_t cert_data_off;
    size_t cert_data_len;
    size_t quote_len; /* through the end of the signature data */
};

/* A built quote. data is malloc'd; att_key is owned (a reference even when borrowed in params). */
struct vt_sim_quote {
    uint8_t *data;
    size_t len; /* quote_len + trailing */
    struct vt_sim_quote_layout layout;
    EVP_PKEY *att_key;
};

/*
 * Defaults for tee and layout version: enclave/TD report with plausible values (TDX: TEE_TCB_SVN
 * {5,1,7,0..} = TDX module 1.x SVN 5, TEE_TCB_SVN_2 equal, zero MRSIGNERSEAM and SEAMATTRIBUTES,
 * TDATTRIBUTES 0x10 in byte 3, XFAM e7,1a,06; SGX: attributes 05.., xfrm e7), the QE report of
 * Intel's QE (SGX: MRSIGNER vt_sim_qe_mrsigner_sgx, ISVPRODID 1, ISVSVN 8; TDX: the TD-QE,
 * ISVPRODID 2, ISVSVN 4; attributes 15..e7.., MISCSELECT 0), cpusvn from the default PCK
 * params, 32 bytes of QE auth data, certification type 5 from the PKI, no defects.
 */
void vt_sim_quote_params_default(struct vt_sim_quote_params *qp, enum vt_tee tee, uint16_t version);

/*
 * Build a quote: a fresh attestation key (unless given), QE report data = SHA-256(attestation
 * key || QE auth data) || 32 zero bytes, the QE report signed with the PCK leaf key (raw r||s),
 * header..body signed with the attestation key; then defects applied. out is caller storage;
 * free with vt_sim_quote_cleanup.
 */
bool vt_sim_quote_build(const struct vt_sim_pki *pki, const struct vt_sim_quote_params *qp,
                        struct vt_sim_quote *out);
/* The same, returning just the malloc'd quote bytes (NULL on failure). */
uint8_t *vt_sim_quote_make(const struct vt_sim_pki *pki, const struct vt_sim_quote_params *qp,
                           size_t *len);
/* Re-sign [0, layout.signed_len) with the attestation key after the caller edited the header or
 * body bytes in place. */
bool vt_sim_quote_resign(struct vt_sim_quote *q);
void vt_sim_quote_cleanup(struct vt_sim_quote *q);

/* ---- the whole scenario ---- */

/*
 * A consistent set: PKI, TCB info, QE identity and quote that verify as UpToDate at `now` with
 * the PKI's root as trust anchor. The description members may be edited and the artefacts rebuilt
 * with vt_sim_scenario_build (fresh keys each time; everything regenerated). Any artefact blob
 * may also be replaced by the caller with another malloc'd buffer (it is freed with free()).
 */
struct vt_sim_scenario {
    enum vt_tee tee;
    vt_time now;
    /* descriptions */
    struct vt_sim_pki_params pki_params;
    struct vt_sim_tcb_info tcb_info;
    struct vt_sim_qe_identity qe_identity;
    struct vt_sim_quote_params quote_params;
    /* artefacts */
    struct vt_sim_pki *pki;
    struct vt_sim_quote quote;
    struct vt_sim_blob tcb_info_json;
    struct vt_sim_blob qe_identity_json;
    struct vt_sim_blob tcb_info_chain_pem;    /* TCB signer, root */
    struct vt_sim_blob qe_identity_chain_pem; /* TCB signer, root */
    struct vt_sim_blob pck_crl_der;
    struct vt_sim_blob pck_crl_chain_pem; /* the PCK CRL's issuer, root */
    struct vt_sim_blob root_crl_der;
    struct vt_sim_blob root_pem; /* for --trust-anchor */
    struct vt_sim_blob root_der;
};

/*
 * Fill the descriptions of a default scenario for tee (VT_TEE_SGX or VT_TEE_TDX) and quote
 * version (3 SGX only; 4; 5) at now, without building. TCB info v3 with two levels (the
 * platform's: UpToDate; lower: OutOfDate with an advisory), for TDX the tdxModule and module
 * identities TDX_01 (isvsvn 5 UpToDate, 2 OutOfDate) and TDX_03; QE identity QE / TD_QE with
 * levels at the quote's QE ISVSVN (UpToDate) and below (OutOfDate). Documents issued now-1d,
 * next update now+29d.
 */
void vt_sim_scenario_init(struct vt_sim_scenario *s, enum vt_tee tee, uint16_t version,
                          vt_time now);
/* (Re)build every artefact from the descriptions. */
bool vt_sim_scenario_build(struct vt_sim_scenario *s);
/* Build every artefact but the PKI, which is given (taken over: freed with the scenario, also on
 * failure), e.g. one loaded from disk. */
bool vt_sim_scenario_build_with_pki(struct vt_sim_scenario *s, struct vt_sim_pki *pki);
/* init + build on the heap: the "one call" default. NULL on failure. */
struct vt_sim_scenario *vt_sim_scenario_new(enum vt_tee tee, uint16_t version, vt_time now);
void vt_sim_scenario_free(struct vt_sim_scenario *s);
/* Frees the artefacts of a caller-storage scenario (descriptions untouched). */
void vt_sim_scenario_cleanup(struct vt_sim_scenario *s);

/* Point a collateral input at the scenario's artefacts (borrowed). */
void vt_sim_scenario_collateral(const struct vt_sim_scenario *s,
                                struct vt_dcap_collateral_input *in);
/*
 * Write the artefacts to dir (created if missing) in the fixtures' layout: quote.bin,
 * tcb_info.json, qe_identity.json, tcb_info_issuer_chain.pem, qe_identity_issuer_chain.pem,
 * pck_crl.der, pck_crl_issuer_chain.pem, root_ca_crl.der, root.pem.
 */
bool vt_sim_scenario_write_dir(const struct vt_sim_scenario *s, const char *dir);

#endif
