/*
 * cert_parse.c - X.509 certificate parser (RFC 5280 §4.1): the
 * certificate and its TBSCertificate, algorithm identifiers, names and
 * times, the subject public key.  The extensions (§4.2) are parsed in
 * cert_ext.c.
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
/* SubjectPublicKeyInfo algorithms and named curves. */
static const uint8_t OID_RSA_ENC[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
static const uint8_t OID_EC_PUBKEY[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t OID_P256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t OID_P384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t OID_P521[] = {0x2b, 0x81, 0x04, 0x00, 0x23};

/* ---- algorithm identifiers ---------------------------------------------- */

fr_err fr_x509_read_digest_alg(fr_reader *r, fr_der_tlv *oid) {
    fr_der_tlv seq, nul;
    int has_null;
    FR_TRY(fr_der_read(r, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_read_oid(&seq.content, oid));
    FR_TRY(fr_der_read_optional(&seq.content, FR_DER_NULL, &nul, &has_null));
    FR_ENSURE(!has_null || fr_der_len(&nul) == 0, MALFORMED);
    return fr_der_done(&seq.content);
}

int fr_x509_sha2_of(const fr_der_tlv *oid) {
    if (FR_DER_OID_IS(oid, OID_SHA256)) return FR_HASH_SHA256;
    if (FR_DER_OID_IS(oid, OID_SHA384)) return FR_HASH_SHA384;
    if (FR_DER_OID_IS(oid, OID_SHA512)) return FR_HASH_SHA512;
    return 0;
}

/* hashAlgorithm inside RSASSA-PSS-params (RFC 4055 §3.1); *hash = 0 when
 * the hash is not one we support. */
static fr_err parse_hash_alg(fr_reader *r, int *hash) {
    fr_der_tlv oid;
    FR_TRY(fr_x509_read_digest_alg(r, &oid));
    *hash = fr_x509_sha2_of(&oid);
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

/* The size of a key read from its encoding, without libcrypto, for a key
 * decoded only at first use (fr_cert_parse_anchor): RSA (RFC 8017 §A.1.1
 * RSAPublicKey, also inside id-RSASSA-PSS): the modulus's bits, which must
 * be a positive minimal INTEGER; EC (RFC 5480 §2.2): the curve's bits, for
 * an uncompressed or compressed point of the curve's length; Ed25519 (RFC
 * 8410 §4): 32 octets, 256 bits as libcrypto counts them.  0 when the key
 * does not have that shape: it could not be used. */
static size_t rsa_modulus_bits(const uint8_t *p, size_t n) {
    fr_reader r = fr_reader_init(p, n);
    fr_der_tlv seq, mod, exp;
    if (fr_der_read(&r, FR_DER_SEQUENCE, &seq) != FR_OK || fr_der_done(&r) != FR_OK) return 0;
    if (fr_der_read(&seq.content, FR_DER_INTEGER, &mod) != FR_OK ||
        fr_der_read(&seq.content, FR_DER_INTEGER, &exp) != FR_OK ||
        fr_der_done(&seq.content) != FR_OK)
        return 0;
    const uint8_t *m = mod.content.p;
    size_t len = fr_der_len(&mod);
    if (len == 0 || (m[0] & 0x80) != 0) return 0; /* empty or negative */
    if (m[0] == 0) {
        if (len == 1 || (m[1] & 0x80) == 0) return 0; /* zero, or not minimal */
        m++;
        len--;
    }
    size_t top = 0;
    for (unsigned v = m[0]; v != 0; v >>= 1) top++;
    return (len - 1) * 8 + top;
}

static size_t structural_key_bits(const fr_cert *c) {
    fr_reader r = fr_reader_init(c->spki, c->spki_len);
    fr_der_tlv spki, alg;
    const uint8_t *k;
    size_t n, coord = 0, bits = 0;
    unsigned unused;
    if (fr_der_read(&r, FR_DER_SEQUENCE, &spki) != FR_OK ||
        fr_der_read(&spki.content, FR_DER_SEQUENCE, &alg) != FR_OK ||
        fr_der_read_bits(&spki.content, &k, &n, &unused) != FR_OK)
        return 0;
    switch (c->key_kind) {
    case FR_CERT_KEY_RSA:
    case FR_CERT_KEY_RSA_PSS: return rsa_modulus_bits(k, n);
    case FR_CERT_KEY_EC_P256: coord = 32, bits = 256; break;
    case FR_CERT_KEY_EC_P384: coord = 48, bits = 384; break;
    case FR_CERT_KEY_EC_P521: coord = 66, bits = 521; break;
    case FR_CERT_KEY_ED25519: return n == 32 ? 256 : 0;
    default: return 0;
    }
    if (n == 1 + 2 * coord && k[0] == 0x04) return bits;
    if (n == 1 + coord && (k[0] == 0x02 || k[0] == 0x03)) return bits;
    return 0;
}

/* libcrypto's decoding of the key, which must agree with key_bits when
 * that was read from the encoding. */
static fr_err decode_key(const fr_cert *c, int check_bits, EVP_PKEY **out) {
    fr_err e = fr_pkey_from_spki(c->spki, c->spki_len, spki_family(c->key_kind), out);
    if (e == FR_OK && check_bits && fr_pkey_bits(*out) != c->key_bits) {
        fr_pkey_free(*out);
        *out = NULL;
        e = FERRULE_R_CERT_UNSUPPORTED;
    }
    return e;
}

fr_err fr_cert_key(const fr_cert *cc, EVP_PKEY **out) {
    /* The key is a cache of what spki says: filling it in leaves the
     * certificate as it was, hence the cast. */
    fr_cert *c = (fr_cert *)cc;
    *out = atomic_load_explicit(&c->key, memory_order_acquire);
    if (*out != NULL) return FR_OK;
    FR_ENSURE(c->key_kind != 0, FERRULE_R_CERT_UNSUPPORTED);
    fr_err fail = atomic_load_explicit(&c->key_fail, memory_order_relaxed);
    FR_ENSURE(fail == FR_OK, fail);
    EVP_PKEY *k;
    fr_err e = decode_key(c, 1, &k);
    if (e != FR_OK) {
        /* The same bytes fail the same way: remembered, unless the
         * failure was for want of memory. */
        if (!fr_err_is_resource(e)) atomic_store_explicit(&c->key_fail, e, memory_order_relaxed);
        return e;
    }
    /* Several threads may decode a shared anchor's key at once: the first
     * to publish wins, the others free theirs and use it. */
    EVP_PKEY *none = NULL;
    if (!atomic_compare_exchange_strong_explicit(&c->key, &none, k, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        fr_pkey_free(k);
        k = none;
    }
    *out = k;
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
    FR_TRY(fr_x509_check_inner_sig_alg(&r, outer_alg));
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
        FR_TRY(fr_x509_parse_cert_extensions(c, exts.content));
    }
    return fr_der_done(&r);
}

fr_err fr_x509_parse_signed(const uint8_t *der, size_t len, fr_der_tlv *tbs, fr_der_tlv *alg,
                            const uint8_t **sig, size_t *sig_len) {
    /* Structural pass first: minimal lengths, no indefinite form, bounded
     * nesting, no trailing bytes -- anywhere in the encoding. */
    FR_TRY(fr_der_check_nesting(der, len));
    fr_reader r = fr_reader_init(der, len);
    fr_der_tlv outer;
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &outer));
    FR_TRY(fr_der_done(&r));
    FR_TRY(fr_der_read(&outer.content, FR_DER_SEQUENCE, tbs));
    FR_TRY(fr_der_read(&outer.content, FR_DER_SEQUENCE, alg));
    unsigned unused;
    FR_TRY(fr_der_read_bits(&outer.content, sig, sig_len, &unused));
    FR_ENSURE(unused == 0, MALFORMED);
    return fr_der_done(&outer.content);
}

fr_err fr_x509_check_inner_sig_alg(fr_reader *tbs, const fr_der_tlv *outer_alg) {
    fr_der_tlv t;
    FR_TRY(fr_der_read(tbs, FR_DER_SEQUENCE, &t));
    FR_ENSURE(t.tlv_len == outer_alg->tlv_len && memcmp(t.tlv, outer_alg->tlv, t.tlv_len) == 0,
              MALFORMED);
    return FR_OK;
}

static fr_err parse_cert(fr_cert *c, int lazy_key) {
    fr_der_tlv tbs, alg;
    FR_TRY(fr_x509_parse_signed(c->der, c->der_len, &tbs, &alg, &c->sig, &c->sig_len));
    c->tbs = tbs.tlv;
    c->tbs_len = tbs.tlv_len;
    c->path_len = -1;
    c->require_explicit = c->inhibit_mapping = c->inhibit_any = -1;
    FR_TRY(fr_x509_parse_sig_alg(&alg, &c->sig_kind, &c->sig_hash));
    FR_TRY(parse_tbs(c, tbs.content, &alg));
    c->issuer_hash = fr_name_hash(c->issuer, c->issuer_len);
    c->subject_hash = fr_name_hash(c->subject, c->subject_len);
    c->self_issued = c->issuer_hash == c->subject_hash &&
                     fr_name_equal(c->issuer, c->issuer_len, c->subject, c->subject_len);
    /* The key is decoded only when parse_spki_alg accepted its algorithm:
     * an unsupported one (key_kind 0) never reaches libcrypto, and the
     * certificate fails with CERT_UNSUPPORTED wherever its key would have
     * to be used. */
    if (c->key_kind == 0) return FR_OK;
    if (lazy_key) {
        c->key_bits = structural_key_bits(c);
        if (c->key_bits == 0) atomic_store(&c->key_fail, FERRULE_R_CERT_UNSUPPORTED);
        return FR_OK;
    }
    EVP_PKEY *k;
    fr_err e = decode_key(c, 0, &k);
    if (e == FERRULE_R_CERT_UNSUPPORTED) {
        atomic_store(&c->key_fail, e); /* reported if this key must verify something */
        return FR_OK;
    }
    FR_TRY(e);
    atomic_store(&c->key, k);
    c->key_bits = fr_pkey_bits(k);
    return FR_OK;
}

/* fr_der_owned_parse's step: take the copy, then parse. */
static fr_err cert_parse_owned(void *obj, uint8_t *der, size_t len) {
    fr_cert *c = obj;
    c->der = der;
    c->der_len = len;
    return parse_cert(c, 0);
}

static fr_err anchor_parse_owned(void *obj, uint8_t *der, size_t len) {
    fr_cert *c = obj;
    c->der = der;
    c->der_len = len;
    return parse_cert(c, 1);
}

static void cert_release(fr_mem *m, void *obj) { fr_cert_free(m, obj); }

fr_err fr_cert_parse(fr_mem *m, const uint8_t *der, size_t len, fr_cert **out) {
    void *obj;
    fr_err e = fr_der_owned_parse(m, der, len, sizeof(fr_cert), cert_parse_owned, cert_release,
                                  &obj);
    *out = obj;
    return e;
}

fr_err fr_cert_parse_anchor(fr_mem *m, const uint8_t *der, size_t len, fr_cert **out) {
    void *obj;
    fr_err e = fr_der_owned_parse(m, der, len, sizeof(fr_cert), anchor_parse_owned, cert_release,
                                  &obj);
    *out = obj;
    return e;
}

void fr_cert_free(fr_mem *m, fr_cert *c) {
    if (c == NULL) return;
    EVP_PKEY *k = atomic_load(&c->key);
    if (k != NULL) fr_pkey_free(k);
    fr_mem_free(m, c->der, c->der_len);
    fr_mem_free(m, c, sizeof(*c));
}
