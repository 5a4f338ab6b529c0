/*
 * The synthetic AWS Nitro Enclaves generator (see nitro_sim.h). Layouts per
 * shared/spec/nitro_snp.md part A:
 *
 *   document   [D2] 84 | 44 A1 01 38 22 | A0 | 59 <len16> payload | 58 60 r(48) s(48)
 *   payload    A9 (or BF .. FF) { "module_id": tstr, "digest": "SHA384", "timestamp": uint ms,
 *              "pcrs": {uint: bstr}, "certificate": bstr, "cabundle": [bstr, ...],
 *              "public_key": bstr/null, "user_data": bstr/null, "nonce": bstr/null }
 *   signed     SHA-384 over 84 6A "Signature1" 44 A1013822 40 59 <len16> payload
 *   chain      root (CA) -> regional (CA, pathLen 2) -> zonal (CA, 1) -> instance (CA, 0) -> leaf
 *
 * Nothing here is derived from real fixture bytes: the names are "test.nitro-enclaves" look-alikes,
 * every key is fresh, every value a fixed pattern.
 */
#include <errno.h>
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
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "nitro_sim.h"

#define NSIM_ORG "Veritee Test"
#define NSIM_OU "NSIM"
#define NSIM_DEFAULT_REGION "us-east-1"
#define NSIM_REGIONAL_ID "5eed0f1e2d3c4b5a"
#define NSIM_ZONAL_ID "a1b2c3d4e5f60718"
#define NSIM_INSTANCE_ID "i-0f1e2d3c4b5a69788"
#define NSIM_ENCLAVE_ID "enc0198a7b6c5d4e3f2"
#define NSIM_ROOT_CRL_URL "http://crl.test.nitro-enclaves.invalid/crl/nsim-root.crl"
#define NSIM_REGIONAL_CRL_URL "http://crl-%s.test.nitro-enclaves.invalid/crl/nsim-regional.crl"

static void nsim_report_openssl(const char *what)
{
    fprintf(stderr, "nitro_sim: %s failed\n", what);
    ERR_print_errors_fp(stderr);
}

/* ---- CBOR encoder ---- */

static void cbor_reserve(struct vt_nsim_cbor *c, size_t more)
{
    if (c->failed) {
        return;
    }
    if (more > SIZE_MAX / 2 - c->len) {
        c->failed = true;
        return;
    }
    if (c->len + more + 1 <= c->cap) {
        return;
    }
    size_t cap = c->cap == 0 ? 256 : c->cap;
    while (cap < c->len + more + 1) {
        cap *= 2;
    }
    uint8_t *np = realloc(c->p, cap);
    if (np == NULL) {
        c->failed = true;
        return;
    }
    c->p = np;
    c->cap = cap;
}

void vt_nsim_cbor_raw(struct vt_nsim_cbor *c, const void *p, size_t n)
{
    cbor_reserve(c, n);
    if (c->failed) {
        return;
    }
    if (n > 0) {
        memcpy(c->p + c->len, p, n);
    }
    c->len += n;
    c->p[c->len] = 0;
}

static void cbor_byte(struct vt_nsim_cbor *c, uint8_t b)
{
    vt_nsim_cbor_raw(c, &b, 1);
}

void vt_nsim_cbor_head(struct vt_nsim_cbor *c, unsigned major, uint64_t arg)
{
    uint8_t t[9];
    size_t n;
    uint8_t mt = (uint8_t)((major & 7u) << 5);
    if (arg < 24) {
        t[0] = (uint8_t)(mt | arg);
        n = 1;
    } else if (arg <= 0xff) {
        t[0] = (uint8_t)(mt | 24);
        n = 2;
    } else if (arg <= 0xffff) {
        t[0] = (uint8_t)(mt | 25);
        n = 3;
    } else if (arg <= 0xffffffffu) {
        t[0] = (uint8_t)(mt | 26);
        n = 5;
    } else {
        t[0] = (uint8_t)(mt | 27);
        n = 9;
    }
    for (size_t i = 1; i < n; i++) {
        t[i] = (uint8_t)(arg >> (8 * (n - 1 - i)));
    }
    vt_nsim_cbor_raw(c, t, n);
}

void vt_nsim_cbor_uint(struct vt_nsim_cbor *c, uint64_t v)
{
    vt_nsim_cbor_head(c, 0, v);
}

void vt_nsim_cbor_int(struct vt_nsim_cbor *c, int64_t v)
{
    if (v >= 0) {
        vt_nsim_cbor_head(c, 0, (uint64_t)v);
    } else {
        vt_nsim_cbor_head(c, 1, (uint64_t)(-(v + 1)));
    }
}

void vt_nsim_cbor_bstr(struct vt_nsim_cbor *c, const void *p, size_t n)
{
    vt_nsim_cbor_head(c, 2, n);
    vt_nsim_cbor_raw(c, p, n);
}

void vt_nsim_cbor_textn(struct vt_nsim_cbor *c, const char *s, size_t n)
{
    vt_nsim_cbor_head(c, 3, n);
    vt_nsim_cbor_raw(c, s, n);
}

void vt_nsim_cbor_text(struct vt_nsim_cbor *c, const char *s)
{
    vt_nsim_cbor_textn(c, s, strlen(s));
}

void vt_nsim_cbor_array(struct vt_nsim_cbor *c, uint64_t n)
{
    vt_nsim_cbor_head(c, 4, n);
}

void vt_nsim_cbor_map(struct vt_nsim_cbor *c, uint64_t n)
{
    vt_nsim_cbor_head(c, 5, n);
}

