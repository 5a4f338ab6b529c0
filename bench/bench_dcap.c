/*
 * DCAP verification throughput on the real fixtures, through vt_verify with the fixture
 * directory as the collateral source, warm on one thread and on THREADS threads sharing one
 * verifier, and cold (a verifier created per verification: the collateral fetched and verified,
 * the PCK chain verified), beside the raw P-256 verification rate of the crypto backend measured
 * in the same run on as many threads. With the collateral, the PCK chain and the QE report
 * cached, a quote costs one P-256 verification (the quote's signature): the floor is the P-256
 * rate (bench_verify.h, VT_BENCH_SIGNATURES_PER_EVIDENCE).
 *
 * Usage: bench_dcap [FIXTURES_DIR] [SECONDS] [THREADS]   (default ../shared/fixtures, 2 s per
 * measurement, the online CPUs)
 */
#include "bench_verify.h"

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

int main(int argc, char **argv)
{
    struct bv_run r;
    int rc = bv_start(argc, argv, false, "quotes", &r);
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        char dir[2048], path[2100];
        snprintf(dir, sizeof(dir), "%s/dcap/%s", r.root, sets[i].dir);
        snprintf(path, sizeof(path), "%s/quote.bin", dir);
        struct vt_diag d;
        vt_diag_init(&d);
        struct vt_buf quote;
        struct vt_collateral_source *src = NULL;
        struct vt_verifier *v = NULL;
        vt_buf_init(&quote, VT_MAX_EVIDENCE_SIZE);
        if (vt_file_read(path, &quote, &d) || vt_collateral_source_dir(dir, &src, &d)) {
            fprintf(stderr, "%s: %s: %s\n", sets[i].dir, d.check, d.detail);
            rc = 1;
        } else {
            const struct vt_verifier_config cfg = {.collateral = src,
                                                   .collateral_ttl = VT_VERIFIER_TTL_FOREVER};
            const struct vt_verify_opts opts = {.now = sets[i].at};
            const struct vt_bench_evidence e = {quote.data, quote.len, &opts};
            if (vt_verifier_new(&cfg, &v, &d)) {
                fprintf(stderr, "%s: %s: %s\n", sets[i].dir, d.check, d.detail);
                rc = 1;
            } else if (bv_row(&r, sets[i].dir, v, &cfg, &e) != 0) {
                rc = 1;
            }
        }
        vt_verifier_free(v);
        vt_collateral_source_free(src);
        vt_buf_cleanup(&quote);
    }
    return rc;
}
