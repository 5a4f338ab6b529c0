/* veritee client: attest to a broker and release a secret from inside a TEE (or a simulator). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <veritee/client.h>

#include "attester/sim/sim_attester.h"
#include "cli.h"

static const char client_usage[] =
    "Usage: veritee client attest  --url URL --backend B [OPTIONS]\n"
    "       veritee client release --url URL --backend B --key NAME [OPTIONS]\n"
    "       veritee client sim-export --backend sim:TEE --sim-dir DIR --out DIR\n"
    "       veritee client evidence --backend B [--public-key F] [--nonce HEX]\n"
    "                                [--report-data HEX] --out FILE\n"
    "       veritee client broker-cert --url URL --backend B --profile P --out CERT\n"
    "                              --key-out KEY [--ca-out CA] [--direct] [--key-type T]\n"
    "       veritee client cert --backend B --out-cert FILE --out-key FILE [--dns NAME]...\n"
    "       veritee client connect URL [--policy FILE] [--ca FILE] [--collateral DIR|URL]\n"
    "\n"
    "attest:  challenge -> evidence bound to the nonce and a fresh runtime key -> /v1/attest;\n"
    "         prints {\"token\", \"claims\"}.\n"
    "release: the same, then /v1/keys/NAME/release (or release with evidence in one request,\n"
    "         --direct); the secret is unwrapped with the runtime key and written to --out (or\n"
    "         stdout as base64 in {\"key\",\"version\",\"secret_b64\",\"receipt\"}).\n"
    "evidence: write one piece of evidence to --out (a Nitro document for a KMS Recipient:\n"
    "         --public-key F, the enclave's RSA key as DER SubjectPublicKeyInfo, goes into\n"
    "         its public_key; --nonce HEX into its nonce; docs/kms.md, \"Recipient\")\n"
    "broker-cert: attest (or, --direct, send the evidence with the request), then ask /v1/cert "
    "for\n"
    "         a certificate of profile P for the runtime key (a CSR signed by it); writes the\n"
    "         certificate (PEM) to --out, the key (PKCS#8 PEM, mode 0600) to --key-out, the\n"
    "         broker's CA to --ca-out; prints the answer without the PEM texts.\n"
    "sim-export: write a simulator's roots and collateral for the broker (--trust-anchor,\n"
    "         --collateral).\n"
    "cert:    an attested TLS certificate and key (`veritee client cert --help`)\n"
    "connect: connect only to an attested TLS server, print its claims\n"
    "         (`veritee client connect --help`)\n"
    "\n"
    "Options:\n"
    "  --url URL            the broker\n"
    "  --ca-file F          pin the broker's CA (https)\n"
    "  --backend B          tsm (configfs-tsm: TDX, SEV-SNP), nsm (/dev/nsm: Nitro), or\n"
    "                       sim:sgx, sim:tdx, sim:snp, sim:nitro (the simulators)\n"
    "  --tsm-root DIR       configfs-tsm report directory (default /sys/kernel/config/tsm/report)\n"
    "  --sim-dir DIR        where a simulator keeps its PKI (reused across runs)\n"
    "  --key-type T         runtime key: P-256 (default), P-384, P-521, RSA-2048, RSA-3072\n"
    "  --key NAME           the key to release\n"
    "  --direct             release with evidence in one request instead of a token\n"
    "  --cms                ask for KMS-style CMS (RSA runtime keys) instead of JWE\n"
    "  --out FILE           write the released secret (release), the export (sim-export) or\n"
    "                       the evidence (evidence)\n"
    "  --public-key F       evidence: a DER file for the Nitro document's public_key\n"
    "  --nonce HEX          evidence: the Nitro document's nonce\n"
    "  --profile P          broker-cert: the broker's certificate profile\n"
    "  --key-out F          broker-cert: where the runtime key's private half goes\n"
    "  --ca-out F           broker-cert: where the broker's CA certificate goes\n"
    "  --report-data HEX    evidence: SGX, TDX and SEV-SNP report data (up to 64 bytes, zeros\n"
    "                       after; e.g. the SHA-256 of an Azure Attestation runtimeData)\n"
    "  --retries N          retries on transport errors, 429 and 5xx (default 2)\n"
    "\n"
    "Exit status: 0 success, 1 refused or failed, 2 usage error.\n";

struct client_args {
    const char *url, *ca_file, *backend, *tsm_root, *sim_dir, *key_type, *key, *out;
    const char *public_key, *nonce, *profile, *key_out, *ca_out, *report_data;
    bool direct, cms;
    unsigned retries;
};

static int usage(const char *msg)
{
    fprintf(stderr, "veritee client: %s\n", msg);
    return CLI_EXIT_USAGE;
}

static int parse(int argc, char **argv, struct client_args *a)
{
    enum {
        O_URL = 256,
        O_CA,
        O_BACKEND,
        O_TSM,
        O_SIM,
        O_KT,
        O_KEY,
        O_DIRECT,
        O_CMS,
        O_OUT,
        O_RET,
        O_PUB,
        O_NONCE,
        O_PROFILE,
        O_KEY_OUT,
        O_CA_OUT,
        O_RD
    };
    static const struct option opts[] = {
        {"url", 1, NULL, O_URL},
        {"ca-file", 1, NULL, O_CA},
        {"backend", 1, NULL, O_BACKEND},
        {"tsm-root", 1, NULL, O_TSM},
        {"sim-dir", 1, NULL, O_SIM},
        {"key-type", 1, NULL, O_KT},
        {"key", 1, NULL, O_KEY},
        {"direct", 0, NULL, O_DIRECT},
        {"cms", 0, NULL, O_CMS},
        {"out", 1, NULL, O_OUT},
        {"retries", 1, NULL, O_RET},
        {"public-key", 1, NULL, O_PUB},
        {"nonce", 1, NULL, O_NONCE},
        {"profile", 1, NULL, O_PROFILE},
        {"key-out", 1, NULL, O_KEY_OUT},
        {"ca-out", 1, NULL, O_CA_OUT},
        {"report-data", 1, NULL, O_RD},
        {"help", 0, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    a->key_type = "P-256";
    a->retries = 2;
    optind = 1;
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case O_URL:
            a->url = optarg;
            break;
        case O_CA:
            a->ca_file = optarg;
            break;
        case O_BACKEND:
            a->backend = optarg;
            break;
        case O_TSM:
            a->tsm_root = optarg;
            break;
        case O_SIM:
            a->sim_dir = optarg;
            break;
        case O_KT:
            a->key_type = optarg;
            break;
        case O_KEY:
            a->key = optarg;
            break;
        case O_DIRECT:
            a->direct = true;
            break;
        case O_CMS:
            a->cms = true;
            break;
        case O_OUT:
            a->out = optarg;
            break;
        case O_RET:
            a->retries = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case O_PUB:
            a->public_key = optarg;
            break;
        case O_RD:
            a->report_data = optarg;
            break;
        case O_NONCE:
            a->nonce = optarg;
            break;
        case O_PROFILE:
            a->profile = optarg;
            break;
        case O_KEY_OUT:
            a->key_out = optarg;
            break;
        case O_CA_OUT:
            a->ca_out = optarg;
            break;
        case 'h':
            fputs(client_usage, stdout);
            return -1;
        default:
            return CLI_EXIT_USAGE;
        }
    }
    return 0;
}

static int fail(enum vt_err err, const struct vt_diag *d)
{
    fprintf(stderr, "veritee client: %s: %s\n", d->check, d->detail);
    return err == VT_E_ARG ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
}

/* veritee client evidence: one piece of evidence binding --public-key and --nonce, to --out. */
static int evidence(const struct client_args *a)
{
    if (a->backend == NULL || a->out == NULL) {
        return usage("evidence needs --backend and --out");
    }
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_buf pub, ev;
    vt_buf_init(&pub, VT_NSM_FIELD_MAX);
    vt_buf_init(&ev, 1u << 20);
    uint8_t nonce[VT_NSM_FIELD_MAX];
    size_t nonce_len = 0;
    struct vt_attester_input in = {0};
    enum vt_err err = VT_OK;
    if (a->public_key != NULL && (err = vt_file_read(a->public_key, &pub, &d)) == VT_OK) {
        in.public_key = pub.data;
        in.public_key_len = pub.len;
    }
    if (err == VT_OK && a->nonce != NULL) {
        if (vt_hex_decode(a->nonce, strlen(a->nonce), nonce, sizeof(nonce), &nonce_len) != VT_OK) {
            err = vt_fail(&d, VT_E_ARG, "nonce", "--nonce takes up to %u bytes in hex",
                          VT_NSM_FIELD_MAX);
        }
        in.nonce = nonce;
        in.nonce_len = nonce_len;
    }
    size_t rd_len = 0;
    if (err == VT_OK && a->report_data != NULL &&
        vt_hex_decode(a->report_data, strlen(a->report_data), in.report_data,
                      sizeof(in.report_data), &rd_len) != VT_OK) {
        err = vt_fail(&d, VT_E_ARG, "report-data", "--report-data takes up to 64 bytes in hex");
    }
    vt_attester_sim_register();
    struct vt_attester_opts ao = {.tsm_root = a->tsm_root, .sim_dir = a->sim_dir};
    struct vt_attester *att = NULL;
    if (err == VT_OK && (err = vt_attester_open(a->backend, &ao, &att, &d)) == VT_OK) {
        err = vt_attester_evidence(att, &in, &ev, NULL, &d);
    }
    int rc = err == VT_OK ? CLI_EXIT_OK : fail(err, &d);
    if (err == VT_OK) {
        FILE *f = fopen(a->out, "wb");
        if (f == NULL || fwrite(ev.data, 1, ev.len, f) != ev.len || fclose(f) != 0) {
            fprintf(stderr, "veritee client: cannot write %s\n", a->out);
            rc = CLI_EXIT_FAILED;
        }
    }
    vt_attester_close(att);
    vt_buf_cleanup(&pub);
    vt_buf_cleanup(&ev);
    return rc;
}

