/* test_common.c - unit tests of core/common.c's bounds-checked reader and
 * length-back-filling writer, and of the fr_u16_set bitmap: every read and
 * write at its exact bound, one past it and at zero length; vector
 * prefixes of each width at their largest body and one byte more; the
 * writer's sticky failure; a failed read leaving the reader (and the
 * output) as they were. */
#include <stdlib.h>

#include "common.h"
#include "testlib.h"

/* ---- reader ------------------------------------------------------------------ */

static const uint8_t seq[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};

TEST(read_uints_big_endian) {
    fr_reader r = fr_reader_init(seq, sizeof(seq));
    uint8_t a = 0;
    uint16_t b = 0;
    uint32_t c = 0, d = 0;
    CHECK_EQ(fr_read_u8(&r, &a), FR_OK);
    CHECK_EQ(a, 0x01);
    CHECK_EQ(fr_read_u16(&r, &b), FR_OK);
    CHECK_EQ(b, 0x0203);
    CHECK_EQ(fr_read_u24(&r, &c), FR_OK);
    CHECK_EQ(c, 0x040506);
    CHECK_EQ(fr_reader_left(&r), 2);
    CHECK_EQ(fr_read_u32(&r, &d), FERRULE_R_DECODE_ERROR);
    r = fr_reader_init(seq, 4);
    CHECK_EQ(fr_read_u32(&r, &d), FR_OK);
    CHECK_EQ(d, 0x01020304);
    CHECK(fr_reader_empty(&r));
}

/* Each width: exactly enough input reads; one byte short fails, leaving
 * the reader and the output untouched. */
TEST(read_uints_at_and_past_the_bound) {
    for (size_t width = 1; width <= 4; width++) {
        fr_reader r = fr_reader_init(seq, width);
        uint32_t v = 0;
        uint16_t v16 = 0;
        uint8_t v8 = 0;
        fr_err e = width == 1   ? fr_read_u8(&r, &v8)
                   : width == 2 ? fr_read_u16(&r, &v16)
                   : width == 3 ? fr_read_u24(&r, &v)
                                : fr_read_u32(&r, &v);
        CHECK_EQ(e, FR_OK);
        CHECK(fr_reader_empty(&r));
        /* One short. */
        r = fr_reader_init(seq, width - 1);
        const uint8_t *p0 = r.p;
        v = 0xdeadbeef;
        v16 = 0xbeef;
        v8 = 0xef;
        e = width == 1   ? fr_read_u8(&r, &v8)
            : width == 2 ? fr_read_u16(&r, &v16)
            : width == 3 ? fr_read_u24(&r, &v)
                         : fr_read_u32(&r, &v);
        CHECK_EQ(e, FERRULE_R_DECODE_ERROR);
        CHECK(r.p == p0 && fr_reader_left(&r) == width - 1);
        CHECK(v == 0xdeadbeef && v16 == 0xbeef && v8 == 0xef);
    }
}

TEST(read_from_an_empty_reader) {
    /* fr_reader_init(NULL, 0) is legal (no NULL + 0 arithmetic). */
    fr_reader r = fr_reader_init(NULL, 0);
    CHECK(fr_reader_empty(&r));
    CHECK_EQ(fr_reader_left(&r), 0);
    CHECK_EQ(fr_read_done(&r), FR_OK);
    uint8_t v;
    CHECK_EQ(fr_read_u8(&r, &v), FERRULE_R_DECODE_ERROR);
    const uint8_t *out = seq;
    CHECK_EQ(fr_read_bytes(&r, 0, &out), FR_OK);
    CHECK(out == NULL);
    CHECK_EQ(fr_read_bytes(&r, 1, &out), FERRULE_R_DECODE_ERROR);
    fr_reader sub;
    CHECK_EQ(fr_read_vec8(&r, &sub), FERRULE_R_DECODE_ERROR);
}

TEST(read_bytes_bounds) {
    fr_reader r = fr_reader_init(seq, sizeof(seq));
    const uint8_t *out = NULL;
    /* Zero bytes: succeeds, points at the cursor, consumes nothing. */
    CHECK_EQ(fr_read_bytes(&r, 0, &out), FR_OK);
    CHECK(out == seq && fr_reader_left(&r) == 8);
    /* One past the end, and a length that would wrap p + n. */
    out = NULL;
    CHECK_EQ(fr_read_bytes(&r, 9, &out), FERRULE_R_DECODE_ERROR);
    CHECK_EQ(fr_read_bytes(&r, SIZE_MAX, &out), FERRULE_R_DECODE_ERROR);
    CHECK(out == NULL && r.p == seq);
    /* Exactly what is left. */
    CHECK_EQ(fr_read_bytes(&r, 8, &out), FR_OK);
    CHECK(out == seq && fr_reader_empty(&r));
    CHECK_EQ(fr_read_bytes(&r, 1, &out), FERRULE_R_DECODE_ERROR);
}

