/*
 * The audit log: every attestation and release outcome is an entry (canonical JSON) appended to a
 * Merkle tree in the RFC 9162 style (docs/audit-log.md). Appends are committed in batches (group
 * commit): the entries of concurrent requests, their leaf hashes and one checkpoint signed by
 * the broker's active key over the batch's last size, in one transaction; each request is
 * acknowledged only after its batch's commit, a release with a receipt (inclusion proof to that
 * checkpoint).
 * Replicas on one PostgreSQL serialise appends with a transaction-scoped advisory lock; each
 * process keeps the tree in memory and catches up from the store before appending.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "broker/broker.h"
#include "store/replicas.h"

#define LOG_LOCK_ID 0x76657269 /* pg_advisory_xact_lock key: "veri" */

struct sync_ctx {
    struct vt_merkle_tree *t;
    enum vt_err err;
    struct vt_diag *d;
};

static bool row_leaf(void *ctx, const struct vt_sql_row *row)
{
    struct sync_ctx *s = ctx;
    size_t n;
    const uint8_t *leaf = vt_row_blob(row, 1, &n);
    if ((uint64_t)vt_row_int(row, 0) != vt_merkle_size(s->t) || leaf == NULL || n != 32) {
        s->err = vt_fail(s->d, VT_E_STORAGE, "log", "log row %" PRId64 " is out of sequence",
                         vt_row_int(row, 0));
        return false;
    }
    s->err = vt_merkle_append(s->t, leaf);
    return s->err == VT_OK;
}

static const char sync_sql[] = "SELECT idx, leaf FROM vb_log WHERE idx >= ? ORDER BY idx";

/* Bring the in-memory tree up to the store (caller holds log_lock). */
static enum vt_err sync_tree(struct vt_broker *b, struct vt_diag *d)
{
    struct sync_ctx s = {.t = b->tree, .err = VT_OK, .d = d};
    struct vt_sql_arg a[] = {VT_SQL_I((int64_t)vt_merkle_size(b->tree))};
    VT_TRY(vt_store_exec(b->store, sync_sql, a, 1, row_leaf, &s, NULL, d));
    return s.err;
}

/* Begin a batch's transaction, the log's lock held, the tree brought up to the store (one round
 * trip on PostgreSQL). */
static enum vt_err begin_synced(struct vt_broker *b, struct vt_diag *d)
{
    struct sync_ctx s = {.t = b->tree, .err = VT_OK, .d = d};
    struct vt_sql_arg a[] = {VT_SQL_I((int64_t)vt_merkle_size(b->tree))};
    VT_TRY(vt_store_begin_locked(b->store, LOG_LOCK_ID, sync_sql, a, 1, row_leaf, &s, d));
    if (s.err != VT_OK) {
        vt_store_rollback(b->store);
    }
    return s.err;
}

static void reset_tree(struct vt_broker *b)
{
    struct vt_merkle_tree *t = vt_merkle_tree_new();
    if (t != NULL) {
        vt_merkle_tree_free(b->tree);
        b->tree = t;
    }
}

/*
 * One append waiting for its batch: the caller's entry, and what its batch's commit gives back.
 * Lives on the caller's stack until done is set (under batch_lock).
 */
struct vt_log_req {
    const char *entry;
    const char *explanation;
    const struct vt_broker_redeem *redeem;    /* a nonce redeemed with the entry, or NULL */
    const struct vt_broker_fleet_note *fleet; /* the TEE noted in the fleet with it, or NULL */
    bool refused;                             /* the nonce was spent or expired: nothing appended */
    bool want_receipt;
    uint64_t index;
    char *receipt;
    char kid[64];
    enum vt_err err;
    struct vt_diag d;
    bool done;
    struct vt_log_req *next;
};

/*
 * Store the batch in one transaction: for each request its nonce redeemed (a request whose nonce
 * is no longer unused and unexpired is refused and appends nothing), its entry and explanation,
 * its TEE's fleet row; then one checkpoint signed over the batch's last size; then each receipt
 * against that checkpoint. The caller holds log_lock. On failure nothing of the batch is stored and
 * the tree is rebuilt from the store next time.
 */
