/*
 * veritee-vault: a password vault meant to run inside a TEE, whose pepper never leaves it.
 *
 * At start it attests to the broker (evidence from the attester backend, bound to a fresh
 * runtime key that exists only in this process) and receives its pepper key wrapped to that key.
 * Without the pepper it refuses to serve. Users are stored in its own SQLite file as
 *   salt (16 random bytes), tag = HMAC-SHA-256(pepper, Argon2id(password, salt)),
 * so a stolen database is useless without the pepper, which is never written anywhere. The
 * local HTTP API (JSON) offers register, login and change-password. Passwords and the pepper
 * are never logged and are wiped after use; a restart attests again to get the pepper back.
 * docs: examples/password-vault/README.md.
 *
 * Attested TLS (docs/attested-tls.md, "The vault over attested TLS"): with --tls it serves HTTPS
 * with a certificate that proves what it runs: one carrying the TEE's evidence bound to its key
 * (--tls evidence, vt_atls_cert_create), or one the broker issued after it attested (--tls
 * broker, vt_client_cert). Its client side (`veritee-vault register|login`) connects through
 * libveritee's OpenSSL verify callback (vt_atls_verify_callback) and sends the password only if
 * the server's certificate satisfies a policy naming the approved measurement.
 *
 * It uses libveritee's installed API only (<veritee/veritee.h>: the attester, the broker
 * client, attested TLS) and builds outside the tree with `pkg-config --cflags --libs veritee
 * jansson sqlite3 libssl libcrypto` and -largon2. Its HTTP server is a deliberately small one (one
 * connection at a time, Connection: close, bounded head and body) for 127.0.0.1; the users live in
 * SQLite.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* getopt_long, sockets, strncasecmp under -std=c17 */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <argon2.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>

#include <veritee/veritee.h>

#ifdef VAULT_WITH_SIM
/* The simulator backends ("sim:*") are no installed API: they live in the source tree's static
 * library veritee_sim, which the tree's build of the vault links (for tests/integration/vault.sh)
 * with VAULT_WITH_SIM defined. */
void vt_attester_sim_register(void);
#endif

static const char usage_text[] =
    "Usage: veritee-vault --broker URL --key NAME --backend B --db sqlite:PATH [OPTIONS]\n"
    "       veritee-vault register|login --url https://HOST:PORT --user NAME --policy FILE\n"
    "                     [--broker-ca F] [--trust-anchor F]... [--collateral DIR|URL]\n"
    "\n"
    "A password vault for a TEE: it attests to the veritee broker at start, receives its pepper\n"
    "(key NAME) wrapped to a key only this process holds, and serves on 127.0.0.1:\n"
    "  POST /register        {\"user\",\"password\"}            201, 409 if the user exists\n"
    "  POST /login           {\"user\",\"password\"}            200, 401\n"
    "  POST /change-password {\"user\",\"password\",\"new_password\"}  200, 401\n"
    "  GET  /healthz\n"
    "Without the pepper (the broker refuses the release) it exits with status 1 and serves\n"
    "nothing.\n"
    "\n"
    "Options:\n"
    "  --broker URL       the broker (veritee broker serve / veritee serve)\n"
    "  --ca-file F        pin the broker's CA (https)\n"
    "  --key NAME         the pepper's key name at the broker\n"
    "  --backend B        attester: tsm, nsm, sim:sgx, sim:tdx, sim:snp, sim:nitro\n"
    "  --tsm-root DIR     configfs-tsm directory; --sim-dir DIR: the simulator's PKI\n"
    "  --db sqlite:PATH   the users database\n"
    "  --listen HOST:PORT default 127.0.0.1:8088; port 0 picks one\n"
    "  --port-file F      write the port listened on\n"
    "  --argon-memory KiB Argon2id memory cost (default 19456, OWASP's minimum); --argon-time N\n"
    "                     (default 2)\n"
    "  --self-test        check hashing, storage and the runtime key without a broker; exit\n"
    "  --tls MODE         none (default: plain HTTP), evidence (HTTPS with a certificate\n"
    "                     carrying the TEE's evidence bound to its key) or broker (HTTPS with a\n"
    "                     certificate the broker issues after attesting: --cert-profile P)\n"
    "  --cert-profile P   --tls broker: the broker's certificate profile\n"
    "  --tls-dns NAME     --tls evidence: the certificate's DNS name (default localhost)\n"
    "\n"
    "register, login: the client side. It connects to the vault over TLS, verifies the server's\n"
    "certificate with libveritee (its evidence, or the broker CA's signature and appraisal) and\n"
    "the policy FILE (e.g. {\"version\":1,\"rules\":{\"claim\":\"tdx.mrtd\",\"equals\":\"..\"}}),\n"
    "and only then sends the user and the password (from the environment variable\n"
    "VAULT_PASSWORD, or --password-file F). Exit status: 0 registered / logged in, 1 refused by\n"
    "the vault, 3 the server is not attested or not approved: nothing was sent.\n"
    "  --broker-ca F      trust certificates issued by this broker CA (GET /v1/ca)\n"
    "  --trust-anchor F   extra roots for evidence certificates (the simulators' PKIs)\n"
    "  --collateral X     DCAP collateral for evidence certificates (a directory or URL)\n";

