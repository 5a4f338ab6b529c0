/*
 * The synthetic Intel DCAP generator (see dcap_sim.h). Layouts per shared/spec/dcap.md:
 *
 *   quote v3:  header(48) | SGX report(384) | u32 sig_len | sig(64) key(64) QE report(384)
 *              QE sig(64) u16 N auth[N] u16 cert_type u32 M cert[M]
 *   quote v4:  header(48) | body(384 or 584) | u32 sig_len | sig(64) key(64) u16 6 u32 size
 *              [QE report(384) QE sig(64) u16 N auth[N] u16 cert_type u32 M cert[M]]
 *   quote v5:  header(48) | u16 body_type u32 body_size body | as v4 from sig_len on
 *
 *   SGX extension: SEQUENCE { SEQUENCE { OID 1.2.840.113741.1.13.1.n, value } ... }
 *
 * Nothing here is derived from real fixture bytes; only Intel's published constants (QE
 * MRSIGNERs, QE vendor ID, QE identity masks) are used.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "dcap_sim.h"

const uint8_t vt_sim_qe_mrsigner_sgx[32] = {
    0x8C, 0x4F, 0x57, 0x75, 0xD7, 0x96, 0x50, 0x3E, 0x96, 0x13, 0x7F, 0x77, 0xC6, 0x8A, 0x82, 0x9A,
    0x00, 0x56, 0xAC, 0x8D, 0xED, 0x70, 0x14, 0x0B, 0x08, 0x1B, 0x09, 0x44, 0x90, 0xC5, 0x7B, 0xFF};
const uint8_t vt_sim_qe_mrsigner_tdx[32] = {
    0xDC, 0x9E, 0x2A, 0x7C, 0x6F, 0x94, 0x8F, 0x17, 0x47, 0x4E, 0x34, 0xA7, 0xFC, 0x43, 0xED, 0x03,
    0x0F, 0x7C, 0x15, 0x63, 0xF1, 0xBA, 0xBD, 0xDF, 0x63, 0x40, 0xC8, 0x2E, 0x0E, 0x54, 0xA8, 0xC5};

static const uint8_t intel_qe_vendor_id[16] = {0x93, 0x9A, 0x72, 0x33, 0xF7, 0x9C, 0x4C, 0xA9,
                                               0x94, 0x0A, 0x0D, 0xB3, 0x95, 0x7F, 0x06, 0x07};

#define SIM_ORG "Veritee Test PKI"
#define SIM_ROOT_CRL_URL "https://certificates.veritee.test/TestSGXRootCA.der"
#define SIM_PCK_CRL_URL_FMT                                                                        \
    "https://pcs.veritee.test/sgx/certification/v4/pckcrl?ca=%s&encoding=der"

static void sim_report_openssl(const char *what)
{
    fprintf(stderr, "dcap_sim: %s failed\n", what);
    ERR_print_errors_fp(stderr);
}

/* ---- growable buffer ---- */

struct sbuf {
    uint8_t *p;
    size_t len, cap;
    bool failed;
};

static void sbuf_reserve(struct sbuf *b, size_t more)
{
    if (b->failed) {
        return;
    }
    if (b->len + more + 1 <= b->cap) {
        return;
    }
    size_t cap = b->cap == 0 ? 256 : b->cap;
    while (cap < b->len + more + 1) {
        cap *= 2;
    }
    uint8_t *np = realloc(b->p, cap);
    if (np == NULL) {
        b->failed = true;
        return;
    }
    b->p = np;
    b->cap = cap;
}

static void sbuf_put(struct sbuf *b, const void *p, size_t n)
{
    sbuf_reserve(b, n);
    if (b->failed) {
        return;
    }
    if (n > 0) {
        memcpy(b->p + b->len, p, n);
    }
    b->len += n;
    b->p[b->len] = 0;
}

static void sbuf_byte(struct sbuf *b, uint8_t v)
{
    sbuf_put(b, &v, 1);
}

static void sbuf_zeros(struct sbuf *b, size_t n)
{
    sbuf_reserve(b, n);
    if (b->failed) {
        return;
    }
    memset(b->p + b->len, 0, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sbuf_u16le(struct sbuf *b, uint16_t v)
{
    uint8_t t[2] = {(uint8_t)(v & 0xff), (uint8_t)(v >> 8)};
    sbuf_put(b, t, 2);
}

static void sbuf_u32le(struct sbuf *b, uint32_t v)
{
    uint8_t t[4] = {(uint8_t)(v & 0xff), (uint8_t)((v >> 8) & 0xff), (uint8_t)((v >> 16) & 0xff),
                    (uint8_t)(v >> 24)};
    sbuf_put(b, t, 4);
}

static void sbuf_str(struct sbuf *b, const char *s)
{
    sbuf_put(b, s, strlen(s));
}

static void sbuf_printf(struct sbuf *b, const char *fmt, ...) VT_PRINTF(2, 3);

static void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    sbuf_reserve(b, (size_t)n);
    if (b->failed) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void sbuf_hex(struct sbuf *b, const uint8_t *p, size_t n, bool lower)
{
    const char *digits = lower ? "0123456789abcdef" : "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        char t[2] = {digits[p[i] >> 4], digits[p[i] & 15]};
        sbuf_put(b, t, 2);
    }
}

/* Hand the buffer to a blob (an empty buffer still gets a NUL-terminated allocation). */
static bool sbuf_finish(struct sbuf *b, struct vt_sim_blob *out)
{
    sbuf_reserve(b, 0);
    if (b->failed) {
        free(b->p);
        memset(b, 0, sizeof(*b));
        fprintf(stderr, "dcap_sim: out of memory\n");
        return false;
    }
    b->p[b->len] = 0;
    out->data = b->p;
    out->len = b->len;
    memset(b, 0, sizeof(*b));
    return true;
}

static void sbuf_discard(struct sbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

void vt_sim_blob_cleanup(struct vt_sim_blob *b)
{
    if (b == NULL) {
        return;
    }
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

static bool blob_copy(struct vt_sim_blob *out, const struct vt_sim_blob *in)
{
    struct sbuf b = {0};
    sbuf_put(&b, in->data, in->len);
    return sbuf_finish(&b, out);
}

/* ---- time ---- */

static void iso8601(vt_time t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(out, 32, "1970-01-01T00:00:00Z");
    }
}

/* ---- DER for the SGX extension ---- */

static void der_len(struct sbuf *b, size_t n)
{
    if (n < 0x80) {
        sbuf_byte(b, (uint8_t)n);
    } else if (n < 0x100) {
        sbuf_byte(b, 0x81);
        sbuf_byte(b, (uint8_t)n);
    } else {
        sbuf_byte(b, 0x82);
        sbuf_byte(b, (uint8_t)(n >> 8));
        sbuf_byte(b, (uint8_t)(n & 0xff));
    }
}

static void der_tlv(struct sbuf *b, uint8_t tag, const uint8_t *content, size_t n)
{
    sbuf_byte(b, tag);
    der_len(b, n);
    sbuf_put(b, content, n);
}

/* Wrap the contents of `inner` as a constructed SEQUENCE appended to b; inner is consumed. */
static void der_seq_wrap(struct sbuf *b, struct sbuf *inner)
{
    if (inner->failed) {
        b->failed = true;
    }
    der_tlv(b, 0x30, inner->p, inner->len);
    sbuf_discard(inner);
}

/* OID 1.2.840.113741.1.13.1[.a1[.a2]] (arcs < 128; a2 < 0 means absent). */
static void der_sgx_oid(struct sbuf *b, int a1, int a2)
{
    static const uint8_t base[] = {0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01};
    uint8_t oid[sizeof(base) + 2];
    size_t n = sizeof(base);
    memcpy(oid, base, n);
    oid[n++] = (uint8_t)a1;
    if (a2 >= 0) {
        oid[n++] = (uint8_t)a2;
    }
    der_tlv(b, 0x06, oid, n);
}

static void der_uint(struct sbuf *b, uint8_t tag, unsigned v)
{
    uint8_t t[5];
    size_t n = 0;
    uint8_t be[4] = {(uint8_t)(v >> 24), (uint8_t)((v >> 16) & 0xff), (uint8_t)((v >> 8) & 0xff),
                     (uint8_t)(v & 0xff)};
    size_t i = 0;
    while (i < 3 && be[i] == 0) {
        i++;
    }
    if (be[i] & 0x80) {
        t[n++] = 0;
    }
    for (; i < 4; i++) {
        t[n++] = be[i];
    }
    der_tlv(b, tag, t, n);
}

/* SEQUENCE { OID ...13.1.a1[.a2], <value already DER-encoded in val> } */
static void der_pair(struct sbuf *b, int a1, int a2, struct sbuf *val)
{
    struct sbuf s = {0};
    der_sgx_oid(&s, a1, a2);
    if (val->failed) {
        s.failed = true;
    }
    sbuf_put(&s, val->p, val->len);
    sbuf_discard(val);
    der_seq_wrap(b, &s);
}

static void der_pair_octets(struct sbuf *b, int a1, int a2, const uint8_t *p, size_t n)
{
    struct sbuf v = {0};
    der_tlv(&v, 0x04, p, n);
    der_pair(b, a1, a2, &v);
}

static void der_pair_uint(struct sbuf *b, int a1, int a2, uint8_t tag, unsigned x)
{
    struct sbuf v = {0};
    der_uint(&v, tag, x);
    der_pair(b, a1, a2, &v);
}

static void der_pair_bool(struct sbuf *b, int a1, int a2, bool x)
{
    uint8_t c = x ? 0xFF : 0x00;
    struct sbuf v = {0};
    der_tlv(&v, 0x01, &c, 1);
    der_pair(b, a1, a2, &v);
}

bool vt_sim_pck_ext_der(const struct vt_sim_pck_params *p, struct vt_sim_blob *out)
{
    struct sbuf top = {0};
    if (p->ext_override != NULL) {
        sbuf_put(&top, p->ext_override, p->ext_override_len);
        return sbuf_finish(&top, out);
    }
    unsigned d = p->ext_defects;
    struct sbuf seq = {0};

    der_pair_octets(&seq, 1, -1, p->ppid, (d & VT_SIM_EXT_SHORT_PPID) ? 15 : 16);

    struct sbuf tcb = {0};
    for (int i = 0; i < 16; i++) {
        unsigned svn = p->tcb_comps[i];
        if (i == 0 && (d & VT_SIM_EXT_SVN_OVER_255)) {
            svn = 256;
        }
        der_pair_uint(&tcb, 2, i + 1, 0x02, svn);
    }
    der_pair_uint(&tcb, 2, 17, 0x02, p->pcesvn);
    if (!(d & VT_SIM_EXT_TCB_NO_CPUSVN)) {
        der_pair_octets(&tcb, 2, 18, p->cpusvn, 16);
    }
    struct sbuf tcbseq = {0};
    der_seq_wrap(&tcbseq, &tcb);
    der_pair(&seq, 2, -1, &tcbseq);

    if (!(d & VT_SIM_EXT_DROP_PCEID)) {
        der_pair_octets(&seq, 3, -1, p->pceid, 2);
    }
    int fmspc_arc = (d & VT_SIM_EXT_UNKNOWN_OID) ? 99 : 4;
    size_t fmspc_len = (d & VT_SIM_EXT_SHORT_FMSPC) ? 5 : 6;
    der_pair_octets(&seq, fmspc_arc, -1, p->fmspc, fmspc_len);
    if (d & VT_SIM_EXT_DUP_FMSPC) {
        der_pair_octets(&seq, 4, -1, p->fmspc, fmspc_len);
    }
    der_pair_uint(&seq, 5, -1, (d & VT_SIM_EXT_SGXTYPE_INTEGER) ? 0x02 : 0x0A,
                  (unsigned)p->sgx_type);
    if (p->platform) {
        der_pair_octets(&seq, 6, -1, p->platform_instance_id, 16);
        struct sbuf cfg = {0};
        der_pair_bool(&cfg, 7, 1, p->dynamic_platform);
        der_pair_bool(&cfg, 7, 2, p->cached_keys);
        der_pair_bool(&cfg, 7, 3, p->smt_enabled);
        struct sbuf cfgseq = {0};
        der_seq_wrap(&cfgseq, &cfg);
        der_pair(&seq, 7, -1, &cfgseq);
    }
    der_seq_wrap(&top, &seq);
    if (d & VT_SIM_EXT_TRAILING_BYTE) {
        sbuf_byte(&top, 0);
    }
    return sbuf_finish(&top, out);
}

/* ---- raw ECDSA ---- */

bool vt_sim_sign_raw(EVP_PKEY *key, const void *msg, size_t len, uint8_t sig[64])
{
    bool ok = false;
    uint8_t der[80];
    size_t der_len_out = sizeof(der);
    ECDSA_SIG *es = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(ctx, der, &der_len_out, msg, len) != 1) {
        sim_report_openssl("ECDSA sign");
        goto out;
    }
    const unsigned char *pp = der;
    es = d2i_ECDSA_SIG(NULL, &pp, (long)der_len_out);
    if (es == NULL) {
        sim_report_openssl("d2i_ECDSA_SIG");
        goto out;
    }
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_bn2binpad(r, sig, 32) != 32 || BN_bn2binpad(s, sig + 32, 32) != 32) {
        sim_report_openssl("BN_bn2binpad");
        goto out;
    }
    ok = true;
out:
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(ctx);
    return ok;
}

