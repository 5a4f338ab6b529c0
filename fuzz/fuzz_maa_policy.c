/*
 * Fuzz vt_maa_policy_compile, and vt_maa_policy_eval on what compiles, over fixed claim sets (an
 * SGX enclave's claims with multi-valued and custom claims, an empty set, and one claim of each
 * kind under every issuer).
 * Invariants: a failure leaves no policy and records its code under the check "maa.policy" with
 * "line L, column C: " leading the detail (except the size check); evaluation succeeds or stops
 * at a documented bound (VT_E_TOO_LARGE), is deterministic, leaves the incoming set unchanged,
 * and its result has the documented shape: permitted with an array of issued claims {type,
 * value, issuer: "AttestationPolicy"} and no reason, or not permitted with no claims and a
 * reason; the properties are an object of claim values either way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "azure/maa_policy.h"

static void require(int cond)
{
    if (!cond) {
        abort();
    }
}

static const char *const claim_sets[] = {
    "[{\"type\":\"x-ms-sgx-is-debuggable\",\"value\":false},"
    "{\"type\":\"x-ms-sgx-product-id\",\"value\":7},"
    "{\"type\":\"x-ms-sgx-svn\",\"value\":3},"
    "{\"type\":\"x-ms-sgx-mrsigner\",\"value\":\"5ab2c4f1e0d9a8b7\"},"
    "{\"type\":\"x-ms-sgx-mrenclave\",\"value\":\"00ff\"},"
    "{\"type\":\"x-ms-attestation-type\",\"value\":\"sgx\"},"
    "{\"type\":\"pcr\",\"value\":\"a\"},{\"type\":\"pcr\",\"value\":\"b\"},"
    "{\"type\":\"pcr\",\"value\":\"a\"},"
    "{\"type\":\"OSName\",\"value\":\"Linux\",\"issuer\":\"CustomClaim\"},"
    "{\"type\":\"OSName\",\"value\":\"Linux\",\"issuer\":\"AttestationService\"},"
    "{\"type\":\"neg\",\"value\":-9223372036854775808},"
    "{\"type\":\"max\",\"value\":9223372036854775807},"
    "{\"type\":\"u\",\"value\":\"caf\\u00e9 \\\"q\\\" \\\\\"}]",
    "[]",
    "[{\"type\":\"a\",\"value\":\"1\",\"issuer\":\"AttestationPolicy\"},"
    "{\"type\":\"a\",\"value\":1,\"issuer\":\"CustomClaim\"},"
    "{\"type\":\"a\",\"value\":true},{\"type\":\"b\",\"value\":\"\"}]",
};

static void check_result(const struct vt_maa_policy_result *r)
{
    require(json_is_object(r->properties));
    const char *key;
    json_t *v;
    json_object_foreach(r->properties, key, v)
    {
        require(key[0] != '\0');
        require(json_is_string(v) || json_is_integer(v) || json_is_boolean(v));
    }
    if (!r->permitted) {
        require(r->issued == NULL);
        require(r->reason[0] != '\0');
        return;
    }
    require(r->reason[0] == '\0');
    require(json_is_array(r->issued));
    size_t i;
    json_t *c;
    json_array_foreach(r->issued, i, c)
    {
        require(json_object_size(c) == 3);
        json_t *type = json_object_get(c, "type");
        require(json_is_string(type) && json_string_length(type) > 0);
        json_t *value = json_object_get(c, "value");
        require(json_is_string(value) || json_is_integer(value) || json_is_boolean(value));
        require(strcmp(json_string_value(json_object_get(c, "issuer")), "AttestationPolicy") == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_maa_policy *p = (struct vt_maa_policy *)&p;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_maa_policy_compile((const char *)data, size, &p, &d);
    if (err != VT_OK) {
        require(p == NULL);
        require(d.code == err);
        require(strcmp(d.check, "maa.policy") == 0);
        require(err == VT_E_MALFORMED || err == VT_E_UNSUPPORTED || err == VT_E_TOO_LARGE ||
                err == VT_E_NOMEM);
        require(strncmp(d.detail, "line ", 5) == 0 ||
                (err == VT_E_TOO_LARGE && size > VT_MAA_POLICY_MAX_SIZE));
        return 0;
    }
    require(p != NULL);
    for (size_t k = 0; k < sizeof(claim_sets) / sizeof(claim_sets[0]); k++) {
        json_t *in = json_loads(claim_sets[k], 0, NULL);
        require(in != NULL);
        json_t *copy = json_deep_copy(in);
        require(copy != NULL);
        struct vt_maa_policy_result a, b;
        enum vt_err ea = vt_maa_policy_eval(p, in, &a, &d);
        enum vt_err eb = vt_maa_policy_eval(p, in, &b, NULL);
        require(ea == eb);
        require(json_equal(in, copy));
        if (ea == VT_OK) {
            check_result(&a);
            require(a.permitted == b.permitted);
            require(strcmp(a.reason, b.reason) == 0);
            require((a.issued == NULL) == (b.issued == NULL));
            require(a.issued == NULL || json_equal(a.issued, b.issued));
            require(json_equal(a.properties, b.properties));
        } else {
            require(ea == VT_E_TOO_LARGE || ea == VT_E_NOMEM);
            require(strcmp(d.check, "maa.policy.eval") == 0 && d.detail[0] != '\0');
            require(a.issued == NULL && a.properties == NULL && !a.permitted);
        }
        vt_maa_policy_result_cleanup(&a);
        vt_maa_policy_result_cleanup(&b);
        json_decref(copy);
        json_decref(in);
    }
    vt_maa_policy_free(p);
    return 0;
}
