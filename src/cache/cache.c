/*
 * Collateral cache core: requests and their canonical keys, the store of items, the memory tier,
 * lazy fill from ordered upstreams with retries and failover, and enforcement of a pinned
 * tcbEvaluationDataNumber.
 *
 * A key is the canonical PCS/KDS path and query of the document (lowercase hex, fixed argument
 * order, /tdx CRL paths folded onto /sgx), so the key is also the path asked of an upstream.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cache/cache.h"
#include "store/replicas.h"

#define MEM_SLOTS 4096

struct mem_entry {
    bool used;
    struct vt_cache_item item;
    int64_t loaded_at;  /* clock time it entered memory */
    int64_t checked_at; /* last upstream attempt for a stale item */
};

/* The store's tables: the core and cache components of src/store/migrations.c. */
static const struct vt_schema_component *const schema[] = {&vt_schema_core, &vt_schema_cache};

static int64_t mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

vt_time vt_cache_now(const struct vt_cache *c)
{
    if (c->cfg.clock_base == 0) {
        return vt_time_now();
    }
    return c->cfg.clock_base + (mono_seconds() - c->clock_start);
}

void vt_cache_item_cleanup(struct vt_cache_item *it)
{
    free(it->headers);
    free(it->body);
    it->headers = NULL;
    it->body = NULL;
    it->body_len = 0;
}

static enum vt_err item_copy(struct vt_cache_item *dst, const struct vt_cache_item *src,
                             struct vt_diag *d)
{
    *dst = *src;
    dst->headers = strdup(src->headers ? src->headers : "");
    dst->body = malloc(src->body_len ? src->body_len : 1);
    if (dst->headers == NULL || dst->body == NULL) {
        vt_cache_item_cleanup(dst);
        return vt_fail(d, VT_E_NOMEM, "cache", "cannot copy an item");
    }
    memcpy(dst->body, src->body, src->body_len);
    return VT_OK;
}

/* ---- requests ---- */

struct query {
    const char *q;
    char val[4][VT_CACHE_KEY_MAX]; /* values handed out, in turn: up to 4 alive at once */
    unsigned next;
};

/* Look up name=value in a raw query string (our canonical keys: no percent-encoding). */
static const char *query_arg(void *ctx, const char *name)
{
    struct query *qs = ctx;
    const char *q = qs->q;
    size_t nl = strlen(name);
    while (q != NULL && *q != '\0') {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (len > nl && strncmp(q, name, nl) == 0 && q[nl] == '=') {
            size_t vl = len - nl - 1;
            char *val = qs->val[qs->next++ % 4];
            if (vl >= VT_CACHE_KEY_MAX) {
                return NULL;
            }
            memcpy(val, q + nl + 1, vl);
            val[vl] = '\0';
            return val;
        }
        q = amp ? amp + 1 : NULL;
    }
    return NULL;
}

static enum vt_err lower_hex(const char *s, size_t want, const char *name, char *out, uint8_t *raw,
                             struct vt_diag *d)
{
    VT_ENSURE(s != NULL, d, VT_E_MISSING_FIELD, name, "query parameter %s is required", name);
    size_t n = strlen(s);
    VT_ENSURE(n == want && vt_is_hex(s, n), d, VT_E_BAD_FIELD, name,
              "%s must be %zu hex characters (got %zu)", name, want, n);
    for (size_t i = 0; i < n; i++) {
        out[i] = (char)tolower((unsigned char)s[i]);
    }
    out[n] = '\0';
    if (raw != NULL) {
        VT_TRY(vt_hex_decode_exact(out, n, raw, n / 2));
    }
    return VT_OK;
}

static enum vt_err small_uint(const char *s, const char *name, unsigned max, unsigned *out,
                              struct vt_diag *d)
{
    VT_ENSURE(s != NULL && s[0] != '\0', d, VT_E_MISSING_FIELD, name,
              "query parameter %s is required", name);
    unsigned long v = 0;
    for (const char *p = s; *p != '\0'; p++) {
        VT_ENSURE(isdigit((unsigned char)*p) && v <= max, d, VT_E_BAD_FIELD, name,
                  "%s must be a decimal number up to %u", name, max);
        v = v * 10 + (unsigned long)(*p - '0');
    }
    VT_ENSURE(v <= max, d, VT_E_BAD_FIELD, name, "%s must be a decimal number up to %u", name, max);
    *out = (unsigned)v;
    return VT_OK;
}

/* update= / tcbEvaluationDataNumber= of TCB info and identities. update is matched in any case, as
 * PCCS does (QCNL sends it as configured, PCKIDRetrievalTool's users write STANDARD). */
static enum vt_err update_args(vt_cache_arg_fn arg, void *ctx, struct vt_cache_req *r,
                               const char *sep, struct vt_diag *d)
{
    const char *upd = arg(ctx, "update"), *num = arg(ctx, "tcbEvaluationDataNumber");
    VT_ENSURE(upd == NULL || num == NULL, d, VT_E_ARG, "update",
              "update and tcbEvaluationDataNumber cannot be used together");
    VT_ENSURE(num == NULL || r->api != 3, d, VT_E_BAD_FIELD, "tcbEvaluationDataNumber",
              "tcbEvaluationDataNumber is not part of the v3 API (use /v4/)");
    size_t n = strlen(r->key);
    if (num != NULL) {
        unsigned v;
        VT_TRY(small_uint(num, "tcbEvaluationDataNumber", 1000000, &v, d));
        VT_ENSURE(v > 0, d, VT_E_BAD_FIELD, "tcbEvaluationDataNumber",
                  "tcbEvaluationDataNumber must be positive");
        r->expect.has_eval = true;
        r->expect.eval_num = v;
        snprintf(r->key + n, sizeof(r->key) - n, "%stcbEvaluationDataNumber=%u", sep, v);
        return VT_OK;
    }
    VT_ENSURE(upd == NULL || strcasecmp(upd, "standard") == 0 || strcasecmp(upd, "early") == 0, d,
              VT_E_BAD_FIELD, "update",
              "update must be early or standard (in any case), not \"%.40s\"", upd);
    bool early = upd != NULL && strcasecmp(upd, "early") == 0;
    r->pinnable = !early && r->api != 3; /* v3 documents are served as the upstream gives them */
    snprintf(r->key + n, sizeof(r->key) - n, "%supdate=%s", sep, early ? "early" : "standard");
    return VT_OK;
}

/* Host names of Intel's CRL distribution points, as PCCS's /crl accepts them: the root CA's
 * ([a-zA-Z0-9-]*certificates.trustedservices.intel.com, Azure's certprx.adsdcsp.com) and the PCK
 * CAs' ([a-zA-Z0-9-]*.?api.trustedservices.intel.com, [a-zA-Z0-9-]+.az.sgx(prod|np).adsdcsp.com).
 */
static bool host_prefix_ok(const char *h, size_t n, bool dot_ok, bool need_one)
{
    for (size_t i = 0; i < n; i++) {
        bool last_dot = dot_ok && i == n - 1 && h[i] == '.';
        if (!isalnum((unsigned char)h[i]) && h[i] != '-' && !last_dot) {
            return false;
        }
    }
    return !need_one || n > 0;
}

static bool host_is(const char *h, size_t n, const char *suffix, bool dot_ok, bool need_one)
{
    size_t sl = strlen(suffix);
    return n >= sl && strncasecmp(h + n - sl, suffix, sl) == 0 &&
           host_prefix_ok(h, n - sl, dot_ok, need_one);
}

/* PCCS's GET crl?uri=<CDP URL> (QCNL with pccs_api_version 3.1 asks for the root CA CRL so): the
 * CRL found at a distribution point of Intel's SGX PKI, answered from the document held for it,
 * in the form that URL serves (the root CA CRL and pckcrl?...&encoding=der: DER; a pckcrl URL
 * without encoding: PEM, as PCS answers it). */
static enum vt_err parse_cdp(const char *uri, struct vt_cache_req *r, struct vt_diag *d)
{
    VT_ENSURE(uri != NULL && uri[0] != '\0', d, VT_E_MISSING_FIELD, "uri",
              "query parameter uri (a CRL distribution point URL) is required");
    size_t n = strlen(uri);
    VT_ENSURE(n <= 2048, d, VT_E_BAD_FIELD, "uri", "uri is %zu characters; at most 2048", n);
    const char *host = uri + 8,
               *slash = strncmp(uri, "https://", 8) == 0 ? strchr(host, '/') : NULL;
    size_t hl = slash ? (size_t)(slash - host) : 0;
    const char *pfx = "/sgx/certification/v4/";
    r->expect.tee = VT_TEE_SGX;
    if (slash != NULL &&
        (host_is(host, hl, "certificates.trustedservices.intel.com", false, false) ||
         (hl == 19 && strncasecmp(host, "certprx.adsdcsp.com", 19) == 0)) &&
        strncmp(slash, "/IntelSGXRootCA.", 16) == 0 && slash[16] != '\0') {
        r->kind = VT_DOC_ROOT_CRL;
        r->form = VT_CACHE_FORM_STORED;
        snprintf(r->key, sizeof(r->key), "%srootcacrl", pfx);
        snprintf(r->alt_path, sizeof(r->alt_path), "/IntelSGXRootCA.der");
        return VT_OK;
    }
    const char *v = NULL; /* the version, after "/sgx/certification/v" */
    if (slash != NULL && strncmp(slash, "/sgx/certification/v", 20) == 0) {
        v = slash + 20;
    }
    size_t digits = v ? strspn(v, "0123456789") : 0;
    bool pcs = slash != NULL && (host_is(host, hl, "api.trustedservices.intel.com", true, false) ||
                                 host_is(host, hl, ".az.sgxprod.adsdcsp.com", false, true) ||
                                 host_is(host, hl, ".az.sgxnp.adsdcsp.com", false, true));
    if (pcs && digits > 0 && v[0] != '0' && strncmp(v + digits, "/pckcrl?", 8) == 0) {
        const char *ca = NULL, *enc = NULL;
        size_t cal = 0, encl = 0;
        for (const char *q = v + digits + 8; *q != '\0';) {
            size_t l = strcspn(q, "&");
            if (strncmp(q, "ca=", 3) == 0) {
                ca = q + 3;
                cal = l - 3;
            } else if (strncmp(q, "encoding=", 9) == 0) {
                enc = q + 9;
                encl = l - 9;
            }
            q += l + (q[l] == '&');
        }
        bool proc = ca && cal == 9 && strncasecmp(ca, "processor", 9) == 0;
        bool plat = ca && cal == 8 && strncasecmp(ca, "platform", 8) == 0;
        VT_ENSURE(proc || plat, d, VT_E_BAD_FIELD, "uri",
                  "the PCK CRL distribution point %.200s names no ca=processor or ca=platform",
                  uri);
        bool der = enc && encl == 3 && strncasecmp(enc, "der", 3) == 0;
        VT_ENSURE(enc == NULL || der || (encl == 3 && strncasecmp(enc, "pem", 3) == 0), d,
                  VT_E_BAD_FIELD, "uri",
                  "the PCK CRL distribution point %.200s has an encoding other than pem or der",
                  uri);
        r->kind = VT_DOC_PCK_CRL;
        r->expect.ca = proc ? 1 : 2;
        r->want_der = der;
        r->form = der ? VT_CACHE_FORM_STORED : VT_CACHE_FORM_PEM;
        snprintf(r->key, sizeof(r->key), "%spckcrl?ca=%s", pfx, proc ? "processor" : "platform");
        snprintf(r->path, sizeof(r->path), "%s&encoding=der", r->key);
        return VT_OK;
    }
    return vt_fail(d, VT_E_BAD_FIELD, "uri",
                   "uri %.200s is not a CRL distribution point of Intel's SGX PKI"
                   " (https://certificates.trustedservices.intel.com/IntelSGXRootCA.der or"
                   " https://api.trustedservices.intel.com/sgx/certification/vN/pckcrl?ca=...)",
                   uri);
}

