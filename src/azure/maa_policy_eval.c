/*
 * Azure Attestation (MAA) policies, version 1.0: evaluation of a compiled policy over a claim set
 * (docs/maa-policy.md, "Evaluation").
 *
 * SPEC: Microsoft Learn, Azure Attestation, "Claim and claim rules":
 *  - rules apply in the order written, authorizationrules before issuancerules;
 *  - a rule without conditions runs its action; otherwise a condition is true when at least one
 *    claim of the set satisfies every property condition in it, and the list is true when every
 *    condition is; an identifier names the claim that satisfied its condition, for later
 *    conditions and for the action;
 *  - permit() lets the issuance rules run, deny() stops them; add() puts a claim into the
 *    incoming set for the rules that follow; issue() puts it into the incoming and the outgoing
 *    set; issueproperty() into the incoming and the property set.
 * [MS-CTA] 2.1.4.3 (the claims transformation algorithm MAA's language descends from): a
 * condition list is a join, and the action runs once per tuple of claims that satisfies it.
 *
 * Decisions where MAA's documentation is silent (all in docs/maa-policy.md):
 *  - deny() wins: the first rule whose deny() runs ends the evaluation, not permitted, whatever
 *    ran before; otherwise the evaluation is permitted when at least one permit() ran;
 *  - a rule sees the claims as they were when it started: what its own action adds is seen from
 *    the next rule on; one rule never produces the same claim (type, value) twice;
 *  - claims the policy produces have the issuer AttestationPolicy, issue(claim=c) included (it
 *    keeps c's type and value);
 *  - values of different kinds are never equal ("1", 1 and true are three different values): ==
 *    is false and != true between them; <, <=, >, >= hold only between two integers;
 *  - issueproperty() of a type already set replaces its value.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "azure/maa_policy.h"
#include "azure/maa_policy_impl.h"

#define CHECK_EVAL "maa.policy.eval"
#define CHECK_CLAIMS "maa.policy.claims"

/* A value of any kind, borrowed. */
struct val {
    enum mp_kind kind;
    const char *s; /* MP_STRING */
    size_t len;
    int64_t i; /* MP_INTEGER */
    bool b;    /* MP_BOOLEAN */
};

/* A claim of the working set; its strings are borrowed from the incoming JSON or the policy. */
struct claim {
    const char *type;
    size_t type_len;
    struct val value;
    enum mp_issuer issuer;
};

/*
 * The claims one rule produced, for its duplicate check: an open-addressing hash set of claim
 * indices, emptied for each rule by moving to a new generation instead of clearing. Twice as many
 * slots as the working set can hold claims, so a probe always ends.
 */
#define DEDUP_SLOTS (2u * VT_MAA_POLICY_MAX_CLAIMS)

struct dedup {
    uint32_t claim[DEDUP_SLOTS];
    uint32_t gen[DEDUP_SLOTS];
    uint32_t current;
};

struct eval {
    const struct vt_maa_policy *p;
    struct claim *claims;
    size_t n, cap;
    struct dedup *dedup; /* allocated on the first claim a rule produces */
    size_t steps;
    bool permitted, denied;
    const struct mp_rule *deciding; /* the rule whose deny() ran */
    json_t *issued;                 /* NULL in authorizationrules */
    json_t *props;
    struct vt_diag *d;
};

static struct val str_val(const char *s, size_t len)
{
    struct val v;
    memset(&v, 0, sizeof(v));
    v.kind = MP_STRING;
    v.s = s;
    v.len = len;
    return v;
}

static struct val prop_val(const struct claim *cl, enum mp_prop prop)
{
    switch (prop) {
    case MP_PROP_TYPE:
        return str_val(cl->type, cl->type_len);
    case MP_PROP_VALUE:
        return cl->value;
    case MP_PROP_ISSUER: {
        const char *name = vt_maa_issuer_name(cl->issuer);
        return str_val(name, strlen(name));
    }
    case MP_PROP_VALUETYPE: {
        const char *name = vt_maa_kind_name(cl->value.kind);
        return str_val(name, strlen(name));
    }
    }
    return str_val("", 0);
}

