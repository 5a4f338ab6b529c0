/*
 * Certificates veritee signs itself (the broker's CA, docs/attested-tls.md "Certificates from
 * the broker"): reading a PKCS#10 certificate request from an untrusted client, making one for
 * a client, a self-signed CA certificate, and a leaf certificate for a key the CA vouches for.
 *
 * SPEC: RFC 2986 (PKCS#10):
 *
 *   CertificationRequest ::= SEQUENCE {
 *       certificationRequestInfo SEQUENCE { version INTEGER (0), subject Name,
 *                                           subjectPKInfo SubjectPublicKeyInfo,
 *                                           attributes [0] Attributes },
 *       signatureAlgorithm AlgorithmIdentifier,
 *       signature BIT STRING }
 *
 * A request is refused unless it is one DER structure (or one PEM block of it) of at most
 * VT_MAX_CSR_SIZE bytes with nothing after it, its key is EC P-256, P-384 or P-521 or RSA of
 * 2048 to 8192 bits, its signature algorithm is ECDSA or RSA PKCS#1 v1.5 with SHA-256, SHA-384
 * or SHA-512, and that signature verifies with its own key (proof of possession). Its subject,
 * attributes and requested extensions are never read: what goes into a certificate is decided
 * by the caller (struct vt_x509_leaf).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/encoding.h"
#include "base/reader.h"

#include "crypto_internal.h"

struct vt_csr {
    X509_REQ *req;
    uint8_t *spki; /* DER SubjectPublicKeyInfo (owned) */
    size_t spki_len;
    char key[24]; /* "P-256", "RSA-3072", ... */
};

void vt_csr_free(struct vt_csr *c)
{
    if (c == NULL) {
        return;
    }
    X509_REQ_free(c->req);
    free(c->spki);
    free(c);
}

const uint8_t *vt_csr_spki(const struct vt_csr *c, size_t *len)
{
    *len = c->spki_len;
    return c->spki;
}

const char *vt_csr_key_name(const struct vt_csr *c)
{
    return c->key;
}

/* The key's kind, if it is one a certificate may carry: EC on a named NIST curve, or RSA. */
static enum vt_err csr_key(EVP_PKEY *k, char name[24], struct vt_diag *d)
{
    if (EVP_PKEY_is_a(k, "EC")) {
        char group[64] = "";
        size_t gl = 0;
        (void)EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof(group), &gl);
        static const struct {
            const char *group, *name;
        } curves[] = {{"prime256v1", "P-256"}, {"secp384r1", "P-384"}, {"secp521r1", "P-521"}};
        for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
            if (strcmp(group, curves[i].group) == 0) {
                snprintf(name, 24, "%s", curves[i].name);
                return VT_OK;
            }
        }
        return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "csr.key",
                       "the request's key is EC on curve \"%s\"; P-256, P-384 and P-521 are "
                       "accepted",
                       group[0] ? group : "unknown");
    }
    if (EVP_PKEY_is_a(k, "RSA")) {
        int bits = EVP_PKEY_get_bits(k);
        VT_ENSURE(bits >= 2048 && bits <= 8192, d, VT_E_UNSUPPORTED_ALGORITHM, "csr.key",
                  "the request's key is RSA of %d bits; 2048 to 8192 are accepted", bits);
        snprintf(name, 24, "RSA-%d", bits);
        return VT_OK;
    }
    const char *t = EVP_PKEY_get0_type_name(k);
    return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "csr.key",
                   "the request's key is %s; EC (P-256, P-384, P-521) and RSA are accepted",
                   t ? t : "of an unknown type");
}

/* ECDSA or RSA PKCS#1 v1.5 with SHA-2 (no SHA-1, no MD5, no RSA-PSS), matching the key. */
static enum vt_err csr_sig_alg(const X509_REQ *req, EVP_PKEY *k, struct vt_diag *d)
{
    int nid = X509_REQ_get_signature_nid(req);
    int md = NID_undef, pk = NID_undef;
    const char *sn = OBJ_nid2sn(nid);
    if (!OBJ_find_sigid_algs(nid, &md, &pk) ||
        (md != NID_sha256 && md != NID_sha384 && md != NID_sha512) ||
        (pk != NID_X9_62_id_ecPublicKey && pk != NID_rsaEncryption)) {
        return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "csr.signature_algorithm",
                       "the request is signed with %s; ECDSA or RSA (PKCS#1 v1.5) with SHA-256, "
                       "SHA-384 or SHA-512 is accepted",
                       sn ? sn : "an unknown algorithm");
    }
    bool ec = EVP_PKEY_is_a(k, "EC");
    VT_ENSURE(ec == (pk == NID_X9_62_id_ecPublicKey), d, VT_E_UNSUPPORTED_ALGORITHM,
              "csr.signature_algorithm", "the request is signed with %s but its key is %s", sn,
              ec ? "EC" : "RSA");
    return VT_OK;
}

