/*
 * Private to src/crypto/: the certificate object shared by cert.c, chain.c and crl.c, and the
 * helpers that turn OpenSSL's conventions (error queue, ASN1_TIME, X509_NAME) into veritee's.
 * Nothing outside src/crypto/ includes this header.
 */
#ifndef VT_CRYPTO_INTERNAL_H
#define VT_CRYPTO_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>

#include "base/pincache.h"
#include <openssl/x509.h>

#include <nettle/ecc.h>

#include "crypto/crypto.h"
#include "base/reader.h"

/* Room for the library's messages inside a vt_diag detail that also names the values. */
#define VT_CRYPTO_ERRTEXT_MAX 200

struct vt_cert {
    atomic_size_t refs;
    X509 *x509;   /* owned; immutable after parsing */
    uint8_t *der; /* owned copy of the exact input bytes */
    size_t der_len;
    vt_time not_before;
    vt_time not_after;
};

/*
 * Drain OpenSSL's (thread-local) error queue into out[cap] as "lib:reason; ..." text, or
 * "no detail from the library" if it was empty. Always leaves the queue empty.
 */
void vt_crypto_errors(char *out, size_t cap);

/* Convert an ASN1_TIME (UTCTime or GeneralizedTime) to seconds since the epoch. VT_E_BAD_TIME if
 * OpenSSL cannot parse it. Records nothing. */
VT_MUST_USE enum vt_err vt_crypto_asn1_time(const ASN1_TIME *t, vt_time *out);

/* A name as one-line text in its DER order ("CN=...,O=..."), truncated to cap (cap > 0). */
void vt_crypto_name_text(const X509_NAME *name, char *out, size_t cap);

/* "cert <pos> (CN=...)" for diag details: the subject CN, or the whole subject if it has none. */
void vt_crypto_cert_label(const struct vt_cert *c, size_t pos, char *out, size_t cap);

/* vt_cert_check_signed_by with the check name given by the caller. */
VT_MUST_USE enum vt_err vt_crypto_check_signed_by(const struct vt_cert *child,
                                                  const struct vt_cert *issuer, const char *check,
                                                  struct vt_diag *d);

/*
 * Decode one PEM block "-----BEGIN <label>-----" ... "-----END <label>-----" at the reader (which
 * must be positioned at the BEGIN line) into a malloc'd DER buffer of at most max bytes, and move
 * the reader past the END line. On failure the reader is unchanged and *why says what was wrong:
 * VT_E_BAD_PEM (markers or base64), VT_E_TOO_LARGE, VT_E_NOMEM. Records nothing.
 */

VT_MUST_USE enum vt_err vt_crypto_pem_block(struct vt_reader *r, const char *label, size_t max,
                                            uint8_t **der, size_t *len, const char **why);

/* PEM and text helpers shared with crl.c. */
bool vt_crypto_is_space(uint8_t c);
/* Skip spaces, tabs, CR and LF. */
void vt_crypto_skip_space(struct vt_reader *r);
/* True if every byte left is whitespace or NUL (the tail that files and quotes carry). */
bool vt_crypto_only_tail(const struct vt_reader *r);

/* The certificate's public key (borrowed) if it is EC on the curve `nid` (named `curve` in
 * messages); VT_E_UNSUPPORTED_ALGORITHM otherwise. */
enum vt_err vt_crypto_cert_ec_key(const struct vt_cert *c, int nid, const char *curve,
                                  EVP_PKEY **out, struct vt_diag *d);

/* Room for the name of a key's origin in diag details. */
#define VT_KEY_LABEL_MAX 128

/*
 * struct vt_key (key.c; crypto.h): every key is an OpenSSL EVP_PKEY; EC keys keep their raw
 * point too (P-256: the DCAP attestation key is compared and published as raw X||Y), and P-384
 * public keys the nettle point of the fast verification path (p384.c), checked once.
 */
struct vt_p384_table; /* p384_fast.c */
struct vt_key {
    enum vt_key_alg alg;
    bool has_private;
    EVP_PKEY *pkey;         /* owned */
    bool has_point;         /* P-384: `point` is initialised */
    struct ecc_point point; /* P-384: nettle's point, on the curve */
    uint8_t xy[96];         /* EC: raw X||Y (64 bytes used for P-256) */
    /* P-384 (p384.c): non-zero once the key has verified, whether a thread is building the key's
     * table, and the table once built (p384_fast.c), published once by compare-and-swap and
     * never changed after; freed with the key. */
    atomic_uint p384_uses;
    atomic_bool p384_building;
    _Atomic(struct vt_p384_table *) p384_table;
    /* Where the key came from, for messages: "[subject]" of its certificate, or "a raw key". */
    char label[VT_KEY_LABEL_MAX];
};

/* A zeroed key of algorithm alg (key.c), or NULL when out of memory. */
struct vt_key *vt_crypto_key_alloc(enum vt_key_alg alg);

