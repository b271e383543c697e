/* shim.c - ferrule's shim for BoringSSL's TLS test runner ("BoGo").
 *
 * The runner starts this program once per test with the flags of the
 * test (interop/bogo/flags.c): it connects to the runner (always the TCP
 * client, whatever TLS role it plays), writes its 8-byte shim id, runs
 * 1 + -resume-count connections one after the other, and for each does
 * the handshake, checks the -expect-* flags, then echoes what it reads
 * (each byte XOR 0xFF) until the runner's close_notify.  Exit status: 0
 * success, 1 failure (the error on stderr in BoringSSL's words, errors.c),
 * 89 a test of something this shim does not do.
 *
 * Only the public ABI (ferrule.h) is used, in buffer I/O mode: the shim
 * moves bytes between the socket and ferrule_conn_feed / _take itself, so
 * -async drip-feeds the engine one byte at a time.  See
 * docs/bogo-profile.md and /work/shared/docs/bogo.md for the contract. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <ferrule.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "flags.h"

#define EXIT_UNIMPLEMENTED 89

/* ---- process-wide state: what survives from one connection to the next */

static int64_t g_clock_offset;        /* -resumption-delay advances it */
static uint8_t g_ticket_name[16], g_ticket_key[32];
static uint8_t g_cookie_key[32];
static uint8_t *g_session;            /* client: the last session blob */
static size_t g_session_len;
static uint8_t *g_session_ocsp;       /* the staple of the last full handshake (client) */
static size_t g_session_ocsp_len;
static uint16_t g_session_peer_sig;   /* the peer's CertificateVerify scheme of the last full handshake */

/* The server's replay store: every key seen, for the life of the process
 * (a test runs a handful of connections). */
#define REPLAY_MAX 64
static uint8_t g_replay[REPLAY_MAX][32];
static size_t g_replay_n;

static int replay_check_and_insert(void *ctx, const uint8_t key[32], int64_t expires) {
    (void)ctx;
    (void)expires;
    for (size_t i = 0; i < g_replay_n; i++)
        if (memcmp(g_replay[i], key, 32) == 0) return 0;
    if (g_replay_n == REPLAY_MAX) return -1;
    memcpy(g_replay[g_replay_n++], key, 32);
    return 1;
}

static int64_t shim_now(void *ctx) {
    (void)ctx;
    return (int64_t)time(NULL) + g_clock_offset;
}

/* With FERRULE_BOGO_LOG=path, why each test was unimplemented goes there
 * (one line: the reason, then the arguments): the runner keeps no output of
 * a skipped test. */
static void log_unimplemented(int argc, char **argv, const char *why) {
    const char *path = getenv("FERRULE_BOGO_LOG");
    if (path == NULL) return;
    FILE *f = fopen(path, "a");
    if (f == NULL) return;
    fprintf(f, "%s\t", why);
    for (int i = 1; i < argc; i++) fprintf(f, " %s", argv[i]);
    fputc('\n', f);
    fclose(f);
}

static int g_argc;
static char **g_argv;

