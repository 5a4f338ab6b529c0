/*
 * The pinned LRU cache (pincache.h): set-associative slots, lock-free get and release, writers
 * serialised by a mutex.
 *
 * A slot's control word: generation (high 32 bits) and pin count (low 32 bits), or LOCKED in the
 * low bits while a writer owns the slot. The id and value are atomics read relaxed by readers:
 * their writes happen only while the slot is LOCKED, and the writer's release store of the new
 * word publishes them; a reader's acquire load of the word sees the values written before it,
 * and its compare-and-swap from that word to word + 1 succeeds only if the word never changed,
 * so the id and value it read belong to the generation it pinned.
 */
#include <stdlib.h>
#include <string.h>

#include "base/pincache.h"

#define PINS_MASK 0xffffffffu
#define LOCKED PINS_MASK
#define GEN_ONE ((uint64_t)1 << 32)
#define ID_WORDS (VT_PINCACHE_ID_LEN / 8)

struct vt_pincache_slot {
    _Atomic uint64_t ctl;
    _Atomic uint64_t id[ID_WORDS];
    _Atomic(void *) value; /* NULL: the slot is empty */
    _Atomic uint64_t last_use;
};

static uint32_t pins_of(uint64_t ctl)
{
    return (uint32_t)(ctl & PINS_MASK);
}

enum vt_err vt_pincache_init(struct vt_pincache *c, size_t n_slots, vt_pincache_free_fn free_value)
{
    memset(c, 0, sizeof(*c));
    if (n_slots == 0 || free_value == NULL) {
        return VT_E_ARG;
    }
    size_t ways = n_slots < VT_PINCACHE_WAYS ? n_slots : VT_PINCACHE_WAYS;
    size_t sets = (n_slots + ways - 1) / ways;
    c->slots = calloc(sets * ways, sizeof(*c->slots));
    if (c->slots == NULL) {
        return VT_E_NOMEM;
    }
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c->slots);
        c->slots = NULL;
        return VT_E_NOMEM;
    }
    for (size_t i = 0; i < sets * ways; i++) {
        atomic_init(&c->slots[i].ctl, 0);
        atomic_init(&c->slots[i].value, NULL);
        atomic_init(&c->slots[i].last_use, 0);
        for (size_t w = 0; w < ID_WORDS; w++) {
            atomic_init(&c->slots[i].id[w], 0);
        }
    }
    atomic_init(&c->tick, 0);
    c->n_slots = sets * ways;
    c->n_sets = sets;
    c->ways = ways;
    c->free_value = free_value;
    return VT_OK;
}

void vt_pincache_cleanup(struct vt_pincache *c)
{
    if (c == NULL || c->slots == NULL) {
        return;
    }
    for (size_t i = 0; i < c->n_slots; i++) {
        void *v = atomic_load(&c->slots[i].value);
        if (v != NULL) {
            c->free_value(v);
        }
    }
    free(c->slots);
    pthread_mutex_destroy(&c->lock);
    memset(c, 0, sizeof(*c));
}

static void id_words(const uint8_t id[VT_PINCACHE_ID_LEN], uint64_t w[ID_WORDS])
{
    memcpy(w, id, VT_PINCACHE_ID_LEN);
}

/* The first slot of id's set. */
static struct vt_pincache_slot *set_of(const struct vt_pincache *c, const uint64_t w[ID_WORDS])
{
    return &c->slots[(size_t)(w[0] % c->n_sets) * c->ways];
}

static bool slot_has(struct vt_pincache_slot *s, const uint64_t w[ID_WORDS])
{
    for (size_t i = 0; i < ID_WORDS; i++) {
        if (atomic_load_explicit(&s->id[i], memory_order_relaxed) != w[i]) {
            return false;
        }
    }
    return true;
}

/*
 * Pin the slot if it holds id, without a lock; the value or NULL. Retries while other readers'
 * pins or releases change the word; gives up if the slot is locked, empty or another id.
 */
static void *try_pin(struct vt_pincache *c, struct vt_pincache_slot *s, const uint64_t w[ID_WORDS])
{
    uint64_t ctl = atomic_load_explicit(&s->ctl, memory_order_acquire);
    for (;;) {
        if (pins_of(ctl) == LOCKED || pins_of(ctl) == LOCKED - 1) {
            return NULL;
        }
        void *v = atomic_load_explicit(&s->value, memory_order_relaxed);
        if (v == NULL || !slot_has(s, w)) {
            return NULL;
        }
        if (atomic_compare_exchange_weak_explicit(&s->ctl, &ctl, ctl + 1, memory_order_acq_rel,
                                                  memory_order_acquire)) {
            atomic_store_explicit(&s->last_use,
                                  atomic_load_explicit(&c->tick, memory_order_relaxed),
                                  memory_order_relaxed);
            return v;
        }
    }
}

/* The value of a pinned slot whose value is fresh, pinned in *pin, or NULL. */
static void *find_fresh(struct vt_pincache *c, const uint64_t w[ID_WORDS],
                        vt_pincache_fresh_fn fresh, void *ctx, struct vt_pin *pin)
{
    struct vt_pincache_slot *set = set_of(c, w);
    for (size_t i = 0; i < c->ways; i++) {
        struct vt_pincache_slot *s = &set[i];
        void *v = try_pin(c, s, w);
        if (v == NULL) {
            continue;
        }
        if (fresh == NULL || fresh(v, ctx)) {
            pin->value = v;
            pin->slot = s;
            return v;
        }
        atomic_fetch_sub_explicit(&s->ctl, 1, memory_order_release);
    }
    return NULL;
}

