/*
 * vt_verify (src/verify/verifier.c): every kind of real evidence through the one entry point,
 * with the verdict and claims of the per-TEE verifiers; the directory collateral source and its
 * layouts; collateral fetched once and kept for collateral_ttl on the verifier's clock, never
 * kept after a failure; many threads on one verifier; the options' checks; precise errors.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"

#include "verifier_cases.h"
#include "vt_fixtures.h"

struct loaded {
    uint8_t *ev, *vek;
    size_t ev_len, vek_len;
};

static struct loaded loaded[N_VCASES];
static char *reference[N_VCASES]; /* claims JSON from the per-TEE verifier */

static const char *root(void)
{
    const char *r = vt_fixtures_or_skip();
    if (r == NULL) {
        skip();
    }
    return r;
}

static uint8_t *read_rel(const char *rel, size_t *n)
{
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", root(), rel);
    uint8_t *p = vt_test_read_file(path, n);
    assert_non_null(p);
    return p;
}

static void path_of(const char *rel, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", root(), rel);
}

/* The claims of a case from its TEE's own verifier, as before vt_verify existed. */
static char *direct_claims(size_t i)
{
    const struct vcase *c = &vcases[i];
    const struct loaded *l = &loaded[i];
    struct vt_claims cl;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err;
    if (c->kind == VT_EVIDENCE_DCAP_QUOTE) {
        char dir[2048];
        path_of(c->collateral, dir, sizeof(dir));
        struct vt_dcap_collateral *coll = NULL;
        struct vt_dcap_verifier *v = NULL;
        assert_int_equal(vt_dcap_collateral_load_dir(dir, &coll, &d), VT_OK);
        assert_int_equal(vt_dcap_verifier_new(NULL, coll, &v, &d), VT_OK);
        struct vt_dcap_opts o = {.now = c->at};
        err = vt_dcap_verify(v, l->ev, l->ev_len, &o, &cl, &d);
        vt_dcap_verifier_free(v);
        vt_dcap_collateral_free(coll);
    } else if (c->kind == VT_EVIDENCE_NITRO_DOC) {
        struct vt_nitro_verifier *v = NULL;
        assert_int_equal(vt_nitro_verifier_new(NULL, &v, &d), VT_OK);
        struct vt_nitro_opts o = {.now = c->at, .max_age = -1};
        err = vt_nitro_verify(v, l->ev, l->ev_len, &o, &cl, &d);
        vt_nitro_verifier_free(v);
    } else {
        struct vt_snp_verifier *v = NULL;
        assert_int_equal(vt_snp_verifier_new(NULL, &v, &d), VT_OK);
        struct vt_snp_opts o = {.now = c->at, .vek = l->vek, .vek_len = l->vek_len};
        err = vt_snp_verify(v, l->ev, l->ev_len, &o, &cl, &d);
        vt_snp_verifier_free(v);
    }
    if (err != VT_OK) {
        fail_msg("%s: %s: %s", c->evidence, d.check, d.detail);
    }
    char *json = vt_claims_to_json(&cl);
    assert_non_null(json);
    return json;
}

static int setup(void **state)
{
    (void)state;
    if (vt_fixtures_dir() == NULL) {
        return 0;
    }
    for (size_t i = 0; i < N_VCASES; i++) {
        loaded[i].ev = read_rel(vcases[i].evidence, &loaded[i].ev_len);
        if (vcases[i].vek != NULL) {
            loaded[i].vek = read_rel(vcases[i].vek, &loaded[i].vek_len);
        }
        reference[i] = direct_claims(i);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VCASES; i++) {
        free(loaded[i].ev);
        free(loaded[i].vek);
        free(reference[i]);
    }
    return 0;
}

/* ---- a test source: every DCAP fixture set, chosen by the request's TEE and FMSPC ---- */

struct test_source {
    pthread_mutex_t lock;
    unsigned dcap_fetches, snp_fetches;
    bool fail_next; /* make the next fetch fail with VT_E_UPSTREAM */
};

