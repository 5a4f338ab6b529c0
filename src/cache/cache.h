/*
 * The collateral cache: a self-hosted PCS/PCCS/THIM and AMD KDS. Items are vendor responses,
 * stored byte-exact with the vendor headers that matter, under a canonical key per request
 * (see docs/cache.md). This header is shared by the cache's files and the `veritee cache` command.
 */
#ifndef VT_CACHE_CACHE_H
#define VT_CACHE_CACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

#include "collateral/collateral.h"
#include "net/http.h"
#include "store/master_key.h"
#include "store/schema.h"
#include "store/store.h"

#define VT_CACHE_MAX_UPSTREAMS 8
#define VT_CACHE_KEY_MAX 1100

enum vt_cache_mode { VT_CACHE_LAZY = 1, VT_CACHE_OFFLINE };

struct vt_cache_config {
    const char *db;
    enum vt_cache_mode mode;
    size_t n_upstreams;
    const char *upstreams[VT_CACHE_MAX_UPSTREAMS];
    long upstream_timeout_ms; /* per attempt */
    unsigned retries;         /* extra attempts per upstream on 5xx/429/transport errors */
    long backoff_ms;          /* first backoff; doubles per retry */
    long max_backoff_ms;      /* cap, also for Retry-After */
    int64_t max_stale;        /* seconds past nextUpdate an item may still be served */
    int64_t refresh_ahead;    /* renew items this long before nextUpdate */
    int64_t refresh_interval; /* refresher period, seconds; 0: no refresher */
    int64_t recheck;          /* seconds between upstream attempts for one stale item */
    int64_t memory_ttl;       /* seconds an item read from the store is served from memory */
    bool read_token_required; /* read endpoints need a bearer token of role read or admin */
    size_t max_upload;        /* largest bundle POSTed to /admin/v1/import; 0: 64 MiB */
    const char *ca_file;      /* for https upstreams */
    int64_t clock_base;       /* 0: real time; else the clock starts at this time (tests) */
    const struct vt_cert_list *intel_anchors; /* NULL: embedded Intel SGX Root CA */
    const struct vt_cert_list *amd_anchors;   /* NULL: embedded ARKs */
    const uint8_t *master_key; /* 32 bytes: seal the bundle-signing key under it; NULL: none */
    /* Upstream fetches for keys never seen (nothing held, not even a "not found" tombstone) are
     * throttled by a token bucket of new_fetch_burst fetches refilled at new_fetch_rate per
     * second, per process; requests for held documents and refreshes never are. Defaults 5/s and
     * 50 (VT_CACHE_NEW_FETCH_*); rate < 0: unlimited. */
    double new_fetch_rate;
    int64_t new_fetch_burst;
    /* What opening may do to the schema (core and cache components, store/schema.h); default
     * VT_SCHEMA_MIGRATE. */
    enum vt_schema_mode schema_mode;
};

#define VT_CACHE_NEW_FETCH_RATE 5.0
#define VT_CACHE_NEW_FETCH_BURST 50

struct vt_cache_item {
    char key[VT_CACHE_KEY_MAX];
    enum vt_doc_kind kind;
    enum vt_tee tee;
    char fmspc[13];
    int64_t eval_num;
    char content_type[64];
    char *headers; /* "Name: value\n" lines, as the vendor sent them (chains URL-encoded) */
    uint8_t *body;
    size_t body_len;
    vt_time issue_date, next_update, fetched_at;
    char upstream[160];
};

void vt_cache_item_cleanup(struct vt_cache_item *it);

/* How a document's body is sent: the stored bytes (CRLs are stored as DER), or the forms PCCS and
 * PCS give CRLs in. */
enum vt_cache_form {
    VT_CACHE_FORM_STORED = 0,
    VT_CACHE_FORM_HEX, /* hex text of the DER: PCCS's rootcacrl, and pckcrl without encoding= */
    VT_CACHE_FORM_PEM, /* pckcrl?encoding=pem; a PCK CRL distribution point without encoding=der */
};

/* A parsed request for one document. */
struct vt_cache_req {
    enum vt_doc_kind kind;
    char key[VT_CACHE_KEY_MAX];       /* canonical store key */
    char path[VT_CACHE_KEY_MAX + 32]; /* upstream path and query, relative to an upstream base */
    char alt_path[120];               /* a second upstream path to try (root CA CRL on PCS) */
    struct vt_doc_expect expect;
    bool pinnable;    /* a default ("standard") TCB info / identity: subject to enforcement */
    bool want_der;    /* pckcrl?encoding=der */
    char qeid[40];    /* pckcert by qeid (PCCS): resolved through registrations */
    bool no_throttle; /* an operator's request (registration, impact): never throttled */
    enum vt_cache_form form; /* how the body is sent */
    unsigned api;            /* Intel paths: 3 or 4 (v3 names the TCB info chain differently) */
    bool zero_ppid;          /* encrypted_ppid=00..0 (QCNL without a PPID): as if absent */
};

