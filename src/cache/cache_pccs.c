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
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cache/cache.h"

/* ---- helpers ---- */

/* "/sgx/certification/v3/REST" or v4: *api and *rest. */
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

/* A hex field of exactly want characters (0: up to max), lowercased into out; "" when empty_ok. */
static enum vt_err hex_field(json_t *o, const char *name, const char *where, size_t want,
                             size_t max, bool required, bool empty_ok, char *out, struct vt_diag *d)
{
    json_t *v = json_object_get(o, name);
    out[0] = '\0';
    if (v == NULL || json_is_null(v)) {
        VT_ENSURE(!required, d, VT_E_MISSING_FIELD, name, "%s%s is required", where, name);
        return VT_OK;
    }
    const char *s = json_string_value(v);
    VT_ENSURE(s != NULL, d, VT_E_BAD_FIELD, name, "%s%s is not a string", where, name);
    size_t n = strlen(s);
    if (n == 0) {
        VT_ENSURE(empty_ok && !required, d, VT_E_MISSING_FIELD, name, "%s%s is empty", where, name);
        return VT_OK;
    }
    VT_ENSURE((want ? n == want : n <= max) && vt_is_hex(s, n), d, VT_E_BAD_FIELD, name,
              "%s%s must be %s%zu hex characters (got %zu)", where, name, want ? "" : "up to ",
              want ? want : max, n);
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

/* ---- registration body ---- */

static enum vt_err platform_from(json_t *o, const char *where, bool svn_required,
                                 struct vt_pccs_platform *p, struct vt_diag *d)
{
    memset(p, 0, sizeof(*p));
    VT_ENSURE(json_is_object(o), d, VT_E_BAD_JSON, "platform", "%snot a JSON object", where);
    VT_TRY(hex_field(o, "qe_id", where, 0, 32, true, false, p->qe_id, d));
    VT_TRY(hex_field(o, "pce_id", where, 4, 0, true, false, p->pce_id, d));
    json_t *m = json_object_get(o, "platform_manifest");
    VT_ENSURE(m == NULL || json_is_null(m) || json_is_string(m), d, VT_E_BAD_FIELD,
              "platform_manifest", "%splatform_manifest is not a string", where);
    p->has_manifest = json_string_length(m) > 0;
    VT_TRY(hex_field(o, "cpu_svn", where, 32, 0, svn_required && !p->has_manifest, true, p->cpu_svn,
                     d));
    VT_TRY(hex_field(o, "pce_svn", where, 4, 0, svn_required && !p->has_manifest, true, p->pce_svn,
                     d));
    VT_TRY(hex_field(o, "enc_ppid", where, 768, 0, false, true, p->enc_ppid, d));
    VT_ENSURE((p->cpu_svn[0] == '\0') == (p->pce_svn[0] == '\0'), d, VT_E_MISSING_FIELD, "cpu_svn",
              "%scpu_svn and pce_svn go together", where);
    return VT_OK;
}

enum vt_err vt_cache_pccs_platform_parse(const uint8_t *body, size_t len,
                                         struct vt_pccs_platform *p, struct vt_diag *d)
{
    json_error_t je;
    json_t *o = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
    enum vt_err err = o ? platform_from(o, "", true, p, d)
                        : vt_fail(d, VT_E_BAD_JSON, "platform",
                                  "the body is not JSON: %s (line %d)", je.text, je.line);
    json_decref(o);
    VT_TRY(err);
    /* SPEC: PCCS sends a platform manifest to PCS (POST pckcerts) instead of the encrypted PPID
     * (multi-package platforms); this cache fetches PCK certificates by encrypted PPID only. */
    VT_ENSURE(p->enc_ppid[0] != '\0', d, p->has_manifest ? VT_E_UNSUPPORTED : VT_E_MISSING_FIELD,
              "enc_ppid",
              p->has_manifest ? "a registration by platform manifest alone (no enc_ppid) is not"
                                " supported: PCK certificates are fetched by encrypted PPID"
                              : "enc_ppid is required");
    VT_ENSURE(p->cpu_svn[0] != '\0', d, VT_E_MISSING_FIELD, "cpu_svn",
              "cpu_svn and pce_svn are required");
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

static enum vt_err policy_type(const char *jwt, int *type, struct vt_diag *d)
{
    const char *dot1 = strchr(jwt, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    VT_ENSURE(dot2 != NULL && strchr(dot2 + 1, '.') == NULL, d, VT_E_BAD_FIELD, "policy",
              "policy is not a JWT (three base64url parts)");
    size_t n = (size_t)(dot2 - dot1 - 1);
    uint8_t *raw = malloc(n + 1);
    VT_ENSURE(raw != NULL, d, VT_E_NOMEM, "policy", "no memory");
    size_t rl = 0;
    enum vt_err err = vt_base64_decode(dot1 + 1, n, true, raw, n + 1, &rl);
    json_t *payload = err == VT_OK ? json_loadb((const char *)raw, rl, 0, NULL) : NULL;
    free(raw);
    const char *pp = json_string_value(json_object_get(payload, "policy_payload"));
    json_t *inner = pp ? json_loads(pp, 0, NULL) : NULL;
    json_t *arr = json_object_get(inner, "policy_array");
    if (payload == NULL) {
        err =
            vt_fail(d, VT_E_BAD_FIELD, "policy", "the policy's JWT payload is not base64url JSON");
    } else if (pp == NULL) {
        err = vt_fail(d, VT_E_MISSING_FIELD, "policy.policy_payload",
                      "the policy's payload has no policy_payload string");
    } else if (!json_is_array(arr)) {
        err = vt_fail(d, VT_E_MISSING_FIELD, "policy.policy_array",
                      "policy_payload is not JSON with a policy_array");
    }
    *type = -1;
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        if (err != VT_OK || *type >= 0) {
            break;
        }
        const char *cls =
            json_string_value(json_object_get(json_object_get(it, "environment"), "class_id"));
        if (cls == NULL) {
            err = vt_fail(d, VT_E_MISSING_FIELD, "policy.class_id",
                          "policy_array[%zu] has no environment.class_id", i);
            break;
        }
        for (size_t k = 0; k < sizeof(policy_classes) / sizeof(policy_classes[0]); k++) {
            if (strcasecmp(cls, policy_classes[k].id) == 0) {
                *type = policy_classes[k].type;
            }
        }
        if (*type < 0 && strcasecmp(cls, TDQE_CLASS) != 0) {
            err = vt_fail(d, VT_E_BAD_FIELD, "policy.class_id",
                          "policy_array[%zu] has an unknown class_id \"%.40s\"", i, cls);
        }
    }
    if (err == VT_OK && *type < 0) {
        err = vt_fail(d, VT_E_BAD_FIELD, "policy.class_id",
                      "policy_array names no SGX or TDX class (only the TD QE's, or none)");
    }
    json_decref(inner);
    json_decref(payload);
    return err;
}

enum vt_err vt_cache_pccs_policy_parse(const uint8_t *body, size_t len, struct vt_pccs_policy *p,
                                       struct vt_diag *d)
{
    memset(p, 0, sizeof(*p));
    json_error_t je;
    json_t *o = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
    p->json = o;
    VT_ENSURE(json_is_object(o), d, VT_E_BAD_JSON, "appraisalpolicy",
              "the body is not a JSON object {policy, is_default, fmspc}%s%s", o ? "" : ": ",
              o ? "" : je.text);
    const char *pol = json_string_value(json_object_get(o, "policy"));
    json_t *def = json_object_get(o, "is_default");
    char f[13];
    VT_ENSURE(pol != NULL && pol[0] != '\0', d, VT_E_MISSING_FIELD, "policy",
              "policy (the policy JWT, a string) is required");
    VT_ENSURE(json_is_boolean(def), d, VT_E_MISSING_FIELD, "is_default",
              "is_default (true or false) is required");
    VT_TRY(hex_field(o, "fmspc", "", 12, 0, true, false, f, d));
    VT_TRY(policy_type(pol, &p->type, d));
    for (size_t i = 0; i <= 12; i++) {
        p->fmspc[i] = (char)toupper((unsigned char)f[i]);
    }
    uint8_t h[VT_SHA384_LEN];
    vt_sha384(pol, strlen(pol), h);
    vt_hex_encode(h, sizeof(h), p->id);
    p->is_default = json_is_true(def);
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

struct upload_ctx {
    struct vt_pccs_upload *u;
    size_t cap_items, cap_platforms;
    unsigned api;
    /* the issuer chains, as header values (URL-encoded PEM) */
    char *chain_processor, *chain_platform, *chain_tcb, *chain_identity;
};

/* A chain as a header value: URL-encoded as PCS sends it (PEM text is encoded here). */
static enum vt_err chain_value(json_t *v, const char *name, char **out, struct vt_diag *d)
{
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        return VT_OK;
    }
    const char *s = json_string_value(v);
    VT_ENSURE(s != NULL, d, VT_E_BAD_FIELD, "certificates",
              "collaterals.certificates.%s is not a string", name);
    size_t n = strlen(s);
    if (n == 0) {
        return VT_OK;
    }
    *out = malloc(3 * n + 1);
    VT_ENSURE(*out != NULL, d, VT_E_NOMEM, "certificates", "no memory");
    bool pem = strstr(s, "-----BEGIN ") != NULL; /* URL-encoded text has "BEGIN%20" */
    char *o = *out;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f) {
            if (!pem) {
                free(*out);
                *out = NULL;
                return vt_fail(d, VT_E_BAD_FIELD, "certificates",
                               "collaterals.certificates.%s holds a control character", name);
            }
        }
        if (!pem || isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            *o++ = (char)ch;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            *o++ = '%';
            *o++ = hex[ch >> 4];
            *o++ = hex[ch & 0x0f];
        }
    }
    *o = '\0';
    return VT_OK;
}

