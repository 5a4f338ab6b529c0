/*
 * vt_tcb_info_parse: every real TCB info in the fixtures parses, its body span is exactly what
 * Intel signed (checked here with OpenSSL against the TCB Signing key), levels come out in QVL's
 * order, FMSPC matches the set; synthetic documents cover v2, v3 SGX and TDX, and every reject
 * path with its exact code and the JSON path of the offending field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <dirent.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include "internal.h"

#include "vt_fixtures.h"

/* ---- synthetic documents ---- */

#define SIG_HEX                                                                                    \
    "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"                             \
    "2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40"

static json_t *components(const int svn[16])
{
    json_t *a = json_array();
    for (int i = 0; i < 16; i++) {
        json_t *c = json_pack("{s:i}", "svn", svn[i]);
        if (i == 0) {
            json_object_set_new(c, "category", json_string("BIOS"));
            json_object_set_new(c, "type", json_string("Early Microcode Update"));
        }
        json_array_append_new(a, c);
    }
    return a;
}

/* A v3 level; tdx may be NULL (SGX). */
static json_t *level_v3(int sgx0, int sgx1, int pcesvn, const int *tdx0, const char *status)
{
    int sgx[16] = {sgx0, sgx1, 2, 2, 3, 1, 0, 3};
    json_t *tcb = json_pack("{s:o,s:i}", "sgxtcbcomponents", components(sgx), "pcesvn", pcesvn);
    if (tdx0 != NULL) {
        int tdx[16] = {*tdx0, 0, 2};
        json_object_set_new(tcb, "tdxtcbcomponents", components(tdx));
    }
    return json_pack("{s:o,s:s,s:s}", "tcb", tcb, "tcbDate", "2024-03-13T00:00:00Z", "tcbStatus",
                     status);
}

static json_t *isv_level(int isvsvn, const char *status)
{
    return json_pack("{s:{s:i},s:s,s:s}", "tcb", "isvsvn", isvsvn, "tcbDate",
                     "2023-08-09T00:00:00Z", "tcbStatus", status);
}

static json_t *module_identity(const char *id)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:[o,o]}", "id", id, "mrsigner",
                     "000000000000000000000000000000000000000000000000"
                     "000000000000000000000000000000000000000000000000",
                     "attributes", "0000000000000000", "attributesMask", "FFFFFFFFFFFFFFFF",
                     "tcbLevels", isv_level(2, "OutOfDate"), isv_level(4, "UpToDate"));
}

/*
 * A TDX v3 TCB info whose levels are out of QVL order: JSON [1] [0] [3] [2] of the sorted list
 *   sorted[0]: sgx 3,0  pce 5             OutOfDate
 *   sorted[1]: sgx 2,2  pce 13  tdx 1     ConfigurationNeeded
 *   sorted[2]: sgx 2,2  pce 11  tdx 3     UpToDate (two advisories)
 *   sorted[3]: sgx 2,2  pce 11  tdx 2     OutOfDate
 */
static json_t *tdx_doc(void)
{
    int t1 = 1, t2 = 2, t3 = 3;
    json_t *l_up = level_v3(2, 2, 11, &t3, "UpToDate");
    json_object_set_new(l_up, "advisoryIDs", json_pack("[s,s]", "INTEL-SA-00960", "INTEL-DOC-1"));
    json_t *info = json_pack(
        "{s:s,s:i,s:s,s:s,s:s,s:s,s:i,s:i,s:{s:s,s:s,s:s},s:[o,o],s:[o,o,o,o]}", "id", "TDX",
        "version", 3, "issueDate", "2025-06-04T09:51:38Z", "nextUpdate", "2025-07-04T09:51:38Z",
        "fmspc", "00806F05a0Bc", "pceId", "0000", "tcbType", 0, "tcbEvaluationDataNumber", 17,
        "tdxModule", "mrsigner",
        "0102030405060708090a0b0c0d0e0f101112131415161718"
        "191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30",
        "attributes", "0000000000000001", "attributesMask", "FFFFFFFFFFFFFFFE",
        "tdxModuleIdentities", module_identity("TDX_03"), module_identity("TDX_01"), "tcbLevels",
        level_v3(2, 2, 11, &t2, "OutOfDate"), l_up, level_v3(2, 2, 13, &t1, "ConfigurationNeeded"),
        level_v3(3, 0, 5, &t1, "OutOfDate"));
    assert_non_null(info);
    return json_pack("{s:o,s:s}", "tcbInfo", info, "signature", SIG_HEX);
}

static json_t *sgx_doc(void)
{
    json_t *doc = tdx_doc();
    json_t *info = json_object_get(doc, "tcbInfo");
    json_object_set_new(info, "id", json_string("SGX"));
    json_object_del(info, "tdxModule");
    json_object_del(info, "tdxModuleIdentities");
    json_t *levels = json_object_get(info, "tcbLevels");
    /* JSON [1] and [0] differed only in tdx components: drop [0]. */
    json_array_remove(levels, 0);
    return doc;
}

static json_t *v2_level(int comp7, int pcesvn, const char *status)
{
    json_t *tcb = json_object();
    for (int i = 1; i <= 16; i++) {
        char key[32];
        snprintf(key, sizeof(key), "sgxtcbcomp%02dsvn", i);
        json_object_set_new(tcb, key, json_integer(i == 7 ? comp7 : i <= 2 ? 14 : 0));
    }
    json_object_set_new(tcb, "pcesvn", json_integer(pcesvn));
    return json_pack("{s:o,s:s,s:s}", "tcb", tcb, "tcbDate", "2024-03-13T00:00:00Z", "tcbStatus",
                     status);
}

static json_t *v2_doc(void)
{
    json_t *info =
        json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:i,s:[o,o,o]}", "version", 2, "issueDate",
                  "2025-06-04T09:25:11Z", "nextUpdate", "2025-07-04T09:25:11Z", "fmspc",
                  "00606a000000", "pceId", "0000", "tcbType", 0, "tcbEvaluationDataNumber", 17,
                  "tcbLevels", v2_level(0, 13, "ConfigurationAndSWHardeningNeeded"),
                  v2_level(1, 13, "SWHardeningNeeded"), v2_level(1, 12, "OutOfDate"));
    return json_pack("{s:o,s:s}", "tcbInfo", info, "signature", SIG_HEX);
}

static char *dump(json_t *doc)
{
    char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null(s);
    return s;
}

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0) {
            return false;
        }
    }
    return true;
}

/* Parse text that must fail with `want` at `path` (the detail's prefix; NULL: don't check). */
static void expect_text(const char *text, size_t len, enum vt_err want, const char *path)
{
    struct vt_tcb_info ti;
    memset(&ti, 0xA5, sizeof(ti));
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_tcb_info_parse((const uint8_t *)text, len, &ti, &d);
    if (err != want) {
        fail_msg("got %s (%s: %s), want %s", vt_err_name(err), d.check, d.detail,
                 vt_err_name(want));
    }
    if (want == VT_OK) {
        vt_tcb_info_cleanup(&ti);
        return;
    }
    assert_int_equal(d.code, want);
    assert_true(all_zero(&ti, sizeof(ti)));
    if (path != NULL && strncmp(d.detail, path, strlen(path)) != 0) {
        fail_msg("detail \"%s\" does not start with \"%s\"", d.detail, path);
    }
    if (path != NULL && d.detail[strlen(path)] != ':') {
        fail_msg("detail \"%s\" names a longer path than \"%s\"", d.detail, path);
    }
}

