/*
 * Attested TLS handshakes per second on loopback, beside the verification floor measured in the
 * same run (docs/performance.md "Attested TLS").
 *
 *   bench_atls [SECONDS]   (default 2 s per figure)
 *
 * For each simulator (SGX RA-TLS, TDX RA-TLS, SEV-SNP CMW, Nitro CMW) a server thread in this
 * process serves an attested certificate (P-256 key) over TLS 1.3; a client connects again and
 * again, a full handshake each time (no session resumption):
 *  - plain handshake: SSL_VERIFY_NONE, nothing checked (the TLS floor);
 *  - first connection: a new vt_atls_ctx for every connection, so the callback verifies the
 *    certificate's evidence (vt_atls_verify_cert) every time;
 *  - cached: one vt_atls_ctx, so after the first connection the callback hashes the certificate
 *    and finds it in the cache;
 * beside the floors: vt_verify of the certificate's evidence with the same warm verifier, and
 * vt_atls_verify_cert alone (evidence, binding, claims JSON; no handshake). The handshake figures
 * are measured in turns, three rounds each, and the best round is printed (the machine may be
 * shared: the best round is the least disturbed one).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "attester/sim/sim_attester.h"
#include "internal.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct server {
    SSL_CTX *ctx;
    int fd, port;
    atomic_bool stop;
    pthread_t thread;
};

static void *serve(void *arg)
{
    struct server *s = arg;
    while (!atomic_load(&s->stop)) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0) {
            continue;
        }
        SSL *ssl = SSL_new(s->ctx);
        SSL_set_fd(ssl, c);
        if (SSL_accept(ssl) == 1) {
            char b;
            (void)SSL_read(ssl, &b, 1);
        }
        SSL_free(ssl);
        close(c);
        ERR_clear_error();
    }
    return NULL;
}

static int connect_once(SSL_CTX *cctx, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)port)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return 0;
    }
    SSL *ssl = SSL_new(cctx);
    SSL_set_fd(ssl, fd);
    int ok = SSL_connect(ssl) == 1;
    if (ok) {
        (void)SSL_write(ssl, "x", 1);
    }
    SSL_free(ssl);
    close(fd);
    ERR_clear_error();
    return ok;
}

struct bench {
    struct vt_verifier *v;
    int port;
};

/* Handshakes per second; fresh_ctx: a new vt_atls_ctx per connection; plain: no verification. */
static double handshakes(struct bench *b, double seconds, bool plain, bool fresh_ctx,
                         unsigned long *failed)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    struct vt_atls_verify_opts o = {0};
    struct vt_atls_ctx *actx = NULL;
    if (plain) {
        SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
        if (!fresh_ctx && vt_atls_ctx_new(b->v, &o, 0, &actx, NULL) != VT_OK) {
            SSL_CTX_free(c);
            return 0;
        }
        SSL_CTX_set_cert_verify_callback(c, vt_atls_verify_callback, actx);
    }
    unsigned long n = 0;
    double start = now_s(), end = start + seconds;
    while (now_s() < end) {
        if (fresh_ctx) {
            if (vt_atls_ctx_new(b->v, &o, 0, &actx, NULL) != VT_OK) {
                break;
            }
            SSL_CTX_set_cert_verify_callback(c, vt_atls_verify_callback, actx);
        }
        if (connect_once(c, b->port)) {
            n++;
        } else {
            (*failed)++;
        }
        if (fresh_ctx) {
            vt_atls_ctx_free(actx);
            actx = NULL;
        }
    }
    double rate = (double)n / (now_s() - start);
    vt_atls_ctx_free(actx);
    SSL_CTX_free(c);
    return rate;
}

