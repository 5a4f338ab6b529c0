/*
 * vt_verify: detect once, parse once, fetch collateral through the source, verify with the
 * verifier of the evidence's TEE, fill claims (include/veritee/verifier.h).
 *
 * Thread safety. The per-TEE verifiers (src/tee/{dcap,nitro,snp}/verify.c) keep their own chain
 * caches. This file keeps two pinned caches (src/base/pincache.h) of fetched collateral:
 *   dcap_sets: per platform (TEE type and SHA-256 of the quote's certification data, the PCK
 *         chain, as the broker keyed them before) a collateral set and the vt_dcap_verifier that
 *         verified it once; the chain's hash is the key of that verifier's PCK chain cache;
 *   snp_sets: per request (product, VEK kind, CHIP_ID, REPORTED_TCB) the bytes the source gave.
 * A set in use is pinned and neither evicted nor replaced; fetching, collateral verification and
 * evidence verification run outside the caches' locks. A set is stored only after a
 * verification with it succeeded (a failed one is fetched again next time), and reused for
 * collateral_ttl seconds of the configured clock; a stale set of the same key is replaced first.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tee/collateral/source.h"
#include "verify/evidence.h"

#include "base/pincache.h"
#include "tee/tee_internal.h"

#define DCAP_SLOTS 256 /* platforms; a set is its collateral (tens of KiB) and verifier */
#define SNP_SLOTS 1024 /* VEK requests; a set is a VEK, its chain and CRL (a few KiB) */

/* A DCAP collateral set and the verifier that verified it once; id: dcap_id. */
struct dcap_set {
    vt_time loaded;
    struct vt_dcap_collateral *coll;
    struct vt_dcap_verifier *v;
};

/* What the source gave for an SEV-SNP request; id: SHA-256 of the request. */
struct snp_set {
    vt_time loaded;
    struct vt_snp_collateral c;
};

struct vt_verifier {
    struct vt_cert_list anchors_dcap, anchors_nitro, anchors_snp;
    struct vt_collateral_source *source;
    enum vt_time_mode time_mode;
    int64_t ttl;
    vt_time (*clock)(void *ctx);
    void *clock_ctx;
    struct vt_nitro_verifier *nitro;
    struct vt_snp_verifier *snp;
    struct vt_pincache dcap_sets; /* struct dcap_set */
    struct vt_pincache snp_sets;  /* struct snp_set */
};

static void dcap_set_free(void *value)
{
    struct dcap_set *s = value;
    vt_dcap_verifier_free(s->v);
    vt_dcap_collateral_free(s->coll);
    free(s);
}

static void snp_set_free(void *value)
{
    struct snp_set *s = value;
    vt_snp_collateral_cleanup(&s->c);
    free(s);
}

void vt_verifier_free(struct vt_verifier *v)
{
    if (v == NULL) {
        return;
    }
    vt_pincache_cleanup(&v->dcap_sets);
    vt_pincache_cleanup(&v->snp_sets);
    vt_nitro_verifier_free(v->nitro);
    vt_snp_verifier_free(v->snp);
    vt_cert_list_cleanup(&v->anchors_dcap);
    vt_cert_list_cleanup(&v->anchors_nitro);
    vt_cert_list_cleanup(&v->anchors_snp);
    free(v);
}

static enum vt_err add_all(struct vt_cert_list *to, const struct vt_cert_list *from)
{
    for (size_t i = 0; from != NULL && i < from->n; i++) {
        VT_TRY(vt_cert_list_add(to, from->certs[i]));
    }
    return VT_OK;
}

