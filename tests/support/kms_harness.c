/* The KMS service's test harness (kms_harness.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "kms_harness.h"

static const char *const principals[KH_WHO] = {
    "arn:aws:iam::" KH_ACCOUNT ":role/admin",
    "arn:aws:iam::" KH_ACCOUNT ":role/enclave",
    "arn:aws:iam::" KH_OTHER_ACCOUNT ":role/other",
};

static bool write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    bool ok = f != NULL && fwrite(p, 1, n, f) == n;
    return f != NULL && fclose(f) == 0 && ok;
}

struct kh *kh_start(void)
{
    struct kh *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        return NULL;
    }
    snprintf(h->dir, sizeof(h->dir), "/tmp/vt-kms-XXXXXX");
    if (mkdtemp(h->dir) == NULL) {
        free(h);
        return NULL;
    }
    vt_time now = vt_time_now();
    struct vt_nsim_pki_params pp;
    vt_nsim_pki_params_default(&pp, now);
    h->pki = vt_nsim_pki_new(&pp);
    struct vt_sim_blob pem = {0};
    char root[128], db[128];
    snprintf(root, sizeof(root), "%s/nitro-root.pem", h->dir);
    snprintf(db, sizeof(db), "sqlite:%s/kms.db", h->dir);
    if (h->pki == NULL || !vt_nsim_cert_pem(h->pki, VT_NSIM_ROOT, &pem) ||
        !write_file(root, pem.data, pem.len)) {
        vt_sim_blob_cleanup(&pem);
        fprintf(stderr, "kh_start: the Nitro PKI\n");
        kh_stop(h);
        return NULL;
    }
    vt_sim_blob_cleanup(&pem);
    const char *anchors[] = {root, NULL};
    struct vt_broker_config cfg = {.db = db, .trust_anchors = anchors};
    memset(cfg.master_key, 0x5a, sizeof(cfg.master_key));
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_kms_config kc = {.region = KH_REGION, .account = KH_ACCOUNT};
    if (vt_broker_open(&cfg, &h->b, &d) != VT_OK || vt_kms_open(&kc, h->b, &h->k, &d) != VT_OK) {
        fprintf(stderr, "kh_start: %s: %s\n", d.check, d.detail);
        kh_stop(h);
        return NULL;
    }
    for (int i = 0; i < KH_WHO; i++) {
        struct vt_kms_access_key ak;
        if (vt_kms_access_key_create(h->k, principals[i], i == KH_ADMIN, &ak, h->secrets[i], &d) !=
            VT_OK) {
            fprintf(stderr, "kh_start: %s: %s\n", d.check, d.detail);
            kh_stop(h);
            return NULL;
        }
        struct vt_kms_caller *c = &h->callers[i];
        snprintf(c->access_key_id, sizeof(c->access_key_id), "%s", ak.id);
        snprintf(c->principal, sizeof(c->principal), "%s", ak.principal);
        snprintf(c->account, sizeof(c->account), "%s", ak.account);
        c->admin = ak.admin;
    }
    return h;
}

bool kh_serve(struct kh *h)
{
    struct vt_http_server_opts so = {.threads = 2, .route = vt_kms_http_route};
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_http_server_start(&so, vt_kms_http_handler, h->k, &h->srv, &d) != VT_OK) {
        fprintf(stderr, "kh_serve: %s\n", d.detail);
        return false;
    }
    snprintf(h->url, sizeof(h->url), "http://127.0.0.1:%u", vt_http_server_port(h->srv));
    return true;
}

void kh_stop(struct kh *h)
{
    if (h == NULL) {
        return;
    }
    vt_http_server_stop(h->srv);
    vt_kms_close(h->k);
    vt_broker_close(h->b);
    vt_nsim_pki_free(h->pki);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", h->dir);
    (void)!system(cmd);
    free(h);
}

void kh_res_cleanup(struct kh_res *r)
{
    json_decref(r->out);
    free(r->receipt);
    memset(r, 0, sizeof(*r));
}

struct kh_res kh_call(struct kh *h, enum kh_who who, const char *op, const char *fmt, ...)
{
    struct kh_res r;
    memset(&r, 0, sizeof(r));
    char target[96];
    snprintf(target, sizeof(target), "TrentService.%s", op);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *body = malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(body, (size_t)n + 1, fmt, ap);
    va_end(ap);
    json_t *json = NULL;
    struct vt_kms_input *in = calloc(1, sizeof(*in));
    if (!vt_kms_request_read(target, "application/x-amz-json-1.1", (const uint8_t *)body, (size_t)n,
                             &json, in, &r.e)) {
        free(in);
        free(body);
        return r;
    }
    struct vt_kms_call c = {.caller = &h->callers[who], .in = in, .request_id = "test"};
    r.ok = vt_kms_call_run(h->k, &c);
    r.e = c.err;
    r.out = c.out;
    r.receipt = c.receipt;
    r.log_index = c.log_index;
    c.out = NULL;
    c.receipt = NULL;
    vt_kms_call_cleanup(&c);
    vt_kms_input_cleanup(in);
    free(in);
    json_decref(json);
    free(body);
    return r;
}

bool kh_fails(struct kh_res *r, const char *type, unsigned status)
{
    if (r->ok) {
        char *s = json_dumps(r->out, JSON_COMPACT);
        fprintf(stderr, "expected %s (%u), the call succeeded: %s\n", type, status, s ? s : "");
        free(s);
        return false;
    }
    if (strcmp(r->e.type, type) != 0 || r->e.status != status) {
        fprintf(stderr, "expected %s (%u), got %s (%u): %s\n", type, status, r->e.type, r->e.status,
                r->e.message);
        return false;
    }
    return true;
}

const char *kh_str(const struct kh_res *r, const char *name)
{
    const char *s = json_string_value(json_object_get(r->out, name));
    return s != NULL ? s : "";
}

bool kh_create_key(struct kh *h, const char *policy_json, char id[VT_KMS_UUID_LEN + 1])
{
    struct kh_res r;
    if (policy_json != NULL) {
        json_t *p = json_string(policy_json);
        char *ps = json_dumps(p, JSON_ENCODE_ANY);
        r = kh_call(h, KH_ADMIN, "CreateKey", "{\"Policy\":%s}", ps);
        free(ps);
        json_decref(p);
    } else {
        r = kh_call(h, KH_ADMIN, "CreateKey", "{}");
    }
    const char *k =
        json_string_value(json_object_get(json_object_get(r.out, "KeyMetadata"), "KeyId"));
    bool ok = r.ok && k != NULL;
    if (ok) {
        snprintf(id, VT_KMS_UUID_LEN + 1, "%s", k);
    } else {
        fprintf(stderr, "kh_create_key: %s: %s\n", r.e.type, r.e.message);
    }
    kh_res_cleanup(&r);
    return ok;
}

bool kh_enclave_new(struct kh_enclave *e)
{
    memset(e, 0, sizeof(*e));
    e->key = EVP_RSA_gen(2048);
    if (e->key == NULL) {
        return false;
    }
    unsigned char *p = NULL;
    int n = i2d_PUBKEY(e->key, &p);
    if (n <= 0 || (size_t)n > sizeof(e->spki)) {
        OPENSSL_free(p);
        return false;
    }
    memcpy(e->spki, p, (size_t)n);
    e->spki_len = (size_t)n;
    OPENSSL_free(p);
    return true;
}

void kh_enclave_free(struct kh_enclave *e)
{
    EVP_PKEY_free(e->key);
    e->key = NULL;
}

static char pcr0_hex[129];

char *kh_document(struct kh *h, const struct kh_enclave *e, int64_t age_s, bool other_image)
{
    struct vt_nsim_doc_params p;
    vt_nsim_doc_params_default(&p, h->pki);
    p.timestamp_ms = (uint64_t)(vt_time_now() - age_s) * 1000u;
    if (e != NULL) {
        p.public_key = (struct vt_nsim_opt){VT_NSIM_OPT_BYTES, e->spki, e->spki_len};
    }
    vt_hex_encode(p.pcrs[0].value, p.pcrs[0].len, pcr0_hex);
    if (other_image) {
        p.pcrs[0].value[0] ^= 0xff;
    }
    struct vt_sim_blob doc = {0};
    if (!vt_nsim_doc_build(h->pki, &p, &doc, NULL)) {
        return NULL;
    }
    char *b64 = vt_base64_alloc(doc.data, doc.len, false);
    vt_sim_blob_cleanup(&doc);
    return b64;
}

const char *kh_pcr0(struct kh *h)
{
    free(kh_document(h, NULL, 0, false)); /* fills pcr0_hex */
    return pcr0_hex;
}

uint8_t *kh_cms_open(const struct kh_enclave *e, const char *b64, size_t *len)
{
    *len = 0;
    size_t n = strlen(b64), der_len = 0;
    uint8_t *der = malloc(n + 1);
    if (der == NULL || vt_base64_decode(b64, n, false, der, n + 1, &der_len) != VT_OK) {
        free(der);
        return NULL;
    }
    const unsigned char *p = der;
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)der_len);
    BIO *out = BIO_new(BIO_s_mem());
    uint8_t *result = NULL;
    if (cms != NULL && out != NULL && CMS_decrypt(cms, e->key, NULL, NULL, out, 0) == 1) {
        char *data = NULL;
        long m = BIO_get_mem_data(out, &data);
        result = malloc(m > 0 ? (size_t)m : 1);
        if (result != NULL && m > 0) {
            memcpy(result, data, (size_t)m);
            *len = (size_t)m;
        }
    }
    BIO_free(out);
    CMS_ContentInfo_free(cms);
    free(der);
    return result;
}
