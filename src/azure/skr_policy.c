/*
 * Key Vault SKR release policies (skr_policy.h, docs/skr.md): a checked tree of authorities and
 * conditions built once from untrusted JSON, then evaluated against verified tokens with an
 * explanation of every condition.
 *
 * SPEC: Azure Key Vault "secure key release policy grammar" (version 1.0.0: anyOf of authorities,
 * anyOf/allOf of claim conditions, the operators equals, notEquals, less, lessOrEquals, greater,
 * greaterOrEquals, exists).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "azure/skr_policy.h"
#include "net/json_fields.h"

enum node_kind { N_ANY, N_ALL, N_CLAIM };

enum op {
    OP_EQUALS,
    OP_NOT_EQUALS,
    OP_LESS,
    OP_LESS_OR_EQUALS,
    OP_GREATER,
    OP_GREATER_OR_EQUALS,
    OP_EXISTS,
};

static const char *const op_names[] = {"equals",  "notEquals",       "less",  "lessOrEquals",
                                       "greater", "greaterOrEquals", "exists"};
#define N_OPS (sizeof(op_names) / sizeof(op_names[0]))

struct node {
    enum node_kind kind;
    /* N_ANY, N_ALL */
    struct node *children;
    size_t n_children;
    /* N_CLAIM */
    char *claim; /* the name as written */
    enum op op;
    json_t *value; /* borrowed from the policy's document */
};

struct authority {
    char *issuer;
    struct node cond; /* N_ANY or N_ALL */
};

struct vt_skr_policy {
    json_t *doc;
    struct authority *auth;
    size_t n_auth;
};

struct parse_ctx {
    size_t nodes;
    struct vt_diag *d;
};

/* A JSON path or another bounded text into out[cap]. The paths are bounded by the nesting limit;
 * one that did not fit would only be cut short in a message. */
static void fmt_path(char *out, size_t cap, const char *fmt, ...) VT_PRINTF(3, 4);
static void fmt_path(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(out, cap, fmt, ap);
    va_end(ap);
}

static void node_cleanup(struct node *n)
{
    for (size_t i = 0; i < n->n_children; i++) {
        node_cleanup(&n->children[i]);
    }
    free(n->children);
    free(n->claim);
}

void vt_skr_policy_free(struct vt_skr_policy *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < p->n_auth; i++) {
        free(p->auth[i].issuer);
        node_cleanup(&p->auth[i].cond);
    }
    free(p->auth);
    json_decref(p->doc);
    free(p);
}

/*
 * The members of an object, each matched (case-insensitively) to one of `names`: found[i] gets
 * the value of names[i] or NULL. A member matching none is refused, as are two matching the same.
 */
static enum vt_err members(const json_t *o, const char *path, const char *const *names, size_t n,
                           json_t **found, struct vt_diag *d)
{
    for (size_t i = 0; i < n; i++) {
        found[i] = NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        size_t i = 0;
        while (i < n && strcasecmp(key, names[i]) != 0) {
            i++;
        }
        if (i == n) {
            return vt_fail(d, VT_E_UNSUPPORTED, "skr.member",
                           "%s: the member \"%.64s\" is not part of the release policy grammar "
                           "(version 1.0.0)",
                           path, key);
        }
        VT_ENSURE(found[i] == NULL, d, VT_E_DUPLICATE, "skr.member",
                  "%s: \"%s\" appears twice (member names are compared without case)", path,
                  names[i]);
        found[i] = v;
    }
    return VT_OK;
}

static enum vt_err parse_condition(struct parse_ctx *c, const json_t *v, const char *path,
                                   int depth, struct node *out);

/* A non-empty array of conditions under path (the anyOf or allOf member itself). */
static enum vt_err parse_list(struct parse_ctx *c, const json_t *arr, const char *path, int depth,
                              enum node_kind kind, struct node *out)
{
    struct vt_diag *d = c->d;
    VT_ENSURE(depth <= VT_SKR_DEPTH_MAX, d, VT_E_TOO_LARGE, "skr.depth",
              "%s: anyOf/allOf nested deeper than %d", path, VT_SKR_DEPTH_MAX);
    VT_ENSURE(json_is_array(arr), d, VT_E_BAD_FIELD, "skr.list", "%s: expected an array, found %s",
              path, vt_json_type_name(arr));
    size_t n = json_array_size(arr);
    VT_ENSURE(n > 0, d, VT_E_BAD_FIELD, "skr.list",
              "%s: an empty list (the grammar requires at least one condition)", path);
    out->kind = kind;
    out->children = calloc(n, sizeof(*out->children));
    VT_ENSURE(out->children != NULL, d, VT_E_NOMEM, "skr.policy", "no memory");
    for (size_t i = 0; i < n; i++) {
        char sub[512];
        fmt_path(sub, sizeof(sub), "%s[%zu]", path, i);
        out->n_children = i + 1;
        VT_TRY(parse_condition(c, json_array_get(arr, i), sub, depth + 1, &out->children[i]));
    }
    return VT_OK;
}

