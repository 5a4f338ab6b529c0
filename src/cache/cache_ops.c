/*
 * Cache operations beyond serving: the refresher, signed offline bundles, the bundle-signing
 * key, and the impact report of a TCB recovery.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cache/cache.h"
#include "crypto/aead.h"
#include "store/master_key.h"
#include "store/replicas.h"

/* ---- refresh ---- */

struct key_list {
    char (*keys)[VT_CACHE_KEY_MAX];
    size_t n, cap;
};

static bool row_key(void *ctx, const struct vt_sql_row *row)
{
    struct key_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        void *p = realloc(l->keys, cap * sizeof(*l->keys));
        if (p == NULL) {
            return false;
        }
        l->keys = p;
        l->cap = cap;
    }
    snprintf(l->keys[l->n++], VT_CACHE_KEY_MAX, "%s", vt_row_text(row, 0));
    return true;
}

enum vt_err vt_cache_refresh(struct vt_cache *c, size_t *renewed, size_t *failed, struct vt_diag *d)
{
    *renewed = *failed = 0;
    VT_ENSURE(c->cfg.mode != VT_CACHE_OFFLINE, d, VT_E_STATE, "refresh",
              "an offline cache never contacts an upstream");
    vt_time now = vt_cache_now(c);
    struct key_list l = {0};
    /* Due: within refresh_ahead of nextUpdate, or a CRL (renewed every pass). */
    struct vt_sql_arg a[] = {VT_SQL_I(now + c->cfg.refresh_ahead), VT_SQL_I(VT_DOC_PCK_CRL),
                             VT_SQL_I(VT_DOC_ROOT_CRL), VT_SQL_I(VT_DOC_AMD_CRL)};
    VT_TRY(vt_store_exec(c->store,
                         "SELECT key FROM vt_items WHERE (next_update > 0 AND next_update <= ?)"
                         " OR kind IN (?, ?, ?) ORDER BY key",
                         a, 4, row_key, &l, NULL, d));
    for (size_t i = 0; i < l.n; i++) {
        struct vt_cache_req r;
        struct vt_cache_item it;
        struct vt_diag e;
        vt_diag_init(&e);
        unsigned st;
        enum vt_err err = vt_cache_req_from_key(l.keys[i], &r, &e);
        if (err == VT_OK) {
            pthread_mutex_lock(&c->fill_lock);
            err = vt_cache_fill(c, &r, &it, &st, &e);
            pthread_mutex_unlock(&c->fill_lock);
        }
        if (err == VT_OK) {
            vt_cache_item_cleanup(&it);
            (*renewed)++;
            atomic_fetch_add(&c->m.refreshes, 1);
        } else {
            (*failed)++;
            atomic_fetch_add(&c->m.refresh_failures, 1);
            fprintf(stderr, "veritee-cache: refresh of %s failed: %s\n", l.keys[i], e.detail);
        }
    }
    free(l.keys);
    vt_cache_forget(c);
    pthread_mutex_lock(&c->up_lock);
    c->refresh_last = now;
    c->refresh_last_renewed = *renewed;
    c->refresh_last_failed = *failed;
    pthread_mutex_unlock(&c->up_lock);
    return VT_OK;
}

static void *refresher_main(void *arg)
{
    struct vt_cache *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->stop_lock);
        if (!c->stopping) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += c->cfg.refresh_interval;
            pthread_cond_timedwait(&c->stop_cond, &c->stop_lock, &ts);
        }
        bool stop = c->stopping;
        pthread_mutex_unlock(&c->stop_lock);
        if (stop) {
            return NULL;
        }
        size_t renewed, failed;
        struct vt_diag d;
        vt_diag_init(&d);
        if (vt_cache_refresh(c, &renewed, &failed, &d) != VT_OK) {
            fprintf(stderr, "veritee-cache: refresh pass failed: %s\n", d.detail);
        }
    }
}

enum vt_err vt_cache_refresher_start(struct vt_cache *c, struct vt_diag *d)
{
    if (c->cfg.refresh_interval <= 0 || c->cfg.mode == VT_CACHE_OFFLINE) {
        return VT_OK;
    }
    VT_ENSURE(pthread_create(&c->refresher, NULL, refresher_main, c) == 0, d, VT_E_INTERNAL,
              "refresh", "cannot start the refresher thread");
    c->refresher_running = true;
    return VT_OK;
}

static int64_t cache_clock(void *ctx)
{
    return (int64_t)vt_cache_now(ctx);
}

enum vt_err vt_cache_replica_start(struct vt_cache *c, int64_t interval, struct vt_diag *d)
{
    struct vt_replica_opts o = {
        .role = "cache", .interval = interval, .now = cache_clock, .ctx = c};
    return vt_replica_start(c->store, &o, &c->replica, d);
}

/* ---- the bundle-signing key ---- */

/*
 * The key is kept in vt_meta under "bundle_key": under a master key sealed like the broker's keys
 * ("sealed:" and the hex of AES-256-GCM nonce || ciphertext || tag, associated data
 * BUNDLE_KEY_AAD); without one (a cache that was never given a master key) as PEM text, the shape
 * every database had before keys were sealed. A PEM value is sealed on the first open under a
 * master key (bundle_key_seal_stored), so old databases keep working.
 */
#define BUNDLE_KEY_AAD "veritee bundle key"
#define SEALED_PREFIX "sealed:"

static bool row_text_dup(void *ctx, const struct vt_sql_row *row)
{
    *(char **)ctx = strdup(vt_row_text(row, 0));
    return false;
}

static enum vt_err bundle_key_read(struct vt_store *s, char **value, struct vt_diag *d)
{
    *value = NULL;
    struct vt_sql_arg a[] = {VT_SQL_T("bundle_key")};
    return vt_store_exec(s, "SELECT value FROM vt_meta WHERE name = ?", a, 1, row_text_dup, value,
                         NULL, d);
}

