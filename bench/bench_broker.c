/*
 * Broker round trips on loopback, beside the verification floor measured in the same run.
 *
 *   bench_broker [SECONDS] [DB-URL] [BATCH-MAX] [BATCH-WAIT-US]
 *        (default 3 s, SQLite in a temporary directory, the broker's log batching defaults)
 *   BENCH_BROKER_ONLY=attest|evidence [BENCH_BROKER_CLIENTS=1..4] bench_broker ...
 *        one figure (2 clients by default), for a profiler or the batch table
 *
 * A client in this process talks HTTP to an in-process broker (2 worker threads) with fresh
 * simulated SGX evidence for every nonce (the simulator signs it, on the client's side):
 *  - attest + release: POST /v1/challenge, POST /v1/attest (verify, bind, policy, EAR token, log
 *    record), POST /v1/keys/k/release with the token (token check, policy, JWE to a P-256 key,
 *    log record with checkpoint and receipt), then the client decrypts the JWE;
 *  - evidence release: POST /v1/challenge, POST /v1/keys/k/release with the evidence.
 * Floor: vt_verify of the same kind of quote with a ready verifier (two P-256 verifications
 * once the PCK chain is cached) and the raw P-256 verification rate.
 */
#include <pthread.h>
#include <sys/resource.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker_harness.h"
#include "dcap_sim.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define MAX_SAMPLES 200000

struct run {
    struct bh *h;
    struct vt_jwk *key;
    bool with_token;
    double seconds;
    unsigned long n, failed;
    double *lat; /* seconds of each successful round trip (the first MAX_SAMPLES) */
};