static enum vt_err ts_dcap(void *ctx, const struct vt_dcap_collateral_request *req,
                           struct vt_dcap_collateral **out, struct vt_diag *d)
{
    struct test_source *ts = ctx;
    pthread_mutex_lock(&ts->lock);
    ts->dcap_fetches++;
    bool fail = ts->fail_next;
    ts->fail_next = false;
    pthread_mutex_unlock(&ts->lock);
    if (fail) {
        return vt_fail(d, VT_E_UPSTREAM, "collateral", "the test source is down");
    }
    if (!req->platform_known) {
        return vt_fail(d, VT_E_CERT_EXTENSION, "collateral.request", "no FMSPC");
    }
    for (size_t i = 0; i < N_VCASES; i++) {
        if (vcases[i].kind != VT_EVIDENCE_DCAP_QUOTE || vcases[i].tee != req->tee) {
            continue;
        }
        char dir[2048];
        path_of(vcases[i].collateral, dir, sizeof(dir));
        struct vt_dcap_collateral *c = NULL;
        VT_TRY(vt_dcap_collateral_load_dir(dir, &c, d));
        if (memcmp(c->tcb_info.fmspc, req->fmspc, 6) == 0) {
            *out = c;
            return VT_OK;
        }
        vt_dcap_collateral_free(c);
    }
    return vt_fail(d, VT_E_COLLATERAL_MISSING, "collateral", "no set for this FMSPC");
}

/* SEV-SNP: the VCEK of the Milan test report, found by its chip ID. */
static enum vt_err ts_snp(void *ctx, const struct vt_snp_collateral_request *req,
                          struct vt_snp_collateral *out, struct vt_diag *d)
{
    (void)d;
    struct test_source *ts = ctx;
    pthread_mutex_lock(&ts->lock);
    ts->snp_fetches++;
    pthread_mutex_unlock(&ts->lock);
    struct vt_snp_report r;
    VT_TRY(vt_snp_report_parse(loaded[6].ev, loaded[6].ev_len, &r, d));
    if (!req->have_vek && memcmp(req->chip_id, r.chip_id, 64) == 0) {
        out->vek = malloc(loaded[6].vek_len);
        assert_non_null(out->vek);
        memcpy(out->vek, loaded[6].vek, loaded[6].vek_len);
        out->vek_len = loaded[6].vek_len;
    }
    return VT_OK;
}

static const struct vt_collateral_source_ops ts_ops = {
    .dcap = ts_dcap, .snp = ts_snp, .name = "test"};

static vt_time test_clock_value = 1000;
static vt_time test_clock(void *ctx)
{
    (void)ctx;
    return test_clock_value;
}

static struct vt_verifier *verifier_with(struct test_source *ts, struct vt_collateral_source **src,
                                         int64_t ttl)
{
    memset(ts, 0, sizeof(*ts));
    pthread_mutex_init(&ts->lock, NULL);
    struct vt_diag d;
    assert_int_equal(vt_collateral_source_new(&ts_ops, ts, src, &d), VT_OK);
    struct vt_verifier_config cfg = {
        .collateral = *src, .collateral_ttl = ttl, .clock = test_clock};
    struct vt_verifier *v = NULL;
    assert_int_equal(vt_verifier_new(&cfg, &v, &d), VT_OK);
    return v;
}

static enum vt_err verify_case(struct vt_verifier *v, size_t i, struct vt_claims *c,
                               struct vt_diag *d)
{
    struct vt_verify_opts o = {.now = vcases[i].at,
                               .vek = vcases[i].vek ? loaded[i].vek : NULL,
                               .vek_len = loaded[i].vek_len};
    return vt_verify(v, loaded[i].ev, loaded[i].ev_len, &o, c, d);
}

