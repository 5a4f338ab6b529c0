/*
 * vt_nitro_verify (src/tee/nitro/verify.c, with the parser src/tee/nitro/document.c) against the
 * synthetic Nitro PKI of tests/support/nitro_sim.h: what a verified document's claims say, every
 * parser reject reached through the verifier, the COSE signature, the CA chain and the leaf,
 * validity windows at their inclusive boundaries, freshness (max_age, nonce), the chain cache,
 * every byte flip and every truncation, and the command line on a written document.
 *
 * The synthetic root is never trusted by default: each verifier is given it explicitly, next to
 * the embedded AWS root, as `veritee verify --trust-anchor` does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/encoding.h"
#include "tee/nitro/nitro.h"

#include "nitro_sim.h"
#include "x509_gen.h"

/* A fixed "now": 2025-06-15T00:00:00Z. Every default window contains it. */
static const vt_time NOW = 1749945600;

/* Bytes to point oversized fields at. */
static uint8_t filler[20 * 1024 + 64];

/* ---- helpers ---- */

static struct vt_claims *claims_new(void)
{
    struct vt_claims *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    return c;
}

static struct vt_nitro_opts opts_at(vt_time now)
{
    struct vt_nitro_opts o;
    memset(&o, 0, sizeof(o));
    o.now = now;
    o.time_mode = VT_TIME_STRICT;
    o.max_age = -1;
    return o;
}

static struct vt_nsim_pki *pki_with(const struct vt_nsim_pki_params *pp)
{
    struct vt_nsim_pki *pki = vt_nsim_pki_new(pp);
    assert_non_null(pki);
    return pki;
}

static struct vt_nsim_pki *pki_default(void)
{
    struct vt_nsim_pki_params pp;
    vt_nsim_pki_params_default(&pp, NOW);
    return pki_with(&pp);
}

static struct vt_sim_blob der_of(const struct vt_nsim_pki *pki, enum vt_nsim_level level)
{
    struct vt_sim_blob b = {0};
    assert_true(vt_nsim_cert_der(pki, level, &b));
    return b;
}

/* Append the root of pki to l. */
static void add_root(struct vt_cert_list *l, const struct vt_nsim_pki *pki)
{
    struct vt_sim_blob der = der_of(pki, VT_NSIM_ROOT);
    struct vt_cert *c = NULL;
    assert_int_equal(vt_cert_from_der(der.data, der.len, &c, NULL), VT_OK);
    assert_int_equal(vt_cert_list_add(l, c), VT_OK);
    vt_cert_free(c);
    vt_sim_blob_cleanup(&der);
}

/* A verifier trusting the roots of pkis[0..n) and the embedded AWS root. */
static struct vt_nitro_verifier *verifier_for(struct vt_nsim_pki *const *pkis, size_t n)
{
    struct vt_cert_list anchors;
    vt_cert_list_init(&anchors);
    for (size_t i = 0; i < n; i++) {
        add_root(&anchors, pkis[i]);
    }
    assert_int_equal(vt_aws_nitro_root_add(&anchors, NULL), VT_OK);
    struct vt_nitro_verifier *v = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_nitro_verifier_new(&anchors, &v, &d), VT_OK);
    assert_non_null(v);
    vt_cert_list_cleanup(&anchors);
    return v;
}

static struct vt_nitro_verifier *verifier_for1(struct vt_nsim_pki *pki)
{
    return verifier_for(&pki, 1);
}

static void build(const struct vt_nsim_pki *pki, const struct vt_nsim_doc_params *dp,
                  struct vt_sim_blob *doc, struct vt_nsim_doc_layout *lay)
{
    assert_true(vt_nsim_doc_build(pki, dp, doc, lay));
}

/* "*suffix", "prefix*" or an exact name, or alternatives of those separated by '|'. */
static bool check_matches_one(const char *got, const char *pattern, size_t p)
{
    size_t g = strlen(got);
    if (p > 0 && pattern[0] == '*') {
        return g >= p - 1 && strncmp(got + g - (p - 1), pattern + 1, p - 1) == 0;
    }
    if (p > 0 && pattern[p - 1] == '*') {
        return g >= p - 1 && strncmp(got, pattern, p - 1) == 0;
    }
    return g == p && strncmp(got, pattern, p) == 0;
}

static bool check_matches(const char *got, const char *pattern)
{
    for (;;) {
        const char *bar = strchr(pattern, '|');
        size_t p = bar != NULL ? (size_t)(bar - pattern) : strlen(pattern);
        if (check_matches_one(got, pattern, p)) {
            return true;
        }
        if (bar == NULL) {
            return false;
        }
        pattern = bar + 1;
    }
}

/*
 * Verify p[n] and compare with the expectation: code `want` and, if `check` is not NULL, a check
 * name matching it. On failure the diag must carry the same code and a check name, and the claims
 * must be untouched. Reports names, check and detail when the expectation fails.
 */
static bool verify_matches(const char *label, struct vt_nitro_verifier *v, const uint8_t *p,
                           size_t n, const struct vt_nitro_opts *o, enum vt_err want,
                           const char *check)
{
    struct vt_claims *c = claims_new();
    struct vt_claims *before = claims_new();
    memset(c, 0x5a, sizeof(*c));
    memcpy(before, c, sizeof(*c));
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_nitro_verify(v, p, n, o, c, &d);
    bool ok = err == want;
    if (ok && err != VT_OK) {
        ok =
            d.code == err && d.check[0] != '\0' && (check == NULL || check_matches(d.check, check));
        ok = ok && memcmp(c, before, sizeof(*c)) == 0;
    }
    if (!ok) {
        print_error("%s: got %s check \"%s\" detail \"%s\"; want %s check \"%s\"\n", label,
                    vt_err_name(err), d.check, d.detail, vt_err_name(want),
                    check != NULL ? check : "(any)");
    }
    free(c);
    free(before);
    return ok;
}

static void expect_bytes_at(const char *label, struct vt_nitro_verifier *v, const uint8_t *p,
                            size_t n, const struct vt_nitro_opts *o, enum vt_err want,
                            const char *check)
{
    assert_true(verify_matches(label, v, p, n, o, want, check));
}

static void expect_doc(const char *label, struct vt_nitro_verifier *v,
                       const struct vt_sim_blob *doc, const struct vt_nitro_opts *o,
                       enum vt_err want, const char *check)
{
    expect_bytes_at(label, v, doc->data, doc->len, o, want, check);
}

/* Build the document dp describes and expect `want` at NOW. */
static void expect_params(const char *label, struct vt_nitro_verifier *v,
                          const struct vt_nsim_pki *pki, const struct vt_nsim_doc_params *dp,
                          enum vt_err want, const char *check)
{
    struct vt_sim_blob doc = {0};
    build(pki, dp, &doc, NULL);
    struct vt_nitro_opts o = opts_at(NOW);
    expect_doc(label, v, &doc, &o, want, check);
    vt_sim_blob_cleanup(&doc);
}

/* Verify, asserting success, into c. */
static void verify_ok(struct vt_nitro_verifier *v, const struct vt_sim_blob *doc,
                      const struct vt_nitro_opts *o, struct vt_claims *c)
{
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_nitro_verify(v, doc->data, doc->len, o, c, &d);
    if (err != VT_OK) {
        print_error("verify: %s check \"%s\" detail \"%s\"\n", vt_err_name(err), d.check, d.detail);
    }
    assert_int_equal(err, VT_OK);
}

static bool json_has(const char *json, const char *fmt, ...) VT_PRINTF(2, 3);
static bool json_has(const char *json, const char *fmt, ...)
{
    char want[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(want, sizeof(want), fmt, ap);
    va_end(ap);
    return strstr(json, want) != NULL;
}

static char *hex_of(const uint8_t *p, size_t n)
{
    char *h = malloc(2 * n + 1);
    assert_non_null(h);
    vt_hex_encode(p, n, h);
    return h;
}

/* ---- shared state: one default PKI and a verifier trusting it ---- */

struct world {
    struct vt_nsim_pki *pki;
    struct vt_nitro_verifier *v;
};

static int world_setup(void **state)
{
    struct world *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return -1;
    }
    memset(filler, 0xab, sizeof(filler));
    w->pki = pki_default();
    w->v = verifier_for1(w->pki);
    *state = w;
    return 0;
}

static int world_teardown(void **state)
{
    struct world *w = *state;
    vt_nitro_verifier_free(w->v);
    vt_nsim_pki_free(w->pki);
    free(w);
    return 0;
}

/* ---- documents that verify ---- */

static void test_default_claims(void **state)
{
    struct world *w = *state;
    struct vt_nsim_doc_params dp;
    vt_nsim_doc_params_default(&dp, w->pki);
    struct vt_sim_blob doc = {0};
    build(w->pki, &dp, &doc, NULL);
    struct vt_nitro_opts o = opts_at(NOW);
    struct vt_claims *c = claims_new();
    verify_ok(w->v, &doc, &o, c);

    assert_int_equal(c->tee, VT_TEE_NITRO);
    assert_int_equal(c->status, VT_TCB_UP_TO_DATE);
    assert_int_equal(c->verified_at, NOW);
    assert_string_equal(c->nitro.module_id, w->pki->module_id);
    assert_int_equal(c->nitro.timestamp_ms, dp.timestamp_ms);
    assert_int_equal(c->nitro.timestamp_ms,
                     (uint64_t)(w->pki->params.level[VT_NSIM_LEAF].not_before + 3) * 1000u);
    assert_int_equal(c->nitro.pcr_mask, 0xffffu);
    for (size_t i = 0; i < 16; i++) {
        assert_int_equal(c->nitro.pcr_len[i], 48);
        assert_memory_equal(c->nitro.pcrs[i], dp.pcrs[i].value, 48);
    }
    for (size_t i = 16; i < VT_CLAIMS_MAX_PCRS; i++) {
        assert_int_equal(c->nitro.pcr_len[i], 0);
    }
    assert_false(c->debug);
    assert_false(c->public_key.present);
    assert_false(c->user_data.present);
    assert_false(c->nonce.present);
    /* The first certificate to expire is the leaf (now + 2h50m3s). */
    assert_int_equal(c->collateral.earliest_expiry, w->pki->params.level[VT_NSIM_LEAF].not_after);

    char *json = vt_claims_to_json(c);
    assert_non_null(json);
    assert_true(json_has(json, "\"tee\":\"nitro\""));
    assert_true(json_has(json, "\"status\":\"UpToDate\""));
    assert_true(json_has(json, "\"debug\":false"));
    assert_true(json_has(json, "\"nitro.module_id\":\"%s\"", w->pki->module_id));
    assert_true(json_has(json, "\"nitro.timestamp_ms\":%llu", (unsigned long long)dp.timestamp_ms));
    for (unsigned i = 0; i < 16; i++) {
        char *h = hex_of(dp.pcrs[i].value, 48);
        assert_true(json_has(json, "\"nitro.pcr%u\":\"%s\"", i, h));
        free(h);
    }
    assert_false(json_has(json, "\"nitro.pcr16\""));
    assert_false(json_has(json, "\"user_data\""));
    assert_false(json_has(json, "\"nonce\""));
    assert_false(json_has(json, "\"public_key\""));
    free(json);
    free(c);
    vt_sim_blob_cleanup(&doc);
}

static void test_debug_flag(void **state)
{
    struct world *w = *state;
    struct vt_nsim_doc_params dp;
    struct vt_sim_blob doc = {0};
    struct vt_nitro_opts o = opts_at(NOW);
    struct vt_claims *c = claims_new();

    vt_nsim_doc_params_default(&dp, w->pki);
    vt_nsim_doc_params_debug(&dp);
    build(w->pki, &dp, &doc, NULL);
    verify_ok(w->v, &doc, &o, c);
    assert_true(c->debug);
    char *json = vt_claims_to_json(c);
    assert_non_null(json);
    assert_true(json_has(json, "\"debug\":true"));
    free(json);
    vt_sim_blob_cleanup(&doc);

    /* Only PCR0 decides: PCR1 zero with PCR0 set is not debug, PCR0 zero alone is. */
    vt_nsim_doc_params_default(&dp, w->pki);
    memset(dp.pcrs[1].value, 0, 48);
    build(w->pki, &dp, &doc, NULL);
    verify_ok(w->v, &doc, &o, c);
    assert_false(c->debug);
    vt_sim_blob_cleanup(&doc);

    vt_nsim_doc_params_default(&dp, w->pki);
    memset(dp.pcrs[0].value, 0, 48);
    build(w->pki, &dp, &doc, NULL);
    verify_ok(w->v, &doc, &o, c);
    assert_true(c->debug);
    vt_sim_blob_cleanup(&doc);

    /* PCR0 zero but one byte. */
    dp.pcrs[0].value[47] = 1;
    build(w->pki, &dp, &doc, NULL);
    verify_ok(w->v, &doc, &o, c);
    assert_false(c->debug);
    vt_sim_blob_cleanup(&doc);

    /* No PCR0 at all (the others zero): not debug. */
    vt_nsim_doc_params_default(&dp, w->pki);
    vt_nsim_doc_params_debug(&dp);
    dp.n_pcrs = 3;
    dp.pcrs[0] = dp.pcrs[8];
    build(w->pki, &dp, &doc, NULL);
    verify_ok(w->v, &doc, &o, c);
    assert_int_equal(c->nitro.pcr_mask, (1u << 1) | (1u << 2) | (1u << 8));
    assert_false(c->debug);
    vt_sim_blob_cleanup(&doc);
    free(c);
}

/* One binding field in claims and JSON: absent or exactly data[len]. */
static void check_binding(const struct vt_binding_claim *b, const char *json, const char *key,
                          const struct vt_nsim_opt *o)
{
    char quoted[32];
    snprintf(quoted, sizeof(quoted), "\"%s\"", key);
    if (o->kind != VT_NSIM_OPT_BYTES) {
        assert_false(b->present);
        assert_int_equal(b->len, 0);
        assert_false(json_has(json, "%s", quoted));
        return;
    }
    assert_true(b->present);
    assert_int_equal(b->len, o->len);
    if (o->len > 0) {
        assert_memory_equal(b->data, o->data, o->len);
    }
    char *h = hex_of(o->data, o->len);
    assert_true(json_has(json, "%s:\"%s\"", quoted, h));
    free(h);
}

