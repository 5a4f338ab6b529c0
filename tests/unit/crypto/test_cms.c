/*
 * Unit tests for src/crypto/cms.c: the CiphertextForRecipient (CMS EnvelopedData) parser, its
 * decryption, the producer, and RSA key handling.
 *
 * - Real KMS blobs (fixtures nitro/aws-sdk-c-kms, BER with indefinite lengths): parsed fields
 *   compared with the expected files; no private key exists for them.
 * - Round trips through vt_cms_encrypt_for_recipient, vt_cms_enveloped_parse and vt_cms_decrypt,
 *   cross-checked in both directions with OpenSSL's own CMS implementation.
 * - A BER/DER builder (below) that writes the envelope from parts, each of which can be mutated,
 *   with every constructed element either definite or indefinite, to reach every reject path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <veritee/buf.h>

#include "crypto/cms.h"
#include "crypto/crypto.h"

#include "vt_fixtures.h"

/* ---- OIDs (contents) ---- */

static const uint8_t oid_enveloped[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03};
static const uint8_t oid_data[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};
static const uint8_t oid_oaep[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x07};
static const uint8_t oid_rsa_enc[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
static const uint8_t oid_mgf1[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08};
static const uint8_t oid_pspecified[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x09};
static const uint8_t oid_sha256[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
static const uint8_t oid_sha384[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02};
static const uint8_t oid_sha1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};
static const uint8_t oid_aes256_cbc[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a};
static const uint8_t oid_aes128_cbc[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x02};

#define OID(a) a, sizeof(a)

static const char base_text[] = "veritee: the secret KMS would return to an attested enclave";

/* ---- shared keys and a base envelope ---- */

struct world {
    EVP_PKEY *pkey[2]; /* RSA-2048, RSA-3072 (OpenSSL objects for the cross-checks) */
    struct vt_key *key[2];
    struct vt_buf spki[2];
    struct vt_key *wrong;    /* an unrelated RSA-2048 key */
    struct vt_buf base_blob; /* vt_cms_encrypt_for_recipient(spki[0], base_text) */
    struct vt_cms_enveloped base;
};

static struct world g;

static struct vt_key *import_pkcs8(EVP_PKEY *pkey)
{
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pkey);
    assert_non_null(p8);
    unsigned char *der = NULL;
    int n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
    assert_true(n > 0);
    struct vt_key *k = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_key_from_rsa_private(der, (size_t)n, &k, &d), VT_OK);
    OPENSSL_clear_free(der, (size_t)n);
    PKCS8_PRIV_KEY_INFO_free(p8);
    return k;
}

static int setup(void **state)
{
    (void)state;
    static const size_t bits[2] = {2048, 3072};
    memset(&g, 0, sizeof(g));
    for (size_t i = 0; i < 2; i++) {
        g.pkey[i] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits[i]);
        assert_non_null(g.pkey[i]);
        g.key[i] = import_pkcs8(g.pkey[i]);
        vt_buf_init(&g.spki[i], 4096);
        assert_int_equal(vt_key_spki_der(g.key[i], &g.spki[i], NULL), VT_OK);
    }
    assert_int_equal(vt_key_generate(VT_KEY_RSA, 2048, &g.wrong, NULL), VT_OK);
    vt_buf_init(&g.base_blob, VT_CMS_MAX_SIZE);
    assert_int_equal(vt_cms_encrypt_for_recipient(g.spki[0].data, g.spki[0].len,
                                                  (const uint8_t *)base_text, strlen(base_text),
                                                  &g.base_blob, NULL),
                     VT_OK);
    assert_int_equal(vt_cms_enveloped_parse(g.base_blob.data, g.base_blob.len, &g.base, NULL),
                     VT_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        EVP_PKEY_free(g.pkey[i]);
        vt_key_free(g.key[i]);
        vt_buf_cleanup(&g.spki[i]);
    }
    vt_key_free(g.wrong);
    vt_cms_enveloped_cleanup(&g.base);
    vt_buf_cleanup(&g.base_blob);
    return 0;
}

/* ---- helpers ---- */

static void parse_ok(const uint8_t *p, size_t n, struct vt_cms_enveloped *e)
{
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_cms_enveloped_parse(p, n, e, &d);
    if (err != VT_OK) {
        print_message("parse: %s %s: %s\n", vt_err_name(err), d.check, d.detail);
    }
    assert_int_equal(err, VT_OK);
}

/* Decrypt e with k and compare with the expected plaintext. */
static void decrypts_to(const struct vt_cms_enveloped *e, const struct vt_key *k, const void *want,
                        size_t want_len)
{
    struct vt_buf pt;
    struct vt_diag d;
    vt_buf_init(&pt, VT_CMS_MAX_SIZE);
    vt_diag_init(&d);
    enum vt_err err = vt_cms_decrypt(e, k, &pt, &d);
    if (err != VT_OK) {
        print_message("decrypt: %s %s: %s\n", vt_err_name(err), d.check, d.detail);
    }
    assert_int_equal(err, VT_OK);
    assert_int_equal(pt.len, want_len);
    if (want_len > 0) {
        assert_memory_equal(pt.data, want, want_len);
    }
    vt_buf_cleanup(&pt);
}

static enum vt_err decrypt_err(const struct vt_cms_enveloped *e, const struct vt_key *k,
                               struct vt_diag *d)
{
    struct vt_buf pt;
    vt_buf_init(&pt, VT_CMS_MAX_SIZE);
    vt_diag_init(d);
    enum vt_err err = vt_cms_decrypt(e, k, &pt, d);
    if (err != VT_OK) {
        assert_null(pt.data); /* untouched */
        assert_int_equal(d->code, err);
    }
    vt_buf_cleanup(&pt);
    return err;
}

static const uint8_t *find(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++) {
        if (memcmp(hay + i, needle, m) == 0) {
            return hay + i;
        }
    }
    return NULL;
}

/* The views of a parsed envelope lie inside the input. */
static void views_inside(const struct vt_cms_enveloped *e, const uint8_t *p, size_t n)
{
    assert_true(e->rid_ski >= p && e->rid_ski + e->rid_ski_len <= p + n);
    assert_true(e->encrypted_key >= p && e->encrypted_key + e->encrypted_key_len <= p + n);
}

/* Every proper prefix is VT_E_TRUNCATED, and cleanup after the failure is safe. */
static void every_prefix_truncated(const uint8_t *blob, size_t len)
{
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n > 0 ? n : 1); /* exact size: ASan sees any overread */
        assert_non_null(copy);
        memcpy(copy, blob, n);
        struct vt_cms_enveloped e;
        struct vt_diag d;
        vt_diag_init(&d);
        memset(&e, 0x5a, sizeof(e));
        enum vt_err err = vt_cms_enveloped_parse(copy, n, &e, &d);
        if (err != VT_E_TRUNCATED) {
            print_message("prefix %zu/%zu: %s %s: %s\n", n, len, vt_err_name(err), d.check,
                          d.detail);
        }
        assert_int_equal(err, VT_E_TRUNCATED);
        assert_int_equal(d.code, VT_E_TRUNCATED);
        assert_null(e.ciphertext.data);
        vt_cms_enveloped_cleanup(&e);
        free(copy);
    }
}

/* Flip every byte in turn: never a crash; on success the views stay inside the input. */
static void every_byte_flipped(const uint8_t *blob, size_t len)
{
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    for (size_t i = 0; i < len; i++) {
        memcpy(copy, blob, len);
        copy[i] ^= 0xff;
        struct vt_cms_enveloped e;
        struct vt_diag d;
        vt_diag_init(&d);
        enum vt_err err = vt_cms_enveloped_parse(copy, len, &e, &d);
        if (err == VT_OK) {
            views_inside(&e, copy, len);
        } else {
            assert_int_equal(d.code, err);
        }
        vt_cms_enveloped_cleanup(&e);
    }
    free(copy);
}

/* ---- a BER/DER writer ---- */

struct bb {
    uint8_t *p;
    size_t len;
    size_t cap;
    size_t open[40]; /* contents start of each open element */
    bool indef[40];
    size_t depth;
    bool mode; /* constructed elements indefinite by default */
};

