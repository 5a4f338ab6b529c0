/*
 * Attested TLS (include/veritee/atls.h, docs/attested-tls.md): evidence-carrying certificates
 * made with an attester, verification of either kind of certificate, and the verification
 * context behind the OpenSSL callback.
 *
 * Binding (docs/attested-tls.md "Formats"): the report data the evidence carries is computed
 * from the certificate's SubjectPublicKeyInfo (SPKI, DER) as the format's reference does:
 *   RA-TLS (SGX, TDX): SHA-256(SPKI) then 32 zero bytes (Gramine);
 *   Open Enclave:      SHA-256(public key PEM with its terminating NUL) then 32 zero bytes (OE's
 *                      tls code hashes mbedTLS's PEM, strlen + 1);
 *   CMW, SEV-SNP:      SHA-512(SPKI), all 64 bytes;
 *   CMW, Nitro:        the document's public_key is the SPKI itself.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <veritee/atls.h>
#include <veritee/attester.h>
#include <veritee/policy.h>
#include <veritee/verifier.h>

#include "base/encoding.h"
#include "base/pincache.h"
#include "crypto/crypto.h"
#include "crypto/x509_make.h"
#include "verify/atls_format.h"

#define ATLS_CERT_MAX (96u * 1024u)
#define ATLS_KEY_MAX (16u * 1024u)
#define ATLS_SPKI_MAX 4096u
#define ATLS_EVIDENCE_MAX (64u * 1024u)
#define ATLS_CACHE_SLOTS 256u
#define ATLS_DEFAULT_VALIDITY 86400
#define ATLS_DEFAULT_MAX_AGE 300

static const char *const format_names[] = {"none", "ratls-sgx", "ratls-tdx", "oe", "cmw", "broker"};

const char *vt_atls_format_name(enum vt_atls_format f)
{
    if ((int)f < 0 || (size_t)f >= sizeof(format_names) / sizeof(format_names[0])) {
        return "none";
    }
    return format_names[f];
}

enum vt_atls_format vt_atls_format_parse(const char *name)
{
    for (size_t i = 1; name != NULL && i < sizeof(format_names) / sizeof(format_names[0]); i++) {
        if (strcmp(name, format_names[i]) == 0) {
            return (enum vt_atls_format)i;
        }
    }
    return VT_ATLS_NONE;
}

/* ---- binding ---- */

/* The 64 bytes of report data format f puts in the evidence for the certificate's key. */
static enum vt_err expected_report_data(enum vt_atls_format f, enum vt_tee tee, const uint8_t *spki,
                                        size_t spki_len, const char *pem, size_t pem_len,
                                        uint8_t rd[64])
{
    memset(rd, 0, 64);
    if (f == VT_ATLS_RATLS_SGX || f == VT_ATLS_RATLS_TDX) {
        vt_sha256(spki, spki_len, rd);
        return VT_OK;
    }
    if (f == VT_ATLS_OE) {
        /* the PEM and its terminating NUL, as OE hashes it */
        vt_sha256(pem, pem_len + 1, rd);
        return VT_OK;
    }
    if (f == VT_ATLS_CMW && tee == VT_TEE_SEV_SNP) {
        vt_sha512(spki, spki_len, rd);
        return VT_OK;
    }
    return VT_E_ARG;
}

/* ---- making a certificate ---- */

static enum vt_atls_format default_format(enum vt_tee tee)
{
    switch (tee) {
    case VT_TEE_SGX:
        return VT_ATLS_RATLS_SGX;
    case VT_TEE_TDX:
        return VT_ATLS_RATLS_TDX;
    case VT_TEE_SEV_SNP:
    case VT_TEE_NITRO:
        return VT_ATLS_CMW;
    default:
        return VT_ATLS_NONE;
    }
}

static bool format_fits(enum vt_atls_format f, enum vt_tee tee)
{
    switch (f) {
    case VT_ATLS_RATLS_SGX:
    case VT_ATLS_OE:
        return tee == VT_TEE_SGX;
    case VT_ATLS_RATLS_TDX:
        return tee == VT_TEE_TDX;
    case VT_ATLS_CMW:
        return tee == VT_TEE_SEV_SNP || tee == VT_TEE_NITRO;
    default:
        return false;
    }
}

static const char *format_oid(enum vt_atls_format f)
{
    switch (f) {
    case VT_ATLS_RATLS_SGX:
        return VT_ATLS_OID_SGX_QUOTE;
    case VT_ATLS_RATLS_TDX:
        return VT_ATLS_OID_TDX_QUOTE;
    case VT_ATLS_OE:
        return VT_ATLS_OID_OE_REPORT;
    case VT_ATLS_CMW:
        return VT_ATLS_OID_CMW;
    default:
        return VT_ATLS_OID_BROKER;
    }
}