/* Dump and parse `doc` (consumed). */
static void expect_doc(json_t *doc, enum vt_err want, const char *path)
{
    char *text = dump(doc);
    json_decref(doc);
    expect_text(text, strlen(text), want, path);
    free(text);
}

static json_t *info_of(json_t *doc)
{
    return json_object_get(doc, "tcbInfo");
}

static json_t *level_at(json_t *doc, size_t i)
{
    return json_array_get(json_object_get(info_of(doc), "tcbLevels"), i);
}

static json_t *tcb_at(json_t *doc, size_t i)
{
    return json_object_get(level_at(doc, i), "tcb");
}

static json_t *module_at(json_t *doc, size_t i)
{
    return json_array_get(json_object_get(info_of(doc), "tdxModuleIdentities"), i);
}

/* Replace the first occurrence of `from` in text by `to`; returns a new string. */
static char *replace(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    assert_non_null(at);
    size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return out;
}

static void expect_replaced(json_t *doc, const char *from, const char *to, enum vt_err want,
                            const char *path)
{
    char *text = dump(doc);
    json_decref(doc);
    char *mut = replace(text, from, to);
    expect_text(mut, strlen(mut), want, path);
    free(mut);
    free(text);
}

/* ---- accepted documents ---- */

static void test_tdx_fields(void **state)
{
    (void)state;
    json_t *doc = tdx_doc();
    char *text = dump(doc);
    char *inner = dump(info_of(doc));
    json_decref(doc);
    struct vt_tcb_info ti;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_tcb_info_parse((const uint8_t *)text, strlen(text), &ti, &d) != VT_OK) {
        fail_msg("%s: %s", d.check, d.detail);
    }
    assert_int_equal(ti.version, 3);
    assert_int_equal(ti.tee, VT_TEE_TDX);
    assert_int_equal(ti.issue_date, 1749030698);  /* 2025-06-04T09:51:38Z */
    assert_int_equal(ti.next_update, 1751622698); /* 2025-07-04T09:51:38Z */
    static const uint8_t fmspc[6] = {0x00, 0x80, 0x6f, 0x05, 0xa0, 0xbc};
    assert_memory_equal(ti.fmspc, fmspc, 6);
    assert_int_equal(ti.pceid[0] | ti.pceid[1], 0);
    assert_int_equal(ti.tcb_type, 0);
    assert_int_equal(ti.tcb_eval_num, 17);
    assert_true(ti.has_tdx_module);
    for (int i = 0; i < 48; i++) {
        assert_int_equal(ti.tdx_module_mrsigner[i], i + 1);
    }
    static const uint8_t attr[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    static const uint8_t mask[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
    assert_memory_equal(ti.tdx_module_attributes, attr, 8);
    assert_memory_equal(ti.tdx_module_attributes_mask, mask, 8);
    for (int i = 0; i < 64; i++) {
        assert_int_equal(ti.signature[i], i + 1);
    }
    /* The body is the inner object's exact bytes inside the input. */
    assert_ptr_equal(ti.body, (const uint8_t *)strstr(text, inner));
    assert_int_equal(ti.body_len, strlen(inner));

    /* Module identities in document order, their levels by isvsvn descending. */
    assert_int_equal(ti.n_module_identities, 2);
    assert_string_equal(ti.module_identities[0].id, "TDX_03");
    assert_string_equal(ti.module_identities[1].id, "TDX_01");
    const struct vt_tdx_module_identity *m = &ti.module_identities[1];
    assert_int_equal(m->attributes_mask[0], 0xff);
    assert_int_equal(m->n_levels, 2);
    assert_int_equal(m->levels[0].isvsvn, 4);
    assert_int_equal(m->levels[0].status, VT_TCB_UP_TO_DATE);
    assert_int_equal(m->levels[1].isvsvn, 2);
    assert_int_equal(m->levels[1].status, VT_TCB_OUT_OF_DATE);
    assert_int_equal(m->levels[1].tcb_date, 1691539200); /* 2023-08-09 */

    /* QVL's order. */
    assert_int_equal(ti.n_levels, 4);
    assert_int_equal(ti.levels[0].sgx_components[0], 3);
    assert_int_equal(ti.levels[0].pcesvn, 5);
    assert_int_equal(ti.levels[1].pcesvn, 13);
    assert_int_equal(ti.levels[1].status, VT_TCB_CONFIGURATION_NEEDED);
    assert_int_equal(ti.levels[2].pcesvn, 11);
    assert_int_equal(ti.levels[2].tdx_components[0], 3);
    assert_int_equal(ti.levels[2].tdx_components[2], 2);
    assert_int_equal(ti.levels[2].status, VT_TCB_UP_TO_DATE);
    assert_int_equal(ti.levels[2].n_advisories, 2);
    assert_string_equal(ti.levels[2].advisory_ids[0], "INTEL-SA-00960");
    assert_string_equal(ti.levels[2].advisory_ids[1], "INTEL-DOC-1");
    assert_int_equal(ti.levels[3].tdx_components[0], 2);
    assert_int_equal(ti.levels[3].status, VT_TCB_OUT_OF_DATE);
    assert_int_equal(ti.levels[3].n_advisories, 0);
    assert_null(ti.levels[3].advisory_ids);
    assert_int_equal(ti.levels[3].tcb_date, 1710288000); /* 2024-03-13 */
    static const uint8_t sgx[16] = {2, 2, 2, 2, 3, 1, 0, 3};
    assert_memory_equal(ti.levels[3].sgx_components, sgx, 16);

    vt_tcb_info_cleanup(&ti);
    assert_true(all_zero(&ti, sizeof(ti)));
    vt_tcb_info_cleanup(&ti); /* idempotent */
    vt_tcb_info_cleanup(NULL);
    free(inner);
    free(text);
}

static void test_sgx_v3(void **state)
{
    (void)state;
    json_t *doc = sgx_doc();
    /* tdxtcbcomponents in an SGX TCB info are ignored. */
    char *text = dump(doc);
    json_decref(doc);
    struct vt_tcb_info ti;
    struct vt_diag d;
    assert_int_equal(vt_tcb_info_parse((const uint8_t *)text, strlen(text), &ti, &d), VT_OK);
    assert_int_equal(ti.tee, VT_TEE_SGX);
    assert_false(ti.has_tdx_module);
    assert_int_equal(ti.n_module_identities, 0);
    assert_null(ti.module_identities);
    assert_int_equal(ti.n_levels, 3);
    assert_int_equal(ti.levels[0].pcesvn, 5);
    assert_int_equal(ti.levels[1].pcesvn, 13);
    assert_int_equal(ti.levels[2].pcesvn, 11);
    for (size_t i = 0; i < ti.n_levels; i++) {
        assert_true(all_zero(ti.levels[i].tdx_components, 16));
    }
    vt_tcb_info_cleanup(&ti);
    free(text);

    /* SGX levels that differ only in their (ignored) TDX components are duplicates. */
    doc = tdx_doc();
    json_object_set_new(info_of(doc), "id", json_string("SGX"));
    expect_doc(doc, VT_E_DUPLICATE, "tcbInfo.tcbLevels");
    /* tdxModule is not required for SGX, nor read. */
    doc = sgx_doc();
    json_object_set_new(info_of(doc), "tdxModule", json_string("ignored"));
    expect_doc(doc, VT_OK, NULL);
}

static void test_v2(void **state)
{
    (void)state;
    json_t *doc = v2_doc();
    char *text = dump(doc);
    json_decref(doc);
    struct vt_tcb_info ti;
    struct vt_diag d;
    if (vt_tcb_info_parse((const uint8_t *)text, strlen(text), &ti, &d) != VT_OK) {
        fail_msg("%s: %s", d.check, d.detail);
    }
    assert_int_equal(ti.version, 2);
    assert_int_equal(ti.tee, VT_TEE_SGX);
    assert_int_equal(ti.n_levels, 3);
    /* comp07 1 before 0; with equal components pcesvn 13 before 12. */
    assert_int_equal(ti.levels[0].sgx_components[6], 1);
    assert_int_equal(ti.levels[0].pcesvn, 13);
    assert_int_equal(ti.levels[0].status, VT_TCB_SW_HARDENING_NEEDED);
    assert_int_equal(ti.levels[1].sgx_components[6], 1);
    assert_int_equal(ti.levels[1].pcesvn, 12);
    assert_int_equal(ti.levels[2].sgx_components[6], 0);
    assert_int_equal(ti.levels[2].status, VT_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
    assert_int_equal(ti.levels[0].sgx_components[0], 14);
    assert_int_equal(ti.levels[0].sgx_components[15], 0);
    vt_tcb_info_cleanup(&ti);
    free(text);

    /* v2 rejects. */
    doc = v2_doc();
    json_object_del(json_object_get(level_at(doc, 1), "tcb"), "sgxtcbcomp16svn");
    expect_doc(doc, VT_E_MISSING_FIELD, "tcbInfo.tcbLevels[1].tcb.sgxtcbcomp16svn");
    doc = v2_doc();
    json_object_set_new(tcb_at(doc, 2), "sgxtcbcomp03svn", json_integer(256));
    expect_doc(doc, VT_E_BAD_FIELD, "tcbInfo.tcbLevels[2].tcb.sgxtcbcomp03svn");
    doc = v2_doc();
    json_object_set_new(info_of(doc), "id", json_string("TDX"));
    expect_doc(doc, VT_E_BAD_FIELD, "tcbInfo.id");
    doc = v2_doc();
    json_object_set_new(info_of(doc), "id", json_string("SGX"));
    expect_doc(doc, VT_OK, NULL);
    doc = v2_doc();
    json_array_append(json_object_get(info_of(doc), "tcbLevels"), level_at(doc, 0));
    expect_doc(doc, VT_E_DUPLICATE, "tcbInfo.tcbLevels");
}

static void test_layout_and_extras(void **state)
{
    (void)state;
    json_t *doc = tdx_doc();
    char *inner = dump(info_of(doc));
    json_decref(doc);
    /* Whitespace, member order, unknown members: the body is still the exact inner text. */
    size_t n = strlen(inner) + 512;
    char *text = malloc(n);
    assert_non_null(text);
    snprintf(text, n,
             " \r\n{ \"extra\" : {\"tcbInfo\":1}, \"signature\" :\t\"%s\" ,\n \"tcbInfo\"  :  %s "
             "\n, \"more\":[]}\n\t ",
             SIG_HEX, inner);
    struct vt_tcb_info ti;
    struct vt_diag d;
    if (vt_tcb_info_parse((const uint8_t *)text, strlen(text), &ti, &d) != VT_OK) {
        fail_msg("%s: %s", d.check, d.detail);
    }
    assert_ptr_equal(ti.body, (const uint8_t *)strstr(text, inner));
    assert_int_equal(ti.body_len, strlen(inner));
    vt_tcb_info_cleanup(&ti);
    free(text);
    free(inner);

    /* Unknown members inside are ignored too. */
    doc = tdx_doc();
    json_object_set_new(info_of(doc), "futureField", json_pack("{s:[i]}", "x", 1));
    json_object_set_new(level_at(doc, 0), "futureField", json_true());
    json_object_set_new(tcb_at(doc, 0), "futureField", json_null());
    expect_doc(doc, VT_OK, NULL);
    /* FMSPC in either case decodes to the same bytes (checked in test_tdx_fields too). */
    doc = tdx_doc();
    json_object_set_new(info_of(doc), "fmspc", json_string("00806f05a0bc"));
    expect_doc(doc, VT_OK, NULL);
    /* Largest values. */
    doc = tdx_doc();
    json_object_set_new(info_of(doc), "tcbEvaluationDataNumber", json_integer(4294967295));
    json_object_set_new(tcb_at(doc, 0), "pcesvn", json_integer(65535));
    expect_doc(doc, VT_OK, NULL);
    /* tdxModuleIdentities may be absent or empty. */
    doc = tdx_doc();
    json_object_del(info_of(doc), "tdxModuleIdentities");
    expect_doc(doc, VT_OK, NULL);
    doc = tdx_doc();
    json_object_set_new(info_of(doc), "tdxModuleIdentities", json_array());
    expect_doc(doc, VT_OK, NULL);
    /* An empty advisory list is fine. */
    doc = tdx_doc();
    json_object_set_new(level_at(doc, 0), "advisoryIDs", json_array());
    expect_doc(doc, VT_OK, NULL);
}

/* ---- rejects ---- */

static void test_missing_fields(void **state)
{
    (void)state;
    static const char *const keys[] = {
        "version",   "id",        "issueDate", "nextUpdate",
        "fmspc",     "pceId",     "tcbType",   "tcbEvaluationDataNumber",
        "tdxModule", "tcbLevels",
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char path[64];
        snprintf(path, sizeof(path), "tcbInfo.%s", keys[i]);
        json_t *doc = tdx_doc();
        assert_int_equal(json_object_del(info_of(doc), keys[i]), 0);
        expect_doc(doc, VT_E_MISSING_FIELD, path);
    }
    static const struct {
        const char *obj; /* "level": tcbLevels[1]; "tcb": its tcb; "mod": identity [1] ... */
        const char *key;
        const char *path;
    } nested[] = {
        {"level", "tcb", "tcbInfo.tcbLevels[1].tcb"},
        {"level", "tcbDate", "tcbInfo.tcbLevels[1].tcbDate"},
        {"level", "tcbStatus", "tcbInfo.tcbLevels[1].tcbStatus"},
        {"tcb", "pcesvn", "tcbInfo.tcbLevels[1].tcb.pcesvn"},
        {"tcb", "sgxtcbcomponents", "tcbInfo.tcbLevels[1].tcb.sgxtcbcomponents"},
        {"tcb", "tdxtcbcomponents", "tcbInfo.tcbLevels[1].tcb.tdxtcbcomponents"},
        {"comp", "svn", "tcbInfo.tcbLevels[1].tcb.sgxtcbcomponents[5].svn"},
        {"module", "mrsigner", "tcbInfo.tdxModule.mrsigner"},
        {"module", "attributes", "tcbInfo.tdxModule.attributes"},
        {"module", "attributesMask", "tcbInfo.tdxModule.attributesMask"},
        {"mod", "id", "tcbInfo.tdxModuleIdentities[1].id"},
        {"mod", "mrsigner", "tcbInfo.tdxModuleIdentities[1].mrsigner"},
        {"mod", "attributes", "tcbInfo.tdxModuleIdentities[1].attributes"},
        {"mod", "attributesMask", "tcbInfo.tdxModuleIdentities[1].attributesMask"},
        {"mod", "tcbLevels", "tcbInfo.tdxModuleIdentities[1].tcbLevels"},
        {"modlevel", "tcbDate", "tcbInfo.tdxModuleIdentities[1].tcbLevels[0].tcbDate"},
        {"modlevel", "tcbStatus", "tcbInfo.tdxModuleIdentities[1].tcbLevels[0].tcbStatus"},
        {"modlevel", "tcb", "tcbInfo.tdxModuleIdentities[1].tcbLevels[0].tcb"},
        {"modtcb", "isvsvn", "tcbInfo.tdxModuleIdentities[1].tcbLevels[0].tcb.isvsvn"},
    };
    for (size_t i = 0; i < sizeof(nested) / sizeof(nested[0]); i++) {
        json_t *doc = tdx_doc();
        json_t *obj = NULL;
        json_t *modlevel = json_array_get(json_object_get(module_at(doc, 1), "tcbLevels"), 0);
        if (strcmp(nested[i].obj, "level") == 0) {
            obj = level_at(doc, 1);
        } else if (strcmp(nested[i].obj, "tcb") == 0) {
            obj = tcb_at(doc, 1);
        } else if (strcmp(nested[i].obj, "comp") == 0) {
            obj = json_array_get(json_object_get(tcb_at(doc, 1), "sgxtcbcomponents"), 5);
        } else if (strcmp(nested[i].obj, "module") == 0) {
            obj = json_object_get(info_of(doc), "tdxModule");
        } else if (strcmp(nested[i].obj, "mod") == 0) {
            obj = module_at(doc, 1);
        } else if (strcmp(nested[i].obj, "modlevel") == 0) {
            obj = modlevel;
        } else {
            obj = json_object_get(modlevel, "tcb");
        }
        assert_int_equal(json_object_del(obj, nested[i].key), 0);
        expect_doc(doc, VT_E_MISSING_FIELD, nested[i].path);
    }
    /* Top level. */
    json_t *doc = tdx_doc();
    json_object_del(doc, "signature");
    expect_doc(doc, VT_E_MISSING_FIELD, "signature");
    doc = tdx_doc();
    json_object_del(doc, "tcbInfo");
    expect_doc(doc, VT_E_MISSING_FIELD, NULL);
    expect_text("{}", 2, VT_E_MISSING_FIELD, NULL);
    /* The TCB info of a v2 document has no id; a v3 one must. */
    doc = sgx_doc();
    json_object_del(info_of(doc), "id");
    expect_doc(doc, VT_E_MISSING_FIELD, "tcbInfo.id");
}

/* Set tcbInfo.<key> (or a nested field) to a JSON value given as text. */
static void set_info(json_t *doc, const char *key, const char *value_json)
{
    json_error_t e;
    json_t *v = json_loads(value_json, JSON_DECODE_ANY, &e);
    assert_non_null(v);
    json_object_set_new(info_of(doc), key, v);
}

static void test_wrong_types_and_values(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        const char *value;
        enum vt_err want;
    } top[] = {
        {"version", "\"3\"", VT_E_BAD_FIELD},
        {"version", "3.0", VT_E_BAD_FIELD},
        {"version", "null", VT_E_BAD_FIELD},
        {"id", "1", VT_E_BAD_FIELD},
        {"id", "\"tdx\"", VT_E_BAD_FIELD},
        {"id", "\"SEV\"", VT_E_BAD_FIELD},
        {"id", "\"TDX \"", VT_E_BAD_FIELD},
        {"issueDate", "1749030698", VT_E_BAD_FIELD},
        {"issueDate", "\"2025-06-04\"", VT_E_BAD_FIELD},
        {"issueDate", "\"2025-02-30T00:00:00Z\"", VT_E_BAD_FIELD},
        {"nextUpdate", "\"2025-06-04T09:51:37Z\"", VT_E_BAD_FIELD}, /* before issueDate */
        {"nextUpdate", "\"not a date\"", VT_E_BAD_FIELD},
        {"fmspc", "806050000", VT_E_BAD_FIELD},
        {"fmspc", "\"00806F0500\"", VT_E_BAD_FIELD},
        {"fmspc", "\"00806F05000000\"", VT_E_BAD_FIELD},
        {"fmspc", "\"00806F05000\"", VT_E_BAD_FIELD},
        {"fmspc", "\"00806F05000G\"", VT_E_BAD_FIELD},
        {"fmspc", "\"00806F 050000\"", VT_E_BAD_FIELD},
        {"pceId", "\"000\"", VT_E_BAD_FIELD},
        {"pceId", "\"00000\"", VT_E_BAD_FIELD},
        {"pceId", "0", VT_E_BAD_FIELD},
        {"tcbType", "\"0\"", VT_E_BAD_FIELD},
        {"tcbType", "-1", VT_E_BAD_FIELD},
        {"tcbType", "2147483648", VT_E_BAD_FIELD},
        {"tcbEvaluationDataNumber", "4294967296", VT_E_BAD_FIELD},
        {"tcbEvaluationDataNumber", "-17", VT_E_BAD_FIELD},
        {"tcbEvaluationDataNumber", "17.0", VT_E_BAD_FIELD},
        {"tcbEvaluationDataNumber", "true", VT_E_BAD_FIELD},
        {"tdxModule", "\"x\"", VT_E_BAD_FIELD},
        {"tdxModule", "[]", VT_E_BAD_FIELD},
        {"tdxModuleIdentities", "{}", VT_E_BAD_FIELD},
        {"tdxModuleIdentities", "[3]", VT_E_BAD_FIELD},
        {"tcbLevels", "{}", VT_E_BAD_FIELD},
        {"tcbLevels", "[]", VT_E_BAD_FIELD},
        {"tcbLevels", "[\"x\"]", VT_E_BAD_FIELD},
        {"tcbLevels", "null", VT_E_BAD_FIELD},
    };
    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
        char path[64];
        snprintf(path, sizeof(path), "tcbInfo.%s", top[i].key);
        json_t *doc = tdx_doc();
        set_info(doc, top[i].key, top[i].value);
        size_t plen = strlen(path);
        /* For arrays of bad elements the path goes on with [0]. */
        if (strcmp(top[i].value, "[3]") == 0 || strcmp(top[i].value, "[\"x\"]") == 0) {
            snprintf(path + plen, sizeof(path) - plen, "[0]");
        }
        expect_doc(doc, top[i].want, path);
    }

    /* Level fields. */
    static const struct {
        const char *key;
        const char *value;
        const char *path;
    } lv[] = {
        {"tcb", "[]", "tcbInfo.tcbLevels[2].tcb"},
        {"tcbDate", "\"2024-03-13\"", "tcbInfo.tcbLevels[2].tcbDate"},
        {"tcbDate", "0", "tcbInfo.tcbLevels[2].tcbDate"},
        {"tcbStatus", "1", "tcbInfo.tcbLevels[2].tcbStatus"},
        {"tcbStatus", "\"Foo\"", "tcbInfo.tcbLevels[2].tcbStatus"},
        {"tcbStatus", "\"uptodate\"", "tcbInfo.tcbLevels[2].tcbStatus"},
        {"tcbStatus", "\"\"", "tcbInfo.tcbLevels[2].tcbStatus"},
        {"tcbStatus", "\"None\"", "tcbInfo.tcbLevels[2].tcbStatus"},
        {"tcbStatus", "\"TDRelaunchAdvised\"", "tcbInfo.tcbLevels[2].tcbStatus"},
        {"advisoryIDs", "\"INTEL-SA-00001\"", "tcbInfo.tcbLevels[2].advisoryIDs"},
        {"advisoryIDs", "[1]", "tcbInfo.tcbLevels[2].advisoryIDs[0]"},
        {"advisoryIDs", "[\"A\",\"\"]", "tcbInfo.tcbLevels[2].advisoryIDs[1]"},
        {"advisoryIDs", "[\"INTEL SA\"]", "tcbInfo.tcbLevels[2].advisoryIDs[0]"},
        {"advisoryIDs", "[\"INTEL-SA-\\u00e9\"]", "tcbInfo.tcbLevels[2].advisoryIDs[0]"},
        {"advisoryIDs", "null", "tcbInfo.tcbLevels[2].advisoryIDs"},
    };
    for (size_t i = 0; i < sizeof(lv) / sizeof(lv[0]); i++) {
        json_t *doc = tdx_doc();
        json_error_t e;
        json_object_set_new(level_at(doc, 2), lv[i].key,
                            json_loads(lv[i].value, JSON_DECODE_ANY, &e));
        expect_doc(doc, VT_E_BAD_FIELD, lv[i].path);
    }

    /* tcb fields. */
    static const struct {
        const char *key;
        const char *value;
        const char *path;
    } tcb[] = {
        {"pcesvn", "65536", "tcbInfo.tcbLevels[0].tcb.pcesvn"},
        {"pcesvn", "-1", "tcbInfo.tcbLevels[0].tcb.pcesvn"},
        {"pcesvn", "true", "tcbInfo.tcbLevels[0].tcb.pcesvn"},
        {"pcesvn", "\"13\"", "tcbInfo.tcbLevels[0].tcb.pcesvn"},
        {"sgxtcbcomponents", "{}", "tcbInfo.tcbLevels[0].tcb.sgxtcbcomponents"},
        {"sgxtcbcomponents", "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]",
         "tcbInfo.tcbLevels[0].tcb.sgxtcbcomponents[0]"},
        {"tdxtcbcomponents", "[]", "tcbInfo.tcbLevels[0].tcb.tdxtcbcomponents"},
    };
    for (size_t i = 0; i < sizeof(tcb) / sizeof(tcb[0]); i++) {
        json_t *doc = tdx_doc();
        json_error_t e;
        json_object_set_new(tcb_at(doc, 0), tcb[i].key,
                            json_loads(tcb[i].value, JSON_DECODE_ANY, &e));
        expect_doc(doc, VT_E_BAD_FIELD, tcb[i].path);
    }

    /* Component entries. */
    static const struct {
        const char *key;
        const char *value;
    } comp[] = {
        {"svn", "256"},  {"svn", "-1"},     {"svn", "\"1\""}, {"svn", "1.5"},
        {"svn", "null"}, {"category", "5"}, {"type", "null"}, {"type", "[]"},
    };
    for (size_t i = 0; i < sizeof(comp) / sizeof(comp[0]); i++) {
        json_t *doc = tdx_doc();
        json_error_t e;
        json_t *c = json_array_get(json_object_get(tcb_at(doc, 3), "tdxtcbcomponents"), 15);
        json_object_set_new(c, comp[i].key, json_loads(comp[i].value, JSON_DECODE_ANY, &e));
        char path[96];
        snprintf(path, sizeof(path), "tcbInfo.tcbLevels[3].tcb.tdxtcbcomponents[15].%s",
                 comp[i].key);
        expect_doc(doc, VT_E_BAD_FIELD, path);
    }
    /* 15 or 17 components. */
    for (int extra = -1; extra <= 1; extra += 2) {
        json_t *doc = tdx_doc();
        json_t *a = json_object_get(tcb_at(doc, 1), "sgxtcbcomponents");
        if (extra < 0) {
            json_array_remove(a, 0);
        } else {
            json_array_append_new(a, json_pack("{s:i}", "svn", 0));
        }
        expect_doc(doc, VT_E_BAD_FIELD, "tcbInfo.tcbLevels[1].tcb.sgxtcbcomponents");
    }
    /* A level that is not an object. */
    json_t *doc = tdx_doc();
    json_array_set_new(json_object_get(info_of(doc), "tcbLevels"), 1, json_integer(5));
    expect_doc(doc, VT_E_BAD_FIELD, "tcbInfo.tcbLevels[1]");
    /* The value is in the detail, and the check is the path without indices. */
    doc = tdx_doc();
    json_object_set_new(tcb_at(doc, 3), "pcesvn", json_integer(70000));
    char *text = dump(doc);
    json_decref(doc);
    struct vt_tcb_info ti;
    struct vt_diag d;
    assert_int_equal(vt_tcb_info_parse((const uint8_t *)text, strlen(text), &ti, &d),
                     VT_E_BAD_FIELD);
    assert_string_equal(d.check, "tcbInfo.tcbLevels.tcb.pcesvn");
    assert_non_null(strstr(d.detail, "tcbInfo.tcbLevels[3].tcb.pcesvn"));
    assert_non_null(strstr(d.detail, "70000"));
    free(text);
}

