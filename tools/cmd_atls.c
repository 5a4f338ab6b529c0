/*
 * Attested TLS on the command line (docs/attested-tls.md): `veritee verify CERT.pem` for an
 * attested certificate, `veritee client cert` to make one with an attester backend, and
 * `veritee client connect URL` to connect only to an attested server and print its claims.
 */
#include <getopt.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "attester/sim/sim_attester.h"
#include "cli.h"
#include "net/atls_client.h"

/* ---- what verify and connect share: the verifier, the broker CAs, the policy, the time ---- */

struct atls_setup {
    struct vt_cert_list anchors;
    struct vt_cert_list broker_cas;
    struct vt_collateral_source *source;
    struct vt_verifier *verifier;
    struct vt_policy *policy;
    vt_time now;
    bool pinned; /* --at given */
};

struct atls_args {
    const char *collateral, *at, *policy;
    const char *anchors[VT_MAX_CHAIN_DEPTH];
    size_t n_anchors;
    const char *broker_cas[VT_MAX_CHAIN_DEPTH];
    size_t n_broker_cas;
    bool expiry_only;
};

static enum vt_err load_list(const char *what, const char *path, struct vt_cert_list *l,
                             struct vt_diag *d)
{
    enum vt_err err = vt_cert_list_from_file(path, l, d);
    if (err != VT_OK && !cli_is_file_error(err, d)) {
        char inner[VT_DIAG_DETAIL_MAX];
        snprintf(inner, sizeof(inner), "%s", d->detail);
        err = vt_fail(d, VT_E_ARG, what, "%s: %s", path, inner);
    }
    return err;
}

static enum vt_err setup_open(struct atls_setup *s, const struct atls_args *a, struct vt_diag *d)
{
    memset(s, 0, sizeof(*s));
    vt_cert_list_init(&s->anchors);
    vt_cert_list_init(&s->broker_cas);
    s->now = vt_time_now();
    if (a->at != NULL) {
        VT_TRY(vt_time_parse_arg(a->at, strlen(a->at), &s->now, d));
        s->pinned = true;
    }
    for (size_t i = 0; i < a->n_anchors; i++) {
        VT_TRY(load_list("trust_anchor", a->anchors[i], &s->anchors, d));
    }
    for (size_t i = 0; i < a->n_broker_cas; i++) {
        VT_TRY(load_list("broker_ca", a->broker_cas[i], &s->broker_cas, d));
    }
    if (a->policy != NULL) {
        struct vt_buf b;
        vt_buf_init(&b, VT_POLICY_MAX_SIZE);
        enum vt_err err = vt_file_read(a->policy, &b, d);
        if (err == VT_OK) {
            err = vt_policy_compile((const char *)b.data, b.len, &s->policy, d);
        }
        vt_buf_cleanup(&b);
        if (err != VT_OK && !cli_is_file_error(err, d)) {
            char inner[VT_DIAG_DETAIL_MAX];
            snprintf(inner, sizeof(inner), "%.60s: %.400s", d->check, d->detail);
            return vt_fail(d, VT_E_ARG, "policy", "--policy %.200s: %s", a->policy, inner);
        }
        VT_TRY(err);
    }
    if (a->collateral != NULL) {
        VT_TRY(vt_collateral_source_open(a->collateral, &s->source, d));
    }
    struct vt_verifier_config cfg = {
        .trust_anchors = &s->anchors,
        .collateral = s->source,
        .time_mode = a->expiry_only ? VT_TIME_EXPIRY_ONLY : VT_TIME_STRICT,
        .collateral_ttl = VT_VERIFIER_TTL_FOREVER,
    };
    return vt_verifier_new(&cfg, &s->verifier, d);
}

static void setup_close(struct atls_setup *s)
{
    vt_verifier_free(s->verifier);
    vt_collateral_source_free(s->source);
    vt_policy_free(s->policy);
    vt_cert_list_cleanup(&s->anchors);
    vt_cert_list_cleanup(&s->broker_cas);
}

static void print_policy_digest(const struct vt_policy *p)
{
    if (p == NULL) {
        return;
    }
    uint8_t h[VT_SHA256_LEN];
    char hex[2 * VT_SHA256_LEN + 1];
    vt_policy_digest(p, h);
    vt_hex_encode(h, sizeof(h), hex);
    fputs(",\"policy_sha256\":", stdout);
    cli_print_json_string(stdout, hex);
}

