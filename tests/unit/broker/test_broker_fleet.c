/*
 * The fleet (src/broker/broker_fleet.c, GET /admin/v1/fleet): one row per TEE type, platform and
 * identity measurement whose evidence verified, updated by each decision on it (attestations
 * allowed or denied by policy), never by evidence that does not verify; the endpoint's reject
 * paths (no token, a wrong token, another scheme, a bad limit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker_harness.h"
#include "crypto/jose.h"

/* POST /v1/attest of tee's simulated evidence (variant: VT_BSIM_*): the status. */
static long attest(struct bh *h, enum vt_tee tee, unsigned variant)
{
    char nonce[64];
    uint8_t raw[32];
    assert_true(bh_challenge(h, nonce, raw));
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_jwk *key = NULL;
    assert_int_equal(vt_jwk_generate("P-256", &key, &d), VT_OK);
    json_t *body = bh_attest_body(h, tee, nonce, raw, key, variant);
    char *text = json_dumps(body, JSON_COMPACT);
    long st = bh_call(h, "POST", "/v1/attest", text, NULL, NULL, NULL);
    free(text);
    json_decref(body);
    vt_jwk_free(key);
    return st;
}

static json_t *fleet(struct bh *h, const char *query)
{
    char path[96];
    snprintf(path, sizeof(path), "/admin/v1/fleet%s", query);
    json_t *o = NULL;
    assert_int_equal(bh_call(h, "GET", path, NULL, h->admin, &o, NULL), 200);
    assert_true(json_is_array(o));
    return o;
}

static json_t *row_of(json_t *arr, const char *tee, bool debug)
{
    size_t i;
    json_t *r;
    json_array_foreach(arr, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "tee")), tee) == 0 &&
            json_is_true(json_object_get(r, "debug")) == debug) {
            return r;
        }
    }
    return NULL;
}

static void test_fleet_rows(void **state)
{
    (void)state;
    struct bh *h = bh_start(vt_time_now(), "", 300, 600, NULL);
    assert_non_null(h);
    json_t *o = fleet(h, "");
    assert_int_equal(json_array_size(o), 0);
    json_decref(o);

    assert_int_equal(attest(h, VT_TEE_SGX, 0), 200);
    assert_int_equal(attest(h, VT_TEE_SGX, 0), 200);
    assert_int_equal(attest(h, VT_TEE_TDX, 0), 200);
    long st = attest(h, VT_TEE_SGX, VT_BSIM_DEBUG); /* denied by the default policy */
    assert_true(st == 401 || st == 403);
    assert_true(attest(h, VT_TEE_TDX, VT_BSIM_CORRUPT) != 200); /* does not verify */

    /* two rows: the SGX enclave (its debug run has the same MRENCLAVE: the same TEE, and the
     * row shows its latest verification) and the TD */
    o = fleet(h, "");
    assert_int_equal(json_array_size(o), 2);
    json_t *sgx = row_of(o, "sgx", true);
    assert_non_null(sgx);
    assert_int_equal(json_integer_value(json_object_get(sgx, "seen")), 3);
    assert_string_equal(json_string_value(json_object_get(sgx, "status")), "UpToDate");
    assert_string_equal(json_string_value(json_object_get(sgx, "platform_kind")), "fmspc");
    assert_int_equal(strlen(json_string_value(json_object_get(sgx, "platform"))), 12);
    assert_string_equal(json_string_value(json_object_get(sgx, "last_decision")), "attest deny");
    json_t *meas = json_object_get(sgx, "measurements");
    assert_string_equal(json_string_value(json_object_get(meas, "sgx.mrenclave")),
                        json_string_value(json_object_get(sgx, "identity")));
    assert_null(json_object_get(meas, "report_data")); /* the TEE's namespace only */
    assert_true(json_integer_value(json_object_get(sgx, "tcb_eval")) > 0);
    json_t *tdx = row_of(o, "tdx", false);
    assert_non_null(tdx);
    /* the corrupt evidence did not verify: not counted */
    assert_int_equal(json_integer_value(json_object_get(tdx, "seen")), 1);
    assert_string_equal(json_string_value(json_object_get(tdx, "last_decision")), "attest allow");
    assert_non_null(json_object_get(json_object_get(tdx, "measurements"), "tdx.mrtd"));
    /* the most recently seen first */
    assert_true(strcmp(json_string_value(json_object_get(json_array_get(o, 0), "last_seen")),
                       json_string_value(json_object_get(json_array_get(o, 1), "last_seen"))) >= 0);
    json_decref(o);

    /* another enclave on the same platform is another TEE */
    assert_int_equal(attest(h, VT_TEE_SGX, VT_BSIM_OTHER_CODE), 200);
    o = fleet(h, "");
    assert_int_equal(json_array_size(o), 3);
    json_decref(o);

    o = fleet(h, "?limit=1");
    assert_int_equal(json_array_size(o), 1);
    json_decref(o);
    bh_stop(h);
}