static EVP_PKEY *pkey_from_xy(const uint8_t xy[64])
{
    uint8_t point[65];
    char group[] = "prime256v1";
    point[0] = 0x04;
    memcpy(point + 1, xy, 64);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (pc == NULL || EVP_PKEY_fromdata_init(pc) != 1 ||
        EVP_PKEY_fromdata(pc, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(pc);
    ERR_clear_error();
    return pkey;
}

bool vt_sim_verify_raw(const uint8_t xy[64], const void *msg, size_t len, const uint8_t sig[64])
{
    bool ok = false;
    unsigned char *der = NULL;
    EVP_MD_CTX *ctx = NULL;
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    EVP_PKEY *pkey = pkey_from_xy(xy);
    if (pkey == NULL) {
        goto out;
    }
    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, 32, NULL);
    s = BN_bin2bn(sig + 32, 32, NULL);
    if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
        goto out;
    }
    r = s = NULL; /* owned by es now */
    int der_n = i2d_ECDSA_SIG(es, &der);
    if (der_n <= 0) {
        goto out;
    }
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1) {
        goto out;
    }
    ok = EVP_DigestVerify(ctx, der, (size_t)der_n, msg, len) == 1;
out:
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    EVP_PKEY_free(pkey);
    return ok;
}

bool vt_sim_pubkey_xy(EVP_PKEY *key, uint8_t xy[64])
{
    uint8_t point[65];
    size_t n = 0;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &n) !=
            1 ||
        n != 65 || point[0] != 0x04) {
        sim_report_openssl("public key export");
        return false;
    }
    memcpy(xy, point + 1, 64);
    return true;
}

static EVP_PKEY *gen_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    if (k == NULL) {
        sim_report_openssl("EVP_EC_gen");
    }
    return k;
}

bool vt_sim_sign_json(EVP_PKEY *key, const char *member, const char *inner, size_t inner_len,
                      struct vt_sim_blob *out)
{
    uint8_t sig[64];
    if (!vt_sim_sign_raw(key, inner, inner_len, sig)) {
        return false;
    }
    struct sbuf b = {0};
    sbuf_str(&b, "{\"");
    sbuf_str(&b, member);
    sbuf_str(&b, "\":");
    sbuf_put(&b, inner, inner_len);
    sbuf_str(&b, ",\"signature\":\"");
    sbuf_hex(&b, sig, sizeof(sig), true);
    sbuf_str(&b, "\"}");
    return sbuf_finish(&b, out);
}

/* ---- certificates ---- */

enum cert_kind { KIND_ROOT, KIND_CA, KIND_EE };

static bool set_name(X509_NAME *n, const char *cn)
{
    static const struct {
        const char *field, *value;
    } rest[] = {{"O", SIM_ORG}, {"L", "Santa Clara"}, {"ST", "CA"}, {"C", "US"}};
    if (X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) !=
        1) {
        return false;
    }
    for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++) {
        if (X509_NAME_add_entry_by_txt(n, rest[i].field, MBSTRING_UTF8,
                                       (const unsigned char *)rest[i].value, -1, -1, 0) != 1) {
            return false;
        }
    }
    return true;
}

static bool set_time(X509 *x, vt_time nb, vt_time na)
{
    ASN1_TIME *a = ASN1_TIME_set(NULL, (time_t)nb);
    ASN1_TIME *b = ASN1_TIME_set(NULL, (time_t)na);
    bool ok =
        a != NULL && b != NULL && X509_set1_notBefore(x, a) == 1 && X509_set1_notAfter(x, b) == 1;
    ASN1_TIME_free(a);
    ASN1_TIME_free(b);
    return ok;
}

static ASN1_INTEGER *random_serial(void)
{
    uint8_t b[20];
    if (RAND_bytes(b, sizeof(b)) != 1) {
        return NULL;
    }
    b[0] = (uint8_t)((b[0] & 0x7f) | 0x01);
    BIGNUM *bn = BN_bin2bn(b, sizeof(b), NULL);
    ASN1_INTEGER *ai = bn == NULL ? NULL : BN_to_ASN1_INTEGER(bn, NULL);
    BN_free(bn);
    return ai;
}

