/*
 * The Key Vault drop-in in process (src/azure/kv*.c, src/crypto/rsa_aes_wrap.c) on a real SQLite
 * store with a pinned clock: CKM_RSA_AES_KEY_WRAP and its SHA-2 variants unwrapped here with
 * OpenSSL directly, the request body reader's refusals, key creation's refusals, releases granted
 * (the material unwrapped and compared) and every refusal of a release with its exact status and
 * code, each decision in the Merkle log, immutable policies, trusted issuers' files, and the
 * master-key check of the keyvault tables.
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
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "azure/kv.h"
#include "base/encoding.h"
#include "crypto/rsa_aes_wrap.h"

#define NOW 1760000000
#define ISS "https://maa.test.example"
#define GOOD "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define VAULT "https://vault.test"

struct h {
    char dir[64];
    struct vt_broker *b;
    struct vt_kv *k;
    struct vt_jwk *issuer;  /* signs tokens, trusted as "maa-1" */
    struct vt_jwk *rogue;   /* signs tokens, trusted nowhere */
    struct vt_jwk *enclave; /* the runtime key */
    char jwks_path[128];
};

static struct vt_jwk *gen(const char *type)
{
    struct vt_jwk *k = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_jwk_generate(type, &k, &d), VT_OK);
    return k;
}

/* A JWKS file with key k as kid (and, if extra is not NULL, that member added). */
static void write_jwks(const char *path, const struct vt_jwk *k, const char *kid, const char *extra)
{
    char *pub = vt_jwk_public_json(k);
    assert_non_null(pub);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    size_t n = strlen(pub);
    pub[n - 1] = '\0'; /* drop the closing brace */
    fprintf(f, "{\"keys\":[%s%s%s%s%s}]}", pub, kid ? ",\"kid\":\"" : "", kid ? kid : "",
            kid ? "\"" : "", extra ? extra : "");
    fclose(f);
    free(pub);
}

static int setup(void **state)
{
    struct h *h = calloc(1, sizeof(*h));
    assert_non_null(h);
    snprintf(h->dir, sizeof(h->dir), "/tmp/vt-kv-XXXXXX");
    assert_non_null(mkdtemp(h->dir));
    h->issuer = gen("RSA-2048");
    h->rogue = gen("RSA-2048");
    h->enclave = gen("RSA-2048");
    snprintf(h->jwks_path, sizeof(h->jwks_path), "%s/maa.jwks", h->dir);
    write_jwks(h->jwks_path, h->issuer, "maa-1", NULL);
    char db[128], spec[256];
    snprintf(db, sizeof(db), "sqlite:%s/kv.db", h->dir);
    snprintf(spec, sizeof(spec), "%s=%s", ISS, h->jwks_path);
    struct vt_broker_config cfg = {.db = db, .clock_base = NOW};
    memset(cfg.master_key, 0x5a, sizeof(cfg.master_key));
    const char *issuers[] = {spec};
    struct vt_kv_config kc = {.issuers = issuers, .n_issuers = 1, .vault_url = VAULT};
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_broker_open(&cfg, &h->b, &d) != VT_OK || vt_kv_open(&kc, h->b, &h->k, &d) != VT_OK) {
        fail_msg("setup: %s: %s", d.check, d.detail);
    }
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    struct h *h = *state;
    vt_kv_close(h->k);
    vt_broker_close(h->b);
    vt_jwk_free(h->issuer);
    vt_jwk_free(h->rogue);
    vt_jwk_free(h->enclave);
    static const char *const files[] = {"kv.db", "kv.db-wal", "kv.db-shm", "maa.jwks",
                                        "nokid.jwks"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[160];
        snprintf(path, sizeof(path), "%s/%s", h->dir, files[i]);
        (void)unlink(path);
    }
    (void)rmdir(h->dir);
    free(h);
    return 0;
}

/* ---- the wrap, against OpenSSL directly ---- */

static void openssl_unwrap(const struct vt_jwk *kek_priv, const char *md, const uint8_t *blob,
                           size_t n, uint8_t *out, size_t *outn)
{
    struct vt_buf pem;
    vt_buf_init(&pem, 1u << 16);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_jwk_private_pem(kek_priv, &pem, &d), VT_OK);
    BIO *bio = BIO_new_mem_buf(pem.data, (int)pem.len);
    EVP_PKEY *pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    vt_buf_cleanup(&pem);
    assert_non_null(pk);
    size_t k = (size_t)EVP_PKEY_get_size(pk);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
    uint8_t aes[512];
    size_t an = sizeof(aes);
    assert_int_equal(EVP_PKEY_decrypt_init(ctx), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_get_digestbyname(md)), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_get_digestbyname(md)), 1);
    assert_int_equal(EVP_PKEY_decrypt(ctx, aes, &an, blob, k), 1);
    assert_int_equal(an, 32);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pk);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    int l1 = 0, l2 = 0;
    assert_int_equal(EVP_DecryptInit_ex(c, EVP_aes_256_wrap_pad(), NULL, aes, NULL), 1);
    assert_int_equal(EVP_DecryptUpdate(c, out, &l1, blob + k, (int)(n - k)), 1);
    assert_int_equal(EVP_DecryptFinal_ex(c, out + l1, &l2), 1);
    EVP_CIPHER_CTX_free(c);
    *outn = (size_t)(l1 + l2);
}

