/*
 * access_text.c - the text forms of the certificate view: storage, dotted
 * OBJECT IDENTIFIERs (X.690 §8.19) and RFC 4514 distinguished names.
 */
#include "access.h"

#define BLOCK_MIN 4096u

/* ---- storage ------------------------------------------------------------- */

void *fr_view_alloc(fr_cert_view *v, size_t n) {
    if (n > SIZE_MAX - FR_VIEW_ALIGN) return NULL;
    n = (n + FR_VIEW_ALIGN - 1) & ~(size_t)(FR_VIEW_ALIGN - 1);
    fr_view_block *b = v->blocks;
    if (b == NULL || b->size - b->used < n) {
        size_t size = n > BLOCK_MIN ? n : BLOCK_MIN;
        if (size > SIZE_MAX - FR_VIEW_HEAD) return NULL;
        b = fr_mem_alloc(&v->mem, FR_VIEW_HEAD + size);
        if (b == NULL) return NULL;
        b->size = size;
        b->next = v->blocks;
        v->blocks = b;
    }
    uint8_t *p = (uint8_t *)b + FR_VIEW_HEAD + b->used;
    b->used += n;
    return p; /* fr_mem_alloc zero-fills */
}

/* ---- dotted OIDs ------------------------------------------------------------ */

/* Append the decimal value of the base-128 number d[0..k) (most
 * significant first; destroyed) to out at *pos. */
static void put_decimal(uint8_t *d, size_t k, char *out, size_t *pos) {
    char rev[3 * 64];
    size_t start = *pos, nd = 0;
    size_t lead = 0;
    do {
        unsigned rem = 0;
        for (size_t i = lead; i < k; i++) {
            unsigned cur = rem * 128u + d[i];
            d[i] = (uint8_t)(cur / 10u);
            rem = cur % 10u;
        }
        while (lead < k && d[lead] == 0) lead++;
        /* Digits come out least significant first: write them reversed
         * in chunks so that any length works. */
        rev[nd++] = (char)('0' + rem);
        if (nd == sizeof(rev)) {
            for (size_t i = 0; i < nd; i++) out[(*pos)++] = rev[i];
            nd = 0;
        }
    } while (lead < k);
    for (size_t i = 0; i < nd; i++) out[(*pos)++] = rev[i];
    for (size_t i = start, j = *pos; i + 1 < j; i++, j--) {
        char t = out[i];
        out[i] = out[j - 1];
        out[j - 1] = t;
    }
}

/* The first subidentifier is 40 * X + Y (X.690 §8.19.4): X is 0 or 1
 * when it is below 80, else 2 (and Y = value - 80, possibly huge). */
static void put_first_arcs(uint8_t *d, size_t k, char *out, size_t *pos) {
    unsigned small = 0;
    int fits = 1;
    for (size_t i = 0; i < k && fits; i++) {
        if (small > 0xffffu) fits = 0;
        small = small * 128u + d[i];
    }
    if (fits && small < 80u) {
        out[(*pos)++] = (char)('0' + small / 40u);
        out[(*pos)++] = '.';
        uint8_t y = (uint8_t)(small % 40u);
        put_decimal(&y, 1, out, pos);
        return;
    }
    /* Subtract 80 in base 128, with borrow. */
    unsigned borrow = 80;
    for (size_t i = k; i-- > 0 && borrow != 0;) {
        unsigned sub = borrow % 128u;
        borrow /= 128u;
        if (d[i] >= sub) {
            d[i] = (uint8_t)(d[i] - sub);
        } else {
            d[i] = (uint8_t)(d[i] + 128u - sub);
            borrow++;
        }
    }
    out[(*pos)++] = '2';
    out[(*pos)++] = '.';
    put_decimal(d, k, out, pos);
}

fr_err fr_view_oid_text(fr_cert_view *v, const uint8_t *p, size_t n, const char **out) {
    FR_ENSURE(fr_der_oid_content_ok(p, n), FERRULE_R_CERT_MALFORMED);
    /* Each 7-bit digit yields at most 3 decimal digits, each arc a dot;
     * the first arc two characters more. */
    FR_ENSURE(n < (SIZE_MAX - 8) / 4, FERRULE_R_OUT_OF_MEMORY);
    char *text = fr_view_alloc(v, 4 * n + 8);
    uint8_t *digits = fr_mem_alloc(&v->mem, n);
    if (text == NULL || digits == NULL) {
        fr_mem_free(&v->mem, digits, n);
        return FERRULE_R_OUT_OF_MEMORY;
    }
    size_t pos = 0, start = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] & 0x80) continue;
        size_t k = i + 1 - start;
        for (size_t j = 0; j < k; j++) digits[j] = p[start + j] & 0x7f;
        if (start == 0) {
            put_first_arcs(digits, k, text, &pos);
        } else {
            text[pos++] = '.';
            put_decimal(digits, k, text, &pos);
        }
        start = i + 1;
    }
    text[pos] = '\0';
    fr_mem_free(&v->mem, digits, n);
    *out = text;
    return FR_OK;
}

