/* test_x509_rfc5280.c - the issue 3 engine: extension parsers (SKI, AKI,
 * nameConstraints, certificatePolicies, policyConstraints, policyMappings,
 * inhibitAnyPolicy, AIA, CRL distribution points, TLS feature), RFC 5280
 * §7.1 name comparison, name constraints per form, the profile rules
 * (criticality, key identifiers, EKU, serials, keys), certificate
 * policies, path building with key identifiers and cross-signs, the work
 * budgets, and CRLs.
 *
 * Certificates are built here: a small DER writer assembles each
 * TBSCertificate and libcrypto signs it (ECDSA P-256 / SHA-256), so every
 * test states exactly the one property it is about. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "x509/der.h"
#include "x509/x509.h"

/* ---- a tiny DER writer ------------------------------------------------- */

typedef struct B {
    uint8_t *p;
    size_t n;
} B;

static B raw(const void *p, size_t n) {
    B b = {malloc(n ? n : 1), n};
    if (n)
        memcpy(b.p, p, n);
    return b;
}
static B str(const char *s) { return raw(s, strlen(s)); }
static B none(void) { return raw(NULL, 0); }

/* Concatenate k buffers (consumed). */
static B cat(int k, ...) {
    va_list ap;
    B out = none();
    va_start(ap, k);
    for (int i = 0; i < k; i++) {
        B b = va_arg(ap, B);
        out.p = realloc(out.p, out.n + b.n + 1);
        if (b.n)
            memcpy(out.p + out.n, b.p, b.n);
        out.n += b.n;
        free(b.p);
    }
    va_end(ap);
    return out;
}

/* Tag + definite minimal length + content (consumed). */
static B tlv(uint8_t tag, B c) {
    uint8_t h[6];
    size_t hn = 0;
    h[hn++] = tag;
    if (c.n < 0x80) {
        h[hn++] = (uint8_t)c.n;
    } else if (c.n < 0x100) {
        h[hn++] = 0x81;
        h[hn++] = (uint8_t)c.n;
    } else if (c.n < 0x10000) {
        h[hn++] = 0x82;
        h[hn++] = (uint8_t)(c.n >> 8);
        h[hn++] = (uint8_t)c.n;
    } else {
        h[hn++] = 0x83;
        h[hn++] = (uint8_t)(c.n >> 16);
        h[hn++] = (uint8_t)(c.n >> 8);
        h[hn++] = (uint8_t)c.n;
    }
    return cat(2, raw(h, hn), c);
}
#define SEQ(...) tlv(0x30, cat(__VA_ARGS__))

static B hexb(const char *hex) {
    size_t n;
    unsigned char *p = tl_unhex(hex, &n);
    B b = raw(p, n);
    free(p);
    return b;
}
static B oid(const char *hex) { return tlv(0x06, hexb(hex)); }
static B integer(long v) {
    /* minimal two's complement (X.690 §8.3.2) */
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((unsigned long)v >> (56 - 8 * i));
    size_t i = 0;
    while (i < 7 && ((b[i] == 0x00 && !(b[i + 1] & 0x80)) || (b[i] == 0xff && (b[i + 1] & 0x80))))
        i++;
    return tlv(0x02, raw(b + i, 8 - i));
}
static B boolean_true(void) { return hexb("0101ff"); }

/* OIDs (content hex). */
#define O_CN "550403"
#define O_O "55040a"
#define O_EMAIL "2a864886f70d010901"
#define O_BC "551d13"
#define O_KU "551d0f"
#define O_EKU "551d25"
#define O_SAN "551d11"
#define O_SKI "551d0e"
#define O_AKI "551d23"
#define O_NC "551d1e"
#define O_CP "551d20"
#define O_PM "551d21"
#define O_PC "551d24"
#define O_IAP "551d36"
#define O_AIA "2b06010505070101"
#define O_CRLDP "551d1f"
#define O_TLSF "2b06010505070118"
#define O_KP_SERVER "2b06010505070301"
#define O_KP_CLIENT "2b06010505070302"
#define O_ANY_EKU "551d2500"
#define O_ANY_POLICY "551d2000"
#define O_POL1 "2b0601040182b7630101"
#define O_POL2 "2b0601040182b7630102"
#define O_ECDSA_SHA256 "2a8648ce3d040302"

/* Name with one CN (UTF8String) and optionally an O before it. */
static B name2(const char *o, const char *cn) {
    B rdns = none();
    if (o)
        rdns = cat(2, rdns, tlv(0x31, SEQ(2, oid(O_O), tlv(0x0c, str(o)))));
    if (cn)
        rdns = cat(2, rdns, tlv(0x31, SEQ(2, oid(O_CN), tlv(0x0c, str(cn)))));
    return tlv(0x30, rdns);
}
static B name_cn(const char *cn) { return name2(NULL, cn); }
static B copy(B b) { return raw(b.p, b.n); }

static B ext(const char *oid_hex, int critical, B value) {
    return SEQ(3, oid(oid_hex), critical ? boolean_true() : none(), tlv(0x04, value));
}

/* GeneralName helpers. */
static B gn_dns(const char *s) { return tlv(0x82, str(s)); }
static B gn_email(const char *s) { return tlv(0x81, str(s)); }
static B gn_ip(const char *hex) { return tlv(0x87, hexb(hex)); }
static B gn_dir(B name) { return tlv(0xa4, name); }
static B gn_uri(const char *s) { return tlv(0x86, str(s)); }

static B e_bc_ca(int pathlen) {
    return ext(O_BC, 1,
               pathlen < 0 ? SEQ(1, boolean_true()) : SEQ(2, boolean_true(), integer(pathlen)));
}
static B e_ku(const char *bits_hex) { return ext(O_KU, 1, tlv(0x03, hexb(bits_hex))); }
static B e_ku_ca(void) { return e_ku("0106"); }   /* keyCertSign, cRLSign */
static B e_ku_leaf(void) { return e_ku("0780"); } /* digitalSignature */
static B e_eku(const char *kp) { return ext(O_EKU, 0, SEQ(1, oid(kp))); }
static B e_san(B names) { return ext(O_SAN, 0, tlv(0x30, names)); }
static B e_nc(B permitted, B excluded) {
    B c = none();
    if (permitted.n)
        c = cat(2, c, tlv(0xa0, permitted));
    else
        free(permitted.p);
    if (excluded.n)
        c = cat(2, c, tlv(0xa1, excluded));
    else
        free(excluded.p);
    return ext(O_NC, 1, tlv(0x30, c));
}
static B subtree(B gn) { return SEQ(1, gn); }

/* ---- keys and certificates --------------------------------------------- */

typedef struct key {
    EVP_PKEY *pk;
    uint8_t id[20]; /* key identifier */
} key;

static int g_key_counter;
static key new_key(void) {
    key k;
    k.pk = EVP_EC_gen("P-256");
    memset(k.id, 0, sizeof(k.id));
    k.id[0] = 0x4b;
    k.id[19] = (uint8_t)++g_key_counter;
    k.id[18] = (uint8_t)(g_key_counter >> 8);
    return k;
}

static B spki(const key *k) {
    unsigned char *p = NULL;
    int n = i2d_PUBKEY(k->pk, &p);
    B b = raw(p, (size_t)n);
    OPENSSL_free(p);
    return b;
}
static B e_ski(const key *k) { return ext(O_SKI, 0, tlv(0x04, raw(k->id, 20))); }
static B e_aki(const key *k) { return ext(O_AKI, 0, SEQ(1, tlv(0x80, raw(k->id, 20)))); }

static B sign(B tbs, const key *issuer) {
    B alg = SEQ(1, oid(O_ECDSA_SHA256));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t sl = 0;
    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, issuer->pk);
    EVP_DigestSign(ctx, NULL, &sl, tbs.p, tbs.n);
    uint8_t *sig = malloc(sl);
    EVP_DigestSign(ctx, sig, &sl, tbs.p, tbs.n);
    EVP_MD_CTX_free(ctx);
    B bits = cat(2, hexb("00"), raw(sig, sl));
    free(sig);
    return SEQ(3, tbs, alg, tlv(0x03, bits));
}

/* validity 2020-01-01 .. 2060-01-01 (UTCTime / GeneralizedTime per RFC
 * 5280 §4.1.2.5) */
#define NOW ((int64_t)1700000000) /* 2023-11-14 */
static int g_expired; /* certificates made while set expired in 2021 */
static B validity(void) {
    if (g_expired) return SEQ(2, tlv(0x17, str("200101000000Z")), tlv(0x17, str("210101000000Z")));
    return SEQ(2, tlv(0x17, str("200101000000Z")), tlv(0x18, str("20600101000000Z")));
}

/* A certificate: subject/issuer names (consumed), keys, serial, the
 * extensions' concatenation (consumed; none() for none). */
/* The same with the SubjectPublicKeyInfo given as DER (consumed). */
static B mkcert_spki(B subject, B issuer, B spki_der, const key *ik, long serial, B exts) {
    B tbs = SEQ(8, tlv(0xa0, integer(2)), integer(serial), SEQ(1, oid(O_ECDSA_SHA256)), issuer,
                validity(), subject, spki_der, exts.n ? tlv(0xa3, tlv(0x30, exts)) : exts);
    return sign(tbs, ik);
}
static B mkcert(B subject, B issuer, const key *k, const key *ik, long serial, B exts) {
    return mkcert_spki(subject, issuer, spki(k), ik, serial, exts);
}

static long g_serial = 1000;

/* A CA certificate with the usual extensions plus `extra`. */
static B mkca(const char *cn, const key *k, const char *icn, const key *ik, B extra) {
    int self = ik == k;
    B exts = cat(4, e_bc_ca(-1), e_ku_ca(), e_ski(k), self ? none() : e_aki(ik));
    return mkcert(name_cn(cn), name_cn(icn), k, ik, g_serial++, cat(2, exts, extra));
}
/* A server leaf with SAN `names` (consumed) plus `extra`. */
static B mkleaf(const char *cn, const key *k, const char *icn, const key *ik, B names, B extra) {
    B exts = cat(6, e_ku_leaf(), e_eku(O_KP_SERVER), names.n ? e_san(names) : names, e_ski(k),
                 e_aki(ik), extra);
    /* no CN given: subject O=leaf (no CN to repeat the SAN) */
    return mkcert(cn ? name_cn(cn) : name2("leaf", NULL), name_cn(icn), k, ik, g_serial++, exts);
}

/* ---- verification helpers ---------------------------------------------- */

typedef struct env {
    fr_mem m;
    fr_trust_store t;
    fr_cert *chain[64];
    size_t n;
} env;

static void env_init(env *e) {
    memset(e, 0, sizeof(*e));
    fr_mem_init(&e->m, NULL, 0);
    fr_trust_init(&e->t);
}
static void env_anchor(env *e, B der) {
    CHECK_EQ(fr_trust_add_der(&e->m, &e->t, der.p, der.n), FR_OK);
    free(der.p);
}
static void env_add(env *e, B der) {
    fr_cert *c = NULL;
    fr_err err = fr_cert_parse(&e->m, der.p, der.n, &c);
    CHECK_EQ(err, FR_OK);
    free(der.p);
    if (c != NULL && e->n < 64)
        e->chain[e->n++] = c;
    else
        fr_cert_free(&e->m, c);
}
/* fr_verify_params.cn_in_san of the verifications below. */
static int g_cn_in_san;

static fr_err env_verify_ex(env *e, const char *name, int purpose, const fr_crl *const *crls,
                            size_t ncrl, fr_verify_stats *st) {
    fr_verify_params p;
    memset(&p, 0, sizeof(p));
    p.cn_in_san = g_cn_in_san;
    p.now = NOW;
    p.peer_name = name;
    p.purpose = purpose;
    p.crls = crls;
    p.n_crls = ncrl;
    if (e->n == 0)
        return FERRULE_R_CERT_MISSING;
    return fr_verify_chain_ex(&e->t, e->chain, e->n, &p, st);
}
static fr_err env_verify(env *e, const char *name) {
    return env_verify_ex(e, name, FR_VERIFY_SERVER, NULL, 0, NULL);
}
static void env_free(env *e) {
    for (size_t i = 0; i < e->n; i++)
        fr_cert_free(&e->m, e->chain[i]);
    fr_trust_free(&e->m, &e->t);
    CHECK_EQ(e->m.used, 0);
}

/* Parse only. */
static fr_err parse(B der) {
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    fr_cert *c = NULL;
    fr_err e = fr_cert_parse(&m, der.p, der.n, &c);
    fr_cert_free(&m, c);
    free(der.p);
    return e;
}

/* Verify root -> leaf where the leaf carries `leaf_extra` and SAN names,
 * and the root carries `root_extra`. */
static fr_err one_level_cn(B root_extra, const char *cn, B names, B leaf_extra, const char *peer) {
    key rk = new_key(), lk = new_key();
    env e;
    env_init(&e);
    env_anchor(&e, mkca("root", &rk, "root", &rk, root_extra));
    env_add(&e, mkleaf(cn, &lk, "root", &rk, names, leaf_extra));
    fr_err r = env_verify(&e, peer);
    env_free(&e);
    EVP_PKEY_free(rk.pk);
    EVP_PKEY_free(lk.pk);
    return r;
}

static fr_err one_level(B root_extra, B names, B leaf_extra, const char *peer) {
    return one_level_cn(root_extra, NULL, names, leaf_extra, peer);
}

/* A leaf whose only odd part is one extension (for parser tests). */
static fr_err parse_with_ext(B extension) {
    key k = new_key();
    B c = mkcert(name_cn("x"), name_cn("x"), &k, &k, 7, extension);
    EVP_PKEY_free(k.pk);
    return parse(c);
}

static fr_cert *parsed(fr_mem *m, B der) {
    fr_cert *c = NULL;
    CHECK_EQ(fr_cert_parse(m, der.p, der.n, &c), FR_OK);
    free(der.p);
    return c;
}

#define MAL FERRULE_R_CERT_MALFORMED
#define NCE FERRULE_R_CERT_NAME_CONSTRAINTS

/* ---- extension parsers ------------------------------------------------- */

