/*
 * ferrule-wolfssl-peer: a wolfSSL TLS 1.3 peer for ferrule's interop matrix,
 * speaking interop/peers/PROTOCOL.md (caps, server, client; one JSON report
 * line per connection).  Built against the system's libwolfssl (Debian's
 * libwolfssl-dev) by build.sh; what `caps` says follows the macros of that
 * build's <wolfssl/options.h>.  See README.md.
 *
 * Blocking sockets, one connection at a time.  Every wait is bounded by
 * SO_RCVTIMEO/SO_SNDTIMEO (--timeout).
 */
#define _POSIX_C_SOURCE 200809L

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#define IMPL "wolfssl"
#define CHUNK 16384
/* The client never has more than WINDOW bytes sent and not yet echoed, so
 * that a blocking write cannot wait on a server that is itself blocked
 * writing the echo back to us (both sides' socket buffers are larger). */
#define WINDOW 65536
#define MAX_SEND_BYTES (1LL << 40)

/* ------------------------------------------------------------------ */
/* caps: derived from the build's macros                               */
/* ------------------------------------------------------------------ */

#if !defined(WOLFSSL_TLS13)
#define NA_TLS13 "this libwolfssl is built without WOLFSSL_TLS13"
#endif

#if defined(NA_TLS13)
#define NA_SUITES NA_TLS13
#define NA_GROUPS NA_TLS13
#define NA_HRR NA_TLS13
#define NA_RESUMPTION NA_TLS13
#define NA_KEY_UPDATE NA_TLS13
#else
#define NA_SUITES NULL
#if !defined(HAVE_SUPPORTED_CURVES)
#define NA_GROUPS "this libwolfssl is built without HAVE_SUPPORTED_CURVES"
#define NA_HRR NA_GROUPS
#else
#define NA_GROUPS NULL
#define NA_HRR NULL
#endif
#if !defined(HAVE_SESSION_TICKET)
#define NA_RESUMPTION "this libwolfssl is built without HAVE_SESSION_TICKET (TLS 1.3 tickets)"
#else
#define NA_RESUMPTION NULL
#endif
/* wolfSSL_update_keys() exists whenever WOLFSSL_TLS13 does. */
#define NA_KEY_UPDATE NULL
#endif

#if !defined(WOLFSSL_EARLY_DATA)
#define NA_EARLY_DATA "this libwolfssl is built without WOLFSSL_EARLY_DATA"
#else
#define NA_EARLY_DATA "wolfSSL has 0-RTT here (WOLFSSL_EARLY_DATA) but this peer does not implement it yet"
#endif

#if !defined(HAVE_ALPN)
#define NA_ALPN "this libwolfssl is built without HAVE_ALPN"
#else
#define NA_ALPN NULL
#endif

#if !defined(HAVE_SNI)
#define NA_SNI "this libwolfssl is built without HAVE_SNI"
#else
#define NA_SNI NULL
#endif

/* Stapling and checking a staple both go through wolfSSL's OCSP code. */
#if !defined(HAVE_CERTIFICATE_STATUS_REQUEST)
#define NA_OCSP "this libwolfssl is built without HAVE_CERTIFICATE_STATUS_REQUEST"
#elif !defined(HAVE_OCSP)
#define NA_OCSP "this libwolfssl is built without HAVE_OCSP"
#else
#define NA_OCSP NULL
#endif

/* RFC 8449 has no macro in this wolfSSL: it is not implemented at all. */
#define NA_RSL "wolfSSL " LIBWOLFSSL_VERSION_STRING " does not implement record_size_limit (RFC 8449); it has only max_fragment_length"

#define NA_CLIENT_AUTH NULL

struct feature {
    const char *key;
    const char *na; /* NULL: supported */
};

static const struct feature features[] = {
    {"suites", NA_SUITES},
    {"groups", NA_GROUPS},
    {"hrr", NA_HRR},
    {"resumption", NA_RESUMPTION},
    {"early_data", NA_EARLY_DATA},
    {"key_update", NA_KEY_UPDATE},
    {"client_auth", NA_CLIENT_AUTH},
    {"alpn", NA_ALPN},
    {"sni", NA_SNI},
    {"ocsp", NA_OCSP},
    {"record_size_limit", NA_RSL},
};

static const char *feature_na(const char *key)
{
    for (size_t i = 0; i < sizeof features / sizeof features[0]; i++)
        if (strcmp(features[i].key, key) == 0)
            return features[i].na;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* JSON output                                                         */
/* ------------------------------------------------------------------ */

struct jbuf {
    char *p;
    size_t len, cap;
    int oom;
};

static void jb_add(struct jbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        while (b->len + n + 1 > cap) {
            if (cap > SIZE_MAX / 2) {
                b->oom = 1;
                return;
            }
            cap *= 2;
        }
        char *np = realloc(b->p, cap);
        if (np == NULL) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void jb_puts(struct jbuf *b, const char *s)
{
    jb_add(b, s, strlen(s));
}

static void jb_printf(struct jbuf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof tmp)
        n = (int)sizeof tmp - 1;
    jb_add(b, tmp, (size_t)n);
}

/* A JSON string, or null.  Bytes outside printable ASCII are written as
 * \u00XX (the byte read as Latin-1), so the line is valid JSON whatever a
 * peer sent. */
static void jb_str(struct jbuf *b, const char *s)
{
    if (s == NULL) {
        jb_puts(b, "null");
        return;
    }
    jb_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            jb_add(b, e, 2);
        } else if (*p < 0x20 || *p >= 0x7f) {
            jb_printf(b, "\\u%04x", *p);
        } else {
            jb_add(b, (const char *)p, 1);
        }
    }
    jb_puts(b, "\"");
}

static void jb_key(struct jbuf *b, const char *k)
{
    if (b->len > 1)
        jb_puts(b, ", ");
    jb_str(b, k);
    jb_puts(b, ": ");
}

static void jb_bool(struct jbuf *b, int v) /* -1: null */
{
    jb_puts(b, v < 0 ? "null" : v ? "true" : "false");
}

