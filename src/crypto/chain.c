/*
 * Certificate chain verification (RFC 5280 6.1, reduced to what attestation chains need).
 *
 * veritee checks each link itself rather than through X509_verify_cert so that every failure has
 * a precise code and names the certificate: chain[0] is the leaf, chain[i+1] issued chain[i],
 * and the last certificate is a self-signed root whose subject name and public key are those of
 * a trust anchor. A trust anchor is a name and a key (RFC 5280 6.1.1 (d): trust anchor
 * information is the name and public key), not certificate bytes: vendors re-issue their roots
 * (Intel's SGX Root CA exists as more than one self-signed certificate of the same key; Intel's
 * QvE pins only the root's public key). The root as presented must prove itself: self-issued,
 * its self-signature valid under the anchor's key, its extensions and constraints acceptable, and
 * valid at now like every other certificate.
 *
 * Order of checks: length, trust anchor (name and key), root self-issued, critical extensions and
 * self-signature, then for each link from the root down: critical extensions, issuer name, CA
 * constraints, signature; validity times last, so a forged chain is reported as forged even when
 * it is also expired.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "base/time_check.h"
#include "base/encoding.h"

#include "crypto_internal.h"

#define VT_CHAIN_LABEL_MAX 160

/* The check name "<what>[<pos>].<check>". */
static void vt_chain_check_name(char out[VT_DIAG_CHECK_MAX], const char *what, size_t pos,
                                const char *check)
{
    snprintf(out, VT_DIAG_CHECK_MAX, "%s[%zu].%s", what, pos, check);
}

/* Certificate extensions veritee may see marked critical, beyond what OpenSSL processes itself
 * (OpenSSL flags any other critical extension with EXFLAG_CRITICAL). */
static enum vt_err vt_chain_check_critical(const struct vt_cert *c, size_t pos, const char *what,
                                           struct vt_diag *d)
{
    if ((X509_get_extension_flags(c->x509) & EXFLAG_CRITICAL) == 0) {
        return VT_OK;
    }
    char check[VT_DIAG_CHECK_MAX];
    char label[VT_CHAIN_LABEL_MAX];
    char oid[80] = "unknown";
    int n = X509_get_ext_count(c->x509);
    for (int i = 0; i < n; i++) {
        X509_EXTENSION *ext = X509_get_ext(c->x509, i);
        if (X509_EXTENSION_get_critical(ext) && !X509_supported_extension(ext)) {
            OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext), 1);
            break;
        }
    }
    vt_chain_check_name(check, what, pos, "critical_extension");
    vt_crypto_cert_label(c, pos, label, sizeof(label));
    return vt_fail(d, VT_E_CHAIN, check, "%s has an unsupported critical extension %s", label, oid);
}

/*
 * Is `issuer` (at position pos) allowed to issue certificates for the chain below it? RFC 5280
 * 4.2.1.9 / 6.1.4: basicConstraints cA=TRUE; pathLenConstraint bounds the intermediate CA
 * certificates below it (positions 1..pos-1); keyUsage, when present, has keyCertSign.
 */
static enum vt_err vt_chain_check_ca(const struct vt_cert *issuer, size_t pos, const char *what,
                                     struct vt_diag *d)
{
    char check[VT_DIAG_CHECK_MAX];
    char label[VT_CHAIN_LABEL_MAX];
    uint32_t flags = X509_get_extension_flags(issuer->x509);
    vt_crypto_cert_label(issuer, pos, label, sizeof(label));
    if ((flags & EXFLAG_BCONS) == 0 || (flags & EXFLAG_CA) == 0) {
        vt_chain_check_name(check, what, pos, "basic_constraints");
        return vt_fail(d, VT_E_CHAIN, check, "%s issues a certificate but is not a CA (%s)", label,
                       (flags & EXFLAG_BCONS) == 0 ? "no basicConstraints" : "cA is FALSE");
    }
    long pathlen = X509_get_pathlen(issuer->x509);
    if (pathlen >= 0 && (long)(pos - 1) > pathlen) {
        vt_chain_check_name(check, what, pos, "path_length");
        return vt_fail(d, VT_E_CHAIN, check,
                       "%s allows %ld intermediate CAs below it, the chain has %zu", label, pathlen,
                       pos - 1);
    }
    if ((flags & EXFLAG_KUSAGE) != 0 &&
        (X509_get_key_usage(issuer->x509) & KU_KEY_CERT_SIGN) == 0) {
        vt_chain_check_name(check, what, pos, "key_usage");
        return vt_fail(d, VT_E_CHAIN, check, "%s keyUsage lacks keyCertSign", label);
    }
    return VT_OK;
}

