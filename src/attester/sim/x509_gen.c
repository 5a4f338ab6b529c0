/*
 * The X.509 generator of the simulators (x509_gen.h). Every OpenSSL call is checked
 * (sim_assert.h): a failure returns an error naming the call, the values and OpenSSL's error
 * queue, after the function has freed what it held.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "sim_assert.h"
#include "x509_gen.h"

#define VT_SIM_AREA "sim.x509"

enum vt_err vt_testgen_p256_key(EVP_PKEY **out, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    EVP_PKEY *k = EVP_EC_gen("P-256");
    VT_SIM_NEED(k != NULL);
    *out = k;
out:
    return err;
}

/* key must be an EC key on P-256 (what the raw 32-byte r, s and coordinates assume). */
static bool is_p256(EVP_PKEY *key)
{
    char group[32];
    size_t n = 0;
    return key != NULL && EVP_PKEY_is_a(key, "EC") &&
           EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                          &n) == 1 &&
           strcmp(group, "prime256v1") == 0;
}

static const char *key_type(EVP_PKEY *key)
{
    return key == NULL ? "no key" : EVP_PKEY_get0_type_name(key);
}

enum vt_err vt_testgen_p256_xy(EVP_PKEY *key, uint8_t xy[64], struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    uint8_t pub[65];
    size_t n = 0;
    VT_SIM_ARG(is_p256(key), VT_E_ARG, "the key is %s, want an EC P-256 key", key_type(key));
    VT_SIM_NEED_EQ(
        EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &n), 1);
    VT_SIM_NEED_EQ(n, 65);
    VT_SIM_NEED_EQ(pub[0], 0x04);
    memcpy(xy, pub + 1, 64);
out:
    return err;
}

enum vt_err vt_testgen_p256_sign(EVP_PKEY *key, const void *msg, size_t n, uint8_t sig[64],
                                 struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    uint8_t der[80];
    size_t der_len = sizeof(der);
    ECDSA_SIG *s = NULL;
    EVP_MD_CTX *ctx = NULL;
    VT_SIM_ARG(is_p256(key), VT_E_ARG, "the key is %s, want an EC P-256 key", key_type(key));
    ctx = EVP_MD_CTX_new();
    VT_SIM_NEED(ctx != NULL);
    VT_SIM_NEED_EQ(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
    VT_SIM_NEED_EQ(EVP_DigestSign(ctx, der, &der_len, msg, n), 1);
    const unsigned char *p = der;
    s = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    VT_SIM_NEED(s != NULL);
    uint8_t raw[64];
    VT_SIM_NEED_EQ(BN_bn2binpad(ECDSA_SIG_get0_r(s), raw, 32), 32);
    VT_SIM_NEED_EQ(BN_bn2binpad(ECDSA_SIG_get0_s(s), raw + 32, 32), 32);
    memcpy(sig, raw, 64);
out:
    ECDSA_SIG_free(s);
    EVP_MD_CTX_free(ctx);
    return err;
}

static enum vt_err vt_testgen_name(const char *cn, X509_NAME **out, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    X509_NAME *name = X509_NAME_new();
    VT_SIM_NEED(name != NULL);
    if (cn != NULL) {
        VT_SIM_NEED_EQ(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                                  (const unsigned char *)cn, -1, -1, 0),
                       1);
    }
    VT_SIM_NEED_EQ(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                              (const unsigned char *)"veritee test", -1, -1, 0),
                   1);
    VT_SIM_NEED_EQ(X509_NAME_add_entry_by_txt(name, "C", MBSTRING_UTF8, (const unsigned char *)"US",
                                              -1, -1, 0),
                   1);
    *out = name;
    name = NULL;
out:
    X509_NAME_free(name);
    return err;
}

static enum vt_err vt_testgen_add_ext(X509 *x, X509 *issuer, int nid, const char *value,
                                      struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    VT_SIM_NEED(ext != NULL);
    VT_SIM_NEED_EQ(X509_add_ext(x, ext, -1), 1);
out:
    X509_EXTENSION_free(ext);
    return err;
}

