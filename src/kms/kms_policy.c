/*
 * AWS KMS key policies (docs/kms.md, "Key policies"): the parser and the evaluator.
 *
 * The document, as AWS's IAM policy grammar writes it (only what a key policy uses):
 *
 *   { "Version": "2012-10-17" | "2008-10-17",          optional; absent means 2008-10-17
 *     "Id": STRING,                                     optional
 *     "Statement": STATEMENT | [STATEMENT, ...] }
 *   STATEMENT = { "Sid": STRING, "Effect": "Allow" | "Deny",
 *                 "Principal": "*" | {"AWS": PRINCIPAL | [PRINCIPAL, ...]},
 *                 "Action" | "NotAction": ACTION | [ACTION, ...],
 *                 "Resource" | "NotResource": RESOURCE | [RESOURCE, ...],
 *                 "Condition": {OPERATOR: {KEY: VALUE | [VALUE, ...], ...}, ...} }
 *
 * Everything is checked when the policy is parsed (member names and types, principals, action
 * names against AWS KMS's actions, resource ARNs, operators, condition keys, values for the
 * operator), so evaluation cannot fail and needs no allocation except for the explanation.
 * SPEC: AWS IAM User Guide, "Policy evaluation logic" (explicit deny, allow, implicit deny),
 * "IAM JSON policy elements: Condition operators" (missing keys, IfExists, Null),
 * "Conditions with multiple context keys or values" (AND/OR/NOR, ForAnyValue/ForAllValues);
 * AWS KMS Developer Guide, "Key policies", "AWS KMS condition keys", "Condition keys for AWS
 * Nitro Enclaves" and "Condition keys for NitroTPM".
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kms/kms_policy.h"

/* ---- strings ---- */

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive equality (no locale). */
static bool ieq(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        if (lower(*a) != lower(*b)) {
            return false;
        }
    }
    return *a == *b;
}

