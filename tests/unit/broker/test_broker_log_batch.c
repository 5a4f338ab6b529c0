/*
 * Group commit of the audit log (src/broker/broker_log.c): appends from many threads at once
 * are committed in batches of at most log_batch_max entries, one signed checkpoint each; every
 * append gets its own index, and its receipt proves it against its batch's checkpoint; the log
 * then audits clean with one checkpoint per batch. With log_batch_max 1 every entry is its own
 * batch, as before group commit. A nonce is redeemed in its request's batch: two requests with
 * one nonce at once, both past the early check, get one acceptance and one nonce-replayed, and
 * only the accepted one is logged.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker_harness.h"

#define THREADS 8
#define PER_THREAD 30
#define TOTAL (THREADS * PER_THREAD)

struct keys {
    size_t n;
    char kid[4][64];
    uint8_t xy[4][64];
};

static bool row_key(void *ctx, const struct vt_sql_row *row)
{
    struct keys *k = ctx;
    const char *hx = vt_row_text(row, 1);
    if (k->n < 4 && vt_hex_decode_exact(hx, strlen(hx), k->xy[k->n], 64) == VT_OK) {
        snprintf(k->kid[k->n], sizeof(k->kid[k->n]), "%s", vt_row_text(row, 0));
        k->n++;
    }
    return true;
}

struct worker {
    struct bh *h;
    const struct keys *keys;
    int id;
    uint64_t index[PER_THREAD];
    char *receipt[PER_THREAD];
    char kid[PER_THREAD][64];
    enum vt_err err;
};

static void *append_many(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < PER_THREAD && w->err == VT_OK; i++) {
        char entry[96];
        snprintf(entry, sizeof(entry), "{\"test\":\"batch\",\"thread\":%d,\"n\":%d}", w->id, i);
        struct vt_diag d;
        vt_diag_init(&d);
        w->err = vt_broker_log_append(w->h->b, entry, "", NULL, NULL, true, &w->index[i],
                                      &w->receipt[i], w->kid[i], &d);
    }
    return NULL;
}

/* Every append from THREADS threads, each receipt checked offline against the signing key its
 * kid names: its entry, its index, a checkpoint covering it. Returns the batches committed. */
static uint64_t run(size_t batch_max, int64_t wait_us)
{
    struct vt_broker_config over = {.log_batch_max = (int64_t)batch_max,
                                    .log_batch_wait_us = wait_us};
    struct bh *h = bh_start_cfg(vt_time_now(), "", 300, 600, NULL, NULL, &over);
    assert_non_null(h);
    uint64_t before = atomic_load(&h->b->m.log_batches);
    struct keys keys = {0};
    struct vt_diag d;
    vt_diag_init(&d);
    pthread_t t[THREADS];
    struct worker *w = calloc(THREADS, sizeof(*w));
    assert_non_null(w);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.h = h, .keys = &keys, .id = i};
        assert_int_equal(pthread_create(&t[i], NULL, append_many, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].err, VT_OK);
    }
    assert_int_equal(vt_store_exec(h->b->store, "SELECT kid, public_xy FROM vb_signing_keys", NULL,
                                   0, row_key, &keys, NULL, &d),
                     VT_OK);
    assert_true(keys.n >= 1);
    bool seen[TOTAL] = {false};
    for (int i = 0; i < THREADS; i++) {
        for (int j = 0; j < PER_THREAD; j++) {
            assert_true(w[i].index[j] < TOTAL);
            assert_false(seen[w[i].index[j]]); /* one index per append */
            seen[w[i].index[j]] = true;
            const uint8_t *xy = NULL;
            for (size_t k = 0; k < keys.n; k++) {
                xy = strcmp(keys.kid[k], w[i].kid[j]) == 0 ? keys.xy[k] : xy;
            }
            assert_non_null(xy);
            struct vt_receipt_info info;
            assert_non_null(w[i].receipt[j]);
            assert_int_equal(
                vt_receipt_verify(w[i].receipt[j], strlen(w[i].receipt[j]), xy, &info, &d), VT_OK);
            assert_int_equal(info.index, w[i].index[j]);
            assert_true(info.size > w[i].index[j]);
            char want[96];
            uint8_t h256[32];
            snprintf(want, sizeof(want), "{\"test\":\"batch\",\"thread\":%d,\"n\":%d}", i, j);
            vt_sha256(want, strlen(want), h256);
            assert_memory_equal(info.entry_sha256, h256, 32);
            free(w[i].receipt[j]);
        }
    }
    uint64_t batches = atomic_load(&h->b->m.log_batches) - before;
    uint64_t n = 0, cps = 0;
    assert_int_equal(vt_broker_audit_verify(h->b, &n, &cps, &d), VT_OK);
    assert_int_equal(n, TOTAL);
    assert_int_equal(cps, batches); /* one checkpoint per batch */
    assert_true(batches >= (TOTAL + batch_max - 1) / batch_max);
    free(w);
    bh_stop(h);
    return batches;
}

