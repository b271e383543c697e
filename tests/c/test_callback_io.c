/* test_callback_io.c - callback I/O (ferrule_conn_set_io) over real
 * transports: AF_UNIX socketpairs with blocking sockets (one thread per
 * side), non-blocking sockets (both sides in one thread), hostile
 * transports (1-byte sends and receives, spurious WOULD_BLOCK), transport
 * failures (EOF, errors), and a callback client against a buffer-mode
 * server. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support_pair.h"
#include "testlib.h"

/* ---- transport ------------------------------------------------------------- */

/* Context of one side's callbacks. */
typedef struct fdio {
    int fd;
    size_t max_send;       /* 0 = no cap; else at most this many bytes per send call */
    size_t max_recv;       /* same for recv */
    int wb_every_other;    /* send returns WOULD_BLOCK on every other call */
    int send_fails;        /* send returns FERRULE_IO_ERROR */
    int recv_fails;        /* recv returns FERRULE_IO_ERROR */
    int recv_eof;          /* recv returns 0 */
    unsigned long send_calls, recv_calls, send_bytes, recv_bytes, would_blocks;
    size_t largest_send, largest_recv; /* biggest count actually moved in one call */
} fdio;

static long fd_send(void *ctx, const uint8_t *data, size_t len) {
    fdio *io = ctx;
    io->send_calls++;
    if (io->send_fails) return FERRULE_IO_ERROR;
    if (io->wb_every_other && (io->send_calls & 1u) == 1u) {
        io->would_blocks++;
        return FERRULE_IO_WOULD_BLOCK;
    }
    if (io->max_send != 0 && len > io->max_send) len = io->max_send;
    for (;;) {
        ssize_t r = send(io->fd, data, len, MSG_NOSIGNAL);
        if (r > 0) {
            io->send_bytes += (unsigned long)r;
            if ((size_t)r > io->largest_send) io->largest_send = (size_t)r;
            return (long)r;
        }
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            io->would_blocks++;
            return FERRULE_IO_WOULD_BLOCK;
        }
        return FERRULE_IO_ERROR;
    }
}

