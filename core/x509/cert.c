/*
 * cert.c - X.509 certificate parser (RFC 5280 §4.1, §4.2).
 *
 * Strict DER; everything verification needs is extracted into fr_cert.
 * Well-formed but unusable certificates (unknown signature algorithm or
 * key type, unknown critical extension) still parse: trust stores hold such
 * anchors (e.g. roots self-signed with SHA-1), and the path builder rejects
 * them with FERRULE_R_CERT_UNSUPPORTED only when they are actually used.
 */
#include "x509.h"
#include "der.h"

#define MALFORMED FERRULE_R_CERT_MALFORMED

/* ---- OIDs (content bytes) ----------------------------------------------- */
static const uint8_t OID_SHA256_RSA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
static const uint8_t OID_SHA384_RSA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c};
static const uint8_t OID_SHA512_RSA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d};
static const uint8_t OID_RSA_PSS[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a};
static const uint8_t OID_MGF1[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08};
static const uint8_t OID_ECDSA_SHA256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t OID_ECDSA_SHA384[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
static const uint8_t OID_ECDSA_SHA512[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};
static const uint8_t OID_ED25519[] = {0x2b, 0x65, 0x70};
static const uint8_t OID_SHA256[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
static const uint8_t OID_SHA384[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02};
static const uint8_t OID_SHA512[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03};

static const uint8_t OID_EXT_SKI[] = {0x55, 0x1d, 0x0e};
static const uint8_t OID_EXT_KU[] = {0x55, 0x1d, 0x0f};
static const uint8_t OID_EXT_SAN[] = {0x55, 0x1d, 0x11};
static const uint8_t OID_EXT_BC[] = {0x55, 0x1d, 0x13};
static const uint8_t OID_EXT_AKI[] = {0x55, 0x1d, 0x23};
static const uint8_t OID_EXT_EKU[] = {0x55, 0x1d, 0x25};
static const uint8_t OID_EXT_NC[] = {0x55, 0x1d, 0x1e};
static const uint8_t OID_EXT_CRLDP[] = {0x55, 0x1d, 0x1f};
static const uint8_t OID_EXT_CP[] = {0x55, 0x1d, 0x20};
static const uint8_t OID_EXT_PM[] = {0x55, 0x1d, 0x21};
static const uint8_t OID_EXT_PC[] = {0x55, 0x1d, 0x24};
static const uint8_t OID_EXT_IAP[] = {0x55, 0x1d, 0x36};
static const uint8_t OID_EXT_AIA[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01};
static const uint8_t OID_EXT_TLSF[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x18};
static const uint8_t OID_ANY_POLICY[] = {0x55, 0x1d, 0x20, 0x00};
static const uint8_t OID_EKU_ANY[] = {0x55, 0x1d, 0x25, 0x00};
static const uint8_t OID_KP_OCSP_SIGNING[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x09};
/* SubjectPublicKeyInfo algorithms and named curves. */
static const uint8_t OID_RSA_ENC[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
static const uint8_t OID_EC_PUBKEY[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t OID_P256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t OID_P384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t OID_P521[] = {0x2b, 0x81, 0x04, 0x00, 0x23};
static const uint8_t OID_KP_SERVER[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
static const uint8_t OID_KP_CLIENT[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02};

/* Most extensions we accept in one certificate (duplicate check is
 * quadratic; real certificates carry about ten). */
#define MAX_EXTENSIONS 64

/* ---- algorithm identifiers ---------------------------------------------- */

/* hashAlgorithm inside RSASSA-PSS-params: SEQUENCE { OID, NULL OPTIONAL }.
 * *hash = 0 when the hash is not one we support. */
static fr_err parse_hash_alg(fr_reader *r, int *hash) {
    fr_der_tlv seq, oid, nul;
    int has_null;
    FR_TRY(fr_der_read(r, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_read_oid(&seq.content, &oid));
    FR_TRY(fr_der_read_optional(&seq.content, FR_DER_NULL, &nul, &has_null));
    FR_ENSURE(!has_null || fr_der_len(&nul) == 0, MALFORMED);
    FR_TRY(fr_der_done(&seq.content));
    if (FR_DER_OID_IS(&oid, OID_SHA256))
        *hash = FR_HASH_SHA256;
    else if (FR_DER_OID_IS(&oid, OID_SHA384))
        *hash = FR_HASH_SHA384;
    else if (FR_DER_OID_IS(&oid, OID_SHA512))
        *hash = FR_HASH_SHA512;
    else
        *hash = 0;
    return FR_OK;
}

/* RSASSA-PSS-params (RFC 4055 §3.1).  We support exactly: hash SHA-2,
 * MGF1 with the same hash, salt length = hash length, trailerField 1.
 * Anything else (including the SHA-1 defaults) leaves *hash = 0. */
static fr_err parse_pss_params(fr_reader *params, int *hash) {
    fr_der_tlv seq, t;
    int present, h = 0, mgf_h = 0;
    uint32_t salt = 20, trailer = 1;
    *hash = 0;
    FR_TRY(fr_der_read(params, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_done(params));
    FR_TRY(fr_der_read_optional(&seq.content, FR_DER_CTX_CONS(0), &t, &present));
    if (present) {
        FR_TRY(parse_hash_alg(&t.content, &h));
        FR_TRY(fr_der_done(&t.content));
    }
    FR_TRY(fr_der_read_optional(&seq.content, FR_DER_CTX_CONS(1), &t, &present));
    if (present) {
        fr_der_tlv mgf, oid;
        FR_TRY(fr_der_read(&t.content, FR_DER_SEQUENCE, &mgf));
        FR_TRY(fr_der_done(&t.content));
        FR_TRY(fr_der_read_oid(&mgf.content, &oid));
        if (FR_DER_OID_IS(&oid, OID_MGF1)) {
            FR_TRY(parse_hash_alg(&mgf.content, &mgf_h));
            FR_TRY(fr_der_done(&mgf.content));
        }
    }
    FR_TRY(fr_der_read_optional(&seq.content, FR_DER_CTX_CONS(2), &t, &present));
    if (present) {
        FR_TRY(fr_der_read_uint(&t.content, 0xffff, &salt));
        FR_TRY(fr_der_done(&t.content));
    }
    FR_TRY(fr_der_read_optional(&seq.content, FR_DER_CTX_CONS(3), &t, &present));
    if (present) {
        FR_TRY(fr_der_read_uint(&t.content, 0xffff, &trailer));
        FR_TRY(fr_der_done(&t.content));
    }
    FR_TRY(fr_der_done(&seq.content));
    if (h != 0 && mgf_h == h && salt == fr_hash_len(h) && trailer == 1) *hash = h;
    return FR_OK;
}

/* Signature AlgorithmIdentifier (RFC 5280 §4.1.1.2, RFC 4055, RFC 5758,
 * RFC 8410).  *kind = 0 for an algorithm we do not support. */
fr_err fr_x509_parse_sig_alg(const fr_der_tlv *alg, int *kind, int *hash) {
    fr_reader r = alg->content;
    fr_der_tlv oid;
    FR_TRY(fr_der_read_oid(&r, &oid));
    *kind = 0;
    *hash = 0;
    int rsa_hash = FR_DER_OID_IS(&oid, OID_SHA256_RSA)   ? FR_HASH_SHA256
                   : FR_DER_OID_IS(&oid, OID_SHA384_RSA) ? FR_HASH_SHA384
                   : FR_DER_OID_IS(&oid, OID_SHA512_RSA) ? FR_HASH_SHA512
                                                         : 0;
    int ec_hash = FR_DER_OID_IS(&oid, OID_ECDSA_SHA256)   ? FR_HASH_SHA256
                  : FR_DER_OID_IS(&oid, OID_ECDSA_SHA384) ? FR_HASH_SHA384
                  : FR_DER_OID_IS(&oid, OID_ECDSA_SHA512) ? FR_HASH_SHA512
                                                          : 0;
    if (rsa_hash != 0) {
        /* RFC 4055 §5: parameters NULL; tolerate absent as many do. */
        if (!fr_reader_empty(&r)) {
            fr_der_tlv nul;
            FR_TRY(fr_der_read(&r, FR_DER_NULL, &nul));
            FR_ENSURE(fr_der_len(&nul) == 0, MALFORMED);
        }
        FR_TRY(fr_der_done(&r));
        *kind = FR_SIGKIND_RSA_PKCS1;
        *hash = rsa_hash;
    } else if (ec_hash != 0) {
        /* RFC 5758 §3.2: parameters MUST be absent. */
        FR_TRY(fr_der_done(&r));
        *kind = FR_SIGKIND_ECDSA;
        *hash = ec_hash;
    } else if (FR_DER_OID_IS(&oid, OID_ED25519)) {
        /* RFC 8410 §3: parameters MUST be absent. */
        FR_TRY(fr_der_done(&r));
        *kind = FR_SIGKIND_ED25519;
    } else if (FR_DER_OID_IS(&oid, OID_RSA_PSS)) {
        int h;
        FR_TRY(parse_pss_params(&r, &h));
        if (h != 0) {
            *kind = FR_SIGKIND_RSA_PSS;
            *hash = h;
        }
    }
    return FR_OK;
}

/* ---- names and time ----------------------------------------------------- */

/* Name ::= SEQUENCE OF RelativeDistinguishedName; RDN ::= SET SIZE (1..MAX)
 * OF AttributeTypeAndValue ::= SEQUENCE { OID, ANY } (RFC 5280 §4.1.2.4). */
fr_err fr_x509_check_name(fr_reader r) {
    while (!fr_reader_empty(&r)) {
        fr_der_tlv rdn;
        FR_TRY(fr_der_read(&r, FR_DER_SET, &rdn));
        FR_ENSURE(!fr_reader_empty(&rdn.content), MALFORMED);
        while (!fr_reader_empty(&rdn.content)) {
            fr_der_tlv atv, oid, val;
            FR_TRY(fr_der_read(&rdn.content, FR_DER_SEQUENCE, &atv));
            FR_TRY(fr_der_read_oid(&atv.content, &oid));
            FR_TRY(fr_der_read_any(&atv.content, &val));
            FR_TRY(fr_der_done(&atv.content));
        }
    }
    return FR_OK;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int64_t mo, int64_t d) {
    y -= mo <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const uint8_t *p, size_t n, int *v) {
    int x = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        x = x * 10 + (p[i] - '0');
    }
    *v = x;
    return 1;
}

/* Time ::= UTCTime "YYMMDDHHMMSSZ" | GeneralizedTime "YYYYMMDDHHMMSSZ"
 * (RFC 5280 §4.1.2.5.1, §4.1.2.5.2: seconds present, Zulu, no fraction). */
fr_err fr_x509_parse_time(fr_reader *r, int64_t *out, int *enc_bad) {
    fr_der_tlv t;
    FR_TRY(fr_der_read_any(r, &t));
    const uint8_t *p = t.content.p;
    size_t n = fr_der_len(&t);
    int year, mo, d, h, mi, s;
    if (t.tag == FR_DER_UTCTIME) {
        FR_ENSURE(n == 13, MALFORMED);
        FR_ENSURE(digits(p, 2, &year), MALFORMED);
        /* RFC 5280 §4.1.2.5.1: YY >= 50 is 19YY, else 20YY. */
        year += year >= 50 ? 1900 : 2000;
        p += 2;
    } else if (t.tag == FR_DER_GENERALIZEDTIME) {
        FR_ENSURE(n == 15, MALFORMED);
        FR_ENSURE(digits(p, 4, &year), MALFORMED);
        p += 4;
    } else {
        return MALFORMED;
    }
    FR_ENSURE(digits(p, 2, &mo) && digits(p + 2, 2, &d) && digits(p + 4, 2, &h) &&
                  digits(p + 6, 2, &mi) && digits(p + 8, 2, &s),
              MALFORMED);
    FR_ENSURE(p[10] == 'Z', MALFORMED);
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    FR_ENSURE(mo >= 1 && mo <= 12, MALFORMED);
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    int dim = mdays[mo - 1] + (mo == 2 && leap);
    FR_ENSURE(d >= 1 && d <= dim, MALFORMED);
    FR_ENSURE(h <= 23 && mi <= 59 && s <= 59, MALFORMED);
    *out = days_from_civil(year, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    /* RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050
     * (a profile rule, enforced on the certificates a peer sends). */
    if (enc_bad != NULL && (t.tag == FR_DER_UTCTIME) != (year < 2050)) *enc_bad = 1;
    return FR_OK;
}

/* ---- extensions (RFC 5280 §4.2) ---------------------------------------- */

static fr_err parse_basic_constraints(fr_cert *c, fr_reader v) {
    fr_der_tlv seq;
    FR_TRY(fr_der_read(&v, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_done(&v));
    int ca = 0;
    if (fr_der_peek_tag(&seq.content) == FR_DER_BOOLEAN)
        FR_TRY(fr_der_read_bool(&seq.content, &ca));
    if (fr_der_peek_tag(&seq.content) == FR_DER_INTEGER) {
        uint32_t pl;
        FR_TRY(fr_der_read_uint(&seq.content, 255, &pl));
        c->path_len = (int)pl;
    }
    FR_TRY(fr_der_done(&seq.content));
    c->is_ca = ca;
    return FR_OK;
}

static fr_err parse_key_usage(fr_cert *c, fr_reader v) {
    const uint8_t *bits;
    size_t n;
    unsigned unused;
    FR_TRY(fr_der_read_bits(&v, &bits, &n, &unused));
    FR_TRY(fr_der_done(&v));
    FR_ENSURE(n <= 2, MALFORMED); /* nine named bits (decipherOnly = 8) */
    uint16_t ku = 0;
    for (size_t i = 0; i < n * 8; i++)
        if (bits[i / 8] & (0x80u >> (i % 8))) ku = (uint16_t)(ku | (1u << i));
    c->has_key_usage = 1;
    c->key_usage = ku;
    return FR_OK;
}

/* GeneralName (RFC 5280 §4.2.1.6): context tags [0]..[8]; otherName [0],
 * x400Address [3], directoryName [4] and ediPartyName [5] are constructed,
 * the others primitive; IA5String forms hold ASCII only. */
fr_err fr_x509_check_general_name(const fr_der_tlv *gn) {
    FR_ENSURE((gn->tag & 0xc0) == 0x80, MALFORMED);
    unsigned num = gn->tag & 0x1fu;
    FR_ENSURE(num <= 8, MALFORMED);
    int cons = (gn->tag & 0x20) != 0;
    FR_ENSURE(cons == (num == 0 || num == 3 || num == 4 || num == 5), MALFORMED);
    fr_reader r = gn->content;
    fr_der_tlv t;
    switch (num) {
    case 0: /* otherName: type-id OID, value [0] EXPLICIT ANY */
        FR_TRY(fr_der_read_oid(&r, &t));
        FR_TRY(fr_der_read(&r, FR_DER_CTX_CONS(0), &t));
        return fr_der_done(&r);
    case 1: case 2: case 6: /* rfc822Name, dNSName, URI: IA5String */
        for (const uint8_t *p = r.p; p < r.end; p++) FR_ENSURE(*p < 0x80, MALFORMED);
        return FR_OK;
    case 4: /* directoryName: Name (EXPLICIT, the CHOICE) */
        FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &t));
        FR_TRY(fr_der_done(&r));
        return fr_x509_check_name(t.content);
    case 8: /* registeredID: [8] IMPLICIT OBJECT IDENTIFIER */
        FR_ENSURE(fr_der_oid_content_ok(r.p, fr_der_len(gn)), MALFORMED);
        return FR_OK;
    default: return FR_OK;
    }
}

/* GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName.  `seq` receives
 * the SEQUENCE TLV. */
static fr_err parse_general_names(fr_reader *v, fr_der_tlv *seq) {
    FR_TRY(fr_der_read(v, FR_DER_SEQUENCE, seq));
    fr_reader r = seq->content;
    FR_ENSURE(!fr_reader_empty(&r), MALFORMED);
    while (!fr_reader_empty(&r)) {
        fr_der_tlv gn;
        FR_TRY(fr_der_read_any(&r, &gn));
        FR_TRY(fr_x509_check_general_name(&gn));
    }
    return FR_OK;
}

static fr_err parse_san(fr_cert *c, fr_reader v) {
    fr_der_tlv seq;
    FR_TRY(parse_general_names(&v, &seq));
    FR_TRY(fr_der_done(&v));
    c->san = seq.tlv;
    c->san_len = seq.tlv_len;
    return FR_OK;
}

/* SubjectKeyIdentifier ::= KeyIdentifier (OCTET STRING), RFC 5280 §4.2.1.2. */
static fr_err parse_ski(fr_cert *c, fr_reader v) {
    fr_der_tlv t;
    FR_TRY(fr_der_read(&v, FR_DER_OCTET_STRING, &t));
    FR_TRY(fr_der_done(&v));
    FR_ENSURE(fr_der_len(&t) >= 1, MALFORMED);
    c->ski = t.content.p;
    c->ski_len = fr_der_len(&t);
    return FR_OK;
}

/* AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] OPTIONAL,
 * authorityCertIssuer [1] GeneralNames OPTIONAL, authorityCertSerialNumber
 * [2] INTEGER OPTIONAL } (RFC 5280 §4.2.1.1); issuer and serial come
 * together. */
static fr_err parse_aki(fr_cert *c, fr_reader v) {
    fr_der_tlv seq, t;
    int kid, iss, ser;
    FR_TRY(fr_der_read(&v, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_done(&v));
    fr_reader r = seq.content;
    FR_TRY(fr_der_read_optional(&r, FR_DER_CTX_PRIM(0), &t, &kid));
    if (kid) {
        FR_ENSURE(fr_der_len(&t) >= 1, MALFORMED);
        c->aki_keyid = t.content.p;
        c->aki_keyid_len = fr_der_len(&t);
    }
    FR_TRY(fr_der_read_optional(&r, FR_DER_CTX_CONS(1), &t, &iss));
    if (iss) {
        fr_reader gr = t.content;
        FR_ENSURE(!fr_reader_empty(&gr), MALFORMED);
        while (!fr_reader_empty(&gr)) {
            fr_der_tlv gn;
            FR_TRY(fr_der_read_any(&gr, &gn));
            FR_TRY(fr_x509_check_general_name(&gn));
        }
    }
    FR_TRY(fr_der_read_optional(&r, FR_DER_CTX_PRIM(2), &t, &ser));
    if (ser) FR_ENSURE(fr_der_len(&t) >= 1 && fr_der_len(&t) <= 21, MALFORMED);
    FR_TRY(fr_der_done(&r));
    c->aki_issuer_serial = iss || ser;
    return FR_OK;
}

/* GeneralSubtrees ::= SEQUENCE SIZE (1..MAX) OF GeneralSubtree;
 * GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] DEFAULT 0,
 * maximum [1] OPTIONAL }; RFC 5280 §4.2.1.10: minimum MUST be zero (so,
 * in DER, absent) and maximum MUST be absent. */
static fr_err parse_subtrees(fr_reader r) {
    FR_ENSURE(!fr_reader_empty(&r), MALFORMED);
    while (!fr_reader_empty(&r)) {
        fr_der_tlv st, gn;
        FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &st));
        FR_TRY(fr_der_read_any(&st.content, &gn));
        FR_TRY(fr_x509_check_general_name(&gn));
        FR_TRY(fr_der_done(&st.content));
    }
    return FR_OK;
}

/* NameConstraints ::= SEQUENCE { permittedSubtrees [0] OPTIONAL,
 * excludedSubtrees [1] OPTIONAL }: at least one present (RFC 5280
 * §4.2.1.10 "MUST NOT issue ... where name constraints is an empty
 * sequence"). */
static fr_err parse_nc(fr_cert *c, fr_reader v) {
    fr_der_tlv seq, t;
    int perm, excl;
    FR_TRY(fr_der_read(&v, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_done(&v));
    fr_reader r = seq.content;
    FR_TRY(fr_der_read_optional(&r, FR_DER_CTX_CONS(0), &t, &perm));
    if (perm) FR_TRY(parse_subtrees(t.content));
    FR_TRY(fr_der_read_optional(&r, FR_DER_CTX_CONS(1), &t, &excl));
    if (excl) FR_TRY(parse_subtrees(t.content));
    FR_TRY(fr_der_done(&r));
    FR_ENSURE(perm || excl, MALFORMED);
    c->nc = seq.tlv;
    c->nc_len = seq.tlv_len;
    return FR_OK;
}

/* certificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation;
 * PolicyInformation ::= SEQUENCE { policyIdentifier OID,
 * policyQualifiers SEQUENCE SIZE (1..MAX) OF PolicyQualifierInfo OPTIONAL }.
 * RFC 5280 §4.2.1.4: a policy OID appears at most once. */
#define MAX_POLICIES 32
static fr_err parse_policies(fr_cert *c, fr_reader v) {
    fr_der_tlv seq;
    fr_der_tlv oids[MAX_POLICIES];
    size_t n = 0;
    FR_TRY(fr_der_read(&v, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_done(&v));
    fr_reader r = seq.content;
    FR_ENSURE(!fr_reader_empty(&r), MALFORMED);
    while (!fr_reader_empty(&r)) {
        fr_der_tlv pi, quals;
        int has_q;
        FR_ENSURE(n < MAX_POLICIES, MALFORMED);
        FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &pi));
        FR_TRY(fr_der_read_oid(&pi.content, &oids[n]));
        for (size_t i = 0; i < n; i++)
            FR_ENSURE(!fr_der_oid_is(&oids[i], oids[n].content.p, fr_der_len(&oids[n])),
                      MALFORMED);
        FR_TRY(fr_der_read_optional(&pi.content, FR_DER_SEQUENCE, &quals, &has_q));
        if (has_q) {
            FR_ENSURE(!fr_reader_empty(&quals.content), MALFORMED);
            while (!fr_reader_empty(&quals.content)) {
                fr_der_tlv q, qid, qv;
                FR_TRY(fr_der_read(&quals.content, FR_DER_SEQUENCE, &q));
                FR_TRY(fr_der_read_oid(&q.content, &qid));
                if (!fr_reader_empty(&q.content)) FR_TRY(fr_der_read_any(&q.content, &qv));
                FR_TRY(fr_der_done(&q.content));
            }
        }
        FR_TRY(fr_der_done(&pi.content));
        n++;
    }
    c->policies = seq.tlv;
    c->policies_len = seq.tlv_len;
    return FR_OK;
}

/* PolicyMappings ::= SEQUENCE SIZE (1..MAX) OF SEQUENCE {
 * issuerDomainPolicy OID, subjectDomainPolicy OID }; anyPolicy is never
 * mapped (RFC 5280 §4.2.1.5). */
static fr_err parse_mappings(fr_cert *c, fr_reader v) {
    fr_der_tlv seq;
    FR_TRY(fr_der_read(&v, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_done(&v));
    fr_reader r = seq.content;
    FR_ENSURE(!fr_reader_empty(&r), MALFORMED);
    while (!fr_reader_empty(&r)) {
        fr_der_tlv m, a, b;
        FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &m));
        FR_TRY(fr_der_read_oid(&m.content, &a));
        FR_TRY(fr_der_read_oid(&m.content, &b));
        FR_TRY(fr_der_done(&m.content));
        FR_ENSURE(!FR_DER_OID_IS(&a, OID_ANY_POLICY) && !FR_DER_OID_IS(&b, OID_ANY_POLICY),
                  MALFORMED);
    }
    c->mappings = seq.tlv;
    c->mappings_len = seq.tlv_len;
    return FR_OK;
}

/* PolicyConstraints ::= SEQUENCE { requireExplicitPolicy [0] SkipCerts
 * OPTIONAL, inhibitPolicyMapping [1] SkipCerts OPTIONAL }; not empty
 * (RFC 5280 §4.2.1.11). */
static fr_err read_skip_certs(fr_reader *r, uint8_t tag, int *out) {
    fr_der_tlv t;
    int present;
    FR_TRY(fr_der_read_optional(r, tag, &t, &present));
    if (!present) return FR_OK;
    /* Re-read the implicitly tagged INTEGER through the INTEGER rules. */
    uint8_t buf[8];
    size_t n = fr_der_len(&t);
    FR_ENSURE(n >= 1 && n <= 6, MALFORMED);
    buf[0] = FR_DER_INTEGER;
    buf[1] = (uint8_t)n;
    memcpy(buf + 2, t.content.p, n);
    fr_reader ir = fr_reader_init(buf, n + 2);
    uint32_t v;
    FR_TRY(fr_der_read_uint(&ir, 1000000, &v));
    *out = (int)v;
    return FR_OK;
}

static fr_err parse_policy_constraints(fr_cert *c, fr_reader v) {
    fr_der_tlv seq;
    FR_TRY(fr_der_read(&v, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_done(&v));
    FR_TRY(read_skip_certs(&seq.content, FR_DER_CTX_PRIM(0), &c->require_explicit));
    FR_TRY(read_skip_certs(&seq.content, FR_DER_CTX_PRIM(1), &c->inhibit_mapping));
    FR_TRY(fr_der_done(&seq.content));
    FR_ENSURE(c->require_explicit >= 0 || c->inhibit_mapping >= 0, MALFORMED);
    return FR_OK;
}

/* InhibitAnyPolicy ::= SkipCerts (RFC 5280 §4.2.1.14). */
static fr_err parse_inhibit_any(fr_cert *c, fr_reader v) {
    uint32_t n;
    FR_TRY(fr_der_read_uint(&v, 1000000, &n));
    FR_TRY(fr_der_done(&v));
    c->inhibit_any = (int)n;
    return FR_OK;
}

/* AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF
 * AccessDescription ::= SEQUENCE { accessMethod OID, accessLocation
 * GeneralName } (RFC 5280 §4.2.2.1).  Parsed for well-formedness only. */
static fr_err parse_aia(fr_reader v) {
    fr_der_tlv seq;
    FR_TRY(fr_der_read(&v, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_done(&v));
    fr_reader r = seq.content;
    FR_ENSURE(!fr_reader_empty(&r), MALFORMED);
    while (!fr_reader_empty(&r)) {
        fr_der_tlv ad, oid, gn;
        FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &ad));
        FR_TRY(fr_der_read_oid(&ad.content, &oid));
        FR_TRY(fr_der_read_any(&ad.content, &gn));
        FR_TRY(fr_x509_check_general_name(&gn));
        FR_TRY(fr_der_done(&ad.content));
    }
    return FR_OK;
}

/* CRLDistributionPoints ::= SEQUENCE SIZE (1..MAX) OF DistributionPoint
 * ::= SEQUENCE { distributionPoint [0] OPTIONAL, reasons [1] OPTIONAL,
 * cRLIssuer [2] OPTIONAL }, with distributionPoint or cRLIssuer present
 * (RFC 5280 §4.2.1.13).  Parsed for well-formedness only. */
static fr_err parse_crldp(fr_reader v) {
    fr_der_tlv seq;
    FR_TRY(fr_der_read(&v, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_done(&v));
    fr_reader r = seq.content;
    FR_ENSURE(!fr_reader_empty(&r), MALFORMED);
    while (!fr_reader_empty(&r)) {
        fr_der_tlv dp, t;
        int has_dp, has_reasons, has_issuer;
        FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &dp));
        FR_TRY(fr_der_read_optional(&dp.content, FR_DER_CTX_CONS(0), &t, &has_dp));
        if (has_dp) {
            /* DistributionPointName ::= CHOICE { fullName [0] GeneralNames,
             * nameRelativeToCRLIssuer [1] RelativeDistinguishedName } */
            fr_der_tlv name;
            FR_TRY(fr_der_read_any(&t.content, &name));
            FR_TRY(fr_der_done(&t.content));
            FR_ENSURE(name.tag == FR_DER_CTX_CONS(0) || name.tag == FR_DER_CTX_CONS(1), MALFORMED);
            FR_ENSURE(!fr_reader_empty(&name.content), MALFORMED);
            if (name.tag == FR_DER_CTX_CONS(0)) {
                while (!fr_reader_empty(&name.content)) {
                    fr_der_tlv gn;
                    FR_TRY(fr_der_read_any(&name.content, &gn));
                    FR_TRY(fr_x509_check_general_name(&gn));
                }
            }
        }
        FR_TRY(fr_der_read_optional(&dp.content, FR_DER_CTX_PRIM(1), &t, &has_reasons));
        FR_TRY(fr_der_read_optional(&dp.content, FR_DER_CTX_CONS(2), &t, &has_issuer));
        FR_TRY(fr_der_done(&dp.content));
        FR_ENSURE(has_dp || has_issuer, MALFORMED);
    }
    return FR_OK;
}

/* TLS feature (RFC 7633 §6): Features ::= SEQUENCE OF INTEGER; listing
 * status_request (5) makes the certificate must-staple. */
static fr_err parse_tls_feature(fr_cert *c, fr_reader v) {
    fr_der_tlv seq;
    FR_TRY(fr_der_read(&v, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_done(&v));
    while (!fr_reader_empty(&seq.content)) {
        uint32_t f;
        FR_TRY(fr_der_read_uint(&seq.content, 0xffff, &f));
        if (f == 5) c->must_staple = 1;
    }
    return FR_OK;
}

static fr_err parse_eku(fr_cert *c, fr_reader v) {
    fr_der_tlv seq;
    FR_TRY(fr_der_read(&v, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_done(&v));
    FR_ENSURE(!fr_reader_empty(&seq.content), MALFORMED);
    unsigned eku = 0;
    while (!fr_reader_empty(&seq.content)) {
        fr_der_tlv oid;
        FR_TRY(fr_der_read_oid(&seq.content, &oid));
        if (FR_DER_OID_IS(&oid, OID_KP_SERVER))
            eku |= FR_EKU_SERVER;
        else if (FR_DER_OID_IS(&oid, OID_KP_CLIENT))
            eku |= FR_EKU_CLIENT;
        else if (FR_DER_OID_IS(&oid, OID_EKU_ANY))
            eku |= FR_EKU_ANY;
        else if (FR_DER_OID_IS(&oid, OID_KP_OCSP_SIGNING))
            eku |= FR_EKU_OCSP_SIGNING | FR_EKU_OTHER;
        else
            eku |= FR_EKU_OTHER;
    }
    c->has_eku = 1;
    c->eku = eku;
    return FR_OK;
}

/* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension;
 * Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE,
 *                          extnValue OCTET STRING } */
static fr_err parse_extensions(fr_cert *c, fr_reader r) {
    fr_der_tlv oids[MAX_EXTENSIONS];
    size_t n = 0;
    FR_ENSURE(!fr_reader_empty(&r), MALFORMED);
    while (!fr_reader_empty(&r)) {
        fr_der_tlv ext, val;
        int critical = 0;
        FR_ENSURE(n < MAX_EXTENSIONS, MALFORMED);
        FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &ext));
        FR_TRY(fr_der_read_oid(&ext.content, &oids[n]));
        if (fr_der_peek_tag(&ext.content) == FR_DER_BOOLEAN)
            FR_TRY(fr_der_read_bool(&ext.content, &critical));
        FR_TRY(fr_der_read(&ext.content, FR_DER_OCTET_STRING, &val));
        FR_TRY(fr_der_done(&ext.content));
        const fr_der_tlv *oid = &oids[n];
        /* RFC 5280 §4.2: a certificate MUST NOT include more than one
         * instance of a particular extension. */
        for (size_t i = 0; i < n; i++)
            FR_ENSURE(!fr_der_oid_is(&oids[i], oid->content.p, fr_der_len(oid)), MALFORMED);
        n++;

        unsigned bit = 0;
        if (FR_DER_OID_IS(oid, OID_EXT_BC)) {
            FR_TRY(parse_basic_constraints(c, val.content));
            bit = FR_EXT_BC;
        } else if (FR_DER_OID_IS(oid, OID_EXT_KU)) {
            FR_TRY(parse_key_usage(c, val.content));
            bit = FR_EXT_KU;
        } else if (FR_DER_OID_IS(oid, OID_EXT_SAN)) {
            FR_TRY(parse_san(c, val.content));
            bit = FR_EXT_SAN;
        } else if (FR_DER_OID_IS(oid, OID_EXT_EKU)) {
            FR_TRY(parse_eku(c, val.content));
            bit = FR_EXT_EKU;
        } else if (FR_DER_OID_IS(oid, OID_EXT_SKI)) {
            FR_TRY(parse_ski(c, val.content));
            bit = FR_EXT_SKI;
        } else if (FR_DER_OID_IS(oid, OID_EXT_AKI)) {
            FR_TRY(parse_aki(c, val.content));
            bit = FR_EXT_AKI;
        } else if (FR_DER_OID_IS(oid, OID_EXT_NC)) {
            FR_TRY(parse_nc(c, val.content));
            bit = FR_EXT_NC;
        } else if (FR_DER_OID_IS(oid, OID_EXT_CP)) {
            FR_TRY(parse_policies(c, val.content));
            bit = FR_EXT_CP;
        } else if (FR_DER_OID_IS(oid, OID_EXT_PM)) {
            FR_TRY(parse_mappings(c, val.content));
            bit = FR_EXT_PM;
        } else if (FR_DER_OID_IS(oid, OID_EXT_PC)) {
            FR_TRY(parse_policy_constraints(c, val.content));
            bit = FR_EXT_PC;
        } else if (FR_DER_OID_IS(oid, OID_EXT_IAP)) {
            FR_TRY(parse_inhibit_any(c, val.content));
            bit = FR_EXT_IAP;
        } else if (FR_DER_OID_IS(oid, OID_EXT_AIA)) {
            FR_TRY(parse_aia(val.content));
            bit = FR_EXT_AIA;
        } else if (FR_DER_OID_IS(oid, OID_EXT_CRLDP)) {
            FR_TRY(parse_crldp(val.content));
            bit = FR_EXT_CRLDP;
        } else if (FR_DER_OID_IS(oid, OID_EXT_TLSF)) {
            FR_TRY(parse_tls_feature(c, val.content));
            bit = FR_EXT_TLSF;
        } else if (critical) {
            /* RFC 5280 §4.2: a certificate with an unrecognized critical
             * extension MUST be rejected -- when it is used in a path. */
            c->unknown_critical = 1;
        }
        c->ext_present |= bit;
        if (critical) c->ext_critical |= bit;
    }
    return FR_OK;
}

/* ---- subject public key ------------------------------------------------- */

/* The SubjectPublicKeyInfo algorithms a verifier accepts (the webpki set):
 * rsaEncryption (parameters NULL, RFC 3279 §2.3.1), id-RSASSA-PSS (RFC
 * 4055 §1.2), id-ecPublicKey with a namedCurve of P-256, P-384 or P-521
 * (RFC 5480 §2.1.1: implicitCurve and specifiedCurve MUST NOT be used),
 * Ed25519 (RFC 8410 §3, no parameters).  Anything else -- DSA, DH,
 * X25519/X448/Ed448, P-192 or other curves, explicit or implicit curve
 * parameters, unknown OIDs -- leaves key_kind 0: the key is neither
 * decoded nor used. */
static fr_err parse_spki_alg(fr_cert *c, fr_reader r) {
    fr_der_tlv oid, param;
    FR_TRY(fr_der_read_oid(&r, &oid));
    c->key_kind = 0;
    if (FR_DER_OID_IS(&oid, OID_RSA_ENC)) {
        FR_TRY(fr_der_read(&r, FR_DER_NULL, &param));
        FR_ENSURE(fr_der_len(&param) == 0, MALFORMED);
        FR_TRY(fr_der_done(&r));
        c->key_kind = FR_CERT_KEY_RSA;
    } else if (FR_DER_OID_IS(&oid, OID_RSA_PSS)) {
        c->key_kind = FR_CERT_KEY_RSA_PSS; /* parameters checked by libcrypto */
    } else if (FR_DER_OID_IS(&oid, OID_EC_PUBKEY)) {
        if (fr_der_peek_tag(&r) != FR_DER_OID) return FR_OK; /* explicit/implicit curve */
        FR_TRY(fr_der_read_oid(&r, &param));
        FR_TRY(fr_der_done(&r));
        if (FR_DER_OID_IS(&param, OID_P256))
            c->key_kind = FR_CERT_KEY_EC_P256;
        else if (FR_DER_OID_IS(&param, OID_P384))
            c->key_kind = FR_CERT_KEY_EC_P384;
        else if (FR_DER_OID_IS(&param, OID_P521))
            c->key_kind = FR_CERT_KEY_EC_P521;
    } else if (FR_DER_OID_IS(&oid, OID_ED25519)) {
        FR_TRY(fr_der_done(&r));
        c->key_kind = FR_CERT_KEY_ED25519;
    }
    return FR_OK;
}

/* The crypto adapter's key family of an accepted key kind. */
static int spki_family(int key_kind) {
    switch (key_kind) {
    case FR_CERT_KEY_RSA: return FR_SPKI_RSA;
    case FR_CERT_KEY_RSA_PSS: return FR_SPKI_RSA_PSS;
    case FR_CERT_KEY_EC_P256:
    case FR_CERT_KEY_EC_P384:
    case FR_CERT_KEY_EC_P521: return FR_SPKI_EC;
    case FR_CERT_KEY_ED25519: return FR_SPKI_ED25519;
    default: return 0;
    }
}

/* ---- the certificate ---------------------------------------------------- */

/* Serial number: positive INTEGER, at most 20 octets (RFC 5280 §4.1.2.2);
 * 21 octets when a leading 0x00 keeps it positive.  Negative serials exist
 * in the wild and are tolerated; non-minimal encodings are not. */
static fr_err parse_serial(fr_cert *c, fr_reader *r) {
    fr_der_tlv t;
    FR_TRY(fr_der_read(r, FR_DER_INTEGER, &t));
    size_t n = fr_der_len(&t);
    const uint8_t *p = t.content.p;
    FR_ENSURE(n >= 1 && n <= 21, MALFORMED);
    FR_ENSURE(n < 21 || p[0] == 0x00, MALFORMED);
    if (n >= 2) {
        FR_ENSURE(!(p[0] == 0x00 && (p[1] & 0x80) == 0), MALFORMED);
        FR_ENSURE(!(p[0] == 0xff && (p[1] & 0x80) != 0), MALFORMED);
    }
    c->serial = p;
    c->serial_len = n;
    return FR_OK;
}

static fr_err parse_tbs(fr_cert *c, fr_reader r, const fr_der_tlv *outer_alg) {
    fr_der_tlv t;
    int present;
    /* version [0] EXPLICIT Version DEFAULT v1 */
    FR_TRY(fr_der_read_optional(&r, FR_DER_CTX_CONS(0), &t, &present));
    c->version = 0;
    if (present) {
        uint32_t v;
        FR_TRY(fr_der_read_uint(&t.content, 2, &v));
        FR_TRY(fr_der_done(&t.content));
        c->version = (int)v;
    }
    FR_TRY(parse_serial(c, &r));
    /* signature: MUST equal signatureAlgorithm (RFC 5280 §4.1.1.2). */
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &t));
    FR_ENSURE(t.tlv_len == outer_alg->tlv_len && memcmp(t.tlv, outer_alg->tlv, t.tlv_len) == 0,
              MALFORMED);
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &t));
    FR_TRY(fr_x509_check_name(t.content));
    c->issuer = t.tlv;
    c->issuer_len = t.tlv_len;
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &t));
    FR_TRY(fr_x509_parse_time(&t.content, &c->not_before, &c->time_encoding_bad));
    FR_TRY(fr_x509_parse_time(&t.content, &c->not_after, &c->time_encoding_bad));
    FR_TRY(fr_der_done(&t.content));
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &t));
    FR_TRY(fr_x509_check_name(t.content));
    c->subject = t.tlv;
    c->subject_len = t.tlv_len;
    /* SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING };
     * the key itself is decoded by the crypto adapter. */
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &t));
    c->spki = t.tlv;
    c->spki_len = t.tlv_len;
    {
        fr_der_tlv alg;
        const uint8_t *bits;
        size_t nbits;
        unsigned unused;
        FR_TRY(fr_der_read(&t.content, FR_DER_SEQUENCE, &alg));
        FR_TRY(fr_der_read_bits(&t.content, &bits, &nbits, &unused));
        FR_TRY(fr_der_done(&t.content));
        FR_TRY(parse_spki_alg(c, alg.content));
    }
    /* issuerUniqueID [1] / subjectUniqueID [2] IMPLICIT BIT STRING (v2+). */
    for (uint8_t i = 1; i <= 2; i++) {
        FR_TRY(fr_der_read_optional(&r, FR_DER_CTX_PRIM(i), &t, &present));
        FR_ENSURE(!present || c->version >= 1, MALFORMED);
    }
    FR_TRY(fr_der_read_optional(&r, FR_DER_CTX_CONS(3), &t, &present));
    if (present) {
        fr_der_tlv exts;
        FR_ENSURE(c->version == 2, MALFORMED);
        FR_TRY(fr_der_read(&t.content, FR_DER_SEQUENCE, &exts));
        FR_TRY(fr_der_done(&t.content));
        FR_TRY(parse_extensions(c, exts.content));
    }
    return fr_der_done(&r);
}

