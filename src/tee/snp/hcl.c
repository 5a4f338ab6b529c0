/*
 * Azure confidential VM HCL reports (spec/nitro_snp.md B5): what the paravisor stores in the vTPM
 * NV index 0x01400001.
 *
 *   0x000  "HCLA"  version u32 (1, 2)  report size u32  request type u32 (2)  status u32
 *          (0: success), reserved 12 bytes (zero)
 *   0x020  the SNP attestation report (1184 bytes)
 *   0x4C0  runtime data header: data size u32 (= 20 + var-data size), version u32 (1), report
 *          type u32 (2 = SNP), hash type u32 (1 SHA-256, 2 SHA-384, 3 SHA-512), var-data size u32
 *   0x4D4  var data: the runtime data JSON, bound by REPORT_DATA = hash(var data) || zeros
 *   ...    zero padding to the NV index size (2600 bytes on the fixtures)
 *
 * Nothing outside the SNP report is signed: the header fields are only checked for consistency,
 * and the runtime data is trusted only after its hash matches the verified REPORT_DATA
 * (vt_snp_verify does that).
 */
#include <string.h>

#include "base/reader.h"
#include "tee/snp/snp.h"

#include "tee/tee_internal.h"

#define HCL_HEADER_SIZE 0x20
#define HCL_RUNTIME_HEADER_SIZE 20
#define HCL_VAR_DATA_OFFSET (HCL_HEADER_SIZE + VT_SNP_REPORT_SIZE + HCL_RUNTIME_HEADER_SIZE)
#define HCL_MAX_SIZE (64 * 1024)

static enum vt_err expect_u32(struct vt_reader *r, uint32_t want, const char *check,
                              struct vt_diag *d)
{
    uint32_t v = 0;
    VT_TRY(vt_reader_get_u32le(r, &v));
    if (v != want) {
        return vt_fail(d, VT_E_BAD_FIELD, check, "value %u at offset 0x%zx, expected %u", v,
                       vt_reader_offset(r) - 4, want);
    }
    return VT_OK;
}

enum vt_err vt_hcl_report_parse(const uint8_t *p, size_t n, struct vt_hcl_report *h,
                                struct vt_diag *d)
{
    VT_PARSE_COUNT(hcl_report);
    VT_ENSURE(p != NULL && h != NULL, d, VT_E_ARG, "hcl", "NULL argument");
    VT_ENSURE(n <= HCL_MAX_SIZE, d, VT_E_TOO_LARGE, "hcl.size",
              "HCL report is %zu bytes, at most %d", n, HCL_MAX_SIZE);
    VT_ENSURE(n >= HCL_VAR_DATA_OFFSET, d, VT_E_TRUNCATED, "hcl.size",
              "HCL report is %zu bytes, at least %d", n, HCL_VAR_DATA_OFFSET);
    struct vt_reader r;
    vt_reader_init(&r, p, n);
    const uint8_t *magic = NULL;
    VT_TRY(vt_reader_get_bytes(&r, 4, &magic));
    VT_ENSURE(memcmp(magic, "HCLA", 4) == 0, d, VT_E_BAD_FIELD, "hcl.magic",
              "header starts %02x%02x%02x%02x, expected \"HCLA\"", magic[0], magic[1], magic[2],
              magic[3]);
    uint32_t version = 0;
    uint32_t report_size = 0;
    VT_TRY(vt_reader_get_u32le(&r, &version));
    VT_ENSURE(version == 1 || version == 2, d, VT_E_UNSUPPORTED_VERSION, "hcl.version",
              "HCL report version %u, supported 1 and 2", version);
    VT_TRY(vt_reader_get_u32le(&r, &report_size));
    VT_TRY(expect_u32(&r, 2, "hcl.request_type", d));
    VT_TRY(expect_u32(&r, 0, "hcl.status", d));
    for (size_t i = 0; i < 3; i++) {
        VT_TRY(expect_u32(&r, 0, "hcl.reserved", d));
    }
    const uint8_t *snp = NULL;
    VT_TRY(vt_reader_get_bytes(&r, VT_SNP_REPORT_SIZE, &snp));

    uint32_t data_size = 0;
    uint32_t hash_type = 0;
    uint32_t var_size = 0;
    VT_TRY(vt_reader_get_u32le(&r, &data_size));
    VT_TRY(expect_u32(&r, 1, "hcl.runtime.version", d));
    uint32_t report_type = 0;
    VT_TRY(vt_reader_get_u32le(&r, &report_type));
    VT_ENSURE(report_type == 2, d, VT_E_UNSUPPORTED_TEE, "hcl.runtime.report_type",
              "runtime data report type %u, supported 2 (SEV-SNP)", report_type);
    VT_TRY(vt_reader_get_u32le(&r, &hash_type));
    VT_ENSURE(hash_type >= 1 && hash_type <= 3, d, VT_E_UNSUPPORTED_ALGORITHM,
              "hcl.runtime.hash_type", "hash type %u, supported 1 to 3 (SHA-256, 384, 512)",
              hash_type);
    VT_TRY(vt_reader_get_u32le(&r, &var_size));
    VT_ENSURE((uint64_t)data_size == (uint64_t)var_size + HCL_RUNTIME_HEADER_SIZE, d,
              VT_E_BAD_LENGTH, "hcl.runtime.data_size",
              "runtime data size %u is not the var-data size %u plus the %d-byte header", data_size,
              var_size, HCL_RUNTIME_HEADER_SIZE);
    VT_ENSURE((uint64_t)report_size == (uint64_t)var_size + HCL_VAR_DATA_OFFSET, d, VT_E_BAD_LENGTH,
              "hcl.report_size", "report size %u is not the var data's end 0x%x + %u", report_size,
              HCL_VAR_DATA_OFFSET, var_size);
    VT_ENSURE(var_size > 0 && var_size <= vt_reader_left(&r), d, VT_E_TRUNCATED,
              "hcl.runtime.var_data", "var data of %u bytes, %zu bytes remain", var_size,
              vt_reader_left(&r));
    const uint8_t *var = NULL;
    VT_TRY(vt_reader_get_bytes(&r, var_size, &var));
    /* The rest is the NV index's zero padding. */
    while (vt_reader_left(&r) > 0) {
        uint8_t b = 0;
        VT_TRY(vt_reader_get_u8(&r, &b));
        VT_ENSURE(b == 0, d, VT_E_TRAILING_DATA, "hcl.padding",
                  "non-zero byte 0x%02x at offset 0x%zx after the var data", b,
                  vt_reader_offset(&r) - 1);
    }
    h->version = version;
    h->snp_report = snp;
    h->runtime_data = var;
    h->runtime_data_len = var_size;
    h->hash_type = hash_type;
    return VT_OK;
}