static long fd_recv(void *ctx, uint8_t *buf, size_t cap) {
    fdio *io = ctx;
    io->recv_calls++;
    if (io->recv_fails) return FERRULE_IO_ERROR;
    if (io->recv_eof) return 0;
    if (io->max_recv != 0 && cap > io->max_recv) cap = io->max_recv;
    for (;;) {
        ssize_t r = recv(io->fd, buf, cap, 0);
        if (r >= 0) {
            io->recv_bytes += (unsigned long)r;
            if ((size_t)r > io->largest_recv) io->largest_recv = (size_t)r;
            return (long)r; /* 0 = end of stream */
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return FERRULE_IO_WOULD_BLOCK;
        return FERRULE_IO_ERROR;
    }
}

static int install_io(ferrule_conn *c, fdio *io) {
    ferrule_io_callbacks cb;
    memset(&cb, 0, sizeof(cb));
    cb.struct_size = sizeof(cb);
    cb.send = fd_send;
    cb.recv = fd_recv;
    cb.ctx = io;
    return ferrule_conn_set_io(c, &cb);
}

static int make_socketpair(int sv[2], int nonblocking) {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 0;
    if (nonblocking) {
        for (int i = 0; i < 2; i++) {
            int fl = fcntl(sv[i], F_GETFL);
            if (fl < 0 || fcntl(sv[i], F_SETFL, fl | O_NONBLOCK) != 0) return 0;
        }
    }
    return 1;
}

/* Deterministic test data: byte i of stream `seed`. */
static uint8_t pat(uint32_t seed, size_t i) {
    uint32_t x = (uint32_t)i * 2654435761u ^ seed;
    x ^= x >> 15;
    x *= 0x2c1b3c6du;
    x ^= x >> 12;
    return (uint8_t)x;
}

static void fill_pat(uint8_t *p, size_t n, uint32_t seed, size_t off) {
    for (size_t i = 0; i < n; i++) p[i] = pat(seed, off + i);
}

/* ---- a scripted peer in callback mode (runs in its own thread) ----------- */

/* Client script: handshake, write A, read B, close, expect CLOSED.
 * Server script: handshake, read A, write B, expect CLOSED, close.
 * Failures are recorded in the struct (CHECK is not thread-safe). */
typedef struct peer {
    ferrule_conn *c;
    int is_client;
    size_t a_len, b_len; /* client->server and server->client byte counts */
    uint32_t a_seed, b_seed;
    int in_place; /* read with ferrule_conn_read_buf / _read_ack */
    /* results */
    int fail_line;
    int fail_status;
    int hs_status;
    int final_read; /* status of the read after the transfer (FERRULE_CLOSED) */
    int again_read; /* a second read after CLOSED */
    size_t received;
    unsigned long retries;
} peer;

#define PEER_FAIL(p, st)                                                                           \
    do {                                                                                           \
        if ((p)->fail_line == 0) {                                                                 \
            (p)->fail_line = __LINE__;                                                             \
            (p)->fail_status = (st);                                                               \
        }                                                                                          \
        return 0;                                                                                  \
    } while (0)

#define RETRY_LIMIT 10000000ul

static int peer_handshake(peer *p) {
    int st;
    while ((st = ferrule_conn_handshake(p->c)) == FERRULE_WANT_WRITE || st == FERRULE_WANT_READ)
        if (++p->retries > RETRY_LIMIT) PEER_FAIL(p, st);
    p->hs_status = st;
    if (st != FERRULE_OK) PEER_FAIL(p, st);
    return 1;
}

/* Push everything queued in the connection out through the callback. */
static int peer_flush(peer *p) {
    while (ferrule_conn_pending_output(p->c) > 0) {
        size_t n = 0;
        int st = ferrule_conn_write(p->c, NULL, 0, &n);
        if (st != FERRULE_OK && st != FERRULE_WANT_WRITE) PEER_FAIL(p, st);
        if (++p->retries > RETRY_LIMIT) PEER_FAIL(p, st);
    }
    return 1;
}

static int peer_write(peer *p, size_t len, uint32_t seed) {
    uint8_t buf[7000]; /* deliberately not a record multiple */
    size_t off = 0;
    while (off < len) {
        size_t chunk = len - off < sizeof(buf) ? len - off : sizeof(buf);
        fill_pat(buf, chunk, seed, off);
        size_t done = 0;
        while (done < chunk) {
            size_t n = 0;
            int st = ferrule_conn_write(p->c, buf + done, chunk - done, &n);
            if (st != FERRULE_OK && st != FERRULE_WANT_WRITE) PEER_FAIL(p, st);
            if (n > chunk - done) PEER_FAIL(p, st);
            done += n;
            if (n == 0 && ++p->retries > RETRY_LIMIT) PEER_FAIL(p, st);
        }
        off += chunk;
    }
    return peer_flush(p);
}

static int peer_read(peer *p, size_t len, uint32_t seed) {
    uint8_t buf[5000];
    size_t off = 0;
    while (off < len) {
        size_t want = len - off < sizeof(buf) ? len - off : sizeof(buf);
        size_t n = 0;
        const uint8_t *d = buf;
        int st;
        if (p->in_place) {
            /* In place, over the callback transport; take at most `want`
             * of each loan, so records are consumed in pieces. */
            st = ferrule_conn_read_buf(p->c, &d, &n);
            if (st == FERRULE_OK && n > want) n = want;
        } else {
            st = ferrule_conn_read(p->c, buf, want, &n);
        }
        if (st == FERRULE_WANT_READ || st == FERRULE_WANT_WRITE) {
            if (++p->retries > RETRY_LIMIT) PEER_FAIL(p, st);
            continue;
        }
        if (st != FERRULE_OK || n == 0 || n > want) PEER_FAIL(p, st);
        for (size_t i = 0; i < n; i++)
            if (d[i] != pat(seed, off + i)) PEER_FAIL(p, -1);
        if (p->in_place && (st = ferrule_conn_read_ack(p->c, n)) != FERRULE_OK) PEER_FAIL(p, st);
        off += n;
        p->received = off;
    }
    return 1;
}

static int peer_expect_closed(peer *p) {
    uint8_t buf[64];
    size_t n = 0;
    int st;
    while ((st = ferrule_conn_read(p->c, buf, sizeof(buf), &n)) == FERRULE_WANT_READ ||
           st == FERRULE_WANT_WRITE)
        if (++p->retries > RETRY_LIMIT) break;
    p->final_read = st;
    /* Once the peer has closed, reads keep saying so. */
    p->again_read = ferrule_conn_read(p->c, buf, sizeof(buf), &n);
    if (st != FERRULE_CLOSED) PEER_FAIL(p, st);
    return 1;
}

static int peer_close(peer *p) {
    int st;
    while ((st = ferrule_conn_close(p->c)) == FERRULE_WANT_WRITE)
        if (++p->retries > RETRY_LIMIT) PEER_FAIL(p, st);
    if (st != FERRULE_OK) PEER_FAIL(p, st);
    return peer_flush(p);
}

static void *peer_hs_main(void *arg) {
    (void)peer_handshake(arg);
    return NULL;
}

static void *peer_main(void *arg) {
    peer *p = arg;
    if (!peer_handshake(p)) return NULL;
    if (p->is_client) {
        if (!peer_write(p, p->a_len, p->a_seed)) return NULL;
        if (!peer_read(p, p->b_len, p->b_seed)) return NULL;
        if (!peer_close(p)) return NULL;
        (void)peer_expect_closed(p);
    } else {
        if (!peer_read(p, p->a_len, p->a_seed)) return NULL;
        if (!peer_write(p, p->b_len, p->b_seed)) return NULL;
        if (!peer_expect_closed(p)) return NULL;
        (void)peer_close(p);
    }
    return NULL;
}

static void check_peer(const peer *p, const char *who) {
    if (p->fail_line != 0)
        fprintf(stderr, "  %s failed at test line %d with status %s (%s)\n", who, p->fail_line,
                ferrule_status_name(p->fail_status), ferrule_conn_error_message(p->c));
    CHECK_EQ(p->fail_line, 0);
    CHECK_EQ(p->hs_status, FERRULE_OK);
    CHECK_EQ(p->final_read, FERRULE_CLOSED);
    CHECK_EQ(p->again_read, FERRULE_CLOSED);
    CHECK_EQ(p->received, p->is_client ? p->b_len : p->a_len);
}

/* A client/server pair of connections over a fresh socketpair. */
typedef struct cbpair {
    ferrule_config *ccfg, *scfg;
    pair p;
    int sv[2];
    fdio cio, sio;
} cbpair;

static int cbpair_new(cbpair *b, const char *kind, int nonblocking, int client_cb,
                      int server_cb) {
    memset(b, 0, sizeof(*b));
    b->sv[0] = b->sv[1] = -1;
    b->ccfg = pair_client_config();
    b->scfg = pair_server_config(kind);
    if (b->ccfg == NULL || b->scfg == NULL) return 0;
    if (!pair_new(&b->p, b->ccfg, b->scfg, NULL)) return 0;
    if (!make_socketpair(b->sv, nonblocking)) return 0;
    b->cio.fd = b->sv[0];
    b->sio.fd = b->sv[1];
    if (client_cb && install_io(b->p.client, &b->cio) != FERRULE_OK) return 0;
    if (server_cb && install_io(b->p.server, &b->sio) != FERRULE_OK) return 0;
    return 1;
}

static void cbpair_free(cbpair *b) {
    pair_free(&b->p);
    ferrule_config_free(b->ccfg);
    ferrule_config_free(b->scfg);
    if (b->sv[0] >= 0) close(b->sv[0]);
    if (b->sv[1] >= 0) close(b->sv[1]);
}

/* Run both scripted peers in threads over the pair. */
static void run_threaded_mode(cbpair *b, size_t a_len, size_t b_len, peer *cp, peer *sp,
                              int in_place) {
    memset(cp, 0, sizeof(*cp));
    memset(sp, 0, sizeof(*sp));
    cp->in_place = sp->in_place = in_place;
    cp->c = b->p.client;
    sp->c = b->p.server;
    cp->is_client = 1;
    cp->a_len = sp->a_len = a_len;
    cp->b_len = sp->b_len = b_len;
    cp->a_seed = sp->a_seed = 0x1234u;
    cp->b_seed = sp->b_seed = 0xbeefu;
    pthread_t tc, ts;
    CHECK_EQ(pthread_create(&tc, NULL, peer_main, cp), 0);
    CHECK_EQ(pthread_create(&ts, NULL, peer_main, sp), 0);
    pthread_join(tc, NULL);
    pthread_join(ts, NULL);
    check_peer(cp, "client");
    check_peer(sp, "server");
}

static void run_threaded(cbpair *b, size_t a_len, size_t b_len, peer *cp, peer *sp) {
    run_threaded_mode(b, a_len, b_len, cp, sp, 0);
}

/* ---- tests ----------------------------------------------------------------- */

/* The plaintext loan works over callback I/O: both peers read in place
 * (read_buf receives through the callback when nothing is buffered),
 * acknowledging pieces of records; byte-exact, then a clean close. */
TEST(blocking_socketpair_read_in_place) {
    cbpair b;
    CHECK(cbpair_new(&b, "ecdsa-p256", 0, 1, 1));
    peer cp, sp;
    run_threaded_mode(&b, 100000, 54321, &cp, &sp, 1);
    CHECK_EQ(cp.received, 54321);
    CHECK_EQ(sp.received, 100000);
    CHECK_EQ(b.cio.send_bytes, b.sio.recv_bytes);
    CHECK_EQ(b.sio.send_bytes, b.cio.recv_bytes);
    /* The ciphertext loans stay buffer-I/O only. */
    uint8_t *ip;
    size_t cap;
    CHECK_EQ(ferrule_conn_input_buf(b.p.client, &ip, &cap), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(b.p.client), FERRULE_R_WRONG_STATE);
    cbpair_free(&b);
}

TEST(blocking_socketpair_both_callback) {
    static const char *const KINDS[] = {"ecdsa-p256", "rsa", "ed25519"};
    for (size_t k = 0; k < sizeof(KINDS) / sizeof(KINDS[0]); k++) {
        cbpair b;
        CHECK(cbpair_new(&b, KINDS[k], 0, 1, 1));
        peer cp, sp;
        /* More than one record each way, not a record multiple. */
        run_threaded(&b, 100000, 54321, &cp, &sp);
        CHECK_EQ(ferrule_conn_handshake_state(b.p.client), FERRULE_HS_CONNECTED);
        CHECK_EQ(ferrule_conn_cipher_suite(b.p.client), ferrule_conn_cipher_suite(b.p.server));
        CHECK_EQ(ferrule_conn_peer_cert_count(b.p.client), 2);
        /* Everything that was sent was received: no stray bytes. */
        CHECK_EQ(b.cio.send_bytes, b.sio.recv_bytes);
        CHECK_EQ(b.sio.send_bytes, b.cio.recv_bytes);
        /* With callback I/O, buffer I/O is a usage error. */
        uint8_t tmp[16];
        size_t n = 1;
        CHECK_EQ(ferrule_conn_feed(b.p.client, tmp, sizeof(tmp), &n), FERRULE_USAGE);
        CHECK_EQ(n, 0);
        CHECK_EQ(ferrule_conn_take(b.p.server, tmp, sizeof(tmp), &n), FERRULE_USAGE);
        CHECK_EQ(ferrule_conn_reason(b.p.server), FERRULE_R_WRONG_STATE);
        /* The connection is closed for writing. */
        CHECK(ferrule_conn_write(b.p.client, tmp, 1, &n) != FERRULE_OK);
        CHECK_EQ(n, 0);
        cbpair_free(&b);
    }
}

TEST(set_io_argument_checks) {
    cbpair b;
    CHECK(cbpair_new(&b, "ecdsa-p256", 0, 0, 0));
    ferrule_io_callbacks cb;
    memset(&cb, 0, sizeof(cb));
    cb.struct_size = sizeof(cb);
    cb.send = fd_send; /* recv missing */
    CHECK_EQ(ferrule_conn_set_io(b.p.client, &cb), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(b.p.client), FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_conn_set_io(b.p.client, NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_set_io(NULL, &cb), FERRULE_USAGE);
    /* An oversized struct with non-zero unknown trailing bytes. */
    struct {
        ferrule_io_callbacks cb;
        uint64_t extra;
    } big;
    memset(&big, 0, sizeof(big));
    big.cb.struct_size = sizeof(big);
    big.cb.send = fd_send;
    big.cb.recv = fd_recv;
    big.extra = 1;
    CHECK_EQ(ferrule_conn_set_io(b.p.client, &big.cb), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(b.p.client), FERRULE_R_BAD_STRUCT);
    /* Zero trailing bytes are fine. */
    big.extra = 0;
    big.cb.ctx = &b.cio;
    CHECK_EQ(ferrule_conn_set_io(b.p.client, &big.cb), FERRULE_OK);
    /* Once the handshake has moved on, switching I/O is refused. */
    CHECK_EQ(install_io(b.p.server, &b.sio), FERRULE_OK);
    peer cp, sp;
    memset(&cp, 0, sizeof(cp));
    memset(&sp, 0, sizeof(sp));
    cp.c = b.p.client;
    cp.is_client = 1;
    sp.c = b.p.server;
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, peer_hs_main, &sp), 0);
    CHECK(peer_handshake(&cp));
    pthread_join(t, NULL);
    CHECK_EQ(sp.hs_status, FERRULE_OK);
    CHECK_EQ(install_io(b.p.client, &b.cio), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(b.p.client), FERRULE_R_WRONG_STATE);
    cbpair_free(&b);
}