struct vt_cache_metrics {
    atomic_uint_fast64_t requests[16]; /* by vt_doc_kind, [0] other */
    atomic_uint_fast64_t hits, misses, stale_served, not_found, rejected, upstream_errors;
    atomic_uint_fast64_t upstream_requests, upstream_latency_us, refreshes, refresh_failures;
    atomic_uint_fast64_t throttled; /* fetches for new keys refused by the token bucket */
};

/* What the cache knows of one upstream (GET /admin/v1/status); under up_lock. Times in the
 * cache's clock; 0: never. */
struct vt_cache_upstream_state {
    vt_time last_success; /* an answer: 200, or 404/410 (the upstream is up, the document absent) */
    vt_time last_failure; /* a transport error, a 5xx/429/other status, a refused document */
    unsigned last_status; /* the HTTP status of the last failure (0: transport) */
    char last_error[200];
    uint64_t consecutive_failures; /* since the last success */
    uint64_t requests, failures;
};

struct vt_cache {
    struct vt_cache_config cfg;
    struct vt_store *store;
    struct vt_cert_list intel, amd;
    struct vt_doc_anchors anchors;
    pthread_mutex_t fill_lock; /* one upstream fill at a time */
    pthread_rwlock_t mem_lock;
    struct mem_entry *mem; /* small open hash table of hot items */
    size_t mem_cap;
    int64_t clock_start; /* monotonic seconds at start (clock_base) */
    struct vt_cache_metrics m;
    /* refresher */
    pthread_t refresher;
    bool refresher_running;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    bool stopping;
    /* the pinned tcbEvaluationDataNumber per TEE (sgx, tdx), read at pin_at */
    pthread_mutex_t pin_lock;
    uint32_t pin[2];
    vt_time pin_at[2];
    bool pin_valid[2];
    /* the master key, if any (the bundle-signing key is sealed under it) */
    uint8_t master[32];
    bool has_master;
    /* the token bucket of upstream fetches for keys never seen */
    pthread_mutex_t bucket_lock;
    double bucket_tokens;
    double bucket_at; /* monotonic seconds of the last refill */
    /* per upstream (cfg.upstreams order) and the refresher's last pass, for the status */
    pthread_mutex_t up_lock;
    struct vt_cache_upstream_state up[VT_CACHE_MAX_UPSTREAMS];
    vt_time started;
    vt_time refresh_last; /* 0: no pass yet */
    size_t refresh_last_renewed, refresh_last_failed;
    /* more Prometheus text appended to /metrics (veritee serve: the broker's counters) */
    char *(*metrics_extra)(void *ctx);
    void *metrics_extra_ctx;
    /* this process's heartbeat in the replica registry (store/replicas.h); NULL: not serving */
    struct vt_replica *replica;
};

/* Open the store (creating the schema), load anchors. */
VT_MUST_USE enum vt_err vt_cache_open(const struct vt_cache_config *cfg, struct vt_cache **out,
                                      struct vt_diag *d);
void vt_cache_close(struct vt_cache *c);
vt_time vt_cache_now(const struct vt_cache *c);

/* Parse a GET request path + query into a document request. VT_E_ARG/VT_E_BAD_FIELD (400) or
 * VT_E_NOT_FOUND (unknown path) with the reason. */
typedef const char *(*vt_cache_arg_fn)(void *ctx, const char *name);
VT_MUST_USE enum vt_err vt_cache_parse_request(const char *path, vt_cache_arg_fn arg, void *ctx,
                                               struct vt_cache_req *r, struct vt_diag *d);

/* Outcome of a lookup. */
struct vt_cache_result {
    struct vt_cache_item item;
    bool stale;               /* past nextUpdate */
    bool from_memory;         /* a hit that touched neither store nor upstream */
    unsigned upstream_status; /* the status an upstream gave when nothing could be served */
    int64_t retry_after;      /* > 0: an upstream fetch was throttled; seconds until it may be */
};

/* Serve a request: memory, store, then (lazy mode) the upstreams. VT_OK with an item;
 * VT_E_NOT_FOUND (404/410 from every upstream, or offline and absent); VT_E_UPSTREAM (every
 * upstream failed and nothing servable is held, or the fetch of a key never seen was throttled:
 * then res->retry_after > 0). */
