/*
 * Certificates from the broker (broker_cert.c, docs/attested-tls.md): over real HTTP on
 * 127.0.0.1 with simulated evidence, a certificate for an attested runtime key (with a token, and
 * with evidence in the request) checked with OpenSSL apart from our code (the CA's signature, the
 * names, the lifetime, the appraisal extension exactly as include/veritee/atls.h defines it); and
 * every refusal: a key the attestation did not bind, a CSR whose signature does not verify, a
 * policy that says no, an expired token, an oversize CSR, a key or signature algorithm refused,
 * an unknown profile, malformed bodies. Refusals after authentication are in the log; the others
 * change nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <veritee/atls.h>

#include "broker_harness.h"

struct fx {
    struct bh *h;
    struct vt_jwk *key, *other;
    char mrtd[97];
};

static long profile(struct bh *h, const char *body)
{
    return bh_call(h, "POST", "/admin/v1/cert-profiles", body, h->admin, NULL, NULL);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct vt_broker_config over = {.cert_ttl = 3600};
    f->h = bh_start_cfg(vt_time_now(), "", 300, 600, NULL, NULL, &over);
    assert_non_null(f->h);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_jwk_generate("P-256", &f->key, &d), VT_OK);
    assert_int_equal(vt_jwk_generate("P-256", &f->other, &d), VT_OK);
    snprintf(f->mrtd, sizeof(f->mrtd), "%s", vt_bsim_measurement(f->h->sim, VT_TEE_TDX));
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"name\":\"vault\",\"dns\":[\"vault.example\",\"localhost\"],\"policy\":"
             "{\"version\":1,\"rules\":{\"claim\":\"tdx.mrtd\",\"equals\":\"%s\"}}}",
             f->mrtd);
    assert_int_equal(profile(f->h, body), 200);
    snprintf(body, sizeof(body),
             "{\"name\":\"other\",\"lifetime\":120,\"policy\":"
             "{\"version\":1,\"rules\":{\"claim\":\"tdx.mrtd\",\"equals\":\"%096d\"}}}",
             0);
    assert_int_equal(profile(f->h, body), 200);
    assert_int_equal(profile(f->h, "{\"name\":\"short\",\"lifetime\":120}"), 200);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    bh_stop(f->h);
    vt_jwk_free(f->key);
    vt_jwk_free(f->other);
    free(f);
    return 0;
}

/* ---- helpers ---- */

/* A token from /v1/attest for key (TDX evidence), heap. */
static char *attest(struct bh *h, enum vt_tee tee, const struct vt_jwk *key)
{
    char nonce[64];
    uint8_t raw[32];
    assert_true(bh_challenge(h, nonce, raw));
    json_t *body = bh_attest_body(h, tee, nonce, raw, key, 0);
    char *text = json_dumps(body, JSON_COMPACT);
    json_t *out = NULL;
    assert_int_equal(bh_call(h, "POST", "/v1/attest", text, NULL, &out, NULL), 200);
    char *token = strdup(json_string_value(json_object_get(out, "token")));
    json_decref(out);
    free(text);
    json_decref(body);
    return token;
}

/* A CSR (PEM, heap) for pkey signed with md (NULL for Ed25519), CN=cn. */
static char *csr_pem(EVP_PKEY *pkey, const EVP_MD *md)
{
    X509_REQ *req = X509_REQ_new();
    assert_non_null(req);
    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_ASC,
                               (const unsigned char *)"client-chosen.example", -1, -1, 0);
    /* a requested SAN the broker must ignore */
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, "DNS:evil.example");
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    sk_X509_EXTENSION_push(exts, e);
    X509_REQ_add_extensions(req, exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    assert_int_equal(X509_REQ_set_pubkey(req, pkey), 1);
    assert_true(X509_REQ_sign(req, pkey, md) > 0);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_REQ(b, req);
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    char *s = strndup(p, (size_t)n);
    BIO_free(b);
    X509_REQ_free(req);
    return s;
}

/* The runtime key's OpenSSL key (a new reference). */
static EVP_PKEY *pkey_of(const struct vt_jwk *k)
{
    struct vt_buf pem;
    vt_buf_init(&pem, 1u << 16);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_jwk_private_pem(k, &pem, &d), VT_OK);
    BIO *b = BIO_new_mem_buf(pem.data, (int)pem.len);
    EVP_PKEY *p = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    vt_buf_cleanup(&pem);
    assert_non_null(p);
    return p;
}

