/*
 * vt_snp_verify on the synthetic AMD PKI (tests/support/snp_sim.h): each product and both key
 * types verify, and every reject path real reports cannot reach gives its error and check:
 * untrusted roots, missing chains, forged or mis-signed VEKs, wrong names and roles, bad
 * extensions, TCB and chip mismatches, KEY_INFO and POLICY, CPUID against the chain, time, CRLs
 * and the HCL runtime-data binding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

#include "snp_sim.h"
#include "x509_gen.h"

#define NOW ((vt_time)1750000000) /* 2025-06-15 */
#define YEAR ((vt_time)365 * 86400)

/* One synthetic world: a PKI, a VEK, a signed report, and the bytes a verifier gets. */
struct world {
    struct vt_ssim_pki pki;
    struct vt_ssim_vek_opts vo;
    X509 *vek;
    EVP_PKEY *vek_key;
    struct vt_ssim_report rep;
    uint8_t report[VT_SNP_REPORT_SIZE];
    uint8_t *vek_der;
    size_t vek_len;
    char *chain; /* ASK or ASVK, then ARK */
    size_t chain_len;
    struct vt_cert_list anchors; /* the synthetic ARK */
    struct vt_snp_verifier *v;
};

static void world_build_vek(struct world *w)
{
    X509_free(w->vek);
    EVP_PKEY_free(w->vek_key);
    free(w->vek_der);
    assert_int_equal(vt_ssim_vek(&w->pki, &w->vo, &w->vek, &w->vek_key, NULL), VT_OK);
    assert_int_equal(vt_ssim_der(w->vek, &w->vek_der, &w->vek_len, NULL), VT_OK);
}

static void world_sign(struct world *w)
{
    assert_int_equal(vt_ssim_report_sign(&w->rep, w->vek_key, w->report, NULL), VT_OK);
}

static void world_init(struct world *w, enum vt_snp_product product, bool vlek)
{
    memset(w, 0, sizeof(*w));
    assert_int_equal(vt_ssim_pki_init(&w->pki, product, NOW - 5 * YEAR, NOW + 20 * YEAR, NULL),
                     VT_OK);
    vt_ssim_vek_defaults(&w->pki, &w->vo, vlek, NOW - YEAR / 2, NOW + YEAR / 2);
    world_build_vek(w);
    vt_ssim_report_defaults(&w->pki, &w->vo, &w->rep);
    world_sign(w);
    X509 *chain[2] = {vlek ? w->pki.asvk : w->pki.ask, w->pki.ark};
    assert_int_equal(vt_ssim_pem(chain, 2, &w->chain, &w->chain_len, NULL), VT_OK);
    vt_cert_list_init(&w->anchors);
    struct vt_cert *ark = NULL;
    assert_int_equal(vt_testgen_vt_cert(w->pki.ark, &ark, NULL), VT_OK);
    assert_int_equal(vt_cert_list_add(&w->anchors, ark), VT_OK);
    vt_cert_free(ark);
    struct vt_diag d;
    assert_int_equal(vt_snp_verifier_new(&w->anchors, &w->v, &d), VT_OK);
}

static void world_cleanup(struct world *w)
{
    vt_snp_verifier_free(w->v);
    vt_cert_list_cleanup(&w->anchors);
    X509_free(w->vek);
    EVP_PKEY_free(w->vek_key);
    free(w->vek_der);
    free(w->chain);
    vt_ssim_pki_cleanup(&w->pki);
}

static enum vt_err run(struct world *w, const uint8_t *report, size_t len, const uint8_t *crl,
                       size_t crl_len, vt_time now, struct vt_claims *c, struct vt_diag *d)
{
    struct vt_snp_opts o = {.now = now,
                            .time_mode = VT_TIME_STRICT,
                            .vek = w->vek_der,
                            .vek_len = w->vek_len,
                            .chain = (const uint8_t *)w->chain,
                            .chain_len = w->chain_len,
                            .crl = crl,
                            .crl_len = crl_len};
    vt_diag_init(d);
    return vt_snp_verify(w->v, report, len, &o, c, d);
}

