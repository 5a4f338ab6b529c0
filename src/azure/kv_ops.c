/*
 * Key Vault's key operations (kv.h, docs/skr.md "Keys"): create, import, get, update, the lists,
 * and the KeyBundle JSON they answer with. Requests are read strictly: a member Key Vault's API
 * does not have, or one of the wrong type, is refused with BadParameter naming it.
 *
 *   KeyBundle = {"key": {"kid": "<vault>/keys/<name>/<version>", "kty", "key_ops",
 *                        "n", "e" | "crv", "x", "y"},
 *                "attributes": {"enabled", "nbf"?, "exp"?, "created", "updated",
 *                               "recoveryLevel": "Purgeable", "exportable"},
 *                "tags"?, "release_policy"?: {"contentType", "data", "immutable"}}
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
#define NOT_FOUND(e, ...) vt_az_fail((e), 404, "KeyNotFound", __VA_ARGS__)
#define INTERNAL(e, ...) vt_az_fail((e), 500, "InternalServerError", __VA_ARGS__)

void vt_kv_call_cleanup(struct vt_kv_call *c)
{
    json_decref(c->out);
    free(c->receipt);
    c->out = NULL;
    c->receipt = NULL;
}

/* A member that is absent or null counts as absent. */
static json_t *member(const json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    return json_is_null(v) ? NULL : v;
}

/* Refuse any member of o not in names (NULL-terminated). */
static bool only(const json_t *o, const char *what, const char *const *names, struct vt_az_error *e)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        size_t i = 0;
        while (names[i] != NULL && strcmp(names[i], key) != 0) {
            i++;
        }
        if (names[i] == NULL) {
            return BAD(e, "%s: the member \"%.64s\" is not one this service takes", what, key);
        }
    }
    return true;
}

/* ---- release policies ---- */

bool vt_kv_policy_read(const json_t *rp, char **stored, struct vt_az_error *e)
{
    *stored = NULL;
    if (!json_is_object(rp)) {
        return BAD(e, "release_policy: expected an object {contentType, data, immutable}");
    }
    static const char *const names[] = {"contentType", "data", "immutable", NULL};
    if (!only(rp, "release_policy", names, e)) {
        return false;
    }
    const json_t *ct = member(rp, "contentType"), *data = member(rp, "data"),
                 *imm = member(rp, "immutable");
    if (ct != NULL && !json_is_string(ct)) {
        return BAD(e, "release_policy.contentType: expected a string");
    }
    const char *cts = ct ? json_string_value(ct) : VT_KV_CONTENT_TYPE;
    if (strcasecmp(cts, "application/json") != 0 && strcasecmp(cts, VT_KV_CONTENT_TYPE) != 0) {
        return BAD(e,
                   "release_policy.contentType: \"%.64s\" is not a policy type this service "
                   "reads (application/json; charset=utf-8)",
                   cts);
    }
    if (imm != NULL && !json_is_boolean(imm)) {
        return BAD(e, "release_policy.immutable: expected true or false");
    }
    if (!json_is_string(data) || json_string_length(data) == 0) {
        return BAD(e, "release_policy.data: expected the policy as base64url text");
    }
    size_t tlen = json_string_length(data), cap = tlen / 4 * 3 + 3, n = 0;
    if (tlen > VT_SKR_POLICY_MAX * 2) {
        return BAD(e, "release_policy.data: %zu characters, the policy is at most %u bytes", tlen,
                   VT_SKR_POLICY_MAX);
    }
    uint8_t *text = malloc(cap + 1);
    if (text == NULL) {
        return INTERNAL(e, "no memory");
    }
    if (vt_base64_decode(json_string_value(data), tlen, true, text, cap, &n) != VT_OK) {
        free(text);
        return BAD(e, "release_policy.data: not base64url");
    }
    struct vt_skr_policy *p = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_skr_policy_parse((const char *)text, n, &p, &d);
    vt_skr_policy_free(p);
    if (err != VT_OK) {
        free(text);
        return BAD(e, "release_policy.data: %s (%s: %s)", vt_strerror(err), d.check, d.detail);
    }
    char *b64 = vt_base64_alloc(text, n, true);
    free(text);
    json_t *o = b64 ? json_pack("{s:s,s:s,s:b}", "contentType", VT_KV_CONTENT_TYPE, "data", b64,
                                "immutable", json_is_true(imm))
                    : NULL;
    free(b64);
    *stored = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return *stored != NULL ? true : INTERNAL(e, "no memory");
}

