/*
 * JOSE for the key broker: JSON Web Keys (RFC 7517/7518), JWK thumbprints (RFC 7638), JWS compact
 * serialisation with ES256 (RFC 7515; RS256 only through its own functions, for the Azure
 * drop-in), and JWE compact serialisation (RFC 7516) with RSA-OAEP-256 or ECDH-ES+A256KW key
 * management and A256GCM content encryption.
 *
 * Every algorithm outside that list is refused, never negotiated: "none", HMAC, RSA PKCS#1 v1.5
 * (outside vt_jws_*_rs256),
 * RSA-OAEP with SHA-1, "dir", AES-CBC-HMAC, "zip", "crit". base64url is strict everywhere: the
 * URL-safe alphabet, no padding, no whitespace, zero unused bits. JSON is parsed with duplicate
 * members rejected. See docs/jose.md.
 *
 * Check names recorded in the diag start with "jwk.", "jws." or "jwe." followed by the member or
 * segment that failed ("jwk.x", "jws.alg", "jwe.tag").
 */
#ifndef VT_CRYPTO_JOSE_H
#define VT_CRYPTO_JOSE_H

#include <veritee/buf.h>
#include <veritee/common.h>
#include <veritee/error.h>

#include "crypto/crypto.h"

/* Largest JWK text accepted by vt_jwk_parse (an RSA-8192 public JWK is about 1.5 KB). */
#define VT_JWK_MAX_JSON (16u * 1024u)
/* Largest compact JWS or JWE accepted by the verifiers/decrypters. */
#define VT_JOSE_MAX_COMPACT (16u * 1024u * 1024u)
/* Room for a kid, NUL included: a kid is 1..127 bytes of UTF-8. */
#define VT_JOSE_KID_MAX 128
/* RSA modulus sizes accepted in JWKs. */
#define VT_JWK_RSA_MIN_BITS 2048
#define VT_JWK_RSA_MAX_BITS 8192

/* jansson's value type (jansson.h defines `typedef struct json_t json_t`). */
struct json_t;

/* ---- JSON Web Keys ---- */

/*
 * (vt_jwk_generate, vt_jwk_free and vt_jwk_public_json are installed API too, declared again in
 * include/veritee/client.h, so they keep VT_EXPORT here where jose.c sees them.)
 *
 * A validated key: RSA (2048..8192-bit modulus, odd public exponent >= 3, at most 64 bits) or EC
 * on P-256, P-384 or P-521 (point on the curve). It holds the public half, and the private half too
 * when it was generated or loaded from PEM (never from JSON). Immutable; heap; vt_jwk_free.
 */
struct vt_jwk;

/*
 * Parse a public JWK from JSON text (at most VT_JWK_MAX_JSON bytes; one object, duplicate members
 * rejected).
 *
 * Required members: "kty" "RSA" with "n" and "e", or "kty" "EC" with "crv" ("P-256", "P-384" or
 * "P-521"), "x" and "y" of exactly 32, 48 or 66 bytes. Values are strict base64url; "n" and "e"
 * must have no leading zero octet (RFC 7518 section 6.3.1), so that the thumbprint is that of the
 * sender. Private members ("d", "p", "q", "dp", "dq", "qi", "oth", "k") are refused: a key sent to
 * the broker must be public. Other members ("kid", "use", "alg", ...) are allowed and ignored.
 *
 * Errors (check names in parentheses): VT_E_TOO_LARGE ("jwk.json"), VT_E_BAD_JSON ("jwk.json",
 * detail: jansson's message and position), VT_E_DUPLICATE ("jwk.json", the member), VT_E_BAD_KEY
 * ("jwk.private": the private member found), VT_E_MISSING_FIELD / VT_E_BAD_FIELD ("jwk.kty",
 * "jwk.crv", "jwk.n", "jwk.e", "jwk.x", "jwk.y"), VT_E_UNSUPPORTED_ALGORITHM ("jwk.kty",
 * "jwk.crv": the value), VT_E_BAD_BASE64 ("jwk.<member>"), VT_E_BAD_LENGTH ("jwk.x", "jwk.y":
 * expected and found lengths), VT_E_BAD_KEY ("jwk.n": modulus size or even modulus, "jwk.e":
 * exponent, "jwk.point": not on the curve).
 */
VT_MUST_USE enum vt_err vt_jwk_parse(const char *json, size_t len, struct vt_jwk **out,
                                     struct vt_diag *d);

/*
 * The same from a jansson object already parsed (the caller's loader must reject duplicate
 * members: JSON_REJECT_DUPLICATES). `obj` is only read. Errors as vt_jwk_parse.
 */
