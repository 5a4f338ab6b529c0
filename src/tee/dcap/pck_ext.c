/*
 * The Intel SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1).
 *
 * SPEC: Intel SGX PCK Certificate and CRL Profile; QVL PckCertificate / SgxExtensions
 * (DCAP 1.21); our summary in spec/dcap.md section 2. The extension value is DER:
 *
 *   SEQUENCE {                              5 entries (Processor CA) or 7 (Platform CA),
 *                                           any order, each OID at most once
 *     SEQUENCE { OID .1  PPID                OCTET STRING (16) }
 *     SEQUENCE { OID .2  TCB                 SEQUENCE {   18 entries, each exactly once
 *         SEQUENCE { OID .2.1 ... .2.16      INTEGER 0..255 }      SGX TCB component SVNs
 *         SEQUENCE { OID .2.17               INTEGER 0..65535 }    PCESVN
 *         SEQUENCE { OID .2.18               OCTET STRING (16) } } CPUSVN
 *     SEQUENCE { OID .3  PCE-ID              OCTET STRING (2) }
 *     SEQUENCE { OID .4  FMSPC               OCTET STRING (6) }
 *     SEQUENCE { OID .5  SGX Type            ENUMERATED 0..2 }
 *     SEQUENCE { OID .6  PlatformInstanceID  OCTET STRING (16) }   Platform CA only
 *     SEQUENCE { OID .7  Configuration       SEQUENCE {            Platform CA only
 *         SEQUENCE { OID .7.1 dynamicPlatform BOOLEAN }            each optional, at most once
 *         SEQUENCE { OID .7.2 cachedKeys      BOOLEAN }
 *         SEQUENCE { OID .7.3 SMTEnabled      BOOLEAN } } }
 *   }
 *
 * (.N abbreviates 1.2.840.113741.1.13.1.N.) Every failure, malformed DER included, is
 * VT_E_CERT_EXTENSION with the OID concerned in the detail.
 */
#include <stdio.h>
#include <string.h>

#include "tee/dcap/dcap.h"
#include "base/der.h"
#include "base/reader.h"

#define OID_TEXT_MAX 96
#define TCB_ENTRIES 18
#define TOP_MAX 7
#define CONFIG_MAX 3

static const char *const top_names[TOP_MAX + 1] = {
    "", "PPID", "TCB", "PCE-ID", "FMSPC", "SGX Type", "PlatformInstanceID", "Configuration"};
static const char *const config_names[CONFIG_MAX + 1] = {"", "dynamicPlatform", "cachedKeys",
                                                         "SMTEnabled"};

/*
 * If `oid` is `prefix` "." N with N a decimal number in 1..max (no leading zero), return N;
 * otherwise 0. `oid` is our own dotted rendering of the DER OID, not raw input.
 */
static unsigned oid_arc_under(const char *oid, const char *prefix, unsigned max)
{
    size_t plen = strlen(prefix);
    if (strncmp(oid, prefix, plen) != 0 || oid[plen] != '.') {
        return 0;
    }
    const char *s = oid + plen + 1;
    if (s[0] < '1' || s[0] > '9') {
        return 0;
    }
    unsigned v = 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > max) {
            return 0;
        }
        v = v * 10 + (unsigned)(*s - '0');
    }
    return v <= max ? v : 0;
}

/*
 * One SEQUENCE { OID, value } entry of `seq`, with nothing after the value; `where` names the
 * enclosing structure. `oid` receives the OID's dotted text.
 */
