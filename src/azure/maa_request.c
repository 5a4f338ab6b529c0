/*
 * The MAA request readers (maa.h): attest bodies, Open Enclave reports and policy tokens. All of
 * it is untrusted input from the network (fuzz/fuzz_maa_request.c).
 *
 * An attest body (MAA REST API, "Attestation - Attest Sgx Enclave" and its siblings), JSON:
 *
 *   {"quote" | "report": base64url,
 *    "runtimeData":  {"data": base64url, "dataType": "Binary" | "JSON"},   optional
 *    "initTimeData": {"data": base64url, "dataType": "Binary" | "JSON"},   optional
 *    "nonce": string,                                                       optional
 *    "draftPolicyForAttestation": policy text}                             optional
 *
 * An Open Enclave remote report (oe_get_report with OE_REPORT_FLAGS_REMOTE_ATTESTATION), bytes:
 *
 *   offset 0  u32le version      1
 *          4  u32le report_type  2 (SGX remote; 1 is a local report, which only another enclave
 *                                   on the same CPU can check)
 *          8  u64le report_size  the bytes that follow
 *         16  report             an SGX DCAP quote
 *
 * A SevSnpVm report in MAA's JSON envelope (base64url of):
 *
 *   {"SnpReport": base64url of the SEV-SNP attestation report,
 *    "VcekCertChain": base64url of PEM certificates, the VCEK (or VLEK) first}   optional
 *
 * A policy token (what AttestationAdministrationClient.setPolicy/resetPolicy send): a compact JWS
 * whose header is {"alg":"none"} or {"alg":"RS256","x5c":[cert, ...]} and whose payload is
 * {"AttestationPolicy": base64url(policy text)} (set) or empty (reset).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "azure/maa.h"
#include "base/encoding.h"
#include "base/reader.h"
#include "crypto/x509_self.h"
#include "net/json_fields.h"

/* ---- attest bodies ---- */

void vt_maa_attest_req_cleanup(struct vt_maa_attest_req *r)
{
    if (r == NULL) {
        return;
    }
    free(r->evidence);
    free(r->runtime.data);
    json_decref(r->runtime.json);
    free(r->inittime.data);
    json_decref(r->inittime.json);
    free(r->nonce);
    free(r->draft_policy);
    memset(r, 0, sizeof(*r));
}

/* A base64url string member decoded into a heap buffer of 1..max bytes. */
static enum vt_err b64_member(const json_t *o, const char *path, const char *name, bool required,
                              size_t max, uint8_t **out, size_t *len, struct vt_diag *d)
{
    char p[VT_JSON_PATH_MAX];
    vt_json_path(p, sizeof(p), path, name);
    const char *s = NULL;
    VT_TRY(required ? vt_json_req_string(o, path, name, &s, d)
                    : vt_json_opt_string(o, path, name, &s, d));
    if (s == NULL) {
        return VT_OK;
    }
    size_t n = strlen(s);
    VT_ENSURE(n > 0, d, VT_E_BAD_LENGTH, p, "%s: empty", p);
    VT_ENSURE(n / 4 * 3 <= max + 3, d, VT_E_TOO_LARGE, p,
              "%s: %zu base64url characters (at most %zu bytes)", p, n, max);
    uint8_t *buf = malloc(n / 4 * 3 + 3);
    VT_ENSURE(buf != NULL, d, VT_E_NOMEM, p, "no memory");
    size_t got = 0;
    /* MAA's members are base64url (RFC 4648 section 5); the standard alphabet is refused. */
    enum vt_err err = vt_base64_decode(s, n, true, buf, n / 4 * 3 + 3, &got);
    if (err != VT_OK || got == 0 || got > max) {
        free(buf);
        if (err != VT_OK) {
            return vt_fail(d, VT_E_BAD_BASE64, p, "%s: not base64url (RFC 4648 section 5)", p);
        }
        return vt_fail(d, got == 0 ? VT_E_BAD_LENGTH : VT_E_TOO_LARGE, p,
                       "%s: %zu bytes decoded (1 to %zu)", p, got, max);
    }
    *out = buf;
    *len = got;
    return VT_OK;
}

