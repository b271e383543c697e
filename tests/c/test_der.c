/* test_der.c - unit tests of core/x509/der.c, the DER layer (X.690 §8,
 * §10) under the X.509 parser: tags, short and long-form lengths, the
 * minimal-length rules, the indefinite form, nesting (depth and
 * truncation), and the typed readers (BOOLEAN, INTEGER, BIT STRING, OBJECT
 * IDENTIFIER, and the X.509 Time choice).  Every failure must be
 * CERT_MALFORMED and leave the reader where it was. */
#include <stdlib.h>

#include "testlib.h"
#include "x509/der.h"

#define MALFORMED FERRULE_R_CERT_MALFORMED

/* fr_der_read_any on `n` bytes: the error, with the reader unchanged on
 * failure and moved past exactly one TLV on success. */
static fr_err any_at(int line, const uint8_t *p, size_t n, fr_der_tlv *t) {
    fr_reader r = fr_reader_init(p, n);
    fr_der_tlv tmp;
    if (t == NULL) t = &tmp;
    fr_err e = fr_der_read_any(&r, t);
    if (e != FR_OK && r.p != p) {
        fprintf(stderr, "  %s:%d: failed read moved the reader\n", __FILE__, line);
        tl_failures_in_test++;
    }
    if (e == FR_OK && r.p != p + t->tlv_len) {
        fprintf(stderr, "  %s:%d: reader not after the TLV\n", __FILE__, line);
        tl_failures_in_test++;
    }
    return e;
}
#define ANY(arr, t) any_at(__LINE__, (arr), sizeof(arr), (t))

/* ---- tags and lengths -------------------------------------------------------- */

TEST(short_form_lengths) {
    static const uint8_t empty[2] = {0x05, 0x00};
    static const uint8_t one[3] = {0x04, 0x01, 0xaa};
    fr_der_tlv t;
    CHECK_EQ(ANY(empty, &t), FR_OK);
    CHECK(t.tag == FR_DER_NULL && fr_der_len(&t) == 0 && t.tlv == empty && t.tlv_len == 2);
    CHECK_EQ(ANY(one, &t), FR_OK);
    CHECK(t.tag == FR_DER_OCTET_STRING && fr_der_len(&t) == 1 && t.content.p == one + 2);
    /* 127, the largest short form. */
    uint8_t b[2 + 127] = {0x04, 0x7f};
    CHECK_EQ(ANY(b, &t), FR_OK);
    CHECK_EQ(fr_der_len(&t), 127);
}

TEST(long_form_lengths) {
    /* 0x81 0x80 (128, the smallest long form), 0x82 0x01 0x00 (256),
     * 0x83 (3 bytes): all minimal, so all accepted. */
    static uint8_t b[4 + 70000];
    fr_der_tlv t;
    b[0] = 0x04;
    b[1] = 0x81;
    b[2] = 0x80;
    CHECK_EQ(any_at(__LINE__, b, 3 + 128, &t), FR_OK);
    CHECK(fr_der_len(&t) == 128 && t.tlv_len == 131);
    b[1] = 0x81;
    b[2] = 0xff;
    CHECK_EQ(any_at(__LINE__, b, 3 + 255, &t), FR_OK);
    b[1] = 0x82;
    b[2] = 0x01;
    b[3] = 0x00;
    CHECK_EQ(any_at(__LINE__, b, 4 + 256, &t), FR_OK);
    CHECK_EQ(fr_der_len(&t), 256);
    b[1] = 0x83;
    b[2] = 0x01;
    b[3] = 0x00;
    b[4] = 0x00;
    CHECK_EQ(any_at(__LINE__, b, 5 + 65536, &t), FR_OK);
    CHECK_EQ(fr_der_len(&t), 65536);
    /* Content one byte short of the length, at each form. */
    b[1] = 0x81;
    b[2] = 0x80;
    CHECK_EQ(any_at(__LINE__, b, 3 + 127, &t), MALFORMED);
    b[1] = 0x10;
    CHECK_EQ(any_at(__LINE__, b, 2 + 15, &t), MALFORMED);
    /* Four length bytes announcing 4 GiB - 1 (not there). */
    static const uint8_t huge[6] = {0x04, 0x84, 0xff, 0xff, 0xff, 0xff};
    CHECK_EQ(ANY(huge, &t), MALFORMED);
}

