/*
 * Receipts of the transparency log: a JSON object that lets a client check offline that an entry
 * is in the log, given only the log's public key (format in docs/audit-log.md):
 *
 *   {"version":1,"entry":"<base64>","index":N,"tree_size":N,"inclusion":["<hex>",...],
 *    "checkpoint":{"body":"<checkpoint body>","signature":"<hex r||s>"}}
 *
 * Verification is strict: exactly these members, these types, lowercase hex, canonical base64.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/encoding.h"
#include "crypto/jose.h"
#include "log/merkle.h"

#define HLEN VT_MERKLE_HASH_LEN

/* Re-record a failure of a checkpoint function (check "checkpoint.x") as "receipt.checkpoint.x". */
static enum vt_err prefixed(struct vt_diag *d, enum vt_err err, const struct vt_diag *inner)
{
    char check[VT_DIAG_CHECK_MAX];
    static const char prefix[] = "receipt.";
    size_t pl = sizeof(prefix) - 1;
    size_t cl = strnlen(inner->check, sizeof(inner->check));
    if (cl > sizeof(check) - 1 - pl) {
        cl = sizeof(check) - 1 - pl;
    }
    memcpy(check, prefix, pl);
    memcpy(check + pl, inner->check, cl);
    check[pl + cl] = '\0';
    return vt_fail(d, err, check, "%s", inner->detail);
}

/* Lowercase hex of exactly n bytes. */
static bool lower_hex(const char *s, size_t len, uint8_t *out, size_t n)
{
    if (len != 2 * n) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return vt_hex_decode_exact(s, len, out, n) == VT_OK;
}

enum vt_err vt_receipt_build(const uint8_t *entry, size_t entry_len, uint64_t index,
                             const struct vt_merkle_tree *t, const char *checkpoint_body,
                             size_t body_len, const uint8_t checkpoint_sig[64], struct vt_buf *out,
                             struct vt_diag *d)
{
    struct vt_diag inner;
    vt_diag_init(&inner);
    struct vt_checkpoint cp;
    enum vt_err err = vt_checkpoint_parse(checkpoint_body, body_len, &cp, &inner);
    if (err != VT_OK) {
        return prefixed(d, err, &inner);
    }
    VT_ENSURE(entry_len <= VT_RECEIPT_MAX_ENTRY, d, VT_E_TOO_LARGE, "receipt.entry",
              "entry has %zu bytes, at most %u allowed", entry_len, VT_RECEIPT_MAX_ENTRY);
    VT_ENSURE(cp.size <= vt_merkle_size(t) && cp.size <= INT64_MAX, d, VT_E_ARG,
              "receipt.tree_size", "checkpoint size %" PRIu64 " exceeds the tree size %" PRIu64,
              cp.size, vt_merkle_size(t));
    VT_ENSURE(index < cp.size, d, VT_E_ARG, "receipt.index",
              "index %" PRIu64 " is not below the checkpoint size %" PRIu64, index, cp.size);
    uint8_t want[HLEN];
    uint8_t got[HLEN];
    vt_merkle_leaf_hash(entry, entry_len, want);
    VT_TRY(vt_merkle_leaf(t, index, got, d));
    VT_ENSURE(memcmp(want, got, HLEN) == 0, d, VT_E_BINDING, "receipt.entry",
              "the leaf at index %" PRIu64 " is not the leaf hash of this entry", index);
    VT_TRY(vt_merkle_root(t, cp.size, got, d));
    VT_ENSURE(memcmp(cp.root, got, HLEN) == 0, d, VT_E_BINDING, "receipt.root",
              "the tree's root at size %" PRIu64 " is not the checkpoint's root", cp.size);
    uint8_t proof[VT_MERKLE_MAX_PROOF][HLEN];
    size_t n = 0;
    VT_TRY(vt_merkle_inclusion_proof(t, index, cp.size, proof, VT_MERKLE_MAX_PROOF, &n, d));

