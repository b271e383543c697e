/* test_ocsp.c - OCSP response parsing and validation (core/x509/ocsp.c),
 * the stapling policy, and stapling in whole in-memory handshakes.
 *
 * Responses come from `openssl ocsp` via tools/gen-ocsp.sh: the directory
 * $FERRULE_TEST_OCSP, or (when unset) a temporary directory this test fills
 * by running the script; if that fails, every test that needs it fails.
 * Synthetic responses built here cover the encodings openssl never emits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conn.h"
#include "support_pair.h"
#include "testlib.h"
#include "x509/der.h"
#include "x509/ocsp.h"
#include "x509/x509.h"

/* ---- fixtures ------------------------------------------------------------ */

static char g_dir[512];
static int g_state; /* 0 unknown, 1 ok, -1 failed */

static void remove_tmp_dir(void) {
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "  cannot remove %s\n", g_dir);
}

static const char *ocsp_dir(void) {
    if (g_state != 0) return g_state > 0 ? g_dir : NULL;
    g_state = -1;
    const char *env = getenv("FERRULE_TEST_OCSP");
    if (env != NULL && env[0] != '\0') {
        snprintf(g_dir, sizeof(g_dir), "%s", env);
    } else {
        snprintf(g_dir, sizeof(g_dir), "/tmp/ferrule-ocsp-XXXXXX");
        if (mkdtemp(g_dir) == NULL) {
            fprintf(stderr, "  mkdtemp failed\n");
            return NULL;
        }
        atexit(remove_tmp_dir);
        static const char *const scripts[] = {"../../tools/gen-ocsp.sh", "tools/gen-ocsp.sh",
                                              "../tools/gen-ocsp.sh"};
        const char *script = NULL;
        struct stat st;
        for (size_t i = 0; i < 3 && script == NULL; i++)
            if (stat(scripts[i], &st) == 0) script = scripts[i];
        if (script == NULL) {
            fprintf(stderr, "  tools/gen-ocsp.sh not found\n");
            return NULL;
        }
        char cmd[2048];
        snprintf(cmd, sizeof(cmd), "bash %s '%s' '%s'", script, g_dir, pair_pki_dir());
        if (system(cmd) != 0) {
            fprintf(stderr, "  gen-ocsp.sh failed\n");
            return NULL;
        }
    }
    char probe[700];
    struct stat st;
    snprintf(probe, sizeof(probe), "%s/good.der", g_dir);
    if (stat(probe, &st) != 0) {
        fprintf(stderr, "  no OCSP responses in %s\n", g_dir);
        return NULL;
    }
    g_state = 1;
    return g_dir;
}