/* SHA-1 of the subjectPublicKey bits, as RFC 5280 method 1 (what Intel's CA uses). */
static ASN1_OCTET_STRING *key_id(EVP_PKEY *key)
{
    X509_PUBKEY *xp = NULL;
    const unsigned char *bits = NULL;
    int nbits = 0;
    uint8_t md[SHA_DIGEST_LENGTH];
    ASN1_OCTET_STRING *os = NULL;
    if (X509_PUBKEY_set(&xp, key) != 1 ||
        X509_PUBKEY_get0_param(NULL, &bits, &nbits, NULL, xp) != 1) {
        goto out;
    }
    SHA1(bits, (size_t)nbits, md);
    os = ASN1_OCTET_STRING_new();
    if (os != NULL && ASN1_OCTET_STRING_set(os, md, sizeof(md)) != 1) {
        ASN1_OCTET_STRING_free(os);
        os = NULL;
    }
out:
    X509_PUBKEY_free(xp);
    return os;
}

static AUTHORITY_KEYID *akid_for(EVP_PKEY *issuer_key)
{
    AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
    if (akid == NULL) {
        return NULL;
    }
    akid->keyid = key_id(issuer_key);
    if (akid->keyid == NULL) {
        AUTHORITY_KEYID_free(akid);
        return NULL;
    }
    return akid;
}

static bool add_conf_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    bool ok = e != NULL && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    return ok;
}

struct cert_spec {
    const char *cn;
    enum cert_kind kind;
    int pathlen; /* KIND_ROOT/KIND_CA */
    EVP_PKEY *subject_key;
    X509 *issuer;         /* NULL: self-signed */
    EVP_PKEY *issuer_key; /* for AKI */
    EVP_PKEY *sign_key;   /* normally issuer_key; an unrelated key for a bad signature */
    vt_time not_before, not_after;
    const char *crl_url;
    const struct vt_sim_blob *sgx_ext; /* PCK leaf only */
};

static X509 *make_cert(const struct cert_spec *cs)
{
    X509 *x = X509_new();
    ASN1_INTEGER *serial = random_serial();
    AUTHORITY_KEYID *akid = akid_for(cs->issuer_key);
    ASN1_OCTET_STRING *skid = key_id(cs->subject_key);
    X509_NAME *subject = X509_NAME_new();
    char buf[200];
    bool ok = x != NULL && serial != NULL && akid != NULL && skid != NULL && subject != NULL;
    ok = ok && X509_set_version(x, X509_VERSION_3) == 1 && X509_set_serialNumber(x, serial) == 1;
    ok = ok && set_name(subject, cs->cn) && X509_set_subject_name(x, subject) == 1;
    ok = ok && X509_set_issuer_name(x, cs->issuer != NULL ? X509_get_subject_name(cs->issuer)
                                                          : subject) == 1;
    ok = ok && set_time(x, cs->not_before, cs->not_after) &&
         X509_set_pubkey(x, cs->subject_key) == 1;
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, cs->issuer != NULL ? cs->issuer : x, x, NULL, NULL, 0);
    X509V3_set_ctx_nodb(&ctx);
    /* Intel's order: AKI, CRL DP, SKI, key usage, basic constraints, SGX extension. */
    ok = ok && X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, 0) == 1;
    snprintf(buf, sizeof(buf), "URI:%s", cs->crl_url);
    ok = ok && add_conf_ext(x, &ctx, NID_crl_distribution_points, buf);
    ok = ok && X509_add1_ext_i2d(x, NID_subject_key_identifier, skid, 0, 0) == 1;
    if (cs->kind == KIND_EE) {
        ok = ok && add_conf_ext(x, &ctx, NID_key_usage, "critical,digitalSignature,nonRepudiation");
        ok = ok && add_conf_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
    } else {
        snprintf(buf, sizeof(buf), "critical,CA:TRUE,pathlen:%d", cs->pathlen);
        ok = ok && add_conf_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
        ok = ok && add_conf_ext(x, &ctx, NID_basic_constraints, buf);
    }
    if (ok && cs->sgx_ext != NULL) {
        ASN1_OBJECT *obj = OBJ_txt2obj(VT_SGX_EXT_OID, 1);
        ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
        X509_EXTENSION *e = NULL;
        ok = obj != NULL && val != NULL &&
             ASN1_OCTET_STRING_set(val, cs->sgx_ext->data, (int)cs->sgx_ext->len) == 1;
        if (ok) {
            e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, val);
        }
        ok = ok && e != NULL && X509_add_ext(x, e, -1) == 1;
        X509_EXTENSION_free(e);
        ASN1_OCTET_STRING_free(val);
        ASN1_OBJECT_free(obj);
    }
    ok = ok && X509_sign(x, cs->sign_key, EVP_sha256()) > 0;
    X509_NAME_free(subject);
    ASN1_OCTET_STRING_free(skid);
    AUTHORITY_KEYID_free(akid);
    ASN1_INTEGER_free(serial);
    if (!ok) {
        sim_report_openssl("certificate creation");
        X509_free(x);
        return NULL;
    }
    return x;
}

static const char *default_cn(const struct vt_sim_pki_params *p, enum vt_sim_cert which)
{
    switch (which) {
    case VT_SIM_CERT_ROOT:
        return p->root_cn != NULL ? p->root_cn : "Test SGX Root CA";
    case VT_SIM_CERT_PCK_CA:
        if (p->ca_cn != NULL) {
            return p->ca_cn;
        }
        return p->platform_ca ? "Test SGX PCK Platform CA" : "Test SGX PCK Processor CA";
    case VT_SIM_CERT_OTHER_CA:
        return p->platform_ca ? "Test SGX PCK Processor CA" : "Test SGX PCK Platform CA";
    case VT_SIM_CERT_PCK_LEAF:
        return p->leaf_cn != NULL ? p->leaf_cn : "Test SGX PCK Certificate";
    case VT_SIM_CERT_TCB_SIGNER:
        return p->signer_cn != NULL ? p->signer_cn : "Test SGX TCB Signing";
    case VT_SIM_CERT_COUNT:
        break;
    }
    return "?";
}

void vt_sim_pck_params_default(struct vt_sim_pck_params *p, enum vt_tee tee, vt_time now)
{
    static const uint8_t sgx_comps[16] = {9, 9, 2, 4, 255, 255, 1, 0};
    static const uint8_t tdx_comps[16] = {7, 7, 2, 2, 3, 1, 0, 3};
    static const uint8_t sgx_fmspc[6] = {0x30, 0x60, 0x6A, 0x00, 0x00, 0x00};
    static const uint8_t tdx_fmspc[6] = {0x30, 0x80, 0x6F, 0x05, 0x00, 0x00};
    memset(p, 0, sizeof(*p));
    for (size_t i = 0; i < 16; i++) {
        p->ppid[i] = (uint8_t)(0xA0 + i);
        p->platform_instance_id[i] = (uint8_t)(0x50 + i);
    }
    bool tdx = tee == VT_TEE_TDX;
    memcpy(p->tcb_comps, tdx ? tdx_comps : sgx_comps, 16);
    memcpy(p->cpusvn, p->tcb_comps, 16);
    p->pcesvn = tdx ? 11 : 13;
    memcpy(p->fmspc, tdx ? tdx_fmspc : sgx_fmspc, 6);
    p->sgx_type = tdx ? 1 : 0;
    p->platform = tdx;
    p->dynamic_platform = false;
    p->cached_keys = tdx;
    p->smt_enabled = tdx;
    p->not_before = now - VT_SIM_YEAR;
    p->not_after = p->not_before + 7 * VT_SIM_YEAR;
}

void vt_sim_pki_params_default(struct vt_sim_pki_params *p, enum vt_tee tee, vt_time now)
{
    memset(p, 0, sizeof(*p));
    p->platform_ca = tee == VT_TEE_TDX;
    p->root_not_before = now - 6 * VT_SIM_YEAR;
    p->root_not_after = now + 20 * VT_SIM_YEAR;
    p->ca_not_before = now - 6 * VT_SIM_YEAR;
    p->ca_not_after = now + 8 * VT_SIM_YEAR;
    p->signer_not_before = now - VT_SIM_YEAR;
    p->signer_not_after = now + 6 * VT_SIM_YEAR;
    vt_sim_pck_params_default(&p->pck, tee, now);
    p->root_crl.this_update = now - 100 * VT_SIM_DAY;
    p->root_crl.next_update = now + 265 * VT_SIM_DAY;
    p->pck_crl.this_update = now - VT_SIM_DAY;
    p->pck_crl.next_update = now + 29 * VT_SIM_DAY;
}

void vt_sim_pki_free(struct vt_sim_pki *pki)
{
    if (pki == NULL) {
        return;
    }
    for (size_t i = 0; i < VT_SIM_CERT_COUNT; i++) {
        EVP_PKEY_free(pki->key[i]);
        X509_free(pki->cert[i]);
    }
    EVP_PKEY_free(pki->unrelated_key);
    vt_sim_blob_cleanup(&pki->root_crl_der);
    vt_sim_blob_cleanup(&pki->pck_crl_der);
    free(pki);
}

