/*
 * The claims registry (src/claims/claims_list.h, src/claims/registry.c): every claim the JSON
 * writer emits is in the registry with its type, every registry claim can be read typed, and the
 * policy evaluator gives the same verdict, reason and explanation on typed claims
 * (vt_policy_eval_claims) as on their JSON (vt_policy_eval), for pseudo-random claims of every
 * TEE and policies testing every claim they carry with every operator, true and false.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "internal.h"

#include "claims/registry.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void rbytes(void *p, size_t n)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        b[i] = (uint8_t)rnd();
    }
}

static void rstr(char *s, size_t cap)
{
    size_t n = rnd() % cap;
    for (size_t i = 0; i < n; i++) {
        s[i] = (char)(' ' + rnd() % 95);
    }
    s[n] = '\0';
}

static vt_time rtime(void)
{
    switch (rnd() % 12) {
    case 0:
        return INT64_MAX; /* unset: null */
    case 1:
        return (vt_time)253402300800ll; /* year 10000: written, but not RFC 3339 */
    case 2:
        return -62167219201ll; /* before year 0 */
    default:
        return (vt_time)(rnd() % 4102444800ull);
    }
}

/* Claims of TEE 1 + variant % 4 with every field random but well-formed. */
static void fill(struct vt_claims *c, unsigned variant)
{
    rbytes(c, sizeof(*c));
    c->tee = (enum vt_tee)(1 + variant % 4);
    c->verified_at = rtime();
    c->status = (enum vt_tcb_status)(rnd() % 10);
    c->platform_status = (enum vt_tcb_status)(rnd() % 10);
    c->qe_status = (enum vt_tcb_status)(rnd() % 10);
    c->module_status = (enum vt_tcb_status)(rnd() % 10);
    c->advisories.n = rnd() % 4;
    for (size_t i = 0; i < VT_MAX_ADVISORIES; i++) {
        rstr(c->advisories.ids[i], 12);
    }
    c->debug = rnd() & 1;
    c->tdx.has_tee_tcb_svn2 = rnd() & 1;
    snprintf(c->dcap.pck_ca, sizeof(c->dcap.pck_ca), "%s", rnd() & 1 ? "processor" : "platform");
    c->dcap.sgx_type = (int)(rnd() % 4) - (int)(rnd() % 2);
    c->dcap.has_platform_instance_id = rnd() & 1;
    c->dcap.has_configuration = rnd() & 1;
    c->dcap.dynamic_platform = rnd() & 1;
    c->dcap.cached_keys = rnd() & 1;
    c->dcap.smt_enabled = rnd() & 1;
    c->dcap.tcb_date = rtime();
    c->dcap.qe_tcb_date = rtime();
    rstr(c->dcap.tdx_module_identity, sizeof(c->dcap.tdx_module_identity));
    rstr(c->nitro.module_id, sizeof(c->nitro.module_id));
    c->nitro.timestamp_ms = rnd() % 8 == 0 ? rnd() : rnd() % 4102444800000ull;
    for (size_t i = 0; i < VT_CLAIMS_MAX_PCRS; i++) {
        static const uint8_t lens[] = {32, 48, 64, 0, 7};
        c->nitro.pcr_len[i] = lens[rnd() % 5];
    }
    struct vt_snp_claims *s = &c->snp;
    s->version = (uint32_t)(rnd() % 7);
    static const char *const products[] = {"Milan", "Genoa", "Turin"};
    snprintf(s->product, sizeof(s->product), "%s", products[rnd() % 3]);
    rstr(s->product_name, sizeof(s->product_name));
    s->chip_id_masked = rnd() & 1;
    s->signing_key = (int)(rnd() % 3);
    if (rnd() & 1) {
        s->csp_id[0] = '\0';
    } else {
        rstr(s->csp_id, sizeof(s->csp_id));
    }
    s->has_runtime_data = rnd() & 1;
    s->n_runtime_keys = rnd() % (VT_SNP_RUNTIME_KEYS_MAX + 1);
    for (size_t i = 0; i < VT_SNP_RUNTIME_KEYS_MAX; i++) {
        snprintf(s->runtime_keys[i].kid, sizeof(s->runtime_keys[i].kid), "K%u",
                 (unsigned)(rnd() % 3));
        snprintf(s->runtime_keys[i].jwk, sizeof(s->runtime_keys[i].jwk),
                 "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"%llx\"}", (unsigned long long)rnd());
    }
    if (rnd() % 3 == 0) {
        s->vm_configuration[0] = '\0';
    } else {
        snprintf(s->vm_configuration, sizeof(s->vm_configuration),
                 "{\"console-enabled\":%s,\"secure-boot\":true,\"n\":%u,\"vmUniqueId\":\"%llx\","
                 "\"o\":{\"a\":[1,2]}}",
                 rnd() & 1 ? "true" : "false", (unsigned)(rnd() % 100), (unsigned long long)rnd());
    }
    struct vt_binding_claim *b[] = {&c->user_data, &c->nonce, &c->public_key};
    for (size_t i = 0; i < 3; i++) {
        b[i]->present = rnd() & 1;
        b[i]->len = rnd() % (rnd() & 1 ? VT_CLAIMS_MAX_BINDING + 1 : 70);
    }
    c->collateral.n = rnd() % (VT_COLLATERAL_DOCS_MAX + 1);
    for (size_t i = 0; i < VT_COLLATERAL_DOCS_MAX; i++) {
        rstr(c->collateral.docs[i].name, sizeof(c->collateral.docs[i].name));
        c->collateral.docs[i].issue_date = rtime();
        c->collateral.docs[i].next_update = rtime();
        c->collateral.docs[i].tcb_eval_num = (int64_t)(rnd() % 40) - 5;
    }
    c->collateral.earliest_expiry = rtime();
    c->collateral.tcb_eval_num = (int64_t)(rnd() % 40) - 5;
}

