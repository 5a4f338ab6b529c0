"""cffi build script of the veritee Python binding (API mode, out of line).

The extension ``veritee._native`` is compiled against the *installed* public headers
(``#include <veritee/veritee.h>``) and linked with the shared library ``libveritee.so``. Where they
are found:

* ``VERITEE_INCLUDE_DIR`` and ``VERITEE_LIBRARY_DIR`` when set (a source checkout: ``include``
  and the CMake build directory), else
* ``pkg-config --cflags --libs veritee`` (``PKG_CONFIG_PATH`` pointing at an installed prefix's
  ``lib/pkgconfig`` when it is not a system one).

When the library directory is not a system directory the extension records it as its run path
(``-Wl,-rpath``), so an installation in a private prefix needs no ``LD_LIBRARY_PATH``;
``VERITEE_RPATH=0`` turns that off.

The declarations below restate the part of the public API the binding calls. In API mode the C
compiler checks them against the real headers: a struct member, enum or function that drifted
from ``include/veritee/*.h`` is a build error, not a silent layout mismatch.
"""

from __future__ import annotations

import os
import shlex
import subprocess

from cffi import FFI

CDEF = r"""
typedef int64_t vt_time;

enum vt_err { VT_OK, VT_E_ARG, VT_E_STATE, VT_E_NOMEM, VT_E_UNSUPPORTED, VT_E_IO, ... };
const char *vt_err_name(enum vt_err err);
const char *vt_strerror(enum vt_err err);
const char *vt_err_category(enum vt_err err);

#define VT_DIAG_CHECK_MAX ...
#define VT_DIAG_DETAIL_MAX ...
struct vt_diag {
    enum vt_err code;
    char check[...];
    char detail[...];
};
void vt_diag_init(struct vt_diag *d);

enum vt_tee { VT_TEE_NONE, VT_TEE_SGX, VT_TEE_TDX, VT_TEE_SEV_SNP, VT_TEE_NITRO, ... };
const char *vt_tee_name(enum vt_tee tee);

#define VT_MAX_EVIDENCE_SIZE ...
#define VT_MAX_COLLATERAL_SIZE ...
#define VT_MAX_ADVISORIES ...
#define VT_ADVISORY_ID_MAX ...

struct vt_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;
};
void vt_buf_init(struct vt_buf *b, size_t max);
void vt_buf_cleanup(struct vt_buf *b);
enum vt_err vt_buf_append(struct vt_buf *b, const void *p, size_t n);

enum vt_err vt_time_parse_arg(const char *s, size_t len, vt_time *out, struct vt_diag *d);

enum vt_tcb_status { VT_TCB_NONE, ... };
const char *vt_tcb_status_name(enum vt_tcb_status s);

struct vt_advisories {
    size_t n;
    char ids[128][32];
};

struct vt_claims {
    enum vt_tee tee;
    vt_time verified_at;
    enum vt_tcb_status status;
    struct vt_advisories advisories;
    bool debug;
    ...;
};
void vt_claims_init(struct vt_claims *c);
char *vt_claims_to_json(const struct vt_claims *c);
void free(void *p);

struct vt_collateral_source;
void vt_collateral_source_free(struct vt_collateral_source *s);
enum vt_err vt_collateral_source_open(const char *arg, struct vt_collateral_source **out,
                                      struct vt_diag *d);

enum vt_time_mode { VT_TIME_STRICT, VT_TIME_EXPIRY_ONLY, ... };
#define VT_VERIFIER_TTL_FOREVER ...
struct vt_cert_list;
enum vt_err vt_trust_anchors_load(const char *const *files, struct vt_cert_list **out,
                                  struct vt_diag *d);
void vt_trust_anchors_free(struct vt_cert_list *l);

struct vt_verifier_config {
    const struct vt_cert_list *trust_anchors;
    struct vt_collateral_source *collateral;
    enum vt_time_mode time_mode;
    int64_t collateral_ttl;
    ...;
};
struct vt_verifier;
enum vt_err vt_verifier_new(const struct vt_verifier_config *cfg, struct vt_verifier **out,
                            struct vt_diag *d);
void vt_verifier_free(struct vt_verifier *v);

struct vt_verify_opts {
    vt_time now;
    const uint8_t *nonce;
    size_t nonce_len;
    bool has_max_age;
    int64_t max_age;
    const uint8_t *expect_report_data;
    size_t expect_report_data_len;
    const uint8_t *vek;
    size_t vek_len;
    const uint8_t *snp_chain;
    size_t snp_chain_len;
    const uint8_t *snp_crl;
    size_t snp_crl_len;
    ...;
};
enum vt_err vt_verify(struct vt_verifier *v, const uint8_t *evidence, size_t len,
                      const struct vt_verify_opts *opts, struct vt_claims *claims,
                      struct vt_diag *d);

enum vt_evidence_kind { VT_EVIDENCE_UNKNOWN, ... };
const char *vt_evidence_kind_name(enum vt_evidence_kind k);
enum vt_evidence_kind vt_evidence_detect(const uint8_t *p, size_t n);
enum vt_err vt_evidence_decode_text(struct vt_buf *b, struct vt_diag *d);

/* policy.h */
#define VT_POLICY_MAX_SIZE ...
struct vt_policy;
enum vt_err vt_policy_compile(const char *json, size_t len, struct vt_policy **out,
                              struct vt_diag *d);
void vt_policy_free(struct vt_policy *p);
void vt_policy_digest(const struct vt_policy *p, uint8_t out[32]);
struct vt_policy_result {
    bool allowed;
    char reason[...];
    char *explanation;
    ...;
};
enum vt_err vt_policy_eval_claims(const struct vt_policy *p, const struct vt_claims *claims,
                                  struct vt_policy_result *r, struct vt_diag *d);
enum vt_err vt_policy_eval(const struct vt_policy *p, const char *claims_json, size_t len,
                           struct vt_policy_result *r, struct vt_diag *d);
void vt_policy_result_cleanup(struct vt_policy_result *r);
const char *vt_policy_claim_type(const char *name);
enum vt_err vt_policy_claims_check(const char *claims_json, size_t len, struct vt_diag *d);

/* attester.h */
struct vt_attester_opts {
    const char *tsm_root;
    bool tsm_set_privlevel;
    unsigned tsm_privlevel;
    unsigned tsm_wait_ms;
    const char *nsm_path;
    const char *sim_dir;
    vt_time sim_now;
    ...;
};
struct vt_attester_input {
    uint8_t report_data[64];
    const uint8_t *nonce;
    size_t nonce_len;
    const uint8_t *public_key;
    size_t public_key_len;
    const uint8_t *user_data;
    size_t user_data_len;
    ...;
};
struct vt_attester;
enum vt_err vt_attester_open(const char *backend, const struct vt_attester_opts *opts,
                             struct vt_attester **out, struct vt_diag *d);
enum vt_err vt_attester_evidence(struct vt_attester *a, const struct vt_attester_input *in,
                                 struct vt_buf *evidence, struct vt_buf *aux, struct vt_diag *d);
enum vt_tee vt_attester_tee(const struct vt_attester *a);
const char *vt_attester_backend(const struct vt_attester *a);
void vt_attester_close(struct vt_attester *a);

/* client.h */
struct vt_jwk;
enum vt_err vt_jwk_generate(const char *type, struct vt_jwk **out, struct vt_diag *d);
void vt_jwk_free(struct vt_jwk *k);
char *vt_jwk_public_json(const struct vt_jwk *k);

struct vt_client_config {
    const char *url;
    const char *ca_file;
    long timeout_ms;
    unsigned retries;
    long backoff_ms;
    ...;
};
typedef enum vt_err (*vt_client_evidence_fn)(void *ctx, const uint8_t report_data[64],
                                             const uint8_t nonce[32], const uint8_t *spki,
                                             size_t spki_len, struct vt_buf *evidence,
                                             struct vt_buf *vek, struct vt_diag *d);
enum vt_err vt_client_attester_evidence(void *ctx, const uint8_t report_data[64],
                                        const uint8_t nonce[32], const uint8_t *spki,
                                        size_t spki_len, struct vt_buf *evidence,
                                        struct vt_buf *vek, struct vt_diag *d);
struct vt_client;
enum vt_err vt_client_new(const struct vt_client_config *cfg, struct vt_client **out,
                          struct vt_diag *d);
void vt_client_free(struct vt_client *c);
struct vt_client_status {
    long http_status;
    char reason[...];
};
enum vt_err vt_client_attest(struct vt_client *c, vt_client_evidence_fn fn, void *ctx,
                             const struct vt_jwk *key, char **token, char **claims,
                             struct vt_client_status *st, struct vt_diag *d);
enum vt_err vt_client_release(struct vt_client *c, const char *key_name, const char *token,
                              vt_client_evidence_fn fn, void *ctx, const struct vt_jwk *key,
                              bool cms, struct vt_buf *secret, uint32_t *version, char **receipt,
                              struct vt_client_status *st, struct vt_diag *d);
enum vt_err vt_client_report_data(const uint8_t nonce[32], const struct vt_jwk *key,
                                  uint8_t out[64], struct vt_diag *d);

/* Evidence from a Python callable (veritee.client.EvidenceFunction). */
extern "Python" enum vt_err _vt_py_evidence(void *ctx, const uint8_t report_data[64],
                                            const uint8_t nonce[32], const uint8_t *spki,
                                            size_t spki_len, struct vt_buf *evidence,
                                            struct vt_buf *vek, struct vt_diag *d);
"""

