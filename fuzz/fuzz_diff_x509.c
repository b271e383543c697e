/*
 * fuzz_diff_x509.c - differential target: ferrule's certificate parser
 * (fr_cert_parse) against OpenSSL's d2i_X509 on the same bytes.
 *
 * Input: one DER certificate.
 *
 * OpenSSL "accepts" when d2i_X509 decodes the whole input and the
 * extension cache (X509_get_extension_flags) does not mark it invalid.
 * Then:
 *  - both accept: every field both expose must agree (serial, issuer and
 *    subject DER, validity times, SubjectPublicKeyInfo DER and key
 *    algorithm, signature algorithm, basicConstraints cA / pathLen,
 *    keyUsage bits, extKeyUsage purposes, the subjectAltName,
 *    nameConstraints, SKI and AKI keyIdentifier bytes);
 *  - they disagree: the disagreement must fall in one of the named allowed
 *    classes below (each a documented policy of ferrule, docs/x509.md
 *    "Parsing", triaged in docs/fuzzing.md "Differential fuzzing");
 *    anything else aborts.
 * Allowed classes are decided from OpenSSL's view of the input (never from
 * ferrule's), so a ferrule bug cannot explain itself away.
 */
#include "fuzz_common.h"
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <time.h>

#include "x509/x509.h"

/* An unexplained disagreement: report it and abort (the crash libFuzzer
 * and the replay driver see). */
#define DIFF_FAIL(msg)                                                      \
    do {                                                                    \
        fprintf(stderr, "%s:%d: differential failure: %s\n", __FILE__, __LINE__, msg); \
        abort();                                                            \
    } while (0)

/* The allowed classes (ferrule rejects, OpenSSL accepts). */
enum {
    DIFF_NONE = 0,
    DIFF_NOT_DER,        /* re-encoding OpenSSL's decoding differs: input not DER */
    DIFF_EXT_NOT_DER,    /* an extension value ferrule parses is not DER */
    DIFF_VERSION,        /* version not v1..v3, extensions outside v3, unique IDs in v1 */
    DIFF_SIGALG_MISMATCH,/* TBS signature algorithm != outer one */
    DIFF_SERIAL,         /* serial > 20 octets (RFC 5280 §4.1.2.2) */
    DIFF_TIME_FORMAT,    /* time not YYMMDDHHMMSSZ / YYYYMMDDHHMMSSZ, or impossible */
    DIFF_EXT_PROFILE,    /* a known extension violates the docs/x509.md table */
    DIFF_ALGORITHM,      /* OpenSSL's sig-info cache flags an algorithm it does not know */
    DIFF_KEY_DEFERRED,   /* OpenSSL defers decoding the subject key; ferrule decodes it at parse */
    DIFF_NAME_STRING,    /* OpenSSL checks name attribute string contents; ferrule keeps them opaque */
    DIFF_SKIPCERTS,      /* SkipCerts above ferrule's bound (1000000) */
    DIFF_WEAK_KEY,       /* RSA modulus < 2048 bits or not whole octets (BR 6.1.5) */
    DIFF_KEY_UNSUPPORTED,/* a key outside ferrule's set (webpki's), or one it cannot decode */
    DIFF_BITS_LEFT,      /* a signature BIT STRING with unused bits: ferrule wants whole
                            octets (every supported signature is an octet string) */
    DIFF_OPAQUE_PARAMS,  /* an ill-formed value inside an unsupported key algorithm's
                            parameters, which ferrule never decodes */
    DIFF_N
};
static const char *const diff_names[DIFF_N] = {
    "none", "not-der", "ext-not-der", "version", "sigalg-mismatch", "serial",
    "time-format", "ext-profile", "algorithm", "key-deferred", "name-string", "skipcerts",
    "weak-key", "key-unsupported", "bits-left", "opaque-key-params",
};