static void test_wrap_round_trip(void **state)
{
    struct h *h = *state;
    static const struct {
        enum vt_rsa_aes_hash hash;
        const char *md;
    } hs[] = {
        {VT_RSA_AES_SHA1, "SHA1"}, {VT_RSA_AES_SHA256, "SHA256"}, {VT_RSA_AES_SHA384, "SHA384"}};
    uint8_t pt[1237];
    for (size_t i = 0; i < sizeof(pt); i++) {
        pt[i] = (uint8_t)(i * 7 + 3);
    }
    size_t sizes[] = {1, 7, 8, 32, 1237};
    for (size_t i = 0; i < 3; i++) {
        for (size_t s = 0; s < 5; s++) {
            struct vt_buf blob, back;
            vt_buf_init(&blob, 1u << 16);
            vt_buf_init(&back, 1u << 16);
            struct vt_diag d;
            vt_diag_init(&d);
            assert_int_equal(vt_rsa_aes_key_wrap(h->enclave, hs[i].hash, pt, sizes[s], &blob, &d),
                             VT_OK);
            assert_int_equal(blob.len, 256 + 8 * ((sizes[s] + 7) / 8 + 1));
            uint8_t out[2048];
            size_t outn = 0;
            openssl_unwrap(h->enclave, hs[i].md, blob.data, blob.len, out, &outn);
            assert_int_equal(outn, sizes[s]);
            assert_memory_equal(out, pt, sizes[s]);
            assert_int_equal(
                vt_rsa_aes_key_unwrap(h->enclave, hs[i].hash, blob.data, blob.len, &back, &d),
                VT_OK);
            assert_int_equal(back.len, sizes[s]);
            /* another hash does not open it; neither does an altered byte */
            vt_buf_cleanup(&back);
            vt_buf_init(&back, 1u << 16);
            assert_int_equal(vt_rsa_aes_key_unwrap(h->enclave, hs[(i + 1) % 3].hash, blob.data,
                                                   blob.len, &back, &d),
                             VT_E_CRYPTO);
            blob.data[blob.len - 3] ^= 1;
            assert_int_equal(
                vt_rsa_aes_key_unwrap(h->enclave, hs[i].hash, blob.data, blob.len, &back, &d),
                VT_E_CRYPTO);
            assert_string_equal(d.check, "rsa_aes.unwrap");
            assert_int_equal(back.len, 0);
            vt_buf_cleanup(&blob);
            vt_buf_cleanup(&back);
        }
    }
    struct vt_buf blob;
    vt_buf_init(&blob, 1u << 16);
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_rsa_aes_key_wrap(h->enclave, VT_RSA_AES_SHA256, pt, 0, &blob, &d),
                     VT_E_ARG);
    assert_string_equal(d.check, "rsa_aes.material");
    struct vt_jwk *ec = gen("P-256");
    assert_int_equal(vt_rsa_aes_key_wrap(ec, VT_RSA_AES_SHA256, pt, 8, &blob, &d), VT_E_ARG);
    assert_string_equal(d.check, "rsa_aes.kek");
    assert_int_equal(vt_rsa_aes_key_unwrap(h->enclave, VT_RSA_AES_SHA256, pt, 200, &blob, &d),
                     VT_E_BAD_LENGTH);
    assert_string_equal(d.check, "rsa_aes.blob");
    /* PKCS#8 of an EC key: it loads back */
    assert_int_equal(vt_jwk_private_pkcs8_der(ec, &blob, &d), VT_OK);
    assert_true(blob.len > 60);
    vt_jwk_free(ec);
    vt_buf_cleanup(&blob);
}

/* ---- the body reader ---- */

static void body_refused(const char *body, size_t len, unsigned status, const char *in_msg)
{
    json_t *o = NULL;
    struct vt_az_error e;
    memset(&e, 0, sizeof(e));
    assert_false(vt_kv_body_read((const uint8_t *)body, len, &o, &e));
    assert_null(o);
    assert_int_equal(e.status, status);
    if (strstr(e.message, in_msg) == NULL) {
        fail_msg("%s: %s", body, e.message);
    }
}

static void test_body_reader(void **state)
{
    (void)state;
    body_refused("", 0, 400, "no body");
    body_refused("{", 1, 400, "not JSON");
    body_refused("[1]", 3, 400, "not a JSON object");
    body_refused("{\"a\":1,\"a\":2}", 13, 400, "duplicate");
    body_refused("{}", VT_KV_BODY_MAX + 1, 413, "at most");
    json_t *o = NULL;
    struct vt_az_error e;
    assert_true(vt_kv_body_read((const uint8_t *)"{\"a\":1}", 7, &o, &e));
    json_decref(o);
}

/* ---- calls ---- */

struct res {
    bool ok;
    struct vt_kv_call c;
};

