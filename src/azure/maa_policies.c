/*
 * The attestation policy of each type (maa.h, docs/maa.md "Policies"): stored in vm_policies as
 * uploaded (text, the JWS it came in, the signer's certificate), MAA's default (permit all, issue
 * nothing) when none is stored, compiled once per text (kept per type while the stored text is
 * the same: replicas sharing the database see each other's uploads at their next attestation).
 *
 * Who may set a policy (docs/maa.md "Policy signers"): an admin bearer token always (the HTTP
 * layer checks it); then, with policy signing certificates configured (--maa-policy-signer: MAA's
 * isolated mode), only tokens signed by one of them; without (MAA's AAD mode), unsigned tokens
 * and tokens whose signature verifies with their own x5c certificate, which is recorded and
 * reported as x-ms-policy-signer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "azure/maa.h"
#include "base/encoding.h"

const char vt_maa_default_policy[] = "version= 1.0;\n"
                                     "authorizationrules\n"
                                     "{\n"
                                     "    => permit();\n"
                                     "};\n"
                                     "issuancerules\n"
                                     "{\n"
                                     "};\n";

void vt_maa_stored_cleanup(struct vt_maa_stored *s)
{
    if (s != NULL) {
        free(s->text);
        free(s->token);
        free(s->signer_der);
        memset(s, 0, sizeof(*s));
    }
}

/* An unsigned policy JWS of text: {"alg":"none"}.{"AttestationPolicy": base64url(text)}. */
static char *unsigned_token(const char *text)
{
    char *pol = vt_base64_alloc((const uint8_t *)text, strlen(text), true);
    json_t *o = pol != NULL ? json_pack("{s:s}", "AttestationPolicy", pol) : NULL;
    char *body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    static const char hdr[] = "{\"alg\":\"none\"}";
    char *h = vt_base64_alloc((const uint8_t *)hdr, strlen(hdr), true);
    char *b = body != NULL ? vt_base64_alloc((const uint8_t *)body, strlen(body), true) : NULL;
    char *out = NULL;
    if (h != NULL && b != NULL) {
        size_t n = strlen(h) + strlen(b) + 3;
        out = malloc(n);
        if (out != NULL) {
            snprintf(out, n, "%s.%s.", h, b);
        }
    }
    free(b);
    free(h);
    free(body);
    json_decref(o);
    free(pol);
    return out;
}

struct stored_row {
    struct vt_maa_stored *s;
    bool found, nomem;
};

static bool row_stored(void *ctx, const struct vt_sql_row *row)
{
    struct stored_row *r = ctx;
    r->found = true;
    r->s->text = strdup(vt_row_text(row, 0));
    r->s->token = strdup(vt_row_text(row, 1));
    size_t n = 0;
    const uint8_t *der = vt_row_blob(row, 2, &n);
    if (der != NULL && n > 0) {
        r->s->signer_der = malloc(n);
        if (r->s->signer_der != NULL) {
            memcpy(r->s->signer_der, der, n);
            r->s->signer_len = n;
        } else {
            r->nomem = true;
        }
    }
    r->nomem = r->nomem || r->s->text == NULL || r->s->token == NULL;
    return false;
}

enum vt_err vt_maa_policy_get(struct vt_maa *m, enum vt_maa_type t, struct vt_maa_stored *out,
                              struct vt_diag *d)
{
    memset(out, 0, sizeof(*out));
    struct stored_row r = {out, false, false};
    struct vt_sql_arg a[] = {VT_SQL_T(vt_maa_type_name(t))};
    enum vt_err err = vt_store_read(m->b->store,
                                    "SELECT policy, token, signer FROM vm_policies"
                                    " WHERE attestation_type = ?",
                                    a, 1, row_stored, &r, d);
    if (err == VT_OK && !r.found) {
        out->is_default = true;
        out->text = strdup(vt_maa_default_policy);
        out->token = unsigned_token(vt_maa_default_policy);
        r.nomem = out->text == NULL || out->token == NULL;
    }
    if (err == VT_OK && r.nomem) {
        err = vt_fail(d, VT_E_NOMEM, "maa.policy", "no memory");
    }
    if (err != VT_OK) {
        vt_maa_stored_cleanup(out);
    }
    return err;
}

