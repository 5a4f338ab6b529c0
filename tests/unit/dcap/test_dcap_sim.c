/*
 * The synthetic DCAP generator (tests/support/dcap_sim.c) checked against OpenSSL and jansson, not
 * against veritee: the chains verify with X509_verify_cert inside their validity and fail outside
 * it, CRLs verify and revoke, the SGX extension has Intel's structure, the JSON documents parse
 * and their signatures verify over the exact inner bytes, quotes have consistent lengths and
 * valid signatures, and every deliberate defect breaks exactly what it claims to break.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "dcap_sim.h"
#include "vt_fixtures.h"

/* A fixed "now": 2025-06-15T00:00:00Z. */
static const vt_time NOW = 1749945600;

/* ---- helpers ---- */

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static bool contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++) {
        if (memcmp(hay + i, needle, m) == 0) {
            return true;
        }
    }
    return false;
}

static void cert_xy(const struct vt_sim_pki *pki, enum vt_sim_cert which, uint8_t xy[64])
{
    EVP_PKEY *k = X509_get0_pubkey(pki->cert[which]);
    assert_non_null(k);
    assert_true(vt_sim_pubkey_xy(k, xy));
}

static void cert_cn(X509 *x, char *out, size_t cap)
{
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)cap);
    assert_true(n > 0);
}

/* X509_verify_cert of `leaf` over `mid` to the PKI's root at time t; optional CRLs. */
static int verify_at(const struct vt_sim_pki *pki, X509 *leaf, X509 *mid, vt_time t, X509_CRL *crl1,
                     X509_CRL *crl2)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    assert_non_null(store);
    assert_non_null(ctx);
    assert_non_null(untrusted);
    assert_int_equal(X509_STORE_add_cert(store, pki->cert[VT_SIM_CERT_ROOT]), 1);
    if (mid != NULL) {
        assert_true(sk_X509_push(untrusted, mid) > 0);
    }
    unsigned long flags = 0;
    if (crl1 != NULL) {
        assert_int_equal(X509_STORE_add_crl(store, crl1), 1);
        flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
    }
    if (crl2 != NULL) {
        assert_int_equal(X509_STORE_add_crl(store, crl2), 1);
    }
    assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, untrusted), 1);
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(vp, (time_t)t);
    X509_VERIFY_PARAM_set_flags(vp, flags);
    int rc = X509_verify_cert(ctx);
    int err = rc == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_free(untrusted);
    return err;
}

static X509_CRL *crl_from(const struct vt_sim_blob *b)
{
    const unsigned char *p = b->data;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)b->len);
    assert_non_null(crl);
    assert_ptr_equal(p, b->data + b->len);
    return crl;
}

static struct vt_sim_pki *pki_default(enum vt_tee tee)
{
    struct vt_sim_pki_params pp;
    vt_sim_pki_params_default(&pp, tee, NOW);
    struct vt_sim_pki *pki = vt_sim_pki_new(&pp);
    assert_non_null(pki);
    return pki;
}

/* Elements of a DER SEQUENCE as a stack of ASN1_TYPE. */
static STACK_OF(ASN1_TYPE) * seq_items(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    STACK_OF(ASN1_TYPE) *sk = d2i_ASN1_SEQUENCE_ANY(NULL, &p, (long)len);
    assert_non_null(sk);
    assert_ptr_equal(p, der + len);
    return sk;
}

/* The pair (OID, value) of item i of the SGX extension: the OID's text and the value's type. */
static STACK_OF(ASN1_TYPE) * pair_at(STACK_OF(ASN1_TYPE) * sk, int i, char *oid, size_t cap)
{
    ASN1_TYPE *t = sk_ASN1_TYPE_value(sk, i);
    assert_int_equal(ASN1_TYPE_get(t), V_ASN1_SEQUENCE);
    STACK_OF(ASN1_TYPE) *pair =
        seq_items(t->value.sequence->data, (size_t)t->value.sequence->length);
    assert_int_equal(sk_ASN1_TYPE_num(pair), 2);
    ASN1_TYPE *o = sk_ASN1_TYPE_value(pair, 0);
    assert_int_equal(ASN1_TYPE_get(o), V_ASN1_OBJECT);
    assert_true(OBJ_obj2txt(oid, (int)cap, o->value.object, 1) > 0);
    return pair;
}

static void leaf_ext(const struct vt_sim_pki *pki, const uint8_t **der, size_t *len)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(VT_SGX_EXT_OID, 1);
    assert_non_null(obj);
    X509 *leaf = pki->cert[VT_SIM_CERT_PCK_LEAF];
    int idx = X509_get_ext_by_OBJ(leaf, obj, -1);
    ASN1_OBJECT_free(obj);
    if (idx < 0) {
        *der = NULL;
        *len = 0;
        return;
    }
    X509_EXTENSION *e = X509_get_ext(leaf, idx);
    assert_int_equal(X509_EXTENSION_get_critical(e), 0);
    ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(e);
    *der = os->data;
    *len = (size_t)os->length;
}

/* ---- PKI ---- */

static void test_pki_chains_verify(void **state)
{
    (void)state;
    static const enum vt_tee tees[] = {VT_TEE_SGX, VT_TEE_TDX};
    for (size_t i = 0; i < 2; i++) {
        struct vt_sim_pki *pki = pki_default(tees[i]);
        X509 *leaf = pki->cert[VT_SIM_CERT_PCK_LEAF], *ca = pki->cert[VT_SIM_CERT_PCK_CA];
        X509 *signer = pki->cert[VT_SIM_CERT_TCB_SIGNER];
        assert_int_equal(verify_at(pki, leaf, ca, NOW, NULL, NULL), X509_V_OK);
        assert_int_equal(verify_at(pki, signer, NULL, NOW, NULL, NULL), X509_V_OK);
        assert_int_equal(verify_at(pki, pki->cert[VT_SIM_CERT_OTHER_CA], NULL, NOW, NULL, NULL),
                         X509_V_OK);
        /* outside the leaf's window (now-1y .. now+6y) */
        assert_int_equal(verify_at(pki, leaf, ca, NOW + 6 * VT_SIM_YEAR + 1, NULL, NULL),
                         X509_V_ERR_CERT_HAS_EXPIRED);
        assert_int_equal(verify_at(pki, leaf, ca, NOW - VT_SIM_YEAR - 1, NULL, NULL),
                         X509_V_ERR_CERT_NOT_YET_VALID);
        /* the leaf does not chain without its CA; the CA is not a leaf's issuer of the signer */
        assert_int_not_equal(verify_at(pki, leaf, NULL, NOW, NULL, NULL), X509_V_OK);

        /* QVL's CN substring checks */
        char cn[128];
        cert_cn(pki->cert[VT_SIM_CERT_ROOT], cn, sizeof(cn));
        assert_non_null(strstr(cn, "SGX Root CA"));
        cert_cn(ca, cn, sizeof(cn));
        assert_string_equal(cn, tees[i] == VT_TEE_TDX ? "Test SGX PCK Platform CA"
                                                      : "Test SGX PCK Processor CA");
        cert_cn(pki->cert[VT_SIM_CERT_OTHER_CA], cn, sizeof(cn));
        assert_string_equal(cn, tees[i] == VT_TEE_TDX ? "Test SGX PCK Processor CA"
                                                      : "Test SGX PCK Platform CA");
        cert_cn(leaf, cn, sizeof(cn));
        assert_non_null(strstr(cn, "SGX PCK Certificate"));
        cert_cn(signer, cn, sizeof(cn));
        assert_non_null(strstr(cn, "SGX TCB Signing"));

        /* Intel's shapes: pathlen 1 / 0, CA:FALSE leaves, P-256 keys */
        assert_int_equal(X509_get_pathlen(pki->cert[VT_SIM_CERT_ROOT]), 1);
        assert_int_equal(X509_get_pathlen(ca), 0);
        assert_int_equal(X509_check_ca(leaf), 0);
        assert_int_equal(X509_check_ca(signer), 0);
        assert_int_equal(X509_get_version(leaf), X509_VERSION_3);
        assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(ca)), 0);

        /* the leaf's validity: 7 years */
        ASN1_TIME *nb = ASN1_TIME_set(NULL, (time_t)(NOW - VT_SIM_YEAR));
        assert_int_equal(ASN1_TIME_compare(X509_get0_notBefore(leaf), nb), 0);
        ASN1_TIME_free(nb);
        vt_sim_pki_free(pki);
    }
}

