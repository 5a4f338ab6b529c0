/*
 * The pieces every certificate veritee makes is built from (crypto_internal.h): the attested-TLS
 * self-signed certificates (x509_make.c), the broker's CA and the leaves it issues
 * (x509_issue.c), the MAA drop-in's signing certificate (x509_self.c). Each of those decides
 * what goes into its certificate; the OpenSSL calls that put it there are here, once.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "crypto_internal.h"

enum vt_err vt_x509_lib_fail(struct vt_diag *d, const char *check, const char *what)
{
    char why[VT_CRYPTO_ERRTEXT_MAX];
    vt_crypto_errors(why, sizeof(why));
    return vt_fail(d, VT_E_CRYPTO, check, "cannot %s: %s", what, why);
}

enum vt_err vt_x509_random_serial(uint8_t *serial, size_t n, struct vt_diag *d)
{
    VT_ENSURE(serial != NULL && n > 0 && n <= 20, d, VT_E_ARG, "x509.serial",
              "a serial is 1 to 20 bytes, not %zu", n);
    VT_TRY(vt_random_bytes(serial, n, d));
    /* SPEC: RFC 5280 4.1.2.2: positive; the top bits make it exactly n bytes long */
    serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40);
    return VT_OK;
}

bool vt_x509_name_cn(X509_NAME *name, const char *cn)
{
    return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                      0) == 1;
}

bool vt_x509_set_base(X509 *x, const uint8_t *serial, size_t serial_len, const char *cn,
                      const X509_NAME *issuer, vt_time not_before, vt_time not_after, EVP_PKEY *pub)
{
    BIGNUM *bn = BN_bin2bn(serial, (int)serial_len, NULL);
    bool ok = bn != NULL && X509_set_version(x, X509_VERSION_3) == 1 &&
              BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL &&
              vt_x509_name_cn(X509_get_subject_name(x), cn) &&
              X509_set_issuer_name(x, issuer != NULL ? issuer : X509_get_subject_name(x)) == 1 &&
              ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before) != NULL &&
              ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after) != NULL &&
              X509_set_pubkey(x, pub) == 1;
    BN_free(bn);
    return ok;
}

bool vt_x509_add_std_ext(X509 *issuer, X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    bool ok = e != NULL && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    return ok;
}

bool vt_x509_add_dns(X509 *x, const char *const *dns, size_t n)
{
    GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
    bool ok = names != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
        ok = g != NULL && s != NULL && ASN1_STRING_set(s, dns[i], (int)strlen(dns[i])) == 1;
        if (ok) {
            GENERAL_NAME_set0_value(g, GEN_DNS, s);
            s = NULL;
            ok = sk_GENERAL_NAME_push(names, g) > 0;
            if (ok) {
                g = NULL;
            }
        }
        ASN1_IA5STRING_free(s);
        GENERAL_NAME_free(g);
    }
    ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT) == 1;
    GENERAL_NAMES_free(names);
    return ok;
}

enum vt_err vt_x509_sign_der(X509 *x, const struct vt_key *k, const EVP_MD *md, struct vt_buf *der,
                             const char *check, struct vt_diag *d)
{
    if (md == NULL) {
        md = k->alg == VT_KEY_P384 ? EVP_sha384() : EVP_sha256();
    }
    if (X509_sign(x, k->pkey, md) <= 0) {
        return vt_x509_lib_fail(d, check, "sign the certificate");
    }
    unsigned char *p = NULL;
    int n = i2d_X509(x, &p);
    if (n <= 0) {
        return vt_x509_lib_fail(d, check, "encode the certificate");
    }
    enum vt_err err = vt_buf_replace(der, p, (size_t)n);
    OPENSSL_free(p);
    return err == VT_OK ? VT_OK
                        : vt_fail(d, err, check, "cannot hold %d bytes (limit %zu)", n, der->max);
}
