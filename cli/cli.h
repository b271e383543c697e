/*
 * cli.h - internal declarations of the `ferrule` command-line tool.
 *
 * The CLI is a consumer of the public ABI only: it includes ferrule.h and
 * libc/POSIX headers, never anything from core/, and never libcrypto.
 */
#ifndef FERRULE_CLI_H
#define FERRULE_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ferrule.h"

/* Exit codes: 0 success, 1 a connection/runtime failure, 2 bad usage. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* Default --timeout, in milliseconds. */
#define CLI_DEFAULT_TIMEOUT_MS 10000
/* How many repeatable options (--cafile, --cert, ...) we accept. */
#define CLI_MAX_REPEAT 16

/* ---- entry points (client.c, server.c) -------------------------------- */
int cli_client_main(int argc, char **argv);
int cli_server_main(int argc, char **argv);
void cli_client_usage(FILE *f);
void cli_server_usage(FILE *f);

/* ---- common.c: options, configuration, errors, time, buffers ---------- */

/* Options both roles understand. */
typedef struct cli_common {
    const char *alpn;    /* comma-separated ALPN protocols */
    const char *groups;  /* comma-separated IANA group names */
    const char *suites;  /* comma-separated IANA cipher suite names */
    const char *sigalgs; /* comma-separated IANA signature scheme names */
    const char *keylog;  /* NSS key-log file (append, 0600) */
    const char *report;  /* --report: JSON lines describing each connection (append) */
    unsigned long record_size_limit; /* RFC 8449 value to advertise; 0 = library default */
    unsigned long max_hs_msg;        /* handshake message cap; 0 = library default */
    unsigned long max_peer_certs;    /* certificates taken from the peer; 0 = library default */
    int timeout_ms;
    int quiet;
    int help;
} cli_common;

void cli_common_init(cli_common *c);

/* Match argv[*i] against option `name`, accepting "--name VALUE" and
 * "--name=VALUE".  Returns 1 (and advances *i past a separate value) when it
 * matched, 0 when argv[*i] is another option, -1 when the value is missing
 * (an error was printed). */
int cli_opt_value(int argc, char **argv, int *i, const char *name, const char **val);
/* Match a flag without value.  Returns 1 on match, 0 otherwise, -1 for a
 * "--flag=value" spelling (an error was printed). */
int cli_opt_flag(char **argv, int i, const char *name);
/* Parse one of the options in cli_common.  Same return convention as
 * cli_opt_value. */
int cli_parse_common(int argc, char **argv, int *i, cli_common *c);

/* Apply cli_common to a fresh config.  On failure prints one line and
 * returns -1.  *keylog receives the opened key-log file (or NULL); the
 * caller closes it after freeing every connection. */
int cli_apply_common(ferrule_config *cfg, const cli_common *c, FILE **keylog);

/* 0 if `path` can be read; else prints "ferrule: OPT PATH: <errno text>"
 * and returns -1 (the ABI reports only "invalid configuration value"). */
int cli_check_readable(const char *opt, const char *path);

/* --report: open `path` for appending, let `write` print one JSON line,
 * close it.  Prints the reason and returns -1 on failure. */
int cli_report_append(const char *path, void (*write)(FILE *f, const void *ctx), const void *ctx);

/* Print "ferrule: error: <status> (<reason>): <message>: <context>" for a
 * config call that failed. */
void cli_config_error(const ferrule_config *cfg, int status, const char *context);

/* Describe a connection failure: fills the fields used both by the stderr
 * line and by the JSON "error" object. */
typedef struct cli_error {
    int set;
    int code;            /* FERRULE_* status class, -1 for CLI-level errors */
    const char *status;  /* status class name, or a CLI word ("io", "timeout") */
    const char *reason;  /* reason name, or NULL for CLI-level errors */
    char message[256];
    int alert;           /* alert number, -1 if none */
    int alert_received;  /* 1: received from the peer, 0: sent by us */
} cli_error;

void cli_error_from_conn(cli_error *e, const ferrule_conn *conn, int status);
/* The error as a JSON object (no trailing newline). */
void cli_json_error(FILE *f, const cli_error *e);
void cli_error_local(cli_error *e, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "ferrule: error: ..." line (prefix + suffix allow the server to tag the
 * peer).  Truncation gets its dedicated wording. */
void cli_error_print(FILE *f, const cli_error *e, const char *suffix);

/* Parse a decimal number in [min, max].  Returns 0 or -1. */
int cli_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out);
/* Parse seconds (decimal, fractions allowed, > 0) into milliseconds. */
int cli_parse_timeout(const char *s, int *ms);

