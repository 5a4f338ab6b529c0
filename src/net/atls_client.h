/*
 * An attested TLS client connection (docs/attested-tls.md "Clients"): connect to host:port, run
 * the TLS handshake with vt_atls_verify_callback over a vt_atls_ctx, report what was negotiated.
 * For `veritee client connect` and the benchmark; links libssl, so it lives in the service
 * library, never in libveritee.
 */
#ifndef VT_NET_ATLS_CLIENT_H
#define VT_NET_ATLS_CLIENT_H

#include <veritee/atls.h>

struct vt_atls_conn_info {
    char protocol[32];          /* "TLSv1.3" */
    char cipher[64];            /* "TLS_AES_256_GCM_SHA384" */
    char subject[256];          /* the peer certificate's subject, one line */
    uint8_t cert_sha256[32];    /* SHA-256 of the peer certificate's DER */
    enum vt_atls_format format; /* the attestation extension's format */
};

/* A client TLS context (TLS 1.2 or later) that verifies servers through ctx (borrowed; must
 * outlive it). Opaque; vt_atls_client_free is NULL-safe. */
struct vt_atls_client;
VT_MUST_USE enum vt_err vt_atls_client_new(struct vt_atls_ctx *ctx, struct vt_atls_client **out,
                                           struct vt_diag *d);
void vt_atls_client_free(struct vt_atls_client *c);

/*
 * Connect to host:port (servername for SNI, NULL: host), handshake, then close. VT_OK once the
 * handshake succeeded (the callback accepted the server), info filled. Errors: VT_E_IO
 * ("atls.connect": resolution, connection; "atls.handshake": TLS failed for another reason than
 * the certificate, OpenSSL's reason in the detail), or the refusal as vt_atls_ctx_last gives it
 * (its code and check).
 */
VT_MUST_USE enum vt_err vt_atls_client_connect(struct vt_atls_client *c, const char *host,
                                               const char *port, const char *servername,
                                               struct vt_atls_conn_info *info, struct vt_diag *d);

#endif
