/*
 * Schema versions and migrations (docs/deploy.md, "Upgrading").
 *
 * A database holds components, each with its own tables and its own version: "core" (vt_meta,
 * vt_tokens: shared by the cache and the broker), "cache" (vt_items, ...), "broker" (vb_*) and
 * "kms" (vk_*: the AWS KMS drop-in, src/kms), "keyvault" (kv_*: the Key Vault drop-in,
 * src/azure/kv*.c), "maa" (vm_*: the Azure Attestation drop-in, src/azure/maa*.c).
 * A component's version N is the state after its steps 1..N (migrations.c). The table vt_schema
 * records one row per step applied (component, version, name, applied_at, veritee_version); a
 * component's version is its highest row. A database with a component's version-1 tables and no
 * row (made before versions were recorded) is at version 1 and is adopted: step 1 (which only
 * creates what is missing) runs again and the row is written.
 *
 * vt_schema_apply brings the named components to this binary's versions in one transaction
 * (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock, so that replicas
 * starting together migrate once: the others wait, then find the steps applied). A component
 * newer than this binary is refused. Steps only add (tables, columns, indexes, rows); none drops
 * or deletes data, and none may ever be edited once released: a change is a new step.
 */
#ifndef VT_STORE_SCHEMA_H
#define VT_STORE_SCHEMA_H

#include "store/store.h"

/* One step of a component: SQL statements separated by ';' ("BLOB" becomes "BYTEA" on
 * PostgreSQL; no ';' inside literals), then run (may be NULL) for what SQL alone cannot do. */
struct vt_schema_step {
    const char *name; /* what it does, one line (veritee db status, db migrate --dry-run) */
    const char *sql;
    enum vt_err (*run)(struct vt_store *s, struct vt_diag *d);
};

struct vt_schema_component {
    const char *name;  /* "core", "cache", "broker": at most VT_SCHEMA_NAME_MAX - 1 characters */
    const char *probe; /* a table of version 1: present without a vt_schema row = version 1 */
    const struct vt_schema_step *steps; /* steps[i] takes the component to version i + 1 */
    size_t n_steps;                     /* this binary's version of the component */
};

/* veritee's components (migrations.c), in the order they are applied. */
extern const struct vt_schema_component vt_schema_core, vt_schema_cache, vt_schema_broker,
    vt_schema_kms, vt_schema_keyvault, vt_schema_maa;
extern const struct vt_schema_component *const vt_schema_all[6];
#define VT_SCHEMA_ALL_N (sizeof(vt_schema_all) / sizeof(vt_schema_all[0]))

#define VT_SCHEMA_NAME_MAX 32
#define VT_SCHEMA_MAX_COMPONENTS 8
#define VT_SCHEMA_MAX_STEPS 64

/* A component in a database. */
struct vt_schema_state {
    const struct vt_schema_component *comp;
    int64_t version; /* 0: absent (neither row nor tables); 1 for unrecorded version-1 tables */
    bool recorded;   /* version comes from a vt_schema row */
    char by[32];     /* the veritee_version of that row ("" if none) */
    int64_t at;      /* its applied_at (0 if none) */
};

/* What opening the database may do. */
enum vt_schema_mode {
    VT_SCHEMA_MIGRATE = 0, /* create absent components, adopt, migrate older ones */
    VT_SCHEMA_CREATE,      /* create absent components and adopt; refuse older ones */
    VT_SCHEMA_READ,        /* write nothing: every component present and at this version */
};

/* What applying does to one component: create it (steps 1..N), adopt its unrecorded version-1
 * tables (step 1 again, then recorded), or migrate it (each step above its version). */
enum vt_schema_action_kind { VT_SCHEMA_ACT_CREATE, VT_SCHEMA_ACT_ADOPT, VT_SCHEMA_ACT_MIGRATE };

struct vt_schema_action {
    const struct vt_schema_component *comp;
    size_t version; /* the step's: 1 to comp->n_steps */
    enum vt_schema_action_kind kind;
};

struct vt_schema_plan {
    struct vt_schema_action a[VT_SCHEMA_MAX_COMPONENTS * VT_SCHEMA_MAX_STEPS];
    size_t n;
};

const char *vt_schema_action_name(enum vt_schema_action_kind k); /* "create", "adopt", "migrate" */

/* The state of each of comps[0..n) in the database; writes nothing. */
VT_MUST_USE enum vt_err vt_schema_inspect(struct vt_store *s,
                                          const struct vt_schema_component *const *comps, size_t n,
                                          struct vt_schema_state *out, struct vt_diag *d);

/* The steps that would bring the states to this binary's versions, for mode. Errors (check
 * names): "schema.newer" (VT_E_UNSUPPORTED_VERSION) for a component newer than this binary,
 * "schema.pending" (VT_E_STATE) for one older outside VT_SCHEMA_MIGRATE, "schema.absent"
 * (VT_E_NOT_FOUND) for one missing in VT_SCHEMA_READ. */
VT_MUST_USE enum vt_err vt_schema_plan_steps(const struct vt_schema_state *st, size_t n,
                                             enum vt_schema_mode mode, struct vt_schema_plan *plan,
                                             struct vt_diag *d);

/* Bring comps[0..n) to this binary's versions as mode allows, in one transaction; done (may be
 * NULL) gets what was applied (nothing when the database was current). A failing step rolls
 * everything back: "schema.step" with the step and the backend's message. */
VT_MUST_USE enum vt_err vt_schema_apply(struct vt_store *s,
                                        const struct vt_schema_component *const *comps, size_t n,
                                        enum vt_schema_mode mode, struct vt_schema_plan *done,
                                        struct vt_diag *d);

/* The statements of a step as they would run on backend b, one per call of fn (dry runs). */
VT_MUST_USE enum vt_err vt_schema_step_sql(const struct vt_schema_step *step,
                                           enum vt_store_backend b,
                                           bool (*fn)(void *ctx, const char *stmt), void *ctx,
                                           struct vt_diag *d);

/* The rows of vt_schema in (component, version) order, as (component, version, name,
 * applied_at, veritee_version); none if the table does not exist. */
VT_MUST_USE enum vt_err vt_schema_history(struct vt_store *s, vt_row_fn fn, void *ctx,
                                          struct vt_diag *d);

#endif
