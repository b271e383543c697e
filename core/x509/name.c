/*
 * name.c - distinguished names: the comparison used to chain certificates
 * and a one-line display string.
 */

#include "der.h"
#include "x509.h"

/* ---- comparison (RFC 5280 §7.1) --------------------------------------- */

/* Most attributes in one RDN we compare (multi-valued RDNs are rare;
 * the set comparison is quadratic). */
#define MAX_RDN_ATVS 16

static int is_space_ch(uint8_t ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }
static uint8_t fold(uint8_t ch) { return (ch >= 'A' && ch <= 'Z') ? (uint8_t)(ch + 32) : ch; }

/* Strings compared after preparation: PrintableString and UTF8String. */
static int prepared_type(uint8_t tag) {
    return tag == FR_DER_PRINTABLESTRING || tag == FR_DER_UTF8STRING;
}

/* Next prepared character of p[*i..n): leading and trailing spaces are
 * dropped, each inner run of whitespace is one space, ASCII letters fold
 * to lower case (the ASCII subset of RFC 4518 §2.3 / §2.6).  -1 at end. */
static int next_prepared(const uint8_t *p, size_t n, size_t *i) {
    if (*i >= n) return -1;
    if (is_space_ch(p[*i])) {
        size_t j = *i;
        while (j < n && is_space_ch(p[j])) j++;
        if (*i == 0 || j == n) { /* leading or trailing run: dropped */
            *i = j;
            if (j == n) return -1;
        } else {
            *i = j;
            return ' ';
        }
    }
    return fold(p[(*i)++]);
}

static int value_equal(const fr_der_tlv *a, const fr_der_tlv *b) {
    if (prepared_type(a->tag) && prepared_type(b->tag)) {
        const uint8_t *pa = a->content.p, *pb = b->content.p;
        size_t na = fr_der_len(a), nb = fr_der_len(b), ia = 0, ib = 0;
        for (;;) {
            int ca = next_prepared(pa, na, &ia), cb = next_prepared(pb, nb, &ib);
            if (ca != cb) return 0;
            if (ca < 0) return 1;
        }
    }
    return a->tlv_len == b->tlv_len && memcmp(a->tlv, b->tlv, a->tlv_len) == 0;
}

/* One AttributeTypeAndValue: OID and value. */
static int read_atv(fr_reader *set, fr_der_tlv *oid, fr_der_tlv *val) {
    fr_der_tlv atv;
    if (fr_der_read(set, FR_DER_SEQUENCE, &atv) != FR_OK) return 0;
    if (fr_der_read_oid(&atv.content, oid) != FR_OK) return 0;
    if (fr_der_read_any(&atv.content, val) != FR_OK) return 0;
    return fr_der_done(&atv.content) == FR_OK;
}

/* Two RDNs (SET contents) hold the same attributes: same count, and each
 * of a's matches a distinct one of b's. */
static int rdn_equal(fr_reader a, fr_reader b) {
    fr_der_tlv oa[MAX_RDN_ATVS], va[MAX_RDN_ATVS], ob[MAX_RDN_ATVS], vb[MAX_RDN_ATVS];
    size_t na = 0, nb = 0;
    while (!fr_reader_empty(&a)) {
        if (na == MAX_RDN_ATVS || !read_atv(&a, &oa[na], &va[na])) return 0;
        na++;
    }
    while (!fr_reader_empty(&b)) {
        if (nb == MAX_RDN_ATVS || !read_atv(&b, &ob[nb], &vb[nb])) return 0;
        nb++;
    }
    if (na != nb || na == 0) return 0;
    unsigned used = 0;
    for (size_t i = 0; i < na; i++) {
        size_t j;
        for (j = 0; j < nb; j++) {
            if (used & (1u << j)) continue;
            if (fr_der_len(&oa[i]) == fr_der_len(&ob[j]) &&
                memcmp(oa[i].content.p, ob[j].content.p, fr_der_len(&oa[i])) == 0 &&
                value_equal(&va[i], &vb[j]))
                break;
        }
        if (j == nb) return 0;
        used |= 1u << j;
    }
    return 1;
}

/* Compare the RDN sequences of two Name TLVs: all of `base`'s RDNs must
 * match `name`'s first ones; prefix_ok allows `name` to have more. */
