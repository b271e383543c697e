/* test_x509.c - certificate parser, trust stores, path building, RFC 6125
 * name matching (trust files and directories: test_trust_files.c).  Uses the PKI made by tools/gen-pki.sh: $FERRULE_TEST_PKI,
 * or (when unset) tools/gen-pki.sh /tmp/ferrule-pki run by this test. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "x509/der.h"
#include "x509/x509.h"

/* ---- fixtures ------------------------------------------------------------ */

static char g_pki[512];
static int g_pki_state; /* 0 unknown, 1 ok, -1 failed */

static const char *pki(void) {
    if (g_pki_state == 0) {
        g_pki_state = -1;
        const char *env = getenv("FERRULE_TEST_PKI");
        struct stat st;
        if (env != NULL && env[0] != 0) {
            snprintf(g_pki, sizeof(g_pki), "%s", env);
        } else {
            snprintf(g_pki, sizeof(g_pki), "/tmp/ferrule-pki");
            static const char *const scripts[] = {"tools/gen-pki.sh", "../../tools/gen-pki.sh",
                                                  "../tools/gen-pki.sh"};
            for (size_t i = 0; i < 3; i++) {
                if (stat(scripts[i], &st) != 0) continue;
                char cmd[1024];
                snprintf(cmd, sizeof(cmd), "bash %s %s", scripts[i], g_pki);
                if (system(cmd) != 0) fprintf(stderr, "  gen-pki.sh failed\n");
                break;
            }
        }
        char root[600];
        snprintf(root, sizeof(root), "%s/root.pem", g_pki);
        if (stat(root, &st) == 0) g_pki_state = 1;
        else fprintf(stderr, "  test PKI missing at %s\n", g_pki);
    }
    /* A missing PKI is a failure, never a skip. */
    CHECK(g_pki_state == 1);
    return g_pki_state == 1 ? g_pki : NULL;
}

