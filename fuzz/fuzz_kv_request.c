/*
 * Fuzz the Key Vault drop-in's readers of request bodies (src/azure/kv_api.c, kv_ops.c,
 * kv_release.c): vt_kv_body_read on the raw bytes, then on what parses vt_kv_policy_read (the
 * release_policy member of create, import and update, or the whole object) and
 * vt_kv_target_kek (the key encryption key of a token's claims, here the object itself).
 * Invariants: a refusal has a 4xx status, a code and a message, and no output; an accepted
 * policy is stored as an object {contentType, data, immutable} that reads again the same; a key
 * encryption key found is RSA.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "azure/kv.h"

static void require(int cond)
{
    if (!cond) {
        abort();
    }
}

static void refusal_ok(const struct vt_az_error *e)
{
    require(e->status >= 400 && e->status < 500);
    require(e->code[0] != '\0' && e->message[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = NULL;
    struct vt_az_error e;
    memset(&e, 0, sizeof(e));
    if (!vt_kv_body_read(data, size, &body, &e)) {
        require(body == NULL);
        refusal_ok(&e);
        return 0;
    }
    require(json_is_object(body));
    const json_t *rp = json_object_get(body, "release_policy");
    char *stored = NULL;
    memset(&e, 0, sizeof(e));
    if (vt_kv_policy_read(rp ? rp : body, &stored, &e)) {
        require(stored != NULL);
        json_t *again = json_loads(stored, 0, NULL);
        require(json_is_object(again));
        char *twice = NULL;
        struct vt_az_error e2;
        require(vt_kv_policy_read(again, &twice, &e2));
        require(strcmp(stored, twice) == 0);
        free(twice);
        json_decref(again);
        free(stored);
    } else {
        require(stored == NULL);
        refusal_ok(&e);
    }
    struct vt_kv_target t;
    memset(&t, 0, sizeof(t));
    t.claims = json_incref(body);
    memset(&e, 0, sizeof(e));
    if (vt_kv_target_kek(&t, &e)) {
        require(t.kek != NULL && strcmp(vt_jwk_kty(t.kek), "RSA") == 0);
    } else {
        require(t.kek == NULL);
        refusal_ok(&e);
    }
    vt_kv_target_cleanup(&t);
    json_decref(body);
    return 0;
}