    size_t b64cap = 4 * ((entry_len + 2) / 3) + 1;
    char *b64 = malloc(b64cap);
    json_t *incl = json_array();
    json_t *o = NULL;
    char *text = NULL;
    err = VT_E_NOMEM;
    if (b64 == NULL || incl == NULL ||
        vt_base64_encode(entry, entry_len, false, b64, b64cap) != VT_OK) {
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        char hex[2 * HLEN + 1];
        vt_hex_encode(proof[i], HLEN, hex);
        if (json_array_append_new(incl, json_string(hex)) != 0) {
            goto out;
        }
    }
    char sighex[129];
    vt_hex_encode(checkpoint_sig, 64, sighex);
    json_t *cpo = json_pack("{s:s%,s:s}", "body", checkpoint_body, body_len, "signature", sighex);
    o = json_pack("{s:i,s:s,s:I,s:I,s:O,s:o}", "version", 1, "entry", b64, "index",
                  (json_int_t)index, "tree_size", (json_int_t)cp.size, "inclusion", incl,
                  "checkpoint", cpo);
    if (o == NULL) {
        goto out;
    }
    text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        goto out;
    }
    err = vt_buf_append(out, text, strlen(text));
    if (err != VT_OK) {
        err = vt_fail(d, err, "receipt.output", "cannot append the receipt (%zu bytes)",
                      strlen(text));
        goto out_recorded;
    }
    err = VT_OK;
    goto out_recorded;
out:
    err = vt_fail(d, VT_E_NOMEM, "receipt.output", "cannot build the receipt JSON");
out_recorded:
    free(text);
    json_decref(o);
    json_decref(incl);
    free(b64);
    return err;
}

/* The parsed members of a receipt; strings borrow from the JSON object. */
struct parsed {
    uint8_t *entry; /* heap */
    size_t entry_len;
    uint64_t index;
    uint64_t tree_size;
    uint8_t proof[VT_MERKLE_MAX_PROOF][HLEN];
    size_t n;
    const char *body;
    size_t body_len;
    uint8_t sig[64];
};

static enum vt_err get_member(json_t *o, const char *key, json_t **v, struct vt_diag *d)
{
    *v = json_object_get(o, key);
    VT_ENSURE(*v != NULL, d, VT_E_MISSING_FIELD, "receipt.fields", "member \"%s\" is missing", key);
    return VT_OK;
}

/* Exactly the members in keys[nkeys]. */
static enum vt_err only_members(json_t *o, const char *const *keys, size_t nkeys, const char *where,
                                struct vt_diag *d)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        bool known = false;
        for (size_t i = 0; i < nkeys && !known; i++) {
            known = strcmp(key, keys[i]) == 0;
        }
        char tmp[64];
        size_t kl = strnlen(key, sizeof(tmp) - 1);
        memcpy(tmp, key, kl);
        tmp[kl] = '\0';
        VT_ENSURE(known, d, VT_E_BAD_FIELD, "receipt.fields", "%s has an unknown member \"%s\"",
                  where, tmp);
    }
    return VT_OK;
}

static enum vt_err get_uint(json_t *o, const char *key, const char *check, uint64_t *out,
                            struct vt_diag *d)
{
    json_t *v;
    VT_TRY(get_member(o, key, &v, d));
    VT_ENSURE(json_is_integer(v) && json_integer_value(v) >= 0, d, VT_E_BAD_FIELD, check,
              "\"%s\" must be a non-negative integer", key);
    *out = (uint64_t)json_integer_value(v);
    return VT_OK;
}

static enum vt_err parse_members(json_t *o, struct parsed *p, struct vt_diag *d)
{
    static const char *const top[] = {"version",   "entry",     "index",
                                      "tree_size", "inclusion", "checkpoint"};
    static const char *const cpk[] = {"body", "signature"};
    VT_ENSURE(json_is_object(o), d, VT_E_BAD_JSON, "receipt.json", "not a JSON object");
    VT_TRY(only_members(o, top, sizeof(top) / sizeof(top[0]), "the receipt", d));

