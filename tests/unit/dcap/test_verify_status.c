/*
 * DCAP verification verdicts on synthetic evidence (tests/support/dcap_sim.h): every TCB level
 * status for SGX and TDX, QVL's level selection (sorted order, component-wise comparison, PCESVN,
 * the TDX start index), QE identity and TDX module status convergence, the TD relaunch rule,
 * advisory IDs, and the verifier's PCK cache across failures and platforms.
 * Expectations follow shared/spec/dcap.md sections 4.3 and 4.4 and docs/verify.md; a success is
 * asserted with its exact converged, platform, QE and module statuses and advisory IDs.
 */
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "verify_sim_harness.h"

#define UTD VT_TCB_UP_TO_DATE
#define SWH VT_TCB_SW_HARDENING_NEEDED
#define CFG VT_TCB_CONFIGURATION_NEEDED
#define CSW VT_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED
#define OOD VT_TCB_OUT_OF_DATE
#define OCF VT_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED
#define REV VT_TCB_REVOKED
#define TRA VT_TCB_TD_RELAUNCH_ADVISED
#define TRC VT_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED
#define NONE VT_TCB_NONE

/* The advisories of the scenario's lower TCB level and lower QE level. */
#define LOW_ADV "INTEL-SA-00001,INTEL-SA-00002"
#define QE_LOW_ADV "INTEL-SA-00003"

/* SPEC: dcap.md 4.3/4.4: an OutOfDate QE or TDX module identity turns the platform status into
 * this (indexed like vs_level_statuses); Revoked stays Revoked. */
static const enum vt_tcb_status converged_with_out_of_date[7] = {OOD, OOD, OCF, OCF, OOD, OCF, REV};

struct tee_case {
    enum vt_tee tee;
    uint16_t version;
};

static const struct tee_case all_cases[] = {
    {VT_TEE_SGX, 3}, {VT_TEE_SGX, 4}, {VT_TEE_SGX, 5}, {VT_TEE_TDX, 4}, {VT_TEE_TDX, 5},
};
static const struct tee_case main_cases[] = {{VT_TEE_SGX, 3}, {VT_TEE_TDX, 4}, {VT_TEE_TDX, 5}};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* The module status of an unmodified scenario: TDX_01 level UpToDate for TDX, none for SGX. */
static enum vt_tcb_status default_module(enum vt_tee tee)
{
    return tee == VT_TEE_TDX ? UTD : NONE;
}

static void label_of(char *out, size_t cap, const struct tee_case *tc, const char *what)
{
    snprintf(out, cap, "%s v%u: %s", tc->tee == VT_TEE_TDX ? "TDX" : "SGX", tc->version, what);
}

/* ---- defaults ---- */

static void test_default_scenarios_up_to_date(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(all_cases); i++) {
        const struct tee_case *tc = &all_cases[i];
        struct vt_sim_scenario s;
        vs_init(&s, tc->tee, tc->version);
        vs_build(&s);
        bool tdx = tc->tee == VT_TEE_TDX;
        char label[96];
        label_of(label, sizeof(label), tc, "default scenario");

        struct vs_run r;
        struct vt_claims *c = vs_claims_new();
        enum vt_err err = vs_open(&r, &s);
        if (err == VT_OK) {
            err = vs_verify_at(&r, &s, VS_NOW, VT_TIME_STRICT, c);
        }
        const struct vs_verdict want = {UTD, UTD, UTD, default_module(tc->tee), ""};
        vs_check_verdict(label, &r, err, c, &want);
        /* The facts the verdict was taken from. */
        assert_int_equal(c->tee, tc->tee);
        assert_int_equal(c->verified_at, VS_NOW);
        assert_int_equal(c->dcap.quote_version, tc->version);
        assert_int_equal(c->dcap.body_type, !tdx               ? VT_DCAP_BODY_SGX
                                            : tc->version == 5 ? VT_DCAP_BODY_TD15
                                                               : VT_DCAP_BODY_TD10);
        assert_memory_equal(c->dcap.fmspc, s.pki_params.pck.fmspc, 6);
        assert_memory_equal(c->dcap.sgx_tcb_components, s.pki_params.pck.tcb_comps, 16);
        assert_int_equal(c->dcap.pcesvn, s.pki_params.pck.pcesvn);
        assert_memory_equal(c->dcap.ppid, s.pki_params.pck.ppid, 16);
        assert_string_equal(c->dcap.pck_ca, tdx ? "platform" : "processor");
        assert_int_equal(c->dcap.tcb_date, s.tcb_info.levels[0].tcb_date);
        assert_int_equal(c->dcap.qe_tcb_date, s.qe_identity.levels[0].tcb_date);
        assert_int_equal(c->dcap.qe_isv_svn, s.quote_params.qe.isv_svn);
        assert_string_equal(c->dcap.tdx_module_identity, tdx ? "TDX_01" : "");
        if (tdx) {
            assert_memory_equal(c->tdx.mrtd, s.quote_params.td.mrtd, 48);
            assert_memory_equal(c->report_data, s.quote_params.td.report_data, 64);
            assert_int_equal(c->tdx.has_tee_tcb_svn2, tc->version == 5);
        } else {
            assert_memory_equal(c->sgx.mrenclave, s.quote_params.sgx.mrenclave, 32);
            assert_memory_equal(c->report_data, s.quote_params.sgx.report_data, 64);
        }
        /* Every document is listed; the earliest expiry is the PCK CRL's nextUpdate. */
        assert_int_equal(c->collateral.n, 4);
        assert_int_equal(c->collateral.earliest_expiry, s.pki_params.pck_crl.next_update);
        vs_close(&r);
        free(c);
        vt_sim_scenario_cleanup(&s);
    }
}

/* ---- 1. TCB level statuses and level selection ---- */

/* Each status on the platform's own level: a verdict, never an error (Revoked included). */
static void test_level_statuses(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(main_cases); k++) {
        const struct tee_case *tc = &main_cases[k];
        struct vt_sim_scenario s;
        vs_init(&s, tc->tee, tc->version);
        vs_build(&s);
        for (size_t i = 0; i < N_ELEMS(vs_level_statuses); i++) {
            s.tcb_info.levels[0].status = vs_level_statuses[i].name;
            vs_redo_docs(&s);
            char label[96];
            label_of(label, sizeof(label), tc, vs_level_statuses[i].name);
            enum vt_tcb_status st = vs_level_statuses[i].status;
            vs_expect_verdict(label, &s, st, st, UTD, default_module(tc->tee), "");
        }
        vt_sim_scenario_cleanup(&s);
    }
}

/* SPEC: dcap.md 4.3: QVL sorts the levels (SGX components lexicographically, then PCESVN, then
 * TDX components) and takes the first match in that order, whatever the JSON order. */
