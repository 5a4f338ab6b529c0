/*
 * The "sim:*" attester backends: evidence of each TEE verified with libveritee's verifiers
 * against the exported synthetic roots and collateral, the binding checked in the claims; the
 * PKI persisted in sim_dir and reused by a later open (a verifier set up once keeps working).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "attester_verify.h"

static void open_sim(const char *backend, const char *sim_dir, struct vt_attester **a)
{
    struct vt_attester_opts o = {.sim_dir = sim_dir};
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_attester_open(backend, &o, a, &d), d);
}

static void check_dcap(enum vt_tee tee, const char *backend)
{
    char tmp[512], pki[600], exp[600];
    av_tmpdir(tmp, sizeof(tmp), "sim");
    snprintf(pki, sizeof(pki), "%s/pki", tmp);
    snprintf(exp, sizeof(exp), "%s/export", tmp);
    struct vt_attester *a = NULL;
    open_sim(backend, pki, &a);
    assert_int_equal(vt_attester_tee(a), tee);
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_attester_sim_export(a, exp, &d), d);
    struct vt_attester_input in;
    memset(&in, 0, sizeof(in));
    memset(in.report_data, 0x5a, 64);
    in.report_data[63] = 1;
    struct vt_buf ev, aux;
    vt_buf_init(&ev, 1u << 20);
    vt_buf_init(&aux, 1u << 20);
    AV_OK(vt_attester_evidence(a, &in, &ev, &aux, &d), d);
    assert_int_equal(aux.len, 0);
    struct vt_claims c;
    vt_claims_init(&c);
    AV_OK(av_verify_dcap(exp, tee, ev.data, ev.len, &c, &d), d);
    assert_int_equal(c.tee, tee);
    assert_memory_equal(c.report_data, in.report_data, 64);
    vt_claims_init(&c);
    AV_OK(av_verify_public(exp, tee, ev.data, ev.len, in.report_data, &c, &d), d);
    assert_int_equal(c.tee, tee);
    const char *missing[] = {"/nonexistent/anchor.pem", NULL};
    struct vt_cert_list *none = NULL;
    assert_int_equal(vt_trust_anchors_load(missing, &none, &d), VT_E_IO);
    assert_null(none);
    assert_int_equal(vt_trust_anchors_load(NULL, &none, &d), VT_E_ARG);
    vt_attester_close(a);

    /* a later process: same sim_dir, same PKI; the verifier set up from the first export still
     * verifies (collateral exported once, before) */
    a = NULL;
    open_sim(backend, pki, &a);
    in.report_data[0] = 0x77;
    AV_OK(vt_attester_evidence(a, &in, &ev, NULL, &d), d);
    vt_claims_init(&c);
    AV_OK(av_verify_dcap(exp, tee, ev.data, ev.len, &c, &d), d);
    assert_memory_equal(c.report_data, in.report_data, 64);
    vt_attester_close(a);

    /* without sim_dir: a fresh PKI that the exported roots do not trust */
    open_sim(backend, NULL, &a);
    AV_OK(vt_attester_evidence(a, &in, &ev, NULL, &d), d);
    vt_claims_init(&c);
    assert_int_not_equal(av_verify_dcap(exp, tee, ev.data, ev.len, &c, &d), VT_OK);
    vt_attester_close(a);
    vt_buf_cleanup(&ev);
    vt_buf_cleanup(&aux);
    av_rm_rf(tmp);
}

static void test_sgx(void **state)
{
    (void)state;
    check_dcap(VT_TEE_SGX, "sim:sgx");
}

static void test_tdx(void **state)
{
    (void)state;
    check_dcap(VT_TEE_TDX, "sim:tdx");
}

static void test_snp(void **state)
{
    (void)state;
    char tmp[512], pki[600], exp[600];
    av_tmpdir(tmp, sizeof(tmp), "sim");
    snprintf(pki, sizeof(pki), "%s/pki", tmp);
    snprintf(exp, sizeof(exp), "%s/export", tmp);
    struct vt_attester *a = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_buf ev, aux;
    vt_buf_init(&ev, 1u << 20);
    vt_buf_init(&aux, 1u << 20);
    for (int round = 0; round < 2; round++) {
        open_sim("sim:snp", pki, &a);
        assert_int_equal(vt_attester_tee(a), VT_TEE_SEV_SNP);
        if (round == 0) {
            AV_OK(vt_attester_sim_export(a, exp, &d), d);
        }
        struct vt_attester_input in;
        memset(&in, 0, sizeof(in));
        memset(in.report_data, 0x21 + round, 64);
        AV_OK(vt_attester_evidence(a, &in, &ev, &aux, &d), d);
        assert_int_equal(ev.len, VT_SNP_REPORT_SIZE);
        assert_true(aux.len > 0);
        struct vt_claims c;
        vt_claims_init(&c);
        AV_OK(av_verify_snp(exp, ev.data, ev.len, aux.data, aux.len, &c, &d), d);
        assert_int_equal(c.tee, VT_TEE_SEV_SNP);
        assert_memory_equal(c.report_data, in.report_data, 64);
        vt_attester_close(a);
    }
    vt_buf_cleanup(&ev);
    vt_buf_cleanup(&aux);
    av_rm_rf(tmp);
}

