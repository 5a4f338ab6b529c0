/*
 * The Trustee KBS protocol (version 0.4.0), so that Confidential Containers guests (Attestation
 * Agent, Confidential Data Hub, kbs-client) can use this broker as their Key Broker Service.
 * SPEC: docs/kbs.md.
 *
 *   POST /kbs/v0/auth      {version, tee, extra-params} -> {nonce, extra-params} and the
 *                          kbs-session-id cookie (a session row, valid for nonce_ttl)
 *   POST /kbs/v0/attest    {init-data?, runtime-data {nonce, tee-pubkey},
 *                          tee-evidence {primary_evidence, additional_evidence}} -> {token}
 *   GET  /kbs/v0/resource/<repository>/<type>/<tag>  (cookie or Bearer token) -> a flattened
 *                          JWE {protected, encrypted_key, iv, ciphertext, tag}
 *
 * The binding is the guest's: report_data = SHA-384 of the RFC 8785 (JCS) serialization of
 * {"additional-evidence", "nonce", "tee-pubkey"}, zero-padded to 64 bytes. This file checks the
 * session and its nonce, rebuilds those bytes, and leaves appraisal, the attestation policy,
 * the token, the release policy, the wrapping and the audit log to vt_broker_attest and
 * vt_broker_release. Sessions live in the store (vb_kbs_sessions), so any replica serves them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "broker/broker.h"
#include "broker/kbs.h"
#include "net/json_fields.h"

#define KBS_COOKIE "kbs-session-id"
#define KBS_SID_LEN 32 /* 16 random bytes in hex */
#define KBS_NONCE_BYTES 32
#define KBS_ERR_TYPE "https://github.com/confidential-containers/kbs/errors/"

/* ---- responses ---- */

/* RFC 7807 with the KBS error types: Trustee's clients parse {type, detail} (kbs_types
 * ErrorInformation) out of every error, and re-run the handshake on a 401 only if they can. */
static void problem(struct vt_http_resp *resp, unsigned status, const char *type,
                    const char *reason, const char *detail)
{
    char t[160];
    snprintf(t, sizeof(t), "%s%s", KBS_ERR_TYPE, type);
    json_t *o = json_pack("{s:s,s:s,s:i,s:s,s:s}", "type", t, "title", vt_http_status_title(status),
                          "status", (int)status, "detail", detail ? detail : "", "reason", reason);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    vt_http_resp_status(resp, status, "application/problem+json");
    if (s == NULL || !vt_http_resp_body(resp, s, strlen(s))) {
        resp->status = 500;
    }
    free(s);
    json_decref(o);
}

/* A denial of vt_broker_attest/vt_broker_release, with the status Trustee's KBS answers: 401 for
 * everything at /attest (a policy denial is "PolicyDeny", the rest "AttestationError") and at
 * /resource (release policy and disabled key "PolicyDeny", no such resource
 * "PluginInternalError" as Trustee's resource plugin, a token refused "TokenVerifierError", no
 * wrapping "JweError"); 500 and 503 (no collateral now, with Retry-After) are this broker's own.
 * A policy denial's explanation stays in the admin log. */
static void refuse(struct vt_http_resp *resp, const struct vt_broker_denial *den, bool attest)
{
    unsigned st = den->status;
    const char *type = "AttestationError";
    if (st == 500) {
        type = "InternalError";
    } else if (st == 503) {
        type = "ServiceUnavailable";
    } else if (st == 403) {
        type = "PolicyDeny";
    } else if (attest) {
        type = "AttestationError";
    } else if (st == 404) {
        type = "PluginInternalError";
    } else if (st == 401) {
        type = "TokenVerifierError";
    } else {
        type = "JweError";
    }
    const char *detail =
        den->status == 403 ? "denied by policy; the reason id says which rule" : den->detail;
    problem(resp, st == 500 || st == 503 ? st : 401, type, den->reason, detail);
    if (st == 503 && den->retry_after > 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%" PRId64, den->retry_after);
        (void)!vt_http_resp_header(resp, "Retry-After", ra);
    }
}

/* A refusal that writes no log entry: counted in the metrics instead. */
static void refuse_unlogged(struct vt_broker *b, enum vt_broker_endpoint ep,
                            struct vt_http_resp *resp, unsigned status, const char *type,
                            const char *reason, const char *detail)
{
    vt_broker_count_unlogged(b, ep, reason);
    problem(resp, status, type, reason, detail);
}

/* Set-Cookie: kbs-session-id=<id>; Expires=<IMF-fixdate>; Max-Age=<s>; HttpOnly. No Path, as
 * KBS: the default path of .../kbs/v0/auth covers .../kbs/v0/attest and .../kbs/v0/resource
 * also behind a reverse proxy that adds a prefix. */
static void set_cookie(struct vt_http_resp *resp, const char *sid, vt_time expires, vt_time now)
{
    char date[64] = "";
    struct tm tm;
    time_t t = (time_t)expires;
    if (gmtime_r(&t, &tm) == NULL ||
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0) {
        date[0] = '\0';
    }
    char v[256];
    snprintf(v, sizeof(v), "%s=%s; Expires=%s; Max-Age=%" PRId64 "; HttpOnly", KBS_COOKIE, sid,
             date, (int64_t)(expires > now ? expires - now : 0));
    if (!vt_http_resp_header(resp, "Set-Cookie", v)) {
        problem(resp, 500, "InternalError", "internal", "cannot set the session cookie");
    }
}

/* ---- request helpers ---- */

/* The body as a JSON object, or NULL with why saying what it is instead (empty, not JSON with
 * jansson's reason and place, or another JSON type). */
