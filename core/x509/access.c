/*
 * access.c - the certificate view behind the public X.509 accessors.
 *
 * fr_cert_parse (cert.c) checks the whole certificate; this file only
 * indexes what it accepted, with the same DER layer: the names, the
 * subjectAltName, extKeyUsage, authorityInfoAccess and
 * cRLDistributionPoints lists, and every extension.  It adds no rule of
 * its own, so a certificate parses here exactly when it parses for the
 * handshake; every read is still checked, and a failure reports
 * CERT_MALFORMED.
 */
#include "access.h"

#define MALFORMED FERRULE_R_CERT_MALFORMED

static const uint8_t OID_EXT_EKU[] = {0x55, 0x1d, 0x25};
static const uint8_t OID_EXT_CRLDP[] = {0x55, 0x1d, 0x1f};
static const uint8_t OID_EXT_AIA[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01};
static const uint8_t OID_RSA_ENC[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
static const uint8_t OID_RSA_PSS[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a};
static const uint8_t OID_EC_PUBKEY[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t OID_ED25519[] = {0x2b, 0x65, 0x70};

/* ---- names ------------------------------------------------------------------ */

/* Walk Name content (RDN SETs of ATV SEQUENCEs); with attrs, fill them. */
static fr_err walk_name(fr_cert_view *v, fr_reader r, fr_x509_attr *attrs, size_t *n) {
    size_t count = 0;
    for (size_t rdn = 0; !fr_reader_empty(&r); rdn++) {
        fr_der_tlv set;
        FR_TRY(fr_der_read(&r, FR_DER_SET, &set));
        while (!fr_reader_empty(&set.content)) {
            fr_der_tlv atv, oid, val;
            FR_TRY(fr_der_read(&set.content, FR_DER_SEQUENCE, &atv));
            FR_TRY(fr_der_read_oid(&atv.content, &oid));
            FR_TRY(fr_der_read_any(&atv.content, &val));
            if (attrs != NULL) {
                fr_x509_attr *a = &attrs[count];
                a->rdn = rdn;
                a->tag = val.tag;
                a->value = val.content.p;
                a->value_len = fr_der_len(&val);
                a->value_der = val.tlv;
                a->value_der_len = val.tlv_len;
                FR_TRY(fr_view_oid_text(v, oid.content.p, fr_der_len(&oid), &a->oid));
            }
            count++;
        }
    }
    *n = count;
    return FR_OK;
}

static fr_err build_name(fr_cert_view *v, const uint8_t *der, size_t len, fr_x509_name *out) {
    fr_reader r = fr_reader_init(der, len);
    fr_der_tlv seq;
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_done(&r));
    size_t n = 0;
    FR_TRY(walk_name(v, seq.content, NULL, &n));
    FR_ENSURE(n <= SIZE_MAX / sizeof(fr_x509_attr), FERRULE_R_OUT_OF_MEMORY);
    fr_x509_attr *attrs = NULL;
    if (n > 0) {
        attrs = fr_view_alloc(v, n * sizeof(*attrs));
        FR_ENSURE(attrs != NULL, FERRULE_R_OUT_OF_MEMORY);
        FR_TRY(walk_name(v, seq.content, attrs, &n));
    }
    out->der = der;
    out->der_len = len;
    out->attrs = attrs;
    out->n_attrs = n;
    return fr_view_name_text(v, out);
}

/* ---- lists ---------------------------------------------------------------------- */

typedef struct builder {
    fr_cert_view *v;
    size_t cap[FR_CERT_LISTS];
} builder;

/* A new zeroed entry at the end of `list` (grown by doubling in the
 * view's storage; the old array stays there, at most as large again). */
static fr_x509_entry *push(builder *b, int list) {
    fr_cert_view *v = b->v;
    size_t n = v->counts[list];
    if (n == b->cap[list]) {
        size_t cap = n == 0 ? 4 : 2 * n;
        if (cap > SIZE_MAX / sizeof(fr_x509_entry)) return NULL;
        fr_x509_entry *e = fr_view_alloc(v, cap * sizeof(*e));
        if (e == NULL) return NULL;
        if (n > 0) memcpy(e, v->lists[list], n * sizeof(*e));
        v->lists[list] = e;
        b->cap[list] = cap;
    }
    v->counts[list] = n + 1;
    return &v->lists[list][n];
}

static fr_err set_oid(fr_cert_view *v, fr_x509_entry *e, const uint8_t *p, size_t n) {
    e->oid_der = p;
    e->oid_der_len = n;
    return fr_view_oid_text(v, p, n, &e->oid);
}

/* One GeneralName (RFC 5280 §4.2.1.6), checked by fr_x509_check_general_name. */
static fr_err add_general_name(builder *b, int list, const fr_der_tlv *gn, size_t group,
                               const fr_der_tlv *method) {
    fr_x509_entry *e = push(b, list);
    FR_ENSURE(e != NULL, FERRULE_R_OUT_OF_MEMORY);
    e->type = gn->tag & 0x1fu;
    e->group = group;
    e->value = gn->content.p;
    e->len = fr_der_len(gn);
    if (method != NULL) FR_TRY(set_oid(b->v, e, method->content.p, fr_der_len(method)));
    fr_reader r = gn->content;
    fr_der_tlv t, in;
    switch (e->type) {
    case 0: /* otherName: type-id OID, value [0] EXPLICIT ANY (one element) */
        FR_TRY(fr_der_read_oid(&r, &t));
        if (method == NULL) FR_TRY(set_oid(b->v, e, t.content.p, fr_der_len(&t)));
        FR_TRY(fr_der_read(&r, FR_DER_CTX_CONS(0), &t));
        if (fr_der_read_any(&t.content, &in) == FR_OK && fr_reader_empty(&t.content)) {
            e->inner_tag = in.tag;
            e->inner = in.content.p;
            e->inner_len = fr_der_len(&in);
        }
        return FR_OK;
    case 4: { /* directoryName */
        fr_x509_name *name = fr_view_alloc(b->v, sizeof(*name));
        FR_ENSURE(name != NULL, FERRULE_R_OUT_OF_MEMORY);
        FR_TRY(build_name(b->v, e->value, e->len, name));
        e->name = name;
        return FR_OK;
    }
    case 8: /* registeredID */
        if (method == NULL) FR_TRY(set_oid(b->v, e, e->value, e->len));
        return FR_OK;
    default: return FR_OK;
    }
}

static fr_err add_general_names(builder *b, int list, fr_reader r, size_t group) {
    while (!fr_reader_empty(&r)) {
        fr_der_tlv gn;
        FR_TRY(fr_der_read_any(&r, &gn));
        FR_TRY(add_general_name(b, list, &gn, group, NULL));
    }
    return FR_OK;
}

/* ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId. */
static fr_err add_eku(builder *b, fr_reader v) {
    fr_der_tlv seq, oid;
    FR_TRY(fr_der_read(&v, FR_DER_SEQUENCE, &seq));
    while (!fr_reader_empty(&seq.content)) {
        FR_TRY(fr_der_read_oid(&seq.content, &oid));
        fr_x509_entry *e = push(b, FR_CERT_LIST_EKU);
        FR_ENSURE(e != NULL, FERRULE_R_OUT_OF_MEMORY);
        FR_TRY(set_oid(b->v, e, oid.content.p, fr_der_len(&oid)));
    }
    return FR_OK;
}

/* AuthorityInfoAccessSyntax (RFC 5280 §4.2.2.1): AccessDescriptions of an
 * accessMethod and an accessLocation GeneralName. */
static fr_err add_aia(builder *b, fr_reader v) {
    fr_der_tlv seq;
    FR_TRY(fr_der_read(&v, FR_DER_SEQUENCE, &seq));
    while (!fr_reader_empty(&seq.content)) {
        fr_der_tlv ad, oid, gn;
        FR_TRY(fr_der_read(&seq.content, FR_DER_SEQUENCE, &ad));
        FR_TRY(fr_der_read_oid(&ad.content, &oid));
        FR_TRY(fr_der_read_any(&ad.content, &gn));
        FR_TRY(add_general_name(b, FR_CERT_LIST_AIA, &gn, 0, &oid));
    }
    return FR_OK;
}

/* CRLDistributionPoints (RFC 5280 §4.2.1.13): the fullName GeneralNames of
 * each DistributionPoint, `group` = its index. */
static fr_err add_crldp(builder *b, fr_reader v) {
    fr_der_tlv seq;
    FR_TRY(fr_der_read(&v, FR_DER_SEQUENCE, &seq));
    for (size_t group = 0; !fr_reader_empty(&seq.content); group++) {
        fr_der_tlv dp, t, name;
        int present;
        FR_TRY(fr_der_read(&seq.content, FR_DER_SEQUENCE, &dp));
        FR_TRY(fr_der_read_optional(&dp.content, FR_DER_CTX_CONS(0), &t, &present));
        if (!present) continue;
        FR_TRY(fr_der_read_any(&t.content, &name));
        if (name.tag == FR_DER_CTX_CONS(0))
            FR_TRY(add_general_names(b, FR_CERT_LIST_CRLDP, name.content, group));
    }
    return FR_OK;
}

/* The content of TBSCertificate's extensions SEQUENCE (empty without). */
static fr_err tbs_extensions(const fr_cert *c, fr_reader *exts) {
    fr_reader r = fr_reader_init(c->tbs, c->tbs_len);
    fr_der_tlv tbs, t;
    int present;
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &tbs));
    FR_TRY(fr_der_read_optional(&tbs.content, FR_DER_CTX_CONS(0), &t, &present));
    /* serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo */
    for (int i = 0; i < 6; i++) FR_TRY(fr_der_read_any(&tbs.content, &t));
    FR_TRY(fr_der_read_optional(&tbs.content, FR_DER_CTX_PRIM(1), &t, &present));
    FR_TRY(fr_der_read_optional(&tbs.content, FR_DER_CTX_PRIM(2), &t, &present));
    FR_TRY(fr_der_read_optional(&tbs.content, FR_DER_CTX_CONS(3), &t, &present));
    *exts = fr_reader_init(NULL, 0);
    if (present) {
        fr_der_tlv seq;
        FR_TRY(fr_der_read(&t.content, FR_DER_SEQUENCE, &seq));
        *exts = seq.content;
    }
    return FR_OK;
}

