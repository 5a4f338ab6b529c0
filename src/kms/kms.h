/*
 * The AWS KMS drop-in for Nitro Enclaves (docs/kms.md): the AWS JSON 1.1 protocol
 * (POST /, X-Amz-Target: TrentService.<Operation>), requests signed with SigV4 by access keys the
 * operator creates, symmetric KMS keys (SYMMETRIC_DEFAULT: AES-256-GCM, rotation by versions),
 * aliases, key policies in AWS's language, and the Recipient parameter: a Nitro attestation
 * document verified by libveritee, whose PCRs become the kms:RecipientAttestation:* condition keys
 * and whose public key receives the result as CMS EnvelopedData (CiphertextForRecipient). Every
 * authenticated call is an entry of the broker's Merkle log.
 *
 * The service runs on a struct vt_broker (its store, master key, clock, verifier and log): the
 * KMS tables are the "kms" schema component (store/migrations.c).
 *
 * Files: kms.c (open, close), kms_request.c (the JSON 1.1 request reader), kms_names.c (key ids,
 * ARNs, aliases), kms_blob.c (ciphertext blobs, encryption contexts), kms_store.c (tables),
 * kms_recipient.c (attestation documents), kms_ops.c (the operations), kms_audit.c (log entries),
 * kms_api.c (HTTP).
 *
 * Internal to the veritee tree (src/), not installed.
 */
#ifndef VT_KMS_KMS_H
#define VT_KMS_KMS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/pincache.h"
#include "broker/broker.h"
#include "kms/kms_policy.h"
#include "kms/sigv4.h"

struct json_t;

/* ---- limits (AWS KMS's where KMS has one) ---- */
#define VT_KMS_PLAINTEXT_MAX 4096   /* Encrypt's Plaintext */
#define VT_KMS_CIPHERTEXT_MAX 6144  /* CiphertextBlob */
#define VT_KMS_KEY_ID_MAX 2048      /* KeyId and the like, in every form */
#define VT_KMS_ALIAS_MAX 256        /* AliasName, "alias/" included */
#define VT_KMS_DESCRIPTION_MAX 8192 /* Description */
#define VT_KMS_RANDOM_MAX 1024      /* GenerateRandom and GenerateDataKey NumberOfBytes */
#define VT_KMS_CONTEXT_MAX 8192     /* the bytes of an encryption context's keys and values */
#define VT_KMS_CONTEXT_PAIRS 64     /* pairs of an encryption context */
#define VT_KMS_MARKER_MAX 1024
#define VT_KMS_ATTESTATION_MAX (64u << 10) /* Recipient.AttestationDocument, decoded */
#define VT_KMS_BODY_MAX (256u << 10)       /* a request body */
#define VT_KMS_ARN_MAX 320
#define VT_KMS_ACCOUNT_LEN 12        /* an AWS account id: 12 digits */
#define VT_KMS_REGION_MAX 32         /* "us-east-1", "eu-central-2", ... */
#define VT_KMS_UUID_LEN 36           /* "1234abcd-12ab-34cd-56ef-1234567890ab" */
#define VT_KMS_ON_DEMAND_MAX 10      /* RotateKeyOnDemand per key (KMS's quota) */
#define VT_KMS_RECIPIENT_MAX_AGE 300 /* default age limit of an attestation document (s) */
#define VT_KMS_POLICY_CACHE 256      /* parsed key policies kept (by the SHA-256 of the text) */
#define VT_KMS_ACCESS_KEY_ID_LEN 20  /* "AKIA" + 16 */
#define VT_KMS_SECRET_LEN 40