/* Monotonic milliseconds. */
int64_t cli_now_ms(void);
/* Milliseconds until `deadline` clamped to [0, INT_MAX]; -1 when deadline
 * is 0 (none). */
int cli_poll_timeout(int64_t deadline);

/* Version string as written in JSON ("TLSv1.3") or NULL. */
const char *cli_version_name(uint16_t v);

/* A growable byte buffer with a read offset. */
typedef struct cli_buf {
    uint8_t *p;
    size_t len; /* bytes stored */
    size_t off; /* bytes already consumed */
    size_t cap;
} cli_buf;

int cli_buf_append(cli_buf *b, const void *data, size_t n);
size_t cli_buf_avail(const cli_buf *b);
void cli_buf_consume(cli_buf *b, size_t n);
void cli_buf_free(cli_buf *b);

/* ---- session.c: session files and ticket keys (secrets) ----------------- */

/* Largest session file we read or write (a blob holds the ticket and the
 * server's chain; real ones are a few KiB). */
#define CLI_SESSION_MAX ((size_t)1 << 20)
#define CLI_TICKET_NAME_LEN 16
#define CLI_TICKET_KEY_LEN 32
/* Up to three --ticket-key files: the library's ring holds three keys. */
#define CLI_MAX_TICKET_KEYS 3

/* Zero `n` bytes in a way the compiler keeps. */
void cli_wipe(void *p, size_t n);
/* Read a --sess-in file (a session blob, byte for byte).  Returns 0 with
 * a malloc'ed *blob (free with cli_session_free), or -1 after printing why
 * (missing, unreadable, not a regular file, empty, too large).  The blob
 * itself is checked by ferrule_conn_set_session. */
int cli_session_load(const char *path, uint8_t **blob, size_t *len);
void cli_session_free(uint8_t *blob, size_t len);
/* Read a regular file of at most `max` bytes (malloc'd; free with
 * cli_session_free).  0, or -1 after printing "ferrule: OPT PATH: why". */
int cli_file_load(const char *opt, const char *path, size_t max, uint8_t **out, size_t *len);
/* --sess-out: write the session blob of the newest ticket `conn` received
 * to `path`, mode 0600, atomically (temp file in the same directory +
 * rename).  Returns 1 when written, 0 when no ticket arrived (nothing is
 * touched), -1 after printing an error. */
int cli_session_save(ferrule_conn *conn, const char *path);
/* --ticket-key: 48 raw bytes, or 96 hex digits (optionally followed by
 * whitespace), = 16-byte key name + 32-byte key.  The file must not be
 * accessible by group or others.  Returns 0, or -1 after printing why. */
int cli_ticket_key_load(const char *path, uint8_t name[CLI_TICKET_NAME_LEN],
                        uint8_t key[CLI_TICKET_KEY_LEN]);

/* ---- net.c: addresses and sockets --------------------------------------- */

/* Split "HOST:PORT" / "[V6]:PORT" (and "PORT" when allow_port_only).
 * host receives "" when absent.  Returns 0, or -1 with *why set. */
int cli_split_hostport(const char *s, int allow_port_only, char *host, size_t host_cap,
                       char *port, size_t port_cap, const char **why);
int cli_is_ip_literal(const char *s);
int cli_set_nonblock(int fd);
/* TCP_NODELAY: handshake flights are small and latency-bound. */
void cli_set_nodelay(int fd);
/* Resolve and connect (each address in turn) within timeout_ms.  Returns a
 * non-blocking connected socket, or -1 with `err` filled. */
int cli_connect(const char *host, const char *port, int timeout_ms, char *err, size_t err_cap);
/* Bind + listen.  host "" = "::" (dual stack) falling back to 0.0.0.0.
 * `bound` receives "ADDR:PORT" of the real socket.  Returns a
 * non-blocking listening socket or -1 with `err` filled. */
int cli_listen(const char *host, const char *port, char *bound, size_t bound_cap, char *err,
               size_t err_cap);
/* Render a socket address as "1.2.3.4:5" or "[::1]:5". */
void cli_addr_str(const void *sa, size_t sa_len, char *out, size_t cap);

/* ---- json.c: JSON output and the certificate subject walker ------------- */

/* A JSON string literal for `len` bytes (invalid UTF-8 bytes become
 * \u00XX, controls are escaped).  s == NULL prints null. */
void cli_json_strn(FILE *f, const char *s, size_t len);
void cli_json_str(FILE *f, const char *s);
/* Render the subject Name of a DER certificate as an RFC 4514-style
 * string ("CN=leaf,O=Example").  Returns 0, or -1 (then the caller prints
 * "?") when the DER is not what we expect or does not fit. */
int cli_cert_subject(const uint8_t *der, size_t len, char *out, size_t cap);

#endif /* FERRULE_CLI_H */
