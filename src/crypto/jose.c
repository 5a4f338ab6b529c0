/*
 * JOSE for the key broker (src/crypto/jose.h): JWKs and their RFC 7638 thumbprints, compact
 * JWS with ES256, compact JWE with RSA-OAEP-256 or ECDH-ES+A256KW and A256GCM. OpenSSL EVP for
 * the cryptography, jansson for the JSON.
 *
 * Every base64url value goes through b64u_*: the URL-safe alphabet only (no padding, no
 * whitespace, which vt_base64_decode would otherwise accept) and zero unused bits, so every value
 * has exactly one accepted encoding. Secrets (CEK, ECDH shared secret, KEK, plaintext that failed
 * authentication) are wiped before their memory is released.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "base/encoding.h"
#include "crypto/jose.h"

#include "aead.h"
#include "crypto_internal.h"

/* ---- small helpers ---- */

#define CHECK_MAX VT_DIAG_CHECK_MAX
#define RSA_MAX_BYTES (VT_JWK_RSA_MAX_BITS / 8)
#define CEK_LEN VT_AEAD_KEY_LEN
#define KW_LEN (CEK_LEN + 8)
#define GCM_IV_LEN VT_AEAD_NONCE_LEN
#define GCM_TAG_LEN VT_AEAD_TAG_LEN
#define KDF_PARTY_MAX 1024
/* Largest EC coordinate (and ECDH shared secret): P-521, 66 bytes. */
#define EC_COORD_MAX 66

static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

/* "<prefix>.<name>" into out (truncated to fit). */
static const char *check_name(char out[CHECK_MAX], const char *prefix, const char *name)
{
    snprintf(out, CHECK_MAX, "%s.%s", prefix, name);
    return out;
}

/* A value from untrusted input, for a diag detail: printable ASCII only, at most 40 characters,
 * quoted, "..." when cut. */
static const char *show(const char *s, size_t n, char out[48])
{
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < n && i < 40; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
    }
    out[o++] = '"';
    if (n > 40) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

/* The type of a JSON value, for messages. */
static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static bool b64u_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* Decoded length of n unpadded base64url digits (n % 4 != 1). */
static size_t b64u_decoded_len(size_t n)
{
    return n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
}

/* Check the JOSE base64url syntax of s[n]; VT_E_BAD_BASE64 recorded under `check`. */
static enum vt_err b64u_syntax(const char *s, size_t n, const char *check, struct vt_diag *d)
{
    for (size_t i = 0; i < n; i++) {
        if (!b64u_char(s[i])) {
            unsigned char c = (unsigned char)s[i];
            return vt_fail(d, VT_E_BAD_BASE64, check,
                           "character 0x%02x at offset %zu is not base64url (RFC 7515 section 2: "
                           "URL-safe alphabet, no padding, no whitespace)",
                           c, i);
        }
    }
    VT_ENSURE(n % 4 != 1, d, VT_E_BAD_BASE64, check,
              "%zu base64url digits: a length of 1 modulo 4 is never valid", n);
    return VT_OK;
}

/* Decode s[n] into out[cap]; *out_len gets the length. Records VT_E_BAD_BASE64 under `check`. */
static enum vt_err b64u_decode_into(const char *s, size_t n, const char *check, uint8_t *out,
                                    size_t cap, size_t *out_len, struct vt_diag *d)
{
    VT_TRY(b64u_syntax(s, n, check, d));
    if (b64u_decoded_len(n) > cap) {
        return vt_fail(d, VT_E_BAD_LENGTH, check, "%zu bytes, at most %zu allowed",
                       b64u_decoded_len(n), cap);
    }
    enum vt_err err = vt_base64_decode(s, n, true, out, cap, out_len);
    VT_ENSURE(err == VT_OK, d, VT_E_BAD_BASE64, check,
              "invalid base64url (non-zero unused bits in the last digit)");
    return VT_OK;
}

/* Decode s[n], which must decode to exactly `want` bytes (VT_E_BAD_LENGTH otherwise). */
static enum vt_err b64u_decode_exact(const char *s, size_t n, const char *check, uint8_t *out,
                                     size_t want, struct vt_diag *d)
{
    VT_TRY(b64u_syntax(s, n, check, d));
    size_t got = b64u_decoded_len(n);
    VT_ENSURE(got == want, d, VT_E_BAD_LENGTH, check, "%zu bytes, expected %zu", got, want);
    size_t len = 0;
    return b64u_decode_into(s, n, check, out, want, &len, d);
}

/* Decode s[n] into a fresh heap buffer (*out, at least 1 byte allocated). */
static enum vt_err b64u_decode_alloc(const char *s, size_t n, const char *check, uint8_t **out,
                                     size_t *out_len, struct vt_diag *d)
{
    *out = NULL;
    *out_len = 0;
    VT_TRY(b64u_syntax(s, n, check, d));
    size_t cap = b64u_decoded_len(n);
    uint8_t *p = malloc(cap + 1);
    VT_ENSURE(p != NULL, d, VT_E_NOMEM, check, "cannot allocate %zu bytes", cap);
    enum vt_err err = b64u_decode_into(s, n, check, p, cap, out_len, d);
    if (err != VT_OK) {
        free(p);
        return err;
    }
    *out = p;
    return VT_OK;
}

/* base64url of p[n], NUL-terminated, on the heap; NULL when out of memory. */
static char *b64u_encode(const uint8_t *p, size_t n)
{
    size_t cap = n / 3 * 4 + 4;
    char *s = malloc(cap);
    if (s != NULL && vt_base64_encode(p, n, true, s, cap) != VT_OK) {
        free(s);
        s = NULL;
    }
    return s;
}

/* Parse JSON text that must be one object, duplicate members rejected. */
static enum vt_err json_object_parse(const char *s, size_t n, const char *check, json_t **out,
                                     struct vt_diag *d)
{
    json_error_t je;
    json_t *o = json_loadb(s, n, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL) {
        if (json_error_code(&je) == json_error_duplicate_key) {
            return vt_fail(d, VT_E_DUPLICATE, check, "duplicate member at line %d column %d: %s",
                           je.line, je.column, je.text);
        }
        return vt_fail(d, VT_E_BAD_JSON, check, "%s at line %d column %d", je.text, je.line,
                       je.column);
    }
    if (!json_is_object(o)) {
        const char *t = json_type_name(o);
        json_decref(o);
        return vt_fail(d, VT_E_BAD_JSON, check, "expected a JSON object, got %s", t);
    }
    *out = o;
    return VT_OK;
}

/*
 * A string member: VT_E_MISSING_FIELD if absent (unless optional: then *s is NULL), VT_E_BAD_FIELD
 * if not a string. Check name "<prefix>.<key>".
 */
static enum vt_err get_string(const json_t *obj, const char *prefix, const char *key, bool optional,
                              const char **s, size_t *n, struct vt_diag *d)
{
    char chk[CHECK_MAX];
    *s = NULL;
    *n = 0;
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        VT_ENSURE(optional, d, VT_E_MISSING_FIELD, check_name(chk, prefix, key),
                  "required member \"%s\" is missing", key);
        return VT_OK;
    }
    VT_ENSURE(json_is_string(v), d, VT_E_BAD_FIELD, check_name(chk, prefix, key),
              "member \"%s\" must be a string, got %s", key, json_type_name(v));
    *s = json_string_value(v);
    *n = json_string_length(v);
    return VT_OK;
}

static bool str_is(const char *s, size_t n, const char *want)
{
    return s != NULL && n == strlen(want) && memcmp(s, want, n) == 0;
}

/* ---- JWK ---- */

enum jwk_type {
    JWK_RSA,
    JWK_EC,
};

struct curve {
    const char *crv;
    const char *group;
    size_t coord;       /* bytes of a coordinate (and of the ECDH shared secret) */
    int bits;           /* the curve's size */
    const uint8_t *oid; /* the curve's OBJECT IDENTIFIER, DER content octets */
    size_t oid_len;
};

struct vt_jwk {
    enum jwk_type type;
    int bits;
    const struct curve *curve;    /* NULL for RSA */
    const char *crv;              /* "P-256", "P-384" or "P-521"; NULL for RSA */
    const char *group;            /* OpenSSL group name */
    size_t coord;                 /* EC coordinate bytes */
    uint8_t xy[2 * EC_COORD_MAX]; /* EC: raw X || Y, 2 * coord bytes */
    /* EC: the public point was validated on import (ec_pkey) and may be used as an ECDH peer
     * without OpenSSL checking it again (ecdh). False for keys from elsewhere (a PEM file). */
    bool point_checked;
    struct vt_key *key; /* the key itself (its algorithm, EVP_PKEY, private half); owned */
    char *m1;           /* base64url: RSA "e", EC "x" */
    char *m2;           /* base64url: RSA "n", EC "y" */
};

/* SPEC: RFC 5480 section 2.1.1.1, the named curves: secp256r1 is 1.2.840.10045.3.1.7, secp384r1
 * 1.3.132.0.34, secp521r1 1.3.132.0.35 (X.690 8.19: 40 * 1 + 2 = 0x2a, 840 = 0x86 0x48, 10045 =
 * 0xce 0x3d; 40 * 1 + 3 = 0x2b, 132 = 0x81 0x04). */
static const uint8_t oid_p256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_p384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t oid_p521[] = {0x2b, 0x81, 0x04, 0x00, 0x23};

