/*
 * The Azure Key Vault keys drop-in with Secure Key Release (docs/skr.md): the REST paths,
 * KeyBundle JSON and errors of Key Vault's keys API as @azure/keyvault-keys uses them, keys kept
 * sealed under the broker's master key, release policies in Key Vault's SKR grammar
 * (skr_policy.h), and POST /keys/{name}/{version}/release: a target attestation token from a
 * trusted issuer is verified (RS256, exp/nbf), the key's release policy is evaluated against its
 * claims, and the key material is wrapped (CKM_RSA_AES_KEY_WRAP or its SHA-2 variants) to the
 * RSA key the token's x-ms-runtime.keys names, inside a JWS signed by this vault. Every release
 * decision is an entry of the broker's Merkle log.
 *
 * The service runs on a struct vt_broker (its store, master key, clock and log): its tables are
 * the "keyvault" schema component (store/migrations.c).
 *
 * Files: kv.c (open, close, trusted issuers, the signing key), kv_store.c (tables), kv_ops.c
 * (the operations and the KeyBundle JSON), kv_release.c (the release), kv_api.c (HTTP and the
 * bearer challenge).
 *
 * Internal to the veritee tree (src/), not installed.
 */
#ifndef VT_AZURE_KV_H
#define VT_AZURE_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "azure/az_error.h"
#include "broker/broker.h"
#include "crypto/jose.h"
#include "net/http.h"
#include "store/schema.h"

struct json_t;

#define VT_KV_NAME_MAX 127          /* a key name: 1..127 of [0-9A-Za-z-] */
#define VT_KV_VERSION_LEN 32        /* a version: 32 lowercase hex digits */
#define VT_KV_BODY_MAX (256u << 10) /* a request body */
#define VT_KV_TOKEN_MAX (64u << 10) /* a release's target token */
#define VT_KV_NONCE_MAX 1024        /* a release's nonce */
#define VT_KV_TAGS_MAX 15           /* tags of a key (Key Vault's limit) */
#define VT_KV_TAG_MAX 256           /* bytes of a tag's name or value */
#define VT_KV_ISSUERS_MAX 16        /* trusted issuers */
#define VT_KV_ISSUER_KEYS_MAX 32    /* keys of one issuer */
#define VT_KV_URL_MAX 256           /* the vault URL, resource and authorization */
#define VT_KV_LIST_MAX 25           /* entries of a list page */
#define VT_KV_CONTENT_TYPE "application/json; charset=utf-8"

/* One issuer of attestation tokens the administrator trusts: its "iss" and signing keys. */
struct vt_kv_issuer {
    char iss[VT_KV_URL_MAX];
    size_t n;
    struct vt_jwk *keys[VT_KV_ISSUER_KEYS_MAX];
    char kids[VT_KV_ISSUER_KEYS_MAX][VT_JOSE_KID_MAX];
};

/*
 * Parse a trusted issuer from "ISS=JWKS_FILE": ISS an http(s) URL, the file a JWK set whose RSA
 * keys (each with a "kid") sign that issuer's tokens. Errors name the file and the key: VT_E_ARG
 * ("kv.issuer"), vt_file_read's, VT_E_BAD_JSON ("kv.jwks"), VT_E_MISSING_FIELD ("kv.jwks.kid"),
 * vt_jwk_from_json's, VT_E_UNSUPPORTED_ALGORITHM ("kv.jwks.kty": not RSA).
 */
VT_MUST_USE enum vt_err vt_kv_issuer_load(const char *spec, struct vt_kv_issuer *out,
                                          struct vt_diag *d);
void vt_kv_issuer_cleanup(struct vt_kv_issuer *is);

/* The in-process MAA service's keys: the RSA key of a kid (borrowed while the service runs), or
 * NULL if it has none. */
typedef const struct vt_jwk *(*vt_kv_maa_key_fn)(void *ctx, const char *kid);

struct vt_kv_config {
    /* The bearer challenge (docs/skr.md, "Authentication"): resource (the SDK asks its
     * credential for resource + "/.default" and checks that the vault's host is a subdomain of
     * it), authorization (a URL whose path is the tenant). NULL: https://vault.azure.net and
     * https://login.microsoftonline.com/veritee. */
    const char *resource, *authorization;
    /* The vault URL in key ids ("https://HOST[:PORT]"); NULL: https:// and the Host header. */
    const char *vault_url;
    /* Trusted issuers: "ISS=JWKS_FILE" each (vt_kv_issuer_load). */
    const char *const *issuers;
    size_t n_issuers;
    /* The in-process MAA service, trusted when maa_key is not NULL: tokens whose "iss" is
     * maa_issuer, signed by a key maa_key returns for their kid. */
    const char *maa_issuer;
    vt_kv_maa_key_fn maa_key;
    void *maa_ctx;
    /* Seconds of clock skew allowed on a token's exp and nbf (0: none). */
    int64_t token_leeway;
    enum vt_schema_mode schema_mode; /* what opening may do to the keyvault component */
};

