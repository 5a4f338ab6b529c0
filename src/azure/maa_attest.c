/*
 * Attestation as MAA does it (docs/maa.md "Attest"): the evidence of the request's type is
 * verified by veritee (vt_broker_appraise: the broker's verifier, collateral from veritee's cache
 * or the configured source, the broker's clock), the report-data rule is applied, the incoming
 * claims MAA names are built from veritee's claims (docs/claims.md), the attestation policy of the
 * type (or the request's draft) decides and issues, and the token is signed.
 *
 * The report-data rule (MAA's): with runtimeData, the first 32 bytes of the evidence's report
 * data must be the SHA-256 of runtimeData's decoded bytes (the JSON text as sent for dataType
 * JSON); the last 32 are not read. Without runtimeData nothing is bound (MAA's behaviour; the
 * token then has no x-ms-runtime and no x-ms-sgx-ehd, and x-ms-sgx-report-data shows what the
 * report data was). initTimeData is veritee's stricter rule: its SHA-256 must be the first 32 bytes
 * of the TEE's launch-time field (SGX CONFIGID, TDX MRCONFIGID, SEV-SNP HOST_DATA).
 *
 * A token from a draft policy (draftPolicyForAttestation) is unsigned ("alg":"none"), as MAA
 * issues it: it shows what the draft would do and can be trusted by no one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "azure/maa.h"
#include "base/encoding.h"
#include "crypto/crypto.h"
#include "verify/evidence.h"

#define MAA_VERSION "1.0"

/* ---- claims ---- */

/* How a veritee claim becomes an MAA claim. */
enum conv {
    C_COPY,     /* the value as is (hex strings stay lowercase hex) */
    C_DBGSTAT,  /* boolean debug -> "enabled" / "disabled" */
    C_HEX_TAIL, /* hex string -> (unchanged; placeholder for symmetry) */
};

struct map {
    const char *maa;
    const char *vt;
    enum conv conv;
    bool incoming; /* offered to the policy as an incoming claim */
};

static const struct map sgx_map[] = {
    {"x-ms-sgx-is-debuggable", "debug", C_COPY, true},
    {"x-ms-sgx-mrenclave", "sgx.mrenclave", C_COPY, true},
    {"x-ms-sgx-mrsigner", "sgx.mrsigner", C_COPY, true},
    {"x-ms-sgx-product-id", "sgx.isv_prod_id", C_COPY, true},
    {"x-ms-sgx-svn", "sgx.isv_svn", C_COPY, true},
    {"x-ms-sgx-report-data", "report_data", C_COPY, true},
    {"x-ms-sgx-config-id", "sgx.config_id", C_COPY, true},
    {"x-ms-sgx-config-svn", "sgx.config_svn", C_COPY, true},
    {"x-ms-sgx-isv-extended-product-id", "sgx.isv_ext_prod_id", C_COPY, true},
    {"x-ms-sgx-isv-family-id", "sgx.isv_family_id", C_COPY, true},
    /* the names of MAA's first policies (still accepted by MAA as incoming claims) */
    {"$is-debuggable", "debug", C_COPY, true},
    {"$sgx-mrsigner", "sgx.mrsigner", C_COPY, true},
    {"$sgx-mrenclave", "sgx.mrenclave", C_COPY, true},
    {"$product-id", "sgx.isv_prod_id", C_COPY, true},
    {"$svn", "sgx.isv_svn", C_COPY, true},
};

static const struct map tdx_map[] = {
    {"tdx_mrtd", "tdx.mrtd", C_COPY, true},
    {"tdx_rtmr0", "tdx.rtmr0", C_COPY, true},
    {"tdx_rtmr1", "tdx.rtmr1", C_COPY, true},
    {"tdx_rtmr2", "tdx.rtmr2", C_COPY, true},
    {"tdx_rtmr3", "tdx.rtmr3", C_COPY, true},
    {"tdx_mrconfigid", "tdx.mrconfigid", C_COPY, true},
    {"tdx_mrowner", "tdx.mrowner", C_COPY, true},
    {"tdx_mrownerconfig", "tdx.mrownerconfig", C_COPY, true},
    {"tdx_mrseam", "tdx.mrseam", C_COPY, true},
    {"tdx_mrsignerseam", "tdx.mrsignerseam", C_COPY, true},
    {"tdx_seam_attributes", "tdx.seam_attributes", C_COPY, true},
    {"tdx_td_attributes", "tdx.td_attributes", C_COPY, true},
    {"tdx_td_attributes_debug", "debug", C_COPY, true},
    {"tdx_xfam", "tdx.xfam", C_COPY, true},
    {"tdx_tee_tcb_svn", "tdx.tee_tcb_svn", C_COPY, true},
    {"tdx_report_data", "report_data", C_COPY, true},
    {"attester_tcb_status", "status", C_COPY, true},
    {"dbgstat", "debug", C_DBGSTAT, true},
};

