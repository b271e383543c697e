/*
 * ocsp.c - stapled OCSP responses (RFC 6960): strict DER parsing of
 * OCSPResponse / BasicOCSPResponse, validation against the leaf and its
 * issuer, and the handshake's stapling policy.  See ocsp.h and docs/ocsp.md.
 *
 * The OCSP ASN.1 module uses EXPLICIT tagging (RFC 6960 Appendix B.1), so
 * every [n] below wraps a complete inner TLV, except the CertStatus
 * alternatives, which the module declares IMPLICIT.
 */
#include "ocsp.h"

#include "der.h"

#define BAD FERRULE_R_CERT_BAD_OCSP
#define MALFORMED FERRULE_R_CERT_MALFORMED

#define DER_ENUMERATED 0x0a

/* ---- OIDs (content bytes) ----------------------------------------------- */
static const uint8_t OID_OCSP_BASIC[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};
static const uint8_t OID_SHA1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};

#define MAX_EXTENSIONS 16

/* ---- small DER pieces ----------------------------------------------------- */

/* AlgorithmIdentifier of a digest (RFC 5754 §2: parameters absent or
 * NULL).  *hash = 0 if unsupported. */
static fr_err read_digest_alg(fr_reader *r, int *hash) {
    fr_der_tlv oid;
    FR_TRY(fr_x509_read_digest_alg(r, &oid));
    *hash = FR_DER_OID_IS(&oid, OID_SHA1) ? FR_OCSP_HASH_SHA1 : fr_x509_sha2_of(&oid);
    return FR_OK;
}

static int two_digits(const uint8_t *p, int *v) {
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') return 0;
    *v = (p[0] - '0') * 10 + (p[1] - '0');
    return 1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian, y >= 1): count from
 * 0001-01-01, where every quantity is non-negative, then shift. */
static int64_t days_since_epoch(int64_t y, int64_t m, int64_t d) {
    static const int before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    int64_t yp = y - 1; /* completed years */
    int64_t days = yp * 365 + yp / 4 - yp / 100 + yp / 400 + before[m - 1] + (d - 1);
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (leap && m > 2) days++;
    return days - 719162; /* days from 0001-01-01 to 1970-01-01 */
}

/* GeneralizedTime "YYYYMMDDHHMMSSZ": RFC 6960 uses the RFC 5280 §4.1.2.5.2
 * profile (Zulu, seconds present, no fractions). */
