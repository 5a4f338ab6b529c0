/*
 * The pinned LRU cache: hit and miss, least-recently-used eviction, pinned values never evicted,
 * a private value when every slot is pinned (freed on release), a double put of one id keeping
 * the first, the freshness predicate and stale replacement, ids spread over the sets of a large
 * cache, and threads getting, putting and releasing over a small and a large cache (no leak, no
 * double free, a pinned value never freed or replaced: the ASan/UBSan build runs it too).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/pincache.h"

#define MAGIC 0x5049u

struct val {
    unsigned magic; /* MAGIC while alive */
    unsigned key;   /* the id it was stored under */
    long born;      /* for the freshness predicate */
};

static atomic_long allocs;
static atomic_long frees;

static void reset_counts(void)
{
    atomic_store(&allocs, 0);
    atomic_store(&frees, 0);
}

static struct val *new_val(unsigned key, long born)
{
    struct val *v = calloc(1, sizeof(*v));
    assert_non_null(v);
    v->magic = MAGIC;
    v->key = key;
    v->born = born;
    atomic_fetch_add(&allocs, 1);
    return v;
}

static void free_val(void *p)
{
    struct val *v = p;
    assert_int_equal(v->magic, MAGIC); /* never freed twice */
    v->magic = 0;
    free(v);
    atomic_fetch_add(&frees, 1);
}

static void make_id(unsigned key, uint8_t id[VT_PINCACHE_ID_LEN])
{
    memset(id, 0xa5, VT_PINCACHE_ID_LEN);
    memcpy(id, &key, sizeof(key));
}

/* Get key, release at once; whether it was there. */
static bool has(struct vt_pincache *c, unsigned key)
{
    uint8_t id[VT_PINCACHE_ID_LEN];
    make_id(key, id);
    struct vt_pin pin;
    struct val *v = vt_pincache_get(c, id, NULL, NULL, &pin);
    if (v != NULL) {
        assert_int_equal(v->key, key);
        assert_ptr_equal(pin.value, v);
    } else {
        assert_null(pin.value);
        assert_null(pin.slot);
    }
    vt_pincache_release(c, &pin);
    return v != NULL;
}

/* Put a new value for key and keep it pinned in *pin. */
static struct val *put_pinned(struct vt_pincache *c, unsigned key, long born, struct vt_pin *pin)
{
    uint8_t id[VT_PINCACHE_ID_LEN];
    make_id(key, id);
    struct val *v = new_val(key, born);
    struct val *got = vt_pincache_put(c, id, v, NULL, NULL, pin);
    assert_ptr_equal(pin->value, got);
    return got;
}

static void put(struct vt_pincache *c, unsigned key)
{
    struct vt_pin pin;
    (void)put_pinned(c, key, 0, &pin);
    vt_pincache_release(c, &pin);
}

static void test_init_args(void **state)
{
    (void)state;
    struct vt_pincache c;
    assert_int_equal(vt_pincache_init(&c, 0, free_val), VT_E_ARG);
    vt_pincache_cleanup(&c); /* nothing to clean up */
    assert_int_equal(vt_pincache_init(&c, 2, NULL), VT_E_ARG);
    vt_pincache_cleanup(&c);
    vt_pincache_cleanup(NULL);
}

static void test_hit_miss(void **state)
{
    (void)state;
    reset_counts();
    struct vt_pincache c;
    assert_int_equal(vt_pincache_init(&c, 4, free_val), VT_OK);
    assert_false(has(&c, 1));
    struct vt_pin pin;
    struct val *v = put_pinned(&c, 1, 0, &pin);
    assert_non_null(pin.slot);
    assert_int_equal(v->key, 1);
    vt_pincache_release(&c, &pin);
    assert_null(pin.value);
    vt_pincache_release(&c, &pin); /* an empty pin: nothing */
    assert_true(has(&c, 1));
    assert_false(has(&c, 2));
    assert_int_equal(atomic_load(&frees), 0);
    vt_pincache_cleanup(&c);
    assert_int_equal(atomic_load(&frees), 1);
}