static void test_bindings(void **state)
{
    struct world *w = *state;
    static uint8_t pk[97], ud[1024], nonce[20];
    for (size_t i = 0; i < sizeof(pk); i++) {
        pk[i] = (uint8_t)(0x04 + i);
    }
    for (size_t i = 0; i < sizeof(ud); i++) {
        ud[i] = (uint8_t)(i * 7);
    }
    for (size_t i = 0; i < sizeof(nonce); i++) {
        nonce[i] = (uint8_t)(0xf0 - i);
    }
    struct {
        struct vt_nsim_opt pk, ud, nonce;
    } cases[] = {
        {{VT_NSIM_OPT_BYTES, pk, sizeof(pk)},
         {VT_NSIM_OPT_BYTES, ud, 33},
         {VT_NSIM_OPT_BYTES, nonce, sizeof(nonce)}},
        {{VT_NSIM_OPT_NULL, NULL, 0}, {VT_NSIM_OPT_NULL, NULL, 0}, {VT_NSIM_OPT_NULL, NULL, 0}},
        {{VT_NSIM_OPT_ABSENT, NULL, 0},
         {VT_NSIM_OPT_ABSENT, NULL, 0},
         {VT_NSIM_OPT_ABSENT, NULL, 0}},
        /* Maximum sizes. */
        {{VT_NSIM_OPT_BYTES, ud, 1024},
         {VT_NSIM_OPT_BYTES, ud, 1024},
         {VT_NSIM_OPT_BYTES, ud, 1024}},
        /* user_data and nonce may be empty byte strings (present, length 0). */
        {{VT_NSIM_OPT_BYTES, pk, 1}, {VT_NSIM_OPT_BYTES, ud, 0}, {VT_NSIM_OPT_BYTES, nonce, 0}},
        /* Mixed. */
        {{VT_NSIM_OPT_ABSENT, NULL, 0}, {VT_NSIM_OPT_BYTES, ud, 5}, {VT_NSIM_OPT_NULL, NULL, 0}},
        {{VT_NSIM_OPT_NULL, NULL, 0}, {VT_NSIM_OPT_ABSENT, NULL, 0}, {VT_NSIM_OPT_BYTES, nonce, 1}},
    };
    struct vt_nitro_opts o = opts_at(NOW);
    struct vt_claims *c = claims_new();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vt_nsim_doc_params dp;
        vt_nsim_doc_params_default(&dp, w->pki);
        dp.public_key = cases[i].pk;
        dp.user_data = cases[i].ud;
        dp.nonce = cases[i].nonce;
        struct vt_sim_blob doc = {0};
        build(w->pki, &dp, &doc, NULL);
        verify_ok(w->v, &doc, &o, c);
        char *json = vt_claims_to_json(c);
        assert_non_null(json);
        check_binding(&c->public_key, json, "public_key", &cases[i].pk);
        check_binding(&c->user_data, json, "user_data", &cases[i].ud);
        check_binding(&c->nonce, json, "nonce", &cases[i].nonce);
        free(json);
        vt_sim_blob_cleanup(&doc);
    }
    free(c);
}

/* Encodings that every verifier must accept; the claims stay the same. */
static void test_encodings_accepted(void **state)
{
    struct world *w = *state;
    static const uint8_t unprot_kid[] = {0xa1, 0x04, 0x41, 0x01};
    static const uint8_t unprot_indef[] = {0xbf, 0xff};
    static const uint8_t extra_nested[] = {0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x80};
    static const uint8_t extra_float[] = {0xfb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18};
    enum {
        E_TAGGED,
        E_INDEF_MAP,
        E_INDEF_PCRS,
        E_INDEF_CABUNDLE,
        E_ALL_INDEF_TAGGED,
        E_EXTRA,
        E_EXTRA_NESTED,
        E_EXTRA_FLOAT,
        E_REVERSE,
        E_REVERSE_EXTRA_INDEF,
        E_UNPROT_KID,
        E_UNPROT_INDEF,
        E_HIGH_S,
        E_COUNT
    };
    struct vt_nitro_opts o = opts_at(NOW);
    struct vt_claims *c = claims_new();
    for (int e = 0; e < E_COUNT; e++) {
        struct vt_nsim_doc_params dp;
        vt_nsim_doc_params_default(&dp, w->pki);
        switch (e) {
        case E_TAGGED:
            dp.tagged = true;
            break;
        case E_INDEF_MAP:
            dp.indefinite_map = true;
            break;
        case E_INDEF_PCRS:
            dp.indefinite_pcrs = true;
            break;
        case E_INDEF_CABUNDLE:
            dp.indefinite_cabundle = true;
            break;
        case E_ALL_INDEF_TAGGED:
            dp.tagged = dp.indefinite_map = dp.indefinite_pcrs = dp.indefinite_cabundle = true;
            break;
        case E_EXTRA:
            dp.extra_key = true;
            break;
        case E_EXTRA_NESTED:
            dp.extra_key = true;
            dp.extra_value = extra_nested;
            dp.extra_value_len = sizeof(extra_nested);
            break;
        case E_EXTRA_FLOAT:
            dp.extra_key = true;
            dp.extra_value = extra_float;
            dp.extra_value_len = sizeof(extra_float);
            break;
        case E_REVERSE:
            dp.reverse_keys = true;
            break;
        case E_REVERSE_EXTRA_INDEF:
            dp.reverse_keys = dp.extra_key = dp.indefinite_map = true;
            break;
        case E_UNPROT_KID:
            dp.unprotected = unprot_kid;
            dp.unprotected_len = sizeof(unprot_kid);
            break;
        case E_UNPROT_INDEF:
            dp.unprotected = unprot_indef;
            dp.unprotected_len = sizeof(unprot_indef);
            break;
        case E_HIGH_S:
            /* (r, n - s) is as valid as (r, s): ES384 has no low-S rule. */
            dp.sig_defect = VT_NSIM_SIG_HIGH_S;
            break;
        default:
            fail();
        }
        struct vt_sim_blob doc = {0};
        build(w->pki, &dp, &doc, NULL);
        struct vt_diag d;
        vt_diag_init(&d);
        enum vt_err err = vt_nitro_verify(w->v, doc.data, doc.len, &o, c, &d);
        if (err != VT_OK) {
            print_error("encoding %d: %s %s %s\n", e, vt_err_name(err), d.check, d.detail);
        }
        assert_int_equal(err, VT_OK);
        assert_string_equal(c->nitro.module_id, w->pki->module_id);
        assert_int_equal(c->nitro.pcr_mask, 0xffffu);
        assert_memory_equal(c->nitro.pcrs[3], dp.pcrs[3].value, 48);
        assert_int_equal(c->nitro.timestamp_ms, dp.timestamp_ms);
        vt_sim_blob_cleanup(&doc);
    }
    free(c);
}

/* PCR sets: any order, sparse indexes, 32/48/64 bytes, 1 to 32 entries; module_id 1..256. */
static void test_pcr_shapes(void **state)
{
    struct world *w = *state;
    struct vt_nitro_opts o = opts_at(NOW);
    struct vt_claims *c = claims_new();
    struct vt_nsim_doc_params dp;
    struct vt_sim_blob doc = {0};

    /* Descending order, mixed lengths, sparse. */
    static const struct {
        unsigned index;
        size_t len;
    } set[] = {{31, 64}, {17, 32}, {7, 48}, {3, 64}, {0, 32}};
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.n_pcrs = sizeof(set) / sizeof(set[0]);
    uint32_t mask = 0;
    for (size_t i = 0; i < dp.n_pcrs; i++) {
        dp.pcrs[i].index = set[i].index;
        dp.pcrs[i].len = set[i].len;
        for (size_t k = 0; k < set[i].len; k++) {
            dp.pcrs[i].value[k] = (uint8_t)(set[i].index * 3 + k + 1);
        }
        mask |= 1u << set[i].index;
    }
    dp.indefinite_pcrs = true;
    build(w->pki, &dp, &doc, NULL);
    verify_ok(w->v, &doc, &o, c);
    assert_int_equal(c->nitro.pcr_mask, mask);
    assert_false(c->debug);
    char *json = vt_claims_to_json(c);
    assert_non_null(json);
    for (size_t i = 0; i < dp.n_pcrs; i++) {
        unsigned idx = set[i].index;
        assert_int_equal(c->nitro.pcr_len[idx], set[i].len);
        assert_memory_equal(c->nitro.pcrs[idx], dp.pcrs[i].value, set[i].len);
        char *h = hex_of(dp.pcrs[i].value, set[i].len);
        assert_true(json_has(json, "\"nitro.pcr%u\":\"%s\"", idx, h));
        free(h);
    }
    assert_false(json_has(json, "\"nitro.pcr1\""));
    assert_false(json_has(json, "\"nitro.pcr30\""));
    free(json);
    vt_sim_blob_cleanup(&doc);

    /* All 32, and one. */
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.n_pcrs = 32;
    for (size_t i = 0; i < 32; i++) {
        dp.pcrs[i].index = i;
        dp.pcrs[i].len = 48;
        dp.pcrs[i].value[0] = (uint8_t)(i + 1);
    }
    build(w->pki, &dp, &doc, NULL);
    verify_ok(w->v, &doc, &o, c);
    assert_int_equal(c->nitro.pcr_mask, 0xffffffffu);
    assert_int_equal(c->nitro.pcrs[31][0], 32);
    vt_sim_blob_cleanup(&doc);
    dp.n_pcrs = 1;
    dp.pcrs[0].index = 9;
    build(w->pki, &dp, &doc, NULL);
    verify_ok(w->v, &doc, &o, c);
    assert_int_equal(c->nitro.pcr_mask, 1u << 9);
    vt_sim_blob_cleanup(&doc);

    /* module_id of 256 bytes (the maximum) and of 1 byte; timestamp 0. */
    static char mid[257];
    memset(mid, 'm', 256);
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.module_id = mid;
    dp.module_id_len = 256;
    dp.timestamp_ms = 0;
    build(w->pki, &dp, &doc, NULL);
    verify_ok(w->v, &doc, &o, c);
    assert_int_equal(strlen(c->nitro.module_id), 256);
    assert_int_equal(c->nitro.timestamp_ms, 0);
    vt_sim_blob_cleanup(&doc);
    dp.module_id_len = 1;
    build(w->pki, &dp, &doc, NULL);
    verify_ok(w->v, &doc, &o, c);
    assert_string_equal(c->nitro.module_id, "m");
    vt_sim_blob_cleanup(&doc);
    free(c);
}

/* ---- parser rejects, through the verifier ---- */

typedef void (*mutator)(struct vt_nsim_doc_params *dp);

static const char mid_nul[] = "ab\0cd";
static const char mid_bad_utf8[] = "\xff\xfe";
static char mid_257[258];
static const uint8_t alg_es256[] = {0xa1, 0x01, 0x26};
static const uint8_t alg_es512[] = {0xa1, 0x01, 0x38, 0x23};
static const uint8_t alg_one[] = {0xa1, 0x01, 0x01};
static const uint8_t alg_es256_extra[] = {0xa2, 0x01, 0x26, 0x04, 0x41, 0x00};
static const uint8_t prot_extra[] = {0xa2, 0x01, 0x38, 0x22, 0x04, 0x41, 0x00};
static const uint8_t prot_empty_map[] = {0xa0};
static const uint8_t prot_text_alg[] = {0xa1, 0x01, 0x65, 'E', 'S', '3', '8', '4'};
static const uint8_t prot_nonminimal[] = {0xa1, 0x01, 0x38, 0x22, 0x00};
static const uint8_t unprot_bstr[] = {0x40};
static const uint8_t unprot_null[] = {0xf6};
static const uint8_t unprot_reserved[] = {0xa1, 0x01, 0x1c};
static const uint8_t extra_reserved[] = {0x1c};
static const uint8_t payload_array[] = {0x80};
static const uint8_t payload_int_key[] = {0xa1, 0x01, 0x02};
static const uint8_t payload_empty_map[] = {0xa0};
static const uint8_t extra_deep[] = {0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81,
                                     0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81,
                                     0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x00};