TEST(nonblocking_one_thread) {
    cbpair b;
    CHECK(cbpair_new(&b, "ecdsa-p256", 1, 1, 1));
    ferrule_conn *c = b.p.client, *s = b.p.server;
    int cs = FERRULE_WANT_READ, ss = FERRULE_WANT_READ;
    unsigned long want_reads = 0, rounds = 0;
    while (rounds++ < 100000 && (cs != FERRULE_OK || ss != FERRULE_OK)) {
        if (cs != FERRULE_OK) cs = ferrule_conn_handshake(c);
        if (ss != FERRULE_OK) ss = ferrule_conn_handshake(s);
        if (cs == FERRULE_WANT_READ || ss == FERRULE_WANT_READ) want_reads++;
        if ((cs != FERRULE_OK && cs != FERRULE_WANT_READ && cs != FERRULE_WANT_WRITE) ||
            (ss != FERRULE_OK && ss != FERRULE_WANT_READ && ss != FERRULE_WANT_WRITE))
            break;
    }
    CHECK_EQ(cs, FERRULE_OK);
    CHECK_EQ(ss, FERRULE_OK);
    /* Nobody blocked: each side had to come back for the other's flight. */
    CHECK(want_reads > 0);
    /* An idle connection with nothing to read says so without blocking. */
    uint8_t tmp[64];
    size_t n = 0;
    CHECK_EQ(ferrule_conn_read(c, tmp, sizeof(tmp), &n), FERRULE_WANT_READ);
    CHECK_EQ(n, 0);

    /* 1 MiB each way at the same time, bigger than the socket buffers, so
     * writes are partial and the application has to come back. */
    const size_t TOTAL = 1u << 20;
    uint8_t *out_c = malloc(TOTAL), *out_s = malloc(TOTAL), *in_c = malloc(TOTAL),
            *in_s = malloc(TOTAL);
    CHECK(out_c && out_s && in_c && in_s);
    if (!(out_c && out_s && in_c && in_s)) return;
    fill_pat(out_c, TOTAL, 1, 0);
    fill_pat(out_s, TOTAL, 2, 0);
    size_t wc = 0, ws = 0, rc = 0, rs = 0;
    unsigned long partial = 0, want_write = 0, bad = 0;
    rounds = 0;
    while ((wc < TOTAL || ws < TOTAL || rc < TOTAL || rs < TOTAL ||
            ferrule_conn_pending_output(c) > 0 || ferrule_conn_pending_output(s) > 0) &&
           rounds++ < 1000000) {
        ferrule_conn *conns[2] = {c, s};
        uint8_t *outs[2] = {out_c, out_s};
        size_t *ws_[2] = {&wc, &ws};
        for (int i = 0; i < 2; i++) {
            size_t k = 0;
            int st;
            if (*ws_[i] < TOTAL) {
                size_t len = TOTAL - *ws_[i];
                st = ferrule_conn_write(conns[i], outs[i] + *ws_[i], len, &k);
                if (st == FERRULE_OK && k < len) partial++;
            } else {
                st = ferrule_conn_write(conns[i], NULL, 0, &k); /* flush */
            }
            if (st == FERRULE_WANT_WRITE) want_write++;
            else if (st != FERRULE_OK) bad++;
            *ws_[i] += k;
        }
        uint8_t *ins[2] = {in_s, in_c};
        size_t *rs_[2] = {&rs, &rc};
        ferrule_conn *readers[2] = {s, c};
        for (int i = 0; i < 2; i++) {
            for (;;) {
                size_t k = 0;
                if (*rs_[i] >= TOTAL) break;
                int st = ferrule_conn_read(readers[i], ins[i] + *rs_[i], TOTAL - *rs_[i], &k);
                if (st == FERRULE_WANT_READ) break;
                if (st != FERRULE_OK) {
                    bad++;
                    break;
                }
                *rs_[i] += k;
            }
        }
        if (bad) break;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(wc, TOTAL);
    CHECK_EQ(ws, TOTAL);
    CHECK_EQ(rc, TOTAL);
    CHECK_EQ(rs, TOTAL);
    CHECK(partial + want_write > 0);
    CHECK(b.cio.would_blocks > 0);
    CHECK(memcmp(in_s, out_c, TOTAL) == 0);
    CHECK(memcmp(in_c, out_s, TOTAL) == 0);
    free(out_c);
    free(out_s);
    free(in_c);
    free(in_s);

    /* close_notify both ways without blocking. */
    int st = ferrule_conn_close(c);
    CHECK(st == FERRULE_OK || st == FERRULE_WANT_WRITE);
    st = ferrule_conn_close(s);
    CHECK(st == FERRULE_OK || st == FERRULE_WANT_WRITE);
    int rcs = FERRULE_WANT_READ, rss = FERRULE_WANT_READ;
    for (int i = 0; i < 1000 && (rcs == FERRULE_WANT_READ || rss == FERRULE_WANT_READ); i++) {
        if (ferrule_conn_pending_output(c) > 0) {
            st = ferrule_conn_close(c);
            CHECK(st == FERRULE_OK || st == FERRULE_WANT_WRITE);
        }
        if (ferrule_conn_pending_output(s) > 0) {
            st = ferrule_conn_close(s);
            CHECK(st == FERRULE_OK || st == FERRULE_WANT_WRITE);
        }
        if (rcs == FERRULE_WANT_READ) rcs = ferrule_conn_read(c, tmp, sizeof(tmp), &n);
        if (rss == FERRULE_WANT_READ) rss = ferrule_conn_read(s, tmp, sizeof(tmp), &n);
    }
    CHECK_EQ(rcs, FERRULE_CLOSED);
    CHECK_EQ(rss, FERRULE_CLOSED);
    cbpair_free(&b);
}

TEST(one_byte_at_a_time) {
    static const char *const KINDS[] = {"ecdsa-p256", "rsa"};
    for (size_t k = 0; k < 2; k++) {
        cbpair b;
        CHECK(cbpair_new(&b, KINDS[k], 0, 1, 1));
        b.cio.max_send = b.cio.max_recv = 1;
        b.sio.max_send = b.sio.max_recv = 1;
        peer cp, sp;
        run_threaded(&b, 20000, 17000, &cp, &sp);
        /* It really was one byte per call, in both directions. */
        CHECK_EQ(b.cio.largest_send, 1);
        CHECK_EQ(b.cio.largest_recv, 1);
        CHECK_EQ(b.sio.largest_send, 1);
        CHECK_EQ(b.sio.largest_recv, 1);
        CHECK(b.cio.send_calls >= b.cio.send_bytes);
        CHECK(b.cio.send_bytes > 20000);
        CHECK(b.sio.send_bytes > 17000);
        cbpair_free(&b);
    }
}

TEST(send_would_block_every_other_call) {
    cbpair b;
    CHECK(cbpair_new(&b, "ecdsa-p256", 0, 1, 1));
    b.cio.wb_every_other = 1;
    b.sio.wb_every_other = 1;
    peer cp, sp;
    run_threaded(&b, 70000, 70000, &cp, &sp);
    CHECK(b.cio.would_blocks > 0);
    CHECK(b.sio.would_blocks > 0);
    /* The application saw WANT_WRITE and came back. */
    CHECK(cp.retries > 0);
    CHECK(sp.retries > 0);
    cbpair_free(&b);
}

/* Also small capped sends and receives on a realistic scale. */
TEST(short_reads_and_writes) {
    cbpair b;
    CHECK(cbpair_new(&b, "rsa", 0, 1, 1));
    b.cio.max_send = 7;
    b.sio.max_recv = 13;
    b.sio.max_send = 1000;
    b.cio.max_recv = 3;
    peer cp, sp;
    run_threaded(&b, 40000, 40000, &cp, &sp);
    CHECK(b.cio.largest_send <= 7);
    CHECK(b.cio.largest_recv <= 3);
    cbpair_free(&b);
}

/* A server in buffer mode that plays the real server flight to a callback
 * client over a socket: returns its output bytes (up to cap). */
static size_t server_first_flight(ferrule_conn *srv, int fd, uint8_t *out, size_t cap) {
    uint8_t in[4096];
    size_t total = 0;
    for (int i = 0; i < 200; i++) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 10000) <= 0) break;
        ssize_t r = recv(fd, in, sizeof(in), 0);
        if (r <= 0) break;
        size_t fed = 0;
        if (ferrule_conn_feed(srv, in, (size_t)r, &fed) != FERRULE_OK || fed != (size_t)r) break;
        int st = ferrule_conn_handshake(srv);
        if (st != FERRULE_WANT_READ) break;
        if (ferrule_conn_pending_output(srv) > 0) {
            size_t n = 0;
            if (ferrule_conn_take(srv, out, cap, &n) != FERRULE_OK) break;
            total = n;
            break;
        }
    }
    return total;
}

