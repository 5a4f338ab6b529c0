/* Names of the TEE types. They appear in claims and tokens: never rename one. */
#include <veritee/common.h>

const char *vt_tee_name(enum vt_tee tee)
{
    switch (tee) {
    case VT_TEE_NONE:
        return "none";
    case VT_TEE_SGX:
        return "sgx";
    case VT_TEE_TDX:
        return "tdx";
    case VT_TEE_SEV_SNP:
        return "sev-snp";
    case VT_TEE_NITRO:
        return "nitro";
    }
    return "unknown";
}