static void jb_emit(struct jbuf *b)
{
    if (b->oom) {
        fputs("{\"error\": \"out of memory\"}\n", stdout);
    } else {
        fputs(b->p, stdout);
        fputc('\n', stdout);
    }
    fflush(stdout);
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ------------------------------------------------------------------ */
/* Usage errors and flags                                              */
/* ------------------------------------------------------------------ */

static void usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("ferrule-wolfssl-peer: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n", stderr);
    exit(2);
}

enum { ROLE_SERVER = 1, ROLE_CLIENT = 2 };

struct opts {
    int role;
    const char *listen, *connect, *servername;
    const char *cert, *key, *ca, *verify_client;
    const char *alpn, *groups, *suites, *ocsp_file;
    int ocsp_request, key_update, hold;
    long long send_bytes, count;
    double timeout;
};

static long long parse_ll(const char *flag, const char *s, long long lo, long long hi)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        usage_error("--%s: want an integer %lld..%lld, got \"%s\"", flag, lo, hi, s);
    return v;
}

static double parse_seconds(const char *flag, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v > 0) || v > 86400)
        usage_error("--%s: want seconds (0 < S <= 86400), got \"%s\"", flag, s);
    return v;
}

/* Flags of PROTOCOL.md: the roles that take each, whether it takes a value
 * (per role: --ocsp is a file for the server, a switch for the client) and
 * the feature whose n.a. makes it a usage error. */
struct flagdef {
    const char *name;
    int roles;
    int arg_roles; /* roles in which it takes a value */
    const char *feature;
};

static const struct flagdef flagdefs[] = {
    {"cert", ROLE_SERVER | ROLE_CLIENT, ROLE_SERVER | ROLE_CLIENT, NULL},
    {"key", ROLE_SERVER | ROLE_CLIENT, ROLE_SERVER | ROLE_CLIENT, NULL},
    {"ca", ROLE_SERVER | ROLE_CLIENT, ROLE_SERVER | ROLE_CLIENT, NULL},
    {"verify-client", ROLE_SERVER, ROLE_SERVER, NULL},
    {"alpn", ROLE_SERVER | ROLE_CLIENT, ROLE_SERVER | ROLE_CLIENT, "alpn"},
    {"groups", ROLE_SERVER | ROLE_CLIENT, ROLE_SERVER | ROLE_CLIENT, "groups"},
    {"suites", ROLE_SERVER | ROLE_CLIENT, ROLE_SERVER | ROLE_CLIENT, "suites"},
    {"early-data", ROLE_SERVER, ROLE_SERVER, "early_data"},
    {"early-data-bytes", ROLE_CLIENT, ROLE_CLIENT, "early_data"},
    {"ocsp", ROLE_SERVER | ROLE_CLIENT, ROLE_SERVER, "ocsp"},
    {"record-size-limit", ROLE_SERVER | ROLE_CLIENT, ROLE_SERVER | ROLE_CLIENT, "record_size_limit"},
    {"key-update", ROLE_SERVER | ROLE_CLIENT, 0, "key_update"},
    {"send-bytes", ROLE_CLIENT, ROLE_CLIENT, NULL},
    {"hold", ROLE_CLIENT, 0, NULL},
    {"count", ROLE_SERVER | ROLE_CLIENT, ROLE_SERVER | ROLE_CLIENT, NULL},
    {"timeout", ROLE_SERVER | ROLE_CLIENT, ROLE_SERVER | ROLE_CLIENT, NULL},
    {"listen", ROLE_SERVER, ROLE_SERVER, NULL},
    {"connect", ROLE_CLIENT, ROLE_CLIENT, NULL},
    {"servername", ROLE_CLIENT, ROLE_CLIENT, NULL},
};

static void set_flag(struct opts *o, const char *name, const char *val)
{
    if (!strcmp(name, "cert")) o->cert = val;
    else if (!strcmp(name, "key")) o->key = val;
    else if (!strcmp(name, "ca")) o->ca = val;
    else if (!strcmp(name, "verify-client")) o->verify_client = val;
    else if (!strcmp(name, "alpn")) o->alpn = val;
    else if (!strcmp(name, "groups")) o->groups = val;
    else if (!strcmp(name, "suites")) o->suites = val;
    else if (!strcmp(name, "ocsp")) {
        if (o->role == ROLE_SERVER) o->ocsp_file = val;
        else o->ocsp_request = 1;
    } else if (!strcmp(name, "key-update")) o->key_update = 1;
    else if (!strcmp(name, "send-bytes")) o->send_bytes = parse_ll(name, val, 0, MAX_SEND_BYTES);
    else if (!strcmp(name, "hold")) o->hold = 1;
    else if (!strcmp(name, "count")) o->count = parse_ll(name, val, 1, 1000000);
    else if (!strcmp(name, "timeout")) o->timeout = parse_seconds(name, val);
    else if (!strcmp(name, "listen")) o->listen = val;
    else if (!strcmp(name, "connect")) o->connect = val;
    else if (!strcmp(name, "servername")) o->servername = val;
    /* early-data, early-data-bytes, record-size-limit: refused as n.a. */
}

static void parse_flags(struct opts *o, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
            usage_error("unexpected argument \"%s\"", a);
        char name[64];
        const char *eq = strchr(a + 2, '=');
        size_t nlen = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
        if (nlen >= sizeof name)
            usage_error("unknown flag \"%s\"", a);
        memcpy(name, a + 2, nlen);
        name[nlen] = '\0';
        const struct flagdef *d = NULL;
        for (size_t k = 0; k < sizeof flagdefs / sizeof flagdefs[0]; k++)
            if (strcmp(flagdefs[k].name, name) == 0 && (flagdefs[k].roles & o->role))
                d = &flagdefs[k];
        if (d == NULL)
            usage_error("unknown flag \"--%s\"", name);
        const char *val = NULL;
        if (d->arg_roles & o->role) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                usage_error("--%s needs a value", name);
        } else if (eq) {
            usage_error("--%s takes no value", name);
        }
        if (d->feature) {
            const char *na = feature_na(d->feature);
            if (na)
                usage_error("--%s is not applicable: %s", name, na);
        }
        set_flag(o, name, val);
    }
}

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

struct name_map {
    const char *iana, *wolf;
    int id;
};

