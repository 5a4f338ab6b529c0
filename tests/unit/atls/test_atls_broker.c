/*
 * Broker-issued attested-TLS certificates (VT_ATLS_BROKER, include/veritee/atls.h), made here
 * with OpenSSL against the header's definition: a good one, a wrong CA, an altered extension,
 * every member check of the appraisal JSON, a policy over its claims; and the verification
 * context: the cache by certificate digest, its expiry, the per-thread last outcome.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "atls_harness.h"

static struct atls_harness H;
static char *sgx_claims; /* claims of a verified SGX certificate */
static EVP_PKEY *ca_key, *other_key;
static X509 *ca_cert, *other_ca, *same_name_ca;

static int setup(void **state)
{
    (void)state;
    ah_setup(&H);
    size_t len = 0;
    uint8_t *der = ah_make(&H, AH_SGX, &(struct vt_atls_cert_opts){0}, &len, NULL);
    struct vt_atls_verify_opts o = {.now = vt_time_now()};
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_atls_verify_cert(H.v, der, len, &o, &sgx_claims, NULL, &d), d);
    free(der);
    ca_key = ah_p256();
    other_key = ah_p256();
    ca_cert = ah_x509("broker CA", "broker CA", ca_key, ca_key, true, -3600, 86400 * 30);
    X509_sign(ca_cert, ca_key, EVP_sha256());
    other_ca = ah_x509("other CA", "other CA", other_key, other_key, true, -3600, 86400);
    X509_sign(other_ca, other_key, EVP_sha256());
    same_name_ca = ah_x509("broker CA", "broker CA", other_key, other_key, true, -3600, 86400);
    X509_sign(same_name_ca, other_key, EVP_sha256());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(sgx_claims);
    X509_free(ca_cert);
    X509_free(other_ca);
    X509_free(same_name_ca);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(other_key);
    ah_teardown(&H);
    return 0;
}

static char *appraisal(const char *claims, const char *extra)
{
    char *out = NULL;
    size_t cap = strlen(claims) + 1024;
    out = malloc(cap);
    snprintf(out, cap,
             "{\"v\":1,\"claims\":%s,\"ear\":\"eyJhbGciOiJFUzI1NiJ9.e30.sig\",\"policy\":"
             "\"vault\",\"policy_digest\":"
             "\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\","
             "\"log_index\":3%s}",
             claims, extra);
    return out;
}

/* A workload certificate issued by `issuer` (key signer) carrying json. */
static uint8_t *issue(const char *issuer, EVP_PKEY *signer, const char *json, long from, long to,
                      size_t *len)
{
    EVP_PKEY *wk = ah_p256();
    X509 *x = ah_x509("workload", issuer, wk, signer, false, from, to);
    if (json != NULL) {
        ah_add_utf8_ext(x, VT_ATLS_OID_BROKER, json);
    }
    X509_sign(x, signer, EVP_sha256());
    uint8_t *der = ah_x509_der(x, len);
    X509_free(x);
    EVP_PKEY_free(wk);
    return der;
}

static enum vt_err verify(const uint8_t *der, size_t len, const struct vt_cert_list *cas,
                          const struct vt_policy *p, char **claims, struct vt_diag *d)
{
    struct vt_atls_verify_opts o = {.now = vt_time_now(), .broker_cas = cas, .policy = p};
    enum vt_atls_format f = VT_ATLS_NONE;
    enum vt_err err = vt_atls_verify_cert(NULL, der, len, &o, claims, &f, d);
    assert_int_equal(f, err == VT_OK ? VT_ATLS_BROKER : VT_ATLS_NONE);
    return err;
}