/* Intel paths, v4 (PCS, PCCS) and v3 (PCCS's older API: the same documents, but TCB info and
 * enclave identities of the v3 API, which are kept apart and asked of the upstream at v3). */
static enum vt_err parse_intel(const char *rest, enum vt_tee tee, unsigned api, vt_cache_arg_fn arg,
                               void *ctx, struct vt_cache_req *r, struct vt_diag *d)
{
    const char *pfx = "/sgx/certification/v4/";
    const char *tpfx = tee == VT_TEE_TDX ? "/tdx/certification/v4/"
                       : api == 3        ? "/sgx/certification/v3/"
                                         : pfx;
    r->expect.tee = tee;
    r->api = api;
    if (strcmp(rest, "tcb") == 0) {
        char f[13];
        VT_TRY(lower_hex(arg(ctx, "fmspc"), 12, "fmspc", f, r->expect.fmspc, d));
        r->kind = VT_DOC_TCB_INFO;
        r->expect.has_fmspc = true;
        snprintf(r->key, sizeof(r->key), "%stcb?fmspc=%s", tpfx, f);
        return update_args(arg, ctx, r, "&", d);
    }
    if (strcmp(rest, "qe/identity") == 0 ||
        (tee == VT_TEE_SGX && strcmp(rest, "qve/identity") == 0)) {
        r->kind = rest[1] == 'v' ? VT_DOC_QVE_IDENTITY : VT_DOC_QE_IDENTITY;
        int n = snprintf(r->key, sizeof(r->key), "%s%s?", tpfx, rest);
        VT_ENSURE(n > 0 && (size_t)n < sizeof(r->key), d, VT_E_INTERNAL, "path", "key too long");
        return update_args(arg, ctx, r, "", d);
    }
    if (strcmp(rest, "pckcrl") == 0) {
        const char *ca = arg(ctx, "ca"), *enc = arg(ctx, "encoding");
        VT_ENSURE(ca != NULL &&
                      (strcasecmp(ca, "processor") == 0 || strcasecmp(ca, "platform") == 0),
                  d, VT_E_BAD_FIELD, "ca", "ca must be processor or platform");
        VT_ENSURE(enc == NULL || strcasecmp(enc, "pem") == 0 || strcasecmp(enc, "der") == 0, d,
                  VT_E_BAD_FIELD, "encoding", "encoding must be pem or der");
        r->kind = VT_DOC_PCK_CRL;
        r->expect.tee = VT_TEE_SGX; /* one PCK CRL for both TEEs, under /sgx/ */
        r->expect.ca = tolower((unsigned char)ca[1]) == 'r' ? 1 : 2;
        r->want_der = enc != NULL && strcasecmp(enc, "der") == 0;
        /* SPEC: PCCS (pckcrlService): without encoding=der the CRL is sent as hex text; PCS
         * sends PEM when asked for pem. */
        r->form = r->want_der   ? VT_CACHE_FORM_STORED
                  : enc != NULL ? VT_CACHE_FORM_PEM
                                : VT_CACHE_FORM_HEX;
        snprintf(r->key, sizeof(r->key), "%spckcrl?ca=%s", pfx,
                 r->expect.ca == 1 ? "processor" : "platform");
        snprintf(r->path, sizeof(r->path), "%s&encoding=der", r->key);
        return VT_OK;
    }
    if (strcmp(rest, "rootcacrl") == 0) {
        r->kind = VT_DOC_ROOT_CRL;
        r->expect.tee = VT_TEE_SGX;
        r->form = VT_CACHE_FORM_HEX; /* SPEC: PCCS (rootcacrlService): hex text of the DER */
        snprintf(r->key, sizeof(r->key), "%srootcacrl", pfx);
        snprintf(r->alt_path, sizeof(r->alt_path), "/IntelSGXRootCA.der");
        return VT_OK;
    }
    if (tee == VT_TEE_SGX && strcmp(rest, "crl") == 0) {
        return parse_cdp(arg(ctx, "uri"), r, d);
    }
    VT_ENSURE(api == 4, d, VT_E_NOT_FOUND, "path", "no such endpoint in the v3 API");
    if (strcmp(rest, "tcbevaluationdatanumbers") == 0) {
        r->kind = VT_DOC_EVAL_NUMBERS;
        snprintf(r->key, sizeof(r->key), "%stcbevaluationdatanumbers", tpfx);
        return VT_OK;
    }
    if (tee == VT_TEE_SGX && strcmp(rest, "fmspcs") == 0) {
        const char *p = arg(ctx, "platform");
        VT_ENSURE(p == NULL || strcasecmp(p, "all") == 0 || strcasecmp(p, "client") == 0 ||
                      strcasecmp(p, "E3") == 0 || strcasecmp(p, "E5") == 0,
                  d, VT_E_BAD_FIELD, "platform", "platform must be all, client, E3 or E5");
        r->kind = VT_DOC_FMSPCS;
        snprintf(r->key, sizeof(r->key), "%sfmspcs%s%s", pfx, p ? "?platform=" : "", p ? p : "");
        return VT_OK;
    }
    return vt_fail(d, VT_E_NOT_FOUND, "path", "no such endpoint");
}

/* pckcert and pckcerts (SGX, v3 and v4). SPEC: PCCS (pckcertController): qeid names the platform;
 * a registered one is answered from its registration whatever encrypted_ppid says, and QCNL sends
 * encrypted_ppid=00..0 when it has no PPID. */
static enum vt_err parse_pck(const char *rest, unsigned api, vt_cache_arg_fn arg, void *ctx,
                             struct vt_cache_req *r, struct vt_diag *d)
{
    const char *pfx = "/sgx/certification/v4/";
    bool many = rest[7] == 's';
    VT_ENSURE(!many || api == 4, d, VT_E_NOT_FOUND, "path", "no such endpoint in the v3 API");
    r->expect.tee = VT_TEE_SGX;
    r->api = api;
    const char *qeid = arg(ctx, "qeid"), *ppid = arg(ctx, "encrypted_ppid");
    char pceid[5], epp[769] = "";
    VT_TRY(lower_hex(arg(ctx, "pceid"), 4, "pceid", pceid, r->expect.pceid, d));
    r->expect.has_pceid = true;
    if (qeid != NULL) {
        size_t ql = strlen(qeid);
        VT_ENSURE(ql > 0 && ql <= 32 && vt_is_hex(qeid, ql), d, VT_E_BAD_FIELD, "qeid",
                  "qeid must be 1 to 32 hex characters (got %zu)", ql);
        for (size_t i = 0; i <= ql; i++) {
            r->qeid[i] = (char)tolower((unsigned char)qeid[i]);
        }
    }
    r->zero_ppid = ppid != NULL && strlen(ppid) == 768 && strspn(ppid, "0") == 768;
    if (qeid == NULL || (ppid != NULL && !r->zero_ppid)) {
        VT_TRY(lower_hex(ppid, 768, "encrypted_ppid", epp, NULL, d));
    }
    r->kind = many ? VT_DOC_PCK_CERTS : VT_DOC_PCK_CERT;
    if (many) {
        snprintf(r->key, sizeof(r->key), "%spckcerts?encrypted_ppid=%s&pceid=%s", pfx, epp, pceid);
        return VT_OK;
    }
    char cpusvn[33], pcesvn[5];
    VT_TRY(lower_hex(arg(ctx, "cpusvn"), 32, "cpusvn", cpusvn, NULL, d));
    VT_TRY(lower_hex(arg(ctx, "pcesvn"), 4, "pcesvn", pcesvn, NULL, d));
    snprintf(r->key, sizeof(r->key), "%spckcert?encrypted_ppid=%s&cpusvn=%s&pcesvn=%s&pceid=%s",
             pfx, epp, cpusvn, pcesvn, pceid);
    return VT_OK;
}

/* An SPL argument of a KDS VCEK request: decimal 0-255 (leading zeros too: snpguest sends
 * "%02d"); absent is 0, as KDS takes an unspecified SPL. */
static enum vt_err kds_spl(vt_cache_arg_fn arg, void *ctx, const char *name, uint8_t *out,
                           struct vt_diag *d)
{
    const char *s = arg(ctx, name);
    unsigned v = 0;
    if (s != NULL) {
        VT_ENSURE(s[0] != '\0', d, VT_E_BAD_FIELD, name, "%s must be a decimal number up to 255",
                  name);
        VT_TRY(small_uint(s, name, 255, &v, d));
    }
    *out = (uint8_t)v;
    return VT_OK;
}

