/*
 * TLS server connections over OpenSSL (see tls.h). Sockets stay with the caller: the SSL object
 * only borrows the descriptor, and every call is non-blocking, mapped to enum vt_tls_io.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "crypto/crypto_internal.h"
#include "crypto/tls.h"

struct vt_tls_server {
    SSL_CTX *ctx;
};

struct vt_tls_conn {
    SSL *ssl;
};

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    static const unsigned char ours[] = "\x08http/1.1";
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, ours, sizeof(ours) - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_NOACK; /* no ALPN agreement: serve HTTP/1.1 anyway */
    }
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

enum vt_err vt_tls_server_new(const char *cert_pem, const char *key_pem, struct vt_tls_server **out,
                              struct vt_diag *d)
{
    char why[VT_CRYPTO_ERRTEXT_MAX];
    *out = NULL;
    struct vt_tls_server *s = calloc(1, sizeof(*s));
    VT_ENSURE(s != NULL, d, VT_E_NOMEM, "tls", "cannot allocate the TLS context");
    enum vt_err err = VT_OK;
    BIO *cb = BIO_new_mem_buf(cert_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
    X509 *leaf = NULL;
    EVP_PKEY *key = NULL;
    s->ctx = SSL_CTX_new(TLS_server_method());
    if (s->ctx == NULL || cb == NULL || kb == NULL ||
        SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION) != 1) {
        vt_crypto_errors(why, sizeof(why));
        err = vt_fail(d, VT_E_CRYPTO, "tls", "cannot set up TLS: %s", why);
        goto out;
    }
    if ((leaf = PEM_read_bio_X509(cb, NULL, NULL, NULL)) == NULL ||
        SSL_CTX_use_certificate(s->ctx, leaf) != 1) {
        vt_crypto_errors(why, sizeof(why));
        err = vt_fail(d, VT_E_BAD_PEM, "tls.cert", "the TLS certificate is not usable: %s", why);
        goto out;
    }
    X509 *extra;
    while ((extra = PEM_read_bio_X509(cb, NULL, NULL, NULL)) != NULL) {
        if (SSL_CTX_add0_chain_cert(s->ctx, extra) != 1) {
            X509_free(extra);
            vt_crypto_errors(why, sizeof(why));
            err = vt_fail(d, VT_E_BAD_PEM, "tls.cert", "cannot add a chain certificate: %s", why);
            goto out;
        }
    }
    ERR_clear_error(); /* the end of the PEM text */
    if ((key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL)) == NULL ||
        SSL_CTX_use_PrivateKey(s->ctx, key) != 1 || SSL_CTX_check_private_key(s->ctx) != 1) {
        vt_crypto_errors(why, sizeof(why));
        err = vt_fail(d, VT_E_BAD_KEY, "tls.key",
                      "the TLS key is not usable or does not match the certificate: %s", why);
        goto out;
    }
    /* Buffers are released between records: idle connections (4096 of them at the limit) then
     * hold no 34 KB of TLS buffers each; throughput measured the same either way. */
    SSL_CTX_set_mode(s->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                 SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(s->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(s->ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_set_alpn_select_cb(s->ctx, alpn_select, NULL);
out:
    X509_free(leaf);
    EVP_PKEY_free(key);
    BIO_free(cb);
    BIO_free(kb);
    if (err != VT_OK) {
        vt_tls_server_free(s);
        return err;
    }
    *out = s;
    return VT_OK;
}

void vt_tls_server_free(struct vt_tls_server *s)
{
    if (s != NULL) {
        SSL_CTX_free(s->ctx);
        free(s);
    }
}

struct vt_tls_conn *vt_tls_conn_new(struct vt_tls_server *s, int fd)
{
    struct vt_tls_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->ssl = SSL_new(s->ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
        vt_tls_conn_free(c);
        return NULL;
    }
    SSL_set_accept_state(c->ssl);
    return c;
}

void vt_tls_conn_free(struct vt_tls_conn *c)
{
    if (c != NULL) {
        SSL_free(c->ssl);
        free(c);
    }
}

/* Map the result of an SSL call; the error queue is cleared either way (it is per thread, and a
 * worker thread serves many connections). */
static enum vt_tls_io outcome(struct vt_tls_conn *c, int ret)
{
    int e = SSL_get_error(c->ssl, ret);
    ERR_clear_error();
    switch (e) {
    case SSL_ERROR_NONE:
        return VT_TLS_DONE;
    case SSL_ERROR_WANT_READ:
        return VT_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return VT_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        return VT_TLS_CLOSED;
    default:
        return VT_TLS_FAILED;
    }
}

enum vt_tls_io vt_tls_handshake(struct vt_tls_conn *c)
{
    int ret = SSL_do_handshake(c->ssl);
    return ret == 1 ? VT_TLS_DONE : outcome(c, ret);
}

enum vt_tls_io vt_tls_read(struct vt_tls_conn *c, void *buf, size_t cap, size_t *n)
{
    size_t got = 0;
    int ret = SSL_read_ex(c->ssl, buf, cap, &got);
    if (ret == 1) {
        *n = got;
        return VT_TLS_DONE;
    }
    return outcome(c, ret);
}

enum vt_tls_io vt_tls_write(struct vt_tls_conn *c, const void *buf, size_t n, size_t *written)
{
    size_t put = 0;
    int ret = SSL_write_ex(c->ssl, buf, n, &put);
    if (ret == 1) {
        *written = put;
        return VT_TLS_DONE;
    }
    return outcome(c, ret);
}