static json_t *body_object(const struct vt_http_req *req, char *why, size_t cap)
{
    size_t n = 0;
    const uint8_t *p = vt_http_req_body(req, &n);
    json_error_t je;
    if (n == 0) {
        snprintf(why, cap, "$: the body is empty");
        return NULL;
    }
    json_t *o = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (o == NULL) {
        snprintf(why, cap, "$: the body is not JSON: %s at line %d column %d", je.text, je.line,
                 je.column);
    } else if (!json_is_object(o)) {
        snprintf(why, cap, "$: expected an object, got %s", vt_json_type_name(o));
        json_decref(o);
        o = NULL;
    }
    return o;
}

static const char *str_member(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

static bool is_sid(const char *s, size_t n)
{
    if (n != KBS_SID_LEN) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

/* The kbs-session-id cookie of the request, if any. *present tells whether the cookie was sent
 * at all (a malformed one is then no session). */
static bool cookie_sid(const struct vt_http_req *req, char sid[KBS_SID_LEN + 1], bool *present)
{
    *present = false;
    const char *h = vt_http_req_header(req, "Cookie");
    const size_t nl = strlen(KBS_COOKIE);
    while (h != NULL && *h != '\0') {
        while (*h == ' ' || *h == ';' || *h == '\t') {
            h++;
        }
        const char *end = strchr(h, ';');
        size_t len = end ? (size_t)(end - h) : strlen(h);
        if (len > nl && strncmp(h, KBS_COOKIE, nl) == 0 && h[nl] == '=') {
            *present = true;
            const char *v = h + nl + 1;
            size_t vl = len - nl - 1;
            while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) {
                vl--;
            }
            if (is_sid(v, vl)) {
                memcpy(sid, v, vl);
                sid[vl] = '\0';
                return true;
            }
        }
        h = end;
    }
    return false;
}

/* ---- sessions ---- */

struct session {
    bool found;
    char nonce[64];
    char tee[16];
    int64_t expires, used;
    char *token;       /* "" until attested */
    char *runtime_key; /* the standard JWK of the TEE's key, "" until attested */
};

static void session_cleanup(struct session *s)
{
    free(s->token);
    free(s->runtime_key);
    memset(s, 0, sizeof(*s));
}

static bool row_session(void *ctx, const struct vt_sql_row *row)
{
    struct session *s = ctx;
    s->found = true;
    snprintf(s->nonce, sizeof(s->nonce), "%s", vt_row_text(row, 0));
    snprintf(s->tee, sizeof(s->tee), "%s", vt_row_text(row, 1));
    s->expires = vt_row_int(row, 2);
    s->used = vt_row_int(row, 3);
    s->token = strdup(vt_row_text(row, 4));
    s->runtime_key = strdup(vt_row_text(row, 5));
    return false;
}

static enum vt_err session_load(struct vt_broker *b, const char *sid, struct session *s,
                                struct vt_diag *d)
{
    memset(s, 0, sizeof(*s));
    struct vt_sql_arg a[] = {VT_SQL_T(sid)};
    VT_TRY(vt_store_exec(b->store,
                         "SELECT nonce, tee, expires, used, token, runtime_key"
                         " FROM vb_kbs_sessions WHERE id = ?",
                         a, 1, row_session, s, NULL, d));
    VT_ENSURE(!s->found || (s->token != NULL && s->runtime_key != NULL), d, VT_E_NOMEM,
              "kbs.session", "no memory for the session");
    return VT_OK;
}

static void token_hash(const char *token, char hex[65])
{
    uint8_t h[VT_SHA256_LEN];
    vt_sha256(token, strlen(token), h);
    vt_hex_encode(h, sizeof(h), hex);
}

/* ---- auth ---- */

/* The TEEs of the KBS protocol (kbs_types Tee, by their serde names) and whether this KBS serves
 * them: those whose evidence veritee verifies and whose runtime data it can bind (docs/kbs.md). */
static const struct {
    const char *name;
    enum vt_tee tee; /* VT_TEE_NONE: refused, for `why` */
    const char *why;
} kbs_tees[] = {
    {"tdx", VT_TEE_TDX, NULL},
    {"sgx", VT_TEE_SGX, NULL},
    {"snp", VT_TEE_SEV_SNP, NULL},
    {"az-snp-vtpm", VT_TEE_NONE,
     "its runtime data is bound by a vTPM quote, which this KBS does not verify"},
    {"az-tdx-vtpm", VT_TEE_NONE,
     "its runtime data is bound by a vTPM quote, which this KBS does not verify"},
    {"sev", VT_TEE_NONE, "SEV without SNP has no attestation report this KBS verifies"},
    {"cca", VT_TEE_NONE, "veritee has no Arm CCA verifier"},
    {"csv", VT_TEE_NONE, "veritee has no Hygon CSV verifier"},
    {"se", VT_TEE_NONE, "veritee has no IBM Secure Execution verifier"},
    {"tpm", VT_TEE_NONE, "veritee has no TPM verifier"},
    {"nvidia", VT_TEE_NONE, "veritee has no NVIDIA GPU verifier"},
    {"hygondcu", VT_TEE_NONE, "veritee has no Hygon DCU verifier"},
    {"sample", VT_TEE_NONE, "a test TEE without hardware evidence"},
    {"sampledevice", VT_TEE_NONE, "a test TEE without hardware evidence"},
};

/* The TEE a KBS name stands for if this KBS serves it, else VT_TEE_NONE with *why. */
static enum vt_tee tee_supported(const char *tee, const char **why)
{
    for (size_t i = 0; i < sizeof(kbs_tees) / sizeof(kbs_tees[0]); i++) {
        if (strcmp(tee, kbs_tees[i].name) == 0) {
            *why = kbs_tees[i].why;
            return kbs_tees[i].tee;
        }
    }
    *why = "it is not a TEE of the KBS protocol";
    return VT_TEE_NONE;
}

static void kbs_auth(struct vt_broker *b, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    char msg[VT_DIAG_DETAIL_MAX + 96];
    json_t *o = body_object(req, msg, sizeof(msg));
    const char *version = NULL, *tee = NULL;
    const char *why = NULL;
    struct vt_diag fd;
    vt_diag_init(&fd);
    if (o == NULL || vt_json_req_string(o, "$", "version", &version, &fd) != VT_OK ||
        vt_json_req_string(o, "$", "tee", &tee, &fd) != VT_OK) {
        char detail[sizeof(msg) + 64];
        snprintf(detail, sizeof(detail),
                 "%s (a KBS Request is {\"version\", \"tee\", \"extra-params\"})",
                 o == NULL ? msg : fd.detail);
        refuse_unlogged(b, VT_BM_KBS_AUTH, resp, 401, "AttestationError", "request", detail);
    } else if (strcmp(version, VT_KBS_PROTOCOL_VERSION) != 0) {
        snprintf(msg, sizeof(msg),
                 "KBS Client Protocol Version Mismatch: expect =" VT_KBS_PROTOCOL_VERSION
                 " while the request is %.64s",
                 version);
        refuse_unlogged(b, VT_BM_KBS_AUTH, resp, 401, "AttestationError", "protocol-version", msg);
    } else if (tee_supported(tee, &why) == VT_TEE_NONE) {
        snprintf(msg, sizeof(msg),
                 "tee \"%.32s\" is not served by this KBS (tdx, sgx, snp are): %s", tee, why);
        refuse_unlogged(b, VT_BM_KBS_AUTH, resp, 401, "AttestationError", "tee-unsupported", msg);
    } else {
        uint8_t raw[KBS_NONCE_BYTES + 16];
        char nonce[64], sid[KBS_SID_LEN + 1];
        struct vt_diag d;
        vt_diag_init(&d);
        struct vt_broker_denial den;
        memset(&den, 0, sizeof(den));
        enum vt_err err = vt_random_bytes(raw, sizeof(raw), &d);
        if (err == VT_OK) {
            err = vt_base64_encode(raw, KBS_NONCE_BYTES, false, nonce, sizeof(nonce));
        }
        vt_hex_encode(raw + KBS_NONCE_BYTES, 16, sid);
        vt_wipe(raw, sizeof(raw));
        vt_time now = vt_broker_now(b), exp = now + b->cfg.nonce_ttl;
        /* the session's tee is stored by its KBS name, one of those supported */
        struct vt_sql_arg row[] = {VT_SQL_T(sid), VT_SQL_T(nonce), VT_SQL_T(tee), VT_SQL_I(exp)};
        if (err != VT_OK) {
            problem(resp, 500, "InternalError", "internal", d.detail);
        } else if (!vt_broker_admit_session(b, row, &den)) {
            if (den.status == 503) {
                vt_broker_count_unlogged(b, VT_BM_KBS_AUTH, den.reason);
            }
            problem(resp, den.status, den.status == 503 ? "ServiceUnavailable" : "InternalError",
                    den.reason, den.detail);
            if (den.retry_after > 0) {
                char ra[24];
                snprintf(ra, sizeof(ra), "%" PRId64, den.retry_after);
                (void)!vt_http_resp_header(resp, "Retry-After", ra);
            }
        } else {
            vt_http_json_reply(resp, 200,
                               json_pack("{s:s,s:s}", "nonce", nonce, "extra-params", ""));
            set_cookie(resp, sid, exp, now);
        }
    }
    json_decref(o);
}

/* ---- attest ---- */

/* A JSON string as RFC 8785 writes it: only '"', '\\' and the C0 controls are escaped, with the
 * short forms where JSON has them and \u00xx (lowercase) otherwise; everything else verbatim. */
static enum vt_err jcs_string(struct vt_buf *b, const char *s)
{
    VT_TRY(vt_buf_append(b, "\"", 1));
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        const char *e = NULL;
        switch (c) {
        case '"':
            e = "\\\"";
            break;
        case '\\':
            e = "\\\\";
            break;
        case '\b':
            e = "\\b";
            break;
        case '\f':
            e = "\\f";
            break;
        case '\n':
            e = "\\n";
            break;
        case '\r':
            e = "\\r";
            break;
        case '\t':
            e = "\\t";
            break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)c);
                e = esc;
            }
        }
        VT_TRY(e ? vt_buf_append(b, e, strlen(e)) : vt_buf_append(b, s, 1));
    }
    return vt_buf_append(b, "\"", 1);
}

