/*
 * The policy language (docs/policy.md): the compiler and the evaluator.
 *
 * Claim names, types, hex lengths and enum values come from the claims registry
 * (src/claims/claims_list.h), the same table the JSON writer is generated from. Policies evaluate
 * the typed claims of a verification (struct vt_claims, vt_policy_eval_claims) or claims as JSON
 * (a token's, a file's): one evaluator with two ways to read a claim; tests/unit/claims check that
 * both give the same verdicts and explanations. Compilation checks everything that can be checked
 * without claims (names, operators, value types, hex lengths, enum values, times) and records the
 * JSON path of each rule, so evaluation cannot fail on a compiled policy and every outcome can be
 * explained.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include <veritee/claims.h>
#include <veritee/policy.h>

#include "base/encoding.h"

#include <veritee/time.h>

#include "crypto/crypto.h"
#include "verify/policy_json.h"

#include "claims/registry.h"

/* ---- the registry (src/claims/claims_list.h) ---- */

static const struct vt_claim_info *claim_lookup(const char *name)
{
    return vt_claim_lookup(name);
}

const char *vt_policy_claim_type(const char *name)
{
    const struct vt_claim_info *c = name != NULL ? claim_lookup(name) : NULL;
    return c != NULL ? vt_claim_type_names[c->type] : NULL;
}

/* Levenshtein distance, capped: for "did you mean" suggestions. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) {
        return 64;
    }
    size_t prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++) {
        prev[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof(size_t));
    }
    return prev[lb];
}

/* The nearest claim name, in the docs' order (section by section) on a tie. */
static const char *closest_claim(const char *name)
{
    const char *best = NULL;
    size_t best_d = 4; /* suggest only within 3 edits */
    for (int s = 0; s < VT_CS_COUNT; s++) {
        for (size_t i = 0; i < VT_CLAIM_COUNT; i++) {
            const struct vt_claim_info *c = vt_claim_info((enum vt_claim_id)i);
            if (c->section != (enum vt_claim_section)s || vt_claim_is_prefix(c)) {
                continue;
            }
            size_t dist = edit_distance(name, c->name);
            if (dist < best_d) {
                best_d = dist;
                best = c->name;
            }
        }
    }
    return best;
}

/* ---- values ---- */

/* RFC 3339 (not unix seconds) to milliseconds since the epoch. */
static bool parse_time_ms(const char *s, size_t len, int64_t *out)
{
    if (len < 20 || (s[10] != 'T' && s[10] != 't')) {
        return false;
    }
    vt_time t;
    if (vt_time_parse(s, len, &t, NULL) != VT_OK) {
        return false;
    }
    int64_t ms = 0;
    if (s[19] == '.') {
        int taken = 0;
        for (size_t i = 20; i < len && s[i] >= '0' && s[i] <= '9' && taken < 3; i++, taken++) {
            ms = ms * 10 + (s[i] - '0');
        }
        for (; taken < 3; taken++) {
            ms *= 10;
        }
    }
    if (t > INT64_MAX / 1000 - 1 || t < INT64_MIN / 1000 + 1) {
        return false;
    }
    *out = t * 1000 + ms;
    return true;
}

/* "0x" and 1..16 hex digits (either case) to a number. */
static bool parse_u64_hex(const char *s, size_t len, uint64_t *out)
{
    if (len < 3 || len > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 2; i < len; i++) {
        int h = vt_hex_value((uint8_t)s[i]);
        if (h < 0) {
            return false;
        }
        v = (v << 4) | (uint64_t)h;
    }
    *out = v;
    return true;
}

static bool all_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (vt_hex_value((uint8_t)s[i]) < 0) {
            return false;
        }
    }
    return true;
}

static bool hex_len_ok(const struct vt_claim_info *c, size_t digits)
{
    if (digits % 2 != 0) {
        return false;
    }
    if (c->len[0] == 0) {
        return true;
    }
    for (size_t i = 0; i < 3 && c->len[i] != 0; i++) {
        if (digits == 2u * c->len[i]) {
            return true;
        }
    }
    return false;
}