static const struct map snp_map[] = {
    {"x-ms-sevsnpvm-launchmeasurement", "snp.measurement", C_COPY, true},
    {"x-ms-sevsnpvm-hostdata", "snp.host_data", C_COPY, true},
    {"x-ms-sevsnpvm-reportdata", "snp.report_data", C_COPY, true},
    {"x-ms-sevsnpvm-is-debuggable", "debug", C_COPY, true},
    {"x-ms-sevsnpvm-vmpl", "snp.vmpl", C_COPY, true},
    {"x-ms-sevsnpvm-guestsvn", "snp.guest_svn", C_COPY, true},
    {"x-ms-sevsnpvm-familyId", "snp.family_id", C_COPY, true},
    {"x-ms-sevsnpvm-imageId", "snp.image_id", C_COPY, true},
    {"x-ms-sevsnpvm-idkeydigest", "snp.id_key_digest", C_COPY, true},
    {"x-ms-sevsnpvm-authorkeydigest", "snp.author_key_digest", C_COPY, true},
    {"x-ms-sevsnpvm-reportid", "snp.report_id", C_COPY, true},
    {"x-ms-sevsnpvm-smt-allowed", "snp.policy.smt", C_COPY, true},
    {"x-ms-sevsnpvm-migration-allowed", "snp.policy.migrate_ma", C_COPY, true},
    {"x-ms-sevsnpvm-bootloader-svn", "snp.reported_tcb.bootloader", C_COPY, true},
    {"x-ms-sevsnpvm-tee-svn", "snp.reported_tcb.tee", C_COPY, true},
    {"x-ms-sevsnpvm-snpfw-svn", "snp.reported_tcb.snp", C_COPY, true},
    {"x-ms-sevsnpvm-microcode-svn", "snp.reported_tcb.microcode", C_COPY, true},
};

static const struct map *type_map(enum vt_maa_type t, size_t *n)
{
    switch (t) {
    case VT_MAA_TDX:
        *n = sizeof(tdx_map) / sizeof(tdx_map[0]);
        return tdx_map;
    case VT_MAA_SNP:
        *n = sizeof(snp_map) / sizeof(snp_map[0]);
        return snp_map;
    default:
        *n = sizeof(sgx_map) / sizeof(sgx_map[0]);
        return sgx_map;
    }
}

static const char *attestation_type(enum vt_maa_type t)
{
    switch (t) {
    case VT_MAA_TDX:
        return "tdxvm";
    case VT_MAA_SNP:
        return "sevsnpvm";
    default:
        return "sgx"; /* SgxEnclave and OpenEnclave alike */
    }
}

static enum vt_tee expected_tee(enum vt_maa_type t)
{
    return t == VT_MAA_TDX ? VT_TEE_TDX : t == VT_MAA_SNP ? VT_TEE_SEV_SNP : VT_TEE_SGX;
}

static json_t *converted(const struct map *m, json_t *v)
{
    if (m->conv == C_DBGSTAT) {
        return json_string(json_is_true(v) ? "enabled" : "disabled");
    }
    return json_incref(v);
}

/* The service's claims of the evidence (into payload) and the incoming claims (an array). */
static bool map_claims(enum vt_maa_type t, json_t *vc, json_t *payload, json_t *incoming)
{
    size_t n = 0;
    const struct map *m = type_map(t, &n);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(vc, m[i].vt);
        if (v == NULL || json_is_null(v)) {
            continue;
        }
        json_t *c = converted(&m[i], v);
        if (c == NULL) {
            return false;
        }
        if (m[i].maa[0] != '$' && json_object_set(payload, m[i].maa, c) != 0) {
            json_decref(c);
            return false;
        }
        if (m[i].incoming && (json_is_string(c) || json_is_integer(c) || json_is_boolean(c)) &&
            json_array_append_new(incoming, json_pack("{s:s,s:O}", "type", m[i].maa, "value", c)) !=
                0) {
            json_decref(c);
            return false;
        }
        json_decref(c);
    }
    if (t == VT_MAA_SGX || t == VT_MAA_OE) {
        json_array_append_new(incoming, json_pack("{s:s,s:s}", "type", "$tee", "value", "sgx"));
    }
    json_array_append_new(incoming, json_pack("{s:s,s:s}", "type", "x-ms-attestation-type", "value",
                                              attestation_type(t)));
    return true;
}