static enum vt_err commit_batch(struct vt_broker *b, struct vt_log_req *batch, struct vt_diag *d)
{
    enum vt_err err = begin_synced(b, d);
    if (err != VT_OK) {
        reset_tree(b); /* it may have taken some rows: rebuild from the store next time */
        return err;
    }
    vt_time now = vt_broker_now(b);
    uint64_t start = vt_merkle_size(b->tree);
    for (struct vt_log_req *r = batch; r != NULL && err == VT_OK; r = r->next) {
        r->refused = false;
        if (r->redeem != NULL) {
            int64_t changes = 0;
            const struct vt_broker_redeem *q = r->redeem;
            if (q->expires == 0) { /* a row an earlier release issued */
                struct vt_sql_arg n[] = {VT_SQL_I(now), VT_SQL_T(q->nonce), VT_SQL_I(now)};
                err = vt_store_exec(
                    b->store,
                    "UPDATE vb_nonces SET used = ? WHERE nonce = ? AND used = 0 AND expires > ?", n,
                    3, NULL, NULL, &changes, d);
            } else if (q->expires > now) {
                struct vt_sql_arg n[] = {VT_SQL_T(q->nonce), VT_SQL_I(q->expires), VT_SQL_I(now)};
                err = vt_store_exec(b->store,
                                    "INSERT INTO vb_nonces(nonce, expires, used) VALUES (?,?,?)"
                                    " ON CONFLICT (nonce) DO NOTHING",
                                    n, 3, NULL, NULL, &changes, d);
            }
            if (err != VT_OK) {
                break;
            }
            if (changes != 1) {
                r->refused = true;
                continue;
            }
        }
        uint8_t leaf[32];
        r->index = vt_merkle_size(b->tree);
        vt_merkle_leaf_hash(r->entry, strlen(r->entry), leaf);
        struct vt_sql_arg a[] = {VT_SQL_I((int64_t)r->index), VT_SQL_T(r->entry),
                                 VT_SQL_B(leaf, 32), VT_SQL_I(now)};
        err = vt_store_exec(b->store,
                            "INSERT INTO vb_log(idx, entry, leaf, created) VALUES (?,?,?,?)", a, 4,
                            NULL, NULL, NULL, d);
        if (err == VT_OK && r->explanation != NULL && r->explanation[0] != '\0') {
            struct vt_sql_arg e[] = {VT_SQL_I((int64_t)r->index), VT_SQL_T(r->explanation)};
            err = vt_store_exec(b->store, "INSERT INTO vb_decisions(idx, explanation) VALUES (?,?)",
                                e, 2, NULL, NULL, NULL, d);
        }
        if (err == VT_OK && r->fleet != NULL) {
            err = vt_broker_fleet_upsert(b, r->fleet, (int64_t)now, d);
        }
        if (err == VT_OK) {
            err = vt_merkle_append(b->tree, leaf);
        }
    }
    uint64_t size = vt_merkle_size(b->tree);
    uint8_t root[32], sig[64];
    struct vt_buf body;
    vt_buf_init(&body, VT_CHECKPOINT_BODY_MAX + 1);
    char kid[64], sig_hex[129];
    bool grew = size > start; /* every request refused: no new checkpoint */
    if (err == VT_OK && grew) {
        err = vt_merkle_root(b->tree, size, root, d);
    }
    if (err == VT_OK && grew) {
        err = vt_broker_checkpoint(b, size, root, &body, sig, kid, d);
    }
    if (err == VT_OK && grew) {
        vt_hex_encode(sig, 64, sig_hex);
        struct vt_sql_arg a[] = {VT_SQL_I((int64_t)size), VT_SQL_T((const char *)body.data),
                                 VT_SQL_T(sig_hex), VT_SQL_T(kid)};
        err = vt_store_exec(b->store,
                            "INSERT INTO vb_checkpoints(size, body, sig, kid) VALUES (?,?,?,?)", a,
                            4, NULL, NULL, NULL, d);
    }
    if (err == VT_OK) {
        err = vt_store_commit(b->store, d);
    } else {
        vt_store_rollback(b->store);
    }
    if (err != VT_OK) {
        reset_tree(b); /* the batch may not have been stored: rebuild from the store next time */
        vt_buf_cleanup(&body);
        return err;
    }
    if (grew) {
        atomic_fetch_add(&b->m.log_batches, 1);
    }
    /* Durable: each request gets its receipt against this batch's checkpoint. */
    for (struct vt_log_req *r = batch; r != NULL; r = r->next) {
        if (r->refused) {
            r->err = vt_fail(&r->d, VT_E_NONCE_MISMATCH, "nonce",
                             "the nonce was redeemed by another request first, or expired");
            continue;
        }
        snprintf(r->kid, sizeof(r->kid), "%s", kid);
        if (!r->want_receipt) {
            continue;
        }
        struct vt_buf rb;
        vt_buf_init(&rb, VT_RECEIPT_MAX_SIZE);
        r->err = vt_receipt_build((const uint8_t *)r->entry, strlen(r->entry), r->index, b->tree,
                                  (const char *)body.data, body.len, sig, &rb, &r->d);
        if (r->err == VT_OK && (r->receipt = strndup((const char *)rb.data, rb.len)) == NULL) {
            r->err = vt_fail(&r->d, VT_E_NOMEM, "receipt", "no memory");
        }
        vt_buf_cleanup(&rb);
    }
    vt_buf_cleanup(&body);
    return VT_OK;
}

