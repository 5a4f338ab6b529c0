/*
 * The cache's admin endpoints the console reads (docs/console.md), over HTTP on a real SQLite
 * store: GET /admin/v1/recoveries (the tcbEvaluationDataNumbers held per TEE and FMSPC, the one
 * enforced and from when, those scheduled) and GET /admin/v1/status (the store, this replica, the
 * refresher, each upstream's last success and failure, the outage) and GET /admin/v1/platforms
 * (the platforms recorded, with their TCB status and advisories under the number in force), each
 * refused without a token,
 * with a wrong one, with a read token and with another scheme; other methods 405.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cache/cache.h"

#define T0 1771600000
#define TDX_STD "/tdx/certification/v4/tcb?fmspc=90c06f000000&update=standard"
#define TDX_EARLY "/tdx/certification/v4/tcb?fmspc=90c06f000000&update=early"
#define SGX_STD "/sgx/certification/v4/tcb?fmspc=00906ed50000&update=standard"

struct fx {
    char dir[64];
    struct vt_cache *c;
    struct vt_http_server *srv;
    char url[64], admin[64], reader[64];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/vt-cache-admin-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char db[128];
    snprintf(db, sizeof(db), "sqlite:%s/cache.db", f->dir);
    struct vt_cache_config cfg = {.db = db, .mode = VT_CACHE_OFFLINE, .clock_base = T0};
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cache_open(&cfg, &f->c, &d), VT_OK);
    assert_int_equal(vt_cache_token_create(f->c, "admin", "ops", f->admin, &d), VT_OK);
    assert_int_equal(vt_cache_token_create(f->c, "read", "verifiers", f->reader, &d), VT_OK);
    struct vt_http_server_opts so = {
        .host = "127.0.0.1", .threads = 2, .route = vt_cache_http_route};
    assert_int_equal(vt_http_server_start(&so, vt_cache_http_handler, f->c, &f->srv, &d), VT_OK);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u", vt_http_server_port(f->srv));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    vt_http_server_stop(f->srv);
    vt_cache_close(f->c);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* method path with the header (NULL: none); the status, the body parsed into *out if asked. */
static long call(struct fx *f, const char *method, const char *path, const char *header,
                 json_t **out)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", f->url, path);
    const char *hdrs[2] = {header, NULL};
    struct vt_http_request_opts o = {.timeout_ms = 30000, .method = method, .headers = hdrs};
    struct vt_http_response r;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_http_request(url, &o, &r, &d) != VT_OK) {
        fail_msg("%s: %s", url, d.detail);
    }
    if (out != NULL) {
        *out = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
    }
    long st = r.status;
    vt_http_response_cleanup(&r);
    return st;
}

static void bearer(char *buf, size_t cap, const char *token)
{
    snprintf(buf, cap, "Authorization: Bearer %s", token);
}

static void put(struct fx *f, const char *key, enum vt_tee tee, const char *fmspc, int64_t eval)
{
    struct vt_cache_item it;
    memset(&it, 0, sizeof(it));
    snprintf(it.key, sizeof(it.key), "%s", key);
    it.kind = VT_DOC_TCB_INFO;
    it.tee = tee;
    snprintf(it.fmspc, sizeof(it.fmspc), "%s", fmspc);
    it.eval_num = eval;
    snprintf(it.content_type, sizeof(it.content_type), "application/json");
    it.headers = (char *)"";
    char body[64];
    snprintf(body, sizeof(body), "{\"eval\":%lld}", (long long)eval);
    it.body = (uint8_t *)body;
    it.body_len = strlen(body);
    it.next_update = T0 + 86400;
    bool kept;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cache_put(f->c, &it, &kept, &d), VT_OK);
}

