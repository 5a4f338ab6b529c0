/*
 * Receipts of the veritee broker's audit log, checked offline: a release receipt proves that an
 * entry (the record of an attestation or a release) is in the broker's append-only Merkle tree
 * (RFC 9162 style) at a checkpoint the log key signed. The formats are in docs/audit-log.md;
 * `veritee audit receipt` is this check on the command line.
 *
 * Errors: VT_E_SIGNATURE (the checkpoint signature), VT_E_BINDING (the proof does not lead to the
 * checkpoint's root), VT_E_BAD_LENGTH, VT_E_ARG, and for malformed text VT_E_MALFORMED,
 * VT_E_BAD_FIELD, VT_E_BAD_BASE64, VT_E_BAD_HEX, VT_E_BAD_TIME or VT_E_BAD_JSON; the diag's check
 * names the step ("receipt.inclusion", "receipt.checkpoint.signature", ...).
 */
#ifndef VERITEE_RECEIPT_H
#define VERITEE_RECEIPT_H

#include <veritee/common.h>
#include <veritee/error.h>
#include <veritee/time.h>

/* Bytes of a Merkle tree hash (SHA-256). */
#define VT_MERKLE_HASH_LEN 32
/* Longest checkpoint origin in bytes. */
#define VT_CHECKPOINT_ORIGIN_MAX 255
/* Limits on a receipt's JSON text and on the entry it carries. */
#define VT_RECEIPT_MAX_SIZE (4u << 20)
#define VT_RECEIPT_MAX_ENTRY (1u << 20)

struct vt_receipt_info {
    uint64_t index;
    uint64_t size;                             /* tree size of the checkpoint */
    uint8_t root[VT_MERKLE_HASH_LEN];          /* root hash of the checkpoint */
    vt_time time;                              /* checkpoint time */
    char origin[VT_CHECKPOINT_ORIGIN_MAX + 1]; /* checkpoint origin */
    uint8_t entry_sha256[VT_SHA256_LEN];       /* SHA-256 of the entry bytes (not the leaf hash) */
    uint8_t leaf_hash[VT_MERKLE_HASH_LEN];     /* SHA-256(0x00 || entry) */
};

/*
 * Verify a receipt offline against the log's public key log_xy (raw X||Y): the JSON has exactly
 * the documented members and types, the checkpoint signature verifies and the body parses, the
 * receipt's tree_size equals the checkpoint's size, and the inclusion proof leads from
 * SHA-256(0x00 || entry) at index to the checkpoint's root. Checks: "receipt.json",
 * "receipt.size", "receipt.fields", "receipt.version", "receipt.entry", "receipt.index",
 * "receipt.tree_size", "receipt.inclusion", "receipt.checkpoint" and "receipt.checkpoint.*" (the
 * checkpoint check prefixed: "receipt.checkpoint.signature", "receipt.checkpoint.size", ...).
 * out (optional) is filled only on success and zeroed otherwise.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_receipt_verify(const char *json, size_t len,
                                                    const uint8_t log_xy[64],
                                                    struct vt_receipt_info *out, struct vt_diag *d);

/*
 * The log key (raw X||Y) of key `kid` in the broker's JWKS (len bytes of JSON, as GET
 * /v1/jwks serves it; a release response names the key of its receipt in "receipt_kid"), for
 * vt_receipt_verify. Errors: VT_E_NOT_FOUND ("jwks": no key of that kid, or no JWKS), the JWK's
 * errors ("jwk.*"), VT_E_BAD_KEY / VT_E_UNSUPPORTED_ALGORITHM when it is no P-256 key.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_receipt_jwks_key(const char *jwks, size_t len, const char *kid,
                                                      uint8_t xy[64], struct vt_diag *d);

#endif
