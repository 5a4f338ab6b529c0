/*
 * The KMS service over real HTTP on 127.0.0.1 (kms_api.c), every request signed with
 * vt_sigv4_sign as an AWS SDK signs it: the JSON 1.1 protocol's answers (status, Content-Type,
 * x-amzn-RequestId, {"__type","message"} errors), operations end to end, the signature's refusals
 * (none, an unknown or disabled access key, a wrong secret, region or time, a body changed after
 * signing), paths and methods, and a Recipient call's receipt in the x-veritee-receipt header.
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
#include "net/http_client.h"

struct call {
    long status;
    json_t *body;
    char content_type[96];
    char request_id[64];
    char receipt[8192];
    char allow[32];
};

struct sign_opts {
    const char *akid, *secret, *region;
    vt_time at;
    const char *tamper; /* a body sent in place of the signed one */
    bool unsigned_;
};

static void header_copy(const struct vt_http_response *r, const char *name, char *out, size_t cap)
{
    const char *v = vt_http_response_header(r, name);
    snprintf(out, cap, "%s", v ? v : "");
}

static struct call http(struct kh *h, const char *method, const char *path, const char *op,
                        const char *body, const struct sign_opts *so)
{
    struct call c;
    memset(&c, 0, sizeof(c));
    char host[64], target[96], url[128];
    snprintf(host, sizeof(host), "%s", h->url + strlen("http://"));
    snprintf(target, sizeof(target), "TrentService.%s", op);
    snprintf(url, sizeof(url), "%s%s", h->url, path);
    struct vt_sigv4_header sh[] = {
        {"Host", host}, {"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", target}};
    struct vt_sigv4_request req = {.method = method,
                                   .path = path,
                                   .query = "",
                                   .headers = sh,
                                   .n_headers = 3,
                                   .body = (const uint8_t *)body,
                                   .body_len = strlen(body)};
    char auth[1024] = "", date[17] = "";
    struct vt_diag d;
    vt_diag_init(&d);
    if (!so->unsigned_) {
        assert_int_equal(vt_sigv4_sign(&req, so->akid, so->secret, so->region, "kms", so->at, auth,
                                       sizeof(auth), date, &d),
                         VT_OK);
    }
    char h_host[96], h_ct[96], h_target[128], h_date[64], h_auth[1100];
    snprintf(h_host, sizeof(h_host), "Host: %s", host);
    snprintf(h_ct, sizeof(h_ct), "Content-Type: application/x-amz-json-1.1");
    snprintf(h_target, sizeof(h_target), "X-Amz-Target: %s", target);
    snprintf(h_date, sizeof(h_date), "X-Amz-Date: %s", date);
    snprintf(h_auth, sizeof(h_auth), "Authorization: %s", auth);
    const char *hdrs[] = {h_host, h_ct, h_target, so->unsigned_ ? NULL : h_date, h_auth, NULL};
    const char *sent = so->tamper ? so->tamper : body;
    struct vt_http_request_opts o = {.timeout_ms = 30000,
                                     .method = method,
                                     .body = (const uint8_t *)sent,
                                     .body_len = strlen(sent),
                                     .headers = hdrs};
    struct vt_http_response r;
    assert_int_equal(vt_http_request(url, &o, &r, &d), VT_OK);
    c.status = r.status;
    c.body = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
    header_copy(&r, "Content-Type", c.content_type, sizeof(c.content_type));
    header_copy(&r, "x-amzn-RequestId", c.request_id, sizeof(c.request_id));
    header_copy(&r, "x-veritee-receipt", c.receipt, sizeof(c.receipt));
    header_copy(&r, "Allow", c.allow, sizeof(c.allow));
    vt_http_response_cleanup(&r);
    return c;
}

static struct sign_opts as(struct kh *h, enum kh_who who)
{
    return (struct sign_opts){
        h->callers[who].access_key_id, h->secrets[who], KH_REGION, vt_time_now(), NULL, false};
}

static struct call kms(struct kh *h, enum kh_who who, const char *op, const char *body)
{
    struct sign_opts so = as(h, who);
    return http(h, "POST", "/", op, body, &so);
}

static const char *str(const struct call *c, const char *name)
{
    const char *s = json_string_value(json_object_get(c->body, name));
    return s ? s : "";
}

