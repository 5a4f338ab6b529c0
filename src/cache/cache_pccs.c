/*
 * PCCS's own routes on the cache, under /sgx/certification/v4/ and /v3/, as Intel's tools call
 * them (see docs/cache.md, "PCCS and PCS compatibility"):
 *
 *   POST platforms           PCKIDRetrievalTool's registration   user-token (or an admin token)
 *   GET  platforms           PCCS admin tool: platforms pending  admin-token
 *   PUT  platformcollateral  PCCS admin tool: an offline upload  admin-token
 *   GET/POST refresh         PCCS admin tool: renew now          admin-token
 *   GET  appraisalpolicy     QCNL: default policies of an FMSPC  (a read route)
 *   PUT  appraisalpolicy     PCCS admin tool                     admin-token
 *
 * PCCS's admin-token and user-token headers carry the token itself (PCCS compares SHA-512 hashes
 * with its configuration); here they are checked like bearer tokens against the cache's tokens:
 * admin-token against role admin, user-token against role user (or admin).
 *
 * Request bodies are read with the typed field readers (net/json_fields.h): a refusal names the
 * JSON path of the member from the body's root, in d->check and at the start of the detail the
 * client sees, "$.collaterals.pck_certs[0].certs[2].tcbm: expected 36 hex characters, got 2".
 * The policy JWT's decoded payload, and the JSON text of its policy_payload, continue the path of
 * the string that holds them: "$.policy<payload>.policy_payload<json>.policy_array[0]...". Every
 * refusal of a body is a 400; a member PCCS's schemas leave optional stays optional, and a null
 * member counts as absent where an absent one is allowed.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cache/cache.h"
#include "net/json_fields.h"

/* ---- helpers ---- */

static void problem(struct vt_http_resp *resp, unsigned status, const char *detail)
{
    vt_http_problem(resp, status, vt_http_status_title(status), detail, NULL);
}

static void lower(char *s)
{
    for (; *s; s++) {
        *s = (char)tolower((unsigned char)*s);
    }
}

/* parent + "[i]" into out (an array element's path). */
static void elem_path(char *out, size_t cap, const char *parent, size_t i)
{
    if (snprintf(out, cap, "%s[%zu]", parent, i) < 0) { /* a longer path is cut */
        out[0] = '\0';
    }
}

/* The value at path (an array element, or the body) must be an object. */
static enum vt_err need_object(const json_t *v, const char *path, enum vt_err code,
                               struct vt_diag *d)
{
    VT_ENSURE(json_is_object(v), d, code, path, "%s: expected an object, got %s", path,
              vt_json_type_name(v));
    return VT_OK;
}

/*
 * A hex string member of exactly want characters (0: up to max), lowercased into out ("" when
 * absent, null or, if empty_ok and not required, empty). A required member must be present and
 * not empty.
 */
static enum vt_err hex_field(const json_t *o, const char *path, const char *name, size_t want,
                             size_t max, bool required, bool empty_ok, char *out, struct vt_diag *d)
{
    const char *s = NULL;
    out[0] = '\0';
    VT_TRY(required ? vt_json_req_string(o, path, name, &s, d)
                    : vt_json_opt_string(o, path, name, &s, d));
    if (s == NULL) {
        return VT_OK;
    }
    char p[VT_JSON_PATH_MAX];
    vt_json_path(p, sizeof(p), path, name);
    size_t n = strlen(s);
    if (n == 0) {
        VT_ENSURE(empty_ok && !required, d, VT_E_MISSING_FIELD, p, "%s: required field is empty",
                  p);
        return VT_OK;
    }
    bool len_ok = want ? n == want : n <= max;
    VT_ENSURE(len_ok && vt_is_hex(s, n), d, VT_E_BAD_FIELD, p,
              "%s: expected %s%zu hex characters, got %zu characters%s", p, want ? "" : "up to ",
              want ? want : max, n, len_ok ? " that are not all hex" : "");
    memcpy(out, s, n + 1);
    lower(out);
    return VT_OK;
}

/* pce_svn as PCCS and QCNL write it: the two bytes of the little-endian value, in hex. */
static unsigned le16_hex(const char *h)
{
    uint8_t b[2] = {0, 0};
    if (strlen(h) != 4 || vt_hex_decode_exact(h, 4, b, 2) != VT_OK) {
        return 0;
    }
    return (unsigned)b[0] | ((unsigned)b[1] << 8);
}

/* The body as JSON: VT_E_BAD_JSON at "$" if it is not JSON, or not an object. */
static json_t *body_object(const uint8_t *body, size_t len, const char *shape, enum vt_err *err,
                           struct vt_diag *d)
{
    json_error_t je;
    json_t *o = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL) {
        *err = vt_fail(d, VT_E_BAD_JSON, "$", "$: the body is not JSON: %s (line %d, column %d)",
                       je.text, je.line, je.column);
    } else if (!json_is_object(o)) {
        *err = vt_fail(d, VT_E_BAD_JSON, "$", "$: expected an object %s, got %s", shape,
                       vt_json_type_name(o));
    } else {
        *err = VT_OK;
    }
    return o;
}

/* ---- registration body ---- */

/* A platform as PCKIDRetrievalTool registers it, and as the PCCS admin tool lists it (platforms[]
 * and pck_certs[] of an upload, where the SVNs may be empty). */
static enum vt_err platform_from(const json_t *o, const char *path, bool svn_required,
                                 struct vt_pccs_platform *p, struct vt_diag *d)
{
    memset(p, 0, sizeof(*p));
    VT_TRY(need_object(o, path, VT_E_BAD_FIELD, d));
    VT_TRY(hex_field(o, path, "qe_id", 0, 32, true, false, p->qe_id, d));
    VT_TRY(hex_field(o, path, "pce_id", 4, 0, true, false, p->pce_id, d));
    const char *m = NULL;
    VT_TRY(vt_json_opt_string(o, path, "platform_manifest", &m, d));
    p->has_manifest = m != NULL && m[0] != '\0';
    bool svn = svn_required && !p->has_manifest;
    VT_TRY(hex_field(o, path, "cpu_svn", 32, 0, svn, true, p->cpu_svn, d));
    VT_TRY(hex_field(o, path, "pce_svn", 4, 0, svn, true, p->pce_svn, d));
    VT_TRY(hex_field(o, path, "enc_ppid", 768, 0, false, true, p->enc_ppid, d));
    if ((p->cpu_svn[0] == '\0') != (p->pce_svn[0] == '\0')) {
        bool no_cpu = p->cpu_svn[0] == '\0';
        char q[VT_JSON_PATH_MAX];
        vt_json_path(q, sizeof(q), path, no_cpu ? "cpu_svn" : "pce_svn");
        return vt_fail(d, VT_E_MISSING_FIELD, q,
                       "%s: required field is missing or empty (it goes with %s)", q,
                       no_cpu ? "pce_svn" : "cpu_svn");
    }
    return VT_OK;
}

enum vt_err vt_cache_pccs_platform_parse(const uint8_t *body, size_t len,
                                         struct vt_pccs_platform *p, struct vt_diag *d)
{
    memset(p, 0, sizeof(*p));
    enum vt_err err;
    json_t *o = body_object(body, len, "{qe_id, pce_id, cpu_svn, pce_svn, enc_ppid, ...}", &err, d);
    if (err == VT_OK) {
        err = platform_from(o, "$", true, p, d);
    }
    json_decref(o);
    VT_TRY(err);
    /* SPEC: PCCS sends a platform manifest to PCS (POST pckcerts) instead of the encrypted PPID
     * (multi-package platforms); this cache fetches PCK certificates by encrypted PPID only. */
    VT_ENSURE(p->enc_ppid[0] != '\0', d, p->has_manifest ? VT_E_UNSUPPORTED : VT_E_MISSING_FIELD,
              "$.enc_ppid",
              p->has_manifest ? "$.enc_ppid: a registration by platform manifest alone (no"
                                " enc_ppid) is not supported: PCK certificates are fetched by"
                                " encrypted PPID"
                              : "$.enc_ppid: required field is missing or empty");
    VT_ENSURE(p->cpu_svn[0] != '\0', d, VT_E_MISSING_FIELD, "$.cpu_svn",
              "$.cpu_svn: required field is missing or empty (with pce_svn, the TCB whose PCK"
              " certificate is fetched)");
    return VT_OK;
}

/* ---- appraisal policies ---- */

/* SPEC: PCCS appraisalPolicyService: the TEE class of an appraisal policy (a JWT whose payload's
 * policy_payload, a JSON text, lists policy_array[].environment.class_id). The TD QE's class
 * may come with either TDX class. */
static const struct {
    const char *id;
    int type;
} policy_classes[] = {
    {"3123ec35-8d38-4ea5-87a5-d6c48b567570", 0}, /* SGX */
    {"9eec018b-7481-4b1c-8e1a-9f7c0c8c777f", 1}, /* TDX 1.0 */
    {"f708b97f-0fb2-4e6b-8b03-8a5bcd1221d3", 2}, /* TDX 1.5 */
};
#define TDQE_CLASS "3769258c-75e6-4bc7-8d72-d2b0e224cad2"
#define JWT_PAYLOAD "$.policy<payload>"
#define POLICY_JSON JWT_PAYLOAD ".policy_payload<json>"

