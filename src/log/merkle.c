/*
 * RFC 9162 Merkle tree: hashing (section 2.1.1), an in-memory append-only tree with inclusion
 * (section 2.1.3.1) and consistency (section 2.1.4.1) proofs, and the stateless verification
 * algorithms of sections 2.1.3.2 and 2.1.4.2.
 *
 * Storage: level k holds the hashes of the complete subtrees of 2^k leaves that start at a
 * multiple of 2^k, in order; level 0 holds the leaf hashes. A tree of n leaves has floor(n / 2^k)
 * hashes at level k, so about 2n in all. Every range the RFC recursions visit, [lo, hi) with k the
 * largest power of two below hi - lo, has lo a multiple of the largest power of two not below
 * hi - lo; hence the left part of every split is a stored complete subtree, and only the ranges on
 * the right edge of the recursion (at most one per level) are hashed on demand: O(log n).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/encoding.h"
#include "log/merkle.h"

#define HLEN VT_MERKLE_HASH_LEN
#define LEVELS 64

struct level {
    uint8_t (*h)[HLEN];
    size_t len;
    size_t cap;
};

struct vt_merkle_tree {
    uint64_t size;
    struct level lv[LEVELS];
};

void vt_merkle_leaf_hash(const void *entry, size_t len, uint8_t out[HLEN])
{
    static const uint8_t prefix = 0x00;
    vt_sha256_2(&prefix, 1, entry, len, out);
}

void vt_merkle_node_hash(const uint8_t left[HLEN], const uint8_t right[HLEN], uint8_t out[HLEN])
{
    uint8_t in[1 + 2 * HLEN];
    in[0] = 0x01;
    memcpy(in + 1, left, HLEN);
    memcpy(in + 1 + HLEN, right, HLEN);
    vt_sha256(in, sizeof(in), out);
}

void vt_merkle_empty_root(uint8_t out[HLEN])
{
    vt_sha256("", 0, out);
}

struct vt_merkle_tree *vt_merkle_tree_new(void)
{
    return calloc(1, sizeof(struct vt_merkle_tree));
}

void vt_merkle_tree_free(struct vt_merkle_tree *t)
{
    if (t == NULL) {
        return;
    }
    for (size_t k = 0; k < LEVELS; k++) {
        free(t->lv[k].h);
    }
    free(t);
}

uint64_t vt_merkle_size(const struct vt_merkle_tree *t)
{
    return t->size;
}

/* Make room for one more hash at a level. */
static enum vt_err reserve(struct level *l)
{
    if (l->len < l->cap) {
        return VT_OK;
    }
    size_t cap = l->cap ? l->cap : 16;
    while (cap <= l->len) {
        if (cap > SIZE_MAX / 2 / HLEN) {
            return VT_E_NOMEM;
        }
        cap *= 2;
    }
    void *p = realloc(l->h, cap * HLEN);
    if (p == NULL) {
        return VT_E_NOMEM;
    }
    l->h = p;
    l->cap = cap;
    return VT_OK;
}

enum vt_err vt_merkle_append(struct vt_merkle_tree *t, const uint8_t leaf_hash[HLEN])
{
    uint64_t n = t->size + 1;
    if (n == 0 || (uint64_t)(size_t)n != n) {
        return VT_E_NOMEM;
    }
    /* Level k gains a hash iff 2^k divides the new size. Reserve everything first so that a
     * failure leaves the tree unchanged. */
    size_t top = 0;
    for (size_t k = 0; k < LEVELS && (n & ((UINT64_C(1) << k) - 1)) == 0; k++) {
        if (reserve(&t->lv[k]) != VT_OK) {
            return VT_E_NOMEM;
        }
        top = k;
    }
    memcpy(t->lv[0].h[t->lv[0].len++], leaf_hash, HLEN);
    for (size_t k = 1; k <= top; k++) {
        const struct level *below = &t->lv[k - 1];
        struct level *l = &t->lv[k];
        vt_merkle_node_hash(below->h[below->len - 2], below->h[below->len - 1], l->h[l->len]);
        l->len++;
    }
    t->size = n;
    return VT_OK;
}

