/*
 * A DCAP collateral set: the documents Intel's PCS serves for one platform family, held
 * byte-exact and parsed once. Nothing is verified here; vt_dcap_verifier_new does that.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <veritee/buf.h>
#include <veritee/limits.h>

#include "tee/dcap/dcap.h"

void vt_dcap_collateral_free(struct vt_dcap_collateral *c)
{
    if (c == NULL) {
        return;
    }
    vt_tcb_info_cleanup(&c->tcb_info);
    vt_qe_identity_cleanup(&c->qe_identity);
    vt_cert_list_cleanup(&c->tcb_info_chain);
    vt_cert_list_cleanup(&c->qe_identity_chain);
    vt_cert_list_cleanup(&c->pck_crl_chain);
    vt_crl_free(c->pck_crl);
    vt_crl_free(c->root_ca_crl);
    free(c->tcb_info_raw);
    free(c->qe_identity_raw);
    free(c);
}

static enum vt_err copy_doc(const uint8_t *p, size_t n, uint8_t **out, const char *what,
                            struct vt_diag *d)
{
    VT_ENSURE(p != NULL && n > 0, d, VT_E_COLLATERAL_MISSING, what, "%s is empty or missing", what);
    VT_ENSURE(n <= VT_MAX_COLLATERAL_SIZE, d, VT_E_TOO_LARGE, what, "%s is %zu bytes; limit %u",
              what, n, VT_MAX_COLLATERAL_SIZE);
    *out = malloc(n);
    VT_ENSURE(*out != NULL, d, VT_E_NOMEM, what, "cannot allocate %zu bytes", n);
    memcpy(*out, p, n);
    return VT_OK;
}

/* Parse an issuer chain, relabelling a failure with the document it belongs to. */
static enum vt_err parse_chain(const uint8_t *p, size_t n, struct vt_cert_list *l, const char *what,
                               struct vt_diag *d)
{
    VT_ENSURE(p != NULL && n > 0, d, VT_E_COLLATERAL_MISSING, what, "%s is empty or missing", what);
    enum vt_err err = vt_cert_list_from_pem((const char *)p, n, l, d);
    if (err != VT_OK && d != NULL) {
        char inner[VT_DIAG_DETAIL_MAX];
        snprintf(inner, sizeof(inner), "%s", d->detail);
        return vt_fail(d, err, what, "%s: %s", what, inner);
    }
    return err;
}

static enum vt_err parse_crl(const uint8_t *p, size_t n, struct vt_crl **out, const char *what,
                             struct vt_diag *d)
{
    VT_ENSURE(p != NULL && n > 0, d, VT_E_COLLATERAL_MISSING, what, "%s is empty or missing", what);
    VT_ENSURE(n <= VT_MAX_CRL_SIZE, d, VT_E_TOO_LARGE, what, "%s is %zu bytes; limit %u", what, n,
              VT_MAX_CRL_SIZE);
    enum vt_err err = vt_crl_parse(p, n, out, d);
    if (err != VT_OK && d != NULL) {
        char inner[VT_DIAG_DETAIL_MAX];
        snprintf(inner, sizeof(inner), "%s", d->detail);
        return vt_fail(d, err, what, "%s: %s", what, inner);
    }
    return err;
}

enum vt_err vt_dcap_collateral_new(const struct vt_dcap_collateral_input *in,
                                   struct vt_dcap_collateral **out, struct vt_diag *d)
{
    VT_ENSURE(in != NULL && out != NULL, d, VT_E_ARG, "collateral", "NULL argument");
    struct vt_dcap_collateral *c = calloc(1, sizeof(*c));
    VT_ENSURE(c != NULL, d, VT_E_NOMEM, "collateral", "cannot allocate the collateral set");
    vt_cert_list_init(&c->tcb_info_chain);
    vt_cert_list_init(&c->qe_identity_chain);
    vt_cert_list_init(&c->pck_crl_chain);

