/*
 * Policy evaluation on claims already parsed by jansson (tree-internal, not installed: the
 * installed API takes claims as JSON text, include/veritee/policy.h, and keeps jansson's types
 * out of the public headers).
 */
#ifndef VT_VERIFY_POLICY_JSON_H
#define VT_VERIFY_POLICY_JSON_H

#include <jansson.h>

#include <veritee/policy.h>

/* The same on parsed claims (a jansson object). */
VT_MUST_USE enum vt_err vt_policy_eval_json(const struct vt_policy *p, const json_t *claims,
                                            struct vt_policy_result *r, struct vt_diag *d);
#endif
