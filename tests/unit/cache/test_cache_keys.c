/*
 * The bundle-signing key at rest: sealed under the master key like the broker's keys, a database
 * in the old shape (the key as PEM text in vt_meta) sealed on its first open under a master key
 * with the same key kept, a wrong master key refused at open, a cache without the master key
 * unable to sign with a sealed key, and rotation (veritee cache rewrap, and veritee broker rewrap
 * on a database the cache and the broker share).
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

#include "broker/broker.h"
#include "cache/cache.h"

#define T0 1771600000

static char dir[64], url[128];

static uint8_t master_a[32], master_b[32];

static enum vt_err open_cache(const uint8_t *master, struct vt_cache **c, struct vt_diag *d)
{
    struct vt_cache_config cfg = {
        .db = url, .mode = VT_CACHE_OFFLINE, .clock_base = T0, .master_key = master};
    *c = NULL;
    return vt_cache_open(&cfg, c, d);
}

static bool row_text(void *ctx, const struct vt_sql_row *row)
{
    *(char **)ctx = strdup(vt_row_text(row, 0));
    return false;
}

/* The stored value of the bundle key (heap), read through a store of its own. */
static char *stored_key(void)
{
    struct vt_store *s = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_store_open(url, NULL, &s, &d), VT_OK);
    char *v = NULL;
    struct vt_sql_arg a[] = {VT_SQL_T("bundle_key")};
    assert_int_equal(
        vt_store_exec(s, "SELECT value FROM vt_meta WHERE name = ?", a, 1, row_text, &v, NULL, &d),
        VT_OK);
    vt_store_close(s);
    return v;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/vt-cache-keys-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(url, sizeof(url), "sqlite:%s/shared.db", dir);
    memset(master_a, 0xa1, sizeof(master_a));
    memset(master_b, 0xb2, sizeof(master_b));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* A database written before keys were sealed: vt_meta holds the key as PEM text. */
/* the one sealed service of these databases besides the broker's keys */
static const struct vt_sealed_service *const cache_service[] = {&vt_cache_sealed};

static void make_old_database(uint8_t xy[64])
{
    struct vt_cache *c = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(open_cache(NULL, &c, &d), VT_OK); /* creates the schema */
    struct vt_key *k = NULL;
    assert_int_equal(vt_key_generate(VT_KEY_P256, 0, &k, &d), VT_OK);
    vt_key_p256_xy(k, xy);
    struct vt_buf pem;
    vt_buf_init(&pem, 4096);
    assert_int_equal(vt_key_private_pem(k, &pem, &d), VT_OK);
    vt_key_free(k);
    struct vt_sql_arg a[] = {VT_SQL_T("bundle_key"), VT_SQL_T((const char *)pem.data)};
    assert_int_equal(vt_store_exec(c->store, "INSERT INTO vt_meta(name, value) VALUES (?, ?)", a, 2,
                                   NULL, NULL, NULL, &d),
                     VT_OK);
    vt_buf_cleanup(&pem);
    vt_cache_close(c);
}

static void expect_key(const uint8_t *master, const uint8_t want[64])
{
    struct vt_cache *c = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(open_cache(master, &c, &d), VT_OK);
    uint8_t xy[64];
    if (vt_cache_public_key(c, xy, &d) != VT_OK) {
        fail_msg("%s: %s", d.check, d.detail);
    }
    assert_memory_equal(xy, want, 64);
    /* and it signs: an exported bundle imports under that key */
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    size_t n = 0;
    assert_int_equal(vt_cache_export(c, &b, &n, &d), VT_OK);
    assert_int_equal(vt_cache_import(c, b.data, b.len, want, &n, &d), VT_OK);
    vt_buf_cleanup(&b);
    vt_cache_close(c);
}

static void test_old_database_sealed_on_open(void **state)
{
    (void)state;
    uint8_t xy[64];
    make_old_database(xy);
    char *v = stored_key();
    assert_non_null(strstr(v, "-----BEGIN"));
    free(v);
    /* without a master key it keeps working as it did */
    expect_key(NULL, xy);
    /* the first open under a master key seals it: no PEM text left, the same key */
    expect_key(master_a, xy);
    v = stored_key();
    assert_true(strncmp(v, "sealed:", 7) == 0);
    assert_null(strstr(v, "BEGIN"));
    assert_null(strstr(v, "PRIVATE"));
    free(v);
    /* a sealed key needs the master key to sign; a wrong one is refused at open */
    struct vt_cache *c = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(open_cache(NULL, &c, &d), VT_OK);
    uint8_t other[64];
    assert_int_equal(vt_cache_public_key(c, other, &d), VT_E_ARG);
    assert_string_equal(d.check, "bundle_key");
    vt_cache_close(c);
    assert_int_equal(open_cache(master_b, &c, &d), VT_E_ARG);
    assert_string_equal(d.check, "master_key");
    /* rotation with the cache's own command: the old key no longer opens it */
    assert_int_equal(open_cache(master_a, &c, &d), VT_OK);
    assert_int_equal(vt_cache_rewrap(c, master_b, &d), VT_OK);
    vt_cache_close(c);
    assert_int_equal(open_cache(master_a, &c, &d), VT_E_ARG);
    expect_key(master_b, xy);
}

static void test_new_key_sealed(void **state)
{
    (void)state;
    struct vt_cache *c = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(open_cache(master_a, &c, &d), VT_OK);
    uint8_t xy[64];
    assert_int_equal(vt_cache_public_key(c, xy, &d), VT_OK); /* created, sealed */
    vt_cache_close(c);
    char *v = stored_key();
    assert_true(strncmp(v, "sealed:", 7) == 0);
    free(v);
    expect_key(master_a, xy);
}

/* veritee serve: the cache and the broker on one database; the broker's rewrap rotates the bundle
 * key with every other key, and a broker opening an old database seals it too. */
static void test_broker_rewrap(void **state)
{
    (void)state;
    uint8_t xy[64];
    make_old_database(xy);
    struct vt_broker_config cfg = {.db = url};
    memcpy(cfg.master_key, master_a, 32);
    struct vt_broker *b = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_broker_open(&cfg, &b, &d), VT_OK);
    char *v = stored_key();
    assert_true(strncmp(v, "sealed:", 7) == 0);
    free(v);
    size_t n = 0;
    assert_int_equal(vt_broker_rewrap(b, master_b, cache_service, 1, &n, &d), VT_OK);
    assert_true(n >= 2); /* the signing key and the bundle key */
    vt_broker_close(b);
    struct vt_cache *c = NULL;
    assert_int_equal(open_cache(master_a, &c, &d), VT_E_ARG);
    expect_key(master_b, xy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_old_database_sealed_on_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_key_sealed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broker_rewrap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