VT_MUST_USE enum vt_err vt_cache_get(struct vt_cache *c, struct vt_cache_req *r,
                                     struct vt_cache_result *res, struct vt_diag *d);
void vt_cache_result_cleanup(struct vt_cache_result *res);

/* Fetch a request from the upstreams now, check and store it (used by get, refresh,
 * registration, impact). */
VT_MUST_USE enum vt_err vt_cache_fill(struct vt_cache *c, const struct vt_cache_req *r,
                                      struct vt_cache_item *out, unsigned *upstream_status,
                                      struct vt_diag *d);

/* Store an item checked by the caller, keeping a higher tcbEvaluationDataNumber already held
 * under a "standard"/"early" key, and any document where a tombstone (empty body) is offered
 * (*kept set then) and copying TCB infos and identities to their
 * by-number key. Inside the caller's transaction if one is open. */
VT_MUST_USE enum vt_err vt_cache_put(struct vt_cache *c, const struct vt_cache_item *it, bool *kept,
                                     struct vt_diag *d);
VT_MUST_USE enum vt_err vt_cache_load(struct vt_cache *c, const char *key,
                                      struct vt_cache_item *out, struct vt_diag *d);
/* Rebuild the request of a stored key (for refresh, import and check). */
VT_MUST_USE enum vt_err vt_cache_req_from_key(const char *key, struct vt_cache_req *r,
                                              struct vt_diag *d);
/* Check an item's body and headers as if just downloaded for its key. */
VT_MUST_USE enum vt_err vt_cache_check_item(struct vt_cache *c, const struct vt_cache_item *it,
                                            struct vt_doc_meta *m, struct vt_diag *d);
void vt_cache_forget(struct vt_cache *c); /* drop the memory tier (after enforce/import) */

/* Enforcement: the tcbEvaluationDataNumber served by default per TEE from a time on. */
VT_MUST_USE enum vt_err vt_cache_enforce(struct vt_cache *c, enum vt_tee tee, uint32_t eval,
                                         vt_time from, struct vt_diag *d);
/* The number in force for tee at now (0: none pinned). */
uint32_t vt_cache_pinned(struct vt_cache *c, enum vt_tee tee, vt_time now);
/* JSON array of the schedule. Heap string. */
char *vt_cache_enforce_list(struct vt_cache *c);

/* The TCB recoveries as the cache holds them (GET /admin/v1/recoveries): per TEE, the
 * enforcement in force, those scheduled and those superseded; per TEE and FMSPC of the TCB infos
 * held, every tcbEvaluationDataNumber held, the numbers of the default keys (standard, early), the
 * one served by default now, and whether the numbers enforced and scheduled are held. JSON
 * (heap) in *out. */
VT_MUST_USE enum vt_err vt_cache_recoveries(struct vt_cache *c, char **out, struct vt_diag *d);

/* Platforms seen (pckcert responses, registrations). */
struct vt_cache_platform {
    char fmspc[13];
    char pceid[5];
    char qeid[40];
    uint8_t components[16];
    uint16_t pcesvn;
    char source[24];
};
VT_MUST_USE enum vt_err vt_cache_platform_add(struct vt_cache *c, const struct vt_cache_platform *p,
                                              struct vt_diag *d);

/* The platforms the cache has seen (vt_platforms: PCK certificates served, registrations), newest
 * first, at most limit (1 to 10000), each with its TCB status, advisory IDs and the
 * tcbEvaluationDataNumber used, under the number in force for its TEE, judged as the impact
 * report judges them (GET /admin/v1/platforms, the console's Fleet view). tee: VT_TEE_SGX or
 * VT_TEE_TDX to judge every platform under that TEE's TCB info; VT_TEE_NONE: TDX for an FMSPC
 * whose TDX TCB info the cache holds, SGX otherwise. JSON (heap) in *json. */
VT_MUST_USE enum vt_err vt_cache_platforms(struct vt_cache *c, enum vt_tee tee, uint64_t limit,
                                           char **json, struct vt_diag *d);

/* Impact of enforcing eval for tee: JSON report (heap). quotes: extra platforms from quotes. */
VT_MUST_USE enum vt_err vt_cache_impact(struct vt_cache *c, enum vt_tee tee, uint32_t eval,
                                        const uint8_t *const *quotes, const size_t *quote_lens,
                                        size_t n_quotes, char **json, struct vt_diag *d);

/* Refresh pass: renew items due within refresh_ahead and every CRL. Counts in renewed and failed.
 */