/* Commit a batch (the leader's work): retried on a fresh view when a replica raced it on SQLite
 * (busy) or took the index first; every request of the batch gets the outcome. */
static void lead_batch(struct vt_broker *b, struct vt_log_req *batch)
{
    pthread_mutex_lock(&b->log_lock);
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = VT_E_STORAGE;
    for (int attempt = 0; attempt < 5 && err == VT_E_STORAGE; attempt++) {
        for (struct vt_log_req *r = batch; r != NULL; r = r->next) {
            r->err = VT_OK;
        }
        err = commit_batch(b, batch, &d);
    }
    pthread_mutex_unlock(&b->log_lock);
    if (err != VT_OK) {
        for (struct vt_log_req *r = batch; r != NULL; r = r->next) {
            r->err = err;
            r->d = d;
        }
    }
}

/* Take up to log_batch_max queued requests (under batch_lock). */
static struct vt_log_req *take_batch(struct vt_broker *b)
{
    struct vt_log_req *head = b->batch_head, **end = &b->batch_head;
    size_t n = 0;
    while (*end != NULL && n < (size_t)b->cfg.log_batch_max) {
        end = &(*end)->next;
        n++;
    }
    b->batch_head = *end;
    *end = NULL;
    if (b->batch_head == NULL) {
        b->batch_tail = &b->batch_head;
    }
    b->batch_queued -= n;
    return head;
}

static void deadline_after_us(struct timespec *ts, int64_t us)
{
    clock_gettime(CLOCK_REALTIME, ts);
    int64_t ns = (int64_t)ts->tv_nsec + us * 1000;
    ts->tv_sec += (time_t)(ns / 1000000000);
    ts->tv_nsec = (long)(ns % 1000000000);
}

/*
 * Group commit. A request joins the queue; if no batch is being committed it leads: it waits up
 * to log_batch_wait_us for others (or until log_batch_max are queued), takes the queue (up to
 * log_batch_max), commits it as one transaction with one checkpoint, and wakes the batch's
 * requests. Requests that arrive while a batch commits wait and form the next batch, led by the
 * first of them to see no leader. A request returns only when its batch is durable (or failed).
 */