/* ---- attributes, tags, key_ops ---- */

static bool read_attributes(const json_t *a, struct vt_kv_key *key, bool creating,
                            struct vt_az_error *e)
{
    if (a == NULL) {
        return true;
    }
    if (!json_is_object(a)) {
        return BAD(e, "attributes: expected an object");
    }
    static const char *const names[] = {"enabled", "nbf", "exp", "exportable", NULL};
    if (!only(a, "attributes", names, e)) {
        return false;
    }
    const json_t *en = member(a, "enabled"), *nbf = member(a, "nbf"), *exp = member(a, "exp"),
                 *ex = member(a, "exportable");
    if (en != NULL && !json_is_boolean(en)) {
        return BAD(e, "attributes.enabled: expected true or false");
    }
    if ((nbf != NULL && !json_is_integer(nbf)) || (exp != NULL && !json_is_integer(exp))) {
        return BAD(e, "attributes.nbf and attributes.exp are integers (seconds since 1970)");
    }
    if (ex != NULL && !json_is_boolean(ex)) {
        return BAD(e, "attributes.exportable: expected true or false");
    }
    if (en != NULL) {
        key->enabled = json_is_true(en);
    }
    if (nbf != NULL) {
        key->nbf = json_integer_value(nbf);
    }
    if (exp != NULL) {
        key->exp = json_integer_value(exp);
    }
    if (key->nbf < 0 || key->exp < 0 || (key->nbf > 0 && key->exp > 0 && key->exp <= key->nbf)) {
        return BAD(e, "attributes: exp (%" PRId64 ") must come after nbf (%" PRId64 ")", key->exp,
                   key->nbf);
    }
    if (ex != NULL) {
        if (!creating && json_is_true(ex) != key->exportable) {
            return BAD(e, "attributes.exportable cannot change after the key is made");
        }
        key->exportable = json_is_true(ex);
    }
    return true;
}

static bool read_tags(const json_t *t, struct vt_kv_key *key, struct vt_az_error *e)
{
    if (t == NULL) {
        return true;
    }
    if (!json_is_object(t) || json_object_size(t) > VT_KV_TAGS_MAX) {
        return BAD(e, "tags: an object of at most %d string values", VT_KV_TAGS_MAX);
    }
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)t, name, v)
    {
        if (!json_is_string(v) || strlen(name) > VT_KV_TAG_MAX ||
            json_string_length(v) > VT_KV_TAG_MAX) {
            return BAD(e, "tags.%.64s: a string of at most %d bytes", name, VT_KV_TAG_MAX);
        }
    }
    free(key->tags);
    key->tags = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS);
    return key->tags != NULL ? true : INTERNAL(e, "no memory");
}

static const char *const all_ops[] = {"encrypt", "decrypt",   "sign",   "verify",
                                      "wrapKey", "unwrapKey", "import", "export"};

static bool read_key_ops(const json_t *ops, const char *deflt, struct vt_kv_key *key,
                         struct vt_az_error *e)
{
    if (ops == NULL) {
        if (key->key_ops == NULL) {
            key->key_ops = strdup(deflt);
        }
        return key->key_ops != NULL ? true : INTERNAL(e, "no memory");
    }
    if (!json_is_array(ops) || json_array_size(ops) > 8) {
        return BAD(e, "key_ops: an array of operations");
    }
    size_t i;
    json_t *v;
    json_array_foreach(ops, i, v)
    {
        const char *s = json_string_value(v);
        size_t j = 0;
        while (s != NULL && j < 8 && strcmp(s, all_ops[j]) != 0) {
            j++;
        }
        if (s == NULL || j == 8) {
            return BAD(e,
                       "key_ops[%zu]: not one of encrypt, decrypt, sign, verify, wrapKey, "
                       "unwrapKey, import, export",
                       i);
        }
    }
    free(key->key_ops);
    key->key_ops = json_dumps(ops, JSON_COMPACT);
    return key->key_ops != NULL ? true : INTERNAL(e, "no memory");
}

/* ---- the KeyBundle ---- */

static void key_url(const char *vault_url, const struct vt_kv_key *key, bool with_version,
                    char *out, size_t cap)
{
    snprintf(out, cap, "%s/keys/%s%s%s", vault_url, key->name, with_version ? "/" : "",
             with_version ? key->version : "");
}

