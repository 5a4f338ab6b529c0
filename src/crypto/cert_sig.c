/*
 * Certificate signatures: does a child certificate carry a valid signature by an issuer's key.
 * Above cert.c (parsing, accessors) and p384.c (the P-384 arithmetic), which know nothing of each
 * other or of this file; chain.c and crl.c call down into it. Ordinary certificates go through
 * OpenSSL's X509_verify; P-384 issuers signing with ecdsa-with-SHA384 (the AWS Nitro chain, AMD
 * VLEK/ASK chains) through the faster nettle backend of p384.c, see there for the figures.
 *
 * vt_cert_check_signed_by_p384 verifies an X.509 signature without OpenSSL's verifier: it reads
 * the certificate's own DER (RFC 5280 4.1):
 *
 *   Certificate ::= SEQUENCE {
 *       tbsCertificate       TBSCertificate,         -- the signed bytes, header included
 *       signatureAlgorithm   AlgorithmIdentifier,    -- must be ecdsa-with-SHA384
 *       signatureValue       BIT STRING }            -- DER ECDSA-Sig-Value
 *   TBSCertificate ::= SEQUENCE {
 *       version         [0] EXPLICIT Version DEFAULT v1,
 *       serialNumber        CertificateSerialNumber,
 *       signature           AlgorithmIdentifier,     -- must equal signatureAlgorithm
 *       ... }
 *   ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }   (RFC 5480 / RFC 5758 3.2)
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "base/der.h"
#include "base/reader.h"

#include "crypto_internal.h"

#define VT_P384_LEN 48

/* Room for the name of a key's certificate, and for certificate names, in diag details. */
#define VT_P384_LABEL_MAX 128
#define VT_P384_NAME_MAX 128

/*
 * SPEC: RFC 5758 3.2, AlgorithmIdentifier content for ecdsa-with-SHA384 (OID 1.2.840.10045.4.3.3)
 * with the parameters field absent, as it must be.
 */
static const uint8_t vt_p384_alg_ecdsa_sha384[] = {
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03,
};

enum vt_err vt_key_from_cert(const struct vt_cert *c, enum vt_key_alg want, struct vt_key **out,
                             struct vt_diag *d)
{
    if (c == NULL || out == NULL) {
        return vt_fail(d, VT_E_ARG, "p384.key", "null argument");
    }
    if (want != VT_KEY_P384) {
        return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "cert.public_key",
                       "a %s key from a certificate is not supported", vt_key_alg_name(want));
    }
    EVP_PKEY *pk = NULL;
    VT_TRY(vt_crypto_cert_ec_key(c, NID_secp384r1, "P-384", &pk, d));
    char why[VT_CRYPTO_ERRTEXT_MAX];
    /* The encoded point as 0x04 || X || Y. */
    uint8_t pub[1 + 96];
    size_t pub_len = 0;
    if (EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &pub_len) !=
        1) {
        vt_crypto_errors(why, sizeof(why));
        return vt_fail(d, VT_E_CRYPTO, "cert.public_key", "cannot export the EC point: %s", why);
    }
    /* A compressed point (0x02/0x03 || X, allowed by RFC 5480 but not used in practice) is
     * decompressed by OpenSSL when it parses the key: ask for the coordinates instead. */
    if (pub_len != sizeof(pub) || pub[0] != 0x04) {
        BIGNUM *x = NULL;
        BIGNUM *y = NULL;
        bool ok = EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
                  EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1 &&
                  BN_bn2binpad(x, pub + 1, VT_P384_LEN) == VT_P384_LEN &&
                  BN_bn2binpad(y, pub + 1 + VT_P384_LEN, VT_P384_LEN) == VT_P384_LEN;
        BN_free(x);
        BN_free(y);
        if (!ok) {
            vt_crypto_errors(why, sizeof(why));
            return vt_fail(d, VT_E_CRYPTO, "cert.public_key",
                           "cannot export the EC point coordinates: %s", why);
        }
    }
    ERR_clear_error();
    char subject[VT_P384_LABEL_MAX - 16];
    char label[VT_P384_LABEL_MAX];
    vt_cert_subject_text(c, subject, sizeof(subject));
    snprintf(label, sizeof(label), "[%s]", subject);
    /* The certificate's EVP_PKEY is shared (reference-counted), not rebuilt. */
    if (EVP_PKEY_up_ref(pk) != 1) {
        return vt_fail(d, VT_E_CRYPTO, "cert.public_key", "cannot reference the key");
    }
    return vt_crypto_p384_key_new(pub + 1, label, pk, out, d);
}

