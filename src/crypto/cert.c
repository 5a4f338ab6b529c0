/*
 * X.509 certificates: a reference-counted wrapper around OpenSSL's X509 that keeps the exact DER
 * it was parsed from, PEM bundles (plain or URL-encoded, as PCCS and PCS issuer-chain headers
 * carry them), and accessors that turn OpenSSL's conventions into veritee's.
 *
 * Parsing is strict: the DER must be exactly one certificate with no trailing bytes, extensions
 * must decode (OpenSSL's EXFLAG_INVALID) and appear once (RFC 5280 4.2), and the validity times
 * must convert. Everything after parsing works on the checked object.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "base/encoding.h"
#include "base/reader.h"

#include "crypto_internal.h"

/*
 * Largest PEM text accepted: VT_MAX_CHAIN_DEPTH certificates of VT_MAX_CERT_SIZE bytes, base64
 * (4/3) with line breaks, possibly URL-encoded (each '/', '+', '=' and line break becomes three
 * characters), plus room for padding.
 */
#define VT_PEM_TEXT_MAX (4u * VT_MAX_CHAIN_DEPTH * VT_MAX_CERT_SIZE)

/* ---- helpers shared inside src/crypto/ ---- */

void vt_crypto_errors(char *out, size_t cap)
{
    size_t used = 0;
    unsigned long e;
    if (cap == 0) {
        ERR_clear_error();
        return;
    }
    out[0] = '\0';
    while ((e = ERR_get_error()) != 0) {
        /* Skip messages that would be cut to an unreadable stub; keep draining. */
        if (used + 48 < cap) {
            if (used > 0) {
                out[used++] = ';';
                out[used++] = ' ';
                out[used] = '\0';
            }
            ERR_error_string_n(e, out + used, cap - used);
            used = strlen(out);
        }
    }
    if (used == 0) {
        snprintf(out, cap, "no detail from the library");
    }
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (m 1..12, d 1..31). */
static int64_t vt_days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2 ? 1 : 0;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

enum vt_err vt_crypto_asn1_time(const ASN1_TIME *t, vt_time *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    /* ASN1_TIME_to_tm(NULL, ...) would return the current time: never pass NULL. */
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        ERR_clear_error();
        return VT_E_BAD_TIME;
    }
    int64_t days =
        vt_days_from_civil((int64_t)tm.tm_year + 1900, (int64_t)tm.tm_mon + 1, (int64_t)tm.tm_mday);
    *out = days * 86400 + (int64_t)tm.tm_hour * 3600 + (int64_t)tm.tm_min * 60 + tm.tm_sec;
    return VT_OK;
}

void vt_crypto_name_text(const X509_NAME *name, char *out, size_t cap)
{
    if (out == NULL || cap == 0) {
        return;
    }
    out[0] = '\0';
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        ERR_clear_error();
        return;
    }
    /* DER order ("CN=...,O=...,C=US"), RFC 2253 escaping of specials, controls and non-ASCII. */
    unsigned long flags = ASN1_STRFLGS_RFC2253 | XN_FLAG_SEP_COMMA_PLUS | XN_FLAG_FN_SN;
    if (X509_NAME_print_ex(bio, name, 0, flags) >= 0) {
        char *data = NULL;
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0 && data != NULL) {
            size_t len = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
            memcpy(out, data, len);
            out[len] = '\0';
        }
    }
    BIO_free(bio);
    ERR_clear_error();
}

void vt_crypto_cert_label(const struct vt_cert *c, size_t pos, char *out, size_t cap)
{
    char cn[128];
    if (vt_cert_subject_cn(c, cn, sizeof(cn)) == VT_OK) {
        snprintf(out, cap, "cert %zu (CN=%s)", pos, cn);
    } else {
        char subject[160];
        vt_cert_subject_text(c, subject, sizeof(subject));
        snprintf(out, cap, "cert %zu (%s)", pos, subject);
    }
}

bool vt_crypto_is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void vt_crypto_skip_space(struct vt_reader *r)
{
    uint8_t c;
    while (vt_reader_peek_u8(r, &c) == VT_OK && vt_crypto_is_space(c)) {
        if (vt_reader_skip(r, 1) != VT_OK) {
            break;
        }
    }
}

