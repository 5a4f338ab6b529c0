/*
 * The broker's signing keys (ES256): EAR tokens and log checkpoints are signed with the active
 * key; every key is published in the JWKS until the tokens it signed have expired (retirement
 * time + token TTL), so a rotation never invalidates a live token. Private keys are sealed under
 * the master key in the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "broker/broker.h"

struct vt_broker_signer {
    char kid[64];
    uint8_t xy[64];
    struct vt_key *priv; /* NULL once unsealing is not needed (retired keys) */
    int64_t created, retired;
};

void vt_broker_signers_free(struct vt_broker *b)
{
    for (size_t i = 0; i < b->n_signers; i++) {
        vt_key_free(b->signers[i].priv);
    }
    free(b->signers);
    b->signers = NULL;
    b->n_signers = 0;
}

struct load_ctx {
    struct vt_broker *b;
    struct vt_broker_signer *s;
    size_t n, cap;
    enum vt_err err;
    struct vt_diag *d;
};

static bool row_signer(void *ctx, const struct vt_sql_row *row)
{
    struct load_ctx *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 4;
        void *p = realloc(l->s, cap * sizeof(*l->s));
        if (p == NULL) {
            l->err = VT_E_NOMEM;
            return false;
        }
        l->s = p;
        l->cap = cap;
    }
    struct vt_broker_signer *s = &l->s[l->n];
    memset(s, 0, sizeof(*s));
    snprintf(s->kid, sizeof(s->kid), "%s", vt_row_text(row, 0));
    const char *xy = vt_row_text(row, 2);
    s->created = vt_row_int(row, 3);
    s->retired = vt_row_int(row, 4);
    if (vt_hex_decode_exact(xy, strlen(xy), s->xy, 64) != VT_OK) {
        l->err = vt_fail(l->d, VT_E_STORAGE, "signing_key", "public key of %s is corrupt", s->kid);
        return false;
    }
    if (s->retired == 0) { /* only the active key is unsealed */
        size_t n;
        const uint8_t *sealed = vt_row_blob(row, 1, &n);
        char aad[128];
        snprintf(aad, sizeof(aad), "veritee signing key %s", s->kid);
        struct vt_buf pem;
        vt_buf_init(&pem, 4096);
        l->err = vt_broker_unseal(l->b, aad, sealed, n, &pem, l->d);
        if (l->err == VT_OK) {
            l->err = vt_key_from_private_pem((const char *)pem.data, pem.len, VT_KEY_P256, &s->priv,
                                             l->d);
        }
        vt_buf_cleanup(&pem);
        if (l->err != VT_OK) {
            return false;
        }
    }
    l->n++;
    return true;
}

static enum vt_err create_signer(struct vt_broker *b, char kid[64], struct vt_diag *d)
{
    struct vt_key *k = NULL;
    VT_TRY(vt_key_generate(VT_KEY_P256, 0, &k, d));
    uint8_t xy[64], h[32];
    vt_key_p256_xy(k, xy);
    vt_sha256(xy, 64, h);
    char hx[17], xyhex[129], aad[128];
    vt_hex_encode(h, 8, hx);
    snprintf(kid, 64, "vt-%s", hx);
    vt_hex_encode(xy, 64, xyhex);
    snprintf(aad, sizeof(aad), "veritee signing key %s", kid);
    struct vt_buf pem, sealed;
    vt_buf_init(&pem, 4096);
    vt_buf_init(&sealed, 4200);
    enum vt_err err = vt_key_private_pem(k, &pem, d);
    if (err == VT_OK) {
        err = vt_broker_seal(b, aad, pem.data, pem.len, &sealed, d);
    }
    vt_key_free(k);
    vt_buf_cleanup(&pem);
    vt_time now = vt_broker_now(b);
    if (err == VT_OK && (err = vt_store_begin(b->store, d)) == VT_OK) {
        struct vt_sql_arg r[] = {VT_SQL_I(now), VT_SQL_T(kid)};
        struct vt_sql_arg a[] = {VT_SQL_T(kid), VT_SQL_B(sealed.data, sealed.len), VT_SQL_T(xyhex),
                                 VT_SQL_I(now), VT_SQL_I(0)};
        err = vt_store_exec(b->store,
                            "UPDATE vb_signing_keys SET retired = ? WHERE retired = 0"
                            " AND kid <> ?",
                            r, 2, NULL, NULL, NULL, d);
        if (err == VT_OK) {
            err = vt_store_exec(b->store,
                                "INSERT INTO vb_signing_keys(kid, sealed, public_xy, created,"
                                " retired) VALUES (?,?,?,?,?)",
                                a, 5, NULL, NULL, NULL, d);
        }
        if (err == VT_OK) {
            err = vt_store_commit(b->store, d);
        } else {
            vt_store_rollback(b->store);
        }
    }
    vt_buf_cleanup(&sealed);
    return err;
}

