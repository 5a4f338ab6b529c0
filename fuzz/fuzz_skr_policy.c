/*
 * Fuzz vt_skr_policy_parse (Key Vault SKR release policies, src/azure/skr_policy.c), and
 * vt_skr_policy_eval on what parses, against fixed tokens (an SGX enclave's claims with nested
 * objects, an empty claim set, another issuer).
 * Invariants: a failure leaves no policy and records its code with a check under "skr." and a
 * detail; evaluation is deterministic and the same with or without an explanation; the
 * explanation ends with the decision it returned; the authorities listed are non-empty strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "azure/skr_policy.h"

static void require(int cond)
{
    if (!cond) {
        abort();
    }
}

static const char *const claim_sets[] = {
    "{\"x-ms-attestation-type\":\"sgx\",\"x-ms-sgx-mrenclave\":\"aa\",\"x-ms-sgx-svn\":3,"
    "\"x-ms-sgx-is-debuggable\":false,\"x-ms-isolation-tee\":{\"x-ms-attestation-type\":"
    "\"sevsnpvm\",\"x-ms-compliance-status\":\"azure-compliant-cvm\"},\"n\":1.5,\"z\":null}",
    "{}",
};
static const char *const issuers[] = {"https://a.example",
                                      "https://sharedeus2.eus2.attest.azure.net", NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_skr_policy *p = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_skr_policy_parse((const char *)data, size, &p, &d);
    if (err != VT_OK) {
        require(p == NULL);
        require(d.code == err);
        require(strncmp(d.check, "skr.", 4) == 0);
        require(d.detail[0] != '\0');
        return 0;
    }
    require(p != NULL);
    for (size_t i = 0; vt_skr_policy_authority(p, i) != NULL; i++) {
        require(vt_skr_policy_authority(p, i)[0] != '\0');
    }
    for (size_t c = 0; c < sizeof(claim_sets) / sizeof(claim_sets[0]); c++) {
        json_t *claims = json_loads(claim_sets[c], 0, NULL);
        require(claims != NULL);
        for (size_t i = 0; i < sizeof(issuers) / sizeof(issuers[0]); i++) {
            const char *iss = issuers[i] ? issuers[i] : vt_skr_policy_authority(p, 0);
            struct vt_buf b;
            vt_buf_init(&b, 1u << 22);
            bool r1 = vt_skr_policy_eval(p, iss, claims, &b);
            bool r2 = vt_skr_policy_eval(p, iss, claims, NULL);
            require(r1 == r2);
            require(b.len > 0);
            const char *want =
                r1 ? "release policy: satisfied\n" : "release policy: not satisfied\n";
            size_t wn = strlen(want);
            require(b.len >= wn && memcmp(b.data + b.len - wn, want, wn) == 0);
            vt_buf_cleanup(&b);
        }
        json_decref(claims);
    }
    vt_skr_policy_free(p);
    return 0;
}
