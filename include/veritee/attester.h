/*
 * The attester: obtain attestation evidence inside a TEE (docs/attester.md).
 *
 * A backend is chosen by name when the attester is opened:
 *   "tsm"        Linux configfs-tsm (/sys/kernel/config/tsm/report): TDX quotes and SEV-SNP
 *                reports, the TEE named by the kernel's provider ("tdx_guest", "sev_guest").
 *   "nsm"        the AWS Nitro Secure Module (/dev/nsm ioctl, CBOR requests and responses).
 *   "sim:sgx", "sim:tdx", "sim:snp", "sim:nitro"
 *                evidence in the genuine formats signed by synthetic PKIs, for development and
 *                tests. These live in the separate static library veritee_sim of the source tree
 *                (never installed; the veritee command links it): a program that links it calls
 *                vt_attester_sim_register() (src/attester/sim/sim_attester.h) once before
 *                opening one; otherwise vt_attester_open fails with VT_E_UNSUPPORTED
 *                ("attester.backend").
 *
 * Binding: SGX, TDX and SEV-SNP evidence carries the 64 bytes of vt_attester_input.report_data;
 * Nitro documents carry nonce, public_key and user_data as given.
 *
 * An attester is not thread-safe: one per thread, or serialise calls. All functions record
 * failures in d (may be NULL) with a check name ("tsm.generation", "nsm.response.error", ...).
 */
#ifndef VERITEE_ATTESTER_H
#define VERITEE_ATTESTER_H

#include <veritee/buf.h>
#include <veritee/common.h>
#include <veritee/error.h>
#include <veritee/time.h>

/* Defaults and limits. */
#define VT_ATTESTER_TSM_ROOT "/sys/kernel/config/tsm/report"
#define VT_ATTESTER_NSM_PATH "/dev/nsm"
#define VT_ATTESTER_TSM_WAIT_MS 5000u
/* The NSM accepts at most this many bytes in each of user_data, nonce and public_key. */
#define VT_NSM_FIELD_MAX 1024u
/* Request and response buffers of the NSM ioctl (as AWS's nsm-api). */
#define VT_NSM_REQUEST_MAX 0x1000u
#define VT_NSM_RESPONSE_MAX 0x3000u

/*
 * The device behind the "nsm" backend: one request/response exchange. `call` gets the CBOR
 * request and a response buffer of *resp_len bytes (VT_NSM_RESPONSE_MAX), sets *resp_len to the
 * response length and returns 0, or returns an errno value when the exchange itself failed.
 * The default (opts->nsm_device NULL) opens opts->nsm_path and issues the NSM ioctl
 * (_IOWR(0x0A, 0, struct { struct iovec request, response; })). Tests supply their own.
 */
struct vt_nsm_device {
    int (*call)(void *ctx, const uint8_t *req, size_t req_len, uint8_t *resp, size_t *resp_len);
    void *ctx;
};

/* Options of vt_attester_open. Zero-initialise: every zero member means its default. */
struct vt_attester_opts {
    /* tsm: the report directory (default VT_ATTESTER_TSM_ROOT). A directory tree standing in for
     * configfs works as long as something answers like the kernel (tests/support/tsm_fake.h). */
    const char *tsm_root;
    /* tsm: write privlevel (0..3, SEV-SNP VMPL) before inblob when set. */
    bool tsm_set_privlevel;
    unsigned tsm_privlevel;
    /* tsm: how long to wait for a read-only attribute to appear (0: VT_ATTESTER_TSM_WAIT_MS).
     * configfs creates every attribute with the entry, so this only matters for stand-ins. */
    unsigned tsm_wait_ms;
    /* nsm: the device (borrowed; NULL: the ioctl on nsm_path, default VT_ATTESTER_NSM_PATH). */
    const struct vt_nsm_device *nsm_device;
    const char *nsm_path;
    /* sim: directory holding the synthetic PKI as PEM files. Opened again with the same
     * directory, a backend reuses the PKI found there (created on first use), so a verifier
     * configured once with the exported roots verifies evidence from later processes. NULL: a
     * fresh PKI in memory, gone at close. */
    const char *sim_dir;
    /* sim: the time the PKI and documents are made around (0: the current time). */
    vt_time sim_now;
};

