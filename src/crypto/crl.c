/*
 * Certificate revocation lists (RFC 5280 5), normalised to DER at the boundary.
 *
 * Accepted forms (SPEC: dcap.md 8.1, "CRL encoding chaos"): PEM ("-----BEGIN X509 CRL-----"),
 * hex text of the DER (PCCS), or DER (PCS). Detection, in that order: PEM after leading
 * whitespace; all hex digits once whitespace and trailing NULs are trimmed; otherwise DER.
 * Trailing NUL bytes and whitespace are ignored in every form; anything else after the CRL is
 * rejected. The DER kept is exactly the bytes OpenSSL consumed.
 *
 * Only complete, direct CRLs are supported: a delta CRL, or any critical extension other than
 * those listed below (in the CRL or in an entry, e.g. certificateIssuer of indirect CRLs), is
 * rejected rather than half-understood.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "base/encoding.h"
#include "base/reader.h"

#include "crypto_internal.h"

struct vt_crl {
    X509_CRL *crl;
    uint8_t *der;
    size_t der_len;
    vt_time this_update;
    vt_time next_update;
};

/* Critical CRL extensions veritee processes or that do not change a direct, complete CRL. */
static bool vt_crl_critical_ok(int nid)
{
    return nid == NID_crl_number || nid == NID_authority_key_identifier ||
           nid == NID_issuing_distribution_point;
}

/* Critical entry extensions that do not change whose serial is listed. */
static bool vt_crl_entry_critical_ok(int nid)
{
    return nid == NID_crl_reason || nid == NID_invalidity_date;
}

static enum vt_err vt_crl_check_extensions(X509_CRL *crl, struct vt_diag *d)
{
    char oid[80];
    int n = X509_CRL_get_ext_count(crl);
    for (int i = 0; i < n; i++) {
        X509_EXTENSION *ext = X509_CRL_get_ext(crl, i);
        int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
        if (nid == NID_delta_crl) {
            return vt_fail(d, VT_E_BAD_CRL, "crl.extensions", "delta CRLs are not supported");
        }
        if (X509_EXTENSION_get_critical(ext) && !vt_crl_critical_ok(nid)) {
            OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext), 1);
            return vt_fail(d, VT_E_BAD_CRL, "crl.extensions", "unsupported critical extension %s",
                           oid);
        }
    }
    STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl);
    for (int i = 0; i < sk_X509_REVOKED_num(revoked); i++) {
        const X509_REVOKED *entry = sk_X509_REVOKED_value(revoked, i);
        vt_time when = 0;
        if (vt_crypto_asn1_time(X509_REVOKED_get0_revocationDate(entry), &when) != VT_OK) {
            return vt_fail(d, VT_E_BAD_CRL, "crl.entries", "entry %d has an invalid date", i);
        }
        const STACK_OF(X509_EXTENSION) *exts = X509_REVOKED_get0_extensions(entry);
        for (int j = 0; j < sk_X509_EXTENSION_num(exts); j++) {
            X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, j);
            int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
            if (X509_EXTENSION_get_critical(ext) && !vt_crl_entry_critical_ok(nid)) {
                OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext), 1);
                return vt_fail(d, VT_E_BAD_CRL, "crl.extensions",
                               "entry %d has an unsupported critical extension %s", i, oid);
            }
        }
    }
    return VT_OK;
}

/*
 * Parse DER bytes into a vt_crl. With allow_tail, bytes after the CRL may be NUL or whitespace
 * (a raw file); otherwise the CRL must use every byte (decoded PEM or hex).
 */
static enum vt_err vt_crl_from_der(const uint8_t *der, size_t len, bool allow_tail,
                                   struct vt_crl **out, struct vt_diag *d)
{
    char why[VT_CRYPTO_ERRTEXT_MAX];
    enum vt_err err = VT_OK;
    struct vt_crl *c = NULL;
    const unsigned char *p = der;

