/*
 * text.c - the few text conversions the core needs, without stdio or the
 * C library's resolver functions (the core links neither; see
 * docs/architecture.md): IP address literals in and out, and numbers as
 * decimal or hexadecimal digits.  Every function is bounded by the lengths
 * it is given, never by a terminating NUL.
 */
#include "common.h"

static int dec_digit(char ch) { return ch >= '0' && ch <= '9' ? ch - '0' : -1; }

static int hex_digit(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* ---- IPv4 ------------------------------------------------------------ */

/* One dec-octet of RFC 3986 §3.2.2 at s[*i]: 1 to 3 digits, 0..255, no
 * leading zero. */
static int dec_octet(const char *s, size_t n, size_t *i, uint8_t *out) {
    size_t start = *i, k = start;
    unsigned v = 0;
    while (k < n && k - start < 4 && dec_digit(s[k]) >= 0) v = v * 10u + (unsigned)dec_digit(s[k++]);
    size_t digits = k - start;
    if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && s[start] == '0')) return 0;
    *out = (uint8_t)v;
    *i = k;
    return 1;
}

int fr_ipv4_parse(const char *s, size_t n, uint8_t out[4]) {
    uint8_t a[4];
    size_t i = 0;
    for (size_t part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || s[i] != '.') return 0;
            i++;
        }
        if (!dec_octet(s, n, &i, &a[part])) return 0;
    }
    if (i != n) return 0;
    memcpy(out, a, 4);
    return 1;
}

/* One number of the inet_aton(3) convention at s[*i]: it starts with a
 * decimal digit; "0x"/"0X" then hex digits, "0" then octal digits, else
 * decimal; at most 2^32-1.  Stops at the first octet that is no digit of
 * its base (the caller decides whether what follows is allowed). */
static int loose_number(const char *s, size_t n, size_t *i, uint64_t *out) {
    size_t k = *i;
    if (k >= n || dec_digit(s[k]) < 0) return 0;
    unsigned base = 10;
    if (s[k] == '0') {
        base = 8;
        if (k + 1 < n && (s[k + 1] == 'x' || s[k + 1] == 'X') && k + 2 < n &&
            hex_digit(s[k + 2]) >= 0) {
            base = 16;
            k += 2;
        }
    }
    uint64_t v = 0;
    for (; k < n; k++) {
        int d = base == 16 ? hex_digit(s[k]) : dec_digit(s[k]);
        if (d < 0 || (unsigned)d >= base) break;
        v = v * base + (unsigned)d;
        if (v > 0xffffffffu) return 0;
    }
    *out = v;
    *i = k;
    return 1;
}

static int is_space(char ch) { return ch == ' ' || (ch >= '\t' && ch <= '\r'); }

int fr_ipv4_parse_loose(const char *s, size_t n, uint8_t out[4]) {
    /* a.b.c.d, a.b.c (c: 16 bits), a.b (b: 24 bits), a (32 bits). */
    static const uint64_t LAST_MAX[4] = {0xffffffffu, 0xffffffu, 0xffffu, 0xffu};
    uint64_t parts[4];
    size_t count = 0, i = 0;
    for (;;) {
        if (!loose_number(s, n, &i, &parts[count])) return 0;
        count++;
        if (i >= n || s[i] != '.') break;
        if (count == 4 || parts[count - 1] > 0xff) return 0;
        i++;
    }
    /* Like inet_aton: the number may be followed by white space and then
     * anything; any other octet makes it no address. */
    if (i < n && !is_space(s[i])) return 0;
    uint64_t last = parts[count - 1];
    if (last > LAST_MAX[count - 1]) return 0;
    uint32_t v = (uint32_t)last;
    for (size_t k = 0; k + 1 < count; k++) v |= (uint32_t)parts[k] << (24 - 8 * k);
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
    return 1;
}

/* ---- IPv6 ------------------------------------------------------------ */

/* The pieces of RFC 4291 §2.2 text into a[0..*len): groups of 1 to 4 hex
 * digits separated by ':', one "::" (its byte offset into *gap), and a
 * dotted quad (form 3) as the last 32 bits. */
static int v6_pieces(const char *s, size_t n, uint8_t a[16], size_t *len, size_t *gap) {
    size_t i = 0;
    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        *gap = 0;
        i = 2;
        if (i == n) return 1;
    }
    for (;;) {
        size_t start = i;
        unsigned v = 0;
        while (i < n && i - start < 5 && hex_digit(s[i]) >= 0) v = v << 4 | (unsigned)hex_digit(s[i++]);
        if (i == start) return 0; /* empty group: a lone ':' at either end, or ":::" */
        if (i < n && s[i] == '.') {
            if (*len + 4 > 16 || !fr_ipv4_parse(s + start, n - start, a + *len)) return 0;
            *len += 4;
            return 1;
        }
        if (i - start > 4 || *len + 2 > 16) return 0;
        a[(*len)++] = (uint8_t)(v >> 8);
        a[(*len)++] = (uint8_t)v;
        if (i == n) return 1;
        if (s[i++] != ':' || i == n) return 0;
        if (s[i] == ':') {
            if (*gap != SIZE_MAX) return 0; /* a second "::" */
            *gap = *len;
            if (++i == n) return 1;
        }
    }
}