void vt_nsim_cbor_array_indef(struct vt_nsim_cbor *c)
{
    cbor_byte(c, 0x9F);
}

void vt_nsim_cbor_map_indef(struct vt_nsim_cbor *c)
{
    cbor_byte(c, 0xBF);
}

void vt_nsim_cbor_break(struct vt_nsim_cbor *c)
{
    cbor_byte(c, 0xFF);
}

void vt_nsim_cbor_tag(struct vt_nsim_cbor *c, uint64_t tag)
{
    vt_nsim_cbor_head(c, 6, tag);
}

void vt_nsim_cbor_null(struct vt_nsim_cbor *c)
{
    cbor_byte(c, 0xF6);
}

void vt_nsim_cbor_bool(struct vt_nsim_cbor *c, bool v)
{
    cbor_byte(c, v ? 0xF5 : 0xF4);
}

bool vt_nsim_cbor_finish(struct vt_nsim_cbor *c, struct vt_sim_blob *out)
{
    cbor_reserve(c, 0);
    if (c->failed) {
        vt_nsim_cbor_discard(c);
        fprintf(stderr, "nitro_sim: out of memory\n");
        return false;
    }
    c->p[c->len] = 0;
    out->data = c->p;
    out->len = c->len;
    memset(c, 0, sizeof(*c));
    return true;
}

void vt_nsim_cbor_discard(struct vt_nsim_cbor *c)
{
    free(c->p);
    memset(c, 0, sizeof(*c));
}

static void cbor_zeros(struct vt_nsim_cbor *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cbor_byte(c, 0);
    }
}

/* ---- keys and signatures ---- */

static EVP_PKEY *gen_key(bool p256)
{
    EVP_PKEY *k = EVP_EC_gen(p256 ? "P-256" : "P-384");
    if (k == NULL) {
        nsim_report_openssl("EVP_EC_gen");
    }
    return k;
}

/* ECDSA-SHA384 over msg, DER-encoded, into der[*n] (cap 150). */
static bool sign_der(EVP_PKEY *key, const void *msg, size_t len, uint8_t *der, size_t *n)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, EVP_sha384(), NULL, key) == 1 &&
              EVP_DigestSign(ctx, der, n, msg, len) == 1;
    if (!ok) {
        nsim_report_openssl("ECDSA sign");
    }
    EVP_MD_CTX_free(ctx);
    return ok;
}

static bool der_to_raw(const uint8_t *der, size_t n, uint8_t sig[96])
{
    const unsigned char *pp = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &pp, (long)n);
    bool ok = false;
    if (es != NULL) {
        const BIGNUM *r = NULL, *s = NULL;
        ECDSA_SIG_get0(es, &r, &s);
        ok = BN_bn2binpad(r, sig, 48) == 48 && BN_bn2binpad(s, sig + 48, 48) == 48;
    }
    if (!ok) {
        nsim_report_openssl("ECDSA signature conversion");
    }
    ECDSA_SIG_free(es);
    return ok;
}

bool vt_nsim_sign_es384(EVP_PKEY *key, const void *msg, size_t len, uint8_t sig[96])
{
    uint8_t der[150];
    size_t n = sizeof(der);
    return sign_der(key, msg, len, der, &n) && der_to_raw(der, n, sig);
}

bool vt_nsim_verify_es384(EVP_PKEY *key, const void *msg, size_t len, const uint8_t sig[96])
{
    bool ok = false;
    unsigned char *der = NULL;
    EVP_MD_CTX *ctx = NULL;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 48, NULL);
    BIGNUM *s = BN_bin2bn(sig + 48, 48, NULL);
    if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
        goto out;
    }
    r = s = NULL; /* owned by es now */
    int der_n = i2d_ECDSA_SIG(es, &der);
    if (der_n <= 0) {
        goto out;
    }
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestVerifyInit(ctx, NULL, EVP_sha384(), NULL, key) != 1) {
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
    return ok;
}

/* Replace s by n - s (the other valid signature) for key's curve. */
static bool sig_high_s(EVP_PKEY *key, uint8_t sig[96])
{
    char group[64];
    size_t glen = 0;
    bool ok = false;
    EC_GROUP *g = NULL;
    BIGNUM *s = NULL, *t = NULL;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &glen) != 1) {
        goto out;
    }
    g = EC_GROUP_new_by_curve_name(OBJ_txt2nid(group));
    s = BN_bin2bn(sig + 48, 48, NULL);
    t = BN_new();
    if (g == NULL || s == NULL || t == NULL || BN_sub(t, EC_GROUP_get0_order(g), s) != 1 ||
        BN_bn2binpad(t, sig + 48, 48) != 48) {
        goto out;
    }
    ok = true;
out:
    if (!ok) {
        nsim_report_openssl("high-s signature");
    }
    EC_GROUP_free(g);
    BN_free(s);
    BN_free(t);
    return ok;
}

/* ---- certificates ---- */

static bool name_add(X509_NAME *n, const char *field, const char *value)
{
    return X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8, (const unsigned char *)value, -1, -1,
                                      0) == 1;
}