static void bb_bytes(struct bb *b, const void *p, size_t n)
{
    if (b->len + n + 8 > b->cap) {
        b->cap = (b->len + n + 8) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    if (n > 0) {
        memcpy(b->p + b->len, p, n);
    }
    b->len += n;
}

static void bb_u8(struct bb *b, uint8_t v)
{
    bb_bytes(b, &v, 1);
}

static void bb_open_mode(struct bb *b, uint8_t tag, bool indef)
{
    assert_true(b->depth < 40);
    bb_u8(b, tag);
    if (indef) {
        bb_u8(b, 0x80);
    }
    b->indef[b->depth] = indef;
    b->open[b->depth] = b->len;
    b->depth++;
}

static void bb_open(struct bb *b, uint8_t tag)
{
    bb_open_mode(b, tag, b->mode);
}

static void bb_close(struct bb *b)
{
    assert_true(b->depth > 0);
    b->depth--;
    if (b->indef[b->depth]) {
        bb_u8(b, 0);
        bb_u8(b, 0);
        return;
    }
    size_t start = b->open[b->depth];
    size_t n = b->len - start;
    uint8_t h[5];
    size_t hl = 0;
    if (n < 0x80) {
        h[hl++] = (uint8_t)n;
    } else {
        size_t bytes = n > 0xffff ? 3 : n > 0xff ? 2 : 1;
        h[hl++] = (uint8_t)(0x80 | bytes);
        for (size_t i = bytes; i > 0; i--) {
            h[hl++] = (uint8_t)(n >> (8 * (i - 1)));
        }
    }
    bb_bytes(b, h, hl); /* grow */
    memmove(b->p + start + hl, b->p + start, n);
    memcpy(b->p + start, h, hl);
}

static void bb_prim(struct bb *b, uint8_t tag, const void *p, size_t n)
{
    bb_open_mode(b, tag, false);
    bb_bytes(b, p, n);
    bb_close(b);
}

/* ---- the envelope as parts ---- */

enum hash_params { HP_NULL, HP_ABSENT, HP_OCTETS, HP_NULL_WITH_CONTENT };
enum psource { PS_ABSENT, PS_EMPTY, PS_LABEL, PS_OTHER_OID };
enum content { C_PRIM, C_CONS, C_ABSENT, C_UNIVERSAL_TAG, C_BAD_SEGMENT };

struct env {
    const uint8_t *ct_oid;
    size_t ct_oid_len;
    uint8_t explicit_tag;
    bool ci_extra;                 /* an element after the [0] inside ContentInfo */
    const uint8_t *ed_version_raw; /* if set, these bytes replace "02 01 02" of EnvelopedData */
    size_t ed_version_raw_len;
    int ed_version;
    bool originator_info;
    int n_recipients;
    uint8_t ri_tag;
    int ktri_version;
    uint8_t rid_tag;
    size_t rid_len;
    const uint8_t *kea_oid;
    size_t kea_oid_len;
    bool oaep_params_absent;
    bool omit_hash;
    const uint8_t *hash_oid;
    size_t hash_oid_len;
    enum hash_params hash_params;
    bool omit_mgf;
    const uint8_t *mgf_oid;
    size_t mgf_oid_len;
    const uint8_t *mgf_hash_oid;
    size_t mgf_hash_oid_len;
    enum hash_params mgf_hash_params;
    enum psource psource;
    bool params_extra;
    const uint8_t *ek;
    size_t ek_len;
    bool ktri_extra;
    const uint8_t *data_oid;
    size_t data_oid_len;
    const uint8_t *cea_oid;
    size_t cea_oid_len;
    const uint8_t *iv;
    size_t iv_len;
    bool omit_iv;
    enum content content;
    size_t segments; /* C_CONS: split the ciphertext into this many OCTET STRINGs (0: none) */
    unsigned nest;   /* C_CONS: wrap the segments in this many constructed OCTET STRINGs */
    const uint8_t *ct;
    size_t ct_len;
    bool unprotected_attrs;
    bool ed_extra;
    size_t trailing;
};

static uint8_t big_ski[65];

static void env_default(struct env *e)
{
    memset(e, 0, sizeof(*e));
    e->ct_oid = oid_enveloped;
    e->ct_oid_len = sizeof(oid_enveloped);
    e->explicit_tag = 0xa0;
    e->ed_version = 2;
    e->n_recipients = 1;
    e->ri_tag = 0x30;
    e->ktri_version = 2;
    e->rid_tag = 0x80;
    e->rid_len = 32;
    e->kea_oid = oid_oaep;
    e->kea_oid_len = sizeof(oid_oaep);
    e->hash_oid = oid_sha256;
    e->hash_oid_len = sizeof(oid_sha256);
    e->mgf_oid = oid_mgf1;
    e->mgf_oid_len = sizeof(oid_mgf1);
    e->mgf_hash_oid = oid_sha256;
    e->mgf_hash_oid_len = sizeof(oid_sha256);
    e->ek = g.base.encrypted_key;
    e->ek_len = g.base.encrypted_key_len;
    e->data_oid = oid_data;
    e->data_oid_len = sizeof(oid_data);
    e->cea_oid = oid_aes256_cbc;
    e->cea_oid_len = sizeof(oid_aes256_cbc);
    e->iv = g.base.iv;
    e->iv_len = 16;
    e->content = C_CONS;
    e->segments = 1;
    e->ct = g.base.ciphertext.data;
    e->ct_len = g.base.ciphertext.len;
}

static void put_int(struct bb *b, int v)
{
    uint8_t x = (uint8_t)v;
    bb_prim(b, 0x02, &x, 1);
}

static void put_hash_alg(struct bb *b, const uint8_t *oid, size_t oid_len, enum hash_params hp)
{
    static const uint8_t zero = 0;
    bb_open(b, 0x30);
    bb_prim(b, 0x06, oid, oid_len);
    if (hp == HP_NULL) {
        bb_prim(b, 0x05, NULL, 0);
    } else if (hp == HP_OCTETS) {
        bb_prim(b, 0x04, NULL, 0);
    } else if (hp == HP_NULL_WITH_CONTENT) {
        bb_prim(b, 0x05, &zero, 1);
    }
    bb_close(b);
}

static void put_ktri(struct bb *b, const struct env *e)
{
    uint8_t ski[65];
    memset(ski, 0x5c, sizeof(ski));
    memcpy(ski, g.base.rid_ski, g.base.rid_ski_len);
    bb_open(b, e->ri_tag);
    put_int(b, e->ktri_version);
    bb_prim(b, e->rid_tag, e->rid_len <= 32 ? ski : big_ski, e->rid_len);
    bb_open(b, 0x30); /* keyEncryptionAlgorithm */
    bb_prim(b, 0x06, e->kea_oid, e->kea_oid_len);
    if (!e->oaep_params_absent) {
        bb_open(b, 0x30);
        if (!e->omit_hash) {
            bb_open(b, 0xa0);
            put_hash_alg(b, e->hash_oid, e->hash_oid_len, e->hash_params);
            bb_close(b);
        }
        if (!e->omit_mgf) {
            bb_open(b, 0xa1);
            bb_open(b, 0x30);
            bb_prim(b, 0x06, e->mgf_oid, e->mgf_oid_len);
            put_hash_alg(b, e->mgf_hash_oid, e->mgf_hash_oid_len, e->mgf_hash_params);
            bb_close(b);
            bb_close(b);
        }
        if (e->psource != PS_ABSENT) {
            bb_open(b, 0xa2);
            bb_open(b, 0x30);
            if (e->psource == PS_OTHER_OID) {
                bb_prim(b, 0x06, OID(oid_sha1));
            } else {
                bb_prim(b, 0x06, OID(oid_pspecified));
            }
            bb_prim(b, 0x04, "label", e->psource == PS_LABEL ? 5 : 0);
            bb_close(b);
            bb_close(b);
        }
        if (e->params_extra) {
            bb_prim(b, 0x05, NULL, 0);
        }
        bb_close(b);
    }
    bb_close(b);
    bb_prim(b, 0x04, e->ek, e->ek_len);
    if (e->ktri_extra) {
        bb_prim(b, 0x05, NULL, 0);
    }
    bb_close(b);
}

static void put_content(struct bb *b, const struct env *e)
{
    switch (e->content) {
    case C_PRIM:
        bb_prim(b, 0x80, e->ct, e->ct_len);
        return;
    case C_UNIVERSAL_TAG:
        bb_prim(b, 0x04, e->ct, e->ct_len);
        return;
    case C_ABSENT:
        return;
    case C_BAD_SEGMENT:
        bb_open(b, 0xa0);
        bb_prim(b, 0x05, e->ct, e->ct_len);
        bb_close(b);
        return;
    case C_CONS:
        break;
    }
    bb_open(b, 0xa0);
    for (unsigned i = 0; i < e->nest; i++) {
        bb_open(b, 0x24);
    }
    size_t done = 0;
    for (size_t s = 0; s < e->segments; s++) {
        size_t left = e->ct_len - done;
        size_t n = s + 1 == e->segments ? left : left / (e->segments - s);
        bb_prim(b, 0x04, e->ct + done, n);
        done += n;
    }
    for (unsigned i = 0; i < e->nest; i++) {
        bb_close(b);
    }
    bb_close(b);
}

/* Build the envelope; constructed elements definite (DER) or all indefinite (BER like KMS). */
static uint8_t *build(const struct env *e, bool indef, size_t *len)
{
    struct bb b;
    memset(&b, 0, sizeof(b));
    b.mode = indef;
    bb_open(&b, 0x30); /* ContentInfo */
    bb_prim(&b, 0x06, e->ct_oid, e->ct_oid_len);
    bb_open(&b, e->explicit_tag);
    bb_open(&b, 0x30); /* EnvelopedData */
    if (e->ed_version_raw != NULL) {
        bb_bytes(&b, e->ed_version_raw, e->ed_version_raw_len);
    } else {
        put_int(&b, e->ed_version);
    }
    if (e->originator_info) {
        bb_open(&b, 0xa0);
        bb_close(&b);
    }
    bb_open(&b, 0x31);
    for (int i = 0; i < e->n_recipients; i++) {
        put_ktri(&b, e);
    }
    bb_close(&b);
    bb_open(&b, 0x30); /* EncryptedContentInfo */
    bb_prim(&b, 0x06, e->data_oid, e->data_oid_len);
    bb_open(&b, 0x30);
    bb_prim(&b, 0x06, e->cea_oid, e->cea_oid_len);
    if (!e->omit_iv) {
        bb_prim(&b, 0x04, e->iv, e->iv_len);
    }
    bb_close(&b);
    put_content(&b, e);
    bb_close(&b);
    if (e->unprotected_attrs) {
        bb_open(&b, 0xa1);
        bb_close(&b);
    }
    if (e->ed_extra) {
        bb_prim(&b, 0x05, NULL, 0);
    }
    bb_close(&b); /* EnvelopedData */
    bb_close(&b); /* [0] */
    if (e->ci_extra) {
        bb_prim(&b, 0x05, NULL, 0);
    }
    bb_close(&b); /* ContentInfo */
    for (size_t i = 0; i < e->trailing; i++) {
        bb_u8(&b, 0);
    }
    assert_int_equal(b.depth, 0);
    *len = b.len;
    return b.p;
}

/* Build e in both encodings and expect `code` (and the check name) from the parser. */
static void expect_env(const struct env *e, enum vt_err code, const char *check)
{
    for (int indef = 0; indef < 2; indef++) {
        size_t len;
        uint8_t *blob = build(e, indef != 0, &len);
        struct vt_cms_enveloped out;
        struct vt_diag d;
        vt_diag_init(&d);
        memset(&out, 0x5a, sizeof(out));
        enum vt_err err = vt_cms_enveloped_parse(blob, len, &out, &d);
        if (err != code || (code != VT_OK && strcmp(d.check, check) != 0)) {
            print_message("%s: got %s %s: %s\n", indef ? "BER" : "DER", vt_err_name(err), d.check,
                          d.detail);
        }
        assert_int_equal(err, code);
        if (code == VT_OK) {
            views_inside(&out, blob, len);
            decrypts_to(&out, g.key[0], base_text, strlen(base_text));
        } else {
            assert_int_equal(d.code, code);
            assert_string_equal(d.check, check);
            assert_null(out.ciphertext.data);
        }
        vt_cms_enveloped_cleanup(&out);
        free(blob);
    }
}

/* ---- real KMS blobs ---- */

static uint8_t *read_fixture(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/nitro/aws-sdk-c-kms/%s", dir, name);
    uint8_t *p = vt_test_read_file(path, len);
    if (p == NULL) {
        fail_msg("cannot read %s", path);
    }
    return p;
}

static void check_fixture(const char *stem, size_t ct_len)
{
    const char *dir = vt_fixtures_or_skip();
    char name[256];
    size_t len;
    size_t ek_len;
    size_t iv_len;
    size_t ct_want_len;
    snprintf(name, sizeof(name), "%s.ber", stem);
    uint8_t *blob = read_fixture(dir, name, &len);
    snprintf(name, sizeof(name), "%s.expected-encrypted-key.bin", stem);
    uint8_t *ek = read_fixture(dir, name, &ek_len);
    snprintf(name, sizeof(name), "%s.expected-iv.bin", stem);
    uint8_t *iv = read_fixture(dir, name, &iv_len);
    snprintf(name, sizeof(name), "%s.expected-ciphertext.bin", stem);
    uint8_t *ct = read_fixture(dir, name, &ct_want_len);

    struct vt_cms_enveloped e;
    parse_ok(blob, len, &e);
    views_inside(&e, blob, len);
    assert_int_equal(e.rid_ski_len, 32);
    assert_int_equal(e.encrypted_key_len, ek_len);
    assert_int_equal(ek_len, 256);
    assert_memory_equal(e.encrypted_key, ek, ek_len);
    assert_int_equal(iv_len, 16);
    assert_memory_equal(e.iv, iv, 16);
    assert_int_equal(ct_want_len, ct_len);
    assert_int_equal(e.ciphertext.len, ct_len);
    assert_memory_equal(e.ciphertext.data, ct, ct_len);

    /* No private key exists for these: an unrelated key fails cleanly at the key unwrap. */
    struct vt_diag d;
    assert_int_equal(decrypt_err(&e, g.wrong, &d), VT_E_CRYPTO);
    assert_string_equal(d.check, "cms.decrypt");
    assert_non_null(strstr(d.detail, "key unwrap"));
    /* ... and so does a 3072-bit key, whose modulus length differs from the encrypted key's. */
    assert_int_equal(decrypt_err(&e, g.key[1], &d), VT_E_CRYPTO);
    assert_non_null(strstr(d.detail, "key unwrap"));

    /* The producer writes keyEncryptionAlgorithm byte for byte as KMS does. */
    const uint8_t *ours = find(g.base_blob.data, g.base_blob.len, oid_oaep, sizeof(oid_oaep));
    assert_non_null(ours);
    ours -= 4; /* 30 3c 06 09 */
    assert_true(ours[0] == 0x30 && ours[1] == 0x3c);
    assert_non_null(find(blob, len, ours, 0x3e));

    every_prefix_truncated(blob, len);
    every_byte_flipped(blob, len);

    vt_cms_enveloped_cleanup(&e);

    /* One byte more: trailing data. */
    uint8_t *longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, blob, len);
    longer[len] = 0;
    assert_int_equal(vt_cms_enveloped_parse(longer, len + 1, &e, &d), VT_E_TRAILING_DATA);
    assert_string_equal(d.check, "cms.trailing");
    free(longer);

    vt_cms_enveloped_cleanup(&e);
    free(blob);
    free(ek);
    free(iv);
    free(ct);
}

