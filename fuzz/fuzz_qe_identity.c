/*
 * Fuzz vt_qe_identity_parse.
 * Invariants: a failure leaves the output zeroed and records its code; a success yields a body
 * that is the exact "enclaveIdentity" span inside the input, a known id, version 2, levels
 * strictly descending by isvsvn with UpToDate/OutOfDate/Revoked statuses and bounded advisory
 * IDs; cleanup is idempotent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void require(int cond)
{
    if (!cond) {
        abort();
    }
}

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0) {
            return 0;
        }
    }
    return 1;
}

static void check_ok(const uint8_t *data, size_t size, const struct vt_qe_identity *q)
{
    require(q->id >= VT_IDENTITY_QE && q->id <= VT_IDENTITY_TD_QE);
    require(q->version == 2);
    require(q->issue_date <= q->next_update);
    const uint8_t *span;
    size_t span_len;
    require(vt_json_member_span(data, size, "enclaveIdentity", &span, &span_len, NULL) == VT_OK);
    require(q->body == span && q->body_len == span_len);
    require(q->body >= data && q->body_len >= 2 && q->body_len <= size &&
            (size_t)(q->body - data) <= size - q->body_len);
    require(q->body[0] == '{' && q->body[q->body_len - 1] == '}');
    require(q->n_levels > 0 && q->n_levels <= VT_MAX_TCB_LEVELS && q->levels != NULL);
    for (size_t i = 0; i < q->n_levels; i++) {
        const struct vt_isv_level *l = &q->levels[i];
        require(l->status == VT_TCB_UP_TO_DATE || l->status == VT_TCB_OUT_OF_DATE ||
                l->status == VT_TCB_REVOKED);
        require(i == 0 || q->levels[i - 1].isvsvn > l->isvsvn);
        require(l->n_advisories <= VT_MAX_ADVISORIES);
        require((l->n_advisories == 0) == (l->advisory_ids == NULL));
        for (size_t k = 0; k < l->n_advisories; k++) {
            size_t len = strnlen(l->advisory_ids[k], VT_ADVISORY_ID_MAX);
            require(len > 0 && len < VT_ADVISORY_ID_MAX);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_qe_identity q;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_qe_identity_parse(data, size, &q, &d);
    if (err == VT_OK) {
        check_ok(data, size, &q);
    } else {
        require(d.code == err);
        require(all_zero(&q, sizeof(q)));
    }
    vt_qe_identity_cleanup(&q);
    require(all_zero(&q, sizeof(q)));
    vt_qe_identity_cleanup(&q);
    return 0;
}