/* The subject in AWS's attribute order for the level. */
static bool set_subject(X509_NAME *n, enum vt_nsim_level level, const char *cn)
{
    switch (level) {
    case VT_NSIM_ROOT:
    case VT_NSIM_REGIONAL:
        return name_add(n, "C", "US") && name_add(n, "O", NSIM_ORG) && name_add(n, "OU", NSIM_OU) &&
               name_add(n, "CN", cn);
    case VT_NSIM_ZONAL:
        return name_add(n, "CN", cn) && name_add(n, "OU", NSIM_OU) && name_add(n, "O", NSIM_ORG) &&
               name_add(n, "C", "US") && name_add(n, "ST", "WA") && name_add(n, "L", "Seattle");
    case VT_NSIM_INSTANCE:
    case VT_NSIM_LEAF:
        return name_add(n, "C", "US") && name_add(n, "ST", "Washington") &&
               name_add(n, "L", "Seattle") && name_add(n, "O", NSIM_ORG) &&
               name_add(n, "OU", NSIM_OU) && name_add(n, "CN", cn);
    case VT_NSIM_LEVELS:
        break;
    }
    return false;
}

static bool set_validity(X509 *x, vt_time nb, vt_time na)
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
    uint8_t b[16];
    if (RAND_bytes(b, sizeof(b)) != 1) {
        return NULL;
    }
    b[0] = (uint8_t)(b[0] | 0x01);
    BIGNUM *bn = BN_bin2bn(b, sizeof(b), NULL);
    ASN1_INTEGER *ai = bn == NULL ? NULL : BN_to_ASN1_INTEGER(bn, NULL);
    BN_free(bn);
    return ai;
}

/* SHA-1 of the subjectPublicKey bits (RFC 5280 method 1). */
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

static bool add_ski(X509 *x, EVP_PKEY *key)
{
    ASN1_OCTET_STRING *skid = key_id(key);
    bool ok = skid != NULL && X509_add1_ext_i2d(x, NID_subject_key_identifier, skid, 0, 0) == 1;
    ASN1_OCTET_STRING_free(skid);
    return ok;
}

static bool add_aki(X509 *x, EVP_PKEY *issuer_key)
{
    AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
    bool ok = akid != NULL;
    if (ok) {
        akid->keyid = key_id(issuer_key);
        ok = akid->keyid != NULL &&
             X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, 0) == 1;
    }
    AUTHORITY_KEYID_free(akid);
    return ok;
}

static bool add_conf_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    bool ok = e != NULL && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    return ok;
}

static bool add_basic(X509 *x, X509V3_CTX *ctx, const struct vt_nsim_cert_params *cp)
{
    char buf[80];
    if (cp->omit_basic_constraints) {
        return true;
    }
    const char *crit = cp->basic_not_critical ? "" : "critical,";
    if (!cp->ca) {
        snprintf(buf, sizeof(buf), "%sCA:FALSE", crit);
    } else if (cp->pathlen < 0) {
        snprintf(buf, sizeof(buf), "%sCA:TRUE", crit);
    } else {
        snprintf(buf, sizeof(buf), "%sCA:TRUE,pathlen:%d", crit, cp->pathlen);
    }
    return add_conf_ext(x, ctx, NID_basic_constraints, buf);
}

static bool add_key_usage(X509 *x, X509V3_CTX *ctx, const struct vt_nsim_cert_params *cp)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {VT_NSIM_KU_DIGITAL_SIGNATURE, "digitalSignature"},
        {VT_NSIM_KU_NON_REPUDIATION, "nonRepudiation"},
        {VT_NSIM_KU_KEY_CERT_SIGN, "keyCertSign"},
        {VT_NSIM_KU_CRL_SIGN, "cRLSign"},
    };
    char buf[120] = "";
    size_t len = 0;
    if (cp->key_usage == 0) {
        return true;
    }
    if (cp->key_usage_critical) {
        len += (size_t)snprintf(buf, sizeof(buf), "critical");
    }
    /* The longest value, every name and "critical", is 62 characters: buf cannot truncate. */
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (cp->key_usage & names[i].bit) {
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", len > 0 ? "," : "",
                                    names[i].name);
        }
    }
    return add_conf_ext(x, ctx, NID_key_usage, buf);
}

static bool add_cdp(X509 *x, X509V3_CTX *ctx, enum vt_nsim_level level, const char *region)
{
    char url[200], buf[220];
    if (level == VT_NSIM_REGIONAL) {
        snprintf(url, sizeof(url), "%s", NSIM_ROOT_CRL_URL);
    } else {
        snprintf(url, sizeof(url), NSIM_REGIONAL_CRL_URL, region);
    }
    snprintf(buf, sizeof(buf), "URI:%s", url);
    return add_conf_ext(x, ctx, NID_crl_distribution_points, buf);
}