static void test_pki_knobs(void **state)
{
    (void)state;
    struct vt_sim_pki_params pp;
    vt_sim_pki_params_default(&pp, VT_TEE_SGX, NOW);
    pp.bad_signature_certs = VT_SIM_CERT_BIT(VT_SIM_CERT_PCK_LEAF);
    pp.leaf_cn = "Test Something Else";
    pp.pck.not_before = NOW - 10;
    pp.pck.not_after = NOW + 10;
    struct vt_sim_pki *pki = vt_sim_pki_new(&pp);
    assert_non_null(pki);
    X509 *leaf = pki->cert[VT_SIM_CERT_PCK_LEAF], *ca = pki->cert[VT_SIM_CERT_PCK_CA];
    assert_int_equal(verify_at(pki, leaf, ca, NOW, NULL, NULL), X509_V_ERR_CERT_SIGNATURE_FAILURE);
    assert_int_equal(X509_verify(leaf, X509_get0_pubkey(ca)), 0);
    char cn[128];
    cert_cn(leaf, cn, sizeof(cn));
    assert_string_equal(cn, "Test Something Else");
    /* the other certificates are unaffected */
    assert_int_equal(verify_at(pki, pki->cert[VT_SIM_CERT_TCB_SIGNER], NULL, NOW, NULL, NULL),
                     X509_V_OK);
    ASN1_TIME *na = ASN1_TIME_set(NULL, (time_t)(NOW + 10));
    assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(leaf), na), 0);
    ASN1_TIME_free(na);
    vt_sim_pki_free(pki);

    /* a bad root self-signature */
    vt_sim_pki_params_default(&pp, VT_TEE_SGX, NOW);
    pp.bad_signature_certs = VT_SIM_CERT_BIT(VT_SIM_CERT_ROOT);
    pki = vt_sim_pki_new(&pp);
    assert_non_null(pki);
    assert_int_equal(
        X509_verify(pki->cert[VT_SIM_CERT_ROOT], X509_get0_pubkey(pki->cert[VT_SIM_CERT_ROOT])), 0);
    assert_int_equal(
        X509_verify(pki->cert[VT_SIM_CERT_PCK_CA], X509_get0_pubkey(pki->cert[VT_SIM_CERT_ROOT])),
        1);
    vt_sim_pki_free(pki);
}

static void test_crls(void **state)
{
    (void)state;
    struct vt_sim_pki_params pp;
    vt_sim_pki_params_default(&pp, VT_TEE_TDX, NOW);
    struct vt_sim_pki *pki = vt_sim_pki_new(&pp);
    assert_non_null(pki);
    X509 *leaf = pki->cert[VT_SIM_CERT_PCK_LEAF], *ca = pki->cert[VT_SIM_CERT_PCK_CA];

    X509_CRL *root_crl = crl_from(&pki->root_crl_der);
    X509_CRL *pck_crl = crl_from(&pki->pck_crl_der);
    assert_int_equal(X509_CRL_verify(root_crl, X509_get0_pubkey(pki->cert[VT_SIM_CERT_ROOT])), 1);
    assert_int_equal(X509_CRL_verify(pck_crl, X509_get0_pubkey(ca)), 1);
    /* the PCK CRL's issuer is the leaf's issuer, as the verifier requires */
    assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(pck_crl), X509_get_issuer_name(leaf)), 0);
    assert_int_equal(X509_CRL_get_version(pck_crl), X509_CRL_VERSION_2);
    STACK_OF(X509_REVOKED) *none = X509_CRL_get_REVOKED(pck_crl);
    assert_true(none == NULL || sk_X509_REVOKED_num(none) == 0);
    ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)(NOW + 29 * VT_SIM_DAY));
    assert_int_equal(ASN1_TIME_compare(X509_CRL_get0_nextUpdate(pck_crl), t), 0);
    ASN1_TIME_free(t);
    assert_int_equal(verify_at(pki, leaf, ca, NOW, root_crl, pck_crl), X509_V_OK);
    X509_CRL_free(pck_crl);

    /* revoke the leaf in the PCK CRL, then the CA in the root CRL */
    struct vt_sim_crl_params cp = pki->params.pck_crl;
    cp.revoke_certs = VT_SIM_CERT_BIT(VT_SIM_CERT_PCK_LEAF);
    cp.n_revoked = 1;
    cp.revoked[0] = (struct vt_sim_serial){.b = {0x12, 0x34}, .len = 2};
    assert_true(vt_sim_pki_set_crl(pki, false, &cp));
    pck_crl = crl_from(&pki->pck_crl_der);
    assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(pck_crl)), 2);
    X509_REVOKED *rev = NULL;
    assert_int_equal(X509_CRL_get0_by_cert(pck_crl, &rev, leaf), 1);
    assert_int_equal(verify_at(pki, leaf, ca, NOW, root_crl, pck_crl), X509_V_ERR_CERT_REVOKED);
    X509_CRL_free(pck_crl);
    X509_CRL_free(root_crl);

    cp = pki->params.root_crl;
    cp.revoke_certs = VT_SIM_CERT_BIT(VT_SIM_CERT_PCK_CA) | VT_SIM_CERT_BIT(VT_SIM_CERT_TCB_SIGNER);
    assert_true(vt_sim_pki_set_crl(pki, true, &cp));
    root_crl = crl_from(&pki->root_crl_der);
    assert_int_equal(X509_CRL_get0_by_cert(root_crl, &rev, ca), 1);
    assert_int_equal(X509_CRL_get0_by_cert(root_crl, &rev, pki->cert[VT_SIM_CERT_TCB_SIGNER]), 1);
    assert_int_equal(X509_CRL_get0_by_cert(root_crl, &rev, pki->cert[VT_SIM_CERT_OTHER_CA]), 0);
    X509_CRL_free(root_crl);

    /* a CRL signed with the wrong key keeps its issuer name but fails to verify */
    cp = pki->params.pck_crl;
    cp.wrong_key = true;
    struct vt_sim_blob b = {0};
    assert_true(vt_sim_pki_make_crl(pki, false, &cp, &b));
    X509_CRL *bad = crl_from(&b);
    assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(bad), X509_get_subject_name(ca)), 0);
    assert_int_equal(X509_CRL_verify(bad, X509_get0_pubkey(ca)), 0);
    X509_CRL_free(bad);
    vt_sim_blob_cleanup(&b);
    vt_sim_pki_free(pki);

    /* the PCK CRL from the other CA: its issuer differs from the leaf's issuer */
    vt_sim_pki_params_default(&pp, VT_TEE_TDX, NOW);
    pp.pck_crl_from_other_ca = true;
    pki = vt_sim_pki_new(&pp);
    assert_non_null(pki);
    pck_crl = crl_from(&pki->pck_crl_der);
    X509 *other = pki->cert[VT_SIM_CERT_OTHER_CA];
    assert_int_not_equal(X509_NAME_cmp(X509_CRL_get_issuer(pck_crl),
                                       X509_get_issuer_name(pki->cert[VT_SIM_CERT_PCK_LEAF])),
                         0);
    assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(pck_crl), X509_get_subject_name(other)), 0);
    assert_int_equal(X509_CRL_verify(pck_crl, X509_get0_pubkey(other)), 1);
    X509_CRL_free(pck_crl);
    struct vt_sim_blob chain = {0}, other_pem = {0};
    assert_true(vt_sim_pki_chain_pem(pki, VT_SIM_CHAIN_PCK_CRL_ISSUER, false, &chain));
    assert_true(vt_sim_pki_cert_pem(pki, VT_SIM_CERT_OTHER_CA, &other_pem));
    assert_memory_equal(chain.data, other_pem.data, other_pem.len);
    vt_sim_blob_cleanup(&chain);
    vt_sim_blob_cleanup(&other_pem);
    vt_sim_pki_free(pki);
}

