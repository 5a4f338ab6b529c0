/*
 * Unit tests for src/crypto/chain.c: a good three-level chain, every reject path with its exact
 * code and check, validity boundaries to the second in both time modes, trust anchors matched by
 * subject and key (re-issued roots accepted and checked as presented; look-alikes refused), and
 * the real Intel TCB signing chain at its fixture's verification time, with every Intel root
 * certificate found in the fixtures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "tee/dcap/dcap.h"
#include "base/encoding.h"

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
    assert_int_equal(vt_testgen_pki_init(&f->pki, NB, NA, LEAF_NB, LEAF_NA, NULL), VT_OK);
    assert_int_equal(vt_testgen_list(&f->anchors, &f->pki.root, 1, NULL), VT_OK);
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
    assert_int_equal(vt_testgen_list(&chain, certs, n, NULL), VT_OK);
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
    assert_int_equal(vt_testgen_list(&big, &f->pki.leaf, 1, NULL), VT_OK);
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
    assert_int_equal(vt_testgen_pki_init(&other, NB, NA, LEAF_NB, LEAF_NA, NULL), VT_OK);
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
    X509 *renamed = NULL;
    assert_int_equal(vt_testgen_cert(&o, &renamed, NULL), VT_OK);
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
    assert_int_equal(vt_testgen_list(&full, good, 3, NULL), VT_OK);
    vt_diag_init(&d);
    assert_int_equal(vt_chain_verify(&full, &none, T0, VT_TIME_STRICT, NULL, &d),
                     VT_E_UNTRUSTED_ROOT);
    assert_string_equal(d.check, "chain.root");
    vt_cert_list_cleanup(&full);
    vt_testgen_pki_cleanup(&other);
}

/* A re-issue of the fixture's root: the same subject and key, other bytes (serial 51, window
 * [nb, na], pathlen 1 kept), changed further as o asks. */
static X509 *reissue(struct fixture *f, const struct vt_testgen_reissue_opts *more)
{
    struct vt_testgen_reissue_opts o = {
        .signer = f->pki.root_key,
        .not_before = T0 - 20 * DAY,
        .not_after = T0 + 20 * DAY,
        .serial = 51,
        .pathlen = -1,
    };
    if (more != NULL) {
        o = *more;
        o.signer = o.signer != NULL ? o.signer : f->pki.root_key;
    }
    X509 *x = NULL;
    assert_int_equal(vt_testgen_reissue(f->pki.root, &o, &x, NULL), VT_OK);
    /* It is another certificate. */
    struct vt_cert *a = NULL;
    assert_int_equal(vt_testgen_vt_cert(x, &a, NULL), VT_OK);
    struct vt_cert *b = NULL;
    assert_int_equal(vt_testgen_vt_cert(f->pki.root, &b, NULL), VT_OK);
    assert_false(vt_cert_equal(a, b));
    vt_cert_free(a);
    vt_cert_free(b);
    return x;
}

/* SPEC: docs/verify.md, trust anchors: an anchor is a subject and a key. A chain ending in
 * another self-signed certificate of the anchor's subject and key (a re-issued root) verifies. */