static bool enum_has(const struct vt_claim_info *c, const char *s)
{
    for (size_t i = 0; c->values(i) != NULL; i++) {
        if (strcmp(c->values(i), s) == 0) {
            return true;
        }
    }
    return false;
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

/* Does a claim value (from claims JSON) have the registered type? */
static bool claim_value_ok(const struct vt_claim_info *c, const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    switch (c->type) {
    case VT_CT_STRING:
        return s != NULL;
    case VT_CT_ENUM:
        return s != NULL && enum_has(c, s);
    case VT_CT_HEX:
        return s != NULL && all_hex(s, n) && hex_len_ok(c, n);
    case VT_CT_INT:
        return json_is_integer(v);
    case VT_CT_BOOL:
        return json_is_boolean(v);
    case VT_CT_TIME: {
        int64_t ms;
        return json_is_null(v) || (s != NULL && parse_time_ms(s, n, &ms));
    }
    case VT_CT_U64: {
        uint64_t u;
        return s != NULL && parse_u64_hex(s, n, &u);
    }
    case VT_CT_ARRAY:
        return json_is_array(v);
    case VT_CT_OBJECT:
        return json_is_object(v);
    case VT_CT_ANY:
        return true;
    }
    return false;
}

enum vt_err vt_policy_claims_check(const char *claims_json, size_t len, struct vt_diag *d)
{
    VT_ENSURE(claims_json != NULL, d, VT_E_ARG, "claims", "no claims");
    json_error_t jerr;
    json_t *o = json_loadb(claims_json, len, 0, &jerr);
    VT_ENSURE(o != NULL, d, VT_E_BAD_JSON, "claims", "line %d column %d: %s", jerr.line,
              jerr.column, jerr.text);
    enum vt_err err = VT_OK;
    if (!json_is_object(o)) {
        err = vt_fail(d, VT_E_BAD_FIELD, "claims", "claims must be a JSON object, got %s",
                      json_type_name(o));
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (err != VT_OK) {
            break;
        }
        const struct vt_claim_info *c = claim_lookup(key);
        if (c == NULL) {
            err =
                vt_fail(d, VT_E_BAD_FIELD, key, "claim \"%s\" is not in the policy registry", key);
        } else if (!claim_value_ok(c, v)) {
            err = vt_fail(d, VT_E_BAD_FIELD, key, "claim \"%s\" is %s in the registry but is %s",
                          key, vt_claim_type_names[c->type], json_type_name(v));
        } else if (strcmp(key, "collateral") == 0) {
            const char *sub;
            json_t *sv;
            json_object_foreach(v, sub, sv)
            {
                char name[96];
                snprintf(name, sizeof(name), "collateral.%s", sub);
                const struct vt_claim_info *sc = claim_lookup(name);
                if (sc == NULL || !claim_value_ok(sc, sv)) {
                    err =
                        vt_fail(d, VT_E_BAD_FIELD, "collateral",
                                "member \"%s\" is not in the registry or has the wrong type", name);
                    break;
                }
            }
        }
    }
    json_decref(o);
    return err;
}

/* ---- the compiled form ---- */

enum node_kind { N_ALL, N_ANY, N_NOT, N_TEST };
enum op { OP_EQUALS, OP_IN, OP_GTE, OP_LTE, OP_EXISTS };
static const char *const op_names[] = {"equals", "in", "gte", "lte", "exists"};
#define OP_COUNT 5

/* A compiled value of a claim's type. */
struct value {
    const json_t *j; /* as written in the policy (borrowed from the policy document) */
    int64_t i;       /* VT_CT_INT; VT_CT_TIME in milliseconds */
    uint64_t u;      /* VT_CT_U64 */
    char *hex;       /* VT_CT_HEX, lowercase */
    uint8_t *bytes;  /* VT_CT_HEX, decoded (typed claims compare bytes) */
    size_t n_bytes;
};

struct node {
    enum node_kind kind;
    char *path;
    struct node **kids; /* allOf/anyOf: n_kids; not: 1 */
    size_t n_kids;
    /* N_TEST */
    const char *claim; /* borrowed from the policy document */
    const struct vt_claim_info *def;
    enum op op;
    const json_t *expected; /* the operator's value as written */
    struct value *vals;     /* equals/gte/lte: 1; in: n_vals; exists: 0 */
    size_t n_vals;
    bool exists;
};

struct vt_policy {
    json_t *doc;
    uint8_t digest[VT_SHA256_LEN];
    bool allow_debug;
    unsigned accept; /* bit per enum vt_tcb_status */
    json_t *accept_json;
    struct node *rules; /* NULL: no rules */
};

static void node_free(struct node *n)
{
    if (n == NULL) {
        return;
    }
    for (size_t i = 0; i < n->n_kids; i++) {
        node_free(n->kids[i]);
    }
    free(n->kids);
    for (size_t i = 0; i < n->n_vals; i++) {
        free(n->vals[i].hex);
        free(n->vals[i].bytes);
    }
    free(n->vals);
    free(n->path);
    free(n);
}

void vt_policy_free(struct vt_policy *p)
{
    if (p == NULL) {
        return;
    }
    node_free(p->rules);
    json_decref(p->accept_json);
    json_decref(p->doc);
    free(p);
}

void vt_policy_digest(const struct vt_policy *p, uint8_t out[VT_SHA256_LEN])
{
    memcpy(out, p->digest, VT_SHA256_LEN);
}

/* ---- the compiler ---- */

#define PATH_MAX_ 600

/* Record a failure at a JSON path; the full path also leads the detail when check truncates it. */
static enum vt_err fail_at(struct vt_diag *d, enum vt_err code, const char *path, const char *fmt,
                           ...) VT_PRINTF(4, 5);
static enum vt_err fail_at(struct vt_diag *d, enum vt_err code, const char *path, const char *fmt,
                           ...)
{
    char msg[VT_DIAG_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (strlen(path) >= VT_DIAG_CHECK_MAX) {
        return vt_fail(d, code, path, "at %s: %s", path, msg);
    }
    return vt_fail(d, code, path, "%s", msg);
}

/* base.member, or base["member"] for a name that is not a plain word (empty, dots, quotes, ...),
 * printed with non-printable bytes as '?' and cut at 40 bytes. */
static void join(char *out, const char *base, const char *member)
{
    bool plain = member[0] != '\0';
    for (const char *m = member; *m != '\0'; m++) {
        char ch = *m;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-')) {
            plain = false;
        }
    }
    if (plain) {
        snprintf(out, PATH_MAX_, "%s%s%s", base, base[0] != '\0' ? "." : "", member);
        return;
    }
    char safe[41];
    size_t n = 0;
    for (; member[n] != '\0' && n < sizeof(safe) - 1; n++) {
        unsigned char ch = (unsigned char)member[n];
        safe[n] = ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\' ? (char)ch : '?';
    }
    safe[n] = '\0';
    snprintf(out, PATH_MAX_, "%s[\"%s\"]", base[0] != '\0' ? base : "$", safe);
}

static void join_index(char *out, const char *base, size_t i)
{
    /* Paths are bounded by the depth and list limits; a cut one is still a usable prefix. */
    if (snprintf(out, PATH_MAX_, "%s[%zu]", base, i) >= PATH_MAX_) {
        out[PATH_MAX_ - 1] = '\0';
    }
}

static const char *type_phrase(const struct vt_claim_info *c, char *buf, size_t cap)
{
    switch (c->type) {
    case VT_CT_HEX:
        if (c->len[0] == 0) {
            snprintf(buf, cap, "hex");
        } else if (c->len[1] == 0) {
            snprintf(buf, cap, "hex of %u bytes (%u digits)", c->len[0], 2u * c->len[0]);
        } else {
            snprintf(buf, cap, "hex of %u, %u or %u bytes", c->len[0], c->len[1], c->len[2]);
        }
        return buf;
    case VT_CT_TIME:
        return "an RFC 3339 time";
    case VT_CT_U64:
        return "a hex number (\"0x...\") or a non-negative integer";
    case VT_CT_ENUM:
        return "one of its names";
    case VT_CT_INT:
        return "an integer";
    case VT_CT_BOOL:
        return "a boolean";
    case VT_CT_STRING:
        return "a string";
    case VT_CT_ARRAY:
        return "an array";
    case VT_CT_OBJECT:
        return "an object";
    case VT_CT_ANY:
        return "any JSON value";
    }
    return "?";
}

/* Check and convert one value for claim c at path. */
static enum vt_err compile_value(const struct vt_claim_info *c, const char *claim, const json_t *v,
                                 const char *path, struct value *out, struct vt_diag *d)
{
    memset(out, 0, sizeof(*out));
    out->j = v;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    char tb[64];
    bool ok = false;
    switch (c->type) {
    case VT_CT_STRING:
        ok = s != NULL;
        break;
    case VT_CT_ENUM:
        if (s != NULL && !enum_has(c, s)) {
            char list[300] = "";
            size_t used = 0;
            for (size_t i = 0; c->values(i) != NULL && used < sizeof(list); i++) {
                int w = snprintf(list + used, sizeof(list) - used, "%s%s", i > 0 ? ", " : "",
                                 c->values(i));
                used += w > 0 ? (size_t)w : 0;
            }
            return fail_at(d, VT_E_BAD_FIELD, path,
                           "\"%.80s\" is not a valid %s value; expected one of %s", s, claim, list);
        }
        ok = s != NULL;
        break;
    case VT_CT_HEX:
        if (s != NULL) {
            if (!all_hex(s, n)) {
                return fail_at(d, VT_E_BAD_HEX, path, "%s is hex; \"%.80s\" is not hex", claim, s);
            }
            if (!hex_len_ok(c, n)) {
                return fail_at(d, VT_E_BAD_LENGTH, path, "%s is %s; got %zu hex digits", claim,
                               type_phrase(c, tb, sizeof(tb)), n);
            }
            out->hex = malloc(n + 1);
            if (out->hex == NULL) {
                return vt_fail(d, VT_E_NOMEM, path, "no memory");
            }
            for (size_t i = 0; i < n; i++) {
                char ch = s[i];
                out->hex[i] = (char)(ch >= 'A' && ch <= 'F' ? ch - 'A' + 'a' : ch);
            }
            out->hex[n] = '\0';
            out->n_bytes = n / 2;
            out->bytes = malloc(out->n_bytes + 1);
            if (out->bytes == NULL) {
                return vt_fail(d, VT_E_NOMEM, path, "no memory");
            }
            for (size_t i = 0; i < out->n_bytes; i++) {
                out->bytes[i] = (uint8_t)(vt_hex_value((uint8_t)s[2 * i]) << 4 |
                                          vt_hex_value((uint8_t)s[2 * i + 1]));
            }
            ok = true;
        }
        break;
    case VT_CT_INT:
        ok = json_is_integer(v);
        out->i = json_integer_value(v);
        break;
    case VT_CT_BOOL:
        ok = json_is_boolean(v);
        break;
    case VT_CT_TIME:
        if (s != NULL && !parse_time_ms(s, n, &out->i)) {
            return fail_at(
                d, VT_E_BAD_TIME, path,
                "%s is a time; \"%.80s\" is not RFC 3339 (e.g. \"2025-07-19T10:01:17Z\")", claim,
                s);
        }
        ok = s != NULL;
        break;
    case VT_CT_U64:
        if (json_is_integer(v) && json_integer_value(v) >= 0) {
            out->u = (uint64_t)json_integer_value(v);
            ok = true;
        } else if (s != NULL) {
            if (!parse_u64_hex(s, n, &out->u)) {
                return fail_at(d, VT_E_BAD_HEX, path,
                               "%s is a hex number; \"%.80s\" is not \"0x\" and 1 to 16 hex digits",
                               claim, s);
            }
            ok = true;
        }
        break;
    case VT_CT_ARRAY:
        ok = json_is_array(v);
        break;
    case VT_CT_OBJECT:
        ok = json_is_object(v);
        break;
    case VT_CT_ANY:
        ok = true;
        break;
    }
    if (ok) {
        return VT_OK;
    }
    return fail_at(d, VT_E_BAD_FIELD, path, "%s has type %s: expected %s, got %s", claim,
                   vt_claim_type_names[c->type], type_phrase(c, tb, sizeof(tb)), json_type_name(v));
}

static bool is_combinator(const char *k)
{
    return strcmp(k, "allOf") == 0 || strcmp(k, "anyOf") == 0 || strcmp(k, "not") == 0;
}

static int op_index(const char *k)
{
    for (int i = 0; i < OP_COUNT; i++) {
        if (strcmp(k, op_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

static enum vt_err compile_rule(const json_t *r, const char *path, unsigned depth,
                                struct node **out, struct vt_diag *d);

static enum vt_err compile_test(const json_t *r, const char *path, const char *op_key,
                                struct node *n, struct vt_diag *d)
{
    char sub[PATH_MAX_];
    const json_t *cv = json_object_get(r, "claim");
    join(sub, path, "claim");
    if (cv == NULL) {
        return fail_at(d, VT_E_MISSING_FIELD, sub, "a claim test needs \"claim\" with \"%s\"",
                       op_key != NULL ? op_key : "its operator");
    }
    if (!json_is_string(cv)) {
        return fail_at(d, VT_E_BAD_FIELD, sub, "\"claim\" must be a claim name (a string), got %s",
                       json_type_name(cv));
    }
    n->claim = json_string_value(cv);
    if (strlen(n->claim) != json_string_length(cv) || (n->def = claim_lookup(n->claim)) == NULL) {
        const char *near = closest_claim(n->claim);
        return fail_at(d, VT_E_BAD_FIELD, sub,
                       "unknown claim \"%.100s\"%s%s%s (see docs/claims.md)", n->claim,
                       near != NULL ? "; did you mean \"" : "", near != NULL ? near : "",
                       near != NULL ? "\"?" : "");
    }
    if (op_key == NULL) {
        return fail_at(d, VT_E_MISSING_FIELD, path,
                       "claim test on %s has no operator; expected one of equals, in, gte, lte, "
                       "exists",
                       n->claim);
    }
    n->op = (enum op)op_index(op_key);
    const json_t *v = json_object_get(r, op_key);
    n->expected = v;
    join(sub, path, op_key);
    switch (n->op) {
    case OP_EXISTS:
        if (!json_is_boolean(v)) {
            return fail_at(d, VT_E_BAD_FIELD, sub, "exists takes true or false, got %s",
                           json_type_name(v));
        }
        n->exists = json_is_true(v);
        return VT_OK;
    case OP_GTE:
    case OP_LTE:
        if (n->def->type != VT_CT_INT && n->def->type != VT_CT_TIME) {
            return fail_at(d, VT_E_BAD_FIELD, sub, "%s compares integer and time claims; %s is %s",
                           op_key, n->claim, vt_claim_type_names[n->def->type]);
        }
        /* fall through */
    case OP_EQUALS:
        n->vals = calloc(1, sizeof(*n->vals));
        if (n->vals == NULL) {
            return vt_fail(d, VT_E_NOMEM, sub, "no memory");
        }
        n->n_vals = 1;
        return compile_value(n->def, n->claim, v, sub, &n->vals[0], d);
    case OP_IN: {
        if (!json_is_array(v)) {
            return fail_at(d, VT_E_BAD_FIELD, sub, "in takes an array of values, got %s",
                           json_type_name(v));
        }
        size_t count = json_array_size(v);
        if (count == 0) {
            return fail_at(d, VT_E_BAD_FIELD, sub, "in takes a non-empty array");
        }
        if (count > VT_POLICY_MAX_LIST) {
            return fail_at(d, VT_E_TOO_LARGE, sub, "%zu values; at most %d", count,
                           VT_POLICY_MAX_LIST);
        }
        n->vals = calloc(count, sizeof(*n->vals));
        if (n->vals == NULL) {
            return vt_fail(d, VT_E_NOMEM, sub, "no memory");
        }
        for (size_t i = 0; i < count; i++) {
            char el[PATH_MAX_];
            join_index(el, sub, i);
            n->n_vals = i + 1;
            VT_TRY(compile_value(n->def, n->claim, json_array_get(v, i), el, &n->vals[i], d));
        }
        return VT_OK;
    }
    }
    return vt_fail(d, VT_E_INTERNAL, sub, "unknown operator");
}

static enum vt_err compile_list(const json_t *v, const char *path, unsigned depth, struct node *n,
                                struct vt_diag *d)
{
    if (!json_is_array(v)) {
        return fail_at(d, VT_E_BAD_FIELD, path, "expected an array of rules, got %s",
                       json_type_name(v));
    }
    size_t count = json_array_size(v);
    if (count == 0) {
        return fail_at(d, VT_E_BAD_FIELD, path, "must not be empty");
    }
    if (count > VT_POLICY_MAX_LIST) {
        return fail_at(d, VT_E_TOO_LARGE, path, "%zu rules; at most %d", count, VT_POLICY_MAX_LIST);
    }
    n->kids = calloc(count, sizeof(*n->kids));
    if (n->kids == NULL) {
        return vt_fail(d, VT_E_NOMEM, path, "no memory");
    }
    for (size_t i = 0; i < count; i++) {
        char sub[PATH_MAX_];
        join_index(sub, path, i);
        n->n_kids = i + 1;
        VT_TRY(compile_rule(json_array_get(v, i), sub, depth + 1, &n->kids[i], d));
    }
    return VT_OK;
}

static enum vt_err compile_rule_into(const json_t *r, const char *path, unsigned depth,
                                     struct node *n, struct vt_diag *d)
{
    if (!json_is_object(r)) {
        return fail_at(d, VT_E_BAD_FIELD, path, "a rule must be an object, got %s",
                       json_type_name(r));
    }
    if (depth > VT_POLICY_MAX_DEPTH) {
        return fail_at(d, VT_E_TOO_LARGE, path, "rules nest deeper than %d", VT_POLICY_MAX_DEPTH);
    }
    const char *comb = NULL, *op_key = NULL, *first = NULL;
    const char *key;
    json_t *v;
    char sub[PATH_MAX_];
    json_object_foreach((json_t *)r, key, v)
    {
        join(sub, path, key);
        if (is_combinator(key)) {
            if (first != NULL) {
                return fail_at(d, VT_E_BAD_FIELD, sub,
                               "\"%s\" cannot be combined with \"%s\": a rule is one of allOf, "
                               "anyOf, not or a claim test",
                               key, first);
            }
            comb = key;
        } else if (strcmp(key, "claim") == 0) {
            if (comb != NULL) {
                return fail_at(d, VT_E_BAD_FIELD, sub, "\"claim\" cannot be combined with \"%s\"",
                               comb);
            }
        } else if (op_index(key) >= 0) {
            if (comb != NULL) {
                return fail_at(d, VT_E_BAD_FIELD, sub, "\"%s\" cannot be combined with \"%s\"", key,
                               comb);
            }
            if (op_key != NULL) {
                return fail_at(d, VT_E_BAD_FIELD, sub,
                               "two operators, \"%s\" and \"%s\": a claim test has exactly one",
                               op_key, key);
            }
            op_key = key;
        } else {
            return fail_at(d, VT_E_BAD_FIELD, sub,
                           "unknown member \"%.80s\"; a rule has allOf, anyOf, not, or claim with "
                           "one of equals, in, gte, lte, exists",
                           key);
        }
        if (first == NULL) {
            first = key;
        }
    }
    if (first == NULL) {
        return fail_at(d, VT_E_MISSING_FIELD, path,
                       "empty rule; expected allOf, anyOf, not or a claim test");
    }
    if (comb == NULL) {
        n->kind = N_TEST;
        return compile_test(r, path, op_key, n, d);
    }
    join(sub, path, comb);
    v = json_object_get(r, comb);
    if (strcmp(comb, "not") == 0) {
        n->kind = N_NOT;
        n->kids = calloc(1, sizeof(*n->kids));
        if (n->kids == NULL) {
            return vt_fail(d, VT_E_NOMEM, path, "no memory");
        }
        n->n_kids = 1;
        return compile_rule(v, sub, depth + 1, &n->kids[0], d);
    }
    n->kind = strcmp(comb, "allOf") == 0 ? N_ALL : N_ANY;
    return compile_list(v, sub, depth, n, d);
}

static enum vt_err compile_rule(const json_t *r, const char *path, unsigned depth,
                                struct node **out, struct vt_diag *d)
{
    struct node *n = calloc(1, sizeof(*n));
    if (n == NULL || (n->path = strdup(path)) == NULL) {
        free(n);
        return vt_fail(d, VT_E_NOMEM, path, "no memory");
    }
    *out = n; /* owned by the parent from here on, complete or not */
    return compile_rule_into(r, path, depth, n, d);
}

static enum vt_err compile_doc(struct vt_policy *p, struct vt_diag *d)
{
    const json_t *doc = p->doc;
    if (!json_is_object(doc)) {
        return fail_at(d, VT_E_BAD_FIELD, "$", "a policy is a JSON object, got %s",
                       json_type_name(doc));
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)doc, key, v)
    {
        if (strcmp(key, "version") != 0 && strcmp(key, "allowDebug") != 0 &&
            strcmp(key, "acceptStatus") != 0 && strcmp(key, "rules") != 0) {
            char sub[PATH_MAX_];
            join(sub, "", key);
            return fail_at(d, VT_E_BAD_FIELD, sub,
                           "unknown member \"%.80s\"; a policy has version, allowDebug, "
                           "acceptStatus and rules",
                           key);
        }
    }
    v = json_object_get(doc, "version");
    if (v == NULL) {
        return fail_at(d, VT_E_MISSING_FIELD, "version", "\"version\": %d is required",
                       VT_POLICY_VERSION);
    }
    if (!json_is_integer(v)) {
        return fail_at(d, VT_E_BAD_FIELD, "version", "expected the integer %d, got %s",
                       VT_POLICY_VERSION, json_type_name(v));
    }
    if (json_integer_value(v) != VT_POLICY_VERSION) {
        return fail_at(d, VT_E_UNSUPPORTED_VERSION, "version",
                       "policy version %" JSON_INTEGER_FORMAT "; this veritee reads version %d",
                       json_integer_value(v), VT_POLICY_VERSION);
    }
    v = json_object_get(doc, "allowDebug");
    if (v != NULL) {
        if (!json_is_boolean(v)) {
            return fail_at(d, VT_E_BAD_FIELD, "allowDebug", "expected true or false, got %s",
                           json_type_name(v));
        }
        p->allow_debug = json_is_true(v);
    }
    v = json_object_get(doc, "acceptStatus");
    if (v != NULL) {
        if (!json_is_array(v)) {
            return fail_at(d, VT_E_BAD_FIELD, "acceptStatus",
                           "expected an array of TCB status names, got %s", json_type_name(v));
        }
        if (json_array_size(v) == 0) {
            return fail_at(d, VT_E_BAD_FIELD, "acceptStatus",
                           "must not be empty (it would refuse every evidence)");
        }
        if (json_array_size(v) > VT_POLICY_MAX_LIST) {
            return fail_at(d, VT_E_TOO_LARGE, "acceptStatus", "too many values");
        }
        p->accept = 0;
        for (size_t i = 0; i < json_array_size(v); i++) {
            const json_t *e = json_array_get(v, i);
            char sub[PATH_MAX_];
            join_index(sub, "acceptStatus", i);
            enum vt_tcb_status st;
            if (!json_is_string(e)) {
                return fail_at(d, VT_E_BAD_FIELD, sub, "expected a TCB status name, got %s",
                               json_type_name(e));
            }
            if (vt_tcb_status_parse(json_string_value(e), json_string_length(e), &st) != VT_OK) {
                return fail_at(d, VT_E_BAD_FIELD, sub,
                               "\"%.80s\" is not a TCB status; expected one of UpToDate, "
                               "SWHardeningNeeded, ConfigurationNeeded, "
                               "ConfigurationAndSWHardeningNeeded, OutOfDate, "
                               "OutOfDateConfigurationNeeded, Revoked, TDRelaunchAdvised, "
                               "TDRelaunchAdvisedConfigurationNeeded",
                               json_string_value(e));
            }
            p->accept |= 1u << (unsigned)st;
        }
        p->accept_json = json_incref(v);
    }
    v = json_object_get(doc, "rules");
    if (v != NULL) {
        VT_TRY(compile_rule(v, "rules", 1, &p->rules, d));
    }
    return VT_OK;
}

enum vt_err vt_policy_compile(const char *json, size_t len, struct vt_policy **out,
                              struct vt_diag *d)
{
    VT_ENSURE(out != NULL && (json != NULL || len == 0), d, VT_E_ARG, "policy", "no policy");
    *out = NULL;
    VT_ENSURE(len <= VT_POLICY_MAX_SIZE, d, VT_E_TOO_LARGE, "$", "policy is %zu bytes; at most %d",
              len, VT_POLICY_MAX_SIZE);
    struct vt_policy *p = calloc(1, sizeof(*p));
    VT_ENSURE(p != NULL, d, VT_E_NOMEM, "policy", "no memory");
    vt_sha256(json != NULL ? json : "", len, p->digest);
    p->accept = (1u << VT_TCB_UP_TO_DATE) | (1u << VT_TCB_SW_HARDENING_NEEDED);
    json_error_t jerr;
    p->doc =
        json_loadb(json != NULL ? json : "", len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    enum vt_err err;
    if (p->doc == NULL) {
        bool dup = json_error_code(&jerr) == json_error_duplicate_key;
        err = vt_fail(d, dup ? VT_E_DUPLICATE : VT_E_BAD_JSON, "$", "line %d column %d: %s",
                      jerr.line, jerr.column, jerr.text);
    } else {
        err = compile_doc(p, d);
    }
    if (err == VT_OK && p->accept_json == NULL) {
        p->accept_json = json_pack("[ss]", "UpToDate", "SWHardeningNeeded");
        if (p->accept_json == NULL) {
            err = vt_fail(d, VT_E_NOMEM, "policy", "no memory");
        }
    }
    if (err != VT_OK) {
        vt_policy_free(p);
        return err;
    }
    *out = p;
    return VT_OK;
}

/* ---- the evaluator ---- */

/* Claims come either typed (struct vt_claims, read through the registry: the verifier's output)
 * or as JSON (a token's claims, a claims file): one evaluator, two ways to read a claim. */
struct eval_ctx {
    const struct vt_claims *typed; /* or: */
    const json_t *claims;
    json_t *expl;
    bool oom;
};

/* One claim's value as a test sees it. JSON claims: j borrowed from the claims. Typed claims: v,
 * and j its JSON form (owned) for the explanation and for arrays and objects. */
struct actual {
    bool present; /* false also for null */
    bool typed;
    struct vt_claim_value v;
    const json_t *j;
    json_t *owned;
};

/* A claim's value, or NULL when absent or null. "collateral.x" also finds collateral's member. */
static const json_t *claim_get(const json_t *claims, const char *name)
{
    const json_t *v = json_object_get(claims, name);
    if (v == NULL && strncmp(name, "collateral.", 11) == 0) {
        v = json_object_get(json_object_get(claims, "collateral"), name + 11);
    }
    return json_is_null(v) ? NULL : v;
}

static void actual_get(struct eval_ctx *c, const struct vt_claim_info *def, const char *name,
                       struct actual *a)
{
    memset(a, 0, sizeof(*a));
    if (c->typed == NULL) {
        a->j = claim_get(c->claims, name);
        a->present = a->j != NULL;
        return;
    }
    a->typed = true;
    if (vt_claim_get(def, name, c->typed, &a->v) != VT_CLAIM_PRESENT) {
        vt_claim_value_cleanup(&a->v);
        return;
    }
    a->present = true;
    /* the JSON form takes a->v.j (arrays, objects): compare those as JSON */
    a->j = a->owned = vt_claim_value_json(def, &a->v);
    if (a->owned == NULL) {
        c->oom = true;
        a->present = false;
    }
}

static void actual_cleanup(struct actual *a)
{
    vt_claim_value_cleanup(&a->v);
    json_decref(a->owned);
}

/* A typed time as milliseconds, when its RFC 3339 form (what JSON claims carry) parses. */
static bool typed_time_ms(const struct vt_claim_value *v, int64_t *ms)
{
    char buf[VT_TIME_STR_MAX + 8];
    vt_claim_time_text(v, buf);
    return parse_time_ms(buf, strlen(buf), ms);
}

static bool typed_eq(const struct node *n, const struct value *want, const struct actual *a)
{
    const struct vt_claim_value *v = &a->v;
    switch (n->def->type) {
    case VT_CT_STRING:
    case VT_CT_ENUM:
        return strlen(v->s) == json_string_length(want->j) &&
               memcmp(v->s, json_string_value(want->j), json_string_length(want->j)) == 0;
    case VT_CT_HEX:
        return v->n == want->n_bytes && memcmp(v->bytes, want->bytes, v->n) == 0;
    case VT_CT_INT:
        return v->i == want->i;
    case VT_CT_BOOL:
        return v->b == json_is_true(want->j);
    case VT_CT_TIME: {
        int64_t ms;
        return typed_time_ms(v, &ms) && ms == want->i;
    }
    case VT_CT_U64:
        return v->u == want->u;
    case VT_CT_ARRAY:
    case VT_CT_OBJECT:
    case VT_CT_ANY:
        return json_equal(a->j, want->j) != 0;
    }
    return false;
}

static bool value_eq(const struct node *n, const struct value *want, const struct actual *a)
{
    if (a->typed) {
        return typed_eq(n, want, a);
    }
    const json_t *got = a->j;
    const char *s = json_string_value(got);
    size_t len = json_string_length(got);
    switch (n->def->type) {
    case VT_CT_STRING:
    case VT_CT_ENUM:
        return s != NULL && len == json_string_length(want->j) &&
               memcmp(s, json_string_value(want->j), len) == 0;
    case VT_CT_HEX:
        return s != NULL && len == strlen(want->hex) && strncasecmp(s, want->hex, len) == 0;
    case VT_CT_INT:
        return json_is_integer(got) && json_integer_value(got) == want->i;
    case VT_CT_BOOL:
        return json_is_boolean(got) && json_is_true(got) == json_is_true(want->j);
    case VT_CT_TIME: {
        int64_t ms;
        return s != NULL && parse_time_ms(s, len, &ms) && ms == want->i;
    }
    case VT_CT_U64: {
        uint64_t u;
        return s != NULL && parse_u64_hex(s, len, &u) && u == want->u;
    }
    case VT_CT_ARRAY:
    case VT_CT_OBJECT:
    case VT_CT_ANY:
        return json_equal(got, want->j) != 0;
    }
    return false;
}

/* got compared with want: -1, 0, 1; false if got is not comparable (wrong type). */
static bool value_cmp(const struct node *n, const struct value *want, const struct actual *a,
                      int *cmp)
{
    int64_t g;
    if (n->def->type == VT_CT_INT) {
        if (a->typed) {
            g = a->v.i;
        } else if (json_is_integer(a->j)) {
            g = json_integer_value(a->j);
        } else {
            return false;
        }
    } else if (a->typed) {
        if (!typed_time_ms(&a->v, &g)) {
            return false;
        }
    } else {
        const char *s = json_string_value(a->j);
        if (s == NULL || !parse_time_ms(s, json_string_length(a->j), &g)) {
            return false;
        }
    }
    *cmp = g < want->i ? -1 : g > want->i;
    return true;
}

static bool test_outcome(const struct node *n, const struct actual *actual)
{
    if (n->op == OP_EXISTS) {
        return actual->present == n->exists;
    }
    if (!actual->present) {
        return false;
    }
    int cmp;
    switch (n->op) {
    case OP_EQUALS:
        return value_eq(n, &n->vals[0], actual);
    case OP_IN:
        for (size_t i = 0; i < n->n_vals; i++) {
            if (value_eq(n, &n->vals[i], actual)) {
                return true;
            }
        }
        return false;
    case OP_GTE:
        return value_cmp(n, &n->vals[0], actual, &cmp) && cmp >= 0;
    case OP_LTE:
        return value_cmp(n, &n->vals[0], actual, &cmp) && cmp <= 0;
    case OP_EXISTS:
        break;
    }
    return false;
}

/* Append an explanation entry; returns it (borrowed) or NULL when not explaining / no memory. */
static json_t *expl_entry(struct eval_ctx *c, const char *path, const char *op)
{
    json_t *e = json_object();
    if (e == NULL || json_array_append_new(c->expl, e) != 0 ||
        json_object_set_new(e, "path", json_string(path)) != 0 ||
        json_object_set_new(e, "outcome", json_false()) != 0 ||
        json_object_set_new(e, "op", json_string(op)) != 0) {
        c->oom = true;
        return NULL;
    }
    return e;
}

static void expl_test(struct eval_ctx *c, json_t *e, const char *claim, const json_t *expected,
                      const json_t *actual)
{
    if (e == NULL) {
        return;
    }
    if (json_object_set_new(e, "claim", json_string(claim)) != 0 ||
        json_object_set(e, "expected", (json_t *)expected) != 0 ||
        json_object_set(e, "actual", actual != NULL ? (json_t *)actual : json_null()) != 0 ||
        json_object_set_new(e, "present", json_boolean(actual != NULL)) != 0) {
        c->oom = true;
    }
}

static void expl_outcome(struct eval_ctx *c, json_t *e, bool outcome)
{
    if (e != NULL && json_object_set_new(e, "outcome", json_boolean(outcome)) != 0) {
        c->oom = true;
    }
}

/* Evaluate n; when false, *blame is the node a denial names. */
static bool eval_node(const struct node *n, struct eval_ctx *c, const struct node **blame)
{
    static const char *const kind_ops[] = {"allOf", "anyOf", "not"};
    if (n->kind == N_TEST) {
        json_t *e = expl_entry(c, n->path, op_names[n->op]);
        struct actual actual;
        actual_get(c, n->def, n->claim, &actual);
        bool outcome = test_outcome(n, &actual);
        expl_test(c, e, n->claim, n->expected, actual.present ? actual.j : NULL);
        expl_outcome(c, e, outcome);
        actual_cleanup(&actual);
        *blame = n;
        return outcome;
    }
    json_t *e = expl_entry(c, n->path, kind_ops[n->kind]);
    bool outcome = n->kind != N_ANY;
    const struct node *first_false = NULL;
    for (size_t i = 0; i < n->n_kids; i++) {
        const struct node *kb = NULL;
        bool k = eval_node(n->kids[i], c, &kb);
        if (n->kind == N_ALL) {
            if (!k && first_false == NULL) {
                first_false = kb;
            }
            outcome = outcome && k;
        } else if (n->kind == N_ANY) {
            outcome = outcome || k;
        } else {
            outcome = !k;
        }
    }
    expl_outcome(c, e, outcome);
    *blame = n->kind == N_ALL && first_false != NULL ? first_false : n;
    return outcome;
}

char *vt_policy_result_explain(const struct vt_policy_result *r)
{
    return r != NULL && r->explanation != NULL ? strdup(r->explanation) : NULL;
}

void vt_policy_result_cleanup(struct vt_policy_result *r)
{
    if (r != NULL) {
        free(r->explanation);
        r->explanation = NULL;
    }
}

/* allowDebug, acceptStatus, then the rules, on claims of either kind (c->typed or c->claims). */
static enum vt_err evaluate(const struct vt_policy *p, struct eval_ctx *c,
                            struct vt_policy_result *r, struct vt_diag *d)
{
    c->expl = json_array();
    VT_ENSURE(c->expl != NULL, d, VT_E_NOMEM, "policy", "no memory");
    bool allowed = true;
    char reason[VT_POLICY_REASON_MAX] = "";

    if (!p->allow_debug) {
        /* Fail closed: anything but "debug": false is a debug TEE. */
        json_t *e = expl_entry(c, "allowDebug", "equals");
        struct actual a;
        actual_get(c, vt_claim_info(VT_CLAIM_DEBUG), "debug", &a);
        bool ok = a.present && (a.typed ? !a.v.b : json_is_false(a.j));
        expl_test(c, e, "debug", json_false(), a.present ? a.j : NULL);
        expl_outcome(c, e, ok);
        actual_cleanup(&a);
        if (!ok) {
            allowed = false;
            snprintf(reason, sizeof(reason), "debug");
        }
    }
    {
        json_t *e = expl_entry(c, "acceptStatus", "in");
        struct actual a;
        actual_get(c, vt_claim_info(VT_CLAIM_STATUS), "status", &a);
        const char *s = !a.present ? NULL : a.typed ? a.v.s : json_string_value(a.j);
        size_t len = s == NULL ? 0 : a.typed ? strlen(s) : json_string_length(a.j);
        enum vt_tcb_status st;
        bool ok = s != NULL && vt_tcb_status_parse(s, len, &st) == VT_OK &&
                  (p->accept & (1u << (unsigned)st)) != 0;
        expl_test(c, e, "status", p->accept_json, a.present ? a.j : NULL);
        expl_outcome(c, e, ok);
        actual_cleanup(&a);
        if (!ok && allowed) {
            allowed = false;
            snprintf(reason, sizeof(reason), "status");
        }
    }
    if (p->rules != NULL) {
        const struct node *blame = NULL;
        if (!eval_node(p->rules, c, &blame) && allowed) {
            allowed = false;
            snprintf(reason, sizeof(reason), "%s", blame->path);
        }
    }
    char *expl = c->oom ? NULL : json_dumps(c->expl, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(c->expl);
    VT_ENSURE(expl != NULL, d, VT_E_NOMEM, "policy", "cannot build the explanation");
    r->allowed = allowed;
    r->explanation = expl;
    memcpy(r->reason, reason, sizeof(r->reason));
    return VT_OK;
}

enum vt_err vt_policy_eval_claims(const struct vt_policy *p, const struct vt_claims *claims,
                                  struct vt_policy_result *r, struct vt_diag *d)
{
    VT_ENSURE(r != NULL, d, VT_E_ARG, "policy.result", "no result");
    memset(r, 0, sizeof(*r));
    VT_ENSURE(p != NULL, d, VT_E_ARG, "policy", "no policy");
    VT_ENSURE(claims != NULL, d, VT_E_ARG, "claims", "no claims");
    struct eval_ctx c = {.typed = claims};
    return evaluate(p, &c, r, d);
}

enum vt_err vt_policy_eval_json(const struct vt_policy *p, const struct json_t *claims,
                                struct vt_policy_result *r, struct vt_diag *d)
{
    VT_ENSURE(r != NULL, d, VT_E_ARG, "policy.result", "no result");
    memset(r, 0, sizeof(*r));
    VT_ENSURE(p != NULL, d, VT_E_ARG, "policy", "no policy");
    VT_ENSURE(json_is_object(claims), d, VT_E_BAD_FIELD, "claims",
              "claims must be a JSON object, got %s",
              claims != NULL ? json_type_name(claims) : "nothing");
    struct eval_ctx c = {.claims = claims};
    return evaluate(p, &c, r, d);
}

enum vt_err vt_policy_eval(const struct vt_policy *p, const char *claims_json, size_t len,
                           struct vt_policy_result *r, struct vt_diag *d)
{
    VT_ENSURE(r != NULL, d, VT_E_ARG, "policy.result", "no result");
    memset(r, 0, sizeof(*r));
    VT_ENSURE(claims_json != NULL, d, VT_E_ARG, "claims", "no claims");
    json_error_t jerr;
    json_t *claims = json_loadb(claims_json, len, 0, &jerr);
    VT_ENSURE(claims != NULL, d, VT_E_BAD_JSON, "claims", "line %d column %d: %s", jerr.line,
              jerr.column, jerr.text);
    enum vt_err err = vt_policy_eval_json(p, claims, r, d);
    json_decref(claims);
    return err;
}