static void test_chain_pem(void **state)
{
    (void)state;
    struct vt_sim_pki *pki = pki_default(VT_TEE_SGX);
    struct vt_sim_blob chain = {0}, nul = {0};
    assert_true(vt_sim_pki_chain_pem(pki, VT_SIM_CHAIN_PCK, false, &chain));
    assert_true(vt_sim_pki_chain_pem(pki, VT_SIM_CHAIN_PCK, true, &nul));
    assert_int_equal(nul.len, chain.len + 1);
    assert_int_equal(nul.data[nul.len - 1], 0);
    assert_memory_equal(nul.data, chain.data, chain.len);
    assert_int_equal(strlen((const char *)chain.data), chain.len);

    /* leaf, CA, root, in that order */
    static const enum vt_sim_cert order[] = {VT_SIM_CERT_PCK_LEAF, VT_SIM_CERT_PCK_CA,
                                             VT_SIM_CERT_ROOT};
    BIO *bio = BIO_new_mem_buf(chain.data, (int)chain.len);
    assert_non_null(bio);
    for (size_t i = 0; i < 3; i++) {
        X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        assert_non_null(x);
        assert_int_equal(X509_cmp(x, pki->cert[order[i]]), 0);
        X509_free(x);
    }
    assert_null(PEM_read_bio_X509(bio, NULL, NULL, NULL));
    ERR_clear_error();
    BIO_free(bio);
    vt_sim_blob_cleanup(&chain);
    vt_sim_blob_cleanup(&nul);

    assert_true(vt_sim_pki_chain_pem(pki, VT_SIM_CHAIN_TCB_SIGNER, false, &chain));
    assert_int_equal(
        strstr((const char *)chain.data, "-----END CERTIFICATE-----\n-----BEGIN") != NULL, 1);
    vt_sim_blob_cleanup(&chain);

    struct vt_sim_blob der = {0};
    assert_true(vt_sim_pki_cert_der(pki, VT_SIM_CERT_ROOT, &der));
    const unsigned char *p = der.data;
    X509 *root = d2i_X509(NULL, &p, (long)der.len);
    assert_non_null(root);
    assert_int_equal(X509_cmp(root, pki->cert[VT_SIM_CERT_ROOT]), 0);
    X509_free(root);
    vt_sim_blob_cleanup(&der);

    struct vt_sim_serial s;
    vt_sim_pki_serial(pki, VT_SIM_CERT_PCK_LEAF, &s);
    assert_int_equal(s.len, 20);
    vt_sim_pki_free(pki);
}

/* ---- SGX extension ---- */

static void test_sgx_extension(void **state)
{
    (void)state;
    static const enum vt_tee tees[] = {VT_TEE_SGX, VT_TEE_TDX};
    for (size_t i = 0; i < 2; i++) {
        struct vt_sim_pki *pki = pki_default(tees[i]);
        const struct vt_sim_pck_params *pp = &pki->params.pck;
        const uint8_t *der;
        size_t len;
        leaf_ext(pki, &der, &len);
        assert_non_null(der);
        struct vt_sim_blob built = {0};
        assert_true(vt_sim_pck_ext_der(pp, &built));
        assert_int_equal(built.len, len);
        assert_memory_equal(built.data, der, len);
        vt_sim_blob_cleanup(&built);

        STACK_OF(ASN1_TYPE) *sk = seq_items(der, len);
        int n = sk_ASN1_TYPE_num(sk);
        assert_int_equal(n, tees[i] == VT_TEE_TDX ? 7 : 5);
        static const char *const oids[] = {"1.2.840.113741.1.13.1.1", "1.2.840.113741.1.13.1.2",
                                           "1.2.840.113741.1.13.1.3", "1.2.840.113741.1.13.1.4",
                                           "1.2.840.113741.1.13.1.5", "1.2.840.113741.1.13.1.6",
                                           "1.2.840.113741.1.13.1.7"};
        for (int k = 0; k < n; k++) {
            char oid[64];
            STACK_OF(ASN1_TYPE) *pair = pair_at(sk, k, oid, sizeof(oid));
            assert_string_equal(oid, oids[k]);
            ASN1_TYPE *v = sk_ASN1_TYPE_value(pair, 1);
            switch (k) {
            case 0:
                assert_int_equal(ASN1_TYPE_get(v), V_ASN1_OCTET_STRING);
                assert_int_equal(v->value.octet_string->length, 16);
                assert_memory_equal(v->value.octet_string->data, pp->ppid, 16);
                break;
            case 1: {
                assert_int_equal(ASN1_TYPE_get(v), V_ASN1_SEQUENCE);
                STACK_OF(ASN1_TYPE) *tcb =
                    seq_items(v->value.sequence->data, (size_t)v->value.sequence->length);
                assert_int_equal(sk_ASN1_TYPE_num(tcb), 18);
                for (int c = 0; c < 18; c++) {
                    char coid[64], want[64];
                    STACK_OF(ASN1_TYPE) *cp = pair_at(tcb, c, coid, sizeof(coid));
                    snprintf(want, sizeof(want), "1.2.840.113741.1.13.1.2.%d", c + 1);
                    assert_string_equal(coid, want);
                    ASN1_TYPE *cv = sk_ASN1_TYPE_value(cp, 1);
                    if (c < 17) {
                        assert_int_equal(ASN1_TYPE_get(cv), V_ASN1_INTEGER);
                        long val = ASN1_INTEGER_get(cv->value.integer);
                        assert_int_equal(val, c < 16 ? pp->tcb_comps[c] : pp->pcesvn);
                    } else {
                        assert_int_equal(ASN1_TYPE_get(cv), V_ASN1_OCTET_STRING);
                        assert_memory_equal(cv->value.octet_string->data, pp->cpusvn, 16);
                    }
                    sk_ASN1_TYPE_pop_free(cp, ASN1_TYPE_free);
                }
                sk_ASN1_TYPE_pop_free(tcb, ASN1_TYPE_free);
                break;
            }
            case 2:
                assert_int_equal(v->value.octet_string->length, 2);
                break;
            case 3:
                assert_int_equal(ASN1_TYPE_get(v), V_ASN1_OCTET_STRING);
                assert_int_equal(v->value.octet_string->length, 6);
                assert_memory_equal(v->value.octet_string->data, pp->fmspc, 6);
                break;
            case 4:
                assert_int_equal(ASN1_TYPE_get(v), V_ASN1_ENUMERATED);
                assert_int_equal(ASN1_ENUMERATED_get(v->value.enumerated), pp->sgx_type);
                break;
            case 5:
                assert_int_equal(v->value.octet_string->length, 16);
                break;
            default: {
                assert_int_equal(ASN1_TYPE_get(v), V_ASN1_SEQUENCE);
                STACK_OF(ASN1_TYPE) *cfg =
                    seq_items(v->value.sequence->data, (size_t)v->value.sequence->length);
                assert_int_equal(sk_ASN1_TYPE_num(cfg), 3);
                for (int c = 0; c < 3; c++) {
                    char coid[64], want[64];
                    STACK_OF(ASN1_TYPE) *cp = pair_at(cfg, c, coid, sizeof(coid));
                    snprintf(want, sizeof(want), "1.2.840.113741.1.13.1.7.%d", c + 1);
                    assert_string_equal(coid, want);
                    assert_int_equal(ASN1_TYPE_get(sk_ASN1_TYPE_value(cp, 1)), V_ASN1_BOOLEAN);
                    sk_ASN1_TYPE_pop_free(cp, ASN1_TYPE_free);
                }
                sk_ASN1_TYPE_pop_free(cfg, ASN1_TYPE_free);
                break;
            }
            }
            sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
        }
        sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
        vt_sim_pki_free(pki);
    }
}

