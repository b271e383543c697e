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
static const uint8_t OID_EKU_ANY[] = {0x55, 0x1d, 0x25, 0x00};
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
static fr_err parse_sig_alg(const fr_der_tlv *alg, int *kind, int *hash) {
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
static fr_err check_name(fr_reader r) {
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
static fr_err parse_time(fr_reader *r, int64_t *out) {
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

static fr_err parse_san(fr_cert *c, fr_reader v) {
    fr_der_tlv seq;
    FR_TRY(fr_der_read(&v, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_done(&v));
    /* GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName; every
     * GeneralName is context tagged (RFC 5280 §4.2.1.6). */
    fr_reader r = seq.content;
    FR_ENSURE(!fr_reader_empty(&r), MALFORMED);
    while (!fr_reader_empty(&r)) {
        fr_der_tlv gn;
        FR_TRY(fr_der_read_any(&r, &gn));
        FR_ENSURE((gn.tag & 0xc0) == 0x80, MALFORMED);
    }
    c->san = seq.tlv;
    c->san_len = seq.tlv_len;
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

        if (FR_DER_OID_IS(oid, OID_EXT_BC)) {
            FR_TRY(parse_basic_constraints(c, val.content));
        } else if (FR_DER_OID_IS(oid, OID_EXT_KU)) {
            FR_TRY(parse_key_usage(c, val.content));
        } else if (FR_DER_OID_IS(oid, OID_EXT_SAN)) {
            FR_TRY(parse_san(c, val.content));
        } else if (FR_DER_OID_IS(oid, OID_EXT_EKU)) {
            FR_TRY(parse_eku(c, val.content));
        } else if (FR_DER_OID_IS(oid, OID_EXT_SKI) || FR_DER_OID_IS(oid, OID_EXT_AKI)) {
            /* Key identifiers only help choose issuers; never constraining. */
        } else if (critical) {
            /* RFC 5280 §4.2: a certificate with an unrecognized critical
             * extension MUST be rejected -- when it is used in a path. */
            c->unknown_critical = 1;
        }
    }
    return FR_OK;
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
    FR_TRY(check_name(t.content));
    c->issuer = t.tlv;
    c->issuer_len = t.tlv_len;
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &t));
    FR_TRY(parse_time(&t.content, &c->not_before));
    FR_TRY(parse_time(&t.content, &c->not_after));
    FR_TRY(fr_der_done(&t.content));
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &t));
    FR_TRY(check_name(t.content));
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
    FR_TRY(parse_sig_alg(&alg, &c->sig_kind, &c->sig_hash));
    FR_TRY(parse_tbs(c, tbs.content, &alg));
    c->self_issued = fr_name_equal(c->issuer, c->issuer_len, c->subject, c->subject_len);
    fr_err e = fr_pkey_from_spki(c->spki, c->spki_len, &c->pub);
    if (e == FERRULE_R_CERT_UNSUPPORTED) {
        c->pub = NULL; /* reported if this key must verify something */
        e = FR_OK;
    }
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
