/*
 * Fuzz the broker's handling of a request's untrusted fields: the nonce, the runtime key (JWK),
 * the token and the evidence, through vt_broker_attest and vt_broker_release (token form and
 * evidence form) on an in-memory SQLite store. Input: fields separated by NUL bytes in the order
 * nonce, runtime_key, token, evidence (the rest); an empty nonce field is replaced by a nonce
 * really issued, so that fuzzed evidence reaches the verifiers.
 *
 * Every input gets a broker of its own (a fresh store, verifier pools and log, a pinned clock):
 * nothing carries over from one input to the next, so a finding reproduces from its file alone.
 * (A broker kept across inputs let a nonce issued while running one input be redeemed by a later
 * input that had learnt it.)
 *
 * Invariants: nothing is ever granted (no evidence binds a fresh nonce to a key, no token is
 * signed by this broker); every refusal has an HTTP status in {400, 401, 403, 404} and a reason;
 * a refusal says whether it was logged, and the log grew by exactly the refusals that say so;
 * only an attestation that redeemed the nonce issued for this input is logged, at most one (its
 * nonce is then spent, so the evidence release is not); evidence that does not parse is refused
 * before the nonce is looked at: no log entry, and the issued nonce stays unspent.
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

static int64_t count(struct vt_broker *b, const char *sql)
{
    int64_t n = -1;
    struct vt_diag d;
    vt_diag_init(&d);
    require(vt_store_exec(b->store, sql, NULL, 0, vt_store_row_int, &n, NULL, &d) == VT_OK);
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
    if (size > 64 * 1024) {
        return 0;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    /* a broker for this input only; the clock pinned (2025-06-15) so verdicts do not depend on
     * the day the input is replayed */
    struct vt_broker_config cfg = {.db = "sqlite::memory:", .clock_base = 1749945600};
    memset(cfg.master_key, 0x5a, sizeof(cfg.master_key));
    struct vt_broker *broker = NULL;
    require(vt_broker_open(&cfg, &broker, &d) == VT_OK);
    require(vt_broker_key_put(broker, "k", NULL, 0, 16, NULL, &(uint32_t){0}, &d) == VT_OK);

    const uint8_t *p = data;
    size_t left = size;
    char *nonce = field(&p, &left), *jwk = field(&p, &left), *token = field(&p, &left);
    bool issued = nonce[0] == '\0';
    struct vt_broker_denial den;
    if (issued) {
        free(nonce);
        nonce = malloc(64);
        vt_time exp;
        require(nonce != NULL && vt_broker_challenge(broker, nonce, &exp, &den));
    }
    struct vt_evidence ev;
    bool parses = left > 0 && vt_broker_evidence_parse(p, left, &ev, &d) == VT_OK;
    int64_t before = count(broker, "SELECT COUNT(*) FROM vb_log"), logged = 0;
    struct vt_broker_attest_req q = {
        .evidence = p, .evidence_len = left, .nonce = nonce, .runtime_key = jwk};
    struct vt_broker_attest_res ar;
    require(!vt_broker_attest(broker, &q, &ar, &den));
    refused(&den);
    logged += den.logged;
    if (!parses) { /* refused before the nonce: nothing logged, nothing spent */
        require(!den.logged);
        require(count(broker, "SELECT COUNT(*) FROM vb_nonces WHERE used <> 0") == 0);
    }
    struct vt_broker_release_req rq = {.key_name = "k", .token = token, .runtime_key = jwk};
    struct vt_broker_release_res rr;
    require(!vt_broker_release(broker, &rq, &rr, &den));
    refused(&den);
    require(rr.jwe == NULL && rr.cms == NULL && rr.receipt == NULL);
    logged += den.logged;
    rq.token = NULL;
    rq.attest = q;
    require(!vt_broker_release(broker, &rq, &rr, &den));
    refused(&den);
    logged += den.logged;
    int64_t grew = count(broker, "SELECT COUNT(*) FROM vb_log") - before;
    require(grew == logged);
    require(grew <= (issued && parses ? 1 : 0));
    free(nonce);
    free(jwk);
    free(token);
    vt_broker_close(broker);
    return 0;
}