enum vt_err vt_csr_parse(const uint8_t *p, size_t n, struct vt_csr **out, struct vt_diag *d)
{
    *out = NULL;
    VT_ENSURE(p != NULL && n > 0, d, VT_E_MISSING_FIELD, "csr", "the certificate request is empty");
    VT_ENSURE(n <= VT_MAX_CSR_SIZE, d, VT_E_TOO_LARGE, "csr.size",
              "the certificate request is %zu bytes; the limit is %u", n, VT_MAX_CSR_SIZE);
    uint8_t *pem_der = NULL;
    const uint8_t *der = p;
    size_t der_len = n;
    struct vt_reader r;
    vt_reader_init(&r, p, n);
    vt_crypto_skip_space(&r);
    uint8_t first = 0;
    if (vt_reader_peek_u8(&r, &first) == VT_OK && first == '-') {
        const char *why = "";
        enum vt_err err = vt_crypto_pem_block(&r, "CERTIFICATE REQUEST", VT_MAX_CSR_SIZE, &pem_der,
                                              &der_len, &why);
        VT_ENSURE(err == VT_OK, d, err, "csr.pem", "%s (a \"CERTIFICATE REQUEST\" PEM block)", why);
        if (!vt_crypto_only_tail(&r)) {
            free(pem_der);
            return vt_fail(d, VT_E_TRAILING_DATA, "csr.pem",
                           "%zu bytes follow the certificate request's PEM block",
                           vt_reader_left(&r));
        }
        der = pem_der;
    }
    enum vt_err err = VT_OK;
    const unsigned char *q = der;
    X509_REQ *req = d2i_X509_REQ(NULL, &q, (long)der_len);
    struct vt_csr *c = NULL;
    char why[VT_CRYPTO_ERRTEXT_MAX];
    if (req == NULL) {
        vt_crypto_errors(why, sizeof(why));
        err = vt_fail(d, VT_E_BAD_DER, "csr.der", "not a PKCS#10 certificate request: %s", why);
    } else if ((size_t)(q - der) != der_len) {
        err = vt_fail(d, VT_E_TRAILING_DATA, "csr.der",
                      "%zu bytes follow the certificate request's %zu", der_len - (size_t)(q - der),
                      (size_t)(q - der));
    }
    EVP_PKEY *k = err == VT_OK ? X509_REQ_get0_pubkey(req) : NULL;
    if (err == VT_OK && k == NULL) {
        vt_crypto_errors(why, sizeof(why));
        err = vt_fail(d, VT_E_BAD_KEY, "csr.key", "the request's public key does not decode: %s",
                      why);
    }
    if (err == VT_OK && X509_REQ_get_version(req) != X509_REQ_VERSION_1) {
        err = vt_fail(d, VT_E_UNSUPPORTED_VERSION, "csr.version",
                      "the request's version is %ld; PKCS#10 defines 0 (v1)",
                      X509_REQ_get_version(req));
    }
    if (err == VT_OK && (c = calloc(1, sizeof(*c))) == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "csr", "no memory");
    }
    if (err == VT_OK) {
        err = csr_key(k, c->key, d);
    }
    if (err == VT_OK) {
        err = csr_sig_alg(req, k, d);
    }
    if (err == VT_OK && X509_REQ_verify(req, k) != 1) {
        /* SPEC: RFC 2986 section 3: the signature proves possession of the private key */
        vt_crypto_errors(why, sizeof(why));
        err =
            vt_fail(d, VT_E_SIGNATURE, "csr.signature",
                    "the request's signature does not verify with its own %s key: %s", c->key, why);
    }
    unsigned char *spki = NULL;
    int sn = err == VT_OK ? i2d_PUBKEY(k, &spki) : 0;
    if (err == VT_OK && sn <= 0) {
        vt_crypto_errors(why, sizeof(why));
        err = vt_fail(d, VT_E_CRYPTO, "csr.key", "cannot encode the request's key: %s", why);
    }
    if (err == VT_OK && (c->spki = malloc((size_t)sn)) == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "csr", "no memory");
    }
    if (err == VT_OK) {
        memcpy(c->spki, spki, (size_t)sn);
        c->spki_len = (size_t)sn;
        c->req = req;
        req = NULL;
        *out = c;
        c = NULL;
    }
    OPENSSL_free(spki);
    vt_csr_free(c);
    X509_REQ_free(req);
    free(pem_der);
    return err;
}

