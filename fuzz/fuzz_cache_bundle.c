/*
 * Fuzz vt_cache_import, the reader of offline bundles. Byte 0 chooses the mode:
 *  - even: the rest is the inner bundle object; the harness signs it with its own exporter key and
 *    wraps it as {"bundle":...,"signature":...}, so the fuzzer reaches the item parser, the
 *    per-document checks and the import transaction;
 *  - odd: the rest is the whole file, signature included (origin check and envelope parsing).
 * Every input gets a cache of its own (an in-memory SQLite store with the embedded vendor
 * anchors, a pinned clock), so nothing carries over between inputs and a finding reproduces from
 * its file; only the exporter key, never written to, is made once.
 * Invariants: a failure records its code and leaves the store exactly as it was (no items, no
 * enforcement rows): fuzzed documents never verify, so nothing may ever be written.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"

static void require(int cond)
{
    if (!cond) {
        abort();
    }
}

static struct vt_key *key; /* the exporter's: read only after it is made */
static uint8_t key_xy[64];

static int64_t count(struct vt_cache *cache, const char *sql)
{
    int64_t n = -1;
    struct vt_diag d;
    vt_diag_init(&d);
    require(vt_store_exec(cache->store, sql, NULL, 0, vt_store_row_int, &n, NULL, &d) == VT_OK);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_diag d;
    vt_diag_init(&d);
    if (key == NULL) {
        require(vt_key_generate(VT_KEY_P256, 0, &key, &d) == VT_OK);
        vt_key_p256_xy(key, key_xy);
    }
    if (size < 1 || size > 1 << 20) {
        return 0;
    }
    struct vt_cache_config cfg = {
        .db = "sqlite::memory:", .mode = VT_CACHE_OFFLINE, .clock_base = 1749945600};
    struct vt_cache *cache = NULL;
    require(vt_cache_open(&cfg, &cache, &d) == VT_OK);
    struct vt_buf file;
    vt_buf_init(&file, 2u << 20);
    if ((data[0] & 1) == 0) {
        uint8_t sig[64];
        char sig_hex[129];
        require(vt_p256_sign(key, data + 1, size - 1, sig, &d) == VT_OK);
        vt_hex_encode(sig, 64, sig_hex);
        require(vt_buf_append(&file, "{\"bundle\":", 10) == VT_OK);
        require(vt_buf_append(&file, data + 1, size - 1) == VT_OK);
        require(vt_buf_printf(&file, ",\"signature\":\"%s\"}", sig_hex) == VT_OK);
    } else {
        require(vt_buf_append(&file, data + 1, size - 1) == VT_OK);
    }
    size_t n = 99;
    enum vt_err err = vt_cache_import(cache, file.data, file.len, key_xy, &n, &d);
    if (err != VT_OK) {
        require(d.code == err);
    }
    /* An import with no items and no enforcement is a valid no-op; anything else is refused. */
    require(count(cache, "SELECT count(*) FROM vt_items") == 0);
    require(err != VT_OK || n == 0);
    /* a well-formed schedule may be imported, by a successful import only */
    require(err == VT_OK || count(cache, "SELECT count(*) FROM vt_enforce") == 0);
    vt_buf_cleanup(&file);
    vt_cache_close(cache);
    return 0;
}
