/*
 * AWS KMS key policies (src/kms/kms_policy.c, docs/kms.md "Key policies"): the Nitro Enclaves
 * attestation pattern AWS documents, a full key policy of the usual shape, every condition
 * operator and modifier both ways (present, absent, several values), principals, NotAction and
 * NotResource, the explanation, the request context's edges, and every refusal of the parser with
 * its exact code and check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "kms/kms_policy.h"

#define ACCT "111122223333"
#define XACCT "444455556666"
#define KEY_ARN "arn:aws:kms:us-east-1:" ACCT ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
#define OTHER_KEY_ARN "arn:aws:kms:us-east-1:" XACCT ":key/0987dcba-09ab-87cd-65ef-0987654321ba"

/* SHA-384 sized hex: PCR values of an enclave image and of another one. */
#define H16 "9fedcba8abcdef7a"
#define PCR_GOOD H16 H16 H16 H16 H16 H16
#define PCR_GOOD_UPPER                                                                             \
    "9FEDCBA8ABCDEF7A9FEDCBA8ABCDEF7A9FEDCBA8ABCDEF7A9FEDCBA8ABCDEF7A9FEDCBA8ABCDEF7A9FEDCBA8ABCD" \
    "EF7A"
#define H16B "0123456789abcdef"
#define PCR_OTHER H16B H16B H16B H16B H16B H16B

static struct vt_kms_policy *parse_ok(const char *json)
{
    struct vt_kms_policy *p = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_kms_policy_parse(json, strlen(json), &p, &d);
    if (err != VT_OK) {
        fail_msg("parse failed: %s at %s: %s\n%s", vt_err_name(err), d.check, d.detail, json);
    }
    assert_non_null(p);
    return p;
}

/* A request: up to 6 condition keys of up to 4 values each (n < 0: the entry has no values). */
struct kv {
    const char *name;
    const char *v[4];
    size_t n;
};

#define NOKEYS                                                                                     \
    {                                                                                              \
        {                                                                                          \
            NULL, {NULL}, 0                                                                        \
        }                                                                                          \
    }

struct req {
    const char *action, *principal, *account, *resource;
    struct kv keys[6];
};

/* Decide r with and without an explanation; both must agree, and the explanation must be JSON
 * whose decision is the result. *expl_out (if not NULL) receives the parsed explanation. */
static bool decide(const struct vt_kms_policy *p, const struct req *r, json_t **expl_out)
{
    struct vt_kms_ctx_key keys[6];
    size_t n = 0;
    for (; n < 6 && r->keys[n].name != NULL; n++) {
        keys[n].name = r->keys[n].name;
        keys[n].values = r->keys[n].v;
        keys[n].n_values = r->keys[n].n;
    }
    struct vt_kms_request_ctx ctx = {r->action, r->principal, r->account, r->resource, keys, n};
    char *text = (char *)&ctx;
    bool a = vt_kms_policy_allows(p, &ctx, NULL);
    bool b = vt_kms_policy_allows(p, &ctx, &text);
    assert_int_equal(a, b);
    assert_non_null(text);
    json_error_t jerr;
    json_t *e = json_loads(text, 0, &jerr);
    if (e == NULL) {
        fail_msg("explanation is not JSON: %s\n%s", jerr.text, text);
    }
    assert_string_equal(json_string_value(json_object_get(e, "decision")), a ? "allow" : "deny");
    assert_true(json_is_string(json_object_get(e, "rule")));
    free(text);
    if (expl_out != NULL) {
        *expl_out = e;
    } else {
        json_decref(e);
    }
    return a;
}

static const char *rule_of(json_t *e)
{
    return json_string_value(json_object_get(e, "rule"));
}

static json_t *stmt_of(json_t *e, size_t i)
{
    return json_array_get(json_object_get(e, "statements"), i);
}

static const char *failed_of(json_t *e, size_t i)
{
    return json_string_value(json_object_get(stmt_of(e, i), "failed"));
}

/* ---- the Nitro Enclaves pattern (AWS KMS Developer Guide, "Condition keys for AWS Nitro
 * Enclaves"): a role may Decrypt, GenerateDataKey and GenerateRandom only from an enclave whose
 * attestation document has the given image digest and PCR0 ---- */

static const char nitro_policy[] =
    "{\"Version\":\"2012-10-17\",\"Id\":\"enclave-key\",\"Statement\":["
    "{\"Sid\":\"Enable IAM User Permissions\",\"Effect\":\"Allow\","
    "\"Principal\":{\"AWS\":\"arn:aws:iam::" ACCT ":root\"},"
    "\"Action\":[\"kms:Describe*\",\"kms:Get*\",\"kms:List*\",\"kms:PutKeyPolicy\"],"
    "\"Resource\":\"*\"},"
    "{\"Sid\":\"Enable enclave data processing\",\"Effect\":\"Allow\","
    "\"Principal\":{\"AWS\":\"arn:aws:iam::" XACCT ":role/data-processing\"},"
    "\"Action\":[\"kms:Decrypt\",\"kms:GenerateDataKey\",\"kms:GenerateRandom\"],"
    "\"Resource\":\"*\","
    "\"Condition\":{\"StringEqualsIgnoreCase\":{"
    "\"kms:RecipientAttestation:ImageSha384\":\"" PCR_GOOD "\","
    "\"kms:RecipientAttestation:PCR0\":\"" PCR_GOOD "\"}}}]}";

#define ROLE_DP "arn:aws:iam::" XACCT ":role/data-processing"

static void test_nitro_enclave(void **state)
{
    (void)state;
    struct vt_kms_policy *p = parse_ok(nitro_policy);
    static const char *const actions[] = {"kms:Decrypt", "kms:GenerateDataKey",
                                          "kms:GenerateRandom"};
    for (size_t i = 0; i < 3; i++) {
        struct req r = {actions[i],
                        ROLE_DP,
                        XACCT,
                        KEY_ARN,
                        {{"kms:RecipientAttestation:ImageSha384", {PCR_GOOD}, 1},
                         {"kms:RecipientAttestation:PCR0", {PCR_GOOD}, 1}}};
        json_t *e;
        assert_true(decide(p, &r, &e));
        assert_string_equal(rule_of(e), "allowed by Statement[1] (Sid \"Enable enclave data "
                                        "processing\")");
        assert_int_equal(json_integer_value(json_object_get(e, "statement")), 1);
        json_decref(e);
    }
    /* The request's measurements in upper case: StringEqualsIgnoreCase. */
    struct req upper = {"kms:Decrypt",
                        ROLE_DP,
                        XACCT,
                        KEY_ARN,
                        {{"kms:RecipientAttestation:ImageSha384", {PCR_GOOD_UPPER}, 1},
                         {"kms:RecipientAttestation:PCR0", {PCR_GOOD_UPPER}, 1}}};
    assert_true(decide(p, &upper, NULL));
    /* Condition key names compare case-insensitively. */
    struct req lower_names = {"kms:Decrypt",
                              ROLE_DP,
                              XACCT,
                              KEY_ARN,
                              {{"KMS:recipientattestation:imagesha384", {PCR_GOOD}, 1},
                               {"kms:RECIPIENTATTESTATION:pcr0", {PCR_GOOD}, 1}}};
    assert_true(decide(p, &lower_names, NULL));
    /* Another enclave image: denied, and the explanation names the failing condition with the
     * expected and actual values. */
    struct req other = {"kms:Decrypt",
                        ROLE_DP,
                        XACCT,
                        KEY_ARN,
                        {{"kms:RecipientAttestation:ImageSha384", {PCR_OTHER}, 1},
                         {"kms:RecipientAttestation:PCR0", {PCR_GOOD}, 1}}};
    json_t *e;
    assert_false(decide(p, &other, &e));
    assert_string_equal(rule_of(e), "implicit deny: no statement allows");
    assert_true(json_is_null(json_object_get(e, "statement")));
    assert_string_equal(failed_of(e, 1),
                        "Condition.StringEqualsIgnoreCase.kms:RecipientAttestation:ImageSha384");
    json_t *c0 = json_array_get(json_object_get(stmt_of(e, 1), "conditions"), 0);
    assert_false(json_is_true(json_object_get(c0, "matched")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(c0, "expected"), 0)),
                        PCR_GOOD);
    assert_string_equal(json_string_value(json_array_get(json_object_get(c0, "actual"), 0)),
                        PCR_OTHER);
    json_t *c1 = json_array_get(json_object_get(stmt_of(e, 1), "conditions"), 1);
    assert_true(json_is_true(json_object_get(c1, "matched")));
    assert_string_equal(failed_of(e, 0), "Principal");
    json_decref(e);
    /* Another PCR0 only. */
    struct req other0 = {"kms:Decrypt",
                         ROLE_DP,
                         XACCT,
                         KEY_ARN,
                         {{"kms:RecipientAttestation:ImageSha384", {PCR_GOOD}, 1},
                          {"kms:RecipientAttestation:PCR0", {PCR_OTHER}, 1}}};
    assert_false(decide(p, &other0, NULL));
    /* No Recipient (no attestation document): the keys are absent and the condition false. */
    struct req none = {"kms:Decrypt", ROLE_DP, XACCT, KEY_ARN, NOKEYS};
    assert_false(decide(p, &none, &e));
    c0 = json_array_get(json_object_get(stmt_of(e, 1), "conditions"), 0);
    assert_true(json_is_null(json_object_get(c0, "actual")));
    json_decref(e);
    /* Half a document (the image digest without PCR0). */
    struct req half = {"kms:Decrypt",
                       ROLE_DP,
                       XACCT,
                       KEY_ARN,
                       {{"kms:RecipientAttestation:ImageSha384", {PCR_GOOD}, 1}}};
    assert_false(decide(p, &half, NULL));
    /* A key present with no value is absent. */
    struct req empty = {"kms:Decrypt",
                        ROLE_DP,
                        XACCT,
                        KEY_ARN,
                        {{"kms:RecipientAttestation:ImageSha384", {NULL}, 0},
                         {"kms:RecipientAttestation:PCR0", {PCR_GOOD}, 1}}};
    assert_false(decide(p, &empty, NULL));
    /* The right enclave, but an action the statement does not allow. */
    struct req enc = {"kms:Encrypt",
                      ROLE_DP,
                      XACCT,
                      KEY_ARN,
                      {{"kms:RecipientAttestation:ImageSha384", {PCR_GOOD}, 1},
                       {"kms:RecipientAttestation:PCR0", {PCR_GOOD}, 1}}};
    assert_false(decide(p, &enc, &e));
    assert_string_equal(failed_of(e, 1), "Action");
    json_decref(e);
    /* Another role of the same account with the right enclave. */
    struct req role = {"kms:Decrypt",
                       "arn:aws:iam::" XACCT ":role/other",
                       XACCT,
                       KEY_ARN,
                       {{"kms:RecipientAttestation:ImageSha384", {PCR_GOOD}, 1},
                        {"kms:RecipientAttestation:PCR0", {PCR_GOOD}, 1}}};
    assert_false(decide(p, &role, NULL));
    /* A session of the role (what an enclave's instance role credentials are). */
    struct req session = {"kms:Decrypt",
                          "arn:aws:sts::" XACCT ":assumed-role/data-processing/i-0abc",
                          XACCT,
                          KEY_ARN,
                          {{"kms:RecipientAttestation:ImageSha384", {PCR_GOOD}, 1},
                           {"kms:RecipientAttestation:PCR0", {PCR_GOOD}, 1}}};
    assert_true(decide(p, &session, NULL));
    /* The key's own account administers it without an attestation, but cannot decrypt. */
    struct req admin = {"kms:GetKeyPolicy", "arn:aws:iam::" ACCT ":user/alice", ACCT, KEY_ARN,
                        NOKEYS};
    assert_true(decide(p, &admin, NULL));
    admin.action = "kms:Decrypt";
    assert_false(decide(p, &admin, NULL));
    vt_kms_policy_free(p);

    /* The same statement with StringEquals: case matters. */
    static const char exact[] =
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
        "\"Principal\":{\"AWS\":\"" ROLE_DP "\"},\"Action\":\"kms:Decrypt\",\"Resource\":\"*\","
        "\"Condition\":{\"StringEquals\":{\"kms:RecipientAttestation:PCR0\":\"" PCR_GOOD "\"}}}}";
    p = parse_ok(exact);
    struct req lower = {
        "kms:Decrypt", ROLE_DP, XACCT, KEY_ARN, {{"kms:RecipientAttestation:PCR0", {PCR_GOOD}, 1}}};
    assert_true(decide(p, &lower, NULL));
    struct req up = {"kms:Decrypt",
                     ROLE_DP,
                     XACCT,
                     KEY_ARN,
                     {{"kms:RecipientAttestation:PCR0", {PCR_GOOD_UPPER}, 1}}};
    assert_false(decide(p, &up, NULL));
    vt_kms_policy_free(p);

    /* Policy values in upper case against the request's lower case, several PCRs, the highest
     * index, and a list of accepted images (ORed). */
    static const char many[] =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
        "\"Principal\":{\"AWS\":\"" ROLE_DP "\"},\"Action\":\"kms:Decrypt\",\"Resource\":\"*\","
        "\"Condition\":{\"StringEqualsIgnoreCase\":{"
        "\"kms:RecipientAttestation:ImageSha384\":[\"" PCR_OTHER "\",\"" PCR_GOOD_UPPER "\"],"
        "\"kms:RecipientAttestation:PCR8\":\"" PCR_OTHER "\","
        "\"kms:RecipientAttestation:PCR31\":\"" PCR_OTHER "\"}}}]}";
    p = parse_ok(many);
    struct req m = {"kms:Decrypt",
                    ROLE_DP,
                    XACCT,
                    KEY_ARN,
                    {{"kms:RecipientAttestation:ImageSha384", {PCR_GOOD}, 1},
                     {"kms:RecipientAttestation:PCR8", {PCR_OTHER}, 1},
                     {"kms:RecipientAttestation:PCR31", {PCR_OTHER}, 1}}};
    assert_true(decide(p, &m, NULL));
    m.keys[2].v[0] = PCR_GOOD;
    assert_false(decide(p, &m, NULL));
    vt_kms_policy_free(p);
}

