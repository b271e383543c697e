/*
 * gen_seeds.c - records seed inputs for the fuzz targets (a developer tool;
 * its output is committed under fuzz/corpus/, see fuzz/README.md).
 *
 *   gen_seeds pairs OUTDIR
 *       In-memory handshakes between ferrule clients and the fuzz_server
 *       server, and between the fuzz_client client and ferrule servers, each
 *       side on its own deterministic random stream exactly as in the fuzz
 *       targets.  Writes OUTDIR/fuzz_server/<name> (client bytes) and
 *       OUTDIR/fuzz_client/<name> (server bytes), prefixed with the split
 *       byte, plus OUTDIR/fuzz_record/<name> (records sealed with the
 *       fuzz_record key).
 *   gen_seeds connect PORT OUTFILE
 *       The fuzz_client client over TCP to 127.0.0.1:PORT (e.g. openssl
 *       s_server -www): sends "GET / HTTP/1.0", records every byte the
 *       server sent into OUTFILE (prefixed with the split byte 0).
 *   gen_seeds listen PORT OUTFILE
 *       The fuzz_server server accepting one TCP connection on
 *       127.0.0.1:PORT (e.g. from openssl s_client or gnutls-cli): echoes
 *       one read, sends close_notify, records every client byte.
 *   gen_seeds sessions OUTDIR
 *       Session blobs for fuzz_session: NewSessionTickets (with and
 *       without early_data, small and large tickets) dispatched to the
 *       fuzz_nst client, then ferrule_conn_session; OUTDIR/fuzz_session/.
 * Because both targets reset the random streams per input, a recorded
 * transcript replays byte-exactly inside the target: the handshake
 * completes, and mutations reach every message and record.
 */
#include "fuzz_hs.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record.h"

/* gcc ignores a (void) cast on a warn_unused_result call; the seed recorder
 * only logs bytes, the statuses that matter are checked where they matter. */
static void ignore_status(int s) { (void)s; }

/* ---- byte buffers and files ------------------------------------------------ */

typedef struct bytes {
    uint8_t *p;
    size_t n, cap;
} bytes;

static void bytes_add(bytes *b, const uint8_t *p, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        uint8_t *np = realloc(b->p, cap);
        FUZZ_CHECK(np != NULL);
        b->p = np;
        b->cap = cap;
    }
    if (n > 0) memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void write_seed(const char *dir, const char *name, uint8_t prefix, const uint8_t *p,
                       size_t n) {
    char path[1024];
    mkdir(dir, 0755);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fwrite(&prefix, 1, 1, f) == 1);
    FUZZ_CHECK(n == 0 || fwrite(p, 1, n, f) == n);
    FUZZ_CHECK(fclose(f) == 0);
    printf("wrote %s (%zu bytes)\n", path, n + 1);
}

/* ---- in-memory pairs --------------------------------------------------------- */

/* Take everything `from` wants to send (on its stream) into `log` and
 * `pending`. */
static void collect(ferrule_conn *from, bytes *log, bytes *pending) {
    uint8_t buf[32768];
    while (ferrule_conn_pending_output(from) > 0) {
        size_t n = 0;
        FUZZ_CHECK(ferrule_conn_take(from, buf, sizeof(buf), &n) == FERRULE_OK);
        if (n == 0) break;
        bytes_add(log, buf, n);
        bytes_add(pending, buf, n);
    }
}

/* Feed as much of `pending` as `to` accepts, driving it in between. */
static void deliver(ferrule_conn *to, int stream, bytes *pending, int connected) {
    fuzz_rng_select(stream);
    size_t off = 0;
    for (int i = 0; i < 1000 && off < pending->n; i++) {
        size_t used = 0;
        if (ferrule_conn_feed(to, pending->p + off, pending->n - off, &used) != FERRULE_OK) break;
        off += used;
        if (used == 0) {
            if (!connected) {
                ignore_status(ferrule_conn_handshake(to));
            } else {
                uint8_t sink[16384];
                size_t n = 0;
                ignore_status(ferrule_conn_read(to, sink, sizeof(sink), &n));
            }
        }
    }
    memmove(pending->p, pending->p + off, pending->n - off);
    pending->n -= off;
}

