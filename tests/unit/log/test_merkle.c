/*
 * Unit tests for src/log: the RFC 9162 Merkle tree, its proofs and their verification (against a
 * naive recursive reference written from RFC 9162 sections 2.1.1, 2.1.3.1 and 2.1.4.1), signed
 * checkpoints and receipts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "base/encoding.h"
#include "log/merkle.h"

#define HLEN VT_MERKLE_HASH_LEN
#define MAXN 130
#define MAXP VT_MERKLE_MAX_PROOF

typedef uint8_t hash_t[HLEN];

/* ---- the reference: RFC 9162 2.1.1, 2.1.3.1 and 2.1.4.1 taken literally ---- */

static hash_t leaves[MAXN];
static char entries[MAXN][32];

static void make_leaves(void)
{
    for (int i = 0; i < MAXN; i++) {
        snprintf(entries[i], sizeof(entries[i]), "entry-%d", i);
        /* SHA-256(0x00 || entry), written out without vt_merkle_leaf_hash. */
        uint8_t buf[64];
        size_t n = strlen(entries[i]);
        buf[0] = 0x00;
        memcpy(buf + 1, entries[i], n);
        vt_sha256(buf, n + 1, leaves[i]);
    }
}

static uint64_t largest_pow2_below(uint64_t n)
{
    uint64_t k = 1;
    while (2 * k < n) {
        k *= 2;
    }
    return k;
}

/* MTH(D[lo:hi]). */
static void ref_mth(size_t lo, size_t hi, uint8_t out[HLEN])
{
    size_t n = hi - lo;
    if (n == 0) {
        vt_sha256("", 0, out);
        return;
    }
    if (n == 1) {
        memcpy(out, leaves[lo], HLEN);
        return;
    }
    size_t k = (size_t)largest_pow2_below(n);
    uint8_t buf[1 + 2 * HLEN];
    buf[0] = 0x01;
    ref_mth(lo, lo + k, buf + 1);
    ref_mth(lo + k, hi, buf + 1 + HLEN);
    vt_sha256(buf, sizeof(buf), out);
}

/* PATH(m, D[lo:hi]), m relative to lo. */
static void ref_path(size_t m, size_t lo, size_t hi, hash_t *out, size_t *n)
{
    size_t len = hi - lo;
    if (len == 1) {
        return;
    }
    size_t k = (size_t)largest_pow2_below(len);
    if (m < k) {
        ref_path(m, lo, lo + k, out, n);
        ref_mth(lo + k, hi, out[(*n)++]);
    } else {
        ref_path(m - k, lo + k, hi, out, n);
        ref_mth(lo, lo + k, out[(*n)++]);
    }
}

/* SUBPROOF(m, D[lo:hi], b). */
static void ref_subproof(size_t m, size_t lo, size_t hi, bool b, hash_t *out, size_t *n)
{
    size_t len = hi - lo;
    if (m == len) {
        if (!b) {
            ref_mth(lo, hi, out[(*n)++]);
        }
        return;
    }
    size_t k = (size_t)largest_pow2_below(len);
    if (m <= k) {
        ref_subproof(m, lo, lo + k, b, out, n);
        ref_mth(lo + k, hi, out[(*n)++]);
    } else {
        ref_subproof(m - k, lo + k, hi, false, out, n);
        ref_mth(lo, lo + k, out[(*n)++]);
    }
}

static hash_t ref_roots[MAXN + 1];

static struct vt_merkle_tree *full_tree(void)
{
    struct vt_merkle_tree *t = vt_merkle_tree_new();
    assert_non_null(t);
    for (int i = 0; i < MAXN; i++) {
        assert_int_equal(vt_merkle_append(t, leaves[i]), VT_OK);
    }
    return t;
}

static int setup(void **state)
{
    (void)state;
    make_leaves();
    for (size_t n = 0; n <= MAXN; n++) {
        ref_mth(0, n, ref_roots[n]);
    }
    return 0;
}

static void expect_fail(enum vt_err got, const struct vt_diag *d, enum vt_err code,
                        const char *check)
{
    if (got != code || d->code != code || strcmp(d->check, check) != 0) {
        print_error("expected %s (%s), got %s / diag %s (%s): %s\n", vt_err_name(code), check,
                    vt_err_name(got), vt_err_name(d->code), d->check, d->detail);
    }
    assert_int_equal(got, code);
    assert_int_equal(d->code, code);
    assert_string_equal(d->check, check);
}

/* ---- hashing ---- */

static void expect_hex(const uint8_t *got, const char *hex)
{
    uint8_t want[HLEN];
    assert_int_equal(vt_hex_decode_exact(hex, strlen(hex), want, HLEN), VT_OK);
    assert_memory_equal(got, want, HLEN);
}

