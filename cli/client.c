/*
 * client.c - `ferrule client HOST:PORT ...`
 *
 * The client drives its connection with CALLBACK I/O: the library calls
 * io_send/io_recv on a non-blocking socket, and when it reports
 * FERRULE_WANT_READ / FERRULE_WANT_WRITE we wait with poll() and call it
 * again.  (The server uses buffer I/O, so the CLI exercises both modes.)
 */
#include "cli.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void cli_client_usage(FILE *f)
{
    fputs(
        "usage: ferrule client HOST:PORT [options]\n"
        "\n"
        "Connect to a TLS 1.3 server.  HOST may be a name, an IPv4 address or a\n"
        "bracketed IPv6 address ([::1]:443).\n"
        "\n"
        "  --servername NAME        name to send (SNI) and to verify (default: HOST;\n"
        "                           IP literals are verified, never sent as SNI)\n"
        "  --cafile FILE            trust the PEM certificates in FILE (repeatable)\n"
        "  --capath DIR             trust every *.pem/*.crt/hashed file in DIR (repeatable)\n"
        "  --system-ca              trust the system bundle (the default when no\n"
        "                           --cafile/--capath is given)\n"
        "  --insecure-no-verify     do NOT verify the server certificate (testing only)\n"
        "  --insecure-no-hostname-check  verify the chain but not the name (testing only)\n"
        "  --ocsp-require           fail unless the server staples a valid OCSP response\n"
        "                           saying \"good\" (default: a staple is checked when\n"
        "                           sent, and required only for must-staple leaves)\n"
        "  --alpn a,b               offer these ALPN protocols, in order\n"
        "  --groups g1,g2           key exchange groups (x25519, secp256r1, secp384r1;\n"
        "                           X25519MLKEM768 with a libcrypto that has ML-KEM)\n"
        "  --ciphersuites s1,s2     TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,\n"
        "                           TLS_CHACHA20_POLY1305_SHA256\n"
        "  --sigalgs a,b            signature schemes (ecdsa_secp256r1_sha256, ...)\n"
        "  --keylog FILE            append NSS key-log lines to FILE (mode 0600)\n"
        "  --report FILE            append the --json object of the connection to FILE\n"
        "                           (one line), whatever the outcome\n"
        "  --record-size-limit N    largest protected record we accept (RFC 8449), 64..16385\n"
        "  --max-handshake-message N  largest handshake message we accept (bytes,\n"
        "                           default 131396: the largest legal ClientHello)\n"
        "  --max-peer-certs N       most certificates taken from the peer, 1..256 (default 64)\n"
        "                           (default 16385; the extension is always offered)\n"
        "  --request STRING         send STRING (escapes \\r \\n \\t \\\\ \\xHH) and print\n"
        "                           the reply, until the server's close_notify\n"
        "  --http-get PATH          send \"GET PATH HTTP/1.0\" with a Host header and print\n"
        "                           the reply\n"
        "  --half-close             with --request: send close_notify right after the\n"
        "                           request (for servers that wait for it, e.g. echo)\n"
        "  --json                   print one JSON object describing the connection on\n"
        "                           stdout (the reply is counted, not printed)\n"
        "  --timeout SECONDS        connect/handshake/idle timeout (default 10)\n"
        "  --quiet, -q              no informational lines on stderr\n"
        "  --cert FILE --key FILE   client certificate chain (PEM, leaf first) and its\n"
        "                           private key, sent when the server asks for one;\n"
        "                           repeat both to offer several (the server's\n"
        "                           signature_algorithms and certificate_authorities choose)\n"
        "  --key-update             after the handshake, update our keys and ask the\n"
        "                           server to update its own (KeyUpdate) before sending\n"
        "  --sess-out FILE          save the session of the newest ticket the server\n"
        "                           sends (mode 0600, replaced atomically; it holds a\n"
        "                           secret).  No ticket: FILE is left alone and a\n"
        "                           warning is printed\n"
        "  --sess-in FILE           offer the session in FILE (from --sess-out) for\n"
        "                           resumption; a missing or invalid file is a usage\n"
        "                           error (exit 2).  The server may still decline:\n"
        "                           then a full handshake happens\n"
        "  --early-data FILE        with --sess-in: send FILE (at most 1 MiB) as 0-RTT\n"
        "                           early data, declaring it replay-safe (it may be\n"
        "                           delivered twice: use it only for idempotent\n"
        "                           requests).  What the server refuses, or what the\n"
        "                           ticket does not allow, is sent after the handshake\n"
        "  --help, -h               this text\n"
        "\n"
        "Without --request/--http-get, stdin is sent to the server and the server's\n"
        "data is written to stdout; at end of stdin the client sends close_notify\n"
        "and waits for the server's.  Exit status: 0 success, 1 failure, 2 usage.\n",
        f);
}