    enum vt_err err;
    if ((err = copy_doc(in->tcb_info, in->tcb_info_len, &c->tcb_info_raw, "tcb_info", d)) ||
        (err = copy_doc(in->qe_identity, in->qe_identity_len, &c->qe_identity_raw, "qe_identity",
                        d))) {
        goto out_fail;
    }
    c->tcb_info_len = in->tcb_info_len;
    c->qe_identity_len = in->qe_identity_len;
    if ((err = vt_tcb_info_parse(c->tcb_info_raw, c->tcb_info_len, &c->tcb_info, d)) ||
        (err = vt_qe_identity_parse(c->qe_identity_raw, c->qe_identity_len, &c->qe_identity, d)) ||
        (err = parse_chain(in->tcb_info_chain, in->tcb_info_chain_len, &c->tcb_info_chain,
                           "tcb_info_issuer_chain", d)) ||
        (err = parse_chain(in->qe_identity_chain, in->qe_identity_chain_len, &c->qe_identity_chain,
                           "qe_identity_issuer_chain", d)) ||
        (err = parse_crl(in->pck_crl, in->pck_crl_len, &c->pck_crl, "pck_crl", d)) ||
        (err =
             parse_crl(in->root_ca_crl, in->root_ca_crl_len, &c->root_ca_crl, "root_ca_crl", d))) {
        goto out_fail;
    }
    if (in->pck_crl_chain != NULL && in->pck_crl_chain_len > 0 &&
        (err = parse_chain(in->pck_crl_chain, in->pck_crl_chain_len, &c->pck_crl_chain,
                           "pck_crl_issuer_chain", d))) {
        goto out_fail;
    }
    *out = c;
    return VT_OK;

out_fail:
    vt_dcap_collateral_free(c);
    return err;
}

/* Read dir/<name> for the first name that exists. Absent everywhere: VT_E_COLLATERAL_MISSING
 * unless optional (then an empty buffer). A name that exists but cannot be read (permissions, a
 * loop of symbolic links, a directory) or is too large fails with vt_file_read's error naming
 * it; it is never taken for an absent file. */
static enum vt_err read_first(const char *dir, const char *const *names, bool optional,
                              struct vt_buf *b, struct vt_diag *d)
{
    char path[4096];
    for (size_t i = 0; names[i] != NULL; i++) {
        int n = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        VT_ENSURE(n > 0 && (size_t)n < sizeof(path), d, VT_E_ARG, "collateral.dir",
                  "path too long: %s", dir);
        struct stat st;
        if (stat(path, &st) != 0 && errno == ENOENT) {
            continue;
        }
        return vt_file_read(path, b, d);
    }
    if (optional) {
        return VT_OK;
    }
    return vt_fail(d, VT_E_COLLATERAL_MISSING, names[0], "%s/%s not found", dir, names[0]);
}

enum vt_err vt_dcap_collateral_load_dir(const char *dir, struct vt_dcap_collateral **out,
                                        struct vt_diag *d)
{
    static const char *const tcb_names[] = {"tcb_info.json", NULL};
    static const char *const qe_names[] = {"qe_identity.json", NULL};
    static const char *const tcb_chain_names[] = {"tcb_info_issuer_chain.pem", NULL};
    static const char *const qe_chain_names[] = {"qe_identity_issuer_chain.pem", NULL};
    static const char *const pck_crl_names[] = {"pck_crl.der", "pck_crl.pem", "pck_crl.hex",
                                                "pck_crl", NULL};
    static const char *const pck_chain_names[] = {"pck_crl_issuer_chain.pem", NULL};
    static const char *const root_crl_names[] = {"root_ca_crl.der", "root_ca_crl.pem",
                                                 "root_ca_crl.hex", "root_ca_crl", NULL};
    struct vt_buf b[7];
    for (size_t i = 0; i < 7; i++) {
        vt_buf_init(&b[i], i >= 4 ? VT_MAX_CRL_SIZE : VT_MAX_COLLATERAL_SIZE);
    }
    enum vt_err err;
    if ((err = read_first(dir, tcb_names, false, &b[0], d)) ||
        (err = read_first(dir, qe_names, false, &b[1], d)) ||
        (err = read_first(dir, tcb_chain_names, false, &b[2], d)) ||
        (err = read_first(dir, qe_chain_names, false, &b[3], d)) ||
        (err = read_first(dir, pck_crl_names, false, &b[4], d)) ||
        (err = read_first(dir, pck_chain_names, true, &b[5], d)) ||
        (err = read_first(dir, root_crl_names, false, &b[6], d))) {
        goto out;
    }
    struct vt_dcap_collateral_input in = {
        .tcb_info = b[0].data,
        .tcb_info_len = b[0].len,
        .qe_identity = b[1].data,
        .qe_identity_len = b[1].len,
        .tcb_info_chain = b[2].data,
        .tcb_info_chain_len = b[2].len,
        .qe_identity_chain = b[3].data,
        .qe_identity_chain_len = b[3].len,
        .pck_crl = b[4].data,
        .pck_crl_len = b[4].len,
        .pck_crl_chain = b[5].data,
        .pck_crl_chain_len = b[5].len,
        .root_ca_crl = b[6].data,
        .root_ca_crl_len = b[6].len,
    };
    err = vt_dcap_collateral_new(&in, out, d);
out:
    for (size_t i = 0; i < 7; i++) {
        vt_buf_cleanup(&b[i]);
    }
    return err;
}
