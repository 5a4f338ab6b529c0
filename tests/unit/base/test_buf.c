/*
 * The capped buffer and whole-file reading: growth, the cap at and one past its limit, NUL
 * termination, steal and cleanup, and every vt_file_read failure (missing file, directory, too
 * large) leaving the buffer as it was.
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

#include <veritee/buf.h>

static void assert_nul_terminated(const struct vt_buf *b)
{
    assert_non_null(b->data);
    assert_true(b->len < b->cap);
    assert_int_equal(b->data[b->len], 0);
}

static void test_init_cleanup(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.max, 100);
    vt_buf_cleanup(&b); /* empty: fine */
    vt_buf_cleanup(NULL);
    assert_int_equal(vt_buf_append(&b, "abc", 3), VT_OK);
    vt_buf_cleanup(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    vt_buf_cleanup(&b); /* twice: fine */
    /* Reusable after cleanup, with the same cap. */
    assert_int_equal(b.max, 100);
    assert_int_equal(vt_buf_append(&b, "x", 1), VT_OK);
    assert_string_equal((const char *)b.data, "x");
    vt_buf_cleanup(&b);
}

static void test_append_grows(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 1u << 20);
    uint8_t chunk[100];
    for (size_t i = 0; i < sizeof(chunk); i++) {
        chunk[i] = (uint8_t)(i + 1);
    }
    for (size_t k = 0; k < 50; k++) {
        assert_int_equal(vt_buf_append(&b, chunk, sizeof(chunk)), VT_OK);
        assert_int_equal(b.len, (k + 1) * sizeof(chunk));
        assert_nul_terminated(&b);
    }
    for (size_t k = 0; k < 50; k++) {
        assert_memory_equal(b.data + k * sizeof(chunk), chunk, sizeof(chunk));
    }
    /* An empty append is fine and keeps everything. */
    assert_int_equal(vt_buf_append(&b, NULL, 0), VT_OK);
    assert_int_equal(b.len, 5000);
    vt_buf_cleanup(&b);

    /* Even an empty append gives a valid empty string. */
    vt_buf_init(&b, 10);
    assert_int_equal(vt_buf_append(&b, "", 0), VT_OK);
    assert_nul_terminated(&b);
    assert_string_equal((const char *)b.data, "");
    vt_buf_cleanup(&b);
}

static void test_cap_exact_and_beyond(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 10);
    assert_int_equal(vt_buf_append(&b, "12345", 5), VT_OK);
    /* One past the cap: refused, contents unchanged. */
    assert_int_equal(vt_buf_append(&b, "678901", 6), VT_E_TOO_LARGE);
    assert_int_equal(b.len, 5);
    assert_string_equal((const char *)b.data, "12345");
    /* Up to exactly the cap: accepted. */
    assert_int_equal(vt_buf_append(&b, "67890", 5), VT_OK);
    assert_int_equal(b.len, 10);
    assert_string_equal((const char *)b.data, "1234567890");
    assert_nul_terminated(&b);
    /* The allocation never exceeds max + 1. */
    assert_true(b.cap <= 11);
    assert_int_equal(vt_buf_append(&b, "x", 1), VT_E_TOO_LARGE);
    assert_int_equal(vt_buf_append(&b, "", 0), VT_OK);
    /* A huge n cannot wrap the size check. */
    assert_int_equal(vt_buf_append(&b, "x", SIZE_MAX), VT_E_TOO_LARGE);
    assert_string_equal((const char *)b.data, "1234567890");
    vt_buf_cleanup(&b);

    /* max 0 holds only the empty string. */
    vt_buf_init(&b, 0);
    assert_int_equal(vt_buf_append(&b, "a", 1), VT_E_TOO_LARGE);
    assert_null(b.data);
    assert_int_equal(vt_buf_append(&b, "a", 0), VT_OK);
    assert_string_equal((const char *)b.data, "");
    vt_buf_cleanup(&b);

    /* An unlimited buffer (max SIZE_MAX) still refuses what cannot fit with its NUL. */
    vt_buf_init(&b, SIZE_MAX);
    assert_int_equal(vt_buf_append(&b, "ab", 2), VT_OK);
    assert_int_equal(vt_buf_append(&b, "x", SIZE_MAX - 2), VT_E_TOO_LARGE);
    assert_string_equal((const char *)b.data, "ab");
    vt_buf_cleanup(&b);
}