static fr_err read_gtime(fr_reader *r, int64_t *out) {
    fr_der_tlv t;
    FR_TRY(fr_der_read(r, FR_DER_GENERALIZEDTIME, &t));
    FR_ENSURE(fr_der_len(&t) == 15, MALFORMED);
    const uint8_t *p = t.content.p;
    int c, yy, mo, d, h, mi, s;
    FR_ENSURE(two_digits(p, &c) && two_digits(p + 2, &yy) && two_digits(p + 4, &mo) &&
                  two_digits(p + 6, &d) && two_digits(p + 8, &h) && two_digits(p + 10, &mi) &&
                  two_digits(p + 12, &s) && p[14] == 'Z',
              MALFORMED);
    int year = c * 100 + yy;
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    FR_ENSURE(year >= 1 && mo >= 1 && mo <= 12, MALFORMED);
    FR_ENSURE(d >= 1 && d <= dim[mo - 1] + (mo == 2 && leap), MALFORMED);
    FR_ENSURE(h <= 23 && mi <= 59 && s <= 59, MALFORMED);
    *out = days_since_epoch(year, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return FR_OK;
}

/* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension.  We implement no
 * OCSP extension (a nonce means nothing in a staple), so RFC 6960 §4.4
 * ("unrecognized extensions MUST be ignored unless critical") makes every
 * critical one fatal.  Duplicates are rejected as in RFC 5280 §4.2. */
static fr_err check_extensions(fr_reader *r) {
    fr_der_tlv seq, oids[MAX_EXTENSIONS];
    size_t n = 0;
    FR_TRY(fr_der_read(r, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_done(r));
    FR_ENSURE(!fr_reader_empty(&seq.content), MALFORMED);
    while (!fr_reader_empty(&seq.content)) {
        fr_der_tlv ext, val;
        FR_ENSURE(n < MAX_EXTENSIONS, MALFORMED);
        FR_TRY(fr_der_read(&seq.content, FR_DER_SEQUENCE, &ext));
        FR_TRY(fr_der_read_oid(&ext.content, &oids[n]));
        if (fr_der_peek_tag(&ext.content) == FR_DER_BOOLEAN) {
            int critical;
            FR_TRY(fr_der_read_bool(&ext.content, &critical));
            /* DER omits a DEFAULT value: an explicit FALSE is not DER. */
            FR_ENSURE(critical, MALFORMED);
            return BAD;
        }
        FR_TRY(fr_der_read(&ext.content, FR_DER_OCTET_STRING, &val));
        FR_TRY(fr_der_done(&ext.content));
        for (size_t i = 0; i < n; i++)
            FR_ENSURE(!fr_der_oid_is(&oids[i], oids[n].content.p, fr_der_len(&oids[n])),
                      MALFORMED);
        n++;
    }
    return FR_OK;
}

/* ---- parsing -------------------------------------------------------------- */

/* SingleResponse (RFC 6960 §4.2.1). */
static fr_err read_single(fr_reader *r, fr_ocsp_single *s) {
    fr_der_tlv seq, certid, t;
    int present;
    memset(s, 0, sizeof(*s));
    FR_TRY(fr_der_read(r, FR_DER_SEQUENCE, &seq));
    fr_reader b = seq.content;

    /* CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash OCTET STRING,
     *   issuerKeyHash OCTET STRING, serialNumber CertificateSerialNumber } */
    FR_TRY(fr_der_read(&b, FR_DER_SEQUENCE, &certid));
    FR_TRY(read_digest_alg(&certid.content, &s->hash));
    FR_TRY(fr_der_read(&certid.content, FR_DER_OCTET_STRING, &t));
    s->name_hash = t.content.p;
    s->name_hash_len = fr_der_len(&t);
    FR_TRY(fr_der_read(&certid.content, FR_DER_OCTET_STRING, &t));
    s->key_hash = t.content.p;
    s->key_hash_len = fr_der_len(&t);
    FR_TRY(fr_der_read(&certid.content, FR_DER_INTEGER, &t));
    FR_TRY(fr_der_done(&certid.content));
    size_t n = fr_der_len(&t);
    const uint8_t *p = t.content.p;
    FR_ENSURE(n >= 1 && n <= 21, MALFORMED); /* as certificate serials */
    FR_ENSURE(!(n >= 2 && p[0] == 0x00 && (p[1] & 0x80) == 0), MALFORMED);
    FR_ENSURE(!(n >= 2 && p[0] == 0xff && (p[1] & 0x80) != 0), MALFORMED);
    s->serial = p;
    s->serial_len = n;
    if (s->hash == FR_OCSP_HASH_SHA1) {
        FR_ENSURE(s->name_hash_len == FR_SHA1_LEN && s->key_hash_len == FR_SHA1_LEN, MALFORMED);
    } else if (s->hash != 0) {
        size_t hl = fr_hash_len(s->hash);
        FR_ENSURE(s->name_hash_len == hl && s->key_hash_len == hl, MALFORMED);
    }

    /* CertStatus ::= CHOICE { good [0] IMPLICIT NULL,
     *   revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT UnknownInfo } */
    FR_TRY(fr_der_read_any(&b, &t));
    if (t.tag == FR_DER_CTX_PRIM(0) || t.tag == FR_DER_CTX_PRIM(2)) {
        FR_ENSURE(fr_der_len(&t) == 0, MALFORMED);
        s->status = t.tag == FR_DER_CTX_PRIM(0) ? FR_OCSP_GOOD : FR_OCSP_UNKNOWN;
    } else if (t.tag == FR_DER_CTX_CONS(1)) {
        /* RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime,
         *   revocationReason [0] EXPLICIT CRLReason OPTIONAL } */
        fr_der_tlv reason;
        FR_TRY(read_gtime(&t.content, &s->revocation_time));
        FR_TRY(fr_der_read_optional(&t.content, FR_DER_CTX_CONS(0), &reason, &present));
        if (present) {
            fr_der_tlv e;
            FR_TRY(fr_der_read(&reason.content, DER_ENUMERATED, &e));
            FR_TRY(fr_der_done(&reason.content));
            FR_ENSURE(fr_der_len(&e) == 1 && e.content.p[0] <= 10, MALFORMED);
        }
        FR_TRY(fr_der_done(&t.content));
        s->status = FR_OCSP_REVOKED;
    } else {
        return MALFORMED;
    }

    FR_TRY(read_gtime(&b, &s->this_update));
    FR_TRY(fr_der_read_optional(&b, FR_DER_CTX_CONS(0), &t, &present));
    if (present) {
        FR_TRY(read_gtime(&t.content, &s->next_update));
        FR_TRY(fr_der_done(&t.content));
        s->has_next_update = 1;
    }
    FR_TRY(fr_der_read_optional(&b, FR_DER_CTX_CONS(1), &t, &present));
    if (present) FR_TRY(check_extensions(&t.content));
    return fr_der_done(&b);
}

fr_err fr_ocsp_next_single(fr_reader *responses, fr_ocsp_single *out) {
    return read_single(responses, out);
}

/* ResponseData (RFC 6960 §4.2.1). */
static fr_err read_tbs(fr_reader *r, fr_ocsp_response *o) {
    fr_der_tlv seq, t, inner;
    int present;
    FR_TRY(fr_der_read(r, FR_DER_SEQUENCE, &seq));
    o->tbs = seq.tlv;
    o->tbs_len = seq.tlv_len;
    fr_reader b = seq.content;
    /* version [0] EXPLICIT Version DEFAULT v1: DER omits v1, and v1 is the
     * only version there is. */
    FR_ENSURE(fr_der_peek_tag(&b) != FR_DER_CTX_CONS(0), MALFORMED);

    /* ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash } */
    FR_TRY(fr_der_read_any(&b, &t));
    if (t.tag == FR_DER_CTX_CONS(1)) {
        FR_TRY(fr_der_read(&t.content, FR_DER_SEQUENCE, &inner));
        FR_TRY(fr_der_done(&t.content));
        FR_TRY(fr_x509_check_name(inner.content));
        o->responder_by_key = 0;
        o->responder = inner.tlv;
        o->responder_len = inner.tlv_len;
    } else if (t.tag == FR_DER_CTX_CONS(2)) {
        /* KeyHash: SHA-1 of the responder's subjectPublicKey. */
        FR_TRY(fr_der_read(&t.content, FR_DER_OCTET_STRING, &inner));
        FR_TRY(fr_der_done(&t.content));
        FR_ENSURE(fr_der_len(&inner) == FR_SHA1_LEN, MALFORMED);
        o->responder_by_key = 1;
        o->responder = inner.content.p;
        o->responder_len = FR_SHA1_LEN;
    } else {
        return MALFORMED;
    }
    FR_TRY(read_gtime(&b, &o->produced_at));

    FR_TRY(fr_der_read(&b, FR_DER_SEQUENCE, &t));
    o->responses = t.content;
    o->n_responses = 0;
    fr_reader scan = t.content;
    while (!fr_reader_empty(&scan)) {
        fr_ocsp_single s;
        FR_ENSURE(o->n_responses < FR_OCSP_MAX_RESPONSES, MALFORMED);
        FR_TRY(read_single(&scan, &s));
        o->n_responses++;
    }
    FR_TRY(fr_der_read_optional(&b, FR_DER_CTX_CONS(1), &t, &present));
    if (present) FR_TRY(check_extensions(&t.content));
    return fr_der_done(&b);
}

/* BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData,
 *   signatureAlgorithm AlgorithmIdentifier, signature BIT STRING,
 *   certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL } */
static fr_err read_basic(const uint8_t *p, size_t n, fr_ocsp_response *o) {
    FR_TRY(fr_der_check_nesting(p, n));
    fr_reader r = fr_reader_init(p, n);
    fr_der_tlv seq, alg, t;
    int present;
    unsigned unused;
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_done(&r));
    FR_TRY(read_tbs(&seq.content, o));
    FR_TRY(fr_der_read(&seq.content, FR_DER_SEQUENCE, &alg));
    FR_TRY(fr_x509_parse_sig_alg(&alg, &o->sig_kind, &o->sig_hash));
    FR_TRY(fr_der_read_bits(&seq.content, &o->sig, &o->sig_len, &unused));
    FR_ENSURE(unused == 0, MALFORMED);
    o->certs.p = NULL; /* absent: an empty reader */
    o->certs.end = NULL;
    o->n_certs = 0;
    FR_TRY(fr_der_read_optional(&seq.content, FR_DER_CTX_CONS(0), &t, &present));
    if (present) {
        fr_der_tlv list, c;
        FR_TRY(fr_der_read(&t.content, FR_DER_SEQUENCE, &list));
        FR_TRY(fr_der_done(&t.content));
        o->certs = list.content;
        fr_reader scan = list.content;
        while (!fr_reader_empty(&scan)) {
            FR_ENSURE(o->n_certs < FR_OCSP_MAX_CERTS, MALFORMED);
            FR_TRY(fr_der_read(&scan, FR_DER_SEQUENCE, &c));
            o->n_certs++;
        }
    }
    return fr_der_done(&seq.content);
}

/* OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED,
 *   responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
 * ResponseBytes ::= SEQUENCE { responseType OID, response OCTET STRING } */
static fr_err read_response(const uint8_t *der, size_t len, fr_ocsp_response *o) {
    FR_TRY(fr_der_check_nesting(der, len));
    fr_reader r = fr_reader_init(der, len);
    fr_der_tlv seq, st, wrap, bytes, oid, body;
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_done(&r));
    FR_TRY(fr_der_read(&seq.content, DER_ENUMERATED, &st));
    /* successful(0): the only status that carries a response; a staple
     * saying tryLater or internalError tells us nothing (RFC 6960 §2.3). */
    FR_ENSURE(fr_der_len(&st) == 1, MALFORMED);
    FR_ENSURE(st.content.p[0] == 0, BAD);
    FR_TRY(fr_der_read(&seq.content, FR_DER_CTX_CONS(0), &wrap));
    FR_TRY(fr_der_done(&seq.content));
    FR_TRY(fr_der_read(&wrap.content, FR_DER_SEQUENCE, &bytes));
    FR_TRY(fr_der_done(&wrap.content));
    FR_TRY(fr_der_read_oid(&bytes.content, &oid));
    FR_TRY(fr_der_read(&bytes.content, FR_DER_OCTET_STRING, &body));
    FR_TRY(fr_der_done(&bytes.content));
    /* RFC 6960 §4.2.1: id-pkix-ocsp-basic is the one type to support. */
    FR_ENSURE(FR_DER_OID_IS(&oid, OID_OCSP_BASIC), BAD);
    return read_basic(body.content.p, fr_der_len(&body), o);
}

