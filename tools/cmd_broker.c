/* veritee broker, veritee serve and veritee audit: the key broker service, its operator
 * commands, and the checks of its audit log. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "broker/broker.h"
#include "cache/cache.h"
#include "cli.h"
#include "azure/kv.h"
#include "azure/maa.h"
#include "kms/kms.h"
#include "store/master_key.h"

static const char broker_usage[] =
    "Usage: veritee broker SUBCOMMAND [OPTIONS]\n"
    "       veritee serve [OPTIONS]      (cache and broker in one process)\n"
    "\n"
    "The key broker: releases secrets only to attested TEEs whose claims satisfy a policy,\n"
    "wrapped to the TEE's runtime key, and records every decision in a Merkle-tree log.\n"
    "\n"
    "Subcommands:\n"
    "  serve               run the HTTP service (docs/api/broker.yaml)\n"
    "  master-key          print a new random master key (64 hex characters)\n"
    "  master-key-id       print the id of the master key given (errors about a wrong key\n"
    "                      name keys by id; `veritee backup` prints the id a backup needs)\n"
    "  token               create an admin bearer token (printed once; stored hashed);\n"
    "                      --role keyvault: one that only the Key Vault API takes\n"
    "  key-put             create a key, or add a version: --name N (--secret-file F |\n"
    "                      --generate BYTES) [--policy FILE]\n"
    "  key-policy          set a key's release policy: --name N --policy FILE\n"
    "  key-disable, key-enable   --name N\n"
    "  keys                list keys (no secrets)\n"
    "  policy              set the attestation policy: --policy FILE\n"
    "  rotate-signing-key  new token/checkpoint signing key (old ones stay published until\n"
    "                      their tokens expire)\n"
    "  rewrap              re-wrap every data key under --new-master-key-file F\n"
    "  log                 print log entries with their explanations [--start N] [--limit N]\n"
    "  ca                  print the broker's CA certificate (PEM; made at the first start)\n"
    "  cert-profile        set a certificate profile for /v1/cert: --name N [--policy FILE]\n"
    "                      [--dns NAME]... [--lifetime S] (docs/attested-tls.md)\n"
    "  cert-profiles       list the certificate profiles\n"
    "\n"
    "Options:\n"
    "  --config FILE           options from FILE, one \"name = value\" per line (the long\n"
    "                          option without --); the command line overrides them\n"
    "  --db URL                sqlite:PATH (default sqlite:veritee.db) or postgres://...\n"
    "  --master-key-file F     the 256-bit master key as 64 hex characters; default: the\n"
    "                          environment variable VERITEE_MASTER_KEY\n"
    "  --collateral URL|DIR    DCAP/SNP collateral: a veritee cache, PCCS, PCS or KDS URL, or a\n"
    "                          directory in the layout of `veritee verify --collateral DIR`\n"
    "                          (veritee serve: the in-process cache by default)\n"
    "  --trust-anchor FILE     also trust this root certificate (repeatable)\n"
    "  --issuer NAME           token issuer and log origin (default veritee)\n"
    "  --nonce-ttl S           challenge lifetime (default 300)\n"
    "  --token-ttl S           EAR token lifetime (default 600)\n"
    "  --cert-ttl S            lifetime of certificates from /v1/cert (default 3600; never\n"
    "                          beyond the token's expiry; a profile's --lifetime overrides)\n"
    "  --max-kbs-sessions N    /kbs/v0/auth sessions outstanding at once (opened, not\n"
    "                          answered, not expired) before it answers 503 (default 10000)\n"
    "  --max-nonces N          accepted and ignored: /v1/challenge nonces are not stored\n"
    "  --log-batch-max N       audit log group commit: at most N entries per transaction and\n"
    "                          signed checkpoint (default 256, 1 to 65536)\n"
    "  --log-batch-wait-us US  the first request of a batch waits up to US microseconds for\n"
    "                          others to join (default 0: requests that arrive while a batch\n"
    "                          commits form the next one; at most 1000000)\n"
    "  --kbs-token-profile P   the token /kbs/v0/attest issues: veritee (default: this broker's\n"
    "                          EAR) or trustee (Trustee's EAR profile, which a Trustee KBS that\n"
    "                          trusts this broker's JWKS accepts as a Bearer token; docs/kbs.md)\n"
    "  --now TIME              start the clock at TIME (tests with recorded evidence)\n"
    "  --listen HOST:PORT      default 127.0.0.1:8080; port 0 picks a free port\n"
    "  --port-file FILE        write the port listened on to FILE\n"
    "  --tls-cert F --tls-key F   serve HTTPS\n"
    "  --threads N             worker threads (default: CPUs)\n"
    "  --max-upload BYTES      veritee serve: largest bundle POSTed to /admin/v1/import (64M)\n"
    "  --no-migrate            serve: refuse to start on a database whose schema is older than\n"
    "                          this veritee (exit 3) instead of migrating it (veritee db migrate)\n"
    "  --kms-listen HOST:PORT veritee serve: also serve the AWS KMS endpoint (docs/kms.md) on\n"
    "                          this listener, HTTP or HTTPS as --tls-cert says; with\n"
    "                          --kms-account ID (required), --kms-region R (us-east-1),\n"
    "                          --kms-port-file FILE, --kms-recipient-max-age S (300)\n"
    "  --keyvault-listen HOST:PORT  veritee serve: also serve the Azure Key Vault keys API with\n"
    "                          Secure Key Release (docs/skr.md) on this listener (HTTPS with\n"
    "                          --tls-cert: the Azure SDK sends bearer tokens over TLS only);\n"
    "                          bearer tokens are `veritee broker token` ones (role admin or\n"
    "                          keyvault). With:\n"
    "    --keyvault-issuer ISS=JWKS_FILE  trust attestation tokens whose iss is ISS, signed\n"
    "                          (RS256) by a key of the JWK set in JWKS_FILE (by kid; n/e or\n"
    "                          x5c, as an attestation service's /certs); repeatable\n"
    "    --keyvault-resource URL  the bearer challenge's resource (https://vault.azure.net);\n"
    "                          the SDK checks that the vault's host is a subdomain of it\n"
    "    --keyvault-authorization URL  the challenge's authorization URL\n"
    "                          (https://login.microsoftonline.com/veritee)\n"
    "    --keyvault-url URL    the vault URL in key ids (default: https:// and the Host header)\n"
    "    --keyvault-token-leeway S  clock skew allowed on a target token's exp/nbf (0)\n"
    "    --keyvault-port-file FILE  write the port listened on to FILE\n"
    "  --maa-listen HOST:PORT veritee serve: also serve the Azure Attestation (MAA) endpoint\n"
    "                          (docs/maa.md) on this listener, HTTP or HTTPS as --tls-cert says\n"
    "                          (the SDK's policy calls need HTTPS); with --maa-port-file FILE,\n"
    "                          --maa-issuer URL (the URL clients use: the tokens' iss and jku;\n"
    "                          default http(s)://HOST:PORT of the listener), --maa-policy-signer\n"
    "                          FILE (PEM certificates that must sign every policy; repeatable;\n"
    "                          none: unsigned policies from an admin token are taken); with\n"
    "                          --keyvault-listen too, the Key Vault trusts this MAA's tokens\n"
    "veritee serve also takes the cache's --upstream URL (repeatable), --mode lazy|offline,\n"
    "--max-stale S, --refresh-interval S, --refresh-ahead S, --new-fetch-rate N and\n"
    "--new-fetch-burst N (see veritee cache --help).\n"
    "\n"
    "Serving commands bring the database's schema to this veritee's version when they start (in\n"
    "one transaction; docs/deploy.md \"Upgrading\"); the other commands create a new database's\n"
    "tables but refuse an older schema. Every command refuses a newer one.\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error, 3 the database's schema is newer than this\n"
    "veritee, or older and not to be migrated by this command.\n";

static const char audit_usage[] =
    "Usage: veritee audit verify --db URL [--issuer NAME]\n"
    "       veritee audit receipt --receipt FILE (--jwks FILE | --key HEX) [--entry]\n"
    "\n"
    "verify:  recompute every leaf hash of the broker's log and the root of every signed\n"
    "         checkpoint, and check each checkpoint's signature. No master key is needed.\n"
    "receipt: check one release receipt offline: the checkpoint signature (with the key named\n"
    "         by the receipt's kid in the JWKS, or the P-256 key X||Y in hex) and the inclusion\n"
    "         proof of the entry. --entry prints the entry.\n"
    "\n"
    "verify changes nothing: the database's schema must be this veritee's (veritee db status).\n"
    "\n"
    "Exit status: 0 verified, 1 not verified, 2 usage error, 3 the database's schema is another\n"
    "version than this veritee's.\n";

struct broker_args {
    struct vt_broker_config cfg;
    struct vt_cache_config cache;
    const char *master_file, *new_master_file, *listen, *port_file, *tls_cert, *tls_key, *now;
    const char *name, *secret_file, *policy, *role, *receipt, *jwks, *key;
    const char *kms_listen, *kms_port_file, *kms_account, *kms_region;
    const char *maa_listen, *maa_port_file, *maa_issuer;
    const char *maa_signers[VT_MAA_SIGNERS_MAX + 1];
    size_t n_maa_signers;
    long long kms_max_age;
    const char *kv_listen, *kv_port_file, *kv_resource, *kv_authorization, *kv_url;
    const char *kv_issuers[VT_KV_ISSUERS_MAX];
    size_t n_kv_issuers;
    long long kv_leeway;
    const char *anchors[16];
    size_t n_anchors;
    long long generate, start, limit, lifetime;
    const char *dns[VT_BROKER_CERT_DNS_MAX + 1];
    size_t n_dns;
    unsigned threads;
    bool entry, no_migrate;
    struct vt_http_limits limits;
};

static int usage(const char *prog, const char *msg)
{
    fprintf(stderr, "%s: %s\n", prog, msg);
    return CLI_EXIT_USAGE;
}

static int fail(const char *prog, enum vt_err err, const struct vt_diag *d)
{
    fprintf(stderr, "%s: %s: %s (%s)\n", prog, d->check, d->detail, vt_err_name(err));
    return cli_exit_status_diag(err, d);
}

static bool num(const char *s, long long *v)
{
    char *end;
    *v = strtoll(s, &end, 10);
    return *s != '\0' && *end == '\0' && *v >= 0;
}

static int parse(int argc, char **argv, struct broker_args *a, const char *prog)
{
    enum {
        O_DB = 256,
        O_MK,
        O_NMK,
        O_COLL,
        O_ANCHOR,
        O_ISSUER,
        O_NTTL,
        O_TTTL,
        O_NOW,
        O_LISTEN,
        O_PORT,
        O_CERT,
        O_KEY,
        O_THREADS,
        O_NAME,
        O_SECRET,
        O_GEN,
        O_POLICY,
        O_ROLE,
        O_START,
        O_LIMIT,
        O_RECEIPT,
        O_JWKS,
        O_PUB,
        O_ENTRY,
        O_UP,
        O_MODE,
        O_STALE,
        O_RINT,
        O_RAHEAD,
        O_UPLOAD,
        O_MAXN,
        O_MAXS,
        O_KTP,
        O_NFRATE,
        O_NFBURST,
        O_LBMAX,
        O_LBWAIT,
        O_NOMIG,
        O_KMS_LISTEN,
        O_KMS_PORT,
        O_KMS_ACCOUNT,
        O_KMS_REGION,
        O_KMS_MAXAGE,
        O_KV_LISTEN,
        O_KV_PORT,
        O_KV_ISSUER,
        O_KV_RESOURCE,
        O_KV_AUTHZ,
        O_KV_URL,
        O_KV_LEEWAY,
        O_CERT_TTL,
        O_DNS,
        O_LIFETIME,
        O_MAA_LISTEN,
        O_MAA_PORT,
        O_MAA_ISSUER,
        O_MAA_SIGNER,
    };
    static const struct option opts[] = {
        {"db", 1, NULL, O_DB},
        {"master-key-file", 1, NULL, O_MK},
        {"new-master-key-file", 1, NULL, O_NMK},
        {"collateral", 1, NULL, O_COLL},
        {"trust-anchor", 1, NULL, O_ANCHOR},
        {"issuer", 1, NULL, O_ISSUER},
        {"nonce-ttl", 1, NULL, O_NTTL},
        {"token-ttl", 1, NULL, O_TTTL},
        {"now", 1, NULL, O_NOW},
        {"listen", 1, NULL, O_LISTEN},
        {"port-file", 1, NULL, O_PORT},
        {"tls-cert", 1, NULL, O_CERT},
        {"tls-key", 1, NULL, O_KEY},
        {"threads", 1, NULL, O_THREADS},
        {"name", 1, NULL, O_NAME},
        {"secret-file", 1, NULL, O_SECRET},
        {"generate", 1, NULL, O_GEN},
        {"policy", 1, NULL, O_POLICY},
        {"role", 1, NULL, O_ROLE},
        {"start", 1, NULL, O_START},
        {"limit", 1, NULL, O_LIMIT},
        {"receipt", 1, NULL, O_RECEIPT},
        {"jwks", 1, NULL, O_JWKS},
        {"key", 1, NULL, O_PUB},
        {"entry", 0, NULL, O_ENTRY},
        {"upstream", 1, NULL, O_UP},
        {"mode", 1, NULL, O_MODE},
        {"max-stale", 1, NULL, O_STALE},
        {"refresh-interval", 1, NULL, O_RINT},
        {"refresh-ahead", 1, NULL, O_RAHEAD},
        {"max-upload", 1, NULL, O_UPLOAD},
        {"max-nonces", 1, NULL, O_MAXN},
        {"max-kbs-sessions", 1, NULL, O_MAXS},
        {"log-batch-max", 1, NULL, O_LBMAX},
        {"log-batch-wait-us", 1, NULL, O_LBWAIT},
        {"kbs-token-profile", 1, NULL, O_KTP},
        {"new-fetch-rate", 1, NULL, O_NFRATE},
        {"new-fetch-burst", 1, NULL, O_NFBURST},
        {"no-migrate", 0, NULL, O_NOMIG},
        {"kms-listen", 1, NULL, O_KMS_LISTEN},
        {"kms-port-file", 1, NULL, O_KMS_PORT},
        {"kms-account", 1, NULL, O_KMS_ACCOUNT},
        {"kms-region", 1, NULL, O_KMS_REGION},
        {"kms-recipient-max-age", 1, NULL, O_KMS_MAXAGE},
        {"keyvault-listen", 1, NULL, O_KV_LISTEN},
        {"keyvault-port-file", 1, NULL, O_KV_PORT},
        {"keyvault-issuer", 1, NULL, O_KV_ISSUER},
        {"keyvault-resource", 1, NULL, O_KV_RESOURCE},
        {"keyvault-authorization", 1, NULL, O_KV_AUTHZ},
        {"keyvault-url", 1, NULL, O_KV_URL},
        {"keyvault-token-leeway", 1, NULL, O_KV_LEEWAY},
        {"cert-ttl", 1, NULL, O_CERT_TTL},
        {"dns", 1, NULL, O_DNS},
        {"lifetime", 1, NULL, O_LIFETIME},
        {"maa-listen", 1, NULL, O_MAA_LISTEN},
        {"maa-port-file", 1, NULL, O_MAA_PORT},
        {"maa-issuer", 1, NULL, O_MAA_ISSUER},
        {"maa-policy-signer", 1, NULL, O_MAA_SIGNER},
        CLI_LIMIT_OPTIONS,
        {"help", 0, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    a->cfg.db = "sqlite:veritee.db";
    a->listen = "127.0.0.1:8080";
    cli_limits_defaults(&a->limits);
    a->limit = 100;
    a->cache.mode = VT_CACHE_LAZY;
    a->cache.retries = 2;
    a->cache.max_stale = 7 * 86400;
    a->cache.refresh_interval = 3600;
    a->cache.refresh_ahead = 86400;
    optind = 1;
    int o;
    long long v;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case O_DB:
            a->cfg.db = optarg;
            break;
        case O_MK:
            a->master_file = optarg;
            break;
        case O_NMK:
            a->new_master_file = optarg;
            break;
        case O_COLL:
            a->cfg.collateral = optarg;
            break;
        case O_ANCHOR:
            if (a->n_anchors + 1 >= sizeof(a->anchors) / sizeof(a->anchors[0])) {
                return usage(prog, "too many --trust-anchor");
            }
            a->anchors[a->n_anchors++] = optarg;
            break;
        case O_ISSUER:
            a->cfg.issuer = optarg;
            break;
        case O_DNS:
            if (a->n_dns >= VT_BROKER_CERT_DNS_MAX) {
                return usage(prog, "too many --dns");
            }
            a->dns[a->n_dns++] = optarg;
            break;
        case O_CERT_TTL:
        case O_LIFETIME:
            if (!num(optarg, &v) || v > VT_BROKER_CERT_TTL_MAX || (o == O_CERT_TTL && v == 0)) {
                return usage(prog, "--cert-ttl takes seconds from 1, --lifetime from 0 (the "
                                   "broker's default), to 604800 (7 days)");
            }
            if (o == O_CERT_TTL) {
                a->cfg.cert_ttl = v;
            } else {
                a->lifetime = v;
            }
            break;
        case O_NTTL:
        case O_TTTL:
        case O_THREADS:
        case O_GEN:
        case O_START:
        case O_LIMIT:
        case O_STALE:
        case O_RINT:
        case O_RAHEAD:
        case O_MAXN:
        case O_MAXS:
        case O_NFRATE:
        case O_NFBURST:
        case O_LBMAX:
        case O_LBWAIT:
            if (!num(optarg, &v)) {
                return usage(prog, "a numeric option takes a non-negative integer");
            }
            if ((o == O_MAXN || o == O_MAXS || o == O_NFBURST || o == O_LBMAX) && v == 0) {
                return usage(prog, "--max-nonces, --max-kbs-sessions, --new-fetch-burst and "
                                   "--log-batch-max are at least 1");
            }
            if ((o == O_LBMAX && v > 65536) || (o == O_LBWAIT && v > 1000000)) {
                return usage(prog, "--log-batch-max is at most 65536 and --log-batch-wait-us at "
                                   "most 1000000 (one second)");
            }
            if (o == O_NTTL) {
                a->cfg.nonce_ttl = v;
            } else if (o == O_TTTL) {
                a->cfg.token_ttl = v;
            } else if (o == O_THREADS) {
                a->threads = (unsigned)v;
            } else if (o == O_GEN) {
                a->generate = v;
            } else if (o == O_START) {
                a->start = v;
            } else if (o == O_LIMIT) {
                a->limit = v;
            } else if (o == O_STALE) {
                a->cache.max_stale = v;
            } else if (o == O_RINT) {
                a->cache.refresh_interval = v;
            } else if (o == O_MAXN) {
                fprintf(stderr,
                        "%s: --max-nonces (max-nonces) has no effect any more: challenges "
                        "are not stored until they are redeemed (docs/broker.md, "
                        "\"Nonces\")\n",
                        prog);
            } else if (o == O_MAXS) {
                a->cfg.max_kbs_sessions = v;
            } else if (o == O_NFRATE) {
                a->cache.new_fetch_rate = v > 0 ? (double)v : -1; /* 0: unlimited */
            } else if (o == O_NFBURST) {
                a->cache.new_fetch_burst = v;
            } else if (o == O_LBMAX) {
                a->cfg.log_batch_max = v;
            } else if (o == O_LBWAIT) {
                a->cfg.log_batch_wait_us = v;
            } else {
                a->cache.refresh_ahead = v;
            }
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
        case O_NAME:
            a->name = optarg;
            break;
        case O_SECRET:
            a->secret_file = optarg;
            break;
        case O_POLICY:
            a->policy = optarg;
            break;
        case O_ROLE:
            a->role = optarg;
            break;
        case O_RECEIPT:
            a->receipt = optarg;
            break;
        case O_JWKS:
            a->jwks = optarg;
            break;
        case O_PUB:
            a->key = optarg;
            break;
        case O_ENTRY:
            a->entry = true;
            break;
        case O_NOMIG:
            a->no_migrate = true;
            break;
        case O_KMS_LISTEN:
            a->kms_listen = optarg;
            break;
        case O_KMS_PORT:
            a->kms_port_file = optarg;
            break;
        case O_KMS_ACCOUNT:
            a->kms_account = optarg;
            break;
        case O_KMS_REGION:
            a->kms_region = optarg;
            break;
        case O_KMS_MAXAGE:
            if (!num(optarg, &v) || v == 0 || v > 86400) {
                return usage(prog, "--kms-recipient-max-age takes seconds from 1 to 86400");
            }
            a->kms_max_age = v;
            break;
        case O_KV_LISTEN:
            a->kv_listen = optarg;
            break;
        case O_KV_PORT:
            a->kv_port_file = optarg;
            break;
        case O_KV_ISSUER:
            if (a->n_kv_issuers == VT_KV_ISSUERS_MAX) {
                return usage(prog, "too many --keyvault-issuer (16 at most)");
            }
            a->kv_issuers[a->n_kv_issuers++] = optarg;
            break;
        case O_KV_RESOURCE:
            a->kv_resource = optarg;
            break;
        case O_KV_AUTHZ:
            a->kv_authorization = optarg;
            break;
        case O_KV_URL:
            a->kv_url = optarg;
            break;
        case O_KV_LEEWAY:
            if (!num(optarg, &v) || v > 3600) {
                return usage(prog, "--keyvault-token-leeway takes seconds from 0 to 3600");
            }
            a->kv_leeway = v;
            break;
        case O_MAA_LISTEN:
            a->maa_listen = optarg;
            break;
        case O_MAA_PORT:
            a->maa_port_file = optarg;
            break;
        case O_MAA_ISSUER:
            a->maa_issuer = optarg;
            break;
        case O_MAA_SIGNER:
            if (a->n_maa_signers == VT_MAA_SIGNERS_MAX) {
                return usage(prog, "too many --maa-policy-signer");
            }
            a->maa_signers[a->n_maa_signers++] = optarg;
            break;
        case O_UP:
            if (a->cache.n_upstreams == VT_CACHE_MAX_UPSTREAMS) {
                return usage(prog, "too many --upstream");
            }
            a->cache.upstreams[a->cache.n_upstreams++] = optarg;
            break;
        case O_KTP:
            if (strcmp(optarg, "veritee") != 0 && strcmp(optarg, "trustee") != 0) {
                return usage(prog, "--kbs-token-profile is veritee or trustee");
            }
            a->cfg.kbs_token_profile =
                optarg[0] == 't' ? VT_KBS_TOKEN_TRUSTEE : VT_KBS_TOKEN_VERITEE;
            break;
        case O_MODE:
            if (strcmp(optarg, "lazy") != 0 && strcmp(optarg, "offline") != 0) {
                return usage(prog, "--mode is lazy or offline");
            }
            a->cache.mode = optarg[0] == 'l' ? VT_CACHE_LAZY : VT_CACHE_OFFLINE;
            break;
        case O_UPLOAD:
            if (!cli_parse_bytes(optarg, &a->cache.max_upload)) {
                return usage(prog, "--max-upload takes a byte count (K, M, G suffixes)");
            }
            break;
        case 'h':
            fputs(strcmp(prog, "veritee audit") == 0 ? audit_usage : broker_usage, stdout);
            if (strcmp(prog, "veritee audit") != 0) {
                fputs(cli_limit_usage, stdout);
            }
            return -1;
        default: {
            int r = cli_limit_option(&a->limits, o, optarg, prog);
            if (r < 0) {
                return CLI_EXIT_USAGE;
            }
            if (r > 0) {
                return r;
            }
            break;
        }
        }
    }
    a->anchors[a->n_anchors] = NULL;
    a->cfg.trust_anchors = a->anchors;
    return 0;
}

