/*
 * The verifiers' caches never change a verdict (issue 17). Written against behaviour only (the
 * public vt_verifier API and the per-TEE verifiers), so they hold for any cache design:
 *
 *  1. Warm equals cold. A long-lived ("warm") verifier that has verified the genuine evidence
 *     gives, for single-bit flips of it at a deterministic sample of positions covering every
 *     region (DCAP: header, body, signatures, attestation key, QE report, QE report signature,
 *     QE auth data, PCK chain; Nitro: protected header, payload, leaf certificate, each cabundle
 *     certificate, signature; SEV-SNP: the report, its signature, the HCL envelope and the VEK),
 *     the same error and check, or the same claims, as a verifier created for that one call
 *     ("cold"); at the top level (vt_verify) and at the per-TEE level. After every flip the
 *     genuine evidence still verifies on the warm verifier with its first claims.
 *  2. DCAP, one platform, collateral changing under one vt_verifier (the simulator's test PKI,
 *     a directory source rewritten between calls, a test clock past collateral_ttl): a PCK CRL
 *     revoking the PCK leaf, a root CA CRL revoking the PCK CA, a TCB info moving the platform
 *     to OutOfDate, each applied and withdrawn; the PCK leaf's expiry at the verification time.
 *     The same per-TEE: two vt_dcap_verifiers of different collateral, one quote, each verdict.
 *  3. Nitro, one leaf (the simulator): two documents of one leaf verify; a document whose leaf
 *     certificate differs in one byte (signature, serial, validity, signature algorithm) is
 *     rejected after the genuine leaf verified; leaves re-issued under the same CA with the same
 *     key (another serial, another notAfter, no digitalSignature, an unknown critical extension)
 *     are judged on their own bytes, warm as cold; the leaf checked after its notAfter fails
 *     after a success before it.
 *  4. Four threads on one vt_verifier, genuine and flipped real evidence of every kind in a
 *     shuffled order per thread: every result is the single-threaded reference (a verifier per
 *     evidence).
 *
 * Warm and cold must agree exactly: same error and check, or the same claims. (Before issue 17's
 * Nitro leaf cache, a warm verifier checked a new leaf under a cached CA chain with its own,
 * narrower checks, and accepted a leaf with an unknown critical extension that a cold verifier
 * refused; this suite found it.)
 * VT_TEST_FILTER selects tests (a cmocka pattern); --quick runs the quick suite's variant.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "internal.h"

#include "dcap_sim.h"
#include "nitro_sim.h"
#include "vt_fixtures.h"

/* The four real DCAP fixture sets of tests/unit/dcap/test_fixture_flips.c. */
static const char *const dcap_sets[] = {
    "phala-dcap-qvl/sgx-v3-fmspc00a067110000",
    "automata-dcap-attestation/sgx-v3-fmspc00606a000000",
    "phala-dcap-qvl/tdx-v4-fmspcb0c06f000000",
    "automata-dcap-attestation/tdx-v5-fmspc90c06f000000-alibaba",
};
#define N_DCAP_SETS (sizeof(dcap_sets) / sizeof(dcap_sets[0]))

/*
 * Sampling, per evidence: every stride-th byte of the whole, every small_stride-th byte of the
 * small cached parts (DCAP attestation key, QE report, QE report signature, QE auth data) and
 * their first and last 8 bytes, every large_stride-th byte of the large cached parts (DCAP PCK
 * chain, Nitro leaf and cabundle certificates, the SEV-SNP VEK) and their first and last 8 bytes,
 * and the first and last `edge` bytes of every other region. The strides are odd, so the bit
 * flipped (position mod 8) varies along a region.
 *
 * Two modes: the default (label slow; every fixture; about 70 s under ASan+UBSan on two cores)
 * and --quick (the quick suite: sparser, a subset of the fixtures; about 13 s).
 */
struct sampling {
    size_t stride, small_stride, large_stride, edge;
    unsigned thread_iterations;
};
static const struct sampling full_sampling = {53, 17, 41, 3, 300};
static const struct sampling quick_sampling = {211, 67, 163, 1, 150};
static const struct sampling *sampling = &full_sampling;
static bool quick;
#define CACHED_EDGE 8

/* Fixtures of the quick mode. */
static bool quick_dcap(size_t i)
{
    return !quick || i == 0 || i == 3; /* SGX v3, TDX v5 */
}
static bool quick_nitro(size_t i)
{
    return !quick || i % 4 == 3; /* a definite and the indefinite-length payload */
}
static bool quick_snp(size_t i)
{
    return !quick || i == 1 || i == 3; /* the VLEK report, the Azure Milan report and its HCL */
}

static const char *fixtures(void)
{
    const char *root = vt_fixtures_or_skip();
    if (root == NULL) {
        skip();
        return ""; /* not reached: skip() leaves the test */
    }
    return root;
}

static uint8_t *read_rel(const char *rel, size_t *n)
{
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", fixtures(), rel);
    uint8_t *p = vt_test_read_file(path, n);
    if (p == NULL) {
        fail_msg("cannot read %s", path);
    }
    return p;
}

static json_t *read_json(const char *rel)
{
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", fixtures(), rel);
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (j == NULL) {
        fail_msg("%s: %s", path, jerr.text);
    }
    return j;
}

static vt_time json_time(json_t *o, const char *key)
{
    return vt_fixtures_time(json_string_value(json_object_get(o, key)));
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- outcomes: the error and check, or the claims as JSON ---- */

struct outcome {
    enum vt_err err;
    char check[VT_DIAG_CHECK_MAX];
    char detail[VT_DIAG_DETAIL_MAX];
    char *json; /* on success */
};

static void outcome_set(struct outcome *o, enum vt_err err, const struct vt_diag *d,
                        const struct vt_claims *c)
{
    memset(o, 0, sizeof(*o));
    o->err = err;
    if (err == VT_OK) {
        o->json = vt_claims_to_json(c);
        assert_non_null(o->json);
    } else {
        snprintf(o->check, sizeof(o->check), "%s", d->check);
        snprintf(o->detail, sizeof(o->detail), "%s", d->detail);
    }
}

static void outcome_clear(struct outcome *o)
{
    free(o->json);
    o->json = NULL;
}

static bool outcome_same(const struct outcome *a, const struct outcome *b)
{
    if (a->err != b->err) {
        return false;
    }
    return a->err == VT_OK ? strcmp(a->json, b->json) == 0 : strcmp(a->check, b->check) == 0;
}

static void expect_same(const char *label, const char *what, const struct outcome *want,
                        const struct outcome *got)
{
    if (outcome_same(want, got)) {
        return;
    }
    if (want->err == VT_OK && got->err == VT_OK) {
        fail_msg("%s: %s: the claims differ:\n  want %s\n  got  %s", label, what, want->json,
                 got->json);
    }
    fail_msg("%s: %s: want %s (%s: %s), got %s (%s: %s)", label, what, vt_err_name(want->err),
             want->check, want->detail, vt_err_name(got->err), got->check, got->detail);
}

/* Warm against cold: the same outcome. */
static void expect_warm_cold(const char *label, const char *what, const struct outcome *cold,
                             const struct outcome *warm)
{
    if (!outcome_same(cold, warm)) {
        expect_same(label, what, cold, warm);
    }
}

/* ---- verifier kinds: the top level (vt_verify) and each TEE's own verifier ---- */

struct vkind {
    const char *name;
    void *(*make)(const void *ctx);
    void (*drop)(void *v);
    enum vt_err (*verify)(void *v, const void *ctx, const uint8_t *ev, size_t n,
                          struct vt_claims *c, struct vt_diag *d);
    const void *ctx;
};

struct top_ctx {
    const struct vt_verifier_config *cfg;
    struct vt_verify_opts opts;
};

static void *top_make(const void *ctx)
{
    const struct top_ctx *t = ctx;
    struct vt_verifier *v = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_verifier_new(t->cfg, &v, &d) != VT_OK) {
        fail_msg("vt_verifier_new: %s: %s", d.check, d.detail);
    }
    return v;
}

static void top_drop(void *v)
{
    vt_verifier_free(v);
}

static enum vt_err top_verify(void *v, const void *ctx, const uint8_t *ev, size_t n,
                              struct vt_claims *c, struct vt_diag *d)
{
    const struct top_ctx *t = ctx;
    return vt_verify(v, ev, n, &t->opts, c, d);
}

struct dcap_ctx {
    const struct vt_dcap_collateral *coll;
    const struct vt_cert_list *anchors;
    vt_time now;
};

static void *dcap_make(const void *ctx)
{
    const struct dcap_ctx *t = ctx;
    struct vt_dcap_verifier *v = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_dcap_verifier_new(t->anchors, t->coll, &v, &d) != VT_OK) {
        fail_msg("vt_dcap_verifier_new: %s: %s", d.check, d.detail);
    }
    return v;
}

static void dcap_drop(void *v)
{
    vt_dcap_verifier_free(v);
}

static enum vt_err dcap_verify(void *v, const void *ctx, const uint8_t *ev, size_t n,
                               struct vt_claims *c, struct vt_diag *d)
{
    const struct dcap_ctx *t = ctx;
    const struct vt_dcap_opts o = {.now = t->now, .time_mode = VT_TIME_STRICT};
    return vt_dcap_verify(v, ev, n, &o, c, d);
}

struct nitro_ctx {
    const struct vt_cert_list *anchors;
    vt_time now;
};

static void *nitro_make(const void *ctx)
{
    const struct nitro_ctx *t = ctx;
    struct vt_nitro_verifier *v = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_nitro_verifier_new(t->anchors, &v, &d) != VT_OK) {
        fail_msg("vt_nitro_verifier_new: %s: %s", d.check, d.detail);
    }
    return v;
}

static void nitro_drop(void *v)
{
    vt_nitro_verifier_free(v);
}

