/*
 * The key broker: challenge -> attest -> EAR token -> release, keys and secrets encrypted at rest,
 * release policies, and a Merkle-tree audit log with signed checkpoints and receipts
 * (docs/broker.md). Shared by the broker's files and the `veritee broker|serve|audit` commands.
 */
#ifndef VT_BROKER_BROKER_H
#define VT_BROKER_BROKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <veritee/verifier.h>

#include "internal.h"

#include "base/pincache.h"

#include "net/http.h"
#include "store/master_key.h"
#include "store/schema.h"
#include "store/store.h"

struct vt_cache;
struct json_t;
struct vt_broker_trustee_token;

#define VT_BROKER_NONCE_LEN 32
#define VT_BROKER_NAME_MAX 128
#define VT_BROKER_SECRET_MAX (64u << 10)
/* Retry-After (seconds) of a 503 "collateral-unavailable". */
#define VT_BROKER_COLLATERAL_RETRY 5
/* Default cap on outstanding KBS sessions (docs/broker.md, "Limits"). */
#define VT_BROKER_MAX_KBS_SESSIONS 10000
/* Expired nonces and KBS sessions are deleted at most this often (seconds), and at most once a
 * second while a cap is reached. */
#define VT_BROKER_GC_INTERVAL 10
/* A redeemed nonce's row is kept this long (seconds) after the nonce expires: a replica whose
 * clock is behind by less than this still finds it and refuses it as replayed. */
#define VT_BROKER_NONCE_GRACE 600
/* Compiled policies kept (the attestation policy and each key's, by their text). */
#define VT_BROKER_POLICY_CACHE 64
/* EAR tokens this process issued, kept with their claims until they expire (broker.c). */
#define VT_BROKER_TOKEN_CACHE 4096
/* Default lifetime (seconds) of a certificate the broker's CA issues; and the longest a
 * certificate profile may set. */
#define VT_BROKER_CERT_TTL 3600
#define VT_BROKER_CERT_TTL_MAX (7 * 86400)
/* Validity of the broker's CA certificate (seconds): ten years. */
#define VT_BROKER_CA_VALIDITY (3650 * 86400LL)
/* DNS names a certificate profile may list. */
#define VT_BROKER_CERT_DNS_MAX 16
/* Default cap on the entries of one log batch (one transaction, one checkpoint). */
#define VT_BROKER_LOG_BATCH_MAX 256

/* The token a KBS session is issued (--kbs-token-profile, docs/kbs.md). */
enum vt_broker_kbs_token_profile {
    VT_KBS_TOKEN_VERITEE = 0, /* this broker's EAR, as /v1/attest issues (docs/broker.md) */
    VT_KBS_TOKEN_TRUSTEE,     /* Trustee's EAR profile: submodule "cpu0", the tee-pubkey claim */
};

struct vt_broker_config {
    const char *db;
    uint8_t master_key[32]; /* wraps every data key (and the signing keys) */
    const char *collateral; /* DCAP/SNP collateral: http(s) URL of a cache/PCCS/PCS/KDS, or a
                               directory in the verify layout; NULL: the in-process cache */
    struct vt_cache *cache; /* in-process cache (veritee serve), or NULL */
    const char *const *trust_anchors; /* extra root certificate files (PEM/DER), NULL-terminated */
    int64_t clock_base;               /* 0: real time; else the clock starts at this time (tests) */
    int64_t nonce_ttl;                /* seconds; default 300 */
    int64_t token_ttl;                /* seconds; default 600 */
    const char *issuer;               /* "iss" of tokens and the log origin; default "veritee" */
    bool audit_only;                  /* open the store to audit the log: no master key needed */
    int64_t collateral_ttl; /* seconds a DCAP collateral set and its verifier are reused for one
                               platform; default 60 */
    /* Cap on outstanding /kbs/v0/auth sessions (issued, not yet answered, not expired): at the
     * cap a new one is refused with 503 and Retry-After. 0: VT_BROKER_MAX_KBS_SESSIONS.
     * (/v1/challenge nonces are not stored until redeemed: they need no cap.) */
    int64_t max_kbs_sessions;
    enum vt_broker_kbs_token_profile kbs_token_profile;
    /* What opening may do to the schema (core and broker components, store/schema.h); default
     * VT_SCHEMA_MIGRATE. */
    enum vt_schema_mode schema_mode;
    /* Group commit of the audit log (docs/broker.md, "The audit log"): at most log_batch_max
     * entries per transaction (0: VT_BROKER_LOG_BATCH_MAX), and the first request of a batch
     * waits up to log_batch_wait_us microseconds for others to join (0: none; requests that
     * arrive while a batch commits form the next one). */
    int64_t log_batch_max;
    int64_t log_batch_wait_us;
    /* Certificates from the broker's CA (broker_cert.c, docs/attested-tls.md): default lifetime
     * in seconds of an issued certificate (0: VT_BROKER_CERT_TTL), never beyond the expiry of
     * the token it was issued on. */
    int64_t cert_ttl;
};

