/*
 * A strict CBOR reader (RFC 8949) over the bounded reader.
 *
 * SPEC: RFC 8949 section 3 (encoding of a data item). Every item starts with a head:
 *
 *   initial byte  major type (3 bits) | additional information (5 bits)
 *       info 0..23   the argument is info itself
 *       info 24..27  the argument follows in 1, 2, 4 or 8 bytes, big-endian
 *       info 28..30  reserved (not well-formed)
 *       info 31      indefinite length (arrays, maps, strings) or the break 0xff (major 7)
 *
 *   major 0 uint, 1 negative int (-1 - arg), 2 byte string (arg bytes follow), 3 text string,
 *         4 array (arg items), 5 map (arg key/value pairs), 6 tag (one item follows),
 *         7 simple value (info < 24, or info 24 with a value >= 32) or float (info 25..27)
 *
 * What this reader refuses beyond RFC 8949's well-formedness (indefinite strings, non-minimal
 * heads) is listed and argued in src/base/cbor.h. Skipping is iterative with an explicit
 * stack of VT_MAX_CBOR_DEPTH frames, so hostile nesting cannot exhaust the C stack.
 */
#include <veritee/limits.h>

#include "base/cbor.h"

enum vt_err vt_cbor_get_head(struct vt_reader *r, struct vt_cbor_head *h)
{
    /* SPEC: RFC 8949 section 3, the smallest argument each length form may carry (4.2.1,
     * preferred serialisation). */
    static const uint64_t min_arg[4] = {24, 0x100, 0x10000, 0x100000000};
    struct vt_reader t = *r;
    uint8_t b;
    VT_TRY(vt_reader_get_u8(&t, &b));
    uint8_t major = (uint8_t)(b >> 5);
    uint8_t info = (uint8_t)(b & 0x1f);
    uint64_t arg = 0;
    bool indefinite = false;
    if (info < 24) {
        arg = info;
    } else if (info <= 27) {
        uint8_t v8;
        uint16_t v16;
        uint32_t v32;
        switch (info) {
        case 24:
            VT_TRY(vt_reader_get_u8(&t, &v8));
            arg = v8;
            break;
        case 25:
            VT_TRY(vt_reader_get_u16be(&t, &v16));
            arg = v16;
            break;
        case 26:
            VT_TRY(vt_reader_get_u32be(&t, &v32));
            arg = v32;
            break;
        default:
            VT_TRY(vt_reader_get_u64be(&t, &arg));
            break;
        }
        if (major == VT_CBOR_SIMPLE) {
            /* SPEC: RFC 8949 section 3.3: 0xf8 with a value below 32 is not well-formed. Floats
             * (info 25..27) have no shorter form to compare with. */
            if (info == 24 && arg < 32) {
                return VT_E_MALFORMED;
            }
        } else if (arg < min_arg[info - 24]) {
            return VT_E_MALFORMED; /* non-minimal head */
        }
    } else if (info < 31) {
        return VT_E_MALFORMED; /* reserved additional information 28..30 */
    } else if (major == VT_CBOR_ARRAY || major == VT_CBOR_MAP) {
        indefinite = true;
    } else {
        /* Indefinite integers and tags are not well-formed (RFC 8949 section 3.2); indefinite
         * strings are not accepted; 0xff is a break where an item was expected. */
        return VT_E_MALFORMED;
    }
    h->major = major;
    h->info = info;
    h->indefinite = indefinite;
    h->arg = arg;
    *r = t;
    return VT_OK;
}

enum vt_err vt_cbor_get_break(struct vt_reader *r, bool *found)
{
    uint8_t b;
    VT_TRY(vt_reader_peek_u8(r, &b));
    *found = b == 0xff;
    if (*found) {
        VT_TRY(vt_reader_skip(r, 1));
    }
    return VT_OK;
}

enum vt_err vt_cbor_get_string(struct vt_reader *r, const struct vt_cbor_head *h,
                               const uint8_t **out, size_t *len)
{
    if ((h->major != VT_CBOR_BYTES && h->major != VT_CBOR_TEXT) || h->indefinite) {
        return VT_E_ARG;
    }
    if (h->arg > (uint64_t)vt_reader_left(r)) {
        return VT_E_TRUNCATED;
    }
    VT_TRY(vt_reader_get_bytes(r, (size_t)h->arg, out));
    *len = (size_t)h->arg;
    return VT_OK;
}

enum vt_err vt_cbor_next(struct vt_reader *r, const struct vt_cbor_head *h, uint64_t done,
                         bool *more)
{
    if (!h->indefinite) {
        *more = done < h->arg;
        return VT_OK;
    }
    bool found;
    VT_TRY(vt_cbor_get_break(r, &found));
    *more = !found;
    return VT_OK;
}

/* An open container while skipping. */
struct frame {
    uint64_t left; /* definite: items still to come (two per map pair) */
    uint64_t seen; /* indefinite: items read so far */
    bool indefinite;
    bool is_map;
};

/*
 * One item at the current level is complete: count it, and close every definite container it
 * completes. True when the outermost item is complete.
 */
static bool item_done(struct frame *stack, size_t *depth)
{
    while (*depth > 0) {
        struct frame *f = &stack[*depth - 1];
        if (f->indefinite) {
            f->seen++;
            return false;
        }
        if (--f->left > 0) {
            return false;
        }
        (*depth)--;
    }
    return true;
}