static void test_fixture_constructed(void **state)
{
    (void)state;
    check_fixture("cms-enveloped-constructed", 48);
}

static void test_fixture_implicit(void **state)
{
    (void)state;
    check_fixture("cms-enveloped-implicit", 16);
}

/* ---- round trips ---- */

/* OpenSSL's CMS must decrypt what we produce. */
static void openssl_decrypts(const uint8_t *blob, size_t len, EVP_PKEY *pkey, const uint8_t *want,
                             size_t want_len)
{
    const unsigned char *p = blob;
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
    assert_non_null(cms);
    assert_ptr_equal(p, blob + len);
    assert_int_equal(OBJ_obj2nid(CMS_get0_type(cms)), NID_pkcs7_enveloped);
    BIO *out = BIO_new(BIO_s_mem());
    assert_non_null(out);
    assert_int_equal(CMS_decrypt_set1_pkey(cms, pkey, NULL), 1);
    assert_int_equal(CMS_decrypt(cms, NULL, NULL, NULL, out, 0), 1);
    char *got;
    long n = BIO_get_mem_data(out, &got);
    assert_int_equal((size_t)n, want_len);
    if (want_len > 0) {
        assert_memory_equal(got, want, want_len);
    }
    BIO_free(out);
    CMS_ContentInfo_free(cms);
}

