/*
 * Secure Key Release (kv.h, docs/skr.md "Release"): POST /keys/{name}[/{version}]/release with
 * {target, nonce?, enc?}.
 *
 *  1. The key: it exists, is enabled, within its nbf/exp, exportable, with a release policy.
 *  2. The target: a compact JWS, RS256, signed by a key of a trusted issuer (by kid: the
 *     configured JWK sets, then the in-process MAA service), whose "iss" is that issuer's, with
 *     "exp" not passed and "nbf" reached (service clock, configured leeway).
 *  3. The policy, evaluated against the token's issuer and claims, every condition explained.
 *  4. The key encryption key: the first RSA key of x-ms-runtime.keys that may encrypt.
 *  5. The material (PKCS#8 DER for RSA and EC, the raw bytes for oct-HSM) wrapped with enc:
 *     CKM_RSA_AES_KEY_WRAP (OAEP SHA-1), RSA_AES_KEY_WRAP_256, RSA_AES_KEY_WRAP_384; the blob goes
 *     into key_hsm = base64url({"schema_version":"1.0","header":{"kid","alg":"dir","enc"},
 *     "ciphertext","generator"}), the key bundle's key.key_hsm.
 *  6. The answer {"value": JWS RS256 by this vault's signing key (kid, x5c, x5t#S256)} whose
 *     payload is
 *     {"request": {"api-version","enc","kid","nonce"?}, "response": {"key": KeyBundle}}.
 *
 * Every decision from step 2 on (granted or refused) is appended to the broker's Merkle log with
 * the explanation; a grant whose entry cannot be written is refused (no material leaves).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "azure/kv.h"
#include "azure/skr_policy.h"
#include "base/encoding.h"
#include "crypto/rsa_aes_wrap.h"

#define BAD(e, ...) vt_az_fail((e), 400, "BadParameter", __VA_ARGS__)
#define FORBIDDEN(e, ...) vt_az_fail((e), 403, "Forbidden", __VA_ARGS__)
#define INTERNAL(e, ...) vt_az_fail((e), 500, "InternalServerError", __VA_ARGS__)

void vt_kv_target_cleanup(struct vt_kv_target *t)
{
    vt_jwk_free(t->kek);
    json_decref(t->claims);
    memset(t, 0, sizeof(*t));
}

static bool same_issuer(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    na -= na > 0 && a[na - 1] == '/';
    nb -= nb > 0 && b[nb - 1] == '/';
    return na == nb && strncasecmp(a, b, na) == 0;
}

/* ---- the target token ---- */

struct resolve_ctx {
    struct vt_kv *k;
    char issuer[VT_KV_URL_MAX];
};

static const struct vt_jwk *resolve(void *ctx, const json_t *header, struct vt_diag *d)
{
    struct resolve_ctx *r = ctx;
    const char *kid = json_string_value(json_object_get(header, "kid"));
    if (kid == NULL || kid[0] == '\0') {
        vt_fail(d, VT_E_MISSING_FIELD, "jws.kid",
                "the token names no signing key (\"kid\"): keys are trusted by kid");
        return NULL;
    }
    for (size_t i = 0; i < r->k->n_issuers; i++) {
        const struct vt_kv_issuer *is = &r->k->issuers[i];
        for (size_t j = 0; j < is->n; j++) {
            if (strcmp(is->kids[j], kid) == 0) {
                snprintf(r->issuer, sizeof(r->issuer), "%s", is->iss);
                return is->keys[j];
            }
        }
    }
    if (r->k->maa_key != NULL) {
        const struct vt_jwk *key = r->k->maa_key(r->k->maa_ctx, kid);
        if (key != NULL) {
            snprintf(r->issuer, sizeof(r->issuer), "%s", r->k->maa_issuer);
            return key;
        }
    }
    vt_fail(d, VT_E_NOT_FOUND, "jws.kid",
            "no trusted issuer has a signing key \"%.127s\" (untrusted issuer)", kid);
    return NULL;
}