static int ext_entries(const struct vt_sim_pck_params *pp, int *tcb_entries)
{
    struct vt_sim_blob b = {0};
    assert_true(vt_sim_pck_ext_der(pp, &b));
    STACK_OF(ASN1_TYPE) *sk = seq_items(b.data, b.len);
    int n = sk_ASN1_TYPE_num(sk);
    char oid[64];
    STACK_OF(ASN1_TYPE) *pair = pair_at(sk, 1, oid, sizeof(oid));
    ASN1_TYPE *v = sk_ASN1_TYPE_value(pair, 1);
    STACK_OF(ASN1_TYPE) *tcb =
        seq_items(v->value.sequence->data, (size_t)v->value.sequence->length);
    *tcb_entries = sk_ASN1_TYPE_num(tcb);
    sk_ASN1_TYPE_pop_free(tcb, ASN1_TYPE_free);
    sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
    sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
    vt_sim_blob_cleanup(&b);
    return n;
}

static void test_sgx_extension_defects(void **state)
{
    (void)state;
    struct vt_sim_pck_params pp;
    int tcb = 0;
    vt_sim_pck_params_default(&pp, VT_TEE_SGX, NOW);
    assert_int_equal(ext_entries(&pp, &tcb), 5);
    assert_int_equal(tcb, 18);
    pp.ext_defects = VT_SIM_EXT_DROP_PCEID;
    assert_int_equal(ext_entries(&pp, &tcb), 4);
    pp.ext_defects = VT_SIM_EXT_DUP_FMSPC;
    assert_int_equal(ext_entries(&pp, &tcb), 6);
    pp.ext_defects = VT_SIM_EXT_TCB_NO_CPUSVN;
    assert_int_equal(ext_entries(&pp, &tcb), 5);
    assert_int_equal(tcb, 17);
    pp.platform = true;
    pp.ext_defects = 0;
    assert_int_equal(ext_entries(&pp, &tcb), 7);

    /* unknown OID, short FMSPC, INTEGER SGX type, SVN 256, short PPID */
    vt_sim_pck_params_default(&pp, VT_TEE_SGX, NOW);
    pp.ext_defects = VT_SIM_EXT_UNKNOWN_OID | VT_SIM_EXT_SHORT_FMSPC | VT_SIM_EXT_SGXTYPE_INTEGER |
                     VT_SIM_EXT_SHORT_PPID;
    struct vt_sim_blob b = {0};
    assert_true(vt_sim_pck_ext_der(&pp, &b));
    STACK_OF(ASN1_TYPE) *sk = seq_items(b.data, b.len);
    char oid[64];
    STACK_OF(ASN1_TYPE) *pair = pair_at(sk, 3, oid, sizeof(oid));
    assert_string_equal(oid, "1.2.840.113741.1.13.1.99");
    assert_int_equal(sk_ASN1_TYPE_value(pair, 1)->value.octet_string->length, 5);
    sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
    pair = pair_at(sk, 4, oid, sizeof(oid));
    assert_int_equal(ASN1_TYPE_get(sk_ASN1_TYPE_value(pair, 1)), V_ASN1_INTEGER);
    sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
    pair = pair_at(sk, 0, oid, sizeof(oid));
    assert_int_equal(sk_ASN1_TYPE_value(pair, 1)->value.octet_string->length, 15);
    sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
    sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
    vt_sim_blob_cleanup(&b);

    pp.ext_defects = VT_SIM_EXT_SVN_OVER_255 | VT_SIM_EXT_TRAILING_BYTE;
    assert_true(vt_sim_pck_ext_der(&pp, &b));
    assert_int_equal(b.data[b.len - 1], 0);
    /* the SEQUENCE proper ends one byte early */
    const unsigned char *p = b.data;
    STACK_OF(ASN1_TYPE) *sk2 = d2i_ASN1_SEQUENCE_ANY(NULL, &p, (long)b.len);
    assert_non_null(sk2);
    assert_ptr_equal(p, b.data + b.len - 1);
    sk_ASN1_TYPE_pop_free(sk2, ASN1_TYPE_free);
    /* component 01 = 256: 02 02 01 00 */
    static const uint8_t svn256[] = {0x02, 0x02, 0x01, 0x00};
    assert_true(contains(b.data, b.len, svn256, sizeof(svn256)));
    vt_sim_blob_cleanup(&b);

    /* override and omission, through a whole PKI */
    static const uint8_t raw[] = {0x30, 0x03, 0x02, 0x01, 0x05};
    struct vt_sim_pki_params kp;
    vt_sim_pki_params_default(&kp, VT_TEE_SGX, NOW);
    kp.pck.ext_override = raw;
    kp.pck.ext_override_len = sizeof(raw);
    struct vt_sim_pki *pki = vt_sim_pki_new(&kp);
    assert_non_null(pki);
    const uint8_t *der;
    size_t len;
    leaf_ext(pki, &der, &len);
    assert_int_equal(len, sizeof(raw));
    assert_memory_equal(der, raw, sizeof(raw));
    vt_sim_pki_free(pki);
    vt_sim_pki_params_default(&kp, VT_TEE_SGX, NOW);
    kp.pck.ext_defects = VT_SIM_EXT_OMIT;
    pki = vt_sim_pki_new(&kp);
    assert_non_null(pki);
    leaf_ext(pki, &der, &len);
    assert_null(der);
    vt_sim_pki_free(pki);
}

/* ---- JSON collateral ---- */

