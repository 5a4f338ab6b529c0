/*
 * Growable byte buffer with a mandatory cap (curl's dynbuf idea), and whole-file reading.
 *
 * Invariants: data == NULL with len == cap == 0, or data holds cap bytes with len < cap,
 * data[len] == '\0' and len <= max. Growth copies into a fresh block and wipes the old one rather
 * than calling realloc, because buffers may hold key material and realloc leaves the old block's
 * contents behind in freed memory.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <veritee/buf.h>

#define BUF_MIN_CAP 64
#define FILE_CHUNK 65536

/* Overwrite n bytes in a way the compiler cannot drop as a dead store (src/base has no OpenSSL,
 * so no OPENSSL_cleanse here). */
static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    for (size_t i = 0; i < n; i++) {
        v[i] = 0;
    }
}

void vt_buf_init(struct vt_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void vt_buf_cleanup(struct vt_buf *b)
{
    if (b == NULL) {
        return;
    }
    if (b->data != NULL) {
        wipe(b->data, b->cap);
        free(b->data);
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

/*
 * Make room for n more bytes plus the terminating NUL. VT_E_TOO_LARGE past max, VT_E_NOMEM if
 * allocation fails; the buffer is unchanged on failure.
 */
static enum vt_err reserve(struct vt_buf *b, size_t n)
{
    if (n > b->max - b->len) {
        return VT_E_TOO_LARGE;
    }
    size_t need = b->len + n; /* <= max */
    if (need == SIZE_MAX) {
        return VT_E_TOO_LARGE; /* no room for the NUL */
    }
    need++;
    if (b->data != NULL && need <= b->cap) {
        return VT_OK;
    }
    size_t limit = b->max < SIZE_MAX ? b->max + 1 : SIZE_MAX;
    size_t cap = b->cap > 0 ? b->cap : BUF_MIN_CAP;
    while (cap < need) {
        cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
    }
    if (cap > limit) {
        cap = limit; /* still >= need, since need <= max + 1 */
    }
    uint8_t *p = malloc(cap);
    if (p == NULL) {
        return VT_E_NOMEM;
    }
    if (b->data != NULL) {
        memcpy(p, b->data, b->len);
        wipe(b->data, b->cap);
        free(b->data);
    }
    p[b->len] = '\0';
    b->data = p;
    b->cap = cap;
    return VT_OK;
}

enum vt_err vt_buf_reserve(struct vt_buf *b, size_t n)
{
    return reserve(b, n);
}

enum vt_err vt_buf_append(struct vt_buf *b, const void *p, size_t n)
{
    VT_TRY(reserve(b, n));
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return VT_OK;
}

enum vt_err vt_buf_replace(struct vt_buf *b, const void *p, size_t n)
{
    struct vt_buf tmp; /* built aside, so that b is unchanged on failure */
    vt_buf_init(&tmp, b->max);
    enum vt_err err = vt_buf_append(&tmp, p, n);
    if (err != VT_OK) {
        vt_buf_cleanup(&tmp);
        return err;
    }
    vt_buf_cleanup(b);
    *b = tmp;
    return VT_OK;
}

enum vt_err vt_buf_printf(struct vt_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return VT_E_ARG;
    }
    VT_TRY(reserve(b, (size_t)n));
    va_start(ap, fmt);
    int m = vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (m != n) {
        b->data[b->len] = '\0';
        return VT_E_INTERNAL;
    }
    b->len += (size_t)n;
    return VT_OK;
}

uint8_t *vt_buf_steal(struct vt_buf *b, size_t *len)
{
    uint8_t *p = b->data;
    if (len != NULL) {
        *len = b->len;
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

/* Read f to its end into b (which holds nothing yet). */
static enum vt_err read_stream(FILE *f, const char *path, struct vt_buf *b, struct vt_diag *d)
{
    for (;;) {
        size_t room = b->max - b->len;
        size_t want = room < FILE_CHUNK ? room : FILE_CHUNK;
        if (want == 0) {
            /* At max: one more byte tells "exactly max" from "more than max" without reading
             * the rest. */
            errno = 0;
            int c = fgetc(f);
            int e = errno;
            if (c == EOF && !ferror(f)) {
                return VT_OK;
            }
            if (c == EOF) {
                return vt_fail(d, VT_E_IO, "file.read", "%s: %s", path, strerror(e != 0 ? e : EIO));
            }
            return vt_fail(d, VT_E_TOO_LARGE, "file.size", "%s: larger than %zu bytes", path,
                           b->max);
        }
        enum vt_err err = reserve(b, want);
        if (err != VT_OK) {
            return vt_fail(d, err, "file.read", "%s: cannot allocate %zu bytes", path,
                           b->len + want);
        }
        errno = 0;
        size_t got = fread(b->data + b->len, 1, want, f);
        int e = errno;
        b->len += got;
        b->data[b->len] = '\0';
        if (got < want) {
            if (ferror(f)) {
                return vt_fail(d, VT_E_IO, "file.read", "%s: %s", path, strerror(e != 0 ? e : EIO));
            }
            return VT_OK;
        }
    }
}

enum vt_err vt_file_read(const char *path, struct vt_buf *b, struct vt_diag *d)
{
    VT_ENSURE(path != NULL && b != NULL, d, VT_E_ARG, "file.read", "no path or buffer");
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL) {
        return vt_fail(d, VT_E_IO, "file.read", "%s: %s", path, strerror(errno));
    }
    /* Read into a fresh buffer: on failure b keeps what it held; on success the file's bytes
     * replace it. */
    struct vt_buf tmp;
    vt_buf_init(&tmp, b->max);
    enum vt_err err = read_stream(f, path, &tmp, d);
    if (err == VT_OK && tmp.data == NULL) {
        err = reserve(&tmp, 0); /* an empty file still yields a valid "" */
        if (err != VT_OK) {
            err = vt_fail(d, err, "file.read", "%s: cannot allocate", path);
        }
    }
    if (!is_stdin) {
        fclose(f);
    } else {
        clearerr(f);
    }
    if (err != VT_OK) {
        vt_buf_cleanup(&tmp);
        return err;
    }
    vt_buf_cleanup(b);
    *b = tmp;
    return VT_OK;
}
