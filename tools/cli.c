/* Shared plumbing of the veritee subcommands: loading evidence, anchors and collateral, and
 * printing results as JSON. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "azure/kv.h"
#include "azure/maa.h"
#include "cache/cache.h"
#include "cli.h"
#include "collateral/collateral.h"
#include "kms/kms.h"

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

/* Parse the options that only Nitro documents use (ignored for other evidence, as always). */
static enum vt_err parse_freshness(struct cli_verify_setup *s, const struct cli_verify_args *a,
                                   struct vt_diag *d)
{
    if (a->max_age != NULL) {
        char *end;
        long long v = strtoll(a->max_age, &end, 10);
        VT_ENSURE(*a->max_age != '\0' && *end == '\0' && v >= 0, d, VT_E_ARG, "max_age",
                  "--max-age takes a number of seconds >= 0, not \"%s\"", a->max_age);
        s->opts.has_max_age = true;
        s->opts.max_age = v;
    }
    if (a->nonce != NULL) {
        size_t n;
        enum vt_err err = vt_hex_decode(a->nonce, strlen(a->nonce), s->nonce, sizeof(s->nonce), &n);
        VT_ENSURE(err == VT_OK, d, err, "nonce", "--nonce takes up to %d bytes of hex",
                  VT_NITRO_MAX_BINDING);
        s->opts.nonce = s->nonce;
        s->opts.nonce_len = n;
    }
    return VT_OK;
}

/* Read an optional file into b; a NULL path leaves b empty. */
static enum vt_err read_optional(const char *path, struct vt_buf *b, struct vt_diag *d)
{
    return path != NULL ? vt_file_read(path, b, d) : VT_OK;
}

/* The SEV-SNP collateral given as files: --vcek, --cert-chain and --crl. Each one given replaces
 * what --collateral DIR|URL has (the verifier asks the source for the others). */
static enum vt_err load_snp_files(struct cli_verify_setup *s, const struct cli_verify_args *a,
                                  struct vt_diag *d)
{
    const char *given[3] = {a->vek, a->cert_chain, a->crl};
    for (size_t i = 0; i < 3; i++) {
        VT_TRY(read_optional(given[i], &s->snp_files[i], d));
    }
    if (a->vek != NULL) {
        s->opts.vek = s->snp_files[0].data;
        s->opts.vek_len = s->snp_files[0].len;
    }
    if (a->cert_chain != NULL) {
        s->opts.snp_chain = s->snp_files[1].data;
        s->opts.snp_chain_len = s->snp_files[1].len;
    }
    if (a->crl != NULL) {
        s->opts.snp_crl = s->snp_files[2].data;
        s->opts.snp_crl_len = s->snp_files[2].len;
    }
    return VT_OK;
}

/* The command line's words for errors the library words for any caller. */
static enum vt_err cli_words(const struct cli_verify_args *a, const struct cli_verify_setup *s,
                             enum vt_err err, struct vt_diag *d)
{
    if (d == NULL || err == VT_OK || d->code != err) {
        return err;
    }
    if (err == VT_E_UNKNOWN_EVIDENCE && strcmp(d->check, "evidence.type") == 0) {
        return vt_fail(
            d, VT_E_UNKNOWN_EVIDENCE, "evidence.type",
            "%s (%zu bytes) is not a recognised evidence format (supported: Intel "
            "SGX/TDX DCAP quotes v3-v5, AWS Nitro Enclaves attestation documents, AMD SEV-SNP "
            "reports v2-v5, Azure HCL reports)",
            a->evidence, s->evidence.len);
    }
    if (err == VT_E_COLLATERAL_MISSING && strcmp(d->check, "vcek") == 0 &&
        strncmp(d->detail, "an SEV-SNP report needs its VCEK", 32) == 0) {
        return vt_fail(d, VT_E_ARG, "vcek",
                       "an SEV-SNP report needs its VCEK or VLEK: pass --vcek FILE (or "
                       "--collateral DIR holding vcek.der)");
    }
    return err;
}

static enum vt_err setup(struct cli_verify_setup *s, const struct cli_verify_args *a,
                         struct vt_diag *d)
{
    enum vt_time_mode mode = a->expiry_only ? VT_TIME_EXPIRY_ONLY : VT_TIME_STRICT;
    s->opts.now = vt_time_now();
    s->usage_error = true;
    if (a->at != NULL) {
        VT_TRY(vt_time_parse_arg(a->at, strlen(a->at), &s->opts.now, d));
    }
    VT_TRY(parse_freshness(s, a, d));
    /* The embedded vendor roots are always trusted; --trust-anchor adds roots, never replaces. */
    for (size_t i = 0; i < a->n_anchors; i++) {
        VT_TRY(load_anchor(&s->anchors, a->anchors[i], d));
    }
    s->usage_error = false;
    if (a->evidence_bytes != NULL) {
        VT_TRY(vt_buf_append(&s->evidence, a->evidence_bytes->data, a->evidence_bytes->len));
    } else {
        VT_TRY(vt_file_read(a->evidence, &s->evidence, d));
    }
    VT_TRY(vt_evidence_decode_text(&s->evidence, d));
    /* Detected and parsed here, once. A parse error is reported after the problems with the
     * options of the evidence's kind, in the order `veritee verify` always checked them. */
    struct vt_diag parse_d;
    vt_diag_init(&parse_d);
    enum vt_err parse_err =
        vt_evidence_parse(s->evidence.data, s->evidence.len, &s->parsed, &parse_d);
    s->kind = s->parsed.kind;
    if (s->kind == VT_EVIDENCE_DCAP_QUOTE) {
        VT_ENSURE(a->collateral != NULL, d, VT_E_ARG, "collateral",
                  "a DCAP quote needs collateral: pass --collateral DIR or URL");
    }
    if (s->kind == VT_EVIDENCE_SNP_REPORT || s->kind == VT_EVIDENCE_AZURE_HCL) {
        VT_TRY(load_snp_files(s, a, d));
    }
    if (parse_err != VT_OK) {
        if (d != NULL) {
            *d = parse_d;
        }
        return parse_err;
    }
    if (a->collateral != NULL && s->kind != VT_EVIDENCE_NITRO_DOC) {
        VT_TRY(vt_collateral_source_open(a->collateral, &s->source, d));
    }
    s->config = (struct vt_verifier_config){
        .trust_anchors = &s->anchors,
        .collateral = s->source,
        .time_mode = mode,
        .collateral_ttl = VT_VERIFIER_TTL_FOREVER, /* one command: fetch once */
    };
    return vt_verifier_new(&s->config, &s->verifier, d);
}