enum vt_err vt_verifier_new(const struct vt_verifier_config *cfg, struct vt_verifier **out,
                            struct vt_diag *d)
{
    VT_ENSURE(cfg != NULL && out != NULL, d, VT_E_ARG, "verifier", "NULL argument");
    VT_ENSURE(cfg->time_mode == VT_TIME_STRICT || cfg->time_mode == VT_TIME_EXPIRY_ONLY, d,
              VT_E_ARG, "verifier.time_mode", "unknown time mode %d", (int)cfg->time_mode);
    VT_ENSURE(cfg->collateral_ttl >= 0, d, VT_E_ARG, "verifier.collateral_ttl",
              "collateral_ttl %lld is negative", (long long)cfg->collateral_ttl);
    struct vt_verifier *v = calloc(1, sizeof(*v));
    VT_ENSURE(v != NULL, d, VT_E_NOMEM, "verifier", "cannot allocate the verifier");
    vt_cert_list_init(&v->anchors_dcap);
    vt_cert_list_init(&v->anchors_nitro);
    vt_cert_list_init(&v->anchors_snp);
    if (vt_pincache_init(&v->dcap_sets, DCAP_SLOTS, dcap_set_free) != VT_OK ||
        vt_pincache_init(&v->snp_sets, SNP_SLOTS, snp_set_free) != VT_OK) {
        vt_verifier_free(v);
        return vt_fail(d, VT_E_NOMEM, "verifier", "cannot create the verifier's caches");
    }
    v->source = cfg->collateral;
    v->time_mode = cfg->time_mode;
    v->ttl = cfg->collateral_ttl > 0 ? cfg->collateral_ttl : VT_VERIFIER_TTL_DEFAULT;
    v->clock = cfg->clock;
    v->clock_ctx = cfg->clock_ctx;
    /* The embedded vendor roots are always trusted; extra anchors add roots, never replace. */
    enum vt_err err = vt_intel_sgx_root_add(&v->anchors_dcap, d);
    if (err == VT_OK) {
        err = vt_aws_nitro_root_add(&v->anchors_nitro, d);
    }
    if (err == VT_OK) {
        err = vt_amd_arks_add(&v->anchors_snp, d);
    }
    if (err == VT_OK && ((err = add_all(&v->anchors_dcap, cfg->trust_anchors)) ||
                         (err = add_all(&v->anchors_nitro, cfg->trust_anchors)) ||
                         (err = add_all(&v->anchors_snp, cfg->trust_anchors)))) {
        err = vt_fail(d, err, "verifier.trust_anchors", "cannot add the trust anchors");
    }
    if (err == VT_OK) {
        err = vt_nitro_verifier_new(&v->anchors_nitro, &v->nitro, d);
    }
    if (err == VT_OK) {
        err = vt_snp_verifier_new(&v->anchors_snp, &v->snp, d);
    }
    if (err != VT_OK) {
        vt_verifier_free(v);
        return err;
    }
    *out = v;
    return VT_OK;
}

/* ---- detection and parsing ---- */

enum vt_err vt_evidence_parse(const uint8_t *p, size_t n, struct vt_evidence *e, struct vt_diag *d)
{
    VT_ENSURE(e != NULL && (p != NULL || n == 0), d, VT_E_ARG, "evidence", "NULL argument");
    e->kind = p != NULL ? vt_evidence_detect(p, n) : VT_EVIDENCE_UNKNOWN;
    e->tee = VT_TEE_NONE;
    e->bytes = p;
    e->len = n;
    switch (e->kind) {
    case VT_EVIDENCE_DCAP_QUOTE:
        VT_TRY(vt_dcap_quote_parse(p, n, &e->u.quote, d));
        e->tee = e->u.quote.tee_type == VT_DCAP_TEE_TDX ? VT_TEE_TDX : VT_TEE_SGX;
        return VT_OK;
    case VT_EVIDENCE_NITRO_DOC:
        VT_TRY(vt_nitro_doc_parse(p, n, &e->u.nitro, d));
        e->tee = VT_TEE_NITRO;
        return VT_OK;
    case VT_EVIDENCE_SNP_REPORT:
        VT_TRY(vt_snp_report_parse(p, n, &e->u.snp.report, d));
        e->tee = VT_TEE_SEV_SNP;
        return VT_OK;
    case VT_EVIDENCE_AZURE_HCL:
        VT_TRY(vt_hcl_report_parse(p, n, &e->u.snp.hcl, d));
        VT_TRY(
            vt_snp_report_parse(e->u.snp.hcl.snp_report, VT_SNP_REPORT_SIZE, &e->u.snp.report, d));
        e->tee = VT_TEE_SEV_SNP;
        return VT_OK;
    default:
        return vt_fail(d, VT_E_UNKNOWN_EVIDENCE, "evidence.type",
                       "%zu bytes of evidence in no recognised format (DCAP quote, Nitro "
                       "attestation document, SEV-SNP report)",
                       n);
    }
}

/* ---- DCAP ---- */

static vt_time clock_now(const struct vt_verifier *v)
{
    return v->clock != NULL ? v->clock(v->clock_ctx) : vt_time_now();
}

/* The time a cached set is looked up at, against the verifier's TTL. */
struct lookup {
    const struct vt_verifier *v;
    vt_time t;
};

static bool fresh(const struct lookup *l, vt_time loaded)
{
    return l->t >= loaded && (l->v->ttl == VT_VERIFIER_TTL_FOREVER || l->t - loaded < l->v->ttl);
}

