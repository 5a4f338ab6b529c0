/* veritee bench: verifications per second of one piece of evidence on one thread or N threads
 * sharing one verifier, beside the raw signature verification rate of the crypto backend
 * measured in the same run with the same number of threads, and optionally the cold path. */
#include <string.h>

#include "cli.h"

/* Cold runs build a verifier per verification: this long at most. */
#define BENCH_COLD_SECONDS 1.0

static const char bench_usage[] =
    "Usage: veritee bench [--collateral DIR|URL] [--at TIME] [--trust-anchor FILE]...\n"
    "                     [--expiry-only] [--nonce HEX] [--max-age S] [--vcek FILE]\n"
    "                     [--cert-chain FILE] [--crl FILE] [--seconds N] [--threads N]\n"
    "                     [--cold] EVIDENCE\n"
    "\n"
    "Verify EVIDENCE repeatedly (vt_verify on the evidence bytes: detection and parse included)\n"
    "with one verifier whose collateral is fetched and verified once, by one verification before\n"
    "measuring, and print one JSON line.\n"
    "\n"
    "Options (the others are those of `veritee verify`):\n"
    "  --seconds N    seconds per measurement, in (0, 3600] (default 3)\n"
    "  --threads N    verify on N threads at once (1 to 64, default 1), all calling vt_verify\n"
    "                 on ONE shared verifier, each with its own claims; with N > 1 one thread\n"
    "                 is measured first, then N, and the floor likewise\n"
    "  --cold         also measure the cold path, on the same N threads: every verification\n"
    "                 with a verifier created for it (collateral fetched from the source and\n"
    "                 verified, chains verified, everything: what the first evidence of a\n"
    "                 platform or of a Nitro leaf costs), for min(--seconds, 1) seconds\n"
    "\n"
    "JSON fields (rates are per second, summed over the threads):\n"
    "  evidence_type, tee\n"
    "  threads                   N\n"
    "  verifications, seconds    the warm run on N threads\n"
    "  verifications_per_second  its rate\n"
    "  one_thread_verifications_per_second\n"
    "                            the warm rate on one thread (the same run when N = 1)\n"
    "  scaling                   verifications_per_second / one_thread_verifications_per_second\n"
    "                            (ideal: N); null when N = 1\n"
    "  verify_algorithm, verify_backend\n"
    "                            the signature of the floor (ECDSA P-256 for DCAP, P-384 for\n"
    "                            Nitro and SEV-SNP) and the crypto backend verifying it\n"
    "  verify_per_second         raw signature verifications per second, one thread\n"
    "  floor_per_second          verify_per_second / signatures per evidence (one thread)\n"
    "  floor_threads_per_second  the same floor on N threads sharing one key object, as the\n"
    "                            verifier shares its keys (for N = 1, floor_per_second)\n"
    "  ratio_to_floor            verifications_per_second / floor_threads_per_second (N threads\n"
    "                            against N threads; 1.0 means verification costs only its\n"
    "                            signature)\n"
    "  cold_verifications, cold_seconds, cold_verifications_per_second\n"
    "                            with --cold: the cold run on N threads\n"
    "Every figure comes from the same run. Once the verifier is warm a piece of evidence costs\n"
    "one signature verification: DCAP the quote's signature (the QE report's is checked once\n"
    "per platform, with its PCK chain), Nitro the COSE signature (the leaf certificate's once per\n"
    "leaf), SEV-SNP the report signature (the VCEK/VLEK chain once per VEK).\n"
    "Exit status: 0 measured, 1 the evidence does not verify, 2 usage or input problem (a bad\n"
    "option, a file that is missing, unreadable or too large).\n";

/* Everything one run measures. */
struct bench_figures {
    struct vt_bench_result one, warm, raw_one, raw_n, cold;
    bool p384;
};

/* The floor's raw signature rate on `threads` threads. */
static enum vt_err bench_floor(bool p384, unsigned threads, double seconds,
                               struct vt_bench_result *out, struct vt_diag *d)
{
    return p384 ? vt_bench_p384(threads, seconds, out, d) : vt_bench_p256(threads, seconds, out, d);
}

/* Measure in an order that keeps each pair compared side by side: the one-thread and N-thread
 * warm runs (scaling), the N-thread warm run and floor (ratio_to_floor); then the one-thread
 * floor and the cold run. The verifier's caches are filled before (cmd_bench). */
