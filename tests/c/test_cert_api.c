/* test_cert_api.c - the public X.509 accessors (ferrule_cert_*): every
 * accessor on the test PKI (compared with what `openssl x509` prints for
 * the same files) and on crafted certificates (multi-valued RDNs, RFC 4514
 * escaping, every GeneralName type, no extensions, v1), malformed DER for
 * the field behind each accessor, and misuse of each accessor. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ferrule.h"
#include "support_pair.h"
#include "testlib.h"
#include "x509/x509.h"

/* ---- a small DER builder ---------------------------------------------------- */

typedef struct blob {
    uint8_t p[6000];
    size_t n;
} blob;

static blob raw(const void *p, size_t n) {
    blob b;
    memcpy(b.p, p, n);
    b.n = n;
    return b;
}
static blob str(const char *s) { return raw(s, strlen(s)); }
static blob none(void) { return raw("", 0); }

/* tag, then the concatenation of n blobs as the content. */
static blob tlv(uint8_t tag, int n, ...) {
    blob c = none(), out;
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        blob part = va_arg(ap, blob);
        memcpy(c.p + c.n, part.p, part.n);
        c.n += part.n;
    }
    va_end(ap);
    out.n = 0;
    out.p[out.n++] = tag;
    if (c.n < 0x80) {
        out.p[out.n++] = (uint8_t)c.n;
    } else if (c.n < 0x100) {
        out.p[out.n++] = 0x81;
        out.p[out.n++] = (uint8_t)c.n;
    } else {
        out.p[out.n++] = 0x82;
        out.p[out.n++] = (uint8_t)(c.n >> 8);
        out.p[out.n++] = (uint8_t)c.n;
    }
    memcpy(out.p + out.n, c.p, c.n);
    out.n += c.n;
    return out;
}
static blob cat(blob a, blob b) {
    memcpy(a.p + a.n, b.p, b.n);
    a.n += b.n;
    return a;
}

/* OBJECT IDENTIFIER content of a dotted string (arcs below 2^64). */
static blob oid_content(const char *dotted) {
    unsigned long long arcs[32];
    size_t n = 0;
    for (const char *s = dotted; *s != 0; s += *s == '.') arcs[n++] = strtoull(s, (char **)&s, 10);
    blob b = none();
    for (size_t i = 1; i < n; i++) {
        unsigned long long v = i == 1 ? arcs[0] * 40 + arcs[1] : arcs[i];
        uint8_t tmp[10];
        size_t k = 0;
        do {
            tmp[k++] = (uint8_t)(v & 0x7f);
            v >>= 7;
        } while (v != 0);
        while (k-- > 0) b.p[b.n++] = (uint8_t)(tmp[k] | (k > 0 ? 0x80 : 0));
    }
    return b;
}
static blob oid(const char *dotted) { return tlv(0x06, 1, oid_content(dotted)); }
static blob atv(const char *type, uint8_t tag, blob value) {
    return tlv(0x30, 2, oid(type), tlv(tag, 1, value));
}
#define CN "2.5.4.3"
#define OU "2.5.4.11"
#define O "2.5.4.10"

static blob g_spki; /* a real Ed25519 SubjectPublicKeyInfo (from the PKI) */

typedef struct tbs_parts {
    blob version, serial, issuer, validity, subject, spki, uids, exts, sig_alg;
} tbs_parts;

static tbs_parts default_parts(void) {
    tbs_parts t;
    t.version = tlv(0xa0, 1, tlv(0x02, 1, raw("\x02", 1)));
    t.serial = tlv(0x02, 1, raw("\x10\x01", 2));
    t.issuer = tlv(0x30, 1, tlv(0x31, 1, atv(CN, 0x0c, str("Crafted CA"))));
    t.validity = tlv(0x30, 2, tlv(0x17, 1, str("260105090807Z")), tlv(0x18, 1, str("20500101000000Z")));
    t.subject = tlv(0x30, 1, tlv(0x31, 1, atv(CN, 0x0c, str("crafted"))));
    t.spki = g_spki;
    t.uids = none();
    t.exts = none();
    t.sig_alg = tlv(0x30, 1, oid("1.2.840.10045.4.3.2"));
    return t;
}

static blob build(const tbs_parts *t) {
    blob tbs = tlv(0x30, 9, t->version, t->serial, t->sig_alg, t->issuer, t->validity, t->subject,
                   t->spki, t->uids, t->exts);
    return tlv(0x30, 3, tbs, t->sig_alg, tlv(0x03, 1, raw("\x00\x01\x02", 3)));
}
static blob exts(int n, blob a, blob b, blob c, blob d, blob e) {
    blob all[5] = {a, b, c, d, e}, body = none();
    for (int i = 0; i < n; i++) body = cat(body, all[i]);
    return tlv(0xa3, 1, tlv(0x30, 1, body));
}
static blob ext(const char *id, int critical, blob value) {
    blob crit = critical ? tlv(0x01, 1, raw("\xff", 1)) : none();
    return tlv(0x30, 3, oid(id), crit, tlv(0x04, 1, value));
}

static ferrule_cert *parse_blob(const blob *b) {
    ferrule_cert *c = NULL;
    uint32_t reason = 99;
    int st = ferrule_cert_parse(b->p, b->n, &c, &reason);
    if (st != FERRULE_OK) fprintf(stderr, "  parse: %s\n", ferrule_reason_name(reason));
    CHECK_EQ(st, FERRULE_OK);
    CHECK_EQ(reason, FERRULE_R_NONE);
    return c;
}

static const char *name_str(const ferrule_cert *c, size_t which) {
    const char *s = NULL;
    size_t n = 0;
    if (ferrule_cert_name_string(c, which, &s, &n) != FERRULE_OK) return "(error)";
    CHECK_EQ(strlen(s), n);
    return s;
}

/* ---- fixtures: PKI files ------------------------------------------------------- */

static fr_err keep_first(void *ctx, const uint8_t *der, size_t len) {
    blob *b = ctx;
    if (b->n == 0 && len <= sizeof(b->p)) *b = raw(der, len);
    return FR_OK;
}

static blob pki_der(const char *file) {
    blob b = none();
    FILE *f = fopen(pair_pki(file), "rb");
    CHECK(f != NULL);
    if (f == NULL) return b;
    static char pem[65536];
    size_t n = fread(pem, 1, sizeof(pem), f);
    fclose(f);
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    CHECK_EQ(fr_pem_each_cert(&m, (const uint8_t *)pem, n, keep_first, &b), FR_OK);
    return b;
}

/* Output of a shell command (at most cap-1 bytes), "" on failure. */
static char *run(const char *cmd, char *out, size_t cap) {
    out[0] = 0;
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    if (p == NULL) return out;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    CHECK_EQ(pclose(p), 0);
    return out;
}

static void load_spki(void) {
    blob leaf = pki_der("ed25519.leaf.pem");
    ferrule_cert *c = parse_blob(&leaf);
    const uint8_t *p;
    size_t n;
    g_spki.n = 0;
    if (c != NULL && ferrule_cert_spki(c, &p, &n) == FERRULE_OK) g_spki = raw(p, n);
    ferrule_cert_free(c);
}

/* ---- the PKI against openssl x509 ------------------------------------------------- */

static void hex(const uint8_t *p, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02X", p[i]);
    out[2 * n] = 0;
}

