/*
 * The cache's state on a real SQLite store, without HTTP: the write guards (a lower
 * tcbEvaluationDataNumber never replaces a higher one under a default key, yet is kept by number;
 * a tombstone never replaces a document), bearer tokens (hashed, roles, wrong and empty tokens),
 * the enforcement schedule, and bundle import refusals that each name their check and leave the
 * store unchanged, plus an export/import round trip of the schedule between two caches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache/cache.h"
#include "vt_fixtures.h"

#define STD_KEY "/tdx/certification/v4/tcb?fmspc=90c06f000000&update=standard"
#define T0 1771600000

struct fixture {
    char dir[64];
    struct vt_cache *c, *c2;
};

static struct vt_cache *open_cache(const char *dir, const char *name)
{
    char url[128];
    snprintf(url, sizeof(url), "sqlite:%s/%s", dir, name);
    struct vt_cache_config cfg = {.db = url, .mode = VT_CACHE_OFFLINE, .clock_base = T0};
    struct vt_cache *c = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cache_open(&cfg, &c, &d), VT_OK);
    return c;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/vt-cache-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->c = open_cache(f->dir, "a.db");
    f->c2 = open_cache(f->dir, "b.db");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    vt_cache_close(f->c);
    vt_cache_close(f->c2);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static int64_t count(struct vt_cache *c, const char *sql)
{
    int64_t n = -1;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_store_exec(c->store, sql, NULL, 0, vt_store_row_int, &n, NULL, &d), VT_OK);
    return n;
}

static void item(struct vt_cache_item *it, const char *key, int64_t eval, const char *body)
{
    memset(it, 0, sizeof(*it));
    snprintf(it->key, sizeof(it->key), "%s", key);
    it->kind = VT_DOC_TCB_INFO;
    it->tee = VT_TEE_TDX;
    snprintf(it->fmspc, sizeof(it->fmspc), "90c06f000000");
    it->eval_num = eval;
    snprintf(it->content_type, sizeof(it->content_type), "application/json");
    it->headers = (char *)"";
    it->body = (uint8_t *)body;
    it->body_len = strlen(body);
    it->next_update = T0 + 86400;
}

static void test_eval_guard(void **state)
{
    struct fixture *f = *state;
    struct vt_cache_item it;
    struct vt_diag d;
    vt_diag_init(&d);
    bool kept = true;
    item(&it, STD_KEY, 18, "{\"eval\":18}");
    assert_int_equal(vt_cache_put(f->c, &it, &kept, &d), VT_OK);
    assert_false(kept);
    item(&it, STD_KEY, 17, "{\"eval\":17}");
    assert_int_equal(vt_cache_put(f->c, &it, &kept, &d), VT_OK);
    assert_true(kept);
    struct vt_cache_item got;
    assert_int_equal(vt_cache_load(f->c, STD_KEY, &got, &d), VT_OK);
    assert_int_equal(got.eval_num, 18);
    assert_memory_equal(got.body, "{\"eval\":18}", got.body_len);
    vt_cache_item_cleanup(&got);
    /* both numbers are kept by number */
    assert_int_equal(count(f->c, "SELECT COUNT(*) FROM vt_items WHERE key LIKE"
                                 " '%90c06f000000&tcbEvaluationDataNumber=1_'"),
                     2);
    /* the same number again is a renewal, not a refusal */
    item(&it, STD_KEY, 18, "{\"eval\":18,\"renewed\":1}");
    assert_int_equal(vt_cache_put(f->c, &it, &kept, &d), VT_OK);
    assert_false(kept);
    assert_int_equal(vt_cache_load(f->c, STD_KEY, &got, &d), VT_OK);
    assert_int_equal(got.body_len, strlen("{\"eval\":18,\"renewed\":1}"));
    vt_cache_item_cleanup(&got);
    /* a key by number is not guarded */
    const char *by17 = "/tdx/certification/v4/tcb?fmspc=90c06f000000&tcbEvaluationDataNumber=17";
    item(&it, by17, 17, "{\"eval\":17,\"again\":1}");
    assert_int_equal(vt_cache_put(f->c, &it, &kept, &d), VT_OK);
    assert_false(kept);
}

