/* veritee cache: the collateral cache service and its operator commands. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cli.h"

static const char cache_usage[] =
    "Usage: veritee cache SUBCOMMAND [OPTIONS]\n"
    "\n"
    "A self-hosted collateral cache for Intel (PCS v4 / PCCS API) and AMD (KDS API) collateral.\n"
    "\n"
    "Subcommands:\n"
    "  serve     run the HTTP service\n"
    "  token     create an API token (printed once; only its SHA-256 is stored)\n"
    "  enforce   pin the tcbEvaluationDataNumber served by default, from a time on; --list\n"
    "  impact    which platforms a tcbEvaluationDataNumber would turn OutOfDate\n"
    "  export    write every held item to a signed one-file bundle\n"
    "  import    check and load a bundle (one transaction)\n"
    "  key       print this cache's bundle-signing public key (hex X||Y)\n"
    "  check     re-verify every stored item\n"
    "  refresh   renew due items and CRLs from the upstreams once\n"
    "  rewrap    re-seal the bundle-signing key under --new-master-key-file F\n"
    "\n"
    "Common options:\n"
    "  --db URL              sqlite:PATH (default sqlite:veritee-cache.db) or postgres://...\n"
    "  --upstream URL        upstream base (repeatable, tried in order): Intel PCS\n"
    "                        (https://api.trustedservices.intel.com), AMD KDS\n"
    "                        (https://kdsintf.amd.com), a PCCS, THIM or another veritee cache\n"
    "  --mode lazy|offline   lazy: fill misses from the upstreams; offline: never contact one\n"
    "  --now TIME            start the cache's clock at TIME (tests with recorded collateral)\n"
    "  --trust-anchor FILE   check Intel documents against this root instead of Intel's\n"
    "  --amd-anchor FILE     check AMD documents against this ARK instead of AMD's\n"
    "  --master-key-file F   seal the bundle-signing key under this 256-bit key (64 hex\n"
    "                        characters); default: VERITEE_MASTER_KEY if set, else the key\n"
    "                        is kept unsealed (a sealed one then cannot sign)\n"
    "\n"
    "serve options:\n"
    "  --listen HOST:PORT    default 127.0.0.1:8081; port 0 picks a free port\n"
    "  --port-file FILE      write the port listened on to FILE\n"
    "  --tls-cert FILE --tls-key FILE   serve HTTPS\n"
    "  --threads N           worker threads (default: CPUs)\n"
    "  --upstream-timeout MS per attempt (default 10000)\n"
    "  --retries N           extra attempts per upstream on 5xx, 429 or transport errors (2)\n"
    "  --backoff MS          first retry delay, doubling, capped at --max-backoff (200, 5000)\n"
    "  --max-stale SECONDS   serve items up to this long past nextUpdate while upstreams fail\n"
    "                        (default 604800, 7 days)\n"
    "  --refresh-interval S  refresher period (default 3600; 0 disables)\n"
    "  --refresh-ahead S     renew items this long before nextUpdate (default 86400)\n"
    "  --read-token-required read endpoints need a bearer token too\n"
    "  --max-upload BYTES    largest bundle POSTed to /admin/v1/import (default 64M; K, M, G)\n"
    "  --new-fetch-rate N    upstream fetches per second for documents not held (a token\n"
    "                        bucket; default 5; 0: unlimited); others get 503 + Retry-After\n"
    "  --new-fetch-burst N   the bucket's size (default 50)\n"
    "  --no-migrate          refuse to start on a database whose schema is older than this\n"
    "                        veritee (exit 3) instead of migrating it (veritee db migrate)\n"
    "\n"
    "enforce: --tee sgx|tdx --tcb-eval N [--from TIME] | --list\n"
    "impact:  --tee sgx|tdx --tcb-eval N [QUOTE...]\n"
    "token:   --role admin|read|user [--name NAME] [--value-file FILE]\n"
    "         user: PCCS's user token (platform registration by PCKIDRetrievalTool);\n"
    "         --value-file: keep the token in FILE (first line; - for stdin) instead of a new\n"
    "         random one, e.g. the user_token PCKIDRetrievalTool's network_setting.conf holds\n"
    "export:  --out FILE        import: --trust-key HEX FILE\n"
    "\n"
    "serve brings the database's schema to this veritee's version when it starts (docs/deploy.md\n"
    "\"Upgrading\"); the other subcommands create a new database's tables but refuse an older\n"
    "schema. Every subcommand refuses a newer one.\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error, 3 the database's schema is newer than this\n"
    "veritee, or older and not to be migrated by this subcommand.\n";

struct cache_args {
    struct vt_cache_config cfg;
    const char *listen, *port_file, *tls_cert, *tls_key, *now;
    const char *tee, *tcb_eval, *from, *role, *name, *out, *trust_key, *value_file;
    const char *anchor, *amd_anchor, *master_file, *new_master_file;
    uint8_t master[32];
    unsigned threads;
    bool list, no_migrate;
    struct vt_http_limits limits;
};

static int usage_error(const char *msg)
{
    fprintf(stderr, "veritee cache: %s\n", msg);
    return CLI_EXIT_USAGE;
}

static bool parse_long(const char *s, long long *v)
{
    char *end;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return *s != '\0' && *end == '\0' && errno == 0 && *v >= 0;
}

static int parse_args(int argc, char **argv, struct cache_args *a)
{
    enum {
        O_DB = 256,
        O_UP,
        O_MODE,
        O_NOW,
        O_LISTEN,
        O_PORTFILE,
        O_CERT,
        O_KEY,
        O_THREADS,
        O_TIMEOUT,
        O_RETRIES,
        O_BACKOFF,
        O_MAXBACKOFF,
        O_STALE,
        O_RINT,
        O_RAHEAD,
        O_READTOK,
        O_TEE,
        O_EVAL,
        O_FROM,
        O_LIST,
        O_ROLE,
        O_NAME,
        O_VALUEFILE,
        O_OUT,
        O_TRUSTKEY,
        O_ANCHOR,
        O_AMD,
        O_UPLOAD,
        O_MK,
        O_NMK,
        O_NFRATE,
        O_NFBURST,
        O_NOMIG,
    };
    static const struct option opts[] = {
        {"db", 1, NULL, O_DB},
        {"upstream", 1, NULL, O_UP},
        {"mode", 1, NULL, O_MODE},
        {"now", 1, NULL, O_NOW},
        {"listen", 1, NULL, O_LISTEN},
        {"port-file", 1, NULL, O_PORTFILE},
        {"tls-cert", 1, NULL, O_CERT},
        {"tls-key", 1, NULL, O_KEY},
        {"threads", 1, NULL, O_THREADS},
        {"upstream-timeout", 1, NULL, O_TIMEOUT},
        {"retries", 1, NULL, O_RETRIES},
        {"backoff", 1, NULL, O_BACKOFF},
        {"max-backoff", 1, NULL, O_MAXBACKOFF},
        {"max-stale", 1, NULL, O_STALE},
        {"refresh-interval", 1, NULL, O_RINT},
        {"refresh-ahead", 1, NULL, O_RAHEAD},
        {"read-token-required", 0, NULL, O_READTOK},
        {"tee", 1, NULL, O_TEE},
        {"tcb-eval", 1, NULL, O_EVAL},
        {"from", 1, NULL, O_FROM},
        {"list", 0, NULL, O_LIST},
        {"role", 1, NULL, O_ROLE},
        {"name", 1, NULL, O_NAME},
        {"value-file", 1, NULL, O_VALUEFILE},
        {"out", 1, NULL, O_OUT},
        {"trust-key", 1, NULL, O_TRUSTKEY},
        {"trust-anchor", 1, NULL, O_ANCHOR},
        {"amd-anchor", 1, NULL, O_AMD},
        {"max-upload", 1, NULL, O_UPLOAD},
        {"master-key-file", 1, NULL, O_MK},
        {"new-master-key-file", 1, NULL, O_NMK},
        {"new-fetch-rate", 1, NULL, O_NFRATE},
        {"new-fetch-burst", 1, NULL, O_NFBURST},
        {"no-migrate", 0, NULL, O_NOMIG},
        CLI_LIMIT_OPTIONS,
        {"help", 0, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    a->cfg.db = "sqlite:veritee-cache.db";
    a->cfg.mode = VT_CACHE_LAZY;
    a->cfg.retries = 2;
    a->cfg.max_stale = 7 * 86400;
    a->cfg.refresh_interval = 3600;
    a->cfg.refresh_ahead = 86400;
    a->listen = "127.0.0.1:8081";
    cli_limits_defaults(&a->limits);
    int o;
    long long v;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        bool num_ok = true;
        switch (o) {
        case O_DB:
            a->cfg.db = optarg;
            break;
        case O_UP:
            if (a->cfg.n_upstreams == VT_CACHE_MAX_UPSTREAMS) {
                return usage_error("too many --upstream");
            }
            a->cfg.upstreams[a->cfg.n_upstreams++] = optarg;
            break;
        case O_MODE:
            if (strcmp(optarg, "lazy") != 0 && strcmp(optarg, "offline") != 0) {
                return usage_error("--mode takes lazy or offline");
            }
            a->cfg.mode = optarg[0] == 'l' ? VT_CACHE_LAZY : VT_CACHE_OFFLINE;
            break;
        case O_NOW:
            a->now = optarg;
            break;
        case O_LISTEN:
            a->listen = optarg;
            break;
        case O_PORTFILE:
            a->port_file = optarg;
            break;
        case O_CERT:
            a->tls_cert = optarg;
            break;
        case O_KEY:
            a->tls_key = optarg;
            break;
        case O_THREADS:
            num_ok = parse_long(optarg, &v) && v <= 256;
            a->threads = (unsigned)v;
            break;
        case O_TIMEOUT:
            num_ok = parse_long(optarg, &v) && v > 0;
            a->cfg.upstream_timeout_ms = (long)v;
            break;
        case O_RETRIES:
            num_ok = parse_long(optarg, &v) && v <= 20;
            a->cfg.retries = (unsigned)v;
            break;
        case O_BACKOFF:
            num_ok = parse_long(optarg, &v) && v > 0;
            a->cfg.backoff_ms = (long)v;
            break;
        case O_MAXBACKOFF:
            num_ok = parse_long(optarg, &v) && v > 0;
            a->cfg.max_backoff_ms = (long)v;
            break;
        case O_STALE:
            num_ok = parse_long(optarg, &v);
            a->cfg.max_stale = v;
            break;
        case O_RINT:
            num_ok = parse_long(optarg, &v);
            a->cfg.refresh_interval = v;
            break;
        case O_RAHEAD:
            num_ok = parse_long(optarg, &v);
            a->cfg.refresh_ahead = v;
            break;
        case O_READTOK:
            a->cfg.read_token_required = true;
            break;
        case O_TEE:
            a->tee = optarg;
            break;
        case O_EVAL:
            a->tcb_eval = optarg;
            break;
        case O_FROM:
            a->from = optarg;
            break;
        case O_LIST:
            a->list = true;
            break;
        case O_ROLE:
            a->role = optarg;
            break;
        case O_NAME:
            a->name = optarg;
            break;
        case O_VALUEFILE:
            a->value_file = optarg;
            break;
        case O_OUT:
            a->out = optarg;
            break;
        case O_TRUSTKEY:
            a->trust_key = optarg;
            break;
        case O_ANCHOR:
            a->anchor = optarg;
            break;
        case O_AMD:
            a->amd_anchor = optarg;
            break;
        case O_UPLOAD:
            num_ok = cli_parse_bytes(optarg, &a->cfg.max_upload);
            break;
        case O_MK:
            a->master_file = optarg;
            break;
        case O_NMK:
            a->new_master_file = optarg;
            break;
        case O_NFRATE:
            num_ok = parse_long(optarg, &v) && v <= 1000000;
            a->cfg.new_fetch_rate = v > 0 ? (double)v : -1; /* 0: unlimited */
            break;
        case O_NFBURST:
            num_ok = parse_long(optarg, &v) && v > 0 && v <= 1000000;
            a->cfg.new_fetch_burst = v;
            break;
        case O_NOMIG:
            a->no_migrate = true;
            break;
        case 'h':
            fputs(cache_usage, stdout);
            fputs(cli_limit_usage, stdout);
            return -1;
        default: {
            int r = cli_limit_option(&a->limits, o, optarg, "veritee cache");
            if (r < 0) {
                fputs(cache_usage, stderr);
                return CLI_EXIT_USAGE;
            }
            if (r > 0) {
                return r;
            }
            break;
        }
        }
        if (!num_ok) {
            fprintf(stderr, "veritee cache: --%s takes a number in range, not \"%s\"\n",
                    opts[o - O_DB].name, optarg);
            return CLI_EXIT_USAGE;
        }
    }
    return 0;
}