/* runtimeData / initTimeData. */
static enum vt_err data_member(const json_t *body, const char *name, struct vt_maa_data *out,
                               struct vt_diag *d)
{
    json_t *o = NULL;
    VT_TRY(vt_json_opt_object(body, "$", name, &o, d));
    if (o == NULL) {
        return VT_OK;
    }
    char path[VT_JSON_PATH_MAX];
    vt_json_path(path, sizeof(path), "$", name);
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (strcmp(key, "data") != 0 && strcmp(key, "dataType") != 0) {
            return vt_fail(d, VT_E_UNSUPPORTED, path,
                           "%s: unknown member \"%.64s\" (data, dataType)", path, key);
        }
    }
    const char *type = NULL;
    VT_TRY(vt_json_opt_string(o, path, "dataType", &type, d));
    char tpath[VT_JSON_PATH_MAX];
    vt_json_path(tpath, sizeof(tpath), path, "dataType");
    enum vt_maa_data_type t = VT_MAA_DATA_BINARY; /* absent: Binary (the API before dataType) */
    if (type != NULL) {
        if (strcasecmp(type, "Binary") == 0) {
            t = VT_MAA_DATA_BINARY;
        } else if (strcasecmp(type, "JSON") == 0) {
            t = VT_MAA_DATA_JSON;
        } else {
            return vt_fail(d, VT_E_BAD_FIELD, tpath, "%s: \"%.32s\" is not Binary or JSON", tpath,
                           type);
        }
    }
    uint8_t *data = NULL;
    size_t len = 0;
    VT_TRY(b64_member(o, path, "data", true, VT_MAA_DATA_MAX, &data, &len, d));
    json_t *json = NULL;
    if (t == VT_MAA_DATA_JSON) {
        char dpath[VT_JSON_PATH_MAX];
        vt_json_path(dpath, sizeof(dpath), path, "data");
        json_error_t je;
        json = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &je);
        if (json == NULL || !json_is_object(json)) {
            free(data);
            if (json == NULL) {
                return vt_fail(d, VT_E_BAD_JSON, dpath,
                               "%s: dataType JSON but the data is not JSON: %s (at byte %d)", dpath,
                               je.text, je.position);
            }
            const char *tn = vt_json_type_name(json);
            json_decref(json);
            return vt_fail(d, VT_E_BAD_FIELD, dpath,
                           "%s: dataType JSON needs one JSON object, got %s", dpath, tn);
        }
    }
    out->type = t;
    out->data = data;
    out->len = len;
    out->json = json;
    return VT_OK;
}

static enum vt_err attest_members(enum vt_maa_type t, const json_t *o, struct vt_maa_attest_req *r,
                                  struct vt_diag *d)
{
    const char *ev = t == VT_MAA_SGX || t == VT_MAA_TDX ? "quote" : "report";
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        if (strcmp(key, ev) != 0 && strcmp(key, "runtimeData") != 0 &&
            strcmp(key, "initTimeData") != 0 && strcmp(key, "nonce") != 0 &&
            strcmp(key, "draftPolicyForAttestation") != 0) {
            char p[VT_JSON_PATH_MAX];
            vt_json_path(p, sizeof(p), "$", key);
            const char *other = strcmp(ev, "quote") == 0 ? "report" : "quote";
            if (strcmp(key, other) == 0) {
                return vt_fail(d, VT_E_UNSUPPORTED, p,
                               "%s: %s takes its evidence in \"%s\", not \"%s\"", p,
                               vt_maa_type_name(t), ev, other);
            }
            return vt_fail(d, VT_E_UNSUPPORTED, p,
                           "%s: unknown member (%s, runtimeData, initTimeData, nonce, "
                           "draftPolicyForAttestation)",
                           p, ev);
        }
    }
    VT_TRY(b64_member(o, "$", ev, true, VT_MAA_EVIDENCE_MAX, &r->evidence, &r->evidence_len, d));
    VT_TRY(data_member(o, "runtimeData", &r->runtime, d));
    VT_TRY(data_member(o, "initTimeData", &r->inittime, d));
    const char *nonce = NULL, *draft = NULL;
    VT_TRY(vt_json_opt_string(o, "$", "nonce", &nonce, d));
    if (nonce != NULL) {
        size_t n = strlen(nonce);
        VT_ENSURE(n >= 1 && n <= VT_MAA_NONCE_MAX, d, VT_E_BAD_LENGTH, "$.nonce",
                  "$.nonce: %zu bytes (1 to %u)", n, VT_MAA_NONCE_MAX);
        r->nonce = strdup(nonce);
        VT_ENSURE(r->nonce != NULL, d, VT_E_NOMEM, "$.nonce", "no memory");
    }
    VT_TRY(vt_json_opt_string(o, "$", "draftPolicyForAttestation", &draft, d));
    if (draft != NULL) {
        size_t n = strlen(draft);
        VT_ENSURE(n >= 1 && n <= VT_MAA_POLICY_MAX_SIZE, d, VT_E_BAD_LENGTH,
                  "$.draftPolicyForAttestation", "$.draftPolicyForAttestation: %zu bytes (1 to %u)",
                  n, VT_MAA_POLICY_MAX_SIZE);
        r->draft_policy = strdup(draft);
        VT_ENSURE(r->draft_policy != NULL, d, VT_E_NOMEM, "$.draftPolicyForAttestation",
                  "no memory");
    }
    return VT_OK;
}

