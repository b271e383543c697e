/* test_record_path.c - the record path's memory behaviour, for the three
 * ways of doing I/O (copying feed/take/read/write, the zero-copy buffer
 * API, callback I/O):
 *
 *  - steady traffic allocates nothing: N records written and read cause
 *    no allocation through ferrule's allocator and none in libcrypto
 *    (CRYPTO_set_mem_functions, installed before main);
 *  - an idle connection holds no record buffer, and the buffers come back
 *    when traffic resumes;
 *  - a buffer holding unprocessed bytes (a partial record) is never given
 *    back, not by the library and not by ferrule_conn_release_buffers;
 *  - a buffer reused by another connection of the config shows none of
 *    the plaintext the first one decrypted in it (bufpool.c).
 * docs/buffers.md ("Buffer reuse", "What is wiped") describes the rules. */
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <string.h>
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif

#include "conn.h"
#include "support_pair.h"
#include "testlib.h"

/* ---- counting allocators ------------------------------------------------------ */

#define HDR 16

typedef struct counting {
    size_t live;
    unsigned long allocs;
} counting;

static void *count_alloc(void *ctx, size_t n) {
    counting *k = ctx;
    uint8_t *p = malloc(n + HDR);
    if (p == NULL) return NULL;
    memcpy(p, &n, sizeof(n));
    k->allocs++;
    k->live += n;
    return p + HDR;
}

static void count_free(void *ctx, void *ptr, size_t n) {
    counting *k = ctx;
    (void)n;
    if (ptr == NULL) return;
    uint8_t *p = (uint8_t *)ptr - HDR;
    size_t stored;
    memcpy(&stored, p, sizeof(stored));
    k->live -= stored;
    free(p);
}

static atomic_ulong g_crypto_allocs;
static int g_crypto_hooked;

static void *crypto_malloc(size_t n, const char *file, int line) {
    (void)file;
    (void)line;
    atomic_fetch_add(&g_crypto_allocs, 1);
    return malloc(n);
}

static void *crypto_realloc(void *p, size_t n, const char *file, int line) {
    (void)file;
    (void)line;
    atomic_fetch_add(&g_crypto_allocs, 1);
    return realloc(p, n);
}

static void crypto_free(void *p, const char *file, int line) {
    (void)file;
    (void)line;
    free(p);
}

__attribute__((constructor)) static void hook_libcrypto(void) {
#ifdef RUNNING_ON_VALGRIND
    if (RUNNING_ON_VALGRIND) return;
#endif
    g_crypto_hooked = CRYPTO_set_mem_functions(crypto_malloc, crypto_realloc, crypto_free);
}

