/*
 * formal/wp/common_spec.h - ACSL for core/common.c (docs/formal.md): the
 * predicates that say a reader or a writer is well formed, and the
 * contracts of the reader.  reader_writer.c proves these contracts against
 * core/common.c; the other proofs (record_header_proof.c) assume them.
 */
#ifndef FR_FORMAL_COMMON_SPEC_H
#define FR_FORMAL_COMMON_SPEC_H
#include <stdint.h>
#include "common.h"

/* A reader is well formed: its two pointers are in one block, p <= end,
 * and every byte between them can be read.  fr_reader_init makes one from
 * (p, n) with p valid for n bytes, or from (NULL, 0). */
/*@ predicate reader_ok(fr_reader *r) =
      \base_addr(r->p) == \base_addr(r->end) && \offset(r->p) <= \offset(r->end) &&
      r->end - r->p <= PTRDIFF_MAX &&
      \valid_read(r->p + (0 .. r->end - r->p - 1));
    logic integer left(fr_reader *r) = r->end - r->p;
*/

/* A writer's buffer part is well formed: len <= cap and the buffer is
 * writable over cap.  The whole writer is well formed when, in addition,
 * while it has not failed, every open length prefix lies inside what was
 * written, in order (a failed writer is sticky: nothing reads them). */
/*@ predicate writer_base(fr_writer *w) =
      w->len <= w->cap && \valid(w->buf + (0 .. w->cap - 1)) &&
      w->depth <= FR_WRITER_MAX_DEPTH;
    predicate writer_ok(fr_writer *w) =
      writer_base(w) &&
      (w->failed == 0 ==>
        (\forall integer k; 0 <= k < w->depth ==>
            1 <= w->open_width[k] <= 3 && w->open_at[k] + w->open_width[k] <= w->len) &&
        (\forall integer k; 0 <= k < w->depth - 1 ==>
            w->open_at[k] + w->open_width[k] <= w->open_at[k + 1]));
*/

#ifdef FR_FORMAL_COMMON_C /* the static helpers: only in the proof of common.c itself */
/*@ requires \valid(r) && reader_ok(r);
    requires \valid(v) && \separated(v, r);
    requires 1 <= width <= 4;
    assigns r->p, *v;
    behavior enough:
      assumes width <= left(r);
      ensures \result == FR_OK;
      ensures r->p == \old(r->p) + width && r->end == \old(r->end);
      ensures reader_ok(r);
    behavior short:
      assumes width > left(r);
      ensures \result == FERRULE_R_DECODE_ERROR;
      ensures r->p == \old(r->p) && r->end == \old(r->end);
    complete behaviors;
    disjoint behaviors;
*/
static fr_err read_uint(fr_reader *r, size_t width, uint32_t *v);
#endif

#ifdef FR_FORMAL_COMMON_C /* the static helpers: only in the proof of common.c itself */
/*@ requires \valid(r) && reader_ok(r);
    requires \valid(sub) && \separated(sub, r);
    requires 1 <= width <= 3;
    assigns *r, *sub;
    ensures reader_ok(r) && r->end == \old(r->end);
    ensures \result == FR_OK || \result == FERRULE_R_DECODE_ERROR;
    ensures \result == FR_OK ==>
              reader_ok(sub) && sub->p == \old(r->p) + width && sub->end == r->p;
    ensures \result != FR_OK ==> r->p == \old(r->p);
*/
static fr_err read_vec(fr_reader *r, size_t width, fr_reader *sub);
#endif

/* The public readers: on success they consume exactly their width and
 * keep the reader well formed; on failure they leave it as it was. */
/*@ requires \valid(r) && reader_ok(r) && \valid(v) && \separated(v, r);
    assigns r->p, *v;
    ensures reader_ok(r) && r->end == \old(r->end);
    ensures \result == FR_OK ==> r->p == \old(r->p) + 1;
    ensures \result != FR_OK ==> \result == FERRULE_R_DECODE_ERROR && r->p == \old(r->p);
    ensures \result == FR_OK <==> left{Pre}(r) >= 1;
*/
fr_err fr_read_u8(fr_reader *r, uint8_t *v);

