/*
 * net.c - the socket side of the CLI: parsing HOST:PORT, connecting to each
 * resolved address in turn, and listening.  Everything returned is
 * non-blocking; the callers wait with poll().
 */
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int parse_port(const char *p, int allow_zero)
{
    size_t n = strlen(p);
    if (n == 0 || n > 5) return -1;
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    if (v > 65535 || (v == 0 && !allow_zero)) return -1;
    return 0;
}

int cli_split_hostport(const char *s, int allow_port_only, char *host, size_t host_cap,
                       char *port, size_t port_cap, const char **why)
{
    const char *h = "";
    size_t hl = 0;
    const char *p;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close) {
            *why = "missing ']' in [ADDRESS]:PORT";
            return -1;
        }
        h = s + 1;
        hl = (size_t)(close - h);
        if (close[1] != ':') {
            *why = "expected ':PORT' after ']'";
            return -1;
        }
        p = close + 2;
        if (hl == 0) {
            *why = "empty address in []";
            return -1;
        }
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon) {
            if (!allow_port_only) {
                *why = "expected HOST:PORT";
                return -1;
            }
            p = s;
        } else {
            if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
                *why = "write IPv6 addresses in brackets: [ADDRESS]:PORT";
                return -1;
            }
            h = s;
            hl = (size_t)(colon - s);
            p = colon + 1;
            if (hl == 0 && !allow_port_only) {
                *why = "empty host";
                return -1;
            }
        }
    }
    if (parse_port(p, allow_port_only) != 0) {
        *why = allow_port_only ? "PORT must be a number 0..65535" : "PORT must be a number 1..65535";
        return -1;
    }
    if (hl >= host_cap || strlen(p) >= port_cap) {
        *why = "host name too long";
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    memcpy(port, p, strlen(p) + 1);
    return 0;
}

int cli_is_ip_literal(const char *s)
{
    struct in_addr a4;
    struct in6_addr a6;
    return inet_pton(AF_INET, s, &a4) == 1 || inet_pton(AF_INET6, s, &a6) == 1;
}

int cli_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL, 0);
    if (fl < 0) return -1;
    if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
    /* The CLI never execs, but a socket leaking into a child is never right. */
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    return 0;
}

void cli_addr_str(const void *sa, size_t sa_len, char *out, size_t cap)
{
    char h[NI_MAXHOST], s[NI_MAXSERV];
    const struct sockaddr *a = sa;
    if (sa_len > (size_t)(socklen_t)-1 ||
        getnameinfo(a, (socklen_t)sa_len, h, sizeof h, s, sizeof s,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(out, cap, "?");
        return;
    }
    if (a->sa_family == AF_INET6)
        snprintf(out, cap, "[%s]:%s", h, s);
    else
        snprintf(out, cap, "%s:%s", h, s);
}

/* Small writes during the handshake should leave at once. */
void cli_set_nodelay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int cli_connect(const char *host, const char *port, int timeout_ms, char *err, size_t err_cap)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int g = getaddrinfo(host, port, &hints, &res);
    if (g != 0) {
        snprintf(err, err_cap, "cannot resolve %s: %s", host, gai_strerror(g));
        return -1;
    }
    int64_t deadline = cli_now_ms() + timeout_ms;
    int fd = -1;
    snprintf(err, err_cap, "no address for %s", host);
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char where[NI_MAXHOST + NI_MAXSERV + 4];
        cli_addr_str(ai->ai_addr, ai->ai_addrlen, where, sizeof where);
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            snprintf(err, err_cap, "socket for %s: %s", where, strerror(errno));
            continue;
        }
        if (cli_set_nonblock(fd) != 0) {
            snprintf(err, err_cap, "fcntl: %s", strerror(errno));
            close(fd);
            fd = -1;
            continue;
        }
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT, .revents = 0};
            int pr;
            do {
                pr = poll(&pfd, 1, cli_poll_timeout(deadline));
            } while (pr < 0 && errno == EINTR);
            if (pr == 0) {
                snprintf(err, err_cap, "connect %s: timed out", where);
                close(fd);
                fd = -1;
                break; /* the overall deadline is spent */
            }
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (pr < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
                soerr = errno;
            rc = soerr == 0 ? 0 : -1;
            errno = soerr;
        }
        if (rc == 0) {
            cli_set_nodelay(fd);
            break;
        }
        snprintf(err, err_cap, "connect %s: %s", where, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int try_listen(const struct addrinfo *ai, int dual_stack, char *err, size_t err_cap)
{
    char where[NI_MAXHOST + NI_MAXSERV + 4];
    cli_addr_str(ai->ai_addr, ai->ai_addrlen, where, sizeof where);
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
        snprintf(err, err_cap, "socket for %s: %s", where, strerror(errno));
        return -1;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6) {
        int v6only = dual_stack ? 0 : 1;
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0 ||
        cli_set_nonblock(fd) != 0) {
        snprintf(err, err_cap, "listen on %s: %s", where, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int cli_listen(const char *host, const char *port, char *bound, size_t bound_cap, char *err,
               size_t err_cap)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    int any = host[0] == '\0';
    int g = getaddrinfo(any ? NULL : host, port, &hints, &res);
    if (g != 0) {
        snprintf(err, err_cap, "cannot resolve %s: %s", any ? "*" : host, gai_strerror(g));
        return -1;
    }
    int fd = -1;
    snprintf(err, err_cap, "no address to listen on");
    /* Without a host, prefer the IPv6 wildcard with dual stack (it also
     * takes IPv4 clients), then whatever else resolved (0.0.0.0). */
    if (any) {
        for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
            if (ai->ai_family == AF_INET6) fd = try_listen(ai, 1, err, err_cap);
    }
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
        if (!any || ai->ai_family != AF_INET6) fd = try_listen(ai, 0, err, err_cap);
    freeaddrinfo(res);
    if (fd < 0) return -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        snprintf(err, err_cap, "getsockname: %s", strerror(errno));
        close(fd);
        return -1;
    }
    cli_addr_str(&ss, sl, bound, bound_cap);
    return fd;
}