/* ---- a full key policy of the usual shape ---- */

static const char full_policy[] =
    "{\n"
    "  \"Version\": \"2012-10-17\",\n"
    "  \"Id\": \"key-consolepolicy-3\",\n"
    "  \"Statement\": [\n"
    "    {\"Sid\": \"Enable IAM User Permissions\", \"Effect\": \"Allow\",\n"
    "     \"Principal\": {\"AWS\": \"arn:aws:iam::" ACCT ":root\"},\n"
    "     \"Action\": \"kms:*\", \"Resource\": \"*\"},\n"
    "    {\"Sid\": \"Allow access for Key Administrators\", \"Effect\": \"Allow\",\n"
    "     \"Principal\": {\"AWS\": \"arn:aws:iam::" XACCT ":role/KeyAdmin\"},\n"
    "     \"Action\": [\"kms:Create*\", \"kms:Describe*\", \"kms:Enable*\", \"kms:List*\",\n"
    "                \"kms:Put*\", \"kms:Update*\", \"kms:Revoke*\", \"kms:Disable*\",\n"
    "                \"kms:Get*\", \"kms:Delete*\", \"kms:TagResource\", \"kms:UntagResource\",\n"
    "                \"kms:ScheduleKeyDeletion\", \"kms:CancelKeyDeletion\"],\n"
    "     \"Resource\": \"*\"},\n"
    "    {\"Sid\": \"Allow use of the key\", \"Effect\": \"Allow\",\n"
    "     \"Principal\": {\"AWS\": [\"arn:aws:iam::" XACCT ":role/app\",\n"
    "                             \"arn:aws:iam::" XACCT ":user/batch\"]},\n"
    "     \"Action\": [\"kms:Encrypt\", \"kms:Decrypt\", \"kms:ReEncrypt*\",\n"
    "                \"kms:GenerateDataKey*\", \"kms:DescribeKey\"],\n"
    "     \"Resource\": \"arn:aws:kms:*:" ACCT ":key/*\",\n"
    "     \"Condition\": {\"StringEquals\": {\"kms:EncryptionContext:app\": \"billing\"}}},\n"
    "    {\"Sid\": \"Describe for the partner account\", \"Effect\": \"Allow\",\n"
    "     \"Principal\": {\"AWS\": \"" XACCT "\"},\n"
    "     \"Action\": \"kms:DescribeKey\", \"Resource\": \"*\"},\n"
    "    {\"Sid\": \"Random for one caller account\", \"Effect\": \"Allow\",\n"
    "     \"Principal\": \"*\", \"Action\": \"KMS:generaterandom\", \"Resource\": \"*\",\n"
    "     \"Condition\": {\"StringEquals\": {\"kms:CallerAccount\": \"777788889999\"}}},\n"
    "    {\"Sid\": \"DenyDeletion\", \"Effect\": \"Deny\",\n"
    "     \"Principal\": {\"AWS\": \"*\"},\n"
    "     \"Action\": [\"kms:ScheduleKeyDeletion\", \"kms:Delete*\"], \"Resource\": \"*\",\n"
    "     \"Condition\": {\"ArnNotLike\": {\"aws:PrincipalArn\":\n"
    "                     \"arn:aws:iam::" ACCT ":role/BreakGlass*\"}}}\n"
    "  ]\n"
    "}\n";

#define ALICE "arn:aws:iam::" ACCT ":user/alice"
#define APP "arn:aws:iam::" XACCT ":role/app"
#define ADMIN "arn:aws:iam::" XACCT ":role/KeyAdmin"

static void test_full_policy(void **state)
{
    (void)state;
    struct vt_kms_policy *p = parse_ok(full_policy);
    json_t *e;
    /* The account root principal: every principal of the account, every action. */
    struct req r = {"kms:Decrypt", ALICE, ACCT, KEY_ARN, NOKEYS};
    assert_true(decide(p, &r, &e));
    assert_string_equal(rule_of(e), "allowed by Statement[0] (Sid \"Enable IAM User "
                                    "Permissions\")");
    json_decref(e);
    r.principal = "arn:aws:iam::" ACCT ":role/anything";
    r.action = "kms:PutKeyPolicy";
    assert_true(decide(p, &r, NULL));
    /* ... except what the Deny statement takes away, whatever the Allow says. */
    r.action = "kms:ScheduleKeyDeletion";
    assert_false(decide(p, &r, &e));
    assert_string_equal(rule_of(e), "explicit deny by Statement[5] (Sid \"DenyDeletion\")");
    assert_int_equal(json_integer_value(json_object_get(e, "statement")), 5);
    assert_true(json_is_true(json_object_get(stmt_of(e, 0), "applies")));
    assert_true(json_is_true(json_object_get(stmt_of(e, 5), "applies")));
    json_decref(e);
    r.action = "kms:DeleteImportedKeyMaterial";
    assert_false(decide(p, &r, NULL));
    /* The break-glass role escapes the Deny (ArnNotLike on aws:PrincipalArn, derived from the
     * principal). */
    r.principal = "arn:aws:iam::" ACCT ":role/BreakGlass-2";
    r.action = "kms:ScheduleKeyDeletion";
    assert_true(decide(p, &r, &e));
    assert_string_equal(failed_of(e, 5), "Condition.ArnNotLike.aws:PrincipalArn");
    json_decref(e);
    /* Another account's principal is not the root's. */
    struct req x = {"kms:Decrypt", "arn:aws:iam::" XACCT ":user/mallory", XACCT, KEY_ARN, NOKEYS};
    assert_false(decide(p, &x, NULL));
    /* ... but that account (as an account id principal) may describe the key. */
    x.action = "kms:DescribeKey";
    assert_true(decide(p, &x, &e));
    assert_string_equal(rule_of(e), "allowed by Statement[3] (Sid \"Describe for the partner "
                                    "account\")");
    json_decref(e);

    /* The user role: cryptographic actions with the encryption context. */
    struct req u = {
        "kms:Decrypt", APP, XACCT, KEY_ARN, {{"kms:EncryptionContext:app", {"billing"}, 1}}};
    assert_true(decide(p, &u, NULL));
    static const char *const crypto[] = {"kms:Encrypt",
                                         "kms:ReEncryptFrom",
                                         "kms:ReEncryptTo",
                                         "kms:GenerateDataKey",
                                         "kms:GenerateDataKeyWithoutPlaintext",
                                         "kms:GenerateDataKeyPair",
                                         "kms:GenerateDataKeyPairWithoutPlaintext",
                                         "kms:generatedatakey"};
    for (size_t i = 0; i < sizeof(crypto) / sizeof(crypto[0]); i++) {
        u.action = crypto[i];
        assert_true(decide(p, &u, NULL));
    }
    u.action = "kms:Sign";
    assert_false(decide(p, &u, NULL));
    u.action = "kms:Decrypt";
    /* The context key's name in another case matches (AWS: key names are case-insensitive);
     * the value does not. */
    u.keys[0].name = "kms:encryptioncontext:APP";
    assert_true(decide(p, &u, NULL));
    u.keys[0].v[0] = "Billing";
    assert_false(decide(p, &u, &e));
    assert_string_equal(failed_of(e, 2), "Condition.StringEquals.kms:EncryptionContext:app");
    json_decref(e);
    u.keys[0].name = NULL; /* no encryption context */
    assert_false(decide(p, &u, NULL));
    /* The user principal of the list. */
    struct req b = {"kms:Encrypt",
                    "arn:aws:iam::" XACCT ":user/batch",
                    XACCT,
                    KEY_ARN,
                    {{"kms:EncryptionContext:app", {"billing"}, 1}}};
    assert_true(decide(p, &b, NULL));
    b.principal = "arn:aws:iam::" XACCT ":user/batch2";
    assert_false(decide(p, &b, NULL));
    /* Resource wildcards: a key of another account does not match the statement's ARN. */
    b.principal = "arn:aws:iam::" XACCT ":user/batch";
    b.resource = OTHER_KEY_ARN;
    assert_false(decide(p, &b, &e));
    assert_string_equal(failed_of(e, 2), "Resource");
    json_decref(e);
    b.resource = "arn:aws:kms:eu-west-3:" ACCT ":key/another";
    assert_true(decide(p, &b, NULL));
    b.resource = "arn:aws:kms:eu-west-3:" ACCT ":alias/another";
    assert_false(decide(p, &b, NULL));

    /* The administrator role: key management, no cryptography. */
    static const char *const mgmt[] = {
        "kms:CreateGrant",  "kms:DescribeKey",          "kms:EnableKeyRotation", "kms:ListGrants",
        "kms:PutKeyPolicy", "kms:UpdateKeyDescription", "kms:RevokeGrant",       "kms:DisableKey",
        "kms:GetKeyPolicy", "kms:TagResource",          "kms:CancelKeyDeletion"};
    struct req a = {NULL, ADMIN, XACCT, KEY_ARN, NOKEYS};
    for (size_t i = 0; i < sizeof(mgmt) / sizeof(mgmt[0]); i++) {
        a.action = mgmt[i];
        assert_true(decide(p, &a, NULL));
    }
    a.action = "kms:Decrypt";
    assert_false(decide(p, &a, NULL));
    a.action = "kms:ScheduleKeyDeletion"; /* allowed by Statement[1], denied by [5] */
    assert_false(decide(p, &a, &e));
    assert_true(json_is_true(json_object_get(stmt_of(e, 1), "applies")));
    assert_string_equal(rule_of(e), "explicit deny by Statement[5] (Sid \"DenyDeletion\")");
    json_decref(e);

    /* Principal "*" with kms:CallerAccount (derived from the request's account); the action
     * written in another case. */
    struct req g = {"kms:GenerateRandom", "arn:aws:iam::777788889999:user/z", "777788889999", NULL,
                    NOKEYS};
    assert_true(decide(p, &g, NULL));
    g.principal = "arn:aws:iam::777788889990:user/z";
    g.account = "777788889990";
    assert_false(decide(p, &g, NULL));
    /* An explicit kms:CallerAccount in the request wins over the derived one. */
    g.keys[0] = (struct kv){"kms:CallerAccount", {"777788889999"}, 1};
    assert_true(decide(p, &g, NULL));
    vt_kms_policy_free(p);
}

