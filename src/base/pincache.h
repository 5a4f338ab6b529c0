/*
 * A thread-safe cache of built values, each pinned while a verification uses it.
 *
 * Slots, each holding one heap value under a 32-byte id (a SHA-256 the caller computes), grouped
 * in sets of up to VT_PINCACHE_WAYS: an id lives in the set its first bytes select, so a lookup
 * reads one set whatever the cache's size; least-recently-used eviction among the set's slots
 * nobody pins. The caches of verified chains and platforms (DCAP PCK entries, Nitro CA chains and
 * leaves, SEV-SNP VEKs) and of fetched collateral (vt_verify's DCAP and SEV-SNP sets) are all
 * this module.
 *
 * Use: vt_pincache_get; on a miss build the value outside the cache (verify a chain, fetch
 * collateral), then vt_pincache_put it; use the value through the pin; vt_pincache_release.
 *
 * Thread safety. Getting and releasing take no lock: each slot has one atomic control word
 * (a generation and the pin count). A reader reads the slot's id and value after loading the
 * word and pins by a compare-and-swap of that same word, so the pin succeeds only if nobody
 * replaced the slot meanwhile; it reads the value only once pinned. A writer (put) holds the
 * cache's mutex against other writers, claims a victim slot by swapping its word from "no pins"
 * to "locked" (so a slot with a pin is never taken, and a reader's concurrent pin fails and
 * retries), writes id and value, and publishes with a new generation. Replaced values are freed
 * after the mutex is released. Two threads that miss at once both build; the first to put keeps
 * its value, the second's is freed and it is pinned to the first's. When every slot of the set
 * is pinned, a put's value stays private to its pin (used once, freed on release). Values are
 * never changed in place: a value is read-only once stored.
 *
 * Internal to the veritee tree (src/), not installed.
 */
#ifndef VT_BASE_PINCACHE_H
#define VT_BASE_PINCACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veritee/error.h>

#define VT_PINCACHE_ID_LEN 32
/* Slots per set: a lookup compares at most this many ids. */
#define VT_PINCACHE_WAYS 8

/* Frees a value the cache owns (never called on NULL). */
typedef void (*vt_pincache_free_fn)(void *value);
/* Whether a stored value may still be used, for ctx (e.g. its age against a TTL). Called on a
 * pinned value without any lock: it must only read the value. */
typedef bool (*vt_pincache_fresh_fn)(const void *value, void *ctx);

struct vt_pincache_slot;

struct vt_pincache {
    pthread_mutex_t lock; /* serialises writers (put); readers take no lock */
    struct vt_pincache_slot *slots;
    size_t n_slots, n_sets, ways; /* n_slots = n_sets * ways */
    _Atomic uint64_t tick;        /* the LRU clock: advanced by each put, stamped by each get */
    vt_pincache_free_fn free_value;
};

/* A value in use. Caller storage; filled by get and put, emptied by release. */
struct vt_pin {
    void *value;                   /* borrowed from the cache, or owned when private */
    struct vt_pincache_slot *slot; /* NULL: a private value, freed on release */
};

/*
 * A cache of at least n_slots (> 0) empty slots: one set of n_slots ways up to
 * VT_PINCACHE_WAYS, else sets of VT_PINCACHE_WAYS (n_slots rounded up to a whole number of
 * sets); free_value frees a value the cache drops. VT_E_NOMEM if the slots or the lock cannot be
 * had (c is then left with nothing to clean up).
 */
VT_MUST_USE enum vt_err vt_pincache_init(struct vt_pincache *c, size_t n_slots,
                                         vt_pincache_free_fn free_value);

/* Frees every stored value and the slots. No pin may be held. NULL-safe. */
void vt_pincache_cleanup(struct vt_pincache *c);

/*
 * The value stored under id, pinned in *pin, or NULL (and *pin empty) if there is none or none
 * for which fresh(value, ctx) holds. fresh may be NULL: every stored value is fresh.
 */
void *vt_pincache_get(struct vt_pincache *c, const uint8_t id[VT_PINCACHE_ID_LEN],
                      vt_pincache_fresh_fn fresh, void *ctx, struct vt_pin *pin);

/*
 * Store value (not NULL; ownership passes to the cache in every case) under id and pin it;
 * returns the value now pinned. If a fresh value is already stored under id (another thread
 * built it meanwhile), value is freed and that one is pinned and returned. Otherwise value takes
 * an unpinned stale slot of the same id in the id's set, else the set's least recently used
 * unpinned slot (an empty one first); what it replaces is freed. With every slot of the set
 * pinned, value stays private to *pin.
 */
void *vt_pincache_put(struct vt_pincache *c, const uint8_t id[VT_PINCACHE_ID_LEN], void *value,
                      vt_pincache_fresh_fn fresh, void *ctx, struct vt_pin *pin);

/* Unpin (a private value is freed). An empty pin is fine; *pin is empty afterwards. */
void vt_pincache_release(struct vt_pincache *c, struct vt_pin *pin);

#endif