/* ---- veritee verify CERT ---- */

bool cli_is_certificate(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t')) {
        i++;
    }
    static const char pem[] = "-----BEGIN CERTIFICATE-----";
    if (n - i >= sizeof(pem) - 1 && memcmp(p + i, pem, sizeof(pem) - 1) == 0) {
        return true;
    }
    /* DER: SEQUENCE { SEQUENCE (tbsCertificate) ... } with long lengths; no evidence format
     * begins 30 82 .. .. 30 82 */
    return n >= 8 && p[0] == 0x30 && p[1] == 0x82 && p[4] == 0x30 && p[5] == 0x82;
}

int cli_verify_cert(const struct cli_verify_args *va, const char *const *broker_cas,
                    size_t n_broker_cas, const struct vt_buf *file)
{
    struct atls_args a = {.collateral = va->collateral,
                          .at = va->at,
                          .policy = va->policy,
                          .n_anchors = va->n_anchors,
                          .n_broker_cas = n_broker_cas,
                          .expiry_only = va->expiry_only};
    memcpy(a.anchors, va->anchors, sizeof(a.anchors));
    for (size_t i = 0; i < n_broker_cas && i < VT_MAX_CHAIN_DEPTH; i++) {
        a.broker_cas[i] = broker_cas[i];
    }
    struct vt_diag d;
    vt_diag_init(&d);
    struct atls_setup s;
    enum vt_err err = setup_open(&s, &a, &d);
    bool usage = err != VT_OK;
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    if (err == VT_OK) {
        err = vt_cert_list_from_bytes(file->data, file->len, &l, &d);
        if (err == VT_OK && l.n != 1) {
            err = vt_fail(&d, VT_E_ARG, "atls.cert",
                          "%s holds %zu certificates: give the server's leaf alone", va->evidence,
                          l.n);
        }
    }
    char *claims = NULL;
    enum vt_atls_format f = VT_ATLS_NONE;
    if (err == VT_OK) {
        size_t len = 0;
        const uint8_t *der = vt_cert_der(l.certs[0], &len);
        struct vt_atls_verify_opts o = {
            .now = s.now, .policy = s.policy, .broker_cas = &s.broker_cas};
        err = vt_atls_verify_cert(s.verifier, der, len, &o, &claims, &f, &d);
    }
    printf("{\"verified\":%s,\"evidence_type\":\"attested-certificate\",\"format\":",
           err == VT_OK ? "true" : "false");
    if (err == VT_OK) {
        cli_print_json_string(stdout, vt_atls_format_name(f));
    } else {
        fputs("null", stdout);
    }
    fputs(",\"claims\":", stdout);
    fputs(claims != NULL ? claims : "null", stdout);
    print_policy_digest(s.policy);
    if (err != VT_OK) {
        fputs(",\"error\":", stdout);
        cli_print_error_object(stdout, err, &d);
    }
    fputs("}\n", stdout);
    free(claims);
    vt_cert_list_cleanup(&l);
    setup_close(&s);
    if (usage && err != VT_OK) {
        return CLI_EXIT_USAGE;
    }
    return cli_exit_status_diag(err, &d);
}

/* ---- veritee client cert ---- */

static const char cert_usage[] =
    "Usage: veritee client cert --backend B --out-cert FILE --out-key FILE [OPTIONS]\n"
    "\n"
    "Make a self-signed X.509 certificate and its private key whose extension carries the TEE's\n"
    "evidence bound to the certificate's public key (docs/attested-tls.md \"Formats\"): serve it\n"
    "with any TLS server (openssl s_server -cert FILE -key FILE) inside the TEE.\n"
    "\n"
    "Options:\n"
    "  --backend B        tsm, nsm, or sim:sgx, sim:tdx, sim:snp, sim:nitro\n"
    "  --sim-dir DIR      where a simulator keeps its PKI (reused across runs)\n"
    "  --tsm-root DIR     configfs-tsm report directory\n"
    "  --format F         ratls-sgx, oe (SGX); ratls-tdx (TDX); cmw (SEV-SNP, Nitro);\n"
    "                     default: ratls-sgx, ratls-tdx or cmw by the backend's TEE\n"
    "  --key-type T       P-256 (default), P-384, RSA-2048, RSA-3072\n"
    "  --cn NAME          subject common name (default \"veritee attested TLS\")\n"
    "  --dns NAME         a subjectAltName DNS name; repeatable (at most 16)\n"
    "  --validity SECONDS validity from now (default 86400)\n"
    "  --out-cert FILE    write the certificate (PEM)\n"
    "  --out-key FILE     write the private key (PKCS#8 PEM, mode 0600)\n"
    "  -h, --help         show this help\n"
    "\n"
    "Exit status: 0 written, 1 the attester or the certificate failed, 2 usage.\n";

