/*
 * Shared by the broker's tests: a broker in this process on 127.0.0.1 (SQLite in a temporary
 * directory) with the simulators' PKIs trusted, and a small JSON-over-HTTP client.
 */
#ifndef VT_TEST_BROKER_HARNESS_H
#define VT_TEST_BROKER_HARNESS_H

#include <jansson.h>

#include "broker/broker.h"
#include "broker_sim.h"
#include "net/http.h"

struct bh {
    char dir[64];
    struct vt_bsim *sim;
    struct vt_broker *b;
    struct vt_http_server *srv;
    char url[64];
    char admin[64];
};

/* Start a broker (collateral: a subdirectory of the simulator's collateral, or "" for all). */
struct bh *bh_start(vt_time now, const char *collateral_sub, int64_t nonce_ttl, int64_t token_ttl,
                    const char *issuer);
/* The same on a given database URL (NULL: SQLite in the temporary directory). */
struct bh *bh_start_db(vt_time now, const char *collateral_sub, int64_t nonce_ttl,
                       int64_t token_ttl, const char *issuer, const char *db_url);
/* The same with more of the broker's configuration: over's max_kbs_sessions,
 * kbs_token_profile, log_batch_max, log_batch_wait_us, clock_base, cert_ttl and collateral if set
 * (the other members as for bh_start_db). */
struct bh *bh_start_cfg(vt_time now, const char *collateral_sub, int64_t nonce_ttl,
                        int64_t token_ttl, const char *issuer, const char *db_url,
                        const struct vt_broker_config *over);
void bh_stop(struct bh *h);
/* A collateral source answering 503 to everything, as an upstream that is down or throttling;
 * its base URL in url. Stop it with vt_http_server_stop. */
struct vt_http_server *bh_down_source(char url[64]);

/* POST/GET JSON; returns the status, *out (if given) the parsed body (caller decrefs) and *raw
 * the body text (caller frees). */
long bh_call(const struct bh *h, const char *method, const char *path, const char *body,
             const char *bearer, json_t **out, char **raw);

/* challenge -> nonce (base64url text and raw bytes) */
bool bh_challenge(const struct bh *h, char nonce[64], uint8_t raw[32]);

/* Evidence of tee bound to nonce and key (see vt_bsim_evidence), as a JSON request body with
 * "evidence", "nonce", "runtime_key" (and "vcek"); extra members may be added by the caller. */
json_t *bh_attest_body(struct bh *h, enum vt_tee tee, const char *nonce, const uint8_t raw[32],
                       const struct vt_jwk *key, unsigned variant);

#endif
