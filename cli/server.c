/*
 * server.c - `ferrule server --accept [HOST:]PORT --cert ... --key ...`
 *
 * One configuration shared by every connection; connections are served
 * concurrently by a single-threaded poll() loop.  Each connection uses
 * the zero-copy BUFFER API: the socket reads straight into the
 * connection's input buffer (ferrule_conn_input_buf/_ack) and sends
 * straight from its output (ferrule_conn_output_buf/_ack), plaintext is
 * read in place (ferrule_conn_read_buf/_ack), and ferrule_conn_flags()
 * says what to poll for (the client uses callback I/O, so the CLI
 * exercises both ABI modes).
 */
#include "cli.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void cli_server_usage(FILE *f)
{
    fputs(
        "usage: ferrule server --accept [HOST:]PORT --cert CHAIN.pem --key KEY.pem [options]\n"
        "\n"
        "Serve TLS 1.3.  Prints \"ACCEPT ADDRESS:PORT\" on stdout once listening\n"
        "(PORT 0 picks a free port).  Without HOST: \"::\" (dual stack), else 0.0.0.0.\n"
        "\n"
        "  --accept [HOST:]PORT     address to listen on ([::1]:4433 for IPv6)\n"
        "  --cert FILE --key FILE   certificate chain (leaf first) and its private key,\n"
        "                           PEM; repeat the pair for several names or key\n"
        "                           types: each client gets the first pair whose leaf\n"
        "                           matches its SNI and signature algorithms\n"
        "  --ocsp-staple FILE       DER OCSP response to staple for the --cert/--key\n"
        "                           pair given before it, sent to clients that ask\n"
        "                           for one (status_request)\n"
        "  --verify-client MODE     client certificates: none (default), request\n"
        "                           (verify one if sent), require (no certificate =\n"
        "                           certificate_required alert); needs --cafile\n"
        "  --cafile FILE            trust the PEM certificates in FILE for client\n"
        "                           certificates (repeatable); their subjects are sent\n"
        "                           as certificate_authorities\n"
        "  --key-update-every N     send a KeyUpdate after every N records on one key\n"
        "                           (1 to 16777216)\n"
        "  --early-data             accept 0-RTT early data from resuming clients, with\n"
        "                           anti-replay (single-use tickets, ClientHello\n"
        "                           recording, ticket age); early data is handled as it\n"
        "                           arrives, before the handshake completes\n"
        "  --max-early-data N       max_early_data_size announced and enforced (1 to\n"
        "                           1048576; default 16384); implies --early-data\n"
        "  --sni-strict             refuse (unrecognized_name alert) a server name no\n"
        "                           --cert matches; default: use the --cert pairs in\n"
        "                           order (see docs/server-callbacks.md)\n"
        "  --tickets N              NewSessionTickets sent after each handshake, for\n"
        "                           resumption (0 to 16; default 2; 0 issues none but\n"
        "                           still accepts tickets issued before or by servers\n"
        "                           sharing --ticket-key)\n"
        "  --refuse-tickets         resumption off: accept no ticket (full handshakes\n"
        "                           only) and issue none\n"
        "  --resume-client-identity MODE\n"
        "                           with --verify-client: how a resumed client's\n"
        "                           certificate (carried by its ticket) is validated:\n"
        "                           recheck (default: again, now; an expired one ends\n"
        "                           resumption) or keep (as of the full handshake, for\n"
        "                           at most a day after it)\n"
        "  --ticket-key FILE        ticket key: 48 raw bytes or 96 hex digits (16-byte\n"
        "                           name + 32-byte key), file mode 0600 or stricter.\n"
        "                           Servers with the same key accept each other's\n"
        "                           tickets.  Up to 3 (the last encrypts, all decrypt).\n"
        "                           Default: a random key per process\n"
        "  --alpn a,b               accept these ALPN protocols (our order wins)\n"
        "  --groups g1,g2           key exchange groups (x25519, secp256r1, secp384r1;\n"
        "                           X25519MLKEM768 with a libcrypto that has ML-KEM)\n"
        "  --ciphersuites s1,s2     cipher suites, by IANA name\n"
        "  --sigalgs a,b            signature schemes, by IANA name\n"
        "  --www                    answer an HTTP request with the negotiated parameters\n"
        "  --echo                   send received data back until the client closes\n"
        "                           (default: print received data to stdout)\n"
        "  --max-conns N            exit (status 0) after N connections have finished\n"
        "  --keylog FILE            append NSS key-log lines to FILE (mode 0600)\n"
        "  --report FILE            append one JSON line per finished connection to FILE:\n"
        "                           what was negotiated, bytes each way, how it ended\n"
        "                           (docs/cli.md)\n"
        "  --record-size-limit N    largest protected record we accept (RFC 8449), 64..16385\n"
        "  --max-handshake-message N  largest handshake message we accept (bytes,\n"
        "                           default 131396: the largest legal ClientHello)\n"
        "  --max-peer-certs N       most certificates taken from the peer, 1..256 (default 64)\n"
        "                           (default 16385; the extension is always offered)\n"
        "  --timeout SECONDS        handshake / HTTP request timeout (default 10)\n"
        "  --quiet, -q              no per-connection log lines on stderr\n"
        "  --help, -h               this text\n",
        f);
}

#define MODE_PRINT 0
#define MODE_ECHO 1
#define MODE_WWW 2

#define MAX_CONNS 256
#define WWW_MAX_REQUEST 16384
#define ECHO_HIGH_WATER 65536 /* stop reading while this much waits to be echoed */
#define LINGER_MS 2000        /* wait for the peer's close after ours */

typedef struct server_opts {
    cli_common common;
    const char *accept;
    const char *cert[CLI_MAX_REPEAT];
    size_t n_cert;
    const char *key[CLI_MAX_REPEAT];
    size_t n_key;
    const char *staple[CLI_MAX_REPEAT]; /* per --cert, or NULL */
    int mode;
    unsigned long max_conns; /* 0 = forever */
    const char *cafile[CLI_MAX_REPEAT];
    size_t n_cafile;
    const char *verify_client; /* none / request / require, or NULL */
    unsigned long key_update_every; /* 0 = library default */
    int sni_strict;                 /* --sni-strict */
    int early_data;                 /* --early-data */
    unsigned long max_early_data;   /* 0 = library default */
    long tickets;                   /* -1 = library default */
    int refuse_tickets;             /* --refuse-tickets */
    const char *resume_identity;    /* recheck / keep, or NULL */
    const char *ticket_key[CLI_MAX_TICKET_KEYS];
    size_t n_ticket_key;
} server_opts;