static enum vt_err read_master(const char *file, uint8_t key[32], struct vt_diag *d)
{
    return cli_read_master_key(file, key, d);
}

static char *read_text(const char *path, struct vt_diag *d)
{
    return cli_read_text(path, d);
}

/* The schema components each command uses (store/schema.h). */
static const struct vt_schema_component *const broker_schema[] = {&vt_schema_core,
                                                                  &vt_schema_broker};

static int print_json_text(char *s)
{
    if (s == NULL) {
        fprintf(stderr, "veritee broker: cannot produce the output\n");
        return CLI_EXIT_FAILED;
    }
    puts(s);
    free(s);
    return CLI_EXIT_OK;
}

static int run(const char *sub, struct vt_broker *b, struct broker_args *a)
{
    const char *prog = "veritee broker";
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = VT_OK;
    if (strcmp(sub, "serve") == 0) {
        if ((err = vt_broker_replica_start(b, 0, &d)) != VT_OK) {
            return fail(prog, err, &d);
        }
        struct cli_schema_watch w = {"veritee-broker", b->store, broker_schema, 2};
        struct cli_server_args sa = {.listen = a->listen,
                                     .port_file = a->port_file,
                                     .tls_cert = a->tls_cert,
                                     .tls_key = a->tls_key,
                                     .threads = a->threads,
                                     .route = vt_broker_http_route,
                                     .limits = a->limits,
                                     .watch = cli_schema_watch,
                                     .watch_ctx = &w};
        return cli_serve_http(&sa, vt_broker_http_handler, b, "veritee-broker");
    }
    if (strcmp(sub, "token") == 0) {
        char token[64];
        const char *role = a->role ? a->role : "admin";
        if (strcmp(role, "admin") != 0 && strcmp(role, "keyvault") != 0) {
            return usage(prog, "token --role is admin (the default) or keyvault");
        }
        if ((err = vt_tokens_create(b->store, role, a->name, vt_broker_now(b), token, &d)) !=
            VT_OK) {
            return fail(prog, err, &d);
        }
        puts(token);
        return CLI_EXIT_OK;
    }
    if (strcmp(sub, "key-put") == 0) {
        if (a->name == NULL || (a->secret_file == NULL) == (a->generate == 0)) {
            return usage(prog, "key-put needs --name and one of --secret-file or --generate");
        }
        struct vt_buf s;
        vt_buf_init(&s, VT_BROKER_SECRET_MAX);
        char *pol = a->policy ? read_text(a->policy, &d) : NULL;
        uint32_t version = 0;
        if (a->policy != NULL && pol == NULL) {
            err = d.code;
        } else if (a->secret_file != NULL &&
                   (err = vt_file_read(a->secret_file, &s, &d)) != VT_OK) {
            /* reported below */
        } else {
            err = vt_broker_key_put(b, a->name, a->secret_file ? s.data : NULL, s.len,
                                    (size_t)a->generate, pol, &version, &d);
        }
        vt_buf_cleanup(&s);
        free(pol);
        if (err != VT_OK) {
            return fail(prog, err, &d);
        }
        printf("{\"name\":\"%s\",\"version\":%u}\n", a->name, version);
        return CLI_EXIT_OK;
    }
    if (strcmp(sub, "key-policy") == 0 || strcmp(sub, "policy") == 0) {
        if (a->policy == NULL || (sub[0] == 'k' && a->name == NULL)) {
            return usage(prog, "needs --policy FILE (and --name for key-policy)");
        }
        char *pol = read_text(a->policy, &d);
        if (pol == NULL) {
            return fail(prog, d.code, &d);
        }
        err = sub[0] == 'k' ? vt_broker_key_set_policy(b, a->name, pol, &d)
                            : vt_broker_set_attestation_policy(b, pol, &d);
        free(pol);
        return err == VT_OK ? CLI_EXIT_OK : fail(prog, err, &d);
    }
    if (strcmp(sub, "key-disable") == 0 || strcmp(sub, "key-enable") == 0) {
        if (a->name == NULL) {
            return usage(prog, "needs --name");
        }
        err = vt_broker_key_set_disabled(b, a->name, sub[4] == 'd', &d);
        return err == VT_OK ? CLI_EXIT_OK : fail(prog, err, &d);
    }
    if (strcmp(sub, "keys") == 0) {
        return print_json_text(vt_broker_keys_json(b));
    }
    if (strcmp(sub, "rotate-signing-key") == 0) {
        char kid[64];
        if ((err = vt_broker_rotate_signing_key(b, kid, &d)) != VT_OK) {
            return fail(prog, err, &d);
        }
        printf("{\"kid\":\"%s\"}\n", kid);
        return CLI_EXIT_OK;
    }
    if (strcmp(sub, "rewrap") == 0) {
        uint8_t nk[32];
        size_t n = 0;
        if (a->new_master_file == NULL) {
            return usage(prog, "rewrap needs --new-master-key-file FILE");
        }
        if ((err = read_master(a->new_master_file, nk, &d)) == VT_OK) {
            err = vt_broker_rewrap(b, nk, cli_sealed_services, cli_n_sealed_services, &n, &d);
        }
        vt_wipe(nk, sizeof(nk));
        if (err != VT_OK) {
            return fail(prog, err, &d);
        }
        printf("{\"rewrapped\":%zu}\n", n);
        return CLI_EXIT_OK;
    }
    if (strcmp(sub, "ca") == 0) { /* the CA certificate (created at open if there was none) */
        char *pem = vt_broker_ca_pem(b);
        if (pem == NULL) {
            fprintf(stderr, "%s: no CA certificate\n", prog);
            return CLI_EXIT_FAILED;
        }
        fputs(pem, stdout);
        free(pem);
        return CLI_EXIT_OK;
    }
    if (strcmp(sub, "cert-profile") == 0) {
        if (a->name == NULL) {
            return usage(prog, "cert-profile needs --name [--policy FILE] [--dns NAME]... "
                               "[--lifetime S]");
        }
        char *pol = a->policy ? read_text(a->policy, &d) : NULL;
        err = a->policy != NULL && pol == NULL
                  ? d.code
                  : vt_broker_cert_profile_put(b, a->name, pol, a->dns, a->n_dns, a->lifetime, &d);
        free(pol);
        return err == VT_OK ? CLI_EXIT_OK : fail(prog, err, &d);
    }
    if (strcmp(sub, "cert-profiles") == 0) {
        return print_json_text(vt_broker_cert_profiles_json(b));
    }
    if (strcmp(sub, "log") == 0) {
        char *s = NULL;
        if ((err = vt_broker_log_entries(b, (uint64_t)a->start, (uint64_t)a->limit, true, &s,
                                         &d)) != VT_OK) {
            return fail(prog, err, &d);
        }
        return print_json_text(s);
    }
    fprintf(stderr, "veritee broker: unknown subcommand '%s'\n%s", sub, broker_usage);
    return CLI_EXIT_USAGE;
}

