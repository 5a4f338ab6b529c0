/*
 * The "nsm" backend: the AWS Nitro Secure Module (/dev/nsm).
 *
 * One ioctl, _IOWR(0x0A, 0, struct nsm_message) with struct nsm_message { struct iovec request;
 * struct iovec response; }: the request is CBOR, the driver writes the CBOR response into the
 * response buffer and sets its iov_len. Messages are serde's externally tagged enums:
 *   requests   {"Attestation": {"user_data": bstr/null, "nonce": bstr/null,
 *                               "public_key": bstr/null}}
 *              "GetRandom"
 *              {"DescribePCR": {"index": uint}}
 *   responses  {"Attestation": {"document": bstr}}
 *              {"GetRandom": {"random": bstr}}
 *              {"DescribePCR": {"lock": bool, "data": bstr}}
 *              {"Error": "<ErrorCode>"}
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/cbor.h"
#include "base/reader.h"

#include "attester_impl.h"

struct nsm_message {
    struct iovec request;
    struct iovec response;
};

#define NSM_IOCTL_REQUEST _IOWR(0x0A, 0, struct nsm_message)

struct nsm_state {
    int fd;
    struct vt_nsm_device dev;
};

static int nsm_ioctl_call(void *ctx, const uint8_t *req, size_t req_len, uint8_t *resp,
                          size_t *resp_len)
{
    int fd = *(const int *)ctx;
    struct nsm_message m = {
        .request = {.iov_base = (void *)(uintptr_t)req, .iov_len = req_len},
        .response = {.iov_base = resp, .iov_len = *resp_len},
    };
    if (ioctl(fd, NSM_IOCTL_REQUEST, &m) != 0) {
        return errno != 0 ? errno : EIO;
    }
    if (m.response.iov_len > *resp_len) {
        return EMSGSIZE;
    }
    *resp_len = m.response.iov_len;
    return 0;
}

/* ---- the request encoder ---- */

static enum vt_err put_head(struct vt_buf *b, uint8_t major, uint64_t arg)
{
    uint8_t h[VT_CBOR_HEAD_MAX];
    size_t n = vt_cbor_encode_head(major, arg, h);
    return vt_buf_append(b, h, n);
}

static enum vt_err put_text(struct vt_buf *b, const char *s)
{
    size_t n = strlen(s);
    VT_TRY(put_head(b, VT_CBOR_TEXT, n));
    return vt_buf_append(b, s, n);
}

static enum vt_err put_opt_bytes(struct vt_buf *b, const uint8_t *p, size_t n)
{
    if (p == NULL) {
        uint8_t null = 0xf6;
        return vt_buf_append(b, &null, 1);
    }
    VT_TRY(put_head(b, VT_CBOR_BYTES, n));
    return vt_buf_append(b, p, n);
}

static enum vt_err encode_attestation(const struct vt_attester_input *in, struct vt_buf *b)
{
    VT_TRY(put_head(b, VT_CBOR_MAP, 1));
    VT_TRY(put_text(b, "Attestation"));
    VT_TRY(put_head(b, VT_CBOR_MAP, 3));
    VT_TRY(put_text(b, "user_data"));
    VT_TRY(put_opt_bytes(b, in->user_data, in->user_data_len));
    VT_TRY(put_text(b, "nonce"));
    VT_TRY(put_opt_bytes(b, in->nonce, in->nonce_len));
    VT_TRY(put_text(b, "public_key"));
    return put_opt_bytes(b, in->public_key, in->public_key_len);
}

/* ---- the response parser ---- */

static const char *const nsm_error_codes[] = {
    "Success",          "InvalidArgument", "InvalidIndex",  "InvalidResponse", "ReadOnlyIndex",
    "InvalidOperation", "BufferTooSmall",  "InputTooLarge", "InternalError",
};

static enum vt_err cbor_fail(struct vt_diag *d, enum vt_err err, const char *check,
                             const char *what, size_t off)
{
    return vt_fail(d, err, check, "%s at offset %zu: %s", what, off, vt_strerror(err));
}

static bool text_is(const uint8_t *p, size_t n, const char *s)
{
    return strlen(s) == n && memcmp(p, s, n) == 0;
}