static void test_round_trip(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 15, 16, 17, 4096};
    uint8_t *pt = malloc(4096);
    assert_non_null(pt);
    for (size_t i = 0; i < 4096; i++) {
        pt[i] = (uint8_t)(i * 7 + 3);
    }
    for (size_t k = 0; k < 2; k++) {
        uint8_t ski[VT_SHA256_LEN];
        vt_sha256(g.spki[k].data, g.spki[k].len, ski);
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            size_t n = sizes[s];
            struct vt_buf blob;
            struct vt_diag d;
            vt_buf_init(&blob, VT_CMS_MAX_SIZE);
            vt_diag_init(&d);
            assert_int_equal(
                vt_cms_encrypt_for_recipient(g.spki[k].data, g.spki[k].len, pt, n, &blob, &d),
                VT_OK);
            /* DER: definite lengths throughout. */
            assert_int_equal(blob.data[0], 0x30);
            assert_int_not_equal(blob.data[1], 0x80);
            struct vt_cms_enveloped e;
            parse_ok(blob.data, blob.len, &e);
            views_inside(&e, blob.data, blob.len);
            assert_int_equal(e.rid_ski_len, 32);
            assert_memory_equal(e.rid_ski, ski, 32);
            assert_int_equal(e.encrypted_key_len, k == 0 ? 256 : 384);
            assert_int_equal(e.ciphertext.len, (n / 16 + 1) * 16);
            decrypts_to(&e, g.key[k], pt, n);
            /* The other key fails at the unwrap. */
            assert_int_equal(decrypt_err(&e, k == 0 ? g.wrong : g.key[0], &d), VT_E_CRYPTO);
            assert_non_null(strstr(d.detail, "key unwrap"));
            openssl_decrypts(blob.data, blob.len, g.pkey[k], pt, n);
            vt_cms_enveloped_cleanup(&e);
            vt_buf_cleanup(&blob);
        }
    }
    free(pt);
}

static void test_fresh_key_and_iv(void **state)
{
    (void)state;
    struct vt_buf a;
    struct vt_buf b;
    vt_buf_init(&a, VT_CMS_MAX_SIZE);
    vt_buf_init(&b, VT_CMS_MAX_SIZE);
    assert_int_equal(vt_cms_encrypt_for_recipient(g.spki[0].data, g.spki[0].len,
                                                  (const uint8_t *)"x", 1, &a, NULL),
                     VT_OK);
    assert_int_equal(vt_cms_encrypt_for_recipient(g.spki[0].data, g.spki[0].len,
                                                  (const uint8_t *)"x", 1, &b, NULL),
                     VT_OK);
    struct vt_cms_enveloped ea;
    struct vt_cms_enveloped eb;
    parse_ok(a.data, a.len, &ea);
    parse_ok(b.data, b.len, &eb);
    assert_memory_not_equal(ea.iv, eb.iv, 16);
    assert_memory_not_equal(ea.encrypted_key, eb.encrypted_key, 256);
    assert_memory_not_equal(ea.ciphertext.data, eb.ciphertext.data, 16);
    vt_cms_enveloped_cleanup(&ea);
    vt_cms_enveloped_cleanup(&eb);
    vt_buf_cleanup(&a);
    vt_buf_cleanup(&b);
}

static void test_output_buffers(void **state)
{
    (void)state;
    struct vt_diag d;
    /* Encrypt: a too-small cap fails with VT_E_TOO_LARGE and leaves the buffer as it was. */
    struct vt_buf out;
    vt_buf_init(&out, 300);
    assert_int_equal(vt_buf_append(&out, "old", 3), VT_OK);
    assert_int_equal(vt_cms_encrypt_for_recipient(g.spki[0].data, g.spki[0].len,
                                                  (const uint8_t *)"x", 1, &out, &d),
                     VT_E_TOO_LARGE);
    assert_string_equal(d.check, "cms.encrypt");
    assert_int_equal(out.len, 3);
    assert_memory_equal(out.data, "old", 3);
    /* With room, the result replaces the old contents. */
    out.max = VT_CMS_MAX_SIZE;
    assert_int_equal(vt_cms_encrypt_for_recipient(g.spki[0].data, g.spki[0].len,
                                                  (const uint8_t *)"x", 1, &out, &d),
                     VT_OK);
    assert_int_equal(out.data[0], 0x30);
    vt_buf_cleanup(&out);

    /* Decrypt: the same rules for the plaintext buffer. */
    struct vt_buf pt;
    vt_buf_init(&pt, 10);
    assert_int_equal(vt_buf_append(&pt, "old", 3), VT_OK);
    assert_int_equal(vt_cms_decrypt(&g.base, g.key[0], &pt, &d), VT_E_TOO_LARGE);
    assert_string_equal(d.check, "cms.decrypt");
    assert_int_equal(pt.len, 3);
    pt.max = 1000;
    assert_int_equal(vt_cms_decrypt(&g.base, g.key[0], &pt, &d), VT_OK);
    assert_int_equal(pt.len, strlen(base_text));
    assert_memory_equal(pt.data, base_text, pt.len);
    vt_buf_cleanup(&pt);

    /* SPKI: replaces the contents too. */
    struct vt_buf spki;
    vt_buf_init(&spki, 4096);
    assert_int_equal(vt_buf_append(&spki, "old", 3), VT_OK);
    assert_int_equal(vt_key_spki_der(g.key[0], &spki, &d), VT_OK);
    assert_int_equal(spki.len, g.spki[0].len);
    assert_memory_equal(spki.data, g.spki[0].data, spki.len);
    spki.max = 10;
    assert_int_equal(vt_key_spki_der(g.key[0], &spki, &d), VT_E_TOO_LARGE);
    assert_int_equal(spki.len, g.spki[0].len);
    vt_buf_cleanup(&spki);
}

/* OpenSSL's own CMS output (DER, and streamed BER with indefinite lengths) parses and decrypts. */
static X509 *self_signed_with_ski(EVP_PKEY *pkey)
{
    X509 *x = X509_new();
    assert_non_null(x);
    assert_int_equal(X509_set_version(x, 2), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
    X509_NAME *name = X509_get_subject_name(x);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                                (const unsigned char *)"cms test", -1, -1, 0),
                     1);
    assert_int_equal(X509_set_issuer_name(x, name), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
    assert_int_equal(X509_set_pubkey(x, pkey), 1);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
    assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
    return x;
}

static CMS_ContentInfo *openssl_envelope(X509 *cert, unsigned flags)
{
    CMS_ContentInfo *cms = CMS_encrypt(NULL, NULL, EVP_aes_256_cbc(), flags | CMS_PARTIAL);
    assert_non_null(cms);
    CMS_RecipientInfo *ri = CMS_add1_recipient_cert(cms, cert, CMS_KEY_PARAM | CMS_USE_KEYID);
    assert_non_null(ri);
    EVP_PKEY_CTX *pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
    assert_non_null(pctx);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()), 1);
    return cms;
}

