/*
 * Intel PCS TCB info, versions 2 and 3 (SPEC: dcap.md section 3; Intel PCS API v4, "TCB Info").
 *
 *   {"tcbInfo":{                                   <- signed bytes start at this '{'
 *      "id":"SGX"|"TDX",                           v3 only
 *      "version":3, "issueDate":"<RFC 3339>", "nextUpdate":"<RFC 3339>",
 *      "fmspc":"<12 hex>", "pceId":"<4 hex>", "tcbType":0, "tcbEvaluationDataNumber":17,
 *      "tdxModule":{"mrsigner":"<96 hex>","attributes":"<16 hex>","attributesMask":"<16 hex>"},
 *                                                  v3 TDX only, required there
 *      "tdxModuleIdentities":[{"id":"TDX_01","mrsigner":..,"attributes":..,"attributesMask":..,
 *          "tcbLevels":[{"tcb":{"isvsvn":4},"tcbDate":..,"tcbStatus":..,"advisoryIDs":[..]}]}],
 *                                                  v3 TDX only, optional
 *      "tcbLevels":[{
 *          "tcb":{ v3: "sgxtcbcomponents":[16 x {"svn":0..255,"category"?,"type"?}],
 *                      "pcesvn":0..65535,
 *                      "tdxtcbcomponents":[16 x {...}]      TDX only
 *                  v2: "sgxtcbcomp01svn".."sgxtcbcomp16svn", "pcesvn" },
 *          "tcbDate":"<RFC 3339>", "tcbStatus":"UpToDate"|..., "advisoryIDs":["INTEL-SA-.."]?}]
 *   },                                             <- and end at the matching '}'
 *   "signature":"<128 hex: raw r||s>"}
 *
 * Members not listed are ignored, at both levels. The signature is not checked here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tee/dcap/dcap.h"

#include "json_internal.h"

#define ROOT "tcbInfo"

/* SPEC: dcap.md 4.3: QVL's order, descending: the 16 SGX component SVNs lexicographically,
 * then pcesvn, then the 16 TDX component SVNs lexicographically. */
static int level_cmp_desc(const void *a, const void *b)
{
    const struct vt_tcb_level *x = a, *y = b;
    int c = memcmp(y->sgx_components, x->sgx_components, sizeof(x->sgx_components));
    if (c != 0) {
        return c;
    }
    if (x->pcesvn != y->pcesvn) {
        return x->pcesvn > y->pcesvn ? -1 : 1;
    }
    return memcmp(y->tdx_components, x->tdx_components, sizeof(x->tdx_components));
}

static void levels_free(struct vt_tcb_level *levels, size_t n)
{
    if (levels == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free(levels[i].advisory_ids);
    }
    free(levels);
}

static void module_identities_free(struct vt_tdx_module_identity *m, size_t n)
{
    if (m == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        vt_isv_levels_free(m[i].levels, m[i].n_levels);
    }
    free(m);
}

void vt_tcb_info_cleanup(struct vt_tcb_info *t)
{
    if (t == NULL) {
        return;
    }
    levels_free(t->levels, t->n_levels);
    module_identities_free(t->module_identities, t->n_module_identities);
    memset(t, 0, sizeof(*t));
}

/* "sgxtcbcomponents" / "tdxtcbcomponents": exactly 16 objects {svn 0..255, category?, type?}. */
static enum vt_err components_parse(struct vt_jpath *p, json_t *tcb, const char *key,
                                    uint8_t out[16])
{
    json_t *arr;
    VT_TRY(vt_json_get_array(p, tcb, key, 0, SIZE_MAX, &arr));
    size_t mark = vt_jpath_key(p, key);
    enum vt_err err = VT_OK;
    if (json_array_size(arr) != 16) {
        err = vt_jpath_fail(p, VT_E_BAD_FIELD, "expected 16 components, got %zu",
                            json_array_size(arr));
    }
    for (size_t i = 0; i < 16 && err == VT_OK; i++) {
        size_t imark = vt_jpath_index(p, i);
        json_t *c = json_array_get(arr, i);
        uint64_t svn = 0;
        const char *s;
        size_t len;
        if (!json_is_object(c)) {
            err = vt_json_bad_value(p, c, "an object");
        } else if ((err = vt_json_get_uint(p, c, "svn", UINT8_MAX, &svn)) == VT_OK) {
            out[i] = (uint8_t)svn;
            /* Descriptive only, but typed when present. */
            if (json_object_get(c, "category") != NULL) {
                err = vt_json_get_string(p, c, "category", &s, &len);
            }
            if (err == VT_OK && json_object_get(c, "type") != NULL) {
                err = vt_json_get_string(p, c, "type", &s, &len);
            }
        }
        vt_jpath_pop(p, imark);
    }
    vt_jpath_pop(p, mark);
    return err;
}

