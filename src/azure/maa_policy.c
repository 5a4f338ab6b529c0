/*
 * Azure Attestation (MAA) policies, version 1.0: the lexer and the recursive-descent parser
 * (docs/maa-policy.md). The evaluator is maa_policy_eval.c.
 *
 * The text, as MAA's claim rule grammar writes it (only what this implementation accepts):
 *
 *   policy     = "version" "=" INT "." INT ";" section+          version 1.0 only
 *   section    = ("authorizationrules" | "issuancerules") "{" rule* "}" ";"
 *   rule       = [condition ("&&" condition)*] "=>" action ";"
 *   condition  = [IDENT ":"] "[" [test ("," test)*] "]"
 *   test       = property ("==" | "!=" | "<" | "<=" | ">" | ">=") operand
 *   property   = "type" | "value" | "issuer" | "valueType"
 *   operand    = STRING | INT | "true" | "false" | IDENT "." property
 *   action     = "permit" "(" ")" | "deny" "(" ")"
 *              | ("issue" | "issueproperty" | "add") "(" ("claim" "=" IDENT | args) ")"
 *   args       = ("type" | "value") "=" operand ["," ("type" | "value") "=" operand]
 *
 * authorizationrules is required, issuancerules optional, each at most once. Whitespace and
 * comments (// to the end of the line; slash-star to star-slash, not nested) separate tokens.
 * Strings are double-quoted, UTF-8, with \" and \\ as their only escapes. Integers are decimal,
 * optionally negative, 64-bit. Keywords are ASCII case-insensitive ("Issuancerules", "Type",
 * "TRUE"); identifiers, which name conditions, are case-sensitive (IDENT = [A-Za-z_][A-Za-z0-9_]*).
 *
 * The rest of MAA's grammar (versions 1.1 and 1.2: configurationrules, functions, the negated
 * condition "![...]", regular expression operators, value expressions with "+") is refused with
 * VT_E_UNSUPPORTED naming the construct; anything else that does not follow the grammar is
 * VT_E_MALFORMED. Every error names the line and column (both from 1; a column counts UTF-8 code
 * points) of the token at fault.
 *
 * SPEC: Microsoft Learn, Azure Attestation: "Claim and claim rules" (claim-rule-grammar),
 * "Attestation policy version 1.0", "How to author an attestation policy", "Claim rule functions"
 * (the 1.2 constructs refused here).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure/maa_policy.h"
#include "azure/maa_policy_impl.h"

#define CHECK "maa.policy"

/* ---- names ---- */

const char *vt_maa_issuer_name(enum mp_issuer issuer)
{
    switch (issuer) {
    case MP_ISSUER_SERVICE:
        return "AttestationService";
    case MP_ISSUER_POLICY:
        return "AttestationPolicy";
    case MP_ISSUER_CUSTOM:
        return "CustomClaim";
    case MP_ISSUER_COUNT:
        break;
    }
    return "?";
}

const char *vt_maa_kind_name(enum mp_kind kind)
{
    switch (kind) {
    case MP_STRING:
        return "String";
    case MP_INTEGER:
        return "Integer";
    case MP_BOOLEAN:
        return "Boolean";
    }
    return "?";
}

/* ---- tokens ---- */

enum tok {
    T_EOF,
    T_IDENT,
    T_STRING,
    T_INT,
    T_LBRACE,
    T_RBRACE,
    T_LBRACK,
    T_RBRACK,
    T_LPAREN,
    T_RPAREN,
    T_SEMI,
    T_COMMA,
    T_COLON,
    T_DOT,
    T_ARROW,  /* => */
    T_AND,    /* && */
    T_OR,     /* || (refused) */
    T_EQ,     /* == */
    T_NE,     /* != */
    T_LT,     /* < */
    T_LE,     /* <= */
    T_GT,     /* > */
    T_GE,     /* >= */
    T_ASSIGN, /* = */
    T_BANG,   /* ! (refused: negated condition) */
    T_PLUS,   /* + (refused: value expression) */
    T_MATCH,  /* =~ (refused: regular expression) */
    T_NMATCH, /* !~ (refused) */
};

struct token {
    enum tok kind;
    size_t start, end; /* bytes of the text; a string's include its quotes */
    uint32_t line, column;
    int64_t ival;   /* T_INT */
    size_t str_len; /* T_STRING: bytes once unescaped */
};

struct lexer {
    const char *text;
    size_t len, pos;
    uint32_t line, column;
};

struct compiler {
    struct lexer lx;
    struct token tok; /* the current token */
    struct vt_maa_policy *p;
    size_t cap_rules, cap_conds, cap_tests, cap_pool;
    size_t n_rules;
    struct vt_diag *d;
};

/* ---- errors ---- */

/* "line L, column C: <message>" under the check "maa.policy". */
static enum vt_err fail_at(struct compiler *c, enum vt_err code, uint32_t line, uint32_t column,
                           const char *fmt, ...) VT_PRINTF(5, 6);
static enum vt_err fail_at(struct compiler *c, enum vt_err code, uint32_t line, uint32_t column,
                           const char *fmt, ...)
{
    char msg[VT_DIAG_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0) {
        msg[0] = '\0';
    }
    return vt_fail(c->d, code, CHECK, "line %u, column %u: %s", (unsigned)line, (unsigned)column,
                   msg);
}

/* A readable description of a token for "found ...": quoted text, at most 40 bytes of it,
 * anything outside printable ASCII as '?'. */