/* FUZZ_DIFF_STATS=1: count the classes hit (printed at exit by replay). */
static unsigned long diff_count[DIFF_N];
static void diff_report(void) {
    for (int i = 0; i < DIFF_N; i++)
        if (diff_count[i] != 0) fprintf(stderr, "fuzz_diff_x509: %s %lu\n", diff_names[i], diff_count[i]);
}
static void diff_hit(int cls) {
    static int registered;
    if (!registered && getenv("FUZZ_DIFF_STATS") != NULL) {
        atexit(diff_report);
        registered = 1;
    }
    diff_count[cls]++;
}

/* ---- helpers over OpenSSL's view ---------------------------------------- */

static int time_format_ok(const ASN1_TIME *t) {
    int len = ASN1_STRING_length(t);
    const unsigned char *s = ASN1_STRING_get0_data(t);
    int want = ASN1_STRING_type(t) == V_ASN1_UTCTIME ? 13 : 15;
    if (ASN1_STRING_type(t) != V_ASN1_UTCTIME && ASN1_STRING_type(t) != V_ASN1_GENERALIZEDTIME)
        return 0;
    if (len != want || s[len - 1] != 'Z') return 0;
    for (int i = 0; i < len - 1; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    struct tm tm;
    return ASN1_TIME_to_tm(t, &tm) == 1;
}

static int64_t time_unix(const ASN1_TIME *t) {
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    FUZZ_CHECK(ASN1_TIME_to_tm(t, &tm) == 1);
    return (int64_t)timegm(&tm);
}

/* i2d into a fresh buffer; compare with (p, n). */
static int i2d_equals(int len, unsigned char *der, const uint8_t *p, size_t n) {
    int eq = len > 0 && (size_t)len == n && memcmp(der, p, n) == 0;
    OPENSSL_free(der);
    return eq;
}

/* The value of the extension with this NID (its OCTET STRING content). */
static const ASN1_OCTET_STRING *ext_value(X509 *x, int nid) {
    int i = X509_get_ext_by_NID(x, nid, -1);
    if (i < 0) return NULL;
    return X509_EXTENSION_get_data(X509_get_ext(x, i));
}

/* The extensions ferrule parses (docs/x509.md table), by NID. */
static const int known_nids[] = {
    NID_basic_constraints, NID_key_usage, NID_ext_key_usage, NID_subject_alt_name,
    NID_subject_key_identifier, NID_authority_key_identifier, NID_name_constraints,
    NID_certificate_policies, NID_policy_mappings, NID_policy_constraints,
    NID_inhibit_any_policy, NID_info_access, NID_crl_distribution_points, NID_tlsfeature,
};

/* SkipCerts ::= INTEGER (0..MAX): ferrule reads at most 1000000
 * (core/x509/cert_ext.c read_skip_certs), far beyond any path length. */
static int skipcerts_out_of_range(const ASN1_INTEGER *i) {
    int64_t v = 0;
    return ASN1_INTEGER_get_int64(&v, i) != 1 || v < 0 || v > 1000000;
}

/* Does a known extension fail a rule of the docs/x509.md table that
 * OpenSSL does not enforce?  Checked on OpenSSL's decoding of it. */
static int ext_profile_violation(X509 *x) {
    int nid_seen[sizeof(known_nids) / sizeof(known_nids[0])] = {0};
    for (int i = 0; i < X509_get_ext_count(x); i++) {
        X509_EXTENSION *ext = X509_get_ext(x, i);
        int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
        for (size_t k = 0; k < sizeof(known_nids) / sizeof(known_nids[0]); k++) {
            if (known_nids[k] != nid) continue;
            if (nid_seen[k]++) return 1; /* duplicate */
        }
    }
    for (size_t k = 0; k < sizeof(known_nids) / sizeof(known_nids[0]); k++) {
        int nid = known_nids[k];
        const ASN1_OCTET_STRING *v = ext_value(x, nid);
        if (v == NULL) continue;
        void *d = X509_get_ext_d2i(x, nid, NULL, NULL);
        if (d == NULL) return 1; /* OpenSSL's own decoder refuses it too */
        int bad = 0;
        switch (nid) {
        case NID_basic_constraints: {
            BASIC_CONSTRAINTS *bc = d;
            if (bc->pathlen != NULL &&
                (ASN1_INTEGER_get(bc->pathlen) < 0 || ASN1_INTEGER_get(bc->pathlen) > 255))
                bad = 1;
            BASIC_CONSTRAINTS_free(bc);
            break;
        }
        case NID_key_usage: {
            ASN1_BIT_STRING *ku = d;
            if (ASN1_STRING_length(ku) > 2) bad = 1;
            if (ASN1_STRING_length(ku) == 2 && (ASN1_STRING_get0_data(ku)[1] & 0x7f)) bad = 1;
            ASN1_BIT_STRING_free(ku);
            break;
        }
        case NID_ext_key_usage: {
            EXTENDED_KEY_USAGE *eku = d;
            if (sk_ASN1_OBJECT_num(eku) == 0) bad = 1;
            EXTENDED_KEY_USAGE_free(eku);
            break;
        }
        case NID_subject_alt_name: {
            GENERAL_NAMES *gn = d;
            if (sk_GENERAL_NAME_num(gn) == 0) bad = 1;
            for (int i = 0; i < sk_GENERAL_NAME_num(gn); i++) {
                GENERAL_NAME *g = sk_GENERAL_NAME_value(gn, i);
                if (g->type == GEN_DNS || g->type == GEN_EMAIL || g->type == GEN_URI) {
                    const ASN1_IA5STRING *s = g->d.ia5;
                    for (int j = 0; j < ASN1_STRING_length(s); j++)
                        if (ASN1_STRING_get0_data(s)[j] & 0x80) bad = 1;
                }
            }
            GENERAL_NAMES_free(gn);
            break;
        }
        case NID_subject_key_identifier: {
            ASN1_OCTET_STRING *s = d;
            if (ASN1_STRING_length(s) == 0) bad = 1;
            ASN1_OCTET_STRING_free(s);
            break;
        }
        case NID_authority_key_identifier: {
            AUTHORITY_KEYID *a = d;
            if (a->keyid != NULL && ASN1_STRING_length(a->keyid) == 0) bad = 1;
            AUTHORITY_KEYID_free(a);
            break;
        }
        case NID_policy_constraints: {
            POLICY_CONSTRAINTS *pc = d;
            const ASN1_INTEGER *ints[2] = {pc->requireExplicitPolicy, pc->inhibitPolicyMapping};
            for (int i = 0; i < 2; i++)
                if (ints[i] != NULL && skipcerts_out_of_range(ints[i])) bad = 2;
            if (pc->requireExplicitPolicy == NULL && pc->inhibitPolicyMapping == NULL) bad = 1;
            POLICY_CONSTRAINTS_free(pc);
            break;
        }
        case NID_inhibit_any_policy: {
            ASN1_INTEGER *ia = d;
            if (skipcerts_out_of_range(ia)) bad = 2;
            ASN1_INTEGER_free(ia);
            break;
        }
        case NID_name_constraints: {
            NAME_CONSTRAINTS *nc = d;
            if (nc->permittedSubtrees == NULL && nc->excludedSubtrees == NULL) bad = 1;
            if (nc->permittedSubtrees != NULL && sk_GENERAL_SUBTREE_num(nc->permittedSubtrees) == 0)
                bad = 1;
            if (nc->excludedSubtrees != NULL && sk_GENERAL_SUBTREE_num(nc->excludedSubtrees) == 0)
                bad = 1;
            STACK_OF(GENERAL_SUBTREE) *lists[2] = {nc->permittedSubtrees, nc->excludedSubtrees};
            for (int l = 0; l < 2; l++)
                for (int i = 0; lists[l] != NULL && i < sk_GENERAL_SUBTREE_num(lists[l]); i++) {
                    GENERAL_SUBTREE *st = sk_GENERAL_SUBTREE_value(lists[l], i);
                    if (st->minimum != NULL || st->maximum != NULL) bad = 1;
                }
            NAME_CONSTRAINTS_free(nc);
            break;
        }
        default: {
            /* The others: the re-encoding check (DIFF_EXT_NOT_DER) and the
             * emptiness rules; an empty SEQUENCE OF is 30 00. */
            const X509V3_EXT_METHOD *m = X509V3_EXT_get_nid(nid);
            if (ASN1_STRING_length(v) == 2 && ASN1_STRING_get0_data(v)[1] == 0) bad = 1;
            if (m != NULL && m->it != NULL) ASN1_item_free(d, ASN1_ITEM_ptr(m->it));
            else bad = 1;
            break;
        }
        }
        if (bad) return bad;
    }
    return 0;
}

/* OpenSSL keeps a BOOLEAN's content octet as decoded and writes it back,
 * so re-encoding does not catch a TRUE other than 0xFF (X.690 §11.1).
 * Walk the TLVs (this harness's own minimal reader, definite lengths
 * only) and report a BOOLEAN that is not one octet of 0x00 or 0xFF. */
static int bad_boolean(const uint8_t *p, size_t n, int depth) {
    while (n > 0 && depth < 32) {
        if (n < 2) return 0;
        uint8_t tag = p[0];
        size_t len = p[1], hl = 2;
        if (len & 0x80) {
            size_t k = len & 0x7f;
            if (k == 0 || k > 3 || n < 2 + k) return 0;
            len = 0;
            for (size_t i = 0; i < k; i++) len = len << 8 | p[2 + i];
            hl = 2 + k;
        }
        if (len > n - hl) return 0;
        if (tag == 0x01 && (len != 1 || (p[hl] != 0x00 && p[hl] != 0xff))) return 1;
        if ((tag & 0x20) && bad_boolean(p + hl, len, depth + 1)) return 1;
        p += hl + len;
        n -= hl + len;
    }
    return 0;
}

/* Re-encode each known extension from OpenSSL's decoding; differs = the
 * value was not DER. */
static int ext_not_der(X509 *x) {
    for (size_t k = 0; k < sizeof(known_nids) / sizeof(known_nids[0]); k++) {
        const ASN1_OCTET_STRING *v = ext_value(x, known_nids[k]);
        if (v == NULL) continue;
        const X509V3_EXT_METHOD *m = X509V3_EXT_get_nid(known_nids[k]);
        if (m == NULL || m->it == NULL) continue;
        if (bad_boolean(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), 0)) return 1;
        const unsigned char *p = ASN1_STRING_get0_data(v);
        ASN1_VALUE *d = ASN1_item_d2i(NULL, &p, ASN1_STRING_length(v), ASN1_ITEM_ptr(m->it));
        if (d == NULL) return 1;
        int consumed = p == ASN1_STRING_get0_data(v) + ASN1_STRING_length(v);
        unsigned char *out = NULL;
        int len = ASN1_item_i2d(d, &out, ASN1_ITEM_ptr(m->it));
        ASN1_item_free(d, ASN1_ITEM_ptr(m->it));
        /* (i2d_equals frees out: call it before looking at consumed) */
        int same = i2d_equals(len, out, ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v));
        if (!consumed || !same) return 1;
    }
    return 0;
}

