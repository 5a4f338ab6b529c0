/*
 * The AWS JSON 1.1 request reader of the KMS service (kms.h): the operation from X-Amz-Target,
 * the Content-Type, and the body's members checked against the operation's members with KMS's
 * constraints. Untrusted input: every request goes through here before anything else reads it,
 * and fuzz/fuzz_kms_request.c runs it on arbitrary targets and bodies.
 *
 * Wording follows KMS: a constraint violation is a ValidationException "1 validation error
 * detected: Value ... at 'keyId' failed to satisfy constraint: Member must ...", a body that is not
 * JSON or a member of the wrong JSON type a SerializationException. Members this service does not
 * know are refused by name (ValidationException) rather than ignored: a parameter that changes
 * what a call means is never silently dropped (docs/kms.md lists them). Values are never echoed,
 * except numbers: a member may be a plaintext or a document.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "kms/kms.h"
#include "net/json_fields.h"

/* ---- exceptions ---- */

static const struct {
    const char *type;
    unsigned status;
} exceptions[] = {
#define VT_KMS_EXC_ROW_(name, type, status) {type, status},
    VT_KMS_EXCEPTIONS(VT_KMS_EXC_ROW_)
#undef VT_KMS_EXC_ROW_
};

const char *vt_kms_exc_type(enum vt_kms_exc e)
{
    return (unsigned)e < VT_KMS_EXC_COUNT ? exceptions[e].type : "KMSInternalException";
}

unsigned vt_kms_exc_status(enum vt_kms_exc e)
{
    return (unsigned)e < VT_KMS_EXC_COUNT ? exceptions[e].status : 500;
}

bool vt_kms_fail(struct vt_kms_error *e, enum vt_kms_exc x, const char *fmt, ...)
{
    if (e == NULL) {
        return false;
    }
    snprintf(e->type, sizeof(e->type), "%s", vt_kms_exc_type(x));
    e->status = vt_kms_exc_status(x);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return false;
}

/* ---- operations ---- */

static const char *const op_names[] = {
#define VT_KMS_OP_NAME_(id, name) name,
    VT_KMS_OPS(VT_KMS_OP_NAME_)
#undef VT_KMS_OP_NAME_
};

const char *vt_kms_op_name(enum vt_kms_op op)
{
    return (unsigned)op < VT_KMS_OP_COUNT ? op_names[op] : "Unknown";
}

/* AWS KMS operations this service does not implement (UnsupportedOperationException names them;
 * any other target is an UnknownOperationException, as KMS answers). */
static const char *const unimplemented[] = {
    "ConnectCustomKeyStore",
    "CreateCustomKeyStore",
    "CreateGrant",
    "DeleteCustomKeyStore",
    "DeleteImportedKeyMaterial",
    "DeriveSharedSecret",
    "DescribeCustomKeyStores",
    "DisconnectCustomKeyStore",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "GetParametersForImport",
    "GetPublicKey",
    "ImportKeyMaterial",
    "ListGrants",
    "ListKeyRotations",
    "ListResourceTags",
    "ListRetirableGrants",
    "ReplicateKey",
    "RetireGrant",
    "RevokeGrant",
    "Sign",
    "TagResource",
    "UntagResource",
    "UpdateCustomKeyStore",
    "UpdatePrimaryRegion",
    "Verify",
    "VerifyMac",
};

/* ---- members ---- */

struct field_spec {
    const char *json, *camel;
    enum vt_kms_kind kind;
    int64_t min, max;
};

static const struct field_spec fields[] = {
#define VT_KMS_FIELD_ROW_(id, json, camel, kind, min, max) {json, camel, VT_KMS_K_##kind, min, max},
    VT_KMS_FIELDS(VT_KMS_FIELD_ROW_)
#undef VT_KMS_FIELD_ROW_
};

const char *vt_kms_field_name(enum vt_kms_field f)
{
    return (unsigned)f < VT_KMS_F_COUNT ? fields[f].json : "";
}

#define F(x) (UINT64_C(1) << VT_KMS_F_##x)

/* What each operation takes (AWS KMS API reference, one request syntax per operation), and which
 * members it requires. */