static fr_err build_extensions(builder *b) {
    fr_reader r;
    FR_TRY(tbs_extensions(b->v->cert, &r));
    while (!fr_reader_empty(&r)) {
        fr_der_tlv ext, oid, val;
        int critical = 0;
        FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &ext));
        FR_TRY(fr_der_read_oid(&ext.content, &oid));
        if (fr_der_peek_tag(&ext.content) == FR_DER_BOOLEAN)
            FR_TRY(fr_der_read_bool(&ext.content, &critical));
        FR_TRY(fr_der_read(&ext.content, FR_DER_OCTET_STRING, &val));
        fr_x509_entry *e = push(b, FR_CERT_LIST_EXT);
        FR_ENSURE(e != NULL, FERRULE_R_OUT_OF_MEMORY);
        FR_TRY(set_oid(b->v, e, oid.content.p, fr_der_len(&oid)));
        e->type = critical ? 1u : 0u;
        e->value = val.content.p;
        e->len = fr_der_len(&val);
        if (FR_DER_OID_IS(&oid, OID_EXT_EKU)) FR_TRY(add_eku(b, val.content));
        if (FR_DER_OID_IS(&oid, OID_EXT_AIA)) FR_TRY(add_aia(b, val.content));
        if (FR_DER_OID_IS(&oid, OID_EXT_CRLDP)) FR_TRY(add_crldp(b, val.content));
    }
    const fr_cert *c = b->v->cert;
    if (c->san != NULL) {
        fr_reader s = fr_reader_init(c->san, c->san_len);
        fr_der_tlv seq;
        FR_TRY(fr_der_read(&s, FR_DER_SEQUENCE, &seq));
        FR_TRY(add_general_names(b, FR_CERT_LIST_SAN, seq.content, 0));
    }
    return FR_OK;
}