/* ---- the exceptions KMS answers with: X(name, __type, HTTP status) ---- */
#define VT_KMS_EXCEPTIONS(X)                                                                       \
    X(VALIDATION, "ValidationException", 400)                                                      \
    X(ACCESS_DENIED, "AccessDeniedException", 400)                                                 \
    X(NOT_FOUND, "NotFoundException", 404)                                                         \
    X(DISABLED, "DisabledException", 409)                                                          \
    X(INVALID_STATE, "KMSInvalidStateException", 409)                                              \
    X(INVALID_CIPHERTEXT, "InvalidCiphertextException", 400)                                       \
    X(INCORRECT_KEY, "IncorrectKeyException", 400)                                                 \
    X(INVALID_KEY_USAGE, "InvalidKeyUsageException", 400)                                          \
    X(ALREADY_EXISTS, "AlreadyExistsException", 409)                                               \
    X(INVALID_ALIAS_NAME, "InvalidAliasNameException", 400)                                        \
    X(INVALID_ARN, "InvalidArnException", 400)                                                     \
    X(INVALID_MARKER, "InvalidMarkerException", 400)                                               \
    X(MALFORMED_POLICY, "MalformedPolicyDocumentException", 400)                                   \
    X(LIMIT_EXCEEDED, "LimitExceededException", 400)                                               \
    X(UNSUPPORTED_OPERATION, "UnsupportedOperationException", 400)                                 \
    X(INVALID_GRANT_TOKEN, "InvalidGrantTokenException", 400)                                      \
    X(TAG, "TagException", 400)                                                                    \
    X(DRY_RUN, "DryRunOperationException", 412)                                                    \
    X(INTERNAL, "KMSInternalException", 500)                                                       \
    X(SERIALIZATION, "SerializationException", 400)                                                \
    X(UNKNOWN_OPERATION, "UnknownOperationException", 400)

enum vt_kms_exc {
#define VT_KMS_EXC_ENUM_(name, type, status) VT_KMS_EXC_##name,
    VT_KMS_EXCEPTIONS(VT_KMS_EXC_ENUM_)
#undef VT_KMS_EXC_ENUM_
        VT_KMS_EXC_COUNT
};
const char *vt_kms_exc_type(enum vt_kms_exc e);
unsigned vt_kms_exc_status(enum vt_kms_exc e);

/* An error answer: {"__type": type, "message": message} with status. */
struct vt_kms_error {
    char type[64];
    unsigned status;
    char message[640];
};
/* Fill e with exception x and the message; returns false (for `return vt_kms_fail(...)`). */
bool vt_kms_fail(struct vt_kms_error *e, enum vt_kms_exc x, const char *fmt, ...) VT_PRINTF(3, 4);

/* ---- the operations: X(id, name) ---- */
#define VT_KMS_OPS(X)                                                                              \
    X(CREATE_KEY, "CreateKey")                                                                     \
    X(DESCRIBE_KEY, "DescribeKey")                                                                 \
    X(LIST_KEYS, "ListKeys")                                                                       \
    X(UPDATE_KEY_DESCRIPTION, "UpdateKeyDescription")                                              \
    X(CREATE_ALIAS, "CreateAlias")                                                                 \
    X(LIST_ALIASES, "ListAliases")                                                                 \
    X(DELETE_ALIAS, "DeleteAlias")                                                                 \
    X(UPDATE_ALIAS, "UpdateAlias")                                                                 \
    X(ENABLE_KEY, "EnableKey")                                                                     \
    X(DISABLE_KEY, "DisableKey")                                                                   \
    X(SCHEDULE_KEY_DELETION, "ScheduleKeyDeletion")                                                \
    X(CANCEL_KEY_DELETION, "CancelKeyDeletion")                                                    \
    X(GET_KEY_POLICY, "GetKeyPolicy")                                                              \
    X(PUT_KEY_POLICY, "PutKeyPolicy")                                                              \
    X(LIST_KEY_POLICIES, "ListKeyPolicies")                                                        \
    X(ENCRYPT, "Encrypt")                                                                          \
    X(DECRYPT, "Decrypt")                                                                          \
    X(RE_ENCRYPT, "ReEncrypt")                                                                     \
    X(GENERATE_DATA_KEY, "GenerateDataKey")                                                        \
    X(GENERATE_DATA_KEY_WITHOUT_PLAINTEXT, "GenerateDataKeyWithoutPlaintext")                      \
    X(GENERATE_RANDOM, "GenerateRandom")                                                           \
    X(ENABLE_KEY_ROTATION, "EnableKeyRotation")                                                    \
    X(DISABLE_KEY_ROTATION, "DisableKeyRotation")                                                  \
    X(GET_KEY_ROTATION_STATUS, "GetKeyRotationStatus")                                             \
    X(ROTATE_KEY_ON_DEMAND, "RotateKeyOnDemand")

enum vt_kms_op {
#define VT_KMS_OP_ENUM_(id, name) VT_KMS_OP_##id,
    VT_KMS_OPS(VT_KMS_OP_ENUM_)
#undef VT_KMS_OP_ENUM_
        VT_KMS_OP_COUNT
};
const char *vt_kms_op_name(enum vt_kms_op op); /* "Decrypt" */