TEST(ext_key_identifiers) {
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    key k = new_key(), ik = new_key();
    fr_cert *c =
        parsed(&m, mkcert(name_cn("a"), name_cn("b"), &k, &ik, 5, cat(2, e_ski(&k), e_aki(&ik))));
    if (c) {
        CHECK_EQ(c->ski_len, 20);
        CHECK(c->ski && memcmp(c->ski, k.id, 20) == 0);
        CHECK_EQ(c->aki_keyid_len, 20);
        CHECK(c->aki_keyid && memcmp(c->aki_keyid, ik.id, 20) == 0);
        CHECK(!c->aki_issuer_serial);
        CHECK(c->ext_present & FR_EXT_SKI);
        CHECK(c->ext_present & FR_EXT_AKI);
        CHECK(!(c->ext_critical & (FR_EXT_SKI | FR_EXT_AKI)));
    }
    fr_cert_free(&m, c);
    /* AKI with issuer + serial */
    c = parsed(&m, mkcert(name_cn("a"), name_cn("b"), &k, &ik, 5,
                          ext(O_AKI, 0,
                              SEQ(3, tlv(0x80, hexb("01")), tlv(0xa1, gn_dir(name_cn("b"))),
                                  tlv(0x82, hexb("05"))))));
    if (c)
        CHECK(c->aki_issuer_serial);
    fr_cert_free(&m, c);
    CHECK_EQ(m.used, 0);
    /* negatives: wrong tag, empty, trailing bytes, truncated, out of order */
    CHECK_EQ(parse_with_ext(ext(O_SKI, 0, tlv(0x02, hexb("01")))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_SKI, 0, tlv(0x04, none()))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_SKI, 0, cat(2, tlv(0x04, hexb("01")), hexb("00")))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_SKI, 0, hexb("0405aabb"))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_AKI, 0, tlv(0x04, hexb("01")))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_AKI, 0, SEQ(1, tlv(0x80, none())))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_AKI, 0, SEQ(2, tlv(0x82, hexb("05")), tlv(0x80, hexb("01"))))),
             MAL);
    CHECK_EQ(parse_with_ext(ext(O_AKI, 0, SEQ(1, tlv(0xa1, none())))), MAL);
    /* duplicate */
    CHECK_EQ(parse_with_ext(cat(2, e_ski(&k), e_ski(&k))), MAL);
    /* critical SKI/AKI parse (the rule applies in a path) */
    CHECK_EQ(parse_with_ext(ext(O_SKI, 1, tlv(0x04, hexb("01")))), FR_OK);
    EVP_PKEY_free(k.pk);
    EVP_PKEY_free(ik.pk);
}

TEST(ext_name_constraints_parse) {
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    key k = new_key();
    fr_cert *c = parsed(&m, mkcert(name_cn("a"), name_cn("a"), &k, &k, 5,
                                   e_nc(subtree(gn_dns("example.com")), none())));
    if (c) {
        CHECK(c->nc != NULL);
        CHECK(c->ext_critical & FR_EXT_NC);
    }
    fr_cert_free(&m, c);
    CHECK_EQ(m.used, 0);
    /* empty NameConstraints, empty subtrees, NULL subtrees */
    CHECK_EQ(parse_with_ext(ext(O_NC, 1, SEQ(0))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_NC, 1, SEQ(1, tlv(0xa0, none())))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_NC, 1, SEQ(1, hexb("0500")))), MAL);
    /* minimum / maximum present (RFC 5280: MUST be absent / zero) */
    CHECK_EQ(parse_with_ext(
                 ext(O_NC, 1, SEQ(1, tlv(0xa0, SEQ(2, gn_dns("a.b"), tlv(0x80, hexb("01"))))))),
             MAL);
    /* excluded before permitted, trailing bytes, bad GeneralName tag */
    CHECK_EQ(
        parse_with_ext(ext(
            O_NC, 1, SEQ(2, tlv(0xa1, subtree(gn_dns("a.b"))), tlv(0xa0, subtree(gn_dns("a.b")))))),
        MAL);
    CHECK_EQ(
        parse_with_ext(ext(O_NC, 1, cat(2, SEQ(1, tlv(0xa0, subtree(gn_dns("a.b")))), hexb("00")))),
        MAL);
    CHECK_EQ(parse_with_ext(ext(O_NC, 1, SEQ(1, tlv(0xa0, subtree(tlv(0x89, hexb("00"))))))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_NC, 1, SEQ(1, tlv(0xa0, subtree(tlv(0x84, hexb("00"))))))), MAL);
    CHECK_EQ(parse_with_ext(cat(2, e_nc(subtree(gn_dns("a.b")), none()),
                                e_nc(subtree(gn_dns("a.b")), none()))),
             MAL);
    EVP_PKEY_free(k.pk);
}

TEST(ext_policies_parse) {
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    key k = new_key();
    B cp = ext(O_CP, 0,
               SEQ(2, SEQ(1, oid(O_POL1)),
                   SEQ(2, oid(O_POL2),
                       SEQ(1, SEQ(2, oid("2b06010505070201"), tlv(0x16, str("http://x")))))));
    B pc = ext(O_PC, 1, SEQ(2, tlv(0x80, hexb("00")), tlv(0x81, hexb("02"))));
    B pm = ext(O_PM, 0, SEQ(1, SEQ(2, oid(O_POL1), oid(O_POL2))));
    B iap = ext(O_IAP, 1, integer(3));
    fr_cert *c = parsed(&m, mkcert(name_cn("a"), name_cn("a"), &k, &k, 5, cat(4, cp, pc, pm, iap)));
    if (c) {
        CHECK(c->policies != NULL);
        CHECK(c->mappings != NULL);
        CHECK_EQ(c->require_explicit, 0);
        CHECK_EQ(c->inhibit_mapping, 2);
        CHECK_EQ(c->inhibit_any, 3);
    }
    fr_cert_free(&m, c);
    c = parsed(&m, mkcert(name_cn("a"), name_cn("a"), &k, &k, 5, none()));
    if (c)
        CHECK(c->require_explicit == -1 && c->inhibit_mapping == -1 && c->inhibit_any == -1);
    fr_cert_free(&m, c);
    CHECK_EQ(m.used, 0);
    /* certificatePolicies: empty, duplicate OID, qualifier list empty */
    CHECK_EQ(parse_with_ext(ext(O_CP, 0, SEQ(0))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_CP, 0, SEQ(2, SEQ(1, oid(O_POL1)), SEQ(1, oid(O_POL1))))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_CP, 0, SEQ(1, SEQ(2, oid(O_POL1), SEQ(0))))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_CP, 0, SEQ(1, SEQ(1, integer(1))))), MAL);
    /* policyConstraints: empty, non-minimal integer, wrong order */
    CHECK_EQ(parse_with_ext(ext(O_PC, 1, SEQ(0))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_PC, 1, SEQ(1, tlv(0x80, hexb("0001"))))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_PC, 1, SEQ(2, tlv(0x81, hexb("00")), tlv(0x80, hexb("00"))))),
             MAL);
    /* policyMappings: anyPolicy mapped, empty, one OID */
    CHECK_EQ(parse_with_ext(ext(O_PM, 0, SEQ(1, SEQ(2, oid(O_ANY_POLICY), oid(O_POL2))))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_PM, 0, SEQ(0))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_PM, 0, SEQ(1, SEQ(1, oid(O_POL1))))), MAL);
    /* inhibitAnyPolicy: negative, wrong type, trailing */
    CHECK_EQ(parse_with_ext(ext(O_IAP, 1, tlv(0x02, hexb("ff")))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_IAP, 1, tlv(0x04, hexb("01")))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_IAP, 1, cat(2, integer(1), hexb("00")))), MAL);
    EVP_PKEY_free(k.pk);
}

TEST(ext_aia_crldp_tlsfeature_parse) {
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    key k = new_key();
    B aia = ext(O_AIA, 0, SEQ(1, SEQ(2, oid("2b06010505073001"), gn_uri("http://ocsp"))));
    B dp = ext(O_CRLDP, 0, SEQ(1, SEQ(1, tlv(0xa0, tlv(0xa0, gn_uri("http://crl"))))));
    B tf = ext(O_TLSF, 0, SEQ(1, integer(5)));
    fr_cert *c = parsed(&m, mkcert(name_cn("a"), name_cn("a"), &k, &k, 5, cat(3, aia, dp, tf)));
    if (c) {
        CHECK(c->must_staple);
        CHECK(c->ext_present & FR_EXT_AIA);
        CHECK(c->ext_present & FR_EXT_CRLDP);
        CHECK(c->ext_present & FR_EXT_TLSF);
    }
    fr_cert_free(&m, c);
    /* a TLS feature without status_request is not must-staple */
    c = parsed(&m,
               mkcert(name_cn("a"), name_cn("a"), &k, &k, 5, ext(O_TLSF, 0, SEQ(1, integer(17)))));
    if (c)
        CHECK(!c->must_staple);
    fr_cert_free(&m, c);
    CHECK_EQ(m.used, 0);
    /* AIA: empty, no location, bad location, trailing */
    CHECK_EQ(parse_with_ext(ext(O_AIA, 0, SEQ(0))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_AIA, 0, SEQ(1, SEQ(1, oid("2b06010505073001"))))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_AIA, 0, SEQ(1, SEQ(2, oid("2b06010505073001"), str("xx"))))),
             MAL);
    CHECK_EQ(parse_with_ext(ext(O_AIA, 0, hexb("3000"))), MAL);
    CHECK_EQ(
        parse_with_ext(ext(
            O_AIA, 0, cat(2, SEQ(1, SEQ(2, oid("2b06010505073001"), gn_uri("u"))), hexb("00")))),
        MAL);
    /* CRLDP: empty, a point with neither name nor issuer */
    CHECK_EQ(parse_with_ext(ext(O_CRLDP, 0, SEQ(0))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_CRLDP, 0, SEQ(1, SEQ(0)))), MAL);
    /* TLS feature: not integers, negative */
    CHECK_EQ(parse_with_ext(ext(O_TLSF, 0, SEQ(1, oid("2a03")))), MAL);
    CHECK_EQ(parse_with_ext(ext(O_TLSF, 0, SEQ(1, tlv(0x02, hexb("fb"))))), MAL);
    /* SAN with non-ASCII dNSName, bad directoryName */
    CHECK_EQ(parse_with_ext(e_san(tlv(0x82, hexb("e282ac")))), MAL);
    CHECK_EQ(parse_with_ext(e_san(tlv(0xa4, hexb("0500")))), MAL);
    EVP_PKEY_free(k.pk);
}

TEST(spki_algorithms) {
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    key k = new_key();
    fr_cert *c = parsed(&m, mkcert(name_cn("a"), name_cn("a"), &k, &k, 5, none()));
    if (c) {
        CHECK_EQ(c->key_kind, FR_CERT_KEY_EC_P256);
        CHECK_EQ(c->key_bits, 256);
    }
    fr_cert_free(&m, c);
    /* P-192 parses, but its key is not usable */
    EVP_PKEY *p192 = EVP_EC_gen("P-192");
    if (p192 != NULL) {
        key w = {p192, {0}};
        c = parsed(&m, mkcert(name_cn("a"), name_cn("a"), &w, &k, 5, none()));
        if (c) {
            CHECK_EQ(c->key_kind, 0);
            EVP_PKEY *ck;
            CHECK_EQ(fr_cert_key(c, &ck), FERRULE_R_CERT_UNSUPPORTED);
        }
        fr_cert_free(&m, c);
        EVP_PKEY_free(p192);
    }
    CHECK_EQ(m.used, 0);
    EVP_PKEY_free(k.pk);
}

/* ---- unsupported key algorithms are never decoded (issue 9 item D) ---- */

/* Every allocation libcrypto makes is counted: a certificate whose key
 * algorithm we do not support must parse without libcrypto allocating
 * anything, i.e. without any of its decoders running. */
/* Atomic: libcrypto allocates from every thread, e.g. in
 * trust_anchor_key_first_use_threads (a plain counter is a data race that
 * make check-tsan reports). */
static atomic_size_t g_crypto_allocs;
static int g_counting;
static void *count_malloc(size_t n, const char *file, int line) {
    (void)file;
    (void)line;
    atomic_fetch_add(&g_crypto_allocs, 1);
    return malloc(n);
}
static void *count_realloc(void *p, size_t n, const char *file, int line) {
    (void)file;
    (void)line;
    atomic_fetch_add(&g_crypto_allocs, 1);
    return realloc(p, n);
}
static void count_free(void *p, const char *file, int line) {
    (void)file;
    (void)line;
    free(p);
}
/* Before main: libcrypto takes custom allocators only before its first
 * allocation. */
__attribute__((constructor)) static void install_alloc_counter(void) {
    g_counting = CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free);
}

/* BIT STRING with no unused bits. */
static B bits(B content) { return tlv(0x03, cat(2, hexb("00"), content)); }

/* A P-256 SubjectPublicKeyInfo with explicit (specifiedCurve) parameters:
 * a key libcrypto decodes perfectly well. */
static B spki_explicit_p256(const key *k) {
    EVP_PKEY *dup = EVP_PKEY_dup(k->pk);
    B out = none();
    if (dup != NULL &&
        EVP_PKEY_set_utf8_string_param(dup, OSSL_PKEY_PARAM_EC_ENCODING,
                                       OSSL_PKEY_EC_ENCODING_EXPLICIT) == 1) {
        unsigned char *p = NULL;
        int n = i2d_PUBKEY(dup, &p);
        if (n > 0) {
            free(out.p);
            out = raw(p, (size_t)n);
        }
        OPENSSL_free(p);
    }
    EVP_PKEY_free(dup);
    return out;
}

static B spki_of(EVP_PKEY *pk) {
    key k = {pk, {0}};
    return spki(&k);
}

TEST(spki_unsupported_not_decoded) {
    REQUIRE(g_counting);
    key rk = new_key(), lk = new_key();
    EVP_PKEY *k1 = EVP_EC_gen("secp256k1");
    REQUIRE(k1 != NULL);
    B pt = hexb("04"); /* an (invalid) EC point */
    static const uint8_t zeros[64];
    struct {
        const char *what;
        B spki;
    } cases[] = {
        /* DSA (RFC 3279 §2.3.2): Dss-Parms, then the INTEGER y */
        {"dsa", SEQ(2, SEQ(2, oid("2a8648ce380401"), SEQ(3, integer(23), integer(11), integer(4))),
                    bits(integer(8)))},
        /* DH: X9.42 dhpublicnumber and PKCS #3 dhKeyAgreement */
        {"dh x9.42",
         SEQ(2, SEQ(2, oid("2a8648ce3e0201"), SEQ(3, integer(23), integer(4), integer(11))),
             bits(integer(8)))},
        {"dh pkcs3", SEQ(2, SEQ(2, oid("2a864886f70d010301"), SEQ(2, integer(23), integer(4))),
                         bits(integer(8)))},
        /* RFC 8410 keys that cannot sign certificates or TLS 1.3 */
        {"x25519", SEQ(2, SEQ(1, oid("2b656e")), bits(raw(zeros, 32)))},
        {"x448", SEQ(2, SEQ(1, oid("2b656f")), bits(raw(zeros, 56)))},
        {"ed448", SEQ(2, SEQ(1, oid("2b6571")), bits(raw(zeros, 57)))},
        /* EC: explicit parameters (a real key), implicitCurve, curves we
         * do not accept (a real secp256k1 key), garbage parameters */
        {"ec explicit", spki_explicit_p256(&lk)},
        {"ec implicit", SEQ(2, SEQ(2, oid("2a8648ce3d0201"), hexb("0500")), bits(copy(pt)))},
        {"ec secp256k1", spki_of(k1)},
        {"ec p192", SEQ(2, SEQ(2, oid("2a8648ce3d0201"), oid("2a8648ce3d030101")), bits(copy(pt)))},
        {"ec junk params", SEQ(2, SEQ(2, oid("2a8648ce3d0201"), SEQ(1, integer(1))), bits(copy(pt)))},
        /* an unknown algorithm */
        {"unknown", SEQ(2, SEQ(1, oid("2a0304")), bits(hexb("0102")))},
    };
    free(pt.p);
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    /* control: a supported key is decoded, and the counter sees it */
    B good = mkleaf("a.example", &lk, "root", &rk, gn_dns("a.example"), none());
    size_t before = atomic_load(&g_crypto_allocs);
    fr_cert *c = parsed(&m, good);
    CHECK(atomic_load(&g_crypto_allocs) > before);
    EVP_PKEY *ck;
    CHECK(c != NULL && fr_cert_key(c, &ck) == FR_OK);
    fr_cert_free(&m, c);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK(cases[i].spki.n > 0);
        B leaf_exts = cat(5, e_ku_leaf(), e_eku(O_KP_SERVER), e_san(gn_dns("a.example")),
                          e_ski(&lk), e_aki(&rk));
        B leaf = mkcert_spki(name_cn("a.example"), name_cn("root"), copy(cases[i].spki), &rk,
                             g_serial++, leaf_exts);
        B leaf2 = copy(leaf);
        /* parses (a well-formed certificate), key neither decoded nor kept */
        before = atomic_load(&g_crypto_allocs);
        c = parsed(&m, leaf);
        if (atomic_load(&g_crypto_allocs) != before) fprintf(stderr, "  %s: decoded\n", cases[i].what);
        CHECK_EQ(atomic_load(&g_crypto_allocs), before);
        if (c != NULL) {
            CHECK_EQ(c->key_kind, 0);
            CHECK_EQ(fr_cert_key(c, &ck), FERRULE_R_CERT_UNSUPPORTED);
        }
        fr_cert_free(&m, c);
        /* as a leaf: refused as unsupported */
        env e;
        env_init(&e);
        env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
        env_add(&e, leaf2);
        CHECK_EQ(env_verify(&e, "a.example"), FERRULE_R_CERT_UNSUPPORTED);
        env_free(&e);
        /* as an issuer: refused before any signature check */
        key ik = new_key();
        env_init(&e);
        env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
        env_add(&e, mkleaf("a.example", &lk, "ica", &ik, gn_dns("a.example"), none()));
        env_add(&e, mkcert_spki(name_cn("ica"), name_cn("root"), copy(cases[i].spki), &rk,
                                g_serial++, cat(4, e_bc_ca(-1), e_ku_ca(), e_ski(&ik), e_aki(&rk))));
        fr_verify_stats st;
        CHECK_EQ(env_verify_ex(&e, "a.example", FR_VERIFY_SERVER, NULL, 0, &st),
                 FERRULE_R_CERT_UNSUPPORTED);
        CHECK_EQ(st.sig_checks, 0);
        env_free(&e);
        EVP_PKEY_free(ik.pk);
        free(cases[i].spki.p);
    }
    CHECK_EQ(m.used, 0);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(rk.pk);
    EVP_PKEY_free(lk.pk);
}

