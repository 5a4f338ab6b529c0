/*
 * The policy language (docs/policy.md): the claim registry, the compiler and the evaluator.
 *
 * The registry lists every claim name vt_claims_to_json (src/verify/claims.c) can emit with its
 * type; tests/unit/verify/test_policy.c checks that claims produced for every TEE type use only
 * registered names and types. Compilation checks everything that can be checked without claims
 * (names, operators, value types, hex lengths, enum values, times) and records the JSON path of
 * each rule, so evaluation cannot fail on a compiled policy and every outcome can be explained.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include <veritee/claims.h>
#include <veritee/encoding.h>
#include <veritee/policy.h>
#include <veritee/time.h>

/* ---- the registry ---- */

enum ctype {
    CT_STRING,
    CT_ENUM,
    CT_HEX,
    CT_INT,
    CT_BOOL,
    CT_TIME,
    CT_U64, /* "0x..." lowercase hex of a 64-bit number (snp.policy, snp.*_tcb.raw) */
    CT_ARRAY,
    CT_OBJECT,
    CT_ANY,
};

static const char *const ctype_names[] = {
    [CT_STRING] = "string", [CT_ENUM] = "enum", [CT_HEX] = "hex",        [CT_INT] = "integer",
    [CT_BOOL] = "boolean",  [CT_TIME] = "time", [CT_U64] = "hex-number", [CT_ARRAY] = "array",
    [CT_OBJECT] = "object", [CT_ANY] = "any",
};

static const char *const tee_values[] = {"sgx", "tdx", "sev-snp", "nitro", NULL};
static const char *const status_values[] = {"UpToDate",
                                            "SWHardeningNeeded",
                                            "ConfigurationNeeded",
                                            "ConfigurationAndSWHardeningNeeded",
                                            "OutOfDate",
                                            "OutOfDateConfigurationNeeded",
                                            "Revoked",
                                            "TDRelaunchAdvised",
                                            "TDRelaunchAdvisedConfigurationNeeded",
                                            NULL};
static const char *const pck_ca_values[] = {"processor", "platform", NULL};
static const char *const sgx_type_values[] = {"Standard", "Scalable", "ScalableWithIntegrity",
                                              NULL};
static const char *const product_values[] = {"Milan", "Genoa", "Turin", NULL};
static const char *const signing_key_values[] = {"vcek", "vlek", NULL};

struct claim_def {
    const char *name; /* exact name, or a prefix when prefix is set */
    enum ctype type;
    /* CT_HEX: the allowed byte lengths (len[0] == 0: any length) */
    unsigned short len[3];
    const char *const *values; /* CT_ENUM */
    bool prefix;               /* name + any non-empty suffix */
};

#define S(n)                                                                                       \
    {                                                                                              \
        n, CT_STRING, {0}, NULL, false                                                             \
    }
#define E(n, v)                                                                                    \
    {                                                                                              \
        n, CT_ENUM, {0}, v, false                                                                  \
    }
#define H(n, l)                                                                                    \
    {                                                                                              \
        n, CT_HEX, {l}, NULL, false                                                                \
    }
#define I(n)                                                                                       \
    {                                                                                              \
        n, CT_INT, {0}, NULL, false                                                                \
    }
#define B(n)                                                                                       \
    {                                                                                              \
        n, CT_BOOL, {0}, NULL, false                                                               \
    }
#define T(n)                                                                                       \
    {                                                                                              \
        n, CT_TIME, {0}, NULL, false                                                               \
    }
#define U(n)                                                                                       \
    {                                                                                              \
        n, CT_U64, {0}, NULL, false                                                                \
    }
#define TCB(n)                                                                                     \
    I("snp." n ".bootloader"), I("snp." n ".tee"), I("snp." n ".snp"), I("snp." n ".microcode"),   \
        I("snp." n ".fmc"), U("snp." n ".raw")
#define PCR(i)                                                                                     \
    {                                                                                              \
        "nitro.pcr" #i, CT_HEX, {32, 48, 64}, NULL, false                                          \
    }

