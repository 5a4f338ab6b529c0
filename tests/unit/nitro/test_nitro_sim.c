/*
 * The synthetic Nitro generator (tests/support/nitro_sim.c) checked against OpenSSL and an
 * independent CBOR walker written here, not against veritee: the chain verifies with
 * X509_verify_cert inside its validity and fails outside it, every certificate has AWS's shape,
 * the document is well-formed CBOR with NSM's layout, the COSE signature verifies over a
 * Sig_structure rebuilt here byte by byte, and every knob and defect changes exactly what it
 * claims to change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "nitro_sim.h"
#include "vt_fixtures.h"

/* A fixed "now": 2025-06-15T00:00:00Z. */
static const vt_time NOW = 1749945600;

/* ---- an independent CBOR walker ---- */

struct cur {
    const uint8_t *p;
    size_t n, off;
};

static struct cur cur_of(const uint8_t *p, size_t n)
{
    struct cur c = {p, n, 0};
    return c;
}

/* One head; ai 31 gives arg 0. False when truncated or ai is reserved (28..30). */
static bool rd_head(struct cur *c, unsigned *mt, unsigned *ai, uint64_t *arg)
{
    if (c->off >= c->n) {
        return false;
    }
    uint8_t b = c->p[c->off++];
    *mt = b >> 5;
    *ai = b & 31u;
    *arg = 0;
    if (*ai < 24) {
        *arg = *ai;
        return true;
    }
    if (*ai == 31) {
        return true;
    }
    if (*ai > 27) {
        return false;
    }
    size_t k = (size_t)1 << (*ai - 24);
    if (c->n - c->off < k) {
        return false;
    }
    for (size_t i = 0; i < k; i++) {
        *arg = (*arg << 8) | c->p[c->off++];
    }
    return true;
}

static bool at_break(struct cur *c)
{
    if (c->off < c->n && c->p[c->off] == 0xFF) {
        c->off++;
        return true;
    }
    return false;
}

/* Skip one well-formed item (RFC 8949 appendix C), nesting at most 64 deep. */
static bool skip_item(struct cur *c, int depth)
{
    unsigned mt = 0, ai = 0;
    uint64_t arg;
    if (depth > 64 || !rd_head(c, &mt, &ai, &arg)) {
        return false;
    }
    switch (mt) {
    case 0:
    case 1:
        return ai != 31;
    case 2:
    case 3:
        if (ai == 31) {
            for (;;) {
                if (c->off >= c->n) {
                    return false;
                }
                if (at_break(c)) {
                    return true;
                }
                unsigned m2, a2;
                uint64_t l;
                if (!rd_head(c, &m2, &a2, &l) || m2 != mt || a2 == 31 || c->n - c->off < l) {
                    return false;
                }
                c->off += (size_t)l;
            }
        }
        if (c->n - c->off < arg) {
            return false;
        }
        c->off += (size_t)arg;
        return true;
    case 4:
    case 5: {
        int per = mt == 5 ? 2 : 1;
        if (ai == 31) {
            for (;;) {
                if (c->off >= c->n) {
                    return false;
                }
                if (at_break(c)) {
                    return true;
                }
                for (int k = 0; k < per; k++) {
                    if (!skip_item(c, depth + 1)) {
                        return false;
                    }
                }
            }
        }
        for (uint64_t i = 0; i < arg; i++) {
            for (int k = 0; k < per; k++) {
                if (!skip_item(c, depth + 1)) {
                    return false;
                }
            }
        }
        return true;
    }
    case 6:
        return ai != 31 && skip_item(c, depth + 1);
    default: /* 7 */
        return ai != 31 && !(ai == 24 && arg < 32);
    }
}

/* True when p[0..n) is exactly one well-formed item followed by `trailing` bytes. */
static bool well_formed(const uint8_t *p, size_t n, size_t trailing)
{
    struct cur c = cur_of(p, n);
    return skip_item(&c, 0) && c.n - c.off == trailing;
}

/* A byte or text string item: its content. */
static void get_string(struct cur *c, unsigned want_mt, const uint8_t **p, size_t *n)
{
    unsigned mt = 0, ai = 0;
    uint64_t arg;
    assert_true(rd_head(c, &mt, &ai, &arg));
    assert_int_equal(mt, want_mt);
    assert_true(ai != 31);
    assert_true(c->n - c->off >= arg);
    *p = c->p + c->off;
    *n = (size_t)arg;
    c->off += (size_t)arg;
}

static void eat_byte(struct cur *c, uint8_t b)
{
    assert_true(c->off < c->n);
    assert_int_equal(c->p[c->off], b);
    c->off++;
}

/* The top-level map of a payload: keys and value spans. */
#define MAX_ENTRIES 16
struct map_entry {
    char key[32];
    size_t val_off, val_end;
};
struct pmap {
    bool indefinite;
    size_t n;
    struct map_entry e[MAX_ENTRIES];
};

static void decode_map(const uint8_t *p, size_t n, struct pmap *m)
{
    struct cur c = cur_of(p, n);
    unsigned mt = 0, ai = 0;
    uint64_t arg;
    memset(m, 0, sizeof(*m));
    assert_true(rd_head(&c, &mt, &ai, &arg));
    assert_int_equal(mt, 5);
    m->indefinite = ai == 31;
    for (size_t i = 0;; i++) {
        if (m->indefinite ? at_break(&c) : i == arg) {
            break;
        }
        assert_true(i < MAX_ENTRIES);
        const uint8_t *k;
        size_t kn;
        get_string(&c, 3, &k, &kn);
        assert_true(kn < sizeof(m->e[i].key));
        memcpy(m->e[i].key, k, kn);
        m->e[i].val_off = c.off;
        assert_true(skip_item(&c, 1));
        m->e[i].val_end = c.off;
        m->n = i + 1;
    }
}

static const struct map_entry *find_key(const struct pmap *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->e[i].key, key) == 0) {
            return &m->e[i];
        }
    }
    return NULL;
}

static struct cur value_cur(const uint8_t *payload, const struct map_entry *e)
{
    assert_non_null(e);
    return cur_of(payload + e->val_off, e->val_end - e->val_off);
}

/* The four parts of a COSE_Sign1 (content spans), checking the envelope is well-formed. */
struct cose {
    bool tagged;
    const uint8_t *prot, *unprot, *payload, *sig;
    size_t prot_len, unprot_len, payload_len, sig_len;
    size_t end;
};

static void decode_cose(const uint8_t *p, size_t n, struct cose *out)
{
    struct cur c = cur_of(p, n);
    unsigned mt = 0, ai = 0;
    uint64_t arg;
    memset(out, 0, sizeof(*out));
    assert_true(rd_head(&c, &mt, &ai, &arg));
    if (mt == 6) {
        assert_int_equal(arg, 18);
        out->tagged = true;
        assert_true(rd_head(&c, &mt, &ai, &arg));
    }
    assert_int_equal(mt, 4);
    bool indef = ai == 31;
    if (!indef) {
        assert_int_equal(arg, 4);
    }
    get_string(&c, 2, &out->prot, &out->prot_len);
    size_t u = c.off;
    assert_true(skip_item(&c, 1));
    out->unprot = p + u;
    out->unprot_len = c.off - u;
    get_string(&c, 2, &out->payload, &out->payload_len);
    get_string(&c, 2, &out->sig, &out->sig_len);
    if (indef) {
        eat_byte(&c, 0xFF);
    }
    out->end = c.off;
}

/* ---- independent encodings and crypto ---- */

/* A minimal CBOR head, written here without the simulator's encoder. */
static size_t put_head(uint8_t *out, unsigned mt, uint64_t v)
{
    uint8_t m = (uint8_t)(mt << 5);
    if (v < 24) {
        out[0] = (uint8_t)(m | v);
        return 1;
    }
    size_t k = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffu ? 4 : 8;
    out[0] = (uint8_t)(m | (k == 1 ? 24 : k == 2 ? 25 : k == 4 ? 26 : 27));
    for (size_t i = 0; i < k; i++) {
        out[1 + i] = (uint8_t)(v >> (8 * (k - 1 - i)));
    }
    return 1 + k;
}

/* ["Signature1", prot, h'', payload] by hand; malloc'd. */
static uint8_t *sig_structure(const uint8_t *prot, size_t prot_len, const uint8_t *payload,
                              size_t payload_len, size_t *len)
{
    uint8_t *b = malloc(32 + prot_len + payload_len);
    assert_non_null(b);
    size_t n = 0;
    b[n++] = 0x84;
    b[n++] = 0x6A;
    memcpy(b + n, "Signature1", 10);
    n += 10;
    n += put_head(b + n, 2, prot_len);
    memcpy(b + n, prot, prot_len);
    n += prot_len;
    b[n++] = 0x40;
    n += put_head(b + n, 2, payload_len);
    memcpy(b + n, payload, payload_len);
    n += payload_len;
    *len = n;
    return b;
}