/* Why a request was refused: the HTTP status, a stable reason id, and the admin-only detail. */
struct vt_broker_denial {
    unsigned status; /* 400, 401, 403, 404, 409, 500, 503 */
    char reason[96];
    char detail[VT_DIAG_DETAIL_MAX + VT_DIAG_CHECK_MAX + 16];
    int64_t retry_after; /* 503: seconds after which a retry may succeed (Retry-After) */
    bool logged;         /* the refusal was recorded in the audit log */
};

/* Where a refusal that left no log entry happened (the metrics' endpoint label). */
enum vt_broker_endpoint {
    VT_BM_CHALLENGE,
    VT_BM_ATTEST,
    VT_BM_RELEASE,
    VT_BM_KBS_AUTH,
    VT_BM_KBS_ATTEST,
    VT_BM_KBS_RESOURCE,
    VT_BM_CERT,
    VT_BM_ENDPOINTS
};
/* Classes of those refusals (the reason label), from the stable reason id. */
enum vt_broker_reason_class {
    VT_BR_REQUEST,
    VT_BR_EVIDENCE,
    VT_BR_RUNTIME_KEY,
    VT_BR_NONCE,
    VT_BR_SESSION,
    VT_BR_TEE,
    VT_BR_TOKEN,
    VT_BR_LIMIT,
    VT_BR_COLLATERAL,
    VT_BR_OTHER,
    VT_BR_BINDING,  /* report data does not bind the nonce and runtime key */
    VT_BR_POLICY,   /* the attestation or release policy said no */
    VT_BR_KEY,      /* unknown or disabled key */
    VT_BR_INTERNAL, /* storage, log, policy evaluation, encoding */
    VT_BR_CLASSES
};

/* Upper bounds (seconds) of the latency histograms' buckets, +Inf beside. */
#define VT_BROKER_LATENCY_BUCKETS 13
#define VT_BROKER_LATENCY_BOUNDS                                                                   \
    {                                                                                              \
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10                     \
    }
#define VT_BROKER_TEES 5 /* enum vt_tee: none (not known), sgx, tdx, sev-snp, nitro */

struct vt_broker_histogram {
    atomic_uint_fast64_t le[VT_BROKER_LATENCY_BUCKETS + 1]; /* per bucket, the last +Inf */
    atomic_uint_fast64_t sum_us;
};

struct vt_broker_metrics {
    atomic_uint_fast64_t challenges, kbs_sessions;                 /* issued */
    atomic_uint_fast64_t limit_kbs_sessions;                       /* refused at the cap */
    atomic_uint_fast64_t collected_nonces, collected_kbs_sessions; /* expired rows deleted */
    atomic_uint_fast64_t unlogged[VT_BM_ENDPOINTS][VT_BR_CLASSES];
    atomic_uint_fast64_t logged[3][2]; /* [attest, release, cert][allow, deny] */
    atomic_uint_fast64_t log_batches;  /* committed log batches (transactions, checkpoints) */
    /* vt_broker_attest and vt_broker_release (both protocols): [attest, release][TEE] by
     * outcome ([0] allowed, [1 + class] refused) and latency */
    atomic_uint_fast64_t outcomes[2][VT_BROKER_TEES][1 + VT_BR_CLASSES];
    struct vt_broker_histogram latency[2][VT_BROKER_TEES];
};

struct vt_broker_signer; /* a token/checkpoint signing key (broker_tokens.c) */
struct vt_broker_ca;     /* the CA that signs workloads' certificates (broker_cert.c) */