/* ---- principals ---- */

static bool allowed_for(const char *principal_json, const char *principal, const char *account)
{
    char doc[1024];
    snprintf(doc, sizeof(doc),
             "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":%s,"
             "\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}}",
             principal_json);
    struct vt_kms_policy *p = parse_ok(doc);
    struct req r = {"kms:Decrypt", principal, account, KEY_ARN, NOKEYS};
    bool ok = decide(p, &r, NULL);
    vt_kms_policy_free(p);
    return ok;
}

static void test_principals(void **state)
{
    (void)state;
    /* "*" and {"AWS": "*"}: any authenticated caller. */
    assert_true(allowed_for("\"*\"", ALICE, ACCT));
    assert_true(allowed_for("{\"AWS\":\"*\"}", APP, XACCT));
    /* Account id and account root ARN: every principal of that account. */
    assert_true(allowed_for("{\"AWS\":\"" ACCT "\"}", ALICE, ACCT));
    assert_true(allowed_for("{\"AWS\":\"" ACCT "\"}", "arn:aws:iam::" ACCT ":role/r", ACCT));
    assert_true(
        allowed_for("{\"AWS\":\"" ACCT "\"}", "arn:aws:sts::" ACCT ":assumed-role/r/s", ACCT));
    assert_false(allowed_for("{\"AWS\":\"" ACCT "\"}", APP, XACCT));
    assert_true(allowed_for("{\"AWS\":\"arn:aws:iam::" ACCT ":root\"}", ALICE, ACCT));
    assert_false(allowed_for("{\"AWS\":\"arn:aws:iam::" ACCT ":root\"}", APP, XACCT));
    /* Roles: the role, or a session of it; not another role, nor a user of that name. */
    const char *role = "{\"AWS\":\"arn:aws:iam::" ACCT ":role/enclave\"}";
    assert_true(allowed_for(role, "arn:aws:iam::" ACCT ":role/enclave", ACCT));
    assert_true(allowed_for(role, "arn:aws:sts::" ACCT ":assumed-role/enclave/i-0123", ACCT));
    assert_false(allowed_for(role, "arn:aws:sts::" ACCT ":assumed-role/enclave/", ACCT));
    assert_false(allowed_for(role, "arn:aws:sts::" ACCT ":assumed-role/enclave2/s", ACCT));
    assert_false(allowed_for(role, "arn:aws:sts::" ACCT ":assumed-role/enclav/s", ACCT));
    assert_false(allowed_for(role, "arn:aws:sts::" ACCT ":assumed-role/enclave", ACCT));
    assert_false(allowed_for(role, "arn:aws-cn:sts::" ACCT ":assumed-role/enclave/s", ACCT));
    assert_false(allowed_for(role, "arn:aws:sts::" XACCT ":assumed-role/enclave/s", XACCT));
    assert_false(allowed_for(role, "arn:aws:iam::" ACCT ":user/enclave", ACCT));
    assert_false(allowed_for(role, "arn:aws:iam::" ACCT ":role/Enclave", ACCT));
    assert_false(allowed_for(role, "arn:aws:iam::" ACCT ":role/enclave/x", ACCT));
    /* A role with a path: its sessions are named by the role's name alone. */
    const char *path_role = "{\"AWS\":\"arn:aws:iam::" ACCT ":role/service/enclave\"}";
    assert_true(allowed_for(path_role, "arn:aws:iam::" ACCT ":role/service/enclave", ACCT));
    assert_true(allowed_for(path_role, "arn:aws:sts::" ACCT ":assumed-role/enclave/s", ACCT));
    assert_false(allowed_for(path_role, "arn:aws:iam::" ACCT ":role/enclave", ACCT));
    /* Users and sessions named exactly. */
    assert_true(allowed_for("{\"AWS\":\"" ALICE "\"}", ALICE, ACCT));
    assert_false(allowed_for("{\"AWS\":\"" ALICE "\"}", "arn:aws:iam::" ACCT ":user/alice2", ACCT));
    const char *sess = "{\"AWS\":\"arn:aws:sts::" ACCT ":assumed-role/r/s1\"}";
    assert_true(allowed_for(sess, "arn:aws:sts::" ACCT ":assumed-role/r/s1", ACCT));
    assert_false(allowed_for(sess, "arn:aws:sts::" ACCT ":assumed-role/r/s2", ACCT));
    assert_false(allowed_for(sess, "arn:aws:iam::" ACCT ":role/r", ACCT));
    /* Lists: any of them. */
    const char *list = "{\"AWS\":[\"" XACCT "\",\"" ALICE "\"]}";
    assert_true(allowed_for(list, ALICE, ACCT));
    assert_true(allowed_for(list, APP, XACCT));
    assert_false(allowed_for(list, "arn:aws:iam::" ACCT ":user/bob", ACCT));
    /* Other partitions. */
    assert_true(allowed_for("{\"AWS\":\"arn:aws-us-gov:iam::" ACCT ":user/g\"}",
                            "arn:aws-us-gov:iam::" ACCT ":user/g", ACCT));
    /* No principal in the request: nothing matches, not even "*". */
    assert_false(allowed_for("\"*\"", NULL, ACCT));
    assert_false(allowed_for("{\"AWS\":\"" ACCT "\"}", NULL, ACCT));
    /* No account in the request: account principals do not match. */
    assert_false(allowed_for("{\"AWS\":\"" ACCT "\"}", ALICE, NULL));
    assert_true(allowed_for("{\"AWS\":\"" ALICE "\"}", ALICE, NULL));
    /* A principal of another account than the request's: an inconsistent context, denied. */
    assert_false(allowed_for("\"*\"", ALICE, XACCT));
    assert_false(allowed_for("{\"AWS\":\"" ALICE "\"}", ALICE, XACCT));
}

/* ---- condition operators ---- */

struct cond_case {
    const char *condition; /* the Condition object */
    struct kv keys[2];     /* the request's condition keys (name NULL: none) */
    bool want;
};

#define K(name, ...)                                                                               \
    {                                                                                              \
        name, {__VA_ARGS__}, sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)                \
    }
#define EC "kms:EncryptionContext:k"
#define ECK "kms:EncryptionContextKeys"
#define NONE NOKEYS