static const struct curve curves[] = {
    {"P-256", "prime256v1", 32, 256, oid_p256, sizeof(oid_p256)},
    {"P-384", "secp384r1", 48, 384, oid_p384, sizeof(oid_p384)},
    {"P-521", "secp521r1", 66, 521, oid_p521, sizeof(oid_p521)},
};

static const struct curve *curve_by_crv(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        if (str_is(s, n, curves[i].crv)) {
            return &curves[i];
        }
    }
    return NULL;
}

static const struct curve *curve_by_group(const char *group)
{
    for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        if (strcmp(group, curves[i].group) == 0) {
            return &curves[i];
        }
    }
    /* OpenSSL may report the NIST names too. */
    return strcmp(group, "P-256") == 0   ? &curves[0]
           : strcmp(group, "P-384") == 0 ? &curves[1]
           : strcmp(group, "P-521") == 0 ? &curves[2]
                                         : NULL;
}

void vt_jwk_free(struct vt_jwk *k)
{
    if (k != NULL) {
        vt_key_free(k->key);
        free(k->m1);
        free(k->m2);
        free(k);
    }
}

/*
 * The struct vt_key of a JWK, owning pkey (freed on failure): for EC keys, a and b are the
 * coordinates (c->coord bytes each); a P-384 key gets the nettle point of the fast verification
 * path like any other P-384 vt_key.
 */
static enum vt_err jwk_key(enum jwk_type type, EVP_PKEY *pkey, bool has_private,
                           const struct curve *c, const uint8_t *a, const uint8_t *b,
                           struct vt_key **out, struct vt_diag *d)
{
    enum vt_key_alg alg = type == JWK_RSA   ? VT_KEY_RSA
                          : c == &curves[0] ? VT_KEY_P256
                          : c == &curves[1] ? VT_KEY_P384
                                            : VT_KEY_P521;
    struct vt_key *key = NULL;
    uint8_t xy[96];
    if (alg == VT_KEY_P384) {
        memcpy(xy, a, 48);
        memcpy(xy + 48, b, 48);
        VT_TRY(vt_crypto_p384_key_new(xy, "a JWK", pkey, &key, d));
    } else {
        key = vt_crypto_key_alloc(alg);
        if (key == NULL) {
            EVP_PKEY_free(pkey);
            return vt_fail(d, VT_E_NOMEM, "jwk", "cannot allocate a key");
        }
        key->pkey = pkey;
        if (alg == VT_KEY_P256) {
            memcpy(key->xy, a, 32);
            memcpy(key->xy + 32, b, 32);
        }
        snprintf(key->label, sizeof(key->label), "a JWK");
    }
    key->has_private = has_private;
    *out = key;
    return VT_OK;
}

/* A new key object owning pkey and the encodings of the two public values (a[an], b[bn]). */
static enum vt_err jwk_new(enum jwk_type type, EVP_PKEY *pkey, bool has_private, int bits,
                           const struct curve *c, const uint8_t *a, size_t an, const uint8_t *b,
                           size_t bn, struct vt_jwk **out, struct vt_diag *d)
{
    struct vt_jwk *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        EVP_PKEY_free(pkey);
        return vt_fail(d, VT_E_NOMEM, "jwk", "cannot allocate a key");
    }
    k->type = type;
    k->bits = bits;
    enum vt_err err = jwk_key(type, pkey, has_private, c, a, b, &k->key, d);
    if (err != VT_OK) {
        vt_jwk_free(k);
        return err;
    }
    if (c != NULL) {
        k->curve = c;
        k->crv = c->crv;
        k->group = c->group;
        k->coord = c->coord;
        memcpy(k->xy, a, c->coord);
        memcpy(k->xy + c->coord, b, c->coord);
    }
    k->m1 = b64u_encode(a, an);
    k->m2 = b64u_encode(b, bn);
    if (k->m1 == NULL || k->m2 == NULL) {
        vt_jwk_free(k);
        return vt_fail(d, VT_E_NOMEM, "jwk", "cannot allocate the key's encodings");
    }
    *out = k;
    return VT_OK;
}

/* Check an RSA modulus and exponent (big-endian, no leading zero) against the JWK limits. */
static enum vt_err rsa_check(const BIGNUM *n, const BIGNUM *e, const char *prefix,
                             struct vt_diag *d)
{
    char chk[CHECK_MAX];
    int bits = BN_num_bits(n);
    VT_ENSURE(bits >= VT_JWK_RSA_MIN_BITS && bits <= VT_JWK_RSA_MAX_BITS, d, VT_E_BAD_KEY,
              check_name(chk, prefix, "n"), "RSA modulus of %d bits; %d to %d bits accepted", bits,
              VT_JWK_RSA_MIN_BITS, VT_JWK_RSA_MAX_BITS);
    VT_ENSURE(BN_is_odd(n), d, VT_E_BAD_KEY, check_name(chk, prefix, "n"),
              "RSA modulus of %d bits is even", bits);
    int ebits = BN_num_bits(e);
    VT_ENSURE(ebits <= 64, d, VT_E_BAD_KEY, check_name(chk, prefix, "e"),
              "RSA public exponent of %d bits; at most 64 accepted", ebits);
    VT_ENSURE(BN_is_odd(e) && ebits >= 2, d, VT_E_BAD_KEY, check_name(chk, prefix, "e"),
              "RSA public exponent %llu must be odd and at least 3",
              (unsigned long long)BN_get_word(e));
    return VT_OK;
}

/* An RSA public EVP_PKEY from n and e. */
static enum vt_err rsa_pkey(const BIGNUM *n, const BIGNUM *e, const char *prefix, EVP_PKEY **out,
                            struct vt_diag *d)
{
    char chk[CHECK_MAX];
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    if (bld != NULL && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
        params = OSSL_PARAM_BLD_to_param(bld);
    }
    if (params != NULL) {
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    }
    if (ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1) {
        if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
            pkey = NULL;
        }
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    if (pkey == NULL) {
        char why[VT_CRYPTO_ERRTEXT_MAX];
        vt_crypto_errors(why, sizeof(why));
        return vt_fail(d, VT_E_BAD_KEY, check_name(chk, prefix, "n"),
                       "the library refuses the RSA key: %s", why);
    }
    *out = pkey;
    return VT_OK;
}

/*
 * An EC public EVP_PKEY from the coordinates (c->coord bytes each), validated (on the curve, not
 * infinity: vt_crypto_ec_pkey); VT_E_BAD_KEY "<prefix>.point" if not. The key may be shared
 * through key.c's cache of imported keys, which a key enters only once validated; an ephemeral
 * key (a JWE's epk, never seen twice) is built apart so as not to push others out of it.
 */
static enum vt_err ec_pkey(const struct curve *c, const uint8_t *x, const uint8_t *y,
                           const char *prefix, bool ephemeral, EVP_PKEY **out, struct vt_diag *d)
{
    char chk[CHECK_MAX];
    uint8_t xy[2 * EC_COORD_MAX];
    memcpy(xy, x, c->coord);
    memcpy(xy + c->coord, y, c->coord);
    bool ok = ephemeral ? vt_crypto_ec_pkey_new(c->group, xy, 2 * c->coord, out)
                        : vt_crypto_ec_pkey(c->group, xy, 2 * c->coord, out);
    if (!ok) {
        char why[VT_CRYPTO_ERRTEXT_MAX];
        vt_crypto_errors(why, sizeof(why));
        return vt_fail(d, VT_E_BAD_KEY, check_name(chk, prefix, "point"),
                       "(x, y) is not a valid point on %s: %s", c->crv, why);
    }
    return VT_OK;
}

static enum vt_err jwk_rsa_from_obj(const json_t *obj, const char *prefix, struct vt_jwk **out,
                                    struct vt_diag *d)
{
    char chk[CHECK_MAX];
    const char *ns;
    const char *es;
    size_t nn;
    size_t en;
    VT_TRY(get_string(obj, prefix, "n", false, &ns, &nn, d));
    VT_TRY(get_string(obj, prefix, "e", false, &es, &en, d));
    uint8_t nb[RSA_MAX_BYTES];
    uint8_t eb[8];
    size_t nlen = 0;
    size_t elen = 0;
    check_name(chk, prefix, "n");
    VT_TRY(b64u_syntax(ns, nn, chk, d));
    VT_ENSURE(b64u_decoded_len(nn) <= sizeof(nb), d, VT_E_BAD_KEY, chk,
              "RSA modulus of %zu bytes; at most %d bits accepted", b64u_decoded_len(nn),
              VT_JWK_RSA_MAX_BITS);
    VT_TRY(b64u_decode_into(ns, nn, chk, nb, sizeof(nb), &nlen, d));
    VT_ENSURE(nlen > 0, d, VT_E_BAD_FIELD, chk, "empty RSA modulus");
    VT_ENSURE(nb[0] != 0, d, VT_E_BAD_FIELD, chk,
              "RSA modulus has a leading zero octet (RFC 7518 section 6.3.1.1)");
    check_name(chk, prefix, "e");
    VT_TRY(b64u_syntax(es, en, chk, d));
    VT_ENSURE(b64u_decoded_len(en) <= sizeof(eb), d, VT_E_BAD_KEY, chk,
              "RSA public exponent of %zu bytes; at most 64 bits accepted", b64u_decoded_len(en));
    VT_TRY(b64u_decode_into(es, en, chk, eb, sizeof(eb), &elen, d));
    VT_ENSURE(elen > 0, d, VT_E_BAD_FIELD, chk, "empty RSA public exponent");
    VT_ENSURE(eb[0] != 0, d, VT_E_BAD_FIELD, chk,
              "RSA public exponent has a leading zero octet (RFC 7518 section 6.3.1.2)");

