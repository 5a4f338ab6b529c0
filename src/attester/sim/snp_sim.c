/* The synthetic SEV-SNP world (snp_sim.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "crypto/crypto.h"

#include "sim_assert.h"
#include "snp_sim.h"
#include "x509_gen.h"

#define VT_SIM_AREA "sim.snp"

#define AMD_OID "1.3.6.1.4.1.3704.1."

/* RSA keys are slow to make: one ARK/ASK/ASVK key set per product, for the whole process. */
static EVP_PKEY *rsa_keys[4][3];

static enum vt_err rsa_key(enum vt_snp_product p, int which, EVP_PKEY **out, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    if (rsa_keys[p][which] == NULL) {
        rsa_keys[p][which] = EVP_RSA_gen(2048);
        VT_SIM_NEED(rsa_keys[p][which] != NULL);
    }
    *out = rsa_keys[p][which];
out:
    return err;
}

void vt_ssim_free_keys(void)
{
    for (size_t p = 0; p < 4; p++) {
        for (size_t k = 0; k < 3; k++) {
            EVP_PKEY_free(rsa_keys[p][k]);
            rsa_keys[p][k] = NULL;
        }
    }
}

static enum vt_err name_of(const char *cn, X509_NAME **out, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    X509_NAME *n = X509_NAME_new();
    VT_SIM_NEED(n != NULL);
    VT_SIM_NEED_EQ(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
                                              (const unsigned char *)"veritee test", -1, -1, 0),
                   1);
    VT_SIM_NEED_EQ(
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0), 1);
    *out = n;
    n = NULL;
out:
    X509_NAME_free(n);
    return err;
}

static enum vt_err add_ext_conf(X509 *x, X509 *issuer, int nid, const char *value,
                                struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    VT_SIM_NEED(e != NULL);
    VT_SIM_NEED_EQ(X509_add_ext(x, e, -1), 1);
out:
    X509_EXTENSION_free(e);
    return err;
}

/* An extension under 1.3.6.1.4.1.3704.1 with raw DER value bytes. */
static enum vt_err add_amd_ext(X509 *x, const char *suffix, const uint8_t *der, size_t len,
                               struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    char oid[64];
    X509_EXTENSION *e = NULL;
    snprintf(oid, sizeof(oid), AMD_OID "%s", suffix);
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    VT_SIM_NEED(obj != NULL);
    VT_SIM_NEED(os != NULL);
    VT_SIM_NEED_EQ(ASN1_OCTET_STRING_set(os, der, (int)len), 1);
    e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
    VT_SIM_NEED(e != NULL);
    VT_SIM_NEED_EQ(X509_add_ext(x, e, -1), 1);
out:
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    return err;
}

static enum vt_err add_amd_int(X509 *x, const char *suffix, int v, struct vt_diag *d)
{
    if (v < 0) {
        return VT_OK;
    }
    uint8_t der[4] = {0x02, 0x01, (uint8_t)v, 0};
    size_t len = 3;
    if (v >= 0x80) {
        der[1] = 2;
        der[2] = 0;
        der[3] = (uint8_t)v;
        len = 4;
    }
    return add_amd_ext(x, suffix, der, len, d);
}

static enum vt_err add_amd_string(X509 *x, const char *suffix, const char *s, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    uint8_t der[160];
    size_t n = strlen(s);
    VT_SIM_ARG(n < 128, VT_E_ARG, "extension %s%s: a string of %zu bytes (at most 127)", AMD_OID,
               suffix, n);
    der[0] = 0x16;
    der[1] = (uint8_t)n;
    memcpy(der + 2, s, n);
    err = add_amd_ext(x, suffix, der, n + 2, d);
out:
    return err;
}