static enum vt_err nitro_verify(void *v, const void *ctx, const uint8_t *ev, size_t n,
                                struct vt_claims *c, struct vt_diag *d)
{
    const struct nitro_ctx *t = ctx;
    const struct vt_nitro_opts o = {.now = t->now, .time_mode = VT_TIME_STRICT, .max_age = -1};
    return vt_nitro_verify(v, ev, n, &o, c, d);
}

struct snp_ctx {
    vt_time now;
    const uint8_t *vek, *chain;
    size_t vek_len, chain_len;
};

static void *snp_make(const void *ctx)
{
    (void)ctx;
    struct vt_snp_verifier *v = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_snp_verifier_new(NULL, &v, &d) != VT_OK) {
        fail_msg("vt_snp_verifier_new: %s: %s", d.check, d.detail);
    }
    return v;
}

static void snp_drop(void *v)
{
    vt_snp_verifier_free(v);
}

static enum vt_err snp_verify(void *v, const void *ctx, const uint8_t *ev, size_t n,
                              struct vt_claims *c, struct vt_diag *d)
{
    const struct snp_ctx *t = ctx;
    const struct vt_snp_opts o = {.now = t->now,
                                  .time_mode = VT_TIME_STRICT,
                                  .vek = t->vek,
                                  .vek_len = t->vek_len,
                                  .chain = t->chain,
                                  .chain_len = t->chain_len};
    return vt_snp_verify(v, ev, n, &o, c, d);
}

static void kind_run(const struct vkind *k, void *v, const uint8_t *ev, size_t n,
                     struct outcome *out)
{
    struct vt_claims c;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = k->verify(v, k->ctx, ev, n, &c, &d);
    if (err != VT_OK && d.code != err) {
        fail_msg("%s: returned %s but the diag says %s", k->name, vt_err_name(err),
                 vt_err_name(d.code));
    }
    outcome_set(out, err, &d, &c);
}

/* ---- the flip driver ---- */

/* Positions to flip: a bitmap over the target. */
static void pick_stride(bool *pick, size_t from, size_t to, size_t k)
{
    for (size_t p = from; p < to; p += k) {
        pick[p] = true;
    }
}

static void pick_edges(bool *pick, size_t from, size_t to, size_t w)
{
    for (size_t p = from; p < to && p < from + w; p++) {
        pick[p] = true;
    }
    for (size_t p = to > from + w ? to - w : from; p < to; p++) {
        pick[p] = true;
    }
}

/* A cached region: its edges and every k-th byte. */
static void pick_cached(bool *pick, size_t from, size_t to, size_t k)
{
    pick_edges(pick, from, to, CACHED_EDGE);
    pick_stride(pick, from, to, k);
}

struct flip_job {
    const char *name;
    uint8_t *target; /* flipped in place, restored after each call */
    size_t target_len;
    const uint8_t *ev; /* the evidence given to the verifiers (target itself, or one using it) */
    size_t ev_len;
    const bool *pick;
    size_t must_fail_from, must_fail_to; /* a flip here must be rejected */
    const struct vkind *kinds[2];
    size_t n_kinds;
};

#define ERR_SLOTS 1024

/* For each kind: a warm verifier verifies the genuine evidence; then, per picked position, the
 * flipped evidence on the warm verifier and on a cold one (same result), then the genuine on the
 * warm one again (its first result). */
static void flip_run(const struct flip_job *job)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    void *warm[2];
    struct outcome genuine[2];
    for (size_t k = 0; k < job->n_kinds; k++) {
        warm[k] = job->kinds[k]->make(job->kinds[k]->ctx);
        kind_run(job->kinds[k], warm[k], job->ev, job->ev_len, &genuine[k]);
        if (genuine[k].err != VT_OK) {
            fail_msg("%s: %s: the genuine evidence fails: %s (%s: %s)", job->name,
                     job->kinds[k]->name, vt_err_name(genuine[k].err), genuine[k].check,
                     genuine[k].detail);
        }
    }
    if (job->n_kinds == 2 && strcmp(genuine[0].json, genuine[1].json) != 0) {
        fail_msg("%s: %s and %s give different claims:\n  %s\n  %s", job->name, job->kinds[0]->name,
                 job->kinds[1]->name, genuine[0].json, genuine[1].json);
    }
    unsigned *errs = calloc(ERR_SLOTS, sizeof(*errs));
    assert_non_null(errs);
    size_t tried = 0, accepted = 0;
    for (size_t pos = 0; pos < job->target_len; pos++) {
        if (!job->pick[pos]) {
            continue;
        }
        uint8_t mask = (uint8_t)(1u << (pos % 8));
        char label[256];
        snprintf(label, sizeof(label), "%s: bit 0x%02x of byte %zu of %zu", job->name, mask, pos,
                 job->target_len);
        for (size_t k = 0; k < job->n_kinds; k++) {
            const struct vkind *kind = job->kinds[k];
            struct outcome w, c;
            job->target[pos] ^= mask;
            kind_run(kind, warm[k], job->ev, job->ev_len, &w);
            void *cold = kind->make(kind->ctx);
            kind_run(kind, cold, job->ev, job->ev_len, &c);
            kind->drop(cold);
            job->target[pos] ^= mask;
            char what[96];
            snprintf(what, sizeof(what), "%s, warm against cold", kind->name);
            expect_warm_cold(label, what, &c, &w);
            if (c.err == VT_OK && pos >= job->must_fail_from && pos < job->must_fail_to) {
                fail_msg("%s: %s: the flipped evidence verifies", label, kind->name);
            }
            if (k == 0) {
                errs[(size_t)c.err < ERR_SLOTS ? (size_t)c.err : 0]++;
                accepted += c.err == VT_OK;
            }
            outcome_clear(&w);
            outcome_clear(&c);
            /* The genuine evidence right after, on the warm verifier: nothing was poisoned. */
            struct outcome g;
            kind_run(kind, warm[k], job->ev, job->ev_len, &g);
            snprintf(what, sizeof(what), "%s, genuine after the flip", kind->name);
            expect_same(label, what, &genuine[k], &g);
            outcome_clear(&g);
        }
        tried++;
    }
    for (size_t k = 0; k < job->n_kinds; k++) {
        struct outcome g;
        kind_run(job->kinds[k], warm[k], job->ev, job->ev_len, &g);
        expect_same(job->name, "genuine at the end", &genuine[k], &g);
        outcome_clear(&g);
        outcome_clear(&genuine[k]);
        job->kinds[k]->drop(warm[k]);
    }
    char summary[512];
    size_t used = 0;
    summary[0] = '\0';
    for (size_t e = 0; e < ERR_SLOTS && used < sizeof(summary) - 64; e++) {
        if (errs[e] > 0 && e != VT_OK) {
            int w = snprintf(summary + used, sizeof(summary) - used, " %s %u",
                             vt_err_name((enum vt_err)e), errs[e]);
            used += w > 0 ? (size_t)w : 0;
        }
    }
    free(errs);
    print_message("  %s: %zu flips (%zu verified), %.1f s;%s\n", job->name, tried, accepted,
                  seconds_since(&t0), summary);
}

/* ---- 1. warm equals cold: DCAP ---- */

static void test_dcap_flips(void **state)
{
    const char *set = *state;
    char rel[512], dir[2048];
    snprintf(rel, sizeof(rel), "dcap/%s", set);
    snprintf(dir, sizeof(dir), "%s/%s", fixtures(), rel);
    char qrel[600];
    snprintf(qrel, sizeof(qrel), "%s/quote.bin", rel);
    size_t n;
    uint8_t *quote = read_rel(qrel, &n);
    snprintf(qrel, sizeof(qrel), "%s/expected.json", rel);
    json_t *expected = read_json(qrel);
    vt_time now = (vt_time)json_integer_value(json_object_get(expected, "verification_time"));
    json_decref(expected);

    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_dcap_quote q;
    assert_int_equal(vt_dcap_quote_parse(quote, n, &q, &d), VT_OK);
    size_t body = q.version == 5 ? 54 : 48;
    size_t sig = q.signed_len + 4;
    size_t qer = (size_t)(q.qe_report.raw - quote);
    size_t auth = (size_t)(q.qe_auth_data - quote);
    size_t cert = (size_t)(q.cert_data - quote);
    /* Region edges: header, body descriptor, body, signature data length, quote signature,
     * attestation key, outer certification header, QE report, QE report signature, QE auth
     * size, QE auth data, certification header, PCK chain, trailing bytes. */
    const size_t edges[] = {0,         48,
                            body,      q.signed_len,
                            sig,       sig + 64,
                            sig + 128, qer,
                            qer + 384, qer + 448,
                            auth,      auth + q.qe_auth_data_len,
                            cert,      cert + q.cert_data_len,
                            n};
    bool *pick = calloc(n, sizeof(*pick));
    assert_non_null(pick);
    pick_stride(pick, 0, n, sampling->stride);
    for (size_t i = 0; i + 1 < sizeof(edges) / sizeof(edges[0]); i++) {
        pick_edges(pick, edges[i], edges[i + 1], sampling->edge);
    }
    /* The cached parts: attestation key, QE report and signature, QE auth data, PCK chain. */
    pick_cached(pick, sig + 64, sig + 128, sampling->small_stride);
    pick_cached(pick, qer, qer + 384, sampling->small_stride);
    pick_cached(pick, qer + 384, qer + 448, sampling->small_stride);
    pick_cached(pick, auth, auth + q.qe_auth_data_len, sampling->small_stride);
    pick_cached(pick, cert, cert + q.cert_data_len, sampling->large_stride);

    struct vt_collateral_source *src = NULL;
    assert_int_equal(vt_collateral_source_dir(dir, &src, &d), VT_OK);
    const struct vt_verifier_config cfg = {.collateral = src,
                                           .collateral_ttl = VT_VERIFIER_TTL_FOREVER};
    const struct top_ctx top = {.cfg = &cfg, .opts = {.now = now}};
    struct vt_dcap_collateral *coll = NULL;
    assert_int_equal(vt_dcap_collateral_load_dir(dir, &coll, &d), VT_OK);
    const struct dcap_ctx tee = {.coll = coll, .now = now};
    const struct vkind top_kind = {"vt_verify", top_make, top_drop, top_verify, &top};
    const struct vkind tee_kind = {"vt_dcap_verify", dcap_make, dcap_drop, dcap_verify, &tee};
    const struct flip_job job = {
        .name = set,
        .target = quote,
        .target_len = n,
        .ev = quote,
        .ev_len = n,
        .pick = pick,
        /* Everything before the PCK chain is signed or framing; in the chain's PEM a flip may
         * give whitespace (the NUL terminator to a space), which verifies. */
        .must_fail_from = 0,
        .must_fail_to = cert,
        .kinds = {&top_kind, &tee_kind},
        .n_kinds = 2,
    };
    flip_run(&job);
    vt_dcap_collateral_free(coll);
    vt_collateral_source_free(src);
    free(pick);
    free(quote);
}

