/*
 * common.c - what the client and the server share: option parsing, turning
 * option strings into configuration calls, error reporting, time and a
 * small growable buffer.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cli_common_init(cli_common *c)
{
    memset(c, 0, sizeof(*c));
    c->timeout_ms = CLI_DEFAULT_TIMEOUT_MS;
}

int cli_opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t nl = strlen(name);
    if (strncmp(a, name, nl) != 0) return 0;
    if (a[nl] == '=') {
        *val = a + nl + 1;
        return 1;
    }
    if (a[nl] != '\0') return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "ferrule: option %s needs a value\n", name);
        return -1;
    }
    *i += 1;
    *val = argv[*i];
    return 1;
}

int cli_opt_flag(char **argv, int i, const char *name)
{
    const char *a = argv[i];
    size_t nl = strlen(name);
    if (strncmp(a, name, nl) != 0) return 0;
    if (a[nl] == '\0') return 1;
    if (a[nl] == '=') {
        fprintf(stderr, "ferrule: option %s takes no value\n", name);
        return -1;
    }
    return 0;
}

int cli_parse_common(int argc, char **argv, int *i, cli_common *c)
{
    const char *v = NULL;
    int r;
    if ((r = cli_opt_value(argc, argv, i, "--alpn", &c->alpn)) != 0) return r;
    if ((r = cli_opt_value(argc, argv, i, "--groups", &c->groups)) != 0) return r;
    if ((r = cli_opt_value(argc, argv, i, "--ciphersuites", &c->suites)) != 0) return r;
    if ((r = cli_opt_value(argc, argv, i, "--sigalgs", &c->sigalgs)) != 0) return r;
    if ((r = cli_opt_value(argc, argv, i, "--keylog", &c->keylog)) != 0) return r;
    if ((r = cli_opt_value(argc, argv, i, "--report", &c->report)) != 0) return r;
    if ((r = cli_opt_value(argc, argv, i, "--record-size-limit", &v)) != 0) {
        if (r < 0) return r;
        /* RFC 8449 for TLS 1.3: 64 .. 2^14 + 1 (the library's range). */
        if (cli_parse_ulong(v, 64, 16385, &c->record_size_limit) != 0) {
            fprintf(stderr, "ferrule: --record-size-limit: expected a number from 64 to 16385, "
                            "got '%s'\n",
                    v);
            return -1;
        }
        return 1;
    }
    if ((r = cli_opt_value(argc, argv, i, "--max-handshake-message", &v)) != 0) {
        if (r < 0) return r;
        /* The library's range: 1 KiB .. 2^24 - 1 (a handshake length). */
        if (cli_parse_ulong(v, 1024, 16777215, &c->max_hs_msg) != 0) {
            fprintf(stderr, "ferrule: --max-handshake-message: expected a number of bytes from "
                            "1024 to 16777215, got '%s'\n",
                    v);
            return -1;
        }
        return 1;
    }
    if ((r = cli_opt_value(argc, argv, i, "--max-peer-certs", &v)) != 0) {
        if (r < 0) return r;
        if (cli_parse_ulong(v, 1, 256, &c->max_peer_certs) != 0) {
            fprintf(stderr, "ferrule: --max-peer-certs: expected a number from 1 to 256, got '%s'\n",
                    v);
            return -1;
        }
        return 1;
    }
    if ((r = cli_opt_value(argc, argv, i, "--timeout", &v)) != 0) {
        if (r < 0) return r;
        if (cli_parse_timeout(v, &c->timeout_ms) != 0) {
            fprintf(stderr, "ferrule: --timeout: expected a positive number of seconds, got '%s'\n",
                    v);
            return -1;
        }
        return 1;
    }
    if ((r = cli_opt_flag(argv, *i, "--quiet")) != 0 || (r = cli_opt_flag(argv, *i, "-q")) != 0) {
        if (r > 0) c->quiet = 1;
        return r;
    }
    if ((r = cli_opt_flag(argv, *i, "--help")) != 0 || (r = cli_opt_flag(argv, *i, "-h")) != 0) {
        if (r > 0) c->help = 1;
        return r;
    }
    return 0;
}