bool vt_kv_target_verify(struct vt_kv *k, const char *token, size_t len, struct vt_kv_target *t,
                         struct vt_az_error *e)
{
    memset(t, 0, sizeof(*t));
    vt_sha256(token, len, t->token_sha256);
    struct resolve_ctx r = {k, ""};
    struct vt_buf payload;
    vt_buf_init(&payload, VT_KV_TOKEN_MAX);
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_jws_verify_rs256(token, len, resolve, &r, &payload, NULL, &d);
    if (err != VT_OK) {
        vt_buf_cleanup(&payload);
        return FORBIDDEN(e, "Target environment attestation statement cannot be verified: %s (%s)",
                         d.detail[0] ? d.detail : vt_strerror(err), d.check);
    }
    json_error_t je;
    t->claims = json_loadb((const char *)payload.data, payload.len, JSON_REJECT_DUPLICATES, &je);
    vt_buf_cleanup(&payload);
    snprintf(t->issuer, sizeof(t->issuer), "%s", r.issuer);
    if (!json_is_object(t->claims)) {
        return BAD(e, "target: the token's payload is not a JSON object");
    }
    const char *iss = json_string_value(json_object_get(t->claims, "iss"));
    if (iss == NULL) {
        return FORBIDDEN(e, "target: the token has no \"iss\" claim");
    }
    if (!same_issuer(iss, r.issuer)) {
        return FORBIDDEN(e,
                         "target: the token's issuer \"%.200s\" is not the issuer its signing key "
                         "is trusted for (\"%.200s\")",
                         iss, r.issuer);
    }
    int64_t now = vt_kv_now(k);
    const json_t *exp = json_object_get(t->claims, "exp"), *nbf = json_object_get(t->claims, "nbf");
    if (!json_is_integer(exp)) {
        return FORBIDDEN(e, "target: the token has no \"exp\" (an integer) claim");
    }
    if (now > json_integer_value(exp) + k->token_leeway) {
        return FORBIDDEN(e,
                         "target: the token expired at %" JSON_INTEGER_FORMAT " (now %" PRId64
                         ", leeway %" PRId64 " s)",
                         json_integer_value(exp), now, k->token_leeway);
    }
    if (nbf != NULL && !json_is_integer(nbf)) {
        return FORBIDDEN(e, "target: \"nbf\" is not an integer");
    }
    if (nbf != NULL && now + k->token_leeway < json_integer_value(nbf)) {
        return FORBIDDEN(e,
                         "target: the token is not valid before %" JSON_INTEGER_FORMAT
                         " (now %" PRId64 ", leeway %" PRId64 " s)",
                         json_integer_value(nbf), now, k->token_leeway);
    }
    t->verified = true;
    return true;
}

static bool may_encrypt(const json_t *jk)
{
    const json_t *ops = json_object_get(jk, "key_ops");
    size_t i;
    const json_t *op;
    json_array_foreach(ops, i, op)
    {
        if (json_is_string(op) && strcmp(json_string_value(op), "encrypt") == 0) {
            return true;
        }
    }
    const char *use = json_string_value(json_object_get(jk, "use"));
    return use != NULL && strcmp(use, "enc") == 0;
}

bool vt_kv_target_kek(struct vt_kv_target *t, struct vt_az_error *e)
{
    const json_t *rt = json_object_get(t->claims, "x-ms-runtime");
    const json_t *keys = json_object_get(rt, "keys");
    if (!json_is_array(keys)) {
        return FORBIDDEN(e, "target: the token has no x-ms-runtime.keys (the key the released "
                            "material is wrapped to)");
    }
    size_t i;
    const json_t *jk;
    json_array_foreach(keys, i, jk)
    {
        const char *kty = json_string_value(json_object_get(jk, "kty"));
        if (!json_is_object(jk) || kty == NULL || strcmp(kty, "RSA") != 0 || !may_encrypt(jk)) {
            continue;
        }
        json_t *pub = json_pack("{s:s,s:O,s:O}", "kty", "RSA", "n", json_object_get(jk, "n"), "e",
                                json_object_get(jk, "e"));
        struct vt_diag d;
        vt_diag_init(&d);
        enum vt_err err = pub ? vt_jwk_from_json(pub, &t->kek, &d) : VT_E_MISSING_FIELD;
        json_decref(pub);
        if (err != VT_OK) {
            return FORBIDDEN(e, "target: x-ms-runtime.keys[%zu] is not a usable RSA key: %s", i,
                             d.detail[0] ? d.detail : vt_strerror(err));
        }
        const char *kid = json_string_value(json_object_get(jk, "kid"));
        snprintf(t->kek_kid, sizeof(t->kek_kid), "%s", kid ? kid : "");
        return true;
    }
    return FORBIDDEN(e, "target: x-ms-runtime.keys has no RSA key whose key_ops include "
                        "\"encrypt\" or whose use is \"enc\"");
}