    json_t *v;
    VT_TRY(get_member(o, "version", &v, d));
    VT_ENSURE(json_is_integer(v), d, VT_E_BAD_FIELD, "receipt.version",
              "\"version\" must be an integer");
    VT_ENSURE(json_integer_value(v) == 1, d, VT_E_UNSUPPORTED_VERSION, "receipt.version",
              "version %lld is not 1", (long long)json_integer_value(v));

    VT_TRY(get_member(o, "entry", &v, d));
    VT_ENSURE(json_is_string(v), d, VT_E_BAD_FIELD, "receipt.entry",
              "\"entry\" must be a base64 string");
    const char *s = json_string_value(v);
    size_t sl = json_string_length(v);
    VT_ENSURE(sl <= 4 * ((VT_RECEIPT_MAX_ENTRY + 2) / 3), d, VT_E_TOO_LARGE, "receipt.entry",
              "\"entry\" has %zu characters, more than an entry of %u bytes", sl,
              VT_RECEIPT_MAX_ENTRY);
    for (size_t i = 0; i < sl; i++) {
        VT_ENSURE(s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n', d, VT_E_BAD_BASE64,
                  "receipt.entry", "\"entry\" has whitespace at offset %zu", i);
    }
    size_t cap = sl / 4 * 3 + 3;
    p->entry = malloc(cap);
    VT_ENSURE(p->entry != NULL, d, VT_E_NOMEM, "receipt.entry", "cannot allocate %zu bytes", cap);
    VT_ENSURE(vt_base64_decode(s, sl, false, p->entry, cap, &p->entry_len) == VT_OK, d,
              VT_E_BAD_BASE64, "receipt.entry", "\"entry\" is not canonical padded base64");

    VT_TRY(get_uint(o, "index", "receipt.index", &p->index, d));
    VT_TRY(get_uint(o, "tree_size", "receipt.tree_size", &p->tree_size, d));

    VT_TRY(get_member(o, "inclusion", &v, d));
    VT_ENSURE(json_is_array(v), d, VT_E_BAD_FIELD, "receipt.inclusion",
              "\"inclusion\" must be an array of hex hashes");
    VT_ENSURE(json_array_size(v) <= VT_MERKLE_MAX_PROOF, d, VT_E_TOO_LARGE, "receipt.inclusion",
              "\"inclusion\" has %zu hashes, at most %d allowed", json_array_size(v),
              VT_MERKLE_MAX_PROOF);
    p->n = json_array_size(v);
    for (size_t i = 0; i < p->n; i++) {
        json_t *h = json_array_get(v, i);
        VT_ENSURE(json_is_string(h) &&
                      lower_hex(json_string_value(h), json_string_length(h), p->proof[i], HLEN),
                  d, VT_E_BAD_HEX, "receipt.inclusion",
                  "inclusion hash %zu is not 64 lowercase hex digits", i);
    }

    json_t *cp;
    VT_TRY(get_member(o, "checkpoint", &cp, d));
    VT_ENSURE(json_is_object(cp), d, VT_E_BAD_FIELD, "receipt.checkpoint",
              "\"checkpoint\" must be an object");
    VT_TRY(only_members(cp, cpk, sizeof(cpk) / sizeof(cpk[0]), "the checkpoint", d));
    VT_TRY(get_member(cp, "body", &v, d));
    VT_ENSURE(json_is_string(v), d, VT_E_BAD_FIELD, "receipt.checkpoint.body",
              "\"body\" must be a string");
    p->body = json_string_value(v);
    p->body_len = json_string_length(v);
    VT_TRY(get_member(cp, "signature", &v, d));
    VT_ENSURE(json_is_string(v) &&
                  lower_hex(json_string_value(v), json_string_length(v), p->sig, sizeof(p->sig)),
              d, VT_E_BAD_HEX, "receipt.checkpoint.signature",
              "\"signature\" is not 128 lowercase hex digits (raw r||s)");
    return VT_OK;
}