/* Load the published keys (caller holds sign_lock or is single-threaded). */
static enum vt_err load(struct vt_broker *b, struct vt_diag *d)
{
    struct load_ctx l = {.b = b, .d = d};
    vt_time now = vt_broker_now(b);
    struct vt_sql_arg a[] = {VT_SQL_I(now - b->cfg.token_ttl)};
    enum vt_err err = vt_store_exec(b->store,
                                    "SELECT kid, sealed, public_xy, created, retired FROM"
                                    " vb_signing_keys WHERE retired = 0 OR retired >= ?"
                                    " ORDER BY created DESC, kid",
                                    a, 1, row_signer, &l, NULL, d);
    if (err == VT_OK) {
        err = l.err;
    }
    if (err != VT_OK) {
        for (size_t i = 0; i < l.n; i++) {
            vt_key_free(l.s[i].priv);
        }
        free(l.s);
        return err;
    }
    vt_broker_signers_free(b);
    b->signers = l.s;
    b->n_signers = l.n;
    b->signers_loaded_at = now;
    return VT_OK;
}

static struct vt_broker_signer *active(struct vt_broker *b)
{
    for (size_t i = 0; i < b->n_signers; i++) {
        if (b->signers[i].retired == 0 && b->signers[i].priv != NULL) {
            return &b->signers[i];
        }
    }
    return NULL;
}

enum vt_err vt_broker_signers_load(struct vt_broker *b, struct vt_diag *d)
{
    pthread_mutex_lock(&b->sign_lock);
    enum vt_err err = load(b, d);
    if (err == VT_OK && active(b) == NULL) {
        char kid[64];
        err = create_signer(b, kid, d);
        if (err == VT_OK) {
            err = load(b, d);
        }
    }
    pthread_mutex_unlock(&b->sign_lock);
    return err;
}

enum vt_err vt_broker_rotate_signing_key(struct vt_broker *b, char kid[64], struct vt_diag *d)
{
    pthread_mutex_lock(&b->sign_lock);
    enum vt_err err = create_signer(b, kid, d);
    if (err == VT_OK) {
        err = load(b, d);
    }
    pthread_mutex_unlock(&b->sign_lock);
    return err;
}

/* Replicas may rotate: reload when the active key is older than a few seconds' view. */
static void refresh(struct vt_broker *b)
{
    if (vt_broker_now(b) - b->signers_loaded_at >= 5) {
        struct vt_diag d;
        vt_diag_init(&d);
        if (load(b, &d) != VT_OK) {
            fprintf(stderr, "veritee-broker: cannot reload signing keys: %s\n", d.detail);
        }
    }
}

char *vt_broker_jwks(struct vt_broker *b)
{
    json_t *keys = json_array();
    pthread_mutex_lock(&b->sign_lock);
    refresh(b);
    for (size_t i = 0; i < b->n_signers; i++) {
        char x[64], y[64];
        if (vt_base64_encode(b->signers[i].xy, 32, true, x, sizeof(x)) != VT_OK ||
            vt_base64_encode(b->signers[i].xy + 32, 32, true, y, sizeof(y)) != VT_OK) {
            continue;
        }
        json_array_append_new(keys, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "EC", "crv",
                                              "P-256", "x", x, "y", y, "kid", b->signers[i].kid,
                                              "use", "sig", "alg", "ES256"));
    }
    pthread_mutex_unlock(&b->sign_lock);
    json_t *o = json_pack("{s:o}", "keys", keys);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