/* The dotted path of a claim name: 1..VT_SKR_SEGMENTS_MAX non-empty segments. */
static enum vt_err check_claim_name(const char *name, const char *path, struct vt_diag *d)
{
    size_t len = strlen(name), segs = 1;
    VT_ENSURE(len > 0 && len <= VT_SKR_CLAIM_MAX, d, VT_E_BAD_FIELD, "skr.claim",
              "%s: a claim name is 1 to %d bytes, found %zu", path, VT_SKR_CLAIM_MAX, len);
    VT_ENSURE(name[0] != '.' && name[len - 1] != '.' && strstr(name, "..") == NULL, d,
              VT_E_BAD_FIELD, "skr.claim",
              "%s: the claim path \"%.64s\" has an empty segment (claim paths are dotted names)",
              path, name);
    for (size_t i = 0; i < len; i++) {
        segs += name[i] == '.';
        VT_ENSURE((unsigned char)name[i] >= 0x20, d, VT_E_BAD_FIELD, "skr.claim",
                  "%s: the claim name has a control character at byte %zu", path, i);
    }
    VT_ENSURE(segs <= VT_SKR_SEGMENTS_MAX, d, VT_E_TOO_LARGE, "skr.claim",
              "%s: the claim path has %zu segments, at most %d", path, segs, VT_SKR_SEGMENTS_MAX);
    return VT_OK;
}

static enum vt_err parse_condition(struct parse_ctx *c, const json_t *v, const char *path,
                                   int depth, struct node *out)
{
    struct vt_diag *d = c->d;
    VT_ENSURE(++c->nodes <= VT_SKR_NODES_MAX, d, VT_E_TOO_LARGE, "skr.nodes",
              "%s: more than %d authorities and conditions", path, VT_SKR_NODES_MAX);
    VT_ENSURE(json_is_object(v), d, VT_E_BAD_FIELD, "skr.condition",
              "%s: a condition is an object, found %s", path, vt_json_type_name(v));
    static const char *const names[] = {"anyOf",           "allOf", "claim",        "equals",
                                        "notEquals",       "less",  "lessOrEquals", "greater",
                                        "greaterOrEquals", "exists"};
    json_t *m[10];
    VT_TRY(members(v, path, names, 10, m, d));
    char sub[512];
    if (m[0] != NULL || m[1] != NULL) {
        VT_ENSURE(m[0] == NULL || m[1] == NULL, d, VT_E_BAD_FIELD, "skr.condition",
                  "%s: a condition has anyOf or allOf, not both", path);
        for (size_t i = 2; i < 10; i++) {
            VT_ENSURE(m[i] == NULL, d, VT_E_BAD_FIELD, "skr.condition",
                      "%s: \"%s\" beside %s (a condition is a claim condition or a list, not "
                      "both)",
                      path, names[i], m[0] ? "anyOf" : "allOf");
        }
        fmt_path(sub, sizeof(sub), "%s.%s", path, m[0] ? "anyOf" : "allOf");
        return parse_list(c, m[0] ? m[0] : m[1], sub, depth, m[0] ? N_ANY : N_ALL, out);
    }
    VT_ENSURE(m[2] != NULL, d, VT_E_MISSING_FIELD, "skr.claim",
              "%s: a condition needs \"claim\" and an operator, or \"anyOf\" or \"allOf\"", path);
    fmt_path(sub, sizeof(sub), "%s.claim", path);
    VT_ENSURE(json_is_string(m[2]), d, VT_E_BAD_FIELD, "skr.claim",
              "%s: expected a string, found %s", sub, vt_json_type_name(m[2]));
    VT_TRY(check_claim_name(json_string_value(m[2]), sub, d));
    size_t n_ops = 0, which = 0;
    for (size_t i = 0; i < N_OPS; i++) {
        if (m[3 + i] != NULL) {
            n_ops++;
            which = i;
        }
    }
    VT_ENSURE(n_ops == 1, d, n_ops == 0 ? VT_E_MISSING_FIELD : VT_E_BAD_FIELD, "skr.operator",
              "%s: a claim condition has exactly one operator (equals, notEquals, less, "
              "lessOrEquals, greater, greaterOrEquals, exists), found %zu",
              path, n_ops);
    json_t *val = m[3 + which];
    fmt_path(sub, sizeof(sub), "%s.%s", path, op_names[which]);
    enum op op = (enum op)which;
    switch (op) {
    case OP_EQUALS:
    case OP_NOT_EQUALS:
        VT_ENSURE(json_is_string(val) || json_is_boolean(val) || json_is_number(val), d,
                  VT_E_UNSUPPORTED, "skr.operator",
                  "%s: compares with a string, a boolean or a number, found %s", sub,
                  vt_json_type_name(val));
        break;
    case OP_EXISTS:
        VT_ENSURE(json_is_boolean(val), d, VT_E_UNSUPPORTED, "skr.operator",
                  "%s: takes true or false, found %s", sub, vt_json_type_name(val));
        break;
    default:
        VT_ENSURE(json_is_number(val), d, VT_E_UNSUPPORTED, "skr.operator",
                  "%s: veritee orders numbers only, found %s", sub, vt_json_type_name(val));
        VT_ENSURE(isfinite(json_number_value(val)), d, VT_E_BAD_FIELD, "skr.operator",
                  "%s: not a finite number", sub);
        break;
    }
    out->kind = N_CLAIM;
    out->op = op;
    out->value = val;
    out->claim = strdup(json_string_value(m[2]));
    VT_ENSURE(out->claim != NULL, d, VT_E_NOMEM, "skr.policy", "no memory");
    return VT_OK;
}