struct vt_broker {
    struct vt_broker_config cfg; /* strings copied (owned) */
    struct vt_store *store;
    uint8_t nonce_key[32]; /* MACs /v1/challenge nonces (broker.c, nonce_key) */
    int64_t clock_start;
    /* One thread-safe verifier for every request (the vendors' roots plus the configured extra
     * ones; collateral from `source`, kept for cfg.collateral_ttl seconds). */
    struct vt_collateral_source *source; /* NULL: none configured */
    struct vt_verifier *verifier;
    /* compiled policies (attestation and keys') by the SHA-256 of their text (broker.c) */
    struct vt_pincache policies;
    /* EAR tokens issued here by the SHA-256 of their text, with what a release reads from them */
    struct vt_pincache issued;
    /* signing keys: the active one signs; every published one verifies */
    pthread_mutex_t sign_lock;
    struct vt_broker_signer *signers;
    size_t n_signers;
    int64_t signers_loaded_at;
    /* the audit log's Merkle tree, kept in step with the store */
    pthread_mutex_t log_lock;
    struct vt_merkle_tree *tree;
    /* appends waiting for a batch (broker_log.c): a queue, and whether a leader is committing */
    pthread_mutex_t batch_lock;
    pthread_cond_t batch_cond;
    struct vt_log_req *batch_head, **batch_tail;
    size_t batch_queued;
    bool batch_leader;
    /* the certificate authority (broker_cert.c): loaded or created at open, under sign_lock */
    struct vt_broker_ca *ca;
    /* expiry collection: monotonic milliseconds of the last pass */
    atomic_int_fast64_t gc_last_ms;
    struct vt_broker_metrics m;
    /* this process's heartbeat in the replica registry (store/replicas.h); NULL: not serving */
    struct vt_replica *replica;
};

VT_MUST_USE enum vt_err vt_broker_open(const struct vt_broker_config *cfg, struct vt_broker **out,
                                       struct vt_diag *d);
void vt_broker_close(struct vt_broker *b);
vt_time vt_broker_now(const struct vt_broker *b);

/* ---- protocol ---- */
/*
 * The broker's answers are verdicts, not error codes: true when the request is granted, false
 * with the refusal in *den (its HTTP status, reason and detail; a 5xx status when the broker
 * failed rather than decided).
 *
 * A nonce for /v1/attest, or a refusal in *den (500 "internal"). Nothing is stored: the nonce
 * carries its expiry and a MAC under a key derived from the master key, so every replica
 * sharing the master key accepts it, and issuing one costs no storage (docs/broker.md,
 * "Nonces"). It is stored when redeemed, and kept until VT_BROKER_NONCE_GRACE seconds after it
 * expires, so that it can never be redeemed twice.
 */
VT_MUST_USE bool vt_broker_challenge(struct vt_broker *b, char nonce[64], vt_time *expires,
                                     struct vt_broker_denial *den);
/* Insert a KBS session's row (the INSERT's first four arguments) while fewer than
 * max_kbs_sessions are outstanding (checked in the same statement), else refuse with 503
 * "kbs-session-limit" and retry_after; 500 "storage". */
VT_MUST_USE bool vt_broker_admit_session(struct vt_broker *b, const struct vt_sql_arg *row,
                                         struct vt_broker_denial *den);
/* Delete expired nonces and KBS sessions, at most every VT_BROKER_GC_INTERVAL seconds (force: at
 * most every second). Returns the rows deleted. */
int64_t vt_broker_collect(struct vt_broker *b, bool force);

/* Count a refusal that left no log entry (metrics). */
void vt_broker_count_unlogged(struct vt_broker *b, enum vt_broker_endpoint ep, const char *reason);
/* Prometheus text of the broker's counters (heap). */
char *vt_broker_metrics_text(struct vt_broker *b);
/* The same for a vt_cache metrics_extra hook (ctx: the broker). */
char *vt_broker_metrics_hook(void *ctx);

/* Detect and parse evidence (vt_evidence_parse: no signature checked, no collateral): a DCAP
 * quote (SGX or TDX), a Nitro document, an SEV-SNP or Azure HCL report; e->tee is its TEE.
 * VT_E_UNKNOWN_EVIDENCE or the parser's error (d names the check). The parsed form is what
 * vt_broker_appraise verifies, so a request's evidence is parsed once. */
VT_MUST_USE enum vt_err vt_broker_evidence_parse(const uint8_t *ev, size_t n, struct vt_evidence *e,
                                                 struct vt_diag *d);

