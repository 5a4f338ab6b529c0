/*
 * The fleet: every TEE whose evidence the broker verified (docs/broker.md, "The fleet"), one row
 * per TEE type, platform and identity measurement, with what its latest verification said (TCB
 * status, advisories, debug, the collateral's tcbEvaluationDataNumber, its measurements) and when
 * it was first and last seen. The console's Fleet view reads it (GET /admin/v1/fleet). A view,
 * not a record: the audit log stays the record. The row is made from the decision's claims in
 * the request's thread (vt_broker_fleet_note_make) and written inside the decision's log batch,
 * so the two are stored together or not at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/encoding.h"
#include "broker/broker.h"
#include "crypto/crypto.h"

/* The claim naming the platform, per TEE (docs/claims.md), and the workload's identity. */
static const struct {
    const char *tee;
    const char *platform;
    const char *identity;
} kinds[] = {
    {"sgx", "fmspc", "sgx.mrenclave"},
    {"tdx", "fmspc", "tdx.mrtd"},
    {"sev-snp", "chip_id", "snp.measurement"},
    {"nitro", "module_id", "nitro.pcr0"},
};

static const char *str_claim(json_t *c, const char *name)
{
    const char *s = json_string_value(json_object_get(c, name));
    return s != NULL ? s : "";
}

/* The highest tcbEvaluationDataNumber among the collateral documents, 0 for none. */
static json_int_t tcb_eval(json_t *c)
{
    json_t *docs = json_object_get(json_object_get(c, "collateral"), "documents");
    json_int_t best = 0;
    size_t i;
    json_t *doc;
    json_array_foreach(docs, i, doc)
    {
        json_int_t n = json_integer_value(json_object_get(doc, "tcb_eval_num"));
        best = n > best ? n : best;
    }
    return best;
}

enum vt_err vt_broker_fleet_note_make(const char *claims, const char *type, bool allowed,
                                      struct vt_broker_fleet_note **out, struct vt_diag *d)
{
    *out = NULL;
    json_t *c = claims != NULL ? json_loads(claims, 0, NULL) : NULL;
    const char *tee = str_claim(c, "tee");
    size_t k = 0;
    while (k < sizeof(kinds) / sizeof(kinds[0]) && strcmp(kinds[k].tee, tee) != 0) {
        k++;
    }
    if (c == NULL || k == sizeof(kinds) / sizeof(kinds[0])) {
        json_decref(c);
        return VT_OK;
    }
    /* the measurements: the claims of the TEE's namespace ("tdx.", "snp.", ...) */
    char prefix[16];
    snprintf(prefix, sizeof(prefix), "%.*s.",
             (int)(strchr(kinds[k].identity, '.') - kinds[k].identity), kinds[k].identity);
    json_t *meas = json_object();
    const char *name;
    json_t *v;
    json_object_foreach(c, name, v)
    {
        if (strncmp(name, prefix, strlen(prefix)) == 0) {
            json_object_set(meas, name, v);
        }
    }
    struct vt_broker_fleet_note *f = calloc(1, sizeof(*f));
    json_t *adv = json_object_get(c, "advisory_ids");
    json_t *key =
        json_pack("[s,s,s]", tee, str_claim(c, kinds[k].platform), str_claim(c, kinds[k].identity));
    char *key_text = key ? json_dumps(key, JSON_COMPACT) : NULL;
    json_decref(key);
    if (f != NULL) {
        f->tee = kinds[k].tee;
        f->platform_kind = kinds[k].platform;
        f->platform = strdup(str_claim(c, kinds[k].platform));
        f->identity = strdup(str_claim(c, kinds[k].identity));
        f->status = strdup(str_claim(c, "status"));
        f->advisories = json_is_array(adv) ? json_dumps(adv, JSON_COMPACT) : strdup("[]");
        f->debug = json_is_true(json_object_get(c, "debug"));
        f->tcb_eval = tcb_eval(c);
        f->measurements = json_dumps(meas, JSON_COMPACT | JSON_SORT_KEYS);
        snprintf(f->last_decision, sizeof(f->last_decision), "%s %s", type,
                 allowed ? "allow" : "deny");
    }
    enum vt_err err = VT_OK;
    if (f == NULL || key_text == NULL || f->platform == NULL || f->identity == NULL ||
        f->status == NULL || f->advisories == NULL || f->measurements == NULL) {
        vt_broker_fleet_note_free(f);
        err = vt_fail(d, VT_E_NOMEM, "fleet", "cannot encode the fleet row");
    } else {
        uint8_t h[VT_SHA256_LEN];
        vt_sha256(key_text, strlen(key_text), h);
        vt_hex_encode(h, 16, f->id);
        *out = f;
    }
    free(key_text);
    json_decref(meas);
    json_decref(c);
    return err;
}