/* ---- making certificates ---- */

enum vt_err vt_x509_ca_create(const struct vt_key *k, const char *cn, vt_time not_before,
                              vt_time not_after, const uint8_t serial[16], struct vt_buf *der,
                              struct vt_diag *d)
{
    VT_ENSURE(k != NULL && k->has_private && cn != NULL && der != NULL, d, VT_E_ARG, "x509.ca",
              "a private key, a name and an output are required");
    VT_ENSURE(not_after > not_before, d, VT_E_ARG, "x509.ca", "the validity is empty");
    X509 *x = X509_new();
    enum vt_err err = VT_OK;
    /* SPEC: RFC 5280 4.2.1.9: a CA that issues only end-entity certificates: pathLen 0 */
    if (x == NULL || !vt_x509_set_base(x, serial, 16, cn, NULL, not_before, not_after, k->pkey) ||
        !vt_x509_add_std_ext(NULL, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
        !vt_x509_add_std_ext(NULL, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
        !vt_x509_add_std_ext(NULL, x, NID_subject_key_identifier, "hash")) {
        err = vt_x509_lib_fail(d, "x509.ca", "build the CA certificate");
    }
    if (err == VT_OK) {
        err = vt_x509_sign_der(x, k, NULL, der, "x509.sign", d);
    }
    X509_free(x);
    return err;
}

/* A DNS name for a subjectAltName: letters, digits, '-', '.', a leading "*." wildcard. The
 * names come from the broker's configuration, checked when they are set, and again here. */
bool vt_x509_dns_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253) {
        return false;
    }
    size_t i = 0;
    if (n > 2 && s[0] == '*' && s[1] == '.') {
        i = 2;
    }
    size_t label = 0;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-') { /* no empty label, none ending with '-' */
                return false;
            }
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c == '-' && label > 0);
        if (!ok || ++label > 63) {
            return false;
        }
    }
    return label > 0 && s[n - 1] != '-';
}

/* The extension whose extnValue is the DER UTF8String of text (include/veritee/atls.h). */
static bool add_utf8_ext(X509 *x, const char *oid, const char *text, size_t len)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
    ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
    unsigned char *der = NULL;
    int n = 0;
    bool ok = obj != NULL && s != NULL && val != NULL && len <= INT32_MAX &&
              ASN1_STRING_set(s, text, (int)len) == 1 && (n = i2d_ASN1_UTF8STRING(s, &der)) > 0 &&
              ASN1_OCTET_STRING_set(val, der, n) == 1;
    X509_EXTENSION *e = ok ? X509_EXTENSION_create_by_OBJ(NULL, obj, 0, val) : NULL;
    ok = e != NULL && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    OPENSSL_free(der);
    ASN1_OCTET_STRING_free(val);
    ASN1_UTF8STRING_free(s);
    ASN1_OBJECT_free(obj);
    return ok;
}