static uint8_t *read_all(const char *path, size_t *len) {
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

static uint8_t *read_pki(const char *name, size_t *len) {
    const char *dir = pki();
    *len = 0;
    if (dir == NULL) return NULL;
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    uint8_t *p = read_all(path, len);
    if (p == NULL) fprintf(stderr, "  cannot read %s\n", path);
    return p;
}

typedef struct derlist {
    uint8_t *der[16];
    size_t len[16];
    size_t n;
} derlist;

static fr_err collect_cb(void *ctx, const uint8_t *der, size_t len) {
    derlist *l = ctx;
    if (l->n == 16) return FERRULE_R_INTERNAL;
    l->der[l->n] = malloc(len);
    memcpy(l->der[l->n], der, len);
    l->len[l->n++] = len;
    return FR_OK;
}

static void derlist_free(derlist *l) {
    for (size_t i = 0; i < l->n; i++) free(l->der[i]);
    l->n = 0;
}

/* A libc-backed fr_mem for decoding test PEM files. */
static fr_mem *pem_mem(void) {
    static fr_mem m;
    static int ready;
    if (!ready) {
        fr_mem_init(&m, NULL, 0);
        ready = 1;
    }
    return &m;
}

/* DER of the idx-th certificate of a PKI PEM file (malloc'd). */
static uint8_t *pki_der(const char *name, size_t idx, size_t *len) {
    size_t plen;
    uint8_t *pem = read_pki(name, &plen);
    *len = 0;
    if (pem == NULL) return NULL;
    derlist l = {0};
    fr_err e = fr_pem_each_cert(pem_mem(), pem, plen, collect_cb, &l);
    free(pem);
    CHECK_EQ(e, FR_OK);
    uint8_t *out = NULL;
    if (e == FR_OK && idx < l.n) {
        out = l.der[idx];
        *len = l.len[idx];
        l.der[idx] = NULL;
    }
    derlist_free(&l);
    CHECK(out != NULL);
    return out;
}

/* A set of parsed certificates. */
typedef struct certs {
    fr_cert *c[32];
    size_t n;
} certs;

static void add_der(fr_mem *m, certs *cs, const uint8_t *der, size_t len) {
    fr_cert *c = NULL;
    fr_err e = fr_cert_parse(m, der, len, &c);
    CHECK_EQ(e, FR_OK);
    if (e == FR_OK && cs->n < 32) cs->c[cs->n++] = c;
    else fr_cert_free(m, c);
}

/* Append every certificate of a PKI PEM file. */
static void add_pki(fr_mem *m, certs *cs, const char *name) {
    size_t plen;
    uint8_t *pem = read_pki(name, &plen);
    if (pem == NULL) {
        CHECK(0);
        return;
    }
    derlist l = {0};
    CHECK_EQ(fr_pem_each_cert(pem_mem(), pem, plen, collect_cb, &l), FR_OK);
    free(pem);
    for (size_t i = 0; i < l.n; i++) add_der(m, cs, l.der[i], l.len[i]);
    derlist_free(&l);
}

static void certs_free(fr_mem *m, certs *cs) {
    for (size_t i = 0; i < cs->n; i++) fr_cert_free(m, cs->c[i]);
    cs->n = 0;
}

static void anchors_from(fr_mem *m, fr_trust_store *t, const char *name) {
    size_t len;
    uint8_t *pem = read_pki(name, &len);
    CHECK(pem != NULL);
    if (pem != NULL) CHECK_EQ(fr_trust_add_pem(m, t, pem, len), FR_OK);
    free(pem);
}

/* A moment inside every test certificate's validity. */
static int64_t good_now(const fr_cert *leaf) { return leaf->not_before + 2 * 86400; }

static fr_verify_params params_for(const fr_cert *leaf, const char *name) {
    fr_verify_params p;
    memset(&p, 0, sizeof(p));
    p.now = good_now(leaf);
    p.peer_name = name;
    p.purpose = FR_VERIFY_SERVER;
    return p;
}

/* Verify PKI chain file `chain` against anchor file `anchor`. */
static fr_err verify_files(const char *chain, const char *anchor, const char *name,
                           fr_verify_stats *st) {
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    certs cs = {0};
    fr_trust_store t;
    fr_trust_init(&t);
    add_pki(&m, &cs, chain);
    anchors_from(&m, &t, anchor);
    fr_err e = FERRULE_R_INTERNAL;
    if (cs.n > 0) {
        fr_verify_params p = params_for(cs.c[0], name);
        e = fr_verify_chain_ex(&t, cs.c, cs.n, &p, st);
    }
    certs_free(&m, &cs);
    fr_trust_free(&m, &t);
    CHECK_EQ(m.used, 0);
    return e;
}

/* ---- a tiny DER editor for building negative cases ------------------------ */

static size_t tlv_header(const uint8_t *p, size_t *content_len) {
    if (p[1] < 0x80) {
        *content_len = p[1];
        return 2;
    }
    size_t nb = p[1] & 0x7f, v = 0;
    for (size_t i = 0; i < nb; i++) v = v << 8 | p[2 + i];
    *content_len = v;
    return 2 + nb;
}

/* Locate the element reached by following child indexes `path` (each level
 * enters the previous element's content). */
static int find_tlv(const uint8_t *der, const int *path, size_t depth, size_t *off, size_t *len) {
    size_t pos = 0, clen, h = tlv_header(der, &clen);
    size_t end = h + clen;
    for (size_t d = 0; d < depth; d++) {
        pos += h; /* first child */
        for (int i = 0; i < path[d]; i++) {
            if (pos >= end) return 0;
            h = tlv_header(der + pos, &clen);
            pos += h + clen;
        }
        if (pos >= end) return 0;
        h = tlv_header(der + pos, &clen);
        end = pos + h + clen;
    }
    *off = pos;
    *len = h + clen;
    return 1;
}

static size_t put_header(uint8_t *out, uint8_t tag, size_t len) {
    out[0] = tag;
    if (len < 0x80) {
        out[1] = (uint8_t)len;
        return 2;
    }
    size_t nb = len < 0x100 ? 1 : len < 0x10000 ? 2 : 3;
    out[1] = (uint8_t)(0x80 | nb);
    for (size_t i = 0; i < nb; i++) out[2 + i] = (uint8_t)(len >> (8 * (nb - 1 - i)));
    return 2 + nb;
}

/* Replace the element at `path` with new bytes, re-encoding the lengths of
 * every enclosing element.  Returns a malloc'd buffer. */
static uint8_t *replace_tlv(const uint8_t *der, const int *path, size_t depth, const uint8_t *nw,
                            size_t nw_len, size_t *out_len) {
    size_t clen, h = tlv_header(der, &clen);
    if (depth == 0) {
        uint8_t *o = malloc(nw_len);
        memcpy(o, nw, nw_len);
        *out_len = nw_len;
        return o;
    }
    /* Rebuild this element's content with child path[0] replaced. */
    const uint8_t *content = der + h;
    size_t pos = 0;
    for (int i = 0; i < path[0]; i++) {
        size_t cl, ch = tlv_header(content + pos, &cl);
        pos += ch + cl;
    }
    size_t cl, ch = tlv_header(content + pos, &cl);
    size_t child_len = ch + cl, sub_len;
    uint8_t *sub = replace_tlv(content + pos, path + 1, depth - 1, nw, nw_len, &sub_len);
    size_t new_clen = clen - child_len + sub_len;
    uint8_t *o = malloc(new_clen + 8);
    size_t oh = put_header(o, der[0], new_clen);
    memcpy(o + oh, content, pos);
    memcpy(o + oh + pos, sub, sub_len);
    memcpy(o + oh + pos + sub_len, content + pos + child_len, clen - pos - child_len);
    free(sub);
    *out_len = oh + new_clen;
    return o;
}

static fr_err parse_only(const uint8_t *der, size_t len) {
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    fr_cert *c = NULL;
    fr_err e = fr_cert_parse(&m, der, len, &c);
    CHECK(e == FR_OK ? c != NULL : c == NULL);
    fr_cert_free(&m, c);
    CHECK_EQ(m.used, 0);
    return e;
}

static uint8_t *memfind(uint8_t *h, size_t hn, const void *nd, size_t nn) {
    for (size_t i = 0; nn <= hn && i <= hn - nn; i++)
        if (memcmp(h + i, nd, nn) == 0) return h + i;
    return NULL;
}

/* Paths into a v3 certificate. */
static const int P_TBS_VERSION[] = {0, 0};
static const int P_TBS_SERIAL[] = {0, 1};
static const int P_TBS_SIGALG[] = {0, 2};
static const int P_NOT_BEFORE[] = {0, 4, 0};
static const int P_NOT_AFTER[] = {0, 4, 1};
static const int P_EXTS_SEQ[] = {0, 7, 0};
static const int P_EXT0[] = {0, 7, 0, 0};
static const int P_OUTER_ALG[] = {1};
static const int P_SIG[] = {2};
#define DEPTH(a) (sizeof(a) / sizeof(a[0]))

/* ---- the DER layer -------------------------------------------------------- */

static fr_err nest(size_t depth) {
    uint8_t b[64];
    for (size_t i = 0; i < depth; i++) {
        b[2 * i] = 0x30;
        b[2 * i + 1] = (uint8_t)(2 * (depth - 1 - i));
    }
    return fr_der_check_nesting(b, 2 * depth);
}

static fr_err der1(const char *hex) {
    size_t n;
    uint8_t *b = tl_unhex(hex, &n);
    fr_err e = fr_der_check_nesting(b, n);
    free(b);
    return e;
}

TEST(der_layer) {
    CHECK_EQ(nest(FR_DER_MAX_DEPTH), FR_OK);
    CHECK_EQ(nest(FR_DER_MAX_DEPTH + 1), FERRULE_R_CERT_MALFORMED);
    CHECK_EQ(der1("30 03 02 01 05"), FR_OK);
    CHECK_EQ(der1("30 81 03 02 01 05"), FERRULE_R_CERT_MALFORMED);    /* non-minimal */
    CHECK_EQ(der1("30 82 00 03 02 01 05"), FERRULE_R_CERT_MALFORMED); /* leading zero */
    CHECK_EQ(der1("30 80 02 01 05 00 00"), FERRULE_R_CERT_MALFORMED); /* indefinite */
    CHECK_EQ(der1("30 85 00 00 00 00 03 02 01 05"), FERRULE_R_CERT_MALFORMED);
    CHECK_EQ(der1("30 ff"), FERRULE_R_CERT_MALFORMED);
    CHECK_EQ(der1("1f 81 00 00"), FERRULE_R_CERT_MALFORMED); /* high tag number */
    CHECK_EQ(der1("30 04 02 01 05"), FERRULE_R_CERT_MALFORMED); /* short */
    CHECK_EQ(der1("30 03 02 01 05 00"), FERRULE_R_CERT_MALFORMED); /* trailing */
    CHECK_EQ(der1("30 03 02 02 05"), FERRULE_R_CERT_MALFORMED); /* inner overrun */
    CHECK_EQ(der1(""), FERRULE_R_CERT_MALFORMED);
    /* a long form used where needed is fine */
    uint8_t big[3 + 200] = {0x04, 0x81, 200};
    CHECK_EQ(fr_der_check_nesting(big, sizeof(big)), FR_OK);
    /* typed readers */
    static const struct {
        const char *hex;
        fr_err want;
        uint32_t v;
    } ints[] = {{"02 01 00", FR_OK, 0},         {"02 01 7f", FR_OK, 127},
                {"02 02 00 80", FR_OK, 128},    {"02 02 00 7f", FERRULE_R_CERT_MALFORMED, 0},
                {"02 01 80", FERRULE_R_CERT_MALFORMED, 0}, {"02 00", FERRULE_R_CERT_MALFORMED, 0},
                {"02 02 01 00", FERRULE_R_CERT_MALFORMED, 0}, /* above max 255 */
                {"01 01 00", FERRULE_R_CERT_MALFORMED, 0}};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        size_t n;
        uint8_t *b = tl_unhex(ints[i].hex, &n);
        fr_reader r = fr_reader_init(b, n);
        uint32_t v = 99;
        fr_err e = fr_der_read_uint(&r, 255, &v);
        CHECK_EQ(e, ints[i].want);
        if (e == FR_OK) CHECK_EQ(v, ints[i].v);
        else CHECK(r.p == b); /* unchanged on failure */
        free(b);
    }
    static const struct {
        const char *hex;
        fr_err want;
    } oids[] = {{"06 03 55 1d 13", FR_OK},
                {"06 00", FERRULE_R_CERT_MALFORMED},
                {"06 02 55 81", FERRULE_R_CERT_MALFORMED},    /* unterminated */
                {"06 03 55 80 01", FERRULE_R_CERT_MALFORMED}}; /* non-minimal arc */
    for (size_t i = 0; i < sizeof(oids) / sizeof(oids[0]); i++) {
        size_t n;
        uint8_t *b = tl_unhex(oids[i].hex, &n);
        fr_reader r = fr_reader_init(b, n);
        fr_der_tlv t;
        CHECK_EQ(fr_der_read_oid(&r, &t), oids[i].want);
        free(b);
    }
    static const struct {
        const char *hex;
        fr_err want;
    } bits[] = {{"03 01 00", FR_OK},
                {"03 02 07 80", FR_OK},
                {"03 02 07 81", FERRULE_R_CERT_MALFORMED}, /* unused bit set */
                {"03 01 01", FERRULE_R_CERT_MALFORMED},
                {"03 02 08 00", FERRULE_R_CERT_MALFORMED},
                {"03 00", FERRULE_R_CERT_MALFORMED}};
    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        size_t n, bl;
        unsigned unused;
        const uint8_t *bp;
        uint8_t *b = tl_unhex(bits[i].hex, &n);
        fr_reader r = fr_reader_init(b, n);
        CHECK_EQ(fr_der_read_bits(&r, &bp, &bl, &unused), bits[i].want);
        free(b);
    }
    static const struct {
        const char *hex;
        fr_err want;
    } bools[] = {{"01 01 ff", FR_OK},
                 {"01 01 00", FR_OK},
                 {"01 01 01", FERRULE_R_CERT_MALFORMED},
                 {"01 02 ff ff", FERRULE_R_CERT_MALFORMED}};
    for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
        size_t n;
        int v;
        uint8_t *b = tl_unhex(bools[i].hex, &n);
        fr_reader r = fr_reader_init(b, n);
        CHECK_EQ(fr_der_read_bool(&r, &v), bools[i].want);
        free(b);
    }
}

/* ---- parsing ------------------------------------------------------------ */

