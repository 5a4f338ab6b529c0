/*
 * The JSON 1.1 request reader of the KMS service (kms_request.c): the target, the Content-Type,
 * the body, and every kind of member with each of its refusals: the exception's __type and HTTP
 * status, and the member named in the message. Also the tables: every exception's status as
 * KMS's model gives it, every operation's required members among its allowed ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "internal.h"

#include "kms/kms.h"

#define CT "application/x-amz-json-1.1"

struct read {
    bool ok;
    struct vt_kms_input in;
    json_t *json;
    struct vt_kms_error e;
};

static struct read *rd(const char *target, const char *ct, const char *body)
{
    static struct read r;
    vt_kms_input_cleanup(&r.in);
    json_decref(r.json);
    memset(&r, 0, sizeof(r));
    r.ok = vt_kms_request_read(target, ct, (const uint8_t *)body, body ? strlen(body) : 0, &r.json,
                               &r.in, &r.e);
    return &r;
}

static struct read *op(const char *name, const char *body)
{
    char target[96];
    snprintf(target, sizeof(target), "TrentService.%s", name);
    return rd(target, CT, body);
}

static void refused(const struct read *r, const char *type, const char *in_message)
{
    if (r->ok) {
        fail_msg("accepted; expected %s", type);
    }
    assert_string_equal(r->e.type, type);
    assert_int_equal(r->e.status, strcmp(type, "KMSInternalException") == 0 ? 500 : 400);
    if (in_message != NULL && strstr(r->e.message, in_message) == NULL) {
        fail_msg("message \"%s\" does not say \"%s\"", r->e.message, in_message);
    }
    assert_null(r->json);
}

static void test_exception_table(void **state)
{
    (void)state;
    static const struct {
        enum vt_kms_exc x;
        const char *type;
        unsigned status;
    } want[] = {
        {VT_KMS_EXC_VALIDATION, "ValidationException", 400},
        {VT_KMS_EXC_ACCESS_DENIED, "AccessDeniedException", 400},
        {VT_KMS_EXC_NOT_FOUND, "NotFoundException", 404},
        {VT_KMS_EXC_DISABLED, "DisabledException", 409},
        {VT_KMS_EXC_INVALID_STATE, "KMSInvalidStateException", 409},
        {VT_KMS_EXC_INVALID_CIPHERTEXT, "InvalidCiphertextException", 400},
        {VT_KMS_EXC_INCORRECT_KEY, "IncorrectKeyException", 400},
        {VT_KMS_EXC_ALREADY_EXISTS, "AlreadyExistsException", 409},
        {VT_KMS_EXC_DRY_RUN, "DryRunOperationException", 412},
        {VT_KMS_EXC_INTERNAL, "KMSInternalException", 500},
        {VT_KMS_EXC_MALFORMED_POLICY, "MalformedPolicyDocumentException", 400},
        {VT_KMS_EXC_LIMIT_EXCEEDED, "LimitExceededException", 400},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_string_equal(vt_kms_exc_type(want[i].x), want[i].type);
        assert_int_equal(vt_kms_exc_status(want[i].x), want[i].status);
    }
    for (int x = 0; x < VT_KMS_EXC_COUNT; x++) {
        assert_non_null(strstr(vt_kms_exc_type((enum vt_kms_exc)x), "Exception"));
    }
    struct vt_kms_error e;
    assert_false(vt_kms_fail(&e, VT_KMS_EXC_NOT_FOUND, "Key '%s' does not exist", "k"));
    assert_string_equal(e.message, "Key 'k' does not exist");
}

static void test_op_tables(void **state)
{
    (void)state;
    for (int o = 0; o < VT_KMS_OP_COUNT; o++) {
        uint64_t req = 0, allowed = vt_kms_op_fields((enum vt_kms_op)o, &req);
        assert_int_equal(req & ~allowed, 0);
        const char *name = vt_kms_op_name((enum vt_kms_op)o);
        assert_true(strlen(name) > 3);
        char target[96];
        snprintf(target, sizeof(target), "TrentService.%s", name);
        struct read *r = rd(target, CT, "{}");
        assert_true(r->ok || strcmp(r->e.type, "ValidationException") == 0);
        if (r->ok) {
            assert_int_equal(r->in.op, o);
            assert_int_equal(req, 0);
        }
    }
}

static void test_target(void **state)
{
    (void)state;
    refused(rd(NULL, CT, "{}"), "UnknownOperationException", "header is missing");
    refused(rd("Encrypt", CT, "{}"), "UnknownOperationException", "TrentService.<Operation>");
    refused(rd("TrentService.", CT, "{}"), "UnknownOperationException", "Unknown operation");
    refused(rd("TrentService.encrypt", CT, "{}"), "UnknownOperationException", "\"encrypt\"");
    refused(rd("TrentService.Sign", CT, "{}"), "UnsupportedOperationException", "Sign is an AWS");
    refused(rd("TrentService.CreateGrant", CT, "{}"), "UnsupportedOperationException", NULL);
    refused(rd("OtherService.ListKeys", CT, "{}"), "UnknownOperationException", NULL);
    assert_true(rd("TrentService.ListKeys", CT, "{}")->ok);
}

static void test_content_type(void **state)
{
    (void)state;
    refused(rd("TrentService.ListKeys", NULL, "{}"), "SerializationException", "missing");
    refused(rd("TrentService.ListKeys", "application/json", "{}"), "SerializationException",
            "application/x-amz-json-1.1");
    refused(rd("TrentService.ListKeys", "application/x-amz-json-1.0", "{}"),
            "SerializationException", NULL);
    refused(rd("TrentService.ListKeys", "application/x-amz-json-1.10", "{}"),
            "SerializationException", NULL);
    assert_true(rd("TrentService.ListKeys", "application/x-amz-json-1.1; charset=utf-8", "{}")->ok);
    assert_true(rd("TrentService.ListKeys", "Application/X-Amz-Json-1.1", "{}")->ok);
}

static void test_body(void **state)
{
    (void)state;
    assert_true(op("ListKeys", "")->ok); /* an empty body is {} */
    refused(op("ListKeys", "{"), "SerializationException", "not JSON");
    refused(op("ListKeys", "[]"), "SerializationException", "not a JSON object");
    refused(op("ListKeys", "\"x\""), "SerializationException", NULL);
    refused(op("ListKeys", "{\"Limit\":1,\"Limit\":2}"), "SerializationException", "duplicate");
    char *big = malloc(VT_KMS_BODY_MAX + 2);
    memset(big, ' ', VT_KMS_BODY_MAX + 1);
    big[0] = '{';
    big[VT_KMS_BODY_MAX] = '}';
    big[VT_KMS_BODY_MAX + 1] = '\0';
    refused(op("ListKeys", big), "SerializationException", "larger than");
    free(big);
    /* members: unknown, another operation's, null (= absent), required */
    refused(op("ListKeys", "{\"Bogus\":1}"), "ValidationException",
            "Unknown parameter in ListKeys input: \"Bogus\"");
    refused(op("ListKeys", "{\"KeyId\":\"x\"}"), "ValidationException", "\"KeyId\"");
    struct read *r = op("ListKeys", "{\"Limit\":null}");
    assert_true(r->ok);
    assert_false(VT_KMS_HAS(&r->in, LIMIT));
    refused(op("Encrypt", "{\"KeyId\":\"k\"}"), "ValidationException",
            "Value null at 'plaintext' failed to satisfy constraint: Member must not be null");
    refused(op("Encrypt", "{\"KeyId\":null,\"Plaintext\":\"AA==\"}"), "ValidationException",
            "'keyId'");
    refused(op("ReEncrypt", "{\"CiphertextBlob\":\"AA==\"}"), "ValidationException",
            "'destinationKeyId'");
}