struct vt_sim_pki *vt_sim_pki_new(const struct vt_sim_pki_params *p)
{
    struct vt_sim_pki *pki = calloc(1, sizeof(*pki));
    struct vt_sim_blob ext = {0};
    if (pki == NULL) {
        return NULL;
    }
    pki->params = *p;
    for (size_t i = 0; i < VT_SIM_CERT_COUNT; i++) {
        pki->key[i] = gen_key();
        if (pki->key[i] == NULL) {
            goto fail;
        }
    }
    pki->unrelated_key = gen_key();
    if (pki->unrelated_key == NULL || !vt_sim_pck_ext_der(&p->pck, &ext)) {
        goto fail;
    }
    char leaf_url[160];
    snprintf(leaf_url, sizeof(leaf_url), SIM_PCK_CRL_URL_FMT,
             p->platform_ca ? "platform" : "processor");
    /* Build in dependency order: root, the two CAs, the signer, the leaf. */
    static const enum vt_sim_cert order[] = {VT_SIM_CERT_ROOT, VT_SIM_CERT_PCK_CA,
                                             VT_SIM_CERT_OTHER_CA, VT_SIM_CERT_TCB_SIGNER,
                                             VT_SIM_CERT_PCK_LEAF};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        enum vt_sim_cert w = order[i];
        if ((unsigned)w >= VT_SIM_CERT_COUNT) {
            goto fail; /* unreachable; tells the compiler the index is in range */
        }
        struct cert_spec cs = {0};
        cs.cn = default_cn(p, w);
        cs.subject_key = pki->key[w];
        cs.crl_url = SIM_ROOT_CRL_URL;
        switch (w) {
        case VT_SIM_CERT_ROOT:
            cs.kind = KIND_ROOT;
            cs.pathlen = 1;
            cs.issuer_key = pki->key[VT_SIM_CERT_ROOT];
            cs.not_before = p->root_not_before;
            cs.not_after = p->root_not_after;
            break;
        case VT_SIM_CERT_PCK_CA:
        case VT_SIM_CERT_OTHER_CA:
            cs.kind = KIND_CA;
            cs.pathlen = 0;
            cs.not_before = p->ca_not_before;
            cs.not_after = p->ca_not_after;
            break;
        case VT_SIM_CERT_TCB_SIGNER:
            cs.kind = KIND_EE;
            cs.not_before = p->signer_not_before;
            cs.not_after = p->signer_not_after;
            break;
        case VT_SIM_CERT_PCK_LEAF:
        case VT_SIM_CERT_COUNT:
            cs.kind = KIND_EE;
            cs.not_before = p->pck.not_before;
            cs.not_after = p->pck.not_after;
            cs.crl_url = leaf_url;
            break;
        }
        if (w != VT_SIM_CERT_ROOT) {
            enum vt_sim_cert iss =
                w == VT_SIM_CERT_PCK_LEAF ? VT_SIM_CERT_PCK_CA : VT_SIM_CERT_ROOT;
            cs.issuer = pki->cert[iss];
            cs.issuer_key = pki->key[iss];
        }
        cs.sign_key =
            (p->bad_signature_certs & VT_SIM_CERT_BIT(w)) ? pki->unrelated_key : cs.issuer_key;
        if (w == VT_SIM_CERT_PCK_LEAF && !(p->pck.ext_defects & VT_SIM_EXT_OMIT)) {
            cs.sgx_ext = &ext;
        }
        pki->cert[w] = make_cert(&cs);
        if (pki->cert[w] == NULL) {
            goto fail;
        }
    }
    vt_sim_blob_cleanup(&ext);
    pki->params.root_cn = pki->params.ca_cn = pki->params.leaf_cn = pki->params.signer_cn = NULL;
    pki->params.pck.ext_override = NULL;
    pki->params.pck.ext_override_len = 0;
    if (!vt_sim_pki_set_crl(pki, true, &p->root_crl) ||
        !vt_sim_pki_set_crl(pki, false, &p->pck_crl)) {
        goto fail_noext;
    }
    return pki;
fail:
    vt_sim_blob_cleanup(&ext);
fail_noext:
    vt_sim_pki_free(pki);
    return NULL;
}

void vt_sim_pki_serial(const struct vt_sim_pki *pki, enum vt_sim_cert which,
                       struct vt_sim_serial *out)
{
    memset(out, 0, sizeof(*out));
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(pki->cert[which]), NULL);
    if (bn != NULL && BN_num_bytes(bn) <= (int)sizeof(out->b)) {
        out->len = (size_t)BN_bn2bin(bn, out->b);
    }
    BN_free(bn);
}

static bool crl_add_revoked(X509_CRL *crl, const struct vt_sim_serial *s, ASN1_TIME *when)
{
    X509_REVOKED *r = X509_REVOKED_new();
    BIGNUM *bn = BN_bin2bn(s->b, (int)s->len, NULL);
    ASN1_INTEGER *ai = bn == NULL ? NULL : BN_to_ASN1_INTEGER(bn, NULL);
    ASN1_ENUMERATED *reason = ASN1_ENUMERATED_new();
    bool ok = r != NULL && ai != NULL && reason != NULL &&
              X509_REVOKED_set_serialNumber(r, ai) == 1 &&
              X509_REVOKED_set_revocationDate(r, when) == 1 &&
              ASN1_ENUMERATED_set(reason, 1 /* keyCompromise */) == 1 &&
              X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, reason, 0, 0) == 1 &&
              X509_CRL_add0_revoked(crl, r) == 1;
    if (!ok) {
        X509_REVOKED_free(r);
    }
    ASN1_ENUMERATED_free(reason);
    ASN1_INTEGER_free(ai);
    BN_free(bn);
    return ok;
}

bool vt_sim_pki_make_crl(const struct vt_sim_pki *pki, bool is_root,
                         const struct vt_sim_crl_params *cp, struct vt_sim_blob *out)
{
    enum vt_sim_cert iss = is_root                             ? VT_SIM_CERT_ROOT
                           : pki->params.pck_crl_from_other_ca ? VT_SIM_CERT_OTHER_CA
                                                               : VT_SIM_CERT_PCK_CA;
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *tu = ASN1_TIME_set(NULL, (time_t)cp->this_update);
    ASN1_TIME *nu = ASN1_TIME_set(NULL, (time_t)cp->next_update);
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    AUTHORITY_KEYID *akid = akid_for(pki->key[iss]);
    unsigned char *der = NULL;
    bool ok = crl != NULL && tu != NULL && nu != NULL && num != NULL && akid != NULL &&
              X509_CRL_set_version(crl, X509_CRL_VERSION_2) == 1 &&
              X509_CRL_set_issuer_name(crl, X509_get_subject_name(pki->cert[iss])) == 1 &&
              X509_CRL_set1_lastUpdate(crl, tu) == 1 && X509_CRL_set1_nextUpdate(crl, nu) == 1;
    for (size_t c = 0; ok && c < VT_SIM_CERT_COUNT; c++) {
        if (cp->revoke_certs & VT_SIM_CERT_BIT(c)) {
            struct vt_sim_serial s;
            vt_sim_pki_serial(pki, (enum vt_sim_cert)c, &s);
            ok = crl_add_revoked(crl, &s, tu);
        }
    }
    for (size_t i = 0; ok && i < cp->n_revoked && i < VT_SIM_MAX_REVOKED; i++) {
        ok = crl_add_revoked(crl, &cp->revoked[i], tu);
    }
    ok = ok && X509_CRL_sort(crl) == 1 && ASN1_INTEGER_set(num, 1) == 1 &&
         X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1 &&
         X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0) == 1 &&
         X509_CRL_sign(crl, cp->wrong_key ? pki->unrelated_key : pki->key[iss], EVP_sha256()) > 0;
    int n = ok ? i2d_X509_CRL(crl, &der) : -1;
    ok = ok && n > 0;
    if (ok) {
        struct sbuf b = {0};
        sbuf_put(&b, der, (size_t)n);
        ok = sbuf_finish(&b, out);
    } else {
        sim_report_openssl("CRL creation");
    }
    OPENSSL_free(der);
    AUTHORITY_KEYID_free(akid);
    ASN1_INTEGER_free(num);
    ASN1_TIME_free(tu);
    ASN1_TIME_free(nu);
    X509_CRL_free(crl);
    return ok;
}

bool vt_sim_pki_set_crl(struct vt_sim_pki *pki, bool is_root, const struct vt_sim_crl_params *cp)
{
    struct vt_sim_blob b = {0};
    if (!vt_sim_pki_make_crl(pki, is_root, cp, &b)) {
        return false;
    }
    struct vt_sim_blob *dst = is_root ? &pki->root_crl_der : &pki->pck_crl_der;
    vt_sim_blob_cleanup(dst);
    *dst = b;
    if (is_root) {
        pki->params.root_crl = *cp;
    } else {
        pki->params.pck_crl = *cp;
    }
    return true;
}

static void pem_append(struct sbuf *b, X509 *x)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p = NULL;
    long n;
    if (bio == NULL || PEM_write_bio_X509(bio, x) != 1 || (n = BIO_get_mem_data(bio, &p)) <= 0) {
        sim_report_openssl("PEM export");
        b->failed = true;
    } else {
        sbuf_put(b, p, (size_t)n);
    }
    BIO_free(bio);
}