static bool istarts(const char *s, const char *prefix)
{
    for (; *prefix != '\0'; s++, prefix++) {
        if (*s == '\0' || lower(*s) != lower(*prefix)) {
            return false;
        }
    }
    return true;
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static bool all_digits(const char *s, size_t n)
{
    if (n == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

/* Bytes in the UTF-8 sequence that starts at s (1 for a stray byte), at most left. */
static size_t utf8_len(const char *s, size_t left)
{
    unsigned char b = (unsigned char)s[0];
    size_t n = b < 0x80             ? 1
               : (b & 0xe0) == 0xc0 ? 2
               : (b & 0xf0) == 0xe0 ? 3
               : (b & 0xf8) == 0xf0 ? 4
                                    : 1;
    return n < left ? n : left;
}

/*
 * AWS's wildcards: '*' any run of characters (also none), '?' exactly one character (a UTF-8
 * code point). fold: ASCII letters compare case-insensitively. Iterative, O(|pat| * |s|).
 */
static bool glob(const char *pat, size_t plen, const char *s, size_t slen, bool fold)
{
    size_t p = 0, i = 0, star_p = SIZE_MAX, star_i = 0;
    while (i < slen) {
        if (p < plen && pat[p] == '*') {
            star_p = p++;
            star_i = i;
        } else if (p < plen && pat[p] == '?') {
            p++;
            i += utf8_len(s + i, slen - i);
        } else if (p < plen && (fold ? lower(pat[p]) == lower(s[i]) : pat[p] == s[i])) {
            p++;
            i++;
        } else if (star_p != SIZE_MAX) {
            /* The star takes one more character; backtracking stays on code point starts. */
            star_i += utf8_len(s + star_i, slen - star_i);
            i = star_i;
            p = star_p + 1;
        } else {
            return false;
        }
    }
    while (p < plen && pat[p] == '*') {
        p++;
    }
    return p == plen;
}

static bool glob_str(const char *pat, const char *s, bool fold)
{
    return glob(pat, strlen(pat), s, strlen(s), fold);
}

/* An ARN's six colon-separated fields: arn:partition:service:region:account:resource (the
 * resource may hold further colons). */
struct arn {
    const char *f[6];
    size_t n[6];
};

static bool arn_split(const char *s, struct arn *a)
{
    if (!starts(s, "arn:")) {
        return false;
    }
    const char *p = s;
    for (int k = 0; k < 5; k++) {
        const char *c = strchr(p, ':');
        if (c == NULL) {
            return false;
        }
        a->f[k] = p;
        a->n[k] = (size_t)(c - p);
        p = c + 1;
    }
    a->f[5] = p;
    a->n[5] = strlen(p);
    return true;
}

/* ArnEquals / ArnLike: each of the six fields matched on its own, wildcards within a field. */
static bool arn_like(const char *pat, const char *s)
{
    struct arn ap, as;
    if (!arn_split(pat, &ap) || !arn_split(s, &as)) {
        return false;
    }
    for (int k = 0; k < 6; k++) {
        if (!glob(ap.f[k], ap.n[k], as.f[k], as.n[k], false)) {
            return false;
        }
    }
    return true;
}

/*
 * Decimal numbers for the Numeric operators, compared exactly as text (no floating point):
 * [-]DIGITS[.DIGITS], no exponent. Leading zeros of the integer part and trailing zeros of the
 * fraction are dropped; -0 is 0.
 */
struct dec {
    bool neg;
    const char *ip, *fp;
    size_t il, fl;
};

static bool dec_parse(const char *s, struct dec *d)
{
    d->neg = s[0] == '-';
    if (d->neg) {
        s++;
    }
    size_t il = strspn(s, "0123456789");
    if (il == 0) {
        return false;
    }
    const char *fp = s + il;
    size_t fl = 0;
    if (*fp == '.') {
        fp++;
        fl = strspn(fp, "0123456789");
        if (fl == 0) {
            return false;
        }
    }
    if (fp[fl] != '\0') {
        return false;
    }
    while (il > 0 && *s == '0') {
        s++;
        il--;
    }
    while (fl > 0 && fp[fl - 1] == '0') {
        fl--;
    }
    d->ip = s;
    d->il = il;
    d->fp = fp;
    d->fl = fl;
    if (il == 0 && fl == 0) {
        d->neg = false;
    }
    return true;
}

static int dec_cmp(const struct dec *a, const struct dec *b)
{
    if (a->neg != b->neg) {
        return a->neg ? -1 : 1;
    }
    int m = 0;
    if (a->il != b->il) {
        m = a->il < b->il ? -1 : 1;
    } else {
        m = memcmp(a->ip, b->ip, a->il);
        m = m < 0 ? -1 : m > 0;
        size_t n = a->fl > b->fl ? a->fl : b->fl;
        for (size_t i = 0; m == 0 && i < n; i++) {
            char x = i < a->fl ? a->fp[i] : '0', y = i < b->fl ? b->fp[i] : '0';
            m = x < y ? -1 : x > y;
        }
    }
    return a->neg ? -m : m;
}

/* ---- the compiled policy ---- */

/* SPEC: AWS KMS permissions reference (the actions a key policy can name). */
static const char *const kms_actions[] = {
    "CancelKeyDeletion",
    "ConnectCustomKeyStore",
    "CreateAlias",
    "CreateCustomKeyStore",
    "CreateGrant",
    "CreateKey",
    "Decrypt",
    "DeleteAlias",
    "DeleteCustomKeyStore",
    "DeleteImportedKeyMaterial",
    "DeriveSharedSecret",
    "DescribeCustomKeyStores",
    "DescribeKey",
    "DisableKey",
    "DisableKeyRotation",
    "DisconnectCustomKeyStore",
    "EnableKey",
    "EnableKeyRotation",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "GenerateRandom",
    "GetKeyPolicy",
    "GetKeyRotationStatus",
    "GetParametersForImport",
    "GetPublicKey",
    "ImportKeyMaterial",
    "ListAliases",
    "ListGrants",
    "ListKeyPolicies",
    "ListKeyRotations",
    "ListKeys",
    "ListResourceTags",
    "ListRetirableGrants",
    "PutKeyPolicy",
    "ReEncryptFrom",
    "ReEncryptTo",
    "ReplicateKey",
    "RetireGrant",
    "RevokeGrant",
    "RotateKeyOnDemand",
    "ScheduleKeyDeletion",
    "Sign",
    "SynchronizeMultiRegionKey",
    "TagResource",
    "UntagResource",
    "UpdateAlias",
    "UpdateCustomKeyStore",
    "UpdateKeyDescription",
    "UpdatePrimaryRegion",
    "Verify",
    "VerifyMac",
};

/* SPEC: AWS KMS Developer Guide, "AWS KMS condition keys" (single names; the families with a
 * suffix are in key_known). */
static const char *const kms_keys[] = {
    "kms:BypassPolicyLockoutSafetyCheck",
    "kms:CallerAccount",
    "kms:CustomerMasterKeySpec",
    "kms:CustomerMasterKeyUsage",
    "kms:DataKeyPairSpec",
    "kms:EncryptionAlgorithm",
    "kms:EncryptionContextKeys",
    "kms:ExpirationModel",
    "kms:GrantConstraintType",
    "kms:GrantIsForAWSResource",
    "kms:GrantOperations",
    "kms:GranteePrincipal",
    "kms:KeyAgreementAlgorithm",
    "kms:KeyOrigin",
    "kms:KeySpec",
    "kms:KeyUsage",
    "kms:MacAlgorithm",
    "kms:MessageType",
    "kms:MultiRegion",
    "kms:MultiRegionKeyType",
    "kms:PrimaryRegion",
    "kms:ReEncryptOnSameKey",
    "kms:RecipientAttestation:ImageSha384",
    "kms:ReplicaRegion",
    "kms:RequestAlias",
    "kms:ResourceAliases",
    "kms:RetiringPrincipal",
    "kms:RotationPeriodInDays",
    "kms:ScheduleKeyDeletionPendingWindowInDays",
    "kms:SigningAlgorithm",
    "kms:ValidTo",
    "kms:ViaService",
    "kms:WrappingAlgorithm",
    "kms:WrappingKeySpec",
};

/* SPEC: AWS IAM User Guide, "AWS global condition context keys". */
static const char *const aws_keys[] = {
    "aws:CalledVia",
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:CurrentTime",
    "aws:Ec2InstanceSourcePrivateIPv4",
    "aws:Ec2InstanceSourceVpc",
    "aws:EpochTime",
    "aws:FederatedProvider",
    "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList",
    "aws:PrincipalType",
    "aws:Referer",
    "aws:RequestedRegion",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ResourceOrgPaths",
    "aws:SecureTransport",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceIdentity",
    "aws:SourceIp",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:TagKeys",
    "aws:TokenIssueTime",
    "aws:UserAgent",
    "aws:userid",
    "aws:username",
    "aws:ViaAWSService",
    "aws:VpcSourceIp",
};

enum cond_base {
    OP_STR_EQ,
    OP_STR_EQ_IC,
    OP_STR_LIKE,
    OP_NUM_EQ,
    OP_NUM_LT,
    OP_NUM_LE,
    OP_NUM_GT,
    OP_NUM_GE,
    OP_BOOL,
    OP_ARN_LIKE, /* ArnEquals and ArnLike behave the same (both take wildcards) */
    OP_NULL,
};

static const struct op_info {
    const char *name;
    enum cond_base base;
    bool negated;
} ops[] = {
    {"StringEquals", OP_STR_EQ, false},
    {"StringNotEquals", OP_STR_EQ, true},
    {"StringEqualsIgnoreCase", OP_STR_EQ_IC, false},
    {"StringNotEqualsIgnoreCase", OP_STR_EQ_IC, true},
    {"StringLike", OP_STR_LIKE, false},
    {"StringNotLike", OP_STR_LIKE, true},
    {"NumericEquals", OP_NUM_EQ, false},
    {"NumericNotEquals", OP_NUM_EQ, true},
    {"NumericLessThan", OP_NUM_LT, false},
    {"NumericLessThanEquals", OP_NUM_LE, false},
    {"NumericGreaterThan", OP_NUM_GT, false},
    {"NumericGreaterThanEquals", OP_NUM_GE, false},
    {"Bool", OP_BOOL, false},
    {"ArnEquals", OP_ARN_LIKE, false},
    {"ArnNotEquals", OP_ARN_LIKE, true},
    {"ArnLike", OP_ARN_LIKE, false},
    {"ArnNotLike", OP_ARN_LIKE, true},
    {"Null", OP_NULL, false},
};

/* AWS operators this implementation refuses (no condition key a KMS request carries needs them
 * here, or they need a value type not implemented). */
static const char *const unsupported_ops[] = {
    "DateEquals",         "DateNotEquals",   "DateLessThan",
    "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
    "BinaryEquals",       "IpAddress",       "NotIpAddress",
};

enum set_op { SET_NONE, SET_ANY, SET_ALL };

struct cond {
    char *op;  /* as written, e.g. "ForAnyValue:StringLikeIfExists" */
    char *key; /* as written */
    enum cond_base base;
    bool negated, if_exists;
    enum set_op set;
    char **values; /* as text: "true"/"false" for Bool and Null, numbers in decimal */
    size_t n_values;
};

enum principal_kind {
    PR_ANY,     /* "*" */
    PR_ACCOUNT, /* "111122223333" or "arn:aws:iam::111122223333:root": every principal of it */
    PR_ARN,     /* a user or an assumed-role session: that ARN exactly */
    PR_ROLE,    /* a role: that ARN, or a session of the role */
};

struct principal {
    enum principal_kind kind;
    char *text; /* as written */
    char account[13];
};

struct stmt {
    char *sid; /* NULL when there is none */
    bool deny;
    struct principal *principals;
    size_t n_principals;
    char **actions;
    size_t n_actions;
    bool not_action;
    char **resources;
    size_t n_resources;
    bool not_resource;
    struct cond *conds;
    size_t n_conds;
};

struct vt_kms_policy {
    char *version;
    char *id;
    struct stmt *stmts;
    size_t n_stmts;
};

static void strs_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i]);
    }
    free(v);
}

void vt_kms_policy_free(struct vt_kms_policy *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t s = 0; s < p->n_stmts; s++) {
        struct stmt *st = &p->stmts[s];
        free(st->sid);
        for (size_t i = 0; i < st->n_principals; i++) {
            free(st->principals[i].text);
        }
        free(st->principals);
        strs_free(st->actions, st->n_actions);
        strs_free(st->resources, st->n_resources);
        for (size_t i = 0; i < st->n_conds; i++) {
            free(st->conds[i].op);
            free(st->conds[i].key);
            strs_free(st->conds[i].values, st->conds[i].n_values);
        }
        free(st->conds);
    }
    free(p->stmts);
    free(p->version);
    free(p->id);
    free(p);
}

/* ---- the parser ---- */

#define PATH_CAP 256

/* Where the parser is, for its errors: the statement's JSON path and Sid. */
struct pstate {
    struct vt_diag *d;
    const char *path; /* "policy" or "policy.Statement[1]" */
    const char *sid;  /* NULL until known */
};

/* Text from the policy or the request in a message: printable ASCII, others as '?', cut to
 * cap - 4 bytes and "...". SHOWN: the size for values (48 bytes shown). */