enum vt_err vt_broker_token_issue(struct vt_broker *b, const char *payload_json, char **jwt,
                                  struct vt_diag *d)
{
    pthread_mutex_lock(&b->sign_lock);
    refresh(b);
    struct vt_broker_signer *s = active(b);
    enum vt_err err = s ? vt_jws_sign_es256(s->priv, s->kid, "JWT", (const uint8_t *)payload_json,
                                            strlen(payload_json), jwt, d)
                        : vt_fail(d, VT_E_STATE, "signing_key", "no active signing key");
    pthread_mutex_unlock(&b->sign_lock);
    return err;
}

static bool resolve(void *ctx, const char *kid, uint8_t xy[64])
{
    struct vt_broker *b = ctx;
    for (size_t i = 0; i < b->n_signers; i++) {
        if (strcmp(b->signers[i].kid, kid) == 0) {
            memcpy(xy, b->signers[i].xy, 64);
            return true;
        }
    }
    return false;
}

enum vt_err vt_broker_token_check(struct vt_broker *b, const char *jwt, char **payload,
                                  struct vt_diag *d)
{
    *payload = NULL;
    VT_ENSURE(jwt != NULL && strlen(jwt) < 64 * 1024, d, VT_E_ARG, "token",
              "token missing or too long");
    struct vt_buf p;
    vt_buf_init(&p, 64 * 1024);
    char kid[128];
    pthread_mutex_lock(&b->sign_lock);
    refresh(b);
    enum vt_err err = vt_jws_verify_es256(jwt, strlen(jwt), resolve, b, &p, kid, d);
    pthread_mutex_unlock(&b->sign_lock);
    if (err != VT_OK) {
        vt_buf_cleanup(&p);
        return err;
    }
    json_t *o = json_loadb((const char *)p.data, p.len, JSON_REJECT_DUPLICATES, NULL);
    const char *iss = json_string_value(json_object_get(o, "iss"));
    json_int_t exp = json_integer_value(json_object_get(o, "exp"));
    json_int_t iat = json_integer_value(json_object_get(o, "iat"));
    vt_time now = vt_broker_now(b);
    if (iss == NULL || strcmp(iss, b->cfg.issuer) != 0) {
        err = vt_fail(d, VT_E_BAD_FIELD, "token.iss", "the token was issued by %s, not %s",
                      iss ? iss : "(none)", b->cfg.issuer);
    } else if (exp <= now) {
        err = vt_fail(d, VT_E_EXPIRED, "token.exp", "the token expired %lld seconds ago",
                      (long long)(now - exp));
    } else if (iat > now + 60) {
        err = vt_fail(d, VT_E_NOT_YET_VALID, "token.iat", "the token is issued in the future");
    } else {
        *payload = strndup((const char *)p.data, p.len);
        err = *payload ? VT_OK : vt_fail(d, VT_E_NOMEM, "token", "no memory");
    }
    json_decref(o);
    vt_buf_cleanup(&p);
    return err;
}

enum vt_err vt_broker_checkpoint(struct vt_broker *b, uint64_t size, const uint8_t root[32],
                                 struct vt_buf *body, uint8_t sig[64], char kid[64],
                                 struct vt_diag *d)
{
    pthread_mutex_lock(&b->sign_lock);
    refresh(b);
    struct vt_broker_signer *s = active(b);
    enum vt_err err =
        s ? vt_checkpoint_sign(s->priv, b->cfg.issuer, size, root, vt_broker_now(b), body, sig, d)
          : vt_fail(d, VT_E_STATE, "signing_key", "no active signing key");
    if (err == VT_OK) {
        snprintf(kid, 64, "%s", s->kid);
    }
    pthread_mutex_unlock(&b->sign_lock);
    return err;
}
