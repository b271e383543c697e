/*
 * hostname.c - RFC 6125 service identity check against subjectAltName.
 *
 * - An IPv4/IPv6 literal (fr_ip_parse, strict) matches only iPAddress entries of the
 *   same length (RFC 6125 §6.2.1 refers to RFC 5280 §4.2.1.6 octets).
 * - Otherwise a DNS name: ASCII case-insensitive comparison with dNSName
 *   entries (RFC 6125 §6.4.1); a trailing dot on the reference is ignored.
 *   Labels are LDH (letters, digits, hyphen; RFC 5890 §2.3.1): an
 *   underscore or any other octet makes an entry (or the reference) invalid,
 *   and an invalid entry never matches.
 * - Wildcards (RFC 6125 §6.4.3, tightened like the CA/B Forum rules): only
 *   "*" as the entire left-most label, matching exactly one non-empty label,
 *   and never directly above a public suffix: "*.com" (one label after the
 *   wildcard) never matches, nor does "*.co.uk" or "*.s3.amazonaws.com"
 *   (a built-in list of common multi-label public suffixes, see
 *   PUBLIC_SUFFIXES; no full Public Suffix List is available offline).
 *   Partial wildcards ("f*.example.com") and wildcards elsewhere are
 *   refused, which also makes such entries invalid.
 * - No fallback to the subject CN, even without a SAN extension (RFC 6125
 *   §6.4.4 permits the fallback; modern CAs always issue SANs and the
 *   fallback is a known source of mis-validation).
 */
#include "der.h"
#include "x509.h"

#define MAX_DNS_NAME 253
#define MAX_LABEL 63

/* Multi-label public suffixes (ICANN section of the Public Suffix List,
 * the most used second-level registries, and a few private-section
 * suffixes where any subdomain belongs to a different customer).  A
 * wildcard directly above one of these never matches. */
static const char *const PUBLIC_SUFFIXES[] = {
    "co.uk", "org.uk", "ac.uk", "gov.uk", "ltd.uk", "plc.uk", "me.uk", "net.uk", "sch.uk",
    "nhs.uk", "com.au", "net.au", "org.au", "edu.au", "gov.au", "asn.au", "id.au", "co.jp",
    "ne.jp", "or.jp", "ac.jp", "go.jp", "ad.jp", "ed.jp", "gr.jp", "lg.jp", "co.nz", "net.nz",
    "org.nz", "govt.nz", "ac.nz", "com.br", "net.br", "org.br", "gov.br", "com.cn", "net.cn",
    "org.cn", "gov.cn", "edu.cn", "co.in", "net.in", "org.in", "gov.in", "ac.in", "co.za",
    "org.za", "gov.za", "com.mx", "com.ar", "com.tr", "com.tw", "com.hk", "com.sg", "com.my",
    "co.kr", "or.kr", "co.il", "co.id", "com.ua", "com.pl", "co.th", "com.es", "com.cy",
    "co.at", "or.at", "com.ru", "com.co", "com.pe", "com.ve", "com.ph", "com.pk", "com.vn",
    "com.eg", "com.sa", "com.ng",
    /* private section */
    "s3.amazonaws.com", "elasticbeanstalk.com", "cloudfront.net", "herokuapp.com",
    "herokussl.com", "github.io", "githubusercontent.com", "gitlab.io", "appspot.com",
    "blogspot.com", "azurewebsites.net", "cloudapp.net", "trafficmanager.net",
    "firebaseapp.com", "web.app", "netlify.app", "vercel.app", "pages.dev", "workers.dev",
    "fly.dev", "ngrok.io", "readthedocs.io", "dyndns.org", "no-ip.org", "duckdns.org",
};

static int ldh(uint8_t ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-';
}

static uint8_t lower(uint8_t ch) { return (ch >= 'A' && ch <= 'Z') ? (uint8_t)(ch + 32) : ch; }

static int eq_nocase(const uint8_t *a, const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i])) return 0;
    return 1;
}

/* Labels of a host name without wildcard: LDH labels of 1..63 octets, no
 * hyphen at either end, no empty label; 0 when invalid. */
