/*
 * nc.c - name constraints (RFC 5280 §4.2.1.10, §6.1.3 (b), (c)).
 *
 * The constraints of a CA certificate apply to the names of every later
 * certificate of the path (the caller skips self-issued intermediates, RFC
 * 5280 §6.1.3 (b)).  The names of a certificate are:
 *   - its subject DN (directoryName), when not empty;
 *   - the emailAddress attributes of its subject (rfc822Name);
 *   - every subjectAltName entry;
 *   - for the leaf only, each subject CN as ferrule interprets it
 *     (check_cn): an IP-looking CN is an iPAddress when the leaf has no
 *     iPAddress SAN, a DNS-looking CN a dNSName when it has no dNSName SAN
 *     -- the names a CN fallback might accept must not escape the
 *     constraints (Go and Chrome constrain host-name CNs too); any other CN
 *     is not a name.
 * Forms processed: dNSName, iPAddress (v4 and v6, address + mask),
 * rfc822Name, directoryName.  For any other form (otherName, URI, x400,
 * ediParty, registeredID) a constraint is fatal only when a name of that
 * form actually appears (RFC 5280: "process the constraint or reject").
 *
 * Stricter than RFC 5280, like webpki / pyca: a malformed constraint
 * (wildcard or leading-dot dNSName, non-CIDR mask, bad address length,
 * invalid mailbox) rejects, and so does a malformed name of a constrained
 * form.  A wildcard dNSName SAN "*.base" (the wildcard rule of
 * fr_dns_name_check, shared with host name matching: base has at least two
 * labels) stands for every one-label extension of base: it is permitted
 * only when base is, and excluded when any name it can match is
 * (CVE-2025-61727).  Any other name with a '*' ("*", "*.com", "*.*") is a
 * malformed dNSName.
 *
 * Work bound: every name/constraint comparison costs one unit of *budget
 * (FR_NC_BUDGET per verification); FERRULE_R_CERT_TOO_MUCH_WORK at zero.
 */
#include "der.h"
#include "x509.h"

#define NCERR FERRULE_R_CERT_NAME_CONSTRAINTS

enum {
    F_OTHER = 0,
    F_EMAIL = 1,
    F_DNS = 2,
    F_X400 = 3,
    F_DIR = 4,
    F_EDI = 5,
    F_URI = 6,
    F_IP = 7,
    F_RID = 8
};

#define SUPPORTED ((1u << F_EMAIL) | (1u << F_DNS) | (1u << F_DIR) | (1u << F_IP))

static uint8_t lower(uint8_t ch) { return (ch >= 'A' && ch <= 'Z') ? (uint8_t)(ch + 32) : ch; }
static int eq_nocase(const uint8_t *a, const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i]))
            return 0;
    return 1;
}

static int dns_ok(const uint8_t *p, size_t n, int allow_wild, int *wild) {
    return fr_dns_name_check(p, n, allow_wild, wild) > 0;
}

/* A mailbox "local@domain": exactly one '@', a non-empty local part of
 * printable ASCII, a valid domain. */
static int mailbox_ok(const uint8_t *p, size_t n, size_t *at) {
    const uint8_t *a = memchr(p, '@', n);
    if (a == NULL || a == p)
        return 0;
    *at = (size_t)(a - p);
    if (memchr(a + 1, '@', n - *at - 1) != NULL)
        return 0;
    for (size_t i = 0; i < *at; i++)
        if (p[i] <= 0x20 || p[i] >= 0x7f)
            return 0;
    int w;
    return dns_ok(a + 1, n - *at - 1, 0, &w);
}

/* An rfc822Name constraint: a mailbox, a host, or ".domain". */
static int email_constraint_ok(const uint8_t *p, size_t n) {
    size_t at;
    int w;
    if (n == 0)
        return 0;
    if (memchr(p, '@', n) != NULL)
        return mailbox_ok(p, n, &at);
    if (p[0] == '.')
        return dns_ok(p + 1, n - 1, 0, &w);
    return dns_ok(p, n, 0, &w);
}

