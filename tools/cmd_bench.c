/* veritee bench: verifications per second of one piece of evidence on one thread, beside the
 * raw signature verification rate of the crypto backend measured in the same run. */
#include <string.h>

#include "cli.h"

static const char bench_usage[] =
    "Usage: veritee bench [--collateral DIR] [--at TIME] [--trust-anchor FILE]...\n"
    "                     [--expiry-only] [--nonce HEX] [--max-age S] [--seconds N] EVIDENCE\n"
    "\n"
    "Verify EVIDENCE repeatedly on one thread for N seconds (default 3) with the collateral\n"
    "loaded and verified once, and print one JSON line:\n"
    "{\"evidence_type\", \"tee\", \"verifications\", \"seconds\", \"verifications_per_second\",\n"
    " \"verify_algorithm\", \"verify_backend\", \"verify_per_second\", \"floor_per_second\",\n"
    " \"ratio_to_floor\"}\n"
    "The floor is the raw signature verification rate of the crypto backend (P-256 for DCAP,\n"
    "P-384 for Nitro and SEV-SNP), measured in the same run, divided by the verifications a\n"
    "piece of evidence needs once its collateral and intermediate certificates are cached\n"
    "(DCAP: QE report and quote signature; Nitro: leaf certificate and COSE signature; SEV-SNP:\n"
    "the report signature only, the VCEK/VLEK chain being cached).\n"
    "Options are those of `veritee verify`, plus --seconds N.\n"
    "Exit status: 0 measured, 1 the evidence does not verify, 2 usage or input problem (a bad\n"
    "option, a file that is missing, unreadable or too large).\n";

struct bench_ctx {
    struct cli_verify_setup *s;
    struct vt_claims claims;
};

static enum vt_err bench_once(void *ctx, struct vt_diag *d)
{
    struct bench_ctx *b = ctx;
    return cli_verify_bytes(b->s, &b->claims, d);
}

int cmd_bench(int argc, char **argv)
{
    struct cli_verify_args a;
    double seconds = 3.0;
    int rc = cli_parse_verify_args(argc, argv, &a, bench_usage, &seconds);
    if (rc != 0) {
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    struct cli_verify_setup s;
    struct bench_ctx ctx = {.s = &s};
    struct vt_bench_result quotes, raw;
    bool p384 = false;
    double per_evidence = 2.0;
    enum vt_err err = cli_verify_setup(&s, &a, &d);
    if (err == VT_OK) {
        err = vt_bench_run(bench_once, &ctx, seconds, &quotes, &d);
    }
    if (err == VT_OK) {
        bool snp = s.kind == VT_EVIDENCE_SNP_REPORT || s.kind == VT_EVIDENCE_AZURE_HCL;
        p384 = snp || s.kind == VT_EVIDENCE_NITRO_DOC;
        per_evidence = snp ? 1.0 : 2.0;
        err = p384 ? vt_bench_p384(seconds, &raw, &d) : vt_bench_p256(seconds, &raw, &d);
    }
    if (err != VT_OK) {
        fputs("{\"error\":", stdout);
        cli_print_error_object(stdout, err, &d);
        fputs("}\n", stdout);
        cli_verify_cleanup(&s);
        return cli_setup_exit_status(&s, err, &d);
    }
    double floor = raw.per_second / per_evidence;
    printf("{\"evidence_type\":\"%s\",\"tee\":\"%s\",\"verifications\":%llu,\"seconds\":%.3f,"
           "\"verifications_per_second\":%.1f,\"verify_algorithm\":\"%s\","
           "\"verify_backend\":\"%s\",\"verify_per_second\":%.1f,\"floor_per_second\":%.1f,"
           "\"ratio_to_floor\":%.3f}\n",
           vt_evidence_kind_name(s.kind), vt_tee_name(ctx.claims.tee),
           (unsigned long long)quotes.iterations, quotes.seconds, quotes.per_second,
           p384 ? "ECDSA P-384" : "ECDSA P-256", p384 ? vt_p384_backend() : vt_p256_backend(),
           raw.per_second, floor, quotes.per_second / floor);
    cli_verify_cleanup(&s);
    return CLI_EXIT_OK;
}
