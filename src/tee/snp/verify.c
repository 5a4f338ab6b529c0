/*
 * AMD SEV-SNP report verification (spec/nitro_snp.md B3 "Verifier checks").
 *
 * The VEK (VCEK or VLEK) and its chain are verified once and cached by the SHA-256 of the bytes
 * the caller gave: the chain VEK -> ASK (VCEK) or ASVK (VLEK) -> ARK, every CA signature
 * RSASSA-PSS with SHA-384 and salt 48, the ARK with a trust anchor's subject and key (its own
 * self-signature and validity checked as presented: vt_chain_verify), the names of each
 * level (ARK-<gen>, SEV-<gen> or SEV-VLEK-<gen>, SEV-VCEK or SEV-VLEK) agreeing with each other
 * and with the VEK's productName, and the VEK's AMD extensions. Each report then costs its
 * validity windows, the optional CRL, the TCB and chip checks and one P-384 verification.
 *
 * Order of checks per report: format (HCL envelope, report fields), KEY_INFO, POLICY reserved
 * bit, the VEK (chain, role against KEY_INFO.SIGNING_KEY, product against CPUID), validity times,
 * CRL, REPORTED_TCB against the VEK, CHIP_ID against hwID, the report signature, and for an HCL
 * report the runtime data hash. A forged report is so reported before a stale one is.
 *
 * Thread safety: the VEK cache is a pinned cache (src/base/pincache.h): a verification pins the
 * entry it uses, which is then neither evicted nor changed; lookups take no lock, and entries are
 * built outside the cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <veritee/limits.h>

#include "base/encoding.h"
#include "base/time_check.h"
#include "claims/claims_fill.h"
#include "tee/snp/snp.h"

#include "base/pincache.h"
#include "snp_internal.h"
#include "tee/tee_internal.h"

#define VEK_CACHE_SIZE 1024 /* chips and TCBs of a fleet; an entry is a parsed key and windows */
#define CRL_CACHE_SIZE 16   /* AMD CRLs: one per product and key kind, a few KiB each */
#define SNP_CHAIN "snp_chain"

struct window {
    char what[32];
    vt_time not_before;
    vt_time not_after;
};

/* A verified VEK and its chain. */
struct vek_entry {
    struct vt_cert *vek;
    struct vt_cert *ca; /* ASK or ASVK */
    struct vt_cert *ark;
    struct vt_key *key;
    struct vt_snp_vek_ext ext;
    enum vt_snp_product product;
    int role; /* VT_SNP_KEY_VCEK or VT_SNP_KEY_VLEK */
    struct window windows[3];
};

/* An AMD CRL whose signature by an ARK was checked (crl_id). Read-only once stored. */
struct crl_entry {
    struct vt_crl *crl;
    uint8_t der_sha256[VT_SHA256_LEN]; /* for the claims */
};

struct vt_snp_verifier {
    struct vt_cert_list anchors;
    struct vt_cert_list intermediates;
    struct vt_pincache cache; /* struct vek_entry by SHA-256 over the VEK and chain bytes given */
    struct vt_pincache crls;  /* struct crl_entry by crl_id */
};

static void entry_free(void *value)
{
    struct vek_entry *e = value;
    vt_cert_free(e->vek);
    vt_cert_free(e->ca);
    vt_cert_free(e->ark);
    vt_key_free(e->key);
    free(e);
}

static void crl_entry_free(void *value)
{
    struct crl_entry *e = value;
    vt_crl_free(e->crl);
    free(e);
}

void vt_snp_verifier_free(struct vt_snp_verifier *v)
{
    if (v == NULL) {
        return;
    }
    vt_pincache_cleanup(&v->cache);
    vt_pincache_cleanup(&v->crls);
    vt_cert_list_cleanup(&v->anchors);
    vt_cert_list_cleanup(&v->intermediates);
    free(v);
}

enum vt_err vt_snp_verifier_new(const struct vt_cert_list *anchors, struct vt_snp_verifier **out,
                                struct vt_diag *d)
{
    VT_ENSURE(out != NULL, d, VT_E_ARG, "verifier", "NULL argument");
    struct vt_snp_verifier *v = calloc(1, sizeof(*v));
    VT_ENSURE(v != NULL, d, VT_E_NOMEM, "verifier", "cannot allocate the verifier");
    if (vt_pincache_init(&v->cache, VEK_CACHE_SIZE, entry_free) != VT_OK) {
        free(v);
        return vt_fail(d, VT_E_NOMEM, "verifier", "cannot create the verifier's VEK cache");
    }
    if (vt_pincache_init(&v->crls, CRL_CACHE_SIZE, crl_entry_free) != VT_OK) {
        vt_pincache_cleanup(&v->cache);
        free(v);
        return vt_fail(d, VT_E_NOMEM, "verifier", "cannot create the verifier's CRL cache");
    }
    vt_cert_list_init(&v->anchors);
    vt_cert_list_init(&v->intermediates);
    enum vt_err err = vt_snp_builtin_intermediates(&v->intermediates, d);
    if (err == VT_OK && anchors == NULL) {
        err = vt_amd_arks_add(&v->anchors, d);
    }
    for (size_t i = 0; err == VT_OK && anchors != NULL && i < anchors->n; i++) {
        err = vt_cert_list_add(&v->anchors, anchors->certs[i]);
    }
    if (err != VT_OK) {
        vt_snp_verifier_free(v);
        return err;
    }
    *out = v;
    return VT_OK;
}

