/*
 * Collateral over HTTP for one piece of evidence, from a PCS-shaped service (a veritee cache, a
 * PCCS, Intel PCS) or AMD KDS: `veritee verify --collateral http://HOST:PORT`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collateral/collateral.h"
#include "net/http.h"

struct fetched {
    struct vt_http_response r;
    bool ok;
};

/* Where documents come from: an HTTP base URL, or a caller's function (an in-process cache). */
struct source {
    const char *base;
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

static enum vt_err fetch_dcap(const struct source *base, const uint8_t *ev, size_t len,
                              struct vt_http_collateral *out, struct vt_diag *d)
{
    struct vt_dcap_quote q;
    VT_TRY(vt_dcap_quote_parse(ev, len, &q, d));
    VT_ENSURE(q.cert_type == 5, d, VT_E_UNSUPPORTED_CERT_DATA, "quote.cert_data",
              "certification data type %u does not carry the PCK chain", q.cert_type);
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    VT_TRY(vt_cert_list_from_pem((const char *)q.cert_data, q.cert_data_len, &l, d));
    const uint8_t *ext;
    size_t ext_len;
    struct vt_sgx_pck_ext x;
    char ca[160] = "";
    enum vt_err err =
        l.n >= 2 && vt_cert_extension(l.certs[0], VT_SGX_EXT_OID, &ext, &ext_len) == VT_OK
            ? vt_sgx_pck_ext_parse(ext, ext_len, &x, d)
            : vt_fail(d, VT_E_CERT_EXTENSION, "pck", "no PCK certificate chain");
    if (err == VT_OK && vt_cert_subject_cn(l.certs[1], ca, sizeof(ca)) != VT_OK) {
        ca[0] = '\0';
    }
    vt_cert_list_cleanup(&l);
    VT_TRY(err);
    const char *tee = q.tee_type == VT_DCAP_TEE_TDX ? "tdx" : "sgx";
    char fmspc[13], path[160];
    vt_hex_encode(x.fmspc, 6, fmspc);
    struct fetched f[5];
    memset(f, 0, sizeof(f));
    snprintf(path, sizeof(path), "/%s/certification/v4/tcb?fmspc=%s", tee, fmspc);
    if ((err = get(base, path, false, &f[0], d)) == VT_OK) {
        snprintf(path, sizeof(path), "/%s/certification/v4/qe/identity", tee);
        err = get(base, path, false, &f[1], d);
    }
    if (err == VT_OK) {
        snprintf(path, sizeof(path), "/sgx/certification/v4/pckcrl?ca=%s&encoding=der",
                 strstr(ca, "Processor") ? "processor" : "platform");
        err = get(base, path, false, &f[2], d);
    }
    /* PCCS, THIM and veritee serve /rootcacrl; Intel serves the CRL at its certificates host. */
    if (err == VT_OK &&
        (err = get(base, "/sgx/certification/v4/rootcacrl", true, &f[3], d)) == VT_OK && !f[3].ok) {
        struct source alt = *base;
        if (base->base != NULL && strstr(base->base, "api.trustedservices.intel.com") != NULL) {
            alt.base = "https://certificates.trustedservices.intel.com";
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
        err = vt_dcap_collateral_new(&in, &out->dcap, d);
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

static enum vt_err fetch_snp(const struct source *base, const uint8_t *ev, size_t len,
                             bool have_vek, struct vt_http_collateral *out, struct vt_diag *d)
{
    const uint8_t *rep = ev;
    size_t rep_len = len;
    struct vt_hcl_report h;
    if (vt_evidence_detect(ev, len) == VT_EVIDENCE_AZURE_HCL) {
        VT_TRY(vt_hcl_report_parse(ev, len, &h, d));
        rep = h.snp_report;
        rep_len = VT_SNP_REPORT_SIZE;
    }
    struct vt_snp_report r;
    VT_TRY(vt_snp_report_parse(rep, rep_len, &r, d));
    bool vlek = ((r.key_info >> 2) & 7) == VT_SNP_KEY_VLEK;
    VT_ENSURE(!vlek || have_vek, d, VT_E_COLLATERAL_MISSING, "vlek",
              "the report is VLEK-signed and KDS does not serve VLEKs: pass --vcek with the "
              "VLEK from the host's certificate table");
    enum vt_snp_product only = vt_snp_report_product(&r);
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
            vt_snp_tcb_decode(r.reported_tcb_raw, (enum vt_snp_product)p, &t);
            char hw[129];
            vt_hex_encode(r.chip_id, p == VT_SNP_TURIN ? 8 : 64, hw);
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
            take(&f[0], &out->vcek, &out->vcek_len);
        }
        if (f[1].ok) {
            take(&f[1], &out->cert_chain, &out->cert_chain_len);
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

static enum vt_err fetch(const struct source *src, const uint8_t *evidence, size_t len,
                         bool have_vek, struct vt_http_collateral *out, struct vt_diag *d)
{
    memset(out, 0, sizeof(*out));
    switch (vt_evidence_detect(evidence, len)) {
    case VT_EVIDENCE_DCAP_QUOTE:
        return fetch_dcap(src, evidence, len, out, d);
    case VT_EVIDENCE_SNP_REPORT:
    case VT_EVIDENCE_AZURE_HCL:
        return fetch_snp(src, evidence, len, have_vek, out, d);
    default:
        return vt_fail(d, VT_E_UNSUPPORTED, "collateral",
                       "this evidence needs no collateral from a service");
    }
}

enum vt_err vt_http_collateral_fetch(const char *base_url, const uint8_t *evidence, size_t len,
                                     bool have_vek, struct vt_http_collateral *out,
                                     struct vt_diag *d)
{
    struct source src = {.base = base_url};
    return fetch(&src, evidence, len, have_vek, out, d);
}

enum vt_err vt_collateral_fetch_with(vt_collateral_get_fn fn, void *ctx, const uint8_t *evidence,
                                     size_t len, bool have_vek, struct vt_http_collateral *out,
                                     struct vt_diag *d)
{
    struct source src = {.fn = fn, .ctx = ctx};
    return fetch(&src, evidence, len, have_vek, out, d);
}

void vt_http_collateral_cleanup(struct vt_http_collateral *c)
{
    vt_dcap_collateral_free(c->dcap);
    free(c->vcek);
    free(c->cert_chain);
    free(c->crl);
    memset(c, 0, sizeof(*c));
}