/* ---- RFC 4514 strings ---------------------------------------------------------- */

typedef struct sink {
    char *p;
    size_t len;
} sink;

static void put_c(sink *s, char c) { s->p[s->len++] = c; }
static void put_s(sink *s, const char *str) {
    while (*str != '\0') put_c(s, *str++);
}
static void put_hex(sink *s, uint8_t b) {
    static const char HEX[] = "0123456789ABCDEF";
    put_c(s, HEX[b >> 4]);
    put_c(s, HEX[b & 15]);
}
static void put_escaped_byte(sink *s, uint8_t b) {
    put_c(s, '\\');
    put_hex(s, b);
}

/* RFC 4514 §3: the short names a string representation must use. */
static const char *short_name(const char *oid) {
    static const struct {
        const char *oid, *name;
    } NAMES[] = {{"2.5.4.3", "CN"},  {"2.5.4.7", "L"},  {"2.5.4.8", "ST"},
                 {"2.5.4.10", "O"},  {"2.5.4.11", "OU"}, {"2.5.4.6", "C"},
                 {"2.5.4.9", "STREET"}, {"0.9.2342.19200300.100.1.25", "DC"},
                 {"0.9.2342.19200300.100.1.1", "UID"}};
    for (size_t i = 0; i < sizeof(NAMES) / sizeof(NAMES[0]); i++)
        if (strcmp(oid, NAMES[i].oid) == 0) return NAMES[i].name;
    return NULL;
}

/* One character of a value (RFC 4514 §2.4): the specials ,+"\<>; with a
 * backslash, a leading space or '#' too, control characters as \XX; other
 * characters as UTF-8.  The trailing space is fixed up by put_attr. */