/* Why may ferrule refuse what OpenSSL accepted?  DIFF_NONE = no reason. */
static int classify_refusal(X509 *x, const uint8_t *data, size_t size) {
    /* Re-encode the whole certificate (i2d_re_X509_tbs drops the cached
     * TBS encoding); any difference means the input was not DER. */
    unsigned char *tbs = NULL;
    int tl = i2d_re_X509_tbs(x, &tbs);
    OPENSSL_free(tbs);
    if (tl <= 0) return DIFF_NOT_DER;
    unsigned char *der = NULL;
    int dl = i2d_X509(x, &der);
    if (!i2d_equals(dl, der, data, size)) return DIFF_NOT_DER;
    if (bad_boolean(data, size, 0)) return DIFF_NOT_DER;
    long v = X509_get_version(x);
    const ASN1_BIT_STRING *iuid = NULL, *suid = NULL;
    X509_get0_uids(x, &iuid, &suid);
    if (v < 0 || v > 2 || (v != 2 && X509_get_ext_count(x) > 0) ||
        (v == 0 && (iuid != NULL || suid != NULL)))
        return DIFF_VERSION;
    const X509_ALGOR *outer = NULL;
    X509_get0_signature(NULL, &outer, x);
    if (X509_ALGOR_cmp(outer, X509_get0_tbs_sigalg(x)) != 0) return DIFF_SIGALG_MISMATCH;
    const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
    if (ASN1_STRING_length(serial) > 20) return DIFF_SERIAL;
    if (!time_format_ok(X509_get0_notBefore(x)) || !time_format_ok(X509_get0_notAfter(x)))
        return DIFF_TIME_FORMAT;
    if (ext_not_der(x)) return DIFF_EXT_NOT_DER;
    const ASN1_BIT_STRING *sig = NULL;
    X509_get0_signature(&sig, NULL, x);
    /* core/x509/cert_parse.c: the signature BIT STRING has no unused bits */
    if (sig != NULL && (sig->flags & ASN1_STRING_FLAG_BITS_LEFT) && (sig->flags & 7))
        return DIFF_BITS_LEFT;
    int pv = ext_profile_violation(x);
    if (pv == 2) return DIFF_SKIPCERTS;
    if (pv) return DIFF_EXT_PROFILE;
    /* ferrule decodes a peer's key at parse; d2i_X509 keeps a key it
     * cannot decode and fails only when it is used. */
    if (X509_get0_pubkey(x) == NULL) return DIFF_KEY_DEFERRED;
    return DIFF_NONE;
}