static void test_nitro(void **state)
{
    (void)state;
    char tmp[512], pki[600], exp[600];
    av_tmpdir(tmp, sizeof(tmp), "sim");
    snprintf(pki, sizeof(pki), "%s/pki", tmp);
    snprintf(exp, sizeof(exp), "%s/export", tmp);
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_buf ev;
    vt_buf_init(&ev, 1u << 20);
    const uint8_t nonce[32] = {1, 2, 3, 4, 5};
    const uint8_t pub[65] = {0x04, 9, 9, 9};
    const uint8_t user[5] = {'h', 'e', 'l', 'l', 'o'};
    for (int round = 0; round < 2; round++) {
        struct vt_attester *a = NULL;
        open_sim("sim:nitro", pki, &a);
        assert_int_equal(vt_attester_tee(a), VT_TEE_NITRO);
        if (round == 0) {
            AV_OK(vt_attester_sim_export(a, exp, &d), d);
        }
        struct vt_attester_input in = {.nonce = nonce,
                                       .nonce_len = sizeof(nonce),
                                       .public_key = pub,
                                       .public_key_len = sizeof(pub),
                                       .user_data = round == 0 ? user : NULL,
                                       .user_data_len = round == 0 ? sizeof(user) : 0};
        AV_OK(vt_attester_evidence(a, &in, &ev, NULL, &d), d);
        struct vt_claims c;
        vt_claims_init(&c);
        AV_OK(av_verify_nitro(exp, ev.data, ev.len, nonce, sizeof(nonce), &c, &d), d);
        assert_int_equal(c.tee, VT_TEE_NITRO);
        assert_true(c.nonce.present && c.nonce.len == sizeof(nonce));
        assert_memory_equal(c.nonce.data, nonce, sizeof(nonce));
        assert_true(c.public_key.present && c.public_key.len == sizeof(pub));
        assert_memory_equal(c.public_key.data, pub, sizeof(pub));
        assert_int_equal(c.user_data.present, round == 0);
        if (round == 0) {
            assert_memory_equal(c.user_data.data, user, sizeof(user));
        }
        /* oversized fields */
        in.user_data_len = VT_NSM_FIELD_MAX + 1;
        AV_CHECK(vt_attester_evidence(a, &in, &ev, NULL, &d), d, VT_E_TOO_LARGE, "sim.nitro.input");
        vt_attester_close(a);
    }
    vt_buf_cleanup(&ev);
    av_rm_rf(tmp);
}

static void test_errors(void **state)
{
    (void)state;
    struct vt_attester *a = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_CHECK(vt_attester_open("sim:arm", NULL, &a, &d), d, VT_E_UNSUPPORTED, "attester.backend");
    /* sim_dir that cannot be created */
    struct vt_attester_opts o = {.sim_dir = "/proc/veritee-no/such"};
    AV_CHECK(vt_attester_open("sim:sgx", &o, &a, &d), d, VT_E_IO, "sim.dir");
    assert_null(a);
    /* a corrupt PEM in sim_dir */
    char tmp[512], sub[600];
    av_tmpdir(tmp, sizeof(tmp), "sim");
    snprintf(sub, sizeof(sub), "%s/nitro", tmp);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(sub, sizeof(sub), "%s/nitro/root.pem", tmp);
    FILE *f = fopen(sub, "w");
    assert_non_null(f);
    fputs("not a certificate\n", f);
    fclose(f);
    o.sim_dir = tmp;
    AV_CHECK(vt_attester_open("sim:nitro", &o, &a, &d), d, VT_E_BAD_PEM, "sim.file");
    av_rm_rf(tmp);
    /* sim:snp: a VCEK key file that holds another key (the ARK's) is refused by name, and the
     * simulator does not sign with it */
    av_tmpdir(tmp, sizeof(tmp), "sim");
    open_sim("sim:snp", tmp, &a);
    vt_attester_close(a);
    a = NULL;
    char from[700], dst[700];
    snprintf(from, sizeof(from), "%s/snp/ark-key.pem", tmp);
    snprintf(dst, sizeof(dst), "%s/snp/vcek-key.pem", tmp);
    struct vt_buf key;
    vt_buf_init(&key, 1u << 16);
    AV_OK(vt_file_read(from, &key, &d), d);
    FILE *kf = fopen(dst, "w");
    assert_non_null(kf);
    assert_int_equal(fwrite(key.data, 1, key.len, kf), key.len);
    assert_int_equal(fclose(kf), 0);
    vt_buf_cleanup(&key);
    o.sim_dir = tmp;
    AV_CHECK(vt_attester_open("sim:snp", &o, &a, &d), d, VT_E_BAD_KEY, "sim.snp.key");
    assert_non_null(strstr(d.detail, "vcek-key.pem (RSA, 2048 bits) is not the key of"));
    assert_null(a);
    av_rm_rf(tmp);
    /* export from a non-sim attester */
    char root[600];
    av_tmpdir(root, sizeof(root), "sim-tsm");
    struct vt_attester_opts to = {.tsm_root = root};
    AV_OK(vt_attester_open("tsm", &to, &a, &d), d);
    AV_CHECK(vt_attester_sim_export(a, root, &d), d, VT_E_STATE, "sim.export");
    size_t got = 0;
    uint8_t buf[8];
    AV_CHECK(vt_attester_nsm_random(a, buf, sizeof(buf), &got, &d), d, VT_E_STATE,
             "attester.backend");
    vt_attester_close(a);
    av_rm_rf(root);
}

int main(void)
{
    vt_attester_sim_register();
    vt_attester_sim_register(); /* idempotent */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgx),   cmocka_unit_test(test_tdx),    cmocka_unit_test(test_snp),
        cmocka_unit_test(test_nitro), cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