/* ---- 1. warm equals cold: Nitro ---- */

static void test_nitro_flips(void **state)
{
    (void)state;
    fixtures();
    json_t *all = read_json("nitro/expected.json");
    json_t *docs = json_object_get(all, "documents");
    assert_true(json_array_size(docs) >= 8);
    const struct vt_verifier_config cfg = {.collateral_ttl = VT_VERIFIER_TTL_FOREVER};
    for (size_t i = 0; i < json_array_size(docs); i++) {
        if (!quick_nitro(i)) {
            continue;
        }
        json_t *e = json_array_get(docs, i);
        const char *file = json_string_value(json_object_get(e, "file"));
        char rel[1024];
        snprintf(rel, sizeof(rel), "nitro/%s", file);
        size_t n;
        uint8_t *doc = read_rel(rel, &n);
        vt_time now = (vt_time)(json_integer_value(json_object_get(e, "timestamp_ms")) / 1000);
        struct vt_nitro_doc parsed;
        struct vt_diag d;
        vt_diag_init(&d);
        assert_int_equal(vt_nitro_doc_parse(doc, n, &parsed, &d), VT_OK);
        bool *pick = calloc(n, sizeof(*pick));
        assert_non_null(pick);
        pick_stride(pick, 0, n, sampling->stride);
        size_t prot = (size_t)(parsed.protected_hdr - doc);
        size_t pay = (size_t)(parsed.payload - doc);
        size_t leaf = (size_t)(parsed.certificate - doc);
        size_t sig = (size_t)(parsed.signature - doc);
        pick_edges(pick, 0, prot, sampling->edge);
        pick_edges(pick, prot, prot + parsed.protected_len, sampling->edge);
        pick_edges(pick, pay, pay + parsed.payload_len, sampling->edge);
        pick_edges(pick, sig, sig + 96, sampling->edge);
        pick_cached(pick, leaf, leaf + parsed.certificate_len, sampling->large_stride);
        for (size_t k = 0; k < parsed.n_cabundle; k++) {
            size_t off = (size_t)(parsed.cabundle[k].data - doc);
            pick_cached(pick, off, off + parsed.cabundle[k].len, sampling->large_stride);
        }
        const struct top_ctx top = {.cfg = &cfg, .opts = {.now = now}};
        const struct nitro_ctx tee = {.now = now};
        const struct vkind top_kind = {"vt_verify", top_make, top_drop, top_verify, &top};
        const struct vkind tee_kind = {"vt_nitro_verify", nitro_make, nitro_drop, nitro_verify,
                                       &tee};
        const struct flip_job job = {
            .name = file,
            .target = doc,
            .target_len = n,
            .ev = doc,
            .ev_len = n,
            .pick = pick,
            .must_fail_from = prot - 1, /* the protected header's head onwards */
            .must_fail_to = n,
            .kinds = {&top_kind, &tee_kind},
            .n_kinds = 2,
        };
        flip_run(&job);
        free(pick);
        free(doc);
    }
    json_decref(all);
}

/* ---- 1. warm equals cold: SEV-SNP ---- */

/* The amd-roots chain of a report (as tests/unit/snp/test_snp_fixtures.c picks it). */
static const char *snp_chain_file(json_t *e)
{
    const char *gen = json_string_value(json_object_get(e, "generation"));
    bool vlek = strcmp(json_string_value(json_object_get(e, "vek_subject_cn")), "SEV-VLEK") == 0;
    if (strcmp(gen, "Milan") == 0) {
        return vlek ? "snp/amd-roots/ask_ark_milan_vlek.pem" : "snp/amd-roots/ask_ark_milan.pem";
    }
    return vlek ? "snp/amd-roots/ask_ark_genoa_vlek.pem" : "snp/amd-roots/ask_ark_genoa.pem";
}

/* A directory source holding a VEK (vcek.der) and a chain (cert_chain.pem), by symbolic links. */
struct snp_dir {
    char path[64];
    struct vt_collateral_source *src;
};

static void snp_dir_open(struct snp_dir *s, const char *vek_rel, const char *chain_rel)
{
    snprintf(s->path, sizeof(s->path), "/tmp/vt_caches_snpXXXXXX");
    assert_non_null(mkdtemp(s->path));
    const char *names[2] = {"vcek.der", "cert_chain.pem"};
    const char *rels[2] = {vek_rel, chain_rel};
    for (size_t i = 0; i < 2; i++) {
        char link[128], target[2048];
        snprintf(link, sizeof(link), "%s/%s", s->path, names[i]);
        snprintf(target, sizeof(target), "%s/%s", fixtures(), rels[i]);
        assert_int_equal(symlink(target, link), 0);
    }
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_collateral_source_dir(s->path, &s->src, &d), VT_OK);
}

static void snp_dir_close(struct snp_dir *s)
{
    vt_collateral_source_free(s->src);
    const char *names[2] = {"vcek.der", "cert_chain.pem"};
    for (size_t i = 0; i < 2; i++) {
        char link[128];
        snprintf(link, sizeof(link), "%s/%s", s->path, names[i]);
        assert_int_equal(unlink(link), 0);
    }
    assert_int_equal(rmdir(s->path), 0);
}

/* Flips of one report (raw or HCL), its VEK from the source; then flips of its VEK, given in
 * the options. */
static void snp_flips(const char *report_rel, const char *vek_rel, const char *chain_rel,
                      vt_time now)
{
    size_t n, vek_len, chain_len;
    uint8_t *report = read_rel(report_rel, &n);
    uint8_t *vek = read_rel(vek_rel, &vek_len);
    uint8_t *chain = read_rel(chain_rel, &chain_len);
    struct snp_dir dir;
    snp_dir_open(&dir, vek_rel, chain_rel);
    const struct vt_verifier_config cfg = {.collateral = dir.src,
                                           .collateral_ttl = VT_VERIFIER_TTL_FOREVER};
    const struct snp_ctx tee = {
        .now = now, .vek = vek, .vek_len = vek_len, .chain = chain, .chain_len = chain_len};
    const struct vkind tee_kind = {"vt_snp_verify", snp_make, snp_drop, snp_verify, &tee};

    /* The report: its regions (signed part, and in it KEY_INFO, REPORTED_TCB, CPUID and
     * CHIP_ID, which key the verifier's SEV-SNP collateral; R, S, their high bytes, the
     * reserved tail), the HCL envelope before and after it. */
    size_t base = n == VT_SNP_REPORT_SIZE ? 0 : 0x20;
    const size_t edges[] = {0x48,
                            0x4c,
                            0x180,
                            0x188,
                            0x18b,
                            0x1a0,
                            0x1e0,
                            0x2a0,
                            0x2d0,
                            0x2e8,
                            0x318,
                            0x330,
                            VT_SNP_REPORT_SIZE};
    bool *pick = calloc(n, sizeof(*pick));
    assert_non_null(pick);
    pick_stride(pick, 0, n, sampling->stride);
    pick_edges(pick, 0, base, sampling->edge);
    pick_edges(pick, base, base + 0x48, sampling->edge);
    for (size_t i = 0; i + 1 < sizeof(edges) / sizeof(edges[0]); i++) {
        pick_edges(pick, base + edges[i], base + edges[i + 1], sampling->edge);
    }
    /* What keys the verifier's SEV-SNP collateral: REPORTED_TCB, CHIP_ID. */
    pick_cached(pick, base + 0x180, base + 0x188, sampling->small_stride);
    pick_cached(pick, base + 0x1a0, base + 0x1e0, sampling->small_stride);
    if (n > base + VT_SNP_REPORT_SIZE) {
        pick_edges(pick, base + VT_SNP_REPORT_SIZE, n, sampling->edge);
    }
    const struct top_ctx top = {.cfg = &cfg, .opts = {.now = now}};
    const struct vkind top_kind = {"vt_verify", top_make, top_drop, top_verify, &top};
    struct flip_job job = {
        .name = report_rel,
        .target = report,
        .target_len = n,
        .ev = report,
        .ev_len = n,
        .pick = pick,
        .must_fail_from = 0,
        .must_fail_to = base == 0 ? n : 2600, /* HCL: as test_snp_fixtures.c flips it */
        .kinds = {&top_kind, &tee_kind},
        .n_kinds = 2,
    };
    flip_run(&job);
    free(pick);

    /* The VEK, given in the options (it replaces the source's). */
    pick = calloc(vek_len, sizeof(*pick));
    assert_non_null(pick);
    pick_cached(pick, 0, vek_len, sampling->large_stride);
    const struct top_ctx top_vek = {.cfg = &cfg,
                                    .opts = {.now = now, .vek = vek, .vek_len = vek_len}};
    const struct vkind top_vek_kind = {"vt_verify (VEK in the options)", top_make, top_drop,
                                       top_verify, &top_vek};
    char name[512];
    snprintf(name, sizeof(name), "%s (its VEK %s)", report_rel, vek_rel);
    job = (struct flip_job){
        .name = name,
        .target = vek,
        .target_len = vek_len,
        .ev = report,
        .ev_len = n,
        .pick = pick,
        .kinds = {&top_vek_kind, &tee_kind},
        .n_kinds = 2,
    };
    flip_run(&job);
    free(pick);
    snp_dir_close(&dir);
    free(report);
    free(vek);
    free(chain);
}

