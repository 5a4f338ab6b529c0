/* Unit tests for src/crypto/hash.c: known-answer digests, constant-time compare, wiping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "base/encoding.h"

static void expect_hex(const uint8_t *got, size_t n, const char *hex)
{
    uint8_t want[64];
    assert_true(n <= sizeof(want));
    assert_int_equal(vt_hex_decode_exact(hex, strlen(hex), want, n), VT_OK);
    assert_memory_equal(got, want, n);
}

/* FIPS 180-2 appendix B / NIST CAVP short-message vectors. */
static void test_sha256_vectors(void **state)
{
    (void)state;
    uint8_t out[VT_SHA256_LEN];
    vt_sha256("", 0, out);
    expect_hex(out, sizeof(out),
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    vt_sha256(NULL, 0, out);
    expect_hex(out, sizeof(out),
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    vt_sha256("abc", 3, out);
    expect_hex(out, sizeof(out),
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    vt_sha256(m, strlen(m), out);
    expect_hex(out, sizeof(out),
               "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_sha256_million_a(void **state)
{
    (void)state;
    static uint8_t buf[1000000];
    memset(buf, 'a', sizeof(buf));
    uint8_t out[VT_SHA256_LEN];
    vt_sha256(buf, sizeof(buf), out);
    expect_hex(out, sizeof(out),
               "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_sha256_2_is_concatenation(void **state)
{
    (void)state;
    uint8_t one[VT_SHA256_LEN];
    uint8_t two[VT_SHA256_LEN];
    vt_sha256_2("ab", 2, "c", 1, two);
    expect_hex(two, sizeof(two),
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    vt_sha256_2("", 0, "abc", 3, one);
    assert_memory_equal(one, two, sizeof(one));
    vt_sha256_2("abc", 3, NULL, 0, one);
    assert_memory_equal(one, two, sizeof(one));
    vt_sha256_2("a", 1, "bd", 2, one);
    assert_memory_not_equal(one, two, sizeof(one));
}

static void test_sha384_sha512_vectors(void **state)
{
    (void)state;
    uint8_t out384[VT_SHA384_LEN];
    uint8_t out512[VT_SHA512_LEN];
    vt_sha384("abc", 3, out384);
    expect_hex(out384, sizeof(out384),
               "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
               "8086072ba1e7cc2358baeca134c825a7");
    vt_sha384("", 0, out384);
    expect_hex(out384, sizeof(out384),
               "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da"
               "274edebfe76f65fbd51ad2f14898b95b");
    vt_sha512("abc", 3, out512);
    expect_hex(out512, sizeof(out512),
               "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
               "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    vt_sha512("", 0, out512);
    expect_hex(out512, sizeof(out512),
               "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
               "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
}

static void test_ct_memeq(void **state)
{
    (void)state;
    uint8_t a[33];
    uint8_t b[33];
    memset(a, 0x5a, sizeof(a));
    memset(b, 0x5a, sizeof(b));
    assert_true(vt_ct_memeq(a, b, sizeof(a)));
    assert_true(vt_ct_memeq(a, b, 0));
    b[32] ^= 0x01;
    assert_false(vt_ct_memeq(a, b, sizeof(a)));
    assert_true(vt_ct_memeq(a, b, 32));
    b[32] = a[32];
    b[0] ^= 0x80;
    assert_false(vt_ct_memeq(a, b, sizeof(a)));
    assert_false(vt_ct_memeq(a, b, 1));
}

static void test_wipe(void **state)
{
    (void)state;
    uint8_t secret[48];
    uint8_t zero[48];
    memset(secret, 0xa5, sizeof(secret));
    memset(zero, 0, sizeof(zero));
    vt_wipe(secret, 16);
    assert_memory_equal(secret, zero, 16);
    assert_int_equal(secret[16], 0xa5);
    vt_wipe(secret, sizeof(secret));
    assert_memory_equal(secret, zero, sizeof(secret));
    vt_wipe(NULL, 10); /* NULL-safe */
    vt_wipe(secret, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_sha256_million_a),
        cmocka_unit_test(test_sha256_2_is_concatenation),
        cmocka_unit_test(test_sha384_sha512_vectors),
        cmocka_unit_test(test_ct_memeq),
        cmocka_unit_test(test_wipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