/* ECDSA-SHA384 verification of a raw r||s (48+48) with OpenSSL directly. */
static bool raw_verify(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t *sig,
                       size_t sig_len)
{
    if (sig_len != 96) {
        return false;
    }
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 48, NULL);
    BIGNUM *s = BN_bin2bn(sig + 48, 48, NULL);
    assert_non_null(es);
    assert_non_null(r);
    assert_non_null(s);
    assert_int_equal(ECDSA_SIG_set0(es, r, s), 1);
    unsigned char *der = NULL;
    int dn = i2d_ECDSA_SIG(es, &der);
    assert_true(dn > 0);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha384(), NULL, key), 1);
    bool ok = EVP_DigestVerify(ctx, der, (size_t)dn, msg, len) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    ERR_clear_error();
    return ok;
}

/* Verify the document's COSE signature against key, over a Sig_structure rebuilt here. */
static bool cose_verifies(const struct vt_sim_blob *doc, EVP_PKEY *key)
{
    struct cose cs;
    decode_cose(doc->data, doc->len, &cs);
    size_t tbs_len;
    uint8_t *tbs = sig_structure(cs.prot, cs.prot_len, cs.payload, cs.payload_len, &tbs_len);
    bool ok = raw_verify(key, tbs, tbs_len, cs.sig, cs.sig_len);
    free(tbs);
    return ok;
}

static uint8_t *der_of(X509 *x, size_t *n)
{
    unsigned char *der = NULL;
    int dn = i2d_X509(x, &der);
    assert_true(dn > 0);
    *n = (size_t)dn;
    return der;
}

static void assert_bytes_equal_der(const uint8_t *p, size_t n, X509 *x)
{
    size_t dn;
    uint8_t *der = der_of(x, &dn);
    assert_int_equal(n, dn);
    assert_memory_equal(p, der, dn);
    OPENSSL_free(der);
}

/* X509_verify_cert of the leaf over regional/zonal/instance to the root at time t. */
static int chain_verify(const struct vt_nsim_pki *pki, vt_time t, unsigned long flags, int *depth)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    assert_non_null(store);
    assert_non_null(ctx);
    assert_non_null(untrusted);
    assert_int_equal(X509_STORE_add_cert(store, pki->cert[VT_NSIM_ROOT]), 1);
    for (int i = VT_NSIM_REGIONAL; i <= VT_NSIM_INSTANCE; i++) {
        assert_true(sk_X509_push(untrusted, pki->cert[i]) > 0);
    }
    assert_int_equal(X509_STORE_CTX_init(ctx, store, pki->cert[VT_NSIM_LEAF], untrusted), 1);
    X509_STORE_CTX_set_flags(ctx, flags);
    X509_STORE_CTX_set_time(ctx, 0, (time_t)t);
    int rc = X509_verify_cert(ctx);
    int err = X509_STORE_CTX_get_error(ctx);
    if (depth != NULL) {
        *depth = X509_STORE_CTX_get_error_depth(ctx);
    }
    if (rc == 1) {
        assert_int_equal(err, X509_V_OK);
    } else {
        assert_true(err != X509_V_OK);
    }
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    X509_STORE_free(store);
    ERR_clear_error();
    return err;
}

static struct vt_nsim_pki *pki_with(void (*tweak)(struct vt_nsim_pki_params *))
{
    struct vt_nsim_pki_params pp;
    vt_nsim_pki_params_default(&pp, NOW);
    if (tweak != NULL) {
        tweak(&pp);
    }
    struct vt_nsim_pki *pki = vt_nsim_pki_new(&pp);
    assert_non_null(pki);
    return pki;
}

static void build_doc(const struct vt_nsim_pki *pki, const struct vt_nsim_doc_params *dp,
                      struct vt_sim_blob *doc, struct vt_nsim_doc_layout *lay)
{
    assert_true(vt_nsim_doc_build(pki, dp, doc, lay));
    assert_non_null(doc->data);
}

static int64_t lifetime(X509 *x)
{
    int days = 0, secs = 0;
    assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)),
                     1);
    return (int64_t)days * 86400 + secs;
}

static bool ext_critical(X509 *x, int nid)
{
    int i = X509_get_ext_by_NID(x, nid, -1);
    assert_true(i >= 0);
    return X509_EXTENSION_get_critical(X509_get_ext(x, i)) == 1;
}

static void cert_cn(X509 *x, char *out, size_t cap)
{
    assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)cap) >
                0);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* ---- the encoder ---- */

static void check_enc(void (*fn)(struct vt_nsim_cbor *, int64_t), int64_t v, const char *hex)
{
    struct vt_nsim_cbor c = {0};
    struct vt_sim_blob b = {0};
    fn(&c, v);
    assert_true(vt_nsim_cbor_finish(&c, &b));
    char got[64] = "";
    for (size_t i = 0; i < b.len && 2 * i + 2 < sizeof(got); i++) {
        snprintf(got + 2 * i, 3, "%02x", b.data[i]);
    }
    assert_string_equal(got, hex);
    vt_sim_blob_cleanup(&b);
}

static void enc_uint(struct vt_nsim_cbor *c, int64_t v)
{
    vt_nsim_cbor_uint(c, (uint64_t)v);
}

static void enc_int(struct vt_nsim_cbor *c, int64_t v)
{
    vt_nsim_cbor_int(c, v);
}

static void test_cbor_encoder(void **state)
{
    (void)state;
    /* RFC 8949 appendix A examples. */
    check_enc(enc_uint, 0, "00");
    check_enc(enc_uint, 23, "17");
    check_enc(enc_uint, 24, "1818");
    check_enc(enc_uint, 255, "18ff");
    check_enc(enc_uint, 256, "190100");
    check_enc(enc_uint, 65535, "19ffff");
    check_enc(enc_uint, 65536, "1a00010000");
    check_enc(enc_uint, 4294967295, "1affffffff");
    check_enc(enc_uint, 4294967296, "1b0000000100000000");
    check_enc(enc_uint, 1000000000000, "1b000000e8d4a51000");
    check_enc(enc_int, -1, "20");
    check_enc(enc_int, -10, "29");
    check_enc(enc_int, -24, "37");
    check_enc(enc_int, -25, "3818");
    check_enc(enc_int, -35, "3822");
    check_enc(enc_int, -1000, "3903e7");
    check_enc(enc_int, INT64_MIN, "3b7fffffffffffffff");

    struct vt_nsim_cbor c = {0};
    struct vt_sim_blob b = {0};
    vt_nsim_cbor_tag(&c, 18);
    vt_nsim_cbor_array(&c, 5);
    vt_nsim_cbor_text(&c, "a");
    vt_nsim_cbor_bstr(&c, "\x01\x02", 2);
    vt_nsim_cbor_null(&c);
    vt_nsim_cbor_bool(&c, false);
    vt_nsim_cbor_map_indef(&c);
    vt_nsim_cbor_uint(&c, 1);
    vt_nsim_cbor_array_indef(&c);
    vt_nsim_cbor_break(&c);
    vt_nsim_cbor_break(&c);
    vt_nsim_cbor_map(&c, 0);
    assert_true(vt_nsim_cbor_finish(&c, &b));
    static const uint8_t want[] = {0xD2, 0x85, 0x61, 'a',  0x42, 0x01, 0x02, 0xF6,
                                   0xF4, 0xBF, 0x01, 0x9F, 0xFF, 0xFF, 0xA0};
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    assert_true(c.p == NULL && c.len == 0);
    /* The walker agrees: one item (the tag 18 array) and one trailing byte (A0). */
    assert_true(well_formed(b.data, b.len, 1));
    vt_sim_blob_cleanup(&b);

    /* A 300-byte string gets a two-byte length; discard frees. */
    uint8_t big[300] = {0};
    vt_nsim_cbor_bstr(&c, big, sizeof(big));
    assert_int_equal(c.len, 303);
    assert_int_equal(c.p[0], 0x59);
    assert_int_equal(c.p[1], 0x01);
    assert_int_equal(c.p[2], 0x2C);
    vt_nsim_cbor_discard(&c);
    assert_null(c.p);
}

/* ---- the PKI ---- */

