/*
 * bench_pairs.c - what bench/pair_bench.c and bench/scaling.c share: the
 * allocation counting (both libraries' allocations counted the same way),
 * the in-memory transport (a byte FIFO per direction, the same for both),
 * and client/server pairs of each library with their handshake drivers.
 * libssl is used by the benchmarks only, never by the library.
 */
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_pairs.h"

#define HDR 16 /* size header in front of every counted block (keeps 16-byte alignment) */

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

int bench_hooked(void) { return g_hooked; }

/* Only possible before libcrypto's first allocation, hence a constructor. */
__attribute__((constructor)) static void hook_libcrypto(void) {
    g_hooked = CRYPTO_set_mem_functions(crypto_malloc, crypto_realloc, crypto_free);
}

static void *fr_alloc(void *ctx, size_t n) { return counted_malloc(ctx, n); }
static void fr_free(void *ctx, void *ptr, size_t n) {
    (void)n;
    counted_free(ctx, ptr);
}

long heap_live(void) { return g_crypto_live + g_ferrule_live; }

/* ---- common -------------------------------------------------------------------- */

void die(const char *what) {
    fprintf(stderr, "bench: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

void fifo_init(fifo *q) {
    q->buf = malloc(FIFO_CAP); /* plain malloc: the transport is not counted */
    if (q->buf == NULL) die("out of memory");
    q->off = q->len = 0;
    q->blocked = 0;
}

void fifo_done(fifo *q) { free(q->buf); }

/* Room at the end, moving the unread bytes to the front when needed. */
uint8_t *fifo_space(fifo *q, size_t *cap) {
    if (q->off > 0) {
        memmove(q->buf, q->buf + q->off, q->len);
        q->off = 0;
    }
    *cap = FIFO_CAP - q->len;
    return q->buf + q->len;
}

/* The suites of the bulk phases; the handshakes use the first. */
const char *const SUITES[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                     "TLS_CHACHA20_POLY1305_SHA256"};
const char *const SUITE_SHORT[] = {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};

/* ---- ferrule side ------------------------------------------------------------ */

ferrule_config *fr_config_files(int server, int suite, const char *chain, const char *key, const char *trust) {
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
        if (ferrule_config_add_cert_chain_file(cfg, chain, key) !=
                FERRULE_OK ||
            ferrule_config_set_tickets(cfg, 1) != FERRULE_OK)
            die("ferrule server config (is the PKI there?)");
    } else if (ferrule_config_add_trust_file(cfg, trust) != FERRULE_OK) {
        die("ferrule client config (is the PKI there?)");
    }
    return cfg;
}

/* Everything `from` has to send goes into q; as much of q as `to` takes goes in. */
void fr_move(ferrule_conn *from, ferrule_conn *to, fifo *q) {
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

void fr_pair_new(fr_pair *p, ferrule_config *cc, ferrule_config *sc) {
    ferrule_conn_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = sizeof(o);
    o.server_name = "localhost";
    if (ferrule_conn_new(&p->c, cc, &o) != FERRULE_OK || ferrule_conn_new(&p->s, sc, NULL) != FERRULE_OK)
        die("ferrule_conn_new");
    p->c2s.off = p->c2s.len = p->s2c.off = p->s2c.len = 0;
}

void fr_pair_free(fr_pair *p) {
    ferrule_conn_free(p->c);
    ferrule_conn_free(p->s);
    p->c = p->s = NULL;
}

/* Read on `c` until nothing is buffered on its side: ticket or data. */
size_t fr_drain(ferrule_conn *c, ferrule_conn *peer, fifo *q, uint8_t *buf, size_t cap) {
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
void fr_handshake(fr_pair *p, uint8_t *sess, size_t *sess_len, int want_resumed) {
    int c = FERRULE_WANT_READ, s = FERRULE_WANT_READ;
    for (int round = 0; round < 64 && !(c == FERRULE_OK && s == FERRULE_OK); round++) {
        c = ferrule_conn_handshake(p->c);
        fr_move(p->c, p->s, &p->c2s);
        s = ferrule_conn_handshake(p->s);
        fr_move(p->s, p->c, &p->s2c);
        if ((c != FERRULE_OK && c != FERRULE_WANT_READ) || (s != FERRULE_OK && s != FERRULE_WANT_READ)) {
            fprintf(stderr, "client: %s (%s), server: %s (%s)\n", ferrule_reason_name(ferrule_conn_reason(p->c)),
                    ferrule_conn_error_message(p->c), ferrule_reason_name(ferrule_conn_reason(p->s)),
                    ferrule_conn_error_message(p->s));
            die("ferrule handshake failed");
        }
    }
    if (c != FERRULE_OK || s != FERRULE_OK) die("ferrule handshake did not finish");
    uint8_t buf[64];
    fr_drain(p->c, p->s, &p->s2c, buf, sizeof(buf));
    if (ferrule_conn_resumed(p->c) != want_resumed) die("ferrule: unexpected resumption state");
    if (sess != NULL && ferrule_conn_session(p->c, sess, SESS_CAP, sess_len) != FERRULE_OK)
        die("ferrule: no ticket");
}

/* A 0-RTT resumed handshake on a pair whose client has its session set: the
 * client sends EARLY_LEN bytes of early data with its ClientHello, the server
 * reads them before the handshake ends, both finish, the client reads its
 * new ticket and keeps the new session (each ticket carries 0-RTT once). */
void fr_handshake_early(fr_pair *p, const uint8_t *data, uint8_t *sess, size_t *sess_len) {
    size_t w = 0, got = 0;
    while (w < EARLY_LEN) {
        size_t n = 0;
        if (ferrule_conn_write_early_data(p->c, data + w, EARLY_LEN - w, FERRULE_EARLY_DATA_REPLAY_SAFE, &n) !=
                FERRULE_OK ||
            n == 0)
            die("ferrule: early data not taken");
        w += n;
    }
    uint8_t buf[EARLY_LEN];
    int c = FERRULE_WANT_READ, s = FERRULE_WANT_READ, early_done = 0;
    for (int round = 0; round < 256 && !(c == FERRULE_OK && s == FERRULE_OK); round++) {
        fr_move(p->c, p->s, &p->c2s);
        if (!early_done) {
            size_t n = 0;
            int st = ferrule_conn_read_early_data(p->s, buf, sizeof(buf), &n);
            if (st == FERRULE_OK && n > 0)
                got += n;
            else if (st == FERRULE_OK)
                early_done = 1;
            else if (st != FERRULE_WANT_READ)
                die("ferrule read_early_data failed");
        }
        if (early_done) s = ferrule_conn_handshake(p->s);
        fr_move(p->s, p->c, &p->s2c);
        c = ferrule_conn_handshake(p->c);
        if ((c != FERRULE_OK && c != FERRULE_WANT_READ) || (s != FERRULE_OK && s != FERRULE_WANT_READ))
            die("ferrule 0-RTT handshake failed");
    }
    if (c != FERRULE_OK || s != FERRULE_OK) die("ferrule 0-RTT handshake did not finish");
    fr_drain(p->c, p->s, &p->s2c, buf, sizeof(buf));
    if (got != EARLY_LEN || ferrule_conn_early_data_status(p->s) != FERRULE_EARLY_ACCEPTED ||
        ferrule_conn_early_data_status(p->c) != FERRULE_EARLY_ACCEPTED || !ferrule_conn_resumed(p->c))
        die("ferrule: early data not accepted");
    if (ferrule_conn_session(p->c, sess, SESS_CAP, sess_len) != FERRULE_OK) die("ferrule: no ticket");
}

/* ---- OpenSSL side --------------------------------------------------------------- */

static BIO_METHOD *g_fifo_method;



static int bio_fifo_write(BIO *b, const char *data, int len) {
    fifo *q = BIO_get_data(b);
    size_t cap;
    uint8_t *p = fifo_space(q, &cap);
    BIO_clear_retry_flags(b);
    if (cap == 0 || q->blocked) {
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

BIO *bio_fifo(fifo *q) {
    BIO *b = BIO_new(g_fifo_method);
    if (b == NULL) die("BIO_new");
    BIO_set_data(b, q);
    BIO_set_init(b, 1);
    return b;
}

void bench_bio_init(void) {
    g_fifo_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "bench fifo");
    if (g_fifo_method == NULL || !BIO_meth_set_write(g_fifo_method, bio_fifo_write) ||
        !BIO_meth_set_read(g_fifo_method, bio_fifo_read) || !BIO_meth_set_ctrl(g_fifo_method, bio_fifo_ctrl))
        die("BIO_meth_new");
}

void bench_bio_done(void) { BIO_meth_free(g_fifo_method); }

SSL_CTX *os_config_files(int server, int suite, const char *chain, const char *key, const char *trust) {
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) || !SSL_CTX_set_ciphersuites(ctx, SUITES[suite]) ||
        !SSL_CTX_set1_groups_list(ctx, "X25519"))
        die("OpenSSL config");
    /* Sessions live in the connections and the blobs the bench keeps, as with
     * ferrule: no context-wide cache. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (server) {
        if (SSL_CTX_use_certificate_chain_file(ctx, chain) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
            !SSL_CTX_set_num_tickets(ctx, 1))
            die("OpenSSL server config");
    } else {
        if (SSL_CTX_load_verify_locations(ctx, trust, NULL) != 1) die("OpenSSL client config");
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    return ctx;
}

void os_pair_new(os_pair *p, SSL_CTX *cc, SSL_CTX *sc) {
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

void os_pair_free(os_pair *p) {
    /* Freed without a shutdown, libssl would mark the client's session "bad"
     * (not resumable); ferrule's connections are likewise freed without a
     * close_notify, so mark both as quietly shut down. */
    SSL_set_shutdown(p->c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_set_shutdown(p->s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(p->c);
    SSL_free(p->s);
    p->c = p->s = NULL;
}

int os_ok(SSL *ssl, int r) {
    if (r > 0) return 1;
    int e = SSL_get_error(ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) die("OpenSSL I/O failed");
    return 0;
}

size_t os_drain(SSL *ssl, uint8_t *buf, size_t cap) {
    size_t total = 0, n = 0;
    while (SSL_read_ex(ssl, buf, cap, &n)) total += n;
    os_ok(ssl, 0);
    return total;
}

void os_handshake(os_pair *p, SSL_SESSION **sess, int want_resumed) {
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

/* The same 0-RTT handshake with libssl (SSL_write_early_data /
 * SSL_read_early_data). */
void os_handshake_early(os_pair *p, const uint8_t *data, SSL_SESSION **sess) {
    size_t w = 0, got = 0;
    if (!SSL_write_early_data(p->c, data, EARLY_LEN, &w) || w != EARLY_LEN) die("OpenSSL: early data not taken");
    uint8_t buf[EARLY_LEN];
    int c = 0, s = 0, early_done = 0;
    for (int round = 0; round < 256 && !(c && s); round++) {
        if (!early_done) {
            size_t n = 0;
            int r = SSL_read_early_data(p->s, buf, sizeof(buf), &n);
            if (r == SSL_READ_EARLY_DATA_SUCCESS)
                got += n;
            else if (r == SSL_READ_EARLY_DATA_FINISH)
                early_done = 1;
            else
                os_ok(p->s, -1);
        }
        if (early_done && !s) s = os_ok(p->s, SSL_do_handshake(p->s));
        if (!c) c = os_ok(p->c, SSL_do_handshake(p->c));
    }
    if (!c || !s) die("OpenSSL 0-RTT handshake did not finish");
    os_drain(p->c, buf, sizeof(buf));
    if (got != EARLY_LEN || SSL_get_early_data_status(p->s) != SSL_EARLY_DATA_ACCEPTED ||
        SSL_get_early_data_status(p->c) != SSL_EARLY_DATA_ACCEPTED || !SSL_session_reused(p->c))
        die("OpenSSL: early data not accepted");
    SSL_SESSION_free(*sess);
    *sess = SSL_get1_session(p->c);
    if (*sess == NULL || SSL_SESSION_get_max_early_data(*sess) == 0) die("OpenSSL: no 0-RTT ticket");
}


/* ---- one write carried over ------------------------------------------------------- */

uint8_t g_plain[16384], g_sink[16384];

/* Only what `from` sends: into q, nothing fed. */
void fr_take_all(ferrule_conn *from, fifo *q) {
    while (ferrule_conn_pending_output(from) > 0) {
        size_t cap, n = 0;
        uint8_t *p = fifo_space(q, &cap);
        if (cap == 0 || ferrule_conn_take(from, p, cap, &n) != FERRULE_OK || n == 0) die("ferrule take");
        q->len += n;
    }
}

/* One write of `size` bytes (at most 16 KiB) by the client, carried over and
 * read by the server. */
void fr_write_read(fr_pair *p, size_t size) {
    size_t got = 0, off = 0;
    while (off < size) {
        size_t n = 0;
        int st = ferrule_conn_write(p->c, g_plain + off, size - off, &n);
        if (st != FERRULE_OK && st != FERRULE_WANT_WRITE) die("ferrule write");
        off += n;
        fr_move(p->c, p->s, &p->c2s);
        got += fr_drain(p->s, p->c, &p->c2s, g_sink, sizeof(g_sink));
    }
    if (got != size) die("bulk: bytes lost");
}

void os_write_read(os_pair *p, size_t size) {
    size_t n = 0;
    if (!SSL_write_ex(p->c, g_plain, size, &n) || n != size) die("OpenSSL write");
    if (os_drain(p->s, g_sink, sizeof(g_sink)) != size) die("bulk: bytes lost");
}