#define SALT_LEN 16
#define HASH_LEN 32
#define PEPPER_MAX 1024

#define MAX_HEAD 16384
#define MAX_BODY 16384

struct vault {
    sqlite3 *db;
    uint8_t pepper[PEPPER_MAX];
    size_t pepper_len;
    uint32_t m_cost, t_cost;
};

static const char schema[] = "CREATE TABLE IF NOT EXISTS users(name TEXT PRIMARY KEY,"
                             " salt BLOB NOT NULL, tag BLOB NOT NULL, updated BIGINT NOT NULL)";

/* tag = HMAC-SHA-256(pepper, Argon2id(password, salt)). */
static bool derive(const struct vault *v, const char *password, const uint8_t salt[SALT_LEN],
                   uint8_t tag[HASH_LEN])
{
    uint8_t h[HASH_LEN];
    int rc = argon2id_hash_raw(v->t_cost, v->m_cost, 1, password, strlen(password), salt, SALT_LEN,
                               h, sizeof(h));
    unsigned int len = 0;
    bool ok = rc == ARGON2_OK &&
              HMAC(EVP_sha256(), v->pepper, (int)v->pepper_len, h, sizeof(h), tag, &len) != NULL &&
              len == HASH_LEN;
    OPENSSL_cleanse(h, sizeof(h));
    return ok;
}

/* One user's salt and tag. *found: the user exists; false on a database error. */
static bool load_user(struct vault *v, const char *user, bool *found, uint8_t salt[SALT_LEN],
                      uint8_t tag[HASH_LEN])
{
    sqlite3_stmt *st = NULL;
    *found = false;
    if (sqlite3_prepare_v2(v->db, "SELECT salt, tag FROM users WHERE name = ?", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_bind_text(st, 1, user, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
        sqlite3_finalize(st);
        return false;
    }
    int rc = sqlite3_step(st);
    bool ok = rc == SQLITE_DONE || rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        const void *s = sqlite3_column_blob(st, 0), *t = sqlite3_column_blob(st, 1);
        /* a malformed row (tampered with) is a user whose password never matches */
        *found = true;
        if (s != NULL && t != NULL && sqlite3_column_bytes(st, 0) == SALT_LEN &&
            sqlite3_column_bytes(st, 1) == HASH_LEN) {
            memcpy(salt, s, SALT_LEN);
            memcpy(tag, t, HASH_LEN);
        } else {
            ok = false;
        }
    }
    sqlite3_finalize(st);
    return ok;
}

/* True if user exists with this password (constant-time tag comparison). */
static bool check(struct vault *v, const char *user, const char *password, bool *exists)
{
    uint8_t salt[SALT_LEN] = {0}, stored[HASH_LEN] = {0}, tag[HASH_LEN];
    bool well_formed = load_user(v, user, exists, salt, stored);
    /* a missing user costs the same hashing as a wrong password */
    bool ok = derive(v, password, salt, tag) && *exists && well_formed &&
              CRYPTO_memcmp(tag, stored, HASH_LEN) == 0;
    OPENSSL_cleanse(tag, sizeof(tag));
    return ok;
}

static bool store_user(struct vault *v, const char *user, const char *password, bool insert)
{
    uint8_t salt[SALT_LEN], tag[HASH_LEN];
    if (RAND_bytes(salt, sizeof(salt)) != 1 || !derive(v, password, salt, tag)) {
        return false;
    }
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(v->db,
                                 insert ? "INSERT INTO users(salt, tag, updated, name)"
                                          " VALUES (?,?,?,?) ON CONFLICT(name) DO NOTHING"
                                        : "UPDATE users SET salt = ?, tag = ?, updated = ?"
                                          " WHERE name = ?",
                                 -1, &st, NULL) == SQLITE_OK &&
              sqlite3_bind_blob(st, 1, salt, SALT_LEN, SQLITE_TRANSIENT) == SQLITE_OK &&
              sqlite3_bind_blob(st, 2, tag, HASH_LEN, SQLITE_TRANSIENT) == SQLITE_OK &&
              sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL)) == SQLITE_OK &&
              sqlite3_bind_text(st, 4, user, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
              sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(v->db) == 1;
    sqlite3_finalize(st);
    OPENSSL_cleanse(tag, sizeof(tag));
    return ok;
}

/* A response: status and a JSON body. */
struct reply {
    unsigned status;
    char *body; /* heap JSON text */
};

static void reply(struct reply *resp, unsigned status, const char *result)
{
    json_t *o = json_pack("{s:s}", "result", result);
    resp->status = status;
    free(resp->body);
    resp->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
}

