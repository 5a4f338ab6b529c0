/*
 * AWS Nitro Enclaves attestation document verification.
 *
 * SPEC: AWS nsm-api "Attestation document validation" (spec/nitro_snp.md A1-A3): the COSE_Sign1
 * ES384 signature over the Sig_structure by the leaf certificate; the chain cabundle[0] (the
 * AWS root: a trust anchor's subject and key, self-signed, valid), ..., cabundle[n-1], certificate;
 * every certificate valid at now; basicConstraints, pathLen and keyUsage (keyCertSign on every CA,
 * digitalSignature on the leaf).
 *
 * The leaf changes every few hours and signs every document of its enclave meanwhile; the chain
 * above it (root, regional, zonal, instance CA) lives hours to days. So the whole chain with its
 * leaf is verified once (signatures, names, critical extensions, CA constraints, key usages) and
 * cached by the SHA-256 of the leaf and cabundle certificates, with the leaf's parsed key: the
 * exact bytes verified, checked exactly as for the first document, so a warm verifier decides as
 * a cold one. Every document still gets every validity window checked at its `now`, its COSE
 * signature (one P-384 verification), freshness and nonce. docs/verify.md ("Caches") gives the
 * argument.
 *
 * Thread safety: the cache is a pinned cache (src/base/pincache.h, lock-free lookups): a
 * verification pins the entry it uses, which is then neither evicted nor changed; entries are
 * built outside the cache and read-only once stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <veritee/limits.h>

#include "base/encoding.h"
#include "base/time_check.h"
#include "claims/claims_fill.h"
#include "tee/nitro/nitro.h"

#include "base/pincache.h"
#include "tee/tee_internal.h"

#define LEAF_CACHE_SIZE 1024 /* enclaves: a leaf is a parsed certificate and key (a few KiB) */

struct window {
    char what[40];
    vt_time not_before;
    vt_time not_after;
};

/* A leaf verified with its chain: what a document needs from both. Read-only once stored. */
struct leaf_entry {
    struct vt_cert *leaf;
    struct vt_key *key; /* NULL if not a P-384 key: such an entry is not stored */
    size_t n;           /* windows of the chain, cabundle[n-1] first */
    struct window windows[VT_NITRO_MAX_CABUNDLE];
    vt_time chain_earliest_expiry;
};

struct vt_nitro_verifier {
    struct vt_cert_list anchors;
    struct vt_pincache leaves; /* struct leaf_entry by leaf_id */
};

static void leaf_free(void *value)
{
    struct leaf_entry *e = value;
    vt_cert_free(e->leaf);
    vt_key_free(e->key);
    free(e);
}

void vt_nitro_verifier_free(struct vt_nitro_verifier *v)
{
    if (v == NULL) {
        return;
    }
    vt_pincache_cleanup(&v->leaves);
    vt_cert_list_cleanup(&v->anchors);
    free(v);
}

enum vt_err vt_nitro_verifier_new(const struct vt_cert_list *anchors,
                                  struct vt_nitro_verifier **out, struct vt_diag *d)
{
    VT_ENSURE(out != NULL, d, VT_E_ARG, "verifier", "NULL argument");
    struct vt_nitro_verifier *v = calloc(1, sizeof(*v));
    VT_ENSURE(v != NULL, d, VT_E_NOMEM, "verifier", "cannot allocate the verifier");
    if (vt_pincache_init(&v->leaves, LEAF_CACHE_SIZE, leaf_free) != VT_OK) {
        free(v);
        return vt_fail(d, VT_E_NOMEM, "verifier", "cannot create the verifier's leaf cache");
    }
    vt_cert_list_init(&v->anchors);
    enum vt_err err = VT_OK;
    if (anchors == NULL) {
        err = vt_aws_nitro_root_add(&v->anchors, d);
    }
    for (size_t i = 0; err == VT_OK && anchors != NULL && i < anchors->n; i++) {
        err = vt_cert_list_add(&v->anchors, anchors->certs[i]);
    }
    if (err != VT_OK) {
        vt_nitro_verifier_free(v);
        return err;
    }
    *out = v;
    return VT_OK;
}

/* SPEC: AWS requires keyCertSign on every CA certificate of the chain (chain[1..]: the leaf is
 * chain[0]). */
static enum vt_err check_ca_usage(const struct vt_cert_list *chain, struct vt_diag *d)
{
    for (size_t i = 1; i < chain->n; i++) {
        if (!vt_cert_has_key_usage(chain->certs[i], VT_KU_KEY_CERT_SIGN)) {
            char cn[160];
            vt_cert_subject_text(chain->certs[i], cn, sizeof(cn));
            return vt_fail(d, VT_E_CHAIN, "cabundle.key_usage",
                           "CA certificate cabundle[%zu] [%s] lacks keyUsage keyCertSign",
                           chain->n - 1 - i, cn);
        }
    }
    return VT_OK;
}