typedef struct hs_thread {
    ferrule_conn *c;
    int status;
} hs_thread;

static void *hs_main(void *arg) {
    hs_thread *h = arg;
    int st;
    int i = 0;
    while ((st = ferrule_conn_handshake(h->c)) == FERRULE_WANT_WRITE && i++ < 1000) {
    }
    h->status = st;
    return NULL;
}

TEST(eof_mid_handshake_is_truncated) {
    cbpair b;
    CHECK(cbpair_new(&b, "ecdsa-p256", 0, 1, 0));
    hs_thread h = {b.p.client, -1};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, hs_main, &h), 0);
    /* The real server answers, but only half of its flight arrives before
     * the transport ends. */
    uint8_t flight[16384];
    size_t n = server_first_flight(b.p.server, b.sv[1], flight, sizeof(flight));
    CHECK(n > 100);
    CHECK_EQ(send(b.sv[1], flight, n / 2, MSG_NOSIGNAL), (ssize_t)(n / 2));
    CHECK_EQ(shutdown(b.sv[1], SHUT_WR), 0);
    pthread_join(t, NULL);
    CHECK_EQ(h.status, FERRULE_TRUNCATED);
    CHECK_EQ(ferrule_conn_reason(b.p.client), FERRULE_R_TRUNCATED);
    CHECK_EQ(ferrule_conn_handshake_state(b.p.client), FERRULE_HS_FAILED);
    /* Sticky. */
    CHECK_EQ(ferrule_conn_handshake(b.p.client), FERRULE_TRUNCATED);
    uint8_t tmp[8];
    size_t k = 0;
    CHECK_EQ(ferrule_conn_read(b.p.client, tmp, sizeof(tmp), &k), FERRULE_TRUNCATED);
    CHECK_EQ(ferrule_conn_write(b.p.client, tmp, sizeof(tmp), &k), FERRULE_TRUNCATED);
    CHECK_EQ(k, 0);
    cbpair_free(&b);

    /* EOF before a single byte of the server (recv returns 0 at once). */
    CHECK(cbpair_new(&b, "ecdsa-p256", 0, 1, 0));
    b.cio.recv_eof = 1;
    CHECK_EQ(ferrule_conn_handshake(b.p.client), FERRULE_TRUNCATED);
    CHECK_EQ(ferrule_conn_reason(b.p.client), FERRULE_R_TRUNCATED);
    CHECK(b.cio.send_bytes > 0); /* the ClientHello went out first */
    cbpair_free(&b);

    /* Server side: the client hangs up after half a ClientHello. */
    CHECK(cbpair_new(&b, "ecdsa-p256", 0, 0, 1));
    CHECK_EQ(ferrule_conn_handshake(b.p.client), FERRULE_WANT_READ);
    uint8_t ch[4096];
    CHECK_EQ(ferrule_conn_take(b.p.client, ch, sizeof(ch), &n), FERRULE_OK);
    CHECK(n > 10);
    CHECK_EQ(send(b.sv[0], ch, n / 2, MSG_NOSIGNAL), (ssize_t)(n / 2));
    CHECK_EQ(shutdown(b.sv[0], SHUT_WR), 0);
    CHECK_EQ(ferrule_conn_handshake(b.p.server), FERRULE_TRUNCATED);
    CHECK_EQ(ferrule_conn_reason(b.p.server), FERRULE_R_TRUNCATED);
    cbpair_free(&b);
}