int fr_ipv6_parse(const char *s, size_t n, uint8_t out[16]) {
    uint8_t a[16] = {0};
    size_t len = 0, gap = SIZE_MAX;
    if (!v6_pieces(s, n, a, &len, &gap)) return 0;
    if (gap == SIZE_MAX) {
        if (len != 16) return 0;
    } else {
        /* "::" stands for at least one group of zeros. */
        if (len == 16) return 0;
        size_t tail = len - gap;
        memmove(a + 16 - tail, a + gap, tail);
        memset(a + gap, 0, 16 - tail - gap);
    }
    memcpy(out, a, 16);
    return 1;
}

size_t fr_ip_parse(const char *s, size_t n, uint8_t out[16]) {
    if (fr_ipv4_parse(s, n, out)) return 4;
    if (fr_ipv6_parse(s, n, out)) return 16;
    return 0;
}

/* ---- numbers and addresses as text ------------------------------------ */

size_t fr_fmt_dec(char *out, size_t cap, uint64_t v) {
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    if (n >= cap) {
        if (cap > 0) out[0] = 0;
        return 0;
    }
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = 0;
    return n;
}

size_t fr_fmt_hex(char *out, size_t cap, uint64_t v, size_t min_digits, int upper) {
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[16];
    size_t n = 0;
    do {
        tmp[n++] = digits[v & 0xf];
        v >>= 4;
    } while (v != 0);
    size_t pad = min_digits > n ? min_digits - n : 0;
    if (pad + n >= cap) {
        if (cap > 0) out[0] = 0;
        return 0;
    }
    memset(out, '0', pad);
    for (size_t i = 0; i < n; i++) out[pad + i] = tmp[n - 1 - i];
    out[pad + n] = 0;
    return pad + n;
}

/* Append: false (and out left unterminated beyond *len) if it does not fit. */
static int put_str(char *out, size_t cap, size_t *len, const char *s, size_t n) {
    if (n >= cap - *len) return 0;
    memcpy(out + *len, s, n);
    *len += n;
    out[*len] = 0;
    return 1;
}

static size_t ipv4_text(const uint8_t ip[4], char *out, size_t cap) {
    size_t len = 0;
    for (size_t i = 0; i < 4; i++) {
        if (i > 0 && !put_str(out, cap, &len, ".", 1)) return 0;
        size_t k = fr_fmt_dec(out + len, cap - len, ip[i]);
        if (k == 0) return 0;
        len += k;
    }
    return len;
}

/* RFC 5952 §4.2.3: the longest run of two or more zero groups, the first
 * on a tie; SIZE_MAX when there is none. */
static size_t v6_zero_run(const unsigned g[8], size_t *run) {
    size_t best = SIZE_MAX;
    *run = 0;
    for (size_t i = 0; i < 8;) {
        size_t j = i;
        while (j < 8 && g[j] == 0) j++;
        if (j - i >= 2 && j - i > *run) {
            best = i;
            *run = j - i;
        }
        i = j > i ? j : i + 1;
    }
    return best;
}

static size_t ipv6_text(const uint8_t ip[16], char *out, size_t cap) {
    unsigned g[8];
    for (size_t i = 0; i < 8; i++) g[i] = (unsigned)ip[2 * i] << 8 | ip[2 * i + 1];
    size_t run, best = v6_zero_run(g, &run), len = 0;
    for (size_t i = 0; i < 8; i++) {
        if (i == best) {
            if (!put_str(out, cap, &len, "::", 2)) return 0;
            i += run - 1;
            continue;
        }
        if (i > 0 && i != best + run && !put_str(out, cap, &len, ":", 1)) return 0;
        size_t k = fr_fmt_hex(out + len, cap - len, g[i], 1, 0);
        if (k == 0) return 0;
        len += k;
    }
    return len;
}

size_t fr_ip_text(const uint8_t *ip, size_t n, char *out, size_t cap) {
    size_t len = n == 4 ? ipv4_text(ip, out, cap) : n == 16 ? ipv6_text(ip, out, cap) : 0;
    if (len == 0 && cap > 0) out[0] = 0; /* no partial text */
    return len;
}
