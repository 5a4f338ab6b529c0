/*
 * SEV-SNP report verification throughput on the real fixtures, one thread, beside the raw P-384
 * verification rate of the crypto backend measured in the same run. With the VEK and its AMD
 * chain cached, a report costs one P-384 verification (its signature) plus parsing and the TCB,
 * chip and time checks: the floor is the P-384 rate. An Azure HCL report adds a SHA-256 of the
 * runtime data and its JSON claims.
 *
 * Usage: bench_snp [FIXTURES_DIR] [SECONDS]   (default ../shared/fixtures, 2 s per report)
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

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

struct ctx {
    struct vt_verifier *v;
    struct vt_buf report;
    struct vt_buf vek;
    struct vt_verify_opts opts;
    struct vt_claims claims;
};

static enum vt_err once(void *p, struct vt_diag *d)
{
    struct ctx *c = p;
    return vt_verify(c->v, c->report.data, c->report.len, &c->opts, &c->claims, d);
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : "../shared/fixtures";
    double seconds = argc > 2 ? strtod(argv[2], NULL) : 2.0;
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_bench_result p384;
    if (vt_bench_p384(seconds, &p384, &d) != VT_OK) {
        fprintf(stderr, "p384: %s\n", d.detail);
        return 1;
    }
    printf("P-384 verify (%s): %.0f/s; SNP floor (1 verification per report): %.0f reports/s\n",
           vt_p384_backend(), p384.per_second, p384.per_second);
    printf("%-60s %10s %9s\n", "report", "reports/s", "of floor");
    int rc = 0;
    for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
        char path[2048];
        char vek[2048];
        snprintf(path, sizeof(path), "%s/snp/%s", root, reports[i].file);
        snprintf(vek, sizeof(vek), "%s/snp/%s", root, reports[i].vek);
        struct ctx *c = calloc(1, sizeof(*c));
        if (c == NULL) {
            return 1;
        }
        vt_buf_init(&c->report, VT_MAX_EVIDENCE_SIZE);
        vt_buf_init(&c->vek, VT_MAX_COLLATERAL_SIZE);
        struct vt_bench_result r;
        if (vt_file_read(path, &c->report, &d) || vt_file_read(vek, &c->vek, &d) ||
            vt_verifier_new(&(struct vt_verifier_config){0}, &c->v, &d)) {
            fprintf(stderr, "%s: %s: %s\n", reports[i].file, d.check, d.detail);
            rc = 1;
        } else {
            c->opts = (struct vt_verify_opts){
                .now = reports[i].at, .vek = c->vek.data, .vek_len = c->vek.len};
            if (vt_bench_run(once, c, seconds, &r, &d)) {
                fprintf(stderr, "%s: %s: %s\n", reports[i].file, d.check, d.detail);
                rc = 1;
            } else {
                printf("%-60s %10.0f %8.0f%%\n", reports[i].file, r.per_second,
                       100.0 * r.per_second / p384.per_second);
            }
        }
        vt_verifier_free(c->v);
        vt_buf_cleanup(&c->report);
        vt_buf_cleanup(&c->vek);
        free(c);
    }
    return rc;
}