/* The policy's class from policy_array (the first SGX or TDX class), each element read until
 * one is found. */
static enum vt_err policy_classes_of(const json_t *inner, int *type, struct vt_diag *d)
{
    json_t *arr = NULL;
    VT_TRY(need_object(inner, POLICY_JSON, VT_E_BAD_FIELD, d));
    VT_TRY(vt_json_req_array(inner, POLICY_JSON, "policy_array", &arr, d));
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        char p[VT_JSON_PATH_MAX], env_path[VT_JSON_PATH_MAX], cp[VT_JSON_PATH_MAX];
        elem_path(p, sizeof(p), POLICY_JSON ".policy_array", i);
        json_t *env = NULL;
        const char *cls = NULL;
        VT_TRY(need_object(it, p, VT_E_BAD_FIELD, d));
        VT_TRY(vt_json_req_object(it, p, "environment", &env, d));
        vt_json_path(env_path, sizeof(env_path), p, "environment");
        VT_TRY(vt_json_req_string(env, env_path, "class_id", &cls, d));
        for (size_t k = 0; k < sizeof(policy_classes) / sizeof(policy_classes[0]); k++) {
            if (strcasecmp(cls, policy_classes[k].id) == 0) {
                *type = policy_classes[k].type;
                return VT_OK;
            }
        }
        vt_json_path(cp, sizeof(cp), env_path, "class_id");
        VT_ENSURE(strcasecmp(cls, TDQE_CLASS) == 0, d, VT_E_BAD_FIELD, cp,
                  "%s: unknown class_id \"%.40s\"", cp, cls);
    }
    return vt_fail(d, VT_E_BAD_FIELD, POLICY_JSON ".policy_array",
                   "%s: names no SGX or TDX class_id (only the TD QE's, or none)",
                   POLICY_JSON ".policy_array");
}

static enum vt_err policy_type(const char *jwt, int *type, struct vt_diag *d)
{
    *type = -1;
    const char *dot1 = strchr(jwt, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    VT_ENSURE(dot2 != NULL && strchr(dot2 + 1, '.') == NULL, d, VT_E_BAD_FIELD, "$.policy",
              "$.policy: expected a JWT (three base64url parts joined by dots)");
    size_t n = (size_t)(dot2 - dot1 - 1);
    uint8_t *raw = malloc(n + 1);
    VT_ENSURE(raw != NULL, d, VT_E_NOMEM, "$.policy", "$.policy: out of memory");
    size_t rl = 0;
    enum vt_err err = vt_base64_decode(dot1 + 1, n, true, raw, n + 1, &rl);
    json_t *payload = err == VT_OK ? json_loadb((const char *)raw, rl, 0, NULL) : NULL;
    free(raw);
    const char *pp = NULL;
    json_t *inner = NULL;
    if (payload == NULL) {
        err = vt_fail(d, VT_E_BAD_FIELD, JWT_PAYLOAD, "%s: the JWT's payload is not base64url JSON",
                      JWT_PAYLOAD);
    } else if ((err = need_object(payload, JWT_PAYLOAD, VT_E_BAD_FIELD, d)) == VT_OK &&
               (err = vt_json_req_string(payload, JWT_PAYLOAD, "policy_payload", &pp, d)) ==
                   VT_OK) {
        inner = json_loads(pp, 0, NULL);
        err = inner != NULL ? policy_classes_of(inner, type, d)
                            : vt_fail(d, VT_E_BAD_FIELD, JWT_PAYLOAD ".policy_payload",
                                      "%s.policy_payload: expected JSON text, got a string that"
                                      " does not parse",
                                      JWT_PAYLOAD);
    }
    json_decref(inner);
    json_decref(payload);
    return err;
}

enum vt_err vt_cache_pccs_policy_parse(const uint8_t *body, size_t len, struct vt_pccs_policy *p,
                                       struct vt_diag *d)
{
    memset(p, 0, sizeof(*p));
    enum vt_err err;
    p->json = body_object(body, len, "{policy, is_default, fmspc}", &err, d);
    VT_TRY(err);
    const char *pol = NULL;
    bool def = false;
    char f[13];
    VT_TRY(vt_json_req_string(p->json, "$", "policy", &pol, d));
    VT_ENSURE(pol[0] != '\0', d, VT_E_MISSING_FIELD, "$.policy",
              "$.policy: required field is empty (the policy JWT)");
    VT_TRY(vt_json_req_bool(p->json, "$", "is_default", &def, d));
    VT_TRY(hex_field(p->json, "$", "fmspc", 12, 0, true, false, f, d));
    VT_TRY(policy_type(pol, &p->type, d));
    for (size_t i = 0; i <= 12; i++) {
        p->fmspc[i] = (char)toupper((unsigned char)f[i]);
    }
    uint8_t h[VT_SHA384_LEN];
    vt_sha384(pol, strlen(pol), h);
    vt_hex_encode(h, sizeof(h), p->id);
    p->is_default = def;
    p->policy = pol;
    return VT_OK;
}

void vt_cache_pccs_policy_cleanup(struct vt_pccs_policy *p)
{
    json_decref(p->json);
    p->json = NULL;
    p->policy = NULL;
}

/* ---- platformcollateral ---- */

#define CERTS_PATH "$.collaterals.certificates"
#define PCK_CHAIN "SGX-PCK-Certificate-Issuer-Chain"

struct upload_ctx {
    struct vt_pccs_upload *u;
    size_t cap_items, cap_platforms;
    unsigned api;
    /* the issuer chains, as header values (URL-encoded PEM) */
    char *chain_processor, *chain_platform, *chain_tcb, *chain_identity;
};

/* A chain as a header value: URL-encoded as PCS sends it (PEM text is encoded here). Absent, null
 * or "": *out NULL. */
static enum vt_err chain_value(const json_t *o, const char *path, const char *name, char **out,
                               struct vt_diag *d)
{
    *out = NULL;
    const char *s = NULL;
    VT_TRY(vt_json_opt_string(o, path, name, &s, d));
    size_t n = s != NULL ? strlen(s) : 0;
    if (n == 0) {
        return VT_OK;
    }
    char p[VT_JSON_PATH_MAX];
    vt_json_path(p, sizeof(p), path, name);
    *out = malloc(3 * n + 1);
    VT_ENSURE(*out != NULL, d, VT_E_NOMEM, p, "%s: out of memory", p);
    bool pem = strstr(s, "-----BEGIN ") != NULL; /* URL-encoded text has "BEGIN%20" */
    char *o2 = *out;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 || ch == 0x7f) && !pem) {
            free(*out);
            *out = NULL;
            return vt_fail(d, VT_E_BAD_FIELD, p,
                           "%s: expected a URL-encoded or PEM chain, got a control character", p);
        }
        if (!pem || isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            *o2++ = (char)ch;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            *o2++ = '%';
            *o2++ = hex[ch >> 4];
            *o2++ = hex[ch & 0x0f];
        }
    }
    *o2 = '\0';
    return VT_OK;
}

/* A chain a document needs: absent, null or "" is a missing field, named with its user. */
static enum vt_err need_chain(const char *chain, const char *chain_path, const char *user,
                              struct vt_diag *d)
{
    VT_ENSURE(chain != NULL, d, VT_E_MISSING_FIELD, chain_path,
              "%s: required field is missing or empty (the issuer chain of %s)", chain_path, user);
    return VT_OK;
}

static struct vt_cache_item *new_item(struct upload_ctx *x, const char *key, struct vt_diag *d)
{
    struct vt_pccs_upload *u = x->u;
    if (u->n_items == x->cap_items) {
        size_t cap = x->cap_items ? 2 * x->cap_items : 16;
        void *p = realloc(u->items, cap * sizeof(*u->items));
        if (p == NULL) {
            vt_fail(d, VT_E_NOMEM, "$", "$: out of memory");
            return NULL;
        }
        u->items = p;
        x->cap_items = cap;
    }
    struct vt_cache_item *it = &u->items[u->n_items];
    memset(it, 0, sizeof(*it));
    struct vt_cache_req r;
    if (vt_cache_req_from_key(key, &r, d) != VT_OK) {
        return NULL;
    }
    u->n_items++;
    snprintf(it->key, sizeof(it->key), "%s", r.key);
    it->kind = r.kind;
    it->tee = r.expect.tee;
    it->eval_num = -1;
    snprintf(it->content_type, sizeof(it->content_type), "%s", vt_cache_content_type(r.kind));
    snprintf(it->upstream, sizeof(it->upstream), "platformcollateral");
    return it;
}

static enum vt_err set_item(struct vt_cache_item *it, const char *headers, const void *body,
                            size_t n, struct vt_diag *d)
{
    it->headers = strdup(headers);
    it->body = malloc(n ? n : 1);
    VT_ENSURE(it->headers != NULL && it->body != NULL, d, VT_E_NOMEM, "$", "$: out of memory");
    memcpy(it->body, body, n);
    it->body_len = n;
    return VT_OK;
}

/* A document held as a string member (identities: the PCS body; CRLs: hex text), with the header
 * of its issuer chain (none: NULL) taken from the member at chain_path. */
