/*
 * Unit tests for src/crypto/jose.c: JWK parsing and thumbprints, key generation and PEM, compact
 * JWS (ES256) and compact JWE (RSA-OAEP-256, ECDH-ES+A256KW; A256GCM).
 *
 * - Published vectors: the RFC 7638 section 3.1 thumbprint example and the RFC 7518 appendix C
 *   Concat KDF example, written here from the RFC text.
 * - Interoperability: JWEs produced by an independent implementation (tests/support/
 *   gen_jose_seeds.py --vectors, Python `cryptography` primitives) decrypt here, and one of its
 *   ES256 JWSs verifies; the JWEs produced here are checked member by member after decoding
 *   their header, and the RSA-OAEP-256 ones are decrypted with plain OpenSSL calls (OAEP, then
 *   AES-GCM with the header as AAD). (Decryption of this code's JWEs, both algorithms, by the
 *   Python implementation was checked by hand when this file was written.)
 * - Every reject path asserts the error code and the diag's check name.
 * - The SubjectPublicKeyInfo built by hand for EC keys is i2d_PUBKEY's, for random keys of each
 *   curve; the cache of imported EC keys (key.c) answers a hit exactly as an import, also with
 *   more keys than it holds and several threads at once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <veritee/buf.h>

#include "base/encoding.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"

/* Not public: exposed by jose.c for this test. */
enum vt_err vt_jose_concat_kdf(const uint8_t *z, size_t zlen, const char *alg_id,
                               const uint8_t *apu, size_t apulen, const uint8_t *apv, size_t apvlen,
                               unsigned keybits, uint8_t *out, struct vt_diag *d);

/* ---- published vectors ---- */

/* RFC 7638 section 3.1: the example JWK (with its "alg" and "kid" members) and its thumbprint. */
static const char rfc7638_jwk[] =
    "{\"kty\":\"RSA\","
    "\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6t"
    "Soc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
    "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQ"
    "Fh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw\","
    "\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";
static const char rfc7638_thumbprint[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

/* RFC 7518 appendix C: Bob's static key and Alice's ephemeral key (public members), the shared
 * secret Z, and the key derived for ECDH-ES with A128GCM, apu "Alice", apv "Bob". */
static const char rfc7518_bob[] = "{\"kty\":\"EC\",\"crv\":\"P-256\","
                                  "\"x\":\"weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ\","
                                  "\"y\":\"e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck\"}";
static const char rfc7518_alice_epk[] = "{\"kty\":\"EC\",\"crv\":\"P-256\","
                                        "\"x\":\"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0\","
                                        "\"y\":\"SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps\"}";
static const uint8_t rfc7518_z[32] = {
    0x9e, 0x56, 0xd9, 0x1d, 0x81, 0x71, 0x35, 0xd3, 0x72, 0x83, 0x42, 0x83, 0xbf, 0x84, 0x26, 0x9c,
    0xfb, 0x31, 0x6e, 0xa3, 0xda, 0x80, 0x6a, 0x48, 0xf6, 0xda, 0xa7, 0x79, 0x8c, 0xfe, 0x90, 0xc4};
static const char rfc7518_derived[] = "VqqN6vgjbSBcIijNcacQGg";

/* ---- interop vectors (the throwaway keys of fuzz/fuzz_jose_compact.c) ---- */

static const char interop_p256_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/M3+6aqp/c/4CUCJ\n"
    "FmGjzs5W4dkj47jSj42/BLw7evWhRANCAARoV8xZap06R9ssVkdiM8iOxC86fzWE\n"
    "rvTy0hQhmpnpU1MqhJ9f8CeXg9D0dn4QKTfA7GvHoQ6R7czTJ2UWdk/5\n"
    "-----END PRIVATE KEY-----\n";

static const char interop_rsa_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDEGhk5aqF2csc2\n"
    "io3HRiPUSya61j/CjW+dsCfZdhZ28s9DInGd+Hyr/XA2PwpG9rsNuSuh5i9X3HI2\n"
    "wGajgh2ZsMHs1iP0Xv95pVOddhvl0FFO4+2sjp4t2Uy+1VEUswISf6241R5r3/nd\n"
    "07ill+i4lZRTaXlxXJQ9CcQ5cc8VXjN0N3aKqHkXoUwRjqYu0oO6Lr9xJAvbhGXa\n"
    "k3rWN1UZsrmq4Exgn6MKEbN5JCmkEH9HO5dgIID/Wp65TMPNTr85LYpRITCBcJwS\n"
    "t/GtL3/NTWNMFKuOUxW2g14iWo4MIiDtYrzkBXr6c+RGnHBxOIlnVD3ZIXpwk1q7\n"
    "vN75hXr9AgMBAAECggEADWgdXlwIYuEw9m0diUilzW8/3BkmrcXeoiC3cLoOih5K\n"
    "hjP2IY8p8tY2VDcWHEjk++izb3Odu/uBwXWA7t/H50h60ZbISX4vKCFh6It5F8qY\n"
    "rHSPvLLZZJgNE6Tg0LH2S8530YGcfVKIMh616nhKvEfZpqQ43cOvDMc8p5K8ziCO\n"
    "O6iDElshs8+rO6APT1AnOJZfG26Lon6LSJbCQhouCkB7BfL+7B5A2Fd50yFvjxcw\n"
    "dj/RSiPjyKFj+aePcPNdsjePgog43Wvi28Qg8V+2FAmHyqsrV0qRDxlNACk679lh\n"
    "esQ9x23aqBNpniZmyV2REUw68UStdxbw4lHT6XL8rwKBgQD7gN83Pt8DdC3j0zr8\n"
    "Pq+r+znTo/PnUF1byxFnRalh9E12VYgPaE+s82Rqls8lstkXxxPTfCmDBXA5cFCY\n"
    "Js+Bt/XoDWJRKVfFcRCFzQtkzP4xyYBkBiXswl5yPU5IkeO7iOY7g/quAdZHo0DJ\n"
    "NTPp7iKuiGGQs/ZfGxbqrpVoKwKBgQDHm6egEHBos0jzyFLA22XOBNugiRKZcUm7\n"
    "3Jjaotd571fgmwWDCpYDQMv1Ha6YNbzJUl9/5oaUljsm6wWmUl/keztdAookL3Vp\n"
    "ffkWByC8tjnG6RzkZwOSu4Bc2xB+cCQYMVYqCEXf+RjuDdSsBMaE+EbUVh0W2/yL\n"
    "kWjGxIetdwKBgEIMbxJ4HWMv0JljMLtrzwCwYlhVV0lpDot7wd9IKRqDaRBpl+jL\n"
    "8RivdrCTWGVDGcYnzuocUl6JQBali1TZ5Gbho9/EHAzKebVtYvRwi8x2FU+H5oLe\n"
    "JnmN9fW0aeme/pqScjwxBdVKwDZiBjKRGUgW9N63DEBPMqV5XMRXAv+vAoGBAJcf\n"
    "f++two1if68iUZT2BsPN5cJLRSurG9oBkDCn7V/CF9RTSf8GesEHw+NWj6Npu/7o\n"
    "QKmDDQ1eGHbEpUhhQXyo2C75B0GSNOCjoXxN9Tkq9d9lCpzaaVgkYXDr4jb4DDvM\n"
    "zqGQFecWnwtMqWF7VBnEJ0wHzopKD5BTjPJARUDNAoGAS9usdxbLShWCXUm49rdD\n"
    "AifTtMsDb2KDLacuUEGICKO5YApsMOPbLfbkOXqXsQk3voCNyox/7F9IrBO8xR9L\n"
    "qPLTYA/T5CVp0e2ioBWumfGco1Tfrvybw3aG18Kg6zxvLVy9n2JuXu5vxRA6H6jK\n"
    "rIPtlTY2oK+nd4NKJ4UF2N0=\n"
    "-----END PRIVATE KEY-----\n";

/* gen_jose_seeds.py --vectors */
static const char interop_ecdh[] =
    "eyJhbGciOiJFQ0RILUVTK0EyNTZLVyIsImFwdSI6IlFXeHBZMlUiLCJhcHYiOiJRbTlpIiwiZW5jIjoiQTI1NkdDTS"
    "IsImVwayI6eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6InNwRUgybUUzOE9CWnFqanczcEJDZWhSLWJvMEgx"
    "bXA3ZE9kVUtBNEdZZE0iLCJ5IjoialRNcXM4OXBTLVBGUHh5Z1U1RGg3SmtKTkhCbUdnRnNuMm1TQTdZcUZsUSJ9LC"
    "JraWQiOiJpbnRlcm9wIn0.jVv0xbX8QaPNKJ55E2-dmnEcqwNN6x3ZtJmxv10HYx4maAucv2kJbA.yOFrND2mmEnmq"
    "Uce.-EqoPzTL5SHoN5abBQKenUD97VU-wJldBcqKovwdWEX6pgTbzfOCZnwEMgEa5DObJmBXFBE.elxj-K-RzOZr27"
    "RAdAC0EA";
static const char interop_rsa[] =
    "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiaW50ZXJvcCJ9.pmPgB1oHdORsxhVBI"
    "sKuBD2iwdyL0onnxbPtH16hYtl2K8wF38c8GLIlIljt6NBpHuA4__scCs-7zepNXFTn9RO2JOpriQO4zzgnBybZt3l"
    "i-4jUU0t76RVDJw7b6bf7fHVyoKG_0-3f-Dk4Uhu2SLDglFdF9YQ4x4h0muiJlGyJZEfd26ujZOrR7BiUV0wYUeeHp"
    "joOHLbRBv_2QfvnqA9iC99u0hNbLn_DkkZOnF9Pqg7K9TfpmStZN2BvIr9Mv0YhqOo9ibWIoikUl0do7BuFKR7Z1Eh"
    "vpGM008W52O2axHyx_bHgN862d0zI4mV_VhxKa4WboeRoZZs0OR198Q.PN6errUCCnOgZqiP.qqRknwg80It5Ejjh1"
    "6i2xlhtCR6yJFsXqG7JpWBr3_TMYZG5j5057ZO82voAd4IBqJbHMCA.bgYuM8WUW_qEfUPt73WVDQ";
/* An ES256 JWS signed by gen_jose_seeds.py with interop_p256_pem (kid "fuzz-es256"). */
static const char interop_jws[] =
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImZ1enotZXMyNTYiLCJ0eXAiOiJKV1QifQ.eyJlYXRfbm9uY2UiOiJBQUVDQXd"
    "RRkJnYyIsImlzcyI6InZlcml0ZWUtZnV6eiJ9.Tk0K9ELsmaDbgkI5zrgIph-cUqFkNtaKamUQspeO1m51NvTa7Fsy"
    "YcV2s-RzkbyAIdn6QtsCrmossgOTxCNaUw";
static const char interop_jws_payload[] =
    "{\"eat_nonce\":\"AAECAwQFBgc\",\"iss\":\"veritee-fuzz\"}";
static const char interop_plaintext[] = "interop: JWE built by tests/support/gen_jose_seeds.py";
/* gen_jose_seeds.py --vectors: a P-521 recipient (the guest's ECDH-ES+A256KW-P521 key type) and a
 * JWE to it, built with Python `cryptography` (66-byte coordinates and shared secret). */
static const char interop_p521_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIHuAgEAMBAGByqGSM49AgEGBSuBBAAjBIHWMIHTAgEBBEIAACY1bCqtChqGXboW\n"
    "LGJmO040v8nqCgxGQ/wReNBTwZAZs1T4RWish6d6LiaVdgEAKIBxRJiMp5e9vVEE\n"
    "0eeFfPKhgYkDgYYABAHbJQkIrw0V1BF/Z5PGOupJe0sAjFtW0kBFq3OblFV9kjQd\n"
    "My1wK6cNJTnMfB8yyEy7D5lZx1cOu92MB3/Lkf93VACqcHVl4oL5hFjzYpXmuTcc\n"
    "ZAnZe1Co4/uE+KobIPCJCHQzMxGZbXy/e5tJPJcEYA0fOgBLTCzUl2Q/YnUK+P1I\n"
    "JQ==\n"
    "-----END PRIVATE KEY-----\n";
static const char interop_ecdh_p521[] =
    "eyJhbGciOiJFQ0RILUVTK0EyNTZLVyIsImVuYyI6IkEyNTZHQ00iLCJlcGsiOnsiY3J2IjoiUC01MjEiLCJrdHkiOi"
    "JFQyIsIngiOiJBTmRsb215UkpfYUNNR2Vkd0luenQzZm5xSnFNUUU0dnh3Rndia1BLOUV4cWszN3NkbVVFb1U2aTFr"
    "VlJ6RzQwOWRGbG9WT3l4d2hZc295ZWdEcjdEZ3owIiwieSI6IkFDU1NaYnEzVWxGQ3NZMjlKOGpvOElfZThaaDE0ZE"
    "NYOXVXZEt6eTlDYXFqd2RmRlNvaFZjUFBodUlVRjdDcmhlTDI2Q0F4QjVUcjhkRUFkZ0R5c3VCSEsifSwia2lkIjoi"
    "aW50ZXJvcCJ9.wscZAkoxs129-50AI-n-HkiRUyAhuWCQqohzeFp0_R56OgD74wGqBg.MG-77-f-AxmsPVmk.lrLgz"
    "FMMeqavkgKQAoIGG9dIJ_yKwzVy40e-vnVQYwh3QaHXucLkRxOfrHnIBUWlMWtw2Ig.466i7ihnPjbOuJLxwTN7ww";

/* ---- shared keys ---- */

enum { K_RSA2048, K_RSA3072, K_P256, K_P384, K_P521, K_COUNT };
static const char *const key_types[K_COUNT] = {"RSA-2048", "RSA-3072", "P-256", "P-384", "P-521"};

struct world {
    struct vt_jwk *key[K_COUNT];
    struct vt_jwk *other_rsa; /* unrelated RSA-2048 */
    struct vt_jwk *other_p256;
    struct vt_key *signer;
    struct vt_key *signer2;
    uint8_t signer_xy[64];
    uint8_t signer2_xy[64];
};

static struct world g;

static struct vt_jwk *generate(const char *type)
{
    struct vt_jwk *k = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_jwk_generate(type, &k, &d);
    if (err != VT_OK) {
        print_message("generate %s: %s %s: %s\n", type, vt_err_name(err), d.check, d.detail);
    }
    assert_int_equal(err, VT_OK);
    return k;
}

static int setup(void **state)
{
    (void)state;
    memset(&g, 0, sizeof(g));
    for (int i = 0; i < K_COUNT; i++) {
        g.key[i] = generate(key_types[i]);
    }
    g.other_rsa = generate("RSA-2048");
    g.other_p256 = generate("P-256");
    assert_int_equal(vt_key_generate(VT_KEY_P256, 0, &g.signer, NULL), VT_OK);
    assert_int_equal(vt_key_generate(VT_KEY_P256, 0, &g.signer2, NULL), VT_OK);
    vt_key_p256_xy(g.signer, g.signer_xy);
    vt_key_p256_xy(g.signer2, g.signer2_xy);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < K_COUNT; i++) {
        vt_jwk_free(g.key[i]);
    }
    vt_jwk_free(g.other_rsa);
    vt_jwk_free(g.other_p256);
    vt_key_free(g.signer);
    vt_key_free(g.signer2);
    return 0;
}

