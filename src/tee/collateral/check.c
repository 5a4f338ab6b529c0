/*
 * Checking one downloaded collateral document before it is stored or served: strict parsing,
 * signature and issuer chain to the trust anchors, and every identifying field equal to what the
 * request asked for. Times are deliberately not checked (the cache keeps expired items to serve
 * during outages and decides freshness itself).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "tee/collateral/check.h"

const char *vt_doc_kind_name(enum vt_doc_kind k)
{
    static const char *const names[] = {
        "?",       "tcb_info",       "qe_identity", "qve_identity", "tcb_eval_numbers",
        "pck_crl", "root_ca_crl",    "pck_cert",    "pck_certs",    "fmspcs",
        "vcek",    "amd_cert_chain", "amd_crl",
    };
    return (size_t)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

enum vt_snp_product vt_snp_product_from_kds(const char *s)
{
    for (int p = VT_SNP_MILAN; p <= VT_SNP_TURIN; p++) {
        if (strcmp(s, vt_snp_product_name((enum vt_snp_product)p)) == 0) {
            return (enum vt_snp_product)p;
        }
    }
    return VT_SNP_UNKNOWN;
}

void vt_doc_meta_cleanup(struct vt_doc_meta *m)
{
    free(m->der);
    m->der = NULL;
    m->der_len = 0;
}

static void hex12(const uint8_t f[6], char out[13])
{
    vt_hex_encode(f, 6, out);
}

static enum vt_err parse_chain(const char *chain, const char *what, struct vt_cert_list *l,
                               struct vt_diag *d)
{
    VT_ENSURE(chain != NULL && chain[0] != '\0', d, VT_E_COLLATERAL_MISSING, what,
              "the response has no %s header", what);
    return vt_cert_list_from_pem(chain, strlen(chain), l, d);
}

static enum vt_err check_fmspc(const struct vt_doc_expect *e, const uint8_t got[6],
                               const char *what, struct vt_doc_meta *m, struct vt_diag *d)
{
    hex12(got, m->fmspc);
    if (e->has_fmspc && memcmp(got, e->fmspc, 6) != 0) {
        char want[13];
        hex12(e->fmspc, want);
        return vt_fail(d, VT_E_TCB_INFO_MISMATCH, what, "%s is for FMSPC %s; requested %s", what,
                       m->fmspc, want);
    }
    return VT_OK;
}

static enum vt_err check_eval(const struct vt_doc_expect *e, uint32_t got, const char *what,
                              struct vt_diag *d)
{
    VT_ENSURE(!e->has_eval || got == e->eval_num, d, VT_E_BAD_FIELD, what,
              "%s has tcbEvaluationDataNumber %u; requested %u", what, got, e->eval_num);
    return VT_OK;
}

static enum vt_err check_tcb_info(const struct vt_doc_expect *e, const struct vt_doc_anchors *a,
                                  const uint8_t *body, size_t len, const char *chain,
                                  struct vt_doc_meta *m, struct vt_diag *d)
{
    struct vt_tcb_info ti;
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    VT_TRY(vt_tcb_info_parse(body, len, &ti, d));
    enum vt_err err = VT_OK;
    if (ti.tee != e->tee) {
        err = vt_fail(d, VT_E_TCB_INFO_MISMATCH, "tcb_info.id", "TCB info is for %s; requested %s",
                      vt_tee_name(ti.tee), vt_tee_name(e->tee));
    }
    if (err == VT_OK) {
        err = check_fmspc(e, ti.fmspc, "tcb_info.fmspc", m, d);
    }
    if (err == VT_OK) {
        err = check_eval(e, ti.tcb_eval_num, "tcb_info.tcbEvaluationDataNumber", d);
    }
    if (err == VT_OK && (err = parse_chain(chain, "TCB-Info-Issuer-Chain", &l, d)) == VT_OK) {
        err = vt_dcap_signed_doc_verify(&l, a->intel, NULL, ti.body, ti.body_len, ti.signature,
                                        "tcb_info", "TCB-Info-Issuer-Chain", d);
    }
    m->issue_date = ti.issue_date;
    m->next_update = ti.next_update;
    m->eval_num = ti.tcb_eval_num;
    vt_cert_list_cleanup(&l);
    vt_tcb_info_cleanup(&ti);
    return err;
}

static enum vt_err check_identity(const struct vt_doc_expect *e, const struct vt_doc_anchors *a,
                                  const uint8_t *body, size_t len, const char *chain,
                                  struct vt_doc_meta *m, struct vt_diag *d)
{
    struct vt_qe_identity qi;
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    VT_TRY(vt_qe_identity_parse(body, len, &qi, d));
    enum vt_identity_id want = e->kind == VT_DOC_QVE_IDENTITY ? VT_IDENTITY_QVE
                               : e->tee == VT_TEE_TDX         ? VT_IDENTITY_TD_QE
                                                              : VT_IDENTITY_QE;
    static const char *const ids[] = {"?", "QE", "QVE", "QAE", "TD_QE"};
    enum vt_err err = VT_OK;
    if (qi.id != want) {
        err = vt_fail(d, VT_E_QE_IDENTITY_MISMATCH, "enclave_identity.id",
                      "enclave identity is %s; requested %s", ids[qi.id], ids[want]);
    }
    if (err == VT_OK) {
        err = check_eval(e, qi.tcb_eval_num, "enclave_identity.tcbEvaluationDataNumber", d);
    }
    if (err == VT_OK &&
        (err = parse_chain(chain, "SGX-Enclave-Identity-Issuer-Chain", &l, d)) == VT_OK) {
        err = vt_dcap_signed_doc_verify(&l, a->intel, NULL, qi.body, qi.body_len, qi.signature,
                                        "enclave_identity", "SGX-Enclave-Identity-Issuer-Chain", d);
    }
    m->issue_date = qi.issue_date;
    m->next_update = qi.next_update;
    m->eval_num = qi.tcb_eval_num;
    vt_cert_list_cleanup(&l);
    vt_qe_identity_cleanup(&qi);
    return err;
}

static enum vt_err json_time(json_t *o, const char *key, vt_time *out, struct vt_diag *d)
{
    const char *s = json_string_value(json_object_get(o, key));
    VT_ENSURE(s != NULL, d, VT_E_MISSING_FIELD, "tcbEvaluationDataNumbers",
              "tcbEvaluationDataNumbers.%s is missing or not a string", key);
    return vt_time_parse(s, strlen(s), out, d);
}

/* {"tcbEvaluationDataNumbers":{id, version 1, issueDate, nextUpdate, tcbEvalNumbers[]},
 * "signature"}: signed like TCB info, over the inner object's raw bytes. */
