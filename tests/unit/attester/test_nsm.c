/*
 * The "nsm" attester through a fake NSM device (struct vt_nsm_device): the fake decodes the CBOR
 * request and answers as the NSM would, with an attestation document built by the Nitro simulator
 * (sim:nitro) holding the requested nonce, public key and user data; plus GetRandom,
 * DescribePCR, Error responses and malformed CBOR, each with its precise error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>

#include <cmocka.h>

#include "attester_verify.h"
#include "nitro_sim.h"

enum fake_mode {
    F_OK = 0,
    F_ERROR,        /* {"Error": "InvalidArgument"} */
    F_BAD_CODE,     /* {"Error": "NoSuchCode"} */
    F_GARBAGE,      /* not CBOR: 0xff 0x00 */
    F_TRUNCATED,    /* a map head promising more than there is */
    F_TRAILING,     /* a good response followed by a byte */
    F_WRONG_KIND,   /* GetRandom answered to anything */
    F_NO_MEMBER,    /* {"Attestation": {}} */
    F_EXTRA_MEMBER, /* {"Attestation": {"document": h'..', "x": 1}} */
    F_DUP_MEMBER,   /* document twice */
    F_WRONG_TYPE,   /* document as text */
    F_UNIT,         /* "LockPCR" */
    F_UNKNOWN_KIND, /* {"DescribeNSM": {...}} */
    F_IOCTL_FAIL,   /* the exchange fails with EIO */
    F_EMPTY,        /* zero-length response */
};

struct fake {
    enum fake_mode mode;
    struct vt_attester *sim;
    unsigned calls;
    /* the last Attestation request, as decoded */
    bool have_nonce, have_pk, have_ud;
    uint16_t pcr_index;
};

/* Decode an optional bstr/null value. */
static void req_opt(struct vt_reader *r, struct vt_buf *out, bool *present)
{
    struct vt_cbor_head h;
    assert_int_equal(vt_cbor_get_head(r, &h), VT_OK);
    if (h.major == VT_CBOR_SIMPLE) {
        assert_int_equal(h.arg, VT_CBOR_NULL);
        *present = false;
        return;
    }
    assert_int_equal(h.major, VT_CBOR_BYTES);
    const uint8_t *p;
    size_t n;
    assert_int_equal(vt_cbor_get_string(r, &h, &p, &n), VT_OK);
    assert_int_equal(vt_buf_append(out, p, n), VT_OK);
    *present = true;
}

static bool key_is(struct vt_reader *r, const char *want)
{
    struct vt_cbor_head h;
    assert_int_equal(vt_cbor_get_head(r, &h), VT_OK);
    assert_int_equal(h.major, VT_CBOR_TEXT);
    const uint8_t *p;
    size_t n;
    assert_int_equal(vt_cbor_get_string(r, &h, &p, &n), VT_OK);
    return n == strlen(want) && memcmp(p, want, n) == 0;
}