static void test_strings(void **state)
{
    (void)state;
    refused(op("DescribeKey", "{\"KeyId\":1}"), "SerializationException",
            "'keyId' cannot be read: expected a string, got a number");
    refused(op("DescribeKey", "{\"KeyId\":\"\"}"), "ValidationException",
            "Value at 'keyId' failed to satisfy constraint: Member must have length greater than "
            "or equal to 1");
    char *longest = malloc(VT_KMS_KEY_ID_MAX + 32);
    snprintf(longest, VT_KMS_KEY_ID_MAX + 32, "{\"KeyId\":\"%0*d\"}", VT_KMS_KEY_ID_MAX + 1, 0);
    refused(op("DescribeKey", longest), "ValidationException",
            "Member must have length less than or equal to 2048");
    snprintf(longest, VT_KMS_KEY_ID_MAX + 32, "{\"KeyId\":\"%0*d\"}", VT_KMS_KEY_ID_MAX, 0);
    assert_true(op("DescribeKey", longest)->ok);
    free(longest);
    /* characters, not bytes: 2048 two-byte characters fit */
    size_t n = 2048 * 2 + 16;
    char *wide = malloc(n);
    char *p = wide + snprintf(wide, n, "{\"KeyId\":\"");
    for (int i = 0; i < 2048; i++) {
        *p++ = (char)0xc3;
        *p++ = (char)0xa9;
    }
    snprintf(p, 4, "\"}");
    struct read *r = op("DescribeKey", wide);
    assert_true(r->ok);
    free(wide);
    /* jansson refuses an escaped NUL in a string: not JSON here */
    refused(op("DescribeKey", "{\"KeyId\":\"a\\u0000b\"}"), "SerializationException", "not JSON");
    assert_true(op("CreateKey", "{\"Description\":\"\"}")->ok); /* 0 characters is fine there */
}