/* Every admin path the console reads refuses no token, a wrong one, a read token, Basic. */
static void test_admin_needs_the_admin_token(void **state)
{
    struct fx *f = *state;
    const char *paths[] = {"/admin/v1/recoveries", "/admin/v1/status", "/admin/v1/platforms"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        char h[128];
        assert_int_equal(call(f, "GET", paths[i], NULL, NULL), 401);
        char wrong[64];
        snprintf(wrong, sizeof(wrong), "%s", f->admin);
        wrong[6] = wrong[6] == 'a' ? 'b' : 'a';
        bearer(h, sizeof(h), wrong);
        assert_int_equal(call(f, "GET", paths[i], h, NULL), 401);
        bearer(h, sizeof(h), f->reader);
        assert_int_equal(call(f, "GET", paths[i], h, NULL), 401);
        assert_int_equal(call(f, "GET", paths[i], "Authorization: Basic eDp5", NULL), 401);
        bearer(h, sizeof(h), f->admin);
        assert_int_equal(call(f, "GET", paths[i], h, NULL), 200);
        assert_int_equal(call(f, "POST", paths[i], h, NULL), 405);
    }
}

static json_t *platform(json_t *o, const char *tee, const char *fmspc)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(o, "platforms"), i, p)
    {
        if (strcmp(json_string_value(json_object_get(p, "tee")), tee) == 0 &&
            strcmp(json_string_value(json_object_get(p, "fmspc")), fmspc) == 0) {
            return p;
        }
    }
    fail_msg("no platform %s %s", tee, fmspc);
    return NULL;
}

static int64_t ival(json_t *o, const char *path)
{
    json_t *v = o;
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
        v = json_is_array(v) ? json_array_get(v, (size_t)strtol(k, NULL, 10))
                             : json_object_get(v, k);
    }
    if (!json_is_integer(v)) {
        fail_msg("%s: not an integer", path);
    }
    return json_integer_value(v);
}

static void test_recoveries(void **state)
{
    struct fx *f = *state;
    char h[128];
    bearer(h, sizeof(h), f->admin);
    json_t *o = NULL;
    /* nothing held, nothing enforced */
    assert_int_equal(call(f, "GET", "/admin/v1/recoveries", h, &o), 200);
    assert_int_equal(json_array_size(json_object_get(o, "platforms")), 0);
    assert_true(json_is_null(
        json_object_get(json_object_get(json_object_get(o, "tees"), "tdx"), "enforced")));
    json_decref(o);

    /* TDX: 17 then 18 by default (17 kept by number), 19 early; SGX: 16 */
    put(f, TDX_STD, VT_TEE_TDX, "90c06f000000", 17);
    put(f, TDX_STD, VT_TEE_TDX, "90c06f000000", 18);
    put(f, TDX_EARLY, VT_TEE_TDX, "90c06f000000", 19);
    put(f, SGX_STD, VT_TEE_SGX, "00906ed50000", 16);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cache_enforce(f->c, VT_TEE_TDX, 16, T0 - 100, &d), VT_OK);
    assert_int_equal(vt_cache_enforce(f->c, VT_TEE_TDX, 17, T0 - 10, &d), VT_OK);
    assert_int_equal(vt_cache_enforce(f->c, VT_TEE_TDX, 18, T0 + 86400, &d), VT_OK);
    assert_int_equal(vt_cache_enforce(f->c, VT_TEE_TDX, 20, T0 + 2 * 86400, &d), VT_OK);

    assert_int_equal(call(f, "GET", "/admin/v1/recoveries", h, &o), 200);
    assert_non_null(o);
    json_t *tdx = json_object_get(json_object_get(o, "tees"), "tdx");
    assert_int_equal(ival(tdx, "enforced.tcb_eval"), 17);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(tdx, "enforced"), "from")),
        "2026-02-20T15:06:30Z");
    assert_int_equal(json_array_size(json_object_get(tdx, "scheduled")), 2);
    assert_int_equal(ival(tdx, "scheduled.0.tcb_eval"), 18);
    assert_int_equal(ival(tdx, "scheduled.1.tcb_eval"), 20);
    assert_int_equal(json_array_size(json_object_get(tdx, "superseded")), 1);
    assert_int_equal(ival(tdx, "superseded.0.tcb_eval"), 16);
    json_t *sgx = json_object_get(json_object_get(o, "tees"), "sgx");
    assert_true(json_is_null(json_object_get(sgx, "enforced")));
    assert_int_equal(json_array_size(json_object_get(sgx, "scheduled")), 0);

    json_t *p = platform(o, "tdx", "90c06f000000");
    json_t *held = json_object_get(p, "held");
    assert_int_equal(json_array_size(held), 3);
    assert_int_equal(ival(p, "held.0"), 17);
    assert_int_equal(ival(p, "held.1"), 18);
    assert_int_equal(ival(p, "held.2"), 19);
    assert_int_equal(ival(p, "standard"), 18);
    assert_int_equal(ival(p, "early"), 19);
    assert_int_equal(ival(p, "newest"), 19);
    assert_int_equal(ival(p, "served"), 17); /* enforced, not the newest standard */
    assert_int_equal(ival(p, "enforced.tcb_eval"), 17);
    assert_true(json_is_true(json_object_get(json_object_get(p, "enforced"), "held")));
    assert_int_equal(ival(p, "scheduled.0.tcb_eval"), 18);
    assert_true(
        json_is_true(json_object_get(json_array_get(json_object_get(p, "scheduled"), 0), "held")));
    assert_int_equal(ival(p, "scheduled.1.tcb_eval"), 20);
    assert_true(
        json_is_false(json_object_get(json_array_get(json_object_get(p, "scheduled"), 1), "held")));

    p = platform(o, "sgx", "00906ed50000");
    assert_int_equal(ival(p, "served"), 16); /* no enforcement: the newest standard */
    assert_true(json_is_null(json_object_get(p, "enforced")));
    assert_true(json_is_null(json_object_get(p, "early")));
    assert_int_equal(json_array_size(json_object_get(p, "scheduled")), 0);
    json_decref(o);
}