static void test_good(void **state)
{
    (void)state;
    struct vt_cert_list cas;
    ah_list(ca_cert, &cas);
    char *json = appraisal(sgx_claims, "");
    size_t len = 0;
    uint8_t *der = issue("broker CA", ca_key, json, -60, 3600, &len);
    char *claims = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(verify(der, len, &cas, NULL, &claims, &d), d);
    assert_string_equal(claims, sgx_claims);
    free(claims);
    /* a policy over the appraised claims */
    const char *deny = "{\"version\":1,\"rules\":{\"claim\":\"tee\",\"equals\":\"nitro\"}}";
    const char *allow = "{\"version\":1,\"rules\":{\"claim\":\"tee\",\"equals\":\"sgx\"}}";
    struct vt_policy *pd = NULL, *pa = NULL;
    AV_OK(vt_policy_compile(deny, strlen(deny), &pd, &d), d);
    AV_OK(vt_policy_compile(allow, strlen(allow), &pa, &d), d);
    AV_CHECK(verify(der, len, &cas, pd, &claims, &d), d, VT_E_BINDING, "atls.policy");
    assert_null(claims);
    AV_OK(verify(der, len, &cas, pa, &claims, &d), d);
    free(claims);
    vt_policy_free(pd);
    vt_policy_free(pa);
    /* without the policy members */
    free(json);
    free(der);
    size_t cap = strlen(sgx_claims) + 256;
    json = malloc(cap);
    snprintf(json, cap, "{\"v\":1,\"claims\":%s,\"ear\":\"x.y.z\",\"log_index\":0}", sgx_claims);
    der = issue("broker CA", ca_key, json, -60, 3600, &len);
    AV_OK(verify(der, len, &cas, NULL, &claims, &d), d);
    free(claims);
    free(json);
    free(der);
    vt_cert_list_cleanup(&cas);
}

static void test_wrong_ca(void **state)
{
    (void)state;
    char *json = appraisal(sgx_claims, "");
    size_t len = 0;
    uint8_t *der = issue("broker CA", ca_key, json, -60, 3600, &len);
    char *claims = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    /* no CA at all */
    AV_CHECK(verify(der, len, NULL, NULL, &claims, &d), d, VT_E_UNTRUSTED_ROOT, "atls.broker");
    /* another CA */
    struct vt_cert_list cas;
    ah_list(other_ca, &cas);
    AV_CHECK(verify(der, len, &cas, NULL, &claims, &d), d, VT_E_UNTRUSTED_ROOT, "atls.broker");
    vt_cert_list_cleanup(&cas);
    /* a CA of the same name with another key */
    ah_list(same_name_ca, &cas);
    AV_CHECK(verify(der, len, &cas, NULL, &claims, &d), d, VT_E_CERT_SIGNATURE, "atls.broker");
    vt_cert_list_cleanup(&cas);
    free(der);
    /* signed by a non-CA: the trusted "CA" lacks cA=TRUE */
    X509 *leaf_ca = ah_x509("leafy", "leafy", other_key, other_key, false, -60, 3600);
    X509_sign(leaf_ca, other_key, EVP_sha256());
    ah_list(leaf_ca, &cas);
    der = issue("leafy", other_key, json, -60, 3600, &len);
    AV_CHECK(verify(der, len, &cas, NULL, &claims, &d), d, VT_E_CHAIN, "atls.broker");
    vt_cert_list_cleanup(&cas);
    X509_free(leaf_ca);
    free(der);
    free(json);
}

static void test_altered(void **state)
{
    (void)state;
    struct vt_cert_list cas;
    ah_list(ca_cert, &cas);
    char *json = appraisal(sgx_claims, "");
    size_t len = 0;
    uint8_t *der = issue("broker CA", ca_key, json, -60, 3600, &len);
    /* change "sgx" to "tdx" in the signed certificate */
    bool changed = false;
    for (size_t i = 0; i + 5 <= len; i++) {
        if (memcmp(der + i, "\"sgx\"", 5) == 0) {
            memcpy(der + i, "\"tdx\"", 5);
            changed = true;
            break;
        }
    }
    assert_true(changed);
    char *claims = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_CHECK(verify(der, len, &cas, NULL, &claims, &d), d, VT_E_CERT_SIGNATURE, "atls.broker");
    free(der);
    free(json);
    /* expired, not yet valid */
    json = appraisal(sgx_claims, "");
    der = issue("broker CA", ca_key, json, -7200, -3600, &len);
    AV_CHECK(verify(der, len, &cas, NULL, &claims, &d), d, VT_E_EXPIRED, "atls.validity");
    free(der);
    der = issue("broker CA", ca_key, json, 3600, 7200, &len);
    AV_CHECK(verify(der, len, &cas, NULL, &claims, &d), d, VT_E_NOT_YET_VALID, "atls.validity");
    free(der);
    free(json);
    vt_cert_list_cleanup(&cas);
}