static void test_snp_flips(void **state)
{
    (void)state;
    fixtures();
    json_t *all = read_json("snp/expected.json");
    json_t *reports = json_object_get(all, "reports");
    assert_true(json_array_size(reports) >= 7);
    size_t i;
    json_t *e;
    json_array_foreach(reports, i, e)
    {
        if (!quick_snp(i)) {
            continue;
        }
        char report[512], vek[512];
        snprintf(report, sizeof(report), "snp/%s", json_string_value(json_object_get(e, "report")));
        snprintf(vek, sizeof(vek), "snp/%s", json_string_value(json_object_get(e, "vek")));
        vt_time now = json_time(e, "vek_not_before") + 86400;
        snp_flips(report, vek, snp_chain_file(e), now);
        /* The Azure HCL reports whose SNP reports expected.json lists: the envelope too. */
        const char *hcl = NULL;
        if (strstr(report, "derived/hcl-report.snp-report.bin") != NULL) {
            hcl = "snp/trustee-azure/hcl-report.bin";
        } else if (strstr(report, "derived/genoa-hcl-report.snp-report.bin") != NULL) {
            hcl = "snp/trustee-azure/derived/genoa-hcl-report.bin";
        }
        if (hcl != NULL) {
            snp_flips(hcl, vek, snp_chain_file(e), now);
        }
    }
    json_decref(all);
}

/* ---- 2. DCAP: one platform, collateral changing under one verifier ---- */

#define SIM_NOW ((vt_time)1749945600) /* 2025-06-15T00:00:00Z */
#define SIM_TTL 60

struct test_clock {
    vt_time t;
};

static vt_time clock_read(void *ctx)
{
    return ((const struct test_clock *)ctx)->t;
}

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[512], tmp[520];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    FILE *f = fopen(tmp, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static void remove_dir(const char *dir)
{
    static const char *const names[] = {
        "quote.bin",        "tcb_info.json",
        "qe_identity.json", "tcb_info_issuer_chain.pem",
        "pck_crl.der",      "pck_crl_issuer_chain.pem",
        "root_ca_crl.der",  "qe_identity_issuer_chain.pem",
        "root.pem",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        (void)unlink(path);
    }
    assert_int_equal(rmdir(dir), 0);
}

/* The embedded Intel root plus the scenario's test root. */
static void sim_anchors(struct vt_cert_list *l, const struct vt_sim_blob *root_der)
{
    struct vt_diag d;
    vt_diag_init(&d);
    vt_cert_list_init(l);
    assert_int_equal(vt_intel_sgx_root_add(l, &d), VT_OK);
    struct vt_cert *c = NULL;
    assert_int_equal(vt_cert_from_der(root_der->data, root_der->len, &c, &d), VT_OK);
    assert_int_equal(vt_cert_list_add(l, c), VT_OK);
    vt_cert_free(c);
}

static void join_advisories(const struct vt_advisories *a, char *out, size_t cap)
{
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < a->n && off < cap; i++) {
        int w = snprintf(out + off, cap - off, "%s%s", i ? "," : "", a->ids[i]);
        off += w > 0 ? (size_t)w : 0;
    }
}

/* A verification's result against a verdict (err VT_OK: status, platform status and advisories)
 * or an error and check. */
static void expect_result(const char *label, enum vt_err err, const struct vt_diag *d,
                          const struct vt_claims *c, enum vt_err want_err, const char *want_check,
                          enum vt_tcb_status want_status, const char *want_advisories)
{
    if (err != want_err) {
        fail_msg("%s: want %s, got %s (%s: %s)", label, vt_err_name(want_err), vt_err_name(err),
                 d->check, d->detail);
    }
    if (err != VT_OK) {
        if (strcmp(d->check, want_check) != 0) {
            fail_msg("%s: want check %s, got %s (%s)", label, want_check, d->check, d->detail);
        }
        return;
    }
    char adv[VT_MAX_ADVISORIES * (VT_ADVISORY_ID_MAX + 1) + 1];
    join_advisories(&c->advisories, adv, sizeof(adv));
    if (c->status != want_status || c->platform_status != want_status ||
        strcmp(adv, want_advisories) != 0) {
        fail_msg("%s: want status and platform status %s, advisories [%s]; got %s, %s, [%s]", label,
                 vt_tcb_status_name(want_status), want_advisories, vt_tcb_status_name(c->status),
                 vt_tcb_status_name(c->platform_status), adv);
    }
}

/* The simulated platform: a scenario whose PCK leaf expires first, a second quote of the same
 * platform (same PCK chain, QE report, QE report signature, attestation key; another REPORT_DATA
 * and so another quote signature), CRLs to swap in, and an OutOfDate TCB info. */
struct platform {
    struct vt_sim_scenario s;
    uint8_t *quote_b;
    struct vt_sim_blob pck_crl_revoked, root_crl_revoked;
    struct vt_sim_blob tcb_info_ood, tcb_info_orig;
    vt_time leaf_not_after;
    const char *label;
};

#define OOD_ADVISORIES "INTEL-SA-00777,INTEL-SA-00778"

static void platform_build(struct platform *p, enum vt_tee tee, uint16_t version)
{
    memset(p, 0, sizeof(*p));
    p->label = tee == VT_TEE_SGX ? "SGX v3" : "TDX v4";
    vt_sim_scenario_init(&p->s, tee, version, SIM_NOW);
    /* The PCK leaf expires before every other certificate, CRL and document. */
    p->leaf_not_after = SIM_NOW + 10 * VT_SIM_DAY;
    p->s.pki_params.pck.not_after = p->leaf_not_after;
    assert_true(vt_sim_scenario_build(&p->s));
    /* Quote B: REPORT_DATA[0] changed, the quote signature made again. */
    const struct vt_sim_quote *qa = &p->s.quote;
    struct vt_sim_quote qb = *qa;
    qb.data = malloc(qa->len);
    assert_non_null(qb.data);
    memcpy(qb.data, qa->data, qa->len);
    size_t report_data = tee == VT_TEE_SGX ? 320 : 520; /* offset in the SGX / TD 1.0 body */
    qb.data[qa->layout.body_off + report_data] ^= 0x5a;
    assert_true(vt_sim_quote_resign(&qb));
    p->quote_b = qb.data;
    const struct vt_sim_pki *pki = p->s.pki;
    struct vt_sim_crl_params cp = pki->params.pck_crl;
    cp.revoke_certs = VT_SIM_CERT_BIT(VT_SIM_CERT_PCK_LEAF);
    assert_true(vt_sim_pki_make_crl(pki, false, &cp, &p->pck_crl_revoked));
    cp = pki->params.root_crl;
    cp.revoke_certs = VT_SIM_CERT_BIT(VT_SIM_CERT_PCK_CA);
    assert_true(vt_sim_pki_make_crl(pki, true, &cp, &p->root_crl_revoked));
    /* The TCB info of a TCB recovery: the platform's level is now OutOfDate, with advisories. */
    struct vt_sim_tcb_info ti = p->s.tcb_info;
    ti.tcb_eval_num++;
    ti.levels[0].status = "OutOfDate";
    ti.levels[0].n_advisories = 2;
    ti.levels[0].advisories[0] = "INTEL-SA-00777";
    ti.levels[0].advisories[1] = "INTEL-SA-00778";
    EVP_PKEY *signer = pki->key[VT_SIM_CERT_TCB_SIGNER];
    assert_true(vt_sim_tcb_info_json(&ti, signer, &p->tcb_info_ood));
    p->tcb_info_orig.data = malloc(p->s.tcb_info_json.len);
    assert_non_null(p->tcb_info_orig.data);
    memcpy(p->tcb_info_orig.data, p->s.tcb_info_json.data, p->s.tcb_info_json.len);
    p->tcb_info_orig.len = p->s.tcb_info_json.len;
}

static void platform_free(struct platform *p)
{
    free(p->quote_b);
    vt_sim_blob_cleanup(&p->pck_crl_revoked);
    vt_sim_blob_cleanup(&p->root_crl_revoked);
    vt_sim_blob_cleanup(&p->tcb_info_ood);
    vt_sim_blob_cleanup(&p->tcb_info_orig);
    vt_sim_scenario_cleanup(&p->s);
}

/* Verify quote A or B through the verifier at `at` and compare. */
static void top_expect(struct vt_verifier *v, const struct platform *p, bool b, vt_time at,
                       const char *step, enum vt_err want_err, const char *want_check,
                       enum vt_tcb_status want_status, const char *want_advisories)
{
    char label[256];
    snprintf(label, sizeof(label), "%s, vt_verify, quote %c: %s", p->label, b ? 'B' : 'A', step);
    struct vt_verify_opts o = {.now = at};
    struct vt_claims c;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_verify(v, b ? p->quote_b : p->s.quote.data, p->s.quote.len, &o, &c, &d);
    expect_result(label, err, &d, &c, want_err, want_check, want_status, want_advisories);
}

