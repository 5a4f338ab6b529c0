/*
 * An attested TLS client connection (atls_client.h).
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"
#include "crypto/x509_make.h"
#include "net/atls_client.h"
#include "verify/atls_format.h"

#define ATLS_CLIENT_TIMEOUT_S 10

struct vt_atls_client {
    SSL_CTX *ssl_ctx;
    struct vt_atls_ctx *ctx;
};

enum vt_err vt_atls_client_new(struct vt_atls_ctx *ctx, struct vt_atls_client **out,
                               struct vt_diag *d)
{
    VT_ENSURE(ctx != NULL && out != NULL, d, VT_E_ARG, "atls.client", "no context or output");
    *out = NULL;
    struct vt_atls_client *c = calloc(1, sizeof(*c));
    VT_ENSURE(c != NULL, d, VT_E_NOMEM, "atls.client", "no memory");
    c->ctx = ctx;
    c->ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (c->ssl_ctx == NULL || SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION) != 1) {
        ERR_clear_error();
        vt_atls_client_free(c);
        return vt_fail(d, VT_E_CRYPTO, "atls.client", "cannot set up a TLS client context");
    }
    SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(c->ssl_ctx, vt_atls_verify_callback, ctx);
    *out = c;
    return VT_OK;
}

void vt_atls_client_free(struct vt_atls_client *c)
{
    if (c != NULL) {
        SSL_CTX_free(c->ssl_ctx);
        free(c);
    }
}

static enum vt_err dial(const char *host, const char *port, int *fd, struct vt_diag *d)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    VT_ENSURE(rc == 0, d, VT_E_IO, "atls.connect", "cannot resolve %s port %s: %s", host, port,
              gai_strerror(rc));
    *fd = -1;
    char why[128] = "no address";
    for (struct addrinfo *ai = res; ai != NULL && *fd < 0; ai = ai->ai_next) {
        int s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (s < 0) {
            snprintf(why, sizeof(why), "socket: %s", strerror(errno));
            continue;
        }
        struct timeval tv = {.tv_sec = ATLS_CLIENT_TIMEOUT_S};
        (void)setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void)setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0) {
            *fd = s;
        } else {
            snprintf(why, sizeof(why), "connect: %s", strerror(errno));
            close(s);
        }
    }
    freeaddrinfo(res);
    VT_ENSURE(*fd >= 0, d, VT_E_IO, "atls.connect", "cannot connect to %s port %s: %s", host, port,
              why);
    return VT_OK;
}

static void fill_info(SSL *ssl, struct vt_atls_conn_info *info)
{
    memset(info, 0, sizeof(*info));
    snprintf(info->protocol, sizeof(info->protocol), "%s", SSL_get_version(ssl));
    snprintf(info->cipher, sizeof(info->cipher), "%s", SSL_get_cipher_name(ssl));
    X509 *peer = SSL_get0_peer_certificate(ssl);
    if (peer == NULL) {
        return;
    }
    X509_NAME_oneline(X509_get_subject_name(peer), info->subject, (int)sizeof(info->subject));
    unsigned char *der = NULL;
    int n = i2d_X509(peer, &der);
    if (n <= 0) {
        ERR_clear_error();
        return;
    }
    vt_sha256(der, (size_t)n, info->cert_sha256);
    struct vt_cert *c = NULL;
    if (vt_cert_from_der(der, (size_t)n, &c, NULL) == VT_OK) {
        for (size_t i = 0; i < vt_cert_ext_count(c) && info->format == VT_ATLS_NONE; i++) {
            char oid[128];
            const uint8_t *v = NULL;
            size_t len = 0;
            if (vt_cert_ext_at(c, i, oid, sizeof(oid), NULL, &v, &len) == VT_OK) {
                info->format = vt_atls_oid_format(oid, NULL);
            }
        }
        vt_cert_free(c);
    }
    OPENSSL_free(der);
}

enum vt_err vt_atls_client_connect(struct vt_atls_client *c, const char *host, const char *port,
                                   const char *servername, struct vt_atls_conn_info *info,
                                   struct vt_diag *d)
{
    VT_ENSURE(c != NULL && host != NULL && port != NULL && info != NULL, d, VT_E_ARG, "atls.client",
              "a client, host, port and output are needed");
    int fd = -1;
    VT_TRY(dial(host, port, &fd, d));
    SSL *ssl = SSL_new(c->ssl_ctx);
    enum vt_err err = VT_OK;
    char sni[256];
    snprintf(sni, sizeof(sni), "%s", servername != NULL ? servername : host);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_set_tlsext_host_name(ssl, sni) != 1) {
        ERR_clear_error();
        err = vt_fail(d, VT_E_CRYPTO, "atls.client", "cannot set up the TLS connection");
    } else if (SSL_connect(ssl) != 1) {
        if (SSL_get_verify_result(ssl) == X509_V_ERR_APPLICATION_VERIFICATION) {
            struct vt_diag last;
            vt_diag_init(&last);
            err = vt_atls_ctx_last(c->ctx, &last, NULL);
            if (d != NULL) {
                *d = last;
            }
        } else {
            unsigned long e = ERR_peek_last_error();
            char why[256];
            ERR_error_string_n(e, why, sizeof(why));
            err = vt_fail(d, VT_E_IO, "atls.handshake", "the TLS handshake with %s:%s failed: %s",
                          host, port, e != 0 ? why : "the connection closed");
        }
        ERR_clear_error();
    } else {
        fill_info(ssl, info);
        (void)SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    close(fd);
    return err;
}