static fr_err parse_cert(fr_cert *c) {
    /* Structural pass first: minimal lengths, no indefinite form, bounded
     * nesting, no trailing bytes -- anywhere in the encoding. */
    FR_TRY(fr_der_check_nesting(c->der, c->der_len));
    fr_reader r = fr_reader_init(c->der, c->der_len);
    fr_der_tlv cert, tbs, alg;
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &cert));
    FR_TRY(fr_der_done(&r));
    FR_TRY(fr_der_read(&cert.content, FR_DER_SEQUENCE, &tbs));
    FR_TRY(fr_der_read(&cert.content, FR_DER_SEQUENCE, &alg));
    unsigned unused;
    FR_TRY(fr_der_read_bits(&cert.content, &c->sig, &c->sig_len, &unused));
    FR_ENSURE(unused == 0, MALFORMED);
    FR_TRY(fr_der_done(&cert.content));
    c->tbs = tbs.tlv;
    c->tbs_len = tbs.tlv_len;
    c->path_len = -1;
    c->require_explicit = c->inhibit_mapping = c->inhibit_any = -1;
    FR_TRY(fr_x509_parse_sig_alg(&alg, &c->sig_kind, &c->sig_hash));
    FR_TRY(parse_tbs(c, tbs.content, &alg));
    c->self_issued = fr_name_equal(c->issuer, c->issuer_len, c->subject, c->subject_len);
    /* The key is decoded only when parse_spki_alg accepted its algorithm:
     * an unsupported one (key_kind 0) leaves pub NULL without libcrypto
     * ever seeing it, and the certificate fails with CERT_UNSUPPORTED
     * wherever its key would have to be used. */
    if (c->key_kind == 0) return FR_OK;
    fr_err e = fr_pkey_from_spki(c->spki, c->spki_len, spki_family(c->key_kind), &c->pub);
    if (e == FERRULE_R_CERT_UNSUPPORTED) {
        c->pub = NULL; /* reported if this key must verify something */
        e = FR_OK;
    }
    if (c->pub != NULL) c->key_bits = fr_pkey_bits(c->pub);
    return e;
}

fr_err fr_cert_parse(fr_mem *m, const uint8_t *der, size_t len, fr_cert **out) {
    *out = NULL;
    FR_ENSURE(der != NULL || len == 0, FERRULE_R_NULL_ARGUMENT);
    FR_ENSURE(len > 0, MALFORMED);
    fr_cert *c = fr_mem_alloc(m, sizeof(*c));
    FR_ENSURE(c != NULL, fr_mem_error(m, sizeof(*c)));
    c->der = fr_mem_alloc(m, len);
    if (c->der == NULL) {
        fr_err e = fr_mem_error(m, len);
        fr_mem_free(m, c, sizeof(*c));
        return e;
    }
    memcpy(c->der, der, len);
    c->der_len = len;
    fr_err e = parse_cert(c);
    if (e != FR_OK) {
        fr_cert_free(m, c);
        return e;
    }
    *out = c;
    return FR_OK;
}

void fr_cert_free(fr_mem *m, fr_cert *c) {
    if (c == NULL) return;
    if (c->pub != NULL) fr_pkey_free(c->pub);
    fr_mem_free(m, c->der, c->der_len);
    fr_mem_free(m, c, sizeof(*c));
}