static enum vt_err string_item(struct upload_ctx *x, const json_t *o, const char *path,
                               const char *name, const char *key, const char *header,
                               const char *chain, const char *chain_path, struct vt_diag *d)
{
    const char *s = NULL;
    VT_TRY(vt_json_opt_string(o, path, name, &s, d));
    if (s == NULL || s[0] == '\0') {
        return VT_OK; /* PCCS's admin tool writes "" for what it did not fetch */
    }
    char p[VT_JSON_PATH_MAX];
    vt_json_path(p, sizeof(p), path, name);
    char h[16384] = "";
    if (header != NULL) {
        VT_TRY(need_chain(chain, chain_path, p, d));
        int hl = snprintf(h, sizeof(h), "%s: %s\n", header, chain);
        VT_ENSURE(hl >= 0 && (size_t)hl < sizeof(h), d, VT_E_TOO_LARGE, chain_path,
                  "%s: too long for the issuer chain header of %s", chain_path, p);
    }
    struct vt_cache_item *it = new_item(x, key, d);
    if (it == NULL) {
        return d ? d->code : VT_E_INTERNAL;
    }
    return set_item(it, h, s, strlen(s), d);
}

/* TCB info objects: re-serialised compactly, as PCS sends them (PCCS stores JSON.stringify of the
 * parsed object); the signature check then proves the bytes are the signed ones. */
static enum vt_err tcb_item(struct upload_ctx *x, const json_t *o, const char *path,
                            const char *name, const char *key, struct vt_diag *d)
{
    json_t *v = NULL, *info = NULL;
    const char *sig = NULL;
    VT_TRY(vt_json_opt_object(o, path, name, &v, d));
    if (v == NULL) {
        return VT_OK;
    }
    char p[VT_JSON_PATH_MAX];
    vt_json_path(p, sizeof(p), path, name);
    VT_TRY(vt_json_req_object(v, p, "tcbInfo", &info, d));
    VT_TRY(vt_json_req_string(v, p, "signature", &sig, d));
    VT_TRY(need_chain(x->chain_tcb,
                      x->api == 3 ? CERTS_PATH ".SGX-TCB-Info-Issuer-Chain"
                                  : CERTS_PATH ".TCB-Info-Issuer-Chain",
                      p, d));
    char *body = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    size_t hn = strlen(x->chain_tcb) + 40;
    char *h = malloc(hn);
    struct vt_cache_item *it = body && h ? new_item(x, key, d) : NULL;
    enum vt_err err = it ? VT_OK
                      : body == NULL || h == NULL
                          ? vt_fail(d, VT_E_NOMEM, p, "%s: out of memory", p)
                      : d ? d->code
                          : VT_E_INTERNAL;
    if (err == VT_OK) {
        snprintf(h, hn, "TCB-Info-Issuer-Chain: %s\n", x->chain_tcb);
        err = set_item(it, h, body, strlen(body), d);
    }
    free(body);
    free(h);
    return err;
}

struct level {
    uint8_t comps[16];
    unsigned pcesvn;
};

/* A TCB level's tcb (path: its path) and pcesvn: v3 sgxtcbcomponents[].svn, v2 sgxtcbcompNNsvn. */
static enum vt_err level_of(const json_t *tcb, const char *path, struct level *l, struct vt_diag *d)
{
    json_t *arr = NULL;
    VT_TRY(vt_json_opt_array(tcb, path, "sgxtcbcomponents", &arr, d));
    char ap[VT_JSON_PATH_MAX];
    vt_json_path(ap, sizeof(ap), path, "sgxtcbcomponents");
    for (size_t i = 0; i < 16; i++) {
        int64_t s = 0;
        if (arr != NULL) {
            char ep[VT_JSON_PATH_MAX];
            elem_path(ep, sizeof(ep), ap, i);
            json_t *c = json_array_get(arr, i);
            VT_ENSURE(c != NULL, d, VT_E_MISSING_FIELD, ep,
                      "%s: required element is missing (16 components, got %zu)", ep,
                      json_array_size(arr));
            VT_TRY(need_object(c, ep, VT_E_BAD_FIELD, d));
            VT_TRY(vt_json_req_int(c, ep, "svn", 0, 255, &s, d));
        } else {
            char name[20];
            snprintf(name, sizeof(name), "sgxtcbcomp%02zusvn", i + 1);
            VT_TRY(vt_json_req_int(tcb, path, name, 0, 255, &s, d));
        }
        l->comps[i] = (uint8_t)s;
    }
    int64_t p = 0;
    VT_TRY(vt_json_req_int(tcb, path, "pcesvn", 0, 65535, &p, d));
    l->pcesvn = (unsigned)p;
    return VT_OK;
}

struct upload_cert {
    char tcbm[37]; /* 36 hex, lowercase */
    char *pem;
    size_t pem_len;
    bool processor;
    struct level tcb; /* from the tcbm: for TCB type 0 the components are the CPUSVN bytes */
};

/* SPEC: PCKCertSelection, as PCS's pckcert and PCCS apply it: the certificate of the highest TCB
 * level (tcbLevels are ordered newest first) that the raw TCB reaches, among the platform's
 * certificates. tcbinfo is the TCB info at path. *out: the certificate, -1 if none. */
static enum vt_err select_cert(const json_t *tcbinfo, const char *path,
                               const struct upload_cert *certs, size_t n, const struct level *raw,
                               int *out, struct vt_diag *d)
{
    *out = -1;
    json_t *info = NULL, *levels = NULL;
    int64_t type = 0;
    char ip[VT_JSON_PATH_MAX], lp[VT_JSON_PATH_MAX], tp[VT_JSON_PATH_MAX];
    vt_json_path(ip, sizeof(ip), path, "tcbInfo");
    vt_json_path(lp, sizeof(lp), ip, "tcbLevels");
    vt_json_path(tp, sizeof(tp), ip, "tcbType");
    VT_TRY(need_object(tcbinfo, path, VT_E_BAD_FIELD, d));
    VT_TRY(vt_json_req_object(tcbinfo, path, "tcbInfo", &info, d));
    VT_TRY(vt_json_req_int(info, ip, "tcbType", INT64_MIN, INT64_MAX, &type, d));
    VT_ENSURE(type == 0, d, VT_E_UNSUPPORTED, tp,
              "%s: tcbType %" PRId64 " is not supported for certificate selection", tp, type);
    VT_TRY(vt_json_req_array(info, ip, "tcbLevels", &levels, d));
    size_t i;
    json_t *lv;
    json_array_foreach(levels, i, lv)
    {
        char ep[VT_JSON_PATH_MAX], bp[VT_JSON_PATH_MAX];
        elem_path(ep, sizeof(ep), lp, i);
        json_t *tcb = NULL;
        struct level l;
        VT_TRY(need_object(lv, ep, VT_E_BAD_FIELD, d));
        VT_TRY(vt_json_req_object(lv, ep, "tcb", &tcb, d));
        vt_json_path(bp, sizeof(bp), ep, "tcb");
        VT_TRY(level_of(tcb, bp, &l, d));
        bool reached = l.pcesvn <= raw->pcesvn;
        for (size_t k = 0; k < 16 && reached; k++) {
            reached = l.comps[k] <= raw->comps[k];
        }
        for (size_t c = 0; reached && c < n; c++) {
            if (certs[c].pem != NULL && certs[c].tcb.pcesvn == l.pcesvn &&
                memcmp(certs[c].tcb.comps, l.comps, 16) == 0) {
                *out = (int)c;
                return VT_OK;
            }
        }
    }
    return VT_OK;
}

static enum vt_err add_platform(struct upload_ctx *x, const struct vt_pccs_platform *p,
                                struct vt_diag *d)
{
    struct vt_pccs_upload *u = x->u;
    for (size_t i = 0; i < u->n_platforms; i++) {
        struct vt_pccs_platform *q = &u->platforms[i];
        if (strcmp(q->qe_id, p->qe_id) == 0 && strcmp(q->pce_id, p->pce_id) == 0 &&
            strcmp(q->cpu_svn, p->cpu_svn) == 0 && strcmp(q->pce_svn, p->pce_svn) == 0) {
            if (q->enc_ppid[0] == '\0') {
                memcpy(q->enc_ppid, p->enc_ppid, sizeof(q->enc_ppid));
            }
            return VT_OK;
        }
    }
    if (u->n_platforms == x->cap_platforms) {
        size_t cap = x->cap_platforms ? 2 * x->cap_platforms : 16;
        void *np = realloc(u->platforms, cap * sizeof(*u->platforms));
        VT_ENSURE(np != NULL, d, VT_E_NOMEM, "$.platforms", "$.platforms: out of memory");
        u->platforms = np;
        x->cap_platforms = cap;
    }
    u->platforms[u->n_platforms++] = *p;
    return VT_OK;
}

/* The SGX TCB info of an FMSPC in the upload (early first, as PCCS selects with it) into *out,
 * and its path. The entries are read here as they will be again when stored (objects with an
 * fmspc of 12 hex characters), so a refusal names the entry. tcbinfos: an array. */