static char *key_csr(const struct vt_jwk *k)
{
    EVP_PKEY *p = pkey_of(k);
    char *s = csr_pem(p, EVP_sha256());
    EVP_PKEY_free(p);
    return s;
}

/* POST /v1/cert {profile, csr, token | evidence}: status; *out the body. */
static long cert_call(struct bh *h, const char *prof, const char *csr, const char *token,
                      json_t *evidence_body, json_t **out)
{
    json_t *body = evidence_body ? json_incref(evidence_body) : json_object();
    json_object_set_new(body, "profile", json_string(prof));
    json_object_set_new(body, "csr", json_string(csr));
    if (token != NULL) {
        json_object_set_new(body, "token", json_string(token));
    }
    char *text = json_dumps(body, JSON_COMPACT);
    long st = bh_call(h, "POST", "/v1/cert", text, NULL, out, NULL);
    free(text);
    json_decref(body);
    return st;
}

static const char *reason(json_t *o)
{
    const char *r = json_string_value(json_object_get(o, "reason"));
    return r ? r : "";
}

static X509 *pem_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(x);
    return x;
}

/* Every log entry (JSON array of {index, entry, explanation}; decref). */
static json_t *log_entries(struct bh *h)
{
    json_t *o = NULL;
    assert_int_equal(
        bh_call(h, "GET", "/admin/v1/log?start=0&limit=1000&explain=1", NULL, h->admin, &o, NULL),
        200);
    assert_true(json_is_array(o));
    return o;
}

static uint64_t log_size(struct bh *h)
{
    json_t *o = log_entries(h);
    size_t n = json_array_size(o);
    json_decref(o);
    return n;
}

/* The last log entry (JSON, decref). */
static json_t *last_entry(struct bh *h)
{
    json_t *o = log_entries(h);
    json_t *e = json_object_get(json_array_get(o, json_array_size(o) - 1), "entry");
    assert_true(json_is_object(e));
    json_incref(e);
    json_decref(o);
    return e;
}