static int fake_call(void *ctx, const uint8_t *req, size_t req_len, uint8_t *resp, size_t *resp_len)
{
    struct fake *f = ctx;
    f->calls++;
    if (f->mode == F_IOCTL_FAIL) {
        return EIO;
    }
    struct vt_nsim_cbor c = {0};
    struct vt_reader r;
    vt_reader_init(&r, req, req_len);
    struct vt_cbor_head h;
    assert_int_equal(vt_cbor_get_head(&r, &h), VT_OK);
    const char *kind = NULL;
    struct vt_buf doc;
    vt_buf_init(&doc, 1u << 20);
    uint8_t random[32];
    if (h.major == VT_CBOR_TEXT) {
        const uint8_t *p;
        size_t n;
        assert_int_equal(vt_cbor_get_string(&r, &h, &p, &n), VT_OK);
        assert_true(n == 9 && memcmp(p, "GetRandom", 9) == 0);
        kind = "GetRandom";
        for (size_t i = 0; i < sizeof(random); i++) {
            random[i] = (uint8_t)(0xa0 + i);
        }
    } else {
        assert_int_equal(h.major, VT_CBOR_MAP);
        assert_int_equal(h.arg, 1);
        if (key_is(&r, "DescribePCR")) {
            kind = "DescribePCR";
            assert_int_equal(vt_cbor_get_head(&r, &h), VT_OK);
            assert_int_equal(h.major, VT_CBOR_MAP);
            assert_true(key_is(&r, "index"));
            assert_int_equal(vt_cbor_get_head(&r, &h), VT_OK);
            assert_int_equal(h.major, VT_CBOR_UINT);
            f->pcr_index = (uint16_t)h.arg;
        } else {
            kind = "Attestation";
            assert_int_equal(vt_cbor_get_head(&r, &h), VT_OK);
            assert_int_equal(h.major, VT_CBOR_MAP);
            assert_int_equal(h.arg, 3);
            struct vt_buf ud, nonce, pk;
            vt_buf_init(&ud, 4096);
            vt_buf_init(&nonce, 4096);
            vt_buf_init(&pk, 4096);
            assert_true(key_is(&r, "user_data"));
            req_opt(&r, &ud, &f->have_ud);
            assert_true(key_is(&r, "nonce"));
            req_opt(&r, &nonce, &f->have_nonce);
            assert_true(key_is(&r, "public_key"));
            req_opt(&r, &pk, &f->have_pk);
            struct vt_attester_input in = {
                .user_data = f->have_ud ? (ud.data != NULL ? ud.data : (const uint8_t *)"") : NULL,
                .user_data_len = ud.len,
                .nonce =
                    f->have_nonce ? (nonce.data != NULL ? nonce.data : (const uint8_t *)"") : NULL,
                .nonce_len = nonce.len,
                .public_key = f->have_pk ? (pk.data != NULL ? pk.data : (const uint8_t *)"") : NULL,
                .public_key_len = pk.len};
            struct vt_diag d;
            vt_diag_init(&d);
            AV_OK(vt_attester_evidence(f->sim, &in, &doc, NULL, &d), d);
            vt_buf_cleanup(&ud);
            vt_buf_cleanup(&nonce);
            vt_buf_cleanup(&pk);
        }
    }
    assert_int_equal(vt_reader_expect_end(&r), VT_OK);

    switch (f->mode) {
    case F_ERROR:
    case F_BAD_CODE:
        vt_nsim_cbor_map(&c, 1);
        vt_nsim_cbor_text(&c, "Error");
        vt_nsim_cbor_text(&c, f->mode == F_ERROR ? "InvalidArgument" : "NoSuchCode");
        break;
    case F_GARBAGE:
        vt_nsim_cbor_raw(&c, "\xff\x00", 2);
        break;
    case F_TRUNCATED:
        vt_nsim_cbor_map(&c, 1);
        vt_nsim_cbor_text(&c, "Attestation");
        vt_nsim_cbor_map(&c, 1);
        vt_nsim_cbor_text(&c, "document");
        vt_nsim_cbor_head(&c, 2, 100);
        vt_nsim_cbor_raw(&c, "abc", 3);
        break;
    case F_WRONG_KIND:
        vt_nsim_cbor_map(&c, 1);
        vt_nsim_cbor_text(&c, "GetRandom");
        vt_nsim_cbor_map(&c, 1);
        vt_nsim_cbor_text(&c, "random");
        vt_nsim_cbor_bstr(&c, "\x01\x02", 2);
        break;
    case F_NO_MEMBER:
        vt_nsim_cbor_map(&c, 1);
        vt_nsim_cbor_text(&c, "Attestation");
        vt_nsim_cbor_map(&c, 0);
        break;
    case F_EXTRA_MEMBER:
    case F_DUP_MEMBER:
        vt_nsim_cbor_map(&c, 1);
        vt_nsim_cbor_text(&c, "Attestation");
        vt_nsim_cbor_map(&c, 2);
        vt_nsim_cbor_text(&c, "document");
        vt_nsim_cbor_bstr(&c, doc.data, doc.len);
        vt_nsim_cbor_text(&c, f->mode == F_DUP_MEMBER ? "document" : "x");
        if (f->mode == F_DUP_MEMBER) {
            vt_nsim_cbor_bstr(&c, doc.data, doc.len);
        } else {
            vt_nsim_cbor_uint(&c, 1);
        }
        break;
    case F_WRONG_TYPE:
        vt_nsim_cbor_map(&c, 1);
        vt_nsim_cbor_text(&c, "Attestation");
        vt_nsim_cbor_map(&c, 1);
        vt_nsim_cbor_text(&c, "document");
        vt_nsim_cbor_text(&c, "not bytes");
        break;
    case F_UNIT:
        vt_nsim_cbor_text(&c, "LockPCR");
        break;
    case F_UNKNOWN_KIND:
        vt_nsim_cbor_map(&c, 1);
        vt_nsim_cbor_text(&c, "DescribeNSM");
        vt_nsim_cbor_map(&c, 1);
        vt_nsim_cbor_text(&c, "max_pcrs");
        vt_nsim_cbor_uint(&c, 32);
        break;
    case F_EMPTY:
        break;
    default:
        vt_nsim_cbor_map(&c, 1);
        vt_nsim_cbor_text(&c, kind);
        if (strcmp(kind, "Attestation") == 0) {
            vt_nsim_cbor_map(&c, 1);
            vt_nsim_cbor_text(&c, "document");
            vt_nsim_cbor_bstr(&c, doc.data, doc.len);
        } else if (strcmp(kind, "GetRandom") == 0) {
            vt_nsim_cbor_map(&c, 1);
            vt_nsim_cbor_text(&c, "random");
            vt_nsim_cbor_bstr(&c, random, sizeof(random));
        } else {
            uint8_t pcr[48];
            memset(pcr, f->pcr_index, sizeof(pcr));
            vt_nsim_cbor_map(&c, 2);
            vt_nsim_cbor_text(&c, "lock");
            vt_nsim_cbor_bool(&c, f->pcr_index < 16);
            vt_nsim_cbor_text(&c, "data");
            vt_nsim_cbor_bstr(&c, pcr, sizeof(pcr));
        }
        if (f->mode == F_TRAILING) {
            vt_nsim_cbor_raw(&c, "\x00", 1);
        }
        break;
    }
    vt_buf_cleanup(&doc);
    struct vt_sim_blob out = {0};
    if (c.len == 0) {
        vt_nsim_cbor_discard(&c);
        *resp_len = 0;
        return 0;
    }
    assert_true(vt_nsim_cbor_finish(&c, &out));
    assert_true(out.len <= *resp_len);
    memcpy(resp, out.data, out.len);
    *resp_len = out.len;
    vt_sim_blob_cleanup(&out);
    return 0;
}

