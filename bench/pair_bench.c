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
 * Each round runs every phase for both libraries, the order alternating, for
 * --seconds of process CPU time (CLOCK_PROCESS_CPUTIME_ID) per phase and
 * library; the table gives the median over the rounds.  Heap bytes are what
 * the connections hold once established and idle (the ticket read), counted
 * the same way for both: libcrypto's and libssl's allocations through
 * CRYPTO_set_mem_functions, ferrule's own through its ferrule_allocator.
 * libssl is used here only, never by the library.
 */
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ferrule.h"

#define HDR 16 /* size header in front of every counted block (keeps 16-byte alignment) */
#define FIFO_CAP (1u << 17)
#define SESS_CAP 16384
#define MEM_PAIRS 64

/* ---- allocation counting ---------------------------------------------------- */

/* Live bytes requested through each route (single-threaded program). */
static long g_crypto_live; /* libcrypto + libssl, either library's use */
static long g_ferrule_live; /* ferrule_allocator */

static void *counted_malloc(long *live, size_t n) {
    uint8_t *p = malloc(n + HDR);
    if (p == NULL) return NULL;
    memcpy(p, &n, sizeof(n));
    *live += (long)n;
    return p + HDR;
}

static void counted_free(long *live, void *ptr) {
    if (ptr == NULL) return;
    uint8_t *p = (uint8_t *)ptr - HDR;
    size_t n;
    memcpy(&n, p, sizeof(n));
    *live -= (long)n;
    free(p);
}

static void *crypto_malloc(size_t n, const char *file, int line) {
    (void)file;
    (void)line;
    return counted_malloc(&g_crypto_live, n);
}

static void crypto_free(void *ptr, const char *file, int line) {
    (void)file;
    (void)line;
    counted_free(&g_crypto_live, ptr);
}

static void *crypto_realloc(void *ptr, size_t n, const char *file, int line) {
    if (ptr == NULL) return crypto_malloc(n, file, line);
    if (n == 0) {
        crypto_free(ptr, file, line);
        return NULL;
    }
    uint8_t *q = crypto_malloc(n, file, line);
    if (q == NULL) return NULL;
    size_t old;
    memcpy(&old, (uint8_t *)ptr - HDR, sizeof(old));
    memcpy(q, ptr, old < n ? old : n);
    crypto_free(ptr, file, line);
    return q;
}

static int g_hooked;

/* Only possible before libcrypto's first allocation, hence a constructor. */
__attribute__((constructor)) static void hook_libcrypto(void) {
    g_hooked = CRYPTO_set_mem_functions(crypto_malloc, crypto_realloc, crypto_free);
}

static void *fr_alloc(void *ctx, size_t n) { return counted_malloc(ctx, n); }
static void fr_free(void *ctx, void *ptr, size_t n) {
    (void)n;
    counted_free(ctx, ptr);
}

static long heap_live(void) { return g_crypto_live + g_ferrule_live; }

/* ---- common -------------------------------------------------------------------- */

