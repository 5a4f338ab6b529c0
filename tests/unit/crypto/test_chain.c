/*
 * Unit tests for src/crypto/chain.c: a good three-level chain, every reject path with its exact
 * code and check, validity boundaries to the second in both time modes, and the real Intel TCB
 * signing chain at its fixture's verification time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <veritee/crypto.h>

#include "vt_fixtures.h"
#include "x509_gen.h"

#define T0 INT64_C(1750000000)
#define DAY INT64_C(86400)
#define NB (T0 - 1000 * DAY)
#define NA (T0 + 1000 * DAY)
#define LEAF_NB (T0 - DAY)
#define LEAF_NA (T0 + DAY)

struct fixture {
    struct vt_testgen_pki pki;
    struct vt_cert_list anchors;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    vt_testgen_pki_init(&f->pki, NB, NA, LEAF_NB, LEAF_NA);
    vt_testgen_list(&f->anchors, &f->pki.root, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    vt_cert_list_cleanup(&f->anchors);
    vt_testgen_pki_cleanup(&f->pki);
    free(f);
    return 0;
}

/* Verify [c0, c1, ...] against the fixture's anchors and expect `code` (and `check`, if not
 * NULL, and a detail containing `detail_part`, if not NULL). */
static void expect_chain(struct fixture *f, X509 *const *certs, size_t n, vt_time now,
                         enum vt_time_mode mode, enum vt_err code, const char *check,
                         const char *detail_part)
{
    struct vt_cert_list chain;
    struct vt_diag d;
    vt_testgen_list(&chain, certs, n);
    vt_diag_init(&d);
    enum vt_err err = vt_chain_verify(&chain, &f->anchors, now, mode, "test_chain", &d);
    if (err != code) {
        fail_msg("expected %s, got %s (%s: %s)", vt_err_name(code), vt_err_name(err), d.check,
                 d.detail);
    }
    if (code != VT_OK) {
        assert_int_equal(d.code, code);
    }
    if (check != NULL) {
        assert_string_equal(d.check, check);
    }
    if (detail_part != NULL && strstr(d.detail, detail_part) == NULL) {
        fail_msg("detail \"%s\" lacks \"%s\"", d.detail, detail_part);
    }
    vt_cert_list_cleanup(&chain);
}

static void test_good_chain(void **state)
{
    struct fixture *f = *state;
    X509 *full[] = {f->pki.leaf, f->pki.ca, f->pki.root};
    expect_chain(f, full, 3, T0, VT_TIME_STRICT, VT_OK, NULL, NULL);
    expect_chain(f, full, 3, T0, VT_TIME_EXPIRY_ONLY, VT_OK, NULL, NULL);
    expect_chain(f, full + 1, 2, T0, VT_TIME_STRICT, VT_OK, NULL, NULL);
    expect_chain(f, full + 2, 1, T0, VT_TIME_STRICT, VT_OK, NULL, NULL);
}

static void test_length(void **state)
{
    struct fixture *f = *state;
    struct vt_cert_list empty;
    struct vt_diag d;
    vt_cert_list_init(&empty);
    vt_diag_init(&d);
    assert_int_equal(vt_chain_verify(&empty, &f->anchors, T0, VT_TIME_STRICT, "pck_chain", &d),
                     VT_E_CHAIN_LENGTH);
    assert_string_equal(d.check, "pck_chain.length");
    /* n beyond the cap (a list built by hand). */
    struct vt_cert_list big;
    vt_testgen_list(&big, &f->pki.leaf, 1);
    big.n = VT_MAX_CHAIN_DEPTH + 1;
    assert_int_equal(vt_chain_verify(&big, &f->anchors, T0, VT_TIME_STRICT, "pck_chain", &d),
                     VT_E_CHAIN_LENGTH);
    big.n = 1;
    vt_cert_list_cleanup(&big);
}