/* Read all application data `c` has (on its stream). */
static void drain_app(ferrule_conn *c, int stream) {
    fuzz_rng_select(stream);
    uint8_t buf[16384];
    for (int i = 0; i < 64; i++) {
        size_t n = 0;
        if (ferrule_conn_read(c, buf, sizeof(buf), &n) != FERRULE_OK) break;
    }
}

typedef struct pair_opts {
    const char *sni;
    const uint8_t *app; /* client -> server application data */
    size_t app_len;
    int client_closes; /* client sends close_notify at the end */
    int server_talks;  /* server writes before the client closes */
    const uint8_t *session; /* offer this session ... */
    size_t session_len;
    int early;             /* ... and send `app` as 0-RTT data */
    uint8_t *session_out;  /* the client's newest session (cap 8192) */
    size_t *session_out_len;
} pair_opts;

/* Run one deterministic handshake + exchange; fills c2s / s2c. */
static int run_pair(ferrule_config *ccfg, ferrule_config *scfg, const pair_opts *o, bytes *c2s,
                    bytes *s2c) {
    fuzz_rng_reset();
    fuzz_rng_select(FUZZ_RNG_CLIENT);
    ferrule_conn_options co;
    memset(&co, 0, sizeof(co));
    co.struct_size = (uint32_t)sizeof(co);
    co.server_name = o->sni;
    ferrule_conn *c = NULL, *s = NULL;
    FUZZ_CHECK(ferrule_conn_new(&c, ccfg, &co) == FERRULE_OK);
    fuzz_rng_select(FUZZ_RNG_SERVER);
    FUZZ_CHECK(ferrule_conn_new(&s, scfg, NULL) == FERRULE_OK);
    bytes pc = {0}, ps = {0};
    fuzz_rng_select(FUZZ_RNG_CLIENT);
    if (o->session != NULL)
        FUZZ_CHECK(ferrule_conn_set_session(c, o->session, o->session_len) == FERRULE_OK);
    if (o->early) {
        size_t n = 0;
        FUZZ_CHECK(ferrule_conn_write_early_data(c, o->app, o->app_len,
                                                 FERRULE_EARLY_DATA_REPLAY_SAFE, &n) == FERRULE_OK);
        FUZZ_CHECK(n == o->app_len);
    }
    int cs = FERRULE_WANT_READ, ss = FERRULE_WANT_READ;
    for (int round = 0; round < 16; round++) {
        fuzz_rng_select(FUZZ_RNG_CLIENT);
        cs = ferrule_conn_handshake(c);
        collect(c, c2s, &pc);
        deliver(s, FUZZ_RNG_SERVER, &pc, 0);
        ss = ferrule_conn_handshake(s);
        collect(s, s2c, &ps);
        deliver(c, FUZZ_RNG_CLIENT, &ps, 0);
        if (cs == FERRULE_OK && ss == FERRULE_OK) break;
        if ((cs != FERRULE_OK && cs != FERRULE_WANT_READ) ||
            (ss != FERRULE_OK && ss != FERRULE_WANT_READ))
            break;
    }
    int ok = cs == FERRULE_OK && ss == FERRULE_OK;
    if (!ok) {
        fprintf(stderr, "pair failed: client %s (%s), server %s (%s)\n", ferrule_status_name(cs),
                ferrule_conn_error_message(c), ferrule_status_name(ss),
                ferrule_conn_error_message(s));
    }
    if (ok) {
        size_t n = 0;
        /* Server's post-handshake messages (tickets, if any) reach the client. */
        collect(s, s2c, &ps);
        deliver(c, FUZZ_RNG_CLIENT, &ps, 1);
        drain_app(c, FUZZ_RNG_CLIENT);
        if (o->early)
            FUZZ_CHECK(ferrule_conn_early_data_status(s) == FERRULE_EARLY_ACCEPTED);
        if (o->app_len > 0 && !o->early) {
            fuzz_rng_select(FUZZ_RNG_CLIENT);
            FUZZ_CHECK(ferrule_conn_write(c, o->app, o->app_len, &n) == FERRULE_OK);
            collect(c, c2s, &pc);
            deliver(s, FUZZ_RNG_SERVER, &pc, 1);
            drain_app(s, FUZZ_RNG_SERVER);
        }
        if (o->server_talks) {
            fuzz_rng_select(FUZZ_RNG_SERVER);
            static const uint8_t reply[] = "HTTP/1.0 200 OK\r\n\r\nhello from the fuzz server\n";
            FUZZ_CHECK(ferrule_conn_write(s, reply, sizeof(reply) - 1, &n) == FERRULE_OK);
            collect(s, s2c, &ps);
            deliver(c, FUZZ_RNG_CLIENT, &ps, 1);
            drain_app(c, FUZZ_RNG_CLIENT);
        }
        if (o->client_closes) {
            fuzz_rng_select(FUZZ_RNG_CLIENT);
            FUZZ_CHECK(ferrule_conn_close(c) == FERRULE_OK);
            collect(c, c2s, &pc);
            deliver(s, FUZZ_RNG_SERVER, &pc, 1);
            drain_app(s, FUZZ_RNG_SERVER);
        }
        fuzz_rng_select(FUZZ_RNG_SERVER);
        FUZZ_CHECK(ferrule_conn_close(s) == FERRULE_OK);
        collect(s, s2c, &ps);
        deliver(c, FUZZ_RNG_CLIENT, &ps, 1);
        drain_app(c, FUZZ_RNG_CLIENT);
    }
    if (ok && o->session_out != NULL)
        FUZZ_CHECK(ferrule_conn_session(c, o->session_out, 8192, o->session_out_len) ==
                   FERRULE_OK);
    free(pc.p);
    free(ps.p);
    ferrule_conn_free(c);
    ferrule_conn_free(s);
    return ok;
}