static const struct {
    uint64_t allowed, required;
} op_fields[VT_KMS_OP_COUNT] = {
    [VT_KMS_OP_CREATE_KEY] = {F(POLICY) | F(DESCRIPTION) | F(KEY_USAGE) |
                                  F(CUSTOMER_MASTER_KEY_SPEC) | F(KEY_SPEC) | F(ORIGIN) |
                                  F(CUSTOM_KEY_STORE_ID) | F(BYPASS_POLICY_LOCKOUT_SAFETY_CHECK) |
                                  F(TAGS) | F(MULTI_REGION) | F(XKS_KEY_ID),
                              0},
    [VT_KMS_OP_DESCRIBE_KEY] = {F(KEY_ID) | F(GRANT_TOKENS), F(KEY_ID)},
    [VT_KMS_OP_LIST_KEYS] = {F(LIMIT) | F(MARKER), 0},
    [VT_KMS_OP_UPDATE_KEY_DESCRIPTION] = {F(KEY_ID) | F(DESCRIPTION), F(KEY_ID) | F(DESCRIPTION)},
    [VT_KMS_OP_CREATE_ALIAS] = {F(ALIAS_NAME) | F(TARGET_KEY_ID), F(ALIAS_NAME) | F(TARGET_KEY_ID)},
    [VT_KMS_OP_LIST_ALIASES] = {F(KEY_ID) | F(LIMIT) | F(MARKER), 0},
    [VT_KMS_OP_DELETE_ALIAS] = {F(ALIAS_NAME), F(ALIAS_NAME)},
    [VT_KMS_OP_UPDATE_ALIAS] = {F(ALIAS_NAME) | F(TARGET_KEY_ID), F(ALIAS_NAME) | F(TARGET_KEY_ID)},
    [VT_KMS_OP_ENABLE_KEY] = {F(KEY_ID), F(KEY_ID)},
    [VT_KMS_OP_DISABLE_KEY] = {F(KEY_ID), F(KEY_ID)},
    [VT_KMS_OP_SCHEDULE_KEY_DELETION] = {F(KEY_ID) | F(PENDING_WINDOW_IN_DAYS), F(KEY_ID)},
    [VT_KMS_OP_CANCEL_KEY_DELETION] = {F(KEY_ID), F(KEY_ID)},
    [VT_KMS_OP_GET_KEY_POLICY] = {F(KEY_ID) | F(POLICY_NAME), F(KEY_ID)},
    [VT_KMS_OP_PUT_KEY_POLICY] = {F(KEY_ID) | F(POLICY_NAME) | F(POLICY) |
                                      F(BYPASS_POLICY_LOCKOUT_SAFETY_CHECK),
                                  F(KEY_ID) | F(POLICY)},
    [VT_KMS_OP_LIST_KEY_POLICIES] = {F(KEY_ID) | F(LIMIT) | F(MARKER), F(KEY_ID)},
    [VT_KMS_OP_ENCRYPT] = {F(KEY_ID) | F(PLAINTEXT) | F(ENCRYPTION_CONTEXT) | F(GRANT_TOKENS) |
                               F(ENCRYPTION_ALGORITHM) | F(DRY_RUN),
                           F(KEY_ID) | F(PLAINTEXT)},
    [VT_KMS_OP_DECRYPT] = {F(CIPHERTEXT_BLOB) | F(ENCRYPTION_CONTEXT) | F(GRANT_TOKENS) |
                               F(KEY_ID) | F(ENCRYPTION_ALGORITHM) | F(RECIPIENT) | F(DRY_RUN) |
                               F(DRY_RUN_MODIFIERS),
                           F(CIPHERTEXT_BLOB)},
    [VT_KMS_OP_RE_ENCRYPT] = {F(CIPHERTEXT_BLOB) | F(SOURCE_ENCRYPTION_CONTEXT) | F(SOURCE_KEY_ID) |
                                  F(DESTINATION_KEY_ID) | F(DESTINATION_ENCRYPTION_CONTEXT) |
                                  F(SOURCE_ENCRYPTION_ALGORITHM) |
                                  F(DESTINATION_ENCRYPTION_ALGORITHM) | F(GRANT_TOKENS) |
                                  F(DRY_RUN) | F(DRY_RUN_MODIFIERS),
                              F(CIPHERTEXT_BLOB) | F(DESTINATION_KEY_ID)},
    [VT_KMS_OP_GENERATE_DATA_KEY] = {F(KEY_ID) | F(ENCRYPTION_CONTEXT) | F(NUMBER_OF_BYTES) |
                                         F(KEY_SPEC) | F(GRANT_TOKENS) | F(RECIPIENT) | F(DRY_RUN),
                                     F(KEY_ID)},
    [VT_KMS_OP_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT] = {F(KEY_ID) | F(ENCRYPTION_CONTEXT) |
                                                           F(KEY_SPEC) | F(NUMBER_OF_BYTES) |
                                                           F(GRANT_TOKENS) | F(DRY_RUN),
                                                       F(KEY_ID)},
    [VT_KMS_OP_GENERATE_RANDOM] = {F(NUMBER_OF_BYTES) | F(CUSTOM_KEY_STORE_ID) | F(RECIPIENT), 0},
    [VT_KMS_OP_ENABLE_KEY_ROTATION] = {F(KEY_ID) | F(ROTATION_PERIOD_IN_DAYS), F(KEY_ID)},
    [VT_KMS_OP_DISABLE_KEY_ROTATION] = {F(KEY_ID), F(KEY_ID)},
    [VT_KMS_OP_GET_KEY_ROTATION_STATUS] = {F(KEY_ID), F(KEY_ID)},
    [VT_KMS_OP_ROTATE_KEY_ON_DEMAND] = {F(KEY_ID), F(KEY_ID)},
};