static bool is_sealed(const char *value)
{
    return strncmp(value, SEALED_PREFIX, strlen(SEALED_PREFIX)) == 0;
}

/* The sealed text of a PEM key under master. */
static enum vt_err seal_text(const uint8_t master[32], const char *pem, char **out,
                             struct vt_diag *d)
{
    struct vt_buf b;
    vt_buf_init(&b, VT_SEALED_MAX + 64);
    enum vt_err err =
        vt_aead_seal(master, BUNDLE_KEY_AAD, (const uint8_t *)pem, strlen(pem), &b, d);
    size_t pl = strlen(SEALED_PREFIX);
    *out = err == VT_OK ? malloc(pl + 2 * b.len + 1) : NULL;
    if (err == VT_OK && *out == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "bundle_key", "no memory");
    }
    if (err == VT_OK) {
        memcpy(*out, SEALED_PREFIX, pl);
        vt_hex_encode(b.data, b.len, *out + pl);
    }
    vt_buf_cleanup(&b);
    return err;
}

/* The PEM text of a stored value (sealed or not): heap, wiped by the caller. */
static enum vt_err open_text(struct vt_store *s, const uint8_t *master, const char *value,
                             char **pem, struct vt_diag *d)
{
    *pem = NULL;
    if (!is_sealed(value)) {
        *pem = strdup(value);
        VT_ENSURE(*pem != NULL, d, VT_E_NOMEM, "bundle_key", "no memory");
        return VT_OK;
    }
    VT_ENSURE(master != NULL, d, VT_E_ARG, "bundle_key",
              "the bundle-signing key is sealed under the master key: give --master-key-file or "
              "VERITEE_MASTER_KEY");
    const char *hex = value + strlen(SEALED_PREFIX);
    size_t hl = strlen(hex);
    uint8_t *raw = malloc(hl / 2 + 1);
    VT_ENSURE(raw != NULL, d, VT_E_NOMEM, "bundle_key", "no memory");
    struct vt_buf b;
    vt_buf_init(&b, VT_SEALED_MAX + 1);
    enum vt_err err = hl % 2 == 0 && vt_hex_decode_exact(hex, hl, raw, hl / 2) == VT_OK
                          ? VT_OK
                          : vt_fail(d, VT_E_INTEGRITY, "bundle_key",
                                    "the stored bundle-signing key is not sealed hex");
    if (err == VT_OK && vt_aead_open(master, BUNDLE_KEY_AAD, raw, hl / 2, &b, d) != VT_OK) {
        err = vt_master_key_refuse(s, master, "this database's bundle-signing key", d);
    }
    if (err == VT_OK) {
        *pem = strndup((const char *)b.data, b.len);
        err = *pem ? VT_OK : vt_fail(d, VT_E_NOMEM, "bundle_key", "no memory");
    }
    vt_buf_cleanup(&b);
    free(raw);
    return err;
}

static void text_free(char *s)
{
    if (s != NULL) {
        vt_wipe(s, strlen(s));
        free(s);
    }
}

/* Replace the stored value old by value (only if it is still old: replicas may race). */
static enum vt_err bundle_key_replace(struct vt_store *s, const char *old, const char *value,
                                      struct vt_diag *d)
{
    struct vt_sql_arg a[] = {VT_SQL_T(value), VT_SQL_T("bundle_key"), VT_SQL_T(old)};
    return vt_store_exec(s, "UPDATE vt_meta SET value = ? WHERE name = ? AND value = ?", a, 3, NULL,
                         NULL, NULL, d);
}

enum vt_err vt_cache_bundle_key_seal_stored(struct vt_store *store, const uint8_t master[32],
                                            struct vt_diag *d)
{
    char *value = NULL, *pem = NULL, *sealed = NULL;
    VT_TRY(bundle_key_read(store, &value, d));
    if (value == NULL) {
        return VT_OK;
    }
    /* a sealed value must open (a wrong master key is found at start); a PEM one is sealed */
    enum vt_err err = open_text(store, master, value, &pem, d);
    if (err == VT_OK && !is_sealed(value)) {
        err = seal_text(master, pem, &sealed, d);
        if (err == VT_OK) {
            err = bundle_key_replace(store, value, sealed, d);
        }
    }
    if (err == VT_OK) {
        err = vt_master_key_id_record(store, master, d);
    }
    text_free(value);
    text_free(pem);
    free(sealed);
    return err;
}

enum vt_err vt_cache_bundle_key_rewrap(struct vt_store *s, const uint8_t *old_master,
                                       const uint8_t new_master[32], bool *rewrapped,
                                       struct vt_diag *d)
{
    *rewrapped = false;
    char *value = NULL, *pem = NULL, *sealed = NULL;
    VT_TRY(bundle_key_read(s, &value, d));
    if (value == NULL) {
        return VT_OK;
    }
    enum vt_err err = open_text(s, old_master, value, &pem, d);
    if (err == VT_OK) {
        err = seal_text(new_master, pem, &sealed, d);
    }
    if (err == VT_OK) {
        err = bundle_key_replace(s, value, sealed, d);
        *rewrapped = err == VT_OK;
    }
    if (err == VT_OK) {
        err = vt_master_key_id_record(s, new_master, d);
    }
    text_free(value);
    text_free(pem);
    free(sealed);
    return err;
}

/* vt_cache_bundle_key_rewrap as a sealed service: the key is sealed under the new master key
 * even if it was still in the clear. */
