/*
 * The pinned LRU cache (pincache.h): slots searched linearly (a cache has a handful of them),
 * least recently used found by a per-slot stamp of the cache's tick.
 */
#include <stdlib.h>
#include <string.h>

#include "base/pincache.h"

struct vt_pincache_slot {
    uint8_t id[VT_PINCACHE_ID_LEN];
    void *value; /* NULL: the slot is empty */
    unsigned pins;
    uint64_t last_use;
};

enum vt_err vt_pincache_init(struct vt_pincache *c, size_t n_slots, vt_pincache_free_fn free_value)
{
    memset(c, 0, sizeof(*c));
    if (n_slots == 0 || free_value == NULL) {
        return VT_E_ARG;
    }
    c->slots = calloc(n_slots, sizeof(*c->slots));
    if (c->slots == NULL) {
        return VT_E_NOMEM;
    }
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c->slots);
        c->slots = NULL;
        return VT_E_NOMEM;
    }
    c->n_slots = n_slots;
    c->free_value = free_value;
    return VT_OK;
}

void vt_pincache_cleanup(struct vt_pincache *c)
{
    if (c == NULL || c->slots == NULL) {
        return;
    }
    for (size_t i = 0; i < c->n_slots; i++) {
        if (c->slots[i].value != NULL) {
            c->free_value(c->slots[i].value);
        }
    }
    free(c->slots);
    pthread_mutex_destroy(&c->lock);
    memset(c, 0, sizeof(*c));
}

/* The slot holding a fresh value under id, or NULL. Under the lock. */
static struct vt_pincache_slot *find_fresh(struct vt_pincache *c, const uint8_t *id,
                                           vt_pincache_fresh_fn fresh, void *ctx)
{
    for (size_t i = 0; i < c->n_slots; i++) {
        struct vt_pincache_slot *s = &c->slots[i];
        if (s->value != NULL && memcmp(s->id, id, VT_PINCACHE_ID_LEN) == 0 &&
            (fresh == NULL || fresh(s->value, ctx))) {
            return s;
        }
    }
    return NULL;
}

/* Pin s for the caller. Under the lock. */
static void *pin_slot(struct vt_pincache *c, struct vt_pincache_slot *s, struct vt_pin *pin)
{
    s->pins++;
    s->last_use = ++c->tick;
    pin->value = s->value;
    pin->slot = s;
    return s->value;
}

void *vt_pincache_get(struct vt_pincache *c, const uint8_t id[VT_PINCACHE_ID_LEN],
                      vt_pincache_fresh_fn fresh, void *ctx, struct vt_pin *pin)
{
    pin->value = NULL;
    pin->slot = NULL;
    pthread_mutex_lock(&c->lock);
    struct vt_pincache_slot *s = find_fresh(c, id, fresh, ctx);
    void *value = s != NULL ? pin_slot(c, s, pin) : NULL;
    pthread_mutex_unlock(&c->lock);
    return value;
}

void *vt_pincache_put(struct vt_pincache *c, const uint8_t id[VT_PINCACHE_ID_LEN], void *value,
                      vt_pincache_fresh_fn fresh, void *ctx, struct vt_pin *pin)
{
    void *drop = NULL; /* freed once the lock is released */
    pthread_mutex_lock(&c->lock);
    struct vt_pincache_slot *s = find_fresh(c, id, fresh, ctx);
    if (s != NULL) { /* another caller stored one meanwhile: the first stored is kept */
        drop = value;
        value = pin_slot(c, s, pin);
        goto out;
    }
    /* A stale value of the same id first; else an empty slot, else the least recently used. */
    struct vt_pincache_slot *victim = NULL;
    for (size_t i = 0; i < c->n_slots; i++) {
        s = &c->slots[i];
        if (s->pins != 0) {
            continue;
        }
        if (s->value != NULL && memcmp(s->id, id, VT_PINCACHE_ID_LEN) == 0) {
            victim = s;
            break;
        }
        if (victim == NULL || s->value == NULL ||
            (victim->value != NULL && s->last_use < victim->last_use)) {
            victim = s;
        }
    }
    if (victim == NULL) { /* every slot pinned: private to this pin */
        pin->value = value;
        pin->slot = NULL;
        goto out;
    }
    drop = victim->value;
    memcpy(victim->id, id, VT_PINCACHE_ID_LEN);
    victim->value = value;
    pin_slot(c, victim, pin);
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
        pthread_mutex_lock(&c->lock);
        pin->slot->pins--;
        pthread_mutex_unlock(&c->lock);
    } else if (pin->value != NULL) {
        c->free_value(pin->value);
    }
    pin->value = NULL;
    pin->slot = NULL;
}

bool vt_pincache_with_sole(struct vt_pincache *c, const struct vt_pin *pin,
                           void (*fn)(void *value, void *ctx), void *ctx)
{
    if (pin->value == NULL) {
        return false;
    }
    if (pin->slot == NULL) { /* private: nobody else can see it */
        fn(pin->value, ctx);
        return true;
    }
    pthread_mutex_lock(&c->lock);
    bool sole = pin->slot->pins == 1;
    if (sole) {
        fn(pin->value, ctx);
    }
    pthread_mutex_unlock(&c->lock);
    return sole;
}