#define CERT_DNS_MAX 16

static int write_file(const char *path, const struct vt_buf *b, bool secret)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "veritee client cert: cannot write %s\n", path);
        return CLI_EXIT_USAGE;
    }
    if (secret) {
        (void)!chmod(path, 0600);
    }
    bool ok = fwrite(b->data, 1, b->len, f) == b->len;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        fprintf(stderr, "veritee client cert: cannot write %s\n", path);
        return CLI_EXIT_FAILED;
    }
    return CLI_EXIT_OK;
}

int cmd_client_cert(int argc, char **argv)
{
    enum { O_BACKEND = 1, O_SIM, O_TSM, O_FORMAT, O_KEY, O_CN, O_DNS, O_VAL, O_CERT, O_OUTKEY };
    static const struct option opts[] = {
        {"backend", 1, NULL, O_BACKEND}, {"sim-dir", 1, NULL, O_SIM},
        {"tsm-root", 1, NULL, O_TSM},    {"format", 1, NULL, O_FORMAT},
        {"key-type", 1, NULL, O_KEY},    {"cn", 1, NULL, O_CN},
        {"dns", 1, NULL, O_DNS},         {"validity", 1, NULL, O_VAL},
        {"out-cert", 1, NULL, O_CERT},   {"out-key", 1, NULL, O_OUTKEY},
        {"help", 0, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *backend = NULL, *sim_dir = NULL, *tsm_root = NULL, *out_cert = NULL,
               *out_key = NULL;
    const char *dns[CERT_DNS_MAX];
    struct vt_atls_cert_opts co = {.dns = dns};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_BACKEND:
            backend = optarg;
            break;
        case O_SIM:
            sim_dir = optarg;
            break;
        case O_TSM:
            tsm_root = optarg;
            break;
        case O_FORMAT:
            co.format = vt_atls_format_parse(optarg);
            if (co.format == VT_ATLS_NONE || co.format == VT_ATLS_BROKER) {
                fprintf(stderr,
                        "veritee client cert: --format %s: expected ratls-sgx, ratls-tdx, oe or "
                        "cmw\n",
                        optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case O_KEY:
            co.key_type = optarg;
            break;
        case O_CN:
            co.common_name = optarg;
            break;
        case O_DNS:
            if (co.n_dns == CERT_DNS_MAX) {
                fprintf(stderr, "veritee client cert: at most %d --dns\n", CERT_DNS_MAX);
                return CLI_EXIT_USAGE;
            }
            dns[co.n_dns++] = optarg;
            break;
        case O_VAL: {
            char *end;
            long long v = strtoll(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v <= 0 || v > 10LL * 366 * 86400) {
                fprintf(stderr, "veritee client cert: --validity takes 1 to %lld seconds\n",
                        10LL * 366 * 86400);
                return CLI_EXIT_USAGE;
            }
            co.validity_seconds = v;
            break;
        }
        case O_CERT:
            out_cert = optarg;
            break;
        case O_OUTKEY:
            out_key = optarg;
            break;
        case 'h':
            fputs(cert_usage, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(cert_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (backend == NULL || out_cert == NULL || out_key == NULL || optind != argc) {
        fprintf(stderr, "veritee client cert: --backend, --out-cert and --out-key are needed\n%s",
                cert_usage);
        return CLI_EXIT_USAGE;
    }
    vt_attester_sim_register();
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_attester_opts ao = {.tsm_root = tsm_root, .sim_dir = sim_dir};
    struct vt_attester *att = NULL;
    enum vt_err err = vt_attester_open(backend, &ao, &att, &d);
    struct vt_buf cert, key;
    vt_buf_init(&cert, 1u << 20);
    vt_buf_init(&key, 1u << 16);
    if (err == VT_OK) {
        err = vt_atls_cert_create(att, &co, &cert, &key, &d);
    }
    vt_attester_close(att);
    int rc = CLI_EXIT_OK;
    if (err != VT_OK) {
        fprintf(stderr, "veritee client cert: %s: %s (%s)\n", d.check, d.detail, vt_err_name(err));
        rc = err == VT_E_ARG ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
    } else {
        rc = write_file(out_key, &key, true);
        if (rc == CLI_EXIT_OK) {
            rc = write_file(out_cert, &cert, false);
        }
    }
    vt_buf_cleanup(&cert);
    vt_buf_cleanup(&key);
    return rc;
}

/* ---- veritee client connect ---- */

static const char connect_usage[] =
    "Usage: veritee client connect URL [OPTIONS]\n"
    "\n"
    "Connect over TLS to URL (https://HOST[:PORT][/...] or HOST:PORT) and accept the server only\n"
    "if its certificate is attested (docs/attested-tls.md): evidence in the certificate\n"
    "(RA-TLS, Open Enclave, CMW) verified and bound to its key, or issued by a trusted veritee\n"
    "broker CA; then the policy. Prints one JSON object, like `openssl s_client` for\n"
    "attestation:\n"
    "{\"connected\": true|false, \"host\", \"port\", \"tls\": {\"protocol\", \"cipher\"},\n"
    " \"subject\", \"certificate_sha256\", \"format\", \"claims\": {...} | null, \"error\"}\n"
    "\n"
    "Options:\n"
    "  --policy FILE          the attestation policy the server must satisfy (docs/policy.md);\n"
    "                         without it any verified evidence is accepted\n"
    "  --ca FILE              trusted veritee broker CA certificates (PEM); repeatable\n"
    "  --collateral DIR|URL   DCAP/SEV-SNP collateral, as for `veritee verify`\n"
    "  --trust-anchor FILE    also trust this root (the vendors' roots always are); repeatable\n"
    "  --servername NAME      SNI name (default: the URL's host)\n"
    "  --at TIME              verify at this time instead of now (unix seconds or RFC 3339)\n"
    "  --count N              connect N times (1..1000, default 1): the evidence is verified\n"
    "                         once and cached by certificate; prints the last result and\n"
    "                         \"verifications\"/\"cache_hits\"\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit status: 0 connected to an attested server, 1 refused (the error says which check) or\n"
    "the connection failed, 2 usage.\n";

static int parse_url(const char *url, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *p = url;
    if (strncmp(p, "https://", 8) == 0) {
        p += 8;
    } else if (strstr(p, "://") != NULL) {
        return -1;
    }
    size_t hl = 0;
    const char *rest;
    if (*p == '[') {
        const char *e = strchr(p, ']');
        if (e == NULL) {
            return -1;
        }
        hl = (size_t)(e - p - 1);
        if (hl == 0 || hl >= hcap) {
            return -1;
        }
        memcpy(host, p + 1, hl);
        rest = e + 1;
    } else {
        hl = strcspn(p, ":/");
        if (hl == 0 || hl >= hcap) {
            return -1;
        }
        memcpy(host, p, hl);
        rest = p + hl;
    }
    host[hl] = '\0';
    snprintf(port, pcap, "443");
    if (*rest == ':') {
        size_t pl = strcspn(rest + 1, "/");
        if (pl == 0 || pl >= pcap || pl > 5 || strspn(rest + 1, "0123456789") != pl) {
            return -1;
        }
        memcpy(port, rest + 1, pl);
        port[pl] = '\0';
        rest += 1 + pl;
    }
    return *rest == '\0' || *rest == '/' ? 0 : -1;
}

int cmd_client_connect(int argc, char **argv)
{
    enum { O_POLICY = 1, O_CA, O_COLL, O_ANCHOR, O_SNI, O_AT, O_COUNT };
    static const struct option opts[] = {
        {"policy", 1, NULL, O_POLICY},
        {"ca", 1, NULL, O_CA},
        {"collateral", 1, NULL, O_COLL},
        {"trust-anchor", 1, NULL, O_ANCHOR},
        {"servername", 1, NULL, O_SNI},
        {"at", 1, NULL, O_AT},
        {"count", 1, NULL, O_COUNT},
        {"help", 0, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct atls_args a;
    memset(&a, 0, sizeof(a));
    const char *sni = NULL;
    long count = 1;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_POLICY:
            a.policy = optarg;
            break;
        case O_CA:
        case O_ANCHOR: {
            size_t *n = c == O_CA ? &a.n_broker_cas : &a.n_anchors;
            if (*n == VT_MAX_CHAIN_DEPTH) {
                fprintf(stderr, "veritee client connect: at most %d --ca and --trust-anchor\n",
                        VT_MAX_CHAIN_DEPTH);
                return CLI_EXIT_USAGE;
            }
            (c == O_CA ? a.broker_cas : a.anchors)[(*n)++] = optarg;
            break;
        }
        case O_COLL:
            a.collateral = optarg;
            break;
        case O_SNI:
            sni = optarg;
            break;
        case O_AT:
            a.at = optarg;
            break;
        case O_COUNT: {
            char *end;
            count = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || count < 1 || count > 1000) {
                fprintf(stderr, "veritee client connect: --count takes 1 to 1000\n");
                return CLI_EXIT_USAGE;
            }
            break;
        }
        case 'h':
            fputs(connect_usage, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(connect_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    char host[256], port[8];
    if (optind != argc - 1 || parse_url(argv[optind], host, sizeof(host), port, sizeof(port))) {
        fprintf(stderr,
                "veritee client connect: expected one URL, https://HOST[:PORT] or "
                "HOST:PORT\n%s",
                connect_usage);
        return CLI_EXIT_USAGE;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    struct atls_setup s;
    enum vt_err err = setup_open(&s, &a, &d);
    if (err != VT_OK) {
        fprintf(stderr, "veritee client connect: %s: %s (%s)\n", d.check, d.detail,
                vt_err_name(err));
        setup_close(&s);
        return cli_is_file_error(err, &d) || err == VT_E_ARG || err == VT_E_BAD_TIME
                   ? CLI_EXIT_USAGE
                   : CLI_EXIT_FAILED;
    }
    struct vt_atls_verify_opts o = {
        .now = s.pinned ? s.now : 0, .policy = s.policy, .broker_cas = &s.broker_cas};
    struct vt_atls_ctx *ctx = NULL;
    struct vt_atls_client *client = NULL;
    err = vt_atls_ctx_new(s.verifier, &o, 0, &ctx, &d);
    if (err == VT_OK) {
        err = vt_atls_client_new(ctx, &client, &d);
    }
    struct vt_atls_conn_info info;
    memset(&info, 0, sizeof(info));
    char *claims = NULL;
    for (long i = 0; err == VT_OK && i < count; i++) {
        err = vt_atls_client_connect(client, host, port, sni, &info, &d);
    }
    if (err == VT_OK) {
        struct vt_diag ld;
        vt_diag_init(&ld);
        (void)vt_atls_ctx_last(ctx, &ld, &claims);
    }
    printf("{\"connected\":%s,\"host\":", err == VT_OK ? "true" : "false");
    cli_print_json_string(stdout, host);
    printf(",\"port\":%s", port);
    if (err == VT_OK) {
        char hex[65];
        vt_hex_encode(info.cert_sha256, 32, hex);
        fputs(",\"tls\":{\"protocol\":", stdout);
        cli_print_json_string(stdout, info.protocol);
        fputs(",\"cipher\":", stdout);
        cli_print_json_string(stdout, info.cipher);
        fputs("},\"subject\":", stdout);
        cli_print_json_string(stdout, info.subject);
        fputs(",\"certificate_sha256\":", stdout);
        cli_print_json_string(stdout, hex);
        fputs(",\"format\":", stdout);
        cli_print_json_string(stdout, vt_atls_format_name(info.format));
    }
    if (count > 1) {
        uint64_t hits = 0, misses = 0;
        vt_atls_ctx_stats(ctx, &hits, &misses);
        printf(",\"verifications\":%llu,\"cache_hits\":%llu", (unsigned long long)misses,
               (unsigned long long)hits);
    }
    fputs(",\"claims\":", stdout);
    fputs(claims != NULL ? claims : "null", stdout);
    print_policy_digest(s.policy);
    if (err != VT_OK) {
        fputs(",\"error\":", stdout);
        cli_print_error_object(stdout, err, &d);
    }
    fputs("}\n", stdout);
    free(claims);
    vt_atls_client_free(client);
    vt_atls_ctx_free(ctx);
    setup_close(&s);
    return err == VT_OK ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}
