/* Shared by the serving subcommands: listen, write the port file, wait for a signal, stop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "net/http.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

int cli_serve_http(const struct cli_server_args *a,
                   void (*handler)(void *ctx, const struct vt_http_req *req,
                                   struct vt_http_resp *resp),
                   void *ctx, const char *what)
{
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_http_server_opts so = {.threads = a->threads, .max_body = a->max_body};
    char host[64];
    const char *colon = a->listen ? strrchr(a->listen, ':') : NULL;
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (colon == NULL || (size_t)(colon - a->listen) >= sizeof(host) || end == colon + 1 ||
        *end != '\0' || port < 0 || port > 65535) {
        fprintf(stderr, "%s: --listen takes HOST:PORT\n", what);
        return CLI_EXIT_USAGE;
    }
    memcpy(host, a->listen, (size_t)(colon - a->listen));
    host[colon - a->listen] = '\0';
    so.host = host;
    so.port = (unsigned)port;
    if ((a->tls_cert != NULL) != (a->tls_key != NULL)) {
        fprintf(stderr, "%s: --tls-cert and --tls-key go together\n", what);
        return CLI_EXIT_USAGE;
    }
    struct vt_buf cert, key;
    vt_buf_init(&cert, 1 << 20);
    vt_buf_init(&key, 1 << 20);
    enum vt_err err = VT_OK;
    if (a->tls_cert != NULL && ((err = vt_file_read(a->tls_cert, &cert, &d)) != VT_OK ||
                                (err = vt_file_read(a->tls_key, &key, &d)) != VT_OK)) {
        fprintf(stderr, "%s: %s\n", what, d.detail);
        vt_buf_cleanup(&key);
        vt_buf_cleanup(&cert);
        return CLI_EXIT_USAGE;
    }
    so.tls_cert = a->tls_cert ? (const char *)cert.data : NULL;
    so.tls_key = a->tls_key ? (const char *)key.data : NULL;
    struct vt_http_server *srv = NULL;
    err = vt_http_server_start(&so, handler, ctx, &srv, &d);
    vt_buf_cleanup(&key);
    vt_buf_cleanup(&cert);
    if (err != VT_OK) {
        fprintf(stderr, "%s: %s\n", what, d.detail);
        return CLI_EXIT_FAILED;
    }
    unsigned p = vt_http_server_port(srv);
    if (a->port_file != NULL) {
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", a->port_file);
        FILE *f = fopen(tmp, "w");
        if (f == NULL || fprintf(f, "%u\n", p) < 0 || fclose(f) != 0 ||
            rename(tmp, a->port_file) != 0) {
            vt_http_server_stop(srv);
            fprintf(stderr, "%s: cannot write %s\n", what, a->port_file);
            return CLI_EXIT_FAILED;
        }
    }
    fprintf(stderr, "%s: serving on %s://%s:%u\n", what, a->tls_cert ? "https" : "http", host, p);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!stop_flag) {
        pause();
    }
    vt_http_server_stop(srv);
    fprintf(stderr, "%s: stopped\n", what);
    return CLI_EXIT_OK;
}
