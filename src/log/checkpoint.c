/*
 * Signed checkpoints of the transparency log (format in src/log/merkle.h and
 * docs/audit-log.md):
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n<RFC 3339 UTC time>\n
 *
 * signed with ES256 over exactly those bytes. Parsing is strict so that every checkpoint has one
 * encoding: four newline-terminated lines and nothing after, a visible-ASCII origin, a decimal
 * size without leading zeros, the canonical 44-character padded base64 of 32 bytes, and the time
 * exactly as vt_time_format writes it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/encoding.h"
#include "log/merkle.h"

#define HLEN VT_MERKLE_HASH_LEN
#define B64_ROOT_LEN 44 /* 4 * ceil(32 / 3) */
#define TIME_LEN 20     /* "YYYY-MM-DDThh:mm:ssZ" */

/* A printable rendering of untrusted text for a diag detail: at most 48 bytes of input, other
 * than visible ASCII as \xNN, "..." if cut. */
static const char *show(const char *s, size_t len, char out[256])
{
    size_t o = 0;
    for (size_t i = 0; i < len && i < 48; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char)c;
        } else {
            o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
        }
    }
    if (len > 48) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

static enum vt_err check_origin(const char *s, size_t len, enum vt_err code, struct vt_diag *d)
{
    char tmp[256];
    VT_ENSURE(len >= 1 && len <= VT_CHECKPOINT_ORIGIN_MAX, d, code, "checkpoint.origin",
              "origin has %zu bytes, not 1..%d", len, VT_CHECKPOINT_ORIGIN_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        VT_ENSURE(c >= 0x21 && c <= 0x7e, d, code, "checkpoint.origin",
                  "origin \"%s\" has byte 0x%02x at offset %zu (only visible ASCII allowed)",
                  show(s, len, tmp), c, i);
    }
    return VT_OK;
}

enum vt_err vt_checkpoint_sign(const struct vt_key *key, const char *origin, uint64_t size,
                               const uint8_t root[HLEN], vt_time t, struct vt_buf *body,
                               uint8_t sig[64], struct vt_diag *d)
{
    VT_TRY(check_origin(origin, strlen(origin), VT_E_ARG, d));
    VT_ENSURE(t >= 0 && t <= VT_CHECKPOINT_TIME_MAX, d, VT_E_ARG, "checkpoint.time",
              "time %" PRId64 " is outside 1970-01-01T00:00:00Z..9999-12-31T23:59:59Z", t);
    char b64[B64_ROOT_LEN + 1];
    VT_ENSURE(vt_base64_encode(root, HLEN, false, b64, sizeof(b64)) == VT_OK, d, VT_E_INTERNAL,
              "checkpoint.root", "cannot encode the root hash");
    char ts[VT_TIME_STR_MAX];
    vt_time_format(t, ts);
    size_t start = body->len;
    enum vt_err err =
        vt_buf_printf(body, "%s\n%" PRIu64 "\n%s\n%s\n", origin, size, (const char *)b64, ts);
    if (err != VT_OK) {
        return vt_fail(d, err, "checkpoint.body", "cannot append the checkpoint body");
    }
    err = vt_p256_sign(key, body->data + start, body->len - start, sig, d);
    if (err != VT_OK) {
        body->len = start;
        if (body->data != NULL) {
            body->data[start] = 0;
        }
    }
    return err;
}

enum vt_err vt_checkpoint_parse(const char *body, size_t len, struct vt_checkpoint *out,
                                struct vt_diag *d)
{
    memset(out, 0, sizeof(*out));
    char tmp[256];
    VT_ENSURE(len <= VT_CHECKPOINT_BODY_MAX, d, VT_E_TOO_LARGE, "checkpoint.body",
              "body has %zu bytes, at most %d allowed", len, VT_CHECKPOINT_BODY_MAX);

    const char *line[4];
    size_t ll[4];
    size_t pos = 0;
    for (int i = 0; i < 4; i++) {
        const char *nl = len > pos ? memchr(body + pos, '\n', len - pos) : NULL;
        VT_ENSURE(nl != NULL, d, VT_E_MALFORMED, "checkpoint.lines",
                  "line %d of 4 is missing or has no terminating newline", i + 1);
        line[i] = body + pos;
        ll[i] = (size_t)(nl - line[i]);
        pos += ll[i] + 1;
    }
    VT_ENSURE(pos == len, d, VT_E_MALFORMED, "checkpoint.lines", "%zu bytes follow the fourth line",
              len - pos);

    /* Line 1: origin. */
    VT_TRY(check_origin(line[0], ll[0], VT_E_BAD_FIELD, d));