static const char *ocsp_path(const char *file) {
    static char bufs[4][700];
    static int next;
    char *b = bufs[next++ % 4];
    const char *d = ocsp_dir();
    snprintf(b, 700, "%s/%s", d != NULL ? d : "/nonexistent", file);
    return b;
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "  cannot open %s\n", path);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    size_t r;
    while (buf != NULL && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

/* An OCSP file of the generated set (NULL + a failure if missing). */
static uint8_t *resp(const char *name, size_t *len) {
    *len = 0;
    if (ocsp_dir() == NULL) return NULL;
    return read_file(ocsp_path(name), len);
}

static fr_mem g_mem;

static fr_err first_cert_cb(void *ctx, const uint8_t *der, size_t len) {
    fr_cert **out = ctx;
    if (*out != NULL) return FR_OK;
    return fr_cert_parse(&g_mem, der, len, out);
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

/* The first certificate of a PEM file. */
static fr_cert *load_cert(const char *path) {
    size_t n;
    uint8_t *pem = read_file(path, &n);
    if (pem == NULL) return NULL;
    fr_cert *c = NULL;
    if (fr_pem_each_cert(pem_mem(), pem, n, first_cert_cb, &c) != FR_OK) c = NULL;
    free(pem);
    if (c == NULL) fprintf(stderr, "  cannot parse %s\n", path);
    return c;
}

/* The certificates most tests use. */
typedef struct certs {
    fr_cert *leaf;  /* ecdsa-p256.leaf.pem */
    fr_cert *inter; /* its issuer */
    fr_cert *root;
    fr_cert *p384; /* another leaf under inter */
} certs;

static int certs_load(certs *k) {
    memset(k, 0, sizeof(*k));
    if (g_mem.alloc == NULL) fr_mem_init(&g_mem, NULL, 0);
    k->leaf = load_cert(pair_pki("ecdsa-p256.leaf.pem"));
    k->inter = load_cert(pair_pki("inter.pem"));
    k->root = load_cert(pair_pki("root.pem"));
    k->p384 = load_cert(pair_pki("ecdsa-p384.leaf.pem"));
    return k->leaf != NULL && k->inter != NULL && k->root != NULL && k->p384 != NULL;
}

static void certs_free(certs *k) {
    fr_cert_free(&g_mem, k->leaf);
    fr_cert_free(&g_mem, k->inter);
    fr_cert_free(&g_mem, k->root);
    fr_cert_free(&g_mem, k->p384);
}

/* thisUpdate of the first SingleResponse of a generated file: the base
 * time of the freshness tests (openssl sets it to the generation time). */
static int64_t this_update_of(const char *name) {
    size_t n;
    uint8_t *d = resp(name, &n);
    int64_t t = -1;
    fr_ocsp_response o;
    fr_ocsp_single s;
    if (d != NULL && fr_ocsp_parse(d, n, &o) == FR_OK && fr_ocsp_next_single(&o.responses, &s) == FR_OK)
        t = s.this_update;
    free(d);
    return t;
}

/* Check a generated response against `leaf`/`issuer` at `now`. */
static fr_err check_file(const char *name, const fr_cert *leaf, const fr_cert *issuer,
                         int64_t now, fr_ocsp_info *info) {
    size_t n;
    uint8_t *d = resp(name, &n);
    if (d == NULL) return (fr_err)0xdead;
    fr_err e = fr_ocsp_check(&g_mem, d, n, leaf, issuer, now, info);
    free(d);
    return e;
}

/* ---- a tiny DER writer for synthetic responses -------------------------- */

typedef struct dw {
    uint8_t b[8192];
    size_t n;
    size_t open[16];
    int depth;
} dw;

static void dw_raw(dw *w, const void *p, size_t n) {
    if (n > 0) memcpy(w->b + w->n, p, n);
    w->n += n;
}
static void dw_begin(dw *w, uint8_t tag) {
    w->b[w->n++] = tag;
    w->open[w->depth++] = w->n;
    w->n += 3; /* room for 0x82 hi lo, shrunk at dw_end */
}
static void dw_end(dw *w) {
    size_t at = w->open[--w->depth];
    size_t len = w->n - at - 3;
    uint8_t hdr[3];
    size_t h;
    if (len < 0x80) {
        hdr[0] = (uint8_t)len;
        h = 1;
    } else if (len < 0x100) {
        hdr[0] = 0x81;
        hdr[1] = (uint8_t)len;
        h = 2;
    } else {
        hdr[0] = 0x82;
        hdr[1] = (uint8_t)(len >> 8);
        hdr[2] = (uint8_t)len;
        h = 3;
    }
    memmove(w->b + at + h, w->b + at + 3, len);
    memcpy(w->b + at, hdr, h);
    w->n = at + h + len;
}
static void dw_prim(dw *w, uint8_t tag, const void *p, size_t n) {
    dw_begin(w, tag);
    dw_raw(w, p, n);
    dw_end(w);
}

static const uint8_t O_BASIC[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};
static const uint8_t O_NONCE[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02};
static const uint8_t O_SHA1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};
static const uint8_t O_ECDSA256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t O_CN[] = {0x55, 0x04, 0x03};

/* What to get wrong in a synthetic response (all zero: a well-formed one). */
typedef struct syn {
    int status;           /* responseStatus value */
    int status_as_int;    /* INTEGER instead of ENUMERATED */
    int no_bytes;         /* omit responseBytes */
    int other_type;       /* responseType id-pkix-ocsp-nonce instead of basic */
    int version;          /* include version [0] with this value + 1 */
    uint8_t responder;    /* ResponderID tag (0: [1] byName) */
    int bykey_len;        /* byKey with this hash length */
    uint8_t cert_status;  /* CertStatus tag (0: good [0]) */
    int good_len;         /* content bytes inside good [0] */
    int utctime;          /* thisUpdate as UTCTime */
    int bad_time;         /* thisUpdate "20251332..." (month 13) */
    int fraction;         /* thisUpdate with fractional seconds */
    int resp_ext;         /* 1 nonce, 2 critical nonce, 3 explicit FALSE, 4 duplicate */
    int single_ext;       /* same, in the SingleResponse */
    int trailing_single;  /* junk at the end of the SingleResponse */
    int trailing_tbs;     /* junk at the end of ResponseData */
    int trailing_basic;   /* junk after the certs */
    int hash_len;         /* issuerNameHash length (0: 20) */
    int n_singles;        /* SingleResponses (0: 1) */
    int certs;            /* 1: certs [0] with an empty SEQUENCE OF, 2: a non-SEQUENCE */
    int sig_unused;       /* unused bits in the signature BIT STRING */
} syn;

static size_t build(const syn *s, uint8_t *out) {
    static const uint8_t zeros[32] = {0};
    static const uint8_t serial[2] = {0x10, 0x02};
    const char *gt = s->bad_time   ? "20251332000000Z"
                     : s->fraction ? "20250101000000.5Z"
                                   : "20250101000000Z";
    dw w = {0};
    dw_begin(&w, 0x30); /* BasicOCSPResponse */
    dw_begin(&w, 0x30); /* ResponseData */
    if (s->version) {
        uint8_t v = (uint8_t)(s->version - 1);
        dw_begin(&w, 0xa0);
        dw_prim(&w, 0x02, &v, 1);
        dw_end(&w);
    }
    if (s->bykey_len) {
        dw_begin(&w, 0xa2);
        dw_prim(&w, 0x04, zeros, (size_t)s->bykey_len);
        dw_end(&w);
    } else {
        dw_begin(&w, s->responder ? s->responder : 0xa1);
        dw_begin(&w, 0x30);
        dw_begin(&w, 0x31);
        dw_begin(&w, 0x30);
        dw_prim(&w, 0x06, O_CN, sizeof(O_CN));
        dw_prim(&w, 0x0c, "x", 1);
        dw_end(&w);
        dw_end(&w);
        dw_end(&w);
        dw_end(&w);
    }
    dw_prim(&w, 0x18, "20250101000000Z", 15); /* producedAt */
    dw_begin(&w, 0x30);                         /* responses */
    for (int i = 0; i < (s->n_singles ? s->n_singles : 1); i++) {
        dw_begin(&w, 0x30);
        dw_begin(&w, 0x30); /* CertID */
        dw_begin(&w, 0x30);
        dw_prim(&w, 0x06, O_SHA1, sizeof(O_SHA1));
        dw_prim(&w, 0x05, NULL, 0);
        dw_end(&w);
        dw_prim(&w, 0x04, zeros, (size_t)(s->hash_len ? s->hash_len : 20));
        dw_prim(&w, 0x04, zeros, 20);
        dw_prim(&w, 0x02, serial, 2);
        dw_end(&w);
        uint8_t cs = s->cert_status ? s->cert_status : 0x80;
        if (cs == 0xa1) {
            dw_begin(&w, 0xa1);
            dw_prim(&w, 0x18, "20240101000000Z", 15);
            dw_end(&w);
        } else {
            dw_prim(&w, cs, zeros, (size_t)s->good_len);
        }
        if (s->utctime)
            dw_prim(&w, 0x17, "250101000000Z", 13);
        else
            dw_prim(&w, 0x18, gt, strlen(gt));
        dw_begin(&w, 0xa0);
        dw_prim(&w, 0x18, "20250108000000Z", 15);
        dw_end(&w);
        if (s->single_ext) {
            int kind = s->single_ext;
            dw_begin(&w, 0xa1);
            dw_begin(&w, 0x30);
            for (int k = 0; k < (kind == 4 ? 2 : 1); k++) {
                dw_begin(&w, 0x30);
                dw_prim(&w, 0x06, O_NONCE, sizeof(O_NONCE));
                if (kind == 2) dw_prim(&w, 0x01, "\xff", 1);
                if (kind == 3) dw_prim(&w, 0x01, "\x00", 1);
                dw_prim(&w, 0x04, "\x04\x01\x00", 3);
                dw_end(&w);
            }
            dw_end(&w);
            dw_end(&w);
        }
        if (s->trailing_single) dw_prim(&w, 0x05, NULL, 0);
        dw_end(&w);
    }
    dw_end(&w); /* responses */
    if (s->resp_ext) {
        dw_begin(&w, 0xa1);
        dw_begin(&w, 0x30);
        for (int k = 0; k < (s->resp_ext == 4 ? 2 : 1); k++) {
            dw_begin(&w, 0x30);
            dw_prim(&w, 0x06, O_NONCE, sizeof(O_NONCE));
            if (s->resp_ext == 2) dw_prim(&w, 0x01, "\xff", 1);
            if (s->resp_ext == 3) dw_prim(&w, 0x01, "\x00", 1);
            dw_prim(&w, 0x04, "\x04\x01\x00", 3);
            dw_end(&w);
        }
        dw_end(&w);
        dw_end(&w);
    }
    if (s->trailing_tbs) dw_prim(&w, 0x05, NULL, 0);
    dw_end(&w); /* ResponseData */
    dw_begin(&w, 0x30);
    dw_prim(&w, 0x06, O_ECDSA256, sizeof(O_ECDSA256));
    dw_end(&w);
    uint8_t sig[9] = {(uint8_t)s->sig_unused, 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00};
    dw_prim(&w, 0x03, sig, sizeof(sig));
    if (s->certs == 1) {
        dw_begin(&w, 0xa0);
        dw_prim(&w, 0x30, NULL, 0);
        dw_end(&w);
    } else if (s->certs == 2) {
        dw_begin(&w, 0xa0);
        dw_prim(&w, 0x04, NULL, 0);
        dw_end(&w);
    }
    if (s->trailing_basic) dw_prim(&w, 0x05, NULL, 0);
    dw_end(&w); /* BasicOCSPResponse */
    dw basic = w;

    dw o = {0};
    dw_begin(&o, 0x30);
    uint8_t st = (uint8_t)s->status;
    dw_prim(&o, s->status_as_int ? 0x02 : 0x0a, &st, 1);
    if (!s->no_bytes) {
        dw_begin(&o, 0xa0);
        dw_begin(&o, 0x30);
        dw_prim(&o, 0x06, s->other_type ? O_NONCE : O_BASIC, sizeof(O_BASIC));
        dw_prim(&o, 0x04, basic.b, basic.n);
        dw_end(&o);
        dw_end(&o);
    }
    dw_end(&o);
    memcpy(out, o.b, o.n);
    return o.n;
}

static fr_err parse_syn(const syn *s) {
    uint8_t buf[8192];
    size_t n = build(s, buf);
    fr_ocsp_response o;
    return fr_ocsp_parse(buf, n, &o);
}

/* ---- parser ------------------------------------------------------------- */

TEST(parse_synthetic_baseline) {
    /* The positive control for every negative below. */
    syn s = {0};
    uint8_t buf[8192];
    size_t n = build(&s, buf);
    fr_ocsp_response o;
    CHECK_EQ(fr_ocsp_parse(buf, n, &o), FR_OK);
    CHECK_EQ(o.n_responses, 1);
    CHECK_EQ(o.responder_by_key, 0);
    CHECK_EQ(o.sig_kind, FR_SIGKIND_ECDSA);
    CHECK_EQ(o.sig_hash, FR_HASH_SHA256);
    CHECK_EQ(o.n_certs, 0);
    CHECK_EQ(o.produced_at, 1735689600); /* 2025-01-01T00:00:00Z */
    fr_ocsp_single one;
    CHECK_EQ(fr_ocsp_next_single(&o.responses, &one), FR_OK);
    CHECK_EQ(one.status, FR_OCSP_GOOD);
    CHECK_EQ(one.hash, FR_OCSP_HASH_SHA1);
    CHECK_EQ(one.this_update, 1735689600);
    CHECK(one.has_next_update);
    CHECK_EQ(one.next_update, 1735689600 + 7 * 86400);
    CHECK_EQ(one.serial_len, 2);
    CHECK(fr_reader_empty(&o.responses));
    /* Accepted variants. */
    syn v = {0};
    v.resp_ext = 1;
    v.single_ext = 1;
    CHECK_EQ(parse_syn(&v), FR_OK); /* non-critical nonce: ignored */
    v = (syn){0};
    v.bykey_len = 20;
    CHECK_EQ(parse_syn(&v), FR_OK);
    v = (syn){0};
    v.cert_status = 0xa1;
    CHECK_EQ(parse_syn(&v), FR_OK);
    v = (syn){0};
    v.cert_status = 0x82;
    CHECK_EQ(parse_syn(&v), FR_OK);
    v = (syn){0};
    v.certs = 1;
    CHECK_EQ(parse_syn(&v), FR_OK);
    v = (syn){0};
    v.n_singles = 3;
    CHECK_EQ(parse_syn(&v), FR_OK);
}

TEST(parse_synthetic_negatives) {
    static const struct {
        const char *what;
        syn s;
    } cases[] = {
        {"malformedRequest", {.status = 1, .no_bytes = 1}},
        {"tryLater", {.status = 3, .no_bytes = 1}},
        {"unauthorized with bytes", {.status = 6}},
        {"successful without bytes", {.no_bytes = 1}},
        {"status as INTEGER", {.status_as_int = 1}},
        {"unknown response type", {.other_type = 1}},
        {"explicit v1 (not DER)", {.version = 1}},
        {"version 2", {.version = 2}},
        {"ResponderID [3]", {.responder = 0xa3}},
        {"ResponderID primitive [1]", {.responder = 0x81}},
        {"byKey of 19 bytes", {.bykey_len = 19}},
        {"CertStatus [3]", {.cert_status = 0x83}},
        {"CertStatus constructed [0]", {.cert_status = 0xa0}},
        {"good with content", {.good_len = 1}},
        {"thisUpdate UTCTime", {.utctime = 1}},
        {"thisUpdate month 13", {.bad_time = 1}},
        {"thisUpdate fraction", {.fraction = 1}},
        {"critical response extension", {.resp_ext = 2}},
        {"explicit FALSE response extension", {.resp_ext = 3}},
        {"duplicate response extension", {.resp_ext = 4}},
        {"critical single extension", {.single_ext = 2}},
        {"duplicate single extension", {.single_ext = 4}},
        {"trailing in SingleResponse", {.trailing_single = 1}},
        {"trailing in ResponseData", {.trailing_tbs = 1}},
        {"trailing in BasicOCSPResponse", {.trailing_basic = 1}},
        {"SHA-1 name hash of 21 bytes", {.hash_len = 21}},
        {"too many SingleResponses", {.n_singles = FR_OCSP_MAX_RESPONSES + 1}},
        {"certs not a SEQUENCE", {.certs = 2}},
        {"signature with unused bits", {.sig_unused = 1}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fr_err e = parse_syn(&cases[i].s);
        if (e != FERRULE_R_CERT_BAD_OCSP) fprintf(stderr, "  case: %s\n", cases[i].what);
        CHECK_EQ(e, FERRULE_R_CERT_BAD_OCSP);
    }
    syn ok = {.n_singles = FR_OCSP_MAX_RESPONSES};
    CHECK_EQ(parse_syn(&ok), FR_OK);
}

TEST(parse_generated) {
    static const struct {
        const char *file;
        int status, by_key, hash, has_next;
        size_t n_certs;
    } cases[] = {
        {"good.der", FR_OCSP_GOOD, 0, FR_OCSP_HASH_SHA1, 1, 1},
        {"good-sha256.der", FR_OCSP_GOOD, 0, FR_HASH_SHA256, 1, 1},
        {"good-bykey.der", FR_OCSP_GOOD, 1, FR_OCSP_HASH_SHA1, 1, 0},
        {"nonext.der", FR_OCSP_GOOD, 0, FR_OCSP_HASH_SHA1, 0, 1},
        {"revoked.der", FR_OCSP_REVOKED, 0, FR_OCSP_HASH_SHA1, 1, 1},
        {"unknown.der", FR_OCSP_UNKNOWN, 0, FR_OCSP_HASH_SHA1, 1, 1},
        {"delegated.der", FR_OCSP_GOOD, 0, FR_OCSP_HASH_SHA1, 1, 1},
        {"bad-signature.der", FR_OCSP_GOOD, 0, FR_OCSP_HASH_SHA1, 1, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n;
        uint8_t *d = resp(cases[i].file, &n);
        CHECK(d != NULL);
        if (d == NULL) continue;
        fr_ocsp_response o;
        fr_ocsp_single s;
        CHECK_EQ(fr_ocsp_parse(d, n, &o), FR_OK);
        CHECK_EQ(o.responder_by_key, cases[i].by_key);
        CHECK_EQ(o.n_certs, cases[i].n_certs);
        CHECK_EQ(o.n_responses, 1);
        CHECK_EQ(fr_ocsp_next_single(&o.responses, &s), FR_OK);
        CHECK_EQ(s.status, cases[i].status);
        CHECK_EQ(s.hash, cases[i].hash);
        CHECK_EQ(s.has_next_update, cases[i].has_next);
        if (s.status == FR_OCSP_REVOKED) CHECK(s.revocation_time < s.this_update);
        if (s.has_next_update && strcmp(cases[i].file, "short.der") != 0)
            CHECK_EQ(s.next_update - s.this_update, 7 * 86400);
        free(d);
    }
}

TEST(parse_truncated_and_trailing) {
    static const char *const files[] = {"good.der", "revoked.der", "delegated.der"};
    for (size_t f = 0; f < 3; f++) {
        size_t n;
        uint8_t *d = resp(files[f], &n);
        CHECK(d != NULL);
        if (d == NULL) continue;
        fr_ocsp_response o;
        for (size_t len = 0; len < n; len++) {
            /* A fresh copy of exactly len bytes lets ASan catch over-reads. */
            uint8_t *cut = malloc(len + 1);
            memcpy(cut, d, len);
            fr_err e = fr_ocsp_parse(len ? cut : NULL, len, &o);
            if (e != FERRULE_R_CERT_BAD_OCSP) fprintf(stderr, "  %s cut at %zu\n", files[f], len);
            CHECK_EQ(e, FERRULE_R_CERT_BAD_OCSP);
            free(cut);
        }
        uint8_t *longer = malloc(n + 1);
        memcpy(longer, d, n);
        longer[n] = 0;
        CHECK_EQ(fr_ocsp_parse(longer, n + 1, &o), FERRULE_R_CERT_BAD_OCSP);
        CHECK_EQ(fr_ocsp_parse(longer, n, &o), FR_OK);
        free(longer);
        free(d);
    }
}

TEST(parse_mutated_tags) {
    /* Flip the tag of every element of a real response in turn (every byte
     * position that starts a TLV is tried: each mutation must be rejected or
     * still parse, never crash; the ones on the fixed skeleton must fail). */
    size_t n;
    uint8_t *d = resp("good.der", &n);
    CHECK(d != NULL);
    if (d == NULL) return;
    fr_ocsp_response o;
    CHECK(n > 8 && d[0] == 0x30 && d[4] == 0x0a);
    static const size_t skeleton[] = {0, 4, 7}; /* SEQUENCE, ENUMERATED, [0] */
    for (size_t i = 0; i < 3; i++) {
        uint8_t saved = d[skeleton[i]];
        d[skeleton[i]] = 0x04;
        CHECK_EQ(fr_ocsp_parse(d, n, &o), FERRULE_R_CERT_BAD_OCSP);
        d[skeleton[i]] = saved;
    }
    size_t rejected = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t saved = d[i];
        d[i] ^= 0x20; /* constructed <-> primitive */
        if (fr_ocsp_parse(d, n, &o) != FR_OK) rejected++;
        d[i] = saved;
    }
    CHECK(rejected > 0);
    CHECK_EQ(fr_ocsp_parse(d, n, &o), FR_OK);
    free(d);
}

/* ---- validation ------------------------------------------------------- */

TEST(check_outcomes) {
    certs k;
    int ok = certs_load(&k);
    CHECK(ok);
    int64_t t = this_update_of("good.der");
    CHECK(t > 0);
    if (!ok || t <= 0) {
        certs_free(&k);
        return;
    }
    int64_t now = t + 10;
    fr_ocsp_info info;
    static const struct {
        const char *file;
        fr_err want;
        int delegated;
    } cases[] = {
        {"good.der", FR_OK, 0},
        {"good-sha256.der", FR_OK, 0},
        {"good-bykey.der", FR_OK, 0},
        {"nonext.der", FR_OK, 0},
        {"short.der", FR_OK, 0},
        {"delegated.der", FR_OK, 1},
        {"revoked.der", FERRULE_R_CERT_REVOKED, 0},
        {"unknown.der", FERRULE_R_CERT_BAD_OCSP, 0},
        {"other-serial.der", FERRULE_R_CERT_BAD_OCSP, 0},
        {"wrong-responder.der", FERRULE_R_CERT_BAD_OCSP, 0},
        {"bad-signature.der", FERRULE_R_CERT_BAD_OCSP, 0},
        {"delegated-noeku.der", FERRULE_R_CERT_BAD_OCSP, 0},
        {"delegated-root.der", FERRULE_R_CERT_BAD_OCSP, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fr_err e = check_file(cases[i].file, k.leaf, k.inter, now, &info);
        if (e != cases[i].want) fprintf(stderr, "  file: %s\n", cases[i].file);
        CHECK_EQ(e, cases[i].want);
        if (e == FR_OK) {
            CHECK_EQ(info.status, FR_OCSP_GOOD);
            CHECK_EQ(info.delegated, cases[i].delegated);
        }
    }
    CHECK_EQ(check_file("revoked.der", k.leaf, k.inter, now, &info), FERRULE_R_CERT_REVOKED);
    CHECK_EQ(info.status, FR_OCSP_REVOKED);
    CHECK_EQ(check_file("unknown.der", k.leaf, k.inter, now, &info), FERRULE_R_CERT_BAD_OCSP);
    CHECK_EQ(info.status, FR_OCSP_UNKNOWN);
    /* CertID names another certificate: the p384 leaf's response for the
     * p256 leaf, and the p256 response for the p384 leaf. */
    CHECK_EQ(check_file("other-serial.der", k.p384, k.inter, now, NULL), FR_OK);
    CHECK_EQ(check_file("good.der", k.p384, k.inter, now, NULL), FERRULE_R_CERT_BAD_OCSP);
    /* The wrong issuer: key hash and responder do not match. */
    CHECK_EQ(check_file("good.der", k.leaf, k.root, now, NULL), FERRULE_R_CERT_BAD_OCSP);
    /* Missing inputs. */
    CHECK_EQ(check_file("good.der", NULL, k.inter, now, NULL), FERRULE_R_CERT_BAD_OCSP);
    CHECK_EQ(check_file("good.der", k.leaf, NULL, now, NULL), FERRULE_R_CERT_BAD_OCSP);
    certs_free(&k);
}

TEST(check_other_keys_and_direct_issuer) {
    if (g_mem.alloc == NULL) fr_mem_init(&g_mem, NULL, 0);
    fr_cert *rsa = load_cert(pair_pki("rsa.leaf.pem"));
    fr_cert *inter = load_cert(pair_pki("inter.pem"));
    fr_cert *direct = load_cert(pair_pki("leaf-direct.chain.pem"));
    fr_cert *root = load_cert(pair_pki("root.pem"));
    int64_t t = this_update_of("rsa-good.der");
    CHECK(rsa != NULL && inter != NULL && direct != NULL && root != NULL && t > 0);
    if (rsa != NULL && inter != NULL && direct != NULL && root != NULL) {
        CHECK_EQ(check_file("rsa-good.der", rsa, inter, t, NULL), FR_OK);
        CHECK_EQ(check_file("leaf-direct-good.der", direct, root, t, NULL), FR_OK);
        CHECK_EQ(check_file("leaf-direct-revoked.der", direct, root, t, NULL),
                 FERRULE_R_CERT_REVOKED);
        CHECK_EQ(check_file("leaf-direct-good.der", direct, inter, t, NULL),
                 FERRULE_R_CERT_BAD_OCSP);
    }
    fr_cert_free(&g_mem, rsa);
    fr_cert_free(&g_mem, inter);
    fr_cert_free(&g_mem, direct);
    fr_cert_free(&g_mem, root);
}

TEST(check_freshness_boundaries) {
    certs k;
    int ok = certs_load(&k);
    CHECK(ok);
    int64_t t = this_update_of("good.der");
    CHECK(t > 0);
    if (ok && t > 0) {
        const int64_t skew = FR_OCSP_SKEW;
        /* thisUpdate (and producedAt) may be at most `skew` in the future. */
        CHECK_EQ(check_file("good.der", k.leaf, k.inter, t - skew, NULL), FR_OK);
        CHECK_EQ(check_file("good.der", k.leaf, k.inter, t - skew - 1, NULL),
                 FERRULE_R_CERT_BAD_OCSP);
        /* nextUpdate = t + 7 days, tolerated `skew` past. */
        int64_t next = t + 7 * 86400;
        CHECK_EQ(check_file("good.der", k.leaf, k.inter, next + skew, NULL), FR_OK);
        CHECK_EQ(check_file("good.der", k.leaf, k.inter, next + skew + 1, NULL),
                 FERRULE_R_CERT_BAD_OCSP);
        /* A one-minute response. */
        int64_t ts = this_update_of("short.der");
        CHECK_EQ(check_file("short.der", k.leaf, k.inter, ts + 60 + skew, NULL), FR_OK);
        CHECK_EQ(check_file("short.der", k.leaf, k.inter, ts + 60 + skew + 1, NULL),
                 FERRULE_R_CERT_BAD_OCSP);
        /* No nextUpdate: at most FR_OCSP_MAX_AGE_WITHOUT_NEXT (+ skew) old. */
        int64_t tn = this_update_of("nonext.der");
        int64_t limit = tn + FR_OCSP_MAX_AGE_WITHOUT_NEXT + skew;
        CHECK_EQ(check_file("nonext.der", k.leaf, k.inter, limit, NULL), FR_OK);
        CHECK_EQ(check_file("nonext.der", k.leaf, k.inter, limit + 1, NULL),
                 FERRULE_R_CERT_BAD_OCSP);
        /* A revoked response is judged fresh first: stale is "bad". */
        int64_t rnext = this_update_of("revoked.der") + 7 * 86400;
        CHECK_EQ(check_file("revoked.der", k.leaf, k.inter, rnext + skew, NULL),
                 FERRULE_R_CERT_REVOKED);
        CHECK_EQ(check_file("revoked.der", k.leaf, k.inter, rnext + skew + 1, NULL),
                 FERRULE_R_CERT_BAD_OCSP);
        /* The delegated responder's certificate is issued at generation
         * time: before it, the response is not acceptable even within the
         * skew that makes the issuer-signed one acceptable. */
        fr_cert *d = load_cert(ocsp_path("delegated.pem"));
        CHECK(d != NULL);
        if (d != NULL) {
            CHECK_EQ(check_file("delegated.der", k.leaf, k.inter, d->not_before, NULL), FR_OK);
            CHECK_EQ(check_file("delegated.der", k.leaf, k.inter, d->not_before - 1, NULL),
                     FERRULE_R_CERT_BAD_OCSP);
            fr_cert_free(&g_mem, d);
        }
    }
    certs_free(&k);
}

TEST(check_memory_ceiling) {
    /* Parsing the delegated responder certificate needs memory: under a
     * tiny ceiling the memory reason surfaces, not "bad OCSP". */
    certs k;
    int ok = certs_load(&k);
    CHECK(ok);
    size_t n;
    uint8_t *d = resp("delegated.der", &n);
    CHECK(d != NULL);
    if (ok && d != NULL) {
        fr_mem tiny;
        fr_mem_init(&tiny, NULL, 64);
        fr_err e = fr_ocsp_check(&tiny, d, n, k.leaf, k.inter, this_update_of("delegated.der"),
                                 NULL);
        CHECK_EQ(e, FERRULE_R_MEMORY_LIMIT);
        CHECK_EQ(atomic_load(&tiny.used), 0);
    }
    free(d);
    certs_free(&k);
}

/* ---- policy --------------------------------------------------------------- */

TEST(policy) {
    certs k;
    int ok = certs_load(&k);
    CHECK(ok);
    size_t n, rn;
    uint8_t *good = resp("good.der", &n);
    uint8_t *revoked = resp("revoked.der", &rn);
    int64_t t = this_update_of("good.der");
    CHECK(good != NULL && revoked != NULL);
    if (ok && good != NULL && revoked != NULL) {
        int st = -1;
        const uint8_t *idr = k.inter->der;
        size_t idl = k.inter->der_len;
        /* No staple: fine by default, fatal when required or must-staple. */
        CHECK_EQ(fr_ocsp_apply_policy(&g_mem, NULL, 0, k.leaf, idr, idl, 0, t, &st), FR_OK);
        CHECK_EQ(st, 0);
        CHECK_EQ(fr_ocsp_apply_policy(&g_mem, NULL, 0, k.leaf, idr, idl, 1, t, &st),
                 FERRULE_R_CERT_OCSP_MISSING);
        k.leaf->must_staple = 1;
        CHECK_EQ(fr_ocsp_apply_policy(&g_mem, NULL, 0, k.leaf, idr, idl, 0, t, &st),
                 FERRULE_R_CERT_OCSP_MISSING);
        CHECK_EQ(fr_ocsp_apply_policy(&g_mem, good, n, k.leaf, idr, idl, 0, t, &st), FR_OK);
        CHECK_EQ(st, 1);
        k.leaf->must_staple = 0;
        /* A staple: good in both modes. */
        st = -1;
        CHECK_EQ(fr_ocsp_apply_policy(&g_mem, good, n, k.leaf, idr, idl, 0, t, &st), FR_OK);
        CHECK_EQ(st, 1);
        CHECK_EQ(fr_ocsp_apply_policy(&g_mem, good, n, k.leaf, idr, idl, 1, t, &st), FR_OK);
        CHECK_EQ(st, 1);
        /* Revoked and invalid staples fail even when not required. */
        CHECK_EQ(fr_ocsp_apply_policy(&g_mem, revoked, rn, k.leaf, idr, idl, 0, t, &st),
                 FERRULE_R_CERT_REVOKED);
        CHECK_EQ(st, 0);
        CHECK_EQ(fr_ocsp_apply_policy(&g_mem, good, n - 1, k.leaf, idr, idl, 0, t, &st),
                 FERRULE_R_CERT_BAD_OCSP);
        /* A staple with no issuer to check it against, or a garbled one. */
        CHECK_EQ(fr_ocsp_apply_policy(&g_mem, good, n, k.leaf, NULL, 0, 0, t, &st),
                 FERRULE_R_CERT_BAD_OCSP);
        CHECK_EQ(fr_ocsp_apply_policy(&g_mem, good, n, k.leaf, idr, idl - 1, 0, t, &st),
                 FERRULE_R_CERT_BAD_OCSP);
        CHECK_EQ(st, 0);
    }
    free(good);
    free(revoked);
    certs_free(&k);
}

/* ---- handshakes ------------------------------------------------------------ */

static int64_t g_now;
static int64_t fixed_now(void *ctx) { return g_now; }

static ferrule_config *client_cfg(int require) {
    ferrule_config *cc = pair_client_config();
    if (cc == NULL) return NULL;
    if (ferrule_config_set_time_callback(cc, fixed_now, NULL) != FERRULE_OK ||
        (require && ferrule_config_set_ocsp_policy(cc, FERRULE_OCSP_REQUIRE) != FERRULE_OK)) {
        ferrule_config_free(cc);
        return NULL;
    }
    return cc;
}

/* A server config with `chain`/`key` (PKI kinds, or OCSP-dir files when
 * `from_ocsp`), stapling `staple` (a generated file) if not NULL. */
static ferrule_config *server_cfg(const char *kind, int from_ocsp, const char *staple) {
    ferrule_config *sc;
    if (!from_ocsp) {
        sc = pair_server_config(kind);
    } else {
        char chain[64], key[64];
        snprintf(chain, sizeof(chain), "%s.chain.pem", kind);
        snprintf(key, sizeof(key), "%s.key", kind);
        if (ferrule_config_new(&sc, FERRULE_ROLE_SERVER, NULL) != FERRULE_OK) return NULL;
        if (ferrule_config_add_cert_chain_file(sc, ocsp_path(chain), ocsp_path(key)) !=
            FERRULE_OK) {
            ferrule_config_free(sc);
            return NULL;
        }
    }
    if (sc == NULL || staple == NULL) return sc;
    size_t n;
    uint8_t *d = resp(staple, &n);
    int st = d != NULL ? ferrule_config_set_ocsp_staple(sc, 0, d, n) : FERRULE_USAGE;
    free(d);
    if (st != FERRULE_OK) {
        ferrule_config_free(sc);
        return NULL;
    }
    return sc;
}

typedef struct hs_want {
    int ok;          /* both sides succeed */
    uint32_t reason; /* client reason on failure */
    int alert;       /* alert the client sends on failure */
    int stapled;     /* ferrule_conn_ocsp_stapled(client) */
} hs_want;

static int g_cb_calls, g_cb_saw_stapled;
static int record_cb(void *ctx, const ferrule_conn *conn, const ferrule_verify_result *r) {
    g_cb_calls++;
    g_cb_saw_stapled = ferrule_conn_ocsp_stapled(conn);
    return 0;
}

static void run_hs(int line, const char *kind, int from_ocsp, const char *staple, int require,
                   hs_want w) {
    ferrule_config *cc = client_cfg(require);
    ferrule_config *sc = server_cfg(kind, from_ocsp, staple);
    if (cc == NULL || sc == NULL) {
        fprintf(stderr, "  line %d: config set-up failed\n", line);
        tl_failures_in_test++;
        ferrule_config_free(cc);
        ferrule_config_free(sc);
        return;
    }
    CHECK_EQ(ferrule_config_set_verify_callback(cc, record_cb, NULL), FERRULE_OK);
    g_cb_calls = 0;
    g_cb_saw_stapled = -1;
    pair p;
    CHECK(pair_new(&p, cc, sc, "localhost"));
    int cs, ss;
    int ok = pair_handshake(&p, &cs, &ss);
    if (ok != w.ok || (!w.ok && ferrule_conn_reason(p.client) != w.reason))
        fprintf(stderr, "  line %d: client %s, server %s\n", line,
                ferrule_reason_name(ferrule_conn_reason(p.client)),
                ferrule_reason_name(ferrule_conn_reason(p.server)));
    CHECK_EQ(ok, w.ok);
    CHECK_EQ(ferrule_conn_ocsp_stapled(p.client), w.stapled);
    if (w.ok) {
        /* The callback runs after the OCSP checks: it sees the outcome. */
        CHECK_EQ(g_cb_calls, 1);
        CHECK_EQ(g_cb_saw_stapled, w.stapled);
        CHECK(ferrule_conn_verify_result(p.client) != NULL);
    } else {
        CHECK_EQ(g_cb_calls, 0);
        CHECK_EQ(cs, FERRULE_CERTIFICATE);
        CHECK_EQ(ferrule_conn_reason(p.client), w.reason);
        CHECK_EQ(ferrule_conn_alert(p.client), w.alert);
        CHECK_EQ(ss, FERRULE_ALERT_RECEIVED);
        CHECK_EQ(ferrule_conn_alert(p.server), w.alert);
        CHECK(ferrule_conn_verify_result(p.client) == NULL);
    }
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}
#define RUN_HS(...) run_hs(__LINE__, __VA_ARGS__)

static const hs_want OK_STAPLED = {1, 0, -1, 1};
static const hs_want OK_PLAIN = {1, 0, -1, 0};
static const hs_want REVOKED = {0, FERRULE_R_CERT_REVOKED, FERRULE_ALERT_CERTIFICATE_REVOKED, 0};
static const hs_want BAD = {0, FERRULE_R_CERT_BAD_OCSP,
                            FERRULE_ALERT_BAD_CERTIFICATE_STATUS_RESPONSE, 0};
/* Required (policy or must-staple) and not sent: its own reason, so the
 * error says that no staple came (found when wolfSSL's server stapled
 * nothing: "OCSP response is invalid" was misleading). */
static const hs_want MISSING = {0, FERRULE_R_CERT_OCSP_MISSING,
                                FERRULE_ALERT_BAD_CERTIFICATE_STATUS_RESPONSE, 0};

TEST(handshake_staples) {
    g_now = this_update_of("good.der") + 10;
    CHECK(g_now > 10);
    RUN_HS("ecdsa-p256", 0, "good.der", 0, OK_STAPLED);
    RUN_HS("ecdsa-p256", 0, "good.der", 1, OK_STAPLED);
    RUN_HS("ecdsa-p256", 0, "delegated.der", 0, OK_STAPLED);
    RUN_HS("ecdsa-p256", 0, "good-bykey.der", 1, OK_STAPLED);
    RUN_HS("rsa", 0, "rsa-good.der", 1, OK_STAPLED);
    /* A leaf issued directly by the anchor: the anchor is the issuer. */
    RUN_HS("leaf-direct", 0, "leaf-direct-good.der", 1, OK_STAPLED);
    RUN_HS("leaf-direct", 0, "leaf-direct-revoked.der", 0, REVOKED);
    RUN_HS("ecdsa-p256", 0, "revoked.der", 0, REVOKED);
    RUN_HS("ecdsa-p256", 0, "revoked.der", 1, REVOKED);
    RUN_HS("ecdsa-p256", 0, "unknown.der", 0, BAD);
    RUN_HS("ecdsa-p256", 0, "bad-signature.der", 0, BAD);
    RUN_HS("ecdsa-p256", 0, "wrong-responder.der", 0, BAD);
    RUN_HS("ecdsa-p256", 0, "other-serial.der", 0, BAD);
    RUN_HS("ecdsa-p256", 0, "delegated-noeku.der", 0, BAD);
    /* The response of another chain's leaf. */
    RUN_HS("ecdsa-p384", 0, "good.der", 0, BAD);
    /* Stale. */
    g_now = this_update_of("short.der") + 60 + FR_OCSP_SKEW + 1;
    RUN_HS("ecdsa-p256", 0, "short.der", 0, BAD);
}

TEST(handshake_no_staple) {
    g_now = this_update_of("good.der") + 10;
    RUN_HS("ecdsa-p256", 0, NULL, 0, OK_PLAIN);
    RUN_HS("ecdsa-p256", 0, NULL, 1, MISSING);
}

TEST(handshake_must_staple) {
    g_now = this_update_of("mustaple-good.der") + 10;
    /* The generated leaf carries the TLS feature status_request. */
    fr_cert *leaf = load_cert(ocsp_path("mustaple.leaf.pem"));
    CHECK(leaf != NULL && leaf->must_staple);
    fr_cert_free(&g_mem, leaf);
    RUN_HS("mustaple", 1, "mustaple-good.der", 0, OK_STAPLED);
    RUN_HS("mustaple", 1, NULL, 0, MISSING);
    RUN_HS("mustaple", 1, "good.der", 0, BAD);
}

TEST(handshake_no_verification_ignores_staple) {
    /* With verification disabled there is no path to check a staple
     * against: nothing is validated and nothing is claimed. */
    g_now = this_update_of("good.der") + 10;
    ferrule_config *cc = client_cfg(1);
    ferrule_config *sc = server_cfg("ecdsa-p256", 0, "revoked.der");
    CHECK(cc != NULL && sc != NULL);
    if (cc != NULL && sc != NULL) {
        CHECK_EQ(ferrule_config_dangerous_no_verification(cc), FERRULE_OK);
        pair p;
        CHECK(pair_new(&p, cc, sc, "localhost"));
        CHECK(pair_handshake(&p, NULL, NULL));
        CHECK_EQ(ferrule_conn_ocsp_stapled(p.client), 0);
        pair_free(&p);
    }
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(peer_ocsp_response_is_the_staple_as_sent) {
    /* ferrule_conn_peer_ocsp_response hands back the server's staple byte
     * for byte, validated (good) or not (verification off, even revoked),
     * and nothing when none was stapled. */
    g_now = this_update_of("good.der") + 10;
    const char *files[] = {"good.der", "revoked.der", NULL};
    for (int noverify = 0; noverify < 2; noverify++) {
        for (size_t f = 0; f < 3; f++) {
            if (!noverify && f == 1) continue; /* revoked fails the handshake when verified */
            ferrule_config *cc = client_cfg(0);
            ferrule_config *sc = server_cfg("ecdsa-p256", 0, files[f]);
            CHECK(cc != NULL && sc != NULL);
            if (cc == NULL || sc == NULL) {
                ferrule_config_free(cc);
                ferrule_config_free(sc);
                continue;
            }
            if (noverify) CHECK_EQ(ferrule_config_dangerous_no_verification(cc), FERRULE_OK);
            pair p;
            CHECK(pair_new(&p, cc, sc, "localhost"));
            CHECK(pair_handshake(&p, NULL, NULL));
            const uint8_t *der = (const uint8_t *)"x";
            size_t len = 99;
            ferrule_conn_peer_ocsp_response(p.client, &der, &len);
            if (files[f] == NULL) {
                CHECK(der == NULL);
                CHECK_EQ(len, 0);
            } else {
                size_t n = 0;
                uint8_t *want = resp(files[f], &n);
                CHECK(want != NULL && n > 0);
                CHECK_EQ(len, n);
                if (want != NULL && len == n) CHECK_MEM(der, want, n);
                free(want);
            }
            /* A server never has one; NULL arguments are harmless. */
            ferrule_conn_peer_ocsp_response(p.server, &der, &len);
            CHECK(der == NULL && len == 0);
            ferrule_conn_peer_ocsp_response(NULL, &der, &len);
            CHECK(der == NULL && len == 0);
            ferrule_conn_peer_ocsp_response(p.client, NULL, &len);
            CHECK_EQ(len, 0);
            pair_free(&p);
            ferrule_config_free(cc);
            ferrule_config_free(sc);
        }
    }
}

/* ---- the Certificate message's entry extensions -------------------------- */

/* Feed a hand-built Certificate body to a fresh client connection whose
 * ClientHello "sent" status_request (or not). */
static fr_err on_certificate(const uint8_t *body, size_t len, int sent, int *stapled) {
    ferrule_config *cc = client_cfg(0);
    if (cc == NULL) return (fr_err)0xdead;
    ferrule_conn *c = NULL;
    ferrule_conn_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = sizeof(o);
    o.server_name = "localhost";
    fr_err e = (fr_err)0xdead;
    if (ferrule_conn_new(&c, cc, &o) == FERRULE_OK) {
        c->sent_status_request = sent;
        fr_reader r = fr_reader_init(body, len);
        fr_branch b = FR_BRANCH_NEXT;
        e = fr_client_on_certificate(c, &r, &b);
        if (e == FR_OK && b != FR_BRANCH_NEXT) e = (fr_err)0xdead; /* no decision asked */
        *stapled = c->ocsp_stapled;
    }
    ferrule_conn_free(c);
    ferrule_config_free(cc);
    return e;
}

typedef struct cmsg {
    uint8_t b[16384];
    size_t n;
} cmsg;
static void put(cmsg *m, const void *p, size_t n) {
    memcpy(m->b + m->n, p, n);
    m->n += n;
}
static void put_len(cmsg *m, size_t v, int w) {
    for (int i = w - 1; i >= 0; i--) m->b[m->n++] = (uint8_t)(v >> (8 * i));
}

/* Certificate body with leaf + inter; `ext[i]` is the raw extensions block
 * content of entry i. */
static size_t cert_body(uint8_t *out, const uint8_t *const ders[2], const size_t lens[2],
                        const uint8_t *const ext[2], const size_t ext_len[2]) {
    cmsg list = {{0}, 0}, m = {{0}, 0};
    for (int i = 0; i < 2; i++) {
        put_len(&list, lens[i], 3);
        put(&list, ders[i], lens[i]);
        put_len(&list, ext_len[i], 2);
        if (ext_len[i]) put(&list, ext[i], ext_len[i]);
    }
    put_len(&m, 0, 1);
    put_len(&m, list.n, 3);
    put(&m, list.b, list.n);
    memcpy(out, m.b, m.n);
    return m.n;
}

/* status_request entry extension carrying `der` with status type `type`
 * (and `extra` trailing bytes in the extension). */
static size_t status_ext(uint8_t *out, uint8_t type, const uint8_t *der, size_t n, int extra) {
    cmsg m = {{0}, 0};
    put_len(&m, FR_EXT_STATUS_REQUEST, 2);
    put_len(&m, 1 + 3 + n + (size_t)extra, 2);
    put_len(&m, type, 1);
    put_len(&m, n, 3);
    if (n) put(&m, der, n);
    for (int i = 0; i < extra; i++) put_len(&m, 0, 1);
    memcpy(out, m.b, m.n);
    return m.n;
}

TEST(certificate_entry_extensions) {
    certs k;
    int ok = certs_load(&k);
    CHECK(ok);
    size_t gn;
    uint8_t *good = resp("good.der", &gn);
    CHECK(good != NULL);
    g_now = this_update_of("good.der") + 10;
    if (ok && good != NULL) {
        const uint8_t *ders[2] = {k.leaf->der, k.inter->der};
        const size_t lens[2] = {k.leaf->der_len, k.inter->der_len};
        static uint8_t ext[4096], body[20000];
        size_t el = status_ext(ext, 1, good, gn, 0);
        const uint8_t *none[2] = {NULL, NULL};
        const size_t zero[2] = {0, 0};
        int st = -1;

        /* No extension at all. */
        size_t bn = cert_body(body, ders, lens, none, zero);
        CHECK_EQ(on_certificate(body, bn, 1, &st), FR_OK);
        CHECK_EQ(st, 0);
        /* The staple on the leaf. */
        const uint8_t *on_leaf[2] = {ext, NULL};
        const size_t on_leaf_len[2] = {el, 0};
        bn = cert_body(body, ders, lens, on_leaf, on_leaf_len);
        CHECK_EQ(on_certificate(body, bn, 1, &st), FR_OK);
        CHECK_EQ(st, 1);
        /* ... but we never asked (RFC 8446 §4.2). */
        CHECK_EQ(on_certificate(body, bn, 0, &st), FERRULE_R_UNSUPPORTED_EXTENSION);
        /* On the intermediate's entry instead. */
        const uint8_t *on_inter[2] = {NULL, ext};
        const size_t on_inter_len[2] = {0, el};
        bn = cert_body(body, ders, lens, on_inter, on_inter_len);
        CHECK_EQ(on_certificate(body, bn, 1, &st), FERRULE_R_ILLEGAL_PARAMETER);
        /* Another status type, an empty response, a trailing byte. */
        size_t e2 = status_ext(ext, 2, good, gn, 0);
        const size_t l2[2] = {e2, 0};
        bn = cert_body(body, ders, lens, on_leaf, l2);
        CHECK_EQ(on_certificate(body, bn, 1, &st), FERRULE_R_ILLEGAL_PARAMETER);
        e2 = status_ext(ext, 1, NULL, 0, 0);
        const size_t l3[2] = {e2, 0};
        bn = cert_body(body, ders, lens, on_leaf, l3);
        CHECK_EQ(on_certificate(body, bn, 1, &st), FERRULE_R_DECODE_ERROR);
        e2 = status_ext(ext, 1, good, gn, 1);
        const size_t l4[2] = {e2, 0};
        bn = cert_body(body, ders, lens, on_leaf, l4);
        CHECK_EQ(on_certificate(body, bn, 1, &st), FERRULE_R_DECODE_ERROR);
        /* An SCT, which we never request. */
        static const uint8_t sct[4] = {0, FR_EXT_SCT, 0, 0};
        const uint8_t *sct_leaf[2] = {sct, NULL};
        const size_t sct_len[2] = {4, 0};
        bn = cert_body(body, ders, lens, sct_leaf, sct_len);
        CHECK_EQ(on_certificate(body, bn, 1, &st), FERRULE_R_UNSUPPORTED_EXTENSION);
        /* The staple twice in one entry. */
        el = status_ext(ext, 1, good, gn, 0);
        memcpy(ext + el, ext, el);
        const size_t twice[2] = {2 * el, 0};
        bn = cert_body(body, ders, lens, on_leaf, twice);
        CHECK_EQ(on_certificate(body, bn, 1, &st), FERRULE_R_DUPLICATE_EXTENSION);
        CHECK_EQ(st, 0);
    }
    free(good);
    certs_free(&k);
}

/* ---- the server's reading of status_request --------------------------------- */

TEST(server_reads_status_request) {
    /* ClientHello status_request bodies: the server staples only for a
     * well-formed ocsp request, ignores other types, rejects garbage. */
    static const struct {
        uint8_t body[16];
        size_t len;
        fr_err want;
        int wants;
    } cases[] = {
        {{1, 0, 0, 0, 0}, 5, FR_OK, 1},
        {{1, 0, 4, 0, 2, 0xaa, 0xbb, 0, 0}, 9, FR_OK, 1}, /* one responder id */
        /* A malformed extension body: BAD_EXTENSION (decode_error alert). */
        {{1, 0, 2, 0, 0, 0, 0}, 7, FERRULE_R_BAD_EXTENSION, 0}, /* empty responder id */
        {{1, 0, 0, 0, 0, 0}, 6, FERRULE_R_BAD_EXTENSION, 0},    /* trailing byte */
        {{1, 0, 0, 0}, 4, FERRULE_R_BAD_EXTENSION, 0},          /* truncated */
        {{1, 0, 9, 0, 0}, 5, FERRULE_R_BAD_EXTENSION, 0},       /* overlong list */
        {{0}, 0, FERRULE_R_BAD_EXTENSION, 0},                   /* empty */
        {{2, 0xff}, 2, FR_OK, 0},                              /* other type: ignored */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* The parser is static in client_hello.c; drive it through a
         * whole ClientHello: ours, with the status_request body swapped. */
        g_now = this_update_of("good.der") + 10;
        ferrule_config *cc = client_cfg(0);
        ferrule_config *sc = server_cfg("ecdsa-p256", 0, "good.der");
        CHECK(cc != NULL && sc != NULL);
        pair p;
        if (cc == NULL || sc == NULL || !pair_new(&p, cc, sc, "localhost")) {
            ferrule_config_free(cc);
            ferrule_config_free(sc);
            continue;
        }
        CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
        uint8_t out[4096], mod[4096];
        size_t n = 0;
        CHECK_EQ(ferrule_conn_take(p.client, out, sizeof(out), &n), FERRULE_OK);
        /* Record header (5) + handshake header (4) + version, random,
         * session id, suites, compression, then extensions. */
        size_t at = 5 + 4 + 2 + 32;
        at += 1 + out[at];
        at += 2 + ((size_t)out[at] << 8 | out[at + 1]);
        at += 1 + out[at];
        size_t ext_start = at + 2;
        size_t ext_end = ext_start + ((size_t)out[at] << 8 | out[at + 1]);
        CHECK_EQ(ext_end, n);
        /* Rebuild the extensions with the new status_request body. */
        size_t m = ext_start, found = 0;
        memcpy(mod, out, ext_start);
        for (size_t q = ext_start; q + 4 <= ext_end;) {
            uint16_t type = (uint16_t)(out[q] << 8 | out[q + 1]);
            size_t len = (size_t)out[q + 2] << 8 | out[q + 3];
            if (type == FR_EXT_STATUS_REQUEST) {
                found = 1;
                CHECK_EQ(len, 5);
                CHECK_MEM(out + q + 4, "\x01\x00\x00\x00\x00", 5);
                mod[m++] = 0;
                mod[m++] = FR_EXT_STATUS_REQUEST;
                mod[m++] = 0;
                mod[m++] = (uint8_t)cases[i].len;
                memcpy(mod + m, cases[i].body, cases[i].len);
                m += cases[i].len;
            } else {
                memcpy(mod + m, out + q, 4 + len);
                m += 4 + len;
            }
            q += 4 + len;
        }
        CHECK(found);
        size_t ext_len = m - ext_start, hs_len = m - 9, rec_len = m - 5;
        mod[ext_start - 2] = (uint8_t)(ext_len >> 8);
        mod[ext_start - 1] = (uint8_t)ext_len;
        mod[6] = (uint8_t)(hs_len >> 16);
        mod[7] = (uint8_t)(hs_len >> 8);
        mod[8] = (uint8_t)hs_len;
        mod[3] = (uint8_t)(rec_len >> 8);
        mod[4] = (uint8_t)rec_len;
        size_t used = 0;
        CHECK_EQ(ferrule_conn_feed(p.server, mod, m, &used), FERRULE_OK);
        int st = ferrule_conn_handshake(p.server);
        if (cases[i].want == FR_OK) {
            CHECK_EQ(st, FERRULE_WANT_READ);
            CHECK_EQ(p.server->peer_wants_status, cases[i].wants);
        } else {
            CHECK_EQ(st, FERRULE_DECODE);
            CHECK_EQ(ferrule_conn_reason(p.server), cases[i].want);
        }
        pair_free(&p);
        ferrule_config_free(cc);
        ferrule_config_free(sc);
    }
}

TEST(config_staple_setter) {
    ferrule_config *sc = pair_server_config("ecdsa-p256");
    CHECK(sc != NULL);
    if (sc == NULL) return;
    static const uint8_t d[3] = {0x30, 0x01, 0x00};
    CHECK(ferrule_config_set_ocsp_staple(sc, 1, d, 3) != FERRULE_OK); /* no chain 1 */
    CHECK(ferrule_config_set_ocsp_staple(sc, 0, NULL, 3) != FERRULE_OK);
    CHECK(ferrule_config_set_ocsp_staple(sc, 0, d, 0) != FERRULE_OK);
    CHECK_EQ(ferrule_config_set_ocsp_staple(sc, 0, d, 3), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_ocsp_staple(sc, 0, d, 3), FERRULE_OK); /* replaces */
    ferrule_config_free(sc);
    ferrule_config *cc = pair_client_config();
    CHECK(cc != NULL);
    if (cc == NULL) return;
    CHECK_EQ(ferrule_config_set_ocsp_policy(cc, FERRULE_OCSP_REQUIRE), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_ocsp_policy(cc, FERRULE_OCSP_DEFAULT), FERRULE_OK);
    CHECK(ferrule_config_set_ocsp_policy(cc, 2) != FERRULE_OK);
    ferrule_config_free(cc);
}

TEST_MAIN("ocsp", TL_CASE(parse_synthetic_baseline), TL_CASE(parse_synthetic_negatives),
          TL_CASE(parse_generated), TL_CASE(parse_truncated_and_trailing),
          TL_CASE(parse_mutated_tags), TL_CASE(check_outcomes),
          TL_CASE(check_other_keys_and_direct_issuer), TL_CASE(check_freshness_boundaries),
          TL_CASE(check_memory_ceiling), TL_CASE(policy), TL_CASE(handshake_staples),
          TL_CASE(handshake_no_staple), TL_CASE(handshake_must_staple),
          TL_CASE(handshake_no_verification_ignores_staple),
          TL_CASE(peer_ocsp_response_is_the_staple_as_sent),
          TL_CASE(certificate_entry_extensions), TL_CASE(server_reads_status_request),
          TL_CASE(config_staple_setter))