static void expect_reference(struct vt_verifier *v, size_t i)
{
    struct vt_claims c;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = verify_case(v, i, &c, &d);
    if (err != VT_OK) {
        fail_msg("%s: %s: %s: %s", vcases[i].evidence, vt_err_name(err), d.check, d.detail);
    }
    assert_int_equal(c.tee, vcases[i].tee);
    char *json = vt_claims_to_json(&c);
    assert_non_null(json);
    assert_string_equal(json, reference[i]);
    free(json);
}

/* Every kind through vt_verify: the same claims as its TEE's own verifier. */
static void test_every_kind(void **state)
{
    (void)state;
    root();
    struct test_source ts;
    struct vt_collateral_source *src;
    struct vt_verifier *v = verifier_with(&ts, &src, VT_VERIFIER_TTL_FOREVER);
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < N_VCASES; i++) {
            expect_reference(v, i);
        }
    }
    /* One fetch per DCAP platform and one per SEV-SNP report (with its VEK given, for the
     * chain and CRL), the second round from the verifier's cache. */
    assert_int_equal(ts.dcap_fetches, 4);
    assert_int_equal(ts.snp_fetches, 3);
    vt_verifier_free(v);
    vt_collateral_source_free(src);
}

/* The directory source: a DCAP set at the top, per TEE in sgx/ and tdx/, and SEV-SNP files. */
static void test_directory_layouts(void **state)
{
    (void)state;
    root();
    char tmp[] = "/tmp/vt_verifier_dirXXXXXX";
    assert_non_null(mkdtemp(tmp));
    char p[4096], target[2048];
    /* sgx/ and tdx/ subdirectories, SEV-SNP's vcek.der at the top */
    path_of(vcases[0].collateral, target, sizeof(target));
    snprintf(p, sizeof(p), "%s/sgx", tmp);
    assert_int_equal(symlink(target, p), 0);
    path_of(vcases[2].collateral, target, sizeof(target));
    snprintf(p, sizeof(p), "%s/tdx", tmp);
    assert_int_equal(symlink(target, p), 0);
    path_of(vcases[6].vek, target, sizeof(target));
    snprintf(p, sizeof(p), "%s/vcek.der", tmp);
    assert_int_equal(symlink(target, p), 0);
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_collateral_source *src = NULL;
    assert_int_equal(vt_collateral_source_dir(tmp, &src, &d), VT_OK);
    struct vt_verifier *v = NULL;
    assert_int_equal(vt_verifier_new(&(struct vt_verifier_config){.collateral = src}, &v, &d),
                     VT_OK);
    for (size_t i = 0; i < N_VCASES; i++) {
        if (i == 0 || i == 2 || i == 4) {
            expect_reference(v, i);
        }
    }
    /* The Milan report with its VCEK from the directory, not from the options. */
    struct vt_claims c;
    struct vt_verify_opts o = {.now = vcases[6].at};
    assert_int_equal(vt_verify(v, loaded[6].ev, loaded[6].ev_len, &o, &c, &d), VT_OK);
    char *json = vt_claims_to_json(&c);
    assert_string_equal(json, reference[6]);
    free(json);
    /* An SGX set with no sgx/ for it: the top-level file is named as missing. */
    vt_verifier_free(v);
    vt_collateral_source_free(src);
    snprintf(p, sizeof(p), "%s/sgx", tmp);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(vt_collateral_source_dir(tmp, &src, &d), VT_OK);
    assert_int_equal(vt_verifier_new(&(struct vt_verifier_config){.collateral = src}, &v, &d),
                     VT_OK);
    o.now = vcases[0].at;
    assert_int_equal(vt_verify(v, loaded[0].ev, loaded[0].ev_len, &o, &c, &d),
                     VT_E_COLLATERAL_MISSING);
    assert_non_null(strstr(d.detail, "/tcb_info.json not found"));
    vt_verifier_free(v);
    vt_collateral_source_free(src);
    const char *names[] = {"tdx", "vcek.der"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(p, sizeof(p), "%s/%s", tmp, names[i]);
        assert_int_equal(unlink(p), 0);
    }
    assert_int_equal(rmdir(tmp), 0);
}