/* ---- the request members: X(id, JSON name, lowerCamel name in messages, kind, min, max) ---- */
enum vt_kms_kind {
    VT_KMS_K_STRING,    /* a string of min..max characters */
    VT_KMS_K_BLOB,      /* base64 of min..max bytes */
    VT_KMS_K_INT,       /* an integer in min..max */
    VT_KMS_K_BOOL,      /* true or false */
    VT_KMS_K_CONTEXT,   /* an encryption context: an object of strings */
    VT_KMS_K_STRINGS,   /* a list of strings (GrantTokens, DryRunModifiers) */
    VT_KMS_K_RECIPIENT, /* {KeyEncryptionAlgorithm, AttestationDocument} */
    VT_KMS_K_ANY_LIST,  /* a list of anything (Tags: only the empty list is taken) */
};

#define VT_KMS_FIELDS(X)                                                                           \
    X(KEY_ID, "KeyId", "keyId", STRING, 1, VT_KMS_KEY_ID_MAX)                                      \
    X(PLAINTEXT, "Plaintext", "plaintext", BLOB, 1, VT_KMS_PLAINTEXT_MAX)                          \
    X(CIPHERTEXT_BLOB, "CiphertextBlob", "ciphertextBlob", BLOB, 1, VT_KMS_CIPHERTEXT_MAX)         \
    X(ENCRYPTION_CONTEXT, "EncryptionContext", "encryptionContext", CONTEXT, 0, 0)                 \
    X(SOURCE_ENCRYPTION_CONTEXT, "SourceEncryptionContext", "sourceEncryptionContext", CONTEXT, 0, \
      0)                                                                                           \
    X(DESTINATION_ENCRYPTION_CONTEXT, "DestinationEncryptionContext",                              \
      "destinationEncryptionContext", CONTEXT, 0, 0)                                               \
    X(SOURCE_KEY_ID, "SourceKeyId", "sourceKeyId", STRING, 1, VT_KMS_KEY_ID_MAX)                   \
    X(DESTINATION_KEY_ID, "DestinationKeyId", "destinationKeyId", STRING, 1, VT_KMS_KEY_ID_MAX)    \
    X(ENCRYPTION_ALGORITHM, "EncryptionAlgorithm", "encryptionAlgorithm", STRING, 1, 64)           \
    X(SOURCE_ENCRYPTION_ALGORITHM, "SourceEncryptionAlgorithm", "sourceEncryptionAlgorithm",       \
      STRING, 1, 64)                                                                               \
    X(DESTINATION_ENCRYPTION_ALGORITHM, "DestinationEncryptionAlgorithm",                          \
      "destinationEncryptionAlgorithm", STRING, 1, 64)                                             \
    X(GRANT_TOKENS, "GrantTokens", "grantTokens", STRINGS, 0, 10)                                  \
    X(DRY_RUN, "DryRun", "dryRun", BOOL, 0, 0)                                                     \
    X(DRY_RUN_MODIFIERS, "DryRunModifiers", "dryRunModifiers", STRINGS, 0, 10)                     \
    X(RECIPIENT, "Recipient", "recipient", RECIPIENT, 0, 0)                                        \
    X(KEY_SPEC, "KeySpec", "keySpec", STRING, 1, 64)                                               \
    X(NUMBER_OF_BYTES, "NumberOfBytes", "numberOfBytes", INT, 1, VT_KMS_RANDOM_MAX)                \
    X(DESCRIPTION, "Description", "description", STRING, 0, VT_KMS_DESCRIPTION_MAX)                \
    X(KEY_USAGE, "KeyUsage", "keyUsage", STRING, 1, 64)                                            \
    X(CUSTOMER_MASTER_KEY_SPEC, "CustomerMasterKeySpec", "customerMasterKeySpec", STRING, 1, 64)   \
    X(ORIGIN, "Origin", "origin", STRING, 1, 64)                                                   \
    X(POLICY, "Policy", "policy", STRING, 1, VT_KMS_POLICY_MAX_SIZE)                               \
    X(POLICY_NAME, "PolicyName", "policyName", STRING, 1, 128)                                     \
    X(BYPASS_POLICY_LOCKOUT_SAFETY_CHECK, "BypassPolicyLockoutSafetyCheck",                        \
      "bypassPolicyLockoutSafetyCheck", BOOL, 0, 0)                                                \
    X(TAGS, "Tags", "tags", ANY_LIST, 0, 0)                                                        \
    X(MULTI_REGION, "MultiRegion", "multiRegion", BOOL, 0, 0)                                      \
    X(CUSTOM_KEY_STORE_ID, "CustomKeyStoreId", "customKeyStoreId", STRING, 1, 64)                  \
    X(XKS_KEY_ID, "XksKeyId", "xksKeyId", STRING, 1, 128)                                          \
    X(ALIAS_NAME, "AliasName", "aliasName", STRING, 1, VT_KMS_ALIAS_MAX)                           \
    X(TARGET_KEY_ID, "TargetKeyId", "targetKeyId", STRING, 1, VT_KMS_KEY_ID_MAX)                   \
    X(LIMIT, "Limit", "limit", INT, 1, 1000)                                                       \
    X(MARKER, "Marker", "marker", STRING, 1, VT_KMS_MARKER_MAX)                                    \
    X(PENDING_WINDOW_IN_DAYS, "PendingWindowInDays", "pendingWindowInDays", INT, 1, 365)           \
    X(ROTATION_PERIOD_IN_DAYS, "RotationPeriodInDays", "rotationPeriodInDays", INT, 90, 2560)