static json_t *J(const char *fmt, ...) VT_PRINTF(1, 2);
static json_t *J(const char *fmt, ...)
{
    char buf[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    json_error_t je;
    json_t *o = json_loads(buf, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL) {
        fail_msg("test JSON: %s: %s", je.text, buf);
    }
    return o;
}

static char *policy_b64(const char *mrenclave)
{
    char p[1024];
    snprintf(p, sizeof(p),
             "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"" ISS "\",\"allOf\":["
             "{\"claim\":\"x-ms-sgx-mrenclave\",\"equals\":\"%s\"},"
             "{\"claim\":\"x-ms-sgx-is-debuggable\",\"equals\":false}]}]}",
             mrenclave);
    return vt_base64_alloc((const uint8_t *)p, strlen(p), true);
}

static bool create(struct h *h, const char *name, const char *body, struct vt_az_error *e)
{
    struct vt_kv_call c = {.vault_url = VAULT, .api_version = "7.4"};
    json_t *b = J("%s", body);
    bool ok = vt_kv_create(h->k, &c, name, b);
    *e = c.err;
    json_decref(b);
    vt_kv_call_cleanup(&c);
    return ok;
}

static void create_exportable(struct h *h, const char *name, const char *kty, const char *extra)
{
    char *p = policy_b64(GOOD);
    char body[2048];
    snprintf(body, sizeof(body),
             "{\"kty\":\"%s\",\"attributes\":{\"exportable\":true},\"release_policy\":"
             "{\"data\":\"%s\"}%s}",
             kty, p, extra ? extra : "");
    free(p);
    struct vt_az_error e;
    if (!create(h, name, body, &e)) {
        fail_msg("create %s: %s %s", name, e.code, e.message);
    }
}

static void create_refused(struct h *h, const char *body, unsigned status, const char *in_msg)
{
    struct vt_az_error e;
    memset(&e, 0, sizeof(e));
    assert_false(create(h, "refused", body, &e));
    assert_int_equal(e.status, status);
    if (strstr(e.message, in_msg) == NULL) {
        fail_msg("%s: %s", body, e.message);
    }
}

static int64_t log_size(struct h *h);

static void test_create_refusals(void **state)
{
    struct h *h = *state;
    int64_t entries = log_size(h);
    char *p = policy_b64(GOOD);
    char body[2048];
    create_refused(h, "{}", 400, "kty: the key type is required");
    create_refused(h, "{\"kty\":\"DSA\"}", 400, "kty: \"DSA\" is not a key type");
    create_refused(h, "{\"kty\":\"RSA\",\"key_size\":1024}", 400, "key_size: 1024");
    create_refused(h, "{\"kty\":\"RSA\",\"key_size\":\"2048\"}", 400, "expected an integer");
    create_refused(h, "{\"kty\":\"RSA\",\"public_exponent\":3}", 400, "65537 only");
    create_refused(h, "{\"kty\":\"RSA\",\"crv\":\"P-256\"}", 400, "crv: not for an RSA key");
    create_refused(h, "{\"kty\":\"EC\",\"crv\":\"P-256K\"}", 400, "P-256K is not supported");
    create_refused(h, "{\"kty\":\"EC\",\"key_size\":256}", 400, "key_size: not for an EC key");
    create_refused(h, "{\"kty\":\"oct\"}", 400, "only made as oct-HSM");
    create_refused(h, "{\"kty\":\"oct-HSM\",\"key_size\":512}", 400, "not an AES size");
    create_refused(h, "{\"kty\":\"RSA\",\"color\":1}", 400, "the member \"color\"");
    create_refused(h, "{\"kty\":\"RSA\",\"attributes\":{\"recoverableDays\":7}}", 400,
                   "attributes: the member \"recoverableDays\"");
    create_refused(h, "{\"kty\":\"RSA\",\"attributes\":{\"enabled\":1}}", 400,
                   "attributes.enabled");
    create_refused(h, "{\"kty\":\"RSA\",\"attributes\":{\"nbf\":20,\"exp\":10}}", 400,
                   "must come after nbf");
    create_refused(h, "{\"kty\":\"RSA\",\"key_ops\":[\"fly\"]}", 400, "key_ops[0]");
    create_refused(h, "{\"kty\":\"RSA\",\"tags\":{\"a\":1}}", 400, "tags.a");
    create_refused(h, "{\"kty\":\"RSA-HSM\",\"attributes\":{\"exportable\":true}}", 400,
                   "needs a release_policy");
    snprintf(body, sizeof(body), "{\"kty\":\"RSA-HSM\",\"release_policy\":{\"data\":\"%s\"}}", p);
    create_refused(h, body, 400, "only an exportable key");
    snprintf(body, sizeof(body),
             "{\"kty\":\"RSA\",\"attributes\":{\"exportable\":true},\"release_policy\":"
             "{\"data\":\"%s\"}}",
             p);
    create_refused(h, body, 400, "only HSM key types");
    create_refused(h,
                   "{\"kty\":\"RSA-HSM\",\"attributes\":{\"exportable\":true},\"release_policy\":"
                   "{\"data\":\"!!\"}}",
                   400, "release_policy.data: not base64url");
    create_refused(h,
                   "{\"kty\":\"RSA-HSM\",\"attributes\":{\"exportable\":true},\"release_policy\":"
                   "{\"data\":\"e30\"}}",
                   400, "release_policy.data: ");
    snprintf(body, sizeof(body),
             "{\"kty\":\"RSA-HSM\",\"attributes\":{\"exportable\":true},\"release_policy\":"
             "{\"data\":\"%s\",\"contentType\":\"text/plain\"}}",
             p);
    create_refused(h, body, 400, "release_policy.contentType");
    snprintf(body, sizeof(body),
             "{\"kty\":\"RSA-HSM\",\"attributes\":{\"exportable\":true},\"release_policy\":"
             "{\"data\":\"%s\",\"immutable\":\"yes\"}}",
             p);
    create_refused(h, body, 400, "release_policy.immutable");
    free(p);
    /* nothing was stored, nothing logged */
    assert_int_equal(log_size(h), entries);
    struct vt_kv_call c = {.vault_url = VAULT, .api_version = "7.4"};
    assert_false(vt_kv_get(h->k, &c, "refused", NULL));
    assert_int_equal(c.err.status, 404);
    assert_string_equal(c.err.code, "KeyNotFound");
    vt_kv_call_cleanup(&c);
}

/* An MAA-shaped token signed by key as kid. */
static char *token(const struct vt_jwk *key, const char *kid, const char *claims)
{
    json_t *hdr = json_pack("{s:s,s:s}", "kid", kid, "typ", "JWT");
    char payload[8192];
    snprintf(payload, sizeof(payload), "{\"iss\":\"%s\",%s}", ISS, claims);
    char *compact = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(
        vt_jws_sign_rs256(key, hdr, (const uint8_t *)payload, strlen(payload), &compact, &d),
        VT_OK);
    json_decref(hdr);
    return compact;
}

/* The claims of an approved enclave, with the enclave's key in x-ms-runtime. */
static char *good_claims(struct h *h, const char *mrenclave, int64_t exp, const char *extra)
{
    char *pub = vt_jwk_public_json(h->enclave);
    assert_non_null(pub);
    pub[strlen(pub) - 1] = '\0';
    char *out = malloc(8192);
    assert_non_null(out);
    snprintf(out, 8192,
             "\"exp\":%lld,\"nbf\":%lld,\"x-ms-sgx-mrenclave\":\"%s\","
             "\"x-ms-sgx-is-debuggable\":false,\"x-ms-runtime\":{\"keys\":[{\"kty\":\"EC\","
             "\"crv\":\"P-256\",\"key_ops\":[\"encrypt\"]},%s,\"kid\":\"tee\",\"key_ops\":"
             "[\"encrypt\"]}]}%s",
             (long long)exp, (long long)(NOW - 10), mrenclave, pub, extra ? extra : "");
    free(pub);
    return out;
}

static int64_t log_size(struct h *h)
{
    int64_t n = -1;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_store_read(h->b->store, "SELECT COUNT(*) FROM vb_log", NULL, 0,
                                   vt_store_row_int, &n, &d),
                     VT_OK);
    return n;
}