/* ---- field comparison ------------------------------------------------------ */

static int key_kind_of(X509 *x) {
    X509_PUBKEY *pk = X509_get_X509_PUBKEY(x);
    ASN1_OBJECT *alg = NULL;
    X509_ALGOR *a = NULL;
    FUZZ_CHECK(X509_PUBKEY_get0_param(&alg, NULL, NULL, &a, pk) == 1);
    switch (OBJ_obj2nid(alg)) {
    case NID_rsaEncryption: return FR_CERT_KEY_RSA;
    case NID_rsassaPss: return FR_CERT_KEY_RSA_PSS;
    case NID_ED25519: return FR_CERT_KEY_ED25519;
    case NID_X9_62_id_ecPublicKey: {
        int ptype = 0;
        const void *pval = NULL;
        X509_ALGOR_get0(NULL, &ptype, &pval, a);
        if (ptype != V_ASN1_OBJECT) return 0;
        switch (OBJ_obj2nid(pval)) {
        case NID_X9_62_prime256v1: return FR_CERT_KEY_EC_P256;
        case NID_secp384r1: return FR_CERT_KEY_EC_P384;
        case NID_secp521r1: return FR_CERT_KEY_EC_P521;
        default: return 0;
        }
    }
    default: return 0;
    }
}

/* An RSA key of fewer than 2048 bits or a modulus of a partial octet. */
static int weak_rsa(X509 *x) {
    EVP_PKEY *k = X509_get0_pubkey(x);
    if (k == NULL || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) return 0;
    int bits = EVP_PKEY_get_bits(k);
    return bits < 2048 || bits % 8 != 0;
}

