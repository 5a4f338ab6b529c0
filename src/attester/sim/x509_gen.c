#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_assert.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "x509_gen.h"

EVP_PKEY *vt_testgen_p256_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    VT_SIM_NEED(k);
    return k;
}

void vt_testgen_p256_xy(EVP_PKEY *key, uint8_t xy[64])
{
    uint8_t pub[65];
    size_t n = 0;
    VT_SIM_NEED_EQ(
        EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &n), 1);
    VT_SIM_NEED_EQ(n, 65);
    VT_SIM_NEED_EQ(pub[0], 0x04);
    memcpy(xy, pub + 1, 64);
}

void vt_testgen_p256_sign(EVP_PKEY *key, const void *msg, size_t n, uint8_t sig[64])
{
    uint8_t der[80];
    size_t der_len = sizeof(der);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    VT_SIM_NEED(ctx);
    VT_SIM_NEED_EQ(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
    VT_SIM_NEED_EQ(EVP_DigestSign(ctx, der, &der_len, msg, n), 1);
    EVP_MD_CTX_free(ctx);
    const unsigned char *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    VT_SIM_NEED(s);
    VT_SIM_NEED_EQ(BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, 32), 32);
    VT_SIM_NEED_EQ(BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + 32, 32), 32);
    ECDSA_SIG_free(s);
}

static X509_NAME *vt_testgen_name(const char *cn)
{
    X509_NAME *name = X509_NAME_new();
    VT_SIM_NEED(name);
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
    return name;
}

static void vt_testgen_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    VT_SIM_NEED(ext);
    VT_SIM_NEED_EQ(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

X509 *vt_testgen_cert(const struct vt_testgen_cert_opts *o)
{
    X509 *x = X509_new();
    VT_SIM_NEED(x);
    VT_SIM_NEED_EQ(X509_set_version(x, 2), 1);
    VT_SIM_NEED_EQ(ASN1_INTEGER_set(X509_get_serialNumber(x), o->serial), 1);
    X509_NAME *subject = vt_testgen_name(o->cn);
    VT_SIM_NEED_EQ(X509_set_subject_name(x, subject), 1);
    if (o->issuer_cn != NULL) {
        X509_NAME *iname = vt_testgen_name(o->issuer_cn);
        VT_SIM_NEED_EQ(X509_set_issuer_name(x, iname), 1);
        X509_NAME_free(iname);
    } else if (o->issuer != NULL) {
        VT_SIM_NEED_EQ(X509_set_issuer_name(x, X509_get_subject_name(o->issuer)), 1);
    } else {
        VT_SIM_NEED_EQ(X509_set_issuer_name(x, subject), 1);
    }
    X509_NAME_free(subject);
    VT_SIM_NEED(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)o->not_before));
    VT_SIM_NEED(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)o->not_after));
    VT_SIM_NEED_EQ(X509_set_pubkey(x, o->key), 1);
    if (!o->no_basic) {
        char bc[64];
        if (o->ca && o->pathlen >= 0) {
            snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d", o->pathlen);
        } else {
            snprintf(bc, sizeof(bc), "critical,CA:%s", o->ca ? "TRUE" : "FALSE");
        }
        vt_testgen_add_ext(x, o->issuer, NID_basic_constraints, bc);
    }
    if (o->key_usage != NULL) {
        vt_testgen_add_ext(x, o->issuer, NID_key_usage, o->key_usage);
    }
    vt_testgen_add_ext(x, o->issuer, NID_subject_key_identifier, "hash");
    if (o->ext_oid != NULL) {
        ASN1_OBJECT *obj = OBJ_txt2obj(o->ext_oid, 1);
        ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
        VT_SIM_NEED(obj);
        VT_SIM_NEED(val);
        VT_SIM_NEED_EQ(ASN1_OCTET_STRING_set(val, o->ext_der, (int)o->ext_len), 1);
        X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, obj, o->ext_critical, val);
        VT_SIM_NEED(ext);
        VT_SIM_NEED_EQ(X509_add_ext(x, ext, -1), 1);
        X509_EXTENSION_free(ext);
        ASN1_OCTET_STRING_free(val);
        ASN1_OBJECT_free(obj);
    }
    VT_SIM_NEED(X509_sign(x, o->signer != NULL ? o->signer : o->key, EVP_sha256()) > 0);
    return x;
}

