/* Evidence for the broker's tests from the simulators (see broker_sim.h). */
#include "broker_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dcap_sim.h"
#include "nitro_sim.h"
#include "snp_sim.h"

struct vt_bsim {
    char dir[512];
    char anchor_paths[5][600];
    const char *anchors[6];
    char coll[600];
    vt_time now;
    struct vt_sim_scenario *sgx, *tdx, *sgx_ood;
    struct vt_nsim_pki *nitro;
    struct vt_ssim_pki snp;
    X509 *vcek;
    EVP_PKEY *vcek_key;
    char meas[4][2 * 48 + 1];
    /* per DCAP platform (sgx, tdx, sgx_ood): its QE's attestation key and QE report signature,
     * kept as a platform keeps them, so that every quote of it carries the same */
    EVP_PKEY *ak[3];
    uint8_t qe_sig[3][64];
};

/* Give the platform sc (index i) one attestation key and QE report signature for all its quotes:
 * those of a first quote built with a fresh key. */
static bool fix_attestation_key(struct vt_bsim *s, size_t i, struct vt_sim_scenario *sc)
{
    struct vt_sim_quote q;
    memset(&q, 0, sizeof(q));
    if (!vt_sim_quote_build(sc->pki, &sc->quote_params, &q) || q.att_key == NULL ||
        EVP_PKEY_up_ref(q.att_key) != 1) {
        vt_sim_quote_cleanup(&q);
        return false;
    }
    s->ak[i] = q.att_key;
    memcpy(s->qe_sig[i], q.data + q.layout.qe_report_sig_off, 64);
    vt_sim_quote_cleanup(&q);
    sc->quote_params.att_key = s->ak[i];
    sc->quote_params.qe_report_sig = s->qe_sig[i];
    return true;
}

static bool write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    bool ok = f != NULL && fwrite(p, 1, n, f) == n;
    return f != NULL && fclose(f) == 0 && ok;
}

void vt_bsim_free(struct vt_bsim *s)
{
    if (s == NULL) {
        return;
    }
    vt_sim_scenario_free(s->sgx);
    vt_sim_scenario_free(s->tdx);
    vt_sim_scenario_free(s->sgx_ood);
    vt_nsim_pki_free(s->nitro);
    X509_free(s->vcek);
    EVP_PKEY_free(s->vcek_key);
    vt_ssim_pki_cleanup(&s->snp);
    for (size_t i = 0; i < 3; i++) {
        EVP_PKEY_free(s->ak[i]);
    }
    free(s);
}

