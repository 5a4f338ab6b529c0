/* veritee policy: compile-check a policy, or evaluate one against claims (docs/policy.md). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

#define CLAIMS_MAX_SIZE (4 * 1024 * 1024)

static const char policy_usage[] =
    "Usage: veritee policy check --policy FILE\n"
    "       veritee policy eval --policy FILE --claims FILE [--explain]\n"
    "\n"
    "Attestation and release policies (docs/policy.md):\n"
    "  check   compile the policy and report the first error with its JSON path\n"
    "  eval    evaluate the policy against claims and print the decision\n"
    "\n"
    "Run `veritee policy SUBCOMMAND --help` for its options.\n";

static const char check_usage[] =
    "Usage: veritee policy check --policy FILE\n"
    "\n"
    "Compile a policy. Prints {\"valid\": true, \"policy_sha256\": HEX} or\n"
    "{\"valid\": false, \"error\": {\"code\", ..., \"check\": JSON path, \"detail\"}}.\n"
    "\n"
    "Options:\n"
    "  --policy FILE   the policy JSON (- for stdin)\n"
    "  -h, --help      show this help\n"
    "\n"
    "Exit status: 0 valid, 2 invalid policy, usage or I/O error.\n";

static const char eval_usage[] =
    "Usage: veritee policy eval --policy FILE --claims FILE [--explain]\n"
    "\n"
    "Evaluate a policy against claims and print one JSON object:\n"
    "{\"allowed\": true|false, \"reason\": null | \"debug\" | \"status\" | RULE PATH,\n"
    " \"policy_sha256\": HEX, \"explanation\": [...] (with --explain)}\n"
    "The explanation has one entry per evaluated check: {\"path\", \"outcome\", \"op\",\n"
    "\"claim\", \"expected\", \"actual\", \"present\"}.\n"
    "\n"
    "Options:\n"
    "  --policy FILE   the policy JSON\n"
    "  --claims FILE   a claims object, or the whole output of `veritee verify`\n"
    "                  ({\"verified\": true, \"claims\": {...}}); - for stdin\n"
    "  --explain       add the rule-by-rule explanation\n"
    "  -h, --help      show this help\n"
    "\n"
    "Exit status: 0 allowed, 1 denied, 2 invalid policy or claims, usage or I/O error.\n";

/* Read and compile; on failure print the error with its JSON path on stderr. */
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
        fprintf(stderr, "veritee: policy %s: %s: %s (%s)\n", path, d->check, d->detail,
                vt_err_name(err));
    }
    return err;
}

static void print_sha(FILE *f, const struct vt_policy *p)
{
    uint8_t h[VT_SHA256_LEN];
    char hex[2 * VT_SHA256_LEN + 1];
    vt_policy_digest(p, h);
    vt_hex_encode(h, sizeof(h), hex);
    cli_print_json_string(f, hex);
}

