/* test_threads.c - the documented concurrency of a ferrule_conn (see the
 * thread-safety section of ferrule.h): after the handshake, one thread runs
 * the receive half while another runs the send half of the SAME
 * connection.  Both ends do it at once over a socketpair with blocking
 * callback I/O, so four threads: each side writes N framed messages of
 * varying size while reading the peer's, then closes.
 *
 * A watchdog turns a deadlock into a test failure (it shuts the sockets
 * down when no thread has made progress for a long while) instead of a
 * hung test run. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "support_pair.h"
#include "testlib.h"

#define N_MESSAGES 2000
#define MAX_PAYLOAD 20000
#define HDR 12 /* seq u32 || len u32 || checksum u32 */
#define STALL_SECONDS 20 /* no progress at all for this long = deadlock */

/* Total bytes moved by every thread: the watchdog's progress signal. */
static atomic_ulong g_progress;

static long sock_send(void *ctx, const uint8_t *data, size_t len) {
    int fd = *(const int *)ctx;
    for (;;) {
        ssize_t r = send(fd, data, len, MSG_NOSIGNAL);
        if (r > 0) {
            atomic_fetch_add(&g_progress, (unsigned long)r);
            return (long)r;
        }
        if (r < 0 && errno == EINTR) continue;
        return FERRULE_IO_ERROR;
    }
}

static long sock_recv(void *ctx, uint8_t *buf, size_t cap) {
    int fd = *(const int *)ctx;
    for (;;) {
        ssize_t r = recv(fd, buf, cap, 0);
        if (r >= 0) {
            atomic_fetch_add(&g_progress, (unsigned long)r);
            return (long)r;
        }
        if (errno == EINTR) continue;
        return FERRULE_IO_ERROR;
    }
}

/* ---- message framing ------------------------------------------------------ */

