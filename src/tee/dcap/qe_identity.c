/*
 * Intel PCS enclave identity, version 2 (SPEC: dcap.md section 3; Intel PCS API v4, "Enclave
 * Identity"). Used for the QE (SGX), TD_QE (TDX), QVE and QAE.
 *
 *   {"enclaveIdentity":{                           <- signed bytes start at this '{'
 *      "id":"QE"|"QVE"|"QAE"|"TD_QE", "version":2,
 *      "issueDate":"<RFC 3339>", "nextUpdate":"<RFC 3339>", "tcbEvaluationDataNumber":17,
 *      "miscselect":"<8 hex>", "miscselectMask":"<8 hex>",
 *      "attributes":"<32 hex>", "attributesMask":"<32 hex>",
 *      "mrsigner":"<64 hex>", "isvprodid":0..65535,
 *      "tcbLevels":[{"tcb":{"isvsvn":8},"tcbDate":"<RFC 3339>",
 *                    "tcbStatus":"UpToDate"|"OutOfDate"|"Revoked","advisoryIDs":[..]?}]
 *   },                                             <- and end at the matching '}'
 *   "signature":"<128 hex: raw r||s>"}
 *
 * Hex fields decode in report byte order, as QVL compares them. Members not listed are ignored.
 * The signature is not checked here.
 */
#include <string.h>

#include "tee/dcap/dcap.h"

#include "json_internal.h"

#define ROOT "enclaveIdentity"

static const struct {
    const char *name;
    enum vt_identity_id id;
} identity_ids[] = {
    {"QE", VT_IDENTITY_QE},
    {"QVE", VT_IDENTITY_QVE},
    {"QAE", VT_IDENTITY_QAE},
    {"TD_QE", VT_IDENTITY_TD_QE},
};

void vt_qe_identity_cleanup(struct vt_qe_identity *q)
{
    if (q == NULL) {
        return;
    }
    vt_isv_levels_free(q->levels, q->n_levels);
    memset(q, 0, sizeof(*q));
}

static enum vt_err identity_parse(struct vt_jpath *p, json_t *ident, struct vt_qe_identity *q)
{
    json_t *ver;
    VT_TRY(vt_json_member(p, ident, "version", &ver));
    if (!json_is_integer(ver)) {
        uint64_t unused;
        return vt_json_get_uint(p, ident, "version", 2, &unused); /* reports the type */
    }
    if (json_integer_value(ver) != 2) {
        /* SPEC: dcap.md 4.1 step 3: only version 2 is accepted. */
        size_t mark = vt_jpath_key(p, "version");
        enum vt_err err =
            vt_jpath_fail(p, VT_E_UNSUPPORTED_VERSION, "expected 2, got %" JSON_INTEGER_FORMAT,
                          json_integer_value(ver));
        vt_jpath_pop(p, mark);
        return err;
    }
    q->version = 2;

    const char *id;
    size_t id_len;
    VT_TRY(vt_json_get_string(p, ident, "id", &id, &id_len));
    for (size_t i = 0; i < sizeof(identity_ids) / sizeof(identity_ids[0]); i++) {
        if (strlen(identity_ids[i].name) == id_len &&
            memcmp(identity_ids[i].name, id, id_len) == 0) {
            q->id = identity_ids[i].id;
        }
    }
    if (q->id == 0) {
        size_t mark = vt_jpath_key(p, "id");
        enum vt_err err = vt_json_bad_value(p, json_object_get(ident, "id"),
                                            "\"QE\", \"QVE\", \"QAE\" or \"TD_QE\"");
        vt_jpath_pop(p, mark);
        return err;
    }

    uint64_t v;
    VT_TRY(vt_json_get_time(p, ident, "issueDate", &q->issue_date));
    VT_TRY(vt_json_get_time(p, ident, "nextUpdate", &q->next_update));
    if (q->next_update < q->issue_date) {
        size_t mark = vt_jpath_key(p, "nextUpdate");
        enum vt_err err = vt_jpath_fail(p, VT_E_BAD_FIELD, "before issueDate");
        vt_jpath_pop(p, mark);
        return err;
    }
    VT_TRY(vt_json_get_uint(p, ident, "tcbEvaluationDataNumber", UINT32_MAX, &v));
    q->tcb_eval_num = (uint32_t)v;
    VT_TRY(vt_json_get_hex(p, ident, "miscselect", q->miscselect, sizeof(q->miscselect)));
    VT_TRY(vt_json_get_hex(p, ident, "miscselectMask", q->miscselect_mask,
                           sizeof(q->miscselect_mask)));
    VT_TRY(vt_json_get_hex(p, ident, "attributes", q->attributes, sizeof(q->attributes)));
    VT_TRY(vt_json_get_hex(p, ident, "attributesMask", q->attributes_mask,
                           sizeof(q->attributes_mask)));
    VT_TRY(vt_json_get_hex(p, ident, "mrsigner", q->mrsigner, sizeof(q->mrsigner)));
    VT_TRY(vt_json_get_uint(p, ident, "isvprodid", UINT16_MAX, &v));
    q->isvprodid = (uint16_t)v;
    return vt_json_get_isv_levels(p, ident, &q->levels, &q->n_levels);
}

enum vt_err vt_qe_identity_parse(const uint8_t *json, size_t len, struct vt_qe_identity *out,
                                 struct vt_diag *d)
{
    if (out == NULL) {
        return vt_fail(d, VT_E_ARG, ROOT, "NULL output");
    }
    memset(out, 0, sizeof(*out));
    struct vt_qe_identity q;
    memset(&q, 0, sizeof(q));
    json_t *ident;
    VT_TRY(vt_signed_doc_load(json, len, ROOT, &ident, &q.body, &q.body_len, q.signature, d));
    struct vt_jpath p;
    vt_jpath_init(&p, ROOT, d);
    enum vt_err err = identity_parse(&p, ident, &q);
    json_decref(ident);
    if (err != VT_OK) {
        vt_qe_identity_cleanup(&q);
        return err;
    }
    *out = q;
    return VT_OK;
}