static json_t *attributes_json(const struct vt_kv_key *key)
{
    json_t *a = json_pack("{s:b,s:I,s:I,s:s,s:b}", "enabled", key->enabled, "created",
                          (json_int_t)key->created, "updated", (json_int_t)key->updated,
                          "recoveryLevel", "Purgeable", "exportable", key->exportable);
    if (a != NULL && key->nbf > 0) {
        json_object_set_new(a, "nbf", json_integer(key->nbf));
    }
    if (a != NULL && key->exp > 0) {
        json_object_set_new(a, "exp", json_integer(key->exp));
    }
    return a;
}

json_t *vt_kv_bundle(const struct vt_kv_key *key, const char *vault_url)
{
    char kid[VT_KV_URL_MAX + VT_KV_NAME_MAX + 64];
    key_url(vault_url, key, true, kid, sizeof(kid));
    json_t *jwk = json_loads(key->public_jwk, 0, NULL);
    json_t *ops = json_loads(key->key_ops, 0, NULL);
    json_t *out = NULL;
    if (json_is_object(jwk) && json_is_array(ops)) {
        json_object_del(jwk, "kty"); /* the public JWK's "RSA"/"EC": the bundle says -HSM */
        json_object_set_new(jwk, "kid", json_string(kid));
        json_object_set_new(jwk, "kty", json_string(key->kty));
        json_object_set(jwk, "key_ops", ops);
        out = json_pack("{s:O,s:o}", "key", jwk, "attributes", attributes_json(key));
    }
    if (out != NULL && key->tags != NULL) {
        json_object_set_new(out, "tags", json_loads(key->tags, 0, NULL));
    }
    if (out != NULL && key->policy != NULL) {
        json_object_set_new(out, "release_policy", json_loads(key->policy, 0, NULL));
    }
    json_decref(jwk);
    json_decref(ops);
    return out;
}

static bool answer_bundle(struct vt_kv_call *c, const struct vt_kv_key *key)
{
    c->out = vt_kv_bundle(key, c->vault_url);
    return c->out != NULL ? true : INTERNAL(&c->err, "cannot encode the key bundle");
}

/* ---- create ---- */

struct spec {
    const char *kty;  /* as stored and answered */
    const char *gen;  /* vt_jwk_generate's type, or NULL for oct */
    size_t oct_bytes; /* oct-HSM */
    const char *default_ops;
};

static bool choose_spec(const json_t *body, struct spec *s, struct vt_az_error *e)
{
    const json_t *kty = member(body, "kty"), *size = member(body, "key_size"),
                 *pe = member(body, "public_exponent"), *crv = member(body, "crv");
    if (!json_is_string(kty)) {
        return BAD(e, "kty: the key type is required (RSA, RSA-HSM, EC, EC-HSM, oct-HSM)");
    }
    const char *t = json_string_value(kty);
    if (size != NULL && !json_is_integer(size)) {
        return BAD(e, "key_size: expected an integer");
    }
    json_int_t bits = size ? json_integer_value(size) : 0;
    if (strcmp(t, "RSA") == 0 || strcmp(t, "RSA-HSM") == 0) {
        if (crv != NULL) {
            return BAD(e, "crv: not for an RSA key");
        }
        if (pe != NULL && (!json_is_integer(pe) || json_integer_value(pe) != 65537)) {
            return BAD(e, "public_exponent: this service makes RSA keys with 65537 only");
        }
        s->kty = t;
        s->gen = bits == 0 || bits == 2048 ? "RSA-2048"
                 : bits == 3072            ? "RSA-3072"
                 : bits == 4096            ? "RSA-4096"
                                           : NULL;
        s->default_ops = "[\"encrypt\",\"decrypt\",\"sign\",\"verify\",\"wrapKey\",\"unwrapKey\"]";
        return s->gen != NULL
                   ? true
                   : BAD(e,
                         "key_size: %" JSON_INTEGER_FORMAT " is not an RSA size (2048, 3072, 4096)",
                         bits);
    }
    if (strcmp(t, "EC") == 0 || strcmp(t, "EC-HSM") == 0) {
        if (pe != NULL || size != NULL) {
            return BAD(e, "%s: not for an EC key (crv names the curve)",
                       pe ? "public_exponent" : "key_size");
        }
        const char *c = crv ? json_string_value(crv) : "P-256";
        s->kty = t;
        s->gen = c == NULL                 ? NULL
                 : strcmp(c, "P-256") == 0 ? "P-256"
                 : strcmp(c, "P-384") == 0 ? "P-384"
                 : strcmp(c, "P-521") == 0 ? "P-521"
                                           : NULL;
        s->default_ops = "[\"sign\",\"verify\"]";
        return s->gen != NULL ? true
                              : BAD(e,
                                    "crv: \"%.16s\" is not a curve this service makes (P-256, "
                                    "P-384, P-521; P-256K is not supported)",
                                    c ? c : "");
    }
    if (strcmp(t, "oct-HSM") == 0 || strcmp(t, "oct") == 0) {
        if (strcmp(t, "oct") == 0) {
            return BAD(e, "kty: oct keys are only made as oct-HSM (Managed HSM's type)");
        }
        if (pe != NULL || crv != NULL) {
            return BAD(e, "%s: not for an oct-HSM key", pe ? "public_exponent" : "crv");
        }
        if (bits != 0 && bits != 128 && bits != 192 && bits != 256) {
            return BAD(e, "key_size: %" JSON_INTEGER_FORMAT " is not an AES size (128, 192, 256)",
                       bits);
        }
        s->kty = t;
        s->gen = NULL;
        s->oct_bytes = (size_t)(bits ? bits : 256) / 8;
        s->default_ops = "[\"encrypt\",\"decrypt\",\"wrapKey\",\"unwrapKey\"]";
        return true;
    }
    return BAD(e, "kty: \"%.32s\" is not a key type (RSA, RSA-HSM, EC, EC-HSM, oct-HSM)", t);
}