#define SHOWN 52
static void shown(char *out, size_t cap, const char *s)
{
    size_t n = 0, max = cap - 4;
    for (; s[n] != '\0' && n < max; n++) {
        unsigned char c = (unsigned char)s[n];
        out[n] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (s[n] != '\0') {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

/*
 * Record a failure at ps->path + "." + field (field NULL: at ps->path). The detail names the Sid
 * when the statement has one, and leads with the full path when the check cannot hold it.
 */
static enum vt_err fail_at(const struct pstate *ps, enum vt_err code, const char *field,
                           const char *fmt, ...) VT_PRINTF(4, 5);
static enum vt_err fail_at(const struct pstate *ps, enum vt_err code, const char *field,
                           const char *fmt, ...)
{
    char path[PATH_CAP], msg[VT_DIAG_DETAIL_MAX], sid[64] = "";
    if (field != NULL) {
        char f[128];
        shown(f, sizeof(f), field);
        snprintf(path, sizeof(path), "%s.%s", ps->path, f);
    } else {
        snprintf(path, sizeof(path), "%s", ps->path);
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ps->sid != NULL && ps->sid[0] != '\0') {
        char s[SHOWN];
        shown(s, sizeof(s), ps->sid);
        snprintf(sid, sizeof(sid), "Sid \"%s\": ", s);
    }
    if (strlen(path) >= VT_DIAG_CHECK_MAX) {
        return vt_fail(ps->d, code, path, "at %s: %s%s", path, sid, msg);
    }
    return vt_fail(ps->d, code, path, "%s%s", sid, msg);
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

/* Members of obj outside names[] are refused; one that differs only by case is named. */
static enum vt_err check_members(const struct pstate *ps, const json_t *obj,
                                 const char *const *names, size_t n, const char *what)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        bool known = false;
        const char *near = NULL;
        for (size_t i = 0; i < n && !known; i++) {
            known = strcmp(k, names[i]) == 0;
            if (ieq(k, names[i])) {
                near = names[i];
            }
        }
        if (known) {
            continue;
        }
        char sk[SHOWN];
        shown(sk, sizeof(sk), k);
        if (near != NULL) {
            return fail_at(ps, VT_E_BAD_FIELD, k,
                           "unknown member \"%s\" of %s (member names are case-sensitive: \"%s\")",
                           sk, what, near);
        }
        return fail_at(ps, VT_E_BAD_FIELD, k, "unknown member \"%s\" of %s", sk, what);
    }
    return VT_OK;
}

/* AWS's policy variables ("${aws:username}", "${*}") are not implemented: refused in the
 * elements that would expand them, in either version (docs/kms.md). */
static enum vt_err no_variables(const struct pstate *ps, const char *field, const char *s)
{
    if (strstr(s, "${") != NULL) {
        char sv[SHOWN];
        shown(sv, sizeof(sv), s);
        return fail_at(ps, VT_E_UNSUPPORTED, field,
                       "\"%s\": policy variables (${...}) are not supported", sv);
    }
    return VT_OK;
}

/* A string, or a non-empty array of strings, as a list (borrowed from the JSON). */
static enum vt_err string_list(const struct pstate *ps, const char *field, const json_t *v,
                               const char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (json_is_string(v)) {
        const char **l = malloc(sizeof(*l));
        if (l == NULL) {
            return fail_at(ps, VT_E_NOMEM, field, "no memory");
        }
        l[0] = json_string_value(v);
        *out = l;
        *n = 1;
        return VT_OK;
    }
    if (!json_is_array(v)) {
        return fail_at(ps, VT_E_BAD_FIELD, field, "must be a string or an array of strings, got %s",
                       type_name(v));
    }
    size_t cnt = json_array_size(v);
    if (cnt == 0) {
        return fail_at(ps, VT_E_BAD_FIELD, field, "must not be an empty array");
    }
    const char **l = calloc(cnt, sizeof(*l));
    if (l == NULL) {
        return fail_at(ps, VT_E_NOMEM, field, "no memory");
    }
    for (size_t i = 0; i < cnt; i++) {
        const json_t *e = json_array_get(v, i);
        if (!json_is_string(e)) {
            free(l);
            return fail_at(ps, VT_E_BAD_FIELD, field, "element %zu must be a string, got %s", i,
                           type_name(e));
        }
        l[i] = json_string_value(e);
    }
    *out = l;
    *n = cnt;
    return VT_OK;
}

static bool is_account_id(const char *s)
{
    return strlen(s) == 12 && all_digits(s, 12);
}

/* IAM names and paths: letters, digits and +=,.@_- ; '/' separates a path. */
static bool iam_name_ok(const char *s, size_t n)
{
    if (n == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("+=,.@_-/", c) != NULL)) {
            return false;
        }
    }
    return s[0] != '/' && s[n - 1] != '/';
}

static bool partition_ok(const char *s, size_t n)
{
    if (n < 3 || memcmp(s, "aws", 3) != 0) {
        return false;
    }
    for (size_t i = 3; i < n; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-')) {
            return false;
        }
    }
    return true;
}

/* One value of Principal.AWS. */
static enum vt_err parse_principal(const struct pstate *ps, const char *s, struct principal *out)
{
    char sv[SHOWN];
    shown(sv, sizeof(sv), s);
    if (strcmp(s, "*") == 0) {
        out->kind = PR_ANY;
    } else if (is_account_id(s)) {
        out->kind = PR_ACCOUNT;
        memcpy(out->account, s, 13);
    } else if (starts(s, "arn:")) {
        struct arn a;
        if (strchr(s, '*') != NULL || strchr(s, '?') != NULL) {
            return fail_at(ps, VT_E_BAD_FIELD, "Principal.AWS",
                           "principal \"%s\": wildcards are only allowed as the whole principal "
                           "(\"*\")",
                           sv);
        }
        if (!arn_split(s, &a) || !partition_ok(a.f[1], a.n[1]) || a.n[3] != 0 || a.n[4] != 12 ||
            !all_digits(a.f[4], 12)) {
            return fail_at(ps, VT_E_BAD_FIELD, "Principal.AWS",
                           "principal \"%s\" is not an IAM ARN "
                           "(arn:aws:iam::ACCOUNT:root, :role/NAME or :user/NAME)",
                           sv);
        }
        memcpy(out->account, a.f[4], 12);
        out->account[12] = '\0';
        bool iam = a.n[2] == 3 && memcmp(a.f[2], "iam", 3) == 0;
        bool sts = a.n[2] == 3 && memcmp(a.f[2], "sts", 3) == 0;
        const char *r = a.f[5];
        if (iam && strcmp(r, "root") == 0) {
            out->kind = PR_ACCOUNT;
        } else if (iam && starts(r, "role/") && iam_name_ok(r + 5, a.n[5] - 5)) {
            out->kind = PR_ROLE;
        } else if (iam && starts(r, "user/") && iam_name_ok(r + 5, a.n[5] - 5)) {
            out->kind = PR_ARN;
        } else if (sts && starts(r, "assumed-role/") && iam_name_ok(r + 13, a.n[5] - 13) &&
                   strchr(r + 13, '/') != NULL) {
            out->kind = PR_ARN;
        } else {
            return fail_at(ps, VT_E_BAD_FIELD, "Principal.AWS",
                           "principal \"%s\" is not an account root, role, user or assumed-role "
                           "session ARN",
                           sv);
        }
    } else if ((starts(s, "AIDA") || starts(s, "AROA")) && strlen(s) >= 16) {
        return fail_at(ps, VT_E_BAD_FIELD, "Principal.AWS",
                       "principal \"%s\" is an IAM unique id (AWS shows one for a deleted "
                       "principal); write the principal's ARN",
                       sv);
    } else {
        return fail_at(ps, VT_E_BAD_FIELD, "Principal.AWS",
                       "principal \"%s\" is not \"*\", a 12-digit account id or an IAM ARN", sv);
    }
    out->text = strdup(s);
    if (out->text == NULL) {
        return fail_at(ps, VT_E_NOMEM, "Principal", "no memory");
    }
    return VT_OK;
}