static void test_json_members(void **state)
{
    (void)state;
    struct vt_cert_list cas;
    ah_list(ca_cert, &cas);
    char big[4096];
    static const struct {
        const char *json; /* %s: the claims */
        enum vt_err want;
        const char *check;
    } cases[] = {
        {"[1]", VT_E_BAD_JSON, "atls.broker.json"},
        {"{\"v\":1,", VT_E_BAD_JSON, "atls.broker.json"},
        {"{\"v\":1,\"v\":1}", VT_E_BAD_JSON, "atls.broker.json"},
        {"{\"v\":2,\"claims\":%s,\"ear\":\"e\",\"log_index\":1}", VT_E_UNSUPPORTED_VERSION,
         "atls.broker.v"},
        {"{\"claims\":%s,\"ear\":\"e\",\"log_index\":1}", VT_E_MISSING_FIELD, "atls.broker.v"},
        {"{\"v\":1,\"claims\":%s,\"log_index\":1}", VT_E_MISSING_FIELD, "atls.broker.ear"},
        {"{\"v\":1,\"claims\":%s,\"ear\":7,\"log_index\":1}", VT_E_BAD_FIELD, "atls.broker.ear"},
        {"{\"v\":1,\"claims\":%s,\"ear\":\"e\"}", VT_E_MISSING_FIELD, "atls.broker.log_index"},
        {"{\"v\":1,\"claims\":%s,\"ear\":\"e\",\"log_index\":-1}", VT_E_BAD_FIELD,
         "atls.broker.log_index"},
        {"{\"v\":1,\"claims\":%s,\"ear\":\"e\",\"log_index\":1,\"policy\":\"p\"}",
         VT_E_MISSING_FIELD, "atls.broker.policy"},
        {"{\"v\":1,\"claims\":%s,\"ear\":\"e\",\"log_index\":1,\"policy\":\"p\","
         "\"policy_digest\":\"00\"}",
         VT_E_BAD_FIELD, "atls.broker.policy_digest"},
        {"{\"v\":1,\"claims\":%s,\"ear\":\"e\",\"log_index\":1,\"policy\":5,"
         "\"policy_digest\":\"00\"}",
         VT_E_BAD_FIELD, "atls.broker.policy"},
        {"{\"v\":1,\"ear\":\"e\",\"log_index\":1}", VT_E_MISSING_FIELD, "atls.broker.claims"},
        {"{\"v\":1,\"claims\":[],\"ear\":\"e\",\"log_index\":1}", VT_E_BAD_FIELD,
         "atls.broker.claims"},
        {"{\"v\":1,\"claims\":{\"tee\":\"sgxx\"},\"ear\":\"e\",\"log_index\":1}", VT_E_BAD_FIELD,
         "atls.broker.claims"},
        {"{\"v\":1,\"claims\":%s,\"ear\":\"e\",\"log_index\":1,\"extra\":1}", VT_E_BAD_FIELD,
         "atls.broker.member"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *c = cases[i].json;
        const char *p = strstr(c, "%s");
        if (p != NULL) {
            snprintf(big, sizeof(big), "%.*s%s%s", (int)(p - c), c, sgx_claims, p + 2);
        } else {
            snprintf(big, sizeof(big), "%s", c);
        }
        size_t len = 0;
        uint8_t *der = issue("broker CA", ca_key, big, -60, 3600, &len);
        char *claims = NULL;
        struct vt_diag d;
        vt_diag_init(&d);
        AV_CHECK(verify(der, len, &cas, NULL, &claims, &d), d, cases[i].want, cases[i].check);
        assert_null(claims);
        free(der);
    }
    /* no extension at all: not an attested certificate */
    size_t len = 0;
    uint8_t *der = issue("broker CA", ca_key, NULL, -60, 3600, &len);
    char *claims = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_CHECK(verify(der, len, &cas, NULL, &claims, &d), d, VT_E_CERT_EXTENSION, "atls.extension");
    free(der);
    vt_cert_list_cleanup(&cas);
}

/* ---- the context ---- */

static void test_ctx_cache(void **state)
{
    (void)state;
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_atls_verify_opts o = {0};
    struct vt_atls_ctx *c = NULL, *other = NULL;
    AV_CHECK(vt_atls_ctx_new(H.v, &o, -1, &c, &d), d, VT_E_ARG, "atls.ctx");
    AV_OK(vt_atls_ctx_new(H.v, &o, 60, &c, &d), d);
    AV_OK(vt_atls_ctx_new(H.v, &o, 0, &other, &d), d);
    char *claims = NULL;
    AV_CHECK(vt_atls_ctx_last(c, &d, &claims), d, VT_E_STATE, "atls.last");
    size_t len = 0;
    uint8_t *der = ah_make(&H, AH_SNP, &(struct vt_atls_cert_opts){0}, &len, NULL);
    vt_time now = vt_time_now();
    for (int i = 0; i < 3; i++) {
        AV_OK(vt_atls_ctx_verify_der(c, der, len, now, &d), d);
    }
    uint64_t hits = 0, misses = 0;
    vt_atls_ctx_stats(c, &hits, &misses);
    assert_int_equal(misses, 1);
    assert_int_equal(hits, 2);
    AV_OK(vt_atls_ctx_last(c, &d, &claims), d);
    assert_non_null(strstr(claims, "\"tee\":\"sev-snp\""));
    free(claims);
    /* another context on this thread: no outcome through it */
    AV_CHECK(vt_atls_ctx_last(other, &d, &claims), d, VT_E_STATE, "atls.last");
    /* past max_age the entry is verified again; before its insertion time it is not used */
    AV_OK(vt_atls_ctx_verify_der(c, der, len, now + 61, &d), d);
    AV_OK(vt_atls_ctx_verify_der(c, der, len, now + 62, &d), d);
    vt_atls_ctx_stats(c, &hits, &misses);
    assert_int_equal(misses, 2);
    assert_int_equal(hits, 3);
    /* a refused certificate is never cached, and the last outcome says why */
    vt_time later = vt_time_now();
    struct vt_atls_cert_opts old = {.not_before = later - 10, .validity_seconds = 100};
    size_t ol = 0;
    uint8_t *od = ah_make(&H, AH_NITRO, &old, &ol, NULL);
    AV_OK(vt_atls_ctx_verify_der(c, od, ol, later, &d), d);
    for (int i = 0; i < 2; i++) {
        AV_CHECK(vt_atls_ctx_verify_der(c, od, ol, later + 200, &d), d, VT_E_EXPIRED,
                 "atls.validity");
    }
    AV_CHECK(vt_atls_ctx_last(c, &d, &claims), d, VT_E_EXPIRED, "atls.validity");
    assert_null(claims);
    vt_atls_ctx_stats(c, &hits, &misses);
    assert_int_equal(misses, 5);
    /* the callback without a store or a context refuses, and says why */
    assert_int_equal(vt_atls_verify_callback(NULL, c), 0);
    AV_CHECK(vt_atls_ctx_last(c, &d, &claims), d, VT_E_BAD_CERT, "atls.callback");
    assert_int_equal(vt_atls_verify_callback(NULL, NULL), 0);
    AV_CHECK(vt_atls_ctx_verify_der(NULL, der, len, now, &d), d, VT_E_ARG, "atls.ctx");
    vt_atls_ctx_free(other);
    other = NULL;
    AV_CHECK(vt_atls_ctx_new(H.v, NULL, 0, &other, &d), d, VT_E_ARG, "atls.ctx");
    assert_null(other);
    /* an evidence certificate needs a verifier */
    struct vt_atls_verify_opts vo = {.now = vt_time_now()};
    AV_CHECK(vt_atls_verify_cert(NULL, der, len, &vo, &claims, NULL, &d), d, VT_E_ARG,
             "atls.verify");
    assert_null(claims);
    free(od);
    free(der);
    AV_OK(vt_atls_ctx_new(H.v, &o, 0, &other, &d), d);
    vt_atls_ctx_free(other);
    vt_atls_ctx_free(c);
    vt_atls_ctx_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),      cmocka_unit_test(test_wrong_ca),
        cmocka_unit_test(test_altered),   cmocka_unit_test(test_json_members),
        cmocka_unit_test(test_ctx_cache),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
