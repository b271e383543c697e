/*
 * drill_server.c - the server of the operations drill (make drill,
 * tools/drill/drill.py, docs/runbook.md).
 *
 *   drill_server --name A --port P --cert CHAIN --key KEY --ticket-keys FILE
 *                --redis HOST:PORT | --store accept-all
 *                [--window-ms N] [--quarantine-ms N] --stats FILE --early-log FILE
 *                [--trace FILE]   (debug: decisions, requests, store checks/replies)
 *
 * A single-threaded poll() loop over non-blocking sockets and ferrule's
 * buffer API.  0-RTT anti-replay is fleet-wide: every server installs the
 * same replay store id and asks the Redis store (contrib/redis-replay)
 * through the REPLAY decision, so a handshake pauses while Redis answers
 * and the loop keeps serving the others.  `--store accept-all` is a broken
 * store that calls everything fresh: the drill's negative case, which
 * must see replays accepted.
 *
 * Ticket keys: FILE holds one key per line (96 hex digits: 16-byte name +
 * 32-byte key), oldest first, the last encrypts.  SIGHUP re-reads it
 * (rotation).  SIGTERM: stop accepting, finish open connections, exit.
 *
 * Application protocol: the client sends "GET <id>\n" (as 0-RTT data or
 * after the handshake); the answer is "OK <id> early|1rtt\n", then
 * close_notify.  Every request read from accepted 0-RTT data is appended
 * to the early log as "<name> <id>": the drill finds accepted replays
 * there.  The stats file (JSON, rewritten every 250 ms and at exit) has
 * the signals the runbook watches.
 */
#include "ferrule_redis_replay.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 512
#define MAX_REASONS 48

typedef struct counter {
    char name[48];
    uint64_t n;
} counter;

typedef struct sconn {
    int fd;
    ferrule_conn *tls;
    int phase; /* 0 handshake, 1 app, 2 done */
    int paused, kick, eof, eof_fed, responded, closing, early_req;
    char req[128];
    size_t req_len;
    int64_t deadline;
    unsigned long long seq; /* for the trace */
} sconn;

static struct {
    const char *name, *stats_path, *early_log_path, *keys_path;
    ferrule_config *cfg;
    frr_store *store;
    int lfd;
    sconn *conns[MAX_CONNS];
    int n;
    uint64_t hs_ok, hs_failed, resumed, early_accepted, early_requests, accepted_conns;
    counter fail[MAX_REASONS], early_rej[MAX_REASONS];
    int keys_loaded;
    uint8_t current_key[48];
    int64_t key_since, started;
    FILE *early_log;
    FILE *trace; /* --trace: decisions, requests, and the store's own lines */
    unsigned long long seq;
} S;

static volatile sig_atomic_t got_hup, got_term;
static void on_sig(int sig)
{
    if (sig == SIGHUP) got_hup = 1;
    else got_term = 1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tr(const char *fmt, ...)
{
    if (!S.trace) return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    fprintf(S.trace, "%lld.%03d %s ", (long long)tv.tv_sec, (int)(tv.tv_usec / 1000), S.name);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(S.trace, fmt, ap);
    va_end(ap);
    fputc('\n', S.trace);
    fflush(S.trace);
}

static void count(counter *c, const char *name)
{
    for (int i = 0; i < MAX_REASONS; i++) {
        if (c[i].name[0] == 0) snprintf(c[i].name, sizeof c[i].name, "%s", name);
        if (strcmp(c[i].name, name) == 0) {
            c[i].n++;
            return;
        }
    }
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (uint8_t)v;
    }
    return s[2 * n] == 0 || s[2 * n] == '\n' ? 0 : -1;
}

/* Install every key of the file, oldest first (the last encrypts; the
 * two before it still decrypt). */