/* ---- building a VEK entry ---- */

static enum vt_snp_product product_from_name(const char *s, size_t n)
{
    static const enum vt_snp_product all[] = {VT_SNP_MILAN, VT_SNP_GENOA, VT_SNP_TURIN};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        const char *name = vt_snp_product_name(all[i]);
        if (strlen(name) == n && memcmp(name, s, n) == 0) {
            return all[i];
        }
    }
    return VT_SNP_UNKNOWN;
}

static enum vt_err cn_of(const struct vt_cert *c, char out[96], const char *check,
                         struct vt_diag *d)
{
    if (vt_cert_subject_cn(c, out, 96) != VT_OK) {
        char name[160];
        vt_cert_subject_text(c, name, sizeof(name));
        return vt_fail(d, VT_E_CHAIN_NAME, check, "[%s] has no usable common name", name);
    }
    return VT_OK;
}

/*
 * The names of the three levels. AMD's are ARK-<gen> for the root, SEV-<gen> for the ASK,
 * SEV-VLEK-<gen> for the ASVK, SEV-VCEK and SEV-VLEK for the leaves: the role of the VEK (and so
 * which KEY_INFO.SIGNING_KEY it can serve) follows from both its own name and its issuer's, and
 * the product from the root's.
 */
static enum vt_err check_names(struct vek_entry *e, struct vt_diag *d)
{
    char ark[96];
    char ca[96];
    char vek[96];
    VT_TRY(cn_of(e->ark, ark, "snp.ark.name", d));
    VT_TRY(cn_of(e->ca, ca, "snp.ask.name", d));
    VT_TRY(cn_of(e->vek, vek, "snp.vek.name", d));
    e->product =
        strncmp(ark, "ARK-", 4) == 0 ? product_from_name(ark + 4, strlen(ark + 4)) : VT_SNP_UNKNOWN;
    if (e->product == VT_SNP_UNKNOWN) {
        return vt_fail(d, VT_E_CHAIN_NAME, "snp.ark.name",
                       "root CN \"%s\" is not ARK-Milan, ARK-Genoa or ARK-Turin", ark);
    }
    const char *gen = vt_snp_product_name(e->product);
    char want_ca[96];
    if (strcmp(vek, "SEV-VCEK") == 0) {
        e->role = VT_SNP_KEY_VCEK;
        snprintf(want_ca, sizeof(want_ca), "SEV-%s", gen);
    } else if (strcmp(vek, "SEV-VLEK") == 0) {
        e->role = VT_SNP_KEY_VLEK;
        snprintf(want_ca, sizeof(want_ca), "SEV-VLEK-%s", gen);
    } else {
        return vt_fail(d, VT_E_CHAIN_NAME, "snp.vek.name",
                       "VEK CN \"%s\" is neither SEV-VCEK nor SEV-VLEK", vek);
    }
    if (strcmp(ca, want_ca) != 0) {
        return vt_fail(d, VT_E_CHAIN_NAME, "snp.ask.name",
                       "a %s must be issued by %s, this one by \"%s\"", vek, want_ca, ca);
    }
    return VT_OK;
}

/* The extensions a usable VEK carries, consistent with its chain. */
static enum vt_err check_ext(struct vek_entry *e, struct vt_diag *d)
{
    VT_TRY(vt_snp_vek_ext_parse(e->vek, &e->ext, d));
    const struct vt_snp_vek_ext *x = &e->ext;
    const char *gen = vt_snp_product_name(e->product);
    size_t glen = strlen(gen);
    /* productName is the family, optionally with a stepping ("Milan-B0"). */
    if (strncmp(x->product_name, gen, glen) != 0 ||
        (x->product_name[glen] != '\0' && x->product_name[glen] != '-')) {
        return vt_fail(d, VT_E_CERT_EXTENSION, "snp.vek.product_name",
                       "VEK productName \"%s\" is not of the %s chain it is issued under",
                       x->product_name, gen);
    }
    bool turin = e->product == VT_SNP_TURIN;
    if (!x->has_bl || !x->has_tee || !x->has_snp || !x->has_ucode || (turin && !x->has_fmc)) {
        return vt_fail(d, VT_E_CERT_EXTENSION, "snp.vek.spl",
                       "VEK lacks a TCB extension: blSPL %s, teeSPL %s, snpSPL %s, ucodeSPL %s%s",
                       x->has_bl ? "present" : "missing", x->has_tee ? "present" : "missing",
                       x->has_snp ? "present" : "missing", x->has_ucode ? "present" : "missing",
                       turin ? (x->has_fmc ? ", fmcSPL present" : ", fmcSPL missing") : "");
    }
    if (e->role == VT_SNP_KEY_VCEK) {
        size_t want = turin ? 8 : 64;
        if (x->hwid_len != want) {
            return vt_fail(d, VT_E_CERT_EXTENSION, "snp.vek.hwid",
                           "a %s VCEK carries a %zu-byte hwID, this one %zu bytes", gen, want,
                           x->hwid_len);
        }
    }
    return VT_OK;
}