/* The "tcb" object of a level. */
static enum vt_err level_tcb_parse(struct vt_jpath *p, json_t *tcb, int version, enum vt_tee tee,
                                   struct vt_tcb_level *out)
{
    uint64_t v;
    if (version == 2) {
        /* SPEC: dcap.md section 3, TCB Info v2: flat sgxtcbcomp01svn..16svn fields. */
        for (int i = 0; i < 16; i++) {
            char key[24];
            snprintf(key, sizeof(key), "sgxtcbcomp%02dsvn", i + 1);
            VT_TRY(vt_json_get_uint(p, tcb, key, UINT8_MAX, &v));
            out->sgx_components[i] = (uint8_t)v;
        }
    } else {
        VT_TRY(components_parse(p, tcb, "sgxtcbcomponents", out->sgx_components));
        if (tee == VT_TEE_TDX) {
            VT_TRY(components_parse(p, tcb, "tdxtcbcomponents", out->tdx_components));
        }
    }
    VT_TRY(vt_json_get_uint(p, tcb, "pcesvn", UINT16_MAX, &v));
    out->pcesvn = (uint16_t)v;
    return VT_OK;
}

static enum vt_err level_parse(struct vt_jpath *p, json_t *lv, int version, enum vt_tee tee,
                               struct vt_tcb_level *out)
{
    if (!json_is_object(lv)) {
        return vt_json_bad_value(p, lv, "an object");
    }
    json_t *tcb;
    VT_TRY(vt_json_get_object(p, lv, "tcb", &tcb));
    size_t mark = vt_jpath_key(p, "tcb");
    enum vt_err err = level_tcb_parse(p, tcb, version, tee, out);
    vt_jpath_pop(p, mark);
    VT_TRY(err);
    VT_TRY(vt_json_get_time(p, lv, "tcbDate", &out->tcb_date));
    VT_TRY(vt_json_get_status(p, lv, "tcbStatus", false, &out->status));
    return vt_json_get_advisories(p, lv, &out->n_advisories, &out->advisory_ids);
}

static void format_svns(const uint8_t c[16], char out[16 * 4 + 1])
{
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        o += (size_t)snprintf(out + o, 16 * 4 + 1 - o, i ? ",%u" : "%u", c[i]);
    }
}

static enum vt_err levels_parse(struct vt_jpath *p, json_t *info, struct vt_tcb_info *t)
{
    json_t *arr;
    VT_TRY(vt_json_get_array(p, info, "tcbLevels", 1, VT_MAX_TCB_LEVELS, &arr));
    size_t count = json_array_size(arr);
    t->levels = calloc(count, sizeof(*t->levels));
    if (t->levels == NULL) {
        return vt_jpath_fail(p, VT_E_NOMEM, "out of memory for %zu levels", count);
    }
    t->n_levels = count; /* every slot is zeroed, so cleanup can free a partial array */
    size_t mark = vt_jpath_key(p, "tcbLevels");
    enum vt_err err = VT_OK;
    for (size_t i = 0; i < count && err == VT_OK; i++) {
        size_t imark = vt_jpath_index(p, i);
        err = level_parse(p, json_array_get(arr, i), t->version, t->tee, &t->levels[i]);
        vt_jpath_pop(p, imark);
    }
    if (err == VT_OK) {
        qsort(t->levels, count, sizeof(*t->levels), level_cmp_desc);
        for (size_t i = 1; i < count && err == VT_OK; i++) {
            if (level_cmp_desc(&t->levels[i - 1], &t->levels[i]) == 0) {
                /* SPEC: dcap.md 4.3: duplicate levels are a parse error in QVL. */
                char sgx[16 * 4 + 1], tdx[16 * 4 + 1];
                format_svns(t->levels[i].sgx_components, sgx);
                format_svns(t->levels[i].tdx_components, tdx);
                err = vt_jpath_fail(
                    p, VT_E_DUPLICATE, "two levels with sgx components [%s], pcesvn %u%s%s%s", sgx,
                    t->levels[i].pcesvn, t->tee == VT_TEE_TDX ? ", tdx [" : "",
                    t->tee == VT_TEE_TDX ? tdx : "", t->tee == VT_TEE_TDX ? "]" : "");
            }
        }
    }
    vt_jpath_pop(p, mark);
    return err;
}