VT_MUST_USE enum vt_err vt_jwk_from_json(const struct json_t *obj, struct vt_jwk **out,
                                         struct vt_diag *d);

/* A public P-256 JWK from a raw X||Y point (for publishing a private P-256 struct vt_key's point as
 * a JWKS entry). VT_E_BAD_KEY ("jwk.point") if the point is not on the curve. */
VT_MUST_USE enum vt_err vt_jwk_from_p256_xy(const uint8_t xy[64], struct vt_jwk **out,
                                            struct vt_diag *d);

/* NULL-safe; wipes and frees the private half if there is one. */
VT_EXPORT void vt_jwk_free(struct vt_jwk *k);

/* "RSA" or "EC". */
const char *vt_jwk_kty(const struct vt_jwk *k);
/* "P-256", "P-384" or "P-521"; NULL for RSA. */
const char *vt_jwk_curve(const struct vt_jwk *k);
/* Modulus bits for RSA; 256, 384 or 521 for EC. */
int vt_jwk_bits(const struct vt_jwk *k);
/* True if the key holds its private half (generated or loaded from PEM). */
bool vt_jwk_has_private(const struct vt_jwk *k);
/* The key itself (borrowed, valid while k lives), for the struct vt_key operations. */
const struct vt_key *vt_jwk_key(const struct vt_jwk *k);

/* The raw X||Y point of a P-256 key (what a vt_jws_resolver returns). VT_E_UNSUPPORTED_ALGORITHM
 * ("jwk.crv") if k is not EC P-256. */
VT_MUST_USE enum vt_err vt_jwk_p256_xy(const struct vt_jwk *k, uint8_t xy[64], struct vt_diag *d);

/*
 * Append the RFC 7638 thumbprint input to out: the required public members only, ordered
 * lexicographically, no whitespace: {"e":"...","kty":"RSA","n":"..."} or
 * {"crv":"P-256","kty":"EC","x":"...","y":"..."}. No NUL is counted in the length.
 * Fails only with vt_buf_append's errors.
 */
VT_MUST_USE enum vt_err vt_jwk_thumbprint_input(const struct vt_jwk *k, struct vt_buf *out);

/* The RFC 7638 SHA-256 thumbprint (hash of vt_jwk_thumbprint_input). Cannot fail. */
void vt_jwk_thumbprint(const struct vt_jwk *k, uint8_t out[VT_SHA256_LEN]);

/* The thumbprint as base64url text (43 characters and a NUL), the usual "kid" of the key. */
void vt_jwk_thumbprint_b64(const struct vt_jwk *k, char out[44]);

/*
 * Append the public key as DER SubjectPublicKeyInfo (RFC 5280; rsaEncryption or id-ecPublicKey
 * with the named curve, uncompressed point) to out: the form of a Nitro attestation document's
 * public_key and of KMS's RecipientInfo. Never includes the private half. Fails with
 * vt_buf_append's errors, VT_E_CRYPTO if the library cannot encode the key.
 */
VT_MUST_USE enum vt_err vt_jwk_spki_der(const struct vt_jwk *k, struct vt_buf *out);

/* The public key of a DER SubjectPublicKeyInfo (a certificate's or a CSR's) as a JWK, checked as
 * vt_jwk_parse checks a JWK's members. VT_E_BAD_KEY ("jwk.spki": not one SubjectPublicKeyInfo),
 * then vt_jwk_parse's key errors ("jwk.kty", "jwk.crv", "jwk.n", "jwk.e"). */
VT_MUST_USE enum vt_err vt_jwk_from_spki_der(const uint8_t *der, size_t len, struct vt_jwk **out,
                                             struct vt_diag *d);

/*
 * The public JWK as a NUL-terminated JSON string: the required public members only, sorted, no
 * whitespace (the same bytes as the thumbprint input). Heap (free()); NULL only when out of
 * memory. Never contains private members, whether or not k holds a private half.
 */
VT_EXPORT char *vt_jwk_public_json(const struct vt_jwk *k);

/*
 * Generate a key with its private half. type is "RSA-2048", "RSA-3072", "RSA-4096", "P-256",
 * "P-384" or "P-521"; anything else is VT_E_UNSUPPORTED_ALGORITHM ("jwk.generate"). VT_E_CRYPTO if
 * the library fails.
 */
VT_EXPORT VT_MUST_USE enum vt_err vt_jwk_generate(const char *type, struct vt_jwk **out,
                                                  struct vt_diag *d);

/* Append the private key as unencrypted PKCS#8 PEM to out. VT_E_STATE ("jwk.private") if k has no
 * private half. The caller owns (and should wipe: vt_buf_cleanup does) the secret text. */
