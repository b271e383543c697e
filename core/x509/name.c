/*
 * name.c - distinguished names: the comparison used to chain certificates
 * and a one-line display string.
 */
#include <stdio.h>

#include "der.h"
#include "x509.h"

/* RFC 5280 §7.1 lets implementations compare names by their encodings when
 * issuers encode them consistently, which CAs are required to do for the
 * issuer field (RFC 5280 §4.1.2.4).  Issue 3 will implement the RFC 4518
 * string preparation (case-insensitive PrintableString / UTF8String
 * matching) here, in this one function. */
int fr_name_equal(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len) {
    return a_len == b_len && memcmp(a, b, a_len) == 0;
}

/* ---- display string -------------------------------------------------- */

typedef struct sbuf {
    char *out;
    size_t cap, len; /* len < cap, out[len] == 0 */
} sbuf;

static void put(sbuf *s, const char *str, size_t n) {
    for (size_t i = 0; i < n && s->len + 1 < s->cap; i++) s->out[s->len++] = str[i];
    s->out[s->len] = 0;
}
static void puts_(sbuf *s, const char *str) { put(s, str, strlen(str)); }

/* One code point: printable ASCII as is (RFC 4514 §2.4 specials escaped
 * with a backslash), anything else as \xHH or \uHHHH. */
static void put_char(sbuf *s, uint32_t cp) {
    char tmp[16];
    if (cp >= 0x20 && cp < 0x7f) {
        if (strchr(",+\"\\<>;=", (int)cp) != NULL) put(s, "\\", 1);
        tmp[0] = (char)cp;
        put(s, tmp, 1);
    } else if (cp < 0x100) {
        snprintf(tmp, sizeof(tmp), "\\x%02X", (unsigned)cp);
        puts_(s, tmp);
    } else {
        snprintf(tmp, sizeof(tmp), "\\u%04X", (unsigned)(cp & 0xffffffu));
        puts_(s, tmp);
    }
}

static void put_value(sbuf *s, const fr_der_tlv *v) {
    const uint8_t *p = v->content.p;
    size_t n = fr_der_len(v);
    switch (v->tag) {
    case FR_DER_BMPSTRING:
        for (size_t i = 0; i + 1 < n; i += 2) put_char(s, (uint32_t)(p[i] << 8 | p[i + 1]));
        break;
    case FR_DER_UNIVERSALSTRING:
        for (size_t i = 0; i + 3 < n; i += 4)
            put_char(s, (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 |
                            (uint32_t)p[i + 2] << 8 | p[i + 3]);
        break;
    case FR_DER_UTF8STRING:
    case FR_DER_PRINTABLESTRING:
    case FR_DER_T61STRING:
    case FR_DER_IA5STRING:
    case 0x12: /* NumericString */
    case 0x1a: /* VisibleString */
        /* Bytes; non-ASCII UTF-8 shows as \xHH escapes. */
        for (size_t i = 0; i < n; i++) put_char(s, p[i]);
        break;
    default: {
        /* RFC 4514 §2.4: other types as '#' and the hex of the BER. */
        char tmp[4];
        puts_(s, "#");
        for (size_t i = 0; i < v->tlv_len; i++) {
            snprintf(tmp, sizeof(tmp), "%02X", v->tlv[i]);
            puts_(s, tmp);
        }
    }
    }
}

static void put_oid(sbuf *s, const fr_der_tlv *oid) {
    static const struct {
        uint8_t last;
        const char *name;
    } names[] = {{3, "CN"}, {6, "C"}, {7, "L"}, {8, "ST"}, {10, "O"}, {11, "OU"}};
    const uint8_t *p = oid->content.p;
    size_t n = fr_der_len(oid);
    if (n == 3 && p[0] == 0x55 && p[1] == 0x04) { /* 2.5.4.x */
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            if (names[i].last == p[2]) {
                puts_(s, names[i].name);
                return;
            }
        }
    }
    /* Dotted decimal (X.690 §8.19). */
    char tmp[32];
    uint64_t v = 0;
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if (v > (UINT64_MAX >> 7)) {
            puts_(s, "?");
            return;
        }
        v = (v << 7) | (p[i] & 0x7f);
        if (p[i] & 0x80) continue;
        if (first) {
            unsigned arc0 = v < 40 ? 0u : v < 80 ? 1u : 2u;
            snprintf(tmp, sizeof(tmp), "%u.%llu", arc0, (unsigned long long)(v - 40u * arc0));
            first = 0;
        } else {
            snprintf(tmp, sizeof(tmp), ".%llu", (unsigned long long)v);
        }
        puts_(s, tmp);
        v = 0;
    }
}

/* The Name was validated by the parser; still every read is checked. */
static fr_err put_rdn(sbuf *s, fr_reader set) {
    int first = 1;
    while (!fr_reader_empty(&set)) {
        fr_der_tlv atv, oid, val;
        FR_TRY(fr_der_read(&set, FR_DER_SEQUENCE, &atv));
        FR_TRY(fr_der_read_oid(&atv.content, &oid));
        FR_TRY(fr_der_read_any(&atv.content, &val));
        if (!first) puts_(s, "+");
        first = 0;
        put_oid(s, &oid);
        puts_(s, "=");
        put_value(s, &val);
    }
    return FR_OK;
}

void fr_cert_subject_string(const fr_cert *c, char *out, size_t cap) {
    if (out == NULL || cap == 0) return;
    sbuf s = {out, cap, 0};
    out[0] = 0;
    fr_reader r = fr_reader_init(c->subject, c->subject_len);
    fr_der_tlv name;
    if (fr_der_read(&r, FR_DER_SEQUENCE, &name) != FR_OK) return;
    /* RFC 4514 §2.1: RDNs in reverse order of the encoding (so the most
     * specific, usually CN, comes first).  Names are short: the quadratic
     * walk avoids an allocation. */
    size_t count = 0;
    fr_reader it = name.content;
    fr_der_tlv rdn;
    while (fr_der_read(&it, FR_DER_SET, &rdn) == FR_OK) count++;
    for (size_t i = count; i-- > 0;) {
        it = name.content;
        for (size_t j = 0; j <= i; j++)
            if (fr_der_read(&it, FR_DER_SET, &rdn) != FR_OK) return;
        if (i + 1 != count) puts_(&s, ",");
        if (put_rdn(&s, rdn.content) != FR_OK) return;
    }
}
