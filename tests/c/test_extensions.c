/* test_extensions.c - unit tests of core/hs/extensions.c's extension block
 * parser (RFC 8446 §4.2): fr_exts_parse over empty, truncated and
 * duplicate-carrying blocks, blocks with as many extensions as 2^16 - 1
 * bytes can hold, types past the slot table (>= FR_EXT_SLOTS), and the
 * lookups fr_exts_find and fr_exts_next give afterwards. */
#include <stdlib.h>

#include "conn.h"
#include "testlib.h"

/* A block builder: extensions<0..2^16-1> content (no outer prefix). */
typedef struct blk {
    uint8_t b[65536 + 64];
    size_t n;
} blk;

static void add_ext(blk *k, uint16_t type, const uint8_t *body, size_t len) {
    k->b[k->n++] = (uint8_t)(type >> 8);
    k->b[k->n++] = (uint8_t)type;
    k->b[k->n++] = (uint8_t)(len >> 8);
    k->b[k->n++] = (uint8_t)len;
    if (len > 0) memcpy(k->b + k->n, body, len);
    k->n += len;
}

static fr_err parse(const blk *k, size_t n, fr_exts *x) {
    fr_reader r = fr_reader_init(k->b, n);
    return fr_exts_parse(&r, x);
}

static blk k0;
static fr_exts x0;

TEST(empty_block) {
    fr_reader r = fr_reader_init(NULL, 0);
    memset(&x0, 0x5a, sizeof(x0));
    CHECK_EQ(fr_exts_parse(&r, &x0), FR_OK);
    CHECK_EQ(x0.n, 0);
    CHECK_EQ(x0.present, 0);
    for (uint16_t t = 0; t < FR_EXT_SLOTS; t++) CHECK(fr_exts_find(&x0, t) == NULL);
    fr_reader it = x0.block;
    fr_ext e;
    CHECK_EQ(fr_exts_next(&it, &e), 0);
}

TEST(one_extension_and_its_body) {
    k0.n = 0;
    static const uint8_t body[3] = {7, 8, 9};
    add_ext(&k0, FR_EXT_SUPPORTED_VERSIONS, body, 3);
    fr_reader r = fr_reader_init(k0.b, k0.n);
    CHECK_EQ(fr_exts_parse(&r, &x0), FR_OK);
    /* The parser consumes the block; x->block keeps all of it. */
    CHECK(fr_reader_empty(&r));
    CHECK(x0.block.p == k0.b && fr_reader_left(&x0.block) == k0.n);
    CHECK_EQ(x0.n, 1);
    CHECK_EQ(x0.last, FR_EXT_SUPPORTED_VERSIONS);
    CHECK_EQ(x0.present, 1ull << FR_EXT_SUPPORTED_VERSIONS);
    fr_ext *e = fr_exts_find(&x0, FR_EXT_SUPPORTED_VERSIONS);
    REQUIRE(e != NULL);
    CHECK_EQ(e->type, FR_EXT_SUPPORTED_VERSIONS);
    CHECK(fr_reader_left(&e->body) == 3 && e->body.p == k0.b + 4);
    CHECK_MEM(e->body.p, body, 3);
    CHECK(fr_exts_find(&x0, FR_EXT_KEY_SHARE) == NULL);
    /* An empty body is an extension all the same. */
    k0.n = 0;
    add_ext(&k0, FR_EXT_EARLY_DATA, NULL, 0);
    CHECK_EQ(parse(&k0, k0.n, &x0), FR_OK);
    e = fr_exts_find(&x0, FR_EXT_EARLY_DATA);
    REQUIRE(e != NULL);
    CHECK(fr_reader_empty(&e->body));
}

/* Every proper prefix of a two-extension block is truncated: the type,
 * the length or the body is cut.  decode_error, never a partial parse. */
