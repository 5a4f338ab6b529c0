/* Fuzz the certificate parsers fed by untrusted input: the PEM chain inside a quote's
 * certification data (URL-encoded or not, NUL-terminated) and DER/PEM trust-anchor files.
 * Invariants: success yields 1..VT_MAX_CHAIN_DEPTH certificates whose DER is non-empty; failure
 * leaves the list empty and records the returned code. */
#include <stdlib.h>

#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int mode = 0; mode < 2; mode++) {
        struct vt_cert_list l;
        struct vt_diag d;
        vt_cert_list_init(&l);
        vt_diag_init(&d);
        enum vt_err err = mode == 0 ? vt_cert_list_from_pem((const char *)data, size, &l, &d)
                                    : vt_cert_list_from_bytes(data, size, &l, &d);
        if (err == VT_OK) {
            if (l.n == 0 || l.n > VT_MAX_CHAIN_DEPTH) {
                abort();
            }
            for (size_t i = 0; i < l.n; i++) {
                size_t len;
                char cn[128];
                if (vt_cert_der(l.certs[i], &len) == NULL || len == 0) {
                    abort();
                }
                enum vt_err cn_err = vt_cert_subject_cn(l.certs[i], cn, sizeof(cn));
                if (cn_err != VT_OK && cn_err != VT_E_NOT_FOUND && cn_err != VT_E_BAD_CERT &&
                    cn_err != VT_E_BUFFER_TOO_SMALL) {
                    abort();
                }
            }
        } else if (l.n != 0 || d.code != err) {
            abort();
        }
        vt_cert_list_cleanup(&l);
    }
    return 0;
}