/* Members "name":value in the order given (the caller sorts them), values strings. */
static enum vt_err jcs_object(struct vt_buf *b, const char *const *names, const char *const *vals,
                              size_t n)
{
    VT_TRY(vt_buf_append(b, "{", 1));
    for (size_t i = 0; i < n; i++) {
        VT_TRY(i ? vt_buf_append(b, ",", 1) : VT_OK);
        VT_TRY(jcs_string(b, names[i]));
        VT_TRY(vt_buf_append(b, ":", 1));
        VT_TRY(jcs_string(b, vals[i]));
    }
    return vt_buf_append(b, "}", 1);
}

/* The tee-pubkey's typed members (kbs_types TeePubKey, tagged by "kty"): EC {crv, alg, x, y},
 * RSA {alg, n, e}, each a string. The shape only: a 401 "attestation" when it does not hold, why
 * naming the member ("$.runtime-data.tee-pubkey.x: required field is missing"). */
static bool tee_pubkey_shape(const json_t *k, char *why, size_t cap)
{
    static const char path[] = "$.runtime-data.tee-pubkey";
    static const char *const ec[] = {"crv", "alg", "x", "y"};
    static const char *const rsa[] = {"alg", "n", "e"};
    const char *const *names = NULL;
    size_t n = 0;
    const char *kty = NULL, *v = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_json_req_string(k, path, "kty", &kty, &d) != VT_OK) {
        snprintf(why, cap, "%s (a JWK with the string \"kty\")", d.detail);
        return false;
    }
    if (strcmp(kty, "EC") == 0) {
        names = ec;
        n = 4;
    } else if (strcmp(kty, "RSA") == 0) {
        names = rsa;
        n = 3;
    } else if (strcmp(kty, "AKP") != 0) { /* AKP: kbs_types' experimental ML-KEM key, which
                                           * tee_pubkey refuses as a key this KBS cannot use */
        snprintf(why, cap, "%s.kty: \"%.16s\" is none of kbs_types' TeePubKey (EC, RSA)", path,
                 kty);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (vt_json_req_string(k, path, names[i], &v, &d) != VT_OK) {
            snprintf(why, cap, "%s (%s)", d.detail,
                     n == 4 ? "an EC tee-pubkey needs the strings \"crv\", \"alg\", \"x\" and \"y\""
                            : "an RSA tee-pubkey needs the strings \"alg\", \"n\" and \"e\"");
            return false;
        }
    }
    return true;
}