enum vt_err vt_broker_log_append(struct vt_broker *b, const char *entry, const char *explanation,
                                 const struct vt_broker_redeem *redeem,
                                 const struct vt_broker_fleet_note *fleet, bool want_receipt,
                                 uint64_t *index, char **receipt, char kid[64], struct vt_diag *d)
{
    if (receipt != NULL) {
        *receipt = NULL;
    }
    struct vt_log_req r = {.entry = entry,
                           .explanation = explanation,
                           .redeem = redeem,
                           .fleet = fleet,
                           .want_receipt = want_receipt};
    vt_diag_init(&r.d);
    pthread_mutex_lock(&b->batch_lock);
    *b->batch_tail = &r;
    b->batch_tail = &r.next;
    b->batch_queued++;
    if (b->batch_leader && b->batch_queued >= (size_t)b->cfg.log_batch_max) {
        pthread_cond_broadcast(&b->batch_cond); /* a waiting leader may go now */
    }
    while (!r.done) {
        if (b->batch_leader) {
            pthread_cond_wait(&b->batch_cond, &b->batch_lock);
            continue;
        }
        b->batch_leader = true;
        if (b->cfg.log_batch_wait_us > 0) {
            struct timespec until;
            deadline_after_us(&until, b->cfg.log_batch_wait_us);
            while (b->batch_queued < (size_t)b->cfg.log_batch_max &&
                   pthread_cond_timedwait(&b->batch_cond, &b->batch_lock, &until) == 0) {
            }
        }
        struct vt_log_req *batch = take_batch(b);
        pthread_mutex_unlock(&b->batch_lock);
        lead_batch(b, batch);
        pthread_mutex_lock(&b->batch_lock);
        for (struct vt_log_req *x = batch; x != NULL; x = x->next) {
            x->done = true;
        }
        b->batch_leader = false;
        pthread_cond_broadcast(&b->batch_cond);
    }
    pthread_mutex_unlock(&b->batch_lock);
    if (r.err != VT_OK) {
        if (d != NULL) {
            *d = r.d;
        }
        free(r.receipt);
        return r.err;
    }
    *index = r.index;
    if (receipt != NULL) {
        *receipt = r.receipt;
    } else {
        free(r.receipt);
    }
    if (kid != NULL) {
        snprintf(kid, 64, "%s", r.kid);
    }
    return VT_OK;
}

static bool row_checkpoint(void *ctx, const struct vt_sql_row *row)
{
    json_t **o = ctx;
    *o = json_pack("{s:s,s:s,s:s}", "body", vt_row_text(row, 0), "signature", vt_row_text(row, 1),
                   "kid", vt_row_text(row, 2));
    return false;
}

char *vt_broker_log_checkpoint(struct vt_broker *b)
{
    json_t *o = NULL;
    if (vt_store_exec(b->store,
                      "SELECT body, sig, kid FROM vb_checkpoints ORDER BY size DESC LIMIT 1", NULL,
                      0, row_checkpoint, &o, NULL, NULL) != VT_OK) {
        return NULL;
    }
    if (o == NULL) {
        o = json_pack("{s:I}", "size", (json_int_t)0);
    }
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

enum vt_err vt_broker_log_consistency(struct vt_broker *b, uint64_t old_size, uint64_t new_size,
                                      char **json, struct vt_diag *d)
{
    *json = NULL;
    uint8_t(*proof)[32] = calloc(VT_MERKLE_MAX_PROOF, 32);
    VT_ENSURE(proof != NULL, d, VT_E_NOMEM, "log", "no memory");
    size_t n = 0;
    pthread_mutex_lock(&b->log_lock);
    enum vt_err err = sync_tree(b, d);
    if (err == VT_OK) {
        err = vt_merkle_consistency_proof(b->tree, old_size, new_size, proof, VT_MERKLE_MAX_PROOF,
                                          &n, d);
    }
    pthread_mutex_unlock(&b->log_lock);
    if (err == VT_OK) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            char hx[65];
            vt_hex_encode(proof[i], 32, hx);
            json_array_append_new(arr, json_string(hx));
        }
        json_t *o = json_pack("{s:I,s:I,s:o}", "old_size", (json_int_t)old_size, "new_size",
                              (json_int_t)new_size, "consistency", arr);
        *json = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        err = *json ? VT_OK : vt_fail(d, VT_E_NOMEM, "log", "no memory");
    }
    free(proof);
    return err;
}

static bool row_entry(void *ctx, const struct vt_sql_row *row)
{
    json_t *e = json_loads(vt_row_text(row, 1), 0, NULL);
    json_t *o = json_pack("{s:I,s:o}", "index", (json_int_t)vt_row_int(row, 0), "entry",
                          e ? e : json_string(vt_row_text(row, 1)));
    if (row->n > 2 && row->val[2] != NULL) {
        json_t *x = json_loads(vt_row_text(row, 2), 0, NULL);
        json_object_set_new(o, "explanation", x ? x : json_string(vt_row_text(row, 2)));
    }
    json_array_append_new(ctx, o);
    return true;
}

