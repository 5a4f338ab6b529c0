/* The replica registry: heartbeat rows in vt_replicas (replicas.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <veritee/veritee.h>

#include "internal.h"

#include "store/replicas.h"

struct vt_replica {
    struct vt_store *store;
    struct vt_replica_opts o;
    char role[16];
    char id[17];
    char host[256];
    int64_t pid;
    int64_t started;
    pthread_t thread;
    bool running;
    bool stopping;
    bool registered; /* its row was written: a clean stop removes it */
    pthread_mutex_t lock;
    pthread_cond_t cond;
};

static int64_t now_of(const struct vt_replica *r)
{
    return r->o.now != NULL ? r->o.now(r->o.ctx) : (int64_t)time(NULL);
}

enum vt_err vt_replica_beat(struct vt_replica *r, struct vt_diag *d)
{
    int64_t now = now_of(r), size = -1, batches = -1;
    if (r->o.log != NULL) {
        r->o.log(r->o.ctx, &size, &batches);
    }
    struct vt_sql_arg a[] = {VT_SQL_T(r->id),  VT_SQL_T(r->role),       VT_SQL_T(r->host),
                             VT_SQL_I(r->pid), VT_SQL_T(VT_VERSION),    VT_SQL_I(r->started),
                             VT_SQL_I(now),    VT_SQL_I(r->o.interval), VT_SQL_I(size),
                             VT_SQL_I(batches)};
    VT_TRY(vt_store_exec(r->store,
                         "INSERT INTO vt_replicas(id, role, host, pid, version, started, last_seen,"
                         " interval_s, log_size, log_batches) VALUES (?,?,?,?,?,?,?,?,?,?)"
                         " ON CONFLICT(id) DO UPDATE SET last_seen = excluded.last_seen,"
                         " interval_s = excluded.interval_s, log_size = excluded.log_size,"
                         " log_batches = excluded.log_batches",
                         a, sizeof(a) / sizeof(a[0]), NULL, NULL, NULL, d));
    struct vt_sql_arg old[] = {VT_SQL_I(now - VT_REPLICA_FORGET_AFTER)};
    return vt_store_exec(r->store, "DELETE FROM vt_replicas WHERE last_seen < ?", old, 1, NULL,
                         NULL, NULL, d);
}