TEST(eof_after_handshake_is_truncated_not_closed) {
    cbpair b;
    CHECK(cbpair_new(&b, "ecdsa-p256", 0, 1, 1));
    hs_thread h = {b.p.server, -1};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, hs_main, &h), 0);
    int st = ferrule_conn_handshake(b.p.client);
    pthread_join(t, NULL);
    CHECK_EQ(st, FERRULE_OK);
    CHECK_EQ(h.status, FERRULE_OK);
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write(b.p.server, (const uint8_t *)"abc", 3, &n), FERRULE_OK);
    CHECK_EQ(shutdown(b.sv[1], SHUT_WR), 0); /* no close_notify */
    uint8_t buf[16];
    CHECK_EQ(ferrule_conn_read(b.p.client, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK_EQ(n, 3);
    CHECK_MEM(buf, "abc", 3);
    CHECK_EQ(ferrule_conn_read(b.p.client, buf, sizeof(buf), &n), FERRULE_TRUNCATED);
    CHECK_EQ(ferrule_conn_reason(b.p.client), FERRULE_R_TRUNCATED);
    cbpair_free(&b);
}

TEST(recv_error_is_internal_io) {
    cbpair b;
    CHECK(cbpair_new(&b, "ecdsa-p256", 0, 1, 0));
    b.cio.recv_fails = 1;
    CHECK_EQ(ferrule_conn_handshake(b.p.client), FERRULE_INTERNAL);
    CHECK_EQ(ferrule_conn_status(b.p.client), FERRULE_INTERNAL);
    CHECK_EQ(ferrule_conn_reason(b.p.client), FERRULE_R_IO);
    CHECK(strcmp(ferrule_reason_name(ferrule_conn_reason(b.p.client)), "io_error") == 0);
    CHECK_EQ(ferrule_conn_handshake_state(b.p.client), FERRULE_HS_FAILED);
    CHECK_EQ(b.cio.recv_calls, 1);
    /* Sticky, and the dead transport is not used again. */
    CHECK_EQ(ferrule_conn_handshake(b.p.client), FERRULE_INTERNAL);
    CHECK_EQ(b.cio.recv_calls, 1);
    cbpair_free(&b);

    /* After the handshake, a receive failure fails the read. */
    CHECK(cbpair_new(&b, "ecdsa-p256", 0, 1, 1));
    hs_thread h = {b.p.server, -1};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, hs_main, &h), 0);
    CHECK_EQ(ferrule_conn_handshake(b.p.client), FERRULE_OK);
    pthread_join(t, NULL);
    CHECK_EQ(h.status, FERRULE_OK);
    b.cio.recv_fails = 1;
    uint8_t buf[16];
    size_t n = 0;
    CHECK_EQ(ferrule_conn_read(b.p.client, buf, sizeof(buf), &n), FERRULE_INTERNAL);
    CHECK_EQ(ferrule_conn_reason(b.p.client), FERRULE_R_IO);
    CHECK_EQ(ferrule_conn_write(b.p.client, buf, 1, &n), FERRULE_INTERNAL);
    cbpair_free(&b);
}