/* Read a text key of a map (with check name for errors). */
static enum vt_err get_text(struct vt_reader *r, const char *check, const char *what,
                            const uint8_t **p, size_t *n, struct vt_diag *d)
{
    size_t off = vt_reader_offset(r);
    struct vt_cbor_head h;
    enum vt_err err = vt_cbor_get_head(r, &h);
    if (err != VT_OK) {
        return cbor_fail(d, err, check, what, off);
    }
    VT_ENSURE(h.major == VT_CBOR_TEXT, d, VT_E_BAD_FIELD, check, "%s at offset %zu is %s, not text",
              what, off, vt_cbor_type_name(&h));
    err = vt_cbor_get_string(r, &h, p, n);
    if (err != VT_OK) {
        return cbor_fail(d, err, check, what, off);
    }
    return VT_OK;
}

/* The value map of a response: members listed in names (at most 2), each required once. */
static enum vt_err parse_members(struct vt_reader *r, const char *kind, struct vt_nsm_response *o,
                                 struct vt_diag *d)
{
    size_t off = vt_reader_offset(r);
    struct vt_cbor_head h;
    enum vt_err err = vt_cbor_get_head(r, &h);
    if (err != VT_OK) {
        return cbor_fail(d, err, "nsm.response.value", "the value", off);
    }
    VT_ENSURE(h.major == VT_CBOR_MAP, d, VT_E_BAD_FIELD, "nsm.response.value",
              "the value of %s is %s, not a map", kind, vt_cbor_type_name(&h));
    bool is_pcr = o->kind == VT_NSM_RESP_DESCRIBE_PCR;
    const char *bytes_name = o->kind == VT_NSM_RESP_ATTESTATION  ? "document"
                             : o->kind == VT_NSM_RESP_GET_RANDOM ? "random"
                                                                 : "data";
    bool have_bytes = false, have_lock = false;
    for (uint64_t i = 0;; i++) {
        bool more;
        err = vt_cbor_next(r, &h, i, &more);
        if (err != VT_OK) {
            return cbor_fail(d, err, "nsm.response.value", "the value map", vt_reader_offset(r));
        }
        if (!more) {
            break;
        }
        VT_ENSURE(i < 8, d, VT_E_TOO_LARGE, "nsm.response.value", "%s has too many members", kind);
        const uint8_t *key;
        size_t key_len;
        VT_TRY(get_text(r, "nsm.response.member", "a member name", &key, &key_len, d));
        size_t voff = vt_reader_offset(r);
        struct vt_cbor_head v;
        err = vt_cbor_get_head(r, &v);
        if (err != VT_OK) {
            return cbor_fail(d, err, "nsm.response.member", "a member value", voff);
        }
        if (text_is(key, key_len, bytes_name)) {
            VT_ENSURE(!have_bytes, d, VT_E_DUPLICATE, "nsm.response.member", "%s.%s appears twice",
                      kind, bytes_name);
            VT_ENSURE(v.major == VT_CBOR_BYTES, d, VT_E_BAD_FIELD, "nsm.response.member",
                      "%s.%s is %s, not a byte string", kind, bytes_name, vt_cbor_type_name(&v));
            err = vt_cbor_get_string(r, &v, &o->data, &o->data_len);
            if (err != VT_OK) {
                return cbor_fail(d, err, "nsm.response.member", bytes_name, voff);
            }
            have_bytes = true;
        } else if (is_pcr && text_is(key, key_len, "lock")) {
            VT_ENSURE(!have_lock, d, VT_E_DUPLICATE, "nsm.response.member", "%s.lock appears twice",
                      kind);
            VT_ENSURE(v.major == VT_CBOR_SIMPLE &&
                          (v.arg == VT_CBOR_TRUE || v.arg == VT_CBOR_FALSE) && v.info < 24,
                      d, VT_E_BAD_FIELD, "nsm.response.member", "%s.lock is %s, not a boolean",
                      kind, vt_cbor_type_name(&v));
            o->lock = v.arg == VT_CBOR_TRUE;
            have_lock = true;
        } else {
            return vt_fail(d, VT_E_BAD_FIELD, "nsm.response.member",
                           "%s has an unexpected member (%zu-byte name at offset %zu)", kind,
                           key_len, voff);
        }
    }
    VT_ENSURE(have_bytes, d, VT_E_MISSING_FIELD, "nsm.response.member", "%s has no %s", kind,
              bytes_name);
    VT_ENSURE(!is_pcr || have_lock, d, VT_E_MISSING_FIELD, "nsm.response.member", "%s has no lock",
              kind);
    return VT_OK;
}