enum vt_kms_field {
#define VT_KMS_FIELD_ENUM_(id, json, camel, kind, min, max) VT_KMS_F_##id,
    VT_KMS_FIELDS(VT_KMS_FIELD_ENUM_)
#undef VT_KMS_FIELD_ENUM_
        VT_KMS_F_COUNT
};
_Static_assert(VT_KMS_F_COUNT <= 64, "field masks are 64 bits");

/* An encryption context: pairs sorted by key (bytes), keys unique. Strings borrowed. */
struct vt_kms_context {
    size_t n;
    struct {
        const char *key, *value;
    } pairs[VT_KMS_CONTEXT_PAIRS];
};

/* A decoded request: the members present (bit 1 << field), each in the slot of its kind. Strings
 * are borrowed from the request's JSON; blobs are heap (a plaintext is wiped on cleanup). */
struct vt_kms_input {
    enum vt_kms_op op;
    uint64_t present;
    const char *s[VT_KMS_F_COUNT];
    uint8_t *blob[VT_KMS_F_COUNT];
    size_t blob_len[VT_KMS_F_COUNT];
    int64_t i[VT_KMS_F_COUNT];
    bool b[VT_KMS_F_COUNT];
    size_t n_list[VT_KMS_F_COUNT]; /* STRINGS, ANY_LIST: the number of elements */
    struct vt_kms_context ctx[3];  /* ENCRYPTION_CONTEXT / SOURCE_..., DESTINATION_... */
    /* Recipient */
    const char *recipient_alg;
    uint8_t *attestation;
    size_t attestation_len;
};
#define VT_KMS_HAS(in, f) (((in)->present >> VT_KMS_F_##f) & 1u)
/* The context slot of a CONTEXT field. */
const struct vt_kms_context *vt_kms_input_context(const struct vt_kms_input *in,
                                                  enum vt_kms_field f);

/*
 * The JSON 1.1 request reader (kms_request.c): the operation from X-Amz-Target
 * ("TrentService.<Operation>"; UnknownOperationException otherwise, UnsupportedOperationException
 * for an AWS KMS operation this service does not implement), the Content-Type
 * (application/x-amz-json-1.1, parameters allowed; SerializationException otherwise), the body (a
 * JSON object without duplicate members; an empty body is {}; SerializationException otherwise)
 * and its members against the operation's: an unknown member, a wrong type or a value out of
 * range is a ValidationException naming it, as KMS words them. On success *json holds the body
 * (caller decrefs after cleaning up in) and in the decoded members.
 */
bool vt_kms_request_read(const char *target, const char *content_type, const uint8_t *body,
                         size_t len, struct json_t **json, struct vt_kms_input *in,
                         struct vt_kms_error *e);
void vt_kms_input_cleanup(struct vt_kms_input *in);
/* The member table: JSON name of a field, and the fields an operation takes and requires. */
const char *vt_kms_field_name(enum vt_kms_field f);
uint64_t vt_kms_op_fields(enum vt_kms_op op, uint64_t *required);

/* ---- names: key ids, ARNs, aliases (kms_names.c) ---- */
enum vt_kms_ref_kind {
    VT_KMS_REF_KEY_ID,
    VT_KMS_REF_KEY_ARN,
    VT_KMS_REF_ALIAS,
    VT_KMS_REF_ALIAS_ARN
};

struct vt_kms_ref {
    enum vt_kms_ref_kind kind;
    char key_id[VT_KMS_UUID_LEN + 1];   /* KEY_ID, KEY_ARN */
    char alias[VT_KMS_ALIAS_MAX + 1];   /* ALIAS, ALIAS_ARN: "alias/..." */
    char region[VT_KMS_REGION_MAX + 1]; /* ARNs */
    char account[VT_KMS_ACCOUNT_LEN + 1];
};

