/* The Confidential Containers guest's side of the KBS protocol for the tests (kbs_guest.h). */
#include "kbs_guest.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

static uint64_t le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) {
        v = (v << 8) | p[i];
    }
    return v;
}

static json_t *bytes(const uint8_t *p, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(a, json_integer(p[i]));
    }
    return a;
}

/* TcbVersion: the legacy layout BL, TEE, -, -, -, -, SNP, UCODE (fmc None) or Turin's FMC, BL,
 * TEE, SNP, -, -, -, UCODE. */
static json_t *tcb(const uint8_t *b, bool turin)
{
    return turin ? json_pack("{s:i,s:i,s:i,s:i,s:i}", "fmc", b[0], "bootloader", b[1], "tee", b[2],
                             "snp", b[3], "microcode", b[7])
                 : json_pack("{s:n,s:i,s:i,s:i,s:i}", "fmc", "bootloader", b[0], "tee", b[1], "snp",
                             b[6], "microcode", b[7]);
}

static json_t *version(const uint8_t *b)
{
    return json_pack("{s:i,s:i,s:i}", "major", b[2], "minor", b[1], "build", b[0]);
}

json_t *kbs_guest_snp_report(const uint8_t r[VT_SNP_REPORT_SIZE])
{
    uint32_t ver = (uint32_t)le(r, 4);
    if (ver < 2) {
        return NULL;
    }
    int variant = ver == 2 ? 2 : ver <= 4 ? 3 : 5;
    bool turin;
    if (variant == 2) { /* the product from CHIP_ID: Turin's is 8 bytes */
        bool zero = true;
        bool tail = true;
        for (size_t i = 0; i < 64; i++) {
            zero = zero && r[0x1a0 + i] == 0;
            tail = tail && (i < 8 || r[0x1a0 + i] == 0);
        }
        if (zero) {
            return NULL;
        }
        turin = tail;
    } else {
        uint8_t fam = r[0x188], model = r[0x189];
        if (fam == 0x19 && (model <= 0x1f || (model >= 0xa0 && model <= 0xaf))) {
            turin = false;
        } else if (fam == 0x1a && model <= 0x11) {
            turin = true;
        } else {
            return NULL;
        }
    }
    json_t *o = json_object();
    json_object_set_new(o, "version", json_integer(ver));
    json_object_set_new(o, "guest_svn", json_integer((json_int_t)le(r + 0x04, 4)));
    json_object_set_new(o, "policy", json_integer((json_int_t)le(r + 0x08, 8)));
    json_object_set_new(o, "family_id", bytes(r + 0x10, 16));
    json_object_set_new(o, "image_id", bytes(r + 0x20, 16));
    json_object_set_new(o, "vmpl", json_integer((json_int_t)le(r + 0x30, 4)));
    json_object_set_new(o, "sig_algo", json_integer((json_int_t)le(r + 0x34, 4)));
    json_object_set_new(o, "current_tcb", tcb(r + 0x38, turin));
    json_object_set_new(o, "plat_info", json_integer((json_int_t)le(r + 0x40, 8)));
    json_object_set_new(o, "key_info", json_integer((json_int_t)le(r + 0x48, 4)));
    json_object_set_new(o, "report_data", bytes(r + 0x50, 64));
    json_object_set_new(o, "measurement", bytes(r + 0x90, 48));
    json_object_set_new(o, "host_data", bytes(r + 0xc0, 32));
    json_object_set_new(o, "id_key_digest", bytes(r + 0xe0, 48));
    json_object_set_new(o, "author_key_digest", bytes(r + 0x110, 48));
    json_object_set_new(o, "report_id", bytes(r + 0x140, 32));
    json_object_set_new(o, "report_id_ma", bytes(r + 0x160, 32));
    json_object_set_new(o, "reported_tcb", tcb(r + 0x180, turin));
    static const char *const cpuid[3] = {"cpuid_fam_id", "cpuid_mod_id", "cpuid_step"};
    for (size_t i = 0; i < 3; i++) {
        json_object_set_new(o, cpuid[i], variant == 2 ? json_null() : json_integer(r[0x188 + i]));
    }
    json_object_set_new(o, "chip_id", bytes(r + 0x1a0, 64));
    json_object_set_new(o, "committed_tcb", tcb(r + 0x1e0, turin));
    json_object_set_new(o, "current", version(r + 0x1e8));
    json_object_set_new(o, "committed", version(r + 0x1ec));
    json_object_set_new(o, "launch_tcb", tcb(r + 0x1f0, turin));
    json_object_set_new(o, "launch_mit_vector",
                        variant == 5 ? json_integer((json_int_t)le(r + 0x1f8, 8)) : json_null());
    json_object_set_new(o, "current_mit_vector",
                        variant == 5 ? json_integer((json_int_t)le(r + 0x200, 8)) : json_null());
    json_object_set_new(
        o, "signature",
        json_pack("{s:o,s:o}", "r", bytes(r + 0x2a0, 72), "s", bytes(r + 0x2e8, 72)));
    return o;
}