TEST(send_error_is_internal_io) {
    cbpair b;
    CHECK(cbpair_new(&b, "ecdsa-p256", 0, 1, 0));
    b.cio.send_fails = 1;
    CHECK_EQ(ferrule_conn_handshake(b.p.client), FERRULE_INTERNAL);
    CHECK_EQ(ferrule_conn_reason(b.p.client), FERRULE_R_IO);
    CHECK(strcmp(ferrule_reason_name(ferrule_conn_reason(b.p.client)), "io_error") == 0);
    CHECK_EQ(b.cio.recv_calls, 0); /* never waited for an answer */
    CHECK_EQ(ferrule_conn_handshake(b.p.client), FERRULE_INTERNAL);
    CHECK_EQ(b.cio.send_calls, 1);
    cbpair_free(&b);

    /* A real transport failure: the peer has gone (EPIPE). */
    CHECK(cbpair_new(&b, "ecdsa-p256", 0, 1, 0));
    close(b.sv[1]);
    b.sv[1] = -1;
    CHECK_EQ(ferrule_conn_handshake(b.p.client), FERRULE_INTERNAL);
    CHECK_EQ(ferrule_conn_reason(b.p.client), FERRULE_R_IO);
    cbpair_free(&b);

    /* The server's send fails while answering. */
    CHECK(cbpair_new(&b, "ecdsa-p256", 0, 1, 1));
    b.sio.send_fails = 1;
    hs_thread h = {b.p.client, -1};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, hs_main, &h), 0);
    CHECK_EQ(ferrule_conn_handshake(b.p.server), FERRULE_INTERNAL);
    CHECK_EQ(ferrule_conn_reason(b.p.server), FERRULE_R_IO);
    shutdown(b.sv[1], SHUT_RDWR); /* let the client see the end */
    pthread_join(t, NULL);
    CHECK_EQ(h.status, FERRULE_TRUNCATED);
    cbpair_free(&b);

    /* After the handshake, a send failure fails the write. */
    CHECK(cbpair_new(&b, "ecdsa-p256", 0, 1, 1));
    h.c = b.p.server;
    h.status = -1;
    CHECK_EQ(pthread_create(&t, NULL, hs_main, &h), 0);
    CHECK_EQ(ferrule_conn_handshake(b.p.client), FERRULE_OK);
    pthread_join(t, NULL);
    CHECK_EQ(h.status, FERRULE_OK);
    b.cio.send_fails = 1;
    size_t n = 0;
    uint8_t buf[100] = {0};
    CHECK_EQ(ferrule_conn_write(b.p.client, buf, sizeof(buf), &n), FERRULE_INTERNAL);
    CHECK_EQ(ferrule_conn_reason(b.p.client), FERRULE_R_IO);
    CHECK_EQ(ferrule_conn_pending_output(b.p.client), 0);
    CHECK_EQ(ferrule_conn_write(b.p.client, buf, sizeof(buf), &n), FERRULE_INTERNAL);
    CHECK_EQ(n, 0);
    cbpair_free(&b);
}