static bool dcap_fresh(const void *value, void *ctx)
{
    return fresh(ctx, ((const struct dcap_set *)value)->loaded);
}

static bool snp_fresh(const void *value, void *ctx)
{
    return fresh(ctx, ((const struct snp_set *)value)->loaded);
}

/*
 * The request for the quote's collateral: FMSPC and PCK CA from its PCK chain. A chain that does
 * not yield them leaves *known false: a source that needs them fails, and the quote's own checks
 * (vt_dcap_verify_quote) then say precisely what is wrong with the chain.
 */
static void dcap_request(const struct vt_dcap_quote *q, enum vt_tee tee,
                         struct vt_dcap_collateral_request *r, bool *known, struct vt_diag *d)
{
    memset(r, 0, sizeof(*r));
    r->tee = tee;
    r->ca = VT_PCK_CA_PLATFORM;
    *known = false;
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    const uint8_t *ext;
    size_t ext_len;
    struct vt_sgx_pck_ext x;
    char ca[160] = "";
    if (vt_cert_list_from_pem((const char *)q->cert_data, q->cert_data_len, &l, d) == VT_OK &&
        l.n >= 2 && vt_cert_extension(l.certs[0], VT_SGX_EXT_OID, &ext, &ext_len) == VT_OK &&
        vt_sgx_pck_ext_parse(ext, ext_len, &x, d) == VT_OK) {
        memcpy(r->fmspc, x.fmspc, sizeof(r->fmspc));
        if (vt_cert_subject_cn(l.certs[1], ca, sizeof(ca)) == VT_OK &&
            strstr(ca, "Processor") != NULL) {
            r->ca = VT_PCK_CA_PROCESSOR;
        }
        *known = true;
    }
    r->platform_known = *known;
    vt_cert_list_cleanup(&l);
}

/* The cache id of a platform's set: SHA-256(quote TEE type, 4 bytes LE || SHA-256 of the PCK
 * chain). */
static void dcap_id(uint32_t tee_type, const uint8_t chain_sha256[VT_SHA256_LEN],
                    uint8_t id[VT_SHA256_LEN])
{
    const uint8_t tt[4] = {(uint8_t)tee_type, (uint8_t)(tee_type >> 8), (uint8_t)(tee_type >> 16),
                           (uint8_t)(tee_type >> 24)};
    vt_sha256_2(tt, sizeof(tt), chain_sha256, VT_SHA256_LEN, id);
}

static enum vt_err verify_dcap(struct vt_verifier *v, const struct vt_evidence *e,
                               const struct vt_verify_opts *o, struct vt_claims *c,
                               struct vt_diag *d)
{
    const struct vt_dcap_quote *q = &e->u.quote;
    struct vt_dcap_opts dopts = {.now = o->now, .time_mode = v->time_mode};
    /* One hash of the PCK chain keys the DCAP verifier's PCK cache and, with the TEE type, this
     * verifier's set (dcap_id). */
    uint8_t key[VT_SHA256_LEN];
    uint8_t id[VT_SHA256_LEN];
    vt_sha256(q->cert_data, q->cert_data_len, key);
    dcap_id(q->tee_type, key, id);
    struct lookup at = {.v = v, .t = clock_now(v)};
    struct vt_pin pin;
    const struct dcap_set *s = vt_pincache_get(&v->dcap_sets, id, dcap_fresh, &at, &pin);
    if (s != NULL) {
        enum vt_err err = vt_dcap_verify_quote(s->v, q, key, &dopts, c, d);
        vt_pincache_release(&v->dcap_sets, &pin);
        return err;
    }

