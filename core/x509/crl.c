/*
 * crl.c - certificate revocation lists (RFC 5280 §5), for standalone
 * validation.
 *
 * Parsed strictly (the DER layer's rules, outer and TBS signature
 * algorithms equal, v2 when extensions are present).  Rules that make a
 * well-formed CRL unusable are recorded in fr_crl.problem and reported
 * only when the CRL applies to a certificate of a path (fr_verify_chain):
 *   - cRLNumber missing (RFC 5280 §5.2.3 "MUST include") or critical
 *     ("MUST mark this extension as non-critical"): CERT_MALFORMED;
 *   - delta CRLs, issuing distribution points, indirect CRL entries
 *     (certificateIssuer) and unknown critical extensions, which we do not
 *     process: CERT_UNSUPPORTED.
 */
#include "der.h"
#include "x509.h"

#define MALFORMED FERRULE_R_CERT_MALFORMED

static const uint8_t OID_AKI[] = {0x55, 0x1d, 0x23};
static const uint8_t OID_CRL_NUMBER[] = {0x55, 0x1d, 0x14};
static const uint8_t OID_REASON[] = {0x55, 0x1d, 0x15};
static const uint8_t OID_INVALIDITY[] = {0x55, 0x1d, 0x18};
static const uint8_t OID_CERT_ISSUER[] = {0x55, 0x1d, 0x1d};
static const uint8_t OID_DELTA[] = {0x55, 0x1d, 0x1b};
static const uint8_t OID_IDP[] = {0x55, 0x1d, 0x1c};

#define MAX_EXTENSIONS 32

static void problem(fr_crl *c, fr_err e) {
    if (c->problem == FR_OK)
        c->problem = e;
}

/* cRLNumber ::= INTEGER (0..MAX), at most 20 octets (RFC 5280 §5.2.3). */
static fr_err crl_number(fr_reader v) {
    fr_der_tlv num;
    FR_TRY(fr_der_read(&v, FR_DER_INTEGER, &num));
    FR_TRY(fr_der_done(&v));
    FR_ENSURE(fr_der_len(&num) >= 1 && fr_der_len(&num) <= 21, MALFORMED);
    FR_ENSURE((num.content.p[0] & 0x80) == 0, MALFORMED);
    return FR_OK;
}

/* One extension of the CRL itself; *has_number: it was the cRLNumber. */
static fr_err crl_ext(fr_crl *c, const fr_der_tlv *oid, fr_reader v, int critical,
                      int *has_number) {
    if (FR_DER_OID_IS(oid, OID_CRL_NUMBER)) {
        FR_TRY(crl_number(v));
        *has_number = 1;
        if (critical) problem(c, MALFORMED);
    } else if (FR_DER_OID_IS(oid, OID_AKI)) {
        fr_der_tlv seq, kid;
        int present;
        FR_TRY(fr_der_read(&v, FR_DER_SEQUENCE, &seq));
        FR_TRY(fr_der_done(&v));
        FR_TRY(fr_der_read_optional(&seq.content, FR_DER_CTX_PRIM(0), &kid, &present));
        if (present && fr_der_len(&kid) > 0) {
            c->aki_keyid = kid.content.p;
            c->aki_keyid_len = fr_der_len(&kid);
        }
        if (critical) problem(c, MALFORMED); /* RFC 5280 §5.2.1: non-critical */
    } else if (FR_DER_OID_IS(oid, OID_DELTA) || FR_DER_OID_IS(oid, OID_IDP)) {
        problem(c, FERRULE_R_CERT_UNSUPPORTED);
    } else if (critical) {
        problem(c, FERRULE_R_CERT_UNSUPPORTED);
    }
    return FR_OK;
}

/* One extension of a revoked entry (RFC 5280 §5.3). */
static fr_err entry_ext(fr_crl *c, const fr_der_tlv *oid, fr_reader v, int critical) {
    if (FR_DER_OID_IS(oid, OID_REASON)) {
        fr_der_tlv e;
        FR_TRY(fr_der_read(&v, 0x0a /* ENUMERATED */, &e));
        FR_TRY(fr_der_done(&v));
        FR_ENSURE(fr_der_len(&e) == 1, MALFORMED);
    } else if (FR_DER_OID_IS(oid, OID_INVALIDITY)) {
        fr_der_tlv gt;
        FR_TRY(fr_der_read(&v, FR_DER_GENERALIZEDTIME, &gt));
        FR_TRY(fr_der_done(&v));
    } else if (FR_DER_OID_IS(oid, OID_CERT_ISSUER)) {
        problem(c, FERRULE_R_CERT_UNSUPPORTED); /* indirect CRL */
    } else if (critical) {
        problem(c, FERRULE_R_CERT_UNSUPPORTED);
    }
    return FR_OK;
}

/* Extensions of the CRL (entry = 0) or of one entry (entry = 1). */
static fr_err parse_exts(fr_crl *c, fr_reader r, int entry) {
    fr_der_tlv oids[MAX_EXTENSIONS];
    size_t n = 0;
    int has_number = 0;
    FR_ENSURE(!fr_reader_empty(&r), MALFORMED);
    while (!fr_reader_empty(&r)) {
        fr_der_tlv ext, val;
        int critical = 0;
        FR_ENSURE(n < MAX_EXTENSIONS, MALFORMED);
        FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &ext));
        FR_TRY(fr_der_read_oid(&ext.content, &oids[n]));
        if (fr_der_peek_tag(&ext.content) == FR_DER_BOOLEAN) {
            FR_TRY(fr_der_read_bool(&ext.content, &critical));
            FR_ENSURE(critical, MALFORMED); /* DER: DEFAULT FALSE is omitted */
        }
        FR_TRY(fr_der_read(&ext.content, FR_DER_OCTET_STRING, &val));
        FR_TRY(fr_der_done(&ext.content));
        const fr_der_tlv *oid = &oids[n];
        for (size_t i = 0; i < n; i++)
            FR_ENSURE(!fr_der_oid_is(&oids[i], oid->content.p, fr_der_len(oid)), MALFORMED);
        n++;
        if (entry)
            FR_TRY(entry_ext(c, oid, val.content, critical));
        else
            FR_TRY(crl_ext(c, oid, val.content, critical, &has_number));
    }
    if (!entry && !has_number) problem(c, MALFORMED);
    return FR_OK;
}