/* x-ms-sgx-collateral: the SHA-256 (hex) of the quote and of each collateral document used, under
 * MAA's names where veritee's document has one. */
static json_t *sgx_collateral(const uint8_t *quote, size_t n, json_t *vc)
{
    uint8_t h[32];
    char hex[65];
    vt_sha256(quote, n, h);
    vt_hex_encode(h, sizeof(h), hex);
    json_t *o = json_pack("{s:s}", "quotehash", hex);
    json_t *docs = json_object_get(json_object_get(vc, "collateral"), "documents");
    size_t i;
    json_t *doc;
    json_array_foreach(docs, i, doc)
    {
        const char *name = json_string_value(json_object_get(doc, "name"));
        const char *sha = json_string_value(json_object_get(doc, "sha256"));
        if (name == NULL || sha == NULL || o == NULL) {
            continue;
        }
        const char *key = NULL;
        if (strstr(name, "tcb_info") != NULL || strstr(name, "tcbinfo") != NULL ||
            strstr(name, "tcbInfo") != NULL) {
            key = "tcbinfohash";
        } else if (strstr(name, "qe_identity") != NULL || strstr(name, "qeidentity") != NULL ||
                   strstr(name, "enclave_identity") != NULL) {
            key = "qeidhash";
        } else if (strstr(name, "pck_crl") != NULL || strstr(name, "pckcrl") != NULL) {
            key = "pckcrlhash";
        } else if (strstr(name, "root") != NULL && strstr(name, "crl") != NULL) {
            /* the Intel root CA's CRL checks both the TCB info's and the QE identity's
             * signing chain: MAA names it once for each */
            json_object_set_new(o, "tcbinfocrlhash", json_string(sha));
            key = "qeidcrlhash";
        }
        if (key != NULL) {
            json_object_set_new(o, key, json_string(sha));
        }
    }
    return o;
}

/* runtimeData / initTimeData into the token: x-ms-runtime / x-ms-inittime (JSON), and for SGX
 * x-ms-sgx-ehd (Binary runtime data's bytes, base64url). */
static bool data_claims(const struct vt_maa_data *dd, const char *json_name, const char *ehd_name,
                        json_t *payload)
{
    if (dd->type == VT_MAA_DATA_NONE) {
        return true;
    }
    if (dd->type == VT_MAA_DATA_JSON && json_object_set(payload, json_name, dd->json) != 0) {
        return false;
    }
    /* MAA: Binary data is reflected in the enclave held data, JSON data as claims */
    if (ehd_name != NULL && dd->type == VT_MAA_DATA_BINARY) {
        char *b = vt_base64_alloc(dd->data, dd->len, true);
        if (b == NULL || json_object_set_new(payload, ehd_name, json_string(b)) != 0) {
            free(b);
            return false;
        }
        free(b);
    }
    return true;
}

/* A runtimeData JSON's "keys": every member a public JWK (private members refused). */
static bool runtime_keys_ok(const struct vt_maa_data *dd, struct vt_az_error *e)
{
    json_t *keys = dd->type == VT_MAA_DATA_JSON ? json_object_get(dd->json, "keys") : NULL;
    if (keys == NULL) {
        return true;
    }
    if (!json_is_array(keys)) {
        return vt_az_fail(e, 400, "InvalidParameter",
                          "runtimeData.data.keys: expected an array of JSON Web Keys, got %s",
                          json_is_object(keys) ? "an object" : "another type");
    }
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        struct vt_diag d;
        vt_diag_init(&d);
        struct vt_jwk *jwk = NULL;
        if (!json_is_object(k) || vt_jwk_from_json(k, &jwk, &d) != VT_OK) {
            return vt_az_fail(e, 400, "InvalidParameter", "runtimeData.data.keys[%zu]: %s: %s", i,
                              json_is_object(k) ? d.check : "keys",
                              json_is_object(k) ? d.detail : "not a JSON object");
        }
        vt_jwk_free(jwk);
    }
    return true;
}

