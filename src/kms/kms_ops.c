/*
 * The operations of the KMS service (kms.h, docs/kms.md "Operations"). Each call goes the way KMS
 * orders its checks: the request's own values, the key (NotFoundException), the Recipient's
 * attestation document when there is one (its PCRs are condition keys), the key policy
 * (AccessDeniedException), the key's state (DisabledException, KMSInvalidStateException), DryRun,
 * then the work. Every call ends in the audit log, refused or not (vt_kms_call_run).
 *
 * Authorization: every operation on a key is decided by that key's policy (vt_kms_policy_allows)
 * for the action "kms:<Operation>" (ReEncrypt: kms:ReEncryptFrom on the source key and
 * kms:ReEncryptTo on the destination) with the condition keys kms:CallerAccount,
 * aws:PrincipalArn, aws:PrincipalAccount, kms:EncryptionContext:<key>, kms:EncryptionContextKeys,
 * kms:EncryptionAlgorithm, kms:RecipientAttestation:ImageSha384 and
 * kms:RecipientAttestation:PCR<n>. Operations on no key: CreateKey, ListKeys and ListAliases
 * without KeyId are for access keys created --admin (there are no IAM policies here);
 * GenerateRandom is for every access key.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kms/kms.h"

#define SYMMETRIC "SYMMETRIC_DEFAULT"
#define ENCRYPT_DECRYPT "ENCRYPT_DECRYPT"
#define DAY 86400

/* The state of one call: what it found and decided, for the response and the log entry. */
struct op {
    struct vt_kms *k;
    struct vt_kms_call *c;
    const struct vt_kms_input *in;
    struct vt_kms_error *e;
    struct vt_kms_key key; /* the key the call is about (ReEncrypt: the destination) */
    bool have_key;
    uint32_t version;                 /* the key version used */
    const struct vt_kms_context *ctx; /* logged */
    struct vt_kms_recipient rcp;
    bool have_rcp;      /* a verified Recipient */
    bool rcp_presented; /* a Recipient was looked at (logged by its digest even if refused) */
    char *explanation;  /* the policy decisions, for the admin log */
    json_t *out;
};

static const char *arg(const struct op *o, enum vt_kms_field f)
{
    return ((o->in->present >> f) & 1u) ? o->in->s[f] : NULL;
}

static bool has(const struct op *o, enum vt_kms_field f)
{
    return ((o->in->present >> f) & 1u) != 0;
}

static bool internal(struct op *o, const struct vt_diag *d)
{
    return vt_kms_fail(o->e, VT_KMS_EXC_INTERNAL, "%s: %s", d->check, d->detail);
}

/* ---- keys by reference ---- */

static void key_arn(const struct vt_kms *k, const char *key_id, char arn[VT_KMS_ARN_MAX])
{
    snprintf(arn, VT_KMS_ARN_MAX, "arn:aws:kms:%s:%s:key/%s", k->region, k->account, key_id);
}

static void alias_arn(const struct vt_kms *k, const char *alias, char *arn, size_t cap)
{
    snprintf(arn, cap, "arn:aws:kms:%s:%s:%s", k->region, k->account, alias);
}

static bool key_missing(struct op *o, const char *key_id)
{
    char arn[VT_KMS_ARN_MAX];
    key_arn(o->k, key_id, arn);
    return vt_kms_fail(o->e, VT_KMS_EXC_NOT_FOUND, "Key '%s' does not exist", arn);
}

/* The key of an id into *key. */
static bool load_key(struct op *o, const char *key_id, struct vt_kms_key *key)
{
    struct vt_diag d;
    vt_diag_init(&d);
    bool found = false;
    if (vt_kms_key_get(o->k, key_id, key, &found, &d) != VT_OK) {
        return internal(o, &d);
    }
    return found ? true : key_missing(o, key_id);
}

/* The key a KeyId names (any form KMS takes there; aliases only where allow_alias). */
static bool resolve(struct op *o, const char *s, bool allow_alias, struct vt_kms_key *key)
{
    struct vt_kms_ref r;
    if (!vt_kms_ref_parse(s, allow_alias, &r, o->e)) {
        return false;
    }
    bool arn = r.kind == VT_KMS_REF_KEY_ARN || r.kind == VT_KMS_REF_ALIAS_ARN;
    if (arn && (strcmp(r.region, o->k->region) != 0 || strcmp(r.account, o->k->account) != 0)) {
        return r.kind == VT_KMS_REF_KEY_ARN
                   ? vt_kms_fail(o->e, VT_KMS_EXC_NOT_FOUND, "Key '%.300s' does not exist", s)
                   : vt_kms_fail(o->e, VT_KMS_EXC_NOT_FOUND, "Alias %.300s is not found.", s);
    }
    char key_id[VT_KMS_UUID_LEN + 1];
    if (r.kind == VT_KMS_REF_ALIAS || r.kind == VT_KMS_REF_ALIAS_ARN) {
        struct vt_diag d;
        vt_diag_init(&d);
        bool found = false;
        if (vt_kms_alias_target(o->k, r.alias, key_id, &found, &d) != VT_OK) {
            return internal(o, &d);
        }
        if (!found) {
            char a[VT_KMS_ARN_MAX];
            alias_arn(o->k, r.alias, a, sizeof(a));
            return vt_kms_fail(o->e, VT_KMS_EXC_NOT_FOUND, "Alias %s is not found.", a);
        }
    } else {
        snprintf(key_id, sizeof(key_id), "%s", r.key_id);
    }
    return load_key(o, key_id, key);
}

/* The call's key (o->key), from the KeyId member f. */
static bool resolve_main(struct op *o, enum vt_kms_field f, bool allow_alias)
{
    if (!resolve(o, arg(o, f), allow_alias, &o->key)) {
        return false;
    }
    o->have_key = true;
    return true;
}

/* ---- authorization ---- */

/* The condition keys of a request: every value lives here until the decision is made. */
#define COND_MAX (8 + VT_KMS_CONTEXT_PAIRS + 33)
struct conditions {
    struct vt_kms_ctx_key keys[COND_MAX];
    size_t n;
    const char *one[COND_MAX]; /* the single value of keys[i] */
    char *names[COND_MAX];     /* heap names (kms:EncryptionContext:...) */
    size_t n_names;
    const char *ctx_keys[VT_KMS_CONTEXT_PAIRS];
    char pcr_names[32][40];
};

static void cond_add(struct conditions *c, const char *name, const char *value)
{
    if (c->n < COND_MAX) {
        c->one[c->n] = value;
        c->keys[c->n] = (struct vt_kms_ctx_key){name, &c->one[c->n], 1};
        c->n++;
    }
}

static void cond_cleanup(struct conditions *c)
{
    for (size_t i = 0; i < c->n_names; i++) {
        free(c->names[i]);
    }
}

