/*
 * One key type for every public-key algorithm (issue 16): struct vt_key holds its algorithm
 * (P-256, P-384, RSA), an OpenSSL EVP_PKEY, and what a fast path needs beside it (the raw EC
 * point; for P-384 public keys the nettle point of p384.c). This file owns the type's life cycle
 * and the algorithm checks; the constructors for one algorithm sit with its arithmetic (p256.c,
 * p384.c), those reading certificates above cert.c (cert_sig.c).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include "base/pincache.h"
#include "crypto_internal.h"

const char *vt_key_alg_name(enum vt_key_alg alg)
{
    switch (alg) {
    case VT_KEY_P256:
        return "P-256";
    case VT_KEY_P384:
        return "P-384";
    case VT_KEY_RSA:
        return "RSA";
    case VT_KEY_P521:
        return "P-521";
    }
    return "unknown";
}

enum vt_key_alg vt_key_alg(const struct vt_key *k)
{
    return k->alg;
}

bool vt_key_has_private(const struct vt_key *k)
{
    return k != NULL && k->has_private;
}

enum vt_err vt_key_expect(const struct vt_key *k, enum vt_key_alg want, bool private_half,
                          const char *check, struct vt_diag *d)
{
    VT_ENSURE(k != NULL, d, VT_E_ARG, check, "no key, expected %s", vt_key_alg_name(want));
    VT_ENSURE(k->alg == want, d, VT_E_ARG, check, "the key is %s, expected %s",
              vt_key_alg_name(k->alg), vt_key_alg_name(want));
    VT_ENSURE(!private_half || k->has_private, d, VT_E_ARG, check,
              "the key is a public %s key, expected its private half", vt_key_alg_name(want));
    return VT_OK;
}

struct vt_key *vt_crypto_key_alloc(enum vt_key_alg alg)
{
    struct vt_key *k = calloc(1, sizeof(*k));
    if (k != NULL) {
        k->alg = alg;
    }
    return k;
}

void vt_key_free(struct vt_key *k)
{
    if (k == NULL) {
        return;
    }
    if (k->has_point) {
        ecc_point_clear(&k->point);
    }
    EVP_PKEY_free(k->pkey);
    vt_wipe(k, sizeof(*k));
    free(k);
}

void vt_key_p256_xy(const struct vt_key *k, uint8_t xy[64])
{
    memset(xy, 0, 64);
    if (k != NULL && k->alg == VT_KEY_P256) {
        memcpy(xy, k->xy, 64);
    }
}

enum vt_err vt_key_generate(enum vt_key_alg alg, unsigned rsa_bits, struct vt_key **out,
                            struct vt_diag *d)
{
    VT_ENSURE(out != NULL, d, VT_E_ARG, "key.generate", "no output");
    switch (alg) {
    case VT_KEY_P256:
        return vt_crypto_p256_generate(out, d);
    case VT_KEY_RSA:
        return vt_crypto_rsa_generate(rsa_bits, out, d);
    case VT_KEY_P384:
    case VT_KEY_P521:
        break;
    }
    return vt_fail(d, VT_E_ARG, "key.generate", "cannot generate a %s key", vt_key_alg_name(alg));
}

/*
 * The process's cache of imported EC public keys (vt_crypto_ec_pkey). The broker meets the same
 * few public keys again and again: a client's runtime key at attestation and again at release,
 * its own token keys at every token check, a platform's attestation key with every quote. An
 * import costs a curve set-up and a key object in OpenSSL, far more than the lookup.
 *
 * Process-wide rather than passed in (STYLE.md 10): it memoises a pure function of its input,
 * changes no answer, and holds nothing secret or configurable, as OpenSSL's own caches do. It is
 * bounded (EC_CACHE_SLOTS, least recently used evicted) and never freed: what it holds at exit
 * stays reachable from here. A key enters it only after the import has validated it, and a hit
 * needs the exact group name and coordinates (compared in full, not only the hash that picks the
 * slot), so a hit accepts exactly the inputs that an import accepted before. The EVP_PKEY is
 * shared by reference count and only read (OpenSSL 3 lets threads share a key that nobody
 * modifies); no key built here is ever modified.
 */
#define EC_CACHE_SLOTS 256
#define EC_GROUP_NAME_MAX 16
#define EC_XY_MAX 132 /* P-521: two coordinates of 66 bytes */

struct ec_entry {
    char group[EC_GROUP_NAME_MAX];
    size_t n;
    uint8_t xy[EC_XY_MAX];
    EVP_PKEY *pkey; /* one reference, the cache's */
};

/* What a lookup asks for. */
struct ec_probe {
    const char *group;
    const uint8_t *xy;
    size_t n;
};

static struct vt_pincache ec_cache;
static bool ec_cache_ok;
static pthread_once_t ec_cache_once = PTHREAD_ONCE_INIT;