/* Sign with RSASSA-PSS SHA-384 / MGF1-SHA-384 / salt. */
static enum vt_err sign_pss(X509 *x, EVP_PKEY *key, int salt, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *md = NULL;
    VT_SIM_ARG(key != NULL && (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS")),
               VT_E_BAD_KEY, "the signing key is %s, want an RSA key",
               key == NULL ? "no key" : EVP_PKEY_get0_type_name(key));
    md = EVP_MD_CTX_new();
    VT_SIM_NEED(md != NULL);
    VT_SIM_NEED_EQ(EVP_DigestSignInit(md, &pctx, EVP_sha384(), NULL, key), 1);
    VT_SIM_NEED(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
    VT_SIM_NEED(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) > 0);
    VT_SIM_NEED(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) > 0);
    VT_SIM_NEED(X509_sign_ctx(x, md) > 0);
out:
    EVP_MD_CTX_free(md);
    return err;
}

static enum vt_err new_cert(const char *cn, EVP_PKEY *pub, X509 *issuer, long serial, int64_t nb,
                            int64_t na, X509 **out, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    X509_NAME *subject = NULL;
    X509 *x = X509_new();
    VT_SIM_NEED(x != NULL);
    VT_SIM_NEED_EQ(X509_set_version(x, 2), 1);
    VT_SIM_NEED_EQ(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
    VT_SIM_CALL(name_of(cn, &subject, d));
    VT_SIM_NEED_EQ(X509_set_subject_name(x, subject), 1);
    VT_SIM_NEED_EQ(
        X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : subject), 1);
    VT_SIM_NEED(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) != NULL);
    VT_SIM_NEED(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na) != NULL);
    VT_SIM_NEED_EQ(X509_set_pubkey(x, pub), 1);
    *out = x;
    x = NULL;
out:
    X509_NAME_free(subject);
    X509_free(x);
    return err;
}