bool vt_sim_pki_cert_pem(const struct vt_sim_pki *pki, enum vt_sim_cert which,
                         struct vt_sim_blob *out)
{
    struct sbuf b = {0};
    pem_append(&b, pki->cert[which]);
    return sbuf_finish(&b, out);
}

bool vt_sim_pki_cert_der(const struct vt_sim_pki *pki, enum vt_sim_cert which,
                         struct vt_sim_blob *out)
{
    unsigned char *der = NULL;
    int n = i2d_X509(pki->cert[which], &der);
    if (n <= 0) {
        sim_report_openssl("i2d_X509");
        return false;
    }
    struct sbuf b = {0};
    sbuf_put(&b, der, (size_t)n);
    OPENSSL_free(der);
    return sbuf_finish(&b, out);
}

bool vt_sim_pki_chain_pem(const struct vt_sim_pki *pki, enum vt_sim_chain which, bool with_nul,
                          struct vt_sim_blob *out)
{
    struct sbuf b = {0};
    switch (which) {
    case VT_SIM_CHAIN_PCK:
        pem_append(&b, pki->cert[VT_SIM_CERT_PCK_LEAF]);
        pem_append(&b, pki->cert[VT_SIM_CERT_PCK_CA]);
        break;
    case VT_SIM_CHAIN_TCB_SIGNER:
        pem_append(&b, pki->cert[VT_SIM_CERT_TCB_SIGNER]);
        break;
    case VT_SIM_CHAIN_PCK_CRL_ISSUER:
        pem_append(&b, pki->cert[pki->params.pck_crl_from_other_ca ? VT_SIM_CERT_OTHER_CA
                                                                   : VT_SIM_CERT_PCK_CA]);
        break;
    }
    pem_append(&b, pki->cert[VT_SIM_CERT_ROOT]);
    if (with_nul) {
        sbuf_byte(&b, 0);
    }
    return sbuf_finish(&b, out);
}

/* ---- JSON collateral ---- */

static void json_date(struct sbuf *b, const char *key, vt_time t)
{
    char s[32];
    iso8601(t, s);
    sbuf_printf(b, "\"%s\":\"%s\"", key, s);
}

static void json_hex(struct sbuf *b, const char *key, const uint8_t *p, size_t n, bool lower)
{
    sbuf_printf(b, "\"%s\":\"", key);
    sbuf_hex(b, p, n, lower);
    sbuf_str(b, "\"");
}

static void json_advisories(struct sbuf *b, size_t n, const char *const *ids)
{
    if (n == 0) {
        return;
    }
    sbuf_str(b, ",\"advisoryIDs\":[");
    for (size_t i = 0; i < n && i < VT_SIM_MAX_ADVISORIES; i++) {
        sbuf_printf(b, "%s\"%s\"", i ? "," : "", ids[i]);
    }
    sbuf_str(b, "]");
}

static void json_isv_levels(struct sbuf *b, size_t n, const struct vt_sim_isv_level *lv)
{
    sbuf_str(b, "\"tcbLevels\":[");
    for (size_t i = 0; i < n && i < VT_SIM_MAX_LEVELS; i++) {
        sbuf_printf(b, "%s{\"tcb\":{\"isvsvn\":%u},", i ? "," : "", (unsigned)lv[i].isvsvn);
        json_date(b, "tcbDate", lv[i].tcb_date);
        sbuf_printf(b, ",\"tcbStatus\":\"%s\"", lv[i].status != NULL ? lv[i].status : "UpToDate");
        json_advisories(b, lv[i].n_advisories, lv[i].advisories);
        sbuf_str(b, "}");
    }
    sbuf_str(b, "]");
}

/* PCS-like labels on the first components (category/type members). */
static const char *const sgx_labels[16] = {
    ",\"category\":\"BIOS\",\"type\":\"Early Microcode Update\"",
    ",\"category\":\"OS/VMM\",\"type\":\"SGX Late Microcode Update\"",
    ",\"category\":\"OS/VMM\",\"type\":\"TXT SINIT\"",
    ",\"category\":\"BIOS\"",
};
static const char *const tdx_labels[16] = {
    ",\"category\":\"OS/VMM\",\"type\":\"TDX Module\"",
    ",\"category\":\"OS/VMM\",\"type\":\"TDX Module\"",
    ",\"category\":\"OS/VMM\",\"type\":\"TDX Late Microcode Update\"",
};

static void json_components(struct sbuf *b, const char *key, const uint8_t comps[16],
                            const char *const labels[16], bool with_labels)
{
    sbuf_printf(b, "\"%s\":[", key);
    for (size_t i = 0; i < 16; i++) {
        const char *lab = with_labels && labels[i] != NULL ? labels[i] : "";
        sbuf_printf(b, "%s{\"svn\":%u%s}", i ? "," : "", (unsigned)comps[i], lab);
    }
    sbuf_str(b, "]");
}

bool vt_sim_tcb_info_inner(const struct vt_sim_tcb_info *t, struct vt_sim_blob *out)
{
    struct sbuf b = {0};
    bool tdx = t->tee == VT_TEE_TDX;
    bool v3 = t->version >= 3;
    sbuf_str(&b, "{");
    if (v3) {
        sbuf_printf(&b, "\"id\":\"%s\",", t->id != NULL ? t->id : tdx ? "TDX" : "SGX");
    }
    sbuf_printf(&b, "\"version\":%d,", t->version);
    json_date(&b, "issueDate", t->issue_date);
    sbuf_str(&b, ",");
    json_date(&b, "nextUpdate", t->next_update);
    sbuf_str(&b, ",");
    json_hex(&b, "fmspc", t->fmspc, 6, t->fmspc_lowercase);
    sbuf_str(&b, ",");
    json_hex(&b, "pceId", t->pceid, 2, t->fmspc_lowercase);
    sbuf_printf(&b, ",\"tcbType\":%d,\"tcbEvaluationDataNumber\":%u", t->tcb_type,
                (unsigned)t->tcb_eval_num);
    if (v3 && t->has_tdx_module) {
        sbuf_str(&b, ",\"tdxModule\":{");
        json_hex(&b, "mrsigner", t->tdx_module_mrsigner, 48, false);
        sbuf_str(&b, ",");
        json_hex(&b, "attributes", t->tdx_module_attributes, 8, false);
        sbuf_str(&b, ",");
        json_hex(&b, "attributesMask", t->tdx_module_attributes_mask, 8, false);
        sbuf_str(&b, "}");
    }
    if (v3 && t->n_module_identities > 0) {
        sbuf_str(&b, ",\"tdxModuleIdentities\":[");
        for (size_t i = 0; i < t->n_module_identities && i < VT_SIM_MAX_MODULE_IDS; i++) {
            const struct vt_sim_module_identity *m = &t->module_identities[i];
            sbuf_printf(&b, "%s{\"id\":\"%s\",", i ? "," : "", m->id != NULL ? m->id : "");
            json_hex(&b, "mrsigner", m->mrsigner, 48, false);
            sbuf_str(&b, ",");
            json_hex(&b, "attributes", m->attributes, 8, false);
            sbuf_str(&b, ",");
            json_hex(&b, "attributesMask", m->attributes_mask, 8, false);
            sbuf_str(&b, ",");
            json_isv_levels(&b, m->n_levels, m->levels);
            sbuf_str(&b, "}");
        }
        sbuf_str(&b, "]");
    }
    sbuf_str(&b, ",\"tcbLevels\":[");
    for (size_t i = 0; i < t->n_levels && i < VT_SIM_MAX_LEVELS; i++) {
        const struct vt_sim_tcb_level *l = &t->levels[i];
        sbuf_str(&b, i ? ",{\"tcb\":{" : "{\"tcb\":{");
        if (v3) {
            json_components(&b, "sgxtcbcomponents", l->sgx_comps, sgx_labels, t->component_labels);
            sbuf_printf(&b, ",\"pcesvn\":%u", (unsigned)l->pcesvn);
            if (tdx) {
                sbuf_str(&b, ",");
                json_components(&b, "tdxtcbcomponents", l->tdx_comps, tdx_labels,
                                t->component_labels);
            }
        } else {
            for (size_t c = 0; c < 16; c++) {
                sbuf_printf(&b, "\"sgxtcbcomp%02zusvn\":%u,", c + 1, (unsigned)l->sgx_comps[c]);
            }
            sbuf_printf(&b, "\"pcesvn\":%u", (unsigned)l->pcesvn);
        }
        sbuf_str(&b, "},");
        json_date(&b, "tcbDate", l->tcb_date);
        sbuf_printf(&b, ",\"tcbStatus\":\"%s\"", l->status != NULL ? l->status : "UpToDate");
        json_advisories(&b, l->n_advisories, l->advisories);
        sbuf_str(&b, "}");
    }
    sbuf_str(&b, "]}");
    return sbuf_finish(&b, out);
}

