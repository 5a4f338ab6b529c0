/* veritee db: the database's schema versions and migrations (docs/deploy.md, "Upgrading"); and
 * the schema step every command that opens the database takes first (cli_schema). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli.h"
#include "store/schema.h"

static const char db_usage[] =
    "Usage: veritee db status  --db URL\n"
    "       veritee db migrate --db URL [--dry-run]\n"
    "\n"
    "The schema versions of a veritee database (docs/deploy.md, \"Upgrading\"). It holds\n"
    "components, each with its own version: core (tokens, named values), cache, broker.\n"
    "\n"
    "status:  print, as JSON, each component's version in the database and in this veritee,\n"
    "         the steps pending, and the steps applied so far. Changes nothing.\n"
    "migrate: apply the pending steps of the components the database holds (of all three in an\n"
    "         empty database) in one transaction, under a lock that other veritee processes\n"
    "         wait for. Prints the steps applied. veritee serve, veritee cache serve and\n"
    "         veritee broker serve do the same when they start (unless --no-migrate).\n"
    "         --dry-run: print the steps and their SQL instead; changes nothing.\n"
    "\n"
    "Options:\n"
    "  --db URL        sqlite:PATH (the file must exist) or postgres://...\n"
    "  --config FILE   take the database URL from the \"db = URL\" line of a config file\n"
    "  --dry-run       migrate: show what would be done\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error, 3 the database is newer than this\n"
    "veritee (a component at a version it does not know).\n";

static const char *const prog = "veritee db";

static int fail(enum vt_err err, const struct vt_diag *d)
{
    fprintf(stderr, "%s: %s: %s (%s)\n", prog, d->check, d->detail, vt_err_name(err));
    return cli_exit_status_diag(err, d);
}

/* ---- the step every command takes (cli.h) ---- */

int cli_schema(const char *name, const char *db, const struct vt_schema_component *const *comps,
               size_t n, enum vt_schema_mode mode)
{
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_store *s = NULL;
    struct vt_schema_plan *done = malloc(sizeof(*done));
    enum vt_err err = done != NULL ? vt_store_open(db, NULL, &s, &d)
                                   : vt_fail(&d, VT_E_NOMEM, "schema", "no memory");
    if (err == VT_OK) {
        err = vt_schema_apply(s, comps, n, mode, done, &d);
    }
    vt_store_close(s);
    if (err != VT_OK) {
        free(done);
        fprintf(stderr, "%s: %s: %s (%s)\n", name, d.check, d.detail, vt_err_name(err));
        return cli_exit_status_diag(err, &d);
    }
    /* Creating a new database's tables is not news; adopting and migrating are, and so is
     * creating a component in a database that held others (a component a release added). */
    size_t created = 0;
    for (size_t i = 0; i < done->n; i++) {
        created += done->a[i].kind == VT_SCHEMA_ACT_CREATE && done->a[i].version == 1;
    }
    for (size_t i = 0; i < done->n; i++) {
        const struct vt_schema_action *a = &done->a[i];
        if (a->kind != VT_SCHEMA_ACT_CREATE || created < n) {
            fprintf(stderr, "%s: database schema: %s %s to version %zu: %s\n", name, a->comp->name,
                    a->kind == VT_SCHEMA_ACT_ADOPT    ? "adopted"
                    : a->kind == VT_SCHEMA_ACT_CREATE ? "created"
                                                      : "migrated",
                    a->version, a->comp->steps[a->version - 1].name);
        }
    }
    free(done);
    return 0;
}

int cli_schema_watch(void *ctx)
{
    const struct cli_schema_watch *w = ctx;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_schema_apply(w->store, w->comps, w->n, VT_SCHEMA_READ, NULL, &d);
    if (err == VT_OK || strncmp(d.check, "schema.", 7) != 0) {
        return 0;
    }
    fprintf(stderr, "%s: %s: %s; this process stops serving\n", w->prog, d.check, d.detail);
    return CLI_EXIT_SCHEMA;
}

/* ---- veritee db ---- */

/* The "db = URL" line of a config file (the last one), as veritee serve reads it. */
static char *config_db(const char *path, struct vt_diag *d)
{
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    if (vt_file_read(path, &b, d) != VT_OK || vt_buf_append(&b, "", 1) != VT_OK) {
        vt_buf_cleanup(&b);
        return NULL;
    }
    char *url = NULL, *save = NULL;
    for (char *line = strtok_r((char *)b.data, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        line[strcspn(line, "#")] = '\0';
        line += strspn(line, " \t");
        if (strncmp(line, "db", 2) != 0 || strspn(line + 2, " \t=") == 0) {
            continue;
        }
        char *v = line + 2 + strspn(line + 2, " \t");
        if (*v != '=') {
            continue;
        }
        v += 1 + strspn(v + 1, " \t");
        size_t len = strlen(v);
        while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r')) {
            len--;
        }
        free(url);
        url = strndup(v, len);
    }
    vt_buf_cleanup(&b);
    if (url == NULL) {
        vt_fail(d, VT_E_ARG, "config", "%s has no \"db = URL\" line", path);
    }
    return url;
}