static void describe(const struct compiler *c, const struct token *t, char *buf, size_t size)
{
    const char *what = NULL;
    switch (t->kind) {
    case T_EOF:
        snprintf(buf, size, "end of input");
        return;
    case T_IDENT:
        what = "identifier ";
        break;
    case T_STRING:
        what = "string ";
        break;
    case T_INT:
        what = "integer ";
        break;
    default:
        what = "";
        break;
    }
    char text[48];
    size_t n = t->end - t->start, k = 0;
    bool cut = n > 40;
    if (cut) {
        n = 40;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = c->lx.text[t->start + i];
        text[k++] = ch >= 0x20 && ch < 0x7f ? ch : '?';
    }
    text[k] = '\0';
    if (t->kind == T_STRING) {
        snprintf(buf, size, "%s%s%s", what, text, cut ? "..." : "");
    } else {
        snprintf(buf, size, "%s'%s%s'", what, text, cut ? "..." : "");
    }
}

static enum vt_err expected(struct compiler *c, const char *what)
{
    char found[96];
    describe(c, &c->tok, found, sizeof(found));
    return fail_at(c, VT_E_MALFORMED, c->tok.line, c->tok.column, "expected %s, found %s", what,
                   found);
}

/* ---- the lexer ---- */

static void advance(struct lexer *lx, size_t n)
{
    for (size_t i = 0; i < n && lx->pos < lx->len; i++) {
        unsigned char b = (unsigned char)lx->text[lx->pos++];
        if (b == '\n') {
            lx->line++;
            lx->column = 1;
        } else if ((b & 0xc0) != 0x80) {
            lx->column++;
        }
    }
}

static int peekc(const struct lexer *lx, size_t ahead)
{
    return lx->pos + ahead < lx->len ? (unsigned char)lx->text[lx->pos + ahead] : -1;
}

static bool is_ident_start(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static bool is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

/*
 * The whole text is valid UTF-8 (RFC 3629: shortest form, no surrogates, at most U+10FFFF) and
 * has no NUL: strings flow into JSON, and columns count code points.
 */
static enum vt_err check_utf8(struct compiler *c)
{
    const unsigned char *s = (const unsigned char *)c->lx.text;
    size_t len = c->lx.len, i = 0;
    uint32_t line = 1, column = 1;
    while (i < len) {
        unsigned char b = s[i];
        size_t n = 0;
        uint32_t cp = 0, min = 0;
        if (b == 0) {
            return fail_at(c, VT_E_MALFORMED, line, column, "NUL byte in the policy text");
        }
        if (b < 0x80) {
            n = 1;
        } else if ((b & 0xe0) == 0xc0) {
            n = 2, cp = b & 0x1fu, min = 0x80;
        } else if ((b & 0xf0) == 0xe0) {
            n = 3, cp = b & 0x0fu, min = 0x800;
        } else if ((b & 0xf8) == 0xf0) {
            n = 4, cp = b & 0x07u, min = 0x10000;
        } else {
            return fail_at(c, VT_E_MALFORMED, line, column, "invalid UTF-8 byte 0x%02x", b);
        }
        if (n > 1) {
            if (len - i < n) {
                return fail_at(c, VT_E_MALFORMED, line, column,
                               "truncated UTF-8 sequence at the end of the text");
            }
            for (size_t k = 1; k < n; k++) {
                if ((s[i + k] & 0xc0) != 0x80) {
                    return fail_at(c, VT_E_MALFORMED, line, column,
                                   "invalid UTF-8 sequence (byte 0x%02x after 0x%02x)", s[i + k],
                                   b);
                }
                cp = (cp << 6) | (s[i + k] & 0x3fu);
            }
            if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
                return fail_at(c, VT_E_MALFORMED, line, column,
                               "invalid UTF-8 sequence (overlong, surrogate or beyond U+10FFFF)");
            }
        }
        if (b == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
        i += n;
    }
    return VT_OK;
}

/* Skip whitespace and comments. */
static enum vt_err skip_space(struct compiler *c)
{
    struct lexer *lx = &c->lx;
    for (;;) {
        int ch = peekc(lx, 0);
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v') {
            advance(lx, 1);
        } else if (ch == '/' && peekc(lx, 1) == '/') {
            while (lx->pos < lx->len && lx->text[lx->pos] != '\n') {
                advance(lx, 1);
            }
        } else if (ch == '/' && peekc(lx, 1) == '*') {
            uint32_t line = lx->line, column = lx->column;
            advance(lx, 2);
            for (;;) {
                if (lx->pos >= lx->len) {
                    return fail_at(c, VT_E_MALFORMED, line, column,
                                   "unterminated comment: '/*' without '*/'");
                }
                if (peekc(lx, 0) == '*' && peekc(lx, 1) == '/') {
                    advance(lx, 2);
                    break;
                }
                advance(lx, 1);
            }
        } else {
            return VT_OK;
        }
    }
}

static enum vt_err lex_string(struct compiler *c, struct token *t)
{
    struct lexer *lx = &c->lx;
    advance(lx, 1); /* the opening quote */
    size_t n = 0;
    for (;;) {
        int ch = peekc(lx, 0);
        if (ch < 0 || ch == '\n' || ch == '\r') {
            return fail_at(c, VT_E_MALFORMED, t->line, t->column,
                           "unterminated string: no closing '\"' on its line");
        }
        if (ch == '"') {
            advance(lx, 1);
            break;
        }
        if (ch == '\\') {
            int e = peekc(lx, 1);
            if (e != '"' && e != '\\') {
                if (e < 0x20 || e >= 0x7f) {
                    return fail_at(c, VT_E_UNSUPPORTED, lx->line, lx->column,
                                   "escape sequence '\\' followed by byte 0x%02x is not supported "
                                   "(strings escape only \\\" and \\\\)",
                                   (unsigned)(e < 0 ? 0 : e));
                }
                return fail_at(c, VT_E_UNSUPPORTED, lx->line, lx->column,
                               "escape sequence '\\%c' is not supported (strings escape only \\\" "
                               "and \\\\)",
                               (char)e);
            }
            advance(lx, 2);
        } else if (ch < 0x20 && ch != '\t') {
            return fail_at(c, VT_E_MALFORMED, lx->line, lx->column,
                           "control character 0x%02x in a string", (unsigned)ch);
        } else {
            advance(lx, 1);
        }
        if (++n > VT_MAA_POLICY_MAX_STRING) {
            return fail_at(c, VT_E_TOO_LARGE, t->line, t->column, "string longer than %u bytes",
                           (unsigned)VT_MAA_POLICY_MAX_STRING);
        }
    }
    t->kind = T_STRING;
    t->str_len = n;
    return VT_OK;
}