/* A password field: a string of 1..1024 bytes. */
static const char *password_of(json_t *o, const char *name)
{
    const char *p = json_string_value(json_object_get(o, name));
    return p != NULL && p[0] != '\0' && strlen(p) <= 1024 ? p : NULL;
}

static void wipe_json_strings(json_t *o)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (json_is_string(v)) {
            OPENSSL_cleanse((void *)json_string_value(v), json_string_length(v));
        }
    }
}

static void handler(struct vault *v, const char *method, const char *path, const char *body,
                    size_t n, struct reply *resp)
{
    if (strcmp(path, "/healthz") == 0) {
        reply(resp, 200, "ok");
        return;
    }
    if (strcmp(method, "POST") != 0) {
        reply(resp, 404, "not found");
        return;
    }
    json_t *o = json_loadb(body, n, JSON_REJECT_DUPLICATES, NULL);
    const char *user = json_string_value(json_object_get(o, "user"));
    const char *pw = password_of(o, "password");
    bool exists = false;
    if (user == NULL || user[0] == '\0' || strlen(user) > 256 || pw == NULL) {
        reply(resp, 400, "user and password (1 to 1024 bytes) are required");
    } else if (strcmp(path, "/register") == 0) {
        if (store_user(v, user, pw, true)) {
            reply(resp, 201, "registered");
        } else {
            reply(resp, 409, "the user exists");
        }
    } else if (strcmp(path, "/login") == 0) {
        /* the same answer for an unknown user and a wrong password */
        if (check(v, user, pw, &exists)) {
            reply(resp, 200, "logged in");
        } else {
            reply(resp, 401, "wrong user or password");
        }
    } else if (strcmp(path, "/change-password") == 0) {
        const char *np = password_of(o, "new_password");
        if (np == NULL) {
            reply(resp, 400, "new_password (1 to 1024 bytes) is required");
        } else if (!check(v, user, pw, &exists) || !store_user(v, user, np, false)) {
            reply(resp, 401, "wrong user or password");
        } else {
            reply(resp, 200, "changed");
        }
    } else {
        reply(resp, 404, "not found");
    }
    wipe_json_strings(o);
    json_decref(o);
}

/* ---- a small HTTP/1.1 server for 127.0.0.1: one request per connection ---- */

static const char *status_text(unsigned status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    default:
        return "Internal Server Error";
    }
}

/* A connection: a socket, with TLS over it when the vault serves HTTPS. */
struct conn {
    int fd;
    SSL *ssl; /* NULL: plain HTTP */
};

static ssize_t conn_recv(struct conn *c, void *p, size_t n)
{
    if (c->ssl == NULL) {
        return recv(c->fd, p, n, 0);
    }
    int r = SSL_read(c->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
    if (r > 0) {
        return r;
    }
    ERR_clear_error();
    return SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

static ssize_t conn_send(struct conn *c, const void *p, size_t n)
{
    if (c->ssl == NULL) {
        return send(c->fd, p, n, MSG_NOSIGNAL);
    }
    int w = SSL_write(c->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
    if (w <= 0) {
        ERR_clear_error();
        errno = EIO;
        return -1;
    }
    return w;
}

static bool send_all(struct conn *c, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = conn_send(c, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static void send_reply(struct conn *c, const struct reply *r)
{
    const char *body = r->body ? r->body : "{\"result\":\"error\"}";
    unsigned status = r->body ? r->status : 500;
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, status_text(status), strlen(body));
    if (n > 0 && (size_t)n < sizeof(head) && send_all(c, head, (size_t)n)) {
        (void)send_all(c, body, strlen(body));
    }
}

/* The value of header `name` in the head (lines after the request line), or NULL. */
static const char *header_value(char *head, const char *name)
{
    size_t len = strlen(name);
    for (char *line = strstr(head, "\r\n"); line != NULL; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, name, len) == 0 && line[len] == ':') {
            return line + len + 1 + strspn(line + len + 1, " \t");
        }
    }
    return NULL;
}

/* Read one request (head up to MAX_HEAD, body by Content-Length up to MAX_BODY), answer, close. */
static void serve_one(struct vault *v, struct conn *c)
{
    static char buf[MAX_HEAD + MAX_BODY + 1];
    size_t got = 0, head_len = 0;
    struct reply r = {0};
    char *end = NULL;
    while (end == NULL) {
        if (got == MAX_HEAD) {
            reply(&r, 400, "request head too large");
            goto out;
        }
        ssize_t n = conn_recv(c, buf + got, MAX_HEAD - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            goto out_quiet;
        }
        got += (size_t)n;
        buf[got] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    head_len = (size_t)(end - buf) + 4;
    end[2] = '\0'; /* the head, ending with its last line's CRLF */
    char method[8], path[128];
    if (sscanf(buf, "%7s %127s HTTP/1.", method, path) != 2) {
        reply(&r, 400, "malformed request line");
        goto out;
    }
    const char *cl = header_value(buf, "Content-Length");
    if (header_value(buf, "Transfer-Encoding") != NULL) {
        reply(&r, 400, "send the body with Content-Length");
        goto out;
    }
    char *e = NULL;
    unsigned long want = cl ? strtoul(cl, &e, 10) : 0;
    if (cl != NULL && (e == cl || (*e != '\r' && *e != ' '))) {
        reply(&r, 400, "bad Content-Length");
        goto out;
    }
    if (want > MAX_BODY) {
        reply(&r, 413, "body too large");
        goto out;
    }
    size_t have = got - head_len;
    memmove(buf + MAX_HEAD, buf + head_len, have);
    while (have < want) {
        ssize_t n = conn_recv(c, buf + MAX_HEAD + have, want - have);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            goto out_quiet;
        }
        have += (size_t)n;
    }
    handler(v, method, path, buf + MAX_HEAD, (size_t)want, &r);
    OPENSSL_cleanse(buf + MAX_HEAD, have); /* passwords */
out:
    send_reply(c, &r);
out_quiet:
    free(r.body);
}

/* Listen on host:port (port 0: any), *port gets the port. -1 on failure. */
static int listen_on(const char *host, unsigned *port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)*port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    socklen_t len = sizeof(sa);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void serve(struct vault *v, int lfd, SSL_CTX *tls)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: accept returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct timeval tv = {.tv_sec = 5};
    while (!stop_flag) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            continue;
        }
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        struct conn c = {fd, NULL};
        if (tls != NULL) {
            c.ssl = SSL_new(tls);
            if (c.ssl == NULL || SSL_set_fd(c.ssl, fd) != 1 || SSL_accept(c.ssl) != 1) {
                /* e.g. a client that did not accept this server's attested certificate */
                fprintf(stderr, "veritee-vault: a TLS handshake failed (the client may have "
                                "refused this server's certificate)\n");
                ERR_clear_error();
                SSL_free(c.ssl);
                close(fd);
                continue;
            }
        }
        serve_one(v, &c);
        if (c.ssl != NULL) {
            (void)SSL_shutdown(c.ssl);
            SSL_free(c.ssl);
        }
        close(fd);
    }
}