/*
 * The tee-pubkey in its canonical form (RFC 8785 of the typed members: other members the guest
 * might add are dropped, as both ends do) and the same key as a standard JWK for the broker.
 * Only the algorithms this broker wraps with: ECDH-ES+A256KW (P-256, P-384, P-521; the JWK
 * parser checks the curve and the point) and RSA-OAEP-256.
 */
static bool tee_pubkey(const json_t *k, struct vt_buf *canon, char **jwk, const char **why)
{
    *jwk = NULL;
    const char *kty = str_member(k, "kty"), *alg = str_member(k, "alg");
    json_t *std = NULL;
    enum vt_err err = VT_E_ARG;
    if (strcmp(kty, "EC") != 0 && strcmp(kty, "RSA") != 0) {
        *why = "tee-pubkey kty must be EC or RSA (ECDH-ES+A256KW or RSA-OAEP-256)";
        return false;
    }
    if (strcmp(kty, "EC") == 0) {
        const char *crv = str_member(k, "crv"), *x = str_member(k, "x"), *y = str_member(k, "y");
        if (strcmp(alg, "ECDH-ES+A256KW") != 0) {
            *why = "an EC tee-pubkey's alg must be ECDH-ES+A256KW";
            return false;
        }
        const char *names[] = {"alg", "crv", "kty", "x", "y"};
        const char *vals[] = {alg, crv, kty, x, y};
        err = jcs_object(canon, names, vals, 5);
        std = json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv", crv, "x", x, "y", y);
    } else {
        const char *n = str_member(k, "n"), *e = str_member(k, "e");
        if (strcmp(alg, "RSA-OAEP-256") != 0) {
            *why = strcmp(alg, "RSA1_5") == 0
                       ? "RSA1_5 is not supported: generate the tee key with RSA-OAEP-256"
                       : "an RSA tee-pubkey's alg must be RSA-OAEP-256";
            return false;
        }
        const char *names[] = {"alg", "e", "kty", "n"};
        const char *vals[] = {alg, e, kty, n};
        err = jcs_object(canon, names, vals, 4);
        std = json_pack("{s:s,s:s,s:s}", "kty", "RSA", "n", n, "e", e);
    }
    *jwk = std && err == VT_OK ? json_dumps(std, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(std);
    if (*jwk == NULL) {
        *why = "cannot encode the tee-pubkey";
        return false;
    }
    return true;
}

/* The canonical runtime data (RFC 8785), whose SHA-384 is the first 48 bytes of report_data
 * (zeros follow), and which a Trustee-profile token carries as its runtime_data_claims. */
static bool runtime_data(const char *additional, const char *nonce, const struct vt_buf *key,
                         struct vt_buf *m)
{
    enum vt_err err = vt_buf_append(m, "{\"additional-evidence\":", 23);
    if (err == VT_OK) {
        err = jcs_string(m, additional);
    }
    if (err == VT_OK) {
        err = vt_buf_append(m, ",\"nonce\":", 9);
    }
    if (err == VT_OK) {
        err = jcs_string(m, nonce);
    }
    if (err == VT_OK) {
        err = vt_buf_append(m, ",\"tee-pubkey\":", 14);
    }
    if (err == VT_OK) {
        err = vt_buf_append(m, key->data, key->len);
    }
    if (err == VT_OK) {
        err = vt_buf_append(m, "}", 1);
    }
    return err == VT_OK;
}

struct attest_in {
    /* the message (kbs_types Attestation), borrowed from the body */
    const char *nonce, *additional;
    const json_t *pubkey;  /* runtime-data.tee-pubkey */
    const json_t *primary; /* tee-evidence.primary_evidence */
    const char *init_format, *init_body;
    size_t init_body_len;
    bool has_init;
    /* what the broker needs from it */
    uint8_t *evidence;
    size_t evidence_len;
    struct vt_buf vek; /* SNP: the certificate table's VEK, ASK and ARK as PEM */
    char *jwk;
    struct vt_buf canon_key;
    struct vt_buf runtime;
    struct vt_kbs_initdata init;
};

/* The Attestation message's shape, as Trustee deserializes it before anything else: runtime-data
 * {nonce, tee-pubkey}, tee-evidence {primary_evidence, additional_evidence}, init-data null or
 * {format, body}. On failure why names the member and what is wrong (a 401 "attestation"). */
static bool attest_shape(const json_t *o, struct attest_in *in, char *why, size_t cap)
{
    static const char shape[] =
        "runtime-data {nonce: string, tee-pubkey: JWK}, tee-evidence {primary_evidence, "
        "additional_evidence: string}, init-data null or {format: string, body: string}";
    struct vt_diag d;
    vt_diag_init(&d);
    json_t *rd = NULL, *te = NULL, *init = NULL, *pubkey = NULL;
    enum vt_err err = vt_json_req_object(o, "$", "runtime-data", &rd, &d);
    if (err == VT_OK) {
        err = vt_json_req_string(rd, "$.runtime-data", "nonce", &in->nonce, &d);
    }
    if (err == VT_OK) {
        err = vt_json_req_object(rd, "$.runtime-data", "tee-pubkey", &pubkey, &d);
    }
    if (err == VT_OK && !tee_pubkey_shape(pubkey, why, cap)) {
        return false;
    }
    in->pubkey = pubkey;
    if (err == VT_OK) {
        err = vt_json_req_object(o, "$", "tee-evidence", &te, &d);
    }
    if (err == VT_OK) {
        /* any JSON value: its shape depends on the TEE (attest_evidence reads it) */
        in->primary = json_object_get(te, "primary_evidence");
        if (in->primary == NULL) {
            err = vt_fail(&d, VT_E_MISSING_FIELD, "$.tee-evidence.primary_evidence",
                          "$.tee-evidence.primary_evidence: required field is missing");
        }
    }
    /* additional_evidence: absent is "" (serde's default); present, a string (null is not) */
    in->additional = "";
    if (err == VT_OK && json_object_get(te, "additional_evidence") != NULL) {
        err = vt_json_req_string(te, "$.tee-evidence", "additional_evidence", &in->additional, &d);
    }
    if (err == VT_OK) {
        err = vt_json_opt_object(o, "$", "init-data", &init, &d);
    }
    in->has_init = init != NULL;
    if (err == VT_OK && in->has_init) {
        err = vt_json_req_string(init, "$.init-data", "format", &in->init_format, &d);
        if (err == VT_OK) {
            err = vt_json_req_string(init, "$.init-data", "body", &in->init_body, &d);
        }
        if (err == VT_OK) {
            in->init_body_len = json_string_length(json_object_get(init, "body"));
        }
    }
    if (err != VT_OK) {
        snprintf(why, cap, "%s (a KBS Attestation is %s)", d.detail, shape);
        return false;
    }
    return true;
}

/* The evidence of the session's TEE from primary_evidence: TDX {cc_eventlog, quote} and SGX
 * {quote} with the base64 DCAP quote; SNP {attestation_report, cert_chain} rebuilt by
 * vt_kbs_snp_evidence. On failure *why (msg) says what is wrong (a 401 "evidence-format"). */
static bool attest_evidence(enum vt_tee tee, struct attest_in *in, char *msg, size_t cap)
{
    struct vt_diag d;
    vt_diag_init(&d);
    if (tee == VT_TEE_SEV_SNP) {
        in->evidence = malloc(VT_SNP_REPORT_SIZE);
        if (in->evidence == NULL ||
            vt_kbs_snp_evidence(in->primary, in->evidence, &in->vek, &d) != VT_OK) {
            snprintf(msg, cap, "%s: %s", d.check, in->evidence ? d.detail : "no memory");
            return false;
        }
        in->evidence_len = VT_SNP_REPORT_SIZE;
        return true;
    }
    const char *q = str_member(in->primary, "quote");
    size_t sl = q ? strlen(q) : 0;
    in->evidence = sl > 0 ? malloc(sl + 1) : NULL;
    if (q == NULL || !json_is_object(in->primary)) {
        snprintf(msg, cap, "primary_evidence must hold the base64 DCAP quote as \"quote\"");
        return false;
    }
    if (in->evidence == NULL ||
        vt_base64_decode(q, sl, false, in->evidence, sl + 1, &in->evidence_len) != VT_OK) {
        snprintf(msg, cap, "primary_evidence.quote is not standard base64");
        return false;
    }
    return true;
}

static void attest_in_cleanup(struct attest_in *in)
{
    free(in->evidence);
    free(in->jwk);
    vt_buf_cleanup(&in->vek);
    vt_buf_cleanup(&in->canon_key);
    vt_buf_cleanup(&in->runtime);
    vt_kbs_initdata_cleanup(&in->init);
}

static void reply_token(struct vt_http_resp *resp, const char *sid, const char *token,
                        vt_time expires, vt_time now)
{
    vt_http_json_reply(resp, 200, json_pack("{s:s}", "token", token));
    set_cookie(resp, sid, expires, now);
}

static void kbs_attest(struct vt_broker *b, const struct vt_http_req *req,
                       struct vt_http_resp *resp)
{
    const enum vt_broker_endpoint ep = VT_BM_KBS_ATTEST;
    char sid[KBS_SID_LEN + 1];
    bool present;
    if (!cookie_sid(req, sid, &present)) {
        refuse_unlogged(b, ep, resp, 401, "AttestationError",
                        present ? "session-unknown" : "session-missing",
                        present ? "the kbs-session-id cookie names no session"
                                : "the kbs-session-id cookie is missing: POST /kbs/v0/auth first");
        return;
    }
    char shape_why[VT_DIAG_DETAIL_MAX + 256];
    json_t *o = body_object(req, shape_why, sizeof(shape_why));
    struct session s;
    struct attest_in in;
    memset(&in, 0, sizeof(in));
    vt_buf_init(&in.canon_key, 64u << 10);
    vt_buf_init(&in.runtime, 1u << 20);
    vt_buf_init(&in.vek, 256u << 10); /* up to three 16 KiB certificates as PEM */
    struct vt_diag d;
    vt_diag_init(&d);
    const char *why = NULL;
    vt_time now = vt_broker_now(b);
    char msg[VT_DIAG_DETAIL_MAX + VT_DIAG_CHECK_MAX + 64];
    if (session_load(b, sid, &s, &d) != VT_OK) {
        problem(resp, 500, "InternalError", "storage", d.detail);
        goto out;
    }
    if (!s.found) {
        refuse_unlogged(b, ep, resp, 401, "AttestationError", "session-unknown",
                        "the kbs-session-id cookie names no session");
        goto out;
    }
    if (s.expires <= now) {
        refuse_unlogged(b, ep, resp, 401, "AttestationError", "session-expired",
                        "the session expired");
        goto out;
    }
    /* the session's declared TEE must be one this KBS serves, and the evidence's */
    enum vt_tee stee = tee_supported(s.tee, &why);
    if (stee == VT_TEE_NONE) {
        snprintf(msg, sizeof(msg), "the session's tee \"%.32s\" is not served by this KBS: %s",
                 s.tee, why);
        refuse_unlogged(b, ep, resp, 401, "AttestationError", "tee-unsupported", msg);
        goto out;
    }
    /* the message is read before anything is answered, also for a session already attested */
    if (o == NULL || !attest_shape(o, &in, shape_why, sizeof(shape_why))) {
        refuse_unlogged(b, ep, resp, 401, "AttestationError", "attestation", shape_why);
        goto out;
    }
    if (s.token[0] != '\0') { /* attested already: the session's token, as KBS answers */
        reply_token(resp, sid, s.token, s.expires, now);
        goto out;
    }
    if (s.used != 0) {
        refuse_unlogged(b, ep, resp, 401, "AttestationError", "session-used",
                        "the session's challenge was already answered: POST /kbs/v0/auth again");
        goto out;
    }
    if (strlen(in.nonce) != strlen(s.nonce) || !vt_ct_memeq(in.nonce, s.nonce, strlen(s.nonce))) {
        refuse_unlogged(b, ep, resp, 401, "AttestationError", "nonce-mismatch",
                        "the nonce in the handshake session is different from the client side in "
                        "KBS protocol's Attestation message (runtime-data.nonce)");
        goto out;
    }
    struct vt_jwk *k = NULL;
    why = NULL;
    if (!tee_pubkey(in.pubkey, &in.canon_key, &in.jwk, &why) ||
        vt_jwk_parse(in.jwk, strlen(in.jwk), &k, &d) != VT_OK) {
        if (why == NULL) {
            snprintf(msg, sizeof(msg), "runtime-data.tee-pubkey: %s: %s", d.check, d.detail);
        }
        refuse_unlogged(b, ep, resp, 401, "AttestationError", "runtime-key", why ? why : msg);
        goto out;
    }
    vt_jwk_free(k);
    if (in.has_init && vt_kbs_initdata_parse(in.init_format, in.init_body, in.init_body_len,
                                             &in.init, &d) != VT_OK) {
        snprintf(msg, sizeof(msg), "init-data: %s: %s", d.check, d.detail);
        refuse_unlogged(b, ep, resp, 401, "AttestationError", "init-data", msg);
        goto out;
    }
    /* The evidence must parse, and be of the session's TEE, before the challenge is spent. */
    struct vt_evidence ev; /* parsed once here, verified by vt_broker_attest */
    if (!attest_evidence(stee, &in, msg, sizeof(msg))) {
        refuse_unlogged(b, ep, resp, 401, "AttestationError", "evidence-format", msg);
        goto out;
    }
    if (vt_broker_evidence_parse(in.evidence, in.evidence_len, &ev, &d) != VT_OK) {
        snprintf(msg, sizeof(msg), "%s: %s", d.check, d.detail);
        refuse_unlogged(b, ep, resp, 401, "AttestationError", "evidence-format", msg);
        goto out;
    }
    enum vt_tee etee = ev.tee;
    if (etee != stee) {
        snprintf(msg, sizeof(msg), "the session is for %s; the evidence is of %s", s.tee,
                 vt_tee_name(etee));
        refuse_unlogged(b, ep, resp, 401, "AttestationError", "tee-mismatch", msg);
        goto out;
    }
    if (!runtime_data(in.additional, in.nonce, &in.canon_key, &in.runtime)) {
        problem(resp, 500, "InternalError", "internal", "cannot encode the runtime data");
        goto out;
    }
    /* one answer per challenge: the claiming UPDATE is the check, across replicas too */
    int64_t changes = 0;
    struct vt_sql_arg claim[] = {VT_SQL_I(now), VT_SQL_T(sid), VT_SQL_I(now)};
    if (vt_store_exec(b->store,
                      "UPDATE vb_kbs_sessions SET used = ? WHERE id = ? AND used = 0"
                      " AND expires > ?",
                      claim, 3, NULL, NULL, &changes, &d) != VT_OK) {
        problem(resp, 500, "InternalError", "storage", d.detail);
        goto out;
    }
    if (changes != 1) {
        refuse_unlogged(b, ep, resp, 401, "AttestationError", "session-used",
                        "the session's challenge was already answered: POST /kbs/v0/auth again");
        goto out;
    }
    uint8_t rd[VT_SHA384_LEN];
    vt_sha384(in.runtime.data, in.runtime.len, rd);
    struct vt_broker_trustee_token tt = {
        .tee = s.tee,
        .runtime_data = (const char *)in.runtime.data,
        .init_data_claims = in.has_init ? in.init.data_json : NULL,
    };
    struct vt_broker_attest_req q = {
        .evidence = in.evidence,
        .evidence_len = in.evidence_len,
        .parsed = &ev,
        .nonce = s.nonce,
        .runtime_key = in.jwk,
        .vek = in.vek.len > 0 ? in.vek.data : NULL,
        .vek_len = in.vek.len,
        .expect_report_data = rd,
        .expect_report_data_len = sizeof(rd),
        .expect_tee = stee,
        .expect_init_data = in.has_init ? in.init.digest : NULL,
        .expect_init_data_len = in.init.digest_len,
        .trustee = b->cfg.kbs_token_profile == VT_KBS_TOKEN_TRUSTEE ? &tt : NULL,
    };
    struct vt_broker_attest_res r;
    struct vt_broker_denial den;
    if (!vt_broker_attest(b, &q, &r, &den)) {
        if (!den.logged) {
            vt_broker_count_unlogged(b, ep, den.reason);
        }
        if (den.status == 503) { /* no collateral now: the challenge stays open for a retry */
            struct vt_sql_arg back[] = {VT_SQL_T(sid)};
            (void)!vt_store_exec(b->store, "UPDATE vb_kbs_sessions SET used = 0 WHERE id = ?", back,
                                 1, NULL, NULL, NULL, NULL);
        }
        refuse(resp, &den, true);
        vt_broker_attest_res_cleanup(&r);
        goto out;
    }
    char th[65];
    token_hash(r.token, th);
    struct vt_sql_arg up[] = {VT_SQL_T(r.token), VT_SQL_T(th), VT_SQL_T(in.jwk),
                              VT_SQL_I(r.expires), VT_SQL_T(sid)};
    if (vt_store_exec(b->store,
                      "UPDATE vb_kbs_sessions SET token = ?, token_sha256 = ?, runtime_key = ?,"
                      " expires = ? WHERE id = ?",
                      up, 5, NULL, NULL, NULL, &d) != VT_OK) {
        problem(resp, 500, "InternalError", "storage", d.detail);
    } else {
        reply_token(resp, sid, r.token, r.expires, now);
    }
    vt_broker_attest_res_cleanup(&r);
out:
    attest_in_cleanup(&in);
    session_cleanup(&s);
    json_decref(o);
}

/* ---- resource ---- */

static bool part_ok(const char *p, size_t n, bool dots)
{
    bool only_dots = true;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || (dots && c == '.');
        if (!ok) {
            return false;
        }
        only_dots = only_dots && c == '.';
    }
    return n > 0 && !only_dots;
}