/* Check an issued certificate with OpenSSL: CA signature, names, lifetime, extension. */
static void check_issued(struct fx *f, json_t *out, const char *token, const struct vt_jwk *key,
                         int64_t want_life)
{
    char *ca_pem = NULL;
    assert_int_equal(bh_call(f->h, "GET", "/v1/ca", NULL, NULL, NULL, &ca_pem), 200);
    assert_string_equal(ca_pem, json_string_value(json_object_get(out, "ca")));
    X509 *ca = pem_cert(ca_pem);
    X509 *x = pem_cert(json_string_value(json_object_get(out, "certificate")));
    /* signed by the CA; the CA is a CA of path length 0 */
    assert_int_equal(X509_verify(x, X509_get0_pubkey(ca)), 1);
    assert_int_equal(X509_check_ca(ca), 1);
    assert_int_equal(X509_get_pathlen(ca), 0);
    assert_int_equal(X509_check_issued(ca, x), X509_V_OK);
    /* the key is the runtime key */
    unsigned char *spki = NULL;
    int sn = i2d_PUBKEY(X509_get0_pubkey(x), &spki);
    struct vt_buf want;
    vt_buf_init(&want, 4096);
    assert_int_equal(vt_jwk_spki_der(key, &want), VT_OK);
    assert_int_equal((size_t)sn, want.len);
    assert_memory_equal(spki, want.data, want.len);
    OPENSSL_free(spki);
    vt_buf_cleanup(&want);
    /* the profile's names, not the CSR's */
    assert_int_equal(X509_check_host(x, "vault.example", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(x, "evil.example", 0, 0, NULL), 0);
    /* the lifetime: want_life seconds, or (0) up to the token's exp exactly */
    if (want_life > 0) {
        int days = 0, secs = 0;
        assert_int_equal(
            ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)), 1);
        assert_int_equal((int64_t)days * 86400 + secs, want_life);
    } else {
        const char *dot = strchr(token, '.');
        const char *end = strchr(dot + 1, '.');
        uint8_t payload[16384];
        size_t pn = 0;
        assert_int_equal(
            vt_base64_decode(dot + 1, (size_t)(end - dot - 1), true, payload, sizeof(payload), &pn),
            VT_OK);
        json_t *pj = json_loadb((const char *)payload, pn, 0, NULL);
        time_t exp = (time_t)json_integer_value(json_object_get(pj, "exp"));
        json_decref(pj);
        assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notAfter(x), exp), 0);
    }
    /* the appraisal extension: non-critical, a DER UTF8String of the JSON */
    ASN1_OBJECT *oid = OBJ_txt2obj(VT_ATLS_OID_BROKER, 1);
    int at = X509_get_ext_by_OBJ(x, oid, -1);
    assert_true(at >= 0);
    assert_int_equal(X509_get_ext_by_OBJ(x, oid, at), -1); /* once */
    X509_EXTENSION *e = X509_get_ext(x, at);
    assert_int_equal(X509_EXTENSION_get_critical(e), 0);
    ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(e);
    const unsigned char *p = ASN1_STRING_get0_data(v);
    ASN1_UTF8STRING *u = d2i_ASN1_UTF8STRING(NULL, &p, ASN1_STRING_length(v));
    assert_non_null(u);
    assert_ptr_equal(p, ASN1_STRING_get0_data(v) + ASN1_STRING_length(v));
    json_t *j = json_loadb((const char *)ASN1_STRING_get0_data(u), (size_t)ASN1_STRING_length(u),
                           JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "v")), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "claims"), "tee")),
                        "tdx");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "claims"), "tdx.mrtd")), f->mrtd);
    assert_string_equal(json_string_value(json_object_get(j, "ear")), token);
    assert_string_equal(json_string_value(json_object_get(j, "policy")), "vault");
    assert_int_equal(strlen(json_string_value(json_object_get(j, "policy_digest"))), 64);
    assert_int_equal(json_integer_value(json_object_get(j, "log_index")),
                     json_integer_value(json_object_get(out, "log_index")));
    assert_int_equal(json_object_size(j), 6);
    json_decref(j);
    ASN1_UTF8STRING_free(u);
    ASN1_OBJECT_free(oid);
    /* the issuance is the log entry at that index, with a receipt */
    json_t *rc = json_object_get(out, "receipt");
    assert_int_equal(json_integer_value(json_object_get(rc, "index")),
                     json_integer_value(json_object_get(out, "log_index")));
    json_t *entry = last_entry(f->h);
    assert_string_equal(json_string_value(json_object_get(entry, "type")), "cert");
    assert_string_equal(json_string_value(json_object_get(entry, "decision")), "allow");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(entry, "cert"), "serial")),
        json_string_value(json_object_get(out, "serial")));
    json_decref(entry);
    X509_free(x);
    X509_free(ca);
    free(ca_pem);
}

/* ---- issuance ---- */

static void test_issue_with_token(void **state)
{
    struct fx *f = *state;
    char *token = attest(f->h, VT_TEE_TDX, f->key);
    char *csr = key_csr(f->key);
    json_t *out = NULL;
    assert_int_equal(cert_call(f->h, "vault", csr, token, NULL, &out), 200);
    /* the broker's 3600 s, cut at the token's expiry (600 s after its issue) */
    check_issued(f, out, token, f->key, 0);
    json_decref(out);
    /* a profile's own lifetime */
    assert_int_equal(cert_call(f->h, "short", csr, token, NULL, &out), 200);
    X509 *x = pem_cert(json_string_value(json_object_get(out, "certificate")));
    int days = 0, secs = 0;
    assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)),
                     1);
    assert_int_equal(days * 86400 + secs, 120);
    /* no names configured: CN is the profile's name, no subjectAltName */
    assert_int_equal(X509_get_ext_by_NID(x, NID_subject_alt_name, -1), -1);
    X509_free(x);
    json_decref(out);
    free(csr);
    free(token);
}

static void test_issue_with_evidence(void **state)
{
    struct fx *f = *state;
    char nonce[64];
    uint8_t raw[32];
    assert_true(bh_challenge(f->h, nonce, raw));
    json_t *body = bh_attest_body(f->h, VT_TEE_TDX, nonce, raw, f->key, 0);
    char *csr = key_csr(f->key);
    json_t *out = NULL;
    assert_int_equal(cert_call(f->h, "vault", csr, NULL, body, &out), 200);
    const char *token = json_string_value(json_object_get(out, "token"));
    assert_non_null(token);
    check_issued(f, out, token, f->key, 0);
    json_decref(out);
    /* the nonce is spent */
    assert_int_equal(cert_call(f->h, "vault", csr, NULL, body, &out), 401);
    assert_string_equal(reason(out), "nonce-replayed");
    json_decref(out);
    json_decref(body);
    free(csr);
}