struct make_state {
    struct vt_key *key;
    struct vt_buf spki, pem, evidence, aux, ext, cert, keypem;
    struct vt_cert *parsed;
};

static void make_cleanup(struct make_state *m)
{
    vt_key_free(m->key);
    vt_buf_cleanup(&m->spki);
    vt_buf_cleanup(&m->pem);
    vt_buf_cleanup(&m->evidence);
    vt_buf_cleanup(&m->aux);
    vt_buf_cleanup(&m->ext);
    vt_buf_cleanup(&m->cert);
    vt_buf_cleanup(&m->keypem);
    vt_cert_free(m->parsed);
}

static enum vt_err make_cert(struct vt_attester *a, const struct vt_atls_cert_opts *o,
                             enum vt_atls_format f, enum vt_tee tee, struct make_state *m,
                             struct vt_diag *d)
{
    VT_TRY(vt_x509_key_generate(o->key_type, &m->key, d));
    VT_TRY(vt_key_spki_der(m->key, &m->spki, d));
    struct vt_attester_input in;
    memset(&in, 0, sizeof(in));
    if (f == VT_ATLS_OE) {
        /* OE hashes the PEM of the key as it appears in the certificate: write the PEM from a
         * parse of the SPKI, the same path the verifier takes */
        struct vt_x509_template t = {.common_name = "x", .not_before = 0, .not_after = 1};
        VT_TRY(vt_x509_self_signed(m->key, &t, &m->cert, d));
        struct vt_cert_list l;
        vt_cert_list_init(&l);
        enum vt_err err = vt_cert_list_from_pem((const char *)m->cert.data, m->cert.len, &l, d);
        if (err == VT_OK) {
            err = vt_cert_pubkey_pem(l.certs[0], &m->pem, d);
        }
        vt_cert_list_cleanup(&l);
        m->cert.len = 0;
        VT_TRY(err);
    }
    if (tee == VT_TEE_NITRO) {
        VT_ENSURE(m->spki.len <= VT_NSM_FIELD_MAX, d, VT_E_ARG, "atls.create",
                  "the %zu-byte public key exceeds Nitro's public_key limit %u", m->spki.len,
                  VT_NSM_FIELD_MAX);
        in.public_key = m->spki.data;
        in.public_key_len = m->spki.len;
    } else {
        VT_TRY(expected_report_data(f, tee, m->spki.data, m->spki.len, (const char *)m->pem.data,
                                    m->pem.len, in.report_data));
    }
    VT_TRY(vt_attester_evidence(a, &in, &m->evidence, &m->aux, d));
    VT_TRY(vt_atls_ext_write(f, tee, m->evidence.data, m->evidence.len, m->aux.data, m->aux.len,
                             &m->ext, d));
    vt_time nb = o->not_before != 0 ? o->not_before : vt_time_now();
    int64_t validity = o->validity_seconds != 0 ? o->validity_seconds : ATLS_DEFAULT_VALIDITY;
    VT_ENSURE(validity > 0 && validity <= 10LL * 366 * 86400, d, VT_E_ARG, "atls.create",
              "validity %lld seconds, expected 1 to ten years", (long long)validity);
    struct vt_x509_ext ext = {
        .oid = format_oid(f), .critical = false, .value = m->ext.data, .value_len = m->ext.len};
    struct vt_x509_template t = {
        .common_name = o->common_name != NULL ? o->common_name : "veritee attested TLS",
        .dns = o->dns,
        .n_dns = o->n_dns,
        .not_before = nb,
        .not_after = nb + validity,
        .exts = &ext,
        .n_exts = 1,
    };
    VT_TRY(vt_x509_self_signed(m->key, &t, &m->cert, d));
    return vt_key_private_pem(m->key, &m->keypem, d);
}