struct serve_ctx {
    struct vt_broker *b;
    struct vt_cache *c;
};

/* veritee serve: the broker's paths to the broker, everything else to the cache. */
static void serve_handler(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    struct serve_ctx *s = ctx;
    if (vt_broker_owns_path(vt_http_req_path(req))) {
        vt_broker_http_handler(s->b, req, resp);
    } else {
        vt_cache_http_handler(s->c, req, resp);
    }
}

static void serve_route(void *ctx, const struct vt_http_req *req, struct vt_http_route *route,
                        struct vt_http_resp *resp)
{
    struct serve_ctx *s = ctx;
    if (vt_broker_owns_path(vt_http_req_path(req))) {
        vt_broker_http_route(s->b, req, route, resp);
    } else {
        vt_cache_http_route(s->c, req, route, resp);
    }
}

static int broker_run(const char *sub, struct broker_args *ap, bool with_cache);

static int broker_main(const char *sub, int argc, char **argv, bool with_cache)
{
    const char *prog = with_cache ? "veritee serve" : "veritee broker";
    struct broker_args a;
    memset(&a, 0, sizeof(a));
    struct cli_config_args cfgargs;
    int rc = cli_config_expand(prog, argc, argv, &cfgargs);
    if (rc == 0) {
        rc = parse(cfgargs.argc, cfgargs.argv, &a, prog);
        rc = rc != 0 ? (rc < 0 ? CLI_EXIT_OK : rc) : broker_run(sub, &a, with_cache);
    }
    cli_config_free(&cfgargs);
    return rc;
}

