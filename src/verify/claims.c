/* The claims model and its JSON form. The names are documented in docs/claims.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <veritee/claims.h>
#include <veritee/encoding.h>

void vt_claims_init(struct vt_claims *c)
{
    memset(c, 0, sizeof(*c));
    c->collateral.earliest_expiry = INT64_MAX;
    c->collateral.tcb_eval_num = -1;
}

void vt_claims_note_expiry(struct vt_claims *c, vt_time not_after)
{
    if (not_after < c->collateral.earliest_expiry) {
        c->collateral.earliest_expiry = not_after;
    }
}

void vt_claims_add_collateral(struct vt_claims *c, const char *name,
                              const uint8_t sha256[VT_SHA256_LEN], vt_time issue_date,
                              vt_time next_update, int64_t tcb_eval_num)
{
    struct vt_collateral_claims *cc = &c->collateral;
    if (cc->n < VT_COLLATERAL_DOCS_MAX) {
        struct vt_collateral_doc *doc = &cc->docs[cc->n++];
        snprintf(doc->name, sizeof(doc->name), "%s", name);
        memcpy(doc->sha256, sha256, VT_SHA256_LEN);
        doc->issue_date = issue_date;
        doc->next_update = next_update;
        doc->tcb_eval_num = tcb_eval_num;
    }
    vt_claims_note_expiry(c, next_update);
    if (tcb_eval_num >= 0 && (cc->tcb_eval_num < 0 || tcb_eval_num < cc->tcb_eval_num)) {
        cc->tcb_eval_num = tcb_eval_num;
    }
}

/* Small builders that make the serialiser read as a list of claims. Allocation failures are
 * caught once at the end: jansson's set functions ignore a NULL value and report it. */
static int set_hex(json_t *o, const char *k, const uint8_t *p, size_t n)
{
    char buf[2 * 64 + 1];
    if (n > 64) {
        return -1;
    }
    vt_hex_encode(p, n, buf);
    return json_object_set_new(o, k, json_string(buf));
}

static int set_time(json_t *o, const char *k, vt_time t)
{
    if (t == INT64_MAX || t == INT64_MIN) {
        return json_object_set_new(o, k, json_null());
    }
    char buf[VT_TIME_STR_MAX];
    vt_time_format(t, buf);
    return json_object_set_new(o, k, json_string(buf));
}

static int set_status(json_t *o, const char *k, enum vt_tcb_status s)
{
    if (s == VT_TCB_NONE) {
        return 0;
    }
    return json_object_set_new(o, k, json_string(vt_tcb_status_name(s)));
}

static int set_int(json_t *o, const char *k, json_int_t v)
{
    return json_object_set_new(o, k, json_integer(v));
}

static int add_sgx(json_t *o, const struct vt_sgx_claims *s)
{
    char misc[9];
    snprintf(misc, sizeof(misc), "%08x", s->miscselect);
    return set_hex(o, "sgx.mrenclave", s->mrenclave, 32) |
           set_hex(o, "sgx.mrsigner", s->mrsigner, 32) |
           set_int(o, "sgx.isv_prod_id", s->isv_prod_id) | set_int(o, "sgx.isv_svn", s->isv_svn) |
           set_int(o, "sgx.config_svn", s->config_svn) | set_hex(o, "sgx.cpusvn", s->cpusvn, 16) |
           json_object_set_new(o, "sgx.miscselect", json_string(misc)) |
           set_hex(o, "sgx.attributes", s->attributes, 16) |
           set_hex(o, "sgx.config_id", s->config_id, 64) |
           set_hex(o, "sgx.isv_ext_prod_id", s->isv_ext_prod_id, 16) |
           set_hex(o, "sgx.isv_family_id", s->isv_family_id, 16);
}

