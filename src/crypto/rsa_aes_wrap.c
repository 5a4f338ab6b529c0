/*
 * CKM_RSA_AES_KEY_WRAP for Key Vault's Secure Key Release, PKCS#8 export and self-signed
 * certificates (rsa_aes_wrap.h). The blob:
 *
 *   offset  size  field
 *   0       k     RSA-OAEP(kek, digest, MGF1(digest), label "") of the 32-byte AES key;
 *                 k = the modulus size in bytes
 *   k       m     AES-256 Key Wrap with Padding (RFC 5649) of the material: m = 8 * (ceil(n/8)+1)
 */
#include <limits.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/encoding.h"
#include "crypto/crypto_internal.h"
#include "crypto/rsa_aes_wrap.h"

static const EVP_MD *md_of(enum vt_rsa_aes_hash h)
{
    return h == VT_RSA_AES_SHA1 ? EVP_sha1() : h == VT_RSA_AES_SHA256 ? EVP_sha256() : EVP_sha384();
}

static enum vt_err crypto_fail(struct vt_diag *d, const char *check, const char *what)
{
    char why[256];
    vt_crypto_errors(why, sizeof(why));
    return vt_fail(d, VT_E_CRYPTO, check, "%s: %s", what, why);
}

static bool oaep(EVP_PKEY *pkey, enum vt_rsa_aes_hash h, bool encrypt, const uint8_t *in, size_t n,
                 uint8_t *out, size_t *outn)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    bool ok = ctx != NULL &&
              (encrypt ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
              EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md_of(h)) == 1 &&
              EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md_of(h)) == 1 &&
              (encrypt ? EVP_PKEY_encrypt(ctx, out, outn, in, n)
                       : EVP_PKEY_decrypt(ctx, out, outn, in, n)) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

/* AES-256 key wrap with padding (RFC 5649) one way or the other; *outn in: room, out: used. */
static bool kwp(const uint8_t key[32], bool wrap, const uint8_t *in, size_t n, uint8_t *out,
                size_t *outn)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    bool ok = ctx != NULL && n <= INT_MAX;
    if (ok) {
        EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
        ok = (wrap ? EVP_EncryptInit_ex(ctx, EVP_aes_256_wrap_pad(), NULL, key, NULL)
                   : EVP_DecryptInit_ex(ctx, EVP_aes_256_wrap_pad(), NULL, key, NULL)) == 1 &&
             (wrap ? EVP_EncryptUpdate(ctx, out, &len, in, (int)n)
                   : EVP_DecryptUpdate(ctx, out, &len, in, (int)n)) == 1 &&
             (wrap ? EVP_EncryptFinal_ex(ctx, out + len, &fin)
                   : EVP_DecryptFinal_ex(ctx, out + len, &fin)) == 1;
    }
    EVP_CIPHER_CTX_free(ctx);
    if (ok) {
        *outn = (size_t)len + (size_t)fin;
    }
    return ok;
}

static EVP_PKEY *rsa_pkey(const struct vt_jwk *k)
{
    if (k == NULL || strcmp(vt_jwk_kty(k), "RSA") != 0) {
        return NULL;
    }
    return vt_jwk_key(k)->pkey;
}

enum vt_err vt_rsa_aes_key_wrap(const struct vt_jwk *kek, enum vt_rsa_aes_hash hash,
                                const uint8_t *pt, size_t n, struct vt_buf *out, struct vt_diag *d)
{
    EVP_PKEY *pkey = rsa_pkey(kek);
    VT_ENSURE(pkey != NULL, d, VT_E_ARG, "rsa_aes.kek", "the key encryption key is not RSA");
    VT_ENSURE(n > 0 && n <= VT_RSA_AES_MATERIAL_MAX, d, VT_E_ARG, "rsa_aes.material",
              "%zu bytes of material, 1 to %u are wrapped", n, VT_RSA_AES_MATERIAL_MAX);
    size_t k = (size_t)EVP_PKEY_get_size(pkey), m = 8 * ((n + 7) / 8 + 1);
    uint8_t aes[32];
    VT_TRY(vt_random_bytes(aes, sizeof(aes), d));
    size_t start = out->len;
    enum vt_err err = vt_buf_reserve(out, k + m);
    size_t rn = k, wn = m;
    if (err == VT_OK && !oaep(pkey, hash, true, aes, sizeof(aes), out->data + start, &rn)) {
        err = crypto_fail(d, "rsa_aes.oaep", "RSA-OAEP encryption of the AES key failed");
    }
    if (err == VT_OK && !kwp(aes, true, pt, n, out->data + start + rn, &wn)) {
        err = crypto_fail(d, "rsa_aes.kwp", "AES key wrap with padding failed");
    }
    vt_wipe(aes, sizeof(aes));
    if (err == VT_OK) {
        out->len = start + rn + wn;
        out->data[out->len] = 0;
    }
    return err;
}