/* ---- certificate signatures ---- */

/*
 * A DER INTEGER that must be in [0, 2^384) into 48 big-endian bytes. False if it is negative,
 * not minimally encoded or too long (the range check against n comes later).
 */
static bool vt_p384_der_scalar(const struct vt_der_tlv *tlv, uint8_t out[VT_P384_LEN])
{
    struct vt_reader r;
    uint8_t b0;
    uint8_t b1;
    vt_reader_init(&r, tlv->val, tlv->len);
    if (tlv->tag != VT_DER_INTEGER || vt_reader_peek_u8(&r, &b0) != VT_OK || (b0 & 0x80) != 0) {
        return false; /* X.690 8.3.1: at least one byte; a set top bit is a negative value */
    }
    if (b0 == 0x00 && vt_reader_left(&r) > 1) {
        /* X.690 8.3.2: a leading zero only in front of a byte with the top bit set. */
        struct vt_reader t = r;
        if (vt_reader_skip(&t, 1) != VT_OK || vt_reader_peek_u8(&t, &b1) != VT_OK ||
            (b1 & 0x80) == 0) {
            return false;
        }
        r = t;
    }
    if (vt_reader_left(&r) > VT_P384_LEN) {
        return false;
    }
    memset(out, 0, VT_P384_LEN);
    return vt_reader_copy(&r, out + (VT_P384_LEN - vt_reader_left(&r)), vt_reader_left(&r)) ==
           VT_OK;
}

/* Decode the signatureValue BIT STRING's ECDSA-Sig-Value into raw r||s. NULL or a reason. */
static const char *vt_p384_sig_from_bits(const struct vt_der_tlv *bits, uint8_t sig[96])
{
    struct vt_reader r;
    struct vt_reader seq;
    struct vt_der_tlv rt;
    struct vt_der_tlv st;
    uint8_t unused;
    if (bits->tag != 0x03) {
        return "signatureValue is not a BIT STRING";
    }
    vt_reader_init(&r, bits->val, bits->len);
    if (vt_reader_get_u8(&r, &unused) != VT_OK || unused != 0) {
        return "signatureValue BIT STRING is empty or has unused bits";
    }
    if (vt_der_expect(&r, VT_DER_SEQUENCE, &seq) != VT_OK || vt_reader_expect_end(&r) != VT_OK) {
        return "signatureValue is not one DER ECDSA-Sig-Value";
    }
    if (vt_der_get(&seq, &rt) != VT_OK || vt_der_get(&seq, &st) != VT_OK ||
        vt_reader_expect_end(&seq) != VT_OK) {
        return "ECDSA-Sig-Value is not a SEQUENCE of two values";
    }
    if (!vt_p384_der_scalar(&rt, sig) || !vt_p384_der_scalar(&st, sig + VT_P384_LEN)) {
        return "r or s is not a non-negative DER INTEGER of at most 384 bits";
    }
    return NULL;
}

/* The certificate's pieces that the signature check needs, borrowed from its DER. */
struct vt_p384_cert_parts {
    const uint8_t *tbs; /* whole TBSCertificate TLV */
    size_t tbs_len;
    struct vt_der_tlv tbs_alg;   /* TBSCertificate.signature */
    struct vt_der_tlv outer_alg; /* Certificate.signatureAlgorithm */
    struct vt_der_tlv sig_bits;  /* Certificate.signatureValue */
};