static void fail_msg(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- one connection ----------------------------------------------------- */

typedef struct {
    const shim_opts *o;
    ferrule_conn *conn;
    ferrule_config *cfg;
    int fd;
    int eof;
    uint8_t in[16384 + 2048];
    size_t in_off, in_len; /* received, not yet fed */
    int alpn_checked;
    /* traffic secrets from the key log (-export-traffic-secrets) */
    uint8_t client_ap[64], server_ap[64];
    size_t ap_len;
    size_t early_written; /* client: bytes of the first write sent as 0-RTT */
    uint8_t *first;       /* -shim-writes-first: the message, repeated */
    size_t first_len;
} shim_conn;

/* The -shim-writes-first message: -shim-initial-write, repeated
 * -repeat-shim-initial-write times.  0 when out of memory. */
static int make_first_write(shim_conn *s) {
    size_t one = strlen(s->o->shim_initial_write);
    size_t times = s->o->repeat_shim_initial_write > 0 ? (size_t)s->o->repeat_shim_initial_write : 0;
    s->first_len = one * times;
    s->first = malloc(s->first_len + 1);
    if (s->first == NULL) return 0;
    for (size_t i = 0; i < times; i++) memcpy(s->first + i * one, s->o->shim_initial_write, one);
    return 1;
}

static int send_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Send every pending byte (-async: one write per byte, like a socket that
 * takes one byte at a time). */
static int flush_out(shim_conn *s) {
    uint8_t buf[4096];
    while (ferrule_conn_pending_output(s->conn) > 0) {
        size_t cap = s->o->async ? 1 : sizeof(buf), got = 0;
        if (ferrule_conn_take(s->conn, buf, cap, &got) != FERRULE_OK) return -1;
        if (got == 0) break;
        if (send_all(s->fd, buf, got) != 0) return -1;
    }
    return 0;
}

/* Give the engine more input: leftover bytes first, else one recv
 * (-async: one byte at a time).  0 on progress, -1 on a transport error. */
static int pump_in(shim_conn *s) {
    if (s->in_off == s->in_len && !s->eof) {
        size_t cap = s->o->async ? 1 : sizeof(s->in);
        ssize_t k;
        do {
            k = recv(s->fd, s->in, cap, 0);
        } while (k < 0 && errno == EINTR);
        if (k < 0) return -1;
        s->in_off = 0;
        s->in_len = (size_t)k;
        if (k == 0) {
            s->eof = 1;
            (void)!ferrule_conn_feed_eof(s->conn); /* a failure shows on the next drive */
            return 0;
        }
    }
    if (s->in_off < s->in_len) {
        size_t used = 0;
        int st = ferrule_conn_feed(s->conn, s->in + s->in_off, s->in_len - s->in_off, &used);
        if (st != FERRULE_OK) return 0; /* the sticky error shows on the next drive */
        s->in_off += used;
    } else if (s->eof) {
        return -1; /* nothing more will come */
    }
    return 0;
}

typedef int (*drive_fn)(shim_conn *s, void *arg);

/* Run `op` until it stops asking for I/O: output is sent after every call,
 * input is fetched whenever it wants to read. */
static int drive(shim_conn *s, drive_fn op, void *arg) {
    for (;;) {
        int st = op(s, arg);
        if (flush_out(s) != 0 && st == FERRULE_OK) return FERRULE_INTERNAL;
        if (st == FERRULE_WANT_READ) {
            if (pump_in(s) != 0) {
                if (s->eof) return ferrule_conn_feed_eof(s->conn) == FERRULE_OK
                                       ? op(s, arg)
                                       : ferrule_conn_status(s->conn);
                return FERRULE_INTERNAL;
            }
            continue;
        }
        if (st == FERRULE_WANT_WRITE) continue;
        return st;
    }
}

static int op_handshake(shim_conn *s, void *arg) {
    (void)arg;
    return ferrule_conn_handshake(s->conn);
}

typedef struct {
    uint8_t *buf;
    size_t cap, n;
} read_arg;

static int op_read(shim_conn *s, void *arg) {
    read_arg *r = arg;
    return ferrule_conn_read(s->conn, r->buf, r->cap, &r->n);
}

static int op_read_early(shim_conn *s, void *arg) {
    read_arg *r = arg;
    return ferrule_conn_read_early_data(s->conn, r->buf, r->cap, &r->n);
}

typedef struct {
    const uint8_t *buf;
    size_t len, done;
} write_arg;

static int op_write(shim_conn *s, void *arg) {
    write_arg *w = arg;
    while (w->done < w->len) {
        size_t n = 0;
        int st = ferrule_conn_write(s->conn, w->buf + w->done, w->len - w->done, &n);
        w->done += n;
        if (st != FERRULE_OK) return st;
        if (flush_out(s) != 0) return FERRULE_INTERNAL;
    }
    return FERRULE_OK;
}

static int write_all(shim_conn *s, const void *buf, size_t len) {
    write_arg w = {buf, len, 0};
    return drive(s, op_write, &w);
}

/* ---- configuration from the flags ---------------------------------------- */

static int supported_group(int g) {
    return g == FERRULE_GROUP_X25519 || g == FERRULE_GROUP_SECP256R1 ||
           g == FERRULE_GROUP_SECP384R1;
}

static int supported_scheme(int s) {
    static const int ok[] = {0x0401, 0x0501, 0x0601, 0x0403, 0x0503, 0x0804,
                             0x0805, 0x0806, 0x0807, 0x0809, 0x080a, 0x080b};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (ok[i] == s) return 1;
    return 0;
}

/* ferrule's default scheme list (docs: ferrule_config_set_signature_schemes). */
static const uint16_t DEFAULT_VERIFY[] = {0x0403, 0x0503, 0x0807, 0x0804, 0x0805, 0x0806,
                                          0x0809, 0x080a, 0x080b, 0x0401, 0x0501, 0x0601};

/* -fail-cert-callback: bssl_shim's certificate callback fails. */
static int fail_cert_cb(void *ctx, const ferrule_conn *conn, const ferrule_client_hello *hello) {
    (void)ctx;
    (void)conn;
    (void)hello;
    return FERRULE_CERT_SELECT_REFUSE;
}

static int verify_cb(void *ctx, const ferrule_conn *conn, const ferrule_verify_result *r) {
    const shim_opts *o = ctx;
    (void)conn;
    (void)r;
    return o->verify_fail ? 1 : 0;
}

static int alpn_cb(void *ctx, const ferrule_conn *conn, const ferrule_client_hello *hello,
                   const uint8_t **proto, size_t *len) {
    shim_conn *s = ctx;
    const shim_opts *o = s->o;
    (void)conn;
    if (o->expect_advertised_alpn != NULL) {
        /* wire format: length-prefixed protocols */
        const uint8_t *want = (const uint8_t *)o->expect_advertised_alpn;
        size_t wl = strlen(o->expect_advertised_alpn), off = 0, i = 0;
        int ok = 1;
        while (off < wl) {
            size_t l = want[off];
            const uint8_t *p = NULL;
            size_t pl = 0;
            if (ferrule_client_hello_alpn(hello, i++, &p, &pl) != FERRULE_OK || pl != l ||
                off + 1 + l > wl || memcmp(p, want + off + 1, l) != 0)
                ok = 0;
            off += 1 + l;
        }
        if (i != ferrule_client_hello_alpn_count(hello)) ok = 0;
        if (!ok) {
            fail_msg("bad ALPN advertised");
            return FERRULE_ALPN_NO_OVERLAP;
        }
    }
    s->alpn_checked = 1;
    if (o->decline_alpn) return FERRULE_ALPN_NONE;
    if (o->reject_alpn) return FERRULE_ALPN_NO_OVERLAP;
    if (o->select_empty_alpn) {
        *proto = (const uint8_t *)"";
        *len = 0;
        return FERRULE_ALPN_SELECTED;
    }
    if (o->select_alpn != NULL) {
        *proto = (const uint8_t *)o->select_alpn;
        *len = strlen(o->select_alpn);
        return FERRULE_ALPN_SELECTED;
    }
    return FERRULE_ALPN_NONE;
}

#define TRY_CFG(call, what)                                                                    \
    do {                                                                                       \
        if ((call) != FERRULE_OK) {                                                            \
            fail_msg("config: %s: %s", what, ferrule_reason_name(ferrule_config_reason(cfg))); \
            ferrule_config_free(cfg);                                                          \
            return NULL;                                                                       \
        }                                                                                      \
    } while (0)

static int hexval(int ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Key log: keep the first application traffic secrets ("LABEL random secret"). */
static void keylog_cb(void *ctx, const ferrule_conn *conn, const char *line) {
    shim_conn *s = ctx;
    (void)conn;
    uint8_t *dst = NULL;
    if (strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0) dst = s->client_ap;
    else if (strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24) == 0) dst = s->server_ap;
    if (dst == NULL) return;
    const char *sec = strrchr(line, ' ');
    if (sec == NULL) return;
    sec++;
    size_t n = strlen(sec) / 2;
    if (n > sizeof(s->client_ap)) return;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(sec[2 * i]), lo = hexval(sec[2 * i + 1]);
        if (hi < 0 || lo < 0) return;
        dst[i] = (uint8_t)(hi << 4 | lo);
    }
    s->ap_len = n;
}