static void m_omit_module_id(struct vt_nsim_doc_params *dp)
{
    dp->omit_keys = VT_NSIM_K_MODULE_ID;
}
static void m_omit_digest(struct vt_nsim_doc_params *dp)
{
    dp->omit_keys = VT_NSIM_K_DIGEST;
}
static void m_omit_timestamp(struct vt_nsim_doc_params *dp)
{
    dp->omit_keys = VT_NSIM_K_TIMESTAMP;
}
static void m_omit_pcrs(struct vt_nsim_doc_params *dp)
{
    dp->omit_keys = VT_NSIM_K_PCRS;
}
static void m_omit_certificate(struct vt_nsim_doc_params *dp)
{
    dp->omit_keys = VT_NSIM_K_CERTIFICATE;
}
static void m_omit_cabundle(struct vt_nsim_doc_params *dp)
{
    dp->omit_keys = VT_NSIM_K_CABUNDLE;
}
static void m_omit_cabundle_indef(struct vt_nsim_doc_params *dp)
{
    dp->omit_keys = VT_NSIM_K_CABUNDLE;
    dp->indefinite_map = true;
}
static void m_dup_module_id(struct vt_nsim_doc_params *dp)
{
    dp->dup_keys = VT_NSIM_K_MODULE_ID;
}
static void m_dup_digest(struct vt_nsim_doc_params *dp)
{
    dp->dup_keys = VT_NSIM_K_DIGEST;
}
static void m_dup_timestamp(struct vt_nsim_doc_params *dp)
{
    dp->dup_keys = VT_NSIM_K_TIMESTAMP;
}
static void m_dup_pcrs(struct vt_nsim_doc_params *dp)
{
    dp->dup_keys = VT_NSIM_K_PCRS;
}
static void m_dup_certificate(struct vt_nsim_doc_params *dp)
{
    dp->dup_keys = VT_NSIM_K_CERTIFICATE;
}
static void m_dup_cabundle(struct vt_nsim_doc_params *dp)
{
    dp->dup_keys = VT_NSIM_K_CABUNDLE;
}
static void m_dup_public_key(struct vt_nsim_doc_params *dp)
{
    dp->dup_keys = VT_NSIM_K_PUBLIC_KEY;
}
static void m_dup_user_data(struct vt_nsim_doc_params *dp)
{
    dp->dup_keys = VT_NSIM_K_USER_DATA;
}
static void m_dup_nonce(struct vt_nsim_doc_params *dp)
{
    dp->dup_keys = VT_NSIM_K_NONCE;
}
static void m_dup_nonce_bytes(struct vt_nsim_doc_params *dp)
{
    dp->dup_keys = VT_NSIM_K_NONCE;
    dp->nonce.kind = VT_NSIM_OPT_BYTES;
    dp->nonce.data = filler;
    dp->nonce.len = 8;
}
static void m_type_module_id(struct vt_nsim_doc_params *dp)
{
    dp->wrong_type_keys = VT_NSIM_K_MODULE_ID;
}
static void m_type_digest(struct vt_nsim_doc_params *dp)
{
    dp->wrong_type_keys = VT_NSIM_K_DIGEST;
}
static void m_type_timestamp(struct vt_nsim_doc_params *dp)
{
    dp->wrong_type_keys = VT_NSIM_K_TIMESTAMP;
}
static void m_type_pcrs(struct vt_nsim_doc_params *dp)
{
    dp->wrong_type_keys = VT_NSIM_K_PCRS;
}
static void m_type_certificate(struct vt_nsim_doc_params *dp)
{
    dp->wrong_type_keys = VT_NSIM_K_CERTIFICATE;
}
static void m_type_cabundle(struct vt_nsim_doc_params *dp)
{
    dp->wrong_type_keys = VT_NSIM_K_CABUNDLE;
}
static void m_type_public_key(struct vt_nsim_doc_params *dp)
{
    dp->wrong_type_keys = VT_NSIM_K_PUBLIC_KEY;
}
static void m_type_user_data(struct vt_nsim_doc_params *dp)
{
    dp->wrong_type_keys = VT_NSIM_K_USER_DATA;
}
static void m_type_nonce(struct vt_nsim_doc_params *dp)
{
    dp->wrong_type_keys = VT_NSIM_K_NONCE;
}
static void m_digest_sha256(struct vt_nsim_doc_params *dp)
{
    dp->digest = "SHA256";
}
static void m_digest_lower(struct vt_nsim_doc_params *dp)
{
    dp->digest = "sha384";
}
static void m_digest_space(struct vt_nsim_doc_params *dp)
{
    dp->digest = "SHA384 ";
}
static void m_digest_empty(struct vt_nsim_doc_params *dp)
{
    dp->digest = "";
}
static void m_module_id_empty(struct vt_nsim_doc_params *dp)
{
    dp->module_id_empty = true;
}
static void m_module_id_257(struct vt_nsim_doc_params *dp)
{
    memset(mid_257, 'm', 257);
    dp->module_id = mid_257;
    dp->module_id_len = 257;
}
static void m_module_id_nul(struct vt_nsim_doc_params *dp)
{
    dp->module_id = mid_nul;
    dp->module_id_len = 5;
}
static void m_module_id_utf8(struct vt_nsim_doc_params *dp)
{
    dp->module_id = mid_bad_utf8;
    dp->module_id_len = 2;
}
static void m_pcr_index_32(struct vt_nsim_doc_params *dp)
{
    dp->pcrs[15].index = 32;
}
static void m_pcr_index_huge(struct vt_nsim_doc_params *dp)
{
    dp->pcrs[0].index = UINT64_C(1) << 40;
}
static void m_pcr_len_47(struct vt_nsim_doc_params *dp)
{
    dp->pcrs[3].len = 47;
}
static void m_pcr_len_0(struct vt_nsim_doc_params *dp)
{
    dp->pcrs[3].len = 0;
}
static void m_pcr_len_65(struct vt_nsim_doc_params *dp)
{
    dp->pcrs[3].len = 65;
}
static void m_pcr_dup(struct vt_nsim_doc_params *dp)
{
    dp->pcrs[5].index = 4;
}
static void m_pcr_dup_far(struct vt_nsim_doc_params *dp)
{
    dp->pcrs[15].index = 0;
}
static void pcrs_n(struct vt_nsim_doc_params *dp, size_t n)
{
    dp->n_pcrs = n;
    for (size_t i = 0; i < n; i++) {
        dp->pcrs[i].index = i;
        dp->pcrs[i].len = 48;
    }
}
static void m_pcrs_33(struct vt_nsim_doc_params *dp)
{
    pcrs_n(dp, 33);
}
static void m_pcrs_33_indef(struct vt_nsim_doc_params *dp)
{
    pcrs_n(dp, 33);
    dp->indefinite_pcrs = true;
}
static void m_pcrs_0(struct vt_nsim_doc_params *dp)
{
    dp->n_pcrs = 0;
}
static void m_pcrs_0_indef(struct vt_nsim_doc_params *dp)
{
    dp->n_pcrs = 0;
    dp->indefinite_pcrs = true;
}
static void m_certificate_1025(struct vt_nsim_doc_params *dp)
{
    dp->certificate = filler;
    dp->certificate_len = 1025;
}
static void m_certificate_0(struct vt_nsim_doc_params *dp)
{
    dp->certificate = filler;
    dp->certificate_len = 0;
}
static void m_cabundle_0(struct vt_nsim_doc_params *dp)
{
    dp->n_cabundle = 0;
}
static void m_cabundle_0_indef(struct vt_nsim_doc_params *dp)
{
    dp->n_cabundle = 0;
    dp->indefinite_cabundle = true;
}
static void cabundle_9(struct vt_nsim_doc_params *dp)
{
    dp->n_cabundle = 9;
    for (size_t i = 0; i < 9; i++) {
        dp->cabundle[i].level = (enum vt_nsim_level)(i % 4);
    }
}
static void m_cabundle_9(struct vt_nsim_doc_params *dp)
{
    cabundle_9(dp);
}
static void m_cabundle_9_indef(struct vt_nsim_doc_params *dp)
{
    cabundle_9(dp);
    dp->indefinite_cabundle = true;
}
static void m_cabundle_entry_1025(struct vt_nsim_doc_params *dp)
{
    dp->cabundle[2].der = filler;
    dp->cabundle[2].len = 1025;
}
static void m_cabundle_entry_0(struct vt_nsim_doc_params *dp)
{
    dp->cabundle[1].der = filler;
    dp->cabundle[1].len = 0;
}
static void set_opt(struct vt_nsim_opt *o, size_t len)
{
    o->kind = VT_NSIM_OPT_BYTES;
    o->data = filler;
    o->len = len;
}
static void m_public_key_0(struct vt_nsim_doc_params *dp)
{
    set_opt(&dp->public_key, 0);
}
static void m_public_key_1025(struct vt_nsim_doc_params *dp)
{
    set_opt(&dp->public_key, 1025);
}
static void m_user_data_1025(struct vt_nsim_doc_params *dp)
{
    set_opt(&dp->user_data, 1025);
}
static void m_nonce_1025(struct vt_nsim_doc_params *dp)
{
    set_opt(&dp->nonce, 1025);
}
static void m_no_break(struct vt_nsim_doc_params *dp)
{
    dp->indefinite_map = true;
    dp->no_break = true;
}
static void m_payload_trailing(struct vt_nsim_doc_params *dp)
{
    dp->payload_trailing = 1;
}
static void m_payload_trailing_indef(struct vt_nsim_doc_params *dp)
{
    dp->indefinite_map = true;
    dp->payload_trailing = 3;
}
static void m_cose_trailing(struct vt_nsim_doc_params *dp)
{
    dp->trailing = 1;
}
static void m_cose_trailing_tagged(struct vt_nsim_doc_params *dp)
{
    dp->tagged = true;
    dp->trailing = 2;
}
static void set_prot(struct vt_nsim_doc_params *dp, const uint8_t *p, size_t n)
{
    dp->protected_hdr = p;
    dp->protected_len = n;
}
static void m_alg_es256(struct vt_nsim_doc_params *dp)
{
    set_prot(dp, alg_es256, sizeof(alg_es256));
}
static void m_alg_es512(struct vt_nsim_doc_params *dp)
{
    set_prot(dp, alg_es512, sizeof(alg_es512));
}
static void m_alg_one(struct vt_nsim_doc_params *dp)
{
    set_prot(dp, alg_one, sizeof(alg_one));
}
static void m_alg_es256_extra(struct vt_nsim_doc_params *dp)
{
    set_prot(dp, alg_es256_extra, sizeof(alg_es256_extra));
}
static void m_prot_extra(struct vt_nsim_doc_params *dp)
{
    set_prot(dp, prot_extra, sizeof(prot_extra));
}
static void m_prot_empty_map(struct vt_nsim_doc_params *dp)
{
    set_prot(dp, prot_empty_map, sizeof(prot_empty_map));
}
static void m_prot_empty(struct vt_nsim_doc_params *dp)
{
    set_prot(dp, prot_empty_map, 0);
}
static void m_prot_text_alg(struct vt_nsim_doc_params *dp)
{
    set_prot(dp, prot_text_alg, sizeof(prot_text_alg));
}
static void m_prot_trailing(struct vt_nsim_doc_params *dp)
{
    set_prot(dp, prot_nonminimal, sizeof(prot_nonminimal));
}
static void m_sig_short(struct vt_nsim_doc_params *dp)
{
    dp->sig_defect = VT_NSIM_SIG_SHORT;
}
static void m_sig_long(struct vt_nsim_doc_params *dp)
{
    dp->sig_defect = VT_NSIM_SIG_LONG;
}
static void m_sig_der(struct vt_nsim_doc_params *dp)
{
    dp->sig_defect = VT_NSIM_SIG_DER;
}
static void m_indefinite_array(struct vt_nsim_doc_params *dp)
{
    dp->indefinite_array = true;
}
static void m_unprot_bstr(struct vt_nsim_doc_params *dp)
{
    dp->unprotected = unprot_bstr;
    dp->unprotected_len = sizeof(unprot_bstr);
}
static void m_unprot_null(struct vt_nsim_doc_params *dp)
{
    dp->unprotected = unprot_null;
    dp->unprotected_len = sizeof(unprot_null);
}
static void m_unprot_reserved(struct vt_nsim_doc_params *dp)
{
    dp->unprotected = unprot_reserved;
    dp->unprotected_len = sizeof(unprot_reserved);
}
static void set_payload(struct vt_nsim_doc_params *dp, const uint8_t *p, size_t n)
{
    dp->payload_override = p;
    dp->payload_override_len = n;
}
static void m_payload_array(struct vt_nsim_doc_params *dp)
{
    set_payload(dp, payload_array, sizeof(payload_array));
}
static void m_payload_int_key(struct vt_nsim_doc_params *dp)
{
    set_payload(dp, payload_int_key, sizeof(payload_int_key));
}
static void m_payload_empty_map(struct vt_nsim_doc_params *dp)
{
    set_payload(dp, payload_empty_map, sizeof(payload_empty_map));
}
static void m_payload_empty(struct vt_nsim_doc_params *dp)
{
    set_payload(dp, payload_empty_map, 0);
}
static void m_payload_16k1(struct vt_nsim_doc_params *dp)
{
    set_payload(dp, filler, VT_NITRO_MAX_PAYLOAD_SIZE + 1);
}
static void m_extra_reserved(struct vt_nsim_doc_params *dp)
{
    dp->extra_key = true;
    dp->extra_value = extra_reserved;
    dp->extra_value_len = sizeof(extra_reserved);
}
static void m_extra_deep(struct vt_nsim_doc_params *dp)
{
    dp->extra_key = true;
    dp->extra_value = extra_deep;
    dp->extra_value_len = sizeof(extra_deep);
}

struct reject_case {
    const char *name;
    mutator m;
    enum vt_err want;
    const char *check;
};

#define REJECT(m, want, check)                                                                     \
    {                                                                                              \
#m, m, want, check                                                                         \
    }