static void test_default_chain_verifies(void **state)
{
    (void)state;
    struct vt_nsim_pki *pki = pki_with(NULL);
    int depth = -1;
    assert_int_equal(chain_verify(pki, NOW, 0, NULL), X509_V_OK);
    /* Inside every window until the leaf closes at now - 10 min + 3 h 3 s. */
    vt_time leaf_na = pki->params.level[VT_NSIM_LEAF].not_after;
    assert_int_equal(leaf_na, NOW - 600 + 3 * 3600 + 3);
    assert_int_equal(chain_verify(pki, leaf_na - 1, 0, NULL), X509_V_OK);
    assert_int_equal(chain_verify(pki, leaf_na + 1, 0, &depth), X509_V_ERR_CERT_HAS_EXPIRED);
    assert_int_equal(depth, 0);
    vt_time leaf_nb = pki->params.level[VT_NSIM_LEAF].not_before;
    assert_int_equal(chain_verify(pki, leaf_nb - 1, 0, &depth), X509_V_ERR_CERT_NOT_YET_VALID);
    assert_int_equal(depth, 0);
    /* Like AWS's chains, the leaf has no AKI, so RFC 5280 strict mode refuses it. */
    assert_int_equal(chain_verify(pki, NOW, X509_V_FLAG_X509_STRICT, &depth),
                     X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER);
    assert_int_equal(depth, 0);
    vt_nsim_pki_free(pki);
}

static void test_default_shape(void **state)
{
    (void)state;
    struct vt_nsim_pki *pki = pki_with(NULL);
    static const struct {
        int ca;
        long pathlen;
        uint32_t ku;
        bool ku_critical;
        int64_t lifetime;
        int64_t before_now;
    } want[VT_NSIM_LEVELS] = {
        {1, -1, KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN, true, 30 * VT_NSIM_YEAR,
         5 * VT_NSIM_YEAR},
        {1, 2, KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN, true,
         20 * VT_NSIM_DAY + VT_NSIM_HOUR, 2 * VT_NSIM_DAY},
        {1, 1, KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN, true,
         5 * VT_NSIM_DAY + 17 * VT_NSIM_HOUR, 12 * VT_NSIM_HOUR},
        {1, 0, KU_KEY_CERT_SIGN, true, VT_NSIM_DAY, 4 * VT_NSIM_HOUR},
        {0, -1, KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION, false, 3 * VT_NSIM_HOUR + 3,
         10 * VT_NSIM_MINUTE},
    };
    for (int i = 0; i < VT_NSIM_LEVELS; i++) {
        X509 *x = pki->cert[i];
        assert_int_equal(X509_get_version(x), X509_VERSION_3);
        assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA384);
        assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(x)), 384);
        assert_int_equal(EVP_PKEY_get_bits(pki->key[i]), 384);
        assert_int_equal(X509_check_ca(x) != 0, want[i].ca);
        assert_int_equal(X509_get_pathlen(x), want[i].pathlen);
        assert_true(ext_critical(x, NID_basic_constraints));
        assert_int_equal(X509_get_key_usage(x), want[i].ku);
        assert_int_equal(ext_critical(x, NID_key_usage), want[i].ku_critical);
        assert_int_equal(lifetime(x), want[i].lifetime);
        assert_int_equal(pki->params.level[i].not_before, NOW - want[i].before_now);
        assert_int_equal(X509_cmp_time(X509_get0_notBefore(x), &(time_t){NOW}), -1);
        assert_int_equal(X509_cmp_time(X509_get0_notAfter(x), &(time_t){NOW}), 1);
        /* Issued by the level above (the root by itself). */
        X509 *issuer = pki->cert[i == 0 ? 0 : i - 1];
        assert_int_equal(X509_check_issued(issuer, x), X509_V_OK);
        assert_int_equal(X509_verify(x, X509_get0_pubkey(issuer)), 1);
        /* 16 random bytes, positive. */
        const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
        assert_true(ASN1_STRING_length(serial) == 16);
        assert_int_equal(ASN1_STRING_type(serial), V_ASN1_INTEGER);
    }
    /* AKI and CRL DP where AWS has them. */
    assert_true(X509_get_ext_by_NID(pki->cert[VT_NSIM_ROOT], NID_authority_key_identifier, -1) < 0);
    assert_true(X509_get_ext_by_NID(pki->cert[VT_NSIM_LEAF], NID_authority_key_identifier, -1) < 0);
    assert_true(X509_get_ext_by_NID(pki->cert[VT_NSIM_REGIONAL], NID_crl_distribution_points, -1) >=
                0);
    assert_true(X509_get_ext_by_NID(pki->cert[VT_NSIM_ZONAL], NID_crl_distribution_points, -1) >=
                0);
    assert_true(
        X509_get_ext_by_NID(pki->cert[VT_NSIM_INSTANCE], NID_authority_key_identifier, -1) >= 0);
    assert_int_equal(X509_get_ext_count(pki->cert[VT_NSIM_LEAF]), 2);

    char cn[160];
    cert_cn(pki->cert[VT_NSIM_ROOT], cn, sizeof(cn));
    assert_string_equal(cn, "test.nitro-enclaves");
    cert_cn(pki->cert[VT_NSIM_REGIONAL], cn, sizeof(cn));
    assert_int_equal(strlen(cn), 16 + strlen(".us-east-1.test.nitro-enclaves"));
    assert_true(ends_with(cn, ".us-east-1.test.nitro-enclaves"));
    cert_cn(pki->cert[VT_NSIM_ZONAL], cn, sizeof(cn));
    assert_true(ends_with(cn, ".zonal.us-east-1.test.nitro-enclaves"));
    cert_cn(pki->cert[VT_NSIM_INSTANCE], cn, sizeof(cn));
    assert_true(strncmp(cn, "i-", 2) == 0 && ends_with(cn, ".us-east-1.test.nitro-enclaves"));
    cert_cn(pki->cert[VT_NSIM_LEAF], cn, sizeof(cn));
    assert_true(strncmp(cn, pki->module_id, strlen(pki->module_id)) == 0);
    assert_string_equal(cn + strlen(pki->module_id), ".us-east-1.test");
    assert_non_null(strstr(pki->module_id, "-enc"));
    for (int i = 0; i < VT_NSIM_LEVELS; i++) {
        cert_cn(pki->cert[i], cn, sizeof(cn));
        assert_string_equal(cn, pki->cn[i]);
    }

    /* The unrelated key is P-384 and differs from every PKI key. */
    assert_int_equal(EVP_PKEY_get_bits(pki->unrelated_key), 384);
    for (int i = 0; i < VT_NSIM_LEVELS; i++) {
        assert_int_not_equal(EVP_PKEY_eq(pki->unrelated_key, pki->key[i]), 1);
    }

    /* Fresh keys per PKI. */
    struct vt_nsim_pki *other = pki_with(NULL);
    assert_int_not_equal(EVP_PKEY_eq(other->key[VT_NSIM_ROOT], pki->key[VT_NSIM_ROOT]), 1);
    vt_nsim_pki_free(other);
    vt_nsim_pki_free(pki);
    vt_nsim_pki_free(NULL);
}

static void tweak_regional_no_basic(struct vt_nsim_pki_params *p)
{
    p->level[VT_NSIM_REGIONAL].omit_basic_constraints = true;
}
static void tweak_regional_pathlen0(struct vt_nsim_pki_params *p)
{
    p->level[VT_NSIM_REGIONAL].pathlen = 0;
}
static void tweak_instance_no_kcs(struct vt_nsim_pki_params *p)
{
    p->level[VT_NSIM_INSTANCE].key_usage &= ~(unsigned)VT_NSIM_KU_KEY_CERT_SIGN;
    p->level[VT_NSIM_INSTANCE].key_usage |= VT_NSIM_KU_DIGITAL_SIGNATURE;
}
static void tweak_zonal_wrong_key(struct vt_nsim_pki_params *p)
{
    p->level[VT_NSIM_ZONAL].wrong_key = true;
}
static void tweak_leaf_wrong_key(struct vt_nsim_pki_params *p)
{
    p->level[VT_NSIM_LEAF].wrong_key = true;
}
static void tweak_leaf_ca(struct vt_nsim_pki_params *p)
{
    p->level[VT_NSIM_LEAF].ca = true;
}
static void tweak_instance_p256(struct vt_nsim_pki_params *p)
{
    p->level[VT_NSIM_INSTANCE].p256 = true;
}
static void tweak_leaf_p256(struct vt_nsim_pki_params *p)
{
    p->level[VT_NSIM_LEAF].p256 = true;
}
static void tweak_zonal_sha256(struct vt_nsim_pki_params *p)
{
    p->level[VT_NSIM_ZONAL].sig_sha256 = true;
}
static void tweak_regional_expired(struct vt_nsim_pki_params *p)
{
    p->level[VT_NSIM_REGIONAL].not_before = p->now - 30 * VT_NSIM_DAY;
    p->level[VT_NSIM_REGIONAL].not_after = p->now - 1;
}
static void tweak_names(struct vt_nsim_pki_params *p)
{
    p->region = "eu-west-1";
    p->level[VT_NSIM_ROOT].cn = "aws.nitro-enclaves.invalid";
}
static void tweak_misc(struct vt_nsim_pki_params *p)
{
    p->level[VT_NSIM_LEAF].key_usage = 0;
    p->level[VT_NSIM_ZONAL].basic_not_critical = true;
    p->level[VT_NSIM_REGIONAL].key_usage_critical = false;
}