static enum vt_err check_eval_numbers(const struct vt_doc_expect *e, const struct vt_doc_anchors *a,
                                      const uint8_t *body, size_t len, const char *chain,
                                      struct vt_doc_meta *m, struct vt_diag *d)
{
    const uint8_t *inner, *sig;
    size_t inner_len, sig_len;
    VT_TRY(vt_json_member_span(body, len, "tcbEvaluationDataNumbers", &inner, &inner_len, d));
    VT_TRY(vt_json_member_span(body, len, "signature", &sig, &sig_len, d));
    uint8_t raw_sig[64];
    VT_ENSURE(sig_len == 130 && sig[0] == '"' && sig[129] == '"' &&
                  vt_hex_decode_exact((const char *)sig + 1, 128, raw_sig, 64) == VT_OK,
              d, VT_E_BAD_FIELD, "tcbEvaluationDataNumbers.signature",
              "signature is not 128 hex characters");
    json_error_t je;
    json_t *o = json_loadb((const char *)inner, inner_len, JSON_REJECT_DUPLICATES, &je);
    VT_ENSURE(json_is_object(o), d, VT_E_BAD_JSON, "tcbEvaluationDataNumbers", "%s", je.text);
    enum vt_err err = VT_OK;
    const char *id = json_string_value(json_object_get(o, "id"));
    const char *want = e->tee == VT_TEE_TDX ? "TDX" : "SGX";
    json_t *nums = json_object_get(o, "tcbEvalNumbers");
    if (id == NULL || strcmp(id, want) != 0) {
        err = vt_fail(d, VT_E_BAD_FIELD, "tcbEvaluationDataNumbers.id", "id is %s; requested %s",
                      id ? id : "(missing)", want);
    } else if (json_integer_value(json_object_get(o, "version")) != 1) {
        err = vt_fail(d, VT_E_UNSUPPORTED_VERSION, "tcbEvaluationDataNumbers.version",
                      "version is not 1");
    } else if (!json_is_array(nums) || json_array_size(nums) == 0) {
        err = vt_fail(d, VT_E_BAD_FIELD, "tcbEvaluationDataNumbers.tcbEvalNumbers",
                      "tcbEvalNumbers is not a non-empty array");
    } else if ((err = json_time(o, "issueDate", &m->issue_date, d)) == VT_OK &&
               (err = json_time(o, "nextUpdate", &m->next_update, d)) == VT_OK) {
        m->eval_num = 0;
        size_t i;
        json_t *it;
        json_array_foreach(nums, i, it)
        {
            json_int_t n = json_integer_value(json_object_get(it, "tcbEvaluationDataNumber"));
            if (n <= 0 || n > UINT32_MAX) {
                err = vt_fail(d, VT_E_BAD_FIELD, "tcbEvaluationDataNumbers.tcbEvalNumbers",
                              "entry %zu has no valid tcbEvaluationDataNumber", i);
                break;
            }
            m->eval_num = n > m->eval_num ? n : m->eval_num;
        }
    }
    json_decref(o);
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    if (err == VT_OK &&
        (err = parse_chain(chain, "TCB-Evaluation-Data-Numbers-Issuer-Chain", &l, d)) == VT_OK) {
        err = vt_dcap_signed_doc_verify(&l, a->intel, NULL, inner, inner_len, raw_sig,
                                        "tcb_eval_numbers",
                                        "TCB-Evaluation-Data-Numbers-Issuer-Chain", d);
    }
    vt_cert_list_cleanup(&l);
    return err;
}