static const struct claim_def registry[] = {
    /* common */
    E("tee", tee_values),
    T("verified_at"),
    E("status", status_values),
    E("platform_status", status_values),
    E("qe_status", status_values),
    E("module_status", status_values),
    {"advisory_ids", CT_ARRAY, {0}, NULL, false},
    B("debug"),
    H("report_data", 64),
    H("user_data", 0),
    H("nonce", 0),
    H("public_key", 0),
    H("fmspc", 6),
    {"collateral", CT_OBJECT, {0}, NULL, false},
    {"collateral.documents", CT_ARRAY, {0}, NULL, false},
    T("collateral.earliest_expiry"),
    I("collateral.tcb_eval_num"),
    /* SGX */
    H("sgx.mrenclave", 32),
    H("sgx.mrsigner", 32),
    I("sgx.isv_prod_id"),
    I("sgx.isv_svn"),
    I("sgx.config_svn"),
    H("sgx.cpusvn", 16),
    H("sgx.miscselect", 4),
    H("sgx.attributes", 16),
    H("sgx.config_id", 64),
    H("sgx.isv_ext_prod_id", 16),
    H("sgx.isv_family_id", 16),
    /* TDX */
    H("tdx.mrtd", 48),
    H("tdx.rtmr0", 48),
    H("tdx.rtmr1", 48),
    H("tdx.rtmr2", 48),
    H("tdx.rtmr3", 48),
    H("tdx.mrconfigid", 48),
    H("tdx.mrowner", 48),
    H("tdx.mrownerconfig", 48),
    H("tdx.mrseam", 48),
    H("tdx.mrsignerseam", 48),
    H("tdx.seam_attributes", 8),
    H("tdx.td_attributes", 8),
    H("tdx.xfam", 8),
    H("tdx.tee_tcb_svn", 16),
    H("tdx.tee_tcb_svn2", 16),
    H("tdx.mrservicetd", 48),
    /* DCAP */
    I("dcap.quote_version"),
    I("dcap.body_type"),
    H("dcap.pceid", 2),
    E("dcap.pck_ca", pck_ca_values),
    {"dcap.sgx_tcb_components", CT_ARRAY, {0}, NULL, false},
    I("dcap.pcesvn"),
    H("dcap.cpusvn", 16),
    H("dcap.ppid", 16),
    E("dcap.sgx_type", sgx_type_values),
    H("dcap.platform_instance_id", 16),
    B("dcap.dynamic_platform"),
    B("dcap.cached_keys"),
    B("dcap.smt_enabled"),
    T("dcap.tcb_date"),
    T("dcap.qe_tcb_date"),
    I("dcap.qe_isv_svn"),
    H("dcap.qe_user_data", 20),
    S("dcap.tdx_module_identity"),
    /* Nitro */
    S("nitro.module_id"),
    T("nitro.timestamp"),
    I("nitro.timestamp_ms"),
    PCR(0),
    PCR(1),
    PCR(2),
    PCR(3),
    PCR(4),
    PCR(5),
    PCR(6),
    PCR(7),
    PCR(8),
    PCR(9),
    PCR(10),
    PCR(11),
    PCR(12),
    PCR(13),
    PCR(14),
    PCR(15),
    PCR(16),
    PCR(17),
    PCR(18),
    PCR(19),
    PCR(20),
    PCR(21),
    PCR(22),
    PCR(23),
    PCR(24),
    PCR(25),
    PCR(26),
    PCR(27),
    PCR(28),
    PCR(29),
    PCR(30),
    PCR(31),
    /* SEV-SNP */
    I("snp.version"),
    E("snp.product", product_values),
    S("snp.product_name"),
    H("snp.measurement", 48),
    H("snp.host_data", 32),
    H("snp.report_data", 64),
    H("snp.chip_id", 64),
    B("snp.chip_id_masked"),
    I("snp.vmpl"),
    I("snp.guest_svn"),
    U("snp.policy"),
    I("snp.policy.abi_minor"),
    I("snp.policy.abi_major"),
    B("snp.policy.smt"),
    B("snp.policy.migrate_ma"),
    B("snp.policy.debug"),
    B("snp.policy.single_socket"),
    B("snp.policy.cxl_allow"),
    B("snp.policy.mem_aes_256_xts"),
    B("snp.policy.rapl_dis"),
    B("snp.policy.ciphertext_hiding"),
    B("snp.policy.page_swap_disable"),
    U("snp.platform_info"),
    B("snp.platform_info.smt_enabled"),
    B("snp.platform_info.tsme_enabled"),
    B("snp.platform_info.ecc_enabled"),
    B("snp.platform_info.rapl_disabled"),
    B("snp.platform_info.ciphertext_hiding_enabled"),
    B("snp.platform_info.alias_check_complete"),
    B("snp.platform_info.tio_enabled"),
    E("snp.signing_key", signing_key_values),
    S("snp.csp_id"),
    B("snp.author_key_en"),
    H("snp.family_id", 16),
    H("snp.image_id", 16),
    H("snp.id_key_digest", 48),
    H("snp.author_key_digest", 48),
    H("snp.report_id", 32),
    H("snp.report_id_ma", 32),
    I("snp.cpuid.family"),
    I("snp.cpuid.model"),
    I("snp.cpuid.stepping"),
    S("snp.current_version"),
    S("snp.committed_version"),
    TCB("current_tcb"),
    TCB("reported_tcb"),
    TCB("committed_tcb"),
    TCB("launch_tcb"),
    U("snp.launch_mit_vector"),
    U("snp.current_mit_vector"),
    {"snp.runtime.keys.", CT_OBJECT, {0}, NULL, true},
    {"snp.runtime.vm_configuration.", CT_ANY, {0}, NULL, true},
};

