/*
 * The "tsm" attester against a directory tree standing in for configfs-tsm (tsm_fake.h), whose
 * reports come from the simulators: evidence produced, then verified with libveritee's verifiers
 * against the exported synthetic roots, report data checked in the claims; every error path with
 * its code and check name; and the SNP certificate table parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <dirent.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "attester_verify.h"
#include "tsm_fake.h"

struct world {
    char tmp[512];
    char root[700];
    char export_dir[700];
    struct vt_attester *sim;
    struct vt_tsm_fake *fake;
};

static void world_init(struct world *w, const char *sim_backend, enum vt_tsm_fake_mode mode)
{
    memset(w, 0, sizeof(*w));
    av_tmpdir(w->tmp, sizeof(w->tmp), "tsm");
    assert_true(w->tmp[0] != '\0');
    snprintf(w->root, sizeof(w->root), "%s/config/tsm/report", w->tmp);
    snprintf(w->export_dir, sizeof(w->export_dir), "%s/export", w->tmp);
    char pki[700];
    snprintf(pki, sizeof(pki), "%s/pki", w->tmp);
    struct vt_attester_opts so = {.sim_dir = pki};
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_attester_open(sim_backend, &so, &w->sim, &d), d);
    AV_OK(vt_attester_sim_export(w->sim, w->export_dir, &d), d);
    w->fake = vt_tsm_fake_start(w->root, w->sim, mode);
    assert_non_null(w->fake);
}

static void world_cleanup(struct world *w)
{
    vt_tsm_fake_stop(w->fake);
    vt_attester_close(w->sim);
    av_rm_rf(w->tmp);
}

static size_t root_entries(const char *root)
{
    DIR *dp = opendir(root);
    assert_non_null(dp);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        n += de->d_name[0] != '.';
    }
    closedir(dp);
    return n;
}

static void fill_rd(struct vt_attester_input *in, uint8_t seed)
{
    memset(in, 0, sizeof(*in));
    for (size_t i = 0; i < 64; i++) {
        in->report_data[i] = (uint8_t)(seed + 3 * i);
    }
}

static enum vt_err tsm_run(struct world *w, const struct vt_attester_opts *extra,
                           struct vt_attester_input *in, struct vt_buf *ev, struct vt_buf *aux,
                           enum vt_tee *tee, struct vt_diag *d)
{
    struct vt_attester_opts o = {0};
    if (extra != NULL) {
        o = *extra;
    }
    o.tsm_root = w->root;
    struct vt_attester *a = NULL;
    vt_diag_init(d);
    enum vt_err err = vt_attester_open("tsm", &o, &a, d);
    if (err != VT_OK) {
        return err;
    }
    assert_int_equal(vt_attester_tee(a), VT_TEE_NONE);
    err = vt_attester_evidence(a, in, ev, aux, d);
    *tee = vt_attester_tee(a);
    assert_string_equal(vt_attester_backend(a), "tsm");
    vt_attester_close(a);
    return err;
}

static void test_tdx_verified(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, "sim:tdx", VT_TSM_FAKE_OK);
    for (uint8_t round = 0; round < 2; round++) {
        struct vt_attester_input in;
        fill_rd(&in, (uint8_t)(0x40 + round));
        struct vt_buf ev, aux;
        vt_buf_init(&ev, 1u << 20);
        vt_buf_init(&aux, 1u << 20);
        struct vt_diag d;
        enum vt_tee tee;
        AV_OK(tsm_run(&w, NULL, &in, &ev, &aux, &tee, &d), d);
        assert_int_equal(tee, VT_TEE_TDX);
        assert_int_equal(aux.len, 0);
        struct vt_claims c;
        vt_claims_init(&c);
        AV_OK(av_verify_dcap(w.export_dir, VT_TEE_TDX, ev.data, ev.len, &c, &d), d);
        assert_int_equal(c.tee, VT_TEE_TDX);
        assert_memory_equal(c.report_data, in.report_data, 64);
        vt_buf_cleanup(&ev);
        vt_buf_cleanup(&aux);
    }
    assert_int_equal(vt_tsm_fake_reports(w.fake), 2);
    assert_int_equal(root_entries(w.root), 0); /* every entry removed */
    world_cleanup(&w);
}