static const struct reject_case reject_cases[] = {
    /* A required key missing. */
    REJECT(m_omit_module_id, VT_E_MISSING_FIELD, "payload.module_id"),
    REJECT(m_omit_digest, VT_E_MISSING_FIELD, "payload.digest"),
    REJECT(m_omit_timestamp, VT_E_MISSING_FIELD, "payload.timestamp"),
    REJECT(m_omit_pcrs, VT_E_MISSING_FIELD, "payload.pcrs"),
    REJECT(m_omit_certificate, VT_E_MISSING_FIELD, "payload.certificate"),
    REJECT(m_omit_cabundle, VT_E_MISSING_FIELD, "payload.cabundle"),
    REJECT(m_omit_cabundle_indef, VT_E_MISSING_FIELD, "payload.cabundle"),
    /* A key twice. */
    REJECT(m_dup_module_id, VT_E_DUPLICATE, "payload.module_id"),
    REJECT(m_dup_digest, VT_E_DUPLICATE, "payload.digest"),
    REJECT(m_dup_timestamp, VT_E_DUPLICATE, "payload.timestamp"),
    REJECT(m_dup_pcrs, VT_E_DUPLICATE, "payload.pcrs"),
    REJECT(m_dup_certificate, VT_E_DUPLICATE, "payload.certificate"),
    REJECT(m_dup_cabundle, VT_E_DUPLICATE, "payload.cabundle"),
    REJECT(m_dup_public_key, VT_E_DUPLICATE, "payload.public_key"),
    REJECT(m_dup_user_data, VT_E_DUPLICATE, "payload.user_data"),
    REJECT(m_dup_nonce, VT_E_DUPLICATE, "payload.nonce"),
    REJECT(m_dup_nonce_bytes, VT_E_DUPLICATE, "payload.nonce"),
    /* A value of the wrong CBOR type. */
    REJECT(m_type_module_id, VT_E_BAD_FIELD, "payload.module_id"),
    REJECT(m_type_digest, VT_E_BAD_FIELD, "payload.digest"),
    REJECT(m_type_timestamp, VT_E_BAD_FIELD, "payload.timestamp"),
    REJECT(m_type_pcrs, VT_E_BAD_FIELD, "payload.pcrs"),
    REJECT(m_type_certificate, VT_E_BAD_FIELD, "payload.certificate"),
    REJECT(m_type_cabundle, VT_E_BAD_FIELD, "payload.cabundle"),
    REJECT(m_type_public_key, VT_E_BAD_FIELD, "payload.public_key"),
    REJECT(m_type_user_data, VT_E_BAD_FIELD, "payload.user_data"),
    REJECT(m_type_nonce, VT_E_BAD_FIELD, "payload.nonce"),
    /* Field values. */
    REJECT(m_digest_sha256, VT_E_BAD_FIELD, "payload.digest"),
    REJECT(m_digest_lower, VT_E_BAD_FIELD, "payload.digest"),
    REJECT(m_digest_space, VT_E_BAD_FIELD, "payload.digest"),
    REJECT(m_digest_empty, VT_E_BAD_FIELD, "payload.digest"),
    REJECT(m_module_id_empty, VT_E_BAD_FIELD, "payload.module_id"),
    REJECT(m_module_id_257, VT_E_BAD_FIELD, "payload.module_id"),
    REJECT(m_module_id_nul, VT_E_BAD_FIELD, "payload.module_id"),
    REJECT(m_module_id_utf8, VT_E_BAD_FIELD, "payload.module_id"),
    REJECT(m_pcr_index_32, VT_E_BAD_FIELD, "payload.pcrs"),
    REJECT(m_pcr_index_huge, VT_E_BAD_FIELD, "payload.pcrs"),
    REJECT(m_pcr_len_47, VT_E_BAD_FIELD, "payload.pcrs"),
    REJECT(m_pcr_len_0, VT_E_BAD_FIELD, "payload.pcrs"),
    REJECT(m_pcr_len_65, VT_E_BAD_FIELD, "payload.pcrs"),
    REJECT(m_pcr_dup, VT_E_DUPLICATE, "payload.pcrs"),
    REJECT(m_pcr_dup_far, VT_E_DUPLICATE, "payload.pcrs"),
    REJECT(m_pcrs_33, VT_E_BAD_FIELD, "payload.pcrs"),
    REJECT(m_pcrs_33_indef, VT_E_BAD_FIELD, "payload.pcrs"),
    REJECT(m_pcrs_0, VT_E_BAD_FIELD, "payload.pcrs"),
    REJECT(m_pcrs_0_indef, VT_E_BAD_FIELD, "payload.pcrs"),
    REJECT(m_certificate_1025, VT_E_BAD_FIELD, "payload.certificate"),
    REJECT(m_certificate_0, VT_E_BAD_FIELD, "payload.certificate"),
    REJECT(m_cabundle_0, VT_E_BAD_FIELD, "payload.cabundle"),
    REJECT(m_cabundle_0_indef, VT_E_BAD_FIELD, "payload.cabundle"),
    REJECT(m_cabundle_9, VT_E_BAD_FIELD, "payload.cabundle"),
    REJECT(m_cabundle_9_indef, VT_E_BAD_FIELD, "payload.cabundle"),
    REJECT(m_cabundle_entry_1025, VT_E_BAD_FIELD, "payload.cabundle"),
    REJECT(m_cabundle_entry_0, VT_E_BAD_FIELD, "payload.cabundle"),
    REJECT(m_public_key_0, VT_E_BAD_FIELD, "payload.public_key"),
    REJECT(m_public_key_1025, VT_E_BAD_FIELD, "payload.public_key"),
    REJECT(m_user_data_1025, VT_E_BAD_FIELD, "payload.user_data"),
    REJECT(m_nonce_1025, VT_E_BAD_FIELD, "payload.nonce"),
    /* Payload structure. */
    REJECT(m_no_break, VT_E_TRUNCATED, "payload"),
    REJECT(m_payload_trailing, VT_E_TRAILING_DATA, "payload"),
    REJECT(m_payload_trailing_indef, VT_E_TRAILING_DATA, "payload"),
    REJECT(m_payload_array, VT_E_BAD_FIELD, "payload"),
    REJECT(m_payload_int_key, VT_E_BAD_FIELD, "payload.key"),
    REJECT(m_payload_empty_map, VT_E_MISSING_FIELD, "payload.module_id"),
    REJECT(m_payload_empty, VT_E_TRUNCATED, "payload"),
    REJECT(m_payload_16k1, VT_E_TOO_LARGE, "cose.payload"),
    REJECT(m_extra_reserved, VT_E_MALFORMED, "payload.unknown_key"),
    REJECT(m_extra_deep, VT_E_TOO_LARGE, "payload.unknown_key"),
    /* Envelope. */
    REJECT(m_cose_trailing, VT_E_TRAILING_DATA, "cose"),
    REJECT(m_cose_trailing_tagged, VT_E_TRAILING_DATA, "cose"),
    REJECT(m_alg_es256, VT_E_UNSUPPORTED_ALGORITHM, "cose.protected"),
    REJECT(m_alg_es512, VT_E_UNSUPPORTED_ALGORITHM, "cose.protected"),
    REJECT(m_alg_one, VT_E_UNSUPPORTED_ALGORITHM, "cose.protected"),
    REJECT(m_alg_es256_extra, VT_E_UNSUPPORTED_ALGORITHM, "cose.protected"),
    REJECT(m_prot_extra, VT_E_BAD_FIELD, "cose.protected"),
    REJECT(m_prot_empty_map, VT_E_BAD_FIELD, "cose.protected"),
    REJECT(m_prot_empty, VT_E_BAD_FIELD, "cose.protected"),
    REJECT(m_prot_text_alg, VT_E_BAD_FIELD, "cose.protected"),
    REJECT(m_prot_trailing, VT_E_BAD_FIELD, "cose.protected"),
    REJECT(m_sig_short, VT_E_BAD_FIELD, "cose.signature"),
    REJECT(m_sig_long, VT_E_BAD_FIELD, "cose.signature"),
    /* A DER ECDSA-Sig-Value (102-104 bytes) is not the 96-byte raw r || s. */
    REJECT(m_sig_der, VT_E_BAD_FIELD, "cose.signature"),
    /* The parser takes only the definite array(4) NSM writes. */
    REJECT(m_indefinite_array, VT_E_BAD_FIELD, "cose"),
    REJECT(m_unprot_bstr, VT_E_BAD_FIELD, "cose.unprotected"),
    REJECT(m_unprot_null, VT_E_BAD_FIELD, "cose.unprotected"),
    REJECT(m_unprot_reserved, VT_E_MALFORMED, "cose.unprotected"),
};

static void test_parser_rejects(void **state)
{
    struct world *w = *state;
    for (size_t i = 0; i < sizeof(reject_cases) / sizeof(reject_cases[0]); i++) {
        const struct reject_case *rc = &reject_cases[i];
        struct vt_nsim_doc_params dp;
        vt_nsim_doc_params_default(&dp, w->pki);
        rc->m(&dp);
        expect_params(rc->name, w->v, w->pki, &dp, rc->want, rc->check);
    }
}

/* The default payload of dp as a definite map, with n more text keys keys[i] => i. */
static void payload_with_keys(const struct vt_nsim_pki *pki, const struct vt_nsim_doc_params *dp,
                              char keys[][16], size_t n, struct vt_sim_blob *out)
{
    struct vt_nsim_doc_params plain = *dp;
    plain.payload_override = NULL;
    struct vt_sim_blob base = {0};
    assert_true(vt_nsim_payload_build(pki, &plain, &base));
    assert_int_equal(base.data[0], 0xa9); /* map(9) */
    struct vt_nsim_cbor c = {0};
    vt_nsim_cbor_map(&c, 9 + n);
    vt_nsim_cbor_raw(&c, base.data + 1, base.len - 1);
    for (size_t i = 0; i < n; i++) {
        vt_nsim_cbor_text(&c, keys[i]);
        vt_nsim_cbor_uint(&c, i);
    }
    assert_true(vt_nsim_cbor_finish(&c, out));
    vt_sim_blob_cleanup(&base);
}

/* Unknown keys: up to VT_NITRO_MAX_UNKNOWN_KEYS distinct ones are ignored; one more, or one
 * twice, is rejected. */
static void test_unknown_keys(void **state)
{
    struct world *w = *state;
    static char keys[VT_NITRO_MAX_UNKNOWN_KEYS + 1][16];
    for (size_t i = 0; i <= VT_NITRO_MAX_UNKNOWN_KEYS; i++) {
        snprintf(keys[i], sizeof(keys[i]), "x%zu", i);
    }
    struct vt_nsim_doc_params dp;
    vt_nsim_doc_params_default(&dp, w->pki);
    struct vt_sim_blob payload = {0};

    payload_with_keys(w->pki, &dp, keys, VT_NITRO_MAX_UNKNOWN_KEYS, &payload);
    dp.payload_override = payload.data;
    dp.payload_override_len = payload.len;
    expect_params("32 unknown keys", w->v, w->pki, &dp, VT_OK, NULL);
    vt_sim_blob_cleanup(&payload);

    payload_with_keys(w->pki, &dp, keys, VT_NITRO_MAX_UNKNOWN_KEYS + 1, &payload);
    dp.payload_override = payload.data;
    dp.payload_override_len = payload.len;
    expect_params("33 unknown keys", w->v, w->pki, &dp, VT_E_TOO_LARGE, "payload.unknown_key");
    vt_sim_blob_cleanup(&payload);

    snprintf(keys[2], sizeof(keys[2]), "x0");
    payload_with_keys(w->pki, &dp, keys, 3, &payload);
    dp.payload_override = payload.data;
    dp.payload_override_len = payload.len;
    expect_params("unknown key twice", w->v, w->pki, &dp, VT_E_DUPLICATE, "payload.unknown_key");
    vt_sim_blob_cleanup(&payload);

    /* A known key that differs only in case is an unknown key, not a duplicate. */
    snprintf(keys[0], sizeof(keys[0]), "Nonce");
    snprintf(keys[1], sizeof(keys[1]), "pcrs ");
    payload_with_keys(w->pki, &dp, keys, 2, &payload);
    dp.payload_override = payload.data;
    dp.payload_override_len = payload.len;
    expect_params("near-miss keys", w->v, w->pki, &dp, VT_OK, NULL);
    vt_sim_blob_cleanup(&payload);
}

/* Envelope bytes edited after signing (the parser fails before any signature check). */
static void test_envelope_edits(void **state)
{
    struct world *w = *state;
    struct vt_nsim_doc_params dp;
    vt_nsim_doc_params_default(&dp, w->pki);
    struct vt_sim_blob doc = {0};
    build(w->pki, &dp, &doc, NULL);
    assert_int_equal(doc.data[0], 0x84);
    struct vt_nitro_opts o = opts_at(NOW);
    uint8_t *p = malloc(doc.len + 4);
    assert_non_null(p);

    /* Tag 98 (COSE_Sign) instead of 18. */
    p[0] = 0xd8;
    p[1] = 0x62;
    memcpy(p + 2, doc.data, doc.len);
    expect_bytes_at("tag 98", w->v, p, doc.len + 2, &o, VT_E_BAD_FIELD, "cose.tag");
    /* Tag 18 twice. */
    p[0] = 0xd2;
    p[1] = 0xd2;
    expect_bytes_at("tag 18 twice", w->v, p, doc.len + 2, &o, VT_E_BAD_FIELD, "cose");
    /* Tag 18 once is fine (the tagged form of the same bytes). */
    expect_bytes_at("tag 18", w->v, p + 1, doc.len + 1, &o, VT_OK, NULL);
    /* array(4) in a non-minimal head (0x98 0x04). */
    p[0] = 0x98;
    p[1] = 0x04;
    memcpy(p + 2, doc.data + 1, doc.len - 1);
    expect_bytes_at("non-minimal array head", w->v, p, doc.len + 1, &o, VT_E_MALFORMED, "cose");
    /* array(3), array(5). */
    memcpy(p, doc.data, doc.len);
    p[0] = 0x83;
    expect_bytes_at("array(3)", w->v, p, doc.len, &o, VT_E_BAD_FIELD, "cose");
    p[0] = 0x85;
    expect_bytes_at("array(5)", w->v, p, doc.len, &o, VT_E_BAD_FIELD, "cose");
    /* A map instead of the array. */
    p[0] = 0xa2;
    expect_bytes_at("map", w->v, p, doc.len, &o, VT_E_BAD_FIELD, "cose");
    /* Empty input. */
    expect_bytes_at("empty", w->v, p, 0, &o, VT_E_TRUNCATED, "cose");
    free(p);

    /* Larger than VT_NITRO_MAX_DOC_SIZE, whatever it holds. */
    uint8_t *big = calloc(1, VT_NITRO_MAX_DOC_SIZE + 1);
    assert_non_null(big);
    memcpy(big, doc.data, doc.len);
    expect_bytes_at("too large", w->v, big, VT_NITRO_MAX_DOC_SIZE + 1, &o, VT_E_TOO_LARGE,
                    "document.size");
    free(big);
    vt_sim_blob_cleanup(&doc);
}

/* Every strict prefix of a document is truncated. */
static void test_truncations(void **state)
{
    struct world *w = *state;
    struct vt_nsim_doc_params dp;
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.tagged = true;
    dp.indefinite_map = true;
    struct vt_sim_blob doc = {0};
    build(w->pki, &dp, &doc, NULL);
    struct vt_nitro_opts o = opts_at(NOW);
    struct vt_claims *c = claims_new();
    for (size_t n = 0; n < doc.len; n++) {
        /* A copy of exactly n bytes, so ASan sees any read past the end. */
        uint8_t *p = malloc(n > 0 ? n : 1);
        assert_non_null(p);
        memcpy(p, doc.data, n);
        struct vt_diag d;
        vt_diag_init(&d);
        enum vt_err err = vt_nitro_verify(w->v, p, n, &o, c, &d);
        if (err != VT_E_TRUNCATED) {
            print_error("prefix %zu of %zu: %s %s %s\n", n, doc.len, vt_err_name(err), d.check,
                        d.detail);
        }
        assert_int_equal(err, VT_E_TRUNCATED);
        free(p);
    }
    free(c);
    vt_sim_blob_cleanup(&doc);
}

/* ---- the COSE signature ---- */