static enum vt_err parse_principals(const struct pstate *ps, const json_t *v, struct stmt *st)
{
    if (json_is_string(v)) {
        if (strcmp(json_string_value(v), "*") != 0) {
            char sv[SHOWN];
            shown(sv, sizeof(sv), json_string_value(v));
            return fail_at(ps, VT_E_BAD_FIELD, "Principal",
                           "a Principal string must be \"*\", got \"%s\" (write {\"AWS\": ...})",
                           sv);
        }
        st->principals = calloc(1, sizeof(*st->principals));
        if (st->principals == NULL || (st->principals[0].text = strdup("*")) == NULL) {
            return fail_at(ps, VT_E_NOMEM, "Principal", "no memory");
        }
        st->principals[0].kind = PR_ANY;
        st->n_principals = 1;
        return VT_OK;
    }
    if (!json_is_object(v)) {
        return fail_at(ps, VT_E_BAD_FIELD, "Principal", "must be \"*\" or an object, got %s",
                       type_name(v));
    }
    if (json_object_size(v) == 0) {
        return fail_at(ps, VT_E_BAD_FIELD, "Principal", "must not be an empty object");
    }
    const char *k;
    const json_t *e;
    json_object_foreach((json_t *)v, k, e)
    {
        if (strcmp(k, "AWS") == 0) {
            continue;
        }
        char f[80], sk[64];
        shown(sk, sizeof(sk), k);
        snprintf(f, sizeof(f), "Principal.%s", k);
        if (strcmp(k, "Service") == 0 || strcmp(k, "Federated") == 0 ||
            strcmp(k, "CanonicalUser") == 0) {
            return fail_at(ps, VT_E_UNSUPPORTED, f,
                           "%s principals are not supported: veritee authenticates AWS "
                           "principals (accounts, roles, users) only",
                           sk);
        }
        return fail_at(ps, VT_E_BAD_FIELD, f, "unknown principal type \"%s\" (expected \"AWS\")",
                       sk);
    }
    const char **l;
    size_t n;
    VT_TRY(string_list(ps, "Principal.AWS", json_object_get(v, "AWS"), &l, &n));
    st->principals = calloc(n, sizeof(*st->principals));
    if (st->principals == NULL) {
        free(l);
        return fail_at(ps, VT_E_NOMEM, "Principal", "no memory");
    }
    enum vt_err err = VT_OK;
    for (size_t i = 0; i < n && err == VT_OK; i++) {
        err = parse_principal(ps, l[i], &st->principals[i]);
        if (err == VT_OK) {
            st->n_principals++;
        }
    }
    free(l);
    return err;
}

/* Copy a borrowed list into the statement. */
static enum vt_err keep_list(const struct pstate *ps, const char *field, const char **l, size_t n,
                             char ***out, size_t *out_n)
{
    *out = calloc(n, sizeof(**out));
    if (*out == NULL) {
        return fail_at(ps, VT_E_NOMEM, field, "no memory");
    }
    for (size_t i = 0; i < n; i++) {
        (*out)[i] = strdup(l[i]);
        if ((*out)[i] == NULL) {
            return fail_at(ps, VT_E_NOMEM, field, "no memory");
        }
        (*out_n)++;
    }
    return VT_OK;
}

static enum vt_err check_action(const struct pstate *ps, const char *field, const char *s)
{
    char sv[SHOWN];
    shown(sv, sizeof(sv), s);
    if (strcmp(s, "*") == 0) {
        return VT_OK;
    }
    const char *colon = strchr(s, ':');
    if (colon == NULL) {
        return fail_at(ps, VT_E_BAD_FIELD, field, "action \"%s\" is not \"kms:Name\" or \"*\"", sv);
    }
    if (colon - s != 3 || !istarts(s, "kms")) {
        return fail_at(ps, VT_E_BAD_FIELD, field,
                       "action \"%s\": a key policy controls AWS KMS actions (kms:...) only", sv);
    }
    const char *name = colon + 1;
    if (name[0] == '\0' || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789*?") != strlen(name)) {
        return fail_at(ps, VT_E_BAD_FIELD, field,
                       "action \"%s\": a name is letters and digits, with wildcards * and ?", sv);
    }
    for (size_t i = 0; i < sizeof(kms_actions) / sizeof(kms_actions[0]); i++) {
        if (glob_str(name, kms_actions[i], true)) {
            return VT_OK;
        }
    }
    return fail_at(ps, VT_E_BAD_FIELD, field, "action \"%s\" matches no AWS KMS action", sv);
}

/* SPEC: IAM "Resource": wildcards within ARN segments; a '*' ending the last segment written
 * may stand for the remaining segments ("arn:aws:kms:*"). The service must be kms. */
static enum vt_err check_resource(const struct pstate *ps, const char *field, const char *s)
{
    if (strcmp(s, "*") == 0) {
        return VT_OK;
    }
    VT_TRY(no_variables(ps, field, s));
    struct arn a;
    bool ok = arn_split(s, &a);
    if (!ok && starts(s, "arn:")) {
        /* Fewer than six segments: only when the last one ends with '*'. */
        const char *p = s + 4, *c;
        size_t n = 1;
        while ((c = strchr(p, ':')) != NULL && n < 3) {
            a.f[n] = p;
            a.n[n] = (size_t)(c - p);
            p = c + 1;
            n++;
        }
        ok = n == 3 && ends(s, "*");
    }
    if (!ok || a.n[2] != 3 || memcmp(a.f[2], "kms", 3) != 0) {
        char sv[SHOWN];
        shown(sv, sizeof(sv), s);
        return fail_at(ps, VT_E_BAD_FIELD, field,
                       "resource \"%s\" is not \"*\" or a KMS key ARN "
                       "(arn:aws:kms:REGION:ACCOUNT:key/ID, wildcards allowed)",
                       sv);
    }
    return VT_OK;
}

/* Is a condition key one of AWS's? Names compare case-insensitively (AWS). */
static bool key_known(const char *k)
{
    for (size_t i = 0; i < sizeof(kms_keys) / sizeof(kms_keys[0]); i++) {
        if (ieq(k, kms_keys[i])) {
            return true;
        }
    }
    for (size_t i = 0; i < sizeof(aws_keys) / sizeof(aws_keys[0]); i++) {
        if (ieq(k, aws_keys[i])) {
            return true;
        }
    }
    static const char *const families[] = {"kms:EncryptionContext:", "aws:PrincipalTag/",
                                           "aws:RequestTag/", "aws:ResourceTag/"};
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        if (istarts(k, families[i]) && k[strlen(families[i])] != '\0') {
            return true;
        }
    }
    /* SPEC: Nitro Enclaves PCR0..PCR31; NitroTPM PCR0..PCR23. No leading zeros. */
    static const struct {
        const char *prefix;
        unsigned max;
    } pcrs[] = {{"kms:RecipientAttestation:PCR", 31}, {"kms:RecipientAttestation:NitroTPMPCR", 23}};
    for (size_t i = 0; i < 2; i++) {
        if (!istarts(k, pcrs[i].prefix)) {
            continue;
        }
        const char *d = k + strlen(pcrs[i].prefix);
        size_t n = strlen(d);
        if (!all_digits(d, n) || n > 2 || (n == 2 && d[0] == '0')) {
            return false;
        }
        unsigned v = n == 1 ? (unsigned)(d[0] - '0') : (unsigned)((d[0] - '0') * 10 + d[1] - '0');
        return v <= pcrs[i].max;
    }
    return false;
}