/* Exportable keys: a release policy is required, HSM types only (as Key Vault). */
static bool check_export_rules(const struct vt_kv_key *key, struct vt_az_error *e)
{
    if (key->exportable && key->policy == NULL) {
        return BAD(e, "attributes.exportable: an exportable key needs a release_policy");
    }
    if (!key->exportable && key->policy != NULL) {
        return BAD(e, "release_policy: only an exportable key (attributes.exportable true) has "
                      "one");
    }
    if (key->exportable && strstr(key->kty, "-HSM") == NULL) {
        return BAD(e,
                   "attributes.exportable: only HSM key types (RSA-HSM, EC-HSM, oct-HSM) are "
                   "exportable, not %s",
                   key->kty);
    }
    return true;
}

/*
 * The log entry of a change to a key (create, import, update): which key, its type, whether it is
 * exportable and enabled, and the SHA-256 of its release policy (the stored JSON), so the log
 * shows which policy guarded each release. Nothing secret. A change whose entry cannot be written
 * is answered with 500 (it is stored: the operator sees the error in the service's log).
 */
static bool audit_change(struct vt_kv *k, struct vt_kv_call *c, const char *event,
                         const struct vt_kv_key *key)
{
    char when[VT_TIME_STR_MAX], kid[VT_KV_URL_MAX + VT_KV_NAME_MAX + 64];
    vt_time_format(vt_kv_now(k), when);
    key_url(c->vault_url, key, true, kid, sizeof(kid));
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:s}", "type", "keyvault", "event", event,
                          "time", when, "key", kid, "kty", key->kty, "exportable", key->exportable,
                          "enabled", key->enabled, "decision", "allow");
    if (o != NULL && key->policy != NULL) {
        uint8_t h[VT_SHA256_LEN];
        char hex[2 * VT_SHA256_LEN + 1];
        vt_sha256(key->policy, strlen(key->policy), h);
        vt_hex_encode(h, sizeof(h), hex);
        json_object_set_new(o, "release_policy_sha256", json_string(hex));
    }
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    struct vt_diag d;
    vt_diag_init(&d);
    uint64_t index = 0;
    char rkid[64];
    enum vt_err err =
        text ? vt_broker_log_append(k->b, text, "", NULL, NULL, false, &index, NULL, rkid, &d)
             : VT_E_NOMEM;
    free(text);
    if (err != VT_OK) {
        fprintf(stderr, "veritee-keyvault: log entry of %s %s: %s: %s\n", event, kid, d.check,
                d.detail);
        return INTERNAL(&c->err, "the key was %sd but the audit log entry could not be written",
                        event);
    }
    return true;
}

static bool store_new(struct vt_kv *k, struct vt_kv_call *c, struct vt_kv_key *key,
                      const uint8_t *material, size_t n, const char *event)
{
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_kv_key_insert(k, key, material, n, &d) != VT_OK) {
        fprintf(stderr, "veritee-keyvault: storing key %s: %s: %s\n", key->name, d.check, d.detail);
        return INTERNAL(&c->err, "the key could not be stored");
    }
    return audit_change(k, c, event, key) && answer_bundle(c, key);
}