/* name with its CN entries replaced by cn. */
static X509_NAME *vt_testgen_name_with_cn(const X509_NAME *name, const char *cn)
{
    X509_NAME *out = X509_NAME_dup(name);
    VT_SIM_NEED(out);
    int i;
    while ((i = X509_NAME_get_index_by_NID(out, NID_commonName, -1)) >= 0) {
        X509_NAME_ENTRY_free(X509_NAME_delete_entry(out, i));
    }
    VT_SIM_NEED_EQ(
        X509_NAME_add_entry_by_txt(out, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, 0, 0),
        1);
    return out;
}

/* Replace (or add) extension nid of x with value, in OpenSSL's config syntax. */
static void vt_testgen_set_ext(X509 *x, int nid, const char *value)
{
    int i = X509_get_ext_by_NID(x, nid, -1);
    if (i >= 0) {
        X509_EXTENSION_free(X509_delete_ext(x, i));
    }
    vt_testgen_add_ext(x, NULL, nid, value);
}

X509 *vt_testgen_reissue(X509 *orig, const struct vt_testgen_reissue_opts *o)
{
    VT_SIM_NEED(o->signer);
    X509 *x = X509_dup(orig);
    VT_SIM_NEED(x);
    bool self_issued = X509_NAME_cmp(X509_get_subject_name(orig), X509_get_issuer_name(orig)) == 0;
    VT_SIM_NEED_EQ(ASN1_INTEGER_set(X509_get_serialNumber(x), o->serial), 1);
    VT_SIM_NEED(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)o->not_before));
    VT_SIM_NEED(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)o->not_after));
    if (o->key != NULL) {
        VT_SIM_NEED_EQ(X509_set_pubkey(x, o->key), 1);
    }
    if (o->cn != NULL) {
        X509_NAME *subject = vt_testgen_name_with_cn(X509_get_subject_name(orig), o->cn);
        VT_SIM_NEED_EQ(X509_set_subject_name(x, subject), 1);
        if (self_issued) {
            VT_SIM_NEED_EQ(X509_set_issuer_name(x, subject), 1);
        }
        X509_NAME_free(subject);
    }
    if (o->issuer_cn != NULL) {
        X509_NAME *issuer = vt_testgen_name_with_cn(X509_get_issuer_name(x), o->issuer_cn);
        VT_SIM_NEED_EQ(X509_set_issuer_name(x, issuer), 1);
        X509_NAME_free(issuer);
    }
    if (o->pathlen >= 0) {
        char bc[64];
        snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d", o->pathlen);
        vt_testgen_set_ext(x, NID_basic_constraints, bc);
    }
    if (o->critical_oid != NULL) {
        static const uint8_t null_der[2] = {0x05, 0x00};
        ASN1_OBJECT *obj = OBJ_txt2obj(o->critical_oid, 1);
        ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
        VT_SIM_NEED(obj);
        VT_SIM_NEED(val);
        VT_SIM_NEED_EQ(ASN1_OCTET_STRING_set(val, null_der, (int)sizeof(null_der)), 1);
        X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, val);
        VT_SIM_NEED(ext);
        VT_SIM_NEED_EQ(X509_add_ext(x, ext, -1), 1);
        X509_EXTENSION_free(ext);
        ASN1_OCTET_STRING_free(val);
        ASN1_OBJECT_free(obj);
    }
    if (EVP_PKEY_is_a(o->signer, "RSA") || EVP_PKEY_is_a(o->signer, "RSA-PSS")) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        VT_SIM_NEED(md);
        VT_SIM_NEED_EQ(EVP_DigestSignInit(md, &pctx, EVP_sha384(), NULL, o->signer), 1);
        VT_SIM_NEED(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
        VT_SIM_NEED(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) > 0);
        VT_SIM_NEED(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) > 0);
        VT_SIM_NEED(X509_sign_ctx(x, md) > 0);
        EVP_MD_CTX_free(md);
    } else {
        bool p384 = EVP_PKEY_get_bits(o->signer) > 256;
        VT_SIM_NEED(X509_sign(x, o->signer, p384 ? EVP_sha384() : EVP_sha256()) > 0);
    }
    return x;
}

uint8_t *vt_testgen_cert_der(X509 *x, size_t *len)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    VT_SIM_NEED(n > 0);
    uint8_t *copy = malloc((size_t)n);
    VT_SIM_NEED(copy);
    memcpy(copy, der, (size_t)n);
    OPENSSL_free(der);
    *len = (size_t)n;
    return copy;
}

static char *vt_testgen_bio_text(BIO *bio, size_t *len)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    VT_SIM_NEED(n > 0);
    char *copy = malloc((size_t)n + 1);
    VT_SIM_NEED(copy);
    memcpy(copy, data, (size_t)n);
    copy[n] = '\0';
    *len = (size_t)n;
    BIO_free(bio);
    return copy;
}

