/*
 * Collateral sources over HTTP (src/collateral/collateral.h): a PCS-shaped service (a veritee
 * cache, a PCCS, Intel PCS) or AMD KDS (`veritee verify --collateral http://HOST:PORT`, the
 * broker's --collateral URL), or a function answering the same paths (the in-process cache of
 * `veritee serve`). Requests carry the identifiers the verifier took from the parsed evidence;
 * nothing here parses evidence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collateral/collateral.h"
#include "net/http_client.h"

struct fetched {
    struct vt_http_response r;
    bool ok;
};

/* Where documents come from: an HTTP base URL, or a caller's function (an in-process cache). */
struct source {
    char *base; /* owned */
    vt_collateral_get_fn fn;
    void *ctx;
};

/* GET path; VT_OK only for a 200. missing_ok: a 404 leaves f->ok false and is VT_OK. */
static enum vt_err get(const struct source *src, const char *path, bool missing_ok,
                       struct fetched *f, struct vt_diag *d)
{
    char url[1024];
    f->ok = false;
    if (src->fn != NULL) {
        snprintf(url, sizeof(url), "%s", path);
        VT_TRY(src->fn(src->ctx, path, &f->r, d));
    } else {
        size_t bl = strlen(src->base);
        while (bl > 0 && src->base[bl - 1] == '/') {
            bl--;
        }
        snprintf(url, sizeof(url), "%.*s%s", (int)bl, src->base, path);
        struct vt_http_request_opts o = {.timeout_ms = 15000};
        VT_TRY(vt_http_request(url, &o, &f->r, d));
    }
    if (f->r.status == 200) {
        f->ok = true;
        return VT_OK;
    }
    if (missing_ok && (f->r.status == 404 || f->r.status == 410)) {
        return VT_OK;
    }
    return vt_fail(d, f->r.status == 404 ? VT_E_COLLATERAL_MISSING : VT_E_UPSTREAM, "collateral",
                   "GET %s: HTTP %ld", url, f->r.status);
}

static const char *header2(const struct fetched *f, const char *a, const char *b)
{
    const char *v = vt_http_response_header(&f->r, a);
    return v != NULL ? v : (b ? vt_http_response_header(&f->r, b) : NULL);
}

static enum vt_err fetch_dcap(void *ctx, const struct vt_dcap_collateral_request *req,
                              struct vt_dcap_collateral **out, struct vt_diag *d)
{
    const struct source *base = ctx;
    VT_ENSURE(req->platform_known, d, VT_E_CERT_EXTENSION, "collateral.request",
              "the quote's PCK certificate chain gives no FMSPC to fetch the TCB info by");
    enum vt_err err = VT_OK;
    const char *tee = req->tee == VT_TEE_TDX ? "tdx" : "sgx";
    char fmspc[13], path[160];
    vt_hex_encode(req->fmspc, 6, fmspc);
    struct fetched f[5];
    memset(f, 0, sizeof(f));
    snprintf(path, sizeof(path), "/%s/certification/v4/tcb?fmspc=%s", tee, fmspc);
    if ((err = get(base, path, false, &f[0], d)) == VT_OK) {
        snprintf(path, sizeof(path), "/%s/certification/v4/qe/identity", tee);
        err = get(base, path, false, &f[1], d);
    }
    if (err == VT_OK) {
        snprintf(path, sizeof(path), "/sgx/certification/v4/pckcrl?ca=%s&encoding=der",
                 vt_pck_ca_name(req->ca));
        err = get(base, path, false, &f[2], d);
    }
    /* PCCS, THIM and veritee serve /rootcacrl; Intel serves the CRL at its certificates host. */
    if (err == VT_OK &&
        (err = get(base, "/sgx/certification/v4/rootcacrl", true, &f[3], d)) == VT_OK && !f[3].ok) {
        struct source alt = *base;
        char intel[] = "https://certificates.trustedservices.intel.com";
        if (base->base != NULL && strstr(base->base, "api.trustedservices.intel.com") != NULL) {
            alt.base = intel;
        }
        err = get(&alt, "/IntelSGXRootCA.der", false, &f[4], d);
    }
    if (err == VT_OK) {
        const struct fetched *root = f[3].ok ? &f[3] : &f[4];
        const char *c0 = header2(&f[0], "TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain");
        const char *c1 =
            header2(&f[1], "SGX-Enclave-Identity-Issuer-Chain", "SGX-QE-Identity-Issuer-Chain");
        const char *c2 = header2(&f[2], "SGX-PCK-CRL-Issuer-Chain", NULL);
        struct vt_dcap_collateral_input in = {
            f[0].r.body.data,    f[0].r.body.len,     f[1].r.body.data,    f[1].r.body.len,
            (const uint8_t *)c0, c0 ? strlen(c0) : 0, (const uint8_t *)c1, c1 ? strlen(c1) : 0,
            f[2].r.body.data,    f[2].r.body.len,     (const uint8_t *)c2, c2 ? strlen(c2) : 0,
            root->r.body.data,   root->r.body.len,
        };
        err = vt_dcap_collateral_new(&in, out, d);
    }
    for (size_t i = 0; i < 5; i++) {
        vt_http_response_cleanup(&f[i].r);
    }
    return err;
}

static void take(struct fetched *f, uint8_t **p, size_t *n)
{
    *n = f->r.body.len;
    *p = vt_buf_steal(&f->r.body, NULL);
}