static enum vt_err parse_authority(struct parse_ctx *c, const json_t *v, const char *path,
                                   struct authority *a)
{
    struct vt_diag *d = c->d;
    VT_ENSURE(++c->nodes <= VT_SKR_NODES_MAX, d, VT_E_TOO_LARGE, "skr.nodes",
              "%s: more than %d authorities and conditions", path, VT_SKR_NODES_MAX);
    VT_ENSURE(json_is_object(v), d, VT_E_BAD_FIELD, "skr.authority",
              "%s: an authority is an object, found %s", path, vt_json_type_name(v));
    static const char *const names[] = {"authority", "anyOf", "allOf"};
    json_t *m[3];
    VT_TRY(members(v, path, names, 3, m, d));
    VT_ENSURE(m[0] != NULL, d, VT_E_MISSING_FIELD, "skr.authority",
              "%s: \"authority\" (the issuer URL of the tokens it accepts) is missing", path);
    VT_ENSURE(json_is_string(m[0]), d, VT_E_BAD_FIELD, "skr.authority",
              "%s.authority: expected a string, found %s", path, vt_json_type_name(m[0]));
    const char *iss = json_string_value(m[0]);
    size_t len = strlen(iss);
    VT_ENSURE(len > 0 && len <= VT_SKR_AUTHORITY_MAX, d, VT_E_BAD_FIELD, "skr.authority",
              "%s.authority: 1 to %d bytes, found %zu", path, VT_SKR_AUTHORITY_MAX, len);
    VT_ENSURE(strncasecmp(iss, "https://", 8) == 0 || strncasecmp(iss, "http://", 7) == 0, d,
              VT_E_BAD_FIELD, "skr.authority",
              "%s.authority: \"%.64s\" is not an http(s) URL (an attestation service's issuer)",
              path, iss);
    VT_ENSURE(m[1] != NULL || m[2] != NULL, d, VT_E_MISSING_FIELD, "skr.authority",
              "%s: an authority needs \"anyOf\" or \"allOf\" with its conditions", path);
    VT_ENSURE(m[1] == NULL || m[2] == NULL, d, VT_E_BAD_FIELD, "skr.authority",
              "%s: an authority has anyOf or allOf, not both", path);
    a->issuer = strdup(iss);
    VT_ENSURE(a->issuer != NULL, d, VT_E_NOMEM, "skr.policy", "no memory");
    char sub[512];
    fmt_path(sub, sizeof(sub), "%s.%s", path, m[1] ? "anyOf" : "allOf");
    return parse_list(c, m[1] ? m[1] : m[2], sub, 2, m[1] ? N_ANY : N_ALL, &a->cond);
}