static void test_tombstone_guard(void **state)
{
    struct fixture *f = *state;
    struct vt_cache_item it;
    struct vt_diag d;
    vt_diag_init(&d);
    bool kept;
    const char *key = "/sgx/certification/v4/qe/identity?update=standard";
    item(&it, key, -1, "");
    assert_int_equal(vt_cache_put(f->c, &it, &kept, &d), VT_OK); /* a tombstone on nothing */
    assert_false(kept);
    assert_int_equal(vt_cache_put(f->c, &it, &kept, &d), VT_OK); /* renews a tombstone */
    assert_false(kept);
    item(&it, key, 17, "{\"id\":\"QE\"}");
    assert_int_equal(vt_cache_put(f->c, &it, &kept, &d), VT_OK); /* a document replaces it */
    assert_false(kept);
    item(&it, key, -1, "");
    assert_int_equal(vt_cache_put(f->c, &it, &kept, &d), VT_OK); /* a tombstone does not */
    assert_true(kept);
    struct vt_cache_item got;
    assert_int_equal(vt_cache_load(f->c, key, &got, &d), VT_OK);
    assert_int_equal(got.body_len, strlen("{\"id\":\"QE\"}"));
    vt_cache_item_cleanup(&got);
}

static void test_tokens(void **state)
{
    struct fixture *f = *state;
    char admin[64], reader[64];
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cache_token_create(f->c, "admin", "ops", admin, &d), VT_OK);
    assert_int_equal(vt_cache_token_create(f->c, "read", "verifiers", reader, &d), VT_OK);
    assert_true(strlen(admin) >= 32);
    assert_true(vt_cache_token_check(f->c, admin, "admin"));
    assert_true(vt_cache_token_check(f->c, admin, "read"));
    assert_true(vt_cache_token_check(f->c, reader, "read"));
    assert_false(vt_cache_token_check(f->c, reader, "admin"));
    char wrong[64];
    snprintf(wrong, sizeof(wrong), "%s", admin);
    wrong[5] = wrong[5] == 'a' ? 'b' : 'a';
    assert_false(vt_cache_token_check(f->c, wrong, "admin"));
    assert_false(vt_cache_token_check(f->c, "", "read"));
    assert_false(vt_cache_token_check(f->c, NULL, "read"));
    /* only hashes are stored */
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM vt_tokens WHERE hash = '%s'", admin);
    assert_int_equal(count(f->c, sql), 0);
    assert_int_equal(count(f->c, "SELECT COUNT(*) FROM vt_tokens"), 2);
    assert_int_equal(vt_cache_token_create(f->c, "superuser", "x", admin, &d), VT_E_ARG);
}

static void test_enforce(void **state)
{
    struct fixture *f = *state;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cache_pinned(f->c, VT_TEE_TDX, T0), 0);
    assert_int_equal(vt_cache_enforce(f->c, VT_TEE_TDX, 17, T0 - 10, &d), VT_OK);
    assert_int_equal(vt_cache_enforce(f->c, VT_TEE_TDX, 18, T0 + 1000, &d), VT_OK);
    assert_int_equal(vt_cache_pinned(f->c, VT_TEE_TDX, T0), 17);
    assert_int_equal(vt_cache_pinned(f->c, VT_TEE_SGX, T0), 0);
    assert_int_equal(vt_cache_pinned(f->c, VT_TEE_TDX, T0 + 1000), 18);
    assert_int_equal(vt_cache_enforce(f->c, VT_TEE_SEV_SNP, 17, T0, &d), VT_E_ARG);
    assert_string_equal(d.check, "tee");
    assert_int_equal(vt_cache_enforce(f->c, VT_TEE_SGX, 0, T0, &d), VT_E_ARG);
    assert_string_equal(d.check, "tcb_eval");
    assert_int_equal(count(f->c, "SELECT COUNT(*) FROM vt_enforce"), 2);
    char *list = vt_cache_enforce_list(f->c);
    assert_non_null(list);
    assert_non_null(strstr(list, "\"tcb_eval\":18"));
    free(list);
}