static const struct cond_case cond_cases[] = {
    /* StringEquals: exact, case-sensitive; a missing key is false; values ORed */
    {"{\"StringEquals\":{\"" EC "\":\"a\"}}", {K(EC, "a")}, true},
    {"{\"StringEquals\":{\"" EC "\":\"a\"}}", {K(EC, "A")}, false},
    {"{\"StringEquals\":{\"" EC "\":\"a\"}}", NONE, false},
    {"{\"StringEquals\":{\"" EC "\":[\"x\",\"a\"]}}", {K(EC, "a")}, true},
    {"{\"StringEquals\":{\"" EC "\":[\"x\",\"y\"]}}", {K(EC, "a")}, false},
    {"{\"StringEquals\":{\"" EC "\":\"\"}}", {K(EC, "")}, true},
    {"{\"StringEqualsIfExists\":{\"" EC "\":\"a\"}}", NONE, true},
    {"{\"StringEqualsIfExists\":{\"" EC "\":\"a\"}}", {K(EC, "a")}, true},
    {"{\"StringEqualsIfExists\":{\"" EC "\":\"a\"}}", {K(EC, "b")}, false},
    /* a key with several values and no set operator: any of them */
    {"{\"StringEquals\":{\"" ECK "\":\"b\"}}", {K(ECK, "a", "b")}, true},
    {"{\"StringEquals\":{\"" ECK "\":\"c\"}}", {K(ECK, "a", "b")}, false},
    /* StringNotEquals: negated; a missing key is true; several values NOR */
    {"{\"StringNotEquals\":{\"" EC "\":\"a\"}}", {K(EC, "a")}, false},
    {"{\"StringNotEquals\":{\"" EC "\":\"a\"}}", {K(EC, "b")}, true},
    {"{\"StringNotEquals\":{\"" EC "\":\"a\"}}", {K(EC, "A")}, true},
    {"{\"StringNotEquals\":{\"" EC "\":\"a\"}}", NONE, true},
    {"{\"StringNotEquals\":{\"" EC "\":[\"a\",\"b\"]}}", {K(EC, "b")}, false},
    {"{\"StringNotEquals\":{\"" EC "\":[\"a\",\"b\"]}}", {K(EC, "c")}, true},
    {"{\"StringNotEqualsIfExists\":{\"" EC "\":\"a\"}}", NONE, true},
    {"{\"StringNotEqualsIfExists\":{\"" EC "\":\"a\"}}", {K(EC, "a")}, false},
    {"{\"StringNotEquals\":{\"" ECK "\":\"a\"}}", {K(ECK, "a", "b")}, false},
    {"{\"StringNotEquals\":{\"" ECK "\":\"c\"}}", {K(ECK, "a", "b")}, true},
    /* StringEqualsIgnoreCase / StringNotEqualsIgnoreCase */
    {"{\"StringEqualsIgnoreCase\":{\"" EC "\":\"AbC\"}}", {K(EC, "aBc")}, true},
    {"{\"StringEqualsIgnoreCase\":{\"" EC "\":\"abc\"}}", {K(EC, "abd")}, false},
    {"{\"StringEqualsIgnoreCase\":{\"" EC "\":\"abc\"}}", {K(EC, "abcd")}, false},
    {"{\"StringEqualsIgnoreCase\":{\"" EC "\":\"abc\"}}", NONE, false},
    {"{\"StringEqualsIgnoreCaseIfExists\":{\"" EC "\":\"abc\"}}", NONE, true},
    {"{\"StringNotEqualsIgnoreCase\":{\"" EC "\":\"abc\"}}", {K(EC, "ABC")}, false},
    {"{\"StringNotEqualsIgnoreCase\":{\"" EC "\":\"abc\"}}", {K(EC, "abx")}, true},
    {"{\"StringNotEqualsIgnoreCase\":{\"" EC "\":\"abc\"}}", NONE, true},
    /* StringLike / StringNotLike: wildcards, case-sensitive */
    {"{\"StringLike\":{\"" EC "\":\"ab*\"}}", {K(EC, "abc")}, true},
    {"{\"StringLike\":{\"" EC "\":\"ab*\"}}", {K(EC, "ab")}, true},
    {"{\"StringLike\":{\"" EC "\":\"AB*\"}}", {K(EC, "abc")}, false},
    {"{\"StringLike\":{\"" EC "\":\"a?c\"}}", {K(EC, "abc")}, true},
    {"{\"StringLike\":{\"" EC "\":\"a?c\"}}", {K(EC, "abbc")}, false},
    {"{\"StringLike\":{\"" EC "\":\"a*b*c\"}}", {K(EC, "axxbyybzc")}, true},
    {"{\"StringLike\":{\"" EC "\":\"a*b*c\"}}", {K(EC, "axxbyybz")}, false},
    {"{\"StringLike\":{\"" EC "\":\"*\"}}", {K(EC, "")}, true},
    {"{\"StringLike\":{\"" EC "\":\"?\"}}", {K(EC, "")}, false},
    {"{\"StringLike\":{\"" EC "\":\"?\"}}", {K(EC, "\xe2\x82\xac")}, true},   /* one code point */
    {"{\"StringLike\":{\"" EC "\":\"??\"}}", {K(EC, "\xe2\x82\xac")}, false}, /* not two */
    {"{\"StringLike\":{\"" EC "\":\"*??\"}}", {K(EC, "\xe2\x82\xac")}, false},
    {"{\"StringLike\":{\"" EC "\":\"*??\"}}", {K(EC, "x\xe2\x82\xac")}, true},
    {"{\"StringLike\":{\"" EC "\":\"ab*\"}}", NONE, false},
    {"{\"StringLikeIfExists\":{\"" EC "\":\"ab*\"}}", NONE, true},
    {"{\"StringNotLike\":{\"" EC "\":\"ab*\"}}", {K(EC, "abc")}, false},
    {"{\"StringNotLike\":{\"" EC "\":\"ab*\"}}", {K(EC, "xbc")}, true},
    {"{\"StringNotLike\":{\"" EC "\":\"ab*\"}}", NONE, true},
    {"{\"StringNotLike\":{\"" EC "\":[\"ab*\",\"x*\"]}}", {K(EC, "xbc")}, false},
    /* Numeric: exact decimal comparison; a non-number in the request does not match */
    {"{\"NumericEquals\":{\"" EC "\":\"10\"}}", {K(EC, "10")}, true},
    {"{\"NumericEquals\":{\"" EC "\":10}}", {K(EC, "010.0")}, true},
    {"{\"NumericEquals\":{\"" EC "\":\"1.5\"}}", {K(EC, "1.50")}, true},
    {"{\"NumericEquals\":{\"" EC "\":\"0\"}}", {K(EC, "-0")}, true},
    {"{\"NumericEquals\":{\"" EC "\":\"10\"}}", {K(EC, "11")}, false},
    {"{\"NumericEquals\":{\"" EC "\":\"10\"}}", {K(EC, "ten")}, false},
    {"{\"NumericEquals\":{\"" EC "\":\"10\"}}", {K(EC, "1e1")}, false},
    {"{\"NumericEquals\":{\"" EC "\":\"10\"}}", NONE, false},
    {"{\"NumericEqualsIfExists\":{\"" EC "\":\"10\"}}", NONE, true},
    {"{\"NumericNotEquals\":{\"" EC "\":\"10\"}}", {K(EC, "10")}, false},
    {"{\"NumericNotEquals\":{\"" EC "\":\"10\"}}", {K(EC, "9")}, true},
    {"{\"NumericNotEquals\":{\"" EC "\":\"10\"}}", NONE, true},
    {"{\"NumericLessThan\":{\"" EC "\":\"10\"}}", {K(EC, "9.99")}, true},
    {"{\"NumericLessThan\":{\"" EC "\":\"10\"}}", {K(EC, "10")}, false},
    {"{\"NumericLessThan\":{\"" EC "\":\"-1\"}}", {K(EC, "-2")}, true},
    {"{\"NumericLessThan\":{\"" EC "\":\"-1\"}}", {K(EC, "0")}, false},
    {"{\"NumericLessThan\":{\"" EC "\":\"10\"}}", NONE, false},
    {"{\"NumericLessThanEquals\":{\"" EC "\":\"10\"}}", {K(EC, "10")}, true},
    {"{\"NumericLessThanEquals\":{\"" EC "\":\"10\"}}", {K(EC, "10.01")}, false},
    {"{\"NumericGreaterThan\":{\"" EC "\":\"10\"}}", {K(EC, "100")}, true},
    {"{\"NumericGreaterThan\":{\"" EC "\":\"10\"}}", {K(EC, "10")}, false},
    {"{\"NumericGreaterThan\":{\"" EC "\":\"-10\"}}", {K(EC, "-9")}, true},
    {"{\"NumericGreaterThanEquals\":{\"" EC "\":\"10\"}}", {K(EC, "10")}, true},
    {"{\"NumericGreaterThanEquals\":{\"" EC "\":\"10\"}}", {K(EC, "9")}, false},
    {"{\"NumericGreaterThanEqualsIfExists\":{\"" EC "\":\"10\"}}", NONE, true},
    /* Bool */
    {"{\"Bool\":{\"aws:SecureTransport\":\"true\"}}", {K("aws:SecureTransport", "true")}, true},
    {"{\"Bool\":{\"aws:SecureTransport\":true}}", {K("aws:SecureTransport", "True")}, true},
    {"{\"Bool\":{\"aws:SecureTransport\":\"false\"}}", {K("aws:SecureTransport", "true")}, false},
    {"{\"Bool\":{\"aws:SecureTransport\":false}}", {K("aws:SecureTransport", "false")}, true},
    {"{\"Bool\":{\"aws:SecureTransport\":\"true\"}}", NONE, false},
    {"{\"BoolIfExists\":{\"aws:SecureTransport\":\"true\"}}", NONE, true},
    {"{\"BoolIfExists\":{\"aws:SecureTransport\":\"true\"}}",
     {K("aws:SecureTransport", "0")},
     false},
    /* Null: true = the key is absent, false = present */
    {"{\"Null\":{\"" EC "\":\"true\"}}", NONE, true},
    {"{\"Null\":{\"" EC "\":\"true\"}}", {K(EC, "a")}, false},
    {"{\"Null\":{\"" EC "\":false}}", {K(EC, "a")}, true},
    {"{\"Null\":{\"" EC "\":\"false\"}}", NONE, false},
    {"{\"Null\":{\"" EC "\":[\"true\",\"false\"]}}", NONE, true},
    {"{\"Null\":{\"" ECK "\":\"true\"}}", {{ECK, {NULL}, 0}}, true},
    /* Arn operators: per field, wildcards within a field (aws:PrincipalArn is the principal) */
    {"{\"ArnLike\":{\"aws:PrincipalArn\":\"arn:aws:iam::" ACCT ":role/*\"}}", NONE, true},
    {"{\"ArnLike\":{\"aws:PrincipalArn\":\"arn:aws:iam::*:role/app\"}}", NONE, true},
    {"{\"ArnLike\":{\"aws:PrincipalArn\":\"arn:aws:iam::" XACCT ":role/*\"}}", NONE, false},
    {"{\"ArnLike\":{\"aws:PrincipalArn\":\"arn:aws:iam::*:role/app\"}}",
     {K("aws:PrincipalArn", "arn:aws:iam::" ACCT ":x:role/app")},
     false},
    {"{\"StringLike\":{\"aws:PrincipalArn\":\"arn:aws:iam::*:role/app\"}}",
     {K("aws:PrincipalArn", "arn:aws:iam::" ACCT ":x:role/app")},
     true},
    {"{\"ArnLike\":{\"aws:PrincipalArn\":\"arn:aws:iam::*:role/app\"}}",
     {K("aws:PrincipalArn", "not-an-arn")},
     false},
    {"{\"ArnEquals\":{\"aws:PrincipalArn\":\"arn:aws:iam::" ACCT ":role/app\"}}", NONE, true},
    {"{\"ArnEquals\":{\"aws:PrincipalArn\":\"arn:aws:iam::" ACCT ":role/APP\"}}", NONE, false},
    {"{\"ArnNotEquals\":{\"aws:PrincipalArn\":\"arn:aws:iam::" ACCT ":role/app\"}}", NONE, false},
    {"{\"ArnNotLike\":{\"aws:PrincipalArn\":\"arn:aws:iam::" ACCT ":role/x*\"}}", NONE, true},
    {"{\"ArnNotLikeIfExists\":{\"aws:SourceArn\":\"arn:aws:s3:::b\"}}", NONE, true},
    {"{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:s3:::b\"}}", NONE, false},
    /* ForAnyValue: some request value passes; a missing key (or no values) is false */
    {"{\"ForAnyValue:StringEquals\":{\"" ECK "\":[\"b\",\"c\"]}}", {K(ECK, "a", "b")}, true},
    {"{\"ForAnyValue:StringEquals\":{\"" ECK "\":\"c\"}}", {K(ECK, "a", "b")}, false},
    {"{\"ForAnyValue:StringEquals\":{\"" ECK "\":\"c\"}}", NONE, false},
    {"{\"ForAnyValue:StringEquals\":{\"" ECK "\":\"c\"}}", {{ECK, {NULL}, 0}}, false},
    {"{\"ForAnyValue:StringEqualsIfExists\":{\"" ECK "\":\"c\"}}", NONE, true},
    {"{\"ForAnyValue:StringLike\":{\"" ECK "\":\"b*\"}}", {K(ECK, "a", "bee")}, true},
    {"{\"ForAnyValue:StringNotEquals\":{\"" ECK "\":\"a\"}}", {K(ECK, "a", "b")}, true},
    {"{\"ForAnyValue:StringNotEquals\":{\"" ECK "\":\"a\"}}", {K(ECK, "a")}, false},
    {"{\"ForAnyValue:StringNotEquals\":{\"" ECK "\":\"a\"}}", NONE, false},
    {"{\"ForAnyValue:NumericGreaterThan\":{\"" ECK "\":\"5\"}}", {K(ECK, "1", "7")}, true},
    /* ForAllValues: every request value passes; a missing key (or no values) is true */
    {"{\"ForAllValues:StringEquals\":{\"" ECK "\":[\"a\",\"b\",\"c\"]}}", {K(ECK, "a", "b")}, true},
    {"{\"ForAllValues:StringEquals\":{\"" ECK "\":[\"a\",\"b\"]}}", {K(ECK, "a", "x")}, false},
    {"{\"ForAllValues:StringEquals\":{\"" ECK "\":\"a\"}}", NONE, true},
    {"{\"ForAllValues:StringEquals\":{\"" ECK "\":\"a\"}}", {{ECK, {NULL}, 0}}, true},
    {"{\"ForAllValues:StringEqualsIfExists\":{\"" ECK "\":\"a\"}}", NONE, true},
    {"{\"ForAllValues:StringEqualsIgnoreCase\":{\"" ECK "\":[\"A\",\"B\"]}}",
     {K(ECK, "a", "b")},
     true},
    /* (IAM's example: ForAllValues:StringNotLike "key1*") */
    {"{\"ForAllValues:StringNotLike\":{\"" ECK "\":\"key1*\"}}", {K(ECK, "key1:legal")}, false},
    {"{\"ForAllValues:StringNotLike\":{\"" ECK "\":\"key1*\"}}",
     {K(ECK, "key1:hr", "key1:p")},
     false},
    {"{\"ForAllValues:StringNotLike\":{\"" ECK "\":\"key1*\"}}", {K(ECK, "key2:audit")}, true},
    {"{\"ForAllValues:StringNotLike\":{\"" ECK "\":\"key1*\"}}",
     {K(ECK, "key2:a", "key1:b")},
     false},
    {"{\"ForAllValues:StringNotLike\":{\"" ECK "\":\"key1*\"}}", NONE, true},
    {"{\"ForAllValues:NumericLessThan\":{\"" ECK "\":\"5\"}}", {K(ECK, "1", "7")}, false},
    {"{\"ForAllValues:Bool\":{\"" ECK "\":\"true\"}}", {K(ECK, "true", "TRUE")}, true},
    /* several keys in one operator, several operators: all must hold */
    {"{\"StringEquals\":{\"" EC "\":\"a\",\"kms:EncryptionContext:j\":\"b\"}}",
     {K(EC, "a"), K("kms:EncryptionContext:j", "b")},
     true},
    {"{\"StringEquals\":{\"" EC "\":\"a\",\"kms:EncryptionContext:j\":\"b\"}}",
     {K(EC, "a"), K("kms:EncryptionContext:j", "c")},
     false},
    {"{\"StringEquals\":{\"" EC "\":\"a\"},\"Null\":{\"kms:EncryptionContext:j\":\"true\"}}",
     {K(EC, "a")},
     true},
    {"{\"StringEquals\":{\"" EC "\":\"a\"},\"Null\":{\"kms:EncryptionContext:j\":\"true\"}}",
     {K(EC, "a"), K("kms:EncryptionContext:j", "b")},
     false},
    /* two spellings of one key in one operator: both hold */
    {"{\"StringEquals\":{\"" EC "\":\"a\",\"KMS:ENCRYPTIONCONTEXT:K\":\"b\"}}",
     {K(EC, "a")},
     false},
    {"{\"StringLike\":{\"" EC "\":\"a*\",\"KMS:ENCRYPTIONCONTEXT:K\":\"*b\"}}",
     {K(EC, "ab")},
     true},
    /* two entries of one key in the request: one key with both values */
    {"{\"ForAllValues:StringEquals\":{\"" ECK "\":\"a\"}}", {K(ECK, "a"), K(ECK, "b")}, false},
    {"{\"ForAnyValue:StringEquals\":{\"" ECK "\":\"b\"}}",
     {K(ECK, "a"), K("kms:encryptioncontextkeys", "b")},
     true},
    /* NULL values in the request are skipped */
    {"{\"ForAllValues:StringEquals\":{\"" ECK "\":\"a\"}}", {K(ECK, "a", NULL)}, true},
    {"{\"StringEquals\":{\"" EC "\":\"a\"}}", {K(EC, NULL)}, false},
};

