/*
 * DCAP quote verification, deciding as Intel's QVL/QvE (DCAP 1.21) decide.
 *
 * Collateral (TCB info, QE identity, their issuer chains, the CRLs) is verified once when the
 * verifier is created; what depends on time is checked on every quote. A platform's signed parts
 * are cached by the exact bytes verified, in two caches: PCK chains by the SHA-256 of the quote's
 * certification data (the chain's signatures, names and constraints and the CRLs' issuers
 * checked once; the SGX extension and PCK key parsed once), and QE reports by the SHA-256 of the
 * chain, the QE report and its signature (the QE report signature checked once; the attestation
 * key parsed once). Every quote still gets the revocation lookups in this verifier's CRLs, every
 * validity window at its `now`, the QE report data binding, the QE identity and TCB level
 * selection, and its own quote signature: one P-256 verification per quote once the platform is
 * cached. docs/verify.md ("Caches") gives the argument. Step numbers cite spec/dcap.md section 4.
 *
 * Thread safety: the verifier's only mutable state is its two caches, pinned caches
 * (src/base/pincache.h, lock-free lookups): a verification pins the entries it uses, which are
 * then neither evicted nor changed; entries are built outside the caches and read-only once
 * stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <veritee/limits.h>

#include "base/encoding.h"
#include "base/pincache.h"
#include "base/time_check.h"
#include "claims/claims_fill.h"
#include "tee/dcap/dcap.h"

#include "tee/tee_internal.h"

#define WINDOW_ITEMS_MAX 24

/* A validity window checked against now on every verification. */
struct window_item {
    char what[48];
    vt_time not_before;
    vt_time not_after;
};

/* A verified PCK chain: everything a quote needs from it. Read-only once stored. */
struct pck_entry {
    struct vt_key *key;
    struct vt_cert *leaf, *ca; /* for the revocation lookups of every quote */
    struct vt_sgx_pck_ext ext;
    char pck_ca[12];
    struct window_item certs[3];
};

/*
 * A QE report whose signature by the PCK key verified (keyed by qe_id), with the attestation key
 * of the quote that first brought it, parsed once: the QE report's data binds the attestation
 * key (step 9), so every quote that passes step 9 with this QE report carries the same key.
 * Read-only once stored.
 */
struct qe_entry {
    uint8_t att_xy[64];
    struct vt_key *att_key; /* NULL if that quote's key was not a valid point */
};

struct vt_dcap_verifier {
    struct vt_cert_list anchors;
    const struct vt_dcap_collateral *coll;
    struct window_item items[WINDOW_ITEMS_MAX];
    size_t n_items;
    uint8_t tcb_info_sha256[VT_SHA256_LEN];
    uint8_t qe_identity_sha256[VT_SHA256_LEN];
    uint8_t pck_crl_sha256[VT_SHA256_LEN];
    uint8_t root_crl_sha256[VT_SHA256_LEN];
    vt_time chains_earliest_expiry;
    struct vt_pincache pck_cache; /* struct pck_entry by SHA-256 of the certification data */
    struct vt_pincache qe_cache;  /* struct qe_entry by qe_id */
};

static void pck_entry_free(void *value)
{
    struct pck_entry *e = value;
    vt_key_free(e->key);
    vt_cert_free(e->leaf);
    vt_cert_free(e->ca);
    free(e);
}

static void qe_entry_free(void *value)
{
    struct qe_entry *e = value;
    vt_key_free(e->att_key);
    free(e);
}

static void add_item(struct vt_dcap_verifier *v, const char *what, vt_time nb, vt_time na)
{
    if (v->n_items < WINDOW_ITEMS_MAX) {
        struct window_item *it = &v->items[v->n_items++];
        snprintf(it->what, sizeof(it->what), "%s", what);
        it->not_before = nb;
        it->not_after = na;
    }
}

static void add_chain_items(struct vt_dcap_verifier *v, const struct vt_cert_list *chain,
                            const char *label)
{
    for (size_t i = 0; i < chain->n; i++) {
        char what[48];
        snprintf(what, sizeof(what), "%s[%zu]", label, i);
        add_item(v, what, vt_cert_not_before(chain->certs[i]), vt_cert_not_after(chain->certs[i]));
        if (vt_cert_not_after(chain->certs[i]) < v->chains_earliest_expiry) {
            v->chains_earliest_expiry = vt_cert_not_after(chain->certs[i]);
        }
    }
}

static vt_time latest_not_before(const struct vt_cert_list *chain)
{
    vt_time t = INT64_MIN;
    for (size_t i = 0; i < chain->n; i++) {
        vt_time nb = vt_cert_not_before(chain->certs[i]);
        t = nb > t ? nb : t;
    }
    return t;
}

/*
 * Verify an issuer chain's structure and signatures, independent of time: checked at the latest
 * notBefore of its certificates in expiry-only mode, so only an empty validity window fails.
 * The time itself is checked per verification through the window items.
 */
static enum vt_err verify_chain_untimed(const struct vt_cert_list *chain,
                                        const struct vt_cert_list *anchors, const char *what,
                                        struct vt_diag *d)
{
    return vt_chain_verify(chain, anchors, latest_not_before(chain), VT_TIME_EXPIRY_ONLY, what, d);
}

/* SPEC: QVL sgxAttestationVerifyTCBInfo / VerifyEnclaveIdentity: a 2-certificate chain (signer,
 * root) to the trusted root, signer not revoked by the root CA CRL, signature over the raw body. */
