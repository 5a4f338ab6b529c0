/* Fuzz the HTTP/1.1 request reader (src/net/http_parse.c): the head parser, then, for a chunked
 * request, the chunked decoder over the rest of the input, fed once whole and once a byte at a
 * time. Invariants: a head is complete only within the bytes given and the head limit; its path
 * starts with '/' and holds no '%', no "//" and no dot segment; framing is never ambiguous
 * (chunked and Content-Length never both); field and argument names are unique unless the field
 * is a list; parsing is a pure function (the same input parses the same way twice, and with more
 * bytes appended the head ends at the same place); the chunked decoder gives the same verdict
 * and the same body whatever the slicing, and never exceeds its body limit. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BODY_MAX 4096

static void check_head(const struct vt_http_head *h, size_t used, size_t size)
{
    if (used == 0 || used > size || used > VT_HTTP_MAX_HEAD || h->path[0] != '/' ||
        strchr(h->path, '%') != NULL || strstr(h->path, "//") != NULL ||
        strstr(h->path, "/./") != NULL || strstr(h->path, "/../") != NULL ||
        (h->chunked && h->has_length) || h->n_fields > VT_HTTP_MAX_FIELDS ||
        h->n_args > VT_HTTP_MAX_ARGS || (h->version != 10 && h->version != 11)) {
        abort();
    }
    for (size_t i = 0; i < h->n_args; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(h->args[i].name, h->args[j].name) == 0) {
                abort();
            }
        }
    }
    if (h->version == 11 && vt_http_head_field(h, "Host") == NULL) {
        abort();
    }
}

static enum vt_err decode(const uint8_t *p, size_t n, bool bytewise, struct vt_buf *body,
                          size_t *consumed)
{
    struct vt_http_chunked c;
    vt_http_chunked_init(&c);
    struct vt_diag d;
    vt_diag_init(&d);
    size_t off = 0;
    enum vt_err err = VT_E_TRUNCATED;
    while (off < n && err == VT_E_TRUNCATED) {
        size_t step = bytewise ? 1 : n - off, used = 0;
        err = vt_http_chunked_feed(&c, p + off, step, &used, body, &d);
        if (used > step || (err == VT_E_TRUNCATED && used != step)) {
            abort();
        }
        off += used;
    }
    if (body->len > BODY_MAX) {
        abort();
    }
    *consumed = off;
    return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_http_head h, again;
    size_t used = 0, used2 = 0;
    unsigned status = 0, status2 = 0;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_http_head_parse(data, size, &h, &used, &status, &d);
    enum vt_err err2 = vt_http_head_parse(data, size, &again, &used2, &status2, &d);
    if (err != err2 || used != used2 || status != status2) {
        abort();
    }
    vt_http_head_cleanup(&again);
    if (err != VT_OK && err != VT_E_TRUNCATED &&
        (status < 400 || status > 505 || d.check[0] == '\0')) {
        abort();
    }
    bool ends = vt_http_head_ends(data, size, 0);
    if (err == VT_OK && !ends) {
        abort(); /* a complete head always has its blank line */
    }
    if (err == VT_OK) {
        check_head(&h, used, size);
        if (h.chunked) {
            struct vt_buf a, b;
            vt_buf_init(&a, BODY_MAX);
            vt_buf_init(&b, BODY_MAX);
            size_t ca = 0, cb = 0;
            enum vt_err ea = decode(data + used, size - used, false, &a, &ca);
            enum vt_err eb = decode(data + used, size - used, true, &b, &cb);
            if (ea != eb || (ea == VT_OK && (ca != cb || a.len != b.len ||
                                             (a.len > 0 && memcmp(a.data, b.data, a.len) != 0)))) {
                abort();
            }
            vt_buf_cleanup(&a);
            vt_buf_cleanup(&b);
        }
    }
    vt_http_head_cleanup(&h);
    return 0;
}