static ferrule_config *make_config(shim_conn *s, int *unimpl, const char **why) {
    const shim_opts *o = s->o;
    ferrule_config *cfg = NULL;
    if (ferrule_config_new(&cfg, o->is_server ? FERRULE_ROLE_SERVER : FERRULE_ROLE_CLIENT, NULL) !=
        FERRULE_OK)
        return NULL;
    TRY_CFG(ferrule_config_set_time_callback(cfg, shim_now, NULL), "time");
    /* bssl_shim's -max-cert-list is the largest handshake message it takes. */
    if (o->max_cert_list > 0) {
        size_t m = (size_t)o->max_cert_list < 1024 ? 1024 : (size_t)o->max_cert_list;
        TRY_CFG(ferrule_config_set_max_handshake_message(cfg, m), "max handshake message");
    }
    if (o->export_traffic_secrets)
        TRY_CFG(ferrule_config_set_keylog_callback(cfg, keylog_cb, s), "keylog");
    if (o->curves.n > 0) {
        uint16_t g[SHIM_MAX_LIST];
        size_t n = 0;
        for (size_t i = 0; i < o->curves.n; i++)
            if (supported_group(o->curves.v[i])) g[n++] = (uint16_t)o->curves.v[i];
        if (n == 0) {
            *unimpl = 1;
            *why = "-curves: no group ferrule offers";
            ferrule_config_free(cfg);
            return NULL;
        }
        TRY_CFG(ferrule_config_set_groups(cfg, g, n), "groups");
    }
    /* -signing-prefs: what we sign with; -verify-prefs: what we offer and
     * accept from the peer (otherwise ferrule's defaults: ferrule's one
     * list serves both unless the verify list is set, so -signing-prefs
     * alone sets that to the default). */
    if (o->signing_prefs.n > 0 && o->verify_prefs.n == 0)
        TRY_CFG(ferrule_config_set_verify_signature_schemes(cfg, DEFAULT_VERIFY,
                                                            sizeof(DEFAULT_VERIFY) / 2),
                "verify schemes");
    for (int which = 0; which < 2; which++) {
        const shim_ints *prefs = which == 0 ? &o->signing_prefs : &o->verify_prefs;
        if (prefs->n == 0) continue;
        uint16_t v[SHIM_MAX_LIST];
        size_t n = 0;
        for (size_t i = 0; i < prefs->n; i++)
            if (supported_scheme(prefs->v[i])) v[n++] = (uint16_t)prefs->v[i];
        /* A list of only schemes TLS 1.3 never uses in CertificateVerify
         * (rsa_pkcs1_*, SHA-1, MD5): BoringSSL is then left with no usable
         * scheme.  ferrule refuses such a list, so the shim gives it
         * rsa_pss_pss_sha256 instead, which the runner's keys (rsaEncryption,
         * EC, Ed25519) never produce: ferrule too has no scheme to sign with
         * or to accept, and fails as the test expects. */
        size_t usable = 0;
        for (size_t i = 0; i < n; i++)
            if ((v[i] & 0xff) != 0x01) usable++; /* rsa_pkcs1_*: 0x0401, 0x0501, 0x0601 */
        if (usable == 0 && n < SHIM_MAX_LIST) v[n++] = FERRULE_SIG_RSA_PSS_PSS_SHA256;
        int st = n == 0 ? FERRULE_USAGE
                 : which == 0 ? ferrule_config_set_signature_schemes(cfg, v, n)
                              : ferrule_config_set_verify_signature_schemes(cfg, v, n);
        if (st != FERRULE_OK) {
            *unimpl = 1;
            *why = "signature preferences: none ferrule uses in TLS 1.3";
            ferrule_config_free(cfg);
            return NULL;
        }
    }
    /* -new-x509-credential: chains in preference order, each with its
     * staple; the default credential last (BoringSSL tries it last). */
    for (int i = 0; i < o->n_creds; i++) {
        const shim_cred *cr = &o->creds[i];
        if (cr->signing_prefs || cr->cert_file == NULL || cr->key_file == NULL) {
            *unimpl = 1;
            *why = cr->signing_prefs ? "-signing-prefs per credential: ferrule signs from one list"
                                     : "a credential without -cert-file/-key-file";
            ferrule_config_free(cfg);
            return NULL;
        }
        TRY_CFG(ferrule_config_add_cert_chain_file(cfg, cr->cert_file, cr->key_file), "credential");
        if (cr->ocsp_response != NULL && o->is_server)
            TRY_CFG(ferrule_config_set_ocsp_staple(cfg, (size_t)i, (const uint8_t *)cr->ocsp_response,
                                                   cr->ocsp_response_len),
                    "credential ocsp");
    }
    if (o->cert_file != NULL && o->key_file != NULL)
        TRY_CFG(ferrule_config_add_cert_chain_file(cfg, o->cert_file, o->key_file), "certificate");
    /* bssl_shim skips an empty -trust-cert (GarbageCertificate-*). */
    if (o->trust_cert != NULL && o->trust_cert[0] != '\0') TRY_CFG(ferrule_config_add_trust_file(cfg, o->trust_cert), "trust");
    if (o->advertise_alpn != NULL) {
        const uint8_t *p = (const uint8_t *)o->advertise_alpn;
        size_t len = strlen(o->advertise_alpn), off = 0;
        while (off < len) {
            size_t l = p[off];
            if (l == 0 || off + 1 + l > len) {
                *unimpl = 1;
                *why = "-advertise-alpn: malformed list (ferrule refuses to offer it)";
                ferrule_config_free(cfg);
                return NULL;
            }
            TRY_CFG(ferrule_config_add_alpn(cfg, p + off + 1, l), "alpn");
            off += 1 + l;
        }
    }
    if (o->is_server) {
        TRY_CFG(ferrule_config_set_ticket_key(cfg, g_ticket_name, g_ticket_key), "ticket key");
        TRY_CFG(ferrule_config_set_cookie_key(cfg, g_cookie_key, sizeof(g_cookie_key)), "cookie");
        if (o->fail_cert_callback)
            TRY_CFG(ferrule_config_set_cert_select_callback(cfg, fail_cert_cb, NULL), "cert callback");
        if (o->no_ticket) {
            /* SSL_OP_NO_TICKET on a TLS 1.3 server: no tickets issued, and
             * none accepted (TLS13-NoTicket-NoAccept). */
            ferrule_resumption_options ro;
            memset(&ro, 0, sizeof(ro));
            ro.struct_size = (uint32_t)sizeof(ro);
            ro.accept = FERRULE_RESUME_REFUSE;
            TRY_CFG(ferrule_config_set_tickets(cfg, 0), "tickets");
            TRY_CFG(ferrule_config_set_resumption(cfg, &ro), "resumption");
        }
        if (o->select_alpn != NULL || o->decline_alpn || o->reject_alpn || o->select_empty_alpn ||
            o->expect_advertised_alpn != NULL)
            TRY_CFG(ferrule_config_set_alpn_select_callback(cfg, alpn_cb, s), "alpn callback");
        else if (o->advertise_alpn == NULL)
            TRY_CFG(ferrule_config_set_alpn_select_callback(cfg, alpn_cb, s), "alpn callback");
        if (o->ocsp_response != NULL)
            TRY_CFG(ferrule_config_set_ocsp_staple(cfg, (size_t)o->n_creds,
                                                   (const uint8_t *)o->ocsp_response,
                                                   o->ocsp_response_len),
                    "ocsp");
        if (o->require_any_client_certificate)
            TRY_CFG(ferrule_config_set_client_auth(cfg, FERRULE_CLIENT_AUTH_REQUIRE), "client auth");
        else if (o->verify_peer)
            TRY_CFG(ferrule_config_set_client_auth(cfg, FERRULE_CLIENT_AUTH_REQUEST), "client auth");
    }
    /* bssl_shim replaces chain validation by its verify callback, which
     * accepts any certificate unless -verify-fail: ferrule's own checks are
     * off on both sides and verify_cb judges (it is called with verification
     * off too), whenever a certificate is asked for. */
    TRY_CFG(ferrule_config_dangerous_no_verification(cfg), "verification");
    if (o->verify_peer || o->require_any_client_certificate)
        TRY_CFG(ferrule_config_set_verify_callback(cfg, verify_cb, (void *)o), "verify");
    if (o->enable_early_data) {
        ferrule_early_data_options ed;
        memset(&ed, 0, sizeof(ed));
        ed.struct_size = (uint32_t)sizeof(ed);
        static ferrule_replay_store store;
        store.struct_size = (uint32_t)sizeof(store);
        store.check_and_insert = replay_check_and_insert;
        memcpy(store.id, "bogo-shim-store!", 16);
        if (o->is_server) {
            ed.store = &store;
            /* BoringSSL accepts a ticket age skew of up to 60 s; ferrule's
             * window adds 1 s for its clock's granularity. */
            ed.window_ms = 59000;
            /* bssl_shim's server announces and enforces 14336 bytes of 0-RTT
             * (16384 - 2048); the runner's tests assume that figure. */
            ed.max_early_data_size = 14336;
        }
        TRY_CFG(ferrule_config_set_early_data(cfg, &ed), "early data");
    }
    return cfg;
}

