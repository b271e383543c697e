/*
 * test_record_padding.c - removal of the inner plaintext's padding
 * (RFC 8446 §5.4) by fr_record_open: the content type is the last non-zero
 * byte, whatever the padding length, wherever that byte falls in the
 * constant-time scan's blocks and words (core/record.c, PAD_BLOCK = 256,
 * 8-byte words), and an all-zero inner plaintext is unexpected_message.
 * The timing side is measured by timing/harness.c (record-padding).
 */
#include "testlib.h"

#include "record.h"

static uint8_t rec[FR_MAX_RECORD + 64];
static uint8_t content[FR_MAX_PLAINTEXT];

static void keys(uint16_t suite, fr_aead *w, fr_aead *r) {
    uint8_t secret[FR_MAX_HASH];
    for (size_t i = 0; i < sizeof(secret); i++) secret[i] = (uint8_t)(0x5a ^ i);
    memset(w, 0, sizeof(*w));
    memset(r, 0, sizeof(*r));
    CHECK_EQ(fr_aead_init(w, suite, secret, 1), FR_OK);
    CHECK_EQ(fr_aead_init(r, suite, secret, 0), FR_OK);
}

/* Content with zeros inside it and at its end, so that a scan stopping at
 * the wrong zero shows as a wrong length or wrong bytes. */
static void fill_content(size_t len) {
    for (size_t i = 0; i < len; i++) content[i] = i % 5 == 0 ? 0 : (uint8_t)(i * 7 + 1);
    if (len > 0) content[len - 1] = 0;
}

/* Seal `len` content bytes of `type` with `pad` zeros, open, and check the
 * type, length and bytes.  Returns 1 if all held (so a loop stops early and
 * names the case). */
static int round_trip(fr_aead *w, fr_aead *r, uint16_t suite, uint8_t type, size_t len,
                      size_t pad) {
    fill_content(len);
    size_t n = 0;
    w->seq = 0;
    r->seq = 0;
    if (fr_record_seal(w, type, content, len, pad, rec, sizeof(rec), &n) != FR_OK) return 0;
    uint8_t got = 0;
    uint8_t *pt = NULL;
    size_t pt_len = 99999;
    fr_err e = fr_record_open(r, rec, n, &got, &pt, &pt_len);
    int ok = e == FR_OK && got == type && pt_len == len && pt == rec + FR_RECORD_HEADER_LEN &&
             memcmp(pt, content, len) == 0;
    if (!ok)
        fprintf(stderr, "  suite %04x type %u content %zu padding %zu: err %d type %u len %zu\n",
                suite, type, len, pad, (int)e, got, pt_len);
    return ok;
}

/* Inner plaintext lengths (content + type + padding) around the scan's
 * word (8) and block (256) edges, where the window moves back to end at
 * n (n not a multiple of 256), and the largest (2^14 + 1). */
static const size_t inner_sizes[] = {1,   2,   7,   8,   9,   15,  16,  17,   255,  256,
                                     257, 263, 264, 300, 511, 512, 513, 769, 1024, 1100};

TEST(every_padding_length_every_position) {
    fr_aead w, r;
    keys(0x1301, &w, &r);
    static const uint8_t types[] = {FR_CT_APPLICATION_DATA, FR_CT_HANDSHAKE, FR_CT_ALERT};
    size_t cases = 0;
    for (size_t s = 0; s < sizeof(inner_sizes) / sizeof(inner_sizes[0]); s++) {
        size_t inner = inner_sizes[s];
        /* padding 0 .. inner - 1: the type byte at every position. */
        for (size_t pad = 0; pad < inner; pad++) {
            uint8_t type = types[(inner + pad) % 3];
            int ok = round_trip(&w, &r, 0x1301, type, inner - 1 - pad, pad);
            CHECK(ok);
            if (!ok) goto out;
            cases++;
        }
    }
out:
    CHECK_EQ(cases, 6099); /* the sum of inner_sizes: every case ran */
    fr_aead_free(&w);
    fr_aead_free(&r);
}

TEST(largest_inner_plaintext) {
    /* 2^14 + 1 inner bytes: every padding near both ends and a stride
     * between (each through a different window position). */
    fr_aead w, r;
    keys(0x1303, &w, &r);
    const size_t inner = FR_MAX_PLAINTEXT + 1;
    size_t cases = 0;
    for (size_t pad = 0; pad < inner; pad = pad < 600 || pad + 600 >= inner ? pad + 1 : pad + 97) {
        int ok = round_trip(&w, &r, 0x1303, FR_CT_APPLICATION_DATA, inner - 1 - pad, pad);
        CHECK(ok);
        if (!ok) break;
        cases++;
    }
    CHECK(cases > 1300);
    /* And the two extremes exactly: all content, all padding. */
    CHECK(round_trip(&w, &r, 0x1303, FR_CT_HANDSHAKE, FR_MAX_PLAINTEXT, 0));
    CHECK(round_trip(&w, &r, 0x1303, FR_CT_ALERT, 0, FR_MAX_PLAINTEXT));
    fr_aead_free(&w);
    fr_aead_free(&r);
}

