/*
 * The error answer both Azure drop-ins give (Key Vault, src/azure/kv*.c; Azure Attestation,
 * src/azure/maa*.c): an HTTP status and {"error":{"code":code,"message":message}}.
 */
#ifndef VT_AZURE_AZ_ERROR_H
#define VT_AZURE_AZ_ERROR_H

#include <stdbool.h>

#include <veritee/common.h>

#include "net/http.h"

struct vt_az_error {
    unsigned status;
    char code[48];
    char message[640];
};

/* Fill e; returns false (for `return vt_az_fail(...)`). */
bool vt_az_fail(struct vt_az_error *e, unsigned status, const char *code, const char *fmt, ...)
    VT_PRINTF(4, 5);

/* Answer status with the error body (500 with no body if it cannot be encoded). */
void vt_az_reply(struct vt_http_resp *resp, unsigned status, const char *code, const char *message);

#endif
