/*
 * Real TLS handshakes with vt_atls_verify_callback: an OpenSSL server in a thread serving an
 * attested certificate, a client verifying it through a vt_atls_ctx. Accepted with a matching
 * policy; refused with a wrong one (the handshake fails and vt_atls_ctx_last says why);
 * repeated connections hit the cache; mutual attestation (the server checks the client's
 * certificate with the same callback).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "atls_harness.h"

static struct atls_harness H;

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN); /* a peer that hung up after refusing */
    ah_setup(&H);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ah_teardown(&H);
    return 0;
}

struct server {
    SSL_CTX *ctx;
    int fd;
    int port;
    int conns; /* connections to serve */
    int accepted;
    pthread_t thread;
};

static SSL_CTX *ctx_with_cert(const SSL_METHOD *m, const struct vt_buf *cert,
                              const struct vt_buf *key)
{
    SSL_CTX *c = SSL_CTX_new(m);
    assert_non_null(c);
    BIO *b = BIO_new_mem_buf(cert->data, (int)cert->len);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    b = BIO_new_mem_buf(key->data, (int)key->len);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_int_equal(SSL_CTX_use_certificate(c, x), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(c, k), 1);
    X509_free(x);
    EVP_PKEY_free(k);
    return c;
}

static void *serve(void *arg)
{
    struct server *s = arg;
    for (int i = 0; i < s->conns; i++) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0) {
            break;
        }
        SSL *ssl = SSL_new(s->ctx);
        SSL_set_fd(ssl, c);
        if (SSL_accept(ssl) == 1) {
            s->accepted++;
            char buf[8];
            if (SSL_read(ssl, buf, sizeof(buf)) > 0) {
                (void)SSL_write(ssl, "ok", 2);
            }
            SSL_shutdown(ssl);
        }
        SSL_free(ssl);
        close(c);
    }
    return NULL;
}

static void server_start(struct server *s, SSL_CTX *ctx, int conns)
{
    memset(s, 0, sizeof(*s));
    s->ctx = ctx;
    s->conns = conns;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->fd, 8), 0);
    socklen_t l = sizeof(a);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &l), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
    pthread_join(s->thread, NULL);
    close(s->fd);
    SSL_CTX_free(s->ctx);
}

/* One client connection; returns whether the handshake and an exchange succeeded. */
static bool connect_once(SSL_CTX *cctx, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)port)};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    SSL *ssl = SSL_new(cctx);
    SSL_set_fd(ssl, fd);
    bool ok = SSL_connect(ssl) == 1;
    if (ok) {
        char buf[8];
        ok = SSL_write(ssl, "hi", 2) == 2 && SSL_read(ssl, buf, sizeof(buf)) == 2;
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    close(fd);
    ERR_clear_error();
    return ok;
}

static SSL_CTX *client_ctx(struct vt_atls_ctx *actx)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    assert_non_null(c);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(c, vt_atls_verify_callback, actx);
    return c;
}

static struct vt_policy *policy(const char *json)
{
    struct vt_policy *p = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_policy_compile(json, strlen(json), &p, &d), d);
    return p;
}

static void make(int att, struct vt_buf *cert, struct vt_buf *key)
{
    vt_buf_init(cert, 1u << 20);
    vt_buf_init(key, 1u << 16);
    struct vt_diag d;
    vt_diag_init(&d);
    const char *dns[] = {"localhost"};
    struct vt_atls_cert_opts o = {.dns = dns, .n_dns = 1};
    AV_OK(vt_atls_cert_create(H.att[att], &o, cert, key, &d), d);
}