VT_MUST_USE enum vt_err vt_cache_refresh(struct vt_cache *c, size_t *renewed, size_t *failed,
                                         struct vt_diag *d);
VT_MUST_USE enum vt_err vt_cache_refresher_start(struct vt_cache *c, struct vt_diag *d);
/* Register this process in the replica registry (role "cache") with a heartbeat every interval
 * seconds (0: the default, 5), on the cache's clock; stopped by vt_cache_close. For `cache serve`
 * and `veritee serve`; GET /admin/v1/status lists the replicas. */
VT_MUST_USE enum vt_err vt_cache_replica_start(struct vt_cache *c, int64_t interval,
                                               struct vt_diag *d);

/* Bundles: export everything held (plus the enforcement schedule), signed by the cache's key;
 * import after checking the signature against trusted_xy (the exporter's public key) and every
 * document, in one transaction. */
VT_MUST_USE enum vt_err vt_cache_export(struct vt_cache *c, struct vt_buf *out, size_t *n_items,
                                        struct vt_diag *d);
VT_MUST_USE enum vt_err vt_cache_import(struct vt_cache *c, const uint8_t *bundle, size_t len,
                                        const uint8_t trusted_xy[64], size_t *n_items,
                                        struct vt_diag *d);
/* The cache's bundle-signing public key (created on first use, kept in the store: sealed under the
 * master key if the cache has one, PEM otherwise). */
VT_MUST_USE enum vt_err vt_cache_public_key(struct vt_cache *c, uint8_t xy[64], struct vt_diag *d);

/* Seal under master a bundle-signing key stored in store in the clear (databases from before keys
 * were sealed, or written by a process without the master key); check that a sealed one opens
 * (VT_E_ARG "master_key" if not). Called when a cache or a broker opens a store with a master
 * key. */
VT_MUST_USE enum vt_err vt_cache_bundle_key_seal_stored(struct vt_store *store,
                                                        const uint8_t master[32],
                                                        struct vt_diag *d);
/* Re-seal the bundle-signing key held in store s (if any) under new_master, opening it with
 * old_master (NULL: none; a clear key is then sealed). Inside the caller's transaction (the
 * broker's rewrap). *rewrapped: a key was re-sealed. */
VT_MUST_USE enum vt_err vt_cache_bundle_key_rewrap(struct vt_store *s, const uint8_t *old_master,
                                                   const uint8_t new_master[32], bool *rewrapped,
                                                   struct vt_diag *d);
/* The bundle-signing key for the broker's master-key rotation (store/master_key.h; no check: a
 * restore reads the key when the cache starts). */
extern const struct vt_sealed_service vt_cache_sealed;
/* The same for a cache of its own (veritee cache rewrap), in one transaction; the cache then uses
 * new_master. */
VT_MUST_USE enum vt_err vt_cache_rewrap(struct vt_cache *c, const uint8_t new_master[32],
                                        struct vt_diag *d);
/* The headers and content type a stored document may carry: those the lazy fill keeps (the PCS v4
 * names of the issuer chains, SGX-TCBm, SGX-FMSPC, SGX-PCK-Certificate-CA-Type), and the content
 * type the vendors serve for its kind. Bundle items are held to the same. */
bool vt_cache_header_allowed(const char *name);
const char *vt_cache_content_type(enum vt_doc_kind kind);

/* Tokens: create (prints once, stores SHA-256), check (constant time). role: "admin"/"read". */
VT_MUST_USE enum vt_err vt_cache_token_create(struct vt_cache *c, const char *role,
                                              const char *name, char token[64], struct vt_diag *d);
/* Store a token the operator chose (veritee cache token --value-file), for clients whose
 * configuration already holds one (PCKIDRetrievalTool's user_token, the PCCS admin tool's
 * password). */
VT_MUST_USE enum vt_err vt_cache_token_add(struct vt_cache *c, const char *role, const char *name,
                                           const char *value, struct vt_diag *d);
/* True if token is valid for role (an admin token is valid for read and user too). role "user":
 * PCCS's user token, for platform registration. */
bool vt_cache_token_check(struct vt_cache *c, const char *token, const char *role);

/* The HTTP handler of the cache API (cache_api.c). */
void vt_cache_http_handler(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp);
/* Its route function (vt_http_route_fn): body limits, rate classes and tokens from the head. */
void vt_cache_http_route(void *ctx, const struct vt_http_req *req, struct vt_http_route *route,
                         struct vt_http_resp *resp);