static void test_signature(void **state)
{
    struct world *w = *state;
    static const struct {
        const char *name;
        enum vt_nsim_sig_defect defect;
        enum vt_err want;
    } cases[] = {
        {"wrong key", VT_NSIM_SIG_WRONG_KEY, VT_E_SIGNATURE},
        {"flipped bit", VT_NSIM_SIG_FLIP, VT_E_SIGNATURE},
        {"zero", VT_NSIM_SIG_ZERO, VT_E_SIGNATURE},
        {"over the raw payload", VT_NSIM_SIG_RAW_PAYLOAD, VT_E_SIGNATURE},
        {"high s", VT_NSIM_SIG_HIGH_S, VT_OK},
        {"ok", VT_NSIM_SIG_OK, VT_OK},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vt_nsim_doc_params dp;
        vt_nsim_doc_params_default(&dp, w->pki);
        dp.sig_defect = cases[i].defect;
        expect_params(cases[i].name, w->v, w->pki, &dp, cases[i].want,
                      cases[i].want == VT_OK ? NULL : "document.signature");
    }

    /* Signed by a key of the chain that is not the leaf's. */
    struct vt_nsim_doc_params dp;
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.signer = w->pki->key[VT_NSIM_INSTANCE];
    expect_params("signed by the instance key", w->v, w->pki, &dp, VT_E_SIGNATURE,
                  "document.signature");

    /* r and s out of range (all 0xff), and r = 0 with a valid s. */
    vt_nsim_doc_params_default(&dp, w->pki);
    struct vt_sim_blob doc = {0};
    struct vt_nsim_doc_layout lay;
    build(w->pki, &dp, &doc, &lay);
    assert_int_equal(lay.sig_len, 96);
    struct vt_nitro_opts o = opts_at(NOW);
    memset(doc.data + lay.sig_off, 0xff, 96);
    expect_doc("r, s = 0xff..", w->v, &doc, &o, VT_E_SIGNATURE, "document.signature");
    vt_sim_blob_cleanup(&doc);
    build(w->pki, &dp, &doc, &lay);
    memset(doc.data + lay.sig_off, 0, 48);
    expect_doc("r = 0", w->v, &doc, &o, VT_E_SIGNATURE, "document.signature");
    /* s and r swapped. */
    vt_sim_blob_cleanup(&doc);
    build(w->pki, &dp, &doc, &lay);
    uint8_t tmp[48];
    memcpy(tmp, doc.data + lay.sig_off, 48);
    memmove(doc.data + lay.sig_off, doc.data + lay.sig_off + 48, 48);
    memcpy(doc.data + lay.sig_off + 48, tmp, 48);
    expect_doc("r and s swapped", w->v, &doc, &o, VT_E_SIGNATURE, "document.signature");
    vt_sim_blob_cleanup(&doc);

    /* The unprotected header is not signed: changing it keeps the signature valid. */
    static const uint8_t unprot[] = {0xa1, 0x04, 0x42, 0x6b, 0x31};
    vt_nsim_doc_params_default(&dp, w->pki);
    build(w->pki, &dp, &doc, &lay);
    size_t unprot_off = lay.protected_off + lay.protected_len;
    assert_int_equal(doc.data[unprot_off], 0xa0);
    uint8_t *p = malloc(doc.len + sizeof(unprot));
    assert_non_null(p);
    memcpy(p, doc.data, unprot_off);
    memcpy(p + unprot_off, unprot, sizeof(unprot));
    memcpy(p + unprot_off + sizeof(unprot), doc.data + unprot_off + 1, doc.len - unprot_off - 1);
    expect_bytes_at("unprotected header edited", w->v, p, doc.len + sizeof(unprot) - 1, &o, VT_OK,
                    NULL);
    free(p);
    vt_sim_blob_cleanup(&doc);
}

/* ---- the certificate chain ---- */

struct chain_case {
    const char *name;
    enum vt_nsim_level level;
    void (*edit)(struct vt_nsim_cert_params *cp);
    enum vt_err want;
    const char *check;
};

static void e_wrong_key(struct vt_nsim_cert_params *cp)
{
    cp->wrong_key = true;
}
static void e_no_basic(struct vt_nsim_cert_params *cp)
{
    cp->omit_basic_constraints = true;
}
static void e_not_ca(struct vt_nsim_cert_params *cp)
{
    cp->ca = false;
}
static void e_ca(struct vt_nsim_cert_params *cp)
{
    cp->ca = true;
}
static void e_pathlen_0(struct vt_nsim_cert_params *cp)
{
    cp->pathlen = 0;
}
static void e_pathlen_1(struct vt_nsim_cert_params *cp)
{
    cp->pathlen = 1;
}
static void e_pathlen_2(struct vt_nsim_cert_params *cp)
{
    cp->pathlen = 2;
}
static void e_pathlen_3(struct vt_nsim_cert_params *cp)
{
    cp->pathlen = 3;
}
static void e_no_key_cert_sign(struct vt_nsim_cert_params *cp)
{
    cp->key_usage = VT_NSIM_KU_DIGITAL_SIGNATURE | VT_NSIM_KU_CRL_SIGN;
}
static void e_no_key_usage(struct vt_nsim_cert_params *cp)
{
    cp->key_usage = 0;
}
static void e_non_repudiation_only(struct vt_nsim_cert_params *cp)
{
    cp->key_usage = VT_NSIM_KU_NON_REPUDIATION;
}
static void e_key_usage_all(struct vt_nsim_cert_params *cp)
{
    cp->key_usage = VT_NSIM_KU_DIGITAL_SIGNATURE | VT_NSIM_KU_NON_REPUDIATION |
                    VT_NSIM_KU_KEY_CERT_SIGN | VT_NSIM_KU_CRL_SIGN;
}
static void e_p256(struct vt_nsim_cert_params *cp)
{
    cp->p256 = true;
}
static void e_sha256(struct vt_nsim_cert_params *cp)
{
    cp->sig_sha256 = true;
}
static void e_basic_not_critical(struct vt_nsim_cert_params *cp)
{
    cp->basic_not_critical = true;
}

static const struct chain_case chain_cases[] = {
    /* Signatures. */
    {"root wrong key", VT_NSIM_ROOT, e_wrong_key, VT_E_CERT_SIGNATURE, "*.self_signed"},
    {"regional wrong key", VT_NSIM_REGIONAL, e_wrong_key, VT_E_CERT_SIGNATURE, "*.signature"},
    {"zonal wrong key", VT_NSIM_ZONAL, e_wrong_key, VT_E_CERT_SIGNATURE, "*.signature"},
    {"instance wrong key", VT_NSIM_INSTANCE, e_wrong_key, VT_E_CERT_SIGNATURE, "*.signature"},
    {"leaf wrong key", VT_NSIM_LEAF, e_wrong_key, VT_E_CERT_SIGNATURE,
     "cert.signature|nitro_chain[0].signature"},
    /* basicConstraints on the CAs. */
    {"root without basicConstraints", VT_NSIM_ROOT, e_no_basic, VT_E_CHAIN, "*.basic_constraints"},
    {"regional without basicConstraints", VT_NSIM_REGIONAL, e_no_basic, VT_E_CHAIN,
     "*.basic_constraints"},
    {"zonal without basicConstraints", VT_NSIM_ZONAL, e_no_basic, VT_E_CHAIN,
     "*.basic_constraints"},
    {"instance without basicConstraints", VT_NSIM_INSTANCE, e_no_basic, VT_E_CHAIN, NULL},
    {"regional not a CA", VT_NSIM_REGIONAL, e_not_ca, VT_E_CHAIN, "*.basic_constraints"},
    {"instance not a CA", VT_NSIM_INSTANCE, e_not_ca, VT_E_CHAIN, NULL},
    /* pathLenConstraint (RFC 5280 4.2.1.9: intermediate CA certificates that may follow; the
     * chain below the root is regional, zonal, instance, then the leaf). */
    {"root pathlen 3", VT_NSIM_ROOT, e_pathlen_3, VT_OK, NULL},
    {"root pathlen 2", VT_NSIM_ROOT, e_pathlen_2, VT_E_CHAIN, NULL},
    {"regional pathlen 1", VT_NSIM_REGIONAL, e_pathlen_1, VT_E_CHAIN, NULL},
    {"regional pathlen 0", VT_NSIM_REGIONAL, e_pathlen_0, VT_E_CHAIN, "*.path_length"},
    {"zonal pathlen 0", VT_NSIM_ZONAL, e_pathlen_0, VT_E_CHAIN, NULL},
    {"zonal pathlen 2", VT_NSIM_ZONAL, e_pathlen_2, VT_OK, NULL},
    /* keyUsage keyCertSign on every CA. */
    {"root without keyCertSign", VT_NSIM_ROOT, e_no_key_cert_sign, VT_E_CHAIN, "*.key_usage"},
    {"regional without keyCertSign", VT_NSIM_REGIONAL, e_no_key_cert_sign, VT_E_CHAIN,
     "*.key_usage"},
    {"zonal without keyCertSign", VT_NSIM_ZONAL, e_no_key_cert_sign, VT_E_CHAIN, "*.key_usage"},
    {"instance without keyCertSign", VT_NSIM_INSTANCE, e_no_key_cert_sign, VT_E_CHAIN,
     "*.key_usage"},
    {"root without keyUsage", VT_NSIM_ROOT, e_no_key_usage, VT_E_CHAIN, "*.key_usage"},
    {"zonal without keyUsage", VT_NSIM_ZONAL, e_no_key_usage, VT_E_CHAIN, "*.key_usage"},
    {"instance without keyUsage", VT_NSIM_INSTANCE, e_no_key_usage, VT_E_CHAIN, "*.key_usage"},
    {"instance with every keyUsage", VT_NSIM_INSTANCE, e_key_usage_all, VT_OK, NULL},
    {"zonal basicConstraints not critical", VT_NSIM_ZONAL, e_basic_not_critical, VT_OK, NULL},
    /* The leaf. */
    {"leaf as CA", VT_NSIM_LEAF, e_ca, VT_E_CHAIN, "certificate.basic_constraints"},
    {"leaf without digitalSignature", VT_NSIM_LEAF, e_non_repudiation_only, VT_E_CHAIN,
     "certificate.key_usage"},
    {"leaf without keyUsage", VT_NSIM_LEAF, e_no_key_usage, VT_E_CHAIN, "certificate.key_usage"},
    {"leaf without basicConstraints", VT_NSIM_LEAF, e_no_basic, VT_OK, NULL},
    {"leaf P-256", VT_NSIM_LEAF, e_p256, VT_E_UNSUPPORTED_ALGORITHM, "cert.public_key"},
    {"leaf signed with SHA-256", VT_NSIM_LEAF, e_sha256, VT_E_UNSUPPORTED_ALGORITHM,
     "cert.signature_algorithm"},
    {"instance P-256", VT_NSIM_INSTANCE, e_p256, VT_E_UNSUPPORTED_ALGORITHM, "cert.public_key"},
};

static void test_chain_defects(void **state)
{
    (void)state;
    size_t failures = 0;
    for (size_t i = 0; i < sizeof(chain_cases) / sizeof(chain_cases[0]); i++) {
        const struct chain_case *cc = &chain_cases[i];
        struct vt_nsim_pki_params pp;
        vt_nsim_pki_params_default(&pp, NOW);
        cc->edit(&pp.level[cc->level]);
        struct vt_nsim_pki *pki = pki_with(&pp);
        struct vt_nitro_verifier *v = verifier_for1(pki);
        struct vt_nsim_doc_params dp;
        vt_nsim_doc_params_default(&dp, pki);
        struct vt_sim_blob doc = {0};
        build(pki, &dp, &doc, NULL);
        struct vt_nitro_opts o = opts_at(NOW);
        /* Twice: the first builds the chain entry, the second would hit the cache. All cases
         * run before the test fails, so that every discrepancy is listed. */
        failures += !verify_matches(cc->name, v, doc.data, doc.len, &o, cc->want, cc->check);
        failures += !verify_matches(cc->name, v, doc.data, doc.len, &o, cc->want, cc->check);
        vt_sim_blob_cleanup(&doc);
        vt_nitro_verifier_free(v);
        vt_nsim_pki_free(pki);
    }
    assert_int_equal(failures, 0);
}