/* ---- helpers ---- */

static char *b64u(const void *p, size_t n)
{
    size_t cap = n / 3 * 4 + 4;
    char *s = malloc(cap);
    assert_non_null(s);
    assert_int_equal(vt_base64_encode(p, n, true, s, cap), VT_OK);
    return s;
}

/* Decode base64url into a fresh buffer (NUL-terminated). */
static uint8_t *unb64u(const char *s, size_t n, size_t *out_len)
{
    uint8_t *p = malloc(n + 1);
    assert_non_null(p);
    assert_int_equal(vt_base64_decode(s, n, true, p, n + 1, out_len), VT_OK);
    p[*out_len] = 0;
    return p;
}

/* The i-th dot-separated segment of a compact string, as a fresh string. */
static char *segment(const char *compact, int i)
{
    const char *p = compact;
    for (int k = 0; k < i; k++) {
        p = strchr(p, '.');
        assert_non_null(p);
        p++;
    }
    const char *e = strchr(p, '.');
    size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
    char *s = malloc(n + 1);
    assert_non_null(s);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Replace the i-th segment (of nseg) by `with`. */
static char *with_segment(const char *compact, int nseg, int i, const char *with)
{
    size_t cap = strlen(compact) + strlen(with) + 2;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = '\0';
    size_t len = 0;
    for (int k = 0; k < nseg; k++) {
        char *s = k == i ? NULL : segment(compact, k);
        len += (size_t)snprintf(out + len, cap - len, "%s%s", k == i ? with : s,
                                k + 1 < nseg ? "." : "");
        free(s);
    }
    return out;
}

/* The decoded header (segment 0) as a jansson object. */
static json_t *header_of(const char *compact)
{
    char *h = segment(compact, 0);
    size_t n = 0;
    uint8_t *raw = unb64u(h, strlen(h), &n);
    json_t *o = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(o);
    free(raw);
    free(h);
    return o;
}

/* The compact string with its header replaced by the JSON text `hdr` (encoded as is). */
static char *with_header_text(const char *compact, int nseg, const char *hdr)
{
    char *h = b64u(hdr, strlen(hdr));
    char *out = with_segment(compact, nseg, 0, h);
    free(h);
    return out;
}

/* The compact string with header member `key` set to `v` (stolen; NULL deletes it). */
static char *with_header_member(const char *compact, int nseg, const char *key, json_t *v)
{
    json_t *h = header_of(compact);
    if (v != NULL) {
        json_object_set_new(h, key, v);
    } else {
        json_object_del(h, key);
    }
    char *text = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(text);
    char *out = with_header_text(compact, nseg, text);
    free(text);
    json_decref(h);
    return out;
}

/* Change the first character of segment i (keeps base64url canonical: all 6 bits are data). */
static char *flip_first(const char *compact, int nseg, int i)
{
    char *s = segment(compact, i);
    assert_true(strlen(s) > 0);
    s[0] = s[0] == 'A' ? 'B' : 'A';
    char *out = with_segment(compact, nseg, i, s);
    free(s);
    return out;
}

static void expect_diag(enum vt_err err, const struct vt_diag *d, enum vt_err want,
                        const char *check, const char *what)
{
    if (err != want || strcmp(d->check, check) != 0) {
        print_message("%s: got %s %s: %s; want %s %s\n", what, vt_err_name(err), d->check,
                      d->detail, vt_err_name(want), check);
    }
    assert_int_equal(err, want);
    assert_int_equal(d->code, want);
    assert_string_equal(d->check, check);
}

static struct vt_jwk *parse_ok(const char *json)
{
    struct vt_jwk *k = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_jwk_parse(json, strlen(json), &k, &d);
    if (err != VT_OK) {
        print_message("parse %s: %s %s: %s\n", json, vt_err_name(err), d.check, d.detail);
    }
    assert_int_equal(err, VT_OK);
    return k;
}

static void parse_rejects(const char *json, size_t len, enum vt_err want, const char *check)
{
    struct vt_jwk *k = (struct vt_jwk *)(uintptr_t)1;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_jwk_parse(json, len, &k, &d);
    expect_diag(err, &d, want, check, json);
    assert_null(k);
}

static void thumbprint_is(const struct vt_jwk *k, const char *want)
{
    char tp[44];
    vt_jwk_thumbprint_b64(k, tp);
    assert_string_equal(tp, want);
}

/* The public JSON of a key, loaded as an object (for building variants). */
static json_t *public_obj(const struct vt_jwk *k)
{
    char *s = vt_jwk_public_json(k);
    assert_non_null(s);
    json_t *o = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(o);
    free(s);
    return o;
}

static const char *member(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    assert_non_null(s);
    return s;
}

/* ---- JWK: vectors ---- */

static void test_rfc7638_vector(void **state)
{
    (void)state;
    struct vt_jwk *k = parse_ok(rfc7638_jwk);
    assert_string_equal(vt_jwk_kty(k), "RSA");
    assert_int_equal(vt_jwk_bits(k), 2048);
    assert_null(vt_jwk_curve(k));
    assert_false(vt_jwk_has_private(k));
    thumbprint_is(k, rfc7638_thumbprint);

    /* The thumbprint input is the required members, sorted, without whitespace: {"e","kty","n"}
     * with the values of the example. */
    json_t *src = json_loads(rfc7638_jwk, 0, NULL);
    assert_non_null(src);
    char want[1024];
    snprintf(want, sizeof(want), "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"%s\"}", member(src, "n"));
    json_decref(src);
    struct vt_buf in;
    vt_buf_init(&in, 4096);
    assert_int_equal(vt_jwk_thumbprint_input(k, &in), VT_OK);
    assert_int_equal(in.len, strlen(want));
    assert_memory_equal(in.data, want, in.len);
    uint8_t h[32];
    uint8_t h2[32];
    vt_sha256(in.data, in.len, h);
    vt_jwk_thumbprint(k, h2);
    assert_memory_equal(h, h2, 32);
    char *pub = vt_jwk_public_json(k);
    assert_string_equal(pub, want);
    free(pub);
    vt_buf_cleanup(&in);
    vt_jwk_free(k);
}

static void test_rfc7518_kdf_vector(void **state)
{
    (void)state;
    /* Both keys of the example are valid public JWKs. */
    vt_jwk_free(parse_ok(rfc7518_bob));
    vt_jwk_free(parse_ok(rfc7518_alice_epk));
    uint8_t key[16];
    assert_int_equal(vt_jose_concat_kdf(rfc7518_z, sizeof(rfc7518_z), "A128GCM",
                                        (const uint8_t *)"Alice", 5, (const uint8_t *)"Bob", 3, 128,
                                        key, NULL),
                     VT_OK);
    char *s = b64u(key, sizeof(key));
    assert_string_equal(s, rfc7518_derived);
    free(s);
    /* Two hash blocks: the first 32 bytes of a 512-bit output are the 256-bit output. */
    uint8_t k256[32];
    uint8_t k512[64];
    assert_int_equal(vt_jose_concat_kdf(rfc7518_z, 32, "X", NULL, 0, NULL, 0, 256, k256, NULL),
                     VT_OK);
    assert_int_equal(vt_jose_concat_kdf(rfc7518_z, 32, "X", NULL, 0, NULL, 0, 512, k512, NULL),
                     VT_OK);
    assert_memory_not_equal(k256, k512, 32); /* keydatalen is part of the input */
}

/* ---- JWK: parsing ---- */

static void test_parse_accept(void **state)
{
    (void)state;
    for (int i = 0; i < K_COUNT; i++) {
        const struct vt_jwk *base = g.key[i];
        char tp[44];
        vt_jwk_thumbprint_b64(base, tp);
        json_t *o = public_obj(base);
        char buf[4096];
        bool rsa = strcmp(vt_jwk_kty(base), "RSA") == 0;

        /* 1. the canonical form; 2. reversed member order with whitespace everywhere;
         * 3. extra public members; 4. via the jansson entry point. */
        char *canon = vt_jwk_public_json(base);
        struct vt_jwk *k = parse_ok(canon);
        thumbprint_is(k, tp);
        assert_string_equal(vt_jwk_kty(k), vt_jwk_kty(base));
        assert_int_equal(vt_jwk_bits(k), vt_jwk_bits(base));
        assert_false(vt_jwk_has_private(k));
        if (rsa) {
            assert_null(vt_jwk_curve(k));
        } else {
            assert_string_equal(vt_jwk_curve(k), vt_jwk_curve(base));
        }
        vt_jwk_free(k);
        free(canon);

        if (rsa) {
            snprintf(buf, sizeof(buf),
                     " {\r\n\t\"n\" : \"%s\" ,\n \"kty\":\"RSA\", \"e\" :\"%s\"}\n", member(o, "n"),
                     member(o, "e"));
        } else {
            snprintf(buf, sizeof(buf),
                     "{ \"y\": \"%s\",\n\t\"x\" : \"%s\", \"kty\":\"EC\" ,"
                     "\"crv\":\"%s\" }  ",
                     member(o, "y"), member(o, "x"), member(o, "crv"));
        }
        k = parse_ok(buf);
        thumbprint_is(k, tp);
        vt_jwk_free(k);

        json_t *extra = json_deep_copy(o);
        json_object_set_new(extra, "kid", json_string("key-1"));
        json_object_set_new(extra, "use", json_string("enc"));
        json_object_set_new(extra, "alg", json_string(rsa ? "RSA-OAEP-256" : "ECDH-ES+A256KW"));
        json_object_set_new(extra, "key_ops", json_pack("[s]", "wrapKey"));
        json_object_set_new(extra, "ext", json_true());
        char *text = json_dumps(extra, JSON_INDENT(3));
        k = parse_ok(text);
        thumbprint_is(k, tp);
        vt_jwk_free(k);
        free(text);

        struct vt_jwk *kj = NULL;
        assert_int_equal(vt_jwk_from_json(extra, &kj, NULL), VT_OK);
        thumbprint_is(kj, tp);
        vt_jwk_free(kj);
        json_decref(extra);
        json_decref(o);
    }
}

/* A variant of a key's public JSON: member `key` set to the string `v` (NULL: deleted). */
static char *variant(const struct vt_jwk *k, const char *key, const char *v)
{
    json_t *o = public_obj(k);
    if (v != NULL) {
        json_object_set_new(o, key, json_string(v));
    } else {
        json_object_del(o, key);
    }
    char *s = json_dumps(o, JSON_COMPACT);
    assert_non_null(s);
    json_decref(o);
    return s;
}

static void reject_variant(const struct vt_jwk *k, const char *key, const char *v, enum vt_err want,
                           const char *check)
{
    char *s = variant(k, key, v);
    parse_rejects(s, strlen(s), want, check);
    free(s);
}

/* base64url of a coordinate with one byte changed or the length changed. */
static char *coord_variant(const struct vt_jwk *k, const char *key, int delta_len, bool flip_last)
{
    json_t *o = public_obj(k);
    const char *s = member(o, key);
    size_t n = 0;
    uint8_t *raw = unb64u(s, strlen(s), &n);
    uint8_t buf[600];
    memset(buf, 0x11, sizeof(buf));
    memcpy(buf, raw, n);
    if (flip_last) {
        buf[n - 1] ^= 1;
    }
    char *out = b64u(buf, (size_t)((int)n + delta_len));
    free(raw);
    json_decref(o);
    return out;
}

static void test_parse_reject(void **state)
{
    (void)state;
    const struct vt_jwk *ec = g.key[K_P256];
    const struct vt_jwk *ec384 = g.key[K_P384];
    const struct vt_jwk *rsa = g.key[K_RSA2048];
    json_t *eo = public_obj(ec);
    json_t *ro = public_obj(rsa);
    char buf[4096];

    /* JSON */
    parse_rejects("{", 1, VT_E_BAD_JSON, "jwk.json");
    parse_rejects("[1]", 3, VT_E_BAD_JSON, "jwk.json");
    parse_rejects("\"EC\"", 4, VT_E_BAD_JSON, "jwk.json");
    parse_rejects("{} x", 4, VT_E_BAD_JSON, "jwk.json");
    parse_rejects("{\"kty\":\"EC\"}\0", 13, VT_E_BAD_JSON, "jwk.json");
    snprintf(buf, sizeof(buf),
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"x\":\"%s\"}",
             member(eo, "x"), member(eo, "y"), member(eo, "x"));
    parse_rejects(buf, strlen(buf), VT_E_DUPLICATE, "jwk.json");
    snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}",
             member(ro, "n"));
    parse_rejects(buf, strlen(buf), VT_E_DUPLICATE, "jwk.json");
    char *big = malloc(VT_JWK_MAX_JSON + 2);
    assert_non_null(big);
    memset(big, ' ', VT_JWK_MAX_JSON + 1);
    big[0] = '{';
    big[VT_JWK_MAX_JSON] = '}';
    parse_rejects(big, VT_JWK_MAX_JSON + 1, VT_E_TOO_LARGE, "jwk.json");
    free(big);

    /* private members */
    static const char *const priv[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
    for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
        reject_variant(i == 0 ? ec : rsa, priv[i], "AQAB", VT_E_BAD_KEY, "jwk.private");
    }
    parse_rejects("{\"kty\":\"oct\",\"k\":\"AAAA\"}", 24, VT_E_BAD_KEY, "jwk.private");

    /* kty */
    reject_variant(ec, "kty", NULL, VT_E_MISSING_FIELD, "jwk.kty");
    reject_variant(ec, "kty", "OKP", VT_E_UNSUPPORTED_ALGORITHM, "jwk.kty");
    reject_variant(ec, "kty", "ec", VT_E_UNSUPPORTED_ALGORITHM, "jwk.kty");
    reject_variant(rsa, "kty", "RSA ", VT_E_UNSUPPORTED_ALGORITHM, "jwk.kty");
    snprintf(buf, sizeof(buf), "{\"kty\":1,\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
             member(eo, "x"), member(eo, "y"));
    parse_rejects(buf, strlen(buf), VT_E_BAD_FIELD, "jwk.kty");

    /* EC */
    reject_variant(ec, "crv", NULL, VT_E_MISSING_FIELD, "jwk.crv");
    reject_variant(ec, "crv", "P-192", VT_E_UNSUPPORTED_ALGORITHM, "jwk.crv");
    reject_variant(ec, "crv", "secp521r1", VT_E_UNSUPPORTED_ALGORITHM, "jwk.crv");
    reject_variant(ec, "crv", "secp256k1", VT_E_UNSUPPORTED_ALGORITHM, "jwk.crv");
    reject_variant(ec, "crv", "P-521", VT_E_BAD_LENGTH, "jwk.x"); /* 32-byte x on P-521 */
    reject_variant(ec, "crv", "P-384", VT_E_BAD_LENGTH, "jwk.x"); /* 32-byte x on P-384 */
    reject_variant(ec384, "crv", "P-256", VT_E_BAD_LENGTH, "jwk.x");
    reject_variant(ec, "x", NULL, VT_E_MISSING_FIELD, "jwk.x");
    reject_variant(ec, "y", NULL, VT_E_MISSING_FIELD, "jwk.y");
    snprintf(buf, sizeof(buf), "%s=", member(eo, "x"));
    reject_variant(ec, "x", buf, VT_E_BAD_BASE64, "jwk.x"); /* padding */
    snprintf(buf, sizeof(buf), "%s", member(eo, "y"));
    buf[5] = '+';
    reject_variant(ec, "y", buf, VT_E_BAD_BASE64, "jwk.y"); /* standard alphabet */
    snprintf(buf, sizeof(buf), "%.20s %s", member(eo, "x"), member(eo, "x") + 20);
    reject_variant(ec, "x", buf, VT_E_BAD_BASE64, "jwk.x"); /* whitespace */
    snprintf(buf, sizeof(buf), "%s", member(eo, "x"));
    buf[42] = buf[42] == 'A' ? 'B' : 'A'; /* 43 digits for 32 bytes: 2 unused bits */
    if (strchr("AEIMQUYcgkosw048", buf[42]) == NULL) {
        reject_variant(ec, "x", buf, VT_E_BAD_BASE64, "jwk.x"); /* non-zero unused bits */
    }
    char *c = coord_variant(ec, "x", -1, false);
    reject_variant(ec, "x", c, VT_E_BAD_LENGTH, "jwk.x");
    free(c);
    c = coord_variant(ec, "y", +1, false);
    reject_variant(ec, "y", c, VT_E_BAD_LENGTH, "jwk.y");
    free(c);
    c = coord_variant(ec, "y", 0, true);
    reject_variant(ec, "y", c, VT_E_BAD_KEY, "jwk.point");
    free(c);
    c = coord_variant(ec384, "x", 0, true);
    reject_variant(ec384, "x", c, VT_E_BAD_KEY, "jwk.point");
    free(c);
    /* P-521: 66-byte coordinates (the top 7 bits of the first byte are zero), no other length */
    const struct vt_jwk *ec521 = g.key[K_P521];
    c = coord_variant(ec521, "x", -1, false);
    reject_variant(ec521, "x", c, VT_E_BAD_LENGTH, "jwk.x");
    free(c);
    c = coord_variant(ec521, "y", +1, false);
    reject_variant(ec521, "y", c, VT_E_BAD_LENGTH, "jwk.y");
    free(c);
    c = coord_variant(ec521, "y", 0, true);
    reject_variant(ec521, "y", c, VT_E_BAD_KEY, "jwk.point");
    free(c);
    reject_variant(ec521, "crv", "P-384", VT_E_BAD_LENGTH, "jwk.x");
    snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":%s,\"y\":\"%s\"}", "123",
             member(eo, "y"));
    parse_rejects(buf, strlen(buf), VT_E_BAD_FIELD, "jwk.x");
    /* The point at infinity is not representable; all-zero coordinates are off the curve. */
    char *zero = b64u((const uint8_t[32]){0}, 32);
    snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", zero,
             zero);
    parse_rejects(buf, strlen(buf), VT_E_BAD_KEY, "jwk.point");
    free(zero);

    /* RSA */
    reject_variant(rsa, "n", NULL, VT_E_MISSING_FIELD, "jwk.n");
    reject_variant(rsa, "e", NULL, VT_E_MISSING_FIELD, "jwk.e");
    reject_variant(rsa, "e", "", VT_E_BAD_FIELD, "jwk.e");
    reject_variant(rsa, "n", "", VT_E_BAD_FIELD, "jwk.n");
    reject_variant(rsa, "e", "AQAB=", VT_E_BAD_BASE64, "jwk.e");
    reject_variant(rsa, "e", "AAEAAQ", VT_E_BAD_FIELD, "jwk.e");     /* leading zero */
    reject_variant(rsa, "e", "AQ", VT_E_BAD_KEY, "jwk.e");           /* 1 */
    reject_variant(rsa, "e", "Ag", VT_E_BAD_KEY, "jwk.e");           /* 2 */
    reject_variant(rsa, "e", "AQAA", VT_E_BAD_KEY, "jwk.e");         /* even */
    reject_variant(rsa, "e", "AQAAAAAAAAAB", VT_E_BAD_KEY, "jwk.e"); /* 9 bytes */
    {
        char *e3 = variant(rsa, "e", "Aw"); /* e = 3 is accepted */
        struct vt_jwk *k3 = parse_ok(e3);
        vt_jwk_free(k3);
        free(e3);
    }
    c = coord_variant(rsa, "n", -128, false); /* 1024 bits */
    reject_variant(rsa, "n", c, VT_E_BAD_KEY, "jwk.n");
    free(c);
    c = coord_variant(rsa, "n", 0, true); /* even modulus */
    reject_variant(rsa, "n", c, VT_E_BAD_KEY, "jwk.n");
    free(c);
    {
        /* a leading zero octet, and a modulus beyond 8192 bits */
        json_t *o = public_obj(rsa);
        size_t n = 0;
        uint8_t *raw = unb64u(member(o, "n"), strlen(member(o, "n")), &n);
        uint8_t *z = calloc(1, 1100);
        assert_non_null(z);
        memcpy(z + 1, raw, n);
        char *lz = b64u(z, n + 1);
        reject_variant(rsa, "n", lz, VT_E_BAD_FIELD, "jwk.n");
        free(lz);
        memset(z, 0xc5, 1100);
        char *huge = b64u(z, 1025);
        reject_variant(rsa, "n", huge, VT_E_BAD_KEY, "jwk.n");
        free(huge);
        huge = b64u(z, 1024); /* exactly 8192 bits, odd: accepted */
        char *s = variant(rsa, "n", huge);
        struct vt_jwk *k = parse_ok(s);
        assert_int_equal(vt_jwk_bits(k), 8192);
        vt_jwk_free(k);
        free(s);
        free(huge);
        free(z);
        free(raw);
        json_decref(o);
    }

    /* The jansson entry point: same checks, NULL and non-objects refused. */
    struct vt_jwk *k = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    json_t *arr = json_array();
    expect_diag(vt_jwk_from_json(arr, &k, &d), &d, VT_E_BAD_JSON, "jwk.json", "array");
    json_decref(arr);
    vt_diag_init(&d);
    expect_diag(vt_jwk_from_json(NULL, &k, &d), &d, VT_E_BAD_JSON, "jwk.json", "NULL");
    json_t *o = json_deep_copy(eo);
    json_object_set_new(o, "d", json_string("AAAA"));
    vt_diag_init(&d);
    expect_diag(vt_jwk_from_json(o, &k, &d), &d, VT_E_BAD_KEY, "jwk.private", "from_json d");
    assert_null(k);
    json_decref(o);

    json_decref(eo);
    json_decref(ro);
}