/* The first certificate in list (then in more) that issued child by name, or NULL. */
static struct vt_cert *find_issuer(const struct vt_cert *child, const struct vt_cert_list *list,
                                   const struct vt_cert_list *more)
{
    const struct vt_cert_list *lists[2] = {list, more};
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; lists[k] != NULL && i < lists[k]->n; i++) {
            struct vt_cert *c = lists[k]->certs[i];
            if (c != child && !vt_cert_equal(c, child) && vt_cert_issuer_is(child, c)) {
                return c;
            }
        }
    }
    return NULL;
}

/* Certificates from the caller: the VEK first, then any CA certificates following it in the same
 * PEM (THIM's order: VCEK, ASK, ARK) and those of opts->chain (KDS order: ASK, ARK). */
static enum vt_err load_given(const struct vt_snp_opts *o, struct vt_cert_list *given,
                              struct vt_diag *d)
{
    if (o->vek == NULL || o->vek_len == 0) {
        return vt_fail(d, VT_E_COLLATERAL_MISSING, "snp.vek",
                       "no VCEK or VLEK certificate was given (--vcek)");
    }
    enum vt_err err = vt_cert_list_from_bytes(o->vek, o->vek_len, given, d);
    if (err != VT_OK) {
        char inner[VT_DIAG_DETAIL_MAX];
        snprintf(inner, sizeof(inner), "%s", d != NULL ? d->detail : "");
        return vt_fail(d, err, "snp.vek", "the VCEK/VLEK cannot be parsed: %s", inner);
    }
    if (o->chain != NULL && o->chain_len > 0) {
        err = vt_cert_list_from_bytes(o->chain, o->chain_len, given, d);
        if (err != VT_OK) {
            char inner[VT_DIAG_DETAIL_MAX];
            snprintf(inner, sizeof(inner), "%s", d != NULL ? d->detail : "");
            return vt_fail(d, err, "snp.cert_chain", "the certificate chain cannot be parsed: %s",
                           inner);
        }
    }
    return VT_OK;
}

static void set_window(struct window *w, const char *what, const struct vt_cert *c)
{
    snprintf(w->what, sizeof(w->what), "%s", what);
    w->not_before = vt_cert_not_before(c);
    w->not_after = vt_cert_not_after(c);
}

static enum vt_err build_entry(const struct vt_snp_verifier *v, const struct vt_snp_opts *o,
                               struct vek_entry *e, struct vt_diag *d)
{
    struct vt_cert_list given;
    struct vt_cert_list chain;
    vt_cert_list_init(&given);
    vt_cert_list_init(&chain);
    enum vt_err err = load_given(o, &given, d);
    if (err != VT_OK) {
        goto out;
    }
    struct vt_cert *vek = given.certs[0];
    struct vt_cert *ca = find_issuer(vek, &given, &v->intermediates);
    char name[160];
    if (ca == NULL) {
        vt_cert_issuer_text(vek, name, sizeof(name));
        err = vt_fail(d, VT_E_CHAIN, "snp.ask",
                      "no ASK or ASVK named [%s] is known or given (--cert-chain)", name);
        goto out;
    }
    /* The ARK: one given by the caller, else the anchor, of the ASK's issuer name. A given ARK
     * must carry a trust anchor's subject and key, which vt_chain_verify requires (another
     * self-signed certificate of AMD's key, e.g. a re-issue, is accepted and checked as given). */
    struct vt_cert *ark = find_issuer(ca, &given, &v->anchors);
    if (ark == NULL) {
        vt_cert_issuer_text(ca, name, sizeof(name));
        err = vt_fail(d, VT_E_UNTRUSTED_ROOT, SNP_CHAIN ".root",
                      "no trusted AMD root key named [%s] (the embedded ARKs of Milan, Genoa and "
                      "Turin unless --trust-anchor adds one)",
                      name);
        goto out;
    }
    if ((err = vt_cert_list_add(&chain, vek)) || (err = vt_cert_list_add(&chain, ca)) ||
        (err = vt_cert_list_add(&chain, ark))) {
        goto out;
    }
    e->vek = vt_cert_ref(vek);
    e->ca = vt_cert_ref(ca);
    e->ark = vt_cert_ref(ark);
    /* Times are checked per report through the windows (as for Nitro): the chain is verified at
     * the latest notBefore, expiry-only. */
    vt_time t0 = vt_cert_not_before(vek);
    for (size_t i = 1; i < chain.n; i++) {
        vt_time nb = vt_cert_not_before(chain.certs[i]);
        t0 = nb > t0 ? nb : t0;
    }
    if ((err = vt_cert_check_rsa_pss(ark, 384, 48, SNP_CHAIN "[2].algorithm", d)) ||
        (err = vt_cert_check_rsa_pss(ca, 384, 48, SNP_CHAIN "[1].algorithm", d)) ||
        (err = vt_cert_check_rsa_pss(vek, 384, 48, SNP_CHAIN "[0].algorithm", d)) ||
        (err = vt_chain_verify(&chain, &v->anchors, t0, VT_TIME_EXPIRY_ONLY, SNP_CHAIN, d)) ||
        (err = check_names(e, d)) || (err = check_ext(e, d))) {
        goto out;
    }
    if ((err = vt_key_from_cert(vek, VT_KEY_P384, &e->key, d)) != VT_OK) {
        err = vt_fail(d, err, "snp.vek.key", "the VEK's key is not an EC P-384 key");
        goto out;
    }
    set_window(&e->windows[0], e->role == VT_SNP_KEY_VCEK ? "snp.vcek" : "snp.vlek", vek);
    set_window(&e->windows[1], e->role == VT_SNP_KEY_VCEK ? "snp.ask" : "snp.asvk", ca);
    set_window(&e->windows[2], "snp.ark", ark);
out:
    vt_cert_list_cleanup(&chain);
    vt_cert_list_cleanup(&given);
    return err;
}

