/*
 * Fuzz vt_kms_policy_parse, and vt_kms_policy_allows on what parses, against fixed requests
 * (an enclave's role session with attestation keys and several multi-valued keys, an account
 * user with none, a request without principal or resource).
 * Invariants: a failure leaves no policy and records its code with a check under "policy" and a
 * detail; evaluation is deterministic and the same with or without an explanation; the
 * explanation is JSON with one entry per statement, every entry the same shape, and it agrees
 * with the decision: allowed exactly when the deciding statement is an Allow that applies and no
 * Deny applies; denied by a statement only when that statement is a Deny that applies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kms/kms_policy.h"

static void require(int cond)
{
    if (!cond) {
        abort();
    }
}

#define PCR                                                                                        \
    "9fedcba8abcdef7a9fedcba8abcdef7a9fedcba8abcdef7a9fedcba8abcdef7a9fedcba8abcdef7a9fedcba8abcd" \
    "ef7a"

static const char *const image[] = {PCR};
static const char *const pcr0[] = {
    "9FEDCBA8ABCDEF7A9FEDCBA8ABCDEF7A9FEDCBA8ABCDEF7A9FEDCBA8ABCDEF7A"
    "9FEDCBA8ABCDEF7A9FEDCBA8ABCDEF7A"};
static const char *const app[] = {"billing"};
static const char *const ec_keys[] = {"app", NULL, "tenant"};
static const char *const secure[] = {"true"};
static const char *const days[] = {"365"};
static const char *const tags[] = {"key1:legal", "key2:audit", "\xe2\x82\xac"};

static const struct vt_kms_ctx_key enclave_keys[] = {
    {"kms:RecipientAttestation:ImageSha384", image, 1},
    {"kms:RecipientAttestation:PCR0", pcr0, 1},
    {"kms:EncryptionContext:app", app, 1},
    {"kms:EncryptionContextKeys", ec_keys, 3},
    {"aws:SecureTransport", secure, 1},
    {"kms:RotationPeriodInDays", days, 1},
    {"aws:TagKeys", tags, 3},
    {"kms:recipientattestation:pcr8", NULL, 0},
};

static const struct vt_kms_request_ctx requests[] = {
    {"kms:Decrypt", "arn:aws:sts::444455556666:assumed-role/data-processing/i-0abc", "444455556666",
     "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", enclave_keys,
     sizeof(enclave_keys) / sizeof(enclave_keys[0])},
    {"kms:ScheduleKeyDeletion", "arn:aws:iam::111122223333:user/alice", "111122223333",
     "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", NULL, 0},
    {"kms:GenerateRandom", NULL, "111122223333", NULL, NULL, 0},
};

static size_t check_explanation(const char *text, bool allowed)
{
    json_t *e = json_loads(text, 0, NULL);
    require(e != NULL && json_is_object(e));
    const char *decision = json_string_value(json_object_get(e, "decision"));
    require(decision != NULL && strcmp(decision, allowed ? "allow" : "deny") == 0);
    const char *rule = json_string_value(json_object_get(e, "rule"));
    require(rule != NULL && rule[0] != '\0');
    json_t *sts = json_object_get(e, "statements");
    require(json_is_array(sts));
    bool deny_applies = false, allow_applies = false;
    size_t i;
    json_t *s;
    json_array_foreach(sts, i, s)
    {
        require(json_integer_value(json_object_get(s, "index")) == (json_int_t)i);
        const char *eff = json_string_value(json_object_get(s, "effect"));
        require(eff != NULL && (strcmp(eff, "Allow") == 0 || strcmp(eff, "Deny") == 0));
        json_t *applies = json_object_get(s, "applies");
        require(json_is_boolean(applies));
        json_t *failed = json_object_get(s, "failed");
        require(json_is_true(applies) ? json_is_null(failed) : json_is_string(failed));
        static const char *const els[] = {"principal", "action", "resource"};
        for (size_t k = 0; k < 3; k++) {
            json_t *el = json_object_get(s, els[k]);
            require(json_is_boolean(json_object_get(el, "matched")));
            require(json_array_size(json_object_get(el, "expected")) >= 1);
        }
        json_t *conds = json_object_get(s, "conditions");
        require(json_is_array(conds));
        size_t j;
        json_t *c;
        json_array_foreach(conds, j, c)
        {
            require(json_is_string(json_object_get(c, "operator")));
            require(json_is_string(json_object_get(c, "key")));
            require(json_is_boolean(json_object_get(c, "matched")));
            require(json_array_size(json_object_get(c, "expected")) >= 1);
            json_t *actual = json_object_get(c, "actual");
            require(json_is_null(actual) || json_array_size(actual) >= 1);
        }
        if (json_is_true(applies)) {
            deny_applies |= strcmp(eff, "Deny") == 0;
            allow_applies |= strcmp(eff, "Allow") == 0;
        }
    }
    json_t *dec = json_object_get(e, "statement");
    if (json_array_size(sts) > 0) {
        /* Evaluated: the decision follows from the statements alone. */
        require(allowed == (allow_applies && !deny_applies));
        if (json_is_integer(dec)) {
            json_t *d = json_array_get(sts, (size_t)json_integer_value(dec));
            require(d != NULL && json_is_true(json_object_get(d, "applies")));
            require(strcmp(json_string_value(json_object_get(d, "effect")),
                           allowed ? "Allow" : "Deny") == 0);
        } else {
            require(json_is_null(dec) && !allowed && !deny_applies && !allow_applies);
        }
    } else {
        require(!allowed && json_is_null(dec)); /* the context was refused */
    }
    size_t n = json_array_size(sts);
    json_decref(e);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_kms_policy *p = (struct vt_kms_policy *)&p;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_kms_policy_parse((const char *)data, size, &p, &d);
    if (err != VT_OK) {
        require(p == NULL);
        require(d.code == err);
        require(strncmp(d.check, "policy", 6) == 0 && d.detail[0] != '\0');
        return 0;
    }
    require(p != NULL);
    size_t n_statements = 0;
    for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
        bool a = vt_kms_policy_allows(p, &requests[i], NULL);
        char *text = NULL;
        bool b = vt_kms_policy_allows(p, &requests[i], &text);
        require(a == b);
        require(text != NULL);
        size_t n = check_explanation(text, a);
        require(n >= 1 && (n_statements == 0 || n == n_statements));
        n_statements = n;
        free(text);
    }
    vt_kms_policy_free(p);
    return 0;
}