/*
 * Read a KeyId in one of the forms KMS takes: a key id (a lowercase UUID), a key ARN
 * "arn:aws:kms:REGION:ACCOUNT:key/ID", an alias name "alias/NAME" or an alias ARN
 * "arn:aws:kms:REGION:ACCOUNT:alias/NAME". allow_alias false: the two alias forms are refused.
 * NotFoundException ("Invalid keyId ...") for anything else.
 */
bool vt_kms_ref_parse(const char *s, bool allow_alias, struct vt_kms_ref *r,
                      struct vt_kms_error *e);
/* An alias name KMS accepts: "alias/" and 1 to 250 of [A-Za-z0-9:/_-], not "alias/aws/..."
 * (reserved for AWS managed keys). InvalidAliasNameException otherwise. */
bool vt_kms_alias_check(const char *name, struct vt_kms_error *e);
/* UUIDs: 16 bytes <-> "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (lowercase). */
bool vt_kms_uuid_parse(const char *s, uint8_t out[16]);
void vt_kms_uuid_format(const uint8_t in[16], char out[VT_KMS_UUID_LEN + 1]);
VT_MUST_USE enum vt_err vt_kms_uuid_new(char out[VT_KMS_UUID_LEN + 1], struct vt_diag *d);
/* An account id: exactly 12 digits. */
bool vt_kms_account_ok(const char *s);
/* A region name: 1 to VT_KMS_REGION_MAX of [a-z0-9-]. */
bool vt_kms_region_ok(const char *s);
/* The account of a principal ARN ("arn:aws:iam::111122223333:role/x"): false if s is not an ARN
 * "arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE" with a 12-digit account and a resource. */
bool vt_kms_principal_account(const char *s, char account[VT_KMS_ACCOUNT_LEN + 1]);

/* ---- ciphertext blobs and encryption contexts (kms_blob.c) ---- */
/*
 * A ciphertext blob (docs/kms.md, "Ciphertext blobs"), version 1:
 *
 *   offset  size  field
 *   0       2     magic "vk"
 *   2       1     format version: 1
 *   3       1     reserved: 0
 *   4       16    the KMS key's id (its UUID as 16 bytes)
 *   20      4     the key version (big-endian, from 1)
 *   24      16    salt: the AES-256-GCM key is HMAC-SHA-256(version's material, label || salt)
 *   40      12    GCM nonce
 *   52      n     ciphertext (n = plaintext length, 1 to 4096)
 *   52+n    16    GCM tag over the header (bytes 0..52) and the canonical encryption context
 */
#define VT_KMS_BLOB_HEADER 52
#define VT_KMS_BLOB_OVERHEAD (VT_KMS_BLOB_HEADER + 16)
struct vt_kms_blob {
    uint8_t key_id[16];
    uint32_t version;
    const uint8_t *header; /* borrowed: the VT_KMS_BLOB_HEADER bytes */
    const uint8_t *salt, *nonce, *ct, *tag;
    size_t ct_len;
};
/* Parse (no key needed): VT_E_TRUNCATED, VT_E_BAD_FIELD (magic, version, reserved, key version
 * 0), VT_E_TOO_LARGE; d names the field. */
VT_MUST_USE enum vt_err vt_kms_blob_parse(const uint8_t *p, size_t n, struct vt_kms_blob *b,
                                          struct vt_diag *d);
/* Encrypt pt[n] (1..VT_KMS_PLAINTEXT_MAX) under a key version's 32-byte material, binding ctx:
 * the blob is appended to out. */
VT_MUST_USE enum vt_err vt_kms_blob_seal(const uint8_t material[32], const uint8_t key_id[16],
                                         uint32_t version, const struct vt_kms_context *ctx,
                                         const uint8_t *pt, size_t n, struct vt_buf *out,
                                         struct vt_diag *d);
/* Decrypt a parsed blob: the plaintext is appended to out; VT_E_CRYPTO ("blob.tag") when the
 * material, the context or a byte is not the one sealed. */
VT_MUST_USE enum vt_err vt_kms_blob_open(const uint8_t material[32], const struct vt_kms_blob *b,
                                         const struct vt_kms_context *ctx, struct vt_buf *out,
                                         struct vt_diag *d);