static bool open_db(struct vault *v, const char *spec)
{
    if (strncmp(spec, "sqlite:", 7) != 0) {
        fprintf(stderr, "veritee-vault: --db takes sqlite:PATH\n");
        return false;
    }
    if (sqlite3_open(spec + 7, &v->db) != SQLITE_OK ||
        sqlite3_exec(v->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "veritee-vault: %s: %s\n", spec + 7,
                v->db ? sqlite3_errmsg(v->db) : "no memory");
        return false;
    }
    return true;
}

/* Without a broker: the password path on a random pepper and an in-memory database, and the
 * runtime key and report data of libveritee's client. */
static int self_test(struct vault *v)
{
    bool ok = RAND_bytes(v->pepper, 32) == 1;
    v->pepper_len = 32;
    v->m_cost = 1024;
    v->t_cost = 1;
    bool exists = false;
    ok = ok && open_db(v, "sqlite::memory:");
    ok = ok && store_user(v, "alice", "correct horse", true);
    ok = ok && !store_user(v, "alice", "again", true);
    ok = ok && check(v, "alice", "correct horse", &exists) && exists;
    ok = ok && !check(v, "alice", "wrong", &exists) && exists;
    ok = ok && !check(v, "bob", "correct horse", &exists) && !exists;
    ok = ok && store_user(v, "alice", "battery staple", false);
    ok = ok && check(v, "alice", "battery staple", &exists);
    ok = ok && !check(v, "alice", "correct horse", &exists);
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_jwk *k = NULL;
    uint8_t nonce[32] = {0}, rd[64] = {0}, zero[64] = {0};
    ok = ok && vt_jwk_generate("P-256", &k, &d) == VT_OK &&
         vt_client_report_data(nonce, k, rd, &d) == VT_OK && memcmp(rd, zero, 64) != 0;
    vt_jwk_free(k);
    sqlite3_close(v->db);
    OPENSSL_cleanse(v->pepper, sizeof(v->pepper));
    printf("veritee-vault: self-test: %s%s%s\n", ok ? "ok" : "FAILED ", ok ? "" : d.check,
           ok ? "" : d.detail);
    return ok ? 0 : 1;
}