    BIGNUM *n = BN_bin2bn(nb, (int)nlen, NULL);
    BIGNUM *e = BN_bin2bn(eb, (int)elen, NULL);
    enum vt_err err = VT_OK;
    EVP_PKEY *pkey = NULL;
    if (n == NULL || e == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "jwk", "cannot allocate big numbers");
    }
    if (err == VT_OK) {
        err = rsa_check(n, e, prefix, d);
    }
    int bits = n != NULL ? BN_num_bits(n) : 0;
    if (err == VT_OK) {
        err = rsa_pkey(n, e, prefix, &pkey, d);
    }
    BN_free(n);
    BN_free(e);
    VT_TRY(err);
    return jwk_new(JWK_RSA, pkey, false, bits, NULL, eb, elen, nb, nlen, out, d);
}

static enum vt_err jwk_ec_from_obj(const json_t *obj, const char *prefix, bool ephemeral,
                                   struct vt_jwk **out, struct vt_diag *d)
{
    char chk[CHECK_MAX];
    char shown[48];
    const char *cs;
    const char *xs;
    const char *ys;
    size_t cn;
    size_t xn;
    size_t yn;
    VT_TRY(get_string(obj, prefix, "crv", false, &cs, &cn, d));
    const struct curve *c = curve_by_crv(cs, cn);
    VT_ENSURE(c != NULL, d, VT_E_UNSUPPORTED_ALGORITHM, check_name(chk, prefix, "crv"),
              "curve %s is not supported; \"P-256\", \"P-384\" and \"P-521\" are",
              show(cs, cn, shown));
    VT_TRY(get_string(obj, prefix, "x", false, &xs, &xn, d));
    VT_TRY(get_string(obj, prefix, "y", false, &ys, &yn, d));
    uint8_t x[EC_COORD_MAX];
    uint8_t y[EC_COORD_MAX];
    VT_TRY(b64u_decode_exact(xs, xn, check_name(chk, prefix, "x"), x, c->coord, d));
    VT_TRY(b64u_decode_exact(ys, yn, check_name(chk, prefix, "y"), y, c->coord, d));
    EVP_PKEY *pkey = NULL;
    VT_TRY(ec_pkey(c, x, y, prefix, ephemeral, &pkey, d));
    VT_TRY(jwk_new(JWK_EC, pkey, false, c->bits, c, x, c->coord, y, c->coord, out, d));
    (*out)->point_checked = true;
    return VT_OK;
}

/* vt_jwk_from_json with the check names under `prefix` ("jwk", "jwe.epk"); ephemeral: see
 * ec_pkey. */
static enum vt_err jwk_from_obj(const json_t *obj, const char *prefix, bool ephemeral,
                                struct vt_jwk **out, struct vt_diag *d)
{
    char chk[CHECK_MAX];
    char shown[48];
    VT_ENSURE(obj != NULL && json_is_object(obj), d, VT_E_BAD_JSON, check_name(chk, prefix, "json"),
              "a JWK must be a JSON object, got %s", obj != NULL ? json_type_name(obj) : "nothing");
    for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++) {
        VT_ENSURE(json_object_get(obj, private_members[i]) == NULL, d, VT_E_BAD_KEY,
                  check_name(chk, prefix, "private"),
                  "member \"%s\" is private key material; only public keys are accepted",
                  private_members[i]);
    }
    const char *kty;
    size_t kn;
    VT_TRY(get_string(obj, prefix, "kty", false, &kty, &kn, d));
    if (str_is(kty, kn, "RSA")) {
        return jwk_rsa_from_obj(obj, prefix, out, d);
    }
    if (str_is(kty, kn, "EC")) {
        return jwk_ec_from_obj(obj, prefix, ephemeral, out, d);
    }
    return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, check_name(chk, prefix, "kty"),
                   "key type %s is not supported; \"RSA\" and \"EC\" are", show(kty, kn, shown));
}

enum vt_err vt_jwk_from_json(const struct json_t *obj, struct vt_jwk **out, struct vt_diag *d)
{
    *out = NULL;
    return jwk_from_obj(obj, "jwk", false, out, d);
}

enum vt_err vt_jwk_parse(const char *json, size_t len, struct vt_jwk **out, struct vt_diag *d)
{
    *out = NULL;
    VT_ENSURE(len <= VT_JWK_MAX_JSON, d, VT_E_TOO_LARGE, "jwk.json",
              "JWK of %zu bytes; at most %u accepted", len, VT_JWK_MAX_JSON);
    json_t *obj = NULL;
    VT_TRY(json_object_parse(json, len, "jwk.json", &obj, d));
    enum vt_err err = jwk_from_obj(obj, "jwk", false, out, d);
    json_decref(obj);
    return err;
}

enum vt_err vt_jwk_from_p256_xy(const uint8_t xy[64], struct vt_jwk **out, struct vt_diag *d)
{
    *out = NULL;
    EVP_PKEY *pkey = NULL;
    VT_TRY(ec_pkey(&curves[0], xy, xy + 32, "jwk", false, &pkey, d));
    VT_TRY(jwk_new(JWK_EC, pkey, false, 256, &curves[0], xy, 32, xy + 32, 32, out, d));
    (*out)->point_checked = true;
    return VT_OK;
}

const char *vt_jwk_kty(const struct vt_jwk *k)
{
    return k->type == JWK_RSA ? "RSA" : "EC";
}

const char *vt_jwk_curve(const struct vt_jwk *k)
{
    return k->crv;
}

int vt_jwk_bits(const struct vt_jwk *k)
{
    return k->bits;
}

const struct vt_key *vt_jwk_key(const struct vt_jwk *k)
{
    return k->key;
}

bool vt_jwk_has_private(const struct vt_jwk *k)
{
    return k->key->has_private;
}

enum vt_err vt_jwk_p256_xy(const struct vt_jwk *k, uint8_t xy[64], struct vt_diag *d)
{
    VT_ENSURE(k->type == JWK_EC && k->coord == 32, d, VT_E_UNSUPPORTED_ALGORITHM, "jwk.crv",
              "the key is %s %s, not EC P-256", vt_jwk_kty(k), k->crv != NULL ? k->crv : "");
    memcpy(xy, k->xy, 64);
    return VT_OK;
}

enum vt_err vt_jwk_thumbprint_input(const struct vt_jwk *k, struct vt_buf *out)
{
    /* Members in lexicographic order (RFC 7638 section 3.2, 3.3); the values are base64url or
     * fixed names and need no JSON escaping. */
    if (k->type == JWK_RSA) {
        return vt_buf_printf(out, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", k->m1, k->m2);
    }
    return vt_buf_printf(out, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", k->crv,
                         k->m1, k->m2);
}

void vt_jwk_thumbprint(const struct vt_jwk *k, uint8_t out[VT_SHA256_LEN])
{
    /* The same bytes as vt_jwk_thumbprint_input, hashed without allocating. */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    const char *parts[9];
    size_t np = 0;
    if (k->type == JWK_RSA) {
        parts[np++] = "{\"e\":\"";
        parts[np++] = k->m1;
        parts[np++] = "\",\"kty\":\"RSA\",\"n\":\"";
        parts[np++] = k->m2;
        parts[np++] = "\"}";
    } else {
        parts[np++] = "{\"crv\":\"";
        parts[np++] = k->crv;
        parts[np++] = "\",\"kty\":\"EC\",\"x\":\"";
        parts[np++] = k->m1;
        parts[np++] = "\",\"y\":\"";
        parts[np++] = k->m2;
        parts[np++] = "\"}";
    }
    for (size_t i = 0; ok && i < np; i++) {
        ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i])) == 1;
    }
    unsigned int n = 0;
    ok = ok && EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == VT_SHA256_LEN;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        /* Only if the library cannot allocate a digest context: fall back to the buffer form. */
        struct vt_buf b;
        vt_buf_init(&b, VT_JWK_MAX_JSON);
        if (vt_jwk_thumbprint_input(k, &b) == VT_OK) {
            vt_sha256(b.data, b.len, out);
        } else {
            memset(out, 0, VT_SHA256_LEN);
        }
        vt_buf_cleanup(&b);
    }
}

void vt_jwk_thumbprint_b64(const struct vt_jwk *k, char out[44])
{
    uint8_t h[VT_SHA256_LEN];
    vt_jwk_thumbprint(k, h);
    if (vt_base64_encode(h, sizeof(h), true, out, 44) != VT_OK) {
        out[0] = '\0';
    }
}

char *vt_jwk_public_json(const struct vt_jwk *k)
{
    struct vt_buf b;
    vt_buf_init(&b, VT_JWK_MAX_JSON);
    if (vt_jwk_thumbprint_input(k, &b) != VT_OK) {
        vt_buf_cleanup(&b);
        return NULL;
    }
    size_t n = 0;
    return (char *)vt_buf_steal(&b, &n);
}