/* Phases of a connection. */
#define PH_HANDSHAKE 0
#define PH_APP 1   /* application data */
#define PH_DRAIN 2 /* everything sent; discarding input until EOF */
#define PH_DONE 3

typedef struct sconn {
    int fd;
    ferrule_conn *tls;
    char peer[128];
    int phase;
    int64_t deadline;   /* 0 = none */
    int sock_eof, eof_fed;
    cli_buf app;        /* plaintext waiting for ferrule_conn_write */
    cli_buf req;        /* --www: the request so far */
    int want_close;     /* send close_notify once `app` is written */
    int close_queued;   /* ferrule_conn_close done */
    int peer_closed;    /* got the peer's close_notify (or it left after ours) */
    int got_close_notify; /* got the peer's close_notify */
    int failed;
    int early_logged;   /* the 0-RTT decision was logged */
    int handshake_ok;
    cli_error err;      /* the failure, for --report */
    unsigned long long bytes_in, bytes_out; /* application data (0-RTT included in bytes_in) */
} sconn;

typedef struct server {
    server_opts o;
    ferrule_config *cfg;
    FILE *keylog;
    int lfd;
    sconn *conns[MAX_CONNS];
    size_t n_conns;
    unsigned long accepted, finished;
} server;

/* ---- options -------------------------------------------------------------- */

/* Read a DER OCSP response and staple it to chain `index`.  The library
 * checks nothing about it (a server relays what its CA's responder said);
 * clients validate it. */
static int load_staple(ferrule_config *cfg, size_t index, const char *path)
{
    if (cli_check_readable("--ocsp-staple", path) != 0) return -1;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "ferrule: --ocsp-staple %s: %s\n", path, strerror(errno));
        return -1;
    }
    /* OCSPResponse<1..2^24-1> (RFC 6066 §8): a larger file cannot be sent. */
    const size_t max = ((size_t)1 << 24) - 1;
    cli_buf b = {0};
    uint8_t chunk[8192];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > max || cli_buf_append(&b, chunk, n) != 0) {
            fprintf(stderr, "ferrule: --ocsp-staple %s: too large\n", path);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "ferrule: --ocsp-staple %s: read error\n", path);
        rc = -1;
    }
    fclose(f);
    if (rc == 0 && b.len == 0) {
        fprintf(stderr, "ferrule: --ocsp-staple %s: empty file\n", path);
        rc = -1;
    }
    if (rc == 0) {
        int st = ferrule_config_set_ocsp_staple(cfg, index, b.p, b.len);
        if (st != FERRULE_OK) {
            char ctx[600];
            snprintf(ctx, sizeof ctx, "--ocsp-staple %s", path);
            cli_config_error(cfg, st, ctx);
            rc = -1;
        }
    }
    cli_buf_free(&b);
    return rc;
}

static int parse_args(server_opts *o, int argc, char **argv)
{
    cli_common_init(&o->common);
    o->tickets = -1;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if ((r = cli_parse_common(argc, argv, &i, &o->common)) != 0) {
            if (r < 0) return -1;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--accept", &o->accept)) != 0) {
            if (r < 0) return -1;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--cert", &v)) != 0) {
            if (r < 0) return -1;
            if (o->n_cert == CLI_MAX_REPEAT) {
                fprintf(stderr, "ferrule server: too many --cert\n");
                return -1;
            }
            o->cert[o->n_cert++] = v;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--key", &v)) != 0) {
            if (r < 0) return -1;
            if (o->n_key == CLI_MAX_REPEAT) {
                fprintf(stderr, "ferrule server: too many --key\n");
                return -1;
            }
            o->key[o->n_key++] = v;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--ocsp-staple", &v)) != 0) {
            if (r < 0) return -1;
            if (o->n_cert == 0 || o->staple[o->n_cert - 1] != NULL) {
                fprintf(stderr, "ferrule server: --ocsp-staple applies to the --cert before "
                                "it (once per --cert)\n");
                return -1;
            }
            o->staple[o->n_cert - 1] = v;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--cafile", &v)) != 0) {
            if (r < 0) return -1;
            if (o->n_cafile == CLI_MAX_REPEAT) {
                fprintf(stderr, "ferrule server: too many --cafile\n");
                return -1;
            }
            o->cafile[o->n_cafile++] = v;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--verify-client", &o->verify_client)) != 0) {
            if (r < 0) return -1;
            if (strcmp(o->verify_client, "none") != 0 && strcmp(o->verify_client, "request") != 0 &&
                strcmp(o->verify_client, "require") != 0) {
                fprintf(stderr, "ferrule server: --verify-client: expected none, request or "
                                "require\n");
                return -1;
            }
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--key-update-every", &v)) != 0) {
            if (r < 0) return -1;
            /* The library's range: 1 .. 2^24 records (docs/key-update.md). */
            if (cli_parse_ulong(v, 1, 1UL << 24, &o->key_update_every) != 0) {
                fprintf(stderr, "ferrule server: --key-update-every: expected a number "
                                "from 1 to 16777216\n");
                return -1;
            }
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--tickets", &v)) != 0) {
            unsigned long n = 0;
            if (r < 0) return -1;
            /* The library's range (ferrule_config_set_tickets). */
            if (cli_parse_ulong(v, 0, 16, &n) != 0) {
                fprintf(stderr, "ferrule server: --tickets: expected a number from 0 to 16\n");
                return -1;
            }
            o->tickets = (long)n;
            continue;
        }
        if ((r = cli_opt_flag(argv, i, "--refuse-tickets")) != 0) {
            if (r < 0) return -1;
            o->refuse_tickets = 1;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--resume-client-identity", &o->resume_identity)) !=
            0) {
            if (r < 0) return -1;
            if (strcmp(o->resume_identity, "recheck") != 0 && strcmp(o->resume_identity, "keep") != 0) {
                fprintf(stderr, "ferrule server: --resume-client-identity: expected recheck or "
                                "keep\n");
                return -1;
            }
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--ticket-key", &v)) != 0) {
            if (r < 0) return -1;
            if (o->n_ticket_key == CLI_MAX_TICKET_KEYS) {
                fprintf(stderr, "ferrule server: at most %d --ticket-key (the key ring holds "
                                "that many)\n",
                        CLI_MAX_TICKET_KEYS);
                return -1;
            }
            o->ticket_key[o->n_ticket_key++] = v;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--max-conns", &v)) != 0) {
            if (r < 0) return -1;
            if (cli_parse_ulong(v, 1, 1000000000UL, &o->max_conns) != 0) {
                fprintf(stderr, "ferrule server: --max-conns: expected a positive number\n");
                return -1;
            }
            continue;
        }
        if ((r = cli_opt_flag(argv, i, "--sni-strict")) != 0) {
            if (r < 0) return -1;
            o->sni_strict = 1;
            continue;
        }
        if ((r = cli_opt_flag(argv, i, "--early-data")) != 0) {
            if (r < 0) return -1;
            o->early_data = 1;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--max-early-data", &v)) != 0) {
            if (r < 0) return -1;
            if (cli_parse_ulong(v, 1, 1UL << 20, &o->max_early_data) != 0) {
                fprintf(stderr, "ferrule server: --max-early-data: expected a number from 1 to "
                                "1048576\n");
                return -1;
            }
            o->early_data = 1;
            continue;
        }
        if ((r = cli_opt_flag(argv, i, "--www")) != 0 || (r = cli_opt_flag(argv, i, "--echo")) != 0) {
            if (r < 0) return -1;
            int m = strcmp(argv[i], "--www") == 0 ? MODE_WWW : MODE_ECHO;
            if (o->mode != MODE_PRINT && o->mode != m) {
                fprintf(stderr, "ferrule server: --www and --echo are exclusive\n");
                return -1;
            }
            o->mode = m;
            continue;
        }
        fprintf(stderr, "ferrule server: unknown argument '%s' (see ferrule server --help)\n",
                argv[i]);
        return -1;
    }
    return 0;
}

