/*
 * AMD SEV-SNP attestation report parsing (SEV-SNP ABI specification, ATTESTATION_REPORT; layout
 * in spec/nitro_snp.md B1) and TCB_VERSION decoding (B2).
 *
 * The parser reads all 1184 bytes through the bounded reader, field by field in offset order,
 * and rejects what a genuine report never holds: another size, a version outside 2..5, a
 * signature algorithm other than ECDSA P-384 with SHA-384, non-zero reserved fields, and
 * non-zero high bytes in the 72-byte little-endian r and s fields. Fields that version 2 does not
 * define (CPUID) and that versions below 5 do not define (mitigation vectors) are read as
 * reserved and must then be zero.
 */
#include <string.h>

#include "base/reader.h"
#include "tee/snp/snp.h"

#include "tee/tee_internal.h"

#define SNP_SIG_COMPONENT 72 /* each of r and s in the report's signature field */
#define SNP_SIG_SIGNIFICANT 48
#define SNP_SIG_FIELD 512

const char *vt_snp_product_name(enum vt_snp_product p)
{
    switch (p) {
    case VT_SNP_MILAN:
        return "Milan";
    case VT_SNP_GENOA:
        return "Genoa";
    case VT_SNP_TURIN:
        return "Turin";
    case VT_SNP_UNKNOWN:
        break;
    }
    return "unknown";
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

/* Read n reserved bytes at the reader's position, which must all be zero. */
static enum vt_err reserved(struct vt_reader *r, size_t n, const char *check, struct vt_diag *d)
{
    size_t off = vt_reader_offset(r);
    const uint8_t *p = NULL;
    VT_TRY(vt_reader_get_bytes(r, n, &p));
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0) {
            return vt_fail(d, VT_E_BAD_FIELD, check,
                           "reserved byte at offset 0x%zx is 0x%02x, must be zero", off + i, p[i]);
        }
    }
    return VT_OK;
}

/* A 72-byte little-endian signature component: the low 48 bytes, big-endian, into out. */
static enum vt_err sig_component(struct vt_reader *r, uint8_t out[SNP_SIG_SIGNIFICANT],
                                 const char *check, struct vt_diag *d)
{
    size_t off = vt_reader_offset(r);
    const uint8_t *p = NULL;
    VT_TRY(vt_reader_get_bytes(r, SNP_SIG_COMPONENT, &p));
    if (!all_zero(p + SNP_SIG_SIGNIFICANT, SNP_SIG_COMPONENT - SNP_SIG_SIGNIFICANT)) {
        return vt_fail(d, VT_E_BAD_FIELD, check,
                       "bytes 0x%zx..0x%zx above the 48 significant bytes are not zero",
                       off + SNP_SIG_SIGNIFICANT, off + SNP_SIG_COMPONENT - 1);
    }
    for (size_t i = 0; i < SNP_SIG_SIGNIFICANT; i++) {
        out[i] = p[SNP_SIG_SIGNIFICANT - 1 - i];
    }
    return VT_OK;
}

/* The body of the parse, over a reader spanning exactly VT_SNP_REPORT_SIZE bytes. Reader errors
 * cannot occur (the size is checked first); they propagate as VT_E_TRUNCATED regardless. */