TEST(parse_fields) {
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    certs cs = {0};
    add_pki(&m, &cs, "ecdsa-p256.chain.pem");
    add_pki(&m, &cs, "root.pem");
    add_pki(&m, &cs, "x-rsa-pss.ca.pem");
    add_pki(&m, &cs, "x-ed25519.ca.pem");
    add_pki(&m, &cs, "x-rsa.ca.pem");
    add_pki(&m, &cs, "x-ecdsa-p384.ca.pem");
    CHECK_EQ(cs.n, 7);
    if (cs.n == 7) {
        fr_cert *leaf = cs.c[0], *inter = cs.c[1], *root = cs.c[2];
        CHECK_EQ(leaf->version, 2);
        CHECK_EQ(leaf->sig_kind, FR_SIGKIND_ECDSA);
        CHECK_EQ(leaf->sig_hash, FR_HASH_SHA256);
        CHECK(leaf->has_key_usage && leaf->key_usage == FR_KU_DIGITAL_SIGNATURE);
        CHECK(!leaf->is_ca);
        CHECK(leaf->san != NULL && leaf->san_len > 0);
        CHECK(leaf->has_eku && leaf->eku == (FR_EKU_SERVER | FR_EKU_CLIENT));
        CHECK_EQ(leaf->not_after - leaf->not_before, 825 * 86400);
        EVP_PKEY *lkey;
        CHECK(fr_cert_key(leaf, &lkey) == FR_OK && lkey != NULL);
        CHECK(!leaf->self_issued && !leaf->unknown_critical);
        CHECK(inter->is_ca && inter->path_len == 0);
        CHECK(inter->key_usage & FR_KU_KEY_CERT_SIGN);
        CHECK(root->is_ca && root->path_len == -1 && root->self_issued);
        CHECK(fr_name_equal(leaf->issuer, leaf->issuer_len, inter->subject, inter->subject_len));
        CHECK(!fr_name_equal(leaf->issuer, leaf->issuer_len, root->subject, root->subject_len));
        CHECK_EQ(cs.c[3]->sig_kind, FR_SIGKIND_RSA_PSS);
        CHECK_EQ(cs.c[3]->sig_hash, FR_HASH_SHA384);
        CHECK_EQ(cs.c[4]->sig_kind, FR_SIGKIND_ED25519);
        CHECK_EQ(cs.c[4]->sig_hash, 0);
        CHECK_EQ(cs.c[5]->sig_kind, FR_SIGKIND_RSA_PKCS1);
        CHECK_EQ(cs.c[5]->sig_hash, FR_HASH_SHA512);
        CHECK_EQ(cs.c[6]->sig_kind, FR_SIGKIND_ECDSA);
        CHECK_EQ(cs.c[6]->sig_hash, FR_HASH_SHA384);
        char s[128];
        fr_cert_subject_string(leaf, s, sizeof(s));
        CHECK(strcmp(s, "CN=localhost,O=ferrule test") == 0);
        fr_cert_subject_string(root, s, sizeof(s));
        CHECK(strcmp(s, "CN=ferrule test root,O=ferrule test") == 0);
        fr_cert_subject_string(root, s, 5); /* truncated, terminated */
        CHECK(strcmp(s, "CN=f") == 0);
        s[0] = 'x';
        fr_cert_subject_string(root, s, 0);
        CHECK(s[0] == 'x');
    }
    certs_free(&m, &cs);
    CHECK_EQ(m.used, 0);
}

TEST(subject_string_escapes) {
    size_t len;
    uint8_t *der = pki_der("ecdsa-p256.leaf.pem", 0, &len);
    if (der == NULL) return;
    /* The subject's CN "localhost" comes before the SAN's copy. */
    uint8_t *cn = memfind(der, len, "localhost", 9);
    CHECK(cn != NULL);
    if (cn != NULL) memcpy(cn, "a,b\x01" "cdefg", 9);
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    fr_cert *c = NULL;
    CHECK_EQ(fr_cert_parse(&m, der, len, &c), FR_OK);
    if (c != NULL) {
        char s[128];
        fr_cert_subject_string(c, s, sizeof(s));
        CHECK(strcmp(s, "CN=a\\,b\\x01cdefg,O=ferrule test") == 0);
    }
    fr_cert_free(&m, c);
    free(der);
}

TEST(parse_every_prefix_fails) {
    static const char *const files[] = {"rsa.leaf.pem", "ed25519.leaf.pem", "x-rsa-pss.ca.pem"};
    for (size_t f = 0; f < 3; f++) {
        size_t len;
        uint8_t *der = pki_der(files[f], 0, &len);
        if (der == NULL) continue;
        CHECK_EQ(parse_only(der, len), FR_OK);
        size_t bad = 0;
        for (size_t n = 0; n < len; n++) {
            /* An exact-size heap copy so ASan sees any overread. */
            uint8_t *cp = malloc(n ? n : 1);
            memcpy(cp, der, n);
            if (parse_only(cp, n) != FERRULE_R_CERT_MALFORMED) bad++;
            free(cp);
        }
        CHECK_EQ(bad, 0);
        free(der);
    }
}

