/* veritee routes: the HTTP routes each service answers, from the route tables the servers run
 * on (what to allow through a reverse proxy; the OpenAPI check compares them with
 * the files in docs/api). */
#include <stdio.h>
#include <string.h>

#include "azure/kv.h"
#include "azure/maa.h"
#include "broker/broker.h"
#include "cache/cache.h"
#include "cli.h"

static const char routes_usage[] =
    "Usage: veritee routes [cache|broker|keyvault|maa]\n"
    "\n"
    "Print the HTTP routes of the collateral cache, the key broker, the Key Vault drop-in\n"
    "(veritee serve --keyvault-listen, docs/skr.md) and the Azure Attestation drop-in (veritee\n"
    "serve --maa-listen, docs/maa.md; all by default) as\n"
    "JSON: one object per route with the service, method, OpenAPI path template, body limit in\n"
    "bytes (\"max-upload\" where --max-upload sets it), rate class and whether it may use the\n"
    "connections reserved for health and admin calls (docs/http.md). A GET route also answers\n"
    "HEAD. veritee serve answers both tables on one port (the cache's /healthz and /metrics).\n"
    "\n"
    "Exit status: 0 success, 2 usage error.\n";

static void print_table(const char *service, const struct vt_http_route_entry *t, size_t n,
                        bool *first)
{
    static const char *const rates[] = {"none", "attest", "read"};
    for (size_t i = 0; i < n; i++) {
        /* the cache's uploads: flag 1, the body limit of --max-upload */
        bool upload = strcmp(service, "cache") == 0 && (t[i].flags & 1u) != 0;
        printf("%s\n  {\"service\":\"%s\",\"method\":\"%s\",\"path\":\"%s\",\"max_body\":",
               *first ? "" : ",", service, t[i].method, t[i].path);
        if (upload) {
            printf("\"max-upload\"");
        } else {
            printf("%zu", t[i].max_body);
        }
        printf(",\"rate\":\"%s\",\"priority\":%s}",
               t[i].rate >= 0 && t[i].rate < 3 ? rates[t[i].rate] : "?",
               t[i].priority ? "true" : "false");
        *first = false;
    }
}

int cmd_routes(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "cache") != 0 && strcmp(argv[1], "broker") != 0 &&
                     strcmp(argv[1], "keyvault") != 0 && strcmp(argv[1], "maa") != 0 &&
                     strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0)) {
        fputs(routes_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (argc == 2 && argv[1][0] == '-') {
        fputs(routes_usage, stdout);
        return CLI_EXIT_OK;
    }
    bool first = true;
    size_t n;
    printf("[");
    if (argc < 2 || strcmp(argv[1], "cache") == 0) {
        const struct vt_http_route_entry *t = vt_cache_routes(&n);
        print_table("cache", t, n, &first);
    }
    if (argc < 2 || strcmp(argv[1], "broker") == 0) {
        const struct vt_http_route_entry *t = vt_broker_routes(&n);
        print_table("broker", t, n, &first);
    }
    if (argc < 2 || strcmp(argv[1], "keyvault") == 0) {
        const struct vt_http_route_entry *t = vt_kv_routes(&n);
        print_table("keyvault", t, n, &first);
    }
    if (argc < 2 || strcmp(argv[1], "maa") == 0) {
        const struct vt_http_route_entry *t = vt_maa_routes(&n);
        print_table("maa", t, n, &first);
    }
    printf("\n]\n");
    return CLI_EXIT_OK;
}
