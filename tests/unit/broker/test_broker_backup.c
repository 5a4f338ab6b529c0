/*
 * Backup and restore under load (docs/deploy.md, "Backup and restore"): `veritee serve` releases
 * keys to three clients for a few seconds; in the middle a backup is taken of the live database
 * (SQLite: `veritee backup`; with VT_TEST_BROKER_DB=postgres://...: pg_dump -Fc, run by
 * tests/integration/backup_postgres.sh, which also gives VT_TEST_RESTORE_DB, a fresh database,
 * and VT_PG_BIN). Then:
 *  - the backup restores into a fresh database (`veritee restore`; PostgreSQL: pg_restore, then
 *    `veritee restore --check --db`), and `veritee audit verify` passes on it;
 *  - a wrong master key is refused before anything is written (restore) and at start (serve),
 *    naming the key given and the key the database needs by id;
 *  - every receipt acknowledged before the backup started checks (`veritee audit receipt` with
 *    the restored service's JWKS for a sample, the library for all), and the restored log is
 *    consistent with each receipt's checkpoint (a consistency proof from the restored service
 *    to its latest signed checkpoint): the entries are the same entries at the same indices;
 *  - every key released before the backup is released again by the restored service with the
 *    same version and the same secret (SHA-256 compared);
 *  - the restored log goes on: a new release lands after the restored entries, and the log
 *    still verifies.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker_harness.h"
#include "vt_proc.h"
#include "vt_fixtures.h"

#define KEYS 4
#define CLIENTS 3
#define MAX_RELEASES 2000

struct proc {
    pid_t pid;
    struct bh h; /* url and admin token only */
};

struct release {
    int key;
    uint32_t version;
    uint8_t sha[32];
    int64_t index;
    int64_t acked_ns; /* CLOCK_MONOTONIC when the response arrived */
    char *response;   /* the release response: receipt and receipt_kid */
};

struct client {
    pthread_t thread;
    int id;
    struct proc *p;
    struct release *rel;
    size_t n;
    int errors;
    long last_status;
};

static char dir[64], db[512], restored[512], mkfile[128], wrongfile[128], veritee[1024];
static const char *pg_bin = "";
static bool pg;
static struct vt_bsim *sim;
static struct vt_jwk *key;
static pthread_mutex_t sim_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool stop;
static const char *const key_names[KEYS] = {"k0", "k1", "k2", "k3"};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Run a shell command; its exit status (-1 if it did not exit), stdout in out. */
static char *read_text(const char *path)
{
    size_t n = 0;
    uint8_t *b = vt_test_read_file(path, &n);
    if (b == NULL) {
        return NULL;
    }
    char *s = malloc(n + 1);
    if (s != NULL) {
        memcpy(s, b, n);
        s[n] = '\0';
    }
    free(b);
    return s;
}

/* `veritee serve` on url with the master key in mk; false if it does not come up (its exit
 * status in *status then, if it exited). */
static bool start(struct proc *p, const char *url, const char *mk, const char *name, int *status)
{
    char pf[128], log[128];
    snprintf(pf, sizeof(pf), "%s/%s.port", dir, name);
    snprintf(log, sizeof(log), "%s/%s.log", dir, name);
    const char *const *anchors = vt_bsim_anchors(sim);
    char *argv[48];
    int n = 0;
    argv[n++] = veritee;
    argv[n++] = (char *)"serve";
    argv[n++] = (char *)"--db";
    argv[n++] = (char *)url;
    argv[n++] = (char *)"--master-key-file";
    argv[n++] = (char *)mk;
    argv[n++] = (char *)"--collateral";
    argv[n++] = (char *)vt_bsim_collateral_dir(sim);
    for (size_t k = 0; anchors[k] != NULL; k++) {
        argv[n++] = (char *)"--trust-anchor";
        argv[n++] = (char *)anchors[k];
    }
    argv[n++] = (char *)"--mode";
    argv[n++] = (char *)"offline";
    argv[n++] = (char *)"--refresh-interval";
    argv[n++] = (char *)"0";
    argv[n++] = (char *)"--rate-limit";
    argv[n++] = (char *)"attest=off";
    argv[n++] = (char *)"--threads";
    argv[n++] = (char *)"4";
    argv[n++] = (char *)"--listen";
    argv[n++] = (char *)"127.0.0.1:0";
    argv[n++] = (char *)"--port-file";
    argv[n++] = pf;
    argv[n] = NULL;
    return vt_test_spawn(argv, log, pf, 400, &p->pid, p->h.url, sizeof(p->h.url), status);
}