/* ---- the release ---- */

static const struct {
    const char *name;
    enum vt_rsa_aes_hash hash;
} encs[] = {
    {"CKM_RSA_AES_KEY_WRAP", VT_RSA_AES_SHA1},
    {"RSA_AES_KEY_WRAP_256", VT_RSA_AES_SHA256},
    {"RSA_AES_KEY_WRAP_384", VT_RSA_AES_SHA384},
};

struct release {
    struct vt_kv *k;
    struct vt_kv_call *c;
    struct vt_kv_key key;
    char kid[VT_KV_URL_MAX + VT_KV_NAME_MAX + 64];
    const char *enc;
    enum vt_rsa_aes_hash hash;
    const char *nonce;
    struct vt_kv_target t;
    bool target_read;
    struct vt_buf explain;
};

/* The log entry of a decision: canonical JSON, nothing secret (no token, no material). */
static bool log_decision(struct release *r, bool granted, const struct vt_az_error *refusal)
{
    char when[VT_TIME_STR_MAX];
    vt_time_format(vt_kv_now(r->k), when);
    char sha[65];
    vt_hex_encode(r->t.token_sha256, 32, sha);
    const char *decision = granted ? "allow" : refusal->status == 403 ? "deny" : "error";
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", "keyvault", "event", "release",
                          "time", when, "key", r->kid, "enc", r->enc, "decision", decision);
    json_t *target = json_pack("{s:s,s:b,s:s}", "token_sha256", sha, "verified", r->t.verified,
                               "issuer", r->t.issuer);
    if (o == NULL || target == NULL) {
        json_decref(o);
        json_decref(target);
        return INTERNAL(&r->c->err, "cannot encode the log entry");
    }
    if (r->t.kek != NULL) {
        char tp[44];
        vt_jwk_thumbprint_b64(r->t.kek, tp);
        json_object_set_new(target, "kek_thumbprint", json_string(tp));
    }
    json_object_set_new(o, "target", target);
    if (!granted) {
        json_object_set_new(o, "error", json_string(refusal->code));
        json_object_set_new(o, "reason", json_string(refusal->message));
    }
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (text == NULL) {
        return INTERNAL(&r->c->err, "cannot encode the log entry");
    }
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_broker_log_append(
        r->k->b, text, r->explain.data ? (const char *)r->explain.data : "", NULL, NULL, true,
        &r->c->log_index, &r->c->receipt, r->c->receipt_kid, &d);
    free(text);
    if (err != VT_OK) {
        fprintf(stderr, "veritee-keyvault: log append: %s: %s\n", d.check, d.detail);
        return INTERNAL(&r->c->err, "the release could not be recorded in the audit log");
    }
    return true;
}

/* The key's material as the wrap carries it: PKCS#8 DER, or the raw oct bytes. */
static bool material(struct release *r, struct vt_buf *out)
{
    struct vt_buf stored;
    vt_buf_init(&stored, 1u << 16);
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_kv_material(r->k, r->key.name, r->key.version, &stored, &d);
    if (err == VT_OK && strncmp(r->key.kty, "oct", 3) == 0) {
        err = vt_buf_append(out, stored.data, stored.len);
    } else if (err == VT_OK) {
        struct vt_jwk *priv = NULL;
        err = vt_jwk_from_private_pem((const char *)stored.data, stored.len, &priv, &d);
        if (err == VT_OK) {
            err = vt_jwk_private_pkcs8_der(priv, out, &d);
        }
        vt_jwk_free(priv);
    }
    vt_buf_cleanup(&stored);
    if (err != VT_OK) {
        fprintf(stderr, "veritee-keyvault: key %s material: %s: %s\n", r->key.name, d.check,
                d.detail);
        return INTERNAL(&r->c->err, "the key material could not be read");
    }
    return true;
}