/* Resumption settings (docs/resumption.md).  Key files are read here, after
 * the arguments parsed, so that a bad one is a usage error (exit 2).
 * Returns 0, -1 for a usage error (printed), -2 for a library failure. */
static int apply_tickets(server *s)
{
    const server_opts *o = &s->o;
    uint8_t name[CLI_TICKET_NAME_LEN], key[CLI_TICKET_KEY_LEN];
    if (o->tickets >= 0) {
        int st = ferrule_config_set_tickets(s->cfg, (uint32_t)o->tickets);
        if (st != FERRULE_OK) {
            cli_config_error(s->cfg, st, "--tickets");
            return -2;
        }
    }
    if (o->refuse_tickets || o->resume_identity != NULL) {
        ferrule_resumption_options ro;
        memset(&ro, 0, sizeof ro);
        ro.struct_size = (uint32_t)sizeof ro;
        ro.accept = o->refuse_tickets ? FERRULE_RESUME_REFUSE : FERRULE_RESUME_ACCEPT;
        ro.client_identity = o->resume_identity != NULL && strcmp(o->resume_identity, "keep") == 0
                                 ? FERRULE_RESUME_IDENTITY_KEEP
                                 : FERRULE_RESUME_IDENTITY_RECHECK;
        int st = ferrule_config_set_resumption(s->cfg, &ro);
        if (st != FERRULE_OK) {
            cli_config_error(s->cfg, st, o->refuse_tickets ? "--refuse-tickets"
                                                           : "--resume-client-identity");
            return -2;
        }
    }
    /* In command-line order: each call makes its key the current one and
     * keeps the previous ones for decryption, so the last file encrypts. */
    for (size_t i = 0; i < o->n_ticket_key; i++) {
        if (cli_ticket_key_load(o->ticket_key[i], name, key) != 0) return -1;
        int st = ferrule_config_set_ticket_key(s->cfg, name, key);
        cli_wipe(name, sizeof name);
        cli_wipe(key, sizeof key);
        if (st != FERRULE_OK) {
            cli_config_error(s->cfg, st, "--ticket-key");
            return -2;
        }
    }
    return 0;
}

/* ---- per-connection logic ----------------------------------------------- */

static void log_error(const server *s, sconn *c, const cli_error *e)
{
    if (!c->err.set) c->err = *e; /* the first failure is the cause */
    char suffix[160];
    snprintf(suffix, sizeof suffix, " [peer %s]", c->peer);
    cli_error_print(stderr, e, suffix);
    (void)s;
}

static void conn_fail(server *s, sconn *c, int st)
{
    cli_error e;
    cli_error_from_conn(&e, c->tls, st);
    log_error(s, c, &e);
    c->failed = 1;
}

static void conn_fail_local(server *s, sconn *c, const char *status, const char *msg)
{
    cli_error e;
    cli_error_local(&e, status, "%s", msg);
    log_error(s, c, &e);
    c->failed = 1;
}

/* The subject CN of the client's leaf ("-" when it sent none, "?" when
 * it cannot be rendered), for the log line. */
static void client_cn(const ferrule_conn *tls, char *out, size_t cap)
{
    const uint8_t *der = NULL;
    size_t len = 0;
    char subj[1024];
    snprintf(out, cap, "-");
    if (ferrule_conn_peer_cert_count(tls) == 0) return;
    if (ferrule_conn_peer_cert(tls, 0, &der, &len) != FERRULE_OK ||
        cli_cert_subject(der, len, subj, sizeof subj) != 0) {
        snprintf(out, cap, "?");
        return;
    }
    /* RFC 4514 form: find an RDN starting "CN=", copy up to an unescaped
     * ',' or '+'.  No CN: the whole subject. */
    const char *p = subj;
    for (;;) {
        if (strncmp(p, "CN=", 3) == 0) break;
        while (*p && *p != ',' && *p != '+') p += (*p == '\\' && p[1]) ? 2 : 1;
        if (!*p) {
            /* Truncation to the caller's buffer is intended here. */
            size_t n = strlen(subj);
            if (n >= cap) n = cap - 1;
            memcpy(out, subj, n);
            out[n] = '\0';
            return;
        }
        p++;
    }
    p += 3;
    size_t n = 0;
    while (*p && *p != ',' && *p != '+' && n + 2 < cap) {
        if (*p == '\\' && p[1]) out[n++] = *p++;
        out[n++] = *p++;
    }
    out[n] = '\0';
}