static int fail(enum vt_err err, const struct vt_diag *d)
{
    fprintf(stderr, "veritee cache: %s: %s: %s\n", vt_err_name(err), d->check, d->detail);
    return cli_exit_status_diag(err, d);
}

static enum vt_tee parse_tee(const char *s)
{
    return s == NULL               ? VT_TEE_NONE
           : strcmp(s, "sgx") == 0 ? VT_TEE_SGX
           : strcmp(s, "tdx") == 0 ? VT_TEE_TDX
                                   : VT_TEE_NONE;
}

/* The schema components the cache uses (store/schema.h). */
static const struct vt_schema_component *const cache_schema[] = {&vt_schema_core, &vt_schema_cache};

static int serve(struct vt_cache *c, const struct cache_args *a)
{
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_cache_refresher_start(c, &d);
    if (err == VT_OK) {
        err = vt_cache_replica_start(c, 0, &d);
    }
    if (err != VT_OK) {
        return fail(err, &d);
    }
    char what[160];
    snprintf(what, sizeof(what), "veritee-cache (%s, %s, %zu upstreams)",
             c->cfg.mode == VT_CACHE_OFFLINE ? "offline" : "lazy",
             vt_store_backend(c->store) == VT_STORE_SQLITE ? "sqlite" : "postgres",
             c->cfg.n_upstreams);
    struct cli_schema_watch w = {"veritee-cache", c->store, cache_schema, 2};
    struct cli_server_args sa = {.listen = a->listen,
                                 .port_file = a->port_file,
                                 .tls_cert = a->tls_cert,
                                 .tls_key = a->tls_key,
                                 .threads = a->threads,
                                 .route = vt_cache_http_route,
                                 .limits = a->limits,
                                 .watch = cli_schema_watch,
                                 .watch_ctx = &w};
    return cli_serve_http(&sa, vt_cache_http_handler, c, what);
}