/* cabundle contents and order, and certificates that do not parse. */
static void test_cabundle_shapes(void **state)
{
    struct world *w = *state;
    struct vt_nsim_pki *other = pki_default(); /* same names, other keys */
    struct vt_nitro_verifier *both = NULL;
    struct vt_nsim_pki *pair[2] = {w->pki, other};
    both = verifier_for(pair, 2);
    static const struct {
        const char *name;
        size_t n;
        enum vt_nsim_level levels[5];
        enum vt_err want;
        const char *check;
    } orders[] = {
        {"zonal and regional swapped",
         4,
         {VT_NSIM_ROOT, VT_NSIM_ZONAL, VT_NSIM_REGIONAL, VT_NSIM_INSTANCE},
         VT_E_CHAIN,
         "*.issuer_name"},
        {"regional first",
         4,
         {VT_NSIM_REGIONAL, VT_NSIM_ROOT, VT_NSIM_ZONAL, VT_NSIM_INSTANCE},
         VT_E_UNTRUSTED_ROOT,
         "cabundle[0]"},
        {"reversed",
         4,
         {VT_NSIM_INSTANCE, VT_NSIM_ZONAL, VT_NSIM_REGIONAL, VT_NSIM_ROOT},
         VT_E_UNTRUSTED_ROOT,
         "cabundle[0]"},
        {"no instance",
         3,
         {VT_NSIM_ROOT, VT_NSIM_REGIONAL, VT_NSIM_ZONAL},
         VT_E_CHAIN,
         "certificate.issuer|nitro_chain[0].issuer_name"},
        {"no zonal",
         3,
         {VT_NSIM_ROOT, VT_NSIM_REGIONAL, VT_NSIM_INSTANCE},
         VT_E_CHAIN,
         "*.issuer_name"},
        {"root only",
         1,
         {VT_NSIM_ROOT},
         VT_E_CHAIN,
         "certificate.issuer|nitro_chain[0].issuer_name"},
        {"instance twice",
         5,
         {VT_NSIM_ROOT, VT_NSIM_REGIONAL, VT_NSIM_ZONAL, VT_NSIM_INSTANCE, VT_NSIM_INSTANCE},
         VT_E_CHAIN,
         NULL},
        {"leaf in the bundle",
         5,
         {VT_NSIM_ROOT, VT_NSIM_REGIONAL, VT_NSIM_ZONAL, VT_NSIM_INSTANCE, VT_NSIM_LEAF},
         VT_E_CHAIN,
         NULL},
    };
    for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
        struct vt_nsim_doc_params dp;
        vt_nsim_doc_params_default(&dp, w->pki);
        dp.n_cabundle = orders[i].n;
        for (size_t k = 0; k < orders[i].n; k++) {
            dp.cabundle[k].level = orders[i].levels[k];
        }
        expect_params(orders[i].name, w->v, w->pki, &dp, orders[i].want, orders[i].check);
    }

    /* Bytes that are not a certificate, in the bundle and as the leaf. */
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    struct vt_nsim_doc_params dp;
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.cabundle[1].der = junk;
    dp.cabundle[1].len = sizeof(junk);
    expect_params("junk in cabundle", w->v, w->pki, &dp, VT_E_BAD_CERT, "cabundle");
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.cabundle[0].der = filler;
    dp.cabundle[0].len = 700;
    expect_params("filler as root", w->v, w->pki, &dp, VT_E_BAD_CERT, "cabundle");
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.certificate = junk;
    dp.certificate_len = sizeof(junk);
    expect_params("junk leaf", w->v, w->pki, &dp, VT_E_BAD_CERT, "certificate");
    /* A certificate with trailing bytes after its DER. */
    struct vt_sim_blob leaf = der_of(w->pki, VT_NSIM_LEAF);
    uint8_t *padded = malloc(leaf.len + 1);
    assert_non_null(padded);
    memcpy(padded, leaf.data, leaf.len);
    padded[leaf.len] = 0;
    dp.certificate = padded;
    dp.certificate_len = leaf.len + 1;
    expect_params("leaf with a trailing byte", w->v, w->pki, &dp, VT_E_BAD_CERT, "certificate");
    free(padded);
    vt_sim_blob_cleanup(&leaf);

    /* A CA certificate as the leaf: issued by the zonal CA, not by the instance CA. */
    struct vt_sim_blob inst = der_of(w->pki, VT_NSIM_INSTANCE);
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.certificate = inst.data;
    dp.certificate_len = inst.len;
    dp.signer = w->pki->key[VT_NSIM_INSTANCE];
    expect_params("instance CA as the leaf", w->v, w->pki, &dp, VT_E_CHAIN,
                  "certificate.issuer|nitro_chain[0].issuer_name");
    vt_sim_blob_cleanup(&inst);

    /* Only the AWS root trusted: the synthetic root is not an anchor. */
    struct vt_nitro_verifier *aws = NULL;
    assert_int_equal(vt_nitro_verifier_new(NULL, &aws, NULL), VT_OK);
    vt_nsim_doc_params_default(&dp, w->pki);
    expect_params("AWS root only", aws, w->pki, &dp, VT_E_UNTRUSTED_ROOT, "cabundle[0]");
    vt_nitro_verifier_free(aws);
    /* An empty anchor list trusts nothing. */
    struct vt_cert_list none;
    vt_cert_list_init(&none);
    assert_int_equal(vt_nitro_verifier_new(&none, &aws, NULL), VT_OK);
    expect_params("no anchors", aws, w->pki, &dp, VT_E_UNTRUSTED_ROOT, "cabundle[0]");
    vt_nitro_verifier_free(aws);
    /* A look-alike root (same names, other key) trusted instead of the real one. */
    struct vt_nitro_verifier *lookalike = verifier_for1(other);
    expect_params("look-alike root", lookalike, w->pki, &dp, VT_E_UNTRUSTED_ROOT, "cabundle[0]");
    vt_nitro_verifier_free(lookalike);

    /* Both roots trusted, parts of the two PKIs mixed: the names match, the keys do not. */
    struct vt_sim_blob other_leaf = der_of(other, VT_NSIM_LEAF);
    struct vt_sim_blob other_cab[4];
    for (size_t i = 0; i < 4; i++) {
        other_cab[i] = der_of(other, (enum vt_nsim_level)i);
    }
    vt_nsim_doc_params_default(&dp, w->pki);
    expect_params("own chain", both, w->pki, &dp, VT_OK, NULL);
    dp.certificate = other_leaf.data;
    dp.certificate_len = other_leaf.len;
    dp.signer = other->key[VT_NSIM_LEAF];
    expect_params("other PKI's leaf", both, w->pki, &dp, VT_E_CERT_SIGNATURE,
                  "cert.signature|nitro_chain[0].signature");
    vt_nsim_doc_params_default(&dp, w->pki);
    for (size_t i = 0; i < 4; i++) {
        dp.cabundle[i].der = other_cab[i].data;
        dp.cabundle[i].len = other_cab[i].len;
    }
    expect_params("other PKI's cabundle", both, w->pki, &dp, VT_E_CERT_SIGNATURE,
                  "cert.signature|nitro_chain[0].signature");
    /* Other PKI's instance CA in our bundle. */
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.cabundle[3].der = other_cab[3].data;
    dp.cabundle[3].len = other_cab[3].len;
    expect_params("other PKI's instance CA", both, w->pki, &dp, VT_E_CERT_SIGNATURE, "*.signature");
    /* Other PKI's root in our bundle (trusted, but it did not sign our regional CA). */
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.cabundle[0].der = other_cab[0].data;
    dp.cabundle[0].len = other_cab[0].len;
    expect_params("other PKI's root", both, w->pki, &dp, VT_E_CERT_SIGNATURE, "*.signature");
    for (size_t i = 0; i < 4; i++) {
        vt_sim_blob_cleanup(&other_cab[i]);
    }
    vt_sim_blob_cleanup(&other_leaf);
    vt_nitro_verifier_free(both);
    vt_nsim_pki_free(other);
}

/* ---- validity windows ---- */

/* A re-issue of pki's root (P-384, ECDSA-SHA384) changed as o asks; o->signer defaults to the
 * root's key. DER into out. */
static void reissued_root_der(const struct vt_nsim_pki *pki, struct vt_testgen_reissue_opts o,
                              struct vt_sim_blob *out)
{
    if (o.signer == NULL) {
        o.signer = pki->key[VT_NSIM_ROOT];
    }
    X509 *x = NULL;
    assert_int_equal(vt_testgen_reissue(pki->cert[VT_NSIM_ROOT], &o, &x, NULL), VT_OK);
    size_t len = 0;
    uint8_t *der = NULL;
    assert_int_equal(vt_testgen_cert_der(x, &der, &len, NULL), VT_OK);
    vt_sim_blob_cleanup(out);
    out->data = der;
    out->len = len;
    X509_free(x);
}

/* SPEC: docs/verify.md (Nitro chain, Trust anchors): cabundle[0] is matched to a trust anchor
 * by subject and key, then checked as it is: a re-issued AWS root (same name and key, other
 * bytes) verifies; its validity, self-signature and name are its own. */
static void test_reissued_root(void **state)
{
    struct world *w = *state;
    struct vt_sim_blob root2 = {0};
    struct vt_nsim_doc_params dp;
    /* notAfter NOW + 1h lies inside every other certificate's default window. */
    struct vt_testgen_reissue_opts o = {.not_before = NOW - VT_NSIM_DAY,
                                        .not_after = NOW + VT_NSIM_HOUR,
                                        .serial = 4242,
                                        .pathlen = -1};
    reissued_root_der(w->pki, o, &root2);
    struct vt_sim_blob root1 = der_of(w->pki, VT_NSIM_ROOT);
    assert_false(root1.len == root2.len && memcmp(root1.data, root2.data, root1.len) == 0);
    vt_sim_blob_cleanup(&root1);
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.cabundle[0].der = root2.data;
    dp.cabundle[0].len = root2.len;
    expect_params("re-issued root in cabundle[0]", w->v, w->pki, &dp, VT_OK, NULL);
    /* Its own window: one second past its notAfter (inclusive) it is expired. */
    struct vt_sim_blob doc = {0};
    build(w->pki, &dp, &doc, NULL);
    struct vt_nitro_opts at = opts_at(NOW + VT_NSIM_HOUR);
    expect_doc("re-issued root at its notAfter", w->v, &doc, &at, VT_OK, NULL);
    at = opts_at(NOW + VT_NSIM_HOUR + 1);
    expect_doc("re-issued root past its notAfter", w->v, &doc, &at, VT_E_EXPIRED, "cabundle[0]");
    vt_sim_blob_cleanup(&doc);

    /* The anchor may be the re-issue and the document carry the original root. */
    struct vt_cert_list anchors;
    vt_cert_list_init(&anchors);
    struct vt_cert *c = NULL;
    assert_int_equal(vt_cert_from_der(root2.data, root2.len, &c, NULL), VT_OK);
    assert_int_equal(vt_cert_list_add(&anchors, c), VT_OK);
    vt_cert_free(c);
    struct vt_nitro_verifier *v2 = NULL;
    assert_int_equal(vt_nitro_verifier_new(&anchors, &v2, NULL), VT_OK);
    vt_cert_list_cleanup(&anchors);
    vt_nsim_doc_params_default(&dp, w->pki);
    expect_params("original root, re-issue trusted", v2, w->pki, &dp, VT_OK, NULL);
    vt_nitro_verifier_free(v2);

    /* An expired re-issue: refused although the anchor's copy is valid. */
    o.not_before = NOW - 2 * VT_NSIM_DAY;
    o.not_after = NOW - VT_NSIM_DAY;
    reissued_root_der(w->pki, o, &root2);
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.cabundle[0].der = root2.data;
    dp.cabundle[0].len = root2.len;
    /* (It expired before the leaf was issued: no instant fits the chain, found when the chain
     * is first verified.) */
    expect_params("expired re-issued root", w->v, w->pki, &dp, VT_E_EXPIRED,
                  "nitro_chain[4].validity");

    /* The root's name and key, signed by another key. */
    EVP_PKEY *k = EVP_EC_gen("P-384");
    assert_non_null(k);
    o.not_before = NOW - VT_NSIM_DAY;
    o.not_after = NOW + VT_NSIM_DAY;
    o.signer = k;
    reissued_root_der(w->pki, o, &root2);
    dp.cabundle[0].der = root2.data;
    dp.cabundle[0].len = root2.len;
    expect_params("root's name and key, forged signature", w->v, w->pki, &dp, VT_E_CERT_SIGNATURE,
                  "*.self_signed");

    /* The root's name with another key; the root's key under another name. */
    o.key = k;
    reissued_root_der(w->pki, o, &root2);
    dp.cabundle[0].der = root2.data;
    dp.cabundle[0].len = root2.len;
    struct vt_sim_blob doc2 = {0};
    build(w->pki, &dp, &doc2, NULL);
    struct vt_nitro_opts now = opts_at(NOW);
    struct vt_claims *cl = claims_new();
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_nitro_verify(w->v, doc2.data, doc2.len, &now, cl, &d), VT_E_UNTRUSTED_ROOT);
    assert_string_equal(d.check, "cabundle[0]");
    assert_non_null(strstr(d.detail, "a trusted root has its subject but another public key"));
    vt_sim_blob_cleanup(&doc2);
    o.key = NULL;
    o.signer = NULL;
    o.cn = "aws.nitro-enclaves.renamed";
    reissued_root_der(w->pki, o, &root2);
    dp.cabundle[0].der = root2.data;
    dp.cabundle[0].len = root2.len;
    build(w->pki, &dp, &doc2, NULL);
    vt_diag_init(&d);
    assert_int_equal(vt_nitro_verify(w->v, doc2.data, doc2.len, &now, cl, &d), VT_E_UNTRUSTED_ROOT);
    assert_string_equal(d.check, "cabundle[0]");
    assert_non_null(strstr(d.detail, "under another subject"));
    vt_sim_blob_cleanup(&doc2);
    free(cl);
    EVP_PKEY_free(k);
    vt_sim_blob_cleanup(&root2);
}

static const char *window_check(enum vt_nsim_level level)
{
    static const char *const names[VT_NSIM_LEVELS] = {
        "cabundle[0]", "cabundle[1]", "cabundle[2]", "cabundle[3]", "certificate",
    };
    return names[level];
}

static void test_validity_windows(void **state)
{
    (void)state;
    const vt_time end = NOW + VT_NSIM_HOUR; /* inside every default window */
    const vt_time start = NOW + 30 * 60;    /* likewise */
    for (int l = 0; l < VT_NSIM_LEVELS; l++) {
        enum vt_nsim_level level = (enum vt_nsim_level)l;
        char label[64];

        /* Expiry: not_after = end; now == end is valid, end + 1 is not (either mode). */
        struct vt_nsim_pki_params pp;
        vt_nsim_pki_params_default(&pp, NOW);
        pp.level[level].not_after = end;
        struct vt_nsim_pki *pki = pki_with(&pp);
        struct vt_nitro_verifier *v = verifier_for1(pki);
        struct vt_nsim_doc_params dp;
        vt_nsim_doc_params_default(&dp, pki);
        struct vt_sim_blob doc = {0};
        build(pki, &dp, &doc, NULL);
        struct vt_nitro_opts o = opts_at(end + 1);
        snprintf(label, sizeof(label), "level %d expired", l);
        expect_doc(label, v, &doc, &o, VT_E_EXPIRED, window_check(level));
        o.time_mode = VT_TIME_EXPIRY_ONLY;
        expect_doc(label, v, &doc, &o, VT_E_EXPIRED, window_check(level));
        o = opts_at(end - 1);
        snprintf(label, sizeof(label), "level %d before not_after", l);
        expect_doc(label, v, &doc, &o, VT_OK, NULL);
        o = opts_at(end);
        snprintf(label, sizeof(label), "level %d at not_after", l);
        expect_doc(label, v, &doc, &o, VT_OK, NULL);
        o.time_mode = VT_TIME_EXPIRY_ONLY;
        expect_doc(label, v, &doc, &o, VT_OK, NULL);
        o.time_mode = VT_TIME_STRICT;
        struct vt_claims *c = claims_new();
        verify_ok(v, &doc, &o, c);
        assert_int_equal(c->collateral.earliest_expiry, end);
        free(c);
        o = opts_at(end + 1);
        snprintf(label, sizeof(label), "level %d expired (cached)", l);
        expect_doc(label, v, &doc, &o, VT_E_EXPIRED, window_check(level));
        o = opts_at(end + VT_NSIM_YEAR);
        expect_doc(label, v, &doc, &o, VT_E_EXPIRED, NULL);
        vt_sim_blob_cleanup(&doc);
        vt_nitro_verifier_free(v);
        vt_nsim_pki_free(pki);

        /* Not yet valid: not_before = start; start is valid, start - 1 is not (strict only). */
        vt_nsim_pki_params_default(&pp, NOW);
        pp.level[level].not_before = start;
        pki = pki_with(&pp);
        v = verifier_for1(pki);
        vt_nsim_doc_params_default(&dp, pki);
        build(pki, &dp, &doc, NULL);
        o = opts_at(start - 1);
        snprintf(label, sizeof(label), "level %d not yet valid", l);
        expect_doc(label, v, &doc, &o, VT_E_NOT_YET_VALID, window_check(level));
        o.time_mode = VT_TIME_EXPIRY_ONLY;
        snprintf(label, sizeof(label), "level %d not yet valid, expiry only", l);
        expect_doc(label, v, &doc, &o, VT_OK, NULL);
        o = opts_at(start);
        snprintf(label, sizeof(label), "level %d at not_before", l);
        expect_doc(label, v, &doc, &o, VT_OK, NULL);
        o = opts_at(start + 1);
        snprintf(label, sizeof(label), "level %d after not_before", l);
        expect_doc(label, v, &doc, &o, VT_OK, NULL);
        o = opts_at(start - 1);
        snprintf(label, sizeof(label), "level %d not yet valid (cached)", l);
        expect_doc(label, v, &doc, &o, VT_E_NOT_YET_VALID, window_check(level));
        vt_sim_blob_cleanup(&doc);
        vt_nitro_verifier_free(v);
        vt_nsim_pki_free(pki);
    }

    /* An unknown time mode is a usage error. */
    struct vt_nsim_pki *pki = NULL;
    struct vt_sim_blob doc = {0};
    assert_true(vt_nsim_default(NOW, &pki, &doc));
    struct vt_nitro_verifier *v = verifier_for1(pki);
    struct vt_nitro_opts o = opts_at(NOW);
    o.time_mode = (enum vt_time_mode)7;
    expect_doc("time mode 7", v, &doc, &o, VT_E_ARG, NULL);
    vt_nitro_verifier_free(v);
    vt_sim_blob_cleanup(&doc);
    vt_nsim_pki_free(pki);
}