/* Attest and receive the pepper; nothing is stored. */
static enum vt_err get_pepper(struct vault *v, const char *url, const char *ca, const char *key,
                              const char *backend, const char *tsm_root, const char *sim_dir,
                              struct vt_client_status *st, struct vt_diag *d)
{
    struct vt_attester_opts ao = {.tsm_root = tsm_root, .sim_dir = sim_dir};
    struct vt_attester *att = NULL;
    struct vt_client *c = NULL;
    struct vt_jwk *rk = NULL;
    struct vt_client_config cfg = {.url = url, .ca_file = ca, .retries = 3, .backoff_ms = 200};
    struct vt_buf secret;
    vt_buf_init(&secret, PEPPER_MAX);
    enum vt_err err = vt_attester_open(backend, &ao, &att, d);
    if (err == VT_OK) {
        err = vt_jwk_generate(vt_attester_tee(att) == VT_TEE_NITRO ? "RSA-2048" : "P-256", &rk, d);
    }
    if (err == VT_OK) {
        err = vt_client_new(&cfg, &c, d);
    }
    if (err == VT_OK) {
        err = vt_client_release(c, key, NULL, vt_client_attester_evidence, att, rk, false, &secret,
                                NULL, NULL, st, d);
    }
    if (err == VT_OK && (secret.len < 16 || secret.len > PEPPER_MAX)) {
        err = vt_fail(d, VT_E_BAD_LENGTH, "pepper", "the pepper has %zu bytes (16 to %d)",
                      secret.len, PEPPER_MAX);
    }
    if (err == VT_OK) {
        memcpy(v->pepper, secret.data, secret.len);
        v->pepper_len = secret.len;
    }
    vt_buf_cleanup(&secret);
    vt_jwk_free(rk);
    vt_client_free(c);
    vt_attester_close(att);
    return err;
}

/* ---- attested TLS: the server's certificate ---- */

static void tls_error(const char *what)
{
    char e[256] = "no detail";
    unsigned long code = ERR_get_error();
    if (code != 0) {
        ERR_error_string_n(code, e, sizeof(e));
    }
    ERR_clear_error();
    fprintf(stderr, "veritee-vault: %s: %s\n", what, e);
}

/* A server context presenting cert_pem (the leaf) with key_pem; NULL (reported) on failure. */
static SSL_CTX *tls_server(const char *cert_pem, const char *key_pem)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    BIO *cb = BIO_new_mem_buf(cert_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
    X509 *x = cb != NULL ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = kb != NULL ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    bool ok = ctx != NULL && x != NULL && k != NULL &&
              SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
              SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, k) == 1 &&
              SSL_CTX_check_private_key(ctx) == 1;
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cb);
    BIO_free(kb);
    if (!ok) {
        tls_error("cannot set up TLS with the attested certificate");
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* The TLS certificate and key (PEM, NUL-terminated): one carrying this TEE's evidence bound to
 * a fresh key (evidence), or one the broker issues for a fresh key once this TEE attested with
 * evidence bound to it (broker). */
static enum vt_err tls_credentials(bool from_broker, const char *url, const char *ca,
                                   const char *profile, const char *dns, const char *backend,
                                   const char *tsm_root, const char *sim_dir, struct vt_buf *cert,
                                   struct vt_buf *key, struct vt_client_status *st,
                                   struct vt_diag *d)
{
    struct vt_attester_opts ao = {.tsm_root = tsm_root, .sim_dir = sim_dir};
    struct vt_attester *att = NULL;
    enum vt_err err = vt_attester_open(backend, &ao, &att, d);
    if (err == VT_OK && !from_broker) {
        const char *names[1] = {dns};
        struct vt_atls_cert_opts o = {.common_name = "veritee-vault", .dns = names, .n_dns = 1};
        err = vt_atls_cert_create(att, &o, cert, key, d);
    } else if (err == VT_OK) {
        struct vt_jwk *k = NULL;
        struct vt_client *c = NULL;
        char *pem = NULL;
        struct vt_client_config cfg = {.url = url, .ca_file = ca, .retries = 3, .backoff_ms = 200};
        err = vt_jwk_generate("P-256", &k, d);
        if (err == VT_OK) {
            err = vt_client_new(&cfg, &c, d);
        }
        if (err == VT_OK) {
            err = vt_client_cert(c, profile, NULL, vt_client_attester_evidence, att, k, &pem, NULL,
                                 st, d);
        }
        if (err == VT_OK) {
            err = vt_buf_append(cert, pem, strlen(pem));
        }
        if (err == VT_OK) {
            err = vt_jwk_private_pem(k, key, d);
        }
        free(pem);
        vt_client_free(c);
        vt_jwk_free(k);
    }
    if (err == VT_OK &&
        (vt_buf_append(cert, "", 1) != VT_OK || vt_buf_append(key, "", 1) != VT_OK)) {
        err = vt_fail(d, VT_E_NOMEM, "tls", "no memory for the certificate");
    }
    vt_attester_close(att);
    return err;
}

/* ---- the client side: register or log in, only to an approved server ---- */

struct client_opts {
    const char *url, *user, *policy, *broker_ca, *collateral, *password_file;
    const char *anchors[9];
    size_t n_anchors;
};

/* "https://HOST:PORT[/]" into host and port. */
static bool parse_url(const char *url, char host[256], char port[8])
{
    if (strncmp(url, "https://", 8) != 0) {
        return false;
    }
    const char *h = url + 8, *colon = strrchr(h, ':');
    if (colon == NULL || colon == h || (size_t)(colon - h) >= 256) {
        return false;
    }
    memcpy(host, h, (size_t)(colon - h));
    host[colon - h] = '\0';
    size_t n = strcspn(colon + 1, "/");
    if (n == 0 || n >= 8 || strspn(colon + 1, "0123456789") != n) {
        return false;
    }
    memcpy(port, colon + 1, n);
    port[n] = '\0';
    return true;
}

static int tcp_connect(const char *host, const char *port)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0) {
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a != NULL && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* The password: $VAULT_PASSWORD or the first line of --password-file (heap; wipe it). */
static char *read_password(const char *file)
{
    if (file == NULL) {
        const char *env = getenv("VAULT_PASSWORD");
        return env != NULL && env[0] != '\0' ? strdup(env) : NULL;
    }
    struct vt_buf b;
    vt_buf_init(&b, 4096);
    struct vt_diag d;
    vt_diag_init(&d);
    char *p = NULL;
    if (vt_file_read(file, &b, &d) == VT_OK && vt_buf_append(&b, "", 1) == VT_OK) {
        p = strndup((const char *)b.data, strcspn((const char *)b.data, "\r\n"));
    }
    vt_buf_cleanup(&b);
    return p;
}

/* One request over the verified connection; *status gets the HTTP status, the body is printed. */
static bool client_request(SSL *ssl, const char *host, const char *path, const char *body,
                           int *status)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     path, host, strlen(body));
    if (n <= 0 || (size_t)n >= sizeof(head) || SSL_write(ssl, head, n) != n ||
        SSL_write(ssl, body, (int)strlen(body)) != (int)strlen(body)) {
        return false;
    }
    static char resp[MAX_HEAD + MAX_BODY + 1];
    size_t got = 0;
    int r;
    while (got < sizeof(resp) - 1 &&
           (r = SSL_read(ssl, resp + got, (int)(sizeof(resp) - 1 - got))) > 0) {
        got += (size_t)r;
    }
    ERR_clear_error();
    resp[got] = '\0';
    if (sscanf(resp, "HTTP/1.%*c %d", status) != 1) {
        return false;
    }
    const char *b = strstr(resp, "\r\n\r\n");
    printf("%s\n", b != NULL ? b + 4 : "");
    return true;
}

