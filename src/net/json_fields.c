/* Typed field readers for JSON bodies (json_fields.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/encoding.h"

#include "net/json_fields.h"

const char *vt_json_type_name(const json_t *v)
{
    switch (v != NULL ? json_typeof(v) : JSON_NULL) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
    default:
        return v != NULL ? "null" : "nothing";
    }
}

void vt_json_path(char *out, size_t cap, const char *parent, const char *name)
{
    snprintf(out, cap, "%s.%s", parent != NULL ? parent : "$", name);
}

static enum vt_err missing(const char *path, const char *name, struct vt_diag *d)
{
    char p[VT_JSON_PATH_MAX];
    vt_json_path(p, sizeof(p), path, name);
    return vt_fail(d, VT_E_MISSING_FIELD, p, "%s: required field is missing", p);
}

static enum vt_err mistyped(const char *path, const char *name, const char *want, const json_t *v,
                            struct vt_diag *d)
{
    char p[VT_JSON_PATH_MAX];
    vt_json_path(p, sizeof(p), path, name);
    return vt_fail(d, VT_E_BAD_FIELD, p, "%s: expected %s, got %s", p, want, vt_json_type_name(v));
}

/* The member for a reader: VT_OK with *v NULL when an optional one is absent or null. A required
 * one that is null is mistyped ("expected a string, got null"). */
static enum vt_err get(const json_t *o, const char *path, const char *name, bool required,
                       const char *want, json_t **v, struct vt_diag *d)
{
    json_t *raw = json_is_object(o) ? json_object_get(o, name) : NULL;
    *v = json_is_null(raw) ? NULL : raw;
    if (*v == NULL && required) {
        return raw == NULL ? missing(path, name, d) : mistyped(path, name, want, raw, d);
    }
    return VT_OK;
}

static enum vt_err string_field(const json_t *o, const char *path, const char *name, bool required,
                                const char **out, struct vt_diag *d)
{
    json_t *v;
    VT_TRY(get(o, path, name, required, "a string", &v, d));
    if (v == NULL) {
        return VT_OK;
    }
    if (!json_is_string(v)) {
        return mistyped(path, name, "a string", v, d);
    }
    *out = json_string_value(v);
    return VT_OK;
}

enum vt_err vt_json_req_string(const json_t *o, const char *path, const char *name,
                               const char **out, struct vt_diag *d)
{
    return string_field(o, path, name, true, out, d);
}

enum vt_err vt_json_opt_string(const json_t *o, const char *path, const char *name,
                               const char **out, struct vt_diag *d)
{
    return string_field(o, path, name, false, out, d);
}

static enum vt_err int_field(const json_t *o, const char *path, const char *name, bool required,
                             int64_t min, int64_t max, int64_t *out, struct vt_diag *d)
{
    json_t *v;
    VT_TRY(get(o, path, name, required, "an integer", &v, d));
    if (v == NULL) {
        return VT_OK;
    }
    if (!json_is_integer(v)) {
        return mistyped(path, name, "an integer", v, d);
    }
    json_int_t i = json_integer_value(v);
    if (i < min || i > max) {
        char p[VT_JSON_PATH_MAX];
        vt_json_path(p, sizeof(p), path, name);
        return vt_fail(d, VT_E_BAD_FIELD, p, "%s: expected an integer from %lld to %lld, got %lld",
                       p, (long long)min, (long long)max, (long long)i);
    }
    *out = (int64_t)i;
    return VT_OK;
}

enum vt_err vt_json_req_int(const json_t *o, const char *path, const char *name, int64_t min,
                            int64_t max, int64_t *out, struct vt_diag *d)
{
    return int_field(o, path, name, true, min, max, out, d);
}

enum vt_err vt_json_opt_int(const json_t *o, const char *path, const char *name, int64_t min,
                            int64_t max, int64_t *out, struct vt_diag *d)
{
    return int_field(o, path, name, false, min, max, out, d);
}

static enum vt_err bool_field(const json_t *o, const char *path, const char *name, bool required,
                              bool *out, struct vt_diag *d)
{
    json_t *v;
    VT_TRY(get(o, path, name, required, "a boolean", &v, d));
    if (v == NULL) {
        return VT_OK;
    }
    if (!json_is_boolean(v)) {
        return mistyped(path, name, "a boolean", v, d);
    }
    *out = json_is_true(v);
    return VT_OK;
}