/*
 * SubjectPublicKeyInfo of an EC key, built from its coordinates (the same bytes as i2d_PUBKEY,
 * without OpenSSL's encoder set-up on every call). SPEC: RFC 5480 section 2 and X.690 DER:
 *
 *   30 L1                                SEQUENCE (SubjectPublicKeyInfo), L1 = 2 + L2 + 2 + L3
 *     30 L2                              SEQUENCE (AlgorithmIdentifier), L2 = 9 + 2 + oid_len
 *       06 07 2a 86 48 ce 3d 02 01       OBJECT IDENTIFIER id-ecPublicKey (1.2.840.10045.2.1)
 *       06 oid_len <curve OID>           OBJECT IDENTIFIER namedCurve (ECParameters)
 *     03 L3 00 04 <X> <Y>                BIT STRING (no unused bits): the uncompressed point,
 *                                        L3 = 2 + 2 * coord
 *
 * L2 is at most 18 and L3 at most 134 (P-521), so only L1 and L3 can reach the long form, and
 * then with one length byte (0x81): L1 is 155 on P-521.
 */
static enum vt_err ec_spki_der(const struct vt_jwk *k, struct vt_buf *out)
{
    static const uint8_t id_ec_public_key[] = {0x06, 0x07, 0x2a, 0x86, 0x48,
                                               0xce, 0x3d, 0x02, 0x01};
    const struct curve *c = k->curve;
    uint8_t der[3 + 2 + sizeof(id_ec_public_key) + 2 + 8 + 3 + 2 + 2 * EC_COORD_MAX];
    size_t alg_len = sizeof(id_ec_public_key) + 2 + c->oid_len;
    size_t bits_len = 2 + 2 * c->coord;
    size_t total = 2 + alg_len + (bits_len < 128 ? 2 : 3) + bits_len;
    size_t o = 0;
    der[o++] = 0x30;
    if (total >= 128) {
        der[o++] = 0x81;
    }
    der[o++] = (uint8_t)total;
    der[o++] = 0x30;
    der[o++] = (uint8_t)alg_len;
    memcpy(der + o, id_ec_public_key, sizeof(id_ec_public_key));
    o += sizeof(id_ec_public_key);
    der[o++] = 0x06;
    der[o++] = (uint8_t)c->oid_len;
    memcpy(der + o, c->oid, c->oid_len);
    o += c->oid_len;
    der[o++] = 0x03;
    if (bits_len >= 128) {
        der[o++] = 0x81;
    }
    der[o++] = (uint8_t)bits_len;
    der[o++] = 0x00;
    der[o++] = 0x04;
    memcpy(der + o, k->xy, 2 * c->coord);
    o += 2 * c->coord;
    return vt_buf_append(out, der, o);
}

enum vt_err vt_jwk_spki_der(const struct vt_jwk *k, struct vt_buf *out)
{
    if (k->type == JWK_EC) {
        return ec_spki_der(k, out);
    }
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k->key->pkey, &der);
    if (n <= 0) {
        ERR_clear_error();
        return VT_E_CRYPTO;
    }
    enum vt_err err = vt_buf_append(out, der, (size_t)n);
    OPENSSL_free(der);
    return err;
}

/* A key from an EVP_PKEY (generated or loaded), which the new key owns on success and on
 * failure. */
static enum vt_err jwk_from_pkey(EVP_PKEY *pkey, bool has_private, struct vt_jwk **out,
                                 struct vt_diag *d)
{
    enum vt_err err = VT_OK;
    BIGNUM *a = NULL;
    BIGNUM *b = NULL;
    uint8_t ab[RSA_MAX_BYTES];
    uint8_t bb[RSA_MAX_BYTES];
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &b) ||
            !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &a)) {
            err = vt_fail(d, VT_E_CRYPTO, "jwk.n", "cannot read the RSA key's parameters");
        }
        if (err == VT_OK) {
            err = rsa_check(b, a, "jwk", d);
        }
        if (err == VT_OK) {
            int bits = BN_num_bits(b);
            int an = BN_bn2bin(a, ab);
            int bn = BN_bn2bin(b, bb);
            BN_free(a);
            BN_free(b);
            return jwk_new(JWK_RSA, pkey, has_private, bits, NULL, ab, (size_t)an, bb, (size_t)bn,
                           out, d);
        }
    } else if (EVP_PKEY_is_a(pkey, "EC")) {
        char group[64] = "";
        size_t gl = 0;
        const struct curve *c = NULL;
        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                           &gl)) {
            c = curve_by_group(group);
        }
        if (c == NULL) {
            err = vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "jwk.crv",
                          "EC key on curve \"%s\"; P-256, P-384 and P-521 are supported",
                          group[0] ? group : "unknown");
        } else if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &a) ||
                   !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b) ||
                   BN_bn2binpad(a, ab, (int)c->coord) != (int)c->coord ||
                   BN_bn2binpad(b, bb, (int)c->coord) != (int)c->coord) {
            err = vt_fail(d, VT_E_CRYPTO, "jwk.point", "cannot read the EC public point");
        } else {
            BN_free(a);
            BN_free(b);
            return jwk_new(JWK_EC, pkey, has_private, c->bits, c, ab, c->coord, bb, c->coord, out,
                           d);
        }
    } else {
        err = vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "jwk.kty",
                      "key type %s; RSA and EC keys are supported", EVP_PKEY_get0_type_name(pkey));
    }
    BN_free(a);
    BN_free(b);
    EVP_PKEY_free(pkey);
    return err;
}

enum vt_err vt_jwk_from_spki_der(const uint8_t *der, size_t len, struct vt_jwk **out,
                                 struct vt_diag *d)
{
    *out = NULL;
    const unsigned char *q = der;
    EVP_PKEY *pkey = len <= VT_MAX_CERT_SIZE ? d2i_PUBKEY(NULL, &q, (long)len) : NULL;
    if (pkey == NULL || (size_t)(q - der) != len) {
        EVP_PKEY_free(pkey);
        char why[VT_CRYPTO_ERRTEXT_MAX];
        vt_crypto_errors(why, sizeof(why));
        return vt_fail(d, VT_E_BAD_KEY, "jwk.spki",
                       "not one DER SubjectPublicKeyInfo of %zu bytes: %s", len, why);
    }
    return jwk_from_pkey(pkey, false, out, d);
}

enum vt_err vt_jwk_generate(const char *type, struct vt_jwk **out, struct vt_diag *d)
{
    *out = NULL;
    EVP_PKEY *pkey = NULL;
    VT_ENSURE(type != NULL, d, VT_E_ARG, "jwk.generate", "no key type given");
    if (strcmp(type, "RSA-2048") == 0 || strcmp(type, "RSA-3072") == 0 ||
        strcmp(type, "RSA-4096") == 0) {
        size_t bits = (size_t)strtoul(type + 4, NULL, 10);
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);
    } else if (strcmp(type, "P-256") == 0 || strcmp(type, "P-384") == 0 ||
               strcmp(type, "P-521") == 0) {
        pkey = EVP_EC_gen(type);
    } else {
        char shown[48];
        return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "jwk.generate",
                       "key type %s; RSA-2048, RSA-3072, RSA-4096, P-256, P-384 and P-521 are "
                       "supported",
                       show(type, strlen(type), shown));
    }
    VT_ENSURE(pkey != NULL, d, VT_E_CRYPTO, "jwk.generate", "cannot generate a %s key", type);
    return jwk_from_pkey(pkey, true, out, d);
}

enum vt_err vt_jwk_private_pem(const struct vt_jwk *k, struct vt_buf *out, struct vt_diag *d)
{
    VT_ENSURE(k->key->has_private, d, VT_E_STATE, "jwk.private", "the key has no private half");
    BIO *b = BIO_new(BIO_s_secmem());
    VT_ENSURE(b != NULL, d, VT_E_NOMEM, "jwk.pem", "cannot allocate a BIO");
    enum vt_err err = VT_OK;
    if (!PEM_write_bio_PrivateKey(b, k->key->pkey, NULL, NULL, 0, NULL, NULL)) {
        err = vt_fail(d, VT_E_CRYPTO, "jwk.pem", "cannot write the key");
    } else {
        char *p = NULL;
        long n = BIO_get_mem_data(b, &p);
        err = vt_buf_append(out, p, (size_t)n);
        if (err != VT_OK) {
            vt_fail(d, err, "jwk.pem", "cannot append %ld bytes of PEM", n);
        }
    }
    BIO_free(b);
    return err;
}

/* No passphrase prompt: an encrypted PEM key is refused. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

enum vt_err vt_jwk_from_private_pem(const char *pem, size_t len, struct vt_jwk **out,
                                    struct vt_diag *d)
{
    *out = NULL;
    VT_ENSURE(len <= 64u * 1024u, d, VT_E_TOO_LARGE, "jwk.pem",
              "key text of %zu bytes; at most 65536 accepted", len);
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    VT_ENSURE(b != NULL, d, VT_E_NOMEM, "jwk.pem", "cannot allocate a BIO");
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
    BIO_free(b);
    if (pkey == NULL) {
        char why[VT_CRYPTO_ERRTEXT_MAX];
        vt_crypto_errors(why, sizeof(why));
        return vt_fail(d, VT_E_BAD_PEM, "jwk.pem", "not an unencrypted PEM private key: %s", why);
    }
    return jwk_from_pkey(pkey, true, out, d);
}

/* ---- Concat KDF (RFC 7518 section 4.6.2, NIST SP 800-56A section 5.8.1) ---- */

/* Exposed to the unit tests (RFC 7518 appendix C vector); not part of the public API. */
enum vt_err vt_jose_concat_kdf(const uint8_t *z, size_t zlen, const char *alg_id,
                               const uint8_t *apu, size_t apulen, const uint8_t *apv, size_t apvlen,
                               unsigned keybits, uint8_t *out, struct vt_diag *d);

static void be32(uint32_t v, uint8_t out[4])
{
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}