static enum vt_err sgx_tcbinfo_of(const json_t *tcbinfos, const char *fmspc, unsigned api,
                                  const char *user, json_t **out, char *path, size_t cap,
                                  struct vt_diag *d)
{
    *out = NULL;
    size_t i;
    json_t *t;
    json_array_foreach(tcbinfos, i, t)
    {
        char ep[VT_JSON_PATH_MAX], f[13];
        elem_path(ep, sizeof(ep), "$.collaterals.tcbinfos", i);
        VT_TRY(need_object(t, ep, VT_E_BAD_FIELD, d));
        VT_TRY(hex_field(t, ep, "fmspc", 12, 0, true, false, f, d));
        if (strcmp(f, fmspc) != 0) {
            continue;
        }
        const char *early = api == 3 ? "tcbinfo_early" : "sgx_tcbinfo_early";
        const char *standard = api == 3 ? "tcbinfo" : "sgx_tcbinfo";
        json_t *e = json_object_get(t, early);
        const char *name = early;
        if (e == NULL || json_is_null(e)) {
            e = json_object_get(t, standard);
            name = standard;
        }
        vt_json_path(path, cap, ep, name);
        VT_ENSURE(e != NULL && !json_is_null(e), d, VT_E_MISSING_FIELD, path,
                  "%s: required field is missing (the SGX TCB info of FMSPC %s, to select the"
                  " certificate of %s)",
                  path, fmspc, user);
        *out = e;
        return VT_OK;
    }
    return vt_fail(d, VT_E_MISSING_FIELD, "$.collaterals.tcbinfos",
                   "$.collaterals.tcbinfos: no entry for FMSPC %s: the SGX TCB info of FMSPC %s is"
                   " needed to select the certificate of %s",
                   fmspc, fmspc, user);
}

static void certs_free(struct upload_cert *certs, size_t n)
{
    for (size_t i = 0; certs != NULL && i < n; i++) {
        free(certs[i].pem);
    }
    free(certs);
}

/* One certs[i] of a pck_certs[] entry (path: its path): its TCB, PEM, CA and FMSPC. */
static enum vt_err pck_cert(struct upload_ctx *x, const json_t *c, const char *path,
                            struct upload_cert *u, char fmspc[13], struct vt_diag *d)
{
    const char *cert = NULL;
    char cp[VT_JSON_PATH_MAX];
    vt_json_path(cp, sizeof(cp), path, "cert");
    VT_TRY(need_object(c, path, VT_E_BAD_FIELD, d));
    VT_TRY(hex_field(c, path, "tcbm", 36, 0, true, false, u->tcbm, d));
    VT_TRY(vt_json_req_string(c, path, "cert", &cert, d));
    if (strcmp(cert, "Not available") == 0) {
        return VT_OK; /* SPEC: PCS marks TCB levels it has no certificate for */
    }
    uint8_t raw[18];
    (void)!vt_hex_decode_exact(u->tcbm, 36, raw, 18);
    memcpy(u->tcb.comps, raw, 16);
    u->tcb.pcesvn = (unsigned)raw[16] | ((unsigned)raw[17] << 8);
    size_t cl = strlen(cert);
    u->pem = malloc(cl + 1);
    VT_ENSURE(u->pem != NULL, d, VT_E_NOMEM, cp, "%s: out of memory", cp);
    VT_ENSURE(vt_percent_decode(cert, cl, u->pem, cl + 1, &u->pem_len) == VT_OK, d, VT_E_BAD_FIELD,
              cp, "%s: expected a URL-encoded PEM certificate", cp);
    u->pem[u->pem_len] = '\0';
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    char issuer[256] = "";
    const uint8_t *ext;
    size_t ext_len;
    struct vt_sgx_pck_ext pe;
    enum vt_err err = vt_cert_list_from_pem(u->pem, u->pem_len, &l, d);
    if (err != VT_OK) {
        char inner[VT_DIAG_DETAIL_MAX];
        snprintf(inner, sizeof(inner), "%s", d ? d->detail : "");
        err = vt_fail(d, err, cp, "%s: %s", cp, inner);
    } else if (l.n != 1) {
        err = vt_fail(d, VT_E_BAD_CERT, cp, "%s: expected one certificate, got %zu", cp, l.n);
    } else {
        vt_cert_issuer_text(l.certs[0], issuer, sizeof(issuer));
        if (vt_cert_extension(l.certs[0], VT_SGX_EXT_OID, &ext, &ext_len) != VT_OK ||
            vt_sgx_pck_ext_parse(ext, ext_len, &pe, d) != VT_OK) {
            err = vt_fail(d, VT_E_CERT_EXTENSION, cp,
                          "%s: the certificate has no readable SGX extension", cp);
        }
    }
    vt_cert_list_cleanup(&l);
    VT_TRY(err);
    vt_hex_encode(pe.fmspc, 6, fmspc);
    u->processor = strstr(issuer, "Processor") != NULL;
    return need_chain(u->processor ? x->chain_processor : x->chain_platform,
                      u->processor ? CERTS_PATH "." PCK_CHAIN ".PROCESSOR"
                                   : CERTS_PATH "." PCK_CHAIN ".PLATFORM",
                      cp, d);
}

/* A PCK certificate item under key (certs[c]). */
static enum vt_err pck_item(struct upload_ctx *x, const char *key, const struct upload_cert *c,
                            struct vt_diag *d)
{
    const char *chain = c->processor ? x->chain_processor : x->chain_platform;
    size_t hn = strlen(chain) + 160;
    char *h = malloc(hn);
    struct vt_cache_item *it = h ? new_item(x, key, d) : NULL;
    enum vt_err err = it          ? VT_OK
                      : h == NULL ? vt_fail(d, VT_E_NOMEM, "$", "$: out of memory")
                      : d != NULL ? d->code
                                  : VT_E_INTERNAL;
    if (err == VT_OK) {
        snprintf(h, hn,
                 "SGX-PCK-Certificate-Issuer-Chain: %s\nSGX-TCBm: %s\n"
                 "SGX-PCK-Certificate-CA-Type: %s\n",
                 chain, c->tcbm, c->processor ? "processor" : "platform");
        err = set_item(it, h, c->pem, c->pem_len, d);
    }
    free(h);
    return err;
}

/* One collaterals.pck_certs[] entry: each certificate under its own TCB's key, and under the raw
 * TCB of every platform of that entry (PCK certificate selection), as PCS's pckcert answers. */
static enum vt_err pck_entry(struct upload_ctx *x, const json_t *e, size_t idx,
                             const json_t *platforms, const json_t *tcbinfos, struct vt_diag *d)
{
    char where[VT_JSON_PATH_MAX], cp[VT_JSON_PATH_MAX];
    elem_path(where, sizeof(where), "$.collaterals.pck_certs", idx);
    vt_json_path(cp, sizeof(cp), where, "certs");
    struct vt_pccs_platform p;
    VT_TRY(platform_from(e, where, false, &p, d));
    char pp[VT_JSON_PATH_MAX];
    vt_json_path(pp, sizeof(pp), where, "enc_ppid");
    VT_ENSURE(p.enc_ppid[0] != '\0', d, VT_E_UNSUPPORTED, pp,
              "%s: missing or empty: PCK certificates are kept by encrypted PPID, so a platform"
              " known by its manifest alone cannot be uploaded",
              pp);
    json_t *arr = NULL;
    VT_TRY(vt_json_req_array(e, where, "certs", &arr, d));
    size_t n = json_array_size(arr);
    VT_ENSURE(n > 0, d, VT_E_MISSING_FIELD, cp, "%s: required array is empty", cp);
    struct upload_cert *certs = calloc(n, sizeof(*certs));
    VT_ENSURE(certs != NULL, d, VT_E_NOMEM, cp, "%s: out of memory", cp);
    enum vt_err err = VT_OK;
    char fmspc[13] = "";
    for (size_t i = 0; i < n && err == VT_OK; i++) {
        char ep[VT_JSON_PATH_MAX];
        elem_path(ep, sizeof(ep), cp, i);
        err = pck_cert(x, json_array_get(arr, i), ep, &certs[i], fmspc, d);
    }
    /* the keys: each certificate's own TCB, then each platform's raw TCB */
    for (size_t i = 0; i < n && err == VT_OK; i++) {
        if (certs[i].pem == NULL) {
            continue;
        }
        char key[VT_CACHE_KEY_MAX];
        snprintf(key, sizeof(key),
                 "/sgx/certification/v4/pckcert?encrypted_ppid=%s&cpusvn=%.32s&pcesvn=%.4s"
                 "&pceid=%s",
                 p.enc_ppid, certs[i].tcbm, certs[i].tcbm + 32, p.pce_id);
        err = pck_item(x, key, &certs[i], d);
    }
    p.cpu_svn[0] = p.pce_svn[0] = '\0';
    if (err == VT_OK) {
        err = add_platform(x, &p, d);
    }
    size_t k;
    json_t *pl;
    json_array_foreach(platforms, k, pl)
    {
        struct vt_pccs_platform q;
        char w[VT_JSON_PATH_MAX];
        elem_path(w, sizeof(w), "$.platforms", k);
        if (err != VT_OK || (err = platform_from(pl, w, false, &q, d)) != VT_OK ||
            strcmp(q.qe_id, p.qe_id) != 0 || strcmp(q.pce_id, p.pce_id) != 0 ||
            q.cpu_svn[0] == '\0') {
            continue;
        }
        memcpy(q.enc_ppid, p.enc_ppid, sizeof(q.enc_ppid));
        err = add_platform(x, &q, d);
        struct level raw;
        (void)!vt_hex_decode_exact(q.cpu_svn, 32, raw.comps, 16);
        raw.pcesvn = le16_hex(q.pce_svn);
        char tcbm[37];
        snprintf(tcbm, sizeof(tcbm), "%s%s", q.cpu_svn, q.pce_svn);
        bool own = false;
        for (size_t i = 0; i < n; i++) {
            own |= certs[i].pem != NULL && strcmp(certs[i].tcbm, tcbm) == 0;
        }
        if (err != VT_OK || own) {
            continue;
        }
        char ip[VT_JSON_PATH_MAX], user[VT_JSON_PATH_MAX + 48];
        snprintf(user, sizeof(user), "%s (cpu_svn %s)", w, q.cpu_svn);
        json_t *info = NULL;
        if (fmspc[0] == '\0') {
            err = vt_fail(d, VT_E_NOT_FOUND, w,
                          "%s: no certificate in %s to select for its raw TCB (every one is \"Not"
                          " available\")",
                          w, cp);
            break;
        }
        if ((err = sgx_tcbinfo_of(tcbinfos, fmspc, x->api, user, &info, ip, sizeof(ip), d)) !=
            VT_OK) {
            break;
        }
        int c = -1;
        if ((err = select_cert(info, ip, certs, n, &raw, &c, d)) != VT_OK) {
            break;
        }
        if (c < 0) {
            err = vt_fail(d, VT_E_NOT_FOUND, w,
                          "%s: no PCK certificate in %s is at or below the platform's raw TCB"
                          " (cpu_svn %s, pce_svn %s)",
                          w, cp, q.cpu_svn, q.pce_svn);
            break;
        }
        char key[VT_CACHE_KEY_MAX];
        snprintf(key, sizeof(key),
                 "/sgx/certification/v4/pckcert?encrypted_ppid=%s&cpusvn=%s&pcesvn=%s&pceid=%s",
                 p.enc_ppid, q.cpu_svn, q.pce_svn, p.pce_id);
        err = pck_item(x, key, &certs[c], d);
    }
    certs_free(certs, n);
    return err;
}

