/*
 * The SEV-SNP evidence of the Confidential Containers guest, back into the signed report bytes
 * (src/broker/kbs.h, docs/kbs.md).
 *
 * The guest (guest-components attester/src/snp) parses the report the firmware returned with the
 * sev crate and sends that crate's serde rendering of it: every field by name, byte arrays as
 * JSON arrays of numbers, the TCB versions decoded ({"fmc", "bootloader", "tee", "snp",
 * "microcode"}), reserved bytes dropped. Trustee's verifier deserializes it with the same crate
 * and writes the bytes back before checking the signature; so does this file, as the crate writes
 * them (the layout of the SEV-SNP ABI's ATTESTATION_REPORT, reserved bytes zero, the TCB_VERSION
 * layout of the report's product: Turin's with FMC first, the others' without), and the
 * signature over them is then checked by the SNP verifier as for any raw report. A field the
 * crate would have dropped cannot be forged into the signed bytes: what is not written here is
 * zero, and a report whose signed bytes are not these does not verify.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "broker/kbs.h"

#define REPORT "snp.attestation_report"
#define CERT_MAX (16u << 10) /* one certificate of the table */
#define TABLE_MAX 16         /* entries of the table */
/* a check name "<prefix>.<member>" (vt_fail keeps its first VT_DIAG_CHECK_MAX bytes) */
#define CHECK_BUF (2 * VT_DIAG_CHECK_MAX)

/* Offsets of the report's fields (SEV-SNP ABI, ATTESTATION_REPORT). */
enum {
    OFF_VERSION = 0x000,
    OFF_GUEST_SVN = 0x004,
    OFF_POLICY = 0x008,
    OFF_FAMILY_ID = 0x010,
    OFF_IMAGE_ID = 0x020,
    OFF_VMPL = 0x030,
    OFF_SIG_ALGO = 0x034,
    OFF_CURRENT_TCB = 0x038,
    OFF_PLAT_INFO = 0x040,
    OFF_KEY_INFO = 0x048,
    OFF_REPORT_DATA = 0x050,
    OFF_MEASUREMENT = 0x090,
    OFF_HOST_DATA = 0x0c0,
    OFF_ID_KEY_DIGEST = 0x0e0,
    OFF_AUTHOR_KEY_DIGEST = 0x110,
    OFF_REPORT_ID = 0x140,
    OFF_REPORT_ID_MA = 0x160,
    OFF_REPORTED_TCB = 0x180,
    OFF_CPUID_FAM_ID = 0x188,
    OFF_CPUID_MOD_ID = 0x189,
    OFF_CPUID_STEP = 0x18a,
    OFF_CHIP_ID = 0x1a0,
    OFF_COMMITTED_TCB = 0x1e0,
    OFF_CURRENT = 0x1e8, /* build, minor, major */
    OFF_COMMITTED = 0x1ec,
    OFF_LAUNCH_TCB = 0x1f0,
    OFF_LAUNCH_MIT_VECTOR = 0x1f8,
    OFF_CURRENT_MIT_VECTOR = 0x200,
    OFF_SIGNATURE_R = 0x2a0,
    OFF_SIGNATURE_S = 0x2e8,
};

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction or exponent";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* An unsigned integer member of obj (at most max). optional: absent or null gives *present
 * false. */
static enum vt_err uint_member(const json_t *obj, const char *prefix, const char *name,
                               uint64_t max, bool optional, uint64_t *v, bool *present,
                               struct vt_diag *d)
{
    char check[CHECK_BUF];
    snprintf(check, sizeof(check), "%s.%s", prefix, name);
    const json_t *m = json_object_get(obj, name);
    *v = 0;
    if (present != NULL) {
        *present = false;
    }
    if (m == NULL || (optional && json_is_null(m))) {
        VT_ENSURE(optional, d, VT_E_MISSING_FIELD, check, "member \"%s\" is missing", name);
        return VT_OK;
    }
    VT_ENSURE(json_is_integer(m), d, VT_E_BAD_FIELD, check,
              "\"%s\" must be an unsigned integer%s, got %s", name, optional ? " or null" : "",
              type_name(m));
    json_int_t i = json_integer_value(m);
    VT_ENSURE(i >= 0 && (uint64_t)i <= max, d, VT_E_BAD_FIELD, check,
              "\"%s\" is %lld, outside 0..%" PRIu64, name, (long long)i, max);
    *v = (uint64_t)i;
    if (present != NULL) {
        *present = true;
    }
    return VT_OK;
}