/* An upstream that has nothing: 404 to everything. */
static void upstream_404(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    (void)ctx;
    (void)req;
    vt_http_resp_status(resp, 404, "text/plain");
}

static void test_status(void **state)
{
    struct fx *f = *state;
    struct vt_diag d;
    vt_diag_init(&d);
    /* a lazy cache on the same store: upstream 0 refuses connections, upstream 1 answers 404 */
    struct vt_http_server *up = NULL;
    struct vt_http_server_opts uo = {.host = "127.0.0.1", .threads = 1};
    assert_int_equal(vt_http_server_start(&uo, upstream_404, NULL, &up, &d), VT_OK);
    char up_url[64], db[128];
    snprintf(up_url, sizeof(up_url), "http://127.0.0.1:%u", vt_http_server_port(up));
    snprintf(db, sizeof(db), "sqlite:%s/cache.db", f->dir);
    struct vt_cache_config cfg = {.db = db,
                                  .mode = VT_CACHE_LAZY,
                                  .clock_base = T0,
                                  .n_upstreams = 2,
                                  .upstreams = {"http://127.0.0.1:1", up_url},
                                  .upstream_timeout_ms = 5000,
                                  .retries = 0};
    struct vt_cache *c = NULL;
    assert_int_equal(vt_cache_open(&cfg, &c, &d), VT_OK);

    char *s = vt_cache_status_json(c);
    json_t *o = json_loads(s, 0, NULL);
    free(s);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "store"), "state")),
                        "ok");
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "store"), "backend")),
                        "sqlite");
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "replica"), "mode")),
                        "lazy");
    json_t *ups = json_object_get(o, "upstreams");
    assert_int_equal(json_array_size(ups), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *u = json_array_get(ups, i);
        assert_string_equal(json_string_value(json_object_get(u, "state")), "unused");
        assert_true(json_is_null(json_object_get(u, "last_success")));
    }
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "outage"), "state")),
                        "none");
    assert_true(json_is_null(json_object_get(json_object_get(o, "refresher"), "last_pass")));
    json_decref(o);

    /* one document asked for: upstream 0 fails, upstream 1 answers 404 */
    struct vt_cache_req r;
    assert_int_equal(vt_cache_req_from_key(SGX_STD, &r, &d), VT_OK);
    struct vt_cache_item it;
    unsigned st = 0;
    assert_int_equal(vt_cache_fill(c, &r, &it, &st, &d), VT_E_NOT_FOUND);
    /* a held document past its nextUpdate */
    put(f, TDX_STD, VT_TEE_TDX, "90c06f000000", 17);
    assert_int_equal(vt_store_exec(c->store, "UPDATE vt_items SET next_update = ?",
                                   (struct vt_sql_arg[]){VT_SQL_I(T0 - 3600)}, 1, NULL, NULL, NULL,
                                   &d),
                     VT_OK);
    size_t renewed = 0, failed = 0;
    assert_int_equal(vt_cache_refresh(c, &renewed, &failed, &d), VT_OK);

    s = vt_cache_status_json(c);
    o = json_loads(s, 0, NULL);
    free(s);
    ups = json_object_get(o, "upstreams");
    json_t *u0 = json_array_get(ups, 0), *u1 = json_array_get(ups, 1);
    assert_string_equal(json_string_value(json_object_get(u0, "url")), "http://127.0.0.1:1");
    assert_string_equal(json_string_value(json_object_get(u0, "state")), "failing");
    assert_true(json_is_null(json_object_get(u0, "last_success")));
    assert_string_equal(json_string_value(json_object_get(u0, "last_failure")),
                        "2026-02-20T15:06:40Z");
    assert_true(strlen(json_string_value(json_object_get(u0, "last_error"))) > 0);
    assert_int_equal(json_integer_value(json_object_get(u0, "last_status")), 0);
    assert_true(json_integer_value(json_object_get(u0, "consecutive_failures")) >= 2);
    assert_string_equal(json_string_value(json_object_get(u1, "state")), "ok");
    assert_string_equal(json_string_value(json_object_get(u1, "last_success")),
                        "2026-02-20T15:06:40Z");
    assert_int_equal(json_integer_value(json_object_get(u1, "consecutive_failures")), 0);
    json_t *out = json_object_get(o, "outage");
    assert_string_equal(json_string_value(json_object_get(out, "state")), "some upstreams failing");
    assert_int_equal(json_integer_value(json_object_get(out, "items_past_next_update")), 2);
    assert_int_equal(json_integer_value(json_object_get(out, "oldest_past_next_update_s")), 3600);
    json_t *rf = json_object_get(o, "refresher");
    assert_string_equal(json_string_value(json_object_get(rf, "last_pass")),
                        "2026-02-20T15:06:40Z");
    assert_int_equal(json_integer_value(json_object_get(rf, "last_failed")), (json_int_t)failed);
    assert_true(failed >= 1); /* the held document: no upstream has it */
    assert_false(json_is_true(json_object_get(rf, "running")));
    assert_true(json_is_null(json_object_get(rf, "next_pass")));
    json_decref(o);

    /* the offline cache of the fixture: no upstream, outage "offline" */
    char h[128];
    bearer(h, sizeof(h), f->admin);
    assert_int_equal(call(f, "GET", "/admin/v1/status", h, &o), 200);
    assert_int_equal(json_array_size(json_object_get(o, "upstreams")), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "outage"), "state")),
                        "offline");
    json_decref(o);
    vt_cache_close(c);
    vt_http_server_stop(up);
}