/* Which PCK CA a certificate is: 1 processor, 2 platform, 0 neither. */
static int pck_ca_of(const struct vt_cert *ca)
{
    char cn[160];
    if (vt_cert_subject_cn(ca, cn, sizeof(cn)) != VT_OK) {
        return 0;
    }
    return strstr(cn, "Processor") ? 1 : strstr(cn, "Platform") ? 2 : 0;
}

static enum vt_err check_ca(const struct vt_doc_expect *e, const struct vt_cert *ca,
                            const char *what, struct vt_doc_meta *m, struct vt_diag *d)
{
    static const char *const names[] = {"unknown", "processor", "platform"};
    m->ca = pck_ca_of(ca);
    VT_ENSURE(m->ca != 0, d, VT_E_CHAIN_NAME, what,
              "%s issuer is neither PCK Processor nor "
              "Platform CA",
              what);
    VT_ENSURE(e->ca == 0 || e->ca == m->ca, d, VT_E_CHAIN_NAME, what,
              "%s is from the %s CA; requested %s", what, names[m->ca], names[e->ca]);
    return VT_OK;
}

static enum vt_err keep_der(const struct vt_crl *crl, struct vt_doc_meta *m, struct vt_diag *d)
{
    const uint8_t *der = vt_crl_der(crl, &m->der_len);
    m->der = malloc(m->der_len);
    VT_ENSURE(m->der != NULL, d, VT_E_NOMEM, "crl", "cannot copy the CRL");
    memcpy(m->der, der, m->der_len);
    m->issue_date = vt_crl_this_update(crl);
    m->next_update = vt_crl_next_update(crl);
    return VT_OK;
}

static enum vt_err chain_untimed(const struct vt_cert_list *l, const struct vt_cert_list *anchors,
                                 const char *what, struct vt_diag *d)
{
    vt_time t = 0;
    for (size_t i = 0; i < l->n; i++) {
        vt_time nb = vt_cert_not_before(l->certs[i]);
        t = nb > t ? nb : t;
    }
    return vt_chain_verify(l, anchors, t, VT_TIME_EXPIRY_ONLY, what, d);
}