static const struct name_map suite_names[] = {
    {"TLS_AES_128_GCM_SHA256", "TLS13-AES128-GCM-SHA256", 0},
    {"TLS_AES_256_GCM_SHA384", "TLS13-AES256-GCM-SHA384", 0},
    {"TLS_CHACHA20_POLY1305_SHA256", "TLS13-CHACHA20-POLY1305-SHA256", 0},
};

static const struct name_map group_names[] = {
    {"x25519", "X25519", WOLFSSL_ECC_X25519},
    {"secp256r1", "SECP256R1", WOLFSSL_ECC_SECP256R1},
    {"secp384r1", "SECP384R1", WOLFSSL_ECC_SECP384R1},
    {"secp521r1", "SECP521R1", WOLFSSL_ECC_SECP521R1},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *suite_iana(const char *wolf)
{
    if (wolf == NULL)
        return NULL;
    for (size_t i = 0; i < NELEM(suite_names); i++)
        if (strcmp(suite_names[i].wolf, wolf) == 0)
            return suite_names[i].iana;
    return wolf;
}

static const char *group_iana(const char *wolf)
{
    if (wolf == NULL)
        return NULL;
    for (size_t i = 0; i < NELEM(group_names); i++)
        if (strcasecmp(group_names[i].wolf, wolf) == 0)
            return group_names[i].iana;
    return wolf;
}

/* --suites: IANA names to wolfSSL's cipher list ("A:B"). */
static char *suites_list(const char *s)
{
    size_t cap = strlen(s) * 2 + 64, len = 0;
    char *out = calloc(1, cap);
    char *dup = strdup(s);
    if (out == NULL || dup == NULL)
        usage_error("out of memory");
    char *save = NULL;
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        const char *w = NULL;
        for (size_t i = 0; i < NELEM(suite_names); i++)
            if (strcmp(suite_names[i].iana, t) == 0)
                w = suite_names[i].wolf;
#if !defined(HAVE_CHACHA) || !defined(HAVE_POLY1305)
        if (w && strstr(w, "CHACHA"))
            usage_error("--suites %s: this libwolfssl is built without HAVE_CHACHA/HAVE_POLY1305", t);
#endif
#if !defined(WOLFSSL_SHA384)
        if (w && strstr(w, "SHA384"))
            usage_error("--suites %s: this libwolfssl is built without WOLFSSL_SHA384", t);
#endif
        if (w == NULL)
            usage_error("--suites: unknown suite \"%s\" (TLS_AES_128_GCM_SHA256, "
                        "TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256)", t);
        size_t wl = strlen(w);
        if (len + wl + 2 > cap)
            usage_error("--suites: too long");
        if (len)
            out[len++] = ':';
        memcpy(out + len, w, wl);
        len += wl;
        out[len] = '\0';
    }
    free(dup);
    if (len == 0)
        usage_error("--suites: empty");
    return out;
}

#define MAX_GROUPS 8

/* --groups: IANA names to wolfSSL group ids. */
static int parse_groups(const char *s, int *ids)
{
    int n = 0;
    char *dup = strdup(s);
    if (dup == NULL)
        usage_error("out of memory");
    char *save = NULL;
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int id = -1;
        for (size_t i = 0; i < NELEM(group_names); i++)
            if (strcasecmp(group_names[i].iana, t) == 0)
                id = group_names[i].id;
        if (strcasecmp(t, "X25519MLKEM768") == 0)
            usage_error("--groups X25519MLKEM768: wolfSSL %s has no ML-KEM", LIBWOLFSSL_VERSION_STRING);
#if !defined(HAVE_CURVE25519)
        if (id == WOLFSSL_ECC_X25519)
            usage_error("--groups x25519: this libwolfssl is built without HAVE_CURVE25519");
#endif
        if (id < 0)
            usage_error("--groups: unknown group \"%s\" (x25519, secp256r1, secp384r1, secp521r1)", t);
        if (n == MAX_GROUPS)
            usage_error("--groups: at most %d groups", MAX_GROUPS);
        ids[n++] = id;
    }
    free(dup);
    if (n == 0)
        usage_error("--groups: empty");
    return n;
}

/* --alpn a,b: wolfSSL_UseALPN takes the same comma-separated list. */
static void check_alpn(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 1024)
        usage_error("--alpn: want 1..1024 characters");
    const char *p = s;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        if (l == 0 || l > 255)
            usage_error("--alpn: every protocol needs 1..255 bytes");
        p += l;
        if (*p == ',')
            p++;
    }
}