static enum vt_err bundle_key_rewrap_service(struct vt_store *s, const uint8_t master[32],
                                             const uint8_t new_master[32], size_t *n,
                                             struct vt_diag *d)
{
    bool done = false;
    VT_TRY(vt_cache_bundle_key_rewrap(s, master, new_master, &done, d));
    *n += done;
    return VT_OK;
}

const struct vt_sealed_service vt_cache_sealed = {"cache", bundle_key_rewrap_service, NULL};

enum vt_err vt_cache_rewrap(struct vt_cache *c, const uint8_t new_master[32], struct vt_diag *d)
{
    VT_TRY(vt_store_begin(c->store, d));
    bool done = false;
    enum vt_err err = vt_cache_bundle_key_rewrap(c->store, c->has_master ? c->master : NULL,
                                                 new_master, &done, d);
    if (err == VT_OK) {
        err = vt_store_commit(c->store, d);
    } else {
        vt_store_rollback(c->store);
    }
    if (err == VT_OK) {
        memcpy(c->master, new_master, 32);
        c->has_master = true;
    }
    return err;
}

static enum vt_err signing_key(struct vt_cache *c, struct vt_key **k, struct vt_diag *d)
{
    char *value = NULL;
    VT_TRY(bundle_key_read(c->store, &value, d));
    if (value == NULL) {
        /* First use: create one; a concurrent replica may win, so read back what is stored. */
        struct vt_key *fresh = NULL;
        VT_TRY(vt_key_generate(VT_KEY_P256, 0, &fresh, d));
        struct vt_buf b;
        vt_buf_init(&b, 4096);
        enum vt_err err = vt_key_private_pem(fresh, &b, d);
        vt_key_free(fresh);
        char *stored = NULL;
        if (err == VT_OK && c->has_master) {
            err = seal_text(c->master, (const char *)b.data, &stored, d);
        }
        if (err == VT_OK) {
            struct vt_sql_arg ins[] = {VT_SQL_T("bundle_key"),
                                       VT_SQL_T(stored ? stored : (const char *)b.data)};
            err = vt_store_exec(c->store,
                                "INSERT INTO vt_meta(name, value) VALUES (?, ?)"
                                " ON CONFLICT(name) DO NOTHING",
                                ins, 2, NULL, NULL, NULL, d);
        }
        free(stored);
        vt_buf_cleanup(&b);
        VT_TRY(err);
        VT_TRY(bundle_key_read(c->store, &value, d));
        VT_ENSURE(value != NULL, d, VT_E_STORAGE, "bundle_key", "the bundle key was not stored");
    }
    char *pem = NULL;
    enum vt_err err = open_text(c->store, c->has_master ? c->master : NULL, value, &pem, d);
    if (err == VT_OK) {
        err = vt_key_from_private_pem(pem, strlen(pem), VT_KEY_P256, k, d);
    }
    /* stored in the clear by a process without the master key: seal it now */
    if (err == VT_OK && c->has_master && !is_sealed(value)) {
        char *sealed = NULL;
        struct vt_diag e;
        vt_diag_init(&e);
        if (seal_text(c->master, pem, &sealed, &e) != VT_OK ||
            bundle_key_replace(c->store, value, sealed, &e) != VT_OK) {
            fprintf(stderr, "veritee-cache: cannot seal the bundle key: %s\n", e.detail);
        }
        free(sealed);
    }
    text_free(pem);
    text_free(value);
    return err;
}

enum vt_err vt_cache_public_key(struct vt_cache *c, uint8_t xy[64], struct vt_diag *d)
{
    struct vt_key *k = NULL;
    VT_TRY(signing_key(c, &k, d));
    vt_key_p256_xy(k, xy);
    vt_key_free(k);
    return VT_OK;
}

/* ---- bundles ---- */

#define BUNDLE_FORMAT "veritee-collateral-bundle"

static bool row_export(void *ctx, const struct vt_sql_row *row)
{
    json_t *items = ctx;
    size_t n;
    const uint8_t *body = vt_row_blob(row, 7, &n);
    char *b64 = vt_base64_alloc(body, n, false);
    if (b64 == NULL) {
        return false;
    }
    json_array_append_new(items, json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "key",
                                           vt_row_text(row, 0), "content_type", vt_row_text(row, 5),
                                           "headers", vt_row_text(row, 6), "body", b64,
                                           "fetched_at", (json_int_t)vt_row_int(row, 10),
                                           "issue_date", (json_int_t)vt_row_int(row, 8),
                                           "next_update", (json_int_t)vt_row_int(row, 9)));
    free(b64);
    return true;
}

static bool row_enforce_export(void *ctx, const struct vt_sql_row *row)
{
    json_array_append_new(ctx, json_pack("{s:I,s:I,s:I}", "tee", (json_int_t)vt_row_int(row, 0),
                                         "tcb_eval", (json_int_t)vt_row_int(row, 1), "from",
                                         (json_int_t)vt_row_int(row, 2)));
    return true;
}