/* The verified VEK entry for the bytes given, pinned in *pin: vt_pincache_release unpins. */
static enum vt_err get_entry(struct vt_snp_verifier *v, const struct vt_snp_opts *o,
                             struct vt_pin *pin, struct vt_diag *d)
{
    uint8_t id[VT_SHA256_LEN];
    uint8_t h[VT_SHA256_LEN];
    vt_sha256(o->vek != NULL ? o->vek : (const uint8_t *)"", o->vek_len, id);
    vt_sha256(o->chain != NULL ? o->chain : (const uint8_t *)"", o->chain_len, h);
    vt_sha256_2(id, sizeof(id), h, sizeof(h), id);
    if (vt_pincache_get(&v->cache, id, NULL, NULL, pin) != NULL) {
        return VT_OK;
    }
    struct vek_entry *e = calloc(1, sizeof(*e));
    VT_ENSURE(e != NULL, d, VT_E_NOMEM, "snp.vek", "no memory for the VEK entry");
    enum vt_err err = build_entry(v, o, e, d);
    if (err != VT_OK) {
        entry_free(e);
        return err;
    }
    (void)vt_pincache_put(&v->cache, id, e, NULL, NULL, pin);
    return VT_OK;
}

/* ---- per-report checks ---- */

static const char *key_name(int k)
{
    return k == VT_SNP_KEY_VCEK ? "VCEK" : k == VT_SNP_KEY_VLEK ? "VLEK" : "none";
}

static enum vt_err check_key_info(const struct vt_snp_report *r, struct vt_diag *d)
{
    int signing = (int)((r->key_info >> 2) & 7u);
    if ((r->key_info & 2u) != 0) {
        return vt_fail(d, VT_E_SIGNATURE, "snp.report.key_info",
                       "MASK_CHIP_KEY is set (KEY_INFO 0x%x): the report is not signed",
                       r->key_info);
    }
    if (signing != VT_SNP_KEY_VCEK && signing != VT_SNP_KEY_VLEK) {
        return vt_fail(d, signing == VT_SNP_KEY_NONE ? VT_E_SIGNATURE : VT_E_BAD_FIELD,
                       "snp.report.signing_key",
                       "KEY_INFO.SIGNING_KEY is %d (%s); a report must be signed by a VCEK (0) or "
                       "a VLEK (1)",
                       signing, signing == VT_SNP_KEY_NONE ? "no key" : "reserved");
    }
    /* SPEC: POLICY bit 17 is reserved and must be one. */
    if ((r->policy & (UINT64_C(1) << 17)) == 0) {
        return vt_fail(d, VT_E_BAD_FIELD, "snp.report.policy",
                       "POLICY 0x%llx has reserved bit 17 clear, it must be set",
                       (unsigned long long)r->policy);
    }
    return VT_OK;
}