enum vt_err vt_atls_cert_create(struct vt_attester *a, const struct vt_atls_cert_opts *o,
                                struct vt_buf *cert_pem, struct vt_buf *key_pem, struct vt_diag *d)
{
    VT_ENSURE(a != NULL && o != NULL && cert_pem != NULL && key_pem != NULL, d, VT_E_ARG,
              "atls.create", "an attester, options and outputs are needed");
    VT_ENSURE(o->n_dns == 0 || o->dns != NULL, d, VT_E_ARG, "atls.create",
              "%zu DNS names but no list", o->n_dns);
    enum vt_tee tee = vt_attester_tee(a);
    enum vt_atls_format f = o->format != VT_ATLS_NONE ? o->format : default_format(tee);
    VT_ENSURE(format_fits(f, tee), d, VT_E_ARG, "atls.format",
              "format %s cannot carry evidence of the attester's TEE %s (backend %s)",
              vt_atls_format_name(f), vt_tee_name(tee), vt_attester_backend(a));
    struct make_state m;
    memset(&m, 0, sizeof(m));
    vt_buf_init(&m.spki, ATLS_SPKI_MAX);
    vt_buf_init(&m.pem, ATLS_SPKI_MAX * 2);
    vt_buf_init(&m.evidence, ATLS_EVIDENCE_MAX);
    vt_buf_init(&m.aux, ATLS_EVIDENCE_MAX);
    vt_buf_init(&m.ext, VT_ATLS_EXT_MAX);
    vt_buf_init(&m.cert, ATLS_CERT_MAX);
    vt_buf_init(&m.keypem, ATLS_KEY_MAX);
    enum vt_err err = make_cert(a, o, f, tee, &m, d);
    if (err == VT_OK) {
        err = vt_buf_append(cert_pem, m.cert.data, m.cert.len);
        if (err == VT_OK) {
            err = vt_buf_append(key_pem, m.keypem.data, m.keypem.len);
        }
        if (err != VT_OK) {
            vt_fail(d, err, "atls.create", "cannot hold the certificate and key");
        }
    }
    make_cleanup(&m);
    return err;
}

/* ---- verifying ---- */

struct found_ext {
    enum vt_atls_format format;
    char oid[128];
    const uint8_t *val;
    size_t len;
};

/* The one attestation extension of c. */
static enum vt_err find_extension(const struct vt_cert *c, struct found_ext *out, struct vt_diag *d)
{
    size_t n = vt_cert_ext_count(c), found = 0;
    char first[128] = "";
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        char oid[128];
        bool critical = false;
        const uint8_t *val = NULL;
        size_t len = 0;
        if (vt_cert_ext_at(c, i, oid, sizeof(oid), &critical, &val, &len) != VT_OK) {
            continue;
        }
        bool unsupported = false;
        enum vt_atls_format f = vt_atls_oid_format(oid, &unsupported);
        if (f == VT_ATLS_NONE) {
            continue;
        }
        found++;
        VT_ENSURE(found == 1, d, VT_E_CERT_EXTENSION, "atls.extension",
                  "two attestation extensions: %s and %s; exactly one is accepted", first, oid);
        snprintf(first, sizeof(first), "%s", oid);
        VT_ENSURE(!unsupported, d, VT_E_UNSUPPORTED, "atls.extension",
                  "attestation extension %s is recognised but not supported (docs/"
                  "attested-tls.md)",
                  oid);
        out->format = f;
        snprintf(out->oid, sizeof(out->oid), "%s", oid);
        out->val = val;
        out->len = len;
    }
    VT_ENSURE(found == 1, d, VT_E_CERT_EXTENSION, "atls.extension",
              "no attestation extension among the certificate's %zu extensions (RA-TLS %s or %s, "
              "OE %s, CMW %s, broker %s)",
              n, VT_ATLS_OID_SGX_QUOTE, VT_ATLS_OID_TDX_QUOTE, VT_ATLS_OID_OE_REPORT,
              VT_ATLS_OID_CMW, VT_ATLS_OID_BROKER);
    return VT_OK;
}

/* ": claim C OP EXPECTED, actual A" for the first failed claim test of an explanation. */
static void first_failed_rule(const char *explanation, char *out, size_t cap)
{
    json_t *a = explanation != NULL ? json_loads(explanation, 0, NULL) : NULL;
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e)
    {
        json_t *claim = json_object_get(e, "claim");
        if (!json_is_false(json_object_get(e, "outcome")) || !json_is_string(claim)) {
            continue;
        }
        char *exp = json_dumps(json_object_get(e, "expected"), JSON_COMPACT | JSON_ENCODE_ANY);
        char *act = json_dumps(json_object_get(e, "actual"), JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(out, cap, ": claim %s %s %.100s, actual %.100s", json_string_value(claim),
                 json_string_value(json_object_get(e, "op")) != NULL
                     ? json_string_value(json_object_get(e, "op"))
                     : "?",
                 exp != NULL ? exp : "null", act != NULL ? act : "absent");
        free(exp);
        free(act);
        break;
    }
    json_decref(a);
}