/* A byte array member: exactly n integers 0..255. */
static enum vt_err bytes_member(const json_t *obj, const char *prefix, const char *name,
                                uint8_t *out, size_t n, struct vt_diag *d)
{
    char check[CHECK_BUF];
    snprintf(check, sizeof(check), "%s.%s", prefix, name);
    const json_t *a = json_object_get(obj, name);
    VT_ENSURE(a != NULL, d, VT_E_MISSING_FIELD, check, "member \"%s\" is missing", name);
    VT_ENSURE(json_is_array(a), d, VT_E_BAD_FIELD, check,
              "\"%s\" must be an array of %zu bytes, got %s", name, n, type_name(a));
    VT_ENSURE(json_array_size(a) == n, d, VT_E_BAD_LENGTH, check,
              "\"%s\" holds %zu elements, expected %zu", name, json_array_size(a), n);
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(a, i);
        json_int_t v = json_integer_value(e);
        VT_ENSURE(json_is_integer(e) && v >= 0 && v <= 255, d, VT_E_BAD_FIELD, check,
                  "element %zu of \"%s\" is not a byte (an integer 0..255)", i, name);
        out[i] = (uint8_t)v;
    }
    return VT_OK;
}

static enum vt_err object_member(const json_t *obj, const char *prefix, const char *name,
                                 const json_t **out, struct vt_diag *d)
{
    char check[CHECK_BUF];
    snprintf(check, sizeof(check), "%s.%s", prefix, name);
    *out = json_object_get(obj, name);
    VT_ENSURE(*out != NULL, d, VT_E_MISSING_FIELD, check, "member \"%s\" is missing", name);
    VT_ENSURE(json_is_object(*out), d, VT_E_BAD_FIELD, check, "\"%s\" must be an object, got %s",
              name, type_name(*out));
    return VT_OK;
}

/* A TcbVersion {fmc, bootloader, tee, snp, microcode} in the product's 8-byte layout: Turin
 * FMC, BL, TEE, SNP, -, -, -, UCODE; earlier BL, TEE, -, -, -, -, SNP, UCODE. */
static enum vt_err tcb_member(const json_t *rep, const char *name, bool turin, uint8_t out[8],
                              struct vt_diag *d)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), REPORT ".%s", name);
    const json_t *t = NULL;
    VT_TRY(object_member(rep, REPORT, name, &t, d));
    uint64_t fmc;
    uint64_t bl;
    uint64_t tee;
    uint64_t snp;
    uint64_t ucode;
    bool has_fmc;
    VT_TRY(uint_member(t, prefix, "fmc", 255, true, &fmc, &has_fmc, d));
    VT_TRY(uint_member(t, prefix, "bootloader", 255, false, &bl, NULL, d));
    VT_TRY(uint_member(t, prefix, "tee", 255, false, &tee, NULL, d));
    VT_TRY(uint_member(t, prefix, "snp", 255, false, &snp, NULL, d));
    VT_TRY(uint_member(t, prefix, "microcode", 255, false, &ucode, NULL, d));
    char check[CHECK_BUF];
    snprintf(check, sizeof(check), "%s.fmc", prefix);
    VT_ENSURE(has_fmc == turin, d, VT_E_BAD_FIELD, check,
              turin ? "a Turin report's TCB has an FMC SVN: \"fmc\" must be a number"
                    : "\"fmc\" is set, but the report is not Turin's (its TCB has no FMC SVN)");
    memset(out, 0, 8);
    if (turin) {
        out[0] = (uint8_t)fmc;
        out[1] = (uint8_t)bl;
        out[2] = (uint8_t)tee;
        out[3] = (uint8_t)snp;
    } else {
        out[0] = (uint8_t)bl;
        out[1] = (uint8_t)tee;
        out[6] = (uint8_t)snp;
    }
    out[7] = (uint8_t)ucode;
    return VT_OK;
}

/* A Version {major, minor, build}, written build, minor, major. */
static enum vt_err version_member(const json_t *rep, const char *name, uint8_t out[3],
                                  struct vt_diag *d)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), REPORT ".%s", name);
    const json_t *v = NULL;
    VT_TRY(object_member(rep, REPORT, name, &v, d));
    uint64_t major;
    uint64_t minor;
    uint64_t build;
    VT_TRY(uint_member(v, prefix, "major", 255, false, &major, NULL, d));
    VT_TRY(uint_member(v, prefix, "minor", 255, false, &minor, NULL, d));
    VT_TRY(uint_member(v, prefix, "build", 255, false, &build, NULL, d));
    out[0] = (uint8_t)build;
    out[1] = (uint8_t)minor;
    out[2] = (uint8_t)major;
    return VT_OK;
}