static enum vt_err check_role_product(const struct vt_snp_report *r, const struct vek_entry *e,
                                      enum vt_snp_product *product, struct vt_diag *d)
{
    int signing = (int)((r->key_info >> 2) & 7u);
    if (signing != e->role) {
        char issuer[96];
        if (vt_cert_subject_cn(e->ca, issuer, sizeof(issuer)) != VT_OK) {
            snprintf(issuer, sizeof(issuer), "?");
        }
        return vt_fail(d, VT_E_CHAIN_NAME, "snp.vek.role",
                       "the report is signed by a %s (KEY_INFO.SIGNING_KEY %d) but the certificate "
                       "given is a %s issued by %s",
                       key_name(signing), signing, key_name(e->role), issuer);
    }
    enum vt_snp_product p = vt_snp_report_product(r);
    if (r->version >= 3 && p == VT_SNP_UNKNOWN) {
        return vt_fail(d, VT_E_UNSUPPORTED, "snp.report.cpuid",
                       "CPUID family 0x%02x model 0x%02x is not a known SEV-SNP product",
                       r->cpuid_fam_id, r->cpuid_mod_id);
    }
    if (p != VT_SNP_UNKNOWN && p != e->product) {
        return vt_fail(d, VT_E_CHAIN, "snp.product",
                       "the report is from a %s (CPUID family 0x%02x model 0x%02x) but the VEK "
                       "chains to ARK-%s",
                       vt_snp_product_name(p), r->cpuid_fam_id, r->cpuid_mod_id,
                       vt_snp_product_name(e->product));
    }
    *product = e->product; /* version 2: the chain's product */
    return VT_OK;
}

/*
 * The CRL given, parsed and its signature by the entry's ARK checked once, pinned in *pin; keyed
 * by SHA-256(SHA-256 of the CRL bytes || SHA-256 of the ARK certificate). A CRL that fails is not
 * kept.
 */
static enum vt_err get_crl(struct vt_snp_verifier *v, const struct vek_entry *e,
                           const struct vt_snp_opts *o, struct vt_pin *pin, struct vt_diag *d)
{
    uint8_t h[VT_SHA256_LEN], ark[VT_SHA256_LEN], id[VT_SHA256_LEN];
    vt_sha256(o->crl, o->crl_len, h);
    vt_cert_sha256(e->ark, ark);
    vt_sha256_2(h, sizeof(h), ark, sizeof(ark), id);
    if (vt_pincache_get(&v->crls, id, NULL, NULL, pin) != NULL) {
        return VT_OK;
    }
    struct crl_entry *ce = calloc(1, sizeof(*ce));
    VT_ENSURE(ce != NULL, d, VT_E_NOMEM, "snp.crl", "no memory for the CRL entry");
    enum vt_err err = vt_crl_parse(o->crl, o->crl_len, &ce->crl, d);
    if (err == VT_OK) {
        err = vt_crl_check_issuer(ce->crl, e->ark, "snp.crl", d);
    }
    if (err != VT_OK) {
        crl_entry_free(ce);
        return err;
    }
    size_t len = 0;
    const uint8_t *der = vt_crl_der(ce->crl, &len);
    vt_sha256(der, len, ce->der_sha256);
    (void)vt_pincache_put(&v->crls, id, ce, NULL, NULL, pin);
    return VT_OK;
}

/* SPEC: the AMD CRL (when given) is current and does not list the VEK's ASK or ASVK; the
 * window and the lookup run for every report. */
static enum vt_err check_crl(struct vt_snp_verifier *v, const struct vek_entry *e,
                             const struct vt_snp_opts *o, struct vt_claims *claims,
                             struct vt_diag *d)
{
    if (o->crl == NULL || o->crl_len == 0) {
        return VT_OK;
    }
    struct vt_pin pin;
    VT_TRY(get_crl(v, e, o, &pin, d));
    const struct crl_entry *ce = pin.value;
    const struct vt_crl *crl = ce->crl;
    vt_time when = 0;
    enum vt_err err = vt_time_check_window("snp.crl", vt_crl_this_update(crl),
                                           vt_crl_next_update(crl), o->now, o->time_mode, d);
    if (err == VT_OK && vt_crl_is_revoked(crl, e->ca, &when)) {
        char cn[96];
        char at[VT_TIME_STR_MAX];
        if (vt_cert_subject_cn(e->ca, cn, sizeof(cn)) != VT_OK) {
            snprintf(cn, sizeof(cn), "?");
        }
        vt_time_format(when, at);
        err = vt_fail(d, VT_E_REVOKED, "snp.crl.revoked", "%s is revoked by the AMD CRL since %s",
                      cn, at);
    }
    if (err == VT_OK) {
        vt_claims_add_collateral(claims, "amd_crl", ce->der_sha256, vt_crl_this_update(crl),
                                 vt_crl_next_update(crl), -1);
    }
    vt_pincache_release(&v->crls, &pin);
    return err;
}

