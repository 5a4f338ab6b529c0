/*
 * The "sim:sgx", "sim:tdx", "sim:snp" and "sim:nitro" attester backends (veritee_sim): evidence
 * in the genuine formats from the simulators, signed by synthetic PKIs.
 *
 * With opts->sim_dir the PKI is kept there as PEM, one subdirectory per TEE, and reused by every
 * later open:
 *   sgx/, tdx/   cert-N.pem + key-N.pem for the DCAP PKI's certificates (N: enum vt_sim_cert:
 *                root, PCK CA, PCK leaf, TCB signer, other CA) and unrelated-key.pem. CRLs and
 *                the signed collateral are regenerated at open around the time.
 *   snp/         ark, ask, asvk, vcek: <name>.pem + <name>-key.pem (Milan).
 *   nitro/       root.pem + root-key.pem; the regional..leaf levels are issued afresh at open
 *                (and again when the 3-hour leaf nears its end), as AWS rotates them.
 *   sgx/measurement, tdx/measurement (optional, never written here): the code's measurement
 *                as hex (SGX MRENCLAVE, 64 digits; TDX MRTD, 96 digits) that the quotes report
 *                instead of the simulator's default: a copy of the directory with another
 *                measurement stands for another build of the code on the same platform.
 * Keys are written with mode 0600. This is a simulator: the keys protect nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include <veritee/attester.h>

#include "attester/attester_impl.h"
#include "base/encoding.h"
#include "attester/sim/sim_attester.h"
#include "dcap_sim.h"
#include "nitro_sim.h"
#include "snp_sim.h"

struct sim_state {
    enum vt_tee tee;
    vt_time fixed_now; /* opts->sim_now; 0: the clock */
    char dir[900];     /* the TEE's PKI directory; "" without sim_dir */
    /* sgx, tdx */
    struct vt_sim_scenario *dcap;
    uint8_t measurement[48]; /* MRENCLAVE (32 bytes) or MRTD (48) from <dir>/measurement */
    bool has_measurement;
    /* snp */
    struct vt_ssim_pki snp;
    EVP_PKEY *snp_keys[3]; /* loaded ARK, ASK, ASVK keys (NULL: the simulator's shared ones) */
    X509 *vcek;
    EVP_PKEY *vcek_key;
    /* nitro */
    EVP_PKEY *nitro_root_key;
    X509 *nitro_root;
    struct vt_nsim_pki *nitro;
};

static vt_time sim_now(const struct sim_state *s)
{
    return s->fixed_now != 0 ? s->fixed_now : (vt_time)time(NULL);
}

/* ---- PEM files ---- */

static enum vt_err mkdir_p(const char *dir, struct vt_diag *d)
{
    char tmp[1024];
    size_t dir_len = strlen(dir);
    VT_ENSURE(dir_len < sizeof(tmp), d, VT_E_ARG, "sim.dir", "path too long");
    memcpy(tmp, dir, dir_len + 1);
    for (char *p = tmp + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
                return vt_fail(d, VT_E_IO, "sim.dir", "mkdir %s: %s", tmp, strerror(errno));
            }
            *p = '/';
        }
    }
    VT_ENSURE(mkdir(tmp, 0700) == 0 || errno == EEXIST, d, VT_E_IO, "sim.dir", "mkdir %s: %s", tmp,
              strerror(errno));
    return VT_OK;
}

static bool file_exists(const char *dir, const char *name)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0;
}

static FILE *open_file(const char *dir, const char *name, const char *mode, bool secret,
                       struct vt_diag *d)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, mode);
    if (f == NULL) {
        vt_fail(d, VT_E_IO, "sim.file", "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (secret) {
        (void)chmod(path, 0600);
    }
    return f;
}

static enum vt_err save_key(const char *dir, const char *name, EVP_PKEY *k, struct vt_diag *d)
{
    FILE *f = open_file(dir, name, "w", true, d);
    if (f == NULL) {
        return d != NULL ? d->code : VT_E_IO;
    }
    bool ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
    ok = fclose(f) == 0 && ok;
    VT_ENSURE(ok, d, VT_E_IO, "sim.file", "writing %s/%s failed", dir, name);
    return VT_OK;
}

