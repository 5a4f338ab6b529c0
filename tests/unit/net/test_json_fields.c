/*
 * The typed JSON field readers (src/net/json_fields.h): every reader with the member present,
 * absent, null and of each wrong type, with the exact error code, check (the JSON path) and
 * message; outputs untouched on failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "net/json_fields.h"

static json_t *doc(void)
{
    json_t *o = json_loads("{\"s\":\"text\",\"i\":42,\"neg\":-7,\"r\":1.5,\"b\":true,\"n\":null,"
                           "\"o\":{\"x\":1},\"a\":[1,2],\"b64\":\"aGVsbG8=\",\"b64u\":\"-_w\","
                           "\"notb64\":\"!!!\"}",
                           0, NULL);
    assert_non_null(o);
    return o;
}

static void expect_fail(enum vt_err got, const struct vt_diag *d, enum vt_err code,
                        const char *check, const char *detail)
{
    assert_int_equal(got, code);
    assert_int_equal(d->code, code);
    assert_string_equal(d->check, check);
    assert_string_equal(d->detail, detail);
}

static void test_strings(void **state)
{
    (void)state;
    json_t *o = doc();
    struct vt_diag d;
    vt_diag_init(&d);
    const char *s = "keep";
    assert_int_equal(vt_json_req_string(o, "$", "s", &s, &d), VT_OK);
    assert_string_equal(s, "text");
    s = "keep";
    expect_fail(vt_json_req_string(o, "$", "missing", &s, &d), &d, VT_E_MISSING_FIELD, "$.missing",
                "$.missing: required field is missing");
    expect_fail(vt_json_req_string(o, "$", "n", &s, &d), &d, VT_E_BAD_FIELD, "$.n",
                "$.n: expected a string, got null");
    expect_fail(vt_json_req_string(o, "$", "i", &s, &d), &d, VT_E_BAD_FIELD, "$.i",
                "$.i: expected a string, got a number");
    expect_fail(vt_json_opt_string(o, "$", "b", &s, &d), &d, VT_E_BAD_FIELD, "$.b",
                "$.b: expected a string, got a boolean");
    expect_fail(vt_json_opt_string(o, "$.runtime_data", "o", &s, &d), &d, VT_E_BAD_FIELD,
                "$.runtime_data.o", "$.runtime_data.o: expected a string, got an object");
    expect_fail(vt_json_opt_string(o, "$", "a", &s, &d), &d, VT_E_BAD_FIELD, "$.a",
                "$.a: expected a string, got an array");
    assert_string_equal(s, "keep");
    /* optional: absent and null leave the default */
    assert_int_equal(vt_json_opt_string(o, "$", "missing", &s, &d), VT_OK);
    assert_int_equal(vt_json_opt_string(o, "$", "n", &s, &d), VT_OK);
    assert_string_equal(s, "keep");
    /* a NULL or non-object parent has no members */
    expect_fail(vt_json_req_string(NULL, "$.x", "y", &s, &d), &d, VT_E_MISSING_FIELD, "$.x.y",
                "$.x.y: required field is missing");
    assert_int_equal(vt_json_opt_string(NULL, "$.x", "y", &s, &d), VT_OK);
    /* a NULL diag is allowed */
    assert_int_equal(vt_json_req_string(o, "$", "i", &s, NULL), VT_E_BAD_FIELD);
    json_decref(o);
}