static void die(const char *what) {
    fprintf(stderr, "pair_bench: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

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

/* One direction of the transport. */
typedef struct fifo {
    uint8_t *buf;
    size_t off, len;
} fifo;

static void fifo_init(fifo *q) {
    q->buf = malloc(FIFO_CAP); /* plain malloc: the transport is not counted */
    if (q->buf == NULL) die("out of memory");
    q->off = q->len = 0;
}

static void fifo_done(fifo *q) { free(q->buf); }

/* Room at the end, moving the unread bytes to the front when needed. */
static uint8_t *fifo_space(fifo *q, size_t *cap) {
    if (q->off > 0) {
        memmove(q->buf, q->buf + q->off, q->len);
        q->off = 0;
    }
    *cap = FIFO_CAP - q->len;
    return q->buf + q->len;
}

/* The suites of the bulk phases; the handshakes use the first. */
static const char *const SUITES[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                     "TLS_CHACHA20_POLY1305_SHA256"};
static const char *const SUITE_SHORT[] = {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};
#define NSUITES 3

/* ---- ferrule side ------------------------------------------------------------ */

typedef struct fr_pair {
    ferrule_conn *c, *s;
    fifo c2s, s2c;
} fr_pair;

static ferrule_config *fr_config(int server, int suite) {
    ferrule_allocator a;
    memset(&a, 0, sizeof(a));
    a.struct_size = sizeof(a);
    a.alloc = fr_alloc;
    a.free = fr_free;
    a.ctx = &g_ferrule_live;
    ferrule_config *cfg = NULL;
    uint16_t s = 0, g = FERRULE_GROUP_X25519;
    if (ferrule_config_new(&cfg, server ? FERRULE_ROLE_SERVER : FERRULE_ROLE_CLIENT, &a) != FERRULE_OK ||
        ferrule_cipher_suite_from_name(SUITES[suite], &s) != FERRULE_OK ||
        ferrule_config_set_cipher_suites(cfg, &s, 1) != FERRULE_OK ||
        ferrule_config_set_groups(cfg, &g, 1) != FERRULE_OK)
        die("ferrule config");
    if (server) {
        if (ferrule_config_add_cert_chain_file(cfg, pki("ecdsa-p256.chain.pem"), pki("ecdsa-p256.key")) !=
                FERRULE_OK ||
            ferrule_config_set_tickets(cfg, 1) != FERRULE_OK)
            die("ferrule server config (is the PKI there? --pki DIR)");
    } else if (ferrule_config_add_trust_file(cfg, pki("root.pem")) != FERRULE_OK) {
        die("ferrule client config (is the PKI there? --pki DIR)");
    }
    return cfg;
}

/* Everything `from` has to send goes into q; as much of q as `to` takes goes in. */
static void fr_move(ferrule_conn *from, ferrule_conn *to, fifo *q) {
    while (ferrule_conn_pending_output(from) > 0) {
        size_t cap, n = 0;
        uint8_t *p = fifo_space(q, &cap);
        if (cap == 0 || ferrule_conn_take(from, p, cap, &n) != FERRULE_OK || n == 0) break;
        q->len += n;
    }
    if (q->len > 0) {
        size_t n = 0;
        if (ferrule_conn_feed(to, q->buf + q->off, q->len, &n) != FERRULE_OK) die("ferrule feed");
        q->off += n;
        q->len -= n;
    }
}

static void fr_pair_new(fr_pair *p, ferrule_config *cc, ferrule_config *sc) {
    ferrule_conn_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = sizeof(o);
    o.server_name = "localhost";
    if (ferrule_conn_new(&p->c, cc, &o) != FERRULE_OK || ferrule_conn_new(&p->s, sc, NULL) != FERRULE_OK)
        die("ferrule_conn_new");
    p->c2s.off = p->c2s.len = p->s2c.off = p->s2c.len = 0;
}

static void fr_pair_free(fr_pair *p) {
    ferrule_conn_free(p->c);
    ferrule_conn_free(p->s);
    p->c = p->s = NULL;
}

/* Read on `c` until nothing is buffered on its side: ticket or data. */
static size_t fr_drain(ferrule_conn *c, ferrule_conn *peer, fifo *q, uint8_t *buf, size_t cap) {
    size_t total = 0;
    for (;;) {
        size_t n = 0;
        int st = ferrule_conn_read(c, buf, cap, &n);
        if (st == FERRULE_OK) {
            total += n;
            continue;
        }
        if (st != FERRULE_WANT_READ) die("ferrule read");
        if (q->len == 0) return total;
        fr_move(peer, c, q);
    }
}

/* Handshake, then the client reads its ticket and keeps the session blob. */
static void fr_handshake(fr_pair *p, uint8_t *sess, size_t *sess_len, int want_resumed) {
    int c = FERRULE_WANT_READ, s = FERRULE_WANT_READ;
    for (int round = 0; round < 64 && !(c == FERRULE_OK && s == FERRULE_OK); round++) {
        c = ferrule_conn_handshake(p->c);
        fr_move(p->c, p->s, &p->c2s);
        s = ferrule_conn_handshake(p->s);
        fr_move(p->s, p->c, &p->s2c);
        if ((c != FERRULE_OK && c != FERRULE_WANT_READ) || (s != FERRULE_OK && s != FERRULE_WANT_READ))
            die("ferrule handshake failed");
    }
    if (c != FERRULE_OK || s != FERRULE_OK) die("ferrule handshake did not finish");
    uint8_t buf[64];
    fr_drain(p->c, p->s, &p->s2c, buf, sizeof(buf));
    if (ferrule_conn_resumed(p->c) != want_resumed) die("ferrule: unexpected resumption state");
    if (sess != NULL && ferrule_conn_session(p->c, sess, SESS_CAP, sess_len) != FERRULE_OK)
        die("ferrule: no ticket");
}

/* ---- OpenSSL side --------------------------------------------------------------- */

typedef struct os_pair {
    SSL *c, *s;
    fifo c2s, s2c;
} os_pair;

static BIO_METHOD *g_fifo_method;

static int bio_fifo_write(BIO *b, const char *data, int len) {
    fifo *q = BIO_get_data(b);
    size_t cap;
    uint8_t *p = fifo_space(q, &cap);
    BIO_clear_retry_flags(b);
    if (cap == 0) {
        BIO_set_retry_write(b);
        return -1;
    }
    size_t n = (size_t)len < cap ? (size_t)len : cap;
    memcpy(p, data, n);
    q->len += n;
    return (int)n;
}

static int bio_fifo_read(BIO *b, char *out, int len) {
    fifo *q = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (q->len == 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    size_t n = (size_t)len < q->len ? (size_t)len : q->len;
    memcpy(out, q->buf + q->off, n);
    q->off += n;
    q->len -= n;
    return (int)n;
}

static long bio_fifo_ctrl(BIO *b, int cmd, long num, void *ptr) {
    (void)num;
    (void)ptr;
    fifo *q = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_PENDING: return (long)q->len;
    case BIO_CTRL_WPENDING: return 0;
    default: return 0;
    }
}

static BIO *bio_fifo(fifo *q) {
    BIO *b = BIO_new(g_fifo_method);
    if (b == NULL) die("BIO_new");
    BIO_set_data(b, q);
    BIO_set_init(b, 1);
    return b;
}

static SSL_CTX *os_config(int server, int suite) {
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) || !SSL_CTX_set_ciphersuites(ctx, SUITES[suite]) ||
        !SSL_CTX_set1_groups_list(ctx, "X25519"))
        die("OpenSSL config");
    /* Sessions live in the connections and the blobs the bench keeps, as with
     * ferrule: no context-wide cache. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (server) {
        if (SSL_CTX_use_certificate_chain_file(ctx, pki("ecdsa-p256.chain.pem")) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, pki("ecdsa-p256.key"), SSL_FILETYPE_PEM) != 1 ||
            !SSL_CTX_set_num_tickets(ctx, 1))
            die("OpenSSL server config");
    } else {
        if (SSL_CTX_load_verify_locations(ctx, pki("root.pem"), NULL) != 1) die("OpenSSL client config");
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    return ctx;
}

static void os_pair_new(os_pair *p, SSL_CTX *cc, SSL_CTX *sc) {
    p->c = SSL_new(cc);
    p->s = SSL_new(sc);
    if (p->c == NULL || p->s == NULL || !SSL_set_tlsext_host_name(p->c, "localhost") ||
        !SSL_set1_host(p->c, "localhost"))
        die("SSL_new");
    p->c2s.off = p->c2s.len = p->s2c.off = p->s2c.len = 0;
    SSL_set_bio(p->c, bio_fifo(&p->s2c), bio_fifo(&p->c2s));
    SSL_set_bio(p->s, bio_fifo(&p->c2s), bio_fifo(&p->s2c));
    SSL_set_connect_state(p->c);
    SSL_set_accept_state(p->s);
}

static void os_pair_free(os_pair *p) {
    /* Freed without a shutdown, libssl would mark the client's session "bad"
     * (not resumable); ferrule's connections are likewise freed without a
     * close_notify, so mark both as quietly shut down. */
    SSL_set_shutdown(p->c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_set_shutdown(p->s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(p->c);
    SSL_free(p->s);
    p->c = p->s = NULL;
}

static int os_ok(SSL *ssl, int r) {
    if (r > 0) return 1;
    int e = SSL_get_error(ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) die("OpenSSL I/O failed");
    return 0;
}

static size_t os_drain(SSL *ssl, uint8_t *buf, size_t cap) {
    size_t total = 0, n = 0;
    while (SSL_read_ex(ssl, buf, cap, &n)) total += n;
    os_ok(ssl, 0);
    return total;
}

static void os_handshake(os_pair *p, SSL_SESSION **sess, int want_resumed) {
    int c = 0, s = 0;
    for (int round = 0; round < 64 && !(c && s); round++) {
        if (!c) c = os_ok(p->c, SSL_do_handshake(p->c));
        if (!s) s = os_ok(p->s, SSL_do_handshake(p->s));
    }
    if (!c || !s) die("OpenSSL handshake did not finish");
    if (SSL_get_verify_result(p->c) != X509_V_OK) die("OpenSSL: chain not verified");
    uint8_t buf[64];
    os_drain(p->c, buf, sizeof(buf));
    if (SSL_session_reused(p->c) != want_resumed) die("OpenSSL: unexpected resumption state");
    if (sess != NULL) {
        SSL_SESSION_free(*sess);
        *sess = SSL_get1_session(p->c);
        if (*sess == NULL || !SSL_SESSION_has_ticket(*sess)) die("OpenSSL: no ticket");
    }
}

/* ---- the two libraries behind one interface ------------------------------------ */

typedef struct lib {
    const char *name;
    ferrule_config *fc[NSUITES], *fs[NSUITES];
    SSL_CTX *oc[NSUITES], *os[NSUITES];
    uint8_t sess[SESS_CAP]; /* ferrule: the newest session blob */
    size_t sess_len;
    SSL_SESSION *osess; /* OpenSSL: the newest session */
    fr_pair fp[NSUITES];  /* established pairs for bulk */
    os_pair op[NSUITES];
} lib;

static lib g_fr = {.name = "ferrule"}, g_os = {.name = "OpenSSL"};

static int is_fr(const lib *l) { return l == &g_fr; }

static void lib_setup(lib *l) {
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

/* One handshake pair: new connections, handshake, ticket read, freed. */
static void lib_handshake(lib *l, int resume) {
    if (is_fr(l)) {
        fr_pair_new(&g_frp, l->fc[0], l->fs[0]);
        if (resume && ferrule_conn_set_session(g_frp.c, l->sess, l->sess_len) != FERRULE_OK)
            die("ferrule_conn_set_session");
        fr_handshake(&g_frp, l->sess, &l->sess_len, resume);
        fr_pair_free(&g_frp);
    } else {
        os_pair_new(&g_osp, l->oc[0], l->os[0]);
        if (resume && !SSL_set_session(g_osp.c, l->osess)) die("SSL_set_session");
        os_handshake(&g_osp, &l->osess, resume);
        os_pair_free(&g_osp);
    }
}

static uint8_t g_plain[16384], g_sink[16384];

/* One write of `size` bytes by the client, carried over and read by the server. */
static void lib_bulk_write(lib *l, int suite, size_t size) {
    size_t got = 0;
    if (is_fr(l)) {
        fr_pair *p = &l->fp[suite];
        size_t off = 0;
        while (off < size) {
            size_t n = 0;
            int st = ferrule_conn_write(p->c, g_plain + off, size - off, &n);
            if (st != FERRULE_OK && st != FERRULE_WANT_WRITE) die("ferrule write");
            off += n;
            fr_move(p->c, p->s, &p->c2s);
            got += fr_drain(p->s, p->c, &p->c2s, g_sink, sizeof(g_sink));
        }
    } else {
        os_pair *p = &l->op[suite];
        size_t n = 0;
        if (!SSL_write_ex(p->c, g_plain, size, &n) || n != size) die("OpenSSL write");
        got = os_drain(p->s, g_sink, sizeof(g_sink));
    }
    if (got != size) die("bulk: bytes lost");
}

/* ---- phases -------------------------------------------------------------------- */

enum { PH_FULL, PH_RESUMED, PH_BULK0, PH_COUNT = PH_BULK0 + 2 * NSUITES };

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

/* Run a phase for the budget; returns operations (or bytes) per CPU second.
 * Handshakes are timed one by one for the latency percentiles. */
static double run_phase(lib *l, int ph, samples *lat) {
    long ops = 0;
    double t0 = cpu_now(), t = t0;
    if (ph == PH_FULL || ph == PH_RESUMED) {
        if (ph == PH_RESUMED) lib_handshake(l, 0); /* a fresh session to start from */
        t0 = t = cpu_now();
        while (g_min_ops ? ops < g_min_ops : t - t0 < g_seconds) {
            double a = t;
            lib_handshake(l, ph == PH_RESUMED);
            t = cpu_now();
            if (ph == PH_FULL) sample_add(lat, t - a);
            ops++;
        }
        return (double)ops / (t - t0);
    }
    int suite = (ph - PH_BULK0) / 2;
    size_t size = BULK_SIZES[(ph - PH_BULK0) % 2];
    lib_bulk_open(l, suite);
    t0 = t = cpu_now();
    while (g_min_ops ? ops < g_min_ops : t - t0 < g_seconds) {
        for (int i = 0; i < 16; i++) lib_bulk_write(l, suite, size);
        ops += 16;
        t = cpu_now();
    }
    lib_bulk_close(l, suite);
    return (double)ops * (double)size / (t - t0);
}

/* Heap bytes per idle established connection: client and server. */
static void heap_per_conn(lib *l, int pairs, double *client, double *server) {
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
    double fr, os;
    const char *fmt; /* printf format for the absolute figures */
} row;

static int g_nrows;
static row g_rows[32];

static void add_row(const char *label, const char *fmt, double fr, double os) {
    row *r = &g_rows[g_nrows++];
    snprintf(r->label, sizeof(r->label), "%s", label);
    r->fmt = fmt;
    r->fr = fr;
    r->os = os;
}

static void print_table(FILE *f) {
    fprintf(f, "| measure | ferrule | OpenSSL | ferrule / OpenSSL |\n| --- | ---: | ---: | ---: |\n");
    for (int i = 0; i < g_nrows; i++) {
        char a[32], b[32];
        snprintf(a, sizeof(a), g_rows[i].fmt, g_rows[i].fr);
        snprintf(b, sizeof(b), g_rows[i].fmt, g_rows[i].os);
        fprintf(f, "| %s | %s | %s | %.2f |\n", g_rows[i].label, a, b,
                g_rows[i].os > 0 ? g_rows[i].fr / g_rows[i].os : 0.0);
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
               "resumed handshakes are psk_dhe_ke, each with the ticket of the one before. Bulk: the\n"
               "client writes, the server reads (one suite per row). Process CPU time, %d interleaved\n"
               "rounds of %.2f s per phase and library, medians; latency percentiles are over every\n"
               "full handshake pair of all rounds. Heap: bytes held per idle established connection\n"
               "(%d pairs): ferrule's allocator plus libcrypto/libssl through CRYPTO_set_mem_functions\n"
               "for both (each library with its defaults: libssl keeps its record buffers), the\n"
               "transport excluded; the counting hooks stay installed during the timed phases too, for\n"
               "both. Rates: higher is better; bytes and latency: lower (a ratio below 1 is ferrule\n"
               "ahead). Command: `make bench` (here `pair_bench --seconds %.2f --rounds %d`).\n\n",
            rounds, g_seconds, MEM_PAIRS, g_seconds, rounds);
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
    if (!g_hooked) die("CRYPTO_set_mem_functions failed: heap figures would be wrong");

    g_fifo_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "bench fifo");
    if (g_fifo_method == NULL || !BIO_meth_set_write(g_fifo_method, bio_fifo_write) ||
        !BIO_meth_set_read(g_fifo_method, bio_fifo_read) || !BIO_meth_set_ctrl(g_fifo_method, bio_fifo_ctrl))
        die("BIO_meth_new");
    memset(g_plain, 'x', sizeof(g_plain));
    lib *libs[2] = {&g_fr, &g_os};
    fifo_init(&g_frp.c2s);
    fifo_init(&g_frp.s2c);
    fifo_init(&g_osp.c2s);
    fifo_init(&g_osp.s2c);
    for (int k = 0; k < 2; k++) {
        lib_setup(libs[k]);
        lib_handshake(libs[k], 0); /* warm-up: lazy initialisation in either library */
        lib_handshake(libs[k], 1);
    }

    static double rate[2][PH_COUNT][64];
    samples lat[2] = {{0}, {0}};
    for (int r = 0; r < rounds; r++) {
        for (int ph = 0; ph < PH_COUNT; ph++) {
            for (int j = 0; j < 2; j++) {
                int k = (r + ph + j) % 2; /* alternate which library goes first */
                rate[k][ph][r] = run_phase(libs[k], ph, &lat[k]);
            }
        }
        fprintf(stderr, "round %d/%d done\n", r + 1, rounds);
    }
    double mc[2], ms[2];
    for (int k = 0; k < 2; k++) heap_per_conn(libs[k], mem_pairs, &mc[k], &ms[k]);

    add_row("full handshakes / s", "%.0f", median(rate[0][PH_FULL], rounds), median(rate[1][PH_FULL], rounds));
    add_row("resumed (psk_dhe_ke) handshakes / s", "%.0f", median(rate[0][PH_RESUMED], rounds),
            median(rate[1][PH_RESUMED], rounds));
    for (int s = 0; s < NSUITES; s++)
        for (int z = 0; z < 2; z++) {
            char label[96];
            int ph = PH_BULK0 + 2 * s + z;
            snprintf(label, sizeof(label), "bulk %s, %zu B writes, MB/s", SUITE_SHORT[s], BULK_SIZES[z]);
            add_row(label, "%.1f", median(rate[0][ph], rounds) / 1e6, median(rate[1][ph], rounds) / 1e6);
        }
    add_row("heap bytes per idle client connection", "%.0f", mc[0], mc[1]);
    add_row("heap bytes per idle server connection", "%.0f", ms[0], ms[1]);
    const double qs[3] = {0.50, 0.95, 0.99};
    const char *qn[3] = {"p50", "p95", "p99"};
    for (int i = 0; i < 3; i++) {
        char label[96];
        snprintf(label, sizeof(label), "full handshake pair latency %s, us", qn[i]);
        add_row(label, "%.0f", percentile(&lat[0], qs[i]) * 1e6, percentile(&lat[1], qs[i]) * 1e6);
    }
    print_table(stdout);
    if (write_to != NULL) write_section(write_to, rounds);

    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < NSUITES; i++) {
            if (is_fr(libs[k])) {
                ferrule_config_free(libs[k]->fc[i]);
                ferrule_config_free(libs[k]->fs[i]);
                fifo_done(&libs[k]->fp[i].c2s);
                fifo_done(&libs[k]->fp[i].s2c);
            } else {
                SSL_CTX_free(libs[k]->oc[i]);
                SSL_CTX_free(libs[k]->os[i]);
                fifo_done(&libs[k]->op[i].c2s);
                fifo_done(&libs[k]->op[i].s2c);
            }
        }
        free(lat[k].v);
    }
    SSL_SESSION_free(g_os.osess);
    fifo_done(&g_frp.c2s);
    fifo_done(&g_frp.s2c);
    fifo_done(&g_osp.c2s);
    fifo_done(&g_osp.s2c);
    BIO_meth_free(g_fifo_method);
    return 0;
}