struct world {
    char tmp[512];
    char exp[600];
    struct fake fake;
    struct vt_nsm_device dev;
    struct vt_attester *a;
};

static void world_init(struct world *w)
{
    memset(w, 0, sizeof(*w));
    av_tmpdir(w->tmp, sizeof(w->tmp), "nsm");
    char pki[600];
    snprintf(pki, sizeof(pki), "%s/pki", w->tmp);
    snprintf(w->exp, sizeof(w->exp), "%s/export", w->tmp);
    struct vt_attester_opts so = {.sim_dir = pki};
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_attester_open("sim:nitro", &so, &w->fake.sim, &d), d);
    AV_OK(vt_attester_sim_export(w->fake.sim, w->exp, &d), d);
    w->dev.call = fake_call;
    w->dev.ctx = &w->fake;
    struct vt_attester_opts o = {.nsm_device = &w->dev};
    AV_OK(vt_attester_open("nsm", &o, &w->a, &d), d);
    assert_int_equal(vt_attester_tee(w->a), VT_TEE_NITRO);
}

static void world_cleanup(struct world *w)
{
    vt_attester_close(w->a);
    vt_attester_close(w->fake.sim);
    av_rm_rf(w->tmp);
}

static const uint8_t nonce[32] = {0xde, 0xad, 0xbe, 0xef, 7};
static const uint8_t pubkey[91] = {0x30, 0x59, 0x30, 0x13};
static const uint8_t user_data[3] = {'a', 'b', 'c'};