static bool row_text(void *ctx, const struct vt_sql_row *row)
{
    *(char **)ctx = strdup(vt_row_text(row, 0));
    return false;
}

/* Sign a crafted inner object with from's bundle key (as its export would), import it into to,
 * and expect the error want naming check, with nothing written. */
static void import_signed(struct vt_cache *from, struct vt_cache *to, const char *inner,
                          enum vt_err want, const char *check)
{
    struct vt_diag d;
    vt_diag_init(&d);
    uint8_t xy[64], sig[64];
    assert_int_equal(vt_cache_public_key(from, xy, &d), VT_OK); /* creates the key if needed */
    char *pem = NULL;
    struct vt_sql_arg a[] = {VT_SQL_T("bundle_key")};
    assert_int_equal(vt_store_exec(from->store, "SELECT value FROM vt_meta WHERE name = ?", a, 1,
                                   row_text, &pem, NULL, &d),
                     VT_OK);
    assert_non_null(pem);
    struct vt_key *k = NULL;
    assert_int_equal(vt_key_from_private_pem(pem, strlen(pem), VT_KEY_P256, &k, &d), VT_OK);
    free(pem);
    assert_int_equal(vt_p256_sign(k, inner, strlen(inner), sig, &d), VT_OK);
    vt_key_free(k);
    char hex[129];
    vt_hex_encode(sig, 64, hex);
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    assert_int_equal(vt_buf_printf(&b, "{\"bundle\":%s,\"signature\":\"%s\"}", inner, hex), VT_OK);
    int64_t items = count(to, "SELECT COUNT(*) FROM vt_items");
    int64_t sched = count(to, "SELECT COUNT(*) FROM vt_enforce");
    size_t n;
    vt_diag_init(&d);
    enum vt_err err = vt_cache_import(to, b.data, b.len, xy, &n, &d);
    vt_buf_cleanup(&b);
    if (err != want || (want != VT_OK && strcmp(d.check, check) != 0)) {
        fail_msg("%s: got %s (%s: %s)", inner, vt_err_name(err), d.check, d.detail);
    }
    if (want != VT_OK) {
        assert_int_equal(count(to, "SELECT COUNT(*) FROM vt_items"), items);
        assert_int_equal(count(to, "SELECT COUNT(*) FROM vt_enforce"), sched);
    }
}

#define INNER(items, enforcement)                                                                  \
    "{\"format\":\"veritee-collateral-bundle\",\"version\":1,\"items\":" items                     \
    ",\"enforcement\":" enforcement "}"

static void test_import_signed_refusals(void **state)
{
    struct fixture *f = *state;
    import_signed(f->c, f->c2, "{\"format\":\"other\",\"version\":1,\"items\":[]}", VT_E_BAD_FIELD,
                  "bundle.format");
    import_signed(f->c, f->c2,
                  "{\"format\":\"veritee-collateral-bundle\",\"version\":2,\"items\":[]}",
                  VT_E_BAD_FIELD, "bundle.format");
    import_signed(f->c, f->c2, INNER("[{\"key\":\"/x\"}]", "[]"), VT_E_MISSING_FIELD,
                  "bundle.items");
    import_signed(
        f->c, f->c2,
        INNER("[{\"key\":\"/nowhere\",\"body\":\"\",\"headers\":\"\",\"content_type\":\"\"}]",
              "[]"),
        VT_E_NOT_FOUND, "path");
    import_signed(f->c, f->c2,
                  INNER("[{\"key\":\"/sgx/certification/v4/rootcacrl\",\"body\":\"!!\","
                        "\"headers\":\"\",\"content_type\":\"\"}]",
                        "[]"),
                  VT_E_BAD_BASE64, "bundle.items");
    /* a document that does not verify: refused with the checker's reason */
    import_signed(f->c, f->c2,
                  INNER("[{\"key\":\"/sgx/certification/v4/rootcacrl\",\"body\":\"AAEC\","
                        "\"headers\":\"\",\"content_type\":\"application/pkix-crl\"}]",
                        "[]"),
                  VT_E_BAD_CRL, "bundle.items");
    import_signed(f->c, f->c2, INNER("[]", "[{\"tee\":9,\"tcb_eval\":17,\"from\":1}]"),
                  VT_E_BAD_FIELD, "bundle.enforcement");
    import_signed(f->c, f->c2, INNER("[]", "[{\"tee\":1,\"tcb_eval\":0,\"from\":1}]"),
                  VT_E_BAD_FIELD, "bundle.enforcement");
    import_signed(f->c, f->c2, INNER("[]", "[{\"tee\":1,\"tcb_eval\":17}]"), VT_E_BAD_FIELD,
                  "bundle.enforcement");
    import_signed(f->c, f->c2, INNER("[]", "{}"), VT_E_BAD_FIELD, "bundle.enforcement");
}