enum vt_err vt_cache_export(struct vt_cache *c, struct vt_buf *out, size_t *n_items,
                            struct vt_diag *d)
{
    struct vt_key *k = NULL;
    VT_TRY(signing_key(c, &k, d));
    json_t *items = json_array(), *enforce = json_array();
    enum vt_err err = vt_store_exec(c->store,
                                    "SELECT key, kind, tee, fmspc, eval_num, content_type, headers,"
                                    " body, issue_date, next_update, fetched_at, upstream"
                                    " FROM vt_items WHERE length(body) > 0 ORDER BY key",
                                    NULL, 0, row_export, items, NULL, d);
    if (err == VT_OK) {
        err = vt_store_exec(c->store, "SELECT tee, eval_num, from_time FROM vt_enforce", NULL, 0,
                            row_enforce_export, enforce, NULL, d);
    }
    uint8_t xy[64], sig[64];
    char xy_hex[129], sig_hex[129], when[VT_TIME_STR_MAX];
    vt_key_p256_xy(k, xy);
    vt_hex_encode(xy, 64, xy_hex);
    vt_time_format(vt_cache_now(c), when);
    *n_items = json_array_size(items);
    json_t *b =
        json_pack("{s:s,s:i,s:s,s:s,s:o,s:o}", "format", BUNDLE_FORMAT, "version", 1, "created",
                  when, "exporter", xy_hex, "items", items, "enforcement", enforce);
    char *inner = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    if (err == VT_OK && inner == NULL) {
        err = vt_fail(d, VT_E_NOMEM, "export", "cannot encode the bundle");
    }
    if (err == VT_OK) {
        err = vt_p256_sign(k, inner, strlen(inner), sig, d);
    }
    if (err == VT_OK) {
        vt_hex_encode(sig, 64, sig_hex);
        err = vt_buf_printf(out, "{\"bundle\":%s,\"signature\":\"%s\"}\n", inner, sig_hex);
    }
    free(inner);
    vt_key_free(k);
    return err;
}

/* A bundle item's stored headers: "Name: value" lines, each name one the lazy fill keeps (at most
 * once), values of printable characters. Anything else is refused: these are sent back to
 * clients as they are. */
static enum vt_err check_item_headers(const char *h, size_t i, struct vt_diag *d)
{
    char seen[16][64];
    size_t n_seen = 0;
    for (const char *p = h; *p != '\0';) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        size_t nl = colon ? (size_t)(colon - p) : len;
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(nl < sizeof(name) ? nl : sizeof(name) - 1), p);
        VT_ENSURE(colon != NULL && nl > 0 && nl < sizeof(name) && vt_cache_header_allowed(name), d,
                  VT_E_BAD_FIELD, "bundle.items.headers",
                  "item %zu carries the header \"%.60s\", which the cache does not keep", i, name);
        for (size_t k = 0; k < n_seen; k++) {
            VT_ENSURE(strcmp(seen[k], name) != 0, d, VT_E_DUPLICATE, "bundle.items.headers",
                      "item %zu carries the header %s twice", i, name);
        }
        if (n_seen < sizeof(seen) / sizeof(seen[0])) {
            snprintf(seen[n_seen++], sizeof(seen[0]), "%s", name);
        }
        for (size_t k = nl + 1; k < len; k++) {
            unsigned char ch = (unsigned char)p[k];
            VT_ENSURE(ch >= 0x20 && ch != 0x7f, d, VT_E_BAD_FIELD, "bundle.items.headers",
                      "item %zu: header %s holds the control character 0x%02x", i, name, ch);
        }
        p = eol ? eol + 1 : p + len;
    }
    return VT_OK;
}