static struct val operand_val(const struct eval *e, const struct mp_rule *rule, const size_t *bind,
                              const struct mp_operand *op)
{
    if (op->is_ref) {
        return prop_val(&e->claims[bind[op->ref]], op->ref_prop);
    }
    struct val v;
    memset(&v, 0, sizeof(v));
    v.kind = op->lit.kind;
    v.s = e->p->pool + op->lit.off;
    v.len = op->lit.len;
    v.i = op->lit.i;
    v.b = op->lit.b;
    (void)rule;
    return v;
}

/* Equal: same kind and same value. */
static bool val_eq(const struct val *a, const struct val *b)
{
    if (a->kind != b->kind) {
        return false;
    }
    switch (a->kind) {
    case MP_STRING:
        return a->len == b->len && (a->len == 0 || memcmp(a->s, b->s, a->len) == 0);
    case MP_INTEGER:
        return a->i == b->i;
    case MP_BOOLEAN:
        return a->b == b->b;
    }
    return false;
}

static bool compare(enum mp_op op, const struct val *a, const struct val *b)
{
    if (op == MP_OP_EQ) {
        return val_eq(a, b);
    }
    if (op == MP_OP_NE) {
        return !val_eq(a, b);
    }
    if (a->kind != MP_INTEGER || b->kind != MP_INTEGER) {
        return false;
    }
    switch (op) {
    case MP_OP_LT:
        return a->i < b->i;
    case MP_OP_LE:
        return a->i <= b->i;
    case MP_OP_GT:
        return a->i > b->i;
    case MP_OP_GE:
        return a->i >= b->i;
    default:
        return false;
    }
}

/* Does claim `ci` satisfy condition k of the rule, given the claims bound to conditions < k? */
static bool cond_matches(const struct eval *e, const struct mp_rule *rule, size_t k, size_t ci,
                         const size_t *bind)
{
    const struct mp_cond *cd = &e->p->conds[rule->first_cond + k];
    const struct claim *cl = &e->claims[ci];
    for (size_t t = 0; t < cd->n_tests; t++) {
        const struct mp_test *test = &e->p->tests[cd->first_test + t];
        struct val lhs = prop_val(cl, test->prop);
        struct val rhs = operand_val(e, rule, bind, &test->rhs);
        if (!compare(test->op, &lhs, &rhs)) {
            return false;
        }
    }
    return true;
}

static json_t *val_json(const struct val *v)
{
    switch (v->kind) {
    case MP_STRING:
        return json_stringn(v->s, v->len);
    case MP_INTEGER:
        return json_integer((json_int_t)v->i);
    case MP_BOOLEAN:
        return json_boolean(v->b);
    }
    return NULL;
}

static enum vt_err nomem(struct eval *e)
{
    return vt_fail(e->d, VT_E_NOMEM, CHECK_EVAL, "out of memory evaluating the policy");
}

static const char *section_of(const struct eval *e, const struct mp_rule *rule)
{
    return (size_t)(rule - e->p->rules) < e->p->n_auth ? "authorizationrules" : "issuancerules";
}

/* FNV-1a over a claim's type, kind and value. */
static uint32_t claim_hash(const struct claim *cl)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < cl->type_len; i++) {
        h = (h ^ (unsigned char)cl->type[i]) * 16777619u;
    }
    h = (h ^ (uint32_t)cl->value.kind) * 16777619u;
    switch (cl->value.kind) {
    case MP_STRING:
        for (size_t i = 0; i < cl->value.len; i++) {
            h = (h ^ (unsigned char)cl->value.s[i]) * 16777619u;
        }
        break;
    case MP_INTEGER:
        for (int k = 0; k < 64; k += 8) {
            h = (h ^ (uint32_t)(((uint64_t)cl->value.i >> k) & 0xffu)) * 16777619u;
        }
        break;
    case MP_BOOLEAN:
        h = (h ^ (cl->value.b ? 1u : 0u)) * 16777619u;
        break;
    }
    return h;
}

static enum vt_err too_many_steps(struct eval *e, const struct mp_rule *rule)
{
    return vt_fail(e->d, VT_E_TOO_LARGE, CHECK_EVAL,
                   "evaluation exceeded %u steps in the %s rule at line %u, column %u",
                   (unsigned)VT_MAA_POLICY_MAX_STEPS, section_of(e, rule), (unsigned)rule->line,
                   (unsigned)rule->column);
}

