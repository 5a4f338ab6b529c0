/*
 * Shared harness of test_verify_status.c and test_verify_reject.c: runs a synthetic DCAP scenario
 * (tests/support/dcap_sim.h) through the public API only (vt_dcap_collateral_new,
 * vt_dcap_verifier_new, vt_dcap_verify) with the embedded Intel root plus the scenario's root as
 * trust anchors, and asserts the exact outcome: the error code and the stage that reported it, or
 * the verdict (converged, platform, QE and module statuses, advisory IDs in order).
 *
 * Helpers are static inline so that each test file uses what it needs without unused-function
 * warnings. Every failure message carries the case label and the diag (check and detail).
 */
#ifndef VT_TEST_VERIFY_SIM_HARNESS_H
#define VT_TEST_VERIFY_SIM_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <veritee/claims.h>

#include "tee/dcap/dcap.h"

#include "dcap_sim.h"

/* A fixed "now": 2025-06-15T00:00:00Z. */
#define VS_NOW ((vt_time)1749945600)

/* Where a run stopped. VS_ANY in an expectation accepts any stage. */
enum vs_stage {
    VS_ANY = 0,
    VS_COLLATERAL, /* vt_dcap_collateral_new */
    VS_VERIFIER,   /* vt_dcap_verifier_new */
    VS_VERIFY,     /* vt_dcap_verify */
};

static inline const char *vs_stage_name(enum vs_stage s)
{
    switch (s) {
    case VS_ANY:
        return "any";
    case VS_COLLATERAL:
        return "collateral_new";
    case VS_VERIFIER:
        return "verifier_new";
    case VS_VERIFY:
        return "verify";
    }
    return "?";
}

/* Anchors, collateral and verifier of one scenario. */
struct vs_run {
    struct vt_cert_list anchors;
    struct vt_dcap_collateral *coll;
    struct vt_dcap_verifier *v;
    struct vt_diag d;
    enum vs_stage stage; /* the stage of the last call */
};

/* The embedded Intel root plus the certificate root_der (if not NULL). */
static inline void vs_anchors(struct vt_cert_list *l, const struct vt_sim_blob *root_der)
{
    struct vt_diag d;
    vt_diag_init(&d);
    vt_cert_list_init(l);
    assert_int_equal(vt_intel_sgx_root_add(l, &d), VT_OK);
    if (root_der != NULL) {
        struct vt_cert *c = NULL;
        assert_int_equal(vt_cert_from_der(root_der->data, root_der->len, &c, &d), VT_OK);
        assert_int_equal(vt_cert_list_add(l, c), VT_OK);
        vt_cert_free(c);
    }
}

/*
 * Parse the collateral (in, or the scenario's when NULL) and create the verifier. intel_only:
 * anchors = NULL (the embedded Intel root alone). Returns VT_OK or the error, r->stage saying
 * which call failed. Always vs_close afterwards.
 */
static inline enum vt_err vs_open_with(struct vs_run *r, const struct vt_sim_scenario *s,
                                       const struct vt_dcap_collateral_input *in, bool intel_only)
{
    memset(r, 0, sizeof(*r));
    vt_diag_init(&r->d);
    vs_anchors(&r->anchors, &s->root_der);
    struct vt_dcap_collateral_input own;
    if (in == NULL) {
        vt_sim_scenario_collateral(s, &own);
        in = &own;
    }
    r->stage = VS_COLLATERAL;
    enum vt_err err = vt_dcap_collateral_new(in, &r->coll, &r->d);
    if (err != VT_OK) {
        return err;
    }
    r->stage = VS_VERIFIER;
    err = vt_dcap_verifier_new(intel_only ? NULL : &r->anchors, r->coll, &r->v, &r->d);
    if (err != VT_OK) {
        return err;
    }
    r->stage = VS_VERIFY;
    return VT_OK;
}

static inline enum vt_err vs_open(struct vs_run *r, const struct vt_sim_scenario *s)
{
    return vs_open_with(r, s, NULL, false);
}

static inline void vs_close(struct vs_run *r)
{
    vt_dcap_verifier_free(r->v);
    vt_dcap_collateral_free(r->coll);
    vt_cert_list_cleanup(&r->anchors);
    memset(r, 0, sizeof(*r));
}

