/*
 * The KMS service's audit records (docs/kms.md, "Audit log"): every authenticated call, allowed
 * or refused, is one entry of the broker's Merkle log (broker_log.c), in the spirit of a
 * CloudTrail record: the operation, who called (access key, principal, account), the key and
 * version, the decision and the refusal's exception and message, the encryption context (KMS
 * records it too: it is not secret), and for a Recipient call the attestation document's
 * SHA-256, module id and PCRs. Entries are canonical JSON (sorted members). The policy decision's
 * explanation is kept beside the entry for the administrator (veritee broker log), as the
 * broker's are. Nothing secret is ever in an entry: no plaintext, no key material, no document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kms/kms.h"

static json_t *entry_json(struct vt_kms *k, const struct vt_kms_audit *a)
{
    char when[VT_TIME_STR_MAX];
    vt_time_format(vt_kms_now(k), when);
    const struct vt_kms_caller *c = a->caller;
    const char *decision =
        a->allowed                                                                     ? "allow"
        : a->error_type != NULL && strcmp(a->error_type, "AccessDeniedException") == 0 ? "deny"
                                                                                       : "error";
    json_t *o =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "kms", "time", when, "event",
                  a->event ? a->event : vt_kms_op_name(a->op), "request_id",
                  a->request_id ? a->request_id : "", "principal", c->principal, "access_key_id",
                  c->access_key_id, "account", c->account, "decision", decision);
    if (o == NULL) {
        return NULL;
    }
    int bad = 0;
    if (a->key_arn != NULL) {
        bad |= json_object_set_new(o, "key", json_string(a->key_arn));
    }
    if (a->key_version > 0) {
        bad |= json_object_set_new(o, "key_version", json_integer(a->key_version));
    }
    if (!a->allowed) {
        bad |= json_object_set_new(o, "error", json_string(a->error_type ? a->error_type : ""));
        bad |= json_object_set_new(o, "reason", json_string(a->reason ? a->reason : ""));
    }
    if (a->context != NULL && a->context->n > 0) {
        json_t *ctx = json_object();
        for (size_t i = 0; ctx != NULL && i < a->context->n; i++) {
            bad |= json_object_set_new(ctx, a->context->pairs[i].key,
                                       json_string(a->context->pairs[i].value));
        }
        bad |= json_object_set_new(o, "encryption_context", ctx);
    }
    const struct vt_kms_recipient *r = a->recipient;
    if (r != NULL) {
        char sha[65];
        vt_hex_encode(r->doc_sha256, 32, sha);
        json_t *pcrs = json_object();
        for (unsigned i = 0; pcrs != NULL && i < 32; i++) {
            if ((r->pcr_mask >> i) & 1u) {
                char name[8];
                snprintf(name, sizeof(name), "%u", i);
                bad |= json_object_set_new(pcrs, name, json_string(r->pcr[i]));
            }
        }
        /* a document that did not verify is named by its digest only */
        json_t *rj =
            r->verified
                ? json_pack("{s:s,s:b,s:s,s:s,s:o*}", "attestation_document_sha256", sha,
                            "verified", true, "module_id", r->module_id, "image_sha384",
                            (r->pcr_mask & 1u) ? r->pcr[0] : "", "pcrs", pcrs)
                : json_pack("{s:s,s:b}", "attestation_document_sha256", sha, "verified", false);
        if (!r->verified) {
            json_decref(pcrs);
        }
        bad |= json_object_set_new(o, "recipient", rj);
    }
    if (bad != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

enum vt_err vt_kms_audit_append(struct vt_kms *k, const struct vt_kms_audit *a, bool want_receipt,
                                uint64_t *index, char **receipt, char kid[64], struct vt_diag *d)
{
    json_t *o = entry_json(k, a);
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    VT_ENSURE(text != NULL, d, VT_E_NOMEM, "kms.log", "cannot encode the log entry");
    char kid_unused[64];
    enum vt_err err =
        vt_broker_log_append(k->b, text, a->explanation ? a->explanation : "", NULL, NULL,
                             want_receipt, index, receipt, kid ? kid : kid_unused, d);
    free(text);
    return err;
}
