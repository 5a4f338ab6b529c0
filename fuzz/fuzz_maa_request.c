/*
 * Fuzz the Azure Attestation drop-in's request readers (src/azure/maa_request.c): attest bodies
 * of each type (vt_maa_attest_req_parse), Open Enclave report headers (vt_maa_oe_report_parse),
 * SevSnpVm report envelopes (vt_maa_snp_envelope_parse) and policy-management tokens
 * (vt_maa_policy_token_parse, set and reset). Input: one selector byte, then the bytes read.
 *
 *   0..3  an attest body for SgxEnclave, OpenEnclave, TdxVm, SevSnpVm
 *   4     an Open Enclave report
 *   5     a SevSnpVm envelope
 *   6, 7  a policy token to set, to reset
 *
 * Invariants: a refusal names a check and leaves nothing allocated (the request's members NULL);
 * an accepted body has evidence of 1..VT_MAA_EVIDENCE_MAX bytes, runtime/init-time data of
 * 1..VT_MAA_DATA_MAX bytes with a JSON object exactly when its type is JSON, a nonce of
 * 1..VT_MAA_NONCE_MAX bytes; an accepted OE report's quote is the rest of the input after 16
 * bytes; an accepted policy token's text is 1..VT_MAA_POLICY_MAX_SIZE bytes without NUL and only
 * when setting, and its hash is the SHA-256 of the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "azure/maa.h"

static void require(int cond)
{
    if (!cond) {
        abort();
    }
}

static void check_data(const struct vt_maa_data *dd)
{
    if (dd->type == VT_MAA_DATA_NONE) {
        require(dd->data == NULL && dd->json == NULL);
        return;
    }
    require(dd->data != NULL && dd->len >= 1 && dd->len <= VT_MAA_DATA_MAX);
    require((dd->type == VT_MAA_DATA_JSON) == (dd->json != NULL));
    require(dd->json == NULL || json_is_object(dd->json));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    uint8_t sel = data[0] & 7;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    struct vt_diag d;
    vt_diag_init(&d);
    if (sel < 4) {
        struct vt_maa_attest_req r;
        enum vt_err err = vt_maa_attest_req_parse((enum vt_maa_type)sel, p, n, &r, &d);
        if (err != VT_OK) {
            require(d.check[0] != '\0');
            require(r.evidence == NULL && r.runtime.data == NULL && r.inittime.data == NULL &&
                    r.nonce == NULL && r.draft_policy == NULL);
        } else {
            require(r.evidence != NULL && r.evidence_len >= 1 &&
                    r.evidence_len <= VT_MAA_EVIDENCE_MAX);
            check_data(&r.runtime);
            check_data(&r.inittime);
            require(r.nonce == NULL ||
                    (strlen(r.nonce) >= 1 && strlen(r.nonce) <= VT_MAA_NONCE_MAX));
        }
        vt_maa_attest_req_cleanup(&r);
    } else if (sel == 4) {
        const uint8_t *q = NULL;
        size_t qn = 0;
        if (vt_maa_oe_report_parse(p, n, &q, &qn, &d) == VT_OK) {
            require(n > 16 && q == p + 16 && qn == n - 16);
        } else {
            require(q == NULL && d.check[0] != '\0');
        }
    } else if (sel == 5) {
        uint8_t *rep = NULL, *vek = NULL;
        size_t rn = 0, vn = 0;
        if (vt_maa_snp_envelope_parse(p, n, &rep, &rn, &vek, &vn, &d) == VT_OK) {
            require(rep != NULL && rn >= 1 && rn <= VT_MAA_EVIDENCE_MAX);
            require((vek == NULL) == (vn == 0));
        } else {
            require(rep == NULL && vek == NULL && d.check[0] != '\0');
        }
        free(rep);
        free(vek);
    } else {
        bool set = sel == 6;
        struct vt_maa_policy_token t;
        char *text = malloc(n + 1);
        require(text != NULL);
        memcpy(text, p, n);
        text[n] = '\0';
        enum vt_err err = vt_maa_policy_token_parse(text, n, set, &t, &d);
        if (err == VT_OK) {
            uint8_t h[32];
            vt_sha256(text, n, h);
            require(memcmp(h, t.token_hash, 32) == 0);
            require(set == (t.policy != NULL));
            require(t.policy == NULL ||
                    (t.policy_len >= 1 && t.policy_len <= VT_MAA_POLICY_MAX_SIZE &&
                     strlen(t.policy) == t.policy_len));
            require(t.signed_ == (t.signer_der != NULL));
        } else {
            require(t.policy == NULL && t.signer_der == NULL && d.check[0] != '\0');
        }
        vt_maa_policy_token_cleanup(&t);
        free(text);
    }
    return 0;
}
