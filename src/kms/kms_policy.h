/*
 * Key policies in AWS's policy language, as AWS KMS evaluates them for one key (docs/kms.md,
 * "Key policies"): Version "2012-10-17" (or "2008-10-17"), Statement (one object or a list) of
 * Sid, Effect Allow|Deny, Principal ("*" or {"AWS": ARN or account or "*", or a list}), Action
 * (string or list, "kms:Decrypt", wildcards "*" and "?"), Resource ("*" or ARNs, wildcards),
 * Condition {operator: {key: value or list}}. An explicit Deny wins; otherwise an Allow that
 * matches allows; otherwise the request is denied.
 *
 * Policies are checked when put: anything outside what is implemented (NotPrincipal, NotAction,
 * NotResource, an unknown operator or condition key prefix, a wrong type) is refused with the
 * statement (index and Sid) and the field named, never ignored.
 *
 * Internal to the veritee tree (src/), not installed.
 */
#ifndef VT_KMS_POLICY_H
#define VT_KMS_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include <veritee/error.h>

#define VT_KMS_POLICY_MAX_SIZE (32u * 1024u) /* KMS's limit on a key policy */

struct vt_kms_policy;

/* One condition key of a request and its values (a key may have several, e.g. ForAnyValue). */
struct vt_kms_ctx_key {
    const char *name; /* e.g. "kms:RecipientAttestation:PCR0", "kms:EncryptionContext:app" */
    const char *const *values;
    size_t n_values;
};

/* The request being decided. */
struct vt_kms_request_ctx {
    const char *action;    /* "kms:Decrypt" */
    const char *principal; /* the caller's ARN, e.g. "arn:aws:iam::111122223333:role/enclave" */
    const char *account;   /* the caller's account id (kms:CallerAccount) */
    const char *resource;  /* the key's ARN */
    const struct vt_kms_ctx_key *keys;
    size_t n_keys;
};

/* Parse and check a policy document (JSON text, at most VT_KMS_POLICY_MAX_SIZE bytes).
 * VT_E_BAD_FIELD / VT_E_BAD_JSON / VT_E_UNSUPPORTED / VT_E_TOO_LARGE with the diag's check
 * "policy.Statement[i].Field" (and the Sid when there is one) and detail. */
VT_MUST_USE enum vt_err vt_kms_policy_parse(const char *json, size_t len,
                                            struct vt_kms_policy **out, struct vt_diag *d);
void vt_kms_policy_free(struct vt_kms_policy *p);

/*
 * Decide ctx: true if allowed. explanation (optional, heap JSON): for every statement, whether
 * its principal, action, resource and each condition matched, with the expected and actual
 * values, and the rule that decided ("explicit deny in statement 2 (Sid ...)", "allowed by ...",
 * "no statement allows").
 */
bool vt_kms_policy_allows(const struct vt_kms_policy *p, const struct vt_kms_request_ctx *ctx,
                          char **explanation);

#endif
