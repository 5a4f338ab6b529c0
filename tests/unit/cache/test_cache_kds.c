/*
 * The cache's AMD KDS routes over real HTTP, driven with the exact paths and queries the clients
 * send (their URL builders, restated here), against an upstream in this process that answers like
 * KDS:
 *  - go-sev-guest, kds/kds.go at af1c107 (2025-11-19): ProductCertChainURL (/vcek or /vlek by the
 *    report's signer), CrlLinkByKey / CrlLinkByRole (the ASK's and the ASVK's CRL distribution
 *    point), VCEKCertURL (hex of the whole 64-byte CHIP_ID, the TCB decomposed in Milan's layout
 *    for every product, no fmcSPL), VLEKCertURL (/vlek/v1/{product}/cert?..., which needs the
 *    cloud provider's credentials at KDS);
 *  - snpguest, src/fetch.rs at d3a2aed: request_ca_kds, request_crl_kds, request_vcek_kds (Turin:
 *    the first 8 bytes of CHIP_ID and fmcSPL first; SPLs zero-padded to two digits).
 * What KDS accepts per product (AMD 57230 ch. 4; docs/cache.md, "KDS"): Milan and Genoa take the
 * whole CHIP_ID (128 hex characters), Turin the first 8 bytes (16) and fmcSPL; KDS answers 404 to
 * the 64-byte CHIP_ID under Turin, so go-sev-guest's Turin URL gets the same 404 here, without an
 * upstream request.
 *
 * No real KDS crl, and no Turin or Genoa VLEK chain with a VCEK of the same PKI, is recorded in the
 * fixtures: the certificate chains, CRLs and VCEKs here come from the test PKI
 * (src/attester/sim/snp_sim.c), trusted through the cache's AMD anchors. The recorded real chains
 * and VCEKs are replayed by tests/integration/cache_fixtures.sh.
 */
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache/cache.h"
#include "net/http.h"
#include "snp_sim.h"

#define T0 1771600000
#define NB (T0 - 86400 * 365)
#define NA (T0 + 86400 * 3650)

struct product {
    enum vt_snp_product p;
    struct vt_ssim_pki pki;
    char *chain[2]; /* [vcek, vlek]: ASK (ASVK) then ARK, PEM */
    size_t chain_len[2];
    uint8_t *crl[2]; /* DER, signed by the ARK */
    size_t crl_len[2];
    struct vt_ssim_vek_opts o;
    uint8_t *vcek;
    size_t vcek_len;
    struct vt_ssim_report rep;
};

struct fx {
    char dir[64];
    struct product prod[3];
    struct vt_cert_list arks;
    struct vt_http_server *upstream, *srv;
    struct vt_cache *c;
    char url[64], up_url[64];
    pthread_mutex_t lock;
    char log[64][256]; /* upstream requests (path only) */
    size_t n_log;
    bool wrong_crl; /* the upstream answers Milan's crl with Genoa's */
};

static struct product *product_of(struct fx *f, const char *name)
{
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(name, vt_snp_product_name(f->prod[i].p)) == 0) {
            return &f->prod[i];
        }
    }
    return NULL;
}

static bool spl_is(const struct vt_http_req *req, const char *name, int want)
{
    const char *v = vt_http_req_arg(req, name);
    return v != NULL && strtol(v, NULL, 10) == want;
}