static enum vt_err check_tcb(const struct vt_snp_report *r, const struct vek_entry *e,
                             enum vt_snp_product p, struct vt_diag *d)
{
    struct vt_snp_tcb t;
    vt_snp_tcb_decode(r->reported_tcb_raw, p, &t);
    const struct vt_snp_vek_ext *x = &e->ext;
    bool fmc_ok = p != VT_SNP_TURIN || t.fmc == x->fmc_spl;
    if (t.bootloader != x->bl_spl || t.tee != x->tee_spl || t.snp != x->snp_spl ||
        t.microcode != x->ucode_spl || !fmc_ok) {
        return vt_fail(d, VT_E_TCB_INFO_MISMATCH, "snp.reported_tcb",
                       "REPORTED_TCB 0x%016llx is fmc %u bl %u tee %u snp %u ucode %u, the VEK's "
                       "TCB is fmc %u bl %u tee %u snp %u ucode %u",
                       (unsigned long long)t.raw, t.fmc, t.bootloader, t.tee, t.snp, t.microcode,
                       x->fmc_spl, x->bl_spl, x->tee_spl, x->snp_spl, x->ucode_spl);
    }
    return VT_OK;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

/* hwID == CHIP_ID for a VCEK (8 bytes on Turin, where the rest of CHIP_ID is zero), unless
 * CHIP_ID is masked (all zero). A VLEK is not chip-bound. */
static enum vt_err check_chip(const struct vt_snp_report *r, const struct vek_entry *e,
                              bool *masked, struct vt_diag *d)
{
    *masked = all_zero(r->chip_id, sizeof(r->chip_id));
    if (e->role != VT_SNP_KEY_VCEK || *masked) {
        return VT_OK;
    }
    size_t n = e->ext.hwid_len;
    if (memcmp(r->chip_id, e->ext.hwid, n) != 0 ||
        !all_zero(r->chip_id + n, sizeof(r->chip_id) - n)) {
        char got[2 * 64 + 1];
        char want[2 * 64 + 1];
        vt_hex_encode(r->chip_id, sizeof(r->chip_id), got);
        vt_hex_encode(e->ext.hwid, n, want);
        return vt_fail(d, VT_E_TCB_INFO_MISMATCH, "snp.chip_id",
                       "CHIP_ID %s is not the VCEK's hwID %s", got, want);
    }
    return VT_OK;
}

static enum vt_err check_signature(const struct vt_snp_report *r, const struct vek_entry *e,
                                   struct vt_diag *d)
{
    uint8_t sig[96];
    memcpy(sig, r->signature_r, 48);
    memcpy(sig + 48, r->signature_s, 48);
    if (vt_p384_verify(e->key, r->raw, VT_SNP_SIGNED_SIZE, sig) != VT_OK) {
        return vt_fail(d, VT_E_SIGNATURE, "snp.report.signature",
                       "the ECDSA P-384 signature over bytes 0x000-0x29F does not verify with "
                       "the %s",
                       key_name(e->role));
    }
    return VT_OK;
}

/* ---- Azure HCL runtime data ---- */

static enum vt_err check_runtime_hash(const struct vt_hcl_report *h, const struct vt_snp_report *r,
                                      struct vt_diag *d)
{
    uint8_t digest[VT_SHA512_LEN];
    size_t n = 0;
    if (h->hash_type == 1) {
        vt_sha256(h->runtime_data, h->runtime_data_len, digest);
        n = VT_SHA256_LEN;
    } else if (h->hash_type == 2) {
        vt_sha384(h->runtime_data, h->runtime_data_len, digest);
        n = VT_SHA384_LEN;
    } else {
        vt_sha512(h->runtime_data, h->runtime_data_len, digest);
        n = VT_SHA512_LEN;
    }
    if (!vt_ct_memeq(digest, r->report_data, n) ||
        !all_zero(r->report_data + n, sizeof(r->report_data) - n)) {
        char got[2 * 64 + 1];
        char want[2 * 64 + 1];
        vt_hex_encode(r->report_data, sizeof(r->report_data), got);
        vt_hex_encode(digest, n, want);
        return vt_fail(d, VT_E_BINDING, "hcl.runtime_data",
                       "REPORT_DATA %s is not the hash of the runtime data %s followed by zeros",
                       got, want);
    }
    return VT_OK;
}

static enum vt_err dump_compact(json_t *v, char *out, size_t cap, const char *what,
                                struct vt_diag *d)
{
    size_t need = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_SORT_KEYS);
    if (need == 0 || need >= cap) {
        return vt_fail(d, VT_E_TOO_LARGE, "hcl.runtime_data",
                       "%s is %zu bytes of JSON, at most %zu", what, need, cap - 1);
    }
    size_t n = json_dumpb(v, out, cap - 1, JSON_COMPACT | JSON_SORT_KEYS);
    out[n] = '\0';
    return VT_OK;
}

/* The claims of verified runtime data: its JWKs by kid, the vm-configuration object, and
 * "user-data" (hex) as the user_data binding claim. */