static int read_quotes(char **paths, int n, struct vt_buf *bufs, const uint8_t **ptrs, size_t *lens,
                       struct vt_diag *d)
{
    for (int i = 0; i < n; i++) {
        vt_buf_init(&bufs[i], VT_MAX_EVIDENCE_SIZE);
        enum vt_err err = vt_file_read(paths[i], &bufs[i], d);
        if (err == VT_OK) {
            err = vt_evidence_decode_text(&bufs[i], d);
        }
        if (err != VT_OK) {
            return fail(err, d);
        }
        ptrs[i] = bufs[i].data;
        lens[i] = bufs[i].len;
    }
    return 0;
}

struct key_list {
    char (*k)[VT_CACHE_KEY_MAX];
    size_t n, cap;
};

static bool collect_key(void *ctx, const struct vt_sql_row *row)
{
    struct key_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        void *p = realloc(l->k, cap * sizeof(*l->k));
        if (p == NULL) {
            return false;
        }
        l->k = p;
        l->cap = cap;
    }
    snprintf(l->k[l->n++], VT_CACHE_KEY_MAX, "%s", vt_row_text(row, 0));
    return true;
}

/* Re-verify every stored item as if it had just been downloaded. */
static int check_all(struct vt_cache *c)
{
    struct vt_diag d;
    vt_diag_init(&d);
    struct key_list l = {NULL, 0, 0};
    enum vt_err err =
        vt_store_exec(c->store, "SELECT key FROM vt_items WHERE length(body) > 0 ORDER BY key",
                      NULL, 0, collect_key, &l, NULL, &d);
    if (err != VT_OK) {
        free(l.k);
        return fail(err, &d);
    }
    size_t good = 0, bad = 0;
    for (size_t i = 0; i < l.n; i++) {
        struct vt_cache_item it;
        struct vt_doc_meta m;
        vt_diag_init(&d);
        err = vt_cache_load(c, l.k[i], &it, &d);
        if (err == VT_OK) {
            err = vt_cache_check_item(c, &it, &m, &d);
            vt_cache_item_cleanup(&it);
        }
        if (err == VT_OK) {
            vt_doc_meta_cleanup(&m);
            good++;
        } else {
            bad++;
            printf("BAD %s: %s: %s\n", l.k[i], vt_err_name(err), d.detail);
        }
    }
    free(l.k);
    printf("{\"items\":%zu,\"good\":%zu,\"bad\":%zu}\n", good + bad, good, bad);
    return bad == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

static int run(const char *sub, struct vt_cache *c, struct cache_args *a, int argc, char **argv)
{
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = VT_OK;
    if (strcmp(sub, "serve") == 0) {
        return serve(c, a);
    }
    if (strcmp(sub, "token") == 0) {
        char token[64];
        if (a->role == NULL) {
            return usage_error("token needs --role admin|read|user");
        }
        if (a->value_file != NULL) {
            /* The operator's own value: read, never printed, and wiped. */
            char line[256] = "";
            FILE *f = strcmp(a->value_file, "-") == 0 ? stdin : fopen(a->value_file, "r");
            if (f == NULL) {
                fprintf(stderr, "veritee cache: %s: %s\n", a->value_file, strerror(errno));
                return CLI_EXIT_FAILED;
            }
            bool got = fgets(line, sizeof(line), f) != NULL;
            if (f != stdin) {
                fclose(f);
            }
            line[strcspn(line, "\r\n")] = '\0';
            err = got ? vt_cache_token_add(c, a->role, a->name, line, &d)
                      : vt_fail(&d, VT_E_ARG, "token", "%s is empty", a->value_file);
            vt_wipe(line, sizeof(line));
            if (err != VT_OK) {
                return fail(err, &d);
            }
            printf("stored a %s token from %s\n", a->role, a->value_file);
            return CLI_EXIT_OK;
        }
        if ((err = vt_cache_token_create(c, a->role, a->name, token, &d)) != VT_OK) {
            return fail(err, &d);
        }
        printf("%s\n", token);
        return CLI_EXIT_OK;
    }
    if (strcmp(sub, "enforce") == 0) {
        if (!a->list) {
            long long ev;
            vt_time from = vt_cache_now(c);
            if (parse_tee(a->tee) == VT_TEE_NONE || a->tcb_eval == NULL ||
                !parse_long(a->tcb_eval, &ev) || ev == 0 || ev > UINT32_MAX) {
                return usage_error("enforce needs --tee sgx|tdx and --tcb-eval N");
            }
            if (a->from != NULL && (err = vt_time_parse(a->from, strlen(a->from), &from, &d))) {
                return fail(err, &d);
            }
            if ((err = vt_cache_enforce(c, parse_tee(a->tee), (uint32_t)ev, from, &d))) {
                return fail(err, &d);
            }
        }
        char *s = vt_cache_enforce_list(c);
        printf("%s\n", s ? s : "[]");
        free(s);
        return CLI_EXIT_OK;
    }
    if (strcmp(sub, "impact") == 0) {
        long long ev;
        if (parse_tee(a->tee) == VT_TEE_NONE || a->tcb_eval == NULL ||
            !parse_long(a->tcb_eval, &ev) || ev == 0 || ev > UINT32_MAX) {
            return usage_error("impact needs --tee sgx|tdx and --tcb-eval N");
        }
        int nq = argc - optind;
        struct vt_buf bufs[16];
        const uint8_t *ptrs[16];
        size_t lens[16];
        if (nq > 16) {
            return usage_error("at most 16 quotes");
        }
        int rc = read_quotes(argv + optind, nq, bufs, ptrs, lens, &d);
        char *s = NULL;
        if (rc == 0) {
            err =
                vt_cache_impact(c, parse_tee(a->tee), (uint32_t)ev, ptrs, lens, (size_t)nq, &s, &d);
            rc = err != VT_OK ? fail(err, &d) : CLI_EXIT_OK;
        }
        for (int i = 0; i < nq; i++) {
            vt_buf_cleanup(&bufs[i]);
        }
        if (s != NULL) {
            printf("%s\n", s);
            free(s);
        }
        return rc;
    }
    if (strcmp(sub, "export") == 0) {
        struct vt_buf b;
        vt_buf_init(&b, 512u << 20);
        size_t n = 0;
        if ((err = vt_cache_export(c, &b, &n, &d)) != VT_OK) {
            vt_buf_cleanup(&b);
            return fail(err, &d);
        }
        FILE *f = a->out ? fopen(a->out, "wb") : stdout;
        bool ok = f != NULL && fwrite(b.data, 1, b.len, f) == b.len;
        if (f != NULL && f != stdout) {
            ok = fclose(f) == 0 && ok;
        }
        vt_buf_cleanup(&b);
        if (!ok) {
            fprintf(stderr, "veritee cache: cannot write %s\n", a->out ? a->out : "stdout");
            return CLI_EXIT_FAILED;
        }
        fprintf(stderr, "veritee-cache: exported %zu items\n", n);
        return CLI_EXIT_OK;
    }
    if (strcmp(sub, "import") == 0) {
        uint8_t xy[64];
        if (a->trust_key == NULL || optind != argc - 1 ||
            vt_hex_decode_exact(a->trust_key, strlen(a->trust_key), xy, 64) != VT_OK) {
            return usage_error("import needs --trust-key HEX (128 hex characters) and one FILE");
        }
        struct vt_buf b;
        vt_buf_init(&b, 512u << 20);
        size_t n = 0;
        if ((err = vt_file_read(argv[optind], &b, &d)) == VT_OK) {
            err = vt_cache_import(c, b.data, b.len, xy, &n, &d);
        }
        vt_buf_cleanup(&b);
        if (err != VT_OK) {
            return fail(err, &d);
        }
        printf("{\"imported\":%zu}\n", n);
        return CLI_EXIT_OK;
    }
    if (strcmp(sub, "key") == 0) {
        uint8_t xy[64];
        char hex[129];
        if ((err = vt_cache_public_key(c, xy, &d)) != VT_OK) {
            return fail(err, &d);
        }
        vt_hex_encode(xy, 64, hex);
        printf("%s\n", hex);
        return CLI_EXIT_OK;
    }
    if (strcmp(sub, "refresh") == 0) {
        size_t renewed, failed;
        if ((err = vt_cache_refresh(c, &renewed, &failed, &d)) != VT_OK) {
            return fail(err, &d);
        }
        printf("{\"renewed\":%zu,\"failed\":%zu}\n", renewed, failed);
        return failed ? CLI_EXIT_FAILED : CLI_EXIT_OK;
    }
    if (strcmp(sub, "check") == 0) {
        return check_all(c);
    }
    if (strcmp(sub, "rewrap") == 0) {
        uint8_t nk[32];
        if (a->new_master_file == NULL) {
            return usage_error("rewrap needs --new-master-key-file FILE");
        }
        if ((err = cli_read_master_key(a->new_master_file, nk, &d)) == VT_OK) {
            err = vt_cache_rewrap(c, nk, &d);
        }
        vt_wipe(nk, sizeof(nk));
        if (err != VT_OK) {
            return fail(err, &d);
        }
        printf("{\"rewrapped\":1}\n");
        return CLI_EXIT_OK;
    }
    fprintf(stderr, "veritee cache: unknown subcommand '%s'\n%s", sub, cache_usage);
    return CLI_EXIT_USAGE;
}

int cmd_cache(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(cache_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *sub = argv[1];
    struct cache_args a;
    memset(&a, 0, sizeof(a));
    int rc = parse_args(argc - 1, argv + 1, &a);
    if (rc != 0) {
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_cert_list intel, amd;
    vt_cert_list_init(&intel);
    vt_cert_list_init(&amd);
    enum vt_err err = VT_OK;
    if (a.now != NULL && (err = vt_time_parse(a.now, strlen(a.now), &a.cfg.clock_base, &d))) {
        return fail(err, &d);
    }
    if (a.anchor != NULL) {
        if ((err = vt_cert_list_from_file(a.anchor, &intel, &d)) != VT_OK) {
            return fail(err, &d);
        }
        a.cfg.intel_anchors = &intel;
    }
    if (a.amd_anchor != NULL) {
        if ((err = vt_cert_list_from_file(a.amd_anchor, &amd, &d)) != VT_OK) {
            vt_cert_list_cleanup(&intel);
            return fail(err, &d);
        }
        a.cfg.amd_anchors = &amd;
    }
    const char *env_key = getenv("VERITEE_MASTER_KEY");
    if (a.master_file != NULL || (env_key != NULL && env_key[0] != '\0')) {
        if ((err = cli_read_master_key(a.master_file, a.master, &d)) != VT_OK) {
            vt_cert_list_cleanup(&intel);
            vt_cert_list_cleanup(&amd);
            return fail(err, &d);
        }
        a.cfg.master_key = a.master;
    }
    /* serve migrates an older schema (unless --no-migrate); the others only create a new
     * database's tables. */
    a.cfg.schema_mode =
        strcmp(sub, "serve") == 0 && !a.no_migrate ? VT_SCHEMA_MIGRATE : VT_SCHEMA_CREATE;
    struct vt_cache *c = NULL;
    if ((rc = cli_schema("veritee cache", a.cfg.db, cache_schema, 2, a.cfg.schema_mode)) != 0) {
        vt_wipe(a.master, sizeof(a.master));
        vt_cert_list_cleanup(&intel);
        vt_cert_list_cleanup(&amd);
        return rc;
    }
    err = vt_cache_open(&a.cfg, &c, &d);
    vt_wipe(a.master, sizeof(a.master));
    if (err != VT_OK) {
        rc = fail(err, &d);
    } else {
        /* getopt permuted argv: operands are from optind on, relative to argv + 1 */
        rc = run(sub, c, &a, argc - 1, argv + 1);
    }
    vt_cache_close(c);
    vt_cert_list_cleanup(&intel);
    vt_cert_list_cleanup(&amd);
    return rc;
}