/* vt_verify of the certificate's evidence (the floor), and vt_atls_verify_cert alone. */
static void floors(struct bench *b, const uint8_t *der, size_t len, double seconds,
                   double *verify_rate, double *cert_rate, unsigned long *failed)
{
    struct vt_cert *cert = NULL;
    if (vt_cert_from_der(der, len, &cert, NULL) != VT_OK) {
        (*failed)++;
        return;
    }
    const uint8_t *val = NULL;
    size_t n = 0;
    struct vt_atls_evidence ev = {0};
    for (size_t i = 0; i < vt_cert_ext_count(cert); i++) {
        char oid[128];
        if (vt_cert_ext_at(cert, i, oid, sizeof(oid), NULL, &val, &n) == VT_OK &&
            vt_atls_oid_format(oid, NULL) != VT_ATLS_NONE) {
            (void)!vt_atls_ext_read(vt_atls_oid_format(oid, NULL), val, n, &ev, NULL);
        }
    }
    struct vt_claims *c = malloc(sizeof(*c));
    struct vt_verify_opts vo = {.now = vt_time_now(), .vek = ev.vcek, .vek_len = ev.vcek_len};
    unsigned long k = 0;
    double start = now_s(), end = start + seconds;
    while (c != NULL && ev.evidence != NULL && now_s() < end) {
        if (vt_verify(b->v, ev.evidence, ev.evidence_len, &vo, c, NULL) != VT_OK) {
            (*failed)++;
            break;
        }
        k++;
    }
    *verify_rate = (double)k / (now_s() - start);
    struct vt_atls_verify_opts ao = {.now = vt_time_now()};
    k = 0;
    start = now_s();
    end = start + seconds;
    while (now_s() < end) {
        char *claims = NULL;
        if (vt_atls_verify_cert(b->v, der, len, &ao, &claims, NULL, NULL) != VT_OK) {
            (*failed)++;
            break;
        }
        free(claims);
        k++;
    }
    *cert_rate = (double)k / (now_s() - start);
    free(c);
    vt_cert_free(cert);
}