TEST(read_done) {
    fr_reader r = fr_reader_init(seq, 1);
    CHECK_EQ(fr_read_done(&r), FERRULE_R_DECODE_ERROR);
    uint8_t v;
    CHECK_EQ(fr_read_u8(&r, &v), FR_OK);
    CHECK_EQ(fr_read_done(&r), FR_OK);
}

/* A buffer of prefix + max body (+ 1 spare byte), prefix = max. */
static uint8_t *vec_buf(size_t width, size_t body, size_t *len) {
    *len = width + body;
    uint8_t *b = calloc(1, *len + 1);
    if (b == NULL) return NULL;
    for (size_t i = 0; i < width; i++) b[i] = (uint8_t)(body >> (8 * (width - 1 - i)));
    for (size_t i = 0; i < body; i++) b[width + i] = (uint8_t)i;
    return b;
}

static fr_err read_vec(size_t width, fr_reader *r, fr_reader *sub) {
    return width == 1 ? fr_read_vec8(r, sub) : width == 2 ? fr_read_vec16(r, sub)
                                                          : fr_read_vec24(r, sub);
}

/* Each prefix width at its largest body (255, 65535, 2^24 - 1): opens the
 * whole body; with one byte of the body missing it fails, unchanged. */
TEST(read_vectors_at_their_largest) {
    for (size_t width = 1; width <= 3; width++) {
        size_t body = ((size_t)1 << (8 * width)) - 1, len = 0;
        uint8_t *b = vec_buf(width, body, &len);
        REQUIRE(b != NULL);
        fr_reader r = fr_reader_init(b, len), sub = {NULL, NULL};
        CHECK_EQ(read_vec(width, &r, &sub), FR_OK);
        CHECK(sub.p == b + width && fr_reader_left(&sub) == body);
        CHECK(fr_reader_empty(&r));
        /* The sub-reader ends at the body: reading on fails. */
        const uint8_t *out;
        CHECK_EQ(fr_read_bytes(&sub, body, &out), FR_OK);
        CHECK_EQ(fr_read_bytes(&sub, 1, &out), FERRULE_R_DECODE_ERROR);
        /* One byte short of the announced body. */
        r = fr_reader_init(b, len - 1);
        fr_reader before = r;
        sub.p = sub.end = NULL;
        CHECK_EQ(read_vec(width, &r, &sub), FERRULE_R_DECODE_ERROR);
        CHECK(r.p == before.p && r.end == before.end);
        CHECK(sub.p == NULL && sub.end == NULL);
        free(b);
    }
}

TEST(read_vectors_empty_and_truncated_prefix) {
    static const uint8_t zero[3] = {0, 0, 0};
    for (size_t width = 1; width <= 3; width++) {
        /* A zero-length vector: an empty sub-reader, prefix consumed. */
        fr_reader r = fr_reader_init(zero, width), sub;
        CHECK_EQ(read_vec(width, &r, &sub), FR_OK);
        CHECK(fr_reader_empty(&sub) && fr_reader_empty(&r));
        /* The prefix itself cut short: unchanged. */
        r = fr_reader_init(zero, width - 1);
        const uint8_t *p0 = r.p;
        CHECK_EQ(read_vec(width, &r, &sub), FERRULE_R_DECODE_ERROR);
        CHECK(r.p == p0);
    }
    /* A prefix announcing more than the parent holds, though the bytes
     * exist past the parent's end (a sub-reader bounds its children). */
    static const uint8_t outer[6] = {0x03, 0x02, 0xaa, 0xbb, 0xcc, 0xdd};
    fr_reader r = fr_reader_init(outer, sizeof(outer)), sub, inner;
    CHECK_EQ(fr_read_vec8(&r, &sub), FR_OK); /* 02 aa bb */
    CHECK_EQ(fr_reader_left(&sub), 3);
    CHECK_EQ(fr_read_vec8(&sub, &inner), FR_OK); /* 02: aa bb */
    CHECK(fr_reader_empty(&sub));
    sub = fr_reader_init(outer + 1, 2); /* 02 aa: announces 2, holds 1 */
    CHECK_EQ(fr_read_vec8(&sub, &inner), FERRULE_R_DECODE_ERROR);
    CHECK_EQ(fr_reader_left(&sub), 2);
}

