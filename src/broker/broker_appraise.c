/*
 * Appraisal of evidence for the broker: one thread-safe verifier (include/veritee/verifier.h)
 * shared by every request, with collateral from the configured source (a PCS/KDS-shaped URL, a
 * directory in the layout of docs/verify.md "Collateral directory", or the in-process cache of
 * `veritee serve`) kept for collateral_ttl seconds of the broker's clock.
 */
#include <string.h>

#include "broker/broker.h"
#include "cache/cache.h"
#include "collateral/collateral.h"

static vt_time broker_clock(void *ctx)
{
    return vt_broker_now(ctx);
}

enum vt_err vt_broker_appraise_init(struct vt_broker *b, const char *const *trust_anchors,
                                    struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    if (b->cfg.collateral != NULL) {
        err = vt_collateral_source_open(b->cfg.collateral, &b->source, d);
    } else if (b->cfg.cache != NULL) {
        err = vt_collateral_source_fn(vt_cache_collateral_get, b->cfg.cache, &b->source, d);
    }
    struct vt_cert_list extra;
    vt_cert_list_init(&extra);
    for (size_t i = 0; err == VT_OK && trust_anchors && trust_anchors[i]; i++) {
        err = vt_cert_list_from_file(trust_anchors[i], &extra, d);
    }
    if (err == VT_OK) {
        struct vt_verifier_config cfg = {
            .trust_anchors = &extra,
            .collateral = b->source,
            .time_mode = VT_TIME_STRICT,
            .collateral_ttl = b->cfg.collateral_ttl,
            .clock = broker_clock,
            .clock_ctx = b,
        };
        err = vt_verifier_new(&cfg, &b->verifier, d);
    }
    vt_cert_list_cleanup(&extra);
    return err;
}

void vt_broker_appraise_cleanup(struct vt_broker *b)
{
    vt_verifier_free(b->verifier);
    b->verifier = NULL;
    vt_collateral_source_free(b->source);
    b->source = NULL;
}

enum vt_err vt_broker_appraise(struct vt_broker *b, const struct vt_evidence *ev,
                               const uint8_t *vek, size_t vek_len, vt_time now,
                               struct vt_claims *claims, struct vt_diag *d)
{
    vt_claims_init(claims);
    VT_ENSURE(b->verifier != NULL, d, VT_E_ARG, "broker", "the broker has no verifier");
    struct vt_verify_opts o = {.now = now, .vek = vek, .vek_len = vek != NULL ? vek_len : 0};
    return vt_verify_evidence(b->verifier, ev, &o, claims, d);
}

enum vt_err vt_broker_evidence_parse(const uint8_t *ev, size_t n, struct vt_evidence *e,
                                     struct vt_diag *d)
{
    return vt_evidence_parse(ev, n, e, d);
}