static enum vt_err ca_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *signer,
                           long serial, int pathlen, int64_t nb, int64_t na, X509 **out,
                           struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    X509 *x = NULL;
    char bc[48];
    VT_SIM_CALL(new_cert(cn, key, issuer, serial, nb, na, &x, d));
    snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d", pathlen);
    VT_SIM_CALL(add_ext_conf(x, issuer, NID_basic_constraints, bc, d));
    VT_SIM_CALL(add_ext_conf(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign", d));
    VT_SIM_CALL(sign_pss(x, signer, 48, d));
    *out = x;
    x = NULL;
out:
    X509_free(x);
    return err;
}

enum vt_err vt_ssim_pki_init(struct vt_ssim_pki *p, enum vt_snp_product product, int64_t nb,
                             int64_t na, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    memset(p, 0, sizeof(*p));
    VT_SIM_ARG((unsigned)product < 4, VT_E_ARG, "product %d is not an SEV-SNP product",
               (int)product);
    p->product = product;
    const char *gen = vt_snp_product_name(product);
    char cn[64];
    VT_SIM_CALL(rsa_key(product, 0, &p->ark_key, d));
    VT_SIM_CALL(rsa_key(product, 1, &p->ask_key, d));
    VT_SIM_CALL(rsa_key(product, 2, &p->asvk_key, d));
    snprintf(cn, sizeof(cn), "ARK-%s", gen);
    VT_SIM_CALL(ca_cert(cn, p->ark_key, NULL, p->ark_key, 0x10000, 1, nb, na, &p->ark, d));
    snprintf(cn, sizeof(cn), "SEV-%s", gen);
    VT_SIM_CALL(ca_cert(cn, p->ask_key, p->ark, p->ark_key, 0x10001, 0, nb, na, &p->ask, d));
    snprintf(cn, sizeof(cn), "SEV-VLEK-%s", gen);
    VT_SIM_CALL(ca_cert(cn, p->asvk_key, p->ark, p->ark_key, 0x10101, 0, nb, na, &p->asvk, d));
out:
    if (err != VT_OK) {
        vt_ssim_pki_cleanup(p);
    }
    return err;
}

void vt_ssim_pki_cleanup(struct vt_ssim_pki *p)
{
    X509_free(p->ark);
    X509_free(p->ask);
    X509_free(p->asvk);
    memset(p, 0, sizeof(*p));
}

void vt_ssim_vek_defaults(const struct vt_ssim_pki *p, struct vt_ssim_vek_opts *o, bool vlek,
                          int64_t nb, int64_t na)
{
    bool turin = p->product == VT_SNP_TURIN;
    memset(o, 0, sizeof(*o));
    o->vlek = vlek;
    o->cn = vlek ? "SEV-VLEK" : "SEV-VCEK";
    o->product_name = p->product == VT_SNP_MILAN   ? "Milan-B0"
                      : p->product == VT_SNP_GENOA ? "Genoa"
                                                   : "Turin";
    o->struct_version = turin ? 1 : 0;
    o->bl = 4;
    o->tee = 1;
    o->snp = 24;
    o->ucode = 219; /* >= 0x80: the two-byte INTEGER form */
    o->fmc = turin ? 2 : -1;
    for (size_t i = 0; i < sizeof(o->hwid); i++) {
        o->hwid[i] = (uint8_t)(0x30 + i);
    }
    o->hwid_len = vlek ? 0 : turin ? 8 : 64;
    o->csp_id = vlek ? "CN=cc-test.example" : NULL;
    o->nb = nb;
    o->na = na;
    o->issuer = vlek ? p->asvk : p->ask;
    o->signer = vlek ? p->asvk_key : p->ask_key;
    o->salt = 48;
}

enum vt_err vt_ssim_vek(const struct vt_ssim_pki *p, const struct vt_ssim_vek_opts *o, X509 **out,
                        EVP_PKEY **key, struct vt_diag *d)
{
    (void)p;
    enum vt_err err = VT_OK;
    X509 *x = NULL;
    EVP_PKEY *k = EVP_EC_gen("P-384");
    VT_SIM_NEED(k != NULL);
    VT_SIM_CALL(new_cert(o->cn, k, o->issuer, o->serial, o->nb, o->na, &x, d));
    VT_SIM_CALL(add_amd_int(x, "1", o->struct_version, d));
    if (o->product_name != NULL) {
        VT_SIM_CALL(add_amd_string(x, "2", o->product_name, d));
    }
    VT_SIM_CALL(add_amd_int(x, "3.1", o->bl, d));
    VT_SIM_CALL(add_amd_int(x, "3.2", o->tee, d));
    if (o->fmc < 0) {
        for (int i = 4; i <= 7; i++) {
            char s[8];
            snprintf(s, sizeof(s), "3.%d", i);
            VT_SIM_CALL(add_amd_int(x, s, 0, d));
        }
    }
    VT_SIM_CALL(add_amd_int(x, "3.3", o->snp, d));
    VT_SIM_CALL(add_amd_int(x, "3.8", o->ucode, d));
    VT_SIM_CALL(add_amd_int(x, "3.9", o->fmc, d));
    if (o->hwid_len > 0) {
        VT_SIM_ARG(o->hwid_len <= sizeof(o->hwid), VT_E_ARG, "hwid_len %zu (at most %zu)",
                   o->hwid_len, sizeof(o->hwid));
        VT_SIM_CALL(add_amd_ext(x, "4", o->hwid, o->hwid_len, d));
    }
    if (o->csp_id != NULL) {
        VT_SIM_CALL(add_amd_string(x, "5", o->csp_id, d));
    }
    VT_SIM_CALL(sign_pss(x, o->signer, o->salt, d));
    *out = x;
    *key = k;
    x = NULL;
    k = NULL;
out:
    X509_free(x);
    EVP_PKEY_free(k);
    return err;
}

uint64_t vt_ssim_tcb(enum vt_snp_product p, int fmc, int bl, int tee, int snp, int ucode)
{
    uint8_t b[8] = {0};
    if (p == VT_SNP_TURIN) {
        b[0] = (uint8_t)fmc;
        b[1] = (uint8_t)bl;
        b[2] = (uint8_t)tee;
        b[3] = (uint8_t)snp;
    } else {
        b[0] = (uint8_t)bl;
        b[1] = (uint8_t)tee;
        b[6] = (uint8_t)snp;
    }
    b[7] = (uint8_t)ucode;
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++) {
        v |= (uint64_t)b[i] << (8 * i);
    }
    return v;
}