static ferrule_config *config(int server, counting *k) {
    ferrule_allocator a;
    memset(&a, 0, sizeof(a));
    a.struct_size = sizeof(a);
    a.alloc = count_alloc;
    a.free = count_free;
    a.ctx = k;
    ferrule_config *cfg = NULL;
    if (ferrule_config_new(&cfg, server ? FERRULE_ROLE_SERVER : FERRULE_ROLE_CLIENT, &a) !=
        FERRULE_OK)
        return NULL;
    int st = server ? ferrule_config_add_cert_chain_file(cfg, pair_pki("ecdsa-p256.chain.pem"),
                                                         pair_pki("ecdsa-p256.key"))
                    : ferrule_config_add_trust_file(cfg, pair_pki("root.pem"));
    if (st != FERRULE_OK) {
        ferrule_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* ---- three ways of moving bytes -------------------------------------------------- */

enum { MODE_COPY, MODE_BUF, MODE_CB };
static const char *const MODE_NAME[] = {"copying", "buffer API", "callback I/O"};

/* Callback I/O: one byte FIFO per direction; `limit` caps what recv may
 * still deliver (SIZE_MAX: no cap) so a test can hold a record back. */
typedef struct fifo {
    uint8_t buf[1u << 17];
    size_t off, len;
    size_t limit;
} fifo;

static long fifo_send(void *ctx, const uint8_t *p, size_t n) {
    fifo *f = ((fifo **)ctx)[0];
    if (f->off > 0) {
        memmove(f->buf, f->buf + f->off, f->len);
        f->off = 0;
    }
    if (n > sizeof(f->buf) - f->len) n = sizeof(f->buf) - f->len;
    if (n == 0) return FERRULE_IO_WOULD_BLOCK;
    memcpy(f->buf + f->len, p, n);
    f->len += n;
    return (long)n;
}

static long fifo_recv(void *ctx, uint8_t *p, size_t cap) {
    fifo *f = ((fifo **)ctx)[1];
    size_t n = f->len < cap ? f->len : cap;
    if (n > f->limit) n = f->limit;
    if (n == 0) return FERRULE_IO_WOULD_BLOCK;
    memcpy(p, f->buf + f->off, n);
    f->off += n;
    f->len -= n;
    if (f->limit != SIZE_MAX) f->limit -= n;
    return (long)n;
}

typedef struct link {
    int mode;
    pair p;
    fifo c2s, s2c;
    fifo *cio[2], *sio[2]; /* {send to, receive from} */
} link;

static int install(ferrule_conn *c, fifo **io) {
    ferrule_io_callbacks cb;
    memset(&cb, 0, sizeof(cb));
    cb.struct_size = sizeof(cb);
    cb.send = fifo_send;
    cb.recv = fifo_recv;
    cb.ctx = io;
    return ferrule_conn_set_io(c, &cb) == FERRULE_OK;
}

/* Buffer API: everything `from` has to send, into `to`'s input buffer. */
static size_t buf_move(ferrule_conn *from, ferrule_conn *to, size_t max) {
    size_t moved = 0;
    for (;;) {
        const uint8_t *out;
        size_t len;
        if (ferrule_conn_output_buf(from, &out, &len) != FERRULE_OK) return moved;
        if (len > max - moved) len = max - moved;
        uint8_t *in;
        size_t cap = 0;
        if (len == 0 || ferrule_conn_input_buf(to, &in, &cap) != FERRULE_OK) {
            CHECK_EQ(ferrule_conn_output_ack(from, 0), FERRULE_OK);
            return moved;
        }
        size_t k = len < cap ? len : cap;
        memcpy(in, out, k);
        CHECK_EQ(ferrule_conn_input_ack(to, k), FERRULE_OK);
        CHECK_EQ(ferrule_conn_output_ack(from, k), FERRULE_OK);
        moved += k;
        if (k < len) return moved; /* the receiver's buffer is full */
    }
}

/* Copying: like pair_move, but at most `max` bytes. */
static size_t copy_move(ferrule_conn *from, ferrule_conn *to, size_t max) {
    static uint8_t tmp[1u << 17];
    static size_t held; /* taken from `from` but not yet fed */
    static ferrule_conn *held_for;
    size_t moved = 0;
    if (held_for != NULL && held_for != to) held = 0;
    for (;;) {
        if (held == 0) {
            size_t n = 0;
            CHECK_EQ(ferrule_conn_take(from, tmp, sizeof(tmp), &n), FERRULE_OK);
            held = n;
            held_for = to;
            if (n == 0) return moved;
        }
        size_t k = held < max - moved ? held : max - moved, fed = 0;
        if (k == 0) return moved;
        CHECK_EQ(ferrule_conn_feed(to, tmp, k, &fed), FERRULE_OK);
        memmove(tmp, tmp + fed, held - fed);
        held -= fed;
        moved += fed;
        if (fed < k) return moved;
    }
}

/* Move what `from` has sent to `to` (at most `max` bytes of it). */
static void link_move(link *l, ferrule_conn *from, ferrule_conn *to, size_t max) {
    if (l->mode == MODE_COPY)
        (void)copy_move(from, to, max);
    else if (l->mode == MODE_BUF)
        (void)buf_move(from, to, max);
    else
        ((to == l->p.server) ? &l->c2s : &l->s2c)->limit = max;
}

static int link_new(link *l, int mode, ferrule_config *cc, ferrule_config *sc) {
    memset(l, 0, sizeof(*l));
    l->mode = mode;
    if (!pair_new(&l->p, cc, sc, NULL)) return 0;
    if (mode != MODE_CB) return pair_handshake(&l->p, NULL, NULL);
    l->c2s.limit = l->s2c.limit = SIZE_MAX;
    l->cio[0] = &l->c2s;
    l->cio[1] = &l->s2c;
    l->sio[0] = &l->s2c;
    l->sio[1] = &l->c2s;
    if (!install(l->p.client, l->cio) || !install(l->p.server, l->sio)) return 0;
    int cs = FERRULE_WANT_READ, ss = FERRULE_WANT_READ;
    for (int i = 0; i < 20 && (cs != FERRULE_OK || ss != FERRULE_OK); i++) {
        if (cs != FERRULE_OK) cs = ferrule_conn_handshake(l->p.client);
        if (ss != FERRULE_OK) ss = ferrule_conn_handshake(l->p.server);
    }
    return cs == FERRULE_OK && ss == FERRULE_OK;
}

static uint8_t pat(size_t i, unsigned seed) { return (uint8_t)((i * 131u + seed * 7u) >> 3); }

/* Write len bytes of pattern `seed` from `from`, carry them over and read
 * them all at `to`, checking every byte. */
static int transfer(link *l, ferrule_conn *from, ferrule_conn *to, size_t len, unsigned seed) {
    static uint8_t data[64 * 1024], got[64 * 1024];
    for (size_t i = 0; i < len; i++) data[i] = pat(i, seed);
    size_t sent = 0, rd = 0;
    for (int guard = 0; rd < len && guard < 64; guard++) {
        if (sent < len) {
            size_t n = 0;
            int st = ferrule_conn_write(from, data + sent, len - sent, &n);
            if (st != FERRULE_OK && st != FERRULE_WANT_WRITE) return 0;
            sent += n;
        }
        link_move(l, from, to, SIZE_MAX);
        for (;;) {
            size_t n = 0;
            int st;
            if (l->mode == MODE_BUF) {
                const uint8_t *p;
                st = ferrule_conn_read_buf(to, &p, &n);
                if (st == FERRULE_OK) {
                    if (n > len - rd) return 0;
                    memcpy(got + rd, p, n);
                    if (ferrule_conn_read_ack(to, n) != FERRULE_OK) return 0;
                }
            } else {
                st = ferrule_conn_read(to, got + rd, len - rd, &n);
            }
            if (st == FERRULE_WANT_READ) break;
            if (st != FERRULE_OK) return 0;
            rd += n;
            if (rd == len) break;
        }
    }
    return rd == len && memcmp(data, got, len) == 0;
}

/* The client reads the server's tickets; a record each way. */
static int warm_up(link *l) {
    uint8_t b[16];
    size_t n;
    link_move(l, l->p.server, l->p.client, SIZE_MAX);
    if (ferrule_conn_read(l->p.client, b, sizeof(b), &n) != FERRULE_WANT_READ &&
        l->mode != MODE_BUF)
        return 0;
    if (l->mode == MODE_BUF) {
        const uint8_t *p;
        if (ferrule_conn_read_buf(l->p.client, &p, &n) != FERRULE_WANT_READ) return 0;
    }
    return transfer(l, l->p.client, l->p.server, 16384, 1) &&
           transfer(l, l->p.server, l->p.client, 1000, 2);
}

/* The tests' common set-up: a client and a server config, each with its
 * counting allocator, and a warmed-up link between them; fx_close frees
 * it all and checks that nothing is left in either allocator. */
typedef struct fixture {
    counting kc, ks;
    ferrule_config *cc, *sc;
    link *l;
} fixture;

static int fx_open(fixture *f, int mode) {
    memset(f, 0, sizeof(*f));
    f->cc = config(0, &f->kc);
    f->sc = config(1, &f->ks);
    CHECK(f->cc != NULL && f->sc != NULL);
    if (f->cc == NULL || f->sc == NULL) {
        ferrule_config_free(f->cc);
        ferrule_config_free(f->sc);
        return 0;
    }
    f->l = calloc(1, sizeof(*f->l));
    CHECK(link_new(f->l, mode, f->cc, f->sc));
    CHECK(warm_up(f->l));
    return 1;
}

static void fx_close(fixture *f) {
    pair_free(&f->l->p);
    free(f->l);
    ferrule_config_free(f->cc);
    ferrule_config_free(f->sc);
    CHECK_EQ(f->kc.live, 0);
    CHECK_EQ(f->ks.live, 0);
}

/* Other connections of `cfg` take every buffer its pool holds: the
 * number of places `mark` shows in them (each lent as a whole input
 * buffer), with the pool empty while they hold them. */
static int pooled_marks(ferrule_config *cfg, const char *mark, size_t mark_len) {
    ferrule_conn *other[FR_POOL_SLOTS];
    int seen = 0;
    for (size_t i = 0; i < FR_POOL_SLOTS; i++) {
        other[i] = NULL;
        CHECK_EQ(ferrule_conn_new(&other[i], cfg, NULL), FERRULE_OK);
        if (other[i] == NULL) continue;
        uint8_t *p;
        size_t cap = 0;
        CHECK_EQ(ferrule_conn_input_buf(other[i], &p, &cap), FERRULE_OK);
        CHECK_EQ(cap, FR_POOL_BUF);
        for (size_t k = 0; k + mark_len <= cap; k++)
            if (memcmp(p + k, mark, mark_len) == 0) seen++;
        CHECK_EQ(ferrule_conn_input_ack(other[i], 0), FERRULE_OK);
    }
    CHECK_EQ(fr_buf_pool_bytes(cfg), 0);
    for (size_t i = 0; i < FR_POOL_SLOTS; i++) ferrule_conn_free(other[i]);
    return seen;
}

/* ---- steady traffic allocates nothing ------------------------------------------------- */

static void steady_state(int mode) {
    fixture f;
    if (!fx_open(&f, mode)) return;
    link *l = f.l;
    unsigned long f0 = f.kc.allocs + f.ks.allocs, c0 = atomic_load(&g_crypto_allocs);
    /* Requests and answers of several sizes, full records and small ones,
     * a write of four records at once. */
    static const size_t sizes[] = {16384, 1024, 1, 65536, 5000, 16384};
    int ok = 1;
    for (unsigned i = 0; i < 32 && ok; i++) {
        size_t n = sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
        ok = transfer(l, l->p.client, l->p.server, n, i) &&
             transfer(l, l->p.server, l->p.client, 1024, i + 100);
    }
    CHECK(ok);
    unsigned long fa = f.kc.allocs + f.ks.allocs - f0, ca = atomic_load(&g_crypto_allocs) - c0;
    printf("record path, %s: %lu ferrule and %lu libcrypto allocations for 64 transfers\n",
           MODE_NAME[mode], fa, g_crypto_hooked ? ca : 0);
    CHECK_EQ(fa, 0);
    if (g_crypto_hooked) CHECK_EQ(ca, 0);
    /* Idle again: neither side holds a record buffer. */
    CHECK(ferrule_conn_memory_used(l->p.client) < FR_POOL_BUF);
    CHECK(ferrule_conn_memory_used(l->p.server) < FR_POOL_BUF);
    fx_close(&f);
}

TEST(steady_state_copying_allocates_nothing) { steady_state(MODE_COPY); }
TEST(steady_state_buffer_api_allocates_nothing) { steady_state(MODE_BUF); }
TEST(steady_state_callback_io_allocates_nothing) { steady_state(MODE_CB); }

/* ---- idle periods ---------------------------------------------------------------------- */

/* Idle, traffic, idle, with a partial record held across an idle period. */
static void idle_and_back(int mode) {
    fixture f;
    if (!fx_open(&f, mode)) return;
    link *l = f.l;
    size_t idle_c = ferrule_conn_memory_used(l->p.client);
    size_t idle_s = ferrule_conn_memory_used(l->p.server);
    CHECK(idle_c < FR_POOL_BUF);
    CHECK(idle_s < FR_POOL_BUF);
    CHECK(l->p.client->in == NULL && l->p.client->out == NULL);
    CHECK(l->p.server->in == NULL && l->p.server->out == NULL);

    /* Traffic resumes: the buffers come back, and go again. */
    CHECK(transfer(l, l->p.client, l->p.server, 20000, 7));
    CHECK_EQ(ferrule_conn_memory_used(l->p.client), idle_c);
    CHECK_EQ(ferrule_conn_memory_used(l->p.server), idle_s);

    /* Half a record arrives, then nothing for a while: the server keeps
     * the buffer with the half record, whatever it is asked. */
    static uint8_t data[16384], got[16384];
    for (size_t i = 0; i < sizeof(data); i++) data[i] = pat(i, 9);
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write(l->p.client, data, sizeof(data), &n), FERRULE_OK);
    CHECK_EQ(n, sizeof(data));
    link_move(l, l->p.client, l->p.server, 8000);
    if (mode == MODE_BUF) {
        const uint8_t *p;
        CHECK_EQ(ferrule_conn_read_buf(l->p.server, &p, &n), FERRULE_WANT_READ);
    } else {
        CHECK_EQ(ferrule_conn_read(l->p.server, got, sizeof(got), &n), FERRULE_WANT_READ);
    }
    CHECK(l->p.server->in != NULL);
    CHECK_EQ(l->p.server->in_len, 8000);
    CHECK_EQ(ferrule_conn_release_buffers(l->p.server), FERRULE_OK);
    CHECK(l->p.server->in != NULL);
    CHECK_EQ(l->p.server->in_len, 8000);
    CHECK(ferrule_conn_memory_used(l->p.server) > idle_s);
    CHECK(ferrule_conn_flags(l->p.server) & FERRULE_FLAG_WANT_INPUT);
    /* The client's drained output buffer went; release_buffers on an idle
     * connection changes nothing. */
    CHECK(mode == MODE_CB || l->p.client->out != NULL || l->p.client->out_len == 0);
    /* The rest arrives: the record is whole, the data intact. */
    if (mode == MODE_CB) {
        l->c2s.limit = SIZE_MAX;
    } else {
        link_move(l, l->p.client, l->p.server, SIZE_MAX);
    }
    size_t rd = 0;
    while (rd < sizeof(got)) {
        int st;
        if (mode == MODE_BUF) {
            const uint8_t *p;
            st = ferrule_conn_read_buf(l->p.server, &p, &n);
            if (st == FERRULE_OK) {
                memcpy(got + rd, p, n);
                CHECK_EQ(ferrule_conn_read_ack(l->p.server, n), FERRULE_OK);
            }
        } else {
            st = ferrule_conn_read(l->p.server, got + rd, sizeof(got) - rd, &n);
        }
        CHECK_EQ(st, FERRULE_OK);
        if (st != FERRULE_OK) break;
        rd += n;
    }
    CHECK_EQ(rd, sizeof(got));
    CHECK(memcmp(data, got, sizeof(got)) == 0);
    /* Idle again. */
    if (mode == MODE_BUF) {
        const uint8_t *p;
        CHECK_EQ(ferrule_conn_read_buf(l->p.server, &p, &n), FERRULE_WANT_READ);
    } else {
        CHECK_EQ(ferrule_conn_read(l->p.server, got, sizeof(got), &n), FERRULE_WANT_READ);
    }
    CHECK(l->p.server->in == NULL);
    CHECK_EQ(ferrule_conn_memory_used(l->p.server), idle_s);
    CHECK(transfer(l, l->p.server, l->p.client, 3000, 11));
    fx_close(&f);
}

TEST(idle_copying) { idle_and_back(MODE_COPY); }
TEST(idle_buffer_api) { idle_and_back(MODE_BUF); }
TEST(idle_callback_io) { idle_and_back(MODE_CB); }

/* ferrule_conn_release_buffers gives idle buffers to the allocator, not to
 * the config's pool. */
TEST(release_buffers_returns_memory) {
    fixture f;
    if (!fx_open(&f, MODE_BUF)) return;
    link *l = f.l;
    /* A record waits to be sent: the client holds its output buffer. */
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write(l->p.client, (const uint8_t *)"x", 1, &n), FERRULE_OK);
    const uint8_t *out;
    size_t len;
    CHECK_EQ(ferrule_conn_output_buf(l->p.client, &out, &len), FERRULE_OK);
    CHECK(len > 0);
    size_t live = f.kc.live, pooled = fr_buf_pool_bytes(f.cc);
    /* Borrowed, then pending: kept. */
    CHECK_EQ(ferrule_conn_release_buffers(l->p.client), FERRULE_OK);
    CHECK(l->p.client->out != NULL);
    CHECK_EQ(ferrule_conn_output_ack(l->p.client, 0), FERRULE_OK);
    CHECK_EQ(ferrule_conn_release_buffers(l->p.client), FERRULE_OK);
    CHECK(l->p.client->out != NULL);
    /* Drained by hand, without the library's own release: take it back
     * through release_buffers, straight to the allocator. */
    l->p.client->out_len = 0;
    CHECK_EQ(ferrule_conn_release_buffers(l->p.client), FERRULE_OK);
    CHECK(l->p.client->out == NULL);
    CHECK_EQ(fr_buf_pool_bytes(f.cc), pooled);
    CHECK(f.kc.live < live);
    fx_close(&f);
}