/* ---- RFC 5280 §7.1 name comparison ------------------------------------- */

/* Also: the trust store's index key (fr_name_hash) agrees with every
 * equality the comparison finds. */
static int name_eq(B a, B b) {
    int r = fr_name_equal(a.p, a.n, b.p, b.n);
    if (r) CHECK(fr_name_hash(a.p, a.n) == fr_name_hash(b.p, b.n));
    free(a.p);
    free(b.p);
    return r;
}
static B one_attr(uint8_t tag, const char *v) {
    return tlv(0x30, tlv(0x31, SEQ(2, oid(O_CN), tlv(tag, str(v)))));
}

TEST(name_comparison) {
    CHECK(name_eq(one_attr(0x0c, "Example CA"), one_attr(0x0c, "Example CA")));
    CHECK(name_eq(one_attr(0x0c, "Example CA"), one_attr(0x0c, "example ca")));
    CHECK(name_eq(one_attr(0x13, "Example CA"), one_attr(0x0c, "EXAMPLE CA")));
    CHECK(name_eq(one_attr(0x0c, "  Example   CA "), one_attr(0x13, "Example CA")));
    CHECK(name_eq(one_attr(0x0c, "Example\tCA"), one_attr(0x0c, "Example CA")));
    CHECK(!name_eq(one_attr(0x0c, "Example CA"), one_attr(0x0c, "ExampleCA")));
    CHECK(!name_eq(one_attr(0x0c, "Example CA"), one_attr(0x0c, "Example CA2")));
    /* other string types compare exactly */
    CHECK(!name_eq(one_attr(0x16, "Example"), one_attr(0x16, "example")));
    CHECK(!name_eq(one_attr(0x16, "Example"), one_attr(0x0c, "Example")));
    CHECK(name_eq(one_attr(0x16, "Example"), one_attr(0x16, "Example")));
    /* same RDNs in another order / another count: different */
    CHECK(!name_eq(name2("o", "cn"),
                   tlv(0x30, cat(2, tlv(0x31, SEQ(2, oid(O_CN), tlv(0x0c, str("cn")))),
                                 tlv(0x31, SEQ(2, oid(O_O), tlv(0x0c, str("o"))))))));
    CHECK(!name_eq(name2("o", "cn"), name_cn("cn")));
    /* multi-valued RDN: attributes compare as a set */
    CHECK(name_eq(tlv(0x30, tlv(0x31, cat(2, SEQ(2, oid(O_CN), tlv(0x0c, str("a"))),
                                          SEQ(2, oid(O_O), tlv(0x0c, str("b")))))),
                  tlv(0x30, tlv(0x31, cat(2, SEQ(2, oid(O_O), tlv(0x0c, str("B"))),
                                          SEQ(2, oid(O_CN), tlv(0x0c, str("A"))))))));
    /* empty names are equal; malformed never equal to something else */
    CHECK(name_eq(tlv(0x30, none()), tlv(0x30, none())));
    CHECK(!name_eq(hexb("3003310100"), name_cn("x")));
    /* directoryName subtree: prefix of RDNs */
    B base = tlv(0x30, tlv(0x31, SEQ(2, oid(O_O), tlv(0x0c, str("Org")))));
    B full = name2("org", "host");
    CHECK(fr_name_within(full.p, full.n, base.p, base.n));
    CHECK(!fr_name_within(base.p, base.n, full.p, full.n));
    free(base.p);
    free(full.p);
}

/* ---- name constraints --------------------------------------------------- */

TEST(nc_dns) {
    B perm = subtree(gn_dns("example.com"));
    CHECK_EQ(one_level(e_nc(copy(perm), none()), gn_dns("example.com"), none(), "example.com"),
             FR_OK);
    CHECK_EQ(one_level(e_nc(copy(perm), none()), gn_dns("a.b.Example.COM"), none(), NULL), FR_OK);
    CHECK_EQ(one_level(e_nc(copy(perm), none()), gn_dns("notexample.com"), none(), NULL), NCE);
    CHECK_EQ(one_level(e_nc(copy(perm), none()), gn_dns("example.com.evil"), none(), NULL), NCE);
    /* a name of another form is unconstrained */
    CHECK_EQ(one_level(e_nc(copy(perm), none()), gn_ip("c0000201"), none(), NULL), FR_OK);
    /* excluded */
    CHECK_EQ(one_level(e_nc(none(), copy(perm)), gn_dns("www.example.com"), none(), NULL), NCE);
    CHECK_EQ(one_level(e_nc(none(), copy(perm)), gn_dns("example.org"), none(), NULL), FR_OK);
    /* wildcard SAN: permitted when its base is; excluded when any match is */
    CHECK_EQ(one_level(e_nc(copy(perm), none()), gn_dns("*.example.com"), none(), NULL), FR_OK);
    CHECK_EQ(one_level(e_nc(subtree(gn_dns("foo.example.com")), none()), gn_dns("*.example.com"),
                       none(), NULL),
             NCE);
    CHECK_EQ(one_level(e_nc(none(), subtree(gn_dns("bar.example.com"))), gn_dns("*.example.com"),
                       none(), NULL),
             NCE);
    CHECK_EQ(one_level(e_nc(none(), subtree(gn_dns("a.bar.example.com"))), gn_dns("*.example.com"),
                       none(), NULL),
             FR_OK);
    /* malformed constraints / names of a constrained form */
    CHECK_EQ(one_level(e_nc(subtree(gn_dns("*.example.com")), none()), gn_dns("a.example.com"),
                       none(), NULL),
             NCE);
    CHECK_EQ(one_level(e_nc(subtree(gn_dns(".example.com")), none()), gn_dns("a.example.com"),
                       none(), NULL),
             NCE);
    CHECK_EQ(one_level(e_nc(copy(perm), none()),
                       cat(2, gn_dns(".example.com"), gn_dns("a.example.com")), none(), NULL),
             NCE);
    /* no dNSName SAN: a host-name CN is constrained (leaf only) */
    CHECK_EQ(one_level_cn(e_nc(copy(perm), none()), "leaf.other", none(), none(), NULL), NCE);
    CHECK_EQ(one_level_cn(e_nc(copy(perm), none()), "leaf.example.com", none(), none(), NULL),
             FR_OK);
    CHECK_EQ(one_level_cn(e_nc(copy(perm), none()), "Leaf Person", none(), none(), NULL), FR_OK);
    CHECK_EQ(one_level_cn(e_nc(copy(perm), none()), "leaf.other", gn_ip("c0000201"), none(), NULL),
             NCE);
    /* with a dNSName SAN the CN is not a name */
    CHECK_EQ(one_level_cn(e_nc(copy(perm), none()), "example.com", gn_dns("www.example.com"),
                          none(), NULL),
             FR_OK);
    free(perm.p);
}

TEST(nc_ip) {
    /* 192.0.2.0/24 and 2001:db8::/32 */
    B v4 = subtree(gn_ip("c0000200ffffff00"));
    B v6 = subtree(gn_ip("20010db8000000000000000000000000ffffffff000000000000000000000000"));
    CHECK_EQ(one_level(e_nc(copy(v4), none()), gn_ip("c0000201"), none(), "192.0.2.1"), FR_OK);
    CHECK_EQ(one_level(e_nc(copy(v4), none()), gn_ip("c0000301"), none(), NULL), NCE);
    CHECK_EQ(one_level(e_nc(none(), copy(v4)), gn_ip("c00002fe"), none(), NULL), NCE);
    CHECK_EQ(one_level(e_nc(none(), copy(v4)), gn_ip("c0000301"), none(), NULL), FR_OK);
    /* a v6 address is not in a v4 subtree, and the other way round */
    CHECK_EQ(
        one_level(e_nc(copy(v4), none()), gn_ip("20010db8000000000000000000000001"), none(), NULL),
        NCE);
    CHECK_EQ(one_level(e_nc(copy(v6), none()), gn_ip("20010db8ffff00000000000000000001"), none(),
                       "2001:db8:ffff::1"),
             FR_OK);
    CHECK_EQ(
        one_level(e_nc(copy(v6), none()), gn_ip("20010db9000000000000000000000001"), none(), NULL),
        NCE);
    CHECK_EQ(
        one_level(e_nc(none(), copy(v6)), gn_ip("20010db8000000000000000000000001"), none(), NULL),
        NCE);
    /* malformed: non-CIDR mask, bad lengths, SAN of 8 octets */
    CHECK_EQ(one_level(e_nc(subtree(gn_ip("c0000200ff00ff00")), none()), gn_ip("c0000201"), none(),
                       NULL),
             NCE);
    CHECK_EQ(one_level(e_nc(subtree(gn_ip("c0000201")), none()), gn_ip("c0000201"), none(), NULL),
             NCE);
    CHECK_EQ(one_level(e_nc(copy(v4), none()), gn_ip("c0000200ffffff00"), none(), NULL), NCE);
    free(v4.p);
    free(v6.p);
}

TEST(nc_email_and_dir) {
    B host = subtree(gn_email("example.com"));
    CHECK_EQ(one_level(e_nc(copy(host), none()), gn_email("a@example.com"), none(), NULL), FR_OK);
    CHECK_EQ(one_level(e_nc(copy(host), none()), gn_email("a@EXAMPLE.com"), none(), NULL), FR_OK);
    CHECK_EQ(one_level(e_nc(copy(host), none()), gn_email("a@sub.example.com"), none(), NULL), NCE);
    CHECK_EQ(one_level(e_nc(subtree(gn_email(".example.com")), none()),
                       gn_email("a@sub.example.com"), none(), NULL),
             FR_OK);
    CHECK_EQ(one_level(e_nc(subtree(gn_email(".example.com")), none()), gn_email("a@example.com"),
                       none(), NULL),
             NCE);
    /* one mailbox: local part exact */
    CHECK_EQ(one_level(e_nc(subtree(gn_email("*@example.com")), none()), gn_email("*@example.com"),
                       none(), NULL),
             FR_OK);
    CHECK_EQ(one_level(e_nc(subtree(gn_email("*@example.com")), none()),
                       gn_email("user@example.com"), none(), NULL),
             NCE);
    CHECK_EQ(one_level(e_nc(subtree(gn_email("User@example.com")), none()),
                       gn_email("user@example.com"), none(), NULL),
             NCE);
    CHECK_EQ(one_level(e_nc(none(), copy(host)), gn_email("a@example.com"), none(), NULL), NCE);
    /* malformed */
    CHECK_EQ(one_level(e_nc(subtree(gn_email("a@b@example.com")), none()),
                       gn_email("a@example.com"), none(), NULL),
             NCE);
    CHECK_EQ(one_level(e_nc(copy(host), none()), gn_email("a@b@example.com"), none(), NULL), NCE);
    free(host.p);
    /* directoryName: the subject DN and SAN directoryNames */
    CHECK_EQ(one_level(e_nc(subtree(gn_dir(name2("leaf", NULL))), none()), gn_dns("a.example"),
                       none(), NULL),
             FR_OK);
    CHECK_EQ(one_level(e_nc(subtree(gn_dir(name_cn("other"))), none()), gn_dns("a.example"), none(),
                       NULL),
             NCE);
    CHECK_EQ(one_level(e_nc(none(), subtree(gn_dir(name2("LEAF", NULL)))), gn_dns("a.example"),
                       none(), NULL),
             NCE);
    CHECK_EQ(one_level(e_nc(subtree(gn_dir(name2("leaf", NULL))), none()),
                       cat(2, gn_dns("a.example"), gn_dir(name_cn("x"))), none(), NULL),
             NCE);
    /* forms we do not process: fatal only when such a name appears */
    CHECK_EQ(one_level(e_nc(subtree(gn_dns("example")), subtree(gn_uri("http://x"))),
                       gn_dns("a.example"), none(), NULL),
             FR_OK);
    CHECK_EQ(one_level(e_nc(subtree(gn_dns("example")), subtree(gn_uri("http://x"))),
                       cat(2, gn_dns("a.example"), gn_uri("http://y")), none(), NULL),
             NCE);
}

/* ---- wildcard short forms (issue 9 item A) ------------------------------ */

/* A valid host name of exactly n octets (n >= 13): labels of 'a' then
 * "example.com". */
static void host_of_len(char *out, size_t n) {
    size_t left = n - 11, k = 0;
    while (left > 0) {
        size_t lab = left > 64 ? (left - 2 < 63 ? left - 2 : 63) : left - 1;
        memset(out + k, 'a', lab);
        out[k + lab] = '.';
        k += lab + 1;
        left -= lab + 1;
    }
    memcpy(out + k, "example.com", 12);
}

static size_t offset_of(B der, const void *pat, size_t pn) {
    for (size_t i = 0; i + pn <= der.n; i++)
        if (memcmp(der.p + i, pat, pn) == 0) return i;
    return 0;
}