/*
 * An EC public EVP_PKEY (group "prime256v1", "secp384r1" or "secp521r1") from a raw X||Y point
 * of n bytes (key.c), validated: coordinates below the field prime, on the curve, not the point
 * at infinity (a valid public key on these cofactor-1 curves). False with the reason in
 * OpenSSL's error queue otherwise. *out gets a reference of its own (EVP_PKEY_free it) to a key
 * that may be shared with other callers through the process's bounded cache of imported keys:
 * it must only be read, never modified.
 */
bool vt_crypto_ec_pkey(const char *group, const uint8_t *xy, size_t n, EVP_PKEY **out);

/*
 * A bounded process-wide memo of imported public keys by the bytes they were imported from
 * (key.c explains why it may be process-wide). A hit needs the whole input to match, not only its
 * hash; an input enters only once `import` has accepted it, so a hit accepts exactly what an
 * import accepted before. Define one with VT_PKEY_MEMO_INIT.
 */
#define VT_PKEY_MEMO_INPUT_MAX 1024 /* longer inputs are imported every time */
struct vt_pkey_memo {
    size_t slots;
    _Atomic int state; /* 0: not set up yet, 1: ready, 2: could not be set up (imports only) */
    struct vt_pincache cache;
};
#define VT_PKEY_MEMO_INIT(n)                                                                       \
    {                                                                                              \
        .slots = (n)                                                                               \
    }
typedef enum vt_err (*vt_pkey_import_fn)(const uint8_t *in, size_t n, void *ctx, EVP_PKEY **out,
                                         struct vt_diag *d);
/* The key imported from in[n] (a reference of the caller's own in *out), from the memo or by
 * import(in, n, ctx, out, d), whose refusal is returned as it is. */
VT_MUST_USE enum vt_err vt_pkey_memo_get(struct vt_pkey_memo *m, const uint8_t *in, size_t n,
                                         vt_pkey_import_fn import, void *ctx, EVP_PKEY **out,
                                         struct vt_diag *d);
/* The same, validated the same way, but a key of its own that bypasses the cache: for a key that
 * is used once (an ephemeral ECDH key), which would only push others out of it. */
bool vt_crypto_ec_pkey_new(const char *group, const uint8_t *xy, size_t n, EVP_PKEY **out);

/* A new P-256 key pair (p256_sign.c), for vt_key_generate. */
VT_MUST_USE enum vt_err vt_crypto_p256_generate(struct vt_key **out, struct vt_diag *d);

/* A new RSA key pair of bits (2048..4096, else VT_E_ARG) (cms.c), for vt_key_generate. */
VT_MUST_USE enum vt_err vt_crypto_rsa_generate(unsigned bits, struct vt_key **out,
                                               struct vt_diag *d);

/* A checked P-384 key from a raw X||Y point (p384.c); label names its origin in messages ("a raw
 * P-384 key", "[subject]" of its certificate); pkey (owned, taken even on failure) is the same
 * key as an EVP_PKEY, or NULL to build it. VT_E_BAD_KEY if the point is not on the curve. */
VT_MUST_USE enum vt_err vt_crypto_p384_key_new(const uint8_t xy[96], const char *label,
                                               EVP_PKEY *pkey, struct vt_key **out,
                                               struct vt_diag *d);

/* ---- x509_build.c: what every certificate veritee makes is built from ---- */

/* VT_E_CRYPTO at check: "cannot <what>: <OpenSSL's reasons>". */
enum vt_err vt_x509_lib_fail(struct vt_diag *d, const char *check, const char *what);
/* n (1..20) random bytes for a serial number: positive and exactly n bytes long. */
VT_MUST_USE enum vt_err vt_x509_random_serial(uint8_t *serial, size_t n, struct vt_diag *d);
/* Add a CN=cn entry (UTF-8) to name. */
bool vt_x509_name_cn(X509_NAME *name, const char *cn);
/* Version 3, the serial (big-endian, positive), subject CN=cn, issuer `issuer` (NULL: the
 * subject, for a self-signed certificate), the validity and the public key. */
bool vt_x509_set_base(X509 *x, const uint8_t *serial, size_t serial_len, const char *cn,
                      const X509_NAME *issuer, vt_time not_before, vt_time not_after,
                      EVP_PKEY *pub);
/* A standard extension in OpenSSL's configuration syntax ("critical,CA:FALSE"); "hash" and
 * "keyid" values are taken from x and from issuer (NULL: x itself). */
bool vt_x509_add_std_ext(X509 *issuer, X509 *x, int nid, const char *value);
/* A subjectAltName of the n dNSNames (checked by the caller). */
bool vt_x509_add_dns(X509 *x, const char *const *dns, size_t n);
/* Sign x with k's private half (md NULL: SHA-384 for P-384, SHA-256 otherwise) and replace der's
 * contents by the certificate's DER (der's limit applies). VT_E_CRYPTO at check, VT_E_NOMEM. */
VT_MUST_USE enum vt_err vt_x509_sign_der(X509 *x, const struct vt_key *k, const EVP_MD *md,
                                         struct vt_buf *der, const char *check, struct vt_diag *d);