/* SPEC: beyond vt_chain_verify's generic checks (which include the leaf's issuer name and
 * verify its signature), AWS's profile: the leaf is not a CA, has digitalSignature, and is signed
 * with ecdsa-with-SHA384 by the instance CA (chain[1]), whose key is P-384. */
static enum vt_err check_leaf(const struct vt_cert_list *chain, struct vt_diag *d)
{
    const struct vt_cert *leaf = chain->certs[0], *issuer = chain->certs[1];
    char name[160];
    vt_cert_subject_text(leaf, name, sizeof(name));
    VT_ENSURE(!vt_cert_is_ca(leaf, NULL), d, VT_E_CHAIN, "certificate.basic_constraints",
              "leaf [%s] is a CA certificate", name);
    VT_ENSURE(vt_cert_has_key_usage(leaf, VT_KU_DIGITAL_SIGNATURE), d, VT_E_CHAIN,
              "certificate.key_usage", "leaf [%s] lacks keyUsage digitalSignature", name);
    struct vt_key *issuer_key = NULL;
    enum vt_err err = vt_key_from_cert(issuer, VT_KEY_P384, &issuer_key, d);
    if (err == VT_OK) {
        err = vt_cert_expect_p384_signature(leaf, issuer_key, d); /* verified by the chain */
    }
    vt_key_free(issuer_key);
    return err;
}

/*
 * Verify the document's chain with its leaf (chain[0] = leaf, chain[1] = cabundle[n-1], ...,
 * root last): signatures, names, critical extensions, CA constraints and pathLen, key usages;
 * parse the leaf's key. Time is checked per document through the windows. If the leaf's key is
 * not a P-384 key the entry is private to this document, and the error is reported where the key
 * is used.
 */
static enum vt_err build_leaf(const struct vt_nitro_verifier *v, const struct vt_nitro_doc *doc,
                              struct leaf_entry *le, struct vt_diag *d)
{
    enum vt_err err = vt_cert_from_der(doc->certificate, doc->certificate_len, &le->leaf, d);
    if (err != VT_OK) {
        char inner[VT_DIAG_DETAIL_MAX];
        snprintf(inner, sizeof(inner), "%s", d != NULL ? d->detail : "");
        return vt_fail(d, err, "certificate", "leaf certificate: %s", inner);
    }
    struct vt_cert_list chain;
    vt_cert_list_init(&chain);
    err = vt_cert_list_add(&chain, le->leaf);
    for (size_t k = doc->n_cabundle; k > 0 && err == VT_OK; k--) {
        const struct vt_nitro_bytes *b = &doc->cabundle[k - 1];
        struct vt_cert *c = NULL;
        err = vt_cert_from_der(b->data, b->len, &c, d);
        if (err == VT_OK) {
            err = vt_cert_list_add(&chain, c);
        } else {
            char inner[VT_DIAG_DETAIL_MAX];
            snprintf(inner, sizeof(inner), "%s", d != NULL ? d->detail : "");
            err = vt_fail(d, err, "cabundle", "cabundle[%zu]: %s", k - 1, inner);
        }
        vt_cert_free(c);
    }
    if (err != VT_OK) {
        goto out;
    }
    /* cabundle[0] must carry a trusted root's subject and key (the AWS Nitro Enclaves Root G1
     * unless --trust-anchor adds one); vt_chain_verify then checks it as presented. */
    if ((err = vt_chain_anchor_for(chain.certs[chain.n - 1], &v->anchors, "cabundle[0]", NULL,
                                   d)) != VT_OK) {
        if (d != NULL && err == VT_E_UNTRUSTED_ROOT) {
            char inner[VT_DIAG_DETAIL_MAX];
            snprintf(inner, sizeof(inner), "%s", d->detail);
            err = vt_fail(d, err, "cabundle[0]",
                          "cabundle[0] %s (trusted: the AWS Nitro Enclaves Root G1 unless "
                          "--trust-anchor adds roots)",
                          inner);
        }
        goto out;
    }
    vt_time t0 = INT64_MIN;
    for (size_t i = 0; i < chain.n; i++) {
        vt_time nb = vt_cert_not_before(chain.certs[i]);
        t0 = nb > t0 ? nb : t0;
    }
    /* Positions in the diag are chain positions: 0 the leaf, n-1 the root (cabundle[0]). */
    if ((err = vt_chain_verify(&chain, &v->anchors, t0, VT_TIME_EXPIRY_ONLY, "nitro_chain", d)) ||
        (err = check_ca_usage(&chain, d)) || (err = check_leaf(&chain, d))) {
        goto out;
    }
    le->n = chain.n - 1;
    le->chain_earliest_expiry = INT64_MAX;
    for (size_t i = 1; i < chain.n; i++) {
        struct window *w = &le->windows[i - 1];
        snprintf(w->what, sizeof(w->what), "cabundle[%zu]", chain.n - 1 - i);
        w->not_before = vt_cert_not_before(chain.certs[i]);
        w->not_after = vt_cert_not_after(chain.certs[i]);
        if (w->not_after < le->chain_earliest_expiry) {
            le->chain_earliest_expiry = w->not_after;
        }
    }
    struct vt_diag kd;
    (void)!vt_key_from_cert(le->leaf, VT_KEY_P384, &le->key, &kd);
out:
    vt_cert_list_cleanup(&chain);
    return err;
}

