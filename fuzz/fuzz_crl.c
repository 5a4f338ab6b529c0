/* Fuzz the CRL parser (DER, PEM or hex text, as collateral sources serve CRLs). Invariants: on
 * success the normalised DER re-parses to the same DER; on failure nothing is returned and the
 * diag holds the returned code. */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_crl *crl = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_crl_parse(data, size, &crl, &d);
    if (err != VT_OK) {
        if (crl != NULL || d.code != err) {
            abort();
        }
        return 0;
    }
    size_t len, len2;
    const uint8_t *der = vt_crl_der(crl, &len);
    struct vt_crl *again = NULL;
    if (vt_crl_parse(der, len, &again, &d) != VT_OK) {
        abort();
    }
    const uint8_t *der2 = vt_crl_der(again, &len2);
    if (len != len2 || memcmp(der, der2, len) != 0) {
        abort();
    }
    char text[256];
    vt_crl_issuer_text(crl, text, sizeof(text));
    vt_crl_number_text(crl, text, sizeof(text));
    (void)vt_crl_this_update(crl);
    (void)vt_crl_next_update(crl);
    vt_crl_free(again);
    vt_crl_free(crl);
    return 0;
}