/* Once per connection, as soon as the 0-RTT decision is known. */
static void log_early(const server *s, sconn *c)
{
    uint32_t es = ferrule_conn_early_data_status(c->tls);
    if (c->early_logged || es == FERRULE_EARLY_NOT_OFFERED) return;
    c->early_logged = 1;
    if (s->o.common.quiet) return;
    fprintf(stderr, "ferrule server: early data %s (client %s)\n",
            es == FERRULE_EARLY_ACCEPTED ? "accepted" : "rejected", c->peer);
}

static void log_handshake(const server *s, const sconn *c)
{
    if (s->o.common.quiet) return;
    char client[256];
    client_cn(c->tls, client, sizeof client);
    const uint8_t *alpn = NULL;
    size_t alpn_len = 0;
    ferrule_conn_alpn(c->tls, &alpn, &alpn_len);
    const char *suite = ferrule_cipher_suite_name(ferrule_conn_cipher_suite(c->tls));
    const char *group = ferrule_group_name(ferrule_conn_group(c->tls));
    const char *sni = ferrule_conn_server_name(c->tls);
    int alen = alpn_len > 255 ? 255 : (int)alpn_len;
    char rsl[16] = "-"; /* the client's RFC 8449 limit, once negotiated */
    uint32_t peer_rsl = ferrule_conn_peer_record_size_limit(c->tls);
    if (peer_rsl != 0) snprintf(rsl, sizeof rsl, "%u", peer_rsl);
    /* cert=N: the --cert pair (from 0) the library selected; - when resumed. */
    /* early=accepted:N (bytes of 0-RTT data), rejected, or -. */
    char early[40];
    uint32_t es = ferrule_conn_early_data_status(c->tls);
    if (es == FERRULE_EARLY_ACCEPTED)
        snprintf(early, sizeof early, "accepted:%zu", ferrule_conn_early_data_len(c->tls));
    else
        snprintf(early, sizeof early, "%s", es == FERRULE_EARLY_REJECTED ? "rejected" : "-");
    int idx = ferrule_conn_cert_index(c->tls);
    char cert[16];
    if (idx >= 0)
        snprintf(cert, sizeof cert, "%d", idx);
    else
        snprintf(cert, sizeof cert, "-");
    fprintf(stderr,
            "ferrule server: handshake ok %s %s sni=%s alpn=%.*s cert=%s resumed=%s early=%s "
            "rsl=%s client=%s\n",
            suite ? suite : "?", group ? group : "?", sni ? sni : "-", alen ? alen : 1,
            alen ? (const char *)alpn : "-", cert, ferrule_conn_resumed(c->tls) ? "yes" : "no",
            early, rsl, client);
}

/* --www: the response body lists what was negotiated. */
static int www_respond(const server *s, sconn *c, int bad_request)
{
    char body[2048];
    const uint8_t *alpn = NULL;
    size_t alpn_len = 0;
    ferrule_conn_alpn(c->tls, &alpn, &alpn_len);
    const char *v = cli_version_name(ferrule_conn_version(c->tls));
    const char *suite = ferrule_cipher_suite_name(ferrule_conn_cipher_suite(c->tls));
    const char *group = ferrule_group_name(ferrule_conn_group(c->tls));
    const char *sig = ferrule_signature_scheme_name(ferrule_conn_signature_scheme(c->tls));
    const char *sni = ferrule_conn_server_name(c->tls);
    const char *csig = ferrule_signature_scheme_name(ferrule_conn_peer_signature_scheme(c->tls));
    char client[256];
    client_cn(c->tls, client, sizeof client);
    /* RFC 8449: the client's limit once both sides sent the extension. */
    char rsl[16] = "(none)";
    uint32_t peer_rsl = ferrule_conn_peer_record_size_limit(c->tls);
    if (peer_rsl != 0) snprintf(rsl, sizeof rsl, "%u", peer_rsl);
    int alen = alpn_len > 255 ? 255 : (int)alpn_len;
    /* Answered from early data, this page is written before the
     * handshake completes: everything on it is known by then. */
    uint32_t early = ferrule_conn_early_data_status(c->tls);
    int idx = ferrule_conn_cert_index(c->tls);
    char cert[700];
    if (idx >= 0 && (size_t)idx < s->o.n_cert)
        snprintf(cert, sizeof cert, "%d %.600s", idx, s->o.cert[idx]);
    else
        snprintf(cert, sizeof cert, "(none)");
    int n = snprintf(body, sizeof body,
                     "%s"
                     "protocol: %s\r\n"
                     "cipher_suite: %s\r\n"
                     "group: %s\r\n"
                     "signature_scheme: %s\r\n"
                     "alpn: %.*s\r\n"
                     "server_name: %s\r\n"
                     "client_certificate: %s\r\n"
                     "client_signature_scheme: %s\r\n"
                     "server_certificate: %s\r\n"
                     "resumed: %s\r\n"
                     "early_data: %s\r\n"
                     "record_size_limit: %s\r\n",
                     bad_request ? "HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\n\r\n"
                                 : "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n",
                     v ? v : "?", suite ? suite : "?", group ? group : "?", sig ? sig : "?",
                     alen ? alen : 6, alen ? (const char *)alpn : "(none)", sni ? sni : "(none)",
                     strcmp(client, "-") == 0 ? "(none)" : client, csig ? csig : "(none)", cert,
                     ferrule_conn_resumed(c->tls) ? "yes" : "no",
                     early == FERRULE_EARLY_ACCEPTED   ? "accepted"
                     : early == FERRULE_EARLY_REJECTED ? "rejected"
                                                       : "not_offered",
                     rsl);
    if (n < 0 || (size_t)n >= sizeof body) return -1;
    if (cli_buf_append(&c->app, body, (size_t)n) != 0) return -1;
    c->want_close = 1;
    return 0;
}