static void error_is(struct call c, long status, const char *type, const char *in_message)
{
    if (c.status != status || strcmp(str(&c, "__type"), type) != 0) {
        fail_msg("expected %ld %s, got %ld %s: %s", status, type, c.status, str(&c, "__type"),
                 str(&c, "message"));
    }
    assert_string_equal(c.content_type, "application/x-amz-json-1.1");
    assert_true(json_is_string(json_object_get(c.body, "message")));
    if (in_message != NULL && strstr(str(&c, "message"), in_message) == NULL) {
        fail_msg("\"%s\" does not say \"%s\"", str(&c, "message"), in_message);
    }
    json_decref(c.body);
}

static int setup(void **state)
{
    struct kh *h = kh_start();
    assert_non_null(h);
    assert_true(kh_serve(h));
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    kh_stop(*state);
    return 0;
}

static void test_round_trip(void **state)
{
    struct kh *h = *state;
    struct call c = kms(h, KH_ADMIN, "CreateKey", "{\"Description\":\"over http\"}");
    assert_int_equal(c.status, 200);
    assert_string_equal(c.content_type, "application/x-amz-json-1.1");
    uint8_t raw[16];
    assert_true(vt_kms_uuid_parse(c.request_id, raw));
    char id[VT_KMS_UUID_LEN + 1];
    snprintf(id, sizeof(id), "%s",
             json_string_value(json_object_get(json_object_get(c.body, "KeyMetadata"), "KeyId")));
    json_decref(c.body);
    char body[600];
    snprintf(body, sizeof(body),
             "{\"KeyId\":\"%s\",\"Plaintext\":\"c2VjcmV0\",\"EncryptionContext\":{\"a\":\"b\"}}",
             id);
    c = kms(h, KH_ENCLAVE, "Encrypt", body);
    assert_int_equal(c.status, 200);
    char blob[400];
    snprintf(blob, sizeof(blob), "%s", str(&c, "CiphertextBlob"));
    json_decref(c.body);
    snprintf(body, sizeof(body), "{\"CiphertextBlob\":\"%s\",\"EncryptionContext\":{\"a\":\"b\"}}",
             blob);
    c = kms(h, KH_ENCLAVE, "Decrypt", body);
    assert_int_equal(c.status, 200);
    assert_string_equal(str(&c, "Plaintext"), "c2VjcmV0");
    json_decref(c.body);
    /* two requests, two request ids */
    struct call a = kms(h, KH_ADMIN, "ListKeys", "{}");
    struct call b = kms(h, KH_ADMIN, "ListKeys", "");
    assert_int_equal(a.status, 200);
    assert_int_equal(b.status, 200);
    assert_string_not_equal(a.request_id, b.request_id);
    json_decref(a.body);
    json_decref(b.body);
}

static void test_errors(void **state)
{
    struct kh *h = *state;
    struct call c = kms(h, KH_ADMIN, "DescribeKey", "{\"KeyId\":\"alias/none\"}");
    assert_true(strlen(c.request_id) == VT_KMS_UUID_LEN);
    error_is(c, 404, "NotFoundException", "alias/none");
    error_is(kms(h, KH_ENCLAVE, "CreateKey", "{}"), 400, "AccessDeniedException", "--admin");
    error_is(kms(h, KH_ADMIN, "Nope", "{}"), 400, "UnknownOperationException", NULL);
    error_is(kms(h, KH_ADMIN, "GetPublicKey", "{}"), 400, "UnsupportedOperationException", NULL);
    error_is(kms(h, KH_ADMIN, "ListKeys", "{not json"), 400, "SerializationException", NULL);
    error_is(kms(h, KH_ADMIN, "ListKeys", "{\"Limit\":5000}"), 400, "ValidationException", "limit");
    char id[VT_KMS_UUID_LEN + 1];
    assert_true(kh_create_key(h, NULL, id));
    char body[300];
    snprintf(body, sizeof(body), "{\"KeyId\":\"%s\"}", id);
    struct call d = kms(h, KH_ADMIN, "DisableKey", body);
    assert_int_equal(d.status, 200);
    json_decref(d.body);
    snprintf(body, sizeof(body), "{\"KeyId\":\"%s\",\"Plaintext\":\"AA==\"}", id);
    error_is(kms(h, KH_ENCLAVE, "Encrypt", body), 409, "DisabledException", "is disabled");
}