uint64_t vt_kms_op_fields(enum vt_kms_op op, uint64_t *required)
{
    if ((unsigned)op >= VT_KMS_OP_COUNT) {
        *required = 0;
        return 0;
    }
    *required = op_fields[op].required;
    return op_fields[op].allowed;
}

static int context_slot(enum vt_kms_field f)
{
    return f == VT_KMS_F_ENCRYPTION_CONTEXT               ? 0
           : f == VT_KMS_F_SOURCE_ENCRYPTION_CONTEXT      ? 1
           : f == VT_KMS_F_DESTINATION_ENCRYPTION_CONTEXT ? 2
                                                          : -1;
}

const struct vt_kms_context *vt_kms_input_context(const struct vt_kms_input *in,
                                                  enum vt_kms_field f)
{
    int slot = context_slot(f);
    return slot >= 0 ? &in->ctx[slot] : NULL;
}

/* ---- the reader ---- */

static bool serialization(struct vt_kms_error *e, const char *camel, const char *want,
                          const json_t *v)
{
    return vt_kms_fail(e, VT_KMS_EXC_SERIALIZATION,
                       "Value of '%s' cannot be read: expected %s, got %s", camel, want,
                       vt_json_type_name(v));
}

static bool constraint(struct vt_kms_error *e, const char *camel, const char *what)
{
    return vt_kms_fail(e, VT_KMS_EXC_VALIDATION,
                       "1 validation error detected: Value at '%s' failed to satisfy constraint: "
                       "Member must %s",
                       camel, what);
}

/* Characters (code points) of a UTF-8 string jansson has validated. */
static size_t utf8_chars(const char *s, size_t bytes)
{
    size_t n = 0;
    for (size_t i = 0; i < bytes; i++) {
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    }
    return n;
}

static bool read_string(const struct field_spec *fs, json_t *v, const char **out,
                        struct vt_kms_error *e)
{
    if (!json_is_string(v)) {
        return serialization(e, fs->camel, "a string", v);
    }
    size_t bytes = json_string_length(v);
    const char *s = json_string_value(v);
    if (strlen(s) != bytes) {
        return constraint(e, fs->camel, "not contain a NUL character");
    }
    size_t n = utf8_chars(s, bytes);
    char what[96];
    if ((int64_t)n < fs->min) {
        snprintf(what, sizeof(what), "have length greater than or equal to %lld",
                 (long long)fs->min);
        return constraint(e, fs->camel, what);
    }
    if ((int64_t)n > fs->max) {
        snprintf(what, sizeof(what), "have length less than or equal to %lld", (long long)fs->max);
        return constraint(e, fs->camel, what);
    }
    *out = s;
    return true;
}

