/*
 * The cache's request parser: every PCS v4 and KDS endpoint to its canonical store key and
 * upstream path (case-folded hex, default update=standard, TEE-independent CRLs), and every bad
 * request to the error Intel's and AMD's services answer with (400 for a bad parameter, 404 for an
 * unknown path), naming the parameter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cache/cache.h"

#define PPID                                                                                       \
    "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f" \
    "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f" \
    "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f" \
    "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f" \
    "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f" \
    "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f" \
    "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f" \
    "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f" \
    "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"
#define ZEROS                                                                                      \
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"   \
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"   \
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"   \
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"   \
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"   \
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"   \
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"   \
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"   \
    "000000000000000000000000000000000000000000000000"
#define HWID                                                                                       \
    "abababababababababababababababababababababababababababababababababababababababababababab"     \
    "abababababababababababababababababababab"

/* A Turin report's CHIP_ID: the 8-byte hwID, then zeros */
#define TURIN_CHIP_ID                                                                              \
    "0123456789abcdef000000000000000000000000000000000000000000000000000000000000000000000000"     \
    "0000000000000000000000000000000000000000"

struct good {
    const char *in, *key;
    enum vt_doc_kind kind;
    enum vt_tee tee;
    bool pinnable;
};

static const struct good goods[] = {
    {"/sgx/certification/v4/tcb?fmspc=00906ED50000",
     "/sgx/certification/v4/tcb?fmspc=00906ed50000&update=standard", VT_DOC_TCB_INFO, VT_TEE_SGX,
     true},
    {"/tdx/certification/v4/tcb?update=early&fmspc=90c06f000000",
     "/tdx/certification/v4/tcb?fmspc=90c06f000000&update=early", VT_DOC_TCB_INFO, VT_TEE_TDX,
     false},
    {"/tdx/certification/v4/tcb?fmspc=90c06f000000&tcbEvaluationDataNumber=17",
     "/tdx/certification/v4/tcb?fmspc=90c06f000000&tcbEvaluationDataNumber=17", VT_DOC_TCB_INFO,
     VT_TEE_TDX, false},
    {"/sgx/certification/v4/qe/identity", "/sgx/certification/v4/qe/identity?update=standard",
     VT_DOC_QE_IDENTITY, VT_TEE_SGX, true},
    {"/tdx/certification/v4/qe/identity?update=early",
     "/tdx/certification/v4/qe/identity?update=early", VT_DOC_QE_IDENTITY, VT_TEE_TDX, false},
    {"/sgx/certification/v4/qve/identity", "/sgx/certification/v4/qve/identity?update=standard",
     VT_DOC_QVE_IDENTITY, VT_TEE_SGX, true},
    {"/sgx/certification/v4/pckcrl?ca=Processor&encoding=der",
     "/sgx/certification/v4/pckcrl?ca=processor", VT_DOC_PCK_CRL, VT_TEE_SGX, false},
    {"/tdx/certification/v4/pckcrl?ca=platform", "/sgx/certification/v4/pckcrl?ca=platform",
     VT_DOC_PCK_CRL, VT_TEE_SGX, false},
    {"/sgx/certification/v4/rootcacrl", "/sgx/certification/v4/rootcacrl", VT_DOC_ROOT_CRL,
     VT_TEE_SGX, false},
    {"/tdx/certification/v4/tcbevaluationdatanumbers",
     "/tdx/certification/v4/tcbevaluationdatanumbers", VT_DOC_EVAL_NUMBERS, VT_TEE_TDX, false},
    {"/sgx/certification/v4/fmspcs?platform=E5", "/sgx/certification/v4/fmspcs?platform=E5",
     VT_DOC_FMSPCS, VT_TEE_SGX, false},
    {"/sgx/certification/v4/pckcerts?encrypted_ppid=" PPID "&pceid=0000",
     "/sgx/certification/v4/pckcerts?encrypted_ppid=" PPID "&pceid=0000", VT_DOC_PCK_CERTS,
     VT_TEE_SGX, false},
    {"/sgx/certification/v4/pckcert?encrypted_ppid=" PPID
     "&cpusvn=0202020203010005000000000000000A&pcesvn=0D00&pceid=0000",
     "/sgx/certification/v4/pckcert?encrypted_ppid=" PPID
     "&cpusvn=0202020203010005000000000000000a&pcesvn=0d00&pceid=0000",
     VT_DOC_PCK_CERT, VT_TEE_SGX, false},
    {"/vcek/v1/Milan/" HWID "?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115",
     "/vcek/v1/Milan/" HWID "?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115", VT_DOC_VCEK, VT_TEE_NONE,
     false},
    {"/vcek/v1/Turin/0123456789abcdef?ucodeSPL=3&snpSPL=2&teeSPL=0&blSPL=1&fmcSPL=4",
     "/vcek/v1/Turin/0123456789abcdef?blSPL=1&teeSPL=0&snpSPL=2&ucodeSPL=3&fmcSPL=4", VT_DOC_VCEK,
     VT_TEE_NONE, false},
    /* snpguest: SPLs zero-padded to two digits, fmcSPL first on Turin */
    {"/vcek/v1/Genoa/" HWID "?blSPL=03&teeSPL=00&snpSPL=08&ucodeSPL=115",
     "/vcek/v1/Genoa/" HWID "?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115", VT_DOC_VCEK, VT_TEE_NONE,
     false},
    {"/vcek/v1/Turin/0123456789ABCDEF?fmcSPL=04&blSPL=01&teeSPL=00&snpSPL=02&ucodeSPL=03",
     "/vcek/v1/Turin/0123456789abcdef?blSPL=1&teeSPL=0&snpSPL=2&ucodeSPL=3&fmcSPL=4", VT_DOC_VCEK,
     VT_TEE_NONE, false},
    /* KDS takes an unspecified SPL as 0 */
    {"/vcek/v1/Milan/" HWID, "/vcek/v1/Milan/" HWID "?blSPL=0&teeSPL=0&snpSPL=0&ucodeSPL=0",
     VT_DOC_VCEK, VT_TEE_NONE, false},
    {"/vcek/v1/Milan/" HWID "?blSPL=3&teeSPL=0&snpSPL=8",
     "/vcek/v1/Milan/" HWID "?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=0", VT_DOC_VCEK, VT_TEE_NONE,
     false},
    {"/vcek/v1/Turin/0123456789abcdef?blSPL=1&teeSPL=0&snpSPL=2&ucodeSPL=3",
     "/vcek/v1/Turin/0123456789abcdef?blSPL=1&teeSPL=0&snpSPL=2&ucodeSPL=3&fmcSPL=0", VT_DOC_VCEK,
     VT_TEE_NONE, false},
    /* fmcSPL is not a Milan or Genoa parameter: ignored like any other */
    {"/vcek/v1/Milan/" HWID "?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115&fmcSPL=9",
     "/vcek/v1/Milan/" HWID "?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115", VT_DOC_VCEK, VT_TEE_NONE,
     false},
    {"/vcek/v1/Genoa/cert_chain", "/vcek/v1/Genoa/cert_chain", VT_DOC_AMD_CHAIN, VT_TEE_NONE,
     false},
    {"/vlek/v1/Turin/cert_chain", "/vlek/v1/Turin/cert_chain", VT_DOC_AMD_CHAIN, VT_TEE_NONE,
     false},
    {"/vcek/v1/Turin/crl", "/vcek/v1/Turin/crl", VT_DOC_AMD_CRL, VT_TEE_NONE, false},
    {"/vlek/v1/Milan/crl", "/vlek/v1/Milan/crl", VT_DOC_AMD_CRL, VT_TEE_NONE, false},
    /* update= in any case, as PCCS takes it */
    {"/sgx/certification/v4/tcb?fmspc=00906ED50000&update=STANDARD",
     "/sgx/certification/v4/tcb?fmspc=00906ed50000&update=standard", VT_DOC_TCB_INFO, VT_TEE_SGX,
     true},
    {"/tdx/certification/v4/qe/identity?update=Early",
     "/tdx/certification/v4/qe/identity?update=early", VT_DOC_QE_IDENTITY, VT_TEE_TDX, false},
    /* PCCS's v3 API: TCB info and identities of their own, never pinned; the rest as v4 */
    {"/sgx/certification/v3/tcb?fmspc=00606A000000&update=standard",
     "/sgx/certification/v3/tcb?fmspc=00606a000000&update=standard", VT_DOC_TCB_INFO, VT_TEE_SGX,
     false},
    {"/sgx/certification/v3/qe/identity", "/sgx/certification/v3/qe/identity?update=standard",
     VT_DOC_QE_IDENTITY, VT_TEE_SGX, false},
    {"/sgx/certification/v3/qve/identity?update=EARLY",
     "/sgx/certification/v3/qve/identity?update=early", VT_DOC_QVE_IDENTITY, VT_TEE_SGX, false},
    {"/sgx/certification/v3/pckcrl?ca=platform", "/sgx/certification/v4/pckcrl?ca=platform",
     VT_DOC_PCK_CRL, VT_TEE_SGX, false},
    {"/sgx/certification/v3/rootcacrl", "/sgx/certification/v4/rootcacrl", VT_DOC_ROOT_CRL,
     VT_TEE_SGX, false},
    {"/sgx/certification/v3/pckcert?encrypted_ppid=" PPID
     "&cpusvn=0202020203010005000000000000000A&pcesvn=0D00&pceid=0000",
     "/sgx/certification/v4/pckcert?encrypted_ppid=" PPID
     "&cpusvn=0202020203010005000000000000000a&pcesvn=0d00&pceid=0000",
     VT_DOC_PCK_CERT, VT_TEE_SGX, false},
    /* PCCS's crl?uri=: Intel's CRL distribution points onto the documents held */
    {"/sgx/certification/v4/crl?uri=https://certificates.trustedservices.intel.com/"
     "IntelSGXRootCA.der",
     "/sgx/certification/v4/rootcacrl", VT_DOC_ROOT_CRL, VT_TEE_SGX, false},
    {"/sgx/certification/v3/crl?uri=https://certprx.adsdcsp.com/IntelSGXRootCA.crl",
     "/sgx/certification/v4/rootcacrl", VT_DOC_ROOT_CRL, VT_TEE_SGX, false},
    {"/sgx/certification/v4/crl?uri=https://api.trustedservices.intel.com/sgx/certification/v3/"
     "pckcrl?ca=processor",
     "/sgx/certification/v4/pckcrl?ca=processor", VT_DOC_PCK_CRL, VT_TEE_SGX, false},
    {"/sgx/certification/v4/crl?uri=https://sbx.api.trustedservices.intel.com/sgx/certification/"
     "v4/pckcrl?ca=Platform",
     "/sgx/certification/v4/pckcrl?ca=platform", VT_DOC_PCK_CRL, VT_TEE_SGX, false},
};