/*
 * The canonical form of an encryption context (the blob's associated data after the header):
 * the number of pairs (u32 big-endian), then per pair in key order: key length (u32), key, value
 * length (u32), value. An absent and an empty context are the same.
 */
VT_MUST_USE enum vt_err vt_kms_context_canonical(const struct vt_kms_context *c, struct vt_buf *out,
                                                 struct vt_diag *d);
/* Add a pair keeping the pairs sorted; VT_E_DUPLICATE, VT_E_TOO_LARGE (pairs or bytes). */
VT_MUST_USE enum vt_err vt_kms_context_add(struct vt_kms_context *c, const char *key,
                                           const char *value, struct vt_diag *d);

/* ---- the service ---- */
struct vt_kms_config {
    const char *region;        /* the region of key ARNs and of SigV4 scopes */
    const char *account;       /* the account id of key ARNs (12 digits) */
    int64_t recipient_max_age; /* seconds an attestation document is taken after its timestamp;
                                  0: VT_KMS_RECIPIENT_MAX_AGE */
    enum vt_schema_mode schema_mode; /* what opening may do to the kms component */
};

struct vt_kms {
    struct vt_broker *b; /* borrowed: store, master key, clock, verifier, log */
    char region[VT_KMS_REGION_MAX + 1];
    char account[VT_KMS_ACCOUNT_LEN + 1];
    const char *regions[2]; /* for SigV4: {region, NULL} */
    int64_t recipient_max_age;
    atomic_int_fast64_t purged_at; /* the last purge of keys whose deletion date passed */
    /* parsed key policies by the SHA-256 of their text (kms_ops.c): a policy is parsed once */
    struct vt_pincache policies;
};

/* Open the KMS service on broker b (which must outlive it): bring the kms schema component to
 * this binary's version as cfg->schema_mode allows, check region and account (VT_E_ARG). */
VT_MUST_USE enum vt_err vt_kms_open(const struct vt_kms_config *cfg, struct vt_broker *b,
                                    struct vt_kms **out, struct vt_diag *d);
void vt_kms_close(struct vt_kms *k);
vt_time vt_kms_now(const struct vt_kms *k);
/* The schema components the KMS service uses (core, broker, kms). */
extern const struct vt_schema_component *const vt_kms_schema[3];

/* ---- storage (kms_store.c) ---- */
struct vt_kms_key {
    char key_id[VT_KMS_UUID_LEN + 1];
    char arn[VT_KMS_ARN_MAX];
    char account[VT_KMS_ACCOUNT_LEN + 1];
    char state[24];     /* Enabled, Disabled, PendingDeletion */
    char key_spec[32];  /* SYMMETRIC_DEFAULT */
    char key_usage[32]; /* ENCRYPT_DECRYPT */
    char *description;  /* heap */
    int64_t created, deletion_date, pending_window;
    bool rotation_enabled;
    int64_t rotation_period, next_rotation; /* days; 0 when rotation is off */
    uint32_t version;                       /* the current version */
    int64_t on_demand;                      /* versions made by RotateKeyOnDemand */
};
void vt_kms_key_cleanup(struct vt_kms_key *key);

/* The key of an id: *found false if there is none (or its deletion date has passed). */
VT_MUST_USE enum vt_err vt_kms_key_get(struct vt_kms *k, const char *key_id, struct vt_kms_key *key,
                                       bool *found, struct vt_diag *d);
/* The key id an alias names: *found false if the alias does not exist. */
VT_MUST_USE enum vt_err vt_kms_alias_target(struct vt_kms *k, const char *alias,
                                            char key_id[VT_KMS_UUID_LEN + 1], bool *found,
                                            struct vt_diag *d);
/* Create a key (state Enabled, version 1 of fresh random material, the policy) in one
 * transaction; key->arn, account, state, created and version are filled here, and key->key_id
 * too unless the caller chose it (a fresh UUID). */
VT_MUST_USE enum vt_err vt_kms_key_create(struct vt_kms *k, struct vt_kms_key *key,
                                          const char *policy, struct vt_diag *d);
/* The 32-byte material of a version (unsealed; wipe it). VT_E_NOT_FOUND for no such version,
 * VT_E_INTEGRITY if it does not open under the master key. */
VT_MUST_USE enum vt_err vt_kms_material(struct vt_kms *k, const char *key_id, uint32_t version,
                                        uint8_t material[32], struct vt_diag *d);
/* Add a version (rotation); on_demand counts towards VT_KMS_ON_DEMAND_MAX. next_rotation: the
 * key's new next rotation date (0: unchanged). *version: the new current version. */
