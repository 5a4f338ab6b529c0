/*
 * TLS for the HTTP server: an OpenSSL server context from PEM text, and non-blocking connections
 * over a socket the caller owns. Compiled into the service library (libveritee_svc), not into
 * libveritee: the verifier itself never touches the network.
 */
#ifndef VT_CRYPTO_TLS_H
#define VT_CRYPTO_TLS_H

#include <stddef.h>

#include <veritee/error.h>

struct vt_tls_server;
struct vt_tls_conn;

/* The outcome of one non-blocking step. */
enum vt_tls_io {
    VT_TLS_DONE,       /* the step completed (bytes moved, handshake finished) */
    VT_TLS_WANT_READ,  /* wait until the socket is readable, then repeat the step */
    VT_TLS_WANT_WRITE, /* wait until the socket is writable, then repeat the step */
    VT_TLS_CLOSED,     /* the peer closed the connection */
    VT_TLS_FAILED,     /* a protocol or socket error; the connection is unusable */
};

/* A server context: cert_pem is the certificate chain (leaf first), key_pem its private key.
 * TLS 1.2 and 1.3, ALPN http/1.1. VT_E_BAD_PEM or VT_E_BAD_KEY with the library's reason. */
VT_MUST_USE enum vt_err vt_tls_server_new(const char *cert_pem, const char *key_pem,
                                          struct vt_tls_server **out, struct vt_diag *d);
void vt_tls_server_free(struct vt_tls_server *s);

/* A connection on the accepted, non-blocking socket fd (not closed by vt_tls_conn_free). NULL if
 * out of memory. */
struct vt_tls_conn *vt_tls_conn_new(struct vt_tls_server *s, int fd);
void vt_tls_conn_free(struct vt_tls_conn *c);
enum vt_tls_io vt_tls_handshake(struct vt_tls_conn *c);
/* Read up to cap bytes (*n set on VT_TLS_DONE) / write up to n bytes (*written set). */
enum vt_tls_io vt_tls_read(struct vt_tls_conn *c, void *buf, size_t cap, size_t *n);
enum vt_tls_io vt_tls_write(struct vt_tls_conn *c, const void *buf, size_t n, size_t *written);

#endif