static void expect(struct world *w, enum vt_err want, const char *check)
{
    struct vt_claims c;
    memset(&c, 0x77, sizeof(c));
    struct vt_claims before = c;
    struct vt_diag d;
    enum vt_err err = run(w, w->report, sizeof(w->report), NULL, 0, NOW, &c, &d);
    if (err != want || (check != NULL && strcmp(d.check, check) != 0)) {
        fail_msg("got %s %s (%s), want %s %s", vt_err_name(err), d.check, d.detail,
                 vt_err_name(want), check != NULL ? check : "");
    }
    if (want != VT_OK) {
        assert_memory_equal(&c, &before, sizeof(c)); /* claims untouched on failure */
    }
}

static void test_products(void **state)
{
    (void)state;
    const enum vt_snp_product products[] = {VT_SNP_MILAN, VT_SNP_GENOA, VT_SNP_TURIN};
    for (size_t i = 0; i < 3; i++) {
        for (int vlek = 0; vlek < 2; vlek++) {
            struct world w;
            world_init(&w, products[i], vlek);
            struct vt_claims c;
            struct vt_diag d;
            enum vt_err err = run(&w, w.report, sizeof(w.report), NULL, 0, NOW, &c, &d);
            if (err != VT_OK) {
                fail_msg("%s %s: %s %s", vt_snp_product_name(products[i]), vlek ? "VLEK" : "VCEK",
                         d.check, d.detail);
            }
            assert_int_equal(c.tee, VT_TEE_SEV_SNP);
            assert_string_equal(c.snp.product, vt_snp_product_name(products[i]));
            assert_int_equal(c.snp.signing_key, vlek);
            assert_int_equal(c.snp.reported_tcb.bootloader, 4);
            assert_int_equal(c.snp.reported_tcb.tee, 1);
            assert_int_equal(c.snp.reported_tcb.snp, 24);
            assert_int_equal(c.snp.reported_tcb.microcode, 219);
            assert_int_equal(c.snp.current_tcb.microcode, 221);
            assert_int_equal(c.snp.reported_tcb.fmc, products[i] == VT_SNP_TURIN ? 2 : 0);
            assert_int_equal(c.snp.chip_id_masked, vlek);
            assert_false(c.debug);
            if (vlek) {
                assert_string_equal(c.snp.csp_id, "CN=cc-test.example");
            }
            char *json = vt_claims_to_json(&c);
            assert_non_null(json);
            assert_non_null(strstr(json, products[i] == VT_SNP_TURIN
                                             ? "\"snp.reported_tcb.fmc\":2"
                                             : "\"snp.reported_tcb.snp\":24"));
            free(json);
            /* The real AMD roots do not vouch for the synthetic ARK. */
            struct vt_snp_verifier *amd;
            assert_int_equal(vt_snp_verifier_new(NULL, &amd, &d), VT_OK);
            struct vt_snp_verifier *mine = w.v;
            w.v = amd;
            expect(&w, VT_E_UNTRUSTED_ROOT, NULL);
            w.v = mine;
            vt_snp_verifier_free(amd);
            world_cleanup(&w);
        }
    }
}

static void test_chain_rejects(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, VT_SNP_MILAN, false);
    /* No chain given, and the built-in ASKs are AMD's: no issuer for the synthetic VCEK. */
    free(w.chain);
    w.chain = NULL;
    w.chain_len = 0;
    expect(&w, VT_E_CHAIN, "snp.ask");
    X509 *chain[2] = {w.pki.ask, w.pki.ark};
    assert_int_equal(vt_ssim_pem(chain, 2, &w.chain, &w.chain_len, NULL), VT_OK);
    expect(&w, VT_OK, NULL);

    /* A VCEK signed by a key other than its issuer's (a forgery). */
    w.vo.signer = w.pki.asvk_key;
    world_build_vek(&w);
    world_sign(&w);
    expect(&w, VT_E_CERT_SIGNATURE, "snp_chain[0].signature");
    /* PSS with salt 32 instead of AMD's 48. */
    w.vo.signer = w.pki.ask_key;
    w.vo.salt = 32;
    world_build_vek(&w);
    world_sign(&w);
    expect(&w, VT_E_UNSUPPORTED_ALGORITHM, "snp_chain[0].algorithm");
    w.vo.salt = 48;
    /* A VCEK under the ASVK. */
    w.vo.issuer = w.pki.asvk;
    w.vo.signer = w.pki.asvk_key;
    world_build_vek(&w);
    world_sign(&w);
    free(w.chain);
    chain[0] = w.pki.asvk;
    assert_int_equal(vt_ssim_pem(chain, 2, &w.chain, &w.chain_len, NULL), VT_OK);
    expect(&w, VT_E_CHAIN_NAME, "snp.ask.name");
    /* Leaf names: neither SEV-VCEK nor SEV-VLEK. */
    vt_ssim_vek_defaults(&w.pki, &w.vo, false, NOW - YEAR / 2, NOW + YEAR / 2);
    free(w.chain);
    chain[0] = w.pki.ask;
    assert_int_equal(vt_ssim_pem(chain, 2, &w.chain, &w.chain_len, NULL), VT_OK);
    w.vo.cn = "SEV-VXEK";
    world_build_vek(&w);
    world_sign(&w);
    expect(&w, VT_E_CHAIN_NAME, "snp.vek.name");
    world_cleanup(&w);
}