enum vt_err vt_json_req_bool(const json_t *o, const char *path, const char *name, bool *out,
                             struct vt_diag *d)
{
    return bool_field(o, path, name, true, out, d);
}

enum vt_err vt_json_opt_bool(const json_t *o, const char *path, const char *name, bool *out,
                             struct vt_diag *d)
{
    return bool_field(o, path, name, false, out, d);
}

static enum vt_err typed_field(const json_t *o, const char *path, const char *name, bool required,
                               json_type type, const char *want, json_t **out, struct vt_diag *d)
{
    json_t *v;
    VT_TRY(get(o, path, name, required, want, &v, d));
    if (v == NULL) {
        return VT_OK;
    }
    if (json_typeof(v) != type) {
        return mistyped(path, name, want, v, d);
    }
    *out = v;
    return VT_OK;
}

enum vt_err vt_json_req_object(const json_t *o, const char *path, const char *name, json_t **out,
                               struct vt_diag *d)
{
    return typed_field(o, path, name, true, JSON_OBJECT, "an object", out, d);
}

enum vt_err vt_json_opt_object(const json_t *o, const char *path, const char *name, json_t **out,
                               struct vt_diag *d)
{
    return typed_field(o, path, name, false, JSON_OBJECT, "an object", out, d);
}

enum vt_err vt_json_req_array(const json_t *o, const char *path, const char *name, json_t **out,
                              struct vt_diag *d)
{
    return typed_field(o, path, name, true, JSON_ARRAY, "an array", out, d);
}

enum vt_err vt_json_opt_array(const json_t *o, const char *path, const char *name, json_t **out,
                              struct vt_diag *d)
{
    return typed_field(o, path, name, false, JSON_ARRAY, "an array", out, d);
}

static enum vt_err base64_field(const json_t *o, const char *path, const char *name, bool required,
                                uint8_t **out, size_t *len, struct vt_diag *d)
{
    const char *s = NULL;
    VT_TRY(string_field(o, path, name, required, &s, d));
    if (s == NULL) {
        return VT_OK;
    }
    size_t sl = strlen(s);
    uint8_t *buf = malloc(sl + 1);
    char p[VT_JSON_PATH_MAX];
    vt_json_path(p, sizeof(p), path, name);
    VT_ENSURE(buf != NULL, d, VT_E_NOMEM, p, "%s: out of memory", p);
    bool url = strchr(s, '-') != NULL || strchr(s, '_') != NULL;
    size_t n = 0;
    if (vt_base64_decode(s, sl, url, buf, sl + 1, &n) != VT_OK) {
        free(buf);
        return vt_fail(d, VT_E_BAD_BASE64, p,
                       "%s: expected base64, got a string of %zu characters "
                       "that does not decode",
                       p, sl);
    }
    *out = buf;
    *len = n;
    return VT_OK;
}

enum vt_err vt_json_req_base64(const json_t *o, const char *path, const char *name, uint8_t **out,
                               size_t *len, struct vt_diag *d)
{
    return base64_field(o, path, name, true, out, len, d);
}

enum vt_err vt_json_opt_base64(const json_t *o, const char *path, const char *name, uint8_t **out,
                               size_t *len, struct vt_diag *d)
{
    return base64_field(o, path, name, false, out, len, d);
}

char *vt_json_dumps_raw(const json_t *o, const char *key, const char *raw)
{
    char *s = json_dumps(o, JSON_COMPACT);
    if (s == NULL || raw == NULL) {
        return s;
    }
    /* `"key":"<placeholder>"`: inside a JSON string every quote is escaped, so this unescaped
     * sequence is the member itself. */
    size_t klen = strlen(key), plen = strlen(VT_JSON_RAW_PLACEHOLDER), rlen = strlen(raw);
    size_t mlen = klen + plen + 5;
    char *m = malloc(mlen + 1);
    char *at = NULL;
    if (m != NULL) {
        snprintf(m, mlen + 1, "\"%s\":\"%s\"", key, VT_JSON_RAW_PLACEHOLDER);
        at = strstr(s, m);
    }
    free(m);
    if (at == NULL) {
        free(s);
        return NULL;
    }
    size_t head = (size_t)(at - s) + klen + 3, tail = strlen(at + mlen), n = head + rlen + tail;
    char *out = malloc(n + 1);
    if (out != NULL) {
        memcpy(out, s, head);
        memcpy(out + head, raw, rlen);
        memcpy(out + head + rlen, at + mlen, tail + 1);
    }
    free(s);
    return out;
}
