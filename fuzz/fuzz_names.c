/*
 * fuzz_names.c - the name matchers on their own (behind signature checks a
 * path-building fuzzer rarely reaches them): host-name and wildcard
 * matching (core/x509/hostname.c fr_san_matches_name, fr_dns_name_check),
 * IP text parsing (fr_ip_parse, fr_cn_ip), and name constraints
 * (nc.c fr_nc_check_one).
 * Input: byte 0 = mode, then
 *   mode 0 (dNSName):  pattern 0x00 reference  -> a SAN with dNSName pattern
 *                      matched against the reference name;
 *   mode 1 (iPAddress): address bytes 0x00 reference;
 *   mode 2 (constraints): byte 1 = form, then u16 length + permitted
 *                      subtrees content, u16 length + excluded content
 *                      (length 0xffff: absent), the rest = the name.
 * Checks, against a model of the rules in hostname.c's comments: a
 * pattern without '*' matches exactly the same name ignoring ASCII case
 * (and one final dot of the reference); a wildcard match covers exactly one
 * non-empty left-most label; a valid host name always matches itself and
 * its upper-case spelling; an iPAddress matches only the address its text
 * parses to; constraints answer OK, name_constraints, too_much_work or
 * malformed, and a name inside its own permitted dNSName subtree passes.
 */
#include <ctype.h>

#include "fuzz_hs.h"

#include "x509/x509.h"

/* SEQUENCE { [tag] value } as DER (long-form lengths as needed). */
static size_t put_len(uint8_t *o, size_t n) {
    if (n < 128) {
        o[0] = (uint8_t)n;
        return 1;
    }
    /* DER: the shortest form (a 0x82 form for a length below 256 is not
     * DER, and the strict reader rightly refuses it). */
    if (n < 256) {
        o[0] = 0x81;
        o[1] = (uint8_t)n;
        return 2;
    }
    o[0] = 0x82;
    o[1] = (uint8_t)(n >> 8);
    o[2] = (uint8_t)n;
    return 3;
}
static uint8_t *san_of(uint8_t tag, const uint8_t *v, size_t n, size_t *len) {
    uint8_t *o = malloc(n + 8);
    FUZZ_CHECK(o != NULL);
    uint8_t inner[4];
    size_t il = put_len(inner, n);
    size_t k = 0;
    o[k++] = 0x30;
    k += put_len(o + k, 1 + il + n);
    o[k++] = tag;
    memcpy(o + k, inner, il);
    k += il;
    memcpy(o + k, v, n);
    *len = k + n;
    return o;
}

static int eq_nocase(const uint8_t *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (tolower(a[i]) != tolower((unsigned char)b[i])) return 0;
    return 1;
}

static void dns_mode(const uint8_t *pat, size_t pn, const char *ref) {
    if (pn > 4000) return;
    size_t sl;
    uint8_t *san = san_of(0x82, pat, pn, &sl);
    int m = fr_san_matches_name(san, sl, ref);
    free(san);
    size_t rl = strlen(ref);
    uint8_t ip[16];
    int ref_ip = fr_ip_parse(ref, rl, ip) != 0;
    if (!ref_ip && rl > 0 && ref[rl - 1] == '.') rl--;
    if (m) {
        FUZZ_CHECK(!ref_ip);
        int w;
        FUZZ_CHECK(fr_dns_name_check(pat, pn, 1, &w) > 0);
        FUZZ_CHECK(fr_dns_name_check((const uint8_t *)ref, rl, 0, &w) > 0);
        if (memchr(pat, '*', pn) == NULL) {
            FUZZ_CHECK(pn == rl && eq_nocase(pat, ref, rl));
        } else {
            /* "*.rest": ref = label ".rest", label non-empty without a dot. */
            FUZZ_CHECK(pn >= 2 && pat[0] == '*' && pat[1] == '.');
            const char *dot = memchr(ref, '.', rl);
            FUZZ_CHECK(dot != NULL && dot > ref);
            FUZZ_CHECK(rl - (size_t)(dot - ref) == pn - 1 && eq_nocase(pat + 1, dot, pn - 1));
        }
    }
    /* A valid host name matches itself and its upper-case spelling. */
    int w;
    if (!ref_ip && rl > 0 && fr_dns_name_check((const uint8_t *)ref, rl, 0, &w) > 0) {
        uint8_t *up = malloc(rl + 1);
        FUZZ_CHECK(up != NULL);
        for (size_t i = 0; i < rl; i++) up[i] = (uint8_t)toupper((unsigned char)ref[i]);
        san = san_of(0x82, up, rl, &sl);
        FUZZ_CHECK(fr_san_matches_name(san, sl, ref));
        free(san);
        free(up);
    }
}