static bool read_blob(const struct field_spec *fs, json_t *v, size_t cap, uint8_t **out,
                      size_t *len, struct vt_kms_error *e)
{
    if (!json_is_string(v)) {
        return serialization(e, fs->camel, "a base64 string", v);
    }
    const char *s = json_string_value(v);
    size_t sl = json_string_length(v);
    /* a base64 text longer than the largest value it may hold is refused before decoding */
    if (sl > 4 * ((cap + 2) / 3) + 4) {
        char what[96];
        snprintf(what, sizeof(what), "have length less than or equal to %zu", cap);
        return constraint(e, fs->camel, what);
    }
    uint8_t *buf = malloc(sl + 1);
    size_t n = 0;
    if (buf == NULL) {
        return vt_kms_fail(e, VT_KMS_EXC_INTERNAL, "out of memory");
    }
    bool url = strpbrk(s, "-_") != NULL;
    if (strlen(s) != sl || vt_base64_decode(s, sl, url, buf, sl + 1, &n) != VT_OK) {
        free(buf);
        return vt_kms_fail(e, VT_KMS_EXC_SERIALIZATION,
                           "Value of '%s' cannot be read: it is not base64", fs->camel);
    }
    char what[96];
    if ((int64_t)n < fs->min || n > cap) {
        vt_wipe(buf, n);
        free(buf);
        if ((int64_t)n < fs->min) {
            snprintf(what, sizeof(what), "have length greater than or equal to %lld",
                     (long long)fs->min);
        } else {
            snprintf(what, sizeof(what), "have length less than or equal to %zu", cap);
        }
        return constraint(e, fs->camel, what);
    }
    *out = buf;
    *len = n;
    return true;
}

static bool read_int(const struct field_spec *fs, json_t *v, int64_t *out, struct vt_kms_error *e)
{
    if (!json_is_integer(v)) {
        return serialization(e, fs->camel, "an integer", v);
    }
    json_int_t x = json_integer_value(v);
    if (x < fs->min || x > fs->max) {
        return vt_kms_fail(e, VT_KMS_EXC_VALIDATION,
                           "1 validation error detected: Value '%lld' at '%s' failed to satisfy "
                           "constraint: Member must have value %s than or equal to %lld",
                           (long long)x, fs->camel, x < fs->min ? "greater" : "less",
                           (long long)(x < fs->min ? fs->min : fs->max));
    }
    *out = (int64_t)x;
    return true;
}

static bool read_context(const struct field_spec *fs, json_t *v, struct vt_kms_context *c,
                         struct vt_kms_error *e)
{
    if (!json_is_object(v)) {
        return serialization(e, fs->camel, "an object of strings", v);
    }
    memset(c, 0, sizeof(*c));
    size_t bytes = 0;
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val)
    {
        if (!json_is_string(val)) {
            return vt_kms_fail(e, VT_KMS_EXC_SERIALIZATION,
                               "Value of '%s' cannot be read: the value of a key is %s, not a "
                               "string",
                               fs->camel, vt_json_type_name(val));
        }
        const char *s = json_string_value(val);
        if (key[0] == '\0') {
            return constraint(e, fs->camel, "not have an empty key");
        }
        if (strlen(s) != json_string_length(val)) {
            return constraint(e, fs->camel, "not contain a NUL character");
        }
        bytes += strlen(key) + strlen(s);
        if (bytes > VT_KMS_CONTEXT_MAX) {
            return constraint(e, fs->camel, "have keys and values of at most 8192 bytes in all");
        }
        struct vt_diag d;
        vt_diag_init(&d);
        if (vt_kms_context_add(c, key, s, &d) != VT_OK) {
            return constraint(e, fs->camel,
                              d.code == VT_E_DUPLICATE ? "have unique keys"
                                                       : "have at most 64 pairs");
        }
    }
    return true;
}