/* ---- keys: generation, PEM, P-256 raw points ---- */

/* ---- JWK: SubjectPublicKeyInfo, and the process's cache of imported EC keys ---- */

/* vt_jwk_spki_der (built by hand for EC keys) is byte for byte OpenSSL's i2d_PUBKEY encoding of
 * the same key (vt_key_spki_der); returns its length. */
static size_t spki_matches(const struct vt_jwk *k)
{
    struct vt_buf mine;
    struct vt_buf lib;
    vt_buf_init(&mine, 4096);
    vt_buf_init(&lib, 4096);
    assert_int_equal(vt_jwk_spki_der(k, &mine), VT_OK);
    assert_int_equal(vt_key_spki_der(vt_jwk_key(k), &lib, NULL), VT_OK);
    assert_int_equal(mine.len, lib.len);
    assert_memory_equal(mine.data, lib.data, lib.len);
    size_t n = mine.len;
    vt_buf_cleanup(&mine);
    vt_buf_cleanup(&lib);
    return n;
}

static void test_spki_der(void **state)
{
    (void)state;
    static const char *const crvs[] = {"P-256", "P-384", "P-521"};
    static const size_t lens[] = {91, 120, 158}; /* P-521's needs long-form lengths */
    for (size_t c = 0; c < 3; c++) {
        for (int i = 0; i < 24; i++) {
            /* Random keys: generated (coordinates from OpenSSL), and imported from their JWK. */
            struct vt_jwk *k = generate(crvs[c]);
            assert_int_equal(spki_matches(k), lens[c]);
            char *pub = vt_jwk_public_json(k);
            assert_non_null(pub);
            struct vt_jwk *p = parse_ok(pub);
            assert_int_equal(spki_matches(p), lens[c]);
            vt_jwk_free(p);
            free(pub);
            vt_jwk_free(k);
        }
    }
    /* Appended to what the buffer holds, as before. */
    struct vt_buf b;
    vt_buf_init(&b, 4096);
    assert_int_equal(vt_buf_append(&b, "x", 1), VT_OK);
    assert_int_equal(vt_jwk_spki_der(g.key[K_P256], &b), VT_OK);
    assert_int_equal(b.len, 1 + 91);
    vt_buf_cleanup(&b);
    vt_buf_init(&b, 90);
    assert_int_equal(vt_jwk_spki_der(g.key[K_P256], &b), VT_E_TOO_LARGE);
    vt_buf_cleanup(&b);
    /* RSA keys keep OpenSSL's encoder. */
    spki_matches(g.key[K_RSA2048]);
    spki_matches(g.key[K_RSA3072]);
}