void vt_ssim_report_defaults(const struct vt_ssim_pki *p, const struct vt_ssim_vek_opts *o,
                             struct vt_ssim_report *r)
{
    static const uint8_t cpuid[4][3] = {
        {0, 0, 0}, {0x19, 0x01, 0x01}, {0x19, 0x11, 0x01}, {0x1a, 0x02, 0x00}};
    memset(r, 0, sizeof(*r));
    r->version = p->product == VT_SNP_TURIN ? 5 : 3;
    r->guest_svn = 1;
    r->policy = 0x30000;
    r->key_info = (o->vlek ? 1u : 0u) << 2;
    r->reported_tcb = vt_ssim_tcb(p->product, o->fmc, o->bl, o->tee, o->snp, o->ucode);
    r->current_tcb = r->reported_tcb + (UINT64_C(2) << 56); /* a newer microcode is loaded */
    memset(r->report_data, 0x5d, sizeof(r->report_data));
    memset(r->measurement, 0x3e, sizeof(r->measurement));
    if (!o->vlek) {
        memcpy(r->chip_id, o->hwid, o->hwid_len);
    }
    memcpy(r->cpuid, cpuid[p->product], 3);
}

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* key must be an EC P-384 key: the report's signature is ECDSA P-384 with 72-byte r and s. */
static bool is_p384(EVP_PKEY *key)
{
    char group[32];
    size_t n = 0;
    return key != NULL && EVP_PKEY_is_a(key, "EC") &&
           EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                          &n) == 1 &&
           strcmp(group, "secp384r1") == 0;
}

enum vt_err vt_ssim_report_sign(const struct vt_ssim_report *r, EVP_PKEY *key,
                                uint8_t out[VT_SNP_REPORT_SIZE], struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    EVP_MD_CTX *md = NULL;
    ECDSA_SIG *sig = NULL;
    VT_SIM_ARG(is_p384(key), VT_E_BAD_KEY, "the signing key is %s (%d bits), want EC P-384",
               key == NULL ? "no key" : EVP_PKEY_get0_type_name(key),
               key == NULL ? 0 : EVP_PKEY_get_bits(key));
    memset(out, 0, VT_SNP_REPORT_SIZE);
    put_le(out + 0x000, r->version, 4);
    put_le(out + 0x004, r->guest_svn, 4);
    put_le(out + 0x008, r->policy, 8);
    put_le(out + 0x030, r->vmpl, 4);
    put_le(out + 0x034, 1, 4);
    put_le(out + 0x038, r->current_tcb, 8);
    put_le(out + 0x040, 0x25, 8);
    put_le(out + 0x048, r->key_info, 4);
    memcpy(out + 0x050, r->report_data, 64);
    memcpy(out + 0x090, r->measurement, 48);
    memcpy(out + 0x0c0, r->host_data, 32);
    memset(out + 0x140, 0x14, 32);
    memset(out + 0x160, 0xff, 32);
    put_le(out + 0x180, r->reported_tcb, 8);
    if (r->version >= 3) {
        memcpy(out + 0x188, r->cpuid, 3);
    }
    memcpy(out + 0x1a0, r->chip_id, 64);
    put_le(out + 0x1e0, r->reported_tcb, 8);
    out[0x1e8] = 21;
    out[0x1e9] = 55;
    out[0x1ea] = 1;
    put_le(out + 0x1f0, r->reported_tcb, 8);
    if (r->version >= 5) {
        put_le(out + 0x1f8, 0x3, 8);
        put_le(out + 0x200, 0x7, 8);
    }
    uint8_t der[128];
    size_t der_len = sizeof(der);
    md = EVP_MD_CTX_new();
    VT_SIM_NEED(md != NULL);
    VT_SIM_NEED_EQ(EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key), 1);
    VT_SIM_NEED_EQ(EVP_DigestSign(md, der, &der_len, out, VT_SNP_SIGNED_SIZE), 1);
    const unsigned char *q = der;
    sig = d2i_ECDSA_SIG(NULL, &q, (long)der_len);
    VT_SIM_NEED(sig != NULL);
    VT_SIM_NEED_EQ(BN_bn2lebinpad(ECDSA_SIG_get0_r(sig), out + 0x2a0, 72), 72);
    VT_SIM_NEED_EQ(BN_bn2lebinpad(ECDSA_SIG_get0_s(sig), out + 0x2e8, 72), 72);