/* collaterals.tcbinfos[i] (path: its path): each TCB info under its key. */
static enum vt_err tcbinfo_entry(struct upload_ctx *x, const json_t *e, const char *path,
                                 struct vt_diag *d)
{
    static const char *const v4[4][3] = {{"sgx_tcbinfo", "sgx", "standard"},
                                         {"sgx_tcbinfo_early", "sgx", "early"},
                                         {"tdx_tcbinfo", "tdx", "standard"},
                                         {"tdx_tcbinfo_early", "tdx", "early"}};
    static const char *const v3[2][3] = {{"tcbinfo", "sgx", "standard"},
                                         {"tcbinfo_early", "sgx", "early"}};
    char f[13];
    VT_TRY(need_object(e, path, VT_E_BAD_FIELD, d));
    VT_TRY(hex_field(e, path, "fmspc", 12, 0, true, false, f, d));
    for (size_t k = 0; k < (x->api == 3 ? 2u : 4u); k++) {
        const char *const *m = x->api == 3 ? v3[k] : v4[k];
        char key[VT_CACHE_KEY_MAX];
        snprintf(key, sizeof(key), "/%s/certification/%s/tcb?fmspc=%s&update=%s", m[1],
                 x->api == 3 ? "v3" : "v4", f, m[2]);
        VT_TRY(tcb_item(x, e, path, m[0], key, d));
    }
    return VT_OK;
}

/* The CRLs, the root CA CRL and the enclave identities (strings, "" when not fetched). */
static enum vt_err string_items(struct upload_ctx *x, const json_t *col, struct vt_diag *d)
{
    json_t *crls = NULL;
    VT_TRY(vt_json_opt_object(col, "$.collaterals", "pckcacrl", &crls, d));
    VT_TRY(string_item(x, crls, "$.collaterals.pckcacrl", "processorCrl",
                       "/sgx/certification/v4/pckcrl?ca=processor", "SGX-PCK-CRL-Issuer-Chain",
                       x->chain_processor, CERTS_PATH "." PCK_CHAIN ".PROCESSOR", d));
    VT_TRY(string_item(x, crls, "$.collaterals.pckcacrl", "platformCrl",
                       "/sgx/certification/v4/pckcrl?ca=platform", "SGX-PCK-CRL-Issuer-Chain",
                       x->chain_platform, CERTS_PATH "." PCK_CHAIN ".PLATFORM", d));
    VT_TRY(string_item(x, col, "$.collaterals", "rootcacrl", "/sgx/certification/v4/rootcacrl",
                       NULL, NULL, NULL, d));
    static const char *const ids[6][3] = {
        {"qeidentity", "sgx", "qe/identity?update=standard"},
        {"qeidentity_early", "sgx", "qe/identity?update=early"},
        {"qveidentity", "sgx", "qve/identity?update=standard"},
        {"qveidentity_early", "sgx", "qve/identity?update=early"},
        {"tdqeidentity", "tdx", "qe/identity?update=standard"},
        {"tdqeidentity_early", "tdx", "qe/identity?update=early"},
    };
    for (size_t k = 0; k < (x->api == 3 ? 4u : 6u); k++) {
        char key[96];
        snprintf(key, sizeof(key), "/%s/certification/%s/%s", ids[k][1], x->api == 3 ? "v3" : "v4",
                 ids[k][2]);
        VT_TRY(string_item(x, col, "$.collaterals", ids[k][0], key,
                           "SGX-Enclave-Identity-Issuer-Chain", x->chain_identity,
                           CERTS_PATH ".SGX-Enclave-Identity-Issuer-Chain", d));
    }
    return VT_OK;
}

/* SPEC: PCCS pccs_schemas.js (PLATFORM_COLLATERAL_SCHEMA_V3/V4): the required members, and the
 * issuer chains. */
static enum vt_err upload_head(struct upload_ctx *x, const json_t *o, json_t **platforms,
                               json_t **col, json_t **pck_certs, json_t **tcbinfos,
                               struct vt_diag *d)
{
    json_t *certs = NULL, *pck = NULL;
    VT_TRY(vt_json_req_array(o, "$", "platforms", platforms, d));
    VT_TRY(vt_json_req_object(o, "$", "collaterals", col, d));
    VT_TRY(vt_json_req_array(*col, "$.collaterals", "pck_certs", pck_certs, d));
    VT_TRY(vt_json_req_array(*col, "$.collaterals", "tcbinfos", tcbinfos, d));
    VT_TRY(vt_json_req_object(*col, "$.collaterals", "certificates", &certs, d));
    if (x->api == 4) { /* a v3 file's version is not read (PCCS's v3 schema has none) */
        int64_t v = 0;
        VT_TRY(vt_json_req_int(*col, "$.collaterals", "version", INT64_MIN, INT64_MAX, &v, d));
        VT_ENSURE(v == 4, d, VT_E_BAD_FIELD, "$.collaterals.version",
                  "$.collaterals.version: expected 4 on the v4 API, got %" PRId64
                  " (a version 3 file goes to /sgx/certification/v3/)",
                  v);
    }
    VT_TRY(vt_json_req_object(certs, CERTS_PATH, PCK_CHAIN, &pck, d));
    const char *tcb = x->api == 3 ? "SGX-TCB-Info-Issuer-Chain" : "TCB-Info-Issuer-Chain";
    VT_TRY(chain_value(pck, CERTS_PATH "." PCK_CHAIN, "PROCESSOR", &x->chain_processor, d));
    VT_TRY(chain_value(pck, CERTS_PATH "." PCK_CHAIN, "PLATFORM", &x->chain_platform, d));
    VT_TRY(chain_value(certs, CERTS_PATH, tcb, &x->chain_tcb, d));
    return chain_value(certs, CERTS_PATH, "SGX-Enclave-Identity-Issuer-Chain", &x->chain_identity,
                       d);
}

enum vt_err vt_cache_pccs_upload_parse(const uint8_t *body, size_t len, unsigned api,
                                       struct vt_pccs_upload *u, struct vt_diag *d)
{
    memset(u, 0, sizeof(*u));
    enum vt_err err;
    json_t *o = body_object(body, len, "{platforms, collaterals}", &err, d);
    struct upload_ctx x = {.u = u, .api = api};
    json_t *platforms = NULL, *col = NULL, *pck_certs = NULL, *tcbinfos = NULL;
    if (err == VT_OK) {
        err = upload_head(&x, o, &platforms, &col, &pck_certs, &tcbinfos, d);
    }
    size_t i;
    json_t *e;
    json_array_foreach(pck_certs, i, e)
    {
        if (err != VT_OK) {
            break;
        }
        err = pck_entry(&x, e, i, platforms, tcbinfos, d);
    }
    json_array_foreach(tcbinfos, i, e)
    {
        if (err != VT_OK) {
            break;
        }
        char p[VT_JSON_PATH_MAX];
        elem_path(p, sizeof(p), "$.collaterals.tcbinfos", i);
        err = tcbinfo_entry(&x, e, p, d);
    }
    if (err == VT_OK) {
        err = string_items(&x, col, d);
    }
    /* platforms listed without certificates in this upload: registered all the same */
    json_array_foreach(platforms, i, e)
    {
        struct vt_pccs_platform q;
        char w[VT_JSON_PATH_MAX];
        elem_path(w, sizeof(w), "$.platforms", i);
        if (err != VT_OK || (err = platform_from(e, w, false, &q, d)) != VT_OK) {
            break;
        }
        if (q.enc_ppid[0] != '\0') {
            err = add_platform(&x, &q, d);
        }
    }
    free(x.chain_processor);
    free(x.chain_platform);
    free(x.chain_tcb);
    free(x.chain_identity);
    json_decref(o);
    if (err == VT_OK && u->n_items == 0) {
        err = vt_fail(d, VT_E_MISSING_FIELD, "$.collaterals",
                      "$.collaterals: the upload holds no document (every member is absent or"
                      " empty)");
    }
    if (err != VT_OK) {
        vt_cache_pccs_upload_cleanup(u);
    }
    return err;
}