static ferrule_config *client_cfg(const uint16_t *suites, size_t ns, const uint16_t *groups,
                                  size_t ng, int alpn) {
    ferrule_config *cfg = NULL;
    FUZZ_CHECK(ferrule_config_new(&cfg, FERRULE_ROLE_CLIENT, NULL) == FERRULE_OK);
    FUZZ_CHECK(ferrule_config_add_trust_pem(cfg, (const uint8_t *)FUZZ_ROOT_PEM,
                                            sizeof(FUZZ_ROOT_PEM) - 1) == FERRULE_OK);
    if (ns) FUZZ_CHECK(ferrule_config_set_cipher_suites(cfg, suites, ns) == FERRULE_OK);
    if (ng) FUZZ_CHECK(ferrule_config_set_groups(cfg, groups, ng) == FERRULE_OK);
    if (alpn) FUZZ_CHECK(ferrule_config_add_alpn(cfg, (const uint8_t *)"h2", 2) == FERRULE_OK);
    FUZZ_CHECK(ferrule_config_set_time_callback(cfg, fuzz_now, NULL) == FERRULE_OK);
    return cfg;
}

static ferrule_config *server_cfg(const uint16_t *suites, size_t ns, int alpn) {
    ferrule_config *cfg = NULL;
    FUZZ_CHECK(ferrule_config_new(&cfg, FERRULE_ROLE_SERVER, NULL) == FERRULE_OK);
    FUZZ_CHECK(ferrule_config_add_cert_chain_pem(
                   cfg, (const uint8_t *)FUZZ_LEAF_CHAIN_PEM, sizeof(FUZZ_LEAF_CHAIN_PEM) - 1,
                   (const uint8_t *)FUZZ_LEAF_KEY_PEM, sizeof(FUZZ_LEAF_KEY_PEM) - 1) ==
               FERRULE_OK);
    if (ns) FUZZ_CHECK(ferrule_config_set_cipher_suites(cfg, suites, ns) == FERRULE_OK);
    if (alpn) FUZZ_CHECK(ferrule_config_add_alpn(cfg, (const uint8_t *)"http/1.1", 8) == FERRULE_OK);
    return cfg;
}

