/* poll_server.c - a non-blocking poll() HTTPS server on ferrule's
 * zero-copy buffer API: the socket reads into the connection's input
 * buffer and sends from its output buffer; ferrule_conn_flags() says what
 * to poll for.  Each connection gets a short HTTP response, then
 * close_notify.  The ALPN choice is the server's own decision, made
 * without a callback: the handshake pauses and the loop answers on its
 * next turn (docs/decisions.md).
 *
 * Usage: poll_server PORT CHAIN.pem KEY.pem [CONNECTIONS]
 * Prints "ACCEPT 127.0.0.1:PORT" once listening (PORT 0: any free port);
 * exits after CONNECTIONS connections (default: never). */
#include <ferrule.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 64

typedef struct client {
    int fd;
    ferrule_conn *tls;
    int answered; /* the response is queued */
    int deciding; /* a decision waits for the next turn of the loop */
} client;

static const char RESPONSE[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                               "hello from the ferrule poll server\r\n";
static const char WITH_ALPN[] = "alpn: http/1.1\r\n";

/* Socket -> input buffer.  0 to go on, -1 when the connection is over. */
static int on_readable(client *c) {
    uint8_t *p;
    size_t cap;
    if (ferrule_conn_input_buf(c->tls, &p, &cap) != FERRULE_OK) return -1;
    ssize_t n = recv(c->fd, p, cap, 0);
    if (ferrule_conn_input_ack(c->tls, n > 0 ? (size_t)n : 0) != FERRULE_OK) return -1;
    if (n == 0 && ferrule_conn_feed_eof(c->tls) != FERRULE_OK) return -1;
    return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK ? -1 : 0;
}

/* Output buffer -> socket. */
static int on_writable(client *c) {
    const uint8_t *p;
    size_t len;
    if (ferrule_conn_output_buf(c->tls, &p, &len) != FERRULE_OK) return -1;
    ssize_t n = len > 0 ? send(c->fd, p, len, MSG_NOSIGNAL) : 0;
    if (ferrule_conn_output_ack(c->tls, n > 0 ? (size_t)n : 0) != FERRULE_OK) return -1;
    return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK ? -1 : 0;
}

/* The ALPN decision: http/1.1 if the client offers it, else the
 * handshake ends with no_application_protocol (RFC 7301 §3.2).  The
 * ClientHello view is readable until the answer. */
static int decide(client *c) {
    if (ferrule_conn_pending_decision(c->tls) != FERRULE_DECISION_ALPN) return -1;
    const ferrule_client_hello *h = ferrule_conn_client_hello(c->tls);
    for (size_t i = 0; i < ferrule_client_hello_alpn_count(h); i++) {
        const uint8_t *p;
        size_t len;
        if (ferrule_client_hello_alpn(h, i, &p, &len) == FERRULE_OK && len == 8 &&
            memcmp(p, "http/1.1", 8) == 0)
            return ferrule_conn_select_alpn(c->tls, FERRULE_ALPN_SELECTED, p, len) == FERRULE_OK
                       ? 0
                       : -1;
    }
    return ferrule_conn_select_alpn(c->tls, FERRULE_ALPN_NO_OVERLAP, NULL, 0) == FERRULE_OK ? 0
                                                                                         : -1;
}

static int respond(client *c) {
    const uint8_t *alpn;
    size_t alen, n = 0, m = 0;
    ferrule_conn_alpn(c->tls, &alpn, &alen);
    if (ferrule_conn_write(c->tls, (const uint8_t *)RESPONSE, sizeof RESPONSE - 1, &n) !=
            FERRULE_OK ||
        n != sizeof RESPONSE - 1)
        return -1;
    if (alen > 0 &&
        (ferrule_conn_write(c->tls, (const uint8_t *)WITH_ALPN, sizeof WITH_ALPN - 1, &m) !=
             FERRULE_OK ||
         m != sizeof WITH_ALPN - 1))
        return -1;
    return ferrule_conn_close(c->tls) == FERRULE_OK ? 0 : -1;
}

/* Run the TLS connection as far as its buffered input goes. */
static int advance(client *c) {
    if (c->deciding) return 0; /* nothing moves before the answer */
    int st = ferrule_conn_handshake(c->tls);
    /* ---- application decisions (pause/resume) --------------------------
     * A handshake waiting on a decision of ours (here ALPN: the config
     * opts into FERRULE_DECIDE_ALPN) returns FERRULE_WANT_APP and shows
     * FERRULE_FLAG_WANT_APP in ferrule_conn_flags().  This loop answers on
     * its next turn, as a server that asks a database or a worker thread
     * would answer whenever it has the result; the handshake goes on with
     * the advance() after the answer. */
    if (st == FERRULE_WANT_APP) {
        c->deciding = 1;
        return 0;
    }
    if (st == FERRULE_WANT_READ) return 0;
    if (st != FERRULE_OK) return -1;
    const uint8_t *d;
    size_t len;
    while ((st = ferrule_conn_read_buf(c->tls, &d, &len)) == FERRULE_OK) {
        /* The request, read in place; any request gets the same answer. */
        if (ferrule_conn_read_ack(c->tls, len) != FERRULE_OK) return -1;
        if (!c->answered) {
            if (respond(c) != 0) return -1;
            c->answered = 1;
        }
    }
    /* Over once the peer closed (close_notify, or just EOF after our answer). */
    if (st == FERRULE_CLOSED || (st == FERRULE_TRUNCATED && c->answered)) return 1;
    return st == FERRULE_WANT_READ ? 0 : -1;
}

static short events_of(client *c) {
    uint32_t f = ferrule_conn_flags(c->tls);
    return (short)(((f & FERRULE_FLAG_WANT_INPUT) ? POLLIN : 0) |
                   ((f & FERRULE_FLAG_HAS_OUTPUT) ? POLLOUT : 0));
}

static int listen_on(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    printf("ACCEPT 127.0.0.1:%d\n", ntohs(a.sin_port));
    fflush(stdout);
    return fd;
}

static void finish(client *c, int ok) {
    /* Whatever is still pending (the alert of a failure) goes best effort. */
    if (on_writable(c) != 0 || !ok)
        fprintf(stderr, "poll_server: %s\n", ferrule_conn_error_message(c->tls));
    ferrule_conn_free(c->tls);
    close(c->fd);
    c->fd = -1;
}

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    long limit = argc > 4 ? strtol(argv[4], NULL, 10) : -1, served = 0;
    ferrule_config *cfg = NULL;
    if (ferrule_config_new(&cfg, FERRULE_ROLE_SERVER, NULL) != FERRULE_OK ||
        ferrule_config_add_cert_chain_file(cfg, argv[2], argv[3]) != FERRULE_OK ||
        ferrule_config_set_decisions(cfg, FERRULE_DECIDE_ALPN) != FERRULE_OK)
        return 2;
    int lfd = listen_on(atoi(argv[1]));
    if (lfd < 0) return 2;
    client cs[MAX_CONNS];
    size_t n = 0;
    while (limit < 0 || served < limit || n > 0) {
        /* The decisions the last turn left: answered now; those
         * connections go on below without waiting for the socket. */
        int answered_any = 0;
        for (size_t i = 0; i < n; i++) {
            if (!cs[i].deciding) continue;
            cs[i].deciding = 0;
            answered_any = 1;
            if (decide(&cs[i]) != 0) finish(&cs[i], 0);
        }
        size_t k = 0; /* drop finished connections */
        for (size_t i = 0; i < n; i++)
            if (cs[i].fd >= 0) cs[k++] = cs[i];
        n = k;
        struct pollfd pf[MAX_CONNS + 1];
        for (size_t i = 0; i < n; i++) pf[i] = (struct pollfd){cs[i].fd, events_of(&cs[i]), 0};
        pf[n] = (struct pollfd){lfd, (limit < 0 || served < limit) && n < MAX_CONNS ? POLLIN : 0, 0};
        if (poll(pf, (nfds_t)n + 1, answered_any ? 0 : -1) < 0 && errno != EINTR) break;
        short listener = pf[n].revents;
        for (size_t i = 0; i < n; i++) {
            client *c = &cs[i];
            int r = 0;
            if (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) r = on_readable(c);
            if (r == 0) r = advance(c);
            if (r == 0 && (ferrule_conn_flags(c->tls) & FERRULE_FLAG_HAS_OUTPUT)) r = on_writable(c);
            if (r != 0) finish(c, r > 0);
        }
        k = 0;
        for (size_t i = 0; i < n; i++)
            if (cs[i].fd >= 0) cs[k++] = cs[i];
        n = k;
        if (!(listener & POLLIN)) continue;
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) continue;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        client c = {fd, NULL, 0, 0};
        if (ferrule_conn_new(&c.tls, cfg, NULL) != FERRULE_OK) {
            close(fd);
            continue;
        }
        cs[n++] = c;
        served++;
    }
    close(lfd);
    ferrule_config_free(cfg);
    return 0;
}