void vt_cache_pccs_upload_cleanup(struct vt_pccs_upload *u)
{
    for (size_t i = 0; u->items != NULL && i < u->n_items; i++) {
        vt_cache_item_cleanup(&u->items[i]);
    }
    free(u->items);
    free(u->platforms);
    memset(u, 0, sizeof(*u));
}

/* ---- registrations ---- */

static enum vt_err register_row(struct vt_cache *c, const struct vt_pccs_platform *p,
                                const char *fmspc, struct vt_diag *d)
{
    char id[64];
    snprintf(id, sizeof(id), "reg/%s/%s", p->qe_id, p->pce_id);
    vt_time now = vt_cache_now(c);
    struct vt_sql_arg a[] = {
        VT_SQL_T(id),          VT_SQL_T(fmspc),      VT_SQL_T(p->pce_id),
        VT_SQL_T(p->qe_id),    VT_SQL_T(""),         VT_SQL_I(le16_hex(p->pce_svn)),
        VT_SQL_T(p->enc_ppid), VT_SQL_T(p->cpu_svn), VT_SQL_T("registration"),
        VT_SQL_I(now),         VT_SQL_I(now)};
    return vt_store_exec(
        c->store,
        "INSERT INTO vt_platforms(id, fmspc, pceid, qeid, components, pcesvn, enc_ppid, cpusvn,"
        " source, first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO"
        " UPDATE SET enc_ppid = excluded.enc_ppid,"
        " cpusvn = CASE WHEN excluded.cpusvn <> '' THEN excluded.cpusvn ELSE vt_platforms.cpusvn"
        " END, pcesvn = CASE WHEN excluded.cpusvn <> '' THEN excluded.pcesvn ELSE"
        " vt_platforms.pcesvn END, fmspc = CASE WHEN excluded.fmspc <> '' THEN excluded.fmspc"
        " ELSE vt_platforms.fmspc END, last_seen = excluded.last_seen",
        a, 11, NULL, NULL, NULL, d);
}

/* Fetch (no throttle: a registration) the documents a platform's quotes will need, as PCCS does
 * after a registration (qvCollateralLogic): TCB infos of its FMSPC, QE/QvE/TD-QE identities, both
 * PCK CRLs and the root CA CRL. Best effort: counted, not fatal. */
static void warm(struct vt_cache *c, const char *fmspc, bool standard, bool early, json_t *out)
{
    char keys[20][96];
    size_t n = 0;
    for (int u = 0; u < 2; u++) {
        if (!(u == 0 ? standard : early)) {
            continue;
        }
        const char *up = u == 0 ? "standard" : "early";
        snprintf(keys[n++], sizeof(keys[0]), "/sgx/certification/v4/tcb?fmspc=%s&update=%s", fmspc,
                 up);
        snprintf(keys[n++], sizeof(keys[0]), "/tdx/certification/v4/tcb?fmspc=%s&update=%s", fmspc,
                 up);
        snprintf(keys[n++], sizeof(keys[0]), "/sgx/certification/v4/qe/identity?update=%s", up);
        snprintf(keys[n++], sizeof(keys[0]), "/sgx/certification/v4/qve/identity?update=%s", up);
        snprintf(keys[n++], sizeof(keys[0]), "/tdx/certification/v4/qe/identity?update=%s", up);
    }
    snprintf(keys[n++], sizeof(keys[0]), "/sgx/certification/v4/pckcrl?ca=processor");
    snprintf(keys[n++], sizeof(keys[0]), "/sgx/certification/v4/pckcrl?ca=platform");
    snprintf(keys[n++], sizeof(keys[0]), "/sgx/certification/v4/rootcacrl");
    json_int_t held = 0, absent = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        struct vt_cache_req r;
        struct vt_cache_result res;
        struct vt_diag d;
        vt_diag_init(&d);
        if (vt_cache_req_from_key(keys[i], &r, &d) != VT_OK) {
            failed++;
            continue;
        }
        r.no_throttle = true;
        enum vt_err err = vt_cache_get(c, &r, &res, &d);
        if (err == VT_OK) {
            vt_cache_result_cleanup(&res);
            held++;
        } else if (err == VT_E_NOT_FOUND) {
            absent++; /* e.g. no TDX TCB info for an SGX-only FMSPC */
        } else {
            failed++;
        }
    }
    json_object_set_new(
        out, "collateral",
        json_pack("{s:I,s:I,s:I}", "held", held, "absent", absent, "failed", failed));
}

/* POST platforms: PCKIDRetrievalTool's registration (?update=standard|early|all). SPEC: PCCS
 * platformsController: 200 on success (the tool takes nothing else for success). */
static void post_platforms(struct vt_cache *c, const struct vt_http_req *req,
                           struct vt_http_resp *resp)
{
    const char *upd = vt_http_req_arg(req, "update");
    bool standard = upd == NULL || strcasecmp(upd, "standard") == 0 || strcasecmp(upd, "all") == 0;
    bool early = upd != NULL && (strcasecmp(upd, "early") == 0 || strcasecmp(upd, "all") == 0);
    if (!standard && !early) {
        problem(resp, 400, "update must be standard, early or all (in any case)");
        return;
    }
    size_t n;
    const uint8_t *b = vt_http_req_body(req, &n);
    struct vt_pccs_platform p;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_cache_pccs_platform_parse(b, n, &p, &d) != VT_OK) {
        problem(resp, 400, d.detail);
        return;
    }
    if (register_row(c, &p, "", &d) != VT_OK) {
        problem(resp, 500, d.detail);
        return;
    }
    json_t *out = json_pack("{s:s}", "registered", p.qe_id);
    if (c->cfg.mode == VT_CACHE_OFFLINE) {
        /* SPEC: PCCS OFFLINE: queued for the admin tool (GET platforms) */
        json_object_set_new(out, "pckcert", json_string("pending"));
        vt_http_json_reply(resp, 200, out);
        return;
    }
    char key[VT_CACHE_KEY_MAX];
    snprintf(key, sizeof(key),
             "/sgx/certification/v4/pckcert?encrypted_ppid=%s&cpusvn=%s&pcesvn=%s&pceid=%s",
             p.enc_ppid, p.cpu_svn, p.pce_svn, p.pce_id);
    struct vt_cache_req r;
    struct vt_cache_result res;
    enum vt_err err = vt_cache_req_from_key(key, &r, &d);
    if (err == VT_OK) {
        snprintf(r.qeid, sizeof(r.qeid), "%s", p.qe_id);
        r.no_throttle = true; /* a registration */
        err = vt_cache_get(c, &r, &res, &d);
    }
    if (err != VT_OK) {
        json_decref(out);
        unsigned st = err == VT_E_NOT_FOUND                         ? 404
                      : err == VT_E_UPSTREAM || err == VT_E_EXPIRED ? 503
                                                                    : 500;
        char msg[VT_DIAG_DETAIL_MAX + 80];
        snprintf(msg, sizeof(msg), "registered, but its PCK certificate could not be fetched: %s",
                 d.detail);
        problem(resp, st, msg);
        if (st == 503) {
            (void)!vt_http_resp_header(resp, "Retry-After", "30");
        }
        return;
    }
    char fmspc[13];
    snprintf(fmspc, sizeof(fmspc), "%s", res.item.fmspc);
    vt_cache_result_cleanup(&res);
    (void)!register_row(c, &p, fmspc, &d);
    json_object_set_new(out, "pckcert", json_string("cached"));
    json_object_set_new(out, "fmspc", json_string(fmspc));
    warm(c, fmspc, standard, early, out);
    vt_http_json_reply(resp, 200, out);
}

struct reg_row {
    char qe_id[33], pce_id[5], cpu_svn[33], pce_svn[5], enc_ppid[769], fmspc[13];
};

struct reg_list {
    struct reg_row *r;
    size_t n, cap;
};

static void copy_upper(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
    for (; *dst; dst++) {
        *dst = (char)toupper((unsigned char)*dst);
    }
}

static bool row_reg(void *ctx, const struct vt_sql_row *row)
{
    struct reg_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        void *p = realloc(l->r, cap * sizeof(*l->r));
        if (p == NULL) {
            return false;
        }
        l->r = p;
        l->cap = cap;
    }
    struct reg_row *r = &l->r[l->n++];
    copy_upper(r->qe_id, sizeof(r->qe_id), vt_row_text(row, 0));
    copy_upper(r->pce_id, sizeof(r->pce_id), vt_row_text(row, 1));
    copy_upper(r->cpu_svn, sizeof(r->cpu_svn), vt_row_text(row, 2));
    int64_t v = vt_row_int(row, 3);
    snprintf(r->pce_svn, sizeof(r->pce_svn), "%02X%02X", (unsigned)(v & 0xff),
             (unsigned)((v >> 8) & 0xff));
    copy_upper(r->enc_ppid, sizeof(r->enc_ppid), vt_row_text(row, 4));
    copy_upper(r->fmspc, sizeof(r->fmspc), vt_row_text(row, 5));
    if (r->cpu_svn[0] == '\0') {
        r->pce_svn[0] = '\0';
    }
    return true;
}