void vt_broker_fleet_note_free(struct vt_broker_fleet_note *f)
{
    if (f != NULL) {
        free(f->platform);
        free(f->identity);
        free(f->status);
        free(f->advisories);
        free(f->measurements);
        free(f);
    }
}

enum vt_err vt_broker_fleet_upsert(struct vt_broker *b, const struct vt_broker_fleet_note *f,
                                   int64_t now, struct vt_diag *d)
{
    struct vt_sql_arg a[] = {VT_SQL_T(f->id),
                             VT_SQL_T(f->tee),
                             VT_SQL_T(f->platform_kind),
                             VT_SQL_T(f->platform),
                             VT_SQL_T(f->identity),
                             VT_SQL_T(f->status),
                             VT_SQL_T(f->advisories),
                             VT_SQL_I(f->debug ? 1 : 0),
                             VT_SQL_I(f->tcb_eval),
                             VT_SQL_T(f->measurements),
                             VT_SQL_I(now),
                             VT_SQL_I(now),
                             VT_SQL_T(f->last_decision)};
    return vt_store_exec(b->store,
                         "INSERT INTO vb_fleet(id, tee, platform_kind, platform, identity, status,"
                         " advisories, debug, tcb_eval, measurements, first_seen, last_seen,"
                         " seen, last_decision) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,1,?)"
                         " ON CONFLICT(id) DO UPDATE SET status = excluded.status,"
                         " advisories = excluded.advisories, debug = excluded.debug,"
                         " tcb_eval = excluded.tcb_eval, measurements = excluded.measurements,"
                         " last_seen = excluded.last_seen, seen = vb_fleet.seen + 1,"
                         " last_decision = excluded.last_decision",
                         a, sizeof(a) / sizeof(a[0]), NULL, NULL, NULL, d);
}

static bool row_fleet(void *ctx, const struct vt_sql_row *row)
{
    json_t *adv = json_loads(vt_row_text(row, 6), 0, NULL);
    json_t *meas = json_loads(vt_row_text(row, 9), 0, NULL);
    char first[VT_TIME_STR_MAX], last[VT_TIME_STR_MAX];
    vt_time_format((vt_time)vt_row_int(row, 10), first);
    vt_time_format((vt_time)vt_row_int(row, 11), last);
    json_t *o = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:b,s:I,s:o,s:s,s:s,s:I,s:s}", "id", vt_row_text(row, 0),
        "tee", vt_row_text(row, 1), "platform_kind", vt_row_text(row, 2), "platform",
        vt_row_text(row, 3), "identity", vt_row_text(row, 4), "status", vt_row_text(row, 5),
        "advisory_ids", adv ? adv : json_array(), "debug", vt_row_int(row, 7) != 0, "tcb_eval",
        (json_int_t)vt_row_int(row, 8), "measurements", meas ? meas : json_object(), "first_seen",
        first, "last_seen", last, "seen", (json_int_t)vt_row_int(row, 12), "last_decision",
        vt_row_text(row, 13));
    if (o != NULL) {
        json_array_append_new(ctx, o);
    }
    return true;
}

enum vt_err vt_broker_fleet(struct vt_broker *b, uint64_t limit, char **json, struct vt_diag *d)
{
    json_t *arr = json_array();
    struct vt_sql_arg a[] = {VT_SQL_I((int64_t)(limit > 10000 ? 10000 : limit))};
    enum vt_err err =
        vt_store_exec(b->store,
                      "SELECT id, tee, platform_kind, platform, identity, status, advisories,"
                      " debug, tcb_eval, measurements, first_seen, last_seen, seen,"
                      " last_decision FROM vb_fleet ORDER BY last_seen DESC, id LIMIT ?",
                      a, 1, row_fleet, arr, NULL, d);
    *json = err == VT_OK && arr != NULL ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (err == VT_OK && *json == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "fleet", "no memory");
    }
    return err;
}
