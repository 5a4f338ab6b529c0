/*
 * The "tsm" backend: Linux configfs-tsm reports (Documentation/ABI/testing/configfs-tsm-report).
 *
 * One report per call, in a fresh entry under the root:
 *   mkdir <root>/<entry>; read generation (G0); [write privlevel]; write inblob (64 bytes);
 *   read outblob, provider, auxblob; read generation (G1); rmdir <root>/<entry>.
 * Every write to inblob or an option increments generation, so G1 must be G0 + the number of our
 * writes; anything else means another writer used the entry and the outblob may not be ours.
 *
 * The root may be a directory tree standing in for configfs (tests/support/tsm_fake.h): there
 * the read-only attributes appear when the stand-in has answered, so generation (before the
 * writes) and outblob are waited for up to opts->tsm_wait_ms; and an entry holds real files, so
 * when rmdir says ENOTEMPTY (configfs never does) the attribute files are removed first.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "base/reader.h"

#include "attester_impl.h"

#define TSM_OUTBLOB_MAX (32u * 1024u) /* the kernel's TSM_REPORT_OUTBLOB_MAX */
#define TSM_AUXBLOB_MAX (256u * 1024u)
#define TSM_TEXT_MAX 64u

struct tsm_state {
    char root[1024];
    bool set_privlevel;
    unsigned privlevel;
    unsigned wait_ms;
};

static atomic_uint tsm_counter;

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Read attribute `name` of entry `dir` into b. wait_ms > 0: wait for it to exist. *missing (may
 * be NULL) is set when the file does not exist (then VT_OK with b empty). */
static enum vt_err read_attr(const char *dir, const char *name, unsigned wait_ms, size_t max,
                             struct vt_buf *b, bool *missing, struct vt_diag *d)
{
    char path[1400];
    char check[40];
    snprintf(check, sizeof(check), "tsm.%s", name);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (missing != NULL) {
        *missing = false;
    }
    uint64_t deadline = now_ms() + wait_ms;
    int fd;
    for (;;) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 || errno != ENOENT || now_ms() >= deadline) {
            break;
        }
        sleep_ms(1);
    }
    if (fd < 0 && errno == ENOENT && missing != NULL) {
        *missing = true;
        return VT_OK;
    }
    VT_ENSURE(fd >= 0, d, VT_E_IO, check, "%s: %s", path, strerror(errno));
    vt_buf_init(b, max);
    uint8_t chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int e = errno;
            close(fd);
            vt_buf_cleanup(b);
            return vt_fail(d, VT_E_IO, check, "reading %s: %s", path, strerror(e));
        }
        if (n == 0) {
            break;
        }
        if (vt_buf_append(b, chunk, (size_t)n) != VT_OK) {
            close(fd);
            vt_buf_cleanup(b);
            return vt_fail(d, VT_E_TOO_LARGE, check, "%s is larger than %zu bytes", path, max);
        }
    }
    close(fd);
    return VT_OK;
}

static enum vt_err write_attr(const char *dir, const char *name, const void *p, size_t n,
                              struct vt_diag *d)
{
    char path[1400];
    char check[40];
    snprintf(check, sizeof(check), "tsm.%s", name);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    /* O_CREAT: a no-op on configfs, where the attribute exists; creates it in a stand-in tree. */
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    VT_ENSURE(fd >= 0, d, VT_E_IO, check, "%s: %s", path, strerror(errno));
    const uint8_t *q = p;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, q + done, n - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            return vt_fail(d, VT_E_IO, check, "writing %s: %s", path, strerror(e));
        }
        done += (size_t)w;
    }
    VT_ENSURE(close(fd) == 0, d, VT_E_IO, check, "closing %s: %s", path, strerror(errno));
    return VT_OK;
}