/* An iPAddress constraint: address then mask, the mask a CIDR prefix. */
static int ip_constraint_ok(const uint8_t *p, size_t n) {
    if (n != 8 && n != 32)
        return 0;
    const uint8_t *mask = p + n / 2;
    int zeros = 0;
    for (size_t i = 0; i < n / 2; i++) {
        for (int b = 7; b >= 0; b--) {
            int one = (mask[i] >> b) & 1;
            if (one && zeros)
                return 0;
            if (!one)
                zeros = 1;
        }
    }
    return 1;
}

/* Is DNS name p[0..n) (no wildcard) equal to or below base? */
static int dns_within(const uint8_t *p, size_t n, const uint8_t *base, size_t bn) {
    if (n == bn)
        return eq_nocase(p, base, n);
    return n > bn && p[n - bn - 1] == '.' && eq_nocase(p + n - bn, base, bn);
}

static int email_within(const uint8_t *p, size_t n, size_t at, const uint8_t *base, size_t bn) {
    const uint8_t *dom = p + at + 1;
    size_t dn = n - at - 1;
    const uint8_t *bat = memchr(base, '@', bn);
    if (bat != NULL) { /* one mailbox: local part exact, host case-insensitive */
        size_t bl = (size_t)(bat - base);
        return bl == at && memcmp(p, base, at) == 0 && dn == bn - bl - 1 &&
               eq_nocase(dom, bat + 1, dn);
    }
    if (bn > 0 && base[0] == '.') /* any host below the domain */
        return dn > bn && eq_nocase(dom + dn - bn, base, bn);
    return dn == bn && eq_nocase(dom, base, bn); /* every mailbox at the host */
}

static int ip_within(const uint8_t *p, size_t n, const uint8_t *base, size_t bn) {
    if (bn != 2 * n)
        return 0; /* other address family */
    for (size_t i = 0; i < n; i++)
        if ((p[i] & base[n + i]) != (base[i] & base[n + i]))
            return 0;
    return 1;
}

typedef struct ncx {
    fr_reader perm, excl;
    unsigned perm_forms, excl_forms;
    unsigned *budget;
} ncx;

/* Does the name (form, p, n) fall in subtree `base`?  For a wildcard DNS
 * name, `excluded` selects the meaning: "some match is inside" when
 * testing an excluded subtree, "every match is inside" for a permitted
 * one. */
static int within(int form, const uint8_t *p, size_t n, int wild, size_t at, const fr_der_tlv *base,
                  int excluded) {
    const uint8_t *b = base->content.p;
    size_t bn = fr_der_len(base);
    switch (form) {
    case F_DNS:
        if (!wild)
            return dns_within(p, n, b, bn);
        /* "*.rest" (fr_dns_name_check: rest has two labels or more, so
         * n >= 5): rest within base, or (excluded) base = "x.rest". */
        if (dns_within(p + 2, n - 2, b, bn))
            return 1;
        if (!excluded)
            return 0;
        return bn > n - 1 && eq_nocase(b + bn - (n - 1), p + 1, n - 1) &&
               memchr(b, '.', bn - (n - 1)) == NULL;
    case F_IP:
        return ip_within(p, n, b, bn);
    case F_EMAIL:
        return email_within(p, n, at, b, bn);
    case F_DIR: {
        /* directoryName [4] holds the Name TLV. */
        fr_reader r = base->content;
        fr_der_tlv name;
        if (fr_der_read(&r, FR_DER_SEQUENCE, &name) != FR_OK)
            return 0;
        return fr_name_within(p, n, name.tlv, name.tlv_len);
    }
    default:
        return 0;
    }
}

static fr_err charge(ncx *x) {
    FR_ENSURE(*x->budget > 0, FERRULE_R_CERT_TOO_MUCH_WORK);
    (*x->budget)--;
    return FR_OK;
}

