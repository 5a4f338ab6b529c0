/*
 * The KMS service's pure parts: ciphertext blobs (layout, round trip, every header field and
 * every truncation refused, the tag over header and context), the canonical form of encryption
 * contexts (order-independent, exact bytes, duplicates and limits), and names (the four KeyId
 * forms, malformed ids and ARNs, alias names, account ids, principal ARNs, UUIDs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

#include "kms/kms.h"

static const uint8_t material[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                     17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
static const uint8_t key_id[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static void ctx2(struct vt_kms_context *c, const char *k1, const char *v1, const char *k2,
                 const char *v2)
{
    memset(c, 0, sizeof(*c));
    assert_int_equal(vt_kms_context_add(c, k1, v1, NULL), VT_OK);
    if (k2 != NULL) {
        assert_int_equal(vt_kms_context_add(c, k2, v2, NULL), VT_OK);
    }
}

static void seal(const struct vt_kms_context *c, const char *pt, uint32_t version,
                 struct vt_buf *out)
{
    vt_buf_init(out, VT_KMS_CIPHERTEXT_MAX);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(
        vt_kms_blob_seal(material, key_id, version, c, (const uint8_t *)pt, strlen(pt), out, &d),
        VT_OK);
}

static void test_round_trip_and_layout(void **state)
{
    (void)state;
    struct vt_kms_context c;
    ctx2(&c, "purpose", "test", "app", "vault");
    struct vt_buf blob;
    seal(&c, "hello, enclave", 7, &blob);
    assert_int_equal(blob.len, VT_KMS_BLOB_OVERHEAD + 14);
    assert_memory_equal(blob.data, "vk\x01\x00", 4);
    assert_memory_equal(blob.data + 4, key_id, 16);
    assert_memory_equal(blob.data + 20, "\x00\x00\x00\x07", 4);
    struct vt_kms_blob b;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_kms_blob_parse(blob.data, blob.len, &b, &d), VT_OK);
    assert_memory_equal(b.key_id, key_id, 16);
    assert_int_equal(b.version, 7);
    assert_int_equal(b.ct_len, 14);
    /* the context in another order is the same context */
    struct vt_kms_context c2;
    ctx2(&c2, "app", "vault", "purpose", "test");
    struct vt_buf pt;
    vt_buf_init(&pt, 4096);
    assert_int_equal(vt_kms_blob_open(material, &b, &c2, &pt, &d), VT_OK);
    assert_int_equal(pt.len, 14);
    assert_memory_equal(pt.data, "hello, enclave", 14);
    vt_buf_cleanup(&pt);
    /* two blobs of one plaintext differ (salt, nonce) */
    struct vt_buf again;
    seal(&c, "hello, enclave", 7, &again);
    assert_int_equal(again.len, blob.len);
    assert_true(memcmp(again.data, blob.data, blob.len) != 0);
    vt_buf_cleanup(&again);
    vt_buf_cleanup(&blob);
}

static void test_context_must_match(void **state)
{
    (void)state;
    struct vt_kms_context c, other, empty = {0};
    ctx2(&c, "a", "1", "b", "2");
    struct vt_buf blob;
    seal(&c, "secret", 1, &blob);
    struct vt_kms_blob b;
    assert_int_equal(vt_kms_blob_parse(blob.data, blob.len, &b, NULL), VT_OK);
    struct vt_buf pt;
    vt_buf_init(&pt, 4096);
    struct vt_diag d;
    vt_diag_init(&d);
    const struct vt_kms_context *wrong[4];
    ctx2(&other, "a", "1", NULL, NULL);
    wrong[0] = &other;
    wrong[1] = &empty;
    wrong[2] = NULL;
    struct vt_kms_context changed;
    ctx2(&changed, "a", "1", "b", "3");
    wrong[3] = &changed;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(vt_kms_blob_open(material, &b, wrong[i], &pt, &d), VT_E_CRYPTO);
        assert_string_equal(d.check, "blob.tag");
        assert_int_equal(pt.len, 0);
    }
    /* another key's material */
    uint8_t m2[32];
    memcpy(m2, material, 32);
    m2[31] ^= 1;
    assert_int_equal(vt_kms_blob_open(m2, &b, &c, &pt, &d), VT_E_CRYPTO);
    /* an empty and an absent context are the same */
    struct vt_buf e1;
    seal(&empty, "x", 1, &e1);
    assert_int_equal(vt_kms_blob_parse(e1.data, e1.len, &b, NULL), VT_OK);
    assert_int_equal(vt_kms_blob_open(material, &b, NULL, &pt, &d), VT_OK);
    vt_buf_cleanup(&e1);
    vt_buf_cleanup(&pt);
    vt_buf_cleanup(&blob);
}

