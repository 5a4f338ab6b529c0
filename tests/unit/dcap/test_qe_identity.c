/*
 * vt_qe_identity_parse: every real QE identity in the fixtures parses and its body span verifies
 * against Intel's signature (OpenSSL, in the test); synthetic documents cover the fields, the
 * level order, and every reject path with its exact code and JSON path.
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

#define SIG_HEX                                                                                    \
    "4142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60"                             \
    "6162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f80"

static json_t *level(int isvsvn, const char *date, const char *status)
{
    return json_pack("{s:{s:i},s:s,s:s}", "tcb", "isvsvn", isvsvn, "tcbDate", date, "tcbStatus",
                     status);
}

/* An SGX QE identity whose levels are out of order (JSON isvsvn 6, 8, 2). */
static json_t *qe_doc(void)
{
    json_t *l6 = level(6, "2021-11-10T00:00:00Z", "OutOfDate");
    json_object_set_new(l6, "advisoryIDs", json_pack("[s]", "INTEL-SA-00615"));
    json_t *ident =
        json_pack("{s:s,s:i,s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:i,s:[o,o,o]}", "id", "QE", "version",
                  2, "issueDate", "2025-06-04T09:19:32Z", "nextUpdate", "2025-07-04T09:19:32Z",
                  "tcbEvaluationDataNumber", 17, "miscselect", "000000A1", "miscselectMask",
                  "FFFFFFFF", "attributes", "11000000000000000000000000000000", "attributesMask",
                  "FBFFFFFFFFFFFFFF0000000000000000", "mrsigner",
                  "8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BFF", "isvprodid",
                  1, "tcbLevels", l6, level(8, "2024-03-13T00:00:00Z", "UpToDate"),
                  level(2, "2019-01-01T00:00:00Z", "Revoked"));
    assert_non_null(ident);
    return json_pack("{s:o,s:s}", "enclaveIdentity", ident, "signature", SIG_HEX);
}

static json_t *ident_of(json_t *doc)
{
    return json_object_get(doc, "enclaveIdentity");
}