/* Intel's root CA CRL from the fixtures, base64 (a document that verifies), or NULL to skip. */
static char *root_crl_b64(void)
{
    const char *fx = vt_fixtures_or_skip();
    if (fx == NULL) {
        return NULL;
    }
    char path[512];
    snprintf(path, sizeof(path),
             "%s/dcap/automata-dcap-attestation/tdx-v5-fmspc90c06f000000-alibaba/root_ca_crl.der",
             fx);
    size_t n = 0;
    uint8_t *der = vt_test_read_file(path, &n);
    assert_non_null(der);
    char *b64 = vt_base64_alloc(der, n, false);
    free(der);
    return b64;
}

/* A bundle item carries a document with the headers and content type the lazy fill would store,
 * nothing else: other headers (sent back to clients as they are) and content types refuse the
 * bundle, and nothing is written. */
static void test_import_headers_allow_list(void **state)
{
    struct fixture *f = *state;
    char *crl = root_crl_b64();
    if (crl == NULL) {
        skip();
    }
    static const struct {
        const char *headers, *content_type, *check;
        enum vt_err err;
    } cases[] = {
        {"Set-Cookie: session=attacker; Path=/\\n", "application/pkix-crl", "bundle.items.headers",
         VT_E_BAD_FIELD},
        {"Access-Control-Allow-Origin: *\\n", "application/pkix-crl", "bundle.items.headers",
         VT_E_BAD_FIELD},
        {"X-Frame-Options: ALLOW\\n", "application/pkix-crl", "bundle.items.headers",
         VT_E_BAD_FIELD},
        {"sgx-fmspc: 00906ed50000\\n", "application/pkix-crl", "bundle.items.headers",
         VT_E_BAD_FIELD},
        {"SGX-FMSPC: 00906ed50000\\u0001\\n", "application/pkix-crl", "bundle.items.headers",
         VT_E_BAD_FIELD},
        {"SGX-FMSPC: 00906ed50000\\nSGX-FMSPC: 00906ed50000\\n", "application/pkix-crl",
         "bundle.items.headers", VT_E_DUPLICATE},
        {"no colon here\\n", "application/pkix-crl", "bundle.items.headers", VT_E_BAD_FIELD},
        {"", "text/html", "bundle.items.content_type", VT_E_BAD_FIELD},
        {"", "application/json", "bundle.items.content_type", VT_E_BAD_FIELD},
    };
    size_t inner_cap = strlen(crl) + 512;
    char *inner = malloc(inner_cap);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(inner, inner_cap,
                 INNER("[{\"key\":\"/sgx/certification/v4/rootcacrl\",\"body\":\"%s\","
                       "\"headers\":\"%s\",\"content_type\":\"%s\"}]",
                       "[]"),
                 crl, cases[i].headers, cases[i].content_type);
        import_signed(f->c, f->c2, inner, cases[i].err, cases[i].check);
    }
    /* the same document with the headers and type the fill keeps is imported */
    snprintf(inner, inner_cap,
             INNER("[{\"key\":\"/sgx/certification/v4/rootcacrl\",\"body\":\"%s\","
                   "\"headers\":\"SGX-FMSPC: 00906ed50000\\n\",\"content_type\":"
                   "\"application/pkix-crl\"}]",
                   "[]"),
             crl);
    import_signed(f->c, f->c2, inner, VT_OK, "");
    assert_int_equal(count(f->c2, "SELECT COUNT(*) FROM vt_items"), 1);
    free(inner);
    free(crl);
}