TEST(parse_der_negatives) {
    size_t len, nl;
    uint8_t *der = pki_der("ecdsa-p256.leaf.pem", 0, &len);
    if (der == NULL) return;
    uint8_t *b = malloc(len + 16);

    /* trailing byte */
    memcpy(b, der, len);
    b[len] = 0;
    CHECK_EQ(parse_only(b, len + 1), FERRULE_R_CERT_MALFORMED);
    /* wrong outer tag (SET instead of SEQUENCE) */
    memcpy(b, der, len);
    b[0] = 0x31;
    CHECK_EQ(parse_only(b, len), FERRULE_R_CERT_MALFORMED);
    /* indefinite length (BER only) with end-of-contents octets */
    CHECK(der[1] == 0x82);
    b[0] = 0x30;
    b[1] = 0x80;
    memcpy(b + 2, der + 4, len - 4);
    b[len - 2] = 0;
    b[len - 1] = 0;
    CHECK_EQ(parse_only(b, len), FERRULE_R_CERT_MALFORMED);
    /* non-minimal long form: 0x83 00 xx xx */
    b[0] = 0x30;
    b[1] = 0x83;
    b[2] = 0;
    memcpy(b + 3, der + 2, len - 2);
    CHECK_EQ(parse_only(b, len + 1), FERRULE_R_CERT_MALFORMED);
    /* length longer than the data */
    memcpy(b, der, len);
    b[3]++;
    CHECK_EQ(parse_only(b, len), FERRULE_R_CERT_MALFORMED);

    /* non-minimal length inside: version [0] as a0 81 03 ... */
    static const uint8_t ver_long[] = {0xa0, 0x81, 0x03, 0x02, 0x01, 0x02};
    uint8_t *x = replace_tlv(der, P_TBS_VERSION, 2, ver_long, sizeof(ver_long), &nl);
    CHECK_EQ(parse_only(x, nl), FERRULE_R_CERT_MALFORMED);
    free(x);
    /* the same element re-encoded minimally parses (the editor works) */
    static const uint8_t ver_ok[] = {0xa0, 0x03, 0x02, 0x01, 0x02};
    x = replace_tlv(der, P_TBS_VERSION, 2, ver_ok, sizeof(ver_ok), &nl);
    CHECK_EQ(parse_only(x, nl), FR_OK);
    free(x);
    /* v1 with extensions */
    static const uint8_t ver_v1[] = {0xa0, 0x03, 0x02, 0x01, 0x00};
    x = replace_tlv(der, P_TBS_VERSION, 2, ver_v1, sizeof(ver_v1), &nl);
    CHECK_EQ(parse_only(x, nl), FERRULE_R_CERT_MALFORMED);
    free(x);
    /* version 4 */
    static const uint8_t ver_v4[] = {0xa0, 0x03, 0x02, 0x01, 0x03};
    x = replace_tlv(der, P_TBS_VERSION, 2, ver_v4, sizeof(ver_v4), &nl);
    CHECK_EQ(parse_only(x, nl), FERRULE_R_CERT_MALFORMED);
    free(x);
    /* serial: 21 octets without a leading zero; non-minimal; 20 octets ok */
    uint8_t serial[23] = {0x02, 21, 0x01};
    x = replace_tlv(der, P_TBS_SERIAL, 2, serial, 23, &nl);
    CHECK_EQ(parse_only(x, nl), FERRULE_R_CERT_MALFORMED);
    free(x);
    serial[2] = 0x00;
    serial[3] = 0x80;
    x = replace_tlv(der, P_TBS_SERIAL, 2, serial, 23, &nl);
    CHECK_EQ(parse_only(x, nl), FR_OK);
    free(x);
    static const uint8_t serial_nm[] = {0x02, 0x02, 0x00, 0x01};
    x = replace_tlv(der, P_TBS_SERIAL, 2, serial_nm, sizeof(serial_nm), &nl);
    CHECK_EQ(parse_only(x, nl), FERRULE_R_CERT_MALFORMED);
    free(x);

    /* outer signatureAlgorithm differs from the TBS one */
    size_t off, tl;
    REQUIRE(find_tlv(der, P_OUTER_ALG, 1, &off, &tl));
    memcpy(b, der, len);
    CHECK_EQ(b[off + tl - 1], 0x02); /* ecdsa-with-SHA256 */
    b[off + tl - 1] = 0x03;           /* ecdsa-with-SHA384 */
    CHECK_EQ(parse_only(b, len), FERRULE_R_CERT_MALFORMED);

    /* signature BIT STRING with unused bits */
    REQUIRE(find_tlv(der, P_SIG, 1, &off, &tl));
    memcpy(b, der, len);
    size_t cl, hh = tlv_header(der + off, &cl);
    b[off + hh] = 0x01;
    b[len - 1] &= 0xfe;
    CHECK_EQ(parse_only(b, len), FERRULE_R_CERT_MALFORMED);

    /* ECDSA algorithm identifier with parameters present (RFC 5758) */
    static const uint8_t ecdsa_null[] = {0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
                                         0x3d, 0x04, 0x03, 0x02, 0x05, 0x00};
    x = replace_tlv(der, P_TBS_SIGALG, 2, ecdsa_null, sizeof(ecdsa_null), &nl);
    uint8_t *y = replace_tlv(x, P_OUTER_ALG, 1, ecdsa_null, sizeof(ecdsa_null), &nl);
    CHECK_EQ(parse_only(y, nl), FERRULE_R_CERT_MALFORMED);
    free(x);
    free(y);

    /* duplicate extension: append a copy of the first extension */
    size_t eoff, elen, soff, slen;
    REQUIRE(find_tlv(der, P_EXT0, 4, &eoff, &elen));
    REQUIRE(find_tlv(der, P_EXTS_SEQ, 3, &soff, &slen));
    size_t sh = tlv_header(der + soff, &cl);
    uint8_t *seq = malloc(slen + elen + 8);
    size_t n = put_header(seq, 0x30, cl + elen);
    memcpy(seq + n, der + soff + sh, cl);
    memcpy(seq + n + cl, der + eoff, elen);
    x = replace_tlv(der, P_EXTS_SEQ, 3, seq, n + cl + elen, &nl);
    CHECK_EQ(parse_only(x, nl), FERRULE_R_CERT_MALFORMED);
    free(x);
    /* ... while the list with an extra distinct (non-critical, unknown)
     * extension parses */
    static const uint8_t ext_unknown[] = {0x30, 0x09, 0x06, 0x03, 0x2a, 0x03, 0x04,
                                          0x04, 0x02, 0x05, 0x00};
    n = put_header(seq, 0x30, cl + sizeof(ext_unknown));
    memcpy(seq + n, der + soff + sh, cl);
    memcpy(seq + n + cl, ext_unknown, sizeof(ext_unknown));
    x = replace_tlv(der, P_EXTS_SEQ, 3, seq, n + cl + sizeof(ext_unknown), &nl);
    CHECK_EQ(parse_only(x, nl), FR_OK);
    free(x);
    /* empty extension list (SIZE 1..MAX) */
    static const uint8_t empty_seq[] = {0x30, 0x00};
    x = replace_tlv(der, P_EXTS_SEQ, 3, empty_seq, 2, &nl);
    CHECK_EQ(parse_only(x, nl), FERRULE_R_CERT_MALFORMED);
    free(x);
    /* critical flag encoded as 0x01 (DER TRUE is 0xFF) */
    static const uint8_t ext_badbool[] = {0x30, 0x0c, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x01,
                                          0x01, 0x01, 0x04, 0x02, 0x05, 0x00};
    x = replace_tlv(der, P_EXT0, 4, ext_badbool, sizeof(ext_badbool), &nl);
    CHECK_EQ(parse_only(x, nl), FERRULE_R_CERT_MALFORMED);
    free(x);
    free(seq);
    free(b);
    free(der);
}

/* not_before / not_after edits */
static fr_err with_time(const uint8_t *der, const int *path, const char *tm, uint8_t tag,
                        int64_t *nb) {
    uint8_t t[32];
    size_t tl = strlen(tm), nl;
    t[0] = tag;
    t[1] = (uint8_t)tl;
    memcpy(t + 2, tm, tl);
    uint8_t *x = replace_tlv(der, path, 3, t, tl + 2, &nl);
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    fr_cert *c = NULL;
    fr_err e = fr_cert_parse(&m, x, nl, &c);
    if (c != NULL && nb != NULL) *nb = c->not_before;
    fr_cert_free(&m, c);
    free(x);
    return e;
}

TEST(parse_times) {
    size_t len;
    uint8_t *der = pki_der("ecdsa-p256.leaf.pem", 0, &len);
    if (der == NULL) return;
    int64_t t = 0;
    /* RFC 5280 §4.1.2.5.1: YY >= 50 -> 19YY, else 20YY */
    CHECK_EQ(with_time(der, P_NOT_BEFORE, "491231235959Z", 0x17, &t), FR_OK);
    CHECK_EQ(t, 2524607999LL);
    CHECK_EQ(with_time(der, P_NOT_BEFORE, "500101000000Z", 0x17, &t), FR_OK);
    CHECK_EQ(t, -631152000LL);
    CHECK_EQ(with_time(der, P_NOT_BEFORE, "700101000000Z", 0x17, &t), FR_OK);
    CHECK_EQ(t, 0);
    CHECK_EQ(with_time(der, P_NOT_BEFORE, "20000229120000Z", 0x18, &t), FR_OK);
    CHECK_EQ(t, 951825600LL);
    CHECK_EQ(with_time(der, P_NOT_BEFORE, "99991231235959Z", 0x18, &t), FR_OK);
    CHECK_EQ(t, 253402300799LL);
    static const char *const bad_utc[] = {
        "2401a1000000Z", "241301000000Z", "240001000000Z", "240132000000Z", "230229000000Z",
        "240101240000Z", "240101006000Z", "240101000060Z", "240101000000z", "240101000000",
        "2401010000Z",   "240101000000+0000", "24010100000Z0", " 40101000000Z", "-40101000000Z"};
    for (size_t i = 0; i < sizeof(bad_utc) / sizeof(bad_utc[0]); i++) {
        fr_err e = with_time(der, P_NOT_BEFORE, bad_utc[i], 0x17, NULL);
        if (e != FERRULE_R_CERT_MALFORMED) fprintf(stderr, "  accepted UTCTime %s\n", bad_utc[i]);
        CHECK_EQ(e, FERRULE_R_CERT_MALFORMED);
    }
    CHECK_EQ(with_time(der, P_NOT_BEFORE, "240229000000Z", 0x17, NULL), FR_OK); /* leap */
    static const char *const bad_gen[] = {"20240101000000.5Z", "2024010100000Z", "21000229000000Z",
                                          "2024010100000aZ", "202401010000Z"};
    for (size_t i = 0; i < sizeof(bad_gen) / sizeof(bad_gen[0]); i++)
        CHECK_EQ(with_time(der, P_NOT_AFTER, bad_gen[i], 0x18, NULL), FERRULE_R_CERT_MALFORMED);
    /* neither UTCTime nor GeneralizedTime */
    CHECK_EQ(with_time(der, P_NOT_AFTER, "240101000000Z", 0x13, NULL), FERRULE_R_CERT_MALFORMED);
    free(der);
}