struct vt_bsim *vt_bsim_new(const char *dir, vt_time now)
{
    struct vt_bsim *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    s->now = now;
    snprintf(s->dir, sizeof(s->dir), "%s", dir);
    char path[700];
    mkdir(dir, 0700);
    snprintf(path, sizeof(path), "%s/anchors", dir);
    mkdir(path, 0700);
    snprintf(s->coll, sizeof(s->coll), "%s/collateral", dir);
    mkdir(s->coll, 0700);
    s->sgx = vt_sim_scenario_new(VT_TEE_SGX, 4, now);
    s->tdx = vt_sim_scenario_new(VT_TEE_TDX, 4, now);
    /* OutOfDate: a platform whose TCB only reaches the lower (OutOfDate) level */
    s->sgx_ood = calloc(1, sizeof(*s->sgx_ood));
    bool ok = s->sgx && s->tdx && s->sgx_ood;
    if (ok) {
        vt_sim_scenario_init(s->sgx_ood, VT_TEE_SGX, 4, now);
        s->sgx_ood->tcb_info.levels[0].status = "OutOfDate";
        ok = vt_sim_scenario_build(s->sgx_ood);
    }
    ok = ok && fix_attestation_key(s, 0, s->sgx) && fix_attestation_key(s, 1, s->tdx) &&
         fix_attestation_key(s, 2, s->sgx_ood);
    struct vt_sim_blob doc = {0};
    ok = ok && vt_nsim_default(now, &s->nitro, &doc);
    vt_sim_blob_cleanup(&doc);
    if (ok) {
        ok = vt_ssim_pki_init(&s->snp, VT_SNP_MILAN, now - 86400, now + 365 * 86400, NULL) == VT_OK;
        struct vt_ssim_vek_opts o;
        vt_ssim_vek_defaults(&s->snp, &o, false, now - 86400, now + 365 * 86400);
        ok = ok && vt_ssim_vek(&s->snp, &o, &s->vcek, &s->vcek_key, NULL) == VT_OK;
    }
    const char *names[5] = {"sgx", "tdx", "sgx-ood", "snp", "nitro"};
    for (size_t i = 0; ok && i < 5; i++) {
        snprintf(s->anchor_paths[i], sizeof(s->anchor_paths[i]), "%s/anchors/%s.pem", dir,
                 names[i]);
        s->anchors[i] = s->anchor_paths[i];
        struct vt_sim_blob pem = {0};
        size_t n = 0;
        char *snp_pem = NULL;
        if (i < 3) {
            const struct vt_sim_scenario *sc = i == 0 ? s->sgx : i == 1 ? s->tdx : s->sgx_ood;
            ok = write_file(s->anchors[i], sc->root_pem.data, sc->root_pem.len);
        } else if (i == 3) {
            ok = vt_ssim_pem(&s->snp.ark, 1, &snp_pem, &n, NULL) == VT_OK &&
                 write_file(s->anchors[i], snp_pem, n);
        } else {
            ok = vt_nsim_cert_pem(s->nitro, VT_NSIM_ROOT, &pem) &&
                 write_file(s->anchors[i], pem.data, pem.len);
        }
        free(snp_pem);
        vt_sim_blob_cleanup(&pem);
    }
    if (ok) {
        snprintf(path, sizeof(path), "%s/sgx", s->coll);
        ok = vt_sim_scenario_write_dir(s->sgx, path);
        snprintf(path, sizeof(path), "%s/tdx", s->coll);
        ok = ok && vt_sim_scenario_write_dir(s->tdx, path);
        snprintf(path, sizeof(path), "%s/sgx-ood", s->coll);
        ok = ok && vt_sim_scenario_write_dir(s->sgx_ood, path);
        X509 *chain[2] = {s->snp.ask, s->snp.ark};
        size_t n = 0;
        char *pem = NULL;
        snprintf(path, sizeof(path), "%s/cert_chain.pem", s->coll);
        ok = ok && vt_ssim_pem(chain, 2, &pem, &n, NULL) == VT_OK && write_file(path, pem, n);
        free(pem);
        /* the VCEK too, for reports that come without it (the KBS protocol's) */
        size_t vn = 0;
        uint8_t *vcek = NULL;
        snprintf(path, sizeof(path), "%s/vcek.der", s->coll);
        ok = ok && vt_ssim_der(s->vcek, &vcek, &vn, NULL) == VT_OK && write_file(path, vcek, vn);
        free(vcek);
    }
    if (!ok) {
        vt_bsim_free(s);
        return NULL;
    }
    vt_hex_encode(s->sgx->quote_params.sgx.mrenclave, 32, s->meas[0]);
    vt_hex_encode(s->tdx->quote_params.td.mrtd, 48, s->meas[1]);
    return s;
}

const char *const *vt_bsim_anchors(const struct vt_bsim *s)
{
    return s->anchors;
}

const char *vt_bsim_collateral_dir(const struct vt_bsim *s)
{
    return s->coll;
}

static void bind(uint8_t rd[64], const uint8_t nonce[32], const uint8_t *tp, size_t tp_len)
{
    uint8_t *m = malloc(32 + tp_len);
    if (m == NULL) {
        memset(rd, 0, 64);
        return;
    }
    memcpy(m, nonce, 32);
    memcpy(m + 32, tp, tp_len);
    vt_sha512(m, 32 + tp_len, rd);
    free(m);
}

