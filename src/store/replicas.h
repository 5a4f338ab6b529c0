/*
 * The replica registry (docs/console.md, Health): every `broker serve` and `cache serve` process
 * (both, in `veritee serve`) writes a heartbeat row into vt_replicas (the core component's step 2)
 * every few seconds from a small thread of its own: its ID, role, host, PID, version, start, last
 * heartbeat and interval, and for the broker the log size and batches it last committed. GET
 * /admin/v1/log/status (broker) and GET /admin/v1/status (cache) list the rows with their age; a
 * replica without a heartbeat for more than three of its intervals is stale, and each heartbeat
 * deletes the rows of replicas gone for more than a day. A view for operators, not a lock or a
 * membership protocol: nothing in veritee decides anything from it.
 */
#ifndef VT_STORE_REPLICAS_H
#define VT_STORE_REPLICAS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "store/store.h"

#define VT_REPLICA_INTERVAL_DEFAULT 5 /* seconds between heartbeats */
#define VT_REPLICA_STALE_INTERVALS 3  /* no heartbeat for more than this many intervals: stale */
#define VT_REPLICA_FORGET_AFTER 86400 /* a row this much older than now is deleted */

struct vt_replica;

struct vt_replica_opts {
    const char *role; /* "broker" or "cache" */
    int64_t interval; /* seconds, 1 to 3600; 0: VT_REPLICA_INTERVAL_DEFAULT */
    /* the component's clock (its --now in tests); NULL: the system's */
    int64_t (*now)(void *ctx);
    /* the broker's log as this process last committed it (NULL: no log) */
    void (*log)(void *ctx, int64_t *size, int64_t *batches);
    void *ctx;
    bool no_thread; /* tests: no heartbeat thread; vt_replica_beat beats */
};

/* Register this process: a new random ID, a first heartbeat now (so that it is listed at once),
 * then a thread beating every interval until vt_replica_stop. VT_E_ARG for a bad role or
 * interval; VT_E_STORAGE when the first heartbeat cannot be written. */
VT_MUST_USE enum vt_err vt_replica_start(struct vt_store *s, const struct vt_replica_opts *o,
                                         struct vt_replica **out, struct vt_diag *d);
/* One heartbeat now, then the rows gone for more than a day deleted. */
VT_MUST_USE enum vt_err vt_replica_beat(struct vt_replica *r, struct vt_diag *d);
const char *vt_replica_id(const struct vt_replica *r); /* 16 hex characters */
/* Stop the thread, remove the row (a replica that stops cleanly leaves the registry; one that
 * dies stays, turns stale, and is deleted a day later) and free r (NULL: nothing). */
void vt_replica_stop(struct vt_replica *r);

/* The replicas recorded in s at now, newest heartbeat first: [{id, role, host, pid, version,
 * started, last_seen, age_s, interval_s, stale, self (self_id's row; self_id may be NULL), and
 * log_size and log_batches for a broker}]. NULL with d set when the store cannot be read. */
json_t *vt_replicas_json(struct vt_store *s, int64_t now, const char *self_id, struct vt_diag *d);

#endif