/* Write text to path (mode: 0600 for a private key). */
static bool write_text(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0) {
        fprintf(stderr, "veritee client: cannot write %s: %s\n", path, strerror(errno));
        return false;
    }
    size_t n = strlen(text);
    bool ok = write(fd, text, n) == (ssize_t)n;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        fprintf(stderr, "veritee client: cannot write %s\n", path);
    }
    return ok;
}

/* veritee client broker-cert: a certificate from the broker's CA for a fresh runtime key. */
static int broker_cert(const struct client_args *a)
{
    if (a->backend == NULL || a->url == NULL || a->profile == NULL || a->out == NULL ||
        a->key_out == NULL) {
        return usage("broker-cert needs --url, --backend, --profile, --out and --key-out");
    }
    vt_attester_sim_register();
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_attester_opts ao = {.tsm_root = a->tsm_root, .sim_dir = a->sim_dir};
    struct vt_attester *att = NULL;
    struct vt_jwk *key = NULL;
    struct vt_client *c = NULL;
    struct vt_client_config cfg = {
        .url = a->url, .ca_file = a->ca_file, .retries = a->retries, .backoff_ms = 200};
    char *token = NULL, *pem = NULL, *resp = NULL;
    struct vt_client_status st = {0};
    enum vt_err err = vt_attester_open(a->backend, &ao, &att, &d);
    if (err == VT_OK) {
        err = vt_jwk_generate(a->key_type, &key, &d);
    }
    if (err == VT_OK) {
        err = vt_client_new(&cfg, &c, &d);
    }
    if (err == VT_OK && !a->direct) {
        err = vt_client_attest(c, vt_client_attester_evidence, att, key, &token, NULL, &st, &d);
    }
    if (err == VT_OK) {
        err = vt_client_cert(c, a->profile, token, vt_client_attester_evidence, att, key, &pem,
                             &resp, &st, &d);
    }
    int rc = CLI_EXIT_OK;
    if (err != VT_OK) {
        printf("{\"ok\":false,\"status\":%ld,\"reason\":\"%s\"}\n", st.http_status, st.reason);
        rc = fail(err, &d);
    } else {
        struct vt_buf kp;
        vt_buf_init(&kp, 1u << 16);
        json_t *o = json_loads(resp, 0, NULL);
        const char *ca = json_string_value(json_object_get(o, "ca"));
        bool ok = vt_jwk_private_pem(key, &kp, &d) == VT_OK && vt_buf_append(&kp, "", 1) == VT_OK &&
                  write_text(a->key_out, (const char *)kp.data, 0600) &&
                  write_text(a->out, pem, 0644) &&
                  (a->ca_out == NULL || (ca != NULL && write_text(a->ca_out, ca, 0644)));
        vt_buf_cleanup(&kp);
        json_object_del(o, "certificate");
        json_object_del(o, "ca");
        json_object_set_new(o, "ok", json_true());
        char *text = ok && o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (text != NULL) {
            printf("%s\n", text);
        } else {
            rc = CLI_EXIT_FAILED;
        }
        free(text);
        json_decref(o);
    }
    free(token);
    free(pem);
    free(resp);
    vt_client_free(c);
    vt_jwk_free(key);
    vt_attester_close(att);
    return rc;
}