enum vt_err vt_merkle_leaf(const struct vt_merkle_tree *t, uint64_t index, uint8_t out[HLEN],
                           struct vt_diag *d)
{
    VT_ENSURE(index < t->size, d, VT_E_ARG, "merkle.leaf.index",
              "leaf index %" PRIu64 " is not below the tree size %" PRIu64, index, t->size);
    memcpy(out, t->lv[0].h[index], HLEN);
    return VT_OK;
}

/* The largest power of two strictly below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k < n - k) {
        k <<= 1;
    }
    return k;
}

/* MTH of leaves [lo, hi), hi <= t->size, hi > lo. Stored complete subtrees are looked up. */
static void range_hash(const struct vt_merkle_tree *t, uint64_t lo, uint64_t hi, uint8_t out[HLEN])
{
    uint64_t n = hi - lo;
    if ((n & (n - 1)) == 0 && lo % n == 0) {
        size_t k = 0;
        while ((UINT64_C(1) << k) != n) {
            k++;
        }
        memcpy(out, t->lv[k].h[lo >> k], HLEN);
        return;
    }
    uint64_t k = split_point(n);
    uint8_t l[HLEN];
    uint8_t r[HLEN];
    range_hash(t, lo, lo + k, l);
    range_hash(t, lo + k, hi, r);
    vt_merkle_node_hash(l, r, out);
}

enum vt_err vt_merkle_root(const struct vt_merkle_tree *t, uint64_t size, uint8_t out[HLEN],
                           struct vt_diag *d)
{
    VT_ENSURE(size <= t->size, d, VT_E_ARG, "merkle.root.size",
              "size %" PRIu64 " exceeds the tree size %" PRIu64, size, t->size);
    if (size == 0) {
        vt_merkle_empty_root(out);
    } else {
        range_hash(t, 0, size, out);
    }
    return VT_OK;
}

/* Output of a proof: with out == NULL only count. */
struct proof_out {
    const struct vt_merkle_tree *t;
    uint8_t (*out)[HLEN];
    size_t n;
};

static void emit(struct proof_out *o, uint64_t lo, uint64_t hi)
{
    if (o->out != NULL) {
        range_hash(o->t, lo, hi, o->out[o->n]);
    }
    o->n++;
}

/* PATH(m, D[lo:hi]) of RFC 9162 section 2.1.3.1, m an absolute leaf index in [lo, hi). */
static void path(struct proof_out *o, uint64_t m, uint64_t lo, uint64_t hi)
{
    if (hi - lo <= 1) {
        return;
    }
    uint64_t k = split_point(hi - lo);
    if (m < lo + k) {
        path(o, m, lo, lo + k);
        emit(o, lo + k, hi);
    } else {
        path(o, m, lo + k, hi);
        emit(o, lo, lo + k);
    }
}

/* SUBPROOF(m, D[lo:hi], b) of RFC 9162 section 2.1.4.1, m a leaf count in [1, hi - lo]. */
static void subproof(struct proof_out *o, uint64_t m, uint64_t lo, uint64_t hi, bool b)
{
    uint64_t n = hi - lo;
    if (m == n) {
        if (!b) {
            emit(o, lo, hi);
        }
        return;
    }
    uint64_t k = split_point(n);
    if (m <= k) {
        subproof(o, m, lo, lo + k, b);
        emit(o, lo + k, hi);
    } else {
        subproof(o, m - k, lo + k, hi, false);
        emit(o, lo, lo + k);
    }
}

enum vt_err vt_merkle_inclusion_proof(const struct vt_merkle_tree *t, uint64_t index, uint64_t size,
                                      uint8_t (*out)[HLEN], size_t cap, size_t *n,
                                      struct vt_diag *d)
{
    *n = 0;
    VT_ENSURE(size <= t->size, d, VT_E_ARG, "merkle.inclusion.size",
              "size %" PRIu64 " exceeds the tree size %" PRIu64, size, t->size);
    VT_ENSURE(index < size, d, VT_E_ARG, "merkle.inclusion.index",
              "leaf index %" PRIu64 " is not below the size %" PRIu64, index, size);
    struct proof_out count = {t, NULL, 0};
    path(&count, index, 0, size);
    if (count.n > cap) {
        *n = count.n;
        return vt_fail(d, VT_E_BUFFER_TOO_SMALL, "merkle.inclusion.cap",
                       "the proof has %zu hashes, room for %zu", count.n, cap);
    }
    struct proof_out o = {t, out, 0};
    path(&o, index, 0, size);
    *n = o.n;
    return VT_OK;
}

