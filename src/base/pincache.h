/*
 * A small thread-safe cache of built values, each pinned while a verification uses it.
 *
 * Fixed slots, each holding one heap value under a 32-byte id (a SHA-256 the caller computes);
 * least-recently-used eviction among the slots nobody pins. The caches of verified chains (the
 * DCAP PCK chains, the Nitro CA chains, the SEV-SNP VEKs) and of fetched collateral (vt_verify's
 * DCAP and SEV-SNP sets) are all this module.
 *
 * Use: vt_pincache_get; on a miss build the value outside the cache (verify a chain, fetch
 * collateral), then vt_pincache_put it; use the value through the pin; vt_pincache_release.
 *
 * Thread safety. One mutex guards the slots, their pins and the LRU clock; nothing slow runs under
 * it (values are built by the caller, and replaced values are freed after it is released). A
 * value is never changed or freed while pinned: eviction and stale replacement only take slots
 * whose pin count is zero, so a pin holder reads its value without the lock. The only change to
 * a pinned value is vt_pincache_with_sole's callback, which runs under the lock and only while
 * the caller's pin is the value's only one: no other holder can read during the change (each
 * would have to be pinned), and the next pinner's get, taking the same lock, sees all of it.
 * Two threads that miss at once both build; the first to put keeps its value, the second's is
 * freed and it is pinned to the first's. When every slot is pinned, a put's value stays private
 * to its pin (used once, freed on release).
 *
 * Internal to the veritee tree (src/), not installed.
 */
#ifndef VT_BASE_PINCACHE_H
#define VT_BASE_PINCACHE_H

#include <pthread.h>

#include <veritee/error.h>

#define VT_PINCACHE_ID_LEN 32

/* Frees a value the cache owns (never called on NULL). */
typedef void (*vt_pincache_free_fn)(void *value);
/* Whether a stored value may still be used, for ctx (e.g. its age against a TTL). Called under
 * the cache's lock: cheap, and no call back into the cache. */
typedef bool (*vt_pincache_fresh_fn)(const void *value, void *ctx);

struct vt_pincache_slot;

struct vt_pincache {
    pthread_mutex_t lock; /* guards slots (ids, values, pins, last use) and tick */
    struct vt_pincache_slot *slots;
    size_t n_slots;
    uint64_t tick; /* the LRU clock: each get hit and put advances it */
    vt_pincache_free_fn free_value;
};

/* A value in use. Caller storage; filled by get and put, emptied by release. */
struct vt_pin {
    void *value;                   /* borrowed from the cache, or owned when private */
    struct vt_pincache_slot *slot; /* NULL: a private value, freed on release */
};

/*
 * A cache of n_slots (> 0) empty slots; free_value frees a value the cache drops. VT_E_NOMEM if
 * the slots or the lock cannot be had (c is then left with nothing to clean up).
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
 * an unpinned stale slot of the same id, else the least recently used unpinned slot (an empty
 * one first); what it replaces is freed. With every slot pinned, value stays private to *pin.
 */
void *vt_pincache_put(struct vt_pincache *c, const uint8_t id[VT_PINCACHE_ID_LEN], void *value,
                      vt_pincache_fresh_fn fresh, void *ctx, struct vt_pin *pin);

/* Unpin (a private value is freed). An empty pin is fine; *pin is empty afterwards. */
void vt_pincache_release(struct vt_pincache *c, struct vt_pin *pin);

/*
 * Run fn(value, ctx) under the cache's lock if *pin is its value's only pin (a private value
 * always is) and say whether it ran: the one way to change a stored value in place.
 */
bool vt_pincache_with_sole(struct vt_pincache *c, const struct vt_pin *pin,
                           void (*fn)(void *value, void *ctx), void *ctx);

#endif