enum vt_err vt_chain_anchor_for(const struct vt_cert *root, const struct vt_cert_list *anchors,
                                const char *check, const struct vt_cert **anchor, struct vt_diag *d)
{
    if (check == NULL) {
        check = "chain.root";
    }
    if (anchor != NULL) {
        *anchor = NULL;
    }
    VT_ENSURE(root != NULL && anchors != NULL, d, VT_E_ARG, check, "null root or anchors");
    const struct vt_cert *same_name = NULL, *same_key = NULL;
    for (size_t i = 0; i < anchors->n && i < VT_MAX_CHAIN_DEPTH; i++) {
        const struct vt_cert *a = anchors->certs[i];
        if (a == NULL) {
            continue;
        }
        bool name = vt_cert_same_subject(a, root), key = vt_cert_same_key(a, root);
        if (name && key) {
            if (anchor != NULL) {
                *anchor = a;
            }
            return VT_OK;
        }
        same_name = same_name == NULL && name ? a : same_name;
        same_key = same_key == NULL && key ? a : same_key;
    }
    char names[2][128];
    char why[300];
    uint8_t h[VT_SHA256_LEN];
    char hex[2 * VT_SHA256_LEN + 1];
    vt_cert_subject_text(root, names[0], sizeof(names[0]));
    vt_cert_spki_sha256(root, h);
    vt_hex_encode(h, 8, hex);
    if (same_name != NULL) {
        uint8_t ha[VT_SHA256_LEN];
        char hexa[2 * VT_SHA256_LEN + 1];
        vt_cert_spki_sha256(same_name, ha);
        vt_hex_encode(ha, 8, hexa);
        snprintf(why, sizeof(why),
                 "a trusted root has its subject but another public key (SPKI SHA-256 %s..., the "
                 "chain's %s...)",
                 hexa, hex);
    } else if (same_key != NULL) {
        vt_cert_subject_text(same_key, names[1], sizeof(names[1]));
        snprintf(why, sizeof(why),
                 "its public key (SPKI SHA-256 %s...) is that of the trusted root [%s], under "
                 "another subject",
                 hex, names[1]);
    } else {
        snprintf(why, sizeof(why),
                 "no trusted root has its subject or its public key (SPKI SHA-256 %s...)", hex);
    }
    vt_cert_issuer_text(root, names[1], sizeof(names[1]));
    return vt_fail(d, VT_E_UNTRUSTED_ROOT, check,
                   "[%s] issued by [%s] is none of the %zu trusted roots: %s", names[0], names[1],
                   anchors->n, why);
}

enum vt_err vt_chain_verify(const struct vt_cert_list *chain, const struct vt_cert_list *anchors,
                            vt_time now, enum vt_time_mode mode, const char *what,
                            struct vt_diag *d)
{
    char check[VT_DIAG_CHECK_MAX];
    char label[VT_CHAIN_LABEL_MAX];
    char names[2][128];
    if (what == NULL) {
        what = "chain";
    }
    if (chain == NULL || anchors == NULL) {
        snprintf(check, sizeof(check), "%s.args", what);
        return vt_fail(d, VT_E_ARG, check, "null chain or anchors");
    }
    size_t n = chain->n;
    if (n == 0 || n > VT_MAX_CHAIN_DEPTH) {
        snprintf(check, sizeof(check), "%s.length", what);
        return vt_fail(d, VT_E_CHAIN_LENGTH, check, "chain has %zu certificates, expected 1 to %d",
                       n, VT_MAX_CHAIN_DEPTH);
    }
    for (size_t i = 0; i < n; i++) {
        if (chain->certs[i] == NULL) {
            snprintf(check, sizeof(check), "%s.args", what);
            return vt_fail(d, VT_E_ARG, check, "chain entry %zu is NULL", i);
        }
    }