/* Does the request end with an empty line? */
static int has_blank_line(const cli_buf *b)
{
    const uint8_t *p = b->p + b->off;
    size_t n = cli_buf_avail(b);
    for (size_t i = 0; i + 4 <= n; i++)
        if (memcmp(p + i, "\r\n\r\n", 4) == 0) return 1;
    for (size_t i = 0; i + 2 <= n; i++) /* lenient: bare LF LF */
        if (p[i] == '\n' && p[i + 1] == '\n') return 1;
    return 0;
}

/* Application data arrived. */
static int on_data(server *s, sconn *c, const uint8_t *data, size_t n)
{
    c->bytes_in += n;
    switch (s->o.mode) {
    case MODE_ECHO:
        if (c->close_queued) return 0; /* we are closing; nothing more to echo */
        return cli_buf_append(&c->app, data, n);
    case MODE_WWW:
        if (c->want_close) return 0; /* already answered */
        if (cli_buf_append(&c->req, data, n) != 0) return -1;
        if (has_blank_line(&c->req)) return www_respond(s, c, 0);
        if (cli_buf_avail(&c->req) > WWW_MAX_REQUEST) return www_respond(s, c, 1);
        return 0;
    default:
        if (fwrite(data, 1, n, stdout) != n) return -1;
        fflush(stdout);
        return 0;
    }
}

/* Send the library's pending records straight from its output buffer.
 * Returns 1 if records left (which may make room for more writes), 0 if
 * not (nothing pending, or the socket is full: wait for POLLOUT), -1 when
 * the transport is gone or the connection failed. */
static int pump_out(server *s, sconn *c)
{
    int moved = 0;
    for (;;) {
        const uint8_t *p;
        size_t len;
        int st = ferrule_conn_output_buf(c->tls, &p, &len);
        if (st != FERRULE_OK) {
            if (!c->failed) conn_fail(s, c, st);
            return -1;
        }
        ssize_t n = 0;
        if (len > 0) {
            do {
                n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
            } while (n < 0 && errno == EINTR);
        }
        int gone = len > 0 && n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
        char msg[160];
        if (gone) snprintf(msg, sizeof msg, "send: %s", n < 0 ? strerror(errno) : "no progress");
        /* Sent bytes leave; a dead transport takes the rest with it. */
        size_t sent = gone ? len : n > 0 ? (size_t)n : 0;
        if (ferrule_conn_output_ack(c->tls, sent) != FERRULE_OK) return -1;
        if (gone) {
            if (!c->failed && !(c->close_queued && c->peer_closed))
                conn_fail_local(s, c, "io", msg);
            c->failed = 1;
            return -1;
        }
        if (sent == 0) return moved;
        moved = 1;
        if (sent < len) return moved; /* socket full */
    }
}

/* Read from the socket straight into the connection's input buffer. */
static int recv_in(server *s, sconn *c)
{
    uint8_t *p;
    size_t cap;
    int st = ferrule_conn_input_buf(c->tls, &p, &cap);
    if (st != FERRULE_OK) {
        conn_fail(s, c, st);
        return -1;
    }
    ssize_t n = 0;
    if (cap > 0) {
        do {
            n = recv(c->fd, p, cap, MSG_DONTWAIT);
        } while (n < 0 && errno == EINTR);
    }
    int err = errno;
    if (ferrule_conn_input_ack(c->tls, n > 0 ? (size_t)n : 0) != FERRULE_OK) return -1;
    if (cap > 0 && n == 0) c->sock_eof = 1;
    if (n < 0 && err != EAGAIN && err != EWOULDBLOCK) {
        if (!(c->close_queued && c->phase == PH_APP)) {
            char msg[160];
            snprintf(msg, sizeof msg, "recv: %s", strerror(err));
            conn_fail_local(s, c, "io", msg);
        }
        c->phase = PH_DONE;
        return -1;
    }
    return 0;
}

/* Plaintext in, read in place.  Returns -1 when the connection failed. */
static int read_app(server *s, sconn *c, int *progress)
{
    while (!c->peer_closed && cli_buf_avail(&c->app) < ECHO_HIGH_WATER) {
        const uint8_t *d;
        size_t n = 0;
        int st = ferrule_conn_read_buf(c->tls, &d, &n);
        if (st == FERRULE_OK && n > 0) {
            int bad = on_data(s, c, d, n);
            if (ferrule_conn_read_ack(c->tls, n) != FERRULE_OK || bad != 0) {
                conn_fail_local(s, c, "internal", "cannot store data");
                return -1;
            }
            *progress = 1;
            continue;
        }
        if (st == FERRULE_OK || st == FERRULE_WANT_READ || st == FERRULE_WANT_WRITE) break;
        if (st == FERRULE_CLOSED) {
            c->peer_closed = 1;
            c->got_close_notify = 1;
            c->want_close = 1;
            *progress = 1;
            break;
        }
        if (st == FERRULE_TRUNCATED && c->close_queued) {
            /* We closed and the peer dropped the transport without
             * answering; our side of the exchange is complete. */
            c->peer_closed = 1;
            break;
        }
        conn_fail(s, c, st);
        return -1;
    }
    return 0;
}

/* Plaintext out, then close_notify once everything is written (RFC 8446
 * §6.1).  Returns -1 when the connection failed. */
static int write_app(server *s, sconn *c, int *progress)
{
    if (cli_buf_avail(&c->app) > 0 && !c->close_queued) {
        size_t n = 0;
        int st = ferrule_conn_write(c->tls, c->app.p + c->app.off, cli_buf_avail(&c->app), &n);
        if (st != FERRULE_OK && st != FERRULE_WANT_WRITE && st != FERRULE_WANT_READ) {
            conn_fail(s, c, st);
            return -1;
        }
        cli_buf_consume(&c->app, n);
        c->bytes_out += n;
        if (n > 0) *progress = 1;
    }
    if (c->want_close && !c->close_queued && cli_buf_avail(&c->app) == 0) {
        int st = ferrule_conn_close(c->tls);
        if (st != FERRULE_OK && st != FERRULE_WANT_WRITE) {
            conn_fail(s, c, st);
            return -1;
        }
        c->close_queued = 1;
        if (!c->peer_closed) c->deadline = cli_now_ms() + LINGER_MS;
        *progress = 1;
    }
    return 0;
}

