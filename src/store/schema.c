/* Schema versions and migrations: inspecting a database's components, planning the steps that
 * bring them to this binary's versions, and applying them in one locked transaction. The steps
 * themselves are in migrations.c; the design is in schema.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#include "store/schema.h"

/* The key store.c's schema creation locks too: migrations and plain schema creation exclude each
 * other. (The audit log's appends use another key.) */
#define SCHEMA_LOCK_ID 7665726974LL

/* The table of versions. Its shape never changes: every release reads it. */
static const char schema_table[] =
    "CREATE TABLE IF NOT EXISTS vt_schema(component TEXT NOT NULL, version BIGINT NOT NULL,"
    " name TEXT NOT NULL, applied_at BIGINT NOT NULL, veritee_version TEXT NOT NULL,"
    " PRIMARY KEY(component, version))";

const char *vt_schema_action_name(enum vt_schema_action_kind k)
{
    return k == VT_SCHEMA_ACT_CREATE ? "create" : k == VT_SCHEMA_ACT_ADOPT ? "adopt" : "migrate";
}

static enum vt_err table_exists(struct vt_store *s, const char *table, bool *yes, struct vt_diag *d)
{
    int64_t n = 0;
    struct vt_sql_arg a[] = {VT_SQL_T(table)};
    const char *sql = vt_store_backend(s) == VT_STORE_SQLITE
                          ? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
                          : "SELECT COUNT(*) FROM information_schema.tables"
                            " WHERE table_schema = current_schema() AND table_name = ?";
    VT_TRY(vt_store_exec(s, sql, a, 1, vt_store_row_int, &n, NULL, d));
    *yes = n > 0;
    return VT_OK;
}

struct inspect_ctx {
    struct vt_schema_state *st;
    size_t n;
    enum vt_err err;
    struct vt_diag *d;
};

static bool row_version(void *ctx, const struct vt_sql_row *row)
{
    struct inspect_ctx *c = ctx;
    const char *name = vt_row_text(row, 0);
    int64_t v = vt_row_int(row, 1);
    for (size_t i = 0; i < c->n; i++) {
        struct vt_schema_state *s = &c->st[i];
        if (strcmp(s->comp->name, name) != 0) {
            continue;
        }
        if (v < 1) {
            c->err = vt_fail(c->d, VT_E_INTEGRITY, "schema.record",
                             "vt_schema holds version %lld of component %s: versions start at 1",
                             (long long)v, name);
            return false;
        }
        if (v > s->version) { /* rows come in version order; keep the highest */
            s->version = v;
            s->recorded = true;
            snprintf(s->by, sizeof(s->by), "%s", vt_row_text(row, 2));
            s->at = vt_row_int(row, 3);
        }
    }
    return true;
}

enum vt_err vt_schema_inspect(struct vt_store *s, const struct vt_schema_component *const *comps,
                              size_t n, struct vt_schema_state *out, struct vt_diag *d)
{
    VT_ENSURE(n <= VT_SCHEMA_MAX_COMPONENTS, d, VT_E_ARG, "schema", "%zu components (at most %d)",
              n, VT_SCHEMA_MAX_COMPONENTS);
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        out[i].comp = comps[i];
    }
    bool have = false;
    VT_TRY(table_exists(s, "vt_schema", &have, d));
    if (have) {
        struct inspect_ctx c = {out, n, VT_OK, d};
        VT_TRY(vt_store_exec(s,
                             "SELECT component, version, veritee_version, applied_at FROM vt_schema"
                             " ORDER BY component, version",
                             NULL, 0, row_version, &c, NULL, d));
        VT_TRY(c.err);
    }
    for (size_t i = 0; i < n; i++) {
        if (!out[i].recorded) {
            bool tables = false;
            VT_TRY(table_exists(s, comps[i]->probe, &tables, d));
            out[i].version = tables ? 1 : 0;
        }
    }
    return VT_OK;
}

static enum vt_err add(struct vt_schema_plan *p, const struct vt_schema_component *c, size_t v,
                       enum vt_schema_action_kind k, struct vt_diag *d)
{
    VT_ENSURE(p->n < sizeof(p->a) / sizeof(p->a[0]), d, VT_E_INTERNAL, "schema",
              "too many steps to plan");
    p->a[p->n++] = (struct vt_schema_action){c, v, k};
    return VT_OK;
}