static const char *alert_name(int code)
{
    switch (code) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 22: return "record_overflow";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 112: return "unrecognized_name";
    case 113: return "bad_certificate_status_response";
    case 115: return "unknown_psk_identity";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* One connection's report                                             */
/* ------------------------------------------------------------------ */

struct report {
    const char *role;
    long long conn;
    int ok;
    char error[512]; /* "" = null */
    const char *alert;
    char alert_buf[24];
    const char *version, *cipher, *group;
    int resumed;      /* -1 null */
    const char *early_data;
    char alpn[256];   /* "" = null */
    int have_alpn;
    char server_name[256];
    int have_server_name;
    int peer_certs;   /* -1 null */
    int ocsp_stapled; /* -1 null */
    int key_updates_sent;
    long long sent, received;
    int echo_ok;      /* -1 null */
    const char *close;
};

static void report_init(struct report *r, const char *role, long long conn)
{
    memset(r, 0, sizeof *r);
    r->role = role;
    r->conn = conn;
    r->resumed = -1;
    r->peer_certs = -1;
    r->ocsp_stapled = -1;
    r->echo_ok = -1;
    r->close = "error";
}

static void set_error(struct report *r, const char *fmt, ...)
{
    if (r->error[0])
        return; /* the first error counts */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    if (!r->error[0])
        snprintf(r->error, sizeof r->error, "error");
}

/* The library's error for a failed call, and the fatal alert behind it
 * (received first, else sent) from wolfSSL's alert history. */
static void set_ssl_error(struct report *r, WOLFSSL *ssl, int ret, const char *what)
{
    int err = wolfSSL_get_error(ssl, ret);
    char buf[WOLFSSL_MAX_ERROR_SZ];
    memset(buf, 0, sizeof buf);
    wolfSSL_ERR_error_string_n((unsigned long)err, buf, sizeof buf);
    buf[sizeof buf - 1] = '\0';
    set_error(r, "%s: %s (%d)", what, buf, err);
    if (r->alert)
        return;
    WOLFSSL_ALERT_HISTORY h;
    memset(&h, 0, sizeof h);
    if (wolfSSL_get_alert_history(ssl, &h) != WOLFSSL_SUCCESS)
        return;
    int code = -1;
    if (h.last_rx.level == 2 && h.last_rx.code > 0)
        code = h.last_rx.code;
    else if (h.last_tx.level == 2 && h.last_tx.code > 0)
        code = h.last_tx.code;
    if (code < 0)
        return;
    const char *n = alert_name(code);
    if (n == NULL) {
        snprintf(r->alert_buf, sizeof r->alert_buf, "alert_%d", code);
        n = r->alert_buf;
    }
    r->alert = n;
}

static void report_emit(const struct report *r)
{
    struct jbuf b = {0};
    jb_puts(&b, "{");
    jb_key(&b, "role"); jb_str(&b, r->role);
    jb_key(&b, "impl"); jb_str(&b, IMPL);
    jb_key(&b, "conn"); jb_printf(&b, "%lld", r->conn);
    jb_key(&b, "ok"); jb_bool(&b, r->ok);
    jb_key(&b, "error"); jb_str(&b, r->error[0] ? r->error : NULL);
    jb_key(&b, "alert"); jb_str(&b, r->alert);
    jb_key(&b, "version"); jb_str(&b, r->version);
    jb_key(&b, "cipher"); jb_str(&b, r->cipher);
    jb_key(&b, "group"); jb_str(&b, r->group);
    jb_key(&b, "resumed"); jb_bool(&b, r->resumed);
    jb_key(&b, "early_data"); jb_str(&b, r->early_data);
    jb_key(&b, "alpn"); jb_str(&b, r->have_alpn ? r->alpn : NULL);
    jb_key(&b, "server_name"); jb_str(&b, r->have_server_name ? r->server_name : NULL);
    jb_key(&b, "peer_certs");
    if (r->peer_certs < 0) jb_puts(&b, "null"); else jb_printf(&b, "%d", r->peer_certs);
    jb_key(&b, "ocsp_stapled"); jb_bool(&b, r->ocsp_stapled);
    jb_key(&b, "key_updates_sent"); jb_printf(&b, "%d", r->key_updates_sent);
    jb_key(&b, "sent"); jb_printf(&b, "%lld", r->sent);
    jb_key(&b, "received"); jb_printf(&b, "%lld", r->received);
    jb_key(&b, "echo_ok"); jb_bool(&b, r->echo_ok);
    jb_key(&b, "close"); jb_str(&b, r->close);
    jb_puts(&b, "}");
    jb_emit(&b);
}

/* What the handshake negotiated. */
static void fill_handshake(struct report *r, WOLFSSL *ssl)
{
    r->version = wolfSSL_get_version(ssl);
    r->cipher = suite_iana(wolfSSL_get_cipher_name(ssl));
    r->group = group_iana(wolfSSL_get_curve_name(ssl));
    r->resumed = wolfSSL_session_reused(ssl) ? 1 : 0;
#ifdef HAVE_ALPN
    char *proto = NULL;
    unsigned short plen = 0;
    if (wolfSSL_ALPN_GetProtocol(ssl, &proto, &plen) == WOLFSSL_SUCCESS && proto && plen > 0) {
        size_t n = plen < sizeof r->alpn - 1 ? plen : sizeof r->alpn - 1;
        memcpy(r->alpn, proto, n);
        r->alpn[n] = '\0';
        r->have_alpn = 1;
    }
#endif
    WOLFSSL_X509_CHAIN *chain = wolfSSL_get_peer_chain(ssl);
    r->peer_certs = chain ? wolfSSL_get_chain_count(chain) : 0;
}

/* ------------------------------------------------------------------ */
/* Sockets                                                             */
/* ------------------------------------------------------------------ */

static void set_timeouts(int fd, double seconds)
{
    struct timeval tv;
    tv.tv_sec = (time_t)seconds;
    tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* "HOST:PORT" (HOST may be [v6]) into its parts; 0 on success. */
static int split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon;
    const char *h = s;
    size_t hl;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (rb == NULL || rb[1] != ':')
            return -1;
        h = s + 1;
        hl = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return -1;
        hl = (size_t)(colon - s);
    }
    size_t pl = strlen(colon + 1);
    if (hl == 0 || hl >= hcap || pl == 0 || pl >= pcap)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    memcpy(port, colon + 1, pl + 1);
    return 0;
}

/* ------------------------------------------------------------------ */
/* The pattern                                                         */
/* ------------------------------------------------------------------ */

static void pattern(unsigned char *p, size_t n, long long off)
{
    unsigned v = (unsigned)(off % 251);
    for (size_t i = 0; i < n; i++) {
        p[i] = (unsigned char)v;
        if (++v == 251)
            v = 0;
    }
}

/* wolfSSL_read's end: 1 data, 0 close_notify, -1 TCP EOF, -2 error. */
static int classify_read(WOLFSSL *ssl, int ret)
{
    if (ret > 0)
        return 1;
    int err = wolfSSL_get_error(ssl, ret);
    if (err == WOLFSSL_ERROR_ZERO_RETURN || err == ZERO_RETURN ||
        (wolfSSL_get_shutdown(ssl) & WOLFSSL_RECEIVED_SHUTDOWN))
        return 0;
    if (err == SOCKET_PEER_CLOSED_E || (err == WOLFSSL_ERROR_SYSCALL && errno == 0))
        return -1;
    return -2;
}

static const char *close_name(int kind)
{
    return kind == 0 ? "close_notify" : kind == -1 ? "eof" : "error";
}

/* ------------------------------------------------------------------ */
/* Server                                                              */
/* ------------------------------------------------------------------ */

static unsigned char *ocsp_der;
static long ocsp_der_len;

