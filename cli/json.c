/*
 * json.c - JSON string output and a tiny DER walker that renders the
 * subject of a certificate for the "peer_chain" field.
 *
 * The ABI hands the peer chain out as DER only, and the CLI must not link
 * libcrypto, so the subject is extracted here.  The walker reads only what
 * it needs (tbsCertificate up to the subject), checks every length against
 * what remains before moving, and gives up (the caller prints "?") on
 * anything it does not expect.
 */
#include "cli.h"

#include <string.h>

/* ---- JSON ---------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s (RFC 3629 §4), 0 if none. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    size_t need;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (n < need) return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (need == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
    if (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
    return need;
}

void cli_json_strn(FILE *f, const char *s, size_t len)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    const uint8_t *p = (const uint8_t *)s;
    fputc('"', f);
    size_t i = 0;
    while (i < len) {
        uint8_t c = p[i];
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
            i++;
        } else if (c == '\n') {
            fputs("\\n", f);
            i++;
        } else if (c == '\r') {
            fputs("\\r", f);
            i++;
        } else if (c == '\t') {
            fputs("\\t", f);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", (unsigned)c);
            i++;
        } else {
            size_t n = utf8_len(p + i, len - i);
            if (n == 0) {
                /* Not UTF-8: show the byte as the Latin-1 code point. */
                fprintf(f, "\\u%04x", (unsigned)c);
                i++;
            } else {
                fwrite(p + i, 1, n, f);
                i += n;
            }
        }
    }
    fputc('"', f);
}

void cli_json_str(FILE *f, const char *s)
{
    cli_json_strn(f, s, s ? strlen(s) : 0);
}

/* ---- DER ----------------------------------------------------------------- */

/* A view of unread bytes.  Invariant: `p` points at `n` readable bytes. */
typedef struct der {
    const uint8_t *p;
    size_t n;
} der;

/* Read one TLV (X.690 §8.1) from `d` into (*tag, *body) and advance `d`.
 * Low tag numbers and definite lengths of at most 4 octets only; DER's
 * minimal length encoding is required. */
static int der_next(der *d, uint8_t *tag, der *body)
{
    if (d->n < 2) return -1;
    uint8_t t = d->p[0];
    if ((t & 0x1F) == 0x1F) return -1; /* high tag number form */
    size_t hdr = 2;
    size_t len = d->p[1];
    if (len >= 0x80) {
        size_t nb = len & 0x7F;
        if (nb == 0 || nb > 4) return -1; /* indefinite or absurd */
        if (d->n - 2 < nb) return -1;
        len = 0;
        for (size_t i = 0; i < nb; i++) len = (len << 8) | d->p[2 + i];
        if (len < 0x80 || d->p[2] == 0) return -1; /* not minimal */
        hdr = 2 + nb;
    }
    if (len > d->n - hdr) return -1;
    *tag = t;
    body->p = d->p + hdr;
    body->n = len;
    d->p += hdr + len;
    d->n -= hdr + len;
    return 0;
}

static int der_expect(der *d, uint8_t want, der *body)
{
    uint8_t t;
    if (der_next(d, &t, body) != 0 || t != want) return -1;
    return 0;
}

/* Bounded string builder; sets `bad` instead of overflowing. */
typedef struct sb {
    char *p;
    size_t cap, len;
    int bad;
} sb;