static enum vt_err lex_int(struct compiler *c, struct token *t)
{
    struct lexer *lx = &c->lx;
    bool neg = peekc(lx, 0) == '-';
    if (neg) {
        advance(lx, 1);
    }
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    bool overflow = false;
    while (is_digit(peekc(lx, 0))) {
        uint64_t dgt = (uint64_t)(peekc(lx, 0) - '0');
        if (v > (limit - dgt) / 10u) {
            overflow = true;
        } else {
            v = v * 10u + dgt;
        }
        advance(lx, 1);
    }
    if (is_ident_start(peekc(lx, 0))) {
        return fail_at(c, VT_E_MALFORMED, t->line, t->column,
                       "invalid number: a letter follows its digits (integers are decimal)");
    }
    if (overflow) {
        return fail_at(c, VT_E_MALFORMED, t->line, t->column,
                       "integer out of range (64-bit signed)");
    }
    t->kind = T_INT;
    /* -2^63 is representable: negate in unsigned arithmetic, then convert. */
    t->ival = neg ? (int64_t)(~v + 1u) : (int64_t)v;
    return VT_OK;
}

/* The next token into *t. */
static enum vt_err lex(struct compiler *c, struct token *t)
{
    struct lexer *lx = &c->lx;
    VT_TRY(skip_space(c));
    memset(t, 0, sizeof(*t));
    t->start = lx->pos;
    t->line = lx->line;
    t->column = lx->column;
    int ch = peekc(lx, 0), ch1 = peekc(lx, 1);
    if (ch < 0) {
        t->kind = T_EOF;
        t->end = t->start;
        return VT_OK;
    }
    if (is_ident_start(ch)) {
        size_t n = 0;
        while (is_ident_start(peekc(lx, 0)) || is_digit(peekc(lx, 0))) {
            advance(lx, 1);
            n++;
        }
        if (n > VT_MAA_POLICY_MAX_IDENT) {
            return fail_at(c, VT_E_TOO_LARGE, t->line, t->column,
                           "identifier longer than %u characters",
                           (unsigned)VT_MAA_POLICY_MAX_IDENT);
        }
        t->kind = T_IDENT;
    } else if (is_digit(ch) || (ch == '-' && is_digit(ch1))) {
        VT_TRY(lex_int(c, t));
    } else if (ch == '"') {
        VT_TRY(lex_string(c, t));
    } else {
        static const struct {
            char a, b;
            enum tok kind;
        } two[] = {{'=', '>', T_ARROW}, {'&', '&', T_AND},   {'|', '|', T_OR},
                   {'=', '=', T_EQ},    {'!', '=', T_NE},    {'<', '=', T_LE},
                   {'>', '=', T_GE},    {'=', '~', T_MATCH}, {'!', '~', T_NMATCH}};
        static const struct {
            char a;
            enum tok kind;
        } one[] = {{'{', T_LBRACE}, {'}', T_RBRACE}, {'[', T_LBRACK}, {']', T_RBRACK},
                   {'(', T_LPAREN}, {')', T_RPAREN}, {';', T_SEMI},   {',', T_COMMA},
                   {':', T_COLON},  {'.', T_DOT},    {'<', T_LT},     {'>', T_GT},
                   {'=', T_ASSIGN}, {'!', T_BANG},   {'+', T_PLUS}};
        bool found = false;
        for (size_t i = 0; i < sizeof(two) / sizeof(two[0]) && !found; i++) {
            if (ch == two[i].a && ch1 == two[i].b) {
                t->kind = two[i].kind;
                advance(lx, 2);
                found = true;
            }
        }
        for (size_t i = 0; i < sizeof(one) / sizeof(one[0]) && !found; i++) {
            if (ch == one[i].a) {
                t->kind = one[i].kind;
                advance(lx, 1);
                found = true;
            }
        }
        if (!found) {
            if (ch == '&' || ch == '|') {
                return fail_at(c, VT_E_MALFORMED, t->line, t->column,
                               "unexpected character '%c' (conditions join with '&&')", (char)ch);
            }
            if (ch >= 0x21 && ch < 0x7f) {
                return fail_at(c, VT_E_MALFORMED, t->line, t->column, "unexpected character '%c'",
                               (char)ch);
            }
            return fail_at(c, VT_E_MALFORMED, t->line, t->column,
                           "unexpected character (byte 0x%02x) outside a string or comment",
                           (unsigned)ch);
        }
    }
    t->end = lx->pos;
    return VT_OK;
}

static enum vt_err next(struct compiler *c)
{
    return lex(c, &c->tok);
}

/* The token after the current one, without consuming anything. */
static enum vt_err peek(struct compiler *c, struct token *t)
{
    struct lexer saved = c->lx;
    enum vt_err err = lex(c, t);
    c->lx = saved;
    return err;
}

/*
 * Is the token the keyword `word`? Keywords compare ASCII case-insensitively: the language MAA's
 * descends from defines its terminals as case-insensitive strings, and MAA's own documentation
 * writes "Issuancerules" in a sample. Identifiers (condition names) stay case-sensitive.
 * SPEC: Windows Server, "Claims Transformation Rules Language", Language terminals.
 */