VT_EXPORT VT_MUST_USE enum vt_err vt_jwk_private_pem(const struct vt_jwk *k, struct vt_buf *out,
                                                     struct vt_diag *d);

/*
 * Load a private key from PEM (PKCS#8, PKCS#1 or SEC1, unencrypted). VT_E_BAD_PEM ("jwk.pem") if
 * it is not a PEM private key, VT_E_UNSUPPORTED_ALGORITHM ("jwk.kty"/"jwk.crv") for a key type or
 * curve outside those a JWK may hold, VT_E_BAD_KEY ("jwk.n", "jwk.e") for an RSA size or exponent
 * outside the limits above.
 */
VT_MUST_USE enum vt_err vt_jwk_from_private_pem(const char *pem, size_t len, struct vt_jwk **out,
                                                struct vt_diag *d);

/* ---- JWS compact, ES256 only ---- */

/*
 * Sign payload[n] as a compact JWS with the protected header {"alg":"ES256","kid":kid} plus
 * "typ":typ when typ is not NULL (members sorted, no whitespace). kid: 1..127 bytes of UTF-8; typ:
 * UTF-8. The signature is raw r||s (RFC 7518 section 3.4). *compact gets a NUL-terminated heap
 * string (free()). Errors: VT_E_ARG ("jws.kid", "jws.typ"), VT_E_NOMEM, VT_E_CRYPTO.
 */
VT_MUST_USE enum vt_err vt_jws_sign_es256(const struct vt_key *key, const char *kid,
                                          const char *typ, const uint8_t *payload, size_t n,
                                          char **compact, struct vt_diag *d);

/* Resolve a kid (NUL-terminated, 1..127 bytes) to the raw X||Y of its P-256 public key. Return
 * false if the kid is unknown. */
typedef bool (*vt_jws_resolver)(void *ctx, const char *kid, uint8_t xy[64]);

/*
 * Verify a compact JWS (len bytes, no NUL needed) signed with ES256 by the key `resolve` returns
 * for its kid. On success the decoded payload is appended to `payload` (whose max bounds it) and
 * kid_out gets the kid; on failure payload is unchanged and kid_out is "".
 *
 * Errors: VT_E_TOO_LARGE ("jws.compact"), VT_E_MALFORMED ("jws.compact": not three segments),
 * VT_E_BAD_BASE64 ("jws.header", "jws.payload", "jws.signature"), VT_E_BAD_JSON / VT_E_DUPLICATE
 * ("jws.header"), VT_E_MISSING_FIELD / VT_E_BAD_FIELD ("jws.alg", "jws.kid"),
 * VT_E_UNSUPPORTED_ALGORITHM ("jws.alg": any alg but ES256, "none" included), VT_E_UNSUPPORTED
 * ("jws.crit", "jws.b64"), VT_E_NOT_FOUND ("jws.kid": the resolver knows no such kid),
 * VT_E_BAD_LENGTH ("jws.signature": not 64 bytes), VT_E_BAD_KEY (the resolver's point is not on
 * the curve), VT_E_SIGNATURE ("jws.signature"), VT_E_TOO_LARGE (payload beyond payload->max).
 */
VT_MUST_USE enum vt_err vt_jws_verify_es256(const char *compact, size_t len,
                                            vt_jws_resolver resolve, void *ctx,
                                            struct vt_buf *payload, char kid_out[VT_JOSE_KID_MAX],
                                            struct vt_diag *d);

/* ---- JWS compact, RS256 (RSASSA-PKCS1-v1_5 with SHA-256): the tokens, policies and release
 * responses of the Azure drop-in (docs/maa.md, docs/skr.md), and nothing else ---- */

/*
 * Sign payload[n] with the RSA private key of `key` (2048..8192 bits) as a compact JWS. The
 * protected header is `header` (a JSON object, borrowed, may be NULL: e.g. {"jku":..,"kid":..,
 * "typ":"JWT","x5c":[..]}) with "alg":"RS256" set, serialised with sorted members and no
 * whitespace. *compact gets a NUL-terminated heap string (free()). Errors: VT_E_ARG ("jws.header":
 * not an object; "jws.key": not an RSA key with its private half), VT_E_TOO_LARGE
 * ("jws.payload"), VT_E_NOMEM, VT_E_CRYPTO.
 */
VT_MUST_USE enum vt_err vt_jws_sign_rs256(const struct vt_jwk *key, const struct json_t *header,
                                          const uint8_t *payload, size_t n, char **compact,
                                          struct vt_diag *d);

/*
 * Find the key a JWS's protected header names (by "kid", "x5t", "x5c", "jku" as the caller's
 * trust rules say). Return an RSA public key borrowed for the duration of the verify call, or
 * NULL after filling d (check "jws.kid" or the member that failed) with why none is trusted.
 */