static struct vt_cache_item *new_item(struct upload_ctx *x, const char *key, struct vt_diag *d)
{
    struct vt_pccs_upload *u = x->u;
    if (u->n_items == x->cap_items) {
        size_t cap = x->cap_items ? 2 * x->cap_items : 16;
        void *p = realloc(u->items, cap * sizeof(*u->items));
        if (p == NULL) {
            vt_fail(d, VT_E_NOMEM, "platformcollateral", "no memory");
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
    VT_ENSURE(it->headers != NULL && it->body != NULL, d, VT_E_NOMEM, "platformcollateral",
              "no memory");
    memcpy(it->body, body, n);
    it->body_len = n;
    return VT_OK;
}

/* A document held as a string (identities: the PCS body; CRLs: hex text). */
static enum vt_err string_item(struct upload_ctx *x, json_t *v, const char *where, const char *key,
                               const char *header, const char *chain, struct vt_diag *d)
{
    if (v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        return VT_OK; /* PCCS's admin tool writes "" for what it did not fetch */
    }
    VT_ENSURE(json_is_string(v), d, VT_E_BAD_FIELD, "platformcollateral", "%s is not a string",
              where);
    VT_ENSURE(header == NULL || chain != NULL, d, VT_E_MISSING_FIELD, "certificates",
              "%s needs its issuer chain, collaterals.certificates.%s", where, header);
    char h[16384];
    int hl = header ? snprintf(h, sizeof(h), "%s: %s\n", header, chain) : snprintf(h, 1, "%s", "");
    VT_ENSURE(hl >= 0 && (size_t)hl < sizeof(h), d, VT_E_TOO_LARGE, "certificates",
              "the issuer chain of %s is too long", where);
    struct vt_cache_item *it = new_item(x, key, d);
    if (it == NULL) {
        return d ? d->code : VT_E_INTERNAL;
    }
    return set_item(it, h, json_string_value(v), json_string_length(v), d);
}

/* TCB info objects: re-serialised compactly, as PCS sends them (PCCS stores JSON.stringify of the
 * parsed object); the signature check then proves the bytes are the signed ones. */
static enum vt_err tcb_item(struct upload_ctx *x, json_t *v, const char *where, const char *key,
                            struct vt_diag *d)
{
    if (v == NULL || json_is_null(v)) {
        return VT_OK;
    }
    VT_ENSURE(json_is_object(v) && json_is_object(json_object_get(v, "tcbInfo")) &&
                  json_is_string(json_object_get(v, "signature")),
              d, VT_E_BAD_FIELD, "tcbinfos", "%s is not {\"tcbInfo\":{...},\"signature\":\"...\"}",
              where);
    VT_ENSURE(x->chain_tcb != NULL, d, VT_E_MISSING_FIELD, "certificates",
              "%s needs collaterals.certificates.%s", where,
              x->api == 3 ? "SGX-TCB-Info-Issuer-Chain" : "TCB-Info-Issuer-Chain");
    char *body = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    size_t hn = strlen(x->chain_tcb) + 40;
    char *h = malloc(hn);
    struct vt_cache_item *it = body && h ? new_item(x, key, d) : NULL;
    enum vt_err err = it                          ? VT_OK
                      : body == NULL || h == NULL ? vt_fail(d, VT_E_NOMEM, "tcbinfos", "no memory")
                      : d                         ? d->code
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

/* A TCB level's tcb (v3: sgxtcbcomponents[].svn; v2: sgxtcbcompNNsvn) and pcesvn. */
static bool level_of(json_t *tcb, struct level *l)
{
    json_t *arr = json_object_get(tcb, "sgxtcbcomponents");
    for (size_t i = 0; i < 16; i++) {
        char name[20];
        snprintf(name, sizeof(name), "sgxtcbcomp%02zusvn", i + 1);
        json_t *v = json_is_array(arr) ? json_object_get(json_array_get(arr, i), "svn")
                                       : json_object_get(tcb, name);
        json_int_t s = json_integer_value(v);
        if (!json_is_integer(v) || s < 0 || s > 255) {
            return false;
        }
        l->comps[i] = (uint8_t)s;
    }
    json_int_t p = json_integer_value(json_object_get(tcb, "pcesvn"));
    if (!json_is_integer(json_object_get(tcb, "pcesvn")) || p < 0 || p > 65535) {
        return false;
    }
    l->pcesvn = (unsigned)p;
    return true;
}

struct upload_cert {
    const char *tcbm; /* 36 hex, lowercase copy */
    char tcbm_l[37];
    char *pem;
    size_t pem_len;
    bool processor;
    struct level tcb; /* from the tcbm: for TCB type 0 the components are the CPUSVN bytes */
};

/* SPEC: PCKCertSelection, as PCS's pckcert and PCCS apply it: the certificate of the highest TCB
 * level (tcbLevels are ordered newest first) that the raw TCB reaches, among the platform's
 * certificates. */
static int select_cert(json_t *tcbinfo, const struct upload_cert *certs, size_t n,
                       const struct level *raw, struct vt_diag *d)
{
    json_t *info = json_object_get(tcbinfo, "tcbInfo");
    json_int_t type = json_integer_value(json_object_get(info, "tcbType"));
    if (type != 0) {
        vt_fail(d, VT_E_UNSUPPORTED, "tcbinfos",
                "tcbType %" JSON_INTEGER_FORMAT " is not supported for certificate selection",
                type);
        return -1;
    }
    size_t i;
    json_t *lv;
    json_array_foreach(json_object_get(info, "tcbLevels"), i, lv)
    {
        struct level l;
        if (!level_of(json_object_get(lv, "tcb"), &l)) {
            vt_fail(d, VT_E_BAD_FIELD, "tcbinfos", "tcbLevels[%zu] has no readable tcb", i);
            return -1;
        }
        bool reached = l.pcesvn <= raw->pcesvn;
        for (size_t k = 0; k < 16 && reached; k++) {
            reached = l.comps[k] <= raw->comps[k];
        }
        for (size_t c = 0; reached && c < n; c++) {
            if (certs[c].pem != NULL && certs[c].tcb.pcesvn == l.pcesvn &&
                memcmp(certs[c].tcb.comps, l.comps, 16) == 0) {
                return (int)c;
            }
        }
    }
    vt_fail(d, VT_E_NOT_FOUND, "platforms",
            "no PCK certificate of the platform is at or below its raw TCB");
    return -1;
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
        VT_ENSURE(np != NULL, d, VT_E_NOMEM, "platformcollateral", "no memory");
        u->platforms = np;
        x->cap_platforms = cap;
    }
    u->platforms[u->n_platforms++] = *p;
    return VT_OK;
}

/* The SGX TCB info of an FMSPC in the upload (early first, as PCCS selects with it). */
static json_t *sgx_tcbinfo_of(json_t *tcbinfos, const char *fmspc, unsigned api)
{
    size_t i;
    json_t *t;
    json_array_foreach(tcbinfos, i, t)
    {
        const char *f = json_string_value(json_object_get(t, "fmspc"));
        if (f != NULL && strcasecmp(f, fmspc) == 0) {
            json_t *e = json_object_get(t, api == 3 ? "tcbinfo_early" : "sgx_tcbinfo_early");
            return e ? e : json_object_get(t, api == 3 ? "tcbinfo" : "sgx_tcbinfo");
        }
    }
    return NULL;
}

static void certs_free(struct upload_cert *certs, size_t n)
{
    for (size_t i = 0; certs != NULL && i < n; i++) {
        free(certs[i].pem);
    }
    free(certs);
}

/* One collaterals.pck_certs[] entry: each certificate under its own TCB's key, and under the raw
 * TCB of every platform of that entry (PCK certificate selection), as PCS's pckcert answers. */
static enum vt_err pck_entry(struct upload_ctx *x, json_t *e, size_t idx, json_t *platforms,
                             json_t *tcbinfos, struct vt_diag *d)
{
    char where[48];
    snprintf(where, sizeof(where), "collaterals.pck_certs[%zu].", idx);
    struct vt_pccs_platform p;
    VT_TRY(platform_from(e, where, false, &p, d));
    VT_ENSURE(p.enc_ppid[0] != '\0', d, VT_E_UNSUPPORTED, "enc_ppid",
              "%senc_ppid is empty: PCK certificates are kept by encrypted PPID, so a platform"
              " known by its manifest alone cannot be uploaded",
              where);
    json_t *arr = json_object_get(e, "certs");
    size_t n = json_array_size(arr);
    VT_ENSURE(n > 0, d, VT_E_MISSING_FIELD, "certs", "%scerts is missing or empty", where);
    struct upload_cert *certs = calloc(n, sizeof(*certs));
    VT_ENSURE(certs != NULL, d, VT_E_NOMEM, "platformcollateral", "no memory");
    enum vt_err err = VT_OK;
    char fmspc[13] = "";
    for (size_t i = 0; i < n && err == VT_OK; i++) {
        json_t *c = json_array_get(arr, i);
        const char *tcbm = json_string_value(json_object_get(c, "tcbm"));
        const char *cert = json_string_value(json_object_get(c, "cert"));
        if (tcbm == NULL || strlen(tcbm) != 36 || !vt_is_hex(tcbm, 36) || cert == NULL) {
            err = vt_fail(d, VT_E_BAD_FIELD, "certs",
                          "%scerts[%zu] is not {tcb, tcbm (36 hex), cert}", where, i);
            break;
        }
        if (strcmp(cert, "Not available") == 0) {
            continue; /* SPEC: PCS marks TCB levels it has no certificate for */
        }
        struct upload_cert *u = &certs[i];
        memcpy(u->tcbm_l, tcbm, 37);
        lower(u->tcbm_l);
        u->tcbm = u->tcbm_l;
        uint8_t raw[18];
        (void)!vt_hex_decode_exact(u->tcbm_l, 36, raw, 18);
        memcpy(u->tcb.comps, raw, 16);
        u->tcb.pcesvn = (unsigned)raw[16] | ((unsigned)raw[17] << 8);
        size_t cl = strlen(cert);
        u->pem = malloc(cl + 1);
        if (u->pem == NULL || vt_percent_decode(cert, cl, u->pem, cl + 1, &u->pem_len) != VT_OK) {
            err = vt_fail(d, VT_E_BAD_FIELD, "certs", "%scerts[%zu].cert is not URL-encoded PEM",
                          where, i);
            break;
        }
        u->pem[u->pem_len] = '\0';
        struct vt_cert_list l;
        vt_cert_list_init(&l);
        char issuer[256] = "";
        const uint8_t *ext;
        size_t ext_len;
        struct vt_sgx_pck_ext pe;
        err = vt_cert_list_from_pem(u->pem, u->pem_len, &l, d);
        if (err == VT_OK && l.n != 1) {
            err = vt_fail(d, VT_E_BAD_CERT, "certs", "%scerts[%zu].cert holds %zu certificates",
                          where, i, l.n);
        }
        if (err == VT_OK) {
            vt_cert_issuer_text(l.certs[0], issuer, sizeof(issuer));
            if (vt_cert_extension(l.certs[0], VT_SGX_EXT_OID, &ext, &ext_len) != VT_OK ||
                vt_sgx_pck_ext_parse(ext, ext_len, &pe, d) != VT_OK) {
                err = vt_fail(d, VT_E_CERT_EXTENSION, "certs",
                              "%scerts[%zu].cert has no readable SGX extension", where, i);
            }
        }
        vt_cert_list_cleanup(&l);
        if (err != VT_OK) {
            break;
        }
        vt_hex_encode(pe.fmspc, 6, fmspc);
        u->processor = strstr(issuer, "Processor") != NULL;
        const char *chain = u->processor ? x->chain_processor : x->chain_platform;
        if (chain == NULL) {
            err = vt_fail(d, VT_E_MISSING_FIELD, "certificates",
                          "%scerts[%zu] needs collaterals.certificates."
                          "SGX-PCK-Certificate-Issuer-Chain.%s",
                          where, i, u->processor ? "PROCESSOR" : "PLATFORM");
        }
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
        struct vt_cache_item *it = new_item(x, key, d);
        const char *chain = certs[i].processor ? x->chain_processor : x->chain_platform;
        size_t hn = strlen(chain) + 160;
        char *h = it ? malloc(hn) : NULL;
        if (h != NULL) {
            snprintf(h, hn,
                     "SGX-PCK-Certificate-Issuer-Chain: %s\nSGX-TCBm: %s\n"
                     "SGX-PCK-Certificate-CA-Type: %s\n",
                     chain, certs[i].tcbm, certs[i].processor ? "processor" : "platform");
            err = set_item(it, h, certs[i].pem, certs[i].pem_len, d);
        } else {
            err = it ? vt_fail(d, VT_E_NOMEM, "platformcollateral", "no memory")
                     : (d ? d->code : VT_E_INTERNAL);
        }
        free(h);
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
        char w[48];
        snprintf(w, sizeof(w), "platforms[%zu].", k);
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
        json_t *info = fmspc[0] ? sgx_tcbinfo_of(tcbinfos, fmspc, x->api) : NULL;
        if (info == NULL) {
            err = vt_fail(d, VT_E_MISSING_FIELD, "tcbinfos",
                          "%s: the SGX TCB info of FMSPC %s is needed to select its certificate", w,
                          fmspc);
            break;
        }
        int c = select_cert(info, certs, n, &raw, d);
        if (c < 0) {
            char detail[VT_DIAG_DETAIL_MAX];
            snprintf(detail, sizeof(detail), "%s", d ? d->detail : "");
            err = vt_fail(d, d ? d->code : VT_E_NOT_FOUND, "platforms", "%s (cpu_svn %s): %s", w,
                          q.cpu_svn, detail);
            break;
        }
        char key[VT_CACHE_KEY_MAX];
        snprintf(key, sizeof(key),
                 "/sgx/certification/v4/pckcert?encrypted_ppid=%s&cpusvn=%s&pcesvn=%s&pceid=%s",
                 p.enc_ppid, q.cpu_svn, q.pce_svn, p.pce_id);
        const char *chain = certs[c].processor ? x->chain_processor : x->chain_platform;
        size_t hn = strlen(chain) + 160;
        char *h = malloc(hn);
        struct vt_cache_item *it = h ? new_item(x, key, d) : NULL;
        err = it ? VT_OK : vt_fail(d, VT_E_NOMEM, "platformcollateral", "no memory");
        if (err == VT_OK) {
            snprintf(h, hn,
                     "SGX-PCK-Certificate-Issuer-Chain: %s\nSGX-TCBm: %s\n"
                     "SGX-PCK-Certificate-CA-Type: %s\n",
                     chain, certs[c].tcbm, certs[c].processor ? "processor" : "platform");
            err = set_item(it, h, certs[c].pem, certs[c].pem_len, d);
        }
        free(h);
    }
    certs_free(certs, n);
    return err;
}

enum vt_err vt_cache_pccs_upload_parse(const uint8_t *body, size_t len, unsigned api,
                                       struct vt_pccs_upload *u, struct vt_diag *d)
{
    memset(u, 0, sizeof(*u));
    json_error_t je;
    json_t *o = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL) {
        return vt_fail(d, VT_E_BAD_JSON, "platformcollateral",
                       "the body is not JSON: %s (line %d, column %d)", je.text, je.line,
                       je.column);
    }
    struct upload_ctx x = {.u = u, .api = api};
    json_t *platforms = json_object_get(o, "platforms");
    json_t *col = json_object_get(o, "collaterals");
    json_t *certs = json_object_get(col, "certificates");
    json_t *pck = json_object_get(certs, "SGX-PCK-Certificate-Issuer-Chain");
    json_t *tcbinfos = json_object_get(col, "tcbinfos");
    json_t *pck_certs = json_object_get(col, "pck_certs");
    enum vt_err err = VT_OK;
    /* SPEC: PCCS pccs_schemas.js (PLATFORM_COLLATERAL_SCHEMA_V3/V4): required members. */
    if (!json_is_array(platforms) || !json_is_object(col)) {
        err = vt_fail(d, VT_E_MISSING_FIELD, "platformcollateral",
                      "the body is not {\"platforms\":[...],\"collaterals\":{...}}");
    } else if (!json_is_array(pck_certs) || !json_is_array(tcbinfos) || !json_is_object(certs)) {
        err = vt_fail(d, VT_E_MISSING_FIELD, "collaterals",
                      "collaterals needs pck_certs and tcbinfos (arrays) and certificates");
    } else if (api == 4 && json_integer_value(json_object_get(col, "version")) != 4) {
        err = vt_fail(d, VT_E_BAD_FIELD, "collaterals.version",
                      "collaterals.version must be 4 on the v4 API (a v3 file goes to /v3/)");
    } else if (!json_is_object(pck)) {
        err = vt_fail(d, VT_E_MISSING_FIELD, "certificates",
                      "collaterals.certificates.SGX-PCK-Certificate-Issuer-Chain is required");
    }
    const char *tcb_name = api == 3 ? "SGX-TCB-Info-Issuer-Chain" : "TCB-Info-Issuer-Chain";
    if (err == VT_OK &&
        (err = chain_value(json_object_get(pck, "PROCESSOR"), "SGX-PCK-Certificate-Issuer-Chain",
                           &x.chain_processor, d)) == VT_OK &&
        (err = chain_value(json_object_get(pck, "PLATFORM"), "SGX-PCK-Certificate-Issuer-Chain",
                           &x.chain_platform, d)) == VT_OK &&
        (err = chain_value(json_object_get(certs, tcb_name), tcb_name, &x.chain_tcb, d)) == VT_OK) {
        err = chain_value(json_object_get(certs, "SGX-Enclave-Identity-Issuer-Chain"),
                          "SGX-Enclave-Identity-Issuer-Chain", &x.chain_identity, d);
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
    const char *v = api == 3 ? "v3" : "v4";
    json_array_foreach(tcbinfos, i, e)
    {
        if (err != VT_OK) {
            break;
        }
        char f[13], where[64], key[VT_CACHE_KEY_MAX];
        snprintf(where, sizeof(where), "collaterals.tcbinfos[%zu].", i);
        if ((err = hex_field(e, "fmspc", where, 12, 0, true, false, f, d)) != VT_OK) {
            break;
        }
        static const char *const v4[4][3] = {{"sgx_tcbinfo", "sgx", "standard"},
                                             {"sgx_tcbinfo_early", "sgx", "early"},
                                             {"tdx_tcbinfo", "tdx", "standard"},
                                             {"tdx_tcbinfo_early", "tdx", "early"}};
        static const char *const v3[2][3] = {{"tcbinfo", "sgx", "standard"},
                                             {"tcbinfo_early", "sgx", "early"}};
        for (size_t k = 0; k < (api == 3 ? 2u : 4u) && err == VT_OK; k++) {
            const char *const *m = api == 3 ? v3[k] : v4[k];
            snprintf(key, sizeof(key), "/%s/certification/%s/tcb?fmspc=%s&update=%s", m[1], v, f,
                     m[2]);
            char w[96];
            snprintf(w, sizeof(w), "%s%s", where, m[0]);
            err = tcb_item(&x, json_object_get(e, m[0]), w, key, d);
        }
    }
    json_t *crls = json_object_get(col, "pckcacrl");
    if (err == VT_OK && crls != NULL && !json_is_object(crls)) {
        err = vt_fail(d, VT_E_BAD_FIELD, "pckcacrl", "collaterals.pckcacrl is not an object");
    }
    if (err == VT_OK) {
        err = string_item(&x, json_object_get(crls, "processorCrl"),
                          "collaterals.pckcacrl.processorCrl",
                          "/sgx/certification/v4/pckcrl?ca=processor", "SGX-PCK-CRL-Issuer-Chain",
                          x.chain_processor, d);
    }
    if (err == VT_OK) {
        err = string_item(&x, json_object_get(crls, "platformCrl"),
                          "collaterals.pckcacrl.platformCrl",
                          "/sgx/certification/v4/pckcrl?ca=platform", "SGX-PCK-CRL-Issuer-Chain",
                          x.chain_platform, d);
    }
    if (err == VT_OK) {
        err = string_item(&x, json_object_get(col, "rootcacrl"), "collaterals.rootcacrl",
                          "/sgx/certification/v4/rootcacrl", NULL, NULL, d);
    }
    static const char *const ids[6][3] = {
        {"qeidentity", "sgx", "qe/identity?update=standard"},
        {"qeidentity_early", "sgx", "qe/identity?update=early"},
        {"qveidentity", "sgx", "qve/identity?update=standard"},
        {"qveidentity_early", "sgx", "qve/identity?update=early"},
        {"tdqeidentity", "tdx", "qe/identity?update=standard"},
        {"tdqeidentity_early", "tdx", "qe/identity?update=early"},
    };
    for (size_t k = 0; k < (api == 3 ? 4u : 6u) && err == VT_OK; k++) {
        char key[96], w[64];
        snprintf(key, sizeof(key), "/%s/certification/%s/%s", ids[k][1], v, ids[k][2]);
        snprintf(w, sizeof(w), "collaterals.%s", ids[k][0]);
        err = string_item(&x, json_object_get(col, ids[k][0]), w, key,
                          "SGX-Enclave-Identity-Issuer-Chain", x.chain_identity, d);
    }
    /* platforms listed without certificates in this upload: registered all the same */
    json_array_foreach(platforms, i, e)
    {
        struct vt_pccs_platform q;
        char w[48];
        snprintf(w, sizeof(w), "platforms[%zu].", i);
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
        err = vt_fail(d, VT_E_MISSING_FIELD, "collaterals", "the upload holds no document");
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
