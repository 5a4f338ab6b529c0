/*
 * The Trustee token profile of the KBS (--kbs-token-profile trustee, docs/kbs.md): an EAR shaped
 * as Trustee's attestation service issues it (attestation-service ear_token), so that a Trustee
 * KBS that trusts this broker's JWKS accepts it as a Bearer credential and finds the TEE's key
 * where its token verifier looks (/submods/cpu0/ear.veraison.annotated-evidence/
 * runtime_data_claims/tee-pubkey), and Trustee resource policies that read ear.status and the
 * submodule "cpu0" apply unchanged. It is signed like every token of this broker (ES256, the kid
 * of its JWKS), and this broker accepts it back at /kbs/v0/resource.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "broker/broker.h"

#define TRUSTEE_PROFILE "tag:github.com,2024:confidential-containers/Trustee"
/* The TEE names whose claims a Trustee-profile token may carry (the KBS names of kbs_tees). */
static const char *const tee_names[] = {"tdx", "sgx", "snp"};

/* AR4SI trustworthiness claims (draft-ietf-rats-ar4si): 2 is "affirming" (hardware genuine and
 * supported; configuration approved), 32 "warning" (hardware with known vulnerabilities: a TCB
 * below UpToDate that the attestation policy accepted; configuration unsafe: a debuggable TEE
 * that a policy accepted). Claims this broker does not appraise are not asserted. */
#define AR4SI_AFFIRMING 2
#define AR4SI_WARNING 32

static json_t *hex_string(const uint8_t *p, size_t n)
{
    char h[2 * 64 + 1];
    vt_hex_encode(p, n, h);
    return json_string(h);
}

/* The TEE's init-data field as Trustee's verifiers report it ("init_data"). */
static json_t *init_data_field(const struct vt_claims *c)
{
    if (c->tee == VT_TEE_TDX) {
        return hex_string(c->tdx.mrconfigid, sizeof(c->tdx.mrconfigid));
    }
    if (c->tee == VT_TEE_SEV_SNP) {
        return hex_string(c->snp.host_data, sizeof(c->snp.host_data));
    }
    if (c->tee == VT_TEE_SGX) {
        return hex_string(c->sgx.config_id, sizeof(c->sgx.config_id));
    }
    return json_null();
}

char *vt_broker_trustee_payload(const struct vt_broker *b, const struct vt_broker_trustee_token *t,
                                const struct vt_claims *c, const char *claims_json,
                                const char *policy_sha, const char *jkt, vt_time now, vt_time exp)
{
    int hardware = c->status == VT_TCB_UP_TO_DATE ? AR4SI_AFFIRMING : AR4SI_WARNING;
    int configuration = c->debug ? AR4SI_WARNING : AR4SI_AFFIRMING;
    const char *status =
        hardware == AR4SI_AFFIRMING && configuration == AR4SI_AFFIRMING ? "affirming" : "warning";
    char pol[80];
    snprintf(pol, sizeof(pol), "sha256:%s", policy_sha);
    uint8_t jti_raw[16];
    char jti[33] = "";
    if (vt_random_bytes(jti_raw, sizeof(jti_raw), NULL) == VT_OK) {
        vt_hex_encode(jti_raw, sizeof(jti_raw), jti);
    }
    json_t *claims = json_loads(claims_json, 0, NULL);
    json_t *rd = json_loads(t->runtime_data, 0, NULL);
    json_t *idc = t->init_data_claims ? json_loads(t->init_data_claims, 0, NULL) : json_null();
    json_t *ae = claims && rd && idc ? json_object() : NULL;
    if (ae == NULL || json_object_set_new(ae, t->tee, claims) != 0) {
        json_decref(claims);
        json_decref(rd);
        json_decref(idc);
        json_decref(ae);
        return NULL;
    }
    if (json_object_set_new(ae, "report_data", hex_string(c->report_data, 64)) != 0 ||
        json_object_set_new(ae, "runtime_data_claims", rd) != 0 ||
        json_object_set_new(ae, "init_data", init_data_field(c)) != 0 ||
        json_object_set_new(ae, "init_data_claims", idc) != 0) {
        json_decref(ae);
        return NULL;
    }
    json_t *o = json_pack(
        "{s:s,s:I,s:I,s:s,s:s,s:{s:s,s:s},s:{s:s},s:{s:{s:s,s:{s:i,s:i},s:s,s:o}}}", "eat_profile",
        TRUSTEE_PROFILE, "iat", (json_int_t)now, "exp", (json_int_t)exp, "iss", b->cfg.issuer,
        "jti", jti, "ear.verifier-id", "build", "veritee " VT_VERSION, "developer", "veritee",
        "cnf", "jkt", jkt, "submods", "cpu0", "ear.status", status, "ear.trustworthiness-vector",
        "configuration", configuration, "hardware", hardware, "ear.appraisal-policy-id", pol,
        "ear.veraison.annotated-evidence", ae);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

json_t *vt_broker_trustee_claims(json_t *submod)
{
    json_t *ae = json_object_get(submod, "ear.veraison.annotated-evidence");
    json_t *found = NULL;
    for (size_t i = 0; i < sizeof(tee_names) / sizeof(tee_names[0]); i++) {
        json_t *c = json_object_get(ae, tee_names[i]);
        if (c != NULL) {
            if (found != NULL || !json_is_object(c)) {
                return NULL; /* the claims of one TEE, an object */
            }
            found = c;
        }
    }
    return found;
}
