/*
 * The claims registry (src/claims/claims_list.h) as data and typed values: what the JSON writer,
 * the policy language and `veritee claims --markdown` use. Internal to libveritee (not installed):
 * the public face is vt_claims_to_json (claims.h) and vt_policy_claim_type (policy.h).
 */
#ifndef VERITEE_CLAIMS_REGISTRY_H
#define VERITEE_CLAIMS_REGISTRY_H

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include <veritee/claims.h>

#include "claims/claims_list.h"

enum vt_claim_id {
#define VT_CLAIM_ID_(id, section, name, type, lengths, values, when, get, doc) VT_CLAIM_##id,
    VT_CLAIMS_LIST(VT_CLAIM_ID_)
#undef VT_CLAIM_ID_
        VT_CLAIM_COUNT
};

enum vt_claim_type {
    VT_CT_STRING,
    VT_CT_ENUM,
    VT_CT_HEX,
    VT_CT_INT,
    VT_CT_BOOL,
    VT_CT_TIME,
    VT_CT_U64, /* "0x..." lowercase hex of a 64-bit number (snp.policy, snp.*_tcb.raw) */
    VT_CT_ARRAY,
    VT_CT_OBJECT,
    VT_CT_ANY,
};

/* The docs tables, in docs order. */
enum vt_claim_section {
    VT_CS_COMMON,
    VT_CS_SGX,
    VT_CS_TDX,
    VT_CS_DCAP,
    VT_CS_NITRO,
    VT_CS_SNP,
    VT_CS_COLLATERAL,
    VT_CS_COUNT,
};

struct vt_claim_info {
    enum vt_claim_id id;
    enum vt_claim_section section;
    const char *name; /* ends in '.' for a prefix claim */
    enum vt_claim_type type;
    unsigned short len[3];           /* VT_CT_HEX: allowed byte lengths; len[0] == 0: any */
    const char *(*values)(size_t i); /* VT_CT_ENUM: the i-th value, NULL past the last */
    const char *doc;                 /* "" continues the row above in the docs */
};

/* Whether and how a claim is there: absent, JSON null (an unset time), or with a value. */
enum vt_claim_presence { VT_CLAIM_ABSENT, VT_CLAIM_NULL, VT_CLAIM_PRESENT };

/* A claim's typed value, read from struct vt_claims without any JSON. Borrows from the claims
 * except j (owned: vt_claim_value_cleanup) and the scratch buffers. */
struct vt_claim_value {
    const char *s;        /* STRING, ENUM: NUL-terminated */
    const uint8_t *bytes; /* HEX */
    size_t n;             /* HEX: bytes */
    int64_t i;            /* INT */
    bool b;               /* BOOL */
    uint64_t u;           /* U64 */
    vt_time t;            /* TIME: seconds */
    int ms;               /* TIME: milliseconds, -1 when the claim has none (RFC 3339 without) */
    uint8_t scratch[8];   /* computed bytes (sgx.miscselect) */
    char text[48];        /* computed strings (versions) */
    json_t *j;            /* ARRAY, OBJECT, ANY */
};

extern const char *const vt_claim_type_names[]; /* "string", "enum", "hex", ... */
extern const char *const vt_claim_section_titles[];

const struct vt_claim_info *vt_claim_info(enum vt_claim_id id);
/* The claim a name belongs to (an exact name, or a prefix claim's name + non-empty suffix);
 * NULL for a name vt_claims_to_json never emits. */
const struct vt_claim_info *vt_claim_lookup(const char *name);
static inline bool vt_claim_is_prefix(const struct vt_claim_info *ci)
{
    size_t n = strlen(ci->name);
    return n > 0 && ci->name[n - 1] == '.';
}

/*
 * Read one claim from c. name is the full name (needed by prefix claims; may be NULL otherwise).
 * v is filled only when VT_CLAIM_PRESENT; release it with vt_claim_value_cleanup either way.
 */
enum vt_claim_presence vt_claim_get(const struct vt_claim_info *ci, const char *name,
                                    const struct vt_claims *c, struct vt_claim_value *v);
void vt_claim_value_cleanup(struct vt_claim_value *v);
/* The JSON form of a present value (new reference, NULL on failure: no memory, a string that is
 * not UTF-8, a fixed-length hex value over 64 bytes). Takes v->j. */
json_t *vt_claim_value_json(const struct vt_claim_info *ci, struct vt_claim_value *v);
/* A TIME value as vt_claims_to_json writes it (RFC 3339, with milliseconds when v->ms >= 0). */
void vt_claim_time_text(const struct vt_claim_value *v, char out[VT_TIME_STR_MAX + 8]);

/* The markdown tables of docs/claims.md, one per section. */
void vt_claims_markdown(FILE *f);

#endif