/* db status and --dry-run must not create a SQLite file where none is. */
static enum vt_err sqlite_exists(const char *url, struct vt_diag *d)
{
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0 ||
        strstr(url, "://") != NULL) {
        return VT_OK; /* PostgreSQL, or an unknown scheme vt_store_open names */
    }
    const char *path = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
    struct stat st;
    VT_ENSURE(stat(path, &st) == 0, d, errno == ENOENT ? VT_E_NOT_FOUND : VT_E_IO, "db",
              "no database at %s: %s (veritee serve creates one)", path, strerror(errno));
    VT_ENSURE(S_ISREG(st.st_mode), d, VT_E_ARG, "db", "%s is not a file", path);
    return VT_OK;
}

static const char *state_name(const struct vt_schema_state *st)
{
    int64_t bin = (int64_t)st->comp->n_steps;
    return st->version == 0    ? "absent"
           : st->version > bin ? "newer"
           : st->version < bin ? "pending"
                               : "current";
}

static void print_time(int64_t t)
{
    char when[VT_TIME_STR_MAX];
    vt_time_format(t, when);
    printf("\"%s\"", when);
}

static bool row_history(void *ctx, const struct vt_sql_row *row)
{
    json_t *rows = ctx;
    char when[VT_TIME_STR_MAX];
    vt_time_format(vt_row_int(row, 3), when);
    json_array_append_new(
        rows, json_pack("{s:s, s:I, s:s, s:s, s:s}", "component", vt_row_text(row, 0), "version",
                        (json_int_t)vt_row_int(row, 1), "name", vt_row_text(row, 2), "applied_at",
                        when, "veritee_version", vt_row_text(row, 4)));
    return true;
}

static int status(struct vt_store *s)
{
    struct vt_diag d;
    vt_diag_init(&d);
    const size_t n = sizeof(vt_schema_all) / sizeof(vt_schema_all[0]);
    struct vt_schema_state st[VT_SCHEMA_MAX_COMPONENTS];
    json_t *hist = json_array();
    enum vt_err err = hist != NULL ? vt_schema_inspect(s, vt_schema_all, n, st, &d)
                                   : vt_fail(&d, VT_E_NOMEM, "db", "no memory");
    if (err == VT_OK) {
        err = vt_schema_history(s, row_history, hist, &d);
    }
    if (err != VT_OK) {
        json_decref(hist);
        return fail(err, &d);
    }
    printf("{\"veritee_version\":\"%s\",\"backend\":\"%s\",\"components\":[", VT_VERSION,
           vt_store_backend(s) == VT_STORE_SQLITE ? "sqlite" : "postgres");
    for (size_t i = 0; i < n; i++) {
        const struct vt_schema_component *c = st[i].comp;
        printf("%s{\"component\":\"%s\",\"database_version\":%lld,\"binary_version\":%zu,"
               "\"state\":\"%s\",\"recorded\":%s,\"migrated_by\":",
               i ? "," : "", c->name, (long long)st[i].version, c->n_steps, state_name(&st[i]),
               st[i].recorded ? "true" : "false");
        cli_print_json_string(stdout, st[i].by);
        fputs(",\"applied_at\":", stdout);
        if (st[i].recorded) {
            print_time(st[i].at);
        } else {
            fputs("null", stdout);
        }
        fputs(",\"pending\":[", stdout);
        for (size_t v = (size_t)(st[i].version < 0 ? 0 : st[i].version) + 1; v <= c->n_steps; v++) {
            printf("%s{\"version\":%zu,\"name\":", v > (size_t)st[i].version + 1 ? "," : "", v);
            cli_print_json_string(stdout, c->steps[v - 1].name);
            fputc('}', stdout);
        }
        fputs("]}", stdout);
    }
    /* Components another veritee recorded that this one does not know: reported, not used. */
    fputs("],\"unknown_components\":[", stdout);
    size_t k;
    json_t *row;
    bool first = true;
    const char *last = "";
    json_array_foreach(hist, k, row)
    {
        const char *name = json_string_value(json_object_get(row, "component"));
        bool known = false;
        for (size_t i = 0; i < n; i++) {
            known |= strcmp(vt_schema_all[i]->name, name) == 0;
        }
        if (!known && strcmp(name, last) != 0) {
            fputs(first ? "" : ",", stdout);
            cli_print_json_string(stdout, name);
            first = false;
            last = name;
        }
    }
    char *h = json_dumps(hist, JSON_COMPACT | JSON_PRESERVE_ORDER);
    printf("],\"history\":%s}\n", h != NULL ? h : "[]");
    free(h);
    json_decref(hist);
    return CLI_EXIT_OK;
}