static void test_openssl_produced(void **state)
{
    (void)state;
    X509 *cert = self_signed_with_ski(g.pkey[0]);
    size_t n = 3000; /* more than one streamed chunk of encrypted content */
    uint8_t *pt = malloc(n);
    assert_non_null(pt);
    for (size_t i = 0; i < n; i++) {
        pt[i] = (uint8_t)(i ^ 0x5a);
    }

    /* DER through CMS_final + i2d. */
    CMS_ContentInfo *cms = openssl_envelope(cert, 0);
    BIO *in = BIO_new_mem_buf(pt, (int)n);
    assert_int_equal(CMS_final(cms, in, NULL, CMS_BINARY), 1);
    BIO_free(in);
    unsigned char *der = NULL;
    int der_len = i2d_CMS_ContentInfo(cms, &der);
    assert_true(der_len > 0);
    CMS_ContentInfo_free(cms);
    struct vt_cms_enveloped e;
    parse_ok(der, (size_t)der_len, &e);
    decrypts_to(&e, g.key[0], pt, n);
    vt_cms_enveloped_cleanup(&e);
    OPENSSL_free(der);

    /* Streamed BER: indefinite lengths and a constructed encryptedContent. */
    cms = openssl_envelope(cert, CMS_STREAM);
    in = BIO_new_mem_buf(pt, (int)n);
    BIO *out = BIO_new(BIO_s_mem());
    assert_int_equal(i2d_CMS_bio_stream(out, cms, in, CMS_STREAM | CMS_BINARY), 1);
    char *ber;
    long ber_len = BIO_get_mem_data(out, &ber);
    assert_true(ber_len > 4);
    assert_int_equal((uint8_t)ber[1], 0x80); /* really indefinite */
    parse_ok((const uint8_t *)ber, (size_t)ber_len, &e);
    decrypts_to(&e, g.key[0], pt, n);
    vt_cms_enveloped_cleanup(&e);
    every_prefix_truncated((const uint8_t *)ber, (size_t)ber_len > 600 ? 600 : (size_t)ber_len);
    BIO_free(out);
    BIO_free(in);
    CMS_ContentInfo_free(cms);
    X509_free(cert);
    free(pt);
}

/* ---- decryption failures ---- */

static void test_decrypt_failures(void **state)
{
    (void)state;
    struct vt_diag d;
    /* Wrong key. */
    assert_int_equal(decrypt_err(&g.base, g.wrong, &d), VT_E_CRYPTO);
    assert_non_null(strstr(d.detail, "key unwrap"));

    /* A corrupted encrypted key. */
    struct vt_cms_enveloped e = g.base;
    uint8_t ek[256];
    memcpy(ek, g.base.encrypted_key, 256);
    ek[100] ^= 0x01;
    e.encrypted_key = ek;
    assert_int_equal(decrypt_err(&e, g.key[0], &d), VT_E_CRYPTO);
    assert_non_null(strstr(d.detail, "key unwrap"));
    /* An encrypted key shorter than the modulus (RFC 8017 7.1.2 step 1). */
    e.encrypted_key = g.base.encrypted_key + 1;
    e.encrypted_key_len = 255;
    assert_int_equal(decrypt_err(&e, g.key[0], &d), VT_E_CRYPTO);
    assert_non_null(strstr(d.detail, "key unwrap"));

    /* A hand-made envelope with no whole block of ciphertext. */
    e = g.base;
    e.ciphertext.len = 15;
    assert_int_equal(decrypt_err(&e, g.key[0], &d), VT_E_CRYPTO);
    assert_non_null(strstr(d.detail, "content"));
    e.ciphertext.len = 0;
    assert_int_equal(decrypt_err(&e, g.key[0], &d), VT_E_CRYPTO);

    /* Arguments. */
    struct vt_buf pt;
    vt_buf_init(&pt, 100);
    assert_int_equal(vt_cms_decrypt(NULL, g.key[0], &pt, &d), VT_E_ARG);
    assert_int_equal(vt_cms_decrypt(&g.base, NULL, &pt, &d), VT_E_ARG);
    assert_int_equal(vt_cms_decrypt(&g.base, g.key[0], NULL, &d), VT_E_ARG);
}

/* An envelope for `pt` under g.key[0] with the given IV and ciphertext, parsed. */
static void envelope_of(const uint8_t *pt, size_t n, struct vt_buf *blob,
                        struct vt_cms_enveloped *e)
{
    vt_buf_init(blob, VT_CMS_MAX_SIZE);
    assert_int_equal(vt_cms_encrypt_for_recipient(g.spki[0].data, g.spki[0].len, pt, n, blob, NULL),
                     VT_OK);
    parse_ok(blob->data, blob->len, e);
}

static void test_cbc_has_no_integrity(void **state)
{
    (void)state;
    struct vt_diag d;
    struct vt_buf blob;
    struct vt_cms_enveloped e;

    /* Empty plaintext: one block of padding 10 10 .. 10. Flipping the IV's last bit makes the
     * last byte 0x11: invalid padding, a clean VT_E_CRYPTO at the content stage. */
    envelope_of(NULL, 0, &blob, &e);
    e.iv[15] ^= 0x01;
    assert_int_equal(decrypt_err(&e, g.key[0], &d), VT_E_CRYPTO);
    assert_non_null(strstr(d.detail, "content"));
    /* A pad byte other than the last (0x11 10 .. 10) is checked too. */
    e.iv[15] ^= 0x01;
    e.iv[0] ^= 0x01;
    assert_int_equal(decrypt_err(&e, g.key[0], &d), VT_E_CRYPTO);
    e.iv[0] ^= 0x01;
    decrypts_to(&e, g.key[0], NULL, 0);
    vt_cms_enveloped_cleanup(&e);
    vt_buf_cleanup(&blob);

    /* 17 bytes: two blocks, the second "q" + 15 x 0x0f. Flipping the first ciphertext byte
     * garbles block one and flips plaintext byte 16 — the padding stays valid, so decryption
     * succeeds with different plaintext. CBC (and this format) has no integrity. */
    static const uint8_t pt[17] = "0123456789abcdefq";
    envelope_of(pt, sizeof(pt), &blob, &e);
    e.ciphertext.data[0] ^= 0x01;
    struct vt_buf out;
    vt_buf_init(&out, 100);
    assert_int_equal(vt_cms_decrypt(&e, g.key[0], &out, &d), VT_OK);
    assert_int_equal(out.len, 17);
    assert_int_equal(out.data[16], 'q' ^ 0x01);
    assert_memory_not_equal(out.data, pt, 16);
    vt_buf_cleanup(&out);
    vt_cms_enveloped_cleanup(&e);
    vt_buf_cleanup(&blob);
}

/* A content-encryption key that is not 32 bytes is refused after the unwrap. */
static void test_cek_length(void **state)
{
    (void)state;
    uint8_t cek[16];
    memset(cek, 0x11, sizeof(cek));
    uint8_t ek[256];
    size_t ek_len = sizeof(ek);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(g.pkey[0], NULL);
    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()), 1);
    assert_int_equal(EVP_PKEY_encrypt(ctx, ek, &ek_len, cek, sizeof(cek)), 1);
    EVP_PKEY_CTX_free(ctx);
    struct env env;
    env_default(&env);
    env.ek = ek;
    env.ek_len = ek_len;
    size_t len;
    uint8_t *blob = build(&env, true, &len);
    struct vt_cms_enveloped e;
    parse_ok(blob, len, &e);
    struct vt_diag d;
    assert_int_equal(decrypt_err(&e, g.key[0], &d), VT_E_CRYPTO);
    assert_non_null(strstr(d.detail, "content-encryption key of 16 bytes"));
    vt_cms_enveloped_cleanup(&e);
    free(blob);

    /* SHA-1 OAEP (the RFC 8017 default) under SHA-256 labels: the unwrap fails. */
    ctx = EVP_PKEY_CTX_new(g.pkey[0], NULL);
    assert_non_null(ctx);
    uint8_t cek32[32] = {0};
    ek_len = sizeof(ek);
    assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING), 1);
    assert_int_equal(EVP_PKEY_encrypt(ctx, ek, &ek_len, cek32, sizeof(cek32)), 1);
    EVP_PKEY_CTX_free(ctx);
    env.ek = ek;
    env.ek_len = ek_len;
    blob = build(&env, false, &len);
    parse_ok(blob, len, &e);
    assert_int_equal(decrypt_err(&e, g.key[0], &d), VT_E_CRYPTO);
    assert_non_null(strstr(d.detail, "key unwrap"));
    vt_cms_enveloped_cleanup(&e);
    free(blob);
}

/* ---- accepted shapes ---- */

