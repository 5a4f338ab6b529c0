/*
 * The key broker's transparency log: an append-only Merkle tree in the style of RFC 9162
 * (Certificate Transparency v2), signed checkpoints and offline-checkable receipts.
 *
 * Hashing (RFC 9162 section 2.1.1, SHA-256):
 *   leaf hash  = SHA-256(0x00 || entry)
 *   node hash  = SHA-256(0x01 || left || right)
 *   empty root = SHA-256("")
 *
 * Sizes and indices are uint64_t; a leaf index is 0-based. Proofs are arrays of 32-byte hashes in
 * the order of RFC 9162 sections 2.1.3.1 (PATH) and 2.1.4.1 (PROOF/SUBPROOF). The formats of
 * checkpoints and receipts are specified in docs/audit-log.md.
 *
 * Error conventions: argument errors (index >= size, size > tree size, old_size > new_size,
 * old_size == 0) are VT_E_ARG; a proof of the wrong length is VT_E_BAD_LENGTH; a proof that does
 * not lead to the expected root is VT_E_BINDING; a signature that does not verify is
 * VT_E_SIGNATURE; malformed text is VT_E_MALFORMED, VT_E_BAD_FIELD, VT_E_BAD_BASE64, VT_E_BAD_HEX,
 * VT_E_BAD_TIME or VT_E_BAD_JSON. The diag's check names the step ("merkle.inclusion.root",
 * "checkpoint.size", "receipt.inclusion", ...) and its detail the values.
 */
#ifndef VT_LOG_MERKLE_H
#define VT_LOG_MERKLE_H

#include <veritee/buf.h>
#include <veritee/common.h>
#include <veritee/error.h>
#include <veritee/receipt.h>
#include <veritee/time.h>

#include "crypto/crypto.h"

/* Upper bound on the number of hashes in any inclusion or consistency proof (a tree of at most
 * 2^64 - 1 leaves has depth 64; a consistency proof has at most depth + 1 hashes). */
#define VT_MERKLE_MAX_PROOF 65

/* ---- hashing (RFC 9162 section 2.1.1) ---- */

/* SHA-256(0x00 || entry). */
void vt_merkle_leaf_hash(const void *entry, size_t len, uint8_t out[VT_MERKLE_HASH_LEN]);
/* SHA-256(0x01 || left || right). out may alias left or right. */
void vt_merkle_node_hash(const uint8_t left[VT_MERKLE_HASH_LEN],
                         const uint8_t right[VT_MERKLE_HASH_LEN], uint8_t out[VT_MERKLE_HASH_LEN]);
/* SHA-256(""), the root of the empty tree. */
void vt_merkle_empty_root(uint8_t out[VT_MERKLE_HASH_LEN]);

/* ---- the tree ---- */

/*
 * An in-memory append-only tree. It keeps the leaf hashes and the hash of every complete subtree
 * (2^k leaves starting at a multiple of 2^k), about 2n hashes for n leaves. Append is O(1)
 * amortised hashes; the root of any size <= the current size and every proof take O(log n) hash
 * operations. Heap; vt_merkle_tree_free is NULL-safe. Not thread-safe: callers serialise.
 */
struct vt_merkle_tree;

/* NULL if out of memory. */
struct vt_merkle_tree *vt_merkle_tree_new(void);
void vt_merkle_tree_free(struct vt_merkle_tree *t);
/* Append a leaf hash (vt_merkle_leaf_hash of the entry). VT_E_NOMEM (tree unchanged) on failure.
 * Records nothing. */
VT_MUST_USE enum vt_err vt_merkle_append(struct vt_merkle_tree *t,
                                         const uint8_t leaf_hash[VT_MERKLE_HASH_LEN]);
/* Number of leaves. */
uint64_t vt_merkle_size(const struct vt_merkle_tree *t);
/* The leaf hash at index. VT_E_ARG ("merkle.leaf.index") if index >= size. */
VT_MUST_USE enum vt_err vt_merkle_leaf(const struct vt_merkle_tree *t, uint64_t index,
                                       uint8_t out[VT_MERKLE_HASH_LEN], struct vt_diag *d);