static enum vt_err read_generation(const char *dir, unsigned wait_ms, uint64_t *out,
                                   struct vt_diag *d)
{
    struct vt_buf b;
    bool missing = false;
    VT_TRY(read_attr(dir, "generation", wait_ms, TSM_TEXT_MAX, &b, &missing, d));
    VT_ENSURE(!missing, d, VT_E_IO, "tsm.generation", "%s/generation does not exist", dir);
    size_t n = b.len;
    while (n > 0 && (b.data[n - 1] == '\n' || b.data[n - 1] == ' ')) {
        n--;
    }
    uint64_t v = 0;
    bool ok = n > 0 && n <= 20;
    for (size_t i = 0; ok && i < n; i++) {
        uint8_t c = b.data[i];
        if (c < '0' || c > '9' || v > (UINT64_MAX - (c - '0')) / 10) {
            ok = false;
            break;
        }
        v = v * 10 + (c - '0');
    }
    vt_buf_cleanup(&b);
    VT_ENSURE(ok, d, VT_E_MALFORMED, "tsm.generation",
              "%s/generation is not a decimal counter (%zu bytes)", dir, n);
    *out = v;
    return VT_OK;
}

static const char *const tsm_attrs[] = {
    "inblob",
    "outblob",
    "auxblob",
    "manifestblob",
    "provider",
    "generation",
    "privlevel",
    "privlevel_floor",
    "service_provider",
    "service_guid",
    "service_manifest_version",
};

/* rmdir the entry; in a stand-in tree (ENOTEMPTY), remove the attribute files first. */
static enum vt_err remove_entry(const char *dir, struct vt_diag *d)
{
    if (rmdir(dir) == 0) {
        return VT_OK;
    }
    if (errno == ENOTEMPTY || errno == EEXIST) {
        char path[1400];
        for (size_t i = 0; i < sizeof(tsm_attrs) / sizeof(tsm_attrs[0]); i++) {
            snprintf(path, sizeof(path), "%s/%s", dir, tsm_attrs[i]);
            (void)unlink(path);
        }
        if (rmdir(dir) == 0) {
            return VT_OK;
        }
    }
    return vt_fail(d, VT_E_IO, "tsm.rmdir", "%s: %s", dir, strerror(errno));
}