/* ---- refusals ---- */

static void test_reject_unattested_key(void **state)
{
    struct fx *f = *state;
    char *token = attest(f->h, VT_TEE_TDX, f->key);
    char *csr = key_csr(f->other); /* a key the attestation did not bind */
    json_t *out = NULL;
    uint64_t n = log_size(f->h);
    assert_int_equal(cert_call(f->h, "vault", csr, token, NULL, &out), 401);
    assert_string_equal(reason(out), "csr-key-mismatch");
    const char *detail = json_string_value(json_object_get(out, "detail"));
    assert_non_null(strstr(detail, "cnf.jkt"));
    char jkt[44];
    vt_jwk_thumbprint_b64(f->other, jkt);
    assert_non_null(strstr(detail, jkt)); /* both thumbprints named */
    vt_jwk_thumbprint_b64(f->key, jkt);
    assert_non_null(strstr(detail, jkt));
    json_decref(out);
    /* a refusal after authentication: logged */
    assert_int_equal(log_size(f->h), n + 1);
    json_t *e = last_entry(f->h);
    assert_string_equal(json_string_value(json_object_get(e, "type")), "cert");
    assert_string_equal(json_string_value(json_object_get(e, "decision")), "deny");
    assert_string_equal(json_string_value(json_object_get(e, "reason")), "csr-key-mismatch");
    json_decref(e);
    /* evidence bound to one key with a CSR of another */
    char nonce[64];
    uint8_t raw[32];
    assert_true(bh_challenge(f->h, nonce, raw));
    json_t *body = bh_attest_body(f->h, VT_TEE_TDX, nonce, raw, f->key, 0);
    assert_int_equal(cert_call(f->h, "vault", csr, NULL, body, &out), 401);
    assert_string_equal(reason(out), "binding");
    assert_non_null(strstr(json_string_value(json_object_get(out, "detail")), "CSR's key"));
    json_decref(out);
    json_decref(body);
    /* a token from nowhere */
    assert_int_equal(cert_call(f->h, "vault", csr, "eyJhbGciOiJub25lIn0.e30.", NULL, &out), 401);
    assert_string_equal(reason(out), "token");
    json_decref(out);
    free(csr);
    free(token);
}

static void test_reject_csr_signature(void **state)
{
    struct fx *f = *state;
    char *token = attest(f->h, VT_TEE_TDX, f->key);
    EVP_PKEY *p = pkey_of(f->key);
    X509_REQ *req = X509_REQ_new();
    X509_REQ_set_pubkey(req, p);
    X509_REQ_sign(req, p, EVP_sha256());
    /* flip a bit of the signature */
    unsigned char *der = NULL;
    int n = i2d_X509_REQ(req, &der);
    der[n - 5] ^= 0x01;
    char *b64 = vt_base64_alloc(der, (size_t)n, false);
    char pem[4096];
    snprintf(pem, sizeof(pem),
             "-----BEGIN CERTIFICATE REQUEST-----\n%s\n-----END CERTIFICATE REQUEST-----\n", b64);
    json_t *out = NULL;
    uint64_t size = log_size(f->h);
    assert_int_equal(cert_call(f->h, "vault", pem, token, NULL, &out), 400);
    assert_string_equal(reason(out), "csr-signature");
    assert_non_null(strstr(json_string_value(json_object_get(out, "detail")), "csr.signature"));
    json_decref(out);
    assert_int_equal(log_size(f->h), size); /* before authentication: nothing logged */
    /* not a CSR at all */
    assert_int_equal(cert_call(f->h, "vault", "hello", token, NULL, &out), 400);
    assert_string_equal(reason(out), "csr");
    json_decref(out);
    free(b64);
    OPENSSL_free(der);
    X509_REQ_free(req);
    EVP_PKEY_free(p);
    free(token);
}

static void test_reject_policy(void **state)
{
    struct fx *f = *state;
    char *token = attest(f->h, VT_TEE_TDX, f->key);
    char *csr = key_csr(f->key);
    json_t *out = NULL;
    assert_int_equal(cert_call(f->h, "other", csr, token, NULL, &out), 403);
    assert_string_equal(reason(out), "cert-policy:rules");
    json_decref(out);
    json_t *e = last_entry(f->h);
    assert_string_equal(json_string_value(json_object_get(e, "decision")), "deny");
    assert_string_equal(json_string_value(json_object_get(e, "reason")), "cert-policy:rules");
    json_decref(e);
    /* an unknown profile: after authentication, logged */
    assert_int_equal(cert_call(f->h, "nosuch", csr, token, NULL, &out), 404);
    assert_string_equal(reason(out), "unknown-profile");
    json_decref(out);
    e = last_entry(f->h);
    assert_string_equal(json_string_value(json_object_get(e, "reason")), "unknown-profile");
    json_decref(e);
    free(csr);
    free(token);
}