static json_t *level_at(json_t *doc, size_t i)
{
    return json_array_get(json_object_get(ident_of(doc), "tcbLevels"), i);
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

static void expect_text(const char *text, size_t len, enum vt_err want, const char *path)
{
    struct vt_qe_identity qi;
    memset(&qi, 0x5A, sizeof(qi));
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_qe_identity_parse((const uint8_t *)text, len, &qi, &d);
    if (err != want) {
        fail_msg("got %s (%s: %s), want %s", vt_err_name(err), d.check, d.detail,
                 vt_err_name(want));
    }
    if (want == VT_OK) {
        vt_qe_identity_cleanup(&qi);
        return;
    }
    assert_int_equal(d.code, want);
    assert_true(all_zero(&qi, sizeof(qi)));
    if (path != NULL &&
        (strncmp(d.detail, path, strlen(path)) != 0 || d.detail[strlen(path)] != ':')) {
        fail_msg("detail \"%s\" does not name \"%s\"", d.detail, path);
    }
}

static void expect_doc(json_t *doc, enum vt_err want, const char *path)
{
    char *text = dump(doc);
    json_decref(doc);
    expect_text(text, strlen(text), want, path);
    free(text);
}

/* Replace the first `from` in the dumped qe_doc() by `to` and parse. */
static void expect_replaced(const char *from, const char *to, enum vt_err want)
{
    json_t *doc = qe_doc();
    char *text = dump(doc);
    json_decref(doc);
    const char *at = strstr(text, from);
    assert_non_null(at);
    size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
    char *mut = malloc(n);
    assert_non_null(mut);
    snprintf(mut, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    expect_text(mut, strlen(mut), want, NULL);
    free(mut);
    free(text);
}

static void set_field(json_t *obj, const char *key, const char *value_json)
{
    json_error_t e;
    json_t *v = json_loads(value_json, JSON_DECODE_ANY, &e);
    assert_non_null(v);
    json_object_set_new(obj, key, v);
}

static void test_fields(void **state)
{
    (void)state;
    json_t *doc = qe_doc();
    char *text = dump(doc);
    char *inner = dump(ident_of(doc));
    json_decref(doc);
    struct vt_qe_identity qi;
    struct vt_diag d;
    if (vt_qe_identity_parse((const uint8_t *)text, strlen(text), &qi, &d) != VT_OK) {
        fail_msg("%s: %s", d.check, d.detail);
    }
    assert_int_equal(qi.id, VT_IDENTITY_QE);
    assert_int_equal(qi.version, 2);
    assert_int_equal(qi.issue_date, 1749028772); /* 2025-06-04T09:19:32Z */
    assert_int_equal(qi.next_update, 1751620772);
    assert_int_equal(qi.tcb_eval_num, 17);
    static const uint8_t misc[4] = {0, 0, 0, 0xa1};
    assert_memory_equal(qi.miscselect, misc, 4);
    assert_true(qi.miscselect_mask[0] == 0xff && qi.miscselect_mask[3] == 0xff);
    assert_int_equal(qi.attributes[0], 0x11);
    assert_true(all_zero(qi.attributes + 1, 15));
    assert_int_equal(qi.attributes_mask[0], 0xfb);
    assert_int_equal(qi.attributes_mask[7], 0xff);
    assert_true(all_zero(qi.attributes_mask + 8, 8));
    assert_int_equal(qi.mrsigner[0], 0x8c);
    assert_int_equal(qi.mrsigner[31], 0xff);
    assert_int_equal(qi.isvprodid, 1);
    assert_int_equal(qi.signature[0], 0x41);
    assert_int_equal(qi.signature[63], 0x80);
    assert_ptr_equal(qi.body, (const uint8_t *)strstr(text, inner));
    assert_int_equal(qi.body_len, strlen(inner));
    /* isvsvn descending. */
    assert_int_equal(qi.n_levels, 3);
    assert_int_equal(qi.levels[0].isvsvn, 8);
    assert_int_equal(qi.levels[0].status, VT_TCB_UP_TO_DATE);
    assert_int_equal(qi.levels[0].n_advisories, 0);
    assert_int_equal(qi.levels[1].isvsvn, 6);
    assert_int_equal(qi.levels[1].status, VT_TCB_OUT_OF_DATE);
    assert_int_equal(qi.levels[1].tcb_date, 1636502400); /* 2021-11-10 */
    assert_int_equal(qi.levels[1].n_advisories, 1);
    assert_string_equal(qi.levels[1].advisory_ids[0], "INTEL-SA-00615");
    assert_int_equal(qi.levels[2].isvsvn, 2);
    assert_int_equal(qi.levels[2].status, VT_TCB_REVOKED);
    vt_qe_identity_cleanup(&qi);
    assert_true(all_zero(&qi, sizeof(qi)));
    vt_qe_identity_cleanup(&qi);
    vt_qe_identity_cleanup(NULL);
    free(inner);
    free(text);

    /* The four ids. */
    static const struct {
        const char *name;
        enum vt_identity_id id;
    } ids[] = {{"QE", VT_IDENTITY_QE},
               {"QVE", VT_IDENTITY_QVE},
               {"QAE", VT_IDENTITY_QAE},
               {"TD_QE", VT_IDENTITY_TD_QE}};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        doc = qe_doc();
        json_object_set_new(ident_of(doc), "id", json_string(ids[i].name));
        text = dump(doc);
        json_decref(doc);
        assert_int_equal(vt_qe_identity_parse((const uint8_t *)text, strlen(text), &qi, &d), VT_OK);
        assert_int_equal(qi.id, ids[i].id);
        vt_qe_identity_cleanup(&qi);
        free(text);
    }
    /* Unknown members are ignored; hex in lower case; extremes of the ranges. */
    doc = qe_doc();
    set_field(ident_of(doc), "future", "{\"a\":[1,2]}");
    set_field(doc, "future", "true");
    set_field(ident_of(doc), "mrsigner",
              "\"8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff\"");
    set_field(ident_of(doc), "isvprodid", "65535");
    set_field(ident_of(doc), "tcbEvaluationDataNumber", "4294967295");
    set_field(json_object_get(level_at(doc, 1), "tcb"), "isvsvn", "65535");
    set_field(level_at(doc, 2), "advisoryIDs", "[]");
    expect_doc(doc, VT_OK, NULL);
}

static void test_missing(void **state)
{
    (void)state;
    static const char *const keys[] = {
        "id",         "version",        "issueDate",  "nextUpdate",     "tcbEvaluationDataNumber",
        "miscselect", "miscselectMask", "attributes", "attributesMask", "mrsigner",
        "isvprodid",  "tcbLevels",
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char path[64];
        snprintf(path, sizeof(path), "enclaveIdentity.%s", keys[i]);
        json_t *doc = qe_doc();
        assert_int_equal(json_object_del(ident_of(doc), keys[i]), 0);
        expect_doc(doc, VT_E_MISSING_FIELD, path);
    }
    static const char *const level_keys[] = {"tcb", "tcbDate", "tcbStatus"};
    for (size_t i = 0; i < sizeof(level_keys) / sizeof(level_keys[0]); i++) {
        char path[64];
        snprintf(path, sizeof(path), "enclaveIdentity.tcbLevels[1].%s", level_keys[i]);
        json_t *doc = qe_doc();
        json_object_del(level_at(doc, 1), level_keys[i]);
        expect_doc(doc, VT_E_MISSING_FIELD, path);
    }
    json_t *doc = qe_doc();
    json_object_del(json_object_get(level_at(doc, 2), "tcb"), "isvsvn");
    expect_doc(doc, VT_E_MISSING_FIELD, "enclaveIdentity.tcbLevels[2].tcb.isvsvn");
    doc = qe_doc();
    json_object_del(doc, "signature");
    expect_doc(doc, VT_E_MISSING_FIELD, "signature");
    doc = qe_doc();
    json_object_del(doc, "enclaveIdentity");
    expect_doc(doc, VT_E_MISSING_FIELD, NULL);
}

static void test_bad_values(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        const char *value;
    } bad[] = {
        {"id", "\"qe\""},
        {"id", "\"TDX\""},
        {"id", "\"QE \""},
        {"id", "\"\""},
        {"id", "7"},
        {"version", "\"2\""},
        {"version", "2.0"},
        {"issueDate", "\"2025-06-04T25:19:32Z\""},
        {"issueDate", "null"},
        {"nextUpdate", "\"2025-06-04T09:19:31Z\""},
        {"tcbEvaluationDataNumber", "-1"},
        {"tcbEvaluationDataNumber", "4294967296"},
        {"tcbEvaluationDataNumber", "\"17\""},
        {"miscselect", "\"0000000\""},
        {"miscselect", "\"000000000\""},
        {"miscselect", "\"0000000x\""},
        {"miscselect", "0"},
        {"miscselectMask", "\"FFFFFFFFFF\""},
        {"attributes", "\"1100000000000000000000000000000\""},
        {"attributes", "\"110000000000000000000000000000000\""},
        {"attributesMask", "\"FBFFFFFFFFFFFFFF00000000000000\""},
        {"mrsigner", "\"8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57B\""},
        {"mrsigner", "\"8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BFF00\""},
        {"mrsigner", "\"8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BF-\""},
        {"isvprodid", "65536"},
        {"isvprodid", "-1"},
        {"isvprodid", "\"1\""},
        {"isvprodid", "1.5"},
        {"tcbLevels", "[]"},
        {"tcbLevels", "{}"},
        {"tcbLevels", "[null]"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char path[64];
        snprintf(path, sizeof(path), "enclaveIdentity.%s%s", bad[i].key,
                 strcmp(bad[i].value, "[null]") == 0 ? "[0]" : "");
        json_t *doc = qe_doc();
        set_field(ident_of(doc), bad[i].key, bad[i].value);
        expect_doc(doc, VT_E_BAD_FIELD, path);
    }
    /* Level statuses: only UpToDate, OutOfDate, Revoked. */
    static const char *const statuses[] = {"SWHardeningNeeded",
                                           "ConfigurationNeeded",
                                           "ConfigurationAndSWHardeningNeeded",
                                           "OutOfDateConfigurationNeeded",
                                           "TDRelaunchAdvised",
                                           "None",
                                           "outofdate",
                                           ""};
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        json_t *doc = qe_doc();
        json_object_set_new(level_at(doc, 0), "tcbStatus", json_string(statuses[i]));
        expect_doc(doc, VT_E_BAD_FIELD, "enclaveIdentity.tcbLevels[0].tcbStatus");
    }
    /* Level fields. */
    static const struct {
        const char *key;
        const char *value;
        const char *path;
    } lv[] = {
        {"tcb", "1", "enclaveIdentity.tcbLevels[0].tcb"},
        {"tcbDate", "\"2021-11-10T00:00:00\"", "enclaveIdentity.tcbLevels[0].tcbDate"},
        {"advisoryIDs", "[\"\"]", "enclaveIdentity.tcbLevels[0].advisoryIDs[0]"},
        {"advisoryIDs", "[\"A\",{}]", "enclaveIdentity.tcbLevels[0].advisoryIDs[1]"},
        {"advisoryIDs", "{}", "enclaveIdentity.tcbLevels[0].advisoryIDs"},
    };
    for (size_t i = 0; i < sizeof(lv) / sizeof(lv[0]); i++) {
        json_t *doc = qe_doc();
        set_field(level_at(doc, 0), lv[i].key, lv[i].value);
        expect_doc(doc, VT_E_BAD_FIELD, lv[i].path);
    }
    static const char *const svns[] = {"65536", "-8", "\"8\"", "true"};
    for (size_t i = 0; i < sizeof(svns) / sizeof(svns[0]); i++) {
        json_t *doc = qe_doc();
        set_field(json_object_get(level_at(doc, 1), "tcb"), "isvsvn", svns[i]);
        expect_doc(doc, VT_E_BAD_FIELD, "enclaveIdentity.tcbLevels[1].tcb.isvsvn");
    }
    /* The signature. */
    static const char *const sigs[] = {"\"00\"", "1", "null", "\"" SIG_HEX "0\"",
                                       "\"" SIG_HEX "00\""};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        json_t *doc = qe_doc();
        set_field(doc, "signature", sigs[i]);
        expect_doc(doc, VT_E_BAD_FIELD, "signature");
    }
    /* The value shows in the detail. */
    json_t *doc = qe_doc();
    set_field(ident_of(doc), "isvprodid", "123456");
    char *text = dump(doc);
    json_decref(doc);
    struct vt_qe_identity qi;
    struct vt_diag d;
    assert_int_equal(vt_qe_identity_parse((const uint8_t *)text, strlen(text), &qi, &d),
                     VT_E_BAD_FIELD);
    assert_string_equal(d.check, "enclaveIdentity.isvprodid");
    assert_non_null(strstr(d.detail, "123456"));
    free(text);
}