static void test_blobs(void **state)
{
    (void)state;
    refused(op("Encrypt", "{\"KeyId\":\"k\",\"Plaintext\":\"!!\"}"), "SerializationException",
            "'plaintext' cannot be read: it is not base64");
    refused(op("Encrypt", "{\"KeyId\":\"k\",\"Plaintext\":7}"), "SerializationException",
            "expected a base64 string, got a number");
    refused(op("Encrypt", "{\"KeyId\":\"k\",\"Plaintext\":\"\"}"), "ValidationException",
            "'plaintext' failed to satisfy constraint: Member must have length greater than or "
            "equal to 1");
    /* 4096 bytes fit, 4097 do not */
    uint8_t raw[4097] = {0};
    char b64[6000], body[6100];
    assert_int_equal(vt_base64_encode(raw, 4096, false, b64, sizeof(b64)), VT_OK);
    snprintf(body, sizeof(body), "{\"KeyId\":\"k\",\"Plaintext\":\"%s\"}", b64);
    struct read *r = op("Encrypt", body);
    assert_true(r->ok);
    assert_int_equal(r->in.blob_len[VT_KMS_F_PLAINTEXT], 4096);
    assert_int_equal(vt_base64_encode(raw, 4097, false, b64, sizeof(b64)), VT_OK);
    snprintf(body, sizeof(body), "{\"KeyId\":\"k\",\"Plaintext\":\"%s\"}", b64);
    refused(op("Encrypt", body), "ValidationException", "less than or equal to 4096");
    /* the URL alphabet is read too */
    r = op("Encrypt", "{\"KeyId\":\"k\",\"Plaintext\":\"-_8\"}");
    assert_true(r->ok);
    assert_int_equal(r->in.blob_len[VT_KMS_F_PLAINTEXT], 2);
}

static void test_ints_bools(void **state)
{
    (void)state;
    refused(op("GenerateRandom", "{\"NumberOfBytes\":\"8\"}"), "SerializationException",
            "expected an integer, got a string");
    refused(op("GenerateRandom", "{\"NumberOfBytes\":8.5}"), "SerializationException",
            "expected an integer");
    refused(op("GenerateRandom", "{\"NumberOfBytes\":0}"), "ValidationException",
            "Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value "
            "greater than or equal to 1");
    refused(op("GenerateRandom", "{\"NumberOfBytes\":1025}"), "ValidationException",
            "less than or equal to 1024");
    struct read *r = op("GenerateRandom", "{\"NumberOfBytes\":1024}");
    assert_true(r->ok);
    assert_int_equal(r->in.i[VT_KMS_F_NUMBER_OF_BYTES], 1024);
    refused(op("EnableKeyRotation", "{\"KeyId\":\"k\",\"RotationPeriodInDays\":89}"),
            "ValidationException", "greater than or equal to 90");
    refused(op("Encrypt", "{\"KeyId\":\"k\",\"Plaintext\":\"AA==\",\"DryRun\":\"yes\"}"),
            "SerializationException", "expected a boolean");
    r = op("Encrypt", "{\"KeyId\":\"k\",\"Plaintext\":\"AA==\",\"DryRun\":true}");
    assert_true(r->ok);
    assert_true(r->in.b[VT_KMS_F_DRY_RUN]);
}