static void collateral_changes(enum vt_tee tee, uint16_t version)
{
    struct platform p;
    platform_build(&p, tee, version);
    char dir[] = "/tmp/vt_caches_dcapXXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_true(vt_sim_scenario_write_dir(&p.s, dir));
    struct vt_cert_list anchors;
    sim_anchors(&anchors, &p.s.root_der);
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_collateral_source *src = NULL;
    assert_int_equal(vt_collateral_source_dir(dir, &src, &d), VT_OK);
    struct test_clock clock = {.t = 1000000};
    const struct vt_verifier_config cfg = {.trust_anchors = &anchors,
                                           .collateral = src,
                                           .collateral_ttl = SIM_TTL,
                                           .clock = clock_read,
                                           .clock_ctx = &clock};
    struct vt_verifier *v = NULL;
    assert_int_equal(vt_verifier_new(&cfg, &v, &d), VT_OK);
    const enum vt_tcb_status utd = VT_TCB_UP_TO_DATE, ood = VT_TCB_OUT_OF_DATE;
    top_expect(v, &p, false, SIM_NOW, "first", VT_OK, NULL, utd, "");
    top_expect(v, &p, true, SIM_NOW, "first", VT_OK, NULL, utd, "");

    /* (a) The PCK CRL revokes the PCK leaf: within the TTL the verifier still uses the set it
     * has (documented), past it the new CRL applies to the platform already verified. */
    write_file(dir, "pck_crl.der", p.pck_crl_revoked.data, p.pck_crl_revoked.len);
    top_expect(v, &p, true, SIM_NOW, "leaf revoked, within the TTL", VT_OK, NULL, utd, "");
    clock.t += SIM_TTL;
    top_expect(v, &p, true, SIM_NOW, "leaf revoked", VT_E_REVOKED, "pck_chain.leaf_revoked", utd,
               "");
    top_expect(v, &p, false, SIM_NOW, "leaf revoked", VT_E_REVOKED, "pck_chain.leaf_revoked", utd,
               "");
    write_file(dir, "pck_crl.der", p.s.pck_crl_der.data, p.s.pck_crl_der.len);
    clock.t += SIM_TTL;
    top_expect(v, &p, true, SIM_NOW, "leaf no longer revoked", VT_OK, NULL, utd, "");
    top_expect(v, &p, false, SIM_NOW, "leaf no longer revoked", VT_OK, NULL, utd, "");

    /* (b) The root CA CRL revokes the PCK CA. */
    write_file(dir, "root_ca_crl.der", p.root_crl_revoked.data, p.root_crl_revoked.len);
    clock.t += SIM_TTL;
    top_expect(v, &p, false, SIM_NOW, "CA revoked", VT_E_REVOKED, "pck_chain.ca_revoked", utd, "");
    top_expect(v, &p, true, SIM_NOW, "CA revoked", VT_E_REVOKED, "pck_chain.ca_revoked", utd, "");
    write_file(dir, "root_ca_crl.der", p.s.root_crl_der.data, p.s.root_crl_der.len);
    clock.t += SIM_TTL;
    top_expect(v, &p, false, SIM_NOW, "CA no longer revoked", VT_OK, NULL, utd, "");

    /* (c) A TCB recovery: the platform's level becomes OutOfDate with advisories; then back. */
    write_file(dir, "tcb_info.json", p.tcb_info_ood.data, p.tcb_info_ood.len);
    top_expect(v, &p, true, SIM_NOW, "OutOfDate TCB info, within the TTL", VT_OK, NULL, utd, "");
    clock.t += SIM_TTL;
    top_expect(v, &p, true, SIM_NOW, "OutOfDate TCB info", VT_OK, NULL, ood, OOD_ADVISORIES);
    top_expect(v, &p, false, SIM_NOW, "OutOfDate TCB info", VT_OK, NULL, ood, OOD_ADVISORIES);
    write_file(dir, "tcb_info.json", p.tcb_info_orig.data, p.tcb_info_orig.len);
    clock.t += SIM_TTL;
    top_expect(v, &p, false, SIM_NOW, "TCB info back", VT_OK, NULL, utd, "");
    top_expect(v, &p, true, SIM_NOW, "TCB info back", VT_OK, NULL, utd, "");

    /* (d) Time: the PCK leaf expires at its notAfter (DCAP: the upper edge is expired), at each
     * verification's time, though the platform verified before; earlier times still verify. */
    top_expect(v, &p, true, p.leaf_not_after - 1, "last second of the leaf", VT_OK, NULL, utd, "");
    top_expect(v, &p, true, p.leaf_not_after, "leaf expired", VT_E_EXPIRED,
               "pck_chain[0] (PCK certificate)", utd, "");
    top_expect(v, &p, false, p.leaf_not_after + 1, "leaf expired", VT_E_EXPIRED,
               "pck_chain[0] (PCK certificate)", utd, "");
    top_expect(v, &p, false, SIM_NOW, "after the expiry checks", VT_OK, NULL, utd, "");

    vt_verifier_free(v);
    vt_collateral_source_free(src);
    vt_cert_list_cleanup(&anchors);
    remove_dir(dir);
    platform_free(&p);
}

static void test_dcap_collateral_changes(void **state)
{
    (void)state;
    collateral_changes(VT_TEE_SGX, 3);
    collateral_changes(VT_TEE_TDX, 4);
}

/* Per TEE: vt_dcap_verifiers of different collateral, one quote's bytes, each verdict. */
static void per_tee_collateral(enum vt_tee tee, uint16_t version)
{
    struct platform p;
    platform_build(&p, tee, version);
    struct vt_cert_list anchors;
    sim_anchors(&anchors, &p.s.root_der);
    struct vt_dcap_collateral_input in[4];
    for (size_t i = 0; i < 4; i++) {
        vt_sim_scenario_collateral(&p.s, &in[i]);
    }
    in[1].pck_crl = p.pck_crl_revoked.data;
    in[1].pck_crl_len = p.pck_crl_revoked.len;
    in[2].root_ca_crl = p.root_crl_revoked.data;
    in[2].root_ca_crl_len = p.root_crl_revoked.len;
    in[3].tcb_info = p.tcb_info_ood.data;
    in[3].tcb_info_len = p.tcb_info_ood.len;
    static const char *const what[4] = {"genuine collateral", "PCK CRL revoking the leaf",
                                        "root CA CRL revoking the CA", "OutOfDate TCB info"};
    const enum vt_err want_err[4] = {VT_OK, VT_E_REVOKED, VT_E_REVOKED, VT_OK};
    static const char *const want_check[4] = {NULL, "pck_chain.leaf_revoked",
                                              "pck_chain.ca_revoked", NULL};
    const enum vt_tcb_status want_status[4] = {VT_TCB_UP_TO_DATE, VT_TCB_UP_TO_DATE,
                                               VT_TCB_UP_TO_DATE, VT_TCB_OUT_OF_DATE};
    static const char *const want_adv[4] = {"", "", "", OOD_ADVISORIES};
    struct vt_dcap_collateral *coll[4];
    struct vt_dcap_verifier *v[4];
    struct vt_diag d;
    vt_diag_init(&d);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(vt_dcap_collateral_new(&in[i], &coll[i], &d), VT_OK);
        assert_int_equal(vt_dcap_verifier_new(&anchors, coll[i], &v[i], &d), VT_OK);
    }
    const struct vt_dcap_opts o = {.now = SIM_NOW, .time_mode = VT_TIME_STRICT};
    /* Interleaved: each verifier sees the quotes the others just verified. */
    for (int round = 0; round < 3; round++) {
        for (size_t q = 0; q < 2; q++) {
            for (size_t i = 0; i < 4; i++) {
                char label[256];
                snprintf(label, sizeof(label), "%s, vt_dcap_verify, quote %c, round %d: %s",
                         p.label, q ? 'B' : 'A', round, what[i]);
                struct vt_claims c;
                vt_diag_init(&d);
                enum vt_err err =
                    vt_dcap_verify(v[i], q ? p.quote_b : p.s.quote.data, p.s.quote.len, &o, &c, &d);
                expect_result(label, err, &d, &c, want_err[i], want_check[i], want_status[i],
                              want_adv[i]);
            }
        }
    }
    for (size_t i = 0; i < 4; i++) {
        vt_dcap_verifier_free(v[i]);
        vt_dcap_collateral_free(coll[i]);
    }
    vt_cert_list_cleanup(&anchors);
    platform_free(&p);
}

static void test_dcap_per_tee_collateral(void **state)
{
    (void)state;
    per_tee_collateral(VT_TEE_SGX, 3);
    per_tee_collateral(VT_TEE_TDX, 4);
}

/* ---- 3. Nitro: one leaf ---- */

#define NSIM_NOW ((vt_time)1749945600)

/* The offset of `needle` in `hay`; fails if absent or not unique. */
static size_t find_unique(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
    size_t found = SIZE_MAX;
    for (size_t i = 0; i + m <= n; i++) {
        if (memcmp(hay + i, needle, m) == 0) {
            assert_true(found == SIZE_MAX);
            found = i;
        }
    }
    assert_true(found != SIZE_MAX);
    return found;
}

struct nitro_world {
    struct vt_nsim_pki *pki;
    struct vt_cert_list anchors;
    struct vt_verifier_config cfg;
    struct vt_verifier *top;
    struct vt_nitro_verifier *tee;
    vt_time leaf_not_after;
};

/* One document through the warm verifiers (vt_verify and vt_nitro_verify, the same result) and
 * through cold ones (the same result); the warm result is returned. */
static void nitro_both(struct nitro_world *w, const struct vt_sim_blob *doc, vt_time at,
                       const char *label, struct outcome *out)
{
    struct vt_claims c;
    struct vt_diag d;
    vt_diag_init(&d);
    const struct vt_verify_opts o = {.now = at};
    enum vt_err err = vt_verify(w->top, doc->data, doc->len, &o, &c, &d);
    outcome_set(out, err, &d, &c);
    vt_diag_init(&d);
    const struct vt_nitro_opts no = {.now = at, .time_mode = VT_TIME_STRICT, .max_age = -1};
    err = vt_nitro_verify(w->tee, doc->data, doc->len, &no, &c, &d);
    struct outcome t;
    outcome_set(&t, err, &d, &c);
    expect_same(label, "vt_nitro_verify against vt_verify", out, &t);
    outcome_clear(&t);
    /* Cold. */
    struct vt_verifier *cold = NULL;
    assert_int_equal(vt_verifier_new(&w->cfg, &cold, &d), VT_OK);
    vt_diag_init(&d);
    err = vt_verify(cold, doc->data, doc->len, &o, &c, &d);
    outcome_set(&t, err, &d, &c);
    vt_verifier_free(cold);
    expect_warm_cold(label, "vt_verify, warm against cold", &t, out);
    outcome_clear(&t);
    struct vt_nitro_verifier *cold_tee = NULL;
    assert_int_equal(vt_nitro_verifier_new(&w->anchors, &cold_tee, &d), VT_OK);
    vt_diag_init(&d);
    err = vt_nitro_verify(cold_tee, doc->data, doc->len, &no, &c, &d);
    outcome_set(&t, err, &d, &c);
    vt_nitro_verifier_free(cold_tee);
    expect_warm_cold(label, "vt_nitro_verify, warm against cold", &t, out);
    outcome_clear(&t);
}