VT_MUST_USE enum vt_err vt_kms_key_rotate(struct vt_kms *k, const char *key_id, bool on_demand,
                                          int64_t next_rotation, uint32_t *version,
                                          struct vt_diag *d);
/* Updates of one key's row: state and deletion, rotation, description. VT_E_NOT_FOUND. */
VT_MUST_USE enum vt_err vt_kms_key_set_state(struct vt_kms *k, const char *key_id,
                                             const char *state, int64_t deletion_date,
                                             int64_t pending_window, struct vt_diag *d);
VT_MUST_USE enum vt_err vt_kms_key_set_rotation(struct vt_kms *k, const char *key_id, bool enabled,
                                                int64_t period, int64_t next, struct vt_diag *d);
VT_MUST_USE enum vt_err vt_kms_key_set_description(struct vt_kms *k, const char *key_id,
                                                   const char *description, struct vt_diag *d);
/* The key policy (heap text). */
VT_MUST_USE enum vt_err vt_kms_policy_get(struct vt_kms *k, const char *key_id, char **policy,
                                          struct vt_diag *d);
VT_MUST_USE enum vt_err vt_kms_policy_put(struct vt_kms *k, const char *key_id, const char *policy,
                                          struct vt_diag *d);
/* Keys after `after` (a key id, "" from the start) in key id order, at most limit, as row
 * callbacks (key_id, arn). */
VT_MUST_USE enum vt_err vt_kms_keys_list(struct vt_kms *k, const char *after, int64_t limit,
                                         vt_row_fn fn, void *ctx, struct vt_diag *d);
/* Aliases: create (VT_E_DUPLICATE if taken), repoint, delete (VT_E_NOT_FOUND), list after
 * `after` (name order; of one key when key_id is not NULL) as (name, key_id, created, updated). */
VT_MUST_USE enum vt_err vt_kms_alias_create(struct vt_kms *k, const char *alias, const char *key_id,
                                            struct vt_diag *d);
VT_MUST_USE enum vt_err vt_kms_alias_update(struct vt_kms *k, const char *alias, const char *key_id,
                                            struct vt_diag *d);
VT_MUST_USE enum vt_err vt_kms_alias_delete(struct vt_kms *k, const char *alias, struct vt_diag *d);
VT_MUST_USE enum vt_err vt_kms_aliases_list(struct vt_kms *k, const char *key_id, const char *after,
                                            int64_t limit, vt_row_fn fn, void *ctx,
                                            struct vt_diag *d);
/* Delete the keys whose deletion date has passed (rows, versions, aliases, policies), at most
 * once a minute unless force. */
void vt_kms_purge(struct vt_kms *k, bool force);

/* Access keys: the id and secret (shown once), stored sealed under the master key. */
struct vt_kms_access_key {
    char id[VT_KMS_ACCESS_KEY_ID_LEN + 1];
    char principal[256];
    char account[VT_KMS_ACCOUNT_LEN + 1];
    bool admin, disabled;
    int64_t created;
};
VT_MUST_USE enum vt_err vt_kms_access_key_create(struct vt_kms *k, const char *principal,
                                                 bool admin, struct vt_kms_access_key *out,
                                                 char secret[VT_KMS_SECRET_LEN + 1],
                                                 struct vt_diag *d);
/* The access key of an id and its secret (unsealed); *found false if unknown. */
VT_MUST_USE enum vt_err vt_kms_access_key_get(struct vt_kms *k, const char *id,
                                              struct vt_kms_access_key *out,
                                              char secret[VT_SIGV4_SECRET_MAX], bool *found,
                                              struct vt_diag *d);
VT_MUST_USE enum vt_err vt_kms_access_key_disable(struct vt_kms *k, const char *id,
                                                  struct vt_diag *d);
/* Every access key (no secrets) as a JSON array (heap text). */
VT_MUST_USE enum vt_err vt_kms_access_keys_json(struct vt_kms *k, char **json, struct vt_diag *d);

/* Master-key operations on the store's KMS tables (none when the kms component is absent), in
 * the caller's transaction: re-seal every key version and access key secret under new_master
 * (*n counts them); open every one under master (a restored database's check). */
VT_MUST_USE enum vt_err vt_kms_store_rewrap(struct vt_store *s, const uint8_t master[32],
                                            const uint8_t new_master[32], size_t *n,
                                            struct vt_diag *d);
VT_MUST_USE enum vt_err vt_kms_store_check(struct vt_store *s, const uint8_t master[32], size_t *n,
                                           struct vt_diag *d);