/* root (NC: `permitted` as one dNSName subtree, or excluded) -> leaf.  The
 * constraint is as long as the offset of the name `tlv_pat` (its TLV
 * header is 2 octets) in the leaf plus 4: a matcher that takes "*" for a
 * wildcard computes the suffix length n - 2 = SIZE_MAX and reads 4 octets
 * before the certificate's buffer (ASan: heap-buffer-overflow). */
static fr_err nc_oob_probe(const char *cn, B names, const uint8_t *tlv_pat, size_t pn,
                           int excluded) {
    key rk = new_key(), lk = new_key();
    B leaf = mkleaf(cn, &lk, "root", &rk, names, none());
    size_t off = offset_of(leaf, tlv_pat, pn) + 2;
    char base[256];
    CHECK(off > 13 && off + 4 <= 253);
    host_of_len(base, off + 4);
    CHECK_EQ(strlen(base), off + 4);
    B st = subtree(gn_dns(base));
    env e;
    env_init(&e);
    env_anchor(&e, mkca("root", &rk, "root", &rk, excluded ? e_nc(none(), st) : e_nc(st, none())));
    env_add(&e, leaf);
    fr_err r = env_verify(&e, NULL);
    env_free(&e);
    EVP_PKEY_free(rk.pk);
    EVP_PKEY_free(lk.pk);
    return r;
}

TEST(nc_wildcard_short_forms) {
    static const uint8_t san_star[] = {0x82, 0x01, '*'}, cn_star[] = {0x0c, 0x01, '*'};
    /* "*" alone is not a wildcard: a malformed dNSName, which a
     * constrained form rejects -- as a SAN, and as the CN of a leaf without
     * dNSName SAN (it looks like a host name, see nc_cn_interpretation) */
    CHECK_EQ(nc_oob_probe(NULL, gn_dns("*"), san_star, 3, 0), NCE);
    CHECK_EQ(nc_oob_probe(NULL, gn_dns("*"), san_star, 3, 1), NCE);
    CHECK_EQ(nc_oob_probe("*", none(), cn_star, 3, 0), NCE);
    CHECK_EQ(nc_oob_probe("*", none(), cn_star, 3, 1), NCE);
    /* every short or misplaced form, under permitted and excluded
     * subtrees, as SAN and as CN: malformed (an empty CN is no name) */
    static const char *const bad[] = {"*",  "*.",    ".",      "",       "*.*",
                                      "*.com", "*.*.example.com", "**.example.com",
                                      "f*.example.com", "a.*.example.com", "*.example.com."};
    B perm = subtree(gn_dns("example.com"));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fr_err got[4] = {
            one_level(e_nc(copy(perm), none()), gn_dns(bad[i]), none(), NULL),
            one_level(e_nc(none(), copy(perm)), gn_dns(bad[i]), none(), NULL),
            one_level_cn(e_nc(copy(perm), none()), bad[i], none(), none(), NULL),
            one_level_cn(e_nc(none(), copy(perm)), bad[i], none(), none(), NULL),
        };
        fr_err cn_want = bad[i][0] != 0 ? NCE : FR_OK;
        fr_err want[4] = {NCE, NCE, cn_want, cn_want};
        for (int k = 0; k < 4; k++) {
            if (got[k] != want[k]) fprintf(stderr, "  form \"%s\" case %d\n", bad[i], k);
            CHECK_EQ(got[k], want[k]);
        }
    }
    /* real wildcards, as SAN and as CN */
    CHECK_EQ(one_level(e_nc(copy(perm), none()), gn_dns("*.example.com"), none(), NULL), FR_OK);
    CHECK_EQ(one_level(e_nc(copy(perm), none()), gn_dns("*.a.example.com"), none(), NULL), FR_OK);
    CHECK_EQ(one_level(e_nc(none(), copy(perm)), gn_dns("*.a.example.com"), none(), NULL), NCE);
    CHECK_EQ(one_level(e_nc(none(), copy(perm)), gn_dns("*.example.org"), none(), NULL), FR_OK);
    CHECK_EQ(one_level(e_nc(copy(perm), none()), gn_dns("*.example.org"), none(), NULL), NCE);
    CHECK_EQ(one_level_cn(e_nc(copy(perm), none()), "*.example.com", none(), none(), NULL), FR_OK);
    CHECK_EQ(one_level_cn(e_nc(none(), copy(perm)), "*.example.com", none(), none(), NULL), NCE);
    CHECK_EQ(one_level_cn(e_nc(copy(perm), none()), "*.example.org", none(), none(), NULL), NCE);
    free(perm.p);
}

/* ---- the subject CN under name constraints (issue 9 item 17) ----------- */

TEST(nc_cn_interpretation) {
    B dns = subtree(gn_dns("example.com"));
    B v4 = subtree(gn_ip("c0000200ffffff00")); /* 192.0.2.0/24 */
    B v6 = subtree(gn_ip("20010db8000000000000000000000000ffffffff000000000000000000000000"));
#define CN_NC(perm, excl, cn, san) one_level_cn(e_nc(perm, excl), cn, san, none(), NULL)
    /* the report: CN=127.0.0.1 with an IP SAN, under a DNS constraint,
     * permitted or excluded -- the CN is an IP address, not a dNSName */
    CHECK_EQ(CN_NC(copy(dns), none(), "127.0.0.1", gn_ip("7f000001")), FR_OK);
    CHECK_EQ(CN_NC(none(), copy(dns), "127.0.0.1", gn_ip("7f000001")), FR_OK);
    CHECK_EQ(CN_NC(copy(dns), none(), "127.0.0.1", none()), FR_OK);
    CHECK_EQ(CN_NC(copy(dns), none(), "2001:db8::1", none()), FR_OK);
    /* IP-looking CN, no iPAddress SAN: checked against iPAddress subtrees */
    CHECK_EQ(CN_NC(copy(v4), none(), "192.0.2.1", none()), FR_OK);
    CHECK_EQ(CN_NC(copy(v4), none(), "198.51.100.1", none()), NCE);
    CHECK_EQ(CN_NC(none(), copy(v4), "192.0.2.1", none()), NCE);
    CHECK_EQ(CN_NC(none(), copy(v4), "198.51.100.1", none()), FR_OK);
    CHECK_EQ(CN_NC(copy(v4), none(), "192.0.2.1", gn_dns("www.example.org")), FR_OK);
    CHECK_EQ(CN_NC(copy(v4), none(), "198.51.100.1", gn_dns("www.example.org")), NCE);
    /* the lenient spellings some parsers accept are the same address */
    CHECK_EQ(CN_NC(none(), copy(v4), "0xc0000201", none()), NCE);
    CHECK_EQ(CN_NC(none(), copy(v4), "192.0.2.01", none()), NCE);
    CHECK_EQ(CN_NC(none(), copy(v4), "3221226113", none()), NCE); /* 192.0.2.129 */
    CHECK_EQ(CN_NC(copy(v4), none(), "0xc6336401", none()), NCE); /* 198.51.100.1 */
    /* IPv6 */
    CHECK_EQ(CN_NC(copy(v6), none(), "2001:db8::1", none()), FR_OK);
    CHECK_EQ(CN_NC(copy(v6), none(), "2001:DB8:0:0::1", none()), FR_OK);
    CHECK_EQ(CN_NC(copy(v6), none(), "2001:db9::1", none()), NCE);
    CHECK_EQ(CN_NC(none(), copy(v6), "2001:db8::1", none()), NCE);
    CHECK_EQ(CN_NC(copy(v4), none(), "::ffff:192.0.2.1", none()), NCE); /* other family */
    /* with an iPAddress SAN, the SAN is the leaf's address */
    CHECK_EQ(CN_NC(copy(v4), none(), "198.51.100.1", gn_ip("c0000201")), FR_OK);
    /* DNS-looking CN, no dNSName SAN: checked against dNSName subtrees,
     * never against iPAddress ones */
    CHECK_EQ(CN_NC(copy(dns), none(), "leaf.example.com", none()), FR_OK);
    CHECK_EQ(CN_NC(copy(dns), none(), "leaf.example.org", none()), NCE);
    CHECK_EQ(CN_NC(none(), copy(dns), "leaf.example.com", none()), NCE);
    CHECK_EQ(CN_NC(none(), copy(dns), "leaf.example.org", none()), FR_OK);
    CHECK_EQ(CN_NC(copy(dns), none(), "leaf.example.org", gn_ip("c0000201")), NCE);
    CHECK_EQ(CN_NC(copy(v4), none(), "leaf.example.org", none()), FR_OK);
    CHECK_EQ(CN_NC(copy(dns), none(), "999.0.2.1", none()), NCE); /* not an address */
    /* DNS-looking but malformed: refused under a dNSName constraint only */
    CHECK_EQ(CN_NC(copy(dns), none(), "a_b.example.com", none()), NCE);
    CHECK_EQ(CN_NC(none(), copy(dns), "a..b", none()), NCE);
    CHECK_EQ(CN_NC(copy(v4), none(), "a..b", none()), FR_OK);
    /* with a dNSName SAN, the SAN is the leaf's host name */
    CHECK_EQ(CN_NC(copy(dns), none(), "leaf.example.org", gn_dns("www.example.com")), FR_OK);
    /* neither: plain text is not a name */
    CHECK_EQ(CN_NC(copy(dns), none(), "Leaf Person", none()), FR_OK);
    CHECK_EQ(CN_NC(copy(dns), none(), "leaf.example.org/x", none()), FR_OK);
    CHECK_EQ(CN_NC(copy(v4), none(), "Leaf Person", none()), FR_OK);
    CHECK_EQ(CN_NC(none(), copy(v4), "lab 192.0.2.1", none()), FR_OK);
    /* only the leaf's CN is a name: an intermediate named like a host
     * under a DNS-constrained root is fine */
    key rk = new_key(), ik = new_key(), lk = new_key();
    env e;
    env_init(&e);
    env_anchor(&e, mkca("root", &rk, "root", &rk, e_nc(copy(dns), none())));
    env_add(&e, mkleaf(NULL, &lk, "ica.example.org", &ik, gn_dns("www.example.com"), none()));
    env_add(&e, mkca("ica.example.org", &ik, "root", &rk, none()));
    CHECK_EQ(env_verify(&e, "www.example.com"), FR_OK);
    env_free(&e);
    EVP_PKEY_free(rk.pk);
    EVP_PKEY_free(ik.pk);
    EVP_PKEY_free(lk.pk);
#undef CN_NC
    free(dns.p);
    free(v4.p);
    free(v6.p);
}

TEST(nc_rules_and_budget) {
    /* non-critical NC, NC in a leaf */
    B nc_noncrit = ext(O_NC, 0, SEQ(1, tlv(0xa0, subtree(gn_dns("example.com")))));
    CHECK_EQ(one_level(nc_noncrit, gn_dns("example.com"), none(), NULL), NCE);
    CHECK_EQ(one_level(none(), gn_dns("example.com"), e_nc(subtree(gn_dns("example.com")), none()),
                       NULL),
             NCE);
    /* constraints of an intermediate apply to the leaf, not to itself; an
     * anchor's apply to everything below */
    key rk = new_key(), ik = new_key(), lk = new_key();
    env e;
    env_init(&e);
    env_anchor(&e, mkca("root", &rk, "root", &rk, e_nc(subtree(gn_dns("example.com")), none())));
    env_add(&e, mkleaf(NULL, &lk, "ica", &ik, gn_dns("www.example.com"), none()));
    env_add(&e, mkca("ica", &ik, "root", &rk, e_san(gn_dns("ica.example.org"))));
    CHECK_EQ(env_verify(&e, "www.example.com"), NCE);
    env_free(&e);
    env_init(&e);
    env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
    env_add(&e, mkleaf(NULL, &lk, "ica", &ik, gn_dns("www.example.com"), none()));
    env_add(&e, mkca("ica", &ik, "root", &rk,
                     cat(2, e_san(gn_dns("ica.example.org")),
                         e_nc(subtree(gn_dns("example.com")), none()))));
    CHECK_EQ(env_verify(&e, "www.example.com"), FR_OK);
    env_free(&e);
    /* a hostile leaf: 300 names against 300 constraints hits the budget */
    B perm = none(), names = none();
    char buf[32];
    for (int i = 0; i < 300; i++) {
        snprintf(buf, sizeof(buf), "h%d.test", i);
        perm = cat(2, perm, subtree(gn_dns(buf)));
        snprintf(buf, sizeof(buf), "x%d.h299.test", i); /* each matches the last */
        names = cat(2, names, gn_dns(buf));
    }
    env_init(&e);
    env_anchor(&e, mkca("root", &rk, "root", &rk, e_nc(perm, none())));
    env_add(&e, mkleaf(NULL, &lk, "root", &rk, names, none()));
    CHECK_EQ(env_verify(&e, NULL), FERRULE_R_CERT_TOO_MUCH_WORK);
    env_free(&e);
    EVP_PKEY_free(rk.pk);
    EVP_PKEY_free(ik.pk);
    EVP_PKEY_free(lk.pk);
}

/* ---- profile rules -------------------------------------------------------- */

TEST(profile_rules) {
    /* baseline */
    CHECK_EQ(one_level(none(), gn_dns("a.example"), none(), "a.example"), FR_OK);
    CHECK_EQ(one_level(none(), gn_dns("a.example"), none(), "b.example"),
             FERRULE_R_CERT_NAME_MISMATCH);
    /* critical AIA; unknown critical extension */
    CHECK_EQ(one_level(none(), gn_dns("a.example"),
                       ext(O_AIA, 1, SEQ(1, SEQ(2, oid("2b06010505073001"), gn_uri("u")))), NULL),
             MAL);
    CHECK_EQ(one_level(none(), gn_dns("a.example"), ext("2a0304", 1, hexb("0500")), NULL),
             FERRULE_R_CERT_UNSUPPORTED);
    CHECK_EQ(one_level(none(), gn_dns("a.example"), ext("2a0304", 0, hexb("0500")), NULL), FR_OK);
    /* non-critical policyConstraints / inhibitAnyPolicy in the root */
    CHECK_EQ(
        one_level(ext(O_PC, 0, SEQ(1, tlv(0x80, hexb("05")))), gn_dns("a.example"), none(), NULL),
        MAL);
    CHECK_EQ(one_level(ext(O_IAP, 0, integer(1)), gn_dns("a.example"), none(), NULL), MAL);
    CHECK_EQ(one_level(ext(O_IAP, 1, integer(1)), gn_dns("a.example"), none(), NULL), FR_OK);
    /* EKU in a root */
    CHECK_EQ(one_level(e_eku(O_KP_SERVER), gn_dns("a.example"), none(), NULL), FERRULE_R_CERT_EKU);
    /* SAN critical with a non-empty subject */
    CHECK_EQ(one_level(none(), none(), ext(O_SAN, 1, SEQ(1, gn_dns("a.example"))), NULL), MAL);
}