/* The chain given as ASK then `ark` (PEM). */
static void world_set_ark(struct world *w, X509 *ark)
{
    free(w->chain);
    X509 *chain[2] = {w->pki.ask, ark};
    assert_int_equal(vt_ssim_pem(chain, 2, &w->chain, &w->chain_len, NULL), VT_OK);
}

/* SPEC: docs/verify.md (SEV-SNP chain, Trust anchors): a given ARK is matched to a trust anchor
 * by subject and key and then checked as given: a re-issued ARK (same name and key, other bytes)
 * verifies within its own window; a look-alike (same name, other key) or a forged self-signature
 * does not. */
static void test_reissued_ark(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, VT_SNP_MILAN, false);
    struct vt_testgen_reissue_opts o = {.signer = w.pki.ark_key,
                                        .not_before = NOW - YEAR / 4,
                                        .not_after = NOW + YEAR / 4,
                                        .serial = 0x20000,
                                        .pathlen = -1};
    X509 *ark2 = NULL;
    assert_int_equal(vt_testgen_reissue(w.pki.ark, &o, &ark2, NULL), VT_OK);
    world_set_ark(&w, ark2);
    expect(&w, VT_OK, NULL);
    /* Its own window (the first to end here), inclusive. */
    struct vt_claims c;
    struct vt_diag d;
    assert_int_equal(run(&w, w.report, sizeof(w.report), NULL, 0, NOW + YEAR / 4, &c, &d), VT_OK);
    assert_int_equal(run(&w, w.report, sizeof(w.report), NULL, 0, NOW + YEAR / 4 + 1, &c, &d),
                     VT_E_EXPIRED);
    assert_string_equal(d.check, "snp.ark");
    X509_free(ark2);

    /* Signed by another key than the one it carries. */
    o.signer = w.pki.ask_key;
    o.serial = 0x20001;
    X509 *forged = NULL;
    assert_int_equal(vt_testgen_reissue(w.pki.ark, &o, &forged, NULL), VT_OK);
    world_set_ark(&w, forged);
    expect(&w, VT_E_CERT_SIGNATURE, "snp_chain[2].self_signed");
    X509_free(forged);

    /* The ARK's name with another key. */
    EVP_PKEY *k = EVP_RSA_gen(2048);
    assert_non_null(k);
    o.signer = k;
    o.key = k;
    o.serial = 0x20002;
    X509 *lookalike = NULL;
    assert_int_equal(vt_testgen_reissue(w.pki.ark, &o, &lookalike, NULL), VT_OK);
    world_set_ark(&w, lookalike);
    expect(&w, VT_E_UNTRUSTED_ROOT, "snp_chain.root");
    assert_int_equal(run(&w, w.report, sizeof(w.report), NULL, 0, NOW, &c, &d),
                     VT_E_UNTRUSTED_ROOT);
    assert_non_null(strstr(d.detail, "a trusted root has its subject but another public key"));
    X509_free(lookalike);
    EVP_PKEY_free(k);

    /* The anchor may be the re-issue, the chain the original ARK. */
    world_set_ark(&w, w.pki.ark);
    o = (struct vt_testgen_reissue_opts){.signer = w.pki.ark_key,
                                         .not_before = NOW - YEAR,
                                         .not_after = NOW + YEAR,
                                         .serial = 0x20003,
                                         .pathlen = -1};
    X509 *ark3 = NULL;
    assert_int_equal(vt_testgen_reissue(w.pki.ark, &o, &ark3, NULL), VT_OK);
    struct vt_cert_list anchors;
    vt_cert_list_init(&anchors);
    struct vt_cert *a = NULL;
    assert_int_equal(vt_testgen_vt_cert(ark3, &a, NULL), VT_OK);
    assert_int_equal(vt_cert_list_add(&anchors, a), VT_OK);
    vt_cert_free(a);
    struct vt_snp_verifier *v3 = NULL;
    assert_int_equal(vt_snp_verifier_new(&anchors, &v3, &d), VT_OK);
    struct vt_snp_verifier *mine = w.v;
    w.v = v3;
    expect(&w, VT_OK, NULL);
    w.v = mine;
    vt_snp_verifier_free(v3);
    vt_cert_list_cleanup(&anchors);
    X509_free(ark3);
    world_cleanup(&w);
}

