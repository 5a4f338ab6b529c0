/* veritee verify: verify one piece of evidence offline and print the result as JSON. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char verify_usage[] =
    "Usage: veritee verify [OPTIONS] EVIDENCE\n"
    "\n"
    "Verify attestation evidence offline and print one JSON object on stdout:\n"
    "{\"verified\": true|false, \"evidence_type\": ..., \"claims\": {...} | null,\n"
    " \"error\": {\"code\", \"number\", \"category\", \"message\", \"check\", \"detail\"}}\n"
    "The evidence type is detected from the bytes: Intel SGX/TDX DCAP quotes v3-v5, AWS Nitro\n"
    "Enclaves attestation documents, AMD SEV-SNP reports v2-v5 and Azure confidential VM HCL\n"
    "reports (hex or base64 text is decoded first). EVIDENCE may be - for stdin.\n"
    "An X.509 certificate (PEM or DER) is verified as an attested TLS certificate instead\n"
    "(docs/attested-tls.md): RA-TLS (SGX, TDX), Open Enclave, CMW (SEV-SNP, Nitro) evidence\n"
    "bound to its key, or a veritee broker's certificate (--broker-ca); the JSON then has\n"
    "\"evidence_type\": \"attested-certificate\" and \"format\".\n"
    "\n"
    "Options:\n"
    "  --collateral DIR      collateral directory: tcb_info.json, qe_identity.json,\n"
    "                        tcb_info_issuer_chain.pem, qe_identity_issuer_chain.pem,\n"
    "                        pck_crl.der, root_ca_crl.der, optional pck_crl_issuer_chain.pem\n"
    "                        (CRLs DER, PEM or hex; chains PEM or URL-encoded PEM)\n"
    "                        SEV-SNP: vcek.der|vcek.pem|vlek.der|vlek.pem, optional\n"
    "                        cert_chain.pem, crl.der|crl.pem\n"
    "  --collateral URL      or fetch it from a PCS/KDS-shaped service: a veritee cache\n"
    "                        (http://HOST:PORT), a PCCS, Intel PCS or AMD KDS\n"
    "  --vcek FILE           SEV-SNP: the VCEK or VLEK (DER or PEM; a PEM may carry the ASK\n"
    "                        and ARK after it, as Azure's THIM serves them)\n"
    "  --cert-chain FILE     SEV-SNP: ASK or ASVK then ARK (PEM, KDS cert_chain); default: the\n"
    "                        embedded AMD certificates\n"
    "  --crl FILE            SEV-SNP: the AMD CRL (KDS /crl, DER or PEM), checked for the ASK\n"
    "  --at TIME             verification time: unix seconds (a fraction is dropped:\n"
    "                        1752919277.9 is 1752919277) or RFC 3339 (default: now)\n"
    "  --trust-anchor FILE   also trust this root (PEM or DER): its subject and public key,\n"
    "                        so a re-issue of the same name and key is trusted too;\n"
    "                        repeatable.\n"
    "                        The embedded Intel SGX Root CA, AWS Nitro Enclaves Root G1 and\n"
    "                        AMD ARKs (Milan, Genoa, Turin) are always trusted.\n"
    "  --expiry-only         check only expiry (notAfter, nextUpdate), as Intel's QVL does;\n"
    "                        the default also requires notBefore, thisUpdate and issueDate\n"
    "  --nonce HEX           Nitro: the document's nonce must equal HEX\n"
    "  --max-age SECONDS     Nitro: the document's timestamp may be at most SECONDS before the\n"
    "                        verification time\n"
    "  --policy FILE         after a successful verification, evaluate this policy\n"
    "                        (docs/policy.md) on the claims and add \"policy\": {\"allowed\",\n"
    "                        \"reason\", \"policy_sha256\"}; a denial exits with status 1\n"
    "  --broker-ca FILE      certificate: trust this veritee broker CA (PEM); repeatable\n"
    "  -h, --help            show this help\n"
    "\n"
    "Exit status: 0 verified (and allowed by --policy), 1 not verified (or denied),\n"
    "2 usage or input problem: a bad option, a file that is missing, unreadable or too large\n"
    "(check file.read or file.size, the file named in the detail), or an invalid --policy.\n";

/* A bench option given to verify: a usage error. */
static int bench_only(const char *opt, const char *usage)
{
    fprintf(stderr, "veritee: %s is an option of bench\n%s", opt, usage);
    return CLI_EXIT_USAGE;
}