bool vt_kv_create(struct vt_kv *k, struct vt_kv_call *c, const char *name, const json_t *body)
{
    static const char *const names[] = {"kty",     "key_size",       "public_exponent",
                                        "key_ops", "attributes",     "tags",
                                        "crv",     "release_policy", NULL};
    if (!only(body, "request", names, &c->err)) {
        return false;
    }
    struct spec s = {0};
    if (!choose_spec(body, &s, &c->err)) {
        return false;
    }
    struct vt_kv_key key;
    memset(&key, 0, sizeof(key));
    snprintf(key.name, sizeof(key.name), "%s", name);
    snprintf(key.kty, sizeof(key.kty), "%s", s.kty);
    key.enabled = true;
    bool ok = read_attributes(member(body, "attributes"), &key, true, &c->err) &&
              read_tags(member(body, "tags"), &key, &c->err) &&
              read_key_ops(member(body, "key_ops"), s.default_ops, &key, &c->err) &&
              (member(body, "release_policy") == NULL ||
               vt_kv_policy_read(member(body, "release_policy"), &key.policy, &c->err)) &&
              check_export_rules(&key, &c->err);
    struct vt_buf material;
    vt_buf_init(&material, 1u << 16);
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_jwk *jwk = NULL;
    if (ok && s.gen != NULL) {
        char *pub = NULL;
        if (vt_jwk_generate(s.gen, &jwk, &d) != VT_OK ||
            vt_jwk_private_pem(jwk, &material, &d) != VT_OK ||
            (pub = vt_jwk_public_json(jwk)) == NULL) {
            ok = INTERNAL(&c->err, "key generation failed: %s", d.detail);
        }
        key.public_jwk = pub;
    } else if (ok) {
        key.public_jwk = strdup("{}");
        if (key.public_jwk == NULL || vt_buf_reserve(&material, s.oct_bytes) != VT_OK ||
            vt_random_bytes(material.data, s.oct_bytes, &d) != VT_OK) {
            ok = INTERNAL(&c->err, "key generation failed");
        } else {
            material.len = s.oct_bytes;
        }
    }
    if (ok) {
        ok = store_new(k, c, &key, material.data, material.len, "create");
    }
    vt_jwk_free(jwk);
    vt_buf_cleanup(&material);
    vt_kv_key_cleanup(&key);
    return ok;
}

/* ---- import ---- */

/* An asymmetric key to import: its private half from the JWK's members. */
static bool import_asym(const json_t *jwk, bool hsm, struct vt_kv_key *key, struct vt_buf *material,
                        struct vt_az_error *e)
{
    static const char *const names[] = {"kty", "n",   "e", "d", "p",       "q",   "dp", "dq",
                                        "qi",  "crv", "x", "y", "key_ops", "kid", NULL};
    if (!only(jwk, "key", names, e)) {
        return false;
    }
    struct vt_jwk *priv = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_jwk_private_from_json(jwk, &priv, &d) != VT_OK) {
        return BAD(e, "key: %s (%s)", d.detail[0] ? d.detail : vt_strerror(d.code), d.check);
    }
    bool rsa = strcmp(vt_jwk_kty(priv), "RSA") == 0;
    bool ok = vt_jwk_private_pem(priv, material, &d) == VT_OK &&
              (key->public_jwk = vt_jwk_public_json(priv)) != NULL;
    vt_jwk_free(priv);
    if (!ok) {
        return INTERNAL(e, "the key could not be encoded");
    }
    const char *kty = json_string_value(member(jwk, "kty"));
    hsm = hsm || strstr(kty, "-HSM") != NULL;
    snprintf(key->kty, sizeof(key->kty), "%s%s", rsa ? "RSA" : "EC", hsm ? "-HSM" : "");
    return read_key_ops(member(jwk, "key_ops"),
                        rsa ? "[\"encrypt\",\"decrypt\",\"sign\",\"verify\",\"wrapKey\","
                              "\"unwrapKey\"]"
                            : "[\"sign\",\"verify\"]",
                        key, e);
}