static bool cond_build(struct op *o, struct conditions *c, const struct vt_kms_context *ctx,
                       const char *algorithm)
{
    memset(c, 0, sizeof(*c));
    const struct vt_kms_caller *who = o->c->caller;
    cond_add(c, "kms:CallerAccount", who->account);
    cond_add(c, "aws:PrincipalArn", who->principal);
    cond_add(c, "aws:PrincipalAccount", who->account);
    if (algorithm != NULL) {
        cond_add(c, "kms:EncryptionAlgorithm", algorithm);
    }
    for (size_t i = 0; ctx != NULL && i < ctx->n; i++) {
        size_t n = strlen("kms:EncryptionContext:") + strlen(ctx->pairs[i].key) + 1;
        char *name = malloc(n);
        if (name == NULL) {
            return vt_kms_fail(o->e, VT_KMS_EXC_INTERNAL, "out of memory");
        }
        snprintf(name, n, "kms:EncryptionContext:%s", ctx->pairs[i].key);
        c->names[c->n_names++] = name;
        cond_add(c, name, ctx->pairs[i].value);
        c->ctx_keys[i] = ctx->pairs[i].key;
    }
    if (ctx != NULL && ctx->n > 0 && c->n < COND_MAX) {
        c->keys[c->n++] = (struct vt_kms_ctx_key){"kms:EncryptionContextKeys", c->ctx_keys, ctx->n};
    }
    if (o->have_rcp) {
        const struct vt_kms_recipient *r = &o->rcp;
        if (r->pcr_mask & 1u) {
            cond_add(c, "kms:RecipientAttestation:ImageSha384", r->pcr[0]);
        }
        for (unsigned i = 0; i < 32; i++) {
            if ((r->pcr_mask >> i) & 1u) {
                snprintf(c->pcr_names[i], sizeof(c->pcr_names[i]), "kms:RecipientAttestation:PCR%u",
                         i);
                cond_add(c, c->pcr_names[i], r->pcr[i]);
            }
        }
    }
    return true;
}

static void keep_explanation(struct op *o, const char *action, const char *explanation)
{
    if (explanation == NULL) {
        return;
    }
    size_t n =
        (o->explanation ? strlen(o->explanation) : 0) + strlen(action) + strlen(explanation) + 4;
    char *s = malloc(n);
    if (s != NULL) {
        snprintf(s, n, "%s%s%s: %s", o->explanation ? o->explanation : "",
                 o->explanation ? "\n" : "", action, explanation);
        free(o->explanation);
        o->explanation = s;
    }
}

/* Decide action on key with its policy text (NULL: the stored one). */
static bool allowed_by(struct op *o, const struct vt_kms_key *key, const char *action,
                       const struct vt_kms_context *ctx, const char *algorithm,
                       const char *policy_text, bool *allowed)
{
    struct vt_diag d;
    vt_diag_init(&d);
    char *stored = NULL;
    if (policy_text == NULL) {
        if (vt_kms_policy_get(o->k, key->key_id, &stored, &d) != VT_OK) {
            return internal(o, &d);
        }
        policy_text = stored;
    }
    /* Parsed once per text: a parsed policy is read-only (vt_kms_policy_allows takes it const),
     * so one serves every thread. */
    uint8_t id[32];
    vt_sha256(policy_text, strlen(policy_text), id);
    struct vt_pin pin;
    const struct vt_kms_policy *p = vt_pincache_get(&o->k->policies, id, NULL, NULL, &pin);
    if (p == NULL) {
        struct vt_kms_policy *parsed = NULL;
        enum vt_err err = vt_kms_policy_parse(policy_text, strlen(policy_text), &parsed, &d);
        if (err != VT_OK) {
            free(stored);
            return vt_kms_fail(o->e, VT_KMS_EXC_INTERNAL,
                               "the key policy of %s does not parse: %s: %s", key->arn, d.check,
                               d.detail);
        }
        p = vt_pincache_put(&o->k->policies, id, parsed, NULL, NULL, &pin);
    }
    free(stored);
    struct conditions c;
    bool ok = cond_build(o, &c, ctx, algorithm);
    if (ok) {
        const struct vt_kms_caller *who = o->c->caller;
        struct vt_kms_request_ctx rq = {.action = action,
                                        .principal = who->principal,
                                        .account = who->account,
                                        .resource = key->arn,
                                        .keys = c.keys,
                                        .n_keys = c.n};
        char *explanation = NULL;
        *allowed = vt_kms_policy_allows(p, &rq, &explanation);
        keep_explanation(o, action, explanation);
        free(explanation);
    }
    cond_cleanup(&c);
    vt_pincache_release(&o->k->policies, &pin);
    return ok;
}

static bool authorize(struct op *o, const struct vt_kms_key *key, const char *action,
                      const struct vt_kms_context *ctx, const char *algorithm)
{
    bool allowed = false;
    if (!allowed_by(o, key, action, ctx, algorithm, NULL, &allowed)) {
        return false;
    }
    if (!allowed) {
        return vt_kms_fail(o->e, VT_KMS_EXC_ACCESS_DENIED,
                           "User: %s is not authorized to perform: %s on resource: %s because no "
                           "statement of the key policy allows it (or one denies it)",
                           o->c->caller->principal, action, key->arn);
    }
    return true;
}

/* Operations on no key resource (docs/kms.md, "Authorization"). */
static bool admin_only(struct op *o, const char *action)
{
    if (!o->c->caller->admin) {
        return vt_kms_fail(o->e, VT_KMS_EXC_ACCESS_DENIED,
                           "User: %s is not authorized to perform: %s: only access keys created "
                           "with --admin may (veritee kms access-key create --admin)",
                           o->c->caller->principal, action);
    }
    return true;
}

/* ---- states and values ---- */

static bool pending(const struct vt_kms_key *key)
{
    return strcmp(key->state, "PendingDeletion") == 0;
}

static bool not_pending(struct op *o, const struct vt_kms_key *key)
{
    return pending(key)
               ? vt_kms_fail(o->e, VT_KMS_EXC_INVALID_STATE, "%s is pending deletion.", key->arn)
               : true;
}

/* Usable for cryptographic operations: Enabled. */
static bool usable(struct op *o, const struct vt_kms_key *key)
{
    if (!not_pending(o, key)) {
        return false;
    }
    if (strcmp(key->state, "Enabled") != 0) {
        return vt_kms_fail(o->e, VT_KMS_EXC_DISABLED, "%s is disabled.", key->arn);
    }
    if (strcmp(key->key_usage, ENCRYPT_DECRYPT) != 0) {
        return vt_kms_fail(o->e, VT_KMS_EXC_INVALID_KEY_USAGE,
                           "%s key usage is %s which is not valid for this operation.", key->arn,
                           key->key_usage);
    }
    return true;
}

/* An EncryptionAlgorithm member: SYMMETRIC_DEFAULT (the other values KMS knows are for
 * asymmetric keys, which this service does not have). */
static bool algorithm_ok(struct op *o, enum vt_kms_field f, const struct vt_kms_key *key)
{
    const char *a = arg(o, f);
    if (a == NULL || strcmp(a, SYMMETRIC) == 0) {
        return true;
    }
    static const char *const others[] = {"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        if (strcmp(a, others[i]) == 0) {
            return vt_kms_fail(o->e, VT_KMS_EXC_INVALID_KEY_USAGE,
                               "%s is not a valid encryption algorithm for key %s (%s)", a,
                               key ? key->arn : "", SYMMETRIC);
        }
    }
    return vt_kms_fail(o->e, VT_KMS_EXC_VALIDATION,
                       "1 validation error detected: Value at '%s' failed to satisfy constraint: "
                       "Member must satisfy enum value set: [SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, "
                       "RSAES_OAEP_SHA_256, SM2PKE]",
                       f == VT_KMS_F_ENCRYPTION_ALGORITHM ? "encryptionAlgorithm"
                       : f == VT_KMS_F_SOURCE_ENCRYPTION_ALGORITHM
                           ? "sourceEncryptionAlgorithm"
                           : "destinationEncryptionAlgorithm");
}

static bool no_grants(struct op *o)
{
    if (has(o, VT_KMS_F_GRANT_TOKENS) && o->in->n_list[VT_KMS_F_GRANT_TOKENS] > 0) {
        return vt_kms_fail(o->e, VT_KMS_EXC_INVALID_GRANT_TOKEN,
                           "This service has no grants: GrantTokens must be empty");
    }
    if (has(o, VT_KMS_F_DRY_RUN_MODIFIERS) && o->in->n_list[VT_KMS_F_DRY_RUN_MODIFIERS] > 0) {
        return vt_kms_fail(o->e, VT_KMS_EXC_UNSUPPORTED_OPERATION,
                           "DryRunModifiers are not supported by this service");
    }
    return true;
}

