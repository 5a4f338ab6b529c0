/*
 * Fuzz vt_policy_compile, and vt_policy_eval on what compiles; vt_policy_eval_claims on typed
 * claims of every TEE must give what vt_policy_eval gives on their JSON.
 * Invariants: a failure leaves no policy and records its code with a JSON path and a detail; a
 * compiled policy's digest is the SHA-256 of the input; evaluation of a compiled policy never
 * fails, is deterministic (string and json_t variants agree), denies exactly when a top-level
 * check (allowDebug, acceptStatus, rules) is false, names "debug", "status" or a rule path whose
 * explanation entry is false, and explains every check as a well-formed entry.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"

static void require(int cond)
{
    if (!cond) {
        abort();
    }
}

/* Claims of every type, including an absent-able null and a collateral object. */
static const char claims_a[] =
    "{\"tee\":\"sgx\",\"verified_at\":\"2025-07-19T10:01:17Z\",\"status\":\"UpToDate\","
    "\"platform_status\":\"OutOfDate\",\"advisory_ids\":[\"INTEL-SA-00615\"],\"debug\":false,"
    "\"report_data\":\"" /* 64 bytes */
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\","
    "\"sgx.mrenclave\":\"0123abcd0123abcd0123abcd0123abcd0123abcd0123abcd0123abcd0123abcd\","
    "\"sgx.isv_prod_id\":1,\"sgx.isv_svn\":5,\"dcap.tcb_date\":\"2024-03-13T00:00:00Z\","
    "\"dcap.qe_tcb_date\":null,\"dcap.pck_ca\":\"platform\",\"dcap.tdx_module_identity\":\"TDX_"
    "01\","
    "\"nitro.pcr0\":\"000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000\",\"nitro.timestamp\":\"2022-10-13T08:58:02.136Z\","
    "\"snp.policy\":\"0x30000\",\"snp.reported_tcb.microcode\":115,"
    "\"snp.runtime.vm_configuration.secure-boot\":true,\"user_data\":\"0a0b\","
    "\"collateral\":{\"documents\":[],\"earliest_expiry\":\"2025-08-01T00:00:00Z\","
    "\"tcb_eval_num\":17}}";
static const char claims_b[] = "{\"tee\":\"tdx\",\"status\":\"Revoked\",\"debug\":true,"
                               "\"tdx.mrtd\":\"00\",\"sgx.isv_svn\":\"5\"}";

static json_t *entry_at(json_t *expl, const char *path)
{
    size_t i;
    json_t *e;
    json_array_foreach(expl, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "path")), path) == 0) {
            return e;
        }
    }
    return NULL;
}

static void check_eval(const struct vt_policy *p, const char *claims)
{
    struct vt_policy_result r, r2;
    struct vt_diag d;
    vt_diag_init(&d);
    require(vt_policy_eval(p, claims, strlen(claims), &r, &d) == VT_OK);
    require(r.explanation != NULL);
    json_t *cj = json_loads(claims, 0, NULL);
    require(cj != NULL);
    require(vt_policy_eval_json(p, cj, &r2, &d) == VT_OK);
    require(r2.allowed == r.allowed && strcmp(r2.reason, r.reason) == 0 &&
            strcmp(r2.explanation, r.explanation) == 0);
    vt_policy_result_cleanup(&r2);
    json_decref(cj);

    json_t *expl = json_loads(r.explanation, 0, NULL);
    require(json_is_array(expl) && json_array_size(expl) >= 1);
    size_t i;
    json_t *e;
    json_array_foreach(expl, i, e)
    {
        require(json_is_string(json_object_get(e, "path")));
        require(json_is_boolean(json_object_get(e, "outcome")));
        require(json_is_string(json_object_get(e, "op")));
        json_t *claim = json_object_get(e, "claim");
        if (claim != NULL) {
            require(vt_policy_claim_type(json_string_value(claim)) != NULL);
            require(json_object_get(e, "expected") != NULL);
            require(json_object_get(e, "actual") != NULL);
            require(json_is_boolean(json_object_get(e, "present")));
        }
    }
    /* Allowed exactly when every top-level check holds. */
    bool all = true;
    static const char *const tops[] = {"allowDebug", "acceptStatus", "rules"};
    for (size_t k = 0; k < 3; k++) {
        json_t *t = entry_at(expl, tops[k]);
        require(k != 1 || t != NULL);
        if (t != NULL && !json_is_true(json_object_get(t, "outcome"))) {
            all = false;
        }
    }
    require(r.allowed == all);
    if (r.allowed) {
        require(r.reason[0] == '\0');
    } else if (strcmp(r.reason, "debug") == 0) {
        require(json_is_false(json_object_get(entry_at(expl, "allowDebug"), "outcome")));
    } else if (strcmp(r.reason, "status") == 0) {
        require(json_is_false(json_object_get(entry_at(expl, "acceptStatus"), "outcome")));
    } else {
        require(strncmp(r.reason, "rules", 5) == 0);
        json_t *blamed = entry_at(expl, r.reason);
        require(blamed != NULL && json_is_false(json_object_get(blamed, "outcome")));
    }
    json_decref(expl);
    vt_policy_result_cleanup(&r);
    require(r.explanation == NULL);
}

