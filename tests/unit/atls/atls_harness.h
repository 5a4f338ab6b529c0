/*
 * Helpers of the attested-TLS tests: the four sim attesters (SGX, TDX, SEV-SNP, Nitro) with one
 * verifier trusting all of them (their exported roots and collateral merged into one directory
 * in the collateral layout), certificates made and re-made with OpenSSL, broker CAs.
 */
#ifndef VT_TEST_ATLS_HARNESS_H
#define VT_TEST_ATLS_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <veritee/atls.h>

#include "../attester/attester_verify.h"
#include "crypto/x509_make.h"
#include "verify/atls_format.h"

enum { AH_SGX, AH_TDX, AH_SNP, AH_NITRO, AH_N };

struct atls_harness {
    char tmp[512];
    struct vt_attester *att[AH_N];
    struct vt_cert_list *anchors;
    struct vt_collateral_source *src;
    struct vt_verifier *v;
};

static const char *const ah_backends[AH_N] = {"sim:sgx", "sim:tdx", "sim:snp", "sim:nitro"};

/* Run `cmd` with a and b as its two quoted arguments. */
static inline void ah_sh(const char *cmd_name, const char *a, const char *b)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "%s '%s' '%s'", cmd_name, a, b);
    if (system(cmd) != 0) {
        fail_msg("command failed: %s", cmd);
    }
}

static inline void ah_setup(struct atls_harness *h)
{
    memset(h, 0, sizeof(*h));
    vt_attester_sim_register();
    av_tmpdir(h->tmp, sizeof(h->tmp), "atls");
    assert_true(h->tmp[0] != '\0');
    struct vt_diag d;
    vt_diag_init(&d);
    char coll[700];
    snprintf(coll, sizeof(coll), "%s/coll", h->tmp);
    ah_sh("mkdir -p", coll, coll);
    const char *files[AH_N + 1];
    char anchor[AH_N][800];
    for (int i = 0; i < AH_N; i++) {
        char pki[600], exp[600];
        snprintf(pki, sizeof(pki), "%s/pki-%d", h->tmp, i);
        snprintf(exp, sizeof(exp), "%s/exp-%d", h->tmp, i);
        struct vt_attester_opts o = {.sim_dir = pki};
        AV_OK(vt_attester_open(ah_backends[i], &o, &h->att[i], &d), d);
        AV_OK(vt_attester_sim_export(h->att[i], exp, &d), d);
        const char *tee = vt_tee_name(vt_attester_tee(h->att[i]));
        snprintf(anchor[i], sizeof(anchor[i]), "%.600s/anchors/%.32s.pem", exp, tee);
        files[i] = anchor[i];
        char from[800];
        if (i == AH_SGX || i == AH_TDX) {
            snprintf(from, sizeof(from), "%s/collateral/%s", exp, tee);
            char to[800];
            snprintf(to, sizeof(to), "%s/%s", coll, tee);
            ah_sh("cp -r", from, to);
        } else if (i == AH_SNP) {
            snprintf(from, sizeof(from), "%s/collateral/snp/cert_chain.pem", exp);
            ah_sh("cp", from, coll);
        }
    }
    files[AH_N] = NULL;
    AV_OK(vt_trust_anchors_load(files, &h->anchors, &d), d);
    AV_OK(vt_collateral_source_dir(coll, &h->src, &d), d);
    struct vt_verifier_config cfg = {.trust_anchors = h->anchors,
                                     .collateral = h->src,
                                     .collateral_ttl = VT_VERIFIER_TTL_FOREVER};
    AV_OK(vt_verifier_new(&cfg, &h->v, &d), d);
}

static inline void ah_teardown(struct atls_harness *h)
{
    vt_verifier_free(h->v);
    vt_collateral_source_free(h->src);
    vt_trust_anchors_free(h->anchors);
    for (int i = 0; i < AH_N; i++) {
        vt_attester_close(h->att[i]);
    }
    av_rm_rf(h->tmp);
}

/* PEM (one certificate) to DER (malloc'd). */
static inline uint8_t *ah_der(const struct vt_buf *pem, size_t *len)
{
    BIO *b = BIO_new_mem_buf(pem->data, (int)pem->len);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(x);
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    X509_free(x);
    assert_true(n > 0);
    uint8_t *out = malloc((size_t)n);
    memcpy(out, der, (size_t)n);
    OPENSSL_free(der);
    *len = (size_t)n;
    return out;
}

