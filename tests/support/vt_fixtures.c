#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "vt_fixtures.h"

const char *vt_fixtures_dir(void)
{
    static const char *const vars[] = {"VERITEE_FIXTURES", "VT_FIXTURES", "VT_FIXTURES_DEFAULT"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        struct stat st;
        if (v != NULL && *v != '\0') {
            return stat(v, &st) == 0 && S_ISDIR(st.st_mode) ? v : NULL;
        }
    }
    return NULL;
}

bool vt_fixtures_absent_is_failure(void)
{
    const char *ci = getenv("CI");
    return ci != NULL && strcmp(ci, "true") == 0;
}

uint8_t *vt_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap + 1);
    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) {
            break;
        }
        cap *= 2;
        uint8_t *nb = realloc(buf, cap + 1);
        if (nb == NULL) {
            free(buf);
            buf = NULL;
        }
        buf = nb;
    }
    fclose(f);
    if (buf != NULL) {
        buf[n] = 0;
        *len = n;
    }
    return buf;
}

const char *vt_fixtures_or_skip(void)
{
    const char *dir = vt_fixtures_dir();
    if (dir == NULL) {
        if (vt_fixtures_absent_is_failure()) {
            fail_msg("fixtures folder not found (CI=true): set VERITEE_FIXTURES or place "
                     "../shared/fixtures beside the checkout");
        }
        print_message("fixtures folder not found: skipping (set VERITEE_FIXTURES)\n");
        skip();
    }
    return dir;
}

vt_time vt_fixtures_time(const char *text)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", text != NULL ? text : "");
    char *sp = strchr(buf, ' ');
    if (sp != NULL) {
        *sp = 'T';
    }
    vt_time t = 0;
    if (sp == NULL || vt_time_parse(buf, strlen(buf), &t, NULL) != VT_OK) {
        fail_msg("expected.json time \"%s\" is not \"YYYY-MM-DD hh:mm:ss+00:00\"",
                 text != NULL ? text : "(missing)");
    }
    return t;
}