/* ---- name lists ------------------------------------------------------- */

/* Code points we know names for; used only to list the valid names in an
 * error message (the library decides what it supports). */
static const uint16_t known_suites[] = {FERRULE_TLS_AES_128_GCM_SHA256,
                                        FERRULE_TLS_AES_256_GCM_SHA384,
                                        FERRULE_TLS_CHACHA20_POLY1305_SHA256};
static const uint16_t known_groups[] = {FERRULE_GROUP_X25519MLKEM768, FERRULE_GROUP_X25519,
                                        FERRULE_GROUP_SECP256R1, FERRULE_GROUP_SECP384R1};
static const uint16_t known_sigalgs[] = {
    FERRULE_SIG_ECDSA_SECP256R1_SHA256, FERRULE_SIG_ECDSA_SECP384R1_SHA384,
    FERRULE_SIG_ED25519,                FERRULE_SIG_RSA_PSS_RSAE_SHA256,
    FERRULE_SIG_RSA_PSS_RSAE_SHA384,    FERRULE_SIG_RSA_PSS_RSAE_SHA512,
    FERRULE_SIG_RSA_PSS_PSS_SHA256,     FERRULE_SIG_RSA_PSS_PSS_SHA384,
    FERRULE_SIG_RSA_PSS_PSS_SHA512,     FERRULE_SIG_RSA_PKCS1_SHA256,
    FERRULE_SIG_RSA_PKCS1_SHA384,       FERRULE_SIG_RSA_PKCS1_SHA512};

typedef struct name_kind {
    const char *option;
    const char *what;
    int (*from_name)(const char *name, uint16_t *out);
    const char *(*to_name)(uint16_t v);
    const uint16_t *known;
    size_t n_known;
} name_kind;

static const name_kind kind_suites = {"--ciphersuites", "cipher suite",
                                      ferrule_cipher_suite_from_name, ferrule_cipher_suite_name,
                                      known_suites, sizeof known_suites / sizeof known_suites[0]};
static const name_kind kind_groups = {"--groups", "group", ferrule_group_from_name,
                                      ferrule_group_name, known_groups,
                                      sizeof known_groups / sizeof known_groups[0]};
static const name_kind kind_sigalgs = {"--sigalgs", "signature scheme",
                                       ferrule_signature_scheme_from_name,
                                       ferrule_signature_scheme_name, known_sigalgs,
                                       sizeof known_sigalgs / sizeof known_sigalgs[0]};

#define CLI_MAX_LIST 32

/* Parse "a,b,c" into code points.  Returns the count, or -1 after printing
 * an error. */
static int parse_names(const name_kind *k, const char *list, uint16_t *out, size_t cap)
{
    size_t n = 0;
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[96];
        /* trim surrounding blanks */
        while (len > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
        if (len == 0 || len >= sizeof item) {
            fprintf(stderr, "ferrule: %s: empty or overlong %s name in '%s'\n", k->option,
                    k->what, list);
            return -1;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        if (n == cap) {
            fprintf(stderr, "ferrule: %s: too many entries\n", k->option);
            return -1;
        }
        if (k->from_name(item, &out[n]) != FERRULE_OK) {
            fprintf(stderr, "ferrule: %s: unknown %s '%s' (known:", k->option, k->what, item);
            for (size_t j = 0; j < k->n_known; j++) {
                const char *nm = k->to_name(k->known[j]);
                if (nm) fprintf(stderr, " %s", nm);
            }
            fprintf(stderr, ")\n");
            return -1;
        }
        n++;
        if (!comma) break;
        p = comma + 1;
    }
    return (int)n;
}

static int apply_names(ferrule_config *cfg, const name_kind *k, const char *list,
                       int (*setter)(ferrule_config *, const uint16_t *, size_t))
{
    uint16_t v[CLI_MAX_LIST];
    int n = parse_names(k, list, v, CLI_MAX_LIST);
    if (n < 0) return -1;
    int st = setter(cfg, v, (size_t)n);
    if (st != FERRULE_OK) {
        cli_config_error(cfg, st, k->option);
        return -1;
    }
    return 0;
}

static int apply_alpn(ferrule_config *cfg, const char *list)
{
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len > 255) {
            fprintf(stderr, "ferrule: --alpn: protocol names must be 1..255 bytes ('%s')\n",
                    list);
            return -1;
        }
        int st = ferrule_config_add_alpn(cfg, (const uint8_t *)p, len);
        if (st != FERRULE_OK) {
            cli_config_error(cfg, st, "--alpn");
            return -1;
        }
        if (!comma) break;
        p = comma + 1;
    }
    return 0;
}