static enum vt_err check_pck_crl(const struct vt_doc_expect *e, const struct vt_doc_anchors *a,
                                 const uint8_t *body, size_t len, const char *chain,
                                 struct vt_doc_meta *m, struct vt_diag *d)
{
    struct vt_crl *crl = NULL;
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    VT_TRY(vt_crl_parse(body, len, &crl, d));
    enum vt_err err;
    if ((err = parse_chain(chain, "SGX-PCK-CRL-Issuer-Chain", &l, d)) == VT_OK &&
        (err = chain_untimed(&l, a->intel, "SGX-PCK-CRL-Issuer-Chain", d)) == VT_OK &&
        (err = check_ca(e, l.certs[0], "pck_crl", m, d)) == VT_OK &&
        (err = vt_crl_check_issuer(crl, l.certs[0], "pck_crl", d)) == VT_OK) {
        err = keep_der(crl, m, d);
    }
    vt_cert_list_cleanup(&l);
    vt_crl_free(crl);
    return err;
}

/* A root CRL must be issued by one of the anchors (Intel's root, or an AMD ARK). */
static enum vt_err check_root_crl(const struct vt_cert_list *anchors, const char *what,
                                  const uint8_t *body, size_t len, struct vt_doc_meta *m,
                                  struct vt_diag *d)
{
    struct vt_crl *crl = NULL;
    VT_TRY(vt_crl_parse(body, len, &crl, d));
    enum vt_err err = VT_E_CRL_ISSUER;
    for (size_t i = 0; i < anchors->n && err != VT_OK; i++) {
        err = vt_crl_check_issuer(crl, anchors->certs[i], what, d);
    }
    if (anchors->n == 0) {
        err = vt_fail(d, VT_E_CRL_ISSUER, what, "no trust anchor to check the CRL against");
    }
    if (err == VT_OK) {
        err = keep_der(crl, m, d);
    }
    vt_crl_free(crl);
    return err;
}

/* A product's KDS crl (the vcek and the vlek one alike): signed by that product's ARK, so a
 * Genoa CRL is never taken for Milan's. */
static enum vt_err check_amd_crl(const struct vt_doc_expect *e, const struct vt_cert_list *anchors,
                                 const uint8_t *body, size_t len, struct vt_doc_meta *m,
                                 struct vt_diag *d)
{
    struct vt_crl *crl = NULL;
    VT_TRY(vt_crl_parse(body, len, &crl, d));
    char want[32], cn[96];
    snprintf(want, sizeof(want), "ARK-%s", vt_snp_product_name(e->product));
    enum vt_err err = VT_E_CRL_ISSUER;
    bool named = false;
    for (size_t i = 0; i < anchors->n && err != VT_OK; i++) {
        if (vt_cert_subject_cn(anchors->certs[i], cn, sizeof(cn)) == VT_OK &&
            strcmp(cn, want) == 0) {
            named = true;
            err = vt_crl_check_issuer(crl, anchors->certs[i], "amd_crl", d);
        }
    }
    if (!named) {
        err = vt_fail(d, VT_E_CRL_ISSUER, "amd_crl",
                      "no %s among the trust anchors to check the"
                      " CRL against",
                      want);
    }
    if (err == VT_OK) {
        err = keep_der(crl, m, d);
    }
    vt_crl_free(crl);
    return err;
}

/* One PCK certificate with its issuer chain (PCK CA, root). */
static enum vt_err check_one_pck(const struct vt_doc_expect *e, const struct vt_doc_anchors *a,
                                 const char *pem, size_t pem_len, const struct vt_cert_list *ca,
                                 struct vt_doc_meta *m, struct vt_diag *d)
{
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    enum vt_err err = vt_cert_list_from_pem(pem, pem_len, &l, d);
    if (err == VT_OK && l.n != 1) {
        err = vt_fail(d, VT_E_BAD_CERT, "pck_cert", "%zu certificates; expected one", l.n);
    }
    for (size_t i = 0; i < ca->n && err == VT_OK; i++) {
        err = vt_cert_list_add(&l, ca->certs[i]);
    }
    const uint8_t *ext;
    size_t ext_len;
    struct vt_sgx_pck_ext x;
    if (err == VT_OK && (err = chain_untimed(&l, a->intel, "pck_cert_chain", d)) == VT_OK &&
        (err = check_ca(e, l.certs[1], "pck_cert", m, d)) == VT_OK) {
        if (vt_cert_extension(l.certs[0], VT_SGX_EXT_OID, &ext, &ext_len) != VT_OK) {
            err = vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert", "no SGX extension");
        } else {
            err = vt_sgx_pck_ext_parse(ext, ext_len, &x, d);
        }
    }
    if (err == VT_OK) {
        VT_ENSURE(!e->has_pceid || memcmp(x.pceid, e->pceid, 2) == 0, d, VT_E_BAD_FIELD,
                  "pck_cert.pceid", "PCK certificate PCE-ID %02x%02x; requested %02x%02x",
                  x.pceid[0], x.pceid[1], e->pceid[0], e->pceid[1]);
        hex12(x.fmspc, m->fmspc);
        m->has_pck = true;
        memcpy(m->pck_components, x.tcb_components, 16);
        memcpy(m->pck_cpusvn, x.cpusvn, 16);
        memcpy(m->pck_pceid, x.pceid, 2);
        m->pck_pcesvn = x.pcesvn;
        m->issue_date = vt_cert_not_before(l.certs[0]);
        m->next_update = vt_cert_not_after(l.certs[0]);
    }
    vt_cert_list_cleanup(&l);
    return err;
}