bool vt_crypto_only_tail(const struct vt_reader *r)
{
    struct vt_reader t = *r;
    uint8_t c;
    while (vt_reader_get_u8(&t, &c) == VT_OK) {
        if (c != 0 && !vt_crypto_is_space(c)) {
            return false;
        }
    }
    return true;
}

/* If the reader starts with `lit`, consume it and return true; otherwise leave it. */
static bool vt_pem_take(struct vt_reader *r, const char *lit)
{
    size_t n = strlen(lit);
    struct vt_reader t = *r;
    const uint8_t *p;
    if (vt_reader_get_bytes(&t, n, &p) != VT_OK || memcmp(p, lit, n) != 0) {
        return false;
    }
    *r = t;
    return true;
}

/* Offset of the first occurrence of needle[nn] in hay[hn], or hn if none (nn > 0). */
static size_t vt_pem_find(const uint8_t *hay, size_t hn, const char *needle, size_t nn)
{
    for (size_t i = 0; nn <= hn && i <= hn - nn; i++) {
        if (hay[i] == (uint8_t)needle[0] && memcmp(hay + i, needle, nn) == 0) {
            return i;
        }
    }
    return hn;
}

/* Borrow the bytes before the next `lit`, and consume them and `lit`. False if none. */
static bool vt_pem_until(struct vt_reader *r, const char *lit, const uint8_t **body, size_t *len)
{
    size_t n = strlen(lit);
    struct vt_reader t = *r;
    const uint8_t *rest;
    size_t left = vt_reader_left(&t);
    if (vt_reader_get_bytes(&t, left, &rest) != VT_OK) {
        return false;
    }
    size_t off = vt_pem_find(rest, left, lit, n);
    if (off == left) {
        return false;
    }
    t = *r;
    if (vt_reader_get_bytes(&t, off, body) != VT_OK || vt_reader_skip(&t, n) != VT_OK) {
        return false;
    }
    *len = off;
    *r = t;
    return true;
}

enum vt_err vt_crypto_pem_block(struct vt_reader *r, const char *label, size_t max, uint8_t **der,
                                size_t *len, const char **why)
{
    char begin[64];
    char end[64];
    snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
    snprintf(end, sizeof(end), "-----END %s-----", label);
    struct vt_reader t = *r;
    const uint8_t *body;
    size_t body_len;
    if (!vt_pem_take(&t, begin)) {
        *why = "expected a BEGIN line";
        return VT_E_BAD_PEM;
    }
    if (!vt_pem_until(&t, end, &body, &body_len)) {
        *why = "BEGIN line without a matching END line";
        return VT_E_BAD_PEM;
    }
    /* Base64 of max bytes is 4*max/3 characters plus line breaks; a body over about twice that
     * cannot fit, so reject it before allocating. */
    if (body_len / 4 > max / 3 * 2 + 64) {
        *why = "PEM block exceeds the size limit";
        return VT_E_TOO_LARGE;
    }
    size_t cap = body_len / 4 * 3 + 3;
    if (cap > max) {
        cap = max;
    }
    uint8_t *buf = malloc(cap > 0 ? cap : 1);
    if (buf == NULL) {
        *why = "out of memory";
        return VT_E_NOMEM;
    }
    size_t n = 0;
    enum vt_err err = vt_base64_decode((const char *)body, body_len, false, buf, cap, &n);
    if (err == VT_E_BUFFER_TOO_SMALL) {
        free(buf);
        *why = "PEM block exceeds the size limit";
        return VT_E_TOO_LARGE;
    }
    if (err != VT_OK || n == 0) {
        free(buf);
        *why = err != VT_OK ? "invalid base64 inside the PEM block" : "empty PEM block";
        return VT_E_BAD_PEM;
    }
    *der = buf;
    *len = n;
    *r = t;
    return VT_OK;
}

/* ---- certificates ---- */

/* RFC 5280 4.2: a certificate must not include more than one instance of an extension. */
static bool vt_cert_has_duplicate_ext(const X509 *x)
{
    int n = X509_get_ext_count(x);
    for (int i = 0; i < n; i++) {
        const ASN1_OBJECT *a = X509_EXTENSION_get_object(X509_get_ext(x, i));
        for (int j = i + 1; j < n; j++) {
            if (OBJ_cmp(a, X509_EXTENSION_get_object(X509_get_ext(x, j))) == 0) {
                return true;
            }
        }
    }
    return false;
}