/* ---- checks after the handshake ----------------------------------------- */

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (nb == NULL) break;
            buf = nb;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        if (k == 0) break;
        n += k;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int check_peer_chain_file(shim_conn *s, const char *path) {
    size_t len = 0;
    uint8_t *pem = read_file(path, &len);
    if (pem == NULL) return fail_msg("cannot read %s", path), 0;
    /* Compare each PEM block's DER with the peer's chain in order. */
    ferrule_config *tmp = NULL;
    int ok = 1;
    if (ferrule_config_new(&tmp, FERRULE_ROLE_CLIENT, NULL) != FERRULE_OK ||
        ferrule_config_add_trust_pem(tmp, pem, len) != FERRULE_OK)
        ok = 0;
    /* The trust store cannot hand the DER back: decode PEM here. */
    size_t idx = 0;
    const char *p = (const char *)pem, *end = (const char *)pem + len;
    while (ok && p < end) {
        const char *b = memmem(p, (size_t)(end - p), "-----BEGIN CERTIFICATE-----", 27);
        if (b == NULL) break;
        b += 27;
        const char *e = memmem(b, (size_t)(end - b), "-----END CERTIFICATE-----", 25);
        if (e == NULL) break;
        char *txt = malloc((size_t)(e - b) + 1);
        size_t t = 0;
        for (const char *q = b; q < e; q++)
            if (*q != '\n' && *q != '\r' && *q != ' ') txt[t++] = *q;
        txt[t] = '\0';
        size_t dl = 0;
        uint8_t *der = shim_b64_decode(txt, &dl);
        free(txt);
        const uint8_t *pd = NULL;
        size_t pl = 0;
        if (der == NULL || ferrule_conn_peer_cert(s->conn, idx, &pd, &pl) != FERRULE_OK ||
            pl != dl || memcmp(pd, der, dl) != 0)
            ok = 0;
        free(der);
        idx++;
        p = e + 25;
    }
    if (ok && idx != ferrule_conn_peer_cert_count(s->conn)) ok = 0;
    ferrule_config_free(tmp);
    free(pem);
    if (!ok) fail_msg("peer certificate chain does not match %s", path);
    return ok;
}

static const char *early_data_reason(const shim_conn *s, int is_resume);