/* An extension oid (dotted text) with the raw DER value der[len]. */
static enum vt_err vt_testgen_add_raw_ext(X509 *x, const char *oid, const uint8_t *der, size_t len,
                                          bool critical, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    X509_EXTENSION *ext = NULL;
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
    VT_SIM_ARG(obj != NULL, VT_E_ARG, "extension OID \"%.64s\" is not a dotted OID", oid);
    VT_SIM_NEED(val != NULL);
    VT_SIM_ARG(len <= 65536, VT_E_ARG, "extension value of %zu bytes (at most 65536)", len);
    VT_SIM_NEED_EQ(ASN1_OCTET_STRING_set(val, der, (int)len), 1);
    ext = X509_EXTENSION_create_by_OBJ(NULL, obj, critical ? 1 : 0, val);
    VT_SIM_NEED(ext != NULL);
    VT_SIM_NEED_EQ(X509_add_ext(x, ext, -1), 1);
out:
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(val);
    ASN1_OBJECT_free(obj);
    return err;
}

enum vt_err vt_testgen_cert(const struct vt_testgen_cert_opts *o, X509 **out, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    X509_NAME *subject = NULL;
    X509_NAME *iname = NULL;
    X509 *x = NULL;
    VT_SIM_ARG(o->key != NULL, VT_E_ARG, "no subject key (opts.key)");
    x = X509_new();
    VT_SIM_NEED(x != NULL);
    VT_SIM_NEED_EQ(X509_set_version(x, 2), 1);
    VT_SIM_NEED_EQ(ASN1_INTEGER_set(X509_get_serialNumber(x), o->serial), 1);
    VT_SIM_CALL(vt_testgen_name(o->cn, &subject, d));
    VT_SIM_NEED_EQ(X509_set_subject_name(x, subject), 1);
    if (o->issuer_cn != NULL) {
        VT_SIM_CALL(vt_testgen_name(o->issuer_cn, &iname, d));
        VT_SIM_NEED_EQ(X509_set_issuer_name(x, iname), 1);
    } else if (o->issuer != NULL) {
        VT_SIM_NEED_EQ(X509_set_issuer_name(x, X509_get_subject_name(o->issuer)), 1);
    } else {
        VT_SIM_NEED_EQ(X509_set_issuer_name(x, subject), 1);
    }
    VT_SIM_NEED(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)o->not_before) != NULL);
    VT_SIM_NEED(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)o->not_after) != NULL);
    VT_SIM_NEED_EQ(X509_set_pubkey(x, o->key), 1);
    if (!o->no_basic) {
        char bc[64];
        if (o->ca && o->pathlen >= 0) {
            snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d", o->pathlen);
        } else {
            snprintf(bc, sizeof(bc), "critical,CA:%s", o->ca ? "TRUE" : "FALSE");
        }
        VT_SIM_CALL(vt_testgen_add_ext(x, o->issuer, NID_basic_constraints, bc, d));
    }
    if (o->key_usage != NULL) {
        VT_SIM_CALL(vt_testgen_add_ext(x, o->issuer, NID_key_usage, o->key_usage, d));
    }
    VT_SIM_CALL(vt_testgen_add_ext(x, o->issuer, NID_subject_key_identifier, "hash", d));
    if (o->ext_oid != NULL) {
        VT_SIM_CALL(
            vt_testgen_add_raw_ext(x, o->ext_oid, o->ext_der, o->ext_len, o->ext_critical, d));
    }
    VT_SIM_NEED(X509_sign(x, o->signer != NULL ? o->signer : o->key, EVP_sha256()) > 0);
    *out = x;
    x = NULL;
out:
    X509_free(x);
    X509_NAME_free(iname);
    X509_NAME_free(subject);
    return err;
}

/* name with its CN entries replaced by cn. */
static enum vt_err vt_testgen_name_with_cn(const X509_NAME *name, const char *cn, X509_NAME **res,
                                           struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    X509_NAME *n = X509_NAME_dup(name);
    VT_SIM_NEED(n != NULL);
    int i;
    while ((i = X509_NAME_get_index_by_NID(n, NID_commonName, -1)) >= 0) {
        X509_NAME_ENTRY_free(X509_NAME_delete_entry(n, i));
    }
    VT_SIM_NEED_EQ(
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, 0, 0), 1);
    *res = n;
    n = NULL;
out:
    X509_NAME_free(n);
    return err;
}