fr_err fr_ocsp_parse(const uint8_t *der, size_t len, fr_ocsp_response *out) {
    memset(out, 0, sizeof(*out));
    FR_ENSURE(der != NULL && len > 0, BAD);
    fr_err e = read_response(der, len, out);
    if (e != FR_OK) memset(out, 0, sizeof(*out));
    /* Every parse failure, whatever the DER layer called it, is a bad
     * OCSP response to the handshake. */
    return e == FR_OK ? FR_OK : BAD;
}

/* ---- validation ----------------------------------------------------------- */

/* The subjectPublicKey BIT STRING content of a certificate (the bytes the
 * CertID issuerKeyHash and ResponderID byKey hash, RFC 6960 §4.1.1). */
static fr_err key_bits(const fr_cert *c, const uint8_t **bits, size_t *n) {
    fr_reader r = fr_reader_init(c->spki, c->spki_len);
    fr_der_tlv seq, alg;
    unsigned unused;
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_read(&seq.content, FR_DER_SEQUENCE, &alg));
    FR_TRY(fr_der_read_bits(&seq.content, bits, n, &unused));
    return FR_OK;
}

static fr_err digest(int hash, const uint8_t *p, size_t n, uint8_t *out, size_t *out_len) {
    if (hash == FR_OCSP_HASH_SHA1) {
        *out_len = FR_SHA1_LEN;
        return fr_sha1_id(p, n, out);
    }
    *out_len = fr_hash_len(hash);
    return fr_hash(hash, p, n, out);
}