/* Key-log lines go to the file named by --keylog.  The library hands us one
 * NSS line without its newline. */
static void keylog_line(void *ctx, const ferrule_conn *conn, const char *line)
{
    FILE *f = ctx;
    (void)conn;
    fputs(line, f);
    fputc('\n', f);
    fflush(f);
}

int cli_apply_common(ferrule_config *cfg, const cli_common *c, FILE **keylog)
{
    *keylog = NULL;
    if (c->suites && apply_names(cfg, &kind_suites, c->suites, ferrule_config_set_cipher_suites))
        return -1;
    if (c->groups && apply_names(cfg, &kind_groups, c->groups, ferrule_config_set_groups))
        return -1;
    if (c->sigalgs &&
        apply_names(cfg, &kind_sigalgs, c->sigalgs, ferrule_config_set_signature_schemes))
        return -1;
    if (c->alpn && apply_alpn(cfg, c->alpn)) return -1;
    if (c->record_size_limit != 0) {
        int st = ferrule_config_set_record_size_limit(cfg, (uint32_t)c->record_size_limit);
        if (st != FERRULE_OK) {
            cli_config_error(cfg, st, "--record-size-limit");
            return -1;
        }
    }
    if (c->max_hs_msg != 0) {
        int st = ferrule_config_set_max_handshake_message(cfg, (size_t)c->max_hs_msg);
        if (st != FERRULE_OK) {
            cli_config_error(cfg, st, "--max-handshake-message");
            return -1;
        }
    }
    if (c->max_peer_certs != 0) {
        int st = ferrule_config_set_max_peer_certificates(cfg, (uint32_t)c->max_peer_certs);
        if (st != FERRULE_OK) {
            cli_config_error(cfg, st, "--max-peer-certs");
            return -1;
        }
    }
    if (c->keylog) {
        /* Secrets: create owner-only, never truncate someone's log. */
        int fd = open(c->keylog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0) {
            fprintf(stderr, "ferrule: --keylog %s: %s\n", c->keylog, strerror(errno));
            return -1;
        }
        FILE *f = fdopen(fd, "a");
        if (!f) {
            fprintf(stderr, "ferrule: --keylog %s: %s\n", c->keylog, strerror(errno));
            close(fd);
            return -1;
        }
        int st = ferrule_config_set_keylog_callback(cfg, keylog_line, f);
        if (st != FERRULE_OK) {
            cli_config_error(cfg, st, "--keylog");
            fclose(f);
            return -1;
        }
        *keylog = f;
    }
    return 0;
}

int cli_check_readable(const char *opt, const char *path)
{
    if (access(path, R_OK) == 0) return 0;
    fprintf(stderr, "ferrule: error: %s %s: %s\n", opt, path, strerror(errno));
    return -1;
}

void cli_config_error(const ferrule_config *cfg, int status, const char *context)
{
    uint32_t r = cfg ? ferrule_config_reason(cfg) : FERRULE_R_NONE;
    fprintf(stderr, "ferrule: error: %s (%s): %s: %s\n", ferrule_status_name(status),
            ferrule_reason_name(r), ferrule_reason_message(r), context);
}

/* ---- errors -------------------------------------------------------------- */