TEST(parse_unsupported_algorithms) {
    size_t len, nl, nl2;
    uint8_t *der = pki_der("ecdsa-p256.leaf.pem", 0, &len);
    if (der == NULL) return;
    /* sha1WithRSAEncryption: parses (anchors may be SHA-1 self-signed) but
     * marks the signature as unusable. */
    static const uint8_t sha1rsa[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                      0x0d, 0x01, 0x01, 0x05, 0x05, 0x00};
    uint8_t *x = replace_tlv(der, P_TBS_SIGALG, 2, sha1rsa, sizeof(sha1rsa), &nl);
    uint8_t *y = replace_tlv(x, P_OUTER_ALG, 1, sha1rsa, sizeof(sha1rsa), &nl2);
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    fr_cert *c = NULL;
    CHECK_EQ(fr_cert_parse(&m, y, nl2, &c), FR_OK);
    if (c != NULL) CHECK_EQ(c->sig_kind, 0);
    /* ...and such a leaf fails verification with UNSUPPORTED */
    fr_trust_store t;
    fr_trust_init(&t);
    certs cs = {0};
    add_pki(&m, &cs, "inter.pem");
    anchors_from(&m, &t, "root.pem");
    if (c != NULL && cs.n == 1) {
        fr_cert *chain[2] = {c, cs.c[0]};
        fr_verify_params p = params_for(c, "localhost");
        CHECK_EQ(fr_verify_chain(&t, chain, 2, &p), FERRULE_R_CERT_UNSUPPORTED);
    }
    fr_cert_free(&m, c);
    certs_free(&m, &cs);
    fr_trust_free(&m, &t);
    free(x);
    free(y);
    free(der);

    /* RSA-PSS with a salt length other than the hash length */
    der = pki_der("x-rsa-pss.ca.pem", 0, &len);
    if (der != NULL) {
        static const uint8_t salt48[] = {0xa2, 0x03, 0x02, 0x01, 0x30};
        size_t hits = 0;
        uint8_t *p;
        while ((p = memfind(der, len, salt48, sizeof(salt48))) != NULL) {
            p[4] = 0x20;
            hits++;
        }
        CHECK_EQ(hits, 2);
        c = NULL;
        CHECK_EQ(fr_cert_parse(&m, der, len, &c), FR_OK);
        if (c != NULL) CHECK_EQ(c->sig_kind, 0);
        fr_cert_free(&m, c);
        free(der);
    }
    CHECK_EQ(m.used, 0);
}

TEST(parse_memory_limit) {
    size_t len;
    uint8_t *der = pki_der("rsa.leaf.pem", 0, &len);
    if (der == NULL) return;
    fr_mem m;
    fr_mem_init(&m, NULL, 64);
    fr_cert *c = NULL;
    CHECK_EQ(fr_cert_parse(&m, der, len, &c), FERRULE_R_MEMORY_LIMIT);
    CHECK(c == NULL);
    fr_mem_init(&m, NULL, 400); /* the struct fits, the DER copy does not */
    CHECK_EQ(fr_cert_parse(&m, der, len, &c), FERRULE_R_MEMORY_LIMIT);
    CHECK_EQ(m.used, 0);
    free(der);
}

/* ---- path verification -------------------------------------------------- */

TEST(verify_good_chains) {
    static const char *const kinds[] = {"ecdsa-p256", "ecdsa-p384", "rsa", "rsa-pss", "ed25519"};
    static const char *const names[] = {"localhost", "127.0.0.1", "::1", "LocalHost.", NULL};
    for (size_t k = 0; k < 5; k++) {
        char chain[64];
        snprintf(chain, sizeof(chain), "%s.chain.pem", kinds[k]);
        for (size_t i = 0; i < 5; i++) {
            fr_verify_stats st = {0};
            fr_err e = verify_files(chain, "root.pem", names[i], &st);
            if (e != FR_OK) fprintf(stderr, "  %s / %s: %u\n", chain, names[i], e);
            CHECK_EQ(e, FR_OK);
            CHECK_EQ(st.sig_checks, 2);
        }
        /* every signature algorithm on a certificate: CA of this kind */
        char ca[64], leaf[64];
        snprintf(ca, sizeof(ca), "x-%s.ca.pem", kinds[k]);
        snprintf(leaf, sizeof(leaf), "x-%s.ca-leaf.pem", kinds[k]);
        CHECK_EQ(verify_files(leaf, ca, "localhost", NULL), FR_OK);
        /* ... and it is not trusted under the test root */
        CHECK_EQ(verify_files(leaf, "root.pem", "localhost", NULL), FERRULE_R_CERT_UNKNOWN_ISSUER);
    }
    CHECK_EQ(verify_files("leaf-direct.chain.pem", "root.pem", "localhost", NULL), FR_OK);
}

TEST(verify_order_and_extras) {
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    certs cs = {0};
    fr_trust_store t;
    fr_trust_init(&t);
    anchors_from(&m, &t, "root.pem");
    add_pki(&m, &cs, "x-mid2-leaf.pem"); /* 0 */
    add_pki(&m, &cs, "other-root.pem");  /* 1: unrelated */
    add_pki(&m, &cs, "x-mid1.pem");      /* 2: nearest the root, listed first */
    add_pki(&m, &cs, "x-mid2.pem");      /* 3 */
    add_pki(&m, &cs, "x-mid2.pem");      /* 4: duplicate */
    add_pki(&m, &cs, "root.pem");        /* 5: the anchor sent again */
    CHECK_EQ(cs.n, 6);
    if (cs.n == 6) {
        fr_verify_params p = params_for(cs.c[0], "localhost");
        fr_verify_stats st;
        CHECK_EQ(fr_verify_chain_ex(&t, cs.c, 6, &p, &st), FR_OK);
        CHECK_EQ(st.sig_checks, 3);
        /* leaf, mid2, mid1 = 3 certificates below the anchor */
        p.max_depth = 3;
        CHECK_EQ(fr_verify_chain(&t, cs.c, 6, &p), FR_OK);
        p.max_depth = 2;
        CHECK_EQ(fr_verify_chain(&t, cs.c, 6, &p), FERRULE_R_CERT_PATH_LENGTH);
        p.max_depth = 0;
        /* missing middle intermediate */
        fr_cert *gap[2] = {cs.c[0], cs.c[2]};
        CHECK_EQ(fr_verify_chain(&t, gap, 2, &p), FERRULE_R_CERT_UNKNOWN_ISSUER);
        /* not even one intermediate */
        CHECK_EQ(fr_verify_chain(&t, cs.c, 1, &p), FERRULE_R_CERT_UNKNOWN_ISSUER);
        /* no anchors at all */
        fr_trust_store none;
        fr_trust_init(&none);
        CHECK_EQ(fr_verify_chain(&none, cs.c, 6, &p), FERRULE_R_CERT_UNKNOWN_ISSUER);
        CHECK_EQ(fr_verify_chain(&t, cs.c, 0, &p), FERRULE_R_CERT_MISSING);
    }
    certs_free(&m, &cs);
    fr_trust_free(&m, &t);
    CHECK_EQ(m.used, 0);
}

TEST(verify_depth_limit) {
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    certs cs = {0};
    fr_trust_store t;
    fr_trust_init(&t);
    anchors_from(&m, &t, "root.pem");
    add_pki(&m, &cs, "rsa.chain.pem");
    if (cs.n == 2) {
        fr_verify_params p = params_for(cs.c[0], "localhost");
        p.max_depth = 1; /* the 3-certificate path leaf-inter-root is too long */
        CHECK_EQ(fr_verify_chain(&t, cs.c, 2, &p), FERRULE_R_CERT_PATH_LENGTH);
        p.max_depth = 2;
        CHECK_EQ(fr_verify_chain(&t, cs.c, 2, &p), FR_OK);
        p.max_depth = 1000; /* capped, not an error */
        CHECK_EQ(fr_verify_chain(&t, cs.c, 2, &p), FR_OK);
    }
    certs_free(&m, &cs);
    fr_trust_free(&m, &t);
    CHECK_EQ(m.used, 0);
}

TEST(verify_names_and_trust) {
    CHECK_EQ(verify_files("wrongname.chain.pem", "root.pem", "localhost", NULL),
             FERRULE_R_CERT_NAME_MISMATCH);
    CHECK_EQ(verify_files("wrongname.chain.pem", "root.pem", "wrong.example", NULL), FR_OK);
    CHECK_EQ(verify_files("rsa.chain.pem", "root.pem", "127.0.0.2", NULL),
             FERRULE_R_CERT_NAME_MISMATCH);
    CHECK_EQ(verify_files("rsa.chain.pem", "root.pem", "localhost.localdomain", NULL),
             FERRULE_R_CERT_NAME_MISMATCH);
    CHECK_EQ(verify_files("untrusted.chain.pem", "root.pem", "localhost", NULL),
             FERRULE_R_CERT_UNKNOWN_ISSUER);
    CHECK_EQ(verify_files("untrusted.chain.pem", "other-root.pem", "localhost", NULL), FR_OK);
    CHECK_EQ(verify_files("ecdsa-p256.chain.pem", "other-root.pem", "localhost", NULL),
             FERRULE_R_CERT_UNKNOWN_ISSUER);
    /* no SAN: no fallback to the CN "localhost" */
    CHECK_EQ(verify_files("x-nosan.pem", "root.pem", NULL, NULL), FERRULE_R_CERT_UNKNOWN_ISSUER);
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    certs cs = {0};
    add_pki(&m, &cs, "x-nosan.pem");
    add_pki(&m, &cs, "inter.pem");
    fr_trust_store t;
    fr_trust_init(&t);
    anchors_from(&m, &t, "root.pem");
    if (cs.n == 2) {
        fr_verify_params p = params_for(cs.c[0], NULL);
        CHECK_EQ(fr_verify_chain(&t, cs.c, 2, &p), FR_OK);
        p.peer_name = "localhost";
        CHECK_EQ(fr_verify_chain(&t, cs.c, 2, &p), FERRULE_R_CERT_NAME_MISMATCH);
        CHECK(!fr_cert_matches_name(cs.c[0], "localhost"));
    }
    certs_free(&m, &cs);
    fr_trust_free(&m, &t);
    CHECK_EQ(m.used, 0);
}