static int add_tdx(json_t *o, const struct vt_tdx_claims *t)
{
    int rc = set_hex(o, "tdx.mrtd", t->mrtd, 48) | set_hex(o, "tdx.rtmr0", t->rtmr[0], 48) |
             set_hex(o, "tdx.rtmr1", t->rtmr[1], 48) | set_hex(o, "tdx.rtmr2", t->rtmr[2], 48) |
             set_hex(o, "tdx.rtmr3", t->rtmr[3], 48) |
             set_hex(o, "tdx.mrconfigid", t->mrconfigid, 48) |
             set_hex(o, "tdx.mrowner", t->mrowner, 48) |
             set_hex(o, "tdx.mrownerconfig", t->mrownerconfig, 48) |
             set_hex(o, "tdx.mrseam", t->mrseam, 48) |
             set_hex(o, "tdx.mrsignerseam", t->mrsignerseam, 48) |
             set_hex(o, "tdx.seam_attributes", t->seam_attributes, 8) |
             set_hex(o, "tdx.td_attributes", t->td_attributes, 8) |
             set_hex(o, "tdx.xfam", t->xfam, 8) | set_hex(o, "tdx.tee_tcb_svn", t->tee_tcb_svn, 16);
    if (t->has_tee_tcb_svn2) {
        rc |= set_hex(o, "tdx.tee_tcb_svn2", t->tee_tcb_svn2, 16) |
              set_hex(o, "tdx.mrservicetd", t->mrservicetd, 48);
    }
    return rc;
}

static int add_dcap(json_t *o, const struct vt_dcap_claims *dc)
{
    static const char *const sgx_types[] = {"Standard", "Scalable", "ScalableWithIntegrity"};
    json_t *comps = json_array();
    for (size_t i = 0; comps != NULL && i < 16; i++) {
        json_array_append_new(comps, json_integer(dc->sgx_tcb_components[i]));
    }
    int rc = set_hex(o, "fmspc", dc->fmspc, 6) |
             set_int(o, "dcap.quote_version", dc->quote_version) |
             set_int(o, "dcap.body_type", dc->body_type) | set_hex(o, "dcap.pceid", dc->pceid, 2) |
             json_object_set_new(o, "dcap.pck_ca", json_string(dc->pck_ca)) |
             json_object_set_new(o, "dcap.sgx_tcb_components", comps) |
             set_int(o, "dcap.pcesvn", dc->pcesvn) | set_hex(o, "dcap.cpusvn", dc->cpusvn, 16) |
             set_hex(o, "dcap.ppid", dc->ppid, 16) |
             json_object_set_new(o, "dcap.sgx_type",
                                 json_string(dc->sgx_type >= 0 && dc->sgx_type <= 2
                                                 ? sgx_types[dc->sgx_type]
                                                 : "unknown")) |
             set_time(o, "dcap.tcb_date", dc->tcb_date) |
             set_time(o, "dcap.qe_tcb_date", dc->qe_tcb_date) |
             set_int(o, "dcap.qe_isv_svn", dc->qe_isv_svn) |
             set_hex(o, "dcap.qe_user_data", dc->qe_user_data, 20);
    if (dc->has_platform_instance_id) {
        rc |= set_hex(o, "dcap.platform_instance_id", dc->platform_instance_id, 16);
    }
    if (dc->has_configuration) {
        rc |= json_object_set_new(o, "dcap.dynamic_platform", json_boolean(dc->dynamic_platform)) |
              json_object_set_new(o, "dcap.cached_keys", json_boolean(dc->cached_keys)) |
              json_object_set_new(o, "dcap.smt_enabled", json_boolean(dc->smt_enabled));
    }
    if (dc->tdx_module_identity[0] != '\0') {
        rc |= json_object_set_new(o, "dcap.tdx_module_identity",
                                  json_string(dc->tdx_module_identity));
    }
    return rc;
}

/* A variable-length binding as lowercase hex; absent when not present. */
static int set_binding(json_t *o, const char *k, const struct vt_binding_claim *b)
{
    if (!b->present) {
        return 0;
    }
    char *hex = malloc(2 * b->len + 1);
    if (hex == NULL) {
        return -1;
    }
    vt_hex_encode(b->data, b->len, hex);
    int rc = json_object_set_new(o, k, json_string(hex));
    free(hex);
    return rc;
}