/* ---- mixed: callback client, buffer-mode server --------------------------- */

typedef struct bufsrv {
    ferrule_conn *c;
    int fd;
    uint8_t carry[8192];
    size_t carry_off, carry_len;
    int eof;
    int fail_line;
} bufsrv;

/* Send all pending output of the buffer-mode connection to the socket. */
static int bs_flush(bufsrv *b) {
    uint8_t tmp[4096];
    while (ferrule_conn_pending_output(b->c) > 0) {
        size_t n = 0;
        if (ferrule_conn_take(b->c, tmp, sizeof(tmp), &n) != FERRULE_OK || n == 0) return 0;
        for (size_t off = 0; off < n;) {
            ssize_t r = send(b->fd, tmp + off, n - off, MSG_NOSIGNAL);
            if (r <= 0) return 0;
            off += (size_t)r;
        }
    }
    return 1;
}

/* Give the connection more input from the socket (waiting for it). */
static int bs_pump(bufsrv *b) {
    if (b->carry_len == 0 && !b->eof) {
        struct pollfd pf = {b->fd, POLLIN, 0};
        if (poll(&pf, 1, 30000) <= 0) return 0; /* hang guard, not a timing assert */
        ssize_t r = recv(b->fd, b->carry, sizeof(b->carry), 0);
        if (r < 0) return 0;
        if (r == 0) {
            b->eof = 1;
            return ferrule_conn_feed_eof(b->c) == FERRULE_OK;
        }
        b->carry_off = 0;
        b->carry_len = (size_t)r;
    }
    if (b->carry_len == 0) return 0;
    size_t fed = 0;
    if (ferrule_conn_feed(b->c, b->carry + b->carry_off, b->carry_len, &fed) != FERRULE_OK)
        return 0;
    b->carry_off += fed;
    b->carry_len -= fed;
    return 1;
}