/* After a wrong master key: where the key given came from. */
static void key_source(const char *prog, const struct vt_diag *d, const char *file, const char *id)
{
    if (strcmp(d->check, "master_key") == 0) {
        fprintf(stderr, "%s: the master key given came from %s%s (id %s)\n", prog,
                file ? "--master-key-file " : "", file ? file : "VERITEE_MASTER_KEY", id);
    }
}

/* veritee serve --kms-listen: the KMS service on the broker, on a listener of its own. */
static int kms_start(const struct broker_args *a, struct vt_broker *b, enum vt_schema_mode mode,
                     struct vt_kms **k, struct vt_http_server **srv)
{
    if (a->kms_account == NULL) {
        return usage("veritee serve", "--kms-listen needs --kms-account ID (12 digits)");
    }
    struct vt_kms_config kc = {.region = a->kms_region ? a->kms_region : "us-east-1",
                               .account = a->kms_account,
                               .recipient_max_age = a->kms_max_age,
                               .schema_mode = mode};
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_kms_open(&kc, b, k, &d);
    if (err != VT_OK) {
        return fail("veritee serve", err, &d);
    }
    struct cli_server_args sa = {.listen = a->kms_listen,
                                 .port_file = a->kms_port_file,
                                 .tls_cert = a->tls_cert,
                                 .tls_key = a->tls_key,
                                 .threads = a->threads,
                                 .route = vt_kms_http_route,
                                 .limits = a->limits};
    return cli_http_start(&sa, vt_kms_http_handler, *k, "veritee-kms", srv);
}

