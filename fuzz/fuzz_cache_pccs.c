/*
 * Fuzz the parsers of PCCS's request bodies on the cache (cache_pccs.c). Byte 0 chooses:
 *  0: a platform registration (POST platforms, PCKIDRetrievalTool's body);
 *  1: an appraisal policy (PUT appraisalpolicy: {policy JWT, is_default, fmspc});
 *  2, 3: a platformcollateral upload (the PCCS admin tool's file) on the v4 or the v3 API.
 * The rest is the body. Invariants: a failure records its code and leaves nothing allocated in
 * the result; a registration yields lowercase hex of the lengths PCCS's schema gives; a policy a
 * 96-digit ID and an uppercase FMSPC; an upload only documents whose key is canonical (it parses
 * to itself, for the path's API version) and whose stored header lines hold no CR and end in LF.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"

static void require(int cond)
{
    if (!cond) {
        abort();
    }
}

static bool hex_of(const char *s, size_t want, size_t max)
{
    size_t n = strlen(s);
    if (want ? n != want : n > max) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20)) {
        return 0;
    }
    const uint8_t *body = data + 1;
    size_t n = size - 1;
    struct vt_diag d;
    vt_diag_init(&d);
    switch (data[0] & 3) {
    case 0: {
        struct vt_pccs_platform p;
        enum vt_err err = vt_cache_pccs_platform_parse(body, n, &p, &d);
        if (err != VT_OK) {
            require(d.code == err);
            break;
        }
        require(hex_of(p.qe_id, 0, 32) && p.qe_id[0] != '\0' && hex_of(p.pce_id, 4, 0));
        require(hex_of(p.cpu_svn, 32, 0) && hex_of(p.pce_svn, 4, 0) && hex_of(p.enc_ppid, 768, 0));
        break;
    }
    case 1: {
        struct vt_pccs_policy p;
        enum vt_err err = vt_cache_pccs_policy_parse(body, n, &p, &d);
        if (err != VT_OK) {
            require(d.code == err);
        } else {
            require(strlen(p.id) == 96 && hex_of(p.id, 96, 0) && strlen(p.fmspc) == 12);
            require(p.type >= 0 && p.type <= 2 && p.policy != NULL && p.policy[0] != '\0');
        }
        vt_cache_pccs_policy_cleanup(&p);
        break;
    }
    default: {
        unsigned api = (data[0] & 3) == 2 ? 4 : 3;
        struct vt_pccs_upload u;
        enum vt_err err = vt_cache_pccs_upload_parse(body, n, api, &u, &d);
        if (err != VT_OK) {
            require(d.code == err && u.items == NULL && u.n_items == 0 && u.platforms == NULL);
            break;
        }
        require(u.n_items > 0);
        for (size_t i = 0; i < u.n_items; i++) {
            const struct vt_cache_item *it = &u.items[i];
            struct vt_cache_req r;
            require(vt_cache_req_from_key(it->key, &r, &d) == VT_OK);
            require(strcmp(r.key, it->key) == 0 && r.kind == it->kind);
            require((strstr(it->key, "/v3/") != NULL) == (api == 3 && r.api == 3));
            require(strchr(it->headers, '\r') == NULL);
            size_t hl = strlen(it->headers);
            require(hl == 0 || it->headers[hl - 1] == '\n');
            require(it->body != NULL);
        }
        for (size_t i = 0; i < u.n_platforms; i++) {
            require(hex_of(u.platforms[i].qe_id, 0, 32) && hex_of(u.platforms[i].pce_id, 4, 0));
            require(hex_of(u.platforms[i].enc_ppid, 768, 0));
        }
        vt_cache_pccs_upload_cleanup(&u);
        require(u.items == NULL && u.platforms == NULL);
        break;
    }
    }
    return 0;
}