/* Run the connection as far as it goes without waiting.  Returns -1 when
 * the connection failed (the error is logged). */
static int drive(server *s, sconn *c)
{
    static uint8_t buf[16384];
    for (int rounds = 0; rounds < 1000; rounds++) {
        int progress = 0, st;

        if (c->sock_eof && !c->eof_fed) {
            /* The status that matters comes from the next driver call. */
            int ignored = ferrule_conn_feed_eof(c->tls);
            (void)ignored;
            c->eof_fed = 1;
            progress = 1;
        }

        if (c->phase == PH_HANDSHAKE && s->o.early_data) {
            /* 0-RTT: handle early data as it arrives (0.5-RTT answers). */
            for (;;) {
                size_t n = 0;
                st = ferrule_conn_read_early_data(c->tls, buf, sizeof buf, &n);
                if (st != FERRULE_OK || n == 0) break; /* errors: from the handshake below */
                if (on_data(s, c, buf, n) != 0) {
                    conn_fail_local(s, c, "internal", "cannot store data");
                    return -1;
                }
                progress = 1;
            }
            log_early(s, c);
        }
        if (c->phase == PH_HANDSHAKE) {
            st = ferrule_conn_handshake(c->tls);
            if (st == FERRULE_OK) {
                c->phase = PH_APP;
                c->handshake_ok = 1;
                /* Only an HTTP request has to arrive within the timeout;
                 * print/echo sessions may idle. */
                c->deadline = s->o.mode == MODE_WWW ? cli_now_ms() + s->o.common.timeout_ms : 0;
                log_handshake(s, c);
                progress = 1;
            } else if (st != FERRULE_WANT_READ && st != FERRULE_WANT_WRITE) {
                conn_fail(s, c, st);
                return -1;
            }
        }

        if (c->phase == PH_APP) {
            if (read_app(s, c, &progress) != 0) return -1;
            if (write_app(s, c, &progress) != 0) return -1;
        }

        int m = pump_out(s, c);
        if (m < 0) return -1;
        if (m > 0) progress = 1;
        if (!progress) break;
    }
    return 0;
}

/* Fully sent and nothing left in the library? */
static int flushed(sconn *c)
{
    return !(ferrule_conn_flags(c->tls) & FERRULE_FLAG_HAS_OUTPUT);
}

/* Stop sending; keep reading (and discarding) briefly so that closing
 * with unread input does not turn into a RST that destroys our last
 * records (the alert or close_notify) before the peer reads them. */
static void start_drain(sconn *c)
{
    (void)shutdown(c->fd, SHUT_WR);
    c->phase = PH_DRAIN;
    c->deadline = cli_now_ms() + (c->failed ? 1000 : LINGER_MS);
}

/* ---- --report ------------------------------------------------------------ */

static void report_name(FILE *f, const char *key, const char *v)
{
    fprintf(f, ",\"%s\":", key);
    cli_json_str(f, v);
}

/* One JSON line per connection: what was negotiated, the bytes each way and
 * how it ended ("close_notify", "truncated": transport EOF without one,
 * "error", or null when it ended otherwise, e.g. we closed first). */
static void report_conn(FILE *f, const void *ctx)
{
    const sconn *c = ctx;
    const ferrule_conn *k = c->tls;
    fputs("{\"peer_address\":", f);
    cli_json_str(f, c->peer);
    fprintf(f, ",\"handshake_ok\":%s", c->handshake_ok ? "true" : "false");
    report_name(f, "version", c->handshake_ok ? cli_version_name(ferrule_conn_version(k)) : NULL);
    report_name(f, "cipher_suite", ferrule_cipher_suite_name(ferrule_conn_cipher_suite(k)));
    report_name(f, "group", ferrule_group_name(ferrule_conn_group(k)));
    fprintf(f, ",\"hrr\":%s", ferrule_conn_hrr(k) ? "true" : "false");
    fprintf(f, ",\"resumed\":%s", ferrule_conn_resumed(k) ? "true" : "false");
    const uint8_t *alpn = NULL;
    size_t alpn_len = 0;
    ferrule_conn_alpn(k, &alpn, &alpn_len);
    fputs(",\"alpn\":", f);
    cli_json_strn(f, alpn_len ? (const char *)alpn : NULL, alpn_len);
    report_name(f, "server_name", ferrule_conn_server_name(k));
    fprintf(f, ",\"client_certs\":%zu", ferrule_conn_peer_cert_count(k));
    uint32_t es = ferrule_conn_early_data_status(k);
    report_name(f, "early_data",
                es == FERRULE_EARLY_ACCEPTED   ? "accepted"
                : es == FERRULE_EARLY_REJECTED ? "rejected"
                : es == FERRULE_EARLY_OFFERED  ? "offered"
                                               : "not_offered");
    fprintf(f, ",\"early_data_bytes\":%zu",
            es == FERRULE_EARLY_ACCEPTED ? ferrule_conn_early_data_len(k) : (size_t)0);
    fprintf(f, ",\"key_updates\":{\"sent\":%llu,\"received\":%llu}",
            (unsigned long long)ferrule_conn_key_updates_sent(k),
            (unsigned long long)ferrule_conn_key_updates_received(k));
    uint32_t rsl = ferrule_conn_peer_record_size_limit(k);
    if (rsl != 0)
        fprintf(f, ",\"record_size_limit\":%u", rsl);
    else
        fputs(",\"record_size_limit\":null", f);
    fprintf(f, ",\"received_bytes\":%llu,\"sent_bytes\":%llu", c->bytes_in, c->bytes_out);
    const char *how = c->got_close_notify                                    ? "close_notify"
                      : c->err.set && c->err.code == FERRULE_TRUNCATED ? "truncated"
                      : c->err.set                                      ? "error"
                                                                        : NULL;
    report_name(f, "close", how);
    fputs(",\"error\":", f);
    if (c->err.set)
        cli_json_error(f, &c->err);
    else
        fputs("null", f);
    fputs("}\n", f);
}