static enum vt_err get_pair(struct vt_reader *seq, const char *where, char oid[OID_TEXT_MAX],
                            struct vt_der_tlv *val, struct vt_diag *d)
{
    size_t off = vt_reader_offset(seq);
    struct vt_reader entry, oid_content;
    enum vt_err err = vt_der_expect(seq, VT_DER_SEQUENCE, &entry);
    if (err != VT_OK) {
        return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                       "%s: entry at offset %zu is not a SEQUENCE { OID, value } (%s)", where, off,
                       vt_err_name(err));
    }
    err = vt_der_expect(&entry, VT_DER_OID, &oid_content);
    if (err != VT_OK) {
        return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                       "%s: entry at offset %zu does not start with an OID (%s)", where, off,
                       vt_err_name(err));
    }
    size_t oid_len = vt_reader_left(&oid_content);
    const uint8_t *oid_bytes;
    if ((err = vt_reader_get_bytes(&oid_content, oid_len, &oid_bytes)) != VT_OK ||
        (err = vt_der_oid_to_text(oid_bytes, oid_len, oid, OID_TEXT_MAX)) != VT_OK) {
        return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                       "%s: entry at offset %zu has a malformed or overlong OID of %zu bytes (%s)",
                       where, off, oid_len, vt_err_name(err));
    }
    err = vt_der_get(&entry, val);
    if (err != VT_OK) {
        return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                       "%s: OID %s at offset %zu has no well-formed value (%s)", where, oid, off,
                       vt_err_name(err));
    }
    if (vt_reader_expect_end(&entry) != VT_OK) {
        return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                       "%s: OID %s at offset %zu has %zu unexpected bytes after its value", where,
                       oid, off, vt_reader_left(&entry));
    }
    return VT_OK;
}

static const char *tag_name(uint8_t tag)
{
    switch (tag) {
    case VT_DER_BOOLEAN:
        return "BOOLEAN";
    case VT_DER_INTEGER:
        return "INTEGER";
    case VT_DER_OCTET_STRING:
        return "OCTET STRING";
    case VT_DER_NULL:
        return "NULL";
    case VT_DER_OID:
        return "OID";
    case VT_DER_ENUMERATED:
        return "ENUMERATED";
    case VT_DER_SEQUENCE:
        return "SEQUENCE";
    case VT_DER_SET:
        return "SET";
    default:
        return "another type";
    }
}

static enum vt_err want_tag(const struct vt_der_tlv *v, uint8_t tag, const char *oid,
                            const char *name, struct vt_diag *d)
{
    if (v->tag != tag) {
        return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                       "OID %s (%s): value has tag 0x%02x (%s); expected %s", oid, name, v->tag,
                       tag_name(v->tag), tag_name(tag));
    }
    return VT_OK;
}

/* An OCTET STRING of exactly n bytes, copied to dst. */
static enum vt_err get_octets(const struct vt_der_tlv *v, const char *oid, const char *name,
                              uint8_t *dst, size_t n, struct vt_diag *d)
{
    VT_TRY(want_tag(v, VT_DER_OCTET_STRING, oid, name, d));
    if (v->len != n) {
        return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                       "OID %s (%s): OCTET STRING of %zu bytes; expected %zu", oid, name, v->len,
                       n);
    }
    struct vt_reader r;
    vt_reader_init(&r, v->val, v->len);
    if (vt_reader_copy(&r, dst, n) != VT_OK) {
        return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                       "OID %s (%s): OCTET STRING unreadable", oid, name);
    }
    return VT_OK;
}

/* A non-negative INTEGER or ENUMERATED (per `tag`) no larger than max. */
static enum vt_err get_uint(const struct vt_der_tlv *v, uint8_t tag, uint64_t max, const char *oid,
                            const char *name, uint64_t *out, struct vt_diag *d)
{
    VT_TRY(want_tag(v, tag, oid, name, d));
    enum vt_err err = vt_der_uint(v, max, out);
    if (err != VT_OK) {
        return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                       "OID %s (%s): %s is negative, non-minimal or above %llu (%s)", oid, name,
                       tag_name(tag), (unsigned long long)max, vt_err_name(err));
    }
    return VT_OK;
}

