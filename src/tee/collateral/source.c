/*
 * The collateral source interface (include/veritee/collateral.h) and its directory
 * implementation: one layout for DCAP and SEV-SNP, documented in docs/verify.md "Collateral
 * directory". It accepts the layouts `veritee verify --collateral DIR` and the broker's
 * `--collateral DIR` have always read: a DCAP set at the top of DIR or per TEE in DIR/sgx and
 * DIR/tdx, and the SEV-SNP files at the top.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <veritee/buf.h>
#include <veritee/limits.h>

#include "tee/collateral/source.h"

struct vt_collateral_source {
    const struct vt_collateral_source_ops *ops;
    void *ctx;
};

void vt_snp_collateral_cleanup(struct vt_snp_collateral *c)
{
    if (c == NULL) {
        return;
    }
    free(c->vek);
    free(c->chain);
    free(c->crl);
    memset(c, 0, sizeof(*c));
}

enum vt_err vt_collateral_source_new(const struct vt_collateral_source_ops *ops, void *ctx,
                                     struct vt_collateral_source **out, struct vt_diag *d)
{
    VT_ENSURE(ops != NULL && out != NULL, d, VT_E_ARG, "collateral.source", "NULL argument");
    struct vt_collateral_source *s = calloc(1, sizeof(*s));
    VT_ENSURE(s != NULL, d, VT_E_NOMEM, "collateral.source", "cannot allocate the source");
    s->ops = ops;
    s->ctx = ctx;
    *out = s;
    return VT_OK;
}

void vt_collateral_source_free(struct vt_collateral_source *s)
{
    if (s == NULL) {
        return;
    }
    if (s->ops->free != NULL) {
        s->ops->free(s->ctx);
    }
    free(s);
}

const char *vt_pck_ca_name(enum vt_pck_ca ca)
{
    return ca == VT_PCK_CA_PROCESSOR ? "processor"
                                     : (ca == VT_PCK_CA_PLATFORM ? "platform" : "unknown");
}

enum vt_err vt_collateral_fetch_dcap(struct vt_collateral_source *s,
                                     const struct vt_dcap_collateral_request *r,
                                     struct vt_dcap_collateral **out, struct vt_diag *d)
{
    VT_ENSURE(s != NULL && r != NULL && out != NULL, d, VT_E_ARG, "collateral.source",
              "NULL argument");
    *out = NULL;
    VT_ENSURE(s->ops->dcap != NULL, d, VT_E_COLLATERAL_MISSING, "collateral.source",
              "the %s collateral source serves no DCAP collateral",
              s->ops->name ? s->ops->name : "configured");
    return s->ops->dcap(s->ctx, r, out, d);
}

enum vt_err vt_collateral_fetch_snp(struct vt_collateral_source *s,
                                    const struct vt_snp_collateral_request *r,
                                    struct vt_snp_collateral *out, struct vt_diag *d)
{
    VT_ENSURE(s != NULL && r != NULL && out != NULL, d, VT_E_ARG, "collateral.source",
              "NULL argument");
    memset(out, 0, sizeof(*out));
    VT_ENSURE(s->ops->snp != NULL, d, VT_E_COLLATERAL_MISSING, "collateral.source",
              "the %s collateral source serves no SEV-SNP collateral",
              s->ops->name ? s->ops->name : "configured");
    enum vt_err err = s->ops->snp(s->ctx, r, out, d);
    if (err != VT_OK) {
        vt_snp_collateral_cleanup(out);
    }
    return err;
}

/* ---- the directory source ---- */

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 || errno != ENOENT;
}

/* DCAP: DIR itself when it holds tcb_info.json, or has no DIR/sgx|tdx directory; else that. */
static enum vt_err dir_dcap(void *ctx, const struct vt_dcap_collateral_request *req,
                            struct vt_dcap_collateral **out, struct vt_diag *d)
{
    const char *dir = ctx;
    char top[4096], sub[4096];
    int n = snprintf(top, sizeof(top), "%s/tcb_info.json", dir);
    int m = snprintf(sub, sizeof(sub), "%s/%s", dir, req->tee == VT_TEE_TDX ? "tdx" : "sgx");
    VT_ENSURE(n > 0 && (size_t)n < sizeof(top) && m > 0 && (size_t)m < sizeof(sub), d, VT_E_ARG,
              "collateral.dir", "path too long: %s", dir);
    if (!exists(top) && is_dir(sub)) {
        return vt_dcap_collateral_load_dir(sub, out, d);
    }
    return vt_dcap_collateral_load_dir(dir, out, d);
}

/* Read the first of names that exists into *p (heap); none: *p stays NULL. A file that exists
 * but cannot be read or is too large is an error naming it, never taken for an absent one. */
static enum vt_err read_first(const char *dir, const char *const *names, uint8_t **p, size_t *len,
                              struct vt_diag *d)
{
    for (size_t i = 0; names[i] != NULL; i++) {
        char path[4096];
        int n = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        VT_ENSURE(n > 0 && (size_t)n < sizeof(path), d, VT_E_ARG, "collateral.dir",
                  "path too long: %s", dir);
        if (!exists(path)) {
            continue;
        }
        struct vt_buf b;
        vt_buf_init(&b, VT_MAX_COLLATERAL_SIZE);
        enum vt_err err = vt_file_read(path, &b, d);
        if (err != VT_OK) {
            vt_buf_cleanup(&b);
            return err;
        }
        *len = b.len;
        *p = vt_buf_steal(&b, NULL);
        return VT_OK;
    }
    return VT_OK;
}

static enum vt_err dir_snp(void *ctx, const struct vt_snp_collateral_request *req,
                           struct vt_snp_collateral *out, struct vt_diag *d)
{
    static const char *const vek_names[] = {"vcek.der", "vcek.pem", "vlek.der", "vlek.pem", NULL};
    static const char *const chain_names[] = {"cert_chain.pem", "cert_chain", NULL};
    static const char *const crl_names[] = {"crl.der", "crl.pem", NULL};
    const char *dir = ctx;
    if (!req->have_vek) {
        VT_TRY(read_first(dir, vek_names, &out->vek, &out->vek_len, d));
    }
    VT_TRY(read_first(dir, chain_names, &out->chain, &out->chain_len, d));
    return read_first(dir, crl_names, &out->crl, &out->crl_len, d);
}

static const struct vt_collateral_source_ops dir_ops = {
    .dcap = dir_dcap,
    .snp = dir_snp,
    .free = free,
    .name = "directory",
};

enum vt_err vt_collateral_source_dir(const char *dir, struct vt_collateral_source **out,
                                     struct vt_diag *d)
{
    VT_ENSURE(dir != NULL && out != NULL, d, VT_E_ARG, "collateral.dir", "NULL argument");
    char *copy = strdup(dir);
    VT_ENSURE(copy != NULL, d, VT_E_NOMEM, "collateral.dir", "no memory");
    enum vt_err err = vt_collateral_source_new(&dir_ops, copy, out, d);
    if (err != VT_OK) {
        free(copy);
    }
    return err;
}