static int names_match(const uint8_t *name, size_t name_len, const uint8_t *base,
                       size_t base_len, int prefix_ok) {
    fr_reader rn = fr_reader_init(name, name_len), rb = fr_reader_init(base, base_len);
    fr_der_tlv sn, sb;
    if (fr_der_read(&rn, FR_DER_SEQUENCE, &sn) != FR_OK || fr_der_done(&rn) != FR_OK) return 0;
    if (fr_der_read(&rb, FR_DER_SEQUENCE, &sb) != FR_OK || fr_der_done(&rb) != FR_OK) return 0;
    while (!fr_reader_empty(&sb.content)) {
        fr_der_tlv ra, rb2;
        if (fr_der_read(&sb.content, FR_DER_SET, &rb2) != FR_OK) return 0;
        if (fr_der_read(&sn.content, FR_DER_SET, &ra) != FR_OK) return 0;
        if (!rdn_equal(ra.content, rb2.content)) return 0;
    }
    return prefix_ok || fr_reader_empty(&sn.content);
}

int fr_name_equal(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len) {
    if (a_len == b_len && memcmp(a, b, a_len) == 0) return 1;
    return names_match(a, a_len, b, b_len, 0);
}

int fr_name_within(const uint8_t *name, size_t name_len, const uint8_t *base, size_t base_len) {
    return names_match(name, name_len, base, base_len, 1);
}

/* ---- a hash consistent with the comparison ----------------------------- */

/* FNV-1a (64 bits) over bytes, and a finaliser (splitmix64's) spreading
 * an attribute's hash before the attributes of an RDN are summed. */
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * FNV_PRIME;
    return h;
}

static uint64_t mix(uint64_t x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* One attribute: its OID, then the value as value_equal sees it -- the
 * prepared characters of a PrintableString or UTF8String (the two compare
 * with each other), else the whole TLV. */
static uint64_t atv_hash(const fr_der_tlv *oid, const fr_der_tlv *val) {
    uint64_t h = fnv(FNV_OFFSET, oid->content.p, fr_der_len(oid));
    if (prepared_type(val->tag)) {
        const uint8_t *p = val->content.p;
        size_t n = fr_der_len(val), i = 0;
        h = (h ^ 'p') * FNV_PRIME;
        for (int ch; (ch = next_prepared(p, n, &i)) >= 0;) h = (h ^ (uint8_t)ch) * FNV_PRIME;
    } else {
        h = (h ^ 'x') * FNV_PRIME;
        h = fnv(h, val->tlv, val->tlv_len);
    }
    return mix(h);
}

/* An RDN that rdn_equal can compare: the sum of its attributes' hashes
 * (a set: the order of the attributes does not matter). */
static int rdn_hash(fr_reader set, uint64_t *out) {
    uint64_t sum = 0;
    size_t n = 0;
    while (!fr_reader_empty(&set)) {
        fr_der_tlv oid, val;
        if (n == MAX_RDN_ATVS || !read_atv(&set, &oid, &val)) return 0;
        sum += atv_hash(&oid, &val);
        n++;
    }
    *out = mix(sum + n);
    return n > 0;
}

/* names_match accepts exactly the names this walk reads (a SEQUENCE of
 * SETs of at most MAX_RDN_ATVS attributes, nothing after); any other name
 * is equal only to its own bytes, and hashes as those bytes. */
uint64_t fr_name_hash(const uint8_t *name, size_t len) {
    fr_reader r = fr_reader_init(name, len);
    fr_der_tlv seq;
    uint64_t h = FNV_OFFSET;
    if (fr_der_read(&r, FR_DER_SEQUENCE, &seq) == FR_OK && fr_der_done(&r) == FR_OK) {
        for (;;) {
            fr_der_tlv rdn;
            uint64_t rh;
            if (fr_reader_empty(&seq.content)) return mix(h);
            if (fr_der_read(&seq.content, FR_DER_SET, &rdn) != FR_OK) break;
            if (!rdn_hash(rdn.content, &rh)) break;
            h = mix(h + rh);
        }
    }
    return fnv((FNV_OFFSET ^ 'r') * FNV_PRIME, name, len);
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
    } else {
        /* \xHH below 0x100, else \uHHHH (more digits above 0xffff) */
        int small = cp < 0x100;
        tmp[0] = '\\';
        tmp[1] = small ? 'x' : 'u';
        (void)fr_fmt_hex(tmp + 2, sizeof(tmp) - 2, cp & 0xffffffu, small ? 2 : 4, 1);
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
            (void)fr_fmt_hex(tmp, sizeof(tmp), v->tlv[i], 2, 1);
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
            (void)fr_fmt_dec(tmp, sizeof(tmp), arc0);
            puts_(s, tmp);
            v -= 40u * arc0;
            first = 0;
        }
        puts_(s, ".");
        (void)fr_fmt_dec(tmp, sizeof(tmp), v);
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