static void test_reissued_root_accepted(void **state)
{
    struct fixture *f = *state;
    X509 *root2 = reissue(f, NULL);
    X509 *chain[] = {f->pki.leaf, f->pki.ca, root2};
    expect_chain(f, chain, 3, T0, VT_TIME_STRICT, VT_OK, NULL, NULL);
    expect_chain(f, chain, 3, T0, VT_TIME_EXPIRY_ONLY, VT_OK, NULL, NULL);
    expect_chain(f, chain + 2, 1, T0, VT_TIME_STRICT, VT_OK, NULL, NULL);

    /* The anchor may be the re-issue and the chain carry the original (--trust-anchor). */
    struct vt_cert_list anchors, l;
    struct vt_diag d;
    X509 *orig[] = {f->pki.leaf, f->pki.ca, f->pki.root};
    assert_int_equal(vt_testgen_list(&anchors, &root2, 1, NULL), VT_OK);
    assert_int_equal(vt_testgen_list(&l, orig, 3, NULL), VT_OK);
    vt_diag_init(&d);
    assert_int_equal(vt_chain_verify(&l, &anchors, T0, VT_TIME_STRICT, "c", &d), VT_OK);
    /* vt_chain_anchor_for names the anchor that matched. */
    const struct vt_cert *which = NULL;
    assert_int_equal(vt_chain_anchor_for(l.certs[2], &anchors, "c.root", &which, &d), VT_OK);
    assert_ptr_equal(which, anchors.certs[0]);
    assert_int_equal(vt_chain_anchor_for(NULL, &anchors, "c.root", &which, &d), VT_E_ARG);
    assert_null(which);
    assert_int_equal(vt_chain_anchor_for(l.certs[2], NULL, NULL, NULL, &d), VT_E_ARG);
    assert_string_equal(d.check, "chain.root");
    vt_cert_list_cleanup(&l);
    vt_cert_list_cleanup(&anchors);
    X509_free(root2);
}

/* The root as presented is what is checked, never the anchor's copy: its validity, its
 * constraints, its extensions, its self-signature and that it is self-issued. */
static void test_reissued_root_checked(void **state)
{
    struct fixture *f = *state;
    /* Expired, or not yet valid, while the anchor's copy is valid. */
    struct vt_testgen_reissue_opts o = {
        .not_before = T0 - 20 * DAY, .not_after = T0 - 10 * DAY, .serial = 52, .pathlen = -1};
    X509 *old_root = reissue(f, &o);
    X509 *chain[] = {f->pki.leaf, f->pki.ca, old_root};
    expect_chain(f, chain, 3, T0, VT_TIME_STRICT, VT_E_EXPIRED, "test_chain[2].validity",
                 "cert 2 (CN=Test Root CA)");
    expect_chain(f, chain, 3, T0, VT_TIME_EXPIRY_ONLY, VT_E_EXPIRED, "test_chain[2].validity",
                 NULL);
    /* Its own edges, inclusive (the root alone: the leaf is not valid then). */
    expect_chain(f, chain + 2, 1, T0 - 10 * DAY, VT_TIME_STRICT, VT_OK, NULL, NULL);
    expect_chain(f, chain + 2, 1, T0 - 10 * DAY + 1, VT_TIME_STRICT, VT_E_EXPIRED,
                 "test_chain[0].validity", NULL);
    expect_chain(f, chain + 2, 1, T0 - 20 * DAY, VT_TIME_STRICT, VT_OK, NULL, NULL);
    expect_chain(f, chain + 2, 1, T0 - 20 * DAY - 1, VT_TIME_STRICT, VT_E_NOT_YET_VALID,
                 "test_chain[0].validity", NULL);
    X509_free(old_root);
    o = (struct vt_testgen_reissue_opts){
        .not_before = T0 + 10 * DAY, .not_after = T0 + 20 * DAY, .serial = 53, .pathlen = -1};
    X509 *new_root = reissue(f, &o);
    chain[2] = new_root;
    expect_chain(f, chain, 3, T0, VT_TIME_STRICT, VT_E_NOT_YET_VALID, "test_chain[2].validity",
                 NULL);
    expect_chain(f, chain, 3, T0, VT_TIME_EXPIRY_ONLY, VT_OK, NULL, NULL);
    X509_free(new_root);

    /* Its pathLenConstraint 0 forbids the intermediate CA. */
    o = (struct vt_testgen_reissue_opts){
        .not_before = NB, .not_after = NA, .serial = 54, .pathlen = 0};
    X509 *narrow = reissue(f, &o);
    chain[2] = narrow;
    expect_chain(f, chain, 3, T0, VT_TIME_STRICT, VT_E_CHAIN, "test_chain[2].path_length",
                 "cert 2 (CN=Test Root CA) allows 0");
    X509_free(narrow);

    /* An unknown critical extension. */
    o = (struct vt_testgen_reissue_opts){.not_before = NB,
                                         .not_after = NA,
                                         .serial = 55,
                                         .pathlen = -1,
                                         .critical_oid = "1.3.6.1.4.1.99999.7"};
    X509 *odd = reissue(f, &o);
    chain[2] = odd;
    expect_chain(f, chain, 3, T0, VT_TIME_STRICT, VT_E_CHAIN, "test_chain[2].critical_extension",
                 "1.3.6.1.4.1.99999.7");
    X509_free(odd);

    /* The anchor's subject and key, but signed by another key: not a certificate of the key's
     * holder. */
    EVP_PKEY *k = NULL;
    assert_int_equal(vt_testgen_p256_key(&k, NULL), VT_OK);
    o = (struct vt_testgen_reissue_opts){
        .signer = k, .not_before = NB, .not_after = NA, .serial = 56, .pathlen = -1};
    X509 *forged = reissue(f, &o);
    chain[2] = forged;
    expect_chain(f, chain, 3, T0, VT_TIME_STRICT, VT_E_CERT_SIGNATURE, "test_chain[2].self_signed",
                 NULL);
    X509_free(forged);

    /* The anchor's subject and key, issued under another name: not self-issued. */
    o = (struct vt_testgen_reissue_opts){.not_before = NB,
                                         .not_after = NA,
                                         .serial = 57,
                                         .pathlen = -1,
                                         .issuer_cn = "Another Root"};
    X509 *issued = reissue(f, &o);
    chain[2] = issued;
    expect_chain(f, chain, 3, T0, VT_TIME_STRICT, VT_E_CHAIN, "test_chain[2].self_signed",
                 "Another Root");
    X509_free(issued);
    EVP_PKEY_free(k);
}