enum vt_err vt_cache_import(struct vt_cache *c, const uint8_t *bundle, size_t len,
                            const uint8_t trusted_xy[64], size_t *n_items, struct vt_diag *d)
{
    *n_items = 0;
    const uint8_t *inner, *sig;
    size_t inner_len, sig_len;
    VT_TRY(vt_json_member_span(bundle, len, "bundle", &inner, &inner_len, d));
    VT_TRY(vt_json_member_span(bundle, len, "signature", &sig, &sig_len, d));
    uint8_t raw[64];
    VT_ENSURE(sig_len == 130 && vt_hex_decode_exact((const char *)sig + 1, 128, raw, 64) == VT_OK,
              d, VT_E_BAD_FIELD, "bundle.signature", "signature is not 128 hex characters");
    /* SPEC: origin first: the bundle must be signed by the key the operator trusts. */
    if (vt_p256_verify_xy(trusted_xy, inner, inner_len, raw, d) != VT_OK) {
        return vt_fail(d, VT_E_SIGNATURE, "bundle.signature",
                       "the bundle is not signed by the trusted exporter key");
    }
    json_error_t je;
    json_t *b = json_loadb((const char *)inner, inner_len, JSON_REJECT_DUPLICATES, &je);
    const char *fmt = json_string_value(json_object_get(b, "format"));
    json_t *items = json_object_get(b, "items"), *enforce = json_object_get(b, "enforcement");
    if (fmt == NULL || strcmp(fmt, BUNDLE_FORMAT) != 0 ||
        json_integer_value(json_object_get(b, "version")) != 1 || !json_is_array(items)) {
        json_decref(b);
        return vt_fail(d, VT_E_BAD_FIELD, "bundle.format", "not a version 1 %s", BUNDLE_FORMAT);
    }
    /* Every document is checked as if downloaded, before anything is written; then one
     * transaction writes them all, so an interrupted import leaves the store as it was. */
    size_t n = json_array_size(items);
    struct vt_cache_item *its = calloc(n ? n : 1, sizeof(*its));
    enum vt_err err = its ? VT_OK : vt_fail(d, VT_E_NOMEM, "import", "no memory");
    for (size_t i = 0; i < n && err == VT_OK; i++) {
        json_t *o = json_array_get(items, i);
        const char *key = json_string_value(json_object_get(o, "key"));
        const char *body = json_string_value(json_object_get(o, "body"));
        const char *hdr = json_string_value(json_object_get(o, "headers"));
        const char *ct = json_string_value(json_object_get(o, "content_type"));
        struct vt_cache_req r;
        if (key == NULL || body == NULL || hdr == NULL || ct == NULL ||
            strlen(key) >= VT_CACHE_KEY_MAX) {
            err = vt_fail(d, VT_E_MISSING_FIELD, "bundle.items", "item %zu is incomplete", i);
            break;
        }
        if ((err = vt_cache_req_from_key(key, &r, d)) != VT_OK) {
            break;
        }
        struct vt_cache_item *it = &its[i];
        snprintf(it->key, sizeof(it->key), "%s", key);
        it->kind = r.kind;
        it->tee = r.expect.tee;
        snprintf(it->content_type, sizeof(it->content_type), "%s", ct);
        it->headers = strdup(hdr);
        size_t bl = strlen(body);
        it->body = malloc(bl + 1);
        if (it->headers == NULL || it->body == NULL ||
            vt_base64_decode(body, bl, false, it->body, bl + 1, &it->body_len) != VT_OK) {
            err = vt_fail(d, VT_E_BAD_BASE64, "bundle.items", "item %zu body is not base64", i);
            break;
        }
        it->fetched_at = json_integer_value(json_object_get(o, "fetched_at"));
        snprintf(it->upstream, sizeof(it->upstream), "bundle");
        /* the same headers and content type as the lazy fill stores, nothing else */
        if ((err = check_item_headers(hdr, i, d)) != VT_OK) {
            break;
        }
        if (strcmp(ct, vt_cache_content_type(r.kind)) != 0) {
            err = vt_fail(d, VT_E_BAD_FIELD, "bundle.items.content_type",
                          "item %zu (%s) has content type \"%.60s\"; a %s is %s", i, key, ct,
                          vt_doc_kind_name(r.kind), vt_cache_content_type(r.kind));
            break;
        }
        struct vt_doc_meta m;
        err = vt_cache_check_item(c, it, &m, d);
        if (err == VT_E_NOT_FOUND && r.kind == VT_DOC_VCEK) {
            /* its cert_chain is later in this bundle: checked in a second pass, once stored */
            err = VT_OK;
            it->eval_num = -2;
            continue;
        }
        if (err != VT_OK) {
            char inner_detail[VT_DIAG_DETAIL_MAX];
            snprintf(inner_detail, sizeof(inner_detail), "%s", d ? d->detail : "");
            err = vt_fail(d, err, "bundle.items", "item %s refused: %s", key, inner_detail);
            break;
        }
        snprintf(it->fmspc, sizeof(it->fmspc), "%s", m.fmspc);
        it->eval_num = m.eval_num;
        it->issue_date = m.issue_date;
        it->next_update = m.next_update == INT64_MAX ? 0 : m.next_update;
        vt_doc_meta_cleanup(&m);
    }
    /* The enforcement schedule: every entry well-formed, or nothing is imported. */
    size_t ne = json_array_size(enforce);
    for (size_t i = 0; i < ne && err == VT_OK; i++) {
        json_t *o = json_array_get(enforce, i);
        json_int_t tee = json_integer_value(json_object_get(o, "tee"));
        json_int_t num = json_integer_value(json_object_get(o, "tcb_eval"));
        if (!json_is_integer(json_object_get(o, "from")) ||
            (tee != VT_TEE_SGX && tee != VT_TEE_TDX) || num <= 0 || num > UINT32_MAX) {
            err = vt_fail(d, VT_E_BAD_FIELD, "bundle.enforcement",
                          "entry %zu is not {tee: sgx or tdx, tcb_eval > 0, from}", i);
        }
    }
    if (enforce != NULL && !json_is_array(enforce) && err == VT_OK) {
        err = vt_fail(d, VT_E_BAD_FIELD, "bundle.enforcement", "enforcement is not an array");
    }
    if (err == VT_OK) {
        err = vt_store_begin(c->store, d);
        for (size_t pass = 0; pass < 2 && err == VT_OK; pass++) {
            for (size_t i = 0; i < n && err == VT_OK; i++) {
                bool deferred = its[i].eval_num == -2;
                if (deferred != (pass == 1)) {
                    continue;
                }
                struct vt_doc_meta m;
                if (deferred && (err = vt_cache_check_item(c, &its[i], &m, d)) == VT_OK) {
                    its[i].eval_num = -1;
                    its[i].issue_date = m.issue_date;
                    its[i].next_update = m.next_update == INT64_MAX ? 0 : m.next_update;
                    vt_doc_meta_cleanup(&m);
                }
                bool kept;
                if (err == VT_OK) {
                    err = vt_cache_put(c, &its[i], &kept, d);
                }
            }
        }
        for (size_t i = 0; i < ne && err == VT_OK; i++) {
            json_t *o = json_array_get(enforce, i);
            struct vt_sql_arg a[] = {VT_SQL_I(json_integer_value(json_object_get(o, "tee"))),
                                     VT_SQL_I(json_integer_value(json_object_get(o, "tcb_eval"))),
                                     VT_SQL_I(json_integer_value(json_object_get(o, "from"))),
                                     VT_SQL_I(vt_cache_now(c))};
            err = vt_store_exec(c->store,
                                "INSERT INTO vt_enforce(tee, eval_num, from_time, created)"
                                " VALUES (?,?,?,?) ON CONFLICT(tee, from_time) DO NOTHING",
                                a, 4, NULL, NULL, NULL, d);
        }
        if (err == VT_OK) {
            err = vt_store_commit(c->store, d);
        } else {
            vt_store_rollback(c->store);
        }
    }
    for (size_t i = 0; its != NULL && i < n; i++) {
        vt_cache_item_cleanup(&its[i]);
    }
    free(its);
    json_decref(b);
    if (err == VT_OK) {
        *n_items = n;
        vt_cache_forget(c);
    }
    return err;
}

/* ---- impact of a TCB recovery ---- */

struct platform_row {
    char fmspc[13];
    uint8_t comps[16];
    uint16_t pcesvn;
    bool has_tdx;
    uint8_t tee_tcb_svn[16];
    char source[40];
};

struct platform_list {
    struct platform_row *p;
    size_t n, cap;
};

