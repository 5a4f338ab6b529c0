/*
 * The Azure Attestation drop-in's POST /attest/SgxEnclave (token issued) on loopback HTTP, beside
 * the DCAP verification floor measured in the same run (docs/performance.md, "Issue 20: MAA
 * attest/SgxEnclave").
 *
 *   bench_maa [SECONDS]   (default 3 s per figure)
 *
 * An in-process broker (tests/support/broker_harness.c: SQLite in a temporary directory, the DCAP
 * simulator's PKI trusted, its collateral) with the MAA service on it and its own HTTP server (2
 * worker threads), and 1 or 2 client threads in the same process. A request is what
 * @azure/attestation's attestSgxEnclave sends: {"quote", "runtimeData": {JSON}} with the quote's
 * report data binding the runtime data; the service reads it, verifies the quote (collateral and
 * PCK chain cached by the verifier: one P-256 quote signature and the QE report per quote), checks
 * the binding, evaluates the default policy, and signs an RS256 token. The quotes are a pool of
 * 16 made by the simulator before measuring.
 *
 * Floor: vt_broker_appraise of one quote with the same warm verifier (one thread), and the token
 * alone (vt_maa_sign of a typical payload, RSA-2048 PKCS#1 v1.5, one thread).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "azure/maa.h"
#include "base/encoding.h"
#include "broker_harness.h"
#include "net/http_client.h"
#include "verify/evidence.h"

#define N_QUOTES 16
#define RUNTIME "{\"keys\":[],\"bench\":%d}"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct bench {
    struct bh *h;
    struct vt_maa *m;
    struct vt_http_server *srv;
    char url[128];
    char *bodies[N_QUOTES];
    uint8_t *quote0;
    size_t quote0_len;
};

struct run {
    const struct bench *b;
    double seconds;
    unsigned long n, failed;
};

static bool attest_once(const struct bench *b, unsigned i)
{
    const char *body = b->bodies[i % N_QUOTES];
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    struct vt_http_request_opts o = {.timeout_ms = 30000,
                                     .method = "POST",
                                     .body = (const uint8_t *)body,
                                     .body_len = strlen(body),
                                     .headers = hdrs};
    struct vt_http_response r;
    bool ok = vt_http_request(b->url, &o, &r, NULL) == VT_OK && r.status == 200 &&
              r.body.len > 10 && memcmp(r.body.data, "{\"token\":\"", 10) == 0;
    vt_http_response_cleanup(&r);
    return ok;
}

static void *client(void *arg)
{
    struct run *r = arg;
    double end = now_s() + r->seconds;
    for (unsigned i = 0; now_s() < end; i++) {
        if (attest_once(r->b, i)) {
            r->n++;
        } else {
            r->failed++;
        }
    }
    return NULL;
}

static double http_rate(const struct bench *b, unsigned clients, double seconds,
                        unsigned long *failed)
{
    struct run runs[2] = {{b, seconds, 0, 0}, {b, seconds, 0, 0}};
    pthread_t t[2];
    double t0 = now_s();
    for (unsigned i = 0; i < clients; i++) {
        pthread_create(&t[i], NULL, client, &runs[i]);
    }
    unsigned long n = 0;
    *failed = 0;
    for (unsigned i = 0; i < clients; i++) {
        pthread_join(t[i], NULL);
        n += runs[i].n;
        *failed += runs[i].failed;
    }
    return (double)n / (now_s() - t0);
}

static double appraise_rate(const struct bench *b, double seconds)
{
    struct vt_evidence ev;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_broker_evidence_parse(b->quote0, b->quote0_len, &ev, &d) != VT_OK) {
        return 0;
    }
    unsigned long n = 0;
    double t0 = now_s(), end = t0 + seconds;
    while (now_s() < end) {
        struct vt_claims c;
        if (vt_broker_appraise(b->h->b, &ev, NULL, 0, vt_time_now(), &c, &d) != VT_OK) {
            return 0;
        }
        n++;
    }
    return (double)n / (now_s() - t0);
}

static double sign_rate(const struct bench *b, double seconds)
{
    json_t *p = json_pack("{s:s,s:I,s:s,s:s,s:b}", "iss", "https://maa.bench", "iat",
                          (json_int_t)vt_time_now(), "x-ms-sgx-mrenclave", "00",
                          "x-ms-sgx-mrsigner", "11", "x-ms-sgx-is-debuggable", 0);
    unsigned long n = 0;
    double t0 = now_s(), end = t0 + seconds;
    struct vt_diag d;
    vt_diag_init(&d);
    while (now_s() < end) {
        char *jwt = NULL;
        if (vt_maa_sign(b->m, p, &jwt, &d) != VT_OK) {
            json_decref(p);
            return 0;
        }
        free(jwt);
        n++;
    }
    json_decref(p);
    return (double)n / (now_s() - t0);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 3.0;
    if (!(seconds > 0 && seconds <= 600)) {
        fprintf(stderr, "usage: bench_maa [SECONDS]\n");
        return 2;
    }
    struct bench b;
    memset(&b, 0, sizeof(b));
    b.h = bh_start(vt_time_now(), "", 300, 600, NULL);
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_maa_config mc = {.issuer = "https://maa.bench"};
    if (b.h == NULL || vt_maa_open(&mc, b.h->b, &b.m, &d) != VT_OK) {
        fprintf(stderr, "bench_maa: cannot start: %s: %s\n", d.check, d.detail);
        return 1;
    }
    struct vt_http_server_opts so = {.threads = 2, .route = vt_maa_http_route};
    if (vt_http_server_start(&so, vt_maa_http_handler, b.m, &b.srv, &d) != VT_OK) {
        fprintf(stderr, "bench_maa: %s\n", d.detail);
        return 1;
    }
    snprintf(b.url, sizeof(b.url), "http://127.0.0.1:%u/attest/SgxEnclave?api-version=2022-08-01",
             vt_http_server_port(b.srv));
    for (int i = 0; i < N_QUOTES; i++) {
        char rt[64];
        snprintf(rt, sizeof(rt), RUNTIME, i);
        uint8_t rd[64] = {0};
        vt_sha256(rt, strlen(rt), rd);
        size_t n = 0;
        uint8_t *q = vt_bsim_evidence_rd(b.h->sim, VT_TEE_SGX, rd, 0, &n);
        char *qb = q ? vt_base64_alloc(q, n, true) : NULL;
        char *rb = vt_base64_alloc((const uint8_t *)rt, strlen(rt), true);
        size_t cap = (qb ? strlen(qb) : 0) + strlen(rb) + 128;
        b.bodies[i] = malloc(cap);
        if (qb == NULL || b.bodies[i] == NULL) {
            fprintf(stderr, "bench_maa: no evidence\n");
            return 1;
        }
        snprintf(b.bodies[i], cap,
                 "{\"quote\":\"%s\",\"runtimeData\":{\"data\":\"%s\",\"dataType\":\"JSON\"}}", qb,
                 rb);
        if (i == 0) {
            b.quote0 = q;
            b.quote0_len = n;
        } else {
            free(q);
        }
        free(qb);
        free(rb);
    }
    if (!attest_once(&b, 0)) {
        fprintf(stderr, "bench_maa: the first attestation failed\n");
        return 1;
    }
    double floor_v = appraise_rate(&b, seconds);
    double floor_s = sign_rate(&b, seconds);
    unsigned long f1 = 0, f2 = 0;
    double r1 = http_rate(&b, 1, seconds, &f1);
    double r2 = http_rate(&b, 2, seconds, &f2);
    printf("{\"dcap_appraise_per_second\":%.0f,\"rs256_tokens_per_second\":%.0f,"
           "\"attest_sgx_per_second_1_client\":%.0f,\"attest_sgx_per_second_2_clients\":%.0f,"
           "\"failed\":%lu}\n",
           floor_v, floor_s, r1, r2, f1 + f2);
    vt_http_server_stop(b.srv);
    vt_maa_close(b.m);
    bh_stop(b.h);
    for (int i = 0; i < N_QUOTES; i++) {
        free(b.bodies[i]);
    }
    free(b.quote0);
    return f1 + f2 == 0 ? 0 : 1;
}
