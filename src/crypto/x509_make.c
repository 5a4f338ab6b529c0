/*
 * Certificates of attested TLS at the crypto boundary (x509_make.h): keys, self-signed
 * certificates with extensions given as bytes, extensions and keys of parsed certificates, the
 * leaf of an X509_STORE_CTX.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crypto/x509_make.h"
#include "crypto_internal.h"

/* The longest OID content a certificate being made may name. */
#define X509_OID_DER_MAX 64

enum vt_err vt_x509_key_generate(const char *type, struct vt_key **out, struct vt_diag *d)
{
    VT_ENSURE(out != NULL, d, VT_E_ARG, "x509.key_type", "no output");
    *out = NULL;
    if (type == NULL || strcmp(type, "P-256") == 0) {
        return vt_key_generate(VT_KEY_P256, 0, out, d);
    }
    if (strcmp(type, "RSA-2048") == 0) {
        return vt_key_generate(VT_KEY_RSA, 2048, out, d);
    }
    if (strcmp(type, "RSA-3072") == 0) {
        return vt_key_generate(VT_KEY_RSA, 3072, out, d);
    }
    VT_ENSURE(strcmp(type, "P-384") == 0, d, VT_E_ARG, "x509.key_type",
              "key type \"%s\", expected P-256, P-384, RSA-2048 or RSA-3072", type);
    struct vt_key *k = vt_crypto_key_alloc(VT_KEY_P384);
    VT_ENSURE(k != NULL, d, VT_E_NOMEM, "x509.key_type", "cannot allocate the key");
    k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp384r1");
    if (k->pkey == NULL) {
        char why[VT_CRYPTO_ERRTEXT_MAX];
        vt_crypto_errors(why, sizeof(why));
        vt_key_free(k);
        return vt_fail(d, VT_E_CRYPTO, "x509.key_type", "P-384 generation failed: %s", why);
    }
    k->has_private = true;
    snprintf(k->label, sizeof(k->label), "a generated P-384 key");
    *out = k;
    return VT_OK;
}

static ASN1_OBJECT *ext_object(const struct vt_x509_ext *e)
{
    if (e->oid_der == NULL) {
        return OBJ_txt2obj(e->oid, 1);
    }
    if (e->oid_der_len == 0 || e->oid_der_len > X509_OID_DER_MAX) {
        return NULL;
    }
    uint8_t der[2 + X509_OID_DER_MAX];
    der[0] = 0x06;
    der[1] = (uint8_t)e->oid_der_len;
    memcpy(der + 2, e->oid_der, e->oid_der_len);
    const unsigned char *p = der;
    return d2i_ASN1_OBJECT(NULL, &p, (long)(e->oid_der_len + 2));
}

static bool add_raw_ext(X509 *x, const struct vt_x509_ext *e)
{
    ASN1_OBJECT *obj = ext_object(e);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;
    bool ok = obj != NULL && os != NULL && e->value_len <= INT32_MAX &&
              ASN1_OCTET_STRING_set(os, e->value, (int)e->value_len) == 1;
    if (ok) {
        ext = X509_EXTENSION_create_by_OBJ(NULL, obj, e->critical ? 1 : 0, os);
        ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;
    }
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    return ok;
}

/* x (empty) filled from t and signed with k, as DER into der. */
static enum vt_err fill_cert(X509 *x, const struct vt_key *k, const struct vt_x509_template *t,
                             struct vt_buf *der, struct vt_diag *d)
{
    uint8_t serial[16];
    VT_TRY(vt_x509_random_serial(serial, sizeof(serial), d));
    bool rsa = k->alg == VT_KEY_RSA;
    bool ok = vt_x509_set_base(x, serial, sizeof(serial),
                               t->common_name != NULL ? t->common_name : "veritee", NULL,
                               t->not_before, t->not_after, k->pkey) &&
              vt_x509_add_std_ext(NULL, x, NID_basic_constraints, "critical,CA:FALSE") &&
              vt_x509_add_std_ext(NULL, x, NID_key_usage,
                                  rsa ? "critical,digitalSignature,keyEncipherment"
                                      : "critical,digitalSignature") &&
              vt_x509_add_std_ext(NULL, x, NID_ext_key_usage, "serverAuth,clientAuth") &&
              (t->n_dns == 0 || vt_x509_add_dns(x, t->dns, t->n_dns));
    for (size_t i = 0; ok && i < t->n_exts; i++) {
        ok = add_raw_ext(x, &t->exts[i]);
    }
    if (!ok) {
        return vt_x509_lib_fail(d, "x509.make", "build the certificate");
    }
    return vt_x509_sign_der(x, k, NULL, der, "x509.make", d);
}

