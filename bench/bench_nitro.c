/*
 * Nitro attestation document verification throughput on the real fixtures, one thread, beside
 * the raw P-384 verification rate of the crypto backend measured in the same run. With the AWS
 * intermediates cached, a document costs two P-384 verifications (its leaf certificate and its
 * COSE signature): the floor is half the P-384 rate.
 *
 * Usage: bench_nitro [FIXTURES_DIR] [SECONDS]   (default ../shared/fixtures, 2 s per document)
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

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

struct ctx {
    struct vt_verifier *v;
    struct vt_buf doc;
    struct vt_verify_opts opts;
    struct vt_claims claims;
};

static enum vt_err once(void *p, struct vt_diag *d)
{
    struct ctx *c = p;
    return vt_verify(c->v, c->doc.data, c->doc.len, &c->opts, &c->claims, d);
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
    double floor = p384.per_second / 2.0;
    printf("P-384 verify (%s): %.0f/s; Nitro floor (2 verifications per document): %.0f docs/s\n",
           vt_p384_backend(), p384.per_second, floor);
    printf("%-60s %10s %9s\n", "document", "docs/s", "of floor");
    int rc = 0;
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        char path[2048];
        snprintf(path, sizeof(path), "%s/nitro/%s", root, docs[i].file);
        struct ctx c = {.opts = {.now = docs[i].at}};
        vt_buf_init(&c.doc, VT_MAX_EVIDENCE_SIZE);
        struct vt_bench_result r;
        if (vt_file_read(path, &c.doc, &d) ||
            vt_verifier_new(&(struct vt_verifier_config){0}, &c.v, &d) ||
            vt_bench_run(once, &c, seconds, &r, &d)) {
            fprintf(stderr, "%s: %s: %s\n", docs[i].file, d.check, d.detail);
            rc = 1;
        } else {
            printf("%-60s %10.0f %8.0f%%\n", docs[i].file, r.per_second,
                   100.0 * r.per_second / floor);
        }
        vt_verifier_free(c.v);
        vt_buf_cleanup(&c.doc);
    }
    return rc;
}