#define CACHE_KEYS 320 /* more than the cache's 256 slots: evictions too */
#define CACHE_THREADS 4

struct cache_work {
    char **json;    /* CACHE_KEYS texts; every tenth a point off the curve */
    char (*tp)[44]; /* the thumbprints of the good ones */
    size_t start;
    int failures;
};

static void *cache_worker(void *arg)
{
    struct cache_work *w = arg;
    for (int round = 0; round < 2; round++) {
        for (size_t j = 0; j < CACHE_KEYS; j++) {
            size_t i = (w->start + j * 7) % CACHE_KEYS;
            struct vt_jwk *k = NULL;
            struct vt_diag d;
            vt_diag_init(&d);
            enum vt_err err = vt_jwk_parse(w->json[i], strlen(w->json[i]), &k, &d);
            char tp[44] = "";
            if (k != NULL) {
                vt_jwk_thumbprint_b64(k, tp);
            }
            bool ok = i % 10 == 0 ? err == VT_E_BAD_KEY && strcmp(d.check, "jwk.point") == 0
                                  : err == VT_OK && strcmp(tp, w->tp[i]) == 0;
            w->failures += ok ? 0 : 1;
            vt_jwk_free(k);
        }
    }
    return NULL;
}

static void test_key_cache(void **state)
{
    (void)state;
    /* The same key imported again (a hit) is the same key. */
    for (int c = K_P256; c <= K_P521; c++) {
        char *pub = vt_jwk_public_json(g.key[c]);
        char want[44];
        vt_jwk_thumbprint_b64(g.key[c], want);
        for (int i = 0; i < 3; i++) {
            struct vt_jwk *k = parse_ok(pub);
            thumbprint_is(k, want);
            spki_matches(k);
            vt_jwk_free(k);
        }
        free(pub);
    }
    /* A hit is as strict as a miss: a point off the curve with the x of a key just imported is
     * refused each time, and the key itself still imports between the attempts. */
    const struct vt_jwk *ec = g.key[K_P256];
    char *pub = vt_jwk_public_json(ec);
    char *bad_y = coord_variant(ec, "y", 0, true);
    char *bad_x = coord_variant(ec, "x", 0, true);
    for (int i = 0; i < 3; i++) {
        vt_jwk_free(parse_ok(pub));
        reject_variant(ec, "y", bad_y, VT_E_BAD_KEY, "jwk.point");
        reject_variant(ec, "x", bad_x, VT_E_BAD_KEY, "jwk.point");
    }
    /* The same for raw P-256 points. */
    uint8_t xy[64];
    struct vt_jwk *k = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_jwk_p256_xy(ec, xy, &d), VT_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(vt_jwk_from_p256_xy(xy, &k, &d), VT_OK);
        vt_jwk_free(k);
        xy[63] ^= 1;
        expect_diag(vt_jwk_from_p256_xy(xy, &k, &d), &d, VT_E_BAD_KEY, "jwk.point", "off curve");
        assert_null(k);
        xy[63] ^= 1;
    }
    free(bad_x);
    free(bad_y);
    free(pub);

    /* More keys than the cache holds, good and bad, imported by several threads at once. */
    char **json = calloc(CACHE_KEYS, sizeof(*json));
    char(*tp)[44] = calloc(CACHE_KEYS, sizeof(*tp));
    assert_non_null(json);
    assert_non_null(tp);
    for (size_t i = 0; i < CACHE_KEYS; i++) {
        struct vt_jwk *gk = generate("P-256");
        if (i % 10 == 0) {
            char *c = coord_variant(gk, "y", 0, true);
            json[i] = variant(gk, "y", c);
            free(c);
        } else {
            json[i] = vt_jwk_public_json(gk);
        }
        assert_non_null(json[i]);
        vt_jwk_thumbprint_b64(gk, tp[i]);
        vt_jwk_free(gk);
    }
    pthread_t t[CACHE_THREADS];
    struct cache_work w[CACHE_THREADS];
    for (size_t i = 0; i < CACHE_THREADS; i++) {
        w[i] = (struct cache_work){.json = json, .tp = tp, .start = i * 13, .failures = 0};
        assert_int_equal(pthread_create(&t[i], NULL, cache_worker, &w[i]), 0);
    }
    for (size_t i = 0; i < CACHE_THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
    }
    for (size_t i = 0; i < CACHE_KEYS; i++) {
        free(json[i]);
    }
    free(json);
    free(tp);
}

static void test_generate_and_pem(void **state)
{
    (void)state;
    static const int bits[K_COUNT] = {2048, 3072, 256, 384, 521};
    for (int i = 0; i < K_COUNT; i++) {
        struct vt_jwk *k = g.key[i];
        assert_true(vt_jwk_has_private(k));
        assert_int_equal(vt_jwk_bits(k), bits[i]);
        assert_string_equal(vt_jwk_kty(k), i < K_P256 ? "RSA" : "EC");
        if (i >= K_P256) {
            assert_string_equal(vt_jwk_curve(k), key_types[i]);
        }
        /* The public JSON never carries private members. */
        char *pub = vt_jwk_public_json(k);
        json_t *o = json_loads(pub, 0, NULL);
        assert_non_null(o);
        assert_int_equal(json_object_size(o), i < K_P256 ? 3 : 4);
        assert_null(json_object_get(o, "d"));
        json_decref(o);

        struct vt_buf pem;
        vt_buf_init(&pem, 64 * 1024);
        assert_int_equal(vt_jwk_private_pem(k, &pem, NULL), VT_OK);
        assert_non_null(strstr((const char *)pem.data, "-----BEGIN PRIVATE KEY-----"));
        struct vt_jwk *back = NULL;
        assert_int_equal(vt_jwk_from_private_pem((const char *)pem.data, pem.len, &back, NULL),
                         VT_OK);
        assert_true(vt_jwk_has_private(back));
        char tp1[44];
        char tp2[44];
        vt_jwk_thumbprint_b64(k, tp1);
        vt_jwk_thumbprint_b64(back, tp2);
        assert_string_equal(tp1, tp2);
        /* The public half parsed from JSON has the same thumbprint and no private half. */
        struct vt_jwk *pk = parse_ok(pub);
        vt_jwk_thumbprint_b64(pk, tp2);
        assert_string_equal(tp1, tp2);
        /* SubjectPublicKeyInfo: the same for the key and its public half, and it is the key
         * OpenSSL reads from the PEM. */
        struct vt_buf spki;
        struct vt_buf spki2;
        vt_buf_init(&spki, 8192);
        vt_buf_init(&spki2, 8192);
        assert_int_equal(vt_jwk_spki_der(k, &spki), VT_OK);
        assert_int_equal(vt_jwk_spki_der(pk, &spki2), VT_OK);
        assert_int_equal(spki.len, spki2.len);
        assert_memory_equal(spki.data, spki2.data, spki.len);
        {
            const unsigned char *p = spki.data;
            EVP_PKEY *from_spki = d2i_PUBKEY(NULL, &p, (long)spki.len);
            assert_non_null(from_spki);
            assert_ptr_equal(p, spki.data + spki.len);
            BIO *pb = BIO_new_mem_buf(pem.data, (int)pem.len);
            EVP_PKEY *from_pem = PEM_read_bio_PrivateKey(pb, NULL, NULL, NULL);
            assert_non_null(from_pem);
            assert_int_equal(EVP_PKEY_eq(from_spki, from_pem), 1);
            EVP_PKEY_free(from_pem);
            EVP_PKEY_free(from_spki);
            BIO_free(pb);
        }
        vt_buf_cleanup(&spki);
        vt_buf_cleanup(&spki2);
        struct vt_diag d;
        vt_diag_init(&d);
        struct vt_buf none;
        vt_buf_init(&none, 4096);
        expect_diag(vt_jwk_private_pem(pk, &none, &d), &d, VT_E_STATE, "jwk.private",
                    "public key PEM");
        assert_int_equal(none.len, 0);
        vt_buf_cleanup(&none);
        vt_jwk_free(pk);
        vt_jwk_free(back);
        vt_buf_cleanup(&pem);
        free(pub);
    }

    struct vt_jwk *k = NULL;
    struct vt_diag d;
    static const char *const bad_types[] = {"RSA-1024", "RSA-2047", "P-192", "secp256k1",
                                            "P-521 ",   "Ed25519",  "",      "rsa"};
    for (size_t i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
        vt_diag_init(&d);
        expect_diag(vt_jwk_generate(bad_types[i], &k, &d), &d, VT_E_UNSUPPORTED_ALGORITHM,
                    "jwk.generate", bad_types[i]);
        assert_null(k);
    }

    vt_diag_init(&d);
    expect_diag(vt_jwk_from_private_pem("not a key", 9, &k, &d), &d, VT_E_BAD_PEM, "jwk.pem",
                "garbage PEM");

    /* Keys a JWK may not hold: secp256k1, Ed25519, RSA-1024. */
    struct {
        EVP_PKEY *pkey;
        enum vt_err err;
        const char *check;
    } odd[3] = {{EVP_EC_gen("secp256k1"), VT_E_UNSUPPORTED_ALGORITHM, "jwk.crv"},
                {EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), VT_E_UNSUPPORTED_ALGORITHM, "jwk.kty"},
                {EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024), VT_E_BAD_KEY, "jwk.n"}};
    for (int i = 0; i < 3; i++) {
        assert_non_null(odd[i].pkey);
        BIO *b = BIO_new(BIO_s_mem());
        assert_true(PEM_write_bio_PrivateKey(b, odd[i].pkey, NULL, NULL, 0, NULL, NULL));
        char *p = NULL;
        long n = BIO_get_mem_data(b, &p);
        vt_diag_init(&d);
        expect_diag(vt_jwk_from_private_pem(p, (size_t)n, &k, &d), &d, odd[i].err, odd[i].check,
                    "odd key");
        assert_null(k);
        BIO_free(b);
        EVP_PKEY_free(odd[i].pkey);
    }
}