typedef struct client_opts {
    cli_common common;
    const char *target;
    const char *servername;
    const char *cafile[CLI_MAX_REPEAT];
    size_t n_cafile;
    const char *capath[CLI_MAX_REPEAT];
    size_t n_capath;
    int system_ca;
    int insecure;
    int no_hostname_check;
    const char *request;
    const char *http_get;
    int half_close;
    int json;
    int ocsp_require;
    const char *cert[CLI_MAX_REPEAT];
    size_t n_cert;
    const char *key[CLI_MAX_REPEAT];
    size_t n_key;
    int key_update;
    const char *sess_in;  /* session file to offer */
    const char *sess_out; /* where to save the newest session */
    const char *early_data; /* file to send as 0-RTT data */
} client_opts;

/* Context of the I/O callbacks: the socket and the last errno. */
typedef struct client_io {
    int fd;
    int err;
} client_io;

typedef struct client {
    client_opts o;
    char host[256];
    char port[8];
    const char *servername;
    char peer_addr[128];
    ferrule_config *cfg;
    ferrule_conn *conn;
    FILE *keylog;
    client_io io;
    int handshake_ok;
    unsigned long long response_bytes;
    unsigned long long sent_bytes; /* application data written after the handshake */
    int peer_closed;               /* the server's close_notify arrived */
    cli_error err;
    int err_printed; /* the stderr line was already written */
    int session_saved; /* --sess-out written */
    uint8_t *early;    /* --early-data contents */
    size_t early_len;
    size_t early_sent; /* bytes written as 0-RTT data */
} client;

/* ---- callbacks ------------------------------------------------------------ */

/* One call moves at most this much; keeps the long return value exact. */
#define IO_CHUNK ((size_t)1 << 20)

static long io_send(void *ctx, const uint8_t *data, size_t len)
{
    client_io *io = ctx;
    if (len > IO_CHUNK) len = IO_CHUNK;
    for (;;) {
        ssize_t n = send(io->fd, data, len, MSG_NOSIGNAL);
        if (n >= 0) return (long)n;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return FERRULE_IO_WOULD_BLOCK;
        io->err = errno;
        return FERRULE_IO_ERROR;
    }
}

static long io_recv(void *ctx, uint8_t *buf, size_t cap)
{
    client_io *io = ctx;
    if (cap > IO_CHUNK) cap = IO_CHUNK;
    for (;;) {
        ssize_t n = recv(io->fd, buf, cap, 0);
        if (n >= 0) return (long)n;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return FERRULE_IO_WOULD_BLOCK;
        io->err = errno;
        return FERRULE_IO_ERROR;
    }
}

/* ---- options -------------------------------------------------------------- */

static int add_repeat(const char **arr, size_t *n, const char *v, const char *opt)
{
    if (*n == CLI_MAX_REPEAT) {
        fprintf(stderr, "ferrule: %s given too many times\n", opt);
        return -1;
    }
    arr[(*n)++] = v;
    return 0;
}

static int parse_args(client_opts *o, int argc, char **argv)
{
    cli_common_init(&o->common);
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if ((r = cli_parse_common(argc, argv, &i, &o->common)) != 0) {
            if (r < 0) return -1;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--servername", &o->servername)) != 0) {
            if (r < 0) return -1;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--cafile", &v)) != 0) {
            if (r < 0 || add_repeat(o->cafile, &o->n_cafile, v, "--cafile")) return -1;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--capath", &v)) != 0) {
            if (r < 0 || add_repeat(o->capath, &o->n_capath, v, "--capath")) return -1;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--request", &o->request)) != 0) {
            if (r < 0) return -1;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--http-get", &o->http_get)) != 0) {
            if (r < 0) return -1;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--cert", &v)) != 0) {
            if (r < 0 || add_repeat(o->cert, &o->n_cert, v, "--cert")) return -1;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--key", &v)) != 0) {
            if (r < 0 || add_repeat(o->key, &o->n_key, v, "--key")) return -1;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--sess-in", &o->sess_in)) != 0) {
            if (r < 0) return -1;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--early-data", &o->early_data)) != 0) {
            if (r < 0) return -1;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--sess-out", &o->sess_out)) != 0) {
            if (r < 0) return -1;
            continue;
        }
        struct {
            const char *name;
            int *flag;
        } flags[] = {{"--system-ca", &o->system_ca},
                     {"--insecure-no-verify", &o->insecure},
                     {"--insecure-no-hostname-check", &o->no_hostname_check},
                     {"--half-close", &o->half_close},
                     {"--json", &o->json},
                     {"--ocsp-require", &o->ocsp_require},
                     {"--key-update", &o->key_update}};
        int matched = 0;
        for (size_t k = 0; k < sizeof flags / sizeof flags[0] && !matched; k++) {
            r = cli_opt_flag(argv, i, flags[k].name);
            if (r < 0) return -1;
            if (r > 0) {
                *flags[k].flag = 1;
                matched = 1;
            }
        }
        if (matched) continue;
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "ferrule client: unknown option '%s' (see ferrule client --help)\n",
                    argv[i]);
            return -1;
        }
        if (o->target) {
            fprintf(stderr, "ferrule client: unexpected argument '%s'\n", argv[i]);
            return -1;
        }
        o->target = argv[i];
    }
    return 0;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Decode --request escapes: \r \n \t \\ \0 \xHH; anything else is kept. */