enum vt_err vt_schema_plan_steps(const struct vt_schema_state *st, size_t n,
                                 enum vt_schema_mode mode, struct vt_schema_plan *plan,
                                 struct vt_diag *d)
{
    plan->n = 0;
    /* A newer component is refused whatever else holds. */
    for (size_t i = 0; i < n; i++) {
        const struct vt_schema_component *c = st[i].comp;
        VT_ENSURE(st[i].version <= (int64_t)c->n_steps, d, VT_E_UNSUPPORTED_VERSION, "schema.newer",
                  "the database's %s schema is at version %lld (migrated by veritee %s); this "
                  "veritee %s knows version %zu at most: run veritee %s or later on it, or "
                  "restore a backup from before that migration",
                  c->name, (long long)st[i].version, st[i].by[0] ? st[i].by : "?", VT_VERSION,
                  c->n_steps, st[i].by[0] ? st[i].by : "?");
    }
    for (size_t i = 0; i < n; i++) {
        const struct vt_schema_component *c = st[i].comp;
        size_t from = (size_t)st[i].version; /* <= n_steps, checked above */
        if (st[i].version == 0) {
            VT_ENSURE(mode != VT_SCHEMA_READ, d, VT_E_NOT_FOUND, "schema.absent",
                      "the database has no %s schema (no table %s, no record in vt_schema)",
                      c->name, c->probe);
            for (size_t v = 1; v <= c->n_steps; v++) {
                VT_TRY(add(plan, c, v, VT_SCHEMA_ACT_CREATE, d));
            }
            continue;
        }
        if (from < c->n_steps && mode != VT_SCHEMA_MIGRATE) {
            return vt_fail(d, VT_E_STATE, "schema.pending",
                           "the database's %s schema is at version %zu, this veritee %s's is %zu "
                           "(step %zu: %s%s): run `veritee db migrate` (or start veritee serve "
                           "without --no-migrate), after a backup",
                           c->name, from, VT_VERSION, c->n_steps, from + 1, c->steps[from].name,
                           from + 1 < c->n_steps ? ", ..." : "");
        }
        if (!st[i].recorded && mode != VT_SCHEMA_READ) {
            VT_TRY(add(plan, c, 1, VT_SCHEMA_ACT_ADOPT, d));
        }
        for (size_t v = from + 1; v <= c->n_steps; v++) {
            VT_TRY(add(plan, c, v, VT_SCHEMA_ACT_MIGRATE, d));
        }
    }
    return VT_OK;
}

/* Split a step's SQL into statements, "BLOB" rewritten to "BYTEA" for PostgreSQL. */
enum vt_err vt_schema_step_sql(const struct vt_schema_step *step, enum vt_store_backend b,
                               bool (*fn)(void *ctx, const char *stmt), void *ctx,
                               struct vt_diag *d)
{
    if (step->sql == NULL) {
        return VT_OK;
    }
    size_t n = strlen(step->sql);
    char *copy = malloc(2 * n + 1);
    VT_ENSURE(copy != NULL, d, VT_E_NOMEM, "schema", "cannot copy a step's SQL");
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (b == VT_STORE_POSTGRES && strncmp(step->sql + i, "BLOB", 4) == 0) {
            memcpy(copy + o, "BYTEA", 5);
            o += 5;
            i += 3;
        } else {
            copy[o++] = step->sql[i];
        }
    }
    copy[o] = '\0';
    char *save = NULL;
    for (char *stmt = strtok_r(copy, ";", &save); stmt != NULL; stmt = strtok_r(NULL, ";", &save)) {
        stmt += strspn(stmt, " \n");
        if (*stmt != '\0' && !fn(ctx, stmt)) {
            break;
        }
    }
    free(copy);
    return VT_OK;
}

struct run_ctx {
    struct vt_store *s;
    enum vt_err err;
    struct vt_diag *d;
};

static bool run_stmt(void *ctx, const char *stmt)
{
    struct run_ctx *r = ctx;
    r->err = vt_store_exec(r->s, stmt, NULL, 0, NULL, NULL, NULL, r->d);
    return r->err == VT_OK;
}