static void conn_free(sconn *c)
{
    if (c->fd >= 0) close(c->fd);
    ferrule_conn_free(c->tls);
    cli_buf_free(&c->app);
    cli_buf_free(&c->req);
    free(c);
}

/* Handle poll() results (revents may be 0 when only a timer fired). */
static void conn_step(server *s, sconn *c, short revents)
{
    if (c->phase == PH_DRAIN) {
        if (revents & (POLLIN | POLLHUP | POLLERR)) {
            uint8_t junk[4096];
            ssize_t n;
            do {
                n = recv(c->fd, junk, sizeof junk, MSG_DONTWAIT);
            } while (n > 0 || (n < 0 && errno == EINTR));
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
                c->phase = PH_DONE;
        }
        if (c->phase != PH_DONE && cli_now_ms() >= c->deadline) c->phase = PH_DONE;
        return;
    }

    if ((revents & (POLLIN | POLLHUP | POLLERR)) && !c->sock_eof &&
        (ferrule_conn_flags(c->tls) & FERRULE_FLAG_WANT_INPUT) && recv_in(s, c) != 0) {
        c->phase = PH_DONE;
        return;
    }

    if (!c->failed) (void)drive(s, c);
    if (c->failed) {
        /* Get the alert out if we can, then stop. */
        (void)pump_out(s, c);
        if (flushed(c) || c->sock_eof) start_drain(c);
        else if (c->deadline == 0 || c->deadline > cli_now_ms() + 1000)
            c->deadline = cli_now_ms() + 1000;
        if (cli_now_ms() >= c->deadline) c->phase = PH_DONE;
        return;
    }
    if (c->close_queued && flushed(c)) {
        if (c->peer_closed || c->sock_eof) {
            start_drain(c);
            return;
        }
    }
    if (c->sock_eof && c->phase == PH_APP && !c->close_queued && c->eof_fed && flushed(c)) {
        /* EOF fed but the library has not reported it yet: it will on the
         * next read; guard against spinning. */
        c->phase = PH_DONE;
        return;
    }
    if (c->deadline != 0 && cli_now_ms() >= c->deadline) {
        if (c->phase == PH_HANDSHAKE) {
            char msg[160];
            snprintf(msg, sizeof msg, "handshake not complete after %.3g s (state %s)",
                     s->o.common.timeout_ms / 1000.0,
                     ferrule_handshake_state_name(ferrule_conn_handshake_state(c->tls)));
            conn_fail_local(s, c, "timeout", msg);
            c->phase = PH_DONE;
        } else if (c->close_queued) {
            start_drain(c); /* the peer never answered our close_notify */
        } else {
            conn_fail_local(s, c, "timeout", "no complete HTTP request in time");
            c->phase = PH_DONE;
        }
    }
}

static short conn_events(sconn *c)
{
    if (c->phase == PH_DRAIN) return POLLIN;
    short ev = 0;
    uint32_t f = ferrule_conn_flags(c->tls);
    if ((f & FERRULE_FLAG_WANT_INPUT) && !c->sock_eof) ev |= POLLIN;
    if (f & FERRULE_FLAG_HAS_OUTPUT) ev |= POLLOUT;
    return ev;
}

/* ---- accept loop --------------------------------------------------------- */

static void accept_one(server *s)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = accept(s->lfd, (struct sockaddr *)&ss, &sl);
    if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
            errno != ECONNABORTED && !s->o.common.quiet)
            fprintf(stderr, "ferrule server: accept: %s\n", strerror(errno));
        return;
    }
    sconn *c = calloc(1, sizeof *c);
    if (!c || cli_set_nonblock(fd) != 0) {
        fprintf(stderr, "ferrule server: cannot set up a connection\n");
        free(c);
        close(fd);
        return;
    }
    cli_set_nodelay(fd);
    c->fd = fd;
    cli_addr_str(&ss, sl, c->peer, sizeof c->peer);
    s->accepted++;
    int st = ferrule_conn_new(&c->tls, s->cfg, NULL);
    if (st != FERRULE_OK) {
        cli_config_error(s->cfg, st, "creating a connection");
        c->tls = NULL;
        conn_free(c);
        s->finished++;
        return;
    }
    c->phase = PH_HANDSHAKE;
    c->deadline = cli_now_ms() + s->o.common.timeout_ms;
    s->conns[s->n_conns++] = c;
}

static int serve(server *s)
{
    struct pollfd pfds[MAX_CONNS + 1];
    for (;;) {
        /* reap finished connections */
        for (size_t i = 0; i < s->n_conns;) {
            if (s->conns[i]->phase == PH_DONE) {
                if (s->o.common.report)
                    (void)cli_report_append(s->o.common.report, report_conn, s->conns[i]);
                conn_free(s->conns[i]);
                s->conns[i] = s->conns[--s->n_conns];
                s->finished++;
            } else {
                i++;
            }
        }
        if (s->o.max_conns && s->finished >= s->o.max_conns) return CLI_EXIT_OK;

        int listening = s->lfd >= 0 && s->n_conns < MAX_CONNS &&
                        (!s->o.max_conns || s->accepted < s->o.max_conns);
        nfds_t n = 0;
        int64_t next = 0;
        for (size_t i = 0; i < s->n_conns; i++) {
            pfds[n].fd = s->conns[i]->fd;
            pfds[n].events = conn_events(s->conns[i]);
            pfds[n].revents = 0;
            n++;
            int64_t d = s->conns[i]->deadline;
            if (d != 0 && (next == 0 || d < next)) next = d;
        }
        if (listening) {
            pfds[n].fd = s->lfd;
            pfds[n].events = POLLIN;
            pfds[n].revents = 0;
            n++;
        }
        int r = poll(pfds, n, cli_poll_timeout(next));
        if (r < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "ferrule server: poll: %s\n", strerror(errno));
            return CLI_EXIT_FAIL;
        }
        /* Connections first (indices match while we do not add any). */
        size_t nc = s->n_conns;
        for (size_t i = 0; i < nc; i++) conn_step(s, s->conns[i], pfds[i].revents);
        if (listening && (pfds[n - 1].revents & POLLIN)) {
            accept_one(s);
            /* Give the newcomer a first step right away (it may already
             * have its ClientHello waiting). */
            if (s->n_conns > nc) conn_step(s, s->conns[s->n_conns - 1], POLLIN);
        }
    }
}

