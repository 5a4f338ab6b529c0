/* Per-client bookkeeping of the HTTP server (see http_guard.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_guard.h"

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool vt_http_addr_parse(const char *text, size_t n, struct vt_http_addr *out)
{
    char buf[INET6_ADDRSTRLEN + 1];
    if (n == 0 || n >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, text, n);
    buf[n] = '\0';
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, buf, &a4) == 1) {
        memcpy(out->b, v4_prefix, 12);
        memcpy(out->b + 12, &a4, 4);
        return true;
    }
    if (inet_pton(AF_INET6, buf, &a6) == 1) {
        memcpy(out->b, &a6, 16);
        return true;
    }
    return false;
}

void vt_http_addr_from_sockaddr(const struct sockaddr *sa, struct vt_http_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;
        memcpy(out->b, v4_prefix, 12);
        memcpy(out->b + 12, &a->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;
        memcpy(out->b, &a->sin6_addr, 16);
    }
}

void vt_http_addr_text(const struct vt_http_addr *a, char *out, size_t cap)
{
    if (memcmp(a->b, v4_prefix, 12) == 0) {
        inet_ntop(AF_INET, a->b + 12, out, (socklen_t)cap);
    } else {
        inet_ntop(AF_INET6, a->b, out, (socklen_t)cap);
    }
}

void vt_http_addr_client_key(const struct vt_http_addr *a, struct vt_http_addr *key)
{
    *key = *a;
    if (memcmp(a->b, v4_prefix, 12) != 0) {
        memset(key->b + 8, 0, 8);
    }
}

static bool in_net(const struct vt_http_net *n, const struct vt_http_addr *a)
{
    unsigned full = n->bits / 8, rem = n->bits % 8;
    if (memcmp(n->a.b, a->b, full) != 0) {
        return false;
    }
    if (rem == 0) {
        return true;
    }
    uint8_t mask = (uint8_t)(0xffu << (8 - rem));
    return (n->a.b[full] & mask) == (a->b[full] & mask);
}

enum vt_err vt_http_proxies_parse(const char *list, struct vt_http_proxies *p, struct vt_diag *d)
{
    memset(p, 0, sizeof(*p));
    if (list == NULL || *list == '\0') {
        return VT_OK;
    }
    size_t cap = 1;
    for (const char *s = list; *s != '\0'; s++) {
        cap += *s == ',';
    }
    p->nets = calloc(cap, sizeof(*p->nets));
    VT_ENSURE(p->nets != NULL, d, VT_E_NOMEM, "trusted_proxies", "out of memory");
    const char *s = list;
    while (*s != '\0') {
        while (*s == ' ' || *s == ',') {
            s++;
        }
        const char *e = s;
        while (*e != '\0' && *e != ',' && *e != ' ') {
            e++;
        }
        if (e == s) {
            break;
        }
        const char *slash = memchr(s, '/', (size_t)(e - s));
        struct vt_http_net *n = &p->nets[p->n];
        const char *aend = slash != NULL ? slash : e;
        long bits = -1;
        if (!vt_http_addr_parse(s, (size_t)(aend - s), &n->a)) {
            vt_http_proxies_cleanup(p);
            return vt_fail(d, VT_E_ARG, "trusted_proxies",
                           "\"%.*s\" is not an IPv4 or IPv6 address", (int)(aend - s), s);
        }
        bool v4 = memcmp(n->a.b, v4_prefix, 12) == 0;
        if (slash != NULL) {
            char *end = NULL;
            bits = strtol(slash + 1, &end, 10);
            if (end != e || slash + 1 == e || bits < 0 || bits > (v4 ? 32 : 128)) {
                vt_http_proxies_cleanup(p);
                return vt_fail(d, VT_E_ARG, "trusted_proxies",
                               "\"%.*s\": the prefix length must be 0 to %d", (int)(e - s), s,
                               v4 ? 32 : 128);
            }
        }
        n->bits = bits < 0 ? 128 : (unsigned)bits + (v4 ? 96u : 0u);
        p->n++;
        s = e;
    }
    return VT_OK;
}

void vt_http_proxies_cleanup(struct vt_http_proxies *p)
{
    free(p->nets);
    memset(p, 0, sizeof(*p));
}

bool vt_http_proxies_has(const struct vt_http_proxies *p, const struct vt_http_addr *a)
{
    for (size_t i = 0; i < p->n; i++) {
        if (in_net(&p->nets[i], a)) {
            return true;
        }
    }
    return false;
}

void vt_http_client_addr(const struct vt_http_proxies *p, const struct vt_http_addr *peer,
                         const char *xff, struct vt_http_addr *client)
{
    *client = *peer;
    if (xff == NULL || p->n == 0 || !vt_http_proxies_has(p, peer)) {
        return;
    }
    const char *end = xff + strlen(xff);
    while (end > xff) {
        const char *start = end;
        while (start > xff && start[-1] != ',') {
            start--;
        }
        const char *a = start, *b = end;
        while (a < b && (*a == ' ' || *a == '\t')) {
            a++;
        }
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) {
            b--;
        }
        struct vt_http_addr x;
        if (!vt_http_addr_parse(a, (size_t)(b - a), &x)) {
            *client = *peer; /* unreadable: count it against the proxy */
            return;
        }
        *client = x;
        if (!vt_http_proxies_has(p, &x)) {
            return;
        }
        end = start > xff ? start - 1 : xff;
    }
}

/* ---- connections per client ---- */

#define PEER_BUCKETS 4096u

struct peer {
    struct vt_http_addr key;
    unsigned count;
    struct peer *next;
};

struct vt_http_peers {
    pthread_mutex_t mu;
    struct peer *b[PEER_BUCKETS];
};

