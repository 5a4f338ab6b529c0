/* Throughput measurement helpers. */
#include <string.h>
#include <time.h>

#include "verify/bench.h"
#include "crypto/crypto.h"
#include "base/encoding.h"
#include "tee/nitro/nitro.h"

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum vt_err vt_bench_run(vt_bench_fn fn, void *ctx, double seconds, struct vt_bench_result *out,
                         struct vt_diag *d)
{
    memset(out, 0, sizeof(*out));
    double start = mono_now(), now = start;
    uint64_t n = 0;
    do {
        for (int i = 0; i < 16; i++) {
            VT_TRY(fn(ctx, d));
            n++;
        }
        now = mono_now();
    } while (now - start < seconds);
    out->iterations = n;
    out->seconds = now - start;
    out->per_second = (double)n / out->seconds;
    return VT_OK;
}

/* RFC 6979 appendix A.2.5: P-256 key, SHA-256 signature of "sample". */
static const char kat_x[] = "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6";
static const char kat_y[] = "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299";
static const char kat_r[] = "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716";
static const char kat_s[] = "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8";

struct p256_ctx {
    struct vt_key *key;
    uint8_t sig[64];
};

static enum vt_err p256_once(void *ctx, struct vt_diag *d)
{
    struct p256_ctx *c = ctx;
    VT_ENSURE(vt_p256_verify(c->key, "sample", 6, c->sig) == VT_OK, d, VT_E_INTERNAL, "bench.p256",
              "known-answer signature failed to verify");
    return VT_OK;
}

enum vt_err vt_bench_p256(double seconds, struct vt_bench_result *out, struct vt_diag *d)
{
    uint8_t xy[64];
    struct p256_ctx c = {0};
    VT_TRY(vt_hex_decode_exact(kat_x, 64, xy, 32));
    VT_TRY(vt_hex_decode_exact(kat_y, 64, xy + 32, 32));
    VT_TRY(vt_hex_decode_exact(kat_r, 64, c.sig, 32));
    VT_TRY(vt_hex_decode_exact(kat_s, 64, c.sig + 32, 32));
    VT_TRY(vt_key_from_p256_xy(xy, &c.key, d));
    enum vt_err err = vt_bench_run(p256_once, &c, seconds, out, d);
    vt_key_free(c.key);
    return err;
}

struct p384_ctx {
    struct vt_cert *cert;
    struct vt_key *key;
};

static enum vt_err p384_once(void *ctx, struct vt_diag *d)
{
    struct p384_ctx *c = ctx;
    return vt_cert_check_signed_by_p384(c->cert, c->key, d);
}

enum vt_err vt_bench_p384(double seconds, struct vt_bench_result *out, struct vt_diag *d)
{
    size_t len;
    const uint8_t *der = vt_aws_nitro_root_der(&len);
    struct p384_ctx c = {0};
    enum vt_err err = vt_cert_from_der(der, len, &c.cert, d);
    if (err == VT_OK) {
        err = vt_key_from_cert(c.cert, VT_KEY_P384, &c.key, d);
    }
    if (err == VT_OK) {
        err = p384_once(&c, d);
    }
    if (err == VT_OK) {
        err = vt_bench_run(p384_once, &c, seconds, out, d);
    }
    vt_key_free(c.key);
    vt_cert_free(c.cert);
    return err;
}