static bool is_word(const struct compiler *c, const struct token *t, const char *word)
{
    size_t n = strlen(word);
    if (t->kind != T_IDENT || t->end - t->start != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char a = c->lx.text[t->start + i], b = word[i];
        if (a >= 'A' && a <= 'Z') {
            a = (char)(a - 'A' + 'a');
        }
        if (b >= 'A' && b <= 'Z') {
            b = (char)(b - 'A' + 'a');
        }
        if (a != b) {
            return false;
        }
    }
    return true;
}

static enum vt_err expect(struct compiler *c, enum tok kind, const char *what)
{
    if (c->tok.kind != kind) {
        return expected(c, what);
    }
    return next(c);
}

/* ---- the compiled policy's storage ---- */

static bool grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) {
        return true;
    }
    size_t n = *cap < 8 ? 8 : *cap;
    while (n < need) {
        n *= 2;
    }
    void *a = realloc(*arr, n * elem);
    if (a == NULL) {
        return false;
    }
    *arr = a;
    *cap = n;
    return true;
}

static enum vt_err nomem(struct compiler *c)
{
    return vt_fail(c->d, VT_E_NOMEM, CHECK, "out of memory compiling the policy");
}

static enum vt_err pool_add(struct compiler *c, const char *s, size_t n, size_t *off)
{
    if (!grow((void **)&c->p->pool, &c->cap_pool, c->p->pool_len + n + 1, 1)) {
        return nomem(c);
    }
    *off = c->p->pool_len;
    if (n > 0) {
        memcpy(c->p->pool + c->p->pool_len, s, n);
    }
    c->p->pool_len += n;
    c->p->pool[c->p->pool_len] = '\0';
    return VT_OK;
}

/* The current string token, unescaped, into the pool. */
static enum vt_err pool_string(struct compiler *c, size_t *off, size_t *len)
{
    const struct token *t = &c->tok;
    if (!grow((void **)&c->p->pool, &c->cap_pool, c->p->pool_len + t->str_len + 1, 1)) {
        return nomem(c);
    }
    char *out = c->p->pool + c->p->pool_len;
    size_t k = 0;
    for (size_t i = t->start + 1; i + 1 < t->end; i++) {
        char ch = c->lx.text[i];
        if (ch == '\\') {
            ch = c->lx.text[++i];
        }
        out[k++] = ch;
    }
    out[k] = '\0';
    *off = c->p->pool_len;
    *len = k;
    c->p->pool_len += k;
    return VT_OK;
}

static bool pool_eq(const struct vt_maa_policy *p, size_t off, size_t len, const char *s, size_t n)
{
    return len == n && memcmp(p->pool + off, s, n) == 0;
}

/* ---- the parser ---- */

enum section { SEC_AUTH, SEC_ISS };

/* The rule being parsed: its conditions are p->conds[first_cond .. p->n_conds). */
struct rule_ctx {
    enum section section;
    size_t first_cond;
};

static bool prop_of(const struct compiler *c, const struct token *t, enum mp_prop *out)
{
    static const char *const names[] = {"type", "value", "issuer", "valueType"};
    for (size_t i = 0; i < 4; i++) {
        if (is_word(c, t, names[i])) {
            *out = (enum mp_prop)i;
            return true;
        }
    }
    return false;
}

static const char *prop_name(enum mp_prop prop)
{
    static const char *const names[] = {"type", "value", "issuer", "valueType"};
    return names[prop];
}

static const char *op_name(enum mp_op op)
{
    static const char *const names[] = {"==", "!=", "<", "<=", ">", ">="};
    return names[op];
}

/* The condition of the current rule named like the current token, among the first `limit`. */
static bool find_cond(const struct compiler *c, const struct rule_ctx *r, size_t limit,
                      size_t *index)
{
    const char *name = c->lx.text + c->tok.start;
    size_t n = c->tok.end - c->tok.start;
    for (size_t i = 0; i < limit; i++) {
        const struct mp_cond *cd = &c->p->conds[r->first_cond + i];
        if (cd->named && pool_eq(c->p, cd->name_off, cd->name_len, name, n)) {
            *index = i;
            return true;
        }
    }
    return false;
}

/* The token after a value, where "+" would start an expression (refused). */
static enum vt_err refuse_expression(struct compiler *c)
{
    if (c->tok.kind == T_PLUS) {
        return fail_at(c, VT_E_UNSUPPORTED, c->tok.line, c->tok.column,
                       "value expressions with '+' are not supported (policy version 1.0 here "
                       "takes a literal or one claim property)");
    }
    return VT_OK;
}

/*
 * operand = STRING | INT | "true" | "false" | IDENT "." property. A reference names a condition
 * among the first `visible` of the rule (those before the one being parsed, or all of them in the
 * action); `self` is the index of the condition being parsed (SIZE_MAX in the action).
 */