static void test_versions_dups_caps(void **state)
{
    (void)state;
    static const int versions[] = {1, 3, 0, -2};
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        json_t *doc = qe_doc();
        json_object_set_new(ident_of(doc), "version", json_integer(versions[i]));
        expect_doc(doc, VT_E_UNSUPPORTED_VERSION, "enclaveIdentity.version");
    }
    /* A future version is reported as such even when its id is new. */
    json_t *doc = qe_doc();
    json_object_set_new(ident_of(doc), "version", json_integer(3));
    json_object_set_new(ident_of(doc), "id", json_string("NEW_QE"));
    expect_doc(doc, VT_E_UNSUPPORTED_VERSION, "enclaveIdentity.version");
    /* Two levels with one isvsvn. */
    doc = qe_doc();
    json_array_append_new(json_object_get(ident_of(doc), "tcbLevels"),
                          level(8, "2020-01-01T00:00:00Z", "Revoked"));
    expect_doc(doc, VT_E_DUPLICATE, "enclaveIdentity.tcbLevels");
    /* Duplicate names, inside and at the top, also through escapes. */
    expect_replaced("\"isvprodid\":1", "\"isvprodid\":1,\"isvprodid\":1", VT_E_DUPLICATE);
    expect_replaced("\"isvprodid\":1", "\"isvprodid\":1,\"isv\\u0070rodid\":2", VT_E_DUPLICATE);
    expect_replaced("\"isvsvn\":8", "\"isvsvn\":8,\"isvsvn\":9", VT_E_DUPLICATE);
    expect_replaced("\"signature\":", "\"enclaveIdentity\":{},\"signature\":", VT_E_DUPLICATE);
    expect_replaced("\"signature\":", "\"signature\":\"\",\"signature\":", VT_E_DUPLICATE);

    /* Caps: levels and advisories. */
    for (int extra = 0; extra <= 1; extra++) {
        doc = qe_doc();
        json_t *levels = json_array();
        for (int i = 0; i < VT_MAX_TCB_LEVELS + extra; i++) {
            json_array_append_new(levels, level(1000 - i, "2020-01-01T00:00:00Z", "OutOfDate"));
        }
        json_object_set_new(ident_of(doc), "tcbLevels", levels);
        expect_doc(doc, extra ? VT_E_TOO_LARGE : VT_OK, extra ? "enclaveIdentity.tcbLevels" : NULL);
    }
    for (int extra = 0; extra <= 1; extra++) {
        doc = qe_doc();
        json_t *ids = json_array();
        for (int i = 0; i < VT_MAX_ADVISORIES + extra; i++) {
            char id[32];
            snprintf(id, sizeof(id), "INTEL-SA-%05d", i);
            json_array_append_new(ids, json_string(id));
        }
        json_object_set_new(level_at(doc, 2), "advisoryIDs", ids);
        expect_doc(doc, extra ? VT_E_TOO_LARGE : VT_OK,
                   extra ? "enclaveIdentity.tcbLevels[2].advisoryIDs" : NULL);
    }
    doc = qe_doc();
    /* 32 characters: one more than VT_ADVISORY_ID_MAX - 1. */
    json_object_set_new(level_at(doc, 2), "advisoryIDs",
                        json_pack("[s]", "INTEL-SA-00000000000000000000000"));
    expect_doc(doc, VT_E_TOO_LARGE, "enclaveIdentity.tcbLevels[2].advisoryIDs[0]");
}

