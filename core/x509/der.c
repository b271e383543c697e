/* der.c - the DER layer (X.690 §8, §10) over fr_reader. */
#include "der.h"

#define MALFORMED FERRULE_R_CERT_MALFORMED

/* Parse one TLV header and its content without consuming on failure. */
static fr_err read_tlv(fr_reader *r, fr_der_tlv *out) {
    fr_reader c = *r;
    const uint8_t *start = c.p;
    uint8_t tag, lb;
    FR_ENSURE(fr_read_u8(&c, &tag) == FR_OK, MALFORMED);
    /* High tag numbers (X.690 §8.1.2.4) never occur in X.509. */
    FR_ENSURE((tag & 0x1f) != 0x1f, MALFORMED);
    FR_ENSURE(fr_read_u8(&c, &lb) == FR_OK, MALFORMED);
    size_t len;
    if (lb < 0x80) {
        len = lb;
    } else {
        /* 0x80 is the indefinite form, forbidden in DER (X.690 §10.1). */
        size_t nbytes = (size_t)(lb & 0x7f);
        FR_ENSURE(nbytes >= 1 && nbytes <= 4, MALFORMED);
        uint32_t v = 0;
        for (size_t i = 0; i < nbytes; i++) {
            uint8_t b;
            FR_ENSURE(fr_read_u8(&c, &b) == FR_OK, MALFORMED);
            /* Minimal length encoding: no leading zero octet. */
            FR_ENSURE(!(i == 0 && b == 0), MALFORMED);
            v = (v << 8) | b;
        }
        /* Long form only when the short form cannot express it. */
        FR_ENSURE(v >= 0x80, MALFORMED);
        len = v;
    }
    FR_ENSURE(len <= fr_reader_left(&c), MALFORMED);
    out->tag = tag;
    out->content.p = c.p;
    out->content.end = c.p + len;
    out->tlv = start;
    out->tlv_len = (size_t)(c.p - start) + len;
    r->p = c.p + len;
    return FR_OK;
}

fr_err fr_der_read_any(fr_reader *r, fr_der_tlv *out) { return read_tlv(r, out); }

fr_err fr_der_read(fr_reader *r, uint8_t tag, fr_der_tlv *out) {
    fr_reader c = *r;
    fr_der_tlv t;
    FR_TRY(read_tlv(&c, &t));
    FR_ENSURE(t.tag == tag, MALFORMED);
    *out = t;
    *r = c;
    return FR_OK;
}

int fr_der_peek_tag(const fr_reader *r) { return fr_reader_empty(r) ? -1 : (int)r->p[0]; }

fr_err fr_der_read_optional(fr_reader *r, uint8_t tag, fr_der_tlv *out, int *present) {
    *present = 0;
    if (fr_der_peek_tag(r) != (int)tag) return FR_OK;
    FR_TRY(fr_der_read(r, tag, out));
    *present = 1;
    return FR_OK;
}

fr_err fr_der_done(const fr_reader *r) { return fr_reader_empty(r) ? FR_OK : MALFORMED; }

static fr_err check_nesting(fr_reader *r, unsigned depth) {
    FR_ENSURE(depth <= FR_DER_MAX_DEPTH, MALFORMED);
    while (!fr_reader_empty(r)) {
        fr_der_tlv t;
        FR_TRY(read_tlv(r, &t));
        /* Bit 6 (0x20) marks a constructed encoding (X.690 §8.1.2.5). */
        if (t.tag & 0x20) FR_TRY(check_nesting(&t.content, depth + 1));
    }
    return FR_OK;
}

fr_err fr_der_check_nesting(const uint8_t *p, size_t n) {
    fr_reader r = fr_reader_init(p, n);
    fr_der_tlv t;
    FR_TRY(read_tlv(&r, &t));
    FR_TRY(fr_der_done(&r));
    if (t.tag & 0x20) FR_TRY(check_nesting(&t.content, 1));
    return FR_OK;
}

fr_err fr_der_read_bool(fr_reader *r, int *v) {
    fr_reader c = *r;
    fr_der_tlv t;
    FR_TRY(fr_der_read(&c, FR_DER_BOOLEAN, &t));
    FR_ENSURE(fr_der_len(&t) == 1, MALFORMED);
    /* DER: TRUE is 0xFF (X.690 §11.1). */
    uint8_t b = t.content.p[0];
    FR_ENSURE(b == 0x00 || b == 0xff, MALFORMED);
    *v = b == 0xff;
    *r = c;
    return FR_OK;
}