/* ---- writer ------------------------------------------------------------------ */

static void write_width(fr_writer *w, size_t width, uint32_t v) {
    if (width == 1) fr_write_u8(w, (uint8_t)v);
    if (width == 2) fr_write_u16(w, (uint16_t)v);
    if (width == 3) fr_write_u24(w, v);
    if (width == 4) fr_write_u32(w, v);
}

TEST(writer_init) {
    uint8_t buf[4];
    fr_writer w;
    memset(&w, 0x5a, sizeof(w));
    fr_writer_init(&w, buf, sizeof(buf));
    CHECK(w.buf == buf && w.cap == 4 && w.len == 0 && w.failed == 0 && w.depth == 0);
    CHECK_EQ(fr_write_finish(&w), FR_OK);
}

TEST(write_uints_big_endian) {
    uint8_t buf[10];
    fr_writer w;
    fr_writer_init(&w, buf, sizeof(buf));
    fr_write_u8(&w, 0x01);
    fr_write_u16(&w, 0x0203);
    fr_write_u24(&w, 0x040506);
    fr_write_u32(&w, 0x0708090a);
    CHECK_EQ(fr_write_finish(&w), FR_OK);
    CHECK_EQ(w.len, 10);
    static const uint8_t want[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    CHECK_MEM(buf, want, 10);
    /* u24 keeps the low 24 bits only. */
    fr_writer_init(&w, buf, 3);
    fr_write_u24(&w, 0xff123456);
    CHECK_EQ(fr_write_finish(&w), FR_OK);
    CHECK(buf[0] == 0x12 && buf[1] == 0x34 && buf[2] == 0x56);
}

/* Each width into a buffer of exactly that size, then of one byte less:
 * BUFFER_TOO_SMALL, nothing written, len unchanged. */
TEST(write_uints_at_and_past_the_bound) {
    for (size_t width = 1; width <= 4; width++) {
        uint8_t buf[5] = {0xee, 0xee, 0xee, 0xee, 0xee};
        fr_writer w;
        fr_writer_init(&w, buf, width);
        write_width(&w, width, 0x01020304);
        CHECK_EQ(fr_write_finish(&w), FR_OK);
        CHECK_EQ(w.len, width);
        CHECK_EQ(buf[width], 0xee); /* not one byte more */
        memset(buf, 0xee, sizeof(buf));
        fr_writer_init(&w, buf, width - 1);
        write_width(&w, width, 0x01020304);
        CHECK_EQ(fr_write_finish(&w), FERRULE_R_BUFFER_TOO_SMALL);
        CHECK_EQ(w.len, 0);
        CHECK(buf[0] == 0xee && buf[1] == 0xee && buf[2] == 0xee && buf[3] == 0xee);
    }
}

TEST(write_bytes_bounds) {
    uint8_t buf[5] = {0};
    fr_writer w;
    fr_writer_init(&w, buf, 4);
    /* Zero length: nothing, even with a NULL source. */
    fr_write_bytes(&w, NULL, 0);
    CHECK(w.len == 0 && w.failed == 0);
    fr_write_bytes(&w, seq, 4);
    CHECK_EQ(w.len, 4);
    CHECK_MEM(buf, seq, 4);
    /* Full: zero more bytes is still fine, one more is not. */
    fr_write_bytes(&w, NULL, 0);
    CHECK_EQ(fr_write_finish(&w), FR_OK);
    fr_write_bytes(&w, seq, 1);
    CHECK_EQ(fr_write_finish(&w), FERRULE_R_BUFFER_TOO_SMALL);
    CHECK_EQ(w.len, 4);
    CHECK_EQ(buf[4], 0);
    /* One past from empty, and a length that would wrap len + n. */
    fr_writer_init(&w, buf, 4);
    fr_write_bytes(&w, seq, 5);
    CHECK_EQ(fr_write_finish(&w), FERRULE_R_BUFFER_TOO_SMALL);
    fr_writer_init(&w, buf, 4);
    fr_write_u8(&w, 1);
    fr_write_bytes(&w, seq, SIZE_MAX);
    CHECK_EQ(fr_write_finish(&w), FERRULE_R_BUFFER_TOO_SMALL);
    CHECK_EQ(w.len, 1);
}

TEST(writer_failure_is_sticky) {
    /* After an overflow, writes that would fit are ignored, and so are
     * vector operations; fr_write_finish keeps reporting the first error. */
    uint8_t buf[4] = {0};
    fr_writer w;
    fr_writer_init(&w, buf, 3);
    fr_write_u16(&w, 0x0102);
    fr_write_u16(&w, 0x0304); /* one byte short */
    CHECK_EQ(w.failed, FERRULE_R_BUFFER_TOO_SMALL);
    fr_write_u8(&w, 0x05);
    fr_write_bytes(&w, seq, 1);
    fr_write_open_vec(&w, 1);
    fr_write_close_vec(&w);
    fr_write_close_vec(&w); /* would be INTERNAL on a healthy writer */
    CHECK_EQ(w.len, 2);
    CHECK_EQ(w.depth, 0);
    CHECK(buf[2] == 0 && buf[3] == 0);
    CHECK_EQ(fr_write_finish(&w), FERRULE_R_BUFFER_TOO_SMALL);
}

/* Each prefix width with its largest body (255, 65535, 2^24 - 1) back-fills
 * the length; one byte more does not fit the prefix and fails. */
TEST(write_vectors_at_their_largest) {
    for (size_t width = 1; width <= 3; width++) {
        size_t max = ((size_t)1 << (8 * width)) - 1;
        uint8_t *buf = malloc(width + max + 1);
        uint8_t *body = calloc(1, max + 1);
        REQUIRE(buf != NULL && body != NULL);
        fr_writer w;
        fr_writer_init(&w, buf, width + max + 1);
        fr_write_open_vec(&w, (int)width);
        fr_write_bytes(&w, body, max);
        fr_write_close_vec(&w);
        CHECK_EQ(fr_write_finish(&w), FR_OK);
        CHECK_EQ(w.len, width + max);
        for (size_t i = 0; i < width; i++) CHECK_EQ(buf[i], 0xff);
        /* The reader opens exactly what the writer closed. */
        fr_reader r = fr_reader_init(buf, w.len), sub;
        CHECK_EQ(read_vec(width, &r, &sub), FR_OK);
        CHECK(fr_reader_left(&sub) == max && fr_reader_empty(&r));
        /* One byte more: the back-fill overflows its prefix. */
        fr_writer_init(&w, buf, width + max + 1);
        fr_write_open_vec(&w, (int)width);
        fr_write_bytes(&w, body, max + 1);
        CHECK_EQ(w.failed, 0);
        fr_write_close_vec(&w);
        CHECK_EQ(fr_write_finish(&w), FERRULE_R_INTERNAL);
        free(buf);
        free(body);
    }
}

TEST(write_vectors_nested_and_empty) {
    uint8_t buf[32];
    fr_writer w;
    fr_writer_init(&w, buf, sizeof(buf));
    fr_write_open_vec(&w, 3);
    fr_write_u8(&w, 0xaa);
    fr_write_open_vec(&w, 2);
    fr_write_open_vec(&w, 1);
    fr_write_close_vec(&w); /* empty */
    fr_write_u16(&w, 0xbbcc);
    fr_write_close_vec(&w);
    fr_write_close_vec(&w);
    CHECK_EQ(fr_write_finish(&w), FR_OK);
    static const uint8_t want[] = {0, 0, 6, 0xaa, 0, 3, 0, 0xbb, 0xcc};
    CHECK_EQ(w.len, sizeof(want));
    CHECK_MEM(buf, want, sizeof(want));
}

TEST(write_vector_misuse) {
    uint8_t buf[64];
    fr_writer w;
    /* Widths other than 1..3. */
    static const int bad_widths[3] = {0, 4, -1};
    for (size_t i = 0; i < 3; i++) {
        fr_writer_init(&w, buf, sizeof(buf));
        fr_write_open_vec(&w, bad_widths[i]);
        CHECK_EQ(fr_write_finish(&w), FERRULE_R_INTERNAL);
        CHECK_EQ(w.len, 0);
    }
    /* A close without an open. */
    fr_writer_init(&w, buf, sizeof(buf));
    fr_write_close_vec(&w);
    CHECK_EQ(fr_write_finish(&w), FERRULE_R_INTERNAL);
    /* A vector left open: finish refuses, though nothing overflowed. */
    fr_writer_init(&w, buf, sizeof(buf));
    fr_write_open_vec(&w, 2);
    CHECK_EQ(w.failed, 0);
    CHECK_EQ(fr_write_finish(&w), FERRULE_R_INTERNAL);
    /* FR_WRITER_MAX_DEPTH open vectors are fine, one more is not. */
    fr_writer_init(&w, buf, sizeof(buf));
    for (int i = 0; i < FR_WRITER_MAX_DEPTH; i++) fr_write_open_vec(&w, 1);
    CHECK_EQ(w.failed, 0);
    for (int i = 0; i < FR_WRITER_MAX_DEPTH; i++) fr_write_close_vec(&w);
    CHECK_EQ(fr_write_finish(&w), FR_OK);
    CHECK_EQ(buf[0], FR_WRITER_MAX_DEPTH - 1);
    fr_writer_init(&w, buf, sizeof(buf));
    for (int i = 0; i <= FR_WRITER_MAX_DEPTH; i++) fr_write_open_vec(&w, 1);
    CHECK_EQ(fr_write_finish(&w), FERRULE_R_INTERNAL);
    CHECK_EQ(w.len, FR_WRITER_MAX_DEPTH);
    /* A prefix that does not fit the buffer. */
    fr_writer_init(&w, buf, 2);
    fr_write_open_vec(&w, 3);
    CHECK_EQ(fr_write_finish(&w), FERRULE_R_BUFFER_TOO_SMALL);
    CHECK_EQ(w.len, 0);
}

/* ---- fr_u16_set -------------------------------------------------------------- */

TEST(u16_set_every_word_boundary) {
    static fr_u16_set s;
    CHECK_EQ(sizeof(s), 8192);
    memset(&s, 0xff, sizeof(s));
    fr_u16_set_clear(&s);
    static const uint16_t edge[8] = {0, 1, 62, 63, 64, 65, 65534, 65535};
    for (size_t i = 0; i < 8; i++) CHECK_EQ(fr_u16_set_has(&s, edge[i]), 0);
    fr_u16_set_add(&s, 63);
    fr_u16_set_add(&s, 64);
    fr_u16_set_add(&s, 65535);
    fr_u16_set_add(&s, 0);
    size_t members = 0;
    for (uint32_t v = 0; v <= 0xffff; v++) members += (size_t)fr_u16_set_has(&s, (uint16_t)v);
    CHECK_EQ(members, 4);
    CHECK(fr_u16_set_has(&s, 0) && fr_u16_set_has(&s, 63) && fr_u16_set_has(&s, 64) &&
          fr_u16_set_has(&s, 65535));
    CHECK(!fr_u16_set_has(&s, 1) && !fr_u16_set_has(&s, 62) && !fr_u16_set_has(&s, 65) &&
          !fr_u16_set_has(&s, 65534));
    /* Adding twice is idempotent; deleting removes only that member. */
    fr_u16_set_add(&s, 64);
    fr_u16_set_del(&s, 64);
    CHECK_EQ(fr_u16_set_has(&s, 64), 0);
    CHECK_EQ(fr_u16_set_has(&s, 63), 1);
    fr_u16_set_del(&s, 64); /* absent: no-op */
    fr_u16_set_del(&s, 65535);
    CHECK_EQ(fr_u16_set_has(&s, 65535), 0);
    CHECK_EQ(fr_u16_set_has(&s, 0), 1);
}

TEST_MAIN("common", TL_CASE(read_uints_big_endian), TL_CASE(read_uints_at_and_past_the_bound),
          TL_CASE(read_from_an_empty_reader), TL_CASE(read_bytes_bounds), TL_CASE(read_done),
          TL_CASE(read_vectors_at_their_largest), TL_CASE(read_vectors_empty_and_truncated_prefix),
          TL_CASE(writer_init), TL_CASE(write_uints_big_endian),
          TL_CASE(write_uints_at_and_past_the_bound), TL_CASE(write_bytes_bounds),
          TL_CASE(writer_failure_is_sticky), TL_CASE(write_vectors_at_their_largest),
          TL_CASE(write_vectors_nested_and_empty), TL_CASE(write_vector_misuse),
          TL_CASE(u16_set_every_word_boundary))