/* A v3 SGX TCB info of fmspc with two levels: components all 3 and PCESVN 13 UpToDate, all 2
 * and PCESVN 11 OutOfDate with two advisories (parsed, not signature-checked: the cache's own
 * store is trusted). */
static void put_sgx_tcb_info(struct fx *f, const char *key, const char *fmspc, int64_t eval)
{
    char comps[2][512];
    for (int l = 0; l < 2; l++) {
        size_t n = 0;
        for (int i = 0; i < 16; i++) {
            n += (size_t)snprintf(comps[l] + n, sizeof(comps[l]) - n, "%s{\"svn\":%d}",
                                  i ? "," : "", 3 - l);
        }
    }
    char body[4096];
    snprintf(body, sizeof(body),
             "{\"tcbInfo\":{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"2026-02-01T00:00:00Z\","
             "\"nextUpdate\":\"2026-03-03T00:00:00Z\",\"fmspc\":\"%s\",\"pceId\":\"0000\","
             "\"tcbType\":0,\"tcbEvaluationDataNumber\":%lld,\"tcbLevels\":["
             "{\"tcb\":{\"sgxtcbcomponents\":[%s],\"pcesvn\":13},\"tcbDate\":"
             "\"2025-11-12T00:00:00Z\",\"tcbStatus\":\"UpToDate\"},"
             "{\"tcb\":{\"sgxtcbcomponents\":[%s],\"pcesvn\":11},\"tcbDate\":"
             "\"2024-08-14T00:00:00Z\",\"tcbStatus\":\"OutOfDate\",\"advisoryIDs\":"
             "[\"INTEL-SA-00960\",\"INTEL-SA-00982\"]}]},"
             "\"signature\":\"%0128d\"}",
             fmspc, (long long)eval, comps[0], comps[1], 0);
    struct vt_cache_item it;
    memset(&it, 0, sizeof(it));
    snprintf(it.key, sizeof(it.key), "%s", key);
    it.kind = VT_DOC_TCB_INFO;
    it.tee = VT_TEE_SGX;
    snprintf(it.fmspc, sizeof(it.fmspc), "%s", fmspc);
    it.eval_num = eval;
    snprintf(it.content_type, sizeof(it.content_type), "application/json");
    it.headers = (char *)"";
    it.body = (uint8_t *)body;
    it.body_len = strlen(body);
    it.next_update = T0 + 86400;
    bool kept;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cache_put(f->c, &it, &kept, &d), VT_OK);
}