static void test_untrusted_root(void **state)
{
    struct fixture *f = *state;
    /* Another PKI with the same names but other keys. */
    struct vt_testgen_pki other;
    vt_testgen_pki_init(&other, NB, NA, LEAF_NB, LEAF_NA);
    X509 *chain[] = {other.leaf, other.ca, other.root};
    expect_chain(f, chain, 3, T0, VT_TIME_STRICT, VT_E_UNTRUSTED_ROOT, "test_chain.root",
                 "cert 2 (CN=Test Root CA)");

    /* The right key under another name. */
    struct vt_testgen_cert_opts o = {
        .cn = "Renamed Root CA",
        .key = f->pki.root_key,
        .not_before = NB,
        .not_after = NA,
        .serial = 50,
        .ca = true,
        .pathlen = 1,
    };
    X509 *renamed = vt_testgen_cert(&o);
    X509 *chain2[] = {renamed};
    expect_chain(f, chain2, 1, T0, VT_TIME_STRICT, VT_E_UNTRUSTED_ROOT, "test_chain.root", NULL);
    X509_free(renamed);

    /* A chain that stops below the root. */
    X509 *chain3[] = {f->pki.leaf, f->pki.ca};
    expect_chain(f, chain3, 2, T0, VT_TIME_STRICT, VT_E_UNTRUSTED_ROOT, "test_chain.root",
                 "Test Intermediate CA");

    /* No anchors at all. */
    struct vt_cert_list none;
    struct vt_cert_list full;
    struct vt_diag d;
    X509 *good[] = {f->pki.leaf, f->pki.ca, f->pki.root};
    vt_cert_list_init(&none);
    vt_testgen_list(&full, good, 3);
    vt_diag_init(&d);
    assert_int_equal(vt_chain_verify(&full, &none, T0, VT_TIME_STRICT, NULL, &d),
                     VT_E_UNTRUSTED_ROOT);
    assert_string_equal(d.check, "chain.root");
    vt_cert_list_cleanup(&full);
    vt_testgen_pki_cleanup(&other);
}

/* The anchor's copy stands for the root: a chain carrying an expired copy of the root (same name
 * and key) verifies, since the anchor is what is checked. */
/* A root with the anchor's name and key but other bytes (here: expired, pathlen 0) is not the
 * anchor: the chain's root must be byte-identical to a trusted root. */
static void test_anchor_lookalike_rejected(void **state)
{
    struct fixture *f = *state;
    struct vt_testgen_cert_opts o = {
        .cn = "Test Root CA",
        .key = f->pki.root_key,
        .not_before = T0 - 20 * DAY,
        .not_after = T0 - 10 * DAY,
        .serial = 51,
        .ca = true,
        .pathlen = 0, /* would also forbid the intermediate */
    };
    X509 *old_root = vt_testgen_cert(&o);
    X509 *chain[] = {f->pki.leaf, f->pki.ca, old_root};
    expect_chain(f, chain, 3, T0, VT_TIME_STRICT, VT_E_UNTRUSTED_ROOT, NULL, NULL);
    X509_free(old_root);
}

static void test_root_not_self_signed(void **state)
{
    struct fixture *f = *state;
    /* A root with the anchor's name and key but signed by another key. */
    EVP_PKEY *k = vt_testgen_p256_key();
    struct vt_testgen_cert_opts o = {
        .cn = "Test Root CA",
        .key = f->pki.root_key,
        .signer = k,
        .not_before = NB,
        .not_after = NA,
        .serial = 52,
        .ca = true,
        .pathlen = 1,
        .key_usage = "critical,keyCertSign,cRLSign",
    };
    X509 *bad_root = vt_testgen_cert(&o);
    struct vt_cert_list anchors;
    struct vt_cert_list chain;
    struct vt_diag d;
    X509 *certs[] = {f->pki.leaf, f->pki.ca, bad_root};
    vt_testgen_list(&anchors, &bad_root, 1);
    vt_testgen_list(&chain, certs, 3);
    vt_diag_init(&d);
    assert_int_equal(vt_chain_verify(&chain, &anchors, T0, VT_TIME_STRICT, "c", &d),
                     VT_E_CERT_SIGNATURE);
    assert_string_equal(d.check, "c[2].self_signed");
    vt_cert_list_cleanup(&chain);
    vt_cert_list_cleanup(&anchors);

    /* A trusted root that is not self-issued. */
    o.issuer_cn = "Somebody Else";
    o.signer = NULL;
    X509 *issued = vt_testgen_cert(&o);
    X509 *certs2[] = {f->pki.ca, issued};
    vt_testgen_list(&anchors, &issued, 1);
    vt_testgen_list(&chain, certs2, 2);
    assert_int_equal(vt_chain_verify(&chain, &anchors, T0, VT_TIME_STRICT, "c", &d), VT_E_CHAIN);
    assert_string_equal(d.check, "c[1].self_signed");
    vt_cert_list_cleanup(&chain);
    vt_cert_list_cleanup(&anchors);
    X509_free(issued);
    X509_free(bad_root);
    EVP_PKEY_free(k);
}