enum vt_err vt_rsa_aes_key_unwrap(const struct vt_jwk *kek, enum vt_rsa_aes_hash hash,
                                  const uint8_t *blob, size_t n, struct vt_buf *out,
                                  struct vt_diag *d)
{
    EVP_PKEY *pkey = rsa_pkey(kek);
    VT_ENSURE(pkey != NULL && vt_jwk_has_private(kek), d, VT_E_ARG, "rsa_aes.kek",
              "the key encryption key is not an RSA private key");
    size_t k = (size_t)EVP_PKEY_get_size(pkey);
    VT_ENSURE(n >= k + 16 && (n - k) % 8 == 0, d, VT_E_BAD_LENGTH, "rsa_aes.blob",
              "%zu bytes: the modulus size (%zu) and at least 16 wrapped bytes, a multiple of 8", n,
              k);
    uint8_t aes[512];
    size_t an = sizeof(aes);
    if (!oaep(pkey, hash, false, blob, k, aes, &an) || an != 32) {
        vt_wipe(aes, sizeof(aes));
        char why[256];
        vt_crypto_errors(why, sizeof(why));
        return vt_fail(d, VT_E_CRYPTO, "rsa_aes.unwrap", "the AES key does not decrypt");
    }
    size_t start = out->len, m = n - k;
    enum vt_err err = vt_buf_reserve(out, m);
    size_t got = m;
    if (err == VT_OK && !kwp(aes, false, blob + k, m, out->data + start, &got)) {
        err = crypto_fail(d, "rsa_aes.unwrap", "AES key unwrap failed");
    }
    vt_wipe(aes, sizeof(aes));
    if (err == VT_OK) {
        out->len = start + got;
        out->data[out->len] = 0;
    }
    return err;
}

enum vt_err vt_jwk_private_pkcs8_der(const struct vt_jwk *k, struct vt_buf *out, struct vt_diag *d)
{
    VT_ENSURE(k != NULL && vt_jwk_has_private(k), d, VT_E_STATE, "jwk.private",
              "the key has no private half");
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(vt_jwk_key(k)->pkey);
    if (p8 == NULL) {
        return crypto_fail(d, "jwk.pkcs8", "cannot encode the private key");
    }
    unsigned char *der = NULL;
    int len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
    PKCS8_PRIV_KEY_INFO_free(p8);
    if (len <= 0) {
        return crypto_fail(d, "jwk.pkcs8", "cannot encode the private key");
    }
    enum vt_err err = vt_buf_append(out, der, (size_t)len);
    OPENSSL_clear_free(der, (size_t)len);
    return err;
}

enum vt_err vt_jwk_self_signed_der(const struct vt_jwk *k, const char *cn, int64_t not_before,
                                   unsigned days, struct vt_buf *out, struct vt_diag *d)
{
    VT_ENSURE(k != NULL && vt_jwk_has_private(k), d, VT_E_STATE, "jwk.private",
              "the key has no private half");
    VT_ENSURE(cn != NULL && cn[0] != '\0' && strlen(cn) <= 64, d, VT_E_ARG, "cert.cn",
              "the common name is 1 to 64 bytes");
    EVP_PKEY *pkey = vt_jwk_key(k)->pkey;
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    uint8_t serial[16];
    enum vt_err err = vt_random_bytes(serial, sizeof(serial), d);
    if (err != VT_OK) {
        X509_free(x);
        X509_NAME_free(name);
        return err;
    }
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    X509_EXTENSION *bc =
        X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "critical,CA:FALSE");
    X509_EXTENSION *ku =
        X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage, "critical,digitalSignature");
    const EVP_MD *md = vt_jwk_bits(k) == 384 ? EVP_sha384() : EVP_sha256();
    bool ok =
        x != NULL && name != NULL && bn != NULL && bc != NULL && ku != NULL &&
        X509_set_version(x, 2) == 1 && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL &&
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                   0) == 1 &&
        X509_set_subject_name(x, name) == 1 && X509_set_issuer_name(x, name) == 1 &&
        X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &(time_t){(time_t)not_before}) != NULL &&
        X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, &(time_t){(time_t)not_before}) !=
            NULL &&
        X509_set_pubkey(x, pkey) == 1 && X509_add_ext(x, bc, -1) == 1 &&
        X509_add_ext(x, ku, -1) == 1 && X509_sign(x, pkey, md) > 0;
    unsigned char *der = NULL;
    int len = ok ? i2d_X509(x, &der) : -1;
    if (len > 0) {
        err = vt_buf_append(out, der, (size_t)len);
    } else {
        err = crypto_fail(d, "cert.sign", "cannot make the self-signed certificate");
    }
    OPENSSL_free(der);
    X509_EXTENSION_free(bc);
    X509_EXTENSION_free(ku);
    BN_free(bn);
    X509_NAME_free(name);
    X509_free(x);
    return err;
}

