/* The Azure drop-ins' error answer (az_error.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "azure/az_error.h"

bool vt_az_fail(struct vt_az_error *e, unsigned status, const char *code, const char *fmt, ...)
{
    e->status = status;
    snprintf(e->code, sizeof(e->code), "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return false;
}

void vt_az_reply(struct vt_http_resp *resp, unsigned status, const char *code, const char *message)
{
    json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
    char *body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    vt_http_resp_status(resp, status, "application/json; charset=utf-8");
    if (body == NULL || !vt_http_resp_body(resp, body, strlen(body))) {
        vt_http_resp_status(resp, 500, "application/json; charset=utf-8");
    }
    free(body);
}