static enum vt_err runtime_claims(const struct vt_hcl_report *h, struct vt_claims *c,
                                  struct vt_diag *d)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)h->runtime_data, h->runtime_data_len,
                              JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return vt_fail(d, VT_E_BAD_JSON, "hcl.runtime_data",
                       "runtime data is not a JSON object: %s at offset %d",
                       root == NULL ? jerr.text : "not an object",
                       root == NULL ? jerr.position : 0);
    }
    struct vt_snp_claims *s = &c->snp;
    enum vt_err err = VT_OK;
    json_t *keys = json_object_get(root, "keys");
    if (keys != NULL && !json_is_array(keys)) {
        err = vt_fail(d, VT_E_BAD_JSON, "hcl.runtime_data.keys", "\"keys\" is not an array");
    }
    size_t i = 0;
    json_t *k = NULL;
    json_array_foreach(keys, i, k)
    {
        if (err != VT_OK) {
            break;
        }
        const char *kid = json_string_value(json_object_get(k, "kid"));
        if (!json_is_object(k) || kid == NULL || strlen(kid) >= sizeof(s->runtime_keys[0].kid)) {
            err = vt_fail(d, VT_E_BAD_JSON, "hcl.runtime_data.keys",
                          "keys[%zu] is not a JWK with a kid of at most %zu characters", i,
                          sizeof(s->runtime_keys[0].kid) - 1);
            break;
        }
        if (s->n_runtime_keys == VT_SNP_RUNTIME_KEYS_MAX) {
            err = vt_fail(d, VT_E_TOO_LARGE, "hcl.runtime_data.keys",
                          "more than %d keys in the runtime data", VT_SNP_RUNTIME_KEYS_MAX);
            break;
        }
        struct vt_snp_runtime_key *rk = &s->runtime_keys[s->n_runtime_keys];
        snprintf(rk->kid, sizeof(rk->kid), "%s", kid);
        err = dump_compact(k, rk->jwk, sizeof(rk->jwk), "a runtime JWK", d);
        s->n_runtime_keys++;
    }
    json_t *cfg = json_object_get(root, "vm-configuration");
    if (err == VT_OK && cfg != NULL) {
        err = json_is_object(cfg) ? dump_compact(cfg, s->vm_configuration,
                                                 sizeof(s->vm_configuration), "vm-configuration", d)
                                  : vt_fail(d, VT_E_BAD_JSON, "hcl.runtime_data.vm-configuration",
                                            "\"vm-configuration\" is not an object");
    }
    json_t *ud = json_object_get(root, "user-data");
    if (err == VT_OK && ud != NULL) {
        const char *hex = json_string_value(ud);
        size_t len = 0;
        if (hex == NULL || strlen(hex) / 2 > sizeof(c->user_data.data) ||
            vt_hex_decode(hex, strlen(hex), c->user_data.data, sizeof(c->user_data.data), &len) !=
                VT_OK) {
            err = vt_fail(d, VT_E_BAD_JSON, "hcl.runtime_data.user-data",
                          "\"user-data\" is not a hex string of at most %zu bytes",
                          sizeof(c->user_data.data));
        } else {
            c->user_data.present = true;
            c->user_data.len = len;
        }
    }
    s->has_runtime_data = err == VT_OK;
    json_decref(root);
    return err;
}

/* ---- claims ---- */

static void tcb_claim(uint64_t raw, enum vt_snp_product p, struct vt_snp_tcb_claim *out)
{
    struct vt_snp_tcb t;
    vt_snp_tcb_decode(raw, p, &t);
    out->raw = raw;
    out->fmc = t.fmc;
    out->bootloader = t.bootloader;
    out->tee = t.tee;
    out->snp = t.snp;
    out->microcode = t.microcode;
}