static enum vt_err save_cert(const char *dir, const char *name, X509 *x, struct vt_diag *d)
{
    FILE *f = open_file(dir, name, "w", false, d);
    if (f == NULL) {
        return d != NULL ? d->code : VT_E_IO;
    }
    bool ok = PEM_write_X509(f, x) == 1;
    ok = fclose(f) == 0 && ok;
    VT_ENSURE(ok, d, VT_E_IO, "sim.file", "writing %s/%s failed", dir, name);
    return VT_OK;
}

static enum vt_err load_key(const char *dir, const char *name, EVP_PKEY **out, struct vt_diag *d)
{
    FILE *f = open_file(dir, name, "r", false, d);
    if (f == NULL) {
        return d != NULL ? d->code : VT_E_IO;
    }
    *out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    VT_ENSURE(*out != NULL, d, VT_E_BAD_PEM, "sim.file", "%s/%s holds no private key", dir, name);
    return VT_OK;
}

static enum vt_err load_cert(const char *dir, const char *name, X509 **out, struct vt_diag *d)
{
    FILE *f = open_file(dir, name, "r", false, d);
    if (f == NULL) {
        return d != NULL ? d->code : VT_E_IO;
    }
    *out = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    VT_ENSURE(*out != NULL, d, VT_E_BAD_PEM, "sim.file", "%s/%s holds no certificate", dir, name);
    return VT_OK;
}

static enum vt_err write_bytes(const char *dir, const char *name, const void *p, size_t n,
                               struct vt_diag *d)
{
    FILE *f = open_file(dir, name, "wb", false, d);
    if (f == NULL) {
        return d != NULL ? d->code : VT_E_IO;
    }
    bool ok = fwrite(p, 1, n, f) == n;
    ok = fclose(f) == 0 && ok;
    VT_ENSURE(ok, d, VT_E_IO, "sim.file", "writing %s/%s failed", dir, name);
    return VT_OK;
}

/* ---- DCAP (sgx, tdx) ---- */

static enum vt_err dcap_load(struct sim_state *s, vt_time now, struct vt_diag *d)
{
    struct vt_sim_pki *pki = calloc(1, sizeof(*pki));
    VT_ENSURE(pki != NULL, d, VT_E_NOMEM, "sim.pki", "out of memory");
    vt_sim_pki_params_default(&pki->params, s->tee, now);
    enum vt_err err = VT_OK;
    for (size_t i = 0; err == VT_OK && i < VT_SIM_CERT_COUNT; i++) {
        char name[32];
        snprintf(name, sizeof(name), "cert-%zu.pem", i);
        err = load_cert(s->dir, name, &pki->cert[i], d);
        snprintf(name, sizeof(name), "key-%zu.pem", i);
        err = err == VT_OK ? load_key(s->dir, name, &pki->key[i], d) : err;
    }
    err = err == VT_OK ? load_key(s->dir, "unrelated-key.pem", &pki->unrelated_key, d) : err;
    if (err == VT_OK && (!vt_sim_pki_set_crl(pki, true, &pki->params.root_crl) ||
                         !vt_sim_pki_set_crl(pki, false, &pki->params.pck_crl))) {
        err = vt_fail(d, VT_E_CRYPTO, "sim.pki", "cannot issue the CRLs of %s", s->dir);
    }
    if (err != VT_OK) {
        vt_sim_pki_free(pki);
        return err;
    }
    s->dcap = malloc(sizeof(*s->dcap));
    if (s->dcap == NULL) {
        vt_sim_pki_free(pki);
        return vt_fail(d, VT_E_NOMEM, "sim.pki", "out of memory");
    }
    vt_sim_scenario_init(s->dcap, s->tee, 4, now);
    VT_ENSURE(vt_sim_scenario_build_with_pki(s->dcap, pki), d, VT_E_CRYPTO, "sim.pki",
              "cannot build the %s collateral", vt_tee_name(s->tee));
    return VT_OK;
}

