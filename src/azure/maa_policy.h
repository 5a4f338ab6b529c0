/*
 * Azure Attestation (MAA) policies, version 1.0 (docs/maa.md, "Policies"): the text form
 *
 *   version= 1.0;
 *   authorizationrules { [type=="$is-debuggable", value==false] => permit(); };
 *   issuancerules { c:[type=="$sgx-mrsigner"] => issue(type="sgx-mrsigner", value=c.value); };
 *
 * compiled once when uploaded (anything outside the supported grammar is refused then, with the
 * line, column and construct named) and evaluated per attestation over the incoming claim set
 * the service builds from verified evidence.
 *
 * A claim set is a jansson array of objects {"type": string, "value": string | integer | true |
 * false, "issuer": "AttestationService" | "AttestationPolicy" | "CustomClaim"} ("issuer" absent:
 * "AttestationService" for incoming claims). Several claims may share a type.
 *
 * The grammar accepted, what is refused and why, and the evaluation's semantics where MAA's
 * documentation is silent (deny wins, one claim per distinct value per rule, strict kinds):
 * docs/maa-policy.md. A compiled policy is read-only: any number of threads may evaluate it at
 * once.
 *
 * Internal to the veritee tree (src/), not installed.
 */
#ifndef VT_AZURE_MAA_POLICY_H
#define VT_AZURE_MAA_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include <veritee/error.h>

struct json_t;

#define VT_MAA_POLICY_MAX_SIZE (64u * 1024u) /* policy text accepted at upload */

/* Limits of a compiled policy (each exceeded: VT_E_TOO_LARGE at compile time, naming the line and
 * column). The grammar has no recursion: sections hold rules, rules conditions, conditions
 * property tests, so nesting is bounded by the grammar itself. */
#define VT_MAA_POLICY_MAX_RULES 256     /* rules in all sections together */
#define VT_MAA_POLICY_MAX_CONDITIONS 16 /* conditions joined by && in one rule */
#define VT_MAA_POLICY_MAX_TESTS 16      /* property conditions in one [...] */
#define VT_MAA_POLICY_MAX_IDENT 64      /* characters of an identifier or keyword */
#define VT_MAA_POLICY_MAX_STRING 4096   /* bytes of a string literal, unescaped */

/* Limits of one evaluation (each exceeded: VT_E_TOO_LARGE). A step is one claim tried against
 * one condition; the claims are the incoming ones plus those add(), issue() and issueproperty()
 * put into the set. */
#define VT_MAA_POLICY_MAX_CLAIMS 4096
#define VT_MAA_POLICY_MAX_STEPS (1000u * 1000u)

struct vt_maa_policy;

/*
 * Parse and check a policy's text (len bytes, no NUL needed; UTF-8). *out: a new policy
 * (vt_maa_policy_free), NULL on failure. Errors: VT_E_TOO_LARGE, VT_E_MALFORMED (syntax: the
 * check is "maa.policy" and the detail gives line:column and what was expected and found),
 * VT_E_UNSUPPORTED (a construct of MAA's grammar this implementation refuses, named in the
 * detail), VT_E_NOMEM.
 */
VT_MUST_USE enum vt_err vt_maa_policy_compile(const char *text, size_t len,
                                              struct vt_maa_policy **out, struct vt_diag *d);
void vt_maa_policy_free(struct vt_maa_policy *p);

/* The outcome of one evaluation. */
struct vt_maa_policy_result {
    bool permitted;        /* authorizationrules ended in permit() and nothing denied */
    struct json_t *issued; /* claim set (array) the issuancerules issued; NULL if not permitted */
    struct json_t *properties; /* object: the issueproperty() values by type; may be empty */
    char reason[256];          /* why not permitted (the deciding rule's line), or "" */
};

/*
 * Evaluate p over the incoming claim set (borrowed; not modified: "add" works on a copy). On
 * VT_OK, *r is filled (vt_maa_policy_result_cleanup releases it), whether permitted or not.
 * Errors (no result): VT_E_ARG (a claim set that is not an array of claims as above, naming the
 * index), VT_E_NOMEM, VT_E_TOO_LARGE (evaluation exceeded its step or size bound).
 * The diag's check: "maa.policy.claims" for the claim set (VT_E_ARG, or more than
 * VT_MAA_POLICY_MAX_CLAIMS claims), "maa.policy.eval" for the rest (the detail names the rule's
 * section, line and column).
 */
VT_MUST_USE enum vt_err vt_maa_policy_eval(const struct vt_maa_policy *p,
                                           const struct json_t *incoming,
                                           struct vt_maa_policy_result *r, struct vt_diag *d);
void vt_maa_policy_result_cleanup(struct vt_maa_policy_result *r);

#endif