enum vt_err vt_maa_attest_req_parse(enum vt_maa_type t, const uint8_t *body, size_t len,
                                    struct vt_maa_attest_req *r, struct vt_diag *d)
{
    memset(r, 0, sizeof(*r));
    r->type = t;
    VT_ENSURE(t < VT_MAA_TYPE_COUNT, d, VT_E_ARG, "maa.type", "no such attestation type");
    VT_ENSURE(len <= VT_MAA_BODY_MAX, d, VT_E_TOO_LARGE, "$", "the body is %zu bytes (at most %u)",
              len, VT_MAA_BODY_MAX);
    json_error_t je;
    json_t *o = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL) {
        bool dup = strstr(je.text, "duplicate") != NULL;
        return vt_fail(d, dup ? VT_E_DUPLICATE : VT_E_BAD_JSON, "$",
                       "the body is not JSON: %s (at byte %d)", je.text, je.position);
    }
    enum vt_err err = VT_OK;
    if (!json_is_object(o)) {
        err =
            vt_fail(d, VT_E_BAD_FIELD, "$", "$: expected an object, got %s", vt_json_type_name(o));
    } else {
        err = attest_members(t, o, r, d);
    }
    json_decref(o);
    if (err != VT_OK) {
        vt_maa_attest_req_cleanup(r);
        r->type = t;
    }
    return err;
}

/* ---- Open Enclave reports ---- */

#define OE_REPORT_HEADER_VERSION 1u
#define OE_REPORT_TYPE_SGX_LOCAL 1u
#define OE_REPORT_TYPE_SGX_REMOTE 2u

enum vt_err vt_maa_oe_report_parse(const uint8_t *p, size_t n, const uint8_t **quote,
                                   size_t *quote_len, struct vt_diag *d)
{
    struct vt_reader r;
    vt_reader_init(&r, p, n);
    uint32_t version = 0, type = 0;
    uint64_t size = 0;
    VT_ENSURE(vt_reader_get_u32le(&r, &version) == VT_OK &&
                  vt_reader_get_u32le(&r, &type) == VT_OK &&
                  vt_reader_get_u64le(&r, &size) == VT_OK,
              d, VT_E_TRUNCATED, "oe.header",
              "an Open Enclave report is 16 header bytes and the quote; got %zu bytes", n);
    /* SPEC: Open Enclave SDK, oe_report_header_t (include/openenclave/bits/report.h) */
    VT_ENSURE(version == OE_REPORT_HEADER_VERSION, d, VT_E_UNSUPPORTED_VERSION, "oe.version",
              "Open Enclave report header version %u (only %u is known)", version,
              OE_REPORT_HEADER_VERSION);
    VT_ENSURE(type != OE_REPORT_TYPE_SGX_LOCAL, d, VT_E_UNSUPPORTED, "oe.report_type",
              "a local report (type 1) cannot be attested remotely: get a remote one "
              "(OE_REPORT_FLAGS_REMOTE_ATTESTATION)");
    VT_ENSURE(type == OE_REPORT_TYPE_SGX_REMOTE, d, VT_E_UNSUPPORTED, "oe.report_type",
              "report type %u (only 2, SGX remote, is attested)", type);
    VT_ENSURE(size == vt_reader_left(&r) && size > 0, d, VT_E_BAD_LENGTH, "oe.report_size",
              "report_size %llu but %zu bytes follow the header", (unsigned long long)size,
              vt_reader_left(&r));
    *quote = vt_reader_rest(&r);
    *quote_len = (size_t)size;
    return VT_OK;
}

