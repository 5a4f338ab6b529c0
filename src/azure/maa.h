/*
 * The Microsoft Azure Attestation (MAA) drop-in (docs/maa.md): the attest endpoints of MAA's REST
 * API (SgxEnclave, OpenEnclave, TdxVm, SevSnpVm), tokens shaped as MAA's (RS256, jku and kid
 * headers, the x-ms-* claims) signed by an RSA-2048 key whose self-signed certificate is published
 * at /certs, and attestation policies in MAA's policy language (src/azure/maa_policy.h) set and
 * read as MAA's policy management API does.
 *
 * The service runs on a struct vt_broker: its store, master key (the signing key is sealed under
 * it), clock and verifier (evidence is verified by veritee with collateral from veritee's cache,
 * as the broker's /v1/attest does). Its tables are the "maa" schema component
 * (store/migrations.c).
 *
 * Files: maa.c (open, close, the signing key and certificate), maa_request.c (the request
 * readers: attest bodies, policy tokens), maa_attest.c (evidence, report-data rule, claims,
 * tokens), maa_policies.c (stored policies), maa_api.c (HTTP).
 *
 * Internal to the veritee tree (src/), not installed.
 */
#ifndef VT_AZURE_MAA_H
#define VT_AZURE_MAA_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "azure/az_error.h"
#include "azure/maa_policy.h"
#include "base/pincache.h"
#include "broker/broker.h"
#include "crypto/jose.h"

struct json_t;

/* ---- limits ---- */
#define VT_MAA_BODY_MAX (1u << 20)           /* an attest request body */
#define VT_MAA_EVIDENCE_MAX (64u << 10)      /* quote / report, decoded */
#define VT_MAA_DATA_MAX (32u << 10)          /* runtimeData / initTimeData, decoded */
#define VT_MAA_NONCE_MAX 256                 /* the request's nonce (echoed in the token) */
#define VT_MAA_POLICY_TOKEN_MAX (256u << 10) /* a policy JWS (PUT /policies/{type}) */
#define VT_MAA_ISSUER_MAX 256
#define VT_MAA_TOKEN_TTL (8 * 3600) /* MAA's tokens are valid 8 hours */
#define VT_MAA_SIGNERS_MAX 16       /* trusted policy signing certificates */
#define VT_MAA_POLICY_CACHE 64      /* compiled policies kept */

/* The api-version values accepted (docs/maa.md, "API versions"): 2020-10-01 is what
 * @azure/attestation 1.0.0 sends, 2022-08-01 the current GA version. */
#define VT_MAA_API_VERSIONS "2020-10-01, 2022-08-01"
bool vt_maa_api_version_ok(const char *v);

/* ---- attestation types ---- */
enum vt_maa_type {
    VT_MAA_SGX = 0, /* SgxEnclave: an SGX DCAP quote */
    VT_MAA_OE,      /* OpenEnclave: an Open Enclave remote report (header + SGX quote) */
    VT_MAA_TDX,     /* TdxVm: a TDX DCAP quote */
    VT_MAA_SNP,     /* SevSnpVm: an SEV-SNP report */
    VT_MAA_TYPE_COUNT
};
/* "SgxEnclave", "OpenEnclave", "TdxVm", "SevSnpVm". */
const char *vt_maa_type_name(enum vt_maa_type t);
/* The type of a URL segment (case-insensitive, as MAA accepts), false if none. */
bool vt_maa_type_parse(const char *s, enum vt_maa_type *t);

/* ---- the request readers (maa_request.c): untrusted input ---- */
enum vt_maa_data_type { VT_MAA_DATA_NONE = 0, VT_MAA_DATA_BINARY, VT_MAA_DATA_JSON };

/* runtimeData or initTimeData: {"data": base64url, "dataType": "Binary" | "JSON"}. */
struct vt_maa_data {
    enum vt_maa_data_type type; /* NONE: absent */
    uint8_t *data;              /* heap, decoded */
    size_t len;
    struct json_t *json; /* JSON: the parsed data (an object); NULL otherwise */
};