enum vt_err vt_cert_from_der(const uint8_t *der, size_t len, struct vt_cert **out,
                             struct vt_diag *d)
{
    if (der == NULL || out == NULL) {
        return vt_fail(d, VT_E_ARG, "cert.der", "null argument");
    }
    if (len == 0) {
        return vt_fail(d, VT_E_BAD_CERT, "cert.der", "empty input");
    }
    if (len > VT_MAX_CERT_SIZE) {
        return vt_fail(d, VT_E_TOO_LARGE, "cert.der", "certificate of %zu bytes exceeds %u", len,
                       VT_MAX_CERT_SIZE);
    }
    char why[VT_CRYPTO_ERRTEXT_MAX];
    enum vt_err err = VT_OK;
    struct vt_cert *c = NULL;
    const unsigned char *p = der;

    ERR_clear_error();
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL) {
        vt_crypto_errors(why, sizeof(why));
        return vt_fail(d, VT_E_BAD_CERT, "cert.der", "not a DER certificate: %s", why);
    }
    size_t used = (size_t)(p - der);
    if (used != len) {
        err = vt_fail(d, VT_E_BAD_CERT, "cert.der",
                      "%zu trailing bytes after the certificate (%zu of %zu bytes used)",
                      len - used, used, len);
        goto out_x509;
    }
    /* Decodes and caches the extensions; EXFLAG_INVALID marks ones that do not decode. */
    if ((X509_get_extension_flags(x) & EXFLAG_INVALID) != 0) {
        vt_crypto_errors(why, sizeof(why));
        err = vt_fail(d, VT_E_BAD_CERT, "cert.extensions", "invalid extension encoding: %s", why);
        goto out_x509;
    }
    if (vt_cert_has_duplicate_ext(x)) {
        err = vt_fail(d, VT_E_BAD_CERT, "cert.extensions", "an extension appears twice");
        goto out_x509;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "cert.der", "out of memory");
        goto out_x509;
    }
    if (vt_crypto_asn1_time(X509_get0_notBefore(x), &c->not_before) != VT_OK ||
        vt_crypto_asn1_time(X509_get0_notAfter(x), &c->not_after) != VT_OK) {
        err = vt_fail(d, VT_E_BAD_CERT, "cert.validity", "validity times cannot be read");
        goto out_cert;
    }
    c->der = malloc(len);
    if (c->der == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "cert.der", "out of memory");
        goto out_cert;
    }
    memcpy(c->der, der, len);
    c->der_len = len;
    c->x509 = x;
    atomic_init(&c->refs, 1);
    *out = c;
    ERR_clear_error();
    return VT_OK;

out_cert:
    free(c);
out_x509:
    X509_free(x);
    ERR_clear_error();
    return err;
}

void vt_cert_free(struct vt_cert *c)
{
    if (c == NULL) {
        return;
    }
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1) {
        return;
    }
    X509_free(c->x509);
    free(c->der);
    free(c);
}

struct vt_cert *vt_cert_ref(struct vt_cert *c)
{
    if (c != NULL) {
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    }
    return c;
}

const uint8_t *vt_cert_der(const struct vt_cert *c, size_t *len)
{
    *len = c->der_len;
    return c->der;
}

void vt_cert_sha256(const struct vt_cert *c, uint8_t out[VT_SHA256_LEN])
{
    vt_sha256(c->der, c->der_len, out);
}

enum vt_err vt_cert_subject_cn(const struct vt_cert *c, char *out, size_t cap)
{
    const X509_NAME *name = X509_get_subject_name(c->x509);
    int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (idx < 0) {
        return VT_E_NOT_FOUND;
    }
    const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, s);
    if (n < 0) {
        ERR_clear_error();
        return VT_E_BAD_CERT;
    }
    enum vt_err err = VT_OK;
    if (memchr(utf8, 0, (size_t)n) != NULL) {
        err = VT_E_BAD_CERT; /* an embedded NUL would truncate the name silently */
    } else if (cap == 0 || (size_t)n > cap - 1) {
        err = VT_E_BUFFER_TOO_SMALL;
    } else {
        memcpy(out, utf8, (size_t)n);
        out[n] = '\0';
    }
    OPENSSL_free(utf8);
    return err;
}

