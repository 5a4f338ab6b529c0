/*
 * The KMS service's operations in process (the request reader, then vt_kms_call_run on a real
 * SQLite store): each operation's success with the members KMS returns, and every refusal with
 * its exact __type and HTTP status; key policies deciding every call (account root, a role,
 * another account, encryption context conditions, the lockout check); key states; rotation
 * keeping old ciphertexts readable; deletion; the audit log entry of every call, refused or
 * not, holding no plaintext; master-key rewrap and the restored-database check of the KMS tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kms_harness.h"

/* the one sealed service of these databases besides the broker's keys */
static const struct vt_sealed_service *const kms_service[] = {&vt_kms_sealed};

#define ARN_PREFIX "arn:aws:kms:" KH_REGION ":" KH_ACCOUNT ":key/"
#define HELLO_B64 "aGVsbG8sIGVuY2xhdmU=" /* "hello, enclave" */

static int setup(void **state)
{
    struct kh *h = kh_start();
    assert_non_null(h);
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    kh_stop(*state);
    return 0;
}

#define FAILS(res, type, status)                                                                   \
    do {                                                                                           \
        struct kh_res r_ = (res);                                                                  \
        bool ok_ = kh_fails(&r_, type, status);                                                    \
        kh_res_cleanup(&r_);                                                                       \
        assert_true(ok_);                                                                          \
    } while (0)

#define SUCCEEDS(res)                                                                              \
    do {                                                                                           \
        struct kh_res r_ = (res);                                                                  \
        if (!r_.ok) {                                                                              \
            fail_msg("%s: %s", r_.e.type, r_.e.message);                                           \
        }                                                                                          \
        kh_res_cleanup(&r_);                                                                       \
    } while (0)

static json_t *meta(const struct kh_res *r)
{
    return json_object_get(r->out, "KeyMetadata");
}

static const char *meta_str(const struct kh_res *r, const char *name)
{
    const char *s = json_string_value(json_object_get(meta(r), name));
    return s ? s : "";
}

/* Encrypt as who; the CiphertextBlob (heap) or NULL. */
static char *encrypt(struct kh *h, enum kh_who who, const char *key, const char *ctx)
{
    struct kh_res r =
        kh_call(h, who, "Encrypt", "{\"KeyId\":\"%s\",\"Plaintext\":\"" HELLO_B64 "\"%s%s%s}", key,
                ctx ? ",\"EncryptionContext\":" : "", ctx ? ctx : "", "");
    char *blob = r.ok ? strdup(kh_str(&r, "CiphertextBlob")) : NULL;
    if (!r.ok) {
        fprintf(stderr, "encrypt: %s: %s\n", r.e.type, r.e.message);
    }
    kh_res_cleanup(&r);
    return blob;
}

static int64_t log_size(struct kh *h)
{
    int64_t n = -1;
    assert_int_equal(vt_store_exec(h->b->store, "SELECT COUNT(*) FROM vb_log", NULL, 0,
                                   vt_store_row_int, &n, NULL, NULL),
                     VT_OK);
    return n;
}

static bool row_text(void *ctx, const struct vt_sql_row *row)
{
    snprintf(ctx, 4096, "%s", vt_row_text(row, 0));
    return false;
}

static void last_entry(struct kh *h, char out[4096])
{
    out[0] = '\0';
    assert_int_equal(vt_store_exec(h->b->store,
                                   "SELECT entry FROM vb_log ORDER BY idx DESC LIMIT 1", NULL, 0,
                                   row_text, out, NULL, NULL),
                     VT_OK);
}

/* ---- keys ---- */

static void test_create_describe(void **state)
{
    struct kh *h = *state;
    vt_time before = vt_time_now();
    struct kh_res r = kh_call(h, KH_ADMIN, "CreateKey", "{\"Description\":\"vault pepper\"}");
    assert_true(r.ok);
    char id[VT_KMS_UUID_LEN + 1], arn[VT_KMS_ARN_MAX];
    snprintf(id, sizeof(id), "%s", meta_str(&r, "KeyId"));
    snprintf(arn, sizeof(arn), ARN_PREFIX "%s", id);
    uint8_t raw[16];
    assert_true(vt_kms_uuid_parse(id, raw));
    assert_string_equal(meta_str(&r, "Arn"), arn);
    assert_string_equal(meta_str(&r, "AWSAccountId"), KH_ACCOUNT);
    assert_string_equal(meta_str(&r, "Description"), "vault pepper");
    assert_string_equal(meta_str(&r, "KeyState"), "Enabled");
    assert_string_equal(meta_str(&r, "KeyUsage"), "ENCRYPT_DECRYPT");
    assert_string_equal(meta_str(&r, "KeySpec"), "SYMMETRIC_DEFAULT");
    assert_string_equal(meta_str(&r, "CustomerMasterKeySpec"), "SYMMETRIC_DEFAULT");
    assert_string_equal(meta_str(&r, "Origin"), "AWS_KMS");
    assert_string_equal(meta_str(&r, "KeyManager"), "CUSTOMER");
    assert_true(json_is_true(json_object_get(meta(&r), "Enabled")));
    assert_true(json_is_false(json_object_get(meta(&r), "MultiRegion")));
    json_int_t created = json_integer_value(json_object_get(meta(&r), "CreationDate"));
    assert_true(created >= before && created <= vt_time_now());
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(meta(&r), "EncryptionAlgorithms"), 0)),
        "SYMMETRIC_DEFAULT");
    assert_null(json_object_get(meta(&r), "DeletionDate"));
    kh_res_cleanup(&r);
    /* DescribeKey in every form KMS takes */
    SUCCEEDS(kh_call(h, KH_ADMIN, "CreateAlias",
                     "{\"AliasName\":\"alias/describe\",\"TargetKeyId\":\"%s\"}", id));
    const char *forms[] = {id, arn, "alias/describe",
                           "arn:aws:kms:" KH_REGION ":" KH_ACCOUNT ":alias/describe"};
    for (size_t i = 0; i < 4; i++) {
        r = kh_call(h, KH_ENCLAVE, "DescribeKey", "{\"KeyId\":\"%s\"}", forms[i]);
        assert_true(r.ok);
        assert_string_equal(meta_str(&r, "KeyId"), id);
        kh_res_cleanup(&r);
    }
    SUCCEEDS(kh_call(h, KH_ADMIN, "UpdateKeyDescription",
                     "{\"KeyId\":\"%s\",\"Description\":\"renamed\"}", id));
    r = kh_call(h, KH_ADMIN, "DescribeKey", "{\"KeyId\":\"%s\"}", arn);
    assert_string_equal(meta_str(&r, "Description"), "renamed");
    kh_res_cleanup(&r);
    FAILS(kh_call(h, KH_ADMIN, "UpdateKeyDescription",
                  "{\"KeyId\":\"alias/describe\",\"Description\":\"x\"}"),
          "NotFoundException", 404);
    FAILS(kh_call(h, KH_OTHER, "UpdateKeyDescription", "{\"KeyId\":\"%s\",\"Description\":\"x\"}",
                  id),
          "AccessDeniedException", 400);
}

static void test_describe_refusals(void **state)
{
    struct kh *h = *state;
    char id[VT_KMS_UUID_LEN + 1];
    assert_true(kh_create_key(h, NULL, id));
    FAILS(
        kh_call(h, KH_ADMIN, "DescribeKey", "{\"KeyId\":\"00000000-0000-4000-8000-000000000000\"}"),
        "NotFoundException", 404);
    FAILS(kh_call(h, KH_ADMIN, "DescribeKey",
                  "{\"KeyId\":\"arn:aws:kms:" KH_REGION ":999999999999:key/%s\"}", id),
          "NotFoundException", 404);
    FAILS(kh_call(h, KH_ADMIN, "DescribeKey",
                  "{\"KeyId\":\"arn:aws:kms:eu-west-1:" KH_ACCOUNT ":key/%s\"}", id),
          "NotFoundException", 404);
    FAILS(kh_call(h, KH_ADMIN, "DescribeKey", "{\"KeyId\":\"alias/none\"}"), "NotFoundException",
          404);
    FAILS(kh_call(h, KH_ADMIN, "DescribeKey", "{\"KeyId\":\"not-a-key\"}"), "NotFoundException",
          404);
    /* the default policy is the account's: another account is refused */
    FAILS(kh_call(h, KH_OTHER, "DescribeKey", "{\"KeyId\":\"%s\"}", id), "AccessDeniedException",
          400);
    FAILS(kh_call(h, KH_ADMIN, "DescribeKey", "{\"KeyId\":\"%s\",\"GrantTokens\":[\"g\"]}", id),
          "InvalidGrantTokenException", 400);
    SUCCEEDS(kh_call(h, KH_ADMIN, "DescribeKey", "{\"KeyId\":\"%s\",\"GrantTokens\":[]}", id));
}