bool vt_broker_kbs_key_name(const char *path, char name[VT_BROKER_NAME_MAX])
{
    const char *s1 = strchr(path, '/');
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (s1 == NULL || s2 == NULL || strchr(s2 + 1, '/') != NULL) {
        return false;
    }
    size_t n1 = (size_t)(s1 - path), n2 = (size_t)(s2 - s1 - 1), n3 = strlen(s2 + 1);
    if (!part_ok(path, n1, false) || !part_ok(s1 + 1, n2, false) || !part_ok(s2 + 1, n3, true) ||
        4 + n1 + 1 + n2 + 1 + n3 >= VT_BROKER_NAME_MAX) {
        return false;
    }
    snprintf(name, VT_BROKER_NAME_MAX, "kbs.%.*s.%.*s.%s", (int)n1, path, (int)n2, s1 + 1, s2 + 1);
    return true;
}

struct cred {
    bool found;
    char *token, *runtime_key;
    char tee[16]; /* the session's declared TEE */
};

static bool row_cred(void *ctx, const struct vt_sql_row *row)
{
    struct cred *c = ctx;
    c->found = true;
    c->token = strdup(vt_row_text(row, 0));
    c->runtime_key = strdup(vt_row_text(row, 1));
    snprintf(c->tee, sizeof(c->tee), "%s", vt_row_text(row, 2));
    return false;
}