/* MTH of the first `size` leaves (size 0: the empty root). VT_E_ARG ("merkle.root.size") if size
 * exceeds the tree. */
VT_MUST_USE enum vt_err vt_merkle_root(const struct vt_merkle_tree *t, uint64_t size,
                                       uint8_t out[VT_MERKLE_HASH_LEN], struct vt_diag *d);
/*
 * Inclusion proof PATH(index, D[size]) (RFC 9162 section 2.1.3.1) into out[cap]; *n gets the
 * number of hashes. VT_E_ARG for index >= size ("merkle.inclusion.index") or size > tree size
 * ("merkle.inclusion.size"); VT_E_BUFFER_TOO_SMALL ("merkle.inclusion.cap") if cap is short, with
 * *n set to the number needed. VT_MERKLE_MAX_PROOF always suffices.
 */
VT_MUST_USE enum vt_err vt_merkle_inclusion_proof(const struct vt_merkle_tree *t, uint64_t index,
                                                  uint64_t size, uint8_t (*out)[VT_MERKLE_HASH_LEN],
                                                  size_t cap, size_t *n, struct vt_diag *d);
/*
 * Consistency proof PROOF(old_size, D[new_size]) (RFC 9162 section 2.1.4.1) into out[cap]. Empty
 * when old_size == new_size. VT_E_ARG for old_size == 0 ("merkle.consistency.old_size"),
 * old_size > new_size ("merkle.consistency.order") or new_size > tree size
 * ("merkle.consistency.new_size"); VT_E_BUFFER_TOO_SMALL as above.
 */
VT_MUST_USE enum vt_err vt_merkle_consistency_proof(const struct vt_merkle_tree *t,
                                                    uint64_t old_size, uint64_t new_size,
                                                    uint8_t (*out)[VT_MERKLE_HASH_LEN], size_t cap,
                                                    size_t *n, struct vt_diag *d);

/* ---- stateless verification (clients) ---- */

/*
 * Verify that leaf_hash is the leaf at `index` of the tree of `size` leaves with root `root`,
 * with the algorithm of RFC 9162 section 2.1.3.2. Errors: VT_E_ARG "merkle.inclusion.index"
 * (index >= size); VT_E_BAD_LENGTH "merkle.inclusion.length" (the proof has more or fewer hashes
 * than the path of index in size); VT_E_BINDING "merkle.inclusion.root" (the computed root
 * differs). The size is bound only through the root: take size and root from one checkpoint.
 */
VT_MUST_USE enum vt_err vt_merkle_verify_inclusion(const uint8_t leaf_hash[VT_MERKLE_HASH_LEN],
                                                   uint64_t index, uint64_t size,
                                                   const uint8_t (*proof)[VT_MERKLE_HASH_LEN],
                                                   size_t n, const uint8_t root[VT_MERKLE_HASH_LEN],
                                                   struct vt_diag *d);
/*
 * Verify that the tree (new_size, new_root) extends (old_size, old_root), with the algorithm of
 * RFC 9162 section 2.1.4.2. old_size == new_size needs an empty proof and equal roots. Errors:
 * VT_E_ARG "merkle.consistency.old_size" (0) or "merkle.consistency.order" (old > new);
 * VT_E_BAD_LENGTH "merkle.consistency.length"; VT_E_BINDING "merkle.consistency.old_root" or
 * "merkle.consistency.new_root" (the computed root differs from the given one).
 */
VT_MUST_USE enum vt_err vt_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                                                     const uint8_t old_root[VT_MERKLE_HASH_LEN],
                                                     const uint8_t new_root[VT_MERKLE_HASH_LEN],
                                                     const uint8_t (*proof)[VT_MERKLE_HASH_LEN],
                                                     size_t n, struct vt_diag *d);

/* ---- signed checkpoints ---- */

