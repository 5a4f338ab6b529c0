/*
 * Test support: running the veritee command from tests. A process started with its standard
 * error in a log file and its port learnt from a --port-file; a command's output captured.
 */
#ifndef VT_TEST_PROC_H
#define VT_TEST_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Run cmd through the shell; its standard output (trailing newlines removed) in out. Returns
 * its exit status, or -1 if it could not run or did not exit normally. */
int vt_test_run_capture(const char *cmd, char *out, size_t cap);

/* Write text to path (replacing it); false on any error. */
bool vt_test_write_text(const char *path, const char *text);

/* Start argv[0] with argv (NULL-terminated; it must write its port to port_file, which is
 * removed first), standard error appended to log, and wait up to tries * 50 ms for the port:
 * true with *pid and url ("http://127.0.0.1:PORT"). False if it does not come up: when it
 * exited, *pid is 0 and *exit_status (if given) its exit status (-1 if killed by a signal). */
bool vt_test_spawn(char *const argv[], const char *log, const char *port_file, int tries,
                   pid_t *pid, char *url, size_t url_cap, int *exit_status);

#endif