/* <dir>/measurement, if the directory has one: the hex measurement the quotes report. */
static enum vt_err dcap_measurement(struct sim_state *s, struct vt_diag *d)
{
    if (s->dir[0] == '\0' || !file_exists(s->dir, "measurement")) {
        return VT_OK;
    }
    FILE *f = open_file(s->dir, "measurement", "r", false, d);
    if (f == NULL) {
        return d != NULL ? d->code : VT_E_IO;
    }
    char hex[200];
    size_t n = fread(hex, 1, sizeof(hex) - 1, f);
    fclose(f);
    while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r' || hex[n - 1] == ' ')) {
        n--;
    }
    size_t want = s->tee == VT_TEE_SGX ? 32 : 48;
    VT_ENSURE(n == 2 * want && vt_hex_decode_exact(hex, n, s->measurement, want) == VT_OK, d,
              VT_E_BAD_FIELD, "sim.measurement",
              "%s/measurement: expected %zu hex digits (the %s), found %zu characters", s->dir,
              2 * want, s->tee == VT_TEE_SGX ? "MRENCLAVE" : "MRTD", n);
    s->has_measurement = true;
    return VT_OK;
}

static enum vt_err dcap_open(struct sim_state *s, vt_time now, struct vt_diag *d)
{
    VT_TRY(dcap_measurement(s, d));
    if (s->dir[0] != '\0' && file_exists(s->dir, "cert-0.pem")) {
        return dcap_load(s, now, d);
    }
    s->dcap = vt_sim_scenario_new(s->tee, 4, now);
    VT_ENSURE(s->dcap != NULL, d, VT_E_CRYPTO, "sim.pki", "cannot generate the %s PKI",
              vt_tee_name(s->tee));
    if (s->dir[0] == '\0') {
        return VT_OK;
    }
    const struct vt_sim_pki *pki = s->dcap->pki;
    for (size_t i = 0; i < VT_SIM_CERT_COUNT; i++) {
        char name[32];
        snprintf(name, sizeof(name), "key-%zu.pem", i);
        VT_TRY(save_key(s->dir, name, pki->key[i], d));
        snprintf(name, sizeof(name), "cert-%zu.pem", i);
        VT_TRY(save_cert(s->dir, name, pki->cert[i], d));
    }
    return save_key(s->dir, "unrelated-key.pem", pki->unrelated_key, d);
}

static enum vt_err dcap_evidence(struct sim_state *s, const struct vt_attester_input *in,
                                 struct vt_buf *evidence, struct vt_diag *d)
{
    struct vt_sim_quote_params qp = s->dcap->quote_params;
    memcpy(s->tee == VT_TEE_SGX ? qp.sgx.report_data : qp.td.report_data, in->report_data, 64);
    if (s->has_measurement && s->tee == VT_TEE_SGX) {
        memcpy(qp.sgx.mrenclave, s->measurement, sizeof(qp.sgx.mrenclave));
    } else if (s->has_measurement) {
        memcpy(qp.td.mrtd, s->measurement, sizeof(qp.td.mrtd));
    }
    size_t len = 0;
    uint8_t *q = vt_sim_quote_make(s->dcap->pki, &qp, &len);
    VT_ENSURE(q != NULL, d, VT_E_CRYPTO, "sim.quote", "the simulator could not make a quote");
    enum vt_err err = vt_attester_buf_set(evidence, q, len, "attester.evidence", d);
    free(q);
    return err;
}

/* ---- SEV-SNP ---- */

static const char *const snp_names[4] = {"ark", "ask", "asvk", "vcek"};