struct vt_kv {
    struct vt_broker *b; /* borrowed: store, master key, clock, log */
    char resource[VT_KV_URL_MAX], authorization[VT_KV_URL_MAX], vault_url[VT_KV_URL_MAX];
    struct vt_kv_issuer issuers[VT_KV_ISSUERS_MAX];
    size_t n_issuers;
    char maa_issuer[VT_KV_URL_MAX];
    vt_kv_maa_key_fn maa_key;
    void *maa_ctx;
    int64_t token_leeway;
    /* the release responses' signing key and its self-signed certificate (base64, for x5c) */
    struct vt_jwk *signer;
    char signer_kid[64];
    char *signer_x5c;
    char signer_x5t_s256[44]; /* base64url SHA-256 of the certificate (x5t#S256) */
};

/* Open the service on broker b (which must outlive it): bring the keyvault schema component to
 * this binary's version as cfg->schema_mode allows, load the trusted issuers, load or create the
 * signing key. */
VT_MUST_USE enum vt_err vt_kv_open(const struct vt_kv_config *cfg, struct vt_broker *b,
                                   struct vt_kv **out, struct vt_diag *d);
void vt_kv_close(struct vt_kv *k);
vt_time vt_kv_now(const struct vt_kv *k);
/* The schema components the service uses (core, broker, keyvault). */
extern const struct vt_schema_component *const vt_kv_schema[3];

/* ---- names ---- */
bool vt_kv_name_ok(const char *s);    /* 1..127 of [0-9A-Za-z-] */
bool vt_kv_version_ok(const char *s); /* 32 lowercase hex digits */

/* ---- storage (kv_store.c) ---- */
struct vt_kv_key {
    char name[VT_KV_NAME_MAX + 1];
    char version[VT_KV_VERSION_LEN + 1];
    char kty[16];     /* RSA, RSA-HSM, EC, EC-HSM, oct-HSM */
    char *key_ops;    /* JSON array text */
    char *public_jwk; /* JSON object text of the public members ("{}" for oct-HSM) */
    char *policy;     /* release_policy JSON text {contentType,data,immutable}, or NULL */
    char *tags;       /* JSON object text, or NULL */
    bool enabled, exportable;
    int64_t nbf, exp, created, updated; /* 0: not set */
};
void vt_kv_key_cleanup(struct vt_kv_key *key);

/* The key of name at version (NULL or "": the current one). *found false if none. */
VT_MUST_USE enum vt_err vt_kv_key_get(struct vt_kv *k, const char *name, const char *version,
                                      struct vt_kv_key *key, bool *found, struct vt_diag *d);
/* Insert a new version (key->version is chosen here) with its material (sealed here) and make
 * it the current one. */
VT_MUST_USE enum vt_err vt_kv_key_insert(struct vt_kv *k, struct vt_kv_key *key,
                                         const uint8_t *material, size_t n, struct vt_diag *d);
/* The material of a version, unsealed (appended to out; wipe it). VT_E_INTEGRITY if it does not
 * open under the master key. */
VT_MUST_USE enum vt_err vt_kv_material(struct vt_kv *k, const char *name, const char *version,
                                       struct vt_buf *out, struct vt_diag *d);
/* Update a version's attributes, key_ops, tags and policy (the fields of key). VT_E_NOT_FOUND. */
VT_MUST_USE enum vt_err vt_kv_key_update(struct vt_kv *k, const struct vt_kv_key *key,
                                         struct vt_diag *d);
/* The versions of a key (oldest first), or every key's current version when name is NULL, as
 * rows (name, version, enabled, exportable, nbf, exp, created, updated, tags). */
VT_MUST_USE enum vt_err vt_kv_keys_list(struct vt_kv *k, const char *name, vt_row_fn fn, void *ctx,
                                        struct vt_diag *d);

/* Master-key operations on the keyvault tables (none when the component is absent), in the
 * caller's transaction: re-seal every key version and signer under new_master; open them all. */
VT_MUST_USE enum vt_err vt_kv_store_rewrap(struct vt_store *s, const uint8_t master[32],
                                           const uint8_t new_master[32], size_t *n,
                                           struct vt_diag *d);
VT_MUST_USE enum vt_err vt_kv_store_check(struct vt_store *s, const uint8_t master[32], size_t *n,
                                          struct vt_diag *d);
