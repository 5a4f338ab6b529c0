/*
 * A program built outside the tree against an installed libveritee with nothing but
 * `pkg-config --cflags --libs veritee`: it verifies an AWS Nitro attestation document at a given
 * time (the embedded AWS root; Nitro needs no collateral source) and prints the outcome, or,
 * without arguments, only proves that it links and runs. Usage: consumer [DOCUMENT RFC3339-TIME]
 */
#include <stdio.h>
#include <string.h>

#include <veritee/veritee.h>

int main(int argc, char **argv)
{
    printf("%s\n", vt_strerror(VT_E_EXPIRED));
    /* attested TLS (veritee/atls.h) is part of the installed API */
    printf("%s %s\n", vt_atls_format_name(vt_atls_format_parse("cmw")), VT_ATLS_OID_BROKER);
    if (argc < 3) {
        return 0;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_buf doc;
    vt_buf_init(&doc, VT_MAX_EVIDENCE_SIZE);
    struct vt_verify_opts o = {0};
    struct vt_verifier_config cfg = {0};
    struct vt_verifier *v = NULL;
    struct vt_claims c;
    vt_claims_init(&c);
    enum vt_err err = vt_file_read(argv[1], &doc, &d);
    if (err == VT_OK) {
        err = vt_time_parse(argv[2], strlen(argv[2]), &o.now, &d);
    }
    if (err == VT_OK) {
        err = vt_verifier_new(&cfg, &v, &d);
    }
    if (err == VT_OK) {
        err = vt_verify(v, doc.data, doc.len, &o, &c, &d);
    }
    if (err != VT_OK) {
        printf("%s: %s: %s\n", vt_err_name(err), d.check, d.detail);
    } else {
        printf("verified: %s %s\n", vt_evidence_kind_name(vt_evidence_detect(doc.data, doc.len)),
               vt_tcb_status_name(c.status));
    }
    vt_verifier_free(v);
    vt_buf_cleanup(&doc);
    return err == VT_OK ? 0 : 1;
}