static void test_broken_signature(void **state)
{
    struct fixture *f = *state;
    /* The leaf names the intermediate as issuer but is signed by another key. */
    EVP_PKEY *k = vt_testgen_p256_key();
    struct vt_testgen_cert_opts o = {
        .cn = "Forged Leaf",
        .key = f->pki.leaf_key,
        .issuer = f->pki.ca,
        .signer = k,
        .not_before = LEAF_NB,
        .not_after = LEAF_NA,
        .serial = 53,
    };
    X509 *forged = vt_testgen_cert(&o);
    X509 *chain[] = {forged, f->pki.ca, f->pki.root};
    expect_chain(f, chain, 3, T0, VT_TIME_STRICT, VT_E_CERT_SIGNATURE, "test_chain[0].signature",
                 "CN=Forged Leaf");
    /* Signature errors win over validity errors. */
    expect_chain(f, chain, 3, LEAF_NA + 1, VT_TIME_STRICT, VT_E_CERT_SIGNATURE, NULL, NULL);

    /* Corrupt the signature bytes of a genuine leaf. */
    size_t len = 0;
    uint8_t *der = vt_testgen_cert_der(f->pki.leaf, &len);
    der[len - 3] ^= 0x01;
    struct vt_cert *c = NULL;
    assert_int_equal(vt_cert_from_der(der, len, &c, NULL), VT_OK);
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    assert_int_equal(vt_cert_list_add(&l, c), VT_OK);
    vt_cert_free(c);
    struct vt_cert *ca = NULL;
    struct vt_cert *root = NULL;
    ca = vt_testgen_vt_cert(f->pki.ca);
    root = vt_testgen_vt_cert(f->pki.root);
    assert_int_equal(vt_cert_list_add(&l, ca), VT_OK);
    assert_int_equal(vt_cert_list_add(&l, root), VT_OK);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_chain_verify(&l, &f->anchors, T0, VT_TIME_STRICT, "x", &d),
                     VT_E_CERT_SIGNATURE);
    assert_string_equal(d.check, "x[0].signature");
    vt_cert_free(ca);
    vt_cert_free(root);
    vt_cert_list_cleanup(&l);
    free(der);
    X509_free(forged);
    EVP_PKEY_free(k);
}

static void test_name_mismatch(void **state)
{
    struct fixture *f = *state;
    struct vt_testgen_cert_opts o = {
        .cn = "Misnamed Leaf",
        .key = f->pki.leaf_key,
        .issuer_cn = "Some Other CA",
        .signer = f->pki.ca_key,
        .not_before = LEAF_NB,
        .not_after = LEAF_NA,
        .serial = 54,
    };
    X509 *leaf = vt_testgen_cert(&o);
    X509 *chain[] = {leaf, f->pki.ca, f->pki.root};
    expect_chain(f, chain, 3, T0, VT_TIME_STRICT, VT_E_CHAIN, "test_chain[0].issuer_name",
                 "Some Other CA");
    X509_free(leaf);
    /* Out of order. */
    X509 *swapped[] = {f->pki.ca, f->pki.leaf, f->pki.root};
    expect_chain(f, swapped, 3, T0, VT_TIME_STRICT, VT_E_CHAIN, "test_chain[1].issuer_name", NULL);
}

/* An intermediate built with the given CA settings, and a leaf under it. */
static void check_bad_intermediate(struct fixture *f, bool ca, bool no_basic, int pathlen,
                                   const char *key_usage, const char *check)
{
    struct vt_testgen_cert_opts o = {
        .cn = "Odd Intermediate",
        .key = f->pki.ca_key,
        .issuer = f->pki.root,
        .signer = f->pki.root_key,
        .not_before = NB,
        .not_after = NA,
        .serial = 55,
        .ca = ca,
        .no_basic = no_basic,
        .pathlen = pathlen,
        .key_usage = key_usage,
    };
    X509 *mid = vt_testgen_cert(&o);
    o = (struct vt_testgen_cert_opts){
        .cn = "Leaf Under Odd",
        .key = f->pki.leaf_key,
        .issuer = mid,
        .signer = f->pki.ca_key,
        .not_before = LEAF_NB,
        .not_after = LEAF_NA,
        .serial = 56,
    };
    X509 *leaf = vt_testgen_cert(&o);
    X509 *chain[] = {leaf, mid, f->pki.root};
    expect_chain(f, chain, 3, T0, VT_TIME_STRICT, check != NULL ? VT_E_CHAIN : VT_OK, check,
                 check != NULL ? "cert 1 (CN=Odd Intermediate)" : NULL);
    X509_free(leaf);
    X509_free(mid);
}