static void record_seeds(const char *dir) {
    static const uint16_t suites[3] = {FERRULE_TLS_AES_128_GCM_SHA256,
                                       FERRULE_TLS_AES_256_GCM_SHA384,
                                       FERRULE_TLS_CHACHA20_POLY1305_SHA256};
    static uint8_t rec[FR_MAX_RECORD + 64];
    uint8_t secret[FR_MAX_HASH];
    fuzz_record_secret(secret, sizeof(secret));
    for (int si = 0; si < 3; si++) {
        fr_aead wr;
        memset(&wr, 0, sizeof(wr));
        FUZZ_CHECK(fr_aead_init(&wr, suites[si], secret, 1) == FR_OK);
        /* mode 0: a stream of sealed records (seq 0, 1, 2, ...) with a
         * plaintext handshake record and a CCS in between. */
        bytes s = {0};
        static const uint8_t fin[] = {20, 0, 0, 4, 1, 2, 3, 4};
        static const uint8_t alert[] = {1, 0};
        static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
        static const uint8_t app[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
        size_t len = 0;
        FUZZ_CHECK(fr_record_write_plain(FR_CT_HANDSHAKE, fin, sizeof(fin), rec, sizeof(rec),
                                         &len) == FR_OK);
        bytes_add(&s, rec, len);
        bytes_add(&s, ccs, sizeof(ccs));
        FUZZ_CHECK(fr_record_seal(&wr, FR_CT_HANDSHAKE, fin, sizeof(fin), 0, rec, sizeof(rec),
                                  &len) == FR_OK);
        bytes_add(&s, rec, len);
        FUZZ_CHECK(fr_record_seal(&wr, FR_CT_APPLICATION_DATA, app, sizeof(app) - 1, 17, rec,
                                  sizeof(rec), &len) == FR_OK);
        bytes_add(&s, rec, len);
        FUZZ_CHECK(fr_record_seal(&wr, FR_CT_APPLICATION_DATA, NULL, 0, 0, rec, sizeof(rec),
                                  &len) == FR_OK);
        bytes_add(&s, rec, len);
        FUZZ_CHECK(fr_record_seal(&wr, FR_CT_ALERT, alert, sizeof(alert), 3, rec, sizeof(rec),
                                  &len) == FR_OK);
        bytes_add(&s, rec, len);
        char name[64];
        snprintf(name, sizeof(name), "stream-%04x", suites[si]);
        write_seed(dir, name, (uint8_t)si, s.p, s.n);
        /* mode 3: one full-size record opened at seq 0. */
        fr_aead w0;
        memset(&w0, 0, sizeof(w0));
        FUZZ_CHECK(fr_aead_init(&w0, suites[si], secret, 1) == FR_OK);
        static uint8_t big[FR_MAX_PLAINTEXT];
        memset(big, 'A', sizeof(big));
        FUZZ_CHECK(fr_record_seal(&w0, FR_CT_APPLICATION_DATA, big, sizeof(big), 0, rec,
                                  sizeof(rec), &len) == FR_OK);
        snprintf(name, sizeof(name), "single-max-%04x", suites[si]);
        write_seed(dir, name, (uint8_t)(si | 12), rec, len);
        fr_aead_free(&w0);
        fr_aead_free(&wr);
        free(s.p);
        /* mode 1: pad 0x0020, type index 1 (handshake), content. */
        static const uint8_t m1[] = {0x00, 0x20, 0x01, 'c', 'o', 'n', 't', 'e', 'n', 't'};
        snprintf(name, sizeof(name), "seal-%04x", suites[si]);
        write_seed(dir, name, (uint8_t)(si | 4), m1, sizeof(m1));
    }
    /* mode 2: a plaintext record. */
    static const uint8_t m2[] = {1, 0, 0, 3, 3, 3, 0};
    write_seed(dir, "plain", 8, m2, sizeof(m2));
}

static int cmd_pairs(const char *out) {
    char dserver[900], dclient[900], drecord[900];
    mkdir(out, 0755);
    snprintf(dserver, sizeof(dserver), "%s/fuzz_server", out);
    snprintf(dclient, sizeof(dclient), "%s/fuzz_client", out);
    snprintf(drecord, sizeof(drecord), "%s/fuzz_record", out);
    static const uint8_t req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    pair_opts full = {"localhost", req, sizeof(req) - 1, 1, 1, NULL, 0, 0, NULL, NULL};
    /* Build the server config exactly as fuzz_server.c does (its ticket
     * key comes from the random stream: the 0-RTT seed depends on it). */
    fuzz_rng_reset();
    (void)fuzz_server_config();

    /* The exact fuzz_client client against the exact fuzz_server server:
     * both sides of the transcript are seeds. */
    {
        bytes c2s = {0}, s2c = {0};
        FUZZ_CHECK(run_pair(fuzz_client_config(), fuzz_server_config(), &full, &c2s, &s2c));
        write_seed(dserver, "ferrule-full", 0, c2s.p, c2s.n);
        write_seed(dserver, "ferrule-full-chunked", 3, c2s.p, c2s.n);
        write_seed(dclient, "ferrule-full", 0, s2c.p, s2c.n);
        write_seed(dclient, "ferrule-full-chunked", 5, s2c.p, s2c.n);
        free(c2s.p);
        free(s2c.p);
    }
    /* fuzz_server: other clients (any client bytes are valid input). */
    static const struct {
        const char *name;
        uint16_t suite, group;
        int alpn;
        const char *sni;
    } cv[] = {
        {"aes256-p384", FERRULE_TLS_AES_256_GCM_SHA384, FERRULE_GROUP_SECP384R1, 0, "localhost"},
        {"chacha-p256", FERRULE_TLS_CHACHA20_POLY1305_SHA256, FERRULE_GROUP_SECP256R1, 1, NULL},
        {"aes128-x25519-nosni", FERRULE_TLS_AES_128_GCM_SHA256, FERRULE_GROUP_X25519, 0, NULL},
    };
    for (size_t i = 0; i < sizeof(cv) / sizeof(cv[0]); i++) {
        ferrule_config *cc = client_cfg(&cv[i].suite, 1, &cv[i].group, 1, cv[i].alpn);
        if (cv[i].sni == NULL) FUZZ_CHECK(ferrule_config_dangerous_no_verification(cc) == FERRULE_OK);
        bytes c2s = {0}, s2c = {0};
        pair_opts o = full;
        o.sni = cv[i].sni;
        FUZZ_CHECK(run_pair(cc, fuzz_server_config(), &o, &c2s, &s2c));
        write_seed(dserver, cv[i].name, 0, c2s.p, c2s.n);
        free(c2s.p);
        free(s2c.p);
        ferrule_config_free(cc);
    }
    /* fuzz_server: a resumed handshake carrying the request as 0-RTT data,
     * accepted by the fuzzed server (then EndOfEarlyData, Finished). */
    {
        ferrule_config *cc = client_cfg(NULL, 0, NULL, 0, 0);
        FUZZ_CHECK(ferrule_config_set_early_data(cc, NULL) == FERRULE_OK);
        static uint8_t sess[8192];
        size_t sess_len = 0;
        bytes c2s = {0}, s2c = {0};
        pair_opts o = full;
        o.session_out = sess;
        o.session_out_len = &sess_len;
        FUZZ_CHECK(run_pair(cc, fuzz_server_config(), &o, &c2s, &s2c));
        free(c2s.p);
        free(s2c.p);
        memset(&c2s, 0, sizeof(c2s));
        memset(&s2c, 0, sizeof(s2c));
        o = full;
        o.session = sess;
        o.session_len = sess_len;
        o.early = 1;
        FUZZ_CHECK(run_pair(cc, fuzz_server_config(), &o, &c2s, &s2c));
        write_seed(dserver, "ferrule-0rtt", 0, c2s.p, c2s.n);
        write_seed(dserver, "ferrule-0rtt-chunked", 3, c2s.p, c2s.n);
        free(c2s.p);
        free(s2c.p);
        ferrule_config_free(cc);
    }
    /* fuzz_client: other servers answering the same ClientHello. */
    static const struct {
        const char *name;
        uint16_t suite;
        int alpn;
    } sv[] = {
        {"aes256", FERRULE_TLS_AES_256_GCM_SHA384, 0},
        {"chacha-alpn", FERRULE_TLS_CHACHA20_POLY1305_SHA256, 1},
    };
    for (size_t i = 0; i < sizeof(sv) / sizeof(sv[0]); i++) {
        ferrule_config *sc = server_cfg(&sv[i].suite, 1, sv[i].alpn);
        bytes c2s = {0}, s2c = {0};
        pair_opts o = full;
        o.client_closes = 0;
        FUZZ_CHECK(run_pair(fuzz_client_config(), sc, &o, &c2s, &s2c));
        write_seed(dclient, sv[i].name, 0, s2c.p, s2c.n);
        free(c2s.p);
        free(s2c.p);
        ferrule_config_free(sc);
    }
    record_seeds(drecord);
    return 0;
}

/* ---- TCP modes ----------------------------------------------------------------- */

static int send_all(int fd, ferrule_conn *c) {
    uint8_t buf[32768];
    while (ferrule_conn_pending_output(c) > 0) {
        size_t n = 0;
        if (ferrule_conn_take(c, buf, sizeof(buf), &n) != FERRULE_OK) return -1;
        for (size_t off = 0; off < n;) {
            ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
            if (w <= 0) return -1;
            off += (size_t)w;
        }
    }
    return 0;
}

/* Receive what is there within `ms`; feed and log it.  0 on EOF/timeout. */
static int pump_in(int fd, ferrule_conn *c, bytes *log, int ms) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return 0;
    uint8_t buf[16384];
    ssize_t r = recv(fd, buf, sizeof(buf), 0);
    if (r <= 0) {
        ignore_status(ferrule_conn_feed_eof(c));
        return 0;
    }
    bytes_add(log, buf, (size_t)r);
    size_t off = 0;
    for (int i = 0; i < 100 && off < (size_t)r; i++) {
        size_t used = 0;
        if (ferrule_conn_feed(c, buf + off, (size_t)r - off, &used) != FERRULE_OK) break;
        off += used;
        if (used == 0) {
            uint8_t sink[16384];
            size_t n = 0;
            if (ferrule_conn_handshake(c) == FERRULE_OK)
                ignore_status(ferrule_conn_read(c, sink, sizeof(sink), &n));
        }
    }
    return 1;
}