static void test_level_selection_order(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(main_cases); k++) {
        const struct tee_case *tc = &main_cases[k];
        char label[96];
        struct vt_sim_scenario s;
        struct vs_desc base;
        vs_init(&s, tc->tee, tc->version);
        vs_build(&s);
        vs_save(&s, &base);
        const uint8_t *p = s.pki_params.pck.tcb_comps;
        enum vt_tcb_status mod = default_module(tc->tee);

        /* The lower level listed first. */
        struct vt_sim_tcb_level tmp = s.tcb_info.levels[0];
        s.tcb_info.levels[0] = s.tcb_info.levels[1];
        s.tcb_info.levels[1] = tmp;
        vs_redo_docs(&s);
        label_of(label, sizeof(label), tc, "levels in ascending JSON order");
        vs_expect_verdict(label, &s, UTD, UTD, UTD, mod, "");

        /* Two matching levels that do not dominate each other: A = platform with component 02
         * one lower, B = platform with component 01 one lower. A sorts first (its component
         * 01 is higher), in both JSON orders. */
        for (int order = 0; order < 2; order++) {
            vs_restore(&s, &base);
            struct vt_sim_tcb_level *a = &s.tcb_info.levels[order], *b = &s.tcb_info.levels[!order];
            *a = base.tcb_info.levels[0];
            *b = base.tcb_info.levels[0];
            a->sgx_comps[1] = (uint8_t)(p[1] - 1);
            a->status = "ConfigurationNeeded";
            b->sgx_comps[0] = (uint8_t)(p[0] - 1);
            b->status = "SWHardeningNeeded";
            vs_redo(&s);
            label_of(label, sizeof(label), tc,
                     order ? "lexicographic order, B listed first" : "lexicographic order");
            vs_expect_verdict(label, &s, CFG, CFG, UTD, mod, "");
        }

        /* Same components, PCESVN decides the order: the higher PCESVN first. */
        vs_restore(&s, &base);
        s.tcb_info.levels[1] = base.tcb_info.levels[0];
        s.tcb_info.levels[0].pcesvn = (uint16_t)(s.pki_params.pck.pcesvn - 1);
        s.tcb_info.levels[0].status = "OutOfDate";
        s.tcb_info.levels[1].status = "SWHardeningNeeded";
        vs_redo(&s);
        label_of(label, sizeof(label), tc, "PCESVN order, lower listed first");
        vs_expect_verdict(label, &s, SWH, SWH, UTD, mod, "");

        if (tc->tee == VT_TEE_TDX) {
            /* Same SGX components and PCESVN: the TDX components decide the order. */
            vs_restore(&s, &base);
            s.tcb_info.levels[0] = base.tcb_info.levels[1];
            s.tcb_info.levels[1] = base.tcb_info.levels[0];
            memcpy(s.tcb_info.levels[0].sgx_comps, p, 16);
            s.tcb_info.levels[1].status = "ConfigurationNeeded";
            vs_redo(&s);
            label_of(label, sizeof(label), tc, "TDX component order, lower listed first");
            vs_expect_verdict(label, &s, CFG, CFG, UTD, mod, "");

            /* The platform status is the TDX level's: the SGX test passes on the top level,
             * the TDX test only on the lower one. */
            vs_restore(&s, &base);
            s.tcb_info.levels[0].status = "SWHardeningNeeded";
            s.quote_params.td.tee_tcb_svn[2] = 6;
            vs_redo(&s);
            label_of(label, sizeof(label), tc, "TDX level status, not the SGX level's");
            vs_expect_verdict(label, &s, OOD, OOD, UTD, mod, LOW_ADV);
        }
        vt_sim_scenario_cleanup(&s);
    }
}

/* SPEC: dcap.md 4.3 and pitfall 5: every component >= (component-wise), never lexicographic. */
static void test_level_componentwise(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(main_cases); k++) {
        const struct tee_case *tc = &main_cases[k];
        char label[96];
        struct vt_sim_scenario s;
        struct vs_desc base;
        vs_init(&s, tc->tee, tc->version);
        vs_build(&s);
        vs_save(&s, &base);
        const uint8_t *p = s.pki_params.pck.tcb_comps;
        enum vt_tcb_status mod = default_module(tc->tee);

        /* Top level: component 01 one lower, 02 one higher than the platform's. Lexicographically
         * the platform is above it; component-wise it does not reach it. */
        s.tcb_info.levels[0].sgx_comps[0] = (uint8_t)(p[0] - 1);
        s.tcb_info.levels[0].sgx_comps[1] = (uint8_t)(p[1] + 1);
        vs_redo_docs(&s);
        label_of(label, sizeof(label), tc, "SGX higher in 01, lower in 02");
        vs_expect_verdict(label, &s, OOD, OOD, UTD, mod, LOW_ADV);

        /* Top level: only the last component above the platform's. */
        vs_restore(&s, &base);
        s.tcb_info.levels[0].sgx_comps[15] = (uint8_t)(p[15] + 1);
        vs_redo(&s);
        label_of(label, sizeof(label), tc, "SGX component 16 above the platform");
        vs_expect_verdict(label, &s, OOD, OOD, UTD, mod, LOW_ADV);

        if (tc->tee == VT_TEE_TDX) {
            /* TEE_TCB_SVN {5,1,7,0..}: the top level one lower at [2] and one higher at [3]. */
            vs_restore(&s, &base);
            s.tcb_info.levels[0].tdx_comps[2] = 6;
            s.tcb_info.levels[0].tdx_comps[3] = 1;
            vs_redo(&s);
            label_of(label, sizeof(label), tc, "TDX higher in [2], lower in [3]");
            vs_expect_verdict(label, &s, OOD, OOD, UTD, mod, LOW_ADV);

            /* Only the last TDX component above the quote's. */
            vs_restore(&s, &base);
            s.tcb_info.levels[0].tdx_comps[15] = 1;
            vs_redo(&s);
            label_of(label, sizeof(label), tc, "TDX component [15] above the quote's");
            vs_expect_verdict(label, &s, OOD, OOD, UTD, mod, LOW_ADV);
        }
        vt_sim_scenario_cleanup(&s);
    }
}

/* A PCESVN below the top level's falls through to the next level. */
static void test_level_pcesvn_below(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(main_cases); k++) {
        const struct tee_case *tc = &main_cases[k];
        char label[96];
        struct vt_sim_scenario s;
        vs_init(&s, tc->tee, tc->version);
        s.tcb_info.levels[0].pcesvn = (uint16_t)(s.pki_params.pck.pcesvn + 1);
        vs_build(&s);
        label_of(label, sizeof(label), tc, "PCESVN below the top level");
        vs_expect_verdict(label, &s, OOD, OOD, UTD, default_module(tc->tee), LOW_ADV);
        vt_sim_scenario_cleanup(&s);
    }
}

/* No level matches: VT_E_TCB_NOT_SUPPORTED, a verification failure as in QVL. */
static void test_level_none(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(main_cases); k++) {
        const struct tee_case *tc = &main_cases[k];
        char label[96];
        struct vt_sim_scenario s;
        struct vs_desc base;
        vs_init(&s, tc->tee, tc->version);
        vs_build(&s);
        vs_save(&s, &base);

        /* Every level needs a higher component 03. */
        for (size_t i = 0; i < s.tcb_info.n_levels; i++) {
            s.tcb_info.levels[i].sgx_comps[2] = (uint8_t)(s.pki_params.pck.tcb_comps[2] + 1);
        }
        vs_redo_docs(&s);
        label_of(label, sizeof(label), tc, "no SGX level by components");
        vs_expect_error(label, &s, VS_VERIFY, VT_E_TCB_NOT_SUPPORTED, "tcb_info.tcbLevels");

        /* Every level needs a higher PCESVN. */
        vs_restore(&s, &base);
        for (size_t i = 0; i < s.tcb_info.n_levels; i++) {
            s.tcb_info.levels[i].pcesvn = (uint16_t)(s.pki_params.pck.pcesvn + 1);
        }
        vs_redo(&s);
        label_of(label, sizeof(label), tc, "no SGX level by PCESVN");
        vs_expect_error(label, &s, VS_VERIFY, VT_E_TCB_NOT_SUPPORTED, "tcb_info.tcbLevels");

        if (tc->tee == VT_TEE_TDX) {
            /* The SGX test passes, no TDX level: TEE_TCB_SVN[2] = 5 is below 7 and 6. */
            vs_restore(&s, &base);
            s.quote_params.td.tee_tcb_svn[2] = 5;
            vs_redo(&s);
            label_of(label, sizeof(label), tc, "no TDX level");
            vs_expect_error(label, &s, VS_VERIFY, VT_E_TCB_NOT_SUPPORTED, "tcb_info.tcbLevels");
        }
        vt_sim_scenario_cleanup(&s);
    }
}