SYSTEM_LIBDIRS = ("/usr/lib", "/lib", "/usr/lib64", "/lib64")


def _pkg_config(*args: str) -> list[str]:
    out = subprocess.run(["pkg-config", *args, "veritee"], check=True, capture_output=True,
                         text=True).stdout
    return shlex.split(out)


def _locate() -> tuple[list[str], list[str]]:
    inc = os.environ.get("VERITEE_INCLUDE_DIR")
    lib = os.environ.get("VERITEE_LIBRARY_DIR")
    if inc and lib:
        return [inc], [lib]
    try:
        incs = [f[2:] for f in _pkg_config("--cflags-only-I") if f.startswith("-I")]
        libs = [f[2:] for f in _pkg_config("--libs-only-L") if f.startswith("-L")]
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(
            "veritee: libveritee not found: install it (cmake --install BUILD --prefix P) and set "
            "PKG_CONFIG_PATH=P/lib/pkgconfig, or set VERITEE_INCLUDE_DIR and VERITEE_LIBRARY_DIR "
            f"({e})") from e
    return incs, libs


def _is_system(d: str) -> bool:
    real = os.path.realpath(d)
    return any(real == s or real.startswith(s + "/x86_64-linux-gnu") or
               real.startswith(s + "/aarch64-linux-gnu") for s in SYSTEM_LIBDIRS)


include_dirs, library_dirs = _locate()
extra_link_args: list[str] = []
if os.environ.get("VERITEE_RPATH", "1") != "0":
    extra_link_args = [f"-Wl,-rpath,{os.path.realpath(d)}" for d in library_dirs
                       if not _is_system(d)]

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "veritee._native",
    "#include <stdlib.h>\n#include <veritee/veritee.h>\n",
    include_dirs=include_dirs,
    library_dirs=library_dirs,
    libraries=["veritee"],
    extra_compile_args=["-std=c17", "-D_POSIX_C_SOURCE=200809L"],
    extra_link_args=extra_link_args,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