/* Operator text: [ForAnyValue:|ForAllValues:]NAME[IfExists]. */
static enum vt_err parse_operator(const struct pstate *ps, const char *field, const char *opname,
                                  struct cond *c)
{
    char so[SHOWN];
    shown(so, sizeof(so), opname);
    const char *s = opname;
    c->set = SET_NONE;
    if (starts(s, "ForAnyValue:")) {
        c->set = SET_ANY;
        s += strlen("ForAnyValue:");
    } else if (starts(s, "ForAllValues:")) {
        c->set = SET_ALL;
        s += strlen("ForAllValues:");
    }
    char base[64];
    size_t n = strlen(s);
    c->if_exists = false;
    if (ends(s, "IfExists") && n > strlen("IfExists")) {
        c->if_exists = true;
        n -= strlen("IfExists");
    }
    if (n >= sizeof(base)) {
        return fail_at(ps, VT_E_BAD_FIELD, field, "unknown condition operator \"%s\"", so);
    }
    memcpy(base, s, n);
    base[n] = '\0';
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (strcmp(base, ops[i].name) != 0) {
            continue;
        }
        c->base = ops[i].base;
        c->negated = ops[i].negated;
        if (c->base == OP_NULL && c->if_exists) {
            return fail_at(ps, VT_E_BAD_FIELD, field,
                           "\"%s\": Null tests whether the key exists; it takes no IfExists", so);
        }
        if (c->base == OP_NULL && c->set != SET_NONE) {
            return fail_at(ps, VT_E_BAD_FIELD, field,
                           "\"%s\": Null takes no ForAnyValue/ForAllValues", so);
        }
        return VT_OK;
    }
    for (size_t i = 0; i < sizeof(unsupported_ops) / sizeof(unsupported_ops[0]); i++) {
        if (strcmp(base, unsupported_ops[i]) == 0) {
            return fail_at(ps, VT_E_UNSUPPORTED, field,
                           "condition operator \"%s\" is not supported (String*, Numeric*, Bool, "
                           "Arn*, Null are)",
                           so);
        }
    }
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (ieq(base, ops[i].name)) {
            return fail_at(ps, VT_E_BAD_FIELD, field,
                           "unknown condition operator \"%s\" (operators are case-sensitive: "
                           "\"%s\")",
                           so, ops[i].name);
        }
    }
    return fail_at(ps, VT_E_BAD_FIELD, field, "unknown condition operator \"%s\"", so);
}

/* One condition value as text, checked for the operator. */
static enum vt_err cond_value(const struct pstate *ps, const char *field, const struct cond *c,
                              const char *key, const json_t *v, char **out)
{
    char sk[SHOWN];
    shown(sk, sizeof(sk), key);
    char buf[32];
    const char *s;
    if (json_is_string(v)) {
        s = json_string_value(v);
    } else if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s = buf;
    } else if (json_is_boolean(v)) {
        s = json_is_true(v) ? "true" : "false";
    } else {
        return fail_at(ps, VT_E_BAD_FIELD, field,
                       "key \"%s\": a value is a string, an integer or a boolean, got %s%s", sk,
                       type_name(v),
                       json_is_real(v) ? " (write a fractional number as a string: \"1.5\")" : "");
    }
    char sv[SHOWN];
    shown(sv, sizeof(sv), s);
    switch (c->base) {
    case OP_NUM_EQ:
    case OP_NUM_LT:
    case OP_NUM_LE:
    case OP_NUM_GT:
    case OP_NUM_GE: {
        struct dec dv;
        if (!dec_parse(s, &dv)) {
            return fail_at(ps, VT_E_BAD_FIELD, field,
                           "key \"%s\": \"%s\" is not a decimal number ([-]DIGITS[.DIGITS])", sk,
                           sv);
        }
        break;
    }
    case OP_BOOL:
    case OP_NULL:
        if (!ieq(s, "true") && !ieq(s, "false")) {
            return fail_at(ps, VT_E_BAD_FIELD, field, "key \"%s\": \"%s\" is not true or false", sk,
                           sv);
        }
        s = ieq(s, "true") ? "true" : "false";
        break;
    case OP_ARN_LIKE: {
        struct arn a;
        if (!arn_split(s, &a)) {
            return fail_at(ps, VT_E_BAD_FIELD, field,
                           "key \"%s\": \"%s\" is not an ARN (arn:partition:service:region:"
                           "account:resource)",
                           sk, sv);
        }
        VT_TRY(no_variables(ps, field, s));
        break;
    }
    case OP_STR_EQ:
    case OP_STR_EQ_IC:
    case OP_STR_LIKE:
        VT_TRY(no_variables(ps, field, s));
        break;
    }
    *out = strdup(s);
    if (*out == NULL) {
        return fail_at(ps, VT_E_NOMEM, field, "no memory");
    }
    return VT_OK;
}

static enum vt_err parse_conditions(const struct pstate *ps, const json_t *v, struct stmt *st)
{
    if (!json_is_object(v)) {
        return fail_at(ps, VT_E_BAD_FIELD, "Condition", "must be an object, got %s", type_name(v));
    }
    if (json_object_size(v) == 0) {
        return fail_at(ps, VT_E_BAD_FIELD, "Condition", "must not be an empty object");
    }
    size_t total = 0;
    const char *opname;
    const json_t *block;
    json_object_foreach((json_t *)v, opname, block)
    {
        total += json_is_object(block) ? json_object_size(block) : 0;
    }
    st->conds = calloc(total > 0 ? total : 1, sizeof(*st->conds));
    if (st->conds == NULL) {
        return fail_at(ps, VT_E_NOMEM, "Condition", "no memory");
    }
    json_object_foreach((json_t *)v, opname, block)
    {
        char field[PATH_CAP];
        snprintf(field, sizeof(field), "Condition.%s", opname);
        struct cond proto = {0};
        VT_TRY(parse_operator(ps, field, opname, &proto));
        if (!json_is_object(block)) {
            return fail_at(ps, VT_E_BAD_FIELD, field, "must be an object of condition keys, got %s",
                           type_name(block));
        }
        if (json_object_size(block) == 0) {
            return fail_at(ps, VT_E_BAD_FIELD, field, "must not be an empty object");
        }
        const char *key;
        const json_t *vals;
        json_object_foreach((json_t *)block, key, vals)
        {
            char sk[SHOWN];
            shown(sk, sizeof(sk), key);
            if (!istarts(key, "kms:") && !istarts(key, "aws:")) {
                return fail_at(ps, VT_E_BAD_FIELD, field,
                               "condition key \"%s\": a key policy takes kms: and aws: keys only",
                               sk);
            }
            if (!key_known(key)) {
                return fail_at(ps, VT_E_BAD_FIELD, field,
                               "condition key \"%s\" is not an AWS KMS or AWS global condition "
                               "key",
                               sk);
            }
            size_t nv = json_is_array(vals) ? json_array_size(vals) : 1;
            if (json_is_array(vals) && nv == 0) {
                return fail_at(ps, VT_E_BAD_FIELD, field, "key \"%s\": empty list of values", sk);
            }
            struct cond *c = &st->conds[st->n_conds];
            *c = proto;
            c->op = strdup(opname);
            c->key = strdup(key);
            c->values = calloc(nv, sizeof(*c->values));
            st->n_conds++;
            if (c->op == NULL || c->key == NULL || c->values == NULL) {
                return fail_at(ps, VT_E_NOMEM, field, "no memory");
            }
            for (size_t i = 0; i < nv; i++) {
                const json_t *e = json_is_array(vals) ? json_array_get(vals, i) : vals;
                VT_TRY(cond_value(ps, field, c, key, e, &c->values[i]));
                c->n_values++;
            }
        }
    }
    return VT_OK;
}

/* Action/NotAction or Resource/NotResource: exactly one of the pair. */
static enum vt_err parse_pair(const struct pstate *ps, const json_t *o, const char *name,
                              const char *not_name, char ***out, size_t *n, bool *negated,
                              enum vt_err (*check)(const struct pstate *, const char *,
                                                   const char *))
{
    const json_t *v = json_object_get(o, name), *nv = json_object_get(o, not_name);
    if (v != NULL && nv != NULL) {
        return fail_at(ps, VT_E_BAD_FIELD, not_name, "a statement has %s or %s, not both", name,
                       not_name);
    }
    if (v == NULL && nv == NULL) {
        return fail_at(ps, VT_E_MISSING_FIELD, name, "a statement needs %s (or %s)", name,
                       not_name);
    }
    *negated = v == NULL;
    const char *field = v != NULL ? name : not_name;
    const char **l;
    size_t cnt;
    VT_TRY(string_list(ps, field, v != NULL ? v : nv, &l, &cnt));
    enum vt_err err = VT_OK;
    for (size_t i = 0; i < cnt && err == VT_OK; i++) {
        err = check(ps, field, l[i]);
    }
    if (err == VT_OK) {
        err = keep_list(ps, field, l, cnt, out, n);
    }
    free(l);
    return err;
}