/*@ requires \valid(r) && reader_ok(r) && \valid(v) && \separated(v, r);
    assigns r->p, *v;
    ensures reader_ok(r) && r->end == \old(r->end);
    ensures \result == FR_OK ==> r->p == \old(r->p) + 2;
    ensures \result != FR_OK ==> \result == FERRULE_R_DECODE_ERROR && r->p == \old(r->p);
*/
fr_err fr_read_u16(fr_reader *r, uint16_t *v);

/*@ requires \valid(r) && reader_ok(r) && \valid(v) && \separated(v, r);
    assigns r->p, *v;
    ensures reader_ok(r) && r->end == \old(r->end);
    ensures \result == FR_OK ==> r->p == \old(r->p) + 3;
    ensures \result != FR_OK ==> \result == FERRULE_R_DECODE_ERROR && r->p == \old(r->p);
*/
fr_err fr_read_u24(fr_reader *r, uint32_t *v);

/*@ requires \valid(r) && reader_ok(r) && \valid(v) && \separated(v, r);
    assigns r->p, *v;
    ensures reader_ok(r) && r->end == \old(r->end);
    ensures \result == FR_OK ==> r->p == \old(r->p) + 4;
    ensures \result != FR_OK ==> \result == FERRULE_R_DECODE_ERROR && r->p == \old(r->p);
*/
fr_err fr_read_u32(fr_reader *r, uint32_t *v);

/*@ requires \valid(r) && reader_ok(r) && \valid(out) && \separated(out, r);
    assigns r->p, *out;
    behavior enough:
      assumes n <= left(r);
      ensures \result == FR_OK && *out == \old(r->p) && r->p == \old(r->p) + n;
      ensures reader_ok(r) && r->end == \old(r->end);
      ensures \valid_read(*out + (0 .. n - 1));
    behavior short:
      assumes n > left(r);
      ensures \result == FERRULE_R_DECODE_ERROR;
      ensures r->p == \old(r->p) && r->end == \old(r->end);
    complete behaviors;
    disjoint behaviors;
*/
fr_err fr_read_bytes(fr_reader *r, size_t n, const uint8_t **out);

/*@ requires \valid(r) && reader_ok(r) && \valid(sub) && \separated(sub, r);
    assigns *r, *sub;
    ensures reader_ok(r) && r->end == \old(r->end);
    ensures \result == FR_OK ==> reader_ok(sub) && \old(r->p) + 1 == sub->p &&
                                 sub->end == r->p;
    ensures \result != FR_OK ==> \result == FERRULE_R_DECODE_ERROR && r->p == \old(r->p);
*/
fr_err fr_read_vec8(fr_reader *r, fr_reader *sub);

/*@ requires \valid(r) && reader_ok(r) && \valid(sub) && \separated(sub, r);
    assigns *r, *sub;
    ensures reader_ok(r) && r->end == \old(r->end);
    ensures \result == FR_OK ==> reader_ok(sub) && \old(r->p) + 2 == sub->p &&
                                 sub->end == r->p;
    ensures \result != FR_OK ==> \result == FERRULE_R_DECODE_ERROR && r->p == \old(r->p);
*/
fr_err fr_read_vec16(fr_reader *r, fr_reader *sub);

/*@ requires \valid(r) && reader_ok(r) && \valid(sub) && \separated(sub, r);
    assigns *r, *sub;
    ensures reader_ok(r) && r->end == \old(r->end);
    ensures \result == FR_OK ==> reader_ok(sub) && \old(r->p) + 3 == sub->p &&
                                 sub->end == r->p;
    ensures \result != FR_OK ==> \result == FERRULE_R_DECODE_ERROR && r->p == \old(r->p);
*/
fr_err fr_read_vec24(fr_reader *r, fr_reader *sub);

/*@ requires \valid_read(r) && reader_ok(r);
    assigns \nothing;
    ensures \result == FR_OK <==> r->p == r->end;
*/
fr_err fr_read_done(const fr_reader *r);

#endif