static enum vt_err check_policy_claims(const struct vt_policy *p, const struct vt_claims *c,
                                       const char *json, struct vt_diag *d)
{
    if (p == NULL) {
        return VT_OK;
    }
    struct vt_policy_result r;
    memset(&r, 0, sizeof(r));
    enum vt_err err = c != NULL ? vt_policy_eval_claims(p, c, &r, d)
                                : vt_policy_eval(p, json, strlen(json), &r, d);
    if (err != VT_OK) {
        vt_policy_result_cleanup(&r);
        return err;
    }
    bool allowed = r.allowed;
    if (!allowed) {
        char rule[300] = "";
        first_failed_rule(r.explanation, rule, sizeof(rule));
        vt_fail(d, VT_E_BINDING, "atls.policy", "the policy denied the claims at %s%s", r.reason,
                rule);
    }
    vt_policy_result_cleanup(&r);
    return allowed ? VT_OK : VT_E_BINDING;
}

struct verify_state {
    struct vt_cert *cert;
    struct vt_buf spki, pem;
    struct vt_claims *claims;
    char *json;
    json_t *root;
    struct vt_cert_list chain;
};

static enum vt_err verify_evidence(struct vt_verifier *v, const struct found_ext *ext,
                                   const struct vt_atls_verify_opts *o, struct verify_state *s,
                                   struct vt_diag *d)
{
    VT_ENSURE(v != NULL, d, VT_E_ARG, "atls.verify", "no verifier for an evidence certificate");
    struct vt_atls_evidence ev;
    VT_TRY(vt_atls_ext_read(ext->format, ext->val, ext->len, &ev, d));
    /* the holder of the key signed the certificate: its validity and extension are its own */
    enum vt_err err = vt_cert_check_signed_by(s->cert, s->cert, d);
    if (err != VT_OK) {
        if (d != NULL) {
            snprintf(d->check, sizeof(d->check), "atls.signature");
        }
        return err;
    }
    VT_TRY(vt_cert_spki(s->cert, &s->spki, d));
    if (ext->format == VT_ATLS_OE) {
        VT_TRY(vt_cert_pubkey_pem(s->cert, &s->pem, d));
    }
    s->claims = malloc(sizeof(*s->claims));
    VT_ENSURE(s->claims != NULL, d, VT_E_NOMEM, "atls.verify", "no memory for the claims");
    vt_claims_init(s->claims);
    struct vt_verify_opts vo = {.now = o->now, .vek = ev.vcek, .vek_len = ev.vcek_len};
    enum vt_evidence_kind kind = vt_evidence_detect(ev.evidence, ev.evidence_len);
    if (ext->format == VT_ATLS_CMW) {
        enum vt_evidence_kind want =
            ev.tee == VT_TEE_SEV_SNP ? VT_EVIDENCE_SNP_REPORT : VT_EVIDENCE_NITRO_DOC;
        VT_ENSURE(kind == want, d, VT_E_UNKNOWN_EVIDENCE, "atls.cmw.evidence",
                  "the %s record holds %s evidence",
                  ev.tee == VT_TEE_SEV_SNP ? "snp-report" : "nitro-document",
                  vt_evidence_kind_name(kind));
    } else {
        VT_ENSURE(kind == VT_EVIDENCE_DCAP_QUOTE, d, VT_E_UNKNOWN_EVIDENCE,
                  ext->format == VT_ATLS_OE ? "atls.oe.quote" : "atls.ratls.quote",
                  "the extension holds %s evidence, expected a DCAP quote",
                  vt_evidence_kind_name(kind));
    }
    VT_TRY(vt_verify(v, ev.evidence, ev.evidence_len, &vo, s->claims, d));
    enum vt_tee tee = s->claims->tee;
    enum vt_tee want_tee = ext->format == VT_ATLS_RATLS_TDX ? VT_TEE_TDX
                           : ext->format == VT_ATLS_CMW     ? ev.tee
                                                            : VT_TEE_SGX;
    VT_ENSURE(tee == want_tee, d, VT_E_UNSUPPORTED_TEE, "atls.tee",
              "extension %s (%s) carries %s evidence, expected %s", ext->oid,
              vt_atls_format_name(ext->format), vt_tee_name(tee), vt_tee_name(want_tee));
    if (tee == VT_TEE_NITRO) {
        const struct vt_binding_claim *pk = &s->claims->public_key;
        uint8_t want[VT_SHA256_LEN], got[VT_SHA256_LEN];
        char want_hex[2 * VT_SHA256_LEN + 1], got_hex[2 * VT_SHA256_LEN + 1];
        vt_sha256(s->spki.data, s->spki.len, want);
        vt_sha256(pk->data, pk->present ? pk->len : 0, got);
        vt_hex_encode(want, sizeof(want), want_hex);
        vt_hex_encode(got, sizeof(got), got_hex);
        VT_ENSURE(pk->present && pk->len == s->spki.len &&
                      memcmp(pk->data, s->spki.data, pk->len) == 0,
                  d, VT_E_BINDING, "atls.binding",
                  "the document's public_key (%s, SHA-256 %s) is not the certificate's "
                  "SubjectPublicKeyInfo (SHA-256 %s)",
                  pk->present ? "present" : "absent", got_hex, want_hex);
        return VT_OK;
    }
    uint8_t rd[64];
    VT_TRY(expected_report_data(ext->format, tee, s->spki.data, s->spki.len,
                                (const char *)s->pem.data, s->pem.len, rd));
    if (memcmp(rd, s->claims->report_data, 64) != 0) {
        char want_hex[129], got_hex[129];
        vt_hex_encode(rd, 64, want_hex);
        vt_hex_encode(s->claims->report_data, 64, got_hex);
        return vt_fail(d, VT_E_BINDING, "atls.binding",
                       "report data %s does not bind the certificate's key: expected %s (%s)",
                       got_hex, want_hex,
                       ext->format == VT_ATLS_OE    ? "SHA-256 of the key's PEM and NUL"
                       : ext->format == VT_ATLS_CMW ? "SHA-512 of the SPKI"
                                                    : "SHA-256 of the SPKI, zeros");
    }
    return VT_OK;
}