static void test_hex_fields(void **state)
{
    (void)state;
    static const struct {
        const char *obj;
        const char *key;
        size_t digits;
        const char *path;
    } hex[] = {
        {"module", "mrsigner", 96, "tcbInfo.tdxModule.mrsigner"},
        {"module", "attributes", 16, "tcbInfo.tdxModule.attributes"},
        {"module", "attributesMask", 16, "tcbInfo.tdxModule.attributesMask"},
        {"mod", "mrsigner", 96, "tcbInfo.tdxModuleIdentities[0].mrsigner"},
        {"mod", "attributes", 16, "tcbInfo.tdxModuleIdentities[0].attributes"},
        {"mod", "attributesMask", 16, "tcbInfo.tdxModuleIdentities[0].attributesMask"},
        {"doc", "signature", 128, "signature"},
    };
    for (size_t i = 0; i < sizeof(hex) / sizeof(hex[0]); i++) {
        /* one digit short, one too many, two too many, one bad digit, not a string */
        for (int variant = 0; variant < 5; variant++) {
            char value[160];
            size_t n = hex[i].digits +
                       (variant == 1   ? 1
                        : variant == 2 ? 2
                                       : 0) -
                       (variant == 0 ? 1 : 0);
            memset(value, 'a', n);
            value[n] = '\0';
            if (variant == 3) {
                value[n / 2] = 'g';
            }
            json_t *doc = tdx_doc();
            json_t *obj = strcmp(hex[i].obj, "module") == 0
                              ? json_object_get(info_of(doc), "tdxModule")
                          : strcmp(hex[i].obj, "mod") == 0 ? module_at(doc, 0)
                                                           : doc;
            json_object_set_new(obj, hex[i].key,
                                variant == 4 ? json_integer(0) : json_string(value));
            expect_doc(doc, VT_E_BAD_FIELD, hex[i].path);
        }
    }
}