/* A root with the anchor's subject but another key, or the anchor's key under another subject,
 * is refused with what differs. */
static void test_anchor_lookalikes_refused(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY *k = NULL;
    assert_int_equal(vt_testgen_p256_key(&k, NULL), VT_OK);
    /* Same subject, another key (self-signed with it). */
    struct vt_testgen_reissue_opts o = {
        .signer = k, .key = k, .not_before = NB, .not_after = NA, .serial = 60, .pathlen = -1};
    X509 *other_key = reissue(f, &o);
    X509 *chain[] = {f->pki.leaf, f->pki.ca, other_key};
    expect_chain(f, chain, 3, T0, VT_TIME_STRICT, VT_E_UNTRUSTED_ROOT, "test_chain.root",
                 "a trusted root has its subject but another public key");
    expect_chain(f, chain + 2, 1, T0, VT_TIME_STRICT, VT_E_UNTRUSTED_ROOT, "test_chain.root",
                 "cert 0 (CN=Test Root CA) [CN=Test Root CA,O=veritee test,C=US] issued by");
    X509_free(other_key);

    /* Same key, another subject (self-issued, self-signed with the anchor's key). */
    o = (struct vt_testgen_reissue_opts){
        .not_before = NB, .not_after = NA, .serial = 61, .pathlen = -1, .cn = "Test Root CA 2"};
    X509 *renamed = reissue(f, &o);
    chain[2] = renamed;
    expect_chain(f, chain, 3, T0, VT_TIME_STRICT, VT_E_UNTRUSTED_ROOT, "test_chain.root",
                 "is that of the trusted root [CN=Test Root CA,O=veritee test,C=US], under "
                 "another subject");
    X509_free(renamed);

    /* Neither. */
    struct vt_testgen_pki other;
    assert_int_equal(vt_testgen_pki_init(&other, NB, NA, LEAF_NB, LEAF_NA, NULL), VT_OK);
    struct vt_testgen_cert_opts co = {
        .cn = "Unrelated Root",
        .key = other.root_key,
        .not_before = NB,
        .not_after = NA,
        .serial = 62,
        .ca = true,
        .pathlen = 1,
    };
    X509 *unrelated = NULL;
    assert_int_equal(vt_testgen_cert(&co, &unrelated, NULL), VT_OK);
    expect_chain(f, &unrelated, 1, T0, VT_TIME_STRICT, VT_E_UNTRUSTED_ROOT, "test_chain.root",
                 "no trusted root has its subject or its public key");
    X509_free(unrelated);
    vt_testgen_pki_cleanup(&other);
    EVP_PKEY_free(k);
}