json_t *kbs_guest_cert_entry(const char *type, const uint8_t *der, size_t n)
{
    return json_pack("{s:s,s:o}", "cert_type", type, "data", bytes(der, n));
}

/* ---- decryption ---- */

static uint8_t *unb64u(const char *s, size_t *n)
{
    size_t len = s ? strlen(s) : 0;
    uint8_t *out = malloc(len + 4);
    if (out == NULL || s == NULL || vt_base64_decode(s, len, true, out, len + 4, n) != VT_OK) {
        free(out);
        return NULL;
    }
    return out;
}

static EVP_PKEY *private_key(const struct vt_jwk *key)
{
    struct vt_buf pem;
    vt_buf_init(&pem, 64 * 1024);
    EVP_PKEY *p = NULL;
    if (vt_jwk_private_pem(key, &pem, NULL) == VT_OK) {
        BIO *b = BIO_new_mem_buf(pem.data, (int)pem.len);
        p = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
        BIO_free(b);
    }
    vt_buf_cleanup(&pem);
    return p;
}

/* The CEK from ECDH-ES+A256KW with the epk: Z = ECDH x coordinate at full width, KEK = Concat
 * KDF SHA-256 (AlgorithmID "ECDH-ES+A256KW", empty PartyUInfo/PartyVInfo, 256 bits), AES-256 key
 * unwrap. */
static bool ecdh_cek(EVP_PKEY *priv, const json_t *epk, const uint8_t *ek, size_t ekn,
                     uint8_t cek[32])
{
    const char *crv = json_string_value(json_object_get(epk, "crv"));
    const char *group = crv == NULL                 ? NULL
                        : strcmp(crv, "P-256") == 0 ? "prime256v1"
                        : strcmp(crv, "P-384") == 0 ? "secp384r1"
                        : strcmp(crv, "P-521") == 0 ? "secp521r1"
                                                    : NULL;
    size_t xn = 0, yn = 0;
    uint8_t *x = unb64u(json_string_value(json_object_get(epk, "x")), &xn);
    uint8_t *y = unb64u(json_string_value(json_object_get(epk, "y")), &yn);
    bool ok = group != NULL && x != NULL && y != NULL && xn == yn && xn <= 66;
    uint8_t pt[1 + 2 * 66];
    EVP_PKEY *peer = NULL;
    if (ok) {
        pt[0] = 0x04;
        memcpy(pt + 1, x, xn);
        memcpy(pt + 1 + xn, y, yn);
        OSSL_PARAM params[3] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
            OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * xn),
            OSSL_PARAM_construct_end()};
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        ok = c != NULL && EVP_PKEY_fromdata_init(c) == 1 &&
             EVP_PKEY_fromdata(c, &peer, EVP_PKEY_PUBLIC_KEY, params) == 1;
        EVP_PKEY_CTX_free(c);
    }
    uint8_t z[66];
    size_t zn = sizeof(z);
    if (ok) {
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(priv, NULL);
        ok = c != NULL && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, peer) == 1 &&
             EVP_PKEY_derive(c, z, &zn) == 1 && zn == xn;
        EVP_PKEY_CTX_free(c);
    }
    uint8_t kek[32];
    if (ok) {
        static const char alg[] = "ECDH-ES+A256KW";
        uint8_t info[4 + sizeof(alg) - 1 + 4 + 4 + 4] = {0, 0, 0, (uint8_t)(sizeof(alg) - 1)};
        memcpy(info + 4, alg, sizeof(alg) - 1);
        info[sizeof(info) - 2] = 0x01; /* keydatalen 256, big-endian */
        uint8_t counter[4] = {0, 0, 0, 1};
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned int hn = 0;
        ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(md, counter, 4) == 1 && EVP_DigestUpdate(md, z, zn) == 1 &&
             EVP_DigestUpdate(md, info, sizeof(info)) == 1 &&
             EVP_DigestFinal_ex(md, kek, &hn) == 1 && hn == 32;
        EVP_MD_CTX_free(md);
    }
    if (ok) {
        EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
        int n1 = 0, n2 = 0;
        uint8_t out[64];
        if (c != NULL) {
            EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
        }
        ok = c != NULL && ekn == 40 &&
             EVP_DecryptInit_ex(c, EVP_aes_256_wrap(), NULL, kek, NULL) == 1 &&
             EVP_DecryptUpdate(c, out, &n1, ek, (int)ekn) == 1 &&
             EVP_DecryptFinal_ex(c, out + n1, &n2) == 1 && n1 + n2 == 32;
        if (ok) {
            memcpy(cek, out, 32);
        }
        EVP_CIPHER_CTX_free(c);
    }
    EVP_PKEY_free(peer);
    free(x);
    free(y);
    return ok;
}