static enum vt_err parse_operand(struct compiler *c, struct rule_ctx *r, size_t visible,
                                 size_t self, struct mp_operand *out)
{
    memset(out, 0, sizeof(*out));
    struct token t = c->tok;
    if (t.kind == T_STRING) {
        out->lit.kind = MP_STRING;
        VT_TRY(pool_string(c, &out->lit.off, &out->lit.len));
        return next(c);
    }
    if (t.kind == T_INT) {
        out->lit.kind = MP_INTEGER;
        out->lit.i = t.ival;
        return next(c);
    }
    if (is_word(c, &t, "true") || is_word(c, &t, "false")) {
        out->lit.kind = MP_BOOLEAN;
        out->lit.b = is_word(c, &t, "true");
        return next(c);
    }
    if (t.kind != T_IDENT) {
        return expected(c, "a value (string, integer, true, false) or a reference such as "
                           "c.value");
    }
    struct token after;
    VT_TRY(peek(c, &after));
    if (after.kind == T_LPAREN) {
        char name[96];
        describe(c, &t, name, sizeof(name));
        return fail_at(c, VT_E_UNSUPPORTED, t.line, t.column,
                       "function calls are not supported (%s followed by '('; functions belong "
                       "to policy version 1.2)",
                       name);
    }
    if (after.kind != T_DOT) {
        return expected(c, "a value (string, integer, true, false) or a reference such as "
                           "c.value");
    }
    size_t index = 0;
    if (self != SIZE_MAX) {
        const struct mp_cond *me = &c->p->conds[r->first_cond + self];
        if (me->named &&
            pool_eq(c->p, me->name_off, me->name_len, c->lx.text + t.start, t.end - t.start)) {
            return fail_at(c, VT_E_MALFORMED, t.line, t.column,
                           "a condition cannot refer to its own claim ('%.*s')",
                           (int)(t.end - t.start), c->lx.text + t.start);
        }
    }
    if (!find_cond(c, r, visible, &index)) {
        return fail_at(c, VT_E_MALFORMED, t.line, t.column,
                       "unknown identifier '%.*s' (a reference names an earlier condition of the "
                       "same rule)",
                       (int)(t.end - t.start), c->lx.text + t.start);
    }
    VT_TRY(next(c)); /* the identifier */
    VT_TRY(next(c)); /* the dot */
    enum mp_prop prop = MP_PROP_TYPE;
    if (!prop_of(c, &c->tok, &prop)) {
        return expected(c, "a claim property (type, value, issuer or valueType) after '.'");
    }
    out->is_ref = true;
    out->ref = index;
    out->ref_prop = prop;
    c->p->conds[r->first_cond + index].needed = true;
    return next(c);
}

static enum vt_err add_test(struct compiler *c, const struct mp_test *t)
{
    if (!grow((void **)&c->p->tests, &c->cap_tests, c->p->n_tests + 1, sizeof(*t))) {
        return nomem(c);
    }
    c->p->tests[c->p->n_tests++] = *t;
    return VT_OK;
}

static bool issuer_of(const char *s, size_t n, enum mp_issuer *out)
{
    for (int i = 0; i < MP_ISSUER_COUNT; i++) {
        const char *name = vt_maa_issuer_name((enum mp_issuer)i);
        if (strlen(name) == n && memcmp(name, s, n) == 0) {
            *out = (enum mp_issuer)i;
            return true;
        }
    }
    return false;
}

static bool kind_of(const char *s, size_t n, enum mp_kind *out)
{
    for (int i = MP_STRING; i <= MP_BOOLEAN; i++) {
        const char *name = vt_maa_kind_name((enum mp_kind)i);
        if (strlen(name) == n && memcmp(name, s, n) == 0) {
            *out = (enum mp_kind)i;
            return true;
        }
    }
    return false;
}

/* test = property operator operand; `self` is the condition's index within the rule. */
static enum vt_err parse_test(struct compiler *c, struct rule_ctx *r, size_t self)
{
    struct mp_test t;
    memset(&t, 0, sizeof(t));
    struct token prop_tok = c->tok;
    if (!prop_of(c, &prop_tok, &t.prop)) {
        return expected(c, "a claim property (type, value, issuer or valueType)");
    }
    VT_TRY(next(c));
    struct token op_tok = c->tok;
    switch (op_tok.kind) {
    case T_EQ:
        t.op = MP_OP_EQ;
        break;
    case T_NE:
        t.op = MP_OP_NE;
        break;
    case T_LT:
        t.op = MP_OP_LT;
        break;
    case T_LE:
        t.op = MP_OP_LE;
        break;
    case T_GT:
        t.op = MP_OP_GT;
        break;
    case T_GE:
        t.op = MP_OP_GE;
        break;
    case T_MATCH:
    case T_NMATCH:
        return fail_at(c, VT_E_UNSUPPORTED, op_tok.line, op_tok.column,
                       "regular expression operator '%s' is not supported",
                       op_tok.kind == T_MATCH ? "=~" : "!~");
    case T_ASSIGN:
        return expected(c, "a comparison operator (==, !=, <, <=, >, >=; '=' assigns, "
                           "conditions compare with '==')");
    default:
        return expected(c, "a comparison operator (==, !=, <, <=, >, >=)");
    }
    VT_TRY(next(c));
    struct token rhs_tok = c->tok;
    VT_TRY(parse_operand(c, r, self, self, &t.rhs));
    VT_TRY(refuse_expression(c));

    /* SPEC: claim-rule-grammar, operators: Integer ==, !=, <=, <, >=, >; String and Boolean ==,
     * != only. A literal of the wrong kind would never match: refused instead. */
    bool relational = t.op != MP_OP_EQ && t.op != MP_OP_NE;
    if (relational && t.prop != MP_PROP_VALUE) {
        return fail_at(c, VT_E_MALFORMED, op_tok.line, op_tok.column,
                       "operator '%s' compares integer values; %s compares with == or != only",
                       op_name(t.op), prop_name(t.prop));
    }
    if (relational && !t.rhs.is_ref && t.rhs.lit.kind != MP_INTEGER) {
        return fail_at(c, VT_E_MALFORMED, rhs_tok.line, rhs_tok.column,
                       "operator '%s' compares integers; found a %s", op_name(t.op),
                       vt_maa_kind_name(t.rhs.lit.kind));
    }
    if (t.prop != MP_PROP_VALUE && !t.rhs.is_ref && t.rhs.lit.kind != MP_STRING) {
        return fail_at(c, VT_E_MALFORMED, rhs_tok.line, rhs_tok.column,
                       "%s compares with a string; found a %s", prop_name(t.prop),
                       vt_maa_kind_name(t.rhs.lit.kind));
    }
    if (t.prop == MP_PROP_ISSUER && !t.rhs.is_ref) {
        enum mp_issuer is;
        if (!issuer_of(c->p->pool + t.rhs.lit.off, t.rhs.lit.len, &is)) {
            return fail_at(c, VT_E_MALFORMED, rhs_tok.line, rhs_tok.column,
                           "unknown issuer (AttestationService, AttestationPolicy or "
                           "CustomClaim)");
        }
    }
    if (t.prop == MP_PROP_VALUETYPE && !t.rhs.is_ref) {
        enum mp_kind k;
        if (!kind_of(c->p->pool + t.rhs.lit.off, t.rhs.lit.len, &k)) {
            return fail_at(c, VT_E_MALFORMED, rhs_tok.line, rhs_tok.column,
                           "unknown valueType (String, Integer or Boolean)");
        }
    }
    return add_test(c, &t);
}

