/* Shared by the serving subcommands: the server's limit options; listen, write the port file,
 * wait for a signal, stop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"
#include "net/http.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* The ids of CLI_LIMIT_OPTIONS, in its order. */
enum {
    O_MAX_CONN = CLI_LIMIT_OPT,
    O_PER_CLIENT,
    O_RESERVED,
    O_HEAD_TO,
    O_BODY_TO,
    O_IDLE_TO,
    O_WRITE_TO,
    O_BODY_MEM,
    O_RATE,
    O_PROXY,
};

const char cli_limit_usage[] =
    "Server limits (docs/deploy.md):\n"
    "  --max-connections N     open connections in all (default 4096)\n"
    "  --reserved-connections N  of those, kept for /healthz, /metrics and admin calls (64)\n"
    "  --max-connections-per-client N  per client address (64; trusted proxies: no limit)\n"
    "  --head-timeout S        connect or first byte to the end of the request head (10)\n"
    "  --body-timeout S        end of the head to the end of the body (60)\n"
    "  --idle-timeout S        keep-alive wait for the next request (30)\n"
    "  --write-timeout S       to send a whole response (60)\n"
    "  --max-body-memory BYTES request bodies held at once, all clients (256M; K, M, G)\n"
    "  --rate-limit CLASS=R[/B] per-client rate of a class, R a second, bursts of B; CLASS\n"
    "                          attest (challenge, attest, release, KBS; default 20/100) or read\n"
    "                          (other calls; default off); R \"off\" removes the limit\n"
    "  --trusted-proxy LIST    reverse proxies (addresses or CIDRs, comma-separated; repeatable)\n"
    "                          whose X-Forwarded-For names the client for rate limits\n";

void cli_limits_defaults(struct vt_http_limits *l)
{
    memset(l, 0, sizeof(*l)); /* zero: the server's own default */
    l->rates[VT_HTTP_RATE_ATTEST] = (struct vt_http_rate){20, 100};
}

/* A count or seconds: 1 to max. */
static bool positive(const char *s, unsigned long long max, unsigned long long *v)
{
    char *end;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return *s >= '0' && *s <= '9' && *end == '\0' && errno == 0 && *v >= 1 && *v <= max;
}

bool cli_parse_bytes(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
    if (shift != 0) {
        end++;
    }
    if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v == 0 ||
        v > (SIZE_MAX >> 1) >> shift) {
        return false;
    }
    *out = (size_t)(v << shift);
    return true;
}

static int rate_option(struct vt_http_limits *l, const char *arg, const char *prog)
{
    const char *eq = strchr(arg, '=');
    enum vt_http_rate_class cls = VT_HTTP_RATE_NONE;
    if (eq != NULL && (size_t)(eq - arg) == 6 && strncmp(arg, "attest", 6) == 0) {
        cls = VT_HTTP_RATE_ATTEST;
    } else if (eq != NULL && (size_t)(eq - arg) == 4 && strncmp(arg, "read", 4) == 0) {
        cls = VT_HTTP_RATE_READ;
    } else {
        fprintf(stderr, "%s: --rate-limit takes attest=RATE[/BURST] or read=RATE[/BURST]\n", prog);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(eq + 1, "off") == 0) {
        l->rates[cls] = (struct vt_http_rate){0, 0};
        return 0;
    }
    char *end;
    errno = 0;
    double rate = strtod(eq + 1, &end), burst = rate < 1 ? 1 : rate;
    if (end != eq + 1 && *end == '/') {
        char *e2;
        burst = strtod(end + 1, &e2);
        end = e2 == end + 1 ? end : e2;
    }
    if (end == eq + 1 || *end != '\0' || errno != 0 || !(rate > 0 && rate <= 1e6) ||
        !(burst >= 1 && burst <= 1e6)) {
        fprintf(stderr,
                "%s: --rate-limit %s: RATE is a positive number of requests a second (or off), "
                "BURST a number from 1\n",
                prog, arg);
        return CLI_EXIT_USAGE;
    }
    l->rates[cls] = (struct vt_http_rate){rate, burst};
    return 0;
}