static enum vt_err parse_doc(struct vt_skr_policy *p, struct parse_ctx *c)
{
    struct vt_diag *d = c->d;
    VT_ENSURE(json_is_object(p->doc), d, VT_E_BAD_FIELD, "skr.policy",
              "$: a release policy is a JSON object, found %s", vt_json_type_name(p->doc));
    static const char *const names[] = {"version", "anyOf"};
    json_t *m[2];
    VT_TRY(members(p->doc, "$", names, 2, m, d));
    VT_ENSURE(m[0] != NULL, d, VT_E_MISSING_FIELD, "skr.version",
              "$.version is missing (veritee reads version \"1.0.0\")");
    VT_ENSURE(json_is_string(m[0]), d, VT_E_BAD_FIELD, "skr.version",
              "$.version: expected a string, found %s", vt_json_type_name(m[0]));
    VT_ENSURE(strcmp(json_string_value(m[0]), "1.0.0") == 0, d, VT_E_UNSUPPORTED_VERSION,
              "skr.version", "$.version: \"%.32s\" is not a version veritee reads (\"1.0.0\")",
              json_string_value(m[0]));
    VT_ENSURE(m[1] != NULL, d, VT_E_MISSING_FIELD, "skr.authority",
              "$.anyOf (the list of authorities) is missing");
    VT_ENSURE(json_is_array(m[1]), d, VT_E_BAD_FIELD, "skr.authority",
              "$.anyOf: expected an array of authorities, found %s", vt_json_type_name(m[1]));
    size_t n = json_array_size(m[1]);
    VT_ENSURE(n > 0, d, VT_E_BAD_FIELD, "skr.authority",
              "$.anyOf: an empty list (at least one authority is required)");
    p->auth = calloc(n, sizeof(*p->auth));
    VT_ENSURE(p->auth != NULL, d, VT_E_NOMEM, "skr.policy", "no memory");
    for (size_t i = 0; i < n; i++) {
        char sub[64];
        fmt_path(sub, sizeof(sub), "$.anyOf[%zu]", i);
        p->n_auth = i + 1;
        VT_TRY(parse_authority(c, json_array_get(m[1], i), sub, &p->auth[i]));
    }
    return VT_OK;
}

enum vt_err vt_skr_policy_parse(const char *text, size_t len, struct vt_skr_policy **out,
                                struct vt_diag *d)
{
    *out = NULL;
    VT_ENSURE(len <= VT_SKR_POLICY_MAX, d, VT_E_TOO_LARGE, "skr.policy",
              "the policy is %zu bytes, at most %u", len, VT_SKR_POLICY_MAX);
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL) {
        return vt_fail(d, strstr(je.text, "duplicate") ? VT_E_DUPLICATE : VT_E_BAD_JSON, "skr.json",
                       "%s (line %d, column %d)", je.text, je.line, je.column);
    }
    struct vt_skr_policy *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        json_decref(doc);
        return vt_fail(d, VT_E_NOMEM, "skr.policy", "no memory");
    }
    p->doc = doc;
    struct parse_ctx c = {0, d};
    enum vt_err err = parse_doc(p, &c);
    if (err != VT_OK) {
        vt_skr_policy_free(p);
        return err;
    }
    *out = p;
    return VT_OK;
}

const char *vt_skr_policy_authority(const struct vt_skr_policy *p, size_t i)
{
    return i < p->n_auth ? p->auth[i].issuer : NULL;
}

/* ---- evaluation ---- */

static void say(struct vt_buf *b, int indent, const char *fmt, ...) VT_PRINTF(3, 4);
static void say(struct vt_buf *b, int indent, const char *fmt, ...)
{
    if (b == NULL) {
        return;
    }
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    (void)!vt_buf_printf(b, "%*s%s\n", indent * 2, "", line);
}

/* A JSON value as short text for explanations. */
static void show(const json_t *v, char *out, size_t cap)
{
    if (v == NULL) {
        snprintf(out, cap, "(absent)");
        return;
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL) {
        snprintf(out, cap, "(?)");
        return;
    }
    size_t n = strlen(s);
    if (n + 1 > cap && cap > 4) {
        snprintf(out, cap, "%.*s...", (int)(cap - 4), s);
    } else {
        snprintf(out, cap, "%s", s);
    }
    free(s);
}

/* The claim at a dotted path: each segment a member of an object. */
static const json_t *lookup(const json_t *claims, const char *path)
{
    const json_t *cur = claims;
    const char *p = path;
    while (cur != NULL) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!json_is_object(cur)) {
            return NULL;
        }
        cur = json_object_getn(cur, p, n);
        if (dot == NULL) {
            return cur;
        }
        p = dot + 1;
    }
    return NULL;
}

enum cmp { CMP_LT, CMP_EQ, CMP_GT, CMP_TYPE };