static fr_err check_name(ncx *x, int form, const uint8_t *p, size_t n) {
    unsigned bit = 1u << form;
    if (((x->perm_forms | x->excl_forms) & bit) == 0)
        return FR_OK;                  /* unconstrained form */
    FR_ENSURE(SUPPORTED & bit, NCERR); /* constrained, and we cannot process it */
    int wild = 0, ok;
    size_t at = 0;
    switch (form) {
    case F_DNS:
        ok = dns_ok(p, n, 1, &wild);
        break;
    case F_IP:
        ok = n == 4 || n == 16;
        break;
    case F_EMAIL:
        ok = mailbox_ok(p, n, &at);
        break;
    default:
        ok = 1;
        break; /* directoryName: checked by the parser */
    }
    FR_ENSURE(ok, NCERR);
    if (x->excl_forms & bit) {
        fr_reader r = x->excl;
        while (!fr_reader_empty(&r)) {
            fr_der_tlv st, gn;
            FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &st));
            FR_TRY(fr_der_read_any(&st.content, &gn));
            if ((gn.tag & 0x1f) != form)
                continue;
            FR_TRY(charge(x));
            FR_ENSURE(!within(form, p, n, wild, at, &gn, 1), NCERR);
        }
    }
    if (x->perm_forms & bit) {
        fr_reader r = x->perm;
        int found = 0;
        while (!found && !fr_reader_empty(&r)) {
            fr_der_tlv st, gn;
            FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &st));
            FR_TRY(fr_der_read_any(&st.content, &gn));
            if ((gn.tag & 0x1f) != form)
                continue;
            FR_TRY(charge(x));
            found = within(form, p, n, wild, at, &gn, 0);
        }
        FR_ENSURE(found, NCERR);
    }
    return FR_OK;
}

/* Validate one GeneralSubtrees list and collect its forms. */
static fr_err scan_subtrees(ncx *x, fr_reader r, unsigned *forms) {
    while (!fr_reader_empty(&r)) {
        fr_der_tlv st, gn;
        FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &st));
        FR_TRY(fr_der_read_any(&st.content, &gn));
        FR_TRY(charge(x));
        unsigned form = gn.tag & 0x1fu;
        const uint8_t *p = gn.content.p;
        size_t n = fr_der_len(&gn);
        int w;
        switch (form) {
        case F_DNS:
            FR_ENSURE(dns_ok(p, n, 0, &w), NCERR);
            break;
        case F_IP:
            FR_ENSURE(ip_constraint_ok(p, n), NCERR);
            break;
        case F_EMAIL:
            FR_ENSURE(email_constraint_ok(p, n), NCERR);
            break;
        default:
            break;
        }
        *forms |= 1u << form;
    }
    return FR_OK;
}

static const uint8_t OID_CN[] = {0x55, 0x04, 0x03};
static const uint8_t OID_EMAIL[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01};

/* Could a host-name matcher take the CN text for a DNS name?  Only
 * letters, digits, '-', '.', '_' and '*': anything else (spaces, other
 * punctuation, non-ASCII) makes it plain text such as "Leaf Person". */
static int dns_looking(const uint8_t *p, size_t n) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '-' || ch == '.' || ch == '_' || ch == '*';
        if (!ok) return 0;
    }
    return 1;
}

/* A leaf's subject CN as a name, interpreted as ferrule interprets a CN
 * (fr_cn_ip first): an iPAddress when it looks like an IP address (when
 * cn_ip: the leaf has no iPAddress SAN), else a dNSName when it looks
 * like a host name (when cn_dns: no dNSName SAN) -- a malformed one, such
 * as "*" or "a..b", is then refused under a dNSName constraint like a
 * malformed SAN would be -- else not a name at all.  So the names a CN
 * fallback elsewhere might accept cannot escape the constraints, and
 * "CN=127.0.0.1" is never held against a dNSName subtree. */
static fr_err check_cn(ncx *x, const uint8_t *p, size_t n, int cn_dns, int cn_ip) {
    uint8_t ip[16];
    size_t ipn = fr_cn_ip(p, n, ip);
    if (ipn != 0) return cn_ip ? check_name(x, F_IP, ip, ipn) : FR_OK;
    if (cn_dns && dns_looking(p, n)) return check_name(x, F_DNS, p, n);
    return FR_OK;
}

/* Subject attributes that carry names: emailAddress (always) and, for a
 * leaf, commonName (check_cn). */
