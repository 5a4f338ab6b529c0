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
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <argon2.h>
#include <jansson.h>
#include <openssl/hmac.h>

#include <veritee/veritee.h>

#include "client/client.h"
#include "net/http.h"
#include "store/store.h"

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
    "                     (default 2)\n";

#define SALT_LEN 16
#define HASH_LEN 32
#define PEPPER_MAX 1024

struct vault {
    struct vt_store *store;
    uint8_t pepper[PEPPER_MAX];
    size_t pepper_len;
    uint32_t m_cost, t_cost;
};

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

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
    vt_wipe(h, sizeof(h));
    return ok;
}

struct user_row {
    bool found;
    uint8_t salt[SALT_LEN], tag[HASH_LEN];
    bool well_formed;
};

static bool row_user(void *ctx, const struct vt_sql_row *row)
{
    struct user_row *u = ctx;
    size_t sn = 0, tn = 0;
    const uint8_t *s = vt_row_blob(row, 0, &sn), *t = vt_row_blob(row, 1, &tn);
    u->found = true;
    u->well_formed = s != NULL && t != NULL && sn == SALT_LEN && tn == HASH_LEN;
    if (u->well_formed) {
        memcpy(u->salt, s, SALT_LEN);
        memcpy(u->tag, t, HASH_LEN);
    }
    return false;
}

/* True if user exists with this password (constant-time tag comparison). */
static bool check(struct vault *v, const char *user, const char *password, bool *exists)
{
    struct user_row u = {0};
    struct vt_sql_arg a[] = {VT_SQL_T(user)};
    if (vt_store_exec(v->store, "SELECT salt, tag FROM users WHERE name = ?", a, 1, row_user, &u,
                      NULL, NULL) != VT_OK) {
        return false;
    }
    *exists = u.found;
    uint8_t tag[HASH_LEN];
    /* a missing user costs the same hashing as a wrong password */
    bool ok = derive(v, password, u.salt, tag) && u.found && u.well_formed &&
              vt_ct_memeq(tag, u.tag, HASH_LEN);
    vt_wipe(tag, sizeof(tag));
    return ok;
}

static bool store_user(struct vault *v, const char *user, const char *password, bool insert)
{
    uint8_t salt[SALT_LEN], tag[HASH_LEN];
    if (vt_random_bytes(salt, sizeof(salt), NULL) != VT_OK || !derive(v, password, salt, tag)) {
        return false;
    }
    struct vt_sql_arg a[] = {VT_SQL_B(salt, SALT_LEN), VT_SQL_B(tag, HASH_LEN),
                             VT_SQL_I(vt_time_now()), VT_SQL_T(user)};
    int64_t changes = 0;
    enum vt_err err =
        vt_store_exec(v->store,
                      insert ? "INSERT INTO users(salt, tag, updated, name) VALUES (?,?,?,?)"
                               " ON CONFLICT(name) DO NOTHING"
                             : "UPDATE users SET salt = ?, tag = ?, updated = ? WHERE name = ?",
                      a, 4, NULL, NULL, &changes, NULL);
    vt_wipe(tag, sizeof(tag));
    return err == VT_OK && changes == 1;
}

static void reply(struct vt_http_resp *resp, unsigned status, const char *result)
{
    vt_http_json_reply(resp, status, json_pack("{s:s}", "result", result));
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
            vt_wipe((void *)json_string_value(v), json_string_length(v));
        }
    }
}

static void handler(void *ctx, const struct vt_http_req *req, struct vt_http_resp *resp)
{
    struct vault *v = ctx;
    const char *path = vt_http_req_path(req);
    if (strcmp(path, "/healthz") == 0) {
        reply(resp, 200, "ok");
        return;
    }
    if (strcmp(vt_http_req_method(req), "POST") != 0) {
        reply(resp, 404, "not found");
        return;
    }
    size_t n = 0;
    const uint8_t *body = vt_http_req_body(req, &n);
    json_t *o = body ? json_loadb((const char *)body, n, JSON_REJECT_DUPLICATES, NULL) : NULL;
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
        O_TIME
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
        {"help", 0, NULL, 'h'},
        {NULL, 0, NULL, 0},
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
    vt_attester_sim_register();
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_client_status st = {0};
    if (get_pepper(&v, broker, ca, key, backend, tsm, sim, &st, &d) != VT_OK) {
        fprintf(stderr, "veritee-vault: no pepper, not serving: %s: %s\n", d.check, d.detail);
        return 1;
    }
    fprintf(stderr, "veritee-vault: attested; pepper received (%zu bytes, kept in memory only)\n",
            v.pepper_len);
    if (vt_store_open(db, schema, &v.store, &d) != VT_OK) {
        fprintf(stderr, "veritee-vault: %s\n", d.detail);
        vt_wipe(v.pepper, sizeof(v.pepper));
        return 1;
    }
    char host[64];
    const char *colon = strrchr(listen, ':');
    struct vt_http_server_opts so = {.threads = 2, .max_body = 16384};
    if (colon == NULL || (size_t)(colon - listen) >= sizeof(host)) {
        fputs(usage_text, stderr);
        return 2;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    so.host = host;
    so.port = (unsigned)strtoul(colon + 1, NULL, 10);
    struct vt_http_server *srv = NULL;
    int rc = 0;
    if (vt_http_server_start(&so, handler, &v, &srv, &d) != VT_OK) {
        fprintf(stderr, "veritee-vault: %s\n", d.detail);
        rc = 1;
    } else {
        unsigned port = vt_http_server_port(srv);
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
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        while (!stop_flag) {
            pause();
        }
        vt_http_server_stop(srv);
    }
    vt_store_close(v.store);
    vt_wipe(v.pepper, sizeof(v.pepper));
    return rc;
}