/* Replace (or add) extension nid of x with value, in OpenSSL's config syntax. */
static enum vt_err vt_testgen_set_ext(X509 *x, int nid, const char *value, struct vt_diag *d)
{
    int i = X509_get_ext_by_NID(x, nid, -1);
    if (i >= 0) {
        X509_EXTENSION_free(X509_delete_ext(x, i));
    }
    return vt_testgen_add_ext(x, NULL, nid, value, d);
}

/* Sign x with an RSA key: RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48 (as AMD signs). */
static enum vt_err vt_testgen_sign_pss(X509 *x, EVP_PKEY *signer, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    VT_SIM_NEED(md != NULL);
    VT_SIM_NEED_EQ(EVP_DigestSignInit(md, &pctx, EVP_sha384(), NULL, signer), 1);
    VT_SIM_NEED(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
    VT_SIM_NEED(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) > 0);
    VT_SIM_NEED(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) > 0);
    VT_SIM_NEED(X509_sign_ctx(x, md) > 0);
out:
    EVP_MD_CTX_free(md);
    return err;
}

enum vt_err vt_testgen_reissue(X509 *orig, const struct vt_testgen_reissue_opts *o, X509 **out,
                               struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    X509_NAME *subject = NULL;
    X509_NAME *issuer = NULL;
    X509 *x = NULL;
    VT_SIM_ARG(o->signer != NULL, VT_E_ARG, "no signing key (opts.signer)");
    VT_SIM_ARG(orig != NULL, VT_E_ARG, "no certificate to re-issue");
    x = X509_dup(orig);
    VT_SIM_NEED(x != NULL);
    bool self_issued = X509_NAME_cmp(X509_get_subject_name(orig), X509_get_issuer_name(orig)) == 0;
    VT_SIM_NEED_EQ(ASN1_INTEGER_set(X509_get_serialNumber(x), o->serial), 1);
    VT_SIM_NEED(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)o->not_before) != NULL);
    VT_SIM_NEED(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)o->not_after) != NULL);
    if (o->key != NULL) {
        VT_SIM_NEED_EQ(X509_set_pubkey(x, o->key), 1);
    }
    if (o->cn != NULL) {
        VT_SIM_CALL(vt_testgen_name_with_cn(X509_get_subject_name(orig), o->cn, &subject, d));
        VT_SIM_NEED_EQ(X509_set_subject_name(x, subject), 1);
        if (self_issued) {
            VT_SIM_NEED_EQ(X509_set_issuer_name(x, subject), 1);
        }
    }
    if (o->issuer_cn != NULL) {
        VT_SIM_CALL(vt_testgen_name_with_cn(X509_get_issuer_name(x), o->issuer_cn, &issuer, d));
        VT_SIM_NEED_EQ(X509_set_issuer_name(x, issuer), 1);
    }
    if (o->pathlen >= 0) {
        char bc[64];
        snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d", o->pathlen);
        VT_SIM_CALL(vt_testgen_set_ext(x, NID_basic_constraints, bc, d));
    }
    if (o->critical_oid != NULL) {
        static const uint8_t null_der[2] = {0x05, 0x00};
        VT_SIM_CALL(
            vt_testgen_add_raw_ext(x, o->critical_oid, null_der, sizeof(null_der), true, d));
    }
    if (EVP_PKEY_is_a(o->signer, "RSA") || EVP_PKEY_is_a(o->signer, "RSA-PSS")) {
        VT_SIM_CALL(vt_testgen_sign_pss(x, o->signer, d));
    } else {
        bool p384 = EVP_PKEY_get_bits(o->signer) > 256;
        VT_SIM_NEED(X509_sign(x, o->signer, p384 ? EVP_sha384() : EVP_sha256()) > 0);
    }
    *out = x;
    x = NULL;
out:
    X509_free(x);
    X509_NAME_free(issuer);
    X509_NAME_free(subject);
    return err;
}

/* OpenSSL's DER (n bytes at der, freed here) as a malloc'd copy. */
static enum vt_err vt_testgen_copy_der(unsigned char *der, int n, uint8_t **out, size_t *len,
                                       struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    uint8_t *copy = NULL;
    VT_SIM_NEED(n > 0);
    copy = malloc((size_t)n);
    VT_SIM_ALLOC(copy);
    memcpy(copy, der, (size_t)n);
    *out = copy;
    *len = (size_t)n;
out:
    OPENSSL_free(der);
    return err;
}