static void test_good_requests(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
        struct vt_cache_req r;
        struct vt_diag d;
        vt_diag_init(&d);
        enum vt_err err = vt_cache_req_from_key(goods[i].in, &r, &d);
        if (err != VT_OK) {
            fail_msg("%s: %s", goods[i].in, d.detail);
        }
        assert_string_equal(r.key, goods[i].key);
        assert_int_equal(r.kind, goods[i].kind);
        assert_int_equal(r.expect.kind, goods[i].kind);
        if (goods[i].tee != VT_TEE_NONE) {
            assert_int_equal(r.expect.tee, goods[i].tee);
        }
        assert_int_equal(r.pinnable, goods[i].pinnable);
        /* the canonical key is a fixed point */
        struct vt_cache_req again;
        assert_int_equal(vt_cache_req_from_key(r.key, &again, &d), VT_OK);
        assert_string_equal(again.key, r.key);
    }
}

static void test_details(void **state)
{
    (void)state;
    struct vt_cache_req r;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(
        vt_cache_req_from_key("/sgx/certification/v4/pckcrl?ca=processor&encoding=DER", &r, &d),
        VT_OK);
    assert_true(r.want_der);
    assert_int_equal(r.expect.ca, 1);
    assert_string_equal(r.path, "/sgx/certification/v4/pckcrl?ca=processor&encoding=der");
    assert_int_equal(vt_cache_req_from_key("/sgx/certification/v4/rootcacrl", &r, &d), VT_OK);
    assert_string_equal(r.alt_path, "/IntelSGXRootCA.der");
    assert_int_equal(vt_cache_req_from_key("/sgx/certification/v4/tcb?fmspc=00906ed50000", &r, &d),
                     VT_OK);
    assert_true(r.expect.has_fmspc);
    assert_memory_equal(r.expect.fmspc, "\x00\x90\x6e\xd5\x00\x00", 6);
    assert_int_equal(vt_cache_req_from_key("/sgx/certification/v4/pckcert?qeid=00112233"
                                           "&cpusvn=02020202030100050000000000000000"
                                           "&pcesvn=0d00&pceid=0000",
                                           &r, &d),
                     VT_OK);
    assert_string_equal(r.qeid, "00112233");
    /* QCNL's pckcert: qeid, and an all-zero encrypted_ppid when it has none: as if absent */
    assert_int_equal(vt_cache_req_from_key("/sgx/certification/v4/pckcert?qeid=00112233AABB"
                                           "&encrypted_ppid=" ZEROS
                                           "&cpusvn=02020202030100050000000000000000"
                                           "&pcesvn=0d00&pceid=0000",
                                           &r, &d),
                     VT_OK);
    assert_string_equal(r.qeid, "00112233aabb");
    assert_true(r.zero_ppid);
    assert_non_null(strstr(r.key, "encrypted_ppid=&"));
    assert_int_equal(vt_cache_req_from_key("/sgx/certification/v4/pckcert?qeid=00112233"
                                           "&encrypted_ppid=" PPID
                                           "&cpusvn=02020202030100050000000000000000"
                                           "&pcesvn=0d00&pceid=0000",
                                           &r, &d),
                     VT_OK);
    assert_string_equal(r.qeid, "00112233");
    assert_false(r.zero_ppid);
    assert_non_null(strstr(r.key, "encrypted_ppid=0f0f"));
    /* the forms CRLs are sent in: PCCS's hex, PCS's PEM, DER */
    const struct {
        const char *in;
        enum vt_cache_form form;
        unsigned api;
    } forms[] = {
        {"/sgx/certification/v4/rootcacrl", VT_CACHE_FORM_HEX, 4},
        {"/sgx/certification/v3/rootcacrl", VT_CACHE_FORM_HEX, 3},
        {"/sgx/certification/v4/pckcrl?ca=processor", VT_CACHE_FORM_HEX, 4},
        {"/sgx/certification/v4/pckcrl?ca=processor&encoding=PEM", VT_CACHE_FORM_PEM, 4},
        {"/sgx/certification/v4/pckcrl?ca=processor&encoding=der", VT_CACHE_FORM_STORED, 4},
        {"/sgx/certification/v4/crl?uri=https://certificates.trustedservices.intel.com/"
         "IntelSGXRootCA.der",
         VT_CACHE_FORM_STORED, 4},
        {"/sgx/certification/v4/crl?uri=https://api.trustedservices.intel.com/sgx/certification/"
         "v4/pckcrl?ca=processor",
         VT_CACHE_FORM_PEM, 4},
        {"/sgx/certification/v3/tcb?fmspc=00606a000000", VT_CACHE_FORM_STORED, 3},
    };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        assert_int_equal(vt_cache_req_from_key(forms[i].in, &r, &d), VT_OK);
        assert_int_equal(r.form, forms[i].form);
        assert_int_equal(r.api, forms[i].api);
    }
    assert_int_equal(vt_cache_req_from_key(
                         "/vcek/v1/Milan/" HWID "?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115", &r, &d),
                     VT_OK);
    assert_int_equal(r.expect.product, VT_SNP_MILAN);
    assert_int_equal(r.expect.hwid_len, 64);
    assert_int_equal(r.expect.ucode, 115);
    assert_int_equal(vt_cache_req_from_key("/vcek/v1/Turin/0123456789abcdef?fmcSPL=04&blSPL=01"
                                           "&teeSPL=00&snpSPL=02&ucodeSPL=03",
                                           &r, &d),
                     VT_OK);
    assert_int_equal(r.expect.product, VT_SNP_TURIN);
    assert_int_equal(r.expect.hwid_len, 8);
    assert_memory_equal(r.expect.hwid, "\x01\x23\x45\x67\x89\xab\xcd\xef", 8);
    assert_int_equal(r.expect.fmc, 4);
    assert_int_equal(r.expect.bl, 1);
    assert_int_equal(r.expect.ucode, 3);
    /* the refusals say which hwID form the product takes */
    assert_int_equal(vt_cache_req_from_key("/vcek/v1/Turin/" TURIN_CHIP_ID "?blSPL=2", &r, &d),
                     VT_E_NOT_FOUND);
    assert_non_null(strstr(d.detail, "first 8 bytes of CHIP_ID (16 hex characters)"));
    assert_int_equal(vt_cache_req_from_key("/vcek/v1/Genoa/0123456789abcdef", &r, &d),
                     VT_E_NOT_FOUND);
    assert_non_null(strstr(d.detail, "Genoa's hwID is the whole 64-byte CHIP_ID"));
}