/* condition = [IDENT ":"] "[" [test ("," test)*] "]" */
static enum vt_err parse_cond(struct compiler *c, struct rule_ctx *r)
{
    size_t self = c->p->n_conds - r->first_cond;
    if (self >= VT_MAA_POLICY_MAX_CONDITIONS) {
        return fail_at(c, VT_E_TOO_LARGE, c->tok.line, c->tok.column,
                       "more than %u conditions in one rule",
                       (unsigned)VT_MAA_POLICY_MAX_CONDITIONS);
    }
    if (!grow((void **)&c->p->conds, &c->cap_conds, c->p->n_conds + 1, sizeof(struct mp_cond))) {
        return nomem(c);
    }
    struct mp_cond *cd = &c->p->conds[c->p->n_conds++];
    memset(cd, 0, sizeof(*cd));
    cd->first_test = c->p->n_tests;
    if (c->tok.kind == T_BANG) {
        return fail_at(c, VT_E_UNSUPPORTED, c->tok.line, c->tok.column,
                       "negated condition '![...]' is not supported (policy version 1.2)");
    }
    if (c->tok.kind == T_IDENT) {
        struct token after;
        VT_TRY(peek(c, &after));
        if (after.kind == T_LPAREN) {
            char name[96];
            describe(c, &c->tok, name, sizeof(name));
            return fail_at(c, VT_E_UNSUPPORTED, c->tok.line, c->tok.column,
                           "function calls are not supported (%s followed by '(')", name);
        }
        if (after.kind != T_COLON) {
            return expected(c, "a condition ('[' or an identifier and ':') or '=>'");
        }
        if (is_word(c, &c->tok, "true") || is_word(c, &c->tok, "false")) {
            return fail_at(c, VT_E_MALFORMED, c->tok.line, c->tok.column,
                           "'%.*s' cannot name a condition (a boolean literal)",
                           (int)(c->tok.end - c->tok.start), c->lx.text + c->tok.start);
        }
        size_t dup = 0;
        if (find_cond(c, r, self, &dup)) {
            return fail_at(c, VT_E_MALFORMED, c->tok.line, c->tok.column,
                           "identifier '%.*s' names two conditions of the same rule",
                           (int)(c->tok.end - c->tok.start), c->lx.text + c->tok.start);
        }
        size_t off = 0;
        VT_TRY(pool_add(c, c->lx.text + c->tok.start, c->tok.end - c->tok.start, &off));
        cd = &c->p->conds[c->p->n_conds - 1];
        cd->named = true;
        cd->name_off = off;
        cd->name_len = c->tok.end - c->tok.start;
        VT_TRY(next(c)); /* the identifier */
        VT_TRY(next(c)); /* the colon */
        if (c->tok.kind == T_BANG) {
            return fail_at(c, VT_E_UNSUPPORTED, c->tok.line, c->tok.column,
                           "negated condition '![...]' is not supported (policy version 1.2)");
        }
    }
    if (!cd->named && c->tok.kind != T_LBRACK) {
        return expected(c, self == 0 ? "a condition ('[' or an identifier and ':') or '=>'"
                                     : "a condition ('[' or an identifier and ':')");
    }
    VT_TRY(expect(c, T_LBRACK, "'[' to open a condition"));
    size_t n = 0;
    if (c->tok.kind != T_RBRACK) {
        for (;;) {
            if (n >= VT_MAA_POLICY_MAX_TESTS) {
                return fail_at(c, VT_E_TOO_LARGE, c->tok.line, c->tok.column,
                               "more than %u property conditions in one condition",
                               (unsigned)VT_MAA_POLICY_MAX_TESTS);
            }
            VT_TRY(parse_test(c, r, self));
            n++;
            if (c->tok.kind != T_COMMA) {
                break;
            }
            VT_TRY(next(c));
        }
    }
    c->p->conds[r->first_cond + self].n_tests = n;
    return expect(c, T_RBRACK, "',' or ']'");
}

static const char *action_name(enum mp_action a)
{
    static const char *const names[] = {"permit", "deny", "issue", "issueproperty", "add"};
    return names[a];
}

