/*
 * Self-signed certificates and RSA JWKs from certificates (x509_self.h), over OpenSSL 3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/x509v3.h>

#include "base/encoding.h"
#include "crypto/crypto_internal.h"
#include "crypto/x509_self.h"

static enum vt_err lib_fail(struct vt_diag *d, const char *check, const char *what)
{
    char why[VT_CRYPTO_ERRTEXT_MAX];
    vt_crypto_errors(why, sizeof(why));
    return vt_fail(d, VT_E_CRYPTO, check, "%s: %s", what, why);
}

static bool add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    bool ok = e != NULL && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    return ok;
}

enum vt_err vt_x509_self_signed_der(const struct vt_jwk *key, const char *cn, vt_time not_before,
                                    vt_time not_after, struct vt_buf *der, struct vt_diag *d)
{
    VT_ENSURE(key != NULL && vt_jwk_has_private(key), d, VT_E_ARG, "x509.key",
              "a self-signed certificate needs a key with its private half");
    size_t cn_len = cn != NULL ? strlen(cn) : 0;
    VT_ENSURE(cn_len > 0 && cn_len <= 64, d, VT_E_ARG, "x509.cn",
              "the common name is %zu bytes (1 to 64)", cn_len);
    EVP_PKEY *pkey = vt_jwk_key(key)->pkey;
    time_t t0 = (time_t)not_before, t1 = (time_t)not_after;
    enum vt_err err = VT_OK;
    uint8_t serial[8];
    VT_TRY(vt_random_bytes(serial, sizeof(serial), d));
    serial[0] &= 0x7f; /* positive */
    serial[0] |= 0x01; /* and 8 bytes long */
    X509 *x = X509_new();
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    X509_NAME *name = X509_NAME_new();
    if (x == NULL || bn == NULL || name == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "x509", "no memory");
        goto out;
    }
    if (X509_set_version(x, X509_VERSION_3) != 1 ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
                                   (int)cn_len, -1, 0) != 1 ||
        X509_set_subject_name(x, name) != 1 || X509_set_issuer_name(x, name) != 1 ||
        X509_time_adj_ex(X509_getm_notBefore(x), 0, (long)0, &t0) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), 0, (long)0, &t1) == NULL ||
        X509_set_pubkey(x, pkey) != 1 || !add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(x, NID_key_usage, "critical,digitalSignature") ||
        !add_ext(x, NID_subject_key_identifier, "hash")) {
        err = lib_fail(d, "x509", "cannot build the certificate");
        goto out;
    }
    if (X509_sign(x, pkey, EVP_sha256()) <= 0) {
        err = lib_fail(d, "x509", "cannot sign the certificate");
        goto out;
    }
    unsigned char *p = NULL;
    int n = i2d_X509(x, &p);
    if (n <= 0) {
        err = lib_fail(d, "x509", "cannot encode the certificate");
        goto out;
    }
    err = vt_buf_append(der, p, (size_t)n);
    OPENSSL_free(p);
    if (err != VT_OK) {
        err = vt_fail(d, err, "x509", "no room for the certificate (%d bytes)", n);
    }
out:
    X509_NAME_free(name);
    BN_free(bn);
    X509_free(x);
    return err;
}

/* base64url of a BIGNUM's big-endian bytes (no leading zero), heap. */
static char *bn_b64(const BIGNUM *bn)
{
    int n = BN_num_bytes(bn);
    if (n <= 0 || n > 1024) {
        return NULL;
    }
    uint8_t buf[1024];
    BN_bn2bin(bn, buf);
    return vt_base64_alloc(buf, (size_t)n, true);
}

enum vt_err vt_x509_rsa_jwk(const uint8_t *der, size_t len, struct vt_jwk **out, struct vt_diag *d)
{
    *out = NULL;
    const unsigned char *p = der;
    X509 *x = len > 0 && len <= (1u << 20) ? d2i_X509(NULL, &p, (long)len) : NULL;
    if (x == NULL || p != der + len) {
        char why[VT_CRYPTO_ERRTEXT_MAX];
        vt_crypto_errors(why, sizeof(why));
        X509_free(x);
        return vt_fail(d, VT_E_BAD_CERT, "x509.der", "not one DER certificate of %zu bytes: %s",
                       len, why);
    }
    enum vt_err err = VT_OK;
    EVP_PKEY *pk = X509_get0_pubkey(x);
    BIGNUM *n = NULL, *e = NULL;
    char *nb = NULL, *eb = NULL, *json = NULL;
    if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
        err = vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "x509.key",
                      "the certificate's key is not RSA (%s)",
                      pk != NULL ? OBJ_nid2sn(EVP_PKEY_get_base_id(pk)) : "none");
        goto out;
    }
    if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
        err = lib_fail(d, "x509.key", "cannot read the RSA key");
        goto out;
    }
    nb = bn_b64(n);
    eb = bn_b64(e);
    size_t cap = (nb ? strlen(nb) : 0) + (eb ? strlen(eb) : 0) + 64;
    json = nb != NULL && eb != NULL ? malloc(cap) : NULL;
    if (json == NULL) {
        err = nb != NULL && eb != NULL ? vt_fail(d, VT_E_NOMEM, "x509", "no memory")
                                       : vt_fail(d, VT_E_BAD_KEY, "x509.key",
                                                 "the RSA modulus or exponent is out of bounds");
        goto out;
    }
    snprintf(json, cap, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", nb, eb);
    err = vt_jwk_parse(json, strlen(json), out, d);
out:
    free(json);
    free(eb);
    free(nb);
    BN_free(e);
    BN_free(n);
    X509_free(x);
    return err;
}