/* 1 if `d` (hash output of `hash` over p[0..n)) equals h[0..hl). */
static int hash_is(int hash, const uint8_t *p, size_t n, const uint8_t *h, size_t hl) {
    uint8_t buf[FR_MAX_HASH];
    size_t len;
    if (digest(hash, p, n, buf, &len) != FR_OK) return 0;
    return len == hl && memcmp(buf, h, hl) == 0;
}

/* Does the ResponderID name `c` (by subject, or by SHA-1 key hash)? */
static int responder_is(const fr_ocsp_response *o, const fr_cert *c) {
    if (!o->responder_by_key)
        return fr_name_equal(o->responder, o->responder_len, c->subject, c->subject_len);
    const uint8_t *bits;
    size_t n;
    if (key_bits(c, &bits, &n) != FR_OK) return 0;
    return hash_is(FR_OCSP_HASH_SHA1, bits, n, o->responder, o->responder_len);
}

/* Does the (already parsed, hence well-formed) certificate list
 * id-kp-OCSPSigning in its extendedKeyUsage?  fr_cert records only the
 * TLS purposes, so the extension is read again here. */
static int has_ocsp_signing(const fr_cert *c) {
    /* RFC 6960 §4.2.2.2: a delegated responder carries id-kp-OCSPSigning. */
    return c->has_eku && (c->eku & FR_EKU_OCSP_SIGNING) != 0;
}