/* Every byte of a blob is covered: changing any one makes it fail to parse or to open. */
static void test_every_byte_matters(void **state)
{
    (void)state;
    struct vt_kms_context c;
    ctx2(&c, "k", "v", NULL, NULL);
    struct vt_buf blob;
    seal(&c, "sixteen bytes!!!", 3, &blob);
    struct vt_buf pt;
    vt_buf_init(&pt, 4096);
    for (size_t i = 0; i < blob.len; i++) {
        blob.data[i] ^= 0x01;
        struct vt_kms_blob b;
        struct vt_diag d;
        vt_diag_init(&d);
        enum vt_err err = vt_kms_blob_parse(blob.data, blob.len, &b, &d);
        if (err == VT_OK) {
            err = vt_kms_blob_open(material, &b, &c, &pt, &d);
        }
        if (err == VT_OK) {
            fail_msg("byte %zu changed and the blob still opened", i);
        }
        blob.data[i] ^= 0x01;
    }
    vt_buf_cleanup(&pt);
    vt_buf_cleanup(&blob);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    struct vt_buf blob;
    seal(NULL, "abc", 2, &blob);
    struct vt_kms_blob b;
    struct vt_diag d;
    vt_diag_init(&d);
    /* truncated at every length: too short to be a blob, or a blob that does not open (the
     * ciphertext's length is what is left after the header, less the tag) */
    struct vt_buf pt;
    vt_buf_init(&pt, 4096);
    for (size_t n = 0; n < blob.len; n++) {
        enum vt_err err = vt_kms_blob_parse(blob.data, n, &b, &d);
        if (n <= VT_KMS_BLOB_OVERHEAD) {
            assert_int_equal(err, VT_E_TRUNCATED);
        } else {
            assert_int_equal(err, VT_OK);
            assert_int_equal(vt_kms_blob_open(material, &b, NULL, &pt, &d), VT_E_CRYPTO);
        }
    }
    vt_buf_cleanup(&pt);
    uint8_t copy[256];
    memcpy(copy, blob.data, blob.len);
    copy[0] = 'x';
    assert_int_equal(vt_kms_blob_parse(copy, blob.len, &b, &d), VT_E_BAD_FIELD);
    assert_string_equal(d.check, "blob.magic");
    memcpy(copy, blob.data, blob.len);
    copy[2] = 2;
    assert_int_equal(vt_kms_blob_parse(copy, blob.len, &b, &d), VT_E_BAD_FIELD);
    assert_string_equal(d.check, "blob.version");
    memcpy(copy, blob.data, blob.len);
    copy[3] = 1;
    assert_int_equal(vt_kms_blob_parse(copy, blob.len, &b, &d), VT_E_BAD_FIELD);
    assert_string_equal(d.check, "blob.reserved");
    memcpy(copy, blob.data, blob.len);
    memset(copy + 20, 0, 4);
    assert_int_equal(vt_kms_blob_parse(copy, blob.len, &b, &d), VT_E_BAD_FIELD);
    assert_string_equal(d.check, "blob.key_version");
    /* no ciphertext byte: header and tag only */
    assert_int_equal(vt_kms_blob_parse(blob.data, VT_KMS_BLOB_OVERHEAD, &b, &d), VT_E_TRUNCATED);
    assert_string_equal(d.check, "blob.ciphertext");
    /* too large */
    static uint8_t big[VT_KMS_CIPHERTEXT_MAX + 1];
    memcpy(big, blob.data, blob.len);
    assert_int_equal(vt_kms_blob_parse(big, sizeof(big), &b, &d), VT_E_TOO_LARGE);
    vt_buf_cleanup(&blob);
    /* sealing refuses an empty or oversized plaintext and version 0 */
    struct vt_buf out;
    vt_buf_init(&out, VT_KMS_CIPHERTEXT_MAX);
    static uint8_t large[VT_KMS_PLAINTEXT_MAX + 1];
    assert_int_equal(vt_kms_blob_seal(material, key_id, 1, NULL, large, 0, &out, &d), VT_E_ARG);
    assert_int_equal(vt_kms_blob_seal(material, key_id, 1, NULL, large, sizeof(large), &out, &d),
                     VT_E_ARG);
    assert_int_equal(vt_kms_blob_seal(material, key_id, 0, NULL, large, 1, &out, &d), VT_E_ARG);
    assert_int_equal(out.len, 0);
    vt_buf_cleanup(&out);
}