static int client_main(const char *sub, int argc, char **argv)
{
    enum { C_URL = 300, C_USER, C_POLICY, C_BROKER_CA, C_ANCHOR, C_COLL, C_PWFILE };
    static const struct option copts[] = {
        {"url", 1, NULL, C_URL},
        {"user", 1, NULL, C_USER},
        {"policy", 1, NULL, C_POLICY},
        {"broker-ca", 1, NULL, C_BROKER_CA},
        {"trust-anchor", 1, NULL, C_ANCHOR},
        {"collateral", 1, NULL, C_COLL},
        {"password-file", 1, NULL, C_PWFILE},
        {"help", 0, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct client_opts o;
    memset(&o, 0, sizeof(o));
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", copts, NULL)) != -1) {
        switch (c) {
        case C_URL:
            o.url = optarg;
            break;
        case C_USER:
            o.user = optarg;
            break;
        case C_POLICY:
            o.policy = optarg;
            break;
        case C_BROKER_CA:
            o.broker_ca = optarg;
            break;
        case C_ANCHOR:
            if (o.n_anchors + 1 >= sizeof(o.anchors) / sizeof(o.anchors[0])) {
                fputs("veritee-vault: too many --trust-anchor\n", stderr);
                return 2;
            }
            o.anchors[o.n_anchors++] = optarg;
            break;
        case C_COLL:
            o.collateral = optarg;
            break;
        case C_PWFILE:
            o.password_file = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return 2;
        }
    }
    char host[256], port[8];
    if (o.url == NULL || o.user == NULL || o.policy == NULL || !parse_url(o.url, host, port)) {
        fputs("veritee-vault: register and login need --url https://HOST:PORT, --user and "
              "--policy\n",
              stderr);
        return 2;
    }
    char *password = read_password(o.password_file);
    if (password == NULL) {
        fputs("veritee-vault: no password (VAULT_PASSWORD or --password-file)\n", stderr);
        return 2;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_buf pol;
    vt_buf_init(&pol, 1u << 20);
    struct vt_policy *policy = NULL;
    struct vt_cert_list *anchors = NULL, *cas = NULL;
    struct vt_collateral_source *src = NULL;
    struct vt_verifier *v = NULL;
    struct vt_atls_ctx *actx = NULL;
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    int fd = -1, rc = 1;
    const char *ca_files[2] = {o.broker_ca, NULL};
    enum vt_err err = vt_file_read(o.policy, &pol, &d);
    if (err == VT_OK) {
        err = vt_policy_compile((const char *)pol.data, pol.len, &policy, &d);
    }
    if (err == VT_OK && o.n_anchors > 0) {
        err = vt_trust_anchors_load(o.anchors, &anchors, &d);
    }
    if (err == VT_OK && o.broker_ca != NULL) {
        err = vt_trust_anchors_load(ca_files, &cas, &d);
    }
    if (err == VT_OK && o.collateral != NULL) {
        err = vt_collateral_source_open(o.collateral, &src, &d);
    }
    if (err == VT_OK) {
        struct vt_verifier_config vc = {.trust_anchors = anchors, .collateral = src};
        err = vt_verifier_new(&vc, &v, &d);
    }
    if (err == VT_OK) {
        /* the policy naming the approved measurement, and the broker CA (if any) */
        struct vt_atls_verify_opts ao = {.policy = policy, .broker_cas = cas};
        err = vt_atls_ctx_new(v, &ao, 0, &actx, &d);
    }
    if (err != VT_OK) {
        fprintf(stderr, "veritee-vault: %s: %s\n", d.check, d.detail);
        rc = 2;
        goto out;
    }
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        tls_error("cannot set up TLS");
        goto out;
    }
    /* every peer certificate goes through libveritee: evidence or broker CA, then the policy */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(ctx, vt_atls_verify_callback, actx);
    if ((fd = tcp_connect(host, port)) < 0) {
        fprintf(stderr, "veritee-vault: cannot connect to %s:%s\n", host, port);
        goto out;
    }
    ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_set_tlsext_host_name(ssl, host) != 1) {
        tls_error("cannot set up TLS");
        goto out;
    }
    if (SSL_connect(ssl) != 1) {
        ERR_clear_error();
        struct vt_diag why;
        vt_diag_init(&why);
        enum vt_err verr = vt_atls_ctx_last(actx, &why, NULL);
        fprintf(stderr,
                "veritee-vault: %s is not an approved vault (%s: %s: %s); the password was not "
                "sent\n",
                o.url, vt_strerror(verr), why.check, why.detail);
        rc = 3;
        goto out;
    }
    /* the callback checked what the server runs; the name must be the one asked for too */
    X509 *peer = SSL_get1_peer_certificate(ssl);
    bool named = peer != NULL && X509_check_host(peer, host, 0, 0, NULL) == 1;
    X509_free(peer);
    if (!named) {
        fprintf(stderr,
                "veritee-vault: %s: the attested certificate is not for the name %s; the password "
                "was not sent\n",
                o.url, host);
        rc = 3;
        goto out;
    }
    char *claims = NULL;
    (void)vt_atls_ctx_last(actx, NULL, &claims);
    json_t *cj = claims != NULL ? json_loads(claims, 0, NULL) : NULL;
    const char *tee = json_string_value(json_object_get(cj, "tee"));
    fprintf(stderr, "veritee-vault: %s is attested (%s) and satisfies %s\n", o.url,
            tee != NULL ? tee : "?", o.policy);
    json_decref(cj);
    free(claims);
    json_t *req = json_pack("{s:s,s:s}", "user", o.user, "password", password);
    char *body = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
    wipe_json_strings(req);
    json_decref(req);
    int status = 0;
    if (body == NULL ||
        !client_request(ssl, host, strcmp(sub, "register") == 0 ? "/register" : "/login", body,
                        &status)) {
        fprintf(stderr, "veritee-vault: the request failed\n");
    } else {
        rc = status == 200 || status == 201 ? 0 : 1;
    }
    if (body != NULL) {
        OPENSSL_cleanse(body, strlen(body));
    }
    free(body);
out:
    if (ssl != NULL) {
        (void)SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (fd >= 0) {
        close(fd);
    }
    vt_atls_ctx_free(actx);
    vt_verifier_free(v);
    vt_collateral_source_free(src);
    vt_trust_anchors_free(anchors);
    vt_trust_anchors_free(cas);
    vt_policy_free(policy);
    vt_buf_cleanup(&pol);
    OPENSSL_cleanse(password, strlen(password));
    free(password);
    return rc;
}

int main(int argc, char **argv)
{
    enum {
        O_BROKER = 256,
        O_CA,
        O_KEY,
        O_BACKEND,
        O_TSM,
        O_SIM,
        O_DB,
        O_LISTEN,
        O_PORT,
        O_MEM,
        O_TIME,
        O_SELF_TEST,
        O_TLS,
        O_PROFILE,
        O_TLS_DNS
    };
    static const struct option opts[] = {
        {"broker", 1, NULL, O_BROKER},
        {"ca-file", 1, NULL, O_CA},
        {"key", 1, NULL, O_KEY},
        {"backend", 1, NULL, O_BACKEND},
        {"tsm-root", 1, NULL, O_TSM},
        {"sim-dir", 1, NULL, O_SIM},
        {"db", 1, NULL, O_DB},
        {"listen", 1, NULL, O_LISTEN},
        {"port-file", 1, NULL, O_PORT},
        {"argon-memory", 1, NULL, O_MEM},
        {"argon-time", 1, NULL, O_TIME},
        {"self-test", 0, NULL, O_SELF_TEST},
        {"tls", 1, NULL, O_TLS},
        {"cert-profile", 1, NULL, O_PROFILE},
        {"tls-dns", 1, NULL, O_TLS_DNS},
        {"help", 0, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *broker = NULL, *ca = NULL, *key = NULL, *backend = NULL, *tsm = NULL, *sim = NULL;
    const char *db = NULL, *listen = "127.0.0.1:8088", *port_file = NULL;
    const char *tls_mode = "none", *profile = NULL, *tls_dns = "localhost";
#ifdef VAULT_WITH_SIM
    vt_attester_sim_register();
#endif
    if (argc > 1 && (strcmp(argv[1], "register") == 0 || strcmp(argv[1], "login") == 0)) {
        return client_main(argv[1], argc - 1, argv + 1);
    }
    struct vault v = {.m_cost = 19456, .t_cost = 2};
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case O_BROKER:
            broker = optarg;
            break;
        case O_CA:
            ca = optarg;
            break;
        case O_KEY:
            key = optarg;
            break;
        case O_BACKEND:
            backend = optarg;
            break;
        case O_TSM:
            tsm = optarg;
            break;
        case O_SIM:
            sim = optarg;
            break;
        case O_DB:
            db = optarg;
            break;
        case O_LISTEN:
            listen = optarg;
            break;
        case O_PORT:
            port_file = optarg;
            break;
        case O_MEM:
            v.m_cost = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case O_TIME:
            v.t_cost = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case O_SELF_TEST:
            return self_test(&v);
        case O_TLS:
            tls_mode = optarg;
            break;
        case O_PROFILE:
            profile = optarg;
            break;
        case O_TLS_DNS:
            tls_dns = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return 2;
        }
    }
    bool tls_evidence = strcmp(tls_mode, "evidence") == 0,
         tls_broker = strcmp(tls_mode, "broker") == 0;
    if (broker == NULL || key == NULL || backend == NULL || db == NULL || v.m_cost < 8 ||
        v.t_cost < 1 || (!tls_evidence && !tls_broker && strcmp(tls_mode, "none") != 0) ||
        (tls_broker && profile == NULL)) {
        fputs(usage_text, stderr);
        return 2;
    }
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_client_status st = {0};
    if (get_pepper(&v, broker, ca, key, backend, tsm, sim, &st, &d) != VT_OK) {
        fprintf(stderr, "veritee-vault: no pepper, not serving: %s: %s\n", d.check, d.detail);
        return 1;
    }
    fprintf(stderr, "veritee-vault: attested; pepper received (%zu bytes, kept in memory only)\n",
            v.pepper_len);
    char host[64];
    const char *colon = strrchr(listen, ':');
    if (colon == NULL || (size_t)(colon - listen) >= sizeof(host)) {
        OPENSSL_cleanse(v.pepper, sizeof(v.pepper));
        fputs(usage_text, stderr);
        return 2;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    unsigned port = (unsigned)strtoul(colon + 1, NULL, 10);
    int rc = 0, lfd = -1;
    SSL_CTX *tls = NULL;
    if (tls_evidence || tls_broker) {
        struct vt_buf cert, tkey;
        vt_buf_init(&cert, 1u << 20);
        vt_buf_init(&tkey, 1u << 16);
        if (tls_credentials(tls_broker, broker, ca, profile, tls_dns, backend, tsm, sim, &cert,
                            &tkey, &st, &d) != VT_OK) {
            fprintf(stderr, "veritee-vault: no attested TLS certificate, not serving: %s: %s\n",
                    d.check, d.detail);
            rc = 1;
        } else if ((tls = tls_server((const char *)cert.data, (const char *)tkey.data)) == NULL) {
            rc = 1;
        } else {
            fprintf(stderr, "veritee-vault: TLS with %s\n",
                    tls_broker ? "a certificate from the broker's CA"
                               : "a certificate carrying this TEE's evidence");
        }
        vt_buf_cleanup(&cert);
        vt_buf_cleanup(&tkey);
    }
    if (rc != 0) {
        /* reported above */
    } else if (!open_db(&v, db)) {
        rc = 1;
    } else if ((lfd = listen_on(host, &port)) < 0) {
        fprintf(stderr, "veritee-vault: cannot listen on %s: %s\n", listen, strerror(errno));
        rc = 1;
    } else {
        if (port_file != NULL) {
            char tmp[4096];
            snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
            FILE *f = fopen(tmp, "w");
            if (f == NULL || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 ||
                rename(tmp, port_file) != 0) {
                fprintf(stderr, "veritee-vault: cannot write %s\n", port_file);
            }
        }
        fprintf(stderr, "veritee-vault: serving on %s://%s:%u\n", tls ? "https" : "http", host,
                port);
        serve(&v, lfd, tls);
        close(lfd);
    }
    SSL_CTX_free(tls);
    sqlite3_close(v.db);
    OPENSSL_cleanse(v.pepper, sizeof(v.pepper));
    return rc;
}
