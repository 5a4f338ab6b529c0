/* The configfs-tsm stand-in (tsm_fake.h). */
#include "tsm_fake.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define FAKE_MAX_ENTRIES 64

struct fake_entry {
    char name[256];
    bool done;
    bool seen; /* in the current scan */
};

struct vt_tsm_fake {
    char root[1024];
    struct vt_attester *sim;
    enum vt_tsm_fake_mode mode;
    pthread_t thread;
    atomic_bool stop;
    pthread_mutex_t lock;
    unsigned reports;
    bool last_has_privlevel;
    unsigned last_privlevel;
    struct fake_entry entries[FAKE_MAX_ENTRIES];
    size_t n_entries;
};

static bool put_file(const char *dir, const char *name, const void *p, size_t n)
{
    char tmp[1400], path[1400];
    snprintf(tmp, sizeof(tmp), "%s/.fake-%s", dir, name);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        return false;
    }
    bool ok = fwrite(p, 1, n, f) == n;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return false;
    }
    return true;
}

static bool put_text(const char *dir, const char *name, const char *text)
{
    return put_file(dir, name, text, strlen(text));
}

/* Read a small file; -1 when missing. */
static long get_file(const char *dir, const char *name, uint8_t *buf, size_t max)
{
    char path[1400];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return -1;
    }
    size_t n = fread(buf, 1, max, f);
    fclose(f);
    return (long)n;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (size_t i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* A GHCB certificate table: ASK entry (placeholder bytes), VCEK entry, terminator, then data. */
static uint8_t *cert_table(const uint8_t *vcek, size_t vcek_len, bool bad, size_t *len)
{
    static const uint8_t ask_guid[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                         0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
    static const uint8_t vcek_guid[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                          0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
    static const uint8_t ask_bytes[8] = {0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00};
    size_t head = 3 * 24;
    size_t total = head + sizeof(ask_bytes) + vcek_len;
    uint8_t *t = calloc(1, total);
    if (t == NULL) {
        return NULL;
    }
    memcpy(t, ask_guid, 16);
    put_le32(t + 16, (uint32_t)head);
    put_le32(t + 20, sizeof(ask_bytes));
    memcpy(t + 24, vcek_guid, 16);
    put_le32(t + 40, (uint32_t)(head + sizeof(ask_bytes)));
    put_le32(t + 44, bad ? (uint32_t)(vcek_len + 1) : (uint32_t)vcek_len);
    memcpy(t + head, ask_bytes, sizeof(ask_bytes));
    memcpy(t + head + sizeof(ask_bytes), vcek, vcek_len);
    *len = total;
    return t;
}

/* The kernel's work for one entry whose inblob was written. */
static void produce(struct vt_tsm_fake *f, const char *dir, const uint8_t inblob[64])
{
    uint8_t text[32];
    long pl = get_file(dir, "privlevel", text, sizeof(text) - 1);
    unsigned writes = 1 + (pl >= 0 ? 1u : 0u);
    struct vt_attester_input in;
    memset(&in, 0, sizeof(in));
    memcpy(in.report_data, inblob, 64);
    struct vt_buf ev, aux;
    vt_buf_init(&ev, 1u << 20);
    vt_buf_init(&aux, 1u << 20);
    struct vt_diag d;
    vt_diag_init(&d);
    if (vt_attester_evidence(f->sim, &in, &ev, &aux, &d) != VT_OK) {
        fprintf(stderr, "tsm_fake: simulator failed: %s: %s\n", d.check, d.detail);
    }
    if (vt_attester_tee(f->sim) == VT_TEE_SEV_SNP && f->mode != VT_TSM_FAKE_NO_AUXBLOB &&
        aux.len > 0) {
        size_t n = 0;
        uint8_t *t = cert_table(aux.data, aux.len, f->mode == VT_TSM_FAKE_BAD_AUXBLOB, &n);
        if (t != NULL) {
            put_file(dir, "auxblob", t, n);
            free(t);
        }
    }
    char gen[32];
    snprintf(gen, sizeof(gen), "%u\n", writes + (f->mode == VT_TSM_FAKE_RACE ? 1u : 0u));
    put_text(dir, "generation", gen);
    put_file(dir, "outblob", ev.data, f->mode == VT_TSM_FAKE_EMPTY_OUTBLOB ? 0 : ev.len);
    pthread_mutex_lock(&f->lock);
    f->reports++;
    f->last_has_privlevel = pl >= 0;
    if (pl >= 0) {
        text[pl] = '\0';
        f->last_privlevel = (unsigned)strtoul((const char *)text, NULL, 10);
    }
    pthread_mutex_unlock(&f->lock);
    vt_buf_cleanup(&ev);
    vt_buf_cleanup(&aux);
}

static struct fake_entry *entry_of(struct vt_tsm_fake *f, const char *name, bool *fresh)
{
    *fresh = false;
    for (size_t i = 0; i < f->n_entries; i++) {
        if (strcmp(f->entries[i].name, name) == 0) {
            return &f->entries[i];
        }
    }
    if (f->n_entries == FAKE_MAX_ENTRIES || strlen(name) >= sizeof(f->entries[0].name)) {
        return NULL;
    }
    struct fake_entry *e = &f->entries[f->n_entries++];
    memset(e, 0, sizeof(*e));
    snprintf(e->name, sizeof(e->name), "%s", name);
    *fresh = true;
    return e;
}

static void scan(struct vt_tsm_fake *f)
{
    DIR *dp = opendir(f->root);
    if (dp == NULL) {
        return;
    }
    for (size_t i = 0; i < f->n_entries; i++) {
        f->entries[i].seen = false;
    }
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        char dir[1300];
        snprintf(dir, sizeof(dir), "%s/%s", f->root, de->d_name);
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            continue;
        }
        bool fresh;
        struct fake_entry *e = entry_of(f, de->d_name, &fresh);
        if (e == NULL) {
            continue;
        }
        e->seen = true;
        if (fresh) {
            const char *prov = f->mode == VT_TSM_FAKE_UNKNOWN_PROVIDER     ? "arm_cca_guest\n"
                               : vt_attester_tee(f->sim) == VT_TEE_SEV_SNP ? "sev_guest\n"
                                                                           : "tdx_guest\n";
            put_text(dir, "provider", prov);
            put_text(dir, "generation", "0\n");
            continue;
        }
        if (e->done) {
            continue;
        }
        uint8_t inblob[65];
        if (get_file(dir, "inblob", inblob, sizeof(inblob)) == 64) {
            produce(f, dir, inblob);
            e->done = true;
        }
    }
    closedir(dp);
    /* forget entries that were removed */
    size_t k = 0;
    for (size_t i = 0; i < f->n_entries; i++) {
        if (f->entries[i].seen) {
            f->entries[k++] = f->entries[i];
        }
    }
    f->n_entries = k;
}

static void *fake_main(void *arg)
{
    struct vt_tsm_fake *f = arg;
    while (!atomic_load(&f->stop)) {
        scan(f);
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

struct vt_tsm_fake *vt_tsm_fake_start(const char *root, struct vt_attester *sim,
                                      enum vt_tsm_fake_mode mode)
{
    struct vt_tsm_fake *f = calloc(1, sizeof(*f));
    if (f == NULL || strlen(root) >= sizeof(f->root)) {
        free(f);
        return NULL;
    }
    snprintf(f->root, sizeof(f->root), "%s", root);
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s", root);
    for (char *p = tmp + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0700);
            *p = '/';
        }
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
        free(f);
        return NULL;
    }
    f->sim = sim;
    f->mode = mode;
    atomic_init(&f->stop, false);
    pthread_mutex_init(&f->lock, NULL);
    if (pthread_create(&f->thread, NULL, fake_main, f) != 0) {
        pthread_mutex_destroy(&f->lock);
        free(f);
        return NULL;
    }
    return f;
}

void vt_tsm_fake_stop(struct vt_tsm_fake *f)
{
    if (f == NULL) {
        return;
    }
    atomic_store(&f->stop, true);
    pthread_join(f->thread, NULL);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

unsigned vt_tsm_fake_reports(struct vt_tsm_fake *f)
{
    pthread_mutex_lock(&f->lock);
    unsigned n = f->reports;
    pthread_mutex_unlock(&f->lock);
    return n;
}

bool vt_tsm_fake_last_privlevel(struct vt_tsm_fake *f, unsigned *level)
{
    pthread_mutex_lock(&f->lock);
    bool has = f->last_has_privlevel;
    *level = f->last_privlevel;
    pthread_mutex_unlock(&f->lock);
    return has;
}