static bool module_id_ok(const char *s, size_t len)
{
    if (len == 0 || len >= sizeof(((struct vt_tdx_module_identity *)0)->id)) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] <= 0x20 || s[i] >= 0x7f) {
            return false;
        }
    }
    return true;
}

static enum vt_err module_identity_parse(struct vt_jpath *p, json_t *m,
                                         struct vt_tdx_module_identity *out)
{
    if (!json_is_object(m)) {
        return vt_json_bad_value(p, m, "an object");
    }
    const char *id;
    size_t id_len;
    VT_TRY(vt_json_get_string(p, m, "id", &id, &id_len));
    if (!module_id_ok(id, id_len)) {
        size_t mark = vt_jpath_key(p, "id");
        enum vt_err err =
            vt_json_bad_value(p, json_object_get(m, "id"), "1..15 printable ASCII characters");
        vt_jpath_pop(p, mark);
        return err;
    }
    memcpy(out->id, id, id_len);
    out->id[id_len] = '\0';
    VT_TRY(vt_json_get_hex(p, m, "mrsigner", out->mrsigner, sizeof(out->mrsigner)));
    VT_TRY(vt_json_get_hex(p, m, "attributes", out->attributes, sizeof(out->attributes)));
    VT_TRY(vt_json_get_hex(p, m, "attributesMask", out->attributes_mask,
                           sizeof(out->attributes_mask)));
    return vt_json_get_isv_levels(p, m, &out->levels, &out->n_levels);
}

static enum vt_err module_identities_parse(struct vt_jpath *p, json_t *info, struct vt_tcb_info *t)
{
    if (json_object_get(info, "tdxModuleIdentities") == NULL) {
        return VT_OK; /* optional (absent in 2023 TDX TCB infos) */
    }
    json_t *arr;
    VT_TRY(vt_json_get_array(p, info, "tdxModuleIdentities", 0, VT_MAX_MODULE_IDENTITIES, &arr));
    size_t count = json_array_size(arr);
    if (count == 0) {
        return VT_OK;
    }
    t->module_identities = calloc(count, sizeof(*t->module_identities));
    if (t->module_identities == NULL) {
        return vt_jpath_fail(p, VT_E_NOMEM, "out of memory for %zu module identities", count);
    }
    t->n_module_identities = count;
    size_t mark = vt_jpath_key(p, "tdxModuleIdentities");
    enum vt_err err = VT_OK;
    for (size_t i = 0; i < count && err == VT_OK; i++) {
        size_t imark = vt_jpath_index(p, i);
        err = module_identity_parse(p, json_array_get(arr, i), &t->module_identities[i]);
        /* Identities are looked up by id without regard to case (SPEC: dcap.md 4.2 step 7),
         * so two that differ only in case would be ambiguous. */
        for (size_t k = 0; k < i && err == VT_OK; k++) {
            if (strcasecmp(t->module_identities[k].id, t->module_identities[i].id) == 0) {
                err = vt_jpath_fail(p, VT_E_DUPLICATE, "id \"%s\" already used by [%zu]",
                                    t->module_identities[i].id, k);
            }
        }
        vt_jpath_pop(p, imark);
    }
    vt_jpath_pop(p, mark);
    return err;
}

static enum vt_err tdx_module_parse(struct vt_jpath *p, json_t *info, struct vt_tcb_info *t)
{
    json_t *m;
    VT_TRY(vt_json_get_object(p, info, "tdxModule", &m));
    size_t mark = vt_jpath_key(p, "tdxModule");
    enum vt_err err =
        vt_json_get_hex(p, m, "mrsigner", t->tdx_module_mrsigner, sizeof(t->tdx_module_mrsigner));
    if (err == VT_OK) {
        err = vt_json_get_hex(p, m, "attributes", t->tdx_module_attributes,
                              sizeof(t->tdx_module_attributes));
    }
    if (err == VT_OK) {
        err = vt_json_get_hex(p, m, "attributesMask", t->tdx_module_attributes_mask,
                              sizeof(t->tdx_module_attributes_mask));
    }
    vt_jpath_pop(p, mark);
    VT_TRY(err);
    t->has_tdx_module = true;
    return VT_OK;
}