static void test_root_not_self_signed(void **state)
{
    struct fixture *f = *state;
    /* A root with the anchor's name and key but signed by another key. */
    EVP_PKEY *k = NULL;
    assert_int_equal(vt_testgen_p256_key(&k, NULL), VT_OK);
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
    X509 *bad_root = NULL;
    assert_int_equal(vt_testgen_cert(&o, &bad_root, NULL), VT_OK);
    struct vt_cert_list anchors;
    struct vt_cert_list chain;
    struct vt_diag d;
    X509 *certs[] = {f->pki.leaf, f->pki.ca, bad_root};
    assert_int_equal(vt_testgen_list(&anchors, &bad_root, 1, NULL), VT_OK);
    assert_int_equal(vt_testgen_list(&chain, certs, 3, NULL), VT_OK);
    vt_diag_init(&d);
    assert_int_equal(vt_chain_verify(&chain, &anchors, T0, VT_TIME_STRICT, "c", &d),
                     VT_E_CERT_SIGNATURE);
    assert_string_equal(d.check, "c[2].self_signed");
    vt_cert_list_cleanup(&chain);
    vt_cert_list_cleanup(&anchors);

    /* A trusted root that is not self-issued. */
    o.issuer_cn = "Somebody Else";
    o.signer = NULL;
    X509 *issued = NULL;
    assert_int_equal(vt_testgen_cert(&o, &issued, NULL), VT_OK);
    X509 *certs2[] = {f->pki.ca, issued};
    assert_int_equal(vt_testgen_list(&anchors, &issued, 1, NULL), VT_OK);
    assert_int_equal(vt_testgen_list(&chain, certs2, 2, NULL), VT_OK);
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
    EVP_PKEY *k = NULL;
    assert_int_equal(vt_testgen_p256_key(&k, NULL), VT_OK);
    struct vt_testgen_cert_opts o = {
        .cn = "Forged Leaf",
        .key = f->pki.leaf_key,
        .issuer = f->pki.ca,
        .signer = k,
        .not_before = LEAF_NB,
        .not_after = LEAF_NA,
        .serial = 53,
    };
    X509 *forged = NULL;
    assert_int_equal(vt_testgen_cert(&o, &forged, NULL), VT_OK);
    X509 *chain[] = {forged, f->pki.ca, f->pki.root};
    expect_chain(f, chain, 3, T0, VT_TIME_STRICT, VT_E_CERT_SIGNATURE, "test_chain[0].signature",
                 "CN=Forged Leaf");
    /* Signature errors win over validity errors. */
    expect_chain(f, chain, 3, LEAF_NA + 1, VT_TIME_STRICT, VT_E_CERT_SIGNATURE, NULL, NULL);

    /* Corrupt the signature bytes of a genuine leaf. */
    size_t len = 0;
    uint8_t *der = NULL;
    assert_int_equal(vt_testgen_cert_der(f->pki.leaf, &der, &len, NULL), VT_OK);
    der[len - 3] ^= 0x01;
    struct vt_cert *c = NULL;
    assert_int_equal(vt_cert_from_der(der, len, &c, NULL), VT_OK);
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    assert_int_equal(vt_cert_list_add(&l, c), VT_OK);
    vt_cert_free(c);
    struct vt_cert *ca = NULL;
    struct vt_cert *root = NULL;
    assert_int_equal(vt_testgen_vt_cert(f->pki.ca, &ca, NULL), VT_OK);
    assert_int_equal(vt_testgen_vt_cert(f->pki.root, &root, NULL), VT_OK);
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
    X509 *leaf = NULL;
    assert_int_equal(vt_testgen_cert(&o, &leaf, NULL), VT_OK);
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
    X509 *mid = NULL;
    assert_int_equal(vt_testgen_cert(&o, &mid, NULL), VT_OK);
    o = (struct vt_testgen_cert_opts){
        .cn = "Leaf Under Odd",
        .key = f->pki.leaf_key,
        .issuer = mid,
        .signer = f->pki.ca_key,
        .not_before = LEAF_NB,
        .not_after = LEAF_NA,
        .serial = 56,
    };
    X509 *leaf = NULL;
    assert_int_equal(vt_testgen_cert(&o, &leaf, NULL), VT_OK);
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
    X509 *root0 = NULL;
    assert_int_equal(vt_testgen_cert(&o, &root0, NULL), VT_OK);
    struct vt_cert_list anchors;
    struct vt_cert_list chain;
    struct vt_diag d;
    X509 *certs[] = {f->pki.leaf, f->pki.ca, root0};
    assert_int_equal(vt_testgen_list(&anchors, &root0, 1, NULL), VT_OK);
    assert_int_equal(vt_testgen_list(&chain, certs, 3, NULL), VT_OK);
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
    X509 *direct = NULL;
    assert_int_equal(vt_testgen_cert(&o, &direct, NULL), VT_OK);
    X509 *certs2[] = {direct, root0};
    assert_int_equal(vt_testgen_list(&chain, certs2, 2, NULL), VT_OK);
    assert_int_equal(vt_chain_verify(&chain, &anchors, T0, VT_TIME_STRICT, "p", &d), VT_OK);
    vt_cert_list_cleanup(&chain);
    vt_cert_list_cleanup(&anchors);
    X509_free(direct);
    X509_free(root0);

    /* Root pathlen 1 with two intermediates (no pathlen of their own) below it. */
    EVP_PKEY *k2 = NULL;
    assert_int_equal(vt_testgen_p256_key(&k2, NULL), VT_OK);
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
    X509 *ca2 = NULL;
    assert_int_equal(vt_testgen_cert(&o, &ca2, NULL), VT_OK);
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
    X509 *ca1 = NULL;
    assert_int_equal(vt_testgen_cert(&o, &ca1, NULL), VT_OK);
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
    X509 *leaf = NULL;
    assert_int_equal(vt_testgen_cert(&o, &leaf, NULL), VT_OK);
    X509 *chain[] = {leaf, f->pki.ca, f->pki.root};
    expect_chain(f, chain, 3, T0, VT_TIME_STRICT, VT_OK, NULL, NULL);
    X509_free(leaf);
    o.ext_critical = true;
    o.ext_oid = "1.3.6.1.4.1.99999.1";
    assert_int_equal(vt_testgen_cert(&o, &leaf, NULL), VT_OK);
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
    X509 *short_ca = NULL;
    assert_int_equal(vt_testgen_cert(&o, &short_ca, NULL), VT_OK);
    o = (struct vt_testgen_cert_opts){
        .cn = "Long Leaf",
        .key = f->pki.leaf_key,
        .issuer = short_ca,
        .signer = f->pki.ca_key,
        .not_before = NB,
        .not_after = NA,
        .serial = 63,
    };
    X509 *long_leaf = NULL;
    assert_int_equal(vt_testgen_cert(&o, &long_leaf, NULL), VT_OK);
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
        assert_int_equal(
            vt_testgen_pki_init(&pki, when - DAY, when + DAY, when - DAY, when + DAY, NULL), VT_OK);
        assert_int_equal(vt_testgen_list(&fake, &pki.root, 1, NULL), VT_OK);
        assert_int_equal(vt_chain_verify(&chain, &fake, when, VT_TIME_STRICT, "tcb_info_chain", &d),
                         VT_E_UNTRUSTED_ROOT);
        vt_cert_list_cleanup(&fake);
        vt_testgen_pki_cleanup(&pki);
        vt_cert_list_cleanup(&chain);
    }
    vt_cert_list_cleanup(&anchors);
}

