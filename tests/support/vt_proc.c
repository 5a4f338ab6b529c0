#include "vt_proc.h"

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int vt_test_run_capture(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    if (p == NULL) {
        return -1;
    }
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r')) {
        out[--n] = '\0';
    }
    int st = pclose(p);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool vt_test_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    bool ok = f != NULL && fputs(text, f) >= 0;
    return f != NULL && fclose(f) == 0 && ok;
}

bool vt_test_spawn(char *const argv[], const char *log, const char *port_file, int tries,
                   pid_t *pid, char *url, size_t url_cap, int *exit_status)
{
    unlink(port_file);
    *pid = fork();
    if (*pid < 0) {
        *pid = 0;
        return false;
    }
    if (*pid == 0) {
        FILE *f = freopen(log, "a", stderr);
        (void)f;
        execv(argv[0], argv);
        _exit(127);
    }
    for (int t = 0; t < tries; t++) {
        FILE *f = fopen(port_file, "r");
        unsigned port = 0;
        if (f != NULL && fscanf(f, "%u", &port) == 1 && port > 0) {
            fclose(f);
            snprintf(url, url_cap, "http://127.0.0.1:%u", port);
            return true;
        }
        if (f != NULL) {
            fclose(f);
        }
        int st = 0;
        if (waitpid(*pid, &st, WNOHANG) == *pid) {
            if (exit_status != NULL) {
                *exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            }
            *pid = 0;
            return false;
        }
        usleep(50000);
    }
    return false;
}