static bool add_platform(struct platform_list *l, const struct platform_row *r)
{
    for (size_t i = 0; i < l->n; i++) {
        if (memcmp(&l->p[i], r, offsetof(struct platform_row, source)) == 0) {
            return true;
        }
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        void *p = realloc(l->p, cap * sizeof(*l->p));
        if (p == NULL) {
            return false;
        }
        l->p = p;
        l->cap = cap;
    }
    l->p[l->n++] = *r;
    return true;
}

static bool row_platform(void *ctx, const struct vt_sql_row *row)
{
    struct platform_row r;
    memset(&r, 0, sizeof(r));
    snprintf(r.fmspc, sizeof(r.fmspc), "%s", vt_row_text(row, 0));
    const char *comps = vt_row_text(row, 1);
    if (vt_hex_decode_exact(comps, strlen(comps), r.comps, 16) != VT_OK) {
        return true;
    }
    r.pcesvn = (uint16_t)vt_row_int(row, 2);
    snprintf(r.source, sizeof(r.source), "%s", vt_row_text(row, 3));
    return add_platform(ctx, &r);
}

static enum vt_err quote_platform(const uint8_t *q, size_t n, struct platform_row *r,
                                  enum vt_tee *tee, struct vt_diag *d)
{
    /* The verifier's one detection and parse (include/veritee/verifier.h). */
    struct vt_evidence ev;
    VT_TRY(vt_evidence_parse(q, n, &ev, d));
    VT_ENSURE(ev.kind == VT_EVIDENCE_DCAP_QUOTE, d, VT_E_UNSUPPORTED, "impact",
              "a TCB recovery concerns SGX and TDX platforms; the evidence is a %s",
              vt_evidence_kind_name(ev.kind));
    const struct vt_dcap_quote quote = ev.u.quote;
    VT_ENSURE(quote.cert_type == 5, d, VT_E_UNSUPPORTED_CERT_DATA, "quote",
              "the quote does not carry its PCK certificate chain (type %u)", quote.cert_type);
    struct vt_cert_list l;
    vt_cert_list_init(&l);
    VT_TRY(vt_cert_list_from_pem((const char *)quote.cert_data, quote.cert_data_len, &l, d));
    const uint8_t *ext;
    size_t ext_len;
    struct vt_sgx_pck_ext x;
    enum vt_err err = vt_cert_extension(l.certs[0], VT_SGX_EXT_OID, &ext, &ext_len) == VT_OK
                          ? vt_sgx_pck_ext_parse(ext, ext_len, &x, d)
                          : vt_fail(d, VT_E_CERT_EXTENSION, "pck", "no SGX extension");
    vt_cert_list_cleanup(&l);
    VT_TRY(err);
    memset(r, 0, sizeof(*r));
    vt_hex_encode(x.fmspc, 6, r->fmspc);
    memcpy(r->comps, x.tcb_components, 16);
    r->pcesvn = x.pcesvn;
    *tee = quote.tee_type == VT_DCAP_TEE_TDX ? VT_TEE_TDX : VT_TEE_SGX;
    if (*tee == VT_TEE_TDX) {
        r->has_tdx = true;
        memcpy(r->tee_tcb_svn, quote.td.tee_tcb_svn, 16);
    }
    snprintf(r->source, sizeof(r->source), "quote");
    return VT_OK;
}

/* The TCB info of (tee, fmspc) under eval (0: the one served by default), filled if needed. */
static enum vt_err tcb_info_for(struct vt_cache *c, enum vt_tee tee, const char *fmspc,
                                uint32_t eval, struct vt_cache_item *it, uint32_t *eval_out,
                                struct vt_diag *d)
{
    char key[VT_CACHE_KEY_MAX];
    if (eval > 0) {
        snprintf(key, sizeof(key), "/%s/certification/v4/tcb?fmspc=%s&tcbEvaluationDataNumber=%u",
                 vt_tee_name(tee), fmspc, eval);
    } else {
        snprintf(key, sizeof(key), "/%s/certification/v4/tcb?fmspc=%s&update=standard",
                 vt_tee_name(tee), fmspc);
    }
    struct vt_cache_req r;
    VT_TRY(vt_cache_req_from_key(key, &r, d));
    r.no_throttle = true; /* an operator's impact report */
    struct vt_cache_result res;
    VT_TRY(vt_cache_get(c, &r, &res, d));
    *it = res.item;
    *eval_out = (uint32_t)(it->eval_num > 0 ? it->eval_num : 0);
    return VT_OK;
}

static json_t *status_of(struct vt_cache *c, enum vt_tee tee, const struct platform_row *p,
                         uint32_t eval, uint32_t *used)
{
    struct vt_cache_item it;
    struct vt_diag d;
    vt_diag_init(&d);
    *used = 0;
    enum vt_err err = tcb_info_for(c, tee, p->fmspc, eval, &it, used, &d);
    if (err != VT_OK) {
        return json_pack("{s:s}", "error", d.detail);
    }
    struct vt_tcb_info ti;
    enum vt_tcb_status st;
    struct vt_advisories adv;
    err = vt_tcb_info_parse(it.body, it.body_len, &ti, &d);
    if (err == VT_OK) {
        err = vt_dcap_platform_status(&ti, p->comps, p->pcesvn, p->has_tdx ? p->tee_tcb_svn : NULL,
                                      &st, &adv, &d);
        vt_tcb_info_cleanup(&ti);
    }
    vt_cache_item_cleanup(&it);
    if (err == VT_E_TCB_NOT_SUPPORTED) {
        return json_pack("{s:s,s:I,s:[]}", "status", "TCBLevelNotSupported", "tcb_eval",
                         (json_int_t)*used, "advisory_ids");
    }
    if (err != VT_OK) {
        return json_pack("{s:s}", "error", d.detail);
    }
    json_t *ids = json_array();
    for (size_t i = 0; i < adv.n; i++) {
        json_array_append_new(ids, json_string(adv.ids[i]));
    }
    return json_pack("{s:s,s:I,s:o}", "status", vt_tcb_status_name(st), "tcb_eval",
                     (json_int_t)*used, "advisory_ids", ids);
}

