/* veritee: the one command of veritee. Each subcommand lives in its own file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char main_usage[] =
    "Usage: veritee COMMAND [OPTIONS]\n"
    "\n"
    "veritee verifies confidential-computing attestation evidence against the vendors' PKI.\n"
    "\n"
    "Commands:\n"
    "  verify    verify evidence offline and print the claims as JSON\n"
    "  bench     measure verifications per second of one piece of evidence\n"
    "  cache     the collateral cache service (serve, enforce, impact, export, import, ...)\n"
    "  policy    check an attestation/release policy or evaluate it against claims\n"
    "  claims    print the claims registry (names, types, meanings) as markdown\n"
    "  broker    the key broker service and its operator commands\n"
    "  serve     cache and broker in one process (the default deployment)\n"
    "  kms       the AWS KMS endpoint for Nitro Enclaves, and its access keys\n"
    "  audit     check the broker's audit log, or one release receipt offline\n"
    "  backup    copy the SQLite database online into a new backup file\n"
    "  restore   check a backup and write it into an empty database\n"
    "  db        the database's schema versions: status, migrate [--dry-run]\n"
    "  client    attest and release a secret from inside a TEE (or a simulator); attested\n"
    "            TLS certificates (client cert) and connections (client connect)\n"
    "  routes    list the HTTP routes of the cache and the broker (JSON)\n"
    "  version   print the version\n"
    "  help      show this help\n"
    "\n"
    "Run `veritee COMMAND --help` for a command's options.\n";

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(main_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "verify") == 0) {
        return cmd_verify(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "cache") == 0) {
        return cmd_cache(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "broker") == 0) {
        return cmd_broker(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "serve") == 0) {
        return cmd_serve(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "kms") == 0) {
        return cmd_kms(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "client") == 0) {
        return cmd_client(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "audit") == 0) {
        return cmd_audit(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "backup") == 0) {
        return cmd_backup(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "restore") == 0) {
        return cmd_restore(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "db") == 0) {
        return cmd_db(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "claims") == 0) {
        return cmd_claims(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "policy") == 0) {
        return cmd_policy(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "bench") == 0) {
        return cmd_bench(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "routes") == 0) {
        return cmd_routes(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("veritee %s\n", VT_VERSION);
        return CLI_EXIT_OK;
    }
    fprintf(stderr, "veritee: unknown command '%s'\n%s", argv[1], main_usage);
    return CLI_EXIT_USAGE;
}
