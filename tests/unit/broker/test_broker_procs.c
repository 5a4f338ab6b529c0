/*
 * The broker as separate `veritee broker serve` processes (VT_BINARY), on SQLite or, with
 * VT_TEST_BROKER_DB=postgres://..., on a shared PostgreSQL (tests/integration/broker_postgres.sh):
 *  - kill -9 during a bounded loop of releases loses no acknowledged log record, and
 *    `veritee audit verify` passes after the restart; the same with four clients at once and the
 *    log committed in batches (group commit), the kill landing while batches are in flight;
 *  - PostgreSQL: a nonce issued by one replica is redeemed at another, and when one replica is
 *    killed the other goes on; the log stays one consistent tree; a replica killed under load
 *    from clients of both, mid-batch, loses nothing either acknowledged.
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
#include <unistd.h>

#include <cmocka.h>

#include "broker_harness.h"
#include "vt_proc.h"

struct proc {
    pid_t pid;
    struct bh h; /* url and admin token only */
};

static char dir[64], db[256], mkfile[128], veritee[1024];
static struct vt_bsim *sim;
static struct vt_jwk *key;
static pthread_mutex_t sim_lock = PTHREAD_MUTEX_INITIALIZER; /* the simulator is one thread's */
/* Group commit for the load tests: batches wait up to 2 ms, on more workers than clients. */
static bool batched;

static bool start(struct proc *p, int i)
{
    char pf[128], log[128];
    snprintf(pf, sizeof(pf), "%s/port.%d", dir, i);
    snprintf(log, sizeof(log), "%s/broker.%d.log", dir, i);
    const char *const *anchors = vt_bsim_anchors(sim);
    char *argv[32];
    int n = 0;
    argv[n++] = veritee;
    argv[n++] = (char *)"broker";
    argv[n++] = (char *)"serve";
    argv[n++] = (char *)"--db";
    argv[n++] = db;
    argv[n++] = (char *)"--master-key-file";
    argv[n++] = mkfile;
    argv[n++] = (char *)"--collateral";
    argv[n++] = (char *)vt_bsim_collateral_dir(sim);
    for (size_t k = 0; anchors[k] != NULL; k++) {
        argv[n++] = (char *)"--trust-anchor";
        argv[n++] = (char *)anchors[k];
    }
    argv[n++] = (char *)"--listen";
    argv[n++] = (char *)"127.0.0.1:0";
    argv[n++] = (char *)"--port-file";
    argv[n++] = pf;
    if (batched) {
        argv[n++] = (char *)"--log-batch-wait-us";
        argv[n++] = (char *)"2000";
        argv[n++] = (char *)"--threads";
        argv[n++] = (char *)"8";
    }
    argv[n] = NULL;
    return vt_test_spawn(argv, log, pf, 200, &p->pid, p->h.url, sizeof(p->h.url), NULL);
}

static void kill9(struct proc *p)
{
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
}

/* One release with evidence; the log index of its receipt, or -1 if not acknowledged. */
static int64_t release_once(struct proc *at_challenge, struct proc *at_release)
{
    char nonce[64];
    uint8_t raw[32];
    if (!bh_challenge(&at_challenge->h, nonce, raw)) {
        return -1;
    }
    struct bh tmp = at_release->h;
    tmp.sim = sim;
    pthread_mutex_lock(&sim_lock);
    json_t *body = bh_attest_body(&tmp, VT_TEE_SGX, nonce, raw, key, 0);
    char *text = json_dumps(body, JSON_COMPACT);
    pthread_mutex_unlock(&sim_lock);
    json_t *out = NULL;
    long st = bh_call(&at_release->h, "POST", "/v1/keys/k/release", text, NULL, &out, NULL);
    int64_t idx = -1;
    if (st == 200) {
        const char *jwe = json_string_value(json_object_get(out, "jwe"));
        struct vt_buf pt;
        vt_buf_init(&pt, 4096);
        struct vt_diag d;
        vt_diag_init(&d);
        assert_int_equal(vt_jwe_decrypt(key, jwe, strlen(jwe), &pt, &d), VT_OK);
        assert_int_equal(pt.len, 32);
        vt_buf_cleanup(&pt);
        idx = json_integer_value(json_object_get(json_object_get(out, "receipt"), "index"));
    }
    json_decref(out);
    free(text);
    json_decref(body);
    return idx;
}

