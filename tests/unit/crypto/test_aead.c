/*
 * Unit tests for src/crypto/aead.c, the one AEAD: AES-256-GCM known answers (test cases 13 and 14
 * of McGrew and Viega's GCM specification, the 256-bit key cases of NIST SP 800-38D's
 * validation), tag and AAD checks, the sealed-at-rest form, and HMAC-SHA-256 (RFC 4231).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "base/encoding.h"

#include "crypto/aead.h"

static void expect_hex(const uint8_t *got, size_t n, const char *hex)
{
    uint8_t want[64];
    assert_true(n <= sizeof(want));
    assert_int_equal(vt_hex_decode_exact(hex, strlen(hex), want, n), VT_OK);
    assert_memory_equal(got, want, n);
}

static const uint8_t zero_key[VT_AEAD_KEY_LEN];
static const uint8_t zero_nonce[VT_AEAD_NONCE_LEN];

static void test_gcm_known_answers(void **state)
{
    (void)state;
    uint8_t tag[VT_AEAD_TAG_LEN];
    /* Test case 13: empty plaintext and AAD. */
    assert_int_equal(vt_aead_encrypt(zero_key, zero_nonce, NULL, 0, NULL, 0, NULL, tag), VT_OK);
    expect_hex(tag, sizeof(tag), "530f8afbc74536b9a963b4f1c4cb738b");
    assert_int_equal(vt_aead_decrypt(zero_key, zero_nonce, NULL, 0, NULL, 0, tag, NULL), VT_OK);
    /* Test case 14: one zero block. */
    uint8_t pt[16] = {0};
    uint8_t ct[16];
    assert_int_equal(vt_aead_encrypt(zero_key, zero_nonce, NULL, 0, pt, 16, ct, tag), VT_OK);
    expect_hex(ct, sizeof(ct), "cea7403d4d606b6e074ec5d3baf39d18");
    expect_hex(tag, sizeof(tag), "d0d1c8a799996bf0265b98b5d48ab919");
    uint8_t back[16];
    assert_int_equal(vt_aead_decrypt(zero_key, zero_nonce, NULL, 0, ct, 16, tag, back), VT_OK);
    assert_memory_equal(back, pt, 16);
    /* In place. */
    assert_int_equal(vt_aead_decrypt(zero_key, zero_nonce, NULL, 0, ct, 16, tag, ct), VT_OK);
    assert_memory_equal(ct, pt, 16);
}

static void test_gcm_rejects(void **state)
{
    (void)state;
    uint8_t key[VT_AEAD_KEY_LEN];
    uint8_t nonce[VT_AEAD_NONCE_LEN];
    memset(key, 0x42, sizeof(key));
    memset(nonce, 0x24, sizeof(nonce));
    static const uint8_t pt[] = "attested secret";
    uint8_t ct[sizeof(pt)];
    uint8_t out[sizeof(pt)];
    uint8_t tag[VT_AEAD_TAG_LEN];
    assert_int_equal(vt_aead_encrypt(key, nonce, "aad", 3, pt, sizeof(pt), ct, tag), VT_OK);
    assert_int_equal(vt_aead_decrypt(key, nonce, "aad", 3, ct, sizeof(ct), tag, out), VT_OK);
    assert_memory_equal(out, pt, sizeof(pt));
    /* Altered tag, ciphertext, AAD, nonce or key: VT_E_CRYPTO and the output wiped. */
    tag[0] ^= 1;
    memset(out, 0xee, sizeof(out));
    assert_int_equal(vt_aead_decrypt(key, nonce, "aad", 3, ct, sizeof(ct), tag, out), VT_E_CRYPTO);
    static const uint8_t zeros[sizeof(pt)];
    assert_memory_equal(out, zeros, sizeof(out));
    tag[0] ^= 1;
    ct[3] ^= 0x80;
    assert_int_equal(vt_aead_decrypt(key, nonce, "aad", 3, ct, sizeof(ct), tag, out), VT_E_CRYPTO);
    ct[3] ^= 0x80;
    assert_int_equal(vt_aead_decrypt(key, nonce, "aAd", 3, ct, sizeof(ct), tag, out), VT_E_CRYPTO);
    assert_int_equal(vt_aead_decrypt(key, nonce, "aa", 2, ct, sizeof(ct), tag, out), VT_E_CRYPTO);
    nonce[11] ^= 1;
    assert_int_equal(vt_aead_decrypt(key, nonce, "aad", 3, ct, sizeof(ct), tag, out), VT_E_CRYPTO);
    nonce[11] ^= 1;
    key[31] ^= 1;
    assert_int_equal(vt_aead_decrypt(key, nonce, "aad", 3, ct, sizeof(ct), tag, out), VT_E_CRYPTO);
}