/* ---- SevSnpVm envelopes ---- */

enum vt_err vt_maa_snp_envelope_parse(const uint8_t *p, size_t n, uint8_t **report,
                                      size_t *report_len, uint8_t **vek, size_t *vek_len,
                                      struct vt_diag *d)
{
    *report = NULL;
    *vek = NULL;
    *report_len = *vek_len = 0;
    json_error_t je;
    json_t *o = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &je);
    VT_ENSURE(
        o != NULL, d, VT_E_BAD_JSON, "report",
        "report: a SevSnpVm report is JSON {\"SnpReport\", \"VcekCertChain\"}: %s (at byte %d)",
        je.text, je.position);
    enum vt_err err = VT_OK;
    uint8_t *pem = NULL;
    size_t pn = 0;
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    if (!json_is_object(o)) {
        err = vt_fail(d, VT_E_BAD_FIELD, "report",
                      "report: a SevSnpVm report is a JSON object, not %s", vt_json_type_name(o));
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (strcmp(key, "SnpReport") != 0 && strcmp(key, "VcekCertChain") != 0) {
            err = vt_fail(d, VT_E_UNSUPPORTED, "report",
                          "report: unknown member \"%.64s\" (SnpReport, VcekCertChain)", key);
            goto out;
        }
    }
    if ((err = b64_member(o, "report", "SnpReport", true, VT_MAA_EVIDENCE_MAX, report, report_len,
                          d)) != VT_OK ||
        (err = b64_member(o, "report", "VcekCertChain", false, VT_MAA_EVIDENCE_MAX, &pem, &pn,
                          d)) != VT_OK) {
        goto out;
    }
    if (pem != NULL) {
        if ((err = vt_cert_list_from_bytes(pem, pn, &l, d)) != VT_OK || l.n == 0) {
            err = vt_fail(d, err != VT_OK ? err : VT_E_BAD_CERT, "report.VcekCertChain",
                          "report.VcekCertChain: not PEM certificates (%s)", d->detail);
            goto out;
        }
        size_t dn = 0;
        const uint8_t *der = vt_cert_der(l.certs[0], &dn);
        *vek = malloc(dn);
        if (*vek == NULL) {
            err = vt_fail(d, VT_E_NOMEM, "report", "no memory");
            goto out;
        }
        memcpy(*vek, der, dn);
        *vek_len = dn;
    }
out:
    vt_cert_list_cleanup(&l);
    free(pem);
    json_decref(o);
    if (err != VT_OK) {
        free(*report);
        *report = NULL;
        *report_len = 0;
    }
    return err;
}

/* ---- policy tokens ---- */

void vt_maa_policy_token_cleanup(struct vt_maa_policy_token *t)
{
    if (t != NULL) {
        free(t->signer_der);
        free(t->policy);
        memset(t, 0, sizeof(*t));
    }
}