void vt_cert_subject_text(const struct vt_cert *c, char *out, size_t cap)
{
    vt_crypto_name_text(X509_get_subject_name(c->x509), out, cap);
}

void vt_cert_issuer_text(const struct vt_cert *c, char *out, size_t cap)
{
    vt_crypto_name_text(X509_get_issuer_name(c->x509), out, cap);
}

void vt_cert_serial_hex(const struct vt_cert *c, char *out, size_t cap)
{
    if (out == NULL || cap == 0) {
        return;
    }
    out[0] = '\0';
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c->x509), NULL);
    char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
    if (hex != NULL) {
        snprintf(out, cap, "%s", hex);
    }
    OPENSSL_free(hex);
    BN_free(bn);
    ERR_clear_error();
}

vt_time vt_cert_not_before(const struct vt_cert *c)
{
    return c->not_before;
}

vt_time vt_cert_not_after(const struct vt_cert *c)
{
    return c->not_after;
}

bool vt_cert_issuer_is(const struct vt_cert *child, const struct vt_cert *issuer)
{
    /* X509_NAME_cmp compares the canonical encodings (RFC 5280 7.1 style name matching). */
    return X509_NAME_cmp(X509_get_issuer_name(child->x509), X509_get_subject_name(issuer->x509)) ==
           0;
}

bool vt_cert_equal(const struct vt_cert *a, const struct vt_cert *b)
{
    return a->der_len == b->der_len && memcmp(a->der, b->der, a->der_len) == 0;
}

bool vt_cert_same_subject(const struct vt_cert *a, const struct vt_cert *b)
{
    return X509_NAME_cmp(X509_get_subject_name(a->x509), X509_get_subject_name(b->x509)) == 0;
}

/* The DER SubjectPublicKeyInfo of c (OPENSSL_malloc'd), or NULL. */
static unsigned char *vt_cert_spki_der(const struct vt_cert *c, int *len)
{
    unsigned char *der = NULL;
    *len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c->x509), &der);
    if (*len <= 0 || der == NULL) {
        OPENSSL_free(der);
        ERR_clear_error();
        return NULL;
    }
    return der;
}

bool vt_cert_same_key(const struct vt_cert *a, const struct vt_cert *b)
{
    int alen = 0, blen = 0;
    unsigned char *ader = vt_cert_spki_der(a, &alen);
    unsigned char *bder = vt_cert_spki_der(b, &blen);
    /* An SPKI that cannot be encoded matches nothing. */
    bool same =
        ader != NULL && bder != NULL && alen == blen && memcmp(ader, bder, (size_t)alen) == 0;
    OPENSSL_free(ader);
    OPENSSL_free(bder);
    return same;
}

void vt_cert_spki_sha256(const struct vt_cert *c, uint8_t out[VT_SHA256_LEN])
{
    int len = 0;
    unsigned char *der = vt_cert_spki_der(c, &len);
    if (der == NULL) {
        memset(out, 0, VT_SHA256_LEN);
        return;
    }
    vt_sha256(der, (size_t)len, out);
    OPENSSL_free(der);
}

enum vt_err vt_crypto_cert_ec_key(const struct vt_cert *c, int nid, const char *curve,
                                  EVP_PKEY **out, struct vt_diag *d)
{
    char why[VT_CRYPTO_ERRTEXT_MAX];
    ERR_clear_error();
    EVP_PKEY *pk = X509_get0_pubkey(c->x509);
    if (pk == NULL) {
        vt_crypto_errors(why, sizeof(why));
        return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "cert.public_key",
                       "public key cannot be decoded: %s", why);
    }
    if (!EVP_PKEY_is_a(pk, "EC")) {
        const char *type = EVP_PKEY_get0_type_name(pk);
        return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "cert.public_key",
                       "expected an EC %s key, got %s", curve, type != NULL ? type : "unknown");
    }
    char group[64];
    size_t group_len = 0;
    if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &group_len) != 1 ||
        OBJ_txt2nid(group) != nid) {
        ERR_clear_error();
        return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "cert.public_key",
                       "expected the %s curve, got %s", curve,
                       group_len > 0 ? group : "no named curve");
    }
    *out = pk;
    return VT_OK;
}

