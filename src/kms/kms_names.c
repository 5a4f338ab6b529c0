/*
 * Names of the KMS service (kms.h): key ids (UUIDs), key and alias ARNs
 * "arn:aws:kms:REGION:ACCOUNT:key/ID" and "arn:aws:kms:REGION:ACCOUNT:alias/NAME", alias names,
 * account ids and principal ARNs. SPEC: AWS KMS Developer Guide, "Key identifiers (KeyId)" and
 * "Aliases"; AWS General Reference, "Amazon Resource Names".
 */
#include <stdio.h>
#include <string.h>

#include "kms/kms.h"

static bool lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool vt_kms_uuid_parse(const char *s, uint8_t out[16])
{
    if (s == NULL || strlen(s) != VT_KMS_UUID_LEN) {
        return false;
    }
    size_t k = 0;
    for (size_t i = 0; i < VT_KMS_UUID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !lower_hex(s[i])) {
            return false;
        }
    }
    for (size_t i = 0; i < VT_KMS_UUID_LEN; i += 2) {
        if (s[i] == '-') {
            i--;
            continue;
        }
        out[k++] = (uint8_t)(vt_hex_value((uint8_t)s[i]) << 4 | vt_hex_value((uint8_t)s[i + 1]));
    }
    return k == 16;
}

void vt_kms_uuid_format(const uint8_t in[16], char out[VT_KMS_UUID_LEN + 1])
{
    char hex[33];
    vt_hex_encode(in, 16, hex);
    snprintf(out, VT_KMS_UUID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
             hex + 16, hex + 20);
}

enum vt_err vt_kms_uuid_new(char out[VT_KMS_UUID_LEN + 1], struct vt_diag *d)
{
    uint8_t u[16];
    VT_TRY(vt_random_bytes(u, sizeof(u), d));
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* SPEC: RFC 9562, version 4 */
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* and variant 10 */
    vt_kms_uuid_format(u, out);
    return VT_OK;
}

bool vt_kms_account_ok(const char *s)
{
    if (s == NULL || strlen(s) != VT_KMS_ACCOUNT_LEN) {
        return false;
    }
    for (size_t i = 0; i < VT_KMS_ACCOUNT_LEN; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

bool vt_kms_region_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > VT_KMS_REGION_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-')) {
            return false;
        }
    }
    return true;
}

/* The six parts of "arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE" (the resource may hold ':'),
 * as offsets and lengths into s. */
struct arn_parts {
    const char *p[6];
    size_t n[6];
};

static bool arn_split(const char *s, struct arn_parts *a)
{
    const char *cur = s;
    for (int i = 0; i < 5; i++) {
        const char *colon = strchr(cur, ':');
        if (colon == NULL) {
            return false;
        }
        a->p[i] = cur;
        a->n[i] = (size_t)(colon - cur);
        cur = colon + 1;
    }
    a->p[5] = cur;
    a->n[5] = strlen(cur);
    return a->n[0] == 3 && memcmp(a->p[0], "arn", 3) == 0 && a->n[1] > 0 && a->n[5] > 0;
}

static bool part_is(const struct arn_parts *a, int i, const char *want)
{
    return a->n[i] == strlen(want) && memcmp(a->p[i], want, a->n[i]) == 0;
}

bool vt_kms_principal_account(const char *s, char account[VT_KMS_ACCOUNT_LEN + 1])
{
    struct arn_parts a;
    if (s == NULL || strlen(s) > 255 || !arn_split(s, &a) || a.n[2] == 0 ||
        a.n[4] != VT_KMS_ACCOUNT_LEN) {
        return false;
    }
    memcpy(account, a.p[4], VT_KMS_ACCOUNT_LEN);
    account[VT_KMS_ACCOUNT_LEN] = '\0';
    for (size_t i = 0; i < strlen(s); i++) {
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) {
            return false; /* printable ASCII only: it goes into policies and logs */
        }
    }
    return vt_kms_account_ok(account);
}