static bool read_strings(const struct field_spec *fs, json_t *v, size_t *n, struct vt_kms_error *e)
{
    if (!json_is_array(v)) {
        return serialization(e, fs->camel, "a list of strings", v);
    }
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        if (!json_is_string(x)) {
            return serialization(e, fs->camel, "a list of strings", x);
        }
    }
    if ((int64_t)json_array_size(v) > fs->max) {
        char what[96];
        snprintf(what, sizeof(what), "have length less than or equal to %lld", (long long)fs->max);
        return constraint(e, fs->camel, what);
    }
    *n = json_array_size(v);
    return true;
}

static bool read_recipient(const struct field_spec *fs, json_t *v, struct vt_kms_input *in,
                           struct vt_kms_error *e)
{
    if (!json_is_object(v)) {
        return serialization(e, fs->camel, "an object", v);
    }
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val)
    {
        if (strcmp(key, "KeyEncryptionAlgorithm") != 0 && strcmp(key, "AttestationDocument") != 0) {
            return vt_kms_fail(e, VT_KMS_EXC_VALIDATION,
                               "Unknown parameter in Recipient: \"%.64s\", must be one of: "
                               "KeyEncryptionAlgorithm, AttestationDocument",
                               key);
        }
    }
    static const struct field_spec alg = {
        "KeyEncryptionAlgorithm", "recipient.keyEncryptionAlgorithm", VT_KMS_K_STRING, 1, 64};
    static const struct field_spec doc = {"AttestationDocument", "recipient.attestationDocument",
                                          VT_KMS_K_BLOB, 1, 0};
    json_t *a = json_object_get(v, alg.json), *dv = json_object_get(v, doc.json);
    if (a != NULL && !json_is_null(a) && !read_string(&alg, a, &in->recipient_alg, e)) {
        return false;
    }
    if (dv != NULL && !json_is_null(dv) &&
        !read_blob(&doc, dv, VT_KMS_ATTESTATION_MAX, &in->attestation, &in->attestation_len, e)) {
        return false;
    }
    return true;
}

static bool read_member(struct vt_kms_input *in, enum vt_kms_field f, json_t *v,
                        struct vt_kms_error *e)
{
    const struct field_spec *fs = &fields[f];
    switch (fs->kind) {
    case VT_KMS_K_STRING:
        return read_string(fs, v, &in->s[f], e);
    case VT_KMS_K_BLOB:
        return read_blob(fs, v, (size_t)fs->max, &in->blob[f], &in->blob_len[f], e);
    case VT_KMS_K_INT:
        return read_int(fs, v, &in->i[f], e);
    case VT_KMS_K_BOOL:
        if (!json_is_boolean(v)) {
            return serialization(e, fs->camel, "a boolean", v);
        }
        in->b[f] = json_is_true(v);
        return true;
    case VT_KMS_K_CONTEXT:
        return read_context(fs, v, &in->ctx[context_slot(f)], e);
    case VT_KMS_K_STRINGS:
        return read_strings(fs, v, &in->n_list[f], e);
    case VT_KMS_K_ANY_LIST:
        if (!json_is_array(v)) {
            return serialization(e, fs->camel, "a list", v);
        }
        in->n_list[f] = json_array_size(v);
        return true;
    case VT_KMS_K_RECIPIENT:
        return read_recipient(fs, v, in, e);
    }
    return vt_kms_fail(e, VT_KMS_EXC_INTERNAL, "unknown member kind");
}

static bool read_target(const char *target, enum vt_kms_op *op, struct vt_kms_error *e)
{
    static const char prefix[] = "TrentService.";
    if (target == NULL || strncmp(target, prefix, sizeof(prefix) - 1) != 0) {
        return vt_kms_fail(e, VT_KMS_EXC_UNKNOWN_OPERATION,
                           "X-Amz-Target must be TrentService.<Operation>%s",
                           target == NULL ? " (the header is missing)" : "");
    }
    const char *name = target + sizeof(prefix) - 1;
    for (unsigned i = 0; i < VT_KMS_OP_COUNT; i++) {
        if (strcmp(name, op_names[i]) == 0) {
            *op = (enum vt_kms_op)i;
            return true;
        }
    }
    for (size_t i = 0; i < sizeof(unimplemented) / sizeof(unimplemented[0]); i++) {
        if (strcmp(name, unimplemented[i]) == 0) {
            return vt_kms_fail(e, VT_KMS_EXC_UNSUPPORTED_OPERATION,
                               "%s is an AWS KMS operation this service does not implement "
                               "(docs/kms.md lists the operations it does)",
                               unimplemented[i]);
        }
    }
    return vt_kms_fail(e, VT_KMS_EXC_UNKNOWN_OPERATION, "Unknown operation: \"%.64s\"", name);
}