/*
 * AMD KDS paths (SPEC: AMD 57230 ch. 4), per product:
 *   /{vcek,vlek}/v1/{Milan,Genoa,Turin}/{cert_chain,crl}
 *   /vcek/v1/{Milan,Genoa}/{hwID: CHIP_ID, 128 hex}?blSPL&teeSPL&snpSPL&ucodeSPL
 *   /vcek/v1/Turin/{hwID: CHIP_ID[0..8), 16 hex}?fmcSPL&blSPL&teeSPL&snpSPL&ucodeSPL
 * SPLs are optional (0 when absent) and taken in any order; other arguments are ignored. A hwID
 * of the other form (the 64-byte CHIP_ID under Turin, as go-sev-guest sends it) names no chip
 * KDS knows: 404, as KDS answers it, without asking an upstream.
 */
static enum vt_err parse_kds(const char *rest, bool vlek, vt_cache_arg_fn arg, void *ctx,
                             struct vt_cache_req *r, struct vt_diag *d)
{
    char prod[16];
    const char *slash = strchr(rest, '/');
    VT_ENSURE(slash != NULL && (size_t)(slash - rest) < sizeof(prod), d, VT_E_NOT_FOUND, "path",
              "no such endpoint");
    memcpy(prod, rest, (size_t)(slash - rest));
    prod[slash - rest] = '\0';
    r->expect.product = vt_snp_product_from_kds(prod);
    r->expect.vlek = vlek;
    VT_ENSURE(r->expect.product != VT_SNP_UNKNOWN, d, VT_E_BAD_FIELD, "product",
              "unknown product \"%s\" (Milan, Genoa or Turin)", prod);
    const char *what = slash + 1, *base = vlek ? "/vlek/v1/" : "/vcek/v1/";
    if (strcmp(what, "cert_chain") == 0 || strcmp(what, "crl") == 0) {
        r->kind = what[0] == 'c' && what[1] == 'e' ? VT_DOC_AMD_CHAIN : VT_DOC_AMD_CRL;
        snprintf(r->key, sizeof(r->key), "%s%s/%s", base, prod, what);
        return VT_OK;
    }
    VT_ENSURE(!vlek, d, VT_E_NOT_FOUND, "path",
              "VLEK certificates are not served: KDS issues them to the cloud provider only (with"
              " its credentials); the host's certificate table gives the guest its VLEK");
    bool turin = r->expect.product == VT_SNP_TURIN;
    size_t hl = strlen(what), want = turin ? 16 : 128;
    bool hex = vt_is_hex(what, hl);
    VT_ENSURE(!(hex && hl == (turin ? 128u : 16u)), d, VT_E_NOT_FOUND, "hwid",
              turin ? "%s's hwID is the first 8 bytes of CHIP_ID (16 hex characters); KDS"
                      " answers 404 to the whole 64-byte CHIP_ID"
                    : "%s's hwID is the whole 64-byte CHIP_ID (128 hex characters); 16 hex"
                      " characters is Turin's form: KDS knows no such chip",
              prod);
    VT_ENSURE(hl == want && hex, d, VT_E_BAD_FIELD, "hwid",
              "hwid must be %zu hex characters for %s (got %zu%s)", want, prod, hl,
              hex ? "" : ", not all hex");
    char hw[129];
    VT_TRY(lower_hex(what, hl, "hwid", hw, r->expect.hwid, d));
    r->expect.hwid_len = hl / 2;
    struct vt_doc_expect *e = &r->expect;
    VT_TRY(kds_spl(arg, ctx, "blSPL", &e->bl, d));
    VT_TRY(kds_spl(arg, ctx, "teeSPL", &e->tee_spl, d));
    VT_TRY(kds_spl(arg, ctx, "snpSPL", &e->snp, d));
    VT_TRY(kds_spl(arg, ctx, "ucodeSPL", &e->ucode, d));
    if (turin) {
        VT_TRY(kds_spl(arg, ctx, "fmcSPL", &e->fmc, d));
    }
    r->kind = VT_DOC_VCEK;
    int n = snprintf(r->key, sizeof(r->key), "%s%s/%s?blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u",
                     base, prod, hw, e->bl, e->tee_spl, e->snp, e->ucode);
    if (turin && n > 0) {
        snprintf(r->key + n, sizeof(r->key) - (size_t)n, "&fmcSPL=%u", e->fmc);
    }
    return VT_OK;
}

enum vt_err vt_cache_parse_request(const char *path, vt_cache_arg_fn arg, void *ctx,
                                   struct vt_cache_req *r, struct vt_diag *d)
{
    memset(r, 0, sizeof(*r));
    enum vt_err err;
    bool sgx3 = strncmp(path, "/sgx/certification/v3/", 22) == 0;
    if (sgx3 || strncmp(path, "/sgx/certification/v4/", 22) == 0) {
        const char *rest = path + 22;
        err = strcmp(rest, "pckcert") == 0 || strcmp(rest, "pckcerts") == 0
                  ? parse_pck(rest, sgx3 ? 3 : 4, arg, ctx, r, d)
                  : parse_intel(rest, VT_TEE_SGX, sgx3 ? 3 : 4, arg, ctx, r, d);
    } else if (strncmp(path, "/tdx/certification/v4/", 22) == 0) {
        err = parse_intel(path + 22, VT_TEE_TDX, 4, arg, ctx, r, d);
    } else if (strncmp(path, "/vcek/v1/", 9) == 0 || strncmp(path, "/vlek/v1/", 9) == 0) {
        err = parse_kds(path + 9, path[2] == 'l', arg, ctx, r, d);
    } else {
        err = vt_fail(d, VT_E_NOT_FOUND, "path", "no such endpoint");
    }
    if (err == VT_OK && r->path[0] == '\0') {
        snprintf(r->path, sizeof(r->path), "%s", r->key);
    }
    r->expect.kind = r->kind;
    return err;
}

enum vt_err vt_cache_req_from_key(const char *key, struct vt_cache_req *r, struct vt_diag *d)
{
    char path[VT_CACHE_KEY_MAX];
    snprintf(path, sizeof(path), "%s", key);
    char *q = strchr(path, '?');
    struct query qs = {.q = q ? q + 1 : ""};
    if (q != NULL) {
        *q = '\0';
    }
    return vt_cache_parse_request(path, query_arg, &qs, r, d);
}

/* A pinned number turns a default request into a request by number. */
static void apply_pin(struct vt_cache *c, struct vt_cache_req *r)
{
    if (!r->pinnable) {
        return;
    }
    uint32_t n = vt_cache_pinned(c, r->expect.tee, vt_cache_now(c));
    if (n == 0) {
        return;
    }
    char *upd = strstr(r->key, "update=standard");
    if (upd == NULL) {
        return;
    }
    snprintf(upd, sizeof(r->key) - (size_t)(upd - r->key), "tcbEvaluationDataNumber=%u", n);
    snprintf(r->path, sizeof(r->path), "%s", r->key);
    r->expect.has_eval = true;
    r->expect.eval_num = n;
    r->pinnable = false;
}

/* ---- store ---- */

static bool row_item(void *ctx, const struct vt_sql_row *row)
{
    struct vt_cache_item *it = ctx;
    snprintf(it->key, sizeof(it->key), "%s", vt_row_text(row, 0));
    it->kind = (enum vt_doc_kind)vt_row_int(row, 1);
    it->tee = (enum vt_tee)vt_row_int(row, 2);
    snprintf(it->fmspc, sizeof(it->fmspc), "%s", vt_row_text(row, 3));
    it->eval_num = vt_row_int(row, 4);
    snprintf(it->content_type, sizeof(it->content_type), "%s", vt_row_text(row, 5));
    it->headers = strdup(vt_row_text(row, 6));
    size_t n;
    const uint8_t *b = vt_row_blob(row, 7, &n);
    it->body = malloc(n ? n : 1);
    if (it->body != NULL && n > 0) {
        memcpy(it->body, b, n);
    }
    it->body_len = n;
    it->issue_date = vt_row_int(row, 8);
    it->next_update = vt_row_int(row, 9);
    it->fetched_at = vt_row_int(row, 10);
    snprintf(it->upstream, sizeof(it->upstream), "%s", vt_row_text(row, 11));
    return false;
}

#define ITEM_COLUMNS                                                                               \
    "key, kind, tee, fmspc, eval_num, content_type, headers, body, issue_date, next_update,"       \
    " fetched_at, upstream"

enum vt_err vt_cache_load(struct vt_cache *c, const char *key, struct vt_cache_item *out,
                          struct vt_diag *d)
{
    memset(out, 0, sizeof(*out));
    struct vt_sql_arg a[] = {VT_SQL_T(key)};
    VT_TRY(vt_store_exec(c->store, "SELECT " ITEM_COLUMNS " FROM vt_items WHERE key = ?", a, 1,
                         row_item, out, NULL, d));
    if (out->key[0] == '\0') {
        return vt_fail(d, VT_E_NOT_FOUND, "cache", "%s is not held", key);
    }
    if (out->headers == NULL || out->body == NULL) {
        vt_cache_item_cleanup(out);
        return vt_fail(d, VT_E_NOMEM, "cache", "cannot load %s", key);
    }
    return VT_OK;
}

/* Insert or replace the row of key; with a guard, an existing row is replaced only when the
 * guard (SQL over vt_items, the row held, and excluded, the new one) holds. *changes: rows
 * written (0 when the guard kept the held row). */
static enum vt_err upsert(struct vt_cache *c, const struct vt_cache_item *it, const char *key,
                          const char *guard, int64_t *changes, struct vt_diag *d)
{
    struct vt_sql_arg a[] = {
        VT_SQL_T(key),
        VT_SQL_I(it->kind),
        VT_SQL_I(it->tee),
        VT_SQL_T(it->fmspc),
        VT_SQL_I(it->eval_num),
        VT_SQL_T(it->content_type),
        VT_SQL_T(it->headers),
        VT_SQL_B(it->body, it->body_len),
        VT_SQL_I(it->issue_date),
        VT_SQL_I(it->next_update),
        VT_SQL_I(it->fetched_at),
        VT_SQL_T(it->upstream),
    };
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "INSERT INTO vt_items(" ITEM_COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
             " ON CONFLICT(key) DO UPDATE SET kind = excluded.kind, tee = excluded.tee,"
             " fmspc = excluded.fmspc, eval_num = excluded.eval_num,"
             " content_type = excluded.content_type, headers = excluded.headers,"
             " body = excluded.body, issue_date = excluded.issue_date,"
             " next_update = excluded.next_update, fetched_at = excluded.fetched_at,"
             " upstream = excluded.upstream%s%s",
             guard ? " WHERE " : "", guard ? guard : "");
    return vt_store_exec(c->store, sql, a, 12, NULL, NULL, changes, d);
}