/* The VEK's extensions, one defect at a time. */
static void test_extension_rejects(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, VT_SNP_MILAN, false);
    const struct {
        const char *what;
        enum vt_err err;
        const char *check;
    } cases[] = {
        {"product_name Genoa", VT_E_CERT_EXTENSION, "snp.vek.product_name"},
        {"product_name MilanX", VT_E_CERT_EXTENSION, "snp.vek.product_name"},
        {"no product_name", VT_E_CERT_EXTENSION, "snp.vek.ext.2"},
        {"no blSPL", VT_E_CERT_EXTENSION, "snp.vek.spl"},
        {"no ucodeSPL", VT_E_CERT_EXTENSION, "snp.vek.spl"},
        {"no hwID", VT_E_CERT_EXTENSION, "snp.vek.hwid"},
        {"8-byte hwID on Milan", VT_E_CERT_EXTENSION, "snp.vek.hwid"},
        {"63-byte hwID", VT_E_CERT_EXTENSION, "snp.vek.ext.4"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vt_ssim_vek_defaults(&w.pki, &w.vo, false, NOW - YEAR / 2, NOW + YEAR / 2);
        switch (i) {
        case 0:
            w.vo.product_name = "Genoa";
            break;
        case 1:
            w.vo.product_name = "MilanX";
            break;
        case 2:
            w.vo.product_name = NULL;
            break;
        case 3:
            w.vo.bl = -1;
            break;
        case 4:
            w.vo.ucode = -1;
            break;
        case 5:
            w.vo.hwid_len = 0;
            break;
        case 6:
            w.vo.hwid_len = 8;
            break;
        default:
            w.vo.hwid_len = 63;
            break;
        }
        world_build_vek(&w);
        world_sign(&w);
        print_message("  %s\n", cases[i].what);
        expect(&w, cases[i].err, cases[i].check);
    }
    /* Turin without fmcSPL. */
    struct world t;
    world_init(&t, VT_SNP_TURIN, false);
    t.vo.fmc = -1;
    world_build_vek(&t);
    world_sign(&t);
    expect(&t, VT_E_CERT_EXTENSION, "snp.vek.spl");
    world_cleanup(&t);
    world_cleanup(&w);
}