/* After every check, before any change: DryRun ends the call here, as KMS does. */
static bool dry_run(struct op *o)
{
    if (has(o, VT_KMS_F_DRY_RUN) && o->in->b[VT_KMS_F_DRY_RUN]) {
        return vt_kms_fail(o->e, VT_KMS_EXC_DRY_RUN,
                           "The request would have succeeded, but the DryRun option is set.");
    }
    return true;
}

/* The Recipient member, verified (o->rcp). */
static bool recipient(struct op *o)
{
    if (!has(o, VT_KMS_F_RECIPIENT)) {
        return true;
    }
    o->rcp_presented = true;
    if (!vt_kms_recipient_verify(o->k, o->in->recipient_alg, o->in->attestation,
                                 o->in->attestation_len, &o->rcp, o->e)) {
        return false;
    }
    o->have_rcp = true;
    return true;
}

/* Rotation is lazy: a key whose next rotation date has passed gets its new version when it is
 * next used to encrypt. A concurrent rotation by another request or replica is fine. */
static bool maybe_rotate(struct op *o, struct vt_kms_key *key)
{
    vt_time now = vt_kms_now(o->k);
    if (!key->rotation_enabled || key->next_rotation == 0 || key->next_rotation > now) {
        return true;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    uint32_t v = 0;
    int64_t next = now + key->rotation_period * DAY;
    if (vt_kms_key_rotate(o->k, key->key_id, false, next, &v, &d) != VT_OK) {
        fprintf(stderr, "veritee-kms: automatic rotation of %s: %s (the key is read again)\n",
                key->arn, d.detail);
    }
    char id[VT_KMS_UUID_LEN + 1];
    snprintf(id, sizeof(id), "%s", key->key_id);
    vt_kms_key_cleanup(key);
    return load_key(o, id, key);
}

/* ---- responses ---- */

static int set_b64(json_t *o, const char *name, const uint8_t *p, size_t n)
{
    char *s = vt_base64_alloc(p, n, false);
    int rc = s != NULL ? json_object_set_new(o, name, json_string(s)) : -1;
    if (s != NULL) {
        vt_wipe(s, strlen(s));
        free(s);
    }
    return rc;
}

static bool reply(struct op *o, json_t *out)
{
    if (out == NULL) {
        return vt_kms_fail(o->e, VT_KMS_EXC_INTERNAL, "cannot encode the response");
    }
    o->out = out;
    return true;
}

static json_t *key_metadata(const struct vt_kms_key *key)
{
    json_t *m = json_pack(
        "{s:s,s:s,s:s,s:I,s:b,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:[s],s:b}", "AWSAccountId", key->account,
        "KeyId", key->key_id, "Arn", key->arn, "CreationDate", (json_int_t)key->created, "Enabled",
        strcmp(key->state, "Enabled") == 0, "Description", key->description ? key->description : "",
        "KeyUsage", key->key_usage, "KeyState", key->state, "Origin", "AWS_KMS", "KeyManager",
        "CUSTOMER", "CustomerMasterKeySpec", key->key_spec, "KeySpec", key->key_spec,
        "EncryptionAlgorithms", SYMMETRIC, "MultiRegion", false);
    if (m != NULL && pending(key)) {
        json_object_set_new(m, "DeletionDate", json_integer(key->deletion_date));
        json_object_set_new(m, "PendingDeletionWindowInDays", json_integer(key->pending_window));
    }
    return m;
}

static json_t *empty(void)
{
    return json_object();
}

/* ---- CreateKey and the key's metadata ---- */

static bool default_policy(const struct vt_kms *k, char *out, size_t cap)
{
    /* AWS's default key policy: the account (its root) may do everything with the key. Here the
     * account root stands for every principal of the account (docs/kms.md, "Key policies"). */
    int n = snprintf(out, cap,
                     "{\"Version\":\"2012-10-17\",\"Id\":\"key-default-1\",\"Statement\":[{\"Sid\":"
                     "\"Enable IAM User Permissions\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
                     "\"arn:aws:iam::%s:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}",
                     k->account);
    return n > 0 && (size_t)n < cap;
}

/* A policy given by the caller: it must parse (MalformedPolicyDocumentException naming the
 * statement and field otherwise), and unless the lockout check is bypassed it must let the
 * caller change it again (KMS's "policy lockout safety check"). */
static bool policy_acceptable(struct op *o, const struct vt_kms_key *key, const char *policy)
{
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_kms_policy *p = NULL;
    if (vt_kms_policy_parse(policy, strlen(policy), &p, &d) != VT_OK) {
        return vt_kms_fail(o->e, VT_KMS_EXC_MALFORMED_POLICY, "%s: %s", d.check, d.detail);
    }
    vt_kms_policy_free(p);
    if (has(o, VT_KMS_F_BYPASS_POLICY_LOCKOUT_SAFETY_CHECK) &&
        o->in->b[VT_KMS_F_BYPASS_POLICY_LOCKOUT_SAFETY_CHECK]) {
        return true;
    }
    bool allowed = false;
    if (!allowed_by(o, key, "kms:PutKeyPolicy", NULL, NULL, policy, &allowed)) {
        return false;
    }
    if (!allowed) {
        return vt_kms_fail(o->e, VT_KMS_EXC_MALFORMED_POLICY,
                           "The new key policy will not allow you to update the key policy in the "
                           "future (it does not allow %s kms:PutKeyPolicy; set "
                           "BypassPolicyLockoutSafetyCheck to put it anyway)",
                           o->c->caller->principal);
    }
    return true;
}

static bool enum_member(struct op *o, const char *camel, const char *value,
                        const char *const *valid, size_t n, const char *list)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(value, valid[i]) == 0) {
            return true;
        }
    }
    return vt_kms_fail(o->e, VT_KMS_EXC_VALIDATION,
                       "1 validation error detected: Value at '%s' failed to satisfy constraint: "
                       "Member must satisfy enum value set: [%s]",
                       camel, list);
}