static void stop_proc(struct proc *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
    }
}

static char *runtime_key_json(void)
{
    return vt_jwk_public_json(key);
}

/* Attest at p with fresh evidence for nonce: the token, or NULL (*status: the HTTP status). */
static char *attest_nonce(struct proc *p, const char *nonce, const uint8_t raw[32], long *status)
{
    struct bh tmp = p->h;
    tmp.sim = sim;
    pthread_mutex_lock(&sim_lock);
    json_t *body = bh_attest_body(&tmp, VT_TEE_SGX, nonce, raw, key, 0);
    pthread_mutex_unlock(&sim_lock);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_t *out = NULL;
    char *token = NULL;
    *status = text != NULL ? bh_call(&p->h, "POST", "/v1/attest", text, NULL, &out, NULL) : -1;
    if (*status == 200) {
        const char *t = json_string_value(json_object_get(out, "token"));
        token = t ? strdup(t) : NULL;
    }
    json_decref(out);
    free(text);
    json_decref(body);
    return token;
}

/* Attest at p (fresh evidence for its nonce); the token, or NULL. */
static char *attest(struct proc *p)
{
    char nonce[64];
    uint8_t raw[32];
    long status;
    return bh_challenge(&p->h, nonce, raw) ? attest_nonce(p, nonce, raw, &status) : NULL;
}

/* Release key k with token at p: the status; on 200 *r filled (response kept). */
static long release(struct proc *p, const char *token, int k, struct release *r)
{
    char *pub = runtime_key_json();
    json_t *rk = pub ? json_loads(pub, 0, NULL) : NULL;
    json_t *body = json_pack("{s:s,s:o}", "token", token, "runtime_key", rk ? rk : json_null());
    char *text = json_dumps(body, JSON_COMPACT), *raw = NULL;
    char path[64];
    snprintf(path, sizeof(path), "/v1/keys/%s/release", key_names[k]);
    json_t *out = NULL;
    long st = bh_call(&p->h, "POST", path, text, NULL, &out, &raw);
    int64_t t = now_ns();
    if (st == 200) {
        const char *jwe = json_string_value(json_object_get(out, "jwe"));
        struct vt_buf pt;
        vt_buf_init(&pt, 4096);
        struct vt_diag d;
        vt_diag_init(&d);
        if (jwe == NULL || vt_jwe_decrypt(key, jwe, strlen(jwe), &pt, &d) != VT_OK) {
            st = -1;
        } else {
            r->key = k;
            r->version = (uint32_t)json_integer_value(json_object_get(out, "version"));
            vt_sha256(pt.data, pt.len, r->sha);
            r->index =
                json_integer_value(json_object_get(json_object_get(out, "receipt"), "index"));
            r->acked_ns = t;
            r->response = raw;
            raw = NULL;
        }
        vt_buf_cleanup(&pt);
    }
    free(raw);
    json_decref(out);
    free(text);
    json_decref(body);
    free(pub);
    return st;
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    char *token = attest(c->p);
    if (token == NULL) {
        c->errors++;
        return NULL;
    }
    for (int i = 0; !atomic_load(&stop) && c->n < MAX_RELEASES; i++) {
        long st = release(c->p, token, (i + c->id) % KEYS, &c->rel[c->n]);
        if (st == 200) {
            c->n++;
        } else {
            c->errors++;
            c->last_status = st;
        }
    }
    free(token);
    return NULL;
}

static void cli_ok(const char *cmd, char *out, size_t cap)
{
    int rc = vt_test_run_capture(cmd, out, cap);
    if (rc != 0) {
        fail_msg("%s: exit %d: %s", cmd, rc, out);
    }
}