static void test_create_key_refusals(void **state)
{
    struct kh *h = *state;
    FAILS(kh_call(h, KH_ENCLAVE, "CreateKey", "{}"), "AccessDeniedException", 400);
    FAILS(kh_call(h, KH_OTHER, "CreateKey", "{}"), "AccessDeniedException", 400);
    FAILS(kh_call(h, KH_ADMIN, "CreateKey", "{\"Tags\":[{\"TagKey\":\"a\",\"TagValue\":\"b\"}]}"),
          "TagException", 400);
    FAILS(kh_call(h, KH_ADMIN, "CreateKey", "{\"MultiRegion\":true}"),
          "UnsupportedOperationException", 400);
    FAILS(kh_call(h, KH_ADMIN, "CreateKey", "{\"CustomKeyStoreId\":\"cks-1\"}"),
          "UnsupportedOperationException", 400);
    FAILS(kh_call(h, KH_ADMIN, "CreateKey", "{\"XksKeyId\":\"x\"}"),
          "UnsupportedOperationException", 400);
    FAILS(kh_call(h, KH_ADMIN, "CreateKey", "{\"Origin\":\"EXTERNAL\"}"),
          "UnsupportedOperationException", 400);
    FAILS(kh_call(h, KH_ADMIN, "CreateKey", "{\"Origin\":\"ELSEWHERE\"}"), "ValidationException",
          400);
    FAILS(kh_call(h, KH_ADMIN, "CreateKey", "{\"KeySpec\":\"RSA_2048\"}"),
          "UnsupportedOperationException", 400);
    FAILS(kh_call(h, KH_ADMIN, "CreateKey", "{\"KeySpec\":\"AES_256\"}"), "ValidationException",
          400);
    FAILS(kh_call(h, KH_ADMIN, "CreateKey",
                  "{\"KeySpec\":\"SYMMETRIC_DEFAULT\",\"CustomerMasterKeySpec\":"
                  "\"SYMMETRIC_DEFAULT\"}"),
          "ValidationException", 400);
    FAILS(kh_call(h, KH_ADMIN, "CreateKey", "{\"KeyUsage\":\"SIGN_VERIFY\"}"),
          "ValidationException", 400);
    FAILS(kh_call(h, KH_ADMIN, "CreateKey", "{\"KeyUsage\":\"DECRYPT\"}"), "ValidationException",
          400);
    FAILS(kh_call(h, KH_ADMIN, "CreateKey", "{\"Policy\":\"not json\"}"),
          "MalformedPolicyDocumentException", 400);
    FAILS(kh_call(h, KH_ADMIN, "CreateKey",
                  "{\"Policy\":\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{"
                  "\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":\\\"*\\\",\\\"Action\\\":"
                  "\\\"kms:Nope\\\",\\\"Resource\\\":\\\"*\\\"}]}\"}"),
          "MalformedPolicyDocumentException", 400);
    /* a policy that would lock the caller out (only the enclave role may act) */
    static const char lockout[] =
        "{\"Policy\":\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":"
        "\\\"Allow\\\",\\\"Principal\\\":{\\\"AWS\\\":\\\"arn:aws:iam::" KH_ACCOUNT
        ":role/enclave\\\"},\\\"Action\\\":\\\"kms:Decrypt\\\",\\\"Resource\\\":\\\"*\\\"}]}\"%s}";
    FAILS(kh_call(h, KH_ADMIN, "CreateKey", lockout, ""), "MalformedPolicyDocumentException", 400);
    SUCCEEDS(
        kh_call(h, KH_ADMIN, "CreateKey", lockout, ",\"BypassPolicyLockoutSafetyCheck\":true"));
    /* what is refused when asked for is accepted at its default */
    SUCCEEDS(kh_call(h, KH_ADMIN, "CreateKey",
                     "{\"Tags\":[],\"MultiRegion\":false,\"Origin\":\"AWS_KMS\",\"KeyUsage\":"
                     "\"ENCRYPT_DECRYPT\",\"CustomerMasterKeySpec\":\"SYMMETRIC_DEFAULT\"}"));
}

struct page {
    int items;
    bool truncated;
    char marker[300];
};

static struct page list(struct kh *h, enum kh_who who, const char *op, const char *array,
                        const char *body)
{
    struct page p = {0};
    struct kh_res r = kh_call(h, who, op, "%s", body);
    if (!r.ok) {
        fail_msg("%s: %s: %s", op, r.e.type, r.e.message);
    }
    p.items = (int)json_array_size(json_object_get(r.out, array));
    p.truncated = json_is_true(json_object_get(r.out, "Truncated"));
    snprintf(p.marker, sizeof(p.marker), "%s", kh_str(&r, "NextMarker"));
    kh_res_cleanup(&r);
    return p;
}

static void test_list_keys(void **state)
{
    struct kh *h = *state;
    char id[VT_KMS_UUID_LEN + 1];
    for (int i = 0; i < 5; i++) {
        assert_true(kh_create_key(h, NULL, id));
    }
    struct page p = list(h, KH_ADMIN, "ListKeys", "Keys", "{}");
    assert_int_equal(p.items, 5);
    assert_false(p.truncated);
    int seen = 0;
    char body[400] = "{\"Limit\":2}";
    do {
        p = list(h, KH_ADMIN, "ListKeys", "Keys", body);
        seen += p.items;
        assert_true(p.items <= 2);
        snprintf(body, sizeof(body), "{\"Limit\":2,\"Marker\":\"%s\"}", p.marker);
    } while (p.truncated);
    assert_int_equal(seen, 5);
    FAILS(kh_call(h, KH_ADMIN, "ListKeys", "{\"Marker\":\"garbage\"}"), "InvalidMarkerException",
          400);
    FAILS(kh_call(h, KH_ADMIN, "ListKeys", "{\"Limit\":1001}"), "ValidationException", 400);
    FAILS(kh_call(h, KH_ADMIN, "ListKeys", "{\"Limit\":0}"), "ValidationException", 400);
    FAILS(kh_call(h, KH_ENCLAVE, "ListKeys", "{}"), "AccessDeniedException", 400);
    /* a key of which it was listed: its entry carries the id and the ARN */
    struct kh_res r = kh_call(h, KH_ADMIN, "ListKeys", "{\"Limit\":1}");
    json_t *k = json_array_get(json_object_get(r.out, "Keys"), 0);
    const char *kid = json_string_value(json_object_get(k, "KeyId"));
    char arn[VT_KMS_ARN_MAX];
    snprintf(arn, sizeof(arn), ARN_PREFIX "%s", kid);
    assert_string_equal(json_string_value(json_object_get(k, "KeyArn")), arn);
    kh_res_cleanup(&r);
}

/* ---- aliases ---- */