static int sh(const char *a, const char *b, const char *c)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "%s '%s' '%s'", a, b, c);
    return system(cmd);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 2.0;
    signal(SIGPIPE, SIG_IGN);
    vt_attester_sim_register();
    char tmp[] = "/tmp/vt-bench-atls-XXXXXX";
    if (mkdtemp(tmp) == NULL) {
        return 1;
    }
    static const char *const backends[] = {"sim:sgx", "sim:tdx", "sim:snp", "sim:nitro"};
    static const char *const names[] = {"SGX, RA-TLS  ", "TDX, RA-TLS  ", "SEV-SNP, CMW ",
                                        "Nitro, CMW   "};
    struct vt_attester *att[4] = {0};
    char anchor[4][256], coll[128];
    const char *files[5] = {0};
    snprintf(coll, sizeof(coll), "%s/coll", tmp);
    int rc = sh("mkdir -p", coll, coll);
    for (int i = 0; i < 4 && rc == 0; i++) {
        char pki[128], exp[128], from[256], to[256];
        snprintf(pki, sizeof(pki), "%s/pki-%d", tmp, i);
        snprintf(exp, sizeof(exp), "%s/exp-%d", tmp, i);
        struct vt_attester_opts ao = {.sim_dir = pki};
        if (vt_attester_open(backends[i], &ao, &att[i], NULL) != VT_OK ||
            vt_attester_sim_export(att[i], exp, NULL) != VT_OK) {
            rc = 1;
            break;
        }
        const char *tee = vt_tee_name(vt_attester_tee(att[i]));
        snprintf(anchor[i], sizeof(anchor[i]), "%.200s/anchors/%.32s.pem", exp, tee);
        files[i] = anchor[i];
        if (i < 2) {
            snprintf(from, sizeof(from), "%s/collateral/%s", exp, tee);
            snprintf(to, sizeof(to), "%s/%s", coll, tee);
            rc = sh("cp -r", from, to);
        } else if (i == 2) {
            snprintf(from, sizeof(from), "%s/collateral/snp/cert_chain.pem", exp);
            rc = sh("cp", from, coll);
        }
    }
    struct vt_cert_list *anchors = NULL;
    struct vt_collateral_source *src = NULL;
    struct bench b = {0};
    if (rc != 0 || vt_trust_anchors_load(files, &anchors, NULL) != VT_OK ||
        vt_collateral_source_dir(coll, &src, NULL) != VT_OK ||
        vt_verifier_new(&(struct vt_verifier_config){.trust_anchors = anchors,
                                                     .collateral = src,
                                                     .collateral_ttl = VT_VERIFIER_TTL_FOREVER},
                        &b.v, NULL) != VT_OK) {
        fprintf(stderr, "bench_atls: cannot set up the simulators and the verifier\n");
        return 1;
    }
    struct vt_bench_result p256;
    if (vt_bench_p256(1, seconds, &p256, NULL) != VT_OK) {
        return 1;
    }
    printf("attested TLS on loopback, TLS 1.3, P-256 certificates, %.0f s per figure, one client "
           "thread, one server thread\n",
           seconds);
    printf("  raw P-256 verify: %.0f /s\n", p256.per_second);
    printf("  %-13s %12s %12s %12s %12s %12s %12s\n", "evidence", "verify floor", "cert verify",
           "plain hs", "first conn", "cached", "cached/plain");
    unsigned long failed = 0;
    for (int i = 0; i < 4; i++) {
        struct vt_buf cert, key;
        vt_buf_init(&cert, 1u << 20);
        vt_buf_init(&key, 1u << 16);
        struct vt_atls_cert_opts co = {0};
        if (vt_atls_cert_create(att[i], &co, &cert, &key, NULL) != VT_OK) {
            failed++;
            continue;
        }
        BIO *bio = BIO_new_mem_buf(cert.data, (int)cert.len);
        X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
        bio = BIO_new_mem_buf(key.data, (int)key.len);
        EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        BIO_free(bio);
        unsigned char *der = NULL;
        int der_len = i2d_X509(x, &der);
        struct server s = {.ctx = SSL_CTX_new(TLS_server_method())};
        SSL_CTX_use_certificate(s.ctx, x);
        SSL_CTX_use_PrivateKey(s.ctx, k);
        SSL_CTX_set_session_cache_mode(s.ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_num_tickets(s.ctx, 0);
        s.fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof(a);
        if (bind(s.fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s.fd, 64) != 0 ||
            getsockname(s.fd, (struct sockaddr *)&a, &al) != 0 ||
            pthread_create(&s.thread, NULL, serve, &s) != 0) {
            return 1;
        }
        b.port = ntohs(a.sin_port);
        double vf = 0, cf = 0;
        floors(&b, der, (size_t)der_len, seconds, &vf, &cf, &failed);
        /* the machine is shared: the three handshake figures are measured in turns, three
         * rounds of a third of the time each, and the best round of each is kept */
        double plain = 0, first = 0, cached = 0;
        for (int round = 0; round < 3; round++) {
            double r = handshakes(&b, seconds / 3, true, false, &failed);
            plain = r > plain ? r : plain;
            r = handshakes(&b, seconds / 3, false, true, &failed);
            first = r > first ? r : first;
            r = handshakes(&b, seconds / 3, false, false, &failed);
            cached = r > cached ? r : cached;
        }
        printf("  %s %10.0f/s %10.0f/s %10.0f/s %10.0f/s %10.0f/s %12.3f\n", names[i], vf, cf,
               plain, first, cached, plain > 0 ? cached / plain : 0);
        atomic_store(&s.stop, true);
        /* wake a server blocked in accept with a bare TCP connection (it may have seen the flag
         * already: nothing then answers, so no TLS here) */
        int wake = socket(AF_INET, SOCK_STREAM, 0);
        if (wake >= 0) {
            (void)!connect(wake, (struct sockaddr *)&a, sizeof(a));
            close(wake);
        }
        pthread_join(s.thread, NULL);
        close(s.fd);
        SSL_CTX_free(s.ctx);
        OPENSSL_free(der);
        X509_free(x);
        EVP_PKEY_free(k);
        vt_buf_cleanup(&cert);
        vt_buf_cleanup(&key);
    }
    printf("  failed: %lu\n", failed);
    vt_verifier_free(b.v);
    vt_collateral_source_free(src);
    vt_trust_anchors_free(anchors);
    for (int i = 0; i < 4; i++) {
        vt_attester_close(att[i]);
    }
    if (strstr(tmp, "vt-bench-atls-") != NULL) {
        (void)sh("rm -rf", tmp, tmp);
    }
    return failed == 0 ? 0 : 1;
}