/* The report against its VEK: TCB, chip, signature, KEY_INFO, POLICY, CPUID. */
static void test_report_rejects(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, VT_SNP_GENOA, false);
    struct vt_ssim_report good = w.rep;
    const enum vt_snp_product p = VT_SNP_GENOA;

    w.rep.reported_tcb = vt_ssim_tcb(p, 0, 4, 1, 24, 218);
    world_sign(&w);
    expect(&w, VT_E_TCB_INFO_MISMATCH, "snp.reported_tcb");
    w.rep = good;
    w.rep.reported_tcb = vt_ssim_tcb(p, 0, 3, 1, 24, 219);
    world_sign(&w);
    expect(&w, VT_E_TCB_INFO_MISMATCH, "snp.reported_tcb");

    w.rep = good;
    w.rep.chip_id[5] ^= 1;
    world_sign(&w);
    expect(&w, VT_E_TCB_INFO_MISMATCH, "snp.chip_id");
    w.rep = good;
    memset(w.rep.chip_id, 0, sizeof(w.rep.chip_id));
    world_sign(&w);
    expect(&w, VT_OK, NULL); /* masked */

    /* Signed by another P-384 key. */
    w.rep = good;
    EVP_PKEY *other = EVP_EC_gen("P-384");
    assert_non_null(other);
    assert_int_equal(vt_ssim_report_sign(&w.rep, other, w.report, NULL), VT_OK);
    EVP_PKEY_free(other);
    expect(&w, VT_E_SIGNATURE, "snp.report.signature");

    const struct {
        uint32_t key_info;
        enum vt_err err;
        const char *check;
    } keys[] = {
        {0x2, VT_E_SIGNATURE, "snp.report.key_info"},
        {7u << 2, VT_E_SIGNATURE, "snp.report.signing_key"},
        {2u << 2, VT_E_BAD_FIELD, "snp.report.signing_key"},
        {1u << 2, VT_E_CHAIN_NAME, "snp.vek.role"},
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        w.rep = good;
        w.rep.key_info = keys[i].key_info;
        world_sign(&w);
        expect(&w, keys[i].err, keys[i].check);
    }
    w.rep = good;
    w.rep.key_info = 1; /* AUTHOR_KEY_EN */
    world_sign(&w);
    expect(&w, VT_OK, NULL);

    w.rep = good;
    w.rep.policy = 0x10000; /* bit 17 clear */
    world_sign(&w);
    expect(&w, VT_E_BAD_FIELD, "snp.report.policy");
    w.rep = good;
    w.rep.policy = 0xb0000; /* debug */
    world_sign(&w);
    struct vt_claims c;
    struct vt_diag d;
    assert_int_equal(run(&w, w.report, sizeof(w.report), NULL, 0, NOW, &c, &d), VT_OK);
    assert_true(c.debug);

    w.rep = good;
    w.rep.cpuid[1] = 0x01; /* a Milan CPUID under the Genoa chain */
    world_sign(&w);
    expect(&w, VT_E_CHAIN, "snp.product");
    w.rep = good;
    w.rep.cpuid[0] = 0x17;
    world_sign(&w);
    expect(&w, VT_E_UNSUPPORTED, "snp.report.cpuid");
    w.rep = good;
    w.rep.version = 2; /* no CPUID: the chain's product */
    memset(w.rep.cpuid, 0, 3);
    world_sign(&w);
    assert_int_equal(run(&w, w.report, sizeof(w.report), NULL, 0, NOW, &c, &d), VT_OK);
    assert_string_equal(c.snp.product, "Genoa");

    /* No VEK at all. */
    w.rep = good;
    world_sign(&w);
    free(w.vek_der);
    w.vek_der = NULL;
    w.vek_len = 0;
    expect(&w, VT_E_COLLATERAL_MISSING, "snp.vek");
    world_cleanup(&w);
}