static enum vt_err parse_fields(struct vt_reader *r, struct vt_snp_report *o, struct vt_diag *d)
{
    VT_TRY(vt_reader_get_u32le(r, &o->version));
    if (o->version < 2 || o->version > 5) {
        return vt_fail(d, VT_E_UNSUPPORTED_VERSION, "snp.report.version",
                       "report version %u, supported 2 to 5", o->version);
    }
    VT_TRY(vt_reader_get_u32le(r, &o->guest_svn));
    VT_TRY(vt_reader_get_u64le(r, &o->policy));
    VT_TRY(vt_reader_copy(r, o->family_id, sizeof(o->family_id)));
    VT_TRY(vt_reader_copy(r, o->image_id, sizeof(o->image_id)));
    VT_TRY(vt_reader_get_u32le(r, &o->vmpl));
    VT_TRY(vt_reader_get_u32le(r, &o->sig_algo));
    if (o->sig_algo != 1) {
        return vt_fail(d, VT_E_UNSUPPORTED_ALGORITHM, "snp.report.signature_algo",
                       "signature algorithm %u, supported 1 (ECDSA P-384 with SHA-384)",
                       o->sig_algo);
    }
    VT_TRY(vt_reader_get_u64le(r, &o->current_tcb_raw));
    VT_TRY(vt_reader_get_u64le(r, &o->platform_info));
    VT_TRY(vt_reader_get_u32le(r, &o->key_info));
    if ((o->key_info & ~UINT32_C(0x1f)) != 0) {
        return vt_fail(d, VT_E_BAD_FIELD, "snp.report.key_info",
                       "KEY_INFO 0x%08x has reserved bits 31:5 set", o->key_info);
    }
    VT_TRY(reserved(r, 4, "snp.report.reserved", d)); /* 0x04C */
    VT_TRY(vt_reader_copy(r, o->report_data, sizeof(o->report_data)));
    VT_TRY(vt_reader_copy(r, o->measurement, sizeof(o->measurement)));
    VT_TRY(vt_reader_copy(r, o->host_data, sizeof(o->host_data)));
    VT_TRY(vt_reader_copy(r, o->id_key_digest, sizeof(o->id_key_digest)));
    VT_TRY(vt_reader_copy(r, o->author_key_digest, sizeof(o->author_key_digest)));
    VT_TRY(vt_reader_copy(r, o->report_id, sizeof(o->report_id)));
    VT_TRY(vt_reader_copy(r, o->report_id_ma, sizeof(o->report_id_ma)));
    VT_TRY(vt_reader_get_u64le(r, &o->reported_tcb_raw));
    if (o->version >= 3) { /* 0x188 */
        VT_TRY(vt_reader_get_u8(r, &o->cpuid_fam_id));
        VT_TRY(vt_reader_get_u8(r, &o->cpuid_mod_id));
        VT_TRY(vt_reader_get_u8(r, &o->cpuid_step));
    } else {
        VT_TRY(reserved(r, 3, "snp.report.reserved", d));
    }
    VT_TRY(reserved(r, 21, "snp.report.reserved", d)); /* 0x18B */
    VT_TRY(vt_reader_copy(r, o->chip_id, sizeof(o->chip_id)));
    VT_TRY(vt_reader_get_u64le(r, &o->committed_tcb_raw));
    VT_TRY(vt_reader_get_u8(r, &o->current_build));
    VT_TRY(vt_reader_get_u8(r, &o->current_minor));
    VT_TRY(vt_reader_get_u8(r, &o->current_major));
    VT_TRY(reserved(r, 1, "snp.report.reserved", d));
    VT_TRY(vt_reader_get_u8(r, &o->committed_build));
    VT_TRY(vt_reader_get_u8(r, &o->committed_minor));
    VT_TRY(vt_reader_get_u8(r, &o->committed_major));
    VT_TRY(reserved(r, 1, "snp.report.reserved", d));
    VT_TRY(vt_reader_get_u64le(r, &o->launch_tcb_raw));
    if (o->version >= 5) { /* 0x1F8 */
        VT_TRY(vt_reader_get_u64le(r, &o->launch_mit_vector));
        VT_TRY(vt_reader_get_u64le(r, &o->current_mit_vector));
    } else {
        VT_TRY(reserved(r, 16, "snp.report.reserved", d));
    }
    VT_TRY(reserved(r, VT_SNP_SIGNED_SIZE - 0x208, "snp.report.reserved", d));
    VT_TRY(sig_component(r, o->signature_r, "snp.report.signature.r", d));
    VT_TRY(sig_component(r, o->signature_s, "snp.report.signature.s", d));
    VT_TRY(reserved(r, SNP_SIG_FIELD - 2 * SNP_SIG_COMPONENT, "snp.report.signature.reserved", d));
    return vt_reader_expect_end(r);
}

enum vt_err vt_snp_report_parse(const uint8_t *p, size_t n, struct vt_snp_report *r,
                                struct vt_diag *d)
{
    VT_PARSE_COUNT(snp_report);
    VT_ENSURE(p != NULL && r != NULL, d, VT_E_ARG, "snp.report", "NULL argument");
    if (n < VT_SNP_REPORT_SIZE) {
        return vt_fail(d, VT_E_TRUNCATED, "snp.report.size", "report is %zu bytes, expected %d", n,
                       VT_SNP_REPORT_SIZE);
    }
    if (n > VT_SNP_REPORT_SIZE) {
        return vt_fail(d, VT_E_TRAILING_DATA, "snp.report.size", "report is %zu bytes, expected %d",
                       n, VT_SNP_REPORT_SIZE);
    }
    struct vt_snp_report tmp;
    memset(&tmp, 0, sizeof(tmp));
    struct vt_reader rd;
    vt_reader_init(&rd, p, n);
    if (d != NULL) {
        vt_diag_init(d);
    }
    enum vt_err err = parse_fields(&rd, &tmp, d);
    if (err != VT_OK) {
        if (d != NULL && d->check[0] == '\0') {
            return vt_fail(d, err, "snp.report", "reader error at offset 0x%zx",
                           vt_reader_offset(&rd));
        }
        return err;
    }
    tmp.raw = p;
    *r = tmp;
    return VT_OK;
}

enum vt_snp_product vt_snp_report_product(const struct vt_snp_report *r)
{
    if (r == NULL || r->version < 3) {
        return VT_SNP_UNKNOWN;
    }
    uint8_t model = r->cpuid_mod_id;
    if (r->cpuid_fam_id == 0x19) {
        if (model <= 0x0f) {
            return VT_SNP_MILAN;
        }
        if ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf)) {
            return VT_SNP_GENOA;
        }
    } else if (r->cpuid_fam_id == 0x1a && model <= 0x11) {
        return VT_SNP_TURIN;
    }
    return VT_SNP_UNKNOWN;
}

void vt_snp_tcb_decode(uint64_t raw, enum vt_snp_product p, struct vt_snp_tcb *out)
{
    memset(out, 0, sizeof(*out));
    out->raw = raw;
    uint8_t b[8];
    for (size_t i = 0; i < 8; i++) {
        b[i] = (uint8_t)(raw >> (8 * i));
    }
    if (p == VT_SNP_TURIN) {
        out->fmc = b[0];
        out->bootloader = b[1];
        out->tee = b[2];
        out->snp = b[3];
    } else {
        out->bootloader = b[0];
        out->tee = b[1];
        out->snp = b[6];
    }
    out->microcode = b[7];
}
