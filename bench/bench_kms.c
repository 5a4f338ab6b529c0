/*
 * The KMS drop-in's Decrypt with a Recipient on loopback HTTP, beside the Nitro verification floor
 * measured in the same run (docs/performance.md, "Issue 19: KMS Decrypt with Recipient").
 *
 *   bench_kms [SECONDS]   (default 3 s per figure)
 *   BENCH_KMS_ONLY=recipient|plain bench_kms ...   one figure (2 clients), for a profiler
 *
 * An in-process KMS service (tests/support/kms_harness.c: SQLite in a temporary directory, the
 * broker's audit log, 2 HTTP worker threads, the Nitro simulator's root trusted) and 1 or 2
 * client threads in the same process, each with its own keep-alive connection. A request is what
 * an enclave sends: TrentService.Decrypt of a 32-byte data key's blob with
 * Recipient {RSAES_OAEP_SHA_256, AttestationDocument}, signed with SigV4 (vt_sigv4_sign) at the
 * current time. The service verifies the signature (the access key's secret unsealed from the
 * store), reads the request, resolves the key, verifies the attestation document (COSE signature,
 * chain, freshness), evaluates the key policy on its ImageSha384, opens the blob, wraps the data
 * key to the document's RSA-2048 key as CMS EnvelopedData and appends the call to the audit log
 * with a receipt. The documents are a pool of 16 made by the simulator before measuring (the
 * verifier caches no document's own signature, docs/verify.md "Caches", so each call costs its
 * P-384 verification); the enclave opens one answer with OpenSSL's CMS_decrypt before the
 * measurement, not during it (RSA decryption is the enclave's cost, not the service's).
 * "Decrypt without Recipient" is the same call by the administrator's key without the document.
 *
 * Floor: the raw P-384 verification rate (vt_bench_p384, one thread) and vt_verify of one of the
 * documents with a warm verifier (its chain cached: one P-384 verification per document).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "kms_harness.h"
#include "net/http_client.h"

#define N_DOCS 16
#define MAX_SAMPLES 200000
#define POLICY_MAX 4096

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct bench {
    struct kh *h;
    char *docs[N_DOCS]; /* base64 */
    char blob[1024];    /* the data key's CiphertextBlob (base64) */
};

/* One signed POST of TrentService.<op>; the response's status and body (heap, *body). */
static long kms_post(const struct kh *h, enum kh_who who, const char *op, const char *body,
                     json_t **out)
{
    *out = NULL;
    char host[64], target[96], url[96];
    snprintf(host, sizeof(host), "%s", h->url + strlen("http://"));
    snprintf(target, sizeof(target), "TrentService.%s", op);
    snprintf(url, sizeof(url), "%s/", h->url);
    struct vt_sigv4_header sh[] = {
        {"Host", host}, {"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", target}};
    struct vt_sigv4_request req = {.method = "POST",
                                   .path = "/",
                                   .query = "",
                                   .headers = sh,
                                   .n_headers = 3,
                                   .body = (const uint8_t *)body,
                                   .body_len = strlen(body)};
    char auth[1024], date[17];
    if (vt_sigv4_sign(&req, h->callers[who].access_key_id, h->secrets[who], KH_REGION, "kms",
                      vt_time_now(), auth, sizeof(auth), date, NULL) != VT_OK) {
        return -1;
    }
    char h_host[96], h_target[128], h_date[64], h_auth[1100];
    snprintf(h_host, sizeof(h_host), "Host: %s", host);
    snprintf(h_target, sizeof(h_target), "X-Amz-Target: %s", target);
    snprintf(h_date, sizeof(h_date), "X-Amz-Date: %s", date);
    snprintf(h_auth, sizeof(h_auth), "Authorization: %s", auth);
    const char *hdrs[] = {
        h_host, "Content-Type: application/x-amz-json-1.1", h_target, h_date, h_auth, NULL};
    struct vt_http_request_opts o = {.timeout_ms = 30000,
                                     .method = "POST",
                                     .body = (const uint8_t *)body,
                                     .body_len = strlen(body),
                                     .headers = hdrs};
    struct vt_http_response r;
    long status = -1;
    if (vt_http_request(url, &o, &r, NULL) == VT_OK) {
        status = r.status;
        *out = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
    }
    vt_http_response_cleanup(&r);
    return status;
}