static void test_time_and_crl(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, VT_SNP_MILAN, false);
    struct vt_claims c;
    struct vt_diag d;
    const vt_time nb = NOW - YEAR / 2;
    const vt_time na = NOW + YEAR / 2;
    /* RFC 5280 edges: [notBefore, notAfter], both inclusive (docs/verify.md, Time edges). */
    assert_int_equal(run(&w, w.report, sizeof(w.report), NULL, 0, na - 1, &c, &d), VT_OK);
    assert_int_equal(run(&w, w.report, sizeof(w.report), NULL, 0, na, &c, &d), VT_OK);
    assert_int_equal(run(&w, w.report, sizeof(w.report), NULL, 0, na + 1, &c, &d), VT_E_EXPIRED);
    assert_string_equal(d.check, "snp.vcek");
    assert_non_null(strstr(d.detail, "is after not_after"));
    assert_int_equal(run(&w, w.report, sizeof(w.report), NULL, 0, nb + 1, &c, &d), VT_OK);
    assert_int_equal(run(&w, w.report, sizeof(w.report), NULL, 0, nb, &c, &d), VT_OK);
    assert_int_equal(run(&w, w.report, sizeof(w.report), NULL, 0, nb - 1, &c, &d),
                     VT_E_NOT_YET_VALID);
    /* Past the ASK's and ARK's windows too (the VCEK checked first). */
    assert_int_equal(run(&w, w.report, sizeof(w.report), NULL, 0, NOW + 30 * YEAR, &c, &d),
                     VT_E_EXPIRED);

    size_t len = 0;
    const long ask_serial = 0x10001;
    const long other = 0x777;
    uint8_t *crl = NULL;
    assert_int_equal(
        vt_ssim_crl(&w.pki, w.pki.ark_key, &other, 1, NOW - 86400, NOW + 86400, &crl, &len, NULL),
        VT_OK);
    assert_int_equal(run(&w, w.report, sizeof(w.report), crl, len, NOW, &c, &d), VT_OK);
    bool listed = false;
    for (size_t i = 0; i < c.collateral.n; i++) {
        listed = listed || strcmp(c.collateral.docs[i].name, "amd_crl") == 0;
    }
    assert_true(listed);
    /* [thisUpdate, nextUpdate], both inclusive; expired, not yet valid. */
    const vt_time crl_edges[][2] = {
        {NOW + 86400 - 1, VT_OK},
        {NOW + 86400, VT_OK},
        {NOW + 86400 + 1, VT_E_EXPIRED},
        {NOW - 86400 + 1, VT_OK},
        {NOW - 86400, VT_OK},
        {NOW - 86400 - 1, VT_E_NOT_YET_VALID},
        {NOW + 2 * 86400, VT_E_EXPIRED},
    };
    for (size_t i = 0; i < sizeof(crl_edges) / sizeof(crl_edges[0]); i++) {
        enum vt_err err = run(&w, w.report, sizeof(w.report), crl, len, crl_edges[i][0], &c, &d);
        if (err != (enum vt_err)crl_edges[i][1]) {
            fail_msg("CRL at NOW%+lld: %s (%s: %s)", (long long)(crl_edges[i][0] - NOW),
                     vt_err_name(err), d.check, d.detail);
        }
        if (err != VT_OK) {
            assert_string_equal(d.check, "snp.crl");
        }
    }
    free(crl);
    /* Revoking the ASK. */
    assert_int_equal(vt_ssim_crl(&w.pki, w.pki.ark_key, &ask_serial, 1, NOW - 86400, NOW + 86400,
                                 &crl, &len, NULL),
                     VT_OK);
    assert_int_equal(run(&w, w.report, sizeof(w.report), crl, len, NOW, &c, &d), VT_E_REVOKED);
    assert_string_equal(d.check, "snp.crl.revoked");
    free(crl);
    /* Signed by another key (the ASK's) under the ARK's name. */
    assert_int_equal(
        vt_ssim_crl(&w.pki, w.pki.ask_key, &other, 1, NOW - 86400, NOW + 86400, &crl, &len, NULL),
        VT_OK);
    assert_int_equal(run(&w, w.report, sizeof(w.report), crl, len, NOW, &c, &d),
                     VT_E_CRL_SIGNATURE);
    free(crl);
    const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    assert_int_equal(run(&w, w.report, sizeof(w.report), junk, sizeof(junk), NOW, &c, &d),
                     VT_E_BAD_CRL);
    world_cleanup(&w);
}

