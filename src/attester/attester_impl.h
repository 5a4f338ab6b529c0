/*
 * The attester's backend interface (internal to libveritee and veritee_sim).
 *
 * A backend fills a struct vt_attester in `open` (its state in `state`, its TEE in `tee`) and
 * produces evidence in `evidence`. libveritee knows "tsm" and "nsm"; the "sim:" backends are
 * registered at run time by veritee_sim (vt_attester_sim_register), so libveritee itself never
 * links the simulators.
 */
#ifndef VT_ATTESTER_IMPL_H
#define VT_ATTESTER_IMPL_H

#include <veritee/attester.h>

struct vt_attester;

struct vt_attester_ops {
    const char *name; /* "tsm", "nsm", "sim" (matches "sim:*") */
    enum vt_err (*open)(struct vt_attester *a, const char *backend,
                        const struct vt_attester_opts *opts, struct vt_diag *d);
    enum vt_err (*evidence)(struct vt_attester *a, const struct vt_attester_input *in,
                            struct vt_buf *evidence, struct vt_buf *aux, struct vt_diag *d);
    void (*close)(struct vt_attester *a); /* frees state */
};

struct vt_attester {
    const struct vt_attester_ops *ops;
    char backend[32];
    enum vt_tee tee;
    void *state;
};

/* Install the provider of the "sim:*" backends (one; a later call replaces it). */
VT_EXPORT void vt_attester_set_sim_ops(const struct vt_attester_ops *ops);

extern const struct vt_attester_ops vt_attester_tsm_ops;
extern const struct vt_attester_ops vt_attester_nsm_ops;

/* Replace b's contents with p[0..n). */
enum vt_err vt_attester_buf_set(struct vt_buf *b, const void *p, size_t n, const char *check,
                                struct vt_diag *d);

#endif
