/*
 * Appraisal of evidence for the broker: the verifier of the evidence's kind, with collateral from
 * the configured source (in-process cache, a PCS/KDS-shaped URL, or a directory in the layout of
 * `veritee verify --collateral DIR`). Verifiers are not thread-safe, so Nitro and SNP verifiers
 * (which cache verified intermediate chains) are borrowed from small pools; a DCAP verifier is
 * built per collateral set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker.h"
#include "cache/cache.h"
#include "collateral/collateral.h"

static bool is_url(const char *s)
{
    return s != NULL && (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0);
}

static enum vt_err fetch(struct vt_broker *b, const uint8_t *ev, size_t n, bool have_vek,
                         struct vt_http_collateral *h, struct vt_diag *d)
{
    if (is_url(b->cfg.collateral)) {
        return vt_http_collateral_fetch(b->cfg.collateral, ev, n, have_vek, h, d);
    }
    VT_ENSURE(b->cfg.cache != NULL, d, VT_E_COLLATERAL_MISSING, "collateral",
              "no collateral source is configured (--collateral URL|DIR, or veritee serve)");
    return vt_collateral_fetch_with(vt_cache_collateral_get, b->cfg.cache, ev, n, have_vek, h, d);
}

static bool is_dir(const char *s)
{
    return s != NULL && !is_url(s);
}

/* DCAP: one collateral set per platform; building its verifier (parse, collateral signatures
 * and chains) costs several times a quote verification, and a fresh verifier re-verifies the PCK
 * chain. So verifiers are kept per platform (SHA-256 of the TEE type and the quote's
 * certification data) for collateral_ttl seconds; every verification still checks every
 * validity window at its own time. A verifier is used by one request at a time. */
#define DCAP_SLOTS 16

struct vt_broker_dcap_slot {
    uint8_t key[32];
    struct vt_dcap_collateral *coll;
    struct vt_dcap_verifier *v;
    int64_t loaded;
    bool used, busy;
};

void vt_broker_appraise_cleanup(struct vt_broker *b)
{
    for (size_t i = 0; b->dcap != NULL && i < DCAP_SLOTS; i++) {
        vt_dcap_verifier_free(b->dcap[i].v);
        vt_dcap_collateral_free(b->dcap[i].coll);
    }
    free(b->dcap);
    b->dcap = NULL;
}

static enum vt_err load_dcap(struct vt_broker *b, const uint8_t *ev, size_t n,
                             const struct vt_dcap_quote *q, struct vt_dcap_collateral **coll,
                             struct vt_diag *d)
{
    if (is_dir(b->cfg.collateral)) {
        /* one collateral set, or one per TEE in sgx/ and tdx/ */
        char path[4096];
        snprintf(path, sizeof(path), "%s/tcb_info.json", b->cfg.collateral);
        if (access(path, R_OK) != 0) {
            snprintf(path, sizeof(path), "%s/%s", b->cfg.collateral,
                     q->tee_type == VT_DCAP_TEE_TDX ? "tdx" : "sgx");
        } else {
            snprintf(path, sizeof(path), "%s", b->cfg.collateral);
        }
        return vt_dcap_collateral_load_dir(path, coll, d);
    }
    struct vt_http_collateral h;
    memset(&h, 0, sizeof(h));
    enum vt_err err = fetch(b, ev, n, false, &h, d);
    if (err == VT_OK) {
        *coll = h.dcap;
        h.dcap = NULL;
    }
    vt_http_collateral_cleanup(&h);
    return err;
}