/* ---- reuse across connections --------------------------------------------------------- */

/* A server connection decrypts a record carrying a marker and goes idle;
 * every buffer the config then lends other connections shows none of it. */
TEST(reused_buffer_shows_nothing_of_its_last_owner) {
    static const char MARK[] = "plaintext of the first connection";
    fixture f;
    if (!fx_open(&f, MODE_COPY)) return;
    link *l = f.l;
    size_t n = 0;
    uint8_t got[64];
    CHECK_EQ(ferrule_conn_write(l->p.client, (const uint8_t *)MARK, sizeof(MARK), &n), FERRULE_OK);
    link_move(l, l->p.client, l->p.server, SIZE_MAX);
    CHECK_EQ(ferrule_conn_read(l->p.server, got, sizeof(got), &n), FERRULE_OK);
    CHECK_EQ(n, sizeof(MARK));
    CHECK_EQ(ferrule_conn_read(l->p.server, got, sizeof(got), &n), FERRULE_WANT_READ);
    CHECK(l->p.server->in == NULL);
    CHECK(fr_buf_pool_bytes(f.sc) > 0);
    /* Other connections of the server config take every pooled buffer. */
    CHECK_EQ(pooled_marks(f.sc, MARK, sizeof(MARK) - 1), 0);
    /* The first connection's own next record still works. */
    CHECK(transfer(l, l->p.client, l->p.server, 100, 3));
    fx_close(&f);
}

