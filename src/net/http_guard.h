/*
 * The HTTP server's per-client bookkeeping: client addresses (from the socket, or from
 * X-Forwarded-For when a trusted proxy forwards), open connections per client, and a token bucket
 * per client and rate class. Every table is bounded; all functions are thread-safe.
 */
#ifndef VT_NET_HTTP_GUARD_H
#define VT_NET_HTTP_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/http.h"

/* An IPv6 address; IPv4 is held as ::ffff:a.b.c.d. */
struct vt_http_addr {
    uint8_t b[16];
};

/* Parse an IPv4 or IPv6 address from text (n bytes, no port). */
bool vt_http_addr_parse(const char *text, size_t n, struct vt_http_addr *out);
void vt_http_addr_from_sockaddr(const struct sockaddr *sa, struct vt_http_addr *out);
/* "127.0.0.1" for IPv4, RFC 5952 text for IPv6. */
void vt_http_addr_text(const struct vt_http_addr *a, char *out, size_t cap);
/* The key clients are counted under: the address for IPv4, its /64 for IPv6 (one host may
 * hold a whole /64). */
void vt_http_addr_client_key(const struct vt_http_addr *a, struct vt_http_addr *key);

struct vt_http_proxies {
    size_t n;
    struct vt_http_net {
        struct vt_http_addr a;
        unsigned bits; /* prefix length over the 128-bit form */
    } * nets;
};

VT_MUST_USE enum vt_err vt_http_proxies_parse(const char *list, struct vt_http_proxies *p,
                                              struct vt_diag *d);
void vt_http_proxies_cleanup(struct vt_http_proxies *p);
bool vt_http_proxies_has(const struct vt_http_proxies *p, const struct vt_http_addr *a);
/*
 * The client a request stands for. From a peer that is not a trusted proxy: the peer. From a
 * trusted proxy: the right-most X-Forwarded-For entry that is not itself a trusted proxy (the
 * entries to its left were written by the client and prove nothing); the peer if xff is absent
 * or an entry cannot be read.
 */
void vt_http_client_addr(const struct vt_http_proxies *p, const struct vt_http_addr *peer,
                         const char *xff, struct vt_http_addr *client);

/* Open connections per client. */
struct vt_http_peers;
struct vt_http_peers *vt_http_peers_new(void);
void vt_http_peers_free(struct vt_http_peers *t);
/* Count one more connection from key unless it already has max; false if it has. */
bool vt_http_peers_acquire(struct vt_http_peers *t, const struct vt_http_addr *key, unsigned max);
void vt_http_peers_release(struct vt_http_peers *t, const struct vt_http_addr *key);

/* Token buckets per (client, class). A bounded table: when it is full the least recently used
 * bucket of a set is reused (its client starts again with a full bucket). */
struct vt_http_rates;
struct vt_http_rates *vt_http_rates_new(const struct vt_http_rate rates[VT_HTTP_RATE_CLASSES]);
void vt_http_rates_free(struct vt_http_rates *t);
/* Take one token; false (and *retry_s, at least 1) if the bucket is empty. now_ms: monotonic. */
bool vt_http_rates_take(struct vt_http_rates *t, const struct vt_http_addr *key,
                        enum vt_http_rate_class cls, int64_t now_ms, unsigned *retry_s);

#endif