/* An authentic record whose inner plaintext is `n` bytes of `fill`
 * followed by `tail` (tail_len bytes), sealed by hand (fr_record_seal
 * always writes a type). */
static size_t seal_raw(fr_aead *w, size_t n, const uint8_t *tail, size_t tail_len) {
    size_t body = n + tail_len + FR_AEAD_TAG_LEN;
    rec[0] = FR_CT_APPLICATION_DATA;
    rec[1] = 3;
    rec[2] = 3;
    rec[3] = (uint8_t)(body >> 8);
    rec[4] = (uint8_t)body;
    memset(rec + FR_RECORD_HEADER_LEN, 0, n);
    if (tail_len > 0) memcpy(rec + FR_RECORD_HEADER_LEN + n, tail, tail_len);
    w->seq = 0;
    if (fr_aead_seal(w, rec, FR_RECORD_HEADER_LEN, rec + FR_RECORD_HEADER_LEN, n + tail_len,
                     rec + FR_RECORD_HEADER_LEN + n + tail_len) != FR_OK)
        return 0;
    return FR_RECORD_HEADER_LEN + body;
}

static int all_zero(const uint8_t *p, size_t n) {
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= p[i];
    return acc == 0;
}

TEST(all_zero_inner_plaintext_is_unexpected_message) {
    fr_aead w, r;
    keys(0x1301, &w, &r);
    static const size_t sizes[] = {1, 7, 8, 9, 255, 256, 257, 1024, 4097, FR_MAX_PLAINTEXT + 1};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        size_t n = seal_raw(&w, sizes[s], NULL, 0);
        REQUIRE(n == FR_RECORD_HEADER_LEN + sizes[s] + FR_AEAD_TAG_LEN);
        uint8_t type = 0x77;
        uint8_t *pt = NULL;
        size_t pt_len = 12345;
        r.seq = 0;
        CHECK_EQ(fr_record_open(&r, rec, n, &type, &pt, &pt_len), FERRULE_R_NO_CONTENT_TYPE);
        CHECK_EQ(type, 0x77); /* outputs untouched */
        CHECK_EQ(pt_len, 12345);
        CHECK(all_zero(rec + FR_RECORD_HEADER_LEN, sizes[s])); /* the cleartext wiped */
    }
    fr_aead_free(&w);
    fr_aead_free(&r);
}

TEST(last_non_zero_byte_is_the_type_even_when_unknown) {
    /* The scan returns the last non-zero byte, whatever it is: an unknown
     * type or change_cipher_spec before the padding is BAD_CONTENT_TYPE
     * (the non-zero content bytes before it are not taken for the type). */
    fr_aead w, r;
    keys(0x1301, &w, &r);
    static const uint8_t bad[] = {FR_CT_CHANGE_CIPHER_SPEC, 0x01, 0x18, 0xff};
    static const size_t zeros[] = {0, 5, 256, 300, 16000};
    for (size_t b = 0; b < sizeof(bad); b++) {
        for (size_t z = 0; z < sizeof(zeros) / sizeof(zeros[0]); z++) {
            /* 17 content-like bytes, the type, then `zeros` of padding:
             * built as [zeros(0)] [tail] where tail = content||type||pad. */
            uint8_t tail[17 + 1 + 16000];
            memset(tail, 0x42, 17);
            tail[17] = bad[b];
            memset(tail + 18, 0, zeros[z]);
            size_t n = seal_raw(&w, 0, tail, 18 + zeros[z]);
            REQUIRE(n != 0);
            uint8_t type = 0;
            uint8_t *pt = NULL;
            size_t pt_len = 0;
            r.seq = 0;
            CHECK_EQ(fr_record_open(&r, rec, n, &type, &pt, &pt_len), FERRULE_R_BAD_CONTENT_TYPE);
            CHECK(all_zero(rec + FR_RECORD_HEADER_LEN, 18 + zeros[z]));
        }
    }
    fr_aead_free(&w);
    fr_aead_free(&r);
}

TEST_MAIN("test_record_padding", TL_CASE(every_padding_length_every_position),
          TL_CASE(largest_inner_plaintext), TL_CASE(all_zero_inner_plaintext_is_unexpected_message),
          TL_CASE(last_non_zero_byte_is_the_type_even_when_unknown))