/* The first occurrence of the text needle in [p, stop), or NULL. */
static const char *find_text(const char *p, const char *stop, const char *needle)
{
    size_t n = strlen(needle);
    for (; p != NULL && (size_t)(stop - p) >= n; p++) {
        if (memcmp(p, needle, n) == 0) {
            return p;
        }
    }
    return NULL;
}

/* Every file under dir (recursively) that is one DER certificate, and every certificate of every
 * PEM block in every file, into out (at most cap); what does not parse is skipped. */
static void collect_pem_certs(const char *dir, struct vt_cert **out, size_t cap, size_t *n)
{
    DIR *dp = opendir(dir);
    if (dp == NULL) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char *path = fixture_path(dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            collect_pem_certs(path, out, cap, n);
        } else if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            size_t len = 0;
            uint8_t *bytes = vt_test_read_file(path, &len);
            static const char begin[] = "-----BEGIN CERTIFICATE-----";
            static const char end[] = "-----END CERTIFICATE-----";
            /* A file that is one DER certificate. */
            struct vt_cert *one = NULL;
            if (bytes != NULL && *n < cap && vt_cert_from_der(bytes, len, &one, NULL) == VT_OK) {
                out[(*n)++] = one;
            }
            const char *p = bytes != NULL ? (const char *)bytes : NULL;
            const char *stop = p != NULL ? p + len : NULL;
            while ((p = find_text(p, stop, begin)) != NULL) {
                const char *q = find_text(p, stop, end);
                if (q == NULL) {
                    break;
                }
                q += strlen(end);
                struct vt_cert_list l;
                vt_cert_list_init(&l);
                if (vt_cert_list_from_pem(p, (size_t)(q - p), &l, NULL) == VT_OK) {
                    for (size_t i = 0; i < l.n && *n < cap; i++) {
                        out[(*n)++] = vt_cert_ref(l.certs[i]);
                    }
                }
                vt_cert_list_cleanup(&l);
                p = q;
            }
            free(bytes);
        }
        free(path);
    }
    closedir(dp);
}