static void test_builder_shapes_accepted(void **state)
{
    (void)state;
    struct env e;
    env_default(&e);
    expect_env(&e, VT_OK, NULL); /* constructed, one segment; DER and all-indefinite BER */
    e.content = C_PRIM;
    expect_env(&e, VT_OK, NULL); /* primitive [0] IMPLICIT */
    env_default(&e);
    e.segments = 5; /* uneven split */
    expect_env(&e, VT_OK, NULL);
    e.segments = e.ct_len; /* one byte per OCTET STRING */
    expect_env(&e, VT_OK, NULL);
    env_default(&e);
    e.nest = 2; /* constructed OCTET STRINGs inside the [0] */
    e.segments = 3;
    expect_env(&e, VT_OK, NULL);
    e.nest = 8; /* the deepest accepted */
    expect_env(&e, VT_OK, NULL);
    env_default(&e);
    e.hash_params = HP_ABSENT; /* RFC 5754: absent parameters */
    e.mgf_hash_params = HP_ABSENT;
    expect_env(&e, VT_OK, NULL);
    env_default(&e);
    e.psource = PS_EMPTY; /* the DEFAULT written out */
    expect_env(&e, VT_OK, NULL);
    env_default(&e);
    e.rid_len = 1;
    expect_env(&e, VT_OK, NULL);
    e.rid_len = 64;
    expect_env(&e, VT_OK, NULL);
}

/* ---- rejected shapes ---- */

static void test_reject_content_info(void **state)
{
    (void)state;
    struct env e;
    env_default(&e);
    e.ct_oid = oid_data;
    e.ct_oid_len = sizeof(oid_data);
    expect_env(&e, VT_E_BAD_FIELD, "cms.content_info.content_type");
    env_default(&e);
    e.explicit_tag = 0xa1;
    expect_env(&e, VT_E_BAD_DER, "cms.content_info.content");
    env_default(&e);
    e.ci_extra = true;
    expect_env(&e, VT_E_BAD_DER, "cms.content_info");
    env_default(&e);
    e.trailing = 1;
    expect_env(&e, VT_E_TRAILING_DATA, "cms.trailing");
    e.trailing = 2; /* a stray end-of-contents after the end */
    expect_env(&e, VT_E_TRAILING_DATA, "cms.trailing");
}

static void test_reject_enveloped_data(void **state)
{
    (void)state;
    struct env e;
    env_default(&e);
    e.ed_version = 0;
    expect_env(&e, VT_E_UNSUPPORTED_VERSION, "cms.enveloped_data.version");
    e.ed_version = 3;
    expect_env(&e, VT_E_UNSUPPORTED_VERSION, "cms.enveloped_data.version");
    env_default(&e);
    e.originator_info = true;
    expect_env(&e, VT_E_BAD_FIELD, "cms.enveloped_data.originator_info");
    env_default(&e);
    e.unprotected_attrs = true;
    expect_env(&e, VT_E_BAD_FIELD, "cms.enveloped_data.unprotected_attrs");
    env_default(&e);
    e.ed_extra = true;
    expect_env(&e, VT_E_BAD_DER, "cms.enveloped_data");
    env_default(&e);
    e.n_recipients = 0;
    expect_env(&e, VT_E_BAD_FIELD, "cms.recipient_infos");
    e.n_recipients = 2;
    expect_env(&e, VT_E_BAD_FIELD, "cms.recipient_infos");
}