/* A value of the claim's type that differs from v (or NULL when none is easily made). */
static json_t *other_value(const struct vt_claim_info *ci, const json_t *v)
{
    const char *s = json_string_value(v);
    switch (ci->type) {
    case VT_CT_HEX: {
        if (s == NULL || s[0] == '\0') {
            return json_string("00"); /* an empty value (absent bytes): any byte differs */
        }
        char *h = strdup(s);
        h[0] = h[0] == '0' ? 'F' : '0'; /* also: policies may write uppercase */
        json_t *j = json_string(h);
        free(h);
        return j;
    }
    case VT_CT_INT:
        return json_integer(json_integer_value(v) ^ 1);
    case VT_CT_BOOL:
        return json_boolean(!json_is_true(v));
    case VT_CT_ENUM:
        for (size_t i = 0; ci->values(i) != NULL; i++) {
            if (strcmp(ci->values(i), s != NULL ? s : "") != 0) {
                return json_string(ci->values(i));
            }
        }
        return NULL;
    case VT_CT_TIME:
        return json_string("2000-01-01T00:00:00.001Z");
    case VT_CT_U64:
        return json_integer(7);
    case VT_CT_STRING:
        return json_string("x");
    default:
        return json_pack("[i]", 1);
    }
}

static int compared;

static void same_verdicts(const struct vt_claims *c, const json_t *claims, const char *pol)
{
    struct vt_policy *p = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_policy_compile(pol, strlen(pol), &p, &d) != VT_OK) {
        return; /* e.g. an enum value the writer emits for a corrupt struct ("unknown") */
    }
    struct vt_policy_result rj, rt;
    assert_int_equal(vt_policy_eval_json(p, claims, &rj, &d), VT_OK);
    assert_int_equal(vt_policy_eval_claims(p, c, &rt, &d), VT_OK);
    if (rj.allowed != rt.allowed || strcmp(rj.reason, rt.reason) != 0 ||
        strcmp(rj.explanation, rt.explanation) != 0) {
        fail_msg("typed and JSON claims differ on %s:\njson  %d %s %s\ntyped %d %s %s", pol,
                 rj.allowed, rj.reason, rj.explanation, rt.allowed, rt.reason, rt.explanation);
    }
    compared++;
    vt_policy_result_cleanup(&rj);
    vt_policy_result_cleanup(&rt);
    vt_policy_free(p);
}