TEST(non_minimal_and_indefinite_lengths) {
    fr_der_tlv t;
    /* X.690 §10.1: the long form only when the short cannot express it. */
    static const uint8_t long_for_short[4] = {0x04, 0x81, 0x01, 0xaa};
    static const uint8_t long_for_127[3 + 127] = {0x04, 0x81, 0x7f};
    /* A leading zero length octet. */
    static const uint8_t leading_zero[5] = {0x04, 0x82, 0x00, 0x01, 0xaa};
    static uint8_t leading_zero_big[4 + 200] = {0x04, 0x82, 0x00, 0xc8};
    /* The indefinite form (0x80) and end-of-contents. */
    static const uint8_t indefinite[6] = {0x30, 0x80, 0x05, 0x00, 0x00, 0x00};
    /* More than four length octets, and the reserved 0xff. */
    static const uint8_t five[7] = {0x04, 0x85, 0, 0, 0, 0, 1};
    static const uint8_t reserved[3] = {0x04, 0xff, 0x00};
    CHECK_EQ(ANY(long_for_short, &t), MALFORMED);
    CHECK_EQ(ANY(long_for_127, &t), MALFORMED);
    CHECK_EQ(ANY(leading_zero, &t), MALFORMED);
    CHECK_EQ(ANY(leading_zero_big, &t), MALFORMED);
    CHECK_EQ(ANY(indefinite, &t), MALFORMED);
    CHECK_EQ(ANY(five, &t), MALFORMED);
    CHECK_EQ(ANY(reserved, &t), MALFORMED);
}

TEST(tags_and_truncated_headers) {
    fr_der_tlv t;
    /* High tag numbers (X.690 §8.1.2.4), primitive and constructed. */
    static const uint8_t high[4] = {0x1f, 0x81, 0x00, 0x00};
    static const uint8_t high_cons[3] = {0x3f, 0x20, 0x00};
    static const uint8_t high_ctx[3] = {0xbf, 0x01, 0x00};
    CHECK_EQ(ANY(high, &t), MALFORMED);
    CHECK_EQ(ANY(high_cons, &t), MALFORMED);
    CHECK_EQ(ANY(high_ctx, &t), MALFORMED);
    /* Tag 30 is the largest low tag number: accepted. */
    static const uint8_t tag30[2] = {0x9e, 0x00};
    CHECK_EQ(ANY(tag30, &t), FR_OK);
    CHECK_EQ(t.tag, 0x9e);
    /* Nothing, a tag alone, a long form without its length octets. */
    static const uint8_t tag_only[1] = {0x30};
    static const uint8_t cut_len[3] = {0x04, 0x82, 0x01};
    CHECK_EQ(any_at(__LINE__, tag_only, 0, &t), MALFORMED);
    CHECK_EQ(ANY(tag_only, &t), MALFORMED);
    CHECK_EQ(ANY(cut_len, &t), MALFORMED);
}

TEST(read_with_expected_tag) {
    static const uint8_t two[5] = {0x02, 0x01, 0x05, 0x05, 0x00};
    fr_reader r = fr_reader_init(two, sizeof(two));
    fr_der_tlv t;
    CHECK_EQ(fr_der_peek_tag(&r), FR_DER_INTEGER);
    CHECK_EQ(fr_der_read(&r, FR_DER_SEQUENCE, &t), MALFORMED);
    CHECK(r.p == two);
    CHECK_EQ(fr_der_read(&r, FR_DER_INTEGER, &t), FR_OK);
    CHECK_EQ(fr_der_peek_tag(&r), FR_DER_NULL);
    CHECK_EQ(fr_der_done(&r), MALFORMED);
    /* Optional: absent (other tag), present, absent (end of input). */
    int present = -1;
    CHECK_EQ(fr_der_read_optional(&r, FR_DER_CTX_CONS(0), &t, &present), FR_OK);
    CHECK(present == 0 && r.p == two + 3);
    CHECK_EQ(fr_der_read_optional(&r, FR_DER_NULL, &t, &present), FR_OK);
    CHECK(present == 1 && fr_reader_empty(&r));
    CHECK_EQ(fr_der_peek_tag(&r), -1);
    present = -1;
    CHECK_EQ(fr_der_read_optional(&r, FR_DER_NULL, &t, &present), FR_OK);
    CHECK_EQ(present, 0);
    CHECK_EQ(fr_der_done(&r), FR_OK);
    /* Optional but present and malformed: an error, reader unchanged. */
    static const uint8_t bad[3] = {0x05, 0x81, 0x00};
    r = fr_reader_init(bad, sizeof(bad));
    CHECK_EQ(fr_der_read_optional(&r, FR_DER_NULL, &t, &present), MALFORMED);
    CHECK(r.p == bad);
}

