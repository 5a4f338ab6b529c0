/*
 * The crypto boundary: hashing, ECDSA verification, X.509 certificates and chains, CRLs.
 * Every OpenSSL (or nettle) call in veritee lives behind this header, in src/crypto/. Errors from
 * the libraries are turned into vt_err with the library's message in the diag detail.
 */
#ifndef VT_CRYPTO_CRYPTO_H
#define VT_CRYPTO_CRYPTO_H

#include <veritee/buf.h>
#include <veritee/common.h>
#include <veritee/error.h>
#include <veritee/limits.h>
#include <veritee/time.h>

/* ---- hashing ---- */

#define VT_SHA384_LEN 48
#define VT_SHA512_LEN 64

void vt_sha256(const void *p, size_t n, uint8_t out[VT_SHA256_LEN]);
/* SHA-256 of the concatenation a || b. */
void vt_sha256_2(const void *a, size_t an, const void *b, size_t bn, uint8_t out[VT_SHA256_LEN]);
void vt_sha384(const void *p, size_t n, uint8_t out[VT_SHA384_LEN]);
void vt_sha512(const void *p, size_t n, uint8_t out[VT_SHA512_LEN]);
/* HMAC-SHA-256 (RFC 2104) of msg[n] under key[keyn]. */
void vt_hmac_sha256(const uint8_t *key, size_t keyn, const void *msg, size_t n,
                    uint8_t out[VT_SHA256_LEN]);

/* Constant-time comparison: true if equal. The one compare for anything secret. */
bool vt_ct_memeq(const void *a, const void *b, size_t n);
/* Wipe memory that held secrets. */
void vt_wipe(void *p, size_t n);
/* n bytes from the system CSPRNG (OpenSSL's DRBG). VT_E_INTERNAL if it fails. */
VT_MUST_USE enum vt_err vt_random_bytes(void *p, size_t n, struct vt_diag *d);

/* ---- public-key algorithms: one key type ---- */

/* The algorithm of a struct vt_key: the curve for ECDSA keys, RSA of any size. */
enum vt_key_alg {
    VT_KEY_P256 = 1, /* ECDSA P-256 (prime256v1) */
    VT_KEY_P384 = 2, /* ECDSA P-384 (secp384r1) */
    VT_KEY_RSA = 3,  /* RSA, 2048 to 8192 bits */
    VT_KEY_P521 = 4, /* P-521 (secp521r1): JWKs only (ECDH-ES), no operation of its own */
};

struct vt_cert;

/*
 * A parsed, validated public key, with its private half or without, of one algorithm. Immutable
 * once made, so threads may share it. Heap; vt_key_free (NULL-safe) wipes and frees. Every
 * operation checks the key's algorithm and fails with VT_E_ARG (the detail, where the operation
 * takes a diag, naming the algorithm expected and the one given) for a key of another kind.
 */
struct vt_key;

/* "P-256", "P-384", "RSA", "P-521" ("unknown" for anything else). */
const char *vt_key_alg_name(enum vt_key_alg alg);
enum vt_key_alg vt_key_alg(const struct vt_key *k);
/* True if the key holds its private half. */
bool vt_key_has_private(const struct vt_key *k);
/* VT_OK if k is a `want` key (holding its private half too when `private_half`); VT_E_ARG
 * recorded at `check` (detail: expected and actual algorithm) otherwise. */
VT_MUST_USE enum vt_err vt_key_expect(const struct vt_key *k, enum vt_key_alg want,
                                      bool private_half, const char *check, struct vt_diag *d);
void vt_key_free(struct vt_key *k);

/* From a raw X||Y point (64 bytes for P-256, 96 for P-384; big-endian coordinates, no 0x04
 * prefix). VT_E_BAD_KEY (detail: why) if the point is not on the curve. */
VT_MUST_USE enum vt_err vt_key_from_p256_xy(const uint8_t xy[64], struct vt_key **out,
                                            struct vt_diag *d);
VT_MUST_USE enum vt_err vt_key_from_p384_xy(const uint8_t xy[96], struct vt_key **out,
                                            struct vt_diag *d);
/* From a certificate's public key, which must be of algorithm `want`: VT_E_UNSUPPORTED_ALGORITHM
 * (detail: the certificate and what its key is) otherwise. P-384 only for now, the one use. */