/* Type-strict comparison of a claim with the policy's value. */
static enum cmp compare(const json_t *actual, const json_t *want)
{
    if (json_is_string(want)) {
        if (!json_is_string(actual)) {
            return CMP_TYPE;
        }
        size_t a = json_string_length(actual), w = json_string_length(want);
        return a == w && memcmp(json_string_value(actual), json_string_value(want), a) == 0
                   ? CMP_EQ
                   : CMP_LT;
    }
    if (json_is_boolean(want)) {
        if (!json_is_boolean(actual)) {
            return CMP_TYPE;
        }
        return json_is_true(actual) == json_is_true(want) ? CMP_EQ : CMP_LT;
    }
    if (!json_is_number(actual)) {
        return CMP_TYPE;
    }
    if (json_is_integer(actual) && json_is_integer(want)) {
        json_int_t a = json_integer_value(actual), w = json_integer_value(want);
        return a < w ? CMP_LT : a > w ? CMP_GT : CMP_EQ;
    }
    double a = json_number_value(actual), w = json_number_value(want);
    if (!isfinite(a)) {
        return CMP_TYPE;
    }
    return a < w ? CMP_LT : a > w ? CMP_GT : CMP_EQ;
}

static bool eval_node(const struct node *n, const json_t *claims, const char *path, int indent,
                      struct vt_buf *b)
{
    if (n->kind == N_CLAIM) {
        const json_t *actual = lookup(claims, n->claim);
        char want[160], got[160];
        show(n->value, want, sizeof(want));
        show(actual, got, sizeof(got));
        bool ok;
        const char *why = "";
        if (n->op == OP_EXISTS) {
            ok = (actual != NULL) == json_is_true(n->value);
        } else if (actual == NULL) {
            ok = false;
            why = " (the claim is absent)";
        } else {
            enum cmp c = compare(actual, n->value);
            switch (n->op) {
            case OP_EQUALS:
                ok = c == CMP_EQ;
                break;
            case OP_NOT_EQUALS:
                ok = c != CMP_EQ && c != CMP_TYPE;
                break;
            case OP_LESS:
                ok = c == CMP_LT;
                break;
            case OP_LESS_OR_EQUALS:
                ok = c == CMP_LT || c == CMP_EQ;
                break;
            case OP_GREATER:
                ok = c == CMP_GT;
                break;
            default:
                ok = c == CMP_GT || c == CMP_EQ;
                break;
            }
            if (c == CMP_TYPE) {
                ok = false;
                why = " (the claim is of another type: comparisons are type-strict)";
            }
        }
        say(b, indent, "%s: claim %.128s %s %s: actual %s -> %s%s", path, n->claim, op_names[n->op],
            want, got, ok ? "true" : "false", why);
        return ok;
    }
    bool any = n->kind == N_ANY, result = !any;
    say(b, indent, "%s: %s of %zu", path, any ? "anyOf" : "allOf", n->n_children);
    for (size_t i = 0; i < n->n_children; i++) {
        char sub[512];
        fmt_path(sub, sizeof(sub), "%s[%zu]", path, i);
        bool r = eval_node(&n->children[i], claims, sub, indent + 1, b);
        result = any ? (result || r) : (result && r);
    }
    say(b, indent, "%s: %s", path, result ? "true" : "false");
    return result;
}

/* Issuers compare as URLs do in practice: ASCII case-insensitively, one trailing '/' ignored. */
static bool same_issuer(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    na -= na > 0 && a[na - 1] == '/';
    nb -= nb > 0 && b[nb - 1] == '/';
    return na == nb && strncasecmp(a, b, na) == 0;
}

bool vt_skr_policy_eval(const struct vt_skr_policy *p, const char *issuer, const json_t *claims,
                        struct vt_buf *explain)
{
    bool granted = false;
    for (size_t i = 0; i < p->n_auth; i++) {
        const struct authority *a = &p->auth[i];
        char path[64];
        fmt_path(path, sizeof(path), "$.anyOf[%zu]", i);
        if (issuer == NULL || !same_issuer(a->issuer, issuer)) {
            say(explain, 0, "%s: authority %.200s is not the token's issuer %.200s -> skipped",
                path, a->issuer, issuer ? issuer : "(none)");
            continue;
        }
        say(explain, 0, "%s: authority %.200s is the token's issuer", path, a->issuer);
        char sub[80];
        fmt_path(sub, sizeof(sub), "%s.%s", path, a->cond.kind == N_ANY ? "anyOf" : "allOf");
        if (eval_node(&a->cond, claims, sub, 1, explain)) {
            granted = true;
        }
    }
    say(explain, 0, "release policy: %s", granted ? "satisfied" : "not satisfied");
    return granted;
}
