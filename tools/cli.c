/* Shared plumbing of the veritee subcommands: loading evidence, anchors and collateral, and
 * printing results as JSON. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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

int cli_setup_exit_status(const struct cli_verify_setup *s, enum vt_err err)
{
    if (err != VT_OK && s->usage_error) {
        return CLI_EXIT_USAGE;
    }
    return cli_exit_status(err);
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
    struct vt_buf b;
    vt_buf_init(&b, VT_MAX_COLLATERAL_SIZE);
    enum vt_err err = vt_file_read(path, &b, d);
    if (err == VT_OK) {
        err = vt_cert_list_from_bytes(b.data, b.len, l, d);
        if (err != VT_OK) {
            char inner[VT_DIAG_DETAIL_MAX];
            snprintf(inner, sizeof(inner), "%s", d->detail);
            err = vt_fail(d, VT_E_ARG, "trust_anchor", "%s: %s", path, inner);
        }
    }
    vt_buf_cleanup(&b);
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
        VT_TRY(vt_time_parse(a->at, strlen(a->at), &s->opts.now, d));
    }
    VT_TRY(parse_freshness(s, a, d));
    s->nitro_opts.now = s->opts.now;
    s->nitro_opts.time_mode = s->opts.time_mode;
    /* The embedded vendor roots are always trusted; --trust-anchor adds roots, never replaces. */
    VT_TRY(vt_intel_sgx_root_add(&s->anchors, d));
    VT_TRY(vt_aws_nitro_root_add(&s->anchors, d));
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
                  "a DCAP quote needs collateral: pass --collateral DIR");
        VT_TRY(vt_dcap_collateral_load_dir(a->collateral, &s->coll, d));
        return vt_dcap_verifier_new(&s->anchors, s->coll, &s->verifier, d);
    case VT_EVIDENCE_NITRO_DOC:
        return vt_nitro_verifier_new(&s->anchors, &s->nitro, d);
    default:
        return vt_fail(d, VT_E_UNKNOWN_EVIDENCE, "evidence.type",
                       "%s (%zu bytes) is not a recognised evidence format (supported: Intel "
                       "SGX/TDX DCAP quotes v3-v5, AWS Nitro Enclaves attestation documents)",
                       a->evidence, s->evidence.len);
    }
}

enum vt_err cli_verify_once(struct cli_verify_setup *s, struct vt_claims *claims, struct vt_diag *d)
{
    if (s->kind == VT_EVIDENCE_NITRO_DOC) {
        return vt_nitro_verify(s->nitro, s->evidence.data, s->evidence.len, &s->nitro_opts, claims,
                               d);
    }
    return vt_dcap_verify(s->verifier, s->evidence.data, s->evidence.len, &s->opts, claims, d);
}

void cli_verify_cleanup(struct cli_verify_setup *s)
{
    vt_nitro_verifier_free(s->nitro);
    vt_dcap_verifier_free(s->verifier);
    vt_dcap_collateral_free(s->coll);
    vt_cert_list_cleanup(&s->anchors);
    vt_buf_cleanup(&s->evidence);
}