static void test_context_canonical(void **state)
{
    (void)state;
    struct vt_kms_context c;
    ctx2(&c, "b", "xy", "a", "");
    struct vt_buf out;
    vt_buf_init(&out, 1024);
    assert_int_equal(vt_kms_context_canonical(&c, &out, NULL), VT_OK);
    static const uint8_t want[] = {0, 0, 0, 2, 0, 0,   0, 1, 'a', 0, 0,   0,
                                   0, 0, 0, 0, 1, 'b', 0, 0, 0,   2, 'x', 'y'};
    assert_int_equal(out.len, sizeof(want));
    assert_memory_equal(out.data, want, sizeof(want));
    vt_buf_cleanup(&out);
    vt_buf_init(&out, 1024);
    assert_int_equal(vt_kms_context_canonical(NULL, &out, NULL), VT_OK);
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, "\0\0\0\0", 4);
    vt_buf_cleanup(&out);
    /* keys sort by bytes: "B" < "a" < "aa" */
    struct vt_kms_context s = {0};
    assert_int_equal(vt_kms_context_add(&s, "aa", "1", NULL), VT_OK);
    assert_int_equal(vt_kms_context_add(&s, "a", "2", NULL), VT_OK);
    assert_int_equal(vt_kms_context_add(&s, "B", "3", NULL), VT_OK);
    assert_string_equal(s.pairs[0].key, "B");
    assert_string_equal(s.pairs[1].key, "a");
    assert_string_equal(s.pairs[2].key, "aa");
    /* a duplicate key, and the pair limit */
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_kms_context_add(&s, "a", "x", &d), VT_E_DUPLICATE);
    assert_int_equal(s.n, 3);
    static char names[VT_KMS_CONTEXT_PAIRS][8];
    struct vt_kms_context full = {0};
    for (int i = 0; i < VT_KMS_CONTEXT_PAIRS; i++) {
        snprintf(names[i], sizeof(names[i]), "k%02d", i);
        assert_int_equal(vt_kms_context_add(&full, names[i], "v", NULL), VT_OK);
    }
    assert_int_equal(vt_kms_context_add(&full, "zz", "v", &d), VT_E_TOO_LARGE);
    /* "a"="bc" and "ab"="c" are different contexts */
    struct vt_kms_context x, y;
    ctx2(&x, "a", "bc", NULL, NULL);
    ctx2(&y, "ab", "c", NULL, NULL);
    struct vt_buf bx, by;
    vt_buf_init(&bx, 64);
    vt_buf_init(&by, 64);
    assert_int_equal(vt_kms_context_canonical(&x, &bx, NULL), VT_OK);
    assert_int_equal(vt_kms_context_canonical(&y, &by, NULL), VT_OK);
    assert_true(bx.len != by.len || memcmp(bx.data, by.data, bx.len) != 0);
    vt_buf_cleanup(&bx);
    vt_buf_cleanup(&by);
}

static void test_key_id_forms(void **state)
{
    (void)state;
    struct vt_kms_ref r;
    struct vt_kms_error e;
    const char *id = "1234abcd-12ab-34cd-56ef-1234567890ab";
    assert_true(vt_kms_ref_parse(id, true, &r, &e));
    assert_int_equal(r.kind, VT_KMS_REF_KEY_ID);
    assert_string_equal(r.key_id, id);
    assert_true(vt_kms_ref_parse("arn:aws:kms:us-east-2:111122223333:key/"
                                 "1234abcd-12ab-34cd-56ef-1234567890ab",
                                 false, &r, &e));
    assert_int_equal(r.kind, VT_KMS_REF_KEY_ARN);
    assert_string_equal(r.key_id, id);
    assert_string_equal(r.region, "us-east-2");
    assert_string_equal(r.account, "111122223333");
    assert_true(vt_kms_ref_parse("alias/ExampleAlias", true, &r, &e));
    assert_int_equal(r.kind, VT_KMS_REF_ALIAS);
    assert_string_equal(r.alias, "alias/ExampleAlias");
    assert_true(
        vt_kms_ref_parse("arn:aws:kms:us-east-2:111122223333:alias/ExampleAlias", true, &r, &e));
    assert_int_equal(r.kind, VT_KMS_REF_ALIAS_ARN);
    assert_string_equal(r.alias, "alias/ExampleAlias");
    /* aliases where only keys are taken */
    assert_false(vt_kms_ref_parse("alias/ExampleAlias", false, &r, &e));
    assert_string_equal(e.type, "NotFoundException");
    assert_int_equal(e.status, 404);
    assert_false(vt_kms_ref_parse("arn:aws:kms:us-east-2:111122223333:alias/x", false, &r, &e));
    /* malformed */
    static const char *const bad[] = {
        "",
        "1234ABCD-12ab-34cd-56ef-1234567890ab", /* uppercase */
        "1234abcd-12ab-34cd-56ef-1234567890a",  /* short */
        "1234abcd-12ab-34cd-56ef-1234567890abc",
        "1234abcd_12ab-34cd-56ef-1234567890ab",
        "1234abcg-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:us-east-2:111122223333:key/1234abcd",
        "arn:aws:s3:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:us-east-2:11112222333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:us-east-2:11112222333x:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms::111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:US-EAST-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:us-east-2:111122223333:grant/x",
        "arn:aws:kms:us-east-2:111122223333",
        "arn:aws:kms:us-east-2:111122223333:alias/",
        "key/1234abcd-12ab-34cd-56ef-1234567890ab",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&e, 0, sizeof(e));
        if (vt_kms_ref_parse(bad[i], true, &r, &e)) {
            fail_msg("\"%s\" was taken as a KeyId", bad[i]);
        }
        assert_string_equal(e.type, "NotFoundException");
        assert_non_null(strstr(e.message, "Invalid keyId"));
    }
}