enum vt_err vt_dcap_signed_doc_verify(const struct vt_cert_list *chain,
                                      const struct vt_cert_list *anchors,
                                      const struct vt_crl *root_crl, const uint8_t *body,
                                      size_t body_len, const uint8_t sig[64], const char *doc,
                                      const char *chain_name, struct vt_diag *d)
{
    VT_ENSURE(chain->n == 2, d, VT_E_CHAIN_LENGTH, chain_name,
              "%s has %zu certificates; expected 2 (signing certificate, root)", chain_name,
              chain->n);
    /* SPEC: QVL X509Constants: the collateral signer is the "Intel SGX TCB Signing"
     * certificate under the "Intel SGX Root CA" (substring checks, as for the PCK chain). */
    char cn[2][160];
    for (size_t i = 0; i < 2; i++) {
        if (vt_cert_subject_cn(chain->certs[i], cn[i], sizeof(cn[i])) != VT_OK) {
            snprintf(cn[i], sizeof(cn[i]), "(none)");
        }
    }
    if (strstr(cn[0], "SGX TCB Signing") == NULL || strstr(cn[1], "SGX Root CA") == NULL) {
        return vt_fail(d, VT_E_CHAIN_NAME, chain_name,
                       "%s names signer \"%s\" and root \"%s\"; expected \"SGX TCB Signing\" and "
                       "\"SGX Root CA\"",
                       chain_name, cn[0], cn[1]);
    }
    VT_TRY(verify_chain_untimed(chain, anchors, chain_name, d));
    /* Without a root CRL (the collateral cache checking a download) revocation is left to
     * verification time. */
    if (root_crl != NULL) {
        VT_TRY(vt_crl_check_issuer(root_crl, chain->certs[1], "root_ca_crl", d));
        if (vt_crl_is_revoked(root_crl, chain->certs[0], NULL)) {
            char serial[80];
            vt_cert_serial_hex(chain->certs[0], serial, sizeof(serial));
            return vt_fail(d, VT_E_REVOKED, chain_name,
                           "%s signing certificate serial %s is revoked by the root CA CRL", doc,
                           serial);
        }
    }
    uint8_t xy[64];
    VT_TRY(vt_cert_p256_xy(chain->certs[0], xy, d));
    enum vt_err err = vt_p256_verify_xy(xy, body, body_len, sig, d);
    if (err == VT_E_SIGNATURE) {
        return vt_fail(d, VT_E_COLLATERAL_SIGNATURE, doc,
                       "%s signature does not verify over its %zu-byte body with the key of %s",
                       doc, body_len, chain_name);
    }
    return err;
}

void vt_dcap_verifier_free(struct vt_dcap_verifier *v)
{
    if (v == NULL) {
        return;
    }
    vt_pincache_cleanup(&v->pck_cache);
    vt_pincache_cleanup(&v->qe_cache);
    vt_cert_list_cleanup(&v->anchors);
    free(v);
}

enum vt_err vt_dcap_verifier_new(const struct vt_cert_list *anchors,
                                 const struct vt_dcap_collateral *coll,
                                 struct vt_dcap_verifier **out, struct vt_diag *d)
{
    VT_ENSURE(coll != NULL && out != NULL, d, VT_E_ARG, "verifier", "NULL argument");
    struct vt_dcap_verifier *v = calloc(1, sizeof(*v));
    VT_ENSURE(v != NULL, d, VT_E_NOMEM, "verifier", "cannot allocate the verifier");
    if (vt_pincache_init(&v->pck_cache, VT_DCAP_PCK_CACHE_SIZE, pck_entry_free) != VT_OK ||
        vt_pincache_init(&v->qe_cache, VT_DCAP_PCK_CACHE_SIZE, qe_entry_free) != VT_OK) {
        vt_pincache_cleanup(&v->pck_cache);
        free(v);
        return vt_fail(d, VT_E_NOMEM, "verifier", "cannot create the verifier's PCK chain cache");
    }
    vt_cert_list_init(&v->anchors);
    v->coll = coll;
    v->chains_earliest_expiry = INT64_MAX;
    enum vt_err err = VT_OK;
    if (anchors == NULL) {
        err = vt_intel_sgx_root_add(&v->anchors, d);
    } else {
        for (size_t i = 0; i < anchors->n && err == VT_OK; i++) {
            err = vt_cert_list_add(&v->anchors, anchors->certs[i]);
        }
    }
    if (err != VT_OK) {
        goto out_fail;
    }
    const struct vt_tcb_info *ti = &coll->tcb_info;
    const struct vt_qe_identity *qi = &coll->qe_identity;
    if ((err = vt_dcap_signed_doc_verify(&coll->tcb_info_chain, &v->anchors, coll->root_ca_crl,
                                         ti->body, ti->body_len, ti->signature, "tcb_info",
                                         "tcb_info_issuer_chain", d)) ||
        (err = vt_dcap_signed_doc_verify(&coll->qe_identity_chain, &v->anchors, coll->root_ca_crl,
                                         qi->body, qi->body_len, qi->signature, "qe_identity",
                                         "qe_identity_issuer_chain", d))) {
        goto out_fail;
    }
    /* The PCK CRL's issuer is checked against each quote's PCK CA; a supplied issuer chain must
     * itself be valid and must have issued the CRL. */
    if (coll->pck_crl_chain.n > 0) {
        if ((err = verify_chain_untimed(&coll->pck_crl_chain, &v->anchors, "pck_crl_issuer_chain",
                                        d)) ||
            (err =
                 vt_crl_check_issuer(coll->pck_crl, coll->pck_crl_chain.certs[0], "pck_crl", d))) {
            goto out_fail;
        }
        add_chain_items(v, &coll->pck_crl_chain, "pck_crl_issuer_chain");
    }
    add_item(v, "tcb_info", ti->issue_date, ti->next_update);
    add_item(v, "qe_identity", qi->issue_date, qi->next_update);
    add_item(v, "pck_crl", vt_crl_this_update(coll->pck_crl), vt_crl_next_update(coll->pck_crl));
    add_item(v, "root_ca_crl", vt_crl_this_update(coll->root_ca_crl),
             vt_crl_next_update(coll->root_ca_crl));
    add_chain_items(v, &coll->tcb_info_chain, "tcb_info_issuer_chain");
    add_chain_items(v, &coll->qe_identity_chain, "qe_identity_issuer_chain");

    vt_sha256(coll->tcb_info_raw, coll->tcb_info_len, v->tcb_info_sha256);
    vt_sha256(coll->qe_identity_raw, coll->qe_identity_len, v->qe_identity_sha256);
    size_t n;
    const uint8_t *der = vt_crl_der(coll->pck_crl, &n);
    vt_sha256(der, n, v->pck_crl_sha256);
    der = vt_crl_der(coll->root_ca_crl, &n);
    vt_sha256(der, n, v->root_crl_sha256);
    *out = v;
    return VT_OK;

out_fail:
    vt_dcap_verifier_free(v);
    return err;
}