enum vt_err vt_broker_log_entries(struct vt_broker *b, uint64_t start, uint64_t limit, bool explain,
                                  char **json, struct vt_diag *d)
{
    json_t *arr = json_array();
    struct vt_sql_arg a[] = {VT_SQL_I((int64_t)start),
                             VT_SQL_I((int64_t)(limit > 1000 ? 1000 : limit))};
    enum vt_err err = vt_store_exec(
        b->store,
        explain ? "SELECT l.idx, l.entry, x.explanation FROM vb_log l LEFT JOIN vb_decisions x"
                  " ON x.idx = l.idx WHERE l.idx >= ? ORDER BY l.idx LIMIT ?"
                : "SELECT idx, entry FROM vb_log WHERE idx >= ? ORDER BY idx LIMIT ?",
        a, 2, row_entry, arr, NULL, d);
    *json = err == VT_OK ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (err == VT_OK && *json == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "log", "no memory");
    }
    return err;
}

/* ---- audit ---- */

struct audit_ctx {
    struct vt_merkle_tree *t;
    uint64_t n;
    enum vt_err err;
    struct vt_diag *d;
};

static bool row_audit_entry(void *ctx, const struct vt_sql_row *row)
{
    struct audit_ctx *a = ctx;
    int64_t idx = vt_row_int(row, 0);
    const char *entry = vt_row_text(row, 1);
    size_t n;
    const uint8_t *leaf = vt_row_blob(row, 2, &n);
    uint8_t want[32];
    vt_merkle_leaf_hash(entry, strlen(entry), want);
    if ((uint64_t)idx != a->n) {
        a->err =
            vt_fail(a->d, VT_E_INTEGRITY, "log.index",
                    "entry %" PRIu64 " is missing (next stored index is %" PRId64 ")", a->n, idx);
    } else if (leaf == NULL || n != 32 || !vt_ct_memeq(leaf, want, 32)) {
        a->err =
            vt_fail(a->d, VT_E_INTEGRITY, "log.entry",
                    "entry %" PRId64 " does not hash to its stored leaf hash (modified?)", idx);
    } else {
        a->err = vt_merkle_append(a->t, want);
        a->n++;
    }
    return a->err == VT_OK;
}

/* Checkpoints and signing keys are read into memory first: the store's lock is not re-entrant,
 * so nothing may query it from inside a row callback. */
struct cp_row {
    uint64_t size;
    char *body;
    char sig[129];
    char kid[64];
};

struct cp_list {
    struct cp_row *rows;
    size_t n, cap;
};

static bool row_cp(void *ctx, const struct vt_sql_row *row)
{
    struct cp_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        void *p = realloc(l->rows, cap * sizeof(*l->rows));
        if (p == NULL) {
            return false;
        }
        l->rows = p;
        l->cap = cap;
    }
    struct cp_row *r = &l->rows[l->n];
    r->size = (uint64_t)vt_row_int(row, 0);
    r->body = strdup(vt_row_text(row, 1));
    snprintf(r->sig, sizeof(r->sig), "%s", vt_row_text(row, 2));
    snprintf(r->kid, sizeof(r->kid), "%s", vt_row_text(row, 3));
    l->n++;
    return r->body != NULL;
}

struct key_row {
    char kid[64];
    uint8_t xy[64];
};

struct key_list {
    struct key_row rows[1024]; /* signing keys ever used (rotations) */
    size_t n;
};

static bool row_key_xy(void *ctx, const struct vt_sql_row *row)
{
    struct key_list *l = ctx;
    const char *hx = vt_row_text(row, 1);
    if (l->n < sizeof(l->rows) / sizeof(l->rows[0]) &&
        vt_hex_decode_exact(hx, strlen(hx), l->rows[l->n].xy, 64) == VT_OK) {
        snprintf(l->rows[l->n].kid, sizeof(l->rows[l->n].kid), "%s", vt_row_text(row, 0));
        l->n++;
    }
    return true;
}