    ERR_clear_error();
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
    if (crl == NULL) {
        vt_crypto_errors(why, sizeof(why));
        return vt_fail(d, VT_E_BAD_CRL, "crl.der", "not a DER CRL (%zu bytes): %s", len, why);
    }
    size_t used = (size_t)(p - der);
    if (used != len) {
        struct vt_reader r;
        vt_reader_init(&r, der, len);
        bool tail_ok = allow_tail && vt_reader_skip(&r, used) == VT_OK && vt_crypto_only_tail(&r);
        if (!tail_ok) {
            err = vt_fail(d, VT_E_BAD_CRL, "crl.der",
                          "%zu trailing bytes after the CRL (%zu of %zu bytes used)", len - used,
                          used, len);
            goto out_crl;
        }
    }
    if (used > VT_MAX_CRL_SIZE) {
        err = vt_fail(d, VT_E_TOO_LARGE, "crl.der", "CRL of %zu bytes exceeds %u", used,
                      VT_MAX_CRL_SIZE);
        goto out_crl;
    }
    err = vt_crl_check_extensions(crl, d);
    if (err != VT_OK) {
        goto out_crl;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "crl.der", "out of memory");
        goto out_crl;
    }
    c->next_update = INT64_MAX;
    const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
    if (vt_crypto_asn1_time(X509_CRL_get0_lastUpdate(crl), &c->this_update) != VT_OK ||
        (next != NULL && vt_crypto_asn1_time(next, &c->next_update) != VT_OK)) {
        err = vt_fail(d, VT_E_BAD_CRL, "crl.times", "thisUpdate or nextUpdate cannot be read");
        goto out_struct;
    }
    c->der = malloc(used);
    if (c->der == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "crl.der", "out of memory");
        goto out_struct;
    }
    memcpy(c->der, der, used);
    c->der_len = used;
    c->crl = crl;
    *out = c;
    ERR_clear_error();
    return VT_OK;

out_struct:
    free(c);
out_crl:
    X509_CRL_free(crl);
    ERR_clear_error();
    return err;
}

static bool vt_crl_is_hex_digit(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * If the text in r (leading whitespace already skipped) is hex digits followed only by
 * whitespace and NULs, borrow the digits and return true.
 */
static bool vt_crl_hex_text(const struct vt_reader *r, const uint8_t **hex, size_t *len)
{
    struct vt_reader t = *r;
    size_t start = vt_reader_offset(&t);
    size_t end = start;
    uint8_t c;
    while (vt_reader_get_u8(&t, &c) == VT_OK) {
        if (vt_crl_is_hex_digit(c)) {
            end = vt_reader_offset(&t);
            continue;
        }
        if (c != 0 && !vt_crypto_is_space(c)) {
            return false;
        }
        if (!vt_crypto_only_tail(&t)) {
            return false;
        }
        break;
    }
    if (end == start) {
        return false;
    }
    t = *r;
    *len = end - start;
    return vt_reader_get_bytes(&t, *len, hex) == VT_OK;
}

enum vt_err vt_crl_parse(const uint8_t *p, size_t len, struct vt_crl **out, struct vt_diag *d)
{
    if (p == NULL || out == NULL) {
        return vt_fail(d, VT_E_ARG, "crl.parse", "null argument");
    }
    /* Hex text doubles the size; allow for it (and padding) before decoding. */
    if (len > 2u * VT_MAX_CRL_SIZE + 4096u) {
        return vt_fail(d, VT_E_TOO_LARGE, "crl.parse", "input of %zu bytes exceeds the CRL limit",
                       len);
    }
    struct vt_reader r;
    vt_reader_init(&r, p, len);
    struct vt_reader text = r;
    vt_crypto_skip_space(&text);
    if (vt_crypto_only_tail(&text)) {
        return vt_fail(d, VT_E_BAD_CRL, "crl.parse", "no CRL in %zu bytes", len);
    }

    enum vt_err err;
    uint8_t *der = NULL;
    size_t der_len = 0;
    const uint8_t *hex = NULL;
    size_t hex_len = 0;
    uint8_t first = 0;
    if (vt_reader_peek_u8(&text, &first) == VT_OK && first == '-') {
        const char *why = "";
        err = vt_crypto_pem_block(&text, "X509 CRL", VT_MAX_CRL_SIZE, &der, &der_len, &why);
        if (err != VT_OK) {
            return vt_fail(d, err == VT_E_BAD_PEM ? VT_E_BAD_CRL : err, "crl.pem", "%s", why);
        }
        vt_crypto_skip_space(&text);
        if (!vt_crypto_only_tail(&text)) {
            free(der);
            return vt_fail(d, VT_E_BAD_CRL, "crl.pem", "text after the PEM block at offset %zu",
                           vt_reader_offset(&text));
        }
    } else if (vt_crl_hex_text(&text, &hex, &hex_len)) {
        if (hex_len % 2 != 0) {
            return vt_fail(d, VT_E_BAD_CRL, "crl.hex", "odd number of hex digits (%zu)", hex_len);
        }
        if (hex_len / 2 > VT_MAX_CRL_SIZE) {
            return vt_fail(d, VT_E_TOO_LARGE, "crl.hex", "CRL of %zu bytes exceeds %u", hex_len / 2,
                           VT_MAX_CRL_SIZE);
        }
        der = malloc(hex_len / 2);
        if (der == NULL) {
            return vt_fail(d, VT_E_NOMEM, "crl.hex", "out of memory");
        }
        if (vt_hex_decode((const char *)hex, hex_len, der, hex_len / 2, &der_len) != VT_OK) {
            free(der);
            return vt_fail(d, VT_E_BAD_CRL, "crl.hex", "invalid hex text");
        }
    } else {
        return vt_crl_from_der(p, len, true, out, d);
    }
    err = vt_crl_from_der(der, der_len, false, out, d);
    free(der);
    return err;
}

void vt_crl_free(struct vt_crl *crl)
{
    if (crl == NULL) {
        return;
    }
    X509_CRL_free(crl->crl);
    free(crl->der);
    free(crl);
}

const uint8_t *vt_crl_der(const struct vt_crl *crl, size_t *len)
{
    *len = crl->der_len;
    return crl->der;
}

vt_time vt_crl_this_update(const struct vt_crl *crl)
{
    return crl->this_update;
}

vt_time vt_crl_next_update(const struct vt_crl *crl)
{
    return crl->next_update;
}

void vt_crl_issuer_text(const struct vt_crl *crl, char *out, size_t cap)
{
    vt_crypto_name_text(X509_CRL_get_issuer(crl->crl), out, cap);
}

void vt_crl_number_text(const struct vt_crl *crl, char *out, size_t cap)
{
    if (out == NULL || cap == 0) {
        return;
    }
    out[0] = '\0';
    ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl->crl, NID_crl_number, NULL, NULL);
    BIGNUM *bn = num != NULL ? ASN1_INTEGER_to_BN(num, NULL) : NULL;
    char *dec = bn != NULL ? BN_bn2dec(bn) : NULL;
    if (dec != NULL) {
        snprintf(out, cap, "%s", dec);
    }
    OPENSSL_free(dec);
    BN_free(bn);
    ASN1_INTEGER_free(num);
    ERR_clear_error();
}