/* SPEC: QVL sgxAttestationVerifyPCKCertificate and QuoteVerifier steps 1-3. */
static enum vt_err build_pck_entry(const struct vt_dcap_verifier *v, const struct vt_dcap_quote *q,
                                   struct pck_entry *e, struct vt_diag *d)
{
    const struct vt_dcap_collateral *coll = v->coll;
    struct vt_cert_list chain;
    vt_cert_list_init(&chain);
    enum vt_err err =
        vt_cert_list_from_pem((const char *)q->cert_data, q->cert_data_len, &chain, d);
    if (err != VT_OK) {
        return err;
    }
    if (chain.n != 3) {
        err = vt_fail(d, VT_E_CHAIN_LENGTH, "pck_chain",
                      "PCK chain in the quote has %zu certificates; expected 3 (leaf, CA, root)",
                      chain.n);
        goto out;
    }
    struct vt_cert *leaf = chain.certs[0];
    struct vt_cert *ca = chain.certs[1];
    struct vt_cert *root = chain.certs[2];
    char cn[3][160];
    for (size_t i = 0; i < 3; i++) {
        if (vt_cert_subject_cn(chain.certs[i], cn[i], sizeof(cn[i])) != VT_OK) {
            snprintf(cn[i], sizeof(cn[i]), "(none)");
        }
    }
    /* SPEC: QVL X509Constants: CN phrases of root, intermediate and leaf. */
    if (strstr(cn[2], "SGX Root CA") == NULL || strstr(cn[1], "CA") == NULL ||
        strstr(cn[0], "SGX PCK Certificate") == NULL) {
        err = vt_fail(d, VT_E_CHAIN_NAME, "pck_chain.names",
                      "PCK chain names leaf \"%s\", CA \"%s\", root \"%s\"; expected \"SGX PCK "
                      "Certificate\", \"CA\", \"SGX Root CA\"",
                      cn[0], cn[1], cn[2]);
        goto out;
    }
    if ((err = verify_chain_untimed(&chain, &v->anchors, "pck_chain", d))) {
        goto out;
    }
    /* SPEC: the root CA CRL must be signed by this chain's root; the PCK CRL's issuer must be
     * the CA that issued the PCK certificate (QuoteVerifier step 2). */
    if ((err = vt_crl_check_issuer(coll->root_ca_crl, root, "root_ca_crl", d)) ||
        (err = vt_crl_check_issuer(coll->pck_crl, ca, "pck_crl", d))) {
        goto out;
    }
    /* Revocation is looked up for every quote (check_revoked), with the certificates kept. */
    e->leaf = vt_cert_ref(leaf);
    e->ca = vt_cert_ref(ca);
    const uint8_t *ext;
    size_t ext_len;
    if (vt_cert_extension(leaf, VT_SGX_EXT_OID, &ext, &ext_len) != VT_OK) {
        err = vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                      "PCK certificate has no SGX extension (%s)", VT_SGX_EXT_OID);
        goto out;
    }
    if ((err = vt_sgx_pck_ext_parse(ext, ext_len, &e->ext, d))) {
        goto out;
    }
    uint8_t xy[64];
    if ((err = vt_cert_p256_xy(leaf, xy, d)) || (err = vt_key_from_p256_xy(xy, &e->key, d))) {
        goto out;
    }
    snprintf(e->pck_ca, sizeof(e->pck_ca), "%s",
             strstr(cn[1], "Processor") ? "processor"
                                        : (strstr(cn[1], "Platform") ? "platform" : "unknown"));
    static const char *const labels[3] = {"pck_chain[0] (PCK certificate)", "pck_chain[1] (PCK CA)",
                                          "pck_chain[2] (root CA)"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(e->certs[i].what, sizeof(e->certs[i].what), "%s", labels[i]);
        e->certs[i].not_before = vt_cert_not_before(chain.certs[i]);
        e->certs[i].not_after = vt_cert_not_after(chain.certs[i]);
    }
out:
    vt_cert_list_cleanup(&chain);
    return err;
}

/* The entry for the quote's certification data (id: its SHA-256), pinned in *pin:
 * vt_pincache_release unpins. */
static enum vt_err get_pck_entry(struct vt_dcap_verifier *v, const struct vt_dcap_quote *q,
                                 const uint8_t chain_sha256[VT_SHA256_LEN], struct vt_pin *pin,
                                 struct vt_diag *d)
{
    if (vt_pincache_get(&v->pck_cache, chain_sha256, NULL, NULL, pin) != NULL) {
        return VT_OK;
    }
    struct pck_entry *e = calloc(1, sizeof(*e));
    VT_ENSURE(e != NULL, d, VT_E_NOMEM, "pck_chain", "no memory for the PCK chain entry");
    enum vt_err err = build_pck_entry(v, q, e, d);
    if (err != VT_OK) {
        pck_entry_free(e);
        return err;
    }
    (void)vt_pincache_put(&v->pck_cache, chain_sha256, e, NULL, NULL, pin);
    return VT_OK;
}

/* SPEC: step 8: the QE report is signed by the PCK key. Checked once per (PCK chain, QE report,
 * signature): the entry is keyed by SHA-256(SHA-256 of the chain || QE report || signature), the
 * exact bytes verified, and pinned in *pin. A report whose signature fails is not kept. */
static enum vt_err get_qe_entry(struct vt_dcap_verifier *v, const struct vt_dcap_quote *q,
                                const struct pck_entry *pck,
                                const uint8_t chain_sha256[VT_SHA256_LEN], struct vt_pin *pin,
                                struct vt_diag *d)
{
    uint8_t qe[VT_SGX_REPORT_SIZE + 64], id[VT_SHA256_LEN];
    memcpy(qe, q->qe_report.raw, VT_SGX_REPORT_SIZE);
    memcpy(qe + VT_SGX_REPORT_SIZE, q->qe_report_signature, 64);
    vt_sha256_2(chain_sha256, VT_SHA256_LEN, qe, sizeof(qe), id);
    if (vt_pincache_get(&v->qe_cache, id, NULL, NULL, pin) != NULL) {
        return VT_OK;
    }
    VT_ENSURE(vt_p256_verify(pck->key, q->qe_report.raw, VT_SGX_REPORT_SIZE,
                             q->qe_report_signature) == VT_OK,
              d, VT_E_QE_REPORT_SIGNATURE, "quote.qe_report_signature",
              "QE report signature does not verify with the PCK certificate's key");
    struct qe_entry *e = calloc(1, sizeof(*e));
    VT_ENSURE(e != NULL, d, VT_E_NOMEM, "quote.qe_report", "no memory for the QE report entry");
    struct vt_diag kd;
    if (vt_key_from_p256_xy(q->attest_key, &e->att_key, &kd) == VT_OK) {
        memcpy(e->att_xy, q->attest_key, 64);
    }
    (void)vt_pincache_put(&v->qe_cache, id, e, NULL, NULL, pin);
    return VT_OK;
}

/* The module identity "TDX_%02X" for a module major version, compared case-insensitively as
 * QVL does; NULL if the TCB info has none. */