TEST(truncated_blocks) {
    k0.n = 0;
    static const uint8_t body[5] = {1, 2, 3, 4, 5};
    add_ext(&k0, 0x0010, body, 5);
    add_ext(&k0, 0x002b, body, 2);
    size_t first = 4 + 5;
    for (size_t n = 1; n < k0.n; n++) {
        if (n == first) continue; /* a whole first extension */
        fr_err e = parse(&k0, n, &x0);
        if (e != FERRULE_R_DECODE_ERROR) fprintf(stderr, "  cut at %zu\n", n);
        CHECK_EQ(e, FERRULE_R_DECODE_ERROR);
    }
    CHECK_EQ(parse(&k0, first, &x0), FR_OK);
    CHECK_EQ(x0.n, 1);
    CHECK_EQ(parse(&k0, k0.n, &x0), FR_OK);
    CHECK_EQ(x0.n, 2);
    /* A length running past the block by one byte. */
    k0.n = 0;
    add_ext(&k0, 0x0010, body, 5);
    k0.b[3] = 6;
    CHECK_EQ(parse(&k0, k0.n, &x0), FERRULE_R_DECODE_ERROR);
}

TEST(duplicates_anywhere) {
    static const uint8_t body[1] = {0};
    /* Adjacent (the second extension starts the set), far apart, types in
     * and past the slot table. */
    static const struct {
        uint16_t first, dup;
        size_t between;
    } cases[] = {
        {0x000a, 0x000a, 0},   {0x000a, 0x000a, 500}, {0x0040, 0x0040, 0},
        {0xfe77, 0xfe77, 900}, {0xffff, 0xffff, 3},   {0x0000, 0x0000, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        k0.n = 0;
        add_ext(&k0, cases[i].first, body, 1);
        for (size_t j = 0; j < cases[i].between; j++) add_ext(&k0, (uint16_t)(0x1000 + j), NULL, 0);
        add_ext(&k0, cases[i].dup, NULL, 0);
        CHECK_EQ(parse(&k0, k0.n, &x0), FERRULE_R_DUPLICATE_EXTENSION);
    }
    /* The duplicate only counts when the type is equal: 0x0a and 0x0a0a
     * share a low byte, 0x00 and 0x40 a slot-table word bit. */
    k0.n = 0;
    add_ext(&k0, 0x000a, NULL, 0);
    add_ext(&k0, 0x0a0a, NULL, 0);
    add_ext(&k0, 0x0000, NULL, 0);
    add_ext(&k0, 0x0040, NULL, 0);
    add_ext(&k0, 0x4000, NULL, 0);
    CHECK_EQ(parse(&k0, k0.n, &x0), FR_OK);
    CHECK_EQ(x0.n, 5);
}

/* 16,383 empty extensions fill 65,532 bytes (the most a 2^16-1 block can
 * hold), all distinct: accepted, every one counted and iterated. */
TEST(as_many_extensions_as_fit) {
    k0.n = 0;
    for (uint32_t t = 0; t < 16383; t++) add_ext(&k0, (uint16_t)(t * 4 + 1), NULL, 0);
    CHECK_EQ(k0.n, 65532);
    CHECK_EQ(parse(&k0, k0.n, &x0), FR_OK);
    CHECK_EQ(x0.n, 16383);
    CHECK_EQ(x0.last, 16382 * 4 + 1);
    /* Types 1, 5, .., 61 are in the slot table. */
    uint64_t want = 0;
    for (unsigned t = 1; t < FR_EXT_SLOTS; t += 4) want |= 1ull << t;
    CHECK_EQ(x0.present, want);
    fr_reader it = x0.block;
    fr_ext e;
    size_t seen = 0;
    int ordered = 1;
    while (fr_exts_next(&it, &e)) ordered &= e.type == seen++ * 4 + 1;
    CHECK(ordered);
    CHECK_EQ(seen, 16383);
    /* The same with the last one a duplicate of the first. */
    k0.n -= 4;
    add_ext(&k0, 1, NULL, 0);
    CHECK_EQ(parse(&k0, k0.n, &x0), FERRULE_R_DUPLICATE_EXTENSION);
}

TEST(types_past_the_slot_table) {
    /* Types >= FR_EXT_SLOTS are parsed (and checked for duplicates) but
     * have no slot: find gives NULL for them, next still yields them. */
    k0.n = 0;
    static const uint8_t b63[1] = {63}, b64[2] = {6, 4}, bff[3] = {0xff, 0xff, 0xff};
    add_ext(&k0, 64, b64, 2);
    add_ext(&k0, 63, b63, 1);
    add_ext(&k0, 0xffff, bff, 3);
    CHECK_EQ(parse(&k0, k0.n, &x0), FR_OK);
    CHECK_EQ(x0.n, 3);
    CHECK_EQ(x0.present, 1ull << 63);
    CHECK_EQ(x0.last, 0xffff);
    fr_ext *e = fr_exts_find(&x0, 63);
    REQUIRE(e != NULL);
    CHECK(fr_reader_left(&e->body) == 1 && e->body.p[0] == 63);
    CHECK(fr_exts_find(&x0, 64) == NULL);
    CHECK(fr_exts_find(&x0, 0xffff) == NULL);
    CHECK(fr_exts_find(&x0, FR_EXT_SLOTS) == NULL);
    fr_reader it = x0.block;
    fr_ext n;
    CHECK(fr_exts_next(&it, &n) && n.type == 64 && fr_reader_left(&n.body) == 2);
    CHECK(fr_exts_next(&it, &n) && n.type == 63 && n.body.p == e->body.p);
    CHECK(fr_exts_next(&it, &n) && n.type == 0xffff && fr_reader_left(&n.body) == 3);
    CHECK_MEM(n.body.p, bff, 3);
    CHECK_EQ(fr_exts_next(&it, &n), 0);
}

TEST(iteration_is_in_wire_order) {
    /* fr_exts_next walks the block as sent, whatever the slot order. */
    static const uint16_t order[6] = {0x002b, 0x0000, 0xfe77, 0x0033, 0x000d, 0x0029};
    k0.n = 0;
    for (size_t i = 0; i < 6; i++) {
        uint8_t body[1] = {(uint8_t)i};
        add_ext(&k0, order[i], body, 1);
    }
    CHECK_EQ(parse(&k0, k0.n, &x0), FR_OK);
    fr_reader it = x0.block;
    fr_ext e;
    size_t i = 0;
    while (fr_exts_next(&it, &e)) {
        CHECK(i < 6 && e.type == order[i] && fr_reader_left(&e.body) == 1 && e.body.p[0] == i);
        i++;
    }
    CHECK_EQ(i, 6);
    CHECK_EQ(x0.last, 0x0029);
    /* Slots point at the same bytes the iteration yields. */
    fr_ext *ks = fr_exts_find(&x0, 0x0033);
    REQUIRE(ks != NULL);
    CHECK_EQ(ks->body.p[0], 3);
}

TEST(a_reparse_forgets_the_previous_block) {
    k0.n = 0;
    add_ext(&k0, 0x000a, NULL, 0);
    add_ext(&k0, 0x000d, NULL, 0);
    CHECK_EQ(parse(&k0, k0.n, &x0), FR_OK);
    k0.n = 0;
    add_ext(&k0, 0x002b, NULL, 0);
    CHECK_EQ(parse(&k0, k0.n, &x0), FR_OK);
    CHECK_EQ(x0.n, 1);
    CHECK(fr_exts_find(&x0, 0x000a) == NULL && fr_exts_find(&x0, 0x000d) == NULL);
    CHECK(fr_exts_find(&x0, 0x002b) != NULL);
}

TEST_MAIN("extensions", TL_CASE(empty_block), TL_CASE(one_extension_and_its_body),
          TL_CASE(truncated_blocks), TL_CASE(duplicates_anywhere),
          TL_CASE(as_many_extensions_as_fit), TL_CASE(types_past_the_slot_table),
          TL_CASE(iteration_is_in_wire_order), TL_CASE(a_reparse_forgets_the_previous_block))