/* ---- facts ----------------------------------------------------------------------- */

/* The TLS SignatureScheme of an X.509 signature (RFC 8446 §4.2.3, the
 * schemes of signature_algorithms_cert); RSASSA-PSS as its rsae form. */
static uint16_t sig_scheme(int kind, int hash) {
    static const uint16_t SCHEMES[3][3] = {
        {FERRULE_SIG_RSA_PKCS1_SHA256, FERRULE_SIG_RSA_PKCS1_SHA384, FERRULE_SIG_RSA_PKCS1_SHA512},
        {FERRULE_SIG_RSA_PSS_RSAE_SHA256, FERRULE_SIG_RSA_PSS_RSAE_SHA384,
         FERRULE_SIG_RSA_PSS_RSAE_SHA512},
        {FERRULE_SIG_ECDSA_SECP256R1_SHA256, FERRULE_SIG_ECDSA_SECP384R1_SHA384,
         0x0603 /* ecdsa_secp521r1_sha512 */}};
    if (kind == FR_SIGKIND_ED25519) return FERRULE_SIG_ED25519;
    if (kind < FR_SIGKIND_RSA_PKCS1 || kind > FR_SIGKIND_ECDSA) return 0;
    if (hash < FR_HASH_SHA256 || hash > FR_HASH_SHA512) return 0;
    return SCHEMES[kind - FR_SIGKIND_RSA_PKCS1][hash - FR_HASH_SHA256];
}