static const struct vt_tdx_module_identity *find_module_identity(const struct vt_tcb_info *ti,
                                                                 uint8_t major, char want[16])
{
    snprintf(want, 16, "TDX_%02X", major);
    for (size_t i = 0; i < ti->n_module_identities; i++) {
        if (strcasecmp(ti->module_identities[i].id, want) == 0) {
            return &ti->module_identities[i];
        }
    }
    return NULL;
}

/* SPEC: QVL TdxModuleCheck (QuoteVerifier step 7). */
static enum vt_err check_tdx_module(const struct vt_tcb_info *ti, const struct vt_td_report *td,
                                    const struct vt_tdx_module_identity **ident, struct vt_diag *d)
{
    *ident = NULL;
    VT_ENSURE(ti->has_tdx_module, d, VT_E_TDX_MODULE_MISMATCH, "tcb_info.tdxModule",
              "TDX TCB info has no tdxModule");
    const uint8_t *mrsigner = ti->tdx_module_mrsigner;
    const uint8_t *attributes = ti->tdx_module_attributes;
    if (td->tee_tcb_svn[1] > 0) {
        char want[16];
        *ident = find_module_identity(ti, td->tee_tcb_svn[1], want);
        VT_ENSURE(*ident != NULL, d, VT_E_TDX_MODULE_MISMATCH, "tcb_info.tdxModuleIdentities",
                  "TEE_TCB_SVN[1] = %u needs module identity %s; TCB info has %zu identities "
                  "and none is %s",
                  td->tee_tcb_svn[1], want, ti->n_module_identities, want);
        mrsigner = (*ident)->mrsigner;
        attributes = (*ident)->attributes;
    }
    if (memcmp(td->mrsignerseam, mrsigner, 48) != 0) {
        char got[97], want[97];
        vt_hex_encode(td->mrsignerseam, 48, got);
        vt_hex_encode(mrsigner, 48, want);
        return vt_fail(d, VT_E_TDX_MODULE_MISMATCH, "td_report.mrsignerseam",
                       "MRSIGNERSEAM %s; TCB info expects %s", got, want);
    }
    static const uint8_t zero[8];
    if (memcmp(td->seam_attributes, zero, 8) != 0 || memcmp(td->seam_attributes, attributes, 8)) {
        char got[17], want[17];
        vt_hex_encode(td->seam_attributes, 8, got);
        vt_hex_encode(attributes, 8, want);
        return vt_fail(d, VT_E_TDX_MODULE_MISMATCH, "td_report.seam_attributes",
                       "SEAMATTRIBUTES %s; expected all zero and equal to %s", got, want);
    }
    return VT_OK;
}

static bool masked_equal(const uint8_t *value, const uint8_t *mask, const uint8_t *expected,
                         size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((value[i] & mask[i]) != expected[i]) {
            return false;
        }
    }
    return true;
}

/* SPEC: QVL EnclaveReportVerifier / QuoteVerifier step 10: QE identity match and status. */
static enum vt_err check_qe_identity(const struct vt_qe_identity *qi, enum vt_tee tee,
                                     const struct vt_sgx_report *qe,
                                     const struct vt_isv_level **level, struct vt_diag *d)
{
    enum vt_identity_id want = tee == VT_TEE_TDX ? VT_IDENTITY_TD_QE : VT_IDENTITY_QE;
    VT_ENSURE(qi->id == want, d, VT_E_QE_IDENTITY_MISMATCH, "qe_identity.id",
              "QE identity is for %s; a %s quote needs %s",
              qi->id == VT_IDENTITY_TD_QE ? "TD_QE" : (qi->id == VT_IDENTITY_QE ? "QE" : "QVE/QAE"),
              vt_tee_name(tee), want == VT_IDENTITY_TD_QE ? "TD_QE" : "QE");
    uint8_t misc[4] = {(uint8_t)qe->miscselect, (uint8_t)(qe->miscselect >> 8),
                       (uint8_t)(qe->miscselect >> 16), (uint8_t)(qe->miscselect >> 24)};
    char a[65], b[65], m[65];
    if (!masked_equal(misc, qi->miscselect_mask, qi->miscselect, 4)) {
        vt_hex_encode(misc, 4, a);
        vt_hex_encode(qi->miscselect_mask, 4, m);
        vt_hex_encode(qi->miscselect, 4, b);
        return vt_fail(d, VT_E_QE_IDENTITY_MISMATCH, "qe_report.miscselect",
                       "QE MISCSELECT %s masked with %s; expected %s", a, m, b);
    }
    if (!masked_equal(qe->attributes, qi->attributes_mask, qi->attributes, 16)) {
        vt_hex_encode(qe->attributes, 16, a);
        vt_hex_encode(qi->attributes_mask, 16, m);
        vt_hex_encode(qi->attributes, 16, b);
        return vt_fail(d, VT_E_QE_IDENTITY_MISMATCH, "qe_report.attributes",
                       "QE ATTRIBUTES %s masked with %s; expected %s", a, m, b);
    }
    if (memcmp(qe->mrsigner, qi->mrsigner, 32) != 0) {
        vt_hex_encode(qe->mrsigner, 32, a);
        vt_hex_encode(qi->mrsigner, 32, b);
        return vt_fail(d, VT_E_QE_IDENTITY_MISMATCH, "qe_report.mrsigner",
                       "QE MRSIGNER %s; expected %s", a, b);
    }
    VT_ENSURE(qe->isv_prod_id == qi->isvprodid, d, VT_E_QE_IDENTITY_MISMATCH, "qe_report.isvprodid",
              "QE ISVPRODID %u; expected %u", qe->isv_prod_id, qi->isvprodid);
    for (size_t i = 0; i < qi->n_levels; i++) {
        if (qi->levels[i].isvsvn <= qe->isv_svn) {
            *level = &qi->levels[i];
            return VT_OK;
        }
    }
    return vt_fail(d, VT_E_TCB_NOT_SUPPORTED, "qe_identity.tcbLevels",
                   "QE ISVSVN %u is below every QE identity level (lowest %u)", qe->isv_svn,
                   qi->n_levels ? qi->levels[qi->n_levels - 1].isvsvn : 0);
}

static bool sgx_level_ok(const struct vt_tcb_level *l, const struct vt_sgx_pck_ext *ext)
{
    for (size_t i = 0; i < 16; i++) {
        if (ext->tcb_components[i] < l->sgx_components[i]) {
            return false;
        }
    }
    return ext->pcesvn >= l->pcesvn;
}

static bool tdx_level_ok(const struct vt_tcb_level *l, const uint8_t tee_tcb_svn[16], size_t start)
{
    for (size_t i = start; i < 16; i++) {
        if (tee_tcb_svn[i] < l->tdx_components[i]) {
            return false;
        }
    }
    return true;
}