static void test_hcl_binding(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, VT_SNP_MILAN, false);
    const char *json = "{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":"
                       "\"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1Wl"
                       "UzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDpre\"}],"
                       "\"vm-configuration\":{\"secure-boot\":true,\"tpm-enabled\":true},"
                       "\"user-data\":\"0a0b0c\"}";
    size_t len = 0;
    uint8_t *h = NULL;
    assert_int_equal(vt_ssim_hcl(&w.rep, w.vek_key, json, &h, &len, NULL), VT_OK);
    struct vt_claims c;
    struct vt_diag d;
    enum vt_err err = run(&w, h, len, NULL, 0, NOW, &c, &d);
    if (err != VT_OK) {
        fail_msg("%s %s", d.check, d.detail);
    }
    assert_true(c.snp.has_runtime_data);
    assert_int_equal(c.snp.n_runtime_keys, 1);
    assert_string_equal(c.snp.runtime_keys[0].kid, "HCLAkPub");
    assert_string_equal(c.snp.vm_configuration, "{\"secure-boot\":true,\"tpm-enabled\":true}");
    assert_true(c.user_data.present);
    assert_int_equal(c.user_data.len, 3);
    char *out = vt_claims_to_json(&c);
    assert_non_null(strstr(out, "\"snp.runtime.vm_configuration.secure-boot\":true"));
    assert_non_null(strstr(out, "\"user_data\":\"0a0b0c\""));
    free(out);

    /* Changed runtime data (same length): the hash no longer matches. */
    h[0x4d4 + 10] ^= 0x20;
    assert_int_equal(run(&w, h, len, NULL, 0, NOW, &c, &d), VT_E_BINDING);
    assert_string_equal(d.check, "hcl.runtime_data");
    free(h);
    /* REPORT_DATA's second half must be zero: sign such a report by hand. */
    assert_int_equal(vt_ssim_hcl(&w.rep, w.vek_key, json, &h, &len, NULL), VT_OK);
    w.rep.report_data[40] = 1;
    assert_int_equal(vt_ssim_report_sign(&w.rep, w.vek_key, h + 0x20, NULL), VT_OK);
    assert_int_equal(run(&w, h, len, NULL, 0, NOW, &c, &d), VT_E_BINDING);
    free(h);
    /* Bound, but not a JSON object; keys not an array; user-data not hex. */
    const char *bad[] = {"[1,2]", "{\"keys\":{}}", "{\"user-data\":\"xyz\"}",
                         "{\"keys\":[{\"kty\":\"RSA\"}]}"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(vt_ssim_hcl(&w.rep, w.vek_key, bad[i], &h, &len, NULL), VT_OK);
        assert_int_equal(run(&w, h, len, NULL, 0, NOW, &c, &d), VT_E_BAD_JSON);
        free(h);
    }
    world_cleanup(&w);
}

/* Several VEKs through one verifier: the cache keeps each apart. */
static void test_cache(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, VT_SNP_MILAN, false);
    /* A second VCEK of the same PKI (another chip: another hwID) and its report. */
    uint8_t *first_der = w.vek_der;
    size_t first_len = w.vek_len;
    uint8_t first_report[VT_SNP_REPORT_SIZE];
    memcpy(first_report, w.report, sizeof(first_report));
    X509 *first = w.vek;
    EVP_PKEY *first_key = w.vek_key;
    w.vek = NULL;
    w.vek_key = NULL;
    w.vek_der = NULL;
    w.vo.hwid[0] ^= 0xff;
    world_build_vek(&w);
    vt_ssim_report_defaults(&w.pki, &w.vo, &w.rep);
    world_sign(&w);
    uint8_t *second_der = w.vek_der;
    size_t second_len = w.vek_len;
    struct vt_claims c;
    struct vt_diag d;
    for (int round = 0; round < 3; round++) {
        w.vek_der = first_der;
        w.vek_len = first_len;
        assert_int_equal(run(&w, first_report, sizeof(first_report), NULL, 0, NOW, &c, &d), VT_OK);
        /* The second report with the first VCEK: another chip. */
        assert_int_equal(run(&w, w.report, sizeof(w.report), NULL, 0, NOW, &c, &d),
                         VT_E_TCB_INFO_MISMATCH);
        w.vek_der = second_der;
        w.vek_len = second_len;
        assert_int_equal(run(&w, w.report, sizeof(w.report), NULL, 0, NOW, &c, &d), VT_OK);
        assert_int_equal(c.snp.chip_id[0], (uint8_t)(0x30 ^ 0xff));
    }
    /* The first report, re-signed as if by the second chip's key but carrying the first chip's
     * ID: the signature check catches what the chip check cannot. */
    memset(first_report + 0x1a0, 0, 64); /* masked chip ID */
    assert_int_equal(run(&w, first_report, sizeof(first_report), NULL, 0, NOW, &c, &d),
                     VT_E_SIGNATURE);
    w.vek_der = second_der;
    free(first_der);
    X509_free(first);
    EVP_PKEY_free(first_key);
    world_cleanup(&w);
}

static int teardown(void **state)
{
    (void)state;
    vt_ssim_free_keys();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_products),       cmocka_unit_test(test_chain_rejects),
        cmocka_unit_test(test_reissued_ark),   cmocka_unit_test(test_extension_rejects),
        cmocka_unit_test(test_report_rejects), cmocka_unit_test(test_time_and_crl),
        cmocka_unit_test(test_hcl_binding),    cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
