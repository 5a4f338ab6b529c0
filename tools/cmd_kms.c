/* veritee kms: the AWS KMS drop-in for Nitro Enclaves (docs/kms.md) and its access keys. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kms/kms.h"
#include "store/master_key.h"

static const char kms_usage[] =
    "Usage: veritee kms SUBCOMMAND [OPTIONS]\n"
    "\n"
    "An AWS KMS endpoint for Nitro Enclaves: the KMS API (AWS JSON 1.1, SigV4), key policies on\n"
    "attestation (kms:RecipientAttestation:*), CiphertextForRecipient, every call in the\n"
    "audit log. Enclave code written for AWS KMS only changes its endpoint (docs/kms.md).\n"
    "\n"
    "Subcommands:\n"
    "  serve                 run the KMS endpoint (POST /, X-Amz-Target: TrentService.*)\n"
    "  access-key create     create an access key for --principal ARN [--admin]; prints the\n"
    "                        AccessKeyId and the SecretAccessKey (shown once, stored sealed)\n"
    "  access-key list       list the access keys (no secrets)\n"
    "  access-key disable    disable --access-key-id ID (its requests are refused from then on)\n"
    "\n"
    "Options:\n"
    "  --config FILE           options from FILE, one \"name = value\" per line (the long\n"
    "                          option without --); the command line overrides them\n"
    "  --db URL                sqlite:PATH (default sqlite:veritee.db) or postgres://...; the\n"
    "                          broker's database (the KMS tables are its \"kms\" component)\n"
    "  --master-key-file F     the 256-bit master key as 64 hex characters; default: the\n"
    "                          environment variable VERITEE_MASTER_KEY\n"
    "  --account ID            serve: the 12-digit account id of key ARNs (required)\n"
    "  --region R              serve: the region of key ARNs and of SigV4 scopes (us-east-1)\n"
    "  --recipient-max-age S   serve: oldest attestation document taken, in seconds after its\n"
    "                          timestamp (default 300)\n"
    "  --trust-anchor FILE     serve: also trust this root for attestation documents\n"
    "                          (repeatable; the AWS Nitro Enclaves root is always trusted)\n"
    "  --issuer NAME           the audit log's origin (default veritee: as the broker's)\n"
    "  --now TIME              serve: start the clock at TIME (tests with recorded documents;\n"
    "                          SigV4 dates are checked against this clock)\n"
    "  --listen HOST:PORT      serve: default 127.0.0.1:8090; port 0 picks a free port\n"
    "  --port-file FILE        serve: write the port listened on to FILE\n"
    "  --tls-cert F --tls-key F   serve HTTPS (what enclaves' SDKs expect of KMS)\n"
    "  --threads N             serve: worker threads (default: CPUs)\n"
    "  --no-migrate            serve: refuse a database whose schema is older than this veritee\n"
    "                          (exit 3) instead of migrating it\n"
    "  --principal ARN         access-key create: the principal the key signs as, e.g.\n"
    "                          arn:aws:iam::111122223333:role/enclave (its account is the\n"
    "                          caller's account: kms:CallerAccount)\n"
    "  --admin                 access-key create: may call CreateKey, ListKeys and ListAliases\n"
    "                          without KeyId (operations on no key; key policies decide the rest)\n"
    "  --access-key-id ID      access-key disable: the key\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error, 3 the database's schema is newer than this\n"
    "veritee, or older and not to be migrated by this command.\n";

struct kms_args {
    const char *db, *master_file, *account, *region, *issuer, *now, *listen, *port_file;
    const char *tls_cert, *tls_key, *principal, *access_key_id;
    const char *anchors[16];
    size_t n_anchors;
    long long max_age;
    unsigned threads;
    bool admin, no_migrate;
    struct vt_http_limits limits;
};

static int usage(const char *msg)
{
    fprintf(stderr, "veritee kms: %s\n", msg);
    return CLI_EXIT_USAGE;
}

static int fail(enum vt_err err, const struct vt_diag *d)
{
    fprintf(stderr, "veritee kms: %s: %s (%s)\n", d->check, d->detail, vt_err_name(err));
    return cli_exit_status_diag(err, d);
}

static bool num(const char *s, long long *v)
{
    char *end;
    *v = strtoll(s, &end, 10);
    return *s >= '0' && *s <= '9' && *end == '\0' && *v >= 0;
}

static int parse(int argc, char **argv, struct kms_args *a)
{
    enum {
        O_DB = 256,
        O_MK,
        O_ACCOUNT,
        O_REGION,
        O_MAXAGE,
        O_ANCHOR,
        O_ISSUER,
        O_NOW,
        O_LISTEN,
        O_PORT,
        O_CERT,
        O_KEY,
        O_THREADS,
        O_NOMIG,
        O_PRINCIPAL,
        O_ADMIN,
        O_AKID,
    };
    static const struct option opts[] = {
        {"db", 1, NULL, O_DB},
        {"master-key-file", 1, NULL, O_MK},
        {"account", 1, NULL, O_ACCOUNT},
        {"region", 1, NULL, O_REGION},
        {"recipient-max-age", 1, NULL, O_MAXAGE},
        {"trust-anchor", 1, NULL, O_ANCHOR},
        {"issuer", 1, NULL, O_ISSUER},
        {"now", 1, NULL, O_NOW},
        {"listen", 1, NULL, O_LISTEN},
        {"port-file", 1, NULL, O_PORT},
        {"tls-cert", 1, NULL, O_CERT},
        {"tls-key", 1, NULL, O_KEY},
        {"threads", 1, NULL, O_THREADS},
        {"no-migrate", 0, NULL, O_NOMIG},
        {"principal", 1, NULL, O_PRINCIPAL},
        {"admin", 0, NULL, O_ADMIN},
        {"access-key-id", 1, NULL, O_AKID},
        CLI_LIMIT_OPTIONS,
        {"help", 0, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    a->db = "sqlite:veritee.db";
    a->region = "us-east-1";
    a->listen = "127.0.0.1:8090";
    cli_limits_defaults(&a->limits);
    a->limits.rates[VT_HTTP_RATE_ATTEST] = (struct vt_http_rate){0, 0};
    optind = 1;
    int o;
    long long v;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case O_DB:
            a->db = optarg;
            break;
        case O_MK:
            a->master_file = optarg;
            break;
        case O_ACCOUNT:
            a->account = optarg;
            break;
        case O_REGION:
            a->region = optarg;
            break;
        case O_MAXAGE:
        case O_THREADS:
            if (!num(optarg, &v) || v == 0 || v > 86400) {
                return usage("--recipient-max-age and --threads take an integer from 1 to 86400");
            }
            if (o == O_MAXAGE) {
                a->max_age = v;
            } else {
                a->threads = (unsigned)v;
            }
            break;
        case O_ANCHOR:
            if (a->n_anchors + 1 >= sizeof(a->anchors) / sizeof(a->anchors[0])) {
                return usage("too many --trust-anchor");
            }
            a->anchors[a->n_anchors++] = optarg;
            break;
        case O_ISSUER:
            a->issuer = optarg;
            break;
        case O_NOW:
            a->now = optarg;
            break;
        case O_LISTEN:
            a->listen = optarg;
            break;
        case O_PORT:
            a->port_file = optarg;
            break;
        case O_CERT:
            a->tls_cert = optarg;
            break;
        case O_KEY:
            a->tls_key = optarg;
            break;
        case O_NOMIG:
            a->no_migrate = true;
            break;
        case O_PRINCIPAL:
            a->principal = optarg;
            break;
        case O_ADMIN:
            a->admin = true;
            break;
        case O_AKID:
            a->access_key_id = optarg;
            break;
        case 'h':
            fputs(kms_usage, stdout);
            fputs(cli_limit_usage, stdout);
            return -1;
        default: {
            int r = cli_limit_option(&a->limits, o, optarg, "veritee kms");
            if (r != 0) {
                return r < 0 ? CLI_EXIT_USAGE : r;
            }
            break;
        }
        }
    }
    if (optind < argc) {
        fprintf(stderr, "veritee kms: unexpected argument '%s'\n", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    a->anchors[a->n_anchors] = NULL;
    return 0;
}

/* The broker and the KMS service on the database. */
struct kms_open {
    struct vt_broker *b;
    struct vt_kms *k;
};