static int load_keys(void)
{
    FILE *f = fopen(S.keys_path, "r");
    if (!f) {
        fprintf(stderr, "drill_server %s: %s: %s\n", S.name, S.keys_path, strerror(errno));
        return -1;
    }
    char line[256];
    int n = 0;
    uint8_t k[48];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '\n' || line[0] == '#') continue;
        if (strlen(line) < 96 || unhex(line, k, 48) != 0 ||
            ferrule_config_set_ticket_key(S.cfg, k, k + 16) != FERRULE_OK) {
            fprintf(stderr, "drill_server %s: bad ticket key line in %s\n", S.name, S.keys_path);
            fclose(f);
            return -1;
        }
        n++;
    }
    fclose(f);
    if (n == 0) return -1;
    if (memcmp(k, S.current_key, 48) != 0) {
        memcpy(S.current_key, k, 48);
        S.key_since = now_ms();
    }
    S.keys_loaded = n;
    return 0;
}

static void write_counters(FILE *f, const char *key, const counter *c)
{
    fprintf(f, ",\"%s\":{", key);
    for (int i = 0; i < MAX_REASONS && c[i].name[0]; i++)
        fprintf(f, "%s\"%s\":%llu", i ? "," : "", c[i].name, (unsigned long long)c[i].n);
    fputc('}', f);
}

static void write_stats(void)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", S.stats_path);
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    int64_t now = now_ms();
    fprintf(f, "{\"name\":\"%s\",\"uptime_s\":%.3f,\"connections_active\":%d", S.name,
            (double)(now - S.started) / 1000.0, S.n);
    fprintf(f, ",\"connections_accepted\":%llu,\"handshakes_ok\":%llu,\"handshakes_failed\":%llu",
            (unsigned long long)S.accepted_conns, (unsigned long long)S.hs_ok,
            (unsigned long long)S.hs_failed);
    write_counters(f, "failures_by_reason", S.fail);
    fprintf(f, ",\"resumed\":%llu,\"early_accepted\":%llu,\"early_requests\":%llu",
            (unsigned long long)S.resumed, (unsigned long long)S.early_accepted,
            (unsigned long long)S.early_requests);
    write_counters(f, "early_rejected_by_reason", S.early_rej);
    fprintf(f, ",\"ticket_keys_loaded\":%d,\"ticket_key_age_s\":%.3f", S.keys_loaded,
            (double)(now - S.key_since) / 1000.0);
    if (S.store) {
        frr_stats st;
        frr_get_stats(S.store, &st);
        fprintf(f,
                ",\"replay_store\":{\"state\":\"%s\",\"checks\":%llu,\"fresh\":%llu,\"seen\":%llu,"
                "\"failed\":%llu,\"failed_down\":%llu,\"failed_quarantine\":%llu,"
                "\"failed_timeout\":%llu,\"failed_error\":%llu,\"failed_busy\":%llu,"
                "\"connects\":%llu,\"disconnects\":%llu,\"pending\":%u,\"quarantine_left_ms\":%lld,"
                "\"last_error\":\"%s\"}",
                frr_state_name(st.state), (unsigned long long)st.checks,
                (unsigned long long)st.fresh, (unsigned long long)st.seen,
                (unsigned long long)st.failed, (unsigned long long)st.failed_down,
                (unsigned long long)st.failed_quarantine, (unsigned long long)st.failed_timeout,
                (unsigned long long)st.failed_error, (unsigned long long)st.failed_busy,
                (unsigned long long)st.connects, (unsigned long long)st.disconnects, st.pending,
                (long long)st.quarantine_left_ms, st.last_error);
    } else {
        fputs(",\"replay_store\":{\"state\":\"accept-all (broken on purpose)\"}", f);
    }
    fputs("}\n", f);
    if (fclose(f) == 0) rename(tmp, S.stats_path);
}

static void conn_fail(sconn *c, const char *why)
{
    if (c->phase == 0) {
        S.hs_failed++;
        count(S.fail, why);
    }
    c->phase = 2;
}

static void resume_cb(void *arg, ferrule_conn *conn)
{
    (void)conn;
    sconn *c = arg;
    tr("conn %llu resumed by the store", c->seq);
    c->paused = 0;
    c->kick = 1;
}