/* The cache's route table (docs/api/cache.yaml, `veritee routes`). */
const struct vt_http_route_entry *vt_cache_routes(size_t *n);
/* True if req carries a token of role (an admin token also holds "user" and "read"): a bearer
 * token, or PCCS's admin-token / user-token header. Otherwise a 401 in resp. */
bool vt_cache_authorized(struct vt_cache *c, const struct vt_http_req *req,
                         struct vt_http_resp *resp, const char *role);

/* PCCS's own routes (cache_pccs.c), under /sgx/certification/v3/ and v4/: registration (POST
 * and GET platforms), PUT platformcollateral, GET/POST refresh, GET/PUT appraisalpolicy. */
void vt_cache_pccs_post_platforms(void *ctx, const struct vt_http_req *req,
                                  struct vt_http_resp *resp);
void vt_cache_pccs_get_platforms(void *ctx, const struct vt_http_req *req,
                                 struct vt_http_resp *resp);
void vt_cache_pccs_put_collateral(void *ctx, const struct vt_http_req *req,
                                  struct vt_http_resp *resp);
void vt_cache_pccs_refresh(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp);
void vt_cache_pccs_get_policy(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp);
void vt_cache_pccs_put_policy(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp);

/* A platform as PCKIDRetrievalTool registers it (POST platforms) or PCCS lists it (GET
 * platforms, PUT platformcollateral): lowercase hex; enc_ppid and the raw TCB may be empty. */
struct vt_pccs_platform {
    char qe_id[33], pce_id[5], cpu_svn[33], pce_svn[5], enc_ppid[769];
    bool has_manifest;
};
/* Parse a registration body {qe_id, pce_id, cpu_svn, pce_svn, enc_ppid, platform_manifest}
 * (VT_E_BAD_JSON, VT_E_MISSING_FIELD, VT_E_BAD_FIELD, VT_E_UNSUPPORTED naming the field). */
VT_MUST_USE enum vt_err vt_cache_pccs_platform_parse(const uint8_t *body, size_t len,
                                                     struct vt_pccs_platform *p, struct vt_diag *d);

/* A PUT platformcollateral body, parsed into the documents it holds (each under its canonical
 * key, with the headers the lazy fill would store, to be checked as if downloaded) and the
 * platforms to register. api: 3 or 4 (the path's version). */
struct vt_pccs_upload {
    struct vt_cache_item *items;
    size_t n_items;
    struct vt_pccs_platform *platforms;
    size_t n_platforms;
};
VT_MUST_USE enum vt_err vt_cache_pccs_upload_parse(const uint8_t *body, size_t len, unsigned api,
                                                   struct vt_pccs_upload *u, struct vt_diag *d);
void vt_cache_pccs_upload_cleanup(struct vt_pccs_upload *u);

/* An appraisal policy as PUT appraisalpolicy takes it ({policy, is_default, fmspc}): the policy is
 * a JWT whose payload's policy_payload names the TEE class (type 0 SGX, 1 TDX 1.0, 2 TDX 1.5). */
struct vt_pccs_policy {
    char fmspc[13]; /* uppercase, as PCCS keeps it */
    char id[97];    /* SHA-384 of the policy text, hex */
    int type;
    bool is_default;
    const char *policy; /* into the parsed body (valid until vt_cache_pccs_policy_cleanup) */
    void *json;
};
VT_MUST_USE enum vt_err vt_cache_pccs_policy_parse(const uint8_t *body, size_t len,
                                                   struct vt_pccs_policy *p, struct vt_diag *d);
void vt_cache_pccs_policy_cleanup(struct vt_pccs_policy *p);

/* In-process collateral source for vt_collateral_fetch_with (ctx: the cache). */
VT_MUST_USE enum vt_err vt_cache_collateral_get(void *ctx, const char *path,
                                                struct vt_http_response *r, struct vt_diag *d);

/* Note an upstream attempt's outcome (index into cfg.upstreams). */
void vt_cache_upstream_note(struct vt_cache *c, size_t u, bool ok, unsigned status,
                            const char *error);
/* GET /admin/v1/status: the store (backend, reachable, items, schema), this replica (started,
 * mode, memory tier), the refresher (interval, last pass, next pass), each upstream (last
 * success, last failure and its error, consecutive failures, state ok/failing/unused) and the
 * outage (items past nextUpdate, the oldest, stale answers served, max_stale). JSON (heap); the
 * store's state is in it even when the store is unreachable. */
char *vt_cache_status_json(struct vt_cache *c);

/* Prometheus text (heap). */
char *vt_cache_metrics_text(struct vt_cache *c);

#endif