static void test_ca_constraints(void **state)
{
    struct fixture *f = *state;
    check_bad_intermediate(f, true, false, 0, "critical,keyCertSign", NULL); /* control */
    check_bad_intermediate(f, true, false, -1, NULL, NULL);                  /* no keyUsage */
    check_bad_intermediate(f, false, false, -1, "critical,keyCertSign",
                           "test_chain[1].basic_constraints");
    check_bad_intermediate(f, false, true, -1, "critical,keyCertSign",
                           "test_chain[1].basic_constraints");
    check_bad_intermediate(f, true, false, 0, "critical,digitalSignature,cRLSign",
                           "test_chain[1].key_usage");
}

static void test_path_length(void **state)
{
    struct fixture *f = *state;
    /* Root with pathlen 0 cannot have an intermediate CA below it. */
    struct vt_testgen_cert_opts o = {
        .cn = "Test Root CA",
        .key = f->pki.root_key,
        .not_before = NB,
        .not_after = NA,
        .serial = 57,
        .ca = true,
        .pathlen = 0,
        .key_usage = "critical,keyCertSign,cRLSign",
    };
    X509 *root0 = vt_testgen_cert(&o);
    struct vt_cert_list anchors;
    struct vt_cert_list chain;
    struct vt_diag d;
    X509 *certs[] = {f->pki.leaf, f->pki.ca, root0};
    vt_testgen_list(&anchors, &root0, 1);
    vt_testgen_list(&chain, certs, 3);
    vt_diag_init(&d);
    assert_int_equal(vt_chain_verify(&chain, &anchors, T0, VT_TIME_STRICT, "p", &d), VT_E_CHAIN);
    assert_string_equal(d.check, "p[2].path_length");
    vt_cert_list_cleanup(&chain);
    /* ... but may sign a leaf directly. */
    o = (struct vt_testgen_cert_opts){
        .cn = "Direct Leaf",
        .key = f->pki.leaf_key,
        .issuer = root0,
        .signer = f->pki.root_key,
        .not_before = LEAF_NB,
        .not_after = LEAF_NA,
        .serial = 58,
    };
    X509 *direct = vt_testgen_cert(&o);
    X509 *certs2[] = {direct, root0};
    vt_testgen_list(&chain, certs2, 2);
    assert_int_equal(vt_chain_verify(&chain, &anchors, T0, VT_TIME_STRICT, "p", &d), VT_OK);
    vt_cert_list_cleanup(&chain);
    vt_cert_list_cleanup(&anchors);
    X509_free(direct);
    X509_free(root0);

    /* Root pathlen 1 with two intermediates (no pathlen of their own) below it. */
    EVP_PKEY *k2 = vt_testgen_p256_key();
    o = (struct vt_testgen_cert_opts){
        .cn = "Second CA",
        .key = k2,
        .issuer = f->pki.root,
        .signer = f->pki.root_key,
        .not_before = NB,
        .not_after = NA,
        .serial = 59,
        .ca = true,
        .pathlen = -1,
    };
    X509 *ca2 = vt_testgen_cert(&o);
    o = (struct vt_testgen_cert_opts){
        .cn = "Test Intermediate CA",
        .key = f->pki.ca_key,
        .issuer = ca2,
        .signer = k2,
        .not_before = NB,
        .not_after = NA,
        .serial = 60,
        .ca = true,
        .pathlen = -1,
    };
    X509 *ca1 = vt_testgen_cert(&o);
    X509 *four[] = {f->pki.leaf, ca1, ca2, f->pki.root};
    expect_chain(f, four, 4, T0, VT_TIME_STRICT, VT_E_CHAIN, "test_chain[3].path_length",
                 "allows 1");
    X509_free(ca1);
    X509_free(ca2);
    EVP_PKEY_free(k2);
}

