/* Shared plumbing of the veritee subcommands: loading evidence, anchors and collateral, and
 * printing results as JSON. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "collateral/collateral.h"

static bool is_url(const char *s)
{
    return s != NULL && (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0);
}

/* --collateral http(s)://...: fetch what the evidence needs from a cache, PCCS, PCS or KDS. */
static enum vt_err fetch_http(struct cli_verify_setup *s, const struct cli_verify_args *a,
                              struct vt_diag *d)
{
    struct vt_http_collateral *h = calloc(1, sizeof(*h));
    VT_ENSURE(h != NULL, d, VT_E_NOMEM, "collateral", "no memory");
    s->http = h;
    return vt_http_collateral_fetch(a->collateral, s->evidence.data, s->evidence.len,
                                    a->vek != NULL, h, d);
}

int cli_exit_status(enum vt_err err)
{
    if (err == VT_OK) {
        return CLI_EXIT_OK;
    }
    const char *cat = vt_err_category(err);
    if (strcmp(cat, "usage") == 0 || strcmp(cat, "io") == 0 || err == VT_E_COLLATERAL_MISSING) {
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_FAILED;
}

bool cli_is_file_error(enum vt_err err, const struct vt_diag *d)
{
    /* vt_file_read's checks: "file.read" (cannot open or read, VT_E_IO) and "file.size" (larger
     * than the limit for that input, VT_E_TOO_LARGE). */
    return err != VT_OK && d != NULL && d->code == err &&
           (strcmp(d->check, "file.read") == 0 || strcmp(d->check, "file.size") == 0);
}

int cli_exit_status_diag(enum vt_err err, const struct vt_diag *d)
{
    if (err != VT_OK && d != NULL && d->code == err &&
        (strcmp(d->check, "schema.newer") == 0 || strcmp(d->check, "schema.pending") == 0)) {
        return CLI_EXIT_SCHEMA;
    }
    return cli_is_file_error(err, d) ? CLI_EXIT_USAGE : cli_exit_status(err);
}

int cli_setup_exit_status(const struct cli_verify_setup *s, enum vt_err err,
                          const struct vt_diag *d)
{
    if (err != VT_OK && s->usage_error) {
        return CLI_EXIT_USAGE;
    }
    return cli_exit_status_diag(err, d);
}

void cli_print_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20 || *p >= 0x7f) {
                fprintf(f, "\\u%04x", *p);
            } else {
                fputc(*p, f);
            }
        }
    }
    fputc('"', f);
}

void cli_print_error_object(FILE *f, enum vt_err err, const struct vt_diag *d)
{
    fputs("{\"code\":", f);
    cli_print_json_string(f, vt_err_name(err));
    fprintf(f, ",\"number\":%d,\"category\":", (int)err);
    cli_print_json_string(f, vt_err_category(err));
    fputs(",\"message\":", f);
    cli_print_json_string(f, vt_strerror(err));
    fputs(",\"check\":", f);
    cli_print_json_string(f, d->code == err ? d->check : "");
    fputs(",\"detail\":", f);
    cli_print_json_string(f, d->code == err ? d->detail : "");
    fputc('}', f);
}

static enum vt_err load_anchor(struct vt_cert_list *l, const char *path, struct vt_diag *d)
{
    enum vt_err err = vt_cert_list_from_file(path, l, d);
    if (err != VT_OK && !cli_is_file_error(err, d)) { /* a parse error: name the file */
        char inner[VT_DIAG_DETAIL_MAX];
        snprintf(inner, sizeof(inner), "%s", d->detail);
        err = vt_fail(d, VT_E_ARG, "trust_anchor", "%s: %s", path, inner);
    }
    return err;
}

/* Parse the options that only some evidence kinds use. */
static enum vt_err parse_freshness(struct cli_verify_setup *s, const struct cli_verify_args *a,
                                   struct vt_diag *d)
{
    s->nitro_opts.max_age = -1;
    if (a->max_age != NULL) {
        char *end;
        long long v = strtoll(a->max_age, &end, 10);
        VT_ENSURE(*a->max_age != '\0' && *end == '\0' && v >= 0, d, VT_E_ARG, "max_age",
                  "--max-age takes a number of seconds >= 0, not \"%s\"", a->max_age);
        s->nitro_opts.max_age = v;
    }
    if (a->nonce != NULL) {
        size_t n;
        enum vt_err err = vt_hex_decode(a->nonce, strlen(a->nonce), s->nonce, sizeof(s->nonce), &n);
        VT_ENSURE(err == VT_OK, d, err, "nonce", "--nonce takes up to %d bytes of hex",
                  VT_NITRO_MAX_BINDING);
        s->nitro_opts.nonce = s->nonce;
        s->nitro_opts.nonce_len = n;
    }
    return VT_OK;
}