/* A driver call returned WANT_APP: the REPLAY decision (the only one we
 * opt into).  Returns 1 when the connection may be driven on. */
static int decide(sconn *c)
{
    if (S.trace) {
        const uint8_t *k = NULL;
        int64_t exp = 0;
        char hex[65] = "";
        if (ferrule_conn_replay_key(c->tls, &k, &exp) == FERRULE_OK)
            for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", k[i]);
        tr("conn %llu replay decision %s exat %lld", c->seq, hex, (long long)exp);
    }
    int r = frr_decide(S.store, c->tls, resume_cb, c);
    tr("conn %llu frr_decide -> %d", c->seq, r);
    if (r == 0) {
        c->paused = 1;
        return 0;
    }
    if (r < 0) {
        conn_fail(c, "unexpected_decision");
        return 0;
    }
    return 1;
}

static void on_request_bytes(sconn *c, const uint8_t *d, size_t n, int early)
{
    for (size_t i = 0; i < n; i++) {
        if (c->req_len + 1 >= sizeof c->req) {
            conn_fail(c, "bad_request");
            return;
        }
        c->req[c->req_len++] = (char)d[i];
        if (d[i] == '\n') {
            c->req[c->req_len] = 0;
            if (early) {
                c->early_req = 1;
                S.early_requests++;
                unsigned long long id;
                if (sscanf(c->req, "GET %llu", &id) == 1) tr("conn %llu early request %llu", c->seq, id);
                if (sscanf(c->req, "GET %llu", &id) == 1 && S.early_log) {
                    fprintf(S.early_log, "%s %llu\n", S.name, id);
                    fflush(S.early_log);
                }
            }
            return;
        }
    }
}

static int pump_out(sconn *c)
{
    for (;;) {
        const uint8_t *p;
        size_t len;
        if (ferrule_conn_output_buf(c->tls, &p, &len) != FERRULE_OK) return -1;
        if (len == 0) return ferrule_conn_output_ack(c->tls, 0) == FERRULE_OK ? 0 : -1;
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
        if (n <= 0) {
            int ignored = ferrule_conn_output_ack(c->tls, len);
            (void)ignored;
            return -1;
        }
        if (ferrule_conn_output_ack(c->tls, (size_t)n) != FERRULE_OK) return -1;
        if ((size_t)n < len) return 0;
    }
}

static void fail_status(sconn *c, int st)
{
    const char *why = st == FERRULE_TRUNCATED ? "truncated" : ferrule_reason_name(ferrule_conn_reason(c->tls));
    conn_fail(c, why && *why ? why : ferrule_status_name(st));
}

