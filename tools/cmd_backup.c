/* veritee backup and veritee restore: an online copy of an SQLite database, and its checked
 * restore into an empty one (docs/deploy.md, "Backup and restore"). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker.h"
#include "cli.h"
#include "store/backup.h"
#include "store/schema.h"

static const char backup_usage[] =
    "Usage: veritee backup --db URL --out FILE\n"
    "\n"
    "Copy veritee's SQLite database into FILE while the service runs: SQLite's online backup\n"
    "API reads every page in one read transaction, so FILE is one consistent snapshot of all\n"
    "tables (keys, policies, signing keys, the audit log with its signed checkpoints, tokens,\n"
    "the collateral cache) and the service goes on releasing meanwhile. FILE is a new,\n"
    "self-contained SQLite file (no -wal beside it), mode 0600, checked with PRAGMA\n"
    "integrity_check and synced before it gets its name; an existing FILE is never\n"
    "overwritten. Secrets stay sealed under the master key, which is not in the backup:\n"
    "keep it apart from the backups (docs/deploy.md, \"Backup and restore\").\n"
    "\n"
    "PostgreSQL: back up with pg_dump -Fc (one snapshot, online) or pg_basebackup.\n"
    "\n"
    "Options:\n"
    "  --db URL        sqlite:PATH (default sqlite:veritee.db)\n"
    "  --out FILE      the backup file to create\n"
    "  --config FILE   take db from the service's config file (the command line overrides)\n"
    "\n"
    "Prints {\"backup\",\"bytes\",\"keys\",\"key_versions\",\"signing_keys\",\"log_entries\",\n"
    "\"checkpoint_size\",\"cache_items\",\"master_key_id\"} (-1: no such tables; master_key_id:\n"
    "the id of the master key the secrets are sealed under, null if not recorded).\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error (FILE exists, no veritee database).\n";

static const char restore_usage[] =
    "Usage: veritee restore --backup FILE --db URL [--master-key-file F] [--issuer NAME]\n"
    "       veritee restore --check --backup FILE [--master-key-file F] [--issuer NAME]\n"
    "       veritee restore --check --db URL [--master-key-file F] [--issuer NAME]\n"
    "\n"
    "Write a backup made by `veritee backup` into an empty SQLite database, after checking a\n"
    "work copy of it: an intact SQLite database of veritee (PRAGMA integrity_check), the\n"
    "master key opens every sealed value (the master-key check, every version's data key and\n"
    "secret, the signing keys, the cache's bundle-signing key), and the audit log verifies\n"
    "(every leaf hash, every checkpoint's root and signature, as `veritee audit verify`).\n"
    "Nothing is written to the target unless all of this passes. The target must not exist,\n"
    "or be an SQLite database without tables. Challenges (nonces, KBS sessions) outstanding\n"
    "at the backup are not restored: they may have been redeemed since.\n"
    "\n"
    "--check checks and writes nothing: the backup FILE, or without --backup the database\n"
    "--db in place (e.g. a PostgreSQL database after pg_restore of a pg_dump).\n"
    "\n"
    "Options:\n"
    "  --backup FILE           the backup file\n"
    "  --db URL                the target: sqlite:PATH (PostgreSQL is restored with\n"
    "                          pg_restore; check it with --check --db postgres://...)\n"
    "  --master-key-file F     the master key the backup is sealed under; default: the\n"
    "                          environment variable VERITEE_MASTER_KEY. Required when the\n"
    "                          backup holds sealed values (a broker's keys)\n"
    "  --issuer NAME           the log's origin, as the service's --issuer (default veritee)\n"
    "  --check                 check only\n"
    "  --config FILE           take db, master-key-file and issuer from the service's config\n"
    "                          file (the command line overrides)\n"
    "\n"
    "Prints {\"restored\"|\"checked\",\"master_key_id\",\"key_versions\",\"log_entries\",\n"
    "\"checkpoints\",\"log_verified\"} and, after a restore, \"challenges_dropped\".\n"
    "\n"
    "Exit status: 0 restored (or checked), 1 the backup fails a check, 2 usage error (a wrong\n"
    "or missing master key, a target that is not empty, a file that is not a backup).\n";

struct backup_args {
    const char *db, *out, *backup, *master_file, *issuer;
    bool check;
    char *config_text; /* --config: the file, split in place into values */
};