/* An upstream shaped like KDS: cert_chain (PEM), crl (DER), VCEKs (DER) by hwID and SPLs. */
static void upstream_handler(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    struct fx *f = ctx;
    const char *path = vt_http_req_path(req);
    pthread_mutex_lock(&f->lock);
    if (f->n_log < 64) {
        snprintf(f->log[f->n_log++], sizeof(f->log[0]), "%s", path);
    }
    pthread_mutex_unlock(&f->lock);
    char kind[8], name[16], what[160];
    vt_http_resp_status(resp, 404, NULL);
    if (sscanf(path, "/%4[a-z]/v1/%15[A-Za-z]/%159s", kind, name, what) != 3) {
        return;
    }
    struct product *p = product_of(f, name);
    int vlek = strcmp(kind, "vlek") == 0;
    if (p == NULL || (!vlek && strcmp(kind, "vcek") != 0)) {
        return;
    }
    if (strcmp(what, "cert_chain") == 0) {
        vt_http_resp_status(resp, 200, "application/x-pem-file");
        assert_true(vt_http_resp_body(resp, p->chain[vlek], p->chain_len[vlek]));
    } else if (strcmp(what, "crl") == 0) {
        if (f->wrong_crl && p->p == VT_SNP_MILAN) {
            p = product_of(f, "Genoa");
        }
        vt_http_resp_status(resp, 200, "application/pkix-crl");
        assert_true(vt_http_resp_body(resp, p->crl[vlek], p->crl_len[vlek]));
    } else if (!vlek) {
        char hw[129];
        vt_hex_encode(p->o.hwid, p->o.hwid_len, hw);
        bool turin = p->p == VT_SNP_TURIN;
        if (strcmp(what, hw) == 0 && spl_is(req, "blSPL", p->o.bl) &&
            spl_is(req, "teeSPL", p->o.tee) && spl_is(req, "snpSPL", p->o.snp) &&
            spl_is(req, "ucodeSPL", p->o.ucode) && (!turin || spl_is(req, "fmcSPL", p->o.fmc))) {
            vt_http_resp_status(resp, 200, "application/x-x509-ca-cert");
            assert_true(vt_http_resp_body(resp, p->vcek, p->vcek_len));
        }
    }
}

static void add_ark(struct fx *f, X509 *ark)
{
    size_t n;
    uint8_t *der = NULL;
    assert_int_equal(vt_ssim_der(ark, &der, &n, NULL), VT_OK);
    struct vt_cert *c = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cert_from_der(der, n, &c, &d), VT_OK);
    assert_int_equal(vt_cert_list_add(&f->arks, c), VT_OK);
    vt_cert_free(c);
    free(der);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    pthread_mutex_init(&f->lock, NULL);
    vt_cert_list_init(&f->arks);
    const enum vt_snp_product ps[3] = {VT_SNP_MILAN, VT_SNP_GENOA, VT_SNP_TURIN};
    for (size_t i = 0; i < 3; i++) {
        struct product *p = &f->prod[i];
        p->p = ps[i];
        assert_int_equal(vt_ssim_pki_init(&p->pki, ps[i], NB, NA, NULL), VT_OK);
        X509 *vc[2] = {p->pki.ask, p->pki.ark}, *vl[2] = {p->pki.asvk, p->pki.ark};
        assert_int_equal(vt_ssim_pem(vc, 2, &p->chain[0], &p->chain_len[0], NULL), VT_OK);
        assert_int_equal(vt_ssim_pem(vl, 2, &p->chain[1], &p->chain_len[1], NULL), VT_OK);
        const long revoked[2] = {0x7001 + (long)i, 0x7101 + (long)i};
        assert_int_equal(vt_ssim_crl(&p->pki, p->pki.ark_key, &revoked[0], 1, T0 - 3600,
                                     T0 + 7 * 86400, &p->crl[0], &p->crl_len[0], NULL),
                         VT_OK);
        assert_int_equal(vt_ssim_crl(&p->pki, p->pki.ark_key, &revoked[1], 1, T0 - 3600,
                                     T0 + 7 * 86400, &p->crl[1], &p->crl_len[1], NULL),
                         VT_OK);
        vt_ssim_vek_defaults(&p->pki, &p->o, false, NB, NA);
        EVP_PKEY *k = NULL;
        X509 *vcek = NULL;
        assert_int_equal(vt_ssim_vek(&p->pki, &p->o, &vcek, &k, NULL), VT_OK);
        assert_int_equal(vt_ssim_der(vcek, &p->vcek, &p->vcek_len, NULL), VT_OK);
        vt_ssim_report_defaults(&p->pki, &p->o, &p->rep);
        X509_free(vcek);
        EVP_PKEY_free(k);
        add_ark(f, p->pki.ark);
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/vt-cache-kds-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_http_server_opts uo = {.host = "127.0.0.1", .threads = 2};
    assert_int_equal(vt_http_server_start(&uo, upstream_handler, f, &f->upstream, &d), VT_OK);
    snprintf(f->up_url, sizeof(f->up_url), "http://127.0.0.1:%u", vt_http_server_port(f->upstream));
    char db[128];
    snprintf(db, sizeof(db), "sqlite:%s/cache.db", f->dir);
    struct vt_cache_config cfg = {
        .db = db, .mode = VT_CACHE_LAZY, .clock_base = T0, .amd_anchors = &f->arks};
    cfg.upstreams[cfg.n_upstreams++] = f->up_url;
    assert_int_equal(vt_cache_open(&cfg, &f->c, &d), VT_OK);
    struct vt_http_server_opts so = {
        .host = "127.0.0.1", .threads = 2, .route = vt_cache_http_route};
    assert_int_equal(vt_http_server_start(&so, vt_cache_http_handler, f->c, &f->srv, &d), VT_OK);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u", vt_http_server_port(f->srv));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    vt_http_server_stop(f->srv);
    vt_http_server_stop(f->upstream);
    vt_cache_close(f->c);
    for (size_t i = 0; i < 3; i++) {
        struct product *p = &f->prod[i];
        for (size_t k = 0; k < 2; k++) {
            free(p->chain[k]);
            free(p->crl[k]);
        }
        free(p->vcek);
        vt_ssim_pki_cleanup(&p->pki);
    }
    vt_cert_list_cleanup(&f->arks);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    pthread_mutex_destroy(&f->lock);
    free(f);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    vt_ssim_free_keys();
    return 0;
}