static inline enum vt_err vs_verify_bytes(struct vs_run *r, const uint8_t *quote, size_t len,
                                          vt_time now, enum vt_time_mode mode,
                                          struct vt_claims *claims)
{
    const struct vt_dcap_opts opts = {.now = now, .time_mode = mode};
    vt_diag_init(&r->d);
    r->stage = VS_VERIFY;
    return vt_dcap_verify(r->v, quote, len, &opts, claims, &r->d);
}

/* The scenario's own quote at time now. */
static inline enum vt_err vs_verify_at(struct vs_run *r, const struct vt_sim_scenario *s,
                                       vt_time now, enum vt_time_mode mode,
                                       struct vt_claims *claims)
{
    return vs_verify_bytes(r, s->quote.data, s->quote.len, now, mode, claims);
}

static inline struct vt_claims *vs_claims_new(void)
{
    struct vt_claims *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    return c;
}

/* "A,B,C": the advisory IDs in order. */
static inline void vs_join_advisories(const struct vt_advisories *a, char *out, size_t cap)
{
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < a->n && off < cap; i++) {
        int w = snprintf(out + off, cap - off, "%s%s", i ? "," : "", a->ids[i]);
        assert_true(w > 0);
        off += (size_t)w;
    }
}

/* An expected verdict. advisories: the IDs in order, comma-joined; "" for none. */
struct vs_verdict {
    enum vt_tcb_status status, platform, qe, module;
    const char *advisories;
};

/* Assert err == VT_OK and that the claims carry exactly the verdict. */
static inline void vs_check_verdict(const char *label, const struct vs_run *r, enum vt_err err,
                                    const struct vt_claims *c, const struct vs_verdict *want)
{
    if (err != VT_OK) {
        fail_msg("%s: expected VT_OK (%s), got %s at %s (%s: %s)", label,
                 vt_tcb_status_name(want->status), vt_err_name(err), vs_stage_name(r->stage),
                 r->d.check, r->d.detail);
    }
    char adv[VT_MAX_ADVISORIES * (VT_ADVISORY_ID_MAX + 1) + 1];
    vs_join_advisories(&c->advisories, adv, sizeof(adv));
    if (c->status != want->status || c->platform_status != want->platform ||
        c->qe_status != want->qe || c->module_status != want->module ||
        strcmp(adv, want->advisories) != 0) {
        fail_msg("%s: expected status %s platform %s qe %s module %s advisories [%s]; got status "
                 "%s platform %s qe %s module %s advisories [%s]",
                 label, vt_tcb_status_name(want->status), vt_tcb_status_name(want->platform),
                 vt_tcb_status_name(want->qe), vt_tcb_status_name(want->module), want->advisories,
                 vt_tcb_status_name(c->status), vt_tcb_status_name(c->platform_status),
                 vt_tcb_status_name(c->qe_status), vt_tcb_status_name(c->module_status), adv);
    }
}

/* Assert a failure with code at stage (VS_ANY: any stage); check (if not NULL) equals d.check. */
static inline void vs_check_error(const char *label, const struct vs_run *r, enum vt_err err,
                                  enum vs_stage stage, enum vt_err code, const char *check)
{
    if (err != code || (stage != VS_ANY && r->stage != stage) ||
        (check != NULL && strcmp(r->d.check, check) != 0)) {
        fail_msg("%s: expected %s at %s%s%s; got %s at %s (%s: %s)", label, vt_err_name(code),
                 vs_stage_name(stage), check ? " check " : "", check ? check : "", vt_err_name(err),
                 vs_stage_name(r->stage), r->d.check, r->d.detail);
    }
    if (err != VT_OK && r->d.code != err) {
        fail_msg("%s: diag code %s differs from the returned %s", label, vt_err_name(r->d.code),
                 vt_err_name(err));
    }
}

/* The outcome of vs_run_once: the error, the stage and the diag; the claims on success. */
struct vs_outcome {
    enum vt_err err;
    struct vs_run r; /* stage and d only; nothing to close */
    struct vt_claims claims;
};

/* Open, verify the scenario's quote at s->now (strict) and close again: nothing is left to free
 * when an assertion on the outcome fails. */
static inline void vs_run_once(const struct vt_sim_scenario *s, struct vs_outcome *out)
{
    struct vs_run r;
    memset(out, 0, sizeof(*out));
    out->err = vs_open(&r, s);
    if (out->err == VT_OK) {
        out->err = vs_verify_at(&r, s, s->now, VT_TIME_STRICT, &out->claims);
    }
    out->r.d = r.d;
    out->r.stage = r.stage;
    vs_close(&r);
}