struct bad {
    const char *in;
    enum vt_err err;
    const char *check; /* the parameter named */
};

static const struct bad bads[] = {
    {"/sgx/certification/v4/tcb", VT_E_MISSING_FIELD, "fmspc"},
    {"/sgx/certification/v4/tcb?fmspc=00906ed5000", VT_E_BAD_FIELD, "fmspc"},
    {"/sgx/certification/v4/tcb?fmspc=00906ed5000g", VT_E_BAD_FIELD, "fmspc"},
    {"/sgx/certification/v4/tcb?fmspc=00906ed50000&update=late", VT_E_BAD_FIELD, "update"},
    {"/sgx/certification/v4/tcb?fmspc=00906ed50000&tcbEvaluationDataNumber=x", VT_E_BAD_FIELD,
     "tcbEvaluationDataNumber"},
    {"/sgx/certification/v4/tcb?fmspc=00906ed50000&tcbEvaluationDataNumber=0", VT_E_BAD_FIELD,
     "tcbEvaluationDataNumber"},
    {"/sgx/certification/v4/pckcrl", VT_E_BAD_FIELD, "ca"},
    {"/sgx/certification/v4/pckcrl?ca=root", VT_E_BAD_FIELD, "ca"},
    {"/sgx/certification/v4/pckcrl?ca=processor&encoding=xml", VT_E_BAD_FIELD, "encoding"},
    {"/sgx/certification/v4/fmspcs?platform=E7", VT_E_BAD_FIELD, "platform"},
    {"/sgx/certification/v4/pckcert?encrypted_ppid=" PPID "&pcesvn=0d00&pceid=0000",
     VT_E_MISSING_FIELD, "cpusvn"},
    {"/sgx/certification/v4/pckcert?encrypted_ppid=00&cpusvn=02020202030100050000000000000000"
     "&pcesvn=0d00&pceid=0000",
     VT_E_BAD_FIELD, "encrypted_ppid"},
    {"/sgx/certification/v4/pckcert?qeid=" PPID "&cpusvn=02020202030100050000000000000000"
     "&pcesvn=0d00&pceid=0000",
     VT_E_BAD_FIELD, "qeid"},
    {"/sgx/certification/v4/pckcerts?encrypted_ppid=" PPID, VT_E_MISSING_FIELD, "pceid"},
    {"/tdx/certification/v4/qve/identity", VT_E_NOT_FOUND, "path"},
    {"/tdx/certification/v4/fmspcs", VT_E_NOT_FOUND, "path"},
    {"/sgx/certification/v3/tcb?fmspc=00906ed50000&tcbEvaluationDataNumber=17", VT_E_BAD_FIELD,
     "tcbEvaluationDataNumber"},
    {"/sgx/certification/v4/qe/identity?update=standardish", VT_E_BAD_FIELD, "update"},
    {"/tdx/certification/v3/tcb?fmspc=00906ed50000", VT_E_NOT_FOUND, "path"},
    {"/sgx/certification/v3/pckcerts?encrypted_ppid=" PPID "&pceid=0000", VT_E_NOT_FOUND, "path"},
    {"/sgx/certification/v3/fmspcs", VT_E_NOT_FOUND, "path"},
    {"/sgx/certification/v3/tcbevaluationdatanumbers", VT_E_NOT_FOUND, "path"},
    {"/sgx/certification/v2/tcb?fmspc=00906ed50000", VT_E_NOT_FOUND, "path"},
    {"/tdx/certification/v4/crl?uri=https://certificates.trustedservices.intel.com/"
     "IntelSGXRootCA.der",
     VT_E_NOT_FOUND, "path"},
    {"/sgx/certification/v4/crl", VT_E_MISSING_FIELD, "uri"},
    {"/sgx/certification/v4/crl?uri=http://certificates.trustedservices.intel.com/"
     "IntelSGXRootCA.der",
     VT_E_BAD_FIELD, "uri"},
    {"/sgx/certification/v4/crl?uri=https://certificates.trustedservices.intel.com.evil.example/"
     "IntelSGXRootCA.der",
     VT_E_BAD_FIELD, "uri"},
    {"/sgx/certification/v4/crl?uri=https://evil.example/certificates.trustedservices.intel.com/"
     "IntelSGXRootCA.der",
     VT_E_BAD_FIELD, "uri"},
    {"/sgx/certification/v4/crl?uri=https://certificates.trustedservices.intel.com/"
     "IntelSGXRootCA.",
     VT_E_BAD_FIELD, "uri"},
    {"/sgx/certification/v4/crl?uri=https://api.trustedservices.intel.com/sgx/certification/v4/"
     "pckcrl?encoding=der",
     VT_E_BAD_FIELD, "uri"},
    {"/sgx/certification/v4/crl?uri=https://api.trustedservices.intel.com/sgx/certification/v4/"
     "pckcrl?ca=processor;encoding=xml",
     VT_E_BAD_FIELD, "uri"},
    {"/sgx/certification/v4/crl?uri=https://api.trustedservices.intel.com/sgx/certification/v0/"
     "pckcrl?ca=processor",
     VT_E_BAD_FIELD, "uri"},
    {"/sgx/certification/v4/crl?uri=https://a.b.az.sgxprod.adsdcsp.com/sgx/certification/v4/"
     "pckcrl?ca=processor",
     VT_E_BAD_FIELD, "uri"},
    {"/sgx/certification/v4/pckcert?qeid=00112233&cpusvn=02020202030100050000000000000000"
     "&pcesvn=0d00",
     VT_E_MISSING_FIELD, "pceid"},
    {"/sgx/certification/v4/", VT_E_NOT_FOUND, "path"},
    {"/vcek/v1/Naples/cert_chain", VT_E_BAD_FIELD, "product"},
    {"/vcek/v1/Milan", VT_E_NOT_FOUND, "path"},
    {"/vcek/v1/Milan/abcd?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115", VT_E_BAD_FIELD, "hwid"},
    {"/vcek/v1/Milan/" HWID "zz?blSPL=3", VT_E_BAD_FIELD, "hwid"},
    {"/vcek/v1/Genoa/" HWID "?blSPL=256&teeSPL=0&snpSPL=8&ucodeSPL=1", VT_E_BAD_FIELD, "blSPL"},
    {"/vcek/v1/Milan/" HWID "?blSPL=3&teeSPL=&snpSPL=8&ucodeSPL=1", VT_E_BAD_FIELD, "teeSPL"},
    {"/vcek/v1/Milan/" HWID "?snpSPL=-1", VT_E_BAD_FIELD, "snpSPL"},
    {"/vcek/v1/Milan/" HWID "?ucodeSPL=0x10", VT_E_BAD_FIELD, "ucodeSPL"},
    {"/vcek/v1/Turin/0123456789abcdef?fmcSPL=300", VT_E_BAD_FIELD, "fmcSPL"},
    {"/vcek/v1/Turin/0123456789abcd?fmcSPL=1", VT_E_BAD_FIELD, "hwid"},
    /* go-sev-guest (v0.14): the whole CHIP_ID under Turin, no fmcSPL, SPLs in Milan's layout:
     * KDS answers 404 (it keys Turin VCEKs by the first 8 bytes) */
    {"/vcek/v1/Turin/" TURIN_CHIP_ID "?blSPL=2&teeSPL=4&snpSPL=0&ucodeSPL=219", VT_E_NOT_FOUND,
     "hwid"},
    {"/vcek/v1/Milan/0123456789abcdef?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115", VT_E_NOT_FOUND,
     "hwid"},
    {"/vlek/v1/Milan/" HWID "?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115", VT_E_NOT_FOUND, "path"},
    /* go-sev-guest's VLEKCertURL: needs the CSP's credentials at KDS */
    {"/vlek/v1/Milan/cert?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115", VT_E_NOT_FOUND, "path"},
    {"/healthz", VT_E_NOT_FOUND, "path"},
};

static void test_bad_requests(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        struct vt_cache_req r;
        struct vt_diag d;
        vt_diag_init(&d);
        enum vt_err err = vt_cache_req_from_key(bads[i].in, &r, &d);
        if (err != bads[i].err || strcmp(d.check, bads[i].check) != 0) {
            fail_msg("%s: got %s (%s: %s), want %s (%s)", bads[i].in, vt_err_name(err), d.check,
                     d.detail, vt_err_name(bads[i].err), bads[i].check);
        }
        assert_true(d.detail[0] != '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_requests),
        cmocka_unit_test(test_details),
        cmocka_unit_test(test_bad_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