static void iso_time(int64_t t, char *out) {
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static const char *gn_prefix(uint32_t type) {
    switch (type) {
    case FERRULE_GN_DNS: return "DNS:";
    case FERRULE_GN_IP: return "IP Address:";
    case FERRULE_GN_EMAIL: return "email:";
    case FERRULE_GN_URI: return "URI:";
    default: return "?:";
    }
}

/* What `openssl x509 -ext subjectAltName,basicConstraints,keyUsage,
 * extendedKeyUsage` prints, rebuilt from the accessors. */
static void render_exts(const ferrule_cert *c, char *out) {
    static const char *const KU[] = {"Digital Signature", "Non Repudiation", "Key Encipherment",
                                     "Data Encipherment", "Key Agreement", "Certificate Sign",
                                     "CRL Sign", "Encipher Only", "Decipher Only"};
    out[0] = 0;
    for (size_t i = 0; i < ferrule_cert_extension_count(c); i++) {
        const char *id;
        uint32_t crit;
        const uint8_t *v;
        size_t n;
        CHECK_EQ(ferrule_cert_extension(c, i, &id, &crit, &v, &n), FERRULE_OK);
        const char *tail = crit ? " critical\n    " : " \n    ";
        if (strcmp(id, "2.5.29.19") == 0) {
            uint32_t present, ca, has_pl, pl;
            CHECK_EQ(ferrule_cert_basic_constraints(c, &present, &ca, &has_pl, &pl), FERRULE_OK);
            CHECK_EQ(present, 1);
            sprintf(out + strlen(out), "X509v3 Basic Constraints:%sCA:%s", tail,
                    ca ? "TRUE" : "FALSE");
            if (has_pl) sprintf(out + strlen(out), ", pathlen:%u", pl);
            strcat(out, "\n");
        } else if (strcmp(id, "2.5.29.15") == 0) {
            uint32_t present, bits;
            CHECK_EQ(ferrule_cert_key_usage(c, &present, &bits), FERRULE_OK);
            CHECK_EQ(present, 1);
            sprintf(out + strlen(out), "X509v3 Key Usage:%s", tail);
            int first = 1;
            for (unsigned b = 0; b < 9; b++)
                if (bits & (1u << b)) {
                    sprintf(out + strlen(out), "%s%s", first ? "" : ", ", KU[b]);
                    first = 0;
                }
            strcat(out, "\n");
        } else if (strcmp(id, "2.5.29.37") == 0) {
            sprintf(out + strlen(out), "X509v3 Extended Key Usage:%s", tail);
            for (size_t k = 0; k < ferrule_cert_eku_count(c); k++) {
                const char *e;
                CHECK_EQ(ferrule_cert_eku(c, k, &e), FERRULE_OK);
                const char *nm = strcmp(e, "1.3.6.1.5.5.7.3.1") == 0   ? "TLS Web Server Authentication"
                                 : strcmp(e, "1.3.6.1.5.5.7.3.2") == 0 ? "TLS Web Client Authentication"
                                                                       : e;
                sprintf(out + strlen(out), "%s%s", k ? ", " : "", nm);
            }
            strcat(out, "\n");
        } else if (strcmp(id, "2.5.29.17") == 0) {
            sprintf(out + strlen(out), "X509v3 Subject Alternative Name:%s", tail);
            for (size_t k = 0; k < ferrule_cert_san_count(c); k++) {
                uint32_t type;
                const uint8_t *p;
                size_t len;
                CHECK_EQ(ferrule_cert_san(c, k, &type, &p, &len), FERRULE_OK);
                char *o = out + strlen(out);
                o += sprintf(o, "%s%s", k ? ", " : "", gn_prefix(type));
                if (type == FERRULE_GN_IP && len == 4) {
                    sprintf(o, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
                } else if (type == FERRULE_GN_IP && len == 16) {
                    for (size_t j = 0; j < 16; j += 2)
                        o += sprintf(o, "%s%X", j ? ":" : "", (unsigned)(p[j] << 8 | p[j + 1]));
                } else {
                    memcpy(o, p, len);
                    o[len] = 0;
                }
            }
            strcat(out, "\n");
        }
    }
}

static const char *sig_name(const char *oid) {
    static const char *const T[][2] = {{"1.2.840.10045.4.3.2", "ecdsa-with-SHA256"},
                                       {"1.2.840.10045.4.3.3", "ecdsa-with-SHA384"},
                                       {"1.2.840.113549.1.1.11", "sha256WithRSAEncryption"},
                                       {"1.2.840.113549.1.1.10", "rsassaPss"},
                                       {"1.3.101.112", "ED25519"}};
    for (size_t i = 0; i < sizeof(T) / sizeof(T[0]); i++)
        if (strcmp(oid, T[i][0]) == 0) return T[i][1];
    return oid;
}

static void compare_with_openssl(const char *file) {
    blob der = pki_der(file);
    ferrule_cert *c = parse_blob(&der);
    REQUIRE(c != NULL);
    char cmd[2048], got[8192], want[8192];
    const char *path = pair_pki(file);
    /* Names, serial and validity. */
    const uint8_t *serial;
    size_t serial_len;
    int64_t nb, na;
    CHECK_EQ(ferrule_cert_serial(c, &serial, &serial_len), FERRULE_OK);
    CHECK_EQ(ferrule_cert_validity(c, &nb, &na), FERRULE_OK);
    while (serial_len > 1 && serial[0] == 0) serial++, serial_len--;
    char shex[64], tb[32], ta[32];
    hex(serial, serial_len, shex);
    iso_time(nb, tb);
    iso_time(na, ta);
    snprintf(got, sizeof(got), "subject=%s\nissuer=%s\nserial=%s\nnotBefore=%s\nnotAfter=%s\n",
             name_str(c, FERRULE_CERT_SUBJECT), name_str(c, FERRULE_CERT_ISSUER), shex, tb, ta);
    snprintf(cmd, sizeof(cmd),
             "openssl x509 -in '%s' -noout -subject -issuer -nameopt RFC2253 -serial -startdate "
             "-enddate -dateopt iso_8601",
             path);
    CHECK(strcmp(run(cmd, want, sizeof(want)), got) == 0);
    if (strcmp(want, got) != 0) fprintf(stderr, "  %s:\n%s---\n%s", file, want, got);
    /* Extensions. */
    render_exts(c, got);
    snprintf(cmd, sizeof(cmd),
             "openssl x509 -in '%s' -noout -ext basicConstraints,keyUsage,extendedKeyUsage,"
             "subjectAltName 2>/dev/null",
             path);
    CHECK(strcmp(run(cmd, want, sizeof(want)), got) == 0);
    if (strcmp(want, got) != 0) fprintf(stderr, "  %s:\n%s---\n%s", file, want, got);
    /* Version, signature algorithm, key size (from -text). */
    const char *sig;
    uint16_t scheme;
    uint32_t type, bits;
    const char *alg, *curve;
    CHECK_EQ(ferrule_cert_signature_algorithm(c, &sig, &scheme), FERRULE_OK);
    CHECK(scheme != 0);
    CHECK_EQ(ferrule_cert_public_key(c, &type, &bits, &alg, &curve), FERRULE_OK);
    snprintf(cmd, sizeof(cmd), "openssl x509 -in '%s' -noout -text", path);
    run(cmd, want, sizeof(want));
    snprintf(got, sizeof(got), "Version: %u (0x%x)", ferrule_cert_version(c),
             ferrule_cert_version(c) - 1);
    CHECK(strstr(want, got) != NULL);
    snprintf(got, sizeof(got), "Signature Algorithm: %s\n", sig_name(sig));
    CHECK(strstr(want, got) != NULL);
    if (type == FERRULE_KEY_ED25519) {
        CHECK(strstr(want, "ED25519 Public-Key:") != NULL);
        CHECK(curve == NULL);
    } else {
        snprintf(got, sizeof(got), "Public-Key: (%u bit)", bits);
        CHECK(strstr(want, got) != NULL);
        CHECK((type == FERRULE_KEY_EC) == (curve != NULL));
    }
    /* SPKI SHA-256. */
    const uint8_t *d;
    size_t dn;
    CHECK_EQ(ferrule_cert_spki_sha256(c, &d, &dn), FERRULE_OK);
    CHECK_EQ(dn, 32);
    char dhex[80];
    hex(d, dn, dhex);
    for (char *s = dhex; *s; s++) *s = (char)(*s >= 'A' ? *s + 32 : *s);
    snprintf(cmd, sizeof(cmd),
             "openssl x509 -in '%s' -noout -pubkey | openssl pkey -pubin -outform DER | "
             "openssl dgst -sha256 -r",
             path);
    run(cmd, want, sizeof(want));
    CHECK(strncmp(want, dhex, 64) == 0);
    /* The DER itself. */
    const uint8_t *p;
    size_t n;
    CHECK_EQ(ferrule_cert_der(c, &p, &n), FERRULE_OK);
    CHECK(n == der.n && memcmp(p, der.p, n) == 0);
    ferrule_cert_free(c);
}

TEST(pki_matches_openssl) {
    static const char *const FILES[] = {"root.pem",        "inter.pem",
                                        "ecdsa-p256.leaf.pem", "ecdsa-p384.leaf.pem",
                                        "rsa.leaf.pem",    "rsa-pss.leaf.pem",
                                        "ed25519.leaf.pem", "x-nosan.pem",
                                        "x-eku-client.pem", "x-ku-keyenc.pem"};
    for (size_t i = 0; i < sizeof(FILES) / sizeof(FILES[0]); i++) compare_with_openssl(FILES[i]);
}

TEST(pki_key_facts) {
    static const struct {
        const char *file;
        uint32_t type, bits;
        const char *curve;
    } K[] = {{"ecdsa-p256.leaf.pem", FERRULE_KEY_EC, 256, "1.2.840.10045.3.1.7"},
             {"ecdsa-p384.leaf.pem", FERRULE_KEY_EC, 384, "1.3.132.0.34"},
             {"rsa.leaf.pem", FERRULE_KEY_RSA, 2048, NULL},
             {"rsa-pss.leaf.pem", FERRULE_KEY_RSA_PSS, 2048, NULL},
             {"ed25519.leaf.pem", FERRULE_KEY_ED25519, 256, NULL}};
    for (size_t i = 0; i < sizeof(K) / sizeof(K[0]); i++) {
        blob der = pki_der(K[i].file);
        ferrule_cert *c = parse_blob(&der);
        uint32_t type, bits;
        const char *alg, *curve;
        CHECK_EQ(ferrule_cert_public_key(c, &type, &bits, &alg, &curve), FERRULE_OK);
        CHECK_EQ(type, K[i].type);
        CHECK_EQ(bits, K[i].bits);
        CHECK(K[i].curve == NULL ? curve == NULL : curve != NULL && strcmp(curve, K[i].curve) == 0);
        const char *sig;
        uint16_t scheme;
        CHECK_EQ(ferrule_cert_signature_algorithm(c, &sig, &scheme), FERRULE_OK);
        CHECK_EQ(scheme, FERRULE_SIG_ECDSA_SECP256R1_SHA256); /* all signed by the P-256 inter */
        CHECK(strcmp(sig, "1.2.840.10045.4.3.2") == 0);
        ferrule_cert_free(c);
    }
    blob root = pki_der("root.pem");
    ferrule_cert *c = parse_blob(&root);
    uint32_t present, ca, has_pl, pl, ku_present, ku;
    CHECK_EQ(ferrule_cert_basic_constraints(c, &present, &ca, &has_pl, &pl), FERRULE_OK);
    CHECK(present == 1 && ca == 1);
    CHECK_EQ(ferrule_cert_key_usage(c, &ku_present, &ku), FERRULE_OK);
    CHECK_EQ(ku_present, 1);
    CHECK(ku & FERRULE_KU_KEY_CERT_SIGN);
    CHECK_EQ(ferrule_cert_eku_count(c), 0);
    ferrule_cert_free(c);
}

/* ---- crafted certificates -------------------------------------------------------- */

TEST(multi_valued_rdn_and_attribute_list) {
    tbs_parts t = default_parts();
    t.subject = tlv(0x30, 3, tlv(0x31, 1, atv("2.5.4.6", 0x13, str("DE"))),
                    tlv(0x31, 2, atv(OU, 0x0c, str("Unit A")), atv(OU, 0x0c, str("Unit B"))),
                    tlv(0x31, 1, atv(CN, 0x0c, str("multi"))));
    blob der = build(&t);
    ferrule_cert *c = parse_blob(&der);
    REQUIRE(c != NULL);
    size_t n;
    CHECK_EQ(ferrule_cert_name_count(c, FERRULE_CERT_SUBJECT, &n), FERRULE_OK);
    CHECK_EQ(n, 4);
    static const struct {
        size_t rdn;
        const char *oid, *value;
        uint32_t tag;
    } W[] = {{0, "2.5.4.6", "DE", 0x13},
             {1, OU, "Unit A", 0x0c},
             {1, OU, "Unit B", 0x0c},
             {2, CN, "multi", 0x0c}};
    for (size_t i = 0; i < 4; i++) {
        size_t rdn;
        const char *o;
        uint32_t tag;
        const uint8_t *v;
        size_t len;
        CHECK_EQ(ferrule_cert_name_attr(c, FERRULE_CERT_SUBJECT, i, &rdn, &o, &tag, &v, &len),
                 FERRULE_OK);
        CHECK_EQ(rdn, W[i].rdn);
        CHECK(strcmp(o, W[i].oid) == 0);
        CHECK_EQ(tag, W[i].tag);
        CHECK(len == strlen(W[i].value) && memcmp(v, W[i].value, len) == 0);
    }
    CHECK(strcmp(name_str(c, FERRULE_CERT_SUBJECT), "CN=multi,OU=Unit A+OU=Unit B,C=DE") == 0);
    CHECK(strcmp(name_str(c, FERRULE_CERT_ISSUER), "CN=Crafted CA") == 0);
    const uint8_t *d;
    size_t dn;
    CHECK_EQ(ferrule_cert_name_der(c, FERRULE_CERT_SUBJECT, &d, &dn), FERRULE_OK);
    CHECK(dn == t.subject.n && memcmp(d, t.subject.p, dn) == 0);
    ferrule_cert_free(c);
}

/* One subject attribute's RFC 4514 rendering. */
static void check_rfc4514(const char *type, uint8_t tag, blob value, const char *want) {
    tbs_parts t = default_parts();
    t.subject = tlv(0x30, 1, tlv(0x31, 1, atv(type, tag, value)));
    blob der = build(&t);
    ferrule_cert *c = parse_blob(&der);
    if (c == NULL) return;
    const char *got = name_str(c, FERRULE_CERT_SUBJECT);
    if (strcmp(got, want) != 0) fprintf(stderr, "  RFC 4514: got [%s] want [%s]\n", got, want);
    CHECK(strcmp(got, want) == 0);
    ferrule_cert_free(c);
}

TEST(rfc4514_escaping) {
    check_rfc4514(CN, 0x0c, str("#hash"), "CN=\\#hash");
    check_rfc4514(CN, 0x0c, str("a#b"), "CN=a#b");
    check_rfc4514(CN, 0x0c, str(" lead"), "CN=\\ lead");
    check_rfc4514(CN, 0x0c, str("trail "), "CN=trail\\ ");
    check_rfc4514(CN, 0x0c, str(" "), "CN=\\ ");
    check_rfc4514(CN, 0x0c, str("  "), "CN=\\ \\ ");
    check_rfc4514(CN, 0x0c, str("in ner"), "CN=in ner");
    check_rfc4514(CN, 0x0c, str(",+\"\\<>;"), "CN=\\,\\+\\\"\\\\\\<\\>\\;");
    check_rfc4514(CN, 0x0c, str("back\\ "), "CN=back\\\\\\ ");
    check_rfc4514(CN, 0x0c, str("a=b"), "CN=a=b");
    check_rfc4514(CN, 0x0c, str(""), "CN=");
    check_rfc4514(CN, 0x0c, raw("a\0b\x01\x7f", 5), "CN=a\\00b\\01\\7F");
    check_rfc4514(CN, 0x0c, str("Caf\xc3\xa9"), "CN=Caf\xc3\xa9");          /* UTF-8 as is */
    check_rfc4514(CN, 0x0c, str("bad\xff\xc3"), "CN=bad\\FF\\C3");           /* ill-formed */
    check_rfc4514(CN, 0x0c, str("\xed\xa0\x80"), "CN=\\ED\\A0\\80");         /* a surrogate */
    check_rfc4514(CN, 0x0c, str("\xc0\xaf"), "CN=\\C0\\AF");                 /* overlong */
    check_rfc4514(CN, 0x13, str("print\xe9"), "CN=print\\E9");
    check_rfc4514(CN, 0x14, str("T61 \xe9"), "CN=T61 \xc3\xa9");             /* Latin-1 */
    check_rfc4514(CN, 0x1e, raw("\x00\xdc\x00n", 4), "CN=\xc3\x9cn");        /* BMPString */
    check_rfc4514(CN, 0x1e, raw("\xd8\x00", 2), "CN=#1E02D800");             /* lone surrogate */
    check_rfc4514(CN, 0x1e, raw("\x00", 1), "CN=#1E0100");                   /* odd length */
    check_rfc4514(CN, 0x1c, raw("\x00\x01\xf6\x00", 4), "CN=\xf0\x9f\x98\x80");
    check_rfc4514(CN, 0x02, raw("\x05", 1), "CN=#020105");                   /* not a string */
    check_rfc4514("1.2.840.113549.1.9.1", 0x16, str("a@b"), "1.2.840.113549.1.9.1=#1603614062");
    check_rfc4514("0.9.2342.19200300.100.1.25", 0x16, str("example"), "DC=example");
    check_rfc4514("2.5.4.9", 0x0c, str("Main St"), "STREET=Main St");
    /* OIDs whose arcs do not fit 64 bits, and a first arc 2 with Y >= 40. */
    check_rfc4514("2.999.3", 0x0c, str("x"), "2.999.3=#0C0178");
    tbs_parts t = default_parts();
    blob big = raw("\x55\x04\x82\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 14);
    t.subject = tlv(0x30, 1, tlv(0x31, 1, tlv(0x30, 2, tlv(0x06, 1, big), tlv(0x0c, 1, str("v")))));
    blob der = build(&t);
    ferrule_cert *c = parse_blob(&der);
    const char *o = NULL;
    const uint8_t *v;
    size_t len;
    CHECK_EQ(ferrule_cert_name_attr(c, FERRULE_CERT_SUBJECT, 0, NULL, &o, NULL, &v, &len),
             FERRULE_OK);
    /* 2 * 128^11 + 1 */
    if (o != NULL && strcmp(o, "2.5.4.302231454903657293676545") != 0) fprintf(stderr, "  %s\n", o);
    CHECK(o != NULL && strcmp(o, "2.5.4.302231454903657293676545") == 0);
    ferrule_cert_free(c);
    /* A huge first subidentifier: 2.(X - 80). */
    t = default_parts();
    big = raw("\x82\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x50\x01", 13);
    t.subject = tlv(0x30, 1, tlv(0x31, 1, tlv(0x30, 2, tlv(0x06, 1, big), tlv(0x0c, 1, str("v")))));
    der = build(&t);
    c = parse_blob(&der);
    CHECK_EQ(ferrule_cert_name_attr(c, FERRULE_CERT_SUBJECT, 0, NULL, &o, NULL, &v, &len),
             FERRULE_OK);
    /* 2 * 128^11 + 80 - 80 = 2 * 128^11 */
    if (o != NULL && strcmp(o, "2.302231454903657293676544.1") != 0) fprintf(stderr, "  %s\n", o);
    CHECK(o != NULL && strcmp(o, "2.302231454903657293676544.1") == 0);
    ferrule_cert_free(c);
}

TEST(every_general_name_type) {
    tbs_parts t = default_parts();
    blob dir = tlv(0x30, 2, tlv(0x31, 1, atv(O, 0x0c, str("Dir Org"))),
                   tlv(0x31, 1, atv(CN, 0x0c, str("dir name"))));
    blob ip6 = tlv(0x87, 1, raw("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16));
    blob san = tlv(0x30, 10,
                   tlv(0xa0, 2, oid("1.3.6.1.4.1.311.20.2.3"), tlv(0xa0, 1, tlv(0x0c, 1, str("upn@x")))),
                   tlv(0x81, 1, str("ops@example.test")), tlv(0x82, 1, str("a.test")),
                   tlv(0xa3, 1, tlv(0x30, 0)), tlv(0xa4, 1, dir),
                   tlv(0xa5, 1, tlv(0xa1, 1, tlv(0x0c, 1, str("edi")))),
                   tlv(0x86, 1, str("https://a.test/")), tlv(0x87, 1, raw("\x0a\x00\x00\x01", 4)),
                   tlv(0x88, 1, oid_content("1.2.3.4")), ip6);
    t.exts = exts(1, ext("2.5.29.17", 0, san), none(), none(), none(), none());
    blob der = build(&t);
    ferrule_cert *c = parse_blob(&der);
    REQUIRE(c != NULL);
    CHECK_EQ(ferrule_cert_san_count(c), 10);
    static const uint32_t TYPES[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 7};
    for (size_t i = 0; i < 10; i++) {
        uint32_t type;
        const uint8_t *v;
        size_t n;
        CHECK_EQ(ferrule_cert_san(c, i, &type, &v, &n), FERRULE_OK);
        CHECK_EQ(type, TYPES[i]);
    }
    const uint8_t *v;
    size_t n;
    uint32_t type, tag;
    const char *o;
    CHECK_EQ(ferrule_cert_san(c, 2, &type, &v, &n), FERRULE_OK);
    CHECK(n == 6 && memcmp(v, "a.test", 6) == 0);
    CHECK_EQ(ferrule_cert_san(c, 7, &type, &v, &n), FERRULE_OK);
    CHECK(n == 4 && memcmp(v, "\x0a\x00\x00\x01", 4) == 0);
    CHECK_EQ(ferrule_cert_san(c, 9, &type, &v, &n), FERRULE_OK);
    CHECK_EQ(n, 16);
    CHECK_EQ(ferrule_cert_san_oid(c, 0, &o), FERRULE_OK);
    CHECK(strcmp(o, "1.3.6.1.4.1.311.20.2.3") == 0);
    CHECK_EQ(ferrule_cert_san_other_name(c, 0, &tag, &v, &n), FERRULE_OK);
    CHECK(tag == 0x0c && n == 5 && memcmp(v, "upn@x", 5) == 0);
    CHECK_EQ(ferrule_cert_san_oid(c, 8, &o), FERRULE_OK);
    CHECK(strcmp(o, "1.2.3.4") == 0);
    /* The directoryName: raw DER, and as a name of its own. */
    CHECK_EQ(ferrule_cert_san(c, 4, &type, &v, &n), FERRULE_OK);
    CHECK(n == dir.n && memcmp(v, dir.p, n) == 0);
    CHECK(strcmp(name_str(c, FERRULE_CERT_SAN_NAME(4)), "CN=dir name,O=Dir Org") == 0);
    size_t count;
    CHECK_EQ(ferrule_cert_name_count(c, FERRULE_CERT_SAN_NAME(4), &count), FERRULE_OK);
    CHECK_EQ(count, 2);
    /* Wrong kinds. */
    CHECK_EQ(ferrule_cert_name_count(c, FERRULE_CERT_SAN_NAME(2), &count), FERRULE_USAGE);
    CHECK_EQ(ferrule_cert_reason(c), FERRULE_R_NOT_FOUND);
    CHECK_EQ(ferrule_cert_name_count(c, FERRULE_CERT_SAN_NAME(10), &count), FERRULE_USAGE);
    CHECK_EQ(ferrule_cert_san_oid(c, 2, &o), FERRULE_USAGE);
    CHECK(o == NULL);
    CHECK_EQ(ferrule_cert_san_other_name(c, 8, &tag, &v, &n), FERRULE_USAGE);
    CHECK(v == NULL && n == 0 && tag == 0);
    CHECK_EQ(ferrule_cert_reason(c), FERRULE_R_NOT_FOUND);
    CHECK_EQ(ferrule_cert_san(c, 10, &type, &v, &n), FERRULE_USAGE);
    ferrule_cert_free(c);
}

TEST(aia_crldp_eku_and_extensions) {
    tbs_parts t = default_parts();
    blob aia = tlv(0x30, 2, tlv(0x30, 2, oid("1.3.6.1.5.5.7.48.1"), tlv(0x86, 1, str("http://o/"))),
                   tlv(0x30, 2, oid("1.3.6.1.5.5.7.48.2"), tlv(0x82, 1, str("ca.test"))));
    blob crldp = tlv(0x30, 2, tlv(0x30, 1, tlv(0xa0, 1, tlv(0xa0, 1, tlv(0x86, 1, str("http://c/1"))))),
                     tlv(0x30, 2, tlv(0xa0, 1, tlv(0xa0, 2, tlv(0x86, 1, str("http://c/2")),
                                                   tlv(0x82, 1, str("c.test")))),
                         tlv(0x81, 1, raw("\x05\xa0", 2))));
    blob eku = tlv(0x30, 2, oid("1.3.6.1.5.5.7.3.1"), oid("1.2.3.4.5"));
    blob bc = tlv(0x30, 2, tlv(0x01, 1, raw("\xff", 1)), tlv(0x02, 1, raw("\x03", 1)));
    blob ku = tlv(0x03, 1, raw("\x07\x80", 2)); /* digitalSignature only... */
    ku = tlv(0x03, 1, raw("\x01\x86", 2));      /* bits 0, 5, 6 */
    t.exts = exts(5, ext("1.3.6.1.5.5.7.1.1", 0, aia), ext("2.5.29.31", 0, crldp),
                  ext("2.5.29.37", 0, eku), ext("2.5.29.19", 1, bc), ext("2.5.29.15", 1, ku));
    blob der = build(&t);
    ferrule_cert *c = parse_blob(&der);
    REQUIRE(c != NULL);
    CHECK_EQ(ferrule_cert_aia_count(c), 2);
    const char *m;
    uint32_t type;
    const uint8_t *v;
    size_t n, point;
    CHECK_EQ(ferrule_cert_aia(c, 0, &m, &type, &v, &n), FERRULE_OK);
    CHECK(strcmp(m, "1.3.6.1.5.5.7.48.1") == 0 && type == FERRULE_GN_URI && n == 9);
    CHECK_EQ(ferrule_cert_aia(c, 1, &m, &type, &v, &n), FERRULE_OK);
    CHECK(strcmp(m, "1.3.6.1.5.5.7.48.2") == 0 && type == FERRULE_GN_DNS);
    CHECK_EQ(ferrule_cert_crl_dp_count(c), 3);
    CHECK_EQ(ferrule_cert_crl_dp(c, 0, &point, &type, &v, &n), FERRULE_OK);
    CHECK(point == 0 && type == FERRULE_GN_URI && n == 10 && memcmp(v, "http://c/1", 10) == 0);
    CHECK_EQ(ferrule_cert_crl_dp(c, 2, &point, &type, &v, &n), FERRULE_OK);
    CHECK(point == 1 && type == FERRULE_GN_DNS);
    CHECK_EQ(ferrule_cert_eku_count(c), 2);
    CHECK_EQ(ferrule_cert_eku(c, 1, &m), FERRULE_OK);
    CHECK(strcmp(m, "1.2.3.4.5") == 0);
    uint32_t present, ca, has_pl, pl, bits;
    CHECK_EQ(ferrule_cert_basic_constraints(c, &present, &ca, &has_pl, &pl), FERRULE_OK);
    CHECK(present == 1 && ca == 1 && has_pl == 1 && pl == 3);
    CHECK_EQ(ferrule_cert_key_usage(c, &present, &bits), FERRULE_OK);
    CHECK_EQ(present, 1);
    CHECK_EQ(bits, FERRULE_KU_DIGITAL_SIGNATURE | FERRULE_KU_KEY_CERT_SIGN | FERRULE_KU_CRL_SIGN);
    CHECK_EQ(ferrule_cert_extension_count(c), 5);
    uint32_t crit;
    CHECK_EQ(ferrule_cert_extension(c, 3, &m, &crit, &v, &n), FERRULE_OK);
    CHECK(strcmp(m, "2.5.29.19") == 0 && crit == 1 && n == bc.n && memcmp(v, bc.p, n) == 0);
    CHECK_EQ(ferrule_cert_extension(c, 0, &m, &crit, &v, &n), FERRULE_OK);
    CHECK(crit == 0);
    ferrule_cert_free(c);
}

TEST(no_extensions_and_v1) {
    tbs_parts t = default_parts();
    for (int v1 = 0; v1 <= 1; v1++) {
        if (v1) t.version = none();
        blob der = build(&t);
        ferrule_cert *c = parse_blob(&der);
        REQUIRE(c != NULL);
        CHECK_EQ(ferrule_cert_version(c), v1 ? 1 : 3);
        CHECK_EQ(ferrule_cert_extension_count(c), 0);
        CHECK_EQ(ferrule_cert_san_count(c), 0);
        CHECK_EQ(ferrule_cert_eku_count(c), 0);
        CHECK_EQ(ferrule_cert_aia_count(c), 0);
        CHECK_EQ(ferrule_cert_crl_dp_count(c), 0);
        uint32_t present = 9, ca = 9, has_pl = 9, pl = 9, bits = 9;
        CHECK_EQ(ferrule_cert_basic_constraints(c, &present, &ca, &has_pl, &pl), FERRULE_OK);
        CHECK(present == 0 && ca == 0 && has_pl == 0 && pl == 0);
        CHECK_EQ(ferrule_cert_key_usage(c, &present, &bits), FERRULE_OK);
        CHECK(present == 0 && bits == 0);
        int64_t nb, na;
        CHECK_EQ(ferrule_cert_validity(c, &nb, &na), FERRULE_OK);
        CHECK_EQ(nb, 1767604087); /* 2026-01-05 09:08:07Z */
        CHECK_EQ(na, 2524608000); /* 2050-01-01 00:00:00Z */
        const uint8_t *s;
        size_t n;
        CHECK_EQ(ferrule_cert_serial(c, &s, &n), FERRULE_OK);
        CHECK(n == 2 && s[0] == 0x10 && s[1] == 0x01);
        uint32_t type, kbits;
        const char *alg, *curve;
        CHECK_EQ(ferrule_cert_public_key(c, &type, &kbits, &alg, &curve), FERRULE_OK);
        CHECK(type == FERRULE_KEY_ED25519 && strcmp(alg, "1.3.101.112") == 0);
        ferrule_cert_free(c);
    }
    /* An empty subject and a negative serial; an unsupported key (X25519)
     * and signature algorithm (ecdsa-with-SHA1) parse, reported as such. */
    t = default_parts();
    t.subject = tlv(0x30, 0);
    t.serial = tlv(0x02, 1, raw("\xff\x01", 2));
    t.spki = tlv(0x30, 2, tlv(0x30, 1, oid("1.3.101.110")), tlv(0x03, 1, raw("\x00\x01", 2)));
    t.sig_alg = tlv(0x30, 1, oid("1.2.840.10045.4.1"));
    blob der = build(&t);
    ferrule_cert *c = parse_blob(&der);
    REQUIRE(c != NULL);
    size_t n;
    CHECK_EQ(ferrule_cert_name_count(c, FERRULE_CERT_SUBJECT, &n), FERRULE_OK);
    CHECK_EQ(n, 0);
    CHECK(strcmp(name_str(c, FERRULE_CERT_SUBJECT), "") == 0);
    const uint8_t *s;
    CHECK_EQ(ferrule_cert_serial(c, &s, &n), FERRULE_OK);
    CHECK(n == 2 && s[0] == 0xff);
    uint32_t type = 9, bits = 9;
    const char *alg, *curve, *sig;
    uint16_t scheme = 9;
    CHECK_EQ(ferrule_cert_public_key(c, &type, &bits, &alg, &curve), FERRULE_OK);
    CHECK(type == FERRULE_KEY_OTHER && bits == 0 && strcmp(alg, "1.3.101.110") == 0 && !curve);
    CHECK_EQ(ferrule_cert_signature_algorithm(c, &sig, &scheme), FERRULE_OK);
    CHECK(scheme == 0 && strcmp(sig, "1.2.840.10045.4.1") == 0);
    ferrule_cert_free(c);
}

/* ---- malformed input: one case per accessor's field --------------------------------- */

static void expect_malformed(const char *what, const blob *b) {
    ferrule_cert *c = (ferrule_cert *)1;
    uint32_t reason = 0;
    int st = ferrule_cert_parse(b->p, b->n, &c, &reason);
    if (st != FERRULE_CERTIFICATE || reason != FERRULE_R_CERT_MALFORMED)
        fprintf(stderr, "  %s: status %d reason %s\n", what, st, ferrule_reason_name(reason));
    CHECK_EQ(st, FERRULE_CERTIFICATE);
    CHECK_EQ(reason, FERRULE_R_CERT_MALFORMED);
    CHECK(c == NULL);
}

TEST(malformed_for_every_accessor) {
    tbs_parts t;
    blob b;
#define CASE(what, field, value)                                                                   \
    do {                                                                                           \
        t = default_parts();                                                                       \
        t.field = value;                                                                           \
        b = build(&t);                                                                             \
        expect_malformed(what, &b);                                                                \
    } while (0)
    /* version */
    CASE("version 4", version, tlv(0xa0, 1, tlv(0x02, 1, raw("\x03", 1))));
    CASE("version trailing", version, tlv(0xa0, 2, tlv(0x02, 1, raw("\x02", 1)), raw("\x05\x00", 2)));
    /* serial */
    CASE("empty serial", serial, tlv(0x02, 0));
    CASE("non-minimal serial", serial, tlv(0x02, 1, raw("\x00\x01", 2)));
    CASE("serial of 21 octets", serial, tlv(0x02, 1, raw("\x01xxxxxxxxxxxxxxxxxxxx", 21)));
    CASE("serial wrong tag", serial, tlv(0x04, 1, raw("\x01", 1)));
    /* names */
    CASE("empty RDN", subject, tlv(0x30, 1, tlv(0x31, 0)));
    CASE("RDN not a SET", subject, tlv(0x30, 1, tlv(0x30, 1, atv(CN, 0x0c, str("x")))));
    CASE("attribute trailing", issuer,
         tlv(0x30, 1, tlv(0x31, 1, tlv(0x30, 3, oid(CN), tlv(0x0c, 1, str("x")), tlv(0x05, 0)))));
    CASE("bad OID", subject,
         tlv(0x30, 1, tlv(0x31, 1, tlv(0x30, 2, tlv(0x06, 1, raw("\x55\x80\x04", 3)),
                                       tlv(0x0c, 1, str("x"))))));
    CASE("truncated OID", subject,
         tlv(0x30, 1, tlv(0x31, 1, tlv(0x30, 2, tlv(0x06, 1, raw("\x55\x84", 2)),
                                       tlv(0x0c, 1, str("x"))))));
    /* validity */
    CASE("UTCTime without seconds", validity,
         tlv(0x30, 2, tlv(0x17, 1, str("2601050908Z")), tlv(0x17, 1, str("270105090807Z"))));
    CASE("February 30", validity,
         tlv(0x30, 2, tlv(0x17, 1, str("260230000000Z")), tlv(0x17, 1, str("270105090807Z"))));
    CASE("one time only", validity, tlv(0x30, 1, tlv(0x17, 1, str("260105090807Z"))));
    /* key */
    CASE("SPKI trailing", spki,
         tlv(0x30, 3, tlv(0x30, 1, oid("1.3.101.110")), tlv(0x03, 1, raw("\x00\x01", 2)),
             tlv(0x05, 0)));
    CASE("RSA key without NULL", spki,
         tlv(0x30, 2, tlv(0x30, 1, oid("1.2.840.113549.1.1.1")), tlv(0x03, 1, raw("\x00\x01", 2))));
    CASE("bad unused bits", spki,
         tlv(0x30, 2, tlv(0x30, 1, oid("1.3.101.110")), tlv(0x03, 1, raw("\x08\x01", 2))));
    /* signature algorithm */
    CASE("ECDSA with parameters", sig_alg, tlv(0x30, 2, oid("1.2.840.10045.4.3.2"), tlv(0x05, 0)));
    /* unique ids in v1 */
    t = default_parts();
    t.version = none();
    t.uids = tlv(0x81, 1, raw("\x00\x01", 2));
    b = build(&t);
    expect_malformed("unique id in v1", &b);
    /* extensions: each accessor's */
    blob gn_ok = tlv(0x30, 1, tlv(0x82, 1, str("a.test")));
    t = default_parts();
    t.version = none();
    t.exts = exts(1, ext("2.5.29.17", 0, gn_ok), none(), none(), none(), none());
    b = build(&t);
    expect_malformed("extensions in v1", &b);
    CASE("empty extensions", exts, tlv(0xa3, 1, tlv(0x30, 0)));
    CASE("duplicate extension", exts,
         exts(2, ext("2.5.29.17", 0, gn_ok), ext("2.5.29.17", 0, gn_ok), none(), none(), none()));
    CASE("critical not DER", exts,
         tlv(0xa3, 1, tlv(0x30, 1, tlv(0x30, 3, oid("2.5.29.17"), tlv(0x01, 1, raw("\x01", 1)),
                                       tlv(0x04, 1, gn_ok)))));
    CASE("empty SAN", exts, exts(1, ext("2.5.29.17", 0, tlv(0x30, 0)), none(), none(), none(), none()));
    CASE("SAN trailing", exts,
         exts(1, ext("2.5.29.17", 0, cat(gn_ok, raw("\x00", 1))), none(), none(), none(), none()));
    CASE("non-ASCII dNSName", exts,
         exts(1, ext("2.5.29.17", 0, tlv(0x30, 1, tlv(0x82, 1, str("\xe9.t")))), none(), none(),
              none(), none()));
    CASE("constructed dNSName", exts,
         exts(1, ext("2.5.29.17", 0, tlv(0x30, 1, tlv(0xa2, 1, tlv(0x16, 1, str("a"))))), none(),
              none(), none(), none()));
    CASE("GeneralName [9]", exts,
         exts(1, ext("2.5.29.17", 0, tlv(0x30, 1, tlv(0x89, 1, str("a")))), none(), none(), none(),
              none()));
    CASE("otherName without value", exts,
         exts(1, ext("2.5.29.17", 0, tlv(0x30, 1, tlv(0xa0, 1, oid("1.2.3")))), none(), none(),
              none(), none()));
    CASE("directoryName trailing", exts,
         exts(1, ext("2.5.29.17", 0, tlv(0x30, 1, tlv(0xa4, 2, tlv(0x30, 0), tlv(0x05, 0)))), none(),
              none(), none(), none()));
    CASE("empty EKU", exts, exts(1, ext("2.5.29.37", 0, tlv(0x30, 0)), none(), none(), none(), none()));
    CASE("EKU not OIDs", exts,
         exts(1, ext("2.5.29.37", 0, tlv(0x30, 1, tlv(0x0c, 1, str("x")))), none(), none(), none(),
              none()));
    CASE("BC pathlen negative", exts,
         exts(1, ext("2.5.29.19", 1, tlv(0x30, 2, tlv(0x01, 1, raw("\xff", 1)), tlv(0x02, 1, raw("\x80", 1)))),
              none(), none(), none(), none()));
    CASE("BC trailing", exts,
         exts(1, ext("2.5.29.19", 1, cat(tlv(0x30, 0), raw("\x05\x00", 2))), none(), none(), none(),
              none()));
    CASE("KU too long", exts,
         exts(1, ext("2.5.29.15", 1, tlv(0x03, 1, raw("\x00\x80\x80\x80", 4))), none(), none(), none(),
              none()));
    CASE("KU nonzero unused bits", exts,
         exts(1, ext("2.5.29.15", 1, tlv(0x03, 1, raw("\x01\x81", 2))), none(), none(), none(), none()));
    CASE("empty AIA", exts,
         exts(1, ext("1.3.6.1.5.5.7.1.1", 0, tlv(0x30, 0)), none(), none(), none(), none()));
    CASE("AIA without location", exts,
         exts(1, ext("1.3.6.1.5.5.7.1.1", 0, tlv(0x30, 1, tlv(0x30, 1, oid("1.3.6.1.5.5.7.48.1")))),
              none(), none(), none(), none()));
    CASE("empty CRLDP", exts, exts(1, ext("2.5.29.31", 0, tlv(0x30, 0)), none(), none(), none(), none()));
    CASE("DistributionPoint without a name", exts,
         exts(1, ext("2.5.29.31", 0, tlv(0x30, 1, tlv(0x30, 1, tlv(0x81, 1, raw("\x05\xa0", 2))))),
              none(), none(), none(), none()));
    CASE("empty fullName", exts,
         exts(1, ext("2.5.29.31", 0, tlv(0x30, 1, tlv(0x30, 1, tlv(0xa0, 1, tlv(0xa0, 0))))), none(),
              none(), none(), none()));
#undef CASE
    /* The outer structure. */
    tbs_parts d = default_parts();
    blob good = build(&d);
    ferrule_cert *c = parse_blob(&good);
    ferrule_cert_free(c);
    blob trailing = cat(good, raw("\x00", 1));
    expect_malformed("trailing byte", &trailing);
    blob wrongtag = good;
    wrongtag.p[0] = 0x31;
    expect_malformed("SET for SEQUENCE", &wrongtag);
    blob longlen = raw("\x30\x81\x03\x02\x01\x00", 6);
    expect_malformed("long form for a short length", &longlen);
    blob indefinite = raw("\x30\x80\x02\x01\x00\x00\x00", 7);
    expect_malformed("indefinite length", &indefinite);
    blob toolong = good;
    toolong.p[3] = (uint8_t)(toolong.p[3] + 1);
    expect_malformed("length beyond the end", &toolong);
    blob empty = none();
    expect_malformed("empty", &empty);
    /* Every truncation. */
    int all = 1;
    for (size_t n = 0; n < good.n; n++) {
        ferrule_cert *x = NULL;
        uint32_t reason = 0;
        if (ferrule_cert_parse(good.p, n, &x, &reason) != FERRULE_CERTIFICATE ||
            reason != FERRULE_R_CERT_MALFORMED || x != NULL)
            all = 0;
        ferrule_cert_free(x);
    }
    CHECK(all);
}

/* ---- misuse --------------------------------------------------------------------------- */

TEST(misuse_of_every_accessor) {
    uint32_t reason = 0;
    ferrule_cert *c = (ferrule_cert *)1;
    tbs_parts t = default_parts();
    blob der = build(&t);
    CHECK_EQ(ferrule_cert_parse(NULL, 1, &c, &reason), FERRULE_USAGE);
    CHECK(c == NULL && reason == FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_cert_parse(der.p, der.n, NULL, &reason), FERRULE_USAGE);
    CHECK_EQ(reason, FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_cert_parse(der.p, der.n, &c, NULL), FERRULE_OK); /* reason optional */
    REQUIRE(c != NULL);
    CHECK_EQ(ferrule_cert_reason(c), FERRULE_R_NONE);
    const uint8_t *p = (const uint8_t *)"x";
    size_t n = 7, idx = 7;
    const char *s = "x";
    uint32_t u = 7;
    /* NULL required out-pointers: usage / null_argument, outputs cleared. */
#define NULLARG(call)                                                                              \
    do {                                                                                           \
        CHECK_EQ(call, FERRULE_USAGE);                                                             \
        CHECK_EQ(ferrule_cert_reason(c), FERRULE_R_NULL_ARGUMENT);                                 \
    } while (0)
    NULLARG(ferrule_cert_der(c, NULL, &n));
    CHECK_EQ(n, 0);
    NULLARG(ferrule_cert_der(c, &p, NULL));
    CHECK(p == NULL);
    NULLARG(ferrule_cert_serial(c, NULL, &n));
    NULLARG(ferrule_cert_spki(c, &p, NULL));
    NULLARG(ferrule_cert_spki_sha256(c, NULL, &n));
    NULLARG(ferrule_cert_name_count(c, FERRULE_CERT_SUBJECT, NULL));
    NULLARG(ferrule_cert_name_attr(c, FERRULE_CERT_SUBJECT, 0, &idx, &s, &u, NULL, &n));
    CHECK(idx == 0 && s == NULL && u == 0 && n == 0);
    NULLARG(ferrule_cert_name_string(c, FERRULE_CERT_SUBJECT, NULL, &n));
    NULLARG(ferrule_cert_name_der(c, FERRULE_CERT_ISSUER, &p, NULL));
    NULLARG(ferrule_cert_san(c, 0, &u, NULL, &n));
    NULLARG(ferrule_cert_san_oid(c, 0, NULL));
    NULLARG(ferrule_cert_san_other_name(c, 0, &u, &p, NULL));
    NULLARG(ferrule_cert_eku(c, 0, NULL));
    NULLARG(ferrule_cert_aia(c, 0, &s, &u, NULL, &n));
    NULLARG(ferrule_cert_crl_dp(c, 0, &idx, &u, &p, NULL));
    NULLARG(ferrule_cert_extension(c, 0, &s, &u, NULL, &n));
#undef NULLARG
    /* Indexes out of range and unknown names: usage / not_found. */
#define NOTFOUND(call)                                                                             \
    do {                                                                                           \
        CHECK_EQ(call, FERRULE_USAGE);                                                             \
        CHECK_EQ(ferrule_cert_reason(c), FERRULE_R_NOT_FOUND);                                     \
    } while (0)
    NOTFOUND(ferrule_cert_name_count(c, FERRULE_CERT_SAN_NAME(0), &n));
    NOTFOUND(ferrule_cert_name_count(c, (size_t)-1, &n));
    NOTFOUND(ferrule_cert_name_attr(c, FERRULE_CERT_SUBJECT, 1, NULL, NULL, NULL, &p, &n));
    NOTFOUND(ferrule_cert_name_string(c, 99, &s, &n));
    CHECK(s == NULL && n == 0);
    NOTFOUND(ferrule_cert_name_der(c, 2, &p, &n));
    NOTFOUND(ferrule_cert_san(c, 0, &u, &p, &n));
    NOTFOUND(ferrule_cert_san_oid(c, 0, &s));
    NOTFOUND(ferrule_cert_san_other_name(c, 0, &u, &p, &n));
    NOTFOUND(ferrule_cert_eku(c, 0, &s));
    NOTFOUND(ferrule_cert_aia(c, 0, &s, &u, &p, &n));
    NOTFOUND(ferrule_cert_crl_dp(c, 0, &idx, &u, &p, &n));
    NOTFOUND(ferrule_cert_extension(c, 0, &s, &u, &p, &n));
#undef NOTFOUND
    /* A success leaves the last reason alone; optional outputs may be NULL. */
    CHECK_EQ(ferrule_cert_validity(c, NULL, NULL), FERRULE_OK);
    CHECK_EQ(ferrule_cert_public_key(c, NULL, NULL, NULL, NULL), FERRULE_OK);
    CHECK_EQ(ferrule_cert_signature_algorithm(c, NULL, NULL), FERRULE_OK);
    CHECK_EQ(ferrule_cert_basic_constraints(c, NULL, NULL, NULL, NULL), FERRULE_OK);
    CHECK_EQ(ferrule_cert_key_usage(c, NULL, NULL), FERRULE_OK);
    CHECK_EQ(ferrule_cert_reason(c), FERRULE_R_NOT_FOUND);
    ferrule_cert_free(c);
    /* A NULL handle. */
    CHECK_EQ(ferrule_cert_reason(NULL), FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_cert_version(NULL), 0);
    CHECK_EQ(ferrule_cert_san_count(NULL), 0);
    CHECK_EQ(ferrule_cert_eku_count(NULL), 0);
    CHECK_EQ(ferrule_cert_aia_count(NULL), 0);
    CHECK_EQ(ferrule_cert_crl_dp_count(NULL), 0);
    CHECK_EQ(ferrule_cert_extension_count(NULL), 0);
    CHECK_EQ(ferrule_cert_der(NULL, &p, &n), FERRULE_USAGE);
    CHECK_EQ(ferrule_cert_validity(NULL, NULL, NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_cert_public_key(NULL, &u, NULL, NULL, NULL), FERRULE_USAGE);
    CHECK_EQ(u, 0);
    CHECK_EQ(ferrule_cert_name_count(NULL, 0, &n), FERRULE_USAGE);
    ferrule_cert_free(NULL);
}

/* ---- a connection's peer certificates ---------------------------------------------- */

TEST(peer_certificates_of_a_connection) {
    pair p;
    ferrule_config *ccfg = pair_client_config(), *scfg = pair_server_config("rsa");
    REQUIRE(pair_new(&p, ccfg, scfg, NULL));
    ferrule_cert *c = (ferrule_cert *)1;
    uint32_t reason = 0;
    /* Before the handshake: no certificate. */
    CHECK_EQ(ferrule_conn_peer_cert_parse(p.client, 0, &c, &reason), FERRULE_USAGE);
    CHECK(c == NULL && reason == FERRULE_R_NOT_FOUND);
    int cs, ss;
    REQUIRE(pair_handshake(&p, &cs, &ss));
    size_t count = ferrule_conn_peer_cert_count(p.client);
    CHECK_EQ(count, 2);
    ferrule_cert *leaf = NULL, *inter = NULL;
    CHECK_EQ(ferrule_conn_peer_cert_parse(p.client, 0, &leaf, &reason), FERRULE_OK);
    CHECK_EQ(ferrule_conn_peer_cert_parse(p.client, 1, &inter, NULL), FERRULE_OK);
    CHECK_EQ(ferrule_conn_peer_cert_parse(p.client, 2, &c, &reason), FERRULE_USAGE);
    CHECK_EQ(reason, FERRULE_R_NOT_FOUND);
    CHECK_EQ(ferrule_conn_peer_cert_parse(NULL, 0, &c, &reason), FERRULE_USAGE);
    CHECK_EQ(reason, FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_conn_peer_cert_parse(p.client, 0, NULL, &reason), FERRULE_USAGE);
    /* The handles outlive the connection. */
    pair_free(&p);
    ferrule_config_free(ccfg);
    ferrule_config_free(scfg);
    REQUIRE(leaf != NULL && inter != NULL);
    CHECK(strcmp(name_str(leaf, FERRULE_CERT_SUBJECT), "CN=localhost,O=ferrule test") == 0);
    CHECK(strcmp(name_str(inter, FERRULE_CERT_SUBJECT), "CN=ferrule test intermediate,O=ferrule test") == 0);
    uint32_t type, bits;
    CHECK_EQ(ferrule_cert_public_key(leaf, &type, &bits, NULL, NULL), FERRULE_OK);
    CHECK(type == FERRULE_KEY_RSA && bits == 2048);
    blob want = pki_der("rsa.leaf.pem");
    const uint8_t *d;
    size_t n;
    CHECK_EQ(ferrule_cert_der(leaf, &d, &n), FERRULE_OK);
    CHECK(n == want.n && memcmp(d, want.p, n) == 0);
    ferrule_cert_free(leaf);
    ferrule_cert_free(inter);
}

static void setup(void) { load_spki(); }

TEST(fixture) {
    setup();
    CHECK(g_spki.n > 0);
}

TEST_MAIN("test_cert_api", TL_CASE(fixture), TL_CASE(pki_matches_openssl), TL_CASE(pki_key_facts),
          TL_CASE(multi_valued_rdn_and_attribute_list), TL_CASE(rfc4514_escaping),
          TL_CASE(every_general_name_type), TL_CASE(aia_crldp_eku_and_extensions),
          TL_CASE(no_extensions_and_v1), TL_CASE(malformed_for_every_accessor),
          TL_CASE(misuse_of_every_accessor), TL_CASE(peer_certificates_of_a_connection))