static void copy_binding(struct vt_binding_claim *c, const struct vt_nitro_bytes *b)
{
    c->present = b->present && b->len <= sizeof(c->data);
    c->len = c->present ? b->len : 0;
    if (c->present && b->len > 0) {
        memcpy(c->data, b->data, b->len);
    }
}

static void fill_claims(const struct vt_nitro_doc *doc, const struct leaf_entry *le, vt_time now,
                        struct vt_claims *c)
{
    vt_claims_init(c);
    c->tee = VT_TEE_NITRO;
    c->verified_at = now;
    /* Nitro has no TCB to evaluate: a verified document is UpToDate. */
    c->status = VT_TCB_UP_TO_DATE;
    size_t n = doc->module_id_len < sizeof(c->nitro.module_id) - 1 ? doc->module_id_len
                                                                   : sizeof(c->nitro.module_id) - 1;
    memcpy(c->nitro.module_id, doc->module_id, n);
    c->nitro.module_id[n] = '\0';
    c->nitro.timestamp_ms = doc->timestamp_ms;
    bool pcr0_zero = false;
    for (size_t i = 0; i < doc->n_pcrs; i++) {
        const struct vt_nitro_pcr *p = &doc->pcrs[i];
        c->nitro.pcr_mask |= 1u << p->index;
        c->nitro.pcr_len[p->index] = (uint8_t)p->len;
        memcpy(c->nitro.pcrs[p->index], p->value, p->len);
        if (p->index == 0) {
            pcr0_zero = true;
            for (size_t k = 0; k < p->len; k++) {
                pcr0_zero = pcr0_zero && p->value[k] == 0;
            }
        }
    }
    /* SPEC: a debug-mode enclave reports PCR0 (and 1, 2) as all zero. */
    c->debug = pcr0_zero;
    copy_binding(&c->user_data, &doc->user_data);
    copy_binding(&c->nonce, &doc->nonce);
    copy_binding(&c->public_key, &doc->public_key);
    vt_claims_note_expiry(c, le->chain_earliest_expiry);
    vt_claims_note_expiry(c, vt_cert_not_after(le->leaf));
}

static enum vt_err check_freshness(const struct vt_nitro_doc *doc, const struct vt_nitro_opts *opts,
                                   struct vt_diag *d)
{
    char ts[VT_TIME_STR_MAX], at[VT_TIME_STR_MAX];
    vt_time issued = (vt_time)(doc->timestamp_ms / 1000);
    vt_time_format(issued, ts);
    vt_time_format(opts->now, at);
    if (opts->max_age >= 0) {
        VT_ENSURE(issued >= opts->now - opts->max_age, d, VT_E_EXPIRED, "document.max_age",
                  "document timestamp %s is more than %lld s before now %s", ts,
                  (long long)opts->max_age, at);
    }
    if (opts->nonce != NULL) {
        VT_ENSURE(doc->nonce.present, d, VT_E_NONCE_MISMATCH, "document.nonce",
                  "a nonce of %zu bytes was expected; the document has none", opts->nonce_len);
        VT_ENSURE(doc->nonce.len == opts->nonce_len &&
                      memcmp(doc->nonce.data, opts->nonce, opts->nonce_len) == 0,
                  d, VT_E_NONCE_MISMATCH, "document.nonce",
                  "the document's nonce (%zu bytes) differs from the expected nonce (%zu bytes)",
                  doc->nonce.len, opts->nonce_len);
    }
    return VT_OK;
}

/* The id of the document's leaf and chain: SHA-256 chained over the SHA-256 of the leaf, then of
 * each cabundle certificate in order. */