static fr_err signature_facts(fr_cert_view *v) {
    const fr_cert *c = v->cert;
    fr_reader r = fr_reader_init(c->der, c->der_len);
    fr_der_tlv cert, t, alg, oid;
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &cert));
    FR_TRY(fr_der_read_any(&cert.content, &t)); /* tbsCertificate */
    FR_TRY(fr_der_read(&cert.content, FR_DER_SEQUENCE, &alg));
    FR_TRY(fr_der_read_oid(&alg.content, &oid));
    FR_TRY(fr_view_oid_text(v, oid.content.p, fr_der_len(&oid), &v->facts.sig_oid));
    v->facts.sig_scheme = sig_scheme(c->sig_kind, c->sig_hash);
    return FR_OK;
}

static fr_err key_facts(fr_cert_view *v) {
    const fr_cert *c = v->cert;
    fr_cert_facts *f = &v->facts;
    fr_reader r = fr_reader_init(c->spki, c->spki_len);
    fr_der_tlv spki, alg, oid, curve;
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &spki));
    FR_TRY(fr_der_read(&spki.content, FR_DER_SEQUENCE, &alg));
    FR_TRY(fr_der_read_oid(&alg.content, &oid));
    FR_TRY(fr_view_oid_text(v, oid.content.p, fr_der_len(&oid), &f->key_oid));
    f->key_type = FR_DER_OID_IS(&oid, OID_RSA_ENC)       ? FR_CERT_KEYTYPE_RSA
                  : FR_DER_OID_IS(&oid, OID_RSA_PSS)     ? FR_CERT_KEYTYPE_RSA_PSS
                  : FR_DER_OID_IS(&oid, OID_EC_PUBKEY)   ? FR_CERT_KEYTYPE_EC
                  : FR_DER_OID_IS(&oid, OID_ED25519)     ? FR_CERT_KEYTYPE_ED25519
                                                         : FR_CERT_KEYTYPE_OTHER;
    /* RFC 5480 §2.1.1: ECParameters namedCurve (an OID); the other choices
     * leave curve_oid NULL. */
    if (f->key_type == FR_CERT_KEYTYPE_EC && fr_der_peek_tag(&alg.content) == FR_DER_OID) {
        FR_TRY(fr_der_read_oid(&alg.content, &curve));
        FR_TRY(fr_view_oid_text(v, curve.content.p, fr_der_len(&curve), &f->curve_oid));
    }
    f->key_bits = c->key_bits <= UINT32_MAX ? (uint32_t)c->key_bits : 0;
    f->spki = c->spki;
    f->spki_len = c->spki_len;
    return fr_hash(FR_HASH_SHA256, c->spki, c->spki_len, f->spki_sha256);
}

