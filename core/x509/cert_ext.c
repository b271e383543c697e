/*
 * cert_ext.c - the certificate extensions ferrule understands (RFC 5280
 * §4.2, RFC 7633), parsed strictly into fr_cert; the profile rules about
 * them (criticality, presence) are applied when a certificate is used in
 * a path (path.c, policy.c).
 */
#include "x509.h"
#include "der.h"

#define MALFORMED FERRULE_R_CERT_MALFORMED

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
static const uint8_t OID_KP_SERVER[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
static const uint8_t OID_KP_CLIENT[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02};
static const uint8_t OID_KP_OCSP_SIGNING[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x09};

/* Most extensions we accept in one certificate (duplicate check is
 * quadratic; real certificates carry about ten). */
#define MAX_EXTENSIONS 64

/* ---- names (§4.2.1.6) ------------------------------------------------- */

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

/* fr_der_each step: one GeneralName. */
static fr_err general_name_step(void *ctx, fr_der_tlv *gn) {
    (void)ctx;
    return fr_x509_check_general_name(gn);
}

/* GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName, the content of
 * a field (or, implicitly tagged, of its tag). */
static fr_err check_general_names(fr_reader content) {
    return fr_der_each(content, 0, 1, general_name_step, NULL);
}

static fr_err parse_san(fr_cert *c, fr_reader v) {
    fr_der_tlv seq;
    FR_TRY(fr_der_seq_of(v, 0, general_name_step, NULL, &seq));
    c->san = seq.tlv;
    c->san_len = seq.tlv_len;
    return FR_OK;
}

/* ---- key identifiers (§4.2.1.1, §4.2.1.2) ------------------------------ */

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
    if (iss) FR_TRY(check_general_names(t.content));
    FR_TRY(fr_der_read_optional(&r, FR_DER_CTX_PRIM(2), &t, &ser));
    if (ser) FR_ENSURE(fr_der_len(&t) >= 1 && fr_der_len(&t) <= 21, MALFORMED);
    FR_TRY(fr_der_done(&r));
    c->aki_issuer_serial = iss || ser;
    return FR_OK;
}

/* ---- usage and constraints (§4.2.1.3, §4.2.1.9, §4.2.1.10, §4.2.1.12) -- */

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

/* fr_der_each step: one KeyPurposeId into the FR_EKU_* bits at ctx. */
static fr_err eku_step(void *ctx, fr_der_tlv *elem) {
    unsigned *eku = ctx;
    fr_reader r = fr_reader_init(elem->tlv, elem->tlv_len);
    fr_der_tlv oid;
    FR_TRY(fr_der_read_oid(&r, &oid));
    if (FR_DER_OID_IS(&oid, OID_KP_SERVER))
        *eku |= FR_EKU_SERVER;
    else if (FR_DER_OID_IS(&oid, OID_KP_CLIENT))
        *eku |= FR_EKU_CLIENT;
    else if (FR_DER_OID_IS(&oid, OID_EKU_ANY))
        *eku |= FR_EKU_ANY;
    else if (FR_DER_OID_IS(&oid, OID_KP_OCSP_SIGNING))
        *eku |= FR_EKU_OCSP_SIGNING | FR_EKU_OTHER;
    else
        *eku |= FR_EKU_OTHER;
    return FR_OK;
}

/* ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId (OID). */
static fr_err parse_eku(fr_cert *c, fr_reader v) {
    unsigned eku = 0;
    FR_TRY(fr_der_seq_of(v, FR_DER_OID, eku_step, &eku, NULL));
    c->has_eku = 1;
    c->eku = eku;
    return FR_OK;
}

/* fr_der_each step: GeneralSubtree ::= SEQUENCE { base GeneralName,
 * minimum [0] DEFAULT 0, maximum [1] OPTIONAL }; RFC 5280 §4.2.1.10:
 * minimum MUST be zero (so, in DER, absent) and maximum MUST be absent. */
