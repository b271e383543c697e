/* common.c - memory, wiping, the reader and the writer. */
#include "common.h"

#include <stdlib.h>

#include <openssl/crypto.h>
#include <sodium.h>

/* ---- memory ---------------------------------------------------------- */

static void *libc_alloc(void *ctx, size_t n) {
    (void)ctx;
    return malloc(n);
}
static void libc_free(void *ctx, void *p, size_t n) {
    (void)ctx;
    (void)n;
    free(p);
}

void fr_mem_init(fr_mem *m, const fr_allocator *a, size_t limit) {
    if (a != NULL && a->alloc != NULL && a->free != NULL) {
        m->alloc = a->alloc;
        m->free = a->free;
        m->ctx = a->ctx;
    } else {
        m->alloc = libc_alloc;
        m->free = libc_free;
        m->ctx = NULL;
    }
    atomic_init(&m->used, 0);
    atomic_init(&m->peak, 0);
    m->limit = limit;
}

void fr_mem_adopt(fr_mem *to, fr_mem *from) {
    size_t n = atomic_load(&from->used);
    size_t now = atomic_fetch_add(&to->used, n) + n;
    size_t peak = atomic_load(&to->peak);
    while (peak < now && !atomic_compare_exchange_weak(&to->peak, &peak, now)) {
    }
}

void *fr_mem_alloc(fr_mem *m, size_t n) {
    if (n == 0) n = 1;
    /* Reserve against the ceiling first, atomically, then allocate. */
    size_t cur = atomic_load(&m->used);
    do {
        if (m->limit != 0 && (n > m->limit || cur > m->limit - n)) return NULL;
    } while (!atomic_compare_exchange_weak(&m->used, &cur, cur + n));
    void *p = m->alloc(m->ctx, n);
    if (p == NULL) {
        atomic_fetch_sub(&m->used, n);
        return NULL;
    }
    memset(p, 0, n);
    size_t now = cur + n;
    size_t peak = atomic_load(&m->peak);
    while (peak < now && !atomic_compare_exchange_weak(&m->peak, &peak, now)) {
    }
    return p;
}

void fr_mem_free(fr_mem *m, void *p, size_t n) {
    if (p == NULL) return;
    if (n == 0) n = 1;
    fr_wipe(p, n);
    atomic_fetch_sub(&m->used, n);
    m->free(m->ctx, p, n);
}

void fr_mem_free_public(fr_mem *m, void *p, size_t n) {
    if (p == NULL) return;
    if (n == 0) n = 1;
    atomic_fetch_sub(&m->used, n);
    m->free(m->ctx, p, n);
}

void fr_mem_free_owner(fr_mem *m, void *owner, size_t n) {
    void (*free_fn)(void *, void *, size_t) = m->free;
    void *ctx = m->ctx;
    fr_wipe(owner, n);
    free_fn(ctx, owner, n);
}

fr_err fr_mem_error(const fr_mem *m, size_t n) {
    size_t used = atomic_load(&m->used);
    if (m->limit != 0 && (n > m->limit || used > m->limit - n)) return FERRULE_R_MEMORY_LIMIT;
    return FERRULE_R_OUT_OF_MEMORY;
}

int fr_err_is_resource(fr_err e) {
    return e == FERRULE_R_MEMORY_LIMIT || e == FERRULE_R_OUT_OF_MEMORY || e == FERRULE_R_INTERNAL;
}

void fr_wipe(void *p, size_t n) {
    if (p != NULL && n != 0) sodium_memzero(p, n);
}

int fr_ct_equal(const uint8_t *a, const uint8_t *b, size_t n) {
    return CRYPTO_memcmp(a, b, n) == 0;
}

/* ---- reader ---------------------------------------------------------- */

static fr_err read_uint(fr_reader *r, size_t width, uint32_t *v) {
    FR_ENSURE(width <= fr_reader_left(r), FERRULE_R_DECODE_ERROR);
    uint32_t x = 0;
    /*@ loop invariant 0 <= i <= width;
        loop assigns i, x;
        loop variant width - i; */
    for (size_t i = 0; i < width; i++) x = (x << 8) | r->p[i];
    r->p += width;
    *v = x;
    return FR_OK;
}

fr_err fr_read_u8(fr_reader *r, uint8_t *v) {
    uint32_t x;
    FR_TRY(read_uint(r, 1, &x));
    *v = (uint8_t)x;
    return FR_OK;
}
fr_err fr_read_u16(fr_reader *r, uint16_t *v) {
    uint32_t x;
    FR_TRY(read_uint(r, 2, &x));
    *v = (uint16_t)x;
    return FR_OK;
}
fr_err fr_read_u24(fr_reader *r, uint32_t *v) { return read_uint(r, 3, v); }
fr_err fr_read_u32(fr_reader *r, uint32_t *v) { return read_uint(r, 4, v); }