/* The evidence's own bytes to verify (the SGX quote inside an OE report; an SNP report from the
 * SevSnpVm JSON envelope) and the SNP VEK when given. */
struct evidence_in {
    const uint8_t *bytes;
    size_t len;
    uint8_t *snp_report; /* heap, SevSnpVm JSON form */
    size_t snp_len;
    uint8_t *vek; /* heap DER */
    size_t vek_len;
};

static void evidence_in_cleanup(struct evidence_in *x)
{
    free(x->snp_report);
    free(x->vek);
}

static bool snp_envelope(struct evidence_in *x, const uint8_t *p, size_t n, struct vt_az_error *e)
{
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_maa_snp_envelope_parse(p, n, &x->snp_report, &x->snp_len, &x->vek, &x->vek_len, &d) !=
        VT_OK) {
        return vt_az_fail(e, 400, "InvalidParameter", "%s: %s", d.check, d.detail);
    }
    x->bytes = x->snp_report;
    x->len = x->snp_len;
    return true;
}

static bool evidence_of(const struct vt_maa_attest_req *q, struct evidence_in *x,
                        struct vt_az_error *e)
{
    memset(x, 0, sizeof(*x));
    x->bytes = q->evidence;
    x->len = q->evidence_len;
    if (q->type == VT_MAA_OE) {
        struct vt_diag d;
        vt_diag_init(&d);
        if (vt_maa_oe_report_parse(q->evidence, q->evidence_len, &x->bytes, &x->len, &d) != VT_OK) {
            return vt_az_fail(e, 400, "InvalidParameter", "report: %s: %s", d.check, d.detail);
        }
    } else if (q->type == VT_MAA_SNP && q->evidence_len > 0 && q->evidence[0] == '{') {
        return snp_envelope(x, q->evidence, q->evidence_len, e);
    }
    return true;
}

/* The first 32 bytes of a hex claim, decoded; false if absent or short. */
static bool hex32(json_t *vc, const char *name, uint8_t out[32])
{
    const char *h = json_string_value(json_object_get(vc, name));
    return h != NULL && strlen(h) >= 64 && vt_hex_decode_exact(h, 64, out, 32) == VT_OK;
}

static bool bind_check(const struct vt_maa_attest_req *q, json_t *vc, struct vt_az_error *e)
{
    if (q->runtime.type != VT_MAA_DATA_NONE) {
        uint8_t want[32], rd[32];
        vt_sha256(q->runtime.data, q->runtime.len, want);
        if (!hex32(vc, "report_data", rd)) {
            return vt_az_fail(e, 400, "InvalidParameter",
                              "the evidence has no report data to bind");
        }
        if (!vt_ct_memeq(want, rd, 32)) {
            char wh[65], rh[65];
            vt_hex_encode(want, 32, wh);
            vt_hex_encode(rd, 32, rh);
            return vt_az_fail(
                e, 400, "InvalidParameter",
                "runtimeData does not match the report data: SHA-256 of runtimeData.data "
                "is %s, the first 32 bytes of report data are %s",
                wh, rh);
        }
    }
    if (q->inittime.type != VT_MAA_DATA_NONE) {
        const char *field = q->type == VT_MAA_TDX   ? "tdx.mrconfigid"
                            : q->type == VT_MAA_SNP ? "snp.host_data"
                                                    : "sgx.config_id";
        uint8_t want[32], got[32];
        vt_sha256(q->inittime.data, q->inittime.len, want);
        if (!hex32(vc, field, got) || !vt_ct_memeq(want, got, 32)) {
            char wh[65];
            vt_hex_encode(want, 32, wh);
            return vt_az_fail(
                e, 400, "InvalidParameter",
                "initTimeData does not match the evidence: SHA-256 of initTimeData.data is "
                "%s, the first 32 bytes of %s are %.64s",
                wh, field,
                json_string_value(json_object_get(vc, field))
                    ? json_string_value(json_object_get(vc, field))
                    : "(absent)");
        }
    }
    return true;
}