static void sb_putc(sb *b, char c)
{
    if (b->len + 1 >= b->cap) {
        b->bad = 1;
        return;
    }
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

static void sb_puts(sb *b, const char *s)
{
    while (*s) sb_putc(b, *s++);
}

static void sb_hex(sb *b, uint8_t c)
{
    static const char hx[] = "0123456789ABCDEF";
    sb_putc(b, '\\');
    sb_putc(b, hx[c >> 4]);
    sb_putc(b, hx[c & 15]);
}

/* One UTF-8 byte of an attribute value with RFC 4514 §2.4 escaping.
 * `first`/`last` mark the value's ends (leading '#'/' ', trailing ' '). */
static void sb_value_byte(sb *b, uint8_t c, int first, int last)
{
    if (c < 0x20 || c == 0x7f) {
        sb_hex(b, c);
        return;
    }
    if (c == '"' || c == '+' || c == ',' || c == ';' || c == '<' || c == '>' || c == '\\' ||
        (first && (c == '#' || c == ' ')) || (last && c == ' ')) {
        sb_putc(b, '\\');
    }
    sb_putc(b, (char)c);
}

static void sb_codepoint(sb *b, uint32_t cp, int first, int last)
{
    if (cp < 0x80) {
        sb_value_byte(b, (uint8_t)cp, first, last);
    } else if (cp < 0x800) {
        sb_putc(b, (char)(0xC0 | (cp >> 6)));
        sb_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        sb_putc(b, (char)(0xE0 | (cp >> 12)));
        sb_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        sb_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        sb_putc(b, (char)(0xF0 | (cp >> 18)));
        sb_putc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        sb_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        sb_putc(b, (char)(0x80 | (cp & 0x3F)));
    }
}

/* Render a DirectoryString-ish value.  Returns -1 for types we do not
 * render. */
static int render_value(sb *b, uint8_t tag, der v)
{
    switch (tag) {
    case 0x0C: /* UTF8String */
    case 0x13: /* PrintableString */
    case 0x16: /* IA5String */
    case 0x14: /* TeletexString: shown byte for byte */
    case 0x1A: /* VisibleString */
        for (size_t i = 0; i < v.n; i++) sb_value_byte(b, v.p[i], i == 0, i + 1 == v.n);
        return 0;
    case 0x1E: /* BMPString: UCS-2, big endian */
        if (v.n % 2 != 0) return -1;
        for (size_t i = 0; i < v.n; i += 2) {
            uint32_t cp = ((uint32_t)v.p[i] << 8) | v.p[i + 1];
            if (cp >= 0xD800 && cp <= 0xDFFF) return -1;
            sb_codepoint(b, cp, i == 0, i + 2 == v.n);
        }
        return 0;
    case 0x1C: /* UniversalString: UCS-4, big endian */
        if (v.n % 4 != 0) return -1;
        for (size_t i = 0; i < v.n; i += 4) {
            uint32_t cp = ((uint32_t)v.p[i] << 24) | ((uint32_t)v.p[i + 1] << 16) |
                          ((uint32_t)v.p[i + 2] << 8) | v.p[i + 3];
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
            sb_codepoint(b, cp, i == 0, i + 4 == v.n);
        }
        return 0;
    default:
        return -1;
    }
}

/* Short names of X.520 attributes under id-at (2.5.4). */
static const char *attr_short_name(der oid)
{
    if (oid.n != 3 || oid.p[0] != 0x55 || oid.p[1] != 0x04) return NULL;
    switch (oid.p[2]) {
    case 3: return "CN";
    case 6: return "C";
    case 7: return "L";
    case 8: return "ST";
    case 10: return "O";
    case 11: return "OU";
    default: return NULL;
    }
}

/* Dotted-decimal OID (X.690 §8.19) for attributes without a short name. */
static int render_oid(sb *b, der oid)
{
    if (oid.n == 0) return -1;
    int first = 1;
    uint32_t v = 0;
    size_t digits = 0;
    for (size_t i = 0; i < oid.n; i++) {
        uint8_t c = oid.p[i];
        if (digits == 0 && c == 0x80) return -1; /* non-minimal */
        if (v > (UINT32_MAX >> 7)) return -1;
        v = (v << 7) | (c & 0x7Fu);
        digits++;
        if (c & 0x80) continue;
        char tmp[24];
        if (first) {
            uint32_t a = v < 40 ? 0 : v < 80 ? 1 : 2;
            snprintf(tmp, sizeof tmp, "%u.%u", (unsigned)a, (unsigned)(v - a * 40));
            first = 0;
        } else {
            snprintf(tmp, sizeof tmp, ".%u", (unsigned)v);
        }
        sb_puts(b, tmp);
        v = 0;
        digits = 0;
    }
    return digits == 0 ? 0 : -1; /* the last arc must be complete */
}

/* Render one RelativeDistinguishedName (a SET of AttributeTypeAndValue). */
static int render_rdn(sb *b, der set)
{
    int first = 1;
    while (set.n > 0) {
        der atv, oid, val;
        uint8_t vtag;
        if (der_expect(&set, 0x30, &atv) != 0) return -1;
        if (der_expect(&atv, 0x06, &oid) != 0) return -1;
        if (der_next(&atv, &vtag, &val) != 0 || atv.n != 0) return -1;
        if (!first) sb_putc(b, '+');
        first = 0;
        const char *nm = attr_short_name(oid);
        if (nm)
            sb_puts(b, nm);
        else if (render_oid(b, oid) != 0)
            return -1;
        sb_putc(b, '=');
        if (render_value(b, vtag, val) != 0) return -1;
    }
    return first ? -1 : 0; /* an RDN has at least one attribute */
}

#define MAX_RDNS 64

int cli_cert_subject(const uint8_t *cert, size_t len, char *out, size_t cap)
{
    if (!cert || !out || cap == 0) return -1;
    out[0] = '\0';
    /* Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, sig }
     * TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber,
     *     signature, issuer, validity, subject, ... }   (RFC 5280 §4.1) */
    der all = {cert, len}, c, tbs, skip, subject;
    uint8_t tag;
    if (der_expect(&all, 0x30, &c) != 0 || all.n != 0) return -1;
    if (der_expect(&c, 0x30, &tbs) != 0) return -1;
    if (der_next(&tbs, &tag, &skip) != 0) return -1;
    if (tag == 0xA0 && der_next(&tbs, &tag, &skip) != 0) return -1; /* version */
    if (tag != 0x02) return -1;                                       /* serialNumber */
    if (der_expect(&tbs, 0x30, &skip) != 0) return -1;                /* signature */
    if (der_expect(&tbs, 0x30, &skip) != 0) return -1;                /* issuer */
    if (der_expect(&tbs, 0x30, &skip) != 0) return -1;                /* validity */
    if (der_expect(&tbs, 0x30, &subject) != 0) return -1;             /* subject */

    /* RFC 4514 §2.1 writes the RDNs last-to-first, so collect them. */
    der rdns[MAX_RDNS];
    size_t n = 0;
    while (subject.n > 0) {
        if (n == MAX_RDNS) return -1;
        if (der_expect(&subject, 0x31, &rdns[n]) != 0) return -1;
        n++;
    }
    sb b = {out, cap, 0, 0};
    for (size_t i = n; i > 0; i--) {
        if (i != n) sb_putc(&b, ',');
        if (render_rdn(&b, rdns[i - 1]) != 0) return -1;
    }
    if (b.bad) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

/* {"status":..,"reason":..,"message":..,"alert":{"name","code","direction"}|null} */
void cli_json_error(FILE *f, const cli_error *e)
{
    fputs("{\"status\":", f);
    cli_json_str(f, e->status);
    fputs(",\"reason\":", f);
    cli_json_str(f, e->reason);
    fputs(",\"message\":", f);
    cli_json_str(f, e->message);
    fputs(",\"alert\":", f);
    if (e->alert >= 0) {
        fputs("{\"name\":", f);
        cli_json_str(f, ferrule_alert_name((uint8_t)e->alert));
        fprintf(f, ",\"code\":%d,\"direction\":\"%s\"}", e->alert,
                e->alert_received ? "received" : "sent");
    } else {
        fputs("null", f);
    }
    fputc('}', f);
}