static void test_aliases(void **state)
{
    struct kh *h = *state;
    char a[VT_KMS_UUID_LEN + 1], b[VT_KMS_UUID_LEN + 1];
    assert_true(kh_create_key(h, NULL, a));
    assert_true(kh_create_key(h, NULL, b));
    SUCCEEDS(kh_call(h, KH_ENCLAVE, "CreateAlias",
                     "{\"AliasName\":\"alias/app\",\"TargetKeyId\":"
                     "\"%s\"}",
                     a));
    SUCCEEDS(kh_call(h, KH_ADMIN, "CreateAlias",
                     "{\"AliasName\":\"alias/app:2\",\"TargetKeyId\":\"" ARN_PREFIX "%s\"}", b));
    FAILS(kh_call(h, KH_ADMIN, "CreateAlias",
                  "{\"AliasName\":\"alias/app\",\"TargetKeyId\":\"%s\"}", b),
          "AlreadyExistsException", 409);
    FAILS(kh_call(h, KH_ADMIN, "CreateAlias", "{\"AliasName\":\"app\",\"TargetKeyId\":\"%s\"}", b),
          "InvalidAliasNameException", 400);
    FAILS(kh_call(h, KH_ADMIN, "CreateAlias",
                  "{\"AliasName\":\"alias/aws/x\",\"TargetKeyId\":"
                  "\"%s\"}",
                  b),
          "InvalidAliasNameException", 400);
    FAILS(kh_call(h, KH_ADMIN, "CreateAlias",
                  "{\"AliasName\":\"alias/x y\",\"TargetKeyId\":"
                  "\"%s\"}",
                  b),
          "InvalidAliasNameException", 400);
    FAILS(kh_call(h, KH_ADMIN, "CreateAlias",
                  "{\"AliasName\":\"alias/n\",\"TargetKeyId\":"
                  "\"alias/app\"}"),
          "NotFoundException", 404);
    FAILS(kh_call(h, KH_ADMIN, "CreateAlias",
                  "{\"AliasName\":\"alias/n\",\"TargetKeyId\":"
                  "\"00000000-0000-4000-8000-000000000000\"}"),
          "NotFoundException", 404);
    FAILS(kh_call(h, KH_OTHER, "CreateAlias", "{\"AliasName\":\"alias/n\",\"TargetKeyId\":\"%s\"}",
                  a),
          "AccessDeniedException", 400);
    /* lists: all (admin), of one key (the key's policy), pages */
    struct page p = list(h, KH_ADMIN, "ListAliases", "Aliases", "{}");
    assert_int_equal(p.items, 2);
    p = list(h, KH_ADMIN, "ListAliases", "Aliases", "{\"Limit\":1}");
    assert_int_equal(p.items, 1);
    assert_true(p.truncated);
    assert_string_equal(p.marker, "alias/app");
    char body[400];
    snprintf(body, sizeof(body), "{\"Limit\":1,\"Marker\":\"%s\"}", p.marker);
    p = list(h, KH_ADMIN, "ListAliases", "Aliases", body);
    assert_int_equal(p.items, 1);
    assert_false(p.truncated);
    snprintf(body, sizeof(body), "{\"KeyId\":\"%s\"}", a);
    p = list(h, KH_ENCLAVE, "ListAliases", "Aliases", body);
    assert_int_equal(p.items, 1);
    struct kh_res r = kh_call(h, KH_ENCLAVE, "ListAliases", "%s", body);
    json_t *al = json_array_get(json_object_get(r.out, "Aliases"), 0);
    assert_string_equal(json_string_value(json_object_get(al, "AliasName")), "alias/app");
    assert_string_equal(json_string_value(json_object_get(al, "AliasArn")),
                        "arn:aws:kms:" KH_REGION ":" KH_ACCOUNT ":alias/app");
    assert_string_equal(json_string_value(json_object_get(al, "TargetKeyId")), a);
    assert_true(json_is_integer(json_object_get(al, "CreationDate")));
    assert_true(json_is_integer(json_object_get(al, "LastUpdatedDate")));
    kh_res_cleanup(&r);
    FAILS(kh_call(h, KH_ENCLAVE, "ListAliases", "{}"), "AccessDeniedException", 400);
    FAILS(kh_call(h, KH_OTHER, "ListAliases", "%s", body), "AccessDeniedException", 400);
    FAILS(kh_call(h, KH_ADMIN, "ListAliases", "{\"Limit\":101}"), "ValidationException", 400);
    FAILS(kh_call(h, KH_ADMIN, "ListAliases", "{\"Marker\":\"zzz\"}"), "InvalidMarkerException",
          400);
    FAILS(kh_call(h, KH_ADMIN, "ListAliases", "{\"KeyId\":\"alias/app\"}"), "NotFoundException",
          404);
    /* update: the alias now names b */
    SUCCEEDS(kh_call(h, KH_ADMIN, "UpdateAlias",
                     "{\"AliasName\":\"alias/app\",\"TargetKeyId\":"
                     "\"%s\"}",
                     b));
    r = kh_call(h, KH_ADMIN, "DescribeKey", "{\"KeyId\":\"alias/app\"}");
    assert_string_equal(meta_str(&r, "KeyId"), b);
    kh_res_cleanup(&r);
    FAILS(kh_call(h, KH_ADMIN, "UpdateAlias",
                  "{\"AliasName\":\"alias/none\",\"TargetKeyId\":"
                  "\"%s\"}",
                  b),
          "NotFoundException", 404);
    FAILS(kh_call(h, KH_ADMIN, "UpdateAlias",
                  "{\"AliasName\":\"alias/app\",\"TargetKeyId\":"
                  "\"00000000-0000-4000-8000-000000000000\"}"),
          "NotFoundException", 404);
    FAILS(kh_call(h, KH_OTHER, "UpdateAlias",
                  "{\"AliasName\":\"alias/app\",\"TargetKeyId\":"
                  "\"%s\"}",
                  a),
          "AccessDeniedException", 400);
    /* delete */
    FAILS(kh_call(h, KH_OTHER, "DeleteAlias", "{\"AliasName\":\"alias/app\"}"),
          "AccessDeniedException", 400);
    SUCCEEDS(kh_call(h, KH_ADMIN, "DeleteAlias", "{\"AliasName\":\"alias/app\"}"));
    FAILS(kh_call(h, KH_ADMIN, "DeleteAlias", "{\"AliasName\":\"alias/app\"}"), "NotFoundException",
          404);
    FAILS(kh_call(h, KH_ADMIN, "DescribeKey", "{\"KeyId\":\"alias/app\"}"), "NotFoundException",
          404);
    FAILS(kh_call(h, KH_ADMIN, "DeleteAlias", "{\"AliasName\":\"nope\"}"),
          "InvalidAliasNameException", 400);
}

/* ---- states ---- */