static void test_p256_xy(void **state)
{
    (void)state;
    struct vt_jwk *k = NULL;
    assert_int_equal(vt_jwk_from_p256_xy(g.signer_xy, &k, NULL), VT_OK);
    assert_string_equal(vt_jwk_curve(k), "P-256");
    uint8_t xy[64];
    assert_int_equal(vt_jwk_p256_xy(k, xy, NULL), VT_OK);
    assert_memory_equal(xy, g.signer_xy, 64);
    /* Through JSON and back. */
    char *pub = vt_jwk_public_json(k);
    struct vt_jwk *k2 = parse_ok(pub);
    assert_int_equal(vt_jwk_p256_xy(k2, xy, NULL), VT_OK);
    assert_memory_equal(xy, g.signer_xy, 64);
    vt_jwk_free(k2);
    free(pub);
    vt_jwk_free(k);

    struct vt_diag d;
    vt_diag_init(&d);
    expect_diag(vt_jwk_p256_xy(g.key[K_P384], xy, &d), &d, VT_E_UNSUPPORTED_ALGORITHM, "jwk.crv",
                "P-384 xy");
    vt_diag_init(&d);
    expect_diag(vt_jwk_p256_xy(g.key[K_RSA2048], xy, &d), &d, VT_E_UNSUPPORTED_ALGORITHM, "jwk.crv",
                "RSA xy");
    uint8_t bad[64];
    memcpy(bad, g.signer_xy, 64);
    bad[63] ^= 1;
    vt_diag_init(&d);
    expect_diag(vt_jwk_from_p256_xy(bad, &k, &d), &d, VT_E_BAD_KEY, "jwk.point", "off curve");
}

/* ---- JWS ---- */

/* Resolver: "k1" is the signer, "k2" the other signer, "bad" an off-curve point. */
static bool resolve(void *ctx, const char *kid, uint8_t xy[64])
{
    int *calls = ctx;
    if (calls != NULL) {
        (*calls)++;
    }
    if (strcmp(kid, "k1") == 0) {
        memcpy(xy, g.signer_xy, 64);
        return true;
    }
    if (strcmp(kid, "k2") == 0) {
        memcpy(xy, g.signer2_xy, 64);
        return true;
    }
    if (strcmp(kid, "bad") == 0) {
        memcpy(xy, g.signer_xy, 64);
        xy[63] ^= 1;
        return true;
    }
    return false;
}

static char *sign(const char *kid, const char *typ, const char *payload)
{
    char *jws = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err =
        vt_jws_sign_es256(g.signer, kid, typ, (const uint8_t *)payload, strlen(payload), &jws, &d);
    if (err != VT_OK) {
        print_message("sign: %s %s: %s\n", vt_err_name(err), d.check, d.detail);
    }
    assert_int_equal(err, VT_OK);
    return jws;
}

static void jws_rejects(const char *jws, enum vt_err want, const char *check, const char *what)
{
    struct vt_buf payload;
    vt_buf_init(&payload, 1 << 20);
    struct vt_diag d;
    vt_diag_init(&d);
    char kid[VT_JOSE_KID_MAX];
    memset(kid, 'x', sizeof(kid));
    enum vt_err err = vt_jws_verify_es256(jws, strlen(jws), resolve, NULL, &payload, kid, &d);
    expect_diag(err, &d, want, check, what);
    assert_null(payload.data);
    assert_string_equal(kid, "");
    vt_buf_cleanup(&payload);
}

/* A JWS from parts: header JSON text, payload, signature bytes. */
static char *forge(const char *hdr, const char *payload, const uint8_t *sig, size_t sig_len)
{
    char *h = b64u(hdr, strlen(hdr));
    char *p = b64u(payload, strlen(payload));
    char *s = b64u(sig, sig_len);
    size_t n = strlen(h) + strlen(p) + strlen(s) + 3;
    char *out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%s.%s.%s", h, p, s);
    free(h);
    free(p);
    free(s);
    return out;
}

static void test_jws_round_trip(void **state)
{
    (void)state;
    static const char claims[] = "{\"eat_nonce\":\"AAEC\",\"ear.status\":\"affirming\"}";
    char *jws = sign("k1", "JWT", claims);
    json_t *h = header_of(jws);
    char *ht = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(ht, "{\"alg\":\"ES256\",\"kid\":\"k1\",\"typ\":\"JWT\"}");
    free(ht);
    json_decref(h);
    char *sig = segment(jws, 2);
    assert_int_equal(strlen(sig), 86); /* 64 bytes raw r||s */
    free(sig);

    struct vt_buf payload;
    vt_buf_init(&payload, 4096);
    char kid[VT_JOSE_KID_MAX];
    int calls = 0;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_jws_verify_es256(jws, strlen(jws), resolve, &calls, &payload, kid, &d),
                     VT_OK);
    assert_int_equal(calls, 1);
    assert_string_equal(kid, "k1");
    assert_int_equal(payload.len, strlen(claims));
    assert_memory_equal(payload.data, claims, payload.len);
    vt_buf_cleanup(&payload);
    free(jws);

    /* No typ; empty payload; a kid at the size limit with non-ASCII UTF-8. */
    jws = sign("k1", NULL, "");
    h = header_of(jws);
    assert_int_equal(json_object_size(h), 2);
    json_decref(h);
    vt_buf_init(&payload, 16);
    assert_int_equal(vt_jws_verify_es256(jws, strlen(jws), resolve, NULL, &payload, kid, NULL),
                     VT_OK);
    assert_int_equal(payload.len, 0);
    vt_buf_cleanup(&payload);
    free(jws);

    /* Too small a payload buffer. */
    jws = sign("k1", NULL, claims);
    vt_buf_init(&payload, 8);
    vt_diag_init(&d);
    enum vt_err err = vt_jws_verify_es256(jws, strlen(jws), resolve, NULL, &payload, kid, &d);
    expect_diag(err, &d, VT_E_TOO_LARGE, "jws.payload", "small buffer");
    assert_null(payload.data);
    assert_string_equal(kid, "");
    vt_buf_cleanup(&payload);
    free(jws);

    /* Sign-side argument checks. */
    char *out = NULL;
    char long_kid[VT_JOSE_KID_MAX + 1];
    memset(long_kid, 'k', sizeof(long_kid) - 1);
    long_kid[VT_JOSE_KID_MAX] = '\0';
    const char *bad_kids[] = {NULL, "", long_kid, "\xff\xfe"};
    for (size_t i = 0; i < 4; i++) {
        vt_diag_init(&d);
        expect_diag(
            vt_jws_sign_es256(g.signer, bad_kids[i], NULL, (const uint8_t *)"x", 1, &out, &d), &d,
            VT_E_ARG, "jws.kid", "bad kid");
        assert_null(out);
    }
    vt_diag_init(&d);
    expect_diag(vt_jws_sign_es256(g.signer, "k1", "\xc3", (const uint8_t *)"x", 1, &out, &d), &d,
                VT_E_ARG, "jws.typ", "bad typ");
    long_kid[VT_JOSE_KID_MAX - 1] = '\0'; /* 127 bytes: the longest kid */
    assert_int_equal(
        vt_jws_sign_es256(g.signer, long_kid, NULL, (const uint8_t *)"x", 1, &out, NULL), VT_OK);
    vt_buf_init(&payload, 16);
    /* Signed, but "kkk..." is not known to the resolver. */
    vt_diag_init(&d);
    expect_diag(vt_jws_verify_es256(out, strlen(out), resolve, NULL, &payload, kid, &d), &d,
                VT_E_NOT_FOUND, "jws.kid", "long kid");
    vt_buf_cleanup(&payload);
    free(out);
}