char *vt_testgen_cert_pem(X509 *x, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    VT_SIM_NEED(bio);
    VT_SIM_NEED_EQ(PEM_write_bio_X509(bio, x), 1);
    return vt_testgen_bio_text(bio, len);
}

struct vt_cert *vt_testgen_vt_cert(X509 *x)
{
    size_t len = 0;
    uint8_t *der = vt_testgen_cert_der(x, &len);
    struct vt_cert *c = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_cert_from_der(der, len, &c, &d);
    if (err != VT_OK) {
        VT_SIM_FAIL("vt_cert_from_der: %s: %s", d.check, d.detail);
    }
    free(der);
    return c;
}

X509_CRL *vt_testgen_crl(X509 *issuer, EVP_PKEY *signer, const long *serials, size_t n,
                         int64_t this_update, int64_t next_update, long number)
{
    X509_CRL *crl = X509_CRL_new();
    VT_SIM_NEED(crl);
    VT_SIM_NEED_EQ(X509_CRL_set_version(crl, 1), 1);
    VT_SIM_NEED_EQ(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)), 1);
    ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)this_update);
    VT_SIM_NEED(t);
    VT_SIM_NEED_EQ(X509_CRL_set1_lastUpdate(crl, t), 1);
    if (next_update >= 0) {
        VT_SIM_NEED(ASN1_TIME_set(t, (time_t)next_update));
        VT_SIM_NEED_EQ(X509_CRL_set1_nextUpdate(crl, t), 1);
    }
    for (size_t i = 0; i < n; i++) {
        X509_REVOKED *rev = X509_REVOKED_new();
        ASN1_INTEGER *serial = ASN1_INTEGER_new();
        ASN1_TIME *when = ASN1_TIME_set(NULL, (time_t)(this_update - 60 * (int64_t)(i + 1)));
        VT_SIM_NEED(rev);
        VT_SIM_NEED(serial);
        VT_SIM_NEED(when);
        VT_SIM_NEED_EQ(ASN1_INTEGER_set(serial, serials[i]), 1);
        VT_SIM_NEED_EQ(X509_REVOKED_set_serialNumber(rev, serial), 1);
        VT_SIM_NEED_EQ(X509_REVOKED_set_revocationDate(rev, when), 1);
        VT_SIM_NEED_EQ(X509_CRL_add0_revoked(crl, rev), 1);
        ASN1_INTEGER_free(serial);
        ASN1_TIME_free(when);
    }
    ASN1_TIME_free(t);
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    VT_SIM_NEED(num);
    VT_SIM_NEED_EQ(ASN1_INTEGER_set(num, number), 1);
    VT_SIM_NEED_EQ(X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0), 1);
    ASN1_INTEGER_free(num);
    VT_SIM_NEED_EQ(X509_CRL_sort(crl), 1);
    VT_SIM_NEED(X509_CRL_sign(crl, signer, EVP_sha256()) > 0);
    return crl;
}

uint8_t *vt_testgen_crl_der(X509_CRL *crl, size_t *len)
{
    unsigned char *der = NULL;
    int n = i2d_X509_CRL(crl, &der);
    VT_SIM_NEED(n > 0);
    uint8_t *copy = malloc((size_t)n);
    VT_SIM_NEED(copy);
    memcpy(copy, der, (size_t)n);
    OPENSSL_free(der);
    *len = (size_t)n;
    return copy;
}

char *vt_testgen_crl_pem(X509_CRL *crl, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    VT_SIM_NEED(bio);
    VT_SIM_NEED_EQ(PEM_write_bio_X509_CRL(bio, crl), 1);
    return vt_testgen_bio_text(bio, len);
}

void vt_testgen_pki_init(struct vt_testgen_pki *p, int64_t nb, int64_t na, int64_t leaf_nb,
                         int64_t leaf_na)
{
    memset(p, 0, sizeof(*p));
    p->root_key = vt_testgen_p256_key();
    p->ca_key = vt_testgen_p256_key();
    p->leaf_key = vt_testgen_p256_key();
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
    p->root = vt_testgen_cert(&o);
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
    p->ca = vt_testgen_cert(&o);
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
    p->leaf = vt_testgen_cert(&o);
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

void vt_testgen_list(struct vt_cert_list *l, X509 *const *certs, size_t n)
{
    vt_cert_list_init(l);
    for (size_t i = 0; i < n; i++) {
        struct vt_cert *c = vt_testgen_vt_cert(certs[i]);
        VT_SIM_NEED_EQ(vt_cert_list_add(l, c), VT_OK);
        vt_cert_free(c);
    }
}
