/*
 * Private to src/tee/dcap/: helpers shared by the signed collateral parsers (tcb_info.c,
 * qe_identity.c), implemented in json_span.c. They read fields out of jansson values and report
 * every failure with the JSON path of the field ("tcbInfo.tcbLevels[3].tcb.pcesvn") and its
 * value. Nothing outside src/tee/dcap/ includes this header.
 */
#ifndef VT_DCAP_JSON_INTERNAL_H
#define VT_DCAP_JSON_INTERNAL_H

#include <jansson.h>

#include "tee/dcap/dcap.h"

/*
 * The path of the field being read, for error messages. The diag's `check` gets the path without
 * array indices ("tcbInfo.tcbLevels.tcb.pcesvn": short and stable), the detail the full path
 * followed by the problem and the value.
 */
#define VT_JPATH_MAX 160
struct vt_jpath {
    char buf[VT_JPATH_MAX];
    size_t len;
    struct vt_diag *d;
};

void vt_jpath_init(struct vt_jpath *p, const char *root, struct vt_diag *d);
/* Append ".key" (or "key" at the root) / "[i]"; return the length to restore with _pop. */
size_t vt_jpath_key(struct vt_jpath *p, const char *key);
size_t vt_jpath_index(struct vt_jpath *p, size_t i);
void vt_jpath_pop(struct vt_jpath *p, size_t mark);
/* Record code in p->d with the current path; fmt describes the problem and the value. */
enum vt_err vt_jpath_fail(struct vt_jpath *p, enum vt_err code, const char *fmt, ...)
    VT_PRINTF(3, 4);

/* VT_E_BAD_FIELD at the current path: "expected <expected>, got <v, quoted and escaped>". */
enum vt_err vt_json_bad_value(struct vt_jpath *p, const json_t *v, const char *expected);

/*
 * Field readers: each appends `key` to the path while it works and restores it before
 * returning. VT_E_MISSING_FIELD if the member is absent, VT_E_BAD_FIELD if it has the wrong type
 * or value (detail: what was expected and what was found).
 */
enum vt_err vt_json_member(struct vt_jpath *p, json_t *obj, const char *key, json_t **out);
enum vt_err vt_json_get_object(struct vt_jpath *p, json_t *obj, const char *key, json_t **out);
/* An array of min..max elements: fewer is VT_E_BAD_FIELD, more VT_E_TOO_LARGE. */
enum vt_err vt_json_get_array(struct vt_jpath *p, json_t *obj, const char *key, size_t min,
                              size_t max, json_t **out);
/* A string; *s borrows from obj. */
enum vt_err vt_json_get_string(struct vt_jpath *p, json_t *obj, const char *key, const char **s,
                               size_t *len);
/* An integer in 0..max. */
enum vt_err vt_json_get_uint(struct vt_jpath *p, json_t *obj, const char *key, uint64_t max,
                             uint64_t *out);
/* A hex string (either case) of exactly 2n digits, decoded into out[n]. */
enum vt_err vt_json_get_hex(struct vt_jpath *p, json_t *obj, const char *key, uint8_t *out,
                            size_t n);
/* An RFC 3339 date-time. */
enum vt_err vt_json_get_time(struct vt_jpath *p, json_t *obj, const char *key, vt_time *out);
/* A TCB status in Intel's spelling; isv_only restricts it to UpToDate, OutOfDate, Revoked (QE
 * identity and TDX module identity levels), otherwise to the seven TCB info level statuses. */
enum vt_err vt_json_get_status(struct vt_jpath *p, json_t *obj, const char *key, bool isv_only,
                               enum vt_tcb_status *out);
/*
 * The optional "advisoryIDs" array of a level: at most VT_MAX_ADVISORIES strings (else
 * VT_E_TOO_LARGE) of 1..VT_ADVISORY_ID_MAX-1 printable ASCII characters (longer: VT_E_TOO_LARGE;
 * empty or other characters: VT_E_BAD_FIELD). *ids is malloc'd (NULL when *n is 0).
 */
enum vt_err vt_json_get_advisories(struct vt_jpath *p, json_t *level, size_t *n,
                                   char (**ids)[VT_ADVISORY_ID_MAX]);

/*
 * The "tcbLevels" array of an enclave identity or TDX module identity: 1..VT_MAX_TCB_LEVELS
 * levels {tcb{isvsvn}, tcbDate, tcbStatus, advisoryIDs?}, returned sorted by isvsvn descending;
 * two levels with one isvsvn are VT_E_DUPLICATE. *levels is owned by the caller
 * (vt_isv_levels_free); on failure nothing is allocated.
 */
enum vt_err vt_json_get_isv_levels(struct vt_jpath *p, json_t *obj, struct vt_isv_level **levels,
                                   size_t *n);
void vt_isv_levels_free(struct vt_isv_level *levels, size_t n);

/*
 * A signed PCS document {"<name>":{...},"signature":"<128 hex>"} (other top-level members are
 * ignored). Checks the size cap and the JSON structure, locates the raw inner object (body,
 * borrowed from json), decodes the signature, and parses the body's own bytes with jansson into
 * *inner (a new reference the caller releases with json_decref).
 */
enum vt_err vt_signed_doc_load(const uint8_t *json, size_t len, const char *name, json_t **inner,
                               const uint8_t **body, size_t *body_len, uint8_t signature[64],
                               struct vt_diag *d);

#endif