/* SPEC: dcap.md 4.3: TDX components compared from index 2 when TEE_TCB_SVN[1] > 0 (the module
 * is judged by its identity), from 0 when TEE_TCB_SVN[1] == 0 (then tdxModule applies and there
 * is no module status). */
static void test_tdx_start_index(void **state)
{
    (void)state;
    for (uint16_t version = 4; version <= 5; version++) {
        const struct tee_case tcase = {VT_TEE_TDX, version};
        const struct tee_case *tc = &tcase;
        char label[96];
        struct vt_sim_scenario s;
        struct vs_desc base;
        vs_init(&s, VT_TEE_TDX, version);
        vs_build(&s);
        vs_save(&s, &base);

        /* [1] > 0: indices 0 and 1 of the level are ignored, even far above the quote's. */
        s.tcb_info.levels[0].tdx_comps[0] = 9;
        s.tcb_info.levels[0].tdx_comps[1] = 9;
        vs_redo_docs(&s);
        label_of(label, sizeof(label), tc, "TEE_TCB_SVN[1]>0 ignores level [0],[1]");
        vs_expect_verdict(label, &s, UTD, UTD, UTD, UTD, "");

        /* [1] == 0: tdxModule (here with its own MRSIGNER, unlike the module identities) and
         * every index; no module status, no module identity. */
        static const uint8_t svn0[16] = {5, 0, 7};
        vs_restore(&s, &base);
        memcpy(s.quote_params.td.tee_tcb_svn, svn0, 16);
        memcpy(s.quote_params.td.tee_tcb_svn2, svn0, 16);
        memset(s.quote_params.td.mrsignerseam, 0x5A, 48);
        memset(s.tcb_info.tdx_module_mrsigner, 0x5A, 48);
        struct vs_desc unversioned;
        vs_save(&s, &unversioned);
        vs_redo(&s);
        label_of(label, sizeof(label), tc, "TEE_TCB_SVN[1]==0 uses tdxModule");
        {
            struct vs_run r;
            struct vt_claims *c = vs_claims_new();
            enum vt_err err = vs_open(&r, &s);
            if (err == VT_OK) {
                err = vs_verify_at(&r, &s, VS_NOW, VT_TIME_STRICT, c);
            }
            const struct vs_verdict want = {UTD, UTD, UTD, NONE, ""};
            vs_check_verdict(label, &r, err, c, &want);
            assert_string_equal(c->dcap.tdx_module_identity, "");
            vs_close(&r);
            free(c);
        }

        /* [1] == 0 and the top level's [0] above the quote's: the lower level. */
        s.tcb_info.levels[0].tdx_comps[0] = 6;
        vs_redo_docs(&s);
        label_of(label, sizeof(label), tc, "TEE_TCB_SVN[1]==0 compares [0]");
        vs_expect_verdict(label, &s, OOD, OOD, UTD, NONE, LOW_ADV);

        /* [1] == 0 and the top level's [1] above the quote's 0. */
        vs_restore(&s, &unversioned);
        s.tcb_info.levels[0].tdx_comps[1] = 1;
        vs_redo(&s);
        label_of(label, sizeof(label), tc, "TEE_TCB_SVN[1]==0 compares [1]");
        vs_expect_verdict(label, &s, OOD, OOD, UTD, NONE, LOW_ADV);
        vt_sim_scenario_cleanup(&s);
    }
}

/* ---- 2. QE identity status ---- */

/* SPEC: dcap.md 4.4: QE OutOfDate converges the platform status. */
static void test_qe_out_of_date_converges(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(main_cases); k++) {
        const struct tee_case *tc = &main_cases[k];
        struct vt_sim_scenario s;
        vs_init(&s, tc->tee, tc->version);
        /* Between the QE levels: the lower (OutOfDate) level applies. */
        s.quote_params.qe.isv_svn = (uint16_t)(s.quote_params.qe.isv_svn - 1);
        vs_build(&s);
        for (size_t i = 0; i < N_ELEMS(vs_level_statuses); i++) {
            s.tcb_info.levels[0].status = vs_level_statuses[i].name;
            vs_redo_docs(&s);
            char label[96];
            label_of(label, sizeof(label), tc, vs_level_statuses[i].name);
            size_t used = strlen(label);
            snprintf(label + used, sizeof(label) - used, " with QE OutOfDate");
            vs_expect_verdict(label, &s, converged_with_out_of_date[i], vs_level_statuses[i].status,
                              OOD, default_module(tc->tee), QE_LOW_ADV);
        }
        vt_sim_scenario_cleanup(&s);
    }
}

static void test_qe_revoked(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(main_cases); k++) {
        const struct tee_case *tc = &main_cases[k];
        char label[96];
        struct vt_sim_scenario s;
        vs_init(&s, tc->tee, tc->version);
        s.qe_identity.levels[0].status = "Revoked";
        vs_build(&s);
        label_of(label, sizeof(label), tc, "QE Revoked");
        vs_expect_verdict(label, &s, REV, UTD, REV, default_module(tc->tee), "");

        /* Revoked wins over an OutOfDate platform too. */
        s.tcb_info.levels[0].pcesvn = (uint16_t)(s.pki_params.pck.pcesvn + 1);
        vs_redo_docs(&s);
        label_of(label, sizeof(label), tc, "QE Revoked, platform OutOfDate");
        vs_expect_verdict(label, &s, REV, OOD, REV, default_module(tc->tee), LOW_ADV);
        vt_sim_scenario_cleanup(&s);
    }
}

/* SPEC: dcap.md 4.2 step 10: first level with isvsvn <= the QE's ISVSVN in descending order
 * (QVL relies on PCS order; veritee sorts): JSON order must not matter. */
static void test_qe_level_order(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(main_cases); k++) {
        const struct tee_case *tc = &main_cases[k];
        char label[96];
        struct vt_sim_scenario s;
        vs_init(&s, tc->tee, tc->version);
        struct vt_sim_isv_level tmp = s.qe_identity.levels[0];
        s.qe_identity.levels[0] = s.qe_identity.levels[1];
        s.qe_identity.levels[1] = tmp;
        vs_build(&s);
        label_of(label, sizeof(label), tc, "QE levels ascending in JSON");
        vs_expect_verdict(label, &s, UTD, UTD, UTD, default_module(tc->tee), "");

        s.quote_params.qe.isv_svn = (uint16_t)(s.quote_params.qe.isv_svn - 1);
        vs_redo_quote(&s);
        label_of(label, sizeof(label), tc, "QE levels ascending in JSON, QE between them");
        vs_expect_verdict(label, &s, OOD, UTD, OOD, default_module(tc->tee), QE_LOW_ADV);
        vt_sim_scenario_cleanup(&s);
    }
}

static void test_qe_below_all_levels(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(main_cases); k++) {
        const struct tee_case *tc = &main_cases[k];
        char label[96];
        struct vt_sim_scenario s;
        vs_init(&s, tc->tee, tc->version);
        s.quote_params.qe.isv_svn = (uint16_t)(s.qe_identity.levels[1].isvsvn - 1);
        vs_build(&s);
        label_of(label, sizeof(label), tc, "QE ISVSVN below every level");
        vs_expect_error(label, &s, VS_VERIFY, VT_E_TCB_NOT_SUPPORTED, "qe_identity.tcbLevels");
        vt_sim_scenario_cleanup(&s);
    }
}

/* ---- 3. TDX module status ---- */