/*
 * Has the current rule produced a claim equal to cl (same type, same value)? If not, remember
 * that it produces it as claim index `next`. Each slot probed is a step.
 */
static enum vt_err seen_before(struct eval *e, const struct mp_rule *rule, const struct claim *cl,
                               size_t next, bool *seen)
{
    struct dedup *t = e->dedup;
    size_t i = claim_hash(cl) & (DEDUP_SLOTS - 1u);
    for (;;) {
        if (++e->steps > VT_MAA_POLICY_MAX_STEPS) {
            return too_many_steps(e, rule);
        }
        if (t->gen[i] != t->current) {
            t->gen[i] = t->current;
            t->claim[i] = (uint32_t)next;
            *seen = false;
            return VT_OK;
        }
        const struct claim *o = &e->claims[t->claim[i]];
        if (o->type_len == cl->type_len && memcmp(o->type, cl->type, cl->type_len) == 0 &&
            val_eq(&o->value, &cl->value)) {
            *seen = true;
            return VT_OK;
        }
        i = (i + 1u) & (DEDUP_SLOTS - 1u);
    }
}

/* issue/issueproperty/add for one tuple. */
static enum vt_err produce(struct eval *e, const struct mp_rule *rule, const size_t *bind)
{
    struct claim cl;
    memset(&cl, 0, sizeof(cl));
    cl.issuer = MP_ISSUER_POLICY;
    if (rule->from_claim) {
        const struct claim *src = &e->claims[bind[rule->claim_cond]];
        cl.type = src->type;
        cl.type_len = src->type_len;
        cl.value = src->value;
    } else {
        /* The compiler allows only strings for type= (a literal or a string property). */
        struct val t = operand_val(e, rule, bind, &rule->type);
        if (t.kind != MP_STRING) {
            return vt_fail(e->d, VT_E_INTERNAL, CHECK_EVAL, "rule at line %u: type= is a %s",
                           (unsigned)rule->line, vt_maa_kind_name(t.kind));
        }
        cl.type = t.s;
        cl.type_len = t.len;
        cl.value = operand_val(e, rule, bind, &rule->value);
    }
    if (e->n >= VT_MAA_POLICY_MAX_CLAIMS) {
        return vt_fail(e->d, VT_E_TOO_LARGE, CHECK_EVAL,
                       "the claim set would exceed %u claims (the %s rule at line %u, column %u)",
                       (unsigned)VT_MAA_POLICY_MAX_CLAIMS, section_of(e, rule),
                       (unsigned)rule->line, (unsigned)rule->column);
    }
    bool seen = false;
    VT_TRY(seen_before(e, rule, &cl, e->n, &seen));
    if (seen) {
        return VT_OK; /* this rule produced it already */
    }
    if (e->n == e->cap) {
        size_t cap = e->cap * 2;
        struct claim *c = realloc(e->claims, cap * sizeof(*c));
        if (c == NULL) {
            return nomem(e);
        }
        e->claims = c;
        e->cap = cap;
    }
    e->claims[e->n++] = cl;
    if (rule->action == MP_ISSUE || rule->action == MP_ISSUEPROPERTY) {
        json_t *v = val_json(&cl.value);
        if (v == NULL) {
            return nomem(e);
        }
        if (rule->action == MP_ISSUE) {
            json_t *o = json_pack("{s:s%,s:o,s:s}", "type", cl.type, cl.type_len, "value", v,
                                  "issuer", vt_maa_issuer_name(MP_ISSUER_POLICY));
            if (o == NULL || json_array_append_new(e->issued, o) != 0) {
                return nomem(e);
            }
        } else {
            /* Claim types have no NUL (checked on input; literals cannot hold one). */
            char key[VT_MAA_POLICY_MAX_STRING + 1];
            size_t n = cl.type_len < sizeof(key) - 1 ? cl.type_len : sizeof(key) - 1;
            memcpy(key, cl.type, n);
            key[n] = '\0';
            if (json_object_set_new(e->props, key, v) != 0) {
                return nomem(e);
            }
        }
    }
    return VT_OK;
}

/* The deepest condition below `below` whose claim is needed, or SIZE_MAX. */
static size_t needed_below(const struct eval *e, const struct mp_rule *rule, size_t below)
{
    while (below > 0) {
        below--;
        if (e->p->conds[rule->first_cond + below].needed) {
            return below;
        }
    }
    return SIZE_MAX;
}