uint8_t *vt_bsim_evidence(struct vt_bsim *s, enum vt_tee tee, const uint8_t nonce[32],
                          const uint8_t *tp_input, size_t tp_len, const uint8_t *spki,
                          size_t spki_len, unsigned variant, size_t *len, uint8_t **vek,
                          size_t *vek_len)
{
    *len = 0;
    if (vek != NULL) {
        *vek = NULL;
        *vek_len = 0;
    }
    uint8_t *out = NULL;
    if (tee == VT_TEE_SGX || tee == VT_TEE_TDX) {
        struct vt_sim_scenario *sc = tee == VT_TEE_TDX                 ? s->tdx
                                     : (variant & VT_BSIM_OUT_OF_DATE) ? s->sgx_ood
                                                                       : s->sgx;
        struct vt_sim_quote_params qp = sc->quote_params;
        uint8_t *rd = tee == VT_TEE_SGX ? qp.sgx.report_data : qp.td.report_data;
        bind(rd, nonce, tp_input, tp_len);
        if (variant & VT_BSIM_DEBUG) {
            if (tee == VT_TEE_SGX) {
                qp.sgx.attributes[0] |= 0x02;
            } else {
                qp.td.td_attributes[0] |= 0x01;
            }
        }
        if (variant & VT_BSIM_OTHER_CODE) {
            if (tee == VT_TEE_SGX) {
                qp.sgx.mrenclave[0] ^= 0xff;
            } else {
                qp.td.mrtd[0] ^= 0xff;
            }
        }
        out = vt_sim_quote_make(sc->pki, &qp, len);
        if (out != NULL && (variant & VT_BSIM_CORRUPT)) {
            out[48 + 16] ^= 0x01; /* inside the signed report body */
        }
        return out;
    }
    if (tee == VT_TEE_SEV_SNP) {
        struct vt_ssim_vek_opts o;
        vt_ssim_vek_defaults(&s->snp, &o, false, s->now - 86400, s->now + 365 * 86400);
        struct vt_ssim_report r;
        vt_ssim_report_defaults(&s->snp, &o, &r);
        bind(r.report_data, nonce, tp_input, tp_len);
        if (variant & VT_BSIM_DEBUG) {
            r.policy |= UINT64_C(1) << 19;
        }
        if (variant & VT_BSIM_OTHER_CODE) {
            r.measurement[0] ^= 0xff;
        }
        out = malloc(VT_SNP_REPORT_SIZE);
        if (out == NULL) {
            return NULL;
        }
        if (vt_ssim_report_sign(&r, s->vcek_key, out, NULL) != VT_OK) {
            free(out);
            return NULL;
        }
        if (variant & VT_BSIM_CORRUPT) {
            out[0x90] ^= 0x01;
        }
        *len = VT_SNP_REPORT_SIZE;
        vt_hex_encode(r.measurement, 48, s->meas[2]);
        if (vek != NULL && vt_ssim_der(s->vcek, vek, vek_len, NULL) != VT_OK) {
            *vek = NULL;
        }
        return out;
    }
    if (tee == VT_TEE_NITRO) {
        struct vt_nsim_doc_params p;
        vt_nsim_doc_params_default(&p, s->nitro);
        p.nonce = (struct vt_nsim_opt){VT_NSIM_OPT_BYTES, nonce, 32};
        p.public_key = (struct vt_nsim_opt){VT_NSIM_OPT_BYTES, spki, spki_len};
        if (variant & VT_BSIM_DEBUG) {
            vt_nsim_doc_params_debug(&p);
        }
        if (variant & VT_BSIM_OTHER_CODE) {
            p.pcrs[0].value[0] ^= 0xff;
        }
        if (variant & VT_BSIM_CORRUPT) {
            p.sig_defect = VT_NSIM_SIG_FLIP;
        }
        vt_hex_encode(p.pcrs[0].value, p.pcrs[0].len, s->meas[3]);
        if (variant & VT_BSIM_OTHER_CODE) {
            p.pcrs[0].value[0] ^= 0xff;
            vt_hex_encode(p.pcrs[0].value, p.pcrs[0].len, s->meas[3]);
            p.pcrs[0].value[0] ^= 0xff;
        }
        struct vt_sim_blob doc = {0};
        if (!vt_nsim_doc_build(s->nitro, &p, &doc, NULL)) {
            return NULL;
        }
        *len = doc.len;
        return doc.data;
    }
    return NULL;
}