static bool needs_config(enum vt_tcb_status s)
{
    return s == VT_TCB_CONFIGURATION_NEEDED || s == VT_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED ||
           s == VT_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED ||
           s == VT_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
}

/* SPEC: QVL convergence of an OutOfDate or Revoked identity (QE or TDX module) status with the
 * platform status (sections 4.3 and 4.4). */
static enum vt_tcb_status converge(enum vt_tcb_status platform, enum vt_tcb_status identity)
{
    if (identity == VT_TCB_REVOKED) {
        return VT_TCB_REVOKED;
    }
    if (identity != VT_TCB_OUT_OF_DATE) {
        return platform;
    }
    switch (platform) {
    case VT_TCB_UP_TO_DATE:
    case VT_TCB_SW_HARDENING_NEEDED:
        return VT_TCB_OUT_OF_DATE;
    case VT_TCB_CONFIGURATION_NEEDED:
    case VT_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED:
        return VT_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
    default:
        return platform;
    }
}

static void svns_text(const uint8_t *svn, size_t n, char *out, size_t cap)
{
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && off + 5 < cap; i++) {
        int w = snprintf(out + off, cap - off, "%s%u", i ? "," : "", svn[i]);
        off += (size_t)w;
    }
}

static enum vt_err not_supported(const struct vt_tcb_info *ti, const struct vt_sgx_pck_ext *ext,
                                 const struct vt_td_report *td, const char *which,
                                 struct vt_diag *d)
{
    char comps[80], tee[80] = "";
    svns_text(ext->tcb_components, 16, comps, sizeof(comps));
    if (td != NULL) {
        svns_text(td->tee_tcb_svn, 16, tee, sizeof(tee));
    }
    return vt_fail(d, VT_E_TCB_NOT_SUPPORTED, "tcb_info.tcbLevels",
                   "no %s level of %zu matches: PCK SGX TCB components [%s], PCESVN %u%s%s%s",
                   which, ti->n_levels, comps, ext->pcesvn, td ? ", TEE_TCB_SVN [" : "", tee,
                   td ? "]" : "");
}

static enum vt_err add_advisories(struct vt_advisories *a, size_t n,
                                  char (*ids)[VT_ADVISORY_ID_MAX], struct vt_diag *d)
{
    for (size_t i = 0; i < n; i++) {
        VT_ENSURE(vt_advisories_add(a, ids[i]) == VT_OK, d, VT_E_TOO_LARGE, "advisory_ids",
                  "more than %d advisory IDs", VT_MAX_ADVISORIES);
    }
    return VT_OK;
}

struct tcb_result {
    const struct vt_tcb_level *sgx_level;
    const struct vt_tcb_level *tcb_level; /* the matched level: sgx_level or the TDX level */
    const struct vt_isv_level *module_level;
    const struct vt_tdx_module_identity *module;
};

/* SPEC: QVL TcbLevelCheck, TdxModuleCheck (module status), TDRelaunchCheck (sections 4.3). */
static enum vt_err evaluate_tcb(const struct vt_tcb_info *ti, const struct vt_dcap_quote *q,
                                const struct vt_sgx_pck_ext *ext,
                                const struct vt_tdx_module_identity *module, struct tcb_result *r,
                                struct vt_diag *d)
{
    memset(r, 0, sizeof(*r));
    r->module = module;
    bool tdx = q->tee_type == VT_DCAP_TEE_TDX;
    size_t start = tdx && q->td.tee_tcb_svn[1] > 0 ? 2 : 0;
    for (size_t i = 0; i < ti->n_levels; i++) {
        const struct vt_tcb_level *l = &ti->levels[i];
        if (!sgx_level_ok(l, ext)) {
            continue;
        }
        if (r->sgx_level == NULL) {
            r->sgx_level = l;
        }
        if (!tdx || tdx_level_ok(l, q->td.tee_tcb_svn, start)) {
            r->tcb_level = l;
            break;
        }
    }
    if (r->sgx_level == NULL) {
        return not_supported(ti, ext, tdx ? &q->td : NULL, "SGX TCB", d);
    }
    if (r->tcb_level == NULL) {
        return not_supported(ti, ext, &q->td, "TDX TCB", d);
    }
    if (module != NULL) {
        for (size_t i = 0; i < module->n_levels; i++) {
            if (q->td.tee_tcb_svn[0] >= module->levels[i].isvsvn) {
                r->module_level = &module->levels[i];
                break;
            }
        }
        VT_ENSURE(r->module_level != NULL, d, VT_E_TCB_NOT_SUPPORTED,
                  "tcb_info.tdxModuleIdentities.tcbLevels",
                  "TDX module SVN %u (TEE_TCB_SVN[0]) is below every level of %s",
                  q->td.tee_tcb_svn[0], module->id);
    }
    return VT_OK;
}

/*
 * SPEC: QVL TcbLevelCheck.cpp checkTcbLevel and TDRelaunchCheck.cpp checkForRelaunch (DCAP 1.21),
 * for TD 1.5 bodies (v5 body type 3) only. *status is the TDX status *after* the module status has
 * been merged into the TDX level's (convergeTcbStatusWithTdxModuleStatus): the rule is for a TD
 * whose platform is current except for the module it was launched on, so a level UpToDate or
 * SWHardeningNeeded that the OutOfDate module made OutOfDate (or ConfigurationNeeded made
 * OutOfDateConfigurationNeeded) qualifies. When every condition holds, TEE_TCB_SVN_2 (the module
 * now loaded) is compared with the top TCB level, or with the top level of the module identity
 * TEE_TCB_SVN_2[1] names; naming none is VT_E_TDX_MODULE_MISMATCH, as QVL returns
 * STATUS_TDX_MODULE_MISMATCH there. The QE status is merged afterwards by the caller.
 */