static int check_handshake(shim_conn *s, int is_resume) {
    const shim_opts *o = s->o;
    ferrule_conn *c = s->conn;
    if (o->expect_version != 0 && ferrule_conn_version(c) != o->expect_version)
        return fail_msg("want version %04x, got %04x", o->expect_version, ferrule_conn_version(c)), 0;
    int expect_resume = is_resume && !o->expect_session_miss;
    if (!!ferrule_conn_resumed(c) != expect_resume)
        return fail_msg("session unexpectedly was%s reused", ferrule_conn_resumed(c) ? "" : " not"), 0;
    if (o->expect_server_name != NULL) {
        const char *sn = ferrule_conn_server_name(c);
        if (sn == NULL || strcmp(sn, o->expect_server_name) != 0)
            return fail_msg("servername mismatch (got %s; want %s)", sn ? sn : "(none)",
                            o->expect_server_name), 0;
    }
    if (o->expect_no_server_name && ferrule_conn_server_name(c) != NULL)
        return fail_msg("unexpected server name"), 0;
    const char *want_alpn = o->is_server ? o->select_alpn : o->expect_alpn;
    const uint8_t *ap = NULL;
    size_t al = 0;
    ferrule_conn_alpn(c, &ap, &al);
    size_t wl = want_alpn ? strlen(want_alpn) : 0;
    if (o->is_server && o->decline_alpn) wl = 0;
    if (al != wl || (wl > 0 && memcmp(ap, want_alpn, wl) != 0))
        return fail_msg("negotiated alpn proto mismatch"), 0;
    /* A resumed connection has no CertificateVerify: BoringSSL reports the
     * scheme of the handshake that made the session, kept in the session;
     * the shim keeps it for the process (one session chain per test). */
    uint16_t peer_sig = ferrule_conn_peer_signature_scheme(c);
    if (ferrule_conn_resumed(c)) peer_sig = g_session_peer_sig;
    else g_session_peer_sig = peer_sig;
    if (o->expect_peer_signature_algorithm != 0 && peer_sig != o->expect_peer_signature_algorithm)
        return fail_msg("Peer signature algorithm was %04x, wanted %04x.", peer_sig,
                        o->expect_peer_signature_algorithm), 0;
    if (o->expect_curve_id != 0 && ferrule_conn_group(c) != o->expect_curve_id)
        return fail_msg("curve_id was %04x, wanted %04x", ferrule_conn_group(c), o->expect_curve_id), 0;
    uint16_t suite = ferrule_conn_cipher_suite(c);
    if (o->expect_cipher != 0 && suite != o->expect_cipher)
        return fail_msg("Cipher ID was %04x, wanted %04x", suite, o->expect_cipher), 0;
    if (o->expect_cipher_aes != 0 && suite != o->expect_cipher_aes)
        return fail_msg("Cipher ID was %04x, wanted %04x (has AES hardware)", suite,
                        o->expect_cipher_aes), 0;
    uint32_t ed = ferrule_conn_early_data_status(c);
    if (o->expect_accept_early_data && ed != FERRULE_EARLY_ACCEPTED)
        return fail_msg("Early data was not accepted, but we expected the opposite"), 0;
    if (o->expect_reject_early_data && ed == FERRULE_EARLY_ACCEPTED)
        return fail_msg("Early data was accepted, but we expected the opposite"), 0;
    if (o->expect_no_offer_early_data && !o->is_server && ed != FERRULE_EARLY_NOT_OFFERED)
        return fail_msg("Unexpectedly offered early data"), 0;
    if (o->expect_early_data_reason != NULL) {
        const char *why = early_data_reason(s, is_resume);
        if (why == NULL)
            return fail_msg("Early data reason %u has no BoringSSL name (expected \"%s\")",
                            (unsigned)ferrule_conn_early_data_reason(c),
                            o->expect_early_data_reason), 0;
        if (strcmp(why, o->expect_early_data_reason) != 0)
            return fail_msg("Early data reason was \"%s\", expected \"%s\"", why,
                            o->expect_early_data_reason), 0;
    }
    size_t npeer = ferrule_conn_peer_cert_count(c);
    if (o->expect_no_peer_cert) {
        if (npeer != 0) return fail_msg("Received unexpected peer certificate."), 0;
    } else if (!o->is_server || o->require_any_client_certificate) {
        if (npeer == 0) return fail_msg("Received no peer certificate but expected one."), 0;
    }
    if ((o->expect_hrr && !ferrule_conn_hrr(c)) || (o->expect_no_hrr && ferrule_conn_hrr(c)))
        return fail_msg("Got %sHRR, but wanted opposite.", ferrule_conn_hrr(c) ? "" : "no "), 0;
    if (o->expect_peer_cert_file != NULL && !check_peer_chain_file(s, o->expect_peer_cert_file)) return 0;
    if (o->expect_ocsp_response != NULL) {
        const uint8_t *p = NULL;
        size_t n = 0;
        ferrule_conn_peer_ocsp_response(c, &p, &n);
        /* BoringSSL keeps the staple in the session; ferrule reports the
         * staple of this handshake (none when resumed): compare the one of
         * the full handshake that made the session. */
        if (ferrule_conn_resumed(c)) {
            p = g_session_ocsp;
            n = g_session_ocsp_len;
        } else {
            free(g_session_ocsp);
            g_session_ocsp = n > 0 ? malloc(n) : NULL;
            g_session_ocsp_len = g_session_ocsp != NULL ? n : 0;
            if (g_session_ocsp != NULL) memcpy(g_session_ocsp, p, n);
        }
        if (n != o->expect_ocsp_response_len || (n > 0 && memcmp(p, o->expect_ocsp_response, n) != 0))
            return fail_msg("OCSP response mismatch"), 0;
    }
    if (o->expect_selected_credential != INT_MIN) {
        /* ferrule's chain index: the credentials, then the default (-1) */
        int used = ferrule_conn_cert_index(c);
        if (used >= o->n_creds) used = -1;
        if (used != o->expect_selected_credential)
            return fail_msg("Credential %d was used, wanted %d", used,
                            o->expect_selected_credential), 0;
    }
    return 1;
}