static void test_pki_knobs(void **state)
{
    (void)state;
    int depth = -1;
    struct vt_nsim_pki *pki;

    /* No basicConstraints on the regional CA: not a CA for OpenSSL. */
    pki = pki_with(tweak_regional_no_basic);
    assert_true(X509_get_ext_by_NID(pki->cert[VT_NSIM_REGIONAL], NID_basic_constraints, -1) < 0);
    assert_int_equal(chain_verify(pki, NOW, 0, &depth), X509_V_ERR_INVALID_CA);
    assert_int_equal(depth, 3);
    vt_nsim_pki_free(pki);

    /* pathLen 0 on the regional CA with two CAs below it. */
    pki = pki_with(tweak_regional_pathlen0);
    assert_int_equal(X509_get_pathlen(pki->cert[VT_NSIM_REGIONAL]), 0);
    assert_int_equal(chain_verify(pki, NOW, 0, &depth), X509_V_ERR_PATH_LENGTH_EXCEEDED);
    vt_nsim_pki_free(pki);

    /* keyUsage without keyCertSign on the instance CA. */
    pki = pki_with(tweak_instance_no_kcs);
    assert_int_equal(X509_get_key_usage(pki->cert[VT_NSIM_INSTANCE]), KU_DIGITAL_SIGNATURE);
    assert_int_equal(chain_verify(pki, NOW, 0, &depth), X509_V_ERR_INVALID_CA);
    assert_int_equal(depth, 1);
    vt_nsim_pki_free(pki);

    /* Wrong signing key on the zonal CA: its signature (depth 2) fails; names still chain. */
    pki = pki_with(tweak_zonal_wrong_key);
    assert_int_equal(X509_check_issued(pki->cert[VT_NSIM_REGIONAL], pki->cert[VT_NSIM_ZONAL]),
                     X509_V_OK);
    assert_int_equal(chain_verify(pki, NOW, 0, &depth), X509_V_ERR_CERT_SIGNATURE_FAILURE);
    assert_int_equal(depth, 2);
    assert_int_equal(X509_verify(pki->cert[VT_NSIM_ZONAL], X509_get0_pubkey(pki->cert[1])), 0);
    assert_int_equal(X509_verify(pki->cert[VT_NSIM_ZONAL], pki->unrelated_key), 1);
    vt_nsim_pki_free(pki);
    ERR_clear_error();

    pki = pki_with(tweak_leaf_wrong_key);
    assert_int_equal(chain_verify(pki, NOW, 0, &depth), X509_V_ERR_CERT_SIGNATURE_FAILURE);
    assert_int_equal(depth, 0);
    vt_nsim_pki_free(pki);

    /* Leaf as CA: basicConstraints cA=TRUE (keyUsage unchanged, so X509_check_ca still says
     * no for lack of keyCertSign); OpenSSL verifies the chain. */
    pki = pki_with(tweak_leaf_ca);
    assert_true((X509_get_extension_flags(pki->cert[VT_NSIM_LEAF]) & EXFLAG_CA) != 0);
    assert_true((X509_get_extension_flags(pki->cert[VT_NSIM_INSTANCE]) & EXFLAG_CA) != 0);
    assert_true((X509_get_extension_flags(pki->cert[VT_NSIM_LEAF]) & EXFLAG_BCONS) != 0);
    assert_int_equal(X509_check_ca(pki->cert[VT_NSIM_LEAF]), 0);
    assert_int_equal(chain_verify(pki, NOW, 0, NULL), X509_V_OK);
    vt_nsim_pki_free(pki);

    /* P-256 instance key: the chain verifies, the key is 256 bits. */
    pki = pki_with(tweak_instance_p256);
    assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(pki->cert[VT_NSIM_INSTANCE])), 256);
    assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(pki->cert[VT_NSIM_ZONAL])), 384);
    assert_int_equal(chain_verify(pki, NOW, 0, NULL), X509_V_OK);
    vt_nsim_pki_free(pki);

    /* SHA-256 signature on the zonal certificate. */
    pki = pki_with(tweak_zonal_sha256);
    assert_int_equal(X509_get_signature_nid(pki->cert[VT_NSIM_ZONAL]), NID_ecdsa_with_SHA256);
    assert_int_equal(X509_get_signature_nid(pki->cert[VT_NSIM_INSTANCE]), NID_ecdsa_with_SHA384);
    assert_int_equal(chain_verify(pki, NOW, 0, NULL), X509_V_OK);
    vt_nsim_pki_free(pki);

    /* Validity windows are taken as given. */
    pki = pki_with(tweak_regional_expired);
    assert_int_equal(chain_verify(pki, NOW, 0, &depth), X509_V_ERR_CERT_HAS_EXPIRED);
    assert_int_equal(depth, 3);
    vt_nsim_pki_free(pki);

    /* Names: region and CN overrides. */
    pki = pki_with(tweak_names);
    char cn[160];
    cert_cn(pki->cert[VT_NSIM_ROOT], cn, sizeof(cn));
    assert_string_equal(cn, "aws.nitro-enclaves.invalid");
    cert_cn(pki->cert[VT_NSIM_ZONAL], cn, sizeof(cn));
    assert_true(ends_with(cn, ".zonal.eu-west-1.test.nitro-enclaves"));
    cert_cn(pki->cert[VT_NSIM_LEAF], cn, sizeof(cn));
    assert_true(ends_with(cn, ".eu-west-1.test"));
    assert_null(pki->params.region);
    assert_null(pki->params.level[VT_NSIM_ROOT].cn);
    assert_int_equal(chain_verify(pki, NOW, 0, NULL), X509_V_OK);
    vt_nsim_pki_free(pki);

    /* Leaf without keyUsage, non-critical basicConstraints, non-critical keyUsage. */
    pki = pki_with(tweak_misc);
    assert_true(X509_get_ext_by_NID(pki->cert[VT_NSIM_LEAF], NID_key_usage, -1) < 0);
    assert_false(ext_critical(pki->cert[VT_NSIM_ZONAL], NID_basic_constraints));
    assert_false(ext_critical(pki->cert[VT_NSIM_REGIONAL], NID_key_usage));
    assert_true(ext_critical(pki->cert[VT_NSIM_REGIONAL], NID_basic_constraints));
    vt_nsim_pki_free(pki);
}

