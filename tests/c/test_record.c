/*
 * test_record.c - record header parsing, plaintext records and record
 * protection (RFC 8446 §5).  The byte-exact AES-128-GCM vectors of RFC 8448
 * are in test_keysched.c; this file covers framing, limits and failures.
 */
#include "testlib.h"

#include "record.h"

static uint8_t big_a[FR_MAX_RECORD + 64];
static uint8_t big_b[FR_MAX_RECORD + 64];

static void secret_for(uint8_t *secret, uint8_t seed) {
    for (size_t i = 0; i < FR_MAX_HASH; i++) secret[i] = (uint8_t)(seed * 31 + i);
}

/* A matching writer/reader pair for `suite`. */
static void pair(uint16_t suite, fr_aead *w, fr_aead *r) {
    uint8_t secret[FR_MAX_HASH];
    secret_for(secret, (uint8_t)suite);
    memset(w, 0, sizeof(*w));
    memset(r, 0, sizeof(*r));
    CHECK_EQ(fr_aead_init(w, suite, secret, 1), FR_OK);
    CHECK_EQ(fr_aead_init(r, suite, secret, 0), FR_OK);
}

static int all_zero(const uint8_t *p, size_t n) {
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= p[i];
    return acc == 0;
}

/* ---- header ---------------------------------------------------------------- */

TEST(header_valid_types_and_versions) {
    static const uint8_t types[] = {20, 21, 22, 23};
    static const uint16_t versions[] = {0x0301, 0x0302, 0x0303, 0x0300, 0x0304, 0x03ff};
    for (size_t t = 0; t < sizeof(types); t++) {
        for (size_t v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
            uint8_t h[5] = {types[t], (uint8_t)(versions[v] >> 8), (uint8_t)versions[v], 0x01,
                            0x02};
            uint8_t type = 0;
            size_t len = 0;
            CHECK_EQ(fr_record_header(h, &type, &len), FR_OK);
            CHECK_EQ(type, types[t]);
            CHECK_EQ(len, 0x0102);
        }
    }
    /* Boundaries of the length field: 0 and exactly 2^14 + 256. */
    uint8_t h[5] = {23, 3, 3, 0, 0};
    uint8_t type;
    size_t len = 99;
    CHECK_EQ(fr_record_header(h, &type, &len), FR_OK);
    CHECK_EQ(len, 0);
    h[3] = (uint8_t)(FR_MAX_CIPHERTEXT >> 8);
    h[4] = (uint8_t)FR_MAX_CIPHERTEXT;
    CHECK_EQ(fr_record_header(h, &type, &len), FR_OK);
    CHECK_EQ(len, 16384 + 256);
}

TEST(header_bad_type) {
    static const uint8_t bad[] = {0, 1, 19, 24, 25, 0x80, 0xff};
    for (size_t i = 0; i < sizeof(bad); i++) {
        uint8_t h[5] = {bad[i], 3, 3, 0, 5};
        uint8_t type = 0xaa;
        size_t len = 77;
        CHECK_EQ(fr_record_header(h, &type, &len), FERRULE_R_BAD_CONTENT_TYPE);
        CHECK_EQ(type, 0xaa); /* outputs untouched on failure */
        CHECK_EQ(len, 77);
    }
}

TEST(header_bad_version) {
    static const uint16_t bad[] = {0x0000, 0x0203, 0x0403, 0x0003, 0x0103, 0xfeff, 0x0200};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t h[5] = {22, (uint8_t)(bad[i] >> 8), (uint8_t)bad[i], 0, 5};
        uint8_t type;
        size_t len;
        CHECK_EQ(fr_record_header(h, &type, &len), FERRULE_R_BAD_RECORD_VERSION);
    }
}

TEST(header_overflow) {
    uint8_t h[5] = {23, 3, 3, 0, 0};
    uint8_t type;
    size_t len;
    const size_t over[] = {16384 + 257, 16384 + 1024, 0xffff};
    for (size_t i = 0; i < 3; i++) {
        h[3] = (uint8_t)(over[i] >> 8);
        h[4] = (uint8_t)over[i];
        CHECK_EQ(fr_record_header(h, &type, &len), FERRULE_R_RECORD_OVERFLOW);
    }
}