/* "application/x-amz-json-1.1", optionally followed by parameters (";charset=UTF-8"). */
static bool content_type_ok(const char *ct)
{
    static const char want[] = "application/x-amz-json-1.1";
    if (ct == NULL || strncasecmp(ct, want, sizeof(want) - 1) != 0) {
        return false;
    }
    const char *rest = ct + sizeof(want) - 1;
    rest += strspn(rest, " \t");
    return *rest == '\0' || *rest == ';';
}

bool vt_kms_request_read(const char *target, const char *content_type, const uint8_t *body,
                         size_t len, json_t **json, struct vt_kms_input *in, struct vt_kms_error *e)
{
    memset(in, 0, sizeof(*in));
    *json = NULL;
    if (!read_target(target, &in->op, e)) {
        return false;
    }
    if (!content_type_ok(content_type)) {
        return vt_kms_fail(e, VT_KMS_EXC_SERIALIZATION,
                           "Content-Type must be application/x-amz-json-1.1 (the AWS JSON 1.1 "
                           "protocol)%s",
                           content_type == NULL ? "; the header is missing" : "");
    }
    if (len > VT_KMS_BODY_MAX) {
        return vt_kms_fail(e, VT_KMS_EXC_SERIALIZATION, "the body is larger than %u bytes",
                           VT_KMS_BODY_MAX);
    }
    json_error_t je;
    json_t *o =
        len == 0 ? json_object() : json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        bool parsed = o != NULL;
        json_decref(o);
        return parsed ? vt_kms_fail(e, VT_KMS_EXC_SERIALIZATION, "the body is not a JSON object")
                      : vt_kms_fail(e, VT_KMS_EXC_SERIALIZATION,
                                    "the body is not JSON: %.120s (line %d, column %d)", je.text,
                                    je.line, je.column);
    }
    uint64_t required = 0;
    uint64_t allowed = vt_kms_op_fields(in->op, &required);
    const char *key;
    json_t *v;
    bool ok = true;
    json_object_foreach(o, key, v)
    {
        unsigned f = 0;
        while (f < VT_KMS_F_COUNT && strcmp(fields[f].json, key) != 0) {
            f++;
        }
        if (f == VT_KMS_F_COUNT || ((allowed >> f) & 1u) == 0) {
            ok = vt_kms_fail(e, VT_KMS_EXC_VALIDATION, "Unknown parameter in %s input: \"%.64s\"",
                             op_names[in->op], key);
            break;
        }
        if (json_is_null(v)) {
            continue; /* null is "not given", as the SDKs mean it */
        }
        if (!read_member(in, (enum vt_kms_field)f, v, e)) {
            ok = false;
            break;
        }
        in->present |= UINT64_C(1) << f;
    }
    for (unsigned f = 0; ok && f < VT_KMS_F_COUNT; f++) {
        if (((required >> f) & 1u) != 0 && ((in->present >> f) & 1u) == 0) {
            ok = vt_kms_fail(e, VT_KMS_EXC_VALIDATION,
                             "1 validation error detected: Value null at '%s' failed to satisfy "
                             "constraint: Member must not be null",
                             fields[f].camel);
        }
    }
    if (!ok) {
        vt_kms_input_cleanup(in);
        json_decref(o);
        return false;
    }
    *json = o;
    return true;
}

void vt_kms_input_cleanup(struct vt_kms_input *in)
{
    for (unsigned f = 0; f < VT_KMS_F_COUNT; f++) {
        if (in->blob[f] != NULL) {
            vt_wipe(in->blob[f], in->blob_len[f]);
            free(in->blob[f]);
            in->blob[f] = NULL;
        }
    }
    free(in->attestation);
    in->attestation = NULL;
}