static void test_states(void **state)
{
    struct kh *h = *state;
    char id[VT_KMS_UUID_LEN + 1];
    assert_true(kh_create_key(h, NULL, id));
    char *blob = encrypt(h, KH_ENCLAVE, id, NULL);
    assert_non_null(blob);
    SUCCEEDS(kh_call(h, KH_ADMIN, "DisableKey", "{\"KeyId\":\"%s\"}", id));
    struct kh_res r = kh_call(h, KH_ADMIN, "DescribeKey", "{\"KeyId\":\"%s\"}", id);
    assert_string_equal(meta_str(&r, "KeyState"), "Disabled");
    assert_true(json_is_false(json_object_get(meta(&r), "Enabled")));
    kh_res_cleanup(&r);
    FAILS(kh_call(h, KH_ENCLAVE, "Encrypt", "{\"KeyId\":\"%s\",\"Plaintext\":\"AA==\"}", id),
          "DisabledException", 409);
    FAILS(kh_call(h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"}", blob),
          "DisabledException", 409);
    FAILS(
        kh_call(h, KH_ENCLAVE, "GenerateDataKey", "{\"KeyId\":\"%s\",\"KeySpec\":\"AES_256\"}", id),
        "DisabledException", 409);
    FAILS(kh_call(h, KH_OTHER, "EnableKey", "{\"KeyId\":\"%s\"}", id), "AccessDeniedException",
          400);
    FAILS(kh_call(h, KH_ADMIN, "EnableKey", "{\"KeyId\":\"alias/x\"}"), "NotFoundException", 404);
    SUCCEEDS(kh_call(h, KH_ADMIN, "EnableKey", "{\"KeyId\":\"%s\"}", id));
    SUCCEEDS(kh_call(h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"}", blob));
    /* deletion */
    FAILS(kh_call(h, KH_ADMIN, "ScheduleKeyDeletion",
                  "{\"KeyId\":\"%s\",\"PendingWindowInDays\":6}", id),
          "ValidationException", 400);
    FAILS(kh_call(h, KH_ADMIN, "ScheduleKeyDeletion",
                  "{\"KeyId\":\"%s\",\"PendingWindowInDays\":31}", id),
          "ValidationException", 400);
    FAILS(kh_call(h, KH_OTHER, "ScheduleKeyDeletion", "{\"KeyId\":\"%s\"}", id),
          "AccessDeniedException", 400);
    vt_time now = vt_time_now();
    r = kh_call(h, KH_ADMIN, "ScheduleKeyDeletion", "{\"KeyId\":\"%s\",\"PendingWindowInDays\":7}",
                id);
    assert_true(r.ok);
    char arn[VT_KMS_ARN_MAX];
    snprintf(arn, sizeof(arn), ARN_PREFIX "%s", id);
    assert_string_equal(kh_str(&r, "KeyId"), arn);
    assert_string_equal(kh_str(&r, "KeyState"), "PendingDeletion");
    assert_int_equal(json_integer_value(json_object_get(r.out, "PendingWindowInDays")), 7);
    json_int_t when = json_integer_value(json_object_get(r.out, "DeletionDate"));
    assert_true(when >= now + 7 * 86400 && when <= vt_time_now() + 7 * 86400);
    kh_res_cleanup(&r);
    r = kh_call(h, KH_ADMIN, "DescribeKey", "{\"KeyId\":\"%s\"}", id);
    assert_string_equal(meta_str(&r, "KeyState"), "PendingDeletion");
    assert_int_equal(json_integer_value(json_object_get(meta(&r), "DeletionDate")), when);
    assert_int_equal(json_integer_value(json_object_get(meta(&r), "PendingDeletionWindowInDays")),
                     7);
    kh_res_cleanup(&r);
    FAILS(kh_call(h, KH_ENCLAVE, "Encrypt", "{\"KeyId\":\"%s\",\"Plaintext\":\"AA==\"}", id),
          "KMSInvalidStateException", 409);
    FAILS(kh_call(h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"}", blob),
          "KMSInvalidStateException", 409);
    FAILS(kh_call(h, KH_ADMIN, "EnableKey", "{\"KeyId\":\"%s\"}", id), "KMSInvalidStateException",
          409);
    FAILS(kh_call(h, KH_ADMIN, "DisableKey", "{\"KeyId\":\"%s\"}", id), "KMSInvalidStateException",
          409);
    FAILS(kh_call(h, KH_ADMIN, "ScheduleKeyDeletion", "{\"KeyId\":\"%s\"}", id),
          "KMSInvalidStateException", 409);
    FAILS(kh_call(h, KH_ADMIN, "CreateAlias",
                  "{\"AliasName\":\"alias/late\",\"TargetKeyId\":"
                  "\"%s\"}",
                  id),
          "KMSInvalidStateException", 409);
    FAILS(kh_call(h, KH_ADMIN, "UpdateKeyDescription", "{\"KeyId\":\"%s\",\"Description\":\"x\"}",
                  id),
          "KMSInvalidStateException", 409);
    FAILS(kh_call(h, KH_ADMIN, "EnableKeyRotation", "{\"KeyId\":\"%s\"}", id),
          "KMSInvalidStateException", 409);
    SUCCEEDS(kh_call(h, KH_ADMIN, "GetKeyPolicy", "{\"KeyId\":\"%s\"}", id));
    r = kh_call(h, KH_ADMIN, "CancelKeyDeletion", "{\"KeyId\":\"%s\"}", id);
    assert_true(r.ok);
    assert_string_equal(kh_str(&r, "KeyId"), arn);
    kh_res_cleanup(&r);
    FAILS(kh_call(h, KH_ADMIN, "CancelKeyDeletion", "{\"KeyId\":\"%s\"}", id),
          "KMSInvalidStateException", 409);
    r = kh_call(h, KH_ADMIN, "DescribeKey", "{\"KeyId\":\"%s\"}", id);
    assert_string_equal(meta_str(&r, "KeyState"), "Disabled"); /* as KMS leaves it */
    assert_null(json_object_get(meta(&r), "DeletionDate"));
    kh_res_cleanup(&r);
    free(blob);
}

/* A key whose deletion date has passed is gone: not found at once, purged with its versions,
 * aliases and policy, and the deletion logged. */
static void test_deletion(void **state)
{
    struct kh *h = *state;
    char id[VT_KMS_UUID_LEN + 1];
    assert_true(kh_create_key(h, NULL, id));
    SUCCEEDS(kh_call(h, KH_ADMIN, "CreateAlias",
                     "{\"AliasName\":\"alias/doomed\",\"TargetKeyId\":"
                     "\"%s\"}",
                     id));
    SUCCEEDS(kh_call(h, KH_ADMIN, "ScheduleKeyDeletion", "{\"KeyId\":\"%s\"}", id));
    struct vt_sql_arg a[] = {VT_SQL_T(id)};
    assert_int_equal(vt_store_exec(h->b->store,
                                   "UPDATE vk_keys SET deletion_date = 1 WHERE key_id = ?", a, 1,
                                   NULL, NULL, NULL, NULL),
                     VT_OK);
    FAILS(kh_call(h, KH_ADMIN, "DescribeKey", "{\"KeyId\":\"%s\"}", id), "NotFoundException", 404);
    vt_kms_purge(h->k, true);
    static const char *const tables[] = {"vk_keys", "vk_key_versions", "vk_key_policies",
                                         "vk_aliases"};
    for (size_t i = 0; i < 4; i++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s WHERE key_id = ?", tables[i]);
        int64_t n = -1;
        assert_int_equal(vt_store_exec(h->b->store, sql, a, 1, vt_store_row_int, &n, NULL, NULL),
                         VT_OK);
        assert_int_equal(n, 0);
    }
    char entry[4096];
    last_entry(h, entry);
    assert_non_null(strstr(entry, "\"event\":\"DeleteKey\""));
    assert_non_null(strstr(entry, id));
    FAILS(kh_call(h, KH_ADMIN, "DescribeKey", "{\"KeyId\":\"alias/doomed\"}"), "NotFoundException",
          404);
}

/* ---- key policies ---- */