enum vt_err vt_testgen_cert_der(X509 *x, uint8_t **out, size_t *len, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    unsigned char *der = NULL;
    VT_SIM_ARG(x != NULL, VT_E_ARG, "no certificate");
    int n = i2d_X509(x, &der);
    err = vt_testgen_copy_der(der, n, out, len, d);
out:
    return err;
}

/* The text written to a memory BIO as a malloc'd NUL-terminated copy. */
static enum vt_err vt_testgen_bio_text(BIO *bio, char **out, size_t *len, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    VT_SIM_NEED(n > 0);
    char *copy = malloc((size_t)n + 1);
    VT_SIM_ALLOC(copy);
    memcpy(copy, data, (size_t)n);
    copy[n] = '\0';
    *out = copy;
    *len = (size_t)n;
out:
    return err;
}

enum vt_err vt_testgen_cert_pem(X509 *x, char **out, size_t *len, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    BIO *bio = NULL;
    VT_SIM_ARG(x != NULL, VT_E_ARG, "no certificate");
    bio = BIO_new(BIO_s_mem());
    VT_SIM_NEED(bio != NULL);
    VT_SIM_NEED_EQ(PEM_write_bio_X509(bio, x), 1);
    err = vt_testgen_bio_text(bio, out, len, d);
out:
    BIO_free(bio);
    return err;
}

enum vt_err vt_testgen_vt_cert(X509 *x, struct vt_cert **out, struct vt_diag *d)
{
    size_t len = 0;
    uint8_t *der = NULL;
    VT_TRY(vt_testgen_cert_der(x, &der, &len, d));
    enum vt_err err = vt_cert_from_der(der, len, out, d);
    free(der);
    return err;
}

enum vt_err vt_testgen_crl(X509 *issuer, EVP_PKEY *signer, const long *serials, size_t n,
                           int64_t this_update, int64_t next_update, long number, X509_CRL **out,
                           struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    X509_CRL *crl = NULL;
    ASN1_TIME *t = NULL;
    ASN1_INTEGER *num = NULL;
    X509_REVOKED *rev = NULL;
    ASN1_INTEGER *serial = NULL;
    ASN1_TIME *when = NULL;
    VT_SIM_ARG(issuer != NULL && signer != NULL, VT_E_ARG, "no issuer certificate or signing key");
    crl = X509_CRL_new();
    VT_SIM_NEED(crl != NULL);
    VT_SIM_NEED_EQ(X509_CRL_set_version(crl, 1), 1);
    VT_SIM_NEED_EQ(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)), 1);
    t = ASN1_TIME_set(NULL, (time_t)this_update);
    VT_SIM_NEED(t != NULL);
    VT_SIM_NEED_EQ(X509_CRL_set1_lastUpdate(crl, t), 1);
    if (next_update >= 0) {
        VT_SIM_NEED(ASN1_TIME_set(t, (time_t)next_update) != NULL);
        VT_SIM_NEED_EQ(X509_CRL_set1_nextUpdate(crl, t), 1);
    }
    for (size_t i = 0; i < n; i++) {
        rev = X509_REVOKED_new();
        serial = ASN1_INTEGER_new();
        when = ASN1_TIME_set(NULL, (time_t)(this_update - 60 * (int64_t)(i + 1)));
        VT_SIM_NEED(rev != NULL);
        VT_SIM_NEED(serial != NULL);
        VT_SIM_NEED(when != NULL);
        VT_SIM_NEED_EQ(ASN1_INTEGER_set(serial, serials[i]), 1);
        VT_SIM_NEED_EQ(X509_REVOKED_set_serialNumber(rev, serial), 1);
        VT_SIM_NEED_EQ(X509_REVOKED_set_revocationDate(rev, when), 1);
        VT_SIM_NEED_EQ(X509_CRL_add0_revoked(crl, rev), 1);
        rev = NULL; /* the CRL owns it */
        ASN1_INTEGER_free(serial);
        serial = NULL;
        ASN1_TIME_free(when);
        when = NULL;
    }
    num = ASN1_INTEGER_new();
    VT_SIM_NEED(num != NULL);
    VT_SIM_NEED_EQ(ASN1_INTEGER_set(num, number), 1);
    VT_SIM_NEED_EQ(X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0), 1);
    VT_SIM_NEED_EQ(X509_CRL_sort(crl), 1);
    VT_SIM_NEED(X509_CRL_sign(crl, signer, EVP_sha256()) > 0);
    *out = crl;
    crl = NULL;
