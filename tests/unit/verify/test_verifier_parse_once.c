/*
 * Evidence is parsed once per verification. This test is linked with its own copies of the four
 * evidence parsers (src/tee/dcap/quote.c, src/tee/nitro/document.c, src/tee/snp/report.c,
 * src/tee/snp/hcl.c) compiled with VT_PARSE_COUNTERS, ahead of the library's
 * (tests/CMakeLists.txt), so every entry into a parser is counted: vt_verify must enter its
 * evidence's parser once, on a cold verifier (collateral fetched through the source, PCK/VEK/CA
 * chains verified) and a warm one alike, and vt_evidence_parse + vt_verify_evidence once in all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

#include "tee/tee_internal.h"
#include "verifier_cases.h"
#include "vt_fixtures.h"

atomic_ulong vt_parse_count_dcap_quote, vt_parse_count_nitro_doc, vt_parse_count_snp_report,
    vt_parse_count_hcl_report;

static void reset(void)
{
    atomic_store(&vt_parse_count_dcap_quote, 0);
    atomic_store(&vt_parse_count_nitro_doc, 0);
    atomic_store(&vt_parse_count_snp_report, 0);
    atomic_store(&vt_parse_count_hcl_report, 0);
}

/* What one verification of this kind must have entered: each parser it needs, once. */
static void expect_once(enum vt_evidence_kind k, const char *what)
{
    unsigned long q = atomic_load(&vt_parse_count_dcap_quote),
                  n = atomic_load(&vt_parse_count_nitro_doc),
                  s = atomic_load(&vt_parse_count_snp_report),
                  h = atomic_load(&vt_parse_count_hcl_report);
    unsigned long wq = k == VT_EVIDENCE_DCAP_QUOTE, wn = k == VT_EVIDENCE_NITRO_DOC,
                  ws = k == VT_EVIDENCE_SNP_REPORT || k == VT_EVIDENCE_AZURE_HCL,
                  wh = k == VT_EVIDENCE_AZURE_HCL;
    if (q != wq || n != wn || s != ws || h != wh) {
        fail_msg("%s: parsers entered: quote %lu, nitro %lu, snp %lu, hcl %lu; expected %lu, %lu, "
                 "%lu, %lu",
                 what, q, n, s, h, wq, wn, ws, wh);
    }
}

static void test_parsed_once(void **state)
{
    (void)state;
    const char *root = vt_fixtures_or_skip();
    if (root == NULL) {
        skip();
    }
    for (size_t i = 0; i < N_VCASES; i++) {
        const struct vcase *c = &vcases[i];
        char path[2048];
        size_t ev_len = 0, vek_len = 0;
        snprintf(path, sizeof(path), "%s/%s", root, c->evidence);
        uint8_t *ev = vt_test_read_file(path, &ev_len);
        assert_non_null(ev);
        uint8_t *vek = NULL;
        if (c->vek != NULL) {
            snprintf(path, sizeof(path), "%s/%s", root, c->vek);
            assert_non_null(vek = vt_test_read_file(path, &vek_len));
        }
        struct vt_diag d;
        vt_diag_init(&d);
        struct vt_collateral_source *src = NULL;
        if (c->collateral != NULL) {
            snprintf(path, sizeof(path), "%s/%s", root, c->collateral);
            assert_int_equal(vt_collateral_source_dir(path, &src, &d), VT_OK);
        }
        struct vt_verifier *v = NULL;
        assert_int_equal(vt_verifier_new(&(struct vt_verifier_config){.collateral = src}, &v, &d),
                         VT_OK);
        struct vt_verify_opts o = {.now = c->at, .vek = vek, .vek_len = vek_len};
        struct vt_claims claims;
        for (int round = 0; round < 3; round++) { /* cold, then warm caches */
            reset();
            enum vt_err err = vt_verify(v, ev, ev_len, &o, &claims, &d);
            if (err != VT_OK) {
                fail_msg("%s: %s: %s", c->evidence, d.check, d.detail);
            }
            expect_once(c->kind, c->evidence);
        }
        reset();
        struct vt_evidence e;
        assert_int_equal(vt_evidence_parse(ev, ev_len, &e, &d), VT_OK);
        assert_int_equal(vt_verify_evidence(v, &e, &o, &claims, &d), VT_OK);
        expect_once(c->kind, c->evidence);
        vt_verifier_free(v);
        vt_collateral_source_free(src);
        free(ev);
        free(vek);
    }
}

/* The counters count: the per-TEE entry points that take bytes parse too. */
static void test_counters_work(void **state)
{
    (void)state;
    reset();
    struct vt_dcap_quote q;
    static const uint8_t b[8];
    assert_int_not_equal(vt_dcap_quote_parse(b, sizeof(b), &q, NULL), VT_OK);
    assert_int_equal(atomic_load(&vt_parse_count_dcap_quote), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_work),
        cmocka_unit_test(test_parsed_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