/* Encodings of the EnvelopedData version INTEGER (in place of 02 01 02). */
static void test_reject_encodings(void **state)
{
    (void)state;
    static const struct {
        uint8_t raw[12];
        size_t len;
        enum vt_err code;
    } cases[] = {
        {{0x02, 0x81, 0x01, 0x02}, 4, VT_E_BAD_DER},       /* non-minimal long form */
        {{0x02, 0x82, 0x00, 0x01, 0x02}, 5, VT_E_BAD_DER}, /* leading zero length byte */
        {{0x02, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00}, 7, VT_E_BAD_DER},  /* 5 length bytes */
        {{0x02, 0xff}, 2, VT_E_BAD_DER},                                /* reserved length 0xff */
        {{0x02, 0x80, 0x02, 0x00, 0x00}, 5, VT_E_BAD_DER},              /* indefinite primitive */
        {{0x22, 0x80, 0x02, 0x01, 0x02, 0x00, 0x00}, 7, VT_E_BAD_DER},  /* constructed INTEGER */
        {{0x1f, 0x22, 0x01, 0x02}, 4, VT_E_BAD_DER},                    /* high tag number */
        {{0x02, 0x00}, 2, VT_E_BAD_DER},                                /* empty INTEGER */
        {{0x02, 0x01, 0xfe}, 3, VT_E_BAD_DER},                          /* negative */
        {{0x02, 0x02, 0x00, 0x02}, 4, VT_E_BAD_DER},                    /* non-minimal INTEGER */
        {{0x02, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0, 0}, 11, VT_E_BAD_DER}, /* > 64 bits */
        {{0x02, 0x02, 0x01, 0x02}, 4, VT_E_UNSUPPORTED_VERSION},        /* 258 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct env e;
        env_default(&e);
        e.ed_version_raw = cases[i].raw;
        e.ed_version_raw_len = cases[i].len;
        expect_env(&e, cases[i].code, "cms.enveloped_data.version");
    }
}

static void test_reject_recipient(void **state)
{
    (void)state;
    struct env e;
    env_default(&e);
    e.ri_tag = 0xa1; /* KeyAgreeRecipientInfo */
    expect_env(&e, VT_E_UNSUPPORTED_ALGORITHM, "cms.recipient_info");
    e.ri_tag = 0xa4; /* OtherRecipientInfo */
    expect_env(&e, VT_E_UNSUPPORTED_ALGORITHM, "cms.recipient_info");
    e.ri_tag = 0x31;
    expect_env(&e, VT_E_BAD_DER, "cms.recipient_info");
    env_default(&e);
    e.ktri_version = 0;
    expect_env(&e, VT_E_UNSUPPORTED_VERSION, "cms.ktri.version");
    env_default(&e);
    e.rid_tag = 0x30; /* issuerAndSerialNumber */
    expect_env(&e, VT_E_BAD_FIELD, "cms.ktri.rid");
    e.rid_tag = 0x04;
    expect_env(&e, VT_E_BAD_DER, "cms.ktri.rid");
    env_default(&e);
    e.rid_len = 0;
    expect_env(&e, VT_E_BAD_FIELD, "cms.ktri.rid");
    e.rid_len = 65;
    expect_env(&e, VT_E_BAD_FIELD, "cms.ktri.rid");
    env_default(&e);
    e.ek_len = 0;
    expect_env(&e, VT_E_BAD_FIELD, "cms.ktri.encrypted_key");
    env_default(&e);
    e.ktri_extra = true;
    expect_env(&e, VT_E_BAD_DER, "cms.recipient_info");
}

static void test_reject_oaep(void **state)
{
    (void)state;
    struct env e;
    env_default(&e);
    e.kea_oid = oid_rsa_enc; /* PKCS#1 v1.5 */
    e.kea_oid_len = sizeof(oid_rsa_enc);
    expect_env(&e, VT_E_UNSUPPORTED_ALGORITHM, "cms.ktri.key_encryption_algorithm");
    env_default(&e);
    e.oaep_params_absent = true;
    expect_env(&e, VT_E_UNSUPPORTED_ALGORITHM, "cms.ktri.oaep_params");
    env_default(&e);
    e.omit_hash = true;
    expect_env(&e, VT_E_UNSUPPORTED_ALGORITHM, "cms.ktri.oaep_params.hash");
    e.omit_mgf = true;
    expect_env(&e, VT_E_UNSUPPORTED_ALGORITHM, "cms.ktri.oaep_params.hash");
    e.psource = PS_EMPTY;
    expect_env(&e, VT_E_UNSUPPORTED_ALGORITHM, "cms.ktri.oaep_params.hash");
    env_default(&e);
    e.hash_oid = oid_sha1;
    e.hash_oid_len = sizeof(oid_sha1);
    expect_env(&e, VT_E_UNSUPPORTED_ALGORITHM, "cms.ktri.oaep_params.hash");
    e.hash_oid = oid_sha384;
    e.hash_oid_len = sizeof(oid_sha384);
    expect_env(&e, VT_E_UNSUPPORTED_ALGORITHM, "cms.ktri.oaep_params.hash");
    env_default(&e);
    e.hash_params = HP_OCTETS;
    expect_env(&e, VT_E_BAD_DER, "cms.ktri.oaep_params.hash");
    e.hash_params = HP_NULL_WITH_CONTENT;
    expect_env(&e, VT_E_BAD_DER, "cms.ktri.oaep_params.hash");
    env_default(&e);
    e.omit_mgf = true;
    expect_env(&e, VT_E_UNSUPPORTED_ALGORITHM, "cms.ktri.oaep_params.mgf");
    e.psource = PS_EMPTY;
    expect_env(&e, VT_E_UNSUPPORTED_ALGORITHM, "cms.ktri.oaep_params.mgf");
    env_default(&e);
    e.mgf_oid = oid_sha256;
    e.mgf_oid_len = sizeof(oid_sha256);
    expect_env(&e, VT_E_UNSUPPORTED_ALGORITHM, "cms.ktri.oaep_params.mgf");
    env_default(&e);
    e.mgf_hash_oid = oid_sha1;
    e.mgf_hash_oid_len = sizeof(oid_sha1);
    expect_env(&e, VT_E_UNSUPPORTED_ALGORITHM, "cms.ktri.oaep_params.mgf_hash");
    env_default(&e);
    e.mgf_hash_params = HP_OCTETS;
    expect_env(&e, VT_E_BAD_DER, "cms.ktri.oaep_params.mgf_hash");
    env_default(&e);
    e.psource = PS_LABEL;
    expect_env(&e, VT_E_UNSUPPORTED_ALGORITHM, "cms.ktri.oaep_params.psource");
    e.psource = PS_OTHER_OID;
    expect_env(&e, VT_E_UNSUPPORTED_ALGORITHM, "cms.ktri.oaep_params.psource");
    env_default(&e);
    e.params_extra = true;
    expect_env(&e, VT_E_BAD_DER, "cms.ktri.oaep_params");
}

static void test_reject_encrypted_content_info(void **state)
{
    (void)state;
    struct env e;
    env_default(&e);
    e.data_oid = oid_enveloped;
    e.data_oid_len = sizeof(oid_enveloped);
    expect_env(&e, VT_E_BAD_FIELD, "cms.encrypted_content_info.content_type");
    env_default(&e);
    e.cea_oid = oid_aes128_cbc;
    e.cea_oid_len = sizeof(oid_aes128_cbc);
    expect_env(&e, VT_E_UNSUPPORTED_ALGORITHM, "cms.content_encryption_algorithm");
    env_default(&e);
    e.iv_len = 15;
    expect_env(&e, VT_E_BAD_FIELD, "cms.content_encryption.iv");
    uint8_t iv17[17] = {0};
    e.iv = iv17;
    e.iv_len = 17;
    expect_env(&e, VT_E_BAD_FIELD, "cms.content_encryption.iv");
    env_default(&e);
    e.omit_iv = true; /* a missing element inside a SEQUENCE */
    expect_env(&e, VT_E_BAD_DER, "cms.content_encryption.iv");
    env_default(&e);
    e.content = C_ABSENT;
    expect_env(&e, VT_E_MISSING_FIELD, "cms.encrypted_content");
    e.content = C_UNIVERSAL_TAG;
    expect_env(&e, VT_E_BAD_DER, "cms.encrypted_content");
    e.content = C_BAD_SEGMENT;
    expect_env(&e, VT_E_BAD_DER, "cms.encrypted_content");
    env_default(&e);
    e.segments = 0; /* a constructed [0] with nothing in it */
    expect_env(&e, VT_E_BAD_FIELD, "cms.encrypted_content");
    e.content = C_PRIM;
    e.ct_len = 0;
    expect_env(&e, VT_E_BAD_FIELD, "cms.encrypted_content");
    env_default(&e);
    e.ct_len -= 1; /* not whole blocks */
    expect_env(&e, VT_E_BAD_FIELD, "cms.encrypted_content");
    env_default(&e);
    e.nest = 9; /* one constructed string deeper than the cap */
    expect_env(&e, VT_E_TOO_LARGE, "cms.encrypted_content");
}

/* Byte-level damage that the builder does not express. */
static void test_reject_raw(void **state)
{
    (void)state;
    struct env e;
    env_default(&e);
    size_t len;
    struct vt_cms_enveloped out;
    struct vt_diag d;

    /* BER: the final end-of-contents with a non-zero length byte, or missing. */
    uint8_t *blob = build(&e, true, &len);
    blob[len - 1] = 0x01;
    assert_int_equal(vt_cms_enveloped_parse(blob, len, &out, &d), VT_E_BAD_DER);
    assert_string_equal(d.check, "cms.content_info");
    assert_int_equal(vt_cms_enveloped_parse(blob, len - 2, &out, &d), VT_E_TRUNCATED);
    assert_string_equal(d.check, "cms.content_info");
    every_prefix_truncated(blob, len);
    every_byte_flipped(blob, len);
    free(blob);

    /* DER: an IV whose length runs past its definite SEQUENCE. */
    blob = build(&e, false, &len);
    uint8_t *iv = (uint8_t *)find(blob, len, oid_aes256_cbc, sizeof(oid_aes256_cbc));
    assert_non_null(iv);
    iv += sizeof(oid_aes256_cbc);
    assert_true(iv[0] == 0x04 && iv[1] == 0x10);
    iv[1] = 0x11;
    assert_int_equal(vt_cms_enveloped_parse(blob, len, &out, &d), VT_E_BAD_DER);
    assert_string_equal(d.check, "cms.content_encryption.iv");
    iv[1] = 0x10;
    every_prefix_truncated(blob, len);
    every_byte_flipped(blob, len);
    free(blob);

    /* The producer's output, too. */
    every_prefix_truncated(g.base_blob.data, g.base_blob.len);

    /* Sizes and arguments. */
    uint8_t *huge = calloc(1, VT_CMS_MAX_SIZE + 1);
    assert_non_null(huge);
    assert_int_equal(vt_cms_enveloped_parse(huge, VT_CMS_MAX_SIZE + 1, &out, &d), VT_E_TOO_LARGE);
    assert_string_equal(d.check, "cms.size");
    free(huge);
    assert_int_equal(vt_cms_enveloped_parse(NULL, 5, &out, &d), VT_E_ARG);
    assert_int_equal(vt_cms_enveloped_parse(g.base_blob.data, g.base_blob.len, NULL, &d), VT_E_ARG);
    assert_int_equal(vt_cms_enveloped_parse(NULL, 0, &out, &d), VT_E_TRUNCATED);
    vt_cms_enveloped_cleanup(&out);
    vt_cms_enveloped_cleanup(NULL);
}

/* ---- keys ---- */

static uint8_t *spki_of(EVP_PKEY *pkey, size_t *len)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(pkey, &der);
    assert_true(n > 0);
    *len = (size_t)n;
    return der;
}

static void expect_bad_recipient(const uint8_t *spki, size_t len)
{
    struct vt_buf out;
    struct vt_diag d;
    vt_buf_init(&out, VT_CMS_MAX_SIZE);
    vt_diag_init(&d);
    assert_int_equal(vt_cms_encrypt_for_recipient(spki, len, (const uint8_t *)"x", 1, &out, &d),
                     VT_E_BAD_KEY);
    assert_int_equal(d.code, VT_E_BAD_KEY);
    assert_string_equal(d.check, "cms.recipient_key");
    assert_null(out.data);
}