static size_t host_labels(const uint8_t *p, size_t n) {
    if (n == 0 || n > MAX_DNS_NAME) return 0;
    size_t labels = 0, i = 0;
    while (i <= n) {
        size_t start = i;
        while (i < n && p[i] != '.') i++;
        size_t len = i - start;
        if (len == 0 || len > MAX_LABEL) return 0; /* empty label, e.g. "a..b" or "a." */
        for (size_t k = start; k < i; k++)
            if (!ldh(p[k])) return 0; /* '*', '_', NUL, spaces, non-ASCII... */
        /* RFC 5890 §2.3.1 / RFC 952: no hyphen at either end. */
        if (p[start] == '-' || p[i - 1] == '-') return 0;
        labels++;
        i++; /* skip the dot (or step past the end) */
    }
    return labels;
}

/* The one wildcard rule, for host name matching and name constraints
 * alike (RFC 6125 §6.4.3, tightened like CA/B BR 3.2.2.6): "*" is the
 * whole left-most label, followed by a dot and a valid host name of at
 * least two labels.  So "*.example.com" is a wildcard name, and "*", "*.",
 * "*.*", "*.com", "**.example.com", "f*.example.com", "a.*.example.com"
 * are not (nor valid host names: '*' is not an LDH octet). */
size_t fr_dns_name_check(const uint8_t *p, size_t n, int allow_wild, int *wild) {
    *wild = 0;
    if (n > MAX_DNS_NAME) return 0;
    if (allow_wild && n >= 2 && p[0] == '*' && p[1] == '.') {
        size_t rest = host_labels(p + 2, n - 2);
        if (rest < 2) return 0;
        *wild = 1;
        return rest + 1;
    }
    return host_labels(p, n);
}

/* Is p[0..n) (no wildcard) one of PUBLIC_SUFFIXES? */
static int public_suffix(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < sizeof(PUBLIC_SUFFIXES) / sizeof(PUBLIC_SUFFIXES[0]); i++) {
        size_t k = strlen(PUBLIC_SUFFIXES[i]);
        if (k == n && eq_nocase(p, (const uint8_t *)PUBLIC_SUFFIXES[i], n)) return 1;
    }
    return 0;
}

static int dns_matches(const uint8_t *pat, size_t pat_len, const uint8_t *ref, size_t ref_len) {
    int wild, ref_wild;
    size_t pat_labels = fr_dns_name_check(pat, pat_len, 1, &wild);
    if (pat_labels == 0) return 0; /* not a valid dNSName: never matches */
    if (fr_dns_name_check(ref, ref_len, 0, &ref_wild) == 0) return 0;
    if (!wild) return pat_len == ref_len && eq_nocase(pat, ref, ref_len);
    /* A wildcard name ("*." and at least two labels, fr_dns_name_check),
     * not directly above a known public suffix. */
    if (public_suffix(pat + 2, pat_len - 2)) return 0;
    const uint8_t *dot = memchr(ref, '.', ref_len);
    if (dot == NULL || dot == ref) return 0;
    size_t first = (size_t)(dot - ref); /* the one label the wildcard covers */
    size_t rest = ref_len - first;      /* ".example.com" */
    return rest == pat_len - 1 && eq_nocase(pat + 1, dot, rest);
}

int fr_san_matches_name(const uint8_t *san, size_t san_len, const char *name) {
    if (san == NULL || name == NULL) return 0;
    uint8_t ip[16];
    size_t ref_len = strlen(name);
    size_t ip_len = fr_ip_parse(name, ref_len, ip);
    const uint8_t *ref = (const uint8_t *)name;
    if (ip_len == 0 && ref_len > 0 && ref[ref_len - 1] == '.') ref_len--; /* absolute name */

    fr_reader r = fr_reader_init(san, san_len);
    fr_der_tlv seq;
    if (fr_der_read(&r, FR_DER_SEQUENCE, &seq) != FR_OK || fr_der_done(&r) != FR_OK) return 0;
    while (!fr_reader_empty(&seq.content)) {
        fr_der_tlv gn;
        if (fr_der_read_any(&seq.content, &gn) != FR_OK) return 0;
        size_t n = fr_der_len(&gn);
        if (ip_len != 0) {
            /* iPAddress [7] OCTET STRING */
            if (gn.tag == FR_DER_CTX_PRIM(7) && n == ip_len && memcmp(gn.content.p, ip, n) == 0)
                return 1;
        } else if (gn.tag == FR_DER_CTX_PRIM(2)) {
            /* dNSName [2] IA5String */
            if (dns_matches(gn.content.p, n, ref, ref_len)) return 1;
        }
    }
    return 0;
}