/* A symmetric key to import: k of 16, 24 or 32 bytes. */
static bool import_oct(const json_t *jwk, struct vt_kv_key *key, struct vt_buf *material,
                       struct vt_az_error *e)
{
    static const char *const names[] = {"kty", "k", "key_ops", "kid", NULL};
    if (!only(jwk, "key", names, e)) {
        return false;
    }
    const char *kb = json_string_value(member(jwk, "k"));
    uint8_t raw[64];
    size_t n = 0;
    bool ok = kb != NULL && vt_base64_decode(kb, strlen(kb), true, raw, sizeof(raw), &n) == VT_OK &&
              (n == 16 || n == 24 || n == 32);
    if (ok && vt_buf_append(material, raw, n) != VT_OK) {
        ok = INTERNAL(e, "no memory");
    } else if (!ok) {
        BAD(e, "key.k: base64url of a 128, 192 or 256-bit key");
    }
    vt_wipe(raw, sizeof(raw));
    snprintf(key->kty, sizeof(key->kty), "oct-HSM");
    key->public_jwk = strdup("{}");
    return ok && (key->public_jwk != NULL || INTERNAL(e, "no memory")) &&
           read_key_ops(member(jwk, "key_ops"),
                        "[\"encrypt\",\"decrypt\",\"wrapKey\",\"unwrapKey\"]", key, e);
}

bool vt_kv_import(struct vt_kv *k, struct vt_kv_call *c, const char *name, const json_t *body)
{
    static const char *const names[] = {"key", "Hsm", "attributes", "tags", "release_policy", NULL};
    if (!only(body, "request", names, &c->err)) {
        return false;
    }
    const json_t *jwk = member(body, "key"), *hsm = member(body, "Hsm");
    if (!json_is_object(jwk)) {
        return BAD(&c->err, "key: the JSON Web Key to import is required");
    }
    if (hsm != NULL && !json_is_boolean(hsm)) {
        return BAD(&c->err, "Hsm: expected true or false");
    }
    const char *kty = json_string_value(member(jwk, "kty"));
    if (kty == NULL) {
        return BAD(&c->err, "key.kty: the key type is required");
    }
    if (member(jwk, "key_hsm") != NULL) {
        return vt_az_fail(&c->err, 400, "NotSupported",
                          "key.key_hsm: BYOK transfer blobs are not imported; send the key's "
                          "members over TLS");
    }
    struct vt_kv_key key;
    memset(&key, 0, sizeof(key));
    snprintf(key.name, sizeof(key.name), "%s", name);
    key.enabled = true;
    struct vt_buf material;
    vt_buf_init(&material, 1u << 16);
    bool ok;
    if (strcmp(kty, "oct") == 0 || strcmp(kty, "oct-HSM") == 0) {
        ok = import_oct(jwk, &key, &material, &c->err);
    } else if (strcmp(kty, "RSA") == 0 || strcmp(kty, "RSA-HSM") == 0 || strcmp(kty, "EC") == 0 ||
               strcmp(kty, "EC-HSM") == 0) {
        ok = import_asym(jwk, json_is_true(hsm), &key, &material, &c->err);
    } else {
        ok = BAD(&c->err,
                 "key.kty: \"%.32s\" is not a key type (RSA, RSA-HSM, EC, EC-HSM, oct, "
                 "oct-HSM)",
                 kty);
    }
    ok = ok && read_attributes(member(body, "attributes"), &key, true, &c->err) &&
         read_tags(member(body, "tags"), &key, &c->err) &&
         (member(body, "release_policy") == NULL ||
          vt_kv_policy_read(member(body, "release_policy"), &key.policy, &c->err)) &&
         check_export_rules(&key, &c->err) &&
         store_new(k, c, &key, material.data, material.len, "import");
    vt_buf_cleanup(&material);
    vt_kv_key_cleanup(&key);
    return ok;
}

/* ---- get, update ---- */

static bool load(struct vt_kv *k, struct vt_kv_call *c, const char *name, const char *version,
                 struct vt_kv_key *key)
{
    bool found = false;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_kv_key_get(k, name, version, key, &found, &d) != VT_OK) {
        fprintf(stderr, "veritee-keyvault: reading key %s: %s: %s\n", name, d.check, d.detail);
        return INTERNAL(&c->err, "the key could not be read");
    }
    if (!found) {
        return NOT_FOUND(&c->err, "A key with (name/id) %s%s%s was not found in this key vault.",
                         name, version && version[0] ? "/" : "", version ? version : "");
    }
    return true;
}