static int tcp_session(int fd, ferrule_conn *c, int is_client, bytes *log) {
    int hs = FERRULE_WANT_READ, did_app = 0;
    for (int i = 0; i < 200; i++) {
        hs = ferrule_conn_handshake(c);
        if (send_all(fd, c) != 0) break;
        if (hs == FERRULE_OK) {
            if (is_client && !did_app) {
                static const uint8_t req[] = "GET / HTTP/1.0\r\n\r\n";
                size_t n = 0;
                ignore_status(ferrule_conn_write(c, req, sizeof(req) - 1, &n));
                did_app = 1;
                (void)send_all(fd, c);
            }
            uint8_t buf[16384];
            size_t n = 0;
            int r = ferrule_conn_read(c, buf, sizeof(buf), &n);
            if (r == FERRULE_OK) {
                if (!is_client && !did_app) {
                    size_t w = 0;
                    ignore_status(ferrule_conn_write(c, buf, n, &w));
                    ignore_status(ferrule_conn_close(c));
                    did_app = 1;
                }
                (void)send_all(fd, c);
                continue;
            }
            if (r != FERRULE_WANT_READ) break;
        } else if (hs != FERRULE_WANT_READ) {
            fprintf(stderr, "handshake: %s (%s)\n", ferrule_status_name(hs),
                    ferrule_conn_error_message(c));
            (void)send_all(fd, c);
            break;
        }
        if (!pump_in(fd, c, log, 2000)) {
            /* EOF or quiet: one last drive so the log is complete. */
            uint8_t tail[16384];
            size_t tn = 0;
            ignore_status(ferrule_conn_read(c, tail, sizeof(tail), &tn));
            break;
        }
    }
    if (!is_client || hs == FERRULE_OK) ignore_status(ferrule_conn_close(c));
    (void)send_all(fd, c);
    return hs == FERRULE_OK ? 0 : 1;
}