/* SPEC: dcap.md 4.3: module OutOfDate converges as the QE status does. */
static void test_module_out_of_date_converges(void **state)
{
    (void)state;
    for (uint16_t version = 4; version <= 5; version++) {
        const struct tee_case tc = {VT_TEE_TDX, version};
        struct vt_sim_scenario s;
        vs_init(&s, VT_TEE_TDX, version);
        /* TDX module SVN 3: TDX_01's level isvsvn 2 (OutOfDate), given an advisory. */
        s.quote_params.td.tee_tcb_svn[0] = 3;
        s.quote_params.td.tee_tcb_svn2[0] = 3;
        struct vt_sim_isv_level *ml = &s.tcb_info.module_identities[1].levels[1];
        ml->n_advisories = 1;
        ml->advisories[0] = "INTEL-SA-00200";
        vs_build(&s);
        for (size_t i = 0; i < N_ELEMS(vs_level_statuses); i++) {
            s.tcb_info.levels[0].status = vs_level_statuses[i].name;
            vs_redo_docs(&s);
            char label[96];
            label_of(label, sizeof(label), &tc, vs_level_statuses[i].name);
            size_t used = strlen(label);
            snprintf(label + used, sizeof(label) - used, " with module OutOfDate");
            vs_expect_verdict(label, &s, converged_with_out_of_date[i], vs_level_statuses[i].status,
                              UTD, OOD, "INTEL-SA-00200");
        }
        vt_sim_scenario_cleanup(&s);
    }
}

static void test_module_revoked(void **state)
{
    (void)state;
    for (uint16_t version = 4; version <= 5; version++) {
        const struct tee_case tc = {VT_TEE_TDX, version};
        char label[96];
        struct vt_sim_scenario s;
        vs_init(&s, VT_TEE_TDX, version);
        s.tcb_info.module_identities[1].levels[0].status = "Revoked";
        vs_build(&s);
        label_of(label, sizeof(label), &tc, "module Revoked");
        vs_expect_verdict(label, &s, REV, UTD, UTD, REV, "");
        vt_sim_scenario_cleanup(&s);
    }
}

/* Module levels in ascending JSON order; the identity id in other letter case (QVL compares
 * "TDX_%02X" case-insensitively). */
static void test_module_level_order_and_id_case(void **state)
{
    (void)state;
    const struct tee_case tc = {VT_TEE_TDX, 5};
    char label[96];
    struct vt_sim_scenario s;
    struct vs_desc base;
    vs_init(&s, VT_TEE_TDX, 5);
    vs_build(&s);
    vs_save(&s, &base);

    struct vt_sim_module_identity *m1 = &s.tcb_info.module_identities[1];
    struct vt_sim_isv_level tmp = m1->levels[0];
    m1->levels[0] = m1->levels[1];
    m1->levels[1] = tmp;
    vs_redo_docs(&s);
    label_of(label, sizeof(label), &tc, "module levels ascending in JSON");
    vs_expect_verdict(label, &s, UTD, UTD, UTD, UTD, "");
    /* The TD runs the module it was launched on (TEE_TCB_SVN_2 = TEE_TCB_SVN): no relaunch. */
    s.quote_params.td.tee_tcb_svn[0] = 3;
    s.quote_params.td.tee_tcb_svn2[0] = 3;
    vs_redo_quote(&s);
    label_of(label, sizeof(label), &tc, "module levels ascending in JSON, SVN between them");
    vs_expect_verdict(label, &s, OOD, UTD, UTD, OOD, "");

    /* TEE_TCB_SVN[1] = 0x0A needs "TDX_0A"; the TCB info spells it "tdx_0a". */
    vs_restore(&s, &base);
    s.tcb_info.module_identities[0].id = "tdx_0a";
    s.tcb_info.module_identities[0].levels[0].isvsvn = 5;
    s.quote_params.td.tee_tcb_svn[1] = 0x0A;
    s.quote_params.td.tee_tcb_svn2[1] = 0x0A;
    vs_redo(&s);
    label_of(label, sizeof(label), &tc, "module identity id in lower case");
    {
        struct vs_run r;
        struct vt_claims *c = vs_claims_new();
        enum vt_err err = vs_open(&r, &s);
        if (err == VT_OK) {
            err = vs_verify_at(&r, &s, VS_NOW, VT_TIME_STRICT, c);
        }
        const struct vs_verdict want = {UTD, UTD, UTD, UTD, ""};
        vs_check_verdict(label, &r, err, c, &want);
        assert_string_equal(c->dcap.tdx_module_identity, "tdx_0a");
        vs_close(&r);
        free(c);
    }
    vt_sim_scenario_cleanup(&s);
}

/* ---- 4. TD relaunch (v5 body type 3 only) ---- */

/* The recipe: the TDX level (levels[1], OutOfDate) is chosen only because TEE_TCB_SVN[2] is below
 * the top level's (levels[0], also the SGX level); the module is OutOfDate (TEE_TCB_SVN[0] 5 is
 * below TDX_01's top isvsvn 6, so its level isvsvn 2 applies), and TEE_TCB_SVN_2 reaches both
 * tops (the TD now runs an up-to-date module). */
static void relaunch_init(struct vt_sim_scenario *s, uint16_t version)
{
    vs_init(s, VT_TEE_TDX, version);
    s->tcb_info.levels[0].tdx_comps[2] = 8;
    s->quote_params.td.tee_tcb_svn2[2] = 8;
    s->tcb_info.module_identities[1].levels[0].isvsvn = 6;
    s->quote_params.td.tee_tcb_svn2[0] = 6;
}

static bool config_needed(enum vt_tcb_status st)
{
    return st == CFG || st == CSW || st == OCF || st == TRC;
}

/*
 * The status Intel's QVL gives a TD 1.5 quote, step by step as TcbLevelCheck.cpp checkTcbLevel
 * computes it (DCAP 1.21), written from QVL's sources independently of src/tee/dcap/verify.c:
 *   1. convergeTcbStatusWithTdxModuleStatus(TDX level status, module status);
 *   2. a Revoked result is returned as is;
 *   3. checkForRelaunch(TEE_TCB_SVN_2, SGX level status, the status of step 1, module status,
 *      QE status);
 *   4. convergeTcbStatusWithQeTcbStatus(the status of step 3, QE status).
 */
static enum vt_tcb_status qvl_td15_status(enum vt_tcb_status sgx, enum vt_tcb_status tdx_level,
                                          enum vt_tcb_status module, enum vt_tcb_status qe,
                                          bool svn2_reaches_top)
{
    enum vt_tcb_status tdx = tdx_level;
    if (module == OOD && (tdx == UTD || tdx == SWH)) {
        tdx = OOD;
    } else if (module == OOD && (tdx == CFG || tdx == CSW)) {
        tdx = OCF;
    } else if (module == REV) {
        tdx = REV;
    }
    if (tdx == REV) {
        return REV;
    }
    bool sgx_ok = sgx == UTD || sgx == SWH || sgx == CFG || sgx == CSW;
    if (qe != OOD && qe != REV && sgx_ok && (tdx == OOD || tdx == OCF) && module == OOD &&
        svn2_reaches_top) {
        tdx = config_needed(sgx) || config_needed(tdx) ? TRC : TRA;
    }
    if (qe == OOD && (tdx == UTD || tdx == SWH)) {
        return OOD;
    }
    if (qe == OOD && (tdx == CFG || tdx == CSW)) {
        return OCF;
    }
    return qe == REV ? REV : tdx;
}

static const struct vs_status_name isv_statuses[3] = {
    {VT_TCB_UP_TO_DATE, "UpToDate"},
    {VT_TCB_OUT_OF_DATE, "OutOfDate"},
    {VT_TCB_REVOKED, "Revoked"},
};