int fr_cert_matches_name(const fr_cert *leaf, const char *name) {
    if (leaf == NULL || leaf->san == NULL) return 0;
    return fr_san_matches_name(leaf->san, leaf->san_len, name);
}

/* ---- subject CN consistency (CA/B Forum BR 7.1.4.3) -------------------- */

size_t fr_cn_ip(const uint8_t *v, size_t n, uint8_t out[16]) {
    if (n == 0 || n >= 64) return 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] == 0 || v[i] >= 0x80) return 0;
    const char *s = (const char *)v;
    if (fr_ipv4_parse_loose(s, n, out)) return 4;
    if (memchr(v, ':', n) != NULL && fr_ipv6_parse(s, n, out)) return 16;
    return 0;
}

/* Is the CN value v[0..n) consistent with the SAN? (see x509.h) */
static int cn_ok(const fr_cert *c, const uint8_t *v, size_t n) {
    fr_reader r = fr_reader_init(c->san, c->san_len);
    fr_der_tlv seq;
    if (fr_der_read(&r, FR_DER_SEQUENCE, &seq) != FR_OK) return 0;
    uint8_t addr[16];
    const int ip = fr_cn_ip(v, n, addr) != 0;
    int has_dns = 0;
    while (!fr_reader_empty(&seq.content)) {
        fr_der_tlv gn;
        if (fr_der_read_any(&seq.content, &gn) != FR_OK) return 0;
        const uint8_t *p = gn.content.p;
        size_t len = fr_der_len(&gn);
        if (gn.tag == FR_DER_CTX_PRIM(2)) {
            has_dns = 1;
            if (ip) continue;
            if (len == n && memcmp(p, v, n) == 0) return 1;
            /* The CN names a domain the entry lies in ("example.com" over
             * "*.example.com" or "www.example.com"). */
            if (len > n + 1 && p[len - n - 1] == '.' && memcmp(p + len - n, v, n) == 0) return 1;
        } else if (gn.tag == FR_DER_CTX_PRIM(7) && ip) {
            char text[64];
            size_t tl = fr_ip_text(p, len, text, sizeof(text));
            if (tl != 0 && tl == n && memcmp(text, v, n) == 0) return 1;
        }
    }
    /* An IP-looking CN must be the canonical text of an iPAddress entry;
     * a CN beside dNSName entries must be one of them (or their domain);
     * otherwise (SAN without dNSNames) the CN is not a host identity. */
    return !ip && !has_dns;
}

int fr_cert_cn_consistent(const fr_cert *c) {
    static const uint8_t OID_CN[] = {0x55, 0x04, 0x03};
    if (c->san == NULL) return 1;
    fr_reader r = fr_reader_init(c->subject, c->subject_len);
    fr_der_tlv name;
    if (fr_der_read(&r, FR_DER_SEQUENCE, &name) != FR_OK) return 0;
    while (!fr_reader_empty(&name.content)) {
        fr_der_tlv rdn;
        if (fr_der_read(&name.content, FR_DER_SET, &rdn) != FR_OK) return 0;
        while (!fr_reader_empty(&rdn.content)) {
            fr_der_tlv atv, oid, val;
            if (fr_der_read(&rdn.content, FR_DER_SEQUENCE, &atv) != FR_OK ||
                fr_der_read_oid(&atv.content, &oid) != FR_OK ||
                fr_der_read_any(&atv.content, &val) != FR_OK)
                return 0;
            if (!FR_DER_OID_IS(&oid, OID_CN)) continue;
            if (!cn_ok(c, val.content.p, fr_der_len(&val))) return 0;
        }
    }
    return 1;
}