static enum vt_err snp_open(struct sim_state *s, vt_time now, struct vt_diag *d)
{
    if (s->dir[0] != '\0' && file_exists(s->dir, "ark.pem")) {
        memset(&s->snp, 0, sizeof(s->snp));
        s->snp.product = VT_SNP_MILAN;
        X509 *certs[4] = {NULL, NULL, NULL, NULL};
        EVP_PKEY *keys[4] = {NULL, NULL, NULL, NULL};
        enum vt_err err = VT_OK;
        for (size_t i = 0; err == VT_OK && i < 4; i++) {
            char name[32];
            snprintf(name, sizeof(name), "%s.pem", snp_names[i]);
            err = load_cert(s->dir, name, &certs[i], d);
            snprintf(name, sizeof(name), "%s-key.pem", snp_names[i]);
            err = err == VT_OK ? load_key(s->dir, name, &keys[i], d) : err;
        }
        s->snp.ark = certs[0];
        s->snp.ask = certs[1];
        s->snp.asvk = certs[2];
        s->vcek = certs[3];
        for (size_t i = 0; i < 3; i++) {
            s->snp_keys[i] = keys[i];
        }
        s->snp.ark_key = keys[0];
        s->snp.ask_key = keys[1];
        s->snp.asvk_key = keys[2];
        s->vcek_key = keys[3];
        /* a key file that parses but is not the certificate's key would sign evidence that
         * cannot verify: refuse it here, by name */
        for (size_t i = 0; err == VT_OK && i < 4; i++) {
            if (X509_check_private_key(certs[i], keys[i]) != 1) {
                ERR_clear_error();
                err = vt_fail(d, VT_E_BAD_KEY, "sim.snp.key",
                              "%s/%s-key.pem (%s, %d bits) is not the key of %s/%s.pem", s->dir,
                              snp_names[i], EVP_PKEY_get0_type_name(keys[i]),
                              EVP_PKEY_get_bits(keys[i]), s->dir, snp_names[i]);
            }
        }
        return err;
    }
    VT_TRY(vt_ssim_pki_init(&s->snp, VT_SNP_MILAN, now - 86400, now + 10 * 365 * 86400, d));
    struct vt_ssim_vek_opts o;
    vt_ssim_vek_defaults(&s->snp, &o, false, now - 86400, now + 10 * 365 * 86400);
    VT_TRY(vt_ssim_vek(&s->snp, &o, &s->vcek, &s->vcek_key, d));
    if (s->dir[0] == '\0') {
        return VT_OK;
    }
    X509 *certs[4] = {s->snp.ark, s->snp.ask, s->snp.asvk, s->vcek};
    EVP_PKEY *keys[4] = {s->snp.ark_key, s->snp.ask_key, s->snp.asvk_key, s->vcek_key};
    for (size_t i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof(name), "%s.pem", snp_names[i]);
        VT_TRY(save_cert(s->dir, name, certs[i], d));
        snprintf(name, sizeof(name), "%s-key.pem", snp_names[i]);
        VT_TRY(save_key(s->dir, name, keys[i], d));
    }
    return VT_OK;
}

static enum vt_err snp_evidence(struct sim_state *s, const struct vt_attester_input *in,
                                struct vt_buf *evidence, struct vt_buf *aux, struct vt_diag *d)
{
    struct vt_ssim_vek_opts o;
    vt_ssim_vek_defaults(&s->snp, &o, false, 0, 0);
    struct vt_ssim_report r;
    vt_ssim_report_defaults(&s->snp, &o, &r);
    memcpy(r.report_data, in->report_data, 64);
    uint8_t report[VT_SNP_REPORT_SIZE];
    VT_TRY(vt_ssim_report_sign(&r, s->vcek_key, report, d));
    VT_TRY(vt_attester_buf_set(evidence, report, sizeof(report), "attester.evidence", d));
    if (aux != NULL) {
        size_t n = 0;
        uint8_t *der = NULL;
        VT_TRY(vt_ssim_der(s->vcek, &der, &n, d));
        enum vt_err err = vt_attester_buf_set(aux, der, n, "attester.aux", d);
        free(der);
        return err;
    }
    return VT_OK;
}

/* ---- Nitro ---- */

static enum vt_err nitro_issue(struct sim_state *s, vt_time now, struct vt_diag *d)
{
    struct vt_nsim_pki_params p;
    vt_nsim_pki_params_default(&p, now);
    p.root_key = s->nitro_root_key;
    p.root_cert = s->nitro_root;
    struct vt_nsim_pki *pki = vt_nsim_pki_new(&p);
    VT_ENSURE(pki != NULL, d, VT_E_CRYPTO, "sim.pki", "cannot issue the Nitro certificates");
    vt_nsim_pki_free(s->nitro);
    s->nitro = pki;
    if (s->nitro_root == NULL) {
        s->nitro_root_key = pki->key[VT_NSIM_ROOT];
        s->nitro_root = pki->cert[VT_NSIM_ROOT];
        if (EVP_PKEY_up_ref(s->nitro_root_key) != 1 || X509_up_ref(s->nitro_root) != 1) {
            return vt_fail(d, VT_E_CRYPTO, "sim.pki", "reference counting failed");
        }
    }
    return VT_OK;
}