static void drive(sconn *c)
{
    uint8_t buf[4096];
    for (int round = 0; round < 64 && c->phase != 2 && !c->paused; round++) {
        int st;
        if (c->eof && !c->eof_fed) {
            int ignored = ferrule_conn_feed_eof(c->tls);
            (void)ignored;
            c->eof_fed = 1;
        }
        if (c->phase == 0) {
            size_t n = 0;
            for (;;) {
                st = ferrule_conn_read_early_data(c->tls, buf, sizeof buf, &n);
                if (st != FERRULE_OK || n == 0) break;
                on_request_bytes(c, buf, n, 1);
            }
            if (st == FERRULE_WANT_APP) {
                if (!decide(c)) return;
                continue;
            }
            st = ferrule_conn_handshake(c->tls);
            if (st == FERRULE_WANT_APP) {
                if (!decide(c)) return;
                continue;
            }
            if (st == FERRULE_OK) {
                c->phase = 1;
                S.hs_ok++;
                if (ferrule_conn_resumed(c->tls)) S.resumed++;
                uint32_t es = ferrule_conn_early_data_status(c->tls);
                tr("conn %llu handshake done resumed %d early status %u reason %u", c->seq,
                   ferrule_conn_resumed(c->tls), es, ferrule_conn_early_data_reason(c->tls));
                if (es == FERRULE_EARLY_ACCEPTED) S.early_accepted++;
                else if (es == FERRULE_EARLY_REJECTED) {
                    uint32_t r = ferrule_conn_early_data_reason(c->tls);
                    const char *names[] = {"none", "accepted", "disabled", "no_psk_offered",
                                           "not_resumed", "ticket", "peer_declined", "ticket_age",
                                           "hrr", "application", "replay"};
                    count(S.early_rej, r < 11 ? names[r] : "other");
                }
            } else if (st != FERRULE_WANT_READ && st != FERRULE_WANT_WRITE) {
                (void)pump_out(c); /* the alert */
                fail_status(c, st);
                return;
            }
        }
        if (c->phase == 1) {
            for (;;) {
                size_t n = 0;
                st = ferrule_conn_read(c->tls, buf, sizeof buf, &n);
                if (st == FERRULE_OK && n > 0) {
                    on_request_bytes(c, buf, n, 0);
                    continue;
                }
                break;
            }
            if (st == FERRULE_CLOSED || st == FERRULE_TRUNCATED) c->phase = 2;
            else if (st != FERRULE_OK && st != FERRULE_WANT_READ && st != FERRULE_WANT_WRITE)
                c->phase = 2;
            if (!c->responded && c->req_len > 0 && c->req[c->req_len - 1] == '\n') {
                unsigned long long id = 0;
                char resp[96];
                int ok = sscanf(c->req, "GET %llu", &id) == 1;
                tr("conn %llu answer %llu %s", c->seq, id, c->early_req ? "early" : "1rtt");
                int len = snprintf(resp, sizeof resp, ok ? "OK %llu %s\n" : "ERR\n", id,
                                   c->early_req ? "early" : "1rtt");
                size_t w = 0;
                if (ferrule_conn_write(c->tls, (const uint8_t *)resp, (size_t)len, &w) != FERRULE_OK ||
                    w != (size_t)len || ferrule_conn_close(c->tls) != FERRULE_OK)
                    c->phase = 2;
                c->responded = 1;
            }
        }
        if (pump_out(c) != 0) {
            if (c->phase == 0) conn_fail(c, "io");
            c->phase = 2;
        }
        if (c->eof && c->eof_fed && c->phase == 1 && c->responded) c->phase = 2;
        break;
    }
}