static bool op_create_key(struct op *o)
{
    if (!admin_only(o, "kms:CreateKey")) {
        return false;
    }
    if (has(o, VT_KMS_F_TAGS) && o->in->n_list[VT_KMS_F_TAGS] > 0) {
        return vt_kms_fail(o->e, VT_KMS_EXC_TAG, "Tags are not supported by this service");
    }
    if (has(o, VT_KMS_F_MULTI_REGION) && o->in->b[VT_KMS_F_MULTI_REGION]) {
        return vt_kms_fail(o->e, VT_KMS_EXC_UNSUPPORTED_OPERATION,
                           "Multi-Region keys are not supported by this service");
    }
    if (has(o, VT_KMS_F_CUSTOM_KEY_STORE_ID) || has(o, VT_KMS_F_XKS_KEY_ID)) {
        return vt_kms_fail(o->e, VT_KMS_EXC_UNSUPPORTED_OPERATION,
                           "Custom key stores are not supported by this service");
    }
    const char *origin = arg(o, VT_KMS_F_ORIGIN);
    static const char *const origins[] = {"AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM",
                                          "EXTERNAL_KEY_STORE"};
    if (origin != NULL && !enum_member(o, "origin", origin, origins, 4,
                                       "AWS_KMS, EXTERNAL, AWS_CLOUDHSM, EXTERNAL_KEY_STORE")) {
        return false;
    }
    if (origin != NULL && strcmp(origin, "AWS_KMS") != 0) {
        return vt_kms_fail(o->e, VT_KMS_EXC_UNSUPPORTED_OPERATION,
                           "Origin %s is not supported by this service (only AWS_KMS)", origin);
    }
    const char *spec = arg(o, VT_KMS_F_KEY_SPEC);
    const char *cmk = arg(o, VT_KMS_F_CUSTOMER_MASTER_KEY_SPEC);
    if (spec != NULL && cmk != NULL) {
        return vt_kms_fail(o->e, VT_KMS_EXC_VALIDATION,
                           "You cannot specify KeySpec and CustomerMasterKeySpec in the same "
                           "request. CustomerMasterKeySpec parameter is deprecated. Use KeySpec "
                           "only.");
    }
    spec = spec != NULL ? spec : cmk != NULL ? cmk : SYMMETRIC;
    static const char *const specs[] = {SYMMETRIC,
                                        "RSA_2048",
                                        "RSA_3072",
                                        "RSA_4096",
                                        "ECC_NIST_P256",
                                        "ECC_NIST_P384",
                                        "ECC_NIST_P521",
                                        "ECC_SECG_P256K1",
                                        "HMAC_224",
                                        "HMAC_256",
                                        "HMAC_384",
                                        "HMAC_512",
                                        "SM2",
                                        "ML_DSA_44",
                                        "ML_DSA_65",
                                        "ML_DSA_87",
                                        "ECC_NIST_EDWARDS25519"};
    if (!enum_member(o, spec == cmk ? "customerMasterKeySpec" : "keySpec", spec, specs,
                     sizeof(specs) / sizeof(specs[0]),
                     "SYMMETRIC_DEFAULT, RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, "
                     "ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1, HMAC_224, HMAC_256, HMAC_384, "
                     "HMAC_512, SM2, ML_DSA_44, ML_DSA_65, ML_DSA_87, ECC_NIST_EDWARDS25519")) {
        return false;
    }
    if (strcmp(spec, SYMMETRIC) != 0) {
        return vt_kms_fail(o->e, VT_KMS_EXC_UNSUPPORTED_OPERATION,
                           "KeySpec %s is not supported by this service (only SYMMETRIC_DEFAULT)",
                           spec);
    }
    const char *usage = arg(o, VT_KMS_F_KEY_USAGE);
    static const char *const usages[] = {"SIGN_VERIFY", ENCRYPT_DECRYPT, "GENERATE_VERIFY_MAC",
                                         "KEY_AGREEMENT"};
    if (usage != NULL &&
        !enum_member(o, "keyUsage", usage, usages, 4,
                     "SIGN_VERIFY, ENCRYPT_DECRYPT, GENERATE_VERIFY_MAC, KEY_AGREEMENT")) {
        return false;
    }
    if (usage != NULL && strcmp(usage, ENCRYPT_DECRYPT) != 0) {
        return vt_kms_fail(o->e, VT_KMS_EXC_VALIDATION,
                           "KeyUsage %s is not compatible with KeySpec SYMMETRIC_DEFAULT", usage);
    }
    struct vt_kms_key *key = &o->key;
    memset(key, 0, sizeof(*key));
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_kms_uuid_new(key->key_id, &d) != VT_OK) {
        return internal(o, &d);
    }
    key_arn(o->k, key->key_id, key->arn);
    snprintf(key->key_spec, sizeof(key->key_spec), "%s", SYMMETRIC);
    snprintf(key->key_usage, sizeof(key->key_usage), "%s", ENCRYPT_DECRYPT);
    const char *desc = arg(o, VT_KMS_F_DESCRIPTION);
    key->description = strdup(desc ? desc : "");
    char def[512];
    const char *policy = arg(o, VT_KMS_F_POLICY);
    if (key->description == NULL || (policy == NULL && !default_policy(o->k, def, sizeof(def)))) {
        return vt_kms_fail(o->e, VT_KMS_EXC_INTERNAL, "out of memory");
    }
    if (policy != NULL && !policy_acceptable(o, key, policy)) {
        return false;
    }
    if (vt_kms_key_create(o->k, key, policy ? policy : def, &d) != VT_OK) {
        return internal(o, &d);
    }
    o->have_key = true;
    o->version = 1;
    return reply(o, json_pack("{s:o}", "KeyMetadata", key_metadata(key)));
}

static bool op_describe_key(struct op *o)
{
    if (!no_grants(o) || !resolve_main(o, VT_KMS_F_KEY_ID, true) ||
        !authorize(o, &o->key, "kms:DescribeKey", NULL, NULL)) {
        return false;
    }
    return reply(o, json_pack("{s:o}", "KeyMetadata", key_metadata(&o->key)));
}

static bool op_update_key_description(struct op *o)
{
    if (!resolve_main(o, VT_KMS_F_KEY_ID, false) ||
        !authorize(o, &o->key, "kms:UpdateKeyDescription", NULL, NULL) ||
        !not_pending(o, &o->key)) {
        return false;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_kms_key_set_description(o->k, o->key.key_id, arg(o, VT_KMS_F_DESCRIPTION), &d) !=
        VT_OK) {
        return internal(o, &d);
    }
    return reply(o, empty());
}

/* ---- lists ---- */

struct list_ctx {
    const struct vt_kms *k;
    json_t *items;
    int64_t limit; /* rows wanted; one more is read to know whether the list is truncated */
    int64_t seen;
    char last[VT_KMS_ALIAS_MAX + 1];
    bool aliases;
};

static bool row_list(void *ctx, const struct vt_sql_row *row)
{
    struct list_ctx *l = ctx;
    if (++l->seen > l->limit) {
        return false;
    }
    snprintf(l->last, sizeof(l->last), "%s", vt_row_text(row, 0));
    json_t *item;
    if (l->aliases) {
        char arn[VT_KMS_ARN_MAX];
        alias_arn(l->k, vt_row_text(row, 0), arn, sizeof(arn));
        item = json_pack("{s:s,s:s,s:s,s:I,s:I}", "AliasName", vt_row_text(row, 0), "AliasArn", arn,
                         "TargetKeyId", vt_row_text(row, 1), "CreationDate",
                         (json_int_t)vt_row_int(row, 2), "LastUpdatedDate",
                         (json_int_t)vt_row_int(row, 3));
    } else {
        item = json_pack("{s:s,s:s}", "KeyId", vt_row_text(row, 0), "KeyArn", vt_row_text(row, 1));
    }
    return item != NULL && json_array_append_new(l->items, item) == 0;
}

static bool list_reply(struct op *o, struct list_ctx *l, const char *name)
{
    bool truncated = l->seen > l->limit;
    json_t *out = json_pack("{s:o,s:b}", name, l->items, "Truncated", truncated);
    l->items = NULL;
    if (out != NULL && truncated) {
        json_object_set_new(out, "NextMarker", json_string(l->last));
    }
    return reply(o, out);
}

static bool limit_of(struct op *o, int64_t def, int64_t max, int64_t *limit)
{
    *limit = has(o, VT_KMS_F_LIMIT) ? o->in->i[VT_KMS_F_LIMIT] : def;
    if (*limit > max) {
        return vt_kms_fail(o->e, VT_KMS_EXC_VALIDATION,
                           "1 validation error detected: Value '%" PRId64 "' at 'limit' failed to "
                           "satisfy constraint: Member must have value less than or equal to "
                           "%" PRId64,
                           *limit, max);
    }
    return true;
}

static bool op_list_keys(struct op *o)
{
    int64_t limit = 0;
    if (!admin_only(o, "kms:ListKeys") || !limit_of(o, 100, 1000, &limit)) {
        return false;
    }
    const char *marker = arg(o, VT_KMS_F_MARKER);
    uint8_t raw[16];
    if (marker != NULL && !vt_kms_uuid_parse(marker, raw)) {
        return vt_kms_fail(o->e, VT_KMS_EXC_INVALID_MARKER,
                           "The marker is not one this service returned (NextMarker)");
    }
    struct list_ctx l = {o->k, json_array(), limit, 0, "", false};
    struct vt_diag d;
    vt_diag_init(&d);
    if (l.items == NULL ||
        vt_kms_keys_list(o->k, marker ? marker : "", limit + 1, row_list, &l, &d) != VT_OK) {
        json_decref(l.items);
        return l.items ? internal(o, &d) : vt_kms_fail(o->e, VT_KMS_EXC_INTERNAL, "no memory");
    }
    return list_reply(o, &l, "Keys");
}

