/*
 * The compiled form of an MAA policy (src/azure/maa_policy.c builds it, maa_policy_eval.c reads
 * it). Flat arrays indexed by position: a rule owns a run of conditions, a condition a run of
 * property tests. Strings live in one pool, referenced by offset and length (the pool grows while
 * compiling; vt_maa_policy_compile sets `pool` last and nothing moves after).
 *
 * Internal to src/azure.
 */
#ifndef VT_AZURE_MAA_POLICY_IMPL_H
#define VT_AZURE_MAA_POLICY_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "azure/maa_policy.h"

/* The kind of a claim value (MAA's valueType). Values of different kinds are never equal. */
enum mp_kind { MP_STRING, MP_INTEGER, MP_BOOLEAN };

/* The claim properties a condition may test and a reference may read. */
enum mp_prop { MP_PROP_TYPE, MP_PROP_VALUE, MP_PROP_ISSUER, MP_PROP_VALUETYPE };

enum mp_op { MP_OP_EQ, MP_OP_NE, MP_OP_LT, MP_OP_LE, MP_OP_GT, MP_OP_GE };

enum mp_action { MP_PERMIT, MP_DENY, MP_ISSUE, MP_ISSUEPROPERTY, MP_ADD };

/* A literal: a string of the pool, an integer or a boolean. */
struct mp_lit {
    enum mp_kind kind;
    size_t off, len; /* MP_STRING: bytes in the pool */
    int64_t i;       /* MP_INTEGER */
    bool b;          /* MP_BOOLEAN */
};

/* The right-hand side of a test or an action's argument: a literal, or a property of the claim
 * bound to an earlier condition of the same rule (`c.value`). */
struct mp_operand {
    bool is_ref;
    struct mp_lit lit;
    size_t ref;            /* index of the condition within its rule */
    enum mp_prop ref_prop; /* the property read */
};

/* One property condition: `value >= 2`. */
struct mp_test {
    enum mp_prop prop;
    enum mp_op op;
    struct mp_operand rhs;
};

/* One condition `[ident:] [test, ...]`: satisfied by a claim that passes every test. */
struct mp_cond {
    size_t first_test, n_tests;
    bool named;
    size_t name_off, name_len; /* the identifier, in the pool */
    /* Some later condition or the action reads the claim bound here: evaluation must try every
     * claim that satisfies it; otherwise the first one is enough. */
    bool needed;
};

struct mp_rule {
    uint32_t line, column; /* where the rule starts */
    size_t first_cond, n_conds;
    enum mp_action action;
    /* MP_ISSUE, MP_ISSUEPROPERTY, MP_ADD: either the claim bound to condition `claim_cond`
     * (claim=c) or a type and a value. */
    bool from_claim;
    size_t claim_cond;
    struct mp_operand type, value;
};

struct vt_maa_policy {
    struct mp_rule *rules; /* authorizationrules first, then issuancerules */
    size_t n_auth, n_iss;
    struct mp_cond *conds;
    size_t n_conds;
    struct mp_test *tests;
    size_t n_tests;
    char *pool;
    size_t pool_len;
};

/* "AttestationService", "AttestationPolicy", "CustomClaim": the issuers of claims, by index. */
enum mp_issuer { MP_ISSUER_SERVICE, MP_ISSUER_POLICY, MP_ISSUER_CUSTOM, MP_ISSUER_COUNT };

/* Name of an issuer, of a value kind ("String", "Integer", "Boolean"). */
const char *vt_maa_issuer_name(enum mp_issuer issuer);
const char *vt_maa_kind_name(enum mp_kind kind);

#endif
