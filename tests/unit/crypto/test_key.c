/*
 * struct vt_key, the one key type: algorithms, constructors, and the refusal of a key of the
 * wrong kind by every operation (VT_E_ARG, the detail naming the expected and actual algorithm).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/cms.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"

struct fixture {
    struct vt_key *p256; /* private */
    struct vt_key *p256_pub;
    struct vt_key *rsa; /* private */
    struct vt_jwk *jwk384;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    uint8_t xy[64];
    if (f == NULL || vt_key_generate(VT_KEY_P256, 0, &f->p256, NULL) != VT_OK) {
        return -1;
    }
    vt_key_p256_xy(f->p256, xy);
    if (vt_key_from_p256_xy(xy, &f->p256_pub, NULL) != VT_OK ||
        vt_key_generate(VT_KEY_RSA, 2048, &f->rsa, NULL) != VT_OK ||
        vt_jwk_generate("P-384", &f->jwk384, NULL) != VT_OK) {
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    vt_key_free(f->p256);
    vt_key_free(f->p256_pub);
    vt_key_free(f->rsa);
    vt_jwk_free(f->jwk384);
    free(f);
    return 0;
}

static void test_algorithms(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(vt_key_alg(f->p256), VT_KEY_P256);
    assert_true(vt_key_has_private(f->p256));
    assert_int_equal(vt_key_alg(f->p256_pub), VT_KEY_P256);
    assert_false(vt_key_has_private(f->p256_pub));
    assert_int_equal(vt_key_alg(f->rsa), VT_KEY_RSA);
    assert_true(vt_key_has_private(f->rsa));
    assert_int_equal(vt_key_alg(vt_jwk_key(f->jwk384)), VT_KEY_P384);
    assert_string_equal(vt_key_alg_name(VT_KEY_P384), "P-384");
    assert_string_equal(vt_key_alg_name((enum vt_key_alg)99), "unknown");
    assert_false(vt_key_has_private(NULL));
    vt_key_free(NULL);
}

static void test_sign_and_verify(void **state)
{
    struct fixture *f = *state;
    uint8_t sig[64];
    struct vt_diag d;
    assert_int_equal(vt_p256_sign(f->p256, "msg", 3, sig, &d), VT_OK);
    assert_int_equal(vt_p256_verify(f->p256_pub, "msg", 3, sig), VT_OK);
    assert_int_equal(vt_p256_verify(f->p256, "msg", 3, sig), VT_OK);
    assert_int_equal(vt_p256_verify(f->p256_pub, "msh", 3, sig), VT_E_SIGNATURE);
}

static void test_wrong_kind_refused(void **state)
{
    struct fixture *f = *state;
    uint8_t sig64[64] = {1};
    uint8_t sig96[96] = {1};
    uint8_t digest[VT_SHA384_LEN] = {0};
    struct vt_diag d;

    /* Verification has no diag: the code says it. */
    assert_int_equal(vt_p256_verify(f->rsa, "m", 1, sig64), VT_E_ARG);
    assert_int_equal(vt_p256_verify(vt_jwk_key(f->jwk384), "m", 1, sig64), VT_E_ARG);
    assert_int_equal(vt_p384_verify(f->p256_pub, "m", 1, sig96), VT_E_ARG);
    assert_int_equal(vt_p384_verify_digest(f->rsa, digest, sig96), VT_E_ARG);

    assert_int_equal(vt_p256_sign(f->rsa, "m", 1, sig64, &d), VT_E_ARG);
    assert_string_equal(d.check, "p256.sign");
    assert_non_null(strstr(d.detail, "the key is RSA, expected P-256"));

    assert_int_equal(vt_p256_sign(f->p256_pub, "m", 1, sig64, &d), VT_E_ARG);
    assert_non_null(strstr(d.detail, "the key is a public P-256 key, expected its private half"));

    struct vt_cms_enveloped e;
    memset(&e, 0, sizeof(e));
    struct vt_buf out;
    vt_buf_init(&out, 1024);
    assert_int_equal(vt_cms_decrypt(&e, f->p256, &out, &d), VT_E_ARG);
    assert_string_equal(d.check, "cms.decrypt");
    assert_non_null(strstr(d.detail, "the key is P-256, expected RSA"));
    vt_buf_cleanup(&out);

    assert_int_equal(vt_key_expect(NULL, VT_KEY_P384, false, "x", &d), VT_E_ARG);
    assert_non_null(strstr(d.detail, "no key, expected P-384"));
}

static void test_generate_refuses(void **state)
{
    (void)state;
    struct vt_key *k = NULL;
    struct vt_diag d;
    assert_int_equal(vt_key_generate(VT_KEY_P384, 0, &k, &d), VT_E_ARG);
    assert_non_null(strstr(d.detail, "P-384"));
    assert_int_equal(vt_key_generate(VT_KEY_RSA, 1024, &k, &d), VT_E_ARG);
    assert_int_equal(vt_key_generate(VT_KEY_P256, 0, NULL, &d), VT_E_ARG);
    assert_null(k);
}

static void test_spki_of_every_kind(void **state)
{
    struct fixture *f = *state;
    struct vt_buf spki;
    struct vt_diag d;
    vt_buf_init(&spki, 4096);
    assert_int_equal(vt_key_spki_der(f->p256_pub, &spki, &d), VT_OK);
    assert_int_equal(spki.len, 91); /* SEQUENCE { id-ecPublicKey prime256v1, 65-byte point } */
    assert_int_equal(vt_key_spki_der(f->rsa, &spki, &d), VT_OK);
    assert_int_equal(spki.len, 294); /* RSA-2048 */
    assert_int_equal(vt_key_spki_der(vt_jwk_key(f->jwk384), &spki, &d), VT_OK);
    assert_int_equal(spki.len, 120);
    vt_buf_cleanup(&spki);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_algorithms),         cmocka_unit_test(test_sign_and_verify),
        cmocka_unit_test(test_wrong_kind_refused), cmocka_unit_test(test_generate_refuses),
        cmocka_unit_test(test_spki_of_every_kind),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