#undef S
#undef E
#undef H
#undef I
#undef B
#undef T
#undef U
#undef TCB
#undef PCR

#define REGISTRY_N (sizeof(registry) / sizeof(registry[0]))

static const struct claim_def *claim_lookup(const char *name)
{
    for (size_t i = 0; i < REGISTRY_N; i++) {
        const struct claim_def *c = &registry[i];
        if (c->prefix) {
            size_t n = strlen(c->name);
            if (strncmp(name, c->name, n) == 0 && name[n] != '\0') {
                return c;
            }
        } else if (strcmp(name, c->name) == 0) {
            return c;
        }
    }
    return NULL;
}

const char *vt_policy_claim_type(const char *name)
{
    const struct claim_def *c = name != NULL ? claim_lookup(name) : NULL;
    return c != NULL ? ctype_names[c->type] : NULL;
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

static const char *closest_claim(const char *name)
{
    const char *best = NULL;
    size_t best_d = 4; /* suggest only within 3 edits */
    for (size_t i = 0; i < REGISTRY_N; i++) {
        if (registry[i].prefix) {
            continue;
        }
        size_t dist = edit_distance(name, registry[i].name);
        if (dist < best_d) {
            best_d = dist;
            best = registry[i].name;
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

static bool hex_len_ok(const struct claim_def *c, size_t digits)
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

static bool enum_has(const char *const *values, const char *s)
{
    for (size_t i = 0; values[i] != NULL; i++) {
        if (strcmp(values[i], s) == 0) {
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
static bool claim_value_ok(const struct claim_def *c, const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    switch (c->type) {
    case CT_STRING:
        return s != NULL;
    case CT_ENUM:
        return s != NULL && enum_has(c->values, s);
    case CT_HEX:
        return s != NULL && all_hex(s, n) && hex_len_ok(c, n);
    case CT_INT:
        return json_is_integer(v);
    case CT_BOOL:
        return json_is_boolean(v);
    case CT_TIME: {
        int64_t ms;
        return json_is_null(v) || (s != NULL && parse_time_ms(s, n, &ms));
    }
    case CT_U64: {
        uint64_t u;
        return s != NULL && parse_u64_hex(s, n, &u);
    }
    case CT_ARRAY:
        return json_is_array(v);
    case CT_OBJECT:
        return json_is_object(v);
    case CT_ANY:
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
        const struct claim_def *c = claim_lookup(key);
        if (c == NULL) {
            err =
                vt_fail(d, VT_E_BAD_FIELD, key, "claim \"%s\" is not in the policy registry", key);
        } else if (!claim_value_ok(c, v)) {
            err = vt_fail(d, VT_E_BAD_FIELD, key, "claim \"%s\" is %s in the registry but is %s",
                          key, ctype_names[c->type], json_type_name(v));
        } else if (strcmp(key, "collateral") == 0) {
            const char *sub;
            json_t *sv;
            json_object_foreach(v, sub, sv)
            {
                char name[96];
                snprintf(name, sizeof(name), "collateral.%s", sub);
                const struct claim_def *sc = claim_lookup(name);
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
    int64_t i;       /* CT_INT; CT_TIME in milliseconds */
    uint64_t u;      /* CT_U64 */
    char *hex;       /* CT_HEX, lowercase */
};

struct node {
    enum node_kind kind;
    char *path;
    struct node **kids; /* allOf/anyOf: n_kids; not: 1 */
    size_t n_kids;
    /* N_TEST */
    const char *claim; /* borrowed from the policy document */
    const struct claim_def *def;
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

static const char *type_phrase(const struct claim_def *c, char *buf, size_t cap)
{
    switch (c->type) {
    case CT_HEX:
        if (c->len[0] == 0) {
            snprintf(buf, cap, "hex");
        } else if (c->len[1] == 0) {
            snprintf(buf, cap, "hex of %u bytes (%u digits)", c->len[0], 2u * c->len[0]);
        } else {
            snprintf(buf, cap, "hex of %u, %u or %u bytes", c->len[0], c->len[1], c->len[2]);
        }
        return buf;
    case CT_TIME:
        return "an RFC 3339 time";
    case CT_U64:
        return "a hex number (\"0x...\") or a non-negative integer";
    case CT_ENUM:
        return "one of its names";
    case CT_INT:
        return "an integer";
    case CT_BOOL:
        return "a boolean";
    case CT_STRING:
        return "a string";
    case CT_ARRAY:
        return "an array";
    case CT_OBJECT:
        return "an object";
    case CT_ANY:
        return "any JSON value";
    }
    return "?";
}

/* Check and convert one value for claim c at path. */
static enum vt_err compile_value(const struct claim_def *c, const char *claim, const json_t *v,
                                 const char *path, struct value *out, struct vt_diag *d)
{
    memset(out, 0, sizeof(*out));
    out->j = v;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    char tb[64];
    bool ok = false;
    switch (c->type) {
    case CT_STRING:
        ok = s != NULL;
        break;
    case CT_ENUM:
        if (s != NULL && !enum_has(c->values, s)) {
            char list[300] = "";
            size_t used = 0;
            for (size_t i = 0; c->values[i] != NULL && used < sizeof(list); i++) {
                int w = snprintf(list + used, sizeof(list) - used, "%s%s", i > 0 ? ", " : "",
                                 c->values[i]);
                used += w > 0 ? (size_t)w : 0;
            }
            return fail_at(d, VT_E_BAD_FIELD, path,
                           "\"%.80s\" is not a valid %s value; expected one of %s", s, claim, list);
        }
        ok = s != NULL;
        break;
    case CT_HEX:
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
            ok = true;
        }
        break;
    case CT_INT:
        ok = json_is_integer(v);
        out->i = json_integer_value(v);
        break;
    case CT_BOOL:
        ok = json_is_boolean(v);
        break;
    case CT_TIME:
        if (s != NULL && !parse_time_ms(s, n, &out->i)) {
            return fail_at(
                d, VT_E_BAD_TIME, path,
                "%s is a time; \"%.80s\" is not RFC 3339 (e.g. \"2025-07-19T10:01:17Z\")", claim,
                s);
        }
        ok = s != NULL;
        break;
    case CT_U64:
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
    case CT_ARRAY:
        ok = json_is_array(v);
        break;
    case CT_OBJECT:
        ok = json_is_object(v);
        break;
    case CT_ANY:
        ok = true;
        break;
    }
    if (ok) {
        return VT_OK;
    }
    return fail_at(d, VT_E_BAD_FIELD, path, "%s has type %s: expected %s, got %s", claim,
                   ctype_names[c->type], type_phrase(c, tb, sizeof(tb)), json_type_name(v));
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
        if (n->def->type != CT_INT && n->def->type != CT_TIME) {
            return fail_at(d, VT_E_BAD_FIELD, sub, "%s compares integer and time claims; %s is %s",
                           op_key, n->claim, ctype_names[n->def->type]);
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

struct eval_ctx {
    const json_t *claims;
    json_t *expl;
    bool oom;
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

static bool value_eq(const struct node *n, const struct value *want, const json_t *got)
{
    const char *s = json_string_value(got);
    size_t len = json_string_length(got);
    switch (n->def->type) {
    case CT_STRING:
    case CT_ENUM:
        return s != NULL && len == json_string_length(want->j) &&
               memcmp(s, json_string_value(want->j), len) == 0;
    case CT_HEX:
        return s != NULL && len == strlen(want->hex) && strncasecmp(s, want->hex, len) == 0;
    case CT_INT:
        return json_is_integer(got) && json_integer_value(got) == want->i;
    case CT_BOOL:
        return json_is_boolean(got) && json_is_true(got) == json_is_true(want->j);
    case CT_TIME: {
        int64_t ms;
        return s != NULL && parse_time_ms(s, len, &ms) && ms == want->i;
    }
    case CT_U64: {
        uint64_t u;
        return s != NULL && parse_u64_hex(s, len, &u) && u == want->u;
    }
    case CT_ARRAY:
    case CT_OBJECT:
    case CT_ANY:
        return json_equal(got, want->j) != 0;
    }
    return false;
}

/* got compared with want: -1, 0, 1; false if got is not comparable (wrong type). */
static bool value_cmp(const struct node *n, const struct value *want, const json_t *got, int *cmp)
{
    int64_t g;
    if (n->def->type == CT_INT) {
        if (!json_is_integer(got)) {
            return false;
        }
        g = json_integer_value(got);
    } else {
        const char *s = json_string_value(got);
        if (s == NULL || !parse_time_ms(s, json_string_length(got), &g)) {
            return false;
        }
    }
    *cmp = g < want->i ? -1 : g > want->i;
    return true;
}

static bool test_outcome(const struct node *n, const json_t *actual)
{
    if (n->op == OP_EXISTS) {
        return (actual != NULL) == n->exists;
    }
    if (actual == NULL) {
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
        const json_t *actual = claim_get(c->claims, n->claim);
        bool outcome = test_outcome(n, actual);
        expl_test(c, e, n->claim, n->expected, actual);
        expl_outcome(c, e, outcome);
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

enum vt_err vt_policy_eval_json(const struct vt_policy *p, const struct json_t *claims,
                                struct vt_policy_result *r, struct vt_diag *d)
{
    VT_ENSURE(r != NULL, d, VT_E_ARG, "policy.result", "no result");
    memset(r, 0, sizeof(*r));
    VT_ENSURE(p != NULL, d, VT_E_ARG, "policy", "no policy");
    VT_ENSURE(json_is_object(claims), d, VT_E_BAD_FIELD, "claims",
              "claims must be a JSON object, got %s",
              claims != NULL ? json_type_name(claims) : "nothing");
    struct eval_ctx c = {.claims = claims, .expl = json_array()};
    VT_ENSURE(c.expl != NULL, d, VT_E_NOMEM, "policy", "no memory");
    bool allowed = true;
    char reason[VT_POLICY_REASON_MAX] = "";

    if (!p->allow_debug) {
        /* Fail closed: anything but "debug": false is a debug TEE. */
        json_t *e = expl_entry(&c, "allowDebug", "equals");
        const json_t *actual = claim_get(claims, "debug");
        bool ok = json_is_false(actual);
        expl_test(&c, e, "debug", json_false(), actual);
        expl_outcome(&c, e, ok);
        if (!ok) {
            allowed = false;
            snprintf(reason, sizeof(reason), "debug");
        }
    }
    {
        json_t *e = expl_entry(&c, "acceptStatus", "in");
        const json_t *actual = claim_get(claims, "status");
        enum vt_tcb_status st;
        bool ok = json_is_string(actual) &&
                  vt_tcb_status_parse(json_string_value(actual), json_string_length(actual), &st) ==
                      VT_OK &&
                  (p->accept & (1u << (unsigned)st)) != 0;
        expl_test(&c, e, "status", p->accept_json, actual);
        expl_outcome(&c, e, ok);
        if (!ok && allowed) {
            allowed = false;
            snprintf(reason, sizeof(reason), "status");
        }
    }
    if (p->rules != NULL) {
        const struct node *blame = NULL;
        if (!eval_node(p->rules, &c, &blame) && allowed) {
            allowed = false;
            snprintf(reason, sizeof(reason), "%s", blame->path);
        }
    }
    char *expl = c.oom ? NULL : json_dumps(c.expl, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(c.expl);
    VT_ENSURE(expl != NULL, d, VT_E_NOMEM, "policy", "cannot build the explanation");
    r->allowed = allowed;
    r->explanation = expl;
    memcpy(r->reason, reason, sizeof(r->reason));
    return VT_OK;
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