VT_MUST_USE enum vt_err vt_key_from_cert(const struct vt_cert *c, enum vt_key_alg want,
                                         struct vt_key **out, struct vt_diag *d);
/* The raw X||Y point of a P-256 key (public or private); zeros for a key of another kind. */
void vt_key_p256_xy(const struct vt_key *k, uint8_t xy[64]);

/* ---- ECDSA P-256 with SHA-256, raw encodings ---- */

/* Verify a raw r||s signature (64 bytes, big-endian) over SHA-256(msg) with a P-256 key. Returns
 * VT_OK or VT_E_SIGNATURE; records nothing (callers name the signature that failed); VT_E_ARG for
 * a key that is not P-256. */
VT_MUST_USE enum vt_err vt_p256_verify(const struct vt_key *k, const void *msg, size_t n,
                                       const uint8_t sig[64]);
/* One-shot form for a raw key. VT_E_BAD_KEY (recorded in d) for a bad point, VT_E_SIGNATURE (not
 * recorded) for a bad signature. */
VT_MUST_USE enum vt_err vt_p256_verify_xy(const uint8_t xy[64], const void *msg, size_t n,
                                          const uint8_t sig[64], struct vt_diag *d);
/* A new key pair of algorithm alg (VT_KEY_P256 for bundles, tokens and checkpoints; VT_KEY_RSA
 * with rsa_bits, 2048 to 4096, for KMS's CMS recipients). VT_E_ARG for another algorithm or
 * size, VT_E_CRYPTO if the generator fails. */
VT_MUST_USE enum vt_err vt_key_generate(enum vt_key_alg alg, unsigned rsa_bits, struct vt_key **out,
                                        struct vt_diag *d);
/* A private key from PEM (PKCS#8 or SEC1), which must be of algorithm `want` (VT_KEY_P256 only for
 * now): VT_E_BAD_PEM if it is no PEM private key, VT_E_UNSUPPORTED_KEY_TYPE if of another kind. */
VT_MUST_USE enum vt_err vt_key_from_private_pem(const char *pem, size_t len, enum vt_key_alg want,
                                                struct vt_key **out, struct vt_diag *d);
/* An RSA private key (PKCS#8 or PKCS#1, DER or PEM; 2048 to 8192 bits) for KMS's CMS recipients.
 * VT_E_TOO_LARGE, VT_E_BAD_KEY (not a key, not RSA, a public key, a size out of range),
 * VT_E_TRAILING_DATA after DER; recorded at "rsa_key.parse". */
VT_MUST_USE enum vt_err vt_key_from_rsa_private(const uint8_t *p, size_t len, struct vt_key **out,
                                                struct vt_diag *d);
/* Replace the contents of out (its cap kept) by the public key as DER SubjectPublicKeyInfo (RFC
 * 5280: what a Nitro document's public_key carries). VT_E_CRYPTO, or out's error if too small. */
VT_MUST_USE enum vt_err vt_key_spki_der(const struct vt_key *k, struct vt_buf *out,
                                        struct vt_diag *d);
/* Append a private key as PKCS#8 PEM to out. VT_E_ARG for a key without its private half. */
VT_MUST_USE enum vt_err vt_key_private_pem(const struct vt_key *k, struct vt_buf *out,
                                           struct vt_diag *d);
/* Sign SHA-256(msg) with a private P-256 key; raw r||s out. VT_E_ARG (recorded) for another key. */
VT_MUST_USE enum vt_err vt_p256_sign(const struct vt_key *k, const void *msg, size_t n,
                                     uint8_t sig[64], struct vt_diag *d);
/* Name of the backend used for P-256 verification ("openssl" or "nettle"). */
const char *vt_p256_backend(void);

/* ---- ECDSA P-384 with SHA-384, raw encodings ---- */

/* Verify a raw r||s signature (96 bytes, big-endian) over SHA-384(msg). VT_OK or VT_E_SIGNATURE
 * (not recorded). No low-S requirement. VT_E_ARG for a key that is not P-384. */
VT_MUST_USE enum vt_err vt_p384_verify(const struct vt_key *k, const void *msg, size_t n,
                                       const uint8_t sig[96]);