static enum vt_err fetch_snp(void *ctx, const struct vt_snp_collateral_request *req,
                             struct vt_snp_collateral *out, struct vt_diag *d)
{
    const struct source *base = ctx;
    bool vlek = req->vlek, have_vek = req->have_vek;
    VT_ENSURE(!vlek || have_vek, d, VT_E_COLLATERAL_MISSING, "vlek",
              "the report is VLEK-signed and KDS does not serve VLEKs: pass --vcek with the "
              "VLEK from the host's certificate table");
    enum vt_snp_product only = req->product;
    enum vt_err err = VT_E_COLLATERAL_MISSING;
    struct fetched f[3];
    memset(f, 0, sizeof(f));
    /* v2 reports do not name their product: try each one in turn (the VCEK then names it). */
    for (int p = VT_SNP_MILAN; p <= VT_SNP_TURIN && !f[0].ok && !(have_vek && f[1].ok); p++) {
        if (only != VT_SNP_UNKNOWN && p != (int)only) {
            continue;
        }
        const char *prod = vt_snp_product_name((enum vt_snp_product)p);
        char path[400];
        if (!have_vek) {
            struct vt_snp_tcb t;
            vt_snp_tcb_decode(req->reported_tcb, (enum vt_snp_product)p, &t);
            char hw[129];
            vt_hex_encode(req->chip_id, p == VT_SNP_TURIN ? 8 : 64, hw);
            int n = snprintf(path, sizeof(path),
                             "/vcek/v1/%s/%s?blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u", prod, hw,
                             t.bootloader, t.tee, t.snp, t.microcode);
            if (p == VT_SNP_TURIN && n > 0) {
                snprintf(path + n, sizeof(path) - (size_t)n, "&fmcSPL=%u", t.fmc);
            }
            vt_http_response_cleanup(&f[0].r);
            if ((err = get(base, path, true, &f[0], d)) != VT_OK) {
                break;
            }
            if (!f[0].ok) {
                err = vt_fail(d, VT_E_COLLATERAL_MISSING, "vcek", "no VCEK for this report at %s",
                              base->base ? base->base : "the in-process cache");
                continue;
            }
        }
        const char *kind = vlek ? "vlek" : "vcek";
        snprintf(path, sizeof(path), "/%s/v1/%s/cert_chain", kind, prod);
        vt_http_response_cleanup(&f[1].r);
        if ((err = get(base, path, have_vek, &f[1], d)) != VT_OK) {
            break;
        }
        snprintf(path, sizeof(path), "/%s/v1/%s/crl", kind, prod);
        err = get(base, path, true, &f[2], d);
        break;
    }
    if (err == VT_OK) {
        if (f[0].ok) {
            take(&f[0], &out->vek, &out->vek_len);
        }
        if (f[1].ok) {
            take(&f[1], &out->chain, &out->chain_len);
        }
        if (f[2].ok) {
            take(&f[2], &out->crl, &out->crl_len);
        }
    }
    for (size_t i = 0; i < 3; i++) {
        vt_http_response_cleanup(&f[i].r);
    }
    return err;
}

static void source_free(void *ctx)
{
    struct source *s = ctx;
    if (s != NULL) {
        free(s->base);
        free(s);
    }
}

static const struct vt_collateral_source_ops http_ops = {
    .dcap = fetch_dcap,
    .snp = fetch_snp,
    .free = source_free,
    .name = "http",
};

static const struct vt_collateral_source_ops fn_ops = {
    .dcap = fetch_dcap,
    .snp = fetch_snp,
    .free = source_free,
    .name = "cache",
};

static enum vt_err source_new(const struct vt_collateral_source_ops *ops, struct source *s,
                              struct vt_collateral_source **out, struct vt_diag *d)
{
    enum vt_err err = vt_collateral_source_new(ops, s, out, d);
    if (err != VT_OK) {
        source_free(s);
    }
    return err;
}

enum vt_err vt_collateral_source_http(const char *base_url, struct vt_collateral_source **out,
                                      struct vt_diag *d)
{
    VT_ENSURE(base_url != NULL && out != NULL, d, VT_E_ARG, "collateral.url", "NULL argument");
    struct source *s = calloc(1, sizeof(*s));
    if (s == NULL || (s->base = strdup(base_url)) == NULL) {
        free(s);
        return vt_fail(d, VT_E_NOMEM, "collateral.url", "no memory");
    }
    return source_new(&http_ops, s, out, d);
}

enum vt_err vt_collateral_source_fn(vt_collateral_get_fn fn, void *ctx,
                                    struct vt_collateral_source **out, struct vt_diag *d)
{
    VT_ENSURE(fn != NULL && out != NULL, d, VT_E_ARG, "collateral.source", "NULL argument");
    struct source *s = calloc(1, sizeof(*s));
    VT_ENSURE(s != NULL, d, VT_E_NOMEM, "collateral.source", "no memory");
    s->fn = fn;
    s->ctx = ctx;
    return source_new(&fn_ops, s, out, d);
}

enum vt_err vt_collateral_source_open(const char *arg, struct vt_collateral_source **out,
                                      struct vt_diag *d)
{
    VT_ENSURE(arg != NULL && out != NULL, d, VT_E_ARG, "collateral", "NULL argument");
    if (strncmp(arg, "http://", 7) == 0 || strncmp(arg, "https://", 8) == 0) {
        return vt_collateral_source_http(arg, out, d);
    }
    return vt_collateral_source_dir(arg, out, d);
}