/*
 * Intel has published its SGX Root CA key in more than one self-signed certificate. Every
 * certificate in the DCAP fixtures that carries the embedded root's subject and key is accepted
 * as the root of the real TCB signing chain, whatever its bytes; a certificate with Intel's root
 * subject and another key is refused. (The fixtures of this checkout hold one Intel root
 * certificate, the embedded one; an alternate one added to them is picked up here.)
 */
static void test_fixture_intel_alternate_roots(void **state)
{
    (void)state;
    const char *dir = vt_fixtures_or_skip();
    const vt_time when = INT64_C(1752919277);
    struct vt_cert_list anchors, chain, test;
    struct vt_diag d;
    vt_diag_init(&d);
    vt_cert_list_init(&anchors);
    assert_int_equal(vt_intel_sgx_root_add(&anchors, &d), VT_OK);
    const struct vt_cert *intel = anchors.certs[0];
    load_list(dir, "dcap/phala-dcap-qvl/sgx-v3-fmspc00a067110000/tcb_info_issuer_chain.pem",
              &chain);
    assert_int_equal(chain.n, 2);

    char *dcap = fixture_path(dir, "dcap");
    struct vt_cert *found[512];
    size_t n = 0, same = 0, alternate = 0;
    collect_pem_certs(dcap, found, 512, &n);
    free(dcap);
    for (size_t i = 0; i < n; i++) {
        if (!vt_cert_same_subject(found[i], intel)) {
            continue;
        }
        /* Intel's root subject with another key would be a forgery: none is published. */
        assert_true(vt_cert_same_key(found[i], intel));
        if (vt_cert_equal(found[i], intel)) {
            same++;
            continue;
        }
        alternate++;
        uint8_t h[VT_SHA256_LEN];
        char hex[2 * VT_SHA256_LEN + 1];
        vt_cert_sha256(found[i], h);
        vt_hex_encode(h, sizeof(h), hex);
        vt_cert_list_init(&test);
        assert_int_equal(vt_cert_list_add(&test, chain.certs[0]), VT_OK);
        assert_int_equal(vt_cert_list_add(&test, found[i]), VT_OK);
        enum vt_err err =
            vt_chain_verify(&test, &anchors, when, VT_TIME_EXPIRY_ONLY, "tcb_info_chain", &d);
        if (err != VT_OK) {
            fail_msg("alternate Intel root %s: %s: %s: %s", hex, vt_err_name(err), d.check,
                     d.detail);
        }
        print_message("  alternate Intel SGX Root CA certificate %s verifies\n", hex);
        vt_cert_list_cleanup(&test);
    }
    print_message("  %zu copies of the embedded Intel root, %zu alternate certificates of its key "
                  "among %zu fixture certificates\n",
                  same, alternate, n);
    assert_true(same > 0);

    /* A self-signed certificate with Intel's root subject and another key is refused. */
    EVP_PKEY *k = NULL;
    assert_int_equal(vt_testgen_p256_key(&k, NULL), VT_OK);
    size_t der_len = 0;
    const uint8_t *der = vt_intel_sgx_root_der(&der_len);
    const unsigned char *pp = der;
    X509 *real = d2i_X509(NULL, &pp, (long)der_len);
    assert_non_null(real);
    struct vt_testgen_reissue_opts o = {.signer = k,
                                        .key = k,
                                        .not_before = when - DAY,
                                        .not_after = when + DAY,
                                        .serial = 70,
                                        .pathlen = -1};
    X509 *fake = NULL;
    assert_int_equal(vt_testgen_reissue(real, &o, &fake, NULL), VT_OK);
    struct vt_cert *fake_c = NULL;
    assert_int_equal(vt_testgen_vt_cert(fake, &fake_c, NULL), VT_OK);
    vt_cert_list_init(&test);
    assert_int_equal(vt_cert_list_add(&test, chain.certs[0]), VT_OK);
    assert_int_equal(vt_cert_list_add(&test, fake_c), VT_OK);
    assert_int_equal(vt_chain_verify(&test, &anchors, when, VT_TIME_STRICT, "tcb_info_chain", &d),
                     VT_E_UNTRUSTED_ROOT);
    assert_string_equal(d.check, "tcb_info_chain.root");
    assert_non_null(strstr(d.detail, "a trusted root has its subject but another public key"));
    assert_non_null(strstr(d.detail, "CN=Intel SGX Root CA"));
    vt_cert_list_cleanup(&test);
    vt_cert_free(fake_c);
    X509_free(fake);
    X509_free(real);
    EVP_PKEY_free(k);
    for (size_t i = 0; i < n; i++) {
        vt_cert_free(found[i]);
    }
    vt_cert_list_cleanup(&chain);
    vt_cert_list_cleanup(&anchors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_chain),
        cmocka_unit_test(test_length),
        cmocka_unit_test(test_untrusted_root),
        cmocka_unit_test(test_reissued_root_accepted),
        cmocka_unit_test(test_reissued_root_checked),
        cmocka_unit_test(test_anchor_lookalikes_refused),
        cmocka_unit_test(test_root_not_self_signed),
        cmocka_unit_test(test_broken_signature),
        cmocka_unit_test(test_name_mismatch),
        cmocka_unit_test(test_ca_constraints),
        cmocka_unit_test(test_path_length),
        cmocka_unit_test(test_critical_extensions),
        cmocka_unit_test(test_validity_boundaries),
        cmocka_unit_test(test_fixture_intel_chains),
        cmocka_unit_test(test_fixture_intel_alternate_roots),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