static void fill_claims(const struct vt_snp_report *r, const struct vek_entry *e,
                        enum vt_snp_product p, bool masked, vt_time now, struct vt_claims *c)
{
    struct vt_snp_claims *s = &c->snp;
    c->tee = VT_TEE_SEV_SNP;
    c->verified_at = now;
    c->status = VT_TCB_UP_TO_DATE;
    c->debug = (r->policy & (UINT64_C(1) << 19)) != 0;
    memcpy(c->report_data, r->report_data, sizeof(c->report_data));
    s->version = r->version;
    snprintf(s->product, sizeof(s->product), "%s", vt_snp_product_name(p));
    snprintf(s->product_name, sizeof(s->product_name), "%s", e->ext.product_name);
    memcpy(s->measurement, r->measurement, sizeof(s->measurement));
    memcpy(s->host_data, r->host_data, sizeof(s->host_data));
    memcpy(s->chip_id, r->chip_id, sizeof(s->chip_id));
    s->chip_id_masked = masked;
    s->vmpl = r->vmpl;
    s->guest_svn = r->guest_svn;
    s->policy = r->policy;
    s->platform_info = r->platform_info;
    s->key_info = r->key_info;
    memcpy(s->family_id, r->family_id, sizeof(s->family_id));
    memcpy(s->image_id, r->image_id, sizeof(s->image_id));
    memcpy(s->id_key_digest, r->id_key_digest, sizeof(s->id_key_digest));
    memcpy(s->author_key_digest, r->author_key_digest, sizeof(s->author_key_digest));
    memcpy(s->report_id, r->report_id, sizeof(s->report_id));
    memcpy(s->report_id_ma, r->report_id_ma, sizeof(s->report_id_ma));
    s->signing_key = e->role;
    snprintf(s->csp_id, sizeof(s->csp_id), "%s", e->ext.csp_id);
    s->cpuid_fam_id = r->cpuid_fam_id;
    s->cpuid_mod_id = r->cpuid_mod_id;
    s->cpuid_step = r->cpuid_step;
    s->current_build = r->current_build;
    s->current_minor = r->current_minor;
    s->current_major = r->current_major;
    s->committed_build = r->committed_build;
    s->committed_minor = r->committed_minor;
    s->committed_major = r->committed_major;
    s->launch_mit_vector = r->launch_mit_vector;
    s->current_mit_vector = r->current_mit_vector;
    tcb_claim(r->current_tcb_raw, p, &s->current_tcb);
    tcb_claim(r->reported_tcb_raw, p, &s->reported_tcb);
    tcb_claim(r->committed_tcb_raw, p, &s->committed_tcb);
    tcb_claim(r->launch_tcb_raw, p, &s->launch_tcb);
    uint8_t h[VT_SHA256_LEN];
    vt_cert_sha256(e->vek, h);
    vt_claims_add_collateral(c, e->role == VT_SNP_KEY_VCEK ? "vcek" : "vlek", h,
                             vt_cert_not_before(e->vek), vt_cert_not_after(e->vek), -1);
    vt_claims_note_expiry(c, vt_cert_not_after(e->ca));
    vt_claims_note_expiry(c, vt_cert_not_after(e->ark));
}

/* The checks after KEY_INFO with the pinned VEK entry. */
static enum vt_err verify_with_entry(struct vt_snp_verifier *v, const struct vt_snp_report *r,
                                     const struct vt_hcl_report *hcl, const struct vek_entry *e,
                                     const struct vt_snp_opts *opts, struct vt_claims *claims,
                                     struct vt_diag *d)
{
    enum vt_snp_product product = VT_SNP_UNKNOWN;
    VT_TRY(check_role_product(r, e, &product, d));
    for (size_t i = 0; i < sizeof(e->windows) / sizeof(e->windows[0]); i++) {
        const struct window *w = &e->windows[i];
        VT_TRY(vt_time_check_window(w->what, w->not_before, w->not_after, opts->now,
                                    opts->time_mode, d));
    }
    struct vt_claims c;
    vt_claims_init(&c);
    bool masked = false;
    VT_TRY(check_crl(v, e, opts, &c, d));
    VT_TRY(check_tcb(r, e, product, d));
    VT_TRY(check_chip(r, e, &masked, d));
    VT_TRY(check_signature(r, e, d));
    if (hcl != NULL) {
        VT_TRY(check_runtime_hash(hcl, r, d));
        VT_TRY(runtime_claims(hcl, &c, d));
    }
    fill_claims(r, e, product, masked, opts->now, &c);
    *claims = c;
    return VT_OK;
}

enum vt_err vt_snp_verify_report(struct vt_snp_verifier *v, const struct vt_snp_report *r,
                                 const struct vt_hcl_report *hcl, const struct vt_snp_opts *opts,
                                 struct vt_claims *claims, struct vt_diag *d)
{
    VT_ENSURE(v != NULL && r != NULL && opts != NULL && claims != NULL, d, VT_E_ARG, "snp.verify",
              "NULL argument");
    VT_TRY(check_key_info(r, d));
    struct vt_pin pin;
    VT_TRY(get_entry(v, opts, &pin, d));
    enum vt_err err = verify_with_entry(v, r, hcl, pin.value, opts, claims, d);
    vt_pincache_release(&v->cache, &pin);
    return err;
}

enum vt_err vt_snp_verify(struct vt_snp_verifier *v, const uint8_t *report, size_t len,
                          const struct vt_snp_opts *opts, struct vt_claims *claims,
                          struct vt_diag *d)
{
    VT_ENSURE(v != NULL && report != NULL && opts != NULL && claims != NULL, d, VT_E_ARG,
              "snp.verify", "NULL argument");
    struct vt_hcl_report hcl;
    bool is_hcl = len >= 4 && memcmp(report, "HCLA", 4) == 0;
    const uint8_t *raw = report;
    size_t raw_len = len;
    if (is_hcl) {
        VT_TRY(vt_hcl_report_parse(report, len, &hcl, d));
        raw = hcl.snp_report;
        raw_len = VT_SNP_REPORT_SIZE;
    }
    struct vt_snp_report r;
    VT_TRY(vt_snp_report_parse(raw, raw_len, &r, d));
    return vt_snp_verify_report(v, &r, is_hcl ? &hcl : NULL, opts, claims, d);
}