static int cmd_tcp(int is_client, int port, const char *outfile) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd;
    ferrule_conn *c;
    fuzz_rng_reset();
    if (is_client) {
        (void)fuzz_client_config();
        fuzz_rng_reset();
        fuzz_rng_select(FUZZ_RNG_CLIENT);
        c = fuzz_client_conn();
        fd = socket(AF_INET, SOCK_STREAM, 0);
        FUZZ_CHECK(fd >= 0);
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
            perror("connect");
            return 1;
        }
    } else {
        (void)fuzz_server_config();
        fuzz_rng_reset();
        fuzz_rng_select(FUZZ_RNG_SERVER);
        c = fuzz_server_conn();
        int ls = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        FUZZ_CHECK(ls >= 0);
        (void)setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 1) != 0) {
            perror("bind/listen");
            return 1;
        }
        printf("listening on %d\n", port);
        fflush(stdout);
        fd = accept(ls, NULL, NULL);
        close(ls);
        FUZZ_CHECK(fd >= 0);
    }
    bytes log = {0};
    int rc = tcp_session(fd, c, is_client, &log);
    close(fd);
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", outfile);
    char *slash = strrchr(dir, '/');
    const char *name = outfile;
    if (slash != NULL) {
        *slash = '\0';
        name = slash + 1;
    } else {
        snprintf(dir, sizeof(dir), ".");
    }
    write_seed(dir, name, 0, log.p, log.n);
    printf("handshake %s\n", rc == 0 ? "completed" : "did not complete");
    free(log.p);
    ferrule_conn_free(c);
    return rc;
}