struct reply {
    long status;
    char ctype[64];
    char error_message[320];
    uint8_t *body;
    size_t len;
};

/* GET a path and query from the cache, as the client sends it. */
static void get(struct fx *f, const char *path_query, struct reply *out)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", f->url, path_query);
    struct vt_http_request_opts o = {.timeout_ms = 60000};
    struct vt_http_response r;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_http_request(url, &o, &r, &d), VT_OK);
    memset(out, 0, sizeof(*out));
    out->status = r.status;
    const char *ct = vt_http_response_header(&r, "Content-Type");
    const char *em = vt_http_response_header(&r, "Error-Message");
    snprintf(out->ctype, sizeof(out->ctype), "%s", ct ? ct : "");
    snprintf(out->error_message, sizeof(out->error_message), "%s", em ? em : "");
    out->len = r.body.len;
    out->body = malloc(r.body.len + 1);
    assert_non_null(out->body);
    memcpy(out->body, r.body.data ? r.body.data : (const uint8_t *)"", r.body.len);
    vt_http_response_cleanup(&r);
}

static size_t upstream_count(struct fx *f)
{
    pthread_mutex_lock(&f->lock);
    size_t n = f->n_log;
    pthread_mutex_unlock(&f->lock);
    return n;
}

/* Expect a 200 with exactly this body and content type. */
static void expect_doc(struct fx *f, const char *path_query, const void *body, size_t len,
                       const char *ctype)
{
    struct reply r;
    get(f, path_query, &r);
    if (r.status != 200) {
        fail_msg("%s: %ld (%s)", path_query, r.status, r.error_message);
    }
    assert_string_equal(r.ctype, ctype);
    assert_int_equal(r.len, len);
    assert_memory_equal(r.body, body, len);
    free(r.body);
}

/* The TCB parts of a TCB_VERSION (little-endian u64) per product layout: Milan and Genoa bl, tee,
 * 4 reserved, snp, ucode; Turin fmc, bl, tee, snp, 3 reserved, ucode. */
static unsigned byte_of(uint64_t tcb, unsigned i)
{
    return (unsigned)((tcb >> (8 * i)) & 0xff);
}

/* go-sev-guest's VCEKCertURL(productLine, report.ChipId, report.ReportedTcb): the whole CHIP_ID
 * in lowercase hex, DecomposeTCBVersion (Milan's layout for every product), "%d", no fmcSPL. */
static void gosevguest_vcek_url(const struct product *p, char *out, size_t cap)
{
    char hw[129];
    vt_hex_encode(p->rep.chip_id, 64, hw);
    uint64_t t = p->rep.reported_tcb;
    snprintf(out, cap, "/vcek/v1/%s/%s?blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u",
             vt_snp_product_name(p->p), hw, byte_of(t, 0), byte_of(t, 1), byte_of(t, 6),
             byte_of(t, 7));
}