/* Skip the item whose head h has just been read from t, up to its end. */
static enum vt_err skip_from(struct vt_reader *t, struct vt_cbor_head h)
{
    struct frame stack[VT_MAX_CBOR_DEPTH];
    size_t depth = 0;
    size_t items = 0;
    for (;;) {
        if (++items > VT_MAX_CBOR_ITEMS) {
            return VT_E_TOO_LARGE;
        }
        bool complete = true;
        switch (h.major) {
        case VT_CBOR_BYTES:
        case VT_CBOR_TEXT: {
            const uint8_t *s;
            size_t n;
            VT_TRY(vt_cbor_get_string(t, &h, &s, &n));
            break;
        }
        case VT_CBOR_ARRAY:
        case VT_CBOR_MAP: {
            if (depth == VT_MAX_CBOR_DEPTH) {
                return VT_E_TOO_LARGE;
            }
            uint64_t per = h.major == VT_CBOR_MAP ? 2 : 1;
            /* Every item takes at least one byte: a count beyond what is left is truncated (and
             * the product below cannot overflow). */
            if (!h.indefinite && h.arg > (uint64_t)vt_reader_left(t) / per) {
                return VT_E_TRUNCATED;
            }
            if (h.indefinite || h.arg > 0) {
                stack[depth++] = (struct frame){.left = h.arg * per,
                                                .seen = 0,
                                                .indefinite = h.indefinite,
                                                .is_map = h.major == VT_CBOR_MAP};
                complete = false;
            }
            break;
        }
        case VT_CBOR_TAG:
            complete = false; /* the tagged item follows */
            break;
        default:
            break; /* integers, simple values and floats are their head */
        }
        if (complete && item_done(stack, &depth)) {
            return VT_OK;
        }
        /* Breaks may close indefinite containers, but never right after a tag. */
        while (h.major != VT_CBOR_TAG && depth > 0 && stack[depth - 1].indefinite) {
            bool found;
            VT_TRY(vt_cbor_get_break(t, &found));
            if (!found) {
                break;
            }
            const struct frame *f = &stack[depth - 1];
            if (f->is_map && f->seen % 2 != 0) {
                return VT_E_MALFORMED; /* a key without its value */
            }
            depth--;
            if (item_done(stack, &depth)) {
                return VT_OK;
            }
        }
        VT_TRY(vt_cbor_get_head(t, &h));
    }
}

enum vt_err vt_cbor_skip_rest(struct vt_reader *r, const struct vt_cbor_head *h)
{
    struct vt_reader t = *r;
    VT_TRY(skip_from(&t, *h));
    *r = t;
    return VT_OK;
}

enum vt_err vt_cbor_skip(struct vt_reader *r)
{
    struct vt_reader t = *r;
    struct vt_cbor_head h;
    VT_TRY(vt_cbor_get_head(&t, &h));
    VT_TRY(skip_from(&t, h));
    *r = t;
    return VT_OK;
}

const char *vt_cbor_type_name(const struct vt_cbor_head *h)
{
    switch (h->major) {
    case VT_CBOR_UINT:
        return "unsigned integer";
    case VT_CBOR_NEGINT:
        return "negative integer";
    case VT_CBOR_BYTES:
        return "byte string";
    case VT_CBOR_TEXT:
        return "text string";
    case VT_CBOR_ARRAY:
        return "array";
    case VT_CBOR_MAP:
        return "map";
    case VT_CBOR_TAG:
        return "tag";
    default:
        break;
    }
    if (h->info >= 25 && h->info <= 27) {
        return "float";
    }
    if (h->info < 24) {
        switch (h->arg) {
        case VT_CBOR_FALSE:
            return "false";
        case VT_CBOR_TRUE:
            return "true";
        case VT_CBOR_NULL:
            return "null";
        case VT_CBOR_UNDEFINED:
            return "undefined";
        default:
            break;
        }
    }
    return "simple value";
}

bool vt_cbor_utf8_valid(const uint8_t *p, size_t n)
{
    struct vt_reader r;
    vt_reader_init(&r, p, n);
    uint8_t b;
    while (vt_reader_get_u8(&r, &b) == VT_OK) {
        size_t more;
        uint32_t cp;
        uint32_t min;
        if (b < 0x80) {
            continue;
        } else if (b >= 0xc2 && b <= 0xdf) {
            more = 1;
            cp = b & 0x1fu;
            min = 0x80;
        } else if (b >= 0xe0 && b <= 0xef) {
            more = 2;
            cp = b & 0x0fu;
            min = 0x800;
        } else if (b >= 0xf0 && b <= 0xf4) {
            more = 3;
            cp = b & 0x07u;
            min = 0x10000;
        } else {
            return false; /* a continuation byte first, 0xc0/0xc1 (overlong) or beyond 0xf4 */
        }
        for (size_t i = 0; i < more; i++) {
            uint8_t c;
            if (vt_reader_get_u8(&r, &c) != VT_OK || (c & 0xc0) != 0x80) {
                return false;
            }
            cp = cp << 6 | (c & 0x3fu);
        }
        /* SPEC: RFC 3629 section 3: shortest form, no surrogates, at most U+10FFFF. */
        if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
            return false;
        }
    }
    return true;
}

size_t vt_cbor_encode_head(uint8_t major, uint64_t arg, uint8_t out[VT_CBOR_HEAD_MAX])
{
    uint8_t top = (uint8_t)(major << 5);
    size_t n;
    if (arg < 24) {
        out[0] = (uint8_t)(top | arg);
        return 1;
    } else if (arg <= 0xff) {
        out[0] = (uint8_t)(top | 24);
        n = 1;
    } else if (arg <= 0xffff) {
        out[0] = (uint8_t)(top | 25);
        n = 2;
    } else if (arg <= 0xffffffff) {
        out[0] = (uint8_t)(top | 26);
        n = 4;
    } else {
        out[0] = (uint8_t)(top | 27);
        n = 8;
    }
    for (size_t i = 0; i < n; i++) {
        out[1 + i] = (uint8_t)(arg >> (8 * (n - 1 - i)));
    }
    return 1 + n;
}