enum vt_err vt_cert_p256_xy(const struct vt_cert *c, uint8_t xy[64], struct vt_diag *d)
{
    EVP_PKEY *pk = NULL;
    VT_TRY(vt_crypto_cert_ec_key(c, NID_X9_62_prime256v1, "P-256", &pk, d));
    char why[VT_CRYPTO_ERRTEXT_MAX];
    BIGNUM *x = NULL;
    BIGNUM *y = NULL;
    enum vt_err err = VT_OK;
    if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
        EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1 ||
        BN_bn2binpad(x, xy, 32) != 32 || BN_bn2binpad(y, xy + 32, 32) != 32) {
        vt_crypto_errors(why, sizeof(why));
        err = vt_fail(d, VT_E_CRYPTO, "cert.public_key", "cannot export the EC point: %s", why);
    }
    BN_free(x);
    BN_free(y);
    return err;
}

bool vt_cert_has_key_usage(const struct vt_cert *c, unsigned bits)
{
    /* X509_get_key_usage returns UINT32_MAX when the extension is absent. */
    uint32_t ku = X509_get_key_usage(c->x509);
    return ku != UINT32_MAX && (ku & bits) == bits;
}

bool vt_cert_is_ca(const struct vt_cert *c, long *pathlen)
{
    bool ca = (X509_get_extension_flags(c->x509) & EXFLAG_CA) != 0;
    if (pathlen != NULL) {
        *pathlen = X509_get_pathlen(c->x509);
    }
    return ca;
}

enum vt_err vt_cert_extension(const struct vt_cert *c, const char *oid, const uint8_t **val,
                              size_t *len)
{
    if (c == NULL || oid == NULL || val == NULL || len == NULL) {
        return VT_E_ARG;
    }
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    if (obj == NULL) {
        ERR_clear_error();
        return VT_E_ARG;
    }
    int idx = X509_get_ext_by_OBJ(c->x509, obj, -1);
    ASN1_OBJECT_free(obj);
    if (idx < 0) {
        return VT_E_NOT_FOUND;
    }
    const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_get_ext(c->x509, idx));
    *val = ASN1_STRING_get0_data(v);
    *len = (size_t)ASN1_STRING_length(v);
    return VT_OK;
}

/* ---- lists ---- */

void vt_cert_list_init(struct vt_cert_list *l)
{
    memset(l, 0, sizeof(*l));
}

void vt_cert_list_cleanup(struct vt_cert_list *l)
{
    if (l == NULL) {
        return;
    }
    for (size_t i = 0; i < l->n; i++) {
        vt_cert_free(l->certs[i]);
        l->certs[i] = NULL;
    }
    l->n = 0;
}

enum vt_err vt_cert_list_add(struct vt_cert_list *l, struct vt_cert *c)
{
    if (l == NULL || c == NULL) {
        return VT_E_ARG;
    }
    if (l->n >= VT_MAX_CHAIN_DEPTH) {
        return VT_E_TOO_LARGE;
    }
    l->certs[l->n++] = vt_cert_ref(c);
    return VT_OK;
}

/* Length of p[len] without its tail of whitespace and NUL bytes. */
static size_t vt_pem_content_len(const uint8_t *p, size_t len)
{
    struct vt_reader r;
    size_t end = 0;
    uint8_t c;
    vt_reader_init(&r, p, len);
    while (vt_reader_get_u8(&r, &c) == VT_OK) {
        if (c != 0 && !vt_crypto_is_space(c)) {
            end = vt_reader_offset(&r);
        }
    }
    return end;
}