/* ---- session blobs ------------------------------------------------------------ */

static int cmd_sessions(const char *out) {
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/fuzz_session", out);
    mkdir(out, 0755);
    mkdir(dir, 0755);
    static const size_t ticket_lens[] = {1, 48, 200, 1200};
    for (size_t v = 0; v < 2 * sizeof(ticket_lens) / sizeof(ticket_lens[0]); v++) {
        size_t tl = ticket_lens[v / 2];
        int early = (int)(v % 2);
        bytes m = {0};
        static const uint8_t head[] = {0, 0, 0x1c, 0x20, 0x9a, 0x3b, 0x11, 0x02, 2, 0, 1};
        bytes_add(&m, head, sizeof(head));
        uint8_t l2[2] = {(uint8_t)(tl >> 8), (uint8_t)tl};
        bytes_add(&m, l2, 2);
        for (size_t i = 0; i < tl; i++) {
            uint8_t b = (uint8_t)(i * 7 + v);
            bytes_add(&m, &b, 1);
        }
        static const uint8_t ed[] = {0, 8, 0, 42, 0, 4, 0, 0, 0x40, 0};
        static const uint8_t none[] = {0, 0};
        if (early)
            bytes_add(&m, ed, sizeof(ed));
        else
            bytes_add(&m, none, sizeof(none));
        fr_conn *c = fuzz_hs_client_after_hello();
        fuzz_hs_suite(c, 0x1301, FR_HASH_SHA256, 32);
        fuzz_hs_at(c, FERRULE_HS_CONNECTED);
        FUZZ_CHECK(fuzz_hs_dispatch(c, 4, m.p, m.n) == FR_OK);
        uint8_t blob[4096];
        size_t n = 0;
        FUZZ_CHECK(ferrule_conn_session(c, blob, sizeof(blob), &n) == FERRULE_OK);
        char path[1100];
        snprintf(path, sizeof(path), "%s/nst-ticket%zu%s", dir, tl, early ? "-early" : "");
        FILE *f = fopen(path, "wb");
        FUZZ_CHECK(f != NULL && fwrite(blob, 1, n, f) == n && fclose(f) == 0);
        printf("wrote %s (%zu bytes)\n", path, n);
        free(m.p);
        ferrule_conn_free(c);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "sessions") == 0) return cmd_sessions(argv[2]);
    if (argc == 3 && strcmp(argv[1], "pairs") == 0) return cmd_pairs(argv[2]);
    if (argc == 4 && strcmp(argv[1], "connect") == 0) return cmd_tcp(1, atoi(argv[2]), argv[3]);
    if (argc == 4 && strcmp(argv[1], "listen") == 0) return cmd_tcp(0, atoi(argv[2]), argv[3]);
    fprintf(stderr,
            "usage: %s pairs OUTDIR | sessions OUTDIR | connect PORT OUTFILE | listen PORT OUTFILE\n", argv[0]);
    return 2;
}
