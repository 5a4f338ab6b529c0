/*
 * Growable byte buffer with a mandatory cap, and whole-file reading.
 * _init/_cleanup on caller storage; cleanup wipes the contents and is NULL-safe.
 */
#ifndef VERITEE_BUF_H
#define VERITEE_BUF_H

#include <veritee/common.h>
#include <veritee/error.h>

struct vt_buf {
    uint8_t *data; /* always NUL-terminated past len when non-NULL (not counted in len) */
    size_t len;
    size_t cap;
    size_t max; /* appending beyond max fails with VT_E_TOO_LARGE */
};

VT_EXPORT void vt_buf_init(struct vt_buf *b, size_t max);
VT_EXPORT void vt_buf_cleanup(struct vt_buf *b);
/* Make room for n more bytes now (one allocation instead of doublings); VT_E_TOO_LARGE past max,
 * VT_E_NOMEM. The contents are unchanged either way. */
VT_EXPORT VT_MUST_USE enum vt_err vt_buf_reserve(struct vt_buf *b, size_t n);
VT_EXPORT VT_MUST_USE enum vt_err vt_buf_append(struct vt_buf *b, const void *p, size_t n);
VT_EXPORT VT_MUST_USE enum vt_err vt_buf_printf(struct vt_buf *b, const char *fmt, ...)
    VT_PRINTF(2, 3);
/* Replace b's contents by the n bytes at p (b keeps its max): VT_E_TOO_LARGE past max,
 * VT_E_NOMEM; b is unchanged on failure. */
VT_EXPORT VT_MUST_USE enum vt_err vt_buf_replace(struct vt_buf *b, const void *p, size_t n);
/* Transfer ownership of the data to the caller (free with free()); the buffer becomes empty. */
VT_EXPORT uint8_t *vt_buf_steal(struct vt_buf *b, size_t *len);

/* Read a whole file (or "-" for stdin) into b, failing with VT_E_TOO_LARGE past b->max bytes
 * and VT_E_IO (detail: path and errno text) when it cannot be read. */
VT_EXPORT VT_MUST_USE enum vt_err vt_file_read(const char *path, struct vt_buf *b,
                                               struct vt_diag *d);

#endif