/* An unsigned JWT ("alg":"none") of payload: a draft policy's token. */
static char *unsigned_jwt(const json_t *payload)
{
    static const char hdr[] = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
    char *body = json_dumps(payload, JSON_COMPACT);
    char *h = vt_base64_alloc((const uint8_t *)hdr, strlen(hdr), true);
    char *b = body ? vt_base64_alloc((const uint8_t *)body, strlen(body), true) : NULL;
    char *out = NULL;
    if (h != NULL && b != NULL && (out = malloc(strlen(h) + strlen(b) + 3)) != NULL) {
        snprintf(out, strlen(h) + strlen(b) + 3, "%s.%s.", h, b);
    }
    free(b);
    free(h);
    free(body);
    return out;
}

/* The policy's issued claims into the token (the service's own claims are never replaced) and
 * into x-ms-policy. */
static void issued_claims(json_t *payload, const json_t *issued)
{
    json_t *pol = json_object();
    size_t i;
    json_t *c;
    json_array_foreach(issued, i, c)
    {
        const char *type = json_string_value(json_object_get(c, "type"));
        json_t *v = json_object_get(c, "value");
        if (type == NULL || v == NULL) {
            continue;
        }
        if (json_object_get(payload, type) == NULL) {
            json_object_set(payload, type, v);
        }
        if (pol != NULL && json_object_get(pol, type) == NULL) {
            json_object_set(pol, type, v);
        }
    }
    if (pol != NULL && json_object_size(pol) > 0) {
        json_object_set(payload, "x-ms-policy", pol);
    }
    json_decref(pol);
}