static int session_early(const uint8_t *blob, size_t len) {
    uint32_t max = 0;
    return blob != NULL && ferrule_session_max_early_data(blob, len, &max) == FERRULE_OK && max > 0;
}

/* BoringSSL's SSL_early_data_reason_string for this connection: ferrule's
 * reason (ferrule_conn_early_data_reason) in BoringSSL's words; a client's
 * reasons for not offering are the shim's own (it offers 0-RTT whenever
 * it may, as BoringSSL does).  NULL where ferrule's reason has no
 * BoringSSL counterpart (replay store, application veto). */
static const char *early_data_reason(const shim_conn *s, int is_resume) {
    const shim_opts *o = s->o;
    if (!o->enable_early_data) return "disabled";
    if (!o->is_server && (!is_resume || g_session == NULL)) return "no_session_offered";
    if (!o->is_server && !session_early(g_session, g_session_len)) return "unsupported_for_session";
    switch (ferrule_conn_early_data_reason(s->conn)) {
    case FERRULE_EARLY_REASON_ACCEPTED: return "accept";
    case FERRULE_EARLY_REASON_DISABLED: return "disabled";
    case FERRULE_EARLY_REASON_NO_PSK_OFFERED: return "no_session_offered";
    case FERRULE_EARLY_REASON_NOT_RESUMED: return "session_not_resumed";
    case FERRULE_EARLY_REASON_TICKET: return "unsupported_for_session";
    case FERRULE_EARLY_REASON_PEER_DECLINED: return "peer_declined";
    case FERRULE_EARLY_REASON_TICKET_AGE: return "ticket_age_skew";
    case FERRULE_EARLY_REASON_HRR: return "hello_retry_request";
    default: return NULL;
    }
}

/* ---- the exchange ------------------------------------------------------- */

static int fail_conn(shim_conn *s, int st, const char *what) {
    shim_report(s->conn, st, what);
    return 0;
}

/* A 0-RTT server echoes the early data as it comes, in 0.5-RTT (before
 * the client's Finished), like bssl_shim whose handshake returns early. */
static int echo_early_data(shim_conn *s) {
    uint8_t buf[512];
    for (;;) {
        read_arg r = {buf, s->o->read_size > 0 && (size_t)s->o->read_size < sizeof(buf)
                               ? (size_t)s->o->read_size : sizeof(buf), 0};
        int st = drive(s, op_read_early, &r);
        if (st != FERRULE_OK) return fail_conn(s, st, "handshake");
        if (r.n == 0) return 1;
        for (size_t i = 0; i < r.n; i++) buf[i] ^= 0xff;
        st = write_all(s, buf, r.n);
        if (st != FERRULE_OK) return fail_conn(s, st, "write");
    }
}