static bool print_stmt(void *ctx, const char *stmt)
{
    bool *first = ctx;
    fputs(*first ? "" : ",", stdout);
    cli_print_json_string(stdout, stmt);
    *first = false;
    return true;
}

static void print_actions(const struct vt_schema_plan *p, bool with_sql, enum vt_store_backend b)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct vt_schema_action *a = &p->a[i];
        const struct vt_schema_step *step = &a->comp->steps[a->version - 1];
        printf("%s{\"component\":\"%s\",\"version\":%zu,\"action\":\"%s\",\"name\":", i ? "," : "",
               a->comp->name, a->version, vt_schema_action_name(a->kind));
        cli_print_json_string(stdout, step->name);
        if (with_sql) {
            bool first = true;
            fputs(",\"sql\":[", stdout);
            (void)!vt_schema_step_sql(step, b, print_stmt, &first, NULL);
            fputc(']', stdout);
            printf(",\"code\":%s", step->run != NULL ? "true" : "false");
        }
        fputc('}', stdout);
    }
}

static int migrate(struct vt_store *s, bool dry_run)
{
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_schema_state st[VT_SCHEMA_MAX_COMPONENTS];
    const struct vt_schema_component *comps[VT_SCHEMA_MAX_COMPONENTS];
    const size_t all = sizeof(vt_schema_all) / sizeof(vt_schema_all[0]);
    enum vt_err err = vt_schema_inspect(s, vt_schema_all, all, st, &d);
    if (err != VT_OK) {
        return fail(err, &d);
    }
    /* The components the database holds; all of them in an empty one. */
    size_t n = 0;
    for (size_t i = 0; i < all; i++) {
        if (st[i].version > 0) {
            st[n] = st[i];
            comps[n++] = vt_schema_all[i];
        }
    }
    if (n == 0) {
        for (size_t i = 0; i < all; i++) {
            comps[n++] = vt_schema_all[i];
        }
        if ((err = vt_schema_inspect(s, comps, n, st, &d)) != VT_OK) {
            return fail(err, &d);
        }
    }
    struct vt_schema_plan *p = malloc(sizeof(*p));
    if (p == NULL) {
        return fail(vt_fail(&d, VT_E_NOMEM, "db", "no memory"), &d);
    }
    err = dry_run ? vt_schema_plan_steps(st, n, VT_SCHEMA_MIGRATE, p, &d)
                  : vt_schema_apply(s, comps, n, VT_SCHEMA_MIGRATE, p, &d);
    if (err != VT_OK) {
        free(p);
        return fail(err, &d);
    }
    printf(dry_run ? "{\"dry_run\":true,\"steps\":[" : "{\"applied\":[");
    print_actions(p, dry_run, vt_store_backend(s));
    puts("]}");
    free(p);
    return CLI_EXIT_OK;
}

int cmd_db(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(db_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "status") != 0 && strcmp(sub, "migrate") != 0) {
        fprintf(stderr, "%s: unknown subcommand '%s'\n%s", prog, sub, db_usage);
        return CLI_EXIT_USAGE;
    }
    enum { O_DB = 256, O_CONFIG, O_DRY };
    static const struct option opts[] = {
        {"db", 1, NULL, O_DB},       {"config", 1, NULL, O_CONFIG},
        {"dry-run", 0, NULL, O_DRY}, {"help", 0, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config = NULL;
    bool dry_run = false;
    optind = 1;
    int o;
    while ((o = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        switch (o) {
        case O_DB:
            db = optarg;
            break;
        case O_CONFIG:
            config = optarg;
            break;
        case O_DRY:
            dry_run = true;
            break;
        case 'h':
            fputs(db_usage, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(db_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[1 + optind]);
        return CLI_EXIT_USAGE;
    }
    if ((db == NULL) == (config == NULL)) {
        fprintf(stderr, "%s: give one of --db URL or --config FILE\n", prog);
        return CLI_EXIT_USAGE;
    }
    if (dry_run && strcmp(sub, "migrate") != 0) {
        fprintf(stderr, "%s: --dry-run is an option of migrate\n", prog);
        return CLI_EXIT_USAGE;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    char *from_config = NULL;
    if (config != NULL && (db = from_config = config_db(config, &d)) == NULL) {
        fprintf(stderr, "%s: --config %s: %s\n", prog, config, d.detail);
        return CLI_EXIT_USAGE;
    }
    struct vt_store *s = NULL;
    enum vt_err err = sqlite_exists(db, &d);
    if (err == VT_OK) {
        err = vt_store_open(db, NULL, &s, &d);
    }
    int rc = err != VT_OK                 ? fail(err, &d)
             : strcmp(sub, "status") == 0 ? status(s)
                                          : migrate(s, dry_run);
    vt_store_close(s);
    free(from_config);
    return rc;
}