fr_err fr_der_read_uint(fr_reader *r, uint32_t max, uint32_t *v) {
    fr_reader c = *r;
    fr_der_tlv t;
    FR_TRY(fr_der_read(&c, FR_DER_INTEGER, &t));
    size_t n = fr_der_len(&t);
    const uint8_t *p = t.content.p;
    FR_ENSURE(n >= 1, MALFORMED);
    FR_ENSURE((p[0] & 0x80) == 0, MALFORMED); /* negative */
    /* Minimal two's complement (X.690 §8.3.2). */
    FR_ENSURE(!(n >= 2 && p[0] == 0 && (p[1] & 0x80) == 0), MALFORMED);
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        FR_ENSURE(x <= (UINT64_MAX >> 8), MALFORMED);
        x = (x << 8) | p[i];
        FR_ENSURE(x <= max, MALFORMED);
    }
    *v = (uint32_t)x;
    *r = c;
    return FR_OK;
}

int fr_der_oid_content_ok(const uint8_t *p, size_t n) {
    if (n < 1) return 0;
    /* Each subidentifier is base-128, minimal (no leading 0x80 octet),
     * and the last octet ends a subidentifier (X.690 §8.19.2). */
    if ((p[n - 1] & 0x80) != 0) return 0;
    for (size_t i = 0; i < n; i++) {
        int starts = i == 0 || (p[i - 1] & 0x80) == 0;
        if (starts && p[i] == 0x80) return 0;
    }
    return 1;
}

fr_err fr_der_read_oid(fr_reader *r, fr_der_tlv *out) {
    fr_reader c = *r;
    fr_der_tlv t;
    FR_TRY(fr_der_read(&c, FR_DER_OID, &t));
    size_t n = fr_der_len(&t);
    const uint8_t *p = t.content.p;
    FR_ENSURE(fr_der_oid_content_ok(p, n), MALFORMED);
    *out = t;
    *r = c;
    return FR_OK;
}

fr_err fr_der_read_bits(fr_reader *r, const uint8_t **bits, size_t *len, unsigned *unused) {
    fr_reader c = *r;
    fr_der_tlv t;
    FR_TRY(fr_der_read(&c, FR_DER_BIT_STRING, &t));
    size_t n = fr_der_len(&t);
    FR_ENSURE(n >= 1, MALFORMED);
    uint8_t u = t.content.p[0];
    FR_ENSURE(u <= 7, MALFORMED);
    FR_ENSURE(!(n == 1 && u != 0), MALFORMED);
    /* DER: the unused bits are zero (X.690 §11.2.1). */
    if (u != 0) FR_ENSURE((t.content.p[n - 1] & ((1u << u) - 1)) == 0, MALFORMED);
    *bits = t.content.p + 1;
    *len = n - 1;
    *unused = u;
    *r = c;
    return FR_OK;
}

int fr_der_oid_is(const fr_der_tlv *t, const uint8_t *oid, size_t n) {
    return fr_der_len(t) == n && memcmp(t->content.p, oid, n) == 0;
}

fr_err fr_der_each(fr_reader r, uint8_t tag, int nonempty, fr_der_each_fn fn, void *ctx) {
    FR_ENSURE(!nonempty || !fr_reader_empty(&r), MALFORMED);
    while (!fr_reader_empty(&r)) {
        fr_der_tlv elem;
        FR_TRY(tag != 0 ? fr_der_read(&r, tag, &elem) : fr_der_read_any(&r, &elem));
        FR_TRY(fn(ctx, &elem));
    }
    return FR_OK;
}

fr_err fr_der_seq_of(fr_reader v, uint8_t tag, fr_der_each_fn fn, void *ctx, fr_der_tlv *seq) {
    fr_der_tlv s;
    FR_TRY(fr_der_read(&v, FR_DER_SEQUENCE, &s));
    FR_TRY(fr_der_done(&v));
    FR_TRY(fr_der_each(s.content, tag, 1, fn, ctx));
    if (seq != NULL) *seq = s;
    return FR_OK;
}

fr_err fr_der_owned_parse(fr_mem *m, const uint8_t *der, size_t len, size_t size,
                          fr_der_owned_parse_fn parse, fr_der_owned_free_fn release,
                          void **out) {
    *out = NULL;
    FR_ENSURE(der != NULL || len == 0, FERRULE_R_NULL_ARGUMENT);
    FR_ENSURE(len > 0, MALFORMED);
    void *obj = fr_mem_alloc(m, size);
    FR_ENSURE(obj != NULL, fr_mem_error(m, size));
    uint8_t *copy = fr_mem_alloc(m, len);
    if (copy == NULL) {
        fr_err e = fr_mem_error(m, len);
        fr_mem_free(m, obj, size);
        return e;
    }
    memcpy(copy, der, len);
    fr_err e = parse(obj, copy, len);
    if (e != FR_OK) {
        release(m, obj);
        return e;
    }
    *out = obj;
    return FR_OK;
}