/* snpguest's request_vcek_kds: Turin: hex of CHIP_ID[0..8),
 * ?fmcSPL={:02}&blSPL={:02}&teeSPL={:02}&snpSPL={:02}&ucodeSPL={:02}; others: the whole CHIP_ID,
 * ?blSPL={:02}&teeSPL={:02}&snpSPL={:02}&ucodeSPL={:02}; the SPLs from the report's TCB as the
 * sev crate decodes it per product. */
static void snpguest_vcek_url(const struct product *p, char *out, size_t cap)
{
    char hw[129];
    uint64_t t = p->rep.reported_tcb;
    if (p->p == VT_SNP_TURIN) {
        vt_hex_encode(p->rep.chip_id, 8, hw);
        snprintf(out, cap,
                 "/vcek/v1/Turin/%s?fmcSPL=%02u&blSPL=%02u&teeSPL=%02u&snpSPL=%02u&ucodeSPL=%02u",
                 hw, byte_of(t, 0), byte_of(t, 1), byte_of(t, 2), byte_of(t, 3), byte_of(t, 7));
    } else {
        vt_hex_encode(p->rep.chip_id, 64, hw);
        snprintf(out, cap, "/vcek/v1/%s/%s?blSPL=%02u&teeSPL=%02u&snpSPL=%02u&ucodeSPL=%02u",
                 vt_snp_product_name(p->p), hw, byte_of(t, 0), byte_of(t, 1), byte_of(t, 6),
                 byte_of(t, 7));
    }
}

/* cert_chain and crl of every product, /vcek and /vlek: what both clients request (go-sev-guest:
 * ProductCertChainURL by signer, the CRL distribution points; snpguest: fetch ca / fetch crl with
 * --endorser vcek|vlek). Served as the upstream sent them, then from the cache. */
static void test_chain_and_crl(void **state)
{
    struct fx *f = *state;
    for (size_t i = 0; i < 3; i++) {
        const struct product *p = &f->prod[i];
        const char *name = vt_snp_product_name(p->p);
        for (int vlek = 0; vlek < 2; vlek++) {
            char path[96];
            snprintf(path, sizeof(path), "/%s/v1/%s/cert_chain", vlek ? "vlek" : "vcek", name);
            expect_doc(f, path, p->chain[vlek], p->chain_len[vlek], "application/x-pem-file");
            snprintf(path, sizeof(path), "/%s/v1/%s/crl", vlek ? "vlek" : "vcek", name);
            expect_doc(f, path, p->crl[vlek], p->crl_len[vlek], "application/pkix-crl");
        }
    }
    size_t fetched = upstream_count(f);
    assert_int_equal(fetched, 12);
    /* again: from the cache, no upstream request */
    expect_doc(f, "/vlek/v1/Turin/crl", f->prod[2].crl[1], f->prod[2].crl_len[1],
               "application/pkix-crl");
    expect_doc(f, "/vcek/v1/Genoa/cert_chain", f->prod[1].chain[0], f->prod[1].chain_len[0],
               "application/x-pem-file");
    assert_int_equal(upstream_count(f), fetched);
}

/* A CRL is taken only from its own product's ARK: Genoa's under Milan's path is refused (503, as
 * for any document that fails its checks), and never stored. */
static void test_crl_of_another_product(void **state)
{
    struct fx *f = *state;
    f->wrong_crl = true;
    struct reply r;
    get(f, "/vcek/v1/Milan/crl", &r);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr((const char *)r.body, "ARK-Genoa"));
    free(r.body);
    char *m = vt_cache_metrics_text(f->c);
    assert_non_null(strstr(m, "\nveritee_cache_rejected_total 1\n"));
    free(m);
    f->wrong_crl = false;
    expect_doc(f, "/vcek/v1/Milan/crl", f->prod[0].crl[0], f->prod[0].crl_len[0],
               "application/pkix-crl");
}