static void handshakes(int att, const char *tee)
{
    struct vt_buf cert, key;
    make(att, &cert, &key);
    char good[200], bad[200];
    snprintf(good, sizeof(good), "{\"version\":1,\"rules\":{\"claim\":\"tee\",\"equals\":\"%s\"}}",
             tee);
    snprintf(bad, sizeof(bad),
             "{\"version\":1,\"rules\":{\"not\":{\"claim\":\"tee\",\"equals\":"
             "\"%s\"}}}",
             tee);
    struct vt_policy *pg = policy(good), *pb = policy(bad);
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_atls_verify_opts o = {.policy = pg};
    struct vt_atls_ctx *ag = NULL, *ab = NULL;
    AV_OK(vt_atls_ctx_new(H.v, &o, 0, &ag, &d), d);
    o.policy = pb;
    AV_OK(vt_atls_ctx_new(H.v, &o, 0, &ab, &d), d);
    struct server s;
    server_start(&s, ctx_with_cert(TLS_server_method(), &cert, &key), 5);
    SSL_CTX *cg = client_ctx(ag), *cb = client_ctx(ab);
    /* accepted, three times: one verification, two cache hits */
    for (int i = 0; i < 3; i++) {
        assert_true(connect_once(cg, s.port));
    }
    char *claims = NULL;
    AV_OK(vt_atls_ctx_last(ag, &d, &claims), d);
    char needle[64];
    snprintf(needle, sizeof(needle), "\"tee\":\"%s\"", tee);
    assert_non_null(strstr(claims, needle));
    free(claims);
    uint64_t hits = 0, misses = 0;
    vt_atls_ctx_stats(ag, &hits, &misses);
    assert_int_equal(misses, 1);
    assert_int_equal(hits, 2);
    /* refused by the policy, twice (never cached) */
    for (int i = 0; i < 2; i++) {
        assert_false(connect_once(cb, s.port));
        AV_CHECK(vt_atls_ctx_last(ab, &d, &claims), d, VT_E_BINDING, "atls.policy");
        assert_null(claims);
    }
    vt_atls_ctx_stats(ab, &hits, &misses);
    assert_int_equal(misses, 2);
    assert_int_equal(hits, 0);
    server_stop(&s);
    assert_int_equal(s.accepted, 3);
    SSL_CTX_free(cg);
    SSL_CTX_free(cb);
    vt_atls_ctx_free(ag);
    vt_atls_ctx_free(ab);
    vt_policy_free(pg);
    vt_policy_free(pb);
    vt_buf_cleanup(&cert);
    vt_buf_cleanup(&key);
}

static void test_sgx(void **state)
{
    (void)state;
    handshakes(AH_SGX, "sgx");
}

static void test_tdx(void **state)
{
    (void)state;
    handshakes(AH_TDX, "tdx");
}

static void test_snp(void **state)
{
    (void)state;
    handshakes(AH_SNP, "sev-snp");
}

static void test_nitro(void **state)
{
    (void)state;
    handshakes(AH_NITRO, "nitro");
}

/* A server that is no TEE (a plain self-signed certificate): refused, "atls.extension". */
static void test_plain_server(void **state)
{
    (void)state;
    struct vt_key *k = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_x509_key_generate("P-256", &k, &d), d);
    vt_time now = vt_time_now();
    struct vt_x509_template t = {
        .common_name = "plain", .not_before = now - 10, .not_after = now + 600};
    struct vt_buf cert, key;
    vt_buf_init(&cert, 1u << 20);
    vt_buf_init(&key, 1u << 16);
    AV_OK(vt_x509_self_signed(k, &t, &cert, &d), d);
    AV_OK(vt_key_private_pem(k, &key, &d), d);
    struct vt_atls_verify_opts o = {0};
    struct vt_atls_ctx *a = NULL;
    AV_OK(vt_atls_ctx_new(H.v, &o, 0, &a, &d), d);
    struct server s;
    server_start(&s, ctx_with_cert(TLS_server_method(), &cert, &key), 1);
    SSL_CTX *c = client_ctx(a);
    assert_false(connect_once(c, s.port));
    AV_CHECK(vt_atls_ctx_last(a, &d, NULL), d, VT_E_CERT_EXTENSION, "atls.extension");
    server_stop(&s);
    SSL_CTX_free(c);
    vt_atls_ctx_free(a);
    vt_key_free(k);
    vt_buf_cleanup(&cert);
    vt_buf_cleanup(&key);
}

/* Mutual attestation: the SNP server requires the client's certificate and checks it (an SGX
 * one) with the callback; the client checks the server's. */
