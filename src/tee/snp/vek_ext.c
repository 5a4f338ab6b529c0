/*
 * The AMD extensions of a VCEK or VLEK certificate (AMD "Versioned Chip Endorsement Key (VCEK)
 * Certificate and KDS Interface Specification"; spec/nitro_snp.md B3), all under
 * 1.3.6.1.4.1.3704.1:
 *
 *   .1 structVersion INTEGER     .2 productName IA5String     .3.1 blSPL   .3.2 teeSPL
 *   .3.3 snpSPL   .3.4-.3.7 reserved SPLs   .3.8 ucodeSPL   .3.9 fmcSPL (Turin and later)
 *   .4 hwID (VCEK: 64 raw bytes, 8 on Turin)   .5 cspID IA5String (VLEK)
 *
 * Each value is the DER content of the extension's OCTET STRING. SPLs are one-byte values
 * encoded as minimal DER INTEGERs. AMD writes hwID as raw bytes, not as DER; the OCTET STRING
 * wrapped form (04 40 ...) that some tools produce is accepted too, told apart by its length.
 */
#include <stdio.h>
#include <string.h>

#include "base/der.h"
#include "tee/snp/snp.h"

#define AMD_OID "1.3.6.1.4.1.3704.1."

/* The extension's value, or found = false. */
static enum vt_err get_ext(const struct vt_cert *c, const char *suffix, const uint8_t **val,
                           size_t *len, bool *found, char oid[64])
{
    snprintf(oid, 64, AMD_OID "%s", suffix);
    enum vt_err err = vt_cert_extension(c, oid, val, len);
    *found = err == VT_OK;
    return err == VT_E_NOT_FOUND ? VT_OK : err;
}

/* A whole extension value that is one DER TLV of `tag`. */
static enum vt_err one_tlv(const uint8_t *val, size_t len, uint8_t tag, struct vt_der_tlv *tlv)
{
    struct vt_reader r;
    vt_reader_init(&r, val, len);
    VT_TRY(vt_der_get(&r, tlv));
    if (tlv->tag != tag) {
        return VT_E_BAD_DER;
    }
    return vt_reader_expect_end(&r);
}

static enum vt_err int_ext(const struct vt_cert *c, const char *suffix, uint64_t max, bool *has,
                           uint64_t *v, struct vt_diag *d)
{
    const uint8_t *val = NULL;
    size_t len = 0;
    char oid[64];
    char check[VT_DIAG_CHECK_MAX];
    snprintf(check, sizeof(check), "snp.vek.ext.%s", suffix);
    if (get_ext(c, suffix, &val, &len, has, oid) != VT_OK) {
        return vt_fail(d, VT_E_CERT_EXTENSION, check, "extension %s cannot be read", oid);
    }
    if (!*has) {
        return VT_OK;
    }
    struct vt_der_tlv tlv;
    if (one_tlv(val, len, VT_DER_INTEGER, &tlv) != VT_OK || vt_der_uint(&tlv, max, v) != VT_OK) {
        return vt_fail(d, VT_E_CERT_EXTENSION, check,
                       "extension %s is not one DER INTEGER in 0..%llu (%zu bytes)", oid,
                       (unsigned long long)max, len);
    }
    return VT_OK;
}

static enum vt_err spl_ext(const struct vt_cert *c, const char *suffix, bool *has, uint8_t *v,
                           struct vt_diag *d)
{
    uint64_t x = 0;
    VT_TRY(int_ext(c, suffix, 255, has, &x, d));
    *v = (uint8_t)x;
    return VT_OK;
}

