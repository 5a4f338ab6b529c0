/*
 * The KMS service's lifecycle (kms.h): it runs on a broker (store, master key, clock, verifier,
 * audit log) and owns only its configuration and the kms schema component.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kms/kms.h"

const struct vt_schema_component *const vt_kms_schema[3] = {&vt_schema_core, &vt_schema_broker,
                                                            &vt_schema_kms};

static void policy_free(void *value)
{
    vt_kms_policy_free(value);
}

enum vt_err vt_kms_open(const struct vt_kms_config *cfg, struct vt_broker *b, struct vt_kms **out,
                        struct vt_diag *d)
{
    *out = NULL;
    VT_ENSURE(b != NULL && b->store != NULL, d, VT_E_ARG, "kms", "the KMS service needs a broker");
    VT_ENSURE(vt_kms_region_ok(cfg->region), d, VT_E_ARG, "kms.region",
              "the region \"%.64s\" is not 1 to %d of a-z, 0-9 and - (e.g. us-east-1)",
              cfg->region ? cfg->region : "", VT_KMS_REGION_MAX);
    VT_ENSURE(vt_kms_account_ok(cfg->account), d, VT_E_ARG, "kms.account",
              "the account id \"%.64s\" is not 12 digits", cfg->account ? cfg->account : "");
    VT_ENSURE(cfg->recipient_max_age >= 0, d, VT_E_ARG, "kms.recipient_max_age",
              "the attestation document age limit is negative");
    const struct vt_schema_component *kms_only[] = {&vt_schema_kms};
    VT_TRY(vt_schema_apply(b->store, kms_only, 1, cfg->schema_mode, NULL, d));
    struct vt_kms *k = calloc(1, sizeof(*k));
    VT_ENSURE(k != NULL, d, VT_E_NOMEM, "kms", "no memory");
    if (vt_pincache_init(&k->policies, VT_KMS_POLICY_CACHE, policy_free) != VT_OK) {
        free(k);
        return vt_fail(d, VT_E_NOMEM, "kms", "no memory");
    }
    k->b = b;
    snprintf(k->region, sizeof(k->region), "%s", cfg->region);
    snprintf(k->account, sizeof(k->account), "%s", cfg->account);
    k->regions[0] = k->region;
    k->regions[1] = NULL;
    k->recipient_max_age =
        cfg->recipient_max_age > 0 ? cfg->recipient_max_age : VT_KMS_RECIPIENT_MAX_AGE;
    *out = k;
    return VT_OK;
}

void vt_kms_close(struct vt_kms *k)
{
    if (k != NULL) {
        vt_pincache_cleanup(&k->policies);
    }
    free(k);
}

vt_time vt_kms_now(const struct vt_kms *k)
{
    return vt_broker_now(k->b);
}