static void test_mutual(void **state)
{
    (void)state;
    struct vt_buf scert, skey, ccert, ckey;
    make(AH_SNP, &scert, &skey);
    make(AH_SGX, &ccert, &ckey);
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_atls_verify_opts o = {0};
    struct vt_atls_ctx *sa = NULL, *ca = NULL;
    AV_OK(vt_atls_ctx_new(H.v, &o, 0, &sa, &d), d);
    AV_OK(vt_atls_ctx_new(H.v, &o, 0, &ca, &d), d);
    SSL_CTX *sctx = ctx_with_cert(TLS_server_method(), &scert, &skey);
    SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_cert_verify_callback(sctx, vt_atls_verify_callback, sa);
    struct server s;
    server_start(&s, sctx, 2);
    SSL_CTX *cctx = ctx_with_cert(TLS_client_method(), &ccert, &ckey);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(cctx, vt_atls_verify_callback, ca);
    assert_true(connect_once(cctx, s.port));
    /* a client without a certificate is refused by the server */
    SSL_CTX *bare = client_ctx(ca);
    assert_false(connect_once(bare, s.port));
    server_stop(&s);
    assert_int_equal(s.accepted, 1);
    uint64_t hits = 0, misses = 0;
    vt_atls_ctx_stats(sa, &hits, &misses);
    assert_int_equal(misses, 1); /* the server verified the SGX client once */
    SSL_CTX_free(cctx);
    SSL_CTX_free(bare);
    vt_atls_ctx_free(sa);
    vt_atls_ctx_free(ca);
    vt_buf_cleanup(&scert);
    vt_buf_cleanup(&skey);
    vt_buf_cleanup(&ccert);
    vt_buf_cleanup(&ckey);
}

/* Several client threads through one context: every connection accepted, each thread sees its
 * own last outcome, the cache counts every verification once (two threads missing at once may
 * both verify). */
struct client_thread {
    SSL_CTX *c;
    struct vt_atls_ctx *a;
    int port, conns, ok;
    enum vt_err last;
};

static void *client_run(void *arg)
{
    struct client_thread *t = arg;
    for (int i = 0; i < t->conns; i++) {
        t->ok += connect_once(t->c, t->port) ? 1 : 0;
    }
    struct vt_diag d;
    char *claims = NULL;
    t->last = vt_atls_ctx_last(t->a, &d, &claims);
    if (claims == NULL || strstr(claims, "\"tee\":\"nitro\"") == NULL) {
        t->last = VT_E_INTERNAL;
    }
    free(claims);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct vt_buf cert, key;
    make(AH_NITRO, &cert, &key);
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_atls_verify_opts o = {0};
    struct vt_atls_ctx *a = NULL;
    AV_OK(vt_atls_ctx_new(H.v, &o, 0, &a, &d), d);
    enum { THREADS = 4, EACH = 5 };
    struct server s;
    server_start(&s, ctx_with_cert(TLS_server_method(), &cert, &key), THREADS * EACH);
    SSL_CTX *c = client_ctx(a);
    struct client_thread t[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        t[i] = (struct client_thread){.c = c, .a = a, .port = s.port, .conns = EACH};
        assert_int_equal(pthread_create(&th[i], NULL, client_run, &t[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(t[i].ok, EACH);
        assert_int_equal(t[i].last, VT_OK);
    }
    server_stop(&s);
    uint64_t hits = 0, misses = 0;
    vt_atls_ctx_stats(a, &hits, &misses);
    assert_int_equal(hits + misses, THREADS * EACH);
    assert_true(misses >= 1 && misses <= THREADS);
    /* this thread verified nothing through a */
    AV_CHECK(vt_atls_ctx_last(a, &d, NULL), d, VT_E_STATE, "atls.last");
    SSL_CTX_free(c);
    vt_atls_ctx_free(a);
    vt_buf_cleanup(&cert);
    vt_buf_cleanup(&key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgx),          cmocka_unit_test(test_tdx),
        cmocka_unit_test(test_snp),          cmocka_unit_test(test_nitro),
        cmocka_unit_test(test_plain_server), cmocka_unit_test(test_mutual),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