/* SPEC: SGX extension .2 TCB: 18 pairs .2.1-.2.16 component SVNs, .2.17 PCESVN, .2.18 CPUSVN. */
static enum vt_err parse_tcb(const struct vt_der_tlv *v, const char *tcb_oid,
                             struct vt_sgx_pck_ext *e, struct vt_diag *d)
{
    VT_TRY(want_tag(v, VT_DER_SEQUENCE, tcb_oid, "TCB", d));
    struct vt_reader r;
    vt_reader_init(&r, v->val, v->len);
    bool seen[TCB_ENTRIES + 1] = {false};
    while (vt_reader_left(&r) > 0) {
        char oid[OID_TEXT_MAX];
        struct vt_der_tlv val;
        VT_TRY(get_pair(&r, "TCB", oid, &val, d));
        unsigned arc = oid_arc_under(oid, tcb_oid, TCB_ENTRIES);
        if (arc == 0) {
            return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                           "TCB (%s): unknown OID %s", tcb_oid, oid);
        }
        if (seen[arc]) {
            return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                           "TCB (%s): duplicate OID %s", tcb_oid, oid);
        }
        seen[arc] = true;
        uint64_t u;
        if (arc <= 16) {
            char name[32];
            snprintf(name, sizeof(name), "SGX TCB comp %02u SVN", arc);
            VT_TRY(get_uint(&val, VT_DER_INTEGER, 255, oid, name, &u, d));
            e->tcb_components[arc - 1] = (uint8_t)u;
        } else if (arc == 17) {
            VT_TRY(get_uint(&val, VT_DER_INTEGER, 65535, oid, "PCESVN", &u, d));
            e->pcesvn = (uint16_t)u;
        } else {
            VT_TRY(get_octets(&val, oid, "CPUSVN", e->cpusvn, sizeof(e->cpusvn), d));
        }
    }
    for (unsigned arc = 1; arc <= TCB_ENTRIES; arc++) {
        if (!seen[arc]) {
            return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                           "TCB (%s): OID %s.%u is missing; all 18 entries are required", tcb_oid,
                           tcb_oid, arc);
        }
    }
    return VT_OK;
}

/* SPEC: SGX extension .7 Configuration: optional BOOLEANs .7.1-.7.3, each at most once. */
static enum vt_err parse_config(const struct vt_der_tlv *v, const char *cfg_oid,
                                struct vt_sgx_pck_ext *e, struct vt_diag *d)
{
    VT_TRY(want_tag(v, VT_DER_SEQUENCE, cfg_oid, "Configuration", d));
    struct vt_reader r;
    vt_reader_init(&r, v->val, v->len);
    bool seen[CONFIG_MAX + 1] = {false};
    bool *has[CONFIG_MAX + 1] = {NULL, &e->has_dynamic_platform, &e->has_cached_keys,
                                 &e->has_smt_enabled};
    bool *val_out[CONFIG_MAX + 1] = {NULL, &e->dynamic_platform, &e->cached_keys, &e->smt_enabled};
    while (vt_reader_left(&r) > 0) {
        char oid[OID_TEXT_MAX];
        struct vt_der_tlv val;
        VT_TRY(get_pair(&r, "Configuration", oid, &val, d));
        unsigned arc = oid_arc_under(oid, cfg_oid, CONFIG_MAX);
        if (arc == 0) {
            return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                           "Configuration (%s): unknown OID %s", cfg_oid, oid);
        }
        if (seen[arc]) {
            return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                           "Configuration (%s): duplicate OID %s", cfg_oid, oid);
        }
        seen[arc] = true;
        VT_TRY(want_tag(&val, VT_DER_BOOLEAN, oid, config_names[arc], d));
        enum vt_err err = vt_der_bool(&val, val_out[arc]);
        if (err != VT_OK) {
            return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                           "OID %s (%s): BOOLEAN is not 0x00 or 0xff (%s)", oid, config_names[arc],
                           vt_err_name(err));
        }
        *has[arc] = true;
    }
    e->has_configuration = true;
    return VT_OK;
}