static const char *const stmt_members[] = {"Sid",          "Effect",      "Principal",
                                           "NotPrincipal", "Action",      "NotAction",
                                           "Resource",     "NotResource", "Condition"};

static enum vt_err parse_statement(struct pstate *ps, const json_t *o, struct stmt *st,
                                   const struct vt_kms_policy *p, size_t index)
{
    if (!json_is_object(o)) {
        return fail_at(ps, VT_E_BAD_FIELD, NULL, "a statement is an object, got %s", type_name(o));
    }
    const json_t *sid = json_object_get(o, "Sid");
    if (sid != NULL) {
        if (!json_is_string(sid)) {
            return fail_at(ps, VT_E_BAD_FIELD, "Sid", "must be a string, got %s", type_name(sid));
        }
        ps->sid = json_string_value(sid);
    }
    VT_TRY(check_members(ps, o, stmt_members, sizeof(stmt_members) / sizeof(stmt_members[0]),
                         "a statement"));
    if (ps->sid != NULL && ps->sid[0] != '\0') {
        for (size_t j = 0; j < index; j++) {
            if (p->stmts[j].sid != NULL && strcmp(p->stmts[j].sid, ps->sid) == 0) {
                return fail_at(ps, VT_E_DUPLICATE, "Sid", "Statement[%zu] has the same Sid", j);
            }
        }
        st->sid = strdup(ps->sid);
        if (st->sid == NULL) {
            return fail_at(ps, VT_E_NOMEM, "Sid", "no memory");
        }
    }
    const json_t *eff = json_object_get(o, "Effect");
    if (eff == NULL) {
        return fail_at(ps, VT_E_MISSING_FIELD, "Effect", "a statement needs Effect");
    }
    if (!json_is_string(eff)) {
        return fail_at(ps, VT_E_BAD_FIELD, "Effect", "must be \"Allow\" or \"Deny\", got %s",
                       type_name(eff));
    }
    if (strcmp(json_string_value(eff), "Allow") != 0 &&
        strcmp(json_string_value(eff), "Deny") != 0) {
        char sv[SHOWN];
        shown(sv, sizeof(sv), json_string_value(eff));
        return fail_at(ps, VT_E_BAD_FIELD, "Effect", "must be \"Allow\" or \"Deny\", got \"%s\"",
                       sv);
    }
    st->deny = strcmp(json_string_value(eff), "Deny") == 0;
    if (json_object_get(o, "NotPrincipal") != NULL) {
        return fail_at(ps, VT_E_UNSUPPORTED, "NotPrincipal",
                       "NotPrincipal is not supported (write Principal, and a Deny statement "
                       "with an aws:PrincipalArn condition for exceptions)");
    }
    const json_t *pr = json_object_get(o, "Principal");
    if (pr == NULL) {
        return fail_at(ps, VT_E_MISSING_FIELD, "Principal",
                       "a key policy statement needs Principal");
    }
    VT_TRY(parse_principals(ps, pr, st));
    VT_TRY(parse_pair(ps, o, "Action", "NotAction", &st->actions, &st->n_actions, &st->not_action,
                      check_action));
    VT_TRY(parse_pair(ps, o, "Resource", "NotResource", &st->resources, &st->n_resources,
                      &st->not_resource, check_resource));
    const json_t *cond = json_object_get(o, "Condition");
    if (cond != NULL) {
        VT_TRY(parse_conditions(ps, cond, st));
    }
    return VT_OK;
}

static const char *const top_members[] = {"Version", "Id", "Statement"};

static enum vt_err parse_doc(struct vt_kms_policy *p, const json_t *doc, struct vt_diag *d)
{
    struct pstate top = {d, "policy", NULL};
    if (!json_is_object(doc)) {
        return fail_at(&top, VT_E_BAD_FIELD, NULL, "a policy is a JSON object, got %s",
                       type_name(doc));
    }
    VT_TRY(check_members(&top, doc, top_members, 3, "the policy"));
    const json_t *ver = json_object_get(doc, "Version");
    const char *version = "2008-10-17"; /* SPEC: IAM "Version": absent means 2008-10-17 */
    if (ver != NULL) {
        if (!json_is_string(ver)) {
            return fail_at(&top, VT_E_BAD_FIELD, "Version",
                           "must be \"2012-10-17\" or \"2008-10-17\", got %s", type_name(ver));
        }
        version = json_string_value(ver);
        if (strcmp(version, "2012-10-17") != 0 && strcmp(version, "2008-10-17") != 0) {
            char sv[SHOWN];
            shown(sv, sizeof(sv), version);
            return fail_at(&top, VT_E_BAD_FIELD, "Version",
                           "must be \"2012-10-17\" or \"2008-10-17\", got \"%s\"", sv);
        }
    }
    p->version = strdup(version);
    if (p->version == NULL) {
        return fail_at(&top, VT_E_NOMEM, "Version", "no memory");
    }
    const json_t *id = json_object_get(doc, "Id");
    if (id != NULL) {
        if (!json_is_string(id)) {
            return fail_at(&top, VT_E_BAD_FIELD, "Id", "must be a string, got %s", type_name(id));
        }
        p->id = strdup(json_string_value(id));
        if (p->id == NULL) {
            return fail_at(&top, VT_E_NOMEM, "Id", "no memory");
        }
    }
    const json_t *sts = json_object_get(doc, "Statement");
    if (sts == NULL) {
        return fail_at(&top, VT_E_MISSING_FIELD, "Statement", "a policy needs Statement");
    }
    if (!json_is_object(sts) && !json_is_array(sts)) {
        return fail_at(&top, VT_E_BAD_FIELD, "Statement",
                       "must be a statement object or an array of them, got %s", type_name(sts));
    }
    size_t n = json_is_array(sts) ? json_array_size(sts) : 1;
    if (n == 0) {
        return fail_at(&top, VT_E_BAD_FIELD, "Statement", "must not be an empty array");
    }
    p->stmts = calloc(n, sizeof(*p->stmts));
    if (p->stmts == NULL) {
        return fail_at(&top, VT_E_NOMEM, "Statement", "no memory");
    }
    for (size_t i = 0; i < n; i++) {
        char path[48];
        if (json_is_array(sts)) {
            snprintf(path, sizeof(path), "policy.Statement[%zu]", i);
        } else {
            snprintf(path, sizeof(path), "policy.Statement");
        }
        struct pstate ps = {d, path, NULL};
        p->n_stmts++;
        VT_TRY(parse_statement(&ps, json_is_array(sts) ? json_array_get(sts, i) : sts, &p->stmts[i],
                               p, i));
    }
    return VT_OK;
}

enum vt_err vt_kms_policy_parse(const char *json, size_t len, struct vt_kms_policy **out,
                                struct vt_diag *d)
{
    VT_ENSURE(out != NULL && (json != NULL || len == 0), d, VT_E_ARG, "policy", "no policy");
    *out = NULL;
    VT_ENSURE(len <= VT_KMS_POLICY_MAX_SIZE, d, VT_E_TOO_LARGE, "policy",
              "policy is %zu bytes; at most %u", len, VT_KMS_POLICY_MAX_SIZE);
    json_error_t jerr;
    json_t *doc = json_loadb(json != NULL ? json : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        bool dup = json_error_code(&jerr) == json_error_duplicate_key;
        return vt_fail(d, dup ? VT_E_DUPLICATE : VT_E_BAD_JSON, "policy", "line %d column %d: %s",
                       jerr.line, jerr.column, jerr.text);
    }
    struct vt_kms_policy *p = calloc(1, sizeof(*p));
    enum vt_err err =
        p != NULL ? parse_doc(p, doc, d) : vt_fail(d, VT_E_NOMEM, "policy", "no memory");
    json_decref(doc);
    if (err != VT_OK) {
        vt_kms_policy_free(p);
        return err;
    }
    *out = p;
    return VT_OK;
}