/* Everything of the inner object; t's owned arrays are freed by the caller on failure. */
static enum vt_err info_parse(struct vt_jpath *p, json_t *info, struct vt_tcb_info *t)
{
    json_t *ver;
    VT_TRY(vt_json_member(p, info, "version", &ver));
    if (!json_is_integer(ver)) {
        uint64_t unused;
        return vt_json_get_uint(p, info, "version", 3, &unused); /* reports the type */
    }
    if (json_integer_value(ver) != 2 && json_integer_value(ver) != 3) {
        size_t mark = vt_jpath_key(p, "version");
        enum vt_err err =
            vt_jpath_fail(p, VT_E_UNSUPPORTED_VERSION, "expected 2 or 3, got %" JSON_INTEGER_FORMAT,
                          json_integer_value(ver));
        vt_jpath_pop(p, mark);
        return err;
    }
    t->version = (int)json_integer_value(ver);

    t->tee = VT_TEE_SGX;
    if (t->version == 3 || json_object_get(info, "id") != NULL) {
        /* v3 names the TEE; a v2 document has no id, and QVL refuses v2 for TDX. */
        const char *id;
        size_t id_len;
        VT_TRY(vt_json_get_string(p, info, "id", &id, &id_len));
        if (id_len == 3 && memcmp(id, "SGX", 3) == 0) {
            t->tee = VT_TEE_SGX;
        } else if (t->version == 3 && id_len == 3 && memcmp(id, "TDX", 3) == 0) {
            t->tee = VT_TEE_TDX;
        } else {
            size_t mark = vt_jpath_key(p, "id");
            enum vt_err err =
                vt_json_bad_value(p, json_object_get(info, "id"),
                                  t->version == 3 ? "\"SGX\" or \"TDX\"" : "\"SGX\" (version 2)");
            vt_jpath_pop(p, mark);
            return err;
        }
    }

    uint64_t v;
    VT_TRY(vt_json_get_time(p, info, "issueDate", &t->issue_date));
    VT_TRY(vt_json_get_time(p, info, "nextUpdate", &t->next_update));
    if (t->next_update < t->issue_date) {
        size_t mark = vt_jpath_key(p, "nextUpdate");
        enum vt_err err = vt_jpath_fail(p, VT_E_BAD_FIELD, "before issueDate");
        vt_jpath_pop(p, mark);
        return err;
    }
    VT_TRY(vt_json_get_hex(p, info, "fmspc", t->fmspc, sizeof(t->fmspc)));
    VT_TRY(vt_json_get_hex(p, info, "pceId", t->pceid, sizeof(t->pceid)));
    VT_TRY(vt_json_get_uint(p, info, "tcbType", INT32_MAX, &v));
    t->tcb_type = (int)v;
    VT_TRY(vt_json_get_uint(p, info, "tcbEvaluationDataNumber", UINT32_MAX, &v));
    t->tcb_eval_num = (uint32_t)v;

    if (t->tee == VT_TEE_TDX) {
        VT_TRY(tdx_module_parse(p, info, t));
        VT_TRY(module_identities_parse(p, info, t));
    }
    return levels_parse(p, info, t);
}

enum vt_err vt_tcb_info_parse(const uint8_t *json, size_t len, struct vt_tcb_info *out,
                              struct vt_diag *d)
{
    if (out == NULL) {
        return vt_fail(d, VT_E_ARG, ROOT, "NULL output");
    }
    memset(out, 0, sizeof(*out));
    struct vt_tcb_info t;
    memset(&t, 0, sizeof(t));
    json_t *info;
    VT_TRY(vt_signed_doc_load(json, len, ROOT, &info, &t.body, &t.body_len, t.signature, d));
    struct vt_jpath p;
    vt_jpath_init(&p, ROOT, d);
    enum vt_err err = info_parse(&p, info, &t);
    json_decref(info);
    if (err != VT_OK) {
        vt_tcb_info_cleanup(&t);
        return err;
    }
    *out = t;
    return VT_OK;
}