static int open_service(const struct kms_args *a, bool serving, struct kms_open *s)
{
    memset(s, 0, sizeof(*s));
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_broker_config cfg = {.db = a->db, .issuer = a->issuer, .trust_anchors = a->anchors};
    enum vt_err err = VT_OK;
    if (a->now != NULL && (err = vt_time_parse(a->now, strlen(a->now), &cfg.clock_base, &d))) {
        return fail(err, &d);
    }
    if ((err = cli_read_master_key(a->master_file, cfg.master_key, &d)) != VT_OK) {
        return fail(err, &d);
    }
    enum vt_schema_mode mode = serving && !a->no_migrate ? VT_SCHEMA_MIGRATE : VT_SCHEMA_CREATE;
    int rc = cli_schema("veritee kms", a->db, vt_kms_schema, 3, mode);
    if (rc != 0) {
        vt_wipe(cfg.master_key, sizeof(cfg.master_key));
        return rc;
    }
    cfg.schema_mode = mode;
    err = vt_broker_open(&cfg, &s->b, &d);
    vt_wipe(cfg.master_key, sizeof(cfg.master_key));
    if (err != VT_OK) {
        return fail(err, &d);
    }
    struct vt_kms_config kc = {.region = a->region,
                               .account = a->account ? a->account : "000000000000",
                               .recipient_max_age = a->max_age,
                               .schema_mode = mode};
    if ((err = vt_kms_open(&kc, s->b, &s->k, &d)) != VT_OK) {
        vt_broker_close(s->b);
        s->b = NULL;
        return fail(err, &d);
    }
    return 0;
}