TEST(verify_validity) {
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    certs cs = {0};
    fr_trust_store t;
    fr_trust_init(&t);
    anchors_from(&m, &t, "root.pem");
    add_pki(&m, &cs, "ecdsa-p384.chain.pem");
    if (cs.n == 2) {
        fr_cert *leaf = cs.c[0];
        fr_verify_params p = params_for(leaf, "localhost");
        p.now = leaf->not_after;
        CHECK_EQ(fr_verify_chain(&t, cs.c, 2, &p), FR_OK); /* inclusive */
        p.now = leaf->not_after + 1;
        CHECK_EQ(fr_verify_chain(&t, cs.c, 2, &p), FERRULE_R_CERT_EXPIRED);
        p.now = leaf->not_before;
        CHECK_EQ(fr_verify_chain(&t, cs.c, 2, &p), FR_OK);
        p.now = leaf->not_before - 1;
        CHECK_EQ(fr_verify_chain(&t, cs.c, 2, &p), FERRULE_R_CERT_NOT_YET_VALID);
        p.now = cs.c[1]->not_after + 1; /* everything expired */
        CHECK_EQ(fr_verify_chain(&t, cs.c, 2, &p), FERRULE_R_CERT_EXPIRED);
    }
    /* the anchor's own validity counts: an anchor whose notAfter lies in
     * the past (its self-signature is never checked, so edit it freely) */
    size_t len, nl;
    uint8_t *root = pki_der("root.pem", 0, &len);
    if (root != NULL && cs.n == 2) {
        static const uint8_t old_time[] = {0x17, 0x0d, '0', '1', '0', '1', '0', '1',
                                           '0',  '0',  '0', '0', '0', '0', 'Z'};
        uint8_t *x = replace_tlv(root, P_NOT_AFTER, 3, old_time, sizeof(old_time), &nl);
        fr_trust_store t2;
        fr_trust_init(&t2);
        CHECK_EQ(fr_trust_add_der(&m, &t2, x, nl), FR_OK);
        fr_verify_params p = params_for(cs.c[0], "localhost");
        CHECK_EQ(fr_verify_chain(&t2, cs.c, 2, &p), FERRULE_R_CERT_EXPIRED);
        fr_trust_free(&m, &t2);
        free(x);
    }
    free(root);
    certs_free(&m, &cs);
    fr_trust_free(&m, &t);
    CHECK_EQ(m.used, 0);
}

/* Verify a chain given as DER buffers (leaf first) against root.pem. */
static fr_err verify_ders(uint8_t *const *ders, const size_t *lens, size_t n, const char *name) {
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    certs cs = {0};
    fr_trust_store t;
    fr_trust_init(&t);
    anchors_from(&m, &t, "root.pem");
    for (size_t i = 0; i < n; i++) add_der(&m, &cs, ders[i], lens[i]);
    fr_err e = FERRULE_R_INTERNAL;
    if (cs.n == n) {
        fr_verify_params p = params_for(cs.c[0], name);
        e = fr_verify_chain(&t, cs.c, n, &p);
    }
    certs_free(&m, &cs);
    fr_trust_free(&m, &t);
    CHECK_EQ(m.used, 0);
    return e;
}

TEST(verify_tampered) {
    static const char *const kinds[] = {"ecdsa-p256.chain.pem", "rsa.chain.pem",
                                        "ed25519.chain.pem"};
    for (size_t k = 0; k < 3; k++) {
        uint8_t *d[2];
        size_t l[2];
        d[0] = pki_der(kinds[k], 0, &l[0]);
        d[1] = pki_der(kinds[k], 1, &l[1]);
        if (d[0] == NULL || d[1] == NULL) {
            free(d[0]);
            free(d[1]);
            continue;
        }
        CHECK_EQ(verify_ders(d, l, 2, "localhost"), FR_OK);
        /* flip a byte of the leaf's signature value */
        d[0][l[0] - 5] ^= 0x01;
        CHECK_EQ(verify_ders(d, l, 2, "localhost"), FERRULE_R_CERT_BAD_SIGNATURE);
        d[0][l[0] - 5] ^= 0x01;
        /* change the TBS: the subject CN (first "localhost") */
        uint8_t *cn = memfind(d[0], l[0], "localhost", 9);
        CHECK(cn != NULL);
        if (cn != NULL) cn[0] = 'L';
        CHECK_EQ(verify_ders(d, l, 2, "localhost"), FERRULE_R_CERT_BAD_SIGNATURE);
        if (cn != NULL) cn[0] = 'l';
        /* tamper with the intermediate's signature */
        d[1][l[1] - 3] ^= 0x40;
        CHECK_EQ(verify_ders(d, l, 2, "localhost"), FERRULE_R_CERT_BAD_SIGNATURE);
        free(d[0]);
        free(d[1]);
    }
}

TEST(verify_rule_violations) {
    /* intermediate missing, and the leaf has a defect of its own (an
     * unknown critical extension): the leaf's defect is the reason */
    CHECK_EQ(verify_files("x-critical.pem", "root.pem", "localhost", NULL),
             FERRULE_R_CERT_UNSUPPORTED);
    CHECK_EQ(verify_files("ecdsa-p256.leaf.pem", "root.pem", "localhost", NULL),
             FERRULE_R_CERT_UNKNOWN_ISSUER); /* only the intermediate missing */
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    fr_trust_store t;
    fr_trust_init(&t);
    anchors_from(&m, &t, "root.pem");
    static const struct {
        const char *leaf, *inter;
        int purpose;
        fr_err want;
    } cases[] = {
        {"x-critical.pem", "inter.pem", FR_VERIFY_SERVER, FERRULE_R_CERT_UNSUPPORTED},
        {"x-eku-client.pem", "inter.pem", FR_VERIFY_SERVER, FERRULE_R_CERT_EKU},
        {"x-eku-client.pem", "inter.pem", FR_VERIFY_CLIENT, FR_OK},
        {"ecdsa-p256.leaf.pem", "inter.pem", FR_VERIFY_CLIENT, FR_OK},
        {"x-ku-keyenc.pem", "inter.pem", FR_VERIFY_SERVER, FERRULE_R_CERT_KEY_USAGE},
        {"x-notca-leaf.pem", "x-notca-inter.pem", FR_VERIFY_SERVER, FERRULE_R_CERT_NOT_CA},
        {"x-kuca-leaf.pem", "x-kuca-inter.pem", FR_VERIFY_SERVER, FERRULE_R_CERT_KEY_USAGE},
        {"x-weak-leaf.pem", "x-weak-inter.pem", FR_VERIFY_SERVER, FERRULE_R_CERT_WEAK_KEY},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        certs cs = {0};
        add_pki(&m, &cs, cases[i].leaf);
        add_pki(&m, &cs, cases[i].inter);
        if (cs.n == 2) {
            fr_verify_params p = params_for(cs.c[0], "localhost");
            p.purpose = cases[i].purpose;
            fr_err e = fr_verify_chain(&t, cs.c, 2, &p);
            if (e != cases[i].want) fprintf(stderr, "  case %zu: got %u\n", i, e);
            CHECK_EQ(e, cases[i].want);
        }
        certs_free(&m, &cs);
    }
    /* pathLenConstraint 0 on inter: inter -> x-sub-inter -> leaf */
    certs cs = {0};
    add_pki(&m, &cs, "x-sub-leaf.pem");
    add_pki(&m, &cs, "x-sub-inter.pem");
    add_pki(&m, &cs, "inter.pem");
    if (cs.n == 3) {
        fr_verify_params p = params_for(cs.c[0], "localhost");
        CHECK_EQ(fr_verify_chain(&t, cs.c, 3, &p), FERRULE_R_CERT_PATH_LENGTH);
    }
    certs_free(&m, &cs);
    /* a pinned leaf: trusted directly when it is itself an anchor */
    fr_trust_store pin;
    fr_trust_init(&pin);
    anchors_from(&m, &pin, "ed25519.leaf.pem");
    add_pki(&m, &cs, "ed25519.leaf.pem");
    if (cs.n == 1) {
        fr_verify_params p = params_for(cs.c[0], "localhost");
        CHECK_EQ(fr_verify_chain(&pin, cs.c, 1, &p), FR_OK);
        p.peer_name = "example.com";
        CHECK_EQ(fr_verify_chain(&pin, cs.c, 1, &p), FERRULE_R_CERT_NAME_MISMATCH);
        p.peer_name = NULL;
        p.now = cs.c[0]->not_after + 1;
        CHECK_EQ(fr_verify_chain(&pin, cs.c, 1, &p), FERRULE_R_CERT_EXPIRED);
    }
    certs_free(&m, &cs);
    fr_trust_free(&m, &pin);
    fr_trust_free(&m, &t);
    CHECK_EQ(m.used, 0);
}