static void test_reject_expired_token(void **state)
{
    struct fx *f = *state;
    vt_time now = vt_time_now();
    /* a broker whose clock is an hour behind issues a token (600 s) on a database; this one,
     * on the same database at the right time, finds it expired */
    char db[200];
    struct vt_broker_config past = {.clock_base = now - 3600};
    struct bh *old = bh_start_cfg(now, "", 300, 600, NULL, NULL, &past);
    assert_non_null(old);
    snprintf(db, sizeof(db), "sqlite:%s/broker.db", old->dir);
    char *token = attest(old, VT_TEE_TDX, f->key);
    struct bh *cur = bh_start_db(now, "", 300, 600, NULL, db);
    assert_non_null(cur);
    assert_int_equal(profile(cur, "{\"name\":\"p\"}"), 200);
    char *csr = key_csr(f->key);
    json_t *out = NULL;
    assert_int_equal(cert_call(cur, "p", csr, token, NULL, &out), 401);
    assert_string_equal(reason(out), "token");
    assert_non_null(strstr(json_string_value(json_object_get(out, "detail")), "expired"));
    json_decref(out);
    free(csr);
    free(token);
    bh_stop(cur);
    bh_stop(old);
}

static void test_reject_oversize(void **state)
{
    struct fx *f = *state;
    char *token = attest(f->h, VT_TEE_TDX, f->key);
    size_t n = VT_MAX_CSR_SIZE + 1;
    char *big = malloc(n + 1);
    memset(big, 'A', n);
    big[n] = '\0';
    json_t *out = NULL;
    assert_int_equal(cert_call(f->h, "vault", big, token, NULL, &out), 413);
    assert_string_equal(reason(out), "csr-size");
    json_decref(out);
    /* the parser's own cap */
    struct vt_csr *c = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_csr_parse((const uint8_t *)big, n, &c, &d), VT_E_TOO_LARGE);
    assert_string_equal(d.check, "csr.size");
    free(big);
    free(token);
}

static void test_reject_algorithms(void **state)
{
    struct fx *f = *state;
    char *token = attest(f->h, VT_TEE_TDX, f->key);
    json_t *out = NULL;
    /* Ed25519 */
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    char *csr = csr_pem(ed, NULL);
    assert_int_equal(cert_call(f->h, "vault", csr, token, NULL, &out), 400);
    assert_string_equal(reason(out), "csr-algorithm");
    assert_non_null(strstr(json_string_value(json_object_get(out, "detail")), "ED25519"));
    json_decref(out);
    free(csr);
    EVP_PKEY_free(ed);
    /* the runtime key itself, but signed with SHA-1 */
    EVP_PKEY *p = pkey_of(f->key);
    csr = csr_pem(p, EVP_sha1());
    assert_int_equal(cert_call(f->h, "vault", csr, token, NULL, &out), 400);
    assert_string_equal(reason(out), "csr-algorithm");
    assert_non_null(strstr(json_string_value(json_object_get(out, "detail")), "SHA1"));
    json_decref(out);
    free(csr);
    EVP_PKEY_free(p);
    /* RSA of 1024 bits */
    EVP_PKEY *r = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    csr = csr_pem(r, EVP_sha256());
    assert_int_equal(cert_call(f->h, "vault", csr, token, NULL, &out), 400);
    assert_string_equal(reason(out), "csr-algorithm");
    assert_non_null(strstr(json_string_value(json_object_get(out, "detail")), "1024"));
    json_decref(out);
    free(csr);
    EVP_PKEY_free(r);
    /* EC on a curve outside P-256/384/521 */
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    csr = csr_pem(k, EVP_sha256());
    assert_int_equal(cert_call(f->h, "vault", csr, token, NULL, &out), 400);
    assert_string_equal(reason(out), "csr-algorithm");
    assert_non_null(strstr(json_string_value(json_object_get(out, "detail")), "secp256k1"));
    json_decref(out);
    free(csr);
    EVP_PKEY_free(k);
    free(token);
}