/* Parse the certificates of plain PEM text into tmp (which the caller cleans up). */
static enum vt_err vt_cert_list_parse_pem(const uint8_t *text, size_t len, struct vt_cert_list *tmp,
                                          struct vt_diag *d)
{
    struct vt_reader r;
    vt_reader_init(&r, text, len);
    for (;;) {
        vt_crypto_skip_space(&r);
        if (vt_crypto_only_tail(&r)) {
            break;
        }
        size_t offset = vt_reader_offset(&r);
        uint8_t *der = NULL;
        size_t der_len = 0;
        const char *why = "";
        enum vt_err err =
            vt_crypto_pem_block(&r, "CERTIFICATE", VT_MAX_CERT_SIZE, &der, &der_len, &why);
        if (err != VT_OK) {
            return vt_fail(d, err, "cert.pem", "%s at offset %zu (block %zu)", why, offset, tmp->n);
        }
        if (tmp->n >= VT_MAX_CHAIN_DEPTH) {
            free(der);
            return vt_fail(d, VT_E_TOO_LARGE, "cert.pem", "more than %d certificates",
                           VT_MAX_CHAIN_DEPTH);
        }
        struct vt_cert *c = NULL;
        err = vt_cert_from_der(der, der_len, &c, d);
        free(der);
        if (err != VT_OK) {
            return err;
        }
        tmp->certs[tmp->n++] = c;
    }
    if (tmp->n == 0) {
        return vt_fail(d, VT_E_BAD_PEM, "cert.pem", "no certificate in %zu bytes", len);
    }
    return VT_OK;
}

enum vt_err vt_cert_list_from_pem(const char *pem, size_t len, struct vt_cert_list *l,
                                  struct vt_diag *d)
{
    if (pem == NULL || l == NULL) {
        return vt_fail(d, VT_E_ARG, "cert.pem", "null argument");
    }
    if (len > VT_PEM_TEXT_MAX) {
        return vt_fail(d, VT_E_TOO_LARGE, "cert.pem", "PEM text of %zu bytes exceeds %u", len,
                       VT_PEM_TEXT_MAX);
    }
    enum vt_err err = VT_OK;
    char *decoded = NULL;
    const uint8_t *text = (const uint8_t *)pem;
    size_t text_len = len;
    struct vt_cert_list tmp;
    vt_cert_list_init(&tmp);

    /* Base64 PEM never contains '%': its presence means URL-encoded PEM (SPEC: PCS headers). */
    if (memchr(pem, '%', len) != NULL) {
        decoded = malloc(len);
        if (decoded == NULL) {
            return vt_fail(d, VT_E_NOMEM, "cert.pem", "out of memory");
        }
        /* The NUL/whitespace tail stays outside: percent-decoding refuses raw NULs. */
        size_t content = vt_pem_content_len((const uint8_t *)pem, len);
        if (vt_percent_decode(pem, content, decoded, len, &text_len) != VT_OK) {
            err =
                vt_fail(d, VT_E_BAD_PEM, "cert.pem", "invalid percent-encoding in %zu bytes", len);
            goto out;
        }
        text = (const uint8_t *)decoded;
    }
    err = vt_cert_list_parse_pem(text, text_len, &tmp, d);
    if (err != VT_OK) {
        goto out;
    }
    if (l->n + tmp.n > VT_MAX_CHAIN_DEPTH) {
        err = vt_fail(d, VT_E_TOO_LARGE, "cert.pem", "%zu certificates added to %zu exceed %d",
                      tmp.n, l->n, VT_MAX_CHAIN_DEPTH);
        goto out;
    }
    for (size_t i = 0; i < tmp.n; i++) {
        l->certs[l->n++] = tmp.certs[i];
        tmp.certs[i] = NULL;
    }
    tmp.n = 0;
out:
    vt_cert_list_cleanup(&tmp);
    free(decoded);
    return err;
}

enum vt_err vt_cert_list_from_bytes(const uint8_t *p, size_t len, struct vt_cert_list *l,
                                    struct vt_diag *d)
{
    if (p == NULL || l == NULL) {
        return vt_fail(d, VT_E_ARG, "cert.bytes", "null argument");
    }
    struct vt_reader r;
    uint8_t first = 0;
    vt_reader_init(&r, p, len);
    /* A DER certificate starts with a SEQUENCE tag; PEM text never does. */
    if (vt_reader_peek_u8(&r, &first) == VT_OK && first == 0x30) {
        if (l->n >= VT_MAX_CHAIN_DEPTH) {
            return vt_fail(d, VT_E_TOO_LARGE, "cert.der", "list already holds %d certificates",
                           VT_MAX_CHAIN_DEPTH);
        }
        struct vt_cert *c = NULL;
        VT_TRY(vt_cert_from_der(p, len, &c, d));
        l->certs[l->n++] = c;
        return VT_OK;
    }
    return vt_cert_list_from_pem((const char *)p, len, l, d);
}