/* Build level `level` of pki (all levels above it already exist). */
static X509 *make_cert(const struct vt_nsim_pki *pki, enum vt_nsim_level level, const char *region)
{
    const struct vt_nsim_cert_params *cp = &pki->params.level[level];
    bool root = level == VT_NSIM_ROOT;
    X509 *issuer = root ? NULL : pki->cert[level - 1];
    EVP_PKEY *issuer_key = pki->key[root ? VT_NSIM_ROOT : level - 1];
    EVP_PKEY *sign_key = cp->wrong_key ? pki->unrelated_key : issuer_key;
    EVP_PKEY *subject_key = pki->key[level];
    X509 *x = X509_new();
    ASN1_INTEGER *serial = random_serial();
    X509_NAME *subject = X509_NAME_new();
    bool ok = x != NULL && serial != NULL && subject != NULL;
    ok = ok && X509_set_version(x, X509_VERSION_3) == 1 && X509_set_serialNumber(x, serial) == 1;
    ok = ok && set_subject(subject, level, pki->cn[level]) && X509_set_subject_name(x, subject);
    ok = ok &&
         X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : subject) == 1;
    ok = ok && set_validity(x, cp->not_before, cp->not_after) &&
         X509_set_pubkey(x, subject_key) == 1;
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    X509V3_set_ctx_nodb(&ctx);
    /* AWS's extension order, per level (observed on real chains). */
    switch (level) {
    case VT_NSIM_ROOT:
        ok = ok && add_basic(x, &ctx, cp) && add_ski(x, subject_key) && add_key_usage(x, &ctx, cp);
        break;
    case VT_NSIM_REGIONAL:
    case VT_NSIM_ZONAL:
        ok = ok && add_basic(x, &ctx, cp) && add_aki(x, issuer_key) && add_ski(x, subject_key) &&
             add_key_usage(x, &ctx, cp) && add_cdp(x, &ctx, level, region);
        break;
    case VT_NSIM_INSTANCE:
        ok = ok && add_basic(x, &ctx, cp) && add_key_usage(x, &ctx, cp) &&
             add_ski(x, subject_key) && add_aki(x, issuer_key);
        break;
    case VT_NSIM_LEAF:
        ok = ok && add_basic(x, &ctx, cp) && add_key_usage(x, &ctx, cp);
        break;
    case VT_NSIM_LEVELS:
        ok = false;
        break;
    }
    ok = ok && X509_sign(x, sign_key, cp->sig_sha256 ? EVP_sha256() : EVP_sha384()) > 0;
    X509_NAME_free(subject);
    ASN1_INTEGER_free(serial);
    if (!ok) {
        nsim_report_openssl("certificate creation");
        X509_free(x);
        return NULL;
    }
    return x;
}

void vt_nsim_pki_params_default(struct vt_nsim_pki_params *p, vt_time now)
{
    static const struct {
        vt_time before_now, lifetime;
        bool ca;
        int pathlen;
        unsigned ku;
        bool ku_critical;
    } shape[VT_NSIM_LEVELS] = {
        [VT_NSIM_ROOT] = {5 * VT_NSIM_YEAR, 30 * VT_NSIM_YEAR, true, -1,
                          VT_NSIM_KU_DIGITAL_SIGNATURE | VT_NSIM_KU_KEY_CERT_SIGN |
                              VT_NSIM_KU_CRL_SIGN,
                          true},
        [VT_NSIM_REGIONAL] = {2 * VT_NSIM_DAY, 20 * VT_NSIM_DAY + VT_NSIM_HOUR, true, 2,
                              VT_NSIM_KU_DIGITAL_SIGNATURE | VT_NSIM_KU_KEY_CERT_SIGN |
                                  VT_NSIM_KU_CRL_SIGN,
                              true},
        [VT_NSIM_ZONAL] = {12 * VT_NSIM_HOUR, 5 * VT_NSIM_DAY + 17 * VT_NSIM_HOUR, true, 1,
                           VT_NSIM_KU_DIGITAL_SIGNATURE | VT_NSIM_KU_KEY_CERT_SIGN |
                               VT_NSIM_KU_CRL_SIGN,
                           true},
        [VT_NSIM_INSTANCE] = {4 * VT_NSIM_HOUR, VT_NSIM_DAY, true, 0, VT_NSIM_KU_KEY_CERT_SIGN,
                              true},
        [VT_NSIM_LEAF] = {10 * VT_NSIM_MINUTE, 3 * VT_NSIM_HOUR + 3, false, -1,
                          VT_NSIM_KU_DIGITAL_SIGNATURE | VT_NSIM_KU_NON_REPUDIATION, false},
    };
    memset(p, 0, sizeof(*p));
    p->now = now;
    for (size_t i = 0; i < VT_NSIM_LEVELS; i++) {
        struct vt_nsim_cert_params *cp = &p->level[i];
        cp->not_before = now - shape[i].before_now;
        cp->not_after = cp->not_before + shape[i].lifetime;
        cp->ca = shape[i].ca;
        cp->pathlen = shape[i].pathlen;
        cp->key_usage = shape[i].ku;
        cp->key_usage_critical = shape[i].ku_critical;
    }
}

void vt_nsim_pki_free(struct vt_nsim_pki *pki)
{
    if (pki == NULL) {
        return;
    }
    for (size_t i = 0; i < VT_NSIM_LEVELS; i++) {
        EVP_PKEY_free(pki->key[i]);
        X509_free(pki->cert[i]);
    }
    EVP_PKEY_free(pki->unrelated_key);
    free(pki);
}

struct vt_nsim_pki *vt_nsim_pki_new(const struct vt_nsim_pki_params *p)
{
    struct vt_nsim_pki *pki = calloc(1, sizeof(*pki));
    if (pki == NULL) {
        return NULL;
    }
    const char *region = p->region != NULL ? p->region : NSIM_DEFAULT_REGION;
    pki->params = *p;
    pki->params.region = NULL;
    char defaults[VT_NSIM_LEVELS][128];
    snprintf(defaults[VT_NSIM_ROOT], 128, "test.nitro-enclaves");
    snprintf(defaults[VT_NSIM_REGIONAL], 128, NSIM_REGIONAL_ID ".%s.test.nitro-enclaves", region);
    snprintf(defaults[VT_NSIM_ZONAL], 128, NSIM_ZONAL_ID ".zonal.%s.test.nitro-enclaves", region);
    snprintf(defaults[VT_NSIM_INSTANCE], 128, NSIM_INSTANCE_ID ".%s.test.nitro-enclaves", region);
    snprintf(defaults[VT_NSIM_LEAF], 128, NSIM_INSTANCE_ID "-" NSIM_ENCLAVE_ID ".%s.test", region);
    snprintf(pki->module_id, sizeof(pki->module_id), NSIM_INSTANCE_ID "-" NSIM_ENCLAVE_ID);
    for (size_t i = 0; i < VT_NSIM_LEVELS; i++) {
        const char *cn = p->level[i].cn != NULL ? p->level[i].cn : defaults[i];
        snprintf(pki->cn[i], sizeof(pki->cn[i]), "%s", cn);
        pki->params.level[i].cn = NULL;
        if (i == VT_NSIM_ROOT && p->root_key != NULL) {
            if (EVP_PKEY_up_ref(p->root_key) != 1) {
                goto fail;
            }
            pki->key[i] = p->root_key;
            continue;
        }
        pki->key[i] = gen_key(p->level[i].p256);
        if (pki->key[i] == NULL) {
            goto fail;
        }
    }
    pki->params.root_key = NULL;
    pki->params.root_cert = NULL;
    pki->unrelated_key = gen_key(false);
    if (pki->unrelated_key == NULL) {
        goto fail;
    }
    for (size_t i = 0; i < VT_NSIM_LEVELS; i++) {
        if (i == VT_NSIM_ROOT && p->root_cert != NULL) {
            if (X509_up_ref(p->root_cert) != 1) {
                goto fail;
            }
            pki->cert[i] = p->root_cert;
            continue;
        }
        pki->cert[i] = make_cert(pki, (enum vt_nsim_level)i, region);
        if (pki->cert[i] == NULL) {
            goto fail;
        }
    }
    return pki;
fail:
    vt_nsim_pki_free(pki);
    return NULL;
}