bool vt_sim_tcb_info_json(const struct vt_sim_tcb_info *t, EVP_PKEY *key, struct vt_sim_blob *out)
{
    struct vt_sim_blob inner = {0};
    if (!vt_sim_tcb_info_inner(t, &inner)) {
        return false;
    }
    bool ok = vt_sim_sign_json(key, "tcbInfo", (const char *)inner.data, inner.len, out);
    vt_sim_blob_cleanup(&inner);
    return ok;
}

bool vt_sim_qe_identity_inner(const struct vt_sim_qe_identity *q, struct vt_sim_blob *out)
{
    struct sbuf b = {0};
    sbuf_printf(&b, "{\"id\":\"%s\",\"version\":%d,", q->id != NULL ? q->id : "QE", q->version);
    json_date(&b, "issueDate", q->issue_date);
    sbuf_str(&b, ",");
    json_date(&b, "nextUpdate", q->next_update);
    sbuf_printf(&b, ",\"tcbEvaluationDataNumber\":%u,", (unsigned)q->tcb_eval_num);
    json_hex(&b, "miscselect", q->miscselect, 4, false);
    sbuf_str(&b, ",");
    json_hex(&b, "miscselectMask", q->miscselect_mask, 4, false);
    sbuf_str(&b, ",");
    json_hex(&b, "attributes", q->attributes, 16, false);
    sbuf_str(&b, ",");
    json_hex(&b, "attributesMask", q->attributes_mask, 16, false);
    sbuf_str(&b, ",");
    json_hex(&b, "mrsigner", q->mrsigner, 32, false);
    sbuf_printf(&b, ",\"isvprodid\":%u,", (unsigned)q->isvprodid);
    json_isv_levels(&b, q->n_levels, q->levels);
    sbuf_str(&b, "}");
    return sbuf_finish(&b, out);
}

bool vt_sim_qe_identity_json(const struct vt_sim_qe_identity *q, EVP_PKEY *key,
                             struct vt_sim_blob *out)
{
    struct vt_sim_blob inner = {0};
    if (!vt_sim_qe_identity_inner(q, &inner)) {
        return false;
    }
    bool ok = vt_sim_sign_json(key, "enclaveIdentity", (const char *)inner.data, inner.len, out);
    vt_sim_blob_cleanup(&inner);
    return ok;
}

/* ---- quotes ---- */

static void put_sgx_report(struct sbuf *b, const struct vt_sim_sgx_report *r,
                           const uint8_t report_data[64])
{
    sbuf_put(b, r->cpusvn, 16);
    sbuf_u32le(b, r->miscselect);
    sbuf_zeros(b, 12);
    sbuf_put(b, r->isv_ext_prod_id, 16);
    sbuf_put(b, r->attributes, 16);
    sbuf_put(b, r->mrenclave, 32);
    sbuf_zeros(b, 32);
    sbuf_put(b, r->mrsigner, 32);
    sbuf_zeros(b, 32);
    sbuf_put(b, r->config_id, 64);
    sbuf_u16le(b, r->isv_prod_id);
    sbuf_u16le(b, r->isv_svn);
    sbuf_u16le(b, r->config_svn);
    sbuf_zeros(b, 42);
    sbuf_put(b, r->isv_family_id, 16);
    sbuf_put(b, report_data, 64);
}

static void put_td_report(struct sbuf *b, const struct vt_sim_td_report *r, bool td15)
{
    sbuf_put(b, r->tee_tcb_svn, 16);
    sbuf_put(b, r->mrseam, 48);
    sbuf_put(b, r->mrsignerseam, 48);
    sbuf_put(b, r->seam_attributes, 8);
    sbuf_put(b, r->td_attributes, 8);
    sbuf_put(b, r->xfam, 8);
    sbuf_put(b, r->mrtd, 48);
    sbuf_put(b, r->mrconfigid, 48);
    sbuf_put(b, r->mrowner, 48);
    sbuf_put(b, r->mrownerconfig, 48);
    for (size_t i = 0; i < 4; i++) {
        sbuf_put(b, r->rtmr[i], 48);
    }
    sbuf_put(b, r->report_data, 64);
    if (td15) {
        sbuf_put(b, r->tee_tcb_svn2, 16);
        sbuf_put(b, r->mrservicetd, 48);
    }
}

static void fill_pattern(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(seed + i * 7);
    }
}

void vt_sim_quote_params_default(struct vt_sim_quote_params *qp, enum vt_tee tee, uint16_t version)
{
    struct vt_sim_pck_params pck;
    vt_sim_pck_params_default(&pck, tee, 0);
    memset(qp, 0, sizeof(*qp));
    qp->version = version;
    qp->tee = tee;
    qp->qe_svn = tee == VT_TEE_TDX ? 0 : 8;
    qp->pce_svn = tee == VT_TEE_TDX ? 0 : pck.pcesvn;
    if (version != 3) {
        qp->qe_svn = qp->pce_svn = 0;
    }
    memcpy(qp->qe_vendor_id, intel_qe_vendor_id, 16);
    fill_pattern(qp->user_data, 16, 0x31); /* a QE-ID, then 4 zero bytes */

    /* the enclave report */
    struct vt_sim_sgx_report *s = &qp->sgx;
    memcpy(s->cpusvn, pck.cpusvn, 16);
    s->attributes[0] = 0x05; /* INIT | MODE64BIT */
    s->attributes[8] = 0xE7; /* XFRM */
    fill_pattern(s->mrenclave, 32, 0x11);
    fill_pattern(s->mrsigner, 32, 0x22);
    s->isv_prod_id = 0;
    s->isv_svn = 1;
    fill_pattern(s->report_data, 64, 0x33);

    /* the TD report */
    struct vt_sim_td_report *t = &qp->td;
    static const uint8_t svn[16] = {5, 1, 7};
    memcpy(t->tee_tcb_svn, svn, 16);
    memcpy(t->tee_tcb_svn2, svn, 16);
    fill_pattern(t->mrseam, 48, 0x44);
    t->td_attributes[3] = 0x10; /* SEPT_VE_DISABLE */
    t->xfam[0] = 0xE7;
    t->xfam[1] = 0x1A;
    t->xfam[2] = 0x06;
    fill_pattern(t->mrtd, 48, 0x55);
    for (size_t i = 0; i < 4; i++) {
        fill_pattern(t->rtmr[i], 48, (uint8_t)(0x60 + 16 * i));
    }
    fill_pattern(t->report_data, 64, 0x77);

    /* the QE report */
    struct vt_sim_sgx_report *q = &qp->qe;
    memcpy(q->cpusvn, pck.cpusvn, 16);
    q->miscselect = 0;
    q->attributes[0] = 0x15; /* INIT | MODE64BIT | PROVISIONKEY */
    q->attributes[8] = 0xE7;
    fill_pattern(q->mrenclave, 32, 0x88);
    memcpy(q->mrsigner, tee == VT_TEE_TDX ? vt_sim_qe_mrsigner_tdx : vt_sim_qe_mrsigner_sgx, 32);
    q->isv_prod_id = tee == VT_TEE_TDX ? 2 : 1;
    q->isv_svn = tee == VT_TEE_TDX ? 4 : 8;

    qp->qe_auth_len = 32;
    fill_pattern(qp->qe_auth, 32, 0x01);
    qp->cert_type = VT_DCAP_CERT_PCK_CHAIN;
    qp->outer_cert_type = VT_DCAP_CERT_QE_REPORT;
}

static uint32_t with_delta(size_t v, int32_t delta)
{
    return (uint32_t)((int64_t)v + delta);
}

void vt_sim_quote_cleanup(struct vt_sim_quote *q)
{
    if (q == NULL) {
        return;
    }
    free(q->data);
    EVP_PKEY_free(q->att_key);
    memset(q, 0, sizeof(*q));
}

bool vt_sim_quote_resign(struct vt_sim_quote *q)
{
    if (q->data == NULL || q->att_key == NULL || q->layout.sig_data_off + 64 > q->len) {
        return false;
    }
    return vt_sim_sign_raw(q->att_key, q->data, q->layout.signed_len,
                           q->data + q->layout.sig_data_off);
}

bool vt_sim_quote_build(const struct vt_sim_pki *pki, const struct vt_sim_quote_params *qp,
                        struct vt_sim_quote *out)
{
    struct sbuf b = {0};
    struct vt_sim_blob chain = {0};
    struct vt_sim_quote q = {0};
    struct vt_sim_quote_layout *L = &q.layout;
    uint8_t xy[64], report_data[64] = {0}, qe_raw[VT_SGX_REPORT_SIZE], qe_sig[64];

    if (qp->qe_auth_len > VT_SIM_MAX_QE_AUTH) {
        fprintf(stderr, "dcap_sim: qe_auth_len %u too large\n", (unsigned)qp->qe_auth_len);
        return false;
    }
    if (qp->att_key != NULL) {
        if (EVP_PKEY_up_ref(qp->att_key) != 1) {
            return false;
        }
        q.att_key = qp->att_key;
    } else {
        q.att_key = gen_key();
    }
    if (q.att_key == NULL || !vt_sim_pubkey_xy(q.att_key, xy)) {
        goto fail;
    }
    if (qp->defects & VT_SIM_BAD_ATT_KEY) {
        /* (1, 1) is not on P-256: y^2 = 1 but x^3 - 3x + b = b - 2 mod p. */
        memset(xy, 0, sizeof(xy));
        xy[31] = 1;
        xy[63] = 1;
    }