/*
 * Fast ECDSA P-384 verification for reused keys (p384_fast.c): field arithmetic modulo
 * p = 2^384 - 2^128 - 2^96 + 2^32 - 1 on six 64-bit limbs, least significant first, in
 * Montgomery form (a value a is held as a * 2^384 mod p, always fully reduced below p), Jacobian
 * points (x = X/Z^2, y = Y/Z^3, Z = 0 the point at infinity), and per-key tables of precomputed
 * affine multiples. Everything here is variable-time: it only ever handles public data.
 */
#define VT_P384_LIMBS 6
typedef uint64_t vt_p384_fe[VT_P384_LIMBS];
struct vt_p384_aff {
    vt_p384_fe x;
    vt_p384_fe y;
};
struct vt_p384_jac {
    vt_p384_fe x;
    vt_p384_fe y;
    vt_p384_fe z;
};
/* Field elements: 48 big-endian bytes (a value below p) in and out of Montgomery form. */
void vt_p384_fe_from_bytes(vt_p384_fe r, const uint8_t in[48]);
void vt_p384_fe_to_bytes(uint8_t out[48], const vt_p384_fe a);
/* r = a + b, a - b, a * b, a^2, a^-1 (0 for 0); operands fully reduced; r may alias them. */
void vt_p384_fe_add(vt_p384_fe r, const vt_p384_fe a, const vt_p384_fe b);
void vt_p384_fe_sub(vt_p384_fe r, const vt_p384_fe a, const vt_p384_fe b);
void vt_p384_fe_mul(vt_p384_fe r, const vt_p384_fe a, const vt_p384_fe b);
void vt_p384_fe_sqr(vt_p384_fe r, const vt_p384_fe a);
void vt_p384_fe_inv(vt_p384_fe r, const vt_p384_fe a);
/* r = 2p, p + q (q affine), p + q (both Jacobian); any may be infinity, p == q and p == -q
 * included; r may alias p. */
void vt_p384_jac_dbl(struct vt_p384_jac *r, const struct vt_p384_jac *p);
void vt_p384_jac_add_aff(struct vt_p384_jac *r, const struct vt_p384_jac *p,
                         const struct vt_p384_aff *q);
void vt_p384_jac_add(struct vt_p384_jac *r, const struct vt_p384_jac *p,
                     const struct vt_p384_jac *q);
/* The affine point of p, false if p is infinity. */
bool vt_p384_jac_to_aff(struct vt_p384_aff *r, const struct vt_p384_jac *p);
/* True if the affine x of p (not infinity), reduced modulo n, equals r (48 bytes, 0 < r < n):
 * X == r * Z^2, or X == (r + n) * Z^2 when r + n < p, without an inversion. */
bool vt_p384_x_matches(const struct vt_p384_jac *p, const uint8_t r[48]);
/* u1 * G + u2 * Q with u1, u2 below n (48 big-endian bytes) and Q's table, for the tests. */
bool vt_p384_fast_mul2(struct vt_p384_jac *out, const uint8_t u1[48], const uint8_t u2[48],
                       const struct vt_p384_table *t);

/* The table of precomputed multiples of one public key: NULL if memory or the generator's
 * table is lacking. xy must be a checked point (vt_crypto_p384_key_new). */
struct vt_p384_table *vt_p384_table_new(const uint8_t xy[96]);
void vt_p384_table_free(struct vt_p384_table *t);
/* Bytes of one key's table. */
size_t vt_p384_table_bytes(void);
/* The keys' tables in the process may take at most bytes from now on (VT_P384_TABLE_BUDGET to
 * start with); returns the previous budget. Tables already built stay. For the tests. */
size_t vt_p384_table_budget_set(size_t bytes);
/* Keys' tables in the process now. */
size_t vt_p384_tables_in_use(void);
/* FIPS 186-5 6.4.2 with the table: VT_OK, or VT_E_SIGNATURE for any signature that is not
 * valid for this key and digest (r or s outside [1, n-1] included). */
VT_MUST_USE enum vt_err vt_p384_table_verify(const struct vt_p384_table *t,
                                             const uint8_t digest[VT_SHA384_LEN],
                                             const uint8_t sig[96]);
/* The same verification with nettle alone (p384.c), which vt_p384_verify_digest uses for a
 * key's first verification and whenever it has no table. */
VT_MUST_USE enum vt_err vt_p384_verify_nettle(const struct vt_key *k,
                                              const uint8_t digest[VT_SHA384_LEN],
                                              const uint8_t sig[96]);
/* The key's table if it has been built (after its second verification), else NULL. */
const struct vt_p384_table *vt_p384_key_table(const struct vt_key *k);

/*
 * RSA-OAEP with SHA-256, MGF1-SHA-256 and the empty label (oaep.c), the one OAEP set-up for JWE
 * RSA-OAEP-256 and KMS's CMS: encrypt or decrypt in[n] into out; *outn is the room on entry and the
 * length on return. False on failure, with the reason left in OpenSSL's error queue.
 */
bool vt_crypto_oaep(EVP_PKEY *pkey, bool encrypt, const uint8_t *in, size_t n, uint8_t *out,
                    size_t *outn);

#endif