fr_err fr_read_bytes(fr_reader *r, size_t n, const uint8_t **out) {
    FR_ENSURE(n <= fr_reader_left(r), FERRULE_R_DECODE_ERROR);
    *out = r->p;
    /* An empty reader may have no buffer (fr_reader_init(NULL, 0)): NULL + 0
     * is undefined in C, so zero bytes never move the pointer. */
    if (n > 0) r->p += n;
    return FR_OK;
}

static fr_err read_vec(fr_reader *r, size_t width, fr_reader *sub) {
    fr_reader save = *r;
    uint32_t n;
    FR_TRY(read_uint(r, width, &n));
    if (n > fr_reader_left(r)) {
        *r = save;
        return FERRULE_R_DECODE_ERROR;
    }
    sub->p = r->p;
    sub->end = r->p + n;
    r->p += n;
    return FR_OK;
}
fr_err fr_read_vec8(fr_reader *r, fr_reader *sub) { return read_vec(r, 1, sub); }
fr_err fr_read_vec16(fr_reader *r, fr_reader *sub) { return read_vec(r, 2, sub); }
fr_err fr_read_vec24(fr_reader *r, fr_reader *sub) { return read_vec(r, 3, sub); }

fr_err fr_read_done(const fr_reader *r) {
    return fr_reader_empty(r) ? FR_OK : FERRULE_R_DECODE_ERROR;
}

/* ---- writer ---------------------------------------------------------- */

void fr_writer_init(fr_writer *w, uint8_t *buf, size_t cap) {
    *w = (fr_writer){.buf = buf, .cap = cap};
}

static void write_uint(fr_writer *w, uint32_t v, size_t width) {
    if (w->failed) return;
    if (width > w->cap - w->len) {
        w->failed = FERRULE_R_BUFFER_TOO_SMALL;
        return;
    }
    /*@ loop invariant 0 <= i <= width;
        loop assigns i, w->buf[w->len .. w->len + width - 1];
        loop variant width - i; */
    for (size_t i = 0; i < width; i++)
        w->buf[w->len + i] = (uint8_t)(v >> (8 * (width - 1 - i)));
    w->len += width;
}

void fr_write_u8(fr_writer *w, uint8_t v) { write_uint(w, v, 1); }
void fr_write_u16(fr_writer *w, uint16_t v) { write_uint(w, v, 2); }
void fr_write_u24(fr_writer *w, uint32_t v) { write_uint(w, v, 3); }
void fr_write_u32(fr_writer *w, uint32_t v) { write_uint(w, v, 4); }

void fr_write_bytes(fr_writer *w, const uint8_t *p, size_t n) {
    if (w->failed || n == 0) return;
    if (n > w->cap - w->len) {
        w->failed = FERRULE_R_BUFFER_TOO_SMALL;
        return;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

void fr_write_open_vec(fr_writer *w, int width) {
    if (w->failed) return;
    if (w->depth == FR_WRITER_MAX_DEPTH || width < 1 || width > 3) {
        w->failed = FERRULE_R_INTERNAL;
        return;
    }
    w->open_at[w->depth] = w->len;
    w->open_width[w->depth] = (uint8_t)width;
    w->depth++;
    write_uint(w, 0, (size_t)width);
}

void fr_write_close_vec(fr_writer *w) {
    if (w->failed) return;
    if (w->depth == 0) {
        w->failed = FERRULE_R_INTERNAL;
        return;
    }
    w->depth--;
    size_t at = w->open_at[w->depth];
    size_t width = w->open_width[w->depth];
    size_t body = w->len - at - width;
    if (body >= ((size_t)1 << (8 * width))) {
        w->failed = FERRULE_R_INTERNAL; /* body does not fit its prefix */
        return;
    }
    /*@ loop invariant 0 <= i <= width;
        loop assigns i, w->buf[at .. at + width - 1];
        loop variant width - i; */
    for (size_t i = 0; i < width; i++)
        w->buf[at + i] = (uint8_t)(body >> (8 * (width - 1 - i)));
}

fr_err fr_write_finish(const fr_writer *w) {
    if (w->failed) return (fr_err)w->failed;
    return w->depth == 0 ? FR_OK : FERRULE_R_INTERNAL;
}