static enum vt_err nitro_open(struct sim_state *s, vt_time now, struct vt_diag *d)
{
    if (s->dir[0] != '\0' && file_exists(s->dir, "root.pem")) {
        VT_TRY(load_cert(s->dir, "root.pem", &s->nitro_root, d));
        VT_TRY(load_key(s->dir, "root-key.pem", &s->nitro_root_key, d));
        return nitro_issue(s, now, d);
    }
    VT_TRY(nitro_issue(s, now, d));
    if (s->dir[0] == '\0') {
        return VT_OK;
    }
    VT_TRY(save_cert(s->dir, "root.pem", s->nitro_root, d));
    return save_key(s->dir, "root-key.pem", s->nitro_root_key, d);
}

static enum vt_err nitro_evidence(struct sim_state *s, const struct vt_attester_input *in,
                                  struct vt_buf *evidence, struct vt_diag *d)
{
    VT_ENSURE(in->user_data_len <= VT_NSM_FIELD_MAX && in->nonce_len <= VT_NSM_FIELD_MAX &&
                  in->public_key_len <= VT_NSM_FIELD_MAX,
              d, VT_E_TOO_LARGE, "sim.nitro.input", "user_data, nonce and public_key: <= %u bytes",
              VT_NSM_FIELD_MAX);
    vt_time now = sim_now(s);
    if (now + 600 > s->nitro->params.level[VT_NSIM_LEAF].not_after) {
        VT_TRY(nitro_issue(s, now, d)); /* the leaf lives 3 hours: issue a fresh one */
    }
    struct vt_nsim_doc_params p;
    vt_nsim_doc_params_default(&p, s->nitro);
    p.timestamp_ms = (uint64_t)now * 1000u;
    if (p.timestamp_ms < (uint64_t)(s->nitro->params.level[VT_NSIM_LEAF].not_before + 3) * 1000u) {
        p.timestamp_ms = (uint64_t)(s->nitro->params.level[VT_NSIM_LEAF].not_before + 3) * 1000u;
    }
    if (in->nonce != NULL) {
        p.nonce = (struct vt_nsim_opt){VT_NSIM_OPT_BYTES, in->nonce, in->nonce_len};
    }
    if (in->public_key != NULL) {
        p.public_key = (struct vt_nsim_opt){VT_NSIM_OPT_BYTES, in->public_key, in->public_key_len};
    }
    if (in->user_data != NULL) {
        p.user_data = (struct vt_nsim_opt){VT_NSIM_OPT_BYTES, in->user_data, in->user_data_len};
    }
    struct vt_sim_blob doc = {0};
    VT_ENSURE(vt_nsim_doc_build(s->nitro, &p, &doc, NULL), d, VT_E_CRYPTO, "sim.nitro.doc",
              "the simulator could not make a document");
    enum vt_err err = vt_attester_buf_set(evidence, doc.data, doc.len, "attester.evidence", d);
    vt_sim_blob_cleanup(&doc);
    return err;
}

/* ---- the backend ---- */

static void sim_free_state(struct sim_state *s)
{
    if (s == NULL) {
        return;
    }
    vt_sim_scenario_free(s->dcap);
    if (s->snp.ark != NULL) {
        vt_ssim_pki_cleanup(&s->snp);
    }
    for (size_t i = 0; i < 3; i++) {
        EVP_PKEY_free(s->snp_keys[i]);
    }
    X509_free(s->vcek);
    EVP_PKEY_free(s->vcek_key);
    vt_nsim_pki_free(s->nitro);
    X509_free(s->nitro_root);
    EVP_PKEY_free(s->nitro_root_key);
    free(s);
}