enum vt_err cli_verify_setup(struct cli_verify_setup *s, const struct cli_verify_args *a,
                             struct vt_diag *d)
{
    memset(s, 0, sizeof(*s));
    vt_buf_init(&s->evidence, VT_MAX_EVIDENCE_SIZE);
    vt_cert_list_init(&s->anchors);
    for (size_t i = 0; i < 3; i++) {
        vt_buf_init(&s->snp_files[i], VT_MAX_COLLATERAL_SIZE);
    }
    s->args = a;
    return cli_words(a, s, setup(s, a, d), d);
}

enum vt_err cli_verify_once(struct cli_verify_setup *s, struct vt_claims *claims, struct vt_diag *d)
{
    return cli_words(s->args, s, vt_verify_evidence(s->verifier, &s->parsed, &s->opts, claims, d),
                     d);
}

enum vt_err cli_verify_bytes(struct cli_verify_setup *s, struct vt_claims *claims,
                             struct vt_diag *d)
{
    return cli_words(s->args, s,
                     vt_verify(s->verifier, s->evidence.data, s->evidence.len, &s->opts, claims, d),
                     d);
}

void cli_verify_cleanup(struct cli_verify_setup *s)
{
    vt_verifier_free(s->verifier);
    vt_collateral_source_free(s->source);
    for (size_t i = 0; i < 3; i++) {
        vt_buf_cleanup(&s->snp_files[i]);
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

char *cli_read_text(const char *path, struct vt_diag *d)
{
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    if (vt_file_read(path, &b, d) != VT_OK) {
        vt_buf_cleanup(&b);
        return NULL;
    }
    return (char *)vt_buf_steal(&b, NULL);
}

/*
 * --config FILE: "name = value" lines, one option each (the long option's name without "--";
 * "name" alone for a switch; '#' starts a comment). They are read as if given on the command
 * line before its own options, so the command line overrides the file (repeatable options such
 * as upstream and trust-anchor add up).
 */
void cli_config_free(struct cli_config_args *c)
{
    for (size_t i = 0; i < c->n_names; i++) {
        free(c->names[i]);
    }
    free(c->names);
    free(c->argv);
    free(c->text);
}

static char *trim(char *s)
{
    s += strspn(s, " \t");
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
    return s;
}

int cli_config_expand(const char *prog, int argc, char **argv, struct cli_config_args *c)
{
    memset(c, 0, sizeof(*c));
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            file = argv[++i];
        }
    }
    size_t lines = 0;
    if (file != NULL) {
        struct vt_diag d;
        vt_diag_init(&d);
        if ((c->text = cli_read_text(file, &d)) == NULL) {
            fprintf(stderr, "%s: --config %s: %s\n", prog, file, d.detail);
            return CLI_EXIT_USAGE;
        }
        for (const char *p = c->text; *p; p++) {
            lines += *p == '\n';
        }
    }
    c->argv = calloc((size_t)argc + 2 * (lines + 1) + 1, sizeof(char *));
    c->names = calloc(lines + 1, sizeof(char *));
    if (c->argv == NULL || c->names == NULL) {
        return CLI_EXIT_FAILED;
    }
    c->argv[c->argc++] = argv[0];
    int lineno = 0;
    for (char *line = c->text, *next; line != NULL && *line; line = next) {
        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        lineno++;
        char *hash = strchr(line, '#');
        if (hash != NULL) {
            *hash = '\0';
        }
        char *eq = strchr(line, '=');
        if (eq != NULL) {
            *eq = '\0';
        }
        char *name = trim(line);
        if (*name == '\0' && eq == NULL) {
            continue;
        }
        if (*name == '\0' || strcmp(name, "config") == 0 || strpbrk(name, " \t") != NULL) {
            fprintf(stderr, "%s: %s line %d: \"%s\" is not an option name\n", prog, file, lineno,
                    name);
            return CLI_EXIT_USAGE;
        }
        char *opt = malloc(strlen(name) + 3);
        if (opt == NULL) {
            return CLI_EXIT_FAILED;
        }
        snprintf(opt, strlen(name) + 3, "--%s", name);
        c->names[c->n_names++] = opt;
        c->argv[c->argc++] = opt;
        if (eq != NULL) {
            c->argv[c->argc++] = trim(eq + 1);
        }
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            i++;
        } else {
            c->argv[c->argc++] = argv[i];
        }
    }
    return 0;
}

const struct vt_sealed_service *const cli_sealed_services[] = {&vt_kms_sealed, &vt_kv_sealed,
                                                               &vt_maa_sealed, &vt_cache_sealed};
const size_t cli_n_sealed_services = sizeof(cli_sealed_services) / sizeof(cli_sealed_services[0]);