    VT_ENSURE(q->cert_type == VT_DCAP_CERT_PCK_CHAIN, d, VT_E_UNSUPPORTED_CERT_DATA,
              "quote.cert_data.type",
              "certification data type %u; offline verification needs type 5 (PCK certificate "
              "chain); types 1-4 and 7 need the PCK certificate from a PCS or PCCS",
              q->cert_type);
    VT_ENSURE(v->source != NULL, d, VT_E_COLLATERAL_MISSING, "collateral.source",
              "a DCAP quote needs collateral and no collateral source is configured");
    struct vt_dcap_collateral_request req;
    bool known;
    struct vt_diag req_d;
    vt_diag_init(&req_d);
    dcap_request(q, e->tee, &req, &known, &req_d);
    struct vt_dcap_collateral *coll = NULL;
    struct vt_dcap_verifier *dv = NULL;
    enum vt_err err = vt_collateral_fetch_dcap(v->source, &req, &coll, d);
    if (err != VT_OK && !known && d != NULL && strcmp(d->check, "collateral.request") == 0 &&
        req_d.code != VT_OK) {
        /* The source could not be asked: the chain's own problem is the precise error. */
        *d = req_d;
        return req_d.code;
    }
    if (err == VT_OK) {
        err = vt_dcap_verifier_new(&v->anchors_dcap, coll, &dv, d);
    }
    if (err == VT_OK) {
        err = vt_dcap_verify_quote(dv, q, key, &dopts, c, d);
    }
    struct dcap_set *set = err == VT_OK ? malloc(sizeof(*set)) : NULL;
    if (set != NULL) { /* verified with it: kept (without memory, just not kept) */
        *set = (struct dcap_set){.loaded = at.t, .coll = coll, .v = dv};
        coll = NULL;
        dv = NULL;
        (void)vt_pincache_put(&v->dcap_sets, id, set, dcap_fresh, &at, &pin);
        vt_pincache_release(&v->dcap_sets, &pin);
    }
    vt_dcap_verifier_free(dv);
    vt_dcap_collateral_free(coll);
    return err;
}

/* ---- SEV-SNP ---- */

static enum vt_err verify_snp(struct vt_verifier *v, const struct vt_evidence *e,
                              const struct vt_verify_opts *o, struct vt_claims *c,
                              struct vt_diag *d)
{
    const struct vt_snp_report *r = &e->u.snp.report;
    const struct vt_hcl_report *hcl = e->kind == VT_EVIDENCE_AZURE_HCL ? &e->u.snp.hcl : NULL;
    struct vt_snp_opts so = {
        .now = o->now,
        .time_mode = v->time_mode,
        .vek = o->vek,
        .vek_len = o->vek != NULL ? o->vek_len : 0,
        .chain = o->snp_chain,
        .chain_len = o->snp_chain != NULL ? o->snp_chain_len : 0,
        .crl = o->snp_crl,
        .crl_len = o->snp_crl != NULL ? o->snp_crl_len : 0,
    };
    bool need = o->vek == NULL || o->snp_chain == NULL || o->snp_crl == NULL;
    struct vt_snp_collateral fetched;
    memset(&fetched, 0, sizeof(fetched));
    struct vt_pin pin = {0};
    const struct snp_set *cached = NULL;
    uint8_t key[VT_SHA256_LEN];
    struct lookup at = {.v = v};
    enum vt_err err = VT_OK;
    if (need && v->source != NULL) {
        struct vt_snp_collateral_request req;
        memset(&req, 0, sizeof(req));
        req.product = vt_snp_report_product(r);
        req.vlek = ((r->key_info >> 2) & 7u) == VT_SNP_KEY_VLEK;
        req.have_vek = o->vek != NULL;
        memcpy(req.chip_id, r->chip_id, sizeof(req.chip_id));
        req.reported_tcb = r->reported_tcb_raw;
        vt_sha256(&req, sizeof(req), key);
        at.t = clock_now(v);
        cached = vt_pincache_get(&v->snp_sets, key, snp_fresh, &at, &pin);
        const struct vt_snp_collateral *have = &fetched;
        if (cached != NULL) {
            have = &cached->c;
        } else {
            err = vt_collateral_fetch_snp(v->source, &req, &fetched, d);
        }
        if (err == VT_OK) {
            if (so.vek == NULL) {
                so.vek = have->vek;
                so.vek_len = have->vek_len;
            }
            if (so.chain == NULL) {
                so.chain = have->chain;
                so.chain_len = have->chain_len;
            }
            if (so.crl == NULL) {
                so.crl = have->crl;
                so.crl_len = have->crl_len;
            }
        }
    }
    if (err == VT_OK && (so.vek == NULL || so.vek_len == 0)) {
        err = vt_fail(d, VT_E_COLLATERAL_MISSING, "vcek",
                      "an SEV-SNP report needs its VCEK or VLEK: supply it (the guest's "
                      "certificate table) or configure a collateral source that has it");
    }
    if (err == VT_OK) {
        err = vt_snp_verify_report(v->snp, r, hcl, &so, c, d);
    }
    struct snp_set *set = NULL;
    if (cached != NULL) {
        vt_pincache_release(&v->snp_sets, &pin);
    } else if (err == VT_OK && need && v->source != NULL &&
               (set = malloc(sizeof(*set))) != NULL) { /* without memory, just not kept */
        *set = (struct snp_set){.loaded = at.t, .c = fetched};
        memset(&fetched, 0, sizeof(fetched));
        (void)vt_pincache_put(&v->snp_sets, key, set, snp_fresh, &at, &pin);
        vt_pincache_release(&v->snp_sets, &pin);
    }
    vt_snp_collateral_cleanup(&fetched);
    return err;
}