static fr_err parse_revoked(fr_crl *c, fr_reader r, int v2) {
    FR_ENSURE(!fr_reader_empty(&r), MALFORMED); /* absent rather than empty */
    while (!fr_reader_empty(&r)) {
        fr_der_tlv ent, serial, exts;
        int64_t when;
        int present;
        FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &ent));
        FR_TRY(fr_der_read(&ent.content, FR_DER_INTEGER, &serial));
        FR_ENSURE(fr_der_len(&serial) >= 1, MALFORMED);
        FR_TRY(fr_x509_parse_time(&ent.content, &when, NULL));
        FR_TRY(fr_der_read_optional(&ent.content, FR_DER_SEQUENCE, &exts, &present));
        if (present) {
            FR_ENSURE(v2, MALFORMED);
            FR_TRY(parse_exts(c, exts.content, 1));
        }
        FR_TRY(fr_der_done(&ent.content));
    }
    return FR_OK;
}

static fr_err parse_crl(fr_crl *c) {
    fr_der_tlv tbs, alg, t;
    int present;
    FR_TRY(fr_x509_parse_signed(c->der, c->der_len, &tbs, &alg, &c->sig, &c->sig_len));
    c->tbs = tbs.tlv;
    c->tbs_len = tbs.tlv_len;
    FR_TRY(fr_x509_parse_sig_alg(&alg, &c->sig_kind, &c->sig_hash));

    fr_reader b = tbs.content;
    int v2 = 0;
    if (fr_der_peek_tag(&b) == FR_DER_INTEGER) {
        uint32_t v;
        FR_TRY(fr_der_read_uint(&b, 1, &v));
        FR_ENSURE(v == 1, MALFORMED); /* only v2 is encoded */
        v2 = 1;
    }
    /* signature MUST equal signatureAlgorithm (RFC 5280 §5.1.2.2). */
    FR_TRY(fr_x509_check_inner_sig_alg(&b, &alg));
    FR_TRY(fr_der_read(&b, FR_DER_SEQUENCE, &t));
    FR_TRY(fr_x509_check_name(t.content));
    c->issuer = t.tlv;
    c->issuer_len = t.tlv_len;
    FR_TRY(fr_x509_parse_time(&b, &c->this_update, NULL));
    c->next_update = INT64_MAX;
    int tag = fr_der_peek_tag(&b);
    if (tag == FR_DER_UTCTIME || tag == FR_DER_GENERALIZEDTIME)
        FR_TRY(fr_x509_parse_time(&b, &c->next_update, NULL));
    FR_TRY(fr_der_read_optional(&b, FR_DER_SEQUENCE, &t, &present));
    if (present) {
        FR_TRY(parse_revoked(c, t.content, v2));
        c->revoked = t.content.p;
        c->revoked_len = fr_der_len(&t);
    }
    FR_TRY(fr_der_read_optional(&b, FR_DER_CTX_CONS(0), &t, &present));
    if (present) {
        fr_der_tlv exts;
        FR_ENSURE(v2, MALFORMED);
        FR_TRY(fr_der_read(&t.content, FR_DER_SEQUENCE, &exts));
        FR_TRY(fr_der_done(&t.content));
        FR_TRY(parse_exts(c, exts.content, 0));
    } else {
        problem(c, MALFORMED); /* no cRLNumber */
    }
    return fr_der_done(&b);
}

/* fr_der_owned_parse's step: take the copy, then parse. */
static fr_err crl_parse_owned(void *obj, uint8_t *der, size_t len) {
    fr_crl *c = obj;
    c->der = der;
    c->der_len = len;
    return parse_crl(c);
}

static void crl_release(fr_mem *m, void *obj) { fr_crl_free(m, obj); }

fr_err fr_crl_parse(fr_mem *m, const uint8_t *der, size_t len, fr_crl **out) {
    void *obj;
    fr_err e = fr_der_owned_parse(m, der, len, sizeof(fr_crl), crl_parse_owned, crl_release, &obj);
    *out = obj;
    return e;
}

void fr_crl_free(fr_mem *m, fr_crl *c) {
    if (c == NULL)
        return;
    fr_mem_free(m, c->der, c->der_len);
    fr_mem_free(m, c, sizeof(*c));
}

int fr_crl_lists(const fr_crl *crl, const fr_cert *c) {
    if (crl->revoked == NULL)
        return 0;
    fr_reader r = fr_reader_init(crl->revoked, crl->revoked_len);
    while (!fr_reader_empty(&r)) {
        fr_der_tlv ent, serial;
        if (fr_der_read(&r, FR_DER_SEQUENCE, &ent) != FR_OK)
            return 0;
        if (fr_der_read(&ent.content, FR_DER_INTEGER, &serial) != FR_OK)
            return 0;
        if (fr_der_len(&serial) == c->serial_len &&
            memcmp(serial.content.p, c->serial, c->serial_len) == 0)
            return 1;
    }
    return 0;
}