static void test_isv_levels(void **state)
{
    (void)state;
    /* Module identity levels: only UpToDate, OutOfDate, Revoked. */
    static const char *const bad[] = {"SWHardeningNeeded", "ConfigurationNeeded",
                                      "OutOfDateConfigurationNeeded", "TDRelaunchAdvised",
                                      "Uptodate"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *doc = tdx_doc();
        json_t *l = json_array_get(json_object_get(module_at(doc, 0), "tcbLevels"), 1);
        json_object_set_new(l, "tcbStatus", json_string(bad[i]));
        expect_doc(doc, VT_E_BAD_FIELD, "tcbInfo.tdxModuleIdentities[0].tcbLevels[1].tcbStatus");
    }
    json_t *doc = tdx_doc();
    json_t *l = json_array_get(json_object_get(module_at(doc, 0), "tcbLevels"), 1);
    json_object_set_new(l, "tcbStatus", json_string("Revoked"));
    expect_doc(doc, VT_OK, NULL);
    /* isvsvn range and type. */
    static const char *const svn[] = {"65536", "-1", "\"4\"", "4.0"};
    for (size_t i = 0; i < sizeof(svn) / sizeof(svn[0]); i++) {
        doc = tdx_doc();
        l = json_array_get(json_object_get(module_at(doc, 1), "tcbLevels"), 0);
        json_error_t e;
        json_object_set_new(json_object_get(l, "tcb"), "isvsvn",
                            json_loads(svn[i], JSON_DECODE_ANY, &e));
        expect_doc(doc, VT_E_BAD_FIELD, "tcbInfo.tdxModuleIdentities[1].tcbLevels[0].tcb.isvsvn");
    }
    /* Two levels with one isvsvn. */
    doc = tdx_doc();
    json_array_append_new(json_object_get(module_at(doc, 1), "tcbLevels"), isv_level(4, "Revoked"));
    expect_doc(doc, VT_E_DUPLICATE, "tcbInfo.tdxModuleIdentities[1].tcbLevels");
    /* Empty levels. */
    doc = tdx_doc();
    json_object_set_new(module_at(doc, 1), "tcbLevels", json_array());
    expect_doc(doc, VT_E_BAD_FIELD, "tcbInfo.tdxModuleIdentities[1].tcbLevels");
    /* Identity ids: duplicates regardless of case, length, characters. */
    doc = tdx_doc();
    json_array_append_new(json_object_get(info_of(doc), "tdxModuleIdentities"),
                          module_identity("tdx_01"));
    expect_doc(doc, VT_E_DUPLICATE, "tcbInfo.tdxModuleIdentities[2]");
    static const char *const ids[] = {"", "TDX_0123456789AB", "TDX 01", "TDX_\xc3\xa9"};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        doc = tdx_doc();
        json_object_set_new(module_at(doc, 1), "id", json_string(ids[i]));
        expect_doc(doc, VT_E_BAD_FIELD, "tcbInfo.tdxModuleIdentities[1].id");
    }
    doc = tdx_doc();
    json_object_set_new(module_at(doc, 1), "id", json_string("TDX_0123456789A")); /* 15 */
    expect_doc(doc, VT_OK, NULL);
}