static void test_attestation_verified(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    struct vt_attester_input in = {.nonce = nonce,
                                   .nonce_len = sizeof(nonce),
                                   .public_key = pubkey,
                                   .public_key_len = sizeof(pubkey),
                                   .user_data = user_data,
                                   .user_data_len = sizeof(user_data)};
    struct vt_buf ev, aux;
    vt_buf_init(&ev, 1u << 20);
    vt_buf_init(&aux, 1u << 20);
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_attester_evidence(w.a, &in, &ev, &aux, &d), d);
    assert_int_equal(aux.len, 0);
    assert_true(w.fake.have_nonce && w.fake.have_pk && w.fake.have_ud);
    struct vt_claims c;
    vt_claims_init(&c);
    AV_OK(av_verify_nitro(w.exp, ev.data, ev.len, nonce, sizeof(nonce), &c, &d), d);
    assert_int_equal(c.tee, VT_TEE_NITRO);
    assert_true(c.nonce.present && c.nonce.len == sizeof(nonce));
    assert_memory_equal(c.nonce.data, nonce, sizeof(nonce));
    assert_true(c.public_key.present && c.public_key.len == sizeof(pubkey));
    assert_memory_equal(c.public_key.data, pubkey, sizeof(pubkey));
    assert_true(c.user_data.present && c.user_data.len == sizeof(user_data));
    assert_memory_equal(c.user_data.data, user_data, sizeof(user_data));

    /* absent fields are sent as null and come back absent */
    struct vt_attester_input only_nonce = {.nonce = nonce, .nonce_len = sizeof(nonce)};
    AV_OK(vt_attester_evidence(w.a, &only_nonce, &ev, NULL, &d), d);
    assert_true(w.fake.have_nonce && !w.fake.have_pk && !w.fake.have_ud);
    vt_claims_init(&c);
    AV_OK(av_verify_nitro(w.exp, ev.data, ev.len, nonce, sizeof(nonce), &c, &d), d);
    assert_false(c.public_key.present);
    assert_false(c.user_data.present);
    /* the verifier sees a different nonce as a mismatch */
    const uint8_t other[32] = {1};
    AV_CHECK(av_verify_nitro(w.exp, ev.data, ev.len, other, sizeof(other), &c, &d), d,
             VT_E_NONCE_MISMATCH, d.check);
    vt_buf_cleanup(&ev);
    vt_buf_cleanup(&aux);
    world_cleanup(&w);
}

static void test_random_and_pcr(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    uint8_t buf[64];
    size_t got = 0;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_attester_nsm_random(w.a, buf, 16, &got, &d), d);
    assert_int_equal(got, 16);
    assert_int_equal(buf[0], 0xa0);
    AV_OK(vt_attester_nsm_random(w.a, buf, sizeof(buf), &got, &d), d);
    assert_int_equal(got, 32);
    bool locked = false;
    uint8_t pcr[64];
    size_t pcr_len = 0;
    AV_OK(vt_attester_nsm_describe_pcr(w.a, 3, &locked, pcr, &pcr_len, &d), d);
    assert_int_equal(w.fake.pcr_index, 3);
    assert_true(locked);
    assert_int_equal(pcr_len, 48);
    assert_int_equal(pcr[0], 3);
    AV_OK(vt_attester_nsm_describe_pcr(w.a, 300, &locked, pcr, &pcr_len, &d), d);
    assert_int_equal(w.fake.pcr_index, 300);
    assert_false(locked);
    world_cleanup(&w);
}

static void expect(enum fake_mode mode, enum vt_err want, const char *check)
{
    struct world w;
    world_init(&w);
    w.fake.mode = mode;
    struct vt_attester_input in = {.nonce = nonce, .nonce_len = sizeof(nonce)};
    struct vt_buf ev;
    vt_buf_init(&ev, 1u << 20);
    assert_int_equal(vt_buf_append(&ev, "old", 3), VT_OK);
    struct vt_diag d;
    vt_diag_init(&d);
    AV_CHECK(vt_attester_evidence(w.a, &in, &ev, NULL, &d), d, want, check);
    assert_int_equal(ev.len, 3);
    vt_buf_cleanup(&ev);
    world_cleanup(&w);
}

static void test_error_paths(void **state)
{
    (void)state;
    expect(F_ERROR, VT_E_UPSTREAM, "nsm.response.error");
    expect(F_BAD_CODE, VT_E_BAD_FIELD, "nsm.response.error");
    expect(F_GARBAGE, VT_E_MALFORMED, "nsm.response");
    expect(F_TRUNCATED, VT_E_TRUNCATED, "nsm.response.member");
    expect(F_TRAILING, VT_E_TRAILING_DATA, "nsm.response");
    expect(F_WRONG_KIND, VT_E_MALFORMED, "nsm.response.kind");
    expect(F_NO_MEMBER, VT_E_MISSING_FIELD, "nsm.response.member");
    expect(F_EXTRA_MEMBER, VT_E_BAD_FIELD, "nsm.response.member");
    expect(F_DUP_MEMBER, VT_E_DUPLICATE, "nsm.response.member");
    expect(F_WRONG_TYPE, VT_E_BAD_FIELD, "nsm.response.member");
    expect(F_UNIT, VT_E_UNSUPPORTED, "nsm.response.kind");
    expect(F_UNKNOWN_KIND, VT_E_UNSUPPORTED, "nsm.response.kind");
    expect(F_IOCTL_FAIL, VT_E_IO, "nsm.call");
    expect(F_EMPTY, VT_E_TRUNCATED, "nsm.response");
}