enum vt_err vt_cache_put(struct vt_cache *c, const struct vt_cache_item *it, bool *kept,
                         struct vt_diag *d)
{
    *kept = false;
    bool by_update = strstr(it->key, "update=") != NULL;
    /* A tombstone (no upstream has it) never replaces a document, only another tombstone.
     * SPEC: dcap.md section 3: a default ("standard"/"early") TCB info or identity is never
     * replaced by a lower tcbEvaluationDataNumber. Each comparison is part of the one write
     * statement, so replicas writing concurrently agree. */
    const char *guard = it->body_len == 0                ? "length(vt_items.body) = 0"
                        : by_update && it->eval_num >= 0 ? "vt_items.eval_num <= excluded.eval_num"
                                                         : NULL;
    int64_t changes = 0;
    VT_TRY(upsert(c, it, it->key, guard, &changes, d));
    *kept = changes == 0;
    if (by_update && it->eval_num > 0 && strstr(it->key, "/v3/") == NULL) {
        /* Keep every number seen under its by-number key, too (also one not served by default).
         * (The v3 API has no requests by number.) */
        char key[VT_CACHE_KEY_MAX];
        const char *u = strstr(it->key, "update=");
        int n = snprintf(key, sizeof(key), "%.*stcbEvaluationDataNumber=%" PRId64,
                         (int)(u - it->key), it->key, it->eval_num);
        if (n > 0 && (size_t)n < sizeof(key)) {
            VT_TRY(upsert(c, it, key, NULL, NULL, d));
        }
    }
    return VT_OK;
}

/* ---- memory tier ---- */

static size_t slot_of(const char *key)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = key; *p; p++) {
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    }
    return (size_t)(h % MEM_SLOTS);
}

/* Copy a memory entry for key if present and younger than memory_ttl. */
static bool mem_get(struct vt_cache *c, const char *key, vt_time now, struct vt_cache_item *out,
                    int64_t *checked_at)
{
    bool found = false;
    pthread_rwlock_rdlock(&c->mem_lock);
    struct mem_entry *e = &c->mem[slot_of(key)];
    if (e->used && strcmp(e->item.key, key) == 0 && now - e->loaded_at < c->cfg.memory_ttl) {
        found = item_copy(out, &e->item, NULL) == VT_OK;
        *checked_at = e->checked_at;
    }
    pthread_rwlock_unlock(&c->mem_lock);
    return found;
}

static void mem_put(struct vt_cache *c, const struct vt_cache_item *it, vt_time now,
                    int64_t checked_at)
{
    struct vt_cache_item copy;
    if (item_copy(&copy, it, NULL) != VT_OK) {
        return;
    }
    pthread_rwlock_wrlock(&c->mem_lock);
    struct mem_entry *e = &c->mem[slot_of(it->key)];
    if (e->used) {
        vt_cache_item_cleanup(&e->item);
    }
    e->used = true;
    e->item = copy;
    e->loaded_at = now;
    e->checked_at = checked_at;
    pthread_rwlock_unlock(&c->mem_lock);
}

void vt_cache_forget(struct vt_cache *c)
{
    pthread_rwlock_wrlock(&c->mem_lock);
    for (size_t i = 0; i < MEM_SLOTS; i++) {
        if (c->mem[i].used) {
            vt_cache_item_cleanup(&c->mem[i].item);
            c->mem[i].used = false;
        }
    }
    pthread_rwlock_unlock(&c->mem_lock);
}

/* ---- upstreams ---- */

/* The vendor headers worth keeping, under their PCS v4 names (THIM's v3 names accepted). */
static const char *const kept_headers[][2] = {
    {"TCB-Info-Issuer-Chain", "TCB-Info-Issuer-Chain"},
    {"SGX-TCB-Info-Issuer-Chain", "TCB-Info-Issuer-Chain"},
    {"SGX-Enclave-Identity-Issuer-Chain", "SGX-Enclave-Identity-Issuer-Chain"},
    {"SGX-QE-Identity-Issuer-Chain", "SGX-Enclave-Identity-Issuer-Chain"},
    {"SGX-PCK-CRL-Issuer-Chain", "SGX-PCK-CRL-Issuer-Chain"},
    {"SGX-PCK-Certificate-Issuer-Chain", "SGX-PCK-Certificate-Issuer-Chain"},
    {"TCB-Evaluation-Data-Numbers-Issuer-Chain", "TCB-Evaluation-Data-Numbers-Issuer-Chain"},
    {"SGX-TCBm", "SGX-TCBm"},
    {"SGX-FMSPC", "SGX-FMSPC"},
    {"SGX-PCK-Certificate-CA-Type", "SGX-PCK-Certificate-CA-Type"},
};

static const char *chain_header_of(enum vt_doc_kind k)
{
    switch (k) {
    case VT_DOC_TCB_INFO:
        return "TCB-Info-Issuer-Chain";
    case VT_DOC_QE_IDENTITY:
    case VT_DOC_QVE_IDENTITY:
        return "SGX-Enclave-Identity-Issuer-Chain";
    case VT_DOC_PCK_CRL:
        return "SGX-PCK-CRL-Issuer-Chain";
    case VT_DOC_PCK_CERT:
    case VT_DOC_PCK_CERTS:
        return "SGX-PCK-Certificate-Issuer-Chain";
    case VT_DOC_EVAL_NUMBERS:
        return "TCB-Evaluation-Data-Numbers-Issuer-Chain";
    default:
        return NULL;
    }
}

/* Value of a stored header line "Name: value\n" (heap copy), or NULL. */
static char *stored_header(const char *headers, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = headers; p != NULL && *p != '\0';) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nl + 1 && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ') {
                v++;
            }
            return strndup(v, len - (size_t)(v - p));
        }
        p = eol ? eol + 1 : NULL;
    }
    return NULL;
}

static enum vt_err collect_headers(const struct vt_http_response *resp, struct vt_buf *b)
{
    for (size_t i = 0; i < sizeof(kept_headers) / sizeof(kept_headers[0]); i++) {
        const char *v = vt_http_response_header(resp, kept_headers[i][0]);
        if (v != NULL && strchr(v, '\n') == NULL) {
            char *have = stored_header((const char *)b->data, kept_headers[i][1]);
            bool dup = have != NULL;
            free(have);
            if (!dup) {
                VT_TRY(vt_buf_printf(b, "%s: %s\n", kept_headers[i][1], v));
            }
        }
    }
    return VT_OK;
}

static const char *content_type_of(enum vt_doc_kind k)
{
    switch (k) {
    case VT_DOC_PCK_CERT:
    case VT_DOC_AMD_CHAIN:
        return "application/x-pem-file";
    case VT_DOC_PCK_CRL:
    case VT_DOC_ROOT_CRL:
    case VT_DOC_AMD_CRL:
        return "application/pkix-crl";
    case VT_DOC_VCEK:
        return "application/x-x509-ca-cert";
    default:
        return "application/json";
    }
}

bool vt_cache_header_allowed(const char *name)
{
    for (size_t i = 0; i < sizeof(kept_headers) / sizeof(kept_headers[0]); i++) {
        if (strcmp(name, kept_headers[i][1]) == 0) {
            return true;
        }
    }
    return false;
}

const char *vt_cache_content_type(enum vt_doc_kind kind)
{
    return content_type_of(kind);
}

enum vt_err vt_cache_check_item(struct vt_cache *c, const struct vt_cache_item *it,
                                struct vt_doc_meta *m, struct vt_diag *d)
{
    struct vt_cache_req r;
    VT_TRY(vt_cache_req_from_key(it->key, &r, d));
    const char *ch = chain_header_of(r.kind);
    char *chain = ch ? stored_header(it->headers, ch) : NULL;
    char *tcbm = stored_header(it->headers, "SGX-TCBm");
    char *fmspc = stored_header(it->headers, "SGX-FMSPC");
    struct vt_cache_item chain_item;
    memset(&chain_item, 0, sizeof(chain_item));
    struct vt_cert_list amd;
    vt_cert_list_init(&amd);
    enum vt_err err = VT_OK;
    if (r.kind == VT_DOC_VCEK) {
        char key[VT_CACHE_KEY_MAX];
        snprintf(key, sizeof(key), "/vcek/v1/%s/cert_chain", vt_snp_product_name(r.expect.product));
        err = vt_cache_load(c, key, &chain_item, d);
        if (err == VT_OK) {
            err =
                vt_cert_list_from_pem((const char *)chain_item.body, chain_item.body_len, &amd, d);
        }
        r.expect.amd_chain = &amd;
    }
    if (err == VT_OK) {
        err =
            vt_doc_check(&r.expect, &c->anchors, it->body, it->body_len, chain, tcbm, fmspc, m, d);
    }
    vt_cert_list_cleanup(&amd);
    vt_cache_item_cleanup(&chain_item);
    free(chain);
    free(tcbm);
    free(fmspc);
    return err;
}

/* Sleep ms, waking early when the cache stops. */
static void nap(struct vt_cache *c, long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->stop_lock);
    if (!c->stopping) {
        pthread_cond_timedwait(&c->stop_cond, &c->stop_lock, &ts);
    }
    pthread_mutex_unlock(&c->stop_lock);
}

/* One document from one upstream base, with retries. VT_OK with resp filled (status 200),
 * VT_E_NOT_FOUND for 404/410, VT_E_UPSTREAM otherwise. */
