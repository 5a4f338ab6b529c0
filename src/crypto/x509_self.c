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

enum vt_err vt_x509_self_signed_der(const struct vt_jwk *key, const char *cn, vt_time not_before,
                                    vt_time not_after, struct vt_buf *der, struct vt_diag *d)
{
    VT_ENSURE(key != NULL && vt_jwk_has_private(key), d, VT_E_ARG, "x509.key",
              "a self-signed certificate needs a key with its private half");
    size_t cn_len = cn != NULL ? strlen(cn) : 0;
    VT_ENSURE(cn_len > 0 && cn_len <= 64, d, VT_E_ARG, "x509.cn",
              "the common name is %zu bytes (1 to 64)", cn_len);
    const struct vt_key *k = vt_jwk_key(key);
    uint8_t serial[8];
    VT_TRY(vt_x509_random_serial(serial, sizeof(serial), d));
    X509 *x = X509_new();
    VT_ENSURE(x != NULL, d, VT_E_NOMEM, "x509", "no memory");
    enum vt_err err = VT_OK;
    if (!vt_x509_set_base(x, serial, sizeof(serial), cn, NULL, not_before, not_after, k->pkey) ||
        !vt_x509_add_std_ext(NULL, x, NID_basic_constraints, "critical,CA:FALSE") ||
        !vt_x509_add_std_ext(NULL, x, NID_key_usage, "critical,digitalSignature") ||
        !vt_x509_add_std_ext(NULL, x, NID_subject_key_identifier, "hash")) {
        err = vt_x509_lib_fail(d, "x509", "build the certificate");
    } else {
        err = vt_x509_sign_der(x, k, EVP_sha256(), der, "x509", d);
    }
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
        err = vt_x509_lib_fail(d, "x509.key", "read the RSA key");
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