/* Verify a raw r||s signature over a SHA-384 digest already computed. */
VT_MUST_USE enum vt_err vt_p384_verify_digest(const struct vt_key *k,
                                              const uint8_t digest[VT_SHA384_LEN],
                                              const uint8_t sig[96]);
/* Name of the backend used for P-384 verification ("openssl" or "nettle"). */
const char *vt_p384_backend(void);
/*
 * Verify that `child` is signed by a P-384 key with ecdsa-with-SHA384, fast path: the
 * signature over the child's exact TBS bytes is checked with the P-384 backend. VT_E_CERT_SIGNATURE
 * (detail: both subjects) if it does not verify; VT_E_UNSUPPORTED_ALGORITHM if the child's
 * signature algorithm is not ecdsa-with-SHA384.
 */
VT_MUST_USE enum vt_err vt_cert_check_signed_by_p384(const struct vt_cert *child,
                                                     const struct vt_key *issuer,
                                                     struct vt_diag *d);
/* The same checks but the verification itself (key P-384, ecdsa-with-SHA384 in both places, a
 * decodable signature), with the same errors: for a signature already verified (a chain link
 * checked by vt_chain_verify) that must also have this form. */
VT_MUST_USE enum vt_err vt_cert_expect_p384_signature(const struct vt_cert *child,
                                                      const struct vt_key *issuer,
                                                      struct vt_diag *d);

/* ---- X.509 certificates ---- */

/* An immutable parsed certificate. Heap; vt_cert_free is NULL-safe. */
struct vt_cert;

VT_MUST_USE enum vt_err vt_cert_from_der(const uint8_t *der, size_t len, struct vt_cert **out,
                                         struct vt_diag *d);
void vt_cert_free(struct vt_cert *c);
/* A new reference to the same certificate (certificates are reference-counted). */
struct vt_cert *vt_cert_ref(struct vt_cert *c);

/* The certificate's exact DER bytes (borrowed, valid while c lives). */
const uint8_t *vt_cert_der(const struct vt_cert *c, size_t *len);
void vt_cert_sha256(const struct vt_cert *c, uint8_t out[VT_SHA256_LEN]);
/* Subject common name, NUL-terminated. VT_E_NOT_FOUND if none, VT_E_BUFFER_TOO_SMALL. */
VT_MUST_USE enum vt_err vt_cert_subject_cn(const struct vt_cert *c, char *out, size_t cap);
/* Subject and issuer as one-line text ("CN=...,O=..."), for messages. Truncated to cap. */
void vt_cert_subject_text(const struct vt_cert *c, char *out, size_t cap);
void vt_cert_issuer_text(const struct vt_cert *c, char *out, size_t cap);
/* Serial number as uppercase hex, NUL-terminated (truncated to cap). */
void vt_cert_serial_hex(const struct vt_cert *c, char *out, size_t cap);
vt_time vt_cert_not_before(const struct vt_cert *c);
vt_time vt_cert_not_after(const struct vt_cert *c);
/* True if child's issuer name equals issuer's subject name (X509_NAME_cmp: canonical form). */
bool vt_cert_issuer_is(const struct vt_cert *child, const struct vt_cert *issuer);
/* True if both are the same DER bytes. */
bool vt_cert_equal(const struct vt_cert *a, const struct vt_cert *b);
/* True if both subject names are equal (X509_NAME_cmp: canonical form, as issuer names chain). */
bool vt_cert_same_subject(const struct vt_cert *a, const struct vt_cert *b);
/* True if both SubjectPublicKeyInfo structures (algorithm, parameters and key) are the same DER
 * bytes. */
bool vt_cert_same_key(const struct vt_cert *a, const struct vt_cert *b);
/* SHA-256 of the DER SubjectPublicKeyInfo (all zero if it cannot be encoded), for messages. */
void vt_cert_spki_sha256(const struct vt_cert *c, uint8_t out[VT_SHA256_LEN]);
/* The P-256 public key as raw X||Y. VT_E_UNSUPPORTED_ALGORITHM if the key is not EC P-256. */
VT_MUST_USE enum vt_err vt_cert_p256_xy(const struct vt_cert *c, uint8_t xy[64], struct vt_diag *d);
/* Verify that `child` carries a valid signature by `issuer`'s key. VT_E_CERT_SIGNATURE with the
 * two subjects in the detail. */