TEST(verify_loop_and_hostile) {
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    fr_trust_store t;
    fr_trust_init(&t);
    anchors_from(&m, &t, "root.pem");
    /* A issued by B, B issued by A, leaf issued by A: no anchor reachable */
    certs cs = {0};
    add_pki(&m, &cs, "x-loop-leaf.pem");
    add_pki(&m, &cs, "x-loop-a.pem");
    add_pki(&m, &cs, "x-loop-b.pem");
    add_pki(&m, &cs, "x-loop-a.pem"); /* and a duplicate */
    if (cs.n == 4) {
        fr_verify_params p = params_for(cs.c[0], "localhost");
        fr_verify_stats st;
        CHECK_EQ(fr_verify_chain_ex(&t, cs.c, 4, &p, &st), FERRULE_R_CERT_UNKNOWN_ISSUER);
        CHECK(st.sig_checks <= 4);
        CHECK(st.sig_checks >= 2);
    }
    certs_free(&m, &cs);
    /* Ten same-subject, same-key CAs: each verifies as the issuer of every
     * other, a factorial search tree -- but a path never holds one subject
     * and key twice, and a signature check is remembered per key: one
     * check, and the search ends by itself. */
    add_pki(&m, &cs, "x-hostile-leaf.pem");
    for (int i = 0; i < 10; i++) {
        char name[32];
        snprintf(name, sizeof(name), "x-hostile-%d.pem", i);
        add_pki(&m, &cs, name);
    }
    CHECK_EQ(cs.n, 11);
    if (cs.n == 11) {
        fr_verify_params p = params_for(cs.c[0], "localhost");
        fr_verify_stats st;
        CHECK_EQ(fr_verify_chain_ex(&t, cs.c, 11, &p, &st), FERRULE_R_CERT_UNKNOWN_ISSUER);
        CHECK_EQ(st.sig_checks, 1);
        p.max_depth = 2;
        CHECK_EQ(fr_verify_chain_ex(&t, cs.c, 11, &p, &st), FERRULE_R_CERT_UNKNOWN_ISSUER);
        CHECK_EQ(st.sig_checks, 1);
        /* when one of them is the anchor the search succeeds at once */
        fr_trust_store h;
        fr_trust_init(&h);
        anchors_from(&m, &h, "x-hostile-7.pem");
        p.max_depth = 0;
        CHECK_EQ(fr_verify_chain_ex(&h, cs.c, 11, &p, &st), FR_OK);
        CHECK_EQ(st.sig_checks, 1);
        fr_trust_free(&m, &h);
    }
    certs_free(&m, &cs);
    fr_trust_free(&m, &t);
    CHECK_EQ(m.used, 0);
}

/* ---- RFC 6125 name matching ---------------------------------------------- */

/* GeneralNames from "D:name" (dNSName) / "I:a.b.c.d" (iPAddress) entries;
 * "N:" adds a dNSName with an embedded NUL after its text. */
static size_t make_san(uint8_t *out, const char *const *entries, size_t n) {
    uint8_t body[1024];
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = entries[i];
        if (e[0] == 'I') {
            uint8_t ip[16];
            size_t il = 0;
            unsigned a, b, c, d;
            if (sscanf(e + 2, "%u.%u.%u.%u", &a, &b, &c, &d) == 4 && strchr(e + 2, ':') == NULL) {
                ip[0] = (uint8_t)a, ip[1] = (uint8_t)b, ip[2] = (uint8_t)c, ip[3] = (uint8_t)d;
                il = 4;
            } else { /* "::1" only */
                memset(ip, 0, 16);
                ip[15] = 1;
                il = 16;
            }
            body[len++] = 0x87;
            body[len++] = (uint8_t)il;
            memcpy(body + len, ip, il);
            len += il;
        } else {
            size_t sl = strlen(e + 2) + (e[0] == 'N' ? 4 : 0);
            body[len++] = 0x82;
            body[len++] = (uint8_t)sl;
            memcpy(body + len, e + 2, strlen(e + 2));
            if (e[0] == 'N') memcpy(body + len + strlen(e + 2), "\0.ev", 4);
            len += sl;
        }
    }
    size_t h = put_header(out, 0x30, len);
    memcpy(out + h, body, len);
    return h + len;
}

static int match(const char *entry, const char *name) {
    uint8_t san[1100];
    const char *e[1] = {entry};
    size_t n = make_san(san, e, 1);
    return fr_san_matches_name(san, n, name);
}

TEST(hostname_rules) {
    /* exact, case-insensitive, trailing dot on the reference */
    CHECK(match("D:example.com", "example.com"));
    CHECK(match("D:Example.COM", "eXample.com"));
    CHECK(match("D:example.com", "example.com."));
    CHECK(!match("D:example.com", "example.com.."));
    CHECK(!match("D:example.com.", "example.com")); /* invalid SAN entry */
    CHECK(!match("D:example.com", "www.example.com"));
    CHECK(!match("D:www.example.com", "example.com"));
    CHECK(!match("D:example.com", "example.co"));
    CHECK(!match("D:example.com", ""));
    CHECK(!match("D:example.com", "."));
    /* wildcards */
    CHECK(match("D:*.example.com", "foo.example.com"));
    CHECK(match("D:*.example.com", "FOO.EXAMPLE.COM."));
    CHECK(!match("D:*.example.com", "example.com"));
    CHECK(!match("D:*.example.com", "a.b.example.com"));
    CHECK(!match("D:*.example.com", ".example.com"));
    CHECK(!match("D:*.example.com", "*.example.com"));
    CHECK(!match("D:*.example.com", "fooexample.com"));
    CHECK(!match("D:*.com", "example.com"));
    CHECK(!match("D:*", "example"));
    CHECK(!match("D:*.", "example."));
    CHECK(!match("D:a.*.example.com", "a.b.example.com"));
    CHECK(!match("D:f*.example.com", "foo.example.com"));
    CHECK(!match("D:*oo.example.com", "foo.example.com"));
    CHECK(!match("D:**.example.com", "foo.example.com"));
    CHECK(!match("D:*.*.example.com", "a.b.example.com"));
    /* invalid entries never match */
    CHECK(!match("N:example.com", "example.com"));
    CHECK(!match("D:exa mple.com", "exa mple.com"));
    CHECK(!match("D:a..b", "a..b"));
    CHECK(!match("D:", ""));
    /* IP vs DNS separation */
    CHECK(match("I:127.0.0.1", "127.0.0.1"));
    CHECK(!match("I:127.0.0.1", "127.0.0.2"));
    CHECK(!match("D:127.0.0.1", "127.0.0.1"));
    CHECK(!match("I:127.0.0.1", "localhost"));
    CHECK(match("I:::1", "::1"));
    CHECK(match("I:::1", "0:0:0:0:0:0:0:1"));
    CHECK(!match("I:::1", "127.0.0.1"));
    CHECK(!match("I:127.0.0.1", "::ffff:127.0.0.1"));
    CHECK(!match("I:127.0.0.1", "127.1")); /* not a dotted quad */
    /* a list: any entry may match */
    uint8_t san[1100];
    const char *list[] = {"D:a.example", "I:10.0.0.1", "D:*.b.example", "I:::1"};
    size_t n = make_san(san, list, 4);
    CHECK(fr_san_matches_name(san, n, "a.example"));
    CHECK(fr_san_matches_name(san, n, "x.b.example"));
    CHECK(fr_san_matches_name(san, n, "10.0.0.1"));
    CHECK(fr_san_matches_name(san, n, "::1"));
    CHECK(!fr_san_matches_name(san, n, "b.example"));
    CHECK(!fr_san_matches_name(san, n, NULL));
    CHECK(!fr_san_matches_name(NULL, 0, "a.example"));
    /* malformed GeneralNames: truncated, trailing bytes */
    CHECK(!fr_san_matches_name(san, n - 1, "a.example"));
    san[n] = 0;
    CHECK(!fr_san_matches_name(san, n + 1, "a.example"));
    /* a real leaf */
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    certs cs = {0};
    add_pki(&m, &cs, "rsa-pss.leaf.pem");
    if (cs.n == 1) {
        CHECK(fr_cert_matches_name(cs.c[0], "LOCALHOST"));
        CHECK(fr_cert_matches_name(cs.c[0], "::1"));
        CHECK(!fr_cert_matches_name(cs.c[0], "::2"));
        CHECK(!fr_cert_matches_name(cs.c[0], "ferrule test"));
    }
    certs_free(&m, &cs);
}