static void ip_mode(const uint8_t *addr, size_t an, const char *ref) {
    if (an > 64) return;
    size_t sl;
    uint8_t *san = san_of(0x87, addr, an, &sl);
    int m = fr_san_matches_name(san, sl, ref);
    free(san);
    uint8_t ip[16];
    size_t il = fr_ip_parse(ref, strlen(ref), ip);
    FUZZ_CHECK(il == 0 || il == 4 || il == 16);
    if (m) FUZZ_CHECK(il == an && memcmp(ip, addr, an) == 0);
    if (il != 0) {
        /* The parsed address itself always matches. */
        san = san_of(0x87, ip, il, &sl);
        FUZZ_CHECK(fr_san_matches_name(san, sl, ref));
        free(san);
    }
    uint8_t out[16];
    size_t cl = fr_cn_ip((const uint8_t *)ref, strlen(ref), out);
    FUZZ_CHECK(cl == 0 || cl == 4 || cl == 16);
}

static int take(const uint8_t **p, size_t *n, const uint8_t **v, size_t *vl) {
    if (*n < 2) return 0;
    size_t l = (size_t)(*p)[0] << 8 | (*p)[1];
    *p += 2;
    *n -= 2;
    if (l == 0xffff) {
        *v = NULL;
        *vl = 0;
        return 1;
    }
    if (l > *n) return 0;
    *v = *p;
    *vl = l;
    *p += l;
    *n -= l;
    return 1;
}

static void nc_mode(const uint8_t *p, size_t n) {
    if (n < 1) return;
    int form = p[0] % 9;
    p++;
    n--;
    const uint8_t *perm, *excl;
    size_t pl, el;
    if (!take(&p, &n, &perm, &pl) || !take(&p, &n, &excl, &el)) return;
    unsigned budget = FR_NC_BUDGET;
    fr_err e = fr_nc_check_one(perm, pl, excl, el, form, p, n, &budget);
    FUZZ_CHECK(e == FR_OK || e == FERRULE_R_CERT_NAME_CONSTRAINTS ||
               e == FERRULE_R_CERT_TOO_MUCH_WORK || e == FERRULE_R_CERT_MALFORMED);
    FUZZ_CHECK(budget <= FR_NC_BUDGET);
    /* A valid host name is inside its own permitted dNSName subtree. */
    int w;
    if (form == 2 && n > 0 && n < 120 && fr_dns_name_check(p, n, 0, &w) > 0) {
        uint8_t st[128 + 8];
        st[0] = 0x30;
        st[1] = (uint8_t)(n + 2);
        st[2] = 0x82;
        st[3] = (uint8_t)n;
        memcpy(st + 4, p, n);
        budget = FR_NC_BUDGET;
        FUZZ_CHECK(fr_nc_check_one(st, n + 4, NULL, 0, 2, p, n, &budget) == FR_OK);
        budget = FR_NC_BUDGET;
        FUZZ_CHECK(fr_nc_check_one(NULL, 0, st, n + 4, 2, p, n, &budget) ==
                   FERRULE_R_CERT_NAME_CONSTRAINTS);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    int mode = data[0] % 3;
    if (mode == 2) {
        nc_mode(p, n);
        return 0;
    }
    const uint8_t *z = memchr(p, 0, n);
    if (z == NULL) return 0;
    size_t pn = (size_t)(z - p);
    size_t rn = n - pn - 1;
    if (rn > 1024) return 0;
    char *ref = malloc(rn + 1);
    FUZZ_CHECK(ref != NULL);
    memcpy(ref, z + 1, rn);
    ref[rn] = 0; /* (a NUL inside cuts the reference: it is a C string) */
    if (mode == 0)
        dns_mode(p, pn, ref);
    else
        ip_mode(p, pn, ref);
    free(ref);
    return 0;
}