#if defined(HAVE_CERTIFICATE_STATUS_REQUEST) && defined(HAVE_OCSP)
/* wolfSSL staples what its OCSP lookup for our own certificate returns; the
 * lookup's I/O callback answers with the --ocsp file instead of asking a
 * responder.  The buffer is ours: wolfSSL hands it back to ocsp_free_cb. */
static int ocsp_io_cb(void *ctx, const char *url, int url_len,
                      unsigned char *req, int req_len, unsigned char **resp)
{
    (void)ctx; (void)url; (void)url_len; (void)req; (void)req_len;
    if (ocsp_der == NULL || ocsp_der_len <= 0 || ocsp_der_len > INT_MAX)
        return -1;
    *resp = ocsp_der;
    return (int)ocsp_der_len;
}

static void ocsp_free_cb(void *ctx, unsigned char *resp)
{
    (void)ctx; (void)resp; /* ocsp_der lives until the server exits */
}
#endif

static unsigned char *read_file(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            if (cap >= (1u << 24)) { /* 16 MiB: no OCSP response is that big */
                free(buf);
                fclose(f);
                return NULL;
            }
            cap = cap ? cap * 2 : 4096;
            unsigned char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad || n == 0) {
        free(buf);
        return NULL;
    }
    *len = (long)n;
    return buf;
}

static void common_ctx(WOLFSSL_CTX *ctx, const struct opts *o)
{
    if (o->cert && wolfSSL_CTX_use_certificate_chain_file(ctx, o->cert) != WOLFSSL_SUCCESS)
        usage_error("--cert %s: cannot load the PEM chain", o->cert);
    if (o->key && wolfSSL_CTX_use_PrivateKey_file(ctx, o->key, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS)
        usage_error("--key %s: cannot load the PEM key", o->key);
    if (o->groups) {
        int ids[MAX_GROUPS];
        int n = parse_groups(o->groups, ids);
        if (wolfSSL_CTX_set_groups(ctx, ids, n) != WOLFSSL_SUCCESS)
            usage_error("--groups %s: wolfSSL_CTX_set_groups failed", o->groups);
    }
    if (o->suites) {
        char *list = suites_list(o->suites);
        if (wolfSSL_CTX_set_cipher_list(ctx, list) != WOLFSSL_SUCCESS)
            usage_error("--suites %s: wolfSSL_CTX_set_cipher_list(%s) failed", o->suites, list);
        free(list);
    }
    if (o->alpn)
        check_alpn(o->alpn);
}

/* Handshake, echo until the client's close_notify, our close_notify. */
static int serve_one(WOLFSSL_CTX *ctx, int fd, const struct opts *o, long long n)
{
    struct report r;
    report_init(&r, "server", n);
    set_timeouts(fd, o->timeout);
    WOLFSSL *ssl = wolfSSL_new(ctx);
    if (ssl == NULL) {
        set_error(&r, "wolfSSL_new failed");
        report_emit(&r);
        close(fd);
        return 0;
    }
    wolfSSL_set_fd(ssl, fd);
#ifdef HAVE_ALPN
    char alpn[1025];
    if (o->alpn) {
        snprintf(alpn, sizeof alpn, "%s", o->alpn);
        wolfSSL_UseALPN(ssl, alpn, (unsigned)strlen(alpn), WOLFSSL_ALPN_FAILED_ON_MISMATCH);
    }
#endif
    int ret = wolfSSL_accept(ssl);
#ifdef HAVE_SNI
    void *sni = NULL;
    unsigned short sl = wolfSSL_SNI_GetRequest(ssl, WOLFSSL_SNI_HOST_NAME, &sni);
    if (sni && sl > 0) {
        size_t k = sl < sizeof r.server_name - 1 ? sl : sizeof r.server_name - 1;
        memcpy(r.server_name, sni, k);
        r.server_name[k] = '\0';
        r.have_server_name = 1;
    }
#endif
    /* A server cannot tell whether early data was offered (this build has
     * no 0-RTT) nor whether its staple went out (the client may not ask). */
    r.early_data = NULL;
    if (ret != WOLFSSL_SUCCESS) {
        set_ssl_error(&r, ssl, ret, "handshake");
        r.version = NULL;
        report_emit(&r);
        wolfSSL_free(ssl);
        close(fd);
        return 0;
    }
    fill_handshake(&r, ssl);
    if (o->key_update) {
        ret = wolfSSL_update_keys(ssl);
        if (ret == WOLFSSL_SUCCESS)
            r.key_updates_sent = 1;
        else
            set_ssl_error(&r, ssl, ret, "wolfSSL_update_keys");
    }
    unsigned char *buf = malloc(CHUNK);
    int kind = -2;
    if (buf == NULL)
        set_error(&r, "out of memory");
    while (buf && !r.error[0]) {
        errno = 0;
        ret = wolfSSL_read(ssl, buf, CHUNK);
        kind = classify_read(ssl, ret);
        if (kind != 1)
            break;
        r.received += ret;
        int w = wolfSSL_write(ssl, buf, ret);
        if (w != ret) {
            set_ssl_error(&r, ssl, w, "write");
            kind = -2;
            break;
        }
        r.sent += w;
    }
    free(buf);
    if (!r.error[0]) {
        r.close = close_name(kind);
        if (kind == 0) {
            ret = wolfSSL_shutdown(ssl); /* our close_notify */
            if (ret != WOLFSSL_SUCCESS && ret != WOLFSSL_SHUTDOWN_NOT_DONE)
                set_ssl_error(&r, ssl, ret, "close_notify");
        } else if (kind == -1) {
            set_error(&r, "TCP EOF without close_notify (truncated)");
        } else {
            set_ssl_error(&r, ssl, ret, "read");
        }
    }
    r.ok = !r.error[0] && kind == 0;
    report_emit(&r);
    wolfSSL_free(ssl);
    close(fd);
    return r.ok;
}

static int run_server(const struct opts *o)
{
    if (!o->cert || !o->key)
        usage_error("server: --cert and --key are required");
    int require = 0;
    if (o->verify_client && strcmp(o->verify_client, "require") == 0)
        require = 1;
    else if (o->verify_client && strcmp(o->verify_client, "none") != 0)
        usage_error("--verify-client: want none or require, got \"%s\"", o->verify_client);
    if (require && !o->ca)
        usage_error("--verify-client require needs --ca");
    WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfTLSv1_3_server_method());
    if (ctx == NULL)
        usage_error("wolfSSL_CTX_new failed");
    common_ctx(ctx, o);
    if (require) {
        if (wolfSSL_CTX_load_verify_locations(ctx, o->ca, NULL) != WOLFSSL_SUCCESS)
            usage_error("--ca %s: cannot load", o->ca);
        wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    } else {
        wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, NULL);
    }