/* ---- the evaluator ---- */

/* A condition key's values in the request: every entry of ctx->keys with that name (compared
 * case-insensitively), NULL values skipped; else the keys derived from the context. */
struct key_vals {
    const struct vt_kms_request_ctx *ctx;
    const char *name;
    const char *derived;
    size_t n;
};

static void key_lookup(const struct vt_kms_request_ctx *ctx, const char *name, struct key_vals *kv)
{
    kv->ctx = ctx;
    kv->name = name;
    kv->derived = NULL;
    kv->n = 0;
    bool given = false;
    for (size_t i = 0; ctx->keys != NULL && i < ctx->n_keys; i++) {
        const struct vt_kms_ctx_key *k = &ctx->keys[i];
        if (k->name == NULL || !ieq(k->name, name)) {
            continue;
        }
        given = true;
        for (size_t j = 0; k->values != NULL && j < k->n_values; j++) {
            kv->n += k->values[j] != NULL;
        }
    }
    if (given) {
        return;
    }
    if (ieq(name, "kms:CallerAccount") || ieq(name, "aws:PrincipalAccount")) {
        kv->derived = ctx->account;
    } else if (ieq(name, "aws:PrincipalArn")) {
        kv->derived = ctx->principal;
    }
    kv->n = kv->derived != NULL;
}

static const char *key_at(const struct key_vals *kv, size_t idx)
{
    if (kv->derived != NULL) {
        return kv->derived;
    }
    const struct vt_kms_request_ctx *ctx = kv->ctx;
    for (size_t i = 0; i < ctx->n_keys; i++) {
        const struct vt_kms_ctx_key *k = &ctx->keys[i];
        if (k->name == NULL || !ieq(k->name, kv->name)) {
            continue;
        }
        for (size_t j = 0; k->values != NULL && j < k->n_values; j++) {
            if (k->values[j] == NULL) {
                continue;
            }
            if (idx-- == 0) {
                return k->values[j];
            }
        }
    }
    return ""; /* not reached: idx < kv->n */
}

/* Does request value v match policy value pv under the operator (negation aside)? */
static bool base_match(const struct cond *c, const char *pv, const char *v)
{
    switch (c->base) {
    case OP_STR_EQ:
        return strcmp(pv, v) == 0;
    case OP_STR_EQ_IC:
    case OP_BOOL:
        return ieq(pv, v);
    case OP_STR_LIKE:
        return glob_str(pv, v, false);
    case OP_ARN_LIKE:
        return arn_like(pv, v);
    case OP_NUM_EQ:
    case OP_NUM_LT:
    case OP_NUM_LE:
    case OP_NUM_GT:
    case OP_NUM_GE: {
        struct dec a, b;
        if (!dec_parse(v, &a) || !dec_parse(pv, &b)) {
            return false;
        }
        int r = dec_cmp(&a, &b);
        return c->base == OP_NUM_EQ   ? r == 0
               : c->base == OP_NUM_LT ? r < 0
               : c->base == OP_NUM_LE ? r <= 0
               : c->base == OP_NUM_GT ? r > 0
                                      : r >= 0;
    }
    case OP_NULL:
        break;
    }
    return false;
}

/* One request value against the policy's values: ORed (SPEC: multiple values are ORed; for a
 * negated operator the value must match none of them, NOR). */
static bool value_holds(const struct cond *c, const char *v)
{
    bool any = false;
    for (size_t i = 0; i < c->n_values && !any; i++) {
        any = base_match(c, c->values[i], v);
    }
    return c->negated ? !any : any;
}

/*
 * SPEC: IAM condition operators and set operators. A key with no values is absent.
 *   absent:  IfExists -> true; ForAllValues -> true; ForAnyValue -> false;
 *            plain operator -> false, negated operator -> true; Null "true" -> true.
 *   present: plain -> some request value matches some policy value (negated: none does);
 *            ForAnyValue -> some request value passes; ForAllValues -> every one passes (a value
 *            of a negated operator passes when it matches no policy value).
 */
static bool cond_holds(const struct cond *c, const struct key_vals *kv)
{
    bool present = kv->n > 0;
    if (c->base == OP_NULL) {
        for (size_t i = 0; i < c->n_values; i++) {
            if ((strcmp(c->values[i], "true") == 0) != present) {
                return true;
            }
        }
        return false;
    }
    if (!present) {
        return c->if_exists || c->set == SET_ALL || (c->set == SET_NONE && c->negated);
    }
    if (c->set == SET_ALL) {
        for (size_t i = 0; i < kv->n; i++) {
            if (!value_holds(c, key_at(kv, i))) {
                return false;
            }
        }
        return true;
    }
    if (c->set == SET_ANY) {
        for (size_t i = 0; i < kv->n; i++) {
            if (value_holds(c, key_at(kv, i))) {
                return true;
            }
        }
        return false;
    }
    /* No set operator: with one request value (the usual case) the same as ForAnyValue; with
     * several, the negated operators require that none matches. */
    bool any = false;
    for (size_t i = 0; i < kv->n && !any; i++) {
        for (size_t j = 0; j < c->n_values && !any; j++) {
            any = base_match(c, c->values[j], key_at(kv, i));
        }
    }
    return c->negated ? !any : any;
}

static bool principal_matches(const struct principal *p, const struct vt_kms_request_ctx *ctx)
{
    if (ctx->principal == NULL) {
        return false;
    }
    switch (p->kind) {
    case PR_ANY:
        return true;
    case PR_ACCOUNT:
        return ctx->account != NULL && strcmp(ctx->account, p->account) == 0;
    case PR_ARN:
        return strcmp(ctx->principal, p->text) == 0;
    case PR_ROLE: {
        if (strcmp(ctx->principal, p->text) == 0) {
            return true;
        }
        /* A session of the role: arn:P:sts::ACCOUNT:assumed-role/NAME/SESSION, NAME the role's
         * name without its path. */
        struct arn a, r;
        if (!arn_split(ctx->principal, &a) || !arn_split(p->text, &r)) {
            return false;
        }
        const char *name = strrchr(r.f[5], '/') + 1;
        size_t nl = strlen(name);
        const char *res = a.f[5];
        return a.n[1] == r.n[1] && memcmp(a.f[1], r.f[1], a.n[1]) == 0 && a.n[2] == 3 &&
               memcmp(a.f[2], "sts", 3) == 0 && a.n[3] == 0 && a.n[4] == 12 &&
               memcmp(a.f[4], p->account, 12) == 0 && starts(res, "assumed-role/") &&
               strncmp(res + 13, name, nl) == 0 && res[13 + nl] == '/' && res[14 + nl] != '\0';
    }
    }
    return false;
}

static bool any_glob(char *const *pats, size_t n, const char *s, bool fold)
{
    for (size_t i = 0; i < n; i++) {
        if (s != NULL ? glob_str(pats[i], s, fold) : strcmp(pats[i], "*") == 0) {
            return true;
        }
    }
    return false;
}

/* ---- the explanation ---- */

struct expl {
    json_t *stmts;
    bool oom;
};

static json_t *jstr(const char *s)
{
    if (s == NULL) {
        return json_null();
    }
    json_t *v = json_string(s);
    return v != NULL ? v : json_string("(not UTF-8)");
}