static void test_key_policies(void **state)
{
    struct kh *h = *state;
    char id[VT_KMS_UUID_LEN + 1];
    assert_true(kh_create_key(h, NULL, id));
    struct kh_res r = kh_call(h, KH_ADMIN, "GetKeyPolicy", "{\"KeyId\":\"%s\"}", id);
    assert_true(r.ok);
    assert_string_equal(kh_str(&r, "PolicyName"), "default");
    assert_non_null(strstr(kh_str(&r, "Policy"), "\"arn:aws:iam::" KH_ACCOUNT ":root\""));
    assert_non_null(strstr(kh_str(&r, "Policy"), "\"kms:*\""));
    kh_res_cleanup(&r);
    FAILS(kh_call(h, KH_ADMIN, "GetKeyPolicy", "{\"KeyId\":\"%s\",\"PolicyName\":\"other\"}", id),
          "NotFoundException", 404);
    FAILS(kh_call(h, KH_OTHER, "GetKeyPolicy", "{\"KeyId\":\"%s\"}", id), "AccessDeniedException",
          400);
    r = kh_call(h, KH_ENCLAVE, "ListKeyPolicies", "{\"KeyId\":\"%s\"}", id);
    assert_true(r.ok);
    assert_string_equal(json_string_value(json_array_get(json_object_get(r.out, "PolicyNames"), 0)),
                        "default");
    kh_res_cleanup(&r);
    FAILS(
        kh_call(h, KH_ADMIN, "PutKeyPolicy", "{\"KeyId\":\"%s\",\"Policy\":\"{\\\"x\\\":1}\"}", id),
        "MalformedPolicyDocumentException", 400);
    FAILS(kh_call(h, KH_ADMIN, "PutKeyPolicy",
                  "{\"KeyId\":\"%s\",\"Policy\":\"{}\","
                  "\"PolicyName\":\"p2\"}",
                  id),
          "NotFoundException", 404);
    FAILS(kh_call(h, KH_OTHER, "PutKeyPolicy", "{\"KeyId\":\"%s\",\"Policy\":\"{}\"}", id),
          "AccessDeniedException", 400);
    /* the admin keeps the policy, the enclave role may only decrypt with purpose=vault, and
     * everybody else nothing */
    static const char policy[] =
        "{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":["
        "{\\\"Sid\\\":\\\"admin\\\",\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":{\\\"AWS\\\":"
        "\\\"arn:aws:iam::" KH_ACCOUNT ":role/admin\\\"},\\\"Action\\\":\\\"kms:*\\\","
        "\\\"Resource\\\":\\\"*\\\"},"
        "{\\\"Sid\\\":\\\"enclave\\\",\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":{\\\"AWS\\\":"
        "\\\"arn:aws:iam::" KH_ACCOUNT ":role/enclave\\\"},\\\"Action\\\":\\\"kms:Decrypt\\\","
        "\\\"Resource\\\":\\\"*\\\",\\\"Condition\\\":{\\\"StringEquals\\\":"
        "{\\\"kms:EncryptionContext:purpose\\\":\\\"vault\\\"}}}]}";
    SUCCEEDS(
        kh_call(h, KH_ADMIN, "PutKeyPolicy", "{\"KeyId\":\"%s\",\"Policy\":\"%s\"}", id, policy));
    r = kh_call(h, KH_ADMIN, "GetKeyPolicy", "{\"KeyId\":\"%s\",\"PolicyName\":\"default\"}", id);
    assert_non_null(strstr(kh_str(&r, "Policy"), "role/enclave"));
    kh_res_cleanup(&r);
    FAILS(kh_call(h, KH_ENCLAVE, "Encrypt", "{\"KeyId\":\"%s\",\"Plaintext\":\"AA==\"}", id),
          "AccessDeniedException", 400);
    char *good = encrypt(h, KH_ADMIN, id, "{\"purpose\":\"vault\"}");
    char *other = encrypt(h, KH_ADMIN, id, "{\"purpose\":\"other\"}");
    assert_non_null(good);
    assert_non_null(other);
    r = kh_call(h, KH_ENCLAVE, "Decrypt",
                "{\"CiphertextBlob\":\"%s\",\"EncryptionContext\":{\"purpose\":\"vault\"}}", good);
    assert_true(r.ok);
    assert_string_equal(kh_str(&r, "Plaintext"), HELLO_B64);
    kh_res_cleanup(&r);
    FAILS(kh_call(h, KH_ENCLAVE, "Decrypt",
                  "{\"CiphertextBlob\":\"%s\",\"EncryptionContext\":{\"purpose\":\"other\"}}",
                  other),
          "AccessDeniedException", 400);
    /* the refusal is by policy, before the ciphertext is looked at */
    FAILS(kh_call(h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"}", good),
          "AccessDeniedException", 400);
    FAILS(kh_call(h, KH_ENCLAVE, "DescribeKey", "{\"KeyId\":\"%s\"}", id), "AccessDeniedException",
          400);
    /* a policy that locks the admin out: refused, unless the check is bypassed */
    static const char enclave_only[] =
        "{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":{\\\"Effect\\\":\\\"Allow\\\","
        "\\\"Principal\\\":{\\\"AWS\\\":\\\"arn:aws:iam::" KH_ACCOUNT ":role/enclave\\\"},"
        "\\\"Action\\\":\\\"kms:Decrypt\\\",\\\"Resource\\\":\\\"*\\\"}}";
    FAILS(kh_call(h, KH_ADMIN, "PutKeyPolicy", "{\"KeyId\":\"%s\",\"Policy\":\"%s\"}", id,
                  enclave_only),
          "MalformedPolicyDocumentException", 400);
    SUCCEEDS(kh_call(h, KH_ADMIN, "PutKeyPolicy",
                     "{\"KeyId\":\"%s\",\"Policy\":\"%s\",\"BypassPolicyLockoutSafetyCheck\":true}",
                     id, enclave_only));
    FAILS(kh_call(h, KH_ADMIN, "GetKeyPolicy", "{\"KeyId\":\"%s\"}", id), "AccessDeniedException",
          400);
    free(good);
    free(other);
}

/* ---- cryptography ---- */

static void test_encrypt_decrypt(void **state)
{
    struct kh *h = *state;
    char id[VT_KMS_UUID_LEN + 1], id2[VT_KMS_UUID_LEN + 1];
    assert_true(kh_create_key(h, NULL, id));
    assert_true(kh_create_key(h, NULL, id2));
    SUCCEEDS(kh_call(h, KH_ADMIN, "CreateAlias",
                     "{\"AliasName\":\"alias/ed\",\"TargetKeyId\":"
                     "\"%s\"}",
                     id));
    struct kh_res r = kh_call(h, KH_ENCLAVE, "Encrypt",
                              "{\"KeyId\":\"alias/ed\",\"Plaintext\":\"" HELLO_B64
                              "\",\"EncryptionContext\":{\"a\":\"1\",\"b\":\"2\"},"
                              "\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}");
    assert_true(r.ok);
    char arn[VT_KMS_ARN_MAX];
    snprintf(arn, sizeof(arn), ARN_PREFIX "%s", id);
    assert_string_equal(kh_str(&r, "KeyId"), arn);
    assert_string_equal(kh_str(&r, "EncryptionAlgorithm"), "SYMMETRIC_DEFAULT");
    char *blob = strdup(kh_str(&r, "CiphertextBlob"));
    kh_res_cleanup(&r);
    /* the context in another order; the KeyId in every form, or none */
    const char *keys[] = {NULL, id, arn, "alias/ed"};
    for (size_t i = 0; i < 4; i++) {
        char kid[400] = "";
        if (keys[i] != NULL) {
            snprintf(kid, sizeof(kid), ",\"KeyId\":\"%s\"", keys[i]);
        }
        r = kh_call(h, KH_ENCLAVE, "Decrypt",
                    "{\"CiphertextBlob\":\"%s\",\"EncryptionContext\":{\"b\":\"2\",\"a\":\"1\"}%s}",
                    blob, kid);
        assert_true(r.ok);
        assert_string_equal(kh_str(&r, "Plaintext"), HELLO_B64);
        assert_string_equal(kh_str(&r, "KeyId"), arn);
        assert_string_equal(kh_str(&r, "EncryptionAlgorithm"), "SYMMETRIC_DEFAULT");
        assert_null(json_object_get(r.out, "CiphertextForRecipient"));
        kh_res_cleanup(&r);
    }
    FAILS(kh_call(h, KH_ENCLAVE, "Decrypt",
                  "{\"CiphertextBlob\":\"%s\",\"EncryptionContext\":{\"a\":\"1\"}}", blob),
          "InvalidCiphertextException", 400);
    FAILS(kh_call(h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"}", blob),
          "InvalidCiphertextException", 400);
    FAILS(kh_call(h, KH_ENCLAVE, "Decrypt",
                  "{\"CiphertextBlob\":\"%s\",\"EncryptionContext\":{\"a\":\"1\",\"b\":\"2\"},"
                  "\"KeyId\":\"%s\"}",
                  blob, id2),
          "IncorrectKeyException", 400);
    FAILS(kh_call(h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\",\"KeyId\":\"alias/none\"}",
                  blob),
          "NotFoundException", 404);
    FAILS(kh_call(h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"bm90IGEgYmxvYg==\"}"),
          "InvalidCiphertextException", 400);
    FAILS(kh_call(h, KH_OTHER, "Decrypt",
                  "{\"CiphertextBlob\":\"%s\",\"EncryptionContext\":{\"a\":\"1\",\"b\":\"2\"}}",
                  blob),
          "AccessDeniedException", 400);
    /* a blob of this service naming a key that does not exist */
    uint8_t raw[200];
    size_t n = 0;
    assert_int_equal(vt_base64_decode(blob, strlen(blob), false, raw, sizeof(raw), &n), VT_OK);
    memset(raw + 4, 0x77, 16);
    char b64[300];
    assert_int_equal(vt_base64_encode(raw, n, false, b64, sizeof(b64)), VT_OK);
    FAILS(kh_call(h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"}", b64),
          "NotFoundException", 404);
    /* and a version the key does not have */
    assert_int_equal(vt_base64_decode(blob, strlen(blob), false, raw, sizeof(raw), &n), VT_OK);
    raw[23] = 9;
    assert_int_equal(vt_base64_encode(raw, n, false, b64, sizeof(b64)), VT_OK);
    FAILS(kh_call(h, KH_ENCLAVE, "Decrypt",
                  "{\"CiphertextBlob\":\"%s\",\"EncryptionContext\":{\"a\":\"1\",\"b\":\"2\"}}",
                  b64),
          "InvalidCiphertextException", 400);
    /* algorithms, grants, dry runs */
    FAILS(kh_call(h, KH_ENCLAVE, "Encrypt",
                  "{\"KeyId\":\"%s\",\"Plaintext\":\"AA==\","
                  "\"EncryptionAlgorithm\":\"RSAES_OAEP_SHA_256\"}",
                  id),
          "InvalidKeyUsageException", 400);
    FAILS(kh_call(h, KH_ENCLAVE, "Encrypt",
                  "{\"KeyId\":\"%s\",\"Plaintext\":\"AA==\","
                  "\"EncryptionAlgorithm\":\"AES\"}",
                  id),
          "ValidationException", 400);
    FAILS(kh_call(h, KH_ENCLAVE, "Decrypt",
                  "{\"CiphertextBlob\":\"%s\",\"EncryptionAlgorithm\":"
                  "\"SM2PKE\",\"EncryptionContext\":{\"a\":\"1\","
                  "\"b\":\"2\"}}",
                  blob),
          "InvalidKeyUsageException", 400);
    FAILS(kh_call(h, KH_ENCLAVE, "Encrypt",
                  "{\"KeyId\":\"%s\",\"Plaintext\":\"AA==\","
                  "\"GrantTokens\":[\"t\"]}",
                  id),
          "InvalidGrantTokenException", 400);
    FAILS(kh_call(h, KH_ENCLAVE, "Encrypt",
                  "{\"KeyId\":\"%s\",\"Plaintext\":\"AA==\","
                  "\"DryRun\":true}",
                  id),
          "DryRunOperationException", 412);
    FAILS(kh_call(h, KH_ENCLAVE, "Decrypt",
                  "{\"CiphertextBlob\":\"%s\",\"DryRun\":true,"
                  "\"EncryptionContext\":{\"a\":\"1\",\"b\":\"2\"}}",
                  blob),
          "DryRunOperationException", 412);
    FAILS(kh_call(h, KH_ENCLAVE, "Decrypt",
                  "{\"CiphertextBlob\":\"%s\",\"DryRun\":true,"
                  "\"DryRunModifiers\":[\"IGNORE_CIPHERTEXT\"]}",
                  blob),
          "UnsupportedOperationException", 400);
    /* a dry run of a call that would be refused is refused */
    FAILS(kh_call(h, KH_OTHER, "Encrypt",
                  "{\"KeyId\":\"%s\",\"Plaintext\":\"AA==\","
                  "\"DryRun\":true}",
                  id),
          "AccessDeniedException", 400);
    FAILS(kh_call(h, KH_ENCLAVE, "Encrypt", "{\"KeyId\":\"alias/none\",\"Plaintext\":\"AA==\"}"),
          "NotFoundException", 404);
    free(blob);
}

static void test_re_encrypt(void **state)
{
    struct kh *h = *state;
    char src[VT_KMS_UUID_LEN + 1], dst[VT_KMS_UUID_LEN + 1];
    assert_true(kh_create_key(h, NULL, src));
    assert_true(kh_create_key(h, NULL, dst));
    char *blob = encrypt(h, KH_ENCLAVE, src, "{\"s\":\"1\"}");
    struct kh_res r = kh_call(h, KH_ENCLAVE, "ReEncrypt",
                              "{\"CiphertextBlob\":\"%s\",\"SourceEncryptionContext\":{\"s\":"
                              "\"1\"},\"DestinationKeyId\":\"%s\","
                              "\"DestinationEncryptionContext\":{\"d\":\"2\"}}",
                              blob, dst);
    assert_true(r.ok);
    char sarn[VT_KMS_ARN_MAX], darn[VT_KMS_ARN_MAX];
    snprintf(sarn, sizeof(sarn), ARN_PREFIX "%s", src);
    snprintf(darn, sizeof(darn), ARN_PREFIX "%s", dst);
    assert_string_equal(kh_str(&r, "SourceKeyId"), sarn);
    assert_string_equal(kh_str(&r, "KeyId"), darn);
    assert_string_equal(kh_str(&r, "SourceEncryptionAlgorithm"), "SYMMETRIC_DEFAULT");
    assert_string_equal(kh_str(&r, "DestinationEncryptionAlgorithm"), "SYMMETRIC_DEFAULT");
    char *moved = strdup(kh_str(&r, "CiphertextBlob"));
    kh_res_cleanup(&r);
    r = kh_call(h, KH_ENCLAVE, "Decrypt",
                "{\"CiphertextBlob\":\"%s\",\"EncryptionContext\":{\"d\":\"2\"}}", moved);
    assert_true(r.ok);
    assert_string_equal(kh_str(&r, "Plaintext"), HELLO_B64);
    assert_string_equal(kh_str(&r, "KeyId"), darn);
    kh_res_cleanup(&r);
    FAILS(kh_call(h, KH_ENCLAVE, "ReEncrypt",
                  "{\"CiphertextBlob\":\"%s\",\"DestinationKeyId\":\"%s\"}", blob, dst),
          "InvalidCiphertextException", 400);
    FAILS(kh_call(h, KH_ENCLAVE, "ReEncrypt",
                  "{\"CiphertextBlob\":\"%s\",\"SourceKeyId\":\"%s\",\"DestinationKeyId\":\"%s\","
                  "\"SourceEncryptionContext\":{\"s\":\"1\"}}",
                  blob, dst, dst),
          "IncorrectKeyException", 400);
    FAILS(kh_call(h, KH_ENCLAVE, "ReEncrypt",
                  "{\"CiphertextBlob\":\"%s\",\"DestinationKeyId\":\"alias/none\","
                  "\"SourceEncryptionContext\":{\"s\":\"1\"}}",
                  blob),
          "NotFoundException", 404);
    FAILS(kh_call(h, KH_OTHER, "ReEncrypt",
                  "{\"CiphertextBlob\":\"%s\",\"DestinationKeyId\":\"%s\","
                  "\"SourceEncryptionContext\":{\"s\":\"1\"}}",
                  blob, dst),
          "AccessDeniedException", 400);
    SUCCEEDS(kh_call(h, KH_ADMIN, "DisableKey", "{\"KeyId\":\"%s\"}", dst));
    FAILS(kh_call(h, KH_ENCLAVE, "ReEncrypt",
                  "{\"CiphertextBlob\":\"%s\",\"DestinationKeyId\":\"%s\","
                  "\"SourceEncryptionContext\":{\"s\":\"1\"}}",
                  blob, dst),
          "DisabledException", 409);
    free(moved);
    free(blob);
}

static size_t b64_len(const char *s)
{
    uint8_t raw[2048];
    size_t n = 0;
    assert_int_equal(vt_base64_decode(s, strlen(s), false, raw, sizeof(raw), &n), VT_OK);
    return n;
}

static void test_data_keys_random(void **state)
{
    struct kh *h = *state;
    char id[VT_KMS_UUID_LEN + 1];
    assert_true(kh_create_key(h, NULL, id));
    static const struct {
        const char *member;
        size_t n;
    } sizes[] = {{"\"KeySpec\":\"AES_256\"", 32},
                 {"\"KeySpec\":\"AES_128\"", 16},
                 {"\"NumberOfBytes\":1", 1},
                 {"\"NumberOfBytes\":1024", 1024}};
    for (size_t i = 0; i < 4; i++) {
        struct kh_res r = kh_call(h, KH_ENCLAVE, "GenerateDataKey",
                                  "{\"KeyId\":\"%s\",%s,\"EncryptionContext\":{\"k\":\"v\"}}", id,
                                  sizes[i].member);
        assert_true(r.ok);
        assert_int_equal(b64_len(kh_str(&r, "Plaintext")), sizes[i].n);
        char *pt = strdup(kh_str(&r, "Plaintext"));
        struct kh_res d = kh_call(h, KH_ENCLAVE, "Decrypt",
                                  "{\"CiphertextBlob\":\"%s\",\"EncryptionContext\":{\"k\":\"v\"}}",
                                  kh_str(&r, "CiphertextBlob"));
        assert_true(d.ok);
        assert_string_equal(kh_str(&d, "Plaintext"), pt);
        kh_res_cleanup(&d);
        kh_res_cleanup(&r);
        free(pt);
    }
    struct kh_res r = kh_call(h, KH_ENCLAVE, "GenerateDataKeyWithoutPlaintext",
                              "{\"KeyId\":\"%s\",\"KeySpec\":\"AES_256\"}", id);
    assert_true(r.ok);
    assert_null(json_object_get(r.out, "Plaintext"));
    struct kh_res d = kh_call(h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"}",
                              kh_str(&r, "CiphertextBlob"));
    assert_true(d.ok);
    assert_int_equal(b64_len(kh_str(&d, "Plaintext")), 32);
    kh_res_cleanup(&d);
    kh_res_cleanup(&r);
    FAILS(kh_call(h, KH_ENCLAVE, "GenerateDataKey", "{\"KeyId\":\"%s\"}", id),
          "ValidationException", 400);
    FAILS(kh_call(h, KH_ENCLAVE, "GenerateDataKey",
                  "{\"KeyId\":\"%s\",\"KeySpec\":\"AES_256\",\"NumberOfBytes\":32}", id),
          "ValidationException", 400);
    FAILS(
        kh_call(h, KH_ENCLAVE, "GenerateDataKey", "{\"KeyId\":\"%s\",\"KeySpec\":\"AES_512\"}", id),
        "ValidationException", 400);
    FAILS(
        kh_call(h, KH_ENCLAVE, "GenerateDataKey", "{\"KeyId\":\"%s\",\"NumberOfBytes\":1025}", id),
        "ValidationException", 400);
    FAILS(kh_call(h, KH_OTHER, "GenerateDataKey", "{\"KeyId\":\"%s\",\"KeySpec\":\"AES_256\"}", id),
          "AccessDeniedException", 400);
    FAILS(kh_call(h, KH_ENCLAVE, "GenerateDataKeyWithoutPlaintext",
                  "{\"KeyId\":\"%s\",\"KeySpec\":\"AES_256\",\"DryRun\":true}", id),
          "DryRunOperationException", 412);
    /* GenerateRandom: for every access key, no key involved */
    r = kh_call(h, KH_OTHER, "GenerateRandom", "{\"NumberOfBytes\":48}");
    assert_true(r.ok);
    assert_int_equal(b64_len(kh_str(&r, "Plaintext")), 48);
    kh_res_cleanup(&r);
    FAILS(kh_call(h, KH_ENCLAVE, "GenerateRandom", "{}"), "ValidationException", 400);
    FAILS(kh_call(h, KH_ENCLAVE, "GenerateRandom", "{\"NumberOfBytes\":0}"), "ValidationException",
          400);
    FAILS(kh_call(h, KH_ENCLAVE, "GenerateRandom",
                  "{\"NumberOfBytes\":8,\"CustomKeyStoreId\":"
                  "\"cks-1\"}"),
          "UnsupportedOperationException", 400);
}

/* ---- rotation ---- */

static uint32_t blob_version(const char *b64)
{
    uint8_t raw[200];
    size_t n = 0;
    assert_int_equal(vt_base64_decode(b64, strlen(b64), false, raw, sizeof(raw), &n), VT_OK);
    return (uint32_t)raw[20] << 24 | (uint32_t)raw[21] << 16 | (uint32_t)raw[22] << 8 | raw[23];
}

static void test_rotation(void **state)
{
    struct kh *h = *state;
    char id[VT_KMS_UUID_LEN + 1];
    assert_true(kh_create_key(h, NULL, id));
    struct kh_res r = kh_call(h, KH_ENCLAVE, "GetKeyRotationStatus", "{\"KeyId\":\"%s\"}", id);
    assert_true(r.ok);
    assert_true(json_is_false(json_object_get(r.out, "KeyRotationEnabled")));
    assert_null(json_object_get(r.out, "RotationPeriodInDays"));
    kh_res_cleanup(&r);
    vt_time now = vt_time_now();
    SUCCEEDS(kh_call(h, KH_ADMIN, "EnableKeyRotation", "{\"KeyId\":\"%s\"}", id));
    r = kh_call(h, KH_ENCLAVE, "GetKeyRotationStatus", "{\"KeyId\":\"%s\"}", id);
    assert_true(json_is_true(json_object_get(r.out, "KeyRotationEnabled")));
    assert_int_equal(json_integer_value(json_object_get(r.out, "RotationPeriodInDays")), 365);
    json_int_t next = json_integer_value(json_object_get(r.out, "NextRotationDate"));
    assert_true(next >= now + 365 * 86400 && next <= vt_time_now() + 365 * 86400);
    kh_res_cleanup(&r);
    SUCCEEDS(kh_call(h, KH_ADMIN, "EnableKeyRotation",
                     "{\"KeyId\":\"%s\",\"RotationPeriodInDays\":"
                     "90}",
                     id));
    r = kh_call(h, KH_ENCLAVE, "GetKeyRotationStatus", "{\"KeyId\":\"%s\"}", id);
    assert_int_equal(json_integer_value(json_object_get(r.out, "RotationPeriodInDays")), 90);
    kh_res_cleanup(&r);
    FAILS(kh_call(h, KH_ADMIN, "EnableKeyRotation",
                  "{\"KeyId\":\"%s\",\"RotationPeriodInDays\":"
                  "2561}",
                  id),
          "ValidationException", 400);
    FAILS(kh_call(h, KH_OTHER, "EnableKeyRotation", "{\"KeyId\":\"%s\"}", id),
          "AccessDeniedException", 400);
    SUCCEEDS(kh_call(h, KH_ADMIN, "DisableKeyRotation", "{\"KeyId\":\"%s\"}", id));
    r = kh_call(h, KH_ENCLAVE, "GetKeyRotationStatus", "{\"KeyId\":\"%s\"}", id);
    assert_true(json_is_false(json_object_get(r.out, "KeyRotationEnabled")));
    kh_res_cleanup(&r);
    /* on demand: old ciphertexts keep decrypting, new ones use the new version */
    char *v1 = encrypt(h, KH_ENCLAVE, id, NULL);
    assert_int_equal(blob_version(v1), 1);
    r = kh_call(h, KH_ADMIN, "RotateKeyOnDemand", "{\"KeyId\":\"%s\"}", id);
    assert_true(r.ok);
    char arn[VT_KMS_ARN_MAX];
    snprintf(arn, sizeof(arn), ARN_PREFIX "%s", id);
    assert_string_equal(kh_str(&r, "KeyId"), arn);
    kh_res_cleanup(&r);
    char *v2 = encrypt(h, KH_ENCLAVE, id, NULL);
    assert_int_equal(blob_version(v2), 2);
    SUCCEEDS(kh_call(h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"}", v1));
    SUCCEEDS(kh_call(h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"}", v2));
    for (int i = 1; i < VT_KMS_ON_DEMAND_MAX; i++) {
        SUCCEEDS(kh_call(h, KH_ADMIN, "RotateKeyOnDemand", "{\"KeyId\":\"%s\"}", id));
    }
    FAILS(kh_call(h, KH_ADMIN, "RotateKeyOnDemand", "{\"KeyId\":\"%s\"}", id),
          "LimitExceededException", 400);
    SUCCEEDS(kh_call(h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"}", v1));
    /* automatic rotation: due now, the next encryption rotates first */
    char id2[VT_KMS_UUID_LEN + 1];
    assert_true(kh_create_key(h, NULL, id2));
    SUCCEEDS(kh_call(h, KH_ADMIN, "EnableKeyRotation", "{\"KeyId\":\"%s\"}", id2));
    char *a1 = encrypt(h, KH_ENCLAVE, id2, NULL);
    assert_int_equal(blob_version(a1), 1);
    struct vt_sql_arg a[] = {VT_SQL_T(id2)};
    assert_int_equal(vt_store_exec(h->b->store,
                                   "UPDATE vk_keys SET next_rotation = 1 WHERE key_id = ?", a, 1,
                                   NULL, NULL, NULL, NULL),
                     VT_OK);
    char *a2 = encrypt(h, KH_ENCLAVE, id2, NULL);
    assert_int_equal(blob_version(a2), 2);
    r = kh_call(h, KH_ENCLAVE, "GetKeyRotationStatus", "{\"KeyId\":\"%s\"}", id2);
    assert_true(json_integer_value(json_object_get(r.out, "NextRotationDate")) >
                vt_time_now() + 364 * 86400);
    kh_res_cleanup(&r);
    SUCCEEDS(kh_call(h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"}", a1));
    /* rotation needs an enabled key */
    SUCCEEDS(kh_call(h, KH_ADMIN, "DisableKey", "{\"KeyId\":\"%s\"}", id2));
    FAILS(kh_call(h, KH_ADMIN, "RotateKeyOnDemand", "{\"KeyId\":\"%s\"}", id2), "DisabledException",
          409);
    FAILS(kh_call(h, KH_ADMIN, "EnableKeyRotation", "{\"KeyId\":\"%s\"}", id2), "DisabledException",
          409);
    FAILS(kh_call(h, KH_ADMIN, "DisableKeyRotation", "{\"KeyId\":\"%s\"}", id2),
          "DisabledException", 409);
    FAILS(kh_call(h, KH_ADMIN, "GetKeyRotationStatus", "{\"KeyId\":\"alias/x\"}"),
          "NotFoundException", 404);
    free(v1);
    free(v2);
    free(a1);
    free(a2);
}

/* ---- the audit log ---- */

static void test_audit(void **state)
{
    struct kh *h = *state;
    char id[VT_KMS_UUID_LEN + 1];
    assert_true(kh_create_key(h, NULL, id));
    int64_t before = log_size(h);
    char *blob = encrypt(h, KH_ENCLAVE, id, "{\"tenant\":\"acme\"}");
    FAILS(kh_call(h, KH_OTHER, "Decrypt", "{\"CiphertextBlob\":\"%s\"}", blob),
          "AccessDeniedException", 400);
    char entry[4096];
    last_entry(h, entry);
    json_t *e = json_loads(entry, 0, NULL);
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "type")), "kms");
    assert_string_equal(json_string_value(json_object_get(e, "event")), "Decrypt");
    assert_string_equal(json_string_value(json_object_get(e, "decision")), "deny");
    assert_string_equal(json_string_value(json_object_get(e, "error")), "AccessDeniedException");
    assert_string_equal(json_string_value(json_object_get(e, "principal")),
                        "arn:aws:iam::" KH_OTHER_ACCOUNT ":role/other");
    assert_string_equal(json_string_value(json_object_get(e, "account")), KH_OTHER_ACCOUNT);
    assert_string_equal(json_string_value(json_object_get(e, "access_key_id")),
                        h->callers[KH_OTHER].access_key_id);
    char arn[VT_KMS_ARN_MAX];
    snprintf(arn, sizeof(arn), ARN_PREFIX "%s", id);
    assert_string_equal(json_string_value(json_object_get(e, "key")), arn);
    json_decref(e);
    FAILS(kh_call(h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"}", blob),
          "InvalidCiphertextException", 400);
    last_entry(h, entry);
    assert_non_null(strstr(entry, "\"decision\":\"error\""));
    struct kh_res r = kh_call(h, KH_ENCLAVE, "Decrypt",
                              "{\"CiphertextBlob\":\"%s\",\"EncryptionContext\":{\"tenant\":"
                              "\"acme\"}}",
                              blob);
    assert_true(r.ok);
    kh_res_cleanup(&r);
    last_entry(h, entry);
    e = json_loads(entry, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(e, "decision")), "allow");
    assert_int_equal(json_integer_value(json_object_get(e, "key_version")), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(e, "encryption_context"), "tenant")),
        "acme");
    assert_null(json_object_get(e, "error"));
    json_decref(e);
    FAILS(kh_call(h, KH_ENCLAVE, "CreateKey", "{}"), "AccessDeniedException", 400);
    r = kh_call(h, KH_ENCLAVE, "GenerateDataKey", "{\"KeyId\":\"%s\",\"KeySpec\":\"AES_256\"}", id);
    assert_true(r.ok);
    char data_key[100];
    snprintf(data_key, sizeof(data_key), "%s", kh_str(&r, "Plaintext"));
    kh_res_cleanup(&r);
    assert_int_equal(log_size(h), before + 6); /* six calls, refused or not */
    /* no plaintext in the log */
    last_entry(h, entry);
    assert_null(strstr(entry, data_key));
    assert_null(strstr(entry, HELLO_B64));
    /* the broker's audit still verifies every entry and checkpoint */
    uint64_t n = 0, cp = 0;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_broker_audit_verify(h->b, &n, &cp, &d), VT_OK);
    assert_int_equal(n, (uint64_t)log_size(h));
    free(blob);
}

