/*
 * drill_client.c - the load generator of the operations drill
 * (tools/drill/drill.py, docs/runbook.md).
 *
 *   drill_client --servers PORT_A,PORT_B --ca ROOT.pem --log FILE
 *                [--id-base N] [--replay-every N] [--drain-file F] [--pause-ms N]
 *
 * Runs connections back to back on 127.0.0.1 until SIGTERM, alternating
 * between the servers (skipping one named in the drain file, which the
 * drill writes before restarting it, as a load balancer would).  Each
 * connection resumes with the newest ticket (from either server: they
 * share ticket keys) and, when the ticket allows it, sends "GET <id>\n" as
 * 0-RTT data; otherwise after the handshake.  It checks the answer
 * "OK <id> early|1rtt" (early exactly when the 0-RTT was accepted).
 *
 * Replays: one (--replay-both-ways 1: two) in every N connections that sent 0-RTT data had their first flight
 * (ClientHello + early data, as sent on the wire) recorded; once that
 * connection is done the flight is sent unchanged, as an attacker would,
 * to the other server.  Whether a server delivered it is in the servers'
 * early logs (drill.py compares).
 *
 * One JSON line per connection / replay goes to the log.
 */
#include <ferrule.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int64_t wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    /* Generous: the drill also runs on loaded CI machines; a stall shows
     * up as "recv_timeout". */
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

typedef struct flight {
    uint8_t *p;
    size_t len, cap;
    int recording;
} flight;