static void test_lru_eviction(void **state)
{
    (void)state;
    reset_counts();
    struct vt_pincache c;
    assert_int_equal(vt_pincache_init(&c, 3, free_val), VT_OK);
    put(&c, 1);
    put(&c, 2);
    put(&c, 3);
    assert_true(has(&c, 1)); /* 1 used most recently: 2 is the least */
    put(&c, 4);
    assert_int_equal(atomic_load(&frees), 1);
    assert_false(has(&c, 2));
    assert_true(has(&c, 3)); /* now 1 is the least recently used */
    assert_true(has(&c, 4));
    put(&c, 5);
    assert_false(has(&c, 1));
    assert_true(has(&c, 3));
    assert_true(has(&c, 4));
    assert_true(has(&c, 5));
    assert_int_equal(atomic_load(&frees), 2);
    vt_pincache_cleanup(&c);
    assert_int_equal(atomic_load(&frees), atomic_load(&allocs));
}

static void test_pinned_never_evicted(void **state)
{
    (void)state;
    reset_counts();
    struct vt_pincache c;
    assert_int_equal(vt_pincache_init(&c, 2, free_val), VT_OK);
    struct vt_pin p1;
    struct val *v1 = put_pinned(&c, 1, 0, &p1); /* the least recently used, but pinned */
    put(&c, 2);
    put(&c, 3); /* evicts 2, not 1 */
    assert_false(has(&c, 2));
    put(&c, 4); /* evicts 3 */
    assert_false(has(&c, 3));
    assert_int_equal(v1->magic, MAGIC);
    vt_pincache_release(&c, &p1);
    assert_true(has(&c, 1));
    assert_true(has(&c, 4));
    vt_pincache_cleanup(&c);
    assert_int_equal(atomic_load(&frees), 4);
}

static void test_all_pinned_private(void **state)
{
    (void)state;
    reset_counts();
    struct vt_pincache c;
    assert_int_equal(vt_pincache_init(&c, 2, free_val), VT_OK);
    struct vt_pin p1, p2, p3;
    (void)put_pinned(&c, 1, 0, &p1);
    (void)put_pinned(&c, 2, 0, &p2);
    struct val *v3 = put_pinned(&c, 3, 0, &p3);
    assert_null(p3.slot); /* private */
    assert_int_equal(v3->key, 3);
    assert_int_equal(atomic_load(&frees), 0);
    assert_false(has(&c, 3));
    vt_pincache_release(&c, &p3);
    assert_int_equal(atomic_load(&frees), 1);
    assert_true(has(&c, 1));
    assert_true(has(&c, 2));
    vt_pincache_release(&c, &p1);
    vt_pincache_release(&c, &p2);
    put(&c, 3); /* a slot is free to take again */
    assert_true(has(&c, 3));
    vt_pincache_cleanup(&c);
    assert_int_equal(atomic_load(&frees), 4);
}

static void test_double_put_keeps_first(void **state)
{
    (void)state;
    reset_counts();
    struct vt_pincache c;
    assert_int_equal(vt_pincache_init(&c, 4, free_val), VT_OK);
    struct vt_pin pa, pb, pc;
    struct val *a = put_pinned(&c, 7, 1, &pa);
    struct val *b = put_pinned(&c, 7, 2, &pb); /* built meanwhile by another caller */
    assert_ptr_equal(b, a);
    assert_int_equal(b->born, 1);
    assert_int_equal(atomic_load(&frees), 1); /* the second value */
    vt_pincache_release(&c, &pa);
    struct val *c3 = put_pinned(&c, 7, 3, &pc); /* unpinned but fresh: still kept */
    assert_ptr_equal(c3, a);
    assert_int_equal(atomic_load(&frees), 2);
    vt_pincache_release(&c, &pb);
    vt_pincache_release(&c, &pc);
    vt_pincache_cleanup(&c);
    assert_int_equal(atomic_load(&frees), 3);
}