static char *decrypt_body(const struct bench *b, int doc)
{
    size_t cap = strlen(b->blob) + (doc >= 0 ? strlen(b->docs[doc]) : 0) + 256;
    char *body = malloc(cap);
    if (body == NULL) {
        return NULL;
    }
    if (doc >= 0) {
        snprintf(body, cap,
                 "{\"CiphertextBlob\":\"%s\",\"Recipient\":{\"KeyEncryptionAlgorithm\":"
                 "\"RSAES_OAEP_SHA_256\",\"AttestationDocument\":\"%s\"}}",
                 b->blob, b->docs[doc]);
    } else {
        snprintf(body, cap, "{\"CiphertextBlob\":\"%s\"}", b->blob);
    }
    return body;
}

struct run {
    const struct bench *b;
    bool recipient;
    unsigned id;
    double seconds;
    unsigned long n, failed;
    double *lat;
};

/* One Decrypt: 200 with CiphertextForRecipient (with a Recipient) or Plaintext (without). */
static bool decrypt_once(struct run *r, unsigned i)
{
    char *body = decrypt_body(r->b, r->recipient ? (int)(i % N_DOCS) : -1);
    json_t *out = NULL;
    bool ok =
        body != NULL &&
        kms_post(r->b->h, r->recipient ? KH_ENCLAVE : KH_ADMIN, "Decrypt", body, &out) == 200 &&
        json_string_value(
            json_object_get(out, r->recipient ? "CiphertextForRecipient" : "Plaintext")) != NULL;
    json_decref(out);
    free(body);
    return ok;
}

static void *client(void *arg)
{
    struct run *r = arg;
    double end = now_s() + r->seconds;
    for (unsigned i = r->id; now_s() < end; i++) {
        double t0 = now_s();
        if (decrypt_once(r, i)) {
            if (r->n < MAX_SAMPLES) {
                r->lat[r->n] = now_s() - t0;
            }
            r->n++;
        } else {
            r->failed++;
        }
    }
    return NULL;
}

struct figure {
    double rate, p50_ms, p99_ms, cpu_ms;
    unsigned long failed;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_usec / 1e6;
}

static struct figure measure(const struct bench *b, bool recipient, double seconds,
                             unsigned clients)
{
    struct run runs[2];
    pthread_t t[2];
    struct figure f = {0};
    double *lat = calloc((size_t)clients * MAX_SAMPLES, sizeof(double));
    if (lat == NULL) {
        f.failed = 1;
        return f;
    }
    double cpu0 = cpu_s(), start = now_s();
    for (unsigned i = 0; i < clients; i++) {
        runs[i] = (struct run){b, recipient, i * 7, seconds, 0, 0, lat + (size_t)i * MAX_SAMPLES};
        pthread_create(&t[i], NULL, client, &runs[i]);
    }
    unsigned long n = 0;
    size_t samples = 0;
    for (unsigned i = 0; i < clients; i++) {
        pthread_join(t[i], NULL);
        n += runs[i].n;
        f.failed += runs[i].failed;
        size_t k = runs[i].n < MAX_SAMPLES ? runs[i].n : MAX_SAMPLES;
        memmove(lat + samples, runs[i].lat, k * sizeof(double));
        samples += k;
    }
    f.rate = (double)n / (now_s() - start);
    f.cpu_ms = n > 0 ? 1000.0 * (cpu_s() - cpu0) / (double)n : 0;
    if (samples > 0) {
        qsort(lat, samples, sizeof(double), cmp_double);
        f.p50_ms = 1000.0 * lat[samples / 2];
        f.p99_ms = 1000.0 * lat[(samples * 99) / 100];
    }
    free(lat);
    return f;
}