enum vt_err vt_cache_impact(struct vt_cache *c, enum vt_tee tee, uint32_t eval,
                            const uint8_t *const *quotes, const size_t *quote_lens, size_t n_quotes,
                            char **json, struct vt_diag *d)
{
    struct platform_list l = {0};
    enum vt_err err = vt_store_exec(c->store,
                                    "SELECT fmspc, components, pcesvn, source FROM vt_platforms"
                                    " WHERE fmspc <> '' ORDER BY fmspc",
                                    NULL, 0, row_platform, &l, NULL, d);
    for (size_t i = 0; i < n_quotes && err == VT_OK; i++) {
        struct platform_row r;
        enum vt_tee qt = VT_TEE_NONE;
        err = quote_platform(quotes[i], quote_lens[i], &r, &qt, d);
        if (err == VT_OK && qt == tee && !add_platform(&l, &r)) {
            err = vt_fail(d, VT_E_NOMEM, "impact", "no memory");
        }
    }
    if (err != VT_OK) {
        free(l.p);
        return err;
    }
    uint32_t pinned = vt_cache_pinned(c, tee, vt_cache_now(c));
    json_t *rows = json_array();
    size_t affected = 0;
    for (size_t i = 0; i < l.n; i++) {
        const struct platform_row *p = &l.p[i];
        uint32_t used_now, used_new;
        json_t *now_s = status_of(c, tee, p, pinned, &used_now);
        json_t *new_s = status_of(c, tee, p, eval, &used_new);
        const char *a = json_string_value(json_object_get(now_s, "status"));
        const char *b = json_string_value(json_object_get(new_s, "status"));
        bool changes = a != NULL && b != NULL && strcmp(a, b) != 0;
        affected += changes;
        char comps[33];
        vt_hex_encode(p->comps, 16, comps);
        json_t *row = json_pack("{s:s,s:s,s:s,s:i,s:o,s:o,s:b}", "fmspc", p->fmspc, "source",
                                p->source, "sgx_components", comps, "pcesvn", (int)p->pcesvn,
                                "in_force", now_s, "proposed", new_s, "changes", changes);
        if (p->has_tdx) {
            char tdx[33];
            vt_hex_encode(p->tee_tcb_svn, 16, tdx);
            json_object_set_new(row, "tee_tcb_svn", json_string(tdx));
        }
        json_array_append_new(rows, row);
    }
    free(l.p);
    json_t *out = json_pack("{s:s,s:I,s:I,s:I,s:I,s:o}", "tee", vt_tee_name(tee), "tcb_eval",
                            (json_int_t)eval, "in_force", (json_int_t)pinned, "platforms",
                            (json_int_t)json_array_size(rows), "affected", (json_int_t)affected,
                            "results", rows);
    *json = out ? json_dumps(out, JSON_INDENT(2)) : NULL;
    json_decref(out);
    VT_ENSURE(*json != NULL, d, VT_E_NOMEM, "impact", "cannot encode the report");
    return VT_OK;
}

/* ---- the platforms the cache has seen (GET /admin/v1/platforms) ---- */

struct seen_list {
    json_t *rows;
    struct platform_row *p; /* parallel to rows: what status_of judges */
    size_t n, cap;
};

static bool row_seen(void *ctx, const struct vt_sql_row *row)
{
    struct seen_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        void *p = realloc(l->p, cap * sizeof(*l->p));
        if (p == NULL) {
            return false;
        }
        l->p = p;
        l->cap = cap;
    }
    struct platform_row *r = &l->p[l->n];
    memset(r, 0, sizeof(*r));
    snprintf(r->fmspc, sizeof(r->fmspc), "%s", vt_row_text(row, 1));
    const char *comps = vt_row_text(row, 4);
    bool comps_ok = vt_hex_decode_exact(comps, strlen(comps), r->comps, 16) == VT_OK;
    r->pcesvn = (uint16_t)vt_row_int(row, 5);
    snprintf(r->source, sizeof(r->source), "%s", vt_row_text(row, 7));
    char first[VT_TIME_STR_MAX], last[VT_TIME_STR_MAX];
    vt_time_format((vt_time)vt_row_int(row, 8), first);
    vt_time_format((vt_time)vt_row_int(row, 9), last);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:s}", "id", vt_row_text(row, 0),
                          "fmspc", r->fmspc, "pceid", vt_row_text(row, 2), "qeid",
                          vt_row_text(row, 3), "sgx_components", comps_ok ? comps : "", "cpusvn",
                          vt_row_text(row, 6), "pcesvn", (json_int_t)r->pcesvn, "source", r->source,
                          "first_seen", first, "last_seen", last);
    if (o == NULL || json_array_append_new(l->rows, o) != 0) {
        return false;
    }
    /* not judged: what the status needs is not known */
    if (r->fmspc[0] == '\0') {
        json_object_set_new(o, "error",
                            json_string("not judged: no FMSPC is known for this platform (a "
                                        "registration whose PCK certificate the cache has not "
                                        "served)"));
    } else if (!comps_ok) {
        json_object_set_new(o, "error",
                            json_string("not judged: its TCB components are not known (a "
                                        "registration records the raw CPUSVN, which only its PCK "
                                        "certificate maps to components; the platform's row "
                                        "recorded from that certificate is judged)"));
    }
    l->n++;
    return true;
}