/* --config FILE: the service's "name = value" lines; only db, master-key-file and issuer are
 * taken, and only where the command line gave none. */
static int read_config(const char *prog, const char *file, struct backup_args *a)
{
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_file_read(file, &b, &d) != VT_OK) {
        fprintf(stderr, "%s: --config %s: %s\n", prog, file, d.detail);
        vt_buf_cleanup(&b);
        return CLI_EXIT_USAGE;
    }
    a->config_text = (char *)vt_buf_steal(&b, NULL);
    for (char *line = a->config_text, *next; line != NULL && *line; line = next) {
        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        char *hash = strchr(line, '#'), *eq = strchr(line, '=');
        if (hash != NULL) {
            *hash = '\0';
        }
        if (eq == NULL || (hash != NULL && eq > hash)) {
            continue;
        }
        *eq = '\0';
        char *name = line + strspn(line, " \t"), *value = eq + 1;
        value += strspn(value, " \t");
        for (char *e = eq; e > name && (e[-1] == ' ' || e[-1] == '\t'); e--) {
            e[-1] = '\0';
        }
        for (size_t n = strlen(value);
             n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t' || value[n - 1] == '\r'); n--) {
            value[n - 1] = '\0';
        }
        if (strcmp(name, "db") == 0 && a->db == NULL) {
            a->db = value;
        } else if (strcmp(name, "master-key-file") == 0 && a->master_file == NULL) {
            a->master_file = value;
        } else if (strcmp(name, "issuer") == 0 && a->issuer == NULL) {
            a->issuer = value;
        }
    }
    return 0;
}