/* ---- plaintext records ------------------------------------------------------ */

TEST(write_plain) {
    static const uint8_t data[] = {1, 0, 0, 1, 0xaa};
    uint8_t out[32];
    size_t n = 0;
    CHECK_EQ(fr_record_write_plain(FR_CT_HANDSHAKE, data, sizeof(data), out, sizeof(out), &n),
             FR_OK);
    static const uint8_t want[] = {22, 3, 3, 0, 5, 1, 0, 0, 1, 0xaa};
    CHECK_EQ(n, sizeof(want));
    CHECK_MEM(out, want, sizeof(want));
    uint8_t type;
    size_t len;
    CHECK_EQ(fr_record_header(out, &type, &len), FR_OK);
    CHECK_EQ(type, FR_CT_HANDSHAKE);
    CHECK_EQ(len, sizeof(data));
    /* Exactly fits; one byte short. */
    CHECK_EQ(fr_record_write_plain(FR_CT_ALERT, data, 2, out, 7, &n), FR_OK);
    CHECK_EQ(n, 7);
    CHECK_EQ(fr_record_write_plain(FR_CT_ALERT, data, 2, out, 6, &n), FERRULE_R_BUFFER_TOO_SMALL);
    CHECK_EQ(fr_record_write_plain(FR_CT_ALERT, data, 2, out, 0, &n), FERRULE_R_BUFFER_TOO_SMALL);
    /* Unknown type: a caller bug. */
    CHECK_EQ(fr_record_write_plain(24, data, 2, out, sizeof(out), &n), FERRULE_R_INTERNAL);
    CHECK_EQ(fr_record_write_plain(0, data, 2, out, sizeof(out), &n), FERRULE_R_INTERNAL);
}

TEST(write_plain_size_limit) {
    static uint8_t data[FR_MAX_PLAINTEXT + 1];
    size_t n = 0;
    CHECK_EQ(fr_record_write_plain(FR_CT_APPLICATION_DATA, data, FR_MAX_PLAINTEXT, big_a,
                                   sizeof(big_a), &n),
             FR_OK);
    CHECK_EQ(n, 5 + FR_MAX_PLAINTEXT);
    CHECK(big_a[3] == 0x40 && big_a[4] == 0x00);
    CHECK_EQ(fr_record_write_plain(FR_CT_APPLICATION_DATA, data, FR_MAX_PLAINTEXT + 1, big_a,
                                   sizeof(big_a), &n),
             FERRULE_R_INTERNAL);
}

/* ---- protected records -------------------------------------------------------- */

static const uint16_t suites[] = {FERRULE_TLS_AES_128_GCM_SHA256, FERRULE_TLS_AES_256_GCM_SHA384,
                                  FERRULE_TLS_CHACHA20_POLY1305_SHA256};

TEST(seal_open_round_trip_with_padding) {
    static const size_t lens[] = {0, 1, 100, 1000};
    static const size_t pads[] = {0, 1, 255, 4000};
    static const uint8_t types[] = {FR_CT_HANDSHAKE, FR_CT_ALERT, FR_CT_APPLICATION_DATA};
    for (size_t s = 0; s < 3; s++) {
        fr_aead w, r;
        pair(suites[s], &w, &r);
        for (size_t li = 0; li < 4; li++) {
            for (size_t pi = 0; pi < 4; pi++) {
                uint8_t data[1000];
                size_t len = lens[li], pad = pads[pi];
                uint8_t type = types[(li + pi) % 3];
                for (size_t i = 0; i < len; i++) data[i] = (uint8_t)(i * 13 + 1);
                size_t n = 0;
                CHECK_EQ(fr_record_seal(&w, type, data, len, pad, big_a, sizeof(big_a), &n),
                         FR_OK);
                CHECK_EQ(n, FR_RECORD_OVERHEAD + len + pad);
                /* Outer header: application_data, 0x0303, ciphertext length. */
                CHECK(big_a[0] == 23 && big_a[1] == 3 && big_a[2] == 3);
                CHECK_EQ((size_t)big_a[3] << 8 | big_a[4], n - 5);
                uint8_t got_type = 0, *pt = NULL;
                size_t pt_len = 99;
                CHECK_EQ(fr_record_open(&r, big_a, n, &got_type, &pt, &pt_len), FR_OK);
                CHECK_EQ(got_type, type);
                CHECK_EQ(pt_len, len);
                CHECK(pt == big_a + 5);
                if (pt_len == len) CHECK_MEM(pt, data, len);
            }
        }
        CHECK_EQ(w.seq, 16);
        CHECK_EQ(r.seq, 16);
        fr_aead_free(&w);
        fr_aead_free(&r);
    }
}