/* Every combination of SGX level status, TDX level status, module status and QE status, with
 * TEE_TCB_SVN_2 reaching the top levels and not, against QVL's order of merging. */
static void test_relaunch_matrix(void **state)
{
    (void)state;
    struct vt_sim_scenario s;
    relaunch_init(&s, 5);
    vs_build(&s);
    /* The same TD whose TEE_TCB_SVN_2[2] stays below the top level's. */
    s.quote_params.td.tee_tcb_svn2[2] = 7;
    vs_redo_quote(&s);
    struct vt_sim_blob below = {0};
    vs_blob_set(&below, s.quote.data, s.quote.len);
    s.quote_params.td.tee_tcb_svn2[2] = 8;
    vs_redo_quote(&s);
    size_t n = 0, relaunched = 0;
    for (size_t a = 0; a < N_ELEMS(vs_level_statuses); a++) {
        for (size_t b = 0; b < N_ELEMS(vs_level_statuses); b++) {
            for (size_t m = 0; m < N_ELEMS(isv_statuses); m++) {
                for (size_t e = 0; e < N_ELEMS(isv_statuses); e++) {
                    s.tcb_info.levels[0].status = vs_level_statuses[a].name;
                    s.tcb_info.levels[1].status = vs_level_statuses[b].name;
                    s.tcb_info.module_identities[1].levels[1].status = isv_statuses[m].name;
                    s.qe_identity.levels[0].status = isv_statuses[e].name;
                    vs_redo_docs(&s);
                    struct vs_run r;
                    enum vt_err err = vs_open(&r, &s);
                    for (int reach = 0; reach < 2; reach++) {
                        char label[200];
                        snprintf(label, sizeof(label),
                                 "SGX level %s, TDX level %s, module %s, QE %s, TEE_TCB_SVN_2 %s",
                                 vs_level_statuses[a].name, vs_level_statuses[b].name,
                                 isv_statuses[m].name, isv_statuses[e].name,
                                 reach ? "reaches the top" : "below the top");
                        enum vt_tcb_status want = qvl_td15_status(
                            vs_level_statuses[a].status, vs_level_statuses[b].status,
                            isv_statuses[m].status, isv_statuses[e].status, reach);
                        const struct vs_verdict v = {want, vs_level_statuses[b].status,
                                                     isv_statuses[e].status, isv_statuses[m].status,
                                                     LOW_ADV};
                        struct vt_claims *c = vs_claims_new();
                        enum vt_err verr = err;
                        if (err == VT_OK) {
                            verr = reach ? vs_verify_at(&r, &s, VS_NOW, VT_TIME_STRICT, c)
                                         : vs_verify_bytes(&r, below.data, below.len, VS_NOW,
                                                           VT_TIME_STRICT, c);
                        }
                        vs_check_verdict(label, &r, verr, c, &v);
                        relaunched += want == TRA || want == TRC;
                        n++;
                        free(c);
                    }
                    vs_close(&r);
                }
            }
        }
    }
    assert_int_equal(n, 7 * 7 * 3 * 3 * 2);
    /* SGX level in 4 statuses x TDX level in 6 (all but Revoked), module OutOfDate, QE UpToDate,
     * reaching: 24 relaunch verdicts. */
    assert_int_equal(relaunched, 24);
    vt_sim_blob_cleanup(&below);
    vt_sim_scenario_cleanup(&s);
}

/* The cases of the rule, named. */
static void test_relaunch(void **state)
{
    (void)state;
    struct vt_sim_scenario s;
    struct vs_desc base;
    relaunch_init(&s, 5);
    vs_build(&s);
    vs_save(&s, &base);
    vs_expect_verdict("relaunch recipe", &s, TRA, OOD, UTD, OOD, LOW_ADV);

    /* The platform is current but for the module: the TDX level UpToDate (or SWHardeningNeeded)
     * is OutOfDate once the OutOfDate module is merged in, and the module loaded now is current:
     * Intel reports TDRelaunchAdvised, not OutOfDate. */
    s.tcb_info.levels[1].status = "UpToDate";
    vs_redo_docs(&s);
    vs_expect_verdict("relaunch, TDX level UpToDate, module OutOfDate", &s, TRA, UTD, UTD, OOD,
                      LOW_ADV);
    s.tcb_info.levels[1].status = "SWHardeningNeeded";
    vs_redo_docs(&s);
    vs_expect_verdict("relaunch, TDX level SWHardeningNeeded, module OutOfDate", &s, TRA, SWH, UTD,
                      OOD, LOW_ADV);
    /* ConfigurationNeeded levels become OutOfDateConfigurationNeeded with the module. */
    s.tcb_info.levels[1].status = "ConfigurationNeeded";
    vs_redo_docs(&s);
    vs_expect_verdict("relaunch, TDX level ConfigurationNeeded, module OutOfDate", &s, TRC, CFG,
                      UTD, OOD, LOW_ADV);
    s.tcb_info.levels[1].status = "ConfigurationAndSWHardeningNeeded";
    vs_redo_docs(&s);
    vs_expect_verdict("relaunch, TDX level ConfigurationAndSWHardeningNeeded, module OutOfDate", &s,
                      TRC, CSW, UTD, OOD, LOW_ADV);
    s.tcb_info.levels[1].status = "OutOfDateConfigurationNeeded";
    vs_redo_docs(&s);
    vs_expect_verdict("relaunch, TDX level OutOfDateConfigurationNeeded", &s, TRC, OCF, UTD, OOD,
                      LOW_ADV);
    /* A Revoked TDX level stays Revoked. */
    s.tcb_info.levels[1].status = "Revoked";
    vs_redo_docs(&s);
    vs_expect_verdict("no relaunch, TDX level Revoked", &s, REV, REV, UTD, OOD, LOW_ADV);

    /* The SGX level needs configuration. */
    vs_restore(&s, &base);
    s.tcb_info.levels[0].status = "ConfigurationNeeded";
    vs_redo_docs(&s);
    vs_expect_verdict("relaunch, SGX level ConfigurationNeeded", &s, TRC, OOD, UTD, OOD, LOW_ADV);
    s.tcb_info.levels[0].status = "ConfigurationAndSWHardeningNeeded";
    vs_redo_docs(&s);
    vs_expect_verdict("relaunch, SGX level ConfigurationAndSWHardeningNeeded", &s, TRC, OOD, UTD,
                      OOD, LOW_ADV);
    s.tcb_info.levels[0].status = "SWHardeningNeeded";
    vs_redo_docs(&s);
    vs_expect_verdict("relaunch, SGX level SWHardeningNeeded", &s, TRA, OOD, UTD, OOD, LOW_ADV);

    /* TEE_TCB_SVN_2[1] == 0: [0] against the top level's tdx[0] (5), [2] against its tdx[2]. */
    vs_restore(&s, &base);
    s.quote_params.td.tee_tcb_svn2[0] = 5;
    s.quote_params.td.tee_tcb_svn2[1] = 0;
    vs_redo(&s);
    vs_expect_verdict("relaunch, TEE_TCB_SVN_2[1]==0", &s, TRA, OOD, UTD, OOD, LOW_ADV);
    s.quote_params.td.tee_tcb_svn2[0] = 4;
    vs_redo_quote(&s);
    vs_expect_verdict("no relaunch, TEE_TCB_SVN_2[1]==0 and [0] below", &s, OOD, OOD, UTD, OOD,
                      LOW_ADV);

    /* TEE_TCB_SVN_2[1] names another module identity: TDX_03, top isvsvn 3. */
    vs_restore(&s, &base);
    s.quote_params.td.tee_tcb_svn2[0] = 3;
    s.quote_params.td.tee_tcb_svn2[1] = 3;
    vs_redo(&s);
    vs_expect_verdict("relaunch, TEE_TCB_SVN_2 names TDX_03", &s, TRA, OOD, UTD, OOD, LOW_ADV);
    /* It names no identity of the TCB info: QVL's checkForRelaunch returns
     * STATUS_TDX_MODULE_MISMATCH, a failure; so does veritee. */
    s.quote_params.td.tee_tcb_svn2[1] = 2; /* no TDX_02 */
    vs_redo_quote(&s);
    vs_expect_error("relaunch check, no identity for TEE_TCB_SVN_2[1]", &s, VS_VERIFY,
                    VT_E_TDX_MODULE_MISMATCH, "td_report.tee_tcb_svn2");
    /* ... but only when the check is reached: with the module UpToDate it is not. */
    s.tcb_info.module_identities[1].levels[1].status = "UpToDate";
    vs_redo_docs(&s);
    vs_expect_verdict("no relaunch check, module UpToDate, no identity for TEE_TCB_SVN_2[1]", &s,
                      OOD, OOD, UTD, UTD, LOW_ADV);
    vt_sim_scenario_cleanup(&s);
}