static void put_cp(sink *s, uint32_t cp, int first) {
    if ((first && (cp == ' ' || cp == '#')) || (cp < 0x80 && strchr(",+\"\\<>;", (int)cp) != NULL &&
                                                cp != 0)) {
        put_c(s, '\\');
        put_c(s, (char)cp);
    } else if (cp < 0x20 || cp == 0x7f) {
        put_escaped_byte(s, (uint8_t)cp);
    } else if (cp < 0x80) {
        put_c(s, (char)cp);
    } else if (cp < 0x800) {
        put_c(s, (char)(0xc0 | (cp >> 6)));
        put_c(s, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        put_c(s, (char)(0xe0 | (cp >> 12)));
        put_c(s, (char)(0x80 | ((cp >> 6) & 0x3f)));
        put_c(s, (char)(0x80 | (cp & 0x3f)));
    } else {
        put_c(s, (char)(0xf0 | (cp >> 18)));
        put_c(s, (char)(0x80 | ((cp >> 12) & 0x3f)));
        put_c(s, (char)(0x80 | ((cp >> 6) & 0x3f)));
        put_c(s, (char)(0x80 | (cp & 0x3f)));
    }
}

/* Length of the well-formed UTF-8 sequence at p[0..n) (RFC 3629 §4: no
 * overlong forms, no surrogates, at most U+10FFFF) and its code point;
 * 0 if it is not one. */
static size_t utf8_seq(const uint8_t *p, size_t n, uint32_t *cp) {
    uint8_t b = p[0];
    size_t k = b < 0x80 ? 1 : (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3
                           : (b & 0xf8) == 0xf0 ? 4 : 0;
    if (k == 0 || k > n) return 0;
    uint32_t v = k == 1 ? b : (uint32_t)(b & (0x7f >> k));
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        v = (v << 6) | (p[i] & 0x3fu);
    }
    static const uint32_t MIN[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < MIN[k] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return k;
}

/* Can a BMPString / UniversalString be shown as characters?  (UCS-2
 * without surrogates, UCS-4 up to U+10FFFF.) */
static int ucs_ok(const uint8_t *p, size_t n, size_t w) {
    if (n % w != 0) return 0;
    for (size_t i = 0; i < n; i += w) {
        uint32_t cp = 0;
        for (size_t j = 0; j < w; j++) cp = cp << 8 | p[i + j];
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    }
    return 1;
}

/* The characters of a string value.  Bytes that are not characters of the
 * type (non-ASCII in PrintableString / IA5String / NumericString /
 * VisibleString, ill-formed UTF-8 in a UTF8String) are written as \XX
 * escapes of the octets, which RFC 4514 §3 reads back as those octets.
 * Returns 1 when the last thing written is an unescaped space. */
static int put_chars(sink *s, const fr_x509_attr *a) {
    const uint8_t *p = a->value;
    size_t n = a->value_len;
    int first = 1, raw_space = 0;
    for (size_t i = 0; i < n; first = 0) {
        uint32_t cp = p[i];
        size_t k = 1;
        if (a->tag == FR_DER_BMPSTRING) {
            cp = (uint32_t)p[i] << 8 | p[i + 1];
            k = 2;
        } else if (a->tag == FR_DER_UNIVERSALSTRING) {
            cp = (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 | (uint32_t)p[i + 2] << 8 | p[i + 3];
            k = 4;
        } else if (a->tag == FR_DER_UTF8STRING) {
            k = utf8_seq(p + i, n - i, &cp);
        } else if (a->tag != FR_DER_T61STRING && cp >= 0x80) {
            k = 0; /* TeletexString bytes are Latin-1, as OpenSSL reads them */
        }
        raw_space = 0;
        if (k == 0) {
            put_escaped_byte(s, p[i]);
            i++;
            continue;
        }
        raw_space = cp == ' ' && !first;
        put_cp(s, cp, first);
        i += k;
    }
    return raw_space;
}

static int string_tag(uint32_t tag) {
    return tag == FR_DER_UTF8STRING || tag == FR_DER_PRINTABLESTRING || tag == FR_DER_T61STRING ||
           tag == FR_DER_IA5STRING || tag == 0x12 /* NumericString */ ||
           tag == 0x1a /* VisibleString */ || tag == FR_DER_UNIVERSALSTRING ||
           tag == FR_DER_BMPSTRING;
}

/* type=value.  RFC 4514 §2.4: a type without a short name, or a value that
 * is not a string, is written as '#' and the hex of the value's DER. */
static void put_attr(sink *s, const fr_x509_attr *a) {
    const char *name = short_name(a->oid);
    put_s(s, name != NULL ? name : a->oid);
    put_c(s, '=');
    int text = name != NULL && string_tag(a->tag) &&
               (a->tag != FR_DER_BMPSTRING || ucs_ok(a->value, a->value_len, 2)) &&
               (a->tag != FR_DER_UNIVERSALSTRING || ucs_ok(a->value, a->value_len, 4));
    if (!text) {
        put_c(s, '#');
        for (size_t i = 0; i < a->value_der_len; i++) put_hex(s, a->value_der[i]);
        return;
    }
    /* A trailing space must be escaped too (RFC 4514 §2.4). */
    if (put_chars(s, a)) {
        s->p[s->len - 1] = '\\';
        put_c(s, ' ');
    }
}

static size_t attr_bound(const fr_x509_attr *a) {
    size_t v = 3 * a->value_len + 1, h = 2 * a->value_der_len + 1;
    return strlen(a->oid) + 2 + (v > h ? v : h) + 1;
}

fr_err fr_view_name_text(fr_cert_view *v, fr_x509_name *name) {
    size_t bound = 1;
    for (size_t i = 0; i < name->n_attrs; i++) {
        size_t b = attr_bound(&name->attrs[i]);
        FR_ENSURE(bound <= SIZE_MAX - b, FERRULE_R_OUT_OF_MEMORY);
        bound += b;
    }
    sink s = {fr_view_alloc(v, bound), 0};
    FR_ENSURE(s.p != NULL, FERRULE_R_OUT_OF_MEMORY);
    /* RFC 4514 §2.1: the RDNs last to first, separated by ','; the
     * attributes of one RDN in encoding order, separated by '+'. */
    size_t end = name->n_attrs;
    while (end > 0) {
        size_t rdn = name->attrs[end - 1].rdn, begin = end;
        while (begin > 0 && name->attrs[begin - 1].rdn == rdn) begin--;
        if (end != name->n_attrs) put_c(&s, ',');
        for (size_t i = begin; i < end; i++) {
            if (i != begin) put_c(&s, '+');
            put_attr(&s, &name->attrs[i]);
        }
        end = begin;
    }
    s.p[s.len] = '\0';
    name->text = s.p;
    name->text_len = s.len;
    return FR_OK;
}