bool vt_kv_get(struct vt_kv *k, struct vt_kv_call *c, const char *name, const char *version)
{
    struct vt_kv_key key;
    bool ok = load(k, c, name, version, &key) && answer_bundle(c, &key);
    vt_kv_key_cleanup(&key);
    return ok;
}

static bool policy_immutable(const char *policy)
{
    json_t *p = policy ? json_loads(policy, 0, NULL) : NULL;
    bool imm = json_is_true(json_object_get(p, "immutable"));
    json_decref(p);
    return imm;
}

bool vt_kv_update(struct vt_kv *k, struct vt_kv_call *c, const char *name, const char *version,
                  const json_t *body)
{
    static const char *const names[] = {"key_ops", "attributes", "tags", "release_policy", NULL};
    if (!only(body, "request", names, &c->err)) {
        return false;
    }
    struct vt_kv_key key;
    if (!load(k, c, name, version, &key)) {
        return false;
    }
    const json_t *rp = member(body, "release_policy");
    char *policy = NULL;
    bool ok = read_attributes(member(body, "attributes"), &key, false, &c->err) &&
              read_tags(member(body, "tags"), &key, &c->err) &&
              read_key_ops(member(body, "key_ops"), NULL, &key, &c->err) &&
              (rp == NULL || vt_kv_policy_read(rp, &policy, &c->err));
    if (ok && rp != NULL) {
        if (!key.exportable) {
            ok = BAD(&c->err, "release_policy: only an exportable key has one");
        } else if (policy_immutable(key.policy)) {
            ok = vt_az_fail(&c->err, 403, "Forbidden",
                            "release_policy: the key's release policy is immutable");
        } else {
            free(key.policy);
            key.policy = policy;
            policy = NULL;
        }
    }
    struct vt_diag d;
    vt_diag_init(&d);
    if (ok && vt_kv_key_update(k, &key, &d) != VT_OK) {
        ok = INTERNAL(&c->err, "the key could not be updated");
    }
    if (ok) {
        key.updated = vt_kv_now(k);
        ok = audit_change(k, c, "update", &key) && answer_bundle(c, &key);
    }
    free(policy);
    vt_kv_key_cleanup(&key);
    return ok;
}

/* ---- lists ---- */

struct list_ctx {
    const char *vault_url;
    bool versions;
    json_t *value;
    bool failed;
};

static bool row_item(void *ctx, const struct vt_sql_row *row)
{
    struct list_ctx *l = ctx;
    struct vt_kv_key key;
    memset(&key, 0, sizeof(key));
    snprintf(key.name, sizeof(key.name), "%s", vt_row_text(row, 0));
    snprintf(key.version, sizeof(key.version), "%s", vt_row_text(row, 1));
    key.enabled = vt_row_int(row, 5) != 0;
    key.exportable = vt_row_int(row, 6) != 0;
    key.nbf = vt_row_int(row, 7);
    key.exp = vt_row_int(row, 8);
    key.created = vt_row_int(row, 11);
    key.updated = vt_row_int(row, 12);
    char kid[VT_KV_URL_MAX + VT_KV_NAME_MAX + 64];
    key_url(l->vault_url, &key, l->versions, kid, sizeof(kid));
    json_t *item = json_pack("{s:s,s:o}", "kid", kid, "attributes", attributes_json(&key));
    const char *tags = vt_row_text(row, 10);
    if (item != NULL && tags[0] != '\0') {
        json_object_set_new(item, "tags", json_loads(tags, 0, NULL));
    }
    if (item == NULL || json_array_append_new(l->value, item) != 0) {
        l->failed = true;
        return false;
    }
    return true;
}

bool vt_kv_list(struct vt_kv *k, struct vt_kv_call *c, const char *name)
{
    struct list_ctx l = {c->vault_url, name != NULL, json_array(), false};
    struct vt_diag d;
    vt_diag_init(&d);
    if (l.value == NULL || vt_kv_keys_list(k, name, row_item, &l, &d) != VT_OK || l.failed) {
        json_decref(l.value);
        return INTERNAL(&c->err, "the keys could not be listed");
    }
    if (name != NULL && json_array_size(l.value) == 0) {
        json_decref(l.value);
        return NOT_FOUND(&c->err, "A key with (name/id) %s was not found in this key vault.", name);
    }
    c->out = json_pack("{s:o,s:n}", "value", l.value, "nextLink");
    return c->out != NULL ? true : INTERNAL(&c->err, "no memory");
}
