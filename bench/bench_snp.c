/*
 * SEV-SNP report verification throughput on the real fixtures, through vt_verify with the VEK
 * given in the options, warm on one thread and on THREADS threads sharing one verifier, and
 * cold (a verifier created per verification: the VEK and its AMD chain verified, three RSA-4096
 * PSS signatures), beside the raw P-384 verification rate of the crypto backend measured in the
 * same run on as many threads. With the VEK and its chain cached, a report costs one P-384
 * verification (its signature) plus parsing and the TCB, chip and time checks: the floor is the
 * P-384 rate (bench_verify.h, VT_BENCH_SIGNATURES_PER_EVIDENCE). An Azure HCL report adds a
 * SHA-256 of the runtime data and its JSON claims.
 *
 * Usage: bench_snp [FIXTURES_DIR] [SECONDS] [THREADS]   (default ../shared/fixtures, 2 s per
 * measurement, the online CPUs)
 */
#include "bench_verify.h"

struct report {
    const char *file;
    const char *vek;
    vt_time at; /* inside the VEK's window */
};

static const struct report reports[] = {
    {"trustee/test-report.bin", "trustee/test-vcek.der", 1748736000},
    {"trustee/test-vlek-report.bin", "trustee/test-vlek.der", 1748736000},
    {"trustee/derived/e2e-genoa-report.bin", "trustee/derived/e2e-genoa-vcek.der", 1748736000},
    {"virtee-sev/derived/report_milan.bin", "virtee-sev/vcek_milan.der", 1748736000},
    {"trustee-azure/hcl-report.bin", "trustee-azure/vcek.pem", 1748736000},
};

int main(int argc, char **argv)
{
    struct bv_run r;
    int rc = bv_start(argc, argv, true, "reports", &r);
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
        char path[2048];
        char vek_path[2048];
        snprintf(path, sizeof(path), "%s/snp/%s", r.root, reports[i].file);
        snprintf(vek_path, sizeof(vek_path), "%s/snp/%s", r.root, reports[i].vek);
        struct vt_diag d;
        vt_diag_init(&d);
        struct vt_buf report, vek;
        struct vt_verifier *v = NULL;
        const struct vt_verifier_config cfg = {0};
        vt_buf_init(&report, VT_MAX_EVIDENCE_SIZE);
        vt_buf_init(&vek, VT_MAX_COLLATERAL_SIZE);
        if (vt_file_read(path, &report, &d) || vt_file_read(vek_path, &vek, &d) ||
            vt_verifier_new(&cfg, &v, &d)) {
            fprintf(stderr, "%s: %s: %s\n", reports[i].file, d.check, d.detail);
            rc = 1;
        } else {
            const struct vt_verify_opts opts = {
                .now = reports[i].at, .vek = vek.data, .vek_len = vek.len};
            const struct vt_bench_evidence e = {report.data, report.len, &opts};
            if (bv_row(&r, reports[i].file, v, &cfg, &e) != 0) {
                rc = 1;
            }
        }
        vt_verifier_free(v);
        vt_buf_cleanup(&report);
        vt_buf_cleanup(&vek);
    }
    return rc;
}
