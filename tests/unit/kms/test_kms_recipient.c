/*
 * The Recipient parameter (kms_recipient.c) with documents of the Nitro simulator: a key policy
 * that lets the enclave role decrypt and generate only for one enclave image (its ImageSha384,
 * or PCR0), Decrypt, GenerateDataKey and GenerateRandom for the approved image answering
 * CiphertextForRecipient (no Plaintext) that the enclave's key opens through OpenSSL's own
 * CMS_decrypt, another image refused (AccessDeniedException), and every document that must not
 * be taken refused (stale, from the future, untrusted, altered, without a public key, not a
 * document, a wrong algorithm); the call's log entry and receipt.
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

struct fx {
    struct kh *h;
    struct kh_enclave enclave;
    char key[VT_KMS_UUID_LEN + 1];
    char *good_doc;  /* the approved image, fresh */
    char *other_doc; /* another image */
    char *blob;      /* "hello, enclave" under key */
};

#define RECIPIENT                                                                                  \
    "\"Recipient\":{\"KeyEncryptionAlgorithm\":\"RSAES_OAEP_SHA_256\","                            \
    "\"AttestationDocument\":\"%s\"}"

static char *policy_for(const char *pcr0)
{
    /* as AWS's Nitro Enclaves documentation writes it: the admin role keeps the key, the enclave
     * role decrypts and generates only with an attestation document of one image */
    char *p = malloc(4096);
    snprintf(p, 4096,
             "{\"Version\":\"2012-10-17\",\"Statement\":["
             "{\"Sid\":\"Allow access for Key Administrators\",\"Effect\":\"Allow\",\"Principal\":"
             "{\"AWS\":\"arn:aws:iam::" KH_ACCOUNT ":role/admin\"},\"Action\":\"kms:*\","
             "\"Resource\":\"*\"},"
             "{\"Sid\":\"Enable enclave data processing\",\"Effect\":\"Allow\",\"Principal\":"
             "{\"AWS\":\"arn:aws:iam::" KH_ACCOUNT ":role/enclave\"},\"Action\":[\"kms:Decrypt\","
             "\"kms:GenerateDataKey\",\"kms:GenerateRandom\"],\"Resource\":\"*\",\"Condition\":"
             "{\"StringEqualsIgnoreCase\":{\"kms:RecipientAttestation:ImageSha384\":\"%s\"}}}]}",
             pcr0);
    return p;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->h = kh_start();
    assert_non_null(f->h);
    assert_true(kh_enclave_new(&f->enclave));
    char upper[129];
    snprintf(upper, sizeof(upper), "%s", kh_pcr0(f->h));
    for (char *c = upper; *c; c++) {
        *c = (char)(*c >= 'a' && *c <= 'f' ? *c - 32 : *c); /* IgnoreCase: as people paste it */
    }
    char *policy = policy_for(upper);
    assert_true(kh_create_key(f->h, policy, f->key));
    free(policy);
    f->good_doc = kh_document(f->h, &f->enclave, 5, false);
    f->other_doc = kh_document(f->h, &f->enclave, 5, true);
    assert_non_null(f->good_doc);
    assert_non_null(f->other_doc);
    struct kh_res r = kh_call(f->h, KH_ADMIN, "Encrypt",
                              "{\"KeyId\":\"%s\",\"Plaintext\":\"aGVsbG8sIGVuY2xhdmU=\"}", f->key);
    assert_true(r.ok);
    f->blob = strdup(kh_str(&r, "CiphertextBlob"));
    kh_res_cleanup(&r);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    free(f->good_doc);
    free(f->other_doc);
    free(f->blob);
    kh_enclave_free(&f->enclave);
    kh_stop(f->h);
    free(f);
    return 0;
}

static void refused(struct kh_res r, const char *type, unsigned status, const char *in_message)
{
    bool ok = kh_fails(&r, type, status);
    if (ok && in_message != NULL && strstr(r.e.message, in_message) == NULL) {
        fprintf(stderr, "message \"%s\" does not say \"%s\"\n", r.e.message, in_message);
        ok = false;
    }
    kh_res_cleanup(&r);
    assert_true(ok);
}

/* The plaintext in CiphertextForRecipient, opened by the enclave (heap). */
static uint8_t *opened(struct fx *f, struct kh_res *r, size_t *n)
{
    assert_true(r->ok);
    assert_null(json_object_get(r->out, "Plaintext"));
    const char *cfr = kh_str(r, "CiphertextForRecipient");
    assert_true(strlen(cfr) > 100);
    uint8_t *pt = kh_cms_open(&f->enclave, cfr, n);
    assert_non_null(pt);
    return pt;
}