/* The PKI's leaf certificate re-issued by the instance CA (validly signed, same key) with one
 * change. */
enum leaf_change {
    LEAF_NEW_SERIAL,
    LEAF_LATER_NOT_AFTER,   /* an hour later */
    LEAF_EARLIER_NOT_AFTER, /* an hour earlier */
    LEAF_NO_DIGITAL_SIGNATURE,
    LEAF_CRITICAL_EXTENSION, /* an unknown critical extension */
};

static void reissue_leaf(const struct vt_nsim_pki *pki, enum leaf_change change,
                         struct vt_sim_blob *out)
{
    X509 *x = X509_dup(pki->cert[VT_NSIM_LEAF]);
    assert_non_null(x);
    vt_time na = pki->params.level[VT_NSIM_LEAF].not_after;
    switch (change) {
    case LEAF_NEW_SERIAL: {
        ASN1_INTEGER *sn = ASN1_INTEGER_new();
        assert_non_null(sn);
        assert_int_equal(ASN1_INTEGER_set_uint64(sn, 0x0123456789abcdefull), 1);
        assert_int_equal(X509_set_serialNumber(x, sn), 1);
        ASN1_INTEGER_free(sn);
        break;
    }
    case LEAF_LATER_NOT_AFTER:
    case LEAF_EARLIER_NOT_AFTER: {
        vt_time t = change == LEAF_LATER_NOT_AFTER ? na + 3600 : na - 3600;
        assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)t));
        break;
    }
    case LEAF_NO_DIGITAL_SIGNATURE: {
        ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
        assert_non_null(ku);
        assert_int_equal(ASN1_BIT_STRING_set_bit(ku, 1, 1), 1); /* nonRepudiation only */
        assert_int_equal(X509_add1_ext_i2d(x, NID_key_usage, ku, 0, X509V3_ADD_REPLACE), 1);
        ASN1_BIT_STRING_free(ku);
        break;
    }
    case LEAF_CRITICAL_EXTENSION: {
        static const unsigned char null_der[2] = {0x05, 0x00};
        ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.4.1.55555.17", 1);
        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        assert_non_null(obj);
        assert_non_null(os);
        assert_int_equal(ASN1_OCTET_STRING_set(os, null_der, sizeof(null_der)), 1);
        X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, os);
        assert_non_null(ext);
        assert_int_equal(X509_add_ext(x, ext, -1), 1);
        X509_EXTENSION_free(ext);
        ASN1_OCTET_STRING_free(os);
        ASN1_OBJECT_free(obj);
        break;
    }
    }
    assert_true(X509_sign(x, pki->key[VT_NSIM_INSTANCE], EVP_sha384()) > 0);
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    assert_true(len > 0);
    out->data = malloc((size_t)len);
    assert_non_null(out->data);
    memcpy(out->data, der, (size_t)len);
    out->len = (size_t)len;
    OPENSSL_free(der);
    X509_free(x);
}

/* A document with the given nonce and user data (the PKI's leaf, signed by its key), or with
 * the leaf certificate bytes replaced by `leaf`. */
static void nitro_doc(const struct nitro_world *w, uint8_t tag, const uint8_t *leaf,
                      size_t leaf_len, struct vt_sim_blob *out)
{
    struct vt_nsim_doc_params dp;
    vt_nsim_doc_params_default(&dp, w->pki);
    uint8_t nonce[16], user[24];
    memset(nonce, tag, sizeof(nonce));
    memset(user, tag ^ 0xa5, sizeof(user));
    dp.nonce = (struct vt_nsim_opt){VT_NSIM_OPT_BYTES, nonce, sizeof(nonce)};
    dp.user_data = (struct vt_nsim_opt){VT_NSIM_OPT_BYTES, user, sizeof(user)};
    if (leaf != NULL) {
        dp.certificate = leaf;
        dp.certificate_len = leaf_len;
    }
    assert_true(vt_nsim_doc_build(w->pki, &dp, out, NULL));
}

static void test_nitro_same_leaf(void **state)
{
    (void)state;
    struct nitro_world w;
    memset(&w, 0, sizeof(w));
    struct vt_nsim_pki_params pp;
    vt_nsim_pki_params_default(&pp, NSIM_NOW);
    w.pki = vt_nsim_pki_new(&pp);
    assert_non_null(w.pki);
    w.leaf_not_after = pp.level[VT_NSIM_LEAF].not_after;
    /* The leaf is the first certificate to expire. */
    for (size_t i = 0; i < VT_NSIM_LEAF; i++) {
        assert_true(pp.level[i].not_after > w.leaf_not_after);
    }
    struct vt_sim_blob root = {0};
    assert_true(vt_nsim_cert_der(w.pki, VT_NSIM_ROOT, &root));
    vt_cert_list_init(&w.anchors);
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_cert *rc = NULL;
    assert_int_equal(vt_cert_from_der(root.data, root.len, &rc, &d), VT_OK);
    assert_int_equal(vt_cert_list_add(&w.anchors, rc), VT_OK);
    vt_cert_free(rc);
    vt_sim_blob_cleanup(&root);
    w.cfg = (struct vt_verifier_config){.trust_anchors = &w.anchors};
    assert_int_equal(vt_verifier_new(&w.cfg, &w.top, &d), VT_OK);
    assert_int_equal(vt_nitro_verifier_new(&w.anchors, &w.tee, &d), VT_OK);

    /* Two documents of one leaf, other nonce and user data: both verify, each with its own. */
    struct vt_sim_blob doc1 = {0}, doc2 = {0};
    nitro_doc(&w, 1, NULL, 0, &doc1);
    nitro_doc(&w, 2, NULL, 0, &doc2);
    struct outcome o1, o2, o;
    nitro_both(&w, &doc1, NSIM_NOW, "document 1", &o1);
    assert_int_equal(o1.err, VT_OK);
    nitro_both(&w, &doc2, NSIM_NOW, "document 2", &o2);
    assert_int_equal(o2.err, VT_OK);
    assert_string_not_equal(o1.json, o2.json);
    assert_non_null(strstr(o1.json, "\"nonce\":\"01010101"));
    assert_non_null(strstr(o2.json, "\"nonce\":\"02020202"));
    nitro_both(&w, &doc1, NSIM_NOW, "document 1 again", &o);
    expect_same("document 1 again", "claims", &o1, &o);
    outcome_clear(&o);

    /* The leaf certificate with one byte changed: in its signature (the last byte), its serial
     * number, its notAfter (a digit of the seconds), its outer signatureAlgorithm. The document is
     * signed by the genuine leaf key, so only the certificate is wrong: rejected, as by a verifier
     * that never saw the genuine leaf. */
    X509 *leaf = w.pki->cert[VT_NSIM_LEAF];
    uint8_t *der = NULL;
    int der_len = i2d_X509(leaf, &der);
    assert_true(der_len > 0);
    size_t n = (size_t)der_len;
    const ASN1_INTEGER *serial = X509_get0_serialNumber(leaf);
    const ASN1_TIME *na = X509_get0_notAfter(leaf);
    size_t serial_off =
        find_unique(der, n, ASN1_STRING_get0_data(serial), (size_t)ASN1_STRING_length(serial));
    size_t na_off = find_unique(der, n, ASN1_STRING_get0_data(na), (size_t)ASN1_STRING_length(na));
    size_t na_sec = na_off + (size_t)ASN1_STRING_length(na) - 2; /* "...SSZ": the unit second */
    /* The outer signatureAlgorithm (the last ecdsa-with-SHA384 AlgorithmIdentifier): a byte of
     * its OID. */
    static const uint8_t ecdsa_sha384[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                           0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
    size_t alg_off = SIZE_MAX;
    for (size_t i = 0; i + sizeof(ecdsa_sha384) <= n; i++) {
        if (memcmp(der + i, ecdsa_sha384, sizeof(ecdsa_sha384)) == 0) {
            alg_off = i;
        }
    }
    assert_true(alg_off != SIZE_MAX);
    const struct {
        const char *what;
        size_t off;
        uint8_t value; /* 0: xor 0x01 */
    } changes[] = {
        {"leaf signature, last byte", n - 1, 0},
        {"leaf serial number", serial_off + 3, 0},
        {"leaf notAfter, a digit of its seconds", na_sec,
         (uint8_t)(der[na_sec] == '9' ? '8' : der[na_sec] + 1)},
        {"leaf outer signatureAlgorithm OID", alg_off + 7, 0xde},
    };
    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
        uint8_t *bad = malloc(n);
        assert_non_null(bad);
        memcpy(bad, der, n);
        bad[changes[i].off] =
            changes[i].value ? changes[i].value : (uint8_t)(bad[changes[i].off] ^ 1);
        struct vt_sim_blob doc_bad = {0};
        nitro_doc(&w, 3, bad, n, &doc_bad);
        nitro_both(&w, &doc_bad, NSIM_NOW, changes[i].what, &o);
        if (o.err == VT_OK) {
            fail_msg("%s: a document with a changed leaf verifies after the genuine leaf did",
                     changes[i].what);
        }
        print_message("  %s: %s (%s)\n", changes[i].what, vt_err_name(o.err), o.check);
        outcome_clear(&o);
        /* And the genuine documents still verify. */
        nitro_both(&w, &doc2, NSIM_NOW, "document 2 after a changed leaf", &o);
        expect_same(changes[i].what, "document 2 after it", &o2, &o);
        outcome_clear(&o);
        vt_sim_blob_cleanup(&doc_bad);
        free(bad);
    }
    OPENSSL_free(der);

    /* Leaves re-issued by the instance CA, validly signed, with the genuine leaf's key: each is
     * judged on its own bytes (window, key usage, extensions), after the genuine leaf verified,
     * at times around the genuine leaf's notAfter; the genuine documents keep their verdicts. */
    const vt_time na0 = w.leaf_not_after;
    const struct {
        enum leaf_change change;
        const char *what;
        vt_time at[3];
        enum vt_err want[3]; /* a cold verifier's verdict */
    } reissued[] = {
        {LEAF_NEW_SERIAL,
         "re-issued leaf, another serial",
         {NSIM_NOW, na0, na0 + 1},
         {VT_OK, VT_OK, VT_E_EXPIRED}},
        {LEAF_LATER_NOT_AFTER,
         "re-issued leaf, notAfter an hour later",
         {NSIM_NOW, na0 + 1800, na0 + 3601},
         {VT_OK, VT_OK, VT_E_EXPIRED}},
        {LEAF_EARLIER_NOT_AFTER,
         "re-issued leaf, notAfter an hour earlier",
         {NSIM_NOW, na0 - 3600, na0 - 1800},
         {VT_OK, VT_OK, VT_E_EXPIRED}},
        {LEAF_NO_DIGITAL_SIGNATURE,
         "re-issued leaf without digitalSignature",
         {NSIM_NOW, na0, na0 + 1},
         {VT_E_CHAIN, VT_E_CHAIN, VT_E_CHAIN}},
        {LEAF_CRITICAL_EXTENSION,
         "re-issued leaf with an unknown critical extension",
         {NSIM_NOW, na0, na0 - 1},
         {VT_E_CHAIN, VT_E_CHAIN, VT_E_CHAIN}},
    };
    for (size_t i = 0; i < sizeof(reissued) / sizeof(reissued[0]); i++) {
        struct vt_sim_blob leaf2 = {0}, doc3 = {0};
        reissue_leaf(w.pki, reissued[i].change, &leaf2);
        nitro_doc(&w, 3, leaf2.data, leaf2.len, &doc3);
        for (size_t k = 0; k < 3; k++) {
            char label[160];
            snprintf(label, sizeof(label), "%s, at notAfter %+lld s", reissued[i].what,
                     (long long)(reissued[i].at[k] - na0));
            nitro_both(&w, &doc3, reissued[i].at[k], label, &o);
            /* The cold verifiers' verdict (nitro_both compared the warm ones with them). */
            struct vt_verifier *cold = NULL;
            assert_int_equal(vt_verifier_new(&w.cfg, &cold, &d), VT_OK);
            struct vt_claims c;
            const struct vt_verify_opts vo = {.now = reissued[i].at[k]};
            vt_diag_init(&d);
            enum vt_err err = vt_verify(cold, doc3.data, doc3.len, &vo, &c, &d);
            vt_verifier_free(cold);
            if (err != reissued[i].want[k]) {
                fail_msg("%s: want %s, got %s (%s: %s)", label, vt_err_name(reissued[i].want[k]),
                         vt_err_name(err), d.check, d.detail);
            }
            outcome_clear(&o);
            /* The genuine leaf at the same time: its own window. */
            nitro_both(&w, &doc2, reissued[i].at[k], "document 2 at the same time", &o);
            enum vt_err want2 = reissued[i].at[k] <= na0 ? VT_OK : VT_E_EXPIRED;
            if (o.err != want2) {
                fail_msg("%s: document 2 (genuine leaf): want %s, got %s (%s: %s)", label,
                         vt_err_name(want2), vt_err_name(o.err), o.check, o.detail);
            }
            outcome_clear(&o);
        }
        vt_sim_blob_cleanup(&doc3);
        vt_sim_blob_cleanup(&leaf2);
    }

    /* Time per document: the same leaf at its notAfter (inclusive: verifies), one second later
     * (expired), then earlier again. */
    nitro_both(&w, &doc1, w.leaf_not_after, "at the leaf's notAfter", &o);
    assert_int_equal(o.err, VT_OK);
    outcome_clear(&o);
    nitro_both(&w, &doc1, w.leaf_not_after + 1, "after the leaf's notAfter", &o);
    if (o.err != VT_E_EXPIRED || strcmp(o.check, "certificate") != 0) {
        fail_msg("after the leaf's notAfter: want VT_E_EXPIRED (certificate), got %s (%s: %s)",
                 vt_err_name(o.err), o.check, o.detail);
    }
    outcome_clear(&o);
    nitro_both(&w, &doc2, w.leaf_not_after + 3600, "an hour after the leaf's notAfter", &o);
    assert_int_equal(o.err, VT_E_EXPIRED);
    outcome_clear(&o);
    nitro_both(&w, &doc1, NSIM_NOW, "document 1 at now again", &o);
    assert_int_equal(o.err, VT_OK);
    outcome_clear(&o);

    outcome_clear(&o1);
    outcome_clear(&o2);
    vt_sim_blob_cleanup(&doc1);
    vt_sim_blob_cleanup(&doc2);
    vt_nitro_verifier_free(w.tee);
    vt_verifier_free(w.top);
    vt_cert_list_cleanup(&w.anchors);
    vt_nsim_pki_free(w.pki);
}