bool vt_maa_attest(struct vt_maa *m, const struct vt_maa_attest_req *q, char **jwt,
                   struct vt_az_error *e)
{
    *jwt = NULL;
    memset(e, 0, sizeof(*e));
    struct vt_diag d;
    vt_diag_init(&d);
    if (!runtime_keys_ok(&q->runtime, e)) {
        return false;
    }
    struct evidence_in x;
    if (!evidence_of(q, &x, e)) {
        evidence_in_cleanup(&x);
        return false;
    }
    bool ok = true;
    json_t *vc = NULL, *payload = NULL, *incoming = NULL, *signer = NULL;
    struct vt_maa_policy_result pr;
    memset(&pr, 0, sizeof(pr));
    struct vt_evidence ev;
    struct vt_claims claims;
    vt_claims_init(&claims);
    enum vt_err err = vt_broker_evidence_parse(x.bytes, x.len, &ev, &d);
    if (err != VT_OK) {
        ok = vt_az_fail(e, 400, "InvalidParameter", "%s: the evidence does not parse: %s: %s",
                        q->type == VT_MAA_SGX || q->type == VT_MAA_TDX ? "quote" : "report",
                        d.check, d.detail);
        goto out;
    }
    if (ev.tee != expected_tee(q->type)) {
        ok = vt_az_fail(e, 400, "InvalidParameter", "%s takes %s evidence, not %s",
                        vt_maa_type_name(q->type), vt_tee_name(expected_tee(q->type)),
                        vt_tee_name(ev.tee));
        goto out;
    }
    vt_time now = vt_maa_now(m);
    err = vt_broker_appraise(m->b, &ev, x.vek, x.vek_len, now, &claims, &d);
    if (err == VT_E_UPSTREAM) {
        ok = vt_az_fail(e, 503, "ServiceUnavailable", "the collateral cannot be had now: %s: %s",
                        d.check, d.detail);
        goto out;
    }
    if (err != VT_OK) {
        ok = vt_az_fail(e, 400, "InvalidParameter", "the evidence does not verify: %s: %s (%s)",
                        d.check, d.detail, vt_err_name(err));
        goto out;
    }
    char *cj = vt_claims_to_json(&claims);
    vc = cj != NULL ? json_loads(cj, 0, NULL) : NULL;
    free(cj);
    payload = json_object();
    incoming = json_array();
    if (vc == NULL || payload == NULL || incoming == NULL ||
        !map_claims(q->type, vc, payload, incoming)) {
        ok = vt_az_fail(e, 500, "InternalError", "cannot build the claims");
        goto out;
    }
    if (!bind_check(q, vc, e)) {
        ok = false;
        goto out;
    }
    char hash[44];
    err = vt_maa_policy_run(m, q->type, q->draft_policy, incoming, &pr, hash, &signer, &d);
    if (err != VT_OK) {
        ok = q->draft_policy != NULL &&
                     (err == VT_E_MALFORMED || err == VT_E_UNSUPPORTED || err == VT_E_TOO_LARGE)
                 ? vt_az_fail(e, 400, "InvalidParameter", "draftPolicyForAttestation: %s: %s",
                              d.check, d.detail)
                 : vt_az_fail(e, 500, "InternalError", "the attestation policy failed: %s: %s",
                              d.check, d.detail);
        goto out;
    }
    if (!pr.permitted) {
        ok = vt_az_fail(e, 400, "PolicyEvaluationError",
                        "Policy evaluation resulted in a deny decision for %s evidence: %s",
                        vt_maa_type_name(q->type),
                        pr.reason[0] ? pr.reason : "no rule permitted it");
        goto out;
    }
    /* the token */
    char iss[VT_MAA_ISSUER_MAX];
    pthread_mutex_lock(&m->lock);
    snprintf(iss, sizeof(iss), "%s", m->issuer);
    pthread_mutex_unlock(&m->lock);
    uint8_t jti[32];
    char jti_hex[65];
    if (vt_random_bytes(jti, sizeof(jti), &d) != VT_OK) {
        ok = vt_az_fail(e, 500, "InternalError", "no randomness");
        goto out;
    }
    vt_hex_encode(jti, sizeof(jti), jti_hex);
    json_object_set_new(payload, "iss", json_string(iss));
    json_object_set_new(payload, "iat", json_integer(now));
    json_object_set_new(payload, "nbf", json_integer(now));
    json_object_set_new(payload, "exp", json_integer(now + m->token_ttl));
    json_object_set_new(payload, "jti", json_string(jti_hex));
    json_object_set_new(payload, "x-ms-ver", json_string(MAA_VERSION));
    json_object_set_new(payload, "x-ms-attestation-type", json_string(attestation_type(q->type)));
    json_object_set_new(payload, "x-ms-policy-hash", json_string(hash));
    if (signer != NULL) {
        json_object_set(payload, "x-ms-policy-signer", signer);
    }
    if (q->nonce != NULL) {
        json_object_set_new(payload, "nonce", json_string(q->nonce));
    }
    bool sgx = q->type == VT_MAA_SGX || q->type == VT_MAA_OE;
    if (!data_claims(&q->runtime, "x-ms-runtime", sgx ? "x-ms-sgx-ehd" : NULL, payload) ||
        !data_claims(&q->inittime, "x-ms-inittime", NULL, payload)) {
        ok = vt_az_fail(e, 500, "InternalError", "cannot encode the runtime data");
        goto out;
    }
    if (sgx) {
        json_object_set_new(payload, "tee", json_string("sgx"));
        json_object_set_new(payload, "x-ms-sgx-collateral", sgx_collateral(x.bytes, x.len, vc));
        const char *tcbid =
            json_string_value(json_object_get(pr.properties, "x-ms-sgx-tcbidentifier"));
        json_t *num = json_object_get(json_object_get(vc, "collateral"), "tcb_eval_num");
        char tcb[32];
        snprintf(tcb, sizeof(tcb), "%lld",
                 json_is_integer(num) ? (long long)json_integer_value(num) : 0LL);
        json_object_set_new(payload, "x-ms-sgx-tcbidentifier", json_string(tcbid ? tcbid : tcb));
    } else if (q->type == VT_MAA_TDX) {
        json_object_set_new(payload, "eat_profile",
                            json_string("https://aka.ms/maa-eat-profile-tdxvm"));
        json_object_set_new(payload, "intuse", json_string("generic"));
    }
    issued_claims(payload, pr.issued);
    if (q->draft_policy != NULL) {
        *jwt = unsigned_jwt(payload);
        if (*jwt == NULL) {
            ok = vt_az_fail(e, 500, "InternalError", "no memory");
        }
    } else if ((err = vt_maa_sign(m, payload, jwt, &d)) != VT_OK) {
        ok =
            vt_az_fail(e, 500, "InternalError", "cannot sign the token: %s: %s", d.check, d.detail);
    }
out:
    vt_maa_policy_result_cleanup(&pr);
    json_decref(signer);
    json_decref(incoming);
    json_decref(payload);
    json_decref(vc);
    evidence_in_cleanup(&x);
    return ok;
}
