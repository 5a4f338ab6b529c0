/* The attester front end: backend selection and dispatch (include/veritee/attester.h). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "attester_impl.h"

static _Atomic(const struct vt_attester_ops *) sim_ops;

void vt_attester_set_sim_ops(const struct vt_attester_ops *ops)
{
    atomic_store(&sim_ops, ops);
}

enum vt_err vt_attester_buf_set(struct vt_buf *b, const void *p, size_t n, const char *check,
                                struct vt_diag *d)
{
    if (b->data != NULL && b->cap > 0) {
        memset(b->data, 0, b->cap);
    }
    b->len = 0;
    enum vt_err err = vt_buf_append(b, p, n);
    if (err != VT_OK) {
        return vt_fail(d, err, check, "%zu bytes do not fit the output buffer (max %zu)", n,
                       b->max);
    }
    return VT_OK;
}

enum vt_err vt_attester_open(const char *backend, const struct vt_attester_opts *opts,
                             struct vt_attester **out, struct vt_diag *d)
{
    VT_ENSURE(backend != NULL && out != NULL, d, VT_E_ARG, "attester.open", "NULL argument");
    *out = NULL;
    static const struct vt_attester_opts defaults;
    if (opts == NULL) {
        opts = &defaults;
    }
    const struct vt_attester_ops *ops = NULL;
    if (strcmp(backend, "tsm") == 0) {
        ops = &vt_attester_tsm_ops;
    } else if (strcmp(backend, "nsm") == 0) {
        ops = &vt_attester_nsm_ops;
    } else if (strncmp(backend, "sim:", 4) == 0) {
        ops = atomic_load(&sim_ops);
        VT_ENSURE(ops != NULL, d, VT_E_UNSUPPORTED, "attester.backend",
                  "backend \"%.32s\": the simulator backends are not linked in (link veritee_sim "
                  "and call vt_attester_sim_register())",
                  backend);
    }
    VT_ENSURE(ops != NULL, d, VT_E_UNSUPPORTED, "attester.backend",
              "unknown backend \"%.64s\" (tsm, nsm, sim:sgx, sim:tdx, sim:snp, sim:nitro)",
              backend);
    size_t backend_len = strlen(backend);
    VT_ENSURE(backend_len < sizeof(((struct vt_attester *)0)->backend), d, VT_E_UNSUPPORTED,
              "attester.backend", "unknown backend \"%.64s\"", backend);
    struct vt_attester *a = calloc(1, sizeof(*a));
    VT_ENSURE(a != NULL, d, VT_E_NOMEM, "attester.open", "out of memory");
    a->ops = ops;
    memcpy(a->backend, backend, backend_len + 1); /* fits: checked above */
    enum vt_err err = ops->open(a, backend, opts, d);
    if (err != VT_OK) {
        free(a);
        return err;
    }
    *out = a;
    return VT_OK;
}

enum vt_err vt_attester_evidence(struct vt_attester *a, const struct vt_attester_input *in,
                                 struct vt_buf *evidence, struct vt_buf *aux, struct vt_diag *d)
{
    VT_ENSURE(a != NULL && in != NULL && evidence != NULL, d, VT_E_ARG, "attester.evidence",
              "NULL argument");
    if (aux != NULL) {
        VT_TRY(vt_attester_buf_set(aux, "", 0, "attester.aux", d));
    }
    return a->ops->evidence(a, in, evidence, aux, d);
}

enum vt_tee vt_attester_tee(const struct vt_attester *a)
{
    return a != NULL ? a->tee : VT_TEE_NONE;
}

const char *vt_attester_backend(const struct vt_attester *a)
{
    return a != NULL ? a->backend : "";
}

void vt_attester_close(struct vt_attester *a)
{
    if (a == NULL) {
        return;
    }
    if (a->ops->close != NULL) {
        a->ops->close(a);
    }
    free(a);
}