static bool op_list_aliases(struct op *o)
{
    int64_t limit = 0;
    if (!limit_of(o, 50, 100, &limit)) {
        return false;
    }
    const char *marker = arg(o, VT_KMS_F_MARKER);
    struct vt_kms_error ignored;
    if (marker != NULL && !vt_kms_alias_check(marker, &ignored)) {
        return vt_kms_fail(o->e, VT_KMS_EXC_INVALID_MARKER,
                           "The marker is not one this service returned (NextMarker)");
    }
    if (has(o, VT_KMS_F_KEY_ID)) {
        if (!resolve_main(o, VT_KMS_F_KEY_ID, false) ||
            !authorize(o, &o->key, "kms:ListAliases", NULL, NULL)) {
            return false;
        }
    } else if (!admin_only(o, "kms:ListAliases")) {
        return false;
    }
    struct list_ctx l = {o->k, json_array(), limit, 0, "", true};
    struct vt_diag d;
    vt_diag_init(&d);
    if (l.items == NULL ||
        vt_kms_aliases_list(o->k, o->have_key ? o->key.key_id : NULL, marker ? marker : "",
                            limit + 1, row_list, &l, &d) != VT_OK) {
        json_decref(l.items);
        return l.items ? internal(o, &d) : vt_kms_fail(o->e, VT_KMS_EXC_INTERNAL, "no memory");
    }
    return list_reply(o, &l, "Aliases");
}

/* ---- aliases ---- */

static bool op_create_alias(struct op *o)
{
    const char *alias = arg(o, VT_KMS_F_ALIAS_NAME);
    if (!vt_kms_alias_check(alias, o->e) || !resolve_main(o, VT_KMS_F_TARGET_KEY_ID, false) ||
        !authorize(o, &o->key, "kms:CreateAlias", NULL, NULL) || !not_pending(o, &o->key)) {
        return false;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_kms_alias_create(o->k, alias, o->key.key_id, &d);
    if (err == VT_E_DUPLICATE) {
        char arn[VT_KMS_ARN_MAX];
        alias_arn(o->k, alias, arn, sizeof(arn));
        return vt_kms_fail(o->e, VT_KMS_EXC_ALREADY_EXISTS,
                           "An alias with the name %s already exists", arn);
    }
    return err == VT_OK ? reply(o, empty()) : internal(o, &d);
}

/* The key an existing alias points to (o->key). */
static bool alias_key(struct op *o, const char *alias, struct vt_kms_key *key)
{
    if (!vt_kms_alias_check(alias, o->e)) {
        return false;
    }
    char key_id[VT_KMS_UUID_LEN + 1];
    bool found = false;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_kms_alias_target(o->k, alias, key_id, &found, &d) != VT_OK) {
        return internal(o, &d);
    }
    if (!found) {
        char arn[VT_KMS_ARN_MAX];
        alias_arn(o->k, alias, arn, sizeof(arn));
        return vt_kms_fail(o->e, VT_KMS_EXC_NOT_FOUND, "Alias %s is not found.", arn);
    }
    return load_key(o, key_id, key);
}

static bool op_delete_alias(struct op *o)
{
    const char *alias = arg(o, VT_KMS_F_ALIAS_NAME);
    if (!alias_key(o, alias, &o->key)) {
        return false;
    }
    o->have_key = true;
    if (!authorize(o, &o->key, "kms:DeleteAlias", NULL, NULL)) {
        return false;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_kms_alias_delete(o->k, alias, &d);
    if (err == VT_E_NOT_FOUND) {
        char arn[VT_KMS_ARN_MAX];
        alias_arn(o->k, alias, arn, sizeof(arn));
        return vt_kms_fail(o->e, VT_KMS_EXC_NOT_FOUND, "Alias %s is not found.", arn);
    }
    return err == VT_OK ? reply(o, empty()) : internal(o, &d);
}

static bool op_update_alias(struct op *o)
{
    const char *alias = arg(o, VT_KMS_F_ALIAS_NAME);
    struct vt_kms_key old = {0};
    bool ok = alias_key(o, alias, &old) && resolve_main(o, VT_KMS_F_TARGET_KEY_ID, false) &&
              authorize(o, &old, "kms:UpdateAlias", NULL, NULL) &&
              authorize(o, &o->key, "kms:UpdateAlias", NULL, NULL) && not_pending(o, &o->key);
    if (ok && (strcmp(old.key_spec, o->key.key_spec) != 0 ||
               strcmp(old.key_usage, o->key.key_usage) != 0)) {
        ok = vt_kms_fail(o->e, VT_KMS_EXC_VALIDATION,
                         "The alias may only point to a key of the same key spec and usage");
    }
    vt_kms_key_cleanup(&old);
    if (!ok) {
        return false;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_kms_alias_update(o->k, alias, o->key.key_id, &d) != VT_OK) {
        return d.code == VT_E_NOT_FOUND
                   ? vt_kms_fail(o->e, VT_KMS_EXC_NOT_FOUND, "Alias %s is not found.", alias)
                   : internal(o, &d);
    }
    return reply(o, empty());
}

/* ---- key states ---- */

static bool set_state(struct op *o, const char *state, int64_t deletion, int64_t window)
{
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_kms_key_set_state(o->k, o->key.key_id, state, deletion, window, &d) != VT_OK) {
        return internal(o, &d);
    }
    snprintf(o->key.state, sizeof(o->key.state), "%s", state);
    o->key.deletion_date = deletion;
    o->key.pending_window = window;
    return true;
}

static bool op_enable_disable(struct op *o, bool enable)
{
    if (!resolve_main(o, VT_KMS_F_KEY_ID, false) ||
        !authorize(o, &o->key, enable ? "kms:EnableKey" : "kms:DisableKey", NULL, NULL) ||
        !not_pending(o, &o->key) || !set_state(o, enable ? "Enabled" : "Disabled", 0, 0)) {
        return false;
    }
    return reply(o, empty());
}

static bool op_schedule_key_deletion(struct op *o)
{
    int64_t days =
        has(o, VT_KMS_F_PENDING_WINDOW_IN_DAYS) ? o->in->i[VT_KMS_F_PENDING_WINDOW_IN_DAYS] : 30;
    if (days < 7 || days > 30) {
        return vt_kms_fail(o->e, VT_KMS_EXC_VALIDATION,
                           "PendingWindowInDays must be between 7 and 30 (got %" PRId64 ")", days);
    }
    if (!resolve_main(o, VT_KMS_F_KEY_ID, false) ||
        !authorize(o, &o->key, "kms:ScheduleKeyDeletion", NULL, NULL) || !not_pending(o, &o->key)) {
        return false;
    }
    int64_t when = vt_kms_now(o->k) + days * DAY;
    if (!set_state(o, "PendingDeletion", when, days)) {
        return false;
    }
    return reply(o, json_pack("{s:s,s:I,s:s,s:I}", "KeyId", o->key.arn, "DeletionDate",
                              (json_int_t)when, "KeyState", "PendingDeletion",
                              "PendingWindowInDays", (json_int_t)days));
}

static bool op_cancel_key_deletion(struct op *o)
{
    if (!resolve_main(o, VT_KMS_F_KEY_ID, false) ||
        !authorize(o, &o->key, "kms:CancelKeyDeletion", NULL, NULL)) {
        return false;
    }
    if (!pending(&o->key)) {
        return vt_kms_fail(o->e, VT_KMS_EXC_INVALID_STATE, "%s is not pending deletion.",
                           o->key.arn);
    }
    /* as in KMS, a key whose deletion is cancelled is Disabled */
    if (!set_state(o, "Disabled", 0, 0)) {
        return false;
    }
    return reply(o, json_pack("{s:s}", "KeyId", o->key.arn));
}