/* The credentials of a resource request: the cookie's attested session, else the Bearer token
 * (the TEE's key from the session that issued it). false: *reason and *detail say why. */
static bool credentials(struct vt_broker *b, const struct vt_http_req *req, struct cred *c,
                        const char **reason, const char **detail, struct vt_diag *d)
{
    memset(c, 0, sizeof(*c));
    char sid[KBS_SID_LEN + 1];
    bool present;
    const char *bearer = vt_http_bearer(req);
    *reason = "token-missing";
    *detail = "no attested kbs-session-id cookie and no Bearer token: attest first";
    if (cookie_sid(req, sid, &present)) {
        struct session s;
        if (session_load(b, sid, &s, d) != VT_OK) {
            *reason = "storage";
            return false;
        }
        if (s.found && s.expires > vt_broker_now(b) && s.token[0] != '\0') {
            c->found = true;
            c->token = s.token;
            c->runtime_key = s.runtime_key;
            snprintf(c->tee, sizeof(c->tee), "%s", s.tee);
            s.token = s.runtime_key = NULL;
        } else {
            *reason = !s.found                        ? "session-unknown"
                      : s.expires <= vt_broker_now(b) ? "session-expired"
                                                      : "session-not-attested";
            *detail = !s.found                        ? "the kbs-session-id cookie names no session"
                      : s.expires <= vt_broker_now(b) ? "the session expired"
                                                      : "the session is not attested";
        }
        session_cleanup(&s);
        if (c->found) {
            return true;
        }
    } else if (present) {
        *reason = "session-unknown";
        *detail = "the kbs-session-id cookie names no session";
    }
    if (bearer == NULL || *bearer == '\0') {
        return false;
    }
    char th[65];
    token_hash(bearer, th);
    struct vt_sql_arg a[] = {VT_SQL_T(th)};
    if (vt_store_exec(b->store,
                      "SELECT token, runtime_key, tee FROM vb_kbs_sessions WHERE token_sha256 = ?",
                      a, 1, row_cred, c, NULL, d) != VT_OK) {
        *reason = "storage";
        return false;
    }
    if (!c->found || c->token == NULL || c->runtime_key == NULL) {
        *reason = "token-unknown";
        *detail = "the Bearer token was not issued by this KBS's /kbs/v0/attest";
        free(c->token);
        free(c->runtime_key);
        memset(c, 0, sizeof(*c));
        return false;
    }
    return true;
}