enum vt_err vt_merkle_consistency_proof(const struct vt_merkle_tree *t, uint64_t old_size,
                                        uint64_t new_size, uint8_t (*out)[HLEN], size_t cap,
                                        size_t *n, struct vt_diag *d)
{
    *n = 0;
    VT_ENSURE(old_size != 0, d, VT_E_ARG, "merkle.consistency.old_size",
              "no consistency proof from the empty tree (new size %" PRIu64 ")", new_size);
    VT_ENSURE(old_size <= new_size, d, VT_E_ARG, "merkle.consistency.order",
              "old size %" PRIu64 " exceeds the new size %" PRIu64, old_size, new_size);
    VT_ENSURE(new_size <= t->size, d, VT_E_ARG, "merkle.consistency.new_size",
              "new size %" PRIu64 " exceeds the tree size %" PRIu64, new_size, t->size);
    struct proof_out count = {t, NULL, 0};
    subproof(&count, old_size, 0, new_size, true);
    if (count.n > cap) {
        *n = count.n;
        return vt_fail(d, VT_E_BUFFER_TOO_SMALL, "merkle.consistency.cap",
                       "the proof has %zu hashes, room for %zu", count.n, cap);
    }
    struct proof_out o = {t, out, 0};
    subproof(&o, old_size, 0, new_size, true);
    *n = o.n;
    return VT_OK;
}

/* ---- verification ---- */

/* Right-shift fn and sn together until LSB(fn) is set or fn is 0 (RFC 9162 2.1.3.2 step 4.b.ii,
 * 2.1.4.2 step 6.b.ii). */
static void shift_to_odd(uint64_t *fn, uint64_t *sn)
{
    while ((*fn & 1) == 0 && *fn != 0) {
        *fn >>= 1;
        *sn >>= 1;
    }
}

/* Number of hashes the iteration of 2.1.3.2 step 4 (or 2.1.4.2 step 6) consumes from (fn, sn)
 * until sn reaches 0: the only proof length that can pass the final "sn is 0" check. */
static size_t steps_until_zero(uint64_t fn, uint64_t sn)
{
    size_t c = 0;
    while (sn != 0) {
        if ((fn & 1) != 0 || fn == sn) {
            shift_to_odd(&fn, &sn);
        }
        fn >>= 1;
        sn >>= 1;
        c++;
    }
    return c;
}