static void test_snp_verified_with_auxblob_vcek(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, "sim:snp", VT_TSM_FAKE_OK);
    struct vt_attester_input in;
    fill_rd(&in, 0x11);
    struct vt_buf ev, aux;
    vt_buf_init(&ev, 1u << 20);
    vt_buf_init(&aux, 1u << 20);
    struct vt_diag d;
    enum vt_tee tee;
    AV_OK(tsm_run(&w, NULL, &in, &ev, &aux, &tee, &d), d);
    assert_int_equal(tee, VT_TEE_SEV_SNP);
    assert_int_equal(ev.len, VT_SNP_REPORT_SIZE);
    assert_true(aux.len > 100 && aux.data[0] == 0x30); /* the VCEK, DER */
    struct vt_claims c;
    vt_claims_init(&c);
    AV_OK(av_verify_snp(w.export_dir, ev.data, ev.len, aux.data, aux.len, &c, &d), d);
    assert_int_equal(c.tee, VT_TEE_SEV_SNP);
    assert_memory_equal(c.report_data, in.report_data, 64);
    vt_buf_cleanup(&ev);
    vt_buf_cleanup(&aux);
    assert_int_equal(root_entries(w.root), 0);
    world_cleanup(&w);
}

static void test_privlevel_written(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, "sim:snp", VT_TSM_FAKE_OK);
    struct vt_attester_input in;
    fill_rd(&in, 0x22);
    struct vt_buf ev;
    vt_buf_init(&ev, 1u << 20);
    struct vt_diag d;
    enum vt_tee tee;
    struct vt_attester_opts o = {.tsm_set_privlevel = true, .tsm_privlevel = 2};
    /* two writes (privlevel, inblob): generation moves by 2 and that is no race */
    AV_OK(tsm_run(&w, &o, &in, &ev, NULL, &tee, &d), d);
    unsigned level = 99;
    assert_true(vt_tsm_fake_last_privlevel(w.fake, &level));
    assert_int_equal(level, 2);
    vt_buf_cleanup(&ev);
    /* above TSM_PRIVLEVEL_MAX */
    o.tsm_privlevel = 4;
    struct vt_attester *a = NULL;
    o.tsm_root = w.root;
    AV_CHECK(vt_attester_open("tsm", &o, &a, &d), d, VT_E_ARG, "tsm.privlevel");
    assert_null(a);
    world_cleanup(&w);
}

static void expect_mode(const char *sim, enum vt_tsm_fake_mode mode, enum vt_err want,
                        const char *check)
{
    struct world w;
    world_init(&w, sim, mode);
    struct vt_attester_input in;
    fill_rd(&in, 0x33);
    struct vt_buf ev, aux;
    vt_buf_init(&ev, 1u << 20);
    vt_buf_init(&aux, 1u << 20);
    assert_int_equal(vt_buf_append(&ev, "old", 3), VT_OK);
    struct vt_diag d;
    enum vt_tee tee;
    AV_CHECK(tsm_run(&w, NULL, &in, &ev, &aux, &tee, &d), d, want, check);
    assert_int_equal(tee, VT_TEE_NONE);
    assert_int_equal(ev.len, 3); /* evidence untouched on failure */
    assert_int_equal(root_entries(w.root), 0);
    vt_buf_cleanup(&ev);
    vt_buf_cleanup(&aux);
    world_cleanup(&w);
}

static void test_generation_race(void **state)
{
    (void)state;
    expect_mode("sim:tdx", VT_TSM_FAKE_RACE, VT_E_STATE, "tsm.generation");
}

static void test_empty_outblob(void **state)
{
    (void)state;
    expect_mode("sim:tdx", VT_TSM_FAKE_EMPTY_OUTBLOB, VT_E_MISSING_FIELD, "tsm.outblob.empty");
}

static void test_unknown_provider(void **state)
{
    (void)state;
    expect_mode("sim:tdx", VT_TSM_FAKE_UNKNOWN_PROVIDER, VT_E_UNSUPPORTED_TEE, "tsm.provider");
}

static void test_bad_auxblob(void **state)
{
    (void)state;
    expect_mode("sim:snp", VT_TSM_FAKE_BAD_AUXBLOB, VT_E_BAD_LENGTH, "tsm.auxblob.entry");
}

static void test_snp_without_auxblob(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, "sim:snp", VT_TSM_FAKE_NO_AUXBLOB);
    struct vt_attester_input in;
    fill_rd(&in, 0x44);
    struct vt_buf ev, aux;
    vt_buf_init(&ev, 1u << 20);
    vt_buf_init(&aux, 1u << 20);
    struct vt_diag d;
    enum vt_tee tee;
    AV_OK(tsm_run(&w, NULL, &in, &ev, &aux, &tee, &d), d);
    assert_int_equal(tee, VT_TEE_SEV_SNP);
    assert_int_equal(ev.len, VT_SNP_REPORT_SIZE);
    assert_int_equal(aux.len, 0); /* the VCEK must then come from the KDS or a cache */
    vt_buf_cleanup(&ev);
    vt_buf_cleanup(&aux);
    world_cleanup(&w);
}