int cmd_client(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(client_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "cert") == 0) {
        return cmd_client_cert(argc - 1, argv + 1);
    }
    if (strcmp(sub, "connect") == 0) {
        return cmd_client_connect(argc - 1, argv + 1);
    }
    struct client_args a;
    memset(&a, 0, sizeof(a));
    int rc = parse(argc - 1, argv + 1, &a);
    if (rc != 0) {
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    bool attest = strcmp(sub, "attest") == 0, release = strcmp(sub, "release") == 0,
         export = strcmp(sub, "sim-export") == 0;
    if (strcmp(sub, "evidence") == 0) {
        return evidence(&a);
    }
    if (strcmp(sub, "broker-cert") == 0) {
        return broker_cert(&a);
    }
    if (!attest && !release && !export) {
        fprintf(stderr, "veritee client: unknown subcommand '%s'\n%s", sub, client_usage);
        return CLI_EXIT_USAGE;
    }
    if (a.backend == NULL || (!export && a.url == NULL) || (release && a.key == NULL) ||
        (export && (a.out == NULL || a.sim_dir == NULL))) {
        return usage("missing --backend, --url, --key, or (sim-export) --sim-dir and --out");
    }
    vt_attester_sim_register();
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_attester_opts ao = {.tsm_root = a.tsm_root, .sim_dir = a.sim_dir};
    struct vt_attester *att = NULL;
    enum vt_err err = vt_attester_open(a.backend, &ao, &att, &d);
    if (err != VT_OK) {
        return fail(err, &d);
    }
    if (export) {
        err = vt_attester_sim_export(att, a.out, &d);
        vt_attester_close(att);
        return err == VT_OK ? CLI_EXIT_OK : fail(err, &d);
    }
    struct vt_jwk *key = NULL;
    struct vt_client *c = NULL;
    struct vt_client_config cfg = {
        .url = a.url, .ca_file = a.ca_file, .retries = a.retries, .backoff_ms = 200};
    char *token = NULL, *claims = NULL, *receipt = NULL;
    struct vt_client_status st = {0};
    if ((err = vt_jwk_generate(a.key_type, &key, &d)) == VT_OK &&
        (err = vt_client_new(&cfg, &c, &d)) == VT_OK && (attest || !a.direct)) {
        err = vt_client_attest(c, vt_client_attester_evidence, att, key, &token, &claims, &st, &d);
    }
    struct vt_buf secret;
    vt_buf_init(&secret, 1u << 20);
    uint32_t version = 0;
    if (err == VT_OK && release) {
        err = vt_client_release(c, a.key, token, vt_client_attester_evidence, att, key, a.cms,
                                &secret, &version, &receipt, &st, &d);
    }
    rc = CLI_EXIT_OK;
    if (err != VT_OK) {
        printf("{\"ok\":false,\"status\":%ld,\"reason\":\"%s\"}\n", st.http_status, st.reason);
        rc = fail(err, &d);
    } else if (attest) {
        printf("{\"ok\":true,\"token\":\"%s\",\"claims\":%s}\n", token, claims ? claims : "null");
    } else if (a.out != NULL) {
        FILE *f = fopen(a.out, "wb");
        if (f == NULL || fwrite(secret.data, 1, secret.len, f) != secret.len || fclose(f) != 0) {
            fprintf(stderr, "veritee client: cannot write %s\n", a.out);
            rc = CLI_EXIT_FAILED;
        } else {
            printf("{\"ok\":true,\"key\":\"%s\",\"version\":%u,\"receipt\":%s}\n", a.key, version,
                   receipt ? receipt : "null");
        }
    } else {
        char *b64 = vt_base64_alloc(secret.data, secret.len, false);
        if (b64 != NULL) {
            printf("{\"ok\":true,\"key\":\"%s\",\"version\":%u,\"secret_b64\":\"%s\",\"receipt\":%"
                   "s}\n",
                   a.key, version, b64, receipt ? receipt : "null");
            vt_wipe(b64, strlen(b64));
        }
        free(b64);
    }
    vt_buf_cleanup(&secret);
    free(token);
    free(claims);
    free(receipt);
    vt_client_free(c);
    vt_jwk_free(key);
    vt_attester_close(att);
    return rc;
}
