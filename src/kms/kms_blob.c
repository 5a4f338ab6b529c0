/*
 * Ciphertext blobs of the KMS service and the canonical form of encryption contexts (kms.h has
 * the byte layout). A blob names its key and key version, so Decrypt needs no KeyId and a rotated
 * key keeps opening old blobs; its AES-256-GCM key is derived per blob from the version's
 * material and a random salt (HMAC-SHA-256), so the 96-bit random nonces never meet twice under
 * one key; the tag covers the header and the encryption context, so neither can be changed.
 * Blobs are opaque to clients, as KMS's are: only this file reads them.
 */
#include <string.h>

#include "base/reader.h"
#include "crypto/aead.h"
#include "kms/kms.h"

static const uint8_t magic[2] = {'v', 'k'};
#define BLOB_VERSION 1
#define SALT_LEN 16
static const char key_label[] = "veritee kms ciphertext v1";

/* ---- encryption contexts ---- */

enum vt_err vt_kms_context_add(struct vt_kms_context *c, const char *key, const char *value,
                               struct vt_diag *d)
{
    VT_ENSURE(c->n < VT_KMS_CONTEXT_PAIRS, d, VT_E_TOO_LARGE, "context",
              "an encryption context has at most %d pairs", VT_KMS_CONTEXT_PAIRS);
    size_t i = 0;
    while (i < c->n && strcmp(c->pairs[i].key, key) < 0) {
        i++;
    }
    VT_ENSURE(i == c->n || strcmp(c->pairs[i].key, key) != 0, d, VT_E_DUPLICATE, "context",
              "the key \"%.100s\" appears twice", key);
    memmove(&c->pairs[i + 1], &c->pairs[i], (c->n - i) * sizeof(c->pairs[0]));
    c->pairs[i].key = key;
    c->pairs[i].value = value;
    c->n++;
    return VT_OK;
}

static enum vt_err put_u32(struct vt_buf *out, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return vt_buf_append(out, b, 4);
}

enum vt_err vt_kms_context_canonical(const struct vt_kms_context *c, struct vt_buf *out,
                                     struct vt_diag *d)
{
    size_t n = c != NULL ? c->n : 0;
    enum vt_err err = put_u32(out, (uint32_t)n);
    for (size_t i = 0; err == VT_OK && i < n; i++) {
        size_t kl = strlen(c->pairs[i].key), vl = strlen(c->pairs[i].value);
        err = put_u32(out, (uint32_t)kl);
        if (err == VT_OK) {
            err = vt_buf_append(out, c->pairs[i].key, kl);
        }
        if (err == VT_OK) {
            err = put_u32(out, (uint32_t)vl);
        }
        if (err == VT_OK) {
            err = vt_buf_append(out, c->pairs[i].value, vl);
        }
    }
    VT_ENSURE(err == VT_OK, d, err, "context", "cannot encode the encryption context");
    return VT_OK;
}

/* ---- blobs ---- */

enum vt_err vt_kms_blob_parse(const uint8_t *p, size_t n, struct vt_kms_blob *b, struct vt_diag *d)
{
    memset(b, 0, sizeof(*b));
    VT_ENSURE(n <= VT_KMS_CIPHERTEXT_MAX, d, VT_E_TOO_LARGE, "blob",
              "a ciphertext blob is at most %d bytes, this one %zu", VT_KMS_CIPHERTEXT_MAX, n);
    struct vt_reader r;
    vt_reader_init(&r, p, n);
    const uint8_t *m = NULL, *id = NULL;
    uint8_t version = 0, reserved = 0;
    VT_ENSURE(vt_reader_get_bytes(&r, 2, &m) == VT_OK && vt_reader_get_u8(&r, &version) == VT_OK &&
                  vt_reader_get_u8(&r, &reserved) == VT_OK,
              d, VT_E_TRUNCATED, "blob.header", "%zu bytes are not a ciphertext blob", n);
    VT_ENSURE(memcmp(m, magic, 2) == 0, d, VT_E_BAD_FIELD, "blob.magic",
              "not a ciphertext blob of this service (magic %02x%02x)", m[0], m[1]);
    VT_ENSURE(version == BLOB_VERSION, d, VT_E_BAD_FIELD, "blob.version",
              "ciphertext blob format %u is not known (this service writes %d)", version,
              BLOB_VERSION);
    VT_ENSURE(reserved == 0, d, VT_E_BAD_FIELD, "blob.reserved", "reserved byte is %u, not 0",
              reserved);
    VT_ENSURE(vt_reader_get_bytes(&r, 16, &id) == VT_OK &&
                  vt_reader_get_u32be(&r, &b->version) == VT_OK &&
                  vt_reader_get_bytes(&r, SALT_LEN, &b->salt) == VT_OK &&
                  vt_reader_get_bytes(&r, VT_AEAD_NONCE_LEN, &b->nonce) == VT_OK,
              d, VT_E_TRUNCATED, "blob.header",
              "the blob ends inside its %d-byte header (%zu bytes)", VT_KMS_BLOB_HEADER, n);
    VT_ENSURE(b->version >= 1, d, VT_E_BAD_FIELD, "blob.key_version", "key version 0");
    size_t left = vt_reader_left(&r);
    VT_ENSURE(left > VT_AEAD_TAG_LEN, d, VT_E_TRUNCATED, "blob.ciphertext",
              "%zu bytes after the header: no room for a ciphertext and its %d-byte tag", left,
              VT_AEAD_TAG_LEN);
    b->ct_len = left - VT_AEAD_TAG_LEN;
    VT_ENSURE(vt_reader_get_bytes(&r, b->ct_len, &b->ct) == VT_OK &&
                  vt_reader_get_bytes(&r, VT_AEAD_TAG_LEN, &b->tag) == VT_OK &&
                  vt_reader_expect_end(&r) == VT_OK,
              d, VT_E_TRUNCATED, "blob.ciphertext", "the blob's ciphertext cannot be read");
    memcpy(b->key_id, id, 16);
    b->header = p;
    return VT_OK;
}