out:
    ASN1_TIME_free(when);
    ASN1_INTEGER_free(serial);
    X509_REVOKED_free(rev);
    ASN1_INTEGER_free(num);
    ASN1_TIME_free(t);
    X509_CRL_free(crl);
    return err;
}

enum vt_err vt_testgen_crl_der(X509_CRL *crl, uint8_t **out, size_t *len, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    unsigned char *der = NULL;
    VT_SIM_ARG(crl != NULL, VT_E_ARG, "no CRL");
    int n = i2d_X509_CRL(crl, &der);
    err = vt_testgen_copy_der(der, n, out, len, d);
out:
    return err;
}

enum vt_err vt_testgen_crl_pem(X509_CRL *crl, char **out, size_t *len, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    BIO *bio = NULL;
    VT_SIM_ARG(crl != NULL, VT_E_ARG, "no CRL");
    bio = BIO_new(BIO_s_mem());
    VT_SIM_NEED(bio != NULL);
    VT_SIM_NEED_EQ(PEM_write_bio_X509_CRL(bio, crl), 1);
    err = vt_testgen_bio_text(bio, out, len, d);
out:
    BIO_free(bio);
    return err;
}

enum vt_err vt_testgen_pki_init(struct vt_testgen_pki *p, int64_t nb, int64_t na, int64_t leaf_nb,
                                int64_t leaf_na, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    memset(p, 0, sizeof(*p));
    VT_SIM_CALL(vt_testgen_p256_key(&p->root_key, d));
    VT_SIM_CALL(vt_testgen_p256_key(&p->ca_key, d));
    VT_SIM_CALL(vt_testgen_p256_key(&p->leaf_key, d));
    struct vt_testgen_cert_opts o = {
        .cn = "Test Root CA",
        .key = p->root_key,
        .not_before = nb,
        .not_after = na,
        .serial = 1,
        .ca = true,
        .pathlen = 1,
        .key_usage = "critical,keyCertSign,cRLSign",
    };
    VT_SIM_CALL(vt_testgen_cert(&o, &p->root, d));
    o = (struct vt_testgen_cert_opts){
        .cn = "Test Intermediate CA",
        .key = p->ca_key,
        .issuer = p->root,
        .signer = p->root_key,
        .not_before = nb,
        .not_after = na,
        .serial = 2,
        .ca = true,
        .pathlen = 0,
        .key_usage = "critical,keyCertSign,cRLSign",
    };
    VT_SIM_CALL(vt_testgen_cert(&o, &p->ca, d));
    o = (struct vt_testgen_cert_opts){
        .cn = "Test Leaf",
        .key = p->leaf_key,
        .issuer = p->ca,
        .signer = p->ca_key,
        .not_before = leaf_nb,
        .not_after = leaf_na,
        .serial = 3,
        .key_usage = "critical,digitalSignature",
    };
    VT_SIM_CALL(vt_testgen_cert(&o, &p->leaf, d));
out:
    if (err != VT_OK) {
        vt_testgen_pki_cleanup(p);
    }
    return err;
}

void vt_testgen_pki_cleanup(struct vt_testgen_pki *p)
{
    X509_free(p->leaf);
    X509_free(p->ca);
    X509_free(p->root);
    EVP_PKEY_free(p->leaf_key);
    EVP_PKEY_free(p->ca_key);
    EVP_PKEY_free(p->root_key);
    memset(p, 0, sizeof(*p));
}

enum vt_err vt_testgen_list(struct vt_cert_list *l, X509 *const *certs, size_t n, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    struct vt_cert *c = NULL;
    vt_cert_list_init(l);
    for (size_t i = 0; i < n; i++) {
        VT_SIM_CALL(vt_testgen_vt_cert(certs[i], &c, d));
        VT_SIM_NEED_EQ(vt_cert_list_add(l, c), VT_OK);
        vt_cert_free(c);
        c = NULL;
    }
out:
    vt_cert_free(c);
    if (err != VT_OK) {
        vt_cert_list_cleanup(l);
    }
    return err;
}