static int add_nitro(json_t *o, const struct vt_nitro_claims *n)
{
    char ts[VT_TIME_STR_MAX + 4];
    vt_time_format((vt_time)(n->timestamp_ms / 1000), ts);
    /* RFC 3339 with milliseconds: replace the trailing Z. */
    size_t len = strlen(ts);
    snprintf(ts + len - 1, sizeof(ts) - (len - 1), ".%03uZ", (unsigned)(n->timestamp_ms % 1000));
    int rc = json_object_set_new(o, "nitro.module_id", json_string(n->module_id)) |
             json_object_set_new(o, "nitro.timestamp", json_string(ts)) |
             set_int(o, "nitro.timestamp_ms", (json_int_t)n->timestamp_ms);
    for (unsigned i = 0; i < VT_CLAIMS_MAX_PCRS; i++) {
        if (n->pcr_mask & (1u << i)) {
            char key[16];
            snprintf(key, sizeof(key), "nitro.pcr%u", i);
            rc |= set_hex(o, key, n->pcrs[i], n->pcr_len[i]);
        }
    }
    return rc;
}

static int set_bool(json_t *o, const char *k, bool v)
{
    return json_object_set_new(o, k, json_boolean(v));
}

static int set_u64_hex(json_t *o, const char *k, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
    return json_object_set_new(o, k, json_string(buf));
}

/* snp.<name>.{bootloader,tee,snp,microcode[,fmc],raw} */
static int set_snp_tcb(json_t *o, const char *name, const struct vt_snp_tcb_claim *t, bool fmc)
{
    static const char *const fields[] = {"bootloader", "tee", "snp", "microcode", "fmc"};
    const unsigned values[] = {t->bootloader, t->tee, t->snp, t->microcode, t->fmc};
    char key[64];
    int rc = 0;
    for (size_t i = 0; i < (fmc ? 5u : 4u); i++) {
        snprintf(key, sizeof(key), "snp.%s.%s", name, fields[i]);
        rc |= set_int(o, key, values[i]);
    }
    snprintf(key, sizeof(key), "snp.%s.raw", name);
    return rc | set_u64_hex(o, key, t->raw);
}

static int set_version3(json_t *o, const char *k, uint8_t major, uint8_t minor, uint8_t build)
{
    char buf[16];
    snprintf(buf, sizeof(buf), "%u.%u.%u", major, minor, build);
    return json_object_set_new(o, k, json_string(buf));
}

/* The Azure HCL runtime data: snp.runtime.keys.<kid> (JWK objects) and
 * snp.runtime.vm_configuration.<name> (the values as given). */
static int add_snp_runtime(json_t *o, const struct vt_snp_claims *s)
{
    int rc = 0;
    char key[128];
    for (size_t i = 0; i < s->n_runtime_keys; i++) {
        snprintf(key, sizeof(key), "snp.runtime.keys.%s", s->runtime_keys[i].kid);
        rc |= json_object_set_new(o, key, json_loads(s->runtime_keys[i].jwk, 0, NULL));
    }
    json_t *cfg = s->vm_configuration[0] != '\0' ? json_loads(s->vm_configuration, 0, NULL) : NULL;
    const char *name = NULL;
    json_t *val = NULL;
    json_object_foreach(cfg, name, val)
    {
        snprintf(key, sizeof(key), "snp.runtime.vm_configuration.%s", name);
        rc |= json_object_set(o, key, val);
    }
    json_decref(cfg);
    return rc;
}