/* RFC 6960 §4.2.2.2: a delegated responder is issued directly by the CA
 * that issued the certificate in question and carries id-kp-OCSPSigning.
 * We also require it to be usable at `now` and to have no critical
 * extension we do not understand. */
static fr_err check_delegate(const fr_cert *d, const fr_cert *issuer, int64_t now) {
    FR_ENSURE(fr_name_equal(d->issuer, d->issuer_len, issuer->subject, issuer->subject_len), BAD);
    EVP_PKEY *ikey, *dkey;
    FR_ENSURE(d->sig_kind != 0 && fr_cert_key(issuer, &ikey) == FR_OK &&
                  fr_cert_key(d, &dkey) == FR_OK,
              BAD);
    FR_ENSURE(fr_sig_verify_x509(ikey, d->sig_kind, d->sig_hash, d->tbs, d->tbs_len,
                                 d->sig, d->sig_len) == FR_OK,
              BAD);
    FR_ENSURE(!d->unknown_critical, BAD);
    FR_ENSURE(now >= d->not_before && now <= d->not_after, BAD);
    FR_ENSURE(!d->has_key_usage || (d->key_usage & FR_KU_DIGITAL_SIGNATURE), BAD);
    FR_ENSURE(has_ocsp_signing(d), BAD);
    return FR_OK;
}

/* Does the CertID of `s` name `leaf` issued by `issuer`? */
static int certid_matches(const fr_ocsp_single *s, const fr_cert *leaf, const fr_cert *issuer) {
    if (s->hash == 0) return 0;
    if (s->serial_len != leaf->serial_len || memcmp(s->serial, leaf->serial, s->serial_len) != 0)
        return 0;
    /* issuerNameHash is over the issuer field of the certificate being
     * checked; a responder hashing the issuer's own subject produces the
     * same bytes whenever they are encoded alike, which we also accept. */
    if (!hash_is(s->hash, leaf->issuer, leaf->issuer_len, s->name_hash, s->name_hash_len) &&
        !hash_is(s->hash, issuer->subject, issuer->subject_len, s->name_hash, s->name_hash_len))
        return 0;
    const uint8_t *bits;
    size_t n;
    if (key_bits(issuer, &bits, &n) != FR_OK) return 0;
    return hash_is(s->hash, bits, n, s->key_hash, s->key_hash_len);
}

/* RFC 6960 §4.2.2.1 and §3.2 items 4-5, with FR_OCSP_SKEW either way. */
static fr_err check_fresh(const fr_ocsp_response *o, const fr_ocsp_single *s, int64_t now) {
    FR_ENSURE(o->produced_at <= now + FR_OCSP_SKEW, BAD);
    FR_ENSURE(s->this_update <= now + FR_OCSP_SKEW, BAD);
    if (s->has_next_update) {
        FR_ENSURE(s->next_update >= s->this_update, BAD);
        FR_ENSURE(s->next_update >= now - FR_OCSP_SKEW, BAD);
    } else {
        FR_ENSURE(now - FR_OCSP_SKEW <= s->this_update + FR_OCSP_MAX_AGE_WITHOUT_NEXT, BAD);
    }
    return FR_OK;
}

/* Find the responder's certificate: the issuer, or a delegated responder
 * from `certs` (parsed into *owned, which the caller frees). */