static fr_err check_subject_attrs(ncx *x, const fr_cert *c, int cn_dns, int cn_ip) {
    fr_reader r = fr_reader_init(c->subject, c->subject_len);
    fr_der_tlv name;
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &name));
    while (!fr_reader_empty(&name.content)) {
        fr_der_tlv rdn;
        FR_TRY(fr_der_read(&name.content, FR_DER_SET, &rdn));
        while (!fr_reader_empty(&rdn.content)) {
            fr_der_tlv atv, oid, val;
            FR_TRY(fr_der_read(&rdn.content, FR_DER_SEQUENCE, &atv));
            FR_TRY(fr_der_read_oid(&atv.content, &oid));
            FR_TRY(fr_der_read_any(&atv.content, &val));
            const uint8_t *p = val.content.p;
            size_t n = fr_der_len(&val);
            if (FR_DER_OID_IS(&oid, OID_EMAIL)) {
                FR_TRY(check_name(x, F_EMAIL, p, n));
            } else if (FR_DER_OID_IS(&oid, OID_CN) &&
                       (val.tag == FR_DER_PRINTABLESTRING || val.tag == FR_DER_UTF8STRING ||
                        val.tag == FR_DER_IA5STRING)) {
                FR_TRY(check_cn(x, p, n, cn_dns, cn_ip));
            }
        }
    }
    return FR_OK;
}

fr_err fr_nc_check(const fr_cert *ca, const fr_cert *c, int is_leaf, unsigned *budget) {
    if (ca->nc == NULL)
        return FR_OK;
    ncx x;
    memset(&x, 0, sizeof(x));
    x.budget = budget;
    fr_reader r = fr_reader_init(ca->nc, ca->nc_len);
    fr_der_tlv seq, t;
    int present;
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_read_optional(&seq.content, FR_DER_CTX_CONS(0), &t, &present));
    if (present) {
        x.perm = t.content;
        FR_TRY(scan_subtrees(&x, x.perm, &x.perm_forms));
    }
    FR_TRY(fr_der_read_optional(&seq.content, FR_DER_CTX_CONS(1), &t, &present));
    if (present) {
        x.excl = t.content;
        FR_TRY(scan_subtrees(&x, x.excl, &x.excl_forms));
    }

    /* Subject DN, unless empty (an empty SEQUENCE is 2 octets). */
    if (c->subject_len > 2)
        FR_TRY(check_name(&x, F_DIR, c->subject, c->subject_len));
    int san_dns = 0, san_ip = 0;
    if (c->san != NULL) {
        fr_reader sr = fr_reader_init(c->san, c->san_len);
        fr_der_tlv names;
        FR_TRY(fr_der_read(&sr, FR_DER_SEQUENCE, &names));
        while (!fr_reader_empty(&names.content)) {
            fr_der_tlv gn;
            FR_TRY(fr_der_read_any(&names.content, &gn));
            int form = gn.tag & 0x1f;
            if (form == F_DNS)
                san_dns = 1;
            if (form == F_IP)
                san_ip = 1;
            if (form == F_DIR) {
                fr_reader dr = gn.content;
                fr_der_tlv dn;
                FR_TRY(fr_der_read(&dr, FR_DER_SEQUENCE, &dn));
                FR_TRY(check_name(&x, F_DIR, dn.tlv, dn.tlv_len));
            } else {
                FR_TRY(check_name(&x, form, gn.content.p, fr_der_len(&gn)));
            }
        }
    }
    return check_subject_attrs(&x, c, is_leaf && !san_dns, is_leaf && !san_ip);
}

/* The constraint matching of fr_nc_check on one name, without certificates:
 * for fuzz/fuzz_names.c, so that a fuzzer reaches it directly (behind path
 * building it sits after signature checks). */
fr_err fr_nc_check_one(const uint8_t *perm, size_t perm_len, const uint8_t *excl, size_t excl_len,
                       int form, const uint8_t *name, size_t n, unsigned *budget) {
    ncx x;
    memset(&x, 0, sizeof(x));
    x.budget = budget;
    if (perm != NULL) {
        x.perm = fr_reader_init(perm, perm_len);
        FR_TRY(scan_subtrees(&x, x.perm, &x.perm_forms));
    }
    if (excl != NULL) {
        x.excl = fr_reader_init(excl, excl_len);
        FR_TRY(scan_subtrees(&x, x.excl, &x.excl_forms));
    }
    FR_ENSURE(form >= 0 && form <= F_RID, FERRULE_R_CERT_MALFORMED);
    return check_name(&x, form, name, n);
}
