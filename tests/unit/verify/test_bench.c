/*
 * The benchmark runner (src/verify/bench.c): every thread runs and is counted, all threads run
 * at once behind the start gate, the first failure stops the run with its detail, arguments out
 * of range are refused, and the floors and the verification helpers run on several threads.
 * Nothing here asserts a rate: only that the figures are consistent and positive.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "internal.h"

#include "vt_fixtures.h"

/* A thread's context: its own counter, plus what every thread shares. */
struct shared {
    atomic_uint arrived; /* threads that have started their first iteration */
    unsigned threads;
};

struct count_ctx {
    struct shared *sh;
    uint64_t calls;
    bool fail;       /* fail on the first call */
    bool rendezvous; /* the first call waits until every thread has made its first call */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum vt_err count_once(void *p, struct vt_diag *d)
{
    struct count_ctx *c = p;
    if (c->calls++ == 0) {
        if (c->fail) {
            return vt_fail(d, VT_E_SIGNATURE, "test.fail", "failing as asked");
        }
        if (c->rendezvous) {
            atomic_fetch_add(&c->sh->arrived, 1);
            /* Every thread must be running at once to get past this (10 s of grace on a loaded
             * machine: a gate that released the threads one by one would never pass). */
            double give_up = now_s() + 10;
            while (atomic_load(&c->sh->arrived) < c->sh->threads) {
                if (now_s() > give_up) {
                    return vt_fail(d, VT_E_INTERNAL, "test.rendezvous", "only %u of %u threads",
                                   atomic_load(&c->sh->arrived), c->sh->threads);
                }
            }
        }
    }
    return VT_OK;
}

static void setup_ctxs(struct shared *sh, struct count_ctx *c, void **ctxs, unsigned n)
{
    atomic_init(&sh->arrived, 0);
    sh->threads = n;
    for (unsigned i = 0; i < n; i++) {
        c[i] = (struct count_ctx){.sh = sh};
        ctxs[i] = &c[i];
    }
}

static void test_counts_every_thread(void **state)
{
    (void)state;
    static const unsigned counts[] = {1, 2, 5};
    for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
        unsigned n = counts[k];
        struct shared sh;
        struct count_ctx c[5];
        void *ctxs[5];
        setup_ctxs(&sh, c, ctxs, n);
        struct vt_bench_result r;
        struct vt_diag d;
        vt_diag_init(&d);
        assert_int_equal(vt_bench_run_threads(count_once, ctxs, n, 0.05, &r, &d), VT_OK);
        uint64_t sum = 0;
        for (unsigned i = 0; i < n; i++) {
            assert_true(c[i].calls >= 1);
            sum += c[i].calls;
        }
        assert_int_equal(r.iterations, sum);
        assert_int_equal(r.threads, n);
        assert_true(r.seconds > 0);
        assert_true(r.per_second > 0);
        assert_true(fabs(r.per_thread * n - r.per_second) <= 1e-9 * r.per_second);
    }
}

/* seconds = 0: one iteration each, and still all at once. */
static void test_threads_run_at_once(void **state)
{
    (void)state;
    struct shared sh;
    struct count_ctx c[4];
    void *ctxs[4];
    setup_ctxs(&sh, c, ctxs, 4);
    for (unsigned i = 0; i < 4; i++) {
        c[i].rendezvous = true;
    }
    struct vt_bench_result r;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_bench_run_threads(count_once, ctxs, 4, 0, &r, &d);
    if (err != VT_OK) {
        fail_msg("%s: %s", d.check, d.detail);
    }
    assert_int_equal(atomic_load(&sh.arrived), 4);
    assert_true(r.iterations >= 4);
}

static void test_failure_stops_all(void **state)
{
    (void)state;
    struct shared sh;
    struct count_ctx c[3];
    void *ctxs[3];
    setup_ctxs(&sh, c, ctxs, 3);
    c[1].fail = true;
    struct vt_bench_result r;
    struct vt_diag d;
    vt_diag_init(&d);
    double t0 = now_s();
    assert_int_equal(vt_bench_run_threads(count_once, ctxs, 3, 60, &r, &d), VT_E_SIGNATURE);
    /* The others stopped after the failure, long before the 60 s deadline. */
    assert_true(now_s() - t0 < 30);
    assert_string_equal(d.check, "test.fail");
    assert_string_equal(d.detail, "failing as asked");
    /* NULL diag: the error alone. */
    setup_ctxs(&sh, c, ctxs, 3);
    c[2].fail = true;
    assert_int_equal(vt_bench_run_threads(count_once, ctxs, 3, 60, &r, NULL), VT_E_SIGNATURE);
}