/* Read dir/name into b if it exists: *found tells whether it does. A file that exists but cannot
 * be read (permissions, a loop of symbolic links, a directory) or is too large is an error that
 * names it, never taken for an absent file. */
static enum vt_err read_if_present(const char *dir, const char *name, struct vt_buf *b, bool *found,
                                   struct vt_diag *d)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    VT_ENSURE(n > 0 && (size_t)n < sizeof(path), d, VT_E_ARG, "collateral.dir", "path too long: %s",
              dir);
    struct stat st;
    *found = stat(path, &st) == 0 || errno != ENOENT;
    return *found ? vt_file_read(path, b, d) : VT_OK;
}

/* Read an optional file into b; a NULL path leaves b empty. */
static enum vt_err read_optional(const char *path, struct vt_buf *b, struct vt_diag *d)
{
    return path != NULL ? vt_file_read(path, b, d) : VT_OK;
}

/* The SNP collateral: --vcek, --cert-chain and --crl, or else the files of --collateral DIR
 * (vcek.der, vcek.pem, vlek.der or vlek.pem; cert_chain.pem; crl.der or crl.pem). */
static enum vt_err load_snp(struct cli_verify_setup *s, const struct cli_verify_args *a,
                            struct vt_diag *d)
{
    static const char *const names[3][4] = {
        {"vcek.der", "vcek.pem", "vlek.der", "vlek.pem"},
        {"cert_chain.pem", "cert_chain", NULL, NULL},
        {"crl.der", "crl.pem", NULL, NULL},
    };
    const char *given[3] = {a->vek, a->cert_chain, a->crl};
    const struct vt_http_collateral *h = NULL;
    if (is_url(a->collateral)) {
        VT_TRY(fetch_http(s, a, d));
        h = s->http;
    }
    for (size_t i = 0; i < 3; i++) {
        vt_buf_init(&s->snp_files[i], VT_MAX_COLLATERAL_SIZE);
        if (given[i] == NULL && h != NULL) {
            const uint8_t *p[3] = {h->vcek, h->cert_chain, h->crl};
            size_t n[3] = {h->vcek_len, h->cert_chain_len, h->crl_len};
            if (p[i] != NULL) {
                VT_TRY(vt_buf_append(&s->snp_files[i], p[i], n[i]));
            }
            continue;
        }
        if (given[i] == NULL && a->collateral != NULL) {
            for (size_t k = 0; k < 4 && names[i][k] != NULL && given[i] == NULL; k++) {
                bool found;
                VT_TRY(read_if_present(a->collateral, names[i][k], &s->snp_files[i], &found, d));
                given[i] = found ? "" : NULL;
            }
            continue;
        }
        VT_TRY(read_optional(given[i], &s->snp_files[i], d));
    }
    VT_ENSURE(s->snp_files[0].len > 0, d, VT_E_ARG, "vcek",
              "an SEV-SNP report needs its VCEK or VLEK: pass --vcek FILE (or --collateral DIR "
              "holding vcek.der)");
    s->snp_opts.vek = s->snp_files[0].data;
    s->snp_opts.vek_len = s->snp_files[0].len;
    s->snp_opts.chain = s->snp_files[1].data;
    s->snp_opts.chain_len = s->snp_files[1].len;
    s->snp_opts.crl = s->snp_files[2].data;
    s->snp_opts.crl_len = s->snp_files[2].len;
    return VT_OK;
}