static enum vt_err sim_open(struct vt_attester *a, const char *backend,
                            const struct vt_attester_opts *opts, struct vt_diag *d)
{
    enum vt_tee tee = VT_TEE_NONE;
    const char *name = backend + 4;
    if (strcmp(name, "sgx") == 0) {
        tee = VT_TEE_SGX;
    } else if (strcmp(name, "tdx") == 0) {
        tee = VT_TEE_TDX;
    } else if (strcmp(name, "snp") == 0) {
        tee = VT_TEE_SEV_SNP;
    } else if (strcmp(name, "nitro") == 0) {
        tee = VT_TEE_NITRO;
    }
    VT_ENSURE(tee != VT_TEE_NONE, d, VT_E_UNSUPPORTED, "attester.backend",
              "unknown simulator \"%.32s\" (sim:sgx, sim:tdx, sim:snp, sim:nitro)", backend);
    struct sim_state *s = calloc(1, sizeof(*s));
    VT_ENSURE(s != NULL, d, VT_E_NOMEM, "sim.open", "out of memory");
    s->tee = tee;
    s->fixed_now = opts->sim_now;
    enum vt_err err = VT_OK;
    if (opts->sim_dir != NULL) {
        const char *sub = tee == VT_TEE_SEV_SNP ? "snp" : name;
        int n = snprintf(s->dir, sizeof(s->dir), "%s/%s", opts->sim_dir, sub);
        if (n < 0 || (size_t)n >= sizeof(s->dir)) {
            err = vt_fail(d, VT_E_ARG, "sim.dir", "sim_dir too long");
        }
        err = err == VT_OK ? mkdir_p(s->dir, d) : err;
    }
    vt_time now = sim_now(s);
    if (err == VT_OK) {
        switch (tee) {
        case VT_TEE_SGX:
        case VT_TEE_TDX:
            err = dcap_open(s, now, d);
            break;
        case VT_TEE_SEV_SNP:
            err = snp_open(s, now, d);
            break;
        default:
            err = nitro_open(s, now, d);
            break;
        }
    }
    if (err != VT_OK) {
        sim_free_state(s);
        return err;
    }
    a->state = s;
    a->tee = tee;
    return VT_OK;
}

static enum vt_err sim_evidence(struct vt_attester *a, const struct vt_attester_input *in,
                                struct vt_buf *evidence, struct vt_buf *aux, struct vt_diag *d)
{
    struct sim_state *s = a->state;
    switch (s->tee) {
    case VT_TEE_SGX:
    case VT_TEE_TDX:
        return dcap_evidence(s, in, evidence, d);
    case VT_TEE_SEV_SNP:
        return snp_evidence(s, in, evidence, aux, d);
    default:
        return nitro_evidence(s, in, evidence, d);
    }
}

static void sim_close(struct vt_attester *a)
{
    sim_free_state(a->state);
    a->state = NULL;
}

static const struct vt_attester_ops sim_ops = {
    .name = "sim",
    .open = sim_open,
    .evidence = sim_evidence,
    .close = sim_close,
};

void vt_attester_sim_register(void)
{
    vt_attester_set_sim_ops(&sim_ops);
}

/* ---- export ---- */

enum vt_err vt_attester_sim_export(struct vt_attester *a, const char *dir, struct vt_diag *d)
{
    VT_ENSURE(a != NULL && dir != NULL, d, VT_E_ARG, "sim.export", "NULL argument");
    VT_ENSURE(a->ops == &sim_ops, d, VT_E_STATE, "sim.export", "backend \"%s\" is not a simulator",
              a->backend);
    struct sim_state *s = a->state;
    char sub[1100];
    snprintf(sub, sizeof(sub), "%s/anchors", dir);
    VT_TRY(mkdir_p(sub, d));
    char anchor[40];
    snprintf(anchor, sizeof(anchor), "%s.pem", vt_tee_name(s->tee));
    switch (s->tee) {
    case VT_TEE_SGX:
    case VT_TEE_TDX: {
        VT_TRY(write_bytes(sub, anchor, s->dcap->root_pem.data, s->dcap->root_pem.len, d));
        snprintf(sub, sizeof(sub), "%s/collateral/%s", dir, vt_tee_name(s->tee));
        VT_TRY(mkdir_p(sub, d));
        VT_ENSURE(vt_sim_scenario_write_dir(s->dcap, sub), d, VT_E_IO, "sim.export",
                  "cannot write the collateral to %s", sub);
        /* the scenario's sample quote is not ours to export */
        char q[1200];
        snprintf(q, sizeof(q), "%s/quote.bin", sub);
        (void)remove(q);
        return VT_OK;
    }
    case VT_TEE_SEV_SNP: {
        VT_TRY(save_cert(sub, anchor, s->snp.ark, d));
        snprintf(sub, sizeof(sub), "%s/collateral/snp", dir);
        VT_TRY(mkdir_p(sub, d));
        X509 *chain[2] = {s->snp.ask, s->snp.ark};
        size_t n = 0;
        char *pem = NULL;
        VT_TRY(vt_ssim_pem(chain, 2, &pem, &n, d));
        enum vt_err err = write_bytes(sub, "cert_chain.pem", pem, n, d);
        free(pem);
        return err;
    }
    default:
        return save_cert(sub, anchor, s->nitro_root, d);
    }
}