TEST(seal_in_place) {
    fr_aead w, r;
    pair(FERRULE_TLS_AES_128_GCM_SHA256, &w, &r);
    static const char msg[] = "already where it belongs";
    memcpy(big_a + 5, msg, sizeof(msg));
    size_t n;
    CHECK_EQ(fr_record_seal(&w, FR_CT_APPLICATION_DATA, big_a + 5, sizeof(msg), 3, big_a,
                            sizeof(big_a), &n),
             FR_OK);
    uint8_t type, *pt;
    size_t pt_len;
    CHECK_EQ(fr_record_open(&r, big_a, n, &type, &pt, &pt_len), FR_OK);
    CHECK_EQ(pt_len, sizeof(msg));
    CHECK_MEM(pt, msg, sizeof(msg));
    fr_aead_free(&w);
    fr_aead_free(&r);
}

/* Sealing from elsewhere writes the same record as sealing in place (the
 * content is encrypted straight into the record, not staged there first),
 * for every suite, with and without padding, across GCM block boundaries;
 * a source overlapping the record anywhere but the body is refused. */
TEST(seal_from_elsewhere_matches_in_place) {
    static const uint16_t seal_suites[] = {FERRULE_TLS_AES_128_GCM_SHA256,
                                      FERRULE_TLS_AES_256_GCM_SHA384,
                                      FERRULE_TLS_CHACHA20_POLY1305_SHA256};
    static const size_t lens[] = {0, 1, 15, 16, 17, 1000, FR_MAX_PLAINTEXT};
    static uint8_t src[FR_MAX_PLAINTEXT];
    for (size_t i = 0; i < sizeof(src); i++) src[i] = (uint8_t)(i * 13u + 7u);
    for (size_t s = 0; s < 3; s++) {
        for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
            size_t len = lens[l], pad = len < 100 ? 5 : 0;
            fr_aead w1, r1, w2, r2;
            pair(seal_suites[s], &w1, &r1);
            pair(seal_suites[s], &w2, &r2);
            size_t n1 = 0, n2 = 0;
            memset(big_a, 0xee, sizeof(big_a));
            memcpy(big_b + 5, src, len);
            CHECK_EQ(fr_record_seal(&w1, FR_CT_APPLICATION_DATA, src, len, pad, big_a,
                                    sizeof(big_a), &n1),
                     FR_OK);
            CHECK_EQ(fr_record_seal(&w2, FR_CT_APPLICATION_DATA, big_b + 5, len, pad, big_b,
                                    sizeof(big_b), &n2),
                     FR_OK);
            CHECK_EQ(n1, FR_RECORD_OVERHEAD + len + pad);
            CHECK_EQ(n1, n2);
            CHECK(memcmp(big_a, big_b, n1) == 0);
            uint8_t type, *pt;
            size_t pt_len;
            CHECK_EQ(fr_record_open(&r1, big_a, n1, &type, &pt, &pt_len), FR_OK);
            CHECK_EQ(pt_len, len);
            CHECK(len == 0 || memcmp(pt, src, len) == 0);
            fr_aead_free(&w1);
            fr_aead_free(&r1);
            fr_aead_free(&w2);
            fr_aead_free(&r2);
        }
    }
    fr_aead w, r;
    pair(FERRULE_TLS_AES_128_GCM_SHA256, &w, &r);
    size_t n = 0;
    /* Overlapping the header, or the body off its position: refused,
     * before anything is written or a sequence number is used. */
    CHECK_EQ(fr_record_seal(&w, FR_CT_APPLICATION_DATA, big_a + 2, 100, 0, big_a, sizeof(big_a),
                            &n),
             FERRULE_R_INTERNAL);
    CHECK_EQ(fr_record_seal(&w, FR_CT_APPLICATION_DATA, big_a + 6, 100, 0, big_a, sizeof(big_a),
                            &n),
             FERRULE_R_INTERNAL);
    CHECK_EQ(w.seq, 0);
    /* Just past the record: disjoint, fine. */
    CHECK_EQ(fr_record_seal(&w, FR_CT_APPLICATION_DATA, big_a + FR_RECORD_OVERHEAD + 100, 100, 0,
                            big_a, FR_RECORD_OVERHEAD + 100, &n),
             FR_OK);
    fr_aead_free(&w);
    fr_aead_free(&r);
}