static enum vt_err bench_measure(struct cli_verify_setup *s, const struct cli_bench_opts *o,
                                 struct bench_figures *f, struct vt_diag *d)
{
    bool snp = s->kind == VT_EVIDENCE_SNP_REPORT || s->kind == VT_EVIDENCE_AZURE_HCL;
    f->p384 = snp || s->kind == VT_EVIDENCE_NITRO_DOC;
    const struct vt_bench_evidence e = {
        .data = s->evidence.data, .len = s->evidence.len, .opts = &s->opts};
    VT_TRY(vt_bench_verify_warm(s->verifier, &e, 1, o->seconds, &f->one, d));
    if (o->threads > 1) {
        VT_TRY(vt_bench_verify_warm(s->verifier, &e, o->threads, o->seconds, &f->warm, d));
        VT_TRY(bench_floor(f->p384, o->threads, o->seconds, &f->raw_n, d));
    } else {
        f->warm = f->one;
    }
    VT_TRY(bench_floor(f->p384, 1, o->seconds, &f->raw_one, d));
    if (o->threads == 1) {
        f->raw_n = f->raw_one;
    }
    if (o->cold) {
        double cold_seconds = o->seconds < BENCH_COLD_SECONDS ? o->seconds : BENCH_COLD_SECONDS;
        VT_TRY(vt_bench_verify_cold(&s->config, &e, o->threads, cold_seconds, &f->cold, d));
    }
    return VT_OK;
}

static void bench_print(const struct cli_verify_setup *s, const struct cli_bench_opts *o,
                        const struct bench_figures *f, enum vt_tee tee)
{
    double floor_one = f->raw_one.per_second / VT_BENCH_SIGNATURES_PER_EVIDENCE;
    double floor_n = f->raw_n.per_second / VT_BENCH_SIGNATURES_PER_EVIDENCE;
    printf("{\"evidence_type\":\"%s\",\"tee\":\"%s\",\"threads\":%u,\"verifications\":%llu,"
           "\"seconds\":%.3f,\"verifications_per_second\":%.1f,"
           "\"one_thread_verifications_per_second\":%.1f,\"scaling\":",
           vt_evidence_kind_name(s->kind), vt_tee_name(tee), o->threads,
           (unsigned long long)f->warm.iterations, f->warm.seconds, f->warm.per_second,
           f->one.per_second);
    if (o->threads > 1) {
        printf("%.3f", f->warm.per_second / f->one.per_second);
    } else {
        fputs("null", stdout);
    }
    printf(",\"verify_algorithm\":\"%s\",\"verify_backend\":\"%s\",\"verify_per_second\":%.1f,"
           "\"floor_per_second\":%.1f,\"floor_threads_per_second\":%.1f,"
           "\"ratio_to_floor\":%.3f",
           f->p384 ? "ECDSA P-384" : "ECDSA P-256", f->p384 ? vt_p384_backend() : vt_p256_backend(),
           f->raw_one.per_second, floor_one, floor_n, f->warm.per_second / floor_n);
    if (o->cold) {
        printf(",\"cold_verifications\":%llu,\"cold_seconds\":%.3f,"
               "\"cold_verifications_per_second\":%.1f",
               (unsigned long long)f->cold.iterations, f->cold.seconds, f->cold.per_second);
    }
    fputs("}\n", stdout);
}

int cmd_bench(int argc, char **argv)
{
    struct cli_verify_args a;
    struct cli_bench_opts o = {.seconds = 3.0, .threads = 1, .cold = false};
    int rc = cli_parse_verify_args(argc, argv, &a, bench_usage, &o);
    if (rc != 0) {
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    struct cli_verify_setup s;
    struct vt_claims claims;
    struct bench_figures f;
    memset(&f, 0, sizeof(f));
    enum vt_err err = cli_verify_setup(&s, &a, &d);
    /* One verification first, with the command's words for its errors: it fills the verifier's
     * caches, and evidence that does not verify stops here (exit status 1). */
    if (err == VT_OK) {
        err = cli_verify_bytes(&s, &claims, &d);
    }
    if (err == VT_OK) {
        err = bench_measure(&s, &o, &f, &d);
    }
    if (err != VT_OK) {
        fputs("{\"error\":", stdout);
        cli_print_error_object(stdout, err, &d);
        fputs("}\n", stdout);
        rc = cli_setup_exit_status(&s, err, &d);
    } else {
        bench_print(&s, &o, &f, claims.tee);
        rc = CLI_EXIT_OK;
    }
    cli_verify_cleanup(&s);
    return rc;
}
