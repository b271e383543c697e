/*
 * pair_bench.c - ferrule against OpenSSL's libssl doing the same work in one
 * process over memory buffers (`make bench`; docs/performance.md).
 *
 *   pair_bench [--pki DIR] [--seconds S] [--rounds R] [--quick] [--write FILE]
 *
 * Both libraries get the same test PKI (ECDSA P-256 leaf, P-256 intermediate
 * and root from tools/gen-pki.sh), TLS 1.3 only, TLS_AES_128_GCM_SHA256 for
 * the handshakes, X25519, one ticket per handshake, and a client that
 * verifies the chain and the name "localhost".  The transport is the same
 * for both: a byte FIFO per direction, written and read with one copy each
 * way (ferrule: ferrule_conn_take / ferrule_conn_feed; libssl: a BIO method
 * over the same FIFO).
 *
 * Each round runs every phase (full, resumed, 0-RTT resumed handshakes; bulk
 * per suite at two write sizes) for both libraries and for the primitive
 * floor (the public-key and AEAD operations alone, see floor_t), the order
 * rotating, for --seconds of process CPU time (CLOCK_PROCESS_CPUTIME_ID) per
 * phase and participant; the table gives the median over the rounds.  Heap
 * bytes are what the connections hold once established, idle (the ticket
 * read) and active (make_active: a record in flight), counted the same way
 * for both: libcrypto's and libssl's allocations through
 * CRYPTO_set_mem_functions, ferrule's own through its ferrule_allocator.
 * The scaling section (bench/scaling.py) is separate.
 * libssl is used here only, never by the library.
 */
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include <unistd.h>

#include "bench_pairs.h"

#define MEM_PAIRS 64
#define EARLY_MAX 16384    /* max_early_data_size of the servers */
#define ACTIVE_WRITE 16384 /* the write in flight on an "active" connection */

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char g_pki[512] = "build/pki";

static const char *pki(const char *file) {
    static char bufs[4][640];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof(bufs[0]), "%s/%s", g_pki, file);
    return b;
}

static ferrule_config *fr_config(int server, int suite) {
    return fr_config_files(server, suite, pki("ecdsa-p256.chain.pem"), pki("ecdsa-p256.key"), pki("root.pem"));
}

static SSL_CTX *os_config(int server, int suite) {
    return os_config_files(server, suite, pki("ecdsa-p256.chain.pem"), pki("ecdsa-p256.key"), pki("root.pem"));
}

/* ---- the two libraries behind one interface ------------------------------------ */

typedef struct lib {
    const char *name;
    ferrule_config *fc[NSUITES], *fs[NSUITES];
    SSL_CTX *oc[NSUITES], *os[NSUITES];
    ferrule_config *fec, *fes; /* 0-RTT enabled (first suite) */
    SSL_CTX *oec, *oes;
    uint8_t sess[SESS_CAP]; /* ferrule: the newest session blob */
    size_t sess_len;
    uint8_t esess[SESS_CAP]; /* ferrule: the newest 0-RTT-capable session */
    size_t esess_len;
    SSL_SESSION *osess;  /* OpenSSL: the newest session */
    SSL_SESSION *oesess; /* OpenSSL: the newest 0-RTT-capable session */
    fr_pair fp[NSUITES];  /* established pairs for bulk */
    os_pair op[NSUITES];
} lib;

static lib g_fr = {.name = "ferrule"}, g_os = {.name = "OpenSSL"};

static int is_fr(const lib *l) { return l == &g_fr; }

static void lib_setup(lib *l) {
    if (is_fr(l)) {
        l->fec = fr_config(0, 0);
        l->fes = fr_config(1, 0);
        ferrule_early_data_options o;
        memset(&o, 0, sizeof(o));
        o.struct_size = sizeof(o);
        o.max_early_data_size = EARLY_MAX;
        if (ferrule_config_set_early_data(l->fec, NULL) != FERRULE_OK ||
            ferrule_config_set_early_data(l->fes, &o) != FERRULE_OK)
            die("ferrule early data config");
    } else {
        l->oec = os_config(0, 0);
        l->oes = os_config(1, 0);
        /* libssl's anti-replay (single-use tickets) needs its server-side
         * session cache; ferrule's server has its own (a replay store). */
        SSL_CTX_set_session_cache_mode(l->oes, SSL_SESS_CACHE_SERVER);
        if (!SSL_CTX_set_max_early_data(l->oes, EARLY_MAX)) die("OpenSSL early data config");
    }
    for (int i = 0; i < NSUITES; i++) {
        if (is_fr(l)) {
            l->fc[i] = fr_config(0, i);
            l->fs[i] = fr_config(1, i);
            fifo_init(&l->fp[i].c2s);
            fifo_init(&l->fp[i].s2c);
        } else {
            l->oc[i] = os_config(0, i);
            l->os[i] = os_config(1, i);
            fifo_init(&l->op[i].c2s);
            fifo_init(&l->op[i].s2c);
        }
    }
}

