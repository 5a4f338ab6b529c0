/*
 * Typed field readers for JSON request and response bodies (the broker's and the cache's APIs, the
 * broker client): each reads one member of an object and reports a missing or mistyped field with
 * its JSON path, in place of a silent default.
 *
 * Every reader takes the object, the object's own path ("$" for the body, "$.runtime_data" for a
 * member object) and the member's name. On failure it records in `d` (check: the field's path,
 * detail: "<path>: <what is wrong>") and returns
 *   VT_E_MISSING_FIELD  a required member is absent,
 *   VT_E_BAD_FIELD      a member has the wrong JSON type, or an integer outside [min, max],
 *   VT_E_BAD_BASE64     a base64 member does not decode,
 *   VT_E_NOMEM          out of memory (base64 only),
 * and leaves *out untouched. Messages read "$.runtime_data.data: expected a string, got a number".
 *
 * Optional readers treat an absent member and a JSON null alike (serde's None, many clients'
 * "not given"), leave *out at the caller's default and return VT_OK, and fail on any other type.
 * A required member that is null is mistyped ("expected a string, got null"). A NULL object (a
 * member object that was itself absent) has no members.
 *
 * Strings, objects and arrays are borrowed from the json_t and live as long as it does.
 */
#ifndef VT_NET_JSON_FIELDS_H
#define VT_NET_JSON_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <veritee/error.h>

/* Longest path a reader reports (longer ones are cut). */
#define VT_JSON_PATH_MAX 128

/* "a string", "a number", "a boolean", "an object", "an array", "null" ("nothing" for NULL). */
const char *vt_json_type_name(const json_t *v);

/* parent + "." + name into out (cut at cap). */
void vt_json_path(char *out, size_t cap, const char *parent, const char *name);

VT_MUST_USE enum vt_err vt_json_req_string(const json_t *o, const char *path, const char *name,
                                           const char **out, struct vt_diag *d);
VT_MUST_USE enum vt_err vt_json_opt_string(const json_t *o, const char *path, const char *name,
                                           const char **out, struct vt_diag *d);
/* An integer (a JSON number without fraction or exponent) in [min, max]. */
VT_MUST_USE enum vt_err vt_json_req_int(const json_t *o, const char *path, const char *name,
                                        int64_t min, int64_t max, int64_t *out, struct vt_diag *d);
VT_MUST_USE enum vt_err vt_json_opt_int(const json_t *o, const char *path, const char *name,
                                        int64_t min, int64_t max, int64_t *out, struct vt_diag *d);
VT_MUST_USE enum vt_err vt_json_req_bool(const json_t *o, const char *path, const char *name,
                                         bool *out, struct vt_diag *d);
VT_MUST_USE enum vt_err vt_json_opt_bool(const json_t *o, const char *path, const char *name,
                                         bool *out, struct vt_diag *d);
VT_MUST_USE enum vt_err vt_json_req_object(const json_t *o, const char *path, const char *name,
                                           json_t **out, struct vt_diag *d);
VT_MUST_USE enum vt_err vt_json_opt_object(const json_t *o, const char *path, const char *name,
                                           json_t **out, struct vt_diag *d);
VT_MUST_USE enum vt_err vt_json_req_array(const json_t *o, const char *path, const char *name,
                                          json_t **out, struct vt_diag *d);
VT_MUST_USE enum vt_err vt_json_opt_array(const json_t *o, const char *path, const char *name,
                                          json_t **out, struct vt_diag *d);
/*
 * A base64 string (the standard alphabet with padding, or the URL one, padding optional, when
 * the text holds '-' or '_': vt_base64_decode), decoded into a malloc'd *out of *len bytes that
 * the caller frees. The optional reader leaves *out NULL and *len 0 when the member is absent or
 * null.
 */
VT_MUST_USE enum vt_err vt_json_req_base64(const json_t *o, const char *path, const char *name,
                                           uint8_t **out, size_t *len, struct vt_diag *d);
VT_MUST_USE enum vt_err vt_json_opt_base64(const json_t *o, const char *path, const char *name,
                                           uint8_t **out, size_t *len, struct vt_diag *d);

/*
 * The compact JSON text of o in which the member `key` (a string member whose value is
 * VT_JSON_RAW_PLACEHOLDER, exactly once in the text) is replaced by raw, a JSON text the caller
 * produced (e.g. claims already encoded): no parsing and re-encoding of raw. Heap, or NULL if o
 * does not encode, the member is not found, or no memory.
 */
#define VT_JSON_RAW_PLACEHOLDER "@veritee.raw.json@"
char *vt_json_dumps_raw(const json_t *o, const char *key, const char *raw);

#endif