static bool release(struct h *h, const char *name, const char *body, struct vt_kv_call *c)
{
    memset(c, 0, sizeof(*c));
    c->vault_url = VAULT;
    c->api_version = "7.4";
    json_t *b = J("%s", body);
    bool ok = vt_kv_release(h->k, c, name, NULL, b);
    json_decref(b);
    return ok;
}

static void release_refused(struct h *h, const char *name, const char *body, unsigned status,
                            const char *code, const char *in_msg, bool logged)
{
    int64_t before = log_size(h);
    struct vt_kv_call c;
    assert_false(release(h, name, body, &c));
    assert_null(c.out);
    if (c.err.status != status || strcmp(c.err.code, code) != 0 ||
        strstr(c.err.message, in_msg) == NULL) {
        fail_msg("%s: got %u %s %s; wanted %u %s \"%s\"", body, c.err.status, c.err.code,
                 c.err.message, status, code, in_msg);
    }
    assert_int_equal(log_size(h), before + (logged ? 1 : 0));
    vt_kv_call_cleanup(&c);
}

static void release_with(struct h *h, const char *name, const char *tok, unsigned status,
                         const char *code, const char *in_msg)
{
    char *body = malloc(strlen(tok) + 64);
    assert_non_null(body);
    snprintf(body, strlen(tok) + 64, "{\"target\":\"%s\"}", tok);
    release_refused(h, name, body, status, code, in_msg, true);
    free(body);
}

