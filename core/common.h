/*
 * common.h - internal foundation shared by every core module:
 * the error model, the memory interface, the bounds-checked reader and the
 * length-back-filling writer.  Nothing here performs I/O.
 */
#ifndef FR_COMMON_H
#define FR_COMMON_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "codes.h" /* the public numbers (status, reasons, alerts...), not ferrule.h */

#define FR_MUST_CHECK __attribute__((warn_unused_result))
#define FR_HIDDEN __attribute__((visibility("hidden")))

/* ---------------------------------------------------------------------- */
/* Errors.  Internally every fallible function returns an `fr_err`: 0 for
 * success or one of the public FERRULE_R_* reason codes.  err.c maps a
 * reason to its status class, alert and message.  Three macros only.     */
/* ---------------------------------------------------------------------- */

typedef uint32_t fr_err;
#define FR_OK ((fr_err)0)

/* Propagate a failure. */
#define FR_TRY(expr)                                                                               \
    do {                                                                                           \
        fr_err fr_try_e_ = (expr);                                                                 \
        if (fr_try_e_ != FR_OK) return fr_try_e_;                                                  \
    } while (0)
/* Fail with `err` unless `cond` holds. */
#define FR_ENSURE(cond, err)                                                                       \
    do {                                                                                           \
        if (!(cond)) return (err);                                                                 \
    } while (0)

/* Status class for a reason code (FERRULE_DECODE, ...). */
int fr_err_class(fr_err e);
/* Alert to send for a locally detected error, or -1 if none. */
int fr_err_alert(fr_err e);

/* ---------------------------------------------------------------------- */
/* Memory: every allocation goes through an fr_mem, which carries the
 * user's allocator and enforces a ceiling.  Frees pass the size.          */
/* ---------------------------------------------------------------------- */

/* The core's allocator hooks (the ABI converts a ferrule_allocator). */
typedef struct fr_allocator {
    void *(*alloc)(void *ctx, size_t size);
    void (*free)(void *ctx, void *ptr, size_t size);
    void *ctx;
} fr_allocator;

typedef struct fr_mem {
    void *(*alloc)(void *ctx, size_t size);
    void (*free)(void *ctx, void *ptr, size_t size);
    void *ctx;
    /* Atomic: a connection's two halves may allocate from two threads. */
    atomic_size_t used; /* bytes currently allocated through this fr_mem */
    atomic_size_t peak; /* high-water mark */
    size_t limit;       /* 0 = unlimited */
} fr_mem;

/* Set up with the given allocator (NULL = libc) and ceiling. */
void fr_mem_init(fr_mem *m, const fr_allocator *a, size_t limit);
/* Zero-filled allocation; NULL when out of memory or over the ceiling
 * (callers turn NULL into FERRULE_R_MEMORY_LIMIT via fr_mem_error). */
void *fr_mem_alloc(fr_mem *m, size_t n);
/* Wipes then frees.  NULL is a no-op. */
void fr_mem_free(fr_mem *m, void *p, size_t n);
/* Free without wiping: only for buffers that hold nothing secret (the
 * output buffer, which holds records already protected or public). */
void fr_mem_free_public(fr_mem *m, void *p, size_t n);
/* Move the accounting of `from` (a bootstrap fr_mem that allocated the
 * owning struct) into `to`. */
void fr_mem_adopt(fr_mem *to, fr_mem *from);
/* Free the struct that contains `m` itself (wipes it first). */
void fr_mem_free_owner(fr_mem *m, void *owner, size_t n);
/* Reason for the last failed fr_mem_alloc: MEMORY_LIMIT or OUT_OF_MEMORY. */
fr_err fr_mem_error(const fr_mem *m, size_t n);
/* Is e a failure of resources (memory, internal) rather than of the input? */
int fr_err_is_resource(fr_err e);

/* Wipe secrets (never optimised away). */
void fr_wipe(void *p, size_t n);
/* Constant-time equality of two n-byte buffers: 1 if equal. */
int fr_ct_equal(const uint8_t *a, const uint8_t *b, size_t n);

/* ---------------------------------------------------------------------- */
/* Reader: one bounds-checked cursor used by every parser (TLS and DER).
 * Invariant: p <= end.  Lengths are compared against (end - p); p + n is
 * never formed before the check.  Every function fails with `err` of the
 * reader (default FERRULE_R_DECODE_ERROR) and leaves the reader unchanged
 * on failure.                                                            */
/* ---------------------------------------------------------------------- */

typedef struct fr_reader {
    const uint8_t *p;
    const uint8_t *end;
} fr_reader;

static inline fr_reader fr_reader_init(const uint8_t *p, size_t n) {
    /* An empty reader may have no buffer: NULL + 0 is undefined in C. */
    fr_reader r = {p, p != NULL ? p + n : p};
    return r;
}
static inline size_t fr_reader_left(const fr_reader *r) { return (size_t)(r->end - r->p); }
static inline int fr_reader_empty(const fr_reader *r) { return r->p == r->end; }