/* What the evidence binds. Pointers are borrowed for the call. */
struct vt_attester_input {
    uint8_t report_data[64]; /* SGX, TDX, SEV-SNP */
    /* Nitro: each NULL (absent) or up to VT_NSM_FIELD_MAX bytes. */
    const uint8_t *nonce;
    size_t nonce_len;
    const uint8_t *public_key;
    size_t public_key_len;
    const uint8_t *user_data;
    size_t user_data_len;
};

struct vt_attester;

/*
 * Open a backend by name (see the top of this file). tsm: fails with VT_E_NOT_FOUND
 * ("tsm.root") when the report directory is missing. nsm: opens the device (VT_E_IO,
 * "nsm.open"). sim: creates or loads the PKI (VT_E_IO / VT_E_BAD_PEM naming the file). An unknown
 * name, or a sim backend without vt_attester_sim_register(), is VT_E_UNSUPPORTED
 * ("attester.backend"). *out is freed with vt_attester_close.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_attester_open(const char *backend,
                                                   const struct vt_attester_opts *opts,
                                                   struct vt_attester **out, struct vt_diag *d);

/*
 * Produce evidence for `in` into `evidence` (replaced). aux (may be NULL) receives extra material
 * when there is some, else is left empty: for SEV-SNP the VCEK (DER) from the certificate table
 * (tsm auxblob) or the simulator. SGX/TDX: a DCAP quote; SEV-SNP: a 1184-byte attestation
 * report; Nitro: a COSE_Sign1 attestation document.
 * tsm errors: VT_E_IO naming the attribute ("tsm.mkdir", "tsm.inblob", "tsm.outblob", ...),
 * VT_E_STATE ("tsm.generation") when another writer raced on the entry, VT_E_MISSING_FIELD
 * ("tsm.outblob.empty"), VT_E_UNSUPPORTED_TEE ("tsm.provider"), auxblob parse errors
 * ("tsm.auxblob.*"). nsm errors: VT_E_IO ("nsm.call"), the response's decoding errors
 * ("nsm.response.*"; docs/attester.md) and VT_E_UPSTREAM ("nsm.response.error") naming an NSM Error
 * code.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_attester_evidence(struct vt_attester *a,
                                                       const struct vt_attester_input *in,
                                                       struct vt_buf *evidence, struct vt_buf *aux,
                                                       struct vt_diag *d);

/* The TEE whose evidence the attester produces. tsm: known from the provider once evidence was
 * produced (VT_TEE_NONE before); nsm and sim: from the name. */
VT_EXPORT enum vt_tee vt_attester_tee(const struct vt_attester *a);

/* The backend name given to vt_attester_open. Never NULL. */
VT_EXPORT const char *vt_attester_backend(const struct vt_attester *a);

/* Close and free (NULL-safe). */
VT_EXPORT void vt_attester_close(struct vt_attester *a);

/* ---- nsm extras ---- */

/* GetRandom: copy up to n bytes of NSM entropy into out, *got = the number copied.
 * VT_E_STATE ("attester.backend") for a backend other than nsm. */
VT_EXPORT VT_MUST_USE enum vt_err vt_attester_nsm_random(struct vt_attester *a, uint8_t *out,
                                                         size_t n, size_t *got, struct vt_diag *d);

/* DescribePCR {index}: the PCR's value (data, up to 64 bytes, *data_len set) and lock state. */
VT_EXPORT VT_MUST_USE enum vt_err vt_attester_nsm_describe_pcr(struct vt_attester *a,
                                                               uint16_t index, bool *locked,
                                                               uint8_t data[64], size_t *data_len,
                                                               struct vt_diag *d);

#endif