/* Bulk pairs are established once per phase, outside the timing. */
static void lib_bulk_open(lib *l, int suite) {
    if (is_fr(l)) {
        fr_pair_new(&l->fp[suite], l->fc[suite], l->fs[suite]);
        fr_handshake(&l->fp[suite], NULL, NULL, 0);
        if (ferrule_conn_pending_output(l->fp[suite].s) > 0) fr_move(l->fp[suite].s, l->fp[suite].c, &l->fp[suite].s2c);
    } else {
        os_pair_new(&l->op[suite], l->oc[suite], l->os[suite]);
        os_handshake(&l->op[suite], NULL, 0);
    }
}

static void lib_bulk_close(lib *l, int suite) {
    if (is_fr(l))
        fr_pair_free(&l->fp[suite]);
    else
        os_pair_free(&l->op[suite]);
}

static fr_pair g_frp; /* the handshake phases' pair (its FIFOs reused) */
static os_pair g_osp;

enum { HS_FULL, HS_RESUMED, HS_EARLY, HS_EARLY_FIRST };


/* One handshake pair: new connections, handshake, ticket read, freed.
 * HS_EARLY_FIRST: a full handshake on the 0-RTT configs, for a first
 * 0-RTT-capable session. */
static void lib_handshake(lib *l, int mode) {
    int early = mode == HS_EARLY || mode == HS_EARLY_FIRST;
    if (is_fr(l)) {
        fr_pair_new(&g_frp, early ? l->fec : l->fc[0], early ? l->fes : l->fs[0]);
        if (mode == HS_RESUMED && ferrule_conn_set_session(g_frp.c, l->sess, l->sess_len) != FERRULE_OK)
            die("ferrule_conn_set_session");
        if (mode == HS_EARLY && ferrule_conn_set_session(g_frp.c, l->esess, l->esess_len) != FERRULE_OK)
            die("ferrule_conn_set_session");
        if (mode == HS_EARLY)
            fr_handshake_early(&g_frp, g_plain, l->esess, &l->esess_len);
        else if (mode == HS_EARLY_FIRST)
            fr_handshake(&g_frp, l->esess, &l->esess_len, 0);
        else
            fr_handshake(&g_frp, l->sess, &l->sess_len, mode == HS_RESUMED);
        fr_pair_free(&g_frp);
    } else {
        os_pair_new(&g_osp, early ? l->oec : l->oc[0], early ? l->oes : l->os[0]);
        if (mode == HS_RESUMED && !SSL_set_session(g_osp.c, l->osess)) die("SSL_set_session");
        if (mode == HS_EARLY && !SSL_set_session(g_osp.c, l->oesess)) die("SSL_set_session");
        if (mode == HS_EARLY)
            os_handshake_early(&g_osp, g_plain, &l->oesess);
        else if (mode == HS_EARLY_FIRST)
            os_handshake(&g_osp, &l->oesess, 0);
        else
            os_handshake(&g_osp, &l->osess, mode == HS_RESUMED);
        os_pair_free(&g_osp);
    }
}

/* One write of `size` bytes by the client, carried over and read by the server. */
static void lib_bulk_write(lib *l, int suite, size_t size) {
    if (is_fr(l))
        fr_write_read(&l->fp[suite], size);
    else
        os_write_read(&l->op[suite], size);
}

/* ---- the primitive floor --------------------------------------------------------- */

/* The cost of the public-key and AEAD operations a handshake or record
 * needs, alone, with the same EVP calls a TLS stack makes (each key pair
 * generated, each peer share imported from its raw bytes, each signature
 * hashed and checked over its real input):
 *   full pair:    2 X25519 key generations + 2 derivations, 1 ECDSA P-256
 *                 signature (the server's CertificateVerify) and 3
 *                 verifications by the client: the CertificateVerify with the
 *                 leaf's key, the leaf's signature with the intermediate's
 *                 key, the intermediate's with the root's (the root is the
 *                 trust anchor: its self-signature is not checked);
 *   resumed pair: the 4 X25519 operations (psk_dhe_ke);
 *   0-RTT pair:   the same, plus one AEAD seal and open of the early record;
 *   bulk:         one AEAD seal and open per record (the record's inner
 *                 plaintext, its 5-byte header as additional data). */
typedef struct floor_t {
    EVP_PKEY *leaf_key;                  /* the server's signing key */
    EVP_PKEY *leaf_pub, *inter_pub, *root_pub;
    uint8_t *leaf_tbs, *inter_tbs;       /* what the chain's signatures cover */
    int leaf_tbs_len, inter_tbs_len;
    uint8_t leaf_sig[80], inter_sig[80];
    size_t leaf_sig_len, inter_sig_len;
    const EVP_MD *sha256;
    EVP_MD_CTX *md;
    EVP_CIPHER_CTX *seal[NSUITES], *open[NSUITES];
    uint8_t ct[16384 + 256], pt[16384 + 256];
} floor_t;