/* The NID of an AlgorithmIdentifier's algorithm (NID_undef for NULL). */
static int algor_nid(const X509_ALGOR *a)
{
    const ASN1_OBJECT *obj = NULL;
    if (a == NULL) {
        return NID_undef;
    }
    X509_ALGOR_get0(&obj, NULL, NULL, a);
    return OBJ_obj2nid(obj);
}

enum vt_err vt_cert_check_rsa_pss(const struct vt_cert *c, int hash_bits, int salt,
                                  const char *check, struct vt_diag *d)
{
    VT_ENSURE(c != NULL, d, VT_E_ARG, check, "NULL certificate");
    int want_md = hash_bits == 256 ? NID_sha256 : hash_bits == 384 ? NID_sha384 : NID_sha512;
    const X509_ALGOR *alg = NULL;
    X509_get0_signature(NULL, &alg, c->x509);
    const ASN1_OBJECT *obj = NULL;
    int ptype = 0;
    const void *pval = NULL;
    X509_ALGOR_get0(&obj, &ptype, &pval, alg);
    char name[128];
    vt_cert_subject_text(c, name, sizeof(name));
    if (OBJ_obj2nid(obj) != NID_rsassaPss) {
        char found[80];
        OBJ_obj2txt(found, sizeof(found), obj, 0);
        return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, check,
                       "[%s] is signed with %s, expected RSASSA-PSS", name, found);
    }
    RSA_PSS_PARAMS *pss = NULL;
    if (ptype == V_ASN1_SEQUENCE) {
        pss = ASN1_item_unpack((const ASN1_STRING *)pval, ASN1_ITEM_rptr(RSA_PSS_PARAMS));
    }
    ERR_clear_error();
    if (pss == NULL) {
        return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, check,
                       "[%s] has RSASSA-PSS parameters that cannot be decoded", name);
    }
    int md = pss->hashAlgorithm != NULL ? algor_nid(pss->hashAlgorithm) : NID_sha1;
    int mgf = pss->maskGenAlgorithm != NULL ? algor_nid(pss->maskGenAlgorithm) : NID_mgf1;
    int mgf_md = NID_sha1;
    if (pss->maskGenAlgorithm != NULL) {
        /* The MGF1 hash is the AlgorithmIdentifier inside maskGenAlgorithm's parameters. */
        int mtype = 0;
        const void *mval = NULL;
        X509_ALGOR_get0(NULL, &mtype, &mval, pss->maskGenAlgorithm);
        X509_ALGOR *mh = mtype == V_ASN1_SEQUENCE ? ASN1_item_unpack((const ASN1_STRING *)mval,
                                                                     ASN1_ITEM_rptr(X509_ALGOR))
                                                  : NULL;
        mgf_md = algor_nid(mh);
        X509_ALGOR_free(mh);
        ERR_clear_error();
    }
    long s = pss->saltLength != NULL ? ASN1_INTEGER_get(pss->saltLength) : 20;
    long trailer = pss->trailerField != NULL ? ASN1_INTEGER_get(pss->trailerField) : 1;
    RSA_PSS_PARAMS_free(pss);
    if (md != want_md || mgf != NID_mgf1 || mgf_md != want_md || s != salt || trailer != 1) {
        return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, check,
                       "[%s] RSASSA-PSS uses hash %s, mask %s with %s, salt %ld, trailer %ld; "
                       "expected SHA%d, MGF1 with SHA%d, salt %d, trailer 1",
                       name, OBJ_nid2sn(md), OBJ_nid2sn(mgf), OBJ_nid2sn(mgf_md), s, trailer,
                       hash_bits, hash_bits, salt);
    }
    return VT_OK;
}

enum vt_err vt_cert_list_from_file(const char *path, struct vt_cert_list *l, struct vt_diag *d)
{
    struct vt_buf b;
    vt_buf_init(&b, VT_MAX_COLLATERAL_SIZE);
    enum vt_err err = vt_file_read(path, &b, d);
    if (err == VT_OK) {
        err = vt_cert_list_from_bytes(b.data, b.len, l, d);
    }
    vt_buf_cleanup(&b);
    return err;
}