enum vt_err vt_jose_concat_kdf(const uint8_t *z, size_t zlen, const char *alg_id,
                               const uint8_t *apu, size_t apulen, const uint8_t *apv, size_t apvlen,
                               unsigned keybits, uint8_t *out, struct vt_diag *d)
{
    VT_ENSURE(keybits > 0 && keybits % 8 == 0 && keybits <= 1024 && apulen <= UINT32_MAX &&
                  apvlen <= UINT32_MAX,
              d, VT_E_ARG, "jwe.kdf", "bad Concat KDF parameters (keydatalen %u)", keybits);
    size_t want = keybits / 8;
    size_t idlen = strlen(alg_id);
    uint8_t len_id[4];
    uint8_t len_u[4];
    uint8_t len_v[4];
    uint8_t supp_pub[4];
    be32((uint32_t)idlen, len_id);
    be32((uint32_t)apulen, len_u);
    be32((uint32_t)apvlen, len_v);
    be32(keybits, supp_pub);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    VT_ENSURE(ctx != NULL, d, VT_E_NOMEM, "jwe.kdf", "cannot allocate a digest context");
    bool ok = true;
    uint8_t h[VT_SHA256_LEN];
    for (uint32_t counter = 1; ok && want > 0; counter++) {
        uint8_t ctr[4];
        be32(counter, ctr);
        unsigned int hn = 0;
        ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, ctr, 4) == 1 && EVP_DigestUpdate(ctx, z, zlen) == 1 &&
             EVP_DigestUpdate(ctx, len_id, 4) == 1 && EVP_DigestUpdate(ctx, alg_id, idlen) == 1 &&
             EVP_DigestUpdate(ctx, len_u, 4) == 1 &&
             (apulen == 0 || EVP_DigestUpdate(ctx, apu, apulen) == 1) &&
             EVP_DigestUpdate(ctx, len_v, 4) == 1 &&
             (apvlen == 0 || EVP_DigestUpdate(ctx, apv, apvlen) == 1) &&
             EVP_DigestUpdate(ctx, supp_pub, 4) == 1 && EVP_DigestFinal_ex(ctx, h, &hn) == 1;
        if (ok) {
            size_t take = want < sizeof(h) ? want : sizeof(h);
            memcpy(out, h, take);
            out += take;
            want -= take;
        }
    }
    vt_wipe(h, sizeof(h));
    EVP_MD_CTX_free(ctx);
    VT_ENSURE(ok, d, VT_E_CRYPTO, "jwe.kdf", "SHA-256 failed in the Concat KDF");
    return VT_OK;
}

/*
 * ECDH shared secret Z between our private key and the peer's public key (same curve).
 *
 * peer_checked: the peer is a struct vt_jwk whose point_checked is set, i.e. its EVP_PKEY came
 * from ec_pkey, which validated the point before anyone could use it (coordinates below the
 * field prime, on the curve, not infinity: key.c's ec_import, behind both vt_crypto_ec_pkey and
 * vt_crypto_ec_pkey_new), and the key is never modified after. On P-256, P-384 and P-521 (prime
 * order, cofactor 1) such a point generates the whole group, so OpenSSL's own check of the peer in
 * EVP_PKEY_derive_set_peer (the full public key check, with its scalar multiplication by the group
 * order) can add nothing, and is skipped. Any other peer (a key loaded from PEM, say) is checked by
 * OpenSSL as before. The provider still checks that both keys are on the same group.
 */
static enum vt_err ecdh(EVP_PKEY *priv, EVP_PKEY *peer, bool peer_checked, uint8_t z[EC_COORD_MAX],
                        size_t *zlen, const char *check, struct vt_diag *d)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    size_t n = EC_COORD_MAX;
    bool ok = ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
              EVP_PKEY_derive_set_peer_ex(ctx, peer, peer_checked ? 0 : 1) == 1 &&
              EVP_PKEY_derive(ctx, z, &n) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        char why[VT_CRYPTO_ERRTEXT_MAX];
        vt_crypto_errors(why, sizeof(why));
        vt_wipe(z, EC_COORD_MAX);
        return vt_fail(d, VT_E_CRYPTO, check, "ECDH key agreement failed: %s", why);
    }
    *zlen = n;
    return VT_OK;
}

/* AES-256 key wrap (RFC 3394) of 32 bytes under kek; encrypt or unwrap. Records nothing. */
static bool aes_kw(bool wrap, const uint8_t kek[32], const uint8_t *in, size_t inlen, uint8_t *out,
                   size_t *outlen)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        return false;
    }
    EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    int n = 0;
    int fin = 0;
    bool ok = EVP_CipherInit_ex(ctx, EVP_aes_256_wrap(), NULL, kek, NULL, wrap ? 1 : 0) == 1 &&
              EVP_CipherUpdate(ctx, out, &n, in, (int)inlen) == 1 && n > 0 &&
              EVP_CipherFinal_ex(ctx, out + n, &fin) == 1;
    EVP_CIPHER_CTX_free(ctx);
    *outlen = ok ? (size_t)(n + fin) : 0;
    return ok;
}

/* ---- JWS ---- */

/* Split compact[len] on '.' into exactly `want` segments; VT_E_MALFORMED otherwise. */
struct seg {
    const char *p;
    size_t n;
};

static enum vt_err split_compact(const char *s, size_t len, struct seg *segs, size_t want,
                                 const char *check, struct vt_diag *d)
{
    size_t count = 1;
    for (size_t i = 0; i < len; i++) {
        count += s[i] == '.';
    }
    VT_ENSURE(count == want, d, VT_E_MALFORMED, check,
              "%zu dot-separated segments, expected %zu (compact serialisation)", count, want);
    size_t start = 0;
    size_t k = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            segs[k].p = s + start;
            segs[k].n = i - start;
            k++;
            start = i + 1;
        }
    }
    return VT_OK;
}

/* Protected header checks shared by JWS and JWE: "crit" is never understood. */
static enum vt_err no_crit(const json_t *h, const char *prefix, struct vt_diag *d)
{
    char chk[CHECK_MAX];
    VT_ENSURE(json_object_get(h, "crit") == NULL, d, VT_E_UNSUPPORTED,
              check_name(chk, prefix, "crit"),
              "header parameter \"crit\" is present; no critical extension is supported");
    return VT_OK;
}

/* Serialise a header object compactly with sorted members and base64url it; NULL on OOM. */
static char *header_b64(json_t *h)
{
    char *s = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);
    if (s == NULL) {
        return NULL;
    }
    char *b = b64u_encode((const uint8_t *)s, strlen(s));
    free(s);
    return b;
}

static bool kid_ok(const char *kid)
{
    size_t n = kid != NULL ? strlen(kid) : 0;
    if (n == 0 || n >= VT_JOSE_KID_MAX) {
        return false;
    }
    json_t *v = json_string(kid); /* validates UTF-8 */
    json_decref(v);
    return v != NULL;
}

/* Join parts with '.' into a heap string. */
static char *join(const char *const *parts, size_t n)
{
    size_t total = n;
    for (size_t i = 0; i < n; i++) {
        total += strlen(parts[i]);
    }
    char *s = malloc(total);
    if (s == NULL) {
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(parts[i]);
        memcpy(s + o, parts[i], l);
        o += l;
        s[o++] = i + 1 < n ? '.' : '\0';
    }
    return s;
}

enum vt_err vt_jws_sign_es256(const struct vt_key *key, const char *kid, const char *typ,
                              const uint8_t *payload, size_t n, char **compact, struct vt_diag *d)
{
    *compact = NULL;
    VT_ENSURE(kid_ok(kid), d, VT_E_ARG, "jws.kid", "kid must be 1 to %d bytes of UTF-8",
              VT_JOSE_KID_MAX - 1);
    VT_ENSURE(n <= VT_JOSE_MAX_COMPACT / 2, d, VT_E_TOO_LARGE, "jws.payload",
              "payload of %zu bytes; at most %u", n, VT_JOSE_MAX_COMPACT / 2);
    json_t *h = json_object();
    json_t *typv = typ != NULL ? json_string(typ) : NULL;
    if (h == NULL || (typ != NULL && typv == NULL)) {
        json_decref(h);
        json_decref(typv);
        return vt_fail(d, typ != NULL && typv == NULL ? VT_E_ARG : VT_E_NOMEM, "jws.typ",
                       "typ is not valid UTF-8 or memory ran out");
    }
    bool ok = json_object_set_new(h, "alg", json_string("ES256")) == 0 &&
              json_object_set_new(h, "kid", json_string(kid)) == 0 &&
              (typv == NULL || json_object_set_new(h, "typ", typv) == 0);
    char *h64 = ok ? header_b64(h) : NULL;
    json_decref(h);
    char *p64 = b64u_encode(payload, n);
    char *input = NULL;
    if (h64 != NULL && p64 != NULL) {
        const char *parts[2] = {h64, p64};
        input = join(parts, 2);
    }
    free(h64);
    free(p64);
    VT_ENSURE(input != NULL, d, VT_E_NOMEM, "jws", "cannot build the signing input");
    uint8_t sig[64];
    enum vt_err err = vt_p256_sign(key, input, strlen(input), sig, d);
    char *s64 = err == VT_OK ? b64u_encode(sig, sizeof(sig)) : NULL;
    if (err == VT_OK && s64 != NULL) {
        const char *parts[2] = {input, s64};
        *compact = join(parts, 2);
    }
    free(s64);
    free(input);
    VT_TRY(err);
    VT_ENSURE(*compact != NULL, d, VT_E_NOMEM, "jws", "cannot build the compact JWS");
    return VT_OK;
}