static void test_arguments(void **state)
{
    (void)state;
    struct shared sh;
    struct count_ctx c[1];
    void *ctxs[1];
    setup_ctxs(&sh, c, ctxs, 1);
    struct vt_bench_result r;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_bench_run_threads(count_once, ctxs, 0, 0.01, &r, &d), VT_E_ARG);
    assert_string_equal(d.check, "bench.threads");
    assert_int_equal(vt_bench_run_threads(count_once, ctxs, VT_BENCH_MAX_THREADS + 1, 0.01, &r, &d),
                     VT_E_ARG);
    assert_string_equal(d.check, "bench.threads");
    assert_int_equal(vt_bench_run_threads(NULL, ctxs, 1, 0.01, &r, &d), VT_E_ARG);
    assert_int_equal(vt_bench_run_threads(count_once, NULL, 1, 0.01, &r, &d), VT_E_ARG);
    assert_int_equal(vt_bench_run_threads(count_once, ctxs, 1, -1, &r, &d), VT_E_ARG);
    assert_string_equal(d.check, "bench.seconds");
    assert_int_equal(vt_bench_run_threads(count_once, ctxs, 1, NAN, &r, &d), VT_E_ARG);
    assert_int_equal(vt_bench_p256(0, 0.01, &r, &d), VT_E_ARG);
    assert_int_equal(vt_bench_p384(VT_BENCH_MAX_THREADS + 1, 0.01, &r, &d), VT_E_ARG);
    assert_int_equal(c[0].calls, 0);
    /* The one-thread wrapper. */
    assert_int_equal(vt_bench_run(count_once, &c[0], 0.01, &r, &d), VT_OK);
    assert_int_equal(r.threads, 1);
    assert_int_equal(r.iterations, c[0].calls);
}

static void test_floors_on_threads(void **state)
{
    (void)state;
    struct vt_bench_result r;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_bench_p256(2, 0.02, &r, &d), VT_OK);
    assert_int_equal(r.threads, 2);
    assert_true(r.iterations >= 2 && r.per_second > 0);
    assert_int_equal(vt_bench_p384(3, 0.02, &r, &d), VT_OK);
    assert_int_equal(r.threads, 3);
    assert_true(r.iterations >= 3 && r.per_second > 0);
}

/* Evidence that does not verify: the warm and cold helpers return vt_verify's error. */
static void test_verify_errors(void **state)
{
    (void)state;
    static const uint8_t junk[100] = {1, 2, 3};
    struct vt_verifier *v = NULL;
    struct vt_verifier_config cfg = {0};
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_verifier_new(&cfg, &v, &d), VT_OK);
    const struct vt_verify_opts opts = {.now = 1748736000};
    const struct vt_bench_evidence e = {junk, sizeof(junk), &opts};
    struct vt_bench_result r;
    assert_int_equal(vt_bench_verify_warm(v, &e, 2, 0.01, &r, &d), VT_E_UNKNOWN_EVIDENCE);
    assert_string_equal(d.check, "evidence.type");
    assert_int_equal(vt_bench_verify_cold(&cfg, &e, 2, 0.01, &r, &d), VT_E_UNKNOWN_EVIDENCE);
    assert_int_equal(vt_bench_verify_warm(NULL, &e, 1, 0.01, &r, &d), VT_E_ARG);
    assert_int_equal(vt_bench_verify_cold(NULL, &e, 1, 0.01, &r, &d), VT_E_ARG);
    vt_verifier_free(v);
}

/* A real SEV-SNP report with its VCEK, warm on one shared verifier and cold, on two threads. */
static void test_verify_snp_fixture(void **state)
{
    (void)state;
    const char *root = vt_fixtures_or_skip();
    if (root == NULL) {
        return;
    }
    char path[1024], vek_path[1024];
    snprintf(path, sizeof(path), "%s/snp/trustee/test-report.bin", root);
    snprintf(vek_path, sizeof(vek_path), "%s/snp/trustee/test-vcek.der", root);
    size_t len = 0, vek_len = 0;
    uint8_t *report = vt_test_read_file(path, &len);
    uint8_t *vek = vt_test_read_file(vek_path, &vek_len);
    assert_non_null(report);
    assert_non_null(vek);
    struct vt_verifier *v = NULL;
    struct vt_verifier_config cfg = {0};
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_verifier_new(&cfg, &v, &d), VT_OK);
    const struct vt_verify_opts opts = {.now = 1748736000, .vek = vek, .vek_len = vek_len};
    const struct vt_bench_evidence e = {report, len, &opts};
    struct vt_bench_result r;
    enum vt_err err = vt_bench_verify_warm(v, &e, 2, 0.05, &r, &d);
    if (err != VT_OK) {
        fail_msg("warm: %s: %s: %s", vt_err_name(err), d.check, d.detail);
    }
    assert_int_equal(r.threads, 2);
    assert_true(r.iterations >= 2 && r.per_second > 0);
    err = vt_bench_verify_cold(&cfg, &e, 2, 0.05, &r, &d);
    if (err != VT_OK) {
        fail_msg("cold: %s: %s: %s", vt_err_name(err), d.check, d.detail);
    }
    assert_int_equal(r.threads, 2);
    assert_true(r.iterations >= 2 && r.per_second > 0);
    vt_verifier_free(v);
    free(report);
    free(vek);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_every_thread), cmocka_unit_test(test_threads_run_at_once),
        cmocka_unit_test(test_failure_stops_all),   cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_floors_on_threads),   cmocka_unit_test(test_verify_errors),
        cmocka_unit_test(test_verify_snp_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