/* One measurement: the rate of all clients, and the latency percentiles of their round trips. */
struct figure {
    double rate, p50_ms, p99_ms, cpu_ms; /* cpu_ms: the process's CPU time per round trip */
    unsigned long failed;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static bool round_trip(struct run *r)
{
    char nonce[64];
    uint8_t raw[32];
    if (!bh_challenge(r->h, nonce, raw)) {
        return false;
    }
    json_t *body = bh_attest_body(r->h, VT_TEE_SGX, nonce, raw, r->key, 0);
    char *text = json_dumps(body, JSON_COMPACT);
    json_t *out = NULL;
    bool ok = false;
    if (r->with_token) {
        if (bh_call(r->h, "POST", "/v1/attest", text, NULL, &out, NULL) == 200) {
            char *pub = vt_jwk_public_json(r->key);
            json_t *rb =
                json_pack("{s:s,s:o}", "token", json_string_value(json_object_get(out, "token")),
                          "runtime_key", json_loads(pub, 0, NULL));
            char *rt = json_dumps(rb, JSON_COMPACT);
            json_decref(out);
            out = NULL;
            ok = bh_call(r->h, "POST", "/v1/keys/k/release", rt, NULL, &out, NULL) == 200;
            free(rt);
            json_decref(rb);
            free(pub);
        }
    } else {
        ok = bh_call(r->h, "POST", "/v1/keys/k/release", text, NULL, &out, NULL) == 200;
    }
    if (ok) {
        const char *jwe = json_string_value(json_object_get(out, "jwe"));
        struct vt_buf pt;
        vt_buf_init(&pt, 4096);
        ok = jwe != NULL && vt_jwe_decrypt(r->key, jwe, strlen(jwe), &pt, NULL) == VT_OK &&
             pt.len == 32;
        vt_buf_cleanup(&pt);
    }
    json_decref(out);
    free(text);
    json_decref(body);
    return ok;
}

static void *client(void *arg)
{
    struct run *r = arg;
    double end = now_s() + r->seconds;
    while (now_s() < end) {
        double t0 = now_s();
        if (round_trip(r)) {
            if (r->n < MAX_SAMPLES) {
                r->lat[r->n] = now_s() - t0;
            }
            r->n++;
        } else {
            r->failed++;
        }
    }
    return NULL;
}

static struct figure measure(struct bh *h, struct vt_jwk *key, bool with_token, double seconds,
                             unsigned clients)
{
    struct run runs[4];
    pthread_t t[4];
    double *lat = calloc((size_t)clients * MAX_SAMPLES, sizeof(double));
    struct figure f = {0};
    if (lat == NULL) {
        f.failed = 1;
        return f;
    }
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    double start = now_s();
    for (unsigned i = 0; i < clients; i++) {
        runs[i] = (struct run){h, key, with_token, seconds, 0, 0, lat + (size_t)i * MAX_SAMPLES};
        pthread_create(&t[i], NULL, client, &runs[i]);
    }
    unsigned long n = 0;
    size_t samples = 0;
    for (unsigned i = 0; i < clients; i++) {
        pthread_join(t[i], NULL);
        n += runs[i].n;
        f.failed += runs[i].failed;
        size_t k = runs[i].n < MAX_SAMPLES ? runs[i].n : MAX_SAMPLES;
        memmove(lat + samples, runs[i].lat, k * sizeof(double));
        samples += k;
    }
    f.rate = (double)n / (now_s() - start);
    getrusage(RUSAGE_SELF, &ru1);
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                 (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
                 (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    f.cpu_ms = n > 0 ? 1000.0 * cpu / (double)n : 0;
    if (samples > 0) {
        qsort(lat, samples, sizeof(double), cmp_double);
        f.p50_ms = 1000.0 * lat[samples / 2];
        f.p99_ms = 1000.0 * lat[(samples * 99) / 100];
    }
    free(lat);
    return f;
}

/* A collateral source serving the scenario's synthetic collateral set. */
static enum vt_err sim_dcap(void *ctx, const struct vt_dcap_collateral_request *req,
                            struct vt_dcap_collateral **out, struct vt_diag *d)
{
    (void)req;
    struct vt_dcap_collateral_input in;
    vt_sim_scenario_collateral(ctx, &in);
    return vt_dcap_collateral_new(&in, out, d);
}

static const struct vt_collateral_source_ops sim_ops = {.dcap = sim_dcap, .name = "simulator"};

static double dcap_floor(double seconds)
{
    struct vt_sim_scenario *s = vt_sim_scenario_new(VT_TEE_SGX, 4, vt_time_now());
    struct vt_collateral_source *src = NULL;
    struct vt_verifier *v = NULL;
    struct vt_cert_list anchors;
    vt_cert_list_init(&anchors);
    struct vt_cert *root = NULL;
    double rate = 0;
    if (vt_cert_from_der(s->root_der.data, s->root_der.len, &root, NULL) == VT_OK &&
        vt_cert_list_add(&anchors, root) == VT_OK &&
        vt_collateral_source_new(&sim_ops, s, &src, NULL) == VT_OK &&
        vt_verifier_new(&(struct vt_verifier_config){.trust_anchors = &anchors,
                                                     .collateral = src,
                                                     .collateral_ttl = VT_VERIFIER_TTL_FOREVER},
                        &v, NULL) == VT_OK) {
        struct vt_verify_opts o = {.now = vt_time_now()};
        struct vt_claims c;
        unsigned long n = 0;
        double start = now_s(), end = start + seconds;
        while (now_s() < end) {
            if (vt_verify(v, s->quote.data, s->quote.len, &o, &c, NULL) != VT_OK) {
                break;
            }
            n++;
        }
        rate = (double)n / (now_s() - start);
    }
    vt_verifier_free(v);
    vt_collateral_source_free(src);
    vt_cert_free(root);
    vt_cert_list_cleanup(&anchors);
    vt_sim_scenario_free(s);
    return rate;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 3.0;
    const char *db = argc > 2 ? argv[2] : NULL;
    if (db != NULL && db[0] == '\0') {
        db = NULL; /* "" : SQLite, to give the batch arguments */
    }
    struct vt_broker_config over = {.log_batch_max = argc > 3 ? strtoll(argv[3], NULL, 10) : 0,
                                    .log_batch_wait_us = argc > 4 ? strtoll(argv[4], NULL, 10) : 0};
    struct bh *h = bh_start_cfg(vt_time_now(), "", 300, 600, NULL, db, &over);
    struct vt_jwk *key = NULL;
    if (h == NULL || vt_jwk_generate("P-256", &key, NULL) != VT_OK ||
        bh_call(h, "POST", "/admin/v1/keys", "{\"name\":\"k\",\"generate\":32}", h->admin, NULL,
                NULL) != 201) {
        fprintf(stderr, "bench_broker: cannot start the broker\n");
        return 1;
    }
    const char *only = getenv("BENCH_BROKER_ONLY"); /* "attest" or "evidence": for profilers */
    if (only != NULL) {
        const char *nc = getenv("BENCH_BROKER_CLIENTS"); /* 1 to 4; default 2 */
        unsigned clients = nc != NULL ? (unsigned)strtoul(nc, NULL, 10) : 2;
        clients = clients < 1 ? 1 : clients > 4 ? 4 : clients;
        struct figure f = measure(h, key, strcmp(only, "attest") == 0, seconds, clients);
        printf("%s, %u clients: %.1f /s  p50 %.2f ms  p99 %.2f ms  CPU %.2f ms  batches %llu\n",
               only, clients, f.rate, f.p50_ms, f.p99_ms, f.cpu_ms,
               (unsigned long long)atomic_load(&h->b->m.log_batches));
        vt_jwk_free(key);
        bh_stop(h);
        return f.failed == 0 ? 0 : 1;
    }
    struct vt_bench_result p256;
    if (vt_bench_p256(1, seconds, &p256, NULL) != VT_OK) {
        return 1;
    }
    double floor = dcap_floor(seconds);
    struct figure at1 = measure(h, key, true, seconds, 1);
    struct figure ev1 = measure(h, key, false, seconds, 1);
    struct figure at2 = measure(h, key, true, seconds, 2);
    struct figure ev2 = measure(h, key, false, seconds, 2);
    printf("broker on %s, %.0f s per figure, 2 broker threads, SGX quote v4 (simulated), log batch "
           "max %lld, wait %lld us\n",
           db ? "PostgreSQL" : "SQLite", seconds, (long long)h->b->cfg.log_batch_max,
           (long long)h->b->cfg.log_batch_wait_us);
    printf("  raw P-256 verify:                      %9.0f /s\n", p256.per_second);
    printf("  DCAP quote verification (floor):       %9.0f /s\n", floor);
    const struct {
        const char *name;
        const struct figure *f;
    } rows[] = {{"attest + release, 1 client:      ", &at1},
                {"attest + release, 2 clients:     ", &at2},
                {"release with evidence, 1 client: ", &ev1},
                {"release with evidence, 2 clients:", &ev2}};
    unsigned long failed = 0;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct figure *f = rows[i].f;
        printf(
            "  %s %9.1f /s  %.3f of floor  p50 %.2f ms  p99 %.2f ms  CPU %.2f ms  (%lu failed)\n",
            rows[i].name, f->rate, f->rate / floor, f->p50_ms, f->p99_ms, f->cpu_ms, f->failed);
        failed += f->failed;
    }
    printf("  log batches committed: %llu\n",
           (unsigned long long)atomic_load(&h->b->m.log_batches));
    vt_jwk_free(key);
    bh_stop(h);
    return failed == 0 ? 0 : 1;
}