TEST(profile_leaf_rules) {
    key rk = new_key(), lk = new_key();
    B root = mkca("root", &rk, "root", &rk, none());
    struct {
        B leaf;
        fr_err want;
    } cases[10];
    size_t nc = 0;
    /* EKU missing, anyEKU present, clientAuth only */
    cases[nc].leaf =
        mkcert(name_cn("a.example"), name_cn("root"), &lk, &rk, 11,
               cat(4, e_ku_leaf(), e_san(gn_dns("a.example")), e_ski(&lk), e_aki(&rk)));
    cases[nc++].want = FERRULE_R_CERT_EKU;
    cases[nc].leaf =
        mkcert(name_cn("a.example"), name_cn("root"), &lk, &rk, 12,
               cat(5, e_ku_leaf(), ext(O_EKU, 0, SEQ(2, oid(O_KP_SERVER), oid(O_ANY_EKU))),
                   e_san(gn_dns("a.example")), e_ski(&lk), e_aki(&rk)));
    cases[nc++].want = FERRULE_R_CERT_EKU;
    cases[nc].leaf = mkcert(name_cn("a.example"), name_cn("root"), &lk, &rk, 13,
                            cat(5, e_ku_leaf(), e_eku(O_KP_CLIENT), e_san(gn_dns("a.example")),
                                e_ski(&lk), e_aki(&rk)));
    cases[nc++].want = FERRULE_R_CERT_EKU;
    /* no AKI */
    cases[nc].leaf = mkcert(name_cn("a.example"), name_cn("root"), &lk, &rk, 14,
                            cat(3, e_ku_leaf(), e_eku(O_KP_SERVER), e_san(gn_dns("a.example"))));
    cases[nc++].want = MAL;
    /* serial zero / negative */
    cases[nc].leaf =
        mkcert(name_cn("a.example"), name_cn("root"), &lk, &rk, 0,
               cat(4, e_ku_leaf(), e_eku(O_KP_SERVER), e_san(gn_dns("a.example")), e_aki(&rk)));
    cases[nc++].want = MAL;
    cases[nc].leaf =
        mkcert(name_cn("a.example"), name_cn("root"), &lk, &rk, -5,
               cat(4, e_ku_leaf(), e_eku(O_KP_SERVER), e_san(gn_dns("a.example")), e_aki(&rk)));
    cases[nc++].want = MAL;
    /* a CA certificate as the leaf; keyCertSign in a leaf */
    cases[nc].leaf = mkcert(name_cn("a.example"), name_cn("root"), &lk, &rk, 15,
                            cat(5, e_bc_ca(-1), e_eku(O_KP_SERVER), e_san(gn_dns("a.example")),
                                e_ski(&lk), e_aki(&rk)));
    cases[nc++].want = FERRULE_R_CERT_KEY_USAGE;
    cases[nc].leaf =
        mkcert(name_cn("a.example"), name_cn("root"), &lk, &rk, 16,
               cat(4, e_ku("0284"), e_eku(O_KP_SERVER), e_san(gn_dns("a.example")), e_aki(&rk)));
    cases[nc++].want = FERRULE_R_CERT_KEY_USAGE;
    /* critical AKI, critical SKI */
    cases[nc].leaf = mkcert(name_cn("a.example"), name_cn("root"), &lk, &rk, 18,
                            cat(4, e_ku_leaf(), e_eku(O_KP_SERVER), e_san(gn_dns("a.example")),
                                ext(O_AKI, 1, SEQ(1, tlv(0x80, raw(rk.id, 20))))));
    cases[nc++].want = MAL;
    cases[nc].leaf = mkcert(name_cn("a.example"), name_cn("root"), &lk, &rk, 19,
                            cat(5, e_ku_leaf(), e_eku(O_KP_SERVER), e_san(gn_dns("a.example")),
                                e_aki(&rk), ext(O_SKI, 1, tlv(0x04, raw(lk.id, 20)))));
    cases[nc++].want = MAL;
    for (size_t i = 0; i < nc; i++) {
        env e;
        env_init(&e);
        env_anchor(&e, copy(root));
        env_add(&e, cases[i].leaf);
        fr_err got = env_verify(&e, "a.example");
        if (got != cases[i].want)
            fprintf(stderr, "  leaf case %zu\n", i);
        CHECK_EQ(got, cases[i].want);
        env_free(&e);
    }
    /* CLIENT purpose takes clientAuth, and no CN rule */
    env e;
    env_init(&e);
    env_anchor(&e, copy(root));
    env_add(&e, mkcert(name_cn("Some Person"), name_cn("root"), &lk, &rk, 17,
                       cat(5, e_ku_leaf(), e_eku(O_KP_CLIENT), e_san(gn_email("p@example.com")),
                           e_ski(&lk), e_aki(&rk))));
    CHECK_EQ(env_verify_ex(&e, NULL, FR_VERIFY_CLIENT, NULL, 0, NULL), FR_OK);
    CHECK_EQ(env_verify_ex(&e, NULL, FR_VERIFY_SERVER, NULL, 0, NULL), FERRULE_R_CERT_EKU);
    env_free(&e);
    free(root.p);
    EVP_PKEY_free(rk.pk);
    EVP_PKEY_free(lk.pk);
}

TEST(profile_ca_rules) {
    key rk = new_key(), lk = new_key();
    /* root without SKI / with non-critical basicConstraints / with EKU /
     * with an AKI that is not its SKI */
    B bad_roots[4];
    bad_roots[0] =
        mkcert(name_cn("root"), name_cn("root"), &rk, &rk, 1, cat(2, e_bc_ca(-1), e_ku_ca()));
    bad_roots[1] = mkcert(name_cn("root"), name_cn("root"), &rk, &rk, 2,
                          cat(3, ext(O_BC, 0, SEQ(1, boolean_true())), e_ku_ca(), e_ski(&rk)));
    bad_roots[2] = mkca("root", &rk, "root", &rk, e_eku(O_KP_SERVER));
    bad_roots[3] = mkca("root", &rk, "root", &rk, e_aki(&lk));
    fr_err want[4] = {MAL, MAL, FERRULE_R_CERT_EKU, MAL};
    for (int i = 0; i < 4; i++) {
        env e;
        env_init(&e);
        env_anchor(&e, bad_roots[i]);
        env_add(&e, mkleaf("a.example", &lk, "root", &rk, gn_dns("a.example"), none()));
        CHECK_EQ(env_verify(&e, "a.example"), want[i]);
        env_free(&e);
    }
    /* intermediate: EKU without the purpose; missing AKI */
    key ik = new_key();
    B root = mkca("root", &rk, "root", &rk, none());
    B icas[2];
    icas[0] = mkca("ica", &ik, "root", &rk, e_eku(O_KP_CLIENT));
    icas[1] = mkcert(name_cn("ica"), name_cn("root"), &ik, &rk, 3,
                     cat(3, e_bc_ca(-1), e_ku_ca(), e_ski(&ik)));
    fr_err iwant[2] = {FERRULE_R_CERT_EKU, MAL};
    for (int i = 0; i < 2; i++) {
        env e;
        env_init(&e);
        env_anchor(&e, copy(root));
        env_add(&e, mkleaf("a.example", &lk, "ica", &ik, gn_dns("a.example"), none()));
        env_add(&e, icas[i]);
        CHECK_EQ(env_verify(&e, "a.example"), iwant[i]);
        env_free(&e);
    }
    /* an intermediate EKU listing the purpose is fine */
    env e;
    env_init(&e);
    env_anchor(&e, copy(root));
    env_add(&e, mkleaf("a.example", &lk, "ica", &ik, gn_dns("a.example"), none()));
    env_add(&e, mkca("ica", &ik, "root", &rk, e_eku(O_KP_SERVER)));
    CHECK_EQ(env_verify(&e, "a.example"), FR_OK);
    env_free(&e);
    free(root.p);
    EVP_PKEY_free(rk.pk);
    EVP_PKEY_free(ik.pk);
    EVP_PKEY_free(lk.pk);
}

TEST(cn_consistency) {
    key rk = new_key(), lk = new_key();
    struct {
        const char *cn;
        B san;
        fr_err want;
    } cases[] = {
        {"a.example", gn_dns("a.example"), FR_OK},
        {"example", gn_dns("www.example"), FR_OK}, /* the SAN's domain */
        {"example", gn_dns("*.example"), FR_OK},
        {"A.example", gn_dns("a.example"), FERRULE_R_CERT_NAME_MISMATCH}, /* not byte-exact */
        {"b.example", gn_dns("a.example"), FERRULE_R_CERT_NAME_MISMATCH},
        {"192.0.2.1", gn_ip("c0000201"), FR_OK},
        {"192.0.2.01", gn_ip("c0000201"), FERRULE_R_CERT_NAME_MISMATCH},
        {"0xc0000201", gn_ip("c0000201"), FERRULE_R_CERT_NAME_MISMATCH},
        {"2001:db8::1", gn_ip("20010db8000000000000000000000001"), FR_OK},
        {"2001:DB8::1", gn_ip("20010db8000000000000000000000001"), FERRULE_R_CERT_NAME_MISMATCH},
        {"2001:db8::1:0:0:1", gn_ip("20010db8000000000001000000000001"), FR_OK},
        {"2001:db8:0:0:1::1", gn_ip("20010db8000000000001000000000001"),
         FERRULE_R_CERT_NAME_MISMATCH},
        {"Some Service", gn_ip("c0000201"), FR_OK}, /* no dNSName: CN not a host */
        {"EE", gn_dns("ee.example"), FERRULE_R_CERT_NAME_MISMATCH}, /* textbook test chains */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* the rule binds CAs: a relying party applies it only when asked
         * (cn_in_san); by default every one of these leaves is fine, with
         * or without a host name to check */
        for (int strict = 0; strict <= 1; strict++) {
            env e;
            env_init(&e);
            env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
            env_add(&e, mkleaf(cases[i].cn, &lk, "root", &rk, copy(cases[i].san), none()));
            g_cn_in_san = strict;
            fr_err got = env_verify(&e, NULL);
            fr_err want = strict ? cases[i].want : FR_OK;
            if (got != want) fprintf(stderr, "  cn case %zu (%s) strict %d\n", i, cases[i].cn, strict);
            CHECK_EQ(got, want);
            /* the client purpose never applies it */
            CHECK_EQ(env_verify_ex(&e, NULL, FR_VERIFY_CLIENT, NULL, 0, NULL) ==
                         FERRULE_R_CERT_NAME_MISMATCH,
                     0);
            g_cn_in_san = 0;
            env_free(&e);
        }
        free(cases[i].san.p);
    }
    /* the CN is never a host identity: a name only the CN carries does not
     * match, in either mode */
    for (int strict = 0; strict <= 1; strict++) {
        env e;
        env_init(&e);
        env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
        env_add(&e, mkleaf("b.example", &lk, "root", &rk, gn_dns("a.example"), none()));
        g_cn_in_san = strict;
        CHECK_EQ(env_verify(&e, "b.example"), FERRULE_R_CERT_NAME_MISMATCH);
        CHECK_EQ(env_verify(&e, "a.example"), strict ? FERRULE_R_CERT_NAME_MISMATCH : FR_OK);
        g_cn_in_san = 0;
        env_free(&e);
    }
    EVP_PKEY_free(rk.pk);
    EVP_PKEY_free(lk.pk);
}

/* ---- policies ------------------------------------------------------------ */

static B e_cp(int n, ...) {
    va_list ap;
    B pis = none();
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        pis = cat(2, pis, SEQ(1, oid(va_arg(ap, const char *))));
    va_end(ap);
    return ext(O_CP, 0, tlv(0x30, pis));
}

/* root -> ica (ica_extra) -> leaf (leaf_extra) */
static fr_err two_level(B ica_extra, B leaf_extra) {
    key rk = new_key(), ik = new_key(), lk = new_key();
    env e;
    env_init(&e);
    env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
    env_add(&e, mkleaf("a.example", &lk, "ica", &ik, gn_dns("a.example"), leaf_extra));
    env_add(&e, mkca("ica", &ik, "root", &rk, ica_extra));
    fr_err r = env_verify(&e, "a.example");
    env_free(&e);
    EVP_PKEY_free(rk.pk);
    EVP_PKEY_free(ik.pk);
    EVP_PKEY_free(lk.pk);
    return r;
}

#define POLICY_FAIL FERRULE_R_CERT_POLICY

TEST(policies) {
    B req0 = ext(O_PC, 1, SEQ(1, tlv(0x80, hexb("00"))));
    /* no policy required: anything goes */
    CHECK_EQ(two_level(none(), none()), FR_OK);
    CHECK_EQ(two_level(e_cp(1, O_POL1), none()), FR_OK);
    /* explicit policy required from the ICA on */
    CHECK_EQ(two_level(cat(2, copy(req0), e_cp(1, O_POL1)), e_cp(1, O_POL1)), FR_OK);
    CHECK_EQ(two_level(cat(2, copy(req0), e_cp(1, O_POL1)), e_cp(1, O_POL2)), POLICY_FAIL);
    CHECK_EQ(two_level(cat(2, copy(req0), e_cp(1, O_POL1)), none()), POLICY_FAIL);
    CHECK_EQ(two_level(cat(2, copy(req0), e_cp(1, O_ANY_POLICY)), e_cp(1, O_POL2)), FR_OK);
    CHECK_EQ(two_level(cat(2, copy(req0), e_cp(2, O_POL1, O_POL2)), e_cp(1, O_POL2)), FR_OK);
    /* inhibitAnyPolicy 0 in the ICA: the leaf's anyPolicy no longer counts */
    CHECK_EQ(two_level(cat(3, copy(req0), e_cp(1, O_POL1), ext(O_IAP, 1, integer(0))),
                       e_cp(1, O_ANY_POLICY)),
             POLICY_FAIL);
    CHECK_EQ(two_level(cat(2, copy(req0), e_cp(1, O_POL1)), e_cp(1, O_ANY_POLICY)), FR_OK);
    /* mapping POL1 -> POL2 */
    CHECK_EQ(two_level(cat(3, copy(req0), e_cp(1, O_POL1),
                           ext(O_PM, 0, SEQ(1, SEQ(2, oid(O_POL1), oid(O_POL2))))),
                       e_cp(1, O_POL2)),
             FR_OK);
    /* requireExplicitPolicy 1 in the ICA: one more certificate (the leaf)
     * may follow before a policy is required -- at the end of the path it
     * is (RFC 5280 §6.1.5 (a), (g)); with 2 it never is. */
    CHECK_EQ(
        two_level(cat(2, ext(O_PC, 1, SEQ(1, tlv(0x80, hexb("01")))), e_cp(1, O_POL1)), none()),
        POLICY_FAIL);
    CHECK_EQ(
        two_level(cat(2, ext(O_PC, 1, SEQ(1, tlv(0x80, hexb("02")))), e_cp(1, O_POL1)), none()),
        FR_OK);
    /* a valid-policy set larger than we process (64; POL1 mapped to 65
     * policies): that path's policy failure, not a work budget */
    B maps = none();
    for (int i = 1; i <= 65; i++) {
        char hex[32];
        snprintf(hex, sizeof(hex), "2b0601040182b7630201%02x", i);
        maps = cat(2, maps, SEQ(2, oid(O_POL1), oid(hex)));
    }
    CHECK_EQ(two_level(cat(2, e_cp(1, O_POL1), ext(O_PM, 0, tlv(0x30, maps))), none()),
             POLICY_FAIL);
    free(req0.p);
}

/* ---- path building ------------------------------------------------------- */

