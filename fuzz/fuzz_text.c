/* Fuzz the text decoders applied to untrusted input: RFC 3339 / unix time (collateral dates),
 * hex, base64 (standard and URL), percent-encoding (issuer-chain headers), and evidence text
 * detection. Invariants: decoded sizes within bounds; a parsed time formats and re-parses to the
 * same value; hex and base64 round-trip; base64 decodes the same with room for its upper bound
 * (one pass) and without (measured first). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <veritee/buf.h>
#include <veritee/time.h>
#include <veritee/verifier.h>

#include "base/encoding.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct vt_diag d;
    vt_diag_init(&d);
    vt_time t;
    if (vt_time_parse(s, size, &t, &d) == VT_OK) {
        char out[VT_TIME_STR_MAX];
        vt_time again;
        vt_time_format(t, out);
        if (t >= -62135596800LL && t <= 253402300799LL &&
            (vt_time_parse(out, strlen(out), &again, &d) != VT_OK || again != t)) {
            abort();
        }
    }
    uint8_t *buf = malloc(size + 1);
    char *enc = malloc(2 * size + 8);
    if (buf == NULL || enc == NULL) {
        free(buf);
        free(enc);
        return 0;
    }
    size_t n;
    if (vt_hex_decode(s, size, buf, size + 1, &n) == VT_OK) {
        if (2 * n != size) {
            abort();
        }
        vt_hex_encode(buf, n, enc);
        if (strncasecmp(enc, s, size) != 0) {
            abort();
        }
    }
    for (int url = 0; url < 2; url++) {
        enum vt_err err = vt_base64_decode(s, size, url, buf, size + 1, &n);
        if (err == VT_OK && n > size) {
            abort();
        }
        /* The one-pass decode (room for the upper bound, above) and the measuring one (less
         * room) agree: the same verdict on the text, the same bytes, a short buffer refused. */
        size_t room = err == VT_OK ? n : 0;
        uint8_t *exact = malloc(room + 1);
        size_t m = 0;
        if (exact != NULL) {
            enum vt_err again = vt_base64_decode(s, size, url, exact, room, &m);
            if (err == VT_OK ? again != VT_OK || m != n || memcmp(exact, buf, n) != 0
                             : again != err) {
                abort();
            }
            if (err == VT_OK && n > 0 &&
                vt_base64_decode(s, size, url, exact, n - 1, &m) != VT_E_BUFFER_TOO_SMALL) {
                abort();
            }
        }
        free(exact);
    }
    if (vt_percent_decode(s, size, (char *)buf, size + 1, &n) == VT_OK && n > size) {
        abort();
    }
    struct vt_buf b;
    vt_buf_init(&b, 1u << 20);
    if (vt_buf_append(&b, data, size) == VT_OK && vt_evidence_decode_text(&b, &d) == VT_OK &&
        b.len > size) {
        abort();
    }
    vt_buf_cleanup(&b);
    free(enc);
    free(buf);
    return 0;
}