static void test_ints(void **state)
{
    (void)state;
    json_t *o = doc();
    struct vt_diag d;
    vt_diag_init(&d);
    int64_t v = 99;
    assert_int_equal(vt_json_req_int(o, "$", "i", 0, 100, &v, &d), VT_OK);
    assert_int_equal(v, 42);
    v = 99;
    expect_fail(vt_json_req_int(o, "$", "i", 0, 41, &v, &d), &d, VT_E_BAD_FIELD, "$.i",
                "$.i: expected an integer from 0 to 41, got 42");
    expect_fail(vt_json_req_int(o, "$", "neg", 0, 41, &v, &d), &d, VT_E_BAD_FIELD, "$.neg",
                "$.neg: expected an integer from 0 to 41, got -7");
    expect_fail(vt_json_req_int(o, "$", "r", 0, 41, &v, &d), &d, VT_E_BAD_FIELD, "$.r",
                "$.r: expected an integer, got a number");
    expect_fail(vt_json_req_int(o, "$", "s", 0, 41, &v, &d), &d, VT_E_BAD_FIELD, "$.s",
                "$.s: expected an integer, got a string");
    expect_fail(vt_json_req_int(o, "$", "missing", 0, 41, &v, &d), &d, VT_E_MISSING_FIELD,
                "$.missing", "$.missing: required field is missing");
    expect_fail(vt_json_opt_int(o, "$", "b", 0, 41, &v, &d), &d, VT_E_BAD_FIELD, "$.b",
                "$.b: expected an integer, got a boolean");
    assert_int_equal(vt_json_opt_int(o, "$", "n", 0, 41, &v, &d), VT_OK);
    assert_int_equal(v, 99);
    json_decref(o);
}

static void test_bools(void **state)
{
    (void)state;
    json_t *o = doc();
    struct vt_diag d;
    vt_diag_init(&d);
    bool b = false;
    assert_int_equal(vt_json_req_bool(o, "$", "b", &b, &d), VT_OK);
    assert_true(b);
    b = false;
    expect_fail(vt_json_req_bool(o, "$", "i", &b, &d), &d, VT_E_BAD_FIELD, "$.i",
                "$.i: expected a boolean, got a number");
    expect_fail(vt_json_req_bool(o, "$", "missing", &b, &d), &d, VT_E_MISSING_FIELD, "$.missing",
                "$.missing: required field is missing");
    expect_fail(vt_json_opt_bool(o, "$", "s", &b, &d), &d, VT_E_BAD_FIELD, "$.s",
                "$.s: expected a boolean, got a string");
    assert_int_equal(vt_json_opt_bool(o, "$", "missing", &b, &d), VT_OK);
    assert_false(b);
    json_decref(o);
}

static void test_objects_arrays(void **state)
{
    (void)state;
    json_t *o = doc();
    struct vt_diag d;
    vt_diag_init(&d);
    json_t *v = NULL;
    assert_int_equal(vt_json_req_object(o, "$", "o", &v, &d), VT_OK);
    assert_true(json_is_object(v));
    v = NULL;
    expect_fail(vt_json_req_object(o, "$", "a", &v, &d), &d, VT_E_BAD_FIELD, "$.a",
                "$.a: expected an object, got an array");
    expect_fail(vt_json_req_object(o, "$", "missing", &v, &d), &d, VT_E_MISSING_FIELD, "$.missing",
                "$.missing: required field is missing");
    expect_fail(vt_json_opt_object(o, "$", "s", &v, &d), &d, VT_E_BAD_FIELD, "$.s",
                "$.s: expected an object, got a string");
    assert_int_equal(vt_json_opt_object(o, "$", "n", &v, &d), VT_OK);
    assert_null(v);
    assert_int_equal(vt_json_req_array(o, "$", "a", &v, &d), VT_OK);
    assert_true(json_is_array(v));
    v = NULL;
    expect_fail(vt_json_req_array(o, "$", "o", &v, &d), &d, VT_E_BAD_FIELD, "$.o",
                "$.o: expected an array, got an object");
    expect_fail(vt_json_req_array(o, "$", "missing", &v, &d), &d, VT_E_MISSING_FIELD, "$.missing",
                "$.missing: required field is missing");
    expect_fail(vt_json_opt_array(o, "$", "i", &v, &d), &d, VT_E_BAD_FIELD, "$.i",
                "$.i: expected an array, got a number");
    assert_int_equal(vt_json_opt_array(o, "$", "missing", &v, &d), VT_OK);
    assert_null(v);
    json_decref(o);
}

