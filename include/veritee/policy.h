/*
 * The attestation and release policy language: declarative JSON in the spirit of Azure Secure Key
 * Release, compiled on load with precise errors (the JSON path and the problem) and evaluated
 * against the claims of a verification (struct vt_claims, or their JSON as vt_claims_to_json writes
 * it) with a rule-by-rule explanation. The language is documented in docs/policy.md:
 *
 *   {"version": 1, "allowDebug": false, "acceptStatus": ["UpToDate", "SWHardeningNeeded"],
 *    "rules": RULE}
 *   RULE = {"allOf": [RULE, ...]} | {"anyOf": [RULE, ...]} | {"not": RULE}
 *        | {"claim": NAME, "equals"|"in"|"gte"|"lte"|"exists": VALUE}
 *
 * Claim names and their types come from the claims registry (src/claims/claims_list.h: every name
 * vt_claims_to_json can emit); an unknown name, or a value of the wrong type, is a compile error. A
 * compiled policy is immutable: it may be evaluated from several threads at once.
 */
#ifndef VERITEE_POLICY_H
#define VERITEE_POLICY_H

#include <veritee/claims.h>
#include <veritee/common.h>
#include <veritee/error.h>

#define VT_POLICY_VERSION 1
#define VT_POLICY_MAX_SIZE (256 * 1024) /* bytes of policy JSON */
#define VT_POLICY_MAX_DEPTH 32          /* nesting of allOf/anyOf/not */
#define VT_POLICY_MAX_LIST 1024         /* elements of an allOf, anyOf or in array */
#define VT_POLICY_REASON_MAX 512

struct vt_policy;

/*
 * Compile policy JSON (len bytes, NUL not required). On failure *out is NULL and d names the JSON
 * path of the problem in d->check ("$" for the document itself, "version",
 * "rules.allOf[2].anyOf[0].claim", ...) and states it in d->detail. Codes: VT_E_BAD_JSON (syntax),
 * VT_E_DUPLICATE (a member twice), VT_E_BAD_FIELD (unknown member or claim, wrong type or value),
 * VT_E_MISSING_FIELD, VT_E_UNSUPPORTED_VERSION, VT_E_BAD_HEX, VT_E_BAD_LENGTH (hex of the wrong
 * length), VT_E_BAD_TIME, VT_E_TOO_LARGE (size, nesting or list limits), VT_E_NOMEM.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_policy_compile(const char *json, size_t len,
                                                    struct vt_policy **out, struct vt_diag *d);
/* NULL-safe. */
VT_EXPORT void vt_policy_free(struct vt_policy *p);

/* SHA-256 of the exact policy bytes that were compiled. */
VT_EXPORT void vt_policy_digest(const struct vt_policy *p, uint8_t out[VT_SHA256_LEN]);

/* The outcome of an evaluation: a verdict, never an error code. Initialise nothing; vt_policy_eval
 * fills every field. */
struct vt_policy_result {
    bool allowed;
    /* Why a denial: "debug" (a debug TEE without allowDebug), "status" (a TCB status outside
     * acceptStatus) or the path of the first failing rule ("rules", "rules.allOf[1]", ...).
     * "" when allowed. */
    char reason[VT_POLICY_REASON_MAX];
    /* Heap JSON array, one object per evaluated check in document order (pre-order):
     * {"path","outcome","op","claim","expected","actual","present"} for claim tests and the
     * allowDebug / acceptStatus checks, {"path","outcome","op"} for allOf/anyOf/not.
     * Freed by vt_policy_result_cleanup. NULL after a failed evaluation. */
    char *explanation;
};

/*
 * Evaluate p against the typed claims of a verification: the verifier's struct read through the
 * claims registry, no JSON parsed (the broker's and `veritee verify`'s path). The verdict and the
 * explanation are those vt_policy_eval gives on vt_claims_to_json(claims). VT_OK with the verdict
 * in *r; errors (no memory) are not verdicts.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_policy_eval_claims(const struct vt_policy *p,
                                                        const struct vt_claims *claims,
                                                        struct vt_policy_result *r,
                                                        struct vt_diag *d);
/*
 * Evaluate p against claims as JSON (an object as produced by vt_claims_to_json, e.g. a token's
 * claims). Order: allowDebug,
 * acceptStatus, then the rules; every rule is evaluated (no short-circuit) so the explanation is
 * complete. A claim absent from the claims (or null) makes equals, in, gte and lte false and
 * exists false; it is never an error. Errors (the claims are not a JSON object, no memory) leave
 * r->allowed false and r->explanation NULL; they are not verdicts.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_policy_eval(const struct vt_policy *p, const char *claims_json,
                                                 size_t len, struct vt_policy_result *r,
                                                 struct vt_diag *d);
/* A malloc'd copy of r->explanation (the caller frees it; it outlives the result), NULL when
 * there is none or no memory. */
VT_EXPORT char *vt_policy_result_explain(const struct vt_policy_result *r);
/* Free the explanation; NULL-safe, idempotent. */
VT_EXPORT void vt_policy_result_cleanup(struct vt_policy_result *r);

/*
 * The registry. vt_policy_claim_type returns the type of a claim name as policies see it
 * ("string", "enum", "hex", "integer", "boolean", "time", "hex-number", "array", "object",
 * "any"), or NULL for a name vt_claims_to_json never emits.
 */
VT_EXPORT const char *vt_policy_claim_type(const char *name);

/*
 * Check claims JSON against the registry: every member (and every member of "collateral") is a
 * known claim whose value has the registered type (hex of the registered length, an enum value in
 * its set, ...). VT_E_BAD_FIELD with check = the claim name otherwise. Keeps the registry and
 * vt_claims_to_json in sync (tests) and lints hand-written claims.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_policy_claims_check(const char *claims_json, size_t len,
                                                         struct vt_diag *d);

#endif