static void test_versions(void **state)
{
    (void)state;
    static const int bad[] = {0, 1, 4, -3, 1000};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *doc = tdx_doc();
        json_object_set_new(info_of(doc), "version", json_integer(bad[i]));
        expect_doc(doc, VT_E_UNSUPPORTED_VERSION, "tcbInfo.version");
    }
    /* Version 2 with a v3 body: the flat fields are missing. */
    json_t *doc = sgx_doc();
    json_object_set_new(info_of(doc), "version", json_integer(2));
    expect_doc(doc, VT_E_MISSING_FIELD, "tcbInfo.tcbLevels[0].tcb.sgxtcbcomp01svn");
    /* Version 3 with a v2 body. */
    doc = v2_doc();
    json_object_set_new(info_of(doc), "version", json_integer(3));
    json_object_set_new(info_of(doc), "id", json_string("SGX"));
    expect_doc(doc, VT_E_MISSING_FIELD, "tcbInfo.tcbLevels[0].tcb.sgxtcbcomponents");
}

static void test_duplicates(void **state)
{
    (void)state;
    /* An identical level. */
    json_t *doc = tdx_doc();
    json_array_append(json_object_get(info_of(doc), "tcbLevels"), level_at(doc, 2));
    expect_doc(doc, VT_E_DUPLICATE, "tcbInfo.tcbLevels");
    /* Same key, other status and date: still one level twice. */
    doc = tdx_doc();
    int t2 = 2;
    json_t *twin = level_v3(2, 2, 11, &t2, "Revoked");
    json_object_set_new(twin, "tcbDate", json_string("2020-01-01T00:00:00Z"));
    json_array_append_new(json_object_get(info_of(doc), "tcbLevels"), twin);
    expect_doc(doc, VT_E_DUPLICATE, "tcbInfo.tcbLevels");
    /* Duplicate member names, inside and at the top. */
    expect_replaced(tdx_doc(), "\"tcbType\":0,", "\"tcbType\":0,\"tcbType\":0,", VT_E_DUPLICATE,
                    NULL);
    expect_replaced(tdx_doc(), "\"pcesvn\":11", "\"pcesvn\":11,\"pcesvn\":12", VT_E_DUPLICATE,
                    NULL);
    expect_replaced(tdx_doc(),
                    "\"signature\":", "\"signature\":\"00\",\"signature\":", VT_E_DUPLICATE, NULL);
    expect_replaced(tdx_doc(), "\"signature\":", "\"tcbInfo\":{},\"signature\":", VT_E_DUPLICATE,
                    NULL);
    /* An escaped twin of a name is a duplicate too (jansson compares unescaped names). */
    expect_replaced(tdx_doc(),
                    "\"signature\":", "\"tcb\\u0049nfo\":{},\"signature\":", VT_E_DUPLICATE, NULL);
    expect_replaced(tdx_doc(), "\"tcbType\":0,", "\"tcbType\":0,\"tcb\\u0054ype\":1,",
                    VT_E_DUPLICATE, NULL);
}