static void test_jws_reject(void **state)
{
    (void)state;
    static const char claims[] = "{\"ear.status\":\"affirming\"}";
    char *good = sign("k1", "JWT", claims);
    char *sig64 = segment(good, 2);
    size_t sig_len = 0;
    uint8_t *sig = unb64u(sig64, strlen(sig64), &sig_len);
    assert_int_equal(sig_len, 64);

    /* alg */
    char *t = forge("{\"alg\":\"none\",\"kid\":\"k1\"}", claims, NULL, 0);
    jws_rejects(t, VT_E_UNSUPPORTED_ALGORITHM, "jws.alg", "alg none");
    free(t);
    t = forge("{\"alg\":\"HS256\",\"kid\":\"k1\"}", claims, sig, 32);
    jws_rejects(t, VT_E_UNSUPPORTED_ALGORITHM, "jws.alg", "alg HS256");
    free(t);
    static const char *const algs[] = {"ES384", "RS256", "PS256", "EdDSA", "es256", "ES256 "};
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        char hdr[128];
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"kid\":\"k1\"}", algs[i]);
        t = forge(hdr, claims, sig, 64);
        jws_rejects(t, VT_E_UNSUPPORTED_ALGORITHM, "jws.alg", algs[i]);
        free(t);
    }
    t = forge("{\"kid\":\"k1\"}", claims, sig, 64);
    jws_rejects(t, VT_E_MISSING_FIELD, "jws.alg", "no alg");
    free(t);
    t = forge("{\"alg\":[\"ES256\"],\"kid\":\"k1\"}", claims, sig, 64);
    jws_rejects(t, VT_E_BAD_FIELD, "jws.alg", "alg array");
    free(t);

    /* header members */
    t = forge("{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"exp\":1,\"kid\":\"k1\"}", claims, sig, 64);
    jws_rejects(t, VT_E_UNSUPPORTED, "jws.crit", "crit");
    free(t);
    t = forge("{\"alg\":\"ES256\",\"b64\":false,\"kid\":\"k1\"}", claims, sig, 64);
    jws_rejects(t, VT_E_UNSUPPORTED, "jws.b64", "b64");
    free(t);
    t = forge("{\"alg\":\"ES256\"}", claims, sig, 64);
    jws_rejects(t, VT_E_MISSING_FIELD, "jws.kid", "no kid");
    free(t);
    t = forge("{\"alg\":\"ES256\",\"kid\":\"\"}", claims, sig, 64);
    jws_rejects(t, VT_E_BAD_FIELD, "jws.kid", "empty kid");
    free(t);
    t = forge("{\"alg\":\"ES256\",\"kid\":7}", claims, sig, 64);
    jws_rejects(t, VT_E_BAD_FIELD, "jws.kid", "numeric kid");
    free(t);
    t = forge("{\"alg\":\"ES256\",\"kid\":\"k1\",\"alg\":\"ES256\"}", claims, sig, 64);
    jws_rejects(t, VT_E_DUPLICATE, "jws.header", "duplicate alg");
    free(t);
    t = forge("{\"alg\":\"ES256\",\"kid\":\"k1\"", claims, sig, 64);
    jws_rejects(t, VT_E_BAD_JSON, "jws.header", "truncated JSON");
    free(t);
    t = forge("[\"ES256\"]", claims, sig, 64);
    jws_rejects(t, VT_E_BAD_JSON, "jws.header", "header array");
    free(t);

    /* keys */
    t = forge("{\"alg\":\"ES256\",\"kid\":\"nobody\"}", claims, sig, 64);
    jws_rejects(t, VT_E_NOT_FOUND, "jws.kid", "unknown kid");
    free(t);
    /* The same header and payload, verified under another known kid: a bad signature. */
    t = forge("{\"alg\":\"ES256\",\"kid\":\"k2\",\"typ\":\"JWT\"}", claims, sig, 64);
    jws_rejects(t, VT_E_SIGNATURE, "jws.signature", "wrong kid");
    free(t);
    t = forge("{\"alg\":\"ES256\",\"kid\":\"bad\"}", claims, sig, 64);
    jws_rejects(t, VT_E_BAD_KEY, "jws.key", "off-curve resolver key");
    free(t);

    /* tampering */
    t = forge("{\"alg\":\"ES256\",\"kid\":\"k1\",\"typ\":\"JWT\"}", "{\"ear.status\":\"warning\"}",
              sig, 64);
    jws_rejects(t, VT_E_SIGNATURE, "jws.signature", "tampered payload");
    free(t);
    t = forge("{\"alg\":\"ES256\",\"kid\":\"k1\",\"typ\":\"JOSE\"}", claims, sig, 64);
    jws_rejects(t, VT_E_SIGNATURE, "jws.signature", "tampered header");
    free(t);
    t = forge("{\"alg\":\"ES256\",\"kid\":\"k1\",\"typ\":\"JWT\"}", claims, sig, 64);
    assert_string_equal(t, good); /* forge reproduces the genuine token */
    free(t);
    uint8_t sig2[65];
    memcpy(sig2, sig, 64);
    sig2[10] ^= 0x40;
    t = forge("{\"alg\":\"ES256\",\"kid\":\"k1\",\"typ\":\"JWT\"}", claims, sig2, 64);
    jws_rejects(t, VT_E_SIGNATURE, "jws.signature", "tampered signature");
    free(t);
    sig2[10] ^= 0x40;
    memset(sig2, 0, 32); /* r = 0 */
    t = forge("{\"alg\":\"ES256\",\"kid\":\"k1\",\"typ\":\"JWT\"}", claims, sig2, 64);
    jws_rejects(t, VT_E_SIGNATURE, "jws.signature", "r = 0");
    free(t);

    /* lengths, segments, base64url */
    t = forge("{\"alg\":\"ES256\",\"kid\":\"k1\",\"typ\":\"JWT\"}", claims, sig, 63);
    jws_rejects(t, VT_E_BAD_LENGTH, "jws.signature", "63-byte signature");
    free(t);
    sig2[64] = 0;
    memcpy(sig2, sig, 64);
    t = forge("{\"alg\":\"ES256\",\"kid\":\"k1\",\"typ\":\"JWT\"}", claims, sig2, 65);
    jws_rejects(t, VT_E_BAD_LENGTH, "jws.signature", "65-byte signature");
    free(t);
    size_t n = strlen(good);
    char *cut = strdup(good);
    cut[n - 1] = '\0'; /* 85 digits */
    jws_rejects(cut, VT_E_BAD_BASE64, "jws.signature", "truncated by one");
    cut[n - 2] = '\0'; /* 84 digits: 63 bytes */
    jws_rejects(cut, VT_E_BAD_LENGTH, "jws.signature", "truncated by two");
    *strrchr(cut, '.') = '\0';
    jws_rejects(cut, VT_E_MALFORMED, "jws.compact", "two segments");
    jws_rejects("", VT_E_MALFORMED, "jws.compact", "empty");
    free(cut);
    t = malloc(n + 8);
    snprintf(t, n + 8, "%s.AAAA", good);
    jws_rejects(t, VT_E_MALFORMED, "jws.compact", "extra segment");
    snprintf(t, n + 8, "%s.", good);
    jws_rejects(t, VT_E_MALFORMED, "jws.compact", "trailing dot");
    snprintf(t, n + 8, "%s=", good);
    jws_rejects(t, VT_E_BAD_BASE64, "jws.signature", "padding");
    snprintf(t, n + 8, "%s\n", good);
    jws_rejects(t, VT_E_BAD_BASE64, "jws.signature", "newline");
    snprintf(t, n + 8, " %s", good);
    jws_rejects(t, VT_E_BAD_BASE64, "jws.header", "leading space");
    free(t);
    t = with_segment(good, 3, 1, "e30+");
    jws_rejects(t, VT_E_BAD_BASE64, "jws.payload", "standard alphabet");
    free(t);
    t = with_segment(good, 3, 1, "e31"); /* "{}" with a non-zero unused bit */
    jws_rejects(t, VT_E_BAD_BASE64, "jws.payload", "unused bits");
    free(t);
    char *big = malloc(VT_JOSE_MAX_COMPACT + 2);
    assert_non_null(big);
    memset(big, 'A', VT_JOSE_MAX_COMPACT + 1);
    big[VT_JOSE_MAX_COMPACT + 1] = '\0';
    jws_rejects(big, VT_E_TOO_LARGE, "jws.compact", "too large");
    free(big);

    free(sig);
    free(sig64);
    free(good);
}

static bool resolve_interop(void *ctx, const char *kid, uint8_t xy[64])
{
    const struct vt_jwk *k = ctx;
    return strcmp(kid, "fuzz-es256") == 0 && vt_jwk_p256_xy(k, xy, NULL) == VT_OK;
}

static void test_jws_interop(void **state)
{
    (void)state;
    struct vt_jwk *ec = NULL;
    assert_int_equal(vt_jwk_from_private_pem(interop_p256_pem, strlen(interop_p256_pem), &ec, NULL),
                     VT_OK);
    struct vt_buf payload;
    vt_buf_init(&payload, 4096);
    char kid[VT_JOSE_KID_MAX];
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_jws_verify_es256(interop_jws, strlen(interop_jws), resolve_interop, ec,
                                          &payload, kid, &d);
    if (err != VT_OK) {
        print_message("interop JWS: %s %s: %s\n", vt_err_name(err), d.check, d.detail);
    }
    assert_int_equal(err, VT_OK);
    assert_string_equal(kid, "fuzz-es256");
    assert_int_equal(payload.len, strlen(interop_jws_payload));
    assert_memory_equal(payload.data, interop_jws_payload, payload.len);
    vt_buf_cleanup(&payload);
    vt_jwk_free(ec);
}

/* ---- JWS with RS256 ---- */

struct rs_ctx {
    const struct vt_jwk *key;
    const char *kid;
};

/* Trust `key` for its kid only. */
static const struct vt_jwk *resolve_rs(void *ctx, const struct json_t *header, struct vt_diag *d)
{
    const struct rs_ctx *c = ctx;
    const char *kid = json_string_value(json_object_get(header, "kid"));
    if (kid == NULL || strcmp(kid, c->kid) != 0) {
        vt_fail(d, VT_E_NOT_FOUND, "jws.kid", "kid %s is not trusted", kid ? kid : "(none)");
        return NULL;
    }
    return c->key;
}

static char *rs_sign(const struct vt_jwk *k, const char *kid, const char *payload)
{
    json_t *h = json_pack("{s:s,s:s,s:s}", "kid", kid, "typ", "JWT", "jku", "https://x/certs");
    char *jws = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_jws_sign_rs256(k, h, (const uint8_t *)payload, strlen(payload), &jws, &d);
    json_decref(h);
    if (err != VT_OK) {
        print_message("sign: %s %s: %s\n", vt_err_name(err), d.check, d.detail);
    }
    assert_int_equal(err, VT_OK);
    return jws;
}

static void rs_rejects(const char *jws, struct rs_ctx *c, enum vt_err want, const char *check,
                       const char *what)
{
    struct vt_buf payload;
    vt_buf_init(&payload, 4096);
    struct vt_diag d;
    vt_diag_init(&d);
    json_t *h = NULL;
    enum vt_err err = vt_jws_verify_rs256(jws, strlen(jws), resolve_rs, c, &payload, &h, &d);
    expect_diag(err, &d, want, check, what);
    assert_null(h);
    assert_int_equal(payload.len, 0);
    vt_buf_cleanup(&payload);
}

static void test_jws_rs256(void **state)
{
    (void)state;
    struct vt_jwk *k = NULL, *other = NULL, *ec = NULL;
    assert_int_equal(vt_jwk_generate("RSA-2048", &k, NULL), VT_OK);
    assert_int_equal(vt_jwk_generate("RSA-3072", &other, NULL), VT_OK);
    assert_int_equal(vt_jwk_generate("P-256", &ec, NULL), VT_OK);
    const char *msg = "{\"x-ms-ver\":\"1.0\",\"tee\":\"sgx\"}";
    char *jws = rs_sign(k, "k1", msg);

    /* Round trip; the header comes back with every member and "alg". */
    struct rs_ctx c = {k, "k1"};
    struct vt_buf payload;
    vt_buf_init(&payload, 4096);
    json_t *h = NULL;
    assert_int_equal(vt_jws_verify_rs256(jws, strlen(jws), resolve_rs, &c, &payload, &h, NULL),
                     VT_OK);
    assert_int_equal(payload.len, strlen(msg));
    assert_memory_equal(payload.data, msg, payload.len);
    assert_string_equal(json_string_value(json_object_get(h, "alg")), "RS256");
    assert_string_equal(json_string_value(json_object_get(h, "typ")), "JWT");
    assert_string_equal(json_string_value(json_object_get(h, "jku")), "https://x/certs");
    json_decref(h);
    vt_buf_cleanup(&payload);

    /* An independent check: OpenSSL's RSASSA-PKCS1-v1_5 SHA-256 over the signing input. */
    struct vt_buf pem;
    vt_buf_init(&pem, 64 * 1024);
    assert_int_equal(vt_jwk_private_pem(k, &pem, NULL), VT_OK);
    BIO *b = BIO_new_mem_buf(pem.data, (int)pem.len);
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    assert_non_null(pkey);
    BIO_free(b);
    vt_buf_cleanup(&pem);
    const char *dot2 = strrchr(jws, '.');
    char *sig64 = segment(jws, 2);
    size_t sn = 0;
    uint8_t *sig = unb64u(sig64, strlen(sig64), &sn);
    assert_int_equal(sn, 256);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey), 1);
    assert_int_equal(EVP_DigestVerify(md, sig, sn, (const uint8_t *)jws, (size_t)(dot2 - jws)), 1);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    free(sig);
    free(sig64);

    /* Rejects: each names its check. */
    struct rs_ctx unknown = {k, "k2"};
    rs_rejects(jws, &unknown, VT_E_NOT_FOUND, "jws.kid", "resolver knows no such kid");
    struct rs_ctx wrong = {other, "k1"};
    rs_rejects(jws, &wrong, VT_E_BAD_LENGTH, "jws.signature", "signature of another size");
    char *jws2 = rs_sign(other, "k1", msg);
    rs_rejects(jws2, &c, VT_E_BAD_LENGTH, "jws.signature", "3072-bit signature, 2048-bit key");
    free(jws2);
    struct vt_jwk *k_b = NULL;
    assert_int_equal(vt_jwk_generate("RSA-2048", &k_b, NULL), VT_OK);
    struct rs_ctx same_size = {k_b, "k1"};
    rs_rejects(jws, &same_size, VT_E_SIGNATURE, "jws.signature", "another key of the same size");
    struct rs_ctx ec_ctx = {ec, "k1"};
    rs_rejects(jws, &ec_ctx, VT_E_BAD_KEY, "jws.key", "an EC key for RS256");

    /* Payload altered after signing. */
    char *p64 = segment(jws, 1);
    char *h64 = segment(jws, 0);
    char *s64 = segment(jws, 2);
    const char *other_payload = "eyJ0ZWUiOiJ0ZHgifQ"; /* {"tee":"tdx"} */
    size_t tn = strlen(h64) + strlen(other_payload) + strlen(s64) + 3;
    char *tampered = malloc(tn);
    assert_non_null(tampered);
    (void)!snprintf(tampered, tn, "%s.%s.%s", h64, other_payload, s64);
    rs_rejects(tampered, &c, VT_E_SIGNATURE, "jws.signature", "payload altered");
    free(tampered);
    free(p64);

    /* An ES256 token is not RS256; neither is "none". */
    char *es = NULL;
    assert_int_equal(
        vt_jws_sign_es256(vt_jwk_key(ec), "k1", NULL, (const uint8_t *)"{}", 2, &es, NULL), VT_OK);
    rs_rejects(es, &c, VT_E_UNSUPPORTED_ALGORITHM, "jws.alg", "ES256 token");
    free(es);
    char none[] = "eyJhbGciOiJub25lIn0.e30."; /* {"alg":"none"}.{}. */
    rs_rejects(none, &c, VT_E_UNSUPPORTED_ALGORITHM, "jws.alg", "alg none");
    const char *crit_h = "eyJhbGciOiJSUzI1NiIsImNyaXQiOlsiZXhwIl0sImtpZCI6ImsxIn0";
    tn = strlen(crit_h) + strlen(s64) + 8;
    char *crit = malloc(tn);
    assert_non_null(crit);
    (void)!snprintf(crit, tn, "%s.e30.%s", crit_h, s64);
    rs_rejects(crit, &c, VT_E_UNSUPPORTED, "jws.crit", "crit header");
    free(crit);
    rs_rejects("a.b", &c, VT_E_MALFORMED, "jws.compact", "two segments");
    free(h64);
    free(s64);

    /* Signing refuses what cannot sign RS256. */
    struct vt_jwk *pub = NULL;
    char *pubj = vt_jwk_public_json(k);
    assert_int_equal(vt_jwk_parse(pubj, strlen(pubj), &pub, NULL), VT_OK);
    free(pubj);
    char *out = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    expect_diag(vt_jws_sign_rs256(pub, NULL, (const uint8_t *)"x", 1, &out, &d), &d, VT_E_ARG,
                "jws.key", "public key only");
    vt_diag_init(&d);
    expect_diag(vt_jws_sign_rs256(ec, NULL, (const uint8_t *)"x", 1, &out, &d), &d, VT_E_ARG,
                "jws.key", "EC key");
    json_t *arr = json_array();
    vt_diag_init(&d);
    expect_diag(vt_jws_sign_rs256(k, arr, (const uint8_t *)"x", 1, &out, &d), &d, VT_E_ARG,
                "jws.header", "header not an object");
    assert_null(out);
    json_decref(arr);

    free(jws);
    vt_jwk_free(pub);
    vt_jwk_free(k_b);
    vt_jwk_free(k);
    vt_jwk_free(other);
    vt_jwk_free(ec);
}