/* veritee serve --maa-listen: the MAA service on the broker, on a listener of its own. The
 * issuer is set before the port file is written, so a client that reads the port gets tokens
 * with it. */
static int maa_start(const struct broker_args *a, struct vt_broker *b, enum vt_schema_mode mode,
                     struct vt_maa **m, struct vt_http_server **srv)
{
    struct vt_maa_config mc = {
        .issuer = a->maa_issuer, .policy_signers = a->maa_signers, .schema_mode = mode};
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_maa_open(&mc, b, m, &d);
    if (err != VT_OK) {
        return fail("veritee serve", err, &d);
    }
    struct cli_server_args sa = {.listen = a->maa_listen,
                                 .tls_cert = a->tls_cert,
                                 .tls_key = a->tls_key,
                                 .threads = a->threads,
                                 .route = vt_maa_http_route,
                                 .limits = a->limits};
    int rc = cli_http_start(&sa, vt_maa_http_handler, *m, "veritee-maa", srv);
    if (rc != 0) {
        return rc;
    }
    unsigned port = vt_http_server_port(*srv);
    if (a->maa_issuer == NULL) {
        char url[VT_MAA_ISSUER_MAX];
        const char *colon = strrchr(a->maa_listen, ':');
        snprintf(url, sizeof(url), "%s://%.*s:%u", a->tls_cert ? "https" : "http",
                 (int)(colon - a->maa_listen), a->maa_listen, port);
        if ((err = vt_maa_set_issuer(*m, url, &d)) != VT_OK) {
            return fail("veritee serve", err, &d);
        }
    }
    if (a->maa_port_file != NULL) {
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", a->maa_port_file);
        FILE *f = fopen(tmp, "w");
        if (f == NULL || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 ||
            rename(tmp, a->maa_port_file) != 0) {
            fprintf(stderr, "veritee serve: cannot write %s\n", a->maa_port_file);
            return CLI_EXIT_FAILED;
        }
    }
    return 0;
}