enum vt_err vt_x509_issue(const struct vt_key *ca_key, const struct vt_cert *ca,
                          const struct vt_x509_leaf *l, struct vt_buf *der, struct vt_diag *d)
{
    VT_ENSURE(ca_key != NULL && ca_key->has_private && ca != NULL && l != NULL && der != NULL &&
                  l->spki != NULL && l->common_name != NULL && l->serial_len > 0 &&
                  l->serial_len <= 20,
              d, VT_E_ARG, "x509.issue", "a CA key and certificate, a key, a name and a serial");
    VT_ENSURE(l->not_after > l->not_before, d, VT_E_ARG, "x509.issue", "the validity is empty");
    for (size_t i = 0; i < l->n_dns; i++) {
        VT_ENSURE(vt_x509_dns_name_ok(l->dns[i]), d, VT_E_BAD_FIELD, "x509.issue.dns",
                  "\"%.80s\" is not a DNS name", l->dns[i]);
    }
    const unsigned char *q = l->spki;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &q, (long)l->spki_len);
    if (pub == NULL || (size_t)(q - l->spki) != l->spki_len) {
        EVP_PKEY_free(pub);
        return vt_x509_lib_fail(d, "x509.issue.key", "decode the subject's public key");
    }
    X509 *x = X509_new();
    enum vt_err err = VT_OK;
    if (x == NULL ||
        !vt_x509_set_base(x, l->serial, l->serial_len, l->common_name,
                          X509_get_subject_name(ca->x509), l->not_before, l->not_after, pub) ||
        !vt_x509_add_std_ext(ca->x509, x, NID_basic_constraints, "critical,CA:FALSE") ||
        !vt_x509_add_std_ext(ca->x509, x, NID_key_usage,
                             "critical,digitalSignature,keyEncipherment") ||
        !vt_x509_add_std_ext(ca->x509, x, NID_ext_key_usage, "serverAuth,clientAuth") ||
        !vt_x509_add_std_ext(ca->x509, x, NID_subject_key_identifier, "hash") ||
        !vt_x509_add_std_ext(ca->x509, x, NID_authority_key_identifier, "keyid:always") ||
        (l->n_dns > 0 && !vt_x509_add_dns(x, l->dns, l->n_dns)) ||
        (l->ext_oid != NULL && !add_utf8_ext(x, l->ext_oid, l->ext_text, l->ext_len))) {
        err = vt_x509_lib_fail(d, "x509.issue", "build the certificate");
    }
    if (err == VT_OK) {
        err = vt_x509_sign_der(x, ca_key, NULL, der, "x509.sign", d);
    }
    X509_free(x);
    EVP_PKEY_free(pub);
    return err;
}

enum vt_err vt_csr_create(const struct vt_key *k, const char *cn, struct vt_buf *der,
                          struct vt_diag *d)
{
    VT_ENSURE(k != NULL && k->has_private && cn != NULL && der != NULL, d, VT_E_ARG, "csr.create",
              "a private key, a name and an output are required");
    X509_REQ *req = X509_REQ_new();
    const EVP_MD *md = k->alg == VT_KEY_P384 ? EVP_sha384() : EVP_sha256();
    enum vt_err err = VT_OK;
    if (req == NULL || X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
        !vt_x509_name_cn(X509_REQ_get_subject_name(req), cn) ||
        X509_REQ_set_pubkey(req, k->pkey) != 1 || X509_REQ_sign(req, k->pkey, md) <= 0) {
        err = vt_x509_lib_fail(d, "csr.create", "make the certificate request");
    }
    unsigned char *p = NULL;
    int n = err == VT_OK ? i2d_X509_REQ(req, &p) : 0;
    if (err == VT_OK && n <= 0) {
        err = vt_x509_lib_fail(d, "csr.create", "encode the certificate request");
    }
    if (err == VT_OK) {
        err = vt_buf_replace(der, p, (size_t)n);
        if (err != VT_OK) {
            vt_fail(d, err, "csr.create", "cannot hold %d bytes", n);
        }
    }
    OPENSSL_free(p);
    X509_REQ_free(req);
    return err;
}

enum vt_err vt_der_to_pem(const char *label, const uint8_t *der, size_t n, struct vt_buf *out,
                          struct vt_diag *d)
{
    char *b64 = vt_base64_alloc(der, n, false);
    VT_ENSURE(b64 != NULL, d, VT_E_NOMEM, "pem", "no memory");
    size_t len = strlen(b64);
    enum vt_err err = vt_buf_printf(out, "-----BEGIN %s-----\n", label);
    for (size_t i = 0; err == VT_OK && i < len; i += 64) {
        size_t k = len - i < 64 ? len - i : 64;
        err = vt_buf_append(out, b64 + i, k);
        if (err == VT_OK) {
            err = vt_buf_append(out, "\n", 1);
        }
    }
    if (err == VT_OK) {
        err = vt_buf_printf(out, "-----END %s-----\n", label);
    }
    free(b64);
    return err == VT_OK ? VT_OK : vt_fail(d, err, "pem", "cannot hold the PEM text");
}