bool vt_nsim_cert_der(const struct vt_nsim_pki *pki, enum vt_nsim_level which,
                      struct vt_sim_blob *out)
{
    if ((unsigned)which >= VT_NSIM_LEVELS) {
        return false;
    }
    unsigned char *der = NULL;
    int n = i2d_X509(pki->cert[which], &der);
    if (n <= 0) {
        nsim_report_openssl("i2d_X509");
        return false;
    }
    struct vt_nsim_cbor c = {0};
    vt_nsim_cbor_raw(&c, der, (size_t)n);
    OPENSSL_free(der);
    return vt_nsim_cbor_finish(&c, out);
}

bool vt_nsim_cert_pem(const struct vt_nsim_pki *pki, enum vt_nsim_level which,
                      struct vt_sim_blob *out)
{
    if ((unsigned)which >= VT_NSIM_LEVELS) {
        return false;
    }
    BIO *bio = BIO_new(BIO_s_mem());
    char *p = NULL;
    bool ok = bio != NULL && PEM_write_bio_X509(bio, pki->cert[which]) == 1;
    long n = ok ? BIO_get_mem_data(bio, &p) : 0;
    ok = ok && n > 0;
    struct vt_nsim_cbor c = {0};
    if (ok) {
        vt_nsim_cbor_raw(&c, p, (size_t)n);
    }
    BIO_free(bio);
    if (!ok) {
        nsim_report_openssl("PEM_write_bio_X509");
        return false;
    }
    return vt_nsim_cbor_finish(&c, out);
}

/* ---- documents ---- */

enum payload_item {
    ITEM_MODULE_ID,
    ITEM_DIGEST,
    ITEM_TIMESTAMP,
    ITEM_EXTRA, /* the unknown key, when asked for */
    ITEM_PCRS,
    ITEM_CERTIFICATE,
    ITEM_CABUNDLE,
    ITEM_PUBLIC_KEY,
    ITEM_USER_DATA,
    ITEM_NONCE,
    ITEM_COUNT
};

static const char *const item_names[ITEM_COUNT] = {
    [ITEM_MODULE_ID] = "module_id", [ITEM_DIGEST] = "digest",
    [ITEM_TIMESTAMP] = "timestamp", [ITEM_EXTRA] = "veritee_extra",
    [ITEM_PCRS] = "pcrs",           [ITEM_CERTIFICATE] = "certificate",
    [ITEM_CABUNDLE] = "cabundle",   [ITEM_PUBLIC_KEY] = "public_key",
    [ITEM_USER_DATA] = "user_data", [ITEM_NONCE] = "nonce",
};

/* The enum vt_nsim_key bit of an item (0 for the extra key). */
static unsigned item_bit(enum payload_item it)
{
    switch (it) {
    case ITEM_MODULE_ID:
        return VT_NSIM_K_MODULE_ID;
    case ITEM_DIGEST:
        return VT_NSIM_K_DIGEST;
    case ITEM_TIMESTAMP:
        return VT_NSIM_K_TIMESTAMP;
    case ITEM_PCRS:
        return VT_NSIM_K_PCRS;
    case ITEM_CERTIFICATE:
        return VT_NSIM_K_CERTIFICATE;
    case ITEM_CABUNDLE:
        return VT_NSIM_K_CABUNDLE;
    case ITEM_PUBLIC_KEY:
        return VT_NSIM_K_PUBLIC_KEY;
    case ITEM_USER_DATA:
        return VT_NSIM_K_USER_DATA;
    case ITEM_NONCE:
        return VT_NSIM_K_NONCE;
    case ITEM_EXTRA:
    case ITEM_COUNT:
        break;
    }
    return 0;
}

static const struct vt_nsim_opt *item_opt(const struct vt_nsim_doc_params *p, enum payload_item it)
{
    switch (it) {
    case ITEM_PUBLIC_KEY:
        return &p->public_key;
    case ITEM_USER_DATA:
        return &p->user_data;
    case ITEM_NONCE:
        return &p->nonce;
    default:
        return NULL;
    }
}