static int exchange(shim_conn *s, int is_resume, int is_retry) {
    const shim_opts *o = s->o;
    int st;
    if (o->is_server && o->enable_early_data && !echo_early_data(s)) return 0;
    /* bssl_shim's 0-RTT client returns from the handshake while its early
     * data is in flight and exports then: before the handshake completes,
     * which the exporter refuses (NoEarlyKeyingMaterial-Client-InEarlyData). */
    if (!o->is_server && s->early_written > 0 && !is_retry && o->export_keying_material > 0) {
        uint8_t one[1];
        if (ferrule_conn_export_keying_material(s->conn, o->export_label, strlen(o->export_label),
                                                NULL, 0, one, sizeof(one)) != FERRULE_OK) {
            if (ferrule_conn_handshake_state(s->conn) != FERRULE_HS_CONNECTED)
                return fail_msg("failed to export keying material\n:HANDSHAKE_NOT_COMPLETE:"), 0;
            return fail_msg("failed to export keying material"), 0;
        }
        return fail_msg("exported keying material before the handshake completed"), 0;
    }
    /* A 0-RTT client learns only from the handshake what of its first
     * write the server took; so it completes the handshake before it
     * writes the rest, also with -implicit-handshake. */
    if (!o->implicit_handshake || (s->early_written > 0 && o->shim_writes_first && !is_retry)) {
        st = drive(s, op_handshake, NULL);
        if (st != FERRULE_OK) return fail_conn(s, st, "handshake");
        if (!check_handshake(s, is_resume)) return 0;
    }
    if (o->export_keying_material > 0) {
        size_t n = (size_t)o->export_keying_material;
        uint8_t *out = malloc(n);
        const char *ctx = o->use_export_context ? o->export_context : NULL;
        st = ferrule_conn_export_keying_material(s->conn, o->export_label, strlen(o->export_label),
                                                 (const uint8_t *)ctx, ctx ? strlen(ctx) : 0, out, n);
        if (st != FERRULE_OK) {
            free(out);
            return fail_msg("failed to export keying material"), 0;
        }
        st = write_all(s, out, n);
        free(out);
        if (st != FERRULE_OK) return fail_conn(s, st, "write");
    }
    if (o->export_traffic_secrets) {
        /* bssl_shim's layout: u16 length (host order), read secret, write secret. */
        uint16_t l = (uint16_t)s->ap_len;
        const uint8_t *rd = o->is_server ? s->client_ap : s->server_ap;
        const uint8_t *wr = o->is_server ? s->server_ap : s->client_ap;
        if (s->ap_len == 0) return fail_msg("failed to export traffic secrets"), 0;
        if ((st = write_all(s, &l, sizeof(l))) != FERRULE_OK || (st = write_all(s, rd, s->ap_len)) != FERRULE_OK ||
            (st = write_all(s, wr, s->ap_len)) != FERRULE_OK)
            return fail_conn(s, st, "write");
    }
    if (o->send_alert) {
        st = ferrule_conn_send_alert(s->conn, FERRULE_ALERT_DECOMPRESSION_FAILURE);
        flush_out(s);
        return st == FERRULE_OK ? 1 : fail_conn(s, st, "send alert");
    }
    if (o->write_different_record_sizes) {
        static const size_t sizes[] = {0, 1, 255, 256, 257, 16383, 16384, 16385, 32767, 32768, 32769};
        static uint8_t buf[32769];
        memset(buf, 0x42, sizeof(buf));
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            st = write_all(s, buf, sizes[i]);
            if (st != FERRULE_OK) return fail_conn(s, st, "write");
        }
    } else {
        if (o->shim_writes_first) {
            /* What went as accepted 0-RTT data is not sent again: the rest
             * of the message (beyond max_early_data_size) follows in 1-RTT;
             * rejected early data is sent again whole. */
            size_t len = s->first_len, skip = 0;
            if (!is_retry && s->early_written > 0 &&
                ferrule_conn_early_data_status(s->conn) == FERRULE_EARLY_ACCEPTED)
                skip = s->early_written;
            /* One write per repetition, as bssl_shim does (the runner
             * checks the records). */
            size_t unit = strlen(o->shim_initial_write);
            while (skip < len) {
                size_t k = unit - skip % unit;
                st = write_all(s, s->first + skip, k);
                if (st != FERRULE_OK) return fail_conn(s, st, "write");
                skip += k;
            }
        }
        if (!o->shim_shuts_down) {
            size_t rs = o->read_size > 0 ? (size_t)o->read_size : 512;
            uint8_t *buf = malloc(rs);
            for (;;) {
                if (o->key_update_before_read) {
                    st = ferrule_conn_key_update(s->conn, 0);
                    flush_out(s);
                    if (st != FERRULE_OK) return free(buf), fail_conn(s, st, "key update");
                }
                read_arg r = {buf, rs, 0};
                st = drive(s, op_read, &r);
                if (st == FERRULE_CLOSED) break;
                if (st != FERRULE_OK) {
                    free(buf);
                    return fail_conn(s, st, "read");
                }
                if (o->use_exporter_between_reads) {
                    uint8_t one;
                    if (ferrule_conn_export_keying_material(s->conn, "", 0, NULL, 0, &one, 1) !=
                        FERRULE_OK) {
                        free(buf);
                        return fail_msg("failed to export keying material"), 0;
                    }
                }
                if (o->key_update) {
                    st = ferrule_conn_key_update(s->conn, 0);
                    if (st != FERRULE_OK) return free(buf), fail_conn(s, st, "key update");
                }
                for (size_t i = 0; i < r.n; i++) buf[i] ^= 0xff;
                st = write_all(s, buf, r.n);
                if (st != FERRULE_OK) {
                    free(buf);
                    return fail_conn(s, st, "write");
                }
            }
            free(buf);
        }
    }
    if (!o->is_server) {
        int expect_new = !o->expect_no_session && !o->shim_shuts_down;
        size_t need = 0;
        int got = ferrule_conn_session(s->conn, NULL, 0, &need) != FERRULE_OK && need > 0;
        if (got) {
            free(g_session);
            g_session = malloc(need);
            g_session_len = need;
            if (ferrule_conn_session(s->conn, g_session, need, &g_session_len) != FERRULE_OK)
                return fail_msg("session blob"), 0;
        }
        if (expect_new != got)
            return fail_msg("new session was%s cached, but we expected the opposite",
                            got ? "" : " not"), 0;
        if (got && session_early(g_session, g_session_len) !=
                       o->expect_ticket_supports_early_data)
            return fail_msg("new session did%s support early data, but we expected the opposite",
                            o->expect_ticket_supports_early_data ? " not" : ""), 0;
    }
    /* bssl_shim sends close_notify only with -check-close-notify
     * (SSL_set_quiet_shutdown otherwise). */
    if (o->check_close_notify) {
        st = ferrule_conn_close(s->conn);
        if (st != FERRULE_OK) return fail_conn(s, st, "close");
        flush_out(s);
        if (o->shim_shuts_down) {
            uint8_t b[256];
            read_arg r = {b, sizeof(b), 0};
            do {
                st = drive(s, op_read, &r);
            } while (st == FERRULE_OK);
            if (st != FERRULE_CLOSED) {
                /* bssl_shim's second SSL_shutdown returns -1 here and it
                 * says so (Unclean-Shutdown expects the line). */
                fprintf(stderr, "Unexpected SSL_shutdown result: -1 != 1\n");
                return fail_conn(s, st, "waiting for close_notify");
            }
        }
    }
    return 1;
}