/* The key (policy: the enclave role may decrypt for the simulator's image), a data key under it
 * and the documents; then one Decrypt with Recipient opened by the enclave's key. */
static bool prepare(struct bench *b, struct kh_enclave *e)
{
    char *policy = malloc(POLICY_MAX);
    if (policy == NULL) {
        return false;
    }
    snprintf(
        policy, POLICY_MAX,
        "{\"Version\":\"2012-10-17\",\"Statement\":["
        "{\"Sid\":\"admin\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::" KH_ACCOUNT
        ":role/admin\"},\"Action\":\"kms:*\",\"Resource\":\"*\"},"
        "{\"Sid\":\"enclave\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam:"
        ":" KH_ACCOUNT
        ":role/enclave\"},\"Action\":[\"kms:Decrypt\",\"kms:GenerateDataKey\"],\"Resource\":"
        "\"*\",\"Condition\":{\"StringEqualsIgnoreCase\":{\"kms:RecipientAttestation:"
        "ImageSha384\":\"%s\"}}}]}",
        kh_pcr0(b->h));
    char id[VT_KMS_UUID_LEN + 1];
    bool ok = kh_create_key(b->h, policy, id);
    free(policy);
    if (!ok) {
        return false;
    }
    struct kh_res r = kh_call(b->h, KH_ADMIN, "GenerateDataKey",
                              "{\"KeyId\":\"%s\",\"KeySpec\":\"AES_256\"}", id);
    ok = r.ok && strlen(kh_str(&r, "CiphertextBlob")) < sizeof(b->blob);
    uint8_t key[32];
    size_t key_len = 0;
    if (ok) {
        snprintf(b->blob, sizeof(b->blob), "%s", kh_str(&r, "CiphertextBlob"));
        const char *pt = kh_str(&r, "Plaintext");
        ok = vt_base64_decode(pt, strlen(pt), false, key, sizeof(key), &key_len) == VT_OK &&
             key_len == 32;
    }
    kh_res_cleanup(&r);
    for (int i = 0; ok && i < N_DOCS; i++) {
        ok = (b->docs[i] = kh_document(b->h, e, 2, false)) != NULL;
    }
    char *body = ok ? decrypt_body(b, 0) : NULL;
    json_t *out = NULL;
    ok = body != NULL && kms_post(b->h, KH_ENCLAVE, "Decrypt", body, &out) == 200;
    const char *cfr = json_string_value(json_object_get(out, "CiphertextForRecipient"));
    size_t n = 0;
    uint8_t *opened = ok && cfr != NULL ? kh_cms_open(e, cfr, &n) : NULL;
    ok = opened != NULL && n == 32 && memcmp(opened, key, 32) == 0;
    if (!ok) {
        char *s = out != NULL ? json_dumps(out, JSON_COMPACT) : NULL;
        fprintf(stderr, "bench_kms: Decrypt with Recipient: %s\n", s != NULL ? s : "no answer");
        free(s);
    }
    free(opened);
    json_decref(out);
    free(body);
    vt_wipe(key, sizeof(key));
    return ok;
}