/* VCEKs by each client's URL, per product. */
static void test_vcek_client_urls(void **state)
{
    struct fx *f = *state;
    char url[400];
    for (size_t i = 0; i < 3; i++) {
        const struct product *p = &f->prod[i];
        snpguest_vcek_url(p, url, sizeof(url));
        expect_doc(f, url, p->vcek, p->vcek_len, "application/x-x509-ca-cert");
        if (p->p != VT_SNP_TURIN) {
            gosevguest_vcek_url(p, url, sizeof(url));
            expect_doc(f, url, p->vcek, p->vcek_len, "application/x-x509-ca-cert");
        }
    }
    /* the requests, checked against the exact bytes */
    gosevguest_vcek_url(&f->prod[1], url, sizeof(url));
    assert_string_equal(url, "/vcek/v1/Genoa/"
                             "303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f"
                             "505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f"
                             "?blSPL=4&teeSPL=1&snpSPL=24&ucodeSPL=219");
    snpguest_vcek_url(&f->prod[2], url, sizeof(url));
    assert_string_equal(url, "/vcek/v1/Turin/3031323334353637"
                             "?fmcSPL=02&blSPL=04&teeSPL=01&snpSPL=24&ucodeSPL=219");
    /* the cache asked the upstream once per VCEK (and once per product for its cert_chain) */
    size_t n = upstream_count(f);
    assert_int_equal(n, 6);
}

/* go-sev-guest's Turin URL: the whole CHIP_ID (8 bytes, then zeros), no fmcSPL. KDS knows Turin
 * chips by the first 8 bytes only and answers 404; so does the cache, saying why, without asking
 * an upstream (nor spending a new-fetch token). */
static void test_gosevguest_turin(void **state)
{
    struct fx *f = *state;
    char url[400];
    gosevguest_vcek_url(&f->prod[2], url, sizeof(url));
    assert_string_equal(url, "/vcek/v1/Turin/3031323334353637"
                             "0000000000000000000000000000000000000000000000000000000000000000"
                             "000000000000000000000000000000000000000000000000"
                             "?blSPL=2&teeSPL=4&snpSPL=0&ucodeSPL=219");
    struct reply r;
    get(f, url, &r);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.error_message, "first 8 bytes of CHIP_ID (16 hex characters)"));
    free(r.body);
    assert_int_equal(upstream_count(f), 0);
    /* a 16-character hwID under Milan is Turin's form: 404 too */
    get(f, "/vcek/v1/Milan/3031323334353637?blSPL=04&teeSPL=01&snpSPL=24&ucodeSPL=219", &r);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.error_message, "Milan's hwID is the whole 64-byte CHIP_ID"));
    free(r.body);
    /* a bad SPL is a 400 that names it */
    get(f, "/vcek/v1/Turin/3031323334353637?fmcSPL=256", &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.error_message, "fmcSPL"));
    free(r.body);
    assert_int_equal(upstream_count(f), 0);
}

/* VLEKs: go-sev-guest's VLEKCertURL needs the cloud provider's credentials at KDS (a verifier
 * gets the VLEK from the guest's certificate table): 404 with the reason, no upstream request. */
static void test_vlek_leaf(void **state)
{
    struct fx *f = *state;
    struct reply r;
    get(f, "/vlek/v1/Milan/cert?blSPL=4&teeSPL=1&snpSPL=24&ucodeSPL=219", &r);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.error_message, "cloud provider"));
    free(r.body);
    assert_int_equal(upstream_count(f), 0);
}

/* KDS takes an unspecified SPL as 0: a request without them is the VCEK at TCB 0, one document
 * with the fully spelt request. */
static void test_spl_defaults(void **state)
{
    struct fx *f = *state;
    struct reply r;
    get(f,
        "/vcek/v1/Genoa/303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f"
        "505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f",
        &r);
    assert_int_equal(r.status, 404); /* our upstream holds it at other SPLs only */
    free(r.body);
    assert_int_equal(upstream_count(f), 2); /* the chain, then the VCEK at 0/0/0/0 */
    assert_non_null(strstr(f->log[1], "/vcek/v1/Genoa/303132"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chain_and_crl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crl_of_another_product, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vcek_client_urls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gosevguest_turin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vlek_leaf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spl_defaults, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, group_teardown);
}