/* ---- 4. threads ---- */

/* A source of the four DCAP fixture sets, chosen by TEE and FMSPC; a quote whose PCK chain gives
 * no FMSPC gets the first set of its TEE. SEV-SNP: nothing (the VEK is in the options). */
struct sets_source {
    size_t n;
    char dir[N_DCAP_SETS][2048];
    enum vt_tee tee[N_DCAP_SETS];
    uint8_t fmspc[N_DCAP_SETS][6];
};

static enum vt_err sets_dcap(void *ctx, const struct vt_dcap_collateral_request *req,
                             struct vt_dcap_collateral **out, struct vt_diag *d)
{
    const struct sets_source *s = ctx;
    for (size_t i = 0; i < s->n; i++) {
        if (s->tee[i] == req->tee &&
            (!req->platform_known || memcmp(s->fmspc[i], req->fmspc, 6) == 0)) {
            return vt_dcap_collateral_load_dir(s->dir[i], out, d);
        }
    }
    return vt_fail(d, VT_E_COLLATERAL_MISSING, "collateral", "no set for this TEE and FMSPC");
}

static enum vt_err sets_snp(void *ctx, const struct vt_snp_collateral_request *req,
                            struct vt_snp_collateral *out, struct vt_diag *d)
{
    (void)ctx;
    (void)req;
    (void)out;
    (void)d;
    return VT_OK;
}

static const struct vt_collateral_source_ops sets_ops = {
    .dcap = sets_dcap, .snp = sets_snp, .name = "test sets"};

struct item {
    char label[160];
    uint8_t *ev;
    size_t len;
    const uint8_t *vek; /* SEV-SNP */
    size_t vek_len;
    vt_time at;
    struct outcome ref;
};

#define MAX_ITEMS 192

struct items {
    size_t n;
    struct item it[MAX_ITEMS];
    uint8_t *veks[16];
    size_t n_veks;
};

/* The genuine evidence and a copy with one bit flipped at each of offs[] (in range). */
static void add_items(struct items *l, const char *name, const uint8_t *ev, size_t len,
                      const uint8_t *vek, size_t vek_len, vt_time at, const size_t *offs,
                      size_t n_offs)
{
    for (size_t i = 0; i <= n_offs; i++) {
        assert_true(l->n < MAX_ITEMS);
        struct item *it = &l->it[l->n++];
        it->ev = malloc(len);
        assert_non_null(it->ev);
        memcpy(it->ev, ev, len);
        it->len = len;
        it->vek = vek;
        it->vek_len = vek_len;
        it->at = at;
        if (i == 0) {
            snprintf(it->label, sizeof(it->label), "%s (genuine)", name);
        } else {
            size_t off = offs[i - 1] < len ? offs[i - 1] : len - 1;
            it->ev[off] ^= (uint8_t)(1u << (off % 8));
            snprintf(it->label, sizeof(it->label), "%s (bit %zu of byte %zu)", name, off % 8, off);
        }
    }
}

static enum vt_err item_verify(struct vt_verifier *v, const struct item *it, struct vt_claims *c,
                               struct vt_diag *d)
{
    struct vt_verify_opts o = {.now = it->at, .vek = it->vek, .vek_len = it->vek_len};
    vt_diag_init(d);
    return vt_verify(v, it->ev, it->len, &o, c, d);
}

