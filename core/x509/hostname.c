/*
 * hostname.c - RFC 6125 service identity check against subjectAltName.
 *
 * - An IPv4/IPv6 literal (inet_pton) matches only iPAddress entries of the
 *   same length (RFC 6125 §6.2.1 refers to RFC 5280 §4.2.1.6 octets).
 * - Otherwise a DNS name: ASCII case-insensitive comparison with dNSName
 *   entries (RFC 6125 §6.4.1); a trailing dot on the reference is ignored.
 * - Wildcards (RFC 6125 §6.4.3, tightened like the CA/B Forum rules): only
 *   "*" as the entire left-most label, matching exactly one non-empty label,
 *   and only with at least two labels after it ("*.com" never matches).
 *   Partial wildcards ("f*.example.com") and wildcards elsewhere are
 *   refused, which also makes such entries invalid.
 * - No fallback to the subject CN, even without a SAN extension (RFC 6125
 *   §6.4.4 permits the fallback; modern CAs always issue SANs and the
 *   fallback is a known source of mis-validation).
 */
#include <arpa/inet.h>

#include "der.h"
#include "x509.h"

#define MAX_DNS_NAME 253
#define MAX_LABEL 63

static int ldh(uint8_t ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_';
}

static uint8_t lower(uint8_t ch) { return (ch >= 'A' && ch <= 'Z') ? (uint8_t)(ch + 32) : ch; }

static int eq_nocase(const uint8_t *a, const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i])) return 0;
    return 1;
}

/* Validate a dot-separated name of LDH labels, the first of which may be
 * "*" when allow_wild.  Returns the number of labels, 0 when invalid;
 * *wild reports a leading "*" label. */
static size_t check_dns(const uint8_t *p, size_t n, int allow_wild, int *wild) {
    *wild = 0;
    if (n == 0 || n > MAX_DNS_NAME) return 0;
    size_t labels = 0, i = 0;
    while (i <= n) {
        size_t start = i;
        while (i < n && p[i] != '.') i++;
        size_t len = i - start;
        if (len == 0 || len > MAX_LABEL) return 0; /* empty label, e.g. "a..b" or "a." */
        if (labels == 0 && allow_wild && len == 1 && p[start] == '*') {
            *wild = 1;
        } else {
            for (size_t k = start; k < i; k++)
                if (!ldh(p[k])) return 0; /* '*', NUL, spaces, non-ASCII... */
        }
        labels++;
        i++; /* skip the dot (or step past the end) */
    }
    return labels;
}

static int dns_matches(const uint8_t *pat, size_t pat_len, const uint8_t *ref, size_t ref_len) {
    int wild, ref_wild;
    size_t pat_labels = check_dns(pat, pat_len, 1, &wild);
    if (pat_labels == 0) return 0; /* not a valid dNSName: never matches */
    if (check_dns(ref, ref_len, 0, &ref_wild) == 0) return 0;
    if (!wild) return pat_len == ref_len && eq_nocase(pat, ref, ref_len);
    /* "*." plus at least two labels (RFC 6125 §6.4.3 / CA/B BR 3.2.2.6). */
    if (pat_labels < 3) return 0;
    const uint8_t *dot = memchr(ref, '.', ref_len);
    if (dot == NULL || dot == ref) return 0;
    size_t first = (size_t)(dot - ref); /* the one label the wildcard covers */
    size_t rest = ref_len - first;      /* ".example.com" */
    return rest == pat_len - 1 && eq_nocase(pat + 1, dot, rest);
}

int fr_san_matches_name(const uint8_t *san, size_t san_len, const char *name) {
    if (san == NULL || name == NULL) return 0;
    uint8_t ip[16];
    size_t ip_len = 0;
    if (inet_pton(AF_INET, name, ip) == 1)
        ip_len = 4;
    else if (inet_pton(AF_INET6, name, ip) == 1)
        ip_len = 16;
    size_t ref_len = strlen(name);
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