/* Split {"<member>":<inner>,"signature":"<hex>"} and verify the signature with signer_xy. */
static void check_signed_doc(const struct vt_sim_blob *doc, const char *member,
                             const uint8_t signer_xy[64], json_t **inner_out)
{
    const char *s = (const char *)doc->data;
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "{\"%s\":", member);
    size_t plen = strlen(prefix);
    assert_int_equal(strncmp(s, prefix, plen), 0);
    static const char sig_key[] = ",\"signature\":\"";
    size_t tail = sizeof(sig_key) - 1 + 128 + 2;
    assert_true(doc->len > plen + tail);
    const char *sig_at = s + doc->len - tail;
    assert_int_equal(strncmp(sig_at, sig_key, sizeof(sig_key) - 1), 0);
    assert_string_equal(s + doc->len - 2, "\"}");
    const char *inner = s + plen;
    size_t inner_len = (size_t)(sig_at - inner);
    uint8_t sig[64];
    for (size_t i = 0; i < 64; i++) {
        unsigned v;
        assert_int_equal(sscanf(sig_at + sizeof(sig_key) - 1 + 2 * i, "%2x", &v), 1);
        sig[i] = (uint8_t)v;
    }
    assert_true(vt_sim_verify_raw(signer_xy, inner, inner_len, sig));
    sig[5] ^= 1;
    assert_false(vt_sim_verify_raw(signer_xy, inner, inner_len, sig));

    /* the whole document parses; the inner object is compact JSON in its own key order */
    json_error_t jerr;
    json_t *whole = json_loadb(s, doc->len, 0, &jerr);
    assert_non_null(whole);
    assert_true(json_is_string(json_object_get(whole, "signature")));
    json_t *in = json_loadb(inner, inner_len, 0, &jerr);
    assert_non_null(in);
    char *again = json_dumps(in, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null(again);
    assert_int_equal(strlen(again), inner_len);
    assert_memory_equal(again, inner, inner_len);
    free(again);
    json_decref(whole);
    *inner_out = in;
}

static void test_tcb_info_json(void **state)
{
    (void)state;
    struct vt_sim_scenario s;
    vt_sim_scenario_init(&s, VT_TEE_TDX, 4, NOW);
    assert_true(vt_sim_scenario_build(&s));
    uint8_t xy[64];
    cert_xy(s.pki, VT_SIM_CERT_TCB_SIGNER, xy);
    json_t *t;
    check_signed_doc(&s.tcb_info_json, "tcbInfo", xy, &t);
    assert_string_equal(json_string_value(json_object_get(t, "id")), "TDX");
    assert_int_equal(json_integer_value(json_object_get(t, "version")), 3);
    assert_string_equal(json_string_value(json_object_get(t, "fmspc")), "30806f050000");
    assert_string_equal(json_string_value(json_object_get(t, "issueDate")), "2025-06-14T00:00:00Z");
    assert_string_equal(json_string_value(json_object_get(t, "nextUpdate")),
                        "2025-07-14T00:00:00Z");
    json_t *mod = json_object_get(t, "tdxModule");
    assert_int_equal(strlen(json_string_value(json_object_get(mod, "mrsigner"))), 96);
    assert_string_equal(json_string_value(json_object_get(mod, "attributesMask")),
                        "FFFFFFFFFFFFFFFF");
    json_t *ids = json_object_get(t, "tdxModuleIdentities");
    assert_int_equal(json_array_size(ids), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ids, 1), "id")), "TDX_01");
    json_t *levels = json_object_get(t, "tcbLevels");
    assert_int_equal(json_array_size(levels), 2);
    json_t *l0 = json_array_get(levels, 0), *l1 = json_array_get(levels, 1);
    json_t *sgx = json_object_get(json_object_get(l0, "tcb"), "sgxtcbcomponents");
    json_t *tdx = json_object_get(json_object_get(l0, "tcb"), "tdxtcbcomponents");
    assert_int_equal(json_array_size(sgx), 16);
    assert_int_equal(json_array_size(tdx), 16);
    for (size_t i = 0; i < 16; i++) {
        assert_int_equal(json_integer_value(json_object_get(json_array_get(sgx, i), "svn")),
                         s.pki_params.pck.tcb_comps[i]);
    }
    assert_string_equal(json_string_value(json_object_get(json_array_get(tdx, 0), "type")),
                        "TDX Module");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(l0, "tcb"), "pcesvn")),
                     s.pki_params.pck.pcesvn);
    assert_string_equal(json_string_value(json_object_get(l0, "tcbStatus")), "UpToDate");
    assert_null(json_object_get(l0, "advisoryIDs"));
    assert_string_equal(json_string_value(json_object_get(l1, "tcbStatus")), "OutOfDate");
    assert_int_equal(json_array_size(json_object_get(l1, "advisoryIDs")), 2);
    json_decref(t);

    /* v2: no id, flat component fields */
    s.tcb_info.version = 2;
    s.tcb_info.tee = VT_TEE_SGX;
    s.tcb_info.fmspc_lowercase = false;
    struct vt_sim_blob doc = {0};
    assert_true(vt_sim_tcb_info_json(&s.tcb_info, s.pki->key[VT_SIM_CERT_TCB_SIGNER], &doc));
    check_signed_doc(&doc, "tcbInfo", xy, &t);
    assert_null(json_object_get(t, "id"));
    assert_null(json_object_get(t, "tdxModule"));
    assert_string_equal(json_string_value(json_object_get(t, "fmspc")), "30806F050000");
    l0 = json_array_get(json_object_get(t, "tcbLevels"), 0);
    assert_int_equal(json_object_size(json_object_get(l0, "tcb")), 17);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(l0, "tcb"), "sgxtcbcomp16svn")),
        s.pki_params.pck.tcb_comps[15]);
    json_decref(t);
    vt_sim_blob_cleanup(&doc);

    /* strings are written verbatim, whatever their length */
    char long_status[1200];
    memset(long_status, 'x', sizeof(long_status) - 1);
    long_status[sizeof(long_status) - 1] = 0;
    s.tcb_info.levels[1].status = long_status;
    assert_true(vt_sim_tcb_info_inner(&s.tcb_info, &doc));
    assert_non_null(strstr((const char *)doc.data, long_status));
    vt_sim_blob_cleanup(&doc);

    /* arbitrary (even malformed) bodies can be signed */
    static const char junk[] = "{\"version\":3,";
    assert_true(vt_sim_sign_json(s.pki->key[VT_SIM_CERT_TCB_SIGNER], "tcbInfo", junk,
                                 sizeof(junk) - 1, &doc));
    assert_int_equal(
        strncmp((const char *)doc.data, "{\"tcbInfo\":{\"version\":3,,\"signature\"", 36), 0);
    uint8_t sig[64];
    for (size_t i = 0; i < 64; i++) {
        unsigned v;
        assert_int_equal(sscanf((const char *)doc.data + doc.len - 130 + 2 * i, "%2x", &v), 1);
        sig[i] = (uint8_t)v;
    }
    assert_true(vt_sim_verify_raw(xy, junk, sizeof(junk) - 1, sig));
    vt_sim_blob_cleanup(&doc);
    vt_sim_scenario_cleanup(&s);
}