static void *beat_main(void *arg)
{
    struct vt_replica *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += r->o.interval;
        pthread_cond_timedwait(&r->cond, &r->lock, &ts);
        if (r->stopping) {
            break;
        }
        pthread_mutex_unlock(&r->lock);
        struct vt_diag d;
        vt_diag_init(&d);
        if (vt_replica_beat(r, &d) != VT_OK) {
            fprintf(stderr, "veritee %s: replica heartbeat failed: %s\n", r->role, d.detail);
        }
        pthread_mutex_lock(&r->lock);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

enum vt_err vt_replica_start(struct vt_store *s, const struct vt_replica_opts *o,
                             struct vt_replica **out, struct vt_diag *d)
{
    *out = NULL;
    const char *role = o->role != NULL ? o->role : "";
    VT_ENSURE(strcmp(role, "broker") == 0 || strcmp(role, "cache") == 0, d, VT_E_ARG,
              "replica.role", "a replica is a broker or a cache, not \"%s\"", role);
    int64_t interval = o->interval == 0 ? VT_REPLICA_INTERVAL_DEFAULT : o->interval;
    VT_ENSURE(interval >= 1 && interval <= 3600, d, VT_E_ARG, "replica.interval",
              "the heartbeat interval must be 1 to 3600 s; it is %lld", (long long)interval);
    struct vt_replica *r = calloc(1, sizeof(*r));
    VT_ENSURE(r != NULL, d, VT_E_NOMEM, "replica", "no memory");
    r->store = s;
    r->o = *o;
    r->o.interval = interval;
    snprintf(r->role, sizeof(r->role), "%s", role);
    uint8_t raw[8];
    enum vt_err err = vt_random_bytes(raw, sizeof(raw), d);
    if (err != VT_OK) {
        free(r);
        return err;
    }
    vt_hex_encode(raw, sizeof(raw), r->id);
    if (gethostname(r->host, sizeof(r->host) - 1) != 0) {
        snprintf(r->host, sizeof(r->host), "unknown");
    }
    r->pid = (int64_t)getpid();
    r->started = now_of(r);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    err = vt_replica_beat(r, d);
    r->registered = err == VT_OK;
    if (err == VT_OK && !o->no_thread) {
        if (pthread_create(&r->thread, NULL, beat_main, r) != 0) {
            err = vt_fail(d, VT_E_INTERNAL, "replica", "cannot start the heartbeat thread");
        } else {
            r->running = true;
        }
    }
    if (err != VT_OK) {
        vt_replica_stop(r);
        return err;
    }
    *out = r;
    return VT_OK;
}

const char *vt_replica_id(const struct vt_replica *r)
{
    return r->id;
}

void vt_replica_stop(struct vt_replica *r)
{
    if (r == NULL) {
        return;
    }
    if (r->running) {
        pthread_mutex_lock(&r->lock);
        r->stopping = true;
        pthread_cond_signal(&r->cond);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->thread, NULL);
    }
    if (r->registered) {
        /* a replica that stops cleanly leaves the registry; one that dies goes stale there */
        struct vt_diag d;
        vt_diag_init(&d);
        struct vt_sql_arg a[] = {VT_SQL_T(r->id)};
        if (vt_store_exec(r->store, "DELETE FROM vt_replicas WHERE id = ?", a, 1, NULL, NULL, NULL,
                          &d) != VT_OK) {
            fprintf(stderr, "veritee %s: cannot leave the replica registry: %s\n", r->role,
                    d.detail);
        }
    }
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

struct list_ctx {
    json_t *arr;
    int64_t now;
    const char *self;
};

static bool row_replica(void *ctx, const struct vt_sql_row *row)
{
    struct list_ctx *l = ctx;
    char started[VT_TIME_STR_MAX], last[VT_TIME_STR_MAX];
    vt_time_format((vt_time)vt_row_int(row, 5), started);
    int64_t seen = vt_row_int(row, 6), interval = vt_row_int(row, 7);
    vt_time_format((vt_time)seen, last);
    int64_t age = l->now - seen;
    json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:I,s:I,s:b,s:b}", "id",
                          vt_row_text(row, 0), "role", vt_row_text(row, 1), "host",
                          vt_row_text(row, 2), "pid", (json_int_t)vt_row_int(row, 3), "version",
                          vt_row_text(row, 4), "started", started, "last_seen", last, "age_s",
                          (json_int_t)(age > 0 ? age : 0), "interval_s", (json_int_t)interval,
                          "stale", age > VT_REPLICA_STALE_INTERVALS * interval, "self",
                          l->self != NULL && strcmp(l->self, vt_row_text(row, 0)) == 0);
    if (o != NULL && strcmp(vt_row_text(row, 1), "broker") == 0 && vt_row_int(row, 8) >= 0) {
        json_object_set_new(o, "log_size", json_integer((json_int_t)vt_row_int(row, 8)));
        json_object_set_new(o, "log_batches", json_integer((json_int_t)vt_row_int(row, 9)));
    }
    return o != NULL && json_array_append_new(l->arr, o) == 0;
}

json_t *vt_replicas_json(struct vt_store *s, int64_t now, const char *self_id, struct vt_diag *d)
{
    struct list_ctx l = {json_array(), now, self_id};
    if (l.arr == NULL) {
        (void)vt_fail(d, VT_E_NOMEM, "replicas", "no memory");
        return NULL;
    }
    /* at most 1000 rows: a registry flooded by restarts still answers */
    if (vt_store_exec(s,
                      "SELECT id, role, host, pid, version, started, last_seen, interval_s,"
                      " log_size, log_batches FROM vt_replicas ORDER BY last_seen DESC, id"
                      " LIMIT 1000",
                      NULL, 0, row_replica, &l, NULL, d) != VT_OK) {
        json_decref(l.arr);
        return NULL;
    }
    return l.arr;
}