static enum vt_err parse_top_entry(unsigned arc, const char *oid, const struct vt_der_tlv *val,
                                   struct vt_sgx_pck_ext *e, struct vt_diag *d)
{
    uint64_t u;
    switch (arc) {
    case 1: /* SPEC: .1 PPID, OCTET STRING (16) */
        return get_octets(val, oid, top_names[arc], e->ppid, sizeof(e->ppid), d);
    case 2:
        return parse_tcb(val, oid, e, d);
    case 3: /* SPEC: .3 PCE-ID, OCTET STRING (2) */
        return get_octets(val, oid, top_names[arc], e->pceid, sizeof(e->pceid), d);
    case 4: /* SPEC: .4 FMSPC, OCTET STRING (6) */
        return get_octets(val, oid, top_names[arc], e->fmspc, sizeof(e->fmspc), d);
    case 5: /* SPEC: .5 SGX Type, ENUMERATED 0 Standard, 1 Scalable, 2 ScalableWithIntegrity */
        VT_TRY(get_uint(val, VT_DER_ENUMERATED, 2, oid, top_names[arc], &u, d));
        e->sgx_type = (int)u;
        return VT_OK;
    case 6: /* SPEC: .6 PlatformInstanceID, OCTET STRING (16), Platform CA only */
        VT_TRY(get_octets(val, oid, top_names[arc], e->platform_instance_id,
                          sizeof(e->platform_instance_id), d));
        e->has_platform_instance_id = true;
        return VT_OK;
    default:
        return parse_config(val, oid, e, d);
    }
}

enum vt_err vt_sgx_pck_ext_parse(const uint8_t *der, size_t len, struct vt_sgx_pck_ext *out,
                                 struct vt_diag *d)
{
    VT_ENSURE(out != NULL && (der != NULL || len == 0), d, VT_E_ARG, "pck_cert.sgx_extension",
              "NULL argument");
    struct vt_sgx_pck_ext e;
    memset(&e, 0, sizeof(e));
    struct vt_reader r, seq;
    vt_reader_init(&r, der, len);
    enum vt_err err = vt_der_expect(&r, VT_DER_SEQUENCE, &seq);
    if (err != VT_OK) {
        return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                       "extension %s (%zu bytes) is not a DER SEQUENCE (%s)", VT_SGX_EXT_OID, len,
                       vt_err_name(err));
    }
    if (vt_reader_expect_end(&r) != VT_OK) {
        return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                       "extension %s: %zu trailing bytes after the SEQUENCE at offset %zu",
                       VT_SGX_EXT_OID, vt_reader_left(&r), vt_reader_offset(&r));
    }
    bool seen[TOP_MAX + 1] = {false};
    size_t count = 0;
    while (vt_reader_left(&seq) > 0) {
        char oid[OID_TEXT_MAX];
        struct vt_der_tlv val;
        VT_TRY(get_pair(&seq, VT_SGX_EXT_OID, oid, &val, d));
        unsigned arc = oid_arc_under(oid, VT_SGX_EXT_OID, TOP_MAX);
        if (arc == 0) {
            return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                           "extension %s: unknown OID %s", VT_SGX_EXT_OID, oid);
        }
        if (seen[arc]) {
            return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                           "extension %s: duplicate OID %s (%s)", VT_SGX_EXT_OID, oid,
                           top_names[arc]);
        }
        seen[arc] = true;
        count++;
        VT_TRY(parse_top_entry(arc, oid, &val, &e, d));
    }
    /* SPEC: Processor-CA certificates carry .1-.5, Platform-CA certificates .1-.7; QVL rejects
     * other counts. */
    if (count != 5 && count != TOP_MAX) {
        return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                       "extension %s has %zu entries; expected 5 (Processor CA) or 7 (Platform CA)",
                       VT_SGX_EXT_OID, count);
    }
    for (unsigned arc = 1; arc <= count; arc++) {
        if (!seen[arc]) {
            return vt_fail(d, VT_E_CERT_EXTENSION, "pck_cert.sgx_extension",
                           "extension %s: OID %s.%u (%s) is missing from the %zu-entry form",
                           VT_SGX_EXT_OID, VT_SGX_EXT_OID, arc, top_names[arc], count);
        }
    }
    *out = e;
    return VT_OK;
}
