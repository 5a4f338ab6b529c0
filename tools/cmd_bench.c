/* veritee bench: verifications per second of one piece of evidence on one thread, beside the
 * raw P-256 verification rate of the crypto backend measured in the same run. */
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
    "P-384 for Nitro), measured in the same run, divided by the two verifications a piece of\n"
    "evidence needs once its collateral and intermediate certificates are cached (DCAP: QE\n"
    "report and quote signature; Nitro: leaf certificate and COSE signature).\n"
    "Options are those of `veritee verify`, plus --seconds N.\n"
    "Exit status: 0 measured, 1 the evidence does not verify, 2 usage or I/O error.\n";

struct bench_ctx {
    struct cli_verify_setup *s;
    struct vt_claims claims;
};

static enum vt_err bench_once(void *ctx, struct vt_diag *d)
{
    struct bench_ctx *b = ctx;
    return cli_verify_once(b->s, &b->claims, d);
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
    bool nitro = false;
    enum vt_err err = cli_verify_setup(&s, &a, &d);
    if (err == VT_OK) {
        err = vt_bench_run(bench_once, &ctx, seconds, &quotes, &d);
    }
    if (err == VT_OK) {
        nitro = s.kind == VT_EVIDENCE_NITRO_DOC;
        err = nitro ? vt_bench_p384(seconds, &raw, &d) : vt_bench_p256(seconds, &raw, &d);
    }
    if (err != VT_OK) {
        fputs("{\"error\":", stdout);
        cli_print_error_object(stdout, err, &d);
        fputs("}\n", stdout);
        cli_verify_cleanup(&s);
        return cli_setup_exit_status(&s, err);
    }
    double floor = raw.per_second / 2.0;
    printf("{\"evidence_type\":\"%s\",\"tee\":\"%s\",\"verifications\":%llu,\"seconds\":%.3f,"
           "\"verifications_per_second\":%.1f,\"verify_algorithm\":\"%s\","
           "\"verify_backend\":\"%s\",\"verify_per_second\":%.1f,\"floor_per_second\":%.1f,"
           "\"ratio_to_floor\":%.3f}\n",
           vt_evidence_kind_name(s.kind), vt_tee_name(ctx.claims.tee),
           (unsigned long long)quotes.iterations, quotes.seconds, quotes.per_second,
           nitro ? "ECDSA P-384" : "ECDSA P-256", nitro ? vt_p384_backend() : vt_p256_backend(),
           raw.per_second, floor, quotes.per_second / floor);
    cli_verify_cleanup(&s);
    return CLI_EXIT_OK;
}