/* Send everything pending; while recording, keep a copy. */
static int flush_out(ferrule_conn *c, int fd, flight *rec)
{
    for (;;) {
        const uint8_t *p;
        size_t len;
        if (ferrule_conn_output_buf(c, &p, &len) != FERRULE_OK) return -1;
        if (len == 0) return ferrule_conn_output_ack(c, 0) == FERRULE_OK ? 0 : -1;
        if (rec && rec->recording) {
            if (rec->len + len > rec->cap) {
                size_t cap = (rec->len + len) * 2;
                uint8_t *np = realloc(rec->p, cap);
                if (!np) return -1;
                rec->p = np;
                rec->cap = cap;
            }
            memcpy(rec->p + rec->len, p, len);
            rec->len += len;
        }
        ssize_t n;
        do {
            n = send(fd, p, len, MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        if (n <= 0) return -1;
        if (ferrule_conn_output_ack(c, (size_t)n) != FERRULE_OK) return -1;
    }
}

static int fill_in(ferrule_conn *c, int fd)
{
    uint8_t *p;
    size_t cap;
    if (ferrule_conn_input_buf(c, &p, &cap) != FERRULE_OK) return -1;
    if (cap == 0) /* nothing fits now: give the buffer back and drive on */
        return ferrule_conn_input_ack(c, 0) == FERRULE_OK ? 1 : -1;
    /* SIGTERM (the end of the drill) interrupts a recv on a socket with
     * SO_RCVTIMEO even with SA_RESTART: finish the connection first. */
    ssize_t n;
    do {
        n = recv(fd, p, cap, 0);
    } while (n < 0 && errno == EINTR);
    if (ferrule_conn_input_ack(c, n > 0 ? (size_t)n : 0) != FERRULE_OK) return -1;
    if (n == 0) {
        int ignored = ferrule_conn_feed_eof(c);
        (void)ignored;
        return 0;
    }
    if (n > 0) return 1;
    return errno == EAGAIN || errno == EWOULDBLOCK ? -2 : -1;
}

static const char *err_of(ferrule_conn *c, int st, const char *fallback)
{
    if (st == FERRULE_OK || st == FERRULE_WANT_READ) return fallback;
    const char *r = ferrule_reason_name(ferrule_conn_reason(c));
    return r && *r ? r : ferrule_status_name(st);
}

int main(int argc, char **argv)
{
    const char *ca = NULL, *log_path = NULL, *drain = NULL, *servers = NULL;
    unsigned long long id = 1;
    int replay_every = 0, pause_ms = 0, both_ways = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--servers")) servers = v;
        else if (!strcmp(a, "--ca")) ca = v;
        else if (!strcmp(a, "--log")) log_path = v;
        else if (!strcmp(a, "--drain-file")) drain = v;
        else if (!strcmp(a, "--id-base")) id = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--replay-every")) replay_every = atoi(v);
        else if (!strcmp(a, "--pause-ms")) pause_ms = atoi(v);
        else if (!strcmp(a, "--replay-both-ways")) both_ways = atoi(v);
        else {
            fprintf(stderr, "drill_client: unknown option %s\n", a);
            return 2;
        }
    }
    int port[2];
    if (!servers || !ca || !log_path || sscanf(servers, "%d,%d", &port[0], &port[1]) != 2) {
        fprintf(stderr, "usage: drill_client --servers PORT_A,PORT_B --ca FILE --log FILE "
                        "[--id-base N] [--replay-every N] [--drain-file F] [--pause-ms N]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    FILE *log = fopen(log_path, "a");
    ferrule_config *cfg = NULL;
    if (!log || ferrule_config_new(&cfg, FERRULE_ROLE_CLIENT, NULL) != FERRULE_OK ||
        ferrule_config_add_trust_file(cfg, ca) != FERRULE_OK ||
        ferrule_config_set_early_data(cfg, NULL) != FERRULE_OK) {
        fprintf(stderr, "drill_client: setup failed\n");
        return 1;
    }
    static uint8_t sess[16384];
    size_t sess_len = 0;
    unsigned long long n_conn = 0, n_early = 0;
    flight rec = {0};
    while (!stop) {
        int which = (int)(n_conn++ % 2);
        if (drain) {
            FILE *df = fopen(drain, "r");
            int d = -1;
            if (df) {
                if (fscanf(df, "%d", &d) != 1) d = -1;
                fclose(df);
            }
            if (d == which) which = 1 - which;
        }
        int64_t t0 = wall_ms();
        int fd = tcp_connect(port[which]);
        if (fd < 0) {
            fprintf(log, "{\"t\":%lld,\"srv\":%d,\"connect_refused\":true}\n", (long long)t0, which);
            fflush(log);
            usleep(20000);
            continue;
        }
        ferrule_conn_options co = {.struct_size = sizeof co, .server_name = "localhost"};
        ferrule_conn *c = NULL;
        const char *err = NULL;
        int offered = 0, resumed = 0, st = FERRULE_OK;
        uint32_t es = FERRULE_EARLY_NOT_OFFERED;
        char req[64], want[80], got[128];
        size_t got_len = 0;
        unsigned long long my_id = id++;
        snprintf(req, sizeof req, "GET %llu\n", my_id);
        if (ferrule_conn_new(&c, cfg, &co) != FERRULE_OK) {
            err = "conn_new";
            goto done;
        }
        uint32_t max_early = 0;
        if (sess_len > 0 && ferrule_conn_set_session(c, sess, sess_len) == FERRULE_OK &&
            ferrule_session_max_early_data(sess, sess_len, &max_early) == FERRULE_OK && max_early > 0) {
            size_t w = 0;
            if (ferrule_conn_write_early_data(c, (const uint8_t *)req, strlen(req),
                                              FERRULE_EARLY_DATA_REPLAY_SAFE, &w) == FERRULE_OK &&
                w == strlen(req))
                offered = 1;
        }
        sess_len = 0; /* single use for 0-RTT: the next connection takes a newer ticket */
        rec.len = 0;
        /* One 0-RTT connection in every replay_every (with an even value,
         * always one to the same server); --replay-both-ways: two
         * consecutive ones, which went to different servers. */
        rec.recording = offered && replay_every > 0 &&
                        (n_early++ % (unsigned)replay_every) < (unsigned)(both_ways ? 2 : 1);
        for (;;) {
            st = ferrule_conn_handshake(c);
            if (flush_out(c, fd, &rec) != 0) {
                err = "send";
                break;
            }
            if (st == FERRULE_OK) break;
            if (st != FERRULE_WANT_READ) {
                err = err_of(c, st, "handshake");
                break;
            }
            rec.recording = 0; /* the first flight ends where we wait for the server */
            int r = fill_in(c, fd);
            if (r < 0) {
                err = r == -2 ? "recv_timeout" : "recv_error";
                break;
            }
        }
        if (err) goto done;
        rec.recording = 0;
        resumed = ferrule_conn_resumed(c);
        es = ferrule_conn_early_data_status(c);
        if (es != FERRULE_EARLY_ACCEPTED) {
            size_t w = 0;
            if (ferrule_conn_write(c, (const uint8_t *)req, strlen(req), &w) != FERRULE_OK ||
                w != strlen(req) || flush_out(c, fd, NULL) != 0) {
                err = "write";
                goto done;
            }
        }
        snprintf(want, sizeof want, "OK %llu %s\n", my_id,
                 es == FERRULE_EARLY_ACCEPTED ? "early" : "1rtt");
        for (;;) {
            size_t n = 0;
            st = ferrule_conn_read(c, (uint8_t *)got + got_len, sizeof got - 1 - got_len, &n);
            if (flush_out(c, fd, NULL) != 0) {
                err = "send";
                break;
            }
            if (st == FERRULE_OK && n > 0) {
                got_len += n;
                if (got_len >= sizeof got - 1) {
                    err = "long_answer";
                    break;
                }
                continue;
            }
            if (st == FERRULE_CLOSED) break;
            if (st != FERRULE_WANT_READ) {
                err = err_of(c, st, "read");
                break;
            }
            int r = fill_in(c, fd);
            if (r < 0) {
                err = r == -2 ? "recv_timeout_after_handshake" : "recv_error_after_handshake";
                break;
            }
        }
        got[got_len] = 0;
        if (!err && strcmp(got, want) != 0) err = "wrong_answer";
        if (ferrule_conn_session(c, sess, sizeof sess, &sess_len) != FERRULE_OK) sess_len = 0;
        {
            int ignored = ferrule_conn_close(c);
            (void)ignored;
            (void)flush_out(c, fd, NULL);
        }
    done:
        close(fd);
        if (c) ferrule_conn_free(c);
        fprintf(log,
                "{\"t\":%lld,\"ms\":%lld,\"srv\":%d,\"id\":%llu,\"ok\":%s,\"resumed\":%s,"
                "\"offered\":%s,\"early\":\"%s\",\"error\":%s%s%s}\n",
                (long long)t0, (long long)(wall_ms() - t0), which, my_id, err ? "false" : "true",
                resumed ? "true" : "false", offered ? "true" : "false",
                es == FERRULE_EARLY_ACCEPTED ? "accepted" : es == FERRULE_EARLY_REJECTED ? "rejected" : "none",
                err ? "\"" : "", err ? err : "null", err ? "\"" : "");
        if (rec.len > 0 && !err) {
            /* The attacker's move: the recorded flight, to the other server. */
            int other = 1 - which;
            int rfd = tcp_connect(port[other]);
            if (rfd >= 0) {
                ssize_t w = send(rfd, rec.p, rec.len, MSG_NOSIGNAL);
                struct pollfd p = {.fd = rfd, .events = POLLIN};
                uint8_t junk[8192];
                int64_t until = wall_ms() + 300;
                /* Until the server answered (its decision is made by
                 * then), plus a little for the early data behind it. */
                int answered = 0;
                while (wall_ms() < until && poll(&p, 1, 10) >= 0) {
                    if (!(p.revents & POLLIN)) continue;
                    if (recv(rfd, junk, sizeof junk, MSG_DONTWAIT) <= 0) break;
                    if (!answered) until = wall_ms() + 20;
                    answered = 1;
                }
                close(rfd);
                fprintf(log, "{\"t\":%lld,\"replay_to\":%d,\"id\":%llu,\"sent\":%zd}\n",
                        (long long)wall_ms(), other, my_id, w);
            }
            rec.len = 0;
        }
        fflush(log);
        if (pause_ms > 0) usleep((useconds_t)pause_ms * 1000);
    }
    free(rec.p);
    ferrule_config_free(cfg);
    fclose(log);
    return 0;
}