static floor_t g_floor;

static X509 *read_cert(const char *path) {
    FILE *f = fopen(path, "r");
    X509 *x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f != NULL) fclose(f);
    if (x == NULL) die("floor: cannot read a certificate");
    return x;
}

/* The to-be-signed bytes and the signature of `x`. */
static void cert_signed(X509 *x, uint8_t **tbs, int *tbs_len, uint8_t *sig, size_t *sig_len) {
    const ASN1_BIT_STRING *bits = NULL;
    X509_get0_signature(&bits, NULL, x);
    *tbs = NULL;
    *tbs_len = i2d_re_X509_tbs(x, tbs);
    if (*tbs_len <= 0 || bits == NULL || (size_t)ASN1_STRING_length(bits) > 80) die("floor: certificate");
    *sig_len = (size_t)ASN1_STRING_length(bits);
    memcpy(sig, ASN1_STRING_get0_data(bits), *sig_len);
}

static void floor_setup(floor_t *f) {
    FILE *kf = fopen(pki("ecdsa-p256.key"), "r");
    f->leaf_key = kf != NULL ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
    if (kf != NULL) fclose(kf);
    X509 *leaf = read_cert(pki("ecdsa-p256.leaf.pem")), *inter = read_cert(pki("inter.pem")),
         *root = read_cert(pki("root.pem"));
    f->leaf_pub = X509_get_pubkey(leaf);
    f->inter_pub = X509_get_pubkey(inter);
    f->root_pub = X509_get_pubkey(root);
    if (f->leaf_key == NULL || f->leaf_pub == NULL || f->inter_pub == NULL || f->root_pub == NULL)
        die("floor: keys");
    cert_signed(leaf, &f->leaf_tbs, &f->leaf_tbs_len, f->leaf_sig, &f->leaf_sig_len);
    cert_signed(inter, &f->inter_tbs, &f->inter_tbs_len, f->inter_sig, &f->inter_sig_len);
    X509_free(leaf);
    X509_free(inter);
    X509_free(root);
    f->sha256 = EVP_sha256();
    f->md = EVP_MD_CTX_new();
    if (f->md == NULL || sodium_init() < 0) die("floor: contexts");
    const EVP_CIPHER *ciphers[NSUITES] = {EVP_aes_128_gcm(), EVP_aes_256_gcm(), EVP_chacha20_poly1305()};
    uint8_t key[32] = {1}, iv[12] = {2};
    for (int i = 0; i < NSUITES; i++) {
        f->seal[i] = EVP_CIPHER_CTX_new();
        f->open[i] = EVP_CIPHER_CTX_new();
        if (f->seal[i] == NULL || f->open[i] == NULL ||
            !EVP_EncryptInit_ex(f->seal[i], ciphers[i], NULL, key, iv) ||
            !EVP_DecryptInit_ex(f->open[i], ciphers[i], NULL, key, iv))
            die("floor: AEAD");
    }
}

static void floor_free(floor_t *f) {
    EVP_PKEY_free(f->leaf_key);
    EVP_PKEY_free(f->leaf_pub);
    EVP_PKEY_free(f->inter_pub);
    EVP_PKEY_free(f->root_pub);
    OPENSSL_free(f->leaf_tbs);
    OPENSSL_free(f->inter_tbs);
    EVP_MD_CTX_free(f->md);
    for (int i = 0; i < NSUITES; i++) {
        EVP_CIPHER_CTX_free(f->seal[i]);
        EVP_CIPHER_CTX_free(f->open[i]);
    }
}

/* Both sides' X25519 work: two key pairs (the private scalar from the
 * DRBG, the public share computed) and the two shared secrets.  Through
 * libsodium, the X25519 ferrule uses (docs/crypto-choices.md): it is the
 * cheapest of the two libraries, so the floor is that of the faster
 * primitive; libcrypto's EVP X25519, which libssl uses, costs 37-45% more
 * per operation. */
static void floor_x25519_pair(floor_t *f) {
    (void)f;
    uint8_t priv[2][32], pub[2][32], secret[32];
    for (int i = 0; i < 2; i++)
        if (RAND_bytes(priv[i], 32) != 1 || crypto_scalarmult_base(pub[i], priv[i]) != 0) die("floor: keygen");
    for (int i = 0; i < 2; i++)
        if (crypto_scalarmult(secret, priv[i], pub[1 - i]) != 0) die("floor: derive");
    OPENSSL_cleanse(priv, sizeof(priv));
    OPENSSL_cleanse(secret, sizeof(secret));
}

static void floor_verify(floor_t *f, EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t *sig,
                         size_t sig_len) {
    if (EVP_MD_CTX_reset(f->md) != 1 || EVP_DigestVerifyInit(f->md, NULL, f->sha256, NULL, key) != 1 ||
        EVP_DigestVerify(f->md, sig, sig_len, msg, len) != 1)
        die("floor: verify");
}