/* Split the DER; NULL or the reason it does not parse. */
static const char *vt_p384_cert_split(const uint8_t *der, size_t len,
                                      struct vt_p384_cert_parts *parts)
{
    struct vt_reader r;
    struct vt_reader cert;
    struct vt_reader tbs;
    struct vt_der_tlv tlv;
    vt_reader_init(&r, der, len);
    if (vt_der_expect(&r, VT_DER_SEQUENCE, &cert) != VT_OK || vt_reader_expect_end(&r) != VT_OK) {
        return "the certificate is not one DER SEQUENCE";
    }
    /* The TBS bytes are the whole first TLV: measure it on a copy, then take that span. */
    struct vt_reader span = cert;
    size_t at = vt_reader_offset(&cert);
    if (vt_der_expect(&cert, VT_DER_SEQUENCE, &tbs) != VT_OK) {
        return "tbsCertificate is not a DER SEQUENCE";
    }
    parts->tbs_len = vt_reader_offset(&cert) - at;
    if (vt_reader_get_bytes(&span, parts->tbs_len, &parts->tbs) != VT_OK) {
        return "tbsCertificate span";
    }
    if (vt_der_get(&cert, &parts->outer_alg) != VT_OK ||
        vt_der_get(&cert, &parts->sig_bits) != VT_OK || vt_reader_expect_end(&cert) != VT_OK) {
        return "the certificate is not tbsCertificate, signatureAlgorithm, signatureValue";
    }
    /* TBSCertificate: optional [0] version, serialNumber, then signature. */
    if (vt_der_get(&tbs, &tlv) != VT_OK) {
        return "tbsCertificate is empty";
    }
    if (tlv.tag == 0xa0 && vt_der_get(&tbs, &tlv) != VT_OK) {
        return "tbsCertificate ends after its version";
    }
    if (tlv.tag != VT_DER_INTEGER || vt_der_get(&tbs, &parts->tbs_alg) != VT_OK) {
        return "tbsCertificate has no serialNumber and signature";
    }
    return NULL;
}

static bool vt_p384_is_ecdsa_sha384(const struct vt_der_tlv *alg)
{
    return alg->tag == VT_DER_SEQUENCE && alg->len == sizeof(vt_p384_alg_ecdsa_sha384) &&
           memcmp(alg->val, vt_p384_alg_ecdsa_sha384, alg->len) == 0;
}

/* The algorithm of an AlgorithmIdentifier as "name (dotted OID)" for messages. */
static void vt_p384_alg_text(const struct vt_der_tlv *alg, char *out, size_t cap)
{
    struct vt_reader r;
    struct vt_der_tlv oid;
    char dotted[96];
    vt_reader_init(&r, alg->val, alg->len);
    if (alg->tag != VT_DER_SEQUENCE || vt_der_get(&r, &oid) != VT_OK || oid.tag != VT_DER_OID ||
        vt_der_oid_to_text(oid.val, oid.len, dotted, sizeof(dotted)) != VT_OK) {
        snprintf(out, cap, "an undecodable AlgorithmIdentifier");
        return;
    }
    int nid = OBJ_txt2nid(dotted);
    const char *name = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
    ERR_clear_error();
    snprintf(out, cap, "%s (%s)%s", name != NULL ? name : "unknown", dotted,
             vt_reader_left(&r) > 0 ? " with parameters" : "");
}

/* The child's subject and issuer names for messages. */
static void vt_p384_names(const struct vt_cert *child, char subject[VT_P384_NAME_MAX],
                          char issuer[VT_P384_NAME_MAX])
{
    vt_cert_subject_text(child, subject, VT_P384_NAME_MAX);
    vt_cert_issuer_text(child, issuer, VT_P384_NAME_MAX);
}

/* Everything vt_cert_check_signed_by_p384 checks but the verification itself: the issuer key is
 * P-384, both signature algorithms are ecdsa-with-SHA384, the signature decodes (into sig, with
 * the certificate's parts). */
