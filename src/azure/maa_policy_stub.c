/*
 * TEMPORARY, until branch maa-policy (the policy language, src/azure/maa_policy.c) is merged:
 * only the default policy (permit everything, issue nothing) compiles; every other text is refused
 * as unsupported. Deleted by that merge.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "azure/maa.h"

struct vt_maa_policy {
    int unused;
};

enum vt_err vt_maa_policy_compile(const char *text, size_t len, struct vt_maa_policy **out,
                                  struct vt_diag *d)
{
    *out = NULL;
    VT_ENSURE(len <= VT_MAA_POLICY_MAX_SIZE, d, VT_E_TOO_LARGE, "maa.policy",
              "the policy is %zu bytes", len);
    VT_ENSURE(len == strlen(vt_maa_default_policy) && memcmp(text, vt_maa_default_policy, len) == 0,
              d, VT_E_UNSUPPORTED, "maa.policy",
              "this build has no policy language yet: only the default policy is taken");
    *out = calloc(1, sizeof(**out));
    VT_ENSURE(*out != NULL, d, VT_E_NOMEM, "maa.policy", "no memory");
    return VT_OK;
}

void vt_maa_policy_free(struct vt_maa_policy *p)
{
    free(p);
}

enum vt_err vt_maa_policy_eval(const struct vt_maa_policy *p, const json_t *incoming,
                               struct vt_maa_policy_result *r, struct vt_diag *d)
{
    (void)p;
    (void)incoming;
    memset(r, 0, sizeof(*r));
    r->permitted = true;
    r->issued = json_array();
    r->properties = json_object();
    VT_ENSURE(r->issued != NULL && r->properties != NULL, d, VT_E_NOMEM, "maa.policy", "no memory");
    return VT_OK;
}

void vt_maa_policy_result_cleanup(struct vt_maa_policy_result *r)
{
    if (r != NULL) {
        json_decref(r->issued);
        json_decref(r->properties);
        r->issued = NULL;
        r->properties = NULL;
    }
}