/* The server's CertificateVerify (RFC 8446 §4.4.3: 64 spaces, the context
 * string, a zero byte, the transcript hash), signed and checked, then the
 * chain's two signatures checked. */
static void floor_signatures(floor_t *f) {
    uint8_t content[130], sig[80];
    memset(content, ' ', 64);
    memcpy(content + 64, "TLS 1.3, server CertificateVerify", 33);
    content[97] = 0;
    memset(content + 98, 0x42, 32);
    size_t sig_len = sizeof(sig);
    if (EVP_MD_CTX_reset(f->md) != 1 || EVP_DigestSignInit(f->md, NULL, f->sha256, NULL, f->leaf_key) != 1 ||
        EVP_DigestSign(f->md, sig, &sig_len, content, sizeof(content)) != 1)
        die("floor: sign");
    floor_verify(f, f->leaf_pub, content, sizeof(content), sig, sig_len);
    floor_verify(f, f->inter_pub, f->leaf_tbs, (size_t)f->leaf_tbs_len, f->leaf_sig, f->leaf_sig_len);
    floor_verify(f, f->root_pub, f->inter_tbs, (size_t)f->inter_tbs_len, f->inter_sig, f->inter_sig_len);
}

/* One record of `len` plaintext bytes sealed and opened (TLS 1.3 record:
 * content type appended, 16-byte tag, the header as additional data). */
static void floor_record(floor_t *f, int suite, size_t len) {
    static uint64_t seq;
    uint8_t iv[12] = {0}, hdr[5] = {23, 3, 3, 0, 0}, tag[16];
    uint64_t n = ++seq;
    memcpy(iv + 4, &n, sizeof(n));
    size_t inner = len + 1;
    hdr[3] = (uint8_t)((inner + 16) >> 8);
    hdr[4] = (uint8_t)(inner + 16);
    const uint8_t type = 23;
    int out = 0, out2 = 0, fin = 0;
    EVP_CIPHER_CTX *c = f->seal[suite];
    /* The data and its content type straight from where they are: no copy. */
    if (!EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv) || !EVP_EncryptUpdate(c, NULL, &out, hdr, 5) ||
        !EVP_EncryptUpdate(c, f->ct, &out, g_plain, (int)len) ||
        !EVP_EncryptUpdate(c, f->ct + out, &out2, &type, 1) ||
        !EVP_EncryptFinal_ex(c, f->ct + out + out2, &fin) || !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag))
        die("floor: seal");
    c = f->open[suite];
    if (!EVP_DecryptInit_ex(c, NULL, NULL, NULL, iv) || !EVP_DecryptUpdate(c, NULL, &out, hdr, 5) ||
        !EVP_DecryptUpdate(c, f->pt, &out, f->ct, (int)inner) ||
        !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, tag) || !EVP_DecryptFinal_ex(c, f->pt + out, &fin))
        die("floor: open");
}

static void floor_handshake(floor_t *f, int mode) {
    floor_x25519_pair(f);
    if (mode == HS_FULL) floor_signatures(f);
    if (mode == HS_EARLY) floor_record(f, 0, EARLY_LEN);
}

/* ---- phases -------------------------------------------------------------------- */

enum { PH_FULL, PH_RESUMED, PH_EARLY, PH_BULK0, PH_COUNT = PH_BULK0 + 2 * NSUITES };

static const size_t BULK_SIZES[2] = {16384, 1024};

typedef struct samples {
    double *v;
    size_t n, cap;
} samples;

static void sample_add(samples *s, double x) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
        if (s->v == NULL) die("out of memory");
    }
    s->v[s->n++] = x;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(samples *s, double q) {
    if (s->n == 0) return 0;
    qsort(s->v, s->n, sizeof(*s->v), cmp_double);
    size_t i = (size_t)(q * (double)(s->n - 1) + 0.5);
    return s->v[i];
}

static double g_seconds = 0.4;
static long g_min_ops; /* --quick: a fixed count instead of a time budget */

/* Who runs a phase: the two libraries, and the primitives alone. */
enum { P_FR, P_OS, P_FLOOR, NPART };
static lib *const g_libs[2] = {&g_fr, &g_os};

static void phase_op(int who, int ph, int suite, size_t size) {
    int mode = ph == PH_FULL ? HS_FULL : ph == PH_RESUMED ? HS_RESUMED : HS_EARLY;
    if (ph >= PH_BULK0) {
        if (who == P_FLOOR)
            floor_record(&g_floor, suite, size);
        else
            lib_bulk_write(g_libs[who], suite, size);
    } else if (who == P_FLOOR) {
        floor_handshake(&g_floor, mode);
    } else {
        lib_handshake(g_libs[who], mode);
    }
}