/* Kills p once `progress` (releases acknowledged so far) reaches `at`: mid-load whatever the
 * machine's speed (or after 60 s, if the releases stall). */
struct killer {
    struct proc *p;
    atomic_size_t *progress;
    size_t at;
};

static void *killer_main(void *arg)
{
    struct killer *k = arg;
    for (int waited = 0; atomic_load(k->progress) < k->at && waited < 60000; waited++) {
        usleep(1000);
    }
    kill(k->p->pid, SIGKILL);
    return NULL;
}

static bool logged(struct proc *p, int64_t idx)
{
    char path[96];
    snprintf(path, sizeof(path), "/admin/v1/log?start=%lld&limit=1", (long long)idx);
    json_t *out = NULL;
    long st = bh_call(&p->h, "GET", path, NULL, p->h.admin, &out, NULL);
    json_t *e = json_object_get(json_array_get(out, 0), "entry");
    bool ok = st == 200 &&
              json_integer_value(json_object_get(json_array_get(out, 0), "index")) == idx &&
              strcmp(json_string_value(json_object_get(e, "type")), "release") == 0 &&
              strcmp(json_string_value(json_object_get(e, "decision")), "allow") == 0;
    json_decref(out);
    return ok;
}

static void audit_ok(void)
{
    char cmd[2048], out[512];
    snprintf(cmd, sizeof(cmd), "%s audit verify --db '%s'", veritee, db);
    int rc = vt_test_run_capture(cmd, out, sizeof(out));
    if (rc != 0) {
        fail_msg("audit verify: %s", out);
    }
    assert_non_null(strstr(out, "\"verified\":true"));
}

/* `veritee audit receipt` on a release response, with the JWKS: verified; altered: refused. */
static void receipt_cli(struct proc *p)
{
    char nonce[64];
    uint8_t raw[32];
    assert_true(bh_challenge(&p->h, nonce, raw));
    struct bh tmp = p->h;
    tmp.sim = sim;
    json_t *body = bh_attest_body(&tmp, VT_TEE_SGX, nonce, raw, key, 0);
    char *text = json_dumps(body, JSON_COMPACT), *resp = NULL, *jwks = NULL;
    assert_int_equal(bh_call(&p->h, "POST", "/v1/keys/k/release", text, NULL, NULL, &resp), 200);
    assert_int_equal(bh_call(&p->h, "GET", "/.well-known/jwks.json", NULL, NULL, NULL, &jwks), 200);
    char rpath[128], jpath[128], cmd[2048], out[1024];
    snprintf(rpath, sizeof(rpath), "%s/release.json", dir);
    snprintf(jpath, sizeof(jpath), "%s/jwks.json", dir);
    assert_true(vt_test_write_text(rpath, resp) && vt_test_write_text(jpath, jwks));
    snprintf(cmd, sizeof(cmd), "%s audit receipt --receipt %s --jwks %s", veritee, rpath, jpath);
    assert_int_equal(vt_test_run_capture(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "\"verified\":true"));
    /* one hash of the inclusion proof changed */
    char *at = strstr(resp, "\"inclusion\":[\"");
    if (at != NULL) {
        char *h = at + strlen("\"inclusion\":[\"");
        *h = *h == '0' ? '1' : '0';
    } else { /* the first entry has no proof: change the entry instead */
        at = strstr(resp, "\"entry\":\"");
        assert_non_null(at);
        char *e = at + strlen("\"entry\":\"");
        *e = *e == 'A' ? 'B' : 'A';
    }
    assert_true(vt_test_write_text(rpath, resp));
    assert_true(vt_test_run_capture(cmd, out, sizeof(out)) != 0);
    assert_non_null(strstr(out, "\"verified\":false"));
    free(resp);
    free(jwks);
    free(text);
    json_decref(body);
}