static enum vt_err act(struct eval *e, const struct mp_rule *rule, const size_t *bind,
                       bool *stop_rule)
{
    switch (rule->action) {
    case MP_PERMIT:
        e->permitted = true;
        *stop_rule = true;
        return VT_OK;
    case MP_DENY:
        e->denied = true;
        e->deciding = rule;
        *stop_rule = true;
        return VT_OK;
    default:
        return produce(e, rule, bind);
    }
}

/*
 * Run one rule: enumerate the tuples of claims that satisfy its conditions (backtracking in the
 * order written) and run the action for each. A condition whose claim nothing reads takes the
 * first claim that satisfies it: any other would lead to the same actions.
 */
static enum vt_err run_rule(struct eval *e, const struct mp_rule *rule)
{
    size_t visible = e->n;
    if (rule->action == MP_ISSUE || rule->action == MP_ISSUEPROPERTY || rule->action == MP_ADD) {
        if (e->dedup == NULL) {
            e->dedup = calloc(1, sizeof(*e->dedup));
            if (e->dedup == NULL) {
                return nomem(e);
            }
        }
        e->dedup->current++; /* a new, empty set (generation 0 marks a never used slot) */
    }
    size_t bind[VT_MAA_POLICY_MAX_CONDITIONS] = {0};
    bool stop = false;
    if (rule->n_conds == 0) {
        return act(e, rule, bind, &stop);
    }
    size_t k = 0;
    bind[0] = 0;
    for (;;) {
        bool found = false;
        while (bind[k] < visible) {
            if (++e->steps > VT_MAA_POLICY_MAX_STEPS) {
                return too_many_steps(e, rule);
            }
            if (cond_matches(e, rule, k, bind[k], bind)) {
                found = true;
                break;
            }
            bind[k]++;
        }
        size_t back;
        if (found && k + 1 < rule->n_conds) {
            k++;
            bind[k] = 0;
            continue;
        }
        if (found) {
            VT_TRY(act(e, rule, bind, &stop));
            if (stop) {
                return VT_OK;
            }
            back = needed_below(e, rule, k + 1);
        } else {
            back = needed_below(e, rule, k);
        }
        if (back == SIZE_MAX) {
            return VT_OK;
        }
        k = back;
        bind[k]++;
    }
}

/* ---- the incoming claim set ---- */

static bool issuer_named(const char *s, enum mp_issuer *out)
{
    for (int i = 0; i < MP_ISSUER_COUNT; i++) {
        if (strcmp(s, vt_maa_issuer_name((enum mp_issuer)i)) == 0) {
            *out = (enum mp_issuer)i;
            return true;
        }
    }
    return false;
}

