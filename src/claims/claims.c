/* The claims model and its JSON form. The names are documented in docs/claims.md, generated from
 * the registry (src/claims/claims_list.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <veritee/claims.h>

#include "claims/claims_fill.h"
#include "claims/registry.h"

void vt_claims_init(struct vt_claims *c)
{
    memset(c, 0, sizeof(*c));
    c->collateral.earliest_expiry = INT64_MAX;
    c->collateral.tcb_eval_num = -1;
}

void vt_claims_note_expiry(struct vt_claims *c, vt_time not_after)
{
    if (not_after < c->collateral.earliest_expiry) {
        c->collateral.earliest_expiry = not_after;
    }
}

void vt_claims_add_collateral(struct vt_claims *c, const char *name,
                              const uint8_t sha256[VT_SHA256_LEN], vt_time issue_date,
                              vt_time next_update, int64_t tcb_eval_num)
{
    struct vt_collateral_claims *cc = &c->collateral;
    if (cc->n < VT_COLLATERAL_DOCS_MAX) {
        struct vt_collateral_doc *doc = &cc->docs[cc->n++];
        snprintf(doc->name, sizeof(doc->name), "%s", name);
        memcpy(doc->sha256, sha256, VT_SHA256_LEN);
        doc->issue_date = issue_date;
        doc->next_update = next_update;
        doc->tcb_eval_num = tcb_eval_num;
    }
    vt_claims_note_expiry(c, next_update);
    if (tcb_eval_num >= 0 && (cc->tcb_eval_num < 0 || tcb_eval_num < cc->tcb_eval_num)) {
        cc->tcb_eval_num = tcb_eval_num;
    }
}

/* The JSON form: the registry's claims in its order (src/claims/claims_list.h); the members of
 * "collateral" go into that object, a prefix claim adds one member per name. */
char *vt_claims_to_json(const struct vt_claims *c)
{
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    int rc = 0;
    for (size_t id = 0; id < VT_CLAIM_COUNT; id++) {
        const struct vt_claim_info *ci = vt_claim_info((enum vt_claim_id)id);
        if (strncmp(ci->name, "collateral.", 11) == 0) {
            continue;
        }
        struct vt_claim_value v;
        enum vt_claim_presence p = vt_claim_get(ci, NULL, c, &v);
        if (p == VT_CLAIM_NULL) {
            rc |= json_object_set_new(o, ci->name, json_null());
        } else if (p == VT_CLAIM_PRESENT && vt_claim_is_prefix(ci)) {
            const char *k;
            json_t *m;
            rc |= v.j == NULL;
            json_object_foreach(v.j, k, m)
            {
                rc |= json_object_set(o, k, m);
            }
        } else if (p == VT_CLAIM_PRESENT) {
            rc |= json_object_set_new(o, ci->name, vt_claim_value_json(ci, &v));
        }
        vt_claim_value_cleanup(&v);
    }
    char *s = rc == 0 ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return s;
}
