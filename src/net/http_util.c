/* Response helpers shared by the cache's and the broker's APIs: RFC 7807 problem details, JSON
 * replies, and the bearer token of a request. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "net/http.h"

void vt_http_problem(struct vt_http_resp *resp, unsigned status, const char *title,
                     const char *detail, const char *reason)
{
    json_t *o = json_pack("{s:s,s:s,s:i,s:s}", "type", "about:blank", "title", title, "status",
                          (int)status, "detail", detail ? detail : "");
    if (o != NULL && reason != NULL) {
        json_object_set_new(o, "reason", json_string(reason));
    }
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    vt_http_resp_status(resp, status, "application/problem+json");
    if (s == NULL || !vt_http_resp_body(resp, s, strlen(s))) {
        resp->status = 500;
    }
    free(s);
    json_decref(o);
}

void vt_http_json_reply(struct vt_http_resp *resp, unsigned status, json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    vt_http_resp_status(resp, status, "application/json");
    if (s == NULL || !vt_http_resp_body(resp, s, strlen(s))) {
        vt_http_problem(resp, 500, "Internal Server Error", "cannot encode the response", NULL);
    }
    free(s);
    json_decref(o);
}

const char *vt_http_bearer(const struct vt_http_req *req)
{
    const char *h = vt_http_req_header(req, "Authorization");
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
        return NULL;
    }
    return h + 7;
}

const char *vt_http_status_title(unsigned status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}