/* Our compact JWE (RFC 7516 section 7.1) in the flattened JSON form KBS clients parse (section
 * 7.2.2, without "aad"). The protected header is compact with sorted members ("alg", "enc",
 * "epk"), which is what the client's re-serialization for the AAD produces too. */
static json_t *flattened(const char *compact)
{
    const char *names[5] = {"protected", "encrypted_key", "iv", "ciphertext", "tag"};
    json_t *o = json_object();
    const char *p = compact;
    for (size_t i = 0; o != NULL && i < 5; i++) {
        const char *dot = strchr(p, '.');
        if ((i < 4) != (dot != NULL)) {
            json_decref(o);
            return NULL;
        }
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        json_object_set_new(o, names[i], json_stringn(p, n));
        p = dot ? dot + 1 : p;
    }
    return o;
}

static void kbs_resource(struct vt_broker *b, const char *path, const struct vt_http_req *req,
                         struct vt_http_resp *resp)
{
    char name[VT_BROKER_NAME_MAX];
    if (!vt_broker_kbs_key_name(path, name)) {
        problem(resp, 404, "InvalidRequestPath", "not-found",
                "a resource is /kbs/v0/resource/<repository>/<type>/<tag>: repository and type of"
                " [A-Za-z0-9_-], tag of [A-Za-z0-9._-]");
        return;
    }
    struct cred c;
    const char *reason, *detail;
    struct vt_diag d;
    vt_diag_init(&d);
    if (!credentials(b, req, &c, &reason, &detail, &d)) {
        if (strcmp(reason, "storage") == 0) {
            problem(resp, 500, "InternalError", reason, d.detail);
        } else {
            refuse_unlogged(b, VT_BM_KBS_RESOURCE, resp, 401,
                            strcmp(reason, "token-missing") == 0 ? "TokenNotFound"
                                                                 : "TokenVerifierError",
                            reason, detail);
        }
        return;
    }
    /* the token must be of the session's declared TEE, one this KBS serves */
    const char *why = NULL;
    enum vt_tee stee = tee_supported(c.tee, &why);
    struct vt_broker_release_req q = {
        .key_name = name,
        .token = c.token,
        .runtime_key = c.runtime_key,
        .expect_tee = stee,
    };
    struct vt_broker_release_res r;
    memset(&r, 0, sizeof(r));
    struct vt_broker_denial den;
    if (stee == VT_TEE_NONE) {
        char msg[256];
        snprintf(msg, sizeof(msg), "the session's tee \"%.16s\" is not served by this KBS: %s",
                 c.tee, why);
        refuse_unlogged(b, VT_BM_KBS_RESOURCE, resp, 401, "TokenVerifierError", "tee-unsupported",
                        msg);
    } else if (!vt_broker_release(b, &q, &r, &den)) {
        if (!den.logged) {
            vt_broker_count_unlogged(b, VT_BM_KBS_RESOURCE, den.reason);
        }
        refuse(resp, &den, false);
    } else {
        json_t *o = r.jwe ? flattened(r.jwe) : NULL;
        if (o == NULL) {
            problem(resp, 500, "JweError", "wrap", "cannot encode the JWE");
        } else {
            vt_http_json_reply(resp, 200, o);
        }
    }
    vt_broker_release_res_cleanup(&r);
    free(c.token);
    free(c.runtime_key);
}

