/* Fuzz AWS Signature Version 4 verification (src/kms/sigv4.c) against a fixed key and clock.
 *
 * Input: "METHOD\nPATH\nQUERY\n" then header lines "Name:value" (the value as given: spaces kept)
 * up to an empty line, then the body. A line may hold any byte but NUL (the request's strings are
 * C strings); a missing line is an empty one.
 *
 * Invariants: the verdict is VT_OK exactly when the refusal is VT_SIGV4_OK; a refusal names a
 * "sigv4." check, one of the five kinds, an AWS type and status 400; the result of an accepted
 * request names a known key, a region, and a time within the skew (or the query form's expiry);
 * verifying twice gives the same verdict, check and detail; and the request signed again by
 * vt_sigv4_sign (without its Authorization and X-Amz-Date, with a Host) verifies, unless it is
 * not one the header form can carry (X-Amz-* or a '%' in the query, a session token, an
 * x-amz-content-sha256 value) or its signature makes it too large. Seeds:
 * tests/support/gen_sigv4_seeds.py (signed by botocore). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kms/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_AKID "AKIDFUZZ0001"
#define FUZZ_SECRET "fuzz/secret+0123456789abcdefghij"
#define FUZZ_NOW ((vt_time)1752919277) /* 2025-07-19T10:01:17Z */
#define MAX_FIELDS 80

static bool fuzz_secret(void *ctx, const char *akid, char secret[VT_SIGV4_SECRET_MAX],
                        char *principal, size_t cap)
{
    (void)ctx;
    const char *s = strcmp(akid, FUZZ_AKID) == 0     ? FUZZ_SECRET
                    : strcmp(akid, "AKIDOTHER") == 0 ? "other"
                                                     : NULL;
    if (s == NULL) {
        return false;
    }
    memcpy(secret, s, strlen(s) + 1);
    memcpy(principal, "fuzz", cap < 5 ? cap : 5);
    return true;
}

/* The input split into NUL-terminated copies. */
struct parsed {
    char *buf;
    char *method, *path, *query;
    struct vt_sigv4_header h[MAX_FIELDS];
    size_t n;
    const uint8_t *body;
    size_t body_len;
};

static char *next_line(char **p, char *end)
{
    char *s = *p;
    if (s >= end) {
        return end; /* the empty string at the end of the copy */
    }
    char *nl = memchr(s, '\n', (size_t)(end - s));
    if (nl == NULL) {
        *p = end;
        return s;
    }
    *nl = '\0';
    *p = nl + 1;
    return s;
}

static bool parse(const uint8_t *data, size_t size, struct parsed *p)
{
    memset(p, 0, sizeof(*p));
    p->buf = malloc(size + 1);
    if (p->buf == NULL) {
        return false;
    }
    memcpy(p->buf, data, size);
    p->buf[size] = '\0';
    char *cur = p->buf, *end = p->buf + size;
    p->method = next_line(&cur, end);
    p->path = next_line(&cur, end);
    p->query = next_line(&cur, end);
    while (cur < end) {
        char *line = next_line(&cur, end);
        if (*line == '\0') {
            break;
        }
        char *colon = strchr(line, ':');
        if (colon == NULL || p->n == MAX_FIELDS) {
            continue;
        }
        *colon = '\0';
        p->h[p->n++] = (struct vt_sigv4_header){line, colon + 1};
    }
    p->body = (const uint8_t *)cur;
    p->body_len = (size_t)(end - cur);
    return true;
}

static void check_verdict(enum vt_err err, enum vt_sigv4_refusal r, const struct vt_diag *d,
                          const struct vt_sigv4_result *res, const struct vt_sigv4_expect *exp)
{
    if ((err == VT_OK) != (r == VT_SIGV4_OK)) {
        abort();
    }
    if (err != VT_OK) {
        if (strncmp(d->check, "sigv4.", 6) != 0 || r < VT_SIGV4_MISSING || r > VT_SIGV4_EXPIRED ||
            vt_sigv4_refusal_type(r)[0] == '\0' || vt_sigv4_refusal_status(r) != 400) {
            abort();
        }
        return;
    }
    bool known =
        strcmp(res->access_key_id, FUZZ_AKID) == 0 || strcmp(res->access_key_id, "AKIDOTHER") == 0;
    if (!known || strcmp(res->principal, "fuzz") != 0 || res->region[0] == '\0' ||
        res->signed_at > exp->now + VT_SIGV4_MAX_SKEW ||
        res->signed_at < exp->now - 604800 - VT_SIGV4_MAX_SKEW) {
        abort();
    }
}