static enum vt_err check_pck_cert(const struct vt_doc_expect *e, const struct vt_doc_anchors *a,
                                  const uint8_t *body, size_t len, const char *chain,
                                  const char *tcbm, const char *fmspc, struct vt_doc_meta *m,
                                  struct vt_diag *d)
{
    struct vt_cert_list ca;
    vt_cert_list_init(&ca);
    enum vt_err err = parse_chain(chain, "SGX-PCK-Certificate-Issuer-Chain", &ca, d);
    if (err == VT_OK) {
        err = check_one_pck(e, a, (const char *)body, len, &ca, m, d);
    }
    vt_cert_list_cleanup(&ca);
    VT_TRY(err);
    if (fmspc != NULL && strcasecmp(fmspc, m->fmspc) != 0) {
        return vt_fail(d, VT_E_BAD_FIELD, "SGX-FMSPC",
                       "SGX-FMSPC header %s differs from the certificate's FMSPC %s", fmspc,
                       m->fmspc);
    }
    if (tcbm != NULL) {
        char want[37];
        uint8_t raw[18];
        memcpy(raw, m->pck_cpusvn, 16);
        raw[16] = (uint8_t)(m->pck_pcesvn & 0xff);
        raw[17] = (uint8_t)(m->pck_pcesvn >> 8);
        vt_hex_encode(raw, 18, want);
        VT_ENSURE(strcasecmp(tcbm, want) == 0, d, VT_E_BAD_FIELD, "SGX-TCBm",
                  "SGX-TCBm header %.40s differs from the certificate's CPUSVN||PCESVN %s", tcbm,
                  want);
    }
    return VT_OK;
}

static enum vt_err check_pck_certs(const struct vt_doc_expect *e, const struct vt_doc_anchors *a,
                                   const uint8_t *body, size_t len, const char *chain,
                                   struct vt_doc_meta *m, struct vt_diag *d)
{
    struct vt_cert_list ca;
    vt_cert_list_init(&ca);
    VT_TRY(parse_chain(chain, "SGX-PCK-Certificate-Issuer-Chain", &ca, d));
    json_error_t je;
    json_t *arr = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
    enum vt_err err = VT_OK;
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        err = vt_fail(d, VT_E_BAD_JSON, "pck_certs", "not a non-empty JSON array");
    }
    size_t i, good = 0;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        if (err != VT_OK) {
            break;
        }
        const char *cert = json_string_value(json_object_get(it, "cert"));
        if (cert == NULL || json_string_value(json_object_get(it, "tcbm")) == NULL) {
            err = vt_fail(d, VT_E_MISSING_FIELD, "pck_certs", "entry %zu lacks cert or tcbm", i);
        } else if (strcmp(cert, "Not available") != 0) {
            err = check_one_pck(e, a, cert, strlen(cert), &ca, m, d);
            good++;
        }
    }
    json_decref(arr);
    vt_cert_list_cleanup(&ca);
    if (err == VT_OK && good == 0) {
        err = vt_fail(d, VT_E_BAD_FIELD, "pck_certs", "no entry holds a certificate");
    }
    return err;
}