/* veritee serve --keyvault-listen: the Key Vault service on the broker, on a listener of its
 * own. */
/* The in-process MAA's signing keys, for the Key Vault (vt_kv_maa_key_fn). */
static const struct vt_jwk *maa_key(void *ctx, const char *kid)
{
    return vt_maa_signer_key(ctx, kid);
}

static int kv_start(const struct broker_args *a, struct vt_broker *b, enum vt_schema_mode mode,
                    struct vt_maa *maa, struct vt_kv **k, struct vt_http_server **srv)
{
    struct vt_kv_config kc = {.resource = a->kv_resource,
                              .authorization = a->kv_authorization,
                              .vault_url = a->kv_url,
                              .issuers = a->kv_issuers,
                              .n_issuers = a->n_kv_issuers,
                              .token_leeway = a->kv_leeway,
                              .schema_mode = mode};
    if (maa != NULL) { /* veritee serve --maa-listen too: the Key Vault trusts its tokens */
        kc.maa_issuer = vt_maa_issuer(maa);
        kc.maa_key = maa_key;
        kc.maa_ctx = maa;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_kv_open(&kc, b, k, &d);
    if (err != VT_OK) {
        return fail("veritee serve", err, &d);
    }
    if (a->tls_cert == NULL) {
        fprintf(stderr, "veritee serve: warning: --keyvault-listen without --tls-cert: the Azure "
                        "SDK sends bearer tokens over HTTPS only\n");
    }
    struct cli_server_args sa = {.listen = a->kv_listen,
                                 .port_file = a->kv_port_file,
                                 .tls_cert = a->tls_cert,
                                 .tls_key = a->tls_key,
                                 .threads = a->threads,
                                 .route = vt_kv_http_route,
                                 .limits = a->limits};
    return cli_http_start(&sa, vt_kv_http_handler, *k, "veritee-keyvault", srv);
}

static int broker_run(const char *sub, struct broker_args *ap, bool with_cache)
{
    const char *prog = with_cache ? "veritee serve" : "veritee broker";
    struct broker_args a = *ap;
    int rc = 0;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = VT_OK;
    if (strcmp(sub, "master-key") == 0) {
        uint8_t k[32];
        char hex[65];
        if ((err = vt_random_bytes(k, sizeof(k), &d)) != VT_OK) {
            return fail(prog, err, &d);
        }
        vt_hex_encode(k, sizeof(k), hex);
        vt_wipe(k, sizeof(k));
        puts(hex);
        vt_wipe(hex, sizeof(hex));
        return CLI_EXIT_OK;
    }
    if (a.now != NULL && (err = vt_time_parse(a.now, strlen(a.now), &a.cfg.clock_base, &d))) {
        return fail(prog, err, &d);
    }
    if ((err = read_master(a.master_file, a.cfg.master_key, &d)) != VT_OK) {
        return fail(prog, err, &d);
    }
    char key_id[VT_MASTER_KEY_ID_LEN + 1];
    vt_master_key_id(a.cfg.master_key, key_id);
    if (strcmp(sub, "master-key-id") == 0) {
        vt_wipe(a.cfg.master_key, sizeof(a.cfg.master_key));
        printf("{\"master_key_id\":\"%s\"}\n", key_id);
        return CLI_EXIT_OK;
    }
    /* Serving commands migrate an older schema (unless --no-migrate); the others only create a
     * new database's tables. veritee serve does all its components in one transaction. */
    enum vt_schema_mode mode =
        strcmp(sub, "serve") == 0 && !a.no_migrate ? VT_SCHEMA_MIGRATE : VT_SCHEMA_CREATE;
    if ((rc = with_cache ? cli_schema(prog, a.cfg.db, vt_schema_all, VT_SCHEMA_ALL_N, mode)
                         : cli_schema(prog, a.cfg.db, broker_schema, 2, mode)) != 0) {
        vt_wipe(a.cfg.master_key, sizeof(a.cfg.master_key));
        return rc;
    }
    a.cfg.schema_mode = mode;
    a.cache.schema_mode = mode;
    struct vt_cache *c = NULL;
    if (with_cache) {
        a.cache.db = a.cfg.db;
        a.cache.clock_base = a.cfg.clock_base;
        a.cache.master_key = a.cfg.master_key; /* the bundle-signing key is sealed under it */
        if ((err = vt_cache_open(&a.cache, &c, &d)) != VT_OK ||
            (err = vt_cache_refresher_start(c, &d)) != VT_OK ||
            (strcmp(sub, "serve") == 0 && (err = vt_cache_replica_start(c, 0, &d)) != VT_OK)) {
            vt_wipe(a.cfg.master_key, sizeof(a.cfg.master_key));
            vt_cache_close(c);
            rc = fail(prog, err, &d);
            key_source(prog, &d, a.master_file, key_id);
            return rc;
        }
        if (a.cfg.collateral == NULL) {
            a.cfg.cache = c;
        }
    }
    struct vt_broker *b = NULL;
    err = vt_broker_open(&a.cfg, &b, &d);
    vt_wipe(a.cfg.master_key, sizeof(a.cfg.master_key));
    if (err != VT_OK) {
        rc = fail(prog, err, &d);
        key_source(prog, &d, a.master_file, key_id);
    } else if (with_cache) {
        /* one /metrics: the cache's counters, then the broker's */
        c->metrics_extra = vt_broker_metrics_hook;
        c->metrics_extra_ctx = b;
        struct serve_ctx s = {b, c};
        struct vt_kms *k = NULL;
        struct vt_http_server *kms_srv = NULL;
        if (a.kms_listen != NULL) {
            rc = kms_start(&a, b, mode, &k, &kms_srv);
        }
        struct vt_maa *maa = NULL;
        struct vt_http_server *maa_srv = NULL;
        if (rc == 0 && a.maa_listen != NULL) {
            rc = maa_start(&a, b, mode, &maa, &maa_srv);
        }
        struct vt_kv *kv = NULL;
        struct vt_http_server *kv_srv = NULL;
        if (rc == 0 && a.kv_listen != NULL) {
            rc = kv_start(&a, b, mode, maa, &kv, &kv_srv);
        }
        struct cli_schema_watch w = {"veritee", b->store, vt_schema_all, VT_SCHEMA_ALL_N};
        if (rc == 0 && (err = vt_broker_replica_start(b, 0, &d)) != VT_OK) {
            rc = fail(prog, err, &d);
        }
        struct cli_server_args sa = {.listen = a.listen,
                                     .port_file = a.port_file,
                                     .tls_cert = a.tls_cert,
                                     .tls_key = a.tls_key,
                                     .threads = a.threads,
                                     .route = serve_route,
                                     .limits = a.limits,
                                     .watch = cli_schema_watch,
                                     .watch_ctx = &w};
        if (rc == 0) {
            rc = cli_serve_http(&sa, serve_handler, &s, "veritee");
        }
        vt_http_server_stop(kv_srv);
        vt_kv_close(kv);
        vt_http_server_stop(maa_srv);
        vt_maa_close(maa);
        vt_http_server_stop(kms_srv);
        vt_kms_close(k);
    } else {
        rc = run(sub, b, &a);
    }
    vt_broker_close(b);
    vt_cache_close(c);
    return rc;
}

int cmd_broker(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(broker_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    return broker_main(argv[1], argc - 1, argv + 1, false);
}

int cmd_serve(int argc, char **argv)
{
    return broker_main("serve", argc, argv, true);
}

/* ---- audit ---- */

/* The P-256 key of kid in a JWKS file (vt_receipt_jwks_key; the file named when kid is not in
 * it). */
static enum vt_err jwks_key(const char *path, const char *kid, uint8_t xy[64], struct vt_diag *d)
{
    char *text = read_text(path, d);
    VT_ENSURE(text != NULL, d, d->code, "jwks", "cannot read %s", path);
    enum vt_err err = vt_receipt_jwks_key(text, strlen(text), kid, xy, d);
    free(text);
    if (err == VT_E_NOT_FOUND && strcmp(d->check, "jwks") == 0) {
        err = vt_fail(d, VT_E_NOT_FOUND, "jwks", "no key %s in %s", kid, path);
    }
    return err;
}

static int audit_receipt(struct broker_args *a)
{
    const char *prog = "veritee audit";
    struct vt_diag d;
    vt_diag_init(&d);
    if (a->receipt == NULL || (a->jwks == NULL) == (a->key == NULL)) {
        return usage(prog, "receipt needs --receipt FILE and one of --jwks FILE or --key HEX");
    }
    char *text = read_text(a->receipt, &d);
    if (text == NULL) {
        return fail(prog, d.code, &d);
    }
    /* A release response holds the receipt under "receipt"; accept either. */
    json_t *o = json_loads(text, 0, NULL);
    json_t *r = json_object_get(o, "receipt") ? json_object_get(o, "receipt") : o;
    const char *kid = json_string_value(json_object_get(o, "receipt_kid"));
    char *rtext = r ? json_dumps(r, JSON_COMPACT) : NULL;
    uint8_t xy[64];
    enum vt_err err = VT_OK;
    if (rtext == NULL) {
        err = vt_fail(&d, VT_E_BAD_JSON, "receipt", "%s is not a JSON receipt", a->receipt);
    } else if (a->key != NULL) {
        if (vt_hex_decode_exact(a->key, strlen(a->key), xy, 64) != VT_OK) {
            err = vt_fail(&d, VT_E_ARG, "key", "--key takes the P-256 key X||Y in 128 hex");
        }
    } else if (kid == NULL) {
        err = vt_fail(&d, VT_E_MISSING_FIELD, "receipt_kid",
                      "give the release response (it names the key: receipt_kid) or --key HEX");
    } else {
        err = jwks_key(a->jwks, kid, xy, &d);
    }
    struct vt_receipt_info info;
    if (err == VT_OK) {
        err = vt_receipt_verify(rtext, strlen(rtext), xy, &info, &d);
    }
    int rc;
    if (err != VT_OK) {
        printf("{\"verified\":false,\"check\":\"%s\"}\n", d.check);
        fprintf(stderr, "%s: %s: %s\n", prog, d.check, d.detail);
        rc = CLI_EXIT_FAILED;
    } else {
        char root[65], when[VT_TIME_STR_MAX];
        vt_hex_encode(info.root, 32, root);
        vt_time_format(info.time, when);
        printf("{\"verified\":true,\"origin\":\"%s\",\"index\":%llu,\"tree_size\":%llu,"
               "\"root\":\"%s\",\"checkpoint_time\":\"%s\"",
               info.origin, (unsigned long long)info.index, (unsigned long long)info.size, root,
               when);
        if (a->entry) {
            const char *e = json_string_value(json_object_get(r, "entry"));
            printf(",\"entry\":\"%s\"", e ? e : "");
        }
        puts("}");
        rc = CLI_EXIT_OK;
    }
    free(rtext);
    json_decref(o);
    free(text);
    return rc;
}

int cmd_audit(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(audit_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *sub = argv[1];
    struct broker_args a;
    memset(&a, 0, sizeof(a));
    int rc = parse(argc - 1, argv + 1, &a, "veritee audit");
    if (rc != 0) {
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    if (strcmp(sub, "receipt") == 0) {
        return audit_receipt(&a);
    }
    if (strcmp(sub, "verify") != 0) {
        fprintf(stderr, "veritee audit: unknown subcommand '%s'\n%s", sub, audit_usage);
        return CLI_EXIT_USAGE;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    a.cfg.audit_only = true;
    a.cfg.schema_mode = VT_SCHEMA_READ; /* an audit changes nothing */
    if ((rc = cli_schema("veritee audit", a.cfg.db, broker_schema, 2, VT_SCHEMA_READ)) != 0) {
        puts("{\"verified\":false,\"entries\":0,\"check\":\"schema\"}");
        return rc;
    }
    struct vt_broker *b = NULL;
    enum vt_err err = vt_broker_open(&a.cfg, &b, &d);
    uint64_t n = 0, cp = 0;
    if (err == VT_OK) {
        err = vt_broker_audit_verify(b, &n, &cp, &d);
    }
    vt_broker_close(b);
    if (err != VT_OK) {
        printf("{\"verified\":false,\"entries\":%llu,\"check\":\"%s\"}\n", (unsigned long long)n,
               d.check);
        fprintf(stderr, "veritee audit: %s: %s\n", d.check, d.detail);
        return CLI_EXIT_FAILED;
    }
    printf("{\"verified\":true,\"entries\":%llu,\"checkpoints\":%llu}\n", (unsigned long long)n,
           (unsigned long long)cp);
    return CLI_EXIT_OK;
}
