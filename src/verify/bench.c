/*
 * Throughput measurement helpers: a runner for one thread or several behind a start gate, and
 * the raw signature verification rates that verification is compared with (the floor).
 *
 * A multi-threaded run starts every thread first; each waits at the gate until all are ready,
 * so thread creation is not measured. The caller's thread then takes the start time, sets one
 * deadline for all and opens the gate. Each thread counts in a local variable and stores its
 * count and end time once, when it stops: nothing is written to shared memory while measuring
 * except the stop flag on a failure. The rate is the sum of each thread's own rate (its
 * iterations over the time from the common start to its last iteration's end), so a thread
 * that overruns the deadline by one slow iteration does not dilute the others.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verify/bench.h"
#include "crypto/crypto.h"
#include "base/encoding.h"
#include "tee/nitro/nitro.h"

bool vt_bench_parse_threads(const char *s, unsigned *out)
{
    if (*s < '0' || *s > '9') { /* strtoul would take a sign or leading spaces */
        return false;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1 || v > VT_BENCH_MAX_THREADS) {
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What the threads of one run share. */
struct bench_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned ready;   /* threads waiting at the gate */
    bool go;          /* open: measure until deadline */
    bool abort;       /* closed for good: a thread could not be started */
    double start;     /* monotonic seconds, taken just before the gate opens */
    double deadline;  /* start + seconds */
    atomic_bool stop; /* a thread failed: the others stop after their current iteration */
};

struct bench_thread {
    struct bench_gate *g;
    vt_bench_fn fn;
    void *ctx;
    pthread_t tid;
    uint64_t n;      /* iterations, stored when the thread stops */
    double end;      /* monotonic seconds after its last iteration */
    enum vt_err err; /* fn's error, VT_OK */
    struct vt_diag d;
};

static void bench_loop(struct bench_thread *t, double deadline)
{
    uint64_t n = 0;
    enum vt_err err = VT_OK;
    double now;
    do {
        err = t->fn(t->ctx, &t->d);
        if (err != VT_OK) {
            atomic_store(&t->g->stop, true);
            break;
        }
        n++;
        now = mono_now();
    } while (now < deadline && !atomic_load_explicit(&t->g->stop, memory_order_relaxed));
    t->end = mono_now();
    t->n = n;
    t->err = err;
}

static void *bench_thread_main(void *p)
{
    struct bench_thread *t = p;
    struct bench_gate *g = t->g;
    pthread_mutex_lock(&g->mu);
    g->ready++;
    pthread_cond_broadcast(&g->cv);
    while (!g->go && !g->abort) {
        pthread_cond_wait(&g->cv, &g->mu);
    }
    bool go = g->go;
    double deadline = g->deadline;
    pthread_mutex_unlock(&g->mu);
    if (go) {
        bench_loop(t, deadline);
    }
    return NULL;
}

/* Close the gate for good and wait for the n threads started. */
static void bench_abort(struct bench_gate *g, struct bench_thread *t, unsigned n)
{
    pthread_mutex_lock(&g->mu);
    g->abort = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    for (unsigned i = 0; i < n; i++) {
        pthread_join(t[i].tid, NULL);
    }
}