static enum vt_err load_claims(struct eval *e, const json_t *incoming)
{
    if (!json_is_array(incoming)) {
        return vt_fail(e->d, VT_E_ARG, CHECK_CLAIMS, "the claim set is not a JSON array");
    }
    size_t n = json_array_size(incoming);
    if (n > VT_MAA_POLICY_MAX_CLAIMS) {
        return vt_fail(e->d, VT_E_TOO_LARGE, CHECK_CLAIMS, "%zu claims exceed %u", n,
                       (unsigned)VT_MAA_POLICY_MAX_CLAIMS);
    }
    e->cap = n < 16 ? 16 : n * 2;
    e->claims = calloc(e->cap, sizeof(*e->claims));
    if (e->claims == NULL) {
        return nomem(e);
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(incoming, i);
        if (!json_is_object(o)) {
            return vt_fail(e->d, VT_E_ARG, CHECK_CLAIMS, "claim [%zu] is not an object", i);
        }
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)o, key, v)
        {
            if (strcmp(key, "type") != 0 && strcmp(key, "value") != 0 &&
                strcmp(key, "issuer") != 0) {
                return vt_fail(e->d, VT_E_ARG, CHECK_CLAIMS,
                               "claim [%zu] has the member \"%.64s\" (type, value, issuer only)", i,
                               key);
            }
        }
        struct claim *cl = &e->claims[i];
        const json_t *type = json_object_get(o, "type");
        if (!json_is_string(type) || json_string_length(type) == 0) {
            return vt_fail(e->d, VT_E_ARG, CHECK_CLAIMS,
                           "claim [%zu]: type is missing, empty or not a string", i);
        }
        cl->type = json_string_value(type);
        cl->type_len = json_string_length(type);
        if (memchr(cl->type, '\0', cl->type_len) != NULL ||
            cl->type_len > VT_MAA_POLICY_MAX_STRING) {
            return vt_fail(e->d, VT_E_ARG, CHECK_CLAIMS,
                           "claim [%zu]: type has a NUL or exceeds %u bytes", i,
                           (unsigned)VT_MAA_POLICY_MAX_STRING);
        }
        const json_t *value = json_object_get(o, "value");
        if (json_is_string(value)) {
            cl->value = str_val(json_string_value(value), json_string_length(value));
        } else if (json_is_integer(value)) {
            cl->value.kind = MP_INTEGER;
            cl->value.i = (int64_t)json_integer_value(value);
        } else if (json_is_boolean(value)) {
            cl->value.kind = MP_BOOLEAN;
            cl->value.b = json_is_true(value);
        } else {
            return vt_fail(e->d, VT_E_ARG, CHECK_CLAIMS,
                           "claim [%zu] (%.64s): value is %s (a string, an integer, true or "
                           "false)",
                           i, cl->type, value == NULL ? "missing" : "of another JSON type");
        }
        const json_t *issuer = json_object_get(o, "issuer");
        cl->issuer = MP_ISSUER_SERVICE;
        if (issuer != NULL &&
            (!json_is_string(issuer) || !issuer_named(json_string_value(issuer), &cl->issuer))) {
            return vt_fail(e->d, VT_E_ARG, CHECK_CLAIMS,
                           "claim [%zu] (%.64s): issuer is not AttestationService, "
                           "AttestationPolicy or CustomClaim",
                           i, cl->type);
        }
    }
    e->n = n;
    return VT_OK;
}

enum vt_err vt_maa_policy_eval(const struct vt_maa_policy *p, const struct json_t *incoming,
                               struct vt_maa_policy_result *r, struct vt_diag *d)
{
    if (r == NULL) {
        return vt_fail(d, VT_E_ARG, CHECK_EVAL, "NULL result");
    }
    memset(r, 0, sizeof(*r));
    if (p == NULL || incoming == NULL) {
        return vt_fail(d, VT_E_ARG, CHECK_EVAL, "NULL policy or claim set");
    }
    struct eval e;
    memset(&e, 0, sizeof(e));
    e.p = p;
    e.d = d;
    enum vt_err err = load_claims(&e, incoming);
    if (err == VT_OK) {
        e.props = json_object();
        err = e.props == NULL ? nomem(&e) : VT_OK;
    }
    for (size_t i = 0; err == VT_OK && i < p->n_auth && !e.denied; i++) {
        err = run_rule(&e, &p->rules[i]);
    }
    bool permitted = err == VT_OK && e.permitted && !e.denied;
    if (permitted) {
        e.issued = json_array();
        err = e.issued == NULL ? nomem(&e) : VT_OK;
        for (size_t i = 0; err == VT_OK && i < p->n_iss; i++) {
            err = run_rule(&e, &p->rules[p->n_auth + i]);
        }
    }
    free(e.claims);
    free(e.dedup);
    if (err != VT_OK) {
        json_decref(e.issued);
        json_decref(e.props);
        return err;
    }
    r->permitted = permitted;
    r->properties = e.props;
    if (permitted) {
        r->issued = e.issued;
    } else if (e.denied) {
        snprintf(r->reason, sizeof(r->reason),
                 "denied by deny() of the authorizationrules rule at line %u, column %u",
                 (unsigned)e.deciding->line, (unsigned)e.deciding->column);
    } else if (p->n_auth == 0) {
        snprintf(r->reason, sizeof(r->reason),
                 "not permitted: authorizationrules has no rules (nothing permits)");
    } else {
        snprintf(r->reason, sizeof(r->reason),
                 "not permitted: no rule of authorizationrules (%zu) ran permit()", p->n_auth);
    }
    return VT_OK;
}

void vt_maa_policy_result_cleanup(struct vt_maa_policy_result *r)
{
    if (r == NULL) {
        return;
    }
    json_decref(r->issued);
    json_decref(r->properties);
    memset(r, 0, sizeof(*r));
}