static enum vt_err relaunch(const struct vt_tcb_info *ti, const struct vt_dcap_quote *q,
                            const struct tcb_result *r, enum vt_tcb_status qe_status,
                            enum vt_tcb_status *status, struct vt_diag *d)
{
    if (q->body_type != VT_DCAP_BODY_TD15 || r->module_level == NULL) {
        return VT_OK;
    }
    enum vt_tcb_status sgx = r->sgx_level->status, tdx = *status;
    bool sgx_ok = sgx == VT_TCB_UP_TO_DATE || sgx == VT_TCB_SW_HARDENING_NEEDED ||
                  sgx == VT_TCB_CONFIGURATION_NEEDED ||
                  sgx == VT_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED;
    bool tdx_out = tdx == VT_TCB_OUT_OF_DATE || tdx == VT_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
    if (qe_status == VT_TCB_OUT_OF_DATE || qe_status == VT_TCB_REVOKED || !sgx_ok || !tdx_out ||
        r->module_level->status != VT_TCB_OUT_OF_DATE) {
        return VT_OK;
    }
    VT_ENSURE(ti->n_levels > 0, d, VT_E_TCB_NOT_SUPPORTED, "tcb_info.tcbLevels",
              "the TD relaunch check needs the top TCB level; the TCB info has none");
    const uint8_t *svn2 = q->td.tee_tcb_svn2;
    const struct vt_tcb_level *top = &ti->levels[0];
    bool ok;
    if (svn2[1] == 0) {
        ok = svn2[0] >= top->tdx_components[0] && svn2[2] >= top->tdx_components[2];
    } else {
        char want[16];
        const struct vt_tdx_module_identity *m = find_module_identity(ti, svn2[1], want);
        VT_ENSURE(m != NULL, d, VT_E_TDX_MODULE_MISMATCH, "td_report.tee_tcb_svn2",
                  "TD relaunch check: TEE_TCB_SVN_2[1] = %u needs module identity %s; TCB info "
                  "has %zu identities and none is %s",
                  svn2[1], want, ti->n_module_identities, want);
        VT_ENSURE(m->n_levels > 0, d, VT_E_TCB_NOT_SUPPORTED,
                  "tcb_info.tdxModuleIdentities.tcbLevels",
                  "TD relaunch check: module identity %s has no TCB level", m->id);
        ok = svn2[0] >= m->levels[0].isvsvn && svn2[2] >= top->tdx_components[2];
    }
    if (ok) {
        *status = needs_config(sgx) || needs_config(tdx)
                      ? VT_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED
                      : VT_TCB_TD_RELAUNCH_ADVISED;
    }
    return VT_OK;
}

enum vt_err vt_dcap_platform_status(const struct vt_tcb_info *ti, const uint8_t sgx_components[16],
                                    uint16_t pcesvn, const uint8_t *tee_tcb_svn,
                                    enum vt_tcb_status *out, struct vt_advisories *adv,
                                    struct vt_diag *d)
{
    struct vt_dcap_quote q;
    memset(&q, 0, sizeof(q));
    q.tee_type = tee_tcb_svn != NULL ? VT_DCAP_TEE_TDX : VT_DCAP_TEE_SGX;
    if (tee_tcb_svn != NULL) {
        memcpy(q.td.tee_tcb_svn, tee_tcb_svn, 16);
    }
    struct vt_sgx_pck_ext ext;
    memset(&ext, 0, sizeof(ext));
    memcpy(ext.tcb_components, sgx_components, 16);
    ext.pcesvn = pcesvn;
    const struct vt_tdx_module_identity *module = NULL;
    if (tee_tcb_svn != NULL && ti->version > 2 && tee_tcb_svn[1] > 0) {
        char want[16];
        module = find_module_identity(ti, tee_tcb_svn[1], want);
        VT_ENSURE(module != NULL, d, VT_E_TDX_MODULE_MISMATCH, "tcb_info.tdxModuleIdentities",
                  "no module identity %s", want);
    }
    struct tcb_result r;
    VT_TRY(evaluate_tcb(ti, &q, &ext, module, &r, d));
    *out = r.tcb_level->status;
    if (r.module_level != NULL) {
        *out = converge(*out, r.module_level->status);
    }
    if (adv != NULL) {
        memset(adv, 0, sizeof(*adv));
        VT_TRY(add_advisories(adv, r.tcb_level->n_advisories, r.tcb_level->advisory_ids, d));
        if (r.module_level != NULL) {
            VT_TRY(
                add_advisories(adv, r.module_level->n_advisories, r.module_level->advisory_ids, d));
        }
    }
    return VT_OK;
}

static void fill_measurements(const struct vt_dcap_quote *q, struct vt_claims *c)
{
    if (q->tee_type == VT_DCAP_TEE_SGX) {
        const struct vt_sgx_report *s = &q->sgx;
        c->tee = VT_TEE_SGX;
        memcpy(c->sgx.mrenclave, s->mrenclave, 32);
        memcpy(c->sgx.mrsigner, s->mrsigner, 32);
        c->sgx.isv_prod_id = s->isv_prod_id;
        c->sgx.isv_svn = s->isv_svn;
        c->sgx.config_svn = s->config_svn;
        memcpy(c->sgx.cpusvn, s->cpusvn, 16);
        c->sgx.miscselect = s->miscselect;
        memcpy(c->sgx.attributes, s->attributes, 16);
        memcpy(c->sgx.config_id, s->config_id, 64);
        memcpy(c->sgx.isv_ext_prod_id, s->isv_ext_prod_id, 16);
        memcpy(c->sgx.isv_family_id, s->isv_family_id, 16);
        memcpy(c->report_data, s->report_data, 64);
        /* SPEC: SGX ATTRIBUTES.FLAGS bit 1 is DEBUG. */
        c->debug = (s->attributes[0] & 0x02) != 0;
        return;
    }
    const struct vt_td_report *t = &q->td;
    c->tee = VT_TEE_TDX;
    memcpy(c->tdx.tee_tcb_svn, t->tee_tcb_svn, 16);
    c->tdx.has_tee_tcb_svn2 = t->is_td15;
    memcpy(c->tdx.tee_tcb_svn2, t->tee_tcb_svn2, 16);
    memcpy(c->tdx.mrseam, t->mrseam, 48);
    memcpy(c->tdx.mrsignerseam, t->mrsignerseam, 48);
    memcpy(c->tdx.seam_attributes, t->seam_attributes, 8);
    memcpy(c->tdx.td_attributes, t->td_attributes, 8);
    memcpy(c->tdx.xfam, t->xfam, 8);
    memcpy(c->tdx.mrtd, t->mrtd, 48);
    memcpy(c->tdx.mrconfigid, t->mrconfigid, 48);
    memcpy(c->tdx.mrowner, t->mrowner, 48);
    memcpy(c->tdx.mrownerconfig, t->mrownerconfig, 48);
    memcpy(c->tdx.rtmr, t->rtmr, sizeof(c->tdx.rtmr));
    memcpy(c->tdx.mrservicetd, t->mrservicetd, 48);
    memcpy(c->report_data, t->report_data, 64);
    /* SPEC: TDATTRIBUTES bit 0 is DEBUG. */
    c->debug = (t->td_attributes[0] & 0x01) != 0;
}