/* vt_verify of document 0 with a warm verifier trusting the simulator's root. */
static double document_floor(const struct bench *b, double seconds)
{
    double rate = 0;
    uint8_t *doc = malloc(VT_KMS_ATTESTATION_MAX);
    size_t n = 0;
    struct vt_sim_blob pem = {0};
    struct vt_cert_list anchors;
    vt_cert_list_init(&anchors);
    struct vt_verifier *v = NULL;
    struct vt_claims c;
    struct vt_verify_opts o = {.now = vt_time_now()};
    if (doc != NULL &&
        vt_base64_decode(b->docs[0], strlen(b->docs[0]), false, doc, VT_KMS_ATTESTATION_MAX, &n) ==
            VT_OK &&
        vt_nsim_cert_pem(b->h->pki, VT_NSIM_ROOT, &pem) &&
        vt_cert_list_from_pem((const char *)pem.data, pem.len, &anchors, NULL) == VT_OK &&
        vt_verifier_new(&(struct vt_verifier_config){.trust_anchors = &anchors}, &v, NULL) ==
            VT_OK &&
        vt_verify(v, doc, n, &o, &c, NULL) == VT_OK) {
        struct vt_bench_evidence e = {doc, n, &o};
        struct vt_bench_result res;
        if (vt_bench_verify_warm(v, &e, 1, seconds, &res, NULL) == VT_OK) {
            rate = res.per_second;
        }
    }
    vt_verifier_free(v);
    vt_cert_list_cleanup(&anchors);
    vt_sim_blob_cleanup(&pem);
    free(doc);
    return rate;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 3.0;
    if (argc > 2 || !(seconds > 0 && seconds <= 600)) {
        fprintf(stderr, "usage: bench_kms [SECONDS]   (per figure, default 3, at most 600)\n");
        return 2;
    }
    struct bench b = {0};
    struct kh_enclave e;
    b.h = kh_start();
    if (b.h == NULL || !kh_serve(b.h) || !kh_enclave_new(&e)) {
        fprintf(stderr, "bench_kms: cannot start the KMS service\n");
        kh_stop(b.h);
        return 1;
    }
    int rc = 1;
    if (!prepare(&b, &e)) {
        goto out;
    }
    const char *only = getenv("BENCH_KMS_ONLY"); /* "recipient" or "plain": for profilers */
    if (only != NULL) {
        struct figure f = measure(&b, strcmp(only, "recipient") == 0, seconds, 2);
        printf("Decrypt %s, 2 clients: %.1f /s  p50 %.2f ms  p99 %.2f ms  CPU %.2f ms\n",
               strcmp(only, "recipient") == 0 ? "with Recipient" : "without Recipient", f.rate,
               f.p50_ms, f.p99_ms, f.cpu_ms);
        rc = f.failed == 0 ? 0 : 1;
        goto out;
    }
    struct vt_bench_result p384;
    if (vt_bench_p384(1, seconds, &p384, NULL) != VT_OK) {
        goto out;
    }
    double floor = document_floor(&b, seconds);
    struct figure r1 = measure(&b, true, seconds, 1);
    struct figure r2 = measure(&b, true, seconds, 2);
    struct figure p1 = measure(&b, false, seconds, 1);
    struct figure p2 = measure(&b, false, seconds, 2);
    printf("KMS drop-in on SQLite, %g s per figure, 2 HTTP worker threads, clients in the same "
           "process over loopback HTTP (keep-alive), SigV4 signed\n",
           seconds);
    printf("  raw P-384 verify (%s), 1 thread:       %9.0f /s\n", vt_p384_backend(),
           p384.per_second);
    printf("  Nitro document verification (floor):   %9.0f /s\n", floor);
    const struct {
        const char *name;
        const struct figure *f;
    } rows[] = {{"Decrypt with Recipient, 1 client:   ", &r1},
                {"Decrypt with Recipient, 2 clients:  ", &r2},
                {"Decrypt without Recipient, 1 client:", &p1},
                {"Decrypt without Recipient, 2 clients:", &p2}};
    unsigned long failed = 0;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct figure *f = rows[i].f;
        printf("  %s %8.1f /s  %.3f of floor  p50 %.2f ms  p99 %.2f ms  CPU %.2f ms  (%lu "
               "failed)\n",
               rows[i].name, f->rate, floor > 0 ? f->rate / floor : 0, f->p50_ms, f->p99_ms,
               f->cpu_ms, f->failed);
        failed += f->failed;
    }
    rc = failed == 0 && floor > 0 ? 0 : 1;
out:
    for (int i = 0; i < N_DOCS; i++) {
        free(b.docs[i]);
    }
    kh_enclave_free(&e);
    kh_stop(b.h);
    return rc;
}