static int unescape(const char *s, cli_buf *out)
{
    for (size_t i = 0; s[i]; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c == '\\' && s[i + 1]) {
            char e = s[++i];
            switch (e) {
            case 'r': c = '\r'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case '0': c = 0; break;
            case '\\': c = '\\'; break;
            case 'x': {
                int hi = hexval(s[i + 1]);
                int lo = hi >= 0 ? hexval(s[i + 2]) : -1;
                if (hi < 0 || lo < 0) {
                    fprintf(stderr, "ferrule: --request: \\x needs two hex digits\n");
                    return -1;
                }
                c = (uint8_t)(hi * 16 + lo);
                i += 2;
                break;
            }
            default:
                if (cli_buf_append(out, "\\", 1)) return -1;
                c = (uint8_t)e;
                break;
            }
        }
        if (cli_buf_append(out, &c, 1)) return -1;
    }
    return 0;
}

/* ---- setup ---------------------------------------------------------------- */

static int build_config(client *c)
{
    const client_opts *o = &c->o;
    int st = ferrule_config_new(&c->cfg, FERRULE_ROLE_CLIENT, NULL);
    if (st != FERRULE_OK) {
        cli_config_error(NULL, st, "creating the configuration");
        return -1;
    }
    if (cli_apply_common(c->cfg, &o->common, &c->keylog) != 0) return -1;
    if (o->early_data) {
        st = ferrule_config_set_early_data(c->cfg, NULL);
        if (st != FERRULE_OK) {
            cli_config_error(c->cfg, st, "--early-data");
            return -1;
        }
    }
    for (size_t i = 0; i < o->n_cafile; i++) {
        if (cli_check_readable("--cafile", o->cafile[i]) != 0) return -1;
        st = ferrule_config_add_trust_file(c->cfg, o->cafile[i]);
        if (st != FERRULE_OK) {
            char ctx[512];
            snprintf(ctx, sizeof ctx, "--cafile %s", o->cafile[i]);
            cli_config_error(c->cfg, st, ctx);
            return -1;
        }
    }
    for (size_t i = 0; i < o->n_capath; i++) {
        if (cli_check_readable("--capath", o->capath[i]) != 0) return -1;
        st = ferrule_config_add_trust_dir(c->cfg, o->capath[i]);
        if (st != FERRULE_OK) {
            char ctx[512];
            snprintf(ctx, sizeof ctx, "--capath %s", o->capath[i]);
            cli_config_error(c->cfg, st, ctx);
            return -1;
        }
    }
    int want_system = o->system_ca || (o->n_cafile == 0 && o->n_capath == 0 && !o->insecure);
    if (want_system) {
        st = ferrule_config_add_trust_system(c->cfg);
        if (st != FERRULE_OK) {
            cli_config_error(c->cfg, st, "loading the system trust store");
            return -1;
        }
    }
    /* Client certificates: offered only if the server sends a
     * CertificateRequest; the library picks among them. */
    for (size_t i = 0; i < o->n_cert; i++) {
        if (cli_check_readable("--cert", o->cert[i]) != 0 ||
            cli_check_readable("--key", o->key[i]) != 0)
            return -1;
        st = ferrule_config_add_cert_chain_file(c->cfg, o->cert[i], o->key[i]);
        if (st != FERRULE_OK) {
            char ctx[1024];
            snprintf(ctx, sizeof ctx, "--cert %s --key %s", o->cert[i], o->key[i]);
            cli_config_error(c->cfg, st, ctx);
            return -1;
        }
    }
    if (o->ocsp_require) {
        st = ferrule_config_set_ocsp_policy(c->cfg, FERRULE_OCSP_REQUIRE);
        if (st != FERRULE_OK) {
            cli_config_error(c->cfg, st, "--ocsp-require");
            return -1;
        }
    }
    if (o->insecure) {
        fprintf(stderr, "ferrule: WARNING: --insecure-no-verify: the server certificate is NOT "
                        "verified; this connection is not authenticated\n");
        st = ferrule_config_dangerous_no_verification(c->cfg);
        if (st != FERRULE_OK) {
            cli_config_error(c->cfg, st, "--insecure-no-verify");
            return -1;
        }
    } else if (o->no_hostname_check) {
        fprintf(stderr, "ferrule: WARNING: --insecure-no-hostname-check: the server name is NOT "
                        "checked against the certificate\n");
        st = ferrule_config_dangerous_no_hostname_check(c->cfg);
        if (st != FERRULE_OK) {
            cli_config_error(c->cfg, st, "--insecure-no-hostname-check");
            return -1;
        }
    }
    return 0;
}

/* Wait for `events` on the socket (and output if the library holds any).
 * Returns 1 when something is ready, 0 at the deadline, -1 on error. */