/* ---- dispatch ---- */

void vt_broker_kbs_handler(struct vt_broker *b, const struct vt_http_req *req,
                           struct vt_http_resp *resp)
{
    const char *path = vt_http_req_path(req), *method = vt_http_req_method(req);
    const char *p = strncmp(path, "/kbs/v0/", 8) == 0 ? path + 8 : "";
    bool post = strcmp(method, "POST") == 0, get = strcmp(method, "GET") == 0;
    if (strcmp(p, "auth") == 0 || strcmp(p, "attest") == 0) {
        if (!post) { /* Trustee: no such plugin */
            problem(resp, 404, "PluginNotFound", "method",
                    "Plugin not found: /kbs/v0/auth and /kbs/v0/attest take POST");
        } else if (p[1] == 'u') {
            kbs_auth(b, req, resp);
        } else {
            kbs_attest(b, req, resp);
        }
    } else if (strncmp(p, "resource/", 9) == 0) {
        if (!get) {
            problem(resp, 405, "InvalidRequestPath", "method",
                    "resources are read with GET; upload them with POST /admin/v1/keys");
        } else {
            kbs_resource(b, p + 9, req, resp);
        }
    } else if (strcmp(p, "attestation-policy") == 0 || strcmp(p, "resource-policy") == 0 ||
               strncmp(p, "reference-value", 15) == 0) {
        problem(resp, 404, "InvalidRequestPath", "not-implemented",
                "the KBS admin endpoints are not implemented: use /admin/v1 (docs/kbs.md)");
    } else {
        problem(resp, 404, "PluginNotFound", "not-found", "no such KBS endpoint");
    }
}
