/*
 * The C side of bench/bindings/bench.sh: warm vt_verify on one thread, over the public API
 * only, for each piece of evidence of bench/bindings/evidence.json (the evidence and times of
 * bench_dcap, bench_nitro and bench_snp), exactly as the Python and Node.js benchmarks call it
 * through their bindings: one verifier per piece of evidence, filled by one verification first,
 * then vt_verify in a loop for SECONDS.
 *
 * Each line: KIND LABEL WALL_RATE CPU_RATE, verifications per second of wall-clock time and per
 * second of the process's CPU time (CLOCK_PROCESS_CPUTIME_ID). On a machine shared with other
 * work the CPU-time rate is the one that compares across programs measured at different moments.
 *
 * Usage: bench_bindings FIXTURES_DIR SECONDS EVIDENCE_JSON
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <veritee/veritee.h>

static double now_of(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One row: evidence at `at`, with an optional collateral directory and VEK file. */
static int row(const char *kind, const char *label, const char *evidence_path,
               const char *collateral, const char *vek_path, vt_time at, double seconds)
{
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_buf ev, vek;
    vt_buf_init(&ev, VT_MAX_EVIDENCE_SIZE);
    vt_buf_init(&vek, VT_MAX_COLLATERAL_SIZE);
    struct vt_collateral_source *src = NULL;
    struct vt_verifier *v = NULL;
    struct vt_claims claims;
    int rc = 1;
    enum vt_err err = vt_file_read(evidence_path, &ev, &d);
    if (err == VT_OK && vek_path != NULL) {
        err = vt_file_read(vek_path, &vek, &d);
    }
    if (err == VT_OK && collateral != NULL) {
        err = vt_collateral_source_dir(collateral, &src, &d);
    }
    struct vt_verifier_config cfg = {.collateral = src};
    if (err == VT_OK) {
        err = vt_verifier_new(&cfg, &v, &d);
    }
    struct vt_verify_opts opts = {.now = at};
    if (vek_path != NULL) {
        opts.vek = vek.data;
        opts.vek_len = vek.len;
    }
    if (err == VT_OK) {
        err = vt_verify(v, ev.data, ev.len, &opts, &claims, &d); /* fills the caches */
    }
    if (err != VT_OK) {
        fprintf(stderr, "%s: %s: %s: %s\n", label, vt_err_name(err), d.check, d.detail);
        goto out;
    }
    unsigned long n = 0;
    double wall0 = now_of(CLOCK_MONOTONIC), cpu0 = now_of(CLOCK_PROCESS_CPUTIME_ID);
    double wall = wall0;
    while (wall - wall0 < seconds) {
        for (int i = 0; i < 50; i++) {
            err = vt_verify(v, ev.data, ev.len, &opts, &claims, &d);
            if (err != VT_OK) {
                fprintf(stderr, "%s: %s: %s\n", label, d.check, d.detail);
                goto out;
            }
        }
        n += 50;
        wall = now_of(CLOCK_MONOTONIC);
    }
    double cpu = now_of(CLOCK_PROCESS_CPUTIME_ID);
    printf("%s %s %.0f %.0f\n", kind, label, (double)n / (wall - wall0), (double)n / (cpu - cpu0));
    fflush(stdout);
    rc = 0;
out:
    vt_verifier_free(v);
    vt_collateral_source_free(src);
    vt_buf_cleanup(&vek);
    vt_buf_cleanup(&ev);
    return rc;
}

/* out = a "/" b; false when it does not fit. */
static bool join(char *out, size_t size, const char *a, const char *b)
{
    int n = snprintf(out, size, "%s/%s", a, b);
    return n >= 0 && (size_t)n < size;
}

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s FIXTURES_DIR SECONDS EVIDENCE_JSON\n", argv[0]);
        return 2;
    }
    const char *root = argv[1];
    char *end = NULL;
    double seconds = strtod(argv[2], &end);
    if (end == argv[2] || *end != '\0' || !(seconds > 0 && seconds <= 3600)) {
        fprintf(stderr, "SECONDS: %s is not in (0, 3600]\n", argv[2]);
        return 2;
    }
    json_error_t jerr;
    json_t *list = json_load_file(argv[3], 0, &jerr);
    if (list == NULL) {
        fprintf(stderr, "%s: line %d: %s\n", argv[3], jerr.line, jerr.text);
        return 2;
    }
    int rc = 0;
    char path[2048], dir[2048], vek[2048], sub[2048];
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(list, "dcap"), i, e)
    {
        if (!join(sub, sizeof(sub), "dcap", str(e, "set")) || !join(dir, sizeof(dir), root, sub) ||
            !join(path, sizeof(path), dir, "quote.bin")) {
            fprintf(stderr, "path too long\n");
            return 2;
        }
        rc |= row("dcap", str(e, "set"), path, dir, NULL,
                  (vt_time)json_integer_value(json_object_get(e, "at")), seconds);
    }
    json_array_foreach(json_object_get(list, "nitro"), i, e)
    {
        if (!join(sub, sizeof(sub), "nitro", str(e, "file")) ||
            !join(path, sizeof(path), root, sub)) {
            fprintf(stderr, "path too long\n");
            return 2;
        }
        rc |= row("nitro", str(e, "file"), path, NULL, NULL,
                  (vt_time)json_integer_value(json_object_get(e, "at")), seconds);
    }
    json_array_foreach(json_object_get(list, "snp"), i, e)
    {
        if (!join(sub, sizeof(sub), "snp", str(e, "report")) ||
            !join(path, sizeof(path), root, sub) || !join(sub, sizeof(sub), "snp", str(e, "vek")) ||
            !join(vek, sizeof(vek), root, sub)) {
            fprintf(stderr, "path too long\n");
            return 2;
        }
        rc |= row("snp", str(e, "report"), path, NULL, vek,
                  (vt_time)json_integer_value(json_object_get(e, "at")), seconds);
    }
    json_decref(list);
    return rc;
}