static void test_reserve(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 1000);
    assert_int_equal(vt_buf_reserve(&b, 1001), VT_E_TOO_LARGE);
    assert_null(b.data);
    assert_int_equal(vt_buf_reserve(&b, 700), VT_OK);
    assert_true(b.cap >= 701);
    assert_int_equal(b.len, 0);
    uint8_t *p = b.data;
    assert_int_equal(vt_buf_append(&b, "abc", 3), VT_OK);
    assert_int_equal(vt_buf_reserve(&b, 600), VT_OK); /* room already there for 697 more */
    assert_ptr_equal(b.data, p);
    assert_int_equal(vt_buf_reserve(&b, 998), VT_E_TOO_LARGE);
    assert_memory_equal(b.data, "abc", 4);
    vt_buf_cleanup(&b);
}

static void test_printf(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 20);
    assert_int_equal(vt_buf_printf(&b, "%s=%d", "a", 42), VT_OK);
    assert_int_equal(vt_buf_printf(&b, ";%04x", 0xbeefu), VT_OK);
    assert_string_equal((const char *)b.data, "a=42;beef");
    assert_int_equal(b.len, 9);
    /* 9 + 12 > 20: refused, nothing changed. */
    assert_int_equal(vt_buf_printf(&b, "%s", "123456789012"), VT_E_TOO_LARGE);
    assert_string_equal((const char *)b.data, "a=42;beef");
    assert_int_equal(b.len, 9);
    /* 9 + 11 == 20: accepted. */
    assert_int_equal(vt_buf_printf(&b, "%s", "12345678901"), VT_OK);
    assert_int_equal(b.len, 20);
    assert_string_equal((const char *)b.data, "a=42;beef12345678901");
    assert_int_equal(vt_buf_printf(&b, "%s", ""), VT_OK);
    assert_int_equal(b.len, 20);
    vt_buf_cleanup(&b);

    /* Growth through printf across several reallocations. */
    vt_buf_init(&b, 100000);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(vt_buf_printf(&b, "%03d,", i), VT_OK);
    }
    assert_int_equal(b.len, 4000);
    assert_memory_equal(b.data, "000,001,002,", 12);
    assert_memory_equal(b.data + 3996, "999,", 4);
    assert_nul_terminated(&b);
    vt_buf_cleanup(&b);
}

static void test_steal(void **state)
{
    (void)state;
    struct vt_buf b;
    size_t len = 99;
    vt_buf_init(&b, 64);
    assert_null(vt_buf_steal(&b, &len));
    assert_int_equal(len, 0);
    assert_int_equal(vt_buf_append(&b, "hello", 5), VT_OK);
    uint8_t *p = vt_buf_steal(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 5);
    assert_string_equal((const char *)p, "hello");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    vt_buf_cleanup(&b); /* must not free the stolen block */
    free(p);
    /* The buffer is usable again. */
    assert_int_equal(vt_buf_append(&b, "ab", 2), VT_OK);
    p = vt_buf_steal(&b, NULL);
    assert_string_equal((const char *)p, "ab");
    free(p);
}

/* A temporary file holding n bytes of a pattern; path written to path[64]. */
static void make_file(char path[64], size_t n)
{
    snprintf(path, 64, "/tmp/vt_test_buf_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++) {
        assert_int_not_equal(fputc((int)(i * 7 % 251), f), EOF);
    }
    assert_int_equal(fclose(f), 0);
}

static void assert_pattern(const struct vt_buf *b, size_t n)
{
    assert_int_equal(b->len, n);
    assert_nul_terminated(b);
    for (size_t i = 0; i < n; i++) {
        if (b->data[i] != (uint8_t)(i * 7 % 251)) {
            fail_msg("byte %zu differs", i);
        }
    }
}

/* vt_buf_replace: new contents within max; past max VT_E_TOO_LARGE and the old contents kept. */
static void test_replace(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 8);
    assert_int_equal(vt_buf_append(&b, "abcdef", 6), VT_OK);
    assert_int_equal(vt_buf_replace(&b, "xyz", 3), VT_OK);
    assert_int_equal(b.len, 3);
    assert_string_equal((const char *)b.data, "xyz");
    assert_int_equal(b.max, 8);
    assert_int_equal(vt_buf_replace(&b, "123456789", 9), VT_E_TOO_LARGE);
    assert_int_equal(b.len, 3);
    assert_string_equal((const char *)b.data, "xyz");
    assert_int_equal(vt_buf_replace(&b, "", 0), VT_OK);
    assert_int_equal(b.len, 0);
    assert_non_null(b.data);
    assert_string_equal((const char *)b.data, "");
    vt_buf_cleanup(&b);
}