TEST(path_key_identifiers_and_cross_signs) {
    /* two ICAs with the same name, different keys; only one signs the leaf
     * and its AKI says which: no wasted signature check */
    key rk = new_key(), ik1 = new_key(), ik2 = new_key(), lk = new_key();
    env e;
    env_init(&e);
    env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
    env_add(&e, mkleaf("a.example", &lk, "ica", &ik2, gn_dns("a.example"), none()));
    env_add(&e, mkca("ica", &ik1, "root", &rk, none()));
    env_add(&e, mkca("ica", &ik2, "root", &rk, none()));
    fr_verify_stats st;
    CHECK_EQ(env_verify_ex(&e, "a.example", FR_VERIFY_SERVER, NULL, 0, &st), FR_OK);
    CHECK_EQ(st.sig_checks, 2);
    CHECK_EQ(st.path_len, 3);
    env_free(&e);
    /* cross-signed: ICA issued by an untrusted root and by the trusted one;
     * the untrusted path (listed first) dead-ends, the other validates */
    key ok = new_key();
    env_init(&e);
    env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
    env_add(&e, mkleaf("a.example", &lk, "ica", &ik1, gn_dns("a.example"), none()));
    env_add(&e, mkca("ica", &ik1, "other", &ok, none()));
    env_add(&e, mkca("other", &ok, "other", &ok, none()));
    env_add(&e, mkca("ica", &ik1, "root", &rk, none()));
    CHECK_EQ(env_verify_ex(&e, "a.example", FR_VERIFY_SERVER, NULL, 0, &st), FR_OK);
    CHECK_EQ(st.path_len, 3);
    env_free(&e);
    /* the same, where the first path reaches the anchor but fails (an ICA
     * with a forbidden EKU): backtracking finds the good one */
    env_init(&e);
    env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
    env_add(&e, mkleaf("a.example", &lk, "ica", &ik1, gn_dns("a.example"), none()));
    env_add(&e, mkca("ica", &ik1, "root", &rk, e_eku(O_KP_CLIENT)));
    env_add(&e, mkca("ica", &ik1, "root", &rk, none()));
    CHECK_EQ(env_verify(&e, "a.example"), FR_OK);
    env_free(&e);
    /* a self-issued intermediate (key rollover) does not count against
     * max_depth; a plain one does */
    env_init(&e);
    env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
    env_add(&e, mkleaf("a.example", &lk, "ica", &ik2, gn_dns("a.example"), none()));
    env_add(&e, mkca("ica", &ik2, "ica", &ik1, none())); /* self-issued */
    env_add(&e, mkca("ica", &ik1, "root", &rk, none()));
    fr_verify_params p;
    memset(&p, 0, sizeof(p));
    p.now = NOW;
    p.purpose = FR_VERIFY_SERVER;
    p.max_depth = 2;
    CHECK_EQ(fr_verify_chain(&e.t, e.chain, e.n, &p), FR_OK);
    p.max_depth = 1;
    CHECK_EQ(fr_verify_chain(&e.t, e.chain, e.n, &p), FERRULE_R_CERT_PATH_LENGTH);
    env_free(&e);
    EVP_PKEY_free(rk.pk);
    EVP_PKEY_free(ik1.pk);
    EVP_PKEY_free(ik2.pk);
    EVP_PKEY_free(lk.pk);
    EVP_PKEY_free(ok.pk);
}

/* ---- the reason reported when no path validates (issue 9 item 18) ----- */

static B expired(B (*make)(void *), void *arg) {
    g_expired = 1;
    B b = make(arg);
    g_expired = 0;
    return b;
}

/* The issuers of the shapes below: ICAs named "ica", all with key ik. */
typedef struct shape {
    key rk, ik, lk, ok;
} shape;
static void shape_init(shape *s) {
    s->rk = new_key();
    s->ik = new_key();
    s->lk = new_key();
    s->ok = new_key();
}
static void shape_free(shape *s) {
    EVP_PKEY_free(s->rk.pk);
    EVP_PKEY_free(s->ik.pk);
    EVP_PKEY_free(s->lk.pk);
    EVP_PKEY_free(s->ok.pk);
}
static B ica_good(void *a) {
    shape *s = a;
    return mkca("ica", &s->ik, "root", &s->rk, none());
}
static B ica_client_only(void *a) {
    shape *s = a;
    return mkca("ica", &s->ik, "root", &s->rk, e_eku(O_KP_CLIENT));
}
static B ica_not_ca(void *a) {
    shape *s = a;
    return mkcert(name_cn("ica"), name_cn("root"), &s->ik, &s->rk, g_serial++,
                  cat(4, ext(O_BC, 1, SEQ(0)), e_ku("0204"), e_ski(&s->ik), e_aki(&s->rk)));
}
/* Leaves under "ica": good, expired, client-only EKU, no digitalSignature. */
static B leaf_good(void *a) {
    shape *s = a;
    return mkleaf("a.example", &s->lk, "ica", &s->ik, gn_dns("a.example"), none());
}
static B leaf_client(void *a) {
    shape *s = a;
    return mkcert(name_cn("a.example"), name_cn("ica"), &s->lk, &s->ik, g_serial++,
                  cat(5, e_ku_leaf(), e_eku(O_KP_CLIENT), e_san(gn_dns("a.example")),
                      e_ski(&s->lk), e_aki(&s->ik)));
}
static B leaf_keyenc(void *a) {
    shape *s = a;
    return mkcert(name_cn("a.example"), name_cn("ica"), &s->lk, &s->ik, g_serial++,
                  cat(5, e_ku("0520"), e_eku(O_KP_SERVER), e_san(gn_dns("a.example")),
                      e_ski(&s->lk), e_aki(&s->ik)));
}

/* root (trusted) and the chain: leaf, then the issuers (consumed). */
static fr_err shape_verify(shape *s, const char *name, B leaf, int n_ica, B *icas,
                           fr_verify_stats *st) {
    env e;
    env_init(&e);
    env_anchor(&e, mkca("root", &s->rk, "root", &s->rk, none()));
    env_add(&e, leaf);
    for (int i = 0; i < n_ica; i++) env_add(&e, icas[i]);
    fr_verify_stats local;
    fr_err r = env_verify_ex(&e, name, FR_VERIFY_SERVER, NULL, 0, st ? st : &local);
    env_free(&e);
    return r;
}

TEST(path_errors_leaf_defects_first) {
    /* Leaf-only defects, with a bad alternate issuer tried first: the
     * leaf's own defect is the reason, whatever the alternate's is. */
    B (*alternates[3])(void *) = {ica_client_only, ica_not_ca, NULL};
    for (int alt = 0; alt < 3; alt++) {
        shape s;
        shape_init(&s);
        struct {
            B leaf;
            const char *name;
            fr_err want;
        } leaves[] = {
            {expired(leaf_good, &s), "a.example", FERRULE_R_CERT_EXPIRED},
            {leaf_client(&s), "a.example", FERRULE_R_CERT_EKU},
            {leaf_keyenc(&s), "a.example", FERRULE_R_CERT_KEY_USAGE},
            {leaf_good(&s), "b.example", FERRULE_R_CERT_NAME_MISMATCH},
            {leaf_good(&s), "a.example", FR_OK},
        };
        for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
            /* the alternate (an expired ICA when alt == 2) first, then
             * the good one */
            B icas[2] = {alternates[alt] ? alternates[alt](&s) : expired(ica_good, &s),
                         ica_good(&s)};
            fr_err got = shape_verify(&s, leaves[i].name, leaves[i].leaf, 2, icas, NULL);
            if (got != leaves[i].want) fprintf(stderr, "  alternate %d leaf %zu\n", alt, i);
            CHECK_EQ(got, leaves[i].want);
        }
        shape_free(&s);
    }
}

TEST(path_errors_pinned_leaf) {
    /* a pinned leaf (itself an anchor) follows the pinned rules: without
     * an AKI, issued by someone else; expired, that is its defect (not the
     * missing AKI an unpinned leaf would also be refused for) */
    key lk = new_key(), ok = new_key();
    for (int exp = 0; exp <= 1; exp++) {
        g_expired = exp;
        B leaf = mkcert(name_cn("pin.example"), name_cn("someone"), &lk, &ok, g_serial++,
                        cat(3, e_ku_leaf(), e_eku(O_KP_SERVER), e_san(gn_dns("pin.example"))));
        g_expired = 0;
        env e;
        env_init(&e);
        env_anchor(&e, copy(leaf));
        env_add(&e, leaf);
        CHECK_EQ(env_verify(&e, "pin.example"), exp ? FERRULE_R_CERT_EXPIRED : FR_OK);
        env_free(&e);
    }
    EVP_PKEY_free(lk.pk);
    EVP_PKEY_free(ok.pk);
}

TEST(path_errors_alternates) {
    shape s;
    shape_init(&s);
    /* two bad issuers and no good one: a complete path's failure (the first
     * found among equally deep paths) */
    B icas[2] = {ica_not_ca(&s), ica_client_only(&s)};
    CHECK_EQ(shape_verify(&s, "a.example", leaf_good(&s), 2, icas, NULL), FERRULE_R_CERT_NOT_CA);
    icas[0] = ica_client_only(&s);
    icas[1] = ica_not_ca(&s);
    CHECK_EQ(shape_verify(&s, "a.example", leaf_good(&s), 2, icas, NULL), FERRULE_R_CERT_EKU);
    /* a bad alternate does not hide a good issuer, in either order */
    B (*bad[3])(void *) = {ica_client_only, ica_not_ca, NULL};
    for (int i = 0; i < 3; i++) {
        for (int order = 0; order < 2; order++) {
            B alt = bad[i] ? bad[i](&s) : expired(ica_good, &s);
            B two[2] = {order ? ica_good(&s) : alt, order ? alt : ica_good(&s)};
            fr_verify_stats st;
            CHECK_EQ(shape_verify(&s, "a.example", leaf_good(&s), 2, two, &st), FR_OK);
            CHECK_EQ(st.path_len, 3);
        }
    }
    /* a complete path's failure beats a dead end (an ICA whose issuer is
     * unknown) and a bad signature (an ICA of another key) */
    icas[0] = mkca("ica", &s.ik, "other", &s.ok, none());
    icas[1] = expired(ica_good, &s);
    CHECK_EQ(shape_verify(&s, "a.example", leaf_good(&s), 2, icas, NULL), FERRULE_R_CERT_EXPIRED);
    icas[0] = mkca("ica", &s.ok, "root", &s.rk, none()); /* does not sign the leaf */
    icas[1] = ica_not_ca(&s);
    CHECK_EQ(shape_verify(&s, "a.example", leaf_good(&s), 2, icas, NULL), FERRULE_R_CERT_NOT_CA);
    /* nothing but dead ends and bad signatures */
    icas[0] = mkca("ica", &s.ik, "other", &s.ok, none());
    CHECK_EQ(shape_verify(&s, "a.example", leaf_good(&s), 1, icas, NULL),
             FERRULE_R_CERT_UNKNOWN_ISSUER);
    icas[0] = mkca("ica", &s.ok, "root", &s.rk, none());
    CHECK_EQ(shape_verify(&s, "a.example", leaf_good(&s), 1, icas, NULL),
             FERRULE_R_CERT_BAD_SIGNATURE);
    shape_free(&s);
}

TEST(path_errors_cross_signs) {
    shape s;
    shape_init(&s);
    key r2 = new_key(), xk = new_key();
    /* ica cross-signed by an untrusted root (listed first, a dead end) and
     * by the trusted root, where that cross-certificate expired */
    B icas[3] = {mkca("ica", &s.ik, "other", &s.ok, none()), mkca("other", &s.ok, "other", &s.ok, none()),
                 expired(ica_good, &s)};
    CHECK_EQ(shape_verify(&s, "a.example", leaf_good(&s), 3, icas, NULL), FERRULE_R_CERT_EXPIRED);
    /* two trusted roots: root (the anchor itself expired) directly above
     * ica, and root2 two levels up through "x" whose pathLenConstraint 0
     * the path breaks: the deeper path's failure is reported */
    env e;
    env_init(&e);
    g_expired = 1;
    env_anchor(&e, mkca("root", &s.rk, "root", &s.rk, none()));
    g_expired = 0;
    env_anchor(&e, mkca("root2", &r2, "root2", &r2, none()));
    env_add(&e, leaf_good(&s));
    env_add(&e, ica_good(&s));
    env_add(&e, mkca("ica", &s.ik, "x", &xk, none()));
    env_add(&e, mkcert(name_cn("x"), name_cn("root2"), &xk, &r2, g_serial++,
                       cat(4, e_bc_ca(0), e_ku_ca(), e_ski(&xk), e_aki(&r2))));
    fr_verify_stats st;
    CHECK_EQ(env_verify_ex(&e, "a.example", FR_VERIFY_SERVER, NULL, 0, &st),
             FERRULE_R_CERT_PATH_LENGTH);
    CHECK_EQ(st.paths, 2);
    env_free(&e);
    EVP_PKEY_free(r2.pk);
    EVP_PKEY_free(xk.pk);
    shape_free(&s);
}

/* A bridge CA (RFC 4158 §1.5.2): PKIs A, C, D, E, F and the trusted B are
 * each cross-certified with "bridge" both ways; the leaf is issued by A. */
static fr_err bridge_verify(int bridge_by_b_expired, int trust_b, fr_verify_stats *st) {
    key a = new_key(), br = new_key(), b = new_key(), o[4];
    const char *names[4] = {"C", "D", "E", "F"};
    env e;
    env_init(&e);
    if (trust_b)
        env_anchor(&e, mkca("B", &b, "B", &b, none()));
    else
        env_anchor(&e, mkca("unrelated", &b, "unrelated", &b, none()));
    key lk = new_key();
    env_add(&e, mkleaf("a.example", &lk, "A", &a, gn_dns("a.example"), none()));
    env_add(&e, mkca("A", &a, "A", &a, none()));
    env_add(&e, mkca("bridge", &br, "A", &a, none()));
    env_add(&e, mkca("A", &a, "bridge", &br, none()));
    for (int i = 0; i < 4; i++) {
        o[i] = new_key();
        env_add(&e, mkca("bridge", &br, names[i], &o[i], none()));
        env_add(&e, mkca(names[i], &o[i], "bridge", &br, none()));
    }
    env_add(&e, mkca("B", &b, "bridge", &br, none()));
    g_expired = bridge_by_b_expired;
    env_add(&e, mkca("bridge", &br, "B", &b, none()));
    g_expired = 0;
    fr_err r = env_verify_ex(&e, "a.example", FR_VERIFY_SERVER, NULL, 0, st);
    env_free(&e);
    EVP_PKEY_free(a.pk);
    EVP_PKEY_free(br.pk);
    EVP_PKEY_free(b.pk);
    EVP_PKEY_free(lk.pk);
    for (int i = 0; i < 4; i++) EVP_PKEY_free(o[i].pk);
    return r;
}