/* A base64url segment decoded (heap, NUL-terminated). */
static enum vt_err segment(const char *s, size_t n, const char *check, char **out, size_t *len,
                           struct vt_diag *d)
{
    char *buf = malloc(n / 4 * 3 + 4);
    VT_ENSURE(buf != NULL, d, VT_E_NOMEM, check, "no memory");
    size_t got = 0;
    if (n > 0 && vt_base64_decode(s, n, true, (uint8_t *)buf, n / 4 * 3 + 3, &got) != VT_OK) {
        free(buf);
        return vt_fail(d, VT_E_BAD_BASE64, check, "the token's %s is not base64url", check + 7);
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return VT_OK;
}

struct x5c_ctx {
    struct vt_jwk *key;
};

static const struct vt_jwk *x5c_resolve(void *ctx, const json_t *header, struct vt_diag *d)
{
    (void)header;
    struct x5c_ctx *c = ctx;
    if (c->key == NULL) {
        vt_fail(d, VT_E_NOT_FOUND, "policy.x5c", "no key");
    }
    return c->key;
}

/* The payload of a set token: {"AttestationPolicy": base64url}. */
static enum vt_err policy_payload(const char *payload, size_t n, struct vt_maa_policy_token *t,
                                  struct vt_diag *d)
{
    json_error_t je;
    json_t *o = json_loadb(payload, n, JSON_REJECT_DUPLICATES, &je);
    VT_ENSURE(o != NULL, d, VT_E_BAD_JSON, "policy.payload",
              "the policy token's payload is not JSON: %s (at byte %d)", je.text, je.position);
    enum vt_err err = VT_OK;
    const char *b64 = NULL;
    if (!json_is_object(o)) {
        err = vt_fail(d, VT_E_BAD_FIELD, "policy.payload",
                      "the policy token's payload is %s, not a StoredAttestationPolicy object",
                      vt_json_type_name(o));
        goto out;
    }
    if ((err = vt_json_req_string(o, "$", "AttestationPolicy", &b64, d)) != VT_OK) {
        snprintf(d->check, sizeof(d->check), "policy.AttestationPolicy");
        goto out;
    }
    size_t bn = strlen(b64);
    if (bn == 0 || bn / 4 * 3 > VT_MAA_POLICY_MAX_SIZE + 3) {
        err = vt_fail(d, bn == 0 ? VT_E_BAD_LENGTH : VT_E_TOO_LARGE, "policy.AttestationPolicy",
                      "AttestationPolicy is %zu base64url characters (a policy is 1 to %u bytes)",
                      bn, VT_MAA_POLICY_MAX_SIZE);
        goto out;
    }
    char *text = NULL;
    size_t tn = 0;
    if ((err = segment(b64, bn, "policy.AttestationPolicy", &text, &tn, d)) != VT_OK) {
        goto out;
    }
    if (tn == 0 || tn > VT_MAA_POLICY_MAX_SIZE || memchr(text, '\0', tn) != NULL) {
        err = vt_fail(
            d, tn > VT_MAA_POLICY_MAX_SIZE ? VT_E_TOO_LARGE : VT_E_BAD_FIELD,
            "policy.AttestationPolicy", "the policy text is %zu bytes%s (1 to %u, no NUL)", tn,
            tn > 0 && tn <= VT_MAA_POLICY_MAX_SIZE ? " with a NUL" : "", VT_MAA_POLICY_MAX_SIZE);
        free(text);
        goto out;
    }
    t->policy = text;
    t->policy_len = tn;
out:
    json_decref(o);
    return err;
}

enum vt_err vt_maa_policy_token_parse(const char *compact, size_t len, bool want_policy,
                                      struct vt_maa_policy_token *t, struct vt_diag *d)
{
    memset(t, 0, sizeof(*t));
    VT_ENSURE(len <= VT_MAA_POLICY_TOKEN_MAX, d, VT_E_TOO_LARGE, "policy.token",
              "the policy token is %zu bytes (at most %u)", len, VT_MAA_POLICY_TOKEN_MAX);
    const char *dot1 = memchr(compact, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - compact)) : NULL;
    VT_ENSURE(dot2 != NULL && memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - compact)) == NULL &&
                  dot1 > compact,
              d, VT_E_MALFORMED, "policy.token",
              "the policy token is not a compact JWS (three base64url segments)");
    for (size_t i = 0; i < len; i++) {
        char c = compact[i];
        VT_ENSURE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.',
                  d, VT_E_MALFORMED, "policy.token",
                  "the policy token has a byte 0x%02x at %zu outside base64url", (unsigned char)c,
                  i);
    }
    vt_sha256(compact, len, t->token_hash);
    enum vt_err err = VT_OK;
    char *hdr_text = NULL, *payload = NULL;
    size_t hn = 0, pn = 0;
    json_t *hdr = NULL;
    struct x5c_ctx xc = {NULL};
    if ((err = segment(compact, (size_t)(dot1 - compact), "policy.header", &hdr_text, &hn, d)) !=
            VT_OK ||
        (err = segment(dot1 + 1, (size_t)(dot2 - dot1 - 1), "policy.payload", &payload, &pn, d)) !=
            VT_OK) {
        goto out;
    }
    json_error_t je;
    hdr = json_loadb(hdr_text, hn, JSON_REJECT_DUPLICATES, &je);
    if (hdr == NULL || !json_is_object(hdr)) {
        err = vt_fail(d, VT_E_BAD_JSON, "policy.header",
                      "the policy token's header is not a JSON "
                      "object%s%s",
                      hdr == NULL ? ": " : "", hdr == NULL ? je.text : "");
        goto out;
    }
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    if (alg == NULL) {
        err = vt_fail(d, VT_E_MISSING_FIELD, "policy.alg", "the policy token's header has no alg");
        goto out;
    }
    if (json_object_get(hdr, "crit") != NULL) {
        err = vt_fail(d, VT_E_UNSUPPORTED, "policy.crit", "the policy token's header has crit");
        goto out;
    }
    if (strcmp(alg, "none") == 0) {
        if (dot2[1] != '\0' && (size_t)(dot2 + 1 - compact) < len) {
            err = vt_fail(d, VT_E_MALFORMED, "policy.token",
                          "an unsigned (alg none) policy token has a signature");
            goto out;
        }
    } else if (strcmp(alg, "RS256") == 0) {
        json_t *x5c = json_object_get(hdr, "x5c");
        const char *leaf = json_string_value(json_array_get(x5c, 0));
        if (!json_is_array(x5c) || leaf == NULL) {
            err = vt_fail(d, VT_E_MISSING_FIELD, "policy.x5c",
                          "a signed policy token needs x5c (the signer's certificate first)");
            goto out;
        }
        size_t ln = strlen(leaf);
        uint8_t *der = malloc(ln / 4 * 3 + 3);
        size_t dn = 0;
        if (der == NULL) {
            err = vt_fail(d, VT_E_NOMEM, "policy.x5c", "no memory");
            goto out;
        }
        /* x5c holds standard base64 (RFC 7515 section 4.1.6), not base64url */
        if (vt_base64_decode(leaf, ln, false, der, ln / 4 * 3 + 3, &dn) != VT_OK || dn == 0) {
            free(der);
            err = vt_fail(d, VT_E_BAD_BASE64, "policy.x5c", "x5c[0] is not base64 DER");
            goto out;
        }
        t->signer_der = der;
        t->signer_len = dn;
        if ((err = vt_x509_rsa_jwk(der, dn, &xc.key, d)) != VT_OK) {
            snprintf(d->check, sizeof(d->check), "policy.x5c");
            goto out;
        }
        struct vt_buf pl;
        vt_buf_init(&pl, VT_MAA_POLICY_TOKEN_MAX);
        err = vt_jws_verify_rs256(compact, len, x5c_resolve, &xc, &pl, NULL, d);
        vt_buf_cleanup(&pl);
        if (err != VT_OK) {
            goto out;
        }
        t->signed_ = true;
    } else {
        err = vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "policy.alg",
                      "policy token alg \"%.16s\" (none or RS256 with x5c)", alg);
        goto out;
    }
    if (want_policy) {
        err = policy_payload(payload, pn, t, d);
    } else if (pn != 0 && !(pn == 2 && memcmp(payload, "{}", 2) == 0)) {
        err = vt_fail(d, VT_E_BAD_FIELD, "policy.payload",
                      "a reset token's payload must be empty (%zu bytes)", pn);
    }
out:
    vt_jwk_free(xc.key);
    json_decref(hdr);
    free(payload);
    free(hdr_text);
    if (err != VT_OK) {
        uint8_t h[32];
        memcpy(h, t->token_hash, 32);
        vt_maa_policy_token_cleanup(t);
        memcpy(t->token_hash, h, 32);
    }
    return err;
}