typedef const struct vt_jwk *(*vt_jws_rsa_resolver)(void *ctx, const struct json_t *header,
                                                    struct vt_diag *d);

/*
 * Verify a compact JWS (len bytes) signed with RS256 by the key `resolve` returns for its
 * protected header. On success the decoded payload is appended to `payload` (whose max bounds
 * it) and, if header_out is not NULL, *header_out gets the parsed header (json_decref). Errors as
 * vt_jws_verify_es256's, with: VT_E_UNSUPPORTED_ALGORITHM ("jws.alg": anything but RS256),
 * whatever the resolver failed with, VT_E_BAD_LENGTH ("jws.signature": not the modulus size),
 * VT_E_SIGNATURE ("jws.signature").
 */
VT_MUST_USE enum vt_err vt_jws_verify_rs256(const char *compact, size_t len,
                                            vt_jws_rsa_resolver resolve, void *ctx,
                                            struct vt_buf *payload, struct json_t **header_out,
                                            struct vt_diag *d);

/* ---- JWE compact: RSA-OAEP-256 or ECDH-ES+A256KW, with A256GCM ---- */

/*
 * Encrypt pt[n] to `recipient` (its public half is enough) as a compact JWE. The key management
 * algorithm follows the key: RSA-OAEP-256 (OAEP with SHA-256 and MGF1-SHA-256) for RSA keys,
 * ECDH-ES+A256KW for EC keys (an ephemeral key on the recipient's curve in "epk"; Concat KDF of
 * RFC 7518 section 4.6.2 with AlgorithmID "ECDH-ES+A256KW", empty PartyUInfo and PartyVInfo,
 * keydatalen 256; the result wraps the CEK with AES key wrap). Content: A256GCM with a random
 * 96-bit IV, the ASCII of the encoded protected header as AAD. Protected header members, sorted:
 * "alg", "enc":"A256GCM", "epk" (EC only, {"crv","kty","x","y"}), "kid" (if kid is not NULL).
 * *compact gets a NUL-terminated heap string (free()). Errors: VT_E_ARG ("jwe.kid"),
 * VT_E_TOO_LARGE ("jwe.plaintext": n beyond VT_JOSE_MAX_COMPACT / 2), VT_E_NOMEM, VT_E_CRYPTO.
 */
VT_MUST_USE enum vt_err vt_jwe_encrypt(const struct vt_jwk *recipient, const uint8_t *pt, size_t n,
                                       const char *kid, char **compact, struct vt_diag *d);

/*
 * Decrypt a compact JWE (len bytes) with `priv`, which must hold its private half. The plaintext
 * is appended to pt (whose max bounds it) only once the tag has verified; on failure pt is
 * unchanged.
 *
 * Accepted: alg "RSA-OAEP-256" for an RSA key or "ECDH-ES+A256KW" for an EC key (epk on the same
 * curve; "apu"/"apv", if present, enter the KDF), enc "A256GCM". Refused: every other alg or enc
 * (VT_E_UNSUPPORTED_ALGORITHM, "jwe.alg"/"jwe.enc"), an alg that does not fit the key
 * (VT_E_BAD_KEY, "jwe.alg"), "zip" and "crit" (VT_E_UNSUPPORTED, "jwe.zip"/"jwe.crit").
 *
 * Other errors: VT_E_ARG ("jwe.key": no private half), VT_E_TOO_LARGE ("jwe.compact"),
 * VT_E_MALFORMED ("jwe.compact": not five segments), VT_E_BAD_BASE64 ("jwe.header",
 * "jwe.encrypted_key", "jwe.iv", "jwe.ciphertext", "jwe.tag"), VT_E_BAD_JSON / VT_E_DUPLICATE
 * ("jwe.header"), the vt_jwk_parse errors under "jwe.epk.", VT_E_BAD_LENGTH ("jwe.iv": not 12
 * bytes, "jwe.tag": not 16, "jwe.encrypted_key": not the modulus size or 40 bytes),
 * VT_E_CRYPTO ("jwe.encrypted_key": AES key unwrap failed, i.e. wrong key or altered epk or
 * encrypted key; "jwe.tag": the GCM tag does not verify, i.e. altered header, IV, ciphertext or
 * tag, or, for RSA-OAEP-256, a wrong key or altered encrypted key: RSA decryption failures are
 * deliberately not told apart, RFC 7516 section 11.5).
 */
VT_MUST_USE enum vt_err vt_jwe_decrypt(const struct vt_jwk *priv, const char *compact, size_t len,
                                       struct vt_buf *pt, struct vt_diag *d);

#endif