static void test_conditions(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cond_cases) / sizeof(cond_cases[0]); i++) {
        const struct cond_case *c = &cond_cases[i];
        char doc[2048];
        snprintf(doc, sizeof(doc),
                 "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"s\",\"Effect\":\"Allow\","
                 "\"Principal\":\"*\",\"Action\":\"kms:*\",\"Resource\":\"*\","
                 "\"Condition\":%s}]}",
                 c->condition);
        struct vt_kms_policy *p = parse_ok(doc);
        struct req r = {"kms:Decrypt",
                        "arn:aws:iam::" ACCT ":role/app",
                        ACCT,
                        KEY_ARN,
                        {c->keys[0], c->keys[1]}};
        json_t *e;
        bool got = decide(p, &r, &e);
        if (got != c->want) {
            char *t = json_dumps(e, JSON_INDENT(1));
            fail_msg("case %zu: %s with %s: want %d, got %d\n%s", i, c->condition,
                     c->keys[0].name != NULL ? c->keys[0].name : "(no key)", c->want, got, t);
        }
        /* The explanation names the failing condition when the statement does not apply. */
        if (!got) {
            const char *f = failed_of(e, 0);
            assert_non_null(f);
            assert_memory_equal(f, "Condition.", 10);
        } else {
            assert_true(json_is_null(json_object_get(stmt_of(e, 0), "failed")));
        }
        json_decref(e);
        vt_kms_policy_free(p);
        /* The same condition in a Deny statement beside an Allow-everything statement: denied
         * exactly when the condition holds. */
        char deny[2200];
        snprintf(deny, sizeof(deny),
                 "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\","
                 "\"Resource\":\"*\"},{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":"
                 "\"kms:Decrypt\",\"Resource\":\"*\",\"Condition\":%s}]}",
                 c->condition);
        p = parse_ok(deny);
        assert_int_equal(decide(p, &r, NULL), !c->want);
        vt_kms_policy_free(p);
    }
}

/* ---- Action, NotAction, Resource, NotResource ---- */

static bool allowed_action(const char *action_json, const char *resource_json, const char *action,
                           const char *resource)
{
    char doc[1024];
    snprintf(doc, sizeof(doc),
             "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\","
             "%s,%s}}",
             action_json, resource_json);
    struct vt_kms_policy *p = parse_ok(doc);
    struct req r = {action, ALICE, ACCT, resource, NOKEYS};
    bool ok = decide(p, &r, NULL);
    vt_kms_policy_free(p);
    return ok;
}

static void test_actions_resources(void **state)
{
    (void)state;
    const char *any_res = "\"Resource\":\"*\"";
    assert_true(allowed_action("\"Action\":\"*\"", any_res, "kms:Sign", KEY_ARN));
    assert_true(allowed_action("\"Action\":\"kms:*\"", any_res, "kms:Sign", KEY_ARN));
    assert_true(allowed_action("\"Action\":\"kms:Decrypt\"", any_res, "KMS:DECRYPT", KEY_ARN));
    assert_true(allowed_action("\"Action\":\"KmS:dEcRyPt\"", any_res, "kms:Decrypt", KEY_ARN));
    assert_false(allowed_action("\"Action\":\"kms:Decrypt\"", any_res, "kms:Encrypt", KEY_ARN));
    assert_true(
        allowed_action("\"Action\":\"kms:Generate*\"", any_res, "kms:GenerateMac", KEY_ARN));
    assert_false(allowed_action("\"Action\":\"kms:Generate*\"", any_res, "kms:Decrypt", KEY_ARN));
    assert_true(allowed_action("\"Action\":\"kms:?ign\"", any_res, "kms:Sign", KEY_ARN));
    assert_false(allowed_action("\"Action\":\"kms:?ign\"", any_res, "kms:Design", KEY_ARN));
    assert_true(allowed_action("\"Action\":[\"kms:Sign\",\"kms:Verify*\"]", any_res,
                               "kms:VerifyMac", KEY_ARN));
    /* kms:* does not cover another service's action */
    assert_false(allowed_action("\"Action\":\"kms:*\"", any_res, "s3:GetObject", KEY_ARN));
    /* NotAction: everything but */
    assert_true(allowed_action("\"NotAction\":\"kms:Decrypt\"", any_res, "kms:Encrypt", KEY_ARN));
    assert_false(allowed_action("\"NotAction\":\"kms:Decrypt\"", any_res, "kms:Decrypt", KEY_ARN));
    assert_false(allowed_action("\"NotAction\":[\"kms:Put*\",\"kms:Schedule*\"]", any_res,
                                "kms:PutKeyPolicy", KEY_ARN));
    assert_true(allowed_action("\"NotAction\":[\"kms:Put*\",\"kms:Schedule*\"]", any_res,
                               "kms:Decrypt", KEY_ARN));
    /* Resources: ARN wildcards, case-sensitive */
    const char *act = "\"Action\":\"kms:Decrypt\"";
    assert_true(allowed_action(act, "\"Resource\":\"" KEY_ARN "\"", "kms:Decrypt", KEY_ARN));
    assert_false(allowed_action(act, "\"Resource\":\"" KEY_ARN "\"", "kms:Decrypt", OTHER_KEY_ARN));
    assert_true(allowed_action(act, "\"Resource\":\"arn:aws:kms:*:" ACCT ":key/*\"", "kms:Decrypt",
                               KEY_ARN));
    assert_true(
        allowed_action(act, "\"Resource\":\"arn:aws:kms:us-east-?:*\"", "kms:Decrypt", KEY_ARN));
    assert_false(
        allowed_action(act, "\"Resource\":\"arn:aws:kms:us-west-?:*\"", "kms:Decrypt", KEY_ARN));
    assert_true(allowed_action(act, "\"Resource\":\"arn:aws:kms:*\"", "kms:Decrypt", KEY_ARN));
    assert_true(allowed_action(act, "\"Resource\":\"arn:aws:kms:us-*\"", "kms:Decrypt", KEY_ARN));
    assert_false(allowed_action(act, "\"Resource\":\"arn:aws:kms:eu-*\"", "kms:Decrypt", KEY_ARN));
    assert_false(allowed_action(act, "\"Resource\":\"arn:aws:kms:*:" ACCT ":key/1234ABCD*\"",
                                "kms:Decrypt", KEY_ARN));
    assert_true(allowed_action(act, "\"Resource\":[\"" OTHER_KEY_ARN "\",\"" KEY_ARN "\"]",
                               "kms:Decrypt", KEY_ARN));
    /* No resource in the request (GenerateRandom): only "*" */
    assert_true(allowed_action(act, any_res, "kms:Decrypt", NULL));
    assert_false(allowed_action(act, "\"Resource\":\"arn:aws:kms:*\"", "kms:Decrypt", NULL));
    /* NotResource */
    assert_false(allowed_action(act, "\"NotResource\":\"" KEY_ARN "\"", "kms:Decrypt", KEY_ARN));
    assert_true(
        allowed_action(act, "\"NotResource\":\"" KEY_ARN "\"", "kms:Decrypt", OTHER_KEY_ARN));
    assert_false(allowed_action(act, "\"NotResource\":\"*\"", "kms:Decrypt", KEY_ARN));
    assert_true(allowed_action(act, "\"NotResource\":\"arn:aws:kms:*\"", "kms:Decrypt", NULL));

    /* NotAction in a Deny: deny everything but Decrypt to one role. */
    static const char doc[] =
        "{\"Version\":\"2012-10-17\",\"Statement\":["
        "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ACCT "\"},\"Action\":\"kms:*\","
        "\"Resource\":\"*\"},"
        "{\"Sid\":\"OnlyDecrypt\",\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"arn:aws:iam::" ACCT
        ":role/reader\"},\"NotAction\":\"kms:Decrypt\",\"Resource\":\"*\"}]}";
    struct vt_kms_policy *p = parse_ok(doc);
    struct req r = {"kms:Decrypt", "arn:aws:iam::" ACCT ":role/reader", ACCT, KEY_ARN, NOKEYS};
    assert_true(decide(p, &r, NULL));
    r.action = "kms:Encrypt";
    json_t *e;
    assert_false(decide(p, &r, &e));
    assert_string_equal(rule_of(e), "explicit deny by Statement[1] (Sid \"OnlyDecrypt\")");
    json_t *act_el = json_object_get(stmt_of(e, 1), "action");
    assert_string_equal(json_string_value(json_object_get(act_el, "element")), "NotAction");
    json_decref(e);
    r.principal = ALICE;
    assert_true(decide(p, &r, NULL));
    vt_kms_policy_free(p);
}

/* ---- accepted documents ---- */

static const char *const accepted[] = {
    /* Version absent (2008-10-17), or 2008-10-17; Statement as one object */
    "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\"}"
    "}",
    "{\"Version\":\"2008-10-17\",\"Id\":\"\",\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":"
    "{\"AWS\":[\"*\"]},\"Action\":[\"kms:*\"],\"Resource\":[\"*\"]}]}",
    /* empty Sids are not ids: two of them */
    "{\"Statement\":[{\"Sid\":\"\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\","
    "\"Resource\":\"*\"},{\"Sid\":\"\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\","
    "\"Resource\":\"*\"}]}",
    /* Sids that differ by case only */
    "{\"Statement\":[{\"Sid\":\"a\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\","
    "\"Resource\":\"*\"},{\"Sid\":\"A\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\","
    "\"Resource\":\"*\"}]}",
    /* every principal form */
    "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"" ACCT "\","
    "\"arn:aws:iam::" ACCT ":root\",\"arn:aws:iam::" ACCT ":role/a/b/c\","
    "\"arn:aws:iam::" ACCT ":user/u+=,.@_-\",\"arn:aws-cn:iam::" ACCT ":role/r\","
    "\"arn:aws:sts::" ACCT ":assumed-role/r/s\",\"*\"]},\"Action\":\"*\",\"Resource\":\"*\"}}",
    /* every key family, PCR bounds, values of each JSON type */
    "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\","
    "\"Condition\":{\"StringEquals\":{\"kms:RecipientAttestation:PCR0\":\"a\","
    "\"kms:RecipientAttestation:PCR31\":\"a\",\"kms:RecipientAttestation:NitroTPMPCR0\":\"a\","
    "\"kms:RecipientAttestation:NitroTPMPCR23\":\"a\",\"kms:EncryptionContext:x:y\":\"a\","
    "\"aws:PrincipalTag/team\":\"a\",\"aws:RequestTag/t\":\"a\",\"aws:ResourceTag/t\":\"a\","
    "\"aws:TagKeys\":[\"a\",1,true],\"KMS:VIASERVICE\":\"ec2.us-east-1.amazonaws.com\","
    "\"aws:username\":\"a\",\"kms:GrantIsForAWSResource\":\"true\"}}}}",
    /* every operator with every modifier */
    "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\","
    "\"Condition\":{\"ForAnyValue:StringNotEqualsIgnoreCaseIfExists\":{\"kms:GrantOperations\":"
    "\"a\"},\"ForAllValues:NumericGreaterThanEqualsIfExists\":{\"kms:GrantOperations\":\"-1.5\"},"
    "\"ArnNotEqualsIfExists\":{\"aws:SourceArn\":\"arn:aws:s3:::*\"},"
    "\"ForAnyValue:ArnLike\":{\"aws:SourceArn\":\"arn:*:*:*:*:*\"},\"BoolIfExists\":"
    "{\"aws:MultiFactorAuthPresent\":\"FALSE\"},\"Null\":{\"kms:ValidTo\":true},"
    "\"NumericLessThanIfExists\":{\"kms:RotationPeriodInDays\":365}}}}",
    /* wildcard actions and resources */
    "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":[\"kms:Get*\","
    "\"kms:*Key*\",\"kms:?ecrypt\",\"kms:*\"],\"Resource\":[\"arn:aws:kms:*:*:key/*\","
    "\"arn:aws:kms:us-east-1:" ACCT ":alias/*\"]}}",
    /* variables are only refused where they would expand: Id and Sid are text */
    "{\"Id\":\"${x}\",\"Statement\":{\"Sid\":\"${y}\",\"Effect\":\"Allow\",\"Principal\":\"*\","
    "\"Action\":\"*\",\"Resource\":\"*\"}}",
    /* whitespace, and the size limit itself */
    " \n{ \"Statement\" : { \"Effect\" : \"Allow\" , \"Principal\" : \"*\" , \"Action\" : \"*\" ,"
    " \"Resource\" : \"*\" } }\n\t",
};

static void test_accepted(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        vt_kms_policy_free(parse_ok(accepted[i]));
    }
    /* Exactly 32 KiB (padded with whitespace) is accepted. */
    char *big = malloc(VT_KMS_POLICY_MAX_SIZE + 1);
    assert_non_null(big);
    const char *base = accepted[0];
    memset(big, ' ', VT_KMS_POLICY_MAX_SIZE);
    memcpy(big, base, strlen(base));
    struct vt_kms_policy *p = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_kms_policy_parse(big, VT_KMS_POLICY_MAX_SIZE, &p, &d), VT_OK);
    vt_kms_policy_free(p);
    free(big);
    vt_kms_policy_free(NULL);
}