static void test_seal_open(void **state)
{
    (void)state;
    uint8_t key[VT_AEAD_KEY_LEN];
    memset(key, 7, sizeof(key));
    struct vt_buf sealed;
    struct vt_buf plain;
    struct vt_diag d;
    vt_buf_init(&sealed, 1024);
    vt_buf_init(&plain, 1024);
    assert_int_equal(vt_buf_append(&sealed, "x", 1), VT_OK); /* appended after what is there */
    assert_int_equal(vt_aead_seal(key, "row 1", (const uint8_t *)"hello", 5, &sealed, &d), VT_OK);
    assert_int_equal(sealed.len, 1 + 12 + 5 + 16);
    assert_int_equal(vt_aead_open(key, "row 1", sealed.data + 1, sealed.len - 1, &plain, &d),
                     VT_OK);
    assert_int_equal(plain.len, 5);
    assert_memory_equal(plain.data, "hello", 5);
    /* Moved to another row: refused, nothing appended. */
    assert_int_equal(vt_aead_open(key, "row 2", sealed.data + 1, sealed.len - 1, &plain, &d),
                     VT_E_CRYPTO);
    assert_string_equal(d.check, "unseal");
    assert_non_null(strstr(d.detail, "row 2"));
    assert_int_equal(plain.len, 5);
    /* Too short to be a sealed value. */
    assert_int_equal(vt_aead_open(key, "row 1", sealed.data + 1, 27, &plain, &d), VT_E_TRUNCATED);
    assert_string_equal(d.check, "unseal");
    /* The empty value seals too; two seals differ (fresh nonce). */
    struct vt_buf a;
    struct vt_buf b;
    vt_buf_init(&a, 64);
    vt_buf_init(&b, 64);
    assert_int_equal(vt_aead_seal(key, "e", NULL, 0, &a, &d), VT_OK);
    assert_int_equal(vt_aead_seal(key, "e", NULL, 0, &b, &d), VT_OK);
    assert_int_equal(a.len, 28);
    assert_memory_not_equal(a.data, b.data, 28);
    vt_buf_cleanup(&plain);
    vt_buf_init(&plain, 64);
    assert_int_equal(vt_aead_open(key, "e", a.data, a.len, &plain, &d), VT_OK);
    assert_int_equal(plain.len, 0);
    /* Over the limit. */
    static uint8_t big[VT_AEAD_SEAL_MAX + 1];
    struct vt_buf c;
    vt_buf_init(&c, 2 * sizeof(big));
    assert_int_equal(vt_aead_seal(key, "big", big, sizeof(big), &c, &d), VT_E_TOO_LARGE);
    assert_string_equal(d.check, "secret");
    assert_int_equal(c.len, 0);
    assert_int_equal(vt_aead_seal(key, "big", big, sizeof(big) - 1, &c, &d), VT_OK);
    vt_buf_cleanup(&a);
    vt_buf_cleanup(&b);
    vt_buf_cleanup(&c);
    vt_buf_cleanup(&plain);
    vt_buf_cleanup(&sealed);
}

/* RFC 4231 test cases 1 and 2. */
static void test_hmac_sha256(void **state)
{
    (void)state;
    uint8_t key[20];
    uint8_t mac[VT_SHA256_LEN];
    memset(key, 0x0b, sizeof(key));
    vt_hmac_sha256(key, sizeof(key), "Hi There", 8, mac);
    expect_hex(mac, sizeof(mac),
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    vt_hmac_sha256((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28, mac);
    expect_hex(mac, sizeof(mac),
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcm_known_answers),
        cmocka_unit_test(test_gcm_rejects),
        cmocka_unit_test(test_seal_open),
        cmocka_unit_test(test_hmac_sha256),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