enum vt_err vt_snp_certtable_vcek(const uint8_t *p, size_t n, const uint8_t **vcek,
                                  size_t *vcek_len, struct vt_diag *d)
{
    /* 63da758d-e664-4564-adc5-f4b93be8accd */
    static const uint8_t vcek_guid[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                          0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
    static const uint8_t zero[16];
    VT_ENSURE((p != NULL || n == 0) && vcek != NULL && vcek_len != NULL, d, VT_E_ARG, "tsm.auxblob",
              "NULL argument");
    struct vt_reader r;
    vt_reader_init(&r, p, n);
    const uint8_t *found = NULL;
    size_t found_len = 0;
    for (size_t index = 0;; index++) {
        const uint8_t *guid;
        uint32_t off, len;
        if (vt_reader_get_bytes(&r, 16, &guid) != VT_OK || vt_reader_get_u32le(&r, &off) != VT_OK ||
            vt_reader_get_u32le(&r, &len) != VT_OK) {
            return vt_fail(d, VT_E_TRUNCATED, "tsm.auxblob.table",
                           "certificate table of %zu bytes ends inside entry %zu (no all-zero "
                           "terminator)",
                           n, index);
        }
        if (memcmp(guid, zero, 16) == 0 && off == 0 && len == 0) {
            break;
        }
        /* every entry (ARK, ASK, VLEK, VCEK, others) must lie inside the table */
        VT_ENSURE(len > 0 && off <= n && len <= n - off, d, VT_E_BAD_LENGTH, "tsm.auxblob.entry",
                  "entry %zu: offset %u length %u outside the %zu-byte table", index, off, len, n);
        if (memcmp(guid, vcek_guid, 16) == 0) {
            VT_ENSURE(found == NULL, d, VT_E_DUPLICATE, "tsm.auxblob.vcek",
                      "entry %zu is a second VCEK entry", index);
            found = p + off;
            found_len = len;
        }
    }
    VT_ENSURE(found != NULL, d, VT_E_NOT_FOUND, "tsm.auxblob.vcek",
              "the certificate table has no VCEK entry (GUID 63da758d-e664-4564-adc5-"
              "f4b93be8accd)");
    *vcek = found;
    *vcek_len = found_len;
    return VT_OK;
}

static enum vt_err tsm_open(struct vt_attester *a, const char *backend,
                            const struct vt_attester_opts *opts, struct vt_diag *d)
{
    (void)backend;
    const char *root = opts->tsm_root != NULL ? opts->tsm_root : VT_ATTESTER_TSM_ROOT;
    VT_ENSURE(opts->tsm_privlevel <= 3, d, VT_E_ARG, "tsm.privlevel",
              "privlevel %u is above the maximum 3", opts->tsm_privlevel);
    struct tsm_state *s = calloc(1, sizeof(*s));
    VT_ENSURE(s != NULL, d, VT_E_NOMEM, "tsm.open", "out of memory");
    if (strlen(root) >= sizeof(s->root)) {
        free(s);
        return vt_fail(d, VT_E_ARG, "tsm.root", "root path too long");
    }
    struct stat st;
    if (stat(root, &st) != 0) {
        int e = errno;
        free(s);
        return vt_fail(d, VT_E_NOT_FOUND, "tsm.root",
                       "%s: %s (is configfs mounted and a TSM provider loaded?)", root,
                       strerror(e));
    }
    if (!S_ISDIR(st.st_mode)) {
        free(s);
        return vt_fail(d, VT_E_NOT_FOUND, "tsm.root", "%s is not a directory", root);
    }
    memcpy(s->root, root, strlen(root) + 1); /* fits: checked above */
    s->set_privlevel = opts->tsm_set_privlevel;
    s->privlevel = opts->tsm_privlevel;
    s->wait_ms = opts->tsm_wait_ms != 0 ? opts->tsm_wait_ms : VT_ATTESTER_TSM_WAIT_MS;
    a->state = s;
    a->tee = VT_TEE_NONE;
    return VT_OK;
}

static enum vt_err tsm_provider_tee(const struct vt_buf *b, enum vt_tee *tee, struct vt_diag *d)
{
    size_t n = b->len;
    while (n > 0 && (b->data[n - 1] == '\n' || b->data[n - 1] == ' ')) {
        n--;
    }
    if (n == 9 && memcmp(b->data, "tdx_guest", 9) == 0) {
        *tee = VT_TEE_TDX;
        return VT_OK;
    }
    if (n == 9 && memcmp(b->data, "sev_guest", 9) == 0) {
        *tee = VT_TEE_SEV_SNP;
        return VT_OK;
    }
    char shown[TSM_TEXT_MAX + 1];
    size_t k = 0;
    for (size_t i = 0; i < n && k < TSM_TEXT_MAX; i++) {
        shown[k++] = b->data[i] >= 0x20 && b->data[i] < 0x7f ? (char)b->data[i] : '?';
    }
    shown[k] = '\0';
    return vt_fail(d, VT_E_UNSUPPORTED_TEE, "tsm.provider",
                   "provider \"%s\" is not supported (tdx_guest, sev_guest)", shown);
}

static enum vt_err tsm_report(struct tsm_state *s, const char *dir,
                              const struct vt_attester_input *in, struct vt_buf *evidence,
                              struct vt_buf *aux, enum vt_tee *tee, struct vt_diag *d)
{
    uint64_t g0, g1;
    VT_TRY(read_generation(dir, s->wait_ms, &g0, d));
    unsigned writes = 0;
    if (s->set_privlevel) {
        char text[16];
        int len = snprintf(text, sizeof(text), "%u\n", s->privlevel);
        VT_TRY(write_attr(dir, "privlevel", text, (size_t)len, d));
        writes++;
    }
    VT_TRY(write_attr(dir, "inblob", in->report_data, sizeof(in->report_data), d));
    writes++;

    struct vt_buf out, provider, auxblob;
    bool missing = false;
    VT_TRY(read_attr(dir, "outblob", s->wait_ms, TSM_OUTBLOB_MAX, &out, &missing, d));
    VT_ENSURE(!missing, d, VT_E_IO, "tsm.outblob",
              "%s/outblob did not appear within %u ms (no provider answered)", dir, s->wait_ms);
    enum vt_err err = read_attr(dir, "provider", 0, TSM_TEXT_MAX, &provider, &missing, d);
    if (err == VT_OK && missing) {
        err = vt_fail(d, VT_E_IO, "tsm.provider", "%s/provider does not exist", dir);
    }
    if (err != VT_OK) {
        vt_buf_cleanup(&out);
        return err;
    }
    bool aux_missing = false;
    err = read_attr(dir, "auxblob", 0, TSM_AUXBLOB_MAX, &auxblob, &aux_missing, d);
    if (err != VT_OK) {
        vt_buf_cleanup(&out);
        vt_buf_cleanup(&provider);
        return err;
    }
    if (aux_missing) {
        vt_buf_init(&auxblob, 0);
    }
    err = read_generation(dir, 0, &g1, d);
    if (err == VT_OK && g1 != g0 + writes) {
        err = vt_fail(d, VT_E_STATE, "tsm.generation",
                      "generation went from %llu to %llu over our %u write(s): another writer "
                      "used %s, the outblob may not be for our inblob",
                      (unsigned long long)g0, (unsigned long long)g1, writes, dir);
    }
    if (err == VT_OK && out.len == 0) {
        err = vt_fail(d, VT_E_MISSING_FIELD, "tsm.outblob.empty", "%s/outblob is empty", dir);
    }
    if (err == VT_OK) {
        err = tsm_provider_tee(&provider, tee, d);
    }
    if (err == VT_OK && *tee == VT_TEE_SEV_SNP && auxblob.len > 0 && aux != NULL) {
        const uint8_t *vcek;
        size_t vcek_len;
        err = vt_snp_certtable_vcek(auxblob.data, auxblob.len, &vcek, &vcek_len, d);
        if (err == VT_OK) {
            err = vt_attester_buf_set(aux, vcek, vcek_len, "attester.aux", d);
        }
    }
    if (err == VT_OK) {
        err = vt_attester_buf_set(evidence, out.data, out.len, "attester.evidence", d);
    }
    vt_buf_cleanup(&out);
    vt_buf_cleanup(&provider);
    vt_buf_cleanup(&auxblob);
    return err;
}

static enum vt_err tsm_evidence(struct vt_attester *a, const struct vt_attester_input *in,
                                struct vt_buf *evidence, struct vt_buf *aux, struct vt_diag *d)
{
    struct tsm_state *s = a->state;
    char dir[1200];
    int made = -1;
    for (int attempt = 0; attempt < 8 && made != 0; attempt++) {
        uint32_t rnd = 0;
        if (vt_random_bytes(&rnd, sizeof(rnd), NULL) != VT_OK) {
            rnd = 0;
        }
        snprintf(dir, sizeof(dir), "%s/veritee-%ld-%u-%08x", s->root, (long)getpid(),
                 atomic_fetch_add(&tsm_counter, 1u), rnd);
        made = mkdir(dir, 0700);
        if (made != 0 && errno != EEXIST) {
            break;
        }
    }
    VT_ENSURE(made == 0, d, VT_E_IO, "tsm.mkdir", "%s: %s", dir, strerror(errno));
    enum vt_tee tee = VT_TEE_NONE;
    enum vt_err err = tsm_report(s, dir, in, evidence, aux, &tee, d);
    struct vt_diag rd;
    vt_diag_init(&rd);
    enum vt_err rerr = remove_entry(dir, &rd);
    if (err == VT_OK && rerr != VT_OK) {
        if (d != NULL) {
            *d = rd;
        }
        err = rerr;
    }
    if (err == VT_OK) {
        a->tee = tee;
    }
    return err;
}

static void tsm_close(struct vt_attester *a)
{
    free(a->state);
    a->state = NULL;
}

const struct vt_attester_ops vt_attester_tsm_ops = {
    .name = "tsm",
    .open = tsm_open,
    .evidence = tsm_evidence,
    .close = tsm_close,
};