/* Fresh while born + 10 > now. */
static bool young(const void *value, void *ctx)
{
    return ((const struct val *)value)->born + 10 > *(const long *)ctx;
}

static void test_fresh_and_stale(void **state)
{
    (void)state;
    reset_counts();
    struct vt_pincache c;
    assert_int_equal(vt_pincache_init(&c, 3, free_val), VT_OK);
    uint8_t id1[VT_PINCACHE_ID_LEN], id2[VT_PINCACHE_ID_LEN];
    make_id(1, id1);
    make_id(2, id2);
    long now = 0;
    struct vt_pin pin;
    (void)vt_pincache_put(&c, id2, new_val(2, 0), young, &now, &pin); /* least recently used */
    vt_pincache_release(&c, &pin);
    (void)vt_pincache_put(&c, id1, new_val(1, 0), young, &now, &pin);
    vt_pincache_release(&c, &pin);
    put(&c, 3);
    now = 5;
    assert_non_null(vt_pincache_get(&c, id1, young, &now, &pin));
    vt_pincache_release(&c, &pin);
    now = 20;
    assert_null(vt_pincache_get(&c, id1, young, &now, &pin));
    assert_null(pin.value);
    assert_non_null(vt_pincache_get(&c, id1, NULL, NULL, &pin)); /* still stored */
    vt_pincache_release(&c, &pin);
    /* A new set for id1 replaces the stale one, not the least recently used id2. */
    struct val *n1 = vt_pincache_put(&c, id1, new_val(1, 20), young, &now, &pin);
    assert_int_equal(n1->born, 20);
    vt_pincache_release(&c, &pin);
    assert_int_equal(atomic_load(&frees), 1);
    assert_true(has(&c, 2));
    assert_true(has(&c, 3));
    assert_ptr_equal(vt_pincache_get(&c, id1, young, &now, &pin), n1);
    vt_pincache_release(&c, &pin);

    /* A stale value that is pinned stays; the new one goes to another slot and is found. */
    now = 40;
    struct vt_pin stale;
    struct val *old = vt_pincache_get(&c, id1, NULL, NULL, &stale);
    assert_ptr_equal(old, n1);
    struct val *n2 = vt_pincache_put(&c, id1, new_val(1, 40), young, &now, &pin);
    assert_int_equal(n2->born, 40);
    assert_non_null(pin.slot);
    vt_pincache_release(&c, &pin);
    assert_int_equal(old->magic, MAGIC);
    assert_ptr_equal(vt_pincache_get(&c, id1, young, &now, &pin), n2);
    vt_pincache_release(&c, &pin);
    vt_pincache_release(&c, &stale);
    /* Released, the stale one is the first taken by the next put of its id. */
    now = 60;
    struct val *n3 = vt_pincache_put(&c, id1, new_val(1, 60), young, &now, &pin);
    vt_pincache_release(&c, &pin);
    assert_ptr_equal(vt_pincache_get(&c, id1, young, &now, &pin), n3);
    vt_pincache_release(&c, &pin);
    vt_pincache_cleanup(&c);
    assert_int_equal(atomic_load(&frees), atomic_load(&allocs));
}

/* A large cache: ids land in sets of VT_PINCACHE_WAYS; each set evicts its own least recently
 * used, so filling the cache with as many ids as slots keeps most, and every id is found where
 * it was put. */