static void test_missing_root(void **state)
{
    (void)state;
    struct vt_attester_opts o = {.tsm_root = "/nonexistent/veritee/tsm/report"};
    struct vt_attester *a = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_CHECK(vt_attester_open("tsm", &o, &a, &d), d, VT_E_NOT_FOUND, "tsm.root");
    assert_null(a);
    o.tsm_root = "/dev/null"; /* not a directory */
    AV_CHECK(vt_attester_open("tsm", &o, &a, &d), d, VT_E_NOT_FOUND, "tsm.root");
}

static void test_no_provider_answers(void **state)
{
    (void)state;
    char tmp[512];
    av_tmpdir(tmp, sizeof(tmp), "tsm-silent");
    struct vt_attester_opts o = {.tsm_root = tmp, .tsm_wait_ms = 50};
    struct vt_attester *a = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_attester_open("tsm", &o, &a, &d), d);
    struct vt_attester_input in;
    fill_rd(&in, 0x55);
    struct vt_buf ev;
    vt_buf_init(&ev, 1u << 20);
    AV_CHECK(vt_attester_evidence(a, &in, &ev, NULL, &d), d, VT_E_IO, "tsm.generation");
    assert_int_equal(root_entries(tmp), 0);
    vt_buf_cleanup(&ev);
    vt_attester_close(a);
    av_rm_rf(tmp);
}

static void test_unknown_backend(void **state)
{
    (void)state;
    struct vt_attester *a = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_CHECK(vt_attester_open("sev", NULL, &a, &d), d, VT_E_UNSUPPORTED, "attester.backend");
    AV_CHECK(vt_attester_open("sim:arm", NULL, &a, &d), d, VT_E_UNSUPPORTED, "attester.backend");
    assert_null(a);
    vt_attester_close(NULL);
}

/* ---- the certificate table parser ---- */

static const uint8_t vcek_guid[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};

static void entry(uint8_t *t, const uint8_t guid[16], uint32_t off, uint32_t len)
{
    memcpy(t, guid, 16);
    for (size_t i = 0; i < 4; i++) {
        t[16 + i] = (uint8_t)(off >> (8 * i));
        t[20 + i] = (uint8_t)(len >> (8 * i));
    }
}

static void test_certtable(void **state)
{
    (void)state;
    static const uint8_t other[16] = {1, 2, 3};
    uint8_t t[200];
    memset(t, 0, sizeof(t));
    entry(t, other, 72, 10);
    entry(t + 24, vcek_guid, 82, 20);
    memset(t + 82, 0xab, 20);
    const uint8_t *v = NULL;
    size_t n = 0;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_snp_certtable_vcek(t, 102, &v, &n, &d), d);
    assert_ptr_equal(v, t + 82);
    assert_int_equal(n, 20);
    /* no terminator */
    AV_CHECK(vt_snp_certtable_vcek(t, 20, &v, &n, &d), d, VT_E_TRUNCATED, "tsm.auxblob.table");
    AV_CHECK(vt_snp_certtable_vcek(t, 0, &v, &n, &d), d, VT_E_TRUNCATED, "tsm.auxblob.table");
    /* past the end */
    AV_CHECK(vt_snp_certtable_vcek(t, 90, &v, &n, &d), d, VT_E_BAD_LENGTH, "tsm.auxblob.entry");
    /* offset near UINT32_MAX */
    entry(t, other, 0xffffffffu, 2);
    AV_CHECK(vt_snp_certtable_vcek(t, 102, &v, &n, &d), d, VT_E_BAD_LENGTH, "tsm.auxblob.entry");
    /* two VCEK entries */
    entry(t, vcek_guid, 82, 20);
    AV_CHECK(vt_snp_certtable_vcek(t, 102, &v, &n, &d), d, VT_E_DUPLICATE, "tsm.auxblob.vcek");
    /* no VCEK */
    entry(t, other, 82, 20);
    entry(t + 24, other, 82, 20);
    AV_CHECK(vt_snp_certtable_vcek(t, 102, &v, &n, &d), d, VT_E_NOT_FOUND, "tsm.auxblob.vcek");
    /* only the terminator */
    memset(t, 0, 24);
    AV_CHECK(vt_snp_certtable_vcek(t, 24, &v, &n, &d), d, VT_E_NOT_FOUND, "tsm.auxblob.vcek");
}

int main(void)
{
    vt_attester_sim_register();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tdx_verified),
        cmocka_unit_test(test_snp_verified_with_auxblob_vcek),
        cmocka_unit_test(test_privlevel_written),
        cmocka_unit_test(test_generation_race),
        cmocka_unit_test(test_empty_outblob),
        cmocka_unit_test(test_unknown_provider),
        cmocka_unit_test(test_bad_auxblob),
        cmocka_unit_test(test_snp_without_auxblob),
        cmocka_unit_test(test_missing_root),
        cmocka_unit_test(test_no_provider_answers),
        cmocka_unit_test(test_unknown_backend),
        cmocka_unit_test(test_certtable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