static void test_bad_requests(void **state)
{
    struct fx *f = *state;
    struct {
        const char *body;
        long status;
        const char *reason;
    } cases[] = {
        {"not json", 400, "body"},
        {"[]", 400, "body"},
        {"{\"csr\":\"x\",\"token\":\"t\"}", 400, "profile"},
        {"{\"profile\":\"vault\",\"token\":\"t\"}", 400, "csr"},
        {"{\"profile\":\"vault\",\"csr\":7,\"token\":\"t\"}", 400, "csr"},
        {"{\"profile\":\"vault\",\"csr\":\"x\"}", 400, "evidence-missing"},
        {"{\"profile\":\"vault\",\"csr\":\"x\",\"token\":\"t\",\"evidence\":\"AAAA\"}", 400,
         "body"},
        {"{\"profile\":\"vault\",\"csr\":\"x\",\"evidence\":\"AAAA\"}", 400, "nonce-malformed"},
        {"{\"profile\":\"a/b\",\"csr\":\"x\",\"token\":\"t\"}", 400, "profile"},
        {"{\"profile\":\"vault\",\"profile\":\"x\",\"csr\":\"x\",\"token\":\"t\"}", 400, "body"},
    };
    uint64_t n = log_size(f->h);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *out = NULL;
        long st = bh_call(f->h, "POST", "/v1/cert", cases[i].body, NULL, &out, NULL);
        if (st != cases[i].status || strcmp(reason(out), cases[i].reason) != 0) {
            fail_msg("%s -> %ld %s", cases[i].body, st, reason(out));
        }
        json_decref(out);
    }
    assert_int_equal(log_size(f->h), n);
}

static void test_profiles_and_ca(void **state)
{
    struct fx *f = *state;
    /* profiles: precise refusals, nothing stored */
    assert_int_equal(profile(f->h, "{\"name\":\"x\",\"dns\":[\"bad name\"]}"), 400);
    assert_int_equal(profile(f->h, "{\"name\":\"x\",\"dns\":[\"-a.example\"]}"), 400);
    assert_int_equal(profile(f->h, "{\"name\":\"a b\"}"), 400);
    assert_int_equal(profile(f->h, "{\"name\":\"x\",\"lifetime\":9999999}"), 400);
    assert_int_equal(profile(f->h, "{\"name\":\"x\",\"policy\":{\"version\":1,\"rules\":"
                                   "{\"claim\":\"tdx.nosuch\",\"equals\":\"a\"}}}"),
                     400);
    char *list = NULL;
    assert_int_equal(
        bh_call(f->h, "GET", "/admin/v1/cert-profiles", NULL, f->h->admin, NULL, &list), 200);
    assert_null(strstr(list, "\"x\""));
    assert_non_null(strstr(list, "\"vault\""));
    free(list);
    assert_int_equal(bh_call(f->h, "GET", "/admin/v1/cert-profiles", NULL, NULL, NULL, NULL), 401);
    /* the CA survives a restart and a master-key rewrap */
    char *before = vt_broker_ca_pem(f->h->b);
    uint8_t nk[32];
    memset(nk, 0x43, sizeof(nk));
    size_t n = 0;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_broker_rewrap(f->h->b, nk, NULL, 0, &n, &d), VT_OK);
    char db[200];
    snprintf(db, sizeof(db), "sqlite:%s/broker.db", f->h->dir);
    struct vt_broker_config cfg = {.db = db};
    memcpy(cfg.master_key, nk, 32);
    struct vt_broker *b2 = NULL;
    assert_int_equal(vt_broker_open(&cfg, &b2, &d), VT_OK);
    char *after = vt_broker_ca_pem(b2);
    assert_string_equal(before, after);
    vt_broker_close(b2);
    /* and back, for the other tests */
    memset(nk, 0x42, sizeof(nk));
    assert_int_equal(vt_broker_rewrap(f->h->b, nk, NULL, 0, &n, &d), VT_OK);
    free(before);
    free(after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue_with_token),      cmocka_unit_test(test_issue_with_evidence),
        cmocka_unit_test(test_reject_unattested_key), cmocka_unit_test(test_reject_csr_signature),
        cmocka_unit_test(test_reject_policy),         cmocka_unit_test(test_reject_expired_token),
        cmocka_unit_test(test_reject_oversize),       cmocka_unit_test(test_reject_algorithms),
        cmocka_unit_test(test_bad_requests),          cmocka_unit_test(test_profiles_and_ca),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