/* Typed claims of each TEE (with the optional parts), and their JSON. */
#define N_TYPED 4
static struct vt_claims typed[N_TYPED];
static char *typed_json[N_TYPED];

static void typed_init(void)
{
    for (size_t i = 0; i < N_TYPED; i++) {
        struct vt_claims *c = &typed[i];
        vt_claims_init(c);
        c->tee = (enum vt_tee)(VT_TEE_SGX + i);
        c->verified_at = 1752919277;
        c->status = i == 1 ? VT_TCB_OUT_OF_DATE : VT_TCB_UP_TO_DATE;
        c->debug = i == 1;
        for (size_t k = 0; k < sizeof(c->report_data); k++) {
            c->report_data[k] = (uint8_t)(k * 7);
        }
        memset(c->sgx.mrenclave, 0x01, sizeof(c->sgx.mrenclave));
        c->sgx.isv_svn = 5;
        c->sgx.miscselect = 0x0123abcdu;
        c->tdx.has_tee_tcb_svn2 = true;
        c->dcap.tcb_date = 1710288000;
        c->dcap.qe_tcb_date = INT64_MAX;
        c->dcap.sgx_type = 1;
        snprintf(c->dcap.pck_ca, sizeof(c->dcap.pck_ca), "platform");
        snprintf(c->dcap.tdx_module_identity, sizeof(c->dcap.tdx_module_identity), "TDX_01");
        c->snp.version = 5;
        snprintf(c->snp.product, sizeof(c->snp.product), "Turin");
        c->snp.policy = 0x30000;
        c->snp.reported_tcb.microcode = 115;
        c->snp.has_runtime_data = true;
        c->snp.n_runtime_keys = 1;
        snprintf(c->snp.runtime_keys[0].kid, sizeof(c->snp.runtime_keys[0].kid), "HCLAkPub");
        snprintf(c->snp.runtime_keys[0].jwk, sizeof(c->snp.runtime_keys[0].jwk),
                 "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"sXch\"}");
        snprintf(c->snp.vm_configuration, sizeof(c->snp.vm_configuration),
                 "{\"secure-boot\":true,\"vmUniqueId\":\"68A5\"}");
        snprintf(c->nitro.module_id, sizeof(c->nitro.module_id), "i-0123-enc0456");
        c->nitro.timestamp_ms = 1665651482136;
        c->nitro.pcr_mask = 0x107;
        c->nitro.pcr_len[0] = c->nitro.pcr_len[1] = c->nitro.pcr_len[2] = 48;
        c->nitro.pcr_len[8] = 48;
        c->user_data.present = true;
        c->user_data.len = 2;
        c->user_data.data[0] = 0x0a;
        c->user_data.data[1] = 0x0b;
        uint8_t h[VT_SHA256_LEN] = {1};
        vt_claims_add_collateral(c, "tcb_info", h, 1750000000, 1760000000, 17);
        typed_json[i] = vt_claims_to_json(c);
        require(typed_json[i] != NULL);
    }
}

static void check_typed(const struct vt_policy *p)
{
    for (size_t i = 0; i < N_TYPED; i++) {
        struct vt_policy_result r, rt;
        struct vt_diag d;
        vt_diag_init(&d);
        require(vt_policy_eval(p, typed_json[i], strlen(typed_json[i]), &r, &d) == VT_OK);
        require(vt_policy_eval_claims(p, &typed[i], &rt, &d) == VT_OK);
        require(rt.allowed == r.allowed && strcmp(rt.reason, r.reason) == 0 &&
                strcmp(rt.explanation, r.explanation) == 0);
        vt_policy_result_cleanup(&r);
        vt_policy_result_cleanup(&rt);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_policy *p = (struct vt_policy *)&p;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_policy_compile((const char *)data, size, &p, &d);
    if (err != VT_OK) {
        require(p == NULL);
        require(d.code == err);
        require(d.check[0] != '\0' && d.detail[0] != '\0');
        return 0;
    }
    require(p != NULL);
    uint8_t h[VT_SHA256_LEN], want[VT_SHA256_LEN];
    vt_policy_digest(p, h);
    vt_sha256(data, size, want);
    require(memcmp(h, want, sizeof(h)) == 0);
    check_eval(p, claims_a);
    check_eval(p, claims_b);
    check_eval(p, "{}");
    if (typed_json[0] == NULL) {
        typed_init();
    }
    check_typed(p);
    vt_policy_free(p);
    return 0;
}