VT_MUST_USE enum vt_err vt_cert_check_signed_by(const struct vt_cert *child,
                                                const struct vt_cert *issuer, struct vt_diag *d);
/* Check that c is signed with RSASSA-PSS using SHA-`hash_bits` (256, 384 or 512) for both the
 * message digest and MGF1, salt length `salt` and the standard trailer field, as AMD signs its
 * SEV certificates and CRLs. VT_E_UNSUPPORTED_ALGORITHM with the algorithm found otherwise. */
VT_MUST_USE enum vt_err vt_cert_check_rsa_pss(const struct vt_cert *c, int hash_bits, int salt,
                                              const char *check, struct vt_diag *d);
/* Key usage bits, as in RFC 5280 (and OpenSSL's KU_ constants). */
#define VT_KU_DIGITAL_SIGNATURE 0x0080u
#define VT_KU_KEY_CERT_SIGN 0x0004u
#define VT_KU_CRL_SIGN 0x0002u
/* True if the certificate has a keyUsage extension asserting every bit of `bits`. */
bool vt_cert_has_key_usage(const struct vt_cert *c, unsigned bits);
/* True if basicConstraints says cA=TRUE. *pathlen gets the pathLenConstraint, or -1 if absent. */
bool vt_cert_is_ca(const struct vt_cert *c, long *pathlen);
/* The value (content of extnValue) of the extension with the dotted OID. VT_E_NOT_FOUND if the
 * certificate has none; the view borrows from c. */
VT_MUST_USE enum vt_err vt_cert_extension(const struct vt_cert *c, const char *oid,
                                          const uint8_t **val, size_t *len);

/* A list of certificates, owning a reference to each. Caller storage. */
struct vt_cert_list {
    struct vt_cert *certs[VT_MAX_CHAIN_DEPTH];
    size_t n;
};

void vt_cert_list_init(struct vt_cert_list *l);
void vt_cert_list_cleanup(struct vt_cert_list *l);
/* Append a new reference to c. VT_E_TOO_LARGE past VT_MAX_CHAIN_DEPTH. */
VT_MUST_USE enum vt_err vt_cert_list_add(struct vt_cert_list *l, struct vt_cert *c);
/*
 * Parse concatenated PEM certificates, in order, appending to l. Accepts URL-encoded PEM
 * ("-----BEGIN%20CERTIFICATE-----%0A..."), trailing NUL bytes and whitespace. Anything other than
 * whitespace between or after blocks is VT_E_BAD_PEM; zero certificates is VT_E_BAD_PEM. On
 * failure l is unchanged.
 */
VT_MUST_USE enum vt_err vt_cert_list_from_pem(const char *pem, size_t len, struct vt_cert_list *l,
                                              struct vt_diag *d);
/* Parse a file's bytes as either one DER certificate or PEM certificates (appended to l). */
VT_MUST_USE enum vt_err vt_cert_list_from_bytes(const uint8_t *p, size_t len,
                                                struct vt_cert_list *l, struct vt_diag *d);
/* The same from a file (read whole, at most VT_MAX_COLLATERAL_SIZE bytes). */
VT_MUST_USE enum vt_err vt_cert_list_from_file(const char *path, struct vt_cert_list *l,
                                               struct vt_diag *d);

/*
 * The trust anchor that stands for a chain's last certificate `root`: an anchor is a name and a
 * key, not certificate bytes. The first anchor whose subject name equals root's
 * (vt_cert_same_subject) and whose SubjectPublicKeyInfo is byte-identical to root's
 * (vt_cert_same_key) is the match; root may be another certificate than the anchor (a vendor
 * re-issuing its self-signed root with the same name and key: another serial, another
 * validity). The match says nothing about root itself: its self-signature, extensions and
 * validity must still be checked, as vt_chain_verify does. *anchor (optional) gets the match.
 *
 * Errors: VT_E_UNTRUSTED_ROOT with check `check`, the detail naming root (subject, issuer, SHA-256
 * of its SPKI) and the nearest miss: an anchor with the same subject but another key, an anchor
 * with the same key but another subject, or neither. VT_E_ARG for NULL arguments.
 */