static void test_qe_identity_json(void **state)
{
    (void)state;
    struct vt_sim_scenario s;
    vt_sim_scenario_init(&s, VT_TEE_SGX, 3, NOW);
    assert_true(vt_sim_scenario_build(&s));
    uint8_t xy[64];
    cert_xy(s.pki, VT_SIM_CERT_TCB_SIGNER, xy);
    json_t *q;
    check_signed_doc(&s.qe_identity_json, "enclaveIdentity", xy, &q);
    assert_string_equal(json_string_value(json_object_get(q, "id")), "QE");
    assert_int_equal(json_integer_value(json_object_get(q, "version")), 2);
    assert_string_equal(json_string_value(json_object_get(q, "miscselectMask")), "FFFFFFFF");
    assert_string_equal(json_string_value(json_object_get(q, "attributes")),
                        "11000000000000000000000000000000");
    assert_string_equal(json_string_value(json_object_get(q, "attributesMask")),
                        "FBFFFFFFFFFFFFFF0000000000000000");
    assert_string_equal(json_string_value(json_object_get(q, "mrsigner")),
                        "8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BFF");
    assert_int_equal(json_integer_value(json_object_get(q, "isvprodid")), 1);
    json_t *levels = json_object_get(q, "tcbLevels");
    assert_int_equal(json_array_size(levels), 2);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_array_get(levels, 0), "tcb"), "isvsvn")),
                     s.quote_params.qe.isv_svn);
    json_decref(q);

    /* the QE report's attributes match the identity under the mask, bytewise */
    for (size_t i = 0; i < 16; i++) {
        assert_int_equal(s.quote_params.qe.attributes[i] & s.qe_identity.attributes_mask[i],
                         s.qe_identity.attributes[i]);
    }
    vt_sim_scenario_cleanup(&s);
}

/* ---- quotes ---- */

struct walked {
    size_t body_off, body_size, signed_len, sig_off, qe_off, auth_len, auth_off, cert_off, cert_len,
        end;
    uint16_t cert_type;
};

/* Walk a quote from scratch as the spec lays it out, checking every length. */
static void walk_quote(const uint8_t *q, size_t n, struct walked *w)
{
    memset(w, 0, sizeof(*w));
    assert_true(n >= 48);
    uint16_t version = rd16(q);
    uint32_t tee = rd32(q + 4);
    assert_int_equal(rd16(q + 2), 2);
    size_t off = 48;
    if (version == 5) {
        uint16_t bt = rd16(q + 48);
        w->body_size = rd32(q + 50);
        assert_int_equal(w->body_size, bt == 1 ? 384 : bt == 2 ? 584 : 648);
        assert_true(tee == 0x81 ? bt >= 2 : bt == 1);
        off = 54;
    } else {
        w->body_size = tee == 0x81 ? 584 : 384;
    }
    w->body_off = off;
    off += w->body_size;
    w->signed_len = off;
    assert_true(n >= off + 4);
    size_t sig_len = rd32(q + off);
    off += 4;
    w->sig_off = off;
    assert_true(n >= off + sig_len);
    w->end = off + sig_len;
    size_t p = off + 128;
    if (version != 3) {
        assert_int_equal(rd16(q + p), 6);
        size_t outer = rd32(q + p + 2);
        p += 6;
        assert_int_equal(p + outer, w->end);
    }
    w->qe_off = p;
    p += 384 + 64;
    w->auth_len = rd16(q + p);
    w->auth_off = p + 2;
    p += 2 + w->auth_len;
    w->cert_type = rd16(q + p);
    w->cert_len = rd32(q + p + 2);
    w->cert_off = p + 6;
    assert_int_equal(w->cert_off + w->cert_len, w->end);
}

static void check_quote(const struct vt_sim_pki *pki, const struct vt_sim_quote *sq,
                        uint16_t version, size_t body_size)
{
    struct walked w;
    walk_quote(sq->data, sq->len, &w);
    const struct vt_sim_quote_layout *L = &sq->layout;
    assert_int_equal(rd16(sq->data), version);
    assert_memory_equal(sq->data + 12, vt_dcap_intel_qe_vendor_id, 16);
    assert_int_equal(w.body_size, body_size);
    assert_int_equal(L->body_off, w.body_off);
    assert_int_equal(L->body_size, w.body_size);
    assert_int_equal(L->signed_len, w.signed_len);
    assert_int_equal(L->sig_data_off, w.sig_off);
    assert_int_equal(L->qe_report_off, w.qe_off);
    assert_int_equal(L->qe_report_sig_off, w.qe_off + 384);
    assert_int_equal(L->qe_auth_len_off + 2, w.auth_off);
    assert_int_equal(L->cert_data_off, w.cert_off);
    assert_int_equal(L->cert_data_len, w.cert_len);
    assert_int_equal(L->quote_len, w.end);
    assert_int_equal(w.cert_type, 5);

    /* quote signature by the attestation key, which the QE report binds */
    const uint8_t *key = sq->data + w.sig_off + 64;
    assert_true(vt_sim_verify_raw(key, sq->data, w.signed_len, sq->data + w.sig_off));
    uint8_t xy[64];
    assert_true(vt_sim_pubkey_xy(sq->att_key, xy));
    assert_memory_equal(xy, key, 64);
    uint8_t h[64] = {0};
    uint8_t bound[64 + VT_SIM_MAX_QE_AUTH];
    memcpy(bound, key, 64);
    memcpy(bound + 64, sq->data + w.auth_off, w.auth_len);
    SHA256(bound, 64 + w.auth_len, h);
    assert_memory_equal(sq->data + w.qe_off + 320, h, 64);

    /* QE report signature by the PCK leaf */
    uint8_t pck[64];
    cert_xy(pki, VT_SIM_CERT_PCK_LEAF, pck);
    assert_true(vt_sim_verify_raw(pck, sq->data + w.qe_off, 384, sq->data + w.qe_off + 384));

    /* certification data: the PCK chain PEM with its NUL */
    struct vt_sim_blob chain = {0};
    assert_true(vt_sim_pki_chain_pem(pki, VT_SIM_CHAIN_PCK, true, &chain));
    assert_int_equal(w.cert_len, chain.len);
    assert_memory_equal(sq->data + w.cert_off, chain.data, chain.len);
    assert_int_equal(sq->data[w.cert_off + w.cert_len - 1], 0);
    vt_sim_blob_cleanup(&chain);
}

static void test_quotes(void **state)
{
    (void)state;
    static const struct {
        enum vt_tee tee;
        uint16_t version, body_type;
        size_t body_size;
    } cases[] = {
        {VT_TEE_SGX, 3, 0, 384}, {VT_TEE_SGX, 4, 0, 384}, {VT_TEE_SGX, 5, 0, 384},
        {VT_TEE_TDX, 4, 0, 584}, {VT_TEE_TDX, 5, 0, 648}, {VT_TEE_TDX, 5, 2, 584},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vt_sim_pki *pki = pki_default(cases[i].tee);
        struct vt_sim_quote_params qp;
        vt_sim_quote_params_default(&qp, cases[i].tee, cases[i].version);
        qp.body_type = cases[i].body_type;
        struct vt_sim_quote q;
        assert_true(vt_sim_quote_build(pki, &qp, &q));
        check_quote(pki, &q, cases[i].version, cases[i].body_size);
        assert_int_equal(q.len, q.layout.quote_len);
        /* the body carries the fields asked for */
        if (cases[i].tee == VT_TEE_TDX) {
            assert_int_equal(rd32(q.data + 4), 0x81);
            assert_memory_equal(q.data + q.layout.body_off, qp.td.tee_tcb_svn, 16);
            assert_memory_equal(q.data + q.layout.body_off + 136, qp.td.mrtd, 48);
            assert_memory_equal(q.data + q.layout.body_off + 520, qp.td.report_data, 64);
            if (cases[i].body_size == 648) {
                assert_memory_equal(q.data + q.layout.body_off + 584, qp.td.tee_tcb_svn2, 16);
            }
        } else {
            assert_int_equal(rd32(q.data + 4), 0);
            assert_memory_equal(q.data + q.layout.body_off + 64, qp.sgx.mrenclave, 32);
            assert_memory_equal(q.data + q.layout.body_off + 320, qp.sgx.report_data, 64);
        }
        /* QE report fields */
        const uint8_t *qe = q.data + q.layout.qe_report_off;
        assert_memory_equal(qe + 128, qp.qe.mrsigner, 32);
        assert_int_equal(rd16(qe + 256), qp.qe.isv_prod_id);
        assert_int_equal(rd16(qe + 258), qp.qe.isv_svn);
        assert_memory_equal(qe + 48, qp.qe.attributes, 16);
        vt_sim_quote_cleanup(&q);

        /* vt_sim_quote_make gives the same shape */
        size_t len = 0;
        uint8_t *raw = vt_sim_quote_make(pki, &qp, &len);
        assert_non_null(raw);
        struct walked w;
        walk_quote(raw, len, &w);
        assert_int_equal(w.end, len);
        free(raw);
        vt_sim_pki_free(pki);
    }
}