/* The same, when the connection first reuses its own input buffer (with
 * the plaintext it decrypted there) as its output buffer: the records it
 * writes cover the start of it only, and what lies beyond must still be
 * wiped before another connection sees the buffer. */
TEST(own_input_buffer_reused_for_output_keeps_its_wipe) {
    static const char MARK[] = "far into the first connection's record";
    static uint8_t msg[12000];
    memset(msg, 'x', sizeof(msg));
    memcpy(msg + sizeof(msg) - sizeof(MARK), MARK, sizeof(MARK));
    fixture f;
    if (!fx_open(&f, MODE_COPY)) return;
    link *l = f.l;
    size_t n = 0;
    static uint8_t got[sizeof(msg)];
    CHECK_EQ(ferrule_conn_write(l->p.client, msg, sizeof(msg), &n), FERRULE_OK);
    link_move(l, l->p.client, l->p.server, SIZE_MAX);
    uint8_t *in = l->p.server->in; /* the buffer the record is opened in */
    CHECK(in != NULL);
    CHECK_EQ(ferrule_conn_read(l->p.server, got, sizeof(got), &n), FERRULE_OK);
    CHECK_EQ(n, sizeof(msg));
    CHECK_EQ(ferrule_conn_read(l->p.server, got, sizeof(got), &n), FERRULE_WANT_READ);
    CHECK(l->p.server->in == NULL);
    /* Leave only that buffer in the pool, so the server's next write
     * takes it as its output buffer. */
    uint8_t *aside[FR_POOL_SLOTS];
    int found = 0;
    for (size_t i = 0; i < FR_POOL_SLOTS; i++) {
        aside[i] = atomic_exchange(&f.sc->pool.slot[i], NULL);
        if (aside[i] == in) {
            found = 1;
            aside[i] = NULL;
        }
    }
    CHECK(found);
    CHECK(atomic_exchange(&f.sc->pool.slot[0], in) == NULL);
    CHECK_EQ(ferrule_conn_write(l->p.server, (const uint8_t *)"short", 5, &n), FERRULE_OK);
    CHECK(l->p.server->out == in);
    link_move(l, l->p.server, l->p.client, SIZE_MAX);
    CHECK_EQ(ferrule_conn_read(l->p.client, got, sizeof(got), &n), FERRULE_OK);
    CHECK_EQ(n, 5);
    CHECK(l->p.server->out == NULL);
    for (size_t i = 0; i < FR_POOL_SLOTS; i++) {
        if (aside[i] == NULL) continue;
        for (size_t k = 0; k < FR_POOL_SLOTS; k++) {
            uint8_t *none = NULL;
            if (atomic_compare_exchange_strong(&f.sc->pool.slot[k], &none, aside[i])) break;
        }
    }
    /* Other connections take every pooled buffer: no trace of MARK. */
    CHECK_EQ(pooled_marks(f.sc, MARK, sizeof(MARK) - 1), 0);
    fx_close(&f);
}