static bool held(struct vt_cache *c, const struct reg_row *r)
{
    char key[VT_CACHE_KEY_MAX];
    snprintf(key, sizeof(key),
             "/sgx/certification/v4/pckcert?encrypted_ppid=%s&cpusvn=%s&pcesvn=%s&pceid=%s",
             r->enc_ppid, r->cpu_svn, r->pce_svn, r->pce_id);
    lower(key);
    int64_t n = 0;
    struct vt_sql_arg a[] = {VT_SQL_T(key)};
    (void)!vt_store_exec(c->store,
                         "SELECT COUNT(*) FROM vt_items WHERE key = ? AND length(body) > 0", a, 1,
                         vt_store_row_int, &n, NULL, NULL);
    return n > 0;
}

/* GET platforms?source=reg|reg_na|[FMSPC,...]. SPEC: PCCS platformsController: reg, the
 * registrations not yet served (here: those whose PCK certificate is not held; nothing is
 * deleted); reg_na, platforms with "Not available" certificates (none here); [..], the cached
 * platforms of those FMSPCs ([] all). An array of {qe_id, pce_id, cpu_svn, pce_svn, enc_ppid,
 * platform_manifest} and a platform-count header. */
static void get_platforms(struct vt_cache *c, const struct vt_http_req *req,
                          struct vt_http_resp *resp)
{
    const char *src = vt_http_req_arg(req, "source");
    size_t sl = src ? strlen(src) : 0;
    bool reg = src == NULL || strcmp(src, "reg") == 0, na = src && strcmp(src, "reg_na") == 0;
    bool list = sl >= 2 && src[0] == '[' && src[sl - 1] == ']';
    if (!reg && !na && !list) {
        problem(resp, 400, "source must be reg, reg_na or a bracketed FMSPC list ([] for all)");
        return;
    }
    char want[64][13];
    size_t nw = 0;
    for (const char *p = list ? src + 1 : ""; list && *p != ']';) {
        p += strspn(p, " ");
        size_t l = strcspn(p, ",]");
        size_t t = l;
        while (t > 0 && p[t - 1] == ' ') {
            t--;
        }
        if (t == 0 && p[l] == ']' && nw == 0) {
            break; /* "[]" */
        }
        if (t != 12 || !vt_is_hex(p, 12) || nw == 64) {
            problem(resp, 400, "source: each FMSPC must be 12 hex characters (at most 64)");
            return;
        }
        memcpy(want[nw], p, 12);
        want[nw][12] = '\0';
        for (size_t k = 0; k < 12; k++) {
            want[nw][k] = (char)toupper((unsigned char)want[nw][k]);
        }
        nw++;
        p += l + (p[l] == ',');
    }
    struct reg_list l = {0};
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err =
        na ? VT_OK
           : vt_store_exec(c->store,
                           "SELECT qeid, pceid, cpusvn, pcesvn, enc_ppid, fmspc FROM vt_platforms"
                           " WHERE source = 'registration' ORDER BY first_seen, id",
                           NULL, 0, row_reg, &l, NULL, &d);
    if (err != VT_OK) {
        free(l.r);
        problem(resp, 500, d.detail);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < l.n; i++) {
        struct reg_row *r = &l.r[i];
        bool keep;
        if (reg) {
            keep = r->cpu_svn[0] != '\0' && r->enc_ppid[0] != '\0' && !held(c, r);
        } else {
            keep = r->fmspc[0] != '\0' && nw == 0;
            for (size_t k = 0; k < nw; k++) {
                keep |= strcmp(r->fmspc, want[k]) == 0;
            }
        }
        if (keep) {
            json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "qe_id", r->qe_id,
                                                 "pce_id", r->pce_id, "cpu_svn", r->cpu_svn,
                                                 "pce_svn", r->pce_svn, "enc_ppid", r->enc_ppid,
                                                 "platform_manifest", ""));
        }
    }
    free(l.r);
    char count[24];
    snprintf(count, sizeof(count), "%zu", json_array_size(arr));
    vt_http_json_reply(resp, 200, arr);
    (void)!vt_http_resp_header(resp, "platform-count", count);
}

/* ---- platformcollateral ---- */

/* PUT platformcollateral: the PCCS admin tool's upload (`pccsadmin put`). Every document is
 * checked as if downloaded (PCCS checks none), then all are written in one transaction with the
 * registrations, or nothing is. */
static void put_collateral(struct vt_cache *c, const struct vt_http_req *req,
                           struct vt_http_resp *resp, unsigned api)
{
    size_t n;
    const uint8_t *b = vt_http_req_body(req, &n);
    struct vt_pccs_upload u;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_cache_pccs_upload_parse(b, n, api, &u, &d) != VT_OK) {
        problem(resp, 400, d.detail);
        return;
    }
    enum vt_err err = VT_OK;
    vt_time now = vt_cache_now(c);
    for (size_t i = 0; i < u.n_items && err == VT_OK; i++) {
        struct vt_cache_item *it = &u.items[i];
        struct vt_doc_meta m;
        if ((err = vt_cache_check_item(c, it, &m, &d)) != VT_OK) {
            char inner[VT_DIAG_DETAIL_MAX];
            snprintf(inner, sizeof(inner), "%s", d.detail);
            err = vt_fail(&d, err, "platformcollateral", "%s refused (%.100s%s): %s",
                          vt_doc_kind_name(it->kind), it->key, strlen(it->key) > 100 ? "..." : "",
                          inner);
            break;
        }
        snprintf(it->fmspc, sizeof(it->fmspc), "%s", m.fmspc);
        it->eval_num = m.eval_num;
        it->issue_date = m.issue_date;
        it->next_update = m.next_update == INT64_MAX ? 0 : m.next_update;
        it->fetched_at = now;
        if (m.der != NULL) { /* CRLs are stored as DER */
            free(it->body);
            it->body = m.der;
            it->body_len = m.der_len;
            m.der = NULL;
        }
        if (m.has_pck) { /* as PCS's pckcert answers: SGX-FMSPC, uppercase */
            char f[13], *h;
            copy_upper(f, sizeof(f), m.fmspc);
            size_t hl = strlen(it->headers) + 32;
            if ((h = malloc(hl)) != NULL) {
                snprintf(h, hl, "%sSGX-FMSPC: %s\n", it->headers, f);
                free(it->headers);
                it->headers = h;
            } else {
                err = vt_fail(&d, VT_E_NOMEM, "platformcollateral", "no memory");
            }
        }
        vt_doc_meta_cleanup(&m);
    }
    if (err != VT_OK) {
        vt_cache_pccs_upload_cleanup(&u);
        problem(resp, err == VT_E_NOMEM || err == VT_E_STORAGE ? 500 : 400, d.detail);
        return;
    }
    size_t kept = 0;
    err = vt_store_begin(c->store, &d);
    bool began = err == VT_OK;
    for (size_t i = 0; i < u.n_items && err == VT_OK; i++) {
        bool k = false;
        err = vt_cache_put(c, &u.items[i], &k, &d);
        kept += k;
    }
    for (size_t i = 0; i < u.n_platforms && err == VT_OK; i++) {
        /* the FMSPC of the platform's certificates, for GET platforms?source=[FMSPC] */
        char ppid[790];
        const char *fmspc = "";
        snprintf(ppid, sizeof(ppid), "encrypted_ppid=%s&", u.platforms[i].enc_ppid);
        for (size_t k = 0; k < u.n_items && fmspc[0] == '\0'; k++) {
            if (u.items[k].kind == VT_DOC_PCK_CERT && strstr(u.items[k].key, ppid) != NULL) {
                fmspc = u.items[k].fmspc;
            }
        }
        err = register_row(c, &u.platforms[i], fmspc, &d);
    }
    if (err == VT_OK) {
        err = vt_store_commit(c->store, &d);
    } else if (began) {
        vt_store_rollback(c->store);
    }
    size_t items = u.n_items, platforms = u.n_platforms;
    vt_cache_pccs_upload_cleanup(&u);
    vt_cache_forget(c);
    if (err != VT_OK) {
        problem(resp, 500, d.detail);
        return;
    }
    vt_http_json_reply(resp, 200,
                       json_pack("{s:I,s:I,s:I}", "imported", (json_int_t)items, "kept_newer",
                                 (json_int_t)kept, "platforms", (json_int_t)platforms));
}

/* ---- refresh ---- */

struct key_row {
    char key[VT_CACHE_KEY_MAX];
    int kind;
    char fmspc[13];
};

struct key_rows {
    struct key_row *r;
    size_t n, cap;
};

static bool row_key(void *ctx, const struct vt_sql_row *row)
{
    struct key_rows *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        void *p = realloc(l->r, cap * sizeof(*l->r));
        if (p == NULL) {
            return false;
        }
        l->r = p;
        l->cap = cap;
    }
    struct key_row *r = &l->r[l->n++];
    snprintf(r->key, sizeof(r->key), "%s", vt_row_text(row, 0));
    r->kind = (int)vt_row_int(row, 1);
    snprintf(r->fmspc, sizeof(r->fmspc), "%s", vt_row_text(row, 2));
    return true;
}