/* Make a certificate with attester i. */
static inline uint8_t *ah_make(struct atls_harness *h, int i, const struct vt_atls_cert_opts *o,
                               size_t *len, struct vt_buf *key_out)
{
    struct vt_buf cert, key;
    vt_buf_init(&cert, 1u << 20);
    vt_buf_init(&key, 1u << 16);
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_atls_cert_create(h->att[i], o, &cert, &key, &d), d);
    uint8_t *der = ah_der(&cert, len);
    vt_buf_cleanup(&cert);
    if (key_out != NULL) {
        *key_out = key;
    } else {
        vt_buf_cleanup(&key);
    }
    return der;
}

/* A new self-signed certificate (fresh key) with the given extensions, valid around now. */
static inline uint8_t *ah_selfsigned(const struct vt_x509_ext *exts, size_t n, size_t *len)
{
    struct vt_key *k = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_x509_key_generate("P-256", &k, &d), d);
    vt_time now = vt_time_now();
    struct vt_x509_template t = {.common_name = "re-made",
                                 .not_before = now - 60,
                                 .not_after = now + 3600,
                                 .exts = exts,
                                 .n_exts = n};
    struct vt_buf pem;
    vt_buf_init(&pem, 1u << 20);
    AV_OK(vt_x509_self_signed(k, &t, &pem, &d), d);
    uint8_t *der = ah_der(&pem, len);
    vt_buf_cleanup(&pem);
    vt_key_free(k);
    return der;
}

/* The attestation extension of a DER certificate (copied, malloc'd) and its OID. */
static inline uint8_t *ah_ext(const uint8_t *der, size_t len, char oid[128], size_t *ext_len)
{
    struct vt_cert *c = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_cert_from_der(der, len, &c, &d), d);
    uint8_t *out = NULL;
    for (size_t i = 0; i < vt_cert_ext_count(c); i++) {
        const uint8_t *v = NULL;
        size_t n = 0;
        bool crit = false;
        assert_int_equal(vt_cert_ext_at(c, i, oid, 128, &crit, &v, &n), VT_OK);
        if (vt_atls_oid_format(oid, NULL) != VT_ATLS_NONE) {
            out = malloc(n);
            memcpy(out, v, n);
            *ext_len = n;
            break;
        }
    }
    vt_cert_free(c);
    assert_non_null(out);
    return out;
}

/* ---- broker CAs and certificates, with OpenSSL directly ---- */

static inline EVP_PKEY *ah_p256(void)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
    assert_non_null(k);
    return k;
}

static inline X509 *ah_x509(const char *cn, const char *issuer_cn, EVP_PKEY *subject_key,
                            EVP_PKEY *signer, bool ca, long from, long to)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_NAME *in = X509_NAME_new();
    X509_NAME_add_entry_by_txt(in, "CN", MBSTRING_ASC, (const unsigned char *)issuer_cn, -1, -1, 0);
    X509_set_issuer_name(x, in);
    X509_NAME_free(in);
    X509_gmtime_adj(X509_getm_notBefore(x), from);
    X509_gmtime_adj(X509_getm_notAfter(x), to);
    X509_set_pubkey(x, subject_key);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
                                            ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    if (ca) {
        e = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    (void)signer;
    return x;
}

static inline void ah_add_utf8_ext(X509 *x, const char *oid, const char *json)
{
    ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
    ASN1_STRING_set(s, json, -1);
    unsigned char *der = NULL;
    int n = i2d_ASN1_UTF8STRING(s, &der);
    ASN1_UTF8STRING_free(s);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(os, der, n);
    OPENSSL_free(der);
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    ASN1_OBJECT_free(obj);
    ASN1_OCTET_STRING_free(os);
}

static inline uint8_t *ah_x509_der(X509 *x, size_t *len)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    assert_true(n > 0);
    uint8_t *out = malloc((size_t)n);
    memcpy(out, der, (size_t)n);
    OPENSSL_free(der);
    *len = (size_t)n;
    return out;
}

/* A vt_cert_list holding one certificate. */
static inline void ah_list(X509 *x, struct vt_cert_list *l)
{
    size_t n = 0;
    uint8_t *der = ah_x509_der(x, &n);
    struct vt_diag d;
    vt_diag_init(&d);
    vt_cert_list_init(l);
    AV_OK(vt_cert_list_from_bytes(der, n, l, &d), d);
    free(der);
}

#endif