static void test_encrypt_bad_keys(void **state)
{
    (void)state;
    size_t len;
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(ec);
    uint8_t *spki = spki_of(ec, &len);
    expect_bad_recipient(spki, len);
    OPENSSL_free(spki);
    EVP_PKEY_free(ec);

    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    assert_non_null(small);
    spki = spki_of(small, &len);
    expect_bad_recipient(spki, len);
    expect_bad_recipient(spki, len); /* refused again: a refused key is never cached */
    OPENSSL_free(spki);
    EVP_PKEY_free(small);

    /* Garbage, a truncated SPKI, an SPKI with a byte after it, nothing (spki[0] itself is in the
     * cache of recipients' keys by now: a hit needs the whole input to match). */
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    expect_bad_recipient(junk, sizeof(junk));
    expect_bad_recipient(g.spki[0].data, g.spki[0].len - 1);
    uint8_t *longer = malloc(g.spki[0].len + 1);
    assert_non_null(longer);
    memcpy(longer, g.spki[0].data, g.spki[0].len);
    longer[g.spki[0].len] = 0;
    expect_bad_recipient(longer, g.spki[0].len + 1);
    free(longer);
    expect_bad_recipient(g.spki[0].data, 0);

    struct vt_buf out;
    struct vt_diag d;
    vt_buf_init(&out, VT_CMS_MAX_SIZE);
    assert_int_equal(vt_cms_encrypt_for_recipient(NULL, 10, NULL, 0, &out, &d), VT_E_ARG);
    assert_int_equal(vt_cms_encrypt_for_recipient(g.spki[0].data, g.spki[0].len, NULL, 5, &out, &d),
                     VT_E_ARG);
    assert_int_equal(vt_cms_encrypt_for_recipient(g.spki[0].data, g.spki[0].len,
                                                  (const uint8_t *)"x", VT_CMS_MAX_SIZE + 1, &out,
                                                  &d),
                     VT_E_TOO_LARGE);
}

static uint8_t *pem_of(EVP_PKEY *pkey, int form, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    assert_non_null(b);
    int ok = 0;
    if (form == 0) {
        ok = PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL); /* PKCS#8 */
    } else if (form == 1) {
        ok = PEM_write_bio_PrivateKey_traditional(b, pkey, NULL, NULL, 0, NULL, NULL);
    } else {
        ok = PEM_write_bio_PKCS8PrivateKey(b, pkey, EVP_aes_256_cbc(), NULL, 0, NULL,
                                           (void *)"secret");
    }
    assert_int_equal(ok, 1);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    uint8_t *copy = malloc((size_t)n);
    assert_non_null(copy);
    memcpy(copy, p, (size_t)n);
    BIO_free(b);
    *len = (size_t)n;
    return copy;
}

static void parses_as(const uint8_t *p, size_t len, const struct vt_buf *want_spki)
{
    struct vt_key *k = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_key_from_rsa_private(p, len, &k, &d);
    if (err != VT_OK) {
        print_message("key: %s %s: %s\n", vt_err_name(err), d.check, d.detail);
    }
    assert_int_equal(err, VT_OK);
    struct vt_buf spki;
    vt_buf_init(&spki, 4096);
    assert_int_equal(vt_key_spki_der(k, &spki, NULL), VT_OK);
    assert_int_equal(spki.len, want_spki->len);
    assert_memory_equal(spki.data, want_spki->data, spki.len);
    vt_buf_cleanup(&spki);
    decrypts_to(&g.base, k, base_text, strlen(base_text));
    vt_key_free(k);
}

static void key_rejected(const uint8_t *p, size_t len, enum vt_err code)
{
    struct vt_key *k = (struct vt_key *)&g; /* must stay as it is */
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_key_from_rsa_private(p, len, &k, &d), code);
    assert_int_equal(d.code, code);
    assert_string_equal(d.check, "rsa_key.parse");
    assert_ptr_equal(k, (struct vt_key *)&g);
}

static void test_rsa_key_parse(void **state)
{
    (void)state;
    size_t len;
    /* PKCS#1 DER (PKCS#8 DER is what setup() used). */
    unsigned char *der = NULL;
    int n = i2d_PrivateKey(g.pkey[0], &der);
    assert_true(n > 0);
    parses_as(der, (size_t)n, &g.spki[0]);
    /* Trailing bytes after DER. */
    uint8_t *longer = malloc((size_t)n + 1);
    assert_non_null(longer);
    memcpy(longer, der, (size_t)n);
    longer[n] = 0;
    key_rejected(longer, (size_t)n + 1, VT_E_TRAILING_DATA);
    key_rejected(der, (size_t)n - 1, VT_E_BAD_KEY);
    free(longer);
    OPENSSL_clear_free(der, (size_t)n);

    /* PEM, PKCS#8 and PKCS#1. */
    uint8_t *pem = pem_of(g.pkey[0], 0, &len);
    parses_as(pem, len, &g.spki[0]);
    free(pem);
    pem = pem_of(g.pkey[0], 1, &len);
    parses_as(pem, len, &g.spki[0]);
    free(pem);
    /* Encrypted PKCS#8 is refused (no passphrase prompt). */
    pem = pem_of(g.pkey[0], 2, &len);
    key_rejected(pem, len, VT_E_BAD_KEY);
    free(pem);

    /* A public key only, an EC key, a 1024-bit RSA key, garbage. */
    key_rejected(g.spki[0].data, g.spki[0].len, VT_E_BAD_KEY);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(ec);
    pem = pem_of(ec, 0, &len);
    key_rejected(pem, len, VT_E_BAD_KEY);
    free(pem);
    EVP_PKEY_free(ec);
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    assert_non_null(small);
    pem = pem_of(small, 0, &len);
    key_rejected(pem, len, VT_E_BAD_KEY);
    free(pem);
    EVP_PKEY_free(small);
    static const uint8_t junk[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    key_rejected(junk, sizeof(junk) - 1, VT_E_BAD_KEY);
    key_rejected(junk + 5, 10, VT_E_BAD_KEY);
    key_rejected(NULL, 10, VT_E_ARG);
    key_rejected(junk, 0, VT_E_ARG);
    uint8_t *huge = calloc(1, 70000);
    assert_non_null(huge);
    key_rejected(huge, 70000, VT_E_TOO_LARGE);
    free(huge);
    vt_key_free(NULL);
}

static void test_rsa_key_generate(void **state)
{
    (void)state;
    struct vt_key *k = NULL;
    struct vt_diag d;
    assert_int_equal(vt_key_generate(VT_KEY_RSA, 1024, &k, &d), VT_E_ARG);
    assert_int_equal(vt_key_generate(VT_KEY_RSA, 4097, &k, &d), VT_E_ARG);
    assert_int_equal(vt_key_generate(VT_KEY_RSA, 2048, NULL, &d), VT_E_ARG);
    assert_null(k);
    assert_int_equal(vt_key_generate(VT_KEY_RSA, 2048, &k, &d), VT_OK);
    struct vt_buf spki;
    vt_buf_init(&spki, 4096);
    assert_int_equal(vt_key_spki_der(k, &spki, &d), VT_OK);
    const unsigned char *p = spki.data;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, (long)spki.len);
    assert_non_null(pub);
    assert_int_equal(EVP_PKEY_get_base_id(pub), EVP_PKEY_RSA);
    assert_int_equal(EVP_PKEY_get_bits(pub), 2048);
    EVP_PKEY_free(pub);
    /* A fresh key each time. */
    assert_true(spki.len != g.spki[0].len || memcmp(spki.data, g.spki[0].data, spki.len) != 0);
    assert_int_equal(vt_key_spki_der(NULL, &spki, &d), VT_E_ARG);
    vt_buf_cleanup(&spki);
    vt_key_free(k);
}

int main(void)
{
    memset(big_ski, 0x42, sizeof(big_ski));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_constructed),
        cmocka_unit_test(test_fixture_implicit),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_fresh_key_and_iv),
        cmocka_unit_test(test_output_buffers),
        cmocka_unit_test(test_openssl_produced),
        cmocka_unit_test(test_decrypt_failures),
        cmocka_unit_test(test_cbc_has_no_integrity),
        cmocka_unit_test(test_cek_length),
        cmocka_unit_test(test_builder_shapes_accepted),
        cmocka_unit_test(test_reject_content_info),
        cmocka_unit_test(test_reject_enveloped_data),
        cmocka_unit_test(test_reject_encodings),
        cmocka_unit_test(test_reject_recipient),
        cmocka_unit_test(test_reject_oaep),
        cmocka_unit_test(test_reject_encrypted_content_info),
        cmocka_unit_test(test_reject_raw),
        cmocka_unit_test(test_encrypt_bad_keys),
        cmocka_unit_test(test_rsa_key_parse),
        cmocka_unit_test(test_rsa_key_generate),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