/* The two above for the broker's rotation and check (store/master_key.h). */
extern const struct vt_sealed_service vt_kv_sealed;

/* ---- operations (kv_ops.c) ---- */
/* A call: the vault URL for key ids, the api-version; results: out (decref) or err. */
struct vt_kv_call {
    const char *vault_url;
    const char *api_version;
    struct json_t *out;
    struct vt_az_error err;
    /* releases: the log entry's receipt (heap JSON) */
    char *receipt;
    char receipt_kid[64];
    uint64_t log_index;
};
void vt_kv_call_cleanup(struct vt_kv_call *c);

/* POST /keys/{name}/create: body {kty, key_size, public_exponent, crv, key_ops, attributes,
 * tags, release_policy}. */
bool vt_kv_create(struct vt_kv *k, struct vt_kv_call *c, const char *name,
                  const struct json_t *body);
/* PUT /keys/{name}: body {key: JWK with private members, Hsm, attributes, tags,
 * release_policy}. */
bool vt_kv_import(struct vt_kv *k, struct vt_kv_call *c, const char *name,
                  const struct json_t *body);
/* GET /keys/{name}[/{version}] */
bool vt_kv_get(struct vt_kv *k, struct vt_kv_call *c, const char *name, const char *version);
/* PATCH /keys/{name}[/{version}]: body {key_ops, attributes, tags, release_policy}. */
bool vt_kv_update(struct vt_kv *k, struct vt_kv_call *c, const char *name, const char *version,
                  const struct json_t *body);
/* GET /keys/{name}/versions, GET /keys (name NULL): {"value":[KeyItem...],"nextLink":null} */
bool vt_kv_list(struct vt_kv *k, struct vt_kv_call *c, const char *name);
/* The KeyBundle of a key (public members only). */
struct json_t *vt_kv_bundle(const struct vt_kv_key *key, const char *vault_url);

/*
 * The release policy member of a request ({contentType, data, immutable}): checked and parsed
 * (skr_policy.h); *stored gets the JSON text to keep (heap), with data re-encoded as base64url.
 * BadParameter naming the member otherwise.
 */
bool vt_kv_policy_read(const struct json_t *rp, char **stored, struct vt_az_error *e);

/* ---- the release (kv_release.c) ---- */
/* The key found in a token's x-ms-runtime.keys (for the log and tests). */
struct vt_kv_target {
    char issuer[VT_KV_URL_MAX];
    uint8_t token_sha256[32];
    bool verified;      /* signature, issuer, exp/nbf */
    struct vt_jwk *kek; /* the RSA key the material is wrapped to, or NULL */
    char kek_kid[VT_JOSE_KID_MAX];
    struct json_t *claims; /* the token's payload, once verified */
};
void vt_kv_target_cleanup(struct vt_kv_target *t);

/*
 * Verify a target token: RS256 by a trusted issuer's key (by its kid), "iss" that issuer's,
 * "exp" present and not passed, "nbf" (if present) reached, with the service clock and leeway.
 * Forbidden / BadParameter with the check that failed otherwise.
 */
bool vt_kv_target_verify(struct vt_kv *k, const char *token, size_t len, struct vt_kv_target *t,
                         struct vt_az_error *e);
/*
 * The key encryption key of a verified token: the first key of x-ms-runtime.keys (a JWK set;
 * "x-ms-runtime" may be an object or, as MAA writes runtime data, that object) with kty "RSA"
 * whose "key_ops" contains "encrypt" or whose "use" is "enc" (Key Vault's rule), 2048..8192
 * bits. Forbidden with the reason otherwise.
 */
bool vt_kv_target_kek(struct vt_kv_target *t, struct vt_az_error *e);

/* POST /keys/{name}[/{version}]/release: body {target, nonce, enc}. */
bool vt_kv_release(struct vt_kv *k, struct vt_kv_call *c, const char *name, const char *version,
                   const struct json_t *body);

/* The request reader of a body (kv_api.c): one JSON object (duplicates refused) of at most
 * VT_KV_BODY_MAX bytes. BadParameter otherwise. */
bool vt_kv_body_read(const uint8_t *body, size_t len, struct json_t **out, struct vt_az_error *e);

/* ---- HTTP (kv_api.c) ---- */
/* The route table (veritee routes); flags is the service's own route id. */
const struct vt_http_route_entry *vt_kv_routes(size_t *n);
void vt_kv_http_handler(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp);
void vt_kv_http_route(void *ctx, const struct vt_http_req *req, struct vt_http_route *route,
                      struct vt_http_resp *resp);
void vt_kv_reply_error(struct vt_http_resp *resp, const struct vt_az_error *e);

#endif