/* key_hsm: the wrapped material with the header naming the wrap. */
static char *key_hsm(struct release *r, const struct vt_buf *blob)
{
    char *ct = vt_base64_alloc(blob->data, blob->len, true);
    json_t *o = ct ? json_pack("{s:s,s:{s:s,s:s,s:s},s:s,s:s}", "schema_version", "1.0", "header",
                               "kid", r->t.kek_kid, "alg", "dir", "enc", r->enc, "ciphertext", ct,
                               "generator", "veritee keyvault")
                   : NULL;
    free(ct);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    char *b64 = text ? vt_base64_alloc((const uint8_t *)text, strlen(text), true) : NULL;
    free(text);
    return b64;
}

static bool sign_answer(struct release *r, const struct vt_buf *blob)
{
    json_t *bundle = vt_kv_bundle(&r->key, r->c->vault_url);
    char *hsm = key_hsm(r, blob);
    json_t *payload = NULL;
    if (bundle != NULL && hsm != NULL) {
        json_object_set_new(json_object_get(bundle, "key"), "key_hsm", json_string(hsm));
        json_t *req = json_pack("{s:s,s:s,s:s}", "api-version", r->c->api_version, "enc", r->enc,
                                "kid", r->kid);
        if (req != NULL && r->nonce != NULL) {
            json_object_set_new(req, "nonce", json_string(r->nonce));
        }
        payload = json_pack("{s:o,s:{s:O}}", "request", req, "response", "key", bundle);
    }
    free(hsm);
    json_decref(bundle);
    char *text = payload ? json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(payload);
    json_t *header = json_pack("{s:s,s:[s],s:s,s:s}", "kid", r->k->signer_kid, "x5c",
                               r->k->signer_x5c, "x5t#S256", r->k->signer_x5t_s256, "typ", "JWT");
    char *jws = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    bool ok = text != NULL && header != NULL &&
              vt_jws_sign_rs256(r->k->signer, header, (const uint8_t *)text, strlen(text), &jws,
                                &d) == VT_OK;
    json_decref(header);
    if (text != NULL) {
        vt_wipe(text, strlen(text));
        free(text);
    }
    if (ok) {
        r->c->out = json_pack("{s:s}", "value", jws);
        ok = r->c->out != NULL;
    }
    free(jws);
    return ok ? true : INTERNAL(&r->c->err, "the release response could not be signed");
}

/* Read and check the body; refusals here are not logged (nothing was decided). */
static bool read_body(struct release *r, const json_t *body, const char **token)
{
    struct vt_az_error *e = &r->c->err;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        if (strcmp(key, "target") != 0 && strcmp(key, "nonce") != 0 && strcmp(key, "enc") != 0) {
            return BAD(e, "the member \"%.64s\" is not one release takes (target, nonce, enc)",
                       key);
        }
    }
    const json_t *target = json_object_get(body, "target"), *nonce = json_object_get(body, "nonce"),
                 *enc = json_object_get(body, "enc");
    if (!json_is_string(target) || json_string_length(target) == 0) {
        return BAD(e, "target: the attestation token is required");
    }
    if (json_string_length(target) > VT_KV_TOKEN_MAX) {
        return BAD(e, "target: %zu bytes, at most %u", json_string_length(target), VT_KV_TOKEN_MAX);
    }
    if (nonce != NULL && !json_is_null(nonce) &&
        (!json_is_string(nonce) || json_string_length(nonce) > VT_KV_NONCE_MAX)) {
        return BAD(e, "nonce: a string of at most %d bytes", VT_KV_NONCE_MAX);
    }
    r->nonce = json_is_string(nonce) ? json_string_value(nonce) : NULL;
    r->enc = encs[0].name;
    r->hash = encs[0].hash;
    if (enc != NULL && !json_is_null(enc)) {
        const char *s = json_string_value(enc);
        size_t i = 0;
        while (s != NULL && i < 3 && strcmp(s, encs[i].name) != 0) {
            i++;
        }
        if (s == NULL || i == 3) {
            return BAD(e, "enc: not a release encryption this service knows (CKM_RSA_AES_KEY_WRAP, "
                          "RSA_AES_KEY_WRAP_256, RSA_AES_KEY_WRAP_384)");
        }
        r->enc = encs[i].name;
        r->hash = encs[i].hash;
    }
    *token = json_string_value(target);
    return true;
}