/* ---- the entry points ---- */

static enum vt_err check_report_data(const struct vt_verify_opts *o, const struct vt_claims *c,
                                     struct vt_diag *d)
{
    size_t n = o->expect_report_data_len;
    VT_ENSURE(n <= sizeof(c->report_data), d, VT_E_ARG, "expect_report_data",
              "expected report data of %zu bytes; REPORT_DATA holds 64", n);
    bool ok = vt_ct_memeq(c->report_data, o->expect_report_data, n);
    for (size_t i = n; i < sizeof(c->report_data); i++) {
        ok = ok && c->report_data[i] == 0;
    }
    VT_ENSURE(ok, d, VT_E_BINDING, "report_data",
              "REPORT_DATA is not the expected %zu bytes followed by zero bytes", n);
    return VT_OK;
}

enum vt_err vt_verify_evidence(struct vt_verifier *v, const struct vt_evidence *e,
                               const struct vt_verify_opts *opts, struct vt_claims *claims,
                               struct vt_diag *d)
{
    VT_ENSURE(v != NULL && e != NULL && opts != NULL && claims != NULL, d, VT_E_ARG, "verify",
              "NULL argument");
    VT_ENSURE(opts->expect_report_data == NULL || e->kind != VT_EVIDENCE_NITRO_DOC, d,
              VT_E_UNSUPPORTED, "expect_report_data",
              "a Nitro document has no report data: bind with its nonce or public_key");
    enum vt_err err;
    switch (e->kind) {
    case VT_EVIDENCE_DCAP_QUOTE:
        err = verify_dcap(v, e, opts, claims, d);
        break;
    case VT_EVIDENCE_NITRO_DOC: {
        struct vt_nitro_opts no = {
            .now = opts->now,
            .time_mode = v->time_mode,
            .max_age = opts->has_max_age ? opts->max_age : -1,
            .nonce = opts->nonce,
            .nonce_len = opts->nonce != NULL ? opts->nonce_len : 0,
        };
        VT_ENSURE(!opts->has_max_age || opts->max_age >= 0, d, VT_E_ARG, "max_age",
                  "max_age %lld is negative", (long long)opts->max_age);
        err = vt_nitro_verify_doc(v->nitro, &e->u.nitro, &no, claims, d);
        break;
    }
    case VT_EVIDENCE_SNP_REPORT:
    case VT_EVIDENCE_AZURE_HCL:
        err = verify_snp(v, e, opts, claims, d);
        break;
    default:
        return vt_fail(d, VT_E_UNKNOWN_EVIDENCE, "evidence.type",
                       "%zu bytes of evidence in no recognised format (DCAP quote, Nitro "
                       "attestation document, SEV-SNP report)",
                       e->len);
    }
    if (err == VT_OK && opts->expect_report_data != NULL) {
        err = check_report_data(opts, claims, d);
    }
    return err;
}

enum vt_err vt_verify(struct vt_verifier *v, const uint8_t *evidence, size_t len,
                      const struct vt_verify_opts *opts, struct vt_claims *claims,
                      struct vt_diag *d)
{
    VT_ENSURE(v != NULL && evidence != NULL && opts != NULL && claims != NULL, d, VT_E_ARG,
              "verify", "NULL argument");
    struct vt_evidence e;
    VT_TRY(vt_evidence_parse(evidence, len, &e, d));
    return vt_verify_evidence(v, &e, opts, claims, d);
}

enum vt_err vt_trust_anchors_load(const char *const *files, struct vt_cert_list **out,
                                  struct vt_diag *d)
{
    VT_ENSURE(files != NULL && out != NULL, d, VT_E_ARG, "trust_anchors",
              "files and out are required");
    *out = NULL;
    struct vt_cert_list *l = malloc(sizeof(*l));
    VT_ENSURE(l != NULL, d, VT_E_NOMEM, "trust_anchors", "no memory");
    vt_cert_list_init(l);
    enum vt_err err = VT_OK;
    for (size_t i = 0; err == VT_OK && files[i] != NULL; i++) {
        err = vt_cert_list_from_file(files[i], l, d);
    }
    if (err != VT_OK) {
        vt_trust_anchors_free(l);
        return err;
    }
    *out = l;
    return VT_OK;
}

void vt_trust_anchors_free(struct vt_cert_list *l)
{
    if (l != NULL) {
        vt_cert_list_cleanup(l);
        free(l);
    }
}