/* Open, verify the scenario's quote at s->now (strict) and compare with the verdict. */
static inline void vs_expect_verdict(const char *label, const struct vt_sim_scenario *s,
                                     enum vt_tcb_status status, enum vt_tcb_status platform,
                                     enum vt_tcb_status qe, enum vt_tcb_status module,
                                     const char *advisories)
{
    const struct vs_verdict want = {status, platform, qe, module, advisories};
    struct vs_outcome o;
    vs_run_once(s, &o);
    vs_check_verdict(label, &o.r, o.err, &o.claims, &want);
}

/* Open, verify the scenario's quote at s->now (strict) and expect code at stage. */
static inline void vs_expect_error(const char *label, const struct vt_sim_scenario *s,
                                   enum vs_stage stage, enum vt_err code, const char *check)
{
    struct vs_outcome o;
    vs_run_once(s, &o);
    vs_check_error(label, &o.r, o.err, stage, code, check);
}

/* ---- scenario editing ---- */

static inline void vs_init(struct vt_sim_scenario *s, enum vt_tee tee, uint16_t version)
{
    vt_sim_scenario_init(s, tee, version, VS_NOW);
}

static inline void vs_build(struct vt_sim_scenario *s)
{
    assert_true(vt_sim_scenario_build(s));
}

/* Re-sign the TCB info and QE identity from their descriptions with the scenario's TCB signer
 * (the PKI is kept). */
static inline void vs_redo_docs(struct vt_sim_scenario *s)
{
    EVP_PKEY *key = s->pki->key[VT_SIM_CERT_TCB_SIGNER];
    vt_sim_blob_cleanup(&s->tcb_info_json);
    vt_sim_blob_cleanup(&s->qe_identity_json);
    assert_true(vt_sim_tcb_info_json(&s->tcb_info, key, &s->tcb_info_json));
    assert_true(vt_sim_qe_identity_json(&s->qe_identity, key, &s->qe_identity_json));
}

/* Rebuild the quote from quote_params with the scenario's PKI. */
static inline void vs_redo_quote(struct vt_sim_scenario *s)
{
    vt_sim_quote_cleanup(&s->quote);
    assert_true(vt_sim_quote_build(s->pki, &s->quote_params, &s->quote));
}

/* Replace an artefact blob with a copy of n bytes of p. */
static inline void vs_blob_set(struct vt_sim_blob *b, const void *p, size_t n)
{
    vt_sim_blob_cleanup(b);
    b->data = malloc(n + 1);
    assert_non_null(b->data);
    memcpy(b->data, p, n);
    b->data[n] = 0;
    b->len = n;
}

/* The scenario's descriptions, saved to restore between cases. */
struct vs_desc {
    struct vt_sim_tcb_info tcb_info;
    struct vt_sim_qe_identity qe_identity;
    struct vt_sim_quote_params quote_params;
};

static inline void vs_save(const struct vt_sim_scenario *s, struct vs_desc *out)
{
    out->tcb_info = s->tcb_info;
    out->qe_identity = s->qe_identity;
    out->quote_params = s->quote_params;
}

/* Restore the descriptions saved by vs_save (vs_redo then rebuilds the artefacts). */
static inline void vs_restore(struct vt_sim_scenario *s, const struct vs_desc *in)
{
    s->tcb_info = in->tcb_info;
    s->qe_identity = in->qe_identity;
    s->quote_params = in->quote_params;
}

/* Rebuild the documents and the quote from the descriptions (same PKI). */
static inline void vs_redo(struct vt_sim_scenario *s)
{
    vs_redo_docs(s);
    vs_redo_quote(s);
}

/* The seven TCB level statuses with Intel's spellings. */
struct vs_status_name {
    enum vt_tcb_status status;
    const char *name;
};
static const struct vs_status_name vs_level_statuses[7] = {
    {VT_TCB_UP_TO_DATE, "UpToDate"},
    {VT_TCB_SW_HARDENING_NEEDED, "SWHardeningNeeded"},
    {VT_TCB_CONFIGURATION_NEEDED, "ConfigurationNeeded"},
    {VT_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED, "ConfigurationAndSWHardeningNeeded"},
    {VT_TCB_OUT_OF_DATE, "OutOfDate"},
    {VT_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED, "OutOfDateConfigurationNeeded"},
    {VT_TCB_REVOKED, "Revoked"},
};

#endif
