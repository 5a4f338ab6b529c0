/*
 * The claims registry, expanded from src/claims/claims_list.h: the table of names and types, the
 * typed getters, the JSON form of a value and the docs tables.
 */
#include <stdlib.h>
#include <string.h>

#include "base/encoding.h"

#include "claims/registry.h"

/* ---- enum values (each list lives once, here or with the enum it names) ---- */

static const char *vt_claim_values_tee(size_t i)
{
    return i < VT_TEE_NITRO ? vt_tee_name((enum vt_tee)(VT_TEE_SGX + i)) : NULL;
}

static const char *vt_claim_values_status(size_t i)
{
    return i < VT_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED
               ? vt_tcb_status_name((enum vt_tcb_status)(VT_TCB_UP_TO_DATE + i))
               : NULL;
}

static const char *nth(const char *const *list, size_t n, size_t i)
{
    return i < n ? list[i] : NULL;
}

#define NTH(list, i) nth(list, sizeof(list) / sizeof(list[0]), i)

static const char *vt_claim_values_snp_product(size_t i)
{
    static const char *const v[] = {"Milan", "Genoa", "Turin"};
    return NTH(v, i);
}

/* struct vt_snp_claims.signing_key: 0 VCEK, 1 VLEK */
static const char *vt_claim_values_snp_signing_key(size_t i)
{
    static const char *const v[] = {"vcek", "vlek"};
    return NTH(v, i);
}

static const char *vt_claim_values_pck_ca(size_t i)
{
    static const char *const v[] = {"processor", "platform"};
    return NTH(v, i);
}

/* struct vt_dcap_claims.sgx_type: 0 Standard, 1 Scalable, 2 ScalableWithIntegrity */
static const char *vt_claim_values_sgx_type(size_t i)
{
    static const char *const v[] = {"Standard", "Scalable", "ScalableWithIntegrity"};
    return NTH(v, i);
}

/* ---- computed values ---- */

static void vt_claim_advisories(const struct vt_claims *c, struct vt_claim_value *v)
{
    v->j = json_array();
    for (size_t i = 0; v->j != NULL && i < c->advisories.n; i++) {
        json_array_append_new(v->j, json_string(c->advisories.ids[i]));
    }
}

static void version3(struct vt_claim_value *v, uint8_t major, uint8_t minor, uint8_t build)
{
    snprintf(v->text, sizeof(v->text), "%u.%u.%u", major, minor, build);
    v->s = v->text;
}

static void vt_claim_snp_current_version(const struct vt_claims *c, struct vt_claim_value *v)
{
    version3(v, c->snp.current_major, c->snp.current_minor, c->snp.current_build);
}

static void vt_claim_snp_committed_version(const struct vt_claims *c, struct vt_claim_value *v)
{
    version3(v, c->snp.committed_major, c->snp.committed_minor, c->snp.committed_build);
}

/* The u32 as 8 hex digits: its big-endian bytes. */
static void vt_claim_sgx_miscselect(const struct vt_claims *c, struct vt_claim_value *v)
{
    uint32_t m = c->sgx.miscselect;
    for (size_t i = 0; i < 4; i++) {
        v->scratch[i] = (uint8_t)(m >> (24 - 8 * i));
    }
    v->bytes = v->scratch;
    v->n = 4;
}

static void vt_claim_sgx_tcb_components(const struct vt_claims *c, struct vt_claim_value *v)
{
    v->j = json_array();
    for (size_t i = 0; v->j != NULL && i < 16; i++) {
        json_array_append_new(v->j, json_integer(c->dcap.sgx_tcb_components[i]));
    }
}

static void vt_claim_sgx_type(const struct vt_claims *c, struct vt_claim_value *v)
{
    int t = c->dcap.sgx_type;
    v->s = t >= 0 ? vt_claim_values_sgx_type((size_t)t) : NULL;
    if (v->s == NULL) {
        v->s = "unknown";
    }
}

static int set_time(json_t *o, const char *k, vt_time t)
{
    if (t == INT64_MAX || t == INT64_MIN) {
        return json_object_set_new(o, k, json_null());
    }
    char buf[VT_TIME_STR_MAX];
    vt_time_format(t, buf);
    return json_object_set_new(o, k, json_string(buf));
}