/* ---- nesting ----------------------------------------------------------------- */

/* `depth` SEQUENCEs, each holding the next, the innermost a NULL. */
static size_t nested(uint8_t *b, size_t depth) {
    size_t n = 2 * depth + 2;
    for (size_t i = 0; i < depth; i++) {
        b[2 * i] = FR_DER_SEQUENCE;
        b[2 * i + 1] = (uint8_t)(n - 2 * i - 2);
    }
    b[2 * depth] = FR_DER_NULL;
    b[2 * depth + 1] = 0;
    return n;
}

TEST(nesting_depth) {
    uint8_t b[64];
    /* FR_DER_MAX_DEPTH levels of constructed content are accepted. */
    size_t n = nested(b, FR_DER_MAX_DEPTH);
    CHECK_EQ(fr_der_check_nesting(b, n), FR_OK);
    n = nested(b, FR_DER_MAX_DEPTH + 1);
    CHECK_EQ(fr_der_check_nesting(b, n), MALFORMED);
    n = nested(b, 1);
    CHECK_EQ(fr_der_check_nesting(b, n), FR_OK);
    /* A primitive element is not descended into (its content may be
     * anything, here what looks like a broken TLV). */
    static const uint8_t prim[4] = {0x04, 0x02, 0x30, 0x05};
    CHECK_EQ(fr_der_check_nesting(prim, sizeof(prim)), FR_OK);
}

TEST(nesting_truncated_and_trailing) {
    uint8_t b[64];
    size_t n = nested(b, 5);
    /* An inner length one more than its parent's content holds. */
    b[2 * 3 + 1]++;
    CHECK_EQ(fr_der_check_nesting(b, n), MALFORMED);
    b[2 * 3 + 1]--;
    /* The innermost element cut (outer lengths still consistent). */
    n = nested(b, 5);
    b[2 * 5 + 1] = 1; /* NULL with one byte of content that is not there */
    CHECK_EQ(fr_der_check_nesting(b, n), MALFORMED);
    /* Bytes after the outermost element, or before the end of a SET. */
    n = nested(b, 3);
    b[n] = 0;
    CHECK_EQ(fr_der_check_nesting(b, n + 1), MALFORMED);
    static const uint8_t set_tail[5] = {0x31, 0x03, 0x05, 0x00, 0x05};
    CHECK_EQ(fr_der_check_nesting(set_tail, sizeof(set_tail)), MALFORMED);
    /* Two siblings, one malformed (non-minimal length) deep inside. */
    static const uint8_t sib[10] = {0x30, 0x08, 0x30, 0x02, 0x05, 0x00,
                                    0x30, 0x02, 0x04, 0x80};
    CHECK_EQ(fr_der_check_nesting(sib, sizeof(sib)), MALFORMED);
    CHECK_EQ(fr_der_check_nesting(sib, 0), MALFORMED);
}

/* ---- typed readers ----------------------------------------------------------- */

/* Run a typed reader over `n` bytes; check the reader moved only on success. */
#define TYPED(call, in, in_len)                                                                    \
    ({                                                                                             \
        fr_reader r_ = fr_reader_init((in), (in_len));                                             \
        fr_err e_ = call;                                                                          \
        CHECK(e_ == FR_OK ? fr_reader_empty(&r_) : r_.p == (in));                                  \
        e_;                                                                                        \
    })

TEST(booleans) {
    static const uint8_t t[3] = {0x01, 0x01, 0xff}, f[3] = {0x01, 0x01, 0x00};
    static const uint8_t one[3] = {0x01, 0x01, 0x01}, two[4] = {0x01, 0x02, 0xff, 0xff};
    static const uint8_t none[2] = {0x01, 0x00}, integer[3] = {0x02, 0x01, 0xff};
    int v = -1;
    CHECK_EQ(TYPED(fr_der_read_bool(&r_, &v), t, 3), FR_OK);
    CHECK_EQ(v, 1);
    CHECK_EQ(TYPED(fr_der_read_bool(&r_, &v), f, 3), FR_OK);
    CHECK_EQ(v, 0);
    /* DER: TRUE is 0xff only (X.690 §11.1); exactly one octet. */
    CHECK_EQ(TYPED(fr_der_read_bool(&r_, &v), one, 3), MALFORMED);
    CHECK_EQ(TYPED(fr_der_read_bool(&r_, &v), two, 4), MALFORMED);
    CHECK_EQ(TYPED(fr_der_read_bool(&r_, &v), none, 2), MALFORMED);
    CHECK_EQ(TYPED(fr_der_read_bool(&r_, &v), integer, 3), MALFORMED);
}