/* ---- PEM and trust stores ------------------------------------------------ */

/* Valid PEM of a DER that is not a certificate (30 0a). */
#define JUNK_PEM "-----BEGIN CERTIFICATE-----\nMAo=\n-----END CERTIFICATE-----\n"

static fr_err count_cb(void *ctx, const uint8_t *der, size_t len) {
    (void)der;
    (void)len;
    (*(size_t *)ctx)++;
    return FR_OK;
}

static fr_err pem_count(const char *s, size_t *count) {
    *count = 0;
    return fr_pem_each_cert(pem_mem(), (const uint8_t *)s, strlen(s), count_cb, count);
}

TEST(pem_decoding) {
    size_t n;
    /* "MAo=" is base64 of 30 0a: not a certificate, but valid PEM */
    CHECK_EQ(pem_count("-----BEGIN CERTIFICATE-----\nMAo=\n-----END CERTIFICATE-----\n", &n),
             FR_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(pem_count("text\n-----BEGIN CERTIFICATE-----\r\nMA\r\n  o=\r\n-----END "
                       "CERTIFICATE-----\r\nmore text\n-----BEGIN CERTIFICATE-----\nMAoA"
                       "\n-----END CERTIFICATE-----",
                       &n),
             FR_OK);
    CHECK_EQ(n, 2);
    static const char *const bad[] = {
        "",
        "no pem here",
        "-----BEGIN CERTIFICATE-----\nMAo=\n",                               /* no END */
        "-----BEGIN CERTIFICATE-----\nMAo=\n-----END CERTIFICATE",           /* cut END */
        "-----BEGIN CERTIFICATE-----\nMA!o\n-----END CERTIFICATE-----\n",    /* alphabet */
        "-----BEGIN CERTIFICATE-----\nMAo\n-----END CERTIFICATE-----\n",     /* no padding */
        "-----BEGIN CERTIFICATE-----\nMAo==\n-----END CERTIFICATE-----\n",   /* too much */
        "-----BEGIN CERTIFICATE-----\nMB==\n-----END CERTIFICATE-----\n",    /* pad bits */
        "-----BEGIN CERTIFICATE-----\nMAp=\n-----END CERTIFICATE-----\n",    /* pad bits */
        "-----BEGIN CERTIFICATE-----\nMAo=MAo=\n-----END CERTIFICATE-----\n", /* data after = */
        "-----BEGIN CERTIFICATE-----\n====\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n", /* empty */
        "-----BEGIN CERTIFICATE-----\nM-Ao\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\nMAo=\n-----END CERTIFICATE-----\n",
        ("-----BEGIN CERTIFICATE-----\nMAo=\n-----END CERTIFICATE-----\n"
         "-----BEGIN CERTIFICATE-----\nMAo\n-----END CERTIFICATE-----\n"), /* 2nd bad */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fr_err e = pem_count(bad[i], &n);
        if (e != FERRULE_R_CONFIG_PEM) fprintf(stderr, "  accepted bad PEM %zu\n", i);
        CHECK_EQ(e, FERRULE_R_CONFIG_PEM);
    }
    /* the callback's error stops the walk */
    derlist full = {.n = 16};
    CHECK_EQ(fr_pem_each_cert(pem_mem(), (const uint8_t *)JUNK_PEM, sizeof(JUNK_PEM) - 1, collect_cb, &full),
             FERRULE_R_INTERNAL);
}

TEST(trust_pem_bundles) {
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    size_t rl, il;
    uint8_t *root = read_pki("root.pem", &rl);
    uint8_t *inter = read_pki("inter.pem", &il);
    if (root == NULL || inter == NULL) {
        free(root);
        free(inter);
        return;
    }
    fr_trust_store t;
    fr_trust_init(&t);
    /* a good bundle of two */
    uint8_t *bundle = malloc(rl + il + 200);
    memcpy(bundle, root, rl);
    memcpy(bundle + rl, inter, il);
    CHECK_EQ(fr_trust_add_pem(&m, &t, bundle, rl + il), FR_OK);
    CHECK_EQ(t.n, 2);
    /* duplicates are dropped */
    CHECK_EQ(fr_trust_add_pem(&m, &t, root, rl), FR_OK);
    CHECK_EQ(t.n, 2);
    /* garbage base64 inside the second block: all or nothing */
    fr_trust_free(&m, &t);
    memcpy(bundle, root, rl);
    memcpy(bundle + rl, inter, il);
    bundle[rl + 40] = '!';
    CHECK_EQ(fr_trust_add_pem(&m, &t, bundle, rl + il), FERRULE_R_CONFIG_PEM);
    CHECK_EQ(t.n, 0);
    /* missing END */
    memcpy(bundle, root, rl);
    CHECK_EQ(fr_trust_add_pem(&m, &t, bundle, rl - 10), FERRULE_R_CONFIG_PEM);
    CHECK_EQ(t.n, 0);
    /* an unparsable certificate in a bundle is skipped... */
    static const char junk[] = JUNK_PEM;
    memcpy(bundle, junk, sizeof(junk) - 1);
    memcpy(bundle + sizeof(junk) - 1, root, rl);
    CHECK_EQ(fr_trust_add_pem(&m, &t, bundle, sizeof(junk) - 1 + rl), FR_OK);
    CHECK_EQ(t.n, 1);
    /* ...but a bundle with nothing usable fails */
    CHECK_EQ(fr_trust_add_pem(&m, &t, (const uint8_t *)junk, sizeof(junk) - 1),
             FERRULE_R_CONFIG_PEM);
    CHECK_EQ(t.n, 1);
    /* a single explicit DER that fails is an error */
    CHECK_EQ(fr_trust_add_der(&m, &t, (const uint8_t *)"\x30\x00", 2), FERRULE_R_CERT_MALFORMED);
    CHECK_EQ(t.n, 1);
    fr_trust_free(&m, &t);
    CHECK_EQ(m.used, 0);
    /* memory ceiling */
    fr_mem lim;
    fr_mem_init(&lim, NULL, rl); /* the decode buffer fits, the certificate not */
    fr_trust_init(&t);
    CHECK_EQ(fr_trust_add_pem(&lim, &t, root, rl), FERRULE_R_MEMORY_LIMIT);
    CHECK_EQ(t.n, 0);
    CHECK_EQ(lim.used, 0);
    free(bundle);
    free(root);
    free(inter);
}

TEST_MAIN("x509", TL_CASE(der_layer), TL_CASE(parse_fields), TL_CASE(subject_string_escapes),
          TL_CASE(parse_every_prefix_fails), TL_CASE(parse_der_negatives), TL_CASE(parse_times),
          TL_CASE(parse_unsupported_algorithms), TL_CASE(parse_memory_limit),
          TL_CASE(verify_good_chains), TL_CASE(verify_order_and_extras),
          TL_CASE(verify_depth_limit), TL_CASE(verify_names_and_trust), TL_CASE(verify_validity),
          TL_CASE(verify_tampered), TL_CASE(verify_rule_violations),
          TL_CASE(verify_loop_and_hostile), TL_CASE(hostname_rules), TL_CASE(pem_decoding),
          TL_CASE(trust_pem_bundles))