/* ---- key policies ---- */

static bool policy_name_ok(struct op *o)
{
    const char *name = arg(o, VT_KMS_F_POLICY_NAME);
    if (name != NULL && strcmp(name, "default") != 0) {
        return vt_kms_fail(o->e, VT_KMS_EXC_NOT_FOUND,
                           "No such policy exists: %.128s (a key's only policy is named default)",
                           name);
    }
    return true;
}

static bool op_get_key_policy(struct op *o)
{
    if (!resolve_main(o, VT_KMS_F_KEY_ID, false) || !policy_name_ok(o) ||
        !authorize(o, &o->key, "kms:GetKeyPolicy", NULL, NULL)) {
        return false;
    }
    char *policy = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_kms_policy_get(o->k, o->key.key_id, &policy, &d) != VT_OK) {
        return internal(o, &d);
    }
    json_t *out = json_pack("{s:s,s:s}", "Policy", policy, "PolicyName", "default");
    free(policy);
    return reply(o, out);
}

static bool op_put_key_policy(struct op *o)
{
    const char *policy = arg(o, VT_KMS_F_POLICY);
    if (!resolve_main(o, VT_KMS_F_KEY_ID, false) || !policy_name_ok(o) ||
        !authorize(o, &o->key, "kms:PutKeyPolicy", NULL, NULL) ||
        !policy_acceptable(o, &o->key, policy)) {
        return false;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_kms_policy_put(o->k, o->key.key_id, policy, &d) != VT_OK) {
        return internal(o, &d);
    }
    return reply(o, empty());
}

static bool op_list_key_policies(struct op *o)
{
    if (!resolve_main(o, VT_KMS_F_KEY_ID, false) ||
        !authorize(o, &o->key, "kms:ListKeyPolicies", NULL, NULL)) {
        return false;
    }
    return reply(o, json_pack("{s:[s],s:b}", "PolicyNames", "default", "Truncated", false));
}

/* ---- cryptography ---- */

/* Seal pt under key's current version (after a due rotation), binding ctx. */
static bool seal(struct op *o, struct vt_kms_key *key, const struct vt_kms_context *ctx,
                 const uint8_t *pt, size_t n, struct vt_buf *blob)
{
    if (!maybe_rotate(o, key)) {
        return false;
    }
    uint8_t material[32], id[16];
    struct vt_diag d;
    vt_diag_init(&d);
    bool ok = vt_kms_uuid_parse(key->key_id, id) &&
              vt_kms_material(o->k, key->key_id, key->version, material, &d) == VT_OK &&
              vt_kms_blob_seal(material, id, key->version, ctx, pt, n, blob, &d) == VT_OK;
    vt_wipe(material, sizeof(material));
    o->version = key->version;
    return ok ? true : internal(o, &d);
}

/* A ciphertext blob and the key it names (into *key): InvalidCiphertextException for bytes
 * that are no blob of this service, NotFoundException when its key no longer exists,
 * IncorrectKeyException when the request names another key (key_field). */
static bool blob_key(struct op *o, struct vt_kms_blob *b, enum vt_kms_field key_field,
                     struct vt_kms_key *key)
{
    struct vt_diag d;
    vt_diag_init(&d);
    const struct vt_kms_input *in = o->in;
    if (vt_kms_blob_parse(in->blob[VT_KMS_F_CIPHERTEXT_BLOB],
                          in->blob_len[VT_KMS_F_CIPHERTEXT_BLOB], b, &d) != VT_OK) {
        return vt_kms_fail(o->e, VT_KMS_EXC_INVALID_CIPHERTEXT,
                           "The ciphertext is not a ciphertext blob of this service (%s)", d.check);
    }
    char key_id[VT_KMS_UUID_LEN + 1];
    vt_kms_uuid_format(b->key_id, key_id);
    if (has(o, key_field)) {
        if (!resolve(o, arg(o, key_field), true, key)) {
            return false;
        }
        if (strcmp(key->key_id, key_id) != 0) {
            return vt_kms_fail(o->e, VT_KMS_EXC_INCORRECT_KEY,
                               "The key ID in the request does not identify a KMS key that can "
                               "perform this operation: the ciphertext was encrypted under "
                               "another key");
        }
        return true;
    }
    return load_key(o, key_id, key);
}

/* Open a parsed blob with key (its version's material) and ctx. */
static bool open_blob(struct op *o, const struct vt_kms_key *key, const struct vt_kms_blob *b,
                      const struct vt_kms_context *ctx, struct vt_buf *pt)
{
    uint8_t material[32];
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_kms_material(o->k, key->key_id, b->version, material, &d);
    if (err == VT_E_NOT_FOUND) {
        return vt_kms_fail(o->e, VT_KMS_EXC_INVALID_CIPHERTEXT,
                           "The ciphertext names a key version that does not exist");
    }
    if (err != VT_OK) {
        return internal(o, &d);
    }
    err = vt_kms_blob_open(material, b, ctx, pt, &d);
    vt_wipe(material, sizeof(material));
    if (err != VT_OK) {
        /* the context, the key or the bytes: KMS does not say which, and neither do we */
        return vt_kms_fail(o->e, VT_KMS_EXC_INVALID_CIPHERTEXT,
                           "The ciphertext does not decrypt under its key with this encryption "
                           "context");
    }
    o->version = b->version;
    return true;
}

static const struct vt_kms_context *ctx_of(const struct op *o, enum vt_kms_field f)
{
    return vt_kms_input_context(o->in, f);
}

static bool op_encrypt(struct op *o)
{
    const struct vt_kms_context *ctx = ctx_of(o, VT_KMS_F_ENCRYPTION_CONTEXT);
    o->ctx = ctx;
    if (!no_grants(o) || !resolve_main(o, VT_KMS_F_KEY_ID, true) ||
        !authorize(o, &o->key, "kms:Encrypt", ctx, SYMMETRIC) || !usable(o, &o->key) ||
        !algorithm_ok(o, VT_KMS_F_ENCRYPTION_ALGORITHM, &o->key) || !dry_run(o)) {
        return false;
    }
    struct vt_buf blob;
    vt_buf_init(&blob, VT_KMS_CIPHERTEXT_MAX);
    bool ok = seal(o, &o->key, ctx, o->in->blob[VT_KMS_F_PLAINTEXT],
                   o->in->blob_len[VT_KMS_F_PLAINTEXT], &blob);
    json_t *out =
        ok ? json_pack("{s:s,s:s}", "KeyId", o->key.arn, "EncryptionAlgorithm", SYMMETRIC) : NULL;
    if (ok && (out == NULL || set_b64(out, "CiphertextBlob", blob.data, blob.len) != 0)) {
        json_decref(out);
        out = NULL;
    }
    vt_buf_cleanup(&blob);
    return ok && reply(o, out);
}

/* Plaintext (or, with a Recipient, CiphertextForRecipient) into out. */
static bool put_secret(struct op *o, json_t *out, const char *name, const uint8_t *p, size_t n)
{
    if (!o->have_rcp) {
        return set_b64(out, name, p, n) == 0
                   ? true
                   : vt_kms_fail(o->e, VT_KMS_EXC_INTERNAL, "cannot encode the response");
    }
    uint8_t *cms = NULL;
    size_t cms_len = 0;
    if (!vt_kms_recipient_wrap(&o->rcp, p, n, &cms, &cms_len, o->e)) {
        return false;
    }
    int rc = set_b64(out, "CiphertextForRecipient", cms, cms_len);
    free(cms);
    return rc == 0 ? true : vt_kms_fail(o->e, VT_KMS_EXC_INTERNAL, "cannot encode the response");
}