static void test_quote_knobs(void **state)
{
    (void)state;
    struct vt_sim_pki *pki = pki_default(VT_TEE_TDX);
    struct vt_sim_quote_params qp;
    struct vt_sim_quote q;
    uint8_t pck[64];
    cert_xy(pki, VT_SIM_CERT_PCK_LEAF, pck);

    /* trailing padding, other auth data size, a given attestation key */
    vt_sim_quote_params_default(&qp, VT_TEE_TDX, 4);
    qp.trailing = 70;
    qp.qe_auth_len = 100;
    qp.att_key = EVP_EC_gen("P-256");
    assert_non_null(qp.att_key);
    assert_true(vt_sim_quote_build(pki, &qp, &q));
    check_quote(pki, &q, 4, 584);
    assert_int_equal(q.len, q.layout.quote_len + 70);
    for (size_t i = q.layout.quote_len; i < q.len; i++) {
        assert_int_equal(q.data[i], 0);
    }
    assert_ptr_equal(q.att_key, qp.att_key);
    vt_sim_quote_cleanup(&q);
    EVP_PKEY_free(qp.att_key);

    /* each defect breaks just its own check */
    vt_sim_quote_params_default(&qp, VT_TEE_TDX, 5);
    qp.defects = VT_SIM_BAD_QUOTE_SIG;
    assert_true(vt_sim_quote_build(pki, &qp, &q));
    const struct vt_sim_quote_layout *L = &q.layout;
    assert_false(vt_sim_verify_raw(q.data + L->sig_data_off + 64, q.data, L->signed_len,
                                   q.data + L->sig_data_off));
    assert_true(
        vt_sim_verify_raw(pck, q.data + L->qe_report_off, 384, q.data + L->qe_report_sig_off));
    /* re-signing after an edit repairs it */
    q.data[L->body_off + 200] ^= 0xFF;
    assert_true(vt_sim_quote_resign(&q));
    assert_true(vt_sim_verify_raw(q.data + L->sig_data_off + 64, q.data, L->signed_len,
                                  q.data + L->sig_data_off));
    vt_sim_quote_cleanup(&q);

    qp.defects = VT_SIM_BAD_QE_REPORT_SIG;
    assert_true(vt_sim_quote_build(pki, &qp, &q));
    assert_false(
        vt_sim_verify_raw(pck, q.data + L->qe_report_off, 384, q.data + L->qe_report_sig_off));
    assert_true(vt_sim_verify_raw(q.data + L->sig_data_off + 64, q.data, L->signed_len,
                                  q.data + L->sig_data_off));
    vt_sim_quote_cleanup(&q);

    qp.defects = VT_SIM_BAD_QE_REPORT_DATA | VT_SIM_QE_REPORT_DATA_TAIL;
    assert_true(vt_sim_quote_build(pki, &qp, &q));
    assert_true(
        vt_sim_verify_raw(pck, q.data + L->qe_report_off, 384, q.data + L->qe_report_sig_off));
    uint8_t bound[96], h[32];
    memcpy(bound, q.data + L->sig_data_off + 64, 64);
    memcpy(bound + 64, q.data + L->qe_auth_len_off + 2, 32);
    SHA256(bound, sizeof(bound), h);
    const uint8_t *rd = q.data + L->qe_report_off + 320;
    assert_int_equal(rd[0], h[0] ^ 1);
    assert_memory_equal(rd + 1, h + 1, 31);
    assert_int_equal(rd[63], 1);
    vt_sim_quote_cleanup(&q);

    qp.defects = VT_SIM_BAD_ATT_KEY;
    assert_true(vt_sim_quote_build(pki, &qp, &q));
    assert_false(vt_sim_verify_raw(q.data + L->sig_data_off + 64, q.data, L->signed_len,
                                   q.data + L->sig_data_off));
    assert_true(
        vt_sim_verify_raw(pck, q.data + L->qe_report_off, 384, q.data + L->qe_report_sig_off));
    vt_sim_quote_cleanup(&q);

    /* header overrides and length deltas are written as asked */
    vt_sim_quote_params_default(&qp, VT_TEE_TDX, 5);
    qp.header_version = 7;
    qp.att_key_type = 3;
    qp.tee_type_override = true;
    qp.tee_type = 0x42;
    qp.body_size_delta = -1;
    qp.sig_data_len_delta = 5;
    qp.outer_size_delta = 1;
    qp.cert_size_delta = -2;
    qp.cert_type = 4;
    qp.outer_cert_type = 7;
    static const uint8_t cert[] = "not a certificate";
    qp.cert_data = cert;
    qp.cert_data_len = sizeof(cert);
    assert_true(vt_sim_quote_build(pki, &qp, &q));
    assert_int_equal(rd16(q.data), 7);
    assert_int_equal(rd16(q.data + 2), 3);
    assert_int_equal(rd32(q.data + 4), 0x42);
    assert_int_equal(rd32(q.data + 50), 648 - 1);
    size_t natural = q.layout.quote_len - q.layout.sig_data_off;
    assert_int_equal(rd32(q.data + q.layout.sig_data_len_off), natural + 5);
    assert_int_equal(rd16(q.data + q.layout.outer_cert_off), 7);
    assert_int_equal(rd32(q.data + q.layout.outer_cert_off + 2),
                     q.layout.quote_len - q.layout.qe_report_off + 1);
    assert_int_equal(rd16(q.data + q.layout.cert_type_off), 4);
    assert_int_equal(rd32(q.data + q.layout.cert_type_off + 2), sizeof(cert) - 2);
    assert_memory_equal(q.data + q.layout.cert_data_off, cert, sizeof(cert));
    vt_sim_quote_cleanup(&q);

    /* a verbatim QE report data */
    vt_sim_quote_params_default(&qp, VT_TEE_TDX, 4);
    qp.qe_report_data_verbatim = true;
    memset(qp.qe.report_data, 0xAB, 64);
    assert_true(vt_sim_quote_build(pki, &qp, &q));
    assert_int_equal(q.data[q.layout.qe_report_off + 320], 0xAB);
    vt_sim_quote_cleanup(&q);

    qp.qe_auth_len = VT_SIM_MAX_QE_AUTH + 1;
    assert_false(vt_sim_quote_build(pki, &qp, &q));
    vt_sim_pki_free(pki);
}