/* The product whose TCB layout the sev crate writes: from CPUID family and model (version 3 and
 * later), else from CHIP_ID (a Turin CHIP_ID is 8 bytes, zero-extended). */
static enum vt_err turin_layout(uint32_t version, bool has_cpuid, uint64_t fam, uint64_t model,
                                const uint8_t chip_id[64], bool *turin, struct vt_diag *d)
{
    if (version >= 3) {
        if (fam == 0x19 && (model <= 0x1f || (model >= 0xa0 && model <= 0xaf))) {
            *turin = false; /* Milan 0x00-0x0f, Genoa 0x10-0x1f and 0xa0-0xaf */
            return VT_OK;
        }
        if (fam == 0x1a && model <= 0x11) {
            *turin = true;
            return VT_OK;
        }
        return vt_fail(d, VT_E_BAD_FIELD, REPORT ".cpuid_mod_id",
                       "CPUID family 0x%02" PRIx64 " model 0x%02" PRIx64
                       " is no SEV-SNP processor (Milan, Genoa, Turin)%s",
                       fam, model, has_cpuid ? "" : " (the CPUID members are missing)");
    }
    bool zero = true;
    bool tail_zero = true;
    for (size_t i = 0; i < 64; i++) {
        zero = zero && chip_id[i] == 0;
        tail_zero = tail_zero && (i < 8 || chip_id[i] == 0);
    }
    VT_ENSURE(!zero, d, VT_E_BAD_FIELD, REPORT ".chip_id",
              "a version 2 report with a masked (all-zero) CHIP_ID: its product, and so its TCB "
              "layout, cannot be told (the sev crate refuses it too)");
    *turin = tail_zero;
    return VT_OK;
}