/* The blob's AES key: HMAC-SHA-256(material, label || salt). */
static void blob_key(const uint8_t material[32], const uint8_t *salt, uint8_t key[32])
{
    uint8_t msg[sizeof(key_label) - 1 + SALT_LEN];
    memcpy(msg, key_label, sizeof(key_label) - 1);
    memcpy(msg + sizeof(key_label) - 1, salt, SALT_LEN);
    vt_hmac_sha256(material, 32, msg, sizeof(msg), key);
}

/* The associated data: the header, then the canonical context. */
static enum vt_err blob_aad(const uint8_t *header, const struct vt_kms_context *ctx,
                            struct vt_buf *aad, struct vt_diag *d)
{
    VT_TRY(vt_buf_append(aad, header, VT_KMS_BLOB_HEADER) == VT_OK
               ? VT_OK
               : vt_fail(d, VT_E_NOMEM, "blob", "no memory for the associated data"));
    return vt_kms_context_canonical(ctx, aad, d);
}

enum vt_err vt_kms_blob_seal(const uint8_t material[32], const uint8_t key_id[16], uint32_t version,
                             const struct vt_kms_context *ctx, const uint8_t *pt, size_t n,
                             struct vt_buf *out, struct vt_diag *d)
{
    VT_ENSURE(n >= 1 && n <= VT_KMS_PLAINTEXT_MAX, d, VT_E_ARG, "blob.plaintext",
              "a plaintext is 1 to %d bytes, not %zu", VT_KMS_PLAINTEXT_MAX, n);
    VT_ENSURE(version >= 1, d, VT_E_ARG, "blob.key_version", "key version 0");
    uint8_t h[VT_KMS_BLOB_HEADER] = {magic[0], magic[1], BLOB_VERSION, 0};
    memcpy(h + 4, key_id, 16);
    h[20] = (uint8_t)(version >> 24);
    h[21] = (uint8_t)(version >> 16);
    h[22] = (uint8_t)(version >> 8);
    h[23] = (uint8_t)version;
    VT_TRY(vt_random_bytes(h + 24, SALT_LEN + VT_AEAD_NONCE_LEN, d));
    struct vt_buf aad;
    vt_buf_init(&aad, VT_KMS_BLOB_HEADER + 4 + VT_KMS_CONTEXT_PAIRS * 8 + VT_KMS_CONTEXT_MAX);
    enum vt_err err = blob_aad(h, ctx, &aad, d);
    size_t start = out->len;
    if (err == VT_OK &&
        (vt_buf_reserve(out, VT_KMS_BLOB_OVERHEAD + n) != VT_OK ||
         vt_buf_append(out, h, sizeof(h)) != VT_OK || vt_buf_append(out, pt, n) != VT_OK ||
         vt_buf_append(out, h, VT_AEAD_TAG_LEN) != VT_OK)) {
        err = vt_fail(d, VT_E_NOMEM, "blob", "no room for the ciphertext blob");
    }
    uint8_t key[32];
    blob_key(material, h + 24, key);
    if (err == VT_OK) {
        uint8_t *ct = out->data + start + VT_KMS_BLOB_HEADER;
        if (vt_aead_encrypt(key, h + 24 + SALT_LEN, aad.data, aad.len, ct, n, ct, ct + n) !=
            VT_OK) {
            err = vt_fail(d, VT_E_CRYPTO, "blob.seal", "AES-256-GCM encryption failed");
        }
    }
    if (err != VT_OK && out->len > start) {
        vt_wipe(out->data + start, out->len - start);
        out->len = start;
        out->data[start] = 0;
    }
    vt_wipe(key, sizeof(key));
    vt_buf_cleanup(&aad);
    return err;
}

enum vt_err vt_kms_blob_open(const uint8_t material[32], const struct vt_kms_blob *b,
                             const struct vt_kms_context *ctx, struct vt_buf *out,
                             struct vt_diag *d)
{
    struct vt_buf aad;
    vt_buf_init(&aad, VT_KMS_BLOB_HEADER + 4 + VT_KMS_CONTEXT_PAIRS * 8 + VT_KMS_CONTEXT_MAX);
    enum vt_err err = blob_aad(b->header, ctx, &aad, d);
    size_t start = out->len;
    if (err == VT_OK && vt_buf_reserve(out, b->ct_len) != VT_OK) {
        err = vt_fail(d, VT_E_NOMEM, "blob", "no room for the plaintext");
    }
    uint8_t key[32];
    blob_key(material, b->salt, key);
    if (err == VT_OK) {
        uint8_t *pt = out->data + start;
        if (vt_aead_decrypt(key, b->nonce, aad.data, aad.len, b->ct, b->ct_len, b->tag, pt) !=
            VT_OK) {
            err = vt_fail(d, VT_E_CRYPTO, "blob.tag",
                          "the blob does not open: another key version's material, another "
                          "encryption context, or altered bytes");
        } else {
            out->len = start + b->ct_len;
            out->data[out->len] = 0;
        }
    }
    vt_wipe(key, sizeof(key));
    vt_buf_cleanup(&aad);
    return err;
}