/* Run a phase for the budget; returns operations (or bytes) per CPU second.
 * Full handshakes are timed one by one for the latency percentiles. */
static double run_phase(int who, int ph, samples *lat) {
    int bulk = ph >= PH_BULK0, suite = bulk ? (ph - PH_BULK0) / 2 : 0;
    size_t size = bulk ? BULK_SIZES[(ph - PH_BULK0) % 2] : 1;
    lib *l = who == P_FLOOR ? NULL : g_libs[who];
    if (l != NULL && ph == PH_RESUMED) lib_handshake(l, HS_FULL); /* a fresh session to start from */
    if (l != NULL && ph == PH_EARLY) lib_handshake(l, HS_EARLY_FIRST);
    if (l != NULL && bulk) lib_bulk_open(l, suite);
    int batch = bulk ? 16 : 1;
    long ops = 0;
    double t0 = cpu_now(), t = t0;
    while (g_min_ops ? ops < g_min_ops : t - t0 < g_seconds) {
        double a = t;
        for (int i = 0; i < batch; i++) phase_op(who, ph, suite, size);
        t = cpu_now();
        if (ph == PH_FULL && lat != NULL) sample_add(lat, t - a);
        ops += batch;
    }
    if (l != NULL && bulk) lib_bulk_close(l, suite);
    return (double)ops * (double)size / (t - t0);
}

/* An "active" pair, mid-transfer both ways: the client has sent one full
 * record of ACTIVE_WRITE bytes and written a second one that waits in it to
 * be sent (the transport takes nothing more); the server has received the
 * first half of the first record's bytes, which it cannot open yet. */
static void make_active(lib *l, fr_pair *fp, os_pair *op) {
    size_t n = 0;
    if (is_fr(l)) {
        for (size_t off = 0; off < ACTIVE_WRITE; off += n) {
            int st = ferrule_conn_write(fp->c, g_plain + off, ACTIVE_WRITE - off, &n);
            if (st != FERRULE_OK && st != FERRULE_WANT_WRITE) die("ferrule write");
            fr_take_all(fp->c, &fp->c2s);
        }
        size_t half = fp->c2s.len / 2;
        if (ferrule_conn_feed(fp->s, fp->c2s.buf + fp->c2s.off, half, &n) != FERRULE_OK || n != half)
            die("ferrule feed");
        if (ferrule_conn_read(fp->s, g_sink, sizeof(g_sink), &n) != FERRULE_WANT_READ)
            die("ferrule: half a record read");
        fp->c2s.off = fp->c2s.len = 0; /* the rest is still "on the wire" */
        int st = ferrule_conn_write(fp->c, g_plain, ACTIVE_WRITE, &n);
        if ((st != FERRULE_OK && st != FERRULE_WANT_WRITE) || ferrule_conn_pending_output(fp->c) == 0)
            die("ferrule: nothing waiting to be sent");
    } else {
        if (!SSL_write_ex(op->c, g_plain, ACTIVE_WRITE, &n) || n != ACTIVE_WRITE) die("OpenSSL write");
        op->c2s.len /= 2; /* the rest is still "on the wire" */
        if (SSL_read_ex(op->s, g_sink, sizeof(g_sink), &n) || op->c2s.len != 0) die("OpenSSL: half a record read");
        os_ok(op->s, 0);
        op->c2s.off = 0;
        op->c2s.blocked = 1; /* libssl keeps the record in its write buffer */
        if (SSL_write_ex(op->c, g_plain, ACTIVE_WRITE, &n) || SSL_get_error(op->c, 0) != SSL_ERROR_WANT_WRITE)
            die("OpenSSL: the second write did not wait");
    }
}

/* Heap bytes per established connection, client and server: idle (the
 * ticket read) or active (make_active). */
static void heap_per_conn(lib *l, int pairs, int active, double *client, double *server) {
    fr_pair *fp = calloc((size_t)pairs, sizeof(*fp));
    os_pair *op = calloc((size_t)pairs, sizeof(*op));
    if (fp == NULL || op == NULL) die("out of memory");
    /* The BIO objects are the transport, not the connection: subtract them. */
    long b0 = heap_live();
    BIO *probe = bio_fifo(&op[0].c2s);
    long bio_bytes = heap_live() - b0;
    BIO_free(probe);
    long base = heap_live();
    for (int i = 0; i < pairs; i++) {
        if (is_fr(l)) {
            fifo_init(&fp[i].c2s);
            fifo_init(&fp[i].s2c);
            fr_pair_new(&fp[i], l->fc[0], l->fs[0]);
            fr_handshake(&fp[i], NULL, NULL, 0);
        } else {
            fifo_init(&op[i].c2s);
            fifo_init(&op[i].s2c);
            os_pair_new(&op[i], l->oc[0], l->os[0]);
            os_handshake(&op[i], NULL, 0);
        }
        if (active) make_active(l, &fp[i], &op[i]);
    }
    long all = heap_live() - base - (is_fr(l) ? 0 : 4 * bio_bytes * pairs);
    long before_servers = heap_live();
    for (int i = 0; i < pairs; i++) {
        if (is_fr(l))
            ferrule_conn_free(fp[i].s);
        else
            SSL_free(op[i].s);
    }
    long srv = before_servers - heap_live() - (is_fr(l) ? 0 : 2 * bio_bytes * pairs);
    for (int i = 0; i < pairs; i++) {
        if (is_fr(l)) {
            ferrule_conn_free(fp[i].c);
            fifo_done(&fp[i].c2s);
            fifo_done(&fp[i].s2c);
        } else {
            SSL_free(op[i].c);
            fifo_done(&op[i].c2s);
            fifo_done(&op[i].s2c);
        }
    }
    *server = (double)srv / pairs;
    *client = (double)(all - srv) / pairs;
    free(fp);
    free(op);
}