static int wait_sock(client *c, short events, int64_t deadline)
{
    if (ferrule_conn_pending_output(c->conn) > 0) events |= POLLOUT;
    struct pollfd p = {.fd = c->io.fd, .events = events, .revents = 0};
    for (;;) {
        int r = poll(&p, 1, cli_poll_timeout(deadline));
        if (r >= 0) return r > 0;
        if (errno != EINTR) {
            cli_error_local(&c->err, "io", "poll: %s", strerror(errno));
            return -1;
        }
    }
}

/* Fill c->err from the connection, adding the socket error behind an I/O
 * failure. */
static void conn_failed(client *c, int st)
{
    cli_error_from_conn(&c->err, c->conn, st);
    if (c->io.err != 0 && ferrule_conn_reason(c->conn) == FERRULE_R_IO) {
        size_t l = strlen(c->err.message);
        snprintf(c->err.message + l, sizeof c->err.message - l, " (%s)", strerror(c->io.err));
    }
}

static int handshake(client *c)
{
    int64_t deadline = cli_now_ms() + c->o.common.timeout_ms;
    for (;;) {
        int st = ferrule_conn_handshake(c->conn);
        if (st == FERRULE_OK) return 0;
        if (st != FERRULE_WANT_READ && st != FERRULE_WANT_WRITE) {
            conn_failed(c, st);
            return -1;
        }
        int r = wait_sock(c, st == FERRULE_WANT_READ ? POLLIN : POLLOUT, deadline);
        if (r < 0) return -1;
        if (r == 0) {
            cli_error_local(&c->err, "timeout", "handshake not complete after %.3g s (state %s)",
                            c->o.common.timeout_ms / 1000.0,
                            ferrule_handshake_state_name(ferrule_conn_handshake_state(c->conn)));
            return -1;
        }
    }
}

/* Best effort: give queued records (our close_notify) to the socket before
 * we close it. */
static void flush_output(client *c)
{
    int64_t deadline = cli_now_ms() + c->o.common.timeout_ms;
    while (ferrule_conn_pending_output(c->conn) > 0) {
        if (wait_sock(c, POLLOUT, deadline) <= 0) return;
        int st = ferrule_conn_flush(c->conn);
        if (st != FERRULE_OK && st != FERRULE_WANT_WRITE) return;
    }
}