/* ---- private keys from JWK members ---- */

/* A base64url member as a BIGNUM (at most 1024 bytes). */
static enum vt_err member_bn(const json_t *jwk, const char *name, BIGNUM **out, struct vt_diag *d)
{
    const char *s = json_string_value(json_object_get(jwk, name));
    VT_ENSURE(s != NULL && s[0] != '\0', d, VT_E_MISSING_FIELD, "jwk.private",
              "the private key's member \"%s\" is missing", name);
    uint8_t buf[1024];
    size_t n = 0;
    if (vt_base64_decode(s, strlen(s), true, buf, sizeof(buf), &n) != VT_OK || n == 0) {
        return vt_fail(d, VT_E_BAD_BASE64, "jwk.private",
                       "the member \"%s\" is not base64url of 1 to 1024 bytes", name);
    }
    *out = BN_bin2bn(buf, (int)n, NULL);
    OPENSSL_cleanse(buf, sizeof(buf));
    VT_ENSURE(*out != NULL, d, VT_E_NOMEM, "jwk.private", "no memory");
    return VT_OK;
}

/* The key as PKCS#8 PEM, loaded back by vt_jwk_from_private_pem (which applies the JWK rules:
 * sizes, exponent, curve). */
static enum vt_err pkey_to_jwk(EVP_PKEY *pkey, struct vt_jwk **out, struct vt_diag *d)
{
    EVP_PKEY_CTX *cctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    bool ok = cctx != NULL && EVP_PKEY_check(cctx) == 1;
    EVP_PKEY_CTX_free(cctx);
    if (!ok) {
        char why[256];
        vt_crypto_errors(why, sizeof(why));
        return vt_fail(d, VT_E_BAD_KEY, "jwk.private",
                       "the members do not make a consistent private key (%s)", why);
    }
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        BIO_free(bio);
        return crypto_fail(d, "jwk.private", "cannot encode the private key");
    }
    char *pem = NULL;
    long len = BIO_get_mem_data(bio, &pem);
    enum vt_err err = vt_jwk_from_private_pem(pem, (size_t)len, out, d);
    OPENSSL_cleanse(pem, (size_t)len);
    BIO_free(bio);
    return err;
}

static enum vt_err rsa_from_json(const json_t *jwk, struct vt_jwk **out, struct vt_diag *d)
{
    static const char *const names[] = {"n", "e", "d", "p", "q", "dp", "dq", "qi"};
    static const char *const params[] = {
        OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
        OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
        OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
        OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
    BIGNUM *bn[8] = {NULL};
    enum vt_err err = VT_OK;
    for (size_t i = 0; err == VT_OK && i < 8; i++) {
        err = member_bn(jwk, names[i], &bn[i], d);
    }
    OSSL_PARAM_BLD *bld = err == VT_OK ? OSSL_PARAM_BLD_new() : NULL;
    for (size_t i = 0; bld != NULL && i < 8; i++) {
        if (OSSL_PARAM_BLD_push_BN(bld, params[i], bn[i]) != 1) {
            OSSL_PARAM_BLD_free(bld);
            bld = NULL;
        }
    }
    OSSL_PARAM *p = bld != NULL ? OSSL_PARAM_BLD_to_param(bld) : NULL;
    EVP_PKEY_CTX *ctx = p != NULL ? EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL) : NULL;
    EVP_PKEY *pkey = NULL;
    if (err == VT_OK && (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
                         EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, p) != 1)) {
        err = crypto_fail(d, "jwk.private", "the RSA members do not make a key");
    }
    if (err == VT_OK) {
        err = pkey_to_jwk(pkey, out, d);
    }
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(p);
    OSSL_PARAM_BLD_free(bld);
    for (size_t i = 0; i < 8; i++) {
        BN_clear_free(bn[i]);
    }
    return err;
}