static void test_relaunch_not_applied(void **state)
{
    (void)state;
    struct vt_sim_scenario s;
    struct vs_desc base;

    /* A v4 (TD 1.0) quote with the same collateral and TD report. */
    relaunch_init(&s, 4);
    vs_build(&s);
    vs_expect_verdict("no relaunch for a v4 quote", &s, OOD, OOD, UTD, OOD, LOW_ADV);
    s.tcb_info.levels[1].status = "UpToDate";
    vs_redo_docs(&s);
    vs_expect_verdict("no relaunch for a v4 quote, TDX level UpToDate", &s, OOD, UTD, UTD, OOD,
                      LOW_ADV);
    vt_sim_scenario_cleanup(&s);

    /* A v4 quote has no TEE_TCB_SVN_2 (it reads as zero): with a top level that zero reaches
     * (tdx {0,0,0,1,0..}, failing on [3]; the lower level all zero), a v5 quote whose
     * TEE_TCB_SVN_2 is zero is relaunch-advised, the v4 quote is not. */
    for (uint16_t version = 4; version <= 5; version++) {
        relaunch_init(&s, version);
        memset(s.tcb_info.levels[0].tdx_comps, 0, 16);
        s.tcb_info.levels[0].tdx_comps[3] = 1;
        memset(s.tcb_info.levels[1].tdx_comps, 0, 16);
        memset(s.quote_params.td.tee_tcb_svn2, 0, 16);
        vs_build(&s);
        if (version == 5) {
            vs_expect_verdict("relaunch, v5 with zero TEE_TCB_SVN_2", &s, TRA, OOD, UTD, OOD,
                              LOW_ADV);
        } else {
            vs_expect_verdict("no relaunch, v4 where a zero TEE_TCB_SVN_2 would qualify", &s, OOD,
                              OOD, UTD, OOD, LOW_ADV);
        }
        vt_sim_scenario_cleanup(&s);
    }

    relaunch_init(&s, 5);
    vs_build(&s);
    vs_save(&s, &base);

    /* TEE_TCB_SVN_2 does not reach the top level: [2] or the module's [0]. */
    s.quote_params.td.tee_tcb_svn2[2] = 7;
    vs_redo_quote(&s);
    vs_expect_verdict("no relaunch, TEE_TCB_SVN_2[2] below", &s, OOD, OOD, UTD, OOD, LOW_ADV);
    vs_restore(&s, &base);
    s.quote_params.td.tee_tcb_svn2[0] = 5;
    vs_redo(&s);
    vs_expect_verdict("no relaunch, TEE_TCB_SVN_2[0] below the module top", &s, OOD, OOD, UTD, OOD,
                      LOW_ADV);
    /* The same with a TDX level UpToDate: OutOfDate through the module, no relaunch. */
    s.tcb_info.levels[1].status = "UpToDate";
    vs_redo_docs(&s);
    vs_expect_verdict("no relaunch, TDX level UpToDate, TEE_TCB_SVN_2[0] below", &s, OOD, UTD, UTD,
                      OOD, LOW_ADV);

    /* QE OutOfDate, or Revoked. */
    vs_restore(&s, &base);
    s.quote_params.qe.isv_svn = (uint16_t)(s.quote_params.qe.isv_svn - 1);
    vs_redo(&s);
    vs_expect_verdict("no relaunch, QE OutOfDate", &s, OOD, OOD, OOD, OOD, LOW_ADV "," QE_LOW_ADV);
    vs_restore(&s, &base);
    s.qe_identity.levels[0].status = "Revoked";
    vs_redo(&s);
    vs_expect_verdict("no relaunch, QE Revoked", &s, REV, OOD, REV, OOD, LOW_ADV);

    /* The SGX level OutOfDate (it is the top level here). */
    vs_restore(&s, &base);
    s.tcb_info.levels[0].status = "OutOfDate";
    vs_redo(&s);
    vs_expect_verdict("no relaunch, SGX level OutOfDate", &s, OOD, OOD, UTD, OOD, LOW_ADV);

    /* The module UpToDate (SVN 6 reaches TDX_01's top level), or Revoked. */
    vs_restore(&s, &base);
    s.quote_params.td.tee_tcb_svn[0] = 6;
    vs_redo(&s);
    vs_expect_verdict("no relaunch, module UpToDate", &s, OOD, OOD, UTD, UTD, LOW_ADV);
    vs_restore(&s, &base);
    s.tcb_info.module_identities[1].levels[1].status = "Revoked";
    vs_redo(&s);
    vs_expect_verdict("no relaunch, module Revoked", &s, REV, OOD, UTD, REV, LOW_ADV);
    vt_sim_scenario_cleanup(&s);
}

/* ---- 5. advisory IDs ---- */

static void test_advisories(void **state)
{
    (void)state;
    struct vt_sim_scenario s;
    struct vs_desc base;

    /* SGX: advisories on an UpToDate level; only the matched level's; plus the QE level's. */
    vs_init(&s, VT_TEE_SGX, 3);
    s.tcb_info.levels[0].n_advisories = 1;
    s.tcb_info.levels[0].advisories[0] = "INTEL-SA-00100";
    vs_build(&s);
    vs_save(&s, &base);
    vs_expect_verdict("SGX UpToDate with an advisory", &s, UTD, UTD, UTD, NONE, "INTEL-SA-00100");
    s.tcb_info.levels[0].pcesvn = (uint16_t)(s.pki_params.pck.pcesvn + 1);
    vs_redo_docs(&s);
    vs_expect_verdict("SGX advisories of the matched level only", &s, OOD, OOD, UTD, NONE, LOW_ADV);
    vs_restore(&s, &base);
    s.quote_params.qe.isv_svn = (uint16_t)(s.quote_params.qe.isv_svn - 1);
    vs_redo(&s);
    vs_expect_verdict("SGX level and QE level advisories", &s, OOD, UTD, OOD, NONE,
                      "INTEL-SA-00100," QE_LOW_ADV);
    vs_restore(&s, &base);
    s.qe_identity.levels[0].n_advisories = 2;
    s.qe_identity.levels[0].advisories[0] = "INTEL-SA-00100";
    s.qe_identity.levels[0].advisories[1] = "INTEL-SA-00101";
    vs_redo(&s);
    vs_expect_verdict("SGX UpToDate, QE level advisories de-duplicated", &s, UTD, UTD, UTD, NONE,
                      "INTEL-SA-00100,INTEL-SA-00101");
    vt_sim_scenario_cleanup(&s);

    /* TDX: TCB level, module level and QE level, in that order, without duplicates. */
    vs_init(&s, VT_TEE_TDX, 5);
    struct vt_sim_tcb_level *top = &s.tcb_info.levels[0];
    top->n_advisories = 2;
    top->advisories[0] = "INTEL-SA-00010";
    top->advisories[1] = "INTEL-SA-00011";
    struct vt_sim_isv_level *ml = &s.tcb_info.module_identities[1].levels[0];
    ml->n_advisories = 2;
    ml->advisories[0] = "INTEL-SA-00011";
    ml->advisories[1] = "INTEL-SA-00012";
    struct vt_sim_isv_level *ql = &s.qe_identity.levels[0];
    ql->n_advisories = 3;
    ql->advisories[0] = "INTEL-SA-00012";
    ql->advisories[1] = "INTEL-SA-00013";
    ql->advisories[2] = "INTEL-SA-00010";
    vs_build(&s);
    vs_expect_verdict("TDX union of level, module and QE advisories", &s, UTD, UTD, UTD, UTD,
                      "INTEL-SA-00010,INTEL-SA-00011,INTEL-SA-00012,INTEL-SA-00013");
    vt_sim_scenario_cleanup(&s);
}