static int setup(void **state)
{
    (void)state;
    const char *v = getenv("VT_BINARY");
    assert_non_null(v);
    snprintf(veritee, sizeof(veritee), "%s", v);
    snprintf(dir, sizeof(dir), "/tmp/vt-backup-XXXXXX");
    assert_non_null(mkdtemp(dir));
    const char *live = getenv("VT_TEST_BROKER_DB");
    pg = live != NULL && strncmp(live, "postgres", 8) == 0;
    if (pg) {
        const char *target = getenv("VT_TEST_RESTORE_DB");
        assert_non_null(target);
        snprintf(db, sizeof(db), "%s", live);
        snprintf(restored, sizeof(restored), "%s", target);
        pg_bin = getenv("VT_PG_BIN") ? getenv("VT_PG_BIN") : "";
    } else {
        snprintf(db, sizeof(db), "sqlite:%s/live.db", dir);
        snprintf(restored, sizeof(restored), "sqlite:%s/restored.db", dir);
    }
    snprintf(mkfile, sizeof(mkfile), "%s/master.key", dir);
    snprintf(wrongfile, sizeof(wrongfile), "%s/wrong.key", dir);
    char cmd[4096], out[512];
    snprintf(cmd, sizeof(cmd), "%s broker master-key > %s", veritee, mkfile);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s broker master-key > %s", veritee, wrongfile);
    assert_int_equal(system(cmd), 0);
    char simdir[128];
    snprintf(simdir, sizeof(simdir), "%s/sim", dir);
    sim = vt_bsim_new(simdir, vt_time_now());
    assert_non_null(sim);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_jwk_generate("P-256", &key, &d), VT_OK);
    for (int k = 0; k < KEYS; k++) {
        snprintf(cmd, sizeof(cmd),
                 "%s broker key-put --db '%s' --master-key-file %s --name %s --generate 32",
                 veritee, db, mkfile, key_names[k]);
        cli_ok(cmd, out, sizeof(out));
    }
    /* k1 has a second version: the release gives the current one, before and after */
    snprintf(cmd, sizeof(cmd),
             "%s broker key-put --db '%s' --master-key-file %s --name k1 --generate 48", veritee,
             db, mkfile);
    cli_ok(cmd, out, sizeof(out));
    assert_non_null(strstr(out, "\"version\":2"));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vt_jwk_free(key);
    vt_bsim_free(sim);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void key_id(const char *file, char id[17])
{
    char cmd[2048], out[256];
    snprintf(cmd, sizeof(cmd), "%s broker master-key-id --master-key-file %s", veritee, file);
    cli_ok(cmd, out, sizeof(out));
    const char *at = strstr(out, "\"master_key_id\":\"");
    assert_non_null(at);
    snprintf(id, 17, "%s", at + strlen("\"master_key_id\":\""));
}

/* The wrong key's refusal names the key given and the one needed, by id. */
static void assert_names_keys(const char *text, const char *given, const char *needed)
{
    char want[128];
    if (strstr(text, "master_key") == NULL) {
        fail_msg("no master_key refusal in: %s", text);
    }
    snprintf(want, sizeof(want), "master key given (id %s)", given);
    if (strstr(text, want) == NULL) {
        fail_msg("the refusal does not name the key given (%s): %s", given, text);
    }
    snprintf(want, sizeof(want), "records master key id %s", needed);
    if (strstr(text, want) == NULL) {
        fail_msg("the refusal does not name the key needed (%s): %s", needed, text);
    }
}

/* The P-256 key of kid in a JWKS. */
static bool jwks_xy(json_t *jwks, const char *kid, uint8_t xy[64])
{
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(jwks, "keys"), i, k)
    {
        const char *id = json_string_value(json_object_get(k, "kid"));
        if (id == NULL || kid == NULL || strcmp(id, kid) != 0) {
            continue;
        }
        char *one = json_dumps(k, JSON_COMPACT);
        struct vt_jwk *jwk = NULL;
        struct vt_diag d;
        vt_diag_init(&d);
        bool ok = one != NULL && vt_jwk_parse(one, strlen(one), &jwk, &d) == VT_OK &&
                  vt_jwk_p256_xy(jwk, xy, &d) == VT_OK;
        vt_jwk_free(jwk);
        free(one);
        return ok;
    }
    return false;
}

/* Take the backup of the live database; false if the command failed (its output in out). */
static bool take_backup(const char *file, char *out, size_t cap)
{
    char cmd[2048];
    if (pg) {
        snprintf(cmd, sizeof(cmd), "%s%spg_dump -Fc -f %s '%s' 2>&1", pg_bin, pg_bin[0] ? "/" : "",
                 file, db);
    } else {
        snprintf(cmd, sizeof(cmd), "%s backup --db '%s' --out %s 2>&1", veritee, db, file);
    }
    return vt_test_run_capture(cmd, out, cap) == 0;
}