static enum vt_err ec_from_json(const json_t *jwk, struct vt_jwk **out, struct vt_diag *d)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    const char *group = crv == NULL                 ? NULL
                        : strcmp(crv, "P-256") == 0 ? "prime256v1"
                        : strcmp(crv, "P-384") == 0 ? "secp384r1"
                        : strcmp(crv, "P-521") == 0 ? "secp521r1"
                                                    : NULL;
    size_t coord = crv == NULL                 ? 0
                   : strcmp(crv, "P-256") == 0 ? 32
                   : strcmp(crv, "P-384") == 0 ? 48
                                               : 66;
    VT_ENSURE(group != NULL, d, VT_E_UNSUPPORTED_ALGORITHM, "jwk.crv",
              "the curve \"%.16s\" is not P-256, P-384 or P-521", crv ? crv : "");
    uint8_t point[1 + 2 * 66];
    point[0] = 4;
    const char *names[] = {"x", "y"};
    for (size_t i = 0; i < 2; i++) {
        const char *s = json_string_value(json_object_get(jwk, names[i]));
        size_t n = 0;
        VT_ENSURE(s != NULL, d, VT_E_MISSING_FIELD, "jwk.private",
                  "the private key's member \"%s\" is missing", names[i]);
        VT_ENSURE(vt_base64_decode(s, strlen(s), true, point + 1 + i * coord, coord, &n) == VT_OK &&
                      n == coord,
                  d, VT_E_BAD_BASE64, "jwk.private",
                  "the member \"%s\" is not base64url of %zu bytes", names[i], coord);
    }
    BIGNUM *priv = NULL;
    VT_TRY(member_bn(jwk, "d", &priv, d));
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    bool ok =
        bld != NULL &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1 &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * coord) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) == 1;
    OSSL_PARAM *p = ok ? OSSL_PARAM_BLD_to_param(bld) : NULL;
    EVP_PKEY_CTX *ctx = p != NULL ? EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL) : NULL;
    EVP_PKEY *pkey = NULL;
    enum vt_err err = VT_OK;
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, p) != 1) {
        err = crypto_fail(d, "jwk.private", "the EC members do not make a key");
    }
    if (err == VT_OK) {
        err = pkey_to_jwk(pkey, out, d);
    }
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(p);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(priv);
    return err;
}

enum vt_err vt_jwk_private_from_json(const json_t *jwk, struct vt_jwk **out, struct vt_diag *d)
{
    *out = NULL;
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    VT_ENSURE(kty != NULL, d, VT_E_MISSING_FIELD, "jwk.kty", "the key has no \"kty\"");
    if (strcmp(kty, "RSA") == 0 || strcmp(kty, "RSA-HSM") == 0) {
        return rsa_from_json(jwk, out, d);
    }
    if (strcmp(kty, "EC") == 0 || strcmp(kty, "EC-HSM") == 0) {
        return ec_from_json(jwk, out, d);
    }
    return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "jwk.kty",
                   "\"%.16s\" is not a private key type this service imports (RSA, EC)", kty);
}

enum vt_err vt_jwk_from_cert_der(const uint8_t *der, size_t n, struct vt_jwk **out,
                                 struct vt_diag *d)
{
    *out = NULL;
    VT_ENSURE(n > 0 && n <= (64u << 10), d, VT_E_BAD_CERT, "jwk.x5c",
              "%zu bytes: not a certificate", n);
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)n);
    if (x == NULL || p != der + n) {
        X509_free(x);
        return vt_fail(d, VT_E_BAD_CERT, "jwk.x5c", "not one DER X.509 certificate");
    }
    EVP_PKEY *pk = X509_get0_pubkey(x);
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    enum vt_err err = VT_OK;
    if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA ||
        EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &bn_n) != 1 ||
        EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &bn_e) != 1) {
        err = vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "jwk.x5c",
                      "the certificate's key is not RSA (tokens are RS256)");
    }
    char *n64 = NULL, *e64 = NULL;
    if (err == VT_OK) {
        uint8_t nb[1024], eb[16];
        int nn = BN_num_bytes(bn_n), en = BN_num_bytes(bn_e);
        if (nn <= 0 || nn > (int)sizeof(nb) || en <= 0 || en > (int)sizeof(eb)) {
            err = vt_fail(d, VT_E_BAD_KEY, "jwk.x5c", "the RSA key's size is out of range");
        } else {
            BN_bn2bin(bn_n, nb);
            BN_bn2bin(bn_e, eb);
            n64 = vt_base64_alloc(nb, (size_t)nn, true);
            e64 = vt_base64_alloc(eb, (size_t)en, true);
        }
    }
    if (err == VT_OK) {
        json_t *j =
            n64 && e64 ? json_pack("{s:s,s:s,s:s}", "kty", "RSA", "n", n64, "e", e64) : NULL;
        err = j != NULL ? vt_jwk_from_json(j, out, d)
                        : vt_fail(d, VT_E_NOMEM, "jwk.x5c", "no memory");
        json_decref(j);
    }
    free(n64);
    free(e64);
    BN_free(bn_n);
    BN_free(bn_e);
    X509_free(x);
    return err;
}