static int setup(void **state)
{
    (void)state;
    const char *v = getenv("VT_BINARY");
    assert_non_null(v);
    snprintf(veritee, sizeof(veritee), "%s", v);
    snprintf(dir, sizeof(dir), "/tmp/vt-bprocs-XXXXXX");
    assert_non_null(mkdtemp(dir));
    const char *pg = getenv("VT_TEST_BROKER_DB");
    if (pg != NULL && pg[0] != '\0') {
        snprintf(db, sizeof(db), "%s", pg);
    } else {
        snprintf(db, sizeof(db), "sqlite:%s/broker.db", dir);
    }
    snprintf(mkfile, sizeof(mkfile), "%s/master.key", dir);
    char cmd[2048], out[256];
    snprintf(cmd, sizeof(cmd), "%s broker master-key > %s", veritee, mkfile);
    assert_int_equal(system(cmd), 0);
    char simdir[128];
    snprintf(simdir, sizeof(simdir), "%s/sim", dir);
    sim = vt_bsim_new(simdir, vt_time_now());
    assert_non_null(sim);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_jwk_generate("P-256", &key, &d), VT_OK);
    snprintf(cmd, sizeof(cmd),
             "%s broker key-put --db '%s' --master-key-file %s --name k "
             "--generate 32",
             veritee, db, mkfile);
    assert_int_equal(vt_test_run_capture(cmd, out, sizeof(out)), 0);
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

static void admin_token(struct proc *p)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "%s broker token --db '%s' --master-key-file %s", veritee, db,
             mkfile);
    assert_int_equal(vt_test_run_capture(cmd, p->h.admin, sizeof(p->h.admin)), 0);
}

static void test_kill9_during_releases(void **state)
{
    (void)state;
    struct proc p;
    memset(&p, 0, sizeof(p));
    int64_t acked[400];
    size_t n_acked = 0;
    for (int round = 0; round < 3; round++) {
        assert_true(start(&p, 0));
        /* kill -9 lands in this round's bounded loop of 40 releases, after 5 to 25 of them */
        atomic_size_t progress = 0;
        struct killer k = {&p, &progress, (size_t)(5 + 10 * round)};
        pthread_t t;
        pthread_create(&t, NULL, killer_main, &k);
        int lost = 0;
        for (int i = 0; i < 40; i++) {
            int64_t idx = release_once(&p, &p);
            if (idx >= 0) {
                acked[n_acked++] = idx;
                atomic_fetch_add(&progress, 1);
            } else if (++lost > 2) {
                break; /* the process is gone */
            }
        }
        pthread_join(t, NULL);
        waitpid(p.pid, NULL, 0);
    }
    assert_true(n_acked > 10);
    /* restart: every acknowledged release is in the log, and the log verifies */
    assert_true(start(&p, 0));
    admin_token(&p);
    for (size_t i = 0; i < n_acked; i++) {
        if (!logged(&p, acked[i])) {
            fail_msg("acknowledged release %lld is not in the log", (long long)acked[i]);
        }
    }
    assert_true(release_once(&p, &p) >= 0);
    receipt_cli(&p);
    kill9(&p);
    audit_ok();
    fprintf(stderr, "kill -9 x3 during releases: %zu acknowledged records, all in the log\n",
            n_acked);
}

/* Clients releasing at once against replicas (each client's i-th release goes to replica
 * (client + i) % n), until 40 each or their replica is gone: every acknowledged index. */
#define LOAD_CLIENTS 4
#define LOAD_MAX (LOAD_CLIENTS * 40)

struct load {
    struct proc *procs;
    size_t n_procs;
    atomic_size_t progress; /* acknowledged releases, for the killer */
    pthread_mutex_t lock;
    int64_t acked[LOAD_MAX];
    size_t n_acked;
};

struct load_client {
    struct load *l;
    size_t id;
};

static void *load_client_main(void *arg)
{
    struct load_client *c = arg;
    struct load *l = c->l;
    int lost = 0;
    for (size_t i = 0; i < 40; i++) {
        struct proc *p = &l->procs[(c->id + i) % l->n_procs];
        int64_t idx = release_once(p, p);
        if (idx >= 0) {
            pthread_mutex_lock(&l->lock);
            l->acked[l->n_acked++] = idx;
            pthread_mutex_unlock(&l->lock);
            atomic_fetch_add(&l->progress, 1);
        } else if (++lost > 3) {
            break; /* a replica is gone */
        }
    }
    return NULL;
}

/* Run LOAD_CLIENTS clients against procs; victim is killed once `more` further releases were
 * acknowledged. */