static void test_signature_refused(void **state)
{
    struct kh *h = *state;
    struct sign_opts so = as(h, KH_ADMIN);
    so.unsigned_ = true;
    error_is(http(h, "POST", "/", "ListKeys", "{}", &so), 400,
             "MissingAuthenticationTokenException", NULL);
    so = as(h, KH_ADMIN);
    so.akid = "AKIANOSUCHKEY0000000";
    error_is(http(h, "POST", "/", "ListKeys", "{}", &so), 400, "UnrecognizedClientException", NULL);
    so = as(h, KH_ADMIN);
    so.secret = h->secrets[KH_ENCLAVE];
    error_is(http(h, "POST", "/", "ListKeys", "{}", &so), 400, "InvalidSignatureException", NULL);
    so = as(h, KH_ADMIN);
    so.region = "eu-west-1";
    error_is(http(h, "POST", "/", "ListKeys", "{}", &so), 400, "InvalidSignatureException", NULL);
    so = as(h, KH_ADMIN);
    so.at = vt_time_now() - 3600;
    error_is(http(h, "POST", "/", "ListKeys", "{}", &so), 400, "InvalidSignatureException",
             "expired");
    so = as(h, KH_ADMIN);
    so.tamper = "{\"Limit\":1}";
    error_is(http(h, "POST", "/", "ListKeys", "{\"Limit\":2}", &so), 400,
             "InvalidSignatureException", NULL);
    /* a disabled access key is no longer recognised */
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_kms_access_key_disable(h->k, h->callers[KH_OTHER].access_key_id, &d),
                     VT_OK);
    error_is(kms(h, KH_OTHER, "GenerateRandom", "{\"NumberOfBytes\":8}"), 400,
             "UnrecognizedClientException", NULL);
    /* refusals before a caller is known leave no log entry */
    int64_t before = -1, after = -1;
    assert_int_equal(vt_store_exec(h->b->store, "SELECT COUNT(*) FROM vb_log", NULL, 0,
                                   vt_store_row_int, &before, NULL, NULL),
                     VT_OK);
    so = as(h, KH_ADMIN);
    so.unsigned_ = true;
    error_is(http(h, "POST", "/", "ListKeys", "{}", &so), 400,
             "MissingAuthenticationTokenException", NULL);
    assert_int_equal(vt_store_exec(h->b->store, "SELECT COUNT(*) FROM vb_log", NULL, 0,
                                   vt_store_row_int, &after, NULL, NULL),
                     VT_OK);
    assert_int_equal(before, after);
}

static void test_paths(void **state)
{
    struct kh *h = *state;
    struct vt_http_request_opts o = {.timeout_ms = 10000};
    struct vt_http_response r;
    char url[128];
    snprintf(url, sizeof(url), "%s/healthz", h->url);
    assert_int_equal(vt_http_request(url, &o, &r, NULL), VT_OK);
    assert_int_equal(r.status, 200);
    vt_http_response_cleanup(&r);
    struct sign_opts so = as(h, KH_ADMIN);
    struct call c = http(h, "GET", "/", "ListKeys", "", &so);
    assert_string_equal(c.allow, "POST");
    error_is(c, 405, "UnknownOperationException", NULL);
    error_is(http(h, "POST", "/other", "ListKeys", "{}", &so), 404, "UnknownOperationException",
             "/other");
}

static void test_recipient_receipt(void **state)
{
    struct kh *h = *state;
    struct kh_enclave e;
    assert_true(kh_enclave_new(&e));
    char *doc = kh_document(h, &e, 5, false);
    size_t n = strlen(doc) + 128;
    char *body = malloc(n);
    snprintf(body, n,
             "{\"NumberOfBytes\":32,\"Recipient\":{\"KeyEncryptionAlgorithm\":"
             "\"RSAES_OAEP_SHA_256\",\"AttestationDocument\":\"%s\"}}",
             doc);
    struct call c = kms(h, KH_ENCLAVE, "GenerateRandom", body);
    assert_int_equal(c.status, 200);
    assert_null(json_object_get(c.body, "Plaintext"));
    size_t len = 0;
    uint8_t *pt = kh_cms_open(&e, str(&c, "CiphertextForRecipient"), &len);
    assert_non_null(pt);
    assert_int_equal(len, 32);
    free(pt);
    /* the receipt: base64 of the receipt JSON */
    assert_true(strlen(c.receipt) > 100);
    uint8_t raw[8192];
    size_t rn = 0;
    assert_int_equal(vt_base64_decode(c.receipt, strlen(c.receipt), false, raw, sizeof(raw), &rn),
                     VT_OK);
    json_t *rc = json_loadb((const char *)raw, rn, 0, NULL);
    assert_non_null(rc);
    assert_non_null(json_object_get(rc, "checkpoint"));
    json_decref(rc);
    json_decref(c.body);
    /* a call without Recipient has no receipt */
    c = kms(h, KH_ENCLAVE, "GenerateRandom", "{\"NumberOfBytes\":8}");
    assert_string_equal(c.receipt, "");
    json_decref(c.body);
    free(body);
    free(doc);
    kh_enclave_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signature_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recipient_receipt, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