out:
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(md);
    return err;
}

enum vt_err vt_ssim_hcl(struct vt_ssim_report *r, EVP_PKEY *key, const char *json, uint8_t **out,
                        size_t *len, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    size_t var = strlen(json);
    size_t n = 0x4d4 + var < 2600 ? 2600 : 0x4d4 + var;
    uint8_t *h = calloc(1, n);
    VT_SIM_ALLOC(h);
    vt_sha256(json, var, r->report_data);
    memset(r->report_data + 32, 0, 32);
    memcpy(h, "HCLA", 4);
    put_le(h + 4, 2, 4);
    put_le(h + 8, 0x4d4 + var, 4);
    put_le(h + 12, 2, 4);
    VT_SIM_CALL(vt_ssim_report_sign(r, key, h + 0x20, d));
    put_le(h + 0x4c0, 20 + var, 4);
    put_le(h + 0x4c4, 1, 4);
    put_le(h + 0x4c8, 2, 4);
    put_le(h + 0x4cc, 1, 4);
    put_le(h + 0x4d0, var, 4);
    memcpy(h + 0x4d4, json, var);
    *out = h;
    *len = n;
    h = NULL;
out:
    free(h);
    return err;
}

enum vt_err vt_ssim_der(X509 *x, uint8_t **out, size_t *len, struct vt_diag *d)
{
    return vt_testgen_cert_der(x, out, len, d);
}

enum vt_err vt_ssim_pem(X509 *const *certs, size_t n, char **out, size_t *len, struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    char *copy = NULL;
    BIO *b = BIO_new(BIO_s_mem());
    VT_SIM_NEED(b != NULL);
    for (size_t i = 0; i < n; i++) {
        VT_SIM_ARG(certs[i] != NULL, VT_E_ARG, "certificate %zu of %zu is missing", i, n);
        VT_SIM_NEED_EQ(PEM_write_bio_X509(b, certs[i]), 1);
    }
    char *data = NULL;
    long l = BIO_get_mem_data(b, &data);
    VT_SIM_NEED(l > 0);
    copy = malloc((size_t)l + 1);
    VT_SIM_ALLOC(copy);
    memcpy(copy, data, (size_t)l);
    copy[l] = '\0';
    *out = copy;
    *len = (size_t)l;
out:
    BIO_free(b);
    return err;
}

enum vt_err vt_ssim_crl(const struct vt_ssim_pki *p, EVP_PKEY *signer, const long *serials,
                        size_t n, int64_t this_update, int64_t next_update, uint8_t **out,
                        size_t *len, struct vt_diag *d)
{
    X509_CRL *crl = NULL;
    VT_TRY(vt_testgen_crl(p->ark, signer, serials, n, this_update, next_update, 1, &crl, d));
    enum vt_err err = vt_testgen_crl_der(crl, out, len, d);
    X509_CRL_free(crl);
    return err;
}
