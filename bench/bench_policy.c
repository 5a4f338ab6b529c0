/*
 * Policy evaluation on the broker's hot path: a typical attestation policy (allowDebug,
 * acceptStatus and six claim tests) on the claims of one SGX and one SEV-SNP verification,
 * evaluated
 *
 *   json    as before: vt_policy_eval on the claims' JSON text (parse, then evaluate)
 *   typed   vt_policy_eval_claims on struct vt_claims (the registry's typed getters, no JSON)
 *
 * both building the full explanation, as the broker does. The two take turns for ROUNDS rounds;
 * the best round of each is reported, with the ratio.
 *
 * Usage: bench_policy [SECONDS_PER_ROUND] [ROUNDS]   (default 1 s, 3 rounds)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct ctx {
    const struct vt_policy *p;
    const struct vt_claims *c;
    const char *json;
};

static enum vt_err run_json(void *arg, struct vt_diag *d)
{
    const struct ctx *x = arg;
    struct vt_policy_result r;
    enum vt_err err = vt_policy_eval(x->p, x->json, strlen(x->json), &r, d);
    vt_policy_result_cleanup(&r);
    return err;
}

static enum vt_err run_typed(void *arg, struct vt_diag *d)
{
    const struct ctx *x = arg;
    struct vt_policy_result r;
    enum vt_err err = vt_policy_eval_claims(x->p, x->c, &r, d);
    vt_policy_result_cleanup(&r);
    return err;
}

static void fill(struct vt_claims *c, enum vt_tee tee)
{
    vt_claims_init(c);
    c->tee = tee;
    c->verified_at = 1752919277;
    c->status = VT_TCB_UP_TO_DATE;
    memset(c->report_data, 0xab, sizeof(c->report_data));
    uint8_t h[32] = {1};
    if (tee == VT_TEE_SGX) {
        c->platform_status = c->qe_status = VT_TCB_UP_TO_DATE;
        (void)!vt_advisories_add(&c->advisories, "INTEL-SA-00615");
        memset(c->sgx.mrenclave, 0x11, 32);
        memset(c->sgx.mrsigner, 0x22, 32);
        c->sgx.isv_prod_id = 1;
        c->sgx.isv_svn = 5;
        c->dcap.quote_version = 3;
        c->dcap.body_type = 1;
        snprintf(c->dcap.pck_ca, sizeof(c->dcap.pck_ca), "processor");
        c->dcap.tcb_date = c->dcap.qe_tcb_date = 1710288000;
        vt_claims_add_collateral(c, "tcb_info", h, 1750000000, 1760000000, 17);
        vt_claims_add_collateral(c, "qe_identity", h, 1750000000, 1760000000, 17);
        vt_claims_add_collateral(c, "pck_crl", h, 1750000000, 1760000000, -1);
        vt_claims_add_collateral(c, "root_ca_crl", h, 1750000000, 1760000000, -1);
    } else {
        c->snp.version = 3;
        snprintf(c->snp.product, sizeof(c->snp.product), "Milan");
        snprintf(c->snp.product_name, sizeof(c->snp.product_name), "Milan-B0");
        memset(c->snp.measurement, 0x33, 48);
        c->snp.policy = 0x30000;
        c->snp.reported_tcb.raw = 0xdb18000000000004ull;
        c->snp.reported_tcb.microcode = 0xdb;
        c->snp.reported_tcb.snp = 0x18;
        vt_claims_add_collateral(c, "vcek", h, 1750000000, 1760000000, -1);
    }
}

int main(int argc, char **argv)
{
    char *end1 = NULL, *end2 = NULL;
    double seconds = argc > 1 ? strtod(argv[1], &end1) : 1.0;
    long rounds = argc > 2 ? strtol(argv[2], &end2, 10) : 3;
    if (seconds <= 0 || seconds > 3600 || rounds < 1 || rounds > 100 || (end1 && *end1) ||
        (end2 && *end2)) {
        fprintf(stderr, "usage: bench_policy [SECONDS (0-3600)] [ROUNDS (1-100)]\n");
        return 2;
    }
    static const char *const policies[] = {
        "{\"version\":1,\"allowDebug\":false,\"acceptStatus\":[\"UpToDate\",\"SWHardeningNeeded\"],"
        "\"rules\":{\"allOf\":[{\"claim\":\"tee\",\"equals\":\"sgx\"},"
        "{\"claim\":\"sgx.mrenclave\",\"in\":[\"" /* 32 bytes of 0x11 */
        "1111111111111111111111111111111111111111111111111111111111111111\"]},"
        "{\"claim\":\"sgx.mrsigner\",\"equals\":"
        "\"2222222222222222222222222222222222222222222222222222222222222222\"},"
        "{\"claim\":\"sgx.isv_prod_id\",\"equals\":1},{\"claim\":\"sgx.isv_svn\",\"gte\":3},"
        "{\"claim\":\"collateral.tcb_eval_num\",\"gte\":16}]}}",
        "{\"version\":1,\"allowDebug\":false,\"acceptStatus\":[\"UpToDate\"],"
        "\"rules\":{\"allOf\":[{\"claim\":\"tee\",\"equals\":\"sev-snp\"},"
        "{\"claim\":\"snp.measurement\",\"equals\":\"" /* 48 bytes of 0x33 */
        "333333333333333333333333333333333333333333333333"
        "333333333333333333333333333333333333333333333333\"},"
        "{\"claim\":\"snp.policy.debug\",\"equals\":false},{\"claim\":\"snp.vmpl\",\"lte\":0},"
        "{\"claim\":\"snp.reported_tcb.microcode\",\"gte\":200},"
        "{\"claim\":\"snp.product\",\"in\":[\"Milan\",\"Genoa\"]}]}}",
    };
    static const enum vt_tee tees[] = {VT_TEE_SGX, VT_TEE_SEV_SNP};
    printf("%-8s %7s %14s %14s %6s\n", "claims", "bytes", "json evals/s", "typed evals/s", "ratio");
    for (size_t t = 0; t < 2; t++) {
        struct vt_claims *c = malloc(sizeof(*c));
        struct vt_policy *p = NULL;
        struct vt_diag d;
        vt_diag_init(&d);
        if (c == NULL) {
            return 1;
        }
        fill(c, tees[t]);
        char *json = vt_claims_to_json(c);
        if (json == NULL || vt_policy_compile(policies[t], strlen(policies[t]), &p, &d) != VT_OK) {
            fprintf(stderr, "bench_policy: %s: %s\n", d.check, d.detail);
            return 1;
        }
        struct ctx x = {p, c, json};
        struct vt_policy_result r;
        if (vt_policy_eval_claims(p, c, &r, &d) != VT_OK || !r.allowed) {
            fprintf(stderr, "bench_policy: the policy must allow (%s)\n", r.reason);
            return 1;
        }
        vt_policy_result_cleanup(&r);
        double best_json = 0, best_typed = 0;
        for (long i = 0; i < rounds; i++) {
            struct vt_bench_result bj, bt;
            if (vt_bench_run(run_json, &x, seconds, &bj, &d) != VT_OK ||
                vt_bench_run(run_typed, &x, seconds, &bt, &d) != VT_OK) {
                fprintf(stderr, "bench_policy: %s: %s\n", d.check, d.detail);
                return 1;
            }
            best_json = bj.per_second > best_json ? bj.per_second : best_json;
            best_typed = bt.per_second > best_typed ? bt.per_second : best_typed;
        }
        printf("%-8s %7zu %14.0f %14.0f %5.1fx\n", vt_tee_name(tees[t]), strlen(json), best_json,
               best_typed, best_typed / best_json);
        free(json);
        vt_policy_free(p);
        free(c);
    }
    return 0;
}