/* ---- report ---------------------------------------------------------------------- */

static int cmp_med(const void *a, const void *b) { return cmp_double(a, b); }

static double median(double *v, int n) {
    double tmp[64];
    memcpy(tmp, v, (size_t)n * sizeof(*v));
    qsort(tmp, (size_t)n, sizeof(*tmp), cmp_med);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

typedef struct row {
    char label[96];
    double fr, os, fl; /* fl < 0: no floor for this measure */
    const char *fmt;   /* printf format for the absolute figures */
} row;

static int g_nrows;
static row g_rows[40];

static void add_row(const char *label, const char *fmt, double fr, double os, double fl) {
    row *r = &g_rows[g_nrows++];
    snprintf(r->label, sizeof(r->label), "%s", label);
    r->fmt = fmt;
    r->fr = fr;
    r->os = os;
    r->fl = fl;
}

static void ratio(char *out, size_t cap, double a, double b) {
    if (b > 0)
        snprintf(out, cap, "%.2f", a / b);
    else
        snprintf(out, cap, "-");
}

static void print_table(FILE *f) {
    fprintf(f, "| measure | ferrule | OpenSSL | primitive floor | ferrule / OpenSSL | ferrule / floor | "
               "OpenSSL / floor |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int i = 0; i < g_nrows; i++) {
        const row *r = &g_rows[i];
        char a[32], b[32], c[32], q1[16], q2[16], q3[16];
        snprintf(a, sizeof(a), r->fmt, r->fr);
        snprintf(b, sizeof(b), r->fmt, r->os);
        if (r->fl >= 0)
            snprintf(c, sizeof(c), r->fmt, r->fl);
        else
            snprintf(c, sizeof(c), "-");
        ratio(q1, sizeof(q1), r->fr, r->os);
        ratio(q2, sizeof(q2), r->fr, r->fl);
        ratio(q3, sizeof(q3), r->os, r->fl);
        fprintf(f, "| %s | %s | %s | %s | %s | %s | %s |\n", r->label, a, b, c, q1, q2, q3);
    }
}

static void cpu_model(char *out, size_t cap) {
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL) return;
    char line[512];
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c != NULL) {
                c += 2;
                c[strcspn(c, "\n")] = '\0';
                snprintf(out, cap, "%s", c);
            }
            break;
        }
    }
    fclose(f);
}

#define SECTION "## make bench: ferrule vs libssl"