static enum vt_err check_fmspcs(const uint8_t *body, size_t len, struct vt_diag *d)
{
    json_error_t je;
    json_t *arr = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
    enum vt_err err = json_is_array(arr)
                          ? VT_OK
                          : vt_fail(d, VT_E_BAD_JSON, "fmspcs", "not a JSON array: %s", je.text);
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        const char *f = json_string_value(json_object_get(it, "fmspc"));
        if (err == VT_OK && (f == NULL || strlen(f) != 12 || !vt_is_hex(f, 12) ||
                             !json_is_string(json_object_get(it, "platform")))) {
            err = vt_fail(d, VT_E_BAD_FIELD, "fmspcs", "entry %zu is not {fmspc, platform}", i);
        }
    }
    json_decref(arr);
    return err;
}

/* The ASK (or ASVK) + ARK chain of a product: PSS-signed, the ARK with an anchor's subject and
 * key (vt_chain_verify), names as AMD gives them. */
static enum vt_err check_amd_chain(const struct vt_doc_expect *e, const struct vt_doc_anchors *a,
                                   const uint8_t *body, size_t len, struct vt_doc_meta *m,
                                   struct vt_diag *d)
{
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    VT_TRY(vt_cert_list_from_pem((const char *)body, len, &l, d));
    enum vt_err err = VT_OK;
    const char *prod = vt_snp_product_name(e->product);
    char want[2][48], cn[2][96];
    snprintf(want[0], sizeof(want[0]), "SEV-%s%s", e->vlek ? "VLEK-" : "", prod);
    snprintf(want[1], sizeof(want[1]), "ARK-%s", prod);
    if (l.n != 2) {
        err = vt_fail(d, VT_E_CHAIN_LENGTH, "amd_cert_chain",
                      "%zu certificates; expected 2 (%s, %s)", l.n, want[0], want[1]);
    }
    for (size_t i = 0; i < 2 && err == VT_OK; i++) {
        if (vt_cert_subject_cn(l.certs[i], cn[i], sizeof(cn[i])) != VT_OK ||
            strcmp(cn[i], want[i]) != 0) {
            err = vt_fail(d, VT_E_CHAIN_NAME, "amd_cert_chain",
                          "certificate %zu is \"%s\"; "
                          "expected \"%s\"",
                          i, cn[i], want[i]);
        } else {
            err = vt_cert_check_rsa_pss(l.certs[i], 384, 48, "amd_cert_chain.algorithm", d);
        }
    }
    if (err == VT_OK) {
        err = chain_untimed(&l, a->amd, "amd_cert_chain", d);
    }
    if (err == VT_OK) {
        m->issue_date = vt_cert_not_before(l.certs[0]);
        m->next_update = vt_cert_not_after(l.certs[0]);
    }
    vt_cert_list_cleanup(&l);
    return err;
}

static enum vt_err spl_eq(const char *name, bool has, uint8_t got, uint8_t want, struct vt_diag *d)
{
    VT_ENSURE(has && got == want, d, VT_E_BAD_FIELD, "vcek.spl", "VCEK %s is %s%u; requested %u",
              name, has ? "" : "absent, ", got, want);
    return VT_OK;
}