static void test_json_level(void **state)
{
    (void)state;
    json_t *doc = qe_doc();
    char *text = dump(doc);
    json_decref(doc);
    size_t n = strlen(text);
    char *buf = malloc(n + 8);
    assert_non_null(buf);
    memcpy(buf, text, n);
    memcpy(buf + n, "\t\r\n ", 4);
    expect_text(buf, n + 4, VT_OK, NULL);
    memcpy(buf + n, " x", 2);
    expect_text(buf, n + 2, VT_E_BAD_JSON, NULL);
    memcpy(buf + n, "[]", 2);
    expect_text(buf, n + 2, VT_E_BAD_JSON, NULL);
    buf[n] = '\0';
    expect_text(buf, n + 1, VT_E_BAD_JSON, NULL);
    for (size_t cut = 0; cut < n; cut++) {
        expect_text(text, cut, VT_E_BAD_JSON, NULL);
    }
    free(buf);
    free(text);
    /* Depth: a bomb in an ignored member, and the limit exactly. */
    size_t depth = 50000;
    char *member = malloc(2 * depth + 32);
    assert_non_null(member);
    size_t o = (size_t)snprintf(member, 32, "\"isvprodid\":1,\"x\":");
    for (size_t i = 0; i < depth; i++) {
        member[o++] = '[';
    }
    for (size_t i = 0; i < depth; i++) {
        member[o++] = ']';
    }
    member[o] = '\0';
    expect_replaced("\"isvprodid\":1", member, VT_E_TOO_LARGE);
    free(member);
    char small[96];
    for (int d = VT_MAX_JSON_DEPTH; d <= VT_MAX_JSON_DEPTH + 1; d++) {
        o = (size_t)snprintf(small, sizeof(small), "\"isvprodid\":1,\"x\":");
        for (int i = 0; i < d - 2; i++) {
            small[o++] = '[';
        }
        for (int i = 0; i < d - 2; i++) {
            small[o++] = ']';
        }
        small[o] = '\0';
        expect_replaced("\"isvprodid\":1", small, d == VT_MAX_JSON_DEPTH ? VT_OK : VT_E_TOO_LARGE);
    }
    /* Not JSON the parsers accept. */
    expect_replaced("\"QE\"", "\"Q\\u0000E\"", VT_E_BAD_JSON);
    expect_replaced("\"isvprodid\":1", "\"isvprodid\":01", VT_E_BAD_JSON);
    expect_replaced("\"isvprodid\":1", "\"isvprodid\":184467440737095516160", VT_E_BAD_JSON);
    expect_text("[{}]", 4, VT_E_BAD_JSON, NULL);
    char other[200];
    snprintf(other, sizeof(other), "{\"enclaveIdentity\":[],\"signature\":\"%s\"}", SIG_HEX);
    expect_text(other, strlen(other), VT_E_BAD_FIELD, "enclaveIdentity");
    struct vt_qe_identity qi;
    struct vt_diag d;
    assert_int_equal(vt_qe_identity_parse(NULL, 1, &qi, &d), VT_E_ARG);
    assert_int_equal(vt_qe_identity_parse((const uint8_t *)"{}", 2, NULL, &d), VT_E_ARG);
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

static void check_real(const char *path, const char *chain, enum vt_identity_id want_id)
{
    size_t len;
    uint8_t *json = vt_test_read_file(path, &len);
    assert_non_null(json);
    struct vt_qe_identity qi;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_qe_identity_parse(json, len, &qi, &d) != VT_OK) {
        fail_msg("%s: %s: %s: %s", path, vt_err_name(d.code), d.check, d.detail);
    }
    if (!verify_p256(chain, qi.body, qi.body_len, qi.signature)) {
        fail_msg("%s: the signature does not verify over the body span", path);
    }
    assert_false(verify_p256(chain, qi.body + 1, qi.body_len - 1, qi.signature));
    assert_int_equal(qi.id, want_id);
    assert_int_equal(qi.version, 2);
    assert_true(qi.n_levels > 0);
    for (size_t i = 1; i < qi.n_levels; i++) {
        assert_true(qi.levels[i - 1].isvsvn > qi.levels[i].isvsvn);
    }
    /* Cross-check with an independent parse. */
    json_error_t e;
    json_t *root = json_loadb((const char *)json, len, 0, &e);
    assert_non_null(root);
    json_t *ident = json_object_get(root, "enclaveIdentity");
    assert_int_equal(qi.n_levels, json_array_size(json_object_get(ident, "tcbLevels")));
    assert_int_equal(qi.isvprodid, json_integer_value(json_object_get(ident, "isvprodid")));
    char hex[65];
    vt_hex_encode(qi.mrsigner, 32, hex);
    assert_int_equal(strcasecmp(hex, json_string_value(json_object_get(ident, "mrsigner"))), 0);
    json_decref(root);
    vt_qe_identity_cleanup(&qi);
    free(json);
}