/* Collateral is kept for collateral_ttl seconds of the verifier's clock, then fetched again; a
 * failed fetch is not kept, and the next call fetches again. */
static void test_ttl_and_failures(void **state)
{
    (void)state;
    root();
    struct test_source ts;
    struct vt_collateral_source *src;
    test_clock_value = 1000;
    struct vt_verifier *v = verifier_with(&ts, &src, 30);
    struct vt_claims c;
    struct vt_diag d;
    ts.fail_next = true;
    assert_int_equal(verify_case(v, 0, &c, &d), VT_E_UPSTREAM);
    assert_string_equal(d.check, "collateral");
    expect_reference(v, 0);
    assert_int_equal(ts.dcap_fetches, 2);
    test_clock_value += 29;
    expect_reference(v, 0);
    assert_int_equal(ts.dcap_fetches, 2);
    test_clock_value += 1;
    expect_reference(v, 0);
    assert_int_equal(ts.dcap_fetches, 3);
    /* SEV-SNP: the VCEK from the source once, then from the verifier's cache. */
    struct vt_verify_opts o = {.now = vcases[6].at};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(vt_verify(v, loaded[6].ev, loaded[6].ev_len, &o, &c, &d), VT_OK);
    }
    assert_int_equal(ts.snp_fetches, 1);
    /* A report whose VCEK the source lacks: the precise error, and nothing kept. */
    o.now = vcases[7].at;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(vt_verify(v, loaded[7].ev, loaded[7].ev_len, &o, &c, &d),
                         VT_E_COLLATERAL_MISSING);
        assert_string_equal(d.check, "vcek");
    }
    assert_int_equal(ts.snp_fetches, 3);
    vt_verifier_free(v);
    vt_collateral_source_free(src);
}

struct worker {
    struct vt_verifier *v;
    size_t start;
    int failures;
};

static void *work(void *p)
{
    struct worker *w = p;
    for (size_t k = 0; k < 40 * N_VCASES; k++) {
        size_t i = (w->start + k * 7) % N_VCASES;
        struct vt_claims c;
        struct vt_diag d;
        vt_diag_init(&d);
        if (verify_case(w->v, i, &c, &d) != VT_OK) {
            w->failures++;
            continue;
        }
        char *json = vt_claims_to_json(&c);
        if (json == NULL || strcmp(json, reference[i]) != 0) {
            w->failures++;
        }
        free(json);
    }
    return NULL;
}

/* Many threads on one verifier, every kind interleaved, from a cold cache: every verification
 * gives the single-threaded claims. (The ASan/UBSan build of scripts/check.sh runs it too.) */
static void test_concurrent(void **state)
{
    (void)state;
    root();
    struct test_source ts;
    struct vt_collateral_source *src;
    struct vt_verifier *v = verifier_with(&ts, &src, VT_VERIFIER_TTL_FOREVER);
    enum { THREADS = 6 };
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (size_t i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.v = v, .start = i};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (size_t i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
    }
    /* At most one fetch per platform per thread that missed at the same time. */
    assert_in_range(ts.dcap_fetches, 4, 4 * THREADS);
    vt_verifier_free(v);
    vt_collateral_source_free(src);
}