enum vt_err vt_nsm_response_parse(const uint8_t *p, size_t n, struct vt_nsm_response *out,
                                  struct vt_diag *d)
{
    VT_ENSURE((p != NULL || n == 0) && out != NULL, d, VT_E_ARG, "nsm.response", "NULL argument");
    VT_ENSURE(n > 0, d, VT_E_TRUNCATED, "nsm.response", "the response is empty");
    struct vt_nsm_response o;
    memset(&o, 0, sizeof(o));
    struct vt_reader r;
    vt_reader_init(&r, p, n);
    struct vt_cbor_head h;
    enum vt_err err = vt_cbor_get_head(&r, &h);
    if (err != VT_OK) {
        return cbor_fail(d, err, "nsm.response", "the response", 0);
    }
    if (h.major == VT_CBOR_TEXT) {
        /* a unit variant ("LockPCR", "LockPCRs"): never an answer to our requests */
        return vt_fail(d, VT_E_UNSUPPORTED, "nsm.response.kind",
                       "a unit response (%llu-byte name), not one this client requests",
                       (unsigned long long)h.arg);
    }
    VT_ENSURE(h.major == VT_CBOR_MAP, d, VT_E_MALFORMED, "nsm.response",
              "the response is %s, not a map", vt_cbor_type_name(&h));
    VT_ENSURE(h.indefinite || h.arg == 1, d, VT_E_MALFORMED, "nsm.response",
              "the response map has %llu pairs, not 1", (unsigned long long)h.arg);
    bool more;
    err = vt_cbor_next(&r, &h, 0, &more);
    if (err != VT_OK) {
        return cbor_fail(d, err, "nsm.response", "the response map", vt_reader_offset(&r));
    }
    VT_ENSURE(more, d, VT_E_MALFORMED, "nsm.response", "the response map is empty");
    const uint8_t *key;
    size_t key_len;
    VT_TRY(get_text(&r, "nsm.response.kind", "the response name", &key, &key_len, d));
    if (text_is(key, key_len, "Error")) {
        o.kind = VT_NSM_RESP_ERROR;
        const uint8_t *code;
        size_t code_len;
        VT_TRY(get_text(&r, "nsm.response.error", "the error code", &code, &code_len, d));
        bool known = false;
        for (size_t i = 0; i < sizeof(nsm_error_codes) / sizeof(nsm_error_codes[0]); i++) {
            known = known || text_is(code, code_len, nsm_error_codes[i]);
        }
        VT_ENSURE(known, d, VT_E_BAD_FIELD, "nsm.response.error", "unknown error code (%zu bytes)",
                  code_len);
        memcpy(o.error, code, code_len);
        o.error[code_len] = '\0';
    } else {
        const char *kind;
        if (text_is(key, key_len, "Attestation")) {
            o.kind = VT_NSM_RESP_ATTESTATION;
            kind = "Attestation";
        } else if (text_is(key, key_len, "GetRandom")) {
            o.kind = VT_NSM_RESP_GET_RANDOM;
            kind = "GetRandom";
        } else if (text_is(key, key_len, "DescribePCR")) {
            o.kind = VT_NSM_RESP_DESCRIBE_PCR;
            kind = "DescribePCR";
        } else {
            char shown[33];
            size_t k = 0;
            for (size_t i = 0; i < key_len && k < 32; i++) {
                shown[k++] = key[i] >= 0x20 && key[i] < 0x7f ? (char)key[i] : '?';
            }
            shown[k] = '\0';
            return vt_fail(d, VT_E_UNSUPPORTED, "nsm.response.kind",
                           "response \"%s\" is not one this client requests", shown);
        }
        VT_TRY(parse_members(&r, kind, &o, d));
    }
    err = vt_cbor_next(&r, &h, 1, &more);
    if (err != VT_OK) {
        return cbor_fail(d, err, "nsm.response", "the response map", vt_reader_offset(&r));
    }
    VT_ENSURE(!more, d, VT_E_MALFORMED, "nsm.response", "the response map has more than 1 pair");
    VT_ENSURE(vt_reader_expect_end(&r) == VT_OK, d, VT_E_TRAILING_DATA, "nsm.response",
              "%zu bytes after the response", n - vt_reader_offset(&r));
    *out = o;
    return VT_OK;
}

/* ---- the backend ---- */