/* Returns 0 to go on, -1 after --help, or an exit status. */
static int parse(int argc, char **argv, struct backup_args *a, bool restore)
{
    const char *prog = restore ? "veritee restore" : "veritee backup";
    enum { O_DB = 256, O_OUT, O_BACKUP, O_MK, O_ISSUER, O_CHECK, O_CONFIG };
    static const struct option backup_opts[] = {
        {"db", 1, NULL, O_DB},  {"out", 1, NULL, O_OUT}, {"config", 1, NULL, O_CONFIG},
        {"help", 0, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    static const struct option restore_opts[] = {
        {"db", 1, NULL, O_DB},
        {"backup", 1, NULL, O_BACKUP},
        {"master-key-file", 1, NULL, O_MK},
        {"issuer", 1, NULL, O_ISSUER},
        {"check", 0, NULL, O_CHECK},
        {"config", 1, NULL, O_CONFIG},
        {"help", 0, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    optind = 1;
    opterr = 1;
    int o;
    while ((o = getopt_long(argc, argv, "h", restore ? restore_opts : backup_opts, NULL)) != -1) {
        switch (o) {
        case O_DB:
            a->db = optarg;
            break;
        case O_OUT:
            a->out = optarg;
            break;
        case O_BACKUP:
            a->backup = optarg;
            break;
        case O_MK:
            a->master_file = optarg;
            break;
        case O_ISSUER:
            a->issuer = optarg;
            break;
        case O_CHECK:
            a->check = true;
            break;
        case O_CONFIG:
            config = optarg;
            break;
        case 'h':
            fputs(restore ? restore_usage : backup_usage, stdout);
            return -1;
        default:
            fprintf(stderr, "%s: see %s --help\n", prog, prog);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"\n", prog, argv[optind]);
        return CLI_EXIT_USAGE;
    }
    if (config != NULL) {
        int rc = read_config(prog, config, a);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int fail(const char *prog, enum vt_err err, const struct vt_diag *d)
{
    fprintf(stderr, "%s: %s: %s (%s)\n", prog, d->check, d->detail, vt_err_name(err));
    return cli_exit_status_diag(err, d);
}

static void print_count(const char *name, int64_t v, bool comma)
{
    printf("%s\"%s\":%lld", comma ? "," : "", name, (long long)v);
}

int cmd_backup(int argc, char **argv)
{
    const char *prog = "veritee backup";
    struct backup_args a;
    memset(&a, 0, sizeof(a));
    int rc = parse(argc, argv, &a, false);
    if (rc != 0) {
        free(a.config_text);
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    const char *db = a.db ? a.db : "sqlite:veritee.db";
    const char *path = vt_sqlite_url_path(db);
    if (a.out == NULL) {
        fprintf(stderr, "%s: --out FILE is required (the backup file to create)\n", prog);
        rc = CLI_EXIT_USAGE;
    } else if (path == NULL) {
        fprintf(stderr,
                "%s: --db %.80s: veritee backup copies SQLite databases; back up PostgreSQL with "
                "pg_dump -Fc (a consistent snapshot, online) or pg_basebackup, and check the "
                "restored database with `veritee restore --check --db URL` (docs/deploy.md, "
                "\"Backup and restore\")\n",
                prog, db);
        rc = CLI_EXIT_USAGE;
    } else {
        struct vt_diag d;
        vt_diag_init(&d);
        struct vt_sqlite_info info;
        enum vt_err err = vt_sqlite_backup(path, a.out, &info, &d);
        if (err != VT_OK) {
            rc = fail(prog, err, &d);
        } else {
            printf("{\"backup\":");
            cli_print_json_string(stdout, a.out);
            print_count("bytes", info.bytes, true);
            print_count("keys", info.keys, true);
            print_count("key_versions", info.key_versions, true);
            print_count("signing_keys", info.signing_keys, true);
            print_count("log_entries", info.log_entries, true);
            print_count("checkpoint_size", info.checkpoint_size, true);
            print_count("cache_items", info.cache_items, true);
            if (info.master_key_id[0] != '\0') {
                printf(",\"master_key_id\":\"%s\"}\n", info.master_key_id);
            } else {
                printf(",\"master_key_id\":null}\n");
            }
            rc = CLI_EXIT_OK;
        }
    }
    free(a.config_text);
    return rc;
}

/* ---- restore ---- */

struct check_report {
    bool have_key;
    bool drop_challenges; /* restore: delete the challenges in flight at the backup */
    char key_id[VT_MASTER_KEY_ID_LEN + 1];
    size_t versions;
    uint64_t entries, checkpoints;
    int64_t dropped;
};

/* Whether the open database holds values sealed under a master key, and the id recorded. */
static enum vt_err sealed_values(struct vt_broker *b, bool *sealed,
                                 char id[VT_MASTER_KEY_ID_LEN + 1], struct vt_diag *d)
{
    int64_t n = 0;
    VT_TRY(vt_store_exec(b->store,
                         "SELECT (SELECT count(*) FROM vt_meta WHERE name = 'broker_master_check'"
                         " OR (name = 'bundle_key' AND value LIKE 'sealed:%'))"
                         " + (SELECT count(*) FROM vb_key_versions)"
                         " + (SELECT count(*) FROM vb_signing_keys)",
                         NULL, 0, vt_store_row_int, &n, NULL, d));
    *sealed = n > 0;
    return vt_master_key_id_stored(b->store, id, d);
}

/* The checks of a restore on the database url (a work copy, or a database restored by other
 * means): the master key opens every sealed value, and the log verifies. */
static enum vt_err check_db(const char *url, const struct backup_args *a, const uint8_t key[32],
                            enum vt_schema_mode mode, struct check_report *r, struct vt_diag *d)
{
    struct vt_broker_config cfg = {
        .db = url, .issuer = a->issuer, .audit_only = !r->have_key, .schema_mode = mode};
    if (r->have_key) {
        memcpy(cfg.master_key, key, 32);
    }
    struct vt_broker *b = NULL;
    enum vt_err err = vt_broker_open(&cfg, &b, d);
    vt_wipe(cfg.master_key, sizeof(cfg.master_key));
    if (err == VT_OK && !r->have_key) {
        bool sealed = false;
        char id[VT_MASTER_KEY_ID_LEN + 1] = "";
        err = sealed_values(b, &sealed, id, d);
        if (err == VT_OK && sealed) {
            err = vt_fail(d, VT_E_ARG, "master_key",
                          "no master key given, and the database holds values sealed under master "
                          "key %s%s: pass that key with --master-key-file FILE (or "
                          "VERITEE_MASTER_KEY), so that they are checked to open",
                          id[0] ? "id " : "", id[0] ? id : "(id not recorded)");
        }
    }
    if (err == VT_OK && r->have_key) {
        err = vt_broker_keys_check(b, cli_sealed_services, cli_n_sealed_services, &r->versions, d);
    }
    if (err == VT_OK) {
        err = vt_broker_audit_verify(b, &r->entries, &r->checkpoints, d);
        if (err != VT_OK && strcmp(d->check, "log.checkpoint.origin") == 0) {
            size_t n = strlen(d->detail);
            snprintf(d->detail + n, sizeof(d->detail) - n, " (give the service's --issuer)");
        }
    }
    /* Challenges outstanding when the backup was taken may have been redeemed since: after a
     * restore they would be redeemable again. They are dropped (clients ask for new ones): the
     * KBS sessions, the nonce rows, and the salt of the key that MACs /v1/challenge nonces, so
     * that every nonce issued before the restore is unknown after it. */
    if (err == VT_OK && r->drop_challenges) {
        int64_t n = 0, k = 0;
        err = vt_store_exec(b->store, "DELETE FROM vt_meta WHERE name = 'broker_nonce_salt'", NULL,
                            0, NULL, NULL, NULL, d);
        if (err == VT_OK) {
            err = vt_store_exec(b->store, "DELETE FROM vb_nonces", NULL, 0, NULL, NULL, &n, d);
        }
        if (err == VT_OK) {
            err =
                vt_store_exec(b->store, "DELETE FROM vb_kbs_sessions", NULL, 0, NULL, NULL, &k, d);
        }
        r->dropped = n + k;
    }
    vt_broker_close(b);
    return err;
}

/* --check --db URL: the database must exist and be veritee's before anything opens it (opening
 * creates a missing SQLite file, and the schema in an empty database, which would then pass). */
static enum vt_err existing_db(const char *url, struct vt_diag *d)
{
    const char *path = vt_sqlite_url_path(url);
    if (path != NULL) {
        return vt_sqlite_check(path, NULL, d);
    }
    struct vt_store *s = NULL;
    VT_TRY(vt_store_open(url, NULL, &s, d));
    int64_t n = 0;
    enum vt_err err =
        vt_store_exec(s,
                      "SELECT count(*) FROM information_schema.tables"
                      " WHERE table_schema = current_schema() AND table_name = 'vt_meta'",
                      NULL, 0, vt_store_row_int, &n, NULL, d);
    vt_store_close(s);
    VT_TRY(err);
    VT_ENSURE(n > 0, d, VT_E_ARG, "backup.db",
              "%.200s holds no veritee tables (no vt_meta): not a restored veritee database", url);
    return VT_OK;
}

static void dir_of(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        snprintf(dir, cap, ".");
    } else if (slash == path) {
        snprintf(dir, cap, "/");
    } else {
        snprintf(dir, cap, "%.*s", (int)(slash - path), path);
    }
}

static int restore_main(struct backup_args *a)
{
    const char *prog = "veritee restore";
    struct vt_diag d;
    vt_diag_init(&d);
    if (a->backup == NULL && !a->check) {
        fprintf(stderr, "%s: --backup FILE is required (or --check --db URL)\n", prog);
        return CLI_EXIT_USAGE;
    }
    if (a->db == NULL && !(a->check && a->backup != NULL)) {
        fprintf(stderr, "%s: --db URL is required (%s)\n", prog,
                a->check ? "the database to check, or --backup FILE" : "the empty target");
        return CLI_EXIT_USAGE;
    }
    const char *target = a->check ? NULL : vt_sqlite_url_path(a->db);
    if (!a->check && target == NULL) {
        fprintf(stderr,
                "%s: --db %.80s: veritee restore writes into SQLite databases; restore PostgreSQL "
                "with pg_restore (or psql) from a pg_dump into a new database, then check it with "
                "`veritee restore --check --db URL` (docs/deploy.md, \"Backup and restore\")\n",
                prog, a->db);
        return CLI_EXIT_USAGE;
    }
    struct check_report r;
    memset(&r, 0, sizeof(r));
    uint8_t key[32];
    r.have_key = a->master_file != NULL || getenv("VERITEE_MASTER_KEY") != NULL;
    enum vt_err err = VT_OK;
    if (r.have_key && (err = cli_read_master_key(a->master_file, key, &d)) != VT_OK) {
        return fail(prog, err, &d);
    }
    if (r.have_key) {
        vt_master_key_id(key, r.key_id);
    }
    r.drop_challenges = target != NULL;
    const char *source = a->master_file ? a->master_file : "VERITEE_MASTER_KEY";
    char work_dir[4200] = "", work[4300] = "", url[4400];
    if (a->backup != NULL) {
        struct vt_sqlite_info info;
        err = vt_sqlite_check(a->backup, &info, &d);
        if (err == VT_OK && !r.have_key && info.sealed) {
            err = vt_fail(&d, VT_E_ARG, "master_key",
                          "no master key given, and %.300s holds values sealed under master key "
                          "%s%s: pass that key with --master-key-file FILE (or "
                          "VERITEE_MASTER_KEY), so that they are checked to open before anything "
                          "is written",
                          a->backup, info.master_key_id[0] ? "id " : "",
                          info.master_key_id[0] ? info.master_key_id : "(id not recorded)");
        }
        if (err == VT_OK && target != NULL) {
            err = vt_sqlite_target_empty(target, &d);
        }
        /* the work copy: beside the target (room for a copy of that size), else in TMPDIR */
        if (err == VT_OK) {
            const char *tmpdir = getenv("TMPDIR");
            char base[4096];
            if (target != NULL) {
                dir_of(target, base, sizeof(base));
            } else {
                snprintf(base, sizeof(base), "%s", tmpdir && tmpdir[0] ? tmpdir : "/tmp");
            }
            snprintf(work_dir, sizeof(work_dir), "%s/.veritee-restore-XXXXXX", base);
            if (mkdtemp(work_dir) == NULL) {
                err =
                    vt_fail(&d, VT_E_IO, "restore.work",
                            "cannot create a work directory in %.300s: %s", base, strerror(errno));
                work_dir[0] = '\0';
            }
        }
        if (err == VT_OK) {
            snprintf(work, sizeof(work), "%s/check.db", work_dir);
            err = vt_sqlite_backup(a->backup, work, NULL, &d);
        }
        snprintf(url, sizeof(url), "sqlite:%s", work);
        /* A backup of an older release is brought to this binary's schema in the work copy (a
         * newer one is refused), so that what is restored is what this veritee serves. */
        if (err == VT_OK &&
            cli_schema(prog, url, vt_schema_all, VT_SCHEMA_ALL_N, VT_SCHEMA_MIGRATE) != 0) {
            err = vt_fail(&d, VT_E_STATE, "restore.schema",
                          "the backup's schema cannot be brought to this veritee's (above)");
        }
    } else {
        snprintf(url, sizeof(url), "%s", a->db);
        err = existing_db(url, &d);
    }
    if (err == VT_OK) {
        /* a database in place is checked as it is: nothing is migrated or created in it */
        err = check_db(url, a, key, a->backup != NULL ? VT_SCHEMA_MIGRATE : VT_SCHEMA_READ, &r, &d);
    }
    if (r.have_key) {
        vt_wipe(key, sizeof(key));
    }
    if (err == VT_OK && target != NULL) {
        err = vt_sqlite_restore(work, target, &d);
    }
    if (work[0] != '\0') {
        vt_sqlite_remove(work);
    }
    if (work_dir[0] != '\0') {
        (void)!rmdir(work_dir);
    }
    if (err != VT_OK) {
        int rc = fail(prog, err, &d);
        if (strcmp(d.check, "master_key") == 0 && r.have_key) {
            fprintf(stderr, "%s: the master key given came from %s%s (id %s)\n", prog,
                    a->master_file ? "--master-key-file " : "", source, r.key_id);
        }
        if (target != NULL) {
            fprintf(stderr, "%s: nothing was written to %s\n", prog, target);
        }
        return rc;
    }
    printf("{\"%s\":", target != NULL ? "restored" : "checked");
    cli_print_json_string(stdout, target != NULL ? target : a->backup ? a->backup : a->db);
    if (r.have_key) {
        printf(",\"master_key_id\":\"%s\"", r.key_id);
    } else {
        printf(",\"master_key_id\":null");
    }
    printf(",\"key_versions\":%zu,\"log_entries\":%llu,\"checkpoints\":%llu,"
           "\"log_verified\":true",
           r.versions, (unsigned long long)r.entries, (unsigned long long)r.checkpoints);
    if (target != NULL) {
        printf(",\"challenges_dropped\":%lld", (long long)r.dropped);
    }
    puts("}");
    return CLI_EXIT_OK;
}

int cmd_restore(int argc, char **argv)
{
    struct backup_args a;
    memset(&a, 0, sizeof(a));
    int rc = parse(argc, argv, &a, true);
    if (rc == 0) {
        rc = restore_main(&a);
    } else if (rc < 0) {
        rc = CLI_EXIT_OK;
    }
    free(a.config_text);
    return rc;
}