enum vt_err vt_crl_check_issuer(const struct vt_crl *crl, const struct vt_cert *issuer,
                                const char *what, struct vt_diag *d)
{
    char check[VT_DIAG_CHECK_MAX];
    char crl_issuer[160];
    char subject[160];
    if (what == NULL) {
        what = "crl";
    }
    if (crl == NULL || issuer == NULL) {
        snprintf(check, sizeof(check), "%s.args", what);
        return vt_fail(d, VT_E_ARG, check, "null CRL or issuer");
    }
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl->crl), X509_get_subject_name(issuer->x509)) != 0) {
        vt_crl_issuer_text(crl, crl_issuer, sizeof(crl_issuer));
        vt_cert_subject_text(issuer, subject, sizeof(subject));
        snprintf(check, sizeof(check), "%s.issuer", what);
        return vt_fail(d, VT_E_CRL_ISSUER, check, "CRL issuer [%s] is not [%s]", crl_issuer,
                       subject);
    }
    /* RFC 5280 4.2.1.3: a CRL signer's keyUsage, when present, has cRLSign. */
    uint32_t flags = X509_get_extension_flags(issuer->x509);
    if ((flags & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(issuer->x509) & KU_CRL_SIGN) == 0) {
        vt_cert_subject_text(issuer, subject, sizeof(subject));
        snprintf(check, sizeof(check), "%s.issuer", what);
        return vt_fail(d, VT_E_CRL_ISSUER, check, "[%s] keyUsage lacks cRLSign", subject);
    }
    ERR_clear_error();
    EVP_PKEY *pk = X509_get0_pubkey(issuer->x509);
    if (pk == NULL || X509_CRL_verify(crl->crl, pk) != 1) {
        char why[VT_CRYPTO_ERRTEXT_MAX];
        vt_crypto_errors(why, sizeof(why));
        vt_cert_subject_text(issuer, subject, sizeof(subject));
        snprintf(check, sizeof(check), "%s.signature", what);
        return vt_fail(d, VT_E_CRL_SIGNATURE, check,
                       "CRL signature does not verify with the key of [%s]: %s", subject, why);
    }
    return VT_OK;
}

bool vt_crl_is_revoked(const struct vt_crl *crl, const struct vt_cert *cert, vt_time *revoked_at)
{
    X509_REVOKED *rev = NULL;
    /* 1: listed; 2: listed with reason removeFromCRL, which only delta CRLs (rejected at parse)
     * may use, so it is treated as revoked too: fail closed. */
    if (X509_CRL_get0_by_serial(crl->crl, &rev, X509_get0_serialNumber(cert->x509)) <= 0 ||
        rev == NULL) {
        ERR_clear_error();
        return false;
    }
    if (revoked_at != NULL) {
        /* Checked at parse time, so the conversion succeeds. */
        vt_time t = 0;
        *revoked_at =
            vt_crypto_asn1_time(X509_REVOKED_get0_revocationDate(rev), &t) == VT_OK ? t : 0;
    }
    return true;
}