static void test_decrypt(void **state)
{
    struct fx *f = *state;
    struct kh_res r = kh_call(f->h, KH_ENCLAVE, "Decrypt",
                              "{\"CiphertextBlob\":\"%s\"," RECIPIENT "}", f->blob, f->good_doc);
    size_t n = 0;
    uint8_t *pt = opened(f, &r, &n);
    assert_int_equal(n, 14);
    assert_memory_equal(pt, "hello, enclave", 14);
    free(pt);
    char arn[VT_KMS_ARN_MAX];
    snprintf(arn, sizeof(arn), "arn:aws:kms:" KH_REGION ":" KH_ACCOUNT ":key/%s", f->key);
    assert_string_equal(kh_str(&r, "KeyId"), arn);
    /* the receipt of its log entry, checked with the broker's published log key */
    assert_non_null(r.receipt);
    char *jwks = vt_broker_jwks(f->h->b);
    json_t *set = json_loads(jwks, 0, NULL);
    const char *kid =
        json_string_value(json_object_get(json_array_get(json_object_get(set, "keys"), 0), "kid"));
    uint8_t xy[64];
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_receipt_jwks_key(jwks, strlen(jwks), kid, xy, &d), VT_OK);
    struct vt_receipt_info info;
    assert_int_equal(vt_receipt_verify(r.receipt, strlen(r.receipt), xy, &info, &d), VT_OK);
    assert_int_equal(info.index, r.log_index);
    json_decref(set);
    free(jwks);
    kh_res_cleanup(&r);
}

static void test_generate_data_key_and_random(void **state)
{
    struct fx *f = *state;
    struct kh_res r =
        kh_call(f->h, KH_ENCLAVE, "GenerateDataKey",
                "{\"KeyId\":\"%s\",\"KeySpec\":\"AES_256\"," RECIPIENT "}", f->key, f->good_doc);
    size_t n = 0;
    uint8_t *key = opened(f, &r, &n);
    assert_int_equal(n, 32);
    /* the CiphertextBlob holds the same data key (the administrator decrypts it) */
    struct kh_res d = kh_call(f->h, KH_ADMIN, "Decrypt", "{\"CiphertextBlob\":\"%s\"}",
                              kh_str(&r, "CiphertextBlob"));
    assert_true(d.ok);
    char *b64 = vt_base64_alloc(key, n, false);
    assert_string_equal(kh_str(&d, "Plaintext"), b64);
    free(b64);
    free(key);
    kh_res_cleanup(&d);
    kh_res_cleanup(&r);
    r = kh_call(f->h, KH_ENCLAVE, "GenerateRandom", "{\"NumberOfBytes\":40," RECIPIENT "}",
                f->good_doc);
    uint8_t *rnd = opened(f, &r, &n);
    assert_int_equal(n, 40);
    free(rnd);
    kh_res_cleanup(&r);
    /* GenerateDataKeyWithoutPlaintext takes no Recipient (KMS's model) */
    refused(kh_call(f->h, KH_ENCLAVE, "GenerateDataKeyWithoutPlaintext",
                    "{\"KeyId\":\"%s\",\"KeySpec\":\"AES_256\"," RECIPIENT "}", f->key,
                    f->good_doc),
            "ValidationException", 400, "Unknown parameter");
}

static void test_log_entry(void **state)
{
    struct fx *f = *state;
    struct kh_res r = kh_call(f->h, KH_ENCLAVE, "Decrypt",
                              "{\"CiphertextBlob\":\"%s\"," RECIPIENT "}", f->blob, f->good_doc);
    assert_true(r.ok);
    uint64_t idx = r.log_index;
    kh_res_cleanup(&r);
    char *entries = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_broker_log_entries(f->h->b, idx, 1, true, &entries, &d), VT_OK);
    json_t *l = json_loads(entries, 0, NULL);
    json_t *e =
        json_loads(json_string_value(json_object_get(json_array_get(l, 0), "entry")), 0, NULL);
    if (e == NULL) {
        e = json_incref(json_object_get(json_array_get(l, 0), "entry"));
    }
    json_t *rcp = json_object_get(e, "recipient");
    assert_non_null(rcp);
    uint8_t raw[16384], h[32];
    size_t n = 0;
    assert_int_equal(
        vt_base64_decode(f->good_doc, strlen(f->good_doc), false, raw, sizeof(raw), &n), VT_OK);
    vt_sha256(raw, n, h);
    char hex[65];
    vt_hex_encode(h, 32, hex);
    assert_string_equal(json_string_value(json_object_get(rcp, "attestation_document_sha256")),
                        hex);
    assert_string_equal(json_string_value(json_object_get(rcp, "image_sha384")), kh_pcr0(f->h));
    assert_string_equal(json_string_value(json_object_get(json_object_get(rcp, "pcrs"), "0")),
                        kh_pcr0(f->h));
    assert_string_equal(json_string_value(json_object_get(rcp, "module_id")), f->h->pki->module_id);
    assert_string_equal(json_string_value(json_object_get(e, "decision")), "allow");
    /* the policy's explanation is kept for the administrator */
    assert_non_null(strstr(entries, "kms:Decrypt"));
    json_decref(e);
    json_decref(l);
    free(entries);
}