enum vt_err vt_merkle_verify_inclusion(const uint8_t leaf_hash[HLEN], uint64_t index, uint64_t size,
                                       const uint8_t (*proof)[HLEN], size_t n,
                                       const uint8_t root[HLEN], struct vt_diag *d)
{
    /* Step 1. */
    VT_ENSURE(index < size, d, VT_E_ARG, "merkle.inclusion.index",
              "leaf index %" PRIu64 " is not below the tree size %" PRIu64, index, size);
    size_t want = steps_until_zero(index, size - 1);
    VT_ENSURE(n == want, d, VT_E_BAD_LENGTH, "merkle.inclusion.length",
              "leaf index %" PRIu64 " in tree size %" PRIu64
              ": the proof has %zu hashes, the path has %zu",
              index, size, n, want);
    /* Steps 2 and 3. */
    uint64_t fn = index;
    uint64_t sn = size - 1;
    uint8_t r[HLEN];
    memcpy(r, leaf_hash, HLEN);
    /* Step 4. */
    for (size_t i = 0; i < n; i++) {
        VT_ENSURE(sn != 0, d, VT_E_BAD_LENGTH, "merkle.inclusion.length",
                  "leaf index %" PRIu64 " in tree size %" PRIu64
                  ": the path ends before proof hash %zu of %zu",
                  index, size, i, n);
        if ((fn & 1) != 0 || fn == sn) {
            vt_merkle_node_hash(proof[i], r, r);
            shift_to_odd(&fn, &sn);
        } else {
            vt_merkle_node_hash(r, proof[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    /* Step 5. */
    VT_ENSURE(sn == 0, d, VT_E_BAD_LENGTH, "merkle.inclusion.length",
              "leaf index %" PRIu64 " in tree size %" PRIu64
              ": the proof ends before the root (%zu hashes)",
              index, size, n);
    char got[2 * HLEN + 1];
    VT_ENSURE(vt_ct_memeq(r, root, HLEN), d, VT_E_BINDING, "merkle.inclusion.root",
              "leaf index %" PRIu64 " in tree size %" PRIu64
              ": the proof leads to root %s, not the expected one",
              index, size, (vt_hex_encode(r, HLEN, got), got));
    return VT_OK;
}

enum vt_err vt_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                                         const uint8_t old_root[HLEN], const uint8_t new_root[HLEN],
                                         const uint8_t (*proof)[HLEN], size_t n, struct vt_diag *d)
{
    VT_ENSURE(old_size != 0, d, VT_E_ARG, "merkle.consistency.old_size",
              "no consistency proof from the empty tree (new size %" PRIu64 ")", new_size);
    VT_ENSURE(old_size <= new_size, d, VT_E_ARG, "merkle.consistency.order",
              "old size %" PRIu64 " exceeds the new size %" PRIu64, old_size, new_size);
    if (old_size == new_size) {
        VT_ENSURE(n == 0, d, VT_E_BAD_LENGTH, "merkle.consistency.length",
                  "sizes are equal (%" PRIu64 ") but the proof has %zu hashes", old_size, n);
        VT_ENSURE(vt_ct_memeq(old_root, new_root, HLEN), d, VT_E_BINDING,
                  "merkle.consistency.new_root", "sizes are equal (%" PRIu64 ") but roots differ",
                  old_size);
        return VT_OK;
    }
    /* Step 2: a power-of-two old size has its root prepended (element 0 of the virtual path). */
    bool pow2 = (old_size & (old_size - 1)) == 0;
    size_t extra = pow2 ? 1 : 0;
    /* Steps 3 and 4. */
    uint64_t fn = old_size - 1;
    uint64_t sn = new_size - 1;
    while ((fn & 1) != 0) {
        fn >>= 1;
        sn >>= 1;
    }
    size_t want = 1 + steps_until_zero(fn, sn) - extra;
    /* Step 1 (an empty path fails) is covered: want is at least 1 when old_size < new_size. */
    VT_ENSURE(n == want && n > 0, d, VT_E_BAD_LENGTH, "merkle.consistency.length",
              "sizes %" PRIu64 " -> %" PRIu64 ": the proof has %zu hashes, expected %zu", old_size,
              new_size, n, want);
#define PATH_AT(i) ((i) < extra ? old_root : proof[(i)-extra])
    /* Step 5. */
    uint8_t fr[HLEN];
    uint8_t sr[HLEN];
    memcpy(fr, PATH_AT(0), HLEN);
    memcpy(sr, PATH_AT(0), HLEN);
    /* Step 6. */
    for (size_t i = 1; i < n + extra; i++) {
        const uint8_t *c = PATH_AT(i);
        VT_ENSURE(sn != 0, d, VT_E_BAD_LENGTH, "merkle.consistency.length",
                  "sizes %" PRIu64 " -> %" PRIu64 ": the path ends before proof hash %zu of %zu",
                  old_size, new_size, i - extra, n);
        if ((fn & 1) != 0 || fn == sn) {
            vt_merkle_node_hash(c, fr, fr);
            vt_merkle_node_hash(c, sr, sr);
            shift_to_odd(&fn, &sn);
        } else {
            vt_merkle_node_hash(sr, c, sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
#undef PATH_AT
    /* Step 7. */
    VT_ENSURE(sn == 0, d, VT_E_BAD_LENGTH, "merkle.consistency.length",
              "sizes %" PRIu64 " -> %" PRIu64 ": the proof ends before the new root (%zu hashes)",
              old_size, new_size, n);
    char got[2 * HLEN + 1];
    VT_ENSURE(vt_ct_memeq(fr, old_root, HLEN), d, VT_E_BINDING, "merkle.consistency.old_root",
              "sizes %" PRIu64 " -> %" PRIu64 ": the proof leads to old root %s, not the given one",
              old_size, new_size, (vt_hex_encode(fr, HLEN, got), got));
    VT_ENSURE(vt_ct_memeq(sr, new_root, HLEN), d, VT_E_BINDING, "merkle.consistency.new_root",
              "sizes %" PRIu64 " -> %" PRIu64 ": the proof leads to new root %s, not the given one",
              old_size, new_size, (vt_hex_encode(sr, HLEN, got), got));
    return VT_OK;
}