static fr_err find_signer(fr_mem *m, const fr_ocsp_response *o, const fr_cert *issuer,
                          int64_t now, const fr_cert **signer, fr_cert **owned) {
    *signer = NULL;
    *owned = NULL;
    if (responder_is(o, issuer)) {
        *signer = issuer;
        return FR_OK;
    }
    fr_reader certs = o->certs;
    while (!fr_reader_empty(&certs)) {
        fr_der_tlv t;
        fr_cert *d = NULL;
        FR_ENSURE(fr_der_read(&certs, FR_DER_SEQUENCE, &t) == FR_OK, BAD);
        fr_err e = fr_cert_parse(m, t.tlv, t.tlv_len, &d);
        if (e == FERRULE_R_MEMORY_LIMIT || e == FERRULE_R_OUT_OF_MEMORY) return e;
        FR_ENSURE(e == FR_OK, BAD);
        if (!responder_is(o, d)) {
            fr_cert_free(m, d);
            continue;
        }
        e = check_delegate(d, issuer, now);
        if (e != FR_OK) {
            fr_cert_free(m, d);
            return e;
        }
        *signer = d;
        *owned = d;
        return FR_OK;
    }
    return BAD; /* signed by someone we cannot tie to the issuer */
}

static fr_err check_parsed(fr_mem *m, const fr_ocsp_response *o, const fr_cert *leaf,
                           const fr_cert *issuer, int64_t now, fr_ocsp_info *info) {
    const fr_cert *signer;
    fr_cert *owned;
    FR_TRY(find_signer(m, o, issuer, now, &signer, &owned));
    fr_err e = BAD;
    EVP_PKEY *key;
    if (fr_cert_key(signer, &key) == FR_OK && o->sig_kind != 0 &&
        fr_sig_verify_x509(key, o->sig_kind, o->sig_hash, o->tbs, o->tbs_len, o->sig,
                           o->sig_len) == FR_OK)
        e = FR_OK;
    info->delegated = owned != NULL;
    fr_cert_free(m, owned);
    FR_TRY(e);

    /* Exactly one SingleResponse may name the leaf: two would be an
     * ambiguity we refuse to resolve. */
    fr_reader rs = o->responses;
    fr_ocsp_single s, found;
    memset(&found, 0, sizeof(found)); /* read only when exactly one matched */
    int matches = 0;
    while (!fr_reader_empty(&rs)) {
        FR_ENSURE(fr_ocsp_next_single(&rs, &s) == FR_OK, BAD);
        if (certid_matches(&s, leaf, issuer)) {
            found = s;
            matches++;
        }
    }
    FR_ENSURE(matches == 1, BAD);
    FR_TRY(check_fresh(o, &found, now));
    info->status = found.status;
    switch (found.status) {
    case FR_OCSP_GOOD: return FR_OK;
    case FR_OCSP_REVOKED: return FERRULE_R_CERT_REVOKED;
    default: return BAD; /* unknown: the responder cannot vouch for it */
    }
}

fr_err fr_ocsp_check(fr_mem *m, const uint8_t *resp, size_t len, const fr_cert *leaf,
                     const fr_cert *issuer, int64_t now, fr_ocsp_info *info) {
    fr_ocsp_info scratch;
    if (info == NULL) info = &scratch;
    memset(info, 0, sizeof(*info));
    info->status = -1;
    FR_ENSURE(leaf != NULL && issuer != NULL, BAD);
    fr_ocsp_response o;
    FR_TRY(fr_ocsp_parse(resp, len, &o));
    return check_parsed(m, &o, leaf, issuer, now, info);
}

fr_err fr_ocsp_apply_policy(fr_mem *m, const uint8_t *staple, size_t staple_len,
                            const fr_cert *leaf, const uint8_t *issuer_der, size_t issuer_len,
                            int require, int64_t now, int *stapled) {
    *stapled = 0;
    if (staple == NULL) {
        /* RFC 7633 §4.2.3: a must-staple certificate without a staple is
         * rejected; so is any certificate in the hard-fail mode. */
        FR_ENSURE(!require && !leaf->must_staple, FERRULE_R_CERT_OCSP_MISSING);
        return FR_OK;
    }
    /* A staple we cannot check (no issuer known) is not accepted. */
    FR_ENSURE(issuer_der != NULL && issuer_len > 0, BAD);
    fr_cert *issuer = NULL;
    fr_err e = fr_cert_parse(m, issuer_der, issuer_len, &issuer);
    if (e != FR_OK) return e == FERRULE_R_MEMORY_LIMIT || e == FERRULE_R_OUT_OF_MEMORY ? e : BAD;
    e = fr_ocsp_check(m, staple, staple_len, leaf, issuer, now, NULL);
    fr_cert_free(m, issuer);
    if (e == FR_OK) *stapled = 1;
    return e;
}