/* ---- 10. verifier state: the PCK cache ---- */

/* PEM of the given certificates, NUL-terminated (as certification data carries it). */
static void pem_of(const struct vt_sim_pki *pki, const enum vt_sim_cert *which, size_t n,
                   struct vt_sim_blob *out)
{
    size_t len = 0;
    uint8_t *buf = NULL;
    for (size_t i = 0; i < n; i++) {
        struct vt_sim_blob one = {0};
        assert_true(vt_sim_pki_cert_pem(pki, which[i], &one));
        buf = realloc(buf, len + one.len + 1);
        assert_non_null(buf);
        memcpy(buf + len, one.data, one.len);
        len += one.len;
        vt_sim_blob_cleanup(&one);
    }
    buf = realloc(buf, len + 1);
    assert_non_null(buf);
    buf[len++] = 0;
    out->data = buf;
    out->len = len;
}

/* A quote from quote_params with other certification data. */
static void quote_with_cert_data(const struct vt_sim_scenario *s, const struct vt_sim_blob *cd,
                                 struct vt_sim_quote *out)
{
    struct vt_sim_quote_params qp = s->quote_params;
    qp.cert_data = cd->data;
    qp.cert_data_len = cd->len;
    assert_true(vt_sim_quote_build(s->pki, &qp, out));
}

static void expect_ok_status(const char *label, struct vs_run *r, const struct vt_sim_quote *q,
                             vt_time now, enum vt_tcb_status status, const uint8_t ppid[16])
{
    struct vt_claims *c = vs_claims_new();
    enum vt_err err = vs_verify_bytes(r, q->data, q->len, now, VT_TIME_STRICT, c);
    if (err != VT_OK) {
        fail_msg("%s: expected VT_OK, got %s (%s: %s)", label, vt_err_name(err), r->d.check,
                 r->d.detail);
    }
    if (c->status != status) {
        fail_msg("%s: expected status %s, got %s", label, vt_tcb_status_name(status),
                 vt_tcb_status_name(c->status));
    }
    if (ppid != NULL) {
        assert_memory_equal(c->dcap.ppid, ppid, 16);
    }
    free(c);
}

static void expect_fail(const char *label, struct vs_run *r, const struct vt_sim_quote *q,
                        vt_time now, enum vt_err code)
{
    struct vt_claims *c = vs_claims_new();
    enum vt_err err = vs_verify_bytes(r, q->data, q->len, now, VT_TIME_STRICT, c);
    vs_check_error(label, r, err, VS_VERIFY, code, NULL);
    free(c);
}

/* A failed verification leaves the cached PCK chain and attestation key usable. */
static void test_cache_not_poisoned(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(main_cases); k++) {
        const struct tee_case *tc = &main_cases[k];
        struct vt_sim_scenario s;
        vs_init(&s, tc->tee, tc->version);
        vs_build(&s);
        struct vs_run r;
        assert_int_equal(vs_open(&r, &s), VT_OK);
        const struct vt_sim_quote *good = &s.quote;
        struct vt_sim_quote bad = {0};
        struct vt_sim_quote_params qp;

        /* Failures before the PCK chain is cached. */
        enum vt_sim_cert two[2] = {VT_SIM_CERT_PCK_LEAF, VT_SIM_CERT_PCK_CA};
        struct vt_sim_blob cd = {0};
        pem_of(s.pki, two, 2, &cd);
        quote_with_cert_data(&s, &cd, &bad);
        expect_fail("2-certificate chain first", &r, &bad, VS_NOW, VT_E_CHAIN_LENGTH);
        vt_sim_quote_cleanup(&bad);
        vt_sim_blob_cleanup(&cd);
        expect_fail("good quote expired", &r, good, s.pki_params.pck.not_after + 1, VT_E_EXPIRED);
        expect_ok_status("good quote after failures", &r, good, VS_NOW, UTD, NULL);

        /* Failures with the cached chain: each defect, then the good quote again. */
        static const unsigned defects[] = {VT_SIM_BAD_QUOTE_SIG, VT_SIM_BAD_ATT_KEY,
                                           VT_SIM_BAD_QE_REPORT_SIG, VT_SIM_BAD_QE_REPORT_DATA};
        static const enum vt_err codes[] = {VT_E_QUOTE_SIGNATURE, VT_E_QUOTE_SIGNATURE,
                                            VT_E_QE_REPORT_SIGNATURE, VT_E_QE_REPORT_DATA};
        for (size_t i = 0; i < N_ELEMS(defects); i++) {
            qp = s.quote_params;
            qp.defects = defects[i];
            /* The good quote's attestation key where the defect allows it. */
            qp.att_key = defects[i] == VT_SIM_BAD_ATT_KEY ? NULL : good->att_key;
            assert_true(vt_sim_quote_build(s.pki, &qp, &bad));
            expect_fail("defect", &r, &bad, VS_NOW, codes[i]);
            vt_sim_quote_cleanup(&bad);
            expect_ok_status("good quote after a defect", &r, good, VS_NOW, UTD, NULL);
        }

        /* Another attestation key on the same platform, then the first again. */
        qp = s.quote_params;
        assert_true(vt_sim_quote_build(s.pki, &qp, &bad));
        expect_ok_status("second attestation key", &r, &bad, VS_NOW, UTD, NULL);
        expect_ok_status("first attestation key again", &r, good, VS_NOW, UTD, NULL);
        vt_sim_quote_cleanup(&bad);

        /* A quote from an untrusted PKI (other root), then the good quote. */
        struct vt_sim_scenario other;
        vs_init(&other, tc->tee, tc->version);
        vs_build(&other);
        expect_fail("other PKI", &r, &other.quote, VS_NOW, VT_E_UNTRUSTED_ROOT);
        vt_sim_scenario_cleanup(&other);
        expect_ok_status("good quote after an untrusted chain", &r, good, VS_NOW, UTD, NULL);
        vs_close(&r);
        vt_sim_scenario_cleanup(&s);
    }
}

/* A further PCK certificate under the scenario's PCK CA with the SGX extension of pck: a fresh
 * key and serial, signed by the CA (test code may use OpenSSL directly). */