TEST(seal_size_limits) {
    fr_aead w, r;
    pair(FERRULE_TLS_CHACHA20_POLY1305_SHA256, &w, &r);
    static uint8_t data[FR_MAX_PLAINTEXT + 1];
    memset(data, 0x41, sizeof(data));
    size_t n = 0;
    uint8_t type, *pt;
    size_t pt_len;
    /* 2^14 bytes of content: the maximum. */
    CHECK_EQ(fr_record_seal(&w, FR_CT_APPLICATION_DATA, data, FR_MAX_PLAINTEXT, 0, big_a,
                            sizeof(big_a), &n),
             FR_OK);
    CHECK_EQ(n, FR_RECORD_OVERHEAD + FR_MAX_PLAINTEXT);
    CHECK_EQ(fr_record_open(&r, big_a, n, &type, &pt, &pt_len), FR_OK);
    CHECK_EQ(pt_len, FR_MAX_PLAINTEXT);
    /* Content + padding exactly 2^14: fine; one more byte is not. */
    CHECK_EQ(fr_record_seal(&w, FR_CT_APPLICATION_DATA, data, 100, FR_MAX_PLAINTEXT - 100, big_a,
                            sizeof(big_a), &n),
             FR_OK);
    CHECK_EQ(fr_record_open(&r, big_a, n, &type, &pt, &pt_len), FR_OK);
    CHECK_EQ(pt_len, 100);
    uint64_t seq = w.seq;
    CHECK_EQ(fr_record_seal(&w, FR_CT_APPLICATION_DATA, data, FR_MAX_PLAINTEXT + 1, 0, big_a,
                            sizeof(big_a), &n),
             FERRULE_R_INTERNAL);
    CHECK_EQ(fr_record_seal(&w, FR_CT_APPLICATION_DATA, data, FR_MAX_PLAINTEXT, 1, big_a,
                            sizeof(big_a), &n),
             FERRULE_R_INTERNAL);
    CHECK_EQ(fr_record_seal(&w, FR_CT_APPLICATION_DATA, data, 100, FR_MAX_PLAINTEXT - 99, big_a,
                            sizeof(big_a), &n),
             FERRULE_R_INTERNAL);
    CHECK_EQ(fr_record_seal(&w, FR_CT_APPLICATION_DATA, data, 1, SIZE_MAX, big_a, sizeof(big_a),
                            &n),
             FERRULE_R_INTERNAL);
    /* Output buffer: exactly FR_RECORD_OVERHEAD + len + pad, and one less. */
    CHECK_EQ(fr_record_seal(&w, FR_CT_APPLICATION_DATA, data, 10, 2, big_a, FR_RECORD_OVERHEAD + 11,
                            &n),
             FERRULE_R_BUFFER_TOO_SMALL);
    CHECK_EQ(fr_record_seal(&w, FR_CT_APPLICATION_DATA, data, 10, 2, big_a, 3, &n),
             FERRULE_R_BUFFER_TOO_SMALL);
    CHECK_EQ(w.seq, seq); /* refused records consume no sequence number */
    CHECK_EQ(fr_record_seal(&w, FR_CT_APPLICATION_DATA, data, 10, 2, big_a, FR_RECORD_OVERHEAD + 12,
                            &n),
             FR_OK);
    /* change_cipher_spec is never protected; unknown types neither. */
    CHECK_EQ(fr_record_seal(&w, FR_CT_CHANGE_CIPHER_SPEC, data, 1, 0, big_a, sizeof(big_a), &n),
             FERRULE_R_INTERNAL);
    CHECK_EQ(fr_record_seal(&w, 0, data, 1, 0, big_a, sizeof(big_a), &n), FERRULE_R_INTERNAL);
    fr_aead_free(&w);
    fr_aead_free(&r);
}