static enum vt_err check_receipt(const struct parsed *p, const uint8_t log_xy[64],
                                 struct vt_receipt_info *info, struct vt_diag *d)
{
    struct vt_diag inner;
    vt_diag_init(&inner);
    struct vt_checkpoint cp;
    enum vt_err err = vt_checkpoint_verify(log_xy, p->body, p->body_len, p->sig, &cp, &inner);
    if (err != VT_OK) {
        return prefixed(d, err, &inner);
    }
    VT_ENSURE(p->tree_size == cp.size, d, VT_E_BINDING, "receipt.tree_size",
              "tree_size %" PRIu64 " is not the checkpoint's size %" PRIu64, p->tree_size, cp.size);
    VT_ENSURE(p->index < p->tree_size, d, VT_E_BAD_FIELD, "receipt.index",
              "index %" PRIu64 " is not below the tree size %" PRIu64, p->index, p->tree_size);
    uint8_t leaf[HLEN];
    vt_merkle_leaf_hash(p->entry, p->entry_len, leaf);
    err = vt_merkle_verify_inclusion(leaf, p->index, p->tree_size, (const uint8_t(*)[HLEN])p->proof,
                                     p->n, cp.root, &inner);
    if (err != VT_OK) {
        return vt_fail(d, err, "receipt.inclusion", "%s: %s", inner.check, inner.detail);
    }
    info->index = p->index;
    info->size = cp.size;
    memcpy(info->root, cp.root, HLEN);
    info->time = cp.time;
    memcpy(info->origin, cp.origin, sizeof(info->origin));
    vt_sha256(p->entry, p->entry_len, info->entry_sha256);
    memcpy(info->leaf_hash, leaf, HLEN);
    return VT_OK;
}

enum vt_err vt_receipt_verify(const char *json, size_t len, const uint8_t log_xy[64],
                              struct vt_receipt_info *out, struct vt_diag *d)
{
    if (out != NULL) {
        memset(out, 0, sizeof(*out));
    }
    VT_ENSURE(len <= VT_RECEIPT_MAX_SIZE, d, VT_E_TOO_LARGE, "receipt.size",
              "receipt has %zu bytes, at most %u allowed", len, VT_RECEIPT_MAX_SIZE);
    json_error_t je;
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    VT_ENSURE(o != NULL, d, VT_E_BAD_JSON, "receipt.json", "line %d column %d: %s", je.line,
              je.column, je.text);
    struct parsed *p = calloc(1, sizeof(*p));
    struct vt_receipt_info info;
    enum vt_err err = VT_E_NOMEM;
    if (p == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "receipt.json", "cannot allocate");
    } else {
        err = parse_members(o, p, d);
        if (err == VT_OK) {
            err = check_receipt(p, log_xy, &info, d);
        }
        if (err == VT_OK && out != NULL) {
            *out = info;
        }
        free(p->entry);
        free(p);
    }
    json_decref(o);
    return err;
}

enum vt_err vt_receipt_jwks_key(const char *jwks, size_t len, const char *kid, uint8_t xy[64],
                                struct vt_diag *d)
{
    VT_ENSURE(jwks != NULL && kid != NULL && xy != NULL, d, VT_E_ARG, "jwks",
              "jwks, kid and xy are required");
    json_t *o = json_loadb(jwks, len, 0, NULL);
    json_t *keys = json_object_get(o, "keys"), *k;
    size_t i;
    enum vt_err err = vt_fail(d, VT_E_NOT_FOUND, "jwks", "no key %s in the JWKS", kid);
    json_array_foreach(keys, i, k)
    {
        const char *id = json_string_value(json_object_get(k, "kid"));
        if (id == NULL || strcmp(id, kid) != 0) {
            continue;
        }
        char *one = json_dumps(k, JSON_COMPACT);
        struct vt_jwk *jwk = NULL;
        vt_diag_init(d);
        err = one ? vt_jwk_parse(one, strlen(one), &jwk, d)
                  : vt_fail(d, VT_E_NOMEM, "jwks", "no memory");
        if (err == VT_OK) {
            err = vt_jwk_p256_xy(jwk, xy, d);
        }
        vt_jwk_free(jwk);
        free(one);
        break;
    }
    json_decref(o);
    return err;
}