/* Header checks for a JWS; on success *kid borrows from h. */
static enum vt_err jws_header(const json_t *h, const char **kid, size_t *kidn, struct vt_diag *d)
{
    char shown[48];
    const char *alg;
    size_t an;
    VT_TRY(get_string(h, "jws", "alg", false, &alg, &an, d));
    VT_ENSURE(str_is(alg, an, "ES256"), d, VT_E_UNSUPPORTED_ALGORITHM, "jws.alg",
              "alg %s is not accepted; only \"ES256\" is", show(alg, an, shown));
    VT_TRY(no_crit(h, "jws", d));
    VT_ENSURE(json_object_get(h, "b64") == NULL, d, VT_E_UNSUPPORTED, "jws.b64",
              "header parameter \"b64\" (RFC 7797 unencoded payload) is not supported");
    VT_TRY(get_string(h, "jws", "kid", false, kid, kidn, d));
    VT_ENSURE(*kidn > 0 && *kidn < VT_JOSE_KID_MAX, d, VT_E_BAD_FIELD, "jws.kid",
              "kid of %zu bytes; 1 to %d accepted", *kidn, VT_JOSE_KID_MAX - 1);
    return VT_OK;
}

enum vt_err vt_jws_verify_es256(const char *compact, size_t len, vt_jws_resolver resolve, void *ctx,
                                struct vt_buf *payload, char kid_out[VT_JOSE_KID_MAX],
                                struct vt_diag *d)
{
    kid_out[0] = '\0';
    VT_ENSURE(len <= VT_JOSE_MAX_COMPACT, d, VT_E_TOO_LARGE, "jws.compact",
              "JWS of %zu bytes; at most %u accepted", len, VT_JOSE_MAX_COMPACT);
    struct seg s[3];
    VT_TRY(split_compact(compact, len, s, 3, "jws.compact", d));

    uint8_t *hdr = NULL;
    size_t hn = 0;
    VT_TRY(b64u_decode_alloc(s[0].p, s[0].n, "jws.header", &hdr, &hn, d));
    json_t *h = NULL;
    enum vt_err err = json_object_parse((const char *)hdr, hn, "jws.header", &h, d);
    free(hdr);
    VT_TRY(err);

    const char *kid = NULL;
    size_t kidn = 0;
    uint8_t *body = NULL;
    size_t bn = 0;
    uint8_t sig[64];
    uint8_t xy[64];
    char kidbuf[VT_JOSE_KID_MAX];
    char shown[48];
    err = jws_header(h, &kid, &kidn, d);
    if (err == VT_OK) {
        memcpy(kidbuf, kid, kidn);
        kidbuf[kidn] = '\0';
        err = b64u_decode_alloc(s[1].p, s[1].n, "jws.payload", &body, &bn, d);
    }
    json_decref(h);
    if (err == VT_OK) {
        err = b64u_syntax(s[2].p, s[2].n, "jws.signature", d);
    }
    if (err == VT_OK && b64u_decoded_len(s[2].n) != sizeof(sig)) {
        err = vt_fail(d, VT_E_BAD_LENGTH, "jws.signature",
                      "ES256 signature of %zu bytes, expected 64 (raw r||s)",
                      b64u_decoded_len(s[2].n));
    }
    if (err == VT_OK) {
        err = b64u_decode_exact(s[2].p, s[2].n, "jws.signature", sig, sizeof(sig), d);
    }
    if (err == VT_OK && !resolve(ctx, kidbuf, xy)) {
        err = vt_fail(d, VT_E_NOT_FOUND, "jws.kid", "no key is known for kid %s",
                      show(kidbuf, kidn, shown));
    }
    if (err == VT_OK) {
        /* The signing input is the first two segments with their dot. */
        size_t in_len = s[0].n + 1 + s[1].n;
        struct vt_diag kd;
        vt_diag_init(&kd);
        err = vt_p256_verify_xy(xy, compact, in_len, sig, &kd);
        if (err == VT_E_SIGNATURE) {
            err = vt_fail(d, VT_E_SIGNATURE, "jws.signature",
                          "ES256 signature does not verify with the key of kid %s",
                          show(kidbuf, kidn, shown));
        } else if (err != VT_OK) {
            err = vt_fail(d, err, "jws.key", "the key of kid %s: %s", show(kidbuf, kidn, shown),
                          kd.detail);
        }
    }
    if (err == VT_OK) {
        err = vt_buf_append(payload, body, bn);
        if (err != VT_OK) {
            vt_fail(d, err, "jws.payload", "payload of %zu bytes does not fit (at most %zu)", bn,
                    payload->max);
        }
    }
    free(body);
    if (err == VT_OK) {
        memcpy(kid_out, kidbuf, kidn + 1);
    }
    return err;
}

/* ---- JWS with RS256 ---- */

/* RSASSA-PKCS1-v1_5 with SHA-256 over msg[n]: sign into sig (modulus bytes) or verify sig. */
static bool rs256(EVP_PKEY *pkey, bool sign, const void *msg, size_t n, uint8_t *sig,
                  size_t *siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    bool ok = md != NULL;
    if (ok && sign) {
        ok = EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, pkey) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
             EVP_DigestSign(md, sig, siglen, msg, n) == 1;
    } else if (ok) {
        ok = EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pkey) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
             EVP_DigestVerify(md, sig, *siglen, msg, n) == 1;
    }
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

enum vt_err vt_jws_sign_rs256(const struct vt_jwk *key, const struct json_t *header,
                              const uint8_t *payload, size_t n, char **compact, struct vt_diag *d)
{
    *compact = NULL;
    VT_ENSURE(key != NULL && key->type == JWK_RSA && vt_jwk_has_private(key), d, VT_E_ARG,
              "jws.key", "RS256 signing needs an RSA key with its private half");
    VT_ENSURE(header == NULL || json_is_object(header), d, VT_E_ARG, "jws.header",
              "the protected header must be a JSON object, not %s", json_type_name(header));
    VT_ENSURE(n <= VT_JOSE_MAX_COMPACT / 2, d, VT_E_TOO_LARGE, "jws.payload",
              "payload of %zu bytes; at most %u", n, VT_JOSE_MAX_COMPACT / 2);
    json_t *h = header != NULL ? json_deep_copy(header) : json_object();
    bool ok = h != NULL && json_object_set_new(h, "alg", json_string("RS256")) == 0;
    char *h64 = ok ? header_b64(h) : NULL;
    json_decref(h);
    char *p64 = b64u_encode(payload, n);
    char *input = NULL;
    if (h64 != NULL && p64 != NULL) {
        const char *parts[2] = {h64, p64};
        input = join(parts, 2);
    }
    free(h64);
    free(p64);
    VT_ENSURE(input != NULL, d, VT_E_NOMEM, "jws", "cannot build the signing input");
    uint8_t sig[RSA_MAX_BYTES];
    size_t siglen = sizeof(sig);
    enum vt_err err = VT_OK;
    if (!rs256(key->key->pkey, true, input, strlen(input), sig, &siglen)) {
        err = vt_fail(d, VT_E_CRYPTO, "jws.signature", "RS256 signing failed");
    }
    char *s64 = err == VT_OK ? b64u_encode(sig, siglen) : NULL;
    if (s64 != NULL) {
        const char *parts[2] = {input, s64};
        *compact = join(parts, 2);
    }
    free(s64);
    free(input);
    VT_TRY(err);
    VT_ENSURE(*compact != NULL, d, VT_E_NOMEM, "jws", "cannot build the compact JWS");
    return VT_OK;
}

enum vt_err vt_jws_verify_rs256(const char *compact, size_t len, vt_jws_rsa_resolver resolve,
                                void *ctx, struct vt_buf *payload, struct json_t **header_out,
                                struct vt_diag *d)
{
    if (header_out != NULL) {
        *header_out = NULL;
    }
    VT_ENSURE(len <= VT_JOSE_MAX_COMPACT, d, VT_E_TOO_LARGE, "jws.compact",
              "JWS of %zu bytes; at most %u accepted", len, VT_JOSE_MAX_COMPACT);
    struct seg s[3];
    VT_TRY(split_compact(compact, len, s, 3, "jws.compact", d));
    uint8_t *hdr = NULL;
    size_t hn = 0;
    VT_TRY(b64u_decode_alloc(s[0].p, s[0].n, "jws.header", &hdr, &hn, d));
    json_t *h = NULL;
    enum vt_err err = json_object_parse((const char *)hdr, hn, "jws.header", &h, d);
    free(hdr);
    VT_TRY(err);