/* Replace (or append) our section of `path`, leaving every other section alone. */
static void write_section(const char *path, int rounds) {
    FILE *f = fopen(path, "r");
    char *doc = NULL;
    size_t len = 0;
    if (f != NULL) {
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        fseek(f, 0, SEEK_SET);
        doc = calloc(1, (size_t)sz + 1);
        if (doc == NULL || fread(doc, 1, (size_t)sz, f) != (size_t)sz) die("cannot read the report file");
        len = (size_t)sz;
        fclose(f);
    }
    size_t head = len, tail = len;
    char *start = doc != NULL ? strstr(doc, "\n" SECTION "\n") : NULL;
    if (start != NULL) {
        head = (size_t)(start - doc) + 1;
        char *next = strstr(start + 1, "\n## ");
        tail = next != NULL ? (size_t)(next - doc) + 1 : len;
    }
    f = fopen(path, "w");
    if (f == NULL) die("cannot write the report file");
    if (head > 0) fwrite(doc, 1, head, f);
    if (head > 0 && doc[head - 1] != '\n') fputc('\n', f);
    if (start == NULL && head > 0) fputc('\n', f);
    char cpu[256];
    cpu_model(cpu, sizeof(cpu));
    fprintf(f, SECTION "\n\n");
    fprintf(f, "`make bench` (bench/pair_bench.c): ferrule and OpenSSL's libssl in one process over\n"
               "memory buffers, the same work for both: the test PKI (ECDSA P-256 leaf under a P-256\n"
               "root via an intermediate), TLS 1.3, TLS_AES_128_GCM_SHA256 for the handshakes, X25519,\n"
               "one ticket, the client verifying the chain and the name. A handshake pair is both\n"
               "connections created, the handshake, the client reading its ticket, both freed;\n"
               "resumed handshakes are psk_dhe_ke, each with the ticket of the one before. 0-RTT: a\n"
               "resumed handshake whose client sends %d bytes of early data with its ClientHello\n"
               "(ferrule_conn_write_early_data / SSL_write_early_data) and whose server reads and\n"
               "accepts them before the handshake ends (ferrule_conn_read_early_data /\n"
               "SSL_read_early_data); each ticket carries 0-RTT once, both servers with anti-replay on\n"
               "(ferrule: its built-in replay store; libssl: its server session cache, which makes its\n"
               "tickets single-use). Bulk: the client writes, the server reads (one suite per row).\n"
               "Process CPU time, %d interleaved rounds of %.2f s per phase and participant, medians;\n"
               "latency percentiles are over every full handshake pair of all rounds.\n\n"
               "Primitive floor, measured in the same run, in the same rounds: the public-key and AEAD\n"
               "operations alone, through the same EVP calls, except X25519, taken from libsodium as\n"
               "ferrule does (the cheaper of the two libraries; libcrypto's costs 37-45%% more per\n"
               "operation, docs/crypto-choices.md). Full pair: 2 X25519 key generations, 2\n"
               "derivations, 1 ECDSA P-256 signature (the\n"
               "server's CertificateVerify) and the 3 verifications the client's chain needs: the\n"
               "CertificateVerify with the leaf's key, the leaf's signature with the intermediate's key\n"
               "and the intermediate's with the root's (each hashing its real to-be-signed bytes; the\n"
               "anchor's self-signature is not checked, by either library). Resumed pair: the 4 X25519\n"
               "operations; 0-RTT pair: those plus one AEAD seal and open of the early record. Bulk: one\n"
               "AEAD seal and open per record (a 16 KiB or 1 KiB write is one record). \"x / floor\" is\n"
               "the fraction of the floor's rate a library reaches (1.00 = nothing but the primitives).\n\n"
               "Heap: bytes held per established connection (%d pairs), ferrule's allocator plus\n"
               "libcrypto/libssl through CRYPTO_set_mem_functions for both (each library with its\n"
               "defaults: libssl keeps its record buffers), the transport excluded. Idle: the\n"
               "handshake done and the ticket read. Active, mid-transfer both ways: the client has\n"
               "sent one full record of %d bytes and written a second one that waits in it to be sent\n"
               "(the transport takes nothing more: libssl's BIO says retry), and the server has\n"
               "received the first half of the first record's bytes, which it cannot open yet. The\n"
               "counting hooks stay installed during the timed phases too, for both.\n"
               "Rates: higher is better; bytes and latency: lower (a ratio below 1 is ferrule ahead).\n"
               "Command: `make bench` (here `pair_bench --seconds %.2f --rounds %d`).\n\n",
            EARLY_LEN, rounds, g_seconds, MEM_PAIRS, ACTIVE_WRITE, g_seconds, rounds);
    fprintf(f, "Machine: %ld CPUs (`nproc`), %s; %s.\n\n", sysconf(_SC_NPROCESSORS_ONLN), cpu,
            OpenSSL_version(OPENSSL_VERSION));
    print_table(f);
    if (tail < len) {
        fputc('\n', f);
        fwrite(doc + tail, 1, len - tail, f);
    }
    fclose(f);
    free(doc);
}

static void add_rows(double (*rate)[PH_COUNT][64], int rounds, samples *lat, double mc[2][2], double ms[2][2]) {
    static const char *const HS_LABEL[3] = {"full handshakes / s", "resumed (psk_dhe_ke) handshakes / s",
                                            "0-RTT resumed handshakes (1 KiB early data) / s"};
    for (int ph = PH_FULL; ph < PH_BULK0; ph++)
        add_row(HS_LABEL[ph], "%.0f", median(rate[P_FR][ph], rounds), median(rate[P_OS][ph], rounds),
                median(rate[P_FLOOR][ph], rounds));
    for (int s = 0; s < NSUITES; s++)
        for (int z = 0; z < 2; z++) {
            char label[96];
            int ph = PH_BULK0 + 2 * s + z;
            snprintf(label, sizeof(label), "bulk %s, %zu B writes, MB/s", SUITE_SHORT[s], BULK_SIZES[z]);
            add_row(label, "%.1f", median(rate[P_FR][ph], rounds) / 1e6, median(rate[P_OS][ph], rounds) / 1e6,
                    median(rate[P_FLOOR][ph], rounds) / 1e6);
        }
    add_row("heap bytes per idle client connection", "%.0f", mc[0][0], mc[0][1], -1);
    add_row("heap bytes per idle server connection", "%.0f", ms[0][0], ms[0][1], -1);
    add_row("heap bytes per active client connection (a 16 KiB record waiting)", "%.0f", mc[1][0], mc[1][1], -1);
    add_row("heap bytes per active server connection (half a 16 KiB record in)", "%.0f", ms[1][0], ms[1][1], -1);
    const double qs[3] = {0.50, 0.95, 0.99};
    const char *qn[3] = {"p50", "p95", "p99"};
    for (int i = 0; i < 3; i++) {
        char label[96];
        snprintf(label, sizeof(label), "full handshake pair latency %s, us", qn[i]);
        add_row(label, "%.0f", percentile(&lat[0], qs[i]) * 1e6, percentile(&lat[1], qs[i]) * 1e6, -1);
    }
}