FR_MUST_CHECK fr_err fr_read_u8(fr_reader *r, uint8_t *v);
FR_MUST_CHECK fr_err fr_read_u16(fr_reader *r, uint16_t *v);
FR_MUST_CHECK fr_err fr_read_u24(fr_reader *r, uint32_t *v);
FR_MUST_CHECK fr_err fr_read_u32(fr_reader *r, uint32_t *v);
/* Take n raw bytes (pointer into the input). */
FR_MUST_CHECK fr_err fr_read_bytes(fr_reader *r, size_t n, const uint8_t **out);
/* Open a sub-reader over a vector with a 1/2/3-byte length prefix. */
FR_MUST_CHECK fr_err fr_read_vec8(fr_reader *r, fr_reader *sub);
FR_MUST_CHECK fr_err fr_read_vec16(fr_reader *r, fr_reader *sub);
FR_MUST_CHECK fr_err fr_read_vec24(fr_reader *r, fr_reader *sub);
/* Fail with DECODE_ERROR unless the reader is fully consumed. */
FR_MUST_CHECK fr_err fr_read_done(const fr_reader *r);

/* ---------------------------------------------------------------------- */
/* A set of 16-bit code points: an 8 KiB bitmap, so that checks over the
 * lists a peer sends (extension types, groups, shares) cost O(1) per
 * element whatever the list's length.  Declare it on the stack or in
 * handshake-scoped memory, then fr_u16_set_clear it.                     */
/* ---------------------------------------------------------------------- */

typedef struct fr_u16_set {
    uint64_t w[65536 / 64];
} fr_u16_set;

static inline void fr_u16_set_clear(fr_u16_set *s) { memset(s, 0, sizeof(*s)); }
static inline int fr_u16_set_has(const fr_u16_set *s, uint16_t v) {
    return (int)((s->w[v >> 6] >> (v & 63)) & 1u);
}
static inline void fr_u16_set_add(fr_u16_set *s, uint16_t v) { s->w[v >> 6] |= 1ull << (v & 63); }
static inline void fr_u16_set_del(fr_u16_set *s, uint16_t v) {
    s->w[v >> 6] &= ~(1ull << (v & 63));
}

/* ---------------------------------------------------------------------- */
/* Writer over a fixed caller buffer.  Length prefixes are reserved with
 * fr_write_open_vecN and back-filled by fr_write_close_vec, which fails if
 * the body does not fit the prefix.  Overflow of the buffer sets `failed`
 * (sticky) and later writes are ignored; fr_write_finish reports it.     */
/* ---------------------------------------------------------------------- */

#define FR_WRITER_MAX_DEPTH 8

typedef struct fr_writer {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int failed; /* 0 ok, else FERRULE_R_BUFFER_TOO_SMALL / DECODE_ERROR */
    size_t open_at[FR_WRITER_MAX_DEPTH];
    uint8_t open_width[FR_WRITER_MAX_DEPTH];
    size_t depth;
} fr_writer;

void fr_writer_init(fr_writer *w, uint8_t *buf, size_t cap);
void fr_write_u8(fr_writer *w, uint8_t v);
void fr_write_u16(fr_writer *w, uint16_t v);
void fr_write_u24(fr_writer *w, uint32_t v);
void fr_write_u32(fr_writer *w, uint32_t v);
void fr_write_bytes(fr_writer *w, const uint8_t *p, size_t n);
/* Reserve a `width`-byte (1, 2 or 3) length prefix. */
void fr_write_open_vec(fr_writer *w, int width);
/* Back-fill the innermost open prefix. */
void fr_write_close_vec(fr_writer *w);
/* FR_OK, or the sticky failure (also if a vector is still open). */
FR_MUST_CHECK fr_err fr_write_finish(const fr_writer *w);

/* ---------------------------------------------------------------------- */
/* Text (text.c), bounded by the given lengths, without stdio or the C
 * library's inet_* functions.  Parsers return 1 (address in out, network
 * order) or 0 (out untouched); an embedded NUL is just an invalid octet. */
/* ---------------------------------------------------------------------- */

/* Strict dotted quad, RFC 3986 §3.2.2 IPv4address: four decimal dec-octets
 * 0..255 without leading zeros, nothing else (what inet_pton accepts). */
int fr_ipv4_parse(const char *s, size_t n, uint8_t out[4]);
/* RFC 4291 §2.2 text: eight groups of 1 to 4 hex digits, one "::" for one
 * or more zero groups, optionally a strict dotted quad as the last 32 bits;
 * no zone index, no brackets. */
int fr_ipv6_parse(const char *s, size_t n, uint8_t out[16]);
/* Either: 4 or 16, the length of the address in out, else 0. */
size_t fr_ip_parse(const char *s, size_t n, uint8_t out[16]);
/* The lenient inet_aton(3) convention, for recognising what other software
 * would take for an IPv4 address: 1 to 4 parts (a, a.b, a.b.c, a.b.c.d;
 * the last fills the remaining bytes), each decimal, octal ("0" prefix) or
 * hex ("0x"), optionally followed by white space and anything. */
int fr_ipv4_parse_loose(const char *s, size_t n, uint8_t out[4]);
/* Canonical text of a 4- or 16-byte address: dotted decimal, or RFC 5952
 * §4 (lower-case hex, no leading zeros, the longest run of two or more
 * zero groups as "::", the first on a tie).  NUL-terminated; the length,
 * or 0 (and an empty string if cap > 0) when n is neither 4 nor 16 or the
 * text does not fit cap. */
size_t fr_ip_text(const uint8_t *ip, size_t n, char *out, size_t cap);
/* v in decimal / in hex (at least min_digits, zero-padded), NUL-terminated;
 * the number of digits, or 0 (and an empty string if cap > 0) when they
 * and the NUL do not fit cap. */
size_t fr_fmt_dec(char *out, size_t cap, uint64_t v);
size_t fr_fmt_hex(char *out, size_t cap, uint64_t v, size_t min_digits, int upper);

#endif