static void test_release_granted(void **state)
{
    struct h *h = *state;
    create_exportable(h, "rsa", "RSA-HSM", NULL);
    create_exportable(h, "aes", "oct-HSM", ",\"key_size\":128");
    char *claims = good_claims(h, GOOD, NOW + 600, NULL);
    char *tok = token(h->issuer, "maa-1", claims);
    free(claims);
    const char *encs[] = {"CKM_RSA_AES_KEY_WRAP", "RSA_AES_KEY_WRAP_256", "RSA_AES_KEY_WRAP_384"};
    const enum vt_rsa_aes_hash hashes[] = {VT_RSA_AES_SHA1, VT_RSA_AES_SHA256, VT_RSA_AES_SHA384};
    for (int i = 0; i < 3; i++) {
        for (int which = 0; which < 2; which++) {
            char body[16384];
            snprintf(body, sizeof(body), "{\"target\":\"%s\",\"enc\":\"%s\",\"nonce\":\"abc\"}",
                     tok, encs[i]);
            int64_t before = log_size(h);
            struct vt_kv_call c;
            if (!release(h, which ? "aes" : "rsa", body, &c)) {
                fail_msg("release: %u %s %s", c.err.status, c.err.code, c.err.message);
            }
            assert_int_equal(log_size(h), before + 1);
            assert_non_null(c.receipt);
            const char *value = json_string_value(json_object_get(c.out, "value"));
            assert_non_null(value);
            /* the payload (not verified here: the SDK test checks the x5c signature) */
            const char *p1 = strchr(value, '.'), *p2 = strrchr(value, '.');
            uint8_t *pl = malloc((size_t)(p2 - p1));
            size_t pn = 0;
            assert_int_equal(
                vt_base64_decode(p1 + 1, (size_t)(p2 - p1 - 1), true, pl, (size_t)(p2 - p1), &pn),
                VT_OK);
            json_t *payload = json_loadb((const char *)pl, pn, 0, NULL);
            free(pl);
            assert_non_null(payload);
            assert_string_equal(
                json_string_value(json_object_get(json_object_get(payload, "request"), "nonce")),
                "abc");
            const json_t *key = json_object_get(
                json_object_get(json_object_get(payload, "response"), "key"), "key");
            const char *hsm = json_string_value(json_object_get(key, "key_hsm"));
            assert_non_null(hsm);
            assert_null(json_object_get(key, "d"));
            uint8_t hj[8192];
            size_t hn = 0;
            assert_int_equal(vt_base64_decode(hsm, strlen(hsm), true, hj, sizeof(hj), &hn), VT_OK);
            json_t *hsmj = json_loadb((const char *)hj, hn, 0, NULL);
            assert_string_equal(
                json_string_value(json_object_get(json_object_get(hsmj, "header"), "enc")),
                encs[i]);
            assert_string_equal(
                json_string_value(json_object_get(json_object_get(hsmj, "header"), "kid")), "tee");
            const char *ct = json_string_value(json_object_get(hsmj, "ciphertext"));
            uint8_t blob[8192], out[4096];
            size_t bn = 0, on = 0;
            assert_int_equal(vt_base64_decode(ct, strlen(ct), true, blob, sizeof(blob), &bn),
                             VT_OK);
            static const char *const mds[] = {"SHA1", "SHA256", "SHA384"};
            openssl_unwrap(h->enclave, mds[i], blob, bn, out, &on);
            if (which) {
                assert_int_equal(on, 16);
            } else {
                /* PKCS#8 of an RSA key whose modulus the bundle shows */
                const unsigned char *q = out;
                EVP_PKEY *pk = d2i_AutoPrivateKey(NULL, &q, (long)on);
                assert_non_null(pk);
                assert_int_equal(EVP_PKEY_get_bits(pk), 2048);
                EVP_PKEY_free(pk);
            }
            (void)hashes;
            json_decref(hsmj);
            json_decref(payload);
            vt_kv_call_cleanup(&c);
        }
    }
    free(tok);
}

static void test_release_refusals(void **state)
{
    struct h *h = *state;
    create_exportable(h, "k", "RSA-HSM", NULL);
    /* the body: not logged (nothing decided) */
    release_refused(h, "k", "{}", 400, "BadParameter", "target: the attestation token", false);
    release_refused(h, "k", "{\"target\":1}", 400, "BadParameter", "target", false);
    release_refused(h, "k", "{\"target\":\"x\",\"enc\":\"RSA-OAEP\"}", 400, "BadParameter",
                    "enc: not a release encryption", false);
    release_refused(h, "k", "{\"target\":\"x\",\"nonce\":5}", 400, "BadParameter", "nonce", false);
    release_refused(h, "k", "{\"target\":\"x\",\"other\":5}", 400, "BadParameter",
                    "the member \"other\"", false);
    release_refused(h, "missing", "{\"target\":\"x\"}", 404, "KeyNotFound", "missing", false);
    /* a key that is not exportable: logged */
    struct vt_az_error e;
    assert_true(create(h, "plain", "{\"kty\":\"RSA\"}", &e));
    release_refused(h, "plain", "{\"target\":\"x\"}", 403, "Forbidden", "non-exportable", true);
    /* the token */
    release_with(h, "k", "not-a-token", 403, "Forbidden", "cannot be verified");
    char *claims = good_claims(h, GOOD, NOW + 600, NULL);
    char *t = token(h->rogue, "rogue", claims);
    release_with(h, "k", t, 403, "Forbidden", "untrusted issuer");
    free(t);
    t = token(h->rogue, "maa-1", claims); /* a trusted kid, another key */
    release_with(h, "k", t, 403, "Forbidden", "cannot be verified");
    free(t);
    free(claims);
    claims = good_claims(h, GOOD, NOW - 1, NULL);
    t = token(h->issuer, "maa-1", claims);
    release_with(h, "k", t, 403, "Forbidden", "expired");
    free(t);
    free(claims);
    claims = good_claims(h, GOOD, NOW + 600, ",\"nbf\":1770000000");
    /* nbf twice: the token's JSON refuses duplicates */
    t = token(h->issuer, "maa-1", claims);
    release_with(h, "k", t, 400, "BadParameter", "not a JSON object");
    free(t);
    free(claims);
    t = token(h->issuer, "maa-1", "\"nbf\":1770000000,\"exp\":1770000600");
    release_with(h, "k", t, 403, "Forbidden", "not valid before");
    free(t);
    t = token(h->issuer, "maa-1", "\"nbf\":1,\"exp\":\"later\"");
    release_with(h, "k", t, 403, "Forbidden", "no \"exp\"");
    free(t);
    /* the policy */
    claims = good_claims(h, "bb", NOW + 600, NULL);
    t = token(h->issuer, "maa-1", claims);
    release_with(h, "k", t, 403, "Forbidden", "does not satisfy the key's release policy");
    free(t);
    free(claims);
    /* the key encryption key */
    char buf[512];
    snprintf(buf, sizeof(buf),
             "\"exp\":%d,\"x-ms-sgx-mrenclave\":\"%s\",\"x-ms-sgx-is-debuggable\":false", NOW + 60,
             GOOD);
    t = token(h->issuer, "maa-1", buf);
    release_with(h, "k", t, 403, "Forbidden", "no x-ms-runtime.keys");
    free(t);
    snprintf(buf, sizeof(buf),
             "\"exp\":%d,\"x-ms-sgx-mrenclave\":\"%s\",\"x-ms-sgx-is-debuggable\":false,"
             "\"x-ms-runtime\":{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\","
             "\"use\":\"sig\"}]}",
             NOW + 60, GOOD);
    t = token(h->issuer, "maa-1", buf);
    release_with(h, "k", t, 403, "Forbidden", "has no RSA key whose key_ops");
    free(t);
    snprintf(buf, sizeof(buf),
             "\"exp\":%d,\"x-ms-sgx-mrenclave\":\"%s\",\"x-ms-sgx-is-debuggable\":false,"
             "\"x-ms-runtime\":{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\","
             "\"use\":\"enc\"}]}",
             NOW + 60, GOOD);
    t = token(h->issuer, "maa-1", buf);
    release_with(h, "k", t, 403, "Forbidden", "not a usable RSA key");
    free(t);
    /* a disabled key */
    struct vt_kv_call c = {.vault_url = VAULT, .api_version = "7.4"};
    json_t *b = J("{\"attributes\":{\"enabled\":false}}");
    assert_true(vt_kv_update(h->k, &c, "k", NULL, b));
    json_decref(b);
    vt_kv_call_cleanup(&c);
    release_with(h, "k", "x", 403, "Forbidden", "disabled");
}