static void items_build(struct items *l, struct sets_source *src)
{
    memset(l, 0, sizeof(*l));
    struct vt_diag d;
    vt_diag_init(&d);
    /* DCAP: every set; flips in the body, the quote signature, the attestation key, the QE
     * report, its signature, the QE auth data and two places of the PCK chain. */
    for (size_t s = 0; s < N_DCAP_SETS; s++) {
        char rel[512];
        snprintf(src->dir[s], sizeof(src->dir[s]), "%s/dcap/%s", fixtures(), dcap_sets[s]);
        struct vt_dcap_collateral *coll = NULL;
        assert_int_equal(vt_dcap_collateral_load_dir(src->dir[s], &coll, &d), VT_OK);
        src->tee[s] = coll->tcb_info.tee;
        memcpy(src->fmspc[s], coll->tcb_info.fmspc, 6);
        vt_dcap_collateral_free(coll);
        src->n++;
        snprintf(rel, sizeof(rel), "dcap/%s/expected.json", dcap_sets[s]);
        json_t *expected = read_json(rel);
        vt_time at = (vt_time)json_integer_value(json_object_get(expected, "verification_time"));
        json_decref(expected);
        snprintf(rel, sizeof(rel), "dcap/%s/quote.bin", dcap_sets[s]);
        size_t n;
        uint8_t *quote = read_rel(rel, &n);
        struct vt_dcap_quote q;
        assert_int_equal(vt_dcap_quote_parse(quote, n, &q, &d), VT_OK);
        size_t sig = q.signed_len + 4;
        size_t qer = (size_t)(q.qe_report.raw - quote);
        size_t auth = (size_t)(q.qe_auth_data - quote);
        size_t cert = (size_t)(q.cert_data - quote);
        const size_t offs[] = {60,        sig + 7,  sig + 64 + 3, qer + 100,
                               qer + 390, auth + 1, cert + 200,   cert + q.cert_data_len / 2};
        add_items(l, dcap_sets[s], quote, n, NULL, 0, at, offs, sizeof(offs) / sizeof(offs[0]));
        free(quote);
    }
    /* Nitro: every document; flips in the payload, the leaf (body and signature), the first and
     * last cabundle certificates and the COSE signature. */
    json_t *all = read_json("nitro/expected.json");
    json_t *docs = json_object_get(all, "documents");
    for (size_t i = 0; i < json_array_size(docs); i++) {
        json_t *e = json_array_get(docs, i);
        const char *file = json_string_value(json_object_get(e, "file"));
        char rel[1024];
        snprintf(rel, sizeof(rel), "nitro/%s", file);
        size_t n;
        uint8_t *doc = read_rel(rel, &n);
        struct vt_nitro_doc parsed;
        assert_int_equal(vt_nitro_doc_parse(doc, n, &parsed, &d), VT_OK);
        size_t pay = (size_t)(parsed.payload - doc);
        size_t leaf = (size_t)(parsed.certificate - doc);
        size_t first = (size_t)(parsed.cabundle[0].data - doc);
        size_t last = (size_t)(parsed.cabundle[parsed.n_cabundle - 1].data - doc);
        const size_t offs[] = {pay + 40,
                               leaf + parsed.certificate_len / 2,
                               leaf + parsed.certificate_len - 2,
                               first + parsed.cabundle[0].len / 2,
                               last + parsed.cabundle[parsed.n_cabundle - 1].len / 3,
                               (size_t)(parsed.signature - doc) + 20};
        vt_time at = (vt_time)(json_integer_value(json_object_get(e, "timestamp_ms")) / 1000);
        add_items(l, file, doc, n, NULL, 0, at, offs, sizeof(offs) / sizeof(offs[0]));
        free(doc);
    }
    json_decref(all);
    /* SEV-SNP: every report of expected.json; flips in REPORT_DATA, REPORTED_TCB, CHIP_ID and
     * the signature. */
    all = read_json("snp/expected.json");
    json_t *reports = json_object_get(all, "reports");
    size_t i;
    json_t *e;
    json_array_foreach(reports, i, e)
    {
        const char *name = json_string_value(json_object_get(e, "report"));
        char rel[512];
        snprintf(rel, sizeof(rel), "snp/%s", name);
        size_t n, vek_len;
        uint8_t *report = read_rel(rel, &n);
        snprintf(rel, sizeof(rel), "snp/%s", json_string_value(json_object_get(e, "vek")));
        assert_true(l->n_veks < sizeof(l->veks) / sizeof(l->veks[0]));
        uint8_t *vek = read_rel(rel, &vek_len);
        l->veks[l->n_veks++] = vek;
        const size_t offs[] = {0x60, 0x181, 0x1c0, 0x2a0 + 5, 0x2e8 + 40};
        add_items(l, name, report, n, vek, vek_len, json_time(e, "vek_not_before") + 86400, offs,
                  sizeof(offs) / sizeof(offs[0]));
        free(report);
    }
    json_decref(all);
}

static void items_free(struct items *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->it[i].ev);
        outcome_clear(&l->it[i].ref);
    }
    for (size_t i = 0; i < l->n_veks; i++) {
        free(l->veks[i]);
    }
}

#define THREADS 4

struct worker {
    struct vt_verifier *v;
    struct items *items;
    uint64_t seed;
    size_t mismatches, done, verified;
    char first[1024];
};

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static void *work(void *p)
{
    struct worker *w = p;
    size_t n = w->items->n;
    size_t *order = malloc(n * sizeof(*order));
    if (order == NULL) {
        w->mismatches++;
        return NULL;
    }
    for (size_t k = 0; k < sampling->thread_iterations; k++) {
        if (k % n == 0) { /* a new shuffled round (Fisher-Yates) */
            for (size_t i = 0; i < n; i++) {
                order[i] = i;
            }
            for (size_t i = n - 1; i > 0; i--) {
                size_t j = (size_t)(xorshift(&w->seed) % (i + 1));
                size_t t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        const struct item *it = &w->items->it[order[k % n]];
        struct vt_claims c;
        struct vt_diag d;
        struct outcome o;
        enum vt_err err = item_verify(w->v, it, &c, &d);
        memset(&o, 0, sizeof(o));
        o.err = err;
        if (err == VT_OK) {
            o.json = vt_claims_to_json(&c);
        } else {
            snprintf(o.check, sizeof(o.check), "%s", d.check);
            snprintf(o.detail, sizeof(o.detail), "%s", d.detail);
        }
        bool same = (err != VT_OK || o.json != NULL) && outcome_same(&it->ref, &o);
        if (!same && w->mismatches++ == 0) {
            snprintf(w->first, sizeof(w->first), "%s: want %s (%s), got %s (%s: %s)%s", it->label,
                     vt_err_name(it->ref.err), it->ref.check, vt_err_name(o.err), o.check, o.detail,
                     err == VT_OK ? " or other claims" : "");
        }
        w->verified += err == VT_OK;
        w->done++;
        free(o.json);
    }
    free(order);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    fixtures();
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct items *items = malloc(sizeof(*items));
    struct sets_source *sets = calloc(1, sizeof(*sets));
    assert_non_null(items);
    assert_non_null(sets);
    items_build(items, sets);
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_collateral_source *src = NULL;
    assert_int_equal(vt_collateral_source_new(&sets_ops, sets, &src, &d), VT_OK);
    const struct vt_verifier_config cfg = {.collateral = src,
                                           .collateral_ttl = VT_VERIFIER_TTL_FOREVER};
    /* The single-threaded reference: each item on a verifier of its own. */
    size_t genuine_ok = 0;
    for (size_t i = 0; i < items->n; i++) {
        struct item *it = &items->it[i];
        struct vt_verifier *v = NULL;
        assert_int_equal(vt_verifier_new(&cfg, &v, &d), VT_OK);
        struct vt_claims c;
        enum vt_err err = item_verify(v, it, &c, &d);
        outcome_set(&it->ref, err, &d, &c);
        vt_verifier_free(v);
        if (strstr(it->label, "(genuine)") != NULL) {
            if (err != VT_OK) {
                fail_msg("%s: %s (%s: %s)", it->label, vt_err_name(err), d.check, d.detail);
            }
            genuine_ok++;
        }
    }
    double ref_time = seconds_since(&t0);
    struct vt_verifier *v = NULL;
    assert_int_equal(vt_verifier_new(&cfg, &v, &d), VT_OK);
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (size_t i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].v = v;
        w[i].items = items;
        w[i].seed = 0x9e3779b97f4a7c15ull * (i + 1);
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    size_t done = 0, verified = 0;
    int joined = 0;
    for (size_t i = 0; i < THREADS; i++) {
        joined += pthread_join(t[i], NULL) == 0;
        done += w[i].done;
        verified += w[i].verified;
    }
    assert_int_equal(joined, THREADS);
    for (size_t i = 0; i < THREADS; i++) {
        if (w[i].mismatches > 0) {
            fail_msg("thread %zu: %zu results differ from the reference; first: %s", i,
                     w[i].mismatches, w[i].first);
        }
    }
    assert_int_equal(done, THREADS * sampling->thread_iterations);
    print_message("  %zu items (%zu genuine), reference %.1f s; %d threads x %u: %zu "
                  "verifications (%zu verified), all as the reference, %.1f s in all\n",
                  items->n, genuine_ok, ref_time, THREADS, sampling->thread_iterations, done,
                  verified, seconds_since(&t0));
    vt_verifier_free(v);
    vt_collateral_source_free(src);
    items_free(items);
    free(items);
    free(sets);
}

int main(int argc, char **argv)
{
    /* --quick: the quick suite's run (sparser sampling, a subset of the fixtures). */
    if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
        quick = true;
        sampling = &quick_sampling;
    }
    struct CMUnitTest tests[N_DCAP_SETS + 6];
    size_t n = 0;
    for (size_t i = 0; i < N_DCAP_SETS; i++) {
        if (quick_dcap(i)) {
            tests[n++] = (struct CMUnitTest){dcap_sets[i], test_dcap_flips, NULL, NULL,
                                             (void *)dcap_sets[i]};
        }
    }
    tests[n++] = (struct CMUnitTest){"nitro_flips", test_nitro_flips, NULL, NULL, NULL};
    tests[n++] = (struct CMUnitTest){"snp_flips", test_snp_flips, NULL, NULL, NULL};
    tests[n++] = (struct CMUnitTest){"dcap_collateral_changes", test_dcap_collateral_changes, NULL,
                                     NULL, NULL};
    tests[n++] = (struct CMUnitTest){"dcap_per_tee_collateral", test_dcap_per_tee_collateral, NULL,
                                     NULL, NULL};
    tests[n++] = (struct CMUnitTest){"nitro_same_leaf", test_nitro_same_leaf, NULL, NULL, NULL};
    tests[n++] = (struct CMUnitTest){"threads", test_threads, NULL, NULL, NULL};
    /* VT_TEST_FILTER (a cmocka pattern, e.g. "nitro*") runs a subset. */
    if (getenv("VT_TEST_FILTER") != NULL) {
        cmocka_set_test_filter(getenv("VT_TEST_FILTER"));
    }
    return _cmocka_run_group_tests(quick ? "verify_caches (quick)" : "verify_caches", tests, n,
                                   NULL, NULL);
}