/* An IA5String extension into out (printable ASCII only). */
static enum vt_err string_ext(const struct vt_cert *c, const char *suffix, char *out, size_t cap,
                              bool *has, struct vt_diag *d)
{
    const uint8_t *val = NULL;
    size_t len = 0;
    char oid[64];
    char check[VT_DIAG_CHECK_MAX];
    snprintf(check, sizeof(check), "snp.vek.ext.%s", suffix);
    out[0] = '\0';
    if (get_ext(c, suffix, &val, &len, has, oid) != VT_OK) {
        return vt_fail(d, VT_E_CERT_EXTENSION, check, "extension %s cannot be read", oid);
    }
    if (!*has) {
        return VT_OK;
    }
    struct vt_der_tlv tlv;
    if (one_tlv(val, len, VT_DER_IA5_STRING, &tlv) != VT_OK) {
        return vt_fail(d, VT_E_CERT_EXTENSION, check, "extension %s is not one DER IA5String", oid);
    }
    if (tlv.len == 0 || tlv.len >= cap) {
        return vt_fail(d, VT_E_CERT_EXTENSION, check, "extension %s is %zu characters, 1 to %zu",
                       oid, tlv.len, cap - 1);
    }
    for (size_t i = 0; i < tlv.len; i++) {
        if (tlv.val[i] < 0x20 || tlv.val[i] > 0x7e) {
            return vt_fail(d, VT_E_CERT_EXTENSION, check,
                           "extension %s has a non-printable byte 0x%02x at %zu", oid, tlv.val[i],
                           i);
        }
    }
    memcpy(out, tlv.val, tlv.len);
    out[tlv.len] = '\0';
    return VT_OK;
}

static enum vt_err hwid_ext(const struct vt_cert *c, struct vt_snp_vek_ext *o, struct vt_diag *d)
{
    const uint8_t *val = NULL;
    size_t len = 0;
    char oid[64];
    bool has = false;
    if (get_ext(c, "4", &val, &len, &has, oid) != VT_OK) {
        return vt_fail(d, VT_E_CERT_EXTENSION, "snp.vek.ext.4", "extension %s cannot be read", oid);
    }
    if (!has) {
        return VT_OK;
    }
    if (len == 64 || len == 8) {
        memcpy(o->hwid, val, len);
        o->hwid_len = len;
        return VT_OK;
    }
    struct vt_der_tlv tlv;
    if ((len == 66 || len == 10) && one_tlv(val, len, VT_DER_OCTET_STRING, &tlv) == VT_OK) {
        memcpy(o->hwid, tlv.val, tlv.len);
        o->hwid_len = tlv.len;
        return VT_OK;
    }
    return vt_fail(d, VT_E_CERT_EXTENSION, "snp.vek.ext.4",
                   "hwID extension %s is %zu bytes, expected 64 or 8 (raw or as an OCTET STRING)",
                   oid, len);
}

enum vt_err vt_snp_vek_ext_parse(const struct vt_cert *c, struct vt_snp_vek_ext *out,
                                 struct vt_diag *d)
{
    VT_ENSURE(c != NULL && out != NULL, d, VT_E_ARG, "snp.vek.ext", "NULL argument");
    struct vt_snp_vek_ext e;
    memset(&e, 0, sizeof(e));
    uint64_t version = 0;
    bool has_product = false;
    bool has_csp = false;
    VT_TRY(int_ext(c, "1", INT64_MAX, &e.has_struct_version, &version, d));
    e.struct_version = (int64_t)version;
    VT_TRY(string_ext(c, "2", e.product_name, sizeof(e.product_name), &has_product, d));
    VT_TRY(spl_ext(c, "3.1", &e.has_bl, &e.bl_spl, d));
    VT_TRY(spl_ext(c, "3.2", &e.has_tee, &e.tee_spl, d));
    VT_TRY(spl_ext(c, "3.3", &e.has_snp, &e.snp_spl, d));
    VT_TRY(spl_ext(c, "3.8", &e.has_ucode, &e.ucode_spl, d));
    VT_TRY(spl_ext(c, "3.9", &e.has_fmc, &e.fmc_spl, d));
    VT_TRY(hwid_ext(c, &e, d));
    VT_TRY(string_ext(c, "5", e.csp_id, sizeof(e.csp_id), &has_csp, d));
    if (!has_product) {
        return vt_fail(d, VT_E_CERT_EXTENSION, "snp.vek.ext.2",
                       "the productName extension " AMD_OID "2 is missing");
    }
    *out = e;
    return VT_OK;
}