static enum vt_err fetch_one(struct vt_cache *c, size_t u, const char *path,
                             struct vt_http_response *resp, unsigned *status, struct vt_diag *d)
{
    const char *base = c->cfg.upstreams[u];
    char url[VT_CACHE_KEY_MAX + 400];
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/') {
        bl--;
    }
    snprintf(url, sizeof(url), "%.*s%s", (int)bl, base, path);
    struct vt_http_request_opts o = {.timeout_ms = c->cfg.upstream_timeout_ms,
                                     .ca_file = c->cfg.ca_file};
    long backoff = c->cfg.backoff_ms;
    for (unsigned attempt = 0;; attempt++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        enum vt_err err = vt_http_request(url, &o, resp, d);
        unsigned http_status = err == VT_OK ? (unsigned)resp->status : 0;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        atomic_fetch_add(&c->m.upstream_requests, 1);
        atomic_fetch_add(&c->m.upstream_latency_us, (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
                                                               (t1.tv_nsec - t0.tv_nsec) / 1000));
        long wait = backoff;
        if (err == VT_E_TOO_LARGE) {
            /* a body over the limit will not shrink on a retry: this upstream failed */
            char msg[VT_DIAG_DETAIL_MAX];
            snprintf(msg, sizeof(msg), "%s", d ? d->detail : "");
            atomic_fetch_add(&c->m.upstream_errors, 1);
            vt_cache_upstream_note(c, u, false, 0, msg);
            vt_http_response_cleanup(resp);
            return vt_fail(d, VT_E_UPSTREAM, "upstream", "%s", msg);
        }
        if (err == VT_OK) {
            *status = (unsigned)resp->status;
            if (resp->status == 200) {
                vt_cache_upstream_note(c, u, true, 200, NULL);
                return VT_OK;
            }
            if (resp->status == 404 || resp->status == 410) {
                vt_cache_upstream_note(c, u, true, (unsigned)resp->status, NULL);
                return vt_fail(d, VT_E_NOT_FOUND, "upstream", "%s: HTTP %ld", url, resp->status);
            }
            err = vt_fail(d, VT_E_UPSTREAM, "upstream", "%s: HTTP %ld", url, resp->status);
            const char *ra = vt_http_response_header(resp, "Retry-After");
            if (ra != NULL && isdigit((unsigned char)ra[0])) {
                wait = strtol(ra, NULL, 10) * 1000;
            }
            if (resp->status < 500 && resp->status != 429) {
                atomic_fetch_add(&c->m.upstream_errors, 1);
                vt_cache_upstream_note(c, u, false, (unsigned)resp->status, d ? d->detail : "");
                return err; /* a client error will not change on retry */
            }
        }
        atomic_fetch_add(&c->m.upstream_errors, 1);
        vt_cache_upstream_note(c, u, false, http_status, d ? d->detail : "");
        vt_http_response_cleanup(resp);
        if (attempt >= c->cfg.retries) {
            return err;
        }
        nap(c, wait < c->cfg.max_backoff_ms ? wait : c->cfg.max_backoff_ms);
        backoff *= 2;
    }
}