static void test_sets(void **state)
{
    (void)state;
    reset_counts();
    struct vt_pincache c;
    assert_int_equal(vt_pincache_init(&c, 100, free_val), VT_OK);
    assert_int_equal(c.ways, VT_PINCACHE_WAYS);
    assert_int_equal(c.n_slots % VT_PINCACHE_WAYS, 0);
    assert_true(c.n_slots >= 100);
    for (unsigned k = 0; k < 60; k++) {
        put(&c, k);
    }
    unsigned kept = 0;
    for (unsigned k = 0; k < 60; k++) {
        kept += has(&c, k);
    }
    /* Ids whose set is full evict within it; with 60 ids in 13 sets of 8 nearly all stay. */
    assert_true(kept + (unsigned)atomic_load(&frees) == 60);
    assert_true(kept >= 40);
    vt_pincache_cleanup(&c);
    assert_int_equal(atomic_load(&frees), atomic_load(&allocs));
}

/* ---- threads ---- */

#define THREADS 6
#define ROUNDS 20000

struct worker {
    struct vt_pincache *c;
    uint64_t rng;
    unsigned keys;
    long hits, builds;
};

static uint64_t next(uint64_t *s) /* xorshift64 */
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A pinned value is alive and the one asked for (ASan also sees a read of a freed value). */
static void use(struct vt_pin *pin, unsigned key)
{
    struct val *v = pin->value;
    assert_non_null(v);
    assert_int_equal(v->magic, MAGIC);
    assert_int_equal(v->key, key);
}

/* Fresh while born is at least the round the caller reads it in minus 500. */
static bool recent(const void *value, void *ctx)
{
    return ((const struct val *)value)->born + 500 >= *(const long *)ctx;
}

static void pin_one(struct worker *w, unsigned key, long round, struct vt_pin *pin)
{
    uint8_t id[VT_PINCACHE_ID_LEN];
    make_id(key, id);
    if (vt_pincache_get(w->c, id, recent, &round, pin) != NULL) {
        w->hits++;
    } else {
        w->builds++;
        (void)vt_pincache_put(w->c, id, new_val(key, round), recent, &round, pin);
    }
    use(pin, key);
}

static void *work(void *arg)
{
    struct worker *w = arg;
    for (long r = 0; r < ROUNDS; r++) {
        unsigned k1 = (unsigned)(next(&w->rng) % w->keys);
        struct vt_pin p1, p2;
        pin_one(w, k1, r, &p1);
        bool two = next(&w->rng) % 2 == 0; /* six threads holding two pins: all 4 slots pinned */
        unsigned k2 = (unsigned)(next(&w->rng) % w->keys);
        if (two) {
            pin_one(w, k2, r, &p2);
            use(&p1, k1);
            vt_pincache_release(w->c, &p2);
        }
        vt_pincache_release(w->c, &p1);
    }
    return NULL;
}

static void run_threads(size_t slots, unsigned keys)
{
    reset_counts();
    struct vt_pincache c;
    assert_int_equal(vt_pincache_init(&c, slots, free_val), VT_OK);
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){
            .c = &c, .rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1), .keys = keys};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    long hits = 0, builds = 0;
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        hits += w[i].hits;
        builds += w[i].builds;
    }
    assert_true(hits > 0);
    assert_true(builds > 0);
    assert_int_equal(atomic_load(&allocs), builds);
    vt_pincache_cleanup(&c);
    assert_int_equal(atomic_load(&frees), atomic_load(&allocs));
}

/* Six threads over 4 slots and 10 ids: every slot pinned at times, private values, stale
 * replacement, readers pinning while a writer claims. */
static void test_threads(void **state)
{
    (void)state;
    run_threads(4, 10);
}

/* The same over 64 slots (8 sets) and 200 ids: readers and writers in many sets at once. */
static void test_threads_sets(void **state)
{
    (void)state;
    run_threads(64, 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_args),
        cmocka_unit_test(test_hit_miss),
        cmocka_unit_test(test_lru_eviction),
        cmocka_unit_test(test_pinned_never_evicted),
        cmocka_unit_test(test_all_pinned_private),
        cmocka_unit_test(test_double_put_keeps_first),
        cmocka_unit_test(test_fresh_and_stale),
        cmocka_unit_test(test_sets),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_threads_sets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