static void test_contexts_lists(void **state)
{
    (void)state;
    struct read *r = op("Encrypt", "{\"KeyId\":\"k\",\"Plaintext\":\"AA==\","
                                   "\"EncryptionContext\":{\"z\":\"1\",\"a\":\"2\"}}");
    assert_true(r->ok);
    const struct vt_kms_context *c = vt_kms_input_context(&r->in, VT_KMS_F_ENCRYPTION_CONTEXT);
    assert_int_equal(c->n, 2);
    assert_string_equal(c->pairs[0].key, "a");
    assert_string_equal(c->pairs[1].value, "1");
    refused(op("Encrypt", "{\"KeyId\":\"k\",\"Plaintext\":\"AA==\",\"EncryptionContext\":[]}"),
            "SerializationException", "an object of strings");
    refused(
        op("Encrypt", "{\"KeyId\":\"k\",\"Plaintext\":\"AA==\",\"EncryptionContext\":{\"a\":1}}"),
        "SerializationException", "not a string");
    refused(op("Encrypt",
               "{\"KeyId\":\"k\",\"Plaintext\":\"AA==\",\"EncryptionContext\":{\"\":\"x\"}}"),
            "ValidationException", "empty key");
    char body[8192];
    int n = snprintf(body, sizeof(body),
                     "{\"KeyId\":\"k\",\"Plaintext\":\"AA==\",\"EncryptionContext\":{");
    for (int i = 0; i <= VT_KMS_CONTEXT_PAIRS; i++) {
        n += snprintf(body + n, sizeof(body) - (size_t)n, "%s\"k%d\":\"v\"", i ? "," : "", i);
    }
    snprintf(body + n, sizeof(body) - (size_t)n, "}}");
    refused(op("Encrypt", body), "ValidationException", "at most 64 pairs");
    char *large = malloc(9000 + 100);
    n = snprintf(large, 100,
                 "{\"KeyId\":\"k\",\"Plaintext\":\"AA==\",\"EncryptionContext\":{\"a\":\"");
    memset(large + n, 'x', 8200);
    snprintf(large + n + 8200, 10, "\"}}");
    refused(op("Encrypt", large), "ValidationException", "8192 bytes");
    free(large);
    /* ReEncrypt's two contexts go to their own slots */
    r = op("ReEncrypt", "{\"CiphertextBlob\":\"AA==\",\"DestinationKeyId\":\"k\","
                        "\"SourceEncryptionContext\":{\"s\":\"1\"},"
                        "\"DestinationEncryptionContext\":{\"d\":\"2\",\"e\":\"3\"}}");
    assert_true(r->ok);
    assert_int_equal(vt_kms_input_context(&r->in, VT_KMS_F_SOURCE_ENCRYPTION_CONTEXT)->n, 1);
    assert_int_equal(vt_kms_input_context(&r->in, VT_KMS_F_DESTINATION_ENCRYPTION_CONTEXT)->n, 2);
    assert_int_equal(vt_kms_input_context(&r->in, VT_KMS_F_ENCRYPTION_CONTEXT)->n, 0);
    /* lists */
    r = op("DescribeKey", "{\"KeyId\":\"k\",\"GrantTokens\":[\"a\",\"b\"]}");
    assert_true(r->ok);
    assert_int_equal(r->in.n_list[VT_KMS_F_GRANT_TOKENS], 2);
    refused(op("DescribeKey", "{\"KeyId\":\"k\",\"GrantTokens\":\"a\"}"), "SerializationException",
            "a list of strings");
    refused(op("DescribeKey", "{\"KeyId\":\"k\",\"GrantTokens\":[1]}"), "SerializationException",
            NULL);
    refused(op("DescribeKey", "{\"KeyId\":\"k\",\"GrantTokens\":[\"1\",\"2\",\"3\",\"4\",\"5\","
                              "\"6\",\"7\",\"8\",\"9\",\"10\",\"11\"]}"),
            "ValidationException", "less than or equal to 10");
    refused(op("CreateKey", "{\"Tags\":{}}"), "SerializationException", "a list");
    r = op("CreateKey", "{\"Tags\":[{\"TagKey\":\"a\",\"TagValue\":\"b\"}]}");
    assert_true(r->ok);
    assert_int_equal(r->in.n_list[VT_KMS_F_TAGS], 1);
}

static void test_recipient(void **state)
{
    (void)state;
    struct read *r = op("Decrypt", "{\"CiphertextBlob\":\"AA==\",\"Recipient\":{"
                                   "\"KeyEncryptionAlgorithm\":\"RSAES_OAEP_SHA_256\","
                                   "\"AttestationDocument\":\"AAEC\"}}");
    assert_true(r->ok);
    assert_true(VT_KMS_HAS(&r->in, RECIPIENT));
    assert_string_equal(r->in.recipient_alg, "RSAES_OAEP_SHA_256");
    assert_int_equal(r->in.attestation_len, 3);
    refused(op("Decrypt", "{\"CiphertextBlob\":\"AA==\",\"Recipient\":[]}"),
            "SerializationException", "'recipient'");
    refused(op("Decrypt", "{\"CiphertextBlob\":\"AA==\",\"Recipient\":{\"Other\":1}}"),
            "ValidationException", "Unknown parameter in Recipient: \"Other\"");
    refused(op("Decrypt", "{\"CiphertextBlob\":\"AA==\",\"Recipient\":{"
                          "\"KeyEncryptionAlgorithm\":5}}"),
            "SerializationException", "recipient.keyEncryptionAlgorithm");
    refused(op("Decrypt", "{\"CiphertextBlob\":\"AA==\",\"Recipient\":{"
                          "\"AttestationDocument\":\"@@\"}}"),
            "SerializationException", "recipient.attestationDocument");
    refused(op("Encrypt", "{\"KeyId\":\"k\",\"Plaintext\":\"AA==\",\"Recipient\":{}}"),
            "ValidationException", "Unknown parameter in Encrypt input: \"Recipient\"");
    rd("TrentService.ListKeys", CT, "{}"); /* frees the last read */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exception_table),
        cmocka_unit_test(test_op_tables),
        cmocka_unit_test(test_target),
        cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_body),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_blobs),
        cmocka_unit_test(test_ints_bools),
        cmocka_unit_test(test_contexts_lists),
        cmocka_unit_test(test_recipient),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