static void test_update_policy(void **state)
{
    struct h *h = *state;
    int64_t entries = log_size(h);
    create_exportable(h, "u", "EC-HSM", ",\"crv\":\"P-384\"");
    assert_int_equal(log_size(h), entries + 1); /* the creation */
    char *p = policy_b64("cc");
    struct vt_kv_call c = {.vault_url = VAULT, .api_version = "7.4"};
    json_t *b = J("{\"release_policy\":{\"data\":\"%s\",\"immutable\":true}}", p);
    assert_true(vt_kv_update(h->k, &c, "u", NULL, b));
    json_decref(b);
    assert_true(
        json_is_true(json_object_get(json_object_get(c.out, "release_policy"), "immutable")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(c.out, "key"), "crv")),
                        "P-384");
    vt_kv_call_cleanup(&c);
    b = J("{\"release_policy\":{\"data\":\"%s\"}}", p);
    memset(&c, 0, sizeof(c));
    c.vault_url = VAULT;
    assert_false(vt_kv_update(h->k, &c, "u", NULL, b));
    assert_int_equal(c.err.status, 403);
    assert_non_null(strstr(c.err.message, "immutable"));
    vt_kv_call_cleanup(&c);
    json_decref(b);
    b = J("{\"attributes\":{\"exportable\":false}}");
    memset(&c, 0, sizeof(c));
    c.vault_url = VAULT;
    assert_false(vt_kv_update(h->k, &c, "u", NULL, b));
    assert_non_null(strstr(c.err.message, "cannot change"));
    vt_kv_call_cleanup(&c);
    json_decref(b);
    free(p);
    /* versions and the list */
    create_exportable(h, "u", "EC-HSM", NULL);
    memset(&c, 0, sizeof(c));
    c.vault_url = VAULT;
    assert_true(vt_kv_list(h->k, &c, "u"));
    assert_int_equal(json_array_size(json_object_get(c.out, "value")), 2);
    vt_kv_call_cleanup(&c);
    memset(&c, 0, sizeof(c));
    c.vault_url = VAULT;
    assert_true(vt_kv_list(h->k, &c, NULL));
    assert_int_equal(json_array_size(json_object_get(c.out, "value")), 1);
    vt_kv_call_cleanup(&c);
}

static void test_import_oct(void **state)
{
    struct h *h = *state;
    char *p = policy_b64(GOOD);
    struct vt_kv_call c = {.vault_url = VAULT, .api_version = "7.4"};
    json_t *b = J("{\"key\":{\"kty\":\"oct-HSM\",\"k\":\"AAECAwQFBgcICQoLDA0ODw\"},\"Hsm\":true,"
                  "\"attributes\":{\"exportable\":true},\"release_policy\":{\"data\":\"%s\"}}",
                  p);
    assert_true(vt_kv_import(h->k, &c, "imported", b));
    assert_null(json_object_get(json_object_get(c.out, "key"), "k"));
    vt_kv_call_cleanup(&c);
    json_decref(b);
    static const char *const refused[][2] = {
        {"{\"key\":{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\",\"d\":\"AQAB\"}}",
         "member \"p\" is missing"},
        {"{\"key\":{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\",\"d\":\"AQAB\",\"p\":\"Aw\","
         "\"q\":\"BQ\",\"dp\":\"AQ\",\"dq\":\"AQ\",\"qi\":\"AQ\"}}",
         "key: "},
        {"{\"key\":{\"kty\":\"EC\",\"crv\":\"P-256K\",\"x\":\"AA\",\"y\":\"AA\",\"d\":\"AQ\"}}",
         "not P-256, P-384 or P-521"},
        {"{\"key\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\",\"d\":\"AQ\"}}",
         "not base64url of 32 bytes"},
        {"{\"key\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"
         "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
         "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"d\":\"AQ\"}}",
         "key: "},
        {"{\"key\":{\"kty\":\"RSA\",\"n\":\"AQAB\",\"secret\":1}}", "the member \"secret\""},
        {"{\"key\":{\"kty\":\"DSA\"}}", "not a key type"},
        {"{\"key\":{\"kty\":\"RSA\",\"key_hsm\":\"AA\"}}", "BYOK"},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        b = J("%s", refused[i][0]);
        memset(&c, 0, sizeof(c));
        c.vault_url = VAULT;
        assert_false(vt_kv_import(h->k, &c, "imported2", b));
        assert_int_equal(c.err.status, 400);
        if (strstr(c.err.message, refused[i][1]) == NULL) {
            fail_msg("%s: %s", refused[i][0], c.err.message);
        }
        vt_kv_call_cleanup(&c);
        json_decref(b);
    }
    b = J("{\"key\":{\"kty\":\"oct\",\"k\":\"AAEC\"}}");
    memset(&c, 0, sizeof(c));
    c.vault_url = VAULT;
    assert_false(vt_kv_import(h->k, &c, "imported", b));
    assert_non_null(strstr(c.err.message, "128, 192 or 256-bit"));
    vt_kv_call_cleanup(&c);
    json_decref(b);
    free(p);
}