static fr_err build_facts(fr_cert_view *v) {
    const fr_cert *c = v->cert;
    fr_cert_facts *f = &v->facts;
    f->der = c->der;
    f->der_len = c->der_len;
    f->version = (uint32_t)c->version + 1u;
    f->serial = c->serial;
    f->serial_len = c->serial_len;
    f->not_before = c->not_before;
    f->not_after = c->not_after;
    f->bc_present = (c->ext_present & FR_EXT_BC) != 0;
    f->is_ca = c->is_ca != 0;
    f->has_path_len = c->path_len >= 0;
    f->path_len = c->path_len >= 0 ? (uint32_t)c->path_len : 0;
    f->ku_present = c->has_key_usage != 0;
    f->key_usage = c->key_usage;
    FR_TRY(signature_facts(v));
    return key_facts(v);
}

/* ---- the view ---------------------------------------------------------------------- */

static fr_err build(fr_cert_view *v, const uint8_t *der, size_t len) {
    FR_TRY(fr_cert_parse(&v->mem, der, len, &v->cert));
    const fr_cert *c = v->cert;
    FR_TRY(build_facts(v));
    FR_TRY(build_name(v, c->subject, c->subject_len, &v->subject));
    FR_TRY(build_name(v, c->issuer, c->issuer_len, &v->issuer));
    builder b = {v, {0}};
    return build_extensions(&b);
}

uint32_t fr_cert_view_new(const uint8_t *der, size_t len, fr_cert_view **out) {
    FR_ENSURE(out != NULL, FERRULE_R_NULL_ARGUMENT);
    *out = NULL;
    FR_ENSURE(der != NULL, FERRULE_R_NULL_ARGUMENT);
    fr_mem boot;
    fr_mem_init(&boot, NULL, 0);
    fr_cert_view *v = fr_mem_alloc(&boot, sizeof(*v));
    FR_ENSURE(v != NULL, FERRULE_R_OUT_OF_MEMORY);
    fr_mem_init(&v->mem, NULL, 0);
    fr_mem_adopt(&v->mem, &boot);
    fr_err e = build(v, der, len);
    if (e != FR_OK) {
        fr_cert_view_free(v);
        return e;
    }
    *out = v;
    return FR_OK;
}

void fr_cert_view_free(fr_cert_view *v) {
    if (v == NULL) return;
    for (fr_view_block *b = v->blocks, *next; b != NULL; b = next) {
        next = b->next;
        fr_mem_free(&v->mem, b, FR_VIEW_HEAD + b->size);
    }
    fr_cert_free(&v->mem, v->cert);
    fr_mem_free_owner(&v->mem, v, sizeof(*v));
}

const fr_cert_facts *fr_cert_view_facts(const fr_cert_view *v) { return &v->facts; }

uint32_t fr_cert_view_name(const fr_cert_view *v, size_t which, const fr_x509_name **out) {
    *out = NULL;
    if (which == FR_CERT_NAME_SUBJECT) {
        *out = &v->subject;
    } else if (which == FR_CERT_NAME_ISSUER) {
        *out = &v->issuer;
    } else {
        size_t i = which - FR_CERT_NAME_SAN;
        FR_ENSURE(i < v->counts[FR_CERT_LIST_SAN], FERRULE_R_NOT_FOUND);
        *out = v->lists[FR_CERT_LIST_SAN][i].name;
        FR_ENSURE(*out != NULL, FERRULE_R_NOT_FOUND);
    }
    return FR_OK;
}

size_t fr_cert_view_count(const fr_cert_view *v, int list) {
    return list >= 0 && list < FR_CERT_LISTS ? v->counts[list] : 0;
}

uint32_t fr_cert_view_entry(const fr_cert_view *v, int list, size_t i,
                            const fr_x509_entry **out) {
    *out = NULL;
    FR_ENSURE(i < fr_cert_view_count(v, list), FERRULE_R_NOT_FOUND);
    *out = &v->lists[list][i];
    return FR_OK;
}