/* Build a protected record around an arbitrary inner plaintext (which
 * fr_record_seal would refuse to produce). */
static size_t seal_raw(fr_aead *w, const uint8_t *inner, size_t inner_len, uint8_t *out) {
    size_t body = inner_len + FR_AEAD_TAG_LEN;
    out[0] = 23;
    out[1] = 3;
    out[2] = 3;
    out[3] = (uint8_t)(body >> 8);
    out[4] = (uint8_t)body;
    memmove(out + 5, inner, inner_len);
    CHECK_EQ(fr_aead_seal(w, out, 5, out + 5, inner_len, out + 5 + inner_len), FR_OK);
    return 5 + body;
}

TEST(open_all_zero_inner_plaintext) {
    fr_aead w, r;
    pair(FERRULE_TLS_AES_256_GCM_SHA384, &w, &r);
    uint8_t zeros[40] = {0};
    size_t n = seal_raw(&w, zeros, sizeof(zeros), big_a);
    uint8_t type, *pt;
    size_t pt_len;
    CHECK_EQ(fr_record_open(&r, big_a, n, &type, &pt, &pt_len), FERRULE_R_NO_CONTENT_TYPE);
    /* A one-byte all-zero inner plaintext too. */
    n = seal_raw(&w, zeros, 1, big_a);
    CHECK_EQ(fr_record_open(&r, big_a, n, &type, &pt, &pt_len), FERRULE_R_NO_CONTENT_TYPE);
    fr_aead_free(&w);
    fr_aead_free(&r);
}

TEST(open_forbidden_inner_type) {
    fr_aead w, r;
    pair(FERRULE_TLS_AES_128_GCM_SHA256, &w, &r);
    static const uint8_t bad[] = {FR_CT_CHANGE_CIPHER_SPEC, 24, 0xff, 1};
    for (size_t i = 0; i < sizeof(bad); i++) {
        uint8_t inner[8] = {'h', 'i', bad[i], 0, 0, 0, 0, 0};
        size_t n = seal_raw(&w, inner, sizeof(inner), big_a);
        uint8_t type, *pt;
        size_t pt_len;
        CHECK_EQ(fr_record_open(&r, big_a, n, &type, &pt, &pt_len), FERRULE_R_BAD_CONTENT_TYPE);
        CHECK(all_zero(big_a + 5, sizeof(inner)));
    }
    fr_aead_free(&w);
    fr_aead_free(&r);
}