enum vt_err cli_verify_setup(struct cli_verify_setup *s, const struct cli_verify_args *a,
                             struct vt_diag *d)
{
    memset(s, 0, sizeof(*s));
    vt_buf_init(&s->evidence, VT_MAX_EVIDENCE_SIZE);
    vt_cert_list_init(&s->anchors);
    s->opts.time_mode = a->expiry_only ? VT_TIME_EXPIRY_ONLY : VT_TIME_STRICT;
    s->opts.now = vt_time_now();
    s->usage_error = true;
    if (a->at != NULL) {
        VT_TRY(vt_time_parse_arg(a->at, strlen(a->at), &s->opts.now, d));
    }
    VT_TRY(parse_freshness(s, a, d));
    s->nitro_opts.now = s->opts.now;
    s->nitro_opts.time_mode = s->opts.time_mode;
    s->snp_opts.now = s->opts.now;
    s->snp_opts.time_mode = s->opts.time_mode;
    /* The embedded vendor roots are always trusted; --trust-anchor adds roots, never replaces. */
    VT_TRY(vt_intel_sgx_root_add(&s->anchors, d));
    VT_TRY(vt_aws_nitro_root_add(&s->anchors, d));
    VT_TRY(vt_amd_arks_add(&s->anchors, d));
    for (size_t i = 0; i < a->n_anchors; i++) {
        VT_TRY(load_anchor(&s->anchors, a->anchors[i], d));
    }
    s->usage_error = false;
    VT_TRY(vt_file_read(a->evidence, &s->evidence, d));
    VT_TRY(vt_evidence_decode_text(&s->evidence, d));
    s->kind = vt_evidence_detect(s->evidence.data, s->evidence.len);
    switch (s->kind) {
    case VT_EVIDENCE_DCAP_QUOTE:
        VT_ENSURE(a->collateral != NULL, d, VT_E_ARG, "collateral",
                  "a DCAP quote needs collateral: pass --collateral DIR or URL");
        if (is_url(a->collateral)) {
            VT_TRY(fetch_http(s, a, d));
            s->coll = ((struct vt_http_collateral *)s->http)->dcap;
            ((struct vt_http_collateral *)s->http)->dcap = NULL;
        } else {
            VT_TRY(vt_dcap_collateral_load_dir(a->collateral, &s->coll, d));
        }
        return vt_dcap_verifier_new(&s->anchors, s->coll, &s->verifier, d);
    case VT_EVIDENCE_NITRO_DOC:
        return vt_nitro_verifier_new(&s->anchors, &s->nitro, d);
    case VT_EVIDENCE_SNP_REPORT:
    case VT_EVIDENCE_AZURE_HCL:
        VT_TRY(load_snp(s, a, d));
        return vt_snp_verifier_new(&s->anchors, &s->snp, d);
    default:
        return vt_fail(
            d, VT_E_UNKNOWN_EVIDENCE, "evidence.type",
            "%s (%zu bytes) is not a recognised evidence format (supported: Intel "
            "SGX/TDX DCAP quotes v3-v5, AWS Nitro Enclaves attestation documents, AMD SEV-SNP "
            "reports v2-v5, Azure HCL reports)",
            a->evidence, s->evidence.len);
    }
}

enum vt_err cli_verify_once(struct cli_verify_setup *s, struct vt_claims *claims, struct vt_diag *d)
{
    if (s->kind == VT_EVIDENCE_SNP_REPORT || s->kind == VT_EVIDENCE_AZURE_HCL) {
        return vt_snp_verify(s->snp, s->evidence.data, s->evidence.len, &s->snp_opts, claims, d);
    }
    if (s->kind == VT_EVIDENCE_NITRO_DOC) {
        return vt_nitro_verify(s->nitro, s->evidence.data, s->evidence.len, &s->nitro_opts, claims,
                               d);
    }
    return vt_dcap_verify(s->verifier, s->evidence.data, s->evidence.len, &s->opts, claims, d);
}

void cli_verify_cleanup(struct cli_verify_setup *s)
{
    vt_nitro_verifier_free(s->nitro);
    vt_snp_verifier_free(s->snp);
    for (size_t i = 0; i < 3; i++) {
        vt_buf_cleanup(&s->snp_files[i]);
    }
    vt_dcap_verifier_free(s->verifier);
    vt_dcap_collateral_free(s->coll);
    if (s->http != NULL) {
        vt_http_collateral_cleanup(s->http);
        free(s->http);
    }
    vt_cert_list_cleanup(&s->anchors);
    vt_buf_cleanup(&s->evidence);
}

/* 64 hex characters (surrounding whitespace ignored) from a file or VERITEE_MASTER_KEY. */
enum vt_err cli_read_master_key(const char *file, uint8_t key[32], struct vt_diag *d)
{
    struct vt_buf b;
    vt_buf_init(&b, 4096);
    const char *env = getenv("VERITEE_MASTER_KEY");
    enum vt_err err = VT_OK;
    if (file != NULL) {
        err = vt_file_read(file, &b, d);
    } else if (env != NULL) {
        err = vt_buf_append(&b, env, strlen(env));
    } else {
        err = vt_fail(d, VT_E_ARG, "master_key",
                      "no master key: pass --master-key-file FILE or set VERITEE_MASTER_KEY");
    }
    if (err == VT_OK) {
        const char *s = (const char *)b.data;
        size_t n = b.len;
        while (n > 0 && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')) {
            s++;
            n--;
        }
        while (n > 0 &&
               (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == '\t')) {
            n--;
        }
        if (n != 64 || vt_hex_decode_exact(s, n, key, 32) != VT_OK) {
            err = vt_fail(d, VT_E_ARG, "master_key",
                          "the master key must be 64 hex characters (256 bits)");
        }
    }
    vt_wipe(b.data, b.len);
    vt_buf_cleanup(&b);
    return err;
}
