/*
 * Fuzz the KMS service's JSON 1.1 request reader (vt_kms_request_read) and what reads the values
 * it lets through: KeyIds in every form (vt_kms_ref_parse), alias names, ciphertext blobs
 * (vt_kms_blob_parse) and encryption contexts (vt_kms_context_canonical). Input: the X-Amz-Target
 * value up to the first newline, then the body; a first byte '!' before the target sends the
 * Content-Type "application/json" instead of the JSON 1.1 one.
 *
 * Invariants: a refusal names an exception ("...Exception") with a 4xx status and a message, and
 * leaves no JSON and no member behind; an accepted request is an object whose members are the
 * operation's (every required one present, none it does not take), each within its bounds
 * (blob lengths, integer ranges, context pairs sorted and unique), and cleaning it up frees
 * everything (LeakSanitizer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kms/kms.h"

static void require(int cond)
{
    if (!cond) {
        abort();
    }
}

static void check_context(const struct vt_kms_context *c)
{
    require(c->n <= VT_KMS_CONTEXT_PAIRS);
    for (size_t i = 1; i < c->n; i++) {
        require(strcmp(c->pairs[i - 1].key, c->pairs[i].key) < 0);
    }
    struct vt_buf out;
    vt_buf_init(&out, 64u << 10);
    require(vt_kms_context_canonical(c, &out, NULL) == VT_OK);
    require(out.len >= 4 + 8 * c->n);
    vt_buf_cleanup(&out);
}

static void check_accepted(const struct vt_kms_input *in, const json_t *json)
{
    require(json_is_object(json));
    require((unsigned)in->op < VT_KMS_OP_COUNT);
    uint64_t required = 0, allowed = vt_kms_op_fields(in->op, &required);
    require((in->present & ~allowed) == 0);
    require((required & ~in->present) == 0);
    if (VT_KMS_HAS(in, PLAINTEXT)) {
        size_t n = in->blob_len[VT_KMS_F_PLAINTEXT];
        require(n >= 1 && n <= VT_KMS_PLAINTEXT_MAX && in->blob[VT_KMS_F_PLAINTEXT] != NULL);
    }
    if (VT_KMS_HAS(in, CIPHERTEXT_BLOB)) {
        size_t n = in->blob_len[VT_KMS_F_CIPHERTEXT_BLOB];
        require(n >= 1 && n <= VT_KMS_CIPHERTEXT_MAX);
        struct vt_kms_blob b;
        if (vt_kms_blob_parse(in->blob[VT_KMS_F_CIPHERTEXT_BLOB], n, &b, NULL) == VT_OK) {
            require(b.version >= 1 && b.ct_len >= 1 && b.ct_len + VT_KMS_BLOB_OVERHEAD == n);
        }
    }
    if (VT_KMS_HAS(in, NUMBER_OF_BYTES)) {
        require(in->i[VT_KMS_F_NUMBER_OF_BYTES] >= 1 &&
                in->i[VT_KMS_F_NUMBER_OF_BYTES] <= VT_KMS_RANDOM_MAX);
    }
    if (VT_KMS_HAS(in, LIMIT)) {
        require(in->i[VT_KMS_F_LIMIT] >= 1 && in->i[VT_KMS_F_LIMIT] <= 1000);
    }
    static const enum vt_kms_field keys[] = {VT_KMS_F_KEY_ID, VT_KMS_F_SOURCE_KEY_ID,
                                             VT_KMS_F_DESTINATION_KEY_ID, VT_KMS_F_TARGET_KEY_ID};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if ((in->present >> keys[i]) & 1u) {
            struct vt_kms_ref r;
            struct vt_kms_error e;
            require(in->s[keys[i]] != NULL && strlen(in->s[keys[i]]) >= 1);
            if (vt_kms_ref_parse(in->s[keys[i]], true, &r, &e)) {
                require(r.kind == VT_KMS_REF_ALIAS || r.kind == VT_KMS_REF_ALIAS_ARN ||
                        strlen(r.key_id) == VT_KMS_UUID_LEN);
            } else {
                require(strcmp(e.type, "NotFoundException") == 0 && e.status == 404);
            }
        }
    }
    if (VT_KMS_HAS(in, ALIAS_NAME)) {
        struct vt_kms_error e;
        if (!vt_kms_alias_check(in->s[VT_KMS_F_ALIAS_NAME], &e)) {
            require(strcmp(e.type, "InvalidAliasNameException") == 0);
        }
    }
    for (int f = VT_KMS_F_ENCRYPTION_CONTEXT; f <= VT_KMS_F_DESTINATION_ENCRYPTION_CONTEXT; f++) {
        check_context(vt_kms_input_context(in, (enum vt_kms_field)f));
    }
    if (VT_KMS_HAS(in, RECIPIENT)) {
        require(in->attestation == NULL || in->attestation_len <= VT_KMS_ATTESTATION_MAX);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *ct = "application/x-amz-json-1.1";
    if (size > 0 && data[0] == '!') {
        ct = "application/json";
        data++;
        size--;
    }
    const uint8_t *nl = memchr(data, '\n', size);
    size_t tn = nl ? (size_t)(nl - data) : size;
    char *target = malloc(tn + 1);
    require(target != NULL);
    memcpy(target, data, tn);
    target[tn] = '\0';
    const uint8_t *body = nl ? nl + 1 : data + size;
    size_t bn = nl ? size - tn - 1 : 0;
    struct vt_kms_input *in = malloc(sizeof(*in));
    require(in != NULL);
    json_t *json = NULL;
    struct vt_kms_error e;
    memset(&e, 0, sizeof(e));
    if (vt_kms_request_read(strlen(target) == tn ? target : "", ct, body, bn, &json, in, &e)) {
        check_accepted(in, json);
    } else {
        size_t n = strlen(e.type);
        require(n > 9 && strcmp(e.type + n - 9, "Exception") == 0);
        require(e.status >= 400 && e.status < 500);
        require(e.message[0] != '\0');
        require(json == NULL);
        for (int f = 0; f < VT_KMS_F_COUNT; f++) {
            require(in->blob[f] == NULL);
        }
        require(in->attestation == NULL);
    }
    vt_kms_input_cleanup(in);
    json_decref(json);
    free(in);
    free(target);
    return 0;
}