TEST(open_inner_plaintext_overflow) {
    fr_aead w, r;
    pair(FERRULE_TLS_AES_128_GCM_SHA256, &w, &r);
    /* 2^14 content + type + one padding byte = 2^14 + 2: authentic but too
     * long (RFC 8446 §5.2), though within the 2^14+256 ciphertext limit. */
    static uint8_t inner[FR_MAX_PLAINTEXT + 2];
    memset(inner, 0x33, FR_MAX_PLAINTEXT);
    inner[FR_MAX_PLAINTEXT] = FR_CT_APPLICATION_DATA;
    inner[FR_MAX_PLAINTEXT + 1] = 0;
    size_t n = seal_raw(&w, inner, sizeof(inner), big_a);
    uint8_t type, *pt;
    size_t pt_len;
    /* Authentic but too long is the plaintext's overflow, not the header's. */
    CHECK_EQ(fr_record_open(&r, big_a, n, &type, &pt, &pt_len), FERRULE_R_PLAINTEXT_OVERFLOW);
    CHECK(all_zero(big_a + 5, sizeof(inner)));
    /* 2^14 + 1 exactly is accepted. */
    n = seal_raw(&w, inner, sizeof(inner) - 1, big_a);
    CHECK_EQ(fr_record_open(&r, big_a, n, &type, &pt, &pt_len), FR_OK);
    CHECK_EQ(pt_len, FR_MAX_PLAINTEXT);
    CHECK_EQ(type, FR_CT_APPLICATION_DATA);
    /* A body over 2^14 + 256 is refused from the header alone. */
    static uint8_t huge[FR_MAX_CIPHERTEXT - FR_AEAD_TAG_LEN + 1];
    n = seal_raw(&w, huge, sizeof(huge), big_b);
    CHECK_EQ(fr_record_open(&r, big_b, n, &type, &pt, &pt_len), FERRULE_R_RECORD_OVERFLOW);
    fr_aead_free(&w);
    fr_aead_free(&r);
}

TEST(open_short_and_malformed) {
    fr_aead w, r;
    pair(FERRULE_TLS_AES_128_GCM_SHA256, &w, &r);
    uint8_t rec[64] = {23, 3, 3, 0, 16};
    uint8_t type, *pt;
    size_t pt_len;
    /* Bodies that cannot hold tag + type byte. */
    CHECK_EQ(fr_record_open(&r, rec, 5 + 16, &type, &pt, &pt_len), FERRULE_R_BAD_RECORD_MAC);
    rec[4] = 0;
    CHECK_EQ(fr_record_open(&r, rec, 5, &type, &pt, &pt_len), FERRULE_R_BAD_RECORD_MAC);
    rec[4] = 1;
    CHECK_EQ(fr_record_open(&r, rec, 6, &type, &pt, &pt_len), FERRULE_R_BAD_RECORD_MAC);
    /* Even an authentic tag over an empty inner plaintext is refused by
     * length: there is no content type byte. */
    uint8_t empty[1];
    size_t n = seal_raw(&w, empty, 0, big_a);
    CHECK_EQ(n, 5 + 16);
    CHECK_EQ(fr_record_open(&r, big_a, n, &type, &pt, &pt_len), FERRULE_R_BAD_RECORD_MAC);
    /* 17 bytes of garbage: long enough, fails authentication. */
    rec[4] = 17;
    CHECK_EQ(fr_record_open(&r, rec, 5 + 17, &type, &pt, &pt_len), FERRULE_R_BAD_RECORD_MAC);
    /* Header length disagrees with the buffer; buffer shorter than a header. */
    rec[4] = 20;
    CHECK_EQ(fr_record_open(&r, rec, 5 + 19, &type, &pt, &pt_len), FERRULE_R_DECODE_ERROR);
    CHECK_EQ(fr_record_open(&r, rec, 5 + 21, &type, &pt, &pt_len), FERRULE_R_DECODE_ERROR);
    CHECK_EQ(fr_record_open(&r, rec, 4, &type, &pt, &pt_len), FERRULE_R_DECODE_ERROR);
    /* Bad header fields are reported as such. */
    rec[0] = 99;
    CHECK_EQ(fr_record_open(&r, rec, 5 + 20, &type, &pt, &pt_len), FERRULE_R_BAD_CONTENT_TYPE);
    rec[0] = 23;
    rec[1] = 2;
    CHECK_EQ(fr_record_open(&r, rec, 5 + 20, &type, &pt, &pt_len), FERRULE_R_BAD_RECORD_VERSION);
    CHECK_EQ(r.seq, 0);
    fr_aead_free(&w);
    fr_aead_free(&r);
}