/* ---- refusals: exact code and check ---- */

struct reject {
    const char *json;
    enum vt_err code;
    const char *check;
    const char *detail; /* a substring of the detail */
};

/* A statement with one member replaced: S(x) is {x, Effect, Principal, Action, Resource}. */
#define ST_REST "\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\""
#define DOC1(stmt) "{\"Version\":\"2012-10-17\",\"Statement\":[" stmt "]}"
#define ALLOW(extra) DOC1("{\"Effect\":\"Allow\"," ST_REST extra "}")
#define COND(c) ALLOW(",\"Condition\":" c)
#define WITH_PRINCIPAL(pr)                                                                         \
    DOC1("{\"Effect\":\"Allow\",\"Principal\":" pr ",\"Action\":\"*\",\"Resource\":\"*\"}")
#define WITH_ACTION(a)                                                                             \
    DOC1("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":" a ",\"Resource\":\"*\"}")
#define WITH_RESOURCE(r)                                                                           \
    DOC1("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":" r "}")
#define CS "policy.Statement[0].Condition"

static const struct reject rejects[] = {
    /* the document */
    {"", VT_E_BAD_JSON, "policy", "line 1"},
    {"{\"Statement\":", VT_E_BAD_JSON, "policy", ""},
    {"{\"Statement\":[]} x", VT_E_BAD_JSON, "policy", ""},
    {"\"text\"", VT_E_BAD_JSON, "policy", ""},
    {"{\"Version\":\"2012-10-17\",\"Version\":\"2012-10-17\",\"Statement\":[]}", VT_E_DUPLICATE,
     "policy", "Version"},
    {ALLOW(",\"Effect\":\"Deny\""), VT_E_DUPLICATE, "policy", "Effect"},
    {"[]", VT_E_BAD_FIELD, "policy", "a policy is a JSON object, got an array"},
    {"{\"Version\":\"2012-10-17\",\"Statement\":[],\"Extra\":1}", VT_E_BAD_FIELD, "policy.Extra",
     "unknown member \"Extra\" of the policy"},
    {"{\"version\":\"2012-10-17\",\"Statement\":[]}", VT_E_BAD_FIELD, "policy.version",
     "case-sensitive: \"Version\""},
    {"{\"Version\":\"2012-10-18\",\"Statement\":[]}", VT_E_BAD_FIELD, "policy.Version",
     "got \"2012-10-18\""},
    {"{\"Version\":20121017,\"Statement\":[]}", VT_E_BAD_FIELD, "policy.Version", "got an integer"},
    {"{\"Id\":7,\"Statement\":[]}", VT_E_BAD_FIELD, "policy.Id", "must be a string"},
    {"{\"Version\":\"2012-10-17\"}", VT_E_MISSING_FIELD, "policy.Statement", "needs Statement"},
    {"{\"Statement\":[]}", VT_E_BAD_FIELD, "policy.Statement", "empty array"},
    {"{\"Statement\":\"x\"}", VT_E_BAD_FIELD, "policy.Statement", "got a string"},
    {"{\"Statement\":[1]}", VT_E_BAD_FIELD, "policy.Statement[0]",
     "a statement is an object, got an integer"},
    {"{\"Statement\":[{\"Effect\":\"Allow\"," ST_REST "},null]}", VT_E_BAD_FIELD,
     "policy.Statement[1]", "got null"},
    /* Sid */
    {DOC1("{\"Sid\":5,\"Effect\":\"Allow\"," ST_REST "}"), VT_E_BAD_FIELD,
     "policy.Statement[0].Sid", "must be a string, got an integer"},
    {DOC1("{\"Sid\":\"a\",\"Effect\":\"Allow\"," ST_REST
          "},{\"Sid\":\"b\",\"Effect\":\"Allow\"," ST_REST
          "},{\"Sid\":\"a\",\"Effect\":\"Deny\"," ST_REST "}"),
     VT_E_DUPLICATE, "policy.Statement[2].Sid", "Sid \"a\": Statement[0] has the same Sid"},
    /* members */
    {DOC1("{\"Sid\":\"s1\",\"Effect\":\"Allow\"," ST_REST ",\"Conditions\":{}}"), VT_E_BAD_FIELD,
     "policy.Statement[0].Conditions", "Sid \"s1\": unknown member \"Conditions\" of a statement"},
    {DOC1("{\"effect\":\"Allow\"," ST_REST "}"), VT_E_BAD_FIELD, "policy.Statement[0].effect",
     "case-sensitive: \"Effect\""},
    /* Effect */
    {DOC1("{" ST_REST "}"), VT_E_MISSING_FIELD, "policy.Statement[0].Effect", "needs Effect"},
    {DOC1("{\"Sid\":\"E\",\"Effect\":\"allow\"," ST_REST "}"), VT_E_BAD_FIELD,
     "policy.Statement[0].Effect", "Sid \"E\": must be \"Allow\" or \"Deny\", got \"allow\""},
    {DOC1("{\"Effect\":true," ST_REST "}"), VT_E_BAD_FIELD, "policy.Statement[0].Effect",
     "got a boolean"},
    /* Principal */
    {DOC1("{\"Effect\":\"Allow\",\"NotPrincipal\":{\"AWS\":\"*\"},\"Action\":\"*\","
          "\"Resource\":\"*\"}"),
     VT_E_UNSUPPORTED, "policy.Statement[0].NotPrincipal", "not supported"},
    {DOC1("{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}"), VT_E_MISSING_FIELD,
     "policy.Statement[0].Principal", "needs Principal"},
    {WITH_PRINCIPAL("\"" ACCT "\""), VT_E_BAD_FIELD, "policy.Statement[0].Principal",
     "must be \"*\", got \"" ACCT "\""},
    {WITH_PRINCIPAL("[\"*\"]"), VT_E_BAD_FIELD, "policy.Statement[0].Principal", "got an array"},
    {WITH_PRINCIPAL("{}"), VT_E_BAD_FIELD, "policy.Statement[0].Principal", "empty object"},
    {WITH_PRINCIPAL("{\"Service\":\"ec2.amazonaws.com\"}"), VT_E_UNSUPPORTED,
     "policy.Statement[0].Principal.Service", "Service principals are not supported"},
    {WITH_PRINCIPAL("{\"AWS\":\"*\",\"Federated\":\"cognito-identity.amazonaws.com\"}"),
     VT_E_UNSUPPORTED, "policy.Statement[0].Principal.Federated", "not supported"},
    {WITH_PRINCIPAL("{\"CanonicalUser\":\"79a5\"}"), VT_E_UNSUPPORTED,
     "policy.Statement[0].Principal.CanonicalUser", "not supported"},
    {WITH_PRINCIPAL("{\"aws\":\"*\"}"), VT_E_BAD_FIELD, "policy.Statement[0].Principal.aws",
     "unknown principal type \"aws\""},
    {WITH_PRINCIPAL("{\"AWS\":[]}"), VT_E_BAD_FIELD, "policy.Statement[0].Principal.AWS",
     "empty array"},
    {WITH_PRINCIPAL("{\"AWS\":7}"), VT_E_BAD_FIELD, "policy.Statement[0].Principal.AWS",
     "got an integer"},
    {WITH_PRINCIPAL("{\"AWS\":[\"*\",null]}"), VT_E_BAD_FIELD, "policy.Statement[0].Principal.AWS",
     "element 1 must be a string, got null"},
    {WITH_PRINCIPAL("{\"AWS\":\"bob\"}"), VT_E_BAD_FIELD, "policy.Statement[0].Principal.AWS",
     "principal \"bob\" is not \"*\", a 12-digit account id or an IAM ARN"},
    {WITH_PRINCIPAL("{\"AWS\":\"11112222333\"}"), VT_E_BAD_FIELD,
     "policy.Statement[0].Principal.AWS", "12-digit"},
    {WITH_PRINCIPAL("{\"AWS\":\"AROAEXAMPLEID1234567\"}"), VT_E_BAD_FIELD,
     "policy.Statement[0].Principal.AWS", "IAM unique id"},
    {WITH_PRINCIPAL("{\"AWS\":\"arn:aws:iam::" ACCT ":role/*\"}"), VT_E_BAD_FIELD,
     "policy.Statement[0].Principal.AWS", "wildcards are only allowed as the whole principal"},
    {WITH_PRINCIPAL("{\"AWS\":\"arn:aws:iam::*:root\"}"), VT_E_BAD_FIELD,
     "policy.Statement[0].Principal.AWS", "wildcards"},
    {WITH_PRINCIPAL("{\"AWS\":\"arn:aws:iam::1111:root\"}"), VT_E_BAD_FIELD,
     "policy.Statement[0].Principal.AWS", "is not an IAM ARN"},
    {WITH_PRINCIPAL("{\"AWS\":\"arn:aws:iam:us-east-1:" ACCT ":root\"}"), VT_E_BAD_FIELD,
     "policy.Statement[0].Principal.AWS", "is not an IAM ARN"},
    {WITH_PRINCIPAL("{\"AWS\":\"arn:gcp:iam::" ACCT ":root\"}"), VT_E_BAD_FIELD,
     "policy.Statement[0].Principal.AWS", "is not an IAM ARN"},
    {WITH_PRINCIPAL("{\"AWS\":\"arn:aws:iam::" ACCT ":group/admins\"}"), VT_E_BAD_FIELD,
     "policy.Statement[0].Principal.AWS", "is not an account root, role, user or assumed-role"},
    {WITH_PRINCIPAL("{\"AWS\":\"arn:aws:iam::" ACCT ":role/\"}"), VT_E_BAD_FIELD,
     "policy.Statement[0].Principal.AWS", "is not an account root"},
    {WITH_PRINCIPAL("{\"AWS\":\"arn:aws:iam::" ACCT ":role/a b\"}"), VT_E_BAD_FIELD,
     "policy.Statement[0].Principal.AWS", "is not an account root"},
    {WITH_PRINCIPAL("{\"AWS\":\"arn:aws:sts::" ACCT ":assumed-role/r\"}"), VT_E_BAD_FIELD,
     "policy.Statement[0].Principal.AWS", "is not an account root"},
    {WITH_PRINCIPAL("{\"AWS\":\"arn:aws:s3:::bucket\"}"), VT_E_BAD_FIELD,
     "policy.Statement[0].Principal.AWS", "is not an IAM ARN"},
    /* Action */
    {DOC1("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Resource\":\"*\"}"), VT_E_MISSING_FIELD,
     "policy.Statement[0].Action", "needs Action (or NotAction)"},
    {DOC1("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"NotAction\":\"*\","
          "\"Resource\":\"*\"}"),
     VT_E_BAD_FIELD, "policy.Statement[0].NotAction", "Action or NotAction, not both"},
    {WITH_ACTION("[]"), VT_E_BAD_FIELD, "policy.Statement[0].Action", "empty array"},
    {WITH_ACTION("{}"), VT_E_BAD_FIELD, "policy.Statement[0].Action", "got an object"},
    {WITH_ACTION("[\"kms:Decrypt\",2]"), VT_E_BAD_FIELD, "policy.Statement[0].Action",
     "element 1 must be a string, got an integer"},
    {WITH_ACTION("\"Decrypt\""), VT_E_BAD_FIELD, "policy.Statement[0].Action",
     "action \"Decrypt\" is not \"kms:Name\""},
    {WITH_ACTION("\"s3:GetObject\""), VT_E_BAD_FIELD, "policy.Statement[0].Action",
     "AWS KMS actions (kms:...) only"},
    {WITH_ACTION("\"*:Decrypt\""), VT_E_BAD_FIELD, "policy.Statement[0].Action", "kms:...) only"},
    {WITH_ACTION("\"kms:\""), VT_E_BAD_FIELD, "policy.Statement[0].Action", "letters and digits"},
    {WITH_ACTION("\"kms:De-crypt\""), VT_E_BAD_FIELD, "policy.Statement[0].Action",
     "letters and digits"},
    {WITH_ACTION("[\"kms:Decrypt\",\"kms:Decrpyt\"]"), VT_E_BAD_FIELD, "policy.Statement[0].Action",
     "action \"kms:Decrpyt\" matches no AWS KMS action"},
    {WITH_ACTION("\"kms:Foo*\""), VT_E_BAD_FIELD, "policy.Statement[0].Action",
     "matches no AWS KMS action"},
    {DOC1("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"NotAction\":\"kms:Nope\","
          "\"Resource\":\"*\"}"),
     VT_E_BAD_FIELD, "policy.Statement[0].NotAction", "matches no AWS KMS action"},
    /* Resource */
    {DOC1("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\"}"), VT_E_MISSING_FIELD,
     "policy.Statement[0].Resource", "needs Resource (or NotResource)"},
    {DOC1("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\","
          "\"NotResource\":\"*\"}"),
     VT_E_BAD_FIELD, "policy.Statement[0].NotResource", "not both"},
    {WITH_RESOURCE("[]"), VT_E_BAD_FIELD, "policy.Statement[0].Resource", "empty array"},
    {WITH_RESOURCE("\"arn:aws:s3:::bucket/*\""), VT_E_BAD_FIELD, "policy.Statement[0].Resource",
     "is not \"*\" or a KMS key ARN"},
    {WITH_RESOURCE("\"key/1234\""), VT_E_BAD_FIELD, "policy.Statement[0].Resource",
     "is not \"*\" or a KMS key ARN"},
    {WITH_RESOURCE("\"ARN:aws:kms:*\""), VT_E_BAD_FIELD, "policy.Statement[0].Resource",
     "KMS key ARN"},
    {WITH_RESOURCE("\"arn:aws:kms*\""), VT_E_BAD_FIELD, "policy.Statement[0].Resource",
     "KMS key ARN"},
    {WITH_RESOURCE("\"arn:aws:kms:us-east-1:\""), VT_E_BAD_FIELD, "policy.Statement[0].Resource",
     "KMS key ARN"},
    {WITH_RESOURCE("\"arn:aws:kms:us-east-1\""), VT_E_BAD_FIELD, "policy.Statement[0].Resource",
     "KMS key ARN"},
    {WITH_RESOURCE("\"arn:aws:*:us-east-1:" ACCT ":key/x\""), VT_E_BAD_FIELD,
     "policy.Statement[0].Resource", "KMS key ARN"},
    {WITH_RESOURCE("\"arn:aws:kms:us-east-1:" ACCT ":key/${aws:username}\""), VT_E_UNSUPPORTED,
     "policy.Statement[0].Resource", "policy variables"},
    {DOC1("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"NotResource\":[\"x\"]}"),
     VT_E_BAD_FIELD, "policy.Statement[0].NotResource", "KMS key ARN"},
    /* Condition */
    {COND("[]"), VT_E_BAD_FIELD, CS, "must be an object, got an array"},
    {COND("{}"), VT_E_BAD_FIELD, CS, "empty object"},
    {COND("{\"StringEqual\":{\"kms:CallerAccount\":\"1\"}}"), VT_E_BAD_FIELD, CS ".StringEqual",
     "unknown condition operator \"StringEqual\""},
    {COND("{\"stringequals\":{\"kms:CallerAccount\":\"1\"}}"), VT_E_BAD_FIELD, CS ".stringequals",
     "case-sensitive: \"StringEquals\""},
    {COND("{\"ForAnyValue:\":{\"kms:CallerAccount\":\"1\"}}"), VT_E_BAD_FIELD,
     CS ".ForAnyValue:", "unknown condition operator"},
    {COND("{\"ForSomeValues:StringEquals\":{\"kms:CallerAccount\":\"1\"}}"), VT_E_BAD_FIELD,
     CS ".ForSomeValues:StringEquals", "unknown condition operator"},
    {COND("{\"StringEqualsStringEqualsStringEqualsStringEqualsStringEqualsStringEquals\":"
          "{\"kms:CallerAccount\":\"1\"}}"),
     VT_E_BAD_FIELD, "policy.Statement[0].Condition.StringEqualsStringEqualsStringEqu",
     "unknown condition operator \"StringEqualsStringEqualsStringEqualsStringEquals...\""},
    {COND("{\"IfExists\":{\"kms:CallerAccount\":\"1\"}}"), VT_E_BAD_FIELD, CS ".IfExists",
     "unknown condition operator"},
    {COND("{\"StringEqualsIfExistsIfExists\":{\"kms:CallerAccount\":\"1\"}}"), VT_E_BAD_FIELD,
     CS ".StringEqualsIfExistsIfExists", "unknown condition operator"},
    {COND("{\"DateLessThan\":{\"aws:CurrentTime\":\"2030-01-01T00:00:00Z\"}}"), VT_E_UNSUPPORTED,
     CS ".DateLessThan", "\"DateLessThan\" is not supported"},
    {COND("{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}"), VT_E_UNSUPPORTED, CS ".IpAddress",
     "not supported"},
    {COND("{\"BinaryEqualsIfExists\":{\"aws:SourceIp\":\"AA==\"}}"), VT_E_UNSUPPORTED,
     CS ".BinaryEqualsIfExists", "not supported"},
    {COND("{\"NullIfExists\":{\"kms:CallerAccount\":\"true\"}}"), VT_E_BAD_FIELD,
     CS ".NullIfExists", "takes no IfExists"},
    {COND("{\"ForAllValues:Null\":{\"kms:CallerAccount\":\"true\"}}"), VT_E_BAD_FIELD,
     CS ".ForAllValues:Null", "takes no ForAnyValue/ForAllValues"},
    {COND("{\"StringEquals\":[\"a\"]}"), VT_E_BAD_FIELD, CS ".StringEquals",
     "must be an object of condition keys, got an array"},
    {COND("{\"StringEquals\":{}}"), VT_E_BAD_FIELD, CS ".StringEquals", "empty object"},
    {COND("{\"StringEquals\":{\"s3:prefix\":\"a\"}}"), VT_E_BAD_FIELD, CS ".StringEquals",
     "condition key \"s3:prefix\": a key policy takes kms: and aws: keys only"},
    {COND("{\"StringEquals\":{\"CallerAccount\":\"a\"}}"), VT_E_BAD_FIELD, CS ".StringEquals",
     "kms: and aws: keys only"},
    {COND("{\"StringEquals\":{\"kms:CallerAcount\":\"a\"}}"), VT_E_BAD_FIELD, CS ".StringEquals",
     "condition key \"kms:CallerAcount\" is not an AWS KMS or AWS global condition key"},
    {COND("{\"StringEquals\":{\"aws:PrincipleArn\":\"a\"}}"), VT_E_BAD_FIELD, CS ".StringEquals",
     "is not an AWS KMS or AWS global condition key"},
    {COND("{\"StringEquals\":{\"kms:EncryptionContext:\":\"a\"}}"), VT_E_BAD_FIELD,
     CS ".StringEquals", "not an AWS KMS"},
    {COND("{\"StringEquals\":{\"aws:PrincipalTag/\":\"a\"}}"), VT_E_BAD_FIELD, CS ".StringEquals",
     "not an AWS KMS"},
    {COND("{\"StringEquals\":{\"kms:RecipientAttestation:PCR32\":\"a\"}}"), VT_E_BAD_FIELD,
     CS ".StringEquals", "kms:RecipientAttestation:PCR32"},
    {COND("{\"StringEquals\":{\"kms:RecipientAttestation:PCR01\":\"a\"}}"), VT_E_BAD_FIELD,
     CS ".StringEquals", "kms:RecipientAttestation:PCR01"},
    {COND("{\"StringEquals\":{\"kms:RecipientAttestation:PCR\":\"a\"}}"), VT_E_BAD_FIELD,
     CS ".StringEquals", "not an AWS KMS"},
    {COND("{\"StringEquals\":{\"kms:RecipientAttestation:PCR100\":\"a\"}}"), VT_E_BAD_FIELD,
     CS ".StringEquals", "not an AWS KMS"},
    {COND("{\"StringEquals\":{\"kms:RecipientAttestation:NitroTPMPCR24\":\"a\"}}"), VT_E_BAD_FIELD,
     CS ".StringEquals", "NitroTPMPCR24"},
    {COND("{\"StringEquals\":{\"kms:RecipientAttestation:ImageSha256\":\"a\"}}"), VT_E_BAD_FIELD,
     CS ".StringEquals", "not an AWS KMS"},
    {COND("{\"StringEquals\":{\"kms:CallerAccount\":[]}}"), VT_E_BAD_FIELD, CS ".StringEquals",
     "key \"kms:CallerAccount\": empty list of values"},
    {COND("{\"StringEquals\":{\"kms:CallerAccount\":null}}"), VT_E_BAD_FIELD, CS ".StringEquals",
     "a value is a string, an integer or a boolean, got null"},
    {COND("{\"StringEquals\":{\"kms:CallerAccount\":[\"a\",{}]}}"), VT_E_BAD_FIELD,
     CS ".StringEquals", "got an object"},
    {COND("{\"StringEquals\":{\"kms:CallerAccount\":[[\"a\"]]}}"), VT_E_BAD_FIELD,
     CS ".StringEquals", "got an array"},
    {COND("{\"NumericEquals\":{\"kms:RotationPeriodInDays\":1.5}}"), VT_E_BAD_FIELD,
     CS ".NumericEquals", "write a fractional number as a string"},
    {COND("{\"NumericEquals\":{\"kms:RotationPeriodInDays\":\"ten\"}}"), VT_E_BAD_FIELD,
     CS ".NumericEquals", "\"ten\" is not a decimal number"},
    {COND("{\"NumericLessThan\":{\"kms:RotationPeriodInDays\":\"1e3\"}}"), VT_E_BAD_FIELD,
     CS ".NumericLessThan", "not a decimal number"},
    {COND("{\"NumericLessThan\":{\"kms:RotationPeriodInDays\":\"1.\"}}"), VT_E_BAD_FIELD,
     CS ".NumericLessThan", "not a decimal number"},
    {COND("{\"NumericLessThan\":{\"kms:RotationPeriodInDays\":\"\"}}"), VT_E_BAD_FIELD,
     CS ".NumericLessThan", "not a decimal number"},
    {COND("{\"NumericLessThan\":{\"kms:RotationPeriodInDays\":true}}"), VT_E_BAD_FIELD,
     CS ".NumericLessThan", "\"true\" is not a decimal number"},
    {COND("{\"Bool\":{\"aws:SecureTransport\":\"yes\"}}"), VT_E_BAD_FIELD, CS ".Bool",
     "\"yes\" is not true or false"},
    {COND("{\"Bool\":{\"aws:SecureTransport\":1}}"), VT_E_BAD_FIELD, CS ".Bool",
     "\"1\" is not true or false"},
    {COND("{\"Null\":{\"aws:SecureTransport\":\"maybe\"}}"), VT_E_BAD_FIELD, CS ".Null",
     "not true or false"},
    {COND("{\"ArnLike\":{\"aws:PrincipalArn\":\"*\"}}"), VT_E_BAD_FIELD, CS ".ArnLike",
     "\"*\" is not an ARN"},
    {COND("{\"ArnEquals\":{\"aws:PrincipalArn\":\"arn:aws:iam::${aws:userid}:root\"}}"),
     VT_E_UNSUPPORTED, CS ".ArnEquals", "policy variables"},
    {COND("{\"StringEquals\":{\"aws:username\":\"${aws:username}\"}}"), VT_E_UNSUPPORTED,
     CS ".StringEquals", "\"${aws:username}\": policy variables (${...}) are not supported"},
    {DOC1("{\"Sid\":\"v8\",\"Effect\":\"Allow\"," ST_REST ",\"Condition\":{\"StringLike\":"
          "{\"aws:username\":\"a${*}b\"}}}"),
     VT_E_UNSUPPORTED, CS ".StringLike", "Sid \"v8\": \"a${*}b\": policy variables"},
    /* the second statement's errors name it */
    {"{\"Statement\":[{\"Effect\":\"Allow\"," ST_REST
     "},{\"Sid\":\"Second\",\"Effect\":\"Allow\"," ST_REST
     ",\"Condition\":{\"StringEquals\":{\"kms:Nope\":\"1\"}}}]}",
     VT_E_BAD_FIELD, "policy.Statement[1].Condition.StringEquals",
     "Sid \"Second\": condition key \"kms:Nope\""},
    /* Statement as one object: its path has no index */
    {"{\"Statement\":{\"Effect\":\"Permit\"," ST_REST "}}", VT_E_BAD_FIELD,
     "policy.Statement.Effect", "got \"Permit\""},
    /* a check too long for the diag: cut, and the detail leads with the full path */
    {"{\"Statement\":[{\"Effect\":\"Allow\"," ST_REST ",\"Condition\":{"
     "\"ForAllValues:StringNotEqualsIgnoreCaseIfExists\":{\"kms:Nope\":\"1\"}}}]}",
     VT_E_BAD_FIELD, "policy.Statement[0].Condition.ForAllValues:StringNotEqualsIgnor",
     "at policy.Statement[0].Condition.ForAllValues:StringNotEqualsIgnoreCaseIfExists: "
     "condition key \"kms:Nope\""},
    /* text from the policy is shown printable and cut */
    {WITH_PRINCIPAL("{\"AWS\":\"\\u0001bob\\u00e9xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                    "xxxxxxxxxxxxxxxxxx\"}"),
     VT_E_BAD_FIELD, "policy.Statement[0].Principal.AWS",
     "principal \"?bob??xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\""},
};