/* Rows stored before bundles were checked are served without the headers the fill never keeps,
 * and with the content type of their kind. */
static void test_serve_stored_headers_allow_list(void **state)
{
    struct fixture *f = *state;
    struct vt_cache_item it;
    item(&it, "/sgx/certification/v4/rootcacrl", -1, "crl");
    it.kind = VT_DOC_ROOT_CRL;
    it.next_update = 0;
    snprintf(it.content_type, sizeof(it.content_type), "text/html");
    it.headers = (char *)"Set-Cookie: a=b\nSGX-FMSPC: 00906ed50000\nX-Test: 1\n";
    bool kept;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cache_put(f->c, &it, &kept, &d), VT_OK);
    struct vt_http_response r;
    assert_int_equal(vt_cache_collateral_get(f->c, "/sgx/certification/v4/rootcacrl", &r, &d),
                     VT_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.n_headers, 1);
    assert_string_equal(r.headers[0].name, "SGX-FMSPC");
    assert_null(vt_http_response_header(&r, "Set-Cookie"));
    vt_http_response_cleanup(&r);
}

static void test_import_refusals(void **state)
{
    struct fixture *f = *state;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cache_enforce(f->c, VT_TEE_SGX, 19, T0, &d), VT_OK);
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    size_t n = 99;
    assert_int_equal(vt_cache_export(f->c, &b, &n, &d), VT_OK);
    assert_int_equal(n, 0);
    uint8_t xy[64], other[64];
    assert_int_equal(vt_cache_public_key(f->c, xy, &d), VT_OK);
    assert_int_equal(vt_cache_public_key(f->c2, other, &d), VT_OK);

    /* an untrusted exporter */
    assert_int_equal(vt_cache_import(f->c2, b.data, b.len, other, &n, &d), VT_E_SIGNATURE);
    assert_string_equal(d.check, "bundle.signature");
    /* one byte of the signed part changed */
    char *t = strdup((const char *)b.data);
    char *p = strstr(t, "\"created\":\"2026");
    assert_non_null(p);
    p[12] = '7';
    assert_int_equal(vt_cache_import(f->c2, (uint8_t *)t, strlen(t), xy, &n, &d), VT_E_SIGNATURE);
    free(t);
    /* a signature that is not hex */
    t = strdup((const char *)b.data);
    p = strstr(t, "\"signature\":\"");
    p[14] = 'z';
    assert_int_equal(vt_cache_import(f->c2, (uint8_t *)t, strlen(t), xy, &n, &d), VT_E_BAD_FIELD);
    assert_string_equal(d.check, "bundle.signature");
    free(t);
    /* not JSON, no bundle member */
    assert_true(vt_cache_import(f->c2, (const uint8_t *)"nope", 4, xy, &n, &d) != VT_OK);
    assert_true(vt_cache_import(f->c2, (const uint8_t *)"{\"x\":1}", 7, xy, &n, &d) != VT_OK);
    /* nothing was written by any refusal */
    assert_int_equal(count(f->c2, "SELECT COUNT(*) FROM vt_items"), 0);
    assert_int_equal(count(f->c2, "SELECT COUNT(*) FROM vt_enforce"), 0);

    /* the trusted bundle imports its schedule */
    assert_int_equal(vt_cache_import(f->c2, b.data, b.len, xy, &n, &d), VT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(vt_cache_pinned(f->c2, VT_TEE_SGX, T0 + 5), 19);
    vt_buf_cleanup(&b);
}

static void test_metrics(void **state)
{
    struct fixture *f = *state;
    char *m = vt_cache_metrics_text(f->c);
    assert_non_null(m);
    assert_non_null(strstr(m, "veritee_cache_stale_served_total"));
    assert_non_null(strstr(m, "veritee_cache_not_found_total"));
    assert_non_null(strstr(m, "# TYPE "));
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_eval_guard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tombstone_guard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enforce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_signed_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_headers_allow_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_serve_stored_headers_allow_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