static void test_critical_extensions(void **state)
{
    struct fixture *f = *state;
    static const uint8_t value[] = {0x30, 0x00};
    struct vt_testgen_cert_opts o = {
        .cn = "Extended Leaf",
        .key = f->pki.leaf_key,
        .issuer = f->pki.ca,
        .signer = f->pki.ca_key,
        .not_before = LEAF_NB,
        .not_after = LEAF_NA,
        .serial = 61,
        .ext_oid = "1.2.840.113741.1.13.1", /* Intel's SGX extension, not critical */
        .ext_der = value,
        .ext_len = sizeof(value),
    };
    X509 *leaf = vt_testgen_cert(&o);
    X509 *chain[] = {leaf, f->pki.ca, f->pki.root};
    expect_chain(f, chain, 3, T0, VT_TIME_STRICT, VT_OK, NULL, NULL);
    X509_free(leaf);
    o.ext_critical = true;
    o.ext_oid = "1.3.6.1.4.1.99999.1";
    leaf = vt_testgen_cert(&o);
    chain[0] = leaf;
    expect_chain(f, chain, 3, T0, VT_TIME_STRICT, VT_E_CHAIN, "test_chain[0].critical_extension",
                 "1.3.6.1.4.1.99999.1");
    X509_free(leaf);
}

static void test_validity_boundaries(void **state)
{
    struct fixture *f = *state;
    X509 *chain[] = {f->pki.leaf, f->pki.ca, f->pki.root};
    /* STRICT: [not_before, not_after], both ends inclusive. */
    expect_chain(f, chain, 3, LEAF_NB - 1, VT_TIME_STRICT, VT_E_NOT_YET_VALID,
                 "test_chain[0].validity", "cert 0 (CN=Test Leaf)");
    expect_chain(f, chain, 3, LEAF_NB, VT_TIME_STRICT, VT_OK, NULL, NULL);
    expect_chain(f, chain, 3, LEAF_NA, VT_TIME_STRICT, VT_OK, NULL, NULL);
    expect_chain(f, chain, 3, LEAF_NA + 1, VT_TIME_STRICT, VT_E_EXPIRED, "test_chain[0].validity",
                 "cert 0 (CN=Test Leaf)");
    /* EXPIRY_ONLY: only the upper bound. */
    expect_chain(f, chain, 3, LEAF_NB - 1, VT_TIME_EXPIRY_ONLY, VT_OK, NULL, NULL);
    expect_chain(f, chain, 3, NB - 1, VT_TIME_EXPIRY_ONLY, VT_OK, NULL, NULL);
    expect_chain(f, chain, 3, LEAF_NA, VT_TIME_EXPIRY_ONLY, VT_OK, NULL, NULL);
    expect_chain(f, chain, 3, LEAF_NA + 1, VT_TIME_EXPIRY_ONLY, VT_E_EXPIRED,
                 "test_chain[0].validity", NULL);

    /* An intermediate that expires before the leaf. */
    struct vt_testgen_cert_opts o = {
        .cn = "Short CA",
        .key = f->pki.ca_key,
        .issuer = f->pki.root,
        .signer = f->pki.root_key,
        .not_before = T0 - 10,
        .not_after = T0 + 10,
        .serial = 62,
        .ca = true,
        .pathlen = 0,
    };
    X509 *short_ca = vt_testgen_cert(&o);
    o = (struct vt_testgen_cert_opts){
        .cn = "Long Leaf",
        .key = f->pki.leaf_key,
        .issuer = short_ca,
        .signer = f->pki.ca_key,
        .not_before = NB,
        .not_after = NA,
        .serial = 63,
    };
    X509 *long_leaf = vt_testgen_cert(&o);
    X509 *chain2[] = {long_leaf, short_ca, f->pki.root};
    expect_chain(f, chain2, 3, T0 + 10, VT_TIME_STRICT, VT_OK, NULL, NULL);
    expect_chain(f, chain2, 3, T0 + 11, VT_TIME_STRICT, VT_E_EXPIRED, "test_chain[1].validity",
                 "cert 1 (CN=Short CA)");
    expect_chain(f, chain2, 3, T0 - 11, VT_TIME_STRICT, VT_E_NOT_YET_VALID,
                 "test_chain[1].validity", NULL);
    expect_chain(f, chain2, 3, T0 - 11, VT_TIME_EXPIRY_ONLY, VT_OK, NULL, NULL);
    /* The root's (anchor's) window counts too. */
    expect_chain(f, chain2 + 2, 1, NA + 1, VT_TIME_STRICT, VT_E_EXPIRED, "test_chain[0].validity",
                 "CN=Test Root CA");
    X509_free(long_leaf);
    X509_free(short_ca);
}