static void add_platform(struct fx *f, const char *fmspc, const char *qeid, uint8_t svn,
                         uint16_t pcesvn, const char *source)
{
    struct vt_cache_platform p;
    memset(&p, 0, sizeof(p));
    snprintf(p.fmspc, sizeof(p.fmspc), "%s", fmspc);
    snprintf(p.pceid, sizeof(p.pceid), "0000");
    snprintf(p.qeid, sizeof(p.qeid), "%s", qeid);
    memset(p.components, svn, sizeof(p.components));
    p.pcesvn = pcesvn;
    snprintf(p.source, sizeof(p.source), "%s", source);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cache_platform_add(f->c, &p, &d), VT_OK);
}

static json_t *by_qeid(json_t *o, const char *qeid)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(o, "platforms"), i, p)
    {
        if (strcmp(json_string_value(json_object_get(p, "qeid")), qeid) == 0) {
            return p;
        }
    }
    fail_msg("no platform with QE ID %s", qeid);
    return NULL;
}

#define QE_UP "00000000000000000000000000000001"
#define QE_OLD "00000000000000000000000000000002"
#define QE_TDX "00000000000000000000000000000003"
#define QE_BARE "00000000000000000000000000000004"
#define QE_REG "00000000000000000000000000000005"
#define QE_UP2 "00000000000000000000000000000006"

/* The platforms recorded, each judged under the number in force: UpToDate, OutOfDate with its
 * advisories, an FMSPC whose TDX TCB info is held judged as TDX (its document unparsable here:
 * the error named), a registration without FMSPC and one without TCB components not judged;
 * ?tee= forces the TEE. */