static int connect_runner(const shim_opts *o) {
    int fd = socket(o->ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int rc;
    if (o->ipv6) {
        struct sockaddr_in6 a;
        memset(&a, 0, sizeof(a));
        a.sin6_family = AF_INET6;
        a.sin6_port = htons((uint16_t)o->port);
        a.sin6_addr = in6addr_loopback;
        rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
    } else {
        struct sockaddr_in a;
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)o->port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
    }
    if (rc != 0) {
        close(fd);
        return -1;
    }
    uint8_t id[8];
    for (int i = 0; i < 8; i++) id[i] = (uint8_t)(o->shim_id >> (8 * i));
    if (send_all(fd, id, 8) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Close the way bssl_shim does: stop writing, drain what the runner still
 * sends (so it sees no reset), then close. */
static void drain_close(int fd) {
    shutdown(fd, SHUT_WR);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    uint8_t b[4096];
    while (recv(fd, b, sizeof(b), 0) > 0) {
    }
    close(fd);
}

/* Out-of-scope requests that a flag value (not the flag) makes. */
static const char *out_of_scope(const shim_opts *o) {
    if (o->no_tls13) return "-no-tls13: ferrule speaks TLS 1.3 only";
    if (o->fail_cert_callback && !o->is_server)
        return "-fail-cert-callback: ferrule clients have no certificate callback";
    /* ferrule fragments only to the peer's RFC 8449 record_size_limit; it
     * has no local cap on the records it sends (record_size_limit is what
     * we accept), so the flag cannot be honoured. */
    if (o->max_send_fragment != 0)
        return "-max-send-fragment: ferrule has no local send fragment size";
    if (o->max_version != 0 && o->max_version < FERRULE_TLS13)
        return "-max-version below TLS 1.3: ferrule speaks TLS 1.3 only";
    return NULL;
}

static int do_connection(const shim_opts *o, const shim_opts *retry, int is_resume) {
    shim_conn s;
    memset(&s, 0, sizeof(s));
    s.o = o;
    s.fd = -1;
    int unimpl = 0;
    const char *why = NULL;
    s.cfg = make_config(&s, &unimpl, &why);
    if (s.cfg == NULL) {
        if (unimpl) {
            fprintf(stdout, "unimplemented: %s\n", why);
            log_unimplemented(g_argc, g_argv, why);
            exit(EXIT_UNIMPLEMENTED);
        }
        return 0;
    }
    ferrule_conn_options co;
    memset(&co, 0, sizeof(co));
    co.struct_size = (uint32_t)sizeof(co);
    co.server_name = o->host_name;
    if (ferrule_conn_new(&s.conn, s.cfg, &co) != FERRULE_OK) {
        fail_msg("ferrule_conn_new failed");
        ferrule_config_free(s.cfg);
        return 0;
    }
    int ok = make_first_write(&s);
    if (!ok) fail_msg("out of memory");
    if (ok && !o->is_server && is_resume && g_session != NULL &&
        ferrule_conn_set_session(s.conn, g_session, g_session_len) != FERRULE_OK) {
        fail_msg("set_session: %s", ferrule_reason_name(ferrule_conn_reason(s.conn)));
        ok = 0;
    }
    s.fd = connect_runner(o);
    if (s.fd < 0) {
        fail_msg("connect: %s", strerror(errno));
        ok = 0;
    }
    /* A 0-RTT client writes its first message as early data. */
    int early = 0;
    if (ok && !o->is_server && is_resume && o->enable_early_data && o->shim_writes_first &&
        session_early(g_session, g_session_len)) {
        /* As much as the ticket allows (a call queues about a record);
         * the rest follows in 1-RTT. */
        int st = FERRULE_OK;
        size_t unit = strlen(o->shim_initial_write);
        while (s.early_written < s.first_len) {
            size_t n = 0;
            st = ferrule_conn_write_early_data(s.conn, s.first + s.early_written,
                                               unit - s.early_written % unit,
                                               FERRULE_EARLY_DATA_REPLAY_SAFE, &n);
            s.early_written += n;
            flush_out(&s);
            if (st != FERRULE_OK || n == 0) break;
        }
        /* A spent allowance is the end of the early part, not a failure. */
        if (st != FERRULE_OK && s.early_written == 0) ok = fail_conn(&s, st, "early data");
        else early = 1;
    }
    if (ok) {
        if (early && o->expect_reject_early_data) {
            /* The handshake ends with the early data rejected; the same
             * connection goes on under the -on-retry- flags. */
            int st = drive(&s, op_handshake, NULL);
            if (st != FERRULE_OK) ok = fail_conn(&s, st, "handshake");
            else if (ferrule_conn_early_data_status(s.conn) != FERRULE_EARLY_REJECTED)
                ok = (fail_msg("0-RTT exchange unexpected succeeded."), 0);
            else {
                s.o = retry;
                ok = check_handshake(&s, is_resume) && exchange(&s, is_resume, 1);
            }
        } else {
            ok = exchange(&s, is_resume, 0);
        }
    }
    if (s.fd >= 0) drain_close(s.fd);
    free(s.first);
    ferrule_conn_free(s.conn);
    ferrule_config_free(s.cfg);
    return ok;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-is-handshaker-supported") == 0) {
            printf("No\n");
            return 0;
        }
    }
    shim_opts opts[3];
    const char *why = NULL;
    int rc = shim_parse_flags(argc, argv, opts, &why);
    g_argc = argc;
    g_argv = argv;
    if (rc == EXIT_UNIMPLEMENTED) {
        printf("unimplemented flag: %s\n", why);
        log_unimplemented(argc, argv, why);
        return EXIT_UNIMPLEMENTED;
    }
    if (rc != 0) {
        fprintf(stderr, "bad flag value: %s\n", why);
        return 1;
    }
    for (int p = 0; p < 3; p++) {
        const char *oos = out_of_scope(&opts[p]);
        if (oos != NULL) {
            printf("unimplemented: %s\n", oos);
            log_unimplemented(argc, argv, oos);
            return EXIT_UNIMPLEMENTED;
        }
    }
    /* Process-wide keys: the same ticket and cookie keys for every
     * connection of the test (a restarted server of one fleet). */
    FILE *ur = fopen("/dev/urandom", "rb");
    if (ur == NULL || fread(g_ticket_name, 1, 16, ur) != 16 || fread(g_ticket_key, 1, 32, ur) != 32 ||
        fread(g_cookie_key, 1, 32, ur) != 32) {
        fprintf(stderr, "no randomness\n");
        return 1;
    }
    fclose(ur);
    if (opts[0].ticket_key != NULL) {
        if (opts[0].ticket_key_len != 48) {
            fprintf(stderr, "-ticket-key must be 48 bytes\n");
            return 1;
        }
        memcpy(g_ticket_name, opts[0].ticket_key, 16);
        memcpy(g_ticket_key, opts[0].ticket_key + 16, 32);
    }
    int ok = 1;
    int conns = 1 + opts[0].resume_count;
    for (int i = 0; i < conns && ok; i++) {
        const shim_opts *o = i == 0 ? &opts[SHIM_PHASE_INITIAL] : &opts[SHIM_PHASE_RESUME];
        if (i > 0) g_clock_offset += o->resumption_delay;
        ok = do_connection(o, &opts[SHIM_PHASE_RETRY], i > 0);
    }
    free(g_session_ocsp);
    shim_free_flags();
    free(g_session);
    fflush(stdout);
    return ok ? 0 : 1;
}