VT_MUST_USE enum vt_err vt_chain_anchor_for(const struct vt_cert *root,
                                            const struct vt_cert_list *anchors, const char *check,
                                            const struct vt_cert **anchor, struct vt_diag *d);

/*
 * Verify a certificate chain at `now`.
 *
 * chain[0] is the leaf, each next certificate issued the previous one; the last must be a
 * trusted root: its subject name and public key those of an anchor (vt_chain_anchor_for; the
 * bytes may differ), self-issued, its self-signature valid with that key. The root as presented
 * is what is checked (its extensions, CA constraints and validity), never the anchor's copy. For
 * each link: issuer name equals the issuer's subject, signature verifies, the issuer is a CA
 * (basicConstraints cA=TRUE, pathLenConstraint respected, keyUsage keyCertSign if present). Every
 * certificate, the root included, must be valid at now under `mode` (both edges inclusive).
 * `what` labels the chain in the diag ("pck_chain", "tcb_info_chain").
 *
 * Errors: VT_E_CHAIN_LENGTH (n == 0 or too long), VT_E_UNTRUSTED_ROOT (check "<what>.root"),
 * VT_E_CHAIN (names, CA constraints, root not self-issued), VT_E_CERT_SIGNATURE (a link, or the
 * root's self-signature: check "<what>[n-1].self_signed"), VT_E_EXPIRED, VT_E_NOT_YET_VALID; the
 * detail names the certificate (position and subject) and the values.
 */
VT_MUST_USE enum vt_err vt_chain_verify(const struct vt_cert_list *chain,
                                        const struct vt_cert_list *anchors, vt_time now,
                                        enum vt_time_mode mode, const char *what,
                                        struct vt_diag *d);

/* ---- CRLs ---- */

/* An immutable parsed CRL. Heap; vt_crl_free is NULL-safe. */
struct vt_crl;

/*
 * Parse a CRL given as DER, PEM ("-----BEGIN X509 CRL-----") or hex text of the DER (as PCCS
 * serves it). Trailing NUL bytes and whitespace are ignored. VT_E_BAD_CRL with the reason.
 */
VT_MUST_USE enum vt_err vt_crl_parse(const uint8_t *p, size_t len, struct vt_crl **out,
                                     struct vt_diag *d);
void vt_crl_free(struct vt_crl *crl);
/* The normalised DER bytes (borrowed). */
const uint8_t *vt_crl_der(const struct vt_crl *crl, size_t *len);
vt_time vt_crl_this_update(const struct vt_crl *crl);
/* nextUpdate; INT64_MAX if the CRL has none. */
vt_time vt_crl_next_update(const struct vt_crl *crl);
void vt_crl_issuer_text(const struct vt_crl *crl, char *out, size_t cap);
/* CRL number extension as decimal text, or "" if absent. */
void vt_crl_number_text(const struct vt_crl *crl, char *out, size_t cap);
/*
 * Check that `issuer` issued this CRL: the CRL's issuer name equals issuer's subject
 * (VT_E_CRL_ISSUER, both names in the detail) and its signature verifies with issuer's key
 * (VT_E_CRL_SIGNATURE). `what` labels the CRL in the diag ("pck_crl", "root_ca_crl").
 */
VT_MUST_USE enum vt_err vt_crl_check_issuer(const struct vt_crl *crl, const struct vt_cert *issuer,
                                            const char *what, struct vt_diag *d);
/* True if cert's serial is listed (the caller checks that the CRL's issuer issued cert).
 * *revoked_at (optional) gets the revocation date. */
bool vt_crl_is_revoked(const struct vt_crl *crl, const struct vt_cert *cert, vt_time *revoked_at);

/* ---- certificates veritee signs (x509_issue.c): the broker's CA ---- */

/* A PKCS#10 certificate request that parsed and whose self-signature verified. Heap; NULL-safe
 * vt_csr_free. */
struct vt_csr;