static void test_cert_export(void **state)
{
    (void)state;
    struct vt_nsim_pki *pki = pki_with(NULL);
    for (int i = 0; i < VT_NSIM_LEVELS; i++) {
        struct vt_sim_blob der = {0}, pem = {0};
        assert_true(vt_nsim_cert_der(pki, (enum vt_nsim_level)i, &der));
        assert_bytes_equal_der(der.data, der.len, pki->cert[i]);
        assert_true(vt_nsim_cert_pem(pki, (enum vt_nsim_level)i, &pem));
        assert_int_equal(strlen((const char *)pem.data), pem.len);
        assert_true(strncmp((const char *)pem.data, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
        BIO *bio = BIO_new_mem_buf(pem.data, (int)pem.len);
        X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        assert_non_null(x);
        assert_int_equal(X509_cmp(x, pki->cert[i]), 0);
        X509_free(x);
        BIO_free(bio);
        vt_sim_blob_cleanup(&der);
        vt_sim_blob_cleanup(&pem);
        /* Real AWS certificates are well under the 1024-byte limit; so are these. */
        size_t n;
        uint8_t *d = der_of(pki->cert[i], &n);
        assert_true(n > 300 && n < 1024);
        OPENSSL_free(d);
    }
    struct vt_sim_blob none = {0};
    assert_false(vt_nsim_cert_der(pki, VT_NSIM_LEVELS, &none));
    assert_null(none.data);
    vt_nsim_pki_free(pki);
}

/* ---- documents ---- */

static void test_default_document(void **state)
{
    (void)state;
    struct vt_nsim_pki *pki = NULL;
    struct vt_sim_blob doc = {0};
    assert_true(vt_nsim_default(NOW, &pki, &doc));
    assert_non_null(pki);
    assert_true(well_formed(doc.data, doc.len, 0));
    /* NSM's envelope: 84 44 A1 01 38 22 A0 59 <len16>. */
    static const uint8_t head[] = {0x84, 0x44, 0xA1, 0x01, 0x38, 0x22, 0xA0, 0x59};
    assert_memory_equal(doc.data, head, sizeof(head));
    struct cose cs;
    decode_cose(doc.data, doc.len, &cs);
    assert_false(cs.tagged);
    assert_int_equal(cs.end, doc.len);
    assert_int_equal(cs.prot_len, 4);
    assert_int_equal(cs.unprot_len, 1);
    assert_int_equal(cs.unprot[0], 0xA0);
    assert_int_equal(cs.sig_len, 96);
    assert_true(cs.payload_len > 3000 && cs.payload_len < 16384);
    assert_true(doc.len < 20 * 1024);

    /* The signature verifies with the leaf certificate's key over the Sig_structure, and the
     * simulator's Sig_structure is byte-identical to the one built here. */
    assert_true(cose_verifies(&doc, X509_get0_pubkey(pki->cert[VT_NSIM_LEAF])));
    assert_false(cose_verifies(&doc, X509_get0_pubkey(pki->cert[VT_NSIM_INSTANCE])));
    size_t tbs_len;
    uint8_t *tbs = sig_structure(cs.prot, cs.prot_len, cs.payload, cs.payload_len, &tbs_len);
    struct vt_sim_blob sim_tbs = {0};
    assert_true(vt_nsim_sig_structure(cs.prot, cs.prot_len, cs.payload, cs.payload_len, &sim_tbs));
    assert_int_equal(sim_tbs.len, tbs_len);
    assert_memory_equal(sim_tbs.data, tbs, tbs_len);
    assert_true(vt_nsim_verify_es384(pki->key[VT_NSIM_LEAF], tbs, tbs_len, cs.sig));
    static const uint8_t tbs_head[] = {0x84, 0x6A, 'S',  'i',  'g',  'n',  'a',  't',  'u', 'r',
                                       'e',  '1',  0x44, 0xA1, 0x01, 0x38, 0x22, 0x40, 0x59};
    assert_memory_equal(tbs, tbs_head, sizeof(tbs_head));
    free(tbs);
    vt_sim_blob_cleanup(&sim_tbs);

    /* The payload: nine keys in NSM's order, definite-length map A9. */
    assert_true(well_formed(cs.payload, cs.payload_len, 0));
    assert_int_equal(cs.payload[0], 0xA9);
    struct pmap m;
    decode_map(cs.payload, cs.payload_len, &m);
    static const char *const order[] = {"module_id",  "digest",      "timestamp",
                                        "pcrs",       "certificate", "cabundle",
                                        "public_key", "user_data",   "nonce"};
    assert_int_equal(m.n, 9);
    for (size_t i = 0; i < 9; i++) {
        assert_string_equal(m.e[i].key, order[i]);
    }
    const uint8_t *p;
    size_t n;
    struct cur c = value_cur(cs.payload, find_key(&m, "module_id"));
    get_string(&c, 3, &p, &n);
    assert_int_equal(n, strlen(pki->module_id));
    assert_memory_equal(p, pki->module_id, n);
    c = value_cur(cs.payload, find_key(&m, "digest"));
    get_string(&c, 3, &p, &n);
    assert_int_equal(n, 6);
    assert_memory_equal(p, "SHA384", 6);
    /* timestamp: a uint in ms, 8-byte head (1B), leaf notBefore + 3 s. */
    c = value_cur(cs.payload, find_key(&m, "timestamp"));
    assert_int_equal(c.p[0], 0x1B);
    unsigned mt = 0, ai = 0;
    uint64_t ts;
    assert_true(rd_head(&c, &mt, &ai, &ts));
    assert_int_equal(mt, 0);
    assert_int_equal(ts, (uint64_t)(NOW - 600 + 3) * 1000u);
    /* pcrs: 16 entries 0..15 of 48 bytes, 0..4 non-zero, the rest zero. */
    c = value_cur(cs.payload, find_key(&m, "pcrs"));
    uint64_t cnt;
    assert_true(rd_head(&c, &mt, &ai, &cnt));
    assert_int_equal(mt, 5);
    assert_int_equal(cnt, 16);
    static const uint8_t zero[48] = {0};
    for (uint64_t i = 0; i < 16; i++) {
        uint64_t idx;
        assert_true(rd_head(&c, &mt, &ai, &idx));
        assert_int_equal(mt, 0);
        assert_int_equal(idx, i);
        get_string(&c, 2, &p, &n);
        assert_int_equal(n, 48);
        assert_int_equal(memcmp(p, zero, 48) != 0, i <= 4);
    }
    c = value_cur(cs.payload, find_key(&m, "certificate"));
    get_string(&c, 2, &p, &n);
    assert_bytes_equal_der(p, n, pki->cert[VT_NSIM_LEAF]);
    /* cabundle: root first, then regional, zonal, instance. */
    c = value_cur(cs.payload, find_key(&m, "cabundle"));
    assert_true(rd_head(&c, &mt, &ai, &cnt));
    assert_int_equal(mt, 4);
    assert_int_equal(cnt, 4);
    for (int i = 0; i < 4; i++) {
        get_string(&c, 2, &p, &n);
        assert_bytes_equal_der(p, n, pki->cert[i]);
    }
    static const char *const nulls[] = {"public_key", "user_data", "nonce"};
    for (size_t i = 0; i < 3; i++) {
        const struct map_entry *e = find_key(&m, nulls[i]);
        assert_non_null(e);
        assert_int_equal(e->val_end - e->val_off, 1);
        assert_int_equal(cs.payload[e->val_off], 0xF6);
    }
    /* The payload certificate chains (checked by X509_verify_cert on the PKI itself above). */
    assert_int_equal(chain_verify(pki, (vt_time)(ts / 1000), 0, NULL), X509_V_OK);
    assert_int_equal(chain_verify(pki, NOW, 0, NULL), X509_V_OK);

    vt_sim_blob_cleanup(&doc);
    vt_nsim_pki_free(pki);
}

static void test_layout(void **state)
{
    (void)state;
    struct vt_nsim_pki *pki = pki_with(NULL);
    struct vt_nsim_doc_params dp;
    vt_nsim_doc_params_default(&dp, pki);
    dp.tagged = true;
    dp.trailing = 3;
    struct vt_sim_blob doc = {0};
    struct vt_nsim_doc_layout lay;
    build_doc(pki, &dp, &doc, &lay);
    struct cose cs;
    decode_cose(doc.data, doc.len, &cs);
    assert_int_equal(doc.data[0], 0xD2);
    assert_true(cs.tagged);
    assert_int_equal(lay.protected_off, (size_t)(cs.prot - doc.data));
    assert_int_equal(lay.protected_len, cs.prot_len);
    assert_int_equal(lay.payload_off, (size_t)(cs.payload - doc.data));
    assert_int_equal(lay.payload_len, cs.payload_len);
    assert_int_equal(lay.sig_off, (size_t)(cs.sig - doc.data));
    assert_int_equal(lay.sig_len, 96);
    assert_int_equal(lay.cose_len, cs.end);
    assert_int_equal(lay.cose_len + 3, doc.len);
    assert_int_equal(lay.sig_off + 96, lay.cose_len);
    assert_true(well_formed(doc.data, doc.len, 3));
    assert_false(well_formed(doc.data, doc.len, 0));
    assert_true(cose_verifies(&doc, pki->key[VT_NSIM_LEAF]));

    /* The payload alone equals the bstr content of the document. */
    struct vt_sim_blob payload = {0};
    assert_true(vt_nsim_payload_build(pki, &dp, &payload));
    assert_int_equal(payload.len, lay.payload_len);
    assert_memory_equal(payload.data, doc.data + lay.payload_off, payload.len);
    vt_sim_blob_cleanup(&payload);
    vt_sim_blob_cleanup(&doc);

    /* The same PKI and params without the tag give the same bytes after the tag, except the
     * (randomised) signature. */
    struct vt_sim_blob plain = {0};
    struct vt_nsim_doc_layout lay2;
    dp.tagged = false;
    dp.trailing = 0;
    build_doc(pki, &dp, &plain, &lay2);
    assert_int_equal(lay2.cose_len + 1, lay.cose_len);
    assert_int_equal(lay2.payload_off + 1, lay.payload_off);
    assert_int_equal(plain.len, lay2.cose_len);
    vt_sim_blob_cleanup(&plain);
    vt_nsim_pki_free(pki);
}

static void test_encoding_knobs(void **state)
{
    (void)state;
    struct vt_nsim_pki *pki = pki_with(NULL);
    struct vt_nsim_doc_params dp;
    struct vt_sim_blob doc = {0};
    struct vt_nsim_doc_layout lay;
    struct pmap m;
    struct cose cs;
    unsigned mt = 0, ai = 0;
    uint64_t arg;
    const uint8_t *p;
    size_t n;
    EVP_PKEY *leaf = pki->key[VT_NSIM_LEAF];

    /* Indefinite-length payload map (the 2026 document), pcrs and cabundle as well. */
    vt_nsim_doc_params_default(&dp, pki);
    dp.indefinite_map = true;
    dp.indefinite_pcrs = true;
    dp.indefinite_cabundle = true;
    build_doc(pki, &dp, &doc, &lay);
    assert_true(well_formed(doc.data, doc.len, 0));
    decode_cose(doc.data, doc.len, &cs);
    assert_int_equal(cs.payload[0], 0xBF);
    assert_int_equal(cs.payload[cs.payload_len - 1], 0xFF);
    assert_true(well_formed(cs.payload, cs.payload_len, 0));
    decode_map(cs.payload, cs.payload_len, &m);
    assert_true(m.indefinite);
    assert_int_equal(m.n, 9);
    assert_int_equal(cs.payload[find_key(&m, "pcrs")->val_off], 0xBF);
    assert_int_equal(cs.payload[find_key(&m, "cabundle")->val_off], 0x9F);
    assert_true(cose_verifies(&doc, leaf));
    vt_sim_blob_cleanup(&doc);

    /* ... and without its break the payload is not well-formed (but still signed). */
    dp.no_break = true;
    build_doc(pki, &dp, &doc, &lay);
    decode_cose(doc.data, doc.len, &cs);
    assert_false(well_formed(cs.payload, cs.payload_len, 0));
    assert_true(cose_verifies(&doc, leaf));
    vt_sim_blob_cleanup(&doc);

    /* Indefinite COSE array. */
    vt_nsim_doc_params_default(&dp, pki);
    dp.indefinite_array = true;
    build_doc(pki, &dp, &doc, &lay);
    assert_int_equal(doc.data[0], 0x9F);
    assert_int_equal(doc.data[doc.len - 1], 0xFF);
    assert_true(well_formed(doc.data, doc.len, 0));
    assert_true(cose_verifies(&doc, leaf));
    vt_sim_blob_cleanup(&doc);

    /* Unknown key after timestamp; reverse order. */
    vt_nsim_doc_params_default(&dp, pki);
    dp.extra_key = true;
    build_doc(pki, &dp, &doc, &lay);
    decode_cose(doc.data, doc.len, &cs);
    assert_true(well_formed(cs.payload, cs.payload_len, 0));
    decode_map(cs.payload, cs.payload_len, &m);
    assert_int_equal(cs.payload[0], 0xAA);
    assert_int_equal(m.n, 10);
    assert_string_equal(m.e[3].key, "veritee_extra");
    assert_string_equal(m.e[4].key, "pcrs");
    assert_int_equal(cs.payload[m.e[3].val_off], 0xA3);
    vt_sim_blob_cleanup(&doc);
    static const uint8_t deep[] = {0x81, 0x81, 0x81, 0xF9, 0x3C, 0x00}; /* [[[1.0]]] */
    dp.extra_value = deep;
    dp.extra_value_len = sizeof(deep);
    dp.reverse_keys = true;
    build_doc(pki, &dp, &doc, &lay);
    decode_cose(doc.data, doc.len, &cs);
    decode_map(cs.payload, cs.payload_len, &m);
    assert_int_equal(m.n, 10);
    assert_string_equal(m.e[0].key, "nonce");
    assert_string_equal(m.e[8].key, "digest");
    assert_string_equal(m.e[9].key, "module_id");
    assert_string_equal(m.e[6].key, "veritee_extra");
    assert_int_equal(m.e[6].val_end - m.e[6].val_off, sizeof(deep));
    assert_memory_equal(cs.payload + m.e[6].val_off, deep, sizeof(deep));
    vt_sim_blob_cleanup(&doc);

    /* Duplicate, omitted and absent keys. */
    vt_nsim_doc_params_default(&dp, pki);
    dp.dup_keys = VT_NSIM_K_DIGEST | VT_NSIM_K_NONCE;
    dp.omit_keys = VT_NSIM_K_MODULE_ID;
    dp.user_data.kind = VT_NSIM_OPT_ABSENT;
    build_doc(pki, &dp, &doc, &lay);
    decode_cose(doc.data, doc.len, &cs);
    assert_true(well_formed(cs.payload, cs.payload_len, 0));
    decode_map(cs.payload, cs.payload_len, &m);
    assert_int_equal(m.n, 9);
    assert_int_equal(cs.payload[0], 0xA9);
    assert_string_equal(m.e[0].key, "digest");
    assert_string_equal(m.e[1].key, "digest");
    assert_string_equal(m.e[7].key, "nonce");
    assert_string_equal(m.e[8].key, "nonce");
    assert_null(find_key(&m, "module_id"));
    assert_null(find_key(&m, "user_data"));
    vt_sim_blob_cleanup(&doc);

    /* Wrong types. */
    vt_nsim_doc_params_default(&dp, pki);
    dp.wrong_type_keys = VT_NSIM_K_MODULE_ID | VT_NSIM_K_DIGEST | VT_NSIM_K_TIMESTAMP |
                         VT_NSIM_K_PCRS | VT_NSIM_K_CERTIFICATE | VT_NSIM_K_CABUNDLE |
                         VT_NSIM_K_PUBLIC_KEY | VT_NSIM_K_USER_DATA | VT_NSIM_K_NONCE;
    build_doc(pki, &dp, &doc, &lay);
    decode_cose(doc.data, doc.len, &cs);
    assert_true(well_formed(cs.payload, cs.payload_len, 0));
    decode_map(cs.payload, cs.payload_len, &m);
    static const struct {
        const char *key;
        unsigned mt;
    } types[] = {{"module_id", 2},  {"digest", 2},      {"timestamp", 1},
                 {"pcrs", 4},       {"certificate", 3}, {"cabundle", 5},
                 {"public_key", 3}, {"user_data", 3},   {"nonce", 3}};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        struct cur c = value_cur(cs.payload, find_key(&m, types[i].key));
        assert_true(rd_head(&c, &mt, &ai, &arg));
        assert_int_equal(mt, types[i].mt);
    }
    vt_sim_blob_cleanup(&doc);

    /* Optional fields with bytes (including empty), module_id and digest overrides. */
    static const uint8_t nonce[256] = {1, 2, 3};
    vt_nsim_doc_params_default(&dp, pki);
    dp.nonce.kind = VT_NSIM_OPT_BYTES;
    dp.nonce.data = nonce;
    dp.nonce.len = sizeof(nonce);
    dp.user_data.kind = VT_NSIM_OPT_BYTES;
    dp.user_data.len = 0;
    dp.public_key.kind = VT_NSIM_OPT_BYTES;
    dp.public_key.data = (const uint8_t *)"key";
    dp.public_key.len = 3;
    dp.module_id = "i-abc-enc-def";
    dp.module_id_len = 5;
    dp.digest = "SHA256";
    build_doc(pki, &dp, &doc, &lay);
    decode_cose(doc.data, doc.len, &cs);
    decode_map(cs.payload, cs.payload_len, &m);
    struct cur c = value_cur(cs.payload, find_key(&m, "nonce"));
    get_string(&c, 2, &p, &n);
    assert_int_equal(n, 256);
    assert_memory_equal(p, nonce, 256);
    c = value_cur(cs.payload, find_key(&m, "user_data"));
    get_string(&c, 2, &p, &n);
    assert_int_equal(n, 0);
    c = value_cur(cs.payload, find_key(&m, "public_key"));
    get_string(&c, 2, &p, &n);
    assert_int_equal(n, 3);
    c = value_cur(cs.payload, find_key(&m, "module_id"));
    get_string(&c, 3, &p, &n);
    assert_int_equal(n, 5);
    assert_memory_equal(p, "i-abc", 5);
    c = value_cur(cs.payload, find_key(&m, "digest"));
    get_string(&c, 3, &p, &n);
    assert_memory_equal(p, "SHA256", 6);
    assert_true(cose_verifies(&doc, leaf));
    vt_sim_blob_cleanup(&doc);
    dp.module_id_empty = true;
    build_doc(pki, &dp, &doc, &lay);
    decode_cose(doc.data, doc.len, &cs);
    decode_map(cs.payload, cs.payload_len, &m);
    assert_int_equal(cs.payload[find_key(&m, "module_id")->val_off], 0x60);
    vt_sim_blob_cleanup(&doc);

    /* Payload trailing bytes sit inside the signed payload. */
    vt_nsim_doc_params_default(&dp, pki);
    dp.payload_trailing = 2;
    build_doc(pki, &dp, &doc, &lay);
    decode_cose(doc.data, doc.len, &cs);
    assert_true(well_formed(doc.data, doc.len, 0));
    assert_true(well_formed(cs.payload, cs.payload_len, 2));
    assert_true(cose_verifies(&doc, leaf));
    vt_sim_blob_cleanup(&doc);

    /* Header overrides: protected {1: -7} and a non-empty unprotected map; the signature covers
     * the protected bytes as written. */
    static const uint8_t es256[] = {0xA1, 0x01, 0x26};
    static const uint8_t unprot[] = {0xA1, 0x04, 0x42, 0xAB, 0xCD};
    vt_nsim_doc_params_default(&dp, pki);
    dp.protected_hdr = es256;
    dp.protected_len = sizeof(es256);
    dp.unprotected = unprot;
    dp.unprotected_len = sizeof(unprot);
    build_doc(pki, &dp, &doc, &lay);
    decode_cose(doc.data, doc.len, &cs);
    assert_int_equal(cs.prot_len, 3);
    assert_memory_equal(cs.prot, es256, 3);
    assert_int_equal(cs.unprot_len, sizeof(unprot));
    assert_memory_equal(cs.unprot, unprot, sizeof(unprot));
    assert_true(cose_verifies(&doc, leaf));
    vt_sim_blob_cleanup(&doc);

    /* A whole payload override is signed as given. */
    static const uint8_t raw_payload[] = {0xA1, 0x61, 'x', 0x01};
    vt_nsim_doc_params_default(&dp, pki);
    dp.payload_override = raw_payload;
    dp.payload_override_len = sizeof(raw_payload);
    build_doc(pki, &dp, &doc, &lay);
    decode_cose(doc.data, doc.len, &cs);
    assert_int_equal(cs.payload_len, sizeof(raw_payload));
    assert_memory_equal(cs.payload, raw_payload, sizeof(raw_payload));
    assert_int_equal(doc.data[lay.payload_off - 1], 0x44);
    assert_true(cose_verifies(&doc, leaf));
    vt_sim_blob_cleanup(&doc);

    vt_nsim_pki_free(pki);
}

static void test_pcr_and_cabundle_knobs(void **state)
{
    (void)state;
    struct vt_nsim_pki *pki = pki_with(NULL);
    struct vt_nsim_pki *other = pki_with(NULL);
    struct vt_nsim_doc_params dp;
    struct vt_sim_blob doc = {0};
    struct vt_nsim_doc_layout lay;
    struct pmap m;
    struct cose cs;
    unsigned mt = 0, ai = 0;
    uint64_t arg;
    const uint8_t *p;
    size_t n;

    /* 33 PCRs with indexes 0..31 and 40, lengths 32/64/65, in the given order. */
    vt_nsim_doc_params_default(&dp, pki);
    dp.n_pcrs = 33;
    for (size_t i = 0; i < 33; i++) {
        dp.pcrs[i].index = i == 32 ? 40 : 31 - i;
        dp.pcrs[i].len = i == 0 ? 32 : i == 1 ? 64 : i == 2 ? 65 : 48;
        memset(dp.pcrs[i].value, (int)i, sizeof(dp.pcrs[i].value));
    }
    build_doc(pki, &dp, &doc, &lay);
    decode_cose(doc.data, doc.len, &cs);
    decode_map(cs.payload, cs.payload_len, &m);
    struct cur c = value_cur(cs.payload, find_key(&m, "pcrs"));
    assert_true(rd_head(&c, &mt, &ai, &arg));
    assert_int_equal(arg, 33);
    for (size_t i = 0; i < 33; i++) {
        uint64_t idx;
        assert_true(rd_head(&c, &mt, &ai, &idx));
        assert_int_equal(idx, dp.pcrs[i].index);
        get_string(&c, 2, &p, &n);
        assert_int_equal(n, dp.pcrs[i].len);
        assert_int_equal(p[0], i);
    }
    vt_sim_blob_cleanup(&doc);

    /* Debug mode: PCR0/1/2/8 zero, PCR3/4 still set. */
    vt_nsim_doc_params_default(&dp, pki);
    vt_nsim_doc_params_debug(&dp);
    static const uint8_t zero[48] = {0};
    for (size_t i = 0; i < 16; i++) {
        bool is_zero = memcmp(dp.pcrs[i].value, zero, 48) == 0;
        assert_int_equal(is_zero, !(i == 3 || i == 4));
    }

    /* A duplicate PCR index. */
    vt_nsim_doc_params_default(&dp, pki);
    dp.pcrs[5].index = 4;
    build_doc(pki, &dp, &doc, &lay);
    decode_cose(doc.data, doc.len, &cs);
    assert_true(well_formed(cs.payload, cs.payload_len, 0));
    vt_sim_blob_cleanup(&doc);

    /* cabundle: reordered, shortened, with a foreign root as raw bytes, a leaf override. */
    size_t foreign_len;
    uint8_t *foreign = der_of(other->cert[VT_NSIM_ROOT], &foreign_len);
    vt_nsim_doc_params_default(&dp, pki);
    dp.n_cabundle = 3;
    dp.cabundle[0].der = foreign;
    dp.cabundle[0].len = foreign_len;
    dp.cabundle[1].level = VT_NSIM_ZONAL;
    dp.cabundle[2].level = VT_NSIM_REGIONAL;
    dp.certificate = foreign;
    dp.certificate_len = foreign_len;
    build_doc(pki, &dp, &doc, &lay);
    decode_cose(doc.data, doc.len, &cs);
    decode_map(cs.payload, cs.payload_len, &m);
    c = value_cur(cs.payload, find_key(&m, "cabundle"));
    assert_true(rd_head(&c, &mt, &ai, &arg));
    assert_int_equal(arg, 3);
    get_string(&c, 2, &p, &n);
    assert_bytes_equal_der(p, n, other->cert[VT_NSIM_ROOT]);
    get_string(&c, 2, &p, &n);
    assert_bytes_equal_der(p, n, pki->cert[VT_NSIM_ZONAL]);
    get_string(&c, 2, &p, &n);
    assert_bytes_equal_der(p, n, pki->cert[VT_NSIM_REGIONAL]);
    c = value_cur(cs.payload, find_key(&m, "certificate"));
    get_string(&c, 2, &p, &n);
    assert_bytes_equal_der(p, n, other->cert[VT_NSIM_ROOT]);
    vt_sim_blob_cleanup(&doc);

    /* Twelve entries (over veritee's limit of 8) and an empty bundle. */
    vt_nsim_doc_params_default(&dp, pki);
    dp.n_cabundle = VT_NSIM_MAX_CABUNDLE;
    for (size_t i = 0; i < VT_NSIM_MAX_CABUNDLE; i++) {
        dp.cabundle[i].level = (enum vt_nsim_level)(i % 4);
    }
    build_doc(pki, &dp, &doc, &lay);
    decode_cose(doc.data, doc.len, &cs);
    decode_map(cs.payload, cs.payload_len, &m);
    c = value_cur(cs.payload, find_key(&m, "cabundle"));
    assert_true(rd_head(&c, &mt, &ai, &arg));
    assert_int_equal(arg, 12);
    vt_sim_blob_cleanup(&doc);
    dp.n_cabundle = 0;
    build_doc(pki, &dp, &doc, &lay);
    decode_cose(doc.data, doc.len, &cs);
    decode_map(cs.payload, cs.payload_len, &m);
    assert_int_equal(cs.payload[find_key(&m, "cabundle")->val_off], 0x80);
    vt_sim_blob_cleanup(&doc);

    /* Out-of-range parameters are refused rather than overflowing. */
    vt_nsim_doc_params_default(&dp, pki);
    dp.n_pcrs = VT_NSIM_MAX_PCRS + 1;
    assert_false(vt_nsim_doc_build(pki, &dp, &doc, &lay));
    assert_null(doc.data);
    vt_nsim_doc_params_default(&dp, pki);
    dp.pcrs[0].len = VT_NSIM_PCR_MAX_LEN + 1;
    assert_false(vt_nsim_doc_build(pki, &dp, &doc, NULL));
    vt_nsim_doc_params_default(&dp, pki);
    dp.n_cabundle = VT_NSIM_MAX_CABUNDLE + 1;
    assert_false(vt_nsim_doc_build(pki, &dp, &doc, NULL));
    assert_null(doc.data);

    OPENSSL_free(foreign);
    vt_nsim_pki_free(other);
    vt_nsim_pki_free(pki);
}

static void test_signature_defects(void **state)
{
    (void)state;
    struct vt_nsim_pki *pki = pki_with(NULL);
    EVP_PKEY *leaf = X509_get0_pubkey(pki->cert[VT_NSIM_LEAF]);
    struct vt_nsim_doc_params dp;
    struct vt_sim_blob doc = {0};
    struct vt_nsim_doc_layout lay;
    struct cose cs;
    vt_nsim_doc_params_default(&dp, pki);

    dp.sig_defect = VT_NSIM_SIG_OK;
    build_doc(pki, &dp, &doc, &lay);
    assert_true(cose_verifies(&doc, leaf));
    vt_sim_blob_cleanup(&doc);

    dp.sig_defect = VT_NSIM_SIG_WRONG_KEY;
    build_doc(pki, &dp, &doc, &lay);
    assert_int_equal(lay.sig_len, 96);
    assert_false(cose_verifies(&doc, leaf));
    assert_true(cose_verifies(&doc, pki->unrelated_key));
    vt_sim_blob_cleanup(&doc);

    dp.sig_defect = VT_NSIM_SIG_FLIP;
    build_doc(pki, &dp, &doc, &lay);
    assert_int_equal(lay.sig_len, 96);
    assert_false(cose_verifies(&doc, leaf));
    doc.data[lay.sig_off + 10] ^= 0x01; /* undo: it was exactly that bit */
    assert_true(cose_verifies(&doc, leaf));
    vt_sim_blob_cleanup(&doc);

    dp.sig_defect = VT_NSIM_SIG_SHORT;
    build_doc(pki, &dp, &doc, &lay);
    decode_cose(doc.data, doc.len, &cs);
    assert_int_equal(cs.sig_len, 95);
    assert_int_equal(doc.data[lay.sig_off - 2], 0x58);
    assert_int_equal(doc.data[lay.sig_off - 1], 95);
    assert_true(well_formed(doc.data, doc.len, 0));
    vt_sim_blob_cleanup(&doc);

    dp.sig_defect = VT_NSIM_SIG_LONG;
    build_doc(pki, &dp, &doc, &lay);
    decode_cose(doc.data, doc.len, &cs);
    assert_int_equal(cs.sig_len, 97);
    vt_sim_blob_cleanup(&doc);

    /* The malleable twin (r, n - s) still verifies and differs from the signature. */
    dp.sig_defect = VT_NSIM_SIG_HIGH_S;
    build_doc(pki, &dp, &doc, &lay);
    assert_true(cose_verifies(&doc, leaf));
    decode_cose(doc.data, doc.len, &cs);
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_secp384r1);
    BIGNUM *s = BN_bin2bn(cs.sig + 48, 48, NULL);
    BIGNUM *twin = BN_new();
    assert_non_null(g);
    assert_non_null(s);
    assert_non_null(twin);
    assert_int_equal(BN_sub(twin, EC_GROUP_get0_order(g), s), 1);
    uint8_t orig[96];
    memcpy(orig, cs.sig, 48);
    assert_int_equal(BN_bn2binpad(twin, orig + 48, 48), 48);
    assert_memory_not_equal(orig, cs.sig, 96);
    memcpy(doc.data + lay.sig_off, orig, 96);
    assert_true(cose_verifies(&doc, leaf)); /* n - (n - s) = s: the original also verifies */
    BN_free(s);
    BN_free(twin);
    EC_GROUP_free(g);
    vt_sim_blob_cleanup(&doc);

    dp.sig_defect = VT_NSIM_SIG_ZERO;
    build_doc(pki, &dp, &doc, &lay);
    static const uint8_t zero[96] = {0};
    assert_int_equal(lay.sig_len, 96);
    assert_memory_equal(doc.data + lay.sig_off, zero, 96);
    assert_false(cose_verifies(&doc, leaf));
    vt_sim_blob_cleanup(&doc);

    /* DER instead of raw: a SEQUENCE that verifies as DER over the Sig_structure. */
    dp.sig_defect = VT_NSIM_SIG_DER;
    build_doc(pki, &dp, &doc, &lay);
    decode_cose(doc.data, doc.len, &cs);
    assert_int_equal(cs.sig[0], 0x30);
    assert_true(cs.sig_len >= 8 && cs.sig_len <= 104 && cs.sig_len != 96);
    size_t tbs_len;
    uint8_t *tbs = sig_structure(cs.prot, cs.prot_len, cs.payload, cs.payload_len, &tbs_len);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha384(), NULL, leaf), 1);
    assert_int_equal(EVP_DigestVerify(ctx, cs.sig, cs.sig_len, tbs, tbs_len), 1);
    EVP_MD_CTX_free(ctx);
    free(tbs);
    vt_sim_blob_cleanup(&doc);

    /* Signed over the bare payload: fails over the Sig_structure, verifies over the payload. */
    dp.sig_defect = VT_NSIM_SIG_RAW_PAYLOAD;
    build_doc(pki, &dp, &doc, &lay);
    assert_false(cose_verifies(&doc, leaf));
    decode_cose(doc.data, doc.len, &cs);
    assert_true(raw_verify(leaf, cs.payload, cs.payload_len, cs.sig, cs.sig_len));
    vt_sim_blob_cleanup(&doc);

    /* Another signer: the instance key. */
    dp.sig_defect = VT_NSIM_SIG_OK;
    dp.signer = pki->key[VT_NSIM_INSTANCE];
    build_doc(pki, &dp, &doc, &lay);
    assert_false(cose_verifies(&doc, leaf));
    assert_true(cose_verifies(&doc, X509_get0_pubkey(pki->cert[VT_NSIM_INSTANCE])));
    vt_sim_blob_cleanup(&doc);

    vt_nsim_pki_free(pki);
}