/* A call whose log entry cannot be written gives nothing back. */
static void test_log_failure(void **state)
{
    struct kh *h = *state;
    char id[VT_KMS_UUID_LEN + 1];
    assert_true(kh_create_key(h, NULL, id));
    assert_int_equal(
        vt_store_exec(h->b->store, "DROP TABLE vb_checkpoints", NULL, 0, NULL, NULL, NULL, NULL),
        VT_OK);
    struct kh_res r =
        kh_call(h, KH_ENCLAVE, "GenerateDataKey", "{\"KeyId\":\"%s\",\"KeySpec\":\"AES_256\"}", id);
    assert_true(kh_fails(&r, "KMSInternalException", 500));
    assert_null(r.out);
    kh_res_cleanup(&r);
}

/* ---- access keys and the master key ---- */

static void test_access_keys_master_key(void **state)
{
    struct kh *h = *state;
    char id[VT_KMS_UUID_LEN + 1];
    assert_true(kh_create_key(h, NULL, id));
    char *blob = encrypt(h, KH_ENCLAVE, id, NULL);
    struct vt_diag d;
    vt_diag_init(&d);
    /* access keys: created, read back, disabled, listed without secrets */
    struct vt_kms_access_key ak, got;
    char secret[VT_KMS_SECRET_LEN + 1], back[VT_SIGV4_SECRET_MAX];
    assert_int_equal(vt_kms_access_key_create(h->k, "arn:aws:iam::" KH_ACCOUNT ":user/ops", false,
                                              &ak, secret, &d),
                     VT_OK);
    assert_int_equal(strlen(ak.id), VT_KMS_ACCESS_KEY_ID_LEN);
    assert_memory_equal(ak.id, "AKIA", 4);
    assert_int_equal(strlen(secret), VT_KMS_SECRET_LEN);
    bool found = false;
    assert_int_equal(vt_kms_access_key_get(h->k, ak.id, &got, back, &found, &d), VT_OK);
    assert_true(found);
    assert_string_equal(back, secret);
    assert_string_equal(got.principal, "arn:aws:iam::" KH_ACCOUNT ":user/ops");
    assert_string_equal(got.account, KH_ACCOUNT);
    assert_false(got.admin);
    assert_false(got.disabled);
    assert_int_equal(vt_kms_access_key_disable(h->k, ak.id, &d), VT_OK);
    assert_int_equal(vt_kms_access_key_get(h->k, ak.id, &got, back, &found, &d), VT_OK);
    assert_true(got.disabled);
    assert_int_equal(vt_kms_access_key_disable(h->k, "AKIANOSUCHKEY0000000", &d), VT_E_NOT_FOUND);
    assert_int_equal(vt_kms_access_key_get(h->k, "AKIANOSUCHKEY0000000", &got, back, &found, &d),
                     VT_OK);
    assert_false(found);
    assert_int_equal(vt_kms_access_key_create(h->k, "nobody", false, &ak, secret, &d), VT_E_ARG);
    char *json = NULL;
    assert_int_equal(vt_kms_access_keys_json(h->k, &json, &d), VT_OK);
    assert_non_null(strstr(json, "\"admin\":true"));
    assert_null(strstr(json, h->secrets[KH_ADMIN]));
    free(json);
    /* rewrap: the KMS values follow the master key */
    size_t versions = 0;
    assert_int_equal(vt_broker_keys_check(h->b, kms_service, 1, &versions, &d), VT_OK);
    assert_true(versions >= 1 + 4); /* a key version and four access keys */
    uint8_t nk[32];
    memset(nk, 0x66, sizeof(nk));
    size_t n = 0;
    assert_int_equal(vt_broker_rewrap(h->b, nk, kms_service, 1, &n, &d), VT_OK);
    assert_true(n >= 5);
    struct kh_res r = kh_call(h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"}", blob);
    assert_true(r.ok);
    kh_res_cleanup(&r);
    uint8_t old[32];
    memset(old, 0x5a, sizeof(old));
    size_t opened = 0;
    assert_int_equal(vt_kms_store_check(h->b->store, old, &opened, &d), VT_E_INTEGRITY);
    assert_int_equal(vt_kms_store_check(h->b->store, nk, &opened, &d), VT_OK);
    /* an altered sealed value is named */
    struct vt_sql_arg a[] = {VT_SQL_T(id)};
    assert_int_equal(vt_store_exec(h->b->store,
                                   "UPDATE vk_key_versions SET material = X'00112233445566778899"
                                   "aabbccddeeff00112233445566778899aabbccddeeff0011223344556677'"
                                   " WHERE key_id = ?",
                                   a, 1, NULL, NULL, NULL, NULL),
                     VT_OK);
    assert_int_equal(vt_broker_keys_check(h->b, kms_service, 1, &versions, &d), VT_E_INTEGRITY);
    assert_string_equal(d.check, "kms.material");
    assert_non_null(strstr(d.detail, id));
    FAILS(kh_call(h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"}", blob),
          "KMSInternalException", 500);
    free(blob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_describe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_describe_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_key_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aliases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deletion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encrypt_decrypt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_re_encrypt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_keys_random, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_keys_master_key, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