static void test_issuer_files(void **state)
{
    struct h *h = *state;
    struct vt_kv_issuer is;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_kv_issuer_load("no-equals", &is, &d), VT_E_ARG);
    assert_int_equal(vt_kv_issuer_load("ftp://x=/nonexistent", &is, &d), VT_E_ARG);
    assert_non_null(strstr(d.detail, "not an http(s) URL"));
    assert_int_equal(vt_kv_issuer_load("https://x=/nonexistent/file", &is, &d), VT_E_IO);
    char path[160], spec[256];
    snprintf(path, sizeof(path), "%s/nokid.jwks", h->dir);
    write_jwks(path, h->issuer, NULL, NULL);
    snprintf(spec, sizeof(spec), "https://x=%s", path);
    assert_int_equal(vt_kv_issuer_load(spec, &is, &d), VT_E_MISSING_FIELD);
    assert_string_equal(d.check, "kv.jwks.kid");
    struct vt_jwk *ec = gen("P-256");
    write_jwks(path, ec, "ec", NULL);
    vt_jwk_free(ec);
    assert_int_equal(vt_kv_issuer_load(spec, &is, &d), VT_E_UNSUPPORTED_ALGORITHM);
    FILE *f = fopen(path, "w");
    fputs("{\"keys\":[]}", f);
    fclose(f);
    assert_int_equal(vt_kv_issuer_load(spec, &is, &d), VT_E_BAD_JSON);
    write_jwks(path, h->issuer, "ok", ",\"use\":\"sig\"");
    assert_int_equal(vt_kv_issuer_load(spec, &is, &d), VT_OK);
    assert_int_equal(is.n, 1);
    assert_string_equal(is.kids[0], "ok");
    vt_kv_issuer_cleanup(&is);
    /* the shape of an attestation service's /certs: kty, kid and x5c only */
    struct vt_buf der;
    vt_buf_init(&der, 1u << 16);
    assert_int_equal(vt_jwk_self_signed_der(h->issuer, "maa signing", NOW, 30, &der, &d), VT_OK);
    char *b64 = vt_base64_alloc(der.data, der.len, false);
    f = fopen(path, "w");
    fprintf(f, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"cert-1\",\"x5c\":[\"%s\"]}]}", b64);
    fclose(f);
    assert_int_equal(vt_kv_issuer_load(spec, &is, &d), VT_OK);
    uint8_t t1[32], t2[32];
    vt_jwk_thumbprint(is.keys[0], t1);
    vt_jwk_thumbprint(h->issuer, t2);
    assert_memory_equal(t1, t2, 32);
    vt_kv_issuer_cleanup(&is);
    f = fopen(path, "w");
    fprintf(f, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"cert-1\",\"x5c\":[\"%.40s\"]}]}", b64);
    fclose(f);
    assert_int_equal(vt_kv_issuer_load(spec, &is, &d), VT_E_BAD_CERT);
    assert_string_equal(d.check, "jwk.x5c");
    f = fopen(path, "w");
    fputs("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"cert-1\",\"x5c\":[\"!!\"]}]}", f);
    fclose(f);
    assert_int_equal(vt_kv_issuer_load(spec, &is, &d), VT_E_BAD_BASE64);
    assert_string_equal(d.check, "kv.jwks.x5c");
    struct vt_jwk *ec2 = gen("P-256");
    vt_buf_cleanup(&der);
    vt_buf_init(&der, 1u << 16);
    assert_int_equal(vt_jwk_self_signed_der(ec2, "ec", NOW, 30, &der, &d), VT_OK);
    vt_jwk_free(ec2);
    free(b64);
    b64 = vt_base64_alloc(der.data, der.len, false);
    f = fopen(path, "w");
    fprintf(f, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"cert-1\",\"x5c\":[\"%s\"]}]}", b64);
    fclose(f);
    assert_int_equal(vt_kv_issuer_load(spec, &is, &d), VT_E_UNSUPPORTED_ALGORITHM);
    assert_string_equal(d.check, "jwk.x5c");
    free(b64);
    vt_buf_cleanup(&der);
}