enum vt_err vt_bench_run_threads(vt_bench_fn fn, void *const *ctxs, unsigned threads,
                                 double seconds, struct vt_bench_result *out, struct vt_diag *d)
{
    VT_ENSURE(out != NULL, d, VT_E_ARG, "bench.run", "NULL result");
    memset(out, 0, sizeof(*out));
    VT_ENSURE(fn != NULL && ctxs != NULL, d, VT_E_ARG, "bench.run", "NULL function or contexts");
    VT_ENSURE(threads >= 1 && threads <= VT_BENCH_MAX_THREADS, d, VT_E_ARG, "bench.threads",
              "%u threads: the runner takes 1 to %d", threads, VT_BENCH_MAX_THREADS);
    VT_ENSURE(isfinite(seconds) && seconds >= 0, d, VT_E_ARG, "bench.seconds",
              "the duration must be a finite number of seconds >= 0");
    struct bench_thread *t = calloc(threads, sizeof(*t));
    VT_ENSURE(t != NULL, d, VT_E_NOMEM, "bench.threads", "cannot allocate %u threads", threads);
    struct bench_gate g = {.ready = 0};
    atomic_init(&g.stop, false);
    enum vt_err err = VT_OK;
    if (pthread_mutex_init(&g.mu, NULL) != 0) {
        err = vt_fail(d, VT_E_INTERNAL, "bench.threads", "cannot create the start gate's mutex");
        goto out_threads;
    }
    if (pthread_cond_init(&g.cv, NULL) != 0) {
        err =
            vt_fail(d, VT_E_INTERNAL, "bench.threads", "cannot create the start gate's condition");
        goto out_mutex;
    }
    for (unsigned i = 0; i < threads; i++) {
        t[i].g = &g;
        t[i].fn = fn;
        t[i].ctx = ctxs[i];
        vt_diag_init(&t[i].d);
        int rc = pthread_create(&t[i].tid, NULL, bench_thread_main, &t[i]);
        if (rc != 0) {
            bench_abort(&g, t, i);
            err = vt_fail(d, VT_E_INTERNAL, "bench.threads", "cannot start thread %u of %u: %s",
                          i + 1, threads, strerror(rc));
            goto out_cond;
        }
    }
    pthread_mutex_lock(&g.mu);
    while (g.ready < threads) {
        pthread_cond_wait(&g.cv, &g.mu);
    }
    g.start = mono_now();
    g.deadline = g.start + seconds;
    g.go = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    for (unsigned i = 0; i < threads; i++) {
        pthread_join(t[i].tid, NULL);
    }
    double last = g.start;
    for (unsigned i = 0; i < threads; i++) {
        if (t[i].err != VT_OK && err == VT_OK) {
            err = t[i].err;
            if (d != NULL) {
                *d = t[i].d;
            }
        }
        double own = t[i].end - g.start;
        out->iterations += t[i].n;
        out->per_second += own > 0 ? (double)t[i].n / own : 0;
        last = t[i].end > last ? t[i].end : last;
    }
    out->threads = threads;
    out->seconds = last - g.start;
    out->per_thread = out->per_second / threads;
out_cond:
    pthread_cond_destroy(&g.cv);
out_mutex:
    pthread_mutex_destroy(&g.mu);
out_threads:
    free(t);
    return err;
}

enum vt_err vt_bench_run(vt_bench_fn fn, void *ctx, double seconds, struct vt_bench_result *out,
                         struct vt_diag *d)
{
    void *const ctxs[1] = {ctx};
    return vt_bench_run_threads(fn, ctxs, 1, seconds, out, d);
}

/* One thread's verification: the verifier (warm) or its configuration (cold) and the evidence
 * are shared and only read; the claims are the thread's own. */
struct verify_ctx {
    struct vt_verifier *v;
    const struct vt_verifier_config *cfg;
    const struct vt_bench_evidence *e;
    struct vt_claims claims; /* written by every verification */
    /* The contexts sit side by side in one array: keep the next thread's read-mostly pointers
     * off the cache lines (and the adjacent-line prefetch pair) this thread's claims end on. */
    unsigned char pad[128];
};

static enum vt_err verify_warm_once(void *ctx, struct vt_diag *d)
{
    struct verify_ctx *c = ctx;
    return vt_verify(c->v, c->e->data, c->e->len, c->e->opts, &c->claims, d);
}

static enum vt_err verify_cold_once(void *ctx, struct vt_diag *d)
{
    struct verify_ctx *c = ctx;
    struct vt_verifier *v = NULL;
    enum vt_err err = vt_verifier_new(c->cfg, &v, d);
    if (err == VT_OK) {
        err = vt_verify(v, c->e->data, c->e->len, c->e->opts, &c->claims, d);
    }
    vt_verifier_free(v);
    return err;
}

/* Run fn on `threads` threads, each with its own struct verify_ctx made from proto. */
static enum vt_err run_verify(vt_bench_fn fn, const struct verify_ctx *proto, unsigned threads,
                              double seconds, struct vt_bench_result *out, struct vt_diag *d)
{
    VT_ENSURE(proto->e != NULL && proto->e->opts != NULL, d, VT_E_ARG, "bench.run",
              "NULL evidence or options");
    VT_ENSURE(threads >= 1 && threads <= VT_BENCH_MAX_THREADS, d, VT_E_ARG, "bench.threads",
              "%u threads: the runner takes 1 to %d", threads, VT_BENCH_MAX_THREADS);
    struct verify_ctx *c = calloc(threads, sizeof(*c));
    VT_ENSURE(c != NULL, d, VT_E_NOMEM, "bench.threads", "cannot allocate %u thread contexts",
              threads);
    void *ctxs[VT_BENCH_MAX_THREADS];
    for (unsigned i = 0; i < threads; i++) {
        c[i].v = proto->v;
        c[i].cfg = proto->cfg;
        c[i].e = proto->e;
        ctxs[i] = &c[i];
    }
    enum vt_err err = vt_bench_run_threads(fn, ctxs, threads, seconds, out, d);
    free(c);
    return err;
}