static void test_p256_leaf_document(void **state)
{
    (void)state;
    struct vt_nsim_pki *pki = pki_with(tweak_leaf_p256);
    struct vt_nsim_doc_params dp;
    struct vt_sim_blob doc = {0};
    struct vt_nsim_doc_layout lay;
    vt_nsim_doc_params_default(&dp, pki);
    build_doc(pki, &dp, &doc, &lay);
    /* Still 96 bytes: r and s left-padded to 48; verifies with the P-256 leaf key. */
    assert_int_equal(lay.sig_len, 96);
    static const uint8_t zero[16] = {0};
    assert_memory_equal(doc.data + lay.sig_off, zero, 16);
    assert_memory_equal(doc.data + lay.sig_off + 48, zero, 16);
    assert_true(cose_verifies(&doc, X509_get0_pubkey(pki->cert[VT_NSIM_LEAF])));
    assert_int_equal(chain_verify(pki, NOW, 0, NULL), X509_V_OK);
    vt_sim_blob_cleanup(&doc);
    vt_nsim_pki_free(pki);
}

static void test_sign_verify_es384(void **state)
{
    (void)state;
    struct vt_nsim_pki *pki = pki_with(NULL);
    uint8_t sig[96];
    static const char msg[] = "veritee";
    assert_true(vt_nsim_sign_es384(pki->key[VT_NSIM_LEAF], msg, 7, sig));
    assert_true(vt_nsim_verify_es384(pki->key[VT_NSIM_LEAF], msg, 7, sig));
    assert_true(raw_verify(pki->key[VT_NSIM_LEAF], (const uint8_t *)msg, 7, sig, 96));
    assert_false(vt_nsim_verify_es384(pki->key[VT_NSIM_LEAF], msg, 6, sig));
    assert_false(vt_nsim_verify_es384(pki->unrelated_key, msg, 7, sig));
    sig[95] ^= 0x80;
    assert_false(vt_nsim_verify_es384(pki->key[VT_NSIM_LEAF], msg, 7, sig));
    vt_nsim_pki_free(pki);
}