static void ec_entry_free(void *v)
{
    struct ec_entry *e = v;
    EVP_PKEY_free(e->pkey);
    free(e);
}

static void ec_cache_init(void)
{
    ec_cache_ok = vt_pincache_init(&ec_cache, EC_CACHE_SLOTS, ec_entry_free) == VT_OK;
}

/* Whether the entry is the key asked for: the full input, not only its hash. */
static bool ec_entry_is(const void *v, void *ctx)
{
    const struct ec_entry *e = v;
    const struct ec_probe *p = ctx;
    return e->n == p->n && strcmp(e->group, p->group) == 0 && memcmp(e->xy, p->xy, p->n) == 0;
}

/*
 * Import 0x04 || xy as a public key on group and validate it: EVP_PKEY_fromdata decodes the
 * point (coordinates below the field prime, on the curve) and the quick public check repeats that
 * and rules out the point at infinity. P-256, P-384 and P-521 have cofactor 1, so such a point is
 * a valid public key (SEC 1 v2 3.2.2.1); the full check would add a scalar multiplication by the
 * group order, which costs as much as a signature verification and can only succeed here.
 */
static bool ec_import(const char *group, const uint8_t *xy, size_t n, EVP_PKEY **out)
{
    uint8_t point[1 + EC_XY_MAX];
    char name[EC_GROUP_NAME_MAX];
    point[0] = 0x04;
    memcpy(point + 1, xy, n);
    memcpy(name, group, strlen(group) + 1);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, name, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, n + 1),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    bool ok = ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
              EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (ok) {
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        ok = ctx != NULL && EVP_PKEY_public_check_quick(ctx) == 1;
        EVP_PKEY_CTX_free(ctx);
    }
    if (!ok) {
        EVP_PKEY_free(pkey);
        return false;
    }
    *out = pkey;
    return true;
}

static bool ec_args_ok(const char *group, size_t n)
{
    return n > 0 && n <= EC_XY_MAX && strlen(group) < EC_GROUP_NAME_MAX;
}

bool vt_crypto_ec_pkey_new(const char *group, const uint8_t *xy, size_t n, EVP_PKEY **out)
{
    return ec_args_ok(group, n) && ec_import(group, xy, n, out);
}

bool vt_crypto_ec_pkey(const char *group, const uint8_t *xy, size_t n, EVP_PKEY **out)
{
    if (!ec_args_ok(group, n)) {
        return false;
    }
    pthread_once(&ec_cache_once, ec_cache_init);
    struct ec_probe probe = {group, xy, n};
    uint8_t id[VT_PINCACHE_ID_LEN];
    struct vt_pin pin;
    const struct ec_entry *e = NULL;
    if (ec_cache_ok) {
        vt_sha256_2(group, strlen(group) + 1, xy, n, id);
        e = vt_pincache_get(&ec_cache, id, ec_entry_is, &probe, &pin);
    }
    if (e == NULL) {
        EVP_PKEY *pkey = NULL;
        if (!ec_import(group, xy, n, &pkey)) {
            return false; /* bad input never enters the cache */
        }
        struct ec_entry *ne = ec_cache_ok ? malloc(sizeof(*ne)) : NULL;
        if (ne == NULL) {
            *out = pkey; /* not cached: the caller's own */
            return true;
        }
        memcpy(ne->group, group, strlen(group) + 1);
        ne->n = n;
        memcpy(ne->xy, xy, n);
        ne->pkey = pkey;
        /* The cache owns ne from here; it may keep another thread's equal entry instead. */
        e = vt_pincache_put(&ec_cache, id, ne, ec_entry_is, &probe, &pin);
    }
    /* The caller's reference, taken while the entry is pinned. */
    bool ok = EVP_PKEY_up_ref(e->pkey) == 1;
    if (ok) {
        *out = e->pkey;
    }
    vt_pincache_release(&ec_cache, &pin);
    return ok;
}

enum vt_err vt_key_spki_der(const struct vt_key *k, struct vt_buf *out, struct vt_diag *d)
{
    VT_ENSURE(k != NULL && out != NULL, d, VT_E_ARG, "key.spki", "no key or output");
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k->pkey, &der);
    if (n <= 0) {
        char why[VT_CRYPTO_ERRTEXT_MAX];
        vt_crypto_errors(why, sizeof(why));
        return vt_fail(d, VT_E_CRYPTO, "key.spki", "cannot encode the public key: %s", why);
    }
    /* Built aside, so that out is unchanged on failure. */
    struct vt_buf tmp;
    vt_buf_init(&tmp, out->max);
    enum vt_err err = vt_buf_append(&tmp, der, (size_t)n);
    OPENSSL_free(der);
    if (err != VT_OK) {
        vt_buf_cleanup(&tmp);
        return vt_fail(d, err, "key.spki", "cannot hold %d bytes (limit %zu)", n, out->max);
    }
    vt_buf_cleanup(out);
    *out = tmp;
    return VT_OK;
}
