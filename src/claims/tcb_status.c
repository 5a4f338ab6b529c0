/*
 * TCB status names (Intel's spellings, as in PCS TCB info and QvE) and advisory ID sets.
 *
 * The TD relaunch pair has no JSON spelling at Intel (QvE reports it only as a result code,
 * SGX_QL_QV_RESULT_TD_RELAUNCH_ADVISED[_CONFIG_NEEDED]); veritee names it in the same style as the
 * others so claims and policies can use one vocabulary. Collateral parsers that read Intel's
 * documents restrict the accepted set further.
 */
#include <string.h>

#include <veritee/claims.h>

#include "claims/claims_fill.h"

static const char *const status_names[] = {
    [VT_TCB_NONE] = "None",
    [VT_TCB_UP_TO_DATE] = "UpToDate",
    [VT_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
    [VT_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
    [VT_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
    [VT_TCB_OUT_OF_DATE] = "OutOfDate",
    [VT_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
    [VT_TCB_REVOKED] = "Revoked",
    [VT_TCB_TD_RELAUNCH_ADVISED] = "TDRelaunchAdvised",
    [VT_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED] = "TDRelaunchAdvisedConfigurationNeeded",
};

#define STATUS_COUNT (sizeof(status_names) / sizeof(status_names[0]))

const char *vt_tcb_status_name(enum vt_tcb_status s)
{
    if ((unsigned)s >= STATUS_COUNT) {
        return "Unknown";
    }
    return status_names[s];
}

enum vt_err vt_tcb_status_parse(const char *s, size_t len, enum vt_tcb_status *out)
{
    if (s == NULL || out == NULL) {
        return VT_E_ARG;
    }
    /* Start at 1: "None" is our word for "not applicable", never a status a document carries. */
    for (size_t i = 1; i < STATUS_COUNT; i++) {
        if (strlen(status_names[i]) == len && memcmp(status_names[i], s, len) == 0) {
            *out = (enum vt_tcb_status)i;
            return VT_OK;
        }
    }
    return VT_E_BAD_FIELD;
}

enum vt_err vt_advisories_add(struct vt_advisories *a, const char *id)
{
    if (a == NULL || id == NULL) {
        return VT_E_ARG;
    }
    size_t len = strnlen(id, VT_ADVISORY_ID_MAX);
    if (len == 0) {
        return VT_E_ARG;
    }
    if (len >= VT_ADVISORY_ID_MAX) {
        return VT_E_TOO_LARGE;
    }
    for (size_t i = 0; i < a->n && i < VT_MAX_ADVISORIES; i++) {
        if (strcmp(a->ids[i], id) == 0) {
            return VT_OK;
        }
    }
    if (a->n >= VT_MAX_ADVISORIES) {
        return VT_E_TOO_LARGE;
    }
    memcpy(a->ids[a->n], id, len + 1);
    a->n++;
    return VT_OK;
}