    char shown[48];
    const char *alg = NULL;
    size_t an = 0;
    err = get_string(h, "jws", "alg", false, &alg, &an, d);
    if (err == VT_OK && !str_is(alg, an, "RS256")) {
        err = vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "jws.alg",
                      "alg %s is not accepted; only \"RS256\" is", show(alg, an, shown));
    }
    if (err == VT_OK) {
        err = no_crit(h, "jws", d);
    }
    if (err == VT_OK && json_object_get(h, "b64") != NULL) {
        err = vt_fail(d, VT_E_UNSUPPORTED, "jws.b64",
                      "header parameter \"b64\" (RFC 7797 unencoded payload) is not supported");
    }
    uint8_t *body = NULL;
    size_t bn = 0;
    if (err == VT_OK) {
        err = b64u_decode_alloc(s[1].p, s[1].n, "jws.payload", &body, &bn, d);
    }
    if (err == VT_OK) {
        err = b64u_syntax(s[2].p, s[2].n, "jws.signature", d);
    }
    const struct vt_jwk *k = NULL;
    if (err == VT_OK) {
        k = resolve(ctx, h, d);
        if (k == NULL) {
            err = d != NULL && d->code != VT_OK
                      ? d->code
                      : vt_fail(d, VT_E_NOT_FOUND, "jws.kid", "no trusted key for this header");
        } else if (k->type != JWK_RSA) {
            err = vt_fail(d, VT_E_BAD_KEY, "jws.key", "the key for RS256 is %s, not RSA",
                          vt_jwk_kty(k));
        }
    }
    size_t modn = k != NULL ? (size_t)(k->bits + 7) / 8 : 0;
    if (err == VT_OK && b64u_decoded_len(s[2].n) != modn) {
        err = vt_fail(d, VT_E_BAD_LENGTH, "jws.signature",
                      "RS256 signature of %zu bytes, expected %zu (the modulus size)",
                      b64u_decoded_len(s[2].n), modn);
    }
    uint8_t sig[RSA_MAX_BYTES];
    if (err == VT_OK) {
        err = b64u_decode_exact(s[2].p, s[2].n, "jws.signature", sig, modn, d);
    }
    if (err == VT_OK && !rs256(k->key->pkey, false, compact, s[0].n + 1 + s[1].n, sig, &modn)) {
        err = vt_fail(d, VT_E_SIGNATURE, "jws.signature",
                      "RS256 signature does not verify with the trusted key");
    }
    if (err == VT_OK) {
        err = vt_buf_append(payload, body, bn);
        if (err != VT_OK) {
            vt_fail(d, err, "jws.payload", "payload of %zu bytes does not fit (at most %zu)", bn,
                    payload->max);
        }
    }
    free(body);
    if (err == VT_OK && header_out != NULL) {
        *header_out = h;
    } else {
        json_decref(h);
    }
    return err;
}

/* ---- JWE ---- */