struct vt_maa_attest_req {
    enum vt_maa_type type;
    uint8_t *evidence; /* heap: "quote" (SGX, TDX) or "report" (OE, SNP), decoded */
    size_t evidence_len;
    struct vt_maa_data runtime, inittime;
    char *nonce;        /* heap or NULL */
    char *draft_policy; /* heap or NULL: "draftPolicyForAttestation" */
};

/*
 * Read an attest request body (len bytes of JSON) for type t. Members, as MAA names them:
 * "quote" (SgxEnclave, TdxVm) or "report" (OpenEnclave, SevSnpVm), base64url, required, 1 to
 * VT_MAA_EVIDENCE_MAX bytes; "runtimeData", "initTimeData" ({"data": base64url of 1 to
 * VT_MAA_DATA_MAX bytes, "dataType": "Binary" or "JSON"; JSON data must be one JSON object},
 * optional); "nonce" (string of 1 to VT_MAA_NONCE_MAX bytes, optional); "draftPolicyForAttestation"
 * (policy text, optional). Unknown members are refused (a misspelt field must not pass unseen).
 * Errors, check = the member's JSON path ("$.runtimeData.dataType"): VT_E_TOO_LARGE, VT_E_BAD_JSON,
 * VT_E_DUPLICATE, VT_E_MISSING_FIELD, VT_E_BAD_FIELD, VT_E_BAD_BASE64, VT_E_BAD_LENGTH,
 * VT_E_UNSUPPORTED (a member MAA has but not this type, or one unknown), VT_E_NOMEM. On failure
 * *r is empty (vt_maa_attest_req_cleanup is still safe).
 */
VT_MUST_USE enum vt_err vt_maa_attest_req_parse(enum vt_maa_type t, const uint8_t *body, size_t len,
                                                struct vt_maa_attest_req *r, struct vt_diag *d);
void vt_maa_attest_req_cleanup(struct vt_maa_attest_req *r);

/* An Open Enclave remote report: version 1, type 2 (SGX remote), report_size == the rest,
 * which is the SGX quote (*quote, *quote_len borrowed from p). VT_E_TRUNCATED,
 * VT_E_UNSUPPORTED_VERSION ("oe.version"), VT_E_UNSUPPORTED ("oe.report_type": a local report),
 * VT_E_BAD_LENGTH ("oe.report_size"). */
VT_MUST_USE enum vt_err vt_maa_oe_report_parse(const uint8_t *p, size_t n, const uint8_t **quote,
                                               size_t *quote_len, struct vt_diag *d);

/* A SevSnpVm report in MAA's JSON envelope {"SnpReport": base64url, "VcekCertChain":
 * base64url of PEM, optional}: *report (heap, the SEV-SNP report's bytes) and, when the chain is
 * given, *vek (heap DER of its first certificate). Errors, check "report" or
 * "report.SnpReport" / "report.VcekCertChain": VT_E_BAD_JSON, VT_E_BAD_FIELD, VT_E_UNSUPPORTED
 * (an unknown member), VT_E_MISSING_FIELD, VT_E_BAD_BASE64, VT_E_BAD_LENGTH, VT_E_TOO_LARGE, the
 * PEM reader's errors, VT_E_NOMEM. Nothing is allocated on failure. */
VT_MUST_USE enum vt_err vt_maa_snp_envelope_parse(const uint8_t *p, size_t n, uint8_t **report,
                                                  size_t *report_len, uint8_t **vek,
                                                  size_t *vek_len, struct vt_diag *d);

/* A policy-management JWS as @azure/attestation sends it (PUT /policies/{type}, the body of
 * :reset): compact, header alg "none" (unsigned) or "RS256" with x5c (signed). */