/* How many times the item's key is written (0, 1 or 2). */
static size_t item_times(const struct vt_nsim_doc_params *p, enum payload_item it)
{
    if (it == ITEM_EXTRA) {
        return p->extra_key ? 1 : 0;
    }
    unsigned bit = item_bit(it);
    const struct vt_nsim_opt *o = item_opt(p, it);
    if ((p->omit_keys & bit) || (o != NULL && o->kind == VT_NSIM_OPT_ABSENT)) {
        return 0;
    }
    return (p->dup_keys & bit) ? 2 : 1;
}

/* The DER of a certificate into *der (OPENSSL_malloc'd; the caller frees it with OPENSSL_free). */
static bool x509_der(X509 *x, unsigned char **der, size_t *len)
{
    int n = i2d_X509(x, der);
    if (n <= 0) {
        nsim_report_openssl("i2d_X509");
        return false;
    }
    *len = (size_t)n;
    return true;
}

static bool put_cert_entry(struct vt_nsim_cbor *c, const struct vt_nsim_pki *pki,
                           const struct vt_nsim_cab_entry *e)
{
    if (e->der != NULL) {
        vt_nsim_cbor_bstr(c, e->der, e->len);
        return true;
    }
    if ((unsigned)e->level >= VT_NSIM_LEVELS) {
        return false;
    }
    unsigned char *der = NULL;
    size_t n = 0;
    if (!x509_der(pki->cert[e->level], &der, &n)) {
        return false;
    }
    vt_nsim_cbor_bstr(c, der, n);
    OPENSSL_free(der);
    return true;
}

static void put_extra_value(struct vt_nsim_cbor *c, const struct vt_nsim_doc_params *p)
{
    static const uint8_t ff[2] = {0x00, 0xFF};
    if (p->extra_value != NULL) {
        vt_nsim_cbor_raw(c, p->extra_value, p->extra_value_len);
        return;
    }
    vt_nsim_cbor_map(c, 3);
    vt_nsim_cbor_text(c, "n");
    vt_nsim_cbor_int(c, -2);
    vt_nsim_cbor_text(c, "a");
    vt_nsim_cbor_array(c, 5);
    vt_nsim_cbor_uint(c, 1);
    vt_nsim_cbor_bstr(c, ff, sizeof(ff));
    vt_nsim_cbor_text(c, "x");
    vt_nsim_cbor_null(c);
    vt_nsim_cbor_bool(c, true);
    vt_nsim_cbor_text(c, "t");
    vt_nsim_cbor_tag(c, 1);
    vt_nsim_cbor_uint(c, 0);
}

static bool put_value(struct vt_nsim_cbor *c, const struct vt_nsim_pki *pki,
                      const struct vt_nsim_doc_params *p, enum payload_item it)
{
    bool wrong = (p->wrong_type_keys & item_bit(it)) != 0;
    switch (it) {
    case ITEM_MODULE_ID: {
        const char *m = p->module_id != NULL ? p->module_id : pki->module_id;
        size_t n = p->module_id_empty                               ? 0
                   : (p->module_id != NULL && p->module_id_len > 0) ? p->module_id_len
                                                                    : strlen(m);
        if (wrong) {
            vt_nsim_cbor_bstr(c, m, n);
        } else {
            vt_nsim_cbor_textn(c, m, n);
        }
        return true;
    }
    case ITEM_DIGEST: {
        const char *d = p->digest != NULL ? p->digest : "SHA384";
        if (wrong) {
            vt_nsim_cbor_bstr(c, d, strlen(d));
        } else {
            vt_nsim_cbor_text(c, d);
        }
        return true;
    }
    case ITEM_TIMESTAMP:
        if (wrong) {
            vt_nsim_cbor_int(c, -1);
        } else {
            vt_nsim_cbor_uint(c, p->timestamp_ms);
        }
        return true;
    case ITEM_EXTRA:
        put_extra_value(c, p);
        return true;
    case ITEM_PCRS:
        if (p->n_pcrs > VT_NSIM_MAX_PCRS) {
            return false;
        }
        if (wrong) {
            vt_nsim_cbor_array(c, p->n_pcrs);
        } else if (p->indefinite_pcrs) {
            vt_nsim_cbor_map_indef(c);
        } else {
            vt_nsim_cbor_map(c, p->n_pcrs);
        }
        for (size_t i = 0; i < p->n_pcrs; i++) {
            const struct vt_nsim_pcr *r = &p->pcrs[i];
            if (r->len > VT_NSIM_PCR_MAX_LEN) {
                return false;
            }
            if (!wrong) {
                vt_nsim_cbor_uint(c, r->index);
            }
            vt_nsim_cbor_bstr(c, r->value, r->len);
        }
        if (!wrong && p->indefinite_pcrs) {
            vt_nsim_cbor_break(c);
        }
        return true;
    case ITEM_CERTIFICATE:
        if (wrong) {
            vt_nsim_cbor_text(c, "not a bstr");
            return true;
        }
        if (p->certificate != NULL) {
            vt_nsim_cbor_bstr(c, p->certificate, p->certificate_len);
            return true;
        } else {
            struct vt_nsim_cab_entry leaf = {.level = VT_NSIM_LEAF};
            return put_cert_entry(c, pki, &leaf);
        }
    case ITEM_CABUNDLE:
        if (p->n_cabundle > VT_NSIM_MAX_CABUNDLE) {
            return false;
        }
        if (wrong) {
            vt_nsim_cbor_map(c, p->n_cabundle);
        } else if (p->indefinite_cabundle) {
            vt_nsim_cbor_array_indef(c);
        } else {
            vt_nsim_cbor_array(c, p->n_cabundle);
        }
        for (size_t i = 0; i < p->n_cabundle; i++) {
            if (wrong) {
                vt_nsim_cbor_uint(c, i);
            }
            if (!put_cert_entry(c, pki, &p->cabundle[i])) {
                return false;
            }
        }
        if (!wrong && p->indefinite_cabundle) {
            vt_nsim_cbor_break(c);
        }
        return true;
    case ITEM_PUBLIC_KEY:
    case ITEM_USER_DATA:
    case ITEM_NONCE: {
        const struct vt_nsim_opt *o = item_opt(p, it);
        if (wrong) {
            vt_nsim_cbor_text(c, "not a bstr");
        } else if (o->kind == VT_NSIM_OPT_BYTES) {
            vt_nsim_cbor_bstr(c, o->data, o->len);
        } else {
            vt_nsim_cbor_null(c);
        }
        return true;
    }
    case ITEM_COUNT:
        break;
    }
    return false;
}