    /* certification data */
    const uint8_t *cert = qp->cert_data;
    size_t cert_len = qp->cert_data_len;
    if (cert == NULL) {
        if (!vt_sim_pki_chain_pem(pki, VT_SIM_CHAIN_PCK, true, &chain)) {
            goto fail;
        }
        cert = chain.data;
        cert_len = chain.len;
    }

    /* the QE report, bound to the attestation key and auth data, signed by the PCK key */
    if (qp->qe_report_data_verbatim) {
        memcpy(report_data, qp->qe.report_data, 64);
    } else {
        uint8_t bound[64 + VT_SIM_MAX_QE_AUTH];
        memcpy(bound, xy, 64);
        memcpy(bound + 64, qp->qe_auth, qp->qe_auth_len);
        SHA256(bound, 64 + (size_t)qp->qe_auth_len, report_data);
    }
    if (qp->defects & VT_SIM_BAD_QE_REPORT_DATA) {
        report_data[0] ^= 0x01;
    }
    if (qp->defects & VT_SIM_QE_REPORT_DATA_TAIL) {
        report_data[63] ^= 0x01;
    }
    {
        struct sbuf r = {0};
        put_sgx_report(&r, &qp->qe, report_data);
        bool rok = !r.failed && r.len == sizeof(qe_raw);
        if (rok) {
            memcpy(qe_raw, r.p, sizeof(qe_raw));
        }
        sbuf_discard(&r);
        if (rok && qp->qe_report_sig != NULL) {
            memcpy(qe_sig, qp->qe_report_sig, sizeof(qe_sig));
        } else if (!rok || !vt_sim_sign_raw(pki->key[VT_SIM_CERT_PCK_LEAF], qe_raw, sizeof(qe_raw),
                                            qe_sig)) {
            goto fail;
        }
    }
    if (qp->defects & VT_SIM_BAD_QE_REPORT_SIG) {
        qe_sig[63] ^= 0x01;
    }

    /* header */
    uint16_t layout = qp->version;
    bool tdx = qp->tee == VT_TEE_TDX;
    sbuf_u16le(&b, qp->header_version != 0 ? qp->header_version : qp->version);
    sbuf_u16le(&b, qp->att_key_type != 0 ? qp->att_key_type : VT_DCAP_ATT_KEY_ECDSA_P256);
    sbuf_u32le(&b,
               qp->tee_type_override ? qp->tee_type : (tdx ? VT_DCAP_TEE_TDX : VT_DCAP_TEE_SGX));
    sbuf_u16le(&b, qp->qe_svn);
    sbuf_u16le(&b, qp->pce_svn);
    sbuf_put(&b, qp->qe_vendor_id, 16);
    sbuf_put(&b, qp->user_data, 20);

    /* body */
    uint16_t body_type;
    if (layout == 5) {
        body_type =
            qp->body_type != 0 ? qp->body_type : (tdx ? VT_DCAP_BODY_TD15 : VT_DCAP_BODY_SGX);
    } else {
        body_type = tdx ? VT_DCAP_BODY_TD10 : VT_DCAP_BODY_SGX;
    }
    size_t body_size = body_type == VT_DCAP_BODY_TD15   ? VT_TD15_REPORT_SIZE
                       : body_type == VT_DCAP_BODY_TD10 ? VT_TD10_REPORT_SIZE
                                                        : VT_SGX_REPORT_SIZE;
    if (layout == 5) {
        sbuf_u16le(&b, body_type);
        sbuf_u32le(&b, with_delta(body_size, qp->body_size_delta));
    }
    L->body_off = b.len;
    L->body_size = body_size;
    if (body_type == VT_DCAP_BODY_TD10 || body_type == VT_DCAP_BODY_TD15) {
        put_td_report(&b, &qp->td, body_type == VT_DCAP_BODY_TD15);
    } else {
        put_sgx_report(&b, &qp->sgx, qp->sgx.report_data);
    }
    L->signed_len = b.len;

    /* signature data */
    size_t qe_cert_len = VT_SGX_REPORT_SIZE + 64 + 2 + qp->qe_auth_len + 2 + 4 + cert_len;
    size_t sig_len = 64 + 64 + (layout == 3 ? qe_cert_len : 2 + 4 + qe_cert_len);
    L->sig_data_len_off = b.len;
    sbuf_u32le(&b, with_delta(sig_len, qp->sig_data_len_delta));
    L->sig_data_off = b.len;
    sbuf_zeros(&b, 64); /* the quote signature, filled in below */
    sbuf_put(&b, xy, 64);
    if (layout != 3) {
        L->outer_cert_off = b.len;
        sbuf_u16le(&b, qp->outer_cert_type);
        sbuf_u32le(&b, with_delta(qe_cert_len, qp->outer_size_delta));
    }
    L->qe_report_off = b.len;
    sbuf_put(&b, qe_raw, sizeof(qe_raw));
    L->qe_report_sig_off = b.len;
    sbuf_put(&b, qe_sig, 64);
    L->qe_auth_len_off = b.len;
    sbuf_u16le(&b, qp->qe_auth_len);
    sbuf_put(&b, qp->qe_auth, qp->qe_auth_len);
    L->cert_type_off = b.len;
    sbuf_u16le(&b, qp->cert_type);
    sbuf_u32le(&b, with_delta(cert_len, qp->cert_size_delta));
    L->cert_data_off = b.len;
    L->cert_data_len = cert_len;
    sbuf_put(&b, cert, cert_len);
    L->quote_len = b.len;
    sbuf_zeros(&b, qp->trailing);
    if (b.failed) {
        fprintf(stderr, "dcap_sim: out of memory\n");
        goto fail;
    }
    q.len = b.len;
    q.data = b.p;
    memset(&b, 0, sizeof(b));
    if (!vt_sim_quote_resign(&q)) {
        goto fail;
    }
    if (qp->defects & VT_SIM_BAD_QUOTE_SIG) {
        q.data[L->sig_data_off + 63] ^= 0x01;
    }
    vt_sim_blob_cleanup(&chain);
    *out = q;
    return true;
fail:
    sbuf_discard(&b);
    vt_sim_blob_cleanup(&chain);
    vt_sim_quote_cleanup(&q);
    return false;
}

uint8_t *vt_sim_quote_make(const struct vt_sim_pki *pki, const struct vt_sim_quote_params *qp,
                           size_t *len)
{
    struct vt_sim_quote q;
    if (!vt_sim_quote_build(pki, qp, &q)) {
        return NULL;
    }
    uint8_t *data = q.data;
    *len = q.len;
    q.data = NULL;
    vt_sim_quote_cleanup(&q);
    return data;
}

/* ---- scenario ---- */

