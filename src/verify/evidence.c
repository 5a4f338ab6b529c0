/* Evidence detection and text decoding. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <veritee/verifier.h>

#include "base/encoding.h"
#include "base/reader.h"
#include "tee/dcap/dcap.h"
#include "tee/snp/snp.h"

const char *vt_evidence_kind_name(enum vt_evidence_kind k)
{
    switch (k) {
    case VT_EVIDENCE_DCAP_QUOTE:
        return "dcap-quote";
    case VT_EVIDENCE_NITRO_DOC:
        return "nitro-document";
    case VT_EVIDENCE_SNP_REPORT:
        return "snp-report";
    case VT_EVIDENCE_AZURE_HCL:
        return "azure-hcl-report";
    default:
        return "unknown";
    }
}

/* SPEC: RFC 9052: COSE_Sign1 = [tag 18] array(4) [protected: bstr, ...]. */
static bool looks_like_cose_sign1(const uint8_t *p, size_t n)
{
    struct vt_reader r;
    uint8_t b;
    vt_reader_init(&r, p, n);
    if (vt_reader_peek_u8(&r, &b) == VT_OK && b == 0xd2 && vt_reader_skip(&r, 1) != VT_OK) {
        return false;
    }
    return vt_reader_get_u8(&r, &b) == VT_OK && b == 0x84 && vt_reader_get_u8(&r, &b) == VT_OK &&
           b >= 0x40 && b <= 0x5b;
}

/* SPEC: SEV-SNP ABI ATTESTATION_REPORT: VERSION (u32) at 0x000, SIGNATURE_ALGO (u32) at 0x034;
 * an Azure HCL report starts with "HCLA" (spec/nitro_snp.md B5). */
static enum vt_evidence_kind detect_snp(const uint8_t *p, size_t n)
{
    struct vt_reader r;
    const uint8_t *magic;
    uint32_t version, algo;
    vt_reader_init(&r, p, n);
    if (vt_reader_get_bytes(&r, 4, &magic) == VT_OK && memcmp(magic, "HCLA", 4) == 0) {
        return VT_EVIDENCE_AZURE_HCL;
    }
    vt_reader_init(&r, p, n);
    if (n != VT_SNP_REPORT_SIZE || vt_reader_get_u32le(&r, &version) ||
        vt_reader_skip(&r, 0x34 - 4) || vt_reader_get_u32le(&r, &algo)) {
        return VT_EVIDENCE_UNKNOWN;
    }
    return version >= 2 && version <= 5 && algo == 1 ? VT_EVIDENCE_SNP_REPORT : VT_EVIDENCE_UNKNOWN;
}

enum vt_evidence_kind vt_evidence_detect(const uint8_t *p, size_t n)
{
    if (looks_like_cose_sign1(p, n)) {
        return VT_EVIDENCE_NITRO_DOC;
    }
    struct vt_reader r;
    uint16_t version, key_type;
    uint32_t tee;
    const uint8_t *vendor;
    vt_reader_init(&r, p, n);
    if (vt_reader_get_u16le(&r, &version) || vt_reader_get_u16le(&r, &key_type) ||
        vt_reader_get_u32le(&r, &tee) || vt_reader_skip(&r, 4) ||
        vt_reader_get_bytes(&r, 16, &vendor)) {
        return VT_EVIDENCE_UNKNOWN;
    }
    if (version >= 3 && version <= 5 && key_type == VT_DCAP_ATT_KEY_ECDSA_P256 &&
        (tee == VT_DCAP_TEE_SGX || tee == VT_DCAP_TEE_TDX) &&
        memcmp(vendor, vt_dcap_intel_qe_vendor_id, 16) == 0) {
        return VT_EVIDENCE_DCAP_QUOTE;
    }
    return detect_snp(p, n);
}

static bool is_b64_char(uint8_t c)
{
    return isalnum(c) || c == '+' || c == '/' || c == '=' || c == '-' || c == '_';
}

enum vt_err vt_evidence_decode_text(struct vt_buf *b, struct vt_diag *d)
{
    size_t start = 0, end = b->len;
    while (start < end && isspace(b->data[start])) {
        start++;
    }
    while (end > start && (isspace(b->data[end - 1]) || b->data[end - 1] == '\0')) {
        end--;
    }
    if (end == start || vt_evidence_detect(b->data, b->len) != VT_EVIDENCE_UNKNOWN) {
        return VT_OK;
    }
    const char *s = (const char *)b->data + start;
    size_t n = end - start;
    bool hex = true, b64 = true;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        hex = hex && isxdigit(c);
        b64 = b64 && (is_b64_char(c) || isspace(c));
    }
    if (!hex && !b64) {
        return VT_OK;
    }
    uint8_t *out = malloc(n);
    VT_ENSURE(out != NULL, d, VT_E_NOMEM, "evidence", "cannot allocate %zu bytes", n);
    size_t len = 0;
    enum vt_err err;
    if (hex && n % 2 == 0) {
        err = vt_hex_decode(s, n, out, n, &len);
    } else {
        bool url = memchr(s, '-', n) != NULL || memchr(s, '_', n) != NULL;
        err = vt_base64_decode(s, n, url, out, n, &len);
    }
    if (err != VT_OK) {
        free(out);
        return vt_fail(d, err, "evidence.encoding", "evidence is text but not valid %s",
                       hex ? "hex" : "base64");
    }
    b->len = 0;
    err = vt_buf_append(b, out, len);
    free(out);
    return err;
}