static uint32_t mix(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

static size_t payload_len(uint32_t seed, uint32_t seq) {
    uint32_t r = mix(seed ^ (seq * 0x9e3779b9u));
    /* Mostly spread over 1..20000; every 16th message tiny, every 16th
     * exactly at or around the record size. */
    if (seq % 16 == 3) return 1 + r % 8;
    if (seq % 16 == 7) return 16384 - HDR - 1 + r % 3;
    return 1 + r % MAX_PAYLOAD;
}

static uint8_t payload_byte(uint32_t seed, uint32_t seq, size_t i) {
    return (uint8_t)(mix(seed + seq * 131u + (uint32_t)i) >> 7);
}

static uint32_t fnv1a(const uint8_t *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- the four threads ----------------------------------------------------- */

typedef struct half {
    ferrule_conn *c;
    uint32_t seed; /* writer: our stream; reader: the peer's */
    /* results (read by the main thread after join) */
    int fail_line;
    int fail_status;
    uint32_t messages;  /* written / received intact and in order */
    unsigned long bytes;
    int final_status; /* writer: close; reader: the read after the last message */
} half;

#define HALF_FAIL(h, st)                                                                           \
    do {                                                                                           \
        (h)->fail_line = __LINE__;                                                                 \
        (h)->fail_status = (st);                                                                   \
        return NULL;                                                                               \
    } while (0)

static void *writer_main(void *arg) {
    half *h = arg;
    uint8_t *msg = malloc(HDR + MAX_PAYLOAD);
    if (msg == NULL) HALF_FAIL(h, -1);
    for (uint32_t seq = 0; seq < N_MESSAGES; seq++) {
        size_t len = payload_len(h->seed, seq);
        for (size_t i = 0; i < len; i++) msg[HDR + i] = payload_byte(h->seed, seq, i);
        put32(msg, seq);
        put32(msg + 4, (uint32_t)len);
        put32(msg + 8, fnv1a(msg + HDR, len));
        size_t total = HDR + len, off = 0;
        while (off < total) {
            size_t n = 0;
            int st = ferrule_conn_write(h->c, msg + off, total - off, &n);
            if (st != FERRULE_OK) {
                free(msg);
                HALF_FAIL(h, st);
            }
            off += n;
        }
        h->messages = seq + 1;
        h->bytes += total;
    }
    free(msg);
    h->final_status = ferrule_conn_close(h->c);
    return NULL;
}

/* Read exactly n bytes; returns the status (FERRULE_OK when complete). */
static int read_exact(ferrule_conn *c, uint8_t *buf, size_t n) {
    size_t off = 0;
    while (off < n) {
        size_t k = 0;
        int st = ferrule_conn_read(c, buf + off, n - off, &k);
        if (st != FERRULE_OK) return st;
        off += k;
    }
    return FERRULE_OK;
}

static void *reader_main(void *arg) {
    half *h = arg;
    uint8_t *msg = malloc(HDR + MAX_PAYLOAD);
    if (msg == NULL) HALF_FAIL(h, -1);
    for (uint32_t seq = 0; seq < N_MESSAGES; seq++) {
        int st = read_exact(h->c, msg, HDR);
        if (st != FERRULE_OK) {
            free(msg);
            HALF_FAIL(h, st);
        }
        size_t len = get32(msg + 4);
        if (get32(msg) != seq || len != payload_len(h->seed, seq)) {
            free(msg);
            HALF_FAIL(h, -2);
        }
        st = read_exact(h->c, msg + HDR, len);
        if (st != FERRULE_OK) {
            free(msg);
            HALF_FAIL(h, st);
        }
        int ok = fnv1a(msg + HDR, len) == get32(msg + 8);
        for (size_t i = 0; ok && i < len; i++) ok = msg[HDR + i] == payload_byte(h->seed, seq, i);
        if (!ok) {
            free(msg);
            HALF_FAIL(h, -3);
        }
        h->messages = seq + 1;
        h->bytes += HDR + len;
    }
    /* Nothing after the last message but the peer's close_notify. */
    size_t k = 0;
    h->final_status = ferrule_conn_read(h->c, msg, HDR + MAX_PAYLOAD, &k);
    free(msg);
    return NULL;
}

/* ---- watchdog ---------------------------------------------------------------- */

typedef struct watchdog {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    int fired;
    int fds[2];
} watchdog;

static void *watchdog_main(void *arg) {
    watchdog *w = arg;
    unsigned long last = atomic_load(&g_progress);
    int stalled = 0;
    pthread_mutex_lock(&w->mu);
    while (!w->done) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        if (w->done) break;
        unsigned long now = atomic_load(&g_progress);
        stalled = now == last ? stalled + 1 : 0;
        last = now;
        if (stalled >= STALL_SECONDS) {
            /* Unblock every thread stuck in send/recv (and so every thread
             * waiting for a lock they hold). */
            w->fired = 1;
            shutdown(w->fds[0], SHUT_RDWR);
            shutdown(w->fds[1], SHUT_RDWR);
            break;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* ---- the test ------------------------------------------------------------------ */

typedef struct hs_arg {
    ferrule_conn *c;
    int status;
} hs_arg;

static void *hs_main(void *arg) {
    hs_arg *a = arg;
    a->status = ferrule_conn_handshake(a->c);
    return NULL;
}

static void report(const char *who, const half *h) {
    if (h->fail_line != 0 || h->messages != N_MESSAGES)
        fprintf(stderr, "  %s: stopped at message %u (test line %d, status %d = %s, %s)\n", who,
                h->messages, h->fail_line, h->fail_status,
                h->fail_status >= 0 ? ferrule_status_name(h->fail_status) : "data check",
                ferrule_conn_error_message(h->c));
}

static void run_duplex(const char *kind) {
    ferrule_config *ccfg = pair_client_config(), *scfg = pair_server_config(kind);
    CHECK(ccfg != NULL && scfg != NULL);
    if (ccfg == NULL || scfg == NULL) return;
    pair p;
    CHECK(pair_new(&p, ccfg, scfg, NULL));
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ferrule_io_callbacks cio = {sizeof(cio), sock_send, sock_recv, &sv[0]};
    ferrule_io_callbacks sio = {sizeof(sio), sock_send, sock_recv, &sv[1]};
    CHECK_EQ(ferrule_conn_set_io(p.client, &cio), FERRULE_OK);
    CHECK_EQ(ferrule_conn_set_io(p.server, &sio), FERRULE_OK);

    watchdog w;
    memset(&w, 0, sizeof(w));
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    w.fds[0] = sv[0];
    w.fds[1] = sv[1];
    pthread_t wt;
    CHECK_EQ(pthread_create(&wt, NULL, watchdog_main, &w), 0);

    /* Handshake: one thread per side. */
    hs_arg hc = {p.client, -1}, hsrv = {p.server, -1};
    pthread_t t1, t2;
    CHECK_EQ(pthread_create(&t1, NULL, hs_main, &hc), 0);
    CHECK_EQ(pthread_create(&t2, NULL, hs_main, &hsrv), 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    CHECK_EQ(hc.status, FERRULE_OK);
    CHECK_EQ(hsrv.status, FERRULE_OK);

    if (hc.status == FERRULE_OK && hsrv.status == FERRULE_OK) {
        half cw = {p.client, 0xc0ffee01u, 0, 0, 0, 0, -1};
        half cr = {p.client, 0x5e4e4e02u, 0, 0, 0, 0, -1};
        half sw = {p.server, 0x5e4e4e02u, 0, 0, 0, 0, -1};
        half sr = {p.server, 0xc0ffee01u, 0, 0, 0, 0, -1};
        pthread_t t[4];
        CHECK_EQ(pthread_create(&t[0], NULL, reader_main, &cr), 0);
        CHECK_EQ(pthread_create(&t[1], NULL, reader_main, &sr), 0);
        CHECK_EQ(pthread_create(&t[2], NULL, writer_main, &cw), 0);
        CHECK_EQ(pthread_create(&t[3], NULL, writer_main, &sw), 0);
        for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
        report("client writer", &cw);
        report("client reader", &cr);
        report("server writer", &sw);
        report("server reader", &sr);
        CHECK_EQ(cw.fail_line, 0);
        CHECK_EQ(cr.fail_line, 0);
        CHECK_EQ(sw.fail_line, 0);
        CHECK_EQ(sr.fail_line, 0);
        CHECK_EQ(cw.messages, N_MESSAGES);
        CHECK_EQ(sw.messages, N_MESSAGES);
        CHECK_EQ(cr.messages, N_MESSAGES);
        CHECK_EQ(sr.messages, N_MESSAGES);
        CHECK_EQ(cr.bytes, sw.bytes);
        CHECK_EQ(sr.bytes, cw.bytes);
        CHECK_EQ(cw.final_status, FERRULE_OK);
        CHECK_EQ(sw.final_status, FERRULE_OK);
        CHECK_EQ(cr.final_status, FERRULE_CLOSED);
        CHECK_EQ(sr.final_status, FERRULE_CLOSED);
        CHECK_EQ(ferrule_conn_status(p.client), FERRULE_OK);
        CHECK_EQ(ferrule_conn_status(p.server), FERRULE_OK);
    }

    pthread_mutex_lock(&w.mu);
    w.done = 1;
    pthread_cond_signal(&w.cv);
    pthread_mutex_unlock(&w.mu);
    pthread_join(wt, NULL);
    if (w.fired)
        fprintf(stderr, "  %s: no progress for %d s: deadlock, sockets shut down\n", kind,
                STALL_SECONDS);
    CHECK_EQ(w.fired, 0);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    pair_free(&p);
    close(sv[0]);
    close(sv[1]);
    ferrule_config_free(ccfg);
    ferrule_config_free(scfg);
}

TEST(full_duplex_ecdsa) { run_duplex("ecdsa-p256"); }
TEST(full_duplex_rsa) { run_duplex("rsa"); }

/* Several connections sharing one frozen config, each on its own threads. */
typedef struct conn_job {
    ferrule_config *ccfg, *scfg;
    int ok;
} conn_job;

static void *small_session(void *arg) {
    conn_job *j = arg;
    pair p;
    if (!pair_new(&p, j->ccfg, j->scfg, NULL)) return NULL;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        pair_free(&p);
        return NULL;
    }
    ferrule_io_callbacks cio = {sizeof(cio), sock_send, sock_recv, &sv[0]};
    ferrule_io_callbacks sio = {sizeof(sio), sock_send, sock_recv, &sv[1]};
    hs_arg hsrv = {p.server, -1};
    pthread_t t;
    if (ferrule_conn_set_io(p.client, &cio) == FERRULE_OK &&
        ferrule_conn_set_io(p.server, &sio) == FERRULE_OK &&
        pthread_create(&t, NULL, hs_main, &hsrv) == 0) {
        int cs = ferrule_conn_handshake(p.client);
        if (cs != FERRULE_OK) shutdown(sv[0], SHUT_RDWR);
        pthread_join(t, NULL);
        uint8_t buf[8];
        size_t n = 0, m = 0;
        j->ok = cs == FERRULE_OK && hsrv.status == FERRULE_OK &&
                ferrule_conn_write(p.client, (const uint8_t *)"ping", 4, &n) == FERRULE_OK &&
                ferrule_conn_read(p.server, buf, sizeof(buf), &m) == FERRULE_OK && m == 4 &&
                memcmp(buf, "ping", 4) == 0;
    }
    pair_free(&p);
    close(sv[0]);
    close(sv[1]);
    return NULL;
}

TEST(shared_config_many_threads) {
    ferrule_config *ccfg = pair_client_config(), *scfg = pair_server_config("ecdsa-p256");
    CHECK(ccfg != NULL && scfg != NULL);
    if (ccfg == NULL || scfg == NULL) return;
    enum { JOBS = 8 };
    conn_job jobs[JOBS];
    pthread_t t[JOBS];
    for (int i = 0; i < JOBS; i++) {
        jobs[i].ccfg = ccfg;
        jobs[i].scfg = scfg;
        jobs[i].ok = 0;
        CHECK_EQ(pthread_create(&t[i], NULL, small_session, &jobs[i]), 0);
    }
    for (int i = 0; i < JOBS; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < JOBS; i++) CHECK(jobs[i].ok);
    /* The configs are frozen and still referenced only by us. */
    CHECK_EQ(ferrule_config_set_memory_limit(ccfg, 1u << 20), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(ccfg), FERRULE_R_CONFIG_FROZEN);
    ferrule_config_free(ccfg);
    ferrule_config_free(scfg);
}

TEST_MAIN("threads", TL_CASE(full_duplex_ecdsa), TL_CASE(full_duplex_rsa),
          TL_CASE(shared_config_many_threads))