bool vt_kms_alias_check(const char *name, struct vt_kms_error *e)
{
    size_t n = name ? strlen(name) : 0;
    if (n <= 6 || strncmp(name, "alias/", 6) != 0 || n > VT_KMS_ALIAS_MAX) {
        return vt_kms_fail(e, VT_KMS_EXC_INVALID_ALIAS_NAME,
                           "Alias must start with the prefix \"alias/\" and have 1 to 250 more "
                           "characters");
    }
    for (size_t i = 6; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == ':')) {
            return vt_kms_fail(e, VT_KMS_EXC_INVALID_ALIAS_NAME,
                               "Alias %.256s must contain only alphanumeric characters, forward "
                               "slashes (/), colons (:), underscores (_) and dashes (-)",
                               name);
        }
    }
    if (strncmp(name, "alias/aws/", 10) == 0) {
        return vt_kms_fail(e, VT_KMS_EXC_INVALID_ALIAS_NAME,
                           "Alias %.256s: the prefix alias/aws/ is reserved for AWS managed keys",
                           name);
    }
    return true;
}

static bool invalid_key_id(const char *s, struct vt_kms_error *e)
{
    return vt_kms_fail(e, VT_KMS_EXC_NOT_FOUND, "Invalid keyId %.300s", s ? s : "");
}

bool vt_kms_ref_parse(const char *s, bool allow_alias, struct vt_kms_ref *r, struct vt_kms_error *e)
{
    memset(r, 0, sizeof(*r));
    uint8_t raw[16];
    if (s == NULL || s[0] == '\0') {
        return invalid_key_id(s, e);
    }
    if (strncmp(s, "alias/", 6) == 0) {
        r->kind = VT_KMS_REF_ALIAS;
        if (!allow_alias || strlen(s) > VT_KMS_ALIAS_MAX) {
            return invalid_key_id(s, e);
        }
        snprintf(r->alias, sizeof(r->alias), "%s", s);
        return true;
    }
    if (strncmp(s, "arn:", 4) != 0) {
        if (!vt_kms_uuid_parse(s, raw)) {
            return invalid_key_id(s, e);
        }
        r->kind = VT_KMS_REF_KEY_ID;
        snprintf(r->key_id, sizeof(r->key_id), "%s", s);
        return true;
    }
    struct arn_parts a;
    if (!arn_split(s, &a) || !part_is(&a, 2, "kms") || a.n[3] == 0 || a.n[3] > VT_KMS_REGION_MAX ||
        a.n[4] != VT_KMS_ACCOUNT_LEN) {
        return invalid_key_id(s, e);
    }
    memcpy(r->region, a.p[3], a.n[3]);
    r->region[a.n[3]] = '\0';
    memcpy(r->account, a.p[4], a.n[4]);
    r->account[a.n[4]] = '\0';
    if (!vt_kms_account_ok(r->account) || !vt_kms_region_ok(r->region)) {
        return invalid_key_id(s, e);
    }
    if (a.n[5] > 4 && memcmp(a.p[5], "key/", 4) == 0) {
        r->kind = VT_KMS_REF_KEY_ARN;
        if (a.n[5] - 4 != VT_KMS_UUID_LEN) {
            return invalid_key_id(s, e);
        }
        memcpy(r->key_id, a.p[5] + 4, VT_KMS_UUID_LEN);
        r->key_id[VT_KMS_UUID_LEN] = '\0';
        return vt_kms_uuid_parse(r->key_id, raw) ? true : invalid_key_id(s, e);
    }
    if (a.n[5] > 6 && memcmp(a.p[5], "alias/", 6) == 0 && a.n[5] <= VT_KMS_ALIAS_MAX) {
        r->kind = VT_KMS_REF_ALIAS_ARN;
        if (!allow_alias) {
            return invalid_key_id(s, e);
        }
        memcpy(r->alias, a.p[5], a.n[5]);
        r->alias[a.n[5]] = '\0';
        return true;
    }
    return invalid_key_id(s, e);
}