static void run_load(struct load *l, struct proc *victim, size_t more)
{
    struct killer k = {victim, &l->progress, atomic_load(&l->progress) + more};
    pthread_t kt, t[LOAD_CLIENTS];
    struct load_client c[LOAD_CLIENTS];
    pthread_create(&kt, NULL, killer_main, &k);
    for (size_t i = 0; i < LOAD_CLIENTS; i++) {
        c[i] = (struct load_client){l, i};
        pthread_create(&t[i], NULL, load_client_main, &c[i]);
    }
    for (size_t i = 0; i < LOAD_CLIENTS; i++) {
        pthread_join(t[i], NULL);
    }
    pthread_join(kt, NULL);
    waitpid(victim->pid, NULL, 0);
}

static void expect_logged(struct proc *p, const struct load *l)
{
    for (size_t i = 0; i < l->n_acked; i++) {
        if (!logged(p, l->acked[i])) {
            fail_msg("acknowledged release %lld is not in the log", (long long)l->acked[i]);
        }
    }
}

/* Four clients at once, the log committed in batches; kill -9 mid-load, twice. */
static void test_kill9_under_load(void **state)
{
    (void)state;
    batched = true;
    struct proc p;
    memset(&p, 0, sizeof(p));
    struct load *l = calloc(1, sizeof(*l));
    assert_non_null(l);
    pthread_mutex_init(&l->lock, NULL);
    l->procs = &p;
    l->n_procs = 1;
    size_t total = 0;
    for (int round = 0; round < 2; round++) {
        assert_true(start(&p, 0));
        run_load(l, &p, (size_t)(20 + 20 * round));
        total = l->n_acked;
    }
    assert_true(total > 10);
    assert_true(total < 2 * LOAD_MAX); /* the kills landed while clients were releasing */
    assert_true(start(&p, 0));
    admin_token(&p);
    expect_logged(&p, l);
    assert_true(release_once(&p, &p) >= 0);
    kill9(&p);
    audit_ok();
    fprintf(stderr, "kill -9 x2 under 4 clients, batched log: %zu acknowledged, all in the log\n",
            total);
    pthread_mutex_destroy(&l->lock);
    free(l);
    batched = false;
}

static void test_two_replicas(void **state)
{
    (void)state;
    if (strncmp(db, "postgres", 8) != 0) {
        skip(); /* replicas share one PostgreSQL (tests/integration/broker_postgres.sh) */
    }
    struct proc a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    assert_true(start(&a, 1));
    assert_true(start(&b, 2));
    admin_token(&a);
    snprintf(b.h.admin, sizeof(b.h.admin), "%s", a.h.admin);
    /* a nonce issued by one replica is redeemed at the other, both ways */
    for (int i = 0; i < 10; i++) {
        assert_true(release_once(i % 2 ? &a : &b, i % 2 ? &b : &a) >= 0);
    }
    /* one replica dies; the other goes on */
    kill9(&a);
    for (int i = 0; i < 10; i++) {
        assert_true(release_once(&b, &b) >= 0);
    }
    kill9(&b);
    audit_ok();
}

/* Two replicas under four clients (each client alternating between them), batched; one is
 * killed mid-load: every release either acknowledged is in the log, which verifies. */
static void test_replica_killed_under_load(void **state)
{
    (void)state;
    if (strncmp(db, "postgres", 8) != 0) {
        skip(); /* replicas share one PostgreSQL (tests/integration/broker_postgres.sh) */
    }
    batched = true;
    struct proc ps[2];
    memset(ps, 0, sizeof(ps));
    assert_true(start(&ps[0], 3));
    assert_true(start(&ps[1], 4));
    admin_token(&ps[0]);
    snprintf(ps[1].h.admin, sizeof(ps[1].h.admin), "%s", ps[0].h.admin);
    struct load *l = calloc(1, sizeof(*l));
    assert_non_null(l);
    pthread_mutex_init(&l->lock, NULL);
    l->procs = ps;
    l->n_procs = 2;
    run_load(l, &ps[0], 30);
    assert_true(l->n_acked > 10);
    assert_true(l->n_acked < LOAD_MAX); /* the kill landed while clients were releasing */
    expect_logged(&ps[1], l);
    assert_true(release_once(&ps[1], &ps[1]) >= 0);
    kill9(&ps[1]);
    audit_ok();
    fprintf(stderr, "replica killed under 4 clients: %zu acknowledged, all in the log\n",
            l->n_acked);
    pthread_mutex_destroy(&l->lock);
    free(l);
    batched = false;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_during_releases),
        cmocka_unit_test(test_kill9_under_load),
        cmocka_unit_test(test_two_replicas),
        cmocka_unit_test(test_replica_killed_under_load),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