static void vt_claim_collateral_documents(const struct vt_claims *c, struct vt_claim_value *v)
{
    const struct vt_collateral_claims *cc = &c->collateral;
    json_t *docs = json_array();
    int rc = docs == NULL;
    for (size_t i = 0; docs != NULL && i < cc->n && i < VT_COLLATERAL_DOCS_MAX; i++) {
        const struct vt_collateral_doc *doc = &cc->docs[i];
        char sha[2 * VT_SHA256_LEN + 1];
        vt_hex_encode(doc->sha256, VT_SHA256_LEN, sha);
        json_t *jd = json_object();
        rc |= json_array_append_new(docs, jd);
        if (jd == NULL) {
            break;
        }
        rc |= json_object_set_new(jd, "name", json_string(doc->name)) |
              json_object_set_new(jd, "sha256", json_string(sha)) |
              set_time(jd, "issue_date", doc->issue_date) |
              set_time(jd, "next_update", doc->next_update);
        if (doc->tcb_eval_num >= 0) {
            rc |= json_object_set_new(jd, "tcb_eval_num", json_integer(doc->tcb_eval_num));
        }
    }
    if (rc != 0) {
        json_decref(docs);
        docs = NULL;
    }
    v->j = docs;
}

/* The "collateral" object: its members are the registry's "collateral.*" claims. */
static void vt_claim_collateral(const struct vt_claims *c, struct vt_claim_value *v)
{
    json_t *o = json_object();
    int rc = o == NULL;
    for (size_t id = 0; o != NULL && id < VT_CLAIM_COUNT; id++) {
        const struct vt_claim_info *ci = vt_claim_info((enum vt_claim_id)id);
        if (ci->section != VT_CS_COLLATERAL || strncmp(ci->name, "collateral.", 11) != 0) {
            continue;
        }
        struct vt_claim_value m;
        enum vt_claim_presence p = vt_claim_get(ci, NULL, c, &m);
        if (p == VT_CLAIM_NULL) {
            rc |= json_object_set_new(o, ci->name + 11, json_null());
        } else if (p == VT_CLAIM_PRESENT) {
            rc |= json_object_set_new(o, ci->name + 11, vt_claim_value_json(ci, &m));
        }
        vt_claim_value_cleanup(&m);
    }
    if (rc != 0) {
        json_decref(o);
        o = NULL;
    }
    v->j = o;
}

/*
 * Prefix claims. With name NULL: every member, as an object {full name: value} in JSON order
 * (NULL on failure). With a name: that member (the last one of that name, as a JSON object's
 * member is), absent when there is none.
 */
static enum vt_claim_presence vt_claim_snp_runtime_key(const struct vt_claims *c, const char *name,
                                                       struct vt_claim_value *v)
{
    const struct vt_snp_claims *s = &c->snp;
    json_t *all = name == NULL ? json_object() : NULL;
    int rc = name == NULL && all == NULL;
    const struct vt_snp_runtime_key *hit = NULL;
    char key[128];
    for (size_t i = 0; i < s->n_runtime_keys && i < VT_SNP_RUNTIME_KEYS_MAX; i++) {
        snprintf(key, sizeof(key), "snp.runtime.keys.%s", s->runtime_keys[i].kid);
        if (all != NULL) {
            rc |= json_object_set_new(all, key, json_loads(s->runtime_keys[i].jwk, 0, NULL));
        } else if (name != NULL && strcmp(key, name) == 0) {
            hit = &s->runtime_keys[i];
        }
    }
    if (name == NULL) {
        if (rc != 0) {
            json_decref(all);
            all = NULL;
        }
        v->j = all;
        return VT_CLAIM_PRESENT;
    }
    v->j = hit != NULL ? json_loads(hit->jwk, 0, NULL) : NULL;
    return v->j != NULL ? VT_CLAIM_PRESENT : VT_CLAIM_ABSENT;
}

static enum vt_claim_presence
vt_claim_snp_vm_configuration(const struct vt_claims *c, const char *name, struct vt_claim_value *v)
{
    const char *cfgs = c->snp.vm_configuration;
    json_t *cfg = cfgs[0] != '\0' ? json_loads(cfgs, 0, NULL) : NULL;
    json_t *all = name == NULL ? json_object() : NULL;
    int rc = name == NULL && all == NULL;
    json_t *hit = NULL;
    const char *member = NULL;
    json_t *val = NULL;
    char key[128];
    json_object_foreach(cfg, member, val)
    {
        snprintf(key, sizeof(key), "snp.runtime.vm_configuration.%s", member);
        if (all != NULL) {
            rc |= json_object_set(all, key, val);
        } else if (name != NULL && strcmp(key, name) == 0) {
            hit = val;
        }
    }
    v->j = json_incref(hit);
    json_decref(cfg);
    if (name == NULL) {
        if (rc != 0) {
            json_decref(all);
            all = NULL;
        }
        v->j = all;
        return VT_CLAIM_PRESENT;
    }
    return v->j != NULL ? VT_CLAIM_PRESENT : VT_CLAIM_ABSENT;
}