/* The key may be released at all (Key Vault's checks before the target is read). */
static bool key_releasable(struct release *r)
{
    struct vt_az_error *e = &r->c->err;
    int64_t now = vt_kv_now(r->k);
    if (!r->key.enabled) {
        return FORBIDDEN(e, "Operation release is not allowed on a disabled key.");
    }
    if ((r->key.nbf > 0 && now < r->key.nbf) || (r->key.exp > 0 && now >= r->key.exp)) {
        return FORBIDDEN(e, "Operation release is not allowed on an expired or not yet valid key.");
    }
    if (!r->key.exportable || r->key.policy == NULL) {
        return FORBIDDEN(e, "Operation release is not allowed on a non-exportable key.");
    }
    return true;
}

/* The key's stored policy, evaluated with its explanation. */
static bool policy_allows(struct release *r)
{
    json_t *stored = json_loads(r->key.policy, 0, NULL);
    const char *data = json_string_value(json_object_get(stored, "data"));
    size_t n = data ? strlen(data) : 0, cap = n / 4 * 3 + 3, got = 0;
    char *text = data ? malloc(cap + 1) : NULL;
    struct vt_skr_policy *p = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    bool ok = text != NULL &&
              vt_base64_decode(data, n, true, (uint8_t *)text, cap, &got) == VT_OK &&
              vt_skr_policy_parse(text, got, &p, &d) == VT_OK;
    free(text);
    json_decref(stored);
    if (!ok) {
        vt_skr_policy_free(p);
        return INTERNAL(&r->c->err, "the key's stored release policy cannot be read");
    }
    bool granted = vt_skr_policy_eval(p, r->t.issuer, r->t.claims, &r->explain);
    vt_skr_policy_free(p);
    if (!granted) {
        /* the refusal names the authorities; the full explanation is for the administrator */
        return FORBIDDEN(&r->c->err,
                         "Target environment attestation statement does not satisfy the key's "
                         "release policy (issuer %.200s)",
                         r->t.issuer);
    }
    return true;
}

bool vt_kv_release(struct vt_kv *k, struct vt_kv_call *c, const char *name, const char *version,
                   const json_t *body)
{
    struct release r;
    memset(&r, 0, sizeof(r));
    r.k = k;
    r.c = c;
    vt_buf_init(&r.explain, 64u << 10);
    const char *token = NULL;
    bool found = false;
    struct vt_diag d;
    vt_diag_init(&d);
    bool ok = read_body(&r, body, &token);
    if (ok && vt_kv_key_get(k, name, version, &r.key, &found, &d) != VT_OK) {
        ok = INTERNAL(&c->err, "the key could not be read");
    } else if (ok && !found) {
        ok = vt_az_fail(&c->err, 404, "KeyNotFound",
                        "A key with (name/id) %s%s%s was not found in this key vault.", name,
                        version && version[0] ? "/" : "", version ? version : "");
    }
    bool decided = false;
    if (ok) {
        snprintf(r.kid, sizeof(r.kid), "%s/keys/%s/%s", c->vault_url, r.key.name, r.key.version);
        decided = true; /* from here on every outcome is logged */
        ok = key_releasable(&r) && vt_kv_target_verify(k, token, strlen(token), &r.t, &c->err) &&
             policy_allows(&r) && vt_kv_target_kek(&r.t, &c->err);
    }
    struct vt_buf mat, blob;
    vt_buf_init(&mat, 1u << 16);
    vt_buf_init(&blob, 1u << 17);
    if (ok && material(&r, &mat)) {
        if (vt_rsa_aes_key_wrap(r.t.kek, r.hash, mat.data, mat.len, &blob, &d) != VT_OK) {
            ok = INTERNAL(&c->err, "the key could not be wrapped: %s", d.detail);
        }
    } else if (ok) {
        ok = false;
    }
    vt_buf_cleanup(&mat);
    if (decided) {
        struct vt_az_error refusal = c->err;
        if (!log_decision(&r, ok, &refusal)) {
            ok = false;
        } else if (!ok) {
            c->err = refusal;
            size_t used = strlen(c->err.message);
            snprintf(c->err.message + used, sizeof(c->err.message) - used,
                     " [veritee audit log entry %" PRIu64 "]", c->log_index);
        }
    }
    if (ok) {
        ok = sign_answer(&r, &blob);
    }
    vt_buf_cleanup(&blob);
    vt_buf_cleanup(&r.explain);
    vt_kv_target_cleanup(&r.t);
    vt_kv_key_cleanup(&r.key);
    return ok;
}