static void test_rejects(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
        const struct reject *r = &rejects[i];
        struct vt_kms_policy *p = (struct vt_kms_policy *)&p;
        struct vt_diag d;
        vt_diag_init(&d);
        enum vt_err err = vt_kms_policy_parse(r->json, strlen(r->json), &p, &d);
        if (err != r->code || strcmp(d.check, r->check) != 0 ||
            strstr(d.detail, r->detail) == NULL) {
            fail_msg("case %zu: want %s at %s (\"%s\"), got %s at %s: %s\n%s", i,
                     vt_err_name(r->code), r->check, r->detail, vt_err_name(err), d.check, d.detail,
                     r->json);
        }
        assert_null(p);
        assert_int_equal(d.code, err);
    }
    /* Too large: one byte over 32 KiB, whatever it holds. */
    char *big = malloc(VT_KMS_POLICY_MAX_SIZE + 1);
    assert_non_null(big);
    memset(big, ' ', VT_KMS_POLICY_MAX_SIZE + 1);
    struct vt_kms_policy *p = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_kms_policy_parse(big, VT_KMS_POLICY_MAX_SIZE + 1, &p, &d), VT_E_TOO_LARGE);
    assert_string_equal(d.check, "policy");
    assert_string_equal(d.detail, "policy is 32769 bytes; at most 32768");
    assert_null(p);
    free(big);
    /* A NUL inside the text is bad JSON, not the end of the policy. */
    static const char nul[] = "{\"Statement\":{}}\0garbage";
    assert_int_equal(vt_kms_policy_parse(nul, sizeof(nul) - 1, &p, &d), VT_E_BAD_JSON);
    /* Arguments. */
    assert_int_equal(vt_kms_policy_parse("{}", 2, NULL, &d), VT_E_ARG);
    assert_int_equal(vt_kms_policy_parse(NULL, 5, &p, &d), VT_E_ARG);
    assert_int_equal(vt_kms_policy_parse(NULL, 0, &p, &d), VT_E_BAD_JSON);
    assert_int_equal(vt_kms_policy_parse("{}", 2, &p, NULL), VT_E_MISSING_FIELD);
}