#ifdef HAVE_SNI
    /* A name of our own, so that wolfSSL keeps the client's: any name is
     * taken (and acknowledged) and reported. */
    static const char own[] = "ferrule-wolfssl-peer.invalid";
    wolfSSL_CTX_UseSNI(ctx, WOLFSSL_SNI_HOST_NAME, own, (unsigned short)strlen(own));
    wolfSSL_CTX_SNI_SetOptions(ctx, WOLFSSL_SNI_HOST_NAME,
                               WOLFSSL_SNI_CONTINUE_ON_MISMATCH | WOLFSSL_SNI_ANSWER_ON_MISMATCH);
#endif
    if (o->ocsp_file) {
#if defined(HAVE_CERTIFICATE_STATUS_REQUEST) && defined(HAVE_OCSP)
        ocsp_der = read_file(o->ocsp_file, &ocsp_der_len);
        if (ocsp_der == NULL)
            usage_error("--ocsp %s: cannot read (or empty, or over 16 MiB)", o->ocsp_file);
        /* wolfSSL checks the response before stapling it, against the
         * issuer of our certificate: trust our own chain for that. */
        if (wolfSSL_CTX_load_verify_locations(ctx, o->cert, NULL) != WOLFSSL_SUCCESS)
            usage_error("--ocsp: cannot load %s as the OCSP issuer", o->cert);
        /* The override URL makes the lookup happen (our leaf names no
         * responder); the callback never connects to it. */
        static char url[] = "http://127.0.0.1:9/ocsp";
        if (wolfSSL_CTX_EnableOCSPStapling(ctx) != WOLFSSL_SUCCESS ||
            wolfSSL_CTX_EnableOCSP(ctx, WOLFSSL_OCSP_URL_OVERRIDE | WOLFSSL_OCSP_NO_NONCE) != WOLFSSL_SUCCESS ||
            wolfSSL_CTX_SetOCSP_OverrideURL(ctx, url) != WOLFSSL_SUCCESS ||
            wolfSSL_CTX_SetOCSP_Cb(ctx, ocsp_io_cb, ocsp_free_cb, NULL) != WOLFSSL_SUCCESS)
            usage_error("--ocsp: cannot enable stapling");
        /* Enabling OCSP also made wolfSSL check client certificates with
         * it (through the same callback: a wrong answer).  Turning checks
         * off keeps the override URL that stapling uses. */
        if (wolfSSL_CTX_DisableOCSP(ctx) != WOLFSSL_SUCCESS)
            usage_error("--ocsp: cannot disable OCSP checks of client certificates");
#endif
    }

    char host[256], port[16];
    const char *listen_on = o->listen ? o->listen : "127.0.0.1:0";
    if (split_hostport(listen_on, host, sizeof host, port, sizeof port) != 0)
        usage_error("--listen: want HOST:PORT, got \"%s\"", listen_on);
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL)
        usage_error("--listen %s: cannot resolve", listen_on);
    int ls = socket(ai->ai_family, SOCK_STREAM, 0);
    int one = 1;
    if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(ls, ai->ai_addr, ai->ai_addrlen) != 0 || listen(ls, 16) != 0) {
        fprintf(stderr, "ferrule-wolfssl-peer: listen %s: %s\n", listen_on, strerror(errno));
        exit(1);
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char ahost[INET6_ADDRSTRLEN] = "?";
    unsigned aport = 0;
    if (getsockname(ls, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &s4->sin_addr, ahost, sizeof ahost);
            aport = ntohs(s4->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &s6->sin6_addr, ahost, sizeof ahost);
            aport = ntohs(s6->sin6_port);
        }
    }
    if (ss.ss_family == AF_INET6)
        printf("ACCEPT [%s]:%u\n", ahost, aport);
    else
        printf("ACCEPT %s:%u\n", ahost, aport);
    fflush(stdout);

    int all_ok = 1;
    for (long long n = 1; n <= o->count; n++) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR) {
                n--;
                continue;
            }
            fprintf(stderr, "ferrule-wolfssl-peer: accept: %s\n", strerror(errno));
            exit(1);
        }
        if (!serve_one(ctx, fd, o, n))
            all_ok = 0;
    }
    close(ls);
    wolfSSL_CTX_free(ctx);
    free(ocsp_der);
    ocsp_der = NULL;
    return all_ok ? 0 : 1;
}

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

#if defined(HAVE_CERTIFICATE_STATUS_REQUEST) && defined(HAVE_OCSP)
/* Whether a staple came: this wolfSSL checks a staple but does not report
 * one to a client (wolfSSL_get_tlsext_status_ocsp_resp stays empty).  So
 * the client also enables OCSP lookups, through an I/O callback that only
 * notes the call and fails: wolfSSL looks the server's certificate up only
 * when no valid staple covered it.  The failed lookup (and only it) is then
 * forgiven in the verify callback: no staple is not an error here. */
static int ocsp_lookups;

static int client_ocsp_io(void *ctx, const char *url, int url_len,
                          unsigned char *req, int req_len, unsigned char **resp)
{
    (void)ctx; (void)url; (void)url_len; (void)req; (void)req_len; (void)resp;
    ocsp_lookups++;
    return -1;
}

static int client_verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
    if (!preverify && ocsp_lookups > 0 && store != NULL && store->error_depth == 0 &&
        (store->error == OCSP_INVALID_STATUS || store->error == OCSP_LOOKUP_FAIL))
        return 1;
    return preverify;
}
#endif