static fr_err subtree_step(void *ctx, fr_der_tlv *st) {
    (void)ctx;
    fr_der_tlv gn;
    FR_TRY(fr_der_read_any(&st->content, &gn));
    FR_TRY(fr_x509_check_general_name(&gn));
    return fr_der_done(&st->content);
}

/* NameConstraints ::= SEQUENCE { permittedSubtrees [0] OPTIONAL,
 * excludedSubtrees [1] OPTIONAL }, each GeneralSubtrees ::= SEQUENCE SIZE
 * (1..MAX) OF GeneralSubtree: at least one present (RFC 5280 §4.2.1.10
 * "MUST NOT issue ... where name constraints is an empty sequence"). */
static fr_err parse_nc(fr_cert *c, fr_reader v) {
    fr_der_tlv seq, t;
    int perm, excl;
    FR_TRY(fr_der_read(&v, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_done(&v));
    fr_reader r = seq.content;
    FR_TRY(fr_der_read_optional(&r, FR_DER_CTX_CONS(0), &t, &perm));
    if (perm) FR_TRY(fr_der_each(t.content, FR_DER_SEQUENCE, 1, subtree_step, NULL));
    FR_TRY(fr_der_read_optional(&r, FR_DER_CTX_CONS(1), &t, &excl));
    if (excl) FR_TRY(fr_der_each(t.content, FR_DER_SEQUENCE, 1, subtree_step, NULL));
    FR_TRY(fr_der_done(&r));
    FR_ENSURE(perm || excl, MALFORMED);
    c->nc = seq.tlv;
    c->nc_len = seq.tlv_len;
    return FR_OK;
}

/* ---- policies (§4.2.1.4, §4.2.1.5, §4.2.1.11, §4.2.1.14) --------------- */

/* certificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation;
 * PolicyInformation ::= SEQUENCE { policyIdentifier OID,
 * policyQualifiers SEQUENCE SIZE (1..MAX) OF PolicyQualifierInfo OPTIONAL }.
 * RFC 5280 §4.2.1.4: a policy OID appears at most once. */
#define MAX_POLICIES 32
typedef struct policy_seen {
    fr_der_tlv oids[MAX_POLICIES];
    size_t n;
} policy_seen;

/* PolicyQualifierInfo ::= SEQUENCE { policyQualifierId OID, qualifier ANY }. */
static fr_err qualifier_step(void *ctx, fr_der_tlv *q) {
    (void)ctx;
    fr_der_tlv qid, qv;
    FR_TRY(fr_der_read_oid(&q->content, &qid));
    if (!fr_reader_empty(&q->content)) FR_TRY(fr_der_read_any(&q->content, &qv));
    return fr_der_done(&q->content);
}

static fr_err policy_step(void *ctx, fr_der_tlv *pi) {
    policy_seen *seen = ctx;
    fr_der_tlv quals;
    int has_q;
    FR_ENSURE(seen->n < MAX_POLICIES, MALFORMED);
    fr_der_tlv *oid = &seen->oids[seen->n];
    FR_TRY(fr_der_read_oid(&pi->content, oid));
    for (size_t i = 0; i < seen->n; i++)
        FR_ENSURE(!fr_der_oid_is(&seen->oids[i], oid->content.p, fr_der_len(oid)), MALFORMED);
    FR_TRY(fr_der_read_optional(&pi->content, FR_DER_SEQUENCE, &quals, &has_q));
    if (has_q) FR_TRY(fr_der_each(quals.content, FR_DER_SEQUENCE, 1, qualifier_step, NULL));
    FR_TRY(fr_der_done(&pi->content));
    seen->n++;
    return FR_OK;
}

static fr_err parse_policies(fr_cert *c, fr_reader v) {
    policy_seen seen;
    fr_der_tlv seq;
    seen.n = 0;
    FR_TRY(fr_der_seq_of(v, FR_DER_SEQUENCE, policy_step, &seen, &seq));
    c->policies = seq.tlv;
    c->policies_len = seq.tlv_len;
    return FR_OK;
}

/* One of PolicyMappings ::= SEQUENCE SIZE (1..MAX) OF SEQUENCE {
 * issuerDomainPolicy OID, subjectDomainPolicy OID }; anyPolicy is never
 * mapped (RFC 5280 §4.2.1.5). */
static fr_err mapping_step(void *ctx, fr_der_tlv *m) {
    (void)ctx;
    fr_der_tlv a, b;
    FR_TRY(fr_der_read_oid(&m->content, &a));
    FR_TRY(fr_der_read_oid(&m->content, &b));
    FR_TRY(fr_der_done(&m->content));
    FR_ENSURE(!FR_DER_OID_IS(&a, OID_ANY_POLICY) && !FR_DER_OID_IS(&b, OID_ANY_POLICY),
              MALFORMED);
    return FR_OK;
}

static fr_err parse_mappings(fr_cert *c, fr_reader v) {
    fr_der_tlv seq;
    FR_TRY(fr_der_seq_of(v, FR_DER_SEQUENCE, mapping_step, NULL, &seq));
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

/* ---- locations, checked for well-formedness only (§4.2.1.13, §4.2.2.1) -- */

/* AccessDescription ::= SEQUENCE { accessMethod OID, accessLocation
 * GeneralName }, of AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX)
 * OF AccessDescription (RFC 5280 §4.2.2.1). */
static fr_err access_description_step(void *ctx, fr_der_tlv *ad) {
    (void)ctx;
    fr_der_tlv oid, gn;
    FR_TRY(fr_der_read_oid(&ad->content, &oid));
    FR_TRY(fr_der_read_any(&ad->content, &gn));
    FR_TRY(fr_x509_check_general_name(&gn));
    return fr_der_done(&ad->content);
}

static fr_err parse_aia(fr_cert *c, fr_reader v) {
    (void)c;
    return fr_der_seq_of(v, FR_DER_SEQUENCE, access_description_step, NULL, NULL);
}

/* DistributionPoint ::= SEQUENCE { distributionPoint [0] OPTIONAL,
 * reasons [1] OPTIONAL, cRLIssuer [2] OPTIONAL }, with distributionPoint
 * or cRLIssuer present, of CRLDistributionPoints ::= SEQUENCE SIZE
 * (1..MAX) OF DistributionPoint (RFC 5280 §4.2.1.13). */
static fr_err distribution_point_step(void *ctx, fr_der_tlv *dp) {
    (void)ctx;
    fr_der_tlv t;
    int has_dp, has_reasons, has_issuer;
    FR_TRY(fr_der_read_optional(&dp->content, FR_DER_CTX_CONS(0), &t, &has_dp));
    if (has_dp) {
        /* DistributionPointName ::= CHOICE { fullName [0] GeneralNames,
         * nameRelativeToCRLIssuer [1] RelativeDistinguishedName } */
        fr_der_tlv name;
        FR_TRY(fr_der_read_any(&t.content, &name));
        FR_TRY(fr_der_done(&t.content));
        FR_ENSURE(name.tag == FR_DER_CTX_CONS(0) || name.tag == FR_DER_CTX_CONS(1), MALFORMED);
        FR_ENSURE(!fr_reader_empty(&name.content), MALFORMED);
        if (name.tag == FR_DER_CTX_CONS(0)) FR_TRY(check_general_names(name.content));
    }
    FR_TRY(fr_der_read_optional(&dp->content, FR_DER_CTX_PRIM(1), &t, &has_reasons));
    FR_TRY(fr_der_read_optional(&dp->content, FR_DER_CTX_CONS(2), &t, &has_issuer));
    FR_TRY(fr_der_done(&dp->content));
    FR_ENSURE(has_dp || has_issuer, MALFORMED);
    return FR_OK;
}

static fr_err parse_crldp(fr_cert *c, fr_reader v) {
    (void)c;
    return fr_der_seq_of(v, FR_DER_SEQUENCE, distribution_point_step, NULL, NULL);
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

/* ---- the Extensions field ---------------------------------------------- */

/* The extensions we parse: OID, fr_cert.ext_present bit, parser. */
typedef struct ext_kind {
    const uint8_t *oid;
    size_t oid_len;
    unsigned bit;
    fr_err (*parse)(fr_cert *c, fr_reader v);
} ext_kind;

#define EXT(oid, bit, fn) {oid, sizeof(oid), bit, fn}
static const ext_kind EXTS[] = {
    EXT(OID_EXT_BC, FR_EXT_BC, parse_basic_constraints),
    EXT(OID_EXT_KU, FR_EXT_KU, parse_key_usage),
    EXT(OID_EXT_SAN, FR_EXT_SAN, parse_san),
    EXT(OID_EXT_EKU, FR_EXT_EKU, parse_eku),
    EXT(OID_EXT_SKI, FR_EXT_SKI, parse_ski),
    EXT(OID_EXT_AKI, FR_EXT_AKI, parse_aki),
    EXT(OID_EXT_NC, FR_EXT_NC, parse_nc),
    EXT(OID_EXT_CP, FR_EXT_CP, parse_policies),
    EXT(OID_EXT_PM, FR_EXT_PM, parse_mappings),
    EXT(OID_EXT_PC, FR_EXT_PC, parse_policy_constraints),
    EXT(OID_EXT_IAP, FR_EXT_IAP, parse_inhibit_any),
    EXT(OID_EXT_AIA, FR_EXT_AIA, parse_aia),
    EXT(OID_EXT_CRLDP, FR_EXT_CRLDP, parse_crldp),
    EXT(OID_EXT_TLSF, FR_EXT_TLSF, parse_tls_feature),
};
#undef EXT

typedef struct ext_walk {
    fr_cert *cert;
    fr_der_tlv oids[MAX_EXTENSIONS];
    size_t n;
} ext_walk;

/* Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE,
 *                          extnValue OCTET STRING } */
static fr_err extension_step(void *ctx, fr_der_tlv *ext) {
    ext_walk *w = ctx;
    fr_cert *c = w->cert;
    fr_der_tlv val;
    int critical = 0;
    FR_ENSURE(w->n < MAX_EXTENSIONS, MALFORMED);
    fr_der_tlv *oid = &w->oids[w->n];
    FR_TRY(fr_der_read_oid(&ext->content, oid));
    if (fr_der_peek_tag(&ext->content) == FR_DER_BOOLEAN)
        FR_TRY(fr_der_read_bool(&ext->content, &critical));
    FR_TRY(fr_der_read(&ext->content, FR_DER_OCTET_STRING, &val));
    FR_TRY(fr_der_done(&ext->content));
    /* RFC 5280 §4.2: a certificate MUST NOT include more than one
     * instance of a particular extension. */
    for (size_t i = 0; i < w->n; i++)
        FR_ENSURE(!fr_der_oid_is(&w->oids[i], oid->content.p, fr_der_len(oid)), MALFORMED);
    w->n++;
    for (size_t i = 0; i < sizeof(EXTS) / sizeof(EXTS[0]); i++) {
        if (!fr_der_oid_is(oid, EXTS[i].oid, EXTS[i].oid_len)) continue;
        FR_TRY(EXTS[i].parse(c, val.content));
        c->ext_present |= EXTS[i].bit;
        if (critical) c->ext_critical |= EXTS[i].bit;
        return FR_OK;
    }
    /* RFC 5280 §4.2: a certificate with an unrecognized critical extension
     * MUST be rejected -- when it is used in a path. */
    if (critical) c->unknown_critical = 1;
    return FR_OK;
}

/* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension (the content). */
fr_err fr_x509_parse_cert_extensions(fr_cert *c, fr_reader r) {
    ext_walk w;
    w.cert = c;
    w.n = 0;
    return fr_der_each(r, FR_DER_SEQUENCE, 1, extension_step, &w);
}