/* ---- JWE ---- */

static char *encrypt_to(const struct vt_jwk *k, const uint8_t *pt, size_t n, const char *kid)
{
    char *jwe = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_jwe_encrypt(k, pt, n, kid, &jwe, &d);
    if (err != VT_OK) {
        print_message("encrypt: %s %s: %s\n", vt_err_name(err), d.check, d.detail);
    }
    assert_int_equal(err, VT_OK);
    return jwe;
}

static void decrypts_to(const struct vt_jwk *k, const char *jwe, const void *want, size_t n)
{
    struct vt_buf pt;
    vt_buf_init(&pt, 1 << 20);
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_jwe_decrypt(k, jwe, strlen(jwe), &pt, &d);
    if (err != VT_OK) {
        print_message("decrypt: %s %s: %s\n", vt_err_name(err), d.check, d.detail);
    }
    assert_int_equal(err, VT_OK);
    assert_int_equal(pt.len, n);
    if (n > 0) {
        assert_memory_equal(pt.data, want, n);
    }
    vt_buf_cleanup(&pt);
}

static void jwe_rejects(const struct vt_jwk *k, const char *jwe, enum vt_err want,
                        const char *check, const char *what)
{
    struct vt_buf pt;
    vt_buf_init(&pt, 1 << 20);
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_jwe_decrypt(k, jwe, strlen(jwe), &pt, &d);
    expect_diag(err, &d, want, check, what);
    assert_null(pt.data);
    vt_buf_cleanup(&pt);
}

/* Segment i of a JWE decoded; its length in *n. */
static uint8_t *jwe_part(const char *jwe, int i, size_t *n)
{
    char *s = segment(jwe, i);
    uint8_t *p = unb64u(s, strlen(s), n);
    free(s);
    return p;
}

/* Independent RSA-OAEP-256 + A256GCM decryption with plain OpenSSL calls. */
static void openssl_decrypts(const struct vt_jwk *k, const char *jwe, const uint8_t *want,
                             size_t want_len)
{
    struct vt_buf pem;
    vt_buf_init(&pem, 64 * 1024);
    assert_int_equal(vt_jwk_private_pem(k, &pem, NULL), VT_OK);
    BIO *b = BIO_new_mem_buf(pem.data, (int)pem.len);
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    assert_non_null(pkey);
    BIO_free(b);
    vt_buf_cleanup(&pem);

    size_t ekn = 0;
    size_t ivn = 0;
    size_t ctn = 0;
    size_t tagn = 0;
    uint8_t *ek = jwe_part(jwe, 1, &ekn);
    uint8_t *iv = jwe_part(jwe, 2, &ivn);
    uint8_t *ct = jwe_part(jwe, 3, &ctn);
    uint8_t *tag = jwe_part(jwe, 4, &tagn);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(pkey, NULL);
    assert_int_equal(EVP_PKEY_decrypt_init(pc), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md(pc, EVP_sha256()), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()), 1);
    uint8_t cek[1024];
    size_t cekn = sizeof(cek);
    assert_int_equal(EVP_PKEY_decrypt(pc, cek, &cekn, ek, ekn), 1);
    assert_int_equal(cekn, 32);
    EVP_PKEY_CTX_free(pc);

    char *aad = segment(jwe, 0);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    uint8_t *out = malloc(ctn + 16);
    int outl = 0;
    int fin = 0;
    assert_int_equal(EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, cek, iv), 1);
    assert_int_equal(EVP_DecryptUpdate(c, NULL, &outl, (uint8_t *)aad, (int)strlen(aad)), 1);
    outl = 0;
    if (ctn > 0) {
        assert_int_equal(EVP_DecryptUpdate(c, out, &outl, ct, (int)ctn), 1);
    }
    assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag), 1);
    assert_int_equal(EVP_DecryptFinal_ex(c, out + outl, &fin), 1);
    assert_int_equal((size_t)(outl + fin), want_len);
    if (want_len > 0) {
        assert_memory_equal(out, want, want_len);
    }
    EVP_CIPHER_CTX_free(c);
    free(out);
    free(aad);
    free(ek);
    free(iv);
    free(ct);
    free(tag);
    EVP_PKEY_free(pkey);
}

/* The header and segment sizes of a JWE made here, member by member. */
static void check_format(const struct vt_jwk *k, const char *jwe, size_t pt_len, const char *kid)
{
    bool rsa = strcmp(vt_jwk_kty(k), "RSA") == 0;
    json_t *h = header_of(jwe);
    assert_int_equal(json_object_size(h), (rsa ? 2u : 3u) + (kid != NULL ? 1u : 0u));
    assert_string_equal(member(h, "alg"), rsa ? "RSA-OAEP-256" : "ECDH-ES+A256KW");
    assert_string_equal(member(h, "enc"), "A256GCM");
    if (kid != NULL) {
        assert_string_equal(member(h, "kid"), kid);
    }
    /* The encoded header is the compact, sorted serialisation. */
    char *text = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);
    char *h64 = b64u(text, strlen(text));
    char *seg = segment(jwe, 0);
    assert_string_equal(seg, h64);
    free(seg);
    free(h64);
    free(text);
    if (!rsa) {
        json_t *epk = json_object_get(h, "epk");
        assert_true(json_is_object(epk));
        assert_int_equal(json_object_size(epk), 4);
        assert_string_equal(member(epk, "kty"), "EC");
        assert_string_equal(member(epk, "crv"), vt_jwk_curve(k));
        struct vt_jwk *e = NULL;
        assert_int_equal(vt_jwk_from_json(epk, &e, NULL), VT_OK); /* a valid point */
        assert_int_equal(vt_jwk_bits(e), vt_jwk_bits(k));
        vt_jwk_free(e);
    }
    json_decref(h);
    size_t n = 0;
    free(jwe_part(jwe, 1, &n));
    assert_int_equal(n, rsa ? (size_t)vt_jwk_bits(k) / 8 : 40u);
    free(jwe_part(jwe, 2, &n));
    assert_int_equal(n, 12);
    free(jwe_part(jwe, 3, &n));
    assert_int_equal(n, pt_len);
    free(jwe_part(jwe, 4, &n));
    assert_int_equal(n, 16);
}

static void test_jwe_round_trip(void **state)
{
    (void)state;
    size_t big_len = 100 * 1024;
    uint8_t *big = malloc(big_len);
    assert_non_null(big);
    for (size_t i = 0; i < big_len; i++) {
        big[i] = (uint8_t)(i * 131 + 7);
    }
    const size_t lens[3] = {0, 1, big_len};
    for (int i = 0; i < K_COUNT; i++) {
        for (int j = 0; j < 3; j++) {
            const char *kid = j == 1 ? NULL : "tee-key-1";
            char *jwe = encrypt_to(g.key[i], big, lens[j], kid);
            check_format(g.key[i], jwe, lens[j], kid);
            decrypts_to(g.key[i], jwe, big, lens[j]);
            if (i <= K_RSA3072) {
                openssl_decrypts(g.key[i], jwe, big, lens[j]);
            }
            /* Encrypting to the public half (parsed from JSON) works the same. */
            char *pub = vt_jwk_public_json(g.key[i]);
            struct vt_jwk *pk = parse_ok(pub);
            char *jwe2 = encrypt_to(pk, big, lens[j], kid);
            assert_string_not_equal(jwe, jwe2); /* fresh CEK, IV (and epk) */
            decrypts_to(g.key[i], jwe2, big, lens[j]);
            vt_jwk_free(pk);
            free(pub);
            free(jwe2);
            free(jwe);
        }
    }
    free(big);

    /* Appends to what the buffer holds. */
    char *jwe = encrypt_to(g.key[K_P256], (const uint8_t *)"tail", 4, NULL);
    struct vt_buf pt;
    vt_buf_init(&pt, 64);
    assert_int_equal(vt_buf_append(&pt, "head-", 5), VT_OK);
    assert_int_equal(vt_jwe_decrypt(g.key[K_P256], jwe, strlen(jwe), &pt, NULL), VT_OK);
    assert_int_equal(pt.len, 9);
    assert_memory_equal(pt.data, "head-tail", 9);
    vt_buf_cleanup(&pt);
    free(jwe);
}

static void test_jwe_interop(void **state)
{
    (void)state;
    /* JWEs made by gen_jose_seeds.py (Python `cryptography`) with apu/apv (EC) and a kid. */
    struct vt_jwk *ec = NULL;
    assert_int_equal(vt_jwk_from_private_pem(interop_p256_pem, strlen(interop_p256_pem), &ec, NULL),
                     VT_OK);
    decrypts_to(ec, interop_ecdh, interop_plaintext, strlen(interop_plaintext));
    struct vt_jwk *rsa = NULL;
    assert_int_equal(vt_jwk_from_private_pem(interop_rsa_pem, strlen(interop_rsa_pem), &rsa, NULL),
                     VT_OK);
    decrypts_to(rsa, interop_rsa, interop_plaintext, strlen(interop_plaintext));
    struct vt_jwk *p521 = NULL;
    assert_int_equal(
        vt_jwk_from_private_pem(interop_p521_pem, strlen(interop_p521_pem), &p521, NULL), VT_OK);
    assert_string_equal(vt_jwk_curve(p521), "P-521");
    decrypts_to(p521, interop_ecdh_p521, interop_plaintext, strlen(interop_plaintext));
    /* a P-521 JWE is not for a P-256 key, nor the P-256 JWE for a P-521 key */
    jwe_rejects(ec, interop_ecdh_p521, VT_E_BAD_KEY, "jwe.epk.crv", "P-521 epk, P-256 key");
    jwe_rejects(p521, interop_ecdh, VT_E_BAD_KEY, "jwe.epk.crv", "P-256 epk, P-521 key");
    vt_jwk_free(p521);
    /* apu/apv enter the KDF: dropping them breaks the key unwrap. */
    char *t = with_header_member(interop_ecdh, 5, "apu", NULL);
    jwe_rejects(ec, t, VT_E_CRYPTO, "jwe.encrypted_key", "apu dropped");
    free(t);
    t = with_header_member(interop_ecdh, 5, "apv", json_string("Qm9j"));
    jwe_rejects(ec, t, VT_E_CRYPTO, "jwe.encrypted_key", "apv changed");
    free(t);
    t = with_header_member(interop_ecdh, 5, "apu", json_string("QWxpY2U="));
    jwe_rejects(ec, t, VT_E_BAD_BASE64, "jwe.apu", "apu padded");
    free(t);
    vt_jwk_free(ec);
    vt_jwk_free(rsa);
}