static void test_other_image_denied(void **state)
{
    struct fx *f = *state;
    refused(kh_call(f->h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"," RECIPIENT "}",
                    f->blob, f->other_doc),
            "AccessDeniedException", 400, "kms:Decrypt");
    refused(kh_call(f->h, KH_ENCLAVE, "GenerateDataKey",
                    "{\"KeyId\":\"%s\",\"NumberOfBytes\":32," RECIPIENT "}", f->key, f->other_doc),
            "AccessDeniedException", 400, NULL);
    /* without a document the condition key is absent: refused too */
    refused(kh_call(f->h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"}", f->blob),
            "AccessDeniedException", 400, NULL);
    refused(kh_call(f->h, KH_ENCLAVE, "GenerateDataKey", "{\"KeyId\":\"%s\",\"NumberOfBytes\":32}",
                    f->key),
            "AccessDeniedException", 400, NULL);
    /* the refusal is logged with the document's image */
    char *entries = NULL;
    int64_t size = 0;
    assert_int_equal(vt_store_exec(f->h->b->store, "SELECT COUNT(*) FROM vb_log", NULL, 0,
                                   vt_store_row_int, &size, NULL, NULL),
                     VT_OK);
    assert_int_equal(vt_broker_log_entries(f->h->b, (uint64_t)size - 3, 1, false, &entries, NULL),
                     VT_OK);
    assert_non_null(strstr(entries, "deny"));
    assert_non_null(strstr(entries, "image_sha384"));
    free(entries);
}

static void test_pcr_condition(void **state)
{
    struct fx *f = *state;
    char policy[2048], id[VT_KMS_UUID_LEN + 1];
    snprintf(policy, sizeof(policy),
             "{\"Version\":\"2012-10-17\",\"Statement\":["
             "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::" KH_ACCOUNT
             ":role/admin\"},\"Action\":\"kms:*\",\"Resource\":\"*\"},"
             "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::" KH_ACCOUNT
             ":role/enclave\"},\"Action\":\"kms:GenerateDataKey\",\"Resource\":\"*\","
             "\"Condition\":{\"StringEquals\":{\"kms:RecipientAttestation:PCR0\":\"%s\","
             "\"kms:RecipientAttestation:PCR8\":\"%096d\"}}}]}",
             kh_pcr0(f->h), 0);
    assert_true(kh_create_key(f->h, policy, id));
    struct kh_res r =
        kh_call(f->h, KH_ENCLAVE, "GenerateDataKey",
                "{\"KeyId\":\"%s\",\"KeySpec\":\"AES_128\"," RECIPIENT "}", id, f->good_doc);
    size_t n = 0;
    free(opened(f, &r, &n));
    assert_int_equal(n, 16);
    kh_res_cleanup(&r);
    refused(kh_call(f->h, KH_ENCLAVE, "GenerateDataKey",
                    "{\"KeyId\":\"%s\",\"KeySpec\":\"AES_128\"," RECIPIENT "}", id, f->other_doc),
            "AccessDeniedException", 400, NULL);
}