static void leaf_id(const struct vt_nitro_doc *doc, uint8_t id[VT_SHA256_LEN])
{
    uint8_t h[VT_SHA256_LEN];
    vt_sha256(doc->certificate, doc->certificate_len, id);
    for (size_t i = 0; i < doc->n_cabundle; i++) {
        vt_sha256(doc->cabundle[i].data, doc->cabundle[i].len, h);
        vt_sha256_2(id, VT_SHA256_LEN, h, sizeof(h), id);
    }
}

/* The document's verified leaf and chain (id: leaf_id), pinned in *pin: vt_pincache_release
 * unpins. An entry whose leaf key is unusable is private to this pin. */
static enum vt_err get_leaf(struct vt_nitro_verifier *v, const struct vt_nitro_doc *doc,
                            struct vt_pin *pin, struct vt_diag *d)
{
    uint8_t id[VT_SHA256_LEN];
    leaf_id(doc, id);
    if (vt_pincache_get(&v->leaves, id, NULL, NULL, pin) != NULL) {
        return VT_OK;
    }
    struct leaf_entry *le = calloc(1, sizeof(*le));
    VT_ENSURE(le != NULL, d, VT_E_NOMEM, "certificate", "no memory for the leaf entry");
    enum vt_err err = build_leaf(v, doc, le, d);
    if (err != VT_OK) {
        leaf_free(le);
        return err;
    }
    if (le->key == NULL) {
        *pin = (struct vt_pin){.value = le, .slot = NULL};
        return VT_OK;
    }
    (void)vt_pincache_put(&v->leaves, id, le, NULL, NULL, pin);
    return VT_OK;
}

enum vt_err vt_nitro_verify_doc(struct vt_nitro_verifier *v, const struct vt_nitro_doc *doc,
                                const struct vt_nitro_opts *opts, struct vt_claims *claims,
                                struct vt_diag *d)
{
    VT_ENSURE(v != NULL && doc != NULL && opts != NULL && claims != NULL, d, VT_E_ARG, "verify",
              "NULL argument");
    struct vt_pin pin = {0};
    enum vt_err err = get_leaf(v, doc, &pin, d);
    if (err != VT_OK) {
        return err;
    }
    const struct leaf_entry *le = pin.value;
    /* Time: every certificate of the chain and the leaf. */
    for (size_t i = 0; i < le->n && err == VT_OK; i++) {
        const struct window *w = &le->windows[i];
        err = vt_time_check_window(w->what, w->not_before, w->not_after, opts->now, opts->time_mode,
                                   d);
    }
    if (err != VT_OK ||
        (err = vt_time_check_window("certificate", vt_cert_not_before(le->leaf),
                                    vt_cert_not_after(le->leaf), opts->now, opts->time_mode, d))) {
        goto out;
    }
    if (le->key == NULL) { /* the key's precise error, where it was reported before the cache */
        struct vt_key *k = NULL;
        err = vt_key_from_cert(le->leaf, VT_KEY_P384, &k, d);
        vt_key_free(k);
        err = err != VT_OK ? err : vt_fail(d, VT_E_INTERNAL, "certificate", "leaf key lost");
        goto out;
    }
    /* SPEC: RFC 9052 section 4.4: the signature covers the Sig_structure rebuilt from the
     * original protected header and payload bytes. Per call (verifications run concurrently),
     * on the stack: the document's size is capped. */
    uint8_t sig_structure[VT_NITRO_MAX_DOC_SIZE + 64];
    size_t n;
    if ((err = vt_nitro_sig_structure(doc, sig_structure, sizeof(sig_structure), &n))) {
        err = vt_fail(d, err, "document.sig_structure", "cannot build the Sig_structure");
        goto out;
    }
    if (vt_p384_verify(le->key, sig_structure, n, doc->signature) != VT_OK) {
        err = vt_fail(d, VT_E_SIGNATURE, "document.signature",
                      "COSE_Sign1 ES384 signature over the %zu-byte Sig_structure does not verify "
                      "with the leaf certificate's key",
                      n);
        goto out;
    }
    if ((err = check_freshness(doc, opts, d))) {
        goto out;
    }
    fill_claims(doc, le, opts->now, claims);
out:
    vt_pincache_release(&v->leaves, &pin);
    return err;
}

enum vt_err vt_nitro_verify(struct vt_nitro_verifier *v, const uint8_t *bytes, size_t len,
                            const struct vt_nitro_opts *opts, struct vt_claims *claims,
                            struct vt_diag *d)
{
    VT_ENSURE(v != NULL && bytes != NULL && opts != NULL && claims != NULL, d, VT_E_ARG, "verify",
              "NULL argument");
    struct vt_nitro_doc doc;
    VT_TRY(vt_nitro_doc_parse(bytes, len, &doc, d));
    return vt_nitro_verify_doc(v, &doc, opts, claims, d);
}
