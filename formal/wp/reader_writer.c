/*
 * formal/wp/reader_writer.c - the contracts Frama-C/WP proves for the
 * bounds-checked reader and the writer of core/common.c (docs/formal.md).
 *
 * This file is the proof's entry point, never compiled into the library:
 * it declares each function with its ACSL contract and then includes
 * core/common.c itself, so the proof is about the code that ships.  The
 * loop annotations live next to their loops in core/common.c.
 *
 * What "proved" means here: for every input satisfying `requires`, the
 * function has no runtime error (out-of-bounds access, invalid pointer,
 * signed overflow, bad shift, invalid cast: the RTE plugin's obligations)
 * and its result satisfies `ensures`; it modifies only `assigns`.
 */
#define FR_FORMAL_COMMON_C 1
#include "common_spec.h"

/* ---- writer ---- */

/* The writer's fields other than buf contents, len and failed never move
 * once initialised; every function keeps writer_ok. */
/*@ predicate writer_frame{L1, L2}(fr_writer *w) =
      \at(w->buf, L1) == \at(w->buf, L2) && \at(w->cap, L1) == \at(w->cap, L2);
*/

/*@ requires \valid(w) && writer_base(w) && 1 <= width <= 4;
    requires \separated(w, w->buf + (0 .. w->cap - 1));
    assigns w->failed, w->len, w->buf[w->len .. w->len + width - 1];
    ensures writer_base(w) && writer_frame{Pre, Post}(w) && w->depth == \old(w->depth);
    ensures w->len >= \old(w->len) && (\old(w->failed) != 0 ==> w->failed != 0);
    ensures \old(w->failed) != 0 ==> w->failed == \old(w->failed) && w->len == \old(w->len);
    ensures \old(w->failed) == 0 && width <= \old(w->cap) - \old(w->len) ==>
              w->failed == 0 && w->len == \old(w->len) + width;
    ensures \old(w->failed) == 0 && width > \old(w->cap) - \old(w->len) ==>
              w->failed == FERRULE_R_BUFFER_TOO_SMALL && w->len == \old(w->len);
*/
static void write_uint(fr_writer *w, uint32_t v, size_t width);

/*@ requires \valid(w) && \valid(buf + (0 .. cap - 1)) && \separated(w, buf + (0 .. cap - 1));
    assigns *w;
    ensures writer_ok(w) && w->buf == buf && w->cap == cap;
    ensures w->len == 0 && w->failed == 0 && w->depth == 0;
*/
void fr_writer_init(fr_writer *w, uint8_t *buf, size_t cap);

/*@ requires \valid(w) && writer_ok(w) && \separated(w, w->buf + (0 .. w->cap - 1));
    assigns w->failed, w->len, w->buf[w->len .. w->len + 0];
    ensures writer_ok(w) && writer_frame{Pre, Post}(w) && w->depth == \old(w->depth);
*/
void fr_write_u8(fr_writer *w, uint8_t v);
/*@ requires \valid(w) && writer_ok(w) && \separated(w, w->buf + (0 .. w->cap - 1));
    assigns w->failed, w->len, w->buf[w->len .. w->len + 1];
    ensures writer_ok(w) && writer_frame{Pre, Post}(w) && w->depth == \old(w->depth);
*/
void fr_write_u16(fr_writer *w, uint16_t v);
/*@ requires \valid(w) && writer_ok(w) && \separated(w, w->buf + (0 .. w->cap - 1));
    assigns w->failed, w->len, w->buf[w->len .. w->len + 2];
    ensures writer_ok(w) && writer_frame{Pre, Post}(w) && w->depth == \old(w->depth);
*/
void fr_write_u24(fr_writer *w, uint32_t v);
/*@ requires \valid(w) && writer_ok(w) && \separated(w, w->buf + (0 .. w->cap - 1));
    assigns w->failed, w->len, w->buf[w->len .. w->len + 3];
    ensures writer_ok(w) && writer_frame{Pre, Post}(w) && w->depth == \old(w->depth);
*/
void fr_write_u32(fr_writer *w, uint32_t v);

/*@ requires \valid(w) && writer_ok(w) && \separated(w, w->buf + (0 .. w->cap - 1));
    requires \valid_read(p + (0 .. n - 1));
    requires \separated(p + (0 .. n - 1), w->buf + (0 .. w->cap - 1), w);
    assigns w->failed, w->len, w->buf[w->len .. w->len + n - 1];
    ensures writer_ok(w) && writer_frame{Pre, Post}(w) && w->depth == \old(w->depth);
    ensures \old(w->failed) == 0 && n <= \old(w->cap) - \old(w->len) ==>
              w->failed == 0 && w->len == \old(w->len) + n;
*/
void fr_write_bytes(fr_writer *w, const uint8_t *p, size_t n);

/*@ requires \valid(w) && writer_ok(w) && \separated(w, w->buf + (0 .. w->cap - 1));
    assigns w->failed, w->len, w->depth, w->open_at[0 .. FR_WRITER_MAX_DEPTH - 1],
            w->open_width[0 .. FR_WRITER_MAX_DEPTH - 1], w->buf[w->len .. w->len + 2];
    ensures writer_ok(w) && writer_frame{Pre, Post}(w);
*/
void fr_write_open_vec(fr_writer *w, int width);

/*@ requires \valid(w) && writer_ok(w) && \separated(w, w->buf + (0 .. w->cap - 1));
    assigns w->failed, w->depth, w->buf[0 .. w->cap - 1];
    ensures writer_ok(w) && writer_frame{Pre, Post}(w) && w->len == \old(w->len);
*/
void fr_write_close_vec(fr_writer *w);

/*@ requires \valid_read(w);
    assigns \nothing;
    ensures \result == FR_OK <==> w->failed == 0 && w->depth == 0;
*/
fr_err fr_write_finish(const fr_writer *w);

#include "common.c"