static void test_json_level(void **state)
{
    (void)state;
    json_t *doc = tdx_doc();
    char *text = dump(doc);
    json_decref(doc);
    size_t n = strlen(text);
    char *buf = malloc(n + 16);
    assert_non_null(buf);
    /* Trailing whitespace is fine, anything else is not. */
    snprintf(buf, n + 16, "%s \n", text);
    expect_text(buf, strlen(buf), VT_OK, NULL);
    static const char *const tails[] = {"x", "{}", ",", "\"\"", "0", "\0"};
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        memcpy(buf, text, n);
        size_t tl = tails[i][0] == '\0' ? 1 : strlen(tails[i]);
        memcpy(buf + n, tails[i], tl);
        expect_text(buf, n + tl, VT_E_BAD_JSON, NULL);
    }
    /* Truncated at every byte. */
    for (size_t cut = 0; cut < n; cut++) {
        expect_text(text, cut, VT_E_BAD_JSON, NULL);
    }
    free(buf);
    free(text);
    /* Not an object, or the members of the wrong type. */
    expect_text("[]", 2, VT_E_BAD_JSON, NULL);
    expect_text("", 0, VT_E_BAD_JSON, NULL);
    char sig_doc[256];
    snprintf(sig_doc, sizeof(sig_doc), "{\"tcbInfo\":\"x\",\"signature\":\"%s\"}", SIG_HEX);
    expect_text(sig_doc, strlen(sig_doc), VT_E_BAD_FIELD, "tcbInfo");
    snprintf(sig_doc, sizeof(sig_doc), "{\"tcbInfo\":[],\"signature\":\"%s\"}", SIG_HEX);
    expect_text(sig_doc, strlen(sig_doc), VT_E_BAD_FIELD, "tcbInfo");
    /* NUL in a string, numbers beyond 64 bits. */
    expect_replaced(tdx_doc(), "\"pceId\":\"0000\"", "\"pceId\":\"00\\u000000\"", VT_E_BAD_JSON,
                    NULL);
    expect_replaced(tdx_doc(), "\"tcbType\":0", "\"tcbType\":99999999999999999999999",
                    VT_E_BAD_JSON, NULL);
    expect_replaced(tdx_doc(), "\"tcbType\":0", "\"tcbType\":1e999", VT_E_BAD_JSON, NULL);
    /* Invalid UTF-8. */
    expect_replaced(tdx_doc(), "\"pceId\":\"0000\"", "\"pceId\":\"\xc0\xaf\"", VT_E_BAD_JSON, NULL);
    /* NULL arguments. */
    struct vt_diag d;
    struct vt_tcb_info ti;
    assert_int_equal(vt_tcb_info_parse(NULL, 10, &ti, &d), VT_E_ARG);
    assert_int_equal(vt_tcb_info_parse((const uint8_t *)"{}", 2, NULL, &d), VT_E_ARG);
    assert_int_equal(vt_tcb_info_parse((const uint8_t *)"{}", 2, &ti, NULL), VT_E_MISSING_FIELD);
}

