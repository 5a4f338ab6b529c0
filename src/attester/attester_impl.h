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
void vt_attester_set_sim_ops(const struct vt_attester_ops *ops);

extern const struct vt_attester_ops vt_attester_tsm_ops;
extern const struct vt_attester_ops vt_attester_nsm_ops;

/* Replace b's contents with p[0..n). */
enum vt_err vt_attester_buf_set(struct vt_buf *b, const void *p, size_t n, const char *check,
                                struct vt_diag *d);

/* The NSM's responses, as vt_nsm_response_parse decodes them. */
enum vt_nsm_response_kind {
    VT_NSM_RESP_ATTESTATION = 1, /* {"Attestation": {"document": bstr}} */
    VT_NSM_RESP_GET_RANDOM,      /* {"GetRandom": {"random": bstr}} */
    VT_NSM_RESP_DESCRIBE_PCR,    /* {"DescribePCR": {"lock": bool, "data": bstr}} */
    VT_NSM_RESP_ERROR,           /* {"Error": "<ErrorCode>"} */
};

/* A decoded response; byte strings borrow the input. */
struct vt_nsm_response {
    enum vt_nsm_response_kind kind;
    const uint8_t *data; /* document, random or PCR data */
    size_t data_len;
    bool lock;      /* DescribePCR */
    char error[32]; /* Error: the ErrorCode name, e.g. "InvalidArgument" */
};

/*
 * Decode one NSM response (the bytes the ioctl wrote back). Strict: one map of one pair whose key
 * names the response and whose value has exactly the members above (any order, each once);
 * nothing after it. VT_E_MALFORMED / VT_E_TRUNCATED / VT_E_TRAILING_DATA / VT_E_BAD_FIELD /
 * VT_E_MISSING_FIELD / VT_E_DUPLICATE / VT_E_UNSUPPORTED ("nsm.response.*"). An Error response is
 * VT_OK with kind VT_NSM_RESP_ERROR: the caller decides (vt_attester_evidence turns it into
 * VT_E_UPSTREAM, "nsm.response.error", naming the code). out is untouched on failure.
 */
VT_MUST_USE enum vt_err vt_nsm_response_parse(const uint8_t *p, size_t n,
                                              struct vt_nsm_response *out, struct vt_diag *d);

/* ---- tsm extras ---- */

/*
 * Find the VCEK in an SEV-SNP certificate table (the tsm auxblob; GHCB extended guest request):
 * entries of {GUID (16 bytes, in the byte order of its text form, as AMD's sev-guest tools
 * write it), offset (u32 LE, from the table start), length (u32
 * LE)} ending with an all-zero entry. On VT_OK the VCEK (vcek, vcek_len) borrows the table;
 * VT_E_NOT_FOUND
 * ("tsm.auxblob.vcek") when no VCEK entry; VT_E_TRUNCATED / VT_E_BAD_LENGTH / VT_E_DUPLICATE
 * ("tsm.auxblob.*") for a malformed table.
 */
VT_MUST_USE enum vt_err vt_snp_certtable_vcek(const uint8_t *p, size_t n, const uint8_t **vcek,
                                              size_t *vcek_len, struct vt_diag *d);

#endif
