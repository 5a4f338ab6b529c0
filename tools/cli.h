/* Shared plumbing of the veritee subcommands. */
#ifndef VERITEE_TOOLS_CLI_H
#define VERITEE_TOOLS_CLI_H

#include <stdio.h>

#include "internal.h"

#include "net/http.h"
#include "store/master_key.h"
#include "store/schema.h"

/* Exit statuses of every subcommand. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILED 1
#define CLI_EXIT_USAGE 2
/* The database's schema is newer than this binary, or older and the command may not migrate it
 * (--no-migrate, operator commands): docs/deploy.md "Upgrading". systemd's unit does not restart
 * on it (RestartPreventExitStatus). */
#define CLI_EXIT_SCHEMA 3

/* The inputs of a verification, as given on the command line. */
struct cli_verify_args {
    const char *collateral;
    const char *at;
    const char *anchors[VT_MAX_CHAIN_DEPTH];
    size_t n_anchors;
    bool expiry_only;
    const char *nonce;      /* hex; Nitro: must equal the document's nonce */
    const char *max_age;    /* seconds; Nitro: maximum age of the document timestamp */
    const char *vek;        /* SNP: the VCEK or VLEK (DER or PEM) */
    const char *cert_chain; /* SNP: ASK/ASVK + ARK (PEM) */
    const char *crl;        /* SNP: the AMD CRL (DER or PEM) */
    const char *evidence;
    const char *policy; /* verify: apply this policy (docs/policy.md) to the claims */
    /* the evidence's bytes when already read (stdin can be read once); NULL: read evidence */
    const struct vt_buf *evidence_bytes;
    /* verify CERT: trusted veritee broker CAs (--broker-ca) */
    const char *broker_cas[VT_MAX_CHAIN_DEPTH];
    size_t n_broker_cas;
};

/* Everything loaded for a verification. */
struct cli_verify_setup {
    struct vt_buf evidence;
    struct vt_evidence parsed; /* detected and parsed once, from evidence */
    enum vt_evidence_kind kind;
    struct vt_cert_list anchors; /* --trust-anchor roots (the embedded ones are always added) */
    struct vt_collateral_source *source;
    struct vt_verifier *verifier;
    struct vt_verifier_config config; /* verifier's (bench --cold creates more) */
    struct vt_verify_opts opts;
    struct vt_buf snp_files[3]; /* --vcek, --cert-chain, --crl */
    uint8_t nonce[VT_NITRO_MAX_BINDING];
    bool usage_error; /* the failure was in an option's value (exit status 2) */
    const struct cli_verify_args *args;
};

/* The options of bench alone; the caller sets the defaults before parsing. */
struct cli_bench_opts {
    double seconds;   /* --seconds: (0, 3600] */
    unsigned threads; /* --threads: 1..VT_BENCH_MAX_THREADS */
    bool cold;        /* --cold */
};

/* Parse the options shared by verify and bench (bench: bench's own options, NULL for verify,
 * where they are usage errors). Returns 0 to go on, -1 after printing help, or an exit status
 * after a usage error. */
int cli_parse_verify_args(int argc, char **argv, struct cli_verify_args *a, const char *usage,
                          struct cli_bench_opts *bench);

/* Load and parse the evidence, the anchors and the collateral source, and build the verifier.
 * On failure the setup must still be cleaned up. */
enum vt_err cli_verify_setup(struct cli_verify_setup *s, const struct cli_verify_args *a,
                             struct vt_diag *d);
void cli_verify_cleanup(struct cli_verify_setup *s);
/* Verify the parsed evidence once (vt_verify_evidence). */
enum vt_err cli_verify_once(struct cli_verify_setup *s, struct vt_claims *claims,
                            struct vt_diag *d);
/* Verify the evidence bytes once, parse included (vt_verify): what `veritee bench` measures. */
enum vt_err cli_verify_bytes(struct cli_verify_setup *s, struct vt_claims *claims,
                             struct vt_diag *d);

/* The exit status for an error: usage and I/O problems 2, a schema refusal 3 (checks
 * "schema.newer" and "schema.pending", cli_exit_status_diag), anything else 1. */
int cli_exit_status(enum vt_err err);
/* True if err (recorded in d) is vt_file_read failing: a file that cannot be opened or read, or
 * that is larger than the limit for its kind of input. */
bool cli_is_file_error(enum vt_err err, const struct vt_diag *d);
/* cli_exit_status, except that a file that cannot be read or is too large (cli_is_file_error) is
 * an input problem: 2, and a schema refusal is 3. */
int cli_exit_status_diag(enum vt_err err, const struct vt_diag *d);
/* The exit status after cli_verify_setup (and verification) returned err, recorded in d. */
int cli_setup_exit_status(const struct cli_verify_setup *s, enum vt_err err,
                          const struct vt_diag *d);
/* Print {"code","number","category","message","check","detail"} as a JSON object value. */
void cli_print_error_object(FILE *f, enum vt_err err, const struct vt_diag *d);
/* Print a JSON string literal with escaping. */
void cli_print_json_string(FILE *f, const char *s);

/* Run an HTTP server (HOST:PORT, port 0: any free port, written to port_file) until SIGINT or
 * SIGTERM. Returns an exit status. */
struct cli_server_args {
    const char *listen, *port_file, *tls_cert, *tls_key;
    unsigned threads;
    size_t max_body;
    vt_http_route_fn route;
    struct vt_http_limits limits;
    /* Called every CLI_WATCH_SECONDS while serving (NULL: never): a non-zero return stops the
     * server, and cli_serve_http returns it. */
    int (*watch)(void *ctx);
    void *watch_ctx;
};
#define CLI_WATCH_SECONDS 10
int cli_serve_http(const struct cli_server_args *a, vt_http_handler handler, void *ctx,
                   const char *what);