static void log_line(const char *fmt, ...) VT_PRINTF(1, 2);
static void log_line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("veritee-cache: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* The verified cert_chain of a product, for checking its VCEKs (filled if needed). */
static enum vt_err amd_chain_for(struct vt_cache *c, enum vt_snp_product p, struct vt_cert_list *l,
                                 struct vt_diag *d)
{
    struct vt_cache_req r;
    char key[64];
    snprintf(key, sizeof(key), "/vcek/v1/%s/cert_chain", vt_snp_product_name(p));
    VT_TRY(vt_cache_req_from_key(key, &r, d));
    struct vt_cache_item it;
    enum vt_err err = vt_cache_load(c, key, &it, d);
    if (err == VT_E_NOT_FOUND) {
        unsigned st = 0;
        err = vt_cache_fill(c, &r, &it, &st, d);
    }
    VT_TRY(err);
    err = vt_cert_list_from_pem((const char *)it.body, it.body_len, l, d);
    vt_cache_item_cleanup(&it);
    return err;
}

enum vt_err vt_cache_fill(struct vt_cache *c, const struct vt_cache_req *r,
                          struct vt_cache_item *out, unsigned *upstream_status, struct vt_diag *d)
{
    memset(out, 0, sizeof(*out));
    *upstream_status = 0;
    VT_ENSURE(c->cfg.mode != VT_CACHE_OFFLINE, d, VT_E_NOT_FOUND, "cache",
              "%s is not held and the cache is offline", r->key);
    VT_ENSURE(c->cfg.n_upstreams > 0, d, VT_E_NOT_FOUND, "cache",
              "%s is not held and no upstream is configured", r->key);
    struct vt_doc_expect expect = r->expect;
    struct vt_cert_list amd;
    vt_cert_list_init(&amd);
    if (r->kind == VT_DOC_VCEK) {
        VT_TRY(amd_chain_for(c, r->expect.product, &amd, d));
        expect.amd_chain = &amd;
    }
    enum vt_err err = VT_E_UPSTREAM;
    bool not_found = false;
    const char *ch = chain_header_of(r->kind);
    for (size_t u = 0; u < c->cfg.n_upstreams; u++) {
        const char *paths[2] = {r->path, r->alt_path[0] ? r->alt_path : NULL};
        for (size_t p = 0; p < 2 && paths[p] != NULL; p++) {
            struct vt_http_response resp;
            unsigned st = 0;
            err = fetch_one(c, u, paths[p], &resp, &st, d);
            if (st != 0) {
                *upstream_status = st;
            }
            if (err == VT_E_NOT_FOUND) {
                not_found = true;
                vt_http_response_cleanup(&resp);
                continue;
            }
            if (err != VT_OK) {
                log_line("upstream %s failed for %s: %s", c->cfg.upstreams[u], r->key,
                         d ? d->detail : "");
                vt_http_response_cleanup(&resp);
                break; /* next upstream */
            }
            struct vt_doc_meta m;
            const char *chain = ch ? vt_http_response_header(&resp, ch) : NULL;
            if (chain == NULL && r->kind == VT_DOC_TCB_INFO) { /* the v3 API's (and THIM's) name */
                chain = vt_http_response_header(&resp, "SGX-TCB-Info-Issuer-Chain");
            }
            err = vt_doc_check(&expect, &c->anchors, resp.body.data, resp.body.len, chain,
                               vt_http_response_header(&resp, "SGX-TCBm"),
                               vt_http_response_header(&resp, "SGX-FMSPC"), &m, d);
            if (err == VT_OK && r->kind == VT_DOC_TCB_INFO && chain == NULL) {
                err = VT_E_COLLATERAL_MISSING;
            }
            if (err != VT_OK) {
                atomic_fetch_add(&c->m.rejected, 1);
                log_line("refused %s from %s: %s: %s", r->key, c->cfg.upstreams[u],
                         d ? d->check : "", d ? d->detail : "");
                char why[sizeof(c->up[0].last_error)];
                snprintf(why, sizeof(why), "refused %.90s: %.30s: %.60s", r->key, d ? d->check : "",
                         d ? d->detail : "");
                vt_cache_upstream_note(c, u, false, 200, why);
                vt_http_response_cleanup(&resp);
                err = VT_E_UPSTREAM;
                break;
            }
            struct vt_buf hb;
            vt_buf_init(&hb, 64 * 1024);
            err = collect_headers(&resp, &hb);
            snprintf(out->key, sizeof(out->key), "%s", r->key);
            out->kind = r->kind;
            out->tee = r->expect.tee;
            snprintf(out->fmspc, sizeof(out->fmspc), "%s", m.fmspc);
            out->eval_num = m.eval_num;
            snprintf(out->content_type, sizeof(out->content_type), "%s", content_type_of(r->kind));
            out->headers = hb.data ? (char *)vt_buf_steal(&hb, NULL) : strdup("");
            if (m.der != NULL) { /* CRLs are stored as DER */
                out->body = m.der;
                out->body_len = m.der_len;
                m.der = NULL;
            } else {
                out->body_len = resp.body.len;
                out->body = vt_buf_steal(&resp.body, NULL);
            }
            out->issue_date = m.issue_date;
            out->next_update = m.next_update == INT64_MAX ? 0 : m.next_update;
            if (r->kind == VT_DOC_FMSPCS || r->kind == VT_DOC_PCK_CERTS) {
                out->next_update = vt_cache_now(c) + 86400;
            }
            out->fetched_at = vt_cache_now(c);
            snprintf(out->upstream, sizeof(out->upstream), "%s", c->cfg.upstreams[u]);
            vt_doc_meta_cleanup(&m);
            vt_http_response_cleanup(&resp);
            vt_buf_cleanup(&hb);
            bool kept = false;
            if (err == VT_OK && out->headers != NULL && out->body != NULL) {
                err = vt_cache_put(c, out, &kept, d);
            }
            if (err == VT_OK && kept) {
                /* The upstream offered an older number: serve what we hold. */
                log_line("kept %s: upstream offered tcbEvaluationDataNumber %" PRId64
                         " below the one held",
                         r->key, out->eval_num);
                vt_cache_item_cleanup(out);
                err = vt_cache_load(c, r->key, out, d);
            }
            if (err == VT_OK && m.has_pck) {
                struct vt_cache_platform pl;
                memset(&pl, 0, sizeof(pl));
                snprintf(pl.fmspc, sizeof(pl.fmspc), "%s", m.fmspc);
                vt_hex_encode(m.pck_pceid, 2, pl.pceid);
                snprintf(pl.qeid, sizeof(pl.qeid), "%s", r->qeid);
                memcpy(pl.components, m.pck_components, 16);
                pl.pcesvn = m.pck_pcesvn;
                snprintf(pl.source, sizeof(pl.source), "pckcert");
                err = vt_cache_platform_add(c, &pl, d);
            }
            vt_cert_list_cleanup(&amd);
            if (err != VT_OK) {
                vt_cache_item_cleanup(out);
            }
            return err;
        }
        if (not_found && err == VT_E_NOT_FOUND) {
            continue;
        }
    }
    vt_cert_list_cleanup(&amd);
    if (not_found && err != VT_OK) {
        atomic_fetch_add(&c->m.not_found, 1);
        return vt_fail(d, VT_E_NOT_FOUND, "upstream", "no upstream has %s", r->key);
    }
    return err == VT_OK ? VT_E_UPSTREAM : err;
}

/* ---- serving ---- */

void vt_cache_result_cleanup(struct vt_cache_result *res)
{
    vt_cache_item_cleanup(&res->item);
}

static bool is_fresh(const struct vt_cache_item *it, vt_time now)
{
    return it->next_update == 0 || now < it->next_update;
}

/* Resolve a PCCS-style pckcert?qeid= request through the registrations. */
static bool row_ppid(void *ctx, const struct vt_sql_row *row)
{
    snprintf(ctx, 769, "%s", vt_row_text(row, 0));
    return false;
}

/* SPEC: PCCS (pckcertService.getPckCert): a platform registered under (qeid, pceid) is answered
 * from its registration, whatever encrypted_ppid the request carries (QCNL may send zeros); an
 * unregistered one needs its encrypted PPID: absent, 400 (PCCS LAZY: invalid request); zeros, 404
 * (no cache data); offline, 461 (platform unknown; d->check "qeid.offline"). Requests by encrypted
 * PPID alone never bind a QE ID: only an authenticated registration does. */
static enum vt_err resolve_qeid(struct vt_cache *c, struct vt_cache_req *r, struct vt_diag *d)
{
    char *at = strstr(r->key, "encrypted_ppid=");
    if (r->qeid[0] == '\0' || at == NULL) {
        return VT_OK;
    }
    at += strlen("encrypted_ppid=");
    char ppid[769] = "", pceid[5];
    vt_hex_encode(r->expect.pceid, 2, pceid);
    struct vt_sql_arg a[] = {VT_SQL_T(r->qeid), VT_SQL_T(pceid)};
    VT_TRY(vt_store_exec(c->store,
                         "SELECT enc_ppid FROM vt_platforms WHERE qeid = ? AND lower(pceid) = ?"
                         " AND enc_ppid <> '' AND source = 'registration'"
                         " ORDER BY last_seen DESC LIMIT 1",
                         a, 2, row_ppid, ppid, NULL, d));
    if (ppid[0] == '\0') {
        VT_ENSURE(*at != '&', d, r->zero_ppid ? VT_E_NOT_FOUND : VT_E_MISSING_FIELD,
                  c->cfg.mode == VT_CACHE_OFFLINE ? "qeid.offline" : "qeid",
                  "no platform with QE ID %s and PCE ID %s is registered"
                  " (POST /sgx/certification/v4/platforms), and the request has %s",
                  r->qeid, pceid,
                  r->zero_ppid ? "an all-zero encrypted_ppid" : "no encrypted_ppid");
        return VT_OK;
    }
    for (char *p = ppid; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    char rest[VT_CACHE_KEY_MAX];
    snprintf(rest, sizeof(rest), "%s", at + strcspn(at, "&"));
    snprintf(at, sizeof(r->key) - (size_t)(at - r->key), "%s%s", ppid, rest);
    snprintf(r->path, sizeof(r->path), "%s", r->key);
    return VT_OK;
}

/* A held tombstone (empty body) means "no upstream has it": a 404. */
static enum vt_err tombstone_result(struct vt_cache_result *res, struct vt_diag *d)
{
    if (res->item.body_len > 0) {
        return VT_OK;
    }
    char key[VT_CACHE_KEY_MAX];
    snprintf(key, sizeof(key), "%s", res->item.key);
    vt_cache_item_cleanup(&res->item);
    res->upstream_status = 404;
    return vt_fail(d, VT_E_NOT_FOUND, "cache", "no upstream has %s (remembered)", key);
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One token of the bucket of upstream fetches for keys never seen; false with *retry_after, the
 * whole seconds until the next token. */
static bool bucket_take(struct vt_cache *c, int64_t *retry_after)
{
    if (c->cfg.new_fetch_rate < 0) {
        return true;
    }
    double now = mono_now(), rate = c->cfg.new_fetch_rate, burst = (double)c->cfg.new_fetch_burst;
    pthread_mutex_lock(&c->bucket_lock);
    double t = c->bucket_tokens + (now - c->bucket_at) * rate;
    c->bucket_tokens = t < burst ? t : burst;
    c->bucket_at = now;
    bool ok = c->bucket_tokens >= 1.0;
    if (ok) {
        c->bucket_tokens -= 1.0;
    } else {
        double w = (1.0 - c->bucket_tokens) / rate;
        *retry_after = (int64_t)w + ((double)(int64_t)w < w ? 1 : 0);
        if (*retry_after < 1) {
            *retry_after = 1;
        }
    }
    pthread_mutex_unlock(&c->bucket_lock);
    return ok;
}

enum vt_err vt_cache_get(struct vt_cache *c, struct vt_cache_req *r, struct vt_cache_result *res,
                         struct vt_diag *d)
{
    memset(res, 0, sizeof(*res));
    apply_pin(c, r);
    VT_TRY(resolve_qeid(c, r, d));
    vt_time now = vt_cache_now(c);
    int64_t checked = 0;
    if (mem_get(c, r->key, now, &res->item, &checked)) {
        bool fresh = is_fresh(&res->item, now);
        if (fresh || now - checked < c->cfg.recheck || c->cfg.mode == VT_CACHE_OFFLINE) {
            res->stale = !fresh;
            res->from_memory = true;
            atomic_fetch_add(&c->m.hits, 1);
            if (!fresh) {
                atomic_fetch_add(&c->m.stale_served, 1);
            }
            return tombstone_result(res, d);
        }
        vt_cache_item_cleanup(&res->item);
    }
    struct vt_cache_item held;
    enum vt_err err = vt_cache_load(c, r->key, &held, d);
    if (err != VT_OK && err != VT_E_NOT_FOUND) {
        return err;
    }
    bool have = err == VT_OK;
    if (have && is_fresh(&held, now)) {
        atomic_fetch_add(&c->m.hits, 1);
        mem_put(c, &held, now, now);
        res->item = held;
        return tombstone_result(res, d);
    }
    /* A key never seen needs an upstream fetch: those are throttled, held ones never are. */
    int64_t wait = 0;
    if (!have && !r->no_throttle && c->cfg.mode == VT_CACHE_LAZY && c->cfg.n_upstreams > 0 &&
        !bucket_take(c, &wait)) {
        atomic_fetch_add(&c->m.throttled, 1);
        res->retry_after = wait;
        return vt_fail(d, VT_E_UPSTREAM, "throttle",
                       "%s is not held and upstream fetches of documents not held are throttled"
                       " (%g per second, burst %" PRId64 "): retry in %" PRId64 " s",
                       r->key, c->cfg.new_fetch_rate, c->cfg.new_fetch_burst, wait);
    }
    atomic_fetch_add(&c->m.misses, 1);
    unsigned st = 0;
    pthread_mutex_lock(&c->fill_lock);
    err = vt_cache_fill(c, r, &res->item, &st, d);
    pthread_mutex_unlock(&c->fill_lock);
    if (err == VT_OK) {
        if (have) {
            vt_cache_item_cleanup(&held);
        }
        res->stale = !is_fresh(&res->item, now);
        mem_put(c, &res->item, now, now);
        return VT_OK;
    }
    res->upstream_status = st;
    if (err == VT_E_NOT_FOUND && c->cfg.mode == VT_CACHE_LAZY) {
        /* Negative caching: remember for an hour that no upstream has it, so that an outage
         * does not turn a known 404 into a 503. Tombstones have an empty body. */
        struct vt_cache_item t;
        memset(&t, 0, sizeof(t));
        snprintf(t.key, sizeof(t.key), "%s", r->key);
        t.kind = r->kind;
        t.tee = r->expect.tee;
        t.eval_num = -1;
        t.headers = (char *)"";
        t.body = (uint8_t *)"";
        t.fetched_at = now;
        t.next_update = now + 3600;
        snprintf(t.upstream, sizeof(t.upstream), "none");
        struct vt_diag ignore;
        bool kept;
        if (vt_cache_put(c, &t, &kept, &ignore) != VT_OK) {
            log_line("cannot record that %s is absent upstream", r->key);
        }
    }
    if (have && now - held.next_update <= c->cfg.max_stale) {
        /* Outage (or offline): serve what is held within max_stale, marked stale. */
        atomic_fetch_add(&c->m.stale_served, 1);
        mem_put(c, &held, now, now);
        res->item = held;
        res->stale = true;
        return tombstone_result(res, d);
    }
    if (have) {
        vt_cache_item_cleanup(&held);
        if (err == VT_E_NOT_FOUND) {
            return vt_fail(d, VT_E_EXPIRED, "cache",
                           "%s expired more than the maximum staleness ago and cannot be renewed",
                           r->key);
        }
    }
    return err;
}

/* ---- enforcement ---- */

enum vt_err vt_cache_enforce(struct vt_cache *c, enum vt_tee tee, uint32_t eval, vt_time from,
                             struct vt_diag *d)
{
    VT_ENSURE(tee == VT_TEE_SGX || tee == VT_TEE_TDX, d, VT_E_ARG, "tee", "tee must be sgx or tdx");
    VT_ENSURE(eval > 0, d, VT_E_ARG, "tcb_eval", "tcbEvaluationDataNumber must be positive");
    struct vt_sql_arg a[] = {VT_SQL_I(tee), VT_SQL_I(eval), VT_SQL_I(from),
                             VT_SQL_I(vt_cache_now(c))};
    VT_TRY(vt_store_exec(c->store,
                         "INSERT INTO vt_enforce(tee, eval_num, from_time, created) VALUES"
                         " (?,?,?,?) ON CONFLICT(tee, from_time) DO UPDATE SET"
                         " eval_num = excluded.eval_num, created = excluded.created",
                         a, 4, NULL, NULL, NULL, d));
    pthread_mutex_lock(&c->pin_lock);
    c->pin_valid[0] = c->pin_valid[1] = false;
    pthread_mutex_unlock(&c->pin_lock);
    vt_cache_forget(c);
    return VT_OK;
}

uint32_t vt_cache_pinned(struct vt_cache *c, enum vt_tee tee, vt_time now)
{
    /* Read on every default TCB info request: remembered for the memory tier's lifetime. */
    size_t t = tee == VT_TEE_TDX ? 1 : 0;
    pthread_mutex_lock(&c->pin_lock);
    bool cached = c->pin_valid[t] && now >= c->pin_at[t] && now - c->pin_at[t] < c->cfg.memory_ttl;
    uint32_t v = c->pin[t];
    pthread_mutex_unlock(&c->pin_lock);
    if (cached) {
        return v;
    }
    int64_t n = 0;
    struct vt_sql_arg a[] = {VT_SQL_I(tee), VT_SQL_I(now)};
    if (vt_store_exec(c->store,
                      "SELECT eval_num FROM vt_enforce WHERE tee = ? AND from_time <= ?"
                      " ORDER BY from_time DESC LIMIT 1",
                      a, 2, vt_store_row_int, &n, NULL, NULL) != VT_OK) {
        return 0;
    }
    pthread_mutex_lock(&c->pin_lock);
    c->pin[t] = (uint32_t)n;
    c->pin_at[t] = now;
    c->pin_valid[t] = true;
    pthread_mutex_unlock(&c->pin_lock);
    return (uint32_t)n;
}

static bool row_enforce(void *ctx, const struct vt_sql_row *row)
{
    json_t *arr = ctx;
    char when[VT_TIME_STR_MAX];
    vt_time_format(vt_row_int(row, 2), when);
    json_array_append_new(arr, json_pack("{s:s,s:I,s:s}", "tee",
                                         vt_tee_name((enum vt_tee)vt_row_int(row, 0)), "tcb_eval",
                                         (json_int_t)vt_row_int(row, 1), "from", when));
    return true;
}

char *vt_cache_enforce_list(struct vt_cache *c)
{
    json_t *arr = json_array();
    if (vt_store_exec(c->store,
                      "SELECT tee, eval_num, from_time FROM vt_enforce ORDER BY tee, from_time",
                      NULL, 0, row_enforce, arr, NULL, NULL) != VT_OK) {
        json_decref(arr);
        return NULL;
    }
    char *s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return s;
}

/* The schedule's rows of one TEE, oldest first: {tcb_eval, from} each. */
struct recov_sched {
    json_t *rows[2]; /* sgx, tdx */
};

static bool row_recov_sched(void *ctx, const struct vt_sql_row *row)
{
    struct recov_sched *s = ctx;
    int64_t tee = vt_row_int(row, 0);
    if (tee != VT_TEE_SGX && tee != VT_TEE_TDX) {
        return true;
    }
    char when[VT_TIME_STR_MAX];
    vt_time_format(vt_row_int(row, 2), when);
    json_array_append_new(s->rows[tee == VT_TEE_TDX ? 1 : 0],
                          json_pack("{s:I,s:s,s:I}", "tcb_eval", (json_int_t)vt_row_int(row, 1),
                                    "from", when, "from_unix", (json_int_t)vt_row_int(row, 2)));
    return true;
}

/* One TCB info held: the row of its TEE and FMSPC (the last one appended: rows come sorted). */
static bool row_recov_item(void *ctx, const struct vt_sql_row *row)
{
    json_t *arr = ctx;
    int64_t tee = vt_row_int(row, 0);
    const char *fmspc = vt_row_text(row, 1);
    int64_t ev = vt_row_int(row, 2);
    const char *key = vt_row_text(row, 3);
    const char *tname = vt_tee_name((enum vt_tee)tee);
    size_t n = json_array_size(arr);
    json_t *last = n > 0 ? json_array_get(arr, n - 1) : NULL;
    if (last == NULL || strcmp(json_string_value(json_object_get(last, "tee")), tname) != 0 ||
        strcmp(json_string_value(json_object_get(last, "fmspc")), fmspc) != 0) {
        last = json_pack("{s:s,s:s,s:[],s:n,s:n}", "tee", tname, "fmspc", fmspc, "held", "standard",
                         "early");
        json_array_append_new(arr, last);
    }
    json_t *held = json_object_get(last, "held");
    size_t m = json_array_size(held);
    if (m == 0 || json_integer_value(json_array_get(held, m - 1)) != ev) {
        json_array_append_new(held, json_integer(ev)); /* rows come by number: no duplicates */
    }
    /* the numbers the default keys hold (the highest when the v3 and v4 keys differ) */
    const char *slot = strstr(key, "update=standard") ? "standard"
                       : strstr(key, "update=early")  ? "early"
                                                      : NULL;
    if (slot != NULL) {
        json_t *cur = json_object_get(last, slot);
        if (!json_is_integer(cur) || json_integer_value(cur) < ev) {
            json_object_set_new(last, slot, json_integer(ev));
        }
    }
    return true;
}

static bool json_int_in(const json_t *arr, int64_t v)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        if (json_integer_value(x) == v) {
            return true;
        }
    }
    return false;
}

enum vt_err vt_cache_recoveries(struct vt_cache *c, char **out, struct vt_diag *d)
{
    *out = NULL;
    vt_time now = vt_cache_now(c);
    struct recov_sched s = {{json_array(), json_array()}};
    json_t *platforms = json_array();
    enum vt_err err = vt_store_exec(
        c->store, "SELECT tee, eval_num, from_time FROM vt_enforce ORDER BY tee, from_time", NULL,
        0, row_recov_sched, &s, NULL, d);
    if (err == VT_OK) {
        struct vt_sql_arg a[] = {VT_SQL_I(VT_DOC_TCB_INFO)};
        err = vt_store_exec(c->store,
                            "SELECT tee, fmspc, eval_num, key FROM vt_items WHERE kind = ?"
                            " AND eval_num > 0 AND length(body) > 0"
                            " ORDER BY tee, fmspc, eval_num, key",
                            a, 1, row_recov_item, platforms, NULL, d);
    }
    if (err != VT_OK) {
        json_decref(s.rows[0]);
        json_decref(s.rows[1]);
        json_decref(platforms);
        return err;
    }
    /* Per TEE: the entry in force (the latest whose start has passed), the ones scheduled (start
     * to come), and those superseded. */
    json_t *tees = json_object();
    json_t *in_force[2] = {NULL, NULL}, *scheduled[2];
    for (size_t t = 0; t < 2; t++) {
        scheduled[t] = json_array();
        json_t *past = json_array();
        size_t i;
        json_t *r;
        json_array_foreach(s.rows[t], i, r)
        {
            if (json_integer_value(json_object_get(r, "from_unix")) <= now) {
                if (in_force[t] != NULL) {
                    json_array_append(past, in_force[t]);
                }
                in_force[t] = r;
            } else {
                json_array_append(scheduled[t], r);
            }
        }
        json_object_set_new(tees, t == 0 ? "sgx" : "tdx",
                            json_pack("{s:O?,s:O,s:o}", "enforced", in_force[t], "scheduled",
                                      scheduled[t], "superseded", past));
    }
    /* Per platform: which number it gets by default now, and whether the numbers enforced and
     * scheduled are held (a number not held is fetched by number on the first request). */
    size_t i;
    json_t *p;
    json_array_foreach(platforms, i, p)
    {
        size_t t = strcmp(json_string_value(json_object_get(p, "tee")), "tdx") == 0 ? 1 : 0;
        json_t *held = json_object_get(p, "held");
        json_t *enf = in_force[t];
        if (enf != NULL) {
            int64_t ev = json_integer_value(json_object_get(enf, "tcb_eval"));
            json_object_set_new(p, "enforced",
                                json_pack("{s:I,s:O,s:b}", "tcb_eval", (json_int_t)ev, "from",
                                          json_object_get(enf, "from"), "held",
                                          json_int_in(held, ev)));
            json_object_set_new(p, "served", json_integer(ev));
        } else {
            json_object_set_new(p, "enforced", json_null());
            json_object_set(p, "served", json_object_get(p, "standard"));
        }
        json_t *sch = json_array();
        size_t j;
        json_t *r;
        json_array_foreach(scheduled[t], j, r)
        {
            int64_t ev = json_integer_value(json_object_get(r, "tcb_eval"));
            json_array_append_new(sch, json_pack("{s:I,s:O,s:b}", "tcb_eval", (json_int_t)ev,
                                                 "from", json_object_get(r, "from"), "held",
                                                 json_int_in(held, ev)));
        }
        json_object_set_new(p, "scheduled", sch);
        json_t *newest = json_array_get(held, json_array_size(held) - 1);
        json_object_set(p, "newest", newest);
    }
    char when[VT_TIME_STR_MAX];
    vt_time_format(now, when);
    json_t *o = json_pack("{s:s,s:o,s:o}", "now", when, "tees", tees, "platforms", platforms);
    json_decref(s.rows[0]);
    json_decref(s.rows[1]);
    json_decref(scheduled[0]); /* held by "scheduled" of each TEE (O) and read per platform */
    json_decref(scheduled[1]);
    *out = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return *out != NULL ? VT_OK : vt_fail(d, VT_E_NOMEM, "recoveries", "out of memory");
}

/* ---- status ---- */

void vt_cache_upstream_note(struct vt_cache *c, size_t u, bool ok, unsigned status,
                            const char *error)
{
    if (u >= VT_CACHE_MAX_UPSTREAMS) {
        return;
    }
    vt_time now = vt_cache_now(c);
    pthread_mutex_lock(&c->up_lock);
    struct vt_cache_upstream_state *s = &c->up[u];
    s->requests++;
    if (ok) {
        s->last_success = now;
        s->consecutive_failures = 0;
    } else {
        s->last_failure = now;
        s->last_status = status;
        /* a long error is cut (the log line has it whole) */
        snprintf(s->last_error, sizeof(s->last_error), "%.199s", error ? error : "");
        s->consecutive_failures++;
        s->failures++;
    }
    pthread_mutex_unlock(&c->up_lock);
}

/* A time as RFC 3339 text, or JSON null for 0 (never). */
static json_t *time_or_null(vt_time t)
{
    if (t == 0) {
        return json_null();
    }
    char s[VT_TIME_STR_MAX];
    vt_time_format(t, s);
    return json_string(s);
}

char *vt_cache_status_json(struct vt_cache *c)
{
    vt_time now = vt_cache_now(c);
    struct vt_diag d;
    vt_diag_init(&d);
    int64_t items = -1, past = 0, oldest = 0;
    struct vt_sql_arg a[] = {VT_SQL_I(now)};
    enum vt_err err = vt_store_exec(c->store, "SELECT COUNT(*) FROM vt_items", NULL, 0,
                                    vt_store_row_int, &items, NULL, &d);
    if (err == VT_OK) {
        err = vt_store_exec(
            c->store, "SELECT COUNT(*) FROM vt_items WHERE next_update > 0 AND next_update < ?", a,
            1, vt_store_row_int, &past, NULL, &d);
    }
    if (err == VT_OK) {
        err = vt_store_exec(c->store,
                            "SELECT COALESCE(MAX(? - next_update), 0) FROM vt_items"
                            " WHERE next_update > 0",
                            a, 1, vt_store_row_int, &oldest, NULL, &d);
    }
    const char *backend = vt_store_backend(c->store) == VT_STORE_POSTGRES ? "postgres" : "sqlite";
    json_t *store = json_pack("{s:s,s:s,s:s?,s:I}", "backend", backend, "state",
                              err == VT_OK ? "ok" : "unavailable", "error",
                              err == VT_OK ? NULL : d.detail, "items", (json_int_t)items);
    bool lazy = c->cfg.mode != VT_CACHE_OFFLINE;
    json_t *replica = json_pack(
        "{s:s,s:o,s:I,s:s}", "mode", lazy ? "lazy" : "offline", "started", time_or_null(c->started),
        "memory_ttl_s", (json_int_t)c->cfg.memory_ttl, "shared_store",
        strcmp(backend, "postgres") == 0 ? "yes: replicas see each "
                                           "other's writes within memory_ttl_s"
                                         : "no (SQLite; replicas share a PostgreSQL store)");
    pthread_mutex_lock(&c->up_lock);
    vt_time last = c->refresh_last;
    size_t renewed = c->refresh_last_renewed, failed = c->refresh_last_failed;
    bool running = c->refresher_running;
    json_t *ups = json_array();
    size_t n_ok = 0, n_failing = 0;
    for (size_t u = 0; u < c->cfg.n_upstreams && u < VT_CACHE_MAX_UPSTREAMS; u++) {
        const struct vt_cache_upstream_state *s = &c->up[u];
        const char *state = s->requests == 0              ? "unused"
                            : s->consecutive_failures > 0 ? "failing"
                                                          : "ok";
        n_ok += strcmp(state, "ok") == 0;
        n_failing += strcmp(state, "failing") == 0;
        json_array_append_new(
            ups,
            json_pack("{s:s,s:s,s:o,s:o,s:I,s:s?,s:I,s:I,s:I}", "url", c->cfg.upstreams[u], "state",
                      state, "last_success", time_or_null(s->last_success), "last_failure",
                      time_or_null(s->last_failure), "last_status", (json_int_t)s->last_status,
                      "last_error", s->last_failure ? s->last_error : NULL, "consecutive_failures",
                      (json_int_t)s->consecutive_failures, "requests", (json_int_t)s->requests,
                      "failures", (json_int_t)s->failures));
    }
    pthread_mutex_unlock(&c->up_lock);
    vt_time next = running ? (last != 0 ? last : c->started) + c->cfg.refresh_interval : 0;
    json_t *refresher =
        json_pack("{s:b,s:I,s:I,s:o,s:o,s:I,s:I}", "running", running, "interval_s",
                  (json_int_t)c->cfg.refresh_interval, "ahead_s", (json_int_t)c->cfg.refresh_ahead,
                  "last_pass", time_or_null(last), "next_pass", time_or_null(next), "last_renewed",
                  (json_int_t)renewed, "last_failed", (json_int_t)failed);
    /* The outage: every upstream used is failing (none answers), or the cache serves documents
     * past nextUpdate. Offline, no upstream is ever asked: "offline". */
    const char *outage = !lazy                        ? "offline"
                         : n_failing > 0 && n_ok == 0 ? "upstreams failing"
                         : n_failing > 0              ? "some upstreams failing"
                                                      : "none";
    json_t *out = json_pack(
        "{s:s,s:I,s:I,s:I,s:I}", "state", outage, "items_past_next_update", (json_int_t)past,
        "oldest_past_next_update_s", (json_int_t)(oldest > 0 ? oldest : 0), "stale_served",
        (json_int_t)atomic_load(&c->m.stale_served), "max_stale_s", (json_int_t)c->cfg.max_stale);
    /* every replica heartbeating into this store (store/replicas.h), this one marked */
    struct vt_diag rd;
    vt_diag_init(&rd);
    json_t *replicas =
        vt_replicas_json(c->store, now, c->replica ? vt_replica_id(c->replica) : NULL, &rd);
    json_t *o = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "now", time_or_null(now), "store", store,
                          "replica", replica, "refresher", refresher, "upstreams", ups, "outage",
                          out, "replicas", replicas ? replicas : json_null());
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

/* ---- platforms ---- */

enum vt_err vt_cache_platform_add(struct vt_cache *c, const struct vt_cache_platform *p,
                                  struct vt_diag *d)
{
    char comps[33], id[128];
    vt_hex_encode(p->components, 16, comps);
    snprintf(id, sizeof(id), "%s/%s/%s/%u/%s", p->fmspc, p->pceid, comps, p->pcesvn, p->qeid);
    vt_time now = vt_cache_now(c);
    struct vt_sql_arg a[] = {VT_SQL_T(id),      VT_SQL_T(p->fmspc), VT_SQL_T(p->pceid),
                             VT_SQL_T(p->qeid), VT_SQL_T(comps),    VT_SQL_I(p->pcesvn),
                             VT_SQL_T(""),      VT_SQL_T(""),       VT_SQL_T(p->source),
                             VT_SQL_I(now),     VT_SQL_I(now)};
    return vt_store_exec(c->store,
                         "INSERT INTO vt_platforms(id, fmspc, pceid, qeid, components, pcesvn,"
                         " enc_ppid, cpusvn, source, first_seen, last_seen)"
                         " VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                         " ON CONFLICT(id) DO UPDATE SET last_seen = excluded.last_seen",
                         a, 11, NULL, NULL, NULL, d);
}

/* ---- tokens ---- */

enum vt_err vt_cache_token_create(struct vt_cache *c, const char *role, const char *name,
                                  char token[64], struct vt_diag *d)
{
    VT_ENSURE(strcmp(role, "admin") == 0 || strcmp(role, "read") == 0 || strcmp(role, "user") == 0,
              d, VT_E_ARG, "role", "role must be admin, read or user");
    return vt_tokens_create(c->store, role, name, vt_cache_now(c), token, d);
}

enum vt_err vt_cache_token_add(struct vt_cache *c, const char *role, const char *name,
                               const char *value, struct vt_diag *d)
{
    VT_ENSURE(strcmp(role, "admin") == 0 || strcmp(role, "read") == 0 || strcmp(role, "user") == 0,
              d, VT_E_ARG, "role", "role must be admin, read or user");
    return vt_tokens_add(c->store, role, name, vt_cache_now(c), value, d);
}

bool vt_cache_token_check(struct vt_cache *c, const char *token, const char *role)
{
    return vt_tokens_check(c->store, token, role);
}

/* ---- lifecycle ---- */

enum vt_err vt_cache_open(const struct vt_cache_config *cfg, struct vt_cache **out,
                          struct vt_diag *d)
{
    struct vt_cache *c = calloc(1, sizeof(*c));
    VT_ENSURE(c != NULL, d, VT_E_NOMEM, "cache", "cannot allocate the cache");
    c->cfg = *cfg;
    if (c->cfg.upstream_timeout_ms <= 0) {
        c->cfg.upstream_timeout_ms = 10000;
    }
    if (c->cfg.backoff_ms <= 0) {
        c->cfg.backoff_ms = 200;
    }
    if (c->cfg.max_backoff_ms <= 0) {
        c->cfg.max_backoff_ms = 5000;
    }
    if (c->cfg.memory_ttl <= 0) {
        c->cfg.memory_ttl = 2;
    }
    if (c->cfg.recheck <= 0) {
        c->cfg.recheck = 60;
    }
    if (c->cfg.new_fetch_rate == 0) {
        c->cfg.new_fetch_rate = VT_CACHE_NEW_FETCH_RATE;
    }
    if (c->cfg.new_fetch_burst <= 0) {
        c->cfg.new_fetch_burst = VT_CACHE_NEW_FETCH_BURST;
    }
    c->bucket_tokens = (double)c->cfg.new_fetch_burst;
    c->bucket_at = mono_now();
    if (cfg->master_key != NULL) {
        memcpy(c->master, cfg->master_key, 32);
        c->has_master = true;
    }
    c->cfg.master_key = NULL; /* kept in c->master only */
    c->clock_start = mono_seconds();
    pthread_mutex_init(&c->fill_lock, NULL);
    pthread_rwlock_init(&c->mem_lock, NULL);
    pthread_mutex_init(&c->stop_lock, NULL);
    pthread_cond_init(&c->stop_cond, NULL);
    pthread_mutex_init(&c->pin_lock, NULL);
    pthread_mutex_init(&c->bucket_lock, NULL);
    pthread_mutex_init(&c->up_lock, NULL);
    c->started = vt_cache_now(c);
    vt_cert_list_init(&c->intel);
    vt_cert_list_init(&c->amd);
    c->mem = calloc(MEM_SLOTS, sizeof(*c->mem));
    enum vt_err err = c->mem ? VT_OK : vt_fail(d, VT_E_NOMEM, "cache", "no memory");
    if (err == VT_OK) {
        err = cfg->intel_anchors ? VT_OK : vt_intel_sgx_root_add(&c->intel, d);
    }
    if (err == VT_OK) {
        err = cfg->amd_anchors ? VT_OK : vt_amd_arks_add(&c->amd, d);
    }
    c->anchors.intel = cfg->intel_anchors ? cfg->intel_anchors : &c->intel;
    c->anchors.amd = cfg->amd_anchors ? cfg->amd_anchors : &c->amd;
    if (err == VT_OK) {
        err = vt_store_open(cfg->db, NULL, &c->store, d);
    }
    if (err == VT_OK) {
        err = vt_schema_apply(c->store, schema, 2, cfg->schema_mode, NULL, d);
    }
    if (err == VT_OK && c->has_master) {
        err = vt_cache_bundle_key_seal_stored(c->store, c->master, d);
    }
    if (err != VT_OK) {
        vt_cache_close(c);
        return err;
    }
    *out = c;
    return VT_OK;
}

void vt_cache_close(struct vt_cache *c)
{
    if (c == NULL) {
        return;
    }
    vt_replica_stop(c->replica);
    if (c->refresher_running) {
        pthread_mutex_lock(&c->stop_lock);
        c->stopping = true;
        pthread_cond_broadcast(&c->stop_cond);
        pthread_mutex_unlock(&c->stop_lock);
        pthread_join(c->refresher, NULL);
    }
    if (c->mem != NULL) {
        vt_cache_forget(c);
        free(c->mem);
    }
    vt_store_close(c->store);
    vt_cert_list_cleanup(&c->intel);
    vt_cert_list_cleanup(&c->amd);
    pthread_mutex_destroy(&c->fill_lock);
    pthread_rwlock_destroy(&c->mem_lock);
    pthread_mutex_destroy(&c->stop_lock);
    pthread_cond_destroy(&c->stop_cond);
    pthread_mutex_destroy(&c->pin_lock);
    pthread_mutex_destroy(&c->bucket_lock);
    pthread_mutex_destroy(&c->up_lock);
    vt_wipe(c->master, sizeof(c->master));
    free(c);
}