static void test_fixtures(void **state)
{
    (void)state;
    const char *root = vt_fixtures_or_skip();
    char dcap[1024];
    snprintf(dcap, sizeof(dcap), "%s/dcap", root);
    int count = 0;
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
            snprintf(path, sizeof(path), "%s/%s/qe_identity.json", sdir, e->d_name);
            if (e->d_name[0] == '.' || !file_exists(path)) {
                continue;
            }
            snprintf(chain, sizeof(chain), "%s/%s/qe_identity_issuer_chain.pem", sdir, e->d_name);
            assert_true(file_exists(chain));
            check_real(path, chain,
                       strncmp(e->d_name, "tdx-", 4) == 0 ? VT_IDENTITY_TD_QE : VT_IDENTITY_QE);
            count++;
        }
        closedir(sets);
    }
    closedir(src);
    char path[1400], chain[1400];
    snprintf(path, sizeof(path), "%s/automata-dcap-attestation/pcs-bodies/0625_identity.json",
             dcap);
    snprintf(chain, sizeof(chain),
             "%s/automata-dcap-attestation/sgx-v3-fmspc00606a000000/tcb_info_issuer_chain.pem",
             dcap);
    check_real(path, chain, VT_IDENTITY_QE);
    count++;
    /* A TCB info is not an identity. */
    snprintf(path, sizeof(path), "%s/automata-dcap-attestation/pcs-bodies/0625_tcbinfo.json", dcap);
    size_t len;
    uint8_t *json = vt_test_read_file(path, &len);
    assert_non_null(json);
    struct vt_qe_identity qi;
    struct vt_diag d;
    assert_int_equal(vt_qe_identity_parse(json, len, &qi, &d), VT_E_MISSING_FIELD);
    free(json);
    print_message("parsed %d real QE identities\n", count);
    assert_true(count >= 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),     cmocka_unit_test(test_missing),
        cmocka_unit_test(test_bad_values), cmocka_unit_test(test_versions_dups_caps),
        cmocka_unit_test(test_json_level), cmocka_unit_test(test_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