static void test_jwe_reject(void **state)
{
    (void)state;
    static const char secret[] = "the released secret";
    const struct vt_jwk *ec = g.key[K_P256];
    const struct vt_jwk *rsa = g.key[K_RSA2048];
    char *ecj = encrypt_to(ec, (const uint8_t *)secret, strlen(secret), "k");
    char *rsaj = encrypt_to(rsa, (const uint8_t *)secret, strlen(secret), "k");
    char *t;

    for (int pass = 0; pass < 2; pass++) {
        const struct vt_jwk *k = pass == 0 ? ec : rsa;
        const char *j = pass == 0 ? ecj : rsaj;
        decrypts_to(k, j, secret, strlen(secret));

        /* tampering: ciphertext, tag, IV, header all end at the GCM tag check */
        t = flip_first(j, 5, 3);
        jwe_rejects(k, t, VT_E_CRYPTO, "jwe.tag", "tampered ciphertext");
        free(t);
        t = flip_first(j, 5, 4);
        jwe_rejects(k, t, VT_E_CRYPTO, "jwe.tag", "tampered tag");
        free(t);
        t = flip_first(j, 5, 2);
        jwe_rejects(k, t, VT_E_CRYPTO, "jwe.tag", "tampered IV");
        free(t);
        t = with_header_member(j, 5, "kid", json_string("other"));
        jwe_rejects(k, t, VT_E_CRYPTO, "jwe.tag", "tampered header");
        free(t);
        /* Same members, different serialisation: the AAD is the encoded header as sent. */
        {
            json_t *h = header_of(j);
            char *text = json_dumps(h, JSON_INDENT(1) | JSON_SORT_KEYS);
            t = with_header_text(j, 5, text);
            jwe_rejects(k, t, VT_E_CRYPTO, "jwe.tag", "reserialised header");
            free(t);
            free(text);
            json_decref(h);
        }
        /* encrypted key: EC fails the AES key unwrap, RSA is not told apart from a bad tag */
        t = flip_first(j, 5, 1);
        jwe_rejects(k, t, VT_E_CRYPTO, pass == 0 ? "jwe.encrypted_key" : "jwe.tag",
                    "tampered encrypted key");
        free(t);

        /* unsupported algorithms */
        static const char *const algs[] = {
            "RSA1_5", "RSA-OAEP", "RSA-OAEP-384",       "dir",      "ECDH-ES", "ECDH-ES+A128KW",
            "A256KW", "none",     "PBES2-HS256+A128KW", "A256GCMKW"};
        for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
            t = with_header_member(j, 5, "alg", json_string(algs[i]));
            jwe_rejects(k, t, VT_E_UNSUPPORTED_ALGORITHM, "jwe.alg", algs[i]);
            free(t);
        }
        t = with_header_member(j, 5, "alg", NULL);
        jwe_rejects(k, t, VT_E_MISSING_FIELD, "jwe.alg", "no alg");
        free(t);
        static const char *const encs[] = {"A128GCM", "A192GCM", "A256CBC-HS512", "A128CBC-HS256",
                                           "a256gcm"};
        for (size_t i = 0; i < sizeof(encs) / sizeof(encs[0]); i++) {
            t = with_header_member(j, 5, "enc", json_string(encs[i]));
            jwe_rejects(k, t, VT_E_UNSUPPORTED_ALGORITHM, "jwe.enc", encs[i]);
            free(t);
        }
        t = with_header_member(j, 5, "enc", NULL);
        jwe_rejects(k, t, VT_E_MISSING_FIELD, "jwe.enc", "no enc");
        free(t);
        t = with_header_member(j, 5, "zip", json_string("DEF"));
        jwe_rejects(k, t, VT_E_UNSUPPORTED, "jwe.zip", "zip");
        free(t);
        t = with_header_member(j, 5, "crit", json_pack("[s]", "exp"));
        jwe_rejects(k, t, VT_E_UNSUPPORTED, "jwe.crit", "crit");
        free(t);

        /* lengths */
        static const uint8_t zeros[64];
        char *s = b64u(zeros, 16);
        t = with_segment(j, 5, 2, s);
        jwe_rejects(k, t, VT_E_BAD_LENGTH, "jwe.iv", "16-byte IV");
        free(t);
        free(s);
        s = b64u(zeros, 15);
        t = with_segment(j, 5, 4, s);
        jwe_rejects(k, t, VT_E_BAD_LENGTH, "jwe.tag", "15-byte tag");
        free(t);
        free(s);
        t = with_segment(j, 5, 4, "");
        jwe_rejects(k, t, VT_E_BAD_LENGTH, "jwe.tag", "no tag");
        free(t);
        s = b64u(zeros, 32);
        t = with_segment(j, 5, 1, s);
        jwe_rejects(k, t, VT_E_BAD_LENGTH, "jwe.encrypted_key", "32-byte encrypted key");
        free(t);
        free(s);
        t = with_segment(j, 5, 3, "AAAA=");
        jwe_rejects(k, t, VT_E_BAD_BASE64, "jwe.ciphertext", "padded ciphertext");
        free(t);

        /* segments */
        size_t n = strlen(j);
        t = malloc(n + 8);
        snprintf(t, n + 8, "%s.AAAA", j);
        jwe_rejects(k, t, VT_E_MALFORMED, "jwe.compact", "six segments");
        snprintf(t, n + 8, "%s", j);
        *strrchr(t, '.') = '\0';
        jwe_rejects(k, t, VT_E_MALFORMED, "jwe.compact", "four segments");
        free(t);

        /* a plaintext that does not fit the caller's buffer */
        struct vt_buf pt;
        vt_buf_init(&pt, 4);
        struct vt_diag d;
        vt_diag_init(&d);
        expect_diag(vt_jwe_decrypt(k, j, strlen(j), &pt, &d), &d, VT_E_TOO_LARGE, "jwe.ciphertext",
                    "small buffer");
        assert_null(pt.data);
        vt_buf_cleanup(&pt);
    }

    /* wrong keys */
    jwe_rejects(g.other_p256, ecj, VT_E_CRYPTO, "jwe.encrypted_key", "other P-256 key");
    jwe_rejects(g.other_rsa, rsaj, VT_E_CRYPTO, "jwe.tag", "other RSA-2048 key");
    jwe_rejects(g.key[K_RSA3072], rsaj, VT_E_BAD_LENGTH, "jwe.encrypted_key", "RSA-3072 key");
    jwe_rejects(g.key[K_P384], ecj, VT_E_BAD_KEY, "jwe.epk.crv", "P-384 key");
    jwe_rejects(rsa, ecj, VT_E_BAD_KEY, "jwe.alg", "RSA key for ECDH-ES");
    jwe_rejects(ec, rsaj, VT_E_BAD_KEY, "jwe.alg", "EC key for RSA-OAEP-256");
    {
        char *pub = vt_jwk_public_json(ec);
        struct vt_jwk *pk = parse_ok(pub);
        jwe_rejects(pk, ecj, VT_E_ARG, "jwe.key", "public key");
        vt_jwk_free(pk);
        free(pub);
    }

    /* epk */
    t = with_header_member(ecj, 5, "epk", NULL);
    jwe_rejects(ec, t, VT_E_MISSING_FIELD, "jwe.epk", "no epk");
    free(t);
    t = with_header_member(ecj, 5, "epk", json_string("x"));
    jwe_rejects(ec, t, VT_E_BAD_FIELD, "jwe.epk", "epk string");
    free(t);
    {
        json_t *h = header_of(ecj);
        json_t *epk = json_deep_copy(json_object_get(h, "epk"));
        json_t *e2 = json_deep_copy(epk);
        json_object_set_new(e2, "d", json_string("AAAA"));
        t = with_header_member(ecj, 5, "epk", e2);
        jwe_rejects(ec, t, VT_E_BAD_KEY, "jwe.epk.private", "epk with d");
        free(t);
        /* off the curve: the invalid-curve attack */
        e2 = json_deep_copy(epk);
        const char *ys = json_string_value(json_object_get(e2, "y"));
        size_t yn = 0;
        uint8_t *yb = unb64u(ys, strlen(ys), &yn);
        yb[31] ^= 1;
        char *y64 = b64u(yb, yn);
        json_object_set_new(e2, "y", json_string(y64));
        t = with_header_member(ecj, 5, "epk", e2);
        jwe_rejects(ec, t, VT_E_BAD_KEY, "jwe.epk.point", "epk off curve");
        free(t);
        free(y64);
        free(yb);
        e2 = json_deep_copy(epk);
        json_object_set_new(e2, "crv", json_string("P-384"));
        t = with_header_member(ecj, 5, "epk", e2);
        jwe_rejects(ec, t, VT_E_BAD_LENGTH, "jwe.epk.x", "epk crv P-384 with P-256 coordinates");
        free(t);
        /* a valid P-384 epk for a P-256 key */
        e2 = public_obj(g.key[K_P384]);
        t = with_header_member(ecj, 5, "epk", e2);
        jwe_rejects(ec, t, VT_E_BAD_KEY, "jwe.epk.crv", "P-384 epk");
        free(t);
        /* another valid P-256 point: the unwrap fails */
        e2 = public_obj(g.other_p256);
        t = with_header_member(ecj, 5, "epk", e2);
        jwe_rejects(ec, t, VT_E_CRYPTO, "jwe.encrypted_key", "other epk");
        free(t);
        e2 = public_obj(rsa);
        t = with_header_member(ecj, 5, "epk", e2);
        jwe_rejects(ec, t, VT_E_BAD_KEY, "jwe.epk.kty", "RSA epk");
        free(t);
        json_decref(epk);
        json_decref(h);
    }

    /* header JSON */
    t = with_header_text(ecj, 5, "{\"alg\":\"ECDH-ES+A256KW\",\"alg\":\"ECDH-ES+A256KW\"}");
    jwe_rejects(ec, t, VT_E_DUPLICATE, "jwe.header", "duplicate alg");
    free(t);
    t = with_header_text(ecj, 5, "not json");
    jwe_rejects(ec, t, VT_E_BAD_JSON, "jwe.header", "not JSON");
    free(t);
    t = with_segment(ecj, 5, 0, "eyJ=");
    jwe_rejects(ec, t, VT_E_BAD_BASE64, "jwe.header", "padded header");
    free(t);

    /* encrypt-side argument checks */
    char *out = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    expect_diag(vt_jwe_encrypt(ec, (const uint8_t *)"x", 1, "", &out, &d), &d, VT_E_ARG, "jwe.kid",
                "empty kid");
    assert_null(out);

    free(ecj);
    free(rsaj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7638_vector),   cmocka_unit_test(test_rfc7518_kdf_vector),
        cmocka_unit_test(test_parse_accept),     cmocka_unit_test(test_parse_reject),
        cmocka_unit_test(test_generate_and_pem), cmocka_unit_test(test_p256_xy),
        cmocka_unit_test(test_jws_round_trip),   cmocka_unit_test(test_jws_reject),
        cmocka_unit_test(test_jws_interop),      cmocka_unit_test(test_jws_rs256),
        cmocka_unit_test(test_jwe_round_trip),   cmocka_unit_test(test_jwe_interop),
        cmocka_unit_test(test_jwe_reject),       cmocka_unit_test(test_spki_der),
        cmocka_unit_test(test_key_cache),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