TEST(path_errors_bridge) {
    fr_verify_stats st;
    /* valid: leaf -> A (by bridge) -> bridge (by B) -> B */
    CHECK_EQ(bridge_verify(0, 1, &st), FR_OK);
    CHECK_EQ(st.path_len, 4);
    CHECK(st.sig_checks < FR_VERIFY_MAX_SIG_CHECKS);
    /* the one cross-certificate into B expired: that is the reason, not
     * an exhausted budget */
    CHECK_EQ(bridge_verify(1, 1, &st), FERRULE_R_CERT_EXPIRED);
    CHECK(st.sig_checks < FR_VERIFY_MAX_SIG_CHECKS);
    /* B not trusted: the search ends by itself */
    CHECK_EQ(bridge_verify(0, 0, &st), FERRULE_R_CERT_UNKNOWN_ISSUER);
    CHECK(st.sig_checks < FR_VERIFY_MAX_SIG_CHECKS);
}

TEST(path_errors_budget) {
    /* cert_too_much_work only when a budget ends the search: six CAs of
     * one subject and six keys, each key certified by every other one --
     * every ordering of the keys is a path, none reaches the anchor, and
     * every candidate of another key is a signature check */
    key rk = new_key(), lk = new_key(), k[6];
    for (int i = 0; i < 6; i++) k[i] = new_key();
    env e;
    env_init(&e);
    env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
    env_add(&e, mkleaf("a.example", &lk, "mesh", &k[0], gn_dns("a.example"), none()));
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++)
            if (i != j) env_add(&e, mkca("mesh", &k[i], "mesh", &k[j], none()));
    fr_verify_stats st;
    CHECK_EQ(env_verify_ex(&e, "a.example", FR_VERIFY_SERVER, NULL, 0, &st),
             FERRULE_R_CERT_TOO_MUCH_WORK);
    CHECK(st.sig_checks <= FR_VERIFY_MAX_SIG_CHECKS);
    env_free(&e);
    /* eight CAs X0..X7 (one key each), every one certified by every other:
     * 56 certificates, 56 signatures to check (each remembered), but
     * thousands of orderings -- the step budget ends that search */
    key x[8];
    char nm[8][4];
    for (int i = 0; i < 8; i++) {
        x[i] = new_key();
        snprintf(nm[i], sizeof(nm[i]), "X%d", i);
    }
    env_init(&e);
    env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
    env_add(&e, mkleaf("a.example", &lk, "X0", &x[0], gn_dns("a.example"), none()));
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++)
            if (i != j) env_add(&e, mkca(nm[i], &x[i], nm[j], &x[j], none()));
    CHECK_EQ(e.n, 57);
    CHECK_EQ(env_verify_ex(&e, "a.example", FR_VERIFY_SERVER, NULL, 0, &st),
             FERRULE_R_CERT_TOO_MUCH_WORK);
    CHECK(st.sig_checks <= 57);
    env_free(&e);
    for (int i = 0; i < 8; i++) EVP_PKEY_free(x[i].pk);
    EVP_PKEY_free(rk.pk);
    EVP_PKEY_free(lk.pk);
    for (int i = 0; i < 6; i++) EVP_PKEY_free(k[i].pk);
}

static int san_match(const char *pattern, const char *name) {
    B san = SEQ(1, gn_dns(pattern));
    int r = fr_san_matches_name(san.p, san.n, name);
    free(san.p);
    return r;
}

TEST(hostname_public_suffix) {
    CHECK(san_match("*.example.com", "a.example.com"));
    CHECK(!san_match("*.co.uk", "example.co.uk"));
    CHECK(!san_match("*.CO.UK", "example.co.uk"));
    CHECK(!san_match("*.a", "b.a"));
    CHECK(!san_match("*.s3.amazonaws.com", "x.s3.amazonaws.com"));
    CHECK(san_match("x.s3.amazonaws.com", "x.s3.amazonaws.com"));
    CHECK(san_match("*.example.co.uk", "www.example.co.uk"));
    /* underscores and hyphen-edged labels are not host names */
    CHECK(!san_match("a_b.com", "a_b.com"));
    CHECK(!san_match("-ab.com", "-ab.com"));
    CHECK(san_match("a-b.com", "A-B.com"));
    int w;
    CHECK_EQ(fr_dns_name_check((const uint8_t *)"a.b", 3, 0, &w), 2);
    CHECK_EQ(fr_dns_name_check((const uint8_t *)"*.b.c", 5, 1, &w), 3);
    CHECK_EQ(w, 1);
    CHECK_EQ(fr_dns_name_check((const uint8_t *)"*.b.c", 5, 0, &w), 0);
    CHECK_EQ(fr_dns_name_check((const uint8_t *)".b.c", 4, 1, &w), 0);
    /* the one wildcard rule: "*." and a host name of two labels or more */
    static const char *const not_wild[] = {"*", "*.", ".", "", "*.*", "*.b", "**.b.c",
                                           "*.*.c", "a.*.c", "f*.b.c", "*.b.c.", "*..b.c"};
    for (size_t i = 0; i < sizeof(not_wild) / sizeof(not_wild[0]); i++) {
        w = 7;
        CHECK_EQ(fr_dns_name_check((const uint8_t *)not_wild[i], strlen(not_wild[i]), 1, &w), 0);
        CHECK_EQ(w, 0);
        CHECK(!san_match(not_wild[i], "a.b.c"));
        CHECK(!san_match(not_wild[i], "b"));
        CHECK(!san_match(not_wild[i], not_wild[i]));
    }
    CHECK_EQ(fr_dns_name_check((const uint8_t *)"*.b.c", 5, 1, &w), 3);
    CHECK(san_match("*.b.c", "a.b.c"));
    /* 253 octets at most, the wildcard label included */
    char big[260] = "*.";
    host_of_len(big + 2, 251);
    size_t base_labels = fr_dns_name_check((const uint8_t *)big + 2, 251, 0, &w);
    CHECK(base_labels >= 2);
    CHECK_EQ(fr_dns_name_check((const uint8_t *)big, 253, 1, &w), base_labels + 1);
    host_of_len(big + 2, 252);
    CHECK_EQ(fr_dns_name_check((const uint8_t *)big, 254, 1, &w), 0);
}

/* ---- CRLs ----------------------------------------------------------------- */

static B revoked_entry(long serial) {
    return SEQ(2, integer(serial), tlv(0x17, str("230101000000Z")));
}

/* A CRL by `issuer` (name cn, key ik): entries (consumed, none() for no
 * list), CRL extensions content (consumed). */
static B mkcrl(const char *cn, const key *ik, B entries, B exts, const char *next) {
    B tbs =
        SEQ(7, integer(1), SEQ(1, oid(O_ECDSA_SHA256)), name_cn(cn),
            tlv(0x17, str("230101000000Z")), next ? tlv(0x17, str(next)) : none(),
            entries.n ? tlv(0x30, entries) : entries, exts.n ? tlv(0xa0, tlv(0x30, exts)) : exts);
    return sign(tbs, ik);
}
static B crl_number(int critical) { return ext("551d14", critical, integer(42)); }

static fr_crl *crl_of(fr_mem *m, B der) {
    fr_crl *c = NULL;
    CHECK_EQ(fr_crl_parse(m, der.p, der.n, &c), FR_OK);
    free(der.p);
    return c;
}

TEST(crls) {
    key rk = new_key(), lk = new_key(), ok = new_key();
    env e;
    env_init(&e);
    env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
    long leaf_serial = g_serial;
    env_add(&e, mkleaf("a.example", &lk, "root", &rk, gn_dns("a.example"), none()));
    fr_crl *c[8] = {0};
    c[0] = crl_of(&e.m, mkcrl("root", &rk, revoked_entry(leaf_serial), crl_number(0), NULL));
    c[1] = crl_of(
        &e.m, mkcrl("root", &rk, revoked_entry(leaf_serial + 1), crl_number(0), "300101000000Z"));
    c[2] = crl_of(&e.m, mkcrl("root", &rk, none(), none(), NULL));        /* no cRLNumber */
    c[3] = crl_of(&e.m, mkcrl("root", &rk, none(), crl_number(1), NULL)); /* critical */
    c[4] = crl_of(&e.m, mkcrl("root", &ok, none(), crl_number(0), NULL)); /* wrong key */
    c[5] = crl_of(&e.m, mkcrl("other", &ok, revoked_entry(leaf_serial), crl_number(0), NULL));
    c[6] = crl_of(&e.m, mkcrl("root", &rk, none(), crl_number(0), "230601000000Z")); /* stale */
    c[7] =
        crl_of(&e.m, mkcrl("root", &rk, none(), cat(2, crl_number(0), ext("551d1b", 1, integer(1))),
                           NULL)); /* delta CRL */
    const fr_crl *one[1];
    struct {
        int idx;
        fr_err want;
    } cases[] = {{0, FERRULE_R_CERT_REVOKED},
                 {1, FR_OK},
                 {2, MAL},
                 {3, MAL},
                 {4, FERRULE_R_CERT_BAD_SIGNATURE},
                 {5, FR_OK},
                 {6, FERRULE_R_CERT_EXPIRED},
                 {7, FERRULE_R_CERT_UNSUPPORTED}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        one[0] = c[cases[i].idx];
        if (one[0] == NULL)
            continue;
        fr_err got = env_verify_ex(&e, "a.example", FR_VERIFY_SERVER, one, 1, NULL);
        if (got != cases[i].want)
            fprintf(stderr, "  crl case %d\n", cases[i].idx);
        CHECK_EQ(got, cases[i].want);
    }
    /* no CRLs: no revocation checking */
    CHECK_EQ(env_verify_ex(&e, "a.example", FR_VERIFY_SERVER, NULL, 0, NULL), FR_OK);
    for (int i = 0; i < 8; i++)
        fr_crl_free(&e.m, c[i]);
    env_free(&e);
    /* an issuer whose keyUsage lacks cRLSign */
    env_init(&e);
    env_anchor(&e, mkcert(name_cn("root"), name_cn("root"), &rk, &rk, 77,
                          cat(3, e_bc_ca(-1), e_ku("0204"), e_ski(&rk))));
    env_add(&e, mkleaf("a.example", &lk, "root", &rk, gn_dns("a.example"), none()));
    fr_crl *k = crl_of(&e.m, mkcrl("root", &rk, none(), crl_number(0), NULL));
    one[0] = k;
    if (k)
        CHECK_EQ(env_verify_ex(&e, "a.example", FR_VERIFY_SERVER, one, 1, NULL),
                 FERRULE_R_CERT_KEY_USAGE);
    fr_crl_free(&e.m, k);
    env_free(&e);
    /* parser negatives */
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    B good = mkcrl("root", &rk, revoked_entry(5), crl_number(0), NULL);
    fr_crl *x = NULL;
    for (size_t cut = 0; cut < good.n; cut++) {
        CHECK(fr_crl_parse(&m, good.p, cut, &x) != FR_OK);
        fr_crl_free(&m, x);
        x = NULL;
    }
    B trailing = cat(2, copy(good), hexb("00"));
    CHECK_EQ(fr_crl_parse(&m, trailing.p, trailing.n, &x), MAL);
    free(trailing.p);
    free(good.p);
    /* v1 with extensions; TBS algorithm differing from the outer one */
    B v1 =
        sign(SEQ(5, SEQ(1, oid(O_ECDSA_SHA256)), name_cn("root"), tlv(0x17, str("230101000000Z")),
                 tlv(0x30, revoked_entry(5)), tlv(0xa0, tlv(0x30, crl_number(0)))),
             &rk);
    CHECK_EQ(fr_crl_parse(&m, v1.p, v1.n, &x), MAL);
    free(v1.p);
    B mism = sign(SEQ(4, integer(1), SEQ(1, oid("2a8648ce3d040303")), name_cn("root"),
                      tlv(0x17, str("230101000000Z"))),
                  &rk);
    CHECK_EQ(fr_crl_parse(&m, mism.p, mism.n, &x), MAL);
    free(mism.p);
    CHECK_EQ(m.used, 0);
    EVP_PKEY_free(rk.pk);
    EVP_PKEY_free(lk.pk);
    EVP_PKEY_free(ok.pk);
}

/* ---- the trust store's index and lazily decoded anchor keys ------------- */

/* A self-signed CA without a subjectKeyIdentifier. */
static B mkca_no_ski(const char *cn, const key *k, long serial) {
    return mkcert(name_cn(cn), name_cn(cn), k, k, serial, cat(2, e_bc_ca(-1), e_ku_ca()));
}

static int anchor_key_decoded(const fr_trust_store *t, size_t i) {
    return atomic_load(&t->certs[i]->key) != NULL;
}

TEST(trust_index_lookup_not_linear) {
    /* 300 decoy anchors of other names, then the root: finding the issuers
     * of leaf and ICA examines the anchors of their issuer's name, not the
     * store (a walk of the store examines 3 x 301 per level). */
    key dk = new_key(), rk = new_key(), ik = new_key(), lk = new_key();
    env e;
    env_init(&e);
    for (int i = 0; i < 300; i++) {
        char cn[32];
        snprintf(cn, sizeof(cn), "decoy %d", i);
        env_anchor(&e, mkca(cn, &dk, cn, &dk, none()));
    }
    env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
    env_add(&e, mkleaf("a.example", &lk, "ica", &ik, gn_dns("a.example"), none()));
    env_add(&e, mkca("ica", &ik, "root", &rk, none()));
    CHECK_EQ(e.t.n, 301);
    /* loading decoded no anchor's key */
    for (size_t i = 0; i < e.t.n; i++) CHECK(!anchor_key_decoded(&e.t, i));
    fr_verify_stats st;
    CHECK_EQ(env_verify_ex(&e, "a.example", FR_VERIFY_SERVER, NULL, 0, &st), FR_OK);
    CHECK_EQ(st.path_len, 3);
    CHECK_EQ(st.sig_checks, 2);
    /* the leaf: its ICA (3 ranks of 1 chain cert); the ICA: the root once */
    if (st.candidates > 8) fprintf(stderr, "  %u candidates examined\n", st.candidates);
    CHECK(st.candidates <= 8);
    /* only the anchor that verified something has its key decoded */
    for (size_t i = 0; i < 300; i++) CHECK(!anchor_key_decoded(&e.t, i));
    CHECK(anchor_key_decoded(&e.t, 300));
    /* and it stays decoded: a second verification costs the same */
    CHECK_EQ(env_verify_ex(&e, "a.example", FR_VERIFY_SERVER, NULL, 0, &st), FR_OK);
    /* a pinned leaf is found through the index too */
    env pin;
    env_init(&pin);
    for (int i = 0; i < 100; i++) {
        char cn[32];
        snprintf(cn, sizeof(cn), "decoy %d", i);
        env_anchor(&pin, mkca(cn, &dk, cn, &dk, none()));
    }
    B self = mkcert(name_cn("a.example"), name_cn("a.example"), &lk, &lk, g_serial++,
                    cat(4, e_ku_leaf(), e_eku(O_KP_SERVER), e_san(gn_dns("a.example")),
                        e_ski(&lk)));
    env_anchor(&pin, copy(self));
    env_add(&pin, self);
    CHECK_EQ(env_verify_ex(&pin, "a.example", FR_VERIFY_SERVER, NULL, 0, &st), FR_OK);
    CHECK_EQ(st.path_len, 1);
    env_free(&pin);
    env_free(&e);
    EVP_PKEY_free(dk.pk);
    EVP_PKEY_free(rk.pk);
    EVP_PKEY_free(ik.pk);
    EVP_PKEY_free(lk.pk);
}