/*
 * Read a certificate request (DER, or one "CERTIFICATE REQUEST" PEM block) from an untrusted
 * client and check its proof of possession. Errors (check names in parentheses):
 * VT_E_MISSING_FIELD ("csr": empty), VT_E_TOO_LARGE ("csr.size": over VT_MAX_CSR_SIZE),
 * VT_E_BAD_PEM ("csr.pem"), VT_E_TRAILING_DATA ("csr.pem", "csr.der"), VT_E_BAD_DER ("csr.der"),
 * VT_E_BAD_KEY ("csr.key": the key does not decode), VT_E_UNSUPPORTED_VERSION ("csr.version"),
 * VT_E_UNSUPPORTED_ALGORITHM ("csr.key": not EC P-256/P-384/P-521 or RSA 2048..8192;
 * "csr.signature_algorithm": not ECDSA or RSA PKCS#1 v1.5 with SHA-256/384/512, or not the key's
 * kind), VT_E_SIGNATURE ("csr.signature": the self-signature does not verify), VT_E_NOMEM.
 */
VT_MUST_USE enum vt_err vt_csr_parse(const uint8_t *p, size_t n, struct vt_csr **out,
                                     struct vt_diag *d);
void vt_csr_free(struct vt_csr *c);
/* The request's key as DER SubjectPublicKeyInfo (borrowed from c). */
const uint8_t *vt_csr_spki(const struct vt_csr *c, size_t *len);
/* "P-256", "P-384", "P-521" or "RSA-<bits>". */
const char *vt_csr_key_name(const struct vt_csr *c);
/* A certificate request (DER into der, replacing its contents) for the private key k, subject
 * CN=cn, signed with SHA-256 (SHA-384 for P-384). VT_E_ARG, VT_E_CRYPTO. */
VT_MUST_USE enum vt_err vt_csr_create(const struct vt_key *k, const char *cn, struct vt_buf *der,
                                      struct vt_diag *d);

/* A self-signed CA certificate for k (P-256 or P-384 with its private half): subject and issuer
 * CN=cn, basicConstraints critical cA=TRUE pathLen 0, keyUsage critical keyCertSign and cRLSign,
 * a subject key identifier; DER into der (replacing its contents). VT_E_ARG, VT_E_CRYPTO. */
VT_MUST_USE enum vt_err vt_x509_ca_create(const struct vt_key *k, const char *cn,
                                          vt_time not_before, vt_time not_after,
                                          const uint8_t serial[16], struct vt_buf *der,
                                          struct vt_diag *d);

/* What a leaf certificate carries (everything chosen by the issuer, nothing from a request). */
struct vt_x509_leaf {
    const uint8_t *spki; /* the subject's key, DER SubjectPublicKeyInfo */
    size_t spki_len;
    const char *common_name;
    const char *const *dns; /* subjectAltName dNSName entries (vt_x509_dns_name_ok each) */
    size_t n_dns;
    vt_time not_before, not_after;
    const uint8_t *serial; /* 1..20 bytes, positive */
    size_t serial_len;
    const char *ext_oid;  /* a non-critical extension whose extnValue is a DER UTF8String of */
    const char *ext_text; /* ext_text[ext_len] (UTF-8); ext_oid NULL: none */
    size_t ext_len;
};

/* A leaf certificate signed by ca_key (the key of ca, whose subject becomes the issuer):
 * basicConstraints critical cA=FALSE, keyUsage critical digitalSignature and keyEncipherment,
 * extendedKeyUsage serverAuth and clientAuth, subject and authority key identifiers, the
 * dNSNames, the extension. DER into der (replacing its contents). VT_E_ARG, VT_E_BAD_FIELD
 * ("x509.issue.dns": a name that is no DNS name), VT_E_CRYPTO. */
VT_MUST_USE enum vt_err vt_x509_issue(const struct vt_key *ca_key, const struct vt_cert *ca,
                                      const struct vt_x509_leaf *l, struct vt_buf *der,
                                      struct vt_diag *d);
/* True if s is a DNS name a certificate may carry: labels of letters, digits and inner '-', at
 * most 63 characters each and 253 in all, optionally "*." first. */
bool vt_x509_dns_name_ok(const char *s);
/* Append der as a PEM block "-----BEGIN <label>-----" to out. VT_E_NOMEM or out's limit. */
VT_MUST_USE enum vt_err vt_der_to_pem(const char *label, const uint8_t *der, size_t n,
                                      struct vt_buf *out, struct vt_diag *d);

#endif