static enum vt_err check_vcek(const struct vt_doc_expect *e, const struct vt_doc_anchors *a,
                              const uint8_t *body, size_t len, struct vt_doc_meta *m,
                              struct vt_diag *d)
{
    VT_ENSURE(e->amd_chain != NULL && e->amd_chain->n == 2, d, VT_E_COLLATERAL_MISSING, "vcek",
              "no verified cert_chain of %s to check the VCEK with",
              vt_snp_product_name(e->product));
    struct vt_cert *c = NULL;
    VT_TRY(vt_cert_from_der(body, len, &c, d));
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    struct vt_snp_vek_ext x;
    enum vt_err err;
    if ((err = vt_cert_list_add(&l, c)) == VT_OK &&
        (err = vt_cert_list_add(&l, e->amd_chain->certs[0])) == VT_OK &&
        (err = vt_cert_list_add(&l, e->amd_chain->certs[1])) == VT_OK &&
        (err = vt_cert_check_rsa_pss(c, 384, 48, "vcek.algorithm", d)) == VT_OK &&
        (err = chain_untimed(&l, a->amd, "vcek_chain", d)) == VT_OK &&
        (err = vt_snp_vek_ext_parse(c, &x, d)) == VT_OK) {
        const char *prod = vt_snp_product_name(e->product);
        size_t pl = strlen(prod);
        if (strncmp(x.product_name, prod, pl) != 0 ||
            (x.product_name[pl] != '\0' && x.product_name[pl] != '-')) {
            err = vt_fail(d, VT_E_BAD_FIELD, "vcek.productName", "VCEK is for %s; requested %s",
                          x.product_name, prod);
        } else if (x.hwid_len != e->hwid_len || memcmp(x.hwid, e->hwid, e->hwid_len) != 0) {
            err = vt_fail(d, VT_E_BAD_FIELD, "vcek.hwID",
                          "VCEK hwID (%zu bytes) differs from the requested one (%zu bytes)",
                          x.hwid_len, e->hwid_len);
        } else if ((err = spl_eq("blSPL", x.has_bl, x.bl_spl, e->bl, d)) == VT_OK &&
                   (err = spl_eq("teeSPL", x.has_tee, x.tee_spl, e->tee_spl, d)) == VT_OK &&
                   (err = spl_eq("snpSPL", x.has_snp, x.snp_spl, e->snp, d)) == VT_OK &&
                   (err = spl_eq("ucodeSPL", x.has_ucode, x.ucode_spl, e->ucode, d)) == VT_OK &&
                   e->product == VT_SNP_TURIN) {
            err = spl_eq("fmcSPL", x.has_fmc, x.fmc_spl, e->fmc, d);
        }
    }
    if (err == VT_OK) {
        m->issue_date = vt_cert_not_before(c);
        m->next_update = vt_cert_not_after(c);
    }
    vt_cert_list_cleanup(&l);
    vt_cert_free(c);
    return err;
}

enum vt_err vt_doc_check(const struct vt_doc_expect *e, const struct vt_doc_anchors *a,
                         const uint8_t *body, size_t len, const char *chain,
                         const char *headers_tcbm, const char *headers_fmspc, struct vt_doc_meta *m,
                         struct vt_diag *d)
{
    memset(m, 0, sizeof(*m));
    m->eval_num = -1;
    m->next_update = INT64_MAX;
    VT_ENSURE(body != NULL && len > 0, d, VT_E_TRUNCATED, vt_doc_kind_name(e->kind),
              "empty %s body", vt_doc_kind_name(e->kind));
    VT_ENSURE(len <= VT_MAX_COLLATERAL_SIZE, d, VT_E_TOO_LARGE, vt_doc_kind_name(e->kind),
              "%s body of %zu bytes exceeds %u", vt_doc_kind_name(e->kind), len,
              VT_MAX_COLLATERAL_SIZE);
    enum vt_err err;
    switch (e->kind) {
    case VT_DOC_TCB_INFO:
        err = check_tcb_info(e, a, body, len, chain, m, d);
        break;
    case VT_DOC_QE_IDENTITY:
    case VT_DOC_QVE_IDENTITY:
        err = check_identity(e, a, body, len, chain, m, d);
        break;
    case VT_DOC_EVAL_NUMBERS:
        err = check_eval_numbers(e, a, body, len, chain, m, d);
        break;
    case VT_DOC_PCK_CRL:
        err = check_pck_crl(e, a, body, len, chain, m, d);
        break;
    case VT_DOC_ROOT_CRL:
        err = check_root_crl(a->intel, "root_ca_crl", body, len, m, d);
        break;
    case VT_DOC_PCK_CERT:
        err = check_pck_cert(e, a, body, len, chain, headers_tcbm, headers_fmspc, m, d);
        break;
    case VT_DOC_PCK_CERTS:
        err = check_pck_certs(e, a, body, len, chain, m, d);
        break;
    case VT_DOC_FMSPCS:
        err = check_fmspcs(body, len, d);
        break;
    case VT_DOC_VCEK:
        err = check_vcek(e, a, body, len, m, d);
        break;
    case VT_DOC_AMD_CHAIN:
        err = check_amd_chain(e, a, body, len, m, d);
        break;
    case VT_DOC_AMD_CRL:
        err = check_amd_crl(e, a->amd, body, len, m, d);
        break;
    default:
        err = vt_fail(d, VT_E_ARG, "doc", "unknown document kind %d", (int)e->kind);
    }
    if (err != VT_OK) {
        vt_doc_meta_cleanup(m);
    }
    return err;
}