struct vt_broker_attest_req {
    const uint8_t *evidence;
    size_t evidence_len;
    /* The evidence already parsed by the caller (vt_broker_evidence_parse of evidence), or NULL:
     * then it is parsed here. Either way it is parsed once. */
    const struct vt_evidence *parsed;
    const char *nonce;       /* base64url, as issued */
    const char *runtime_key; /* JWK JSON text */
    const uint8_t *vek;      /* SNP: the VCEK/VLEK from the guest's certificate table (optional) */
    size_t vek_len;
    /* Another protocol's binding (the KBS protocol): the caller has checked its own nonce, and
     * the report data must be these bytes followed by zeros. NULL: this broker's binding. */
    const uint8_t *expect_report_data;
    size_t expect_report_data_len;
    enum vt_tee expect_tee; /* the TEE the evidence must be of (KBS: the session's); NONE: any */
    /* KBS init-data: its digest (up to 64 bytes). The TEE's init-data field (TDX MRCONFIGID, SNP
     * HOST_DATA, SGX CONFIGID) must equal it truncated or zero-padded to the field's size
     * (401 "init-data-mismatch"). NULL: not checked. */
    const uint8_t *expect_init_data;
    size_t expect_init_data_len;
    /* KBS with the Trustee token profile: what the token carries besides the claims. NULL: this
     * broker's EAR. */
    const struct vt_broker_trustee_token *trustee;
};

/* The Trustee-profile EAR's inputs from the KBS request (broker_kbs.c, docs/kbs.md). */
struct vt_broker_trustee_token {
    const char *tee;              /* the session's TEE by its KBS name: "tdx", "sgx", "snp" */
    const char *runtime_data;     /* JSON object {"additional-evidence", "nonce", "tee-pubkey"} */
    const char *init_data_claims; /* JSON object of the init-data's data table, or NULL */
};

struct vt_broker_attest_res {
    char *token;       /* EAR JWT (heap) */
    char *claims_json; /* heap */
    vt_time expires;
    uint64_t log_index;
};
void vt_broker_attest_res_cleanup(struct vt_broker_attest_res *r);

/* true with a token, or false with the refusal in *den (how to answer). */
VT_MUST_USE bool vt_broker_attest(struct vt_broker *b, const struct vt_broker_attest_req *q,
                                  struct vt_broker_attest_res *r, struct vt_broker_denial *den);

struct vt_broker_release_req {
    const char *key_name;
    const char *token;                  /* or: */
    struct vt_broker_attest_req attest; /* evidence + nonce + runtime_key */
    const char *runtime_key;            /* with a token: the key its cnf.jkt names */
    bool cms;                           /* Nitro RSA keys: CMS EnvelopedData instead of JWE */
    enum vt_tee expect_tee;             /* the TEE the token or evidence must be of; NONE: any */
};

struct vt_broker_release_res {
    char *jwe;    /* compact JWE (heap), or NULL with cms */
    uint8_t *cms; /* CMS EnvelopedData DER (heap) */
    size_t cms_len;
    uint32_t version;
    char *receipt;        /* JSON (heap), docs/audit-log.md */
    char receipt_kid[64]; /* the JWKS key that signed its checkpoint */
};
void vt_broker_release_res_cleanup(struct vt_broker_release_res *r);

/* true with the wrapped secret, or false with the refusal in *den. */
VT_MUST_USE bool vt_broker_release(struct vt_broker *b, const struct vt_broker_release_req *q,
                                   struct vt_broker_release_res *r, struct vt_broker_denial *den);

/* A nonce redeemed with a log entry. A nonce of /v1/challenge (expires > 0, from the nonce
 * itself) is redeemed by inserting its row into vb_nonces, which must not be there yet; a row an
 * earlier release issued (expires == 0) is redeemed by marking it used. */
struct vt_broker_redeem {
    const char *nonce;
    int64_t expires;
};

/* ---- shared with the certificate endpoint (broker.c) ---- */

/* What a certificate issuance records in its log entry (member "cert"). */
struct vt_broker_cert_entry {
    const char *profile;
    const char *serial;      /* hex, "" when refused */
    const char *spki_sha256; /* hex SHA-256 of the CSR's SubjectPublicKeyInfo */
    int64_t not_before, not_after;
    struct json_t *dns; /* array of strings (borrowed) */
};