/* ---- re-keying ------------------------------------------------------------------------ */

/* The next key of a direction (handshake to application keys, a KeyUpdate)
 * re-keys the context it has: libcrypto allocates no more than the two
 * HKDF expansions of the key and IV need, and the records follow the new
 * key only. */
TEST(rekey_reuses_the_context) {
    static const uint16_t suites[] = {FERRULE_TLS_AES_128_GCM_SHA256,
                                      FERRULE_TLS_AES_256_GCM_SHA384,
                                      FERRULE_TLS_CHACHA20_POLY1305_SHA256};
    for (size_t s = 0; s < 3; s++) {
        const fr_suite_info *info = fr_suite_lookup(suites[s]);
        uint8_t s1[FR_MAX_HASH], s2[FR_MAX_HASH], tmp[32];
        memset(s1, 0x11, sizeof(s1));
        memset(s2, 0x22, sizeof(s2));
        fr_aead w, r_old, r_new;
        memset(&w, 0, sizeof(w));
        memset(&r_old, 0, sizeof(r_old));
        memset(&r_new, 0, sizeof(r_new));
        CHECK_EQ(fr_aead_init(&w, suites[s], s1, 1), FR_OK);
        CHECK_EQ(fr_aead_init(&r_old, suites[s], s1, 0), FR_OK);
        CHECK_EQ(fr_aead_init(&r_new, suites[s], s2, 0), FR_OK);
        /* What deriving a key and an IV costs by itself. */
        unsigned long a0 = atomic_load(&g_crypto_allocs);
        CHECK_EQ(fr_hkdf_expand_label(info->hash, s2, "key", NULL, 0, tmp, info->key_len), FR_OK);
        CHECK_EQ(fr_hkdf_expand_label(info->hash, s2, "iv", NULL, 0, tmp, FR_AEAD_IV_LEN), FR_OK);
        unsigned long derive = atomic_load(&g_crypto_allocs) - a0;
        void *ctx = w.ctx;
        w.seq = 5;
        a0 = atomic_load(&g_crypto_allocs);
        CHECK_EQ(fr_aead_init(&w, suites[s], s2, 1), FR_OK);
        unsigned long rekey = atomic_load(&g_crypto_allocs) - a0;
        if (g_crypto_hooked) CHECK_EQ(rekey, derive);
        CHECK(w.ctx == ctx);
        CHECK_EQ(w.seq, 0);
        static uint8_t rec[FR_MAX_RECORD], copy[FR_MAX_RECORD];
        size_t n = 0;
        CHECK_EQ(fr_record_seal(&w, FR_CT_APPLICATION_DATA, (const uint8_t *)"new key", 7, 0, rec,
                                sizeof(rec), &n),
                 FR_OK);
        memcpy(copy, rec, n);
        uint8_t type, *pt;
        size_t pt_len;
        CHECK_EQ(fr_record_open(&r_old, copy, n, &type, &pt, &pt_len), FERRULE_R_BAD_RECORD_MAC);
        CHECK_EQ(fr_record_open(&r_new, rec, n, &type, &pt, &pt_len), FR_OK);
        CHECK(pt_len == 7 && memcmp(pt, "new key", 7) == 0);
        /* Another suite or direction: a context of its own. */
        uint16_t other = suites[(s + 1) % 3];
        CHECK_EQ(fr_aead_init(&w, other, s2, 1), FR_OK);
        CHECK_EQ(w.suite, other);
        fr_aead_free(&w);
        fr_aead_free(&r_old);
        fr_aead_free(&r_new);
    }
}

TEST_MAIN("record_path", TL_CASE(steady_state_copying_allocates_nothing),
          TL_CASE(steady_state_buffer_api_allocates_nothing),
          TL_CASE(steady_state_callback_io_allocates_nothing), TL_CASE(idle_copying),
          TL_CASE(idle_buffer_api), TL_CASE(idle_callback_io),
          TL_CASE(release_buffers_returns_memory),
          TL_CASE(reused_buffer_shows_nothing_of_its_last_owner),
          TL_CASE(own_input_buffer_reused_for_output_keeps_its_wipe),
          TL_CASE(rekey_reuses_the_context))
