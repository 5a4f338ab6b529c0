/*
 * Fuzz vt_tcb_info_parse (and vt_json_member_span on the same bytes).
 * Invariants: a failure leaves the output zeroed and records its code; a success yields a body
 * that is the exact "tcbInfo" span inside the input, levels strictly descending in QVL's order,
 * statuses and advisory IDs within their sets and caps; cleanup is idempotent.
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

static int level_cmp(const struct vt_tcb_level *a, const struct vt_tcb_level *b)
{
    int c = memcmp(a->sgx_components, b->sgx_components, 16);
    if (c == 0) {
        c = (int)a->pcesvn - (int)b->pcesvn;
    }
    if (c == 0) {
        c = memcmp(a->tdx_components, b->tdx_components, 16);
    }
    return c;
}

static void check_advisories(size_t n, char (*ids)[VT_ADVISORY_ID_MAX])
{
    require(n <= VT_MAX_ADVISORIES);
    require((n == 0) == (ids == NULL));
    for (size_t i = 0; i < n; i++) {
        size_t len = strnlen(ids[i], VT_ADVISORY_ID_MAX);
        require(len > 0 && len < VT_ADVISORY_ID_MAX);
    }
}

static void check_isv_levels(const struct vt_isv_level *l, size_t n)
{
    require(n > 0 && n <= VT_MAX_TCB_LEVELS && l != NULL);
    for (size_t i = 0; i < n; i++) {
        require(l[i].status == VT_TCB_UP_TO_DATE || l[i].status == VT_TCB_OUT_OF_DATE ||
                l[i].status == VT_TCB_REVOKED);
        require(i == 0 || l[i - 1].isvsvn > l[i].isvsvn);
        check_advisories(l[i].n_advisories, l[i].advisory_ids);
    }
}

static void check_ok(const uint8_t *data, size_t size, const struct vt_tcb_info *t)
{
    require(t->version == 2 || t->version == 3);
    require(t->tee == VT_TEE_SGX || (t->tee == VT_TEE_TDX && t->version == 3));
    require(t->tee == VT_TEE_TDX || (!t->has_tdx_module && t->n_module_identities == 0));
    require(t->tee != VT_TEE_TDX || t->has_tdx_module);
    require(t->issue_date <= t->next_update);
    /* The body is the tcbInfo span, inside the input. */
    const uint8_t *span;
    size_t span_len;
    require(vt_json_member_span(data, size, "tcbInfo", &span, &span_len, NULL) == VT_OK);
    require(t->body == span && t->body_len == span_len);
    require(t->body >= data && t->body_len >= 2 && t->body_len <= size &&
            (size_t)(t->body - data) <= size - t->body_len);
    require(t->body[0] == '{' && t->body[t->body_len - 1] == '}');
    require(t->n_levels > 0 && t->n_levels <= VT_MAX_TCB_LEVELS && t->levels != NULL);
    for (size_t i = 0; i < t->n_levels; i++) {
        const struct vt_tcb_level *l = &t->levels[i];
        require(l->status >= VT_TCB_UP_TO_DATE && l->status <= VT_TCB_REVOKED);
        require(i == 0 || level_cmp(&t->levels[i - 1], l) > 0);
        require(t->tee == VT_TEE_TDX || all_zero(l->tdx_components, 16));
        check_advisories(l->n_advisories, l->advisory_ids);
    }
    require(t->n_module_identities <= VT_MAX_MODULE_IDENTITIES);
    require((t->n_module_identities == 0) == (t->module_identities == NULL));
    for (size_t i = 0; i < t->n_module_identities; i++) {
        const struct vt_tdx_module_identity *m = &t->module_identities[i];
        size_t len = strnlen(m->id, sizeof(m->id));
        require(len > 0 && len < sizeof(m->id));
        check_isv_levels(m->levels, m->n_levels);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_tcb_info t;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_tcb_info_parse(data, size, &t, &d);
    if (err == VT_OK) {
        check_ok(data, size, &t);
    } else {
        require(d.code == err);
        require(all_zero(&t, sizeof(t)));
    }
    vt_tcb_info_cleanup(&t);
    require(all_zero(&t, sizeof(t)));
    vt_tcb_info_cleanup(&t);

    /* The scanner alone, on other names. */
    static const char *const keys[] = {"signature", "tcbEvaluationDataNumbers", ""};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const uint8_t *v = NULL;
        size_t len = 0;
        if (vt_json_member_span(data, size, keys[i], &v, &len, NULL) == VT_OK) {
            require(v >= data && len > 0 && len <= size && (size_t)(v - data) <= size - len);
        } else {
            require(v == NULL && len == 0);
        }
    }
    return 0;
}