static bool op_decrypt(struct op *o)
{
    const struct vt_kms_context *ctx = ctx_of(o, VT_KMS_F_ENCRYPTION_CONTEXT);
    o->ctx = ctx;
    struct vt_kms_blob b;
    if (!no_grants(o) || !blob_key(o, &b, VT_KMS_F_KEY_ID, &o->key)) {
        return false;
    }
    o->have_key = true;
    if (!recipient(o) || !authorize(o, &o->key, "kms:Decrypt", ctx, SYMMETRIC) ||
        !usable(o, &o->key) || !algorithm_ok(o, VT_KMS_F_ENCRYPTION_ALGORITHM, &o->key) ||
        !dry_run(o)) {
        return false;
    }
    struct vt_buf pt;
    vt_buf_init(&pt, VT_KMS_PLAINTEXT_MAX);
    json_t *out = NULL;
    bool ok = open_blob(o, &o->key, &b, ctx, &pt) &&
              (out = json_pack("{s:s,s:s}", "KeyId", o->key.arn, "EncryptionAlgorithm",
                               SYMMETRIC)) != NULL &&
              put_secret(o, out, "Plaintext", pt.data, pt.len);
    vt_buf_cleanup(&pt);
    if (!ok) {
        json_decref(out);
        return o->e->type[0] ? false : vt_kms_fail(o->e, VT_KMS_EXC_INTERNAL, "no memory");
    }
    return reply(o, out);
}

static bool op_re_encrypt(struct op *o)
{
    const struct vt_kms_context *sctx = ctx_of(o, VT_KMS_F_SOURCE_ENCRYPTION_CONTEXT);
    const struct vt_kms_context *dctx = ctx_of(o, VT_KMS_F_DESTINATION_ENCRYPTION_CONTEXT);
    o->ctx = dctx;
    struct vt_kms_blob b;
    struct vt_kms_key src = {0};
    bool ok = no_grants(o) && blob_key(o, &b, VT_KMS_F_SOURCE_KEY_ID, &src) &&
              resolve_main(o, VT_KMS_F_DESTINATION_KEY_ID, true) &&
              authorize(o, &src, "kms:ReEncryptFrom", sctx, SYMMETRIC) &&
              authorize(o, &o->key, "kms:ReEncryptTo", dctx, SYMMETRIC) && usable(o, &src) &&
              usable(o, &o->key) && algorithm_ok(o, VT_KMS_F_SOURCE_ENCRYPTION_ALGORITHM, &src) &&
              algorithm_ok(o, VT_KMS_F_DESTINATION_ENCRYPTION_ALGORITHM, &o->key) && dry_run(o);
    struct vt_buf pt, blob;
    vt_buf_init(&pt, VT_KMS_PLAINTEXT_MAX);
    vt_buf_init(&blob, VT_KMS_CIPHERTEXT_MAX);
    ok = ok && open_blob(o, &src, &b, sctx, &pt) && seal(o, &o->key, dctx, pt.data, pt.len, &blob);
    json_t *out = NULL;
    if (ok) {
        out = json_pack("{s:s,s:s,s:s,s:s}", "SourceKeyId", src.arn, "KeyId", o->key.arn,
                        "SourceEncryptionAlgorithm", SYMMETRIC, "DestinationEncryptionAlgorithm",
                        SYMMETRIC);
        if (out == NULL || set_b64(out, "CiphertextBlob", blob.data, blob.len) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    vt_buf_cleanup(&pt);
    vt_buf_cleanup(&blob);
    vt_kms_key_cleanup(&src);
    return ok && reply(o, out);
}

/* GenerateDataKey's size: NumberOfBytes or KeySpec (AES_256, AES_128), exactly one. */
static bool data_key_size(struct op *o, size_t *n)
{
    bool bytes = has(o, VT_KMS_F_NUMBER_OF_BYTES), spec = has(o, VT_KMS_F_KEY_SPEC);
    if (bytes == spec) {
        return vt_kms_fail(o->e, VT_KMS_EXC_VALIDATION,
                           bytes ? "Please specify either number of bytes or key spec, not both."
                                 : "Please specify either number of bytes or key spec.");
    }
    if (bytes) {
        *n = (size_t)o->in->i[VT_KMS_F_NUMBER_OF_BYTES];
        return true;
    }
    const char *s = arg(o, VT_KMS_F_KEY_SPEC);
    static const char *const specs[] = {"AES_256", "AES_128"};
    if (!enum_member(o, "keySpec", s, specs, 2, "AES_256, AES_128")) {
        return false;
    }
    *n = strcmp(s, "AES_256") == 0 ? 32 : 16;
    return true;
}

static bool op_generate_data_key(struct op *o, bool with_plaintext)
{
    const struct vt_kms_context *ctx = ctx_of(o, VT_KMS_F_ENCRYPTION_CONTEXT);
    o->ctx = ctx;
    size_t n = 0;
    if (!no_grants(o) || !data_key_size(o, &n) || !resolve_main(o, VT_KMS_F_KEY_ID, true) ||
        !recipient(o) ||
        !authorize(o, &o->key,
                   with_plaintext ? "kms:GenerateDataKey" : "kms:GenerateDataKeyWithoutPlaintext",
                   ctx, SYMMETRIC) ||
        !usable(o, &o->key) || !dry_run(o)) {
        return false;
    }
    uint8_t key[VT_KMS_RANDOM_MAX];
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_random_bytes(key, n, &d) != VT_OK) {
        return internal(o, &d);
    }
    struct vt_buf blob;
    vt_buf_init(&blob, VT_KMS_CIPHERTEXT_MAX);
    json_t *out = NULL;
    bool ok = seal(o, &o->key, ctx, key, n, &blob) &&
              (out = json_pack("{s:s}", "KeyId", o->key.arn)) != NULL &&
              set_b64(out, "CiphertextBlob", blob.data, blob.len) == 0 &&
              (!with_plaintext || put_secret(o, out, "Plaintext", key, n));
    vt_wipe(key, sizeof(key));
    vt_buf_cleanup(&blob);
    if (!ok) {
        json_decref(out);
        return o->e->type[0] ? false : vt_kms_fail(o->e, VT_KMS_EXC_INTERNAL, "no memory");
    }
    return reply(o, out);
}

static bool op_generate_random(struct op *o)
{
    if (has(o, VT_KMS_F_CUSTOM_KEY_STORE_ID)) {
        return vt_kms_fail(o->e, VT_KMS_EXC_UNSUPPORTED_OPERATION,
                           "Custom key stores are not supported by this service");
    }
    if (!has(o, VT_KMS_F_NUMBER_OF_BYTES)) {
        return vt_kms_fail(o->e, VT_KMS_EXC_VALIDATION,
                           "1 validation error detected: Value null at 'numberOfBytes' failed to "
                           "satisfy constraint: Member must not be null");
    }
    if (!recipient(o)) {
        return false;
    }
    size_t n = (size_t)o->in->i[VT_KMS_F_NUMBER_OF_BYTES];
    uint8_t r[VT_KMS_RANDOM_MAX];
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_random_bytes(r, n, &d) != VT_OK) {
        return internal(o, &d);
    }
    json_t *out = json_object();
    bool ok = out != NULL && put_secret(o, out, "Plaintext", r, n);
    vt_wipe(r, sizeof(r));
    if (!ok) {
        json_decref(out);
        return o->e->type[0] ? false : vt_kms_fail(o->e, VT_KMS_EXC_INTERNAL, "no memory");
    }
    return reply(o, out);
}

/* ---- rotation ---- */

