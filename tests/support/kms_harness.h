/*
 * Shared by the KMS service's tests: a broker and the KMS service in this process (SQLite in a
 * temporary directory, a synthetic Nitro PKI whose root is trusted), three access keys (an admin
 * and an enclave role of account 111122223333, a role of account 444455556666), calls made in
 * process through the request reader or over real HTTP signed with vt_sigv4_sign, and Nitro
 * attestation documents from the simulator carrying an enclave's RSA key.
 */
#ifndef VT_TEST_KMS_HARNESS_H
#define VT_TEST_KMS_HARNESS_H

#include <jansson.h>
#include <openssl/evp.h>

#include "kms/kms.h"
#include "nitro_sim.h"

#define KH_ACCOUNT "111122223333"
#define KH_OTHER_ACCOUNT "444455556666"
#define KH_REGION "us-east-1"

enum kh_who { KH_ADMIN = 0, KH_ENCLAVE, KH_OTHER, KH_WHO };

struct kh {
    char dir[64];
    struct vt_nsim_pki *pki;
    struct vt_broker *b;
    struct vt_kms *k;
    struct vt_kms_caller callers[KH_WHO];
    char secrets[KH_WHO][VT_KMS_SECRET_LEN + 1];
    struct vt_http_server *srv; /* kh_serve */
    char url[64];
};

/* Start (NULL on failure, after a message). */
struct kh *kh_start(void);
void kh_stop(struct kh *h);
/* Serve the KMS API over HTTP on 127.0.0.1 (a free port; h->url). */
bool kh_serve(struct kh *h);

/* The result of a call. */
struct kh_res {
    bool ok;
    json_t *out;           /* ok: the response */
    struct vt_kms_error e; /* !ok: the exception */
    char *receipt;         /* Recipient calls: the log receipt */
    uint64_t log_index;
};
void kh_res_cleanup(struct kh_res *r);

/* Call TrentService.<op> with the JSON body (a printf format) as caller who, in process. */
struct kh_res kh_call(struct kh *h, enum kh_who who, const char *op, const char *fmt, ...)
    VT_PRINTF(4, 5);
/* Assert-style helpers: the call fails with exactly this __type and status (true if so, else a
 * message on stderr naming what came instead). */
bool kh_fails(struct kh_res *r, const char *type, unsigned status);

/* A string member of a response ("" if none). */
const char *kh_str(const struct kh_res *r, const char *name);

/* A new symmetric key (as admin, policy NULL: the default one); its key id into id. */
bool kh_create_key(struct kh *h, const char *policy_json, char id[VT_KMS_UUID_LEN + 1]);

/* An enclave: an RSA-2048 key pair (OpenSSL) and its SubjectPublicKeyInfo. */
struct kh_enclave {
    EVP_PKEY *key;
    uint8_t spki[1024];
    size_t spki_len;
};
bool kh_enclave_new(struct kh_enclave *e);
void kh_enclave_free(struct kh_enclave *e);

/* A Nitro attestation document of the simulator's PKI carrying e's public key (e NULL: none),
 * its timestamp age_s seconds before now, PCR0 changed when other_image. Base64 (heap). */
char *kh_document(struct kh *h, const struct kh_enclave *e, int64_t age_s, bool other_image);
/* The default document's PCR0 (lowercase hex). */
const char *kh_pcr0(struct kh *h);

/* Open CiphertextForRecipient (base64) with the enclave's key through OpenSSL's CMS_decrypt:
 * the plaintext (heap, *len), or NULL. */
uint8_t *kh_cms_open(const struct kh_enclave *e, const char *b64, size_t *len);

#endif