static enum vt_err appraise_dcap(struct vt_broker *b, const uint8_t *ev, size_t n, vt_time now,
                                 struct vt_claims *c, struct vt_diag *d)
{
    struct vt_dcap_quote q;
    VT_TRY(vt_dcap_quote_parse(ev, n, &q, d));
    uint8_t key[32];
    uint8_t tee[4] = {(uint8_t)q.tee_type, (uint8_t)(q.tee_type >> 8), (uint8_t)(q.tee_type >> 16),
                      (uint8_t)(q.tee_type >> 24)};
    vt_sha256_2(tee, sizeof(tee), q.cert_data, q.cert_data_len, key);
    vt_time t = vt_broker_now(b);
    struct vt_broker_dcap_slot *slot = NULL;
    pthread_mutex_lock(&b->pool_lock);
    if (b->dcap == NULL) {
        b->dcap = calloc(DCAP_SLOTS, sizeof(*b->dcap));
    }
    for (size_t i = 0; b->dcap != NULL && i < DCAP_SLOTS && slot == NULL; i++) {
        struct vt_broker_dcap_slot *s = &b->dcap[i];
        if (s->used && !s->busy && memcmp(s->key, key, 32) == 0 &&
            t - s->loaded < b->cfg.collateral_ttl && t >= s->loaded) {
            slot = s;
            slot->busy = true;
        }
    }
    pthread_mutex_unlock(&b->pool_lock);
    struct vt_dcap_opts o = {.now = now, .time_mode = VT_TIME_STRICT};
    if (slot != NULL) {
        enum vt_err err = vt_dcap_verify(slot->v, ev, n, &o, c, d);
        pthread_mutex_lock(&b->pool_lock);
        slot->busy = false;
        pthread_mutex_unlock(&b->pool_lock);
        return err;
    }
    struct vt_dcap_collateral *coll = NULL;
    struct vt_dcap_verifier *v = NULL;
    enum vt_err err = load_dcap(b, ev, n, &q, &coll, d);
    if (err == VT_OK) {
        err = vt_dcap_verifier_new(&b->anchors_dcap, coll, &v, d);
    }
    if (err == VT_OK) {
        err = vt_dcap_verify(v, ev, n, &o, c, d);
    }
    /* Keep it for the next quotes of this platform: replace the oldest idle slot. */
    if (err == VT_OK) {
        pthread_mutex_lock(&b->pool_lock);
        struct vt_broker_dcap_slot *victim = NULL;
        for (size_t i = 0; b->dcap != NULL && i < DCAP_SLOTS; i++) {
            struct vt_broker_dcap_slot *s = &b->dcap[i];
            if (!s->busy &&
                (victim == NULL || !s->used || (victim->used && s->loaded < victim->loaded))) {
                victim = s;
            }
        }
        if (victim != NULL) {
            struct vt_dcap_verifier *ov = victim->v;
            struct vt_dcap_collateral *oc = victim->coll;
            memcpy(victim->key, key, 32);
            victim->v = v;
            victim->coll = coll;
            victim->loaded = t;
            victim->used = true;
            v = ov;
            coll = oc;
        }
        pthread_mutex_unlock(&b->pool_lock);
    }
    vt_dcap_verifier_free(v);
    vt_dcap_collateral_free(coll);
    return err;
}

/* Borrow a verifier from a pool (or make one); give it back after use. */
static void *borrow(struct vt_broker *b, void **pool, size_t *n)
{
    void *v = NULL;
    pthread_mutex_lock(&b->pool_lock);
    if (*n > 0) {
        v = pool[--*n];
    }
    pthread_mutex_unlock(&b->pool_lock);
    return v;
}

static bool give_back(struct vt_broker *b, void **pool, size_t *n, void *v)
{
    bool kept = false;
    pthread_mutex_lock(&b->pool_lock);
    if (*n < VT_BROKER_POOL) {
        pool[(*n)++] = v;
        kept = true;
    }
    pthread_mutex_unlock(&b->pool_lock);
    return kept;
}

static enum vt_err appraise_nitro(struct vt_broker *b, const uint8_t *ev, size_t n, vt_time now,
                                  struct vt_claims *c, struct vt_diag *d)
{
    struct vt_nitro_verifier *v = borrow(b, (void **)b->nitro, &b->n_nitro);
    if (v == NULL) {
        VT_TRY(vt_nitro_verifier_new(&b->anchors_nitro, &v, d));
    }
    struct vt_nitro_opts o = {.now = now, .time_mode = VT_TIME_STRICT, .max_age = -1};
    enum vt_err err = vt_nitro_verify(v, ev, n, &o, c, d);
    if (!give_back(b, (void **)b->nitro, &b->n_nitro, v)) {
        vt_nitro_verifier_free(v);
    }
    return err;
}

static enum vt_err read_file_opt(const char *dir, const char *name, struct vt_buf *out,
                                 struct vt_diag *d)
{
    char path[4096];
    int k = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (k <= 0 || (size_t)k >= sizeof(path) || access(path, R_OK) != 0) {
        return VT_OK;
    }
    return vt_file_read(path, out, d);
}