static void test_depth_bomb(void **state)
{
    (void)state;
    /* Deep nesting in an ignored member, inside and at the top. */
    for (int inside = 0; inside < 2; inside++) {
        size_t depth = 100000;
        char *bomb = malloc(2 * depth + 1);
        assert_non_null(bomb);
        memset(bomb, '[', depth);
        memset(bomb + depth, ']', depth);
        bomb[2 * depth] = '\0';
        char *member = malloc(2 * depth + 32);
        assert_non_null(member);
        snprintf(member, 2 * depth + 32, inside ? "\"tcbType\":0,\"deep\":%s," : "\"deep\":%s,",
                 bomb);
        expect_replaced(tdx_doc(), inside ? "\"tcbType\":0," : "\"signature\":", member,
                        VT_E_TOO_LARGE, NULL);
        free(member);
        free(bomb);
    }
    /* One level past the limit is refused, the limit itself accepted. */
    for (int depth = VT_MAX_JSON_DEPTH; depth <= VT_MAX_JSON_DEPTH + 1; depth++) {
        char member[128];
        /* The member sits in tcbInfo (level 2): n brackets reach level n + 2 = depth. */
        int n = depth - 2;
        size_t o = (size_t)snprintf(member, sizeof(member), "\"tcbType\":0,\"deep\":");
        for (int i = 0; i < n; i++) {
            member[o++] = '[';
        }
        for (int i = 0; i < n; i++) {
            member[o++] = ']';
        }
        snprintf(member + o, sizeof(member) - o, ",");
        expect_replaced(tdx_doc(), "\"tcbType\":0,", member,
                        depth == VT_MAX_JSON_DEPTH ? VT_OK : VT_E_TOO_LARGE, NULL);
    }
}

static void test_caps(void **state)
{
    (void)state;
    /* VT_MAX_TCB_LEVELS distinct levels are accepted, one more is not. */
    for (int extra = 0; extra <= 1; extra++) {
        json_t *doc = tdx_doc();
        json_t *levels = json_array();
        for (int i = 0; i < VT_MAX_TCB_LEVELS + extra; i++) {
            int t = i % 256;
            json_array_append_new(levels, level_v3(i / 256, 1, 0, &t, "OutOfDate"));
        }
        json_object_set_new(info_of(doc), "tcbLevels", levels);
        expect_doc(doc, extra ? VT_E_TOO_LARGE : VT_OK, extra ? "tcbInfo.tcbLevels" : NULL);
    }
    /* Module identities. */
    for (int extra = 0; extra <= 1; extra++) {
        json_t *doc = tdx_doc();
        json_t *mods = json_array();
        for (int i = 0; i < VT_MAX_MODULE_IDENTITIES + extra; i++) {
            char id[16];
            snprintf(id, sizeof(id), "TDX_%02X", i);
            json_array_append_new(mods, module_identity(id));
        }
        json_object_set_new(info_of(doc), "tdxModuleIdentities", mods);
        expect_doc(doc, extra ? VT_E_TOO_LARGE : VT_OK,
                   extra ? "tcbInfo.tdxModuleIdentities" : NULL);
    }
    /* Levels of a module identity. */
    for (int extra = 0; extra <= 1; extra++) {
        json_t *doc = tdx_doc();
        json_t *levels = json_array();
        for (int i = 0; i < VT_MAX_TCB_LEVELS + extra; i++) {
            json_array_append_new(levels, isv_level(i, "OutOfDate"));
        }
        json_object_set_new(module_at(doc, 0), "tcbLevels", levels);
        expect_doc(doc, extra ? VT_E_TOO_LARGE : VT_OK,
                   extra ? "tcbInfo.tdxModuleIdentities[0].tcbLevels" : NULL);
    }
    /* Advisory IDs: count and length. */
    for (int extra = 0; extra <= 1; extra++) {
        json_t *doc = tdx_doc();
        json_t *ids = json_array();
        for (int i = 0; i < VT_MAX_ADVISORIES + extra; i++) {
            char id[32];
            snprintf(id, sizeof(id), "INTEL-SA-%05d", i);
            json_array_append_new(ids, json_string(id));
        }
        json_object_set_new(level_at(doc, 3), "advisoryIDs", ids);
        expect_doc(doc, extra ? VT_E_TOO_LARGE : VT_OK,
                   extra ? "tcbInfo.tcbLevels[3].advisoryIDs" : NULL);
    }
    for (int extra = 0; extra <= 1; extra++) {
        char id[VT_ADVISORY_ID_MAX + 1];
        memset(id, 'X', sizeof(id));
        id[VT_ADVISORY_ID_MAX - 1 + extra] = '\0';
        json_t *doc = tdx_doc();
        json_object_set_new(level_at(doc, 3), "advisoryIDs", json_pack("[s,s]", "A", id));
        expect_doc(doc, extra ? VT_E_TOO_LARGE : VT_OK,
                   extra ? "tcbInfo.tcbLevels[3].advisoryIDs[1]" : NULL);
    }
    /* Document size. */
    size_t big = VT_MAX_COLLATERAL_SIZE + 1;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, ' ', big);
    text[0] = '{';
    text[1] = '}';
    struct vt_tcb_info ti;
    struct vt_diag d;
    assert_int_equal(vt_tcb_info_parse((const uint8_t *)text, big, &ti, &d), VT_E_TOO_LARGE);
    assert_int_equal(vt_tcb_info_parse((const uint8_t *)text, big - 1, &ti, &d),
                     VT_E_MISSING_FIELD);
    free(text);
}

/* ---- real fixtures ---- */