TEST(trust_index_normalised_names) {
    /* RFC 5280 §7.1: the root's subject is a PrintableString with odd case
     * and spacing, the leaf names its issuer as a UTF8String: equal names,
     * so the index (keyed by the normalised form) must find the root. */
    key rk = new_key(), lk = new_key();
    env e;
    env_init(&e);
    B rname = one_attr(0x13, "  Example   ROOT ");
    env_anchor(&e, mkcert(copy(rname), copy(rname), &rk, &rk, g_serial++,
                          cat(3, e_bc_ca(-1), e_ku_ca(), e_ski(&rk))));
    free(rname.p);
    B exts = cat(5, e_ku_leaf(), e_eku(O_KP_SERVER), e_san(gn_dns("a.example")), e_ski(&lk),
                 e_aki(&rk));
    env_add(&e, mkcert(name_cn("a.example"), one_attr(0x0c, "example root"), &lk, &rk,
                       g_serial++, exts));
    CHECK_EQ(env_verify(&e, "a.example"), FR_OK);
    env_free(&e);
    /* the same with the attributes of a multi-valued RDN in another order */
    env_init(&e);
    B n1 = tlv(0x30, tlv(0x31, cat(2, SEQ(2, oid(O_CN), tlv(0x0c, str("Root"))),
                                   SEQ(2, oid(O_O), tlv(0x13, str("Org"))))));
    B n2 = tlv(0x30, tlv(0x31, cat(2, SEQ(2, oid(O_O), tlv(0x0c, str("org"))),
                                   SEQ(2, oid(O_CN), tlv(0x0c, str("ROOT"))))));
    env_anchor(&e, mkcert(copy(n1), n1, &rk, &rk, g_serial++,
                          cat(3, e_bc_ca(-1), e_ku_ca(), e_ski(&rk))));
    env_add(&e, mkcert(name_cn("a.example"), n2, &lk, &rk, g_serial++,
                       cat(5, e_ku_leaf(), e_eku(O_KP_SERVER), e_san(gn_dns("a.example")),
                           e_ski(&lk), e_aki(&rk))));
    CHECK_EQ(env_verify(&e, "a.example"), FR_OK);
    env_free(&e);
    EVP_PKEY_free(rk.pk);
    EVP_PKEY_free(lk.pk);
}

TEST(trust_index_bad_inputs) {
    key rk = new_key(), ik = new_key(), lk = new_key(), ghost = new_key();
    key same[12];
    for (int i = 0; i < 12; i++) same[i] = new_key();
    fr_verify_stats st;
    env e;
    /* duplicates: the same DER twice is one anchor; the same subject and
     * key re-issued (another serial) is a second one */
    env_init(&e);
    B root = mkca("root", &rk, "root", &rk, none());
    env_anchor(&e, copy(root));
    env_anchor(&e, copy(root));
    CHECK_EQ(e.t.n, 1);
    env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
    CHECK_EQ(e.t.n, 2);
    env_add(&e, mkleaf("a.example", &lk, "root", &rk, gn_dns("a.example"), none()));
    CHECK_EQ(env_verify(&e, "a.example"), FR_OK);
    env_free(&e);
    /* 12 anchors "root" with different keys, the signer last, while the
     * ICA's AKI names none of them (AKI pointing nowhere): with SKIs, and
     * with the 11 others lacking one -- each candidate is tried until the
     * signer */
    for (int with_ski = 0; with_ski <= 1; with_ski++) {
        env_init(&e);
        for (int i = 0; i < 12; i++)
            env_anchor(&e, with_ski || i == 11 ? mkca("root", &same[i], "root", &same[i], none())
                                               : mkca_no_ski("root", &same[i], g_serial++));
        env_add(&e, mkleaf("a.example", &lk, "ica", &ik, gn_dns("a.example"), none()));
        env_add(&e, mkca("ica", &ik, "root", &ghost, none()) /* AKI: ghost's id */);
        fr_cert_free(&e.m, e.chain[1]); /* replaced: the ICA signed by same[11] */
        e.n = 1;
        B ica = mkcert(name_cn("ica"), name_cn("root"), &ik, &same[11], g_serial++,
                       cat(4, e_bc_ca(-1), e_ku_ca(), e_ski(&ik), e_aki(&ghost)));
        env_add(&e, ica);
        CHECK_EQ(env_verify_ex(&e, "a.example", FR_VERIFY_SERVER, NULL, 0, &st), FR_OK);
        CHECK_EQ(st.sig_checks, 1 + 12);
        env_free(&e);
    }
    /* the signer without an SKI: a CA must have one (RFC 5280 §4.2.1.2),
     * anchors too; the same key with an SKI, added later, is tried next */
    env_init(&e);
    env_anchor(&e, mkca_no_ski("root", &rk, g_serial++));
    env_add(&e, mkleaf("a.example", &lk, "root", &rk, gn_dns("a.example"), none()));
    CHECK_EQ(env_verify(&e, "a.example"), MAL);
    env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
    CHECK_EQ(env_verify_ex(&e, "a.example", FR_VERIFY_SERVER, NULL, 0, &st), FR_OK);
    CHECK_EQ(st.paths, 1);
    env_free(&e);
    /* the same subject and key twice, the first anchor expired: the path
     * through it fails, the builder goes on to the second */
    env_init(&e);
    g_expired = 1;
    env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
    g_expired = 0;
    env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
    env_add(&e, mkleaf("a.example", &lk, "root", &rk, gn_dns("a.example"), none()));
    CHECK_EQ(env_verify_ex(&e, "a.example", FR_VERIFY_SERVER, NULL, 0, &st), FR_OK);
    CHECK_EQ(st.paths, 2);
    env_free(&e);
    /* an AKI that points nowhere and no anchor of the name: unknown issuer */
    env_init(&e);
    env_anchor(&e, mkca("other", &rk, "other", &rk, none()));
    env_add(&e, mkleaf("a.example", &lk, "root", &ghost, gn_dns("a.example"), none()));
    CHECK_EQ(env_verify(&e, "a.example"), FERRULE_R_CERT_UNKNOWN_ISSUER);
    env_free(&e);
    /* an undone addition leaves no stale index entry behind */
    env_init(&e);
    for (int i = 0; i < 40; i++) {
        char cn[32];
        snprintf(cn, sizeof(cn), "decoy %d", i);
        env_anchor(&e, i == 20 ? copy(root) : mkca(cn, &ghost, cn, &ghost, none()));
    }
    env_add(&e, mkleaf("a.example", &lk, "root", &rk, gn_dns("a.example"), none()));
    CHECK_EQ(env_verify(&e, "a.example"), FR_OK);
    fr_trust_truncate(&e.m, &e.t, 10);
    CHECK_EQ(e.t.n, 10);
    CHECK_EQ(env_verify(&e, "a.example"), FERRULE_R_CERT_UNKNOWN_ISSUER);
    env_anchor(&e, copy(root));
    CHECK_EQ(env_verify(&e, "a.example"), FR_OK);
    fr_trust_truncate(&e.m, &e.t, 0);
    CHECK_EQ(env_verify(&e, "a.example"), FERRULE_R_CERT_UNKNOWN_ISSUER);
    env_anchor(&e, copy(root));
    CHECK_EQ(env_verify(&e, "a.example"), FR_OK);
    env_free(&e);
    free(root.p);
    for (int i = 0; i < 12; i++) EVP_PKEY_free(same[i].pk);
    EVP_PKEY_free(rk.pk);
    EVP_PKEY_free(ik.pk);
    EVP_PKEY_free(lk.pk);
    EVP_PKEY_free(ghost.pk);
}

TEST(trust_anchor_keys_lazy) {
    /* The size read from the encoding at load is libcrypto's, for every
     * key type we accept. */
    key ca = new_key();
    EVP_PKEY *pss = NULL;
    EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
    if (kc != NULL && EVP_PKEY_keygen_init(kc) == 1 && EVP_PKEY_CTX_set_rsa_keygen_bits(kc, 2048) == 1)
        (void)EVP_PKEY_generate(kc, &pss);
    EVP_PKEY_CTX_free(kc);
    EVP_PKEY *keys[] = {EVP_EC_gen("P-256"), EVP_EC_gen("P-384"), EVP_EC_gen("P-521"),
                        EVP_RSA_gen(2048), pss, EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")};
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        REQUIRE(keys[i] != NULL);
        B der = mkcert_spki(name_cn("x"), name_cn("ca"), spki_of(keys[i]), &ca, g_serial++,
                            none());
        fr_cert *eager = NULL, *lazy = NULL;
        CHECK_EQ(fr_cert_parse(&m, der.p, der.n, &eager), FR_OK);
        CHECK_EQ(fr_cert_parse_anchor(&m, der.p, der.n, &lazy), FR_OK);
        if (eager != NULL && lazy != NULL) {
            CHECK(eager->key_kind != 0);
            CHECK_EQ(lazy->key_bits, eager->key_bits);
            CHECK(atomic_load(&eager->key) != NULL);
            CHECK(atomic_load(&lazy->key) == NULL);
            EVP_PKEY *k1, *k2;
            CHECK_EQ(fr_cert_key(lazy, &k1), FR_OK);
            CHECK_EQ(fr_cert_key(lazy, &k2), FR_OK);
            CHECK(k1 != NULL && k1 == k2); /* decoded once, then kept */
            CHECK_EQ(EVP_PKEY_eq(k1, keys[i]), 1);
        }
        fr_cert_free(&m, eager);
        fr_cert_free(&m, lazy);
        free(der.p);
        EVP_PKEY_free(keys[i]);
    }
    /* Bad keys: a point of the wrong length, and one of the right length
     * off the curve.  Either way the anchor loads and its key is
     * CERT_UNSUPPORTED when it would be used, as with eager decoding. */
    EVP_PKEY *p256 = EVP_EC_gen("P-256");
    B good = spki_of(p256);
    /* 30 59 | 30 13 <id-ecPublicKey, P-256> | 03 42 00 04 X Y: drop Y's
     * last octet and fix the two lengths */
    REQUIRE(good.n == 91 && good.p[1] == 0x59 && good.p[23] == 0x03 && good.p[24] == 0x42);
    B short_pt = raw(good.p, 90);
    short_pt.p[1] = 0x58;
    short_pt.p[24] = 0x41;
    B off_curve = copy(good);
    off_curve.p[off_curve.n - 1] ^= 0x01;
    B bad[2] = {short_pt, off_curve};
    for (int i = 0; i < 2; i++) {
        B der = mkcert_spki(name_cn("x"), name_cn("ca"), copy(bad[i]), &ca, g_serial++, none());
        fr_cert *eager = NULL, *lazy = NULL;
        CHECK_EQ(fr_cert_parse(&m, der.p, der.n, &eager), FR_OK);
        CHECK_EQ(fr_cert_parse_anchor(&m, der.p, der.n, &lazy), FR_OK);
        EVP_PKEY *k;
        if (eager != NULL) CHECK_EQ(fr_cert_key(eager, &k), FERRULE_R_CERT_UNSUPPORTED);
        if (lazy != NULL) {
            CHECK_EQ(fr_cert_key(lazy, &k), FERRULE_R_CERT_UNSUPPORTED);
            CHECK_EQ(fr_cert_key(lazy, &k), FERRULE_R_CERT_UNSUPPORTED); /* remembered */
        }
        fr_cert_free(&m, eager);
        fr_cert_free(&m, lazy);
        free(der.p);
    }
    CHECK_EQ(m.used, 0);
    /* An anchor whose key is off the curve, in a path: CERT_UNSUPPORTED. */
    key lk = new_key();
    env e;
    env_init(&e);
    B bad_root = mkcert_spki(name_cn("root"), name_cn("root"), copy(off_curve), &ca,
                             g_serial++, cat(3, e_bc_ca(-1), e_ku_ca(), e_ski(&ca)));
    env_anchor(&e, bad_root);
    env_add(&e, mkcert(name_cn("a.example"), name_cn("root"), &lk, &ca, g_serial++,
                       cat(5, e_ku_leaf(), e_eku(O_KP_SERVER), e_san(gn_dns("a.example")),
                           e_ski(&lk), e_aki(&ca))));
    CHECK_EQ(env_verify(&e, "a.example"), FERRULE_R_CERT_UNSUPPORTED);
    env_free(&e);
    free(good.p);
    free(short_pt.p);
    free(off_curve.p);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(ca.pk);
    EVP_PKEY_free(lk.pk);
}

/* Threads verifying at once against one store whose anchor key is not
 * decoded yet: each gets the key (one of them publishes it, the others'
 * copies are freed; ASan's leak check and test_threads' TSan-free design
 * rely on this). */
typedef struct race {
    env *e;
    atomic_int ok;
} race;

static void *race_main(void *arg) {
    race *r = arg;
    fr_verify_params p;
    memset(&p, 0, sizeof(p));
    p.now = NOW;
    p.peer_name = "a.example";
    p.purpose = FR_VERIFY_SERVER;
    if (fr_verify_chain(&r->e->t, r->e->chain, r->e->n, &p) == FR_OK) atomic_fetch_add(&r->ok, 1);
    return NULL;
}

TEST(trust_anchor_key_first_use_threads) {
    key rk = new_key(), lk = new_key();
    for (int round = 0; round < 8; round++) {
        env e;
        env_init(&e);
        env_anchor(&e, mkca("root", &rk, "root", &rk, none()));
        env_add(&e, mkleaf("a.example", &lk, "root", &rk, gn_dns("a.example"), none()));
        race r = {&e, 0};
        pthread_t th[4];
        for (int i = 0; i < 4; i++) CHECK_EQ(pthread_create(&th[i], NULL, race_main, &r), 0);
        for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
        CHECK_EQ(atomic_load(&r.ok), 4);
        CHECK(anchor_key_decoded(&e.t, 0));
        env_free(&e); /* frees the one published key; m.used checked */
    }
    EVP_PKEY_free(rk.pk);
    EVP_PKEY_free(lk.pk);
}

TEST_MAIN("x509_rfc5280", TL_CASE(ext_key_identifiers), TL_CASE(ext_name_constraints_parse),
          TL_CASE(ext_policies_parse), TL_CASE(ext_aia_crldp_tlsfeature_parse),
          TL_CASE(spki_algorithms), TL_CASE(spki_unsupported_not_decoded), TL_CASE(name_comparison), TL_CASE(nc_dns), TL_CASE(nc_ip),
          TL_CASE(nc_email_and_dir), TL_CASE(nc_wildcard_short_forms), TL_CASE(nc_cn_interpretation), TL_CASE(nc_rules_and_budget), TL_CASE(profile_rules),
          TL_CASE(profile_leaf_rules), TL_CASE(profile_ca_rules), TL_CASE(cn_consistency),
          TL_CASE(policies), TL_CASE(path_key_identifiers_and_cross_signs), TL_CASE(path_errors_leaf_defects_first), TL_CASE(path_errors_pinned_leaf),
          TL_CASE(path_errors_alternates), TL_CASE(path_errors_cross_signs), TL_CASE(path_errors_bridge),
          TL_CASE(path_errors_budget),
          TL_CASE(hostname_public_suffix), TL_CASE(crls), TL_CASE(trust_index_lookup_not_linear),
          TL_CASE(trust_index_normalised_names), TL_CASE(trust_index_bad_inputs),
          TL_CASE(trust_anchor_keys_lazy), TL_CASE(trust_anchor_key_first_use_threads))
