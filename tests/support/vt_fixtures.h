/* Locating and reading the real fixtures (../shared/fixtures) from tests. */
#ifndef VT_TEST_FIXTURES_H
#define VT_TEST_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veritee/time.h>

/*
 * The fixtures directory: $VERITEE_FIXTURES, else $VT_FIXTURES, else $VT_FIXTURES_DEFAULT (set by
 * CTest), if it exists. NULL if absent; then tests skip with a message, except under CI=true,
 * where vt_fixtures_absent_is_failure() says the absence is a failure.
 */
const char *vt_fixtures_dir(void);
bool vt_fixtures_absent_is_failure(void);

/* Read a whole file into a malloc'd, NUL-terminated buffer; NULL if it cannot be read. */
uint8_t *vt_test_read_file(const char *path, size_t *len);

/*
 * Convenience for cmocka tests: returns the fixtures dir, or NULL after printing why the test is
 * skipped; under CI=true a missing folder fails the test instead.
 */
const char *vt_fixtures_or_skip(void);

/*
 * A time as the fixtures' expected.json files write it, "2022-10-12 13:49:51+00:00" (RFC 3339
 * with a space for the T): the unix time, or the test fails naming the text.
 */
vt_time vt_fixtures_time(const char *text);

#endif
