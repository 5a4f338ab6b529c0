/*
 * Nitro attestation document verification throughput on the real fixtures, through vt_verify,
 * warm on one thread and on THREADS threads sharing one verifier, and cold (a verifier created
 * per verification: the AWS CA chain and the leaf verified), beside the raw P-384 verification
 * rate of the crypto backend measured in the same run on as many threads. With the AWS chain and
 * the leaf certificate cached, a document costs one P-384 verification (its COSE signature): the
 * floor is the P-384 rate (bench_verify.h, VT_BENCH_SIGNATURES_PER_EVIDENCE).
 *
 * Usage: bench_nitro [FIXTURES_DIR] [SECONDS] [THREADS]   (default ../shared/fixtures, 2 s per
 * measurement, the online CPUs)
 */
#include "bench_verify.h"

struct doc {
    const char *file;
    vt_time at; /* inside the chain window */
};

static const struct doc docs[] = {
    {"evervault/test-data/beta/debug-mode-attestation-doc-bytes", 1665582606},
    {"evervault/test-data/beta/valid-attestation-doc-bytes", 1665651482},
    {"evervault/derived/non-debug-in-cert-2023-01-18.cose", 1674047239},
    {"base-nitro-validator/attestation-2024-11-30.cose", 1732983768},
    {"base-nitro-validator/attestation-2026-01-03.repaired.cose", 1767472867},
};

int main(int argc, char **argv)
{
    struct bv_run r;
    int rc = bv_start(argc, argv, true, "docs", &r);
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        char path[2048];
        snprintf(path, sizeof(path), "%s/nitro/%s", r.root, docs[i].file);
        struct vt_diag d;
        vt_diag_init(&d);
        struct vt_buf doc;
        struct vt_verifier *v = NULL;
        const struct vt_verifier_config cfg = {0};
        const struct vt_verify_opts opts = {.now = docs[i].at};
        vt_buf_init(&doc, VT_MAX_EVIDENCE_SIZE);
        if (vt_file_read(path, &doc, &d) || vt_verifier_new(&cfg, &v, &d)) {
            fprintf(stderr, "%s: %s: %s\n", docs[i].file, d.check, d.detail);
            rc = 1;
        } else {
            const struct vt_bench_evidence e = {doc.data, doc.len, &opts};
            if (bv_row(&r, docs[i].file, v, &cfg, &e) != 0) {
                rc = 1;
            }
        }
        vt_verifier_free(v);
        vt_buf_cleanup(&doc);
    }
    return rc;
}