/* Both steal v (jansson's _new functions release it on failure too). */
static void put(struct expl *e, json_t *obj, const char *key, json_t *v)
{
    if (obj == NULL) {
        json_decref(v);
        e->oom = true;
    } else if (v == NULL || json_object_set_new(obj, key, v) != 0) {
        e->oom = true;
    }
}

static void push(struct expl *e, json_t *arr, json_t *v)
{
    if (arr == NULL) {
        json_decref(v);
        e->oom = true;
    } else if (v == NULL || json_array_append_new(arr, v) != 0) {
        e->oom = true;
    }
}

static json_t *jlist(struct expl *e, char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        push(e, a, jstr(v[i]));
    }
    return a;
}

static json_t *element(struct expl *e, const char *name, bool matched, json_t *expected,
                       json_t *actual)
{
    json_t *o = json_object();
    put(e, o, "element", jstr(name));
    put(e, o, "matched", json_boolean(matched));
    put(e, o, "expected", expected);
    put(e, o, "actual", actual);
    return o;
}

static void sid_phrase(char *out, size_t cap, const struct stmt *st, size_t i)
{
    if (st->sid != NULL) {
        char s[SHOWN];
        shown(s, cap < sizeof(s) ? cap : sizeof(s), st->sid);
        snprintf(out, cap, "Statement[%zu] (Sid \"%s\")", i, s);
    } else {
        snprintf(out, cap, "Statement[%zu]", i);
    }
}

/* Does statement st apply to ctx? Adds its explanation to e when e is not NULL. */
static bool statement_applies(const struct stmt *st, size_t index,
                              const struct vt_kms_request_ctx *ctx, struct expl *e)
{
    bool pm = false;
    for (size_t i = 0; i < st->n_principals && !pm; i++) {
        pm = principal_matches(&st->principals[i], ctx);
    }
    bool am = any_glob(st->actions, st->n_actions, ctx->action, true) != st->not_action;
    bool rm = any_glob(st->resources, st->n_resources, ctx->resource, false) != st->not_resource;
    bool cm = true;
    const struct cond *failed_cond = NULL;
    json_t *conds = e != NULL ? json_array() : NULL;
    for (size_t i = 0; i < st->n_conds; i++) {
        const struct cond *c = &st->conds[i];
        struct key_vals kv;
        key_lookup(ctx, c->key, &kv);
        bool ok = cond_holds(c, &kv);
        if (!ok && cm) {
            cm = false;
            failed_cond = c;
        }
        if (e == NULL) {
            continue;
        }
        json_t *o = json_object();
        put(e, o, "operator", jstr(c->op));
        put(e, o, "key", jstr(c->key));
        put(e, o, "matched", json_boolean(ok));
        put(e, o, "expected", jlist(e, c->values, c->n_values));
        json_t *actual = kv.n > 0 ? json_array() : json_null();
        for (size_t j = 0; j < kv.n; j++) {
            push(e, actual, jstr(key_at(&kv, j)));
        }
        put(e, o, "actual", actual);
        push(e, conds, o);
    }
    bool applies = pm && am && rm && cm;
    if (e == NULL) {
        return applies;
    }
    json_t *o = json_object();
    put(e, o, "index", json_integer((json_int_t)index));
    put(e, o, "sid", jstr(st->sid));
    put(e, o, "effect", jstr(st->deny ? "Deny" : "Allow"));
    put(e, o, "applies", json_boolean(applies));
    json_t *failed = json_null();
    if (!pm) {
        json_decref(failed);
        failed = jstr("Principal");
    } else if (!am) {
        json_decref(failed);
        failed = jstr(st->not_action ? "NotAction" : "Action");
    } else if (!rm) {
        json_decref(failed);
        failed = jstr(st->not_resource ? "NotResource" : "Resource");
    } else if (failed_cond != NULL) {
        json_decref(failed);
        failed = json_sprintf("Condition.%s.%s", failed_cond->op, failed_cond->key);
    }
    put(e, o, "failed", failed);
    json_t *pexp = json_array();
    for (size_t i = 0; i < st->n_principals; i++) {
        push(e, pexp, jstr(st->principals[i].text));
    }
    json_t *pact = json_object();
    put(e, pact, "arn", jstr(ctx->principal));
    put(e, pact, "account", jstr(ctx->account));
    put(e, o, "principal", element(e, "Principal", pm, pexp, pact));
    put(e, o, "action",
        element(e, st->not_action ? "NotAction" : "Action", am,
                jlist(e, st->actions, st->n_actions), jstr(ctx->action)));
    put(e, o, "resource",
        element(e, st->not_resource ? "NotResource" : "Resource", rm,
                jlist(e, st->resources, st->n_resources), jstr(ctx->resource)));
    put(e, o, "conditions", conds);
    push(e, e->stmts, o);
    return applies;
}

/* A principal ARN's account differing from ctx->account: a caller's mistake; deny. */
static bool ctx_consistent(const struct vt_kms_request_ctx *ctx, char *why, size_t cap)
{
    if (ctx->action == NULL) {
        snprintf(why, cap, "request context has no action");
        return false;
    }
    struct arn a;
    if (ctx->principal != NULL && ctx->account != NULL && arn_split(ctx->principal, &a) &&
        a.n[4] != 0 && (a.n[4] != strlen(ctx->account) || memcmp(a.f[4], ctx->account, a.n[4]))) {
        char sp[64], sa[32];
        shown(sp, sizeof(sp), ctx->principal);
        shown(sa, sizeof(sa), ctx->account);
        snprintf(why, cap, "request context: principal \"%s\" is not of account \"%s\"", sp, sa);
        return false;
    }
    return true;
}

bool vt_kms_policy_allows(const struct vt_kms_policy *p, const struct vt_kms_request_ctx *ctx,
                          char **explanation)
{
    if (explanation != NULL) {
        *explanation = NULL;
    }
    struct expl ex = {NULL, false};
    struct expl *e = NULL;
    if (explanation != NULL) {
        ex.stmts = json_array();
        e = &ex;
    }
    char rule[256];
    bool allowed = false;
    long decisive = -1;
    if (p == NULL || ctx == NULL) {
        snprintf(rule, sizeof(rule), "no policy or no request context");
    } else if (!ctx_consistent(ctx, rule, sizeof(rule))) {
        /* denied before any statement */
    } else {
        long first_deny = -1, first_allow = -1;
        for (size_t i = 0; i < p->n_stmts; i++) {
            if (!statement_applies(&p->stmts[i], i, ctx, e)) {
                continue;
            }
            if (p->stmts[i].deny && first_deny < 0) {
                first_deny = (long)i;
            } else if (!p->stmts[i].deny && first_allow < 0) {
                first_allow = (long)i;
            }
        }
        char who[96];
        /* SPEC: IAM policy evaluation: an explicit Deny overrides any Allow; without an Allow
         * the request is implicitly denied. */
        if (first_deny >= 0) {
            decisive = first_deny;
            sid_phrase(who, sizeof(who), &p->stmts[first_deny], (size_t)first_deny);
            snprintf(rule, sizeof(rule), "explicit deny by %s", who);
        } else if (first_allow >= 0) {
            decisive = first_allow;
            allowed = true;
            sid_phrase(who, sizeof(who), &p->stmts[first_allow], (size_t)first_allow);
            snprintf(rule, sizeof(rule), "allowed by %s", who);
        } else {
            snprintf(rule, sizeof(rule), "implicit deny: no statement allows");
        }
    }
    if (e == NULL) {
        return allowed;
    }
    json_t *root = json_object();
    put(e, root, "decision", jstr(allowed ? "allow" : "deny"));
    put(e, root, "rule", jstr(rule));
    put(e, root, "statement", decisive >= 0 ? json_integer(decisive) : json_null());
    put(e, root, "statements", ex.stmts);
    if (!ex.oom) {
        *explanation = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    }
    json_decref(root);
    return allowed;
}
