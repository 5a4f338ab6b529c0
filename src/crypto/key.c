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
        atomic_init(&k->p384_uses, 0u);
        atomic_init(&k->p384_building, false);
        atomic_init(&k->p384_table, NULL);
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
    /* No other thread may use a key that is being freed, so no ordering is needed here. */
    vt_p384_table_free(atomic_load_explicit(&k->p384_table, memory_order_relaxed));
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

struct memo_entry {
    size_t n;
    uint8_t in[VT_PKEY_MEMO_INPUT_MAX];
    EVP_PKEY *pkey; /* one reference, the memo's */
};

struct memo_probe {
    const uint8_t *in;
    size_t n;
};

static void memo_entry_free(void *v)
{
    struct memo_entry *e = v;
    EVP_PKEY_free(e->pkey);
    free(e);
}

/* Whether the entry is the input asked for: all of it, not only its hash. */
static bool memo_entry_is(const void *v, void *ctx)
{
    const struct memo_entry *e = v;
    const struct memo_probe *p = ctx;
    return e->n == p->n && memcmp(e->in, p->in, p->n) == 0;
}

static pthread_mutex_t memo_setup = PTHREAD_MUTEX_INITIALIZER;

static bool memo_ready(struct vt_pkey_memo *m)
{
    if (atomic_load(&m->state) == 0) {
        pthread_mutex_lock(&memo_setup);
        if (atomic_load(&m->state) == 0) {
            atomic_store(&m->state,
                         vt_pincache_init(&m->cache, m->slots, memo_entry_free) == VT_OK ? 1 : 2);
        }
        pthread_mutex_unlock(&memo_setup);
    }
    return atomic_load(&m->state) == 1;
}

enum vt_err vt_pkey_memo_get(struct vt_pkey_memo *m, const uint8_t *in, size_t n,
                             vt_pkey_import_fn import, void *ctx, EVP_PKEY **out, struct vt_diag *d)
{
    if (n == 0 || n > VT_PKEY_MEMO_INPUT_MAX || !memo_ready(m)) {
        return import(in, n, ctx, out, d);
    }
    struct memo_probe probe = {in, n};
    uint8_t id[VT_PINCACHE_ID_LEN];
    vt_sha256(in, n, id);
    struct vt_pin pin;
    const struct memo_entry *e = vt_pincache_get(&m->cache, id, memo_entry_is, &probe, &pin);
    if (e == NULL) {
        EVP_PKEY *pkey = NULL;
        VT_TRY(import(in, n, ctx, &pkey, d)); /* refused input never enters the memo */
        struct memo_entry *ne = malloc(sizeof(*ne));
        if (ne == NULL) {
            *out = pkey; /* not kept: the caller's own */
            return VT_OK;
        }
        ne->n = n;
        memcpy(ne->in, in, n);
        ne->pkey = pkey;
        /* The memo owns ne from here; it may keep another thread's equal entry instead. */
        e = vt_pincache_put(&m->cache, id, ne, memo_entry_is, &probe, &pin);
    }
    /* The caller's reference, taken while the entry is pinned. */
    bool ok = EVP_PKEY_up_ref(e->pkey) == 1;
    if (ok) {
        *out = e->pkey;
    }
    vt_pincache_release(&m->cache, &pin);
    return ok ? VT_OK : vt_fail(d, VT_E_NOMEM, "key.memo", "no memory");
}

static struct vt_pkey_memo ec_memo = VT_PKEY_MEMO_INIT(EC_CACHE_SLOTS);

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

/* The memo's import: the input is the group's name, a NUL, then xy. */
static enum vt_err ec_import_memo(const uint8_t *in, size_t n, void *ctx, EVP_PKEY **out,
                                  struct vt_diag *d)
{
    (void)ctx;
    (void)d;
    const char *group = (const char *)in;
    size_t g = strlen(group) + 1;
    return ec_import(group, in + g, n - g, out) ? VT_OK : VT_E_BAD_KEY;
}

bool vt_crypto_ec_pkey(const char *group, const uint8_t *xy, size_t n, EVP_PKEY **out)
{
    if (!ec_args_ok(group, n)) {
        return false;
    }
    uint8_t in[EC_GROUP_NAME_MAX + EC_XY_MAX];
    size_t g = strlen(group) + 1;
    memcpy(in, group, g);
    memcpy(in + g, xy, n);
    return vt_pkey_memo_get(&ec_memo, in, g + n, ec_import_memo, NULL, out, NULL) == VT_OK;
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
    enum vt_err err = vt_buf_replace(out, der, (size_t)n);
    OPENSSL_free(der);
    return err == VT_OK
               ? VT_OK
               : vt_fail(d, err, "key.spki", "cannot hold %d bytes (limit %zu)", n, out->max);
}