/* GET or POST refresh[?type=certs[&fmspc=F1,F2]]. SPEC: PCCS refreshController/refreshService:
 * without type, renew every PCK CRL, TCB info, enclave identity and the root CA CRL now; with
 * type=certs, the PCK certificates (of the FMSPCs listed; all if none). Not in offline mode (503,
 * as PCCS when its caching mode cannot refresh). */
static void refresh(struct vt_cache *c, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    const char *type = vt_http_req_arg(req, "type"), *fm = vt_http_req_arg(req, "fmspc");
    if (type != NULL && strcmp(type, "certs") != 0) {
        problem(resp, 400, "type must be certs (or absent)");
        return;
    }
    bool certs = type != NULL;
    char want[64][13];
    size_t nw = 0;
    for (const char *p = certs && fm ? fm : ""; *p != '\0';) {
        size_t l = strcspn(p, ",");
        if (l != 12 || !vt_is_hex(p, 12) || nw == 64) {
            problem(resp, 400, "fmspc must be a comma-separated list of FMSPCs (12 hex each)");
            return;
        }
        memcpy(want[nw], p, 12);
        want[nw][12] = '\0';
        lower(want[nw++]);
        p += l + (p[l] == ',');
    }
    if (c->cfg.mode == VT_CACHE_OFFLINE) {
        problem(resp, 503, "an offline cache never contacts an upstream");
        return;
    }
    struct key_rows l = {0};
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_store_exec(c->store,
                      "SELECT key, kind, fmspc FROM vt_items WHERE length(body) > 0 ORDER BY key",
                      NULL, 0, row_key, &l, NULL, &d) != VT_OK) {
        free(l.r);
        problem(resp, 500, d.detail);
        return;
    }
    size_t renewed = 0, failed = 0;
    for (size_t i = 0; i < l.n; i++) {
        struct key_row *k = &l.r[i];
        bool due;
        if (certs) {
            due = k->kind == VT_DOC_PCK_CERT || k->kind == VT_DOC_PCK_CERTS;
            bool match = nw == 0;
            for (size_t j = 0; j < nw; j++) {
                match |= strcmp(k->fmspc, want[j]) == 0;
            }
            due = due && match;
        } else {
            due = (k->kind == VT_DOC_TCB_INFO || k->kind == VT_DOC_QE_IDENTITY ||
                   k->kind == VT_DOC_QVE_IDENTITY || k->kind == VT_DOC_EVAL_NUMBERS ||
                   k->kind == VT_DOC_PCK_CRL || k->kind == VT_DOC_ROOT_CRL) &&
                  strstr(k->key, "tcbEvaluationDataNumber=") == NULL; /* fixed documents */
        }
        if (!due) {
            continue;
        }
        struct vt_cache_req r;
        struct vt_cache_item it;
        struct vt_diag e;
        vt_diag_init(&e);
        unsigned st;
        enum vt_err err = vt_cache_req_from_key(k->key, &r, &e);
        if (err == VT_OK) {
            pthread_mutex_lock(&c->fill_lock);
            err = vt_cache_fill(c, &r, &it, &st, &e);
            pthread_mutex_unlock(&c->fill_lock);
        }
        if (err == VT_OK) {
            vt_cache_item_cleanup(&it);
            renewed++;
            atomic_fetch_add(&c->m.refreshes, 1);
        } else {
            failed++;
            atomic_fetch_add(&c->m.refresh_failures, 1);
            fprintf(stderr, "veritee-cache: refresh of %s failed: %s\n", k->key, e.detail);
        }
    }
    free(l.r);
    vt_cache_forget(c);
    if (failed > 0) {
        char msg[128];
        snprintf(msg, sizeof(msg), "%zu documents renewed, %zu could not be (see the log)", renewed,
                 failed);
        problem(resp, 503, msg);
        (void)!vt_http_resp_header(resp, "Retry-After", "30");
        return;
    }
    vt_http_json_reply(
        resp, 200, json_pack("{s:I,s:I}", "renewed", (json_int_t)renewed, "failed", (json_int_t)0));
}

/* ---- appraisal policies ---- */

static bool row_policy(void *ctx, const struct vt_sql_row *row)
{
    struct vt_buf *b = ctx;
    if (b->len > 0 && vt_buf_append(b, ",", 1) != VT_OK) {
        return false;
    }
    const char *p = vt_row_text(row, 0);
    return vt_buf_append(b, p, strlen(p)) == VT_OK;
}

/* GET appraisalpolicy?fmspc=F. SPEC: PCCS appraisalPolicyController: the default policies of the
 * FMSPC, joined by commas; 404 if none. */
static void get_policy(struct vt_cache *c, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    const char *f = vt_http_req_arg(req, "fmspc");
    if (f == NULL || strlen(f) != 12 || !vt_is_hex(f, 12)) {
        problem(resp, 400, "fmspc (12 hex characters) is required");
        return;
    }
    char fmspc[13];
    copy_upper(fmspc, sizeof(fmspc), f);
    struct vt_buf b;
    vt_buf_init(&b, 16u << 20);
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_sql_arg a[] = {VT_SQL_T(fmspc)};
    enum vt_err err = vt_store_exec(c->store,
                                    "SELECT policy FROM vt_policies WHERE fmspc = ? AND"
                                    " is_default = 1 ORDER BY created, id",
                                    a, 1, row_policy, &b, NULL, &d);
    if (err != VT_OK) {
        problem(resp, 500, d.detail);
    } else if (b.len == 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "no default appraisal policy for FMSPC %s", fmspc);
        problem(resp, 404, msg);
    } else {
        vt_http_resp_status(resp, 200, "text/plain");
        if (!vt_http_resp_body(resp, b.data, b.len)) {
            problem(resp, 500, "out of memory");
        }
    }
    vt_buf_cleanup(&b);
}

/* PUT appraisalpolicy {policy, is_default, fmspc}: stored under the SHA-384 of the policy, which
 * is the answer (PCCS's admin tool prints it as the policy ID). A new default for an FMSPC ends
 * the previous ones, as in PCCS. The policy's signature is the verifier's to check. */
static void put_policy(struct vt_cache *c, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    size_t n;
    const uint8_t *b = vt_http_req_body(req, &n);
    struct vt_pccs_policy p;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_cache_pccs_policy_parse(b, n, &p, &d) != VT_OK) {
        vt_cache_pccs_policy_cleanup(&p);
        problem(resp, 400, d.detail);
        return;
    }
    struct vt_sql_arg clear[] = {VT_SQL_T(p.fmspc)};
    struct vt_sql_arg ins[] = {VT_SQL_T(p.id),     VT_SQL_T(p.fmspc),
                               VT_SQL_I(p.type),   VT_SQL_I(p.is_default ? 1 : 0),
                               VT_SQL_T(p.policy), VT_SQL_I(vt_cache_now(c))};
    enum vt_err err = vt_store_begin(c->store, &d);
    bool began = err == VT_OK;
    if (err == VT_OK && p.is_default) {
        err = vt_store_exec(c->store,
                            "UPDATE vt_policies SET is_default = 0 WHERE fmspc = ? AND"
                            " is_default = 1",
                            clear, 1, NULL, NULL, NULL, &d);
    }
    if (err == VT_OK) {
        err = vt_store_exec(c->store,
                            "INSERT INTO vt_policies(id, fmspc, type, is_default, policy, created)"
                            " VALUES (?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET"
                            " fmspc = excluded.fmspc, type = excluded.type,"
                            " is_default = excluded.is_default, policy = excluded.policy",
                            ins, 6, NULL, NULL, NULL, &d);
    }
    if (err == VT_OK) {
        err = vt_store_commit(c->store, &d);
    } else if (began) {
        vt_store_rollback(c->store);
    }
    if (err != VT_OK) {
        problem(resp, 500, d.detail);
    } else {
        vt_http_resp_status(resp, 200, "text/plain");
        if (!vt_http_resp_body(resp, p.id, strlen(p.id))) {
            problem(resp, 500, "out of memory");
        }
    }
    vt_cache_pccs_policy_cleanup(&p);
}

/* ---- the handlers of the routes (the route table is in cache_api.c; tokens are checked there) */

void vt_cache_pccs_post_platforms(void *ctx, const struct vt_http_req *req,
                                  struct vt_http_resp *resp)
{
    post_platforms(ctx, req, resp);
}

void vt_cache_pccs_get_platforms(void *ctx, const struct vt_http_req *req,
                                 struct vt_http_resp *resp)
{
    get_platforms(ctx, req, resp);
}

void vt_cache_pccs_put_collateral(void *ctx, const struct vt_http_req *req,
                                  struct vt_http_resp *resp)
{
    /* /sgx/certification/v3/ or v4/: the upload's shape follows the API version */
    put_collateral(ctx, req, resp, vt_http_req_path(req)[20] == '3' ? 3 : 4);
}

void vt_cache_pccs_refresh(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    refresh(ctx, req, resp);
}

void vt_cache_pccs_get_policy(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    get_policy(ctx, req, resp);
}

void vt_cache_pccs_put_policy(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    put_policy(ctx, req, resp);
}