static enum vt_err run_action(struct vt_store *s, const struct vt_schema_action *a,
                              struct vt_diag *d)
{
    const struct vt_schema_step *step = &a->comp->steps[a->version - 1];
    struct run_ctx r = {s, VT_OK, d};
    enum vt_err err = vt_schema_step_sql(step, vt_store_backend(s), run_stmt, &r, d);
    if (err == VT_OK) {
        err = r.err;
    }
    if (err == VT_OK && step->run != NULL) {
        err = step->run(s, d);
    }
    char name[160];
    snprintf(name, sizeof(name), "%s%s", a->kind == VT_SCHEMA_ACT_ADOPT ? "adopted: " : "",
             step->name);
    struct vt_sql_arg args[] = {VT_SQL_T(a->comp->name), VT_SQL_I(a->version), VT_SQL_T(name),
                                VT_SQL_I(time(NULL)), VT_SQL_T(VT_VERSION)};
    if (err == VT_OK) {
        err = vt_store_exec(s,
                            "INSERT INTO vt_schema(component, version, name, applied_at,"
                            " veritee_version) VALUES (?, ?, ?, ?, ?)",
                            args, 5, NULL, NULL, NULL, d);
    }
    if (err != VT_OK) {
        char inner[VT_DIAG_DETAIL_MAX];
        snprintf(inner, sizeof(inner), "%s", d != NULL ? d->detail : "");
        return vt_fail(d, err, "schema.step",
                       "%s step %zu (%s) failed, so nothing was changed (the migration rolled "
                       "back): %.300s",
                       a->comp->name, a->version, step->name, inner);
    }
    return VT_OK;
}

enum vt_err vt_schema_apply(struct vt_store *s, const struct vt_schema_component *const *comps,
                            size_t n, enum vt_schema_mode mode, struct vt_schema_plan *done,
                            struct vt_diag *d)
{
    struct vt_schema_state st[VT_SCHEMA_MAX_COMPONENTS];
    struct vt_schema_plan local;
    struct vt_schema_plan *plan = done != NULL ? done : &local;
    plan->n = 0;
    /* Without a lock first: a current database (every start but the first after an upgrade)
     * costs two reads and takes no write lock. */
    VT_TRY(vt_schema_inspect(s, comps, n, st, d));
    VT_TRY(vt_schema_plan_steps(st, n, mode, plan, d));
    if (plan->n == 0) {
        return VT_OK;
    }
    VT_ENSURE(mode != VT_SCHEMA_READ, d, VT_E_INTERNAL, "schema", "a read-only plan with steps");
    /* Then again under the lock: another process may have applied the steps meanwhile. */
    VT_TRY(vt_store_begin(s, d));
    enum vt_err err = VT_OK;
    if (vt_store_backend(s) == VT_STORE_POSTGRES) {
        struct vt_sql_arg a[] = {VT_SQL_I(SCHEMA_LOCK_ID)};
        err = vt_store_exec(s, "SELECT pg_advisory_xact_lock(?)", a, 1, NULL, NULL, NULL, d);
    }
    if (err == VT_OK) {
        err = vt_store_exec(s, schema_table, NULL, 0, NULL, NULL, NULL, d);
    }
    if (err == VT_OK) {
        err = vt_schema_inspect(s, comps, n, st, d);
    }
    if (err == VT_OK) {
        err = vt_schema_plan_steps(st, n, mode, plan, d);
    }
    for (size_t i = 0; err == VT_OK && i < plan->n; i++) {
        err = run_action(s, &plan->a[i], d);
    }
    if (err != VT_OK) {
        vt_store_rollback(s);
        plan->n = 0;
        return err;
    }
    err = vt_store_commit(s, d);
    if (err != VT_OK) {
        plan->n = 0;
    }
    return err;
}

enum vt_err vt_schema_history(struct vt_store *s, vt_row_fn fn, void *ctx, struct vt_diag *d)
{
    bool have = false;
    VT_TRY(table_exists(s, "vt_schema", &have, d));
    if (!have) {
        return VT_OK;
    }
    return vt_store_exec(s,
                         "SELECT component, version, name, applied_at, veritee_version"
                         " FROM vt_schema ORDER BY component, version",
                         NULL, 0, fn, ctx, NULL, d);
}