bool vt_nsim_payload_build(const struct vt_nsim_pki *pki, const struct vt_nsim_doc_params *p,
                           struct vt_sim_blob *out)
{
    struct vt_nsim_cbor c = {0};
    if (p->payload_override != NULL) {
        vt_nsim_cbor_raw(&c, p->payload_override, p->payload_override_len);
        return vt_nsim_cbor_finish(&c, out);
    }
    size_t entries = 0;
    for (size_t i = 0; i < ITEM_COUNT; i++) {
        entries += item_times(p, (enum payload_item)i);
    }
    if (p->indefinite_map) {
        vt_nsim_cbor_map_indef(&c);
    } else {
        vt_nsim_cbor_map(&c, entries);
    }
    for (size_t k = 0; k < ITEM_COUNT; k++) {
        enum payload_item it = (enum payload_item)(p->reverse_keys ? ITEM_COUNT - 1 - k : k);
        size_t times = item_times(p, it);
        for (size_t t = 0; t < times; t++) {
            vt_nsim_cbor_text(&c, item_names[it]);
            if (!put_value(&c, pki, p, it)) {
                fprintf(stderr, "nitro_sim: bad parameters for %s\n", item_names[it]);
                vt_nsim_cbor_discard(&c);
                return false;
            }
        }
    }
    if (p->indefinite_map && !p->no_break) {
        vt_nsim_cbor_break(&c);
    }
    cbor_zeros(&c, p->payload_trailing);
    return vt_nsim_cbor_finish(&c, out);
}

bool vt_nsim_sig_structure(const uint8_t *protected_hdr, size_t protected_len,
                           const uint8_t *payload, size_t payload_len, struct vt_sim_blob *out)
{
    struct vt_nsim_cbor c = {0};
    vt_nsim_cbor_array(&c, 4);
    vt_nsim_cbor_text(&c, "Signature1");
    vt_nsim_cbor_bstr(&c, protected_hdr, protected_len);
    vt_nsim_cbor_bstr(&c, NULL, 0);
    vt_nsim_cbor_bstr(&c, payload, payload_len);
    return vt_nsim_cbor_finish(&c, out);
}

static void fill_pcr(struct vt_nsim_pcr *r, uint64_t index, bool nonzero)
{
    memset(r, 0, sizeof(*r));
    r->index = index;
    r->len = 48;
    if (nonzero) {
        char seed[40];
        int n = snprintf(seed, sizeof(seed), "veritee nitro_sim PCR%u", (unsigned)index);
        SHA384((const unsigned char *)seed, (size_t)n, r->value);
    }
}

void vt_nsim_doc_params_default(struct vt_nsim_doc_params *p, const struct vt_nsim_pki *pki)
{
    memset(p, 0, sizeof(*p));
    p->timestamp_ms = (uint64_t)(pki->params.level[VT_NSIM_LEAF].not_before + 3) * 1000u;
    p->n_pcrs = 16;
    for (size_t i = 0; i < 16; i++) {
        fill_pcr(&p->pcrs[i], i, i <= 4);
    }
    p->n_cabundle = 4;
    for (size_t i = 0; i < 4; i++) {
        p->cabundle[i].level = (enum vt_nsim_level)i;
    }
    p->public_key.kind = VT_NSIM_OPT_NULL;
    p->user_data.kind = VT_NSIM_OPT_NULL;
    p->nonce.kind = VT_NSIM_OPT_NULL;
}

void vt_nsim_doc_params_debug(struct vt_nsim_doc_params *p)
{
    for (size_t i = 0; i < p->n_pcrs && i < VT_NSIM_MAX_PCRS; i++) {
        uint64_t idx = p->pcrs[i].index;
        if (idx == 0 || idx == 1 || idx == 2 || idx == 8) {
            memset(p->pcrs[i].value, 0, sizeof(p->pcrs[i].value));
        }
    }
}