static void test_platforms(void **state)
{
    struct fx *f = *state;
    char h[128];
    bearer(h, sizeof(h), f->admin);
    json_t *o;
    assert_int_equal(call(f, "GET", "/admin/v1/platforms", h, &o), 200);
    assert_int_equal(json_array_size(json_object_get(o, "platforms")), 0);
    assert_int_equal(ival(o, "in_force.sgx"), 0);
    json_decref(o);

    put_sgx_tcb_info(f, SGX_STD, "00906ed50000", 17);
    put(f, TDX_STD, VT_TEE_TDX, "90c06f000000", 17);
    add_platform(f, "00906ed50000", QE_UP, 3, 13, "pckcert");
    add_platform(f, "00906ed50000", QE_UP2, 3, 13, "pckcert"); /* alike: judged once, the same */
    add_platform(f, "00906ed50000", QE_OLD, 2, 11, "registration");
    add_platform(f, "90c06f000000", QE_TDX, 3, 13, "pckcert");
    add_platform(f, "", QE_BARE, 0, 0, "registration");
    /* a registration whose FMSPC its PCK certificate gave, but not its components (PCCS's
     * registration row: the raw CPUSVN only) */
    struct vt_sql_arg reg[] = {VT_SQL_T("reg/" QE_REG "/0000"), VT_SQL_T(QE_REG)};
    struct vt_diag rd;
    vt_diag_init(&rd);
    assert_int_equal(vt_store_exec(f->c->store,
                                   "INSERT INTO vt_platforms(id, fmspc, pceid, qeid, components,"
                                   " pcesvn, enc_ppid, cpusvn, source, first_seen, last_seen)"
                                   " VALUES (?, '90c06f000000', '0000', ?, '', 13, '',"
                                   " '02020202030100050000000000000000', 'registration', 1, 1)",
                                   reg, 2, NULL, NULL, NULL, &rd),
                     VT_OK);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cache_enforce(f->c, VT_TEE_SGX, 17, T0 - 60, &d), VT_OK);

    assert_int_equal(call(f, "GET", "/admin/v1/platforms", h, &o), 200);
    assert_int_equal(json_array_size(json_object_get(o, "platforms")), 6);
    assert_int_equal(ival(o, "in_force.sgx"), 17);
    assert_int_equal(ival(o, "in_force.tdx"), 0);
    json_t *p = by_qeid(o, QE_UP);
    assert_string_equal(json_string_value(json_object_get(p, "tee")), "sgx");
    assert_string_equal(json_string_value(json_object_get(p, "status")), "UpToDate");
    assert_int_equal(ival(p, "tcb_eval"), 17);
    assert_int_equal(json_array_size(json_object_get(p, "advisory_ids")), 0);
    assert_string_equal(json_string_value(json_object_get(p, "source")), "pckcert");
    assert_string_equal(json_string_value(json_object_get(p, "sgx_components")),
                        "03030303030303030303030303030303");
    assert_int_equal(ival(p, "pcesvn"), 13);
    assert_non_null(json_string_value(json_object_get(p, "last_seen")));
    assert_null(json_object_get(p, "error"));
    json_t *p2 = by_qeid(o, QE_UP2);
    assert_string_equal(json_string_value(json_object_get(p2, "status")), "UpToDate");
    assert_int_equal(ival(p2, "tcb_eval"), 17);
    p = by_qeid(o, QE_OLD);
    assert_string_equal(json_string_value(json_object_get(p, "status")), "OutOfDate");
    assert_int_equal(json_array_size(json_object_get(p, "advisory_ids")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(p, "advisory_ids"), 1)),
                        "INTEL-SA-00982");
    assert_string_equal(json_string_value(json_object_get(p, "source")), "registration");
    p = by_qeid(o, QE_TDX);
    assert_string_equal(json_string_value(json_object_get(p, "tee")), "tdx");
    assert_true(json_is_null(json_object_get(p, "status")));
    assert_non_null(strstr(json_string_value(json_object_get(p, "error")), "tcbInfo"));
    p = by_qeid(o, QE_BARE);
    assert_true(json_is_null(json_object_get(p, "status")));
    assert_non_null(strstr(json_string_value(json_object_get(p, "error")), "not judged: no FMSPC"));
    assert_null(json_object_get(p, "tcb_eval"));
    p = by_qeid(o, QE_REG);
    assert_string_equal(json_string_value(json_object_get(p, "tee")), "tdx");
    assert_true(json_is_null(json_object_get(p, "status")));
    assert_non_null(strstr(json_string_value(json_object_get(p, "error")),
                           "not judged: its TCB components are not known"));
    assert_string_equal(json_string_value(json_object_get(p, "cpusvn")),
                        "02020202030100050000000000000000");
    /* the oldest last */
    json_t *all = json_object_get(o, "platforms");
    assert_ptr_equal(json_array_get(all, json_array_size(all) - 1), p);
    json_decref(o);

    /* ?tee=sgx: the TDX FMSPC judged as SGX, whose TCB info the offline cache lacks */
    assert_int_equal(call(f, "GET", "/admin/v1/platforms?tee=sgx&limit=10", h, &o), 200);
    p = by_qeid(o, QE_TDX);
    assert_string_equal(json_string_value(json_object_get(p, "tee")), "sgx");
    assert_true(json_is_null(json_object_get(p, "status")));
    assert_non_null(json_string_value(json_object_get(p, "error")));
    json_decref(o);
    assert_int_equal(call(f, "GET", "/admin/v1/platforms?limit=1", h, &o), 200);
    assert_int_equal(json_array_size(json_object_get(o, "platforms")), 1);
    json_decref(o);

    /* reject paths: a precise 400, nothing listed */
    const char *bad[] = {
        "?tee=sev-snp", "?tee=",     "?tee=SGX",  "?limit=0", "?limit=10001",
        "?limit=abc",   "?limit=-1", "?limit=1x", "?limit=",  "?limit=99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char path[96];
        snprintf(path, sizeof(path), "/admin/v1/platforms%s", bad[i]);
        assert_int_equal(call(f, "GET", path, h, &o), 400);
        const char *detail = json_string_value(json_object_get(o, "detail"));
        assert_non_null(detail);
        assert_non_null(strstr(detail, bad[i][1] == 't' ? "tee must be" : "limit must be"));
        assert_null(json_object_get(o, "platforms"));
        json_decref(o);
    }
    /* the library call refuses what the endpoint cannot send */
    char *s = NULL;
    assert_int_equal(vt_cache_platforms(f->c, VT_TEE_SEV_SNP, 10, &s, &d), VT_E_ARG);
    assert_string_equal(d.check, "tee");
    assert_null(s);
    vt_diag_init(&d);
    assert_int_equal(vt_cache_platforms(f->c, VT_TEE_SGX, 0, &s, &d), VT_E_ARG);
    assert_string_equal(d.check, "limit");
    assert_null(s);
}