enum vt_err vt_maa_policy_signer_check(struct vt_maa *m, const struct vt_maa_policy_token *tok,
                                       struct vt_diag *d)
{
    if (m->trusted_signers.n == 0) {
        return VT_OK; /* AAD mode: the admin token authorises; a signature is recorded */
    }
    VT_ENSURE(tok->signed_, d, VT_E_UNAUTHORIZED, "policy.signer",
              "this instance takes only policies signed by one of its %zu policy signing "
              "certificates (an unsigned token was sent)",
              m->trusted_signers.n);
    for (size_t i = 0; i < m->trusted_signers.n; i++) {
        size_t n = 0;
        const uint8_t *der = vt_cert_der(m->trusted_signers.certs[i], &n);
        if (n == tok->signer_len && memcmp(der, tok->signer_der, n) == 0) {
            return VT_OK;
        }
    }
    uint8_t h[32];
    char hex[65];
    vt_sha256(tok->signer_der, tok->signer_len, h);
    vt_hex_encode(h, sizeof(h), hex);
    return vt_fail(d, VT_E_UNAUTHORIZED, "policy.signer",
                   "the policy is signed by a certificate (SHA-256 %s) that is not one of this "
                   "instance's %zu policy signing certificates",
                   hex, m->trusted_signers.n);
}

enum vt_err vt_maa_policy_put(struct vt_maa *m, enum vt_maa_type t,
                              const struct vt_maa_policy_token *tok, const char *token_text,
                              struct vt_diag *d)
{
    VT_TRY(vt_maa_policy_signer_check(m, tok, d));
    struct vt_sql_arg name = VT_SQL_T(vt_maa_type_name(t));
    if (tok->policy == NULL) {
        return vt_store_exec(m->b->store, "DELETE FROM vm_policies WHERE attestation_type = ?",
                             &name, 1, NULL, NULL, NULL, d);
    }
    struct vt_maa_policy *p = NULL;
    VT_TRY(vt_maa_policy_compile(tok->policy, tok->policy_len, &p, d));
    vt_maa_policy_free(p);
    struct vt_sql_arg a[] = {name, VT_SQL_T(tok->policy), VT_SQL_T(token_text),
                             tok->signed_ ? VT_SQL_B(tok->signer_der, tok->signer_len)
                                          : (struct vt_sql_arg){0},
                             VT_SQL_I(vt_maa_now(m))};
    return vt_store_exec(m->b->store,
                         "INSERT INTO vm_policies(attestation_type, policy, token, signer, updated)"
                         " VALUES (?,?,?,?,?) ON CONFLICT(attestation_type) DO UPDATE SET"
                         " policy = excluded.policy, token = excluded.token,"
                         " signer = excluded.signer, updated = excluded.updated",
                         a, 5, NULL, NULL, NULL, d);
}

/* x-ms-policy-hash: base64url(SHA-256(base64url(policy text))), as MAA documents it. */
static void policy_hash(const char *text, char out[44])
{
    char *b = vt_base64_alloc((const uint8_t *)text, strlen(text), true);
    uint8_t h[32];
    vt_sha256(b != NULL ? b : "", b != NULL ? strlen(b) : 0, h);
    free(b);
    (void)!vt_base64_encode(h, sizeof(h), true, out, 44);
}

enum vt_err vt_maa_policy_run(struct vt_maa *m, enum vt_maa_type t, const char *draft_text,
                              const json_t *incoming, struct vt_maa_policy_result *r, char hash[44],
                              json_t **signer, struct vt_diag *d)
{
    memset(r, 0, sizeof(*r));
    *signer = NULL;
    struct vt_maa_stored s;
    memset(&s, 0, sizeof(s));
    const char *text = draft_text;
    if (text == NULL) {
        VT_TRY(vt_maa_policy_get(m, t, &s, d));
        text = s.text;
    }
    policy_hash(text, hash);
    /* compiled once per text (a draft too: the same draft is often tried many times) */
    uint8_t id[32];
    vt_sha256(text, strlen(text), id);
    struct vt_pin pin;
    const struct vt_maa_policy *p = vt_pincache_get(&m->policies, id, NULL, NULL, &pin);
    enum vt_err err = VT_OK;
    if (p == NULL) {
        struct vt_maa_policy *compiled = NULL;
        err = vt_maa_policy_compile(text, strlen(text), &compiled, d);
        if (err == VT_OK) {
            p = vt_pincache_put(&m->policies, id, compiled, NULL, NULL, &pin);
        }
    }
    if (err == VT_OK) {
        err = vt_maa_policy_eval(p, incoming, r, d);
    }
    if (err == VT_OK && s.signer_der != NULL) {
        *signer = vt_maa_signer_jwk(s.signer_der, s.signer_len);
    }
    vt_pincache_release(&m->policies, &pin);
    vt_maa_stored_cleanup(&s);
    return err;
}