/* ---- the request context's edges ---- */

static void test_context(void **state)
{
    (void)state;
    struct vt_kms_policy *p = parse_ok(accepted[0]); /* allows anything to anyone */
    struct req r = {"kms:Decrypt", ALICE, ACCT, KEY_ARN, NOKEYS};
    assert_true(decide(p, &r, NULL));
    assert_false(vt_kms_policy_allows(p, NULL, NULL));
    struct vt_kms_request_ctx ctx = {"kms:Decrypt", ALICE, ACCT, KEY_ARN, NULL, 0};
    assert_false(vt_kms_policy_allows(NULL, &ctx, NULL));
    char *text = NULL;
    assert_false(vt_kms_policy_allows(NULL, &ctx, &text));
    assert_non_null(text);
    assert_non_null(strstr(text, "\"decision\":\"deny\""));
    free(text);
    /* keys NULL with a count: no keys */
    ctx.n_keys = 3;
    assert_true(vt_kms_policy_allows(p, &ctx, NULL));
    /* No action. */
    r.action = NULL;
    json_t *e;
    assert_false(decide(p, &r, &e));
    assert_string_equal(rule_of(e), "request context has no action");
    assert_int_equal(json_array_size(json_object_get(e, "statements")), 0);
    json_decref(e);
    /* A principal of another account than the request's. */
    r.action = "kms:Decrypt";
    r.account = XACCT;
    assert_false(decide(p, &r, &e));
    assert_string_equal(rule_of(e),
                        "request context: principal \"" ALICE "\" is not of account \"" XACCT "\"");
    json_decref(e);
    /* A principal that is not an ARN: "*" still matches it. */
    r.principal = "anonymous";
    assert_true(decide(p, &r, NULL));
    vt_kms_policy_free(p);
    /* Values that are not UTF-8 are shown as such in the explanation. */
    p = parse_ok(COND("{\"StringEquals\":{\"kms:EncryptionContext:k\":\"a\"}}"));
    struct req bad = {
        "kms:Decrypt", ALICE, ACCT, KEY_ARN, {{"kms:EncryptionContext:k", {"\xff\xfe"}, 1}}};
    assert_false(decide(p, &bad, &e));
    json_t *c = json_array_get(json_object_get(stmt_of(e, 0), "conditions"), 0);
    assert_string_equal(json_string_value(json_array_get(json_object_get(c, "actual"), 0)),
                        "(not UTF-8)");
    json_decref(e);
    vt_kms_policy_free(p);
}

/* ---- the explanation's shape ---- */

static void test_explanation(void **state)
{
    (void)state;
    struct vt_kms_policy *p = parse_ok(full_policy);
    struct req u = {
        "kms:Decrypt", APP, XACCT, KEY_ARN, {{"kms:EncryptionContext:app", {"payroll"}, 1}}};
    json_t *e;
    assert_false(decide(p, &u, &e));
    json_t *sts = json_object_get(e, "statements");
    assert_int_equal(json_array_size(sts), 6);
    for (size_t i = 0; i < 6; i++) {
        json_t *s = json_array_get(sts, i);
        assert_int_equal(json_integer_value(json_object_get(s, "index")), i);
        assert_true(json_is_string(json_object_get(s, "sid")));
        assert_true(json_is_false(json_object_get(s, "applies")));
        static const char *const els[] = {"principal", "action", "resource"};
        for (size_t k = 0; k < 3; k++) {
            json_t *el = json_object_get(s, els[k]);
            assert_true(json_is_string(json_object_get(el, "element")));
            assert_true(json_is_boolean(json_object_get(el, "matched")));
            assert_true(json_is_array(json_object_get(el, "expected")));
            assert_non_null(json_object_get(el, "actual"));
        }
        assert_true(json_is_array(json_object_get(s, "conditions")));
    }
    json_t *s2 = json_array_get(sts, 2);
    assert_string_equal(json_string_value(json_object_get(s2, "effect")), "Allow");
    assert_string_equal(json_string_value(json_object_get(s2, "sid")), "Allow use of the key");
    assert_string_equal(failed_of(e, 2), "Condition.StringEquals.kms:EncryptionContext:app");
    json_t *pr = json_object_get(s2, "principal");
    assert_true(json_is_true(json_object_get(pr, "matched")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(pr, "actual"), "arn")),
                        APP);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(pr, "actual"), "account")), XACCT);
    assert_int_equal(json_array_size(json_object_get(pr, "expected")), 2);
    json_t *c = json_array_get(json_object_get(s2, "conditions"), 0);
    assert_string_equal(json_string_value(json_object_get(c, "operator")), "StringEquals");
    assert_string_equal(json_string_value(json_object_get(c, "key")), "kms:EncryptionContext:app");
    assert_string_equal(json_string_value(json_array_get(json_object_get(c, "expected"), 0)),
                        "billing");
    assert_string_equal(json_string_value(json_array_get(json_object_get(c, "actual"), 0)),
                        "payroll");
    assert_string_equal(failed_of(e, 0), "Principal");
    assert_string_equal(failed_of(e, 1), "Principal");
    assert_string_equal(failed_of(e, 4), "Action"); /* in order: Principal "*" matched */
    assert_string_equal(failed_of(e, 5), "Action");
    json_decref(e);
    vt_kms_policy_free(p);
    /* A statement without a Sid: null, and the rule names the index alone. */
    p = parse_ok(accepted[0]);
    struct req r = {"kms:Decrypt", ALICE, ACCT, KEY_ARN, NOKEYS};
    assert_true(decide(p, &r, &e));
    assert_string_equal(rule_of(e), "allowed by Statement[0]");
    assert_true(json_is_null(json_object_get(stmt_of(e, 0), "sid")));
    json_decref(e);
    vt_kms_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nitro_enclave),     cmocka_unit_test(test_full_policy),
        cmocka_unit_test(test_principals),        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_actions_resources), cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_rejects),           cmocka_unit_test(test_context),
        cmocka_unit_test(test_explanation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