/* One exchange: request in req, response decoded into o, whose bytes live in resp. */
static enum vt_err nsm_exchange(struct nsm_state *s, const struct vt_buf *req, uint8_t *resp,
                                enum vt_nsm_response_kind want, struct vt_nsm_response *o,
                                struct vt_diag *d)
{
    VT_ENSURE(req->len <= VT_NSM_REQUEST_MAX, d, VT_E_TOO_LARGE, "nsm.request",
              "request of %zu bytes exceeds %u", req->len, VT_NSM_REQUEST_MAX);
    size_t resp_len = VT_NSM_RESPONSE_MAX;
    int rc = s->dev.call(s->dev.ctx, req->data, req->len, resp, &resp_len);
    VT_ENSURE(rc == 0, d, VT_E_IO, "nsm.call", "the NSM request failed: %s", strerror(rc));
    VT_ENSURE(resp_len <= VT_NSM_RESPONSE_MAX, d, VT_E_TOO_LARGE, "nsm.call",
              "the device reported a %zu-byte response", resp_len);
    VT_TRY(vt_nsm_response_parse(resp, resp_len, o, d));
    VT_ENSURE(o->kind != VT_NSM_RESP_ERROR, d, VT_E_UPSTREAM, "nsm.response.error",
              "the NSM answered Error(%s)", o->error);
    static const char *const names[] = {"", "Attestation", "GetRandom", "DescribePCR", "Error"};
    VT_ENSURE(o->kind == want, d, VT_E_MALFORMED, "nsm.response.kind",
              "asked for %s, the NSM answered %s", names[want], names[o->kind]);
    return VT_OK;
}

static enum vt_err nsm_open(struct vt_attester *a, const char *backend,
                            const struct vt_attester_opts *opts, struct vt_diag *d)
{
    (void)backend;
    struct nsm_state *s = calloc(1, sizeof(*s));
    VT_ENSURE(s != NULL, d, VT_E_NOMEM, "nsm.open", "out of memory");
    s->fd = -1;
    if (opts->nsm_device != NULL) {
        if (opts->nsm_device->call == NULL) {
            free(s);
            return vt_fail(d, VT_E_ARG, "nsm.open", "nsm_device has no call function");
        }
        s->dev = *opts->nsm_device;
    } else {
        const char *path = opts->nsm_path != NULL ? opts->nsm_path : VT_ATTESTER_NSM_PATH;
        s->fd = open(path, O_RDWR | O_CLOEXEC);
        if (s->fd < 0) {
            int e = errno;
            free(s);
            return vt_fail(d, e == ENOENT ? VT_E_NOT_FOUND : VT_E_IO, "nsm.open",
                           "%s: %s (not inside a Nitro Enclave?)", path, strerror(e));
        }
        s->dev.call = nsm_ioctl_call;
        s->dev.ctx = &s->fd;
    }
    a->state = s;
    a->tee = VT_TEE_NITRO;
    return VT_OK;
}

static enum vt_err nsm_evidence(struct vt_attester *a, const struct vt_attester_input *in,
                                struct vt_buf *evidence, struct vt_buf *aux, struct vt_diag *d)
{
    (void)aux;
    struct nsm_state *s = a->state;
    VT_ENSURE(in->user_data_len <= VT_NSM_FIELD_MAX && in->nonce_len <= VT_NSM_FIELD_MAX &&
                  in->public_key_len <= VT_NSM_FIELD_MAX,
              d, VT_E_TOO_LARGE, "nsm.request",
              "user_data %zu, nonce %zu, public_key %zu bytes: each must be <= %u",
              in->user_data_len, in->nonce_len, in->public_key_len, VT_NSM_FIELD_MAX);
    VT_ENSURE((in->user_data != NULL || in->user_data_len == 0) &&
                  (in->nonce != NULL || in->nonce_len == 0) &&
                  (in->public_key != NULL || in->public_key_len == 0),
              d, VT_E_ARG, "nsm.request", "a NULL field with a non-zero length");
    struct vt_buf req;
    vt_buf_init(&req, VT_NSM_REQUEST_MAX);
    enum vt_err err = encode_attestation(in, &req);
    if (err != VT_OK) {
        vt_buf_cleanup(&req);
        return vt_fail(d, err, "nsm.request", "the request exceeds %u bytes", VT_NSM_REQUEST_MAX);
    }
    uint8_t *resp = malloc(VT_NSM_RESPONSE_MAX);
    if (resp == NULL) {
        vt_buf_cleanup(&req);
        return vt_fail(d, VT_E_NOMEM, "nsm.call", "out of memory");
    }
    struct vt_nsm_response o;
    err = nsm_exchange(s, &req, resp, VT_NSM_RESP_ATTESTATION, &o, d);
    if (err == VT_OK && o.data_len == 0) {
        err = vt_fail(d, VT_E_MISSING_FIELD, "nsm.response.member",
                      "the NSM returned an empty document");
    }
    if (err == VT_OK) {
        err = vt_attester_buf_set(evidence, o.data, o.data_len, "attester.evidence", d);
    }
    free(resp);
    vt_buf_cleanup(&req);
    return err;
}