static X509 *make_leaf(const struct vt_sim_pki *pki, const struct vt_sim_pck_params *pck,
                       EVP_PKEY *key)
{
    X509 *x = X509_dup(pki->cert[VT_SIM_CERT_PCK_LEAF]);
    assert_non_null(x);
    assert_int_equal(X509_set_pubkey(x, key), 1);
    uint8_t sb[16];
    assert_int_equal(RAND_bytes(sb, sizeof(sb)), 1);
    sb[0] = (uint8_t)((sb[0] & 0x7f) | 0x01);
    BIGNUM *bn = BN_bin2bn(sb, sizeof(sb), NULL);
    assert_non_null(bn);
    ASN1_INTEGER *serial = BN_to_ASN1_INTEGER(bn, NULL);
    assert_non_null(serial);
    assert_int_equal(X509_set_serialNumber(x, serial), 1);
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    /* The subject key identifier named the old key: drop it. */
    int idx = X509_get_ext_by_NID(x, NID_subject_key_identifier, -1);
    assert_true(idx >= 0);
    X509_EXTENSION_free(X509_delete_ext(x, idx));
    struct vt_sim_blob ext = {0};
    assert_true(vt_sim_pck_ext_der(pck, &ext));
    ASN1_OBJECT *obj = OBJ_txt2obj(VT_SGX_EXT_OID, 1);
    assert_non_null(obj);
    idx = X509_get_ext_by_OBJ(x, obj, -1);
    ASN1_OBJECT_free(obj);
    assert_true(idx >= 0);
    ASN1_OCTET_STRING *val = X509_EXTENSION_get_data(X509_get_ext(x, idx));
    assert_int_equal(ASN1_OCTET_STRING_set(val, ext.data, (int)ext.len), 1);
    vt_sim_blob_cleanup(&ext);
    assert_true(X509_sign(x, pki->key[VT_SIM_CERT_PCK_CA], EVP_sha256()) > 0);
    return x;
}

/* One more platform of the scenario: its leaf, key and a quote. */
struct platform {
    EVP_PKEY *key;
    X509 *leaf;
    struct vt_sim_pck_params pck;
    struct vt_sim_quote quote;
};

static void platform_make(const struct vt_sim_scenario *s, const struct vt_sim_pck_params *pck,
                          struct platform *p)
{
    p->pck = *pck;
    p->key = EVP_EC_gen("P-256");
    assert_non_null(p->key);
    p->leaf = make_leaf(s->pki, pck, p->key);
    /* The scenario's PKI with this leaf in place of its own (a shallow view). */
    struct vt_sim_pki view = *s->pki;
    view.cert[VT_SIM_CERT_PCK_LEAF] = p->leaf;
    view.key[VT_SIM_CERT_PCK_LEAF] = p->key;
    assert_true(vt_sim_quote_build(&view, &s->quote_params, &p->quote));
}

static void platform_free(struct platform *p)
{
    vt_sim_quote_cleanup(&p->quote);
    X509_free(p->leaf);
    EVP_PKEY_free(p->key);
}

/* Two platforms (two PCK certificates under one CA) alternate through one verifier's cache,
 * each keeping its own PCK values and verdict. */
static void test_cache_two_platforms(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(main_cases); k++) {
        const struct tee_case *tc = &main_cases[k];
        struct vt_sim_scenario s;
        vs_init(&s, tc->tee, tc->version);
        vs_build(&s);
        /* Platform B: lower components 01 and 02 (the OutOfDate level), another PPID. */
        struct vt_sim_pck_params pck = s.pki_params.pck;
        pck.tcb_comps[0] = (uint8_t)(pck.tcb_comps[0] - 1);
        pck.tcb_comps[1] = (uint8_t)(pck.tcb_comps[1] - 1);
        memset(pck.ppid, 0xB0, 16);
        struct platform b = {0};
        platform_make(&s, &pck, &b);

        struct vs_run r;
        assert_int_equal(vs_open(&r, &s), VT_OK);
        for (int round = 0; round < 3; round++) {
            expect_ok_status("platform A", &r, &s.quote, VS_NOW, UTD, s.pki_params.pck.ppid);
            expect_ok_status("platform B", &r, &b.quote, VS_NOW, OOD, b.pck.ppid);
        }
        /* A failure of B (bad quote signature) does not touch A. */
        struct vt_sim_quote_params qp = s.quote_params;
        qp.defects = VT_SIM_BAD_QUOTE_SIG;
        struct vt_sim_pki view = *s.pki;
        view.cert[VT_SIM_CERT_PCK_LEAF] = b.leaf;
        view.key[VT_SIM_CERT_PCK_LEAF] = b.key;
        struct vt_sim_quote bad = {0};
        assert_true(vt_sim_quote_build(&view, &qp, &bad));
        expect_fail("platform B bad signature", &r, &bad, VS_NOW, VT_E_QUOTE_SIGNATURE);
        vt_sim_quote_cleanup(&bad);
        expect_ok_status("platform A after B failed", &r, &s.quote, VS_NOW, UTD,
                         s.pki_params.pck.ppid);
        expect_ok_status("platform B after its failure", &r, &b.quote, VS_NOW, OOD, b.pck.ppid);
        vs_close(&r);
        platform_free(&b);
        vt_sim_scenario_cleanup(&s);
    }
}

/* More platforms than the cache holds: evicted chains are rebuilt, each with its own values. */
static void test_cache_eviction(void **state)
{
    (void)state;
    enum { N = VT_DCAP_PCK_CACHE_SIZE + 6 };
    struct vt_sim_scenario s;
    vs_init(&s, VT_TEE_SGX, 3);
    vs_build(&s);
    struct platform *p = calloc(N, sizeof(*p));
    assert_non_null(p);
    for (size_t i = 0; i < N; i++) {
        struct vt_sim_pck_params pck = s.pki_params.pck;
        pck.ppid[0] = (uint8_t)i;
        pck.ppid[1] = 0xEE;
        /* Odd platforms on the OutOfDate level. */
        if (i % 2 == 1) {
            pck.tcb_comps[0] = (uint8_t)(pck.tcb_comps[0] - 1);
            pck.tcb_comps[1] = (uint8_t)(pck.tcb_comps[1] - 1);
        }
        platform_make(&s, &pck, &p[i]);
    }
    struct vs_run r;
    assert_int_equal(vs_open(&r, &s), VT_OK);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < N; i++) {
            expect_ok_status("platform", &r, &p[i].quote, VS_NOW, i % 2 ? OOD : UTD, p[i].pck.ppid);
        }
    }
    /* The most recent stays cached, the oldest was rebuilt: both still right. */
    expect_ok_status("last platform", &r, &p[N - 1].quote, VS_NOW, OOD, p[N - 1].pck.ppid);
    expect_ok_status("first platform", &r, &p[0].quote, VS_NOW, UTD, p[0].pck.ppid);
    expect_ok_status("scenario platform", &r, &s.quote, VS_NOW, UTD, s.pki_params.pck.ppid);
    vs_close(&r);
    for (size_t i = 0; i < N; i++) {
        platform_free(&p[i]);
    }
    free(p);
    vt_sim_scenario_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_scenarios_up_to_date),
        cmocka_unit_test(test_level_statuses),
        cmocka_unit_test(test_level_selection_order),
        cmocka_unit_test(test_level_componentwise),
        cmocka_unit_test(test_level_pcesvn_below),
        cmocka_unit_test(test_level_none),
        cmocka_unit_test(test_tdx_start_index),
        cmocka_unit_test(test_qe_out_of_date_converges),
        cmocka_unit_test(test_qe_revoked),
        cmocka_unit_test(test_qe_level_order),
        cmocka_unit_test(test_qe_below_all_levels),
        cmocka_unit_test(test_module_out_of_date_converges),
        cmocka_unit_test(test_module_revoked),
        cmocka_unit_test(test_module_level_order_and_id_case),
        cmocka_unit_test(test_relaunch),
        cmocka_unit_test(test_relaunch_matrix),
        cmocka_unit_test(test_relaunch_not_applied),
        cmocka_unit_test(test_advisories),
        cmocka_unit_test(test_cache_not_poisoned),
        cmocka_unit_test(test_cache_two_platforms),
        cmocka_unit_test(test_cache_eviction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