static int add_snp(json_t *o, const struct vt_claims *c)
{
    const struct vt_snp_claims *s = &c->snp;
    bool turin = strcmp(s->product, "Turin") == 0;
    uint64_t p = s->policy;
    uint64_t pi = s->platform_info;
    int rc =
        set_int(o, "snp.version", s->version) |
        json_object_set_new(o, "snp.product", json_string(s->product)) |
        json_object_set_new(o, "snp.product_name", json_string(s->product_name)) |
        set_hex(o, "snp.measurement", s->measurement, sizeof(s->measurement)) |
        set_hex(o, "snp.host_data", s->host_data, sizeof(s->host_data)) |
        set_hex(o, "snp.report_data", c->report_data, sizeof(c->report_data)) |
        set_hex(o, "snp.chip_id", s->chip_id, sizeof(s->chip_id)) |
        set_bool(o, "snp.chip_id_masked", s->chip_id_masked) | set_int(o, "snp.vmpl", s->vmpl) |
        set_int(o, "snp.guest_svn", s->guest_svn) | set_u64_hex(o, "snp.policy", p) |
        set_int(o, "snp.policy.abi_minor", (json_int_t)(p & 0xff)) |
        set_int(o, "snp.policy.abi_major", (json_int_t)((p >> 8) & 0xff)) |
        set_bool(o, "snp.policy.smt", (p >> 16) & 1) |
        set_bool(o, "snp.policy.migrate_ma", (p >> 18) & 1) |
        set_bool(o, "snp.policy.debug", (p >> 19) & 1) |
        set_bool(o, "snp.policy.single_socket", (p >> 20) & 1) |
        set_bool(o, "snp.policy.cxl_allow", (p >> 21) & 1) |
        set_bool(o, "snp.policy.mem_aes_256_xts", (p >> 22) & 1) |
        set_bool(o, "snp.policy.rapl_dis", (p >> 23) & 1) |
        set_bool(o, "snp.policy.ciphertext_hiding", (p >> 24) & 1) |
        set_bool(o, "snp.policy.page_swap_disable", (p >> 25) & 1) |
        set_u64_hex(o, "snp.platform_info", pi) |
        set_bool(o, "snp.platform_info.smt_enabled", pi & 1) |
        set_bool(o, "snp.platform_info.tsme_enabled", (pi >> 1) & 1) |
        set_bool(o, "snp.platform_info.ecc_enabled", (pi >> 2) & 1) |
        set_bool(o, "snp.platform_info.rapl_disabled", (pi >> 3) & 1) |
        set_bool(o, "snp.platform_info.ciphertext_hiding_enabled", (pi >> 4) & 1) |
        set_bool(o, "snp.platform_info.alias_check_complete", (pi >> 5) & 1) |
        set_bool(o, "snp.platform_info.tio_enabled", (pi >> 7) & 1) |
        json_object_set_new(o, "snp.signing_key",
                            json_string(s->signing_key == 1 ? "vlek" : "vcek")) |
        set_bool(o, "snp.author_key_en", s->key_info & 1) |
        set_hex(o, "snp.family_id", s->family_id, sizeof(s->family_id)) |
        set_hex(o, "snp.image_id", s->image_id, sizeof(s->image_id)) |
        set_hex(o, "snp.id_key_digest", s->id_key_digest, sizeof(s->id_key_digest)) |
        set_hex(o, "snp.author_key_digest", s->author_key_digest, sizeof(s->author_key_digest)) |
        set_hex(o, "snp.report_id", s->report_id, sizeof(s->report_id)) |
        set_hex(o, "snp.report_id_ma", s->report_id_ma, sizeof(s->report_id_ma)) |
        set_version3(o, "snp.current_version", s->current_major, s->current_minor,
                     s->current_build) |
        set_version3(o, "snp.committed_version", s->committed_major, s->committed_minor,
                     s->committed_build) |
        set_snp_tcb(o, "current_tcb", &s->current_tcb, turin) |
        set_snp_tcb(o, "reported_tcb", &s->reported_tcb, turin) |
        set_snp_tcb(o, "committed_tcb", &s->committed_tcb, turin) |
        set_snp_tcb(o, "launch_tcb", &s->launch_tcb, turin);
    if (s->csp_id[0] != '\0') {
        rc |= json_object_set_new(o, "snp.csp_id", json_string(s->csp_id));
    }
    if (s->version >= 3) {
        rc |= set_int(o, "snp.cpuid.family", s->cpuid_fam_id) |
              set_int(o, "snp.cpuid.model", s->cpuid_mod_id) |
              set_int(o, "snp.cpuid.stepping", s->cpuid_step);
    }
    if (s->version >= 5) {
        rc |= set_u64_hex(o, "snp.launch_mit_vector", s->launch_mit_vector) |
              set_u64_hex(o, "snp.current_mit_vector", s->current_mit_vector);
    }
    if (s->has_runtime_data) {
        rc |= add_snp_runtime(o, s);
    }
    return rc;
}