/* A decision's row, made from its claims: nothing for claims that are not JSON or of no known
 * TEE; the platform, identity, status, advisories, eval number and namespace's measurements. */
static void test_fleet_note_make(void **state)
{
    (void)state;
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_broker_fleet_note *f = (struct vt_broker_fleet_note *)1;
    assert_int_equal(vt_broker_fleet_note_make("not json", "attest", true, &f, &d), VT_OK);
    assert_null(f);
    assert_int_equal(vt_broker_fleet_note_make(NULL, "attest", true, &f, &d), VT_OK);
    assert_null(f);
    assert_int_equal(vt_broker_fleet_note_make("{\"tee\":\"other\"}", "attest", true, &f, &d),
                     VT_OK);
    assert_null(f);
    const char *claims =
        "{\"tee\":\"sgx\",\"fmspc\":\"00906ed50000\",\"sgx.mrenclave\":\"aa\","
        "\"sgx.isvsvn\":3,\"tdx.mrtd\":\"ignored\",\"status\":\"OutOfDate\","
        "\"advisory_ids\":[\"INTEL-SA-00001\"],\"debug\":true,"
        "\"collateral\":{\"documents\":[{\"tcb_eval_num\":16},{\"tcb_eval_num\":17}]}}";
    assert_int_equal(vt_broker_fleet_note_make(claims, "release", false, &f, &d), VT_OK);
    assert_non_null(f);
    assert_string_equal(f->tee, "sgx");
    assert_string_equal(f->platform_kind, "fmspc");
    assert_string_equal(f->platform, "00906ed50000");
    assert_string_equal(f->identity, "aa");
    assert_string_equal(f->status, "OutOfDate");
    assert_string_equal(f->advisories, "[\"INTEL-SA-00001\"]");
    assert_true(f->debug);
    assert_int_equal(f->tcb_eval, 17);
    assert_string_equal(f->measurements, "{\"sgx.isvsvn\":3,\"sgx.mrenclave\":\"aa\"}");
    assert_string_equal(f->last_decision, "release deny");
    assert_int_equal(strlen(f->id), 32);
    vt_broker_fleet_note_free(f);
    vt_broker_fleet_note_free(NULL);
}

static void test_fleet_rejects(void **state)
{
    (void)state;
    struct bh *h = bh_start(vt_time_now(), "", 300, 600, NULL);
    assert_non_null(h);
    char wrong[80];
    snprintf(wrong, sizeof(wrong), "%.*sx", (int)strlen(h->admin) - 1, h->admin);
    char *raw = NULL;
    assert_int_equal(bh_call(h, "GET", "/admin/v1/fleet", NULL, NULL, NULL, &raw), 401);
    assert_non_null(strstr(raw, "admin bearer token"));
    free(raw);
    assert_int_equal(bh_call(h, "GET", "/admin/v1/fleet", NULL, wrong, NULL, NULL), 401);
    assert_int_equal(bh_call(h, "GET", "/admin/v1/fleet?limit=ten", NULL, h->admin, NULL, &raw),
                     400);
    assert_non_null(strstr(raw, "limit is a decimal number"));
    free(raw);
    assert_int_equal(bh_call(h, "GET", "/admin/v1/fleet?limit=-1", NULL, h->admin, NULL, NULL),
                     400);
    assert_int_equal(bh_call(h, "POST", "/admin/v1/fleet", "{}", h->admin, NULL, NULL), 405);
    bh_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fleet_rows),
        cmocka_unit_test(test_fleet_rejects),
        cmocka_unit_test(test_fleet_note_make),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