void vt_sim_scenario_init(struct vt_sim_scenario *s, enum vt_tee tee, uint16_t version, vt_time now)
{
    memset(s, 0, sizeof(*s));
    s->tee = tee;
    s->now = now;
    bool tdx = tee == VT_TEE_TDX;
    vt_sim_pki_params_default(&s->pki_params, tee, now);
    vt_sim_quote_params_default(&s->quote_params, tee, version);
    const struct vt_sim_pck_params *pck = &s->pki_params.pck;
    const struct vt_sim_quote_params *qp = &s->quote_params;

    struct vt_sim_tcb_info *t = &s->tcb_info;
    t->tee = tee;
    t->version = 3;
    t->issue_date = now - VT_SIM_DAY;
    t->next_update = now + 29 * VT_SIM_DAY;
    memcpy(t->fmspc, pck->fmspc, 6);
    memcpy(t->pceid, pck->pceid, 2);
    t->fmspc_lowercase = tdx;
    t->tcb_type = 0;
    t->tcb_eval_num = 17;
    t->component_labels = true;
    t->n_levels = 2;
    struct vt_sim_tcb_level *top = &t->levels[0], *low = &t->levels[1];
    memcpy(top->sgx_comps, pck->tcb_comps, 16);
    top->pcesvn = pck->pcesvn;
    top->status = "UpToDate";
    top->tcb_date = now - 200 * VT_SIM_DAY;
    *low = *top;
    low->sgx_comps[0] = (uint8_t)(low->sgx_comps[0] - 1);
    low->sgx_comps[1] = (uint8_t)(low->sgx_comps[1] - 1);
    low->status = "OutOfDate";
    low->tcb_date = now - 400 * VT_SIM_DAY;
    low->n_advisories = 2;
    low->advisories[0] = "INTEL-SA-00001";
    low->advisories[1] = "INTEL-SA-00002";
    if (tdx) {
        /* [1] is the module major version, judged by the module identity (TEE_TCB_SVN[1] > 0) */
        memcpy(top->tdx_comps, qp->td.tee_tcb_svn, 16);
        top->tdx_comps[1] = 0;
        memcpy(low->tdx_comps, top->tdx_comps, 16);
        low->tdx_comps[0] = (uint8_t)(top->tdx_comps[0] - 2);
        low->tdx_comps[2] = (uint8_t)(top->tdx_comps[2] - 1);
        t->has_tdx_module = true;
        memcpy(t->tdx_module_mrsigner, qp->td.mrsignerseam, 48);
        memcpy(t->tdx_module_attributes, qp->td.seam_attributes, 8);
        memset(t->tdx_module_attributes_mask, 0xFF, 8);
        t->n_module_identities = 2;
        static const char *const ids[2] = {"TDX_03", "TDX_01"};
        for (size_t i = 0; i < 2; i++) {
            struct vt_sim_module_identity *m = &t->module_identities[i];
            m->id = ids[i];
            memcpy(m->mrsigner, qp->td.mrsignerseam, 48);
            memcpy(m->attributes, qp->td.seam_attributes, 8);
            memset(m->attributes_mask, 0xFF, 8);
        }
        struct vt_sim_module_identity *m3 = &t->module_identities[0];
        m3->n_levels = 1;
        m3->levels[0] =
            (struct vt_sim_isv_level){.isvsvn = 3, .status = "UpToDate", .tcb_date = top->tcb_date};
        struct vt_sim_module_identity *m1 = &t->module_identities[1];
        m1->n_levels = 2;
        m1->levels[0] = (struct vt_sim_isv_level){
            .isvsvn = qp->td.tee_tcb_svn[0], .status = "UpToDate", .tcb_date = top->tcb_date};
        m1->levels[1] = (struct vt_sim_isv_level){
            .isvsvn = 2, .status = "OutOfDate", .tcb_date = low->tcb_date};
    }

    struct vt_sim_qe_identity *q = &s->qe_identity;
    q->id = tdx ? "TD_QE" : "QE";
    q->version = 2;
    q->issue_date = now - VT_SIM_DAY;
    q->next_update = now + 29 * VT_SIM_DAY;
    q->tcb_eval_num = 17;
    memset(q->miscselect_mask, 0xFF, 4);
    q->attributes[0] = 0x11;
    q->attributes_mask[0] = 0xFB;
    memset(q->attributes_mask + 1, 0xFF, 7);
    memcpy(q->mrsigner, qp->qe.mrsigner, 32);
    q->isvprodid = qp->qe.isv_prod_id;
    q->n_levels = 2;
    q->levels[0] = (struct vt_sim_isv_level){
        .isvsvn = qp->qe.isv_svn, .status = "UpToDate", .tcb_date = top->tcb_date};
    q->levels[1] = (struct vt_sim_isv_level){.isvsvn = (uint16_t)(qp->qe.isv_svn - 2),
                                             .status = "OutOfDate",
                                             .tcb_date = low->tcb_date,
                                             .n_advisories = 1,
                                             .advisories = {"INTEL-SA-00003"}};
}

void vt_sim_scenario_cleanup(struct vt_sim_scenario *s)
{
    if (s == NULL) {
        return;
    }
    vt_sim_pki_free(s->pki);
    s->pki = NULL;
    vt_sim_quote_cleanup(&s->quote);
    vt_sim_blob_cleanup(&s->tcb_info_json);
    vt_sim_blob_cleanup(&s->qe_identity_json);
    vt_sim_blob_cleanup(&s->tcb_info_chain_pem);
    vt_sim_blob_cleanup(&s->qe_identity_chain_pem);
    vt_sim_blob_cleanup(&s->pck_crl_der);
    vt_sim_blob_cleanup(&s->pck_crl_chain_pem);
    vt_sim_blob_cleanup(&s->root_crl_der);
    vt_sim_blob_cleanup(&s->root_pem);
    vt_sim_blob_cleanup(&s->root_der);
}

bool vt_sim_scenario_build(struct vt_sim_scenario *s)
{
    vt_sim_scenario_cleanup(s);
    struct vt_sim_pki *pki = vt_sim_pki_new(&s->pki_params);
    if (pki == NULL) {
        return false;
    }
    return vt_sim_scenario_build_with_pki(s, pki);
}

bool vt_sim_scenario_build_with_pki(struct vt_sim_scenario *s, struct vt_sim_pki *pki)
{
    vt_sim_scenario_cleanup(s);
    s->pki = pki;
    EVP_PKEY *signer = s->pki->key[VT_SIM_CERT_TCB_SIGNER];
    bool ok =
        vt_sim_tcb_info_json(&s->tcb_info, signer, &s->tcb_info_json) &&
        vt_sim_qe_identity_json(&s->qe_identity, signer, &s->qe_identity_json) &&
        vt_sim_pki_chain_pem(s->pki, VT_SIM_CHAIN_TCB_SIGNER, false, &s->tcb_info_chain_pem) &&
        vt_sim_pki_chain_pem(s->pki, VT_SIM_CHAIN_TCB_SIGNER, false, &s->qe_identity_chain_pem) &&
        vt_sim_pki_chain_pem(s->pki, VT_SIM_CHAIN_PCK_CRL_ISSUER, false, &s->pck_crl_chain_pem) &&
        blob_copy(&s->pck_crl_der, &s->pki->pck_crl_der) &&
        blob_copy(&s->root_crl_der, &s->pki->root_crl_der) &&
        vt_sim_pki_cert_pem(s->pki, VT_SIM_CERT_ROOT, &s->root_pem) &&
        vt_sim_pki_cert_der(s->pki, VT_SIM_CERT_ROOT, &s->root_der) &&
        vt_sim_quote_build(s->pki, &s->quote_params, &s->quote);
    if (!ok) {
        vt_sim_scenario_cleanup(s);
    }
    return ok;
}

struct vt_sim_scenario *vt_sim_scenario_new(enum vt_tee tee, uint16_t version, vt_time now)
{
    struct vt_sim_scenario *s = malloc(sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    vt_sim_scenario_init(s, tee, version, now);
    if (!vt_sim_scenario_build(s)) {
        free(s);
        return NULL;
    }
    return s;
}

void vt_sim_scenario_free(struct vt_sim_scenario *s)
{
    if (s == NULL) {
        return;
    }
    vt_sim_scenario_cleanup(s);
    free(s);
}

void vt_sim_scenario_collateral(const struct vt_sim_scenario *s,
                                struct vt_dcap_collateral_input *in)
{
    memset(in, 0, sizeof(*in));
    in->tcb_info = s->tcb_info_json.data;
    in->tcb_info_len = s->tcb_info_json.len;
    in->qe_identity = s->qe_identity_json.data;
    in->qe_identity_len = s->qe_identity_json.len;
    in->tcb_info_chain = s->tcb_info_chain_pem.data;
    in->tcb_info_chain_len = s->tcb_info_chain_pem.len;
    in->qe_identity_chain = s->qe_identity_chain_pem.data;
    in->qe_identity_chain_len = s->qe_identity_chain_pem.len;
    in->pck_crl = s->pck_crl_der.data;
    in->pck_crl_len = s->pck_crl_der.len;
    in->pck_crl_chain = s->pck_crl_chain_pem.data;
    in->pck_crl_chain_len = s->pck_crl_chain_pem.len;
    in->root_ca_crl = s->root_crl_der.data;
    in->root_ca_crl_len = s->root_crl_der.len;
}

static bool write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
        return false;
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "dcap_sim: cannot write %s: %s\n", path, strerror(errno));
        return false;
    }
    bool ok = fwrite(p, 1, n, f) == n;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        fprintf(stderr, "dcap_sim: write error on %s\n", path);
    }
    return ok;
}

bool vt_sim_scenario_write_dir(const struct vt_sim_scenario *s, const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "dcap_sim: mkdir %s: %s\n", dir, strerror(errno));
        return false;
    }
    const struct {
        const char *name;
        const uint8_t *p;
        size_t n;
    } files[] = {
        {"quote.bin", s->quote.data, s->quote.len},
        {"tcb_info.json", s->tcb_info_json.data, s->tcb_info_json.len},
        {"qe_identity.json", s->qe_identity_json.data, s->qe_identity_json.len},
        {"tcb_info_issuer_chain.pem", s->tcb_info_chain_pem.data, s->tcb_info_chain_pem.len},
        {"qe_identity_issuer_chain.pem", s->qe_identity_chain_pem.data,
         s->qe_identity_chain_pem.len},
        {"pck_crl.der", s->pck_crl_der.data, s->pck_crl_der.len},
        {"pck_crl_issuer_chain.pem", s->pck_crl_chain_pem.data, s->pck_crl_chain_pem.len},
        {"root_ca_crl.der", s->root_crl_der.data, s->root_crl_der.len},
        {"root.pem", s->root_pem.data, s->root_pem.len},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (files[i].p == NULL || !write_file(dir, files[i].name, files[i].p, files[i].n)) {
            return false;
        }
    }
    return true;
}