/* ---- the scenario ---- */

static void check_scenario(const struct vt_sim_scenario *s, uint16_t version)
{
    size_t body = s->tee == VT_TEE_SGX ? 384 : version == 5 ? 648 : 584;
    check_quote(s->pki, &s->quote, version, body);
    uint8_t xy[64];
    cert_xy(s->pki, VT_SIM_CERT_TCB_SIGNER, xy);
    json_t *t, *q;
    check_signed_doc(&s->tcb_info_json, "tcbInfo", xy, &t);
    check_signed_doc(&s->qe_identity_json, "enclaveIdentity", xy, &q);
    assert_string_equal(json_string_value(json_object_get(q, "id")),
                        s->tee == VT_TEE_TDX ? "TD_QE" : "QE");
    json_decref(t);
    json_decref(q);

    /* the PKI verifies, and all documents are valid at now */
    X509_CRL *root_crl = crl_from(&s->root_crl_der);
    X509_CRL *pck_crl = crl_from(&s->pck_crl_der);
    assert_int_equal(verify_at(s->pki, s->pki->cert[VT_SIM_CERT_PCK_LEAF],
                               s->pki->cert[VT_SIM_CERT_PCK_CA], s->now, root_crl, pck_crl),
                     X509_V_OK);
    assert_int_equal(
        verify_at(s->pki, s->pki->cert[VT_SIM_CERT_TCB_SIGNER], NULL, s->now, root_crl, NULL),
        X509_V_OK);
    X509_CRL_free(root_crl);
    X509_CRL_free(pck_crl);
    assert_true(s->tcb_info.issue_date <= s->now && s->now < s->tcb_info.next_update);
    assert_true(s->qe_identity.issue_date <= s->now && s->now < s->qe_identity.next_update);

    /* consistency the verifier relies on */
    const struct vt_sim_pck_params *pck = &s->pki_params.pck;
    assert_memory_equal(s->tcb_info.fmspc, pck->fmspc, 6);
    assert_memory_equal(s->tcb_info.pceid, pck->pceid, 2);
    const struct vt_sim_tcb_level *top = &s->tcb_info.levels[0];
    for (size_t i = 0; i < 16; i++) {
        assert_true(pck->tcb_comps[i] >= top->sgx_comps[i]);
    }
    assert_true(pck->pcesvn >= top->pcesvn);
    const struct vt_sim_quote_params *qp = &s->quote_params;
    assert_true(qp->qe.isv_svn >= s->qe_identity.levels[0].isvsvn);
    assert_memory_equal(qp->qe.mrsigner, s->qe_identity.mrsigner, 32);
    if (s->tee == VT_TEE_TDX) {
        for (size_t i = 2; i < 16; i++) {
            assert_true(qp->td.tee_tcb_svn[i] >= top->tdx_comps[i]);
        }
        assert_memory_equal(qp->td.mrsignerseam, s->tcb_info.tdx_module_mrsigner, 48);
        char want[16];
        snprintf(want, sizeof(want), "TDX_%02X", qp->td.tee_tcb_svn[1]);
        bool found = false;
        for (size_t i = 0; i < s->tcb_info.n_module_identities; i++) {
            const struct vt_sim_module_identity *m = &s->tcb_info.module_identities[i];
            if (strcmp(m->id, want) == 0) {
                found = true;
                assert_memory_equal(m->mrsigner, qp->td.mrsignerseam, 48);
                assert_true(qp->td.tee_tcb_svn[0] >= m->levels[0].isvsvn);
            }
        }
        assert_true(found);
    }
}

static void test_scenarios(void **state)
{
    (void)state;
    static const struct {
        enum vt_tee tee;
        uint16_t version;
    } cases[] = {{VT_TEE_SGX, 3}, {VT_TEE_SGX, 4}, {VT_TEE_TDX, 4}, {VT_TEE_TDX, 5}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vt_sim_scenario *s = vt_sim_scenario_new(cases[i].tee, cases[i].version, NOW);
        assert_non_null(s);
        check_scenario(s, cases[i].version);

        struct vt_dcap_collateral_input in;
        vt_sim_scenario_collateral(s, &in);
        assert_ptr_equal(in.tcb_info, s->tcb_info_json.data);
        assert_int_equal(in.root_ca_crl_len, s->root_crl_der.len);
        assert_ptr_equal(in.pck_crl_chain, s->pck_crl_chain_pem.data);

        /* rebuilding after an edit regenerates everything consistently */
        s->tcb_info.levels[0].status = "SWHardeningNeeded";
        s->quote_params.trailing = 39;
        assert_true(vt_sim_scenario_build(s));
        check_scenario(s, cases[i].version);
        assert_non_null(strstr((const char *)s->tcb_info_json.data, "SWHardeningNeeded"));
        assert_int_equal(s->quote.len, s->quote.layout.quote_len + 39);
        vt_sim_scenario_free(s);
    }
}

static void test_scenario_write_dir(void **state)
{
    (void)state;
    struct vt_sim_scenario *s = vt_sim_scenario_new(VT_TEE_TDX, 4, NOW);
    assert_non_null(s);
    char tmpl[] = "/tmp/vt_dcap_sim_XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    char sub[256];
    snprintf(sub, sizeof(sub), "%s/set", dir);
    assert_true(vt_sim_scenario_write_dir(s, sub));
    const struct {
        const char *name;
        const struct vt_sim_blob *b;
    } files[] = {
        {"tcb_info.json", &s->tcb_info_json},
        {"qe_identity.json", &s->qe_identity_json},
        {"tcb_info_issuer_chain.pem", &s->tcb_info_chain_pem},
        {"qe_identity_issuer_chain.pem", &s->qe_identity_chain_pem},
        {"pck_crl.der", &s->pck_crl_der},
        {"pck_crl_issuer_chain.pem", &s->pck_crl_chain_pem},
        {"root_ca_crl.der", &s->root_crl_der},
        {"root.pem", &s->root_pem},
    };
    char path[512];
    size_t len = 0;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", sub, files[i].name);
        uint8_t *got = vt_test_read_file(path, &len);
        assert_non_null(got);
        assert_int_equal(len, files[i].b->len);
        assert_memory_equal(got, files[i].b->data, len);
        free(got);
        assert_int_equal(unlink(path), 0);
    }
    snprintf(path, sizeof(path), "%s/quote.bin", sub);
    uint8_t *got = vt_test_read_file(path, &len);
    assert_non_null(got);
    assert_int_equal(len, s->quote.len);
    assert_memory_equal(got, s->quote.data, len);
    free(got);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(sub), 0);
    assert_int_equal(rmdir(dir), 0);

    /* an unwritable place fails cleanly */
    assert_false(vt_sim_scenario_write_dir(s, "/proc/vt_dcap_sim_no/such"));
    vt_sim_scenario_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pki_chains_verify),
        cmocka_unit_test(test_pki_knobs),
        cmocka_unit_test(test_crls),
        cmocka_unit_test(test_chain_pem),
        cmocka_unit_test(test_sgx_extension),
        cmocka_unit_test(test_sgx_extension_defects),
        cmocka_unit_test(test_tcb_info_json),
        cmocka_unit_test(test_qe_identity_json),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_quote_knobs),
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_scenario_write_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