uint8_t *vt_bsim_evidence_rd(struct vt_bsim *s, enum vt_tee tee, const uint8_t report_data[64],
                             unsigned variant, size_t *len)
{
    return vt_bsim_evidence_rd_init(s, tee, report_data, NULL, 0, variant, len);
}

uint8_t *vt_bsim_evidence_rd_init(struct vt_bsim *s, enum vt_tee tee, const uint8_t report_data[64],
                                  const uint8_t *init, size_t init_len, unsigned variant,
                                  size_t *len)
{
    *len = 0;
    if (tee == VT_TEE_SEV_SNP) {
        struct vt_ssim_vek_opts o;
        vt_ssim_vek_defaults(&s->snp, &o, false, s->now - 86400, s->now + 365 * 86400);
        struct vt_ssim_report r;
        vt_ssim_report_defaults(&s->snp, &o, &r);
        memcpy(r.report_data, report_data, 64);
        r.guest_svn = 0; /* as many guests have: then bytes 0-7 also read as an SGX quote's */
        if (init != NULL) {
            memcpy(r.host_data, init, init_len < 32 ? init_len : 32);
        }
        if (variant & VT_BSIM_DEBUG) {
            r.policy |= UINT64_C(1) << 19;
        }
        if (variant & VT_BSIM_OTHER_CODE) {
            r.measurement[0] ^= 0xff;
        }
        uint8_t *out = malloc(VT_SNP_REPORT_SIZE);
        if (out != NULL && vt_ssim_report_sign(&r, s->vcek_key, out, NULL) != VT_OK) {
            free(out);
            out = NULL;
        }
        if (out != NULL) {
            *len = VT_SNP_REPORT_SIZE;
            if (variant & VT_BSIM_CORRUPT) {
                out[0x90] ^= 0x01;
            }
        }
        vt_hex_encode(r.measurement, 48, s->meas[2]);
        return out;
    }
    if (tee != VT_TEE_SGX && tee != VT_TEE_TDX) {
        return NULL;
    }
    struct vt_sim_scenario *sc = tee == VT_TEE_TDX                 ? s->tdx
                                 : (variant & VT_BSIM_OUT_OF_DATE) ? s->sgx_ood
                                                                   : s->sgx;
    struct vt_sim_quote_params qp = sc->quote_params;
    memcpy(tee == VT_TEE_SGX ? qp.sgx.report_data : qp.td.report_data, report_data, 64);
    if (init != NULL) {
        uint8_t *field = tee == VT_TEE_SGX ? qp.sgx.config_id : qp.td.mrconfigid;
        size_t n = tee == VT_TEE_SGX ? sizeof(qp.sgx.config_id) : sizeof(qp.td.mrconfigid);
        memset(field, 0, n);
        memcpy(field, init, init_len < n ? init_len : n);
    }
    if (variant & VT_BSIM_DEBUG) {
        if (tee == VT_TEE_SGX) {
            qp.sgx.attributes[0] |= 0x02;
        } else {
            qp.td.td_attributes[0] |= 0x01;
        }
    }
    if (variant & VT_BSIM_OTHER_CODE) {
        if (tee == VT_TEE_SGX) {
            qp.sgx.mrenclave[0] ^= 0xff;
        } else {
            qp.td.mrtd[0] ^= 0xff;
        }
    }
    uint8_t *out = vt_sim_quote_make(sc->pki, &qp, len);
    if (out != NULL && (variant & VT_BSIM_CORRUPT)) {
        out[48 + 16] ^= 0x01; /* inside the signed report body */
    }
    return out;
}

uint8_t *vt_bsim_snp_cert(const struct vt_bsim *s, int which, size_t *len)
{
    X509 *c = which == 0 ? s->vcek : which == 1 ? s->snp.ask : s->snp.ark;
    uint8_t *der = NULL;
    return vt_ssim_der(c, &der, len, NULL) == VT_OK ? der : NULL;
}

const char *vt_bsim_measurement(const struct vt_bsim *s, enum vt_tee tee)
{
    switch (tee) {
    case VT_TEE_SGX:
        return s->meas[0];
    case VT_TEE_TDX:
        return s->meas[1];
    case VT_TEE_SEV_SNP:
        return s->meas[2];
    default:
        return s->meas[3];
    }
}