/* Policies on one claim: exists, equals/in (its own value and another), gte/lte. */
static void policies_on(const struct vt_claims *c, const json_t *claims, const char *name,
                        const json_t *v)
{
    const struct vt_claim_info *ci = vt_claim_lookup(name);
    assert_non_null(ci);
    char *own = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    json_t *o = json_is_null(v) ? NULL : other_value(ci, v);
    char *other = o != NULL ? json_dumps(o, JSON_ENCODE_ANY | JSON_COMPACT) : strdup(own);
    json_decref(o);
    size_t cap = 2 * (strlen(own) + strlen(other)) + 1024;
    char *pol = malloc(cap);
    snprintf(pol, cap,
             "{\"version\":1,\"allowDebug\":%s,\"acceptStatus\":[\"OutOfDate\",\"Revoked\"],"
             "\"rules\":{\"anyOf\":[{\"claim\":\"%s\",\"exists\":%s},{\"not\":{\"claim\":\"%s\","
             "\"equals\":%s}}]}}",
             rnd() & 1 ? "true" : "false", name, rnd() & 1 ? "true" : "false", name, own);
    same_verdicts(c, claims, pol);
    snprintf(pol, cap,
             "{\"version\":1,\"allowDebug\":true,\"acceptStatus\":[\"UpToDate\",\"OutOfDate\"],"
             "\"rules\":{\"allOf\":[{\"claim\":\"%s\",\"equals\":%s},{\"claim\":\"%s\",\"in\":"
             "[%s,%s]},{\"claim\":\"%s\",\"equals\":%s}]}}",
             name, own, name, other, own, name, other);
    same_verdicts(c, claims, pol);
    if (ci->type == VT_CT_INT || ci->type == VT_CT_TIME) {
        snprintf(pol, cap,
                 "{\"version\":1,\"allowDebug\":true,\"rules\":{\"allOf\":[{\"claim\":\"%s\","
                 "\"gte\":%s},{\"claim\":\"%s\",\"lte\":%s},{\"claim\":\"%s\",\"gte\":%s},"
                 "{\"claim\":\"%s\",\"lte\":%s}]}}",
                 name, own, name, own, name, other, name, other);
        same_verdicts(c, claims, pol);
    }
    free(pol);
    free(own);
    free(other);
}

static void test_typed_equals_json(void **state)
{
    (void)state;
    struct vt_claims *c = malloc(sizeof(*c));
    assert_non_null(c);
    for (unsigned i = 0; i < 240; i++) {
        fill(c, i);
        char *json = vt_claims_to_json(c);
        assert_non_null(json);
        json_t *o = json_loads(json, 0, NULL);
        assert_non_null(o);
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v)
        {
            if (vt_claim_lookup(k) == NULL) {
                fail_msg("claim %s is not in the registry", k);
            }
            if (strcmp(k, "collateral") == 0) {
                const char *sk;
                json_t *sv;
                json_object_foreach(v, sk, sv)
                {
                    char name[64];
                    snprintf(name, sizeof(name), "collateral.%s", sk);
                    policies_on(c, o, name, sv);
                }
            }
            policies_on(c, o, k, v);
        }
        /* and claims this TEE does not have */
        json_t *hex = json_string("00"), *obj = json_object();
        policies_on(c, o, "sgx.mrenclave", hex);
        policies_on(c, o, "snp.runtime.keys.K9", obj);
        json_decref(hex);
        json_decref(obj);
        json_decref(o);
        free(json);
    }
    free(c);
    assert_true(compared > 10000);
}

/* Every registry entry: a lookup finds it, its type has a name, enum values are listed, docs. */
static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < VT_CLAIM_COUNT; i++) {
        const struct vt_claim_info *ci = vt_claim_info((enum vt_claim_id)i);
        assert_int_equal(ci->id, i);
        char name[128];
        snprintf(name, sizeof(name), "%s%s", ci->name, vt_claim_is_prefix(ci) ? "x" : "");
        assert_ptr_equal(vt_claim_lookup(name), ci);
        assert_string_equal(vt_policy_claim_type(name), vt_claim_type_names[ci->type]);
        assert_true((ci->type == VT_CT_ENUM) == (ci->values != NULL));
        assert_true(ci->type == VT_CT_HEX || ci->len[0] == 0);
        assert_true(i > 0 || ci->doc[0] != '\0');
    }
    assert_null(vt_claim_lookup("snp.runtime.keys."));
    assert_null(vt_claim_lookup("nitro.pcr32"));
    /* the enum lists are the ones the rest of veritee spells */
    const struct vt_claim_info *status = vt_claim_lookup("status");
    size_t n = 0;
    for (; status->values(n) != NULL; n++) {
        enum vt_tcb_status st;
        assert_int_equal(vt_tcb_status_parse(status->values(n), strlen(status->values(n)), &st),
                         VT_OK);
        assert_int_equal(st, VT_TCB_UP_TO_DATE + n);
    }
    assert_int_equal(n, VT_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED);
    const struct vt_claim_info *tee = vt_claim_lookup("tee");
    for (n = 0; tee->values(n) != NULL; n++) {
        assert_string_equal(tee->values(n), vt_tee_name((enum vt_tee)(VT_TEE_SGX + n)));
    }
    assert_int_equal(n, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_typed_equals_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