/* ---- freshness ---- */

static void test_max_age(void **state)
{
    struct world *w = *state;
    const vt_time issued = NOW - 100;
    struct vt_nsim_doc_params dp;
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.timestamp_ms = (uint64_t)issued * 1000u + 999u;
    struct vt_sim_blob doc = {0};
    build(w->pki, &dp, &doc, NULL);
    struct vt_nitro_opts o = opts_at(NOW);

    expect_doc("no max_age", w->v, &doc, &o, VT_OK, NULL);
    o.max_age = 100; /* exactly the boundary */
    expect_doc("max_age 100", w->v, &doc, &o, VT_OK, NULL);
    o.max_age = 101;
    expect_doc("max_age 101", w->v, &doc, &o, VT_OK, NULL);
    o.max_age = INT64_MAX;
    expect_doc("max_age max", w->v, &doc, &o, VT_OK, NULL);
    o.max_age = 99; /* one second over */
    expect_doc("max_age 99", w->v, &doc, &o, VT_E_EXPIRED, "document.max_age");
    o.max_age = 0;
    expect_doc("max_age 0", w->v, &doc, &o, VT_E_EXPIRED, "document.max_age");
    o.now = issued; /* max_age 0 at the second of the timestamp */
    expect_doc("max_age 0 at issue", w->v, &doc, &o, VT_OK, NULL);
    o.now = issued + 1;
    expect_doc("max_age 0 a second later", w->v, &doc, &o, VT_E_EXPIRED, "document.max_age");
    /* Freshness is checked after the signature: a forged timestamp is a signature failure. */
    vt_sim_blob_cleanup(&doc);
    dp.sig_defect = VT_NSIM_SIG_FLIP;
    build(w->pki, &dp, &doc, NULL);
    o = opts_at(NOW);
    o.max_age = 0;
    expect_doc("stale and forged", w->v, &doc, &o, VT_E_SIGNATURE, "document.signature");
    vt_sim_blob_cleanup(&doc);
}

static void test_nonce(void **state)
{
    struct world *w = *state;
    static const uint8_t nonce[20] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                      11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
    uint8_t other[21];
    memcpy(other, nonce, sizeof(nonce));
    other[20] = 0;
    struct vt_nsim_doc_params dp;
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.nonce.kind = VT_NSIM_OPT_BYTES;
    dp.nonce.data = nonce;
    dp.nonce.len = sizeof(nonce);
    struct vt_sim_blob doc = {0};
    build(w->pki, &dp, &doc, NULL);
    struct vt_nitro_opts o = opts_at(NOW);

    o.nonce = nonce;
    o.nonce_len = sizeof(nonce);
    expect_doc("same nonce", w->v, &doc, &o, VT_OK, NULL);
    struct vt_claims *c = claims_new();
    verify_ok(w->v, &doc, &o, c);
    assert_true(c->nonce.present);
    assert_int_equal(c->nonce.len, sizeof(nonce));
    assert_memory_equal(c->nonce.data, nonce, sizeof(nonce));
    free(c);

    other[19] ^= 0x80;
    o.nonce = other;
    expect_doc("last byte differs", w->v, &doc, &o, VT_E_NONCE_MISMATCH, "document.nonce");
    other[19] ^= 0x80;
    other[0] ^= 0x01;
    expect_doc("first byte differs", w->v, &doc, &o, VT_E_NONCE_MISMATCH, "document.nonce");
    other[0] ^= 0x01;
    o.nonce_len = 19;
    expect_doc("expected shorter", w->v, &doc, &o, VT_E_NONCE_MISMATCH, "document.nonce");
    o.nonce_len = 21;
    expect_doc("expected longer", w->v, &doc, &o, VT_E_NONCE_MISMATCH, "document.nonce");
    o.nonce_len = 0;
    expect_doc("expected empty", w->v, &doc, &o, VT_E_NONCE_MISMATCH, "document.nonce");
    o.nonce_len = 20;
    expect_doc("same bytes, other buffer", w->v, &doc, &o, VT_OK, NULL);
    vt_sim_blob_cleanup(&doc);

    /* The document has no nonce: null, absent; an empty one matches only an empty one. */
    static const enum vt_nsim_opt_kind kinds[] = {VT_NSIM_OPT_NULL, VT_NSIM_OPT_ABSENT};
    for (size_t i = 0; i < 2; i++) {
        vt_nsim_doc_params_default(&dp, w->pki);
        dp.nonce.kind = kinds[i];
        build(w->pki, &dp, &doc, NULL);
        o.nonce = nonce;
        o.nonce_len = sizeof(nonce);
        expect_doc("no nonce in the document", w->v, &doc, &o, VT_E_NONCE_MISMATCH,
                   "document.nonce");
        o.nonce_len = 0;
        expect_doc("empty nonce expected, none in the document", w->v, &doc, &o,
                   VT_E_NONCE_MISMATCH, "document.nonce");
        o.nonce = NULL;
        expect_doc("no nonce expected", w->v, &doc, &o, VT_OK, NULL);
        vt_sim_blob_cleanup(&doc);
    }
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.nonce.kind = VT_NSIM_OPT_BYTES;
    dp.nonce.data = nonce;
    dp.nonce.len = 0;
    build(w->pki, &dp, &doc, NULL);
    o.nonce = nonce;
    o.nonce_len = 0;
    expect_doc("empty nonce both", w->v, &doc, &o, VT_OK, NULL);
    o.nonce_len = 1;
    expect_doc("one byte expected, empty in the document", w->v, &doc, &o, VT_E_NONCE_MISMATCH,
               "document.nonce");
    vt_sim_blob_cleanup(&doc);

    /* A nonce mismatch never hides a bad signature. */
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.sig_defect = VT_NSIM_SIG_ZERO;
    build(w->pki, &dp, &doc, NULL);
    o.nonce = nonce;
    o.nonce_len = sizeof(nonce);
    expect_doc("no nonce and forged", w->v, &doc, &o, VT_E_SIGNATURE, "document.signature");
    vt_sim_blob_cleanup(&doc);
}

/* ---- the chain cache ---- */

static void test_cache_after_failures(void **state)
{
    struct world *w = *state;
    struct vt_nsim_pki *other = pki_default();
    struct vt_sim_blob other_inst = der_of(other, VT_NSIM_INSTANCE);
    struct vt_nitro_verifier *v = verifier_for1(w->pki);
    struct vt_nitro_opts o = opts_at(NOW);
    struct vt_nsim_doc_params dp;
    struct vt_sim_blob good = {0}, bad_sig = {0}, bad_chain = {0}, bad_leaf = {0};
    vt_nsim_doc_params_default(&dp, w->pki);
    build(w->pki, &dp, &good, NULL);
    dp.sig_defect = VT_NSIM_SIG_WRONG_KEY;
    build(w->pki, &dp, &bad_sig, NULL);
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.cabundle[3].der = other_inst.data;
    dp.cabundle[3].len = other_inst.len;
    build(w->pki, &dp, &bad_chain, NULL);
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.signer = w->pki->key[VT_NSIM_INSTANCE];
    dp.certificate = other_inst.data;
    dp.certificate_len = other_inst.len;
    build(w->pki, &dp, &bad_leaf, NULL);

    /* A chain that fails to build is not cached: it fails again, and the good one verifies. */
    for (int round = 0; round < 3; round++) {
        expect_doc("bad chain", v, &bad_chain, &o, VT_E_CERT_SIGNATURE, "*.signature");
        expect_doc("good", v, &good, &o, VT_OK, NULL);
        expect_doc("bad signature", v, &bad_sig, &o, VT_E_SIGNATURE, "document.signature");
        expect_doc("good", v, &good, &o, VT_OK, NULL);
        expect_doc("bad leaf", v, &bad_leaf, &o, VT_E_CHAIN,
                   "certificate.issuer|nitro_chain[0].issuer_name");
        expect_doc("good", v, &good, &o, VT_OK, NULL);
        expect_bytes_at("garbage", v, filler, 100, &o, VT_E_BAD_FIELD, NULL);
    }
    /* A fresh verifier that sees the failures first. */
    vt_nitro_verifier_free(v);
    v = verifier_for1(w->pki);
    expect_doc("bad signature first", v, &bad_sig, &o, VT_E_SIGNATURE, "document.signature");
    expect_doc("bad leaf first", v, &bad_leaf, &o, VT_E_CHAIN,
               "certificate.issuer|nitro_chain[0].issuer_name");
    expect_doc("good after", v, &good, &o, VT_OK, NULL);

    vt_sim_blob_cleanup(&good);
    vt_sim_blob_cleanup(&bad_sig);
    vt_sim_blob_cleanup(&bad_chain);
    vt_sim_blob_cleanup(&bad_leaf);
    vt_sim_blob_cleanup(&other_inst);
    vt_nitro_verifier_free(v);
    vt_nsim_pki_free(other);
}

static void test_cache_two_pkis(void **state)
{
    (void)state;
    /* Two chains told apart by their first expiry: A's leaf, B's instance CA. */
    struct vt_nsim_pki_params pp;
    vt_nsim_pki_params_default(&pp, NOW);
    struct vt_nsim_pki *a = pki_with(&pp);
    pp.level[VT_NSIM_INSTANCE].not_after = NOW + VT_NSIM_HOUR;
    struct vt_nsim_pki *b = pki_with(&pp);
    struct vt_nsim_pki *pair[2] = {a, b};
    struct vt_nitro_verifier *v = verifier_for(pair, 2);
    struct vt_nsim_doc_params dp;
    struct vt_sim_blob doc_a = {0}, doc_b = {0}, cross = {0};
    vt_nsim_doc_params_default(&dp, a);
    build(a, &dp, &doc_a, NULL);
    vt_nsim_doc_params_default(&dp, b);
    build(b, &dp, &doc_b, NULL);
    /* A's leaf and signature with B's bundle. */
    struct vt_sim_blob b_cab[4];
    vt_nsim_doc_params_default(&dp, a);
    for (size_t i = 0; i < 4; i++) {
        b_cab[i] = der_of(b, (enum vt_nsim_level)i);
        dp.cabundle[i].der = b_cab[i].data;
        dp.cabundle[i].len = b_cab[i].len;
    }
    build(a, &dp, &cross, NULL);

    struct vt_nitro_opts o = opts_at(NOW);
    struct vt_claims *c = claims_new();
    for (int i = 0; i < 6; i++) {
        verify_ok(v, &doc_a, &o, c);
        assert_int_equal(c->collateral.earliest_expiry, a->params.level[VT_NSIM_LEAF].not_after);
        verify_ok(v, &doc_b, &o, c);
        assert_int_equal(c->collateral.earliest_expiry, NOW + VT_NSIM_HOUR);
        expect_doc("A's leaf on B's chain", v, &cross, &o, VT_E_CERT_SIGNATURE,
                   "cert.signature|nitro_chain[0].signature");
    }
    /* B's chain expires first; A's still verifies then. */
    o = opts_at(NOW + VT_NSIM_HOUR + 1);
    expect_doc("B expired", v, &doc_b, &o, VT_E_EXPIRED, "cabundle[3]");
    verify_ok(v, &doc_a, &o, c);
    free(c);
    for (size_t i = 0; i < 4; i++) {
        vt_sim_blob_cleanup(&b_cab[i]);
    }
    vt_sim_blob_cleanup(&doc_a);
    vt_sim_blob_cleanup(&doc_b);
    vt_sim_blob_cleanup(&cross);
    vt_nitro_verifier_free(v);
    vt_nsim_pki_free(a);
    vt_nsim_pki_free(b);
}

/*
 * More distinct chains than the cache holds (8). The anchor list holds at most
 * VT_MAX_CHAIN_DEPTH roots, so the chains share one root: each PKI's regional CA is re-signed by
 * the first PKI's root (the simulator gives every PKI the same names).
 */
#define N_CHAINS 11
static void test_cache_eviction(void **state)
{
    (void)state;
    struct vt_nsim_pki *pkis[N_CHAINS];
    struct vt_sim_blob docs[N_CHAINS];
    vt_time expiry[N_CHAINS];
    for (size_t i = 0; i < N_CHAINS; i++) {
        struct vt_nsim_pki_params pp;
        vt_nsim_pki_params_default(&pp, NOW);
        expiry[i] = NOW + VT_NSIM_HOUR + (vt_time)i * 60;
        pp.level[VT_NSIM_INSTANCE].not_after = expiry[i];
        pkis[i] = pki_with(&pp);
        if (i > 0) {
            assert_true(X509_sign(pkis[i]->cert[VT_NSIM_REGIONAL], pkis[0]->key[VT_NSIM_ROOT],
                                  EVP_sha384()) > 0);
        }
    }
    struct vt_sim_blob root = der_of(pkis[0], VT_NSIM_ROOT);
    for (size_t i = 0; i < N_CHAINS; i++) {
        struct vt_nsim_doc_params dp;
        vt_nsim_doc_params_default(&dp, pkis[i]);
        dp.cabundle[0].der = root.data;
        dp.cabundle[0].len = root.len;
        docs[i] = (struct vt_sim_blob){0};
        build(pkis[i], &dp, &docs[i], NULL);
    }
    struct vt_nitro_verifier *v = verifier_for1(pkis[0]);
    struct vt_nitro_opts o = opts_at(NOW);
    struct vt_claims *c = claims_new();
    /* Round robin over 11 chains with 8 slots: every access after the first 8 evicts. */
    static const size_t order[] = {0, 1, 2,  3,  4, 5, 6, 7, 8, 9, 10, 0, 1, 2, 3, 4, 5, 6, 7,
                                   8, 9, 10, 10, 9, 8, 7, 6, 5, 4, 3,  2, 1, 0, 0, 5, 0, 9, 0};
    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
        size_t i = order[k];
        verify_ok(v, &docs[i], &o, c);
        assert_int_equal(c->collateral.earliest_expiry, expiry[i]);
    }
    /* Each chain's own window still applies, cached or not. */
    o = opts_at(expiry[5] + 1);
    for (size_t i = 0; i < N_CHAINS; i++) {
        expect_doc("after chain 5's expiry", v, &docs[i], &o, i <= 5 ? VT_E_EXPIRED : VT_OK,
                   i <= 5 ? "cabundle[3]" : NULL);
    }
    /* A leaf with another chain of the same root. */
    struct vt_sim_blob cab[4];
    struct vt_nsim_doc_params dp;
    vt_nsim_doc_params_default(&dp, pkis[3]);
    cab[0] = root;
    for (size_t i = 1; i < 4; i++) {
        cab[i] = der_of(pkis[7], (enum vt_nsim_level)i);
    }
    for (size_t i = 0; i < 4; i++) {
        dp.cabundle[i].der = cab[i].data;
        dp.cabundle[i].len = cab[i].len;
    }
    struct vt_sim_blob mixed = {0};
    build(pkis[3], &dp, &mixed, NULL);
    o = opts_at(NOW);
    expect_doc("leaf 3 on chain 7", v, &mixed, &o, VT_E_CERT_SIGNATURE,
               "cert.signature|nitro_chain[0].signature");
    vt_sim_blob_cleanup(&mixed);
    for (size_t i = 1; i < 4; i++) {
        vt_sim_blob_cleanup(&cab[i]);
    }
    free(c);
    vt_nitro_verifier_free(v);
    vt_sim_blob_cleanup(&root);
    for (size_t i = 0; i < N_CHAINS; i++) {
        vt_sim_blob_cleanup(&docs[i]);
        vt_nsim_pki_free(pkis[i]);
    }
}

