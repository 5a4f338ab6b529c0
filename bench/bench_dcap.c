/*
 * DCAP verification throughput on the real fixtures, one thread, through vt_verify with the
 * fixture directory as the collateral source (fetched and verified on the first call, then
 * cached by the verifier), beside the raw P-256 verification rate of the crypto backend measured in
 * the same run. With the collateral and the PCK chain cached, a quote costs two P-256 verifications
 * (QE report and quote signature): the floor is half the P-256 rate.
 *
 * Usage: bench_dcap [FIXTURES_DIR] [SECONDS]   (default ../shared/fixtures, 2 s per set)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct set {
    const char *dir;
    vt_time at;
};

static const struct set sets[] = {
    {"phala-dcap-qvl/sgx-v3-fmspc00a067110000", 1752919277},
    {"automata-dcap-attestation/sgx-v3-fmspc00606a000000", 1755236700},
    {"phala-dcap-qvl/tdx-v4-fmspcb0c06f000000", 1752919234},
    {"phala-dcap-qvl/tdx-v4-fmspc20a06f000000-near", 1757462400},
    {"automata-dcap-attestation/tdx-v4-fmspc00806f050000", 1749095100},
    {"automata-dcap-attestation/tdx-v5-fmspc90c06f000000-alibaba", 1749945600},
};

struct ctx {
    struct vt_verifier *v;
    struct vt_buf quote;
    struct vt_verify_opts opts;
    struct vt_claims claims;
};

static enum vt_err once(void *p, struct vt_diag *d)
{
    struct ctx *c = p;
    return vt_verify(c->v, c->quote.data, c->quote.len, &c->opts, &c->claims, d);
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : "../shared/fixtures";
    double seconds = argc > 2 ? strtod(argv[2], NULL) : 2.0;
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_bench_result p256;
    if (vt_bench_p256(seconds, &p256, &d) != VT_OK) {
        fprintf(stderr, "p256: %s\n", d.detail);
        return 1;
    }
    double floor = p256.per_second / 2.0;
    printf("P-256 verify (%s): %.0f/s; DCAP floor (2 verifications per quote): %.0f quotes/s\n",
           vt_p256_backend(), p256.per_second, floor);
    printf("%-60s %-4s %12s %9s\n", "fixture set", "tee", "quotes/s", "of floor");
    int rc = 0;
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        char dir[2048], path[2100];
        snprintf(dir, sizeof(dir), "%s/dcap/%s", root, sets[i].dir);
        snprintf(path, sizeof(path), "%s/quote.bin", dir);
        struct ctx c = {.opts = {.now = sets[i].at}};
        struct vt_collateral_source *src = NULL;
        vt_buf_init(&c.quote, VT_MAX_EVIDENCE_SIZE);
        struct vt_bench_result r;
        if (vt_file_read(path, &c.quote, &d) || vt_collateral_source_dir(dir, &src, &d) ||
            vt_verifier_new(&(struct vt_verifier_config){.collateral = src,
                                                         .collateral_ttl = VT_VERIFIER_TTL_FOREVER},
                            &c.v, &d) ||
            vt_bench_run(once, &c, seconds, &r, &d)) {
            fprintf(stderr, "%s: %s: %s\n", sets[i].dir, d.check, d.detail);
            rc = 1;
        } else {
            printf("%-60s %-4s %12.0f %8.0f%%\n", sets[i].dir, vt_tee_name(c.claims.tee),
                   r.per_second, 100.0 * r.per_second / floor);
        }
        vt_verifier_free(c.v);
        vt_collateral_source_free(src);
        vt_buf_cleanup(&c.quote);
    }
    return rc;
}