    /* Line 2: tree size, decimal, no leading zeros. */
    const char *s = line[1];
    size_t sl = ll[1];
    VT_ENSURE(sl >= 1 && sl <= 20, d, VT_E_BAD_FIELD, "checkpoint.size",
              "tree size \"%s\" must be 1..20 decimal digits", show(s, sl, tmp));
    VT_ENSURE(s[0] != '0' || sl == 1, d, VT_E_BAD_FIELD, "checkpoint.size",
              "tree size \"%s\" has a leading zero", show(s, sl, tmp));
    uint64_t size = 0;
    for (size_t i = 0; i < sl; i++) {
        VT_ENSURE(s[i] >= '0' && s[i] <= '9', d, VT_E_BAD_FIELD, "checkpoint.size",
                  "tree size \"%s\" is not a decimal number", show(s, sl, tmp));
        uint64_t digit = (uint64_t)(s[i] - '0');
        VT_ENSURE(size <= (UINT64_MAX - digit) / 10, d, VT_E_BAD_FIELD, "checkpoint.size",
                  "tree size \"%s\" exceeds 2^64-1", show(s, sl, tmp));
        size = size * 10 + digit;
    }

    /* Line 3: root hash, canonical padded base64 of 32 bytes. */
    VT_ENSURE(ll[2] == B64_ROOT_LEN, d, VT_E_BAD_FIELD, "checkpoint.root",
              "root \"%s\" has %zu characters, not %d", show(line[2], ll[2], tmp), ll[2],
              B64_ROOT_LEN);
    uint8_t root[HLEN + 3];
    size_t rl = 0;
    bool clean = true;
    for (size_t i = 0; i < ll[2]; i++) {
        char c = line[2][i];
        clean = clean && c != ' ' && c != '\t' && c != '\r' && c != '\n';
    }
    VT_ENSURE(clean && vt_base64_decode(line[2], ll[2], false, root, sizeof(root), &rl) == VT_OK, d,
              VT_E_BAD_BASE64, "checkpoint.root", "root \"%s\" is not canonical base64",
              show(line[2], ll[2], tmp));
    VT_ENSURE(rl == HLEN, d, VT_E_BAD_FIELD, "checkpoint.root", "root decodes to %zu bytes, not %d",
              rl, HLEN);

    /* Line 4: time, exactly as vt_time_format writes it. */
    vt_time t = 0;
    char canon[VT_TIME_STR_MAX];
    bool ok = ll[3] == TIME_LEN && vt_time_parse(line[3], ll[3], &t, NULL) == VT_OK && t >= 0 &&
              t <= VT_CHECKPOINT_TIME_MAX;
    if (ok) {
        vt_time_format(t, canon);
        ok = strlen(canon) == TIME_LEN && memcmp(canon, line[3], TIME_LEN) == 0;
    }
    VT_ENSURE(ok, d, VT_E_BAD_TIME, "checkpoint.time",
              "time \"%s\" is not RFC 3339 UTC of the form YYYY-MM-DDThh:mm:ssZ in 1970..9999",
              show(line[3], ll[3], tmp));

    memcpy(out->origin, line[0], ll[0]);
    out->origin[ll[0]] = '\0';
    out->size = size;
    memcpy(out->root, root, HLEN);
    out->time = t;
    return VT_OK;
}

enum vt_err vt_checkpoint_verify(const uint8_t xy[64], const char *body, size_t len,
                                 const uint8_t sig[64], struct vt_checkpoint *out,
                                 struct vt_diag *d)
{
    if (out != NULL) {
        memset(out, 0, sizeof(*out));
    }
    VT_ENSURE(len <= VT_CHECKPOINT_BODY_MAX, d, VT_E_TOO_LARGE, "checkpoint.body",
              "body has %zu bytes, at most %d allowed", len, VT_CHECKPOINT_BODY_MAX);
    struct vt_diag kd;
    vt_diag_init(&kd);
    enum vt_err err = vt_p256_verify_xy(xy, body, len, sig, &kd);
    if (err == VT_E_SIGNATURE) {
        return vt_fail(d, err, "checkpoint.signature",
                       "the signature over the %zu-byte body does not verify with the log key",
                       len);
    }
    if (err != VT_OK) {
        return vt_fail(d, err, "checkpoint.key", "log key: %s", kd.detail);
    }
    struct vt_checkpoint cp;
    VT_TRY(vt_checkpoint_parse(body, len, &cp, d));
    if (out != NULL) {
        *out = cp;
    }
    return VT_OK;
}