static char *fixture_path(const char *dir, const char *rel)
{
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, rel);
    return p;
}

static void load_list(const char *dir, const char *rel, struct vt_cert_list *l)
{
    char *path = fixture_path(dir, rel);
    size_t len = 0;
    uint8_t *bytes = vt_test_read_file(path, &len);
    if (bytes == NULL) {
        fail_msg("cannot read %s", path);
    }
    struct vt_diag d;
    vt_diag_init(&d);
    vt_cert_list_init(l);
    if (vt_cert_list_from_bytes(bytes, len, l, &d) != VT_OK) {
        fail_msg("%s: %s: %s", path, d.check, d.detail);
    }
    free(bytes);
    free(path);
}

/* SPEC: dcap.md 4.1, TCB info issuer chain (TCB Signing + Root) to the trusted Intel root. The
 * Phala SGX fixture's verification time is 1752919277 (its expected.json). */
static void test_fixture_intel_chains(void **state)
{
    (void)state;
    const char *dir = vt_fixtures_or_skip();
    const vt_time when = INT64_C(1752919277);
    struct vt_cert_list anchors;
    struct vt_cert_list chain;
    struct vt_diag d;
    static const char *const chains[] = {
        "dcap/phala-dcap-qvl/sgx-v3-fmspc00a067110000/tcb_info_issuer_chain.pem",
        "dcap/phala-dcap-qvl/sgx-v3-fmspc00a067110000/qe_identity_issuer_chain.pem",
        "dcap/phala-dcap-qvl/sgx-v3-fmspc00a067110000/pck_crl_issuer_chain.pem",
    };
    load_list(dir, "dcap/intel-sgx-root-ca.pem", &anchors);
    assert_int_equal(anchors.n, 1);
    for (size_t i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
        load_list(dir, chains[i], &chain);
        assert_int_equal(chain.n, 2);
        vt_diag_init(&d);
        enum vt_err err =
            vt_chain_verify(&chain, &anchors, when, VT_TIME_STRICT, "tcb_info_chain", &d);
        if (err != VT_OK) {
            fail_msg("%s: %s: %s: %s", chains[i], vt_err_name(err), d.check, d.detail);
        }
        /* Long after the signing certificate expires. */
        assert_int_equal(vt_chain_verify(&chain, &anchors, INT64_C(2524607999), VT_TIME_STRICT,
                                         "tcb_info_chain", &d),
                         VT_E_EXPIRED);
        assert_string_equal(d.check, "tcb_info_chain[0].validity");
        /* Not anchored at a synthetic root. */
        struct vt_testgen_pki pki;
        struct vt_cert_list fake;
        vt_testgen_pki_init(&pki, when - DAY, when + DAY, when - DAY, when + DAY);
        vt_testgen_list(&fake, &pki.root, 1);
        assert_int_equal(vt_chain_verify(&chain, &fake, when, VT_TIME_STRICT, "tcb_info_chain", &d),
                         VT_E_UNTRUSTED_ROOT);
        vt_cert_list_cleanup(&fake);
        vt_testgen_pki_cleanup(&pki);
        vt_cert_list_cleanup(&chain);
    }
    vt_cert_list_cleanup(&anchors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_chain),
        cmocka_unit_test(test_length),
        cmocka_unit_test(test_untrusted_root),
        cmocka_unit_test(test_anchor_lookalike_rejected),
        cmocka_unit_test(test_root_not_self_signed),
        cmocka_unit_test(test_broken_signature),
        cmocka_unit_test(test_name_mismatch),
        cmocka_unit_test(test_ca_constraints),
        cmocka_unit_test(test_path_length),
        cmocka_unit_test(test_critical_extensions),
        cmocka_unit_test(test_validity_boundaries),
        cmocka_unit_test(test_fixture_intel_chains),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