/* FNV-1a over the address. Clients choose their addresses only within what they hold, and the
 * tables are bounded by the connection limit, so a keyed hash is not needed here. */
static uint32_t addr_hash(const struct vt_http_addr *a)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < sizeof(a->b); i++) {
        h = (h ^ a->b[i]) * 16777619u;
    }
    return h;
}

struct vt_http_peers *vt_http_peers_new(void)
{
    struct vt_http_peers *t = calloc(1, sizeof(*t));
    if (t != NULL) {
        pthread_mutex_init(&t->mu, NULL);
    }
    return t;
}

void vt_http_peers_free(struct vt_http_peers *t)
{
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; i < PEER_BUCKETS; i++) {
        struct peer *p = t->b[i];
        while (p != NULL) {
            struct peer *n = p->next;
            free(p);
            p = n;
        }
    }
    pthread_mutex_destroy(&t->mu);
    free(t);
}

bool vt_http_peers_acquire(struct vt_http_peers *t, const struct vt_http_addr *key, unsigned max)
{
    uint32_t h = addr_hash(key) % PEER_BUCKETS;
    bool ok = true;
    pthread_mutex_lock(&t->mu);
    struct peer *p = t->b[h];
    while (p != NULL && memcmp(&p->key, key, sizeof(*key)) != 0) {
        p = p->next;
    }
    if (p == NULL) {
        p = calloc(1, sizeof(*p));
        if (p == NULL) {
            ok = false;
        } else {
            p->key = *key;
            p->next = t->b[h];
            t->b[h] = p;
        }
    }
    if (ok && p->count >= max) {
        ok = false;
    } else if (ok) {
        p->count++;
    }
    pthread_mutex_unlock(&t->mu);
    return ok;
}

void vt_http_peers_release(struct vt_http_peers *t, const struct vt_http_addr *key)
{
    uint32_t h = addr_hash(key) % PEER_BUCKETS;
    pthread_mutex_lock(&t->mu);
    struct peer **pp = &t->b[h];
    while (*pp != NULL && memcmp(&(*pp)->key, key, sizeof(*key)) != 0) {
        pp = &(*pp)->next;
    }
    struct peer *p = *pp;
    if (p != NULL && --p->count == 0) {
        *pp = p->next;
        free(p);
    }
    pthread_mutex_unlock(&t->mu);
}

/* ---- token buckets ---- */

#define RATE_SHARDS 16u
#define RATE_SETS 512u /* per shard */
#define RATE_WAYS 4u

struct bucket {
    struct vt_http_addr key;
    uint8_t cls; /* 0: unused */
    double tokens;
    int64_t last_ms;
};

struct rate_shard {
    pthread_mutex_t mu;
    struct bucket b[RATE_SETS * RATE_WAYS];
};

struct vt_http_rates {
    struct vt_http_rate rates[VT_HTTP_RATE_CLASSES];
    struct rate_shard shards[RATE_SHARDS];
};

struct vt_http_rates *vt_http_rates_new(const struct vt_http_rate rates[VT_HTTP_RATE_CLASSES])
{
    struct vt_http_rates *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    memcpy(t->rates, rates, sizeof(t->rates));
    for (size_t i = 0; i < VT_HTTP_RATE_CLASSES; i++) {
        if (t->rates[i].burst < 1) {
            t->rates[i].burst = 1;
        }
    }
    for (size_t i = 0; i < RATE_SHARDS; i++) {
        pthread_mutex_init(&t->shards[i].mu, NULL);
    }
    return t;
}

void vt_http_rates_free(struct vt_http_rates *t)
{
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; i < RATE_SHARDS; i++) {
        pthread_mutex_destroy(&t->shards[i].mu);
    }
    free(t);
}

bool vt_http_rates_take(struct vt_http_rates *t, const struct vt_http_addr *key,
                        enum vt_http_rate_class cls, int64_t now_ms, unsigned *retry_s)
{
    if (cls <= VT_HTTP_RATE_NONE || cls >= VT_HTTP_RATE_CLASSES || t->rates[cls].per_second <= 0) {
        return true;
    }
    const struct vt_http_rate *r = &t->rates[cls];
    uint32_t h = addr_hash(key) * 31u + (uint32_t)cls;
    struct rate_shard *sh = &t->shards[h % RATE_SHARDS];
    struct bucket *set = &sh->b[((h / RATE_SHARDS) % RATE_SETS) * RATE_WAYS];
    pthread_mutex_lock(&sh->mu);
    struct bucket *b = NULL, *lru = &set[0];
    for (size_t i = 0; i < RATE_WAYS; i++) {
        if (set[i].cls == cls && memcmp(&set[i].key, key, sizeof(*key)) == 0) {
            b = &set[i];
            break;
        }
        if (set[i].cls == 0 || (lru->cls != 0 && set[i].last_ms < lru->last_ms)) {
            lru = &set[i];
        }
    }
    if (b == NULL) {
        b = lru;
        b->key = *key;
        b->cls = (uint8_t)cls;
        b->tokens = r->burst;
        b->last_ms = now_ms;
    }
    double elapsed = (double)(now_ms - b->last_ms) / 1000.0;
    if (elapsed > 0) {
        b->tokens += elapsed * r->per_second;
        if (b->tokens > r->burst) {
            b->tokens = r->burst;
        }
    }
    b->last_ms = now_ms;
    bool ok = b->tokens >= 1.0;
    if (ok) {
        b->tokens -= 1.0;
    } else {
        double wait = (1.0 - b->tokens) / r->per_second; /* seconds, rounded up below */
        *retry_s = wait < 1 ? 1u : wait > 86400 ? 86400u : (unsigned)wait + 1u;
    }
    pthread_mutex_unlock(&sh->mu);
    return ok;
}