static bool contains_nocase(const char *s, const char *what)
{
    size_t n = strlen(what);
    for (; *s != '\0'; s++) {
        if (strncasecmp(s, what, n) == 0) {
            return true;
        }
    }
    return false;
}

/* Sign the request again (the header form) and verify it. */
static void roundtrip(const struct parsed *p, const struct vt_sigv4_expect *exp)
{
    if (strchr(p->query, '%') != NULL || contains_nocase(p->query, "amz")) {
        return;
    }
    struct vt_sigv4_header h[MAX_FIELDS + 3];
    size_t n = 0;
    bool host = false;
    for (size_t i = 0; i < p->n; i++) {
        const char *name = p->h[i].name;
        if (strcasecmp(name, "authorization") == 0 || strcasecmp(name, "x-amz-date") == 0) {
            continue;
        }
        if (strcasecmp(name, "x-amz-security-token") == 0 ||
            strcasecmp(name, "x-amz-content-sha256") == 0) {
            return;
        }
        host = host || strcasecmp(name, "host") == 0;
        h[n++] = p->h[i];
    }
    if (!host) {
        h[n++] = (struct vt_sigv4_header){"Host", "fuzz.example"};
    }
    struct vt_sigv4_request req = {p->method, p->path, p->query, h, n, p->body, p->body_len};
    static char auth[32 * 1024];
    char date[17];
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_sigv4_sign(&req, FUZZ_AKID, FUZZ_SECRET, "eu-west-1", "kms", FUZZ_NOW,
                                    auth, sizeof(auth), date, &d);
    if (err != VT_OK) {
        if (d.check[0] == '\0') {
            abort();
        }
        return;
    }
    h[n++] = (struct vt_sigv4_header){"X-Amz-Date", date};
    h[n++] = (struct vt_sigv4_header){"Authorization", auth};
    req.n_headers = n;
    struct vt_sigv4_result res;
    enum vt_sigv4_refusal r;
    vt_diag_init(&d);
    err = vt_sigv4_verify(&req, exp, &res, &r, &d);
    if (err == VT_E_TOO_LARGE) {
        return; /* the signature's own fields pushed it over a cap */
    }
    if (err != VT_OK || r != VT_SIGV4_OK || strcmp(res.access_key_id, FUZZ_AKID) != 0 ||
        strcmp(res.region, "eu-west-1") != 0 || res.signed_at != FUZZ_NOW) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct parsed p;
    if (!parse(data, size, &p)) {
        return 0;
    }
    struct vt_sigv4_request req = {p.method, p.path, p.query, p.h, p.n, p.body, p.body_len};
    struct vt_sigv4_expect exp;
    memset(&exp, 0, sizeof(exp));
    exp.service = "kms";
    exp.now = FUZZ_NOW;
    exp.secret = fuzz_secret;

    struct vt_sigv4_result res, again;
    enum vt_sigv4_refusal r = VT_SIGV4_OK, r2 = VT_SIGV4_OK;
    struct vt_diag d, d2;
    vt_diag_init(&d);
    vt_diag_init(&d2);
    enum vt_err err = vt_sigv4_verify(&req, &exp, &res, &r, &d);
    check_verdict(err, r, &d, &res, &exp);
    enum vt_err err2 = vt_sigv4_verify(&req, &exp, &again, &r2, &d2);
    if (err != err2 || r != r2 || strcmp(d.check, d2.check) != 0 ||
        strcmp(d.detail, d2.detail) != 0) {
        abort();
    }
    /* Only the accepted regions (a list) change nothing else. */
    static const char *const regions[] = {"us-east-1", "eu-west-1", NULL};
    exp.regions = regions;
    err2 = vt_sigv4_verify(&req, &exp, &again, &r2, &d2);
    check_verdict(err2, r2, &d2, &again, &exp);
    if (err == VT_OK && err2 != VT_OK && strcmp(d2.check, "sigv4.scope") != 0) {
        abort();
    }
    exp.regions = NULL;
    roundtrip(&p, &exp);
    free(p.buf);
    return 0;
}