static enum vt_err rebuild(const json_t *rep, uint8_t r[VT_SNP_REPORT_SIZE], struct vt_diag *d)
{
    memset(r, 0, VT_SNP_REPORT_SIZE);
    uint64_t v;
    VT_TRY(uint_member(rep, REPORT, "version", UINT32_MAX, false, &v, NULL, d));
    VT_ENSURE(v >= 2, d, VT_E_UNSUPPORTED_VERSION, REPORT ".version",
              "report version %" PRIu64 ", supported 2 to 5", v);
    uint32_t version = (uint32_t)v;
    put_le(r + OFF_VERSION, v, 4);
    static const struct {
        const char *name;
        size_t off, size;
    } ints[] = {{"guest_svn", OFF_GUEST_SVN, 4}, {"policy", OFF_POLICY, 8},
                {"vmpl", OFF_VMPL, 4},           {"sig_algo", OFF_SIG_ALGO, 4},
                {"plat_info", OFF_PLAT_INFO, 8}, {"key_info", OFF_KEY_INFO, 4}};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        uint64_t max = ints[i].size == 8 ? UINT64_MAX : UINT32_MAX;
        VT_TRY(uint_member(rep, REPORT, ints[i].name, max, false, &v, NULL, d));
        put_le(r + ints[i].off, v, ints[i].size);
    }
    static const struct {
        const char *name;
        size_t off, size;
    } arrays[] = {{"family_id", OFF_FAMILY_ID, 16},
                  {"image_id", OFF_IMAGE_ID, 16},
                  {"report_data", OFF_REPORT_DATA, 64},
                  {"measurement", OFF_MEASUREMENT, 48},
                  {"host_data", OFF_HOST_DATA, 32},
                  {"id_key_digest", OFF_ID_KEY_DIGEST, 48},
                  {"author_key_digest", OFF_AUTHOR_KEY_DIGEST, 48},
                  {"report_id", OFF_REPORT_ID, 32},
                  {"report_id_ma", OFF_REPORT_ID_MA, 32},
                  {"chip_id", OFF_CHIP_ID, 64}};
    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
        VT_TRY(bytes_member(rep, REPORT, arrays[i].name, r + arrays[i].off, arrays[i].size, d));
    }
    /* CPUID: versions 3 and later only */
    static const char *const cpuid[3] = {"cpuid_fam_id", "cpuid_mod_id", "cpuid_step"};
    uint64_t cv[3];
    bool has[3];
    for (size_t i = 0; i < 3; i++) {
        VT_TRY(uint_member(rep, REPORT, cpuid[i], 255, true, &cv[i], &has[i], d));
        char check[CHECK_BUF];
        snprintf(check, sizeof(check), REPORT ".%s", cpuid[i]);
        VT_ENSURE(has[i] == (version >= 3), d, VT_E_BAD_FIELD, check,
                  version >= 3 ? "a version %u report has CPUID members: \"%s\" must be a number"
                               : "a version %u report has no CPUID: \"%s\" must be null",
                  version, cpuid[i]);
        if (has[i]) {
            r[OFF_CPUID_FAM_ID + i] = (uint8_t)cv[i];
        }
    }
    bool turin = false;
    VT_TRY(turin_layout(version, has[0], cv[0], cv[1], r + OFF_CHIP_ID, &turin, d));
    static const struct {
        const char *name;
        size_t off;
    } tcbs[] = {{"current_tcb", OFF_CURRENT_TCB},
                {"reported_tcb", OFF_REPORTED_TCB},
                {"committed_tcb", OFF_COMMITTED_TCB},
                {"launch_tcb", OFF_LAUNCH_TCB}};
    for (size_t i = 0; i < sizeof(tcbs) / sizeof(tcbs[0]); i++) {
        VT_TRY(tcb_member(rep, tcbs[i].name, turin, r + tcbs[i].off, d));
    }
    VT_TRY(version_member(rep, "current", r + OFF_CURRENT, d));
    VT_TRY(version_member(rep, "committed", r + OFF_COMMITTED, d));
    /* mitigation vectors: versions 5 and later only */
    static const struct {
        const char *name;
        size_t off;
    } mits[] = {{"launch_mit_vector", OFF_LAUNCH_MIT_VECTOR},
                {"current_mit_vector", OFF_CURRENT_MIT_VECTOR}};
    for (size_t i = 0; i < 2; i++) {
        bool present;
        VT_TRY(uint_member(rep, REPORT, mits[i].name, UINT64_MAX, true, &v, &present, d));
        char check[CHECK_BUF];
        snprintf(check, sizeof(check), REPORT ".%s", mits[i].name);
        VT_ENSURE(present == (version >= 5), d, VT_E_BAD_FIELD, check,
                  version >= 5 ? "a version %u report has mitigation vectors: \"%s\" must be a "
                                 "number"
                               : "a version %u report has no mitigation vectors: \"%s\" must be "
                                 "null",
                  version, mits[i].name);
        put_le(r + mits[i].off, v, 8);
    }
    const json_t *sig = NULL;
    VT_TRY(object_member(rep, REPORT, "signature", &sig, d));
    VT_TRY(bytes_member(sig, REPORT ".signature", "r", r + OFF_SIGNATURE_R, 72, d));
    VT_TRY(bytes_member(sig, REPORT ".signature", "s", r + OFF_SIGNATURE_S, 72, d));
    return VT_OK;
}

/* DER bytes as a PEM certificate appended to out. */
static enum vt_err append_pem(struct vt_buf *out, const uint8_t *der, size_t n, struct vt_diag *d)
{
    enum vt_err err = vt_der_to_pem("CERTIFICATE", der, n, out, d);
    VT_ENSURE(err == VT_OK, d, err, "snp.cert_chain", "cannot encode the certificate table");
    return VT_OK;
}

enum cert_role { ROLE_VEK, ROLE_CA, ROLE_ARK, ROLE_OTHER };

/* The role of a table entry from its cert_type: "VCEK"/"VLEK", "ASK", "ARK", and ignored ones
 * ("CRL", "Empty", {"OTHER": "<guid>"}). */
static enum vt_err entry_role(const json_t *t, const char *check, enum cert_role *role,
                              struct vt_diag *d)
{
    const char *s = json_string_value(t);
    if (s != NULL) {
        static const struct {
            const char *name;
            enum cert_role role;
        } names[] = {{"VCEK", ROLE_VEK}, {"VLEK", ROLE_VEK},  {"ASK", ROLE_CA},
                     {"ARK", ROLE_ARK},  {"CRL", ROLE_OTHER}, {"Empty", ROLE_OTHER}};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            if (strcmp(s, names[i].name) == 0) {
                *role = names[i].role;
                return VT_OK;
            }
        }
        return vt_fail(d, VT_E_BAD_FIELD, check,
                       "cert_type \"%.32s\" is none of VCEK, VLEK, ASK, ARK, CRL, Empty, "
                       "{\"OTHER\": guid}",
                       s);
    }
    VT_ENSURE(json_is_object(t) && json_object_size(t) == 1 &&
                  json_is_string(json_object_get(t, "OTHER")),
              d, VT_E_BAD_FIELD, check,
              "cert_type must be a type name or {\"OTHER\": \"<guid>\"}, got %s", type_name(t));
    *role = ROLE_OTHER;
    return VT_OK;
}