/* One decision for the audit log (broker.c, entry_json). */
struct vt_broker_decision {
    const char *type; /* "attest", "release" or "cert" */
    const uint8_t *evidence;
    size_t evidence_len;
    const char *claims;
    const struct vt_claims *c; /* for collateral digests; may be NULL (release by token) */
    const char *policy_sha;
    bool allowed;
    const char *reason;
    const char *key;
    uint32_t version;
    const char *jkt;
    const struct vt_broker_cert_entry *cert; /* type "cert" */
};

/* A request authenticated by evidence (attest_common) or by a token (token_claims). */
struct vt_broker_attested {
    struct vt_claims c; /* evidence only */
    char *claims;       /* JSON (heap) */
    struct vt_jwk *key;
    char jkt[64];
    uint8_t nonce[VT_BROKER_NONCE_LEN];
    struct vt_broker_redeem nonce_redeem;
    const struct vt_broker_redeem *redeem; /* the request's nonce, redeemed with its log entry */
    char policy_sha[65];
    enum vt_tee tee; /* of the evidence (once it parses) or the token; NONE before (metrics) */
    int64_t exp;     /* a token's expiry (0: evidence) */
};
void vt_broker_attested_cleanup(struct vt_broker_attested *a);

/* A token of this broker (signature, iss, exp) whose cnf.jkt is runtime_key's thumbprint: true
 * with its claims in *a, or false with the refusal ("token", "token-binding" naming both
 * thumbprints, "runtime-key", "internal"). */
VT_MUST_USE bool vt_broker_token_attested(struct vt_broker *b, const char *token,
                                          const char *runtime_key, struct vt_broker_attested *a,
                                          struct vt_broker_denial *den);
/* Evaluate the policy policy_json (compiled once per text) on claims JSON: true if it allows;
 * false with 403 "<prefix>:<why>" or 500 "policy-error". policy_sha gets its digest, *explain
 * (heap, may be NULL) the explanation for the log. */
VT_MUST_USE bool vt_broker_policy_check(struct vt_broker *b, const char *policy_json,
                                        const char *claims, const char *prefix, char policy_sha[65],
                                        char **explain, struct vt_broker_denial *den);
/* Append the decision to the audit log (no nonce); with want_receipt, the receipt. */
VT_MUST_USE enum vt_err vt_broker_record(struct vt_broker *b, const struct vt_broker_decision *x,
                                         const char *explanation, bool want_receipt,
                                         uint64_t *index, char **receipt, char kid[64],
                                         struct vt_diag *d);

/* ---- certificates (broker_cert.c, docs/attested-tls.md "Certificates from the broker") ---- */

/* Load the CA (its key unsealed with the master key), creating it if the database has none.
 * Called by vt_broker_open. */
VT_MUST_USE enum vt_err vt_broker_ca_load(struct vt_broker *b, struct vt_diag *d);
void vt_broker_ca_free(struct vt_broker *b);
/* The CA certificate as PEM (heap), or NULL when out of memory. */
char *vt_broker_ca_pem(struct vt_broker *b);

/* A certificate profile: the policy an issuance must satisfy and what the certificate says. */
VT_MUST_USE enum vt_err vt_broker_cert_profile_put(struct vt_broker *b, const char *name,
                                                   const char *policy_json, const char *const *dns,
                                                   size_t n_dns, int64_t lifetime,
                                                   struct vt_diag *d);
char *vt_broker_cert_profiles_json(struct vt_broker *b); /* heap JSON */

/* POST /v1/cert, parsed (vt_broker_cert_request_parse). */
struct vt_broker_cert_req {
    const char *profile;
    const char *token;       /* or evidence + nonce (+ vcek): attested first, as /v1/attest */
    uint8_t *evidence, *vek; /* heap */
    size_t evidence_len, vek_len;
    const char *nonce;
    uint8_t *csr; /* heap: PEM or DER as given */
    size_t csr_len;
};
void vt_broker_cert_req_cleanup(struct vt_broker_cert_req *q);
/* Read a /v1/cert body (JSON object: "profile", "csr" (PEM text, or base64 DER in "csr_der"),
 * and "token" or "evidence" + "nonce" (+ "vcek")). Strings borrow from *o (json_decref it after
 * the request). false with 400 and the reason ("body", "profile", "csr", "token",
 * "evidence-missing", ...) in *den. */
VT_MUST_USE bool vt_broker_cert_request_parse(const uint8_t *body, size_t n, struct json_t **o,
                                              struct vt_broker_cert_req *q,
                                              struct vt_broker_denial *den);