static enum vt_err broker_chain(const struct vt_atls_verify_opts *o, struct verify_state *s,
                                struct vt_diag *d)
{
    const struct vt_cert_list *cas = o->broker_cas;
    char issuer[256];
    vt_cert_issuer_text(s->cert, issuer, sizeof(issuer));
    VT_ENSURE(cas != NULL && cas->n > 0, d, VT_E_UNTRUSTED_ROOT, "atls.broker",
              "a broker certificate (issuer %s) but no broker CA is trusted", issuer);
    const struct vt_cert *ca = NULL;
    for (size_t i = 0; i < cas->n && ca == NULL; i++) {
        if (vt_cert_issuer_is(s->cert, cas->certs[i])) {
            ca = cas->certs[i];
        }
    }
    VT_ENSURE(ca != NULL, d, VT_E_UNTRUSTED_ROOT, "atls.broker",
              "issuer %s is none of the %zu trusted broker CAs", issuer, cas->n);
    vt_cert_list_init(&s->chain);
    VT_TRY(vt_cert_list_add(&s->chain, s->cert));
    VT_TRY(vt_cert_list_add(&s->chain, (struct vt_cert *)ca));
    enum vt_err err = vt_chain_verify(&s->chain, cas, o->now, VT_TIME_STRICT, "atls.broker", d);
    if (err != VT_OK && d != NULL) {
        snprintf(d->check, sizeof(d->check), "atls.broker");
    }
    return err;
}

static bool is_hex_of(json_t *v, size_t n)
{
    return json_is_string(v) && json_string_length(v) == 2 * n &&
           vt_is_hex(json_string_value(v), 2 * n);
}