static void cleanup(samples *lat) {
    for (int k = 0; k < 2; k++) {
        lib *l = g_libs[k];
        for (int i = 0; i < NSUITES; i++) {
            if (is_fr(l)) {
                ferrule_config_free(l->fc[i]);
                ferrule_config_free(l->fs[i]);
                fifo_done(&l->fp[i].c2s);
                fifo_done(&l->fp[i].s2c);
            } else {
                SSL_CTX_free(l->oc[i]);
                SSL_CTX_free(l->os[i]);
                fifo_done(&l->op[i].c2s);
                fifo_done(&l->op[i].s2c);
            }
        }
        free(lat[k].v);
    }
    ferrule_config_free(g_fr.fec);
    ferrule_config_free(g_fr.fes);
    SSL_CTX_free(g_os.oec);
    SSL_CTX_free(g_os.oes);
    SSL_SESSION_free(g_os.osess);
    SSL_SESSION_free(g_os.oesess);
    floor_free(&g_floor);
    fifo_done(&g_frp.c2s);
    fifo_done(&g_frp.s2c);
    fifo_done(&g_osp.c2s);
    fifo_done(&g_osp.s2c);
    bench_bio_done();
}

/* ---- main ------------------------------------------------------------------------- */

static void usage(void) {
    fprintf(stderr, "usage: pair_bench [--pki DIR] [--seconds S] [--rounds R] [--quick] [--write FILE]\n");
    exit(2);
}

int main(int argc, char **argv) {
    int rounds = 5, mem_pairs = MEM_PAIRS;
    const char *write_to = NULL;
    const char *env = getenv("FERRULE_TEST_PKI");
    if (env != NULL) snprintf(g_pki, sizeof(g_pki), "%s", env);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--pki") == 0 && i + 1 < argc)
            snprintf(g_pki, sizeof(g_pki), "%s", argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            g_seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--write") == 0 && i + 1 < argc)
            write_to = argv[++i];
        else if (strcmp(argv[i], "--quick") == 0) {
            g_min_ops = 3;
            rounds = 1;
            mem_pairs = 2;
        } else
            usage();
    }
    /* --quick is a smoke run: its figures are not worth a report. */
    if (rounds < 1 || rounds > 64 || g_seconds <= 0 || (g_min_ops && write_to != NULL)) usage();
    if (!bench_hooked()) die("CRYPTO_set_mem_functions failed: heap figures would be wrong");

    bench_bio_init();
    memset(g_plain, 'x', sizeof(g_plain));
    fifo_init(&g_frp.c2s);
    fifo_init(&g_frp.s2c);
    fifo_init(&g_osp.c2s);
    fifo_init(&g_osp.s2c);
    floor_setup(&g_floor);
    for (int k = 0; k < 2; k++) {
        lib_setup(g_libs[k]);
        lib_handshake(g_libs[k], HS_FULL); /* warm-up: lazy initialisation in either library */
        lib_handshake(g_libs[k], HS_RESUMED);
        lib_handshake(g_libs[k], HS_EARLY_FIRST);
        lib_handshake(g_libs[k], HS_EARLY);
    }
    floor_handshake(&g_floor, HS_FULL);

    static double rate[NPART][PH_COUNT][64];
    samples lat[2] = {{0}, {0}};
    for (int r = 0; r < rounds; r++) {
        for (int ph = 0; ph < PH_COUNT; ph++) {
            for (int j = 0; j < NPART; j++) {
                int k = (r + ph + j) % NPART; /* rotate who goes first */
                rate[k][ph][r] = run_phase(k, ph, k == P_FLOOR ? NULL : &lat[k]);
            }
        }
        fprintf(stderr, "round %d/%d done\n", r + 1, rounds);
    }
    double mc[2][2], ms[2][2]; /* [idle, active][library] */
    for (int act = 0; act < 2; act++)
        for (int k = 0; k < 2; k++) heap_per_conn(g_libs[k], mem_pairs, act, &mc[act][k], &ms[act][k]);
    add_rows(rate, rounds, lat, mc, ms);
    print_table(stdout);
    if (write_to != NULL) write_section(write_to, rounds);
    cleanup(lat);
    return 0;
}