static enum vt_err appraise_snp(struct vt_broker *b, const uint8_t *ev, size_t n,
                                const uint8_t *vek, size_t vek_len, vt_time now,
                                struct vt_claims *c, struct vt_diag *d)
{
    struct vt_http_collateral h;
    memset(&h, 0, sizeof(h));
    struct vt_buf files[3];
    for (size_t i = 0; i < 3; i++) {
        vt_buf_init(&files[i], VT_MAX_COLLATERAL_SIZE);
    }
    struct vt_snp_opts o = {
        .now = now, .time_mode = VT_TIME_STRICT, .vek = vek, .vek_len = vek_len};
    enum vt_err err = VT_OK;
    if (is_dir(b->cfg.collateral)) {
        if (vek == NULL &&
            (err = read_file_opt(b->cfg.collateral, "vcek.der", &files[0], d)) == VT_OK) {
            o.vek = files[0].data;
            o.vek_len = files[0].len;
        }
        if (err == VT_OK &&
            (err = read_file_opt(b->cfg.collateral, "cert_chain.pem", &files[1], d)) == VT_OK) {
            o.chain = files[1].len ? files[1].data : NULL;
            o.chain_len = files[1].len;
        }
    } else if (b->cfg.collateral != NULL || b->cfg.cache != NULL) {
        err = fetch(b, ev, n, vek != NULL, &h, d);
        if (err == VT_OK) {
            if (vek == NULL) {
                o.vek = h.vcek;
                o.vek_len = h.vcek_len;
            }
            o.chain = h.cert_chain;
            o.chain_len = h.cert_chain_len;
            o.crl = h.crl;
            o.crl_len = h.crl_len;
        }
    }
    if (err == VT_OK && (o.vek == NULL || o.vek_len == 0)) {
        err = vt_fail(d, VT_E_COLLATERAL_MISSING, "vcek",
                      "an SEV-SNP report needs its VCEK or VLEK: send it as \"vcek\" (the guest's "
                      "certificate table) or configure a collateral source");
    }
    struct vt_snp_verifier *v = NULL;
    if (err == VT_OK && (v = borrow(b, (void **)b->snp, &b->n_snp)) == NULL) {
        err = vt_snp_verifier_new(&b->anchors_snp, &v, d);
    }
    if (err == VT_OK) {
        err = vt_snp_verify(v, ev, n, &o, c, d);
    }
    if (v != NULL && !give_back(b, (void **)b->snp, &b->n_snp, v)) {
        vt_snp_verifier_free(v);
    }
    for (size_t i = 0; i < 3; i++) {
        vt_buf_cleanup(&files[i]);
    }
    vt_http_collateral_cleanup(&h);
    return err;
}

enum vt_err vt_broker_appraise(struct vt_broker *b, const uint8_t *ev, size_t n, const uint8_t *vek,
                               size_t vek_len, vt_time now, struct vt_claims *claims,
                               struct vt_diag *d)
{
    vt_claims_init(claims);
    switch (vt_evidence_detect(ev, n)) {
    case VT_EVIDENCE_DCAP_QUOTE:
        return appraise_dcap(b, ev, n, now, claims, d);
    case VT_EVIDENCE_NITRO_DOC:
        return appraise_nitro(b, ev, n, now, claims, d);
    case VT_EVIDENCE_SNP_REPORT:
    case VT_EVIDENCE_AZURE_HCL:
        return appraise_snp(b, ev, n, vek, vek_len, now, claims, d);
    default:
        return vt_fail(d, VT_E_UNKNOWN_EVIDENCE, "evidence.type",
                       "%zu bytes of evidence in no recognised format (DCAP quote, Nitro "
                       "attestation document, SEV-SNP report)",
                       n);
    }
}

enum vt_err vt_broker_evidence_parse(const uint8_t *ev, size_t n, enum vt_tee *tee,
                                     struct vt_diag *d)
{
    *tee = VT_TEE_NONE;
    switch (vt_evidence_detect(ev, n)) {
    case VT_EVIDENCE_DCAP_QUOTE: {
        struct vt_dcap_quote q;
        VT_TRY(vt_dcap_quote_parse(ev, n, &q, d));
        *tee = q.tee_type == VT_DCAP_TEE_TDX ? VT_TEE_TDX : VT_TEE_SGX;
        return VT_OK;
    }
    case VT_EVIDENCE_NITRO_DOC: {
        struct vt_nitro_doc doc;
        VT_TRY(vt_nitro_doc_parse(ev, n, &doc, d));
        *tee = VT_TEE_NITRO;
        return VT_OK;
    }
    case VT_EVIDENCE_SNP_REPORT: {
        struct vt_snp_report r;
        VT_TRY(vt_snp_report_parse(ev, n, &r, d));
        *tee = VT_TEE_SEV_SNP;
        return VT_OK;
    }
    case VT_EVIDENCE_AZURE_HCL: {
        struct vt_hcl_report h;
        struct vt_snp_report r;
        VT_TRY(vt_hcl_report_parse(ev, n, &h, d));
        VT_TRY(vt_snp_report_parse(h.snp_report, VT_SNP_REPORT_SIZE, &r, d));
        *tee = VT_TEE_SEV_SNP;
        return VT_OK;
    }
    default:
        return vt_fail(d, VT_E_UNKNOWN_EVIDENCE, "evidence.type",
                       "%zu bytes of evidence in no recognised format (DCAP quote, Nitro "
                       "attestation document, SEV-SNP report)",
                       n);
    }
}