/* ---- every byte ---- */

/* Where `needle` starts in hay, or SIZE_MAX. */
static size_t find_bytes(const uint8_t *hay, size_t n, const uint8_t *needle, size_t k)
{
    for (size_t i = 0; k <= n && i <= n - k; i++) {
        if (memcmp(hay + i, needle, k) == 0) {
            return i;
        }
    }
    return SIZE_MAX;
}

/*
 * Flipping a bit of a document makes it fail: never crash, never verify. Bit 0 of every byte, and
 * bit 7 of every byte of the protected header, the signature and the payload outside the
 * certificates. Inside the four CA certificates every 4th byte (a flip there costs a chain
 * rebuild: four certificate parses, which dominate the run time under ASan); the leaf
 * certificate is flipped at every byte.
 */
static void test_every_byte_flip(void **state)
{
    struct world *w = *state;
    struct vt_nsim_doc_params dp;
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.n_pcrs = 2; /* small: two PCRs */
    dp.user_data.kind = VT_NSIM_OPT_BYTES;
    dp.user_data.data = filler;
    dp.user_data.len = 3;
    struct vt_sim_blob doc = {0};
    struct vt_nsim_doc_layout lay;
    build(w->pki, &dp, &doc, &lay);
    struct vt_nitro_opts o = opts_at(NOW);
    struct vt_claims *c = claims_new();
    verify_ok(w->v, &doc, &o, c);

    /* The certificates' places in the document. */
    size_t cert_off[VT_NSIM_LEVELS], cert_len[VT_NSIM_LEVELS];
    for (int l = 0; l < VT_NSIM_LEVELS; l++) {
        struct vt_sim_blob der = der_of(w->pki, (enum vt_nsim_level)l);
        cert_off[l] = find_bytes(doc.data, doc.len, der.data, der.len);
        cert_len[l] = der.len;
        assert_true(cert_off[l] != SIZE_MAX);
        assert_true(cert_off[l] >= lay.payload_off &&
                    cert_off[l] + der.len <= lay.payload_off + lay.payload_len);
        vt_sim_blob_cleanup(&der);
    }

    size_t flips = 0, in_regions[3] = {0, 0, 0}; /* protected, payload, signature */
    static const uint8_t masks[] = {0x01, 0x80};
    for (size_t m = 0; m < sizeof(masks); m++) {
        for (size_t i = 0; i < doc.len; i++) {
            bool in_prot = i >= lay.protected_off && i < lay.protected_off + lay.protected_len;
            bool in_payload = i >= lay.payload_off && i < lay.payload_off + lay.payload_len;
            bool in_sig = i >= lay.sig_off && i < lay.sig_off + lay.sig_len;
            int cert = -1;
            for (int l = 0; l < VT_NSIM_LEVELS; l++) {
                if (i >= cert_off[l] && i < cert_off[l] + cert_len[l]) {
                    cert = l;
                }
            }
            if (m > 0 && (cert >= 0 || !(in_prot || in_payload || in_sig))) {
                continue;
            }
            if (cert >= 0 && cert != VT_NSIM_LEAF && (i - cert_off[cert]) % 4 != (size_t)cert) {
                continue;
            }
            doc.data[i] ^= masks[m];
            struct vt_diag d;
            vt_diag_init(&d);
            enum vt_err err = vt_nitro_verify(w->v, doc.data, doc.len, &o, c, &d);
            doc.data[i] ^= masks[m];
            if (err == VT_OK) {
                print_error("flip 0x%02x at %zu of %zu verified\n", masks[m], i, doc.len);
            }
            assert_int_not_equal(err, VT_OK);
            assert_int_equal(d.code, err);
            flips++;
            in_regions[0] += in_prot;
            in_regions[1] += in_payload;
            in_regions[2] += in_sig;
            if (in_prot) {
                /* The alg changes or the header stops being {1: -35}. */
                assert_true(err == VT_E_BAD_FIELD || err == VT_E_UNSUPPORTED_ALGORITHM);
            }
            if (in_sig) {
                assert_int_equal(err, VT_E_SIGNATURE);
            }
        }
    }
    assert_int_equal(in_regions[0], 2 * lay.protected_len);
    assert_int_equal(in_regions[2], 2 * lay.sig_len);
    assert_true(in_regions[1] > lay.payload_len / 2);
    assert_true(flips > doc.len / 2);
    /* Untouched, it still verifies. */
    verify_ok(w->v, &doc, &o, c);
    free(c);
    vt_sim_blob_cleanup(&doc);
}

/* ---- the API's arguments ---- */

static void test_arguments(void **state)
{
    struct world *w = *state;
    struct vt_sim_blob doc = {0};
    struct vt_nsim_doc_params dp;
    vt_nsim_doc_params_default(&dp, w->pki);
    build(w->pki, &dp, &doc, NULL);
    struct vt_nitro_opts o = opts_at(NOW);
    struct vt_claims *c = claims_new();
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_nitro_verify(NULL, doc.data, doc.len, &o, c, &d), VT_E_ARG);
    assert_int_equal(vt_nitro_verify(w->v, NULL, doc.len, &o, c, &d), VT_E_ARG);
    assert_int_equal(vt_nitro_verify(w->v, doc.data, doc.len, NULL, c, &d), VT_E_ARG);
    assert_int_equal(vt_nitro_verify(w->v, doc.data, doc.len, &o, NULL, &d), VT_E_ARG);
    /* A NULL diag is allowed, on success and on failure. */
    assert_int_equal(vt_nitro_verify(w->v, doc.data, doc.len, &o, c, NULL), VT_OK);
    o.now = NOW + VT_NSIM_YEAR;
    assert_int_equal(vt_nitro_verify(w->v, doc.data, doc.len, &o, c, NULL), VT_E_EXPIRED);
    assert_int_equal(vt_nitro_verifier_new(NULL, NULL, &d), VT_E_ARG);
    vt_nitro_verifier_free(NULL);
    free(c);
    vt_sim_blob_cleanup(&doc);
}

/* ---- the command line ---- */

/* Run cmd; *status gets the exit status; returns stdout (malloc'd). */
static char *run(const char *cmd, int *status)
{
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    size_t got;
    while ((got = fread(out + len, 1, cap - 1 - len, f)) > 0) {
        len += got;
    }
    out[len] = '\0';
    int rc = pclose(f);
    assert_true(WIFEXITED(rc));
    *status = WEXITSTATUS(rc);
    return out;
}

static void expect_cli(const char *label, const char *cmd, int want_status, const char *pattern)
{
    int status;
    char *out = run(cmd, &status);
    if (status != want_status || strstr(out, pattern) == NULL) {
        print_error("%s: status %d (want %d), output %s\n(wanted %s)\n", label, status, want_status,
                    out, pattern);
    }
    assert_int_equal(status, want_status);
    assert_non_null(strstr(out, pattern));
    free(out);
}

static void test_cli(void **state)
{
    struct world *w = *state;
    const char *bin = getenv("VT_BINARY");
    if (bin == NULL || access(bin, X_OK) != 0) {
        if (getenv("CI") != NULL && strcmp(getenv("CI"), "true") == 0) {
            fail_msg("VT_BINARY is not set to an executable (CTest sets it)");
        }
        print_message("skipping the command-line cases: VT_BINARY is not set\n");
        skip();
    }
    static const uint8_t nonce[4] = {0xde, 0xad, 0xbe, 0xef};
    struct vt_nsim_doc_params dp;
    vt_nsim_doc_params_default(&dp, w->pki);
    dp.nonce.kind = VT_NSIM_OPT_BYTES;
    dp.nonce.data = nonce;
    dp.nonce.len = sizeof(nonce);
    struct vt_sim_blob doc = {0};
    build(w->pki, &dp, &doc, NULL);
    char dir[] = "/tmp/vt_nitro_cli_XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_true(vt_nsim_write_dir(w->pki, &doc, dir));
    /* The same document as hex text. */
    char path[256];
    snprintf(path, sizeof(path), "%s/doc.hex", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    char *h = hex_of(doc.data, doc.len);
    fputs(h, f);
    fputc('\n', f);
    free(h);
    assert_int_equal(fclose(f), 0);

    char cmd[1024];
    const long long now = (long long)NOW;
    snprintf(cmd, sizeof(cmd), "'%s' verify --trust-anchor '%s/root.pem' --at %lld '%s/doc.cose'",
             bin, dir, now, dir);
    expect_cli("verified", cmd, 0, "\"verified\":true,\"evidence_type\":\"nitro-document\"");
    expect_cli("claims", cmd, 0, "\"tee\":\"nitro\"");
    expect_cli("module_id", cmd, 0, "\"nitro.module_id\":\"i-0f1e2d3c4b5a69788-enc");
    expect_cli("nonce", cmd, 0, "\"nonce\":\"deadbeef\"");
    snprintf(cmd, sizeof(cmd), "'%s' verify --trust-anchor '%s/root.der' --at %lld '%s/doc.hex'",
             bin, dir, now, dir);
    expect_cli("der anchor, hex document", cmd, 0, "\"verified\":true");
    snprintf(cmd, sizeof(cmd),
             "'%s' verify --trust-anchor '%s/root.pem' --at %lld --nonce deadbeef --max-age 600 "
             "'%s/doc.cose'",
             bin, dir, now, dir);
    expect_cli("nonce and max-age", cmd, 0, "\"verified\":true");
    snprintf(cmd, sizeof(cmd),
             "'%s' verify --trust-anchor '%s/root.pem' --at %lld --nonce deadbeee '%s/doc.cose'",
             bin, dir, now, dir);
    expect_cli("nonce mismatch", cmd, 1, "\"code\":\"VT_E_NONCE_MISMATCH\"");
    snprintf(cmd, sizeof(cmd),
             "'%s' verify --trust-anchor '%s/root.pem' --at %lld --max-age 0 '%s/doc.cose'", bin,
             dir, now, dir);
    expect_cli("max-age 0", cmd, 1, "\"check\":\"document.max_age\"");
    snprintf(cmd, sizeof(cmd), "'%s' verify --at %lld '%s/doc.cose'", bin, now, dir);
    expect_cli("no trust anchor", cmd, 1, "\"code\":\"VT_E_UNTRUSTED_ROOT\"");
    snprintf(cmd, sizeof(cmd), "'%s' verify --trust-anchor '%s/root.pem' --at %lld '%s/doc.cose'",
             bin, dir, now + VT_NSIM_DAY, dir);
    expect_cli("expired", cmd, 1, "\"code\":\"VT_E_EXPIRED\"");
    /* --trust-anchor is a name and a key: a re-issue of the root (other bytes) trusts it. */
    struct vt_testgen_reissue_opts ro = {.signer = w->pki->key[VT_NSIM_ROOT],
                                         .not_before = NOW - VT_NSIM_DAY,
                                         .not_after = NOW + VT_NSIM_DAY,
                                         .serial = 4343,
                                         .pathlen = -1};
    X509 *re = NULL;
    assert_int_equal(vt_testgen_reissue(w->pki->cert[VT_NSIM_ROOT], &ro, &re, NULL), VT_OK);
    size_t pem_len = 0;
    char *pem = NULL;
    assert_int_equal(vt_testgen_cert_pem(re, &pem, &pem_len, NULL), VT_OK);
    snprintf(path, sizeof(path), "%s/reissued.pem", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(pem, 1, pem_len, f), pem_len);
    assert_int_equal(fclose(f), 0);
    free(pem);
    X509_free(re);
    snprintf(cmd, sizeof(cmd),
             "'%s' verify --trust-anchor '%s/reissued.pem' --at %lld '%s/doc.cose'", bin, dir, now,
             dir);
    expect_cli("re-issued root as --trust-anchor", cmd, 0, "\"verified\":true");
    assert_int_equal(unlink(path), 0);

    static const char *const files[] = {"doc.cose", "doc.hex", "root.pem", "root.der"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        assert_int_equal(unlink(path), 0);
    }
    assert_int_equal(rmdir(dir), 0);
    vt_sim_blob_cleanup(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_claims),
        cmocka_unit_test(test_debug_flag),
        cmocka_unit_test(test_bindings),
        cmocka_unit_test(test_encodings_accepted),
        cmocka_unit_test(test_pcr_shapes),
        cmocka_unit_test(test_parser_rejects),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_envelope_edits),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_signature),
        cmocka_unit_test(test_chain_defects),
        cmocka_unit_test(test_cabundle_shapes),
        cmocka_unit_test(test_reissued_root),
        cmocka_unit_test(test_validity_windows),
        cmocka_unit_test(test_max_age),
        cmocka_unit_test(test_nonce),
        cmocka_unit_test(test_cache_after_failures),
        cmocka_unit_test(test_cache_two_pkis),
        cmocka_unit_test(test_cache_eviction),
        cmocka_unit_test(test_every_byte_flip),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_cli),
    };
    /* VT_TEST_FILTER (a cmocka pattern, e.g. "test_cache*") runs a subset. */
    if (getenv("VT_TEST_FILTER") != NULL) {
        cmocka_set_test_filter(getenv("VT_TEST_FILTER"));
    }
    return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