void *vt_pincache_get(struct vt_pincache *c, const uint8_t id[VT_PINCACHE_ID_LEN],
                      vt_pincache_fresh_fn fresh, void *ctx, struct vt_pin *pin)
{
    pin->value = NULL;
    pin->slot = NULL;
    uint64_t w[ID_WORDS];
    id_words(id, w);
    return find_fresh(c, w, fresh, ctx, pin);
}

/* Lock an unpinned slot for writing; whether it was had (a reader may pin it first). */
static bool claim(struct vt_pincache_slot *s, uint64_t *gen)
{
    uint64_t ctl = atomic_load_explicit(&s->ctl, memory_order_acquire);
    if (pins_of(ctl) != 0) {
        return false;
    }
    *gen = ctl & ~(uint64_t)PINS_MASK;
    return atomic_compare_exchange_strong_explicit(&s->ctl, &ctl, *gen | LOCKED,
                                                   memory_order_acq_rel, memory_order_relaxed);
}

/*
 * The victim for id in its set, claimed: an unpinned stale value of the same id first, else an
 * empty slot, else the least recently used unpinned one; NULL if every slot is pinned. Under the
 * writers' mutex.
 */
static struct vt_pincache_slot *claim_victim(struct vt_pincache *c, const uint64_t w[ID_WORDS],
                                             uint64_t *gen)
{
    struct vt_pincache_slot *set = set_of(c, w);
    for (size_t i = 0; i < c->ways; i++) {
        struct vt_pincache_slot *s = &set[i];
        if (atomic_load_explicit(&s->value, memory_order_relaxed) != NULL && slot_has(s, w) &&
            claim(s, gen)) {
            return s;
        }
    }
    /* Candidates in order of preference; a reader may pin one between the look and the claim,
     * so the next is tried. */
    bool tried[VT_PINCACHE_WAYS] = {false};
    for (size_t round = 0; round < c->ways; round++) {
        struct vt_pincache_slot *best = NULL;
        size_t best_i = 0;
        for (size_t i = 0; i < c->ways; i++) {
            struct vt_pincache_slot *s = &set[i];
            if (tried[i] || pins_of(atomic_load_explicit(&s->ctl, memory_order_relaxed)) != 0) {
                continue;
            }
            bool empty = atomic_load_explicit(&s->value, memory_order_relaxed) == NULL;
            bool best_empty =
                best != NULL && atomic_load_explicit(&best->value, memory_order_relaxed) == NULL;
            if (best == NULL || (empty && !best_empty) ||
                (!best_empty && !empty &&
                 atomic_load_explicit(&s->last_use, memory_order_relaxed) <
                     atomic_load_explicit(&best->last_use, memory_order_relaxed))) {
                best = s;
                best_i = i;
            }
        }
        if (best == NULL) {
            return NULL;
        }
        if (claim(best, gen)) {
            return best;
        }
        tried[best_i] = true;
    }
    return NULL;
}

void *vt_pincache_put(struct vt_pincache *c, const uint8_t id[VT_PINCACHE_ID_LEN], void *value,
                      vt_pincache_fresh_fn fresh, void *ctx, struct vt_pin *pin)
{
    uint64_t w[ID_WORDS];
    id_words(id, w);
    void *drop = NULL; /* freed once the mutex is released */
    pin->value = NULL;
    pin->slot = NULL;
    pthread_mutex_lock(&c->lock);
    void *found = find_fresh(c, w, fresh, ctx, pin);
    if (found != NULL) { /* another caller stored one meanwhile: the first stored is kept */
        drop = value;
        value = found;
        goto out;
    }
    uint64_t gen = 0;
    struct vt_pincache_slot *s = claim_victim(c, w, &gen);
    if (s == NULL) { /* every slot of the set pinned: private to this pin */
        pin->value = value;
        goto out;
    }
    drop = atomic_load_explicit(&s->value, memory_order_relaxed);
    for (size_t i = 0; i < ID_WORDS; i++) {
        atomic_store_explicit(&s->id[i], w[i], memory_order_relaxed);
    }
    atomic_store_explicit(&s->value, value, memory_order_relaxed);
    atomic_store_explicit(&s->last_use,
                          atomic_fetch_add_explicit(&c->tick, 1, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    /* Published with the next generation, pinned once for the caller. */
    atomic_store_explicit(&s->ctl, gen + GEN_ONE + 1, memory_order_release);
    pin->value = value;
    pin->slot = s;
out:
    pthread_mutex_unlock(&c->lock);
    if (drop != NULL) {
        c->free_value(drop);
    }
    return value;
}

void vt_pincache_release(struct vt_pincache *c, struct vt_pin *pin)
{
    if (pin->slot != NULL) {
        atomic_fetch_sub_explicit(&pin->slot->ctl, 1, memory_order_release);
    } else if (pin->value != NULL) {
        c->free_value(pin->value);
    }
    pin->value = NULL;
    pin->slot = NULL;
}