static void nsm_close(struct vt_attester *a)
{
    struct nsm_state *s = a->state;
    if (s != NULL && s->fd >= 0) {
        close(s->fd);
    }
    free(s);
    a->state = NULL;
}

const struct vt_attester_ops vt_attester_nsm_ops = {
    .name = "nsm",
    .open = nsm_open,
    .evidence = nsm_evidence,
    .close = nsm_close,
};

static enum vt_err nsm_state_of(struct vt_attester *a, struct nsm_state **s, struct vt_diag *d)
{
    VT_ENSURE(a != NULL, d, VT_E_ARG, "attester.backend", "NULL attester");
    VT_ENSURE(a->ops == &vt_attester_nsm_ops, d, VT_E_STATE, "attester.backend",
              "backend \"%s\" is not nsm", a->backend);
    *s = a->state;
    return VT_OK;
}

enum vt_err vt_attester_nsm_random(struct vt_attester *a, uint8_t *out, size_t n, size_t *got,
                                   struct vt_diag *d)
{
    struct nsm_state *s = NULL;
    VT_TRY(nsm_state_of(a, &s, d));
    VT_ENSURE((out != NULL || n == 0) && got != NULL, d, VT_E_ARG, "nsm.random", "NULL argument");
    *got = 0;
    struct vt_buf req;
    vt_buf_init(&req, 64);
    enum vt_err err = put_text(&req, "GetRandom");
    uint8_t *resp = err == VT_OK ? malloc(VT_NSM_RESPONSE_MAX) : NULL;
    if (resp == NULL) {
        vt_buf_cleanup(&req);
        return vt_fail(d, VT_E_NOMEM, "nsm.random", "out of memory");
    }
    struct vt_nsm_response o;
    err = nsm_exchange(s, &req, resp, VT_NSM_RESP_GET_RANDOM, &o, d);
    if (err == VT_OK) {
        size_t k = o.data_len < n ? o.data_len : n;
        if (k > 0) {
            memcpy(out, o.data, k);
        }
        *got = k;
    }
    memset(resp, 0, VT_NSM_RESPONSE_MAX);
    free(resp);
    vt_buf_cleanup(&req);
    return err;
}

enum vt_err vt_attester_nsm_describe_pcr(struct vt_attester *a, uint16_t index, bool *locked,
                                         uint8_t data[64], size_t *data_len, struct vt_diag *d)
{
    struct nsm_state *s = NULL;
    VT_TRY(nsm_state_of(a, &s, d));
    VT_ENSURE(locked != NULL && data != NULL && data_len != NULL, d, VT_E_ARG, "nsm.pcr",
              "NULL argument");
    struct vt_buf req;
    vt_buf_init(&req, 64);
    enum vt_err err = put_head(&req, VT_CBOR_MAP, 1);
    err = err == VT_OK ? put_text(&req, "DescribePCR") : err;
    err = err == VT_OK ? put_head(&req, VT_CBOR_MAP, 1) : err;
    err = err == VT_OK ? put_text(&req, "index") : err;
    err = err == VT_OK ? put_head(&req, VT_CBOR_UINT, index) : err;
    uint8_t *resp = err == VT_OK ? malloc(VT_NSM_RESPONSE_MAX) : NULL;
    if (resp == NULL) {
        vt_buf_cleanup(&req);
        return vt_fail(d, VT_E_NOMEM, "nsm.pcr", "out of memory");
    }
    struct vt_nsm_response o;
    err = nsm_exchange(s, &req, resp, VT_NSM_RESP_DESCRIBE_PCR, &o, d);
    if (err == VT_OK && o.data_len > 64) {
        err = vt_fail(d, VT_E_BAD_LENGTH, "nsm.pcr", "PCR %u has %zu bytes (at most 64)",
                      (unsigned)index, o.data_len);
    }
    if (err == VT_OK) {
        memcpy(data, o.data, o.data_len);
        *data_len = o.data_len;
        *locked = o.lock;
    }
    free(resp);
    vt_buf_cleanup(&req);
    return err;
}