/* The arguments of issue/issueproperty/add after "(": claim=c, or type=..., value=... */
static enum vt_err parse_claim_args(struct compiler *c, struct rule_ctx *r, struct mp_rule *rule)
{
    size_t n_conds = c->p->n_conds - r->first_cond;
    if (is_word(c, &c->tok, "claim")) {
        VT_TRY(next(c));
        VT_TRY(expect(c, T_ASSIGN, "'=' after claim"));
        if (c->tok.kind != T_IDENT) {
            return expected(c, "the identifier of a condition after claim=");
        }
        size_t index = 0;
        if (!find_cond(c, r, n_conds, &index)) {
            return fail_at(c, VT_E_MALFORMED, c->tok.line, c->tok.column,
                           "unknown identifier '%.*s' (claim= names a condition of the same rule)",
                           (int)(c->tok.end - c->tok.start), c->lx.text + c->tok.start);
        }
        rule->from_claim = true;
        rule->claim_cond = index;
        c->p->conds[r->first_cond + index].needed = true;
        VT_TRY(next(c));
        VT_TRY(refuse_expression(c));
        return expect(c, T_RPAREN, "')' after claim=IDENTIFIER");
    }
    bool have_type = false, have_value = false;
    struct token open = c->tok;
    for (;;) {
        struct token name = c->tok;
        bool is_type = is_word(c, &name, "type"), is_value = is_word(c, &name, "value");
        if (is_word(c, &name, "valueType") || is_word(c, &name, "issuer")) {
            return fail_at(c, VT_E_UNSUPPORTED, name.line, name.column,
                           "the %.*s argument of %s() is not supported (type and value only)",
                           (int)(name.end - name.start), c->lx.text + name.start,
                           action_name(rule->action));
        }
        if (!is_type && !is_value) {
            return expected(c, "type=, value= or claim=");
        }
        if ((is_type && have_type) || (is_value && have_value)) {
            return fail_at(c, VT_E_MALFORMED, name.line, name.column, "%s= given twice",
                           is_type ? "type" : "value");
        }
        VT_TRY(next(c));
        VT_TRY(expect(c, T_ASSIGN, is_type ? "'=' after type" : "'=' after value"));
        struct token v = c->tok;
        struct mp_operand *op = is_type ? &rule->type : &rule->value;
        VT_TRY(parse_operand(c, r, n_conds, SIZE_MAX, op));
        VT_TRY(refuse_expression(c));
        if (is_type) {
            have_type = true;
            /* A claim type is a non-empty string: a string literal or another claim's type. */
            if (op->is_ref && op->ref_prop == MP_PROP_VALUE) {
                return fail_at(c, VT_E_MALFORMED, v.line, v.column,
                               "type= takes a string or a claim's type, issuer or valueType, not "
                               "a claim's value (its kind is not known here)");
            }
            if (!op->is_ref && (op->lit.kind != MP_STRING || op->lit.len == 0)) {
                return fail_at(c, VT_E_MALFORMED, v.line, v.column,
                               "type= takes a non-empty string");
            }
        } else {
            have_value = true;
        }
        if (c->tok.kind != T_COMMA) {
            break;
        }
        VT_TRY(next(c));
    }
    if (!have_type || !have_value) {
        return fail_at(c, VT_E_MALFORMED, open.line, open.column, "%s() needs %s",
                       action_name(rule->action), have_type ? "value=" : "type=");
    }
    return expect(c, T_RPAREN, "',' or ')'");
}

/* action, after "=>" */
static enum vt_err parse_action(struct compiler *c, struct rule_ctx *r, struct mp_rule *rule)
{
    static const struct {
        const char *name;
        enum mp_action action;
    } verbs[] = {{"permit", MP_PERMIT},
                 {"deny", MP_DENY},
                 {"issue", MP_ISSUE},
                 {"issueproperty", MP_ISSUEPROPERTY},
                 {"add", MP_ADD}};
    struct token verb = c->tok;
    bool found = false;
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (is_word(c, &verb, verbs[i].name)) {
            rule->action = verbs[i].action;
            found = true;
        }
    }
    if (!found) {
        return expected(c, "an action (permit, deny, issue, issueproperty or add)");
    }
    /* SPEC: claim-rule-grammar, actions: permit and deny in authorizationrules; issue and
     * issueproperty in issuancerules; add in both. */
    bool allowed =
        r->section == SEC_AUTH
            ? (rule->action == MP_PERMIT || rule->action == MP_DENY || rule->action == MP_ADD)
            : (rule->action == MP_ISSUE || rule->action == MP_ISSUEPROPERTY ||
               rule->action == MP_ADD);
    if (!allowed) {
        return fail_at(c, VT_E_MALFORMED, verb.line, verb.column, "%s() is not allowed in %s (%s)",
                       action_name(rule->action),
                       r->section == SEC_AUTH ? "authorizationrules" : "issuancerules",
                       r->section == SEC_AUTH ? "permit, deny and add are"
                                              : "issue, issueproperty and add are");
    }
    VT_TRY(next(c));
    VT_TRY(expect(c, T_LPAREN, "'('"));
    if (rule->action == MP_PERMIT || rule->action == MP_DENY) {
        if (c->tok.kind != T_RPAREN) {
            return expected(c, rule->action == MP_PERMIT ? "')' (permit() takes no arguments)"
                                                         : "')' (deny() takes no arguments)");
        }
        return next(c);
    }
    return parse_claim_args(c, r, rule);
}

/* rule = [condition ("&&" condition)*] "=>" action ";" */
static enum vt_err parse_rule(struct compiler *c, enum section section)
{
    if (c->n_rules >= VT_MAA_POLICY_MAX_RULES) {
        return fail_at(c, VT_E_TOO_LARGE, c->tok.line, c->tok.column,
                       "more than %u rules in the policy", (unsigned)VT_MAA_POLICY_MAX_RULES);
    }
    struct mp_rule rule;
    memset(&rule, 0, sizeof(rule));
    rule.line = c->tok.line;
    rule.column = c->tok.column;
    rule.first_cond = c->p->n_conds;
    struct rule_ctx r = {section, c->p->n_conds};
    if (c->tok.kind != T_ARROW) {
        for (;;) {
            VT_TRY(parse_cond(c, &r));
            if (c->tok.kind == T_OR) {
                return fail_at(c, VT_E_UNSUPPORTED, c->tok.line, c->tok.column,
                               "'||' between conditions is not supported (write one rule per "
                               "alternative)");
            }
            if (c->tok.kind != T_AND) {
                break;
            }
            VT_TRY(next(c));
        }
    }
    VT_TRY(expect(c, T_ARROW, c->p->n_conds > r.first_cond ? "'&&' or '=>'" : "'=>'"));
    VT_TRY(parse_action(c, &r, &rule));
    VT_TRY(expect(c, T_SEMI, "';' after the rule's action"));
    rule.n_conds = c->p->n_conds - r.first_cond;
    if (!grow((void **)&c->p->rules, &c->cap_rules, c->n_rules + 1, sizeof(rule))) {
        return nomem(c);
    }
    c->p->rules[c->n_rules++] = rule;
    return VT_OK;
}