    /* The chain's last certificate must carry a trust anchor's name and key; it is then checked
     * as presented. */
    const struct vt_cert *root = chain->certs[n - 1];
    snprintf(check, sizeof(check), "%s.root", what);
    enum vt_err aerr = vt_chain_anchor_for(root, anchors, check, NULL, d);
    if (aerr != VT_OK) {
        if (d != NULL && aerr == VT_E_UNTRUSTED_ROOT) {
            /* Name the position: "cert <n-1> (CN=...) [subject] issued by ..." */
            char inner[VT_DIAG_DETAIL_MAX];
            snprintf(inner, sizeof(inner), "%s", d->detail);
            vt_crypto_cert_label(root, n - 1, label, sizeof(label));
            return vt_fail(d, aerr, check, "%s %s", label, inner);
        }
        return aerr;
    }
    if (X509_NAME_cmp(X509_get_issuer_name(root->x509), X509_get_subject_name(root->x509)) != 0) {
        vt_crypto_cert_label(root, n - 1, label, sizeof(label));
        vt_cert_issuer_text(root, names[0], sizeof(names[0]));
        vt_chain_check_name(check, what, n - 1, "self_signed");
        return vt_fail(d, VT_E_CHAIN, check, "root %s is not self-issued (issuer [%s])", label,
                       names[0]);
    }
    VT_TRY(vt_chain_check_critical(root, n - 1, what, d));
    vt_chain_check_name(check, what, n - 1, "self_signed");
    VT_TRY(vt_crypto_check_signed_by(root, root, check, d));

    /* Links, from the root down: chain[i] is issued by chain[i+1] (the anchor for the top). */
    for (size_t k = n - 1; k > 0; k--) {
        size_t i = k - 1;
        const struct vt_cert *child = chain->certs[i];
        const struct vt_cert *issuer = chain->certs[i + 1];
        VT_TRY(vt_chain_check_critical(child, i, what, d));
        if (X509_NAME_cmp(X509_get_issuer_name(child->x509), X509_get_subject_name(issuer->x509)) !=
            0) {
            vt_crypto_cert_label(child, i, label, sizeof(label));
            vt_cert_issuer_text(child, names[0], sizeof(names[0]));
            vt_cert_subject_text(issuer, names[1], sizeof(names[1]));
            vt_chain_check_name(check, what, i, "issuer_name");
            return vt_fail(d, VT_E_CHAIN, check, "%s names issuer [%s] but cert %zu is [%s]", label,
                           names[0], i + 1, names[1]);
        }
        VT_TRY(vt_chain_check_ca(issuer, i + 1, what, d));
        vt_chain_check_name(check, what, i, "signature");
        VT_TRY(vt_crypto_check_signed_by(child, issuer, check, d));
    }

    /* Validity of every certificate, leaf first. */
    for (size_t i = 0; i < n; i++) {
        const struct vt_cert *c = chain->certs[i];
        vt_chain_check_name(check, what, i, "validity");
        enum vt_err err = vt_time_check_window(check, c->not_before, c->not_after, now, mode, d);
        if (err != VT_OK) {
            if (d != NULL) {
                size_t used = strnlen(d->detail, sizeof(d->detail));
                vt_crypto_cert_label(c, i, label, sizeof(label));
                snprintf(d->detail + used, sizeof(d->detail) - used, " (%s)", label);
            }
            return err;
        }
    }
    return VT_OK;
}