/* The replica registry in the status: this cache once registered, marked as itself. */
static void test_status_replicas(void **state)
{
    struct fx *f = *state;
    char h[128];
    bearer(h, sizeof(h), f->admin);
    json_t *o;
    assert_int_equal(call(f, "GET", "/admin/v1/status", h, &o), 200);
    assert_int_equal(json_array_size(json_object_get(o, "replicas")), 0);
    json_decref(o);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_cache_replica_start(f->c, 0, &d), VT_OK);
    assert_int_equal(call(f, "GET", "/admin/v1/status", h, &o), 200);
    json_t *arr = json_object_get(o, "replicas");
    assert_int_equal(json_array_size(arr), 1);
    json_t *r = json_array_get(arr, 0);
    assert_string_equal(json_string_value(json_object_get(r, "role")), "cache");
    assert_true(json_is_true(json_object_get(r, "self")));
    assert_false(json_is_true(json_object_get(r, "stale")));
    assert_int_equal(json_integer_value(json_object_get(r, "pid")), (json_int_t)getpid());
    assert_int_equal(json_integer_value(json_object_get(r, "interval_s")), 5);
    /* on the cache's clock (T0 here), not the system's */
    assert_int_equal(json_integer_value(json_object_get(r, "age_s")), 0);
    assert_string_equal(json_string_value(json_object_get(r, "started")),
                        json_string_value(json_object_get(o, "now")));
    assert_null(json_object_get(r, "log_size"));
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_admin_needs_the_admin_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recoveries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_platforms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_replicas, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