static enum vt_err parse_section(struct compiler *c, enum section section)
{
    VT_TRY(next(c)); /* the section's name */
    VT_TRY(expect(c, T_LBRACE, "'{'"));
    while (c->tok.kind != T_RBRACE) {
        if (c->tok.kind == T_EOF) {
            return expected(c, "a rule or '}'");
        }
        VT_TRY(parse_rule(c, section));
    }
    VT_TRY(next(c));
    return expect(c, T_SEMI, "';' after the section's '}'");
}

static enum vt_err parse_policy(struct compiler *c)
{
    VT_TRY(next(c));
    /* SPEC: author-sign-policy, "version=MajorVersion.MinorVersion". */
    if (!is_word(c, &c->tok, "version")) {
        return expected(c, "'version' (a policy starts with version=1.0;)");
    }
    VT_TRY(next(c));
    VT_TRY(expect(c, T_ASSIGN, "'=' after version"));
    struct token major = c->tok;
    if (major.kind != T_INT) {
        return expected(c, "a version number such as 1.0");
    }
    VT_TRY(next(c));
    VT_TRY(expect(c, T_DOT, "'.' in the version number"));
    if (c->tok.kind != T_INT) {
        return expected(c, "the minor version number");
    }
    struct token minor = c->tok;
    if (major.ival != 1 || minor.ival != 0) {
        return fail_at(c, VT_E_UNSUPPORTED, major.line, major.column,
                       "policy version %lld.%lld is not supported (only 1.0)",
                       (long long)major.ival, (long long)minor.ival);
    }
    VT_TRY(next(c));
    VT_TRY(expect(c, T_SEMI, "';' after the version"));

    /* The sections, each at most once, in either order; the rules are stored authorization
     * first: parse issuancerules into place after. */
    bool have_auth = false, have_iss = false;
    size_t iss_first = 0, iss_count = 0;
    while (c->tok.kind != T_EOF) {
        struct token name = c->tok;
        if (is_word(c, &name, "configurationrules")) {
            return fail_at(c, VT_E_UNSUPPORTED, name.line, name.column,
                           "configurationrules is not supported (policy version 1.1)");
        }
        bool auth = is_word(c, &name, "authorizationrules");
        if (!auth && !is_word(c, &name, "issuancerules")) {
            return expected(c, "a section (authorizationrules or issuancerules)");
        }
        if ((auth && have_auth) || (!auth && have_iss)) {
            return fail_at(c, VT_E_MALFORMED, name.line, name.column, "section %s given twice",
                           auth ? "authorizationrules" : "issuancerules");
        }
        size_t before = c->n_rules;
        VT_TRY(parse_section(c, auth ? SEC_AUTH : SEC_ISS));
        if (auth) {
            have_auth = true;
            c->p->n_auth = c->n_rules - before;
        } else {
            have_iss = true;
            iss_first = before;
            iss_count = c->n_rules - before;
        }
    }
    if (!have_auth) {
        return expected(c, "the authorizationrules section");
    }
    c->p->n_iss = iss_count;
    if (iss_count > 0 && iss_first == 0) {
        /* issuancerules came first: rotate so that the authorization rules lead. */
        struct mp_rule *tmp = malloc(iss_count * sizeof(*tmp));
        if (tmp == NULL) {
            return nomem(c);
        }
        memcpy(tmp, c->p->rules, iss_count * sizeof(*tmp));
        memmove(c->p->rules, c->p->rules + iss_count, c->p->n_auth * sizeof(*tmp));
        memcpy(c->p->rules + c->p->n_auth, tmp, iss_count * sizeof(*tmp));
        free(tmp);
    }
    return VT_OK;
}

enum vt_err vt_maa_policy_compile(const char *text, size_t len, struct vt_maa_policy **out,
                                  struct vt_diag *d)
{
    if (out != NULL) {
        *out = NULL;
    }
    if (out == NULL || (text == NULL && len > 0)) {
        return vt_fail(d, VT_E_ARG, CHECK, "NULL policy text or output");
    }
    if (len > VT_MAA_POLICY_MAX_SIZE) {
        return vt_fail(d, VT_E_TOO_LARGE, CHECK, "policy of %zu bytes exceeds %u", len,
                       (unsigned)VT_MAA_POLICY_MAX_SIZE);
    }
    struct compiler c;
    memset(&c, 0, sizeof(c));
    c.lx.text = text != NULL ? text : "";
    c.lx.len = len;
    c.lx.line = 1;
    c.lx.column = 1;
    c.d = d;
    c.p = calloc(1, sizeof(*c.p));
    if (c.p == NULL) {
        return vt_fail(d, VT_E_NOMEM, CHECK, "out of memory compiling the policy");
    }
    enum vt_err err = check_utf8(&c);
    if (err == VT_OK) {
        /* A byte order mark before the text is not part of it. */
        if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
            c.lx.pos = 3;
        }
        err = parse_policy(&c);
    }
    if (err == VT_OK && c.p->pool == NULL) {
        err = pool_add(&c, "", 0, &(size_t){0});
    }
    if (err != VT_OK) {
        vt_maa_policy_free(c.p);
        return err;
    }
    *out = c.p;
    return VT_OK;
}

void vt_maa_policy_free(struct vt_maa_policy *p)
{
    if (p == NULL) {
        return;
    }
    free(p->rules);
    free(p->conds);
    free(p->tests);
    free(p->pool);
    free(p);
}
