/*
 * Helpers of the attester tests: verify evidence with libveritee's verifiers against what a sim
 * backend exported (vt_attester_sim_export): anchors/<tee>.pem and collateral/<tee>/.
 * Each returns the verifier's code and leaves the diag in d.
 */
#ifndef VT_TEST_ATTESTER_VERIFY_H
#define VT_TEST_ATTESTER_VERIFY_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "attester/sim/sim_attester.h"

static inline enum vt_err av_anchors(const char *dir, enum vt_tee tee, struct vt_cert_list *l,
                                     struct vt_diag *d)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/anchors/%s.pem", dir, vt_tee_name(tee));
    struct vt_buf b;
    vt_buf_init(&b, 1u << 20);
    vt_cert_list_init(l);
    enum vt_err err = vt_file_read(path, &b, d);
    if (err == VT_OK) {
        err = vt_cert_list_from_bytes(b.data, b.len, l, d);
    }
    vt_buf_cleanup(&b);
    return err;
}

static inline enum vt_err av_verify_dcap(const char *dir, enum vt_tee tee, const uint8_t *q,
                                         size_t n, struct vt_claims *c, struct vt_diag *d)
{
    struct vt_cert_list anchors;
    enum vt_err err = av_anchors(dir, tee, &anchors, d);
    struct vt_dcap_collateral *coll = NULL;
    struct vt_dcap_verifier *v = NULL;
    char path[1200];
    snprintf(path, sizeof(path), "%s/collateral/%s", dir, vt_tee_name(tee));
    if (err == VT_OK) {
        err = vt_dcap_collateral_load_dir(path, &coll, d);
    }
    if (err == VT_OK) {
        err = vt_dcap_verifier_new(&anchors, coll, &v, d);
    }
    if (err == VT_OK) {
        struct vt_dcap_opts o = {.now = (vt_time)time(NULL), .time_mode = VT_TIME_STRICT};
        err = vt_dcap_verify(v, q, n, &o, c, d);
    }
    vt_dcap_verifier_free(v);
    vt_dcap_collateral_free(coll);
    vt_cert_list_cleanup(&anchors);
    return err;
}

static inline enum vt_err av_verify_snp(const char *dir, const uint8_t *r, size_t n,
                                        const uint8_t *vcek, size_t vcek_len, struct vt_claims *c,
                                        struct vt_diag *d)
{
    struct vt_cert_list anchors;
    enum vt_err err = av_anchors(dir, VT_TEE_SEV_SNP, &anchors, d);
    struct vt_snp_verifier *v = NULL;
    char path[1200];
    snprintf(path, sizeof(path), "%s/collateral/snp/cert_chain.pem", dir);
    struct vt_buf chain;
    vt_buf_init(&chain, 1u << 20);
    if (err == VT_OK) {
        err = vt_file_read(path, &chain, d);
    }
    if (err == VT_OK) {
        err = vt_snp_verifier_new(&anchors, &v, d);
    }
    if (err == VT_OK) {
        struct vt_snp_opts o = {.now = (vt_time)time(NULL),
                                .time_mode = VT_TIME_STRICT,
                                .vek = vcek,
                                .vek_len = vcek_len,
                                .chain = chain.data,
                                .chain_len = chain.len};
        err = vt_snp_verify(v, r, n, &o, c, d);
    }
    vt_snp_verifier_free(v);
    vt_buf_cleanup(&chain);
    vt_cert_list_cleanup(&anchors);
    return err;
}

static inline enum vt_err av_verify_nitro(const char *dir, const uint8_t *doc, size_t n,
                                          const uint8_t *nonce, size_t nonce_len,
                                          struct vt_claims *c, struct vt_diag *d)
{
    struct vt_cert_list anchors;
    enum vt_err err = av_anchors(dir, VT_TEE_NITRO, &anchors, d);
    struct vt_nitro_verifier *v = NULL;
    if (err == VT_OK) {
        err = vt_nitro_verifier_new(&anchors, &v, d);
    }
    if (err == VT_OK) {
        struct vt_nitro_opts o = {.now = (vt_time)time(NULL),
                                  .time_mode = VT_TIME_STRICT,
                                  .max_age = 600,
                                  .nonce = nonce,
                                  .nonce_len = nonce_len};
        err = vt_nitro_verify(v, doc, n, &o, c, d);
    }
    vt_nitro_verifier_free(v);
    vt_cert_list_cleanup(&anchors);
    return err;
}

/* The same through the installed API only (verifier.h, collateral.h): trust anchors loaded with
 * vt_trust_anchors_load, collateral from the exported directory, vt_verify. */
static inline enum vt_err av_verify_public(const char *dir, enum vt_tee tee, const uint8_t *ev,
                                           size_t n, const uint8_t expect_rd[64],
                                           struct vt_claims *c, struct vt_diag *d)
{
    char anchor[1200], coll[1200];
    snprintf(anchor, sizeof(anchor), "%s/anchors/%s.pem", dir, vt_tee_name(tee));
    snprintf(coll, sizeof(coll), "%s/collateral/%s", dir, vt_tee_name(tee));
    const char *files[] = {anchor, NULL};
    struct vt_cert_list *anchors = NULL;
    struct vt_collateral_source *src = NULL;
    struct vt_verifier *v = NULL;
    enum vt_err err = vt_trust_anchors_load(files, &anchors, d);
    if (err == VT_OK) {
        err = vt_collateral_source_dir(coll, &src, d);
    }
    if (err == VT_OK) {
        struct vt_verifier_config cfg = {
            .trust_anchors = anchors, .collateral = src, .collateral_ttl = VT_VERIFIER_TTL_FOREVER};
        err = vt_verifier_new(&cfg, &v, d);
    }
    if (err == VT_OK) {
        struct vt_verify_opts o = {.now = (vt_time)time(NULL),
                                   .expect_report_data = expect_rd,
                                   .expect_report_data_len = 64};
        err = vt_verify(v, ev, n, &o, c, d);
    }
    vt_verifier_free(v);
    vt_collateral_source_free(src);
    vt_trust_anchors_free(anchors);
    return err;
}

/* A fresh directory under $TMPDIR (or /tmp); caller removes it with av_rm_rf. */
static inline void av_tmpdir(char *out, size_t n, const char *tag)
{
    const char *base = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    snprintf(out, n, "%s/vt-att-%s-XXXXXX", base, tag);
    if (mkdtemp(out) == NULL) {
        out[0] = '\0';
    }
}

static inline void av_rm_rf(const char *dir)
{
    if (dir[0] == '\0' || strstr(dir, "vt-att-") == NULL) {
        return;
    }
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", dir);
    }
}

/* Fail unless err is want and the diag names check (cmocka's fail_msg). */
#define AV_CHECK(err, d, want, want_check)                                                         \
    do {                                                                                           \
        enum vt_err av_e_ = (err);                                                                 \
        if (av_e_ != (want) || strcmp((d).check, (want_check)) != 0) {                             \
            fail_msg("got %s [%s] %s, want %s [%s]", vt_err_name(av_e_), (d).check, (d).detail,    \
                     vt_err_name(want), (want_check));                                             \
        }                                                                                          \
    } while (0)

/* Fail unless err is VT_OK, showing the diag. */
#define AV_OK(err, d)                                                                              \
    do {                                                                                           \
        enum vt_err av_e_ = (err);                                                                 \
        if (av_e_ != VT_OK) {                                                                      \
            fail_msg("%s:%d: got %s [%s] %s", __FILE__, __LINE__, vt_err_name(av_e_), (d).check,   \
                     (d).detail);                                                                  \
        }                                                                                          \
    } while (0)

#endif