TEST(open_wrong_outer_type) {
    fr_aead w, r;
    pair(FERRULE_TLS_AES_128_GCM_SHA256, &w, &r);
    static const uint8_t data[] = "data";
    size_t n;
    static const uint8_t outer[] = {FR_CT_HANDSHAKE, FR_CT_ALERT, FR_CT_CHANGE_CIPHER_SPEC};
    for (size_t i = 0; i < sizeof(outer); i++) {
        CHECK_EQ(fr_record_seal(&w, FR_CT_HANDSHAKE, data, 4, 0, big_a, sizeof(big_a), &n),
                 FR_OK);
        big_a[0] = outer[i];
        uint8_t type, *pt;
        size_t pt_len;
        CHECK_EQ(fr_record_open(&r, big_a, n, &type, &pt, &pt_len), FERRULE_R_BAD_OUTER_TYPE);
    }
    fr_aead_free(&w);
    fr_aead_free(&r);
}

TEST(open_tampered_record) {
    static const uint8_t data[] = "attack at dawn";
    for (int what = 0; what < 5; what++) {
        fr_aead w, r;
        pair(FERRULE_TLS_AES_128_GCM_SHA256, &w, &r);
        size_t n;
        CHECK_EQ(fr_record_seal(&w, FR_CT_APPLICATION_DATA, data, sizeof(data), 4, big_a,
                                sizeof(big_a), &n),
                 FR_OK);
        if (what == 0) big_a[2] = 0x01; /* version is authenticated data */
        if (what == 1) big_a[5] ^= 0x01;
        if (what == 2) big_a[n - 1] ^= 0x80; /* tag */
        if (what == 3) r.seq = 1;
        if (what == 4) { /* drop the last padding byte and fix the length */
            memmove(big_a + n - 17, big_a + n - 16, 16);
            n--;
            big_a[4] = (uint8_t)(big_a[4] - 1);
        }
        uint8_t type, *pt;
        size_t pt_len;
        CHECK_EQ(fr_record_open(&r, big_a, n, &type, &pt, &pt_len), FERRULE_R_BAD_RECORD_MAC);
        /* The unauthenticated plaintext is never left in the buffer. */
        CHECK(all_zero(big_a + 5, n - 5 - 16));
        fr_aead_free(&w);
        fr_aead_free(&r);
    }
}

TEST(open_sequence_exhausted) {
    fr_aead w, r;
    pair(FERRULE_TLS_AES_128_GCM_SHA256, &w, &r);
    static const uint8_t data[] = "x";
    size_t n;
    w.seq = UINT64_MAX;
    CHECK_EQ(fr_record_seal(&w, FR_CT_APPLICATION_DATA, data, 1, 0, big_a, sizeof(big_a), &n),
             FERRULE_R_SEQUENCE_EXHAUSTED);
    w.seq = 5;
    CHECK_EQ(fr_record_seal(&w, FR_CT_APPLICATION_DATA, data, 1, 0, big_a, sizeof(big_a), &n),
             FR_OK);
    r.seq = UINT64_MAX;
    uint8_t type, *pt;
    size_t pt_len;
    CHECK_EQ(fr_record_open(&r, big_a, n, &type, &pt, &pt_len), FERRULE_R_SEQUENCE_EXHAUSTED);
    fr_aead_free(&w);
    fr_aead_free(&r);
}

TEST_MAIN("record", TL_CASE(header_valid_types_and_versions), TL_CASE(header_bad_type),
          TL_CASE(header_bad_version), TL_CASE(header_overflow), TL_CASE(write_plain),
          TL_CASE(write_plain_size_limit), TL_CASE(seal_open_round_trip_with_padding),
          TL_CASE(seal_in_place), TL_CASE(seal_from_elsewhere_matches_in_place),
          TL_CASE(seal_size_limits), TL_CASE(open_all_zero_inner_plaintext),
          TL_CASE(open_forbidden_inner_type), TL_CASE(open_inner_plaintext_overflow),
          TL_CASE(open_short_and_malformed), TL_CASE(open_wrong_outer_type),
          TL_CASE(open_tampered_record), TL_CASE(open_sequence_exhausted))