static void test_alias_names(void **state)
{
    (void)state;
    struct vt_kms_error e;
    assert_true(vt_kms_alias_check("alias/my-key_1/x", &e));
    static const char *const bad[] = {"alias/",  "alias",         "my-key",   "alias/a b",
                                      "alias/é", "alias/aws/ebs", "alias/a.b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(vt_kms_alias_check(bad[i], &e));
        assert_string_equal(e.type, "InvalidAliasNameException");
        assert_int_equal(e.status, 400);
    }
    char longest[VT_KMS_ALIAS_MAX + 2];
    memset(longest, 'a', sizeof(longest));
    memcpy(longest, "alias/", 6);
    longest[VT_KMS_ALIAS_MAX] = '\0';
    assert_true(vt_kms_alias_check(longest, &e));
    longest[VT_KMS_ALIAS_MAX] = 'a';
    longest[VT_KMS_ALIAS_MAX + 1] = '\0';
    assert_false(vt_kms_alias_check(longest, &e));
}

static void test_accounts_principals_uuids(void **state)
{
    (void)state;
    assert_true(vt_kms_account_ok("111122223333"));
    assert_false(vt_kms_account_ok("11112222333"));
    assert_false(vt_kms_account_ok("1111222233334"));
    assert_false(vt_kms_account_ok("11112222333a"));
    assert_false(vt_kms_account_ok(NULL));
    assert_true(vt_kms_region_ok("eu-central-2"));
    assert_false(vt_kms_region_ok("EU"));
    assert_false(vt_kms_region_ok(""));
    char acct[13];
    assert_true(vt_kms_principal_account("arn:aws:iam::111122223333:role/enclave", acct));
    assert_string_equal(acct, "111122223333");
    assert_true(vt_kms_principal_account("arn:aws:sts::444455556666:assumed-role/r/s", acct));
    assert_string_equal(acct, "444455556666");
    assert_false(vt_kms_principal_account("111122223333", acct));
    assert_false(vt_kms_principal_account("arn:aws:iam::11112222333:role/x", acct));
    assert_false(vt_kms_principal_account("arn:aws:iam::111122223333:", acct));
    assert_false(vt_kms_principal_account("arn:aws:iam::111122223333:role/a b", acct));
    uint8_t u[16], v[16];
    char s[VT_KMS_UUID_LEN + 1], t[VT_KMS_UUID_LEN + 1];
    assert_int_equal(vt_kms_uuid_new(s, NULL), VT_OK);
    assert_true(vt_kms_uuid_parse(s, u));
    assert_int_equal(u[6] >> 4, 4);
    assert_int_equal(u[8] >> 6, 2);
    vt_kms_uuid_format(u, t);
    assert_string_equal(s, t);
    assert_int_equal(vt_kms_uuid_new(t, NULL), VT_OK);
    assert_true(vt_kms_uuid_parse(t, v));
    assert_true(memcmp(u, v, 16) != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_layout),
        cmocka_unit_test(test_context_must_match),
        cmocka_unit_test(test_every_byte_matters),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_context_canonical),
        cmocka_unit_test(test_key_id_forms),
        cmocka_unit_test(test_alias_names),
        cmocka_unit_test(test_accounts_principals_uuids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
