/*
 * Route tables (vt_http_route_find): OpenAPI path templates with one-segment parameters, HEAD
 * served by GET routes, and the Allow list of a path known with other methods.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/http.h"

static const struct vt_http_route_entry table[] = {
    {"GET", "/{tee}/certification/v4/tcb", 0, VT_HTTP_RATE_READ, false, 0, NULL},
    {"GET", "/vcek/v1/{product}/{hwid}", 0, VT_HTTP_RATE_READ, false, 0, NULL},
    {"GET", "/vcek/v1/{product}/cert_chain", 0, VT_HTTP_RATE_READ, false, 1, NULL},
    {"POST", "/admin/v1/keys", 1024, VT_HTTP_RATE_NONE, true, 0, NULL},
    {"GET", "/admin/v1/keys", 0, VT_HTTP_RATE_NONE, true, 0, NULL},
    {"PUT", "/admin/v1/keys/{name}/policy", 1024, VT_HTTP_RATE_NONE, true, 0, NULL},
};
#define N (sizeof(table) / sizeof(table[0]))

static const struct vt_http_route_entry *find(const char *m, const char *p, bool *known,
                                              char *allow)
{
    return vt_http_route_find(table, N, m, p, known, allow, 64);
}

static void test_find(void **state)
{
    (void)state;
    bool known;
    char allow[64];
    assert_ptr_equal(find("GET", "/sgx/certification/v4/tcb", &known, allow), &table[0]);
    assert_ptr_equal(find("HEAD", "/tdx/certification/v4/tcb", &known, allow), &table[0]);
    /* the first match wins: a literal segment after a parameter route is listed after it */
    assert_ptr_equal(find("GET", "/vcek/v1/Milan/ab12", &known, allow), &table[1]);
    assert_ptr_equal(find("PUT", "/admin/v1/keys/k1/policy", &known, allow), &table[5]);
    assert_ptr_equal(find("POST", "/admin/v1/keys", &known, allow), &table[3]);
    /* a parameter is one non-empty segment */
    assert_null(find("GET", "/certification/v4/tcb", &known, allow));
    assert_false(known);
    assert_null(find("GET", "/a/b/certification/v4/tcb", &known, allow));
    assert_null(find("PUT", "/admin/v1/keys//policy", &known, allow));
    assert_null(find("GET", "/admin/v1/keys/", &known, allow));
    assert_false(known);
    /* known path, other method */
    assert_null(find("DELETE", "/admin/v1/keys", &known, allow));
    assert_true(known);
    assert_string_equal(allow, "POST, GET, HEAD");
    assert_null(find("POST", "/sgx/certification/v4/tcb", &known, allow));
    assert_true(known);
    assert_string_equal(allow, "GET, HEAD");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_find)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