static void test_backup_under_load(void **state)
{
    (void)state;
    char cmd[4096], out[8192], file[128];
    snprintf(file, sizeof(file), "%s/%s", dir, pg ? "backup.dump" : "backup.db");
    struct proc live;
    memset(&live, 0, sizeof(live));
    assert_true(start(&live, db, mkfile, "live", NULL));
    /* an admin token made before the backup works after the restore */
    snprintf(cmd, sizeof(cmd), "%s broker token --db '%s' --master-key-file %s", veritee, db,
             mkfile);
    cli_ok(cmd, live.h.admin, sizeof(live.h.admin));

    /* the bounded load: three clients releasing as fast as they can for about 2.5 s */
    struct client clients[CLIENTS];
    atomic_store(&stop, false);
    for (int i = 0; i < CLIENTS; i++) {
        clients[i] = (struct client){.id = i, .p = &live};
        clients[i].rel = calloc(MAX_RELEASES, sizeof(struct release));
        assert_non_null(clients[i].rel);
        assert_int_equal(pthread_create(&clients[i].thread, NULL, client_main, &clients[i]), 0);
    }
    usleep(1000000);
    int64_t b0 = now_ns();
    bool backed_up = take_backup(file, out, sizeof(out));
    int64_t b1 = now_ns();
    usleep(700000);
    atomic_store(&stop, true);
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(clients[i].thread, NULL);
    }
    /* a nonce issued after the backup, not redeemed before the restore */
    char old_nonce[64];
    uint8_t old_raw[32];
    assert_true(bh_challenge(&live.h, old_nonce, old_raw));
    stop_proc(&live);
    if (!backed_up) {
        fail_msg("backup: %s", out);
    }
    size_t before = 0, during = 0, after = 0, total = 0;
    for (int i = 0; i < CLIENTS; i++) {
        if (clients[i].errors != 0) {
            fail_msg("client %d: %d releases refused (last status %ld)", i, clients[i].errors,
                     clients[i].last_status);
        }
        for (size_t j = 0; j < clients[i].n; j++) {
            int64_t t = clients[i].rel[j].acked_ns;
            before += t < b0;
            during += t >= b0 && t <= b1;
            after += t > b1;
        }
        total += clients[i].n;
    }
    fprintf(stderr, "%zu releases: %zu before the backup, %zu while it ran (%.0f ms), %zu after\n",
            total, before, during, (double)(b1 - b0) / 1e6, after);
    assert_true(before >= 10);
    assert_true(after >= 1); /* the service went on releasing */
    if (!pg) {
        /* the backup describes itself: at least the releases acknowledged before it */
        const char *at = strstr(out, "\"log_entries\":");
        assert_non_null(at);
        assert_true(strtoll(at + strlen("\"log_entries\":"), NULL, 10) >= (long long)before);
        assert_non_null(strstr(out, "\"key_versions\":5"));
        /* a self-contained file: no -wal beside it, and PRAGMA integrity_check passes */
        char wal[160];
        snprintf(wal, sizeof(wal), "%s-wal", file);
        assert_int_not_equal(access(wal, F_OK), 0);
        snprintf(cmd, sizeof(cmd), "sqlite3 %s 'PRAGMA integrity_check' 2>&1", file);
        cli_ok(cmd, out, sizeof(out));
        assert_string_equal(out, "ok");
    }

    /* a wrong master key is refused before anything is written, naming both keys */
    char right_id[17], wrong_id[17];
    key_id(mkfile, right_id);
    key_id(wrongfile, wrong_id);
    if (pg) {
        snprintf(cmd, sizeof(cmd), "%s%spg_restore --no-owner --exit-on-error -d '%s' %s 2>&1",
                 pg_bin, pg_bin[0] ? "/" : "", restored, file);
        cli_ok(cmd, out, sizeof(out));
        /* as docs/deploy.md says: the challenges in flight at the dump are not restored */
        snprintf(cmd, sizeof(cmd),
                 "%s%spsql -q -v ON_ERROR_STOP=1 -d '%s' -c 'DELETE FROM vb_nonces' -c 'DELETE "
                 "FROM vb_kbs_sessions' -c \"DELETE FROM vt_meta WHERE name = "
                 "'broker_nonce_salt'\" 2>&1",
                 pg_bin, pg_bin[0] ? "/" : "", restored);
        cli_ok(cmd, out, sizeof(out));
        snprintf(cmd, sizeof(cmd), "%s restore --check --db '%s' --master-key-file %s 2>&1",
                 veritee, restored, wrongfile);
        assert_int_equal(vt_test_run_capture(cmd, out, sizeof(out)), 2);
        assert_names_keys(out, wrong_id, right_id);
    } else {
        snprintf(cmd, sizeof(cmd), "%s restore --backup %s --db '%s' --master-key-file %s 2>&1",
                 veritee, file, restored, wrongfile);
        assert_int_equal(vt_test_run_capture(cmd, out, sizeof(out)), 2);
        assert_names_keys(out, wrong_id, right_id);
        assert_non_null(strstr(out, "nothing was written to"));
        assert_int_not_equal(access(restored + strlen("sqlite:"), F_OK), 0);
        /* the right key: restored and checked */
        snprintf(cmd, sizeof(cmd), "%s restore --backup %s --db '%s' --master-key-file %s", veritee,
                 file, restored, mkfile);
        cli_ok(cmd, out, sizeof(out));
        assert_non_null(strstr(out, "\"restored\":"));
        assert_non_null(strstr(out, "\"key_versions\":5"));
        assert_non_null(strstr(out, "\"log_verified\":true"));
        assert_non_null(strstr(out, "\"challenges_dropped\":"));
        /* a second restore into it: refused, it is not empty */
        snprintf(cmd, sizeof(cmd), "%s restore --backup %s --db '%s' --master-key-file %s 2>&1",
                 veritee, file, restored, mkfile);
        assert_int_equal(vt_test_run_capture(cmd, out, sizeof(out)), 2);
        assert_non_null(strstr(out, "restore.target"));
        assert_non_null(strstr(out, "is not empty"));
    }
    snprintf(cmd, sizeof(cmd), "%s restore --check --db '%s' --master-key-file %s", veritee,
             restored, mkfile);
    cli_ok(cmd, out, sizeof(out));
    assert_non_null(strstr(out, "\"key_versions\":5"));
    /* the service refuses the wrong key at start, not at the first release */
    struct proc bad;
    memset(&bad, 0, sizeof(bad));
    int status = 0;
    assert_false(start(&bad, restored, wrongfile, "wrong", &status));
    assert_int_equal(status, 2);
    char logpath[160];
    snprintf(logpath, sizeof(logpath), "%s/wrong.log", dir);
    char *log = read_text(logpath);
    assert_non_null(log);
    assert_names_keys(log, wrong_id, right_id);
    assert_non_null(strstr(log, wrongfile));
    free(log);

    /* the restored log verifies */
    snprintf(cmd, sizeof(cmd), "%s audit verify --db '%s'", veritee, restored);
    cli_ok(cmd, out, sizeof(out));
    assert_non_null(strstr(out, "\"verified\":true"));
    long long entries = strtoll(strstr(out, "\"entries\":") + strlen("\"entries\":"), NULL, 10);

    struct proc r;
    memset(&r, 0, sizeof(r));
    assert_true(start(&r, restored, mkfile, "restored", NULL));
    snprintf(r.h.admin, sizeof(r.h.admin), "%s", live.h.admin);
    /* nonces issued before the restore are unknown after it (a restore changes the nonce key) */
    long st = 0;
    assert_null(attest_nonce(&r, old_nonce, old_raw, &st));
    assert_int_equal(st, 401);
    json_t *keys = NULL;
    assert_int_equal(bh_call(&r.h, "GET", "/admin/v1/keys", NULL, r.h.admin, &keys, NULL), 200);
    assert_int_equal(json_array_size(keys), KEYS);
    json_decref(keys);
    json_t *jwks = NULL, *cpj = NULL;
    char *jwks_text = NULL;
    assert_int_equal(bh_call(&r.h, "GET", "/.well-known/jwks.json", NULL, NULL, &jwks, &jwks_text),
                     200);
    assert_int_equal(bh_call(&r.h, "GET", "/v1/log/checkpoint", NULL, NULL, &cpj, NULL), 200);
    struct vt_diag d;
    vt_diag_init(&d);
    uint8_t cp_xy[64], cp_sig[64];
    const char *cp_body = json_string_value(json_object_get(cpj, "body"));
    const char *cp_sighex = json_string_value(json_object_get(cpj, "signature"));
    assert_true(jwks_xy(jwks, json_string_value(json_object_get(cpj, "kid")), cp_xy));
    assert_int_equal(vt_hex_decode_exact(cp_sighex, strlen(cp_sighex), cp_sig, 64), VT_OK);
    struct vt_checkpoint latest;
    assert_int_equal(vt_checkpoint_verify(cp_xy, cp_body, strlen(cp_body), cp_sig, &latest, &d),
                     VT_OK);
    assert_int_equal(latest.size, (uint64_t)entries);

    /* every receipt from before the backup checks, and the restored log extends its checkpoint */
    char jpath[160], rpath[160];
    snprintf(jpath, sizeof(jpath), "%s/jwks.json", dir);
    snprintf(rpath, sizeof(rpath), "%s/release.json", dir);
    assert_true(vt_test_write_text(jpath, jwks_text));
    bool released[KEYS] = {false};
    uint8_t sha[KEYS][32];
    uint32_t version[KEYS] = {0};
    size_t checked = 0, cli_checked = 0;
    for (int i = 0; i < CLIENTS; i++) {
        for (size_t j = 0; j < clients[i].n; j++) {
            struct release *x = &clients[i].rel[j];
            if (x->acked_ns >= b0) {
                continue;
            }
            assert_true(x->index < entries);
            json_t *resp = json_loads(x->response, 0, NULL);
            assert_non_null(resp);
            uint8_t xy[64];
            assert_true(jwks_xy(jwks, json_string_value(json_object_get(resp, "receipt_kid")), xy));
            char *rtext = json_dumps(json_object_get(resp, "receipt"), JSON_COMPACT);
            struct vt_receipt_info info;
            if (vt_receipt_verify(rtext, strlen(rtext), xy, &info, &d) != VT_OK) {
                fail_msg("receipt %lld: %s: %s", (long long)x->index, d.check, d.detail);
            }
            char cpath[128];
            snprintf(cpath, sizeof(cpath), "/v1/log/consistency?old=%llu&new=%llu",
                     (unsigned long long)info.size, (unsigned long long)latest.size);
            json_t *cons = NULL;
            assert_int_equal(bh_call(&r.h, "GET", cpath, NULL, NULL, &cons, NULL), 200);
            json_t *hashes = json_object_get(cons, "consistency");
            size_t np = json_array_size(hashes);
            uint8_t(*proof)[32] = calloc(np ? np : 1, 32);
            for (size_t k = 0; k < np; k++) {
                const char *h = json_string_value(json_array_get(hashes, k));
                assert_int_equal(vt_hex_decode_exact(h, strlen(h), proof[k], 32), VT_OK);
            }
            if (vt_merkle_verify_consistency(info.size, latest.size, info.root, latest.root,
                                             (const uint8_t(*)[32])proof, np, &d) != VT_OK) {
                fail_msg("the restored log does not extend the checkpoint of receipt %lld: %s",
                         (long long)x->index, d.detail);
            }
            free(proof);
            json_decref(cons);
            /* `veritee audit receipt` on a sample (a process each) */
            if (checked % 25 == 0) {
                assert_true(vt_test_write_text(rpath, x->response));
                snprintf(cmd, sizeof(cmd), "%s audit receipt --receipt %s --jwks %s", veritee,
                         rpath, jpath);
                cli_ok(cmd, out, sizeof(out));
                assert_non_null(strstr(out, "\"verified\":true"));
                cli_checked++;
            }
            checked++;
            free(rtext);
            json_decref(resp);
            if (released[x->key]) {
                assert_int_equal(version[x->key], x->version);
                assert_memory_equal(sha[x->key], x->sha, 32);
            }
            released[x->key] = true;
            version[x->key] = x->version;
            memcpy(sha[x->key], x->sha, 32);
        }
    }
    fprintf(stderr,
            "%zu receipts from before the backup checked (%zu with veritee audit receipt)\n",
            checked, cli_checked);
    assert_int_equal(checked, before);

    /* every key released before the backup: released again, the same version and secret */
    char *token = attest(&r);
    assert_non_null(token);
    int64_t first_new = -1;
    for (int k = 0; k < KEYS; k++) {
        if (!released[k]) {
            continue;
        }
        struct release again;
        memset(&again, 0, sizeof(again));
        assert_int_equal(release(&r, token, k, &again), 200);
        assert_int_equal(again.version, version[k]);
        assert_memory_equal(again.sha, sha[k], 32);
        assert_true(again.index >= entries); /* the log goes on after the restored entries */
        if (first_new < 0) {
            first_new = again.index;
        }
        free(again.response);
    }
    assert_true(released[1]);
    assert_int_equal(version[1], 2);
    free(token);
    stop_proc(&r);
    snprintf(cmd, sizeof(cmd), "%s audit verify --db '%s'", veritee, restored);
    cli_ok(cmd, out, sizeof(out));
    assert_non_null(strstr(out, "\"verified\":true"));

    json_decref(jwks);
    json_decref(cpj);
    free(jwks_text);
    for (int i = 0; i < CLIENTS; i++) {
        for (size_t j = 0; j < clients[i].n; j++) {
            free(clients[i].rel[j].response);
        }
        free(clients[i].rel);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backup_under_load),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