/* ---- the table ---- */

#define VT_UNPAREN_(...) __VA_ARGS__
#define INFO_(id, section, name, type, lengths, values, when, get, doc)                            \
    [VT_CLAIM_##id] = {VT_CLAIM_##id,         VT_CS_##section, name, VT_CT_##type,                 \
                       {VT_UNPAREN_ lengths}, values,          doc},

static const struct vt_claim_info registry[VT_CLAIM_COUNT] = {VT_CLAIMS_LIST(INFO_)};

#undef INFO_

const char *const vt_claim_type_names[] = {
    [VT_CT_STRING] = "string",  [VT_CT_ENUM] = "enum",    [VT_CT_HEX] = "hex",
    [VT_CT_INT] = "integer",    [VT_CT_BOOL] = "boolean", [VT_CT_TIME] = "time",
    [VT_CT_U64] = "hex-number", [VT_CT_ARRAY] = "array",  [VT_CT_OBJECT] = "object",
    [VT_CT_ANY] = "any",
};

const char *const vt_claim_section_titles[] = {
    [VT_CS_COMMON] = "Common",
    [VT_CS_SGX] = "SGX (`tee` = `sgx`)",
    [VT_CS_TDX] = "TDX (`tee` = `tdx`)",
    [VT_CS_DCAP] = "DCAP platform and quote facts (SGX and TDX)",
    [VT_CS_NITRO] = "Nitro Enclaves (`tee` = `nitro`)",
    [VT_CS_SNP] = "SEV-SNP (`tee` = `sev-snp`)",
    [VT_CS_COLLATERAL] = "Collateral (`collateral`: which documents the verification used)",
};

const struct vt_claim_info *vt_claim_info(enum vt_claim_id id)
{
    return (unsigned)id < VT_CLAIM_COUNT ? &registry[id] : NULL;
}

const struct vt_claim_info *vt_claim_lookup(const char *name)
{
    for (size_t i = 0; i < VT_CLAIM_COUNT; i++) {
        const struct vt_claim_info *ci = &registry[i];
        if (vt_claim_is_prefix(ci)) {
            size_t n = strlen(ci->name);
            if (strncmp(name, ci->name, n) == 0 && name[n] != '\0') {
                return ci;
            }
        } else if (strcmp(name, ci->name) == 0) {
            return ci;
        }
    }
    return NULL;
}

/* ---- typed values ---- */

#define G_STR(x) (v->s = (x))
#define G_BYTES(a) (v->bytes = (a), v->n = sizeof(a))
#define G_BYTES_N(p, len) (v->bytes = (p), v->n = (len))
#define G_INT(x) (v->i = (int64_t)(x))
#define G_BOOL(x) (v->b = (x) != 0)
#define G_U64(x) (v->u = (uint64_t)(x))
#define G_TIME(x) (v->t = (x))
#define G_TIME_MS(x) (v->t = (vt_time)((x) / 1000), v->ms = (int)((x) % 1000))
#define G_FN(f) f(c, v)
#define G_DYN(f) return f(c, name, v)

#define GET_(id, section, name_, type, lengths, values, when, get, doc)                            \
    case VT_CLAIM_##id:                                                                            \
        if (!(when)) {                                                                             \
            return VT_CLAIM_ABSENT;                                                                \
        }                                                                                          \
        get;                                                                                       \
        break;

enum vt_claim_presence vt_claim_get(const struct vt_claim_info *ci, const char *name,
                                    const struct vt_claims *c, struct vt_claim_value *v)
{
    memset(v, 0, sizeof(*v));
    v->ms = -1;
    switch (ci->id) {
        VT_CLAIMS_LIST(GET_)
    case VT_CLAIM_COUNT:
        return VT_CLAIM_ABSENT;
    }
    if (ci->type == VT_CT_TIME && (v->t == INT64_MAX || v->t == INT64_MIN)) {
        return VT_CLAIM_NULL;
    }
    return VT_CLAIM_PRESENT;
}

#undef GET_

void vt_claim_value_cleanup(struct vt_claim_value *v)
{
    json_decref(v->j);
    v->j = NULL;
}

void vt_claim_time_text(const struct vt_claim_value *v, char out[VT_TIME_STR_MAX + 8])
{
    vt_time_format(v->t, out);
    if (v->ms >= 0) {
        /* RFC 3339 with milliseconds: replace the trailing Z. */
        size_t len = strlen(out);
        snprintf(out + len - 1, VT_TIME_STR_MAX + 8 - (len - 1), ".%03uZ", (unsigned)v->ms);
    }
}