static uint8_t *read_back(const char *dir, const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    uint8_t *p = vt_test_read_file(path, len);
    assert_non_null(p);
    assert_int_equal(unlink(path), 0);
    return p;
}

static void test_write_dir(void **state)
{
    (void)state;
    struct vt_nsim_pki *pki = NULL;
    struct vt_sim_blob doc = {0};
    assert_true(vt_nsim_default(NOW, &pki, &doc));
    char dir[] = "/tmp/vt_nsim_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[64];
    snprintf(sub, sizeof(sub), "%s/out", dir);
    assert_true(vt_nsim_write_dir(pki, &doc, sub));
    assert_true(vt_nsim_write_dir(pki, &doc, sub)); /* existing directory is fine */

    size_t n;
    uint8_t *p = read_back(sub, "doc.cose", &n);
    assert_int_equal(n, doc.len);
    assert_memory_equal(p, doc.data, n);
    free(p);
    p = read_back(sub, "root.der", &n);
    assert_bytes_equal_der(p, n, pki->cert[VT_NSIM_ROOT]);
    free(p);
    p = read_back(sub, "root.pem", &n);
    BIO *bio = BIO_new_mem_buf(p, (int)n);
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    assert_non_null(x);
    assert_int_equal(X509_cmp(x, pki->cert[VT_NSIM_ROOT]), 0);
    X509_free(x);
    BIO_free(bio);
    free(p);
    assert_int_equal(rmdir(sub), 0);
    assert_int_equal(rmdir(dir), 0);

    /* An unwritable place fails cleanly. */
    assert_false(vt_nsim_write_dir(pki, &doc, "/proc/vt_nsim_nope/x"));
    vt_sim_blob_cleanup(&doc);
    vt_nsim_pki_free(pki);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cbor_encoder),
        cmocka_unit_test(test_default_chain_verifies),
        cmocka_unit_test(test_default_shape),
        cmocka_unit_test(test_pki_knobs),
        cmocka_unit_test(test_cert_export),
        cmocka_unit_test(test_default_document),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_encoding_knobs),
        cmocka_unit_test(test_pcr_and_cabundle_knobs),
        cmocka_unit_test(test_signature_defects),
        cmocka_unit_test(test_p256_leaf_document),
        cmocka_unit_test(test_sign_verify_es384),
        cmocka_unit_test(test_write_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