struct vt_maa_policy_token {
    bool signed_;        /* RS256 with x5c, the signature verified with x5c[0]'s key */
    uint8_t *signer_der; /* heap: x5c[0] (signed) */
    size_t signer_len;
    char *policy; /* heap, NUL-terminated: the policy text (StoredAttestationPolicy's
                     AttestationPolicy decoded); NULL for a reset token (empty payload) */
    size_t policy_len;
    uint8_t token_hash[32]; /* SHA-256 of the compact token as received */
};
/*
 * Read and (when signed) verify a policy token. want_policy: the payload must be
 * {"AttestationPolicy": base64url of the policy text}; else (reset) it must be empty or "{}".
 * Errors (check "policy.token", "policy.alg", "policy.x5c", "policy.payload",
 * "policy.AttestationPolicy", or the jws.* checks of the RS256 verifier): VT_E_TOO_LARGE,
 * VT_E_MALFORMED, VT_E_BAD_BASE64, VT_E_BAD_JSON, VT_E_DUPLICATE, VT_E_MISSING_FIELD,
 * VT_E_BAD_FIELD, VT_E_UNSUPPORTED_ALGORITHM, VT_E_BAD_CERT, VT_E_SIGNATURE, VT_E_NOMEM.
 */
VT_MUST_USE enum vt_err vt_maa_policy_token_parse(const char *compact, size_t len, bool want_policy,
                                                  struct vt_maa_policy_token *t, struct vt_diag *d);
void vt_maa_policy_token_cleanup(struct vt_maa_policy_token *t);

/* ---- the service (maa.c) ---- */
struct vt_maa_config {
    /* "iss" of tokens and the base of "jku" (ISSUER/certs): the URL clients use, e.g.
     * "https://attest.example.com:8443" (no trailing slash). NULL: set later with
     * vt_maa_set_issuer before serving. */
    const char *issuer;
    /* PEM files of certificates trusted to sign policies (NULL-terminated, or NULL). With any,
     * every policy must be signed by one of them (MAA's isolated mode); with none, unsigned
     * policies and self-signed ones are accepted from an admin (MAA's AAD mode). */
    const char *const *policy_signers;
    int64_t token_ttl; /* seconds; 0: VT_MAA_TOKEN_TTL */
    enum vt_schema_mode schema_mode;
};

struct vt_maa_signer {
    char kid[VT_JOSE_KID_MAX];
    struct vt_jwk *key; /* RSA-2048 with its private half */
    uint8_t *cert_der;  /* self-signed certificate (heap) */
    size_t cert_len;
};

struct vt_maa {
    struct vt_broker *b;
    pthread_mutex_t lock; /* issuer */
    char issuer[VT_MAA_ISSUER_MAX];
    int64_t token_ttl;
    struct vt_maa_signer signer; /* the active signing key */
    struct vt_cert_list trusted_signers;
    /* compiled policies by the SHA-256 of their text: compiled once, read-only, shared by every
     * thread (vt_maa_policy_eval takes them const) */
    struct vt_pincache policies;
};

/* Open the service on b: apply the "maa" schema component, load the signing key (or create it:
 * RSA-2048, sealed under the master key, a self-signed certificate valid 10 years), read the
 * trusted policy signers. Errors: VT_E_ARG ("maa.issuer"), the store's, VT_E_INTEGRITY
 * ("maa.signing_key": the sealed key does not open under this master key), VT_E_NOMEM. */
VT_MUST_USE enum vt_err vt_maa_open(const struct vt_maa_config *cfg, struct vt_broker *b,
                                    struct vt_maa **out, struct vt_diag *d);
void vt_maa_close(struct vt_maa *m);
/* Set the issuer URL (e.g. once the port is known): VT_E_ARG if not http(s)://... or too long. */
VT_MUST_USE enum vt_err vt_maa_set_issuer(struct vt_maa *m, const char *url, struct vt_diag *d);
/* The issuer URL (borrowed: fixed once serving). */
const char *vt_maa_issuer(const struct vt_maa *m);
/* The key that signs this MAA's tokens with that kid (public and private; borrowed while m
 * lives), or NULL if kid is unknown: for an in-process Key Vault to trust the tokens. */
const struct vt_jwk *vt_maa_signer_key(struct vt_maa *m, const char *kid);
vt_time vt_maa_now(const struct vt_maa *m);

/* The JWKS of /certs: {"keys":[{"kty","kid","use":"sig","alg":"RS256","n","e","x5c":[..]}]}
 * (heap JSON text, NULL if out of memory). */
char *vt_maa_jwks(struct vt_maa *m);
/* x-ms-policy-signer: the public JWK of a policy signer's DER certificate with "x5c" (a new
 * object), or NULL if it is not an RSA certificate or memory runs out. */