/* OpenSSL's keyUsage word (first octet as-is, second << 8) in ferrule's
 * order (bit n of the BIT STRING = 1 << n). */
static unsigned ku_from_openssl(uint32_t k) {
    unsigned out = 0;
    for (int n = 0; n < 8; n++)
        if (k & (0x80u >> n)) out |= 1u << n;
    if (k & 0x8000u) out |= 1u << 8;
    return out;
}

static void compare_fields(const fr_cert *c, X509 *x) {
    /* serial: INTEGER content */
    const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
    unsigned char *der = NULL;
    int len = i2d_ASN1_INTEGER((ASN1_INTEGER *)serial, &der);
    FUZZ_CHECK(len > 2);
    size_t hdr = (der[1] & 0x80) ? 2u + (der[1] & 0x7f) : 2u;
    FUZZ_CHECK(c->serial_len == (size_t)len - hdr && memcmp(c->serial, der + hdr, c->serial_len) == 0);
    OPENSSL_free(der);
    /* names */
    der = NULL;
    len = i2d_X509_NAME(X509_get_issuer_name(x), &der);
    FUZZ_CHECK(i2d_equals(len, der, c->issuer, c->issuer_len));
    der = NULL;
    len = i2d_X509_NAME(X509_get_subject_name(x), &der);
    FUZZ_CHECK(i2d_equals(len, der, c->subject, c->subject_len));
    /* validity */
    FUZZ_CHECK(c->not_before == time_unix(X509_get0_notBefore(x)));
    FUZZ_CHECK(c->not_after == time_unix(X509_get0_notAfter(x)));
    /* key */
    der = NULL;
    len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    FUZZ_CHECK(i2d_equals(len, der, c->spki, c->spki_len));
    int kk = key_kind_of(x);
    FUZZ_CHECK(c->key_kind == 0 || c->key_kind == kk);
    /* version */
    FUZZ_CHECK(c->version == X509_get_version(x));
    /* basicConstraints */
    uint32_t fl = X509_get_extension_flags(x);
    FUZZ_CHECK(!!(c->ext_present & FR_EXT_BC) == !!(fl & EXFLAG_BCONS));
    if (fl & EXFLAG_BCONS) {
        FUZZ_CHECK(!!c->is_ca == !!(fl & EXFLAG_CA));
        long pl = X509_get_pathlen(x);
        if (c->is_ca) FUZZ_CHECK((long)c->path_len == pl);
    }
    /* keyUsage */
    FUZZ_CHECK(!!c->has_key_usage == !!(fl & EXFLAG_KUSAGE));
    if (c->has_key_usage) FUZZ_CHECK(c->key_usage == ku_from_openssl(X509_get_key_usage(x)));
    /* extKeyUsage */
    FUZZ_CHECK(!!c->has_eku == !!(fl & EXFLAG_XKUSAGE));
    if (c->has_eku) {
        uint32_t xk = X509_get_extended_key_usage(x);
        FUZZ_CHECK(!!(c->eku & FR_EKU_SERVER) == !!(xk & XKU_SSL_SERVER));
        FUZZ_CHECK(!!(c->eku & FR_EKU_CLIENT) == !!(xk & XKU_SSL_CLIENT));
        FUZZ_CHECK(!!(c->eku & FR_EKU_ANY) == !!(xk & XKU_ANYEKU));
        FUZZ_CHECK(!!(c->eku & FR_EKU_OCSP_SIGNING) == !!(xk & XKU_OCSP_SIGN));
    }
    /* subjectAltName, nameConstraints, SKI: the extension value bytes */
    const ASN1_OCTET_STRING *v = ext_value(x, NID_subject_alt_name);
    FUZZ_CHECK((v == NULL) == (c->san == NULL));
    if (v != NULL)
        FUZZ_CHECK(c->san_len == (size_t)ASN1_STRING_length(v) &&
                   memcmp(c->san, ASN1_STRING_get0_data(v), c->san_len) == 0);
    v = ext_value(x, NID_name_constraints);
    FUZZ_CHECK((v == NULL) == (c->nc == NULL));
    if (v != NULL)
        FUZZ_CHECK(c->nc_len == (size_t)ASN1_STRING_length(v) &&
                   memcmp(c->nc, ASN1_STRING_get0_data(v), c->nc_len) == 0);
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
    FUZZ_CHECK((ski == NULL) == (c->ski == NULL));
    if (ski != NULL)
        FUZZ_CHECK(c->ski_len == (size_t)ASN1_STRING_length(ski) &&
                   memcmp(c->ski, ASN1_STRING_get0_data(ski), c->ski_len) == 0);
    const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(x);
    FUZZ_CHECK((akid == NULL) == (c->aki_keyid == NULL));
    if (akid != NULL)
        FUZZ_CHECK(c->aki_keyid_len == (size_t)ASN1_STRING_length(akid) &&
                   memcmp(c->aki_keyid, ASN1_STRING_get0_data(akid), c->aki_keyid_len) == 0);
    /* self-issued: OpenSSL's flag compares names the same way (RFC 5280 §7.1) */
    FUZZ_CHECK(!!c->self_issued == !!(X509_NAME_cmp(X509_get_issuer_name(x),
                                                    X509_get_subject_name(x)) == 0));
}