static enum vt_err verify_broker(const struct found_ext *ext, const struct vt_atls_verify_opts *o,
                                 struct verify_state *s, struct vt_diag *d)
{
    VT_TRY(broker_chain(o, s, d));
    char *text = NULL;
    size_t text_len = 0;
    VT_TRY(vt_atls_broker_ext_text(ext->val, ext->len, &text, &text_len, d));
    json_error_t je;
    s->root = json_loadb(text, text_len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    VT_ENSURE(s->root != NULL, d, VT_E_BAD_JSON, "atls.broker.json",
              "the appraisal is not JSON: %s (line %d, column %d)", je.text, je.line, je.column);
    VT_ENSURE(json_is_object(s->root), d, VT_E_BAD_JSON, "atls.broker.json",
              "the appraisal is not a JSON object");
    const char *key;
    json_t *val;
    json_object_foreach(s->root, key, val)
    {
        VT_ENSURE(strcmp(key, "v") == 0 || strcmp(key, "claims") == 0 || strcmp(key, "ear") == 0 ||
                      strcmp(key, "policy") == 0 || strcmp(key, "policy_digest") == 0 ||
                      strcmp(key, "log_index") == 0,
                  d, VT_E_BAD_FIELD, "atls.broker.member", "unknown member \"%.64s\"", key);
    }
    json_t *v = json_object_get(s->root, "v");
    VT_ENSURE(v != NULL, d, VT_E_MISSING_FIELD, "atls.broker.v", "no \"v\"");
    VT_ENSURE(json_is_integer(v) && json_integer_value(v) == 1, d, VT_E_UNSUPPORTED_VERSION,
              "atls.broker.v", "\"v\" is not 1");
    json_t *ear = json_object_get(s->root, "ear");
    VT_ENSURE(ear != NULL, d, VT_E_MISSING_FIELD, "atls.broker.ear", "no \"ear\"");
    VT_ENSURE(json_is_string(ear) && json_string_length(ear) > 0, d, VT_E_BAD_FIELD,
              "atls.broker.ear", "\"ear\" is not a non-empty string");
    json_t *li = json_object_get(s->root, "log_index");
    VT_ENSURE(li != NULL, d, VT_E_MISSING_FIELD, "atls.broker.log_index", "no \"log_index\"");
    VT_ENSURE(json_is_integer(li) && json_integer_value(li) >= 0, d, VT_E_BAD_FIELD,
              "atls.broker.log_index", "\"log_index\" is not a non-negative integer");
    json_t *pol = json_object_get(s->root, "policy");
    json_t *pd = json_object_get(s->root, "policy_digest");
    VT_ENSURE(pol == NULL || json_is_string(pol), d, VT_E_BAD_FIELD, "atls.broker.policy",
              "\"policy\" is not a string");
    VT_ENSURE(pd == NULL || is_hex_of(pd, VT_SHA256_LEN), d, VT_E_BAD_FIELD,
              "atls.broker.policy_digest", "\"policy_digest\" is not 64 hex digits");
    VT_ENSURE((pol == NULL) == (pd == NULL), d, VT_E_MISSING_FIELD, "atls.broker.policy",
              "\"policy\" and \"policy_digest\" come together");
    json_t *claims = json_object_get(s->root, "claims");
    VT_ENSURE(claims != NULL, d, VT_E_MISSING_FIELD, "atls.broker.claims", "no \"claims\"");
    VT_ENSURE(json_is_object(claims), d, VT_E_BAD_FIELD, "atls.broker.claims",
              "\"claims\" is not an object");
    s->json = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
    VT_ENSURE(s->json != NULL, d, VT_E_NOMEM, "atls.broker.claims", "no memory");
    struct vt_diag cd;
    vt_diag_init(&cd);
    if (vt_policy_claims_check(s->json, strlen(s->json), &cd) != VT_OK) {
        return vt_fail(d, cd.code, "atls.broker.claims", "claim %s: %s", cd.check, cd.detail);
    }
    return VT_OK;
}

static void verify_cleanup(struct verify_state *s)
{
    vt_cert_free(s->cert);
    vt_buf_cleanup(&s->spki);
    vt_buf_cleanup(&s->pem);
    free(s->claims);
    free(s->json);
    json_decref(s->root);
    vt_cert_list_cleanup(&s->chain);
}

/* vt_atls_verify_cert, also giving the time until which an acceptance may be reused. */
static enum vt_err verify_cert(struct vt_verifier *v, const uint8_t *der, size_t len,
                               const struct vt_atls_verify_opts *o, char **claims_json,
                               enum vt_atls_format *format, vt_time *reuse_until, struct vt_diag *d)
{
    if (claims_json != NULL) {
        *claims_json = NULL;
    }
    if (format != NULL) {
        *format = VT_ATLS_NONE;
    }
    VT_ENSURE(der != NULL && len > 0 && o != NULL && claims_json != NULL, d, VT_E_ARG,
              "atls.verify", "a certificate, options and an output are needed");
    VT_ENSURE(len <= ATLS_CERT_MAX, d, VT_E_TOO_LARGE, "atls.cert",
              "a %zu-byte certificate, at most %u", len, ATLS_CERT_MAX);
    struct verify_state s;
    memset(&s, 0, sizeof(s));
    vt_buf_init(&s.spki, ATLS_SPKI_MAX);
    vt_buf_init(&s.pem, ATLS_SPKI_MAX * 2);
    vt_cert_list_init(&s.chain);
    enum vt_err err = vt_cert_from_der(der, len, &s.cert, d);
    if (err != VT_OK && d != NULL) {
        snprintf(d->check, sizeof(d->check), "atls.cert");
    }
    if (err == VT_OK) {
        vt_time nb = vt_cert_not_before(s.cert), na = vt_cert_not_after(s.cert);
        char a[VT_TIME_STR_MAX], b[VT_TIME_STR_MAX], n[VT_TIME_STR_MAX];
        vt_time_format(nb, a);
        vt_time_format(na, b);
        vt_time_format(o->now, n);
        if (o->now < nb) {
            err = vt_fail(d, VT_E_NOT_YET_VALID, "atls.validity",
                          "the certificate is valid from %s, the time is %s", a, n);
        } else if (o->now > na) {
            err = vt_fail(d, VT_E_EXPIRED, "atls.validity",
                          "the certificate expired at %s, the time is %s", b, n);
        }
        if (reuse_until != NULL) {
            *reuse_until = na;
        }
    }
    struct found_ext ext;
    if (err == VT_OK) {
        err = find_extension(s.cert, &ext, d);
    }
    if (err == VT_OK && ext.format == VT_ATLS_BROKER) {
        err = verify_broker(&ext, o, &s, d);
        if (err == VT_OK) {
            err = check_policy_claims(o->policy, NULL, s.json, d);
        }
    } else if (err == VT_OK) {
        err = verify_evidence(v, &ext, o, &s, d);
        if (err == VT_OK) {
            err = check_policy_claims(o->policy, s.claims, NULL, d);
        }
        if (err == VT_OK) {
            s.json = vt_claims_to_json(s.claims);
            if (s.json == NULL) {
                err = vt_fail(d, VT_E_NOMEM, "atls.verify", "no memory for the claims JSON");
            }
        }
        if (err == VT_OK && reuse_until != NULL && s.claims->collateral.earliest_expiry != 0 &&
            s.claims->collateral.earliest_expiry < *reuse_until) {
            *reuse_until = s.claims->collateral.earliest_expiry;
        }
    }
    if (err == VT_OK) {
        *claims_json = s.json;
        s.json = NULL;
        if (format != NULL) {
            *format = ext.format;
        }
    }
    verify_cleanup(&s);
    return err;
}

enum vt_err vt_atls_verify_cert(struct vt_verifier *v, const uint8_t *der, size_t len,
                                const struct vt_atls_verify_opts *o, char **claims_json,
                                enum vt_atls_format *format, struct vt_diag *d)
{
    return verify_cert(v, der, len, o, claims_json, format, NULL, d);
}

/* ---- the TLS context ---- */

struct atls_entry {
    char *claims_json;
    enum vt_atls_format format;
    vt_time not_before; /* the certificate's */
    vt_time until;      /* reuse while now <= until */
};

struct vt_atls_ctx {
    struct vt_verifier *v;
    struct vt_atls_verify_opts o;
    int64_t max_age;
    uint64_t id;
    struct vt_pincache cache;
    _Atomic uint64_t hits, misses;
};

/* The last outcome on a thread (thread-specific data, freed when the thread ends). */
struct atls_last {
    uint64_t ctx_id;
    enum vt_err err;
    struct vt_diag d;
    char *claims_json;
};

static pthread_key_t last_key;
static pthread_once_t last_once = PTHREAD_ONCE_INIT;
static bool last_key_ok;
static _Atomic uint64_t next_ctx_id = 1;

static void last_free(void *p)
{
    struct atls_last *l = p;
    if (l != NULL) {
        free(l->claims_json);
        free(l);
    }
}

static void last_init(void)
{
    last_key_ok = pthread_key_create(&last_key, last_free) == 0;
}

static struct atls_last *last_get(bool create)
{
    (void)pthread_once(&last_once, last_init);
    if (!last_key_ok) {
        return NULL;
    }
    struct atls_last *l = pthread_getspecific(last_key);
    if (l == NULL && create) {
        l = calloc(1, sizeof(*l));
        if (l != NULL && pthread_setspecific(last_key, l) != 0) {
            free(l);
            l = NULL;
        }
    }
    return l;
}

static void entry_free(void *p)
{
    struct atls_entry *e = p;
    free(e->claims_json);
    free(e);
}

static bool entry_fresh(const void *p, void *ctx)
{
    const struct atls_entry *e = p;
    vt_time now = *(const vt_time *)ctx;
    return now >= e->not_before && now <= e->until;
}

enum vt_err vt_atls_ctx_new(struct vt_verifier *v, const struct vt_atls_verify_opts *o,
                            int64_t max_age, struct vt_atls_ctx **out, struct vt_diag *d)
{
    VT_ENSURE(o != NULL && out != NULL && max_age >= 0, d, VT_E_ARG, "atls.ctx",
              "options and an output are needed, max_age >= 0 (got %lld)", (long long)max_age);
    *out = NULL;
    struct vt_atls_ctx *c = calloc(1, sizeof(*c));
    VT_ENSURE(c != NULL, d, VT_E_NOMEM, "atls.ctx", "no memory");
    c->v = v;
    c->o = *o;
    c->max_age = max_age != 0 ? max_age : ATLS_DEFAULT_MAX_AGE;
    c->id = atomic_fetch_add(&next_ctx_id, 1);
    if (vt_pincache_init(&c->cache, ATLS_CACHE_SLOTS, entry_free) != VT_OK) {
        free(c);
        return vt_fail(d, VT_E_NOMEM, "atls.ctx", "no memory for the cache");
    }
    *out = c;
    return VT_OK;
}

void vt_atls_ctx_free(struct vt_atls_ctx *c)
{
    if (c == NULL) {
        return;
    }
    struct atls_last *l = last_get(false);
    if (l != NULL && l->ctx_id == c->id) {
        free(l->claims_json);
        l->claims_json = NULL;
        l->ctx_id = 0;
    }
    vt_pincache_cleanup(&c->cache);
    free(c);
}

void vt_atls_ctx_stats(const struct vt_atls_ctx *c, uint64_t *hits, uint64_t *misses)
{
    if (hits != NULL) {
        *hits = c != NULL ? atomic_load(&c->hits) : 0;
    }
    if (misses != NULL) {
        *misses = c != NULL ? atomic_load(&c->misses) : 0;
    }
}

static void last_set(const struct vt_atls_ctx *c, enum vt_err err, const struct vt_diag *d,
                     const char *claims)
{
    struct atls_last *l = last_get(true);
    if (l == NULL) {
        return;
    }
    free(l->claims_json);
    l->claims_json = claims != NULL ? strdup(claims) : NULL;
    l->ctx_id = c->id;
    l->err = err;
    l->d = *d;
}

enum vt_err vt_atls_ctx_verify_der(struct vt_atls_ctx *c, const uint8_t *der, size_t len,
                                   vt_time now, struct vt_diag *d)
{
    struct vt_diag local;
    vt_diag_init(&local);
    VT_ENSURE(c != NULL && der != NULL, d, VT_E_ARG, "atls.ctx", "no context or certificate");
    uint8_t id[VT_PINCACHE_ID_LEN];
    vt_sha256(der, len, id);
    struct vt_pin pin;
    const struct atls_entry *e = vt_pincache_get(&c->cache, id, entry_fresh, &now, &pin);
    if (e != NULL) {
        atomic_fetch_add(&c->hits, 1);
        last_set(c, VT_OK, &local, e->claims_json);
        vt_pincache_release(&c->cache, &pin);
        if (d != NULL) {
            *d = local;
        }
        return VT_OK;
    }
    atomic_fetch_add(&c->misses, 1);
    struct vt_atls_verify_opts o = c->o;
    o.now = now;
    char *claims = NULL;
    enum vt_atls_format f = VT_ATLS_NONE;
    vt_time until = 0;
    enum vt_err err = verify_cert(c->v, der, len, &o, &claims, &f, &until, &local);
    if (err == VT_OK) {
        struct atls_entry *ne = calloc(1, sizeof(*ne));
        char *copy = strdup(claims);
        if (ne != NULL && copy != NULL) {
            ne->claims_json = copy;
            ne->format = f;
            ne->not_before = now;
            ne->until = until < now + c->max_age ? until : now + c->max_age;
            /* the clock may step back: an entry is used only from its insertion time on */
            struct vt_pin p2;
            (void)vt_pincache_put(&c->cache, id, ne, entry_fresh, &now, &p2);
            vt_pincache_release(&c->cache, &p2);
        } else {
            free(ne);
            free(copy);
        }
    }
    last_set(c, err, &local, claims);
    free(claims);
    if (d != NULL) {
        *d = local;
    }
    return err;
}

int vt_atls_verify_callback(struct x509_store_ctx_st *store, void *arg)
{
    struct vt_atls_ctx *c = arg;
    struct vt_diag d;
    vt_diag_init(&d);
    if (c == NULL) {
        vt_x509_store_refuse(store);
        return 0;
    }
    struct vt_buf der;
    vt_buf_init(&der, ATLS_CERT_MAX);
    enum vt_err err = vt_x509_store_leaf(store, &der, &d);
    if (err == VT_OK) {
        vt_time now = c->o.now != 0 ? c->o.now : vt_time_now();
        err = vt_atls_ctx_verify_der(c, der.data, der.len, now, &d);
    } else {
        last_set(c, err, &d, NULL);
    }
    vt_buf_cleanup(&der);
    if (err != VT_OK) {
        vt_x509_store_refuse(store);
        return 0;
    }
    return 1;
}

enum vt_err vt_atls_ctx_last(const struct vt_atls_ctx *c, struct vt_diag *d, char **claims_json)
{
    if (claims_json != NULL) {
        *claims_json = NULL;
    }
    VT_ENSURE(c != NULL, d, VT_E_ARG, "atls.last", "no context");
    struct atls_last *l = last_get(false);
    VT_ENSURE(l != NULL && l->ctx_id == c->id, d, VT_E_STATE, "atls.last",
              "no verification through this context on this thread");
    if (d != NULL) {
        *d = l->d;
    }
    if (claims_json != NULL && l->claims_json != NULL) {
        *claims_json = strdup(l->claims_json);
        VT_ENSURE(*claims_json != NULL, d, VT_E_NOMEM, "atls.last", "no memory");
    }
    return l->err;
}