/* Longest checkpoint body (4 lines); the longest origin is in include/veritee/receipt.h. */
#define VT_CHECKPOINT_BODY_MAX 512
/* Checkpoint times lie in [1970-01-01T00:00:00Z, 9999-12-31T23:59:59Z]. */
#define VT_CHECKPOINT_TIME_MAX INT64_C(253402300799)

/*
 * A checkpoint body is exactly four lines, each ended by "\n" (no "\r", nothing after the last):
 *   <origin>\n             1..255 bytes of visible ASCII (0x21..0x7e)
 *   <tree size>\n          decimal, no sign, no leading zeros ("0" for the empty tree)
 *   <root hash>\n          standard base64 with padding of the 32-byte root (44 characters)
 *   <time>\n               RFC 3339 UTC "YYYY-MM-DDThh:mm:ssZ", no fraction (20 characters)
 * The signature is ECDSA P-256 with SHA-256 (ES256) over the body bytes, as raw r||s (64 bytes).
 */
struct vt_checkpoint {
    char origin[VT_CHECKPOINT_ORIGIN_MAX + 1]; /* NUL-terminated */
    uint64_t size;
    uint8_t root[VT_MERKLE_HASH_LEN];
    vt_time time;
};

/* Append the body for (origin, size, root, t) to `body` (caller-initialised) and sign it. VT_E_ARG
 * ("checkpoint.origin", "checkpoint.time") for an origin or time the format cannot carry. */
VT_MUST_USE enum vt_err vt_checkpoint_sign(const struct vt_key *key, const char *origin,
                                           uint64_t size, const uint8_t root[VT_MERKLE_HASH_LEN],
                                           vt_time t, struct vt_buf *body, uint8_t sig[64],
                                           struct vt_diag *d);
/*
 * Parse a body strictly, without any signature check. VT_E_MALFORMED ("checkpoint.lines") unless
 * exactly four "\n"-terminated lines; VT_E_BAD_FIELD for "checkpoint.origin", "checkpoint.size"
 * and "checkpoint.root" (also VT_E_BAD_BASE64); VT_E_BAD_TIME "checkpoint.time"; VT_E_TOO_LARGE
 * ("checkpoint.body") past VT_CHECKPOINT_BODY_MAX. out is zeroed on failure.
 */
VT_MUST_USE enum vt_err vt_checkpoint_parse(const char *body, size_t len, struct vt_checkpoint *out,
                                            struct vt_diag *d);
/*
 * Verify sig over the body bytes with the log key xy (raw X||Y), then parse the body as above.
 * VT_E_SIGNATURE "checkpoint.signature"; VT_E_BAD_KEY "checkpoint.key"; parse errors as above.
 * out (optional) is filled only on success and zeroed otherwise.
 */
VT_MUST_USE enum vt_err vt_checkpoint_verify(const uint8_t xy[64], const char *body, size_t len,
                                             const uint8_t sig[64], struct vt_checkpoint *out,
                                             struct vt_diag *d);

/* ---- receipts ---- */

/*
 * Build a receipt (JSON, docs/audit-log.md) for the entry at `index`, proven against the signed
 * checkpoint (body, sig): appends compact JSON text to out. Fails closed rather than emit a
 * receipt that cannot verify: the body must parse ("receipt.checkpoint.*"), its size must not
 * exceed the tree ("receipt.tree_size"), index must be below it ("receipt.index"), the tree's leaf
 * at index must be the leaf hash of entry ("receipt.entry") and the tree's root at that size the
 * checkpoint's root ("receipt.root"). The signature itself is not checked here (no key).
 */
VT_MUST_USE enum vt_err vt_receipt_build(const uint8_t *entry, size_t entry_len, uint64_t index,
                                         const struct vt_merkle_tree *t,
                                         const char *checkpoint_body, size_t body_len,
                                         const uint8_t checkpoint_sig[64], struct vt_buf *out,
                                         struct vt_diag *d);

#endif