TEST(callback_client_buffer_server) {
    cbpair b;
    CHECK(cbpair_new(&b, "ecdsa-p256", 0, 1, 0));
    peer cp;
    memset(&cp, 0, sizeof(cp));
    cp.c = b.p.client;
    cp.is_client = 1;
    cp.a_len = 50000;
    cp.b_len = 30000;
    cp.a_seed = 7;
    cp.b_seed = 8;
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, peer_main, &cp), 0);

    bufsrv s;
    memset(&s, 0, sizeof(s));
    s.c = b.p.server;
    s.fd = b.sv[1];
    int st;
    int ok = 1;
    /* Handshake. */
    while ((st = ferrule_conn_handshake(s.c)) == FERRULE_WANT_READ) {
        if (!bs_flush(&s) || !bs_pump(&s)) {
            ok = 0;
            break;
        }
    }
    CHECK_EQ(st, FERRULE_OK);
    CHECK(ok && bs_flush(&s));
    /* Read the client's data. */
    size_t got = 0;
    uint8_t buf[3000];
    while (ok && got < cp.a_len) {
        size_t n = 0;
        st = ferrule_conn_read(s.c, buf, sizeof(buf), &n);
        if (st == FERRULE_WANT_READ) {
            ok = bs_pump(&s);
            continue;
        }
        if (st != FERRULE_OK) break;
        for (size_t i = 0; i < n; i++)
            if (buf[i] != pat(cp.a_seed, got + i)) ok = 0;
        got += n;
    }
    CHECK(ok);
    CHECK_EQ(got, cp.a_len);
    /* Answer. */
    size_t sent = 0;
    while (ok && sent < cp.b_len) {
        size_t chunk = cp.b_len - sent < sizeof(buf) ? cp.b_len - sent : sizeof(buf);
        fill_pat(buf, chunk, cp.b_seed, sent);
        size_t n = 0;
        st = ferrule_conn_write(s.c, buf, chunk, &n);
        if (st != FERRULE_OK && st != FERRULE_WANT_WRITE) ok = 0;
        sent += n;
        ok = ok && bs_flush(&s);
    }
    CHECK(ok);
    /* The client closes; we see CLOSED, then close too. */
    size_t n = 0;
    while (ok && (st = ferrule_conn_read(s.c, buf, sizeof(buf), &n)) == FERRULE_WANT_READ)
        ok = bs_pump(&s);
    CHECK_EQ(st, FERRULE_CLOSED);
    CHECK_EQ(ferrule_conn_close(s.c), FERRULE_OK);
    CHECK(bs_flush(&s));
    pthread_join(t, NULL);
    check_peer(&cp, "client");
    cbpair_free(&b);
}

TEST_MAIN("callback_io", TL_CASE(blocking_socketpair_both_callback),
          TL_CASE(blocking_socketpair_read_in_place), TL_CASE(set_io_argument_checks),
          TL_CASE(nonblocking_one_thread), TL_CASE(one_byte_at_a_time),
          TL_CASE(send_would_block_every_other_call), TL_CASE(short_reads_and_writes),
          TL_CASE(eof_mid_handshake_is_truncated),
          TL_CASE(eof_after_handshake_is_truncated_not_closed), TL_CASE(recv_error_is_internal_io),
          TL_CASE(send_error_is_internal_io), TL_CASE(callback_client_buffer_server))
