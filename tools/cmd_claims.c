/* veritee claims: the claims registry (src/claims/claims_list.h) as the tables of
 * docs/claims.md. */
#include <stdio.h>
#include <string.h>

#include "claims/registry.h"
#include "cli.h"

static const char claims_usage[] =
    "Usage: veritee claims --markdown\n"
    "\n"
    "Print the claims registry (every claim `veritee verify` can emit, with its type and\n"
    "meaning) as the markdown tables of docs/claims.md, which are generated from it.\n"
    "\n"
    "Exit status: 0 success, 2 usage error.\n";

int cmd_claims(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(claims_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (argc != 2 || strcmp(argv[1], "--markdown") != 0) {
        fputs(claims_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    vt_claims_markdown(stdout);
    return CLI_EXIT_OK;
}