/* Options shared by check and eval; returns 0 to go on, -1 after help, or an exit status. */
static int parse(int argc, char **argv, const char *usage, bool eval, const char **policy,
                 const char **claims, bool *explain)
{
    static const struct option opts[] = {
        {"policy", required_argument, NULL, 'p'},
        {"claims", required_argument, NULL, 'c'},
        {"explain", no_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            *policy = optarg;
            break;
        case 'c':
        case 'x':
            if (!eval) {
                fprintf(stderr, "veritee: policy check takes only --policy\n%s", usage);
                return CLI_EXIT_USAGE;
            }
            if (c == 'c') {
                *claims = optarg;
            } else {
                *explain = true;
            }
            break;
        case 'h':
            fputs(usage, stdout);
            return -1;
        default:
            fputs(usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "veritee: unexpected operand '%s'\n%s", argv[optind], usage);
        return CLI_EXIT_USAGE;
    }
    if (*policy == NULL || (eval && *claims == NULL)) {
        fprintf(stderr, "veritee: %s\n%s",
                *policy == NULL ? "--policy FILE is required" : "--claims FILE is required", usage);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    const char *policy = NULL, *claims = NULL;
    bool explain = false;
    int rc = parse(argc, argv, check_usage, false, &policy, &claims, &explain);
    if (rc != 0) {
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_policy *p = NULL;
    enum vt_err err = load_policy(policy, &p, &d);
    if (err != VT_OK) {
        fputs("{\"valid\":false,\"error\":", stdout);
        cli_print_error_object(stdout, err, &d);
        fputs("}\n", stdout);
        return CLI_EXIT_USAGE;
    }
    fputs("{\"valid\":true,\"policy_sha256\":", stdout);
    print_sha(stdout, p);
    fputs("}\n", stdout);
    vt_policy_free(p);
    return CLI_EXIT_OK;
}

/* The claims object of a file holding claims or the output of `veritee verify`. */
static json_t *load_claims(const char *path, struct vt_diag *d, enum vt_err *err)
{
    struct vt_buf b;
    vt_buf_init(&b, CLAIMS_MAX_SIZE);
    *err = vt_file_read(path, &b, d);
    if (*err != VT_OK) {
        vt_buf_cleanup(&b);
        return NULL;
    }
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)b.data, b.len, 0, &jerr);
    vt_buf_cleanup(&b);
    if (doc == NULL) {
        *err = vt_fail(d, VT_E_BAD_JSON, "claims", "%s: line %d column %d: %s", path, jerr.line,
                       jerr.column, jerr.text);
        return NULL;
    }
    json_t *verified = json_object_get(doc, "verified");
    if (json_is_boolean(verified) && json_object_get(doc, "claims") != NULL) {
        json_t *claims = json_object_get(doc, "claims");
        if (!json_is_true(verified) || !json_is_object(claims)) {
            *err = vt_fail(d, VT_E_BAD_FIELD, "claims",
                           "%s: the verification failed (\"verified\": false): there are no "
                           "claims to evaluate",
                           path);
            json_decref(doc);
            return NULL;
        }
        json_incref(claims);
        json_decref(doc);
        doc = claims;
    }
    if (!json_is_object(doc)) {
        *err = vt_fail(d, VT_E_BAD_FIELD, "claims", "%s: claims must be a JSON object", path);
        json_decref(doc);
        return NULL;
    }
    *err = VT_OK;
    return doc;
}

static int cmd_eval(int argc, char **argv)
{
    const char *policy = NULL, *claims_path = NULL;
    bool explain = false;
    int rc = parse(argc, argv, eval_usage, true, &policy, &claims_path, &explain);
    if (rc != 0) {
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_policy *p = NULL;
    enum vt_err err = load_policy(policy, &p, &d);
    json_t *claims = NULL;
    if (err == VT_OK) {
        claims = load_claims(claims_path, &d, &err);
        if (err != VT_OK) {
            fprintf(stderr, "veritee: %s (%s)\n", d.detail, vt_err_name(err));
        }
    }
    struct vt_policy_result r = {0};
    if (err == VT_OK) {
        err = vt_policy_eval_json(p, claims, &r, &d);
    }
    json_decref(claims);
    if (err != VT_OK) {
        fputs("{\"error\":", stdout);
        cli_print_error_object(stdout, err, &d);
        fputs("}\n", stdout);
        vt_policy_free(p);
        return CLI_EXIT_USAGE;
    }
    printf("{\"allowed\":%s,\"reason\":", r.allowed ? "true" : "false");
    if (r.allowed) {
        fputs("null", stdout);
    } else {
        cli_print_json_string(stdout, r.reason);
    }
    fputs(",\"policy_sha256\":", stdout);
    print_sha(stdout, p);
    if (explain) {
        printf(",\"explanation\":%s", r.explanation);
    }
    fputs("}\n", stdout);
    bool allowed = r.allowed;
    vt_policy_result_cleanup(&r);
    vt_policy_free(p);
    return allowed ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

int cmd_policy(int argc, char **argv)
{
    if (argc < 2) {
        fputs(policy_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(policy_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "check") == 0) {
        return cmd_check(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "eval") == 0) {
        return cmd_eval(argc - 1, argv + 1);
    }
    fprintf(stderr, "veritee: unknown policy subcommand '%s'\n%s", argv[1], policy_usage);
    return CLI_EXIT_USAGE;
}