/* The "epk" header member for an ephemeral EC public key. */
static json_t *epk_json(const struct vt_jwk *eph)
{
    json_t *o = json_object();
    if (o == NULL || json_object_set_new(o, "crv", json_string(eph->crv)) != 0 ||
        json_object_set_new(o, "kty", json_string("EC")) != 0 ||
        json_object_set_new(o, "x", json_string(eph->m1)) != 0 ||
        json_object_set_new(o, "y", json_string(eph->m2)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Key management for encryption: fill ek[*ekn] and add "alg" (and "epk") to the header. */
static enum vt_err jwe_wrap_cek(const struct vt_jwk *r, const uint8_t cek[CEK_LEN], json_t *h,
                                uint8_t ek[RSA_MAX_BYTES], size_t *ekn, struct vt_diag *d)
{
    if (r->type == JWK_RSA) {
        size_t n = RSA_MAX_BYTES;
        bool ok = vt_crypto_oaep(r->key->pkey, true, cek, CEK_LEN, ek, &n);
        ERR_clear_error();
        VT_ENSURE(ok, d, VT_E_CRYPTO, "jwe.encrypted_key", "RSA-OAEP-256 encryption failed");
        *ekn = n;
        VT_ENSURE(json_object_set_new(h, "alg", json_string("RSA-OAEP-256")) == 0, d, VT_E_NOMEM,
                  "jwe.header", "cannot build the header");
        return VT_OK;
    }
    EVP_PKEY *ephk = EVP_EC_gen(r->crv);
    VT_ENSURE(ephk != NULL, d, VT_E_CRYPTO, "jwe.epk", "cannot generate an ephemeral %s key",
              r->crv);
    uint8_t z[EC_COORD_MAX];
    size_t zlen = 0;
    enum vt_err err = ecdh(ephk, r->key->pkey, r->point_checked, z, &zlen, "jwe.ecdh", d);
    struct vt_jwk *eph = NULL;
    if (err == VT_OK) {
        err = jwk_from_pkey(ephk, true, &eph, d);
    } else {
        EVP_PKEY_free(ephk);
    }
    uint8_t kek[32];
    if (err == VT_OK) {
        err = vt_jose_concat_kdf(z, zlen, "ECDH-ES+A256KW", NULL, 0, NULL, 0, 256, kek, d);
    }
    vt_wipe(z, sizeof(z));
    if (err == VT_OK) {
        size_t n = 0;
        if (!aes_kw(true, kek, cek, CEK_LEN, ek, &n) || n != KW_LEN) {
            err = vt_fail(d, VT_E_CRYPTO, "jwe.encrypted_key", "AES-256 key wrap failed");
        }
        *ekn = n;
    }
    vt_wipe(kek, sizeof(kek));
    json_t *epk = err == VT_OK ? epk_json(eph) : NULL;
    vt_jwk_free(eph);
    if (err == VT_OK && (epk == NULL || json_object_set_new(h, "epk", epk) != 0 ||
                         json_object_set_new(h, "alg", json_string("ECDH-ES+A256KW")) != 0)) {
        err = vt_fail(d, VT_E_NOMEM, "jwe.header", "cannot build the header");
    }
    return err;
}

enum vt_err vt_jwe_encrypt(const struct vt_jwk *recipient, const uint8_t *pt, size_t n,
                           const char *kid, char **compact, struct vt_diag *d)
{
    *compact = NULL;
    VT_ENSURE(kid == NULL || kid_ok(kid), d, VT_E_ARG, "jwe.kid",
              "kid must be 1 to %d bytes of UTF-8", VT_JOSE_KID_MAX - 1);
    VT_ENSURE(n <= VT_JOSE_MAX_COMPACT / 2, d, VT_E_TOO_LARGE, "jwe.plaintext",
              "plaintext of %zu bytes; at most %u", n, VT_JOSE_MAX_COMPACT / 2);
    uint8_t cek[CEK_LEN];
    uint8_t iv[GCM_IV_LEN];
    uint8_t tag[GCM_TAG_LEN];
    uint8_t ek[RSA_MAX_BYTES];
    size_t ekn = 0;
    VT_TRY(vt_random_bytes(cek, sizeof(cek), d));
    enum vt_err err = vt_random_bytes(iv, sizeof(iv), d);
    json_t *h = json_object();
    if (err == VT_OK && (h == NULL || json_object_set_new(h, "enc", json_string("A256GCM")) != 0 ||
                         (kid != NULL && json_object_set_new(h, "kid", json_string(kid)) != 0))) {
        err = vt_fail(d, VT_E_NOMEM, "jwe.header", "cannot build the header");
    }
    if (err == VT_OK) {
        err = jwe_wrap_cek(recipient, cek, h, ek, &ekn, d);
    }
    char *h64 = err == VT_OK ? header_b64(h) : NULL;
    json_decref(h);
    uint8_t *ct = NULL;
    if (err == VT_OK && h64 == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "jwe.header", "cannot encode the header");
    }
    if (err == VT_OK) {
        ct = malloc(n + 1);
        if (ct == NULL) {
            err = vt_fail(d, VT_E_NOMEM, "jwe.ciphertext", "cannot allocate %zu bytes", n);
        }
    }
    if (err == VT_OK) {
        /* SPEC: RFC 7516 5.1 step 14, the AAD is the ASCII of the encoded protected header. */
        if (vt_aead_encrypt(cek, iv, h64, strlen(h64), pt, n, ct, tag) != VT_OK) {
            err = vt_fail(d, VT_E_CRYPTO, "jwe.encrypt", "AES-256-GCM encryption failed");
        }
    }
    vt_wipe(cek, sizeof(cek));
    if (err == VT_OK) {
        char *parts[5] = {h64, b64u_encode(ek, ekn), b64u_encode(iv, sizeof(iv)),
                          b64u_encode(ct, n), b64u_encode(tag, sizeof(tag))};
        h64 = NULL;
        bool all = true;
        for (size_t i = 0; i < 5; i++) {
            all = all && parts[i] != NULL;
        }
        if (all) {
            *compact = join((const char *const *)parts, 5);
        }
        for (size_t i = 0; i < 5; i++) {
            free(parts[i]);
        }
        if (*compact == NULL) {
            err = vt_fail(d, VT_E_NOMEM, "jwe", "cannot build the compact JWE");
        }
    }
    free(h64);
    free(ct);
    return err;
}

/* Header checks for a JWE against the key: alg, enc, zip, crit. */
static enum vt_err jwe_header(const json_t *h, const struct vt_jwk *k, struct vt_diag *d)
{
    char shown[48];
    const char *alg;
    const char *enc;
    size_t an;
    size_t en;
    VT_TRY(get_string(h, "jwe", "alg", false, &alg, &an, d));
    bool rsa = str_is(alg, an, "RSA-OAEP-256");
    bool ec = str_is(alg, an, "ECDH-ES+A256KW");
    VT_ENSURE(rsa || ec, d, VT_E_UNSUPPORTED_ALGORITHM, "jwe.alg",
              "alg %s is not accepted; only \"RSA-OAEP-256\" and \"ECDH-ES+A256KW\" are",
              show(alg, an, shown));
    VT_ENSURE((rsa && k->type == JWK_RSA) || (ec && k->type == JWK_EC), d, VT_E_BAD_KEY, "jwe.alg",
              "alg %s does not fit the decryption key (%s %d)", show(alg, an, shown), vt_jwk_kty(k),
              k->bits);
    VT_TRY(get_string(h, "jwe", "enc", false, &enc, &en, d));
    VT_ENSURE(str_is(enc, en, "A256GCM"), d, VT_E_UNSUPPORTED_ALGORITHM, "jwe.enc",
              "enc %s is not accepted; only \"A256GCM\" is", show(enc, en, shown));
    VT_ENSURE(json_object_get(h, "zip") == NULL, d, VT_E_UNSUPPORTED, "jwe.zip",
              "header parameter \"zip\" is present; compressed plaintext is not supported");
    return no_crit(h, "jwe", d);
}

/* An optional base64url header member ("apu", "apv") decoded into out[KDF_PARTY_MAX]. */
static enum vt_err party_info(const json_t *h, const char *key, uint8_t *out, size_t *n,
                              struct vt_diag *d)
{
    char chk[CHECK_MAX];
    const char *s;
    size_t sn;
    *n = 0;
    VT_TRY(get_string(h, "jwe", key, true, &s, &sn, d));
    if (s == NULL) {
        return VT_OK;
    }
    return b64u_decode_into(s, sn, check_name(chk, "jwe", key), out, KDF_PARTY_MAX, n, d);
}

/* Recover the CEK with ECDH-ES+A256KW. */
static enum vt_err jwe_unwrap_ecdh(const struct vt_jwk *k, const json_t *h, const uint8_t *ek,
                                   size_t ekn, uint8_t cek[CEK_LEN], struct vt_diag *d)
{
    json_t *epkv = json_object_get(h, "epk");
    VT_ENSURE(epkv != NULL, d, VT_E_MISSING_FIELD, "jwe.epk",
              "ECDH-ES+A256KW needs the ephemeral public key \"epk\"");
    VT_ENSURE(json_is_object(epkv), d, VT_E_BAD_FIELD, "jwe.epk",
              "\"epk\" must be a JWK object, got %s", json_type_name(epkv));
    uint8_t *apu = malloc(2 * KDF_PARTY_MAX);
    VT_ENSURE(apu != NULL, d, VT_E_NOMEM, "jwe.apu", "cannot allocate");
    uint8_t *apv = apu + KDF_PARTY_MAX;
    size_t apun = 0;
    size_t apvn = 0;
    struct vt_jwk *epk = NULL;
    enum vt_err err = jwk_from_obj(epkv, "jwe.epk", true, &epk, d);
    if (err == VT_OK && epk->type != JWK_EC) {
        err = vt_fail(d, VT_E_BAD_KEY, "jwe.epk.kty", "\"epk\" must be an EC key, got %s",
                      vt_jwk_kty(epk));
    }
    if (err == VT_OK && epk->crv != k->crv) {
        err = vt_fail(d, VT_E_BAD_KEY, "jwe.epk.crv", "\"epk\" is on %s, the decryption key on %s",
                      epk->crv, k->crv);
    }
    if (err == VT_OK) {
        err = party_info(h, "apu", apu, &apun, d);
    }
    if (err == VT_OK) {
        err = party_info(h, "apv", apv, &apvn, d);
    }
    if (err == VT_OK && ekn != KW_LEN) {
        err = vt_fail(d, VT_E_BAD_LENGTH, "jwe.encrypted_key",
                      "encrypted key of %zu bytes, expected %d (AES key wrap of a 256-bit CEK)",
                      ekn, KW_LEN);
    }
    uint8_t z[EC_COORD_MAX];
    size_t zlen = 0;
    uint8_t kek[32];
    if (err == VT_OK) {
        err = ecdh(k->key->pkey, epk->key->pkey, epk->point_checked, z, &zlen, "jwe.ecdh", d);
    }
    if (err == VT_OK) {
        err = vt_jose_concat_kdf(z, zlen, "ECDH-ES+A256KW", apu, apun, apv, apvn, 256, kek, d);
        vt_wipe(z, sizeof(z));
    }
    if (err == VT_OK) {
        size_t n = 0;
        uint8_t out[KW_LEN];
        if (!aes_kw(false, kek, ek, ekn, out, &n) || n != CEK_LEN) {
            ERR_clear_error();
            err = vt_fail(d, VT_E_CRYPTO, "jwe.encrypted_key",
                          "AES key unwrap integrity check failed: wrong recipient key, or the "
                          "epk or encrypted key was altered");
        } else {
            memcpy(cek, out, CEK_LEN);
        }
        vt_wipe(out, sizeof(out));
        vt_wipe(kek, sizeof(kek));
    }
    vt_jwk_free(epk);
    free(apu);
    return err;
}

/*
 * Recover the CEK with RSA-OAEP-256. A decryption failure is not reported: a random CEK is used
 * instead and the tag check fails, so that padding errors cannot be told apart from a bad tag
 * (RFC 7516 section 11.5).
 */
static enum vt_err jwe_unwrap_rsa(const struct vt_jwk *k, const uint8_t *ek, size_t ekn,
                                  uint8_t cek[CEK_LEN], struct vt_diag *d)
{
    size_t modn = (size_t)(k->bits + 7) / 8;
    VT_ENSURE(ekn == modn, d, VT_E_BAD_LENGTH, "jwe.encrypted_key",
              "encrypted key of %zu bytes, expected %zu (the RSA modulus size)", ekn, modn);
    VT_TRY(vt_random_bytes(cek, CEK_LEN, d));
    uint8_t out[RSA_MAX_BYTES];
    size_t n = sizeof(out);
    bool ok = vt_crypto_oaep(k->key->pkey, false, ek, ekn, out, &n) && n == CEK_LEN;
    ERR_clear_error();
    if (ok) {
        memcpy(cek, out, CEK_LEN);
    }
    vt_wipe(out, sizeof(out));
    return VT_OK;
}

enum vt_err vt_jwe_decrypt(const struct vt_jwk *priv, const char *compact, size_t len,
                           struct vt_buf *pt, struct vt_diag *d)
{
    VT_ENSURE(priv->key->has_private, d, VT_E_ARG, "jwe.key",
              "decryption needs a private key; this %s key is public only", vt_jwk_kty(priv));
    VT_ENSURE(len <= VT_JOSE_MAX_COMPACT, d, VT_E_TOO_LARGE, "jwe.compact",
              "JWE of %zu bytes; at most %u accepted", len, VT_JOSE_MAX_COMPACT);
    struct seg s[5];
    VT_TRY(split_compact(compact, len, s, 5, "jwe.compact", d));

    uint8_t *hdr = NULL;
    size_t hn = 0;
    VT_TRY(b64u_decode_alloc(s[0].p, s[0].n, "jwe.header", &hdr, &hn, d));
    json_t *h = NULL;
    enum vt_err err = json_object_parse((const char *)hdr, hn, "jwe.header", &h, d);
    free(hdr);
    VT_TRY(err);

    uint8_t iv[GCM_IV_LEN];
    uint8_t tag[GCM_TAG_LEN];
    uint8_t cek[CEK_LEN];
    uint8_t *ek = NULL;
    size_t ekn = 0;
    uint8_t *ct = NULL;
    size_t ctn = 0;
    uint8_t *out = NULL;
    err = jwe_header(h, priv, d);
    if (err == VT_OK) {
        err = b64u_decode_alloc(s[1].p, s[1].n, "jwe.encrypted_key", &ek, &ekn, d);
    }
    if (err == VT_OK) {
        err = b64u_decode_exact(s[2].p, s[2].n, "jwe.iv", iv, sizeof(iv), d);
    }
    if (err == VT_OK) {
        err = b64u_decode_alloc(s[3].p, s[3].n, "jwe.ciphertext", &ct, &ctn, d);
    }
    if (err == VT_OK) {
        err = b64u_decode_exact(s[4].p, s[4].n, "jwe.tag", tag, sizeof(tag), d);
    }
    size_t room = pt->len < pt->max ? pt->max - pt->len : 0;
    if (err == VT_OK && ctn > room) {
        err = vt_fail(d, VT_E_TOO_LARGE, "jwe.ciphertext",
                      "plaintext of %zu bytes does not fit (at most %zu)", ctn, pt->max);
    }
    if (err == VT_OK) {
        err = priv->type == JWK_RSA ? jwe_unwrap_rsa(priv, ek, ekn, cek, d)
                                    : jwe_unwrap_ecdh(priv, h, ek, ekn, cek, d);
    }
    json_decref(h);
    free(ek);
    if (err == VT_OK) {
        out = malloc(ctn + 1);
        if (out == NULL) {
            err = vt_fail(d, VT_E_NOMEM, "jwe.ciphertext", "cannot allocate %zu bytes", ctn);
        }
    }
    if (err == VT_OK) {
        bool ok = vt_aead_decrypt(cek, iv, s[0].p, s[0].n, ct, ctn, tag, out) == VT_OK;
        if (!ok) {
            err = vt_fail(d, VT_E_CRYPTO, "jwe.tag",
                          "A256GCM authentication tag mismatch: the header, IV, ciphertext or tag "
                          "was altered, or the content key is wrong%s",
                          priv->type == JWK_RSA ? " (wrong recipient key or altered encrypted key)"
                                                : "");
        }
    }
    vt_wipe(cek, sizeof(cek));
    if (err == VT_OK) {
        err = vt_buf_append(pt, out, ctn);
        if (err != VT_OK) {
            vt_fail(d, err, "jwe.ciphertext", "plaintext of %zu bytes does not fit", ctn);
        }
    }
    if (out != NULL) {
        vt_wipe(out, ctn);
        free(out);
    }
    free(ct);
    return err;
}