int cli_parse_verify_args(int argc, char **argv, struct cli_verify_args *a, const char *usage,
                          struct cli_bench_opts *bench)
{
    static const struct option opts[] = {
        {"collateral", required_argument, NULL, 'c'},
        {"at", required_argument, NULL, 't'},
        {"trust-anchor", required_argument, NULL, 'a'},
        {"expiry-only", no_argument, NULL, 'e'},
        {"nonce", required_argument, NULL, 'n'},
        {"max-age", required_argument, NULL, 'm'},
        {"vcek", required_argument, NULL, 'V'},
        {"cert-chain", required_argument, NULL, 'C'},
        {"crl", required_argument, NULL, 'R'},
        {"seconds", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 'T'},
        {"cold", no_argument, NULL, 'O'},
        {"policy", required_argument, NULL, 'P'},
        {"broker-ca", required_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof(*a));
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            a->collateral = optarg;
            break;
        case 't':
            a->at = optarg;
            break;
        case 'a':
            if (a->n_anchors == VT_MAX_CHAIN_DEPTH) {
                fprintf(stderr, "veritee: at most %d --trust-anchor options\n", VT_MAX_CHAIN_DEPTH);
                return CLI_EXIT_USAGE;
            }
            a->anchors[a->n_anchors++] = optarg;
            break;
        case 'e':
            a->expiry_only = true;
            break;
        case 'n':
            a->nonce = optarg;
            break;
        case 'm':
            a->max_age = optarg;
            break;
        case 'V':
            a->vek = optarg;
            break;
        case 'C':
            a->cert_chain = optarg;
            break;
        case 'R':
            a->crl = optarg;
            break;
        case 's': {
            if (bench == NULL) {
                return bench_only("--seconds", usage);
            }
            char *end;
            double v = strtod(optarg, &end);
            if (*end != '\0' || !(v > 0 && v <= 3600)) {
                fprintf(stderr, "veritee: --seconds takes a number in (0, 3600]\n%s", usage);
                return CLI_EXIT_USAGE;
            }
            bench->seconds = v;
            break;
        }
        case 'T':
            if (bench == NULL) {
                return bench_only("--threads", usage);
            }
            if (!vt_bench_parse_threads(optarg, &bench->threads)) {
                fprintf(stderr,
                        "veritee: --threads takes a whole number from 1 to %d, not \"%s\"\n%s",
                        VT_BENCH_MAX_THREADS, optarg, usage);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'O':
            if (bench == NULL) {
                return bench_only("--cold", usage);
            }
            bench->cold = true;
            break;
        case 'P':
            if (bench != NULL) {
                fprintf(stderr, "veritee: --policy is an option of verify\n%s", usage);
                return CLI_EXIT_USAGE;
            }
            a->policy = optarg;
            break;
        case 'B':
            if (bench != NULL) {
                fprintf(stderr, "veritee: --broker-ca is an option of verify\n%s", usage);
                return CLI_EXIT_USAGE;
            }
            if (a->n_broker_cas == VT_MAX_CHAIN_DEPTH) {
                fprintf(stderr, "veritee: at most %d --broker-ca options\n", VT_MAX_CHAIN_DEPTH);
                return CLI_EXIT_USAGE;
            }
            a->broker_cas[a->n_broker_cas++] = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return -1;
        default:
            fputs(usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "veritee: expected exactly one EVIDENCE operand\n%s", usage);
        return CLI_EXIT_USAGE;
    }
    a->evidence = argv[optind];
    return 0;
}

/* Read and compile --policy FILE; on failure say why on stderr. */
static enum vt_err load_policy(const char *path, struct vt_policy **p, struct vt_diag *d)
{
    struct vt_buf b;
    vt_buf_init(&b, VT_POLICY_MAX_SIZE);
    enum vt_err err = vt_file_read(path, &b, d);
    if (err == VT_OK) {
        err = vt_policy_compile((const char *)b.data, b.len, p, d);
    }
    vt_buf_cleanup(&b);
    if (err != VT_OK) {
        fprintf(stderr, "veritee: --policy %s: %s: %s (%s)\n", path, d->check, d->detail,
                vt_err_name(err));
    }
    return err;
}

/* Print ,"policy":{"allowed","reason","policy_sha256"}; false unless allowed. */
static bool apply_policy(const struct vt_policy *p, const struct vt_claims *claims)
{
    struct vt_policy_result r;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_policy_eval_claims(p, claims, &r, &d);
    uint8_t h[VT_SHA256_LEN];
    char hex[2 * VT_SHA256_LEN + 1];
    vt_policy_digest(p, h);
    vt_hex_encode(h, sizeof(h), hex);
    printf(",\"policy\":{\"allowed\":%s,\"reason\":", err == VT_OK && r.allowed ? "true" : "false");
    if (err == VT_OK && r.allowed) {
        fputs("null", stdout);
    } else {
        cli_print_json_string(stdout, err == VT_OK ? r.reason : "error");
    }
    fputs(",\"policy_sha256\":", stdout);
    cli_print_json_string(stdout, hex);
    if (err != VT_OK) {
        fputs(",\"error\":", stdout);
        cli_print_error_object(stdout, err, &d);
    }
    fputc('}', stdout);
    bool allowed = err == VT_OK && r.allowed;
    vt_policy_result_cleanup(&r);
    return allowed;
}

int cmd_verify(int argc, char **argv)
{
    struct cli_verify_args a;
    int rc = cli_parse_verify_args(argc, argv, &a, verify_usage, NULL);
    if (rc != 0) {
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    /* an attested TLS certificate rather than evidence (docs/attested-tls.md); the bytes read
     * here are the ones verified either way (stdin is read once). A file that cannot be read is
     * reported by the evidence path, as always. */
    struct vt_buf file;
    vt_buf_init(&file, VT_MAX_EVIDENCE_SIZE);
    if (vt_file_read(a.evidence, &file, &d) == VT_OK) {
        if (cli_is_certificate(file.data, file.len)) {
            rc = cli_verify_cert(&a, a.broker_cas, a.n_broker_cas, &file);
            vt_buf_cleanup(&file);
            return rc;
        }
        a.evidence_bytes = &file;
    }
    vt_diag_init(&d);
    struct vt_policy *policy = NULL;
    if (a.policy != NULL && load_policy(a.policy, &policy, &d) != VT_OK) {
        vt_buf_cleanup(&file);
        return CLI_EXIT_USAGE;
    }
    struct cli_verify_setup s;
    struct vt_claims claims;
    enum vt_err err = cli_verify_setup(&s, &a, &d);
    if (err == VT_OK) {
        err = cli_verify_once(&s, &claims, &d);
    }
    printf("{\"verified\":%s,\"evidence_type\":", err == VT_OK ? "true" : "false");
    cli_print_json_string(stdout, vt_evidence_kind_name(s.kind));
    fputs(",\"claims\":", stdout);
    char *json = err == VT_OK ? vt_claims_to_json(&claims) : NULL;
    if (err == VT_OK && json == NULL) {
        err = vt_fail(&d, VT_E_NOMEM, "claims", "cannot serialise the claims");
    }
    fputs(json != NULL ? json : "null", stdout);
    bool allowed = true;
    if (err == VT_OK && policy != NULL) {
        allowed = apply_policy(policy, &claims);
    }
    free(json);
    if (err != VT_OK) {
        fputs(",\"error\":", stdout);
        cli_print_error_object(stdout, err, &d);
    }
    fputs("}\n", stdout);
    cli_verify_cleanup(&s);
    vt_policy_free(policy);
    vt_buf_cleanup(&file);
    rc = cli_setup_exit_status(&s, err, &d);
    return rc == CLI_EXIT_OK && !allowed ? CLI_EXIT_FAILED : rc;
}