static enum vt_err p384_signed_form(const struct vt_cert *child, const struct vt_key *issuer,
                                    struct vt_p384_cert_parts *out, uint8_t sig[96],
                                    struct vt_diag *d)
{
    if (child == NULL || issuer == NULL) {
        return vt_fail(d, VT_E_ARG, "cert.signature", "null argument");
    }
    VT_TRY(vt_key_expect(issuer, VT_KEY_P384, false, "cert.signature", d));
    /* The names are formatted only for a failure: the success path stays at hash + verify. */
    char child_name[VT_P384_NAME_MAX];
    char issuer_name[VT_P384_NAME_MAX];
    const char *why = vt_p384_cert_split(child->der, child->der_len, out);
    if (why != NULL) {
        vt_p384_names(child, child_name, issuer_name);
        return vt_fail(d, VT_E_BAD_CERT, "cert.der", "[%s]: %s", child_name, why);
    }
    if (!vt_p384_is_ecdsa_sha384(&out->outer_alg)) {
        char alg[160];
        vt_p384_alg_text(&out->outer_alg, alg, sizeof(alg));
        vt_p384_names(child, child_name, issuer_name);
        return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "cert.signature_algorithm",
                       "[%s] is signed with %s, expected ecdsa-with-SHA384 (1.2.840.10045.4.3.3)",
                       child_name, alg);
    }
    /* SPEC: RFC 5280 4.1.1.2: signatureAlgorithm MUST equal TBSCertificate.signature. OpenSSL's
     * X509_verify fails such a certificate, and so does this check. */
    if (!vt_p384_is_ecdsa_sha384(&out->tbs_alg)) {
        char alg[160];
        vt_p384_alg_text(&out->tbs_alg, alg, sizeof(alg));
        vt_p384_names(child, child_name, issuer_name);
        return vt_fail(d, VT_E_CERT_SIGNATURE, "cert.signature",
                       "[%s]: signatureAlgorithm is ecdsa-with-SHA384 but the signed "
                       "TBSCertificate says %s",
                       child_name, alg);
    }
    why = vt_p384_sig_from_bits(&out->sig_bits, sig);
    if (why != NULL) {
        vt_p384_names(child, child_name, issuer_name);
        return vt_fail(d, VT_E_CERT_SIGNATURE, "cert.signature",
                       "signature of [%s] (issuer [%s]) cannot be decoded: %s", child_name,
                       issuer_name, why);
    }
    return VT_OK;
}

enum vt_err vt_cert_expect_p384_signature(const struct vt_cert *child, const struct vt_key *issuer,
                                          struct vt_diag *d)
{
    struct vt_p384_cert_parts parts;
    uint8_t sig[96];
    return p384_signed_form(child, issuer, &parts, sig, d);
}

enum vt_err vt_cert_check_signed_by_p384(const struct vt_cert *child, const struct vt_key *issuer,
                                         struct vt_diag *d)
{
    struct vt_p384_cert_parts parts;
    uint8_t sig[96];
    VT_TRY(p384_signed_form(child, issuer, &parts, sig, d));
    char child_name[VT_P384_NAME_MAX];
    char issuer_name[VT_P384_NAME_MAX];
    uint8_t digest[VT_SHA384_LEN];
    vt_sha384(parts.tbs, parts.tbs_len, digest);
    if (vt_p384_verify_digest(issuer, digest, sig) != VT_OK) {
        vt_p384_names(child, child_name, issuer_name);
        return vt_fail(d, VT_E_CERT_SIGNATURE, "cert.signature",
                       "signature of [%s] (issuer [%s]) does not verify with %s", child_name,
                       issuer_name, issuer->label);
    }
    return VT_OK;
}

enum vt_err vt_crypto_check_signed_by(const struct vt_cert *child, const struct vt_cert *issuer,
                                      const char *check, struct vt_diag *d)
{
    /* P-384 issuers signing with ecdsa-with-SHA384 (AWS Nitro chains) take the faster P-384
     * backend; every other algorithm goes through OpenSSL. */
    struct vt_key *k384 = NULL;
    if (X509_get_signature_nid(child->x509) == NID_ecdsa_with_SHA384 &&
        vt_key_from_cert(issuer, VT_KEY_P384, &k384, NULL) == VT_OK) {
        struct vt_diag inner;
        enum vt_err err = vt_cert_check_signed_by_p384(child, k384, &inner);
        vt_key_free(k384);
        if (err == VT_OK) {
            return VT_OK;
        }
        return vt_fail(d, VT_E_CERT_SIGNATURE, check, "%s", inner.detail);
    }
    ERR_clear_error();
    EVP_PKEY *pk = X509_get0_pubkey(issuer->x509);
    if (pk != NULL && X509_verify(child->x509, pk) == 1) {
        return VT_OK;
    }
    char why[VT_CRYPTO_ERRTEXT_MAX];
    char child_name[128];
    char issuer_name[128];
    vt_crypto_errors(why, sizeof(why));
    vt_cert_subject_text(child, child_name, sizeof(child_name));
    vt_cert_subject_text(issuer, issuer_name, sizeof(issuer_name));
    return vt_fail(d, VT_E_CERT_SIGNATURE, check,
                   "signature of [%s] does not verify with the key of [%s]: %s", child_name,
                   issuer_name, why);
}

enum vt_err vt_cert_check_signed_by(const struct vt_cert *child, const struct vt_cert *issuer,
                                    struct vt_diag *d)
{
    return vt_crypto_check_signed_by(child, issuer, "cert.signature", d);
}
