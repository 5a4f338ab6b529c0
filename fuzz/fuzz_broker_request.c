/*
 * Fuzz the broker's handling of a request's untrusted fields: the nonce, the runtime key (JWK),
 * the token and the evidence, through vt_broker_attest and vt_broker_release (token form and
 * evidence form) on an in-memory SQLite store. Input: fields separated by NUL bytes in the order
 * nonce, runtime_key, token, evidence (the rest); an empty nonce field is replaced by a nonce
 * really issued, so that fuzzed evidence reaches the verifiers. Invariants: nothing is ever
 * granted (no evidence binds a fresh nonce to a key, no token is signed by this broker), every
 * refusal has an HTTP status in {400, 401, 403, 404} and a reason, and at most the attestation
 * that redeemed a real nonce is logged (its nonce is spent, so the evidence release is not).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"

static void require(int cond)
{
    if (!cond) {
        abort();
    }
}

static struct vt_broker *broker;

static char *field(const uint8_t **p, size_t *left)
{
    const uint8_t *z = memchr(*p, 0, *left);
    size_t n = z ? (size_t)(z - *p) : *left;
    char *s = malloc(n + 1);
    require(s != NULL);
    memcpy(s, *p, n);
    s[n] = '\0';
    *p += z ? n + 1 : n;
    *left -= z ? n + 1 : n;
    return s;
}

static int64_t log_size(void)
{
    int64_t n = -1;
    struct vt_diag d;
    vt_diag_init(&d);
    require(vt_store_exec(broker->store, "SELECT COUNT(*) FROM vb_log", NULL, 0, vt_store_row_int,
                          &n, NULL, &d) == VT_OK);
    return n;
}

static void refused(const struct vt_broker_denial *den)
{
    require(den->status == 400 || den->status == 401 || den->status == 403 || den->status == 404);
    require(den->reason[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_diag d;
    vt_diag_init(&d);
    if (broker == NULL) {
        struct vt_broker_config cfg = {.db = "sqlite::memory:"};
        memset(cfg.master_key, 0x5a, sizeof(cfg.master_key));
        require(vt_broker_open(&cfg, &broker, &d) == VT_OK);
        require(vt_broker_key_put(broker, "k", NULL, 0, 16, NULL, &(uint32_t){0}, &d) == VT_OK);
    }
    if (size > 64 * 1024) {
        return 0;
    }
    const uint8_t *p = data;
    size_t left = size;
    char *nonce = field(&p, &left), *jwk = field(&p, &left), *token = field(&p, &left);
    bool issued = nonce[0] == '\0';
    if (issued) {
        free(nonce);
        nonce = malloc(64);
        vt_time exp;
        require(nonce != NULL && vt_broker_challenge(broker, nonce, &exp, &d) == VT_OK);
    }
    int64_t before = log_size();
    struct vt_broker_attest_req q = {
        .evidence = p, .evidence_len = left, .nonce = nonce, .runtime_key = jwk};
    struct vt_broker_attest_res ar;
    struct vt_broker_denial den;
    require(vt_broker_attest(broker, &q, &ar, &den) != VT_OK);
    refused(&den);
    struct vt_broker_release_req rq = {.key_name = "k", .token = token, .runtime_key = jwk};
    struct vt_broker_release_res rr;
    require(vt_broker_release(broker, &rq, &rr, &den) != VT_OK);
    refused(&den);
    require(rr.jwe == NULL && rr.cms == NULL && rr.receipt == NULL);
    rq.token = NULL;
    rq.attest = q;
    require(vt_broker_release(broker, &rq, &rr, &den) != VT_OK);
    refused(&den);
    require(log_size() - before <= (issued ? 1 : 0));
    free(nonce);
    free(jwk);
    free(token);
    return 0;
}
