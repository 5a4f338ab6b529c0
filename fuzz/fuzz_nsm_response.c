/*
 * libFuzzer target for the NSM response parser (vt_nsm_response_parse), which reads what the
 * /dev/nsm ioctl writes back.
 *
 * Invariants: the diag's code equals the returned code; a failure has a check name under
 * "nsm.response", is one of the documented codes and leaves the output untouched; a success has
 * a known kind, its byte string lies inside the input, an Error has a NUL-terminated non-empty
 * code name, and parsing again gives the same result.
 * Seed corpus: fuzz/corpus/fuzz_nsm_response (synthetic responses of each kind, and defects).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attester/attester_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_nsm_response r, before;
    memset(&r, 0xa5, sizeof(r));
    memcpy(&before, &r, sizeof(r));
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_nsm_response_parse(data, size, &r, &d);
    check(d.code == err);
    if (err != VT_OK) {
        check(err == VT_E_MALFORMED || err == VT_E_TRUNCATED || err == VT_E_TRAILING_DATA ||
              err == VT_E_BAD_FIELD || err == VT_E_MISSING_FIELD || err == VT_E_DUPLICATE ||
              err == VT_E_UNSUPPORTED || err == VT_E_TOO_LARGE ||
              (data == NULL && err == VT_E_ARG));
        check(strncmp(d.check, "nsm.response", 12) == 0);
        check(memcmp(&r, &before, sizeof(r)) == 0);
        check(vt_nsm_response_parse(data, size, &r, NULL) == err);
        return 0;
    }
    check(r.kind >= VT_NSM_RESP_ATTESTATION && r.kind <= VT_NSM_RESP_ERROR);
    if (r.kind == VT_NSM_RESP_ERROR) {
        size_t n = strnlen(r.error, sizeof(r.error));
        check(n > 0 && n < sizeof(r.error));
    } else {
        check(r.data != NULL || r.data_len == 0);
        check(r.data_len <= size);
        if (r.data_len > 0) {
            check(r.data >= data && r.data + r.data_len <= data + size);
        }
    }
    struct vt_nsm_response again;
    check(vt_nsm_response_parse(data, size, &again, NULL) == VT_OK);
    check(again.kind == r.kind && again.data == r.data && again.data_len == r.data_len &&
          again.lock == r.lock && strcmp(again.error, r.error) == 0);
    return 0;
}