static bool verify_p256(const char *chain_path, const uint8_t *body, size_t len,
                        const uint8_t sig[64])
{
    FILE *f = fopen(chain_path, "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    ECDSA_SIG *s = ECDSA_SIG_new();
    assert_non_null(s);
    assert_int_equal(ECDSA_SIG_set0(s, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL)), 1);
    unsigned char *der = NULL;
    int der_len = i2d_ECDSA_SIG(s, &der);
    assert_true(der_len > 0);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    int ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, X509_get0_pubkey(x)) == 1 &&
             EVP_DigestVerify(ctx, der, (size_t)der_len, body, len) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(s);
    X509_free(x);
    return ok;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_levels(const struct vt_tcb_level *a, const struct vt_tcb_level *b)
{
    int c = memcmp(a->sgx_components, b->sgx_components, 16);
    if (c == 0) {
        c = (int)a->pcesvn - (int)b->pcesvn;
    }
    if (c == 0) {
        c = memcmp(a->tdx_components, b->tdx_components, 16);
    }
    return c;
}

/* Parse one real document and check it; fmspc_hex/tee from the set's name (NULL/NONE: skip). */
static void check_real(const char *path, const char *chain, const char *fmspc_hex, enum vt_tee tee,
                       int version)
{
    size_t len;
    uint8_t *json = vt_test_read_file(path, &len);
    assert_non_null(json);
    struct vt_tcb_info ti;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_tcb_info_parse(json, len, &ti, &d) != VT_OK) {
        fail_msg("%s: %s: %s: %s", path, vt_err_name(d.code), d.check, d.detail);
    }
    assert_int_equal(ti.version, version);
    /* The body is what Intel signed. */
    if (!verify_p256(chain, ti.body, ti.body_len, ti.signature)) {
        fail_msg("%s: the signature does not verify over the body span", path);
    }
    assert_false(verify_p256(chain, ti.body, ti.body_len - 1, ti.signature));
    assert_true(ti.body > json && ti.body + ti.body_len < json + len);
    /* Counts agree with an independent parse. */
    json_error_t e;
    json_t *root = json_loadb((const char *)json, len, 0, &e);
    assert_non_null(root);
    json_t *info = json_object_get(root, "tcbInfo");
    assert_int_equal(ti.n_levels, json_array_size(json_object_get(info, "tcbLevels")));
    assert_int_equal(ti.tcb_eval_num,
                     json_integer_value(json_object_get(info, "tcbEvaluationDataNumber")));
    /* Strictly descending in QVL's order. */
    for (size_t i = 1; i < ti.n_levels; i++) {
        assert_true(cmp_levels(&ti.levels[i - 1], &ti.levels[i]) > 0);
    }
    if (fmspc_hex != NULL) {
        uint8_t fmspc[6];
        assert_int_equal(vt_hex_decode_exact(fmspc_hex, 12, fmspc, 6), VT_OK);
        assert_memory_equal(ti.fmspc, fmspc, 6);
    }
    if (tee != VT_TEE_NONE) {
        assert_int_equal(ti.tee, tee);
    }
    if (ti.tee == VT_TEE_TDX) {
        assert_true(ti.has_tdx_module);
        json_t *mods = json_object_get(info, "tdxModuleIdentities");
        assert_int_equal(ti.n_module_identities, json_array_size(mods));
        if (json_array_size(mods) > 0) {
            bool has01 = false;
            for (size_t i = 0; i < ti.n_module_identities; i++) {
                const struct vt_tdx_module_identity *m = &ti.module_identities[i];
                has01 = has01 || strcmp(m->id, "TDX_01") == 0;
                assert_true(m->n_levels > 0);
                for (size_t k = 1; k < m->n_levels; k++) {
                    assert_true(m->levels[k - 1].isvsvn > m->levels[k].isvsvn);
                }
            }
            assert_true(has01);
        }
    } else {
        assert_false(ti.has_tdx_module);
        assert_int_equal(ti.n_module_identities, 0);
    }
    json_decref(root);
    vt_tcb_info_cleanup(&ti);
    free(json);
}

static void test_fixtures(void **state)
{
    (void)state;
    const char *root = vt_fixtures_or_skip();
    char dcap[1024], fallback_chain[1200];
    snprintf(dcap, sizeof(dcap), "%s/dcap", root);
    snprintf(fallback_chain, sizeof(fallback_chain),
             "%s/automata-dcap-attestation/sgx-v3-fmspc00606a000000/tcb_info_issuer_chain.pem",
             dcap);
    int count = 0, tdx = 0;
    DIR *src = opendir(dcap);
    assert_non_null(src);
    struct dirent *se;
    while ((se = readdir(src)) != NULL) {
        if (se->d_name[0] == '.') {
            continue;
        }
        char sdir[1400];
        snprintf(sdir, sizeof(sdir), "%s/%s", dcap, se->d_name);
        DIR *sets = opendir(sdir);
        if (sets == NULL) {
            continue;
        }
        struct dirent *e;
        while ((e = readdir(sets)) != NULL) {
            char path[1800], chain[1800];
            snprintf(path, sizeof(path), "%s/%s/tcb_info.json", sdir, e->d_name);
            if (e->d_name[0] == '.' || !file_exists(path)) {
                continue;
            }
            snprintf(chain, sizeof(chain), "%s/%s/tcb_info_issuer_chain.pem", sdir, e->d_name);
            /* A partial set without its chain: Intel's one TCB Signing key signs everything. */
            const char *use_chain = file_exists(chain) ? chain : fallback_chain;
            const char *f = strstr(e->d_name, "fmspc");
            assert_non_null(f);
            char fmspc[13];
            snprintf(fmspc, sizeof(fmspc), "%s", f + 5);
            enum vt_tee tee = strncmp(e->d_name, "tdx-", 4) == 0 ? VT_TEE_TDX : VT_TEE_SGX;
            tdx += tee == VT_TEE_TDX;
            check_real(path, use_chain, fmspc, tee, 3);
            count++;
        }
        closedir(sets);
    }
    closedir(src);
    /* The PCS bodies: the one TCB info among them is v2. */
    char path[1400];
    snprintf(path, sizeof(path), "%s/automata-dcap-attestation/pcs-bodies/0625_tcbinfo.json", dcap);
    check_real(path, fallback_chain, "00606a000000", VT_TEE_SGX, 2);
    count++;
    /* The other PCS bodies are not TCB infos. */
    snprintf(path, sizeof(path), "%s/automata-dcap-attestation/pcs-bodies/0625_identity.json",
             dcap);
    size_t len;
    uint8_t *json = vt_test_read_file(path, &len);
    assert_non_null(json);
    struct vt_tcb_info ti;
    struct vt_diag d;
    assert_int_equal(vt_tcb_info_parse(json, len, &ti, &d), VT_E_MISSING_FIELD);
    free(json);
    print_message("parsed %d real TCB infos (%d TDX)\n", count, tdx);
    assert_true(count >= 10);
    assert_true(tdx >= 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tdx_fields),
        cmocka_unit_test(test_sgx_v3),
        cmocka_unit_test(test_v2),
        cmocka_unit_test(test_layout_and_extras),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_wrong_types_and_values),
        cmocka_unit_test(test_hex_fields),
        cmocka_unit_test(test_isv_levels),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_json_level),
        cmocka_unit_test(test_depth_bomb),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
