/*
 * Key policies in AWS's policy language, as AWS KMS evaluates them for one key (docs/kms.md,
 * "Key policies"): Version "2012-10-17" or "2008-10-17" (absent: 2008-10-17, as AWS), Id,
 * Statement (one object or a list) of Sid, Effect Allow|Deny, Principal ("*" or {"AWS": "*", an
 * account id, an account root / role / user / assumed-role ARN, or a list}), Action or NotAction
 * (string or list, "kms:Decrypt", wildcards "*" and "?", case-insensitive), Resource or
 * NotResource ("*" or KMS key ARNs, wildcards), Condition {operator: {key: value or list}} with
 * the String*, Numeric*, Bool, Arn* and Null operators, IfExists and ForAnyValue:/ForAllValues:.
 * An explicit Deny wins; otherwise an Allow that matches allows; otherwise the request is denied.
 *
 * Deliberate differences from AWS (docs/kms.md lists them): an account's root principal means
 * every principal of that account (there is no IAM to delegate to); action names and condition
 * keys must be AWS KMS's / AWS's own (a typo is refused, not silently false); policy variables,
 * NotPrincipal, service/federated principals and the Date, Binary and IP operators are refused.
 *
 * Policies are checked when put: anything outside what is implemented or a wrong type is refused
 * with the statement (index and Sid) and the field named, never ignored.
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

/* One condition key of a request and its values (a key may have several, e.g. ForAnyValue).
 * Names compare case-insensitively; NULL values are skipped; a key with no values is absent.
 * Several entries with the same name are one key with all their values. */
struct vt_kms_ctx_key {
    const char *name; /* e.g. "kms:RecipientAttestation:PCR0", "kms:EncryptionContext:app" */
    const char *const *values;
    size_t n_values;
};

/*
 * The request being decided, borrowed. No action: denied. No principal: no Principal matches
 * (not even "*"). A principal ARN whose account is not `account`: denied (an inconsistent
 * context). No resource: only Resource "*" matches. kms:CallerAccount and aws:PrincipalAccount
 * default to `account`, aws:PrincipalArn to `principal`, unless `keys` has them.
 */
struct vt_kms_request_ctx {
    const char *action;    /* "kms:Decrypt" */
    const char *principal; /* the caller's ARN, e.g. "arn:aws:iam::111122223333:role/enclave" or
                              a session "arn:aws:sts::111122223333:assumed-role/enclave/s1" */
    const char *account;   /* the caller's account id (kms:CallerAccount) */
    const char *resource;  /* the key's ARN */
    const struct vt_kms_ctx_key *keys;
    size_t n_keys;
};

/*
 * Parse and check a policy document (JSON text, at most VT_KMS_POLICY_MAX_SIZE bytes). *out: a
 * new policy (vt_kms_policy_free), NULL on failure. Errors: VT_E_TOO_LARGE, VT_E_BAD_JSON,
 * VT_E_DUPLICATE (a JSON member or a Sid twice), VT_E_MISSING_FIELD, VT_E_BAD_FIELD,
 * VT_E_UNSUPPORTED, VT_E_NOMEM, VT_E_ARG; the diag's check is the JSON path of the field
 * ("policy.Statement[1].Condition.StringEquals"; "policy.Statement.Effect" when Statement is
 * one object; "policy" for the document as a whole) and its detail starts with the statement's
 * Sid when it has one, and states the values.
 */
VT_MUST_USE enum vt_err vt_kms_policy_parse(const char *json, size_t len,
                                            struct vt_kms_policy **out, struct vt_diag *d);
void vt_kms_policy_free(struct vt_kms_policy *p);

/*
 * Decide ctx: true if allowed. Never fails: a policy that parsed evaluates; NULL p or ctx deny.
 * explanation (optional; heap JSON text for free(), NULL when out of memory):
 *   {"decision": "allow" | "deny",
 *    "rule": "explicit deny by Statement[2] (Sid \"...\")" | "allowed by Statement[0] ..." |
 *            "implicit deny: no statement allows" | why the context was refused,
 *    "statement": the deciding statement's index or null,
 *    "statements": [{"index", "sid", "effect", "applies", "failed": the first element that did
 *      not match ("Principal", "Action", "NotAction", "Resource", "NotResource",
 *      "Condition.OPERATOR.KEY") or null,
 *      "principal" / "action" / "resource": {"element", "matched", "expected": [as written],
 *      "actual"}, "conditions": [{"operator", "key", "matched", "expected": [values],
 *      "actual": [the request's values] or null when absent}]}, ...]}
 */
bool vt_kms_policy_allows(const struct vt_kms_policy *p, const struct vt_kms_request_ctx *ctx,
                          char **explanation);

#endif