TEST(integers) {
    uint32_t v = 0;
    static const uint8_t zero[3] = {0x02, 0x01, 0x00};
    static const uint8_t i127[3] = {0x02, 0x01, 0x7f};
    static const uint8_t i128[4] = {0x02, 0x02, 0x00, 0x80};
    static const uint8_t i255[4] = {0x02, 0x02, 0x00, 0xff};
    static const uint8_t i256[4] = {0x02, 0x02, 0x01, 0x00};
    static const uint8_t u32max[7] = {0x02, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t over32[7] = {0x02, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t long9[11] = {0x02, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK_EQ(TYPED(fr_der_read_uint(&r_, 0, &v), zero, 3), FR_OK);
    CHECK_EQ(v, 0);
    CHECK_EQ(TYPED(fr_der_read_uint(&r_, 255, &v), i127, 3), FR_OK);
    CHECK_EQ(v, 127);
    CHECK_EQ(TYPED(fr_der_read_uint(&r_, 255, &v), i128, 4), FR_OK);
    CHECK_EQ(v, 128);
    /* At the caller's maximum, and one past it. */
    CHECK_EQ(TYPED(fr_der_read_uint(&r_, 255, &v), i255, 4), FR_OK);
    CHECK_EQ(v, 255);
    v = 7;
    CHECK_EQ(TYPED(fr_der_read_uint(&r_, 255, &v), i256, 4), MALFORMED);
    CHECK_EQ(v, 7);
    CHECK_EQ(TYPED(fr_der_read_uint(&r_, UINT32_MAX, &v), u32max, 7), FR_OK);
    CHECK_EQ(v, UINT32_MAX);
    CHECK_EQ(TYPED(fr_der_read_uint(&r_, UINT32_MAX, &v), over32, 7), MALFORMED);
    CHECK_EQ(TYPED(fr_der_read_uint(&r_, UINT32_MAX, &v), long9, 11), MALFORMED);
    /* Negative, empty, and non-minimal two's complement (X.690 §8.3.2). */
    static const uint8_t neg[3] = {0x02, 0x01, 0x80}, neg1[3] = {0x02, 0x01, 0xff};
    static const uint8_t empty[2] = {0x02, 0x00};
    static const uint8_t pad0[4] = {0x02, 0x02, 0x00, 0x7f}, pad00[4] = {0x02, 0x02, 0x00, 0x00};
    static const uint8_t bool_tag[3] = {0x01, 0x01, 0x00};
    CHECK_EQ(TYPED(fr_der_read_uint(&r_, UINT32_MAX, &v), neg, 3), MALFORMED);
    CHECK_EQ(TYPED(fr_der_read_uint(&r_, UINT32_MAX, &v), neg1, 3), MALFORMED);
    CHECK_EQ(TYPED(fr_der_read_uint(&r_, UINT32_MAX, &v), empty, 2), MALFORMED);
    CHECK_EQ(TYPED(fr_der_read_uint(&r_, UINT32_MAX, &v), pad0, 4), MALFORMED);
    CHECK_EQ(TYPED(fr_der_read_uint(&r_, UINT32_MAX, &v), pad00, 4), MALFORMED);
    CHECK_EQ(TYPED(fr_der_read_uint(&r_, UINT32_MAX, &v), bool_tag, 3), MALFORMED);
}

TEST(bit_strings) {
    const uint8_t *bits = NULL;
    size_t len = 99;
    unsigned unused = 99;
    static const uint8_t empty[3] = {0x03, 0x01, 0x00};
    static const uint8_t seven[4] = {0x03, 0x02, 0x07, 0x80};
    static const uint8_t whole[5] = {0x03, 0x03, 0x00, 0xab, 0xcd};
    CHECK_EQ(TYPED(fr_der_read_bits(&r_, &bits, &len, &unused), empty, 3), FR_OK);
    CHECK(len == 0 && unused == 0 && bits == empty + 3);
    CHECK_EQ(TYPED(fr_der_read_bits(&r_, &bits, &len, &unused), seven, 4), FR_OK);
    CHECK(len == 1 && unused == 7 && bits[0] == 0x80);
    CHECK_EQ(TYPED(fr_der_read_bits(&r_, &bits, &len, &unused), whole, 5), FR_OK);
    CHECK(len == 2 && unused == 0 && bits[0] == 0xab && bits[1] == 0xcd);
    /* No unused-bits octet; more than 7; unused bits without content;
     * unused bits that are not zero (X.690 §11.2.1). */
    static const uint8_t none[2] = {0x03, 0x00};
    static const uint8_t eight[4] = {0x03, 0x02, 0x08, 0x00};
    static const uint8_t unused_empty[3] = {0x03, 0x01, 0x01};
    static const uint8_t dirty[4] = {0x03, 0x02, 0x01, 0x81};
    static const uint8_t dirty7[4] = {0x03, 0x02, 0x07, 0x40};
    CHECK_EQ(TYPED(fr_der_read_bits(&r_, &bits, &len, &unused), none, 2), MALFORMED);
    CHECK_EQ(TYPED(fr_der_read_bits(&r_, &bits, &len, &unused), eight, 4), MALFORMED);
    CHECK_EQ(TYPED(fr_der_read_bits(&r_, &bits, &len, &unused), unused_empty, 3), MALFORMED);
    CHECK_EQ(TYPED(fr_der_read_bits(&r_, &bits, &len, &unused), dirty, 4), MALFORMED);
    CHECK_EQ(TYPED(fr_der_read_bits(&r_, &bits, &len, &unused), dirty7, 4), MALFORMED);
}

TEST(object_identifiers) {
    fr_der_tlv t;
    /* 1.2.840.113549.1.1.11 (sha256WithRSAEncryption). */
    static const uint8_t rsa_sha256[11] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                           0xf7, 0x0d, 0x01, 0x01, 0x0b};
    static const uint8_t arc[9] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
    CHECK_EQ(TYPED(fr_der_read_oid(&r_, &t), rsa_sha256, 11), FR_OK);
    CHECK(FR_DER_OID_IS(&t, arc));
    CHECK(!fr_der_oid_is(&t, arc, 8));
    /* One-octet OID; a subidentifier of 128 (0x81 0x00) is minimal. */
    static const uint8_t one[3] = {0x06, 0x01, 0x00};
    static const uint8_t v128[4] = {0x06, 0x02, 0x81, 0x00};
    CHECK_EQ(TYPED(fr_der_read_oid(&r_, &t), one, 3), FR_OK);
    CHECK_EQ(TYPED(fr_der_read_oid(&r_, &t), v128, 4), FR_OK);
    /* Empty; the last octet continuing; a leading 0x80 (non-minimal)
     * first or in a later subidentifier. */
    static const uint8_t empty[2] = {0x06, 0x00};
    static const uint8_t open_end[4] = {0x06, 0x02, 0x2a, 0x86};
    static const uint8_t pad_first[4] = {0x06, 0x02, 0x80, 0x01};
    static const uint8_t pad_later[5] = {0x06, 0x03, 0x2a, 0x80, 0x01};
    CHECK_EQ(TYPED(fr_der_read_oid(&r_, &t), empty, 2), MALFORMED);
    CHECK_EQ(TYPED(fr_der_read_oid(&r_, &t), open_end, 4), MALFORMED);
    CHECK_EQ(TYPED(fr_der_read_oid(&r_, &t), pad_first, 4), MALFORMED);
    CHECK_EQ(TYPED(fr_der_read_oid(&r_, &t), pad_later, 5), MALFORMED);
    CHECK_EQ(fr_der_oid_content_ok(arc, sizeof(arc)), 1);
    CHECK_EQ(fr_der_oid_content_ok(arc, 0), 0);
    /* 0x80 inside a subidentifier (not leading) is fine: 0x81 0x80 0x00. */
    static const uint8_t inner80[3] = {0x81, 0x80, 0x00};
    CHECK_EQ(fr_der_oid_content_ok(inner80, 3), 1);
}

/* ---- Time (RFC 5280 §4.1.2.5) ------------------------------------------------ */

static fr_err time_of(const char *s, uint8_t tag, int64_t *out, int *enc_bad) {
    uint8_t b[40];
    size_t n = strlen(s);
    b[0] = tag;
    b[1] = (uint8_t)n;
    memcpy(b + 2, s, n);
    fr_reader r = fr_reader_init(b, n + 2);
    *enc_bad = 0;
    return fr_x509_parse_time(&r, out, enc_bad);
}

TEST(times) {
    int64_t t = 0;
    int bad = 0;
    CHECK_EQ(time_of("700101000000Z", FR_DER_UTCTIME, &t, &bad), FR_OK);
    CHECK(t == 0 && bad == 0);
    /* YY >= 50 is 19YY; < 50 is 20YY. */
    CHECK_EQ(time_of("500101000000Z", FR_DER_UTCTIME, &t, &bad), FR_OK);
    CHECK_EQ(t, -631152000);
    CHECK_EQ(time_of("491231235959Z", FR_DER_UTCTIME, &t, &bad), FR_OK);
    CHECK(t == 2524607999 && bad == 0);
    /* Leap days: 2000 (by 400) and 2024 are leap years, 2100 is not. */
    CHECK_EQ(time_of("20000229120000Z", FR_DER_GENERALIZEDTIME, &t, &bad), FR_OK);
    CHECK_EQ(t, 951825600);
    CHECK_EQ(time_of("240229000000Z", FR_DER_UTCTIME, &t, &bad), FR_OK);
    CHECK_EQ(time_of("21000229000000Z", FR_DER_GENERALIZEDTIME, &t, &bad), MALFORMED);
    CHECK_EQ(time_of("230229000000Z", FR_DER_UTCTIME, &t, &bad), MALFORMED);
    /* GeneralizedTime from 2050, UTCTime before: else the profile flag. */
    CHECK_EQ(time_of("20500101000000Z", FR_DER_GENERALIZEDTIME, &t, &bad), FR_OK);
    CHECK_EQ(bad, 0);
    CHECK_EQ(time_of("20491231235959Z", FR_DER_GENERALIZEDTIME, &t, &bad), FR_OK);
    CHECK_EQ(bad, 1);
    CHECK_EQ(t, 2524607999);
    /* Field ranges, lengths, the zone, digits. */
    static const char *const bad_utc[] = {
        "701301000000Z", "700001000000Z", "700100000000Z", "700132000000Z", "700101240000Z",
        "700101006000Z", "700101000060Z", "7001010000Z",   "700101000000",  "700101000000+",
        "70010100000Z0", "7a0101000000Z", "700101000000z", "7001010000000Z", "",
    };
    for (size_t i = 0; i < sizeof(bad_utc) / sizeof(bad_utc[0]); i++) {
        fr_err e = time_of(bad_utc[i], FR_DER_UTCTIME, &t, &bad);
        if (e != MALFORMED) fprintf(stderr, "  accepted '%s'\n", bad_utc[i]);
        CHECK_EQ(e, MALFORMED);
    }
    /* Fractions and offsets are not allowed in GeneralizedTime either. */
    CHECK_EQ(time_of("20500101000000.5Z", FR_DER_GENERALIZEDTIME, &t, &bad), MALFORMED);
    CHECK_EQ(time_of("20500101000000+0100", FR_DER_GENERALIZEDTIME, &t, &bad), MALFORMED);
    /* Another string type. */
    CHECK_EQ(time_of("700101000000Z", FR_DER_PRINTABLESTRING, &t, &bad), MALFORMED);
    /* 30 April, 31 December: the last day of a month. */
    CHECK_EQ(time_of("700430000000Z", FR_DER_UTCTIME, &t, &bad), FR_OK);
    CHECK_EQ(time_of("700431000000Z", FR_DER_UTCTIME, &t, &bad), MALFORMED);
    CHECK_EQ(time_of("701231235959Z", FR_DER_UTCTIME, &t, &bad), FR_OK);
    CHECK_EQ(t, 31535999);
}

TEST_MAIN("der", TL_CASE(short_form_lengths), TL_CASE(long_form_lengths),
          TL_CASE(non_minimal_and_indefinite_lengths), TL_CASE(tags_and_truncated_headers),
          TL_CASE(read_with_expected_tag), TL_CASE(nesting_depth),
          TL_CASE(nesting_truncated_and_trailing), TL_CASE(booleans), TL_CASE(integers),
          TL_CASE(bit_strings), TL_CASE(object_identifiers), TL_CASE(times))