static void test_documents_refused(void **state)
{
    struct fx *f = *state;
    char *stale = kh_document(f->h, &f->enclave, 400, false); /* the limit is 300 s */
    refused(kh_call(f->h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"," RECIPIENT "}",
                    f->blob, stale),
            "ValidationException", 400, "document.max_age");
    /* the refusal is logged, the document named by its digest */
    uint8_t raw[16384], h[32];
    size_t n = 0;
    assert_int_equal(vt_base64_decode(stale, strlen(stale), false, raw, sizeof(raw), &n), VT_OK);
    vt_sha256(raw, n, h);
    char hex[65];
    vt_hex_encode(h, 32, hex);
    char *entries = NULL;
    int64_t size = 0;
    assert_int_equal(vt_store_exec(f->h->b->store, "SELECT COUNT(*) FROM vb_log", NULL, 0,
                                   vt_store_row_int, &size, NULL, NULL),
                     VT_OK);
    assert_int_equal(vt_broker_log_entries(f->h->b, (uint64_t)size - 1, 1, false, &entries, NULL),
                     VT_OK);
    assert_non_null(strstr(entries, hex));
    assert_non_null(strstr(entries, "\"verified\":false"));
    assert_null(strstr(entries, "image_sha384"));
    free(entries);
    free(stale);
    char *future = kh_document(f->h, &f->enclave, -(VT_SIGV4_MAX_SKEW + 120), false);
    refused(kh_call(f->h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"," RECIPIENT "}",
                    f->blob, future),
            "ValidationException", 400, "ahead");
    free(future);
    char *keyless = kh_document(f->h, NULL, 5, false);
    refused(kh_call(f->h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"," RECIPIENT "}",
                    f->blob, keyless),
            "ValidationException", 400, "no public_key");
    free(keyless);
    refused(kh_call(f->h, KH_ENCLAVE, "Decrypt",
                    "{\"CiphertextBlob\":\"%s\",\"Recipient\":{\"KeyEncryptionAlgorithm\":"
                    "\"RSAES_OAEP_SHA_1\",\"AttestationDocument\":\"%s\"}}",
                    f->blob, f->good_doc),
            "ValidationException", 400, "RSAES_OAEP_SHA_256");
    refused(kh_call(f->h, KH_ENCLAVE, "Decrypt",
                    "{\"CiphertextBlob\":\"%s\",\"Recipient\":{\"AttestationDocument\":\"%s\"}}",
                    f->blob, f->good_doc),
            "ValidationException", 400, "keyEncryptionAlgorithm");
    refused(kh_call(f->h, KH_ENCLAVE, "Decrypt",
                    "{\"CiphertextBlob\":\"%s\",\"Recipient\":{\"KeyEncryptionAlgorithm\":"
                    "\"RSAES_OAEP_SHA_256\"}}",
                    f->blob),
            "ValidationException", 400, "attestationDocument");
    refused(kh_call(f->h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"," RECIPIENT "}",
                    f->blob, "bm90IGEgZG9jdW1lbnQ="),
            "ValidationException", 400, "not an AWS Nitro Enclaves attestation document");
    /* a document of another PKI (not trusted), and one altered after signing */
    struct vt_nsim_pki_params pp;
    vt_nsim_pki_params_default(&pp, vt_time_now());
    struct vt_nsim_pki *stranger = vt_nsim_pki_new(&pp);
    struct vt_nsim_doc_params p;
    vt_nsim_doc_params_default(&p, stranger);
    p.timestamp_ms = (uint64_t)(vt_time_now() - 5) * 1000u;
    p.public_key = (struct vt_nsim_opt){VT_NSIM_OPT_BYTES, f->enclave.spki, f->enclave.spki_len};
    struct vt_sim_blob doc = {0};
    assert_true(vt_nsim_doc_build(stranger, &p, &doc, NULL));
    char *b64 = vt_base64_alloc(doc.data, doc.len, false);
    refused(kh_call(f->h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"," RECIPIENT "}",
                    f->blob, b64),
            "ValidationException", 400, "does not verify");
    free(b64);
    vt_sim_blob_cleanup(&doc);
    vt_nsim_pki_free(stranger);
    vt_nsim_doc_params_default(&p, f->h->pki);
    p.timestamp_ms = (uint64_t)(vt_time_now() - 5) * 1000u;
    p.public_key = (struct vt_nsim_opt){VT_NSIM_OPT_BYTES, f->enclave.spki, f->enclave.spki_len};
    p.sig_defect = VT_NSIM_SIG_FLIP;
    assert_true(vt_nsim_doc_build(f->h->pki, &p, &doc, NULL));
    b64 = vt_base64_alloc(doc.data, doc.len, false);
    refused(kh_call(f->h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"," RECIPIENT "}",
                    f->blob, b64),
            "ValidationException", 400, "does not verify");
    free(b64);
    vt_sim_blob_cleanup(&doc);
    /* a document whose public key is no RSA key: verified, allowed, but nothing to wrap to */
    struct vt_key *ec = NULL;
    struct vt_buf spki;
    vt_buf_init(&spki, 1024);
    assert_int_equal(vt_key_generate(VT_KEY_P256, 0, &ec, NULL), VT_OK);
    assert_int_equal(vt_key_spki_der(ec, &spki, NULL), VT_OK);
    vt_nsim_doc_params_default(&p, f->h->pki);
    p.timestamp_ms = (uint64_t)(vt_time_now() - 5) * 1000u;
    p.public_key = (struct vt_nsim_opt){VT_NSIM_OPT_BYTES, spki.data, spki.len};
    assert_true(vt_nsim_doc_build(f->h->pki, &p, &doc, NULL));
    b64 = vt_base64_alloc(doc.data, doc.len, false);
    refused(kh_call(f->h, KH_ENCLAVE, "Decrypt", "{\"CiphertextBlob\":\"%s\"," RECIPIENT "}",
                    f->blob, b64),
            "ValidationException", 400, "RSA key");
    free(b64);
    vt_sim_blob_cleanup(&doc);
    vt_buf_cleanup(&spki);
    vt_key_free(ec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_decrypt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generate_data_key_and_random, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_image_denied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcr_condition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_documents_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