static void fill_collateral(const struct vt_dcap_verifier *v, const struct pck_entry *e,
                            struct vt_claims *c)
{
    const struct vt_dcap_collateral *coll = v->coll;
    vt_claims_add_collateral(c, "tcb_info", v->tcb_info_sha256, coll->tcb_info.issue_date,
                             coll->tcb_info.next_update, coll->tcb_info.tcb_eval_num);
    vt_claims_add_collateral(c, "qe_identity", v->qe_identity_sha256, coll->qe_identity.issue_date,
                             coll->qe_identity.next_update, coll->qe_identity.tcb_eval_num);
    vt_claims_add_collateral(c, "pck_crl", v->pck_crl_sha256, vt_crl_this_update(coll->pck_crl),
                             vt_crl_next_update(coll->pck_crl), -1);
    vt_claims_add_collateral(c, "root_ca_crl", v->root_crl_sha256,
                             vt_crl_this_update(coll->root_ca_crl),
                             vt_crl_next_update(coll->root_ca_crl), -1);
    vt_claims_note_expiry(c, v->chains_earliest_expiry);
    for (size_t i = 0; i < 3; i++) {
        vt_claims_note_expiry(c, e->certs[i].not_after);
    }
}

/* SPEC: QuoteVerifier step 2 (revocation part): the PCK CA is not revoked by the root CA CRL,
 * the PCK certificate not by the PCK CRL; looked up for every quote in this verifier's CRLs. */
static enum vt_err check_revoked(const struct vt_dcap_collateral *coll, const struct pck_entry *e,
                                 struct vt_diag *d)
{
    vt_time when;
    char serial[80], at[VT_TIME_STR_MAX], cn[160];
    if (vt_crl_is_revoked(coll->root_ca_crl, e->ca, &when)) {
        vt_cert_serial_hex(e->ca, serial, sizeof(serial));
        if (vt_cert_subject_cn(e->ca, cn, sizeof(cn)) != VT_OK) {
            snprintf(cn, sizeof(cn), "(none)");
        }
        vt_time_format(when, at);
        return vt_fail(d, VT_E_REVOKED, "pck_chain.ca_revoked",
                       "PCK CA \"%s\" serial %s is revoked by the root CA CRL (since %s)", cn,
                       serial, at);
    }
    if (vt_crl_is_revoked(coll->pck_crl, e->leaf, &when)) {
        vt_cert_serial_hex(e->leaf, serial, sizeof(serial));
        vt_time_format(when, at);
        return vt_fail(d, VT_E_REVOKED, "pck_chain.leaf_revoked",
                       "PCK certificate serial %s is revoked by the PCK CRL (since %s)", serial,
                       at);
    }
    return VT_OK;
}

/*
 * The checks of one quote with its pinned PCK entry (chain_sha256 its id). qe_pin receives the
 * pinned QE report entry (the caller releases it); own_att an attestation key parsed for this
 * call when that entry holds another one (the caller frees it).
 */
static enum vt_err verify_with_entry(struct vt_dcap_verifier *v, const struct vt_dcap_quote *q,
                                     const struct pck_entry *pck,
                                     const uint8_t chain_sha256[VT_SHA256_LEN],
                                     struct vt_pin *qe_pin, struct vt_key **own_att,
                                     const struct vt_dcap_opts *opts, struct vt_claims *claims,
                                     struct vt_diag *d)
{
    const struct vt_tcb_info *ti = &v->coll->tcb_info;
    const struct vt_qe_identity *qi = &v->coll->qe_identity;
    enum vt_tee tee = q->tee_type == VT_DCAP_TEE_TDX ? VT_TEE_TDX : VT_TEE_SGX;
    VT_TRY(check_revoked(v->coll, pck, d));
    /* Time: every certificate, CRL and document of this verification. SPEC: QvE (dcap.md 4.5):
     * collateral is expired when its earliest expiration date (every nextUpdate and notAfter) is
     * <= the check date, so the upper edge is the first expired second; lower edges inclusive. */
    for (size_t i = 0; i < 3; i++) {
        VT_TRY(vt_time_check_edges(pck->certs[i].what, pck->certs[i].not_before,
                                   pck->certs[i].not_after, opts->now, opts->time_mode,
                                   VT_EDGE_EXPIRES_AT, d));
    }
    for (size_t i = 0; i < v->n_items; i++) {
        VT_TRY(vt_time_check_edges(v->items[i].what, v->items[i].not_before, v->items[i].not_after,
                                   opts->now, opts->time_mode, VT_EDGE_EXPIRES_AT, d));
    }