static int dial(const char *hostport, double timeout, char *err, size_t errcap)
{
    char host[256], port[16];
    if (split_hostport(hostport, host, sizeof host, port, sizeof port) != 0) {
        snprintf(err, errcap, "--connect: want HOST:PORT");
        return -1;
    }
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errcap, "resolve %.200s: %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, SOCK_STREAM, 0);
        if (fd < 0)
            continue;
        set_timeouts(fd, timeout); /* SO_SNDTIMEO bounds connect() too */
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        snprintf(err, errcap, "connect %.200s: %s", hostport, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

/* Sends the pattern, with at most WINDOW bytes not yet echoed, and checks
 * the echo.  Returns 1 when all of it came back, else 0 (report filled). */
static int exchange(struct report *r, WOLFSSL *ssl, long long total)
{
    unsigned char *out = malloc(CHUNK), *in = malloc(CHUNK), *want = malloc(CHUNK);
    int echo_ok = 1, done = 0;
    if (!out || !in || !want) {
        set_error(r, "out of memory");
        goto end;
    }
    while (r->received < total) {
        if (r->sent < total && r->sent - r->received < WINDOW) {
            long long k = total - r->sent < CHUNK ? total - r->sent : CHUNK;
            pattern(out, (size_t)k, r->sent);
            int w = wolfSSL_write(ssl, out, (int)k);
            if (w != (int)k) {
                set_ssl_error(r, ssl, w, "write");
                goto end;
            }
            r->sent += k;
            continue;
        }
        errno = 0;
        int ret = wolfSSL_read(ssl, in, CHUNK);
        int kind = classify_read(ssl, ret);
        if (kind != 1) {
            r->close = close_name(kind);
            if (kind == -2)
                set_ssl_error(r, ssl, ret, "read");
            else
                set_error(r, "%s after %lld of %lld echoed bytes", r->close, r->received, total);
            goto end;
        }
        long long room = total - r->received;
        size_t cmp = (long long)ret > room ? (size_t)room : (size_t)ret;
        if ((long long)ret > room)
            echo_ok = 0; /* more came back than was sent */
        pattern(want, cmp, r->received);
        if (memcmp(in, want, cmp) != 0)
            echo_ok = 0;
        r->received += ret;
    }
    done = 1;
end:
    r->echo_ok = echo_ok && done && r->received == total;
    free(out);
    free(in);
    free(want);
    return done;
}

static int connect_one(WOLFSSL_CTX *ctx, const struct opts *o, long long n, WOLFSSL_SESSION **sess)
{
    struct report r;
    report_init(&r, "client", n);
    r.early_data = "not_offered";
    snprintf(r.server_name, sizeof r.server_name, "%s", o->servername);
    r.have_server_name = 1;
    int fd = dial(o->connect, o->timeout, r.error, sizeof r.error);
    if (fd < 0) {
        report_emit(&r);
        return 0;
    }
    WOLFSSL *ssl = wolfSSL_new(ctx);
    if (ssl == NULL) {
        set_error(&r, "wolfSSL_new failed");
        report_emit(&r);
        close(fd);
        return 0;
    }
    wolfSSL_set_fd(ssl, fd);
#ifdef HAVE_SNI
    wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, o->servername, (unsigned short)strlen(o->servername));
#endif
    wolfSSL_check_domain_name(ssl, o->servername);
#ifdef HAVE_ALPN
    char alpn[1025];
    if (o->alpn) {
        snprintf(alpn, sizeof alpn, "%s", o->alpn);
        wolfSSL_UseALPN(ssl, alpn, (unsigned)strlen(alpn), WOLFSSL_ALPN_FAILED_ON_MISMATCH);
    }
#endif
    if (o->groups) {
        /* The key share goes to the first group. */
        int ids[MAX_GROUPS];
        parse_groups(o->groups, ids);
        wolfSSL_NoKeyShares(ssl);
        if (wolfSSL_UseKeyShare(ssl, (word16)ids[0]) != WOLFSSL_SUCCESS)
            set_error(&r, "wolfSSL_UseKeyShare failed");
    }
#if defined(HAVE_CERTIFICATE_STATUS_REQUEST) && defined(HAVE_OCSP)
    if (o->ocsp_request &&
        wolfSSL_UseOCSPStapling(ssl, WOLFSSL_CSR_OCSP, 0) != WOLFSSL_SUCCESS)
        set_error(&r, "wolfSSL_UseOCSPStapling failed");
#endif
    if (*sess)
        wolfSSL_set_session(ssl, *sess);
#if defined(HAVE_CERTIFICATE_STATUS_REQUEST) && defined(HAVE_OCSP)
    ocsp_lookups = 0;
#endif
    int ret = r.error[0] ? -1 : wolfSSL_connect(ssl);
    if (ret != WOLFSSL_SUCCESS) {
        if (!r.error[0])
            set_ssl_error(&r, ssl, ret, "handshake");
        report_emit(&r);
        wolfSSL_free(ssl);
        close(fd);
        return 0;
    }
    fill_handshake(&r, ssl);
#if defined(HAVE_CERTIFICATE_STATUS_REQUEST) && defined(HAVE_OCSP)
    /* A resumed connection has no Certificate, so no staple. */
    if (o->ocsp_request)
        r.ocsp_stapled = !r.resumed && ocsp_lookups == 0;
#endif
    if (o->key_update) {
        ret = wolfSSL_update_keys(ssl);
        if (ret == WOLFSSL_SUCCESS)
            r.key_updates_sent = 1;
        else
            set_ssl_error(&r, ssl, ret, "wolfSSL_update_keys");
    }
    int echoed = !r.error[0] && exchange(&r, ssl, o->send_bytes);
    if (echoed) {
        if (o->hold) {
            fputs("ECHOED\n", stdout);
            fflush(stdout);
            char tmp[512];
            for (;;) {
                errno = 0;
                ssize_t k = read(0, tmp, sizeof tmp);
                if (k > 0 || (k < 0 && errno == EINTR))
                    continue;
                break;
            }
        }
        ret = wolfSSL_shutdown(ssl); /* our close_notify */
        if (ret != WOLFSSL_SUCCESS && ret != WOLFSSL_SHUTDOWN_NOT_DONE) {
            set_ssl_error(&r, ssl, ret, "close_notify");
        }
        /* To the server's close_notify (or EOF): tickets sent late are
         * processed on the way. */
        unsigned char buf[4096];
        for (;;) {
            if (wolfSSL_get_shutdown(ssl) & WOLFSSL_RECEIVED_SHUTDOWN) {
                r.close = "close_notify";
                break;
            }
            errno = 0;
            ret = wolfSSL_read(ssl, buf, sizeof buf);
            int kind = classify_read(ssl, ret);
            if (kind == 1) {
                set_error(&r, "%d bytes after the echo", ret);
                r.echo_ok = 0;
                r.received += ret;
                continue;
            }
            r.close = close_name(kind);
            if (kind == -1)
                set_error(&r, "TCP EOF without close_notify (truncated)");
            else if (kind == -2)
                set_ssl_error(&r, ssl, ret, "read");
            break;
        }
    }
    r.ok = !r.error[0] && r.echo_ok == 1 && strcmp(r.close, "close_notify") == 0;
#ifdef HAVE_SESSION_TICKET
    /* Keep the newest ticket for the next connection. */
    WOLFSSL_SESSION *s = wolfSSL_get1_session(ssl);
    if (s && wolfSSL_SESSION_has_ticket(s)) {
        if (*sess)
            wolfSSL_SESSION_free(*sess);
        *sess = s;
    } else if (s) {
        wolfSSL_SESSION_free(s);
    }
#endif
    report_emit(&r);
    wolfSSL_free(ssl);
    close(fd);
    return r.ok;
}

static int run_client(struct opts *o)
{
    if (!o->connect)
        usage_error("client: --connect is required");
    if (!o->ca)
        usage_error("client: --ca is required");
    if ((o->cert == NULL) != (o->key == NULL))
        usage_error("--cert and --key go together");
    char host[256], port[16];
    if (split_hostport(o->connect, host, sizeof host, port, sizeof port) != 0)
        usage_error("--connect: want HOST:PORT, got \"%s\"", o->connect);
    if (!o->servername)
        o->servername = strdup(host);
    if (o->servername == NULL || strlen(o->servername) == 0 || strlen(o->servername) > 255)
        usage_error("--servername: want 1..255 characters");
    WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfTLSv1_3_client_method());
    if (ctx == NULL)
        usage_error("wolfSSL_CTX_new failed");
    common_ctx(ctx, o);
    if (wolfSSL_CTX_load_verify_locations(ctx, o->ca, NULL) != WOLFSSL_SUCCESS)
        usage_error("--ca %s: cannot load", o->ca);
    wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, NULL);