enum vt_err vt_bench_verify_warm(struct vt_verifier *v, const struct vt_bench_evidence *e,
                                 unsigned threads, double seconds, struct vt_bench_result *out,
                                 struct vt_diag *d)
{
    VT_ENSURE(v != NULL && e != NULL, d, VT_E_ARG, "bench.run", "NULL verifier or evidence");
    return run_verify(verify_warm_once, &(struct verify_ctx){.v = v, .e = e}, threads, seconds, out,
                      d);
}

enum vt_err vt_bench_verify_cold(const struct vt_verifier_config *cfg,
                                 const struct vt_bench_evidence *e, unsigned threads,
                                 double seconds, struct vt_bench_result *out, struct vt_diag *d)
{
    VT_ENSURE(cfg != NULL && e != NULL, d, VT_E_ARG, "bench.run", "NULL configuration or evidence");
    return run_verify(verify_cold_once, &(struct verify_ctx){.cfg = cfg, .e = e}, threads, seconds,
                      out, d);
}

/*
 * The floors run on as many threads as the verification they are compared with, and every
 * thread verifies with ONE shared key object, as the verifier does: the keys it verifies
 * evidence with (a platform's attestation key in the PCK chain cache, the cached Nitro and AMD
 * chain keys) are parsed once and shared by all the threads calling vt_verify. A per-thread key
 * would measure a cost the verifier never has (or miss one it has: a reference count or lock on
 * the shared key in the backend).
 */

/* Run fn on `threads` threads, every one with the same read-only ctx. */
static enum vt_err run_shared(vt_bench_fn fn, void *ctx, unsigned threads, double seconds,
                              struct vt_bench_result *out, struct vt_diag *d)
{
    VT_ENSURE(threads >= 1 && threads <= VT_BENCH_MAX_THREADS, d, VT_E_ARG, "bench.threads",
              "%u threads: the runner takes 1 to %d", threads, VT_BENCH_MAX_THREADS);
    void *ctxs[VT_BENCH_MAX_THREADS];
    for (unsigned i = 0; i < threads; i++) {
        ctxs[i] = ctx;
    }
    return vt_bench_run_threads(fn, ctxs, threads, seconds, out, d);
}

/* RFC 6979 appendix A.2.5: P-256 key, SHA-256 signature of "sample". */
static const char kat_x[] = "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6";
static const char kat_y[] = "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299";
static const char kat_r[] = "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716";
static const char kat_s[] = "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8";

struct p256_ctx {
    struct vt_key *key; /* shared by every thread */
    uint8_t sig[64];
};

static enum vt_err p256_once(void *ctx, struct vt_diag *d)
{
    const struct p256_ctx *c = ctx;
    VT_ENSURE(vt_p256_verify(c->key, "sample", 6, c->sig) == VT_OK, d, VT_E_INTERNAL, "bench.p256",
              "known-answer signature failed to verify");
    return VT_OK;
}

enum vt_err vt_bench_p256(unsigned threads, double seconds, struct vt_bench_result *out,
                          struct vt_diag *d)
{
    uint8_t xy[64];
    struct p256_ctx c = {0};
    VT_TRY(vt_hex_decode_exact(kat_x, 64, xy, 32));
    VT_TRY(vt_hex_decode_exact(kat_y, 64, xy + 32, 32));
    VT_TRY(vt_hex_decode_exact(kat_r, 64, c.sig, 32));
    VT_TRY(vt_hex_decode_exact(kat_s, 64, c.sig + 32, 32));
    VT_TRY(vt_key_from_p256_xy(xy, &c.key, d));
    enum vt_err err = p256_once(&c, d);
    if (err == VT_OK) {
        err = run_shared(p256_once, &c, threads, seconds, out, d);
    }
    vt_key_free(c.key);
    return err;
}

struct p384_ctx {
    struct vt_cert *cert;
    struct vt_key *key; /* shared by every thread */
};

static enum vt_err p384_once(void *ctx, struct vt_diag *d)
{
    const struct p384_ctx *c = ctx;
    return vt_cert_check_signed_by_p384(c->cert, c->key, d);
}

enum vt_err vt_bench_p384(unsigned threads, double seconds, struct vt_bench_result *out,
                          struct vt_diag *d)
{
    size_t len;
    const uint8_t *der = vt_aws_nitro_root_der(&len);
    struct p384_ctx c = {0};
    enum vt_err err = vt_cert_from_der(der, len, &c.cert, d);
    if (err == VT_OK) {
        err = vt_key_from_cert(c.cert, VT_KEY_P384, &c.key, d);
    }
    if (err == VT_OK) {
        err = p384_once(&c, d);
    }
    if (err == VT_OK) {
        err = run_shared(p384_once, &c, threads, seconds, out, d);
    }
    vt_key_free(c.key);
    vt_cert_free(c.cert);
    return err;
}