void cli_error_from_conn(cli_error *e, const ferrule_conn *conn, int status)
{
    memset(e, 0, sizeof(*e));
    e->set = 1;
    int st = ferrule_conn_status(conn);
    if (st == FERRULE_OK || st == FERRULE_WANT_READ || st == FERRULE_WANT_WRITE) st = status;
    e->code = st;
    e->status = ferrule_status_name(st);
    e->reason = ferrule_reason_name(ferrule_conn_reason(conn));
    snprintf(e->message, sizeof e->message, "%s", ferrule_conn_error_message(conn));
    e->alert = ferrule_conn_alert(conn);
    if (e->alert > 255) e->alert = -1;
    e->alert_received = st == FERRULE_ALERT_RECEIVED;
}

void cli_error_local(cli_error *e, const char *status, const char *fmt, ...)
{
    memset(e, 0, sizeof(*e));
    e->set = 1;
    e->code = -1;
    e->status = status;
    e->reason = NULL;
    e->alert = -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

void cli_error_print(FILE *f, const cli_error *e, const char *suffix)
{
    if (!suffix) suffix = "";
    if (e->code == FERRULE_TRUNCATED) {
        fprintf(f, "ferrule: truncated: peer closed the transport without close_notify%s\n",
                suffix);
        return;
    }
    if (!e->reason) {
        fprintf(f, "ferrule: error: %s: %s%s\n", e->status, e->message, suffix);
        return;
    }
    fprintf(f, "ferrule: error: %s (%s): %s", e->status, e->reason, e->message);
    if (e->alert >= 0) {
        const char *an = ferrule_alert_name((uint8_t)e->alert);
        fprintf(f, "; alert %s(%d) %s", an ? an : "unknown", e->alert,
                e->alert_received ? "received" : "sent");
    }
    fprintf(f, "%s\n", suffix);
}

/* ---- numbers and time ---------------------------------------------------- */

int cli_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    if (!s || *s < '0' || *s > '9') return -1;
    errno = 0;
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || !end || *end != '\0' || v < min || v > max) return -1;
    *out = v;
    return 0;
}

int cli_parse_timeout(const char *s, int *ms)
{
    if (!s || !((*s >= '0' && *s <= '9') || *s == '.')) return -1;
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    /* A day is plenty and keeps the product far inside int. */
    if (errno != 0 || !end || *end != '\0' || !(v > 0.0) || v > 86400.0) return -1;
    double m = v * 1000.0;
    *ms = m < 1.0 ? 1 : (int)m;
    return 0;
}

int64_t cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + (int64_t)(ts.tv_nsec / 1000000);
}

int cli_poll_timeout(int64_t deadline)
{
    if (deadline == 0) return -1;
    int64_t d = deadline - cli_now_ms();
    if (d < 0) return 0;
    if (d > INT_MAX) return INT_MAX;
    return (int)d;
}

const char *cli_version_name(uint16_t v)
{
    return v == FERRULE_TLS13 ? "TLSv1.3" : NULL;
}

/* ---- buffer -------------------------------------------------------------- */

int cli_buf_append(cli_buf *b, const void *data, size_t n)
{
    if (n == 0) return 0;
    /* Drop consumed bytes before growing. */
    if (b->off > 0) {
        memmove(b->p, b->p + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
    if (n > b->cap - b->len) {
        size_t want = b->cap ? b->cap : 4096;
        while (want - b->len < n) {
            if (want > SIZE_MAX / 2) return -1;
            want *= 2;
        }
        uint8_t *np = realloc(b->p, want);
        if (!np) return -1;
        b->p = np;
        b->cap = want;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}

size_t cli_buf_avail(const cli_buf *b)
{
    return b->len - b->off;
}

void cli_buf_consume(cli_buf *b, size_t n)
{
    size_t a = cli_buf_avail(b);
    b->off += n < a ? n : a;
    if (b->off == b->len) b->off = b->len = 0;
}

void cli_buf_free(cli_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* ---- --report ------------------------------------------------------------ */

int cli_report_append(const char *path, void (*write)(FILE *f, const void *ctx), const void *ctx)
{
    /* The report holds no secret; it is created like any output file. */
    FILE *f = fopen(path, "a");
    if (!f) {
        fprintf(stderr, "ferrule: --report %s: %s\n", path, strerror(errno));
        return -1;
    }
    write(f, ctx);
    if (fclose(f) != 0) {
        fprintf(stderr, "ferrule: --report %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}
