/*
 * libFuzzer target for the SEV-SNP certificate table parser (vt_snp_certtable_vcek), which reads
 * the configfs-tsm auxblob.
 *
 * Invariants: the diag's code equals the returned code; a failure has a check name under
 * "tsm.auxblob", is one of the documented codes and leaves the outputs untouched; on success the
 * VCEK is a non-empty span inside the input, the table holds the VCEK GUID at a 24-byte-aligned
 * entry naming that span, and parsing again gives the same span.
 * Seed corpus: fuzz/corpus/fuzz_tsm_auxblob (synthetic tables).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attester/attester_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond) {
        abort();
    }
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t vcek_guid[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                          0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
    const uint8_t *sentinel = (const uint8_t *)&size;
    const uint8_t *v = sentinel;
    size_t n = 12345;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_snp_certtable_vcek(data, size, &v, &n, &d);
    check(d.code == err);
    if (err != VT_OK) {
        check(err == VT_E_TRUNCATED || err == VT_E_BAD_LENGTH || err == VT_E_DUPLICATE ||
              err == VT_E_NOT_FOUND || (data == NULL && err == VT_E_ARG));
        check(strncmp(d.check, "tsm.auxblob", 11) == 0);
        check(v == sentinel && n == 12345);
        return 0;
    }
    check(n > 0 && v >= data && v + n <= data + size);
    size_t off = (size_t)(v - data);
    int found = 0;
    for (size_t e = 0; e + 24 <= size; e += 24) {
        if (memcmp(data + e, vcek_guid, 16) == 0 && le32(data + e + 16) == off &&
            le32(data + e + 20) == n) {
            found = 1;
            break;
        }
    }
    check(found);
    const uint8_t *v2 = NULL;
    size_t n2 = 0;
    check(vt_snp_certtable_vcek(data, size, &v2, &n2, NULL) == VT_OK && v2 == v && n2 == n);
    return 0;
}