static void close_service(struct kms_open *s)
{
    vt_kms_close(s->k);
    vt_broker_close(s->b);
}

static int serve(const struct kms_args *a)
{
    if (a->account == NULL || !vt_kms_account_ok(a->account)) {
        return usage("serve needs --account ID, the 12-digit account id of the key ARNs");
    }
    if (!vt_kms_region_ok(a->region)) {
        return usage("--region takes a region name such as us-east-1");
    }
    struct kms_open s;
    int rc = open_service(a, true, &s);
    if (rc != 0) {
        return rc;
    }
    struct cli_schema_watch w = {"veritee-kms", s.b->store, vt_kms_schema, 3};
    struct cli_server_args sa = {.listen = a->listen,
                                 .port_file = a->port_file,
                                 .tls_cert = a->tls_cert,
                                 .tls_key = a->tls_key,
                                 .threads = a->threads,
                                 .route = vt_kms_http_route,
                                 .limits = a->limits,
                                 .watch = cli_schema_watch,
                                 .watch_ctx = &w};
    rc = cli_serve_http(&sa, vt_kms_http_handler, s.k, "veritee-kms");
    close_service(&s);
    return rc;
}

static int access_key(const char *verb, const struct kms_args *a)
{
    if (strcmp(verb, "create") != 0 && strcmp(verb, "list") != 0 && strcmp(verb, "disable") != 0) {
        fprintf(stderr, "veritee kms: unknown access-key subcommand '%s'\n%s", verb, kms_usage);
        return CLI_EXIT_USAGE;
    }
    char account[VT_KMS_ACCOUNT_LEN + 1];
    if (strcmp(verb, "create") == 0 &&
        (a->principal == NULL || !vt_kms_principal_account(a->principal, account))) {
        return usage("access-key create needs --principal ARN, an ARN with a 12-digit account "
                     "(e.g. arn:aws:iam::111122223333:role/enclave)");
    }
    if (strcmp(verb, "disable") == 0 && a->access_key_id == NULL) {
        return usage("access-key disable needs --access-key-id ID");
    }
    struct kms_open s;
    int rc = open_service(a, false, &s);
    if (rc != 0) {
        return rc;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = VT_OK;
    if (strcmp(verb, "create") == 0) {
        struct vt_kms_access_key key;
        char secret[VT_KMS_SECRET_LEN + 1];
        err = vt_kms_access_key_create(s.k, a->principal, a->admin, &key, secret, &d);
        if (err == VT_OK) {
            printf("{\"AccessKeyId\":\"%s\",\"SecretAccessKey\":\"%s\",\"Principal\":", key.id,
                   secret);
            cli_print_json_string(stdout, key.principal);
            printf(",\"Account\":\"%s\",\"Admin\":%s}\n", key.account,
                   key.admin ? "true" : "false");
            vt_wipe(secret, sizeof(secret));
        }
    } else if (strcmp(verb, "list") == 0) {
        char *json = NULL;
        if ((err = vt_kms_access_keys_json(s.k, &json, &d)) == VT_OK) {
            puts(json);
        }
        free(json);
    } else {
        if ((err = vt_kms_access_key_disable(s.k, a->access_key_id, &d)) == VT_OK) {
            printf("{\"AccessKeyId\":\"%s\",\"Disabled\":true}\n", a->access_key_id);
        }
    }
    close_service(&s);
    return err == VT_OK ? CLI_EXIT_OK : fail(err, &d);
}

int cmd_kms(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(kms_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *sub = argv[1];
    bool ak = strcmp(sub, "access-key") == 0;
    if (!ak && strcmp(sub, "serve") != 0) {
        fprintf(stderr, "veritee kms: unknown subcommand '%s'\n%s", sub, kms_usage);
        return CLI_EXIT_USAGE;
    }
    if (ak && (argc < 3 || argv[2][0] == '-')) {
        if (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
            fputs(kms_usage, stdout);
            return CLI_EXIT_OK;
        }
        return usage("access-key takes create, list or disable");
    }
    int skip = ak ? 2 : 1;
    struct cli_config_args cfgargs;
    int rc = cli_config_expand("veritee kms", argc - skip, argv + skip, &cfgargs);
    struct kms_args a;
    memset(&a, 0, sizeof(a));
    if (rc == 0) {
        rc = parse(cfgargs.argc, cfgargs.argv, &a);
        if (rc == 0) {
            rc = ak ? access_key(argv[2], &a) : serve(&a);
        } else if (rc < 0) {
            rc = CLI_EXIT_OK;
        }
    }
    cli_config_free(&cfgargs);
    return rc;
}