static int deliver(client *c, const uint8_t *data, size_t n)
{
    c->response_bytes += n;
    if (c->o.json) return 0;
    if (fwrite(data, 1, n, stdout) != n || fflush(stdout) != 0) {
        cli_error_local(&c->err, "io", "writing to stdout: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* After the handshake: send the request (or stdin), print what comes back,
 * and finish with close_notify in both directions. */
static int exchange(client *c)
{
    const client_opts *o = &c->o;
    cli_buf out = {0};
    int rc = -1;
    int stdin_open = !o->request && !o->http_get;
    /* Close after sending for stdin (at EOF) and for --request --half-close.
     * Otherwise the server closes first: many servers close their socket
     * without reading further, and an unread close_notify from us would
     * make their kernel reset the connection, destroying the reply. */
    int close_after_send = stdin_open || (o->request && o->half_close);
    int sent_close = 0, peer_closed = 0;
    static uint8_t buf[16384];

    if (c->early != NULL) {
        /* 0-RTT data the server did not take (refused, or beyond the
         * ticket's allowance) goes first, now in 1-RTT. */
        size_t from = ferrule_conn_early_data_status(c->conn) == FERRULE_EARLY_ACCEPTED
                          ? c->early_sent
                          : 0;
        if (from < c->early_len && cli_buf_append(&out, c->early + from, c->early_len - from) != 0) {
            cli_error_local(&c->err, "internal", "out of memory");
            goto done;
        }
    }
    if (o->request && unescape(o->request, &out) != 0) {
        cli_error_local(&c->err, "usage", "bad --request string");
        goto done;
    }
    if (o->http_get) {
        int v6 = strchr(c->servername, ':') != NULL;
        char req[4096];
        int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s%s%s\r\n\r\n", o->http_get,
                         v6 ? "[" : "", c->servername, v6 ? "]" : "");
        if (n < 0 || (size_t)n >= sizeof req || cli_buf_append(&out, req, (size_t)n) != 0) {
            cli_error_local(&c->err, "usage", "--http-get path too long");
            goto done;
        }
    }

    int64_t deadline = cli_now_ms() + o->common.timeout_ms;
    for (;;) {
        int need_out = 0;
        int st;
        /* 0. records the socket did not take last time: nothing else sends
         * them once all plaintext is in the library (a peer that echoes
         * only after reading everything would wait for them forever). */
        if (ferrule_conn_pending_output(c->conn) > 0) {
            st = ferrule_conn_flush(c->conn);
            if (st == FERRULE_WANT_WRITE) {
                need_out = 1;
            } else if (st != FERRULE_OK) {
                conn_failed(c, st);
                goto done;
            }
        }
        /* 1. plaintext we still have to send */
        while (cli_buf_avail(&out) > 0 && !sent_close) {
            size_t n = 0;
            st = ferrule_conn_write(c->conn, out.p + out.off, cli_buf_avail(&out), &n);
            cli_buf_consume(&out, n);
            c->sent_bytes += n;
            if (st == FERRULE_OK && n > 0) continue;
            if (st == FERRULE_OK || st == FERRULE_WANT_WRITE) {
                need_out = 1;
                break;
            }
            if (st == FERRULE_WANT_READ) break;
            conn_failed(c, st);
            goto done;
        }
        /* 2. our close_notify once everything is sent */
        if (!sent_close && close_after_send && !stdin_open && cli_buf_avail(&out) == 0) {
            st = ferrule_conn_close(c->conn);
            if (st != FERRULE_OK && st != FERRULE_WANT_WRITE) {
                conn_failed(c, st);
                goto done;
            }
            sent_close = 1;
            deadline = cli_now_ms() + o->common.timeout_ms;
        }
        /* 3. whatever the server sent */
        for (;;) {
            /* In place: the decrypted record is delivered from where it was
             * decrypted, then acknowledged (ferrule.h, buffer API). */
            const uint8_t *d = NULL;
            size_t n = 0;
            st = ferrule_conn_read_buf(c->conn, &d, &n);
            if (st == FERRULE_OK) {
                if (n == 0) break;
                int bad = deliver(c, d, n);
                st = ferrule_conn_read_ack(c->conn, n);
                if (bad != 0) goto done;
                if (st != FERRULE_OK) {
                    conn_failed(c, st);
                    goto done;
                }
                deadline = cli_now_ms() + o->common.timeout_ms;
                continue;
            }
            if (st == FERRULE_WANT_READ) break;
            if (st == FERRULE_WANT_WRITE) {
                need_out = 1;
                break;
            }
            if (st == FERRULE_CLOSED) {
                peer_closed = 1;
                c->peer_closed = 1;
                break;
            }
            conn_failed(c, st);
            goto done;
        }
        if (peer_closed) {
            /* RFC 8446 §6.1: answer close_notify with our own.  The peer may
             * already be gone; the exchange is complete either way. */
            if (!sent_close) {
                if (cli_buf_avail(&out) > 0 && !o->common.quiet)
                    fprintf(stderr, "ferrule: note: server closed before all input was sent\n");
                int ignored = ferrule_conn_close(c->conn);
                (void)ignored;
                sent_close = 1;
            }
            flush_output(c);
            rc = 0;
            goto done;
        }

        /* 4. wait: the socket always; stdin while we have room for it */
        struct pollfd p[2];
        nfds_t np = 1;
        int read_stdin = stdin_open && cli_buf_avail(&out) < sizeof buf;
        if (ferrule_conn_pending_output(c->conn) > 0) need_out = 1;
        p[0].fd = c->io.fd;
        p[0].events = (short)(POLLIN | (need_out ? POLLOUT : 0));
        p[0].revents = 0;
        if (read_stdin) {
            p[1].fd = STDIN_FILENO;
            p[1].events = POLLIN;
            p[1].revents = 0;
            np = 2;
        }
        /* While stdin is open we wait for the user as long as it takes. */
        int tmo = stdin_open ? -1 : cli_poll_timeout(deadline);
        int r = poll(p, np, tmo);
        if (r < 0) {
            if (errno == EINTR) continue;
            cli_error_local(&c->err, "io", "poll: %s", strerror(errno));
            goto done;
        }
        if (r == 0) {
            cli_error_local(&c->err, "timeout", "no data from the server for %.3g s",
                            o->common.timeout_ms / 1000.0);
            goto done;
        }
        if (np == 2 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
            if (n > 0) {
                if (cli_buf_append(&out, buf, (size_t)n) != 0) {
                    cli_error_local(&c->err, "internal", "out of memory");
                    goto done;
                }
            } else if (n == 0 || errno != EINTR) {
                if (n < 0 && !o->common.quiet)
                    fprintf(stderr, "ferrule: reading stdin: %s\n", strerror(errno));
                stdin_open = 0;
                deadline = cli_now_ms() + o->common.timeout_ms;
            }
        }
    }
done:
    cli_buf_free(&out);
    return rc;
}

/* ---- 0-RTT (docs/early-data.md) ---------------------------------------------- */

/* --early-data: the ClientHello goes out now with the file as early data
 * (as much as the ticket allows).  When 0-RTT is impossible (no session
 * allowing it, not enabled) the data simply waits for the handshake. */
static int send_early_data(client *c)
{
    size_t n = 0;
    int st = ferrule_conn_write_early_data(c->conn, c->early, c->early_len,
                                           FERRULE_EARLY_DATA_REPLAY_SAFE, &n);
    if (st == FERRULE_OK || st == FERRULE_WANT_WRITE) {
        c->early_sent = n;
        return 0;
    }
    if (st == FERRULE_USAGE) {
        if (!c->o.common.quiet)
            fprintf(stderr, "ferrule client: early data not sent (%s); it goes after the "
                            "handshake\n",
                    ferrule_reason_name(ferrule_conn_reason(c->conn)));
        return 0;
    }
    conn_failed(c, st);
    return -1;
}

/* ---- sessions (docs/resumption.md) ----------------------------------------- */

/* --sess-in: offer the saved session on the new connection.  A file we
 * cannot use is a usage error: silently falling back to a full handshake
 * would hide a broken resumption setup.  Returns 0, or -1 (printed). */
static int offer_session(client *c)
{
    uint8_t *blob = NULL;
    size_t len = 0;
    if (cli_session_load(c->o.sess_in, &blob, &len) != 0) {
        cli_error_local(&c->err, "usage", "cannot read the --sess-in file");
        c->err_printed = 1;
        return -1;
    }
    int st = ferrule_conn_set_session(c->conn, blob, len);
    cli_session_free(blob, len);
    if (st != FERRULE_OK) {
        uint32_t r = ferrule_conn_reason(c->conn);
        /* The reason only: its message speaks of a peer, not of a file. */
        fprintf(stderr, "ferrule: --sess-in %s: not a valid ferrule session file (%s)\n",
                c->o.sess_in, ferrule_reason_name(r));
        cli_error_local(&c->err, "usage", "invalid --sess-in file");
        c->err_printed = 1;
        return -1;
    }
    return 0;
}

/* --sess-out, once the connection is over.  The session is kept unless the
 * connection died of a TLS error (an alert sent or received): a ticket that
 * arrived before a transport problem (truncation, reset, timeout) was
 * authenticated and stays good.  Returns -1 only when a ticket could not be
 * written. */
static int save_session(client *c)
{
    const char *path = c->o.sess_out;
    int st = ferrule_conn_status(c->conn);
    int intact = st == FERRULE_OK || st == FERRULE_WANT_READ || st == FERRULE_WANT_WRITE ||
                 st == FERRULE_CLOSED || st == FERRULE_TRUNCATED ||
                 ferrule_conn_reason(c->conn) == FERRULE_R_IO;
    if (!intact) {
        fprintf(stderr, "ferrule client: the connection failed; --sess-out %s not written\n",
                path);
        return 0;
    }
    int r = cli_session_save(c->conn, path);
    if (r < 0) return -1;
    if (r == 0) {
        /* Printed even with --quiet: the user asked for the file. */
        fprintf(stderr, "ferrule client: no session ticket received; --sess-out %s not written\n",
                path);
        return 0;
    }
    c->session_saved = 1;
    if (!c->o.common.quiet) fprintf(stderr, "ferrule client: session saved to %s\n", path);
    return 0;
}

/* ---- output --------------------------------------------------------------- */

static void print_json(const client *c, FILE *f);
static void print_json_cb(FILE *f, const void *c) { print_json(c, f); }

static void json_name(FILE *f, const char *key, const char *v, int comma)
{
    fprintf(f, "%s\"%s\":", comma ? "," : "", key);
    cli_json_str(f, v);
}

/* How the connection ended, from our side: the server's close_notify, a
 * transport EOF without one (truncation, RFC 8446 §6.1), another error, or
 * null when it never got that far. */
static const char *close_kind(const client *c)
{
    if (c->peer_closed) return "close_notify";
    if (c->err.set && c->err.code == FERRULE_TRUNCATED) return "truncated";
    if (c->err.set) return "error";
    return NULL;
}

static void print_json(const client *c, FILE *f)
{
    const ferrule_conn *k = c->conn;
    fputc('{', f);
    json_name(f, "version", k ? cli_version_name(ferrule_conn_version(k)) : NULL, 0);
    json_name(f, "cipher_suite", k ? ferrule_cipher_suite_name(ferrule_conn_cipher_suite(k)) : NULL,
              1);
    json_name(f, "group", k ? ferrule_group_name(ferrule_conn_group(k)) : NULL, 1);
    json_name(f, "signature_scheme",
              k ? ferrule_signature_scheme_name(ferrule_conn_peer_signature_scheme(k)) : NULL, 1);
    const uint8_t *alpn = NULL;
    size_t alpn_len = 0;
    if (k) ferrule_conn_alpn(k, &alpn, &alpn_len);
    fputs(",\"alpn\":", f);
    cli_json_strn(f, alpn_len ? (const char *)alpn : NULL, alpn_len);
    json_name(f, "server_name", k ? ferrule_conn_server_name(k) : NULL, 1);
    json_name(f, "peer_address", c->peer_addr[0] ? c->peer_addr : NULL, 1);
    fputs(",\"peer_chain\":[", f);
    size_t n = k ? ferrule_conn_peer_cert_count(k) : 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *der = NULL;
        size_t len = 0;
        char subj[1024];
        if (ferrule_conn_peer_cert(k, i, &der, &len) != FERRULE_OK ||
            cli_cert_subject(der, len, subj, sizeof subj) != 0)
            snprintf(subj, sizeof subj, "?");
        if (i) fputc(',', f);
        cli_json_str(f, subj);
    }
    fputc(']', f);
    fprintf(f, ",\"resumed\":%s", k && ferrule_conn_resumed(k) ? "true" : "false");
    fprintf(f, ",\"hrr\":%s", k && ferrule_conn_hrr(k) ? "true" : "false");
    fprintf(f, ",\"ocsp_stapled\":%s", k && ferrule_conn_ocsp_stapled(k) ? "true" : "false");
    /* Our certificate went out only if we signed a CertificateVerify. */
    fprintf(f, ",\"client_cert_sent\":%s",
            k && ferrule_conn_signature_scheme(k) != 0 ? "true" : "false");
    fprintf(f, ",\"key_updates\":{\"sent\":%llu,\"received\":%llu}",
            (unsigned long long)(k ? ferrule_conn_key_updates_sent(k) : 0),
            (unsigned long long)(k ? ferrule_conn_key_updates_received(k) : 0));
    /* RFC 8449: the server's limit once both sides sent the extension. */
    uint32_t rsl = k ? ferrule_conn_peer_record_size_limit(k) : 0;
    if (rsl != 0)
        fprintf(f, ",\"record_size_limit\":%u", rsl);
    else
        fputs(",\"record_size_limit\":null", f);
    fprintf(f, ",\"handshake_ok\":%s", c->handshake_ok ? "true" : "false");
    fprintf(f, ",\"response_bytes\":%llu", c->response_bytes);
    fprintf(f, ",\"session_saved\":%s", c->session_saved ? "true" : "false");
    uint32_t es = k ? ferrule_conn_early_data_status(k) : FERRULE_EARLY_NOT_OFFERED;
    json_name(f, "early_data",
              es == FERRULE_EARLY_ACCEPTED   ? "accepted"
              : es == FERRULE_EARLY_REJECTED ? "rejected"
              : es == FERRULE_EARLY_OFFERED  ? "offered"
                                             : "not_offered",
              1);
    fprintf(f, ",\"early_data_bytes\":%llu", (unsigned long long)c->early_sent);
    fprintf(f, ",\"sent_bytes\":%llu", c->sent_bytes);
    json_name(f, "close", close_kind(c), 1);
    if (c->err.set) {
        fputs(",\"error\":", f);
        cli_json_error(f, &c->err);
    }
    fputs("}\n", f);
    fflush(f);
}

static void print_summary(const client *c)
{
    const uint8_t *alpn = NULL;
    size_t alpn_len = 0;
    ferrule_conn_alpn(c->conn, &alpn, &alpn_len);
    const char *suite = ferrule_cipher_suite_name(ferrule_conn_cipher_suite(c->conn));
    const char *group = ferrule_group_name(ferrule_conn_group(c->conn));
    const char *sig = ferrule_signature_scheme_name(ferrule_conn_peer_signature_scheme(c->conn));
    const char *sni = ferrule_conn_server_name(c->conn);
    int alen = alpn_len > 255 ? 255 : (int)alpn_len;
    /* "name": the name we verified (sent as SNI unless it is an IP). */
    fprintf(stderr, "ferrule client: handshake ok %s %s %s name=%s alpn=%.*s peer=%s\n",
            suite ? suite : "?", group ? group : "?", sig ? sig : "?", sni ? sni : "-",
            alen ? alen : 1, alen ? (const char *)alpn : "-", c->peer_addr);
}

/* ---- main ----------------------------------------------------------------- */

int cli_client_main(int argc, char **argv)
{
    client c;
    memset(&c, 0, sizeof c);
    c.io.fd = -1;
    if (parse_args(&c.o, argc, argv) != 0) return CLI_EXIT_USAGE;
    if (c.o.common.help) {
        cli_client_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!c.o.target) {
        fprintf(stderr, "ferrule client: missing HOST:PORT\n");
        cli_client_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (c.o.n_cert != c.o.n_key) {
        fprintf(stderr, "ferrule client: --cert and --key go in pairs (%zu --cert, %zu --key)\n",
                c.o.n_cert, c.o.n_key);
        return CLI_EXIT_USAGE;
    }
    if (c.o.request && c.o.http_get) {
        fprintf(stderr, "ferrule client: --request and --http-get are exclusive\n");
        return CLI_EXIT_USAGE;
    }
    if (c.o.early_data && !c.o.sess_in) {
        fprintf(stderr, "ferrule client: --early-data needs --sess-in (0-RTT resumes a session)\n");
        return CLI_EXIT_USAGE;
    }
    if (c.o.http_get) {
        for (const char *s = c.o.http_get; *s; s++)
            if ((unsigned char)*s <= ' ' || *s == 0x7f) {
                fprintf(stderr, "ferrule client: --http-get: PATH must not contain spaces or "
                                "control characters\n");
                return CLI_EXIT_USAGE;
            }
    }
    if (c.o.request) {
        cli_buf probe = {0};
        int bad = unescape(c.o.request, &probe);
        cli_buf_free(&probe);
        if (bad) return CLI_EXIT_USAGE;
    }
    const char *why = NULL;
    if (cli_split_hostport(c.o.target, 0, c.host, sizeof c.host, c.port, sizeof c.port, &why)) {
        fprintf(stderr, "ferrule client: '%s': %s\n", c.o.target, why);
        return CLI_EXIT_USAGE;
    }
    c.servername = c.o.servername ? c.o.servername : c.host;

    /* A closed stdout must not kill us; writes then fail with EPIPE. */
    signal(SIGPIPE, SIG_IGN);

    int exit_code = CLI_EXIT_FAIL;
    if (build_config(&c) != 0) {
        /* The line is printed already; JSON consumers still get an object. */
        cli_error_local(&c.err, "usage", "invalid configuration");
        c.err_printed = 1;
        goto out;
    }
    ferrule_conn_options co;
    memset(&co, 0, sizeof co);
    co.struct_size = (uint32_t)sizeof co;
    co.server_name = c.servername;
    int st = ferrule_conn_new(&c.conn, c.cfg, &co);
    if (st != FERRULE_OK) {
        cli_config_error(c.cfg, st, "creating the connection");
        cli_error_local(&c.err, ferrule_status_name(st), "cannot create the connection");
        c.err_printed = 1;
        c.conn = NULL;
        goto out;
    }
    /* Before connecting: a bad session file costs no connection. */
    if (c.o.sess_in && offer_session(&c) != 0) {
        exit_code = CLI_EXIT_USAGE;
        goto out;
    }
    if (c.o.early_data &&
        cli_file_load("--early-data", c.o.early_data, (size_t)1 << 20, &c.early, &c.early_len) != 0) {
        exit_code = CLI_EXIT_USAGE;
        goto out;
    }
    char err[512];
    c.io.fd = cli_connect(c.host, c.port, c.o.common.timeout_ms, err, sizeof err);
    if (c.io.fd < 0) {
        cli_error_local(&c.err, "io", "%s", err);
        goto out;
    }
    {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (getpeername(c.io.fd, (struct sockaddr *)&ss, &sl) == 0)
            cli_addr_str(&ss, sl, c.peer_addr, sizeof c.peer_addr);
    }
    ferrule_io_callbacks io;
    memset(&io, 0, sizeof io);
    io.struct_size = (uint32_t)sizeof io;
    io.send = io_send;
    io.recv = io_recv;
    io.ctx = &c.io;
    st = ferrule_conn_set_io(c.conn, &io);
    if (st != FERRULE_OK) {
        conn_failed(&c, st);
        goto out;
    }
    if (c.early != NULL && send_early_data(&c) != 0) goto out;
    if (handshake(&c) != 0) goto out;
    c.handshake_ok = 1;
    if (c.early != NULL && !c.o.common.quiet) {
        uint32_t es = ferrule_conn_early_data_status(c.conn);
        if (es == FERRULE_EARLY_ACCEPTED)
            fprintf(stderr, "ferrule client: early data accepted (%zu bytes)\n", c.early_sent);
        else if (es == FERRULE_EARLY_REJECTED)
            fprintf(stderr, "ferrule client: early data rejected; sending it again after the "
                            "handshake\n");
    }
    if (!c.o.common.quiet) print_summary(&c);
    if (c.o.sess_in && !c.o.common.quiet)
        fprintf(stderr, "ferrule client: %s\n",
                ferrule_conn_resumed(c.conn) ? "session resumed"
                                             : "session not resumed (full handshake)");
    if (c.o.key_update) {
        /* RFC 8446 §4.6.3: new sending keys now, and ask the server to
         * update too; the request travels before our application data. */
        st = ferrule_conn_key_update(c.conn, 1);
        if (st != FERRULE_OK) {
            conn_failed(&c, st);
            goto out;
        }
    }
    if (exchange(&c) != 0) goto out;
    exit_code = CLI_EXIT_OK;
out:
    if (c.err.set && !c.err_printed) cli_error_print(stderr, &c.err, NULL);
    /* Tickets arrive after the handshake; exchange() reads until the
     * server's close_notify (or the failure), so every ticket sent before
     * it has been processed by now. */
    if (c.o.sess_out && c.handshake_ok && save_session(&c) != 0 && exit_code == CLI_EXIT_OK)
        exit_code = CLI_EXIT_FAIL;
    if (c.o.json) print_json(&c, stdout);
    if (c.o.common.report && cli_report_append(c.o.common.report, print_json_cb, &c) != 0 &&
        exit_code == CLI_EXIT_OK)
        exit_code = CLI_EXIT_FAIL;
    if (c.early != NULL) cli_session_free(c.early, c.early_len);
    ferrule_conn_free(c.conn);
    ferrule_config_free(c.cfg);
    if (c.keylog) fclose(c.keylog);
    if (c.io.fd >= 0) close(c.io.fd);
    return exit_code;
}