static void test_master_key_check(void **state)
{
    struct h *h = *state;
    create_exportable(h, "sealed", "oct-HSM", NULL);
    size_t n = 0;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_kv_store_check(h->b->store, h->b->cfg.master_key, &n, &d), VT_OK);
    assert_int_equal(n, 2); /* the key's version and the signing key */
    uint8_t other[32];
    memset(other, 0x11, sizeof(other));
    n = 0;
    assert_int_equal(vt_kv_store_check(h->b->store, other, &n, &d), VT_E_INTEGRITY);
    /* rewrap to other, then only other opens them */
    assert_int_equal(vt_store_begin(h->b->store, &d), VT_OK);
    n = 0;
    assert_int_equal(vt_kv_store_rewrap(h->b->store, h->b->cfg.master_key, other, &n, &d), VT_OK);
    assert_int_equal(vt_store_commit(h->b->store, &d), VT_OK);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(vt_kv_store_check(h->b->store, other, &n, &d), VT_OK);
    assert_int_equal(vt_kv_store_check(h->b->store, h->b->cfg.master_key, &n, &d), VT_E_INTEGRITY);
}

static void test_names(void **state)
{
    (void)state;
    assert_true(vt_kv_name_ok("my-key-1"));
    assert_false(vt_kv_name_ok(""));
    assert_false(vt_kv_name_ok("a_b"));
    assert_false(vt_kv_name_ok("a/b"));
    char longname[130];
    memset(longname, 'a', 128);
    longname[128] = '\0';
    assert_false(vt_kv_name_ok(longname));
    assert_true(vt_kv_version_ok("0123456789abcdef0123456789abcdef"));
    assert_false(vt_kv_version_ok("0123456789ABCDEF0123456789abcdef"));
    assert_false(vt_kv_version_ok("0123"));
}

/* The in-process MAA service's hook: a kid no configured issuer has is resolved by it, and the
 * token's iss must then be the MAA service's. */
static const struct vt_jwk *maa_key(void *ctx, const char *kid)
{
    struct h *h = ctx;
    return strcmp(kid, "local-maa-1") == 0 ? h->issuer : NULL;
}

static void test_maa_hook(void **state)
{
    struct h *h = *state;
    struct vt_kv_config kc = {.vault_url = VAULT,
                              .maa_issuer = "https://local.maa.example",
                              .maa_key = maa_key,
                              .maa_ctx = h};
    struct vt_kv *k2 = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_kv_open(&kc, h->b, &k2, &d), VT_OK);
    char p[512];
    snprintf(p, sizeof(p),
             "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://local.maa.example\","
             "\"allOf\":[{\"claim\":\"x-ms-sgx-mrenclave\",\"equals\":\"%s\"}]}]}",
             GOOD);
    char *pb = vt_base64_alloc((const uint8_t *)p, strlen(p), true);
    struct vt_kv_call c = {.vault_url = VAULT, .api_version = "7.4"};
    json_t *b = J("{\"kty\":\"oct-HSM\",\"attributes\":{\"exportable\":true},"
                  "\"release_policy\":{\"data\":\"%s\"}}",
                  pb);
    free(pb);
    assert_true(vt_kv_create(k2, &c, "local", b));
    json_decref(b);
    vt_kv_call_cleanup(&c);
    char *claims = good_claims(h, GOOD, NOW + 600, NULL);
    char payload[8192];
    snprintf(payload, sizeof(payload), "{\"iss\":\"https://local.maa.example\",%s}", claims);
    json_t *hdr = json_pack("{s:s}", "kid", "local-maa-1");
    char *tok = NULL;
    assert_int_equal(
        vt_jws_sign_rs256(h->issuer, hdr, (const uint8_t *)payload, strlen(payload), &tok, &d),
        VT_OK);
    json_decref(hdr);
    char body[16384];
    snprintf(body, sizeof(body), "{\"target\":\"%s\"}", tok);
    b = J("%s", body);
    memset(&c, 0, sizeof(c));
    c.vault_url = VAULT;
    c.api_version = "7.4";
    if (!vt_kv_release(k2, &c, "local", NULL, b)) {
        fail_msg("%s", c.err.message);
    }
    vt_kv_call_cleanup(&c);
    json_decref(b);
    free(tok);
    /* the same key under another iss: refused */
    snprintf(payload, sizeof(payload), "{\"iss\":\"https://other.example\",%s}", claims);
    hdr = json_pack("{s:s}", "kid", "local-maa-1");
    assert_int_equal(
        vt_jws_sign_rs256(h->issuer, hdr, (const uint8_t *)payload, strlen(payload), &tok, &d),
        VT_OK);
    json_decref(hdr);
    snprintf(body, sizeof(body), "{\"target\":\"%s\"}", tok);
    b = J("%s", body);
    memset(&c, 0, sizeof(c));
    c.vault_url = VAULT;
    c.api_version = "7.4";
    assert_false(vt_kv_release(k2, &c, "local", NULL, b));
    assert_int_equal(c.err.status, 403);
    assert_non_null(strstr(c.err.message, "is not the issuer its signing key is trusted for"));
    vt_kv_call_cleanup(&c);
    json_decref(b);
    free(tok);
    free(claims);
    vt_kv_close(k2);
    /* a hook without an issuer URL is refused at open */
    kc.maa_issuer = "local";
    assert_int_equal(vt_kv_open(&kc, h->b, &k2, &d), VT_E_ARG);
    assert_string_equal(d.check, "kv.maa_issuer");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wrap_round_trip, setup, teardown),
        cmocka_unit_test(test_body_reader),
        cmocka_unit_test_setup_teardown(test_create_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_granted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_oct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_issuer_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_master_key_check, setup, teardown),
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_maa_hook, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