int cli_limit_option(struct vt_http_limits *l, int id, const char *arg, const char *prog)
{
    static char proxies[2048];
    unsigned long long v = 0;
    const char *name = NULL;
    switch (id) {
    case O_RATE:
        return rate_option(l, arg, prog);
    case O_BODY_MEM:
        if (!cli_parse_bytes(arg, &l->max_body_memory)) {
            fprintf(stderr, "%s: --max-body-memory takes a byte count (K, M, G suffixes)\n", prog);
            return CLI_EXIT_USAGE;
        }
        return 0;
    case O_PROXY: {
        struct vt_diag d;
        vt_diag_init(&d);
        size_t used = strlen(proxies);
        if (vt_http_proxies_check(arg, &d) != VT_OK || used + strlen(arg) + 2 > sizeof(proxies)) {
            fprintf(stderr, "%s: --trusted-proxy %s: %s\n", prog, arg,
                    d.detail[0] ? d.detail : "too many proxies");
            return CLI_EXIT_USAGE;
        }
        snprintf(proxies + used, sizeof(proxies) - used, "%s%s", used ? "," : "", arg);
        l->trusted_proxies = proxies;
        return 0;
    }
    case O_MAX_CONN:
    case O_PER_CLIENT:
    case O_RESERVED:
        name = id == O_MAX_CONN     ? "--max-connections"
               : id == O_PER_CLIENT ? "--max-connections-per-client"
                                    : "--reserved-connections";
        if (!positive(arg, 1000000, &v)) {
            fprintf(stderr, "%s: %s takes a count from 1 to 1000000\n", prog, name);
            return CLI_EXIT_USAGE;
        }
        *(id == O_MAX_CONN     ? &l->max_connections
          : id == O_PER_CLIENT ? &l->max_connections_per_client
                               : &l->reserved_connections) = (unsigned)v;
        return 0;
    case O_HEAD_TO:
    case O_BODY_TO:
    case O_IDLE_TO:
    case O_WRITE_TO:
        if (!positive(arg, 86400, &v)) {
            fprintf(stderr, "%s: a timeout takes seconds from 1 to 86400\n", prog);
            return CLI_EXIT_USAGE;
        }
        *(id == O_HEAD_TO   ? &l->head_timeout_s
          : id == O_BODY_TO ? &l->body_timeout_s
          : id == O_IDLE_TO ? &l->idle_timeout_s
                            : &l->write_timeout_s) = (unsigned)v;
        return 0;
    default:
        return -1;
    }
}

int cli_http_start(const struct cli_server_args *a, vt_http_handler handler, void *ctx,
                   const char *what, struct vt_http_server **out)
{
    *out = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    unsigned max_conn = a->limits.max_connections ? a->limits.max_connections : 4096;
    if (a->limits.reserved_connections >= max_conn) {
        fprintf(stderr, "%s: --reserved-connections must be below --max-connections\n", what);
        return CLI_EXIT_USAGE;
    }
    struct vt_http_server_opts so = {
        .threads = a->threads, .max_body = a->max_body, .route = a->route, .limits = a->limits};
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
    *out = srv;
    return CLI_EXIT_OK;
}

int cli_serve_http(const struct cli_server_args *a, vt_http_handler handler, void *ctx,
                   const char *what)
{
    struct vt_http_server *srv = NULL;
    int rc = cli_http_start(a, handler, ctx, what, &srv);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    for (unsigned tick = 0; !stop_flag && rc == CLI_EXIT_OK;) {
        sleep(1); /* a signal ends it early */
        if (a->watch != NULL && ++tick % CLI_WATCH_SECONDS == 0 && !stop_flag) {
            rc = a->watch(a->watch_ctx);
        }
    }
    vt_http_server_stop(srv);
    fprintf(stderr, "%s: stopped\n", what);
    return rc;
}