static enum vt_err check_checkpoint(struct vt_broker *b, const struct key_list *keys,
                                    const struct cp_row *r, uint64_t prev, struct vt_diag *d)
{
    const uint8_t *xy = NULL;
    for (size_t i = 0; i < keys->n; i++) {
        if (strcmp(keys->rows[i].kid, r->kid) == 0) {
            xy = keys->rows[i].xy;
        }
    }
    uint8_t sig[64], root[32];
    struct vt_checkpoint cp;
    VT_ENSURE(xy != NULL, d, VT_E_INTEGRITY, "log.checkpoint.kid",
              "checkpoint %" PRIu64 " names an unknown key %s", r->size, r->kid);
    if (vt_hex_decode_exact(r->sig, strlen(r->sig), sig, 64) != VT_OK ||
        vt_checkpoint_verify(xy, r->body, strlen(r->body), sig, &cp, d) != VT_OK) {
        return vt_fail(d, VT_E_INTEGRITY, "log.checkpoint.signature",
                       "checkpoint %" PRIu64 " does not verify with key %s", r->size, r->kid);
    }
    VT_ENSURE(cp.size == r->size && r->size <= vt_merkle_size(b->tree) && r->size > prev, d,
              VT_E_INTEGRITY, "log.checkpoint.size",
              "checkpoint row %" PRIu64 " says size %" PRIu64 " (log holds %" PRIu64 ")", r->size,
              cp.size, vt_merkle_size(b->tree));
    VT_ENSURE(strcmp(cp.origin, b->cfg.issuer) == 0, d, VT_E_INTEGRITY, "log.checkpoint.origin",
              "checkpoint %" PRIu64 " is of log \"%s\", not \"%s\"", r->size, cp.origin,
              b->cfg.issuer);
    VT_TRY(vt_merkle_root(b->tree, r->size, root, d));
    VT_ENSURE(vt_ct_memeq(root, cp.root, 32), d, VT_E_INTEGRITY, "log.checkpoint.root",
              "the entries do not hash to the root signed at size %" PRIu64, r->size);
    return VT_OK;
}

enum vt_err vt_broker_audit_verify(struct vt_broker *b, uint64_t *entries, uint64_t *checkpoints,
                                   struct vt_diag *d)
{
    *entries = *checkpoints = 0;
    struct vt_merkle_tree *t = vt_merkle_tree_new();
    VT_ENSURE(t != NULL, d, VT_E_NOMEM, "audit", "no memory");
    struct audit_ctx a = {.t = t, .err = VT_OK, .d = d};
    struct cp_list cps = {0};
    struct key_list *keys = calloc(1, sizeof(*keys));
    enum vt_err err = keys ? VT_OK : vt_fail(d, VT_E_NOMEM, "audit", "no memory");
    if (err == VT_OK) {
        err = vt_store_exec(b->store, "SELECT idx, entry, leaf FROM vb_log ORDER BY idx", NULL, 0,
                            row_audit_entry, &a, NULL, d);
    }
    if (err == VT_OK) {
        err = a.err;
    }
    if (err == VT_OK) {
        err = vt_store_exec(b->store, "SELECT kid, public_xy FROM vb_signing_keys", NULL, 0,
                            row_key_xy, keys, NULL, d);
    }
    if (err == VT_OK) {
        err =
            vt_store_exec(b->store, "SELECT size, body, sig, kid FROM vb_checkpoints ORDER BY size",
                          NULL, 0, row_cp, &cps, NULL, d);
    }
    pthread_mutex_lock(&b->log_lock);
    if (err == VT_OK) {
        vt_merkle_tree_free(b->tree);
        b->tree = t; /* the verified tree becomes the broker's */
        t = NULL;
        uint64_t prev = 0;
        for (size_t i = 0; err == VT_OK && i < cps.n; i++) {
            err = check_checkpoint(b, keys, &cps.rows[i], prev, d);
            prev = cps.rows[i].size;
            *checkpoints = i + 1;
        }
        if (err == VT_OK && a.n > 0 && prev != a.n) {
            err = vt_fail(d, VT_E_INTEGRITY, "log.checkpoint.size",
                          "no checkpoint covers the last %" PRIu64 " entries", a.n - prev);
        }
    }
    pthread_mutex_unlock(&b->log_lock);
    for (size_t i = 0; i < cps.n; i++) {
        free(cps.rows[i].body);
    }
    free(cps.rows);
    free(keys);
    vt_merkle_tree_free(t);
    *entries = a.n;
    return err;
}

/* ---- the sequencer's state (GET /admin/v1/log/status) ---- */