static int ossl_name_string_error, ossl_opaque_params;

/* ferrule accepted, d2i_X509 refused: is the refusal inside a part
 * ferrule keeps opaque?  ferrule's slices only say where to look; the
 * verdict is OpenSSL's decoding of those bytes alone:
 *  - the issuer or subject Name (attribute values are ANY, RFC 5280
 *    §4.1.2.4; docs/x509.md "RFC 4514 strings");
 *  - the SubjectPublicKeyInfo of an algorithm outside ferrule's set
 *    (its parameters are never decoded, docs/x509.md "Keys").
 * The rest of the certificate must then decode: the same input with that
 * part replaced is not tried here, so this is the weaker of the classes. */
static int opaque_part_refused(const fr_cert *c) {
    const unsigned char *p = c->issuer;
    X509_NAME *n = d2i_X509_NAME(NULL, &p, (long)c->issuer_len);
    int bad_name = n == NULL;
    X509_NAME_free(n);
    p = c->subject;
    n = d2i_X509_NAME(NULL, &p, (long)c->subject_len);
    bad_name |= n == NULL;
    X509_NAME_free(n);
    ERR_clear_error();
    if (bad_name) return DIFF_NAME_STRING;
    if (c->key_kind != 0) return DIFF_NONE;
    p = c->spki;
    X509_PUBKEY *k = d2i_X509_PUBKEY(NULL, &p, (long)c->spki_len);
    int bad_spki = k == NULL;
    X509_PUBKEY_free(k);
    ERR_clear_error();
    return bad_spki ? DIFF_OPAQUE_PARAMS : DIFF_NONE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fr_mem m;
    fr_mem_init(&m, NULL, 1u << 20);
    fr_cert *c = NULL;
    fr_err e = fr_cert_parse(&m, data, size, &c);
    int ours = e == FR_OK;
    if (!ours)
        FUZZ_CHECK(e == FERRULE_R_CERT_MALFORMED || e == FERRULE_R_CERT_UNSUPPORTED ||
                   e == FERRULE_R_CERT_WEAK_KEY);

    const unsigned char *p = data;
    X509 *x = size > 0 && size < (1u << 20) ? d2i_X509(NULL, &p, (long)size) : NULL;
    int theirs = x != NULL && p == data + size;
    uint32_t fl = theirs ? X509_get_extension_flags(x) : 0;
    int invalid = theirs && (fl & EXFLAG_INVALID);
    /* OpenSSL's error stack: the innermost reason, and whether the
     * failure was inside a Name (x509_name_ex_d2i) or the
     * SubjectPublicKeyInfo (x509_pubkey_ex_d2i_ex). */
    ossl_name_string_error = 0;
    int in_name = 0, in_spki = 0, bad_oid = 0, string_reason = 0;
    const char *func = NULL;
    for (unsigned long err; (err = ERR_get_error_all(NULL, NULL, &func, NULL, NULL)) != 0;) {
        if (getenv("FUZZ_DEBUG") != NULL)
            fprintf(stderr, "openssl: %s (%s)\n", ERR_error_string(err, NULL), func ? func : "?");
        if (func != NULL && strcmp(func, "x509_name_ex_d2i") == 0) in_name = 1;
        if (func != NULL && strcmp(func, "x509_pubkey_ex_d2i_ex") == 0) in_spki = 1;
        int r = ERR_GET_REASON(err);
        if (ERR_GET_LIB(err) != ERR_LIB_ASN1) continue;
        if (r == ASN1_R_ILLEGAL_CHARACTERS || r == ASN1_R_INVALID_UTF8STRING ||
            r == ASN1_R_MSTRING_NOT_UNIVERSAL || r == ASN1_R_MSTRING_WRONG_TAG ||
            r == ASN1_R_UNIVERSALSTRING_IS_WRONG_LENGTH || r == ASN1_R_INVALID_BMPSTRING_LENGTH ||
            r == ASN1_R_INVALID_UNIVERSALSTRING_LENGTH)
            string_reason = 1;
        if (r == ASN1_R_INVALID_OBJECT_ENCODING) bad_oid = 1;
    }
    /* Attribute values are ANY (RFC 5280 §4.1.2.4): ferrule keeps them
     * opaque (docs/x509.md "RFC 4514 strings").  OpenSSL's stack names
     * x509_name_ex_d2i only for some of these, so the string reasons
     * alone decide (they arise only from the MSTRING types of a Name
     * within a TBSCertificate, whose extension values d2i_X509 does not
     * decode). */
    (void)in_name;
    ossl_name_string_error = string_reason;
    /* The parameters of a key algorithm ferrule does not support are
     * never decoded (docs/x509.md "Keys"): an ill-formed OID in them. */
    ossl_opaque_params = in_spki && bad_oid;
    if (getenv("FUZZ_DEBUG") != NULL)
        fprintf(stderr, "fuzz_diff_x509: ferrule %s, openssl %s%s\n", ferrule_reason_name(e),
                theirs ? "decodes" : "refuses", invalid ? " (EXFLAG_INVALID)" : "");

    if (ours && theirs && !invalid) {
        compare_fields(c, x);
    } else if (ours && !theirs) {
        /* ferrule accepts what d2i_X509 cannot decode.  Allowed only when
         * OpenSSL's reason is the content of a name attribute string
         * (AttributeValue is ANY in RFC 5280; ferrule compares and prints
         * such values without requiring well-formed strings, docs/x509.md
         * "RFC 4514 strings"). */
        if (x == NULL && ossl_name_string_error) {
            diff_hit(DIFF_NAME_STRING);
        } else if (x == NULL && opaque_part_refused(c)) {
            diff_hit(opaque_part_refused(c));
        } else {
            DIFF_FAIL("ferrule accepts a certificate d2i_X509 refuses");
        }
    } else if (ours && invalid) {
        /* OpenSSL decodes it but its cache refuses a value.  Allowed: an
         * algorithm OpenSSL's sig-info does not know (ferrule parses
         * unsupported algorithms, refusing them only in a path). */
        int cls = DIFF_NONE;
        if (c->sig_kind == 0 || c->key_kind == 0) cls = DIFF_ALGORITHM;
        if (cls == DIFF_NONE) {
            fprintf(stderr, "fuzz_diff_x509: ferrule accepts, OpenSSL flags 0x%x\n", (unsigned)fl);
            DIFF_FAIL("unexplained: ferrule accepts, OpenSSL marks invalid");
        }
        diff_hit(cls);
    } else if (!ours && theirs && !invalid) {
        int cls = DIFF_NONE;
        if (e == FERRULE_R_CERT_MALFORMED) cls = classify_refusal(x, data, size);
        else if (e == FERRULE_R_CERT_WEAK_KEY) cls = weak_rsa(x) ? DIFF_WEAK_KEY : DIFF_NONE;
        else if (e == FERRULE_R_CERT_UNSUPPORTED)
            cls = key_kind_of(x) == 0 || X509_get0_pubkey(x) == NULL ? DIFF_KEY_UNSUPPORTED
                                                                      : DIFF_NONE;
        if (cls == DIFF_NONE) {
            fprintf(stderr, "fuzz_diff_x509: ferrule %s, OpenSSL accepts\n", ferrule_reason_name(e));
            DIFF_FAIL("unexplained: ferrule refuses what OpenSSL accepts");
        }
        diff_hit(cls);
    }
    X509_free(x);
    if (c != NULL) fr_cert_free(&m, c);
    FUZZ_CHECK(m.used == 0);
    return 0;
}