struct vt_broker_cert_res {
    char *cert_pem; /* heap */
    char *ca_pem;   /* heap */
    char serial[41];
    int64_t not_before, not_after;
    uint64_t log_index;
    char *receipt; /* heap JSON */
    char receipt_kid[64];
    char *token; /* the EAR token issued on the request's evidence (heap), or NULL */
};
void vt_broker_cert_res_cleanup(struct vt_broker_cert_res *r);
/* Issue a certificate: true with it, false with the refusal in *den (docs/attested-tls.md). */
VT_MUST_USE bool vt_broker_cert_issue(struct vt_broker *b, const struct vt_broker_cert_req *q,
                                      struct vt_broker_cert_res *r, struct vt_broker_denial *den);

/* ---- tokens (broker_tokens.c) ---- */
char *vt_broker_jwks(struct vt_broker *b); /* heap JSON */
VT_MUST_USE enum vt_err vt_broker_rotate_signing_key(struct vt_broker *b, char kid[64],
                                                     struct vt_diag *d);
VT_MUST_USE enum vt_err vt_broker_token_issue(struct vt_broker *b, const char *payload_json,
                                              char **jwt, struct vt_diag *d);
/* Forget the EAR tokens this process issued (broker.c): each is then checked in full. No request
 * may be in progress (tests). VT_E_NOMEM: the broker may only be closed. */
VT_MUST_USE enum vt_err vt_broker_tokens_forget(struct vt_broker *b);
/* Verify a token of this broker: signature by a published key, iss, exp, iat. payload: heap. */
VT_MUST_USE enum vt_err vt_broker_token_check(struct vt_broker *b, const char *jwt, char **payload,
                                              struct vt_diag *d);
/* Sign a log checkpoint with the active key. */
VT_MUST_USE enum vt_err vt_broker_checkpoint(struct vt_broker *b, uint64_t size,
                                             const uint8_t root[32], struct vt_buf *body,
                                             uint8_t sig[64], char kid[64], struct vt_diag *d);
VT_MUST_USE enum vt_err vt_broker_signers_load(struct vt_broker *b, struct vt_diag *d);
void vt_broker_signers_free(struct vt_broker *b);

/* ---- keys and secrets at rest (broker_keys.c) ---- */
/* Create a key or add a version: secret (NULL: generate gen_len random bytes). */
VT_MUST_USE enum vt_err vt_broker_key_put(struct vt_broker *b, const char *name,
                                          const uint8_t *secret, size_t len, size_t gen_len,
                                          const char *policy_json, uint32_t *version,
                                          struct vt_diag *d);
VT_MUST_USE enum vt_err vt_broker_key_set_policy(struct vt_broker *b, const char *name,
                                                 const char *policy_json, struct vt_diag *d);
VT_MUST_USE enum vt_err vt_broker_key_set_disabled(struct vt_broker *b, const char *name,
                                                   bool disabled, struct vt_diag *d);
/* Every key: name, current version, disabled, policy and its SHA-256, created, updated, and
 * versions[] ({version, created, current, disabled}, oldest first). Heap; no secrets (the
 * versions' secrets and data keys are not even read). */
char *vt_broker_keys_json(struct vt_broker *b);
/* GET /admin/v1/log/status: the store (backend, reachable), the log (entries stored, this
 * process's tree size and how far it is behind, the last entry's time, the latest checkpoint's
 * size and key) and the sequencer (idle/queued/committing, appends queued, batches committed,
 * batch_max, batch_wait_us). JSON, heap. */
char *vt_broker_log_status_json(struct vt_broker *b);
/* Register this process in the replica registry (role "broker", with the log size and batches it
 * last committed) with a heartbeat every interval seconds (0: the default, 5), on the broker's
 * clock; stopped by vt_broker_close. For `broker serve` and `veritee serve`. */
VT_MUST_USE enum vt_err vt_broker_replica_start(struct vt_broker *b, int64_t interval,
                                                struct vt_diag *d);
/* The current version's plaintext (heap, wiped and freed by the caller with vt_broker_secret_free)
 * and policy. VT_E_NOT_FOUND for an unknown key; *disabled set. */
VT_MUST_USE enum vt_err vt_broker_key_open(struct vt_broker *b, const char *name, uint8_t **secret,
                                           size_t *len, uint32_t *version, char **policy_json,
                                           bool *disabled, struct vt_diag *d);