json_t *vt_claim_value_json(const struct vt_claim_info *ci, struct vt_claim_value *v)
{
    switch (ci->type) {
    case VT_CT_STRING:
    case VT_CT_ENUM:
        return json_string(v->s);
    case VT_CT_HEX: {
        char small[2 * 64 + 1];
        if (v->n > 64 && ci->len[0] != 0) {
            return NULL;
        }
        char *hex = v->n > 64 ? malloc(2 * v->n + 1) : small;
        if (hex == NULL) {
            return NULL;
        }
        vt_hex_encode(v->bytes, v->n, hex);
        json_t *j = json_string(hex);
        if (hex != small) {
            free(hex);
        }
        return j;
    }
    case VT_CT_INT:
        return json_integer(v->i);
    case VT_CT_BOOL:
        return json_boolean(v->b);
    case VT_CT_TIME: {
        char buf[VT_TIME_STR_MAX + 8];
        vt_claim_time_text(v, buf);
        return json_string(buf);
    }
    case VT_CT_U64: {
        char buf[24];
        snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v->u);
        return json_string(buf);
    }
    case VT_CT_ARRAY:
    case VT_CT_OBJECT:
    case VT_CT_ANY: {
        json_t *j = v->j;
        v->j = NULL;
        return j;
    }
    }
    return NULL;
}

/* ---- the docs tables ---- */

static void type_text(const struct vt_claim_info *ci, char *out, size_t cap)
{
    switch (ci->type) {
    case VT_CT_HEX:
        if (ci->len[0] == 0) {
            snprintf(out, cap, "hex");
        } else if (ci->len[1] == 0) {
            snprintf(out, cap, "hex (%u B)", ci->len[0]);
        } else {
            snprintf(out, cap, "hex (%u, %u or %u B)", ci->len[0], ci->len[1], ci->len[2]);
        }
        return;
    case VT_CT_ENUM: {
        size_t used = (size_t)snprintf(out, cap, "one of");
        for (size_t i = 0; ci->values(i) != NULL && used < cap; i++) {
            used += (size_t)snprintf(out + used, cap - used, "%s `%s`", i > 0 ? "," : "",
                                     ci->values(i));
        }
        return;
    }
    case VT_CT_U64:
        snprintf(out, cap, "hex number (`0x…`)");
        return;
    case VT_CT_TIME:
        snprintf(out, cap, "time (RFC 3339)");
        return;
    default:
        snprintf(out, cap, "%s", vt_claim_type_names[ci->type]);
        return;
    }
}

static void print_name(FILE *f, const struct vt_claim_info *ci)
{
    fprintf(f, vt_claim_is_prefix(ci) ? "`%s<name>`" : "`%s`", ci->name);
}

/* One row: ids [first, end) share a meaning. */
static void print_row(FILE *f, size_t first, size_t end)
{
    fputs("| ", f);
    if (end - first > 6) {
        print_name(f, &registry[first]);
        fputs(" … ", f);
        print_name(f, &registry[end - 1]);
    } else {
        for (size_t i = first; i < end; i++) {
            fputs(i > first ? ", " : "", f);
            print_name(f, &registry[i]);
        }
    }
    fputs(" | ", f);
    char prev[400] = "";
    for (size_t i = first; i < end; i++) {
        char t[400];
        type_text(&registry[i], t, sizeof(t));
        if (strcmp(t, prev) != 0) {
            fprintf(f, "%s%s", prev[0] != '\0' ? "; " : "", t);
            snprintf(prev, sizeof(prev), "%s", t);
        }
    }
    fprintf(f, " | %s |\n", registry[first].doc);
}

void vt_claims_markdown(FILE *f)
{
    for (int s = 0; s < VT_CS_COUNT; s++) {
        fprintf(f, "%s## %s\n\n| claim | type | meaning |\n|---|---|---|\n", s > 0 ? "\n" : "",
                vt_claim_section_titles[s]);
        size_t first = VT_CLAIM_COUNT;
        for (size_t i = 0; i <= VT_CLAIM_COUNT; i++) {
            bool in = i < VT_CLAIM_COUNT && registry[i].section == (enum vt_claim_section)s;
            if (first < VT_CLAIM_COUNT && (!in || registry[i].doc[0] != '\0')) {
                print_row(f, first, i);
                first = VT_CLAIM_COUNT;
            }
            if (in && first == VT_CLAIM_COUNT) {
                first = i;
            }
        }
    }
}