static void test_input_and_open_errors(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    uint8_t big[VT_NSM_FIELD_MAX + 1];
    memset(big, 1, sizeof(big));
    struct vt_attester_input in = {.user_data = big, .user_data_len = sizeof(big)};
    struct vt_buf ev;
    vt_buf_init(&ev, 1u << 20);
    struct vt_diag d;
    vt_diag_init(&d);
    unsigned calls = w.fake.calls;
    AV_CHECK(vt_attester_evidence(w.a, &in, &ev, NULL, &d), d, VT_E_TOO_LARGE, "nsm.request");
    struct vt_attester_input bad = {.nonce = NULL, .nonce_len = 4};
    AV_CHECK(vt_attester_evidence(w.a, &bad, &ev, NULL, &d), d, VT_E_ARG, "nsm.request");
    assert_int_equal(w.fake.calls, calls); /* nothing sent */
    vt_buf_cleanup(&ev);
    world_cleanup(&w);

    struct vt_attester *a = NULL;
    struct vt_attester_opts o = {.nsm_path = "/nonexistent/nsm"};
    AV_CHECK(vt_attester_open("nsm", &o, &a, &d), d, VT_E_NOT_FOUND, "nsm.open");
    struct vt_nsm_device nocall = {0};
    o.nsm_device = &nocall;
    AV_CHECK(vt_attester_open("nsm", &o, &a, &d), d, VT_E_ARG, "nsm.open");
    assert_null(a);
}

static void test_parse_direct(void **state)
{
    (void)state;
    struct vt_nsm_response r;
    struct vt_diag d;
    vt_diag_init(&d);
    /* {"Error": "InternalError"} */
    const uint8_t err[] = {0xa1, 0x65, 'E', 'r', 'r', 'o', 'r', 0x6d, 'I', 'n', 't',
                           'e',  'r',  'n', 'a', 'l', 'E', 'r', 'r',  'o', 'r'};
    AV_OK(vt_nsm_response_parse(err, sizeof(err), &r, &d), d);
    assert_int_equal(r.kind, VT_NSM_RESP_ERROR);
    assert_string_equal(r.error, "InternalError");
    /* {"GetRandom": {"random": h'0102'}} */
    const uint8_t rnd[] = {0xa1, 0x69, 'G', 'e', 't', 'R', 'a', 'n', 'd',  'o',  'm',
                           0xa1, 0x66, 'r', 'a', 'n', 'd', 'o', 'm', 0x42, 0x01, 0x02};
    AV_OK(vt_nsm_response_parse(rnd, sizeof(rnd), &r, &d), d);
    assert_int_equal(r.kind, VT_NSM_RESP_GET_RANDOM);
    assert_int_equal(r.data_len, 2);
    assert_ptr_equal(r.data, rnd + sizeof(rnd) - 2);
    /* two pairs at the top */
    uint8_t two[sizeof(rnd)];
    memcpy(two, rnd, sizeof(rnd));
    two[0] = 0xa2;
    AV_CHECK(vt_nsm_response_parse(two, sizeof(two), &r, &d), d, VT_E_MALFORMED, "nsm.response");
    /* a non-minimal head */
    const uint8_t nonmin[] = {0xb8, 0x01};
    AV_CHECK(vt_nsm_response_parse(nonmin, sizeof(nonmin), &r, &d), d, VT_E_MALFORMED,
             "nsm.response");
    AV_CHECK(vt_nsm_response_parse(NULL, 0, &r, &d), d, VT_E_TRUNCATED, "nsm.response");
}

int main(void)
{
    vt_attester_sim_register();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attestation_verified), cmocka_unit_test(test_random_and_pcr),
        cmocka_unit_test(test_error_paths),          cmocka_unit_test(test_input_and_open_errors),
        cmocka_unit_test(test_parse_direct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