    /* SPEC: QuoteVerifier step 4: TCB info type matches the TEE (v2 TCB info is SGX only). */
    VT_ENSURE(ti->tee == tee, d, VT_E_TCB_INFO_MISMATCH, "tcb_info.id",
              "TCB info (version %d) is for %s; the quote is %s", ti->version, vt_tee_name(ti->tee),
              vt_tee_name(tee));
    /* SPEC: step 5: FMSPC and PCE-ID from the PCK certificate equal the TCB info's, as bytes. */
    if (memcmp(pck->ext.fmspc, ti->fmspc, 6) != 0 || memcmp(pck->ext.pceid, ti->pceid, 2) != 0) {
        char a[13], b[13], c[5], e[5];
        vt_hex_encode(pck->ext.fmspc, 6, a);
        vt_hex_encode(ti->fmspc, 6, b);
        vt_hex_encode(pck->ext.pceid, 2, c);
        vt_hex_encode(ti->pceid, 2, e);
        return vt_fail(d, VT_E_TCB_INFO_MISMATCH, "tcb_info.fmspc",
                       "PCK certificate FMSPC %s PCE-ID %s; TCB info FMSPC %s PCE-ID %s", a, c, b,
                       e);
    }
    const struct vt_tdx_module_identity *module = NULL;
    if (tee == VT_TEE_TDX) {
        VT_TRY(check_tdx_module(ti, &q->td, &module, d));
    }
    VT_TRY(get_qe_entry(v, q, pck, chain_sha256, qe_pin, d));
    const struct qe_entry *qe = qe_pin->value;
    /* SPEC: step 9: QE report data = SHA-256(attestation key || QE auth data) || 32 zero bytes.
     * Intel's QVL compares the first 32 bytes; we also require the zero half (stricter). */
    uint8_t h[VT_SHA256_LEN];
    static const uint8_t zero32[32];
    vt_sha256_2(q->attest_key, 64, q->qe_auth_data, q->qe_auth_data_len, h);
    if (memcmp(q->qe_report.report_data, h, 32) != 0 ||
        memcmp(q->qe_report.report_data + 32, zero32, 32) != 0) {
        char got[129], want[65];
        vt_hex_encode(q->qe_report.report_data, 64, got);
        vt_hex_encode(h, 32, want);
        return vt_fail(d, VT_E_QE_REPORT_DATA, "quote.qe_report.report_data",
                       "QE report data %s; expected SHA-256(attestation key || %u bytes of QE auth "
                       "data) %s followed by 32 zero bytes",
                       got, q->qe_auth_data_len, want);
    }
    const struct vt_isv_level *qe_level = NULL;
    VT_TRY(check_qe_identity(qi, tee, &q->qe_report, &qe_level, d));
    /* SPEC: step 11: the quote signature by the attestation key over header and body. */
    const struct vt_key *att = qe->att_key;
    if (att == NULL || memcmp(qe->att_xy, q->attest_key, 64) != 0) {
        struct vt_diag kd;
        VT_ENSURE(vt_key_from_p256_xy(q->attest_key, own_att, &kd) == VT_OK, d,
                  VT_E_QUOTE_SIGNATURE, "quote.attestation_key",
                  "the attestation key is not a valid P-256 point: %s", kd.detail);
        att = *own_att;
    }
    VT_ENSURE(vt_p256_verify(att, q->signed_data, q->signed_len, q->signature) == VT_OK, d,
              VT_E_QUOTE_SIGNATURE, "quote.signature",
              "quote signature over %zu bytes does not verify with the attestation key",
              q->signed_len);
    struct tcb_result r;
    VT_TRY(evaluate_tcb(ti, q, &pck->ext, module, &r, d));
    /* SPEC: QVL checkTcbLevel's order: the TDX level's status merged with the module's, then
     * the TD relaunch check on that merged status, then the QE status merged last. */
    enum vt_tcb_status status = r.tcb_level->status;
    if (r.module_level != NULL) {
        status = converge(status, r.module_level->status);
    }
    VT_TRY(relaunch(ti, q, &r, qe_level->status, &status, d));

    vt_claims_init(claims);
    claims->verified_at = opts->now;
    fill_measurements(q, claims);
    claims->platform_status = r.tcb_level->status;
    claims->qe_status = qe_level->status;
    claims->module_status = r.module_level ? r.module_level->status : VT_TCB_NONE;
    claims->status = converge(status, qe_level->status);
    VT_TRY(add_advisories(&claims->advisories, r.tcb_level->n_advisories, r.tcb_level->advisory_ids,
                          d));
    if (r.module_level != NULL) {
        VT_TRY(add_advisories(&claims->advisories, r.module_level->n_advisories,
                              r.module_level->advisory_ids, d));
    }
    VT_TRY(add_advisories(&claims->advisories, qe_level->n_advisories, qe_level->advisory_ids, d));

    struct vt_dcap_claims *dc = &claims->dcap;
    dc->quote_version = q->version;
    dc->body_type = q->body_type;
    memcpy(dc->fmspc, pck->ext.fmspc, 6);
    memcpy(dc->pceid, pck->ext.pceid, 2);
    snprintf(dc->pck_ca, sizeof(dc->pck_ca), "%s", pck->pck_ca);
    memcpy(dc->sgx_tcb_components, pck->ext.tcb_components, 16);
    dc->pcesvn = pck->ext.pcesvn;
    memcpy(dc->cpusvn, pck->ext.cpusvn, 16);
    memcpy(dc->ppid, pck->ext.ppid, 16);
    dc->sgx_type = pck->ext.sgx_type;
    dc->has_platform_instance_id = pck->ext.has_platform_instance_id;
    memcpy(dc->platform_instance_id, pck->ext.platform_instance_id, 16);
    dc->has_configuration = pck->ext.has_configuration;
    dc->dynamic_platform = pck->ext.dynamic_platform;
    dc->cached_keys = pck->ext.cached_keys;
    dc->smt_enabled = pck->ext.smt_enabled;
    dc->tcb_date = r.tcb_level->tcb_date;
    dc->qe_tcb_date = qe_level->tcb_date;
    dc->qe_isv_svn = q->qe_report.isv_svn;
    memcpy(dc->qe_user_data, q->user_data, 20);
    if (module != NULL) {
        snprintf(dc->tdx_module_identity, sizeof(dc->tdx_module_identity), "%s", module->id);
    }
    fill_collateral(v, pck, claims);
    return VT_OK;
}

enum vt_err vt_dcap_verify_quote(struct vt_dcap_verifier *v, const struct vt_dcap_quote *q,
                                 const uint8_t *cert_sha256, const struct vt_dcap_opts *opts,
                                 struct vt_claims *claims, struct vt_diag *d)
{
    VT_ENSURE(v != NULL && q != NULL && opts != NULL && claims != NULL, d, VT_E_ARG, "verify",
              "NULL argument");
    VT_ENSURE(q->cert_type == VT_DCAP_CERT_PCK_CHAIN, d, VT_E_UNSUPPORTED_CERT_DATA,
              "quote.cert_data.type",
              "certification data type %u; offline verification needs type 5 (PCK certificate "
              "chain); types 1-4 and 7 need the PCK certificate from a PCS or PCCS",
              q->cert_type);
    uint8_t chain[VT_SHA256_LEN];
    if (cert_sha256 != NULL) {
        memcpy(chain, cert_sha256, sizeof(chain));
    } else {
        vt_sha256(q->cert_data, q->cert_data_len, chain);
    }
    struct vt_pin pin, qe_pin = {0};
    VT_TRY(get_pck_entry(v, q, chain, &pin, d));
    struct vt_key *own_att = NULL;
    enum vt_err err = verify_with_entry(v, q, pin.value, chain, &qe_pin, &own_att, opts, claims, d);
    vt_key_free(own_att);
    vt_pincache_release(&v->qe_cache, &qe_pin);
    vt_pincache_release(&v->pck_cache, &pin);
    return err;
}

enum vt_err vt_dcap_verify(struct vt_dcap_verifier *v, const uint8_t *quote, size_t len,
                           const struct vt_dcap_opts *opts, struct vt_claims *claims,
                           struct vt_diag *d)
{
    VT_ENSURE(v != NULL && quote != NULL && opts != NULL && claims != NULL, d, VT_E_ARG, "verify",
              "NULL argument");
    struct vt_dcap_quote q;
    VT_TRY(vt_dcap_quote_parse(quote, len, &q, d));
    return vt_dcap_verify_quote(v, &q, NULL, opts, claims, d);
}