/* Rotation needs an Enabled key (DisabledException, KMSInvalidStateException otherwise). */
static bool rotatable(struct op *o, const char *action)
{
    return resolve_main(o, VT_KMS_F_KEY_ID, false) && authorize(o, &o->key, action, NULL, NULL) &&
           usable(o, &o->key);
}

static bool op_enable_key_rotation(struct op *o)
{
    if (!rotatable(o, "kms:EnableKeyRotation")) {
        return false;
    }
    int64_t period =
        has(o, VT_KMS_F_ROTATION_PERIOD_IN_DAYS) ? o->in->i[VT_KMS_F_ROTATION_PERIOD_IN_DAYS] : 365;
    int64_t next = o->key.rotation_enabled && o->key.rotation_period == period
                       ? o->key.next_rotation
                       : vt_kms_now(o->k) + period * DAY;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_kms_key_set_rotation(o->k, o->key.key_id, true, period, next, &d) != VT_OK) {
        return internal(o, &d);
    }
    return reply(o, empty());
}

static bool op_disable_key_rotation(struct op *o)
{
    if (!rotatable(o, "kms:DisableKeyRotation")) {
        return false;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_kms_key_set_rotation(o->k, o->key.key_id, false, 0, 0, &d) != VT_OK) {
        return internal(o, &d);
    }
    return reply(o, empty());
}

static bool op_get_key_rotation_status(struct op *o)
{
    if (!resolve_main(o, VT_KMS_F_KEY_ID, false) ||
        !authorize(o, &o->key, "kms:GetKeyRotationStatus", NULL, NULL)) {
        return false;
    }
    json_t *out =
        json_pack("{s:b,s:s}", "KeyRotationEnabled", o->key.rotation_enabled, "KeyId", o->key.arn);
    if (out != NULL && o->key.rotation_enabled) {
        json_object_set_new(out, "RotationPeriodInDays", json_integer(o->key.rotation_period));
        json_object_set_new(out, "NextRotationDate", json_integer(o->key.next_rotation));
    }
    return reply(o, out);
}

static bool op_rotate_key_on_demand(struct op *o)
{
    if (!rotatable(o, "kms:RotateKeyOnDemand")) {
        return false;
    }
    if (o->key.on_demand >= VT_KMS_ON_DEMAND_MAX) {
        return vt_kms_fail(o->e, VT_KMS_EXC_LIMIT_EXCEEDED,
                           "%s has had the %d on-demand rotations a key may have", o->key.arn,
                           VT_KMS_ON_DEMAND_MAX);
    }
    struct vt_diag d;
    vt_diag_init(&d);
    uint32_t v = 0;
    if (vt_kms_key_rotate(o->k, o->key.key_id, true, 0, &v, &d) != VT_OK) {
        return internal(o, &d);
    }
    o->version = v;
    return reply(o, json_pack("{s:s}", "KeyId", o->key.arn));
}

/* ---- the call ---- */

static bool dispatch(struct op *o)
{
    switch (o->in->op) {
    case VT_KMS_OP_CREATE_KEY:
        return op_create_key(o);
    case VT_KMS_OP_DESCRIBE_KEY:
        return op_describe_key(o);
    case VT_KMS_OP_LIST_KEYS:
        return op_list_keys(o);
    case VT_KMS_OP_UPDATE_KEY_DESCRIPTION:
        return op_update_key_description(o);
    case VT_KMS_OP_CREATE_ALIAS:
        return op_create_alias(o);
    case VT_KMS_OP_LIST_ALIASES:
        return op_list_aliases(o);
    case VT_KMS_OP_DELETE_ALIAS:
        return op_delete_alias(o);
    case VT_KMS_OP_UPDATE_ALIAS:
        return op_update_alias(o);
    case VT_KMS_OP_ENABLE_KEY:
        return op_enable_disable(o, true);
    case VT_KMS_OP_DISABLE_KEY:
        return op_enable_disable(o, false);
    case VT_KMS_OP_SCHEDULE_KEY_DELETION:
        return op_schedule_key_deletion(o);
    case VT_KMS_OP_CANCEL_KEY_DELETION:
        return op_cancel_key_deletion(o);
    case VT_KMS_OP_GET_KEY_POLICY:
        return op_get_key_policy(o);
    case VT_KMS_OP_PUT_KEY_POLICY:
        return op_put_key_policy(o);
    case VT_KMS_OP_LIST_KEY_POLICIES:
        return op_list_key_policies(o);
    case VT_KMS_OP_ENCRYPT:
        return op_encrypt(o);
    case VT_KMS_OP_DECRYPT:
        return op_decrypt(o);
    case VT_KMS_OP_RE_ENCRYPT:
        return op_re_encrypt(o);
    case VT_KMS_OP_GENERATE_DATA_KEY:
        return op_generate_data_key(o, true);
    case VT_KMS_OP_GENERATE_DATA_KEY_WITHOUT_PLAINTEXT:
        return op_generate_data_key(o, false);
    case VT_KMS_OP_GENERATE_RANDOM:
        return op_generate_random(o);
    case VT_KMS_OP_ENABLE_KEY_ROTATION:
        return op_enable_key_rotation(o);
    case VT_KMS_OP_DISABLE_KEY_ROTATION:
        return op_disable_key_rotation(o);
    case VT_KMS_OP_GET_KEY_ROTATION_STATUS:
        return op_get_key_rotation_status(o);
    case VT_KMS_OP_ROTATE_KEY_ON_DEMAND:
        return op_rotate_key_on_demand(o);
    case VT_KMS_OP_COUNT:
        break;
    }
    return vt_kms_fail(o->e, VT_KMS_EXC_UNKNOWN_OPERATION, "Unknown operation");
}

bool vt_kms_call_run(struct vt_kms *k, struct vt_kms_call *c)
{
    c->out = NULL;
    c->receipt = NULL;
    c->receipt_kid[0] = '\0';
    memset(&c->err, 0, sizeof(c->err));
    struct op o = {.k = k, .c = c, .in = c->in, .e = &c->err};
    vt_kms_purge(k, false);
    bool ok = dispatch(&o);
    if (!ok && c->err.type[0] == '\0') {
        vt_kms_fail(&c->err, VT_KMS_EXC_INTERNAL, "the call failed without a reason");
    }
    struct vt_kms_audit a = {.op = c->in->op,
                             .caller = c->caller,
                             .request_id = c->request_id,
                             .key_arn = o.have_key ? o.key.arn : NULL,
                             .key_version = o.version,
                             .allowed = ok,
                             .error_type = ok ? NULL : c->err.type,
                             .reason = ok ? NULL : c->err.message,
                             .context = o.ctx,
                             .recipient = o.have_rcp || o.rcp_presented ? &o.rcp : NULL,
                             .explanation = o.explanation};
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_kms_audit_append(k, &a, o.have_rcp, &c->log_index, o.have_rcp ? &c->receipt : NULL,
                            c->receipt_kid, &d) != VT_OK) {
        /* no log entry, no answer: the call's result (a key, say) is not given out */
        fprintf(stderr, "veritee-kms: cannot log a %s call: %s: %s\n", vt_kms_op_name(c->in->op),
                d.check, d.detail);
        json_decref(o.out);
        o.out = NULL;
        ok = vt_kms_fail(&c->err, VT_KMS_EXC_INTERNAL,
                         "The call could not be recorded in the audit log; it was not completed");
    }
    c->out = ok ? o.out : NULL;
    if (!ok) {
        json_decref(o.out);
    }
    vt_kms_key_cleanup(&o.key);
    vt_kms_recipient_cleanup(&o.rcp);
    free(o.explanation);
    return ok;
}

void vt_kms_call_cleanup(struct vt_kms_call *c)
{
    json_decref(c->out);
    c->out = NULL;
    free(c->receipt);
    c->receipt = NULL;
}