void vt_broker_secret_free(uint8_t *secret, size_t len);
/* AES-256-GCM under the master key (signing keys at rest). out: nonce(12) || ct || tag(16). */
VT_MUST_USE enum vt_err vt_broker_seal(const struct vt_broker *b, const char *aad,
                                       const uint8_t *pt, size_t n, struct vt_buf *out,
                                       struct vt_diag *d);
VT_MUST_USE enum vt_err vt_broker_unseal(const struct vt_broker *b, const char *aad,
                                         const uint8_t *ct, size_t n, struct vt_buf *out,
                                         struct vt_diag *d);
/* Re-wrap every data key, signing key and CA key under a new master key, then each of the n
 * services' sealed values (store/master_key.h; every service: tools/cli.h), the master-key check
 * value and id: one transaction. *n_rewrapped: values re-sealed. */
VT_MUST_USE enum vt_err vt_broker_rewrap(struct vt_broker *b, const uint8_t new_master[32],
                                         const struct vt_sealed_service *const *services, size_t n,
                                         size_t *n_rewrapped, struct vt_diag *d);
/* Open every version of every key (its data key under the master key, its secret under the data
 * key) and wipe it, then every sealed value of the n services (e.g. src/kms, src/azure): the
 * check of a restored database (veritee restore). *versions: the number opened. VT_E_INTEGRITY
 * at "key.dek", "key.secret" or the service's check ("kms.material", "kms.access_key",
 * "maa.signing_key", ...) naming the first that does not open. */
VT_MUST_USE enum vt_err vt_broker_keys_check(struct vt_broker *b,
                                             const struct vt_sealed_service *const *services,
                                             size_t n, size_t *versions, struct vt_diag *d);
VT_MUST_USE enum vt_err vt_broker_set_attestation_policy(struct vt_broker *b, const char *json,
                                                         struct vt_diag *d);

/* ---- audit log (broker_log.c) ---- */
/* The TEE a decision was about, noted in the fleet table (broker_fleet.c, the console's fleet) in
 * the decision's own log transaction: its verified claims (a JSON object), the decision's type
 * ("attest", "release", "cert") and outcome. */
/* A TEE's fleet row (broker_fleet.c), made from a decision's claims in the request's thread so
 * that the log batch only writes it. */
struct vt_broker_fleet_note {
    char id[33];     /* hex of the first 16 bytes of SHA-256 of [tee, platform, identity] */
    const char *tee; /* static */
    const char *platform_kind; /* static: the claim naming the platform */
    char *platform, *identity, *status, *advisories, *measurements; /* heap */
    bool debug;
    int64_t tcb_eval;
    char last_decision[48]; /* "<type> allow|deny" */
};
/* The fleet row of a decision of type (attest, release, ...) on claims (JSON text): *out NULL
 * when the claims are not JSON or of no known TEE (nothing to note); VT_E_NOMEM. */
VT_MUST_USE enum vt_err vt_broker_fleet_note_make(const char *claims, const char *type,
                                                  bool allowed, struct vt_broker_fleet_note **out,
                                                  struct vt_diag *d);
void vt_broker_fleet_note_free(struct vt_broker_fleet_note *f);

/* Append one entry (canonical JSON); with want_receipt, the receipt (heap JSON). The explanation
 * (admin only) is kept beside it. redeem: a nonce redeemed in the same transaction, or NULL; if
 * it was redeemed already or has expired, nothing is appended and the result is
 * VT_E_NONCE_MISMATCH (check "nonce"). fleet: the TEE to note in the fleet table in the same
 * transaction, or NULL. Appends are committed in batches (group commit). */
VT_MUST_USE enum vt_err vt_broker_log_append(struct vt_broker *b, const char *entry,
                                             const char *explanation,
                                             const struct vt_broker_redeem *redeem,
                                             const struct vt_broker_fleet_note *fleet,
                                             bool want_receipt, uint64_t *index, char **receipt,
                                             char kid[64], struct vt_diag *d);
/* Proofs for clients (the tree synced with the store first): JSON (heap). */
VT_MUST_USE enum vt_err vt_broker_log_consistency(struct vt_broker *b, uint64_t old_size,
                                                  uint64_t new_size, char **json,
                                                  struct vt_diag *d);
/* Entries [start, start+limit) with their explanations (admin): JSON (heap). */
/* The fleet (broker_fleet.c): upsert row f into vb_fleet at now, inside the caller's transaction
 * (the log batch's). Errors: the store's. */
