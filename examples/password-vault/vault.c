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
 * It uses libveritee's installed API only (<veritee/veritee.h>: the attester and the broker
 * client) and builds outside the tree with `pkg-config --cflags --libs veritee jansson sqlite3
 * libcrypto` and -largon2. Its HTTP server is a deliberately small one (one connection at a time,
 * Connection: close, bounded head and body) for 127.0.0.1; the users live in SQLite.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* getopt_long, sockets, strncasecmp under -std=c17 */
#endif
#include <arpa/inet.h>
#include <errno.h>
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
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
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
    "  --self-test        check hashing, storage and the runtime key without a broker; exit\n";

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

static bool send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
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

static void send_reply(int fd, const struct reply *r)
{
    const char *body = r->body ? r->body : "{\"result\":\"error\"}";
    unsigned status = r->body ? r->status : 500;
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, status_text(status), strlen(body));
    if (n > 0 && (size_t)n < sizeof(head) && send_all(fd, head, (size_t)n)) {
        (void)send_all(fd, body, strlen(body));
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
static void serve_one(struct vault *v, int fd)
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
        ssize_t n = recv(fd, buf + got, MAX_HEAD - got, 0);
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
        ssize_t n = recv(fd, buf + MAX_HEAD + have, want - have, 0);
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
    send_reply(fd, &r);
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

static void serve(struct vault *v, int lfd)
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
        serve_one(v, fd);
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
        O_SELF_TEST
    };
    static const struct option opts[] = {
        {"broker", 1, NULL, O_BROKER},   {"ca-file", 1, NULL, O_CA},
        {"key", 1, NULL, O_KEY},         {"backend", 1, NULL, O_BACKEND},
        {"tsm-root", 1, NULL, O_TSM},    {"sim-dir", 1, NULL, O_SIM},
        {"db", 1, NULL, O_DB},           {"listen", 1, NULL, O_LISTEN},
        {"port-file", 1, NULL, O_PORT},  {"argon-memory", 1, NULL, O_MEM},
        {"argon-time", 1, NULL, O_TIME}, {"self-test", 0, NULL, O_SELF_TEST},
        {"help", 0, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *broker = NULL, *ca = NULL, *key = NULL, *backend = NULL, *tsm = NULL, *sim = NULL;
    const char *db = NULL, *listen = "127.0.0.1:8088", *port_file = NULL;
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
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return 2;
        }
    }
    if (broker == NULL || key == NULL || backend == NULL || db == NULL || v.m_cost < 8 ||
        v.t_cost < 1) {
        fputs(usage_text, stderr);
        return 2;
    }
#ifdef VAULT_WITH_SIM
    vt_attester_sim_register();
#endif
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
    if (!open_db(&v, db)) {
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
        fprintf(stderr, "veritee-vault: serving on http://%s:%u\n", host, port);
        serve(&v, lfd);
        close(lfd);
    }
    sqlite3_close(v.db);
    OPENSSL_cleanse(v.pepper, sizeof(v.pepper));
    return rc;
}