/* Start a server as cli_serve_http does (listen, port file, TLS), without waiting: 0 with *out
 * (stop it with vt_http_server_stop), or an exit status after a message. For a second listener
 * of one process (veritee serve --kms-listen). */
int cli_http_start(const struct cli_server_args *a, vt_http_handler handler, void *ctx,
                   const char *what, struct vt_http_server **out);

/* The options every serving command takes for the server's limits, as getopt_long entries with
 * ids from CLI_LIMIT_OPT on (put CLI_LIMIT_OPTIONS in the command's table); cli_limit_usage is
 * their help. */
#define CLI_LIMIT_OPT 1000
#define CLI_LIMIT_OPTIONS                                                                          \
    {"max-connections", 1, NULL, CLI_LIMIT_OPT},                                                   \
        {"max-connections-per-client", 1, NULL, CLI_LIMIT_OPT + 1},                                \
        {"reserved-connections", 1, NULL, CLI_LIMIT_OPT + 2},                                      \
        {"head-timeout", 1, NULL, CLI_LIMIT_OPT + 3},                                              \
        {"body-timeout", 1, NULL, CLI_LIMIT_OPT + 4},                                              \
        {"idle-timeout", 1, NULL, CLI_LIMIT_OPT + 5},                                              \
        {"write-timeout", 1, NULL, CLI_LIMIT_OPT + 6},                                             \
        {"max-body-memory", 1, NULL, CLI_LIMIT_OPT + 7},                                           \
        {"rate-limit", 1, NULL, CLI_LIMIT_OPT + 8},                                                \
    {                                                                                              \
        "trusted-proxy", 1, NULL, CLI_LIMIT_OPT + 9                                                \
    }
extern const char cli_limit_usage[];
/* BYTES, 1 or more, with an optional K, M or G suffix (powers of 1024). */
bool cli_parse_bytes(const char *s, size_t *out);
/* The command line's defaults (docs/deploy.md): the server's, plus a per-client attest rate. */
void cli_limits_defaults(struct vt_http_limits *l);
/* If id is a limit option, apply arg and return 0 (or CLI_EXIT_USAGE after a message);
 * -1 if id is not one. */
int cli_limit_option(struct vt_http_limits *l, int id, const char *arg, const char *prog);

/* The 256-bit master key: 64 hex characters (surrounding whitespace ignored) from file, or else
 * from the environment variable VERITEE_MASTER_KEY; VT_E_ARG if neither gives one. */
enum vt_err cli_read_master_key(const char *file, uint8_t key[32], struct vt_diag *d);

/* Bring the database's schema (comps[0..n), store/schema.h) to this binary's versions as mode
 * allows, before a command opens it; print what was done on stderr as "PROG: database schema:
 * ...". Returns 0, or the exit status after printing the error (3 for a schema refusal). */
int cli_schema(const char *prog, const char *db, const struct vt_schema_component *const *comps,
               size_t n, enum vt_schema_mode mode);
/* A cli_server_args.watch: 0 while the schema of comps[0..n) in the store is this binary's;
 * CLI_EXIT_SCHEMA (after a message) once another veritee has migrated it further (or a backup
 * of another version was restored), so that an older replica stops serving. Storage errors are
 * taken as passing (the requests report them). */
struct cli_schema_watch {
    const char *prog;
    struct vt_store *store;
    const struct vt_schema_component *const *comps;
    size_t n;
};
int cli_schema_watch(void *ctx);

/* A text file (at most 1 MiB) as a heap string, or NULL with d saying why. */
char *cli_read_text(const char *path, struct vt_diag *d);

/* --config FILE for the serving commands: "name = value" lines, one long option each (without
 * "--"; a switch alone; '#' starts a comment), read as if given before the command line's own
 * options, which therefore override them. cli_config_expand returns 0 with c->argc/c->argv the
 * expanded arguments, or an exit status after a message; cli_config_free in every case. */
struct cli_config_args {
    char **argv; /* argv[0], the file's options, then the command line's */
    int argc;
    char *text;   /* the file, split in place into values */
    char **names; /* the "--name" strings made from it */
    size_t n_names;
};
int cli_config_expand(const char *prog, int argc, char **argv, struct cli_config_args *c);
void cli_config_free(struct cli_config_args *c);

int cmd_verify(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_broker(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_client(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_claims(int argc, char **argv);
int cmd_routes(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_kms(int argc, char **argv);

/* Attested TLS (tools/cmd_atls.c). True if the file's bytes are an X.509 certificate (PEM, or
 * DER) rather than evidence. */
bool cli_is_certificate(const uint8_t *p, size_t n);
/* veritee verify CERT: verify an attested certificate (file: its bytes) with the options of
 * verify; prints the JSON result, returns the exit status. */
int cli_verify_cert(const struct cli_verify_args *a, const char *const *broker_cas,
                    size_t n_broker_cas, const struct vt_buf *file);
/* veritee client cert / client connect. */
int cmd_client_cert(int argc, char **argv);
int cmd_client_connect(int argc, char **argv);

/* Every service that seals values of its own under the master key (store/master_key.h): what
 * `broker rewrap` re-seals and a restore checks besides the broker's own keys. */
extern const struct vt_sealed_service *const cli_sealed_services[];
extern const size_t cli_n_sealed_services;

#endif