uint8_t *kbs_guest_jwe_decrypt(const json_t *jwe, const struct vt_jwk *key, size_t *n,
                               const char **why)
{
    *n = 0;
    const char *m[5] = {"protected", "encrypted_key", "iv", "ciphertext", "tag"};
    const char *v[5];
    for (size_t i = 0; i < 5; i++) {
        v[i] = json_string_value(json_object_get(jwe, m[i]));
        if (v[i] == NULL) {
            *why = "a member of the flattened JWE is missing";
            return NULL;
        }
    }
    size_t hn = 0, ekn = 0, ivn = 0, ctn = 0, tagn = 0;
    uint8_t *h = unb64u(v[0], &hn);
    uint8_t *ek = unb64u(v[1], &ekn);
    uint8_t *iv = unb64u(v[2], &ivn);
    uint8_t *ct = unb64u(v[3], &ctn);
    uint8_t *tag = unb64u(v[4], &tagn);
    json_t *hdr = h ? json_loadb((const char *)h, hn, 0, NULL) : NULL;
    /* the AAD: the protected header re-serialized (alg, enc, then the other members sorted) */
    char *again = hdr ? json_dumps(hdr, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char aad[4096] = "";
    if (again != NULL) {
        (void)!vt_base64_encode((const uint8_t *)again, strlen(again), true, aad, sizeof(aad));
    }
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    const char *enc = json_string_value(json_object_get(hdr, "enc"));
    uint8_t cek[32];
    bool ok = ek && iv && ct && tag && hdr && alg && enc && strcmp(enc, "A256GCM") == 0 &&
              ivn == 12 && tagn == 16;
    *why = ok ? NULL : "the JWE is malformed";
    EVP_PKEY *priv = ok ? private_key(key) : NULL;
    if (ok && strcmp(alg, "RSA-OAEP-256") == 0) {
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(priv, NULL);
        size_t cn = sizeof(cek);
        uint8_t buf[1024];
        cn = sizeof(buf);
        ok = c != NULL && EVP_PKEY_decrypt_init(c) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) == 1 &&
             EVP_PKEY_decrypt(c, buf, &cn, ek, ekn) == 1 && cn == 32;
        if (ok) {
            memcpy(cek, buf, 32);
        }
        EVP_PKEY_CTX_free(c);
        *why = ok ? NULL : "RSA-OAEP-256 does not recover a CEK";
    } else if (ok && strcmp(alg, "ECDH-ES+A256KW") == 0) {
        ok = ecdh_cek(priv, json_object_get(hdr, "epk"), ek, ekn, cek);
        *why = ok ? NULL : "ECDH-ES+A256KW does not recover a CEK";
    } else if (ok) {
        ok = false;
        *why = "unexpected alg";
    }
    uint8_t *pt = ok ? malloc(ctn + 1) : NULL;
    if (pt != NULL) {
        EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
        int n1 = 0, n2 = 0, an = 0;
        ok = c != NULL && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, cek, iv) == 1 &&
             EVP_DecryptUpdate(c, NULL, &an, (const uint8_t *)aad, (int)strlen(aad)) == 1 &&
             EVP_DecryptUpdate(c, pt, &n1, ct, (int)ctn) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1 &&
             EVP_DecryptFinal_ex(c, pt + n1, &n2) == 1;
        EVP_CIPHER_CTX_free(c);
        if (!ok) {
            free(pt);
            pt = NULL;
            *why = "AES-256-GCM does not authenticate (AAD or tag)";
        } else {
            *n = (size_t)(n1 + n2);
        }
    }
    EVP_PKEY_free(priv);
    free(again);
    json_decref(hdr);
    free(h);
    free(ek);
    free(iv);
    free(ct);
    free(tag);
    return pt;
}