/* The signature bytes for msg per the defect, into c as a bstr. */
static bool put_signature(struct vt_nsim_cbor *c, const struct vt_nsim_pki *pki,
                          const struct vt_nsim_doc_params *p, const struct vt_sim_blob *tbs,
                          const struct vt_sim_blob *payload, struct vt_nsim_doc_layout *lay)
{
    EVP_PKEY *key = p->signer != NULL ? p->signer : pki->key[VT_NSIM_LEAF];
    const uint8_t *msg = tbs->data;
    size_t msg_len = tbs->len;
    if (p->sig_defect == VT_NSIM_SIG_WRONG_KEY) {
        key = pki->unrelated_key;
    } else if (p->sig_defect == VT_NSIM_SIG_RAW_PAYLOAD) {
        msg = payload->data;
        msg_len = payload->len;
    }
    uint8_t der[150];
    size_t der_n = sizeof(der);
    uint8_t sig[97];
    size_t sig_n = 96;
    if (!sign_der(key, msg, msg_len, der, &der_n) || !der_to_raw(der, der_n, sig)) {
        return false;
    }
    switch (p->sig_defect) {
    case VT_NSIM_SIG_OK:
    case VT_NSIM_SIG_WRONG_KEY:
    case VT_NSIM_SIG_RAW_PAYLOAD:
        break;
    case VT_NSIM_SIG_FLIP:
        sig[10] ^= 0x01;
        break;
    case VT_NSIM_SIG_SHORT:
        sig_n = 95;
        break;
    case VT_NSIM_SIG_LONG:
        sig[96] = 0;
        sig_n = 97;
        break;
    case VT_NSIM_SIG_HIGH_S:
        if (!sig_high_s(key, sig)) {
            return false;
        }
        break;
    case VT_NSIM_SIG_ZERO:
        memset(sig, 0, sizeof(sig));
        break;
    case VT_NSIM_SIG_DER:
        vt_nsim_cbor_head(c, 2, der_n);
        lay->sig_off = c->len;
        lay->sig_len = der_n;
        vt_nsim_cbor_raw(c, der, der_n);
        return true;
    }
    vt_nsim_cbor_head(c, 2, sig_n);
    lay->sig_off = c->len;
    lay->sig_len = sig_n;
    vt_nsim_cbor_raw(c, sig, sig_n);
    return true;
}

bool vt_nsim_doc_build(const struct vt_nsim_pki *pki, const struct vt_nsim_doc_params *p,
                       struct vt_sim_blob *out, struct vt_nsim_doc_layout *layout)
{
    static const uint8_t es384_hdr[4] = {0xA1, 0x01, 0x38, 0x22};
    static const uint8_t empty_map[1] = {0xA0};
    const uint8_t *prot = p->protected_hdr != NULL ? p->protected_hdr : es384_hdr;
    size_t prot_len = p->protected_hdr != NULL ? p->protected_len : sizeof(es384_hdr);
    struct vt_sim_blob payload = {0}, tbs = {0};
    struct vt_nsim_doc_layout lay = {0};
    struct vt_nsim_cbor c = {0};
    bool ok = false;
    if (!vt_nsim_payload_build(pki, p, &payload) ||
        !vt_nsim_sig_structure(prot, prot_len, payload.data, payload.len, &tbs)) {
        goto out;
    }
    if (p->tagged) {
        vt_nsim_cbor_tag(&c, 18);
    }
    if (p->indefinite_array) {
        vt_nsim_cbor_array_indef(&c);
    } else {
        vt_nsim_cbor_array(&c, 4);
    }
    vt_nsim_cbor_head(&c, 2, prot_len);
    lay.protected_off = c.len;
    lay.protected_len = prot_len;
    vt_nsim_cbor_raw(&c, prot, prot_len);
    if (p->unprotected != NULL) {
        vt_nsim_cbor_raw(&c, p->unprotected, p->unprotected_len);
    } else {
        vt_nsim_cbor_raw(&c, empty_map, sizeof(empty_map));
    }
    vt_nsim_cbor_head(&c, 2, payload.len);
    lay.payload_off = c.len;
    lay.payload_len = payload.len;
    vt_nsim_cbor_raw(&c, payload.data, payload.len);
    if (!put_signature(&c, pki, p, &tbs, &payload, &lay)) {
        vt_nsim_cbor_discard(&c);
        goto out;
    }
    if (p->indefinite_array) {
        vt_nsim_cbor_break(&c);
    }
    lay.cose_len = c.len;
    cbor_zeros(&c, p->trailing);
    ok = vt_nsim_cbor_finish(&c, out);
    if (ok && layout != NULL) {
        *layout = lay;
    }
out:
    vt_sim_blob_cleanup(&payload);
    vt_sim_blob_cleanup(&tbs);
    return ok;
}

bool vt_nsim_default(vt_time now, struct vt_nsim_pki **pki, struct vt_sim_blob *doc)
{
    struct vt_nsim_pki_params pp;
    struct vt_nsim_doc_params dp;
    *pki = NULL;
    doc->data = NULL;
    doc->len = 0;
    vt_nsim_pki_params_default(&pp, now);
    struct vt_nsim_pki *k = vt_nsim_pki_new(&pp);
    if (k == NULL) {
        return false;
    }
    vt_nsim_doc_params_default(&dp, k);
    if (!vt_nsim_doc_build(k, &dp, doc, NULL)) {
        vt_nsim_pki_free(k);
        return false;
    }
    *pki = k;
    return true;
}

static bool write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
        return false;
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "nitro_sim: cannot write %s: %s\n", path, strerror(errno));
        return false;
    }
    bool ok = fwrite(p, 1, n, f) == n;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        fprintf(stderr, "nitro_sim: write error on %s\n", path);
    }
    return ok;
}

bool vt_nsim_write_dir(const struct vt_nsim_pki *pki, const struct vt_sim_blob *doc,
                       const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "nitro_sim: mkdir %s: %s\n", dir, strerror(errno));
        return false;
    }
    struct vt_sim_blob pem = {0}, der = {0};
    bool ok = vt_nsim_cert_pem(pki, VT_NSIM_ROOT, &pem) &&
              vt_nsim_cert_der(pki, VT_NSIM_ROOT, &der) &&
              write_file(dir, "doc.cose", doc->data, doc->len) &&
              write_file(dir, "root.pem", pem.data, pem.len) &&
              write_file(dir, "root.der", der.data, der.len);
    vt_sim_blob_cleanup(&pem);
    vt_sim_blob_cleanup(&der);
    return ok;
}