VT_MUST_USE enum vt_err vt_broker_fleet_upsert(struct vt_broker *b,
                                               const struct vt_broker_fleet_note *f, int64_t now,
                                               struct vt_diag *d);
/* Every TEE noted, the most recently seen first (at most limit, capped at 10000), as a JSON
 * array (GET /admin/v1/fleet, docs/api/broker.yaml). */
VT_MUST_USE enum vt_err vt_broker_fleet(struct vt_broker *b, uint64_t limit, char **json,
                                        struct vt_diag *d);
VT_MUST_USE enum vt_err vt_broker_log_entries(struct vt_broker *b, uint64_t start, uint64_t limit,
                                              bool explain, char **json, struct vt_diag *d);
char *vt_broker_log_checkpoint(struct vt_broker *b); /* heap JSON of the latest checkpoint */
/* Check the whole log in a store: entries against leaf hashes, every checkpoint's root and
 * signature (keys from the store's published signing keys). */
VT_MUST_USE enum vt_err vt_broker_audit_verify(struct vt_broker *b, uint64_t *entries,
                                               uint64_t *checkpoints, struct vt_diag *d);

/* ---- appraisal (broker_appraise.c) ---- */
/* The broker's collateral source (cfg.collateral URL or directory, else the in-process cache,
 * else none) and its verifier, trusting the vendors' roots and the root certificate files
 * trust_anchors (NULL-terminated, or NULL). */
VT_MUST_USE enum vt_err
vt_broker_appraise_init(struct vt_broker *b, const char *const *trust_anchors, struct vt_diag *d);
void vt_broker_appraise_cleanup(struct vt_broker *b);
/* Verify parsed evidence at now (vt_verify_evidence); vek: the SNP guest's VEK, or NULL. */
VT_MUST_USE enum vt_err vt_broker_appraise(struct vt_broker *b, const struct vt_evidence *ev,
                                           const uint8_t *vek, size_t vek_len, vt_time now,
                                           struct vt_claims *claims, struct vt_diag *d);

/* ---- the Trustee KBS protocol for CoCo guests (broker_kbs.c, docs/kbs.md) ---- */
/* The payload of a Trustee-profile EAR: eat_profile, iat, exp, iss, ear.verifier-id, cnf.jkt and
 * submods {"cpu0": {ear.status, ear.trustworthiness-vector, ear.appraisal-policy-id,
 * ear.veraison.annotated-evidence {<tee>: claims, report_data, runtime_data_claims, init_data,
 * init_data_claims}}}. Heap JSON, or NULL when out of memory. */
char *vt_broker_trustee_payload(const struct vt_broker *b, const struct vt_broker_trustee_token *t,
                                const struct vt_claims *c, const char *claims_json,
                                const char *policy_sha, const char *jkt, vt_time now, vt_time exp);
/* The claims object of a Trustee-profile token's "cpu0" submodule (borrowed from it), or NULL. */
struct json_t *vt_broker_trustee_claims(struct json_t *submod);
#define VT_KBS_PROTOCOL_VERSION "0.4.0"
/* POST /kbs/v0/auth, POST /kbs/v0/attest, GET /kbs/v0/resource/<repository>/<type>/<tag>. */
void vt_broker_kbs_handler(struct vt_broker *b, const struct vt_http_req *req,
                           struct vt_http_resp *resp);
/* The broker key behind a KBS resource path "<repository>/<type>/<tag>":
 * "kbs.<repository>.<type>.<tag>", repository and type of [A-Za-z0-9_-], tag of [A-Za-z0-9._-]
 * (not only dots). False if the path has another shape or the name would be too long. */
bool vt_broker_kbs_key_name(const char *resource_path, char name[VT_BROKER_NAME_MAX]);

/* ---- HTTP (broker_api.c) ---- */
void vt_broker_http_handler(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp);
/* Its route function (vt_http_route_fn): body limits, rate classes and the admin token, from the
 * head; unknown paths and methods are answered there. */
void vt_broker_http_route(void *ctx, const struct vt_http_req *req, struct vt_http_route *route,
                          struct vt_http_resp *resp);
/* The broker's route table (docs/api/broker.yaml, `veritee routes`). */
const struct vt_http_route_entry *vt_broker_routes(size_t *n);
/* True if path belongs to the broker (veritee serve dispatches on it). */
bool vt_broker_owns_path(const char *path);

#endif
