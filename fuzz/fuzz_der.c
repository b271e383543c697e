/*
 * fuzz_der.c - the DER reader (core/x509/der.c) and the Name comparison
 * (name.c) on arbitrary bytes, without the certificate parser around them.
 * Input: byte 0 = a split point (the first byte of the rest at which the
 * second Name starts, modulo its length), the rest = DER.
 * Walks every element recursively (fr_der_read_any, to depth 16) and
 * applies each typed reader to it; fr_der_check_nesting on the whole.
 * Checks: a TLV read lies inside its input and its content inside the TLV;
 * a typed reader succeeds only on its tag; check_nesting accepts only a
 * single TLV spanning the buffer; fr_name_equal is reflexive and symmetric
 * and equal names hash equally (fr_name_hash); fr_name_within(a, a).
 */
#include "fuzz_hs.h"

#include "x509/der.h"
#include "x509/x509.h"

static void walk(fr_reader r, int depth) {
    while (!fr_reader_empty(&r)) {
        const uint8_t *start = r.p;
        size_t left = fr_reader_left(&r);
        fr_der_tlv t;
        fr_err e = fr_der_read_any(&r, &t);
        if (e != FR_OK) {
            fuzz_check_reason(e);
            return;
        }
        FUZZ_CHECK(t.tlv == start && t.tlv_len <= left && t.tlv_len >= 2);
        FUZZ_CHECK(t.content.p >= t.tlv && t.content.p + fr_reader_left(&t.content) == t.tlv + t.tlv_len);
        FUZZ_CHECK(t.tag == start[0]);
        fr_reader one = fr_reader_init(t.tlv, t.tlv_len);
        int v;
        uint32_t u;
        fr_der_tlv o;
        const uint8_t *bits;
        size_t blen;
        unsigned unused;
        fr_reader x = one;
        if (fr_der_read_bool(&x, &v) == FR_OK) FUZZ_CHECK(t.tag == FR_DER_BOOLEAN && (v == 0 || v == 1));
        x = one;
        if (fr_der_read_uint(&x, UINT32_MAX, &u) == FR_OK) FUZZ_CHECK(t.tag == FR_DER_INTEGER);
        x = one;
        if (fr_der_read_oid(&x, &o) == FR_OK) {
            FUZZ_CHECK(t.tag == FR_DER_OID);
            FUZZ_CHECK(fr_der_oid_content_ok(o.content.p, fr_reader_left(&o.content)));
        }
        x = one;
        if (fr_der_read_bits(&x, &bits, &blen, &unused) == FR_OK)
            FUZZ_CHECK(t.tag == FR_DER_BIT_STRING && unused < 8 && (blen > 0 || unused == 0));
        int present = 0;
        x = one;
        if (fr_der_read_optional(&x, t.tag, &o, &present) == FR_OK) FUZZ_CHECK(present);
        if ((t.tag & 0x20) && depth < FR_DER_MAX_DEPTH) walk(t.content, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    walk(fr_reader_init(p, n), 0);
    fr_err e = fr_der_check_nesting(p, n);
    fuzz_check_reason(e);
    if (e == FR_OK) {
        fr_reader r = fr_reader_init(p, n);
        fr_der_tlv t;
        FUZZ_CHECK(fr_der_read_any(&r, &t) == FR_OK && t.tlv_len == n);
    }
    /* Two Names: p[0..k) and p[k..n). */
    size_t k = n > 0 ? data[0] % (n + 1) : 0;
    const uint8_t *a = p, *b = p + k;
    size_t al = k, bl = n - k;
    FUZZ_CHECK(fr_name_equal(a, al, a, al));
    int ab = fr_name_equal(a, al, b, bl);
    FUZZ_CHECK(ab == fr_name_equal(b, bl, a, al));
    if (ab) FUZZ_CHECK(fr_name_hash(a, al) == fr_name_hash(b, bl));
    (void)fr_name_within(a, al, b, bl);
    return 0;
}