static void test_base64(void **state)
{
    (void)state;
    json_t *o = doc();
    struct vt_diag d;
    vt_diag_init(&d);
    uint8_t *p = NULL;
    size_t n = 0;
    assert_int_equal(vt_json_req_base64(o, "$", "b64", &p, &n, &d), VT_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(p, "hello", 5);
    free(p);
    p = NULL;
    assert_int_equal(vt_json_req_base64(o, "$", "b64u", &p, &n, &d), VT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(p[0], 0xfb);
    assert_int_equal(p[1], 0xfc);
    free(p);
    p = NULL;
    n = 0;
    expect_fail(vt_json_req_base64(o, "$", "notb64", &p, &n, &d), &d, VT_E_BAD_BASE64, "$.notb64",
                "$.notb64: expected base64, got a string of 3 characters that does not decode");
    expect_fail(vt_json_req_base64(o, "$", "i", &p, &n, &d), &d, VT_E_BAD_FIELD, "$.i",
                "$.i: expected a string, got a number");
    expect_fail(vt_json_req_base64(o, "$", "missing", &p, &n, &d), &d, VT_E_MISSING_FIELD,
                "$.missing", "$.missing: required field is missing");
    expect_fail(vt_json_opt_base64(o, "$", "a", &p, &n, &d), &d, VT_E_BAD_FIELD, "$.a",
                "$.a: expected a string, got an array");
    assert_int_equal(vt_json_opt_base64(o, "$", "n", &p, &n, &d), VT_OK);
    assert_null(p);
    assert_int_equal(n, 0);
    json_decref(o);
}

static void test_type_names_and_paths(void **state)
{
    (void)state;
    assert_string_equal(vt_json_type_name(NULL), "nothing");
    char p[12];
    vt_json_path(p, sizeof(p), NULL, "x");
    assert_string_equal(p, "$.x");
    vt_json_path(p, sizeof(p), "$.aaaaaaaa", "bbbb");
    assert_string_equal(p, "$.aaaaaaaa."); /* cut at cap */
}

/* vt_json_dumps_raw: the member's placeholder replaced by the raw text, nothing else touched. */
static void test_dumps_raw(void **state)
{
    (void)state;
    /* a string value that looks like the member (its quotes are escaped in the text) */
    json_t *o = json_pack("{s:s,s:{s:s},s:i}", "decoy", "\"c\":\"" VT_JSON_RAW_PLACEHOLDER "\"",
                          "sub", "c", VT_JSON_RAW_PLACEHOLDER, "n", 1);
    char *s = vt_json_dumps_raw(o, "c", "{\"x\":[1,2]}");
    assert_non_null(s);
    assert_string_equal(s, "{\"decoy\":\"\\\"c\\\":\\\"" VT_JSON_RAW_PLACEHOLDER
                           "\\\"\",\"sub\":{\"c\":{\"x\":[1,2]}},\"n\":1}");
    json_t *back = json_loads(s, 0, NULL);
    assert_non_null(back);
    assert_int_equal(
        json_integer_value(json_array_get(
            json_object_get(json_object_get(json_object_get(back, "sub"), "c"), "x"), 1)),
        2);
    json_decref(back);
    free(s);
    /* no such member: NULL; no raw text: the plain encoding */
    assert_null(vt_json_dumps_raw(o, "missing", "1"));
    s = vt_json_dumps_raw(o, "c", NULL);
    assert_non_null(strstr(s, VT_JSON_RAW_PLACEHOLDER));
    free(s);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),   cmocka_unit_test(test_ints),
        cmocka_unit_test(test_bools),     cmocka_unit_test(test_objects_arrays),
        cmocka_unit_test(test_base64),    cmocka_unit_test(test_type_names_and_paths),
        cmocka_unit_test(test_dumps_raw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