static bool row_checkpoint_head(void *ctx, const struct vt_sql_row *row)
{
    json_t **o = ctx;
    *o = json_pack("{s:I,s:s}", "size", (json_int_t)vt_row_int(row, 0), "kid", vt_row_text(row, 1));
    return true;
}

static int64_t broker_clock(void *ctx)
{
    return (int64_t)vt_broker_now(ctx);
}

/* What the heartbeat records of the log: this process's tree (what it last committed or read
 * from the store) and its committed batches. */
static void broker_log_beat(void *ctx, int64_t *size, int64_t *batches)
{
    struct vt_broker *b = ctx;
    pthread_mutex_lock(&b->log_lock);
    *size = (int64_t)vt_merkle_size(b->tree);
    pthread_mutex_unlock(&b->log_lock);
    *batches = (int64_t)atomic_load(&b->m.log_batches);
}

enum vt_err vt_broker_replica_start(struct vt_broker *b, int64_t interval, struct vt_diag *d)
{
    struct vt_replica_opts o = {.role = "broker",
                                .interval = interval,
                                .now = broker_clock,
                                .log = broker_log_beat,
                                .ctx = b};
    return vt_replica_start(b->store, &o, &b->replica, d);
}

char *vt_broker_log_status_json(struct vt_broker *b)
{
    struct vt_diag d;
    vt_diag_init(&d);
    int64_t stored = -1, last_created = 0;
    json_t *cp = NULL;
    enum vt_err err = vt_store_exec(b->store, "SELECT COUNT(*) FROM vb_log", NULL, 0,
                                    vt_store_row_int, &stored, NULL, &d);
    if (err == VT_OK) {
        err = vt_store_exec(b->store, "SELECT COALESCE(MAX(created), 0) FROM vb_log", NULL, 0,
                            vt_store_row_int, &last_created, NULL, &d);
    }
    if (err == VT_OK) {
        err = vt_store_exec(b->store,
                            "SELECT size, kid FROM vb_checkpoints ORDER BY size DESC LIMIT 1", NULL,
                            0, row_checkpoint_head, &cp, NULL, &d);
    }
    pthread_mutex_lock(&b->log_lock);
    uint64_t tree = vt_merkle_size(b->tree);
    pthread_mutex_unlock(&b->log_lock);
    pthread_mutex_lock(&b->batch_lock);
    size_t queued = b->batch_queued;
    bool leader = b->batch_leader;
    pthread_mutex_unlock(&b->batch_lock);
    const char *backend = vt_store_backend(b->store) == VT_STORE_POSTGRES ? "postgres" : "sqlite";
    char last[VT_TIME_STR_MAX] = "";
    if (last_created > 0) {
        vt_time_format(last_created, last);
    }
    /* This process's tree lags the store when another replica appended since its last append or
     * read; it catches up (from the store) before its next append. */
    json_t *o = json_pack(
        "{s:{s:s,s:s,s:s?},s:{s:I,s:I,s:I,s:s?,s:o},s:{s:s,s:I,s:b,s:I,s:I,s:I}}", "store",
        "backend", backend, "state", err == VT_OK ? "ok" : "unavailable", "error",
        err == VT_OK ? NULL : d.detail, "log", "size", (json_int_t)stored, "tree_size",
        (json_int_t)tree, "behind",
        (json_int_t)(stored > (int64_t)tree ? stored - (int64_t)tree : 0), "last_entry",
        last[0] ? last : NULL, "checkpoint", cp ? cp : json_null(), "sequencer", "state",
        leader       ? "committing"
        : queued > 0 ? "queued"
                     : "idle",
        "queued", (json_int_t)queued, "leader", leader, "batches",
        (json_int_t)atomic_load(&b->m.log_batches), "batch_max", (json_int_t)b->cfg.log_batch_max,
        "batch_wait_us", (json_int_t)b->cfg.log_batch_wait_us);
    /* every replica heartbeating into this store (store/replicas.h), this one marked */
    struct vt_diag rd;
    vt_diag_init(&rd);
    json_t *replicas = vt_replicas_json(b->store, vt_broker_now(b),
                                        b->replica ? vt_replica_id(b->replica) : NULL, &rd);
    if (o != NULL) {
        json_object_set_new(o, "replicas", replicas ? replicas : json_null());
    } else {
        json_decref(replicas);
    }
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}