int cli_server_main(int argc, char **argv)
{
    server s;
    memset(&s, 0, sizeof s);
    s.lfd = -1;
    if (parse_args(&s.o, argc, argv) != 0) return CLI_EXIT_USAGE;
    if (s.o.common.help) {
        cli_server_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!s.o.accept) {
        fprintf(stderr, "ferrule server: missing --accept [HOST:]PORT\n");
        return CLI_EXIT_USAGE;
    }
    if (s.o.n_cert == 0 || s.o.n_cert != s.o.n_key) {
        fprintf(stderr, "ferrule server: give --cert and --key in pairs (at least one)\n");
        return CLI_EXIT_USAGE;
    }
    int asks = s.o.verify_client != NULL && strcmp(s.o.verify_client, "none") != 0;
    if (asks && s.o.n_cafile == 0) {
        fprintf(stderr, "ferrule server: --verify-client %s needs --cafile (the anchors for "
                        "client certificates)\n",
                s.o.verify_client);
        return CLI_EXIT_USAGE;
    }
    if (s.o.resume_identity != NULL && !asks) {
        fprintf(stderr, "ferrule server: --resume-client-identity needs --verify-client request "
                        "or require (without it no client certificate is resumed)\n");
        return CLI_EXIT_USAGE;
    }
    if (s.o.refuse_tickets && s.o.tickets > 0) {
        fprintf(stderr, "ferrule server: --refuse-tickets issues no ticket: --tickets %ld "
                        "contradicts it\n",
                s.o.tickets);
        return CLI_EXIT_USAGE;
    }
    char host[256], port[8];
    const char *why = NULL;
    if (cli_split_hostport(s.o.accept, 1, host, sizeof host, port, sizeof port, &why) != 0) {
        fprintf(stderr, "ferrule server: --accept '%s': %s\n", s.o.accept, why);
        return CLI_EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);

    int rc = CLI_EXIT_FAIL;
    int st = ferrule_config_new(&s.cfg, FERRULE_ROLE_SERVER, NULL);
    if (st != FERRULE_OK) {
        cli_config_error(NULL, st, "creating the configuration");
        return CLI_EXIT_FAIL;
    }
    if (cli_apply_common(s.cfg, &s.o.common, &s.keylog) != 0) goto out;
    for (size_t i = 0; i < s.o.n_cert; i++) {
        if (cli_check_readable("--cert", s.o.cert[i]) != 0 ||
            cli_check_readable("--key", s.o.key[i]) != 0)
            goto out;
        st = ferrule_config_add_cert_chain_file(s.cfg, s.o.cert[i], s.o.key[i]);
        if (st != FERRULE_OK) {
            char ctx[1024];
            snprintf(ctx, sizeof ctx, "--cert %s --key %s", s.o.cert[i], s.o.key[i]);
            cli_config_error(s.cfg, st, ctx);
            goto out;
        }
        if (s.o.staple[i] != NULL && load_staple(s.cfg, i, s.o.staple[i]) != 0) goto out;
    }
    for (size_t i = 0; i < s.o.n_cafile; i++) {
        if (cli_check_readable("--cafile", s.o.cafile[i]) != 0) goto out;
        st = ferrule_config_add_trust_file(s.cfg, s.o.cafile[i]);
        if (st != FERRULE_OK) {
            char ctx[600];
            snprintf(ctx, sizeof ctx, "--cafile %s", s.o.cafile[i]);
            cli_config_error(s.cfg, st, ctx);
            goto out;
        }
    }
    if (s.o.verify_client != NULL) {
        uint32_t mode = strcmp(s.o.verify_client, "require") == 0   ? FERRULE_CLIENT_AUTH_REQUIRE
                        : strcmp(s.o.verify_client, "request") == 0 ? FERRULE_CLIENT_AUTH_REQUEST
                                                                    : FERRULE_CLIENT_AUTH_NONE;
        st = ferrule_config_set_client_auth(s.cfg, mode);
        if (st != FERRULE_OK) {
            cli_config_error(s.cfg, st, "--verify-client");
            goto out;
        }
    }
    if (s.o.early_data) {
        ferrule_early_data_options eo;
        memset(&eo, 0, sizeof eo);
        eo.struct_size = (uint32_t)sizeof eo;
        eo.max_early_data_size = (uint32_t)s.o.max_early_data;
        st = ferrule_config_set_early_data(s.cfg, &eo);
        if (st != FERRULE_OK) {
            cli_config_error(s.cfg, st, "--early-data");
            goto out;
        }
    }
    if (s.o.sni_strict) {
        st = ferrule_config_set_sni_policy(s.cfg, FERRULE_SNI_STRICT);
        if (st != FERRULE_OK) {
            cli_config_error(s.cfg, st, "--sni-strict");
            goto out;
        }
    }
    if (s.o.key_update_every != 0) {
        st = ferrule_config_set_key_update_interval(s.cfg, s.o.key_update_every);
        if (st != FERRULE_OK) {
            cli_config_error(s.cfg, st, "--key-update-every");
            goto out;
        }
    }
    int tr = apply_tickets(&s);
    if (tr != 0) {
        if (tr == -1) rc = CLI_EXIT_USAGE;
        goto out;
    }
    char bound[160], err[512];
    s.lfd = cli_listen(host, port, bound, sizeof bound, err, sizeof err);
    if (s.lfd < 0) {
        fprintf(stderr, "ferrule server: %s\n", err);
        goto out;
    }
    printf("ACCEPT %s\n", bound);
    fflush(stdout);
    rc = serve(&s);
out:
    for (size_t i = 0; i < s.n_conns; i++) conn_free(s.conns[i]);
    if (s.lfd >= 0) close(s.lfd);
    ferrule_config_free(s.cfg);
    if (s.keylog) fclose(s.keylog);
    return rc;
}