enum vt_err vt_x509_self_signed(const struct vt_key *k, const struct vt_x509_template *t,
                                struct vt_buf *pem_out, struct vt_diag *d)
{
    VT_ENSURE(k != NULL && k->has_private && t != NULL && pem_out != NULL, d, VT_E_ARG,
              "x509.template", "a private key, a template and an output are needed");
    VT_ENSURE(t->not_after > t->not_before, d, VT_E_ARG, "x509.template",
              "notAfter %lld is not after notBefore %lld", (long long)t->not_after,
              (long long)t->not_before);
    for (size_t i = 0; i < t->n_dns; i++) {
        VT_ENSURE(t->dns[i] != NULL && t->dns[i][0] != '\0', d, VT_E_ARG, "x509.template",
                  "DNS name %zu is empty", i);
    }
    ERR_clear_error();
    X509 *x = X509_new();
    VT_ENSURE(x != NULL, d, VT_E_NOMEM, "x509.make", "cannot allocate a certificate");
    struct vt_buf der;
    vt_buf_init(&der, pem_out->max);
    enum vt_err err = fill_cert(x, k, t, &der, d);
    if (err == VT_OK) {
        err = vt_der_to_pem("CERTIFICATE", der.data, der.len, pem_out, d);
    }
    vt_buf_cleanup(&der);
    X509_free(x);
    return err;
}

size_t vt_cert_ext_count(const struct vt_cert *c)
{
    int n = c != NULL ? X509_get_ext_count(c->x509) : 0;
    return n > 0 ? (size_t)n : 0;
}

enum vt_err vt_cert_ext_at(const struct vt_cert *c, size_t i, char *oid, size_t cap, bool *critical,
                           const uint8_t **val, size_t *len)
{
    if (c == NULL || i >= vt_cert_ext_count(c) || oid == NULL || cap == 0 || val == NULL ||
        len == NULL) {
        return VT_E_ARG;
    }
    X509_EXTENSION *e = X509_get_ext(c->x509, (int)i);
    if (e == NULL) {
        return VT_E_ARG;
    }
    oid[0] = '\0';
    if (OBJ_obj2txt(oid, (int)(cap > INT32_MAX ? INT32_MAX : cap), X509_EXTENSION_get_object(e),
                    1) < 0) {
        ERR_clear_error();
        oid[0] = '\0';
    }
    if (critical != NULL) {
        *critical = X509_EXTENSION_get_critical(e) != 0;
    }
    const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(e);
    *val = ASN1_STRING_get0_data(v);
    *len = (size_t)ASN1_STRING_length(v);
    return VT_OK;
}

enum vt_err vt_cert_spki(const struct vt_cert *c, struct vt_buf *out, struct vt_diag *d)
{
    VT_ENSURE(c != NULL && out != NULL, d, VT_E_ARG, "cert.spki", "no certificate or output");
    unsigned char *der = NULL;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c->x509), &der);
    if (n <= 0 || der == NULL) {
        OPENSSL_free(der);
        ERR_clear_error();
        return vt_fail(d, VT_E_BAD_CERT, "cert.spki", "cannot encode the SubjectPublicKeyInfo");
    }
    enum vt_err err = vt_buf_replace(out, der, (size_t)n);
    OPENSSL_free(der);
    return err == VT_OK ? VT_OK : vt_fail(d, err, "cert.spki", "cannot hold %d bytes", n);
}

enum vt_err vt_cert_pubkey_pem(const struct vt_cert *c, struct vt_buf *out, struct vt_diag *d)
{
    VT_ENSURE(c != NULL && out != NULL, d, VT_E_ARG, "cert.public_key_pem",
              "no certificate or output");
    EVP_PKEY *pk = X509_get0_pubkey(c->x509);
    BIO *b = BIO_new(BIO_s_mem());
    enum vt_err err = VT_OK;
    if (pk == NULL || b == NULL || PEM_write_bio_PUBKEY(b, pk) != 1) {
        ERR_clear_error();
        err =
            vt_fail(d, VT_E_BAD_CERT, "cert.public_key_pem", "cannot write the public key as PEM");
    } else {
        char *p = NULL;
        long n = BIO_get_mem_data(b, &p);
        err = vt_buf_replace(out, p, (size_t)n);
        if (err != VT_OK) {
            vt_fail(d, err, "cert.public_key_pem", "cannot hold %ld bytes", n);
        }
    }
    BIO_free(b);
    return err;
}

enum vt_err vt_x509_store_leaf(struct x509_store_ctx_st *s, struct vt_buf *out, struct vt_diag *d)
{
    X509 *x = s != NULL ? X509_STORE_CTX_get0_cert(s) : NULL;
    VT_ENSURE(x != NULL && out != NULL, d, VT_E_BAD_CERT, "atls.callback",
              "the handshake gave no peer certificate");
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    if (n <= 0 || der == NULL) {
        OPENSSL_free(der);
        ERR_clear_error();
        return vt_fail(d, VT_E_BAD_CERT, "atls.callback", "cannot encode the peer certificate");
    }
    enum vt_err err = vt_buf_replace(out, der, (size_t)n);
    OPENSSL_free(der);
    return err == VT_OK
               ? VT_OK
               : vt_fail(d, err, "atls.callback", "cannot hold the peer certificate (%d bytes)", n);
}

void vt_x509_store_refuse(struct x509_store_ctx_st *s)
{
    if (s != NULL) {
        X509_STORE_CTX_set_error(s, X509_V_ERR_APPLICATION_VERIFICATION);
    }
}