static void test_hashing(void **state)
{
    (void)state;
    uint8_t h[HLEN];
    vt_merkle_empty_root(h);
    expect_hex(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* SHA-256 of the single byte 0x00. */
    vt_merkle_leaf_hash("", 0, h);
    expect_hex(h, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    vt_merkle_leaf_hash(entries[3], strlen(entries[3]), h);
    assert_memory_equal(h, leaves[3], HLEN);

    /* The example of docs/audit-log.md: entries "a", "b", "c". */
    struct vt_merkle_tree *t = vt_merkle_tree_new();
    assert_non_null(t);
    uint8_t abc[3][HLEN];
    for (int i = 0; i < 3; i++) {
        char e = (char)('a' + i);
        vt_merkle_leaf_hash(&e, 1, abc[i]);
        assert_int_equal(vt_merkle_append(t, abc[i]), VT_OK);
    }
    expect_hex(abc[0], "022a6979e6dab7aa5ae4c3e5e45f7e977112a7e63593820dbec1ec738a24f93c");
    expect_hex(abc[2], "597fcb31282d34654c200d3418fca5705c648ebf326ec73d8ddef11841f876d8");
    assert_int_equal(vt_merkle_root(t, 2, h, NULL), VT_OK);
    expect_hex(h, "b137985ff484fb600db93107c77b0365c80d78f5b429ded0fd97361d077999eb");
    assert_int_equal(vt_merkle_root(t, 3, h, NULL), VT_OK);
    expect_hex(h, "36642e73c2540ab121e3a6bf9545b0a24982cd830eb13d3cd19de3ce6c021ec1");
    vt_merkle_tree_free(t);
    uint8_t buf[1 + 2 * HLEN] = {0x01};
    memcpy(buf + 1, leaves[0], HLEN);
    memcpy(buf + 1 + HLEN, leaves[1], HLEN);
    uint8_t want[HLEN];
    vt_sha256(buf, sizeof(buf), want);
    vt_merkle_node_hash(leaves[0], leaves[1], h);
    assert_memory_equal(h, want, HLEN);
    /* Output aliasing an input. */
    memcpy(h, leaves[0], HLEN);
    vt_merkle_node_hash(h, leaves[1], h);
    assert_memory_equal(h, want, HLEN);
    memcpy(h, leaves[1], HLEN);
    vt_merkle_node_hash(leaves[0], h, h);
    assert_memory_equal(h, want, HLEN);
}

/* ---- the tree against the reference ---- */

static void test_roots(void **state)
{
    (void)state;
    struct vt_merkle_tree *t = vt_merkle_tree_new();
    assert_non_null(t);
    uint8_t h[HLEN];
    assert_int_equal(vt_merkle_size(t), 0);
    assert_int_equal(vt_merkle_root(t, 0, h, NULL), VT_OK);
    assert_memory_equal(h, ref_roots[0], HLEN);
    for (size_t n = 1; n <= MAXN; n++) {
        assert_int_equal(vt_merkle_append(t, leaves[n - 1]), VT_OK);
        assert_int_equal(vt_merkle_size(t), n);
        assert_int_equal(vt_merkle_root(t, n, h, NULL), VT_OK);
        assert_memory_equal(h, ref_roots[n], HLEN);
        /* Every earlier size still has its root. */
        for (size_t m = 0; m <= n; m++) {
            assert_int_equal(vt_merkle_root(t, m, h, NULL), VT_OK);
            assert_memory_equal(h, ref_roots[m], HLEN);
        }
        assert_int_equal(vt_merkle_leaf(t, n - 1, h, NULL), VT_OK);
        assert_memory_equal(h, leaves[n - 1], HLEN);
    }
    /* Size 1: the root is the leaf hash. */
    assert_int_equal(vt_merkle_root(t, 1, h, NULL), VT_OK);
    assert_memory_equal(h, leaves[0], HLEN);

    struct vt_diag d;
    vt_diag_init(&d);
    expect_fail(vt_merkle_root(t, MAXN + 1, h, &d), &d, VT_E_ARG, "merkle.root.size");
    vt_diag_init(&d);
    expect_fail(vt_merkle_leaf(t, MAXN, h, &d), &d, VT_E_ARG, "merkle.leaf.index");
    vt_merkle_tree_free(t);
    vt_merkle_tree_free(NULL);
}

static void test_inclusion_matches_reference(void **state)
{
    (void)state;
    struct vt_merkle_tree *t = full_tree();
    hash_t got[MAXP];
    hash_t want[MAXP];
    for (size_t size = 1; size <= MAXN; size++) {
        for (size_t i = 0; i < size; i++) {
            size_t n = 99;
            size_t wn = 0;
            assert_int_equal(vt_merkle_inclusion_proof(t, i, size, got, MAXP, &n, NULL), VT_OK);
            ref_path(i, 0, size, want, &wn);
            assert_int_equal(n, wn);
            if (n > 0) {
                assert_memory_equal(got, want, n * HLEN);
            }
            assert_int_equal(vt_merkle_verify_inclusion(leaves[i], i, size, (const hash_t *)got, n,
                                                        ref_roots[size], NULL),
                             VT_OK);
        }
    }
    vt_merkle_tree_free(t);
}

static void test_consistency_matches_reference(void **state)
{
    (void)state;
    struct vt_merkle_tree *t = full_tree();
    hash_t got[MAXP];
    hash_t want[MAXP];
    for (size_t new_size = 1; new_size <= MAXN; new_size++) {
        for (size_t old_size = 1; old_size <= new_size; old_size++) {
            size_t n = 99;
            size_t wn = 0;
            assert_int_equal(
                vt_merkle_consistency_proof(t, old_size, new_size, got, MAXP, &n, NULL), VT_OK);
            ref_subproof(old_size, 0, new_size, true, want, &wn);
            assert_int_equal(n, wn);
            if (n > 0) {
                assert_memory_equal(got, want, n * HLEN);
            }
            assert_int_equal(vt_merkle_verify_consistency(old_size, new_size, ref_roots[old_size],
                                                          ref_roots[new_size], (const hash_t *)got,
                                                          n, NULL),
                             VT_OK);
        }
    }
    vt_merkle_tree_free(t);
}

/* Bits to flip in a 32-byte hash: all 256 for trees of up to 16 leaves; 10 spread over the hash
 * (first, last and every 31st) for larger ones, to keep the sanitizer build quick. */
static bool flip_this(size_t size, size_t bit)
{
    return size <= 16 || bit % 31 == 0 || bit == 8 * HLEN - 1;
}

static void test_inclusion_rejects(void **state)
{
    (void)state;
    struct vt_merkle_tree *t = full_tree();
    hash_t p[MAXP + 1];
    struct vt_diag d;
    for (size_t size = 1; size <= 64; size++) {
        for (size_t i = 0; i < size; i++) {
            size_t n = 0;
            assert_int_equal(vt_merkle_inclusion_proof(t, i, size, p, MAXP, &n, NULL), VT_OK);
            const hash_t *cp = (const hash_t *)p;
            /* Every single-bit flip in every proof hash. */
            for (size_t j = 0; j < n; j++) {
                for (size_t bit = 0; bit < 8 * HLEN; bit++) {
                    if (!flip_this(size, bit)) {
                        continue;
                    }
                    p[j][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    vt_diag_init(&d);
                    expect_fail(
                        vt_merkle_verify_inclusion(leaves[i], i, size, cp, n, ref_roots[size], &d),
                        &d, VT_E_BINDING, "merkle.inclusion.root");
                    p[j][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                }
            }
            /* A flipped leaf hash or root. */
            uint8_t h[HLEN];
            memcpy(h, leaves[i], HLEN);
            h[7] ^= 0x10;
            assert_int_equal(vt_merkle_verify_inclusion(h, i, size, cp, n, ref_roots[size], NULL),
                             VT_E_BINDING);
            memcpy(h, ref_roots[size], HLEN);
            h[31] ^= 0x01;
            assert_int_equal(vt_merkle_verify_inclusion(leaves[i], i, size, cp, n, h, NULL),
                             VT_E_BINDING);
            /* Every wrong index. */
            for (size_t j = 0; j < size; j++) {
                if (j == i) {
                    continue;
                }
                enum vt_err e =
                    vt_merkle_verify_inclusion(leaves[i], j, size, cp, n, ref_roots[size], NULL);
                assert_true(e == VT_E_BINDING || e == VT_E_BAD_LENGTH);
                /* Also the leaf that is really at j (for the sibling and the mirror index). */
                if (j == (i ^ 1) || j == size - 1 - i) {
                    e = vt_merkle_verify_inclusion(leaves[j], j, size, cp, n, ref_roots[size],
                                                   NULL);
                    assert_true(e == VT_E_BINDING || e == VT_E_BAD_LENGTH);
                }
            }
            vt_diag_init(&d);
            expect_fail(
                vt_merkle_verify_inclusion(leaves[i], size, size, cp, n, ref_roots[size], &d), &d,
                VT_E_ARG, "merkle.inclusion.index");
            /* Every wrong size up to twice the size, with that size's true root. */
            for (size_t s = i + 1; s <= 2 * size; s++) {
                if (s == size) {
                    continue;
                }
                enum vt_err e =
                    vt_merkle_verify_inclusion(leaves[i], i, s, cp, n, ref_roots[s], NULL);
                assert_true(e == VT_E_BINDING || e == VT_E_BAD_LENGTH);
            }
            /* Truncated and extended proofs. */
            if (n > 0) {
                vt_diag_init(&d);
                expect_fail(
                    vt_merkle_verify_inclusion(leaves[i], i, size, cp, n - 1, ref_roots[size], &d),
                    &d, VT_E_BAD_LENGTH, "merkle.inclusion.length");
                vt_diag_init(&d);
                expect_fail(vt_merkle_verify_inclusion(leaves[i], i, size, cp + 1, n - 1,
                                                       ref_roots[size], &d),
                            &d, VT_E_BAD_LENGTH, "merkle.inclusion.length");
            }
            memset(p[n], 0, HLEN);
            vt_diag_init(&d);
            expect_fail(
                vt_merkle_verify_inclusion(leaves[i], i, size, cp, n + 1, ref_roots[size], &d), &d,
                VT_E_BAD_LENGTH, "merkle.inclusion.length");
            if (n > 0) {
                memcpy(p[n], p[n - 1], HLEN);
                assert_int_equal(vt_merkle_verify_inclusion(leaves[i], i, size, cp, n + 1,
                                                            ref_roots[size], NULL),
                                 VT_E_BAD_LENGTH);
            }
        }
    }
    vt_merkle_tree_free(t);
}

static void test_consistency_rejects(void **state)
{
    (void)state;
    struct vt_merkle_tree *t = full_tree();
    hash_t p[MAXP + 1];
    struct vt_diag d;
    for (size_t nw = 1; nw <= 64; nw++) {
        for (size_t old = 1; old <= nw; old++) {
            size_t n = 0;
            assert_int_equal(vt_merkle_consistency_proof(t, old, nw, p, MAXP, &n, NULL), VT_OK);
            const hash_t *cp = (const hash_t *)p;
            const uint8_t *r1 = ref_roots[old];
            const uint8_t *r2 = ref_roots[nw];
            if (old == nw) {
                assert_int_equal(n, 0);
            } else {
                assert_true(n > 0);
            }
            for (size_t j = 0; j < n; j++) {
                for (size_t bit = 0; bit < 8 * HLEN; bit++) {
                    if (!flip_this(nw, bit)) {
                        continue;
                    }
                    p[j][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    enum vt_err e = vt_merkle_verify_consistency(old, nw, r1, r2, cp, n, &d);
                    assert_int_equal(e, VT_E_BINDING);
                    assert_true(strcmp(d.check, "merkle.consistency.old_root") == 0 ||
                                strcmp(d.check, "merkle.consistency.new_root") == 0);
                    p[j][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                }
            }
            /* Wrong roots. A power-of-two old root is itself the first path element (RFC 9162
             * 2.1.4.2 step 2), so a wrong one shows as a new root mismatch. */
            bool pow2 = (old & (old - 1)) == 0;
            uint8_t h[HLEN];
            memcpy(h, r1, HLEN);
            h[0] ^= 0x80;
            vt_diag_init(&d);
            expect_fail(vt_merkle_verify_consistency(old, nw, h, r2, cp, n, &d), &d, VT_E_BINDING,
                        old == nw || pow2 ? "merkle.consistency.new_root"
                                          : "merkle.consistency.old_root");
            memcpy(h, r2, HLEN);
            h[31] ^= 0x01;
            vt_diag_init(&d);
            expect_fail(vt_merkle_verify_consistency(old, nw, r1, h, cp, n, &d), &d, VT_E_BINDING,
                        "merkle.consistency.new_root");
            /* Roots swapped. */
            if (old != nw) {
                assert_int_not_equal(vt_merkle_verify_consistency(old, nw, r2, r1, cp, n, NULL),
                                     VT_OK);
            }
            /* Wrong sizes, each with its true root. */
            for (size_t o2 = 1; o2 <= nw; o2++) {
                if (o2 != old) {
                    assert_int_not_equal(
                        vt_merkle_verify_consistency(o2, nw, ref_roots[o2], r2, cp, n, NULL),
                        VT_OK);
                }
            }
            for (size_t n2 = old; n2 <= 2 * nw; n2++) {
                if (n2 != nw) {
                    assert_int_not_equal(
                        vt_merkle_verify_consistency(old, n2, r1, ref_roots[n2], cp, n, NULL),
                        VT_OK);
                }
            }
            /* Truncated and extended proofs. */
            if (n > 0) {
                vt_diag_init(&d);
                expect_fail(vt_merkle_verify_consistency(old, nw, r1, r2, cp, n - 1, &d), &d,
                            VT_E_BAD_LENGTH, "merkle.consistency.length");
                vt_diag_init(&d);
                expect_fail(vt_merkle_verify_consistency(old, nw, r1, r2, cp + 1, n - 1, &d), &d,
                            VT_E_BAD_LENGTH, "merkle.consistency.length");
            }
            memcpy(p[n], r1, HLEN);
            vt_diag_init(&d);
            expect_fail(vt_merkle_verify_consistency(old, nw, r1, r2, cp, n + 1, &d), &d,
                        VT_E_BAD_LENGTH, "merkle.consistency.length");
            /* A power-of-two old size: the proof must not carry the old root explicitly. */
            if (pow2 && old != nw) {
                hash_t q[MAXP + 1];
                memcpy(q[0], r1, HLEN);
                memcpy(q[1], p[0], n * HLEN);
                assert_int_equal(
                    vt_merkle_verify_consistency(old, nw, r1, r2, (const hash_t *)q, n + 1, NULL),
                    VT_E_BAD_LENGTH);
            }
        }
    }
    vt_merkle_tree_free(t);
}

static void test_edge_cases(void **state)
{
    (void)state;
    struct vt_merkle_tree *t = full_tree();
    hash_t p[MAXP];
    size_t n = 0;
    struct vt_diag d;

    /* Size 1: empty inclusion proof, the root is the leaf. */
    assert_int_equal(vt_merkle_inclusion_proof(t, 0, 1, p, MAXP, &n, NULL), VT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(vt_merkle_verify_inclusion(leaves[0], 0, 1, NULL, 0, leaves[0], NULL), VT_OK);
    assert_int_equal(vt_merkle_verify_inclusion(leaves[1], 0, 1, NULL, 0, leaves[0], NULL),
                     VT_E_BINDING);

    /* Powers of two: inclusion proofs have log2(size) hashes, consistency from a power of two
     * to twice it is one hash (the right half's root). */
    for (size_t size = 1; size <= 128; size *= 2) {
        size_t depth = 0;
        while ((1u << depth) < size) {
            depth++;
        }
        for (size_t i = 0; i < size; i++) {
            assert_int_equal(vt_merkle_inclusion_proof(t, i, size, p, MAXP, &n, NULL), VT_OK);
            assert_int_equal(n, depth);
        }
        if (size <= 64) {
            assert_int_equal(vt_merkle_consistency_proof(t, size, 2 * size, p, MAXP, &n, NULL),
                             VT_OK);
            assert_int_equal(n, 1);
            uint8_t right[HLEN];
            ref_mth(size, 2 * size, right);
            assert_memory_equal(p[0], right, HLEN);
        }
    }

    /* old == new: empty proof, equal roots required. */
    for (size_t s = 1; s <= MAXN; s++) {
        assert_int_equal(vt_merkle_consistency_proof(t, s, s, p, MAXP, &n, NULL), VT_OK);
        assert_int_equal(n, 0);
        assert_int_equal(
            vt_merkle_verify_consistency(s, s, ref_roots[s], ref_roots[s], NULL, 0, NULL), VT_OK);
    }
    vt_diag_init(&d);
    expect_fail(vt_merkle_verify_consistency(5, 5, ref_roots[5], ref_roots[5],
                                             (const hash_t *)ref_roots, 1, &d),
                &d, VT_E_BAD_LENGTH, "merkle.consistency.length");
    vt_diag_init(&d);
    expect_fail(vt_merkle_verify_consistency(5, 5, ref_roots[5], ref_roots[6], NULL, 0, &d), &d,
                VT_E_BINDING, "merkle.consistency.new_root");
    /* old < new: an empty proof always fails (RFC 9162 2.1.4.2 step 1). */
    vt_diag_init(&d);
    expect_fail(vt_merkle_verify_consistency(4, 8, ref_roots[4], ref_roots[8], NULL, 0, &d), &d,
                VT_E_BAD_LENGTH, "merkle.consistency.length");

    /* Argument errors of the generators. */
    vt_diag_init(&d);
    expect_fail(vt_merkle_inclusion_proof(t, 5, 5, p, MAXP, &n, &d), &d, VT_E_ARG,
                "merkle.inclusion.index");
    vt_diag_init(&d);
    expect_fail(vt_merkle_inclusion_proof(t, 0, 0, p, MAXP, &n, &d), &d, VT_E_ARG,
                "merkle.inclusion.index");
    vt_diag_init(&d);
    expect_fail(vt_merkle_inclusion_proof(t, 0, MAXN + 1, p, MAXP, &n, &d), &d, VT_E_ARG,
                "merkle.inclusion.size");
    vt_diag_init(&d);
    expect_fail(vt_merkle_consistency_proof(t, 0, 5, p, MAXP, &n, &d), &d, VT_E_ARG,
                "merkle.consistency.old_size");
    vt_diag_init(&d);
    expect_fail(vt_merkle_consistency_proof(t, 6, 5, p, MAXP, &n, &d), &d, VT_E_ARG,
                "merkle.consistency.order");
    vt_diag_init(&d);
    expect_fail(vt_merkle_consistency_proof(t, 5, MAXN + 1, p, MAXP, &n, &d), &d, VT_E_ARG,
                "merkle.consistency.new_size");
    /* Short output: the count needed is reported. */
    vt_diag_init(&d);
    expect_fail(vt_merkle_inclusion_proof(t, 3, 100, p, 2, &n, &d), &d, VT_E_BUFFER_TOO_SMALL,
                "merkle.inclusion.cap");
    assert_int_equal(n, 7);
    vt_diag_init(&d);
    expect_fail(vt_merkle_consistency_proof(t, 3, 100, p, 1, &n, &d), &d, VT_E_BUFFER_TOO_SMALL,
                "merkle.consistency.cap");
    assert_true(n > 1);

    /* Argument errors of the verifiers. */
    vt_diag_init(&d);
    expect_fail(vt_merkle_verify_inclusion(leaves[0], 0, 0, NULL, 0, ref_roots[0], &d), &d,
                VT_E_ARG, "merkle.inclusion.index");
    vt_diag_init(&d);
    expect_fail(vt_merkle_verify_consistency(0, 5, ref_roots[0], ref_roots[5], NULL, 0, &d), &d,
                VT_E_ARG, "merkle.consistency.old_size");
    vt_diag_init(&d);
    expect_fail(vt_merkle_verify_consistency(6, 5, ref_roots[6], ref_roots[5], NULL, 0, &d), &d,
                VT_E_ARG, "merkle.consistency.order");
    assert_non_null(strstr(d.detail, "6"));

    /* Huge sizes do not break the length computation: a 64-hash path and a too-short proof. */
    uint8_t zero[HLEN] = {0};
    vt_diag_init(&d);
    expect_fail(
        vt_merkle_verify_inclusion(zero, 0, UINT64_MAX, (const hash_t *)ref_roots, 3, zero, &d), &d,
        VT_E_BAD_LENGTH, "merkle.inclusion.length");
    assert_non_null(strstr(d.detail, "the path has 64"));
    vt_merkle_tree_free(t);
}

/* Not a timing assertion: a large tree is built and queried in O(log n) per proof. */
static void test_large_tree(void **state)
{
    (void)state;
    const size_t total = 100000;
    struct vt_merkle_tree *t = vt_merkle_tree_new();
    assert_non_null(t);
    for (size_t i = 0; i < total; i++) {
        uint8_t h[HLEN];
        uint64_t v = i;
        vt_merkle_leaf_hash(&v, sizeof(v), h);
        assert_int_equal(vt_merkle_append(t, h), VT_OK);
    }
    assert_int_equal(vt_merkle_size(t), total);
    hash_t p[MAXP];
    uint8_t root[HLEN];
    uint8_t old_root[HLEN];
    uint64_t x = 88172645463325252ull;
    for (int k = 0; k < 2000; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t size = 1 + x % total;
        uint64_t index = (x >> 20) % size;
        uint64_t old = 1 + (x >> 40) % size;
        size_t n = 0;
        uint8_t leaf[HLEN];
        assert_int_equal(vt_merkle_root(t, size, root, NULL), VT_OK);
        assert_int_equal(vt_merkle_leaf(t, index, leaf, NULL), VT_OK);
        assert_int_equal(vt_merkle_inclusion_proof(t, index, size, p, MAXP, &n, NULL), VT_OK);
        assert_true(n <= 17);
        assert_int_equal(
            vt_merkle_verify_inclusion(leaf, index, size, (const hash_t *)p, n, root, NULL), VT_OK);
        assert_int_equal(vt_merkle_root(t, old, old_root, NULL), VT_OK);
        assert_int_equal(vt_merkle_consistency_proof(t, old, size, p, MAXP, &n, NULL), VT_OK);
        assert_true(n <= 18);
        assert_int_equal(
            vt_merkle_verify_consistency(old, size, old_root, root, (const hash_t *)p, n, NULL),
            VT_OK);
    }
    vt_merkle_tree_free(t);
}

/* ---- checkpoints ---- */

#define T0 ((vt_time)1752919277) /* 2025-07-19T10:01:17Z */

static struct vt_key *key;
static struct vt_key *other_key;
static uint8_t key_xy[64];
static uint8_t other_xy[64];

static int setup_keys(void **state)
{
    (void)state;
    make_leaves();
    for (size_t n = 0; n <= MAXN; n++) {
        ref_mth(0, n, ref_roots[n]);
    }
    if (vt_key_generate(VT_KEY_P256, 0, &key, NULL) != VT_OK ||
        vt_key_generate(VT_KEY_P256, 0, &other_key, NULL) != VT_OK) {
        return -1;
    }
    vt_key_p256_xy(key, key_xy);
    vt_key_p256_xy(other_key, other_xy);
    return 0;
}

static int teardown_keys(void **state)
{
    (void)state;
    vt_key_free(key);
    vt_key_free(other_key);
    return 0;
}

static void test_checkpoint_round_trip(void **state)
{
    (void)state;
    struct vt_buf body;
    vt_buf_init(&body, 4096);
    uint8_t sig[64];
    uint8_t root[HLEN];
    memset(root, 0, sizeof(root));
    root[31] = 0xff;
    assert_int_equal(vt_checkpoint_sign(key, "veritee.example/log", 42, root, T0, &body, sig, NULL),
                     VT_OK);
    assert_string_equal((const char *)body.data, "veritee.example/log\n42\n"
                                                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP8=\n"
                                                 "2025-07-19T10:01:17Z\n");
    struct vt_checkpoint cp;
    assert_int_equal(
        vt_checkpoint_verify(key_xy, (const char *)body.data, body.len, sig, &cp, NULL), VT_OK);
    assert_string_equal(cp.origin, "veritee.example/log");
    assert_int_equal(cp.size, 42);
    assert_memory_equal(cp.root, root, HLEN);
    assert_int_equal(cp.time, T0);
    vt_buf_cleanup(&body);

    /* Extremes: size 0 (empty tree root), size 2^64-1, the epoch, the last second of 9999. */
    vt_buf_init(&body, 4096);
    uint8_t empty[HLEN];
    vt_merkle_empty_root(empty);
    assert_int_equal(vt_checkpoint_sign(key, "o", 0, empty, 0, &body, sig, NULL), VT_OK);
    assert_int_equal(
        vt_checkpoint_verify(key_xy, (const char *)body.data, body.len, sig, &cp, NULL), VT_OK);
    assert_int_equal(cp.size, 0);
    assert_int_equal(cp.time, 0);
    assert_memory_equal(cp.root, empty, HLEN);
    vt_buf_cleanup(&body);
    vt_buf_init(&body, 4096);
    assert_int_equal(
        vt_checkpoint_sign(key, "o", UINT64_MAX, root, VT_CHECKPOINT_TIME_MAX, &body, sig, NULL),
        VT_OK);
    assert_int_equal(
        vt_checkpoint_verify(key_xy, (const char *)body.data, body.len, sig, &cp, NULL), VT_OK);
    assert_true(cp.size == UINT64_MAX);
    assert_int_equal(cp.time, VT_CHECKPOINT_TIME_MAX);
    vt_buf_cleanup(&body);

    /* A 255-byte origin is the longest. */
    char origin[300];
    memset(origin, 'x', sizeof(origin));
    origin[255] = '\0';
    vt_buf_init(&body, 4096);
    assert_int_equal(vt_checkpoint_sign(key, origin, 1, root, T0, &body, sig, NULL), VT_OK);
    assert_int_equal(
        vt_checkpoint_verify(key_xy, (const char *)body.data, body.len, sig, &cp, NULL), VT_OK);
    assert_string_equal(cp.origin, origin);
    vt_buf_cleanup(&body);

    /* What the format cannot carry is refused when signing. */
    struct vt_diag d;
    origin[255] = 'x';
    origin[256] = '\0';
    const char *bad_origins[] = {"", "two words", "new\nline", "tab\t", origin, "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof(bad_origins) / sizeof(bad_origins[0]); i++) {
        vt_buf_init(&body, 4096);
        vt_diag_init(&d);
        expect_fail(vt_checkpoint_sign(key, bad_origins[i], 1, root, T0, &body, sig, &d), &d,
                    VT_E_ARG, "checkpoint.origin");
        assert_int_equal(body.len, 0);
        vt_buf_cleanup(&body);
    }
    const vt_time bad_times[] = {-1, VT_CHECKPOINT_TIME_MAX + 1, INT64_MIN, INT64_MAX};
    for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
        vt_buf_init(&body, 4096);
        vt_diag_init(&d);
        expect_fail(vt_checkpoint_sign(key, "o", 1, root, bad_times[i], &body, sig, &d), &d,
                    VT_E_ARG, "checkpoint.time");
        vt_buf_cleanup(&body);
    }
}

/* Sign arbitrary bytes as a checkpoint body and verify them: parse errors surface. */
static enum vt_err verify_raw(const char *text, struct vt_diag *d)
{
    uint8_t sig[64];
    assert_int_equal(vt_p256_sign(key, text, strlen(text), sig, NULL), VT_OK);
    struct vt_checkpoint cp;
    vt_diag_init(d);
    enum vt_err e = vt_checkpoint_verify(key_xy, text, strlen(text), sig, &cp, d);
    if (e != VT_OK) {
        static const struct vt_checkpoint zero;
        assert_memory_equal(&cp, &zero, sizeof(cp));
    }
    /* The parser alone agrees. */
    struct vt_diag d2;
    vt_diag_init(&d2);
    assert_int_equal(vt_checkpoint_parse(text, strlen(text), &cp, &d2), e);
    if (e != VT_OK) {
        assert_string_equal(d2.check, d->check);
    }
    return e;
}

#define ROOT_B64 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP8="
#define TIME_S "2025-07-19T10:01:17Z"

static void test_checkpoint_parse_rejects(void **state)
{
    (void)state;
    struct vt_diag d;
    struct {
        const char *text;
        enum vt_err code;
        const char *check;
    } cases[] = {
        {"log\n42\n" ROOT_B64 "\n" TIME_S "\n", VT_OK, ""},
        /* lines */
        {"log\n42\n" ROOT_B64 "\n" TIME_S, VT_E_MALFORMED, "checkpoint.lines"},
        {"log\n42\n" ROOT_B64 "\n", VT_E_MALFORMED, "checkpoint.lines"},
        {"log\n42\n" ROOT_B64 "\n" TIME_S "\n\n", VT_E_MALFORMED, "checkpoint.lines"},
        {"log\n42\n" ROOT_B64 "\n" TIME_S "\nextra\n", VT_E_MALFORMED, "checkpoint.lines"},
        {"", VT_E_MALFORMED, "checkpoint.lines"},
        /* origin */
        {"\n42\n" ROOT_B64 "\n" TIME_S "\n", VT_E_BAD_FIELD, "checkpoint.origin"},
        {"log\r\n42\n" ROOT_B64 "\n" TIME_S "\n", VT_E_BAD_FIELD, "checkpoint.origin"},
        {"a log\n42\n" ROOT_B64 "\n" TIME_S "\n", VT_E_BAD_FIELD, "checkpoint.origin"},
        /* size */
        {"log\n042\n" ROOT_B64 "\n" TIME_S "\n", VT_E_BAD_FIELD, "checkpoint.size"},
        {"log\n00\n" ROOT_B64 "\n" TIME_S "\n", VT_E_BAD_FIELD, "checkpoint.size"},
        {"log\n-1\n" ROOT_B64 "\n" TIME_S "\n", VT_E_BAD_FIELD, "checkpoint.size"},
        {"log\n+1\n" ROOT_B64 "\n" TIME_S "\n", VT_E_BAD_FIELD, "checkpoint.size"},
        {"log\n\n" ROOT_B64 "\n" TIME_S "\n", VT_E_BAD_FIELD, "checkpoint.size"},
        {"log\n 42\n" ROOT_B64 "\n" TIME_S "\n", VT_E_BAD_FIELD, "checkpoint.size"},
        {"log\n0x2a\n" ROOT_B64 "\n" TIME_S "\n", VT_E_BAD_FIELD, "checkpoint.size"},
        {"log\n18446744073709551616\n" ROOT_B64 "\n" TIME_S "\n", VT_E_BAD_FIELD,
         "checkpoint.size"},
        {"log\n99999999999999999999\n" ROOT_B64 "\n" TIME_S "\n", VT_E_BAD_FIELD,
         "checkpoint.size"},
        {"log\n184467440737095516150\n" ROOT_B64 "\n" TIME_S "\n", VT_E_BAD_FIELD,
         "checkpoint.size"},
        {"log\n18446744073709551615\n" ROOT_B64 "\n" TIME_S "\n", VT_OK, ""},
        {"log\n0\n" ROOT_B64 "\n" TIME_S "\n", VT_OK, ""},
        /* root */
        {"log\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP8\n" TIME_S "\n", VT_E_BAD_FIELD,
         "checkpoint.root"},
        {"log\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP8==\n" TIME_S "\n", VT_E_BAD_FIELD,
         "checkpoint.root"},
        {"log\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP9=\n" TIME_S "\n", VT_E_BAD_BASE64,
         "checkpoint.root"},
        {"log\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA P8\n" TIME_S "\n", VT_E_BAD_BASE64,
         "checkpoint.root"},
        {"log\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP_=\n" TIME_S "\n", VT_E_BAD_BASE64,
         "checkpoint.root"},
        {"log\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n" TIME_S "\n", VT_E_BAD_FIELD,
         "checkpoint.root"},
        {"log\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n" TIME_S "\n", VT_E_BAD_FIELD,
         "checkpoint.root"},
        /* time */
        {"log\n42\n" ROOT_B64 "\n2025-07-19T10:01:17.5Z\n", VT_E_BAD_TIME, "checkpoint.time"},
        {"log\n42\n" ROOT_B64 "\n2025-07-19T10:01:17+00:00\n", VT_E_BAD_TIME, "checkpoint.time"},
        {"log\n42\n" ROOT_B64 "\n2025-07-19t10:01:17z\n", VT_E_BAD_TIME, "checkpoint.time"},
        {"log\n42\n" ROOT_B64 "\n2016-12-31T23:59:60Z\n", VT_E_BAD_TIME, "checkpoint.time"},
        {"log\n42\n" ROOT_B64 "\n2025-02-30T10:01:17Z\n", VT_E_BAD_TIME, "checkpoint.time"},
        {"log\n42\n" ROOT_B64 "\n1752919277\n", VT_E_BAD_TIME, "checkpoint.time"},
        {"log\n42\n" ROOT_B64 "\n1969-12-31T23:59:59Z\n", VT_E_BAD_TIME, "checkpoint.time"},
        {"log\n42\n" ROOT_B64 "\n" TIME_S " \n", VT_E_BAD_TIME, "checkpoint.time"},
        {"log\n42\n" ROOT_B64 "\n\n", VT_E_BAD_TIME, "checkpoint.time"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum vt_err e = verify_raw(cases[i].text, &d);
        if (e != cases[i].code || (e != VT_OK && strcmp(d.check, cases[i].check) != 0)) {
            print_error("case %zu: got %s (%s: %s)\n", i, vt_err_name(e), d.check, d.detail);
        }
        assert_int_equal(e, cases[i].code);
        if (e != VT_OK) {
            assert_string_equal(d.check, cases[i].check);
        }
    }
    /* An embedded NUL and an oversized body. */
    static const char nul[] = "log\n4\0002\n" ROOT_B64 "\n" TIME_S "\n";
    struct vt_checkpoint cp;
    vt_diag_init(&d);
    expect_fail(vt_checkpoint_parse(nul, sizeof(nul) - 1, &cp, &d), &d, VT_E_BAD_FIELD,
                "checkpoint.size");
    char big[VT_CHECKPOINT_BODY_MAX + 2];
    memset(big, 'a', sizeof(big));
    vt_diag_init(&d);
    expect_fail(vt_checkpoint_parse(big, sizeof(big), &cp, &d), &d, VT_E_TOO_LARGE,
                "checkpoint.body");
    uint8_t sig[64] = {0};
    vt_diag_init(&d);
    expect_fail(vt_checkpoint_verify(key_xy, big, sizeof(big), sig, &cp, &d), &d, VT_E_TOO_LARGE,
                "checkpoint.body");
}

static void test_checkpoint_verify_rejects(void **state)
{
    (void)state;
    struct vt_buf body;
    vt_buf_init(&body, 4096);
    uint8_t sig[64];
    assert_int_equal(
        vt_checkpoint_sign(key, "veritee/log", 42, ref_roots[42], T0, &body, sig, NULL), VT_OK);
    char *text = (char *)body.data;
    size_t len = body.len;
    struct vt_checkpoint cp;
    struct vt_diag d;

    /* Wrong key, bad signatures. */
    vt_diag_init(&d);
    expect_fail(vt_checkpoint_verify(other_xy, text, len, sig, &cp, &d), &d, VT_E_SIGNATURE,
                "checkpoint.signature");
    for (size_t bit = 0; bit < 512; bit += 37) {
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        vt_diag_init(&d);
        expect_fail(vt_checkpoint_verify(key_xy, text, len, sig, &cp, &d), &d, VT_E_SIGNATURE,
                    "checkpoint.signature");
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    uint8_t zero[64] = {0};
    vt_diag_init(&d);
    expect_fail(vt_checkpoint_verify(key_xy, text, len, zero, &cp, &d), &d, VT_E_SIGNATURE,
                "checkpoint.signature");
    /* A point not on the curve. */
    uint8_t bad_xy[64];
    memcpy(bad_xy, key_xy, 64);
    bad_xy[63] ^= 1;
    vt_diag_init(&d);
    expect_fail(vt_checkpoint_verify(bad_xy, text, len, sig, &cp, &d), &d, VT_E_BAD_KEY,
                "checkpoint.key");

    /* Tampering with any line: origin, size, root, time. Each position of the body. */
    for (size_t i = 0; i < len; i++) {
        char saved = text[i];
        text[i] = saved == 'A' ? 'B' : (saved == '\n' ? '\r' : (char)(saved ^ 1));
        vt_diag_init(&d);
        expect_fail(vt_checkpoint_verify(key_xy, text, len, sig, &cp, &d), &d, VT_E_SIGNATURE,
                    "checkpoint.signature");
        text[i] = saved;
    }
    /* A truncated body. */
    vt_diag_init(&d);
    expect_fail(vt_checkpoint_verify(key_xy, text, len - 1, sig, &cp, &d), &d, VT_E_SIGNATURE,
                "checkpoint.signature");
    assert_int_equal(vt_checkpoint_verify(key_xy, text, len, sig, &cp, NULL), VT_OK);
    vt_buf_cleanup(&body);

    /* Each field changed and signed by another key. */
    const struct {
        const char *origin;
        uint64_t size;
        size_t root;
        vt_time t;
    } variants[] = {{"veritee/log2", 42, 42, T0},
                    {"veritee/log", 41, 42, T0},
                    {"veritee/log", 42, 41, T0},
                    {"veritee/log", 42, 42, T0 + 1}};
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        vt_buf_init(&body, 4096);
        assert_int_equal(vt_checkpoint_sign(other_key, variants[i].origin, variants[i].size,
                                            ref_roots[variants[i].root], variants[i].t, &body, sig,
                                            NULL),
                         VT_OK);
        vt_diag_init(&d);
        expect_fail(vt_checkpoint_verify(key_xy, (const char *)body.data, body.len, sig, &cp, &d),
                    &d, VT_E_SIGNATURE, "checkpoint.signature");
        vt_buf_cleanup(&body);
    }
}

/* ---- receipts ---- */

struct fixture {
    struct vt_merkle_tree *t;
    struct vt_buf body;
    uint8_t sig[64];
};

static void fixture_init(struct fixture *f, uint64_t size)
{
    f->t = full_tree();
    vt_buf_init(&f->body, 4096);
    assert_int_equal(
        vt_checkpoint_sign(key, "veritee/log", size, ref_roots[size], T0, &f->body, f->sig, NULL),
        VT_OK);
}

static void fixture_cleanup(struct fixture *f)
{
    vt_merkle_tree_free(f->t);
    vt_buf_cleanup(&f->body);
}

static char *build(struct fixture *f, size_t index)
{
    struct vt_buf out;
    vt_buf_init(&out, VT_RECEIPT_MAX_SIZE);
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err e =
        vt_receipt_build((const uint8_t *)entries[index], strlen(entries[index]), index, f->t,
                         (const char *)f->body.data, f->body.len, f->sig, &out, &d);
    if (e != VT_OK) {
        print_error("build: %s %s: %s\n", vt_err_name(e), d.check, d.detail);
    }
    assert_int_equal(e, VT_OK);
    size_t n = 0;
    return (char *)vt_buf_steal(&out, &n);
}

static enum vt_err verify_text(const char *json, struct vt_receipt_info *info, struct vt_diag *d)
{
    vt_diag_init(d);
    return vt_receipt_verify(json, strlen(json), key_xy, info, d);
}

static void test_receipt_round_trip(void **state)
{
    (void)state;
    struct fixture f;
    const size_t sizes[] = {1, 2, 3, 7, 8, 64, 100, 130};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        size_t size = sizes[s];
        fixture_init(&f, size);
        for (size_t i = 0; i < size; i++) {
            char *json = build(&f, i);
            struct vt_receipt_info info;
            struct vt_diag d;
            enum vt_err e = verify_text(json, &info, &d);
            if (e != VT_OK) {
                print_error("%s\n%s %s: %s\n", json, vt_err_name(e), d.check, d.detail);
            }
            assert_int_equal(e, VT_OK);
            assert_int_equal(info.index, i);
            assert_int_equal(info.size, size);
            assert_memory_equal(info.root, ref_roots[size], HLEN);
            assert_int_equal(info.time, T0);
            assert_string_equal(info.origin, "veritee/log");
            uint8_t h[HLEN];
            vt_sha256(entries[i], strlen(entries[i]), h);
            assert_memory_equal(info.entry_sha256, h, HLEN);
            assert_memory_equal(info.leaf_hash, leaves[i], HLEN);
            free(json);
        }
        fixture_cleanup(&f);
    }

    /* The exact text for one receipt. */
    fixture_init(&f, 3);
    char *json = build(&f, 2);
    char want[2048];
    /* Index 2 of 3: the path is the single hash MTH(D[0:2]). */
    char h0[65];
    uint8_t mth01[HLEN];
    ref_mth(0, 2, mth01);
    vt_hex_encode(mth01, HLEN, h0);
    char sighex[129];
    vt_hex_encode(f.sig, 64, sighex);
    char root_b64[45];
    assert_int_equal(vt_base64_encode(ref_roots[3], HLEN, false, root_b64, sizeof(root_b64)),
                     VT_OK);
    snprintf(want, sizeof(want),
             "{\"version\":1,\"entry\":\"ZW50cnktMg==\",\"index\":2,\"tree_size\":3,"
             "\"inclusion\":[\"%s\"],\"checkpoint\":{\"body\":\"veritee/log\\n3\\n%s\\n"
             "2025-07-19T10:01:17Z\\n\",\"signature\":\"%s\"}}",
             h0, root_b64, sighex);
    assert_string_equal(json, want);
    free(json);

    /* An empty entry. */
    struct vt_merkle_tree *t = vt_merkle_tree_new();
    assert_non_null(t);
    uint8_t lh[HLEN];
    vt_merkle_leaf_hash("", 0, lh);
    assert_int_equal(vt_merkle_append(t, lh), VT_OK);
    struct vt_buf body;
    vt_buf_init(&body, 4096);
    uint8_t sig[64];
    assert_int_equal(vt_checkpoint_sign(key, "e", 1, lh, T0, &body, sig, NULL), VT_OK);
    struct vt_buf out;
    vt_buf_init(&out, VT_RECEIPT_MAX_SIZE);
    assert_int_equal(vt_receipt_build((const uint8_t *)"", 0, 0, t, (const char *)body.data,
                                      body.len, sig, &out, NULL),
                     VT_OK);
    struct vt_receipt_info info;
    assert_int_equal(vt_receipt_verify((const char *)out.data, out.len, key_xy, &info, NULL),
                     VT_OK);
    assert_non_null(strstr((const char *)out.data, "\"entry\":\"\""));
    assert_non_null(strstr((const char *)out.data, "\"inclusion\":[]"));
    vt_buf_cleanup(&out);
    vt_buf_cleanup(&body);
    vt_merkle_tree_free(t);
    fixture_cleanup(&f);
}

static void test_receipt_build_rejects(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, 10);
    struct vt_buf out;
    vt_buf_init(&out, VT_RECEIPT_MAX_SIZE);
    struct vt_diag d;
    const char *body = (const char *)f.body.data;
    size_t bl = f.body.len;
    const uint8_t *e3 = (const uint8_t *)entries[3];
    size_t e3l = strlen(entries[3]);

    vt_diag_init(&d);
    expect_fail(vt_receipt_build(e3, e3l, 10, f.t, body, bl, f.sig, &out, &d), &d, VT_E_ARG,
                "receipt.index");
    vt_diag_init(&d);
    expect_fail(vt_receipt_build(e3, e3l, 4, f.t, body, bl, f.sig, &out, &d), &d, VT_E_BINDING,
                "receipt.entry");
    vt_diag_init(&d);
    expect_fail(vt_receipt_build(e3, e3l, 3, f.t, body, bl - 1, f.sig, &out, &d), &d,
                VT_E_MALFORMED, "receipt.checkpoint.lines");
    assert_int_equal(out.len, 0);

    /* A checkpoint whose root is not the tree's. */
    struct vt_buf b2;
    vt_buf_init(&b2, 4096);
    uint8_t sig[64];
    assert_int_equal(vt_checkpoint_sign(key, "l", 10, ref_roots[9], T0, &b2, sig, NULL), VT_OK);
    vt_diag_init(&d);
    expect_fail(vt_receipt_build(e3, e3l, 3, f.t, (const char *)b2.data, b2.len, sig, &out, &d), &d,
                VT_E_BINDING, "receipt.root");
    vt_buf_cleanup(&b2);
    /* A checkpoint larger than the tree. */
    vt_buf_init(&b2, 4096);
    assert_int_equal(vt_checkpoint_sign(key, "l", MAXN + 1, ref_roots[9], T0, &b2, sig, NULL),
                     VT_OK);
    vt_diag_init(&d);
    expect_fail(vt_receipt_build(e3, e3l, 3, f.t, (const char *)b2.data, b2.len, sig, &out, &d), &d,
                VT_E_ARG, "receipt.tree_size");
    vt_buf_cleanup(&b2);
    assert_int_equal(out.len, 0);
    vt_buf_cleanup(&out);
    fixture_cleanup(&f);
}

/* The receipt text with one member replaced (value NULL: removed); in "checkpoint" if sub. */
static char *with(const char *json, bool sub, const char *member, json_t *value)
{
    json_t *o = json_loads(json, 0, NULL);
    assert_non_null(o);
    json_t *target = sub ? json_object_get(o, "checkpoint") : o;
    if (value == NULL) {
        json_object_del(target, member);
    } else {
        json_object_set_new(target, member, value);
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    assert_non_null(s);
    return s;
}

static void expect_receipt_fail(char *json, enum vt_err code, const char *check)
{
    struct vt_receipt_info info;
    struct vt_diag d;
    enum vt_err e = verify_text(json, &info, &d);
    if (e != code || strcmp(d.check, check) != 0) {
        print_error("%s\n", json);
    }
    expect_fail(e, &d, code, check);
    static const struct vt_receipt_info zero;
    assert_memory_equal(&info, &zero, sizeof(info));
    free(json);
}

static void test_receipt_verify_rejects(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, 13);
    char *good = build(&f, 5);
    struct vt_receipt_info info;
    struct vt_diag d;
    assert_int_equal(verify_text(good, &info, &d), VT_OK);

    /* Wrong log key. */
    vt_diag_init(&d);
    expect_fail(vt_receipt_verify(good, strlen(good), other_xy, &info, &d), &d, VT_E_SIGNATURE,
                "receipt.checkpoint.signature");

    /* Malformed JSON. */
    size_t gl = strlen(good);
    char *cut = strdup(good);
    cut[gl - 1] = '\0';
    expect_receipt_fail(cut, VT_E_BAD_JSON, "receipt.json");
    char *trail = malloc(gl + 3);
    snprintf(trail, gl + 3, "%s{}", good);
    expect_receipt_fail(trail, VT_E_BAD_JSON, "receipt.json");
    expect_receipt_fail(strdup("[1,2]"), VT_E_BAD_JSON, "receipt.json");
    expect_receipt_fail(strdup(""), VT_E_BAD_JSON, "receipt.json");
    expect_receipt_fail(strdup("{\"version\":1,\"version\":1}"), VT_E_BAD_JSON, "receipt.json");
    vt_diag_init(&d);
    expect_fail(vt_receipt_verify(good, VT_RECEIPT_MAX_SIZE + 1, key_xy, &info, &d), &d,
                VT_E_TOO_LARGE, "receipt.size");

    /* Members: unknown, missing, wrong types. */
    expect_receipt_fail(with(good, false, "extra", json_true()), VT_E_BAD_FIELD, "receipt.fields");
    expect_receipt_fail(with(good, true, "extra", json_true()), VT_E_BAD_FIELD, "receipt.fields");
    const char *top[] = {"version", "entry", "index", "tree_size", "inclusion", "checkpoint"};
    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
        expect_receipt_fail(with(good, false, top[i], NULL), VT_E_MISSING_FIELD, "receipt.fields");
    }
    expect_receipt_fail(with(good, true, "body", NULL), VT_E_MISSING_FIELD, "receipt.fields");
    expect_receipt_fail(with(good, true, "signature", NULL), VT_E_MISSING_FIELD, "receipt.fields");
    expect_receipt_fail(with(good, false, "version", json_integer(2)), VT_E_UNSUPPORTED_VERSION,
                        "receipt.version");
    expect_receipt_fail(with(good, false, "version", json_string("1")), VT_E_BAD_FIELD,
                        "receipt.version");
    expect_receipt_fail(with(good, false, "version", json_real(1.0)), VT_E_BAD_FIELD,
                        "receipt.version");
    expect_receipt_fail(with(good, false, "index", json_integer(-1)), VT_E_BAD_FIELD,
                        "receipt.index");
    expect_receipt_fail(with(good, false, "index", json_string("5")), VT_E_BAD_FIELD,
                        "receipt.index");
    expect_receipt_fail(with(good, false, "tree_size", json_real(13.0)), VT_E_BAD_FIELD,
                        "receipt.tree_size");
    expect_receipt_fail(with(good, false, "checkpoint", json_string("x")), VT_E_BAD_FIELD,
                        "receipt.checkpoint");
    expect_receipt_fail(with(good, true, "body", json_integer(1)), VT_E_BAD_FIELD,
                        "receipt.checkpoint.body");
    expect_receipt_fail(with(good, false, "inclusion", json_string("")), VT_E_BAD_FIELD,
                        "receipt.inclusion");

    /* Entry encoding. */
    expect_receipt_fail(with(good, false, "entry", json_string("ZW50cnktNQ")), VT_E_BAD_BASE64,
                        "receipt.entry");
    expect_receipt_fail(with(good, false, "entry", json_string("ZW50cnk tNQ==")), VT_E_BAD_BASE64,
                        "receipt.entry");
    expect_receipt_fail(with(good, false, "entry", json_string("ZW50cnktNR==")), VT_E_BAD_BASE64,
                        "receipt.entry");
    expect_receipt_fail(with(good, false, "entry", json_integer(5)), VT_E_BAD_FIELD,
                        "receipt.entry");

    /* Signature encoding. */
    char sighex[129];
    vt_hex_encode(f.sig, 64, sighex);
    char upper[129];
    for (size_t i = 0; i < 129; i++) {
        upper[i] = (sighex[i] >= 'a' && sighex[i] <= 'f') ? (char)(sighex[i] - 32) : sighex[i];
    }
    if (strcmp(upper, sighex) != 0) {
        expect_receipt_fail(with(good, true, "signature", json_string(upper)), VT_E_BAD_HEX,
                            "receipt.checkpoint.signature");
    }
    expect_receipt_fail(with(good, true, "signature", json_stringn(sighex, 126)), VT_E_BAD_HEX,
                        "receipt.checkpoint.signature");
    char nothex[129];
    memcpy(nothex, sighex, sizeof(nothex));
    nothex[17] = 'g';
    expect_receipt_fail(with(good, true, "signature", json_string(nothex)), VT_E_BAD_HEX,
                        "receipt.checkpoint.signature");
    expect_receipt_fail(with(good, true, "signature", json_integer(0)), VT_E_BAD_HEX,
                        "receipt.checkpoint.signature");
    /* A well-formed but wrong signature. */
    char flipped[129];
    memcpy(flipped, sighex, sizeof(flipped));
    flipped[100] = flipped[100] == '0' ? '1' : '0';
    expect_receipt_fail(with(good, true, "signature", json_string(flipped)), VT_E_SIGNATURE,
                        "receipt.checkpoint.signature");

    /* Tampered checkpoint bodies (origin, size, root, time): the signature no longer holds. */
    const char *body = (const char *)f.body.data;
    for (int field = 0; field < 4; field++) {
        char b[VT_CHECKPOINT_BODY_MAX];
        memcpy(b, body, f.body.len + 1);
        char *line = b;
        for (int k = 0; k < field; k++) {
            line = strchr(line, '\n') + 1;
        }
        line[0] = line[0] == '1' ? '2' : (line[0] == 'A' ? 'B' : (char)(line[0] ^ 1));
        expect_receipt_fail(with(good, true, "body", json_string(b)), VT_E_SIGNATURE,
                            "receipt.checkpoint.signature");
    }
    /* A malformed body, validly signed: the parse error is named under receipt.checkpoint. */
    {
        const char *bad = "veritee/log\n013\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP8=\n"
                          "2025-07-19T10:01:17Z\n";
        uint8_t s2[64];
        assert_int_equal(vt_p256_sign(key, bad, strlen(bad), s2, NULL), VT_OK);
        char h2[129];
        vt_hex_encode(s2, 64, h2);
        char *tmp = with(good, true, "body", json_string(bad));
        expect_receipt_fail(with(tmp, true, "signature", json_string(h2)), VT_E_BAD_FIELD,
                            "receipt.checkpoint.size");
        free(tmp);
    }

    /* tree_size not the checkpoint's; index outside; wrong index; wrong entry. */
    expect_receipt_fail(with(good, false, "tree_size", json_integer(12)), VT_E_BINDING,
                        "receipt.tree_size");
    expect_receipt_fail(with(good, false, "tree_size", json_integer(14)), VT_E_BINDING,
                        "receipt.tree_size");
    expect_receipt_fail(with(good, false, "index", json_integer(13)), VT_E_BAD_FIELD,
                        "receipt.index");
    expect_receipt_fail(with(good, false, "index", json_integer(4)), VT_E_BINDING,
                        "receipt.inclusion");
    expect_receipt_fail(with(good, false, "index", json_integer(12)), VT_E_BAD_LENGTH,
                        "receipt.inclusion");
    expect_receipt_fail(with(good, false, "entry", json_string("ZW50cnktNA==")), VT_E_BINDING,
                        "receipt.inclusion");
    expect_receipt_fail(with(good, false, "entry", json_string("")), VT_E_BINDING,
                        "receipt.inclusion");

    /* Inclusion proofs not matching: each hash flipped, truncated, extended, bad hex. */
    json_t *o = json_loads(good, 0, NULL);
    assert_non_null(o);
    json_t *incl = json_object_get(o, "inclusion");
    size_t n = json_array_size(incl);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        char h[65];
        memcpy(h, json_string_value(json_array_get(incl, i)), 65);
        char saved = h[9];
        h[9] = saved == 'f' ? 'e' : 'f';
        json_t *copy = json_deep_copy(incl);
        json_array_set_new(copy, i, json_string(h));
        expect_receipt_fail(with(good, false, "inclusion", copy), VT_E_BINDING,
                            "receipt.inclusion");
        h[9] = 'G';
        copy = json_deep_copy(incl);
        json_array_set_new(copy, i, json_string(h));
        expect_receipt_fail(with(good, false, "inclusion", copy), VT_E_BAD_HEX,
                            "receipt.inclusion");
        h[9] = saved;
        copy = json_deep_copy(incl);
        json_array_set_new(copy, i, json_stringn(h, 62));
        expect_receipt_fail(with(good, false, "inclusion", copy), VT_E_BAD_HEX,
                            "receipt.inclusion");
        copy = json_deep_copy(incl);
        json_array_remove(copy, i);
        expect_receipt_fail(with(good, false, "inclusion", copy), VT_E_BAD_LENGTH,
                            "receipt.inclusion");
    }
    json_t *copy = json_deep_copy(incl);
    json_array_append_new(copy, json_string(json_string_value(json_array_get(incl, 0))));
    expect_receipt_fail(with(good, false, "inclusion", copy), VT_E_BAD_LENGTH, "receipt.inclusion");
    copy = json_array();
    for (int i = 0; i < VT_MERKLE_MAX_PROOF + 1; i++) {
        json_array_append_new(copy, json_string(json_string_value(json_array_get(incl, 0))));
    }
    expect_receipt_fail(with(good, false, "inclusion", copy), VT_E_TOO_LARGE, "receipt.inclusion");
    json_decref(o);

    /* NULL out and NULL diag are fine. */
    assert_int_equal(vt_receipt_verify(good, strlen(good), key_xy, NULL, NULL), VT_OK);
    free(good);
    fixture_cleanup(&f);
}

/* A JWKS entry: the public JWK of k with "kid": kid added (heap JSON object). */
static json_t *jwks_entry(const struct vt_jwk *k, const char *kid)
{
    char *text = vt_jwk_public_json(k);
    assert_non_null(text);
    json_t *o = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(o);
    assert_int_equal(json_object_set_new(o, "kid", json_string(kid)), 0);
    return o;
}

/* vt_receipt_jwks_key (installed, receipt.h): the log key by kid, P-256 only. */
static void test_receipt_jwks_key(void **state)
{
    (void)state;
    struct vt_diag d;
    struct vt_jwk *log_key = NULL, *rsa = NULL;
    assert_int_equal(vt_jwk_from_p256_xy(key_xy, &log_key, NULL), VT_OK);
    assert_int_equal(vt_jwk_generate("RSA-2048", &rsa, NULL), VT_OK);
    json_t *keys = json_array();
    assert_int_equal(json_array_append_new(keys, jwks_entry(rsa, "token-rsa")), 0);
    assert_int_equal(json_array_append_new(keys, jwks_entry(log_key, "log-1")), 0);
    json_t *jwks = json_pack("{s:o}", "keys", keys);
    char *text = json_dumps(jwks, JSON_COMPACT);
    assert_non_null(text);
    uint8_t xy[64];
    assert_int_equal(vt_receipt_jwks_key(text, strlen(text), "log-1", xy, &d), VT_OK);
    assert_memory_equal(xy, key_xy, 64);
    expect_fail(vt_receipt_jwks_key(text, strlen(text), "log-2", xy, &d), &d, VT_E_NOT_FOUND,
                "jwks");
    expect_fail(vt_receipt_jwks_key(text, strlen(text), "token-rsa", xy, &d), &d,
                VT_E_UNSUPPORTED_ALGORITHM, "jwk.crv");
    expect_fail(vt_receipt_jwks_key("{\"keys\":", 8, "log-1", xy, &d), &d, VT_E_NOT_FOUND, "jwks");
    expect_fail(vt_receipt_jwks_key(NULL, 0, "log-1", xy, &d), &d, VT_E_ARG, "jwks");
    free(text);
    json_decref(jwks);
    vt_jwk_free(rsa);
    vt_jwk_free(log_key);
}

int main(void)
{
    const struct CMUnitTest merkle[] = {
        cmocka_unit_test(test_hashing),
        cmocka_unit_test(test_roots),
        cmocka_unit_test(test_inclusion_matches_reference),
        cmocka_unit_test(test_consistency_matches_reference),
        cmocka_unit_test(test_inclusion_rejects),
        cmocka_unit_test(test_consistency_rejects),
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_large_tree),
    };
    const struct CMUnitTest signed_[] = {
        cmocka_unit_test(test_checkpoint_round_trip),
        cmocka_unit_test(test_checkpoint_parse_rejects),
        cmocka_unit_test(test_checkpoint_verify_rejects),
        cmocka_unit_test(test_receipt_round_trip),
        cmocka_unit_test(test_receipt_build_rejects),
        cmocka_unit_test(test_receipt_verify_rejects),
        cmocka_unit_test(test_receipt_jwks_key),
    };
    int failed = cmocka_run_group_tests_name("merkle", merkle, setup, NULL);
    failed += cmocka_run_group_tests_name("checkpoint_receipt", signed_, setup_keys, teardown_keys);
    return failed;
}