struct json_t *vt_maa_signer_jwk(const uint8_t *der, size_t n);
/* The OpenID metadata of /.well-known/openid-configuration (heap JSON text). */
char *vt_maa_openid_configuration(struct vt_maa *m);
/* Sign a payload (an object) as an MAA token: RS256, {jku, kid, typ "JWT", x5c}. */
VT_MUST_USE enum vt_err vt_maa_sign(struct vt_maa *m, const struct json_t *payload, char **jwt,
                                    struct vt_diag *d);

/* ---- policies (maa_policies.c) ---- */
/* MAA's default policy text for every type: permit every verified evidence, issue nothing. */
extern const char vt_maa_default_policy[];
/* The stored policy of a type as uploaded, or the default. */
struct vt_maa_stored {
    char *text;          /* heap: the policy text */
    char *token;         /* heap: the JWS as uploaded (for the default, an unsigned JWS of it) */
    uint8_t *signer_der; /* heap or NULL */
    size_t signer_len;
    bool is_default;
};
VT_MUST_USE enum vt_err vt_maa_policy_get(struct vt_maa *m, enum vt_maa_type t,
                                          struct vt_maa_stored *out, struct vt_diag *d);
void vt_maa_stored_cleanup(struct vt_maa_stored *s);
/* Store a checked policy (text compiled first: VT_E_MALFORMED / VT_E_UNSUPPORTED as
 * vt_maa_policy_compile says) with its token; text NULL: reset to the default. */
VT_MUST_USE enum vt_err vt_maa_policy_put(struct vt_maa *m, enum vt_maa_type t,
                                          const struct vt_maa_policy_token *tok,
                                          const char *token_text, struct vt_diag *d);
/* Evaluate the stored policy of t (compiled once per text), or draft_text when not NULL, over
 * incoming; hash gets x-ms-policy-hash (base64url of SHA-256 of the base64url policy text) and
 * *signer (heap, may be NULL) x-ms-policy-signer when the stored policy was signed. */
VT_MUST_USE enum vt_err vt_maa_policy_run(struct vt_maa *m, enum vt_maa_type t,
                                          const char *draft_text, const struct json_t *incoming,
                                          struct vt_maa_policy_result *r, char hash[44],
                                          struct json_t **signer, struct vt_diag *d);
/* Whether a policy token's signer is trusted (trusted_signers, or any self-consistent signer and
 * unsigned tokens when none is configured). VT_E_UNAUTHORIZED ("policy.signer") if not. */
VT_MUST_USE enum vt_err vt_maa_policy_signer_check(struct vt_maa *m,
                                                   const struct vt_maa_policy_token *tok,
                                                   struct vt_diag *d);

/* ---- attestation (maa_attest.c) ---- */
/* Attest: verify the evidence, apply the report-data rule, evaluate the policy, issue the token.
 * true with *jwt (heap), or false with *e. */
VT_MUST_USE bool vt_maa_attest(struct vt_maa *m, const struct vt_maa_attest_req *q, char **jwt,
                               struct vt_az_error *e);

/* ---- HTTP (maa_api.c) ---- */
void vt_maa_http_handler(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp);
void vt_maa_http_route(void *ctx, const struct vt_http_req *req, struct vt_http_route *route,
                       struct vt_http_resp *resp);
const struct vt_http_route_entry *vt_maa_routes(size_t *n);

/* ---- store (maa.c) ---- */
/* Master-key operations on the maa tables (none when the component is absent), in the caller's
 * transaction: re-seal the signing keys under new_master; open them all under master. */
VT_MUST_USE enum vt_err vt_maa_store_rewrap(struct vt_store *s, const uint8_t master[32],
                                            const uint8_t new_master[32], size_t *n,
                                            struct vt_diag *d);
VT_MUST_USE enum vt_err vt_maa_store_check(struct vt_store *s, const uint8_t master[32], size_t *n,
                                           struct vt_diag *d);
/* The two above for the broker's rotation and check (store/master_key.h). */
extern const struct vt_sealed_service vt_maa_sealed;

#endif