/* The two above for the broker's rotation and check (store/master_key.h). */
extern const struct vt_sealed_service vt_kms_sealed;

/* ---- Recipient: attestation documents (kms_recipient.c) ---- */
struct vt_kms_recipient {
    bool verified;          /* the document verified (the rest below is filled) */
    uint8_t doc_sha256[32]; /* of the document's bytes, verified or not */
    char module_id[257];
    uint8_t *spki; /* heap: the document's public_key (DER SubjectPublicKeyInfo) */
    size_t spki_len;
    uint32_t pcr_mask;
    char pcr[32][129]; /* lowercase hex of each PCR present */
};
/* Verify a Recipient: KeyEncryptionAlgorithm RSAES_OAEP_SHA_256, the document a Nitro document
 * that verifies at now (chain to the AWS root or a configured one, signature, certificate
 * validity, timestamp not older than recipient_max_age and not in the future) with an RSA
 * public_key. ValidationException naming the check otherwise. */
bool vt_kms_recipient_verify(struct vt_kms *k, const char *alg, const uint8_t *doc, size_t n,
                             struct vt_kms_recipient *r, struct vt_kms_error *e);
void vt_kms_recipient_cleanup(struct vt_kms_recipient *r);
/* CiphertextForRecipient: pt as CMS EnvelopedData to the document's key (heap, *out_len). */
bool vt_kms_recipient_wrap(const struct vt_kms_recipient *r, const uint8_t *pt, size_t n,
                           uint8_t **out, size_t *out_len, struct vt_kms_error *e);

/* ---- calls (kms_ops.c) ---- */
/* Who signed the request (the access key's row). */
struct vt_kms_caller {
    char access_key_id[VT_SIGV4_ACCESS_KEY_MAX];
    char principal[256];
    char account[VT_KMS_ACCOUNT_LEN + 1];
    bool admin;
};

/* One call of an operation by an authenticated caller. */
struct vt_kms_call {
    const struct vt_kms_caller *caller;
    const struct vt_kms_input *in;
    const char *request_id;
    /* results */
    struct json_t *out; /* the response object (caller decrefs), or NULL with err */
    struct vt_kms_error err;
    char *receipt; /* Recipient calls: the log receipt (heap JSON) */
    char receipt_kid[64];
    uint64_t log_index;
};
/*
 * Run in->op for c->caller: resolve the key, authorize with its key policy (or the caller's admin
 * flag where no key is involved), check the key's state, do the work, and record the call in the
 * audit log (allowed or refused). true with c->out, or false with c->err. A call whose log entry
 * cannot be written fails with KMSInternalException and returns no key material.
 */
bool vt_kms_call_run(struct vt_kms *k, struct vt_kms_call *c);
void vt_kms_call_cleanup(struct vt_kms_call *c);

/* ---- the audit log (kms_audit.c) ---- */
struct vt_kms_audit {
    enum vt_kms_op op;
    const char *event; /* the operation's name in the entry when not op's (NULL: op's) */
    const struct vt_kms_caller *caller;
    const char *request_id;
    const char *key_arn;                      /* NULL: no key */
    uint32_t key_version;                     /* 0: none */
    bool allowed;                             /* the call succeeded */
    const char *error_type;                   /* refused: the exception */
    const char *reason;                       /* refused: the message */
    const struct vt_kms_context *context;     /* may be NULL */
    const struct vt_kms_recipient *recipient; /* Recipient calls */
    const char *explanation; /* the policy decision explained (admin log), may be NULL */
};
/* Append the entry (canonical JSON) with its explanation; with want_receipt, the receipt. */
VT_MUST_USE enum vt_err vt_kms_audit_append(struct vt_kms *k, const struct vt_kms_audit *a,
                                            bool want_receipt, uint64_t *index, char **receipt,
                                            char kid[64], struct vt_diag *d);

/* ---- HTTP (kms_api.c) ---- */
/* POST / (the JSON 1.1 protocol) and GET /healthz. */
void vt_kms_http_handler(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp);
void vt_kms_http_route(void *ctx, const struct vt_http_req *req, struct vt_http_route *route,
                       struct vt_http_resp *resp);
/* The answer to a call as KMS gives it: status, Content-Type application/x-amz-json-1.1,
 * x-amzn-RequestId, the body; an error {"__type","message"}. */
void vt_kms_reply_error(struct vt_http_resp *resp, const char *request_id,
                        const struct vt_kms_error *e);

#endif