/* The options and the errors of the entry point. */
static void test_options_and_errors(void **state)
{
    (void)state;
    root();
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_verifier *v = NULL;
    assert_int_equal(vt_verifier_new(NULL, &v, &d), VT_E_ARG);
    assert_int_equal(
        vt_verifier_new(&(struct vt_verifier_config){.time_mode = (enum vt_time_mode)7}, &v, &d),
        VT_E_ARG);
    assert_string_equal(d.check, "verifier.time_mode");
    assert_int_equal(vt_verifier_new(&(struct vt_verifier_config){.collateral_ttl = -1}, &v, &d),
                     VT_E_ARG);
    assert_int_equal(vt_verifier_new(&(struct vt_verifier_config){0}, &v, &d), VT_OK);
    struct vt_claims c;
    struct vt_verify_opts o = {.now = vcases[0].at};
    /* No source: a DCAP quote has no collateral; an SEV-SNP report without its VEK neither. */
    assert_int_equal(vt_verify(v, loaded[0].ev, loaded[0].ev_len, &o, &c, &d),
                     VT_E_COLLATERAL_MISSING);
    assert_string_equal(d.check, "collateral.source");
    o.now = vcases[6].at;
    assert_int_equal(vt_verify(v, loaded[6].ev, loaded[6].ev_len, &o, &c, &d),
                     VT_E_COLLATERAL_MISSING);
    assert_string_equal(d.check, "vcek");
    /* Unknown bytes; a malformed quote gets the parser's own error. */
    static const uint8_t junk[] = "not evidence at all";
    assert_int_equal(vt_verify(v, junk, sizeof(junk), &o, &c, &d), VT_E_UNKNOWN_EVIDENCE);
    assert_string_equal(d.check, "evidence.type");
    assert_int_equal(vt_verify(v, loaded[0].ev, 100, &o, &c, &d), VT_E_TRUNCATED);
    assert_int_equal(vt_verify(NULL, junk, sizeof(junk), &o, &c, &d), VT_E_ARG);
    assert_int_equal(vt_verify(v, junk, sizeof(junk), NULL, &c, &d), VT_E_ARG);
    /* Expected report data: the report's own REPORT_DATA passes, one bit off fails. */
    o = (struct vt_verify_opts){
        .now = vcases[6].at, .vek = loaded[6].vek, .vek_len = loaded[6].vek_len};
    assert_int_equal(vt_verify(v, loaded[6].ev, loaded[6].ev_len, &o, &c, &d), VT_OK);
    uint8_t rd[64];
    memcpy(rd, c.report_data, 64);
    o.expect_report_data = rd;
    o.expect_report_data_len = 64;
    assert_int_equal(vt_verify(v, loaded[6].ev, loaded[6].ev_len, &o, &c, &d), VT_OK);
    rd[63] ^= 1;
    assert_int_equal(vt_verify(v, loaded[6].ev, loaded[6].ev_len, &o, &c, &d), VT_E_BINDING);
    assert_string_equal(d.check, "report_data");
    o.expect_report_data_len = 65;
    assert_int_equal(vt_verify(v, loaded[6].ev, loaded[6].ev_len, &o, &c, &d), VT_E_ARG);
    /* Nitro: no report data to expect; its nonce and max_age are checked. */
    o = (struct vt_verify_opts){
        .now = vcases[4].at, .expect_report_data = rd, .expect_report_data_len = 32};
    assert_int_equal(vt_verify(v, loaded[4].ev, loaded[4].ev_len, &o, &c, &d), VT_E_UNSUPPORTED);
    o = (struct vt_verify_opts){.now = vcases[4].at, .nonce = rd, .nonce_len = 8};
    assert_int_equal(vt_verify(v, loaded[4].ev, loaded[4].ev_len, &o, &c, &d), VT_E_NONCE_MISMATCH);
    o = (struct vt_verify_opts){.now = vcases[4].at + 3600, .has_max_age = true, .max_age = 60};
    assert_int_equal(vt_verify(v, loaded[4].ev, loaded[4].ev_len, &o, &c, &d), VT_E_EXPIRED);
    assert_string_equal(d.check, "document.max_age");
    /* vt_evidence_parse tells the kind and TEE without verifying. */
    struct vt_evidence e;
    for (size_t i = 0; i < N_VCASES; i++) {
        assert_int_equal(vt_evidence_parse(loaded[i].ev, loaded[i].ev_len, &e, &d), VT_OK);
        assert_int_equal(e.kind, vcases[i].kind);
        assert_int_equal(e.tee, vcases[i].tee);
    }
    vt_verifier_free(v);
    vt_verifier_free(NULL);
    vt_collateral_source_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind),         cmocka_unit_test(test_directory_layouts),
        cmocka_unit_test(test_ttl_and_failures),   cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_options_and_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