static void accept_one(void)
{
    int fd = accept(S.lfd, NULL, NULL);
    if (fd < 0) return;
    if (S.n >= MAX_CONNS) {
        close(fd);
        return;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sconn *c = calloc(1, sizeof *c);
    if (!c || ferrule_conn_new(&c->tls, S.cfg, NULL) != FERRULE_OK) {
        free(c);
        close(fd);
        return;
    }
    c->fd = fd;
    c->deadline = now_ms() + 15000; /* a loaded CI machine may stall for seconds */
    c->kick = 1;
    c->seq = ++S.seq;
    tr("conn %llu accepted", c->seq);
    S.accepted_conns++;
    S.conns[S.n++] = c;
}

static void conn_io(sconn *c, short rev)
{
    if (rev & (POLLIN | POLLHUP | POLLERR)) {
        uint8_t *p;
        size_t cap;
        if (!c->eof && ferrule_conn_input_buf(c->tls, &p, &cap) == FERRULE_OK) {
            /* Lent buffers are always given back (ack 0 when nothing came). */
            ssize_t n = cap > 0 ? recv(c->fd, p, cap, MSG_DONTWAIT) : 0;
            if (ferrule_conn_input_ack(c->tls, n > 0 ? (size_t)n : 0) != FERRULE_OK) {
                conn_fail(c, "input");
                return;
            }
            if ((cap > 0 && n == 0) || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                c->eof = 1;
        }
    }
    if (!c->paused) drive(c);
}

static int parse_hostport(const char *s, char *host, size_t cap, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= cap) return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    *port = atoi(colon + 1);
    return *port > 0 && *port < 65536 ? 0 : -1;
}

static int always_fresh(void *ctx, const uint8_t key[32], int64_t expires)
{
    (void)ctx;
    (void)key;
    (void)expires;
    return 1; /* broken on purpose (--store accept-all) */
}

static const ferrule_replay_store FLEET_BROKEN = {
    .struct_size = sizeof(ferrule_replay_store), .check_and_insert = always_fresh,
    .id = "ferrule-drill-01"};
static int never_called(void *ctx, const uint8_t key[32], int64_t expires)
{
    (void)ctx;
    (void)key;
    (void)expires;
    return -1; /* FERRULE_DECIDE_REPLAY: the Redis store answers */
}
static const ferrule_replay_store FLEET_REDIS = {
    .struct_size = sizeof(ferrule_replay_store), .check_and_insert = never_called,
    .id = "ferrule-drill-01"};

int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL, *redis = NULL, *store_kind = "redis";
    int port = 0, window_ms = 10000, quarantine_ms = -1;
    S.name = "server";
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--name")) S.name = v;
        else if (!strcmp(a, "--port")) port = atoi(v);
        else if (!strcmp(a, "--cert")) cert = v;
        else if (!strcmp(a, "--key")) key = v;
        else if (!strcmp(a, "--ticket-keys")) S.keys_path = v;
        else if (!strcmp(a, "--redis")) redis = v;
        else if (!strcmp(a, "--store")) store_kind = v;
        else if (!strcmp(a, "--window-ms")) window_ms = atoi(v);
        else if (!strcmp(a, "--quarantine-ms")) quarantine_ms = atoi(v);
        else if (!strcmp(a, "--stats")) S.stats_path = v;
        else if (!strcmp(a, "--early-log")) S.early_log_path = v;
        else if (!strcmp(a, "--trace")) {
            if (!(S.trace = fopen(v, "a"))) {
                perror(v);
                return 1;
            }
        }
        else {
            fprintf(stderr, "drill_server: unknown option %s\n", a);
            return 2;
        }
    }
    int broken = !strcmp(store_kind, "accept-all");
    if (!cert || !key || !S.keys_path || !S.stats_path || (!broken && !redis) ||
        (!broken && strcmp(store_kind, "redis") != 0)) {
        fprintf(stderr, "usage: drill_server --name N --port P --cert F --key F --ticket-keys F "
                        "--stats F [--early-log F] (--redis HOST:PORT | --store accept-all) "
                        "[--window-ms N] [--quarantine-ms N] [--trace F]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    S.started = now_ms();

    ferrule_early_data_options eo;
    memset(&eo, 0, sizeof eo);
    eo.struct_size = (uint32_t)sizeof eo;
    eo.window_ms = (uint32_t)window_ms;
    eo.store = broken ? &FLEET_BROKEN : &FLEET_REDIS;
    if (ferrule_config_new(&S.cfg, FERRULE_ROLE_SERVER, NULL) != FERRULE_OK ||
        ferrule_config_add_cert_chain_file(S.cfg, cert, key) != FERRULE_OK ||
        ferrule_config_set_early_data(S.cfg, &eo) != FERRULE_OK ||
        (!broken && ferrule_config_set_decisions(S.cfg, FERRULE_DECIDE_REPLAY) != FERRULE_OK)) {
        fprintf(stderr, "drill_server %s: config: %s\n", S.name,
                ferrule_reason_name(S.cfg ? ferrule_config_reason(S.cfg) : 0));
        return 1;
    }
    if (load_keys() != 0) return 1;
    if (!broken) {
        char host[256];
        int rport;
        if (parse_hostport(redis, host, sizeof host, &rport) != 0) {
            fprintf(stderr, "drill_server: --redis HOST:PORT\n");
            return 2;
        }
        frr_options o = {.host = host, .port = rport, .window_ms = window_ms,
                         .quarantine_ms = quarantine_ms, .trace = S.trace};
        if (frr_open(&S.store, &o) != 0) {
            perror("drill_server: redis store");
            return 1;
        }
    }
    if (S.early_log_path && !(S.early_log = fopen(S.early_log_path, "a"))) {
        perror(S.early_log_path);
        return 1;
    }
    S.lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(S.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sin;
    if (bind(S.lfd, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(S.lfd, 256) != 0 ||
        getsockname(S.lfd, (struct sockaddr *)&sin, &sl) != 0) {
        perror("drill_server: listen");
        return 1;
    }
    fcntl(S.lfd, F_SETFL, fcntl(S.lfd, F_GETFL) | O_NONBLOCK);
    printf("READY %d\n", ntohs(sin.sin_port));
    fflush(stdout);

    static struct pollfd pfd[MAX_CONNS + 2];
    int64_t next_stats = 0, term_deadline = 0;
    for (;;) {
        if (got_hup) {
            got_hup = 0;
            if (load_keys() != 0) fprintf(stderr, "drill_server %s: key reload failed\n", S.name);
        }
        if (got_term && S.lfd >= 0) {
            close(S.lfd);
            S.lfd = -1;
            term_deadline = now_ms() + 3000;
        }
        int64_t now = now_ms();
        for (int i = 0; i < S.n;) {
            sconn *c = S.conns[i];
            if (c->phase != 2 && now >= c->deadline) conn_fail(c, c->paused ? "store_stalled" : "timeout");
            if (c->phase == 2) {
                if (S.store) frr_cancel(S.store, c->tls);
                close(c->fd);
                ferrule_conn_free(c->tls);
                free(c);
                S.conns[i] = S.conns[--S.n];
            } else {
                i++;
            }
        }
        if (now >= next_stats) {
            write_stats();
            next_stats = now + 250;
        }
        if (got_term && (S.n == 0 || now >= term_deadline)) break;
        int n = 0;
        for (int i = 0; i < S.n; i++) {
            sconn *c = S.conns[i];
            uint32_t f = ferrule_conn_flags(c->tls);
            pfd[n].fd = c->fd;
            pfd[n].events = (short)(((f & FERRULE_FLAG_WANT_INPUT) && !c->eof ? POLLIN : 0) |
                                    ((f & FERRULE_FLAG_HAS_OUTPUT) ? POLLOUT : 0));
            pfd[n].revents = 0;
            n++;
        }
        int sidx = -1, lidx = -1;
        if (S.store && frr_fd(S.store) >= 0) {
            sidx = n;
            pfd[n].fd = frr_fd(S.store);
            pfd[n].events = frr_events(S.store);
            pfd[n++].revents = 0;
        }
        if (S.lfd >= 0) {
            lidx = n;
            pfd[n].fd = S.lfd;
            pfd[n].events = POLLIN;
            pfd[n++].revents = 0;
        }
        int timeout = 50;
        if (S.store) {
            int64_t d = frr_deadline(S.store);
            if (d != 0) {
                int64_t t = d - now_ms();
                if (t < timeout) timeout = t < 0 ? 0 : (int)t;
            }
        }
        for (int i = 0; i < S.n; i++)
            if (S.conns[i]->kick) timeout = 0;
        int r = poll(pfd, (nfds_t)n, timeout);
        if (r < 0 && errno != EINTR) {
            perror("poll");
            return 1;
        }
        int nc = S.n;
        for (int i = 0; i < nc; i++) {
            sconn *c = S.conns[i];
            short rev = r > 0 ? pfd[i].revents : 0;
            if (rev || c->kick) {
                c->kick = 0;
                conn_io(c, rev);
            }
        }
        if (S.store) frr_process(S.store, sidx >= 0 && r > 0 ? pfd[sidx].revents : 0);
        for (int i = 0; i < S.n; i++) { /* resumed by the store */
            sconn *c = S.conns[i];
            if (c->kick && !c->paused) {
                c->kick = 0;
                drive(c);
            }
        }
        if (lidx >= 0 && r > 0 && (pfd[lidx].revents & POLLIN))
            for (int k = 0; k < 16 && S.lfd >= 0; k++) {
                int before = S.n;
                accept_one();
                if (S.n == before) break;
            }
    }
    write_stats();
    if (S.store) frr_close(S.store);
    ferrule_config_free(S.cfg);
    return 0;
}