#if defined(HAVE_CERTIFICATE_STATUS_REQUEST) && defined(HAVE_OCSP)
    if (o->ocsp_request) {
        static char url[] = "http://127.0.0.1:9/ocsp"; /* never connected to */
        if (wolfSSL_CTX_EnableOCSPStapling(ctx) != WOLFSSL_SUCCESS ||
            wolfSSL_CTX_EnableOCSP(ctx, WOLFSSL_OCSP_URL_OVERRIDE | WOLFSSL_OCSP_NO_NONCE) != WOLFSSL_SUCCESS ||
            wolfSSL_CTX_SetOCSP_OverrideURL(ctx, url) != WOLFSSL_SUCCESS ||
            wolfSSL_CTX_SetOCSP_Cb(ctx, client_ocsp_io, NULL, NULL) != WOLFSSL_SUCCESS)
            usage_error("--ocsp: cannot enable OCSP stapling");
        wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, client_verify_cb);
    }
#endif
    WOLFSSL_SESSION *sess = NULL;
    int all_ok = 1;
    for (long long n = 1; n <= o->count; n++)
        if (!connect_one(ctx, o, n, &sess))
            all_ok = 0;
    if (sess)
        wolfSSL_SESSION_free(sess);
    wolfSSL_CTX_free(ctx);
    return all_ok ? 0 : 1;
}

/* ------------------------------------------------------------------ */

static int run_caps(void)
{
    struct jbuf b = {0};
    jb_puts(&b, "{");
    jb_key(&b, "impl"); jb_str(&b, IMPL);
    jb_key(&b, "version"); jb_str(&b, wolfSSL_lib_version());
    jb_key(&b, "features"); jb_puts(&b, "{");
    for (size_t i = 0; i < NELEM(features); i++) {
        if (i)
            jb_puts(&b, ", ");
        jb_str(&b, features[i].key);
        jb_puts(&b, ": ");
        if (features[i].na)
            jb_str(&b, features[i].na);
        else
            jb_puts(&b, "true");
    }
    jb_puts(&b, "}}");
    jb_emit(&b);
    return 0;
}

static const char usage[] =
    "usage: ferrule-wolfssl-peer caps\n"
    "       ferrule-wolfssl-peer server --cert CHAIN.pem --key KEY.pem [flags]\n"
    "       ferrule-wolfssl-peer client --connect HOST:PORT --ca ROOT.pem [flags]\n"
    "(interop/peers/PROTOCOL.md; interop/peers/wolfssl/README.md)\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct opts o;
    memset(&o, 0, sizeof o);
    o.send_bytes = 1024;
    o.count = 1;
    o.timeout = 10;
    int rc;
    if (strcmp(argv[1], "caps") == 0) {
        if (argc != 2)
            usage_error("caps takes no flags");
        return run_caps();
    } else if (strcmp(argv[1], "server") == 0) {
        o.role = ROLE_SERVER;
    } else if (strcmp(argv[1], "client") == 0) {
        o.role = ROLE_CLIENT;
    } else {
        fputs(usage, stderr);
        return 2;
    }
    parse_flags(&o, argc - 2, argv + 2);
    if (wolfSSL_Init() != WOLFSSL_SUCCESS) {
        fputs("ferrule-wolfssl-peer: wolfSSL_Init failed\n", stderr);
        return 1;
    }
    char *own_name = NULL;
    if (o.role == ROLE_SERVER) {
        rc = run_server(&o);
    } else {
        int had_name = o.servername != NULL;
        rc = run_client(&o);
        if (!had_name)
            own_name = (char *)o.servername;
    }
    free(own_name);
    wolfSSL_Cleanup();
    return rc;
}