/* Batches of up to 16, the first request waiting 20 ms for others: fewer batches than entries. */
static void test_batches(void **state)
{
    (void)state;
    uint64_t batches = run(16, 20000);
    print_message("  %d appends from %d threads: %llu batches\n", TOTAL, THREADS,
                  (unsigned long long)batches);
    assert_true(batches < TOTAL);
}

/* log_batch_max 1: every entry its own transaction and checkpoint. */
static void test_batch_of_one(void **state)
{
    (void)state;
    assert_int_equal(run(1, 0), TOTAL);
}

struct racer {
    struct bh *h;
    const char *body;
    pthread_barrier_t *go;
    long status;
    char reason[96];
};

static void *race(void *arg)
{
    struct racer *r = arg;
    json_t *out = NULL;
    pthread_barrier_wait(r->go);
    r->status = bh_call(r->h, "POST", "/v1/attest", r->body, NULL, &out, NULL);
    const char *why = json_string_value(json_object_get(out, "reason"));
    snprintf(r->reason, sizeof(r->reason), "%s", why ? why : "");
    json_decref(out);
    return NULL;
}

static void test_one_nonce_two_requests(void **state)
{
    (void)state;
    struct vt_broker_config over = {.log_batch_wait_us = 2000};
    struct bh *h = bh_start_cfg(vt_time_now(), "", 300, 600, NULL, NULL, &over);
    assert_non_null(h);
    struct vt_jwk *key = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_jwk_generate("P-256", &key, &d), VT_OK);
    for (int round = 0; round < 8; round++) {
        char nonce[64];
        uint8_t raw[32];
        assert_true(bh_challenge(h, nonce, raw));
        json_t *body = bh_attest_body(h, VT_TEE_SGX, nonce, raw, key, 0);
        char *text = json_dumps(body, JSON_COMPACT);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, 2);
        struct racer r[2] = {{h, text, &go, 0, ""}, {h, text, &go, 0, ""}};
        pthread_t t[2];
        uint64_t before = 0, after = 0, cps = 0;
        assert_int_equal(vt_broker_audit_verify(h->b, &before, &cps, &d), VT_OK);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
        }
        for (int i = 0; i < 2; i++) {
            assert_int_equal(pthread_join(t[i], NULL), 0);
        }
        pthread_barrier_destroy(&go);
        assert_int_equal(r[0].status + r[1].status, 200 + 401);
        assert_string_equal(r[r[0].status == 401 ? 0 : 1].reason, "nonce-replayed");
        assert_int_equal(vt_broker_audit_verify(h->b, &after, &cps, &d), VT_OK);
        assert_int_equal(after, before + 1); /* only the accepted attestation is logged */
        free(text);
        json_decref(body);
    }
    vt_jwk_free(key);
    bh_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_batch_of_one),
        cmocka_unit_test(test_one_nonce_two_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