/* The certificate table: the first VCEK/VLEK, then the first ASK and ARK, as PEM. */
static enum vt_err table(const json_t *chain, struct vt_buf *pem, struct vt_diag *d)
{
    if (chain == NULL || json_is_null(chain)) {
        return VT_OK;
    }
    VT_ENSURE(json_is_array(chain), d, VT_E_BAD_FIELD, "snp.cert_chain",
              "cert_chain must be null or an array of {cert_type, data}, got %s", type_name(chain));
    size_t n = json_array_size(chain);
    VT_ENSURE(n <= TABLE_MAX, d, VT_E_TOO_LARGE, "snp.cert_chain",
              "%zu certificate table entries, at most %d", n, TABLE_MAX);
    uint8_t *der[3] = {NULL, NULL, NULL};
    size_t len[3] = {0, 0, 0};
    enum vt_err err = VT_OK;
    for (size_t i = 0; err == VT_OK && i < n; i++) {
        char check[CHECK_BUF];
        char prefix[48];
        snprintf(prefix, sizeof(prefix), "snp.cert_chain[%zu]", i);
        const json_t *e = json_array_get(chain, i);
        if (!json_is_object(e)) {
            err = vt_fail(d, VT_E_BAD_FIELD, prefix, "an entry must be {cert_type, data}, got %s",
                          type_name(e));
            break;
        }
        const json_t *t = json_object_get(e, "cert_type");
        const json_t *data = json_object_get(e, "data");
        snprintf(check, sizeof(check), "%s.cert_type", prefix);
        enum cert_role role = ROLE_OTHER;
        if (t == NULL) {
            err = vt_fail(d, VT_E_MISSING_FIELD, check, "member \"cert_type\" is missing");
        } else {
            err = entry_role(t, check, &role, d);
        }
        snprintf(check, sizeof(check), "%s.data", prefix);
        if (err == VT_OK && data == NULL) {
            err = vt_fail(d, VT_E_MISSING_FIELD, check, "member \"data\" is missing");
        } else if (err == VT_OK && !json_is_array(data)) {
            err = vt_fail(d, VT_E_BAD_FIELD, check, "\"data\" must be an array of bytes, got %s",
                          type_name(data));
        } else if (err == VT_OK && json_array_size(data) > CERT_MAX) {
            err = vt_fail(d, VT_E_TOO_LARGE, check, "a certificate of %zu bytes, at most %u",
                          json_array_size(data), CERT_MAX);
        }
        if (err != VT_OK) {
            break;
        }
        size_t k = json_array_size(data);
        uint8_t *p = malloc(k + 1);
        if (p == NULL) {
            err = vt_fail(d, VT_E_NOMEM, check, "no memory");
            break;
        }
        err = bytes_member(e, prefix, "data", p, k, d);
        if (err == VT_OK && role != ROLE_OTHER && der[role] == NULL) {
            der[role] = p; /* the first of each role; the others are ignored, as by Trustee */
            len[role] = k;
        } else {
            free(p);
        }
    }
    if (err == VT_OK && der[ROLE_VEK] == NULL) {
        err = vt_fail(d, VT_E_MISSING_FIELD, "snp.cert_chain",
                      "the certificate table holds no VCEK or VLEK (a table given must; send "
                      "null to have the VEK fetched)");
    }
    for (size_t i = 0; err == VT_OK && i < 3; i++) {
        if (der[i] != NULL) {
            err = append_pem(pem, der[i], len[i], d);
        }
    }
    for (size_t i = 0; i < 3; i++) {
        free(der[i]);
    }
    return err;
}

enum vt_err vt_kbs_snp_evidence(const json_t *primary, uint8_t report[VT_SNP_REPORT_SIZE],
                                struct vt_buf *vek_pem, struct vt_diag *d)
{
    VT_ENSURE(json_is_object(primary), d, VT_E_BAD_JSON, "snp.evidence",
              "SEV-SNP evidence must be {\"attestation_report\", \"cert_chain\"}, got %s",
              primary ? type_name(primary) : "nothing");
    const json_t *rep = NULL;
    VT_TRY(object_member(primary, "snp", "attestation_report", &rep, d));
    VT_TRY(rebuild(rep, report, d));
    return table(json_object_get(primary, "cert_chain"), vek_pem, d);
}