static bool row_fmspc(void *ctx, const struct vt_sql_row *row)
{
    return json_array_append_new(ctx, json_string(vt_row_text(row, 0))) == 0;
}

static bool has_fmspc(json_t *a, const char *fmspc)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (strcmp(json_string_value(v), fmspc) == 0) {
            return true;
        }
    }
    return false;
}

enum vt_err vt_cache_platforms(struct vt_cache *c, enum vt_tee tee, uint64_t limit, char **json,
                               struct vt_diag *d)
{
    *json = NULL;
    VT_ENSURE(tee == VT_TEE_NONE || tee == VT_TEE_SGX || tee == VT_TEE_TDX, d, VT_E_ARG, "tee",
              "the cache's platforms are SGX or TDX platforms; tee is %s", vt_tee_name(tee));
    VT_ENSURE(limit >= 1 && limit <= 10000, d, VT_E_ARG, "limit",
              "limit must be 1 to 10000; it is %" PRIu64, limit);
    struct seen_list l = {json_array(), NULL, 0, 0};
    json_t *tdx_fmspcs = json_array();
    struct vt_sql_arg a[] = {VT_SQL_I((int64_t)limit)};
    struct vt_sql_arg k[] = {VT_SQL_I(VT_DOC_TCB_INFO), VT_SQL_I(VT_TEE_TDX)};
    enum vt_err err =
        l.rows == NULL || tdx_fmspcs == NULL
            ? vt_fail(d, VT_E_NOMEM, "platforms", "no memory")
            : vt_store_exec(c->store,
                            "SELECT id, fmspc, pceid, qeid, components, pcesvn, cpusvn, source,"
                            " first_seen, last_seen FROM vt_platforms"
                            " ORDER BY last_seen DESC, id LIMIT ?",
                            a, 1, row_seen, &l, NULL, d);
    /* the TEE a platform is judged under when none is asked: TDX if the cache holds a TDX TCB
     * info of its FMSPC (it has served a TD's collateral), SGX otherwise */
    if (err == VT_OK && tee == VT_TEE_NONE) {
        err = vt_store_exec(c->store,
                            "SELECT DISTINCT fmspc FROM vt_items WHERE kind = ? AND tee = ?", k, 2,
                            row_fmspc, tdx_fmspcs, NULL, d);
    }
    vt_time now = vt_cache_now(c);
    uint32_t pinned_sgx = vt_cache_pinned(c, VT_TEE_SGX, now);
    uint32_t pinned_tdx = vt_cache_pinned(c, VT_TEE_TDX, now);
    struct {
        enum vt_tee tee;
        size_t row;
        uint32_t used;
        json_t *st;
    } *memo = l.n > 0 ? calloc(l.n, sizeof(*memo)) : NULL;
    size_t n_memo = 0;
    if (l.n > 0 && memo == NULL && err == VT_OK) {
        err = vt_fail(d, VT_E_NOMEM, "platforms", "no memory");
    }
    for (size_t i = 0; i < l.n && err == VT_OK; i++) {
        json_t *o = json_array_get(l.rows, i);
        const struct platform_row *p = &l.p[i];
        enum vt_tee t = tee != VT_TEE_NONE                ? tee
                        : has_fmspc(tdx_fmspcs, p->fmspc) ? VT_TEE_TDX
                                                          : VT_TEE_SGX;
        json_object_set_new(o, "tee", json_string(vt_tee_name(t)));
        if (json_object_get(o, "error") != NULL) {
            json_object_set_new(o, "status", json_null());
            continue;
        }
        /* platforms alike (one FMSPC, TCB components and PCESVN: rows of one machine, or a
         * fleet of one model) are judged once */
        size_t m = 0;
        while (m < n_memo &&
               !(memo[m].tee == t &&
                 memcmp(&l.p[memo[m].row], p, offsetof(struct platform_row, source)) == 0)) {
            m++;
        }
        if (m == n_memo) {
            memo[m].tee = t;
            memo[m].row = i;
            memo[m].st =
                status_of(c, t, p, t == VT_TEE_TDX ? pinned_tdx : pinned_sgx, &memo[m].used);
            n_memo++;
        }
        uint32_t used = memo[m].used;
        json_t *st = memo[m].st;
        if (st == NULL) {
            err = vt_fail(d, VT_E_NOMEM, "platforms", "no memory");
            break;
        }
        json_t *status = json_object_get(st, "status");
        json_object_set(o, "status", status != NULL ? status : json_null());
        json_object_set_new(o, "tcb_eval", json_integer((json_int_t)used));
        json_t *adv = json_object_get(st, "advisory_ids");
        json_object_set_new(o, "advisory_ids", adv != NULL ? json_incref(adv) : json_array());
        if (json_object_get(st, "error") != NULL) {
            json_object_set(o, "error", json_object_get(st, "error"));
        }
    }
    for (size_t m = 0; m < n_memo; m++) {
        json_decref(memo[m].st);
    }
    free(memo);
    free(l.p);
    json_decref(tdx_fmspcs);
    char nows[VT_TIME_STR_MAX];
    vt_time_format(now, nows);
    json_t *out = err == VT_OK ? json_pack("{s:s,s:{s:I,s:I},s:O}", "now", nows, "in_force", "sgx",
                                           (json_int_t)pinned_sgx, "tdx", (json_int_t)pinned_tdx,
                                           "platforms", l.rows)
                               : NULL;
    json_decref(l.rows);
    if (err != VT_OK) {
        return err;
    }
    *json = out ? json_dumps(out, JSON_COMPACT) : NULL;
    json_decref(out);
    VT_ENSURE(*json != NULL, d, VT_E_NOMEM, "platforms", "cannot encode the platforms");
    return VT_OK;
}
