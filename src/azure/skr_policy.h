/*
 * Key Vault Secure Key Release policies (docs/skr.md, "Release policies"): the JSON a key's
 * release_policy.data holds, read as Key Vault's public grammar describes it (policy version
 * "1.0.0"):
 *
 *   policy    = {"version": "1.0.0", "anyOf": [authority, ...]}
 *   authority = {"authority": "<issuer URL>", "anyOf" | "allOf": [condition, ...]}
 *   condition = {"claim": "<name or dotted.path>", <operator>: value}
 *             | {"anyOf": [condition, ...]} | {"allOf": [condition, ...]}
 *   operator  = equals | notEquals (string, boolean or number)
 *             | less | lessOrEquals | greater | greaterOrEquals (number)
 *             | exists (boolean)
 *
 * Member names are matched without regard to case (the grammar writes "anyof", the examples
 * "anyOf"); two members that differ only in case are a duplicate. Everything else (another
 * version, an unknown member, a value of the wrong type, an empty list, nesting deeper than
 * VT_SKR_DEPTH_MAX) is refused at upload with the JSON path of the offending value.
 *
 * Evaluation (vt_skr_policy_eval) is against a verified token: its issuer ("iss") selects the
 * authorities, its claims feed the conditions. Comparisons are type-strict (the string "1" never
 * equals the number 1); a claim that is absent, or present with another type, makes its condition
 * false, except {"exists": false}, which holds when the claim is absent. Every condition's
 * outcome, with the expected and actual values, is written to the explanation.
 */
#ifndef VT_AZURE_SKR_POLICY_H
#define VT_AZURE_SKR_POLICY_H

#include <veritee/buf.h>
#include <veritee/common.h>
#include <veritee/error.h>

struct json_t;

#define VT_SKR_POLICY_MAX (64u << 10) /* bytes of policy text */
#define VT_SKR_DEPTH_MAX 8            /* anyOf/allOf nesting, the authorities' list included */
#define VT_SKR_NODES_MAX 512          /* authorities and conditions in all */
#define VT_SKR_CLAIM_MAX 256          /* bytes of a claim name */
#define VT_SKR_SEGMENTS_MAX 16        /* segments of a dotted claim path */
#define VT_SKR_AUTHORITY_MAX 1024     /* bytes of an authority URL */

struct vt_skr_policy;

/*
 * Parse and check a release policy (len bytes of JSON, duplicate members refused). *out gets a
 * heap policy (vt_skr_policy_free). Errors, with the JSON path in the detail (e.g.
 * "$.anyOf[0].allOf[2].equals"): VT_E_TOO_LARGE ("skr.policy": text, "skr.nodes", "skr.depth"),
 * VT_E_BAD_JSON / VT_E_DUPLICATE ("skr.json"), VT_E_UNSUPPORTED_VERSION ("skr.version"),
 * VT_E_MISSING_FIELD, VT_E_BAD_FIELD, VT_E_UNSUPPORTED ("skr.member": a member the grammar does
 * not have; "skr.operator": an operator with a value type it does not take), VT_E_NOMEM.
 */
VT_MUST_USE enum vt_err vt_skr_policy_parse(const char *text, size_t len,
                                            struct vt_skr_policy **out, struct vt_diag *d);
void vt_skr_policy_free(struct vt_skr_policy *p);

/*
 * Evaluate p for a token issued by `issuer` with `claims` (a JSON object, borrowed). Returns
 * true if some authority equal to the issuer (ASCII case-insensitive, one trailing '/' ignored)
 * has its conditions hold. The explanation, one line per authority and condition, is appended to
 * `explain` (may be NULL; a full buffer truncates the explanation, never the decision).
 */
bool vt_skr_policy_eval(const struct vt_skr_policy *p, const char *issuer,
                        const struct json_t *claims, struct vt_buf *explain);

/* The authorities the policy names (for messages): the i-th, or NULL past the last. */
const char *vt_skr_policy_authority(const struct vt_skr_policy *p, size_t i);

#endif