static json_t *collateral_json(const struct vt_collateral_claims *cc)
{
    json_t *o = json_object();
    json_t *docs = json_array();
    if (o == NULL || docs == NULL) {
        json_decref(o);
        json_decref(docs);
        return NULL;
    }
    int rc = 0;
    for (size_t i = 0; i < cc->n; i++) {
        const struct vt_collateral_doc *doc = &cc->docs[i];
        json_t *jd = json_object();
        rc |= json_array_append_new(docs, jd);
        if (jd == NULL) {
            break;
        }
        rc |= json_object_set_new(jd, "name", json_string(doc->name)) |
              set_hex(jd, "sha256", doc->sha256, VT_SHA256_LEN) |
              set_time(jd, "issue_date", doc->issue_date) |
              set_time(jd, "next_update", doc->next_update);
        if (doc->tcb_eval_num >= 0) {
            rc |= set_int(jd, "tcb_eval_num", doc->tcb_eval_num);
        }
    }
    rc |= json_object_set_new(o, "documents", docs) |
          set_time(o, "earliest_expiry", cc->earliest_expiry);
    if (cc->tcb_eval_num >= 0) {
        rc |= set_int(o, "tcb_eval_num", cc->tcb_eval_num);
    }
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *vt_claims_to_json(const struct vt_claims *c)
{
    json_t *o = json_object();
    json_t *adv = json_array();
    if (o == NULL || adv == NULL) {
        json_decref(o);
        json_decref(adv);
        return NULL;
    }
    for (size_t i = 0; i < c->advisories.n; i++) {
        json_array_append_new(adv, json_string(c->advisories.ids[i]));
    }
    int rc = json_object_set_new(o, "tee", json_string(vt_tee_name(c->tee))) |
             set_time(o, "verified_at", c->verified_at) | set_status(o, "status", c->status) |
             set_status(o, "platform_status", c->platform_status) |
             set_status(o, "qe_status", c->qe_status) |
             set_status(o, "module_status", c->module_status) |
             json_object_set_new(o, "advisory_ids", adv) |
             json_object_set_new(o, "debug", json_boolean(c->debug));
    if (c->tee == VT_TEE_SGX || c->tee == VT_TEE_TDX || c->tee == VT_TEE_SEV_SNP) {
        rc |= set_hex(o, "report_data", c->report_data, 64);
    }
    rc |= set_binding(o, "user_data", &c->user_data) | set_binding(o, "nonce", &c->nonce) |
          set_binding(o, "public_key", &c->public_key);
    if (c->tee == VT_TEE_NITRO) {
        rc |= add_nitro(o, &c->nitro);
    } else if (c->tee == VT_TEE_SEV_SNP) {
        rc |= add_snp(o, c);
    }
    if (c->tee == VT_TEE_SGX) {
        rc |= add_sgx(o, &c->sgx);
    } else if (c->tee == VT_TEE_TDX) {
        rc |= add_tdx(o, &c->tdx);
    }
    if (c->tee == VT_TEE_SGX || c->tee == VT_TEE_TDX) {
        rc |= add_dcap(o, &c->dcap);
    }
    rc |= json_object_set_new(o, "collateral", collateral_json(&c->collateral));
    char *s = rc == 0 ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return s;
}