static void test_file_read(void **state)
{
    (void)state;
    /* Sizes around the reader's internal chunk (64 KiB) and small ones. */
    static const size_t sizes[] = {0, 1, 63, 64, 65, 65535, 65536, 65537, 200000};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t n = sizes[k];
        char path[64];
        make_file(path, n);
        struct vt_diag d;
        struct vt_buf b;

        /* max == size: accepted. */
        vt_diag_init(&d);
        vt_buf_init(&b, n);
        assert_int_equal(vt_file_read(path, &b, &d), VT_OK);
        assert_int_equal(d.code, VT_OK);
        assert_pattern(&b, n);
        vt_buf_cleanup(&b);

        /* Ample max. */
        vt_buf_init(&b, n + 100000);
        assert_int_equal(vt_file_read(path, &b, &d), VT_OK);
        assert_pattern(&b, n);
        vt_buf_cleanup(&b);

        /* max == size - 1: too large, buffer untouched. */
        if (n > 0) {
            vt_buf_init(&b, n - 1);
            assert_int_equal(vt_buf_append(&b, "old", n - 1 < 3 ? 0 : 3), VT_OK);
            size_t old_len = b.len;
            assert_int_equal(vt_file_read(path, &b, &d), VT_E_TOO_LARGE);
            assert_int_equal(d.code, VT_E_TOO_LARGE);
            assert_string_equal(d.check, "file.size");
            assert_non_null(strstr(d.detail, path));
            assert_int_equal(b.len, old_len);
            assert_memory_equal(b.data, "old", old_len);
            vt_buf_cleanup(&b);
        }
        assert_int_equal(unlink(path), 0);
    }
}

static void test_file_read_replaces_contents(void **state)
{
    (void)state;
    char path[64];
    make_file(path, 10);
    struct vt_buf b;
    vt_buf_init(&b, 100);
    assert_int_equal(vt_buf_append(&b, "previous contents", 17), VT_OK);
    assert_int_equal(vt_file_read(path, &b, NULL), VT_OK);
    assert_pattern(&b, 10);
    vt_buf_cleanup(&b);
    assert_int_equal(unlink(path), 0);
}

static void test_file_read_errors(void **state)
{
    (void)state;
    struct vt_diag d;
    struct vt_buf b;
    vt_diag_init(&d);
    vt_buf_init(&b, 100);
    assert_int_equal(vt_buf_append(&b, "keep", 4), VT_OK);

    assert_int_equal(vt_file_read("/nonexistent/veritee/file", &b, &d), VT_E_IO);
    assert_int_equal(d.code, VT_E_IO);
    assert_string_equal(d.check, "file.read");
    assert_string_equal(d.detail, "/nonexistent/veritee/file: No such file or directory");
    assert_string_equal((const char *)b.data, "keep");

    /* A directory opens but cannot be read. */
    vt_diag_init(&d);
    assert_int_equal(vt_file_read("/tmp", &b, &d), VT_E_IO);
    assert_int_equal(d.code, VT_E_IO);
    assert_string_equal(d.detail, "/tmp: Is a directory");
    assert_string_equal((const char *)b.data, "keep");

    assert_int_equal(vt_file_read("/nonexistent", &b, NULL), VT_E_IO);
    assert_int_equal(vt_file_read(NULL, &b, &d), VT_E_ARG);
    assert_int_equal(vt_file_read("x", NULL, &d), VT_E_ARG);
    vt_buf_cleanup(&b);
}

static void test_file_read_stdin(void **state)
{
    (void)state;
    char path[64];
    make_file(path, 70000);
    int saved = dup(0);
    assert_true(saved >= 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_true(dup2(fileno(f), 0) == 0);
    fclose(f);

    struct vt_buf b;
    vt_buf_init(&b, 1u << 20);
    assert_int_equal(vt_file_read("-", &b, NULL), VT_OK);
    assert_pattern(&b, 70000);
    vt_buf_cleanup(&b);

    assert_true(dup2(saved, 0) == 0);
    close(saved);
    clearerr(stdin);
    assert_int_equal(unlink(path), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_cleanup),
        cmocka_unit_test(test_append_grows),
        cmocka_unit_test(test_cap_exact_and_beyond),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_steal),
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_file_read),
        cmocka_unit_test(test_file_read_replaces_contents),
        cmocka_unit_test(test_file_read_errors),
        cmocka_unit_test(test_file_read_stdin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
