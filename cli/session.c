/*
 * session.c - what the CLI keeps on disk for session resumption
 * (docs/resumption.md, docs/cli.md):
 *
 *  - client session files (--sess-in / --sess-out): the library's session
 *    blob, byte for byte.  The blob holds the resumption PSK, so files are
 *    created 0600 and replaced atomically (temp file + rename), never
 *    written in place.
 *  - server ticket-key files (--ticket-key): 16-byte key name + 32-byte
 *    key, as 48 raw bytes or 96 hex digits.
 *
 * Both are secrets: every buffer that held one is wiped before it is freed.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void cli_wipe(void *p, size_t n)
{
    /* volatile: the stores must not be optimised away before free(). */
    volatile uint8_t *v = p;
    for (size_t i = 0; i < n; i++) v[i] = 0;
}

/* Read a whole regular file of at most `max` bytes into a fresh buffer.
 * Returns 0, or -1 after printing "ferrule: OPT PATH: why". */
static int read_small_file(const char *opt, const char *path, size_t max, uint8_t **out,
                           size_t *len, mode_t *mode);

int cli_file_load(const char *opt, const char *path, size_t max, uint8_t **out, size_t *len)
{
    return read_small_file(opt, path, max, out, len, NULL);
}

static int read_small_file(const char *opt, const char *path, size_t max, uint8_t **out,
                           size_t *len, mode_t *mode)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        fprintf(stderr, "ferrule: %s %s: %s\n", opt, path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        fprintf(stderr, "ferrule: %s %s: %s\n", opt, path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "ferrule: %s %s: not a regular file\n", opt, path);
        close(fd);
        return -1;
    }
    if (mode) *mode = st.st_mode;
    /* One byte more than allowed tells "too large" from "exactly max"
     * even if the file grows between fstat and read. */
    uint8_t *buf = malloc(max + 1);
    if (!buf) {
        fprintf(stderr, "ferrule: %s %s: out of memory\n", opt, path);
        close(fd);
        return -1;
    }
    size_t n = 0;
    while (n < max + 1) {
        ssize_t r = read(fd, buf + n, max + 1 - n);
        if (r > 0) {
            n += (size_t)r;
            continue;
        }
        if (r == 0) break;
        if (errno == EINTR) continue;
        fprintf(stderr, "ferrule: %s %s: %s\n", opt, path, strerror(errno));
        cli_wipe(buf, n);
        free(buf);
        close(fd);
        return -1;
    }
    close(fd);
    if (n > max) {
        fprintf(stderr, "ferrule: %s %s: file too large (more than %zu bytes)\n", opt, path, max);
        cli_wipe(buf, n);
        free(buf);
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* ---- client sessions ------------------------------------------------------ */

int cli_session_load(const char *path, uint8_t **blob, size_t *len)
{
    if (read_small_file("--sess-in", path, CLI_SESSION_MAX, blob, len, NULL) != 0) return -1;
    if (*len == 0) {
        fprintf(stderr, "ferrule: --sess-in %s: empty file (no session)\n", path);
        free(*blob);
        *blob = NULL;
        return -1;
    }
    return 0;
}

void cli_session_free(uint8_t *blob, size_t len)
{
    if (!blob) return;
    cli_wipe(blob, len);
    free(blob);
}

/* Write all of `data` to fd.  Returns 0 or -1 (errno set). */
static int write_all(int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w > 0) {
            data += w;
            len -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w == 0) errno = EIO;
        return -1;
    }
    return 0;
}

int cli_session_save(ferrule_conn *conn, const char *path)
{
    size_t len = 0;
    int st = ferrule_conn_session(conn, NULL, 0, &len);
    /* Nothing received: wrong_state and len 0.  Otherwise the size query
     * reports buffer_too_small with len set. */
    if (len == 0) return 0;
    if (st != FERRULE_USAGE && st != FERRULE_OK) return 0;
    if (len > CLI_SESSION_MAX) {
        fprintf(stderr, "ferrule: --sess-out %s: session too large (%zu bytes)\n", path, len);
        return -1;
    }
    uint8_t *blob = malloc(len);
    if (!blob) {
        fprintf(stderr, "ferrule: --sess-out %s: out of memory\n", path);
        return -1;
    }
    size_t got = 0;
    st = ferrule_conn_session(conn, blob, len, &got);
    if (st != FERRULE_OK || got == 0 || got > len) {
        fprintf(stderr, "ferrule: --sess-out %s: cannot get the session: %s\n", path,
                ferrule_reason_message(ferrule_conn_reason(conn)));
        cli_session_free(blob, len);
        return -1;
    }

    /* Temp file next to the target (same file system, so rename is atomic);
     * mkstemp creates it 0600 whatever the umask. */
    size_t pl = strlen(path);
    char *tmp = malloc(pl + sizeof ".XXXXXX");
    if (!tmp) {
        fprintf(stderr, "ferrule: --sess-out %s: out of memory\n", path);
        cli_session_free(blob, len);
        return -1;
    }
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".XXXXXX", sizeof ".XXXXXX");
    int rc = -1;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "ferrule: --sess-out %s: cannot create a temporary file: %s\n", path,
                strerror(errno));
        goto out;
    }
    if (fchmod(fd, 0600) != 0 || write_all(fd, blob, got) != 0 || fsync(fd) != 0) {
        fprintf(stderr, "ferrule: --sess-out %s: %s\n", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "ferrule: --sess-out %s: %s\n", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    rc = 1;
out:
    free(tmp);
    cli_session_free(blob, len);
    return rc;
}

/* ---- server ticket keys ---------------------------------------------------- */

static int hexdigit(uint8_t ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

int cli_ticket_key_load(const char *path, uint8_t name[CLI_TICKET_NAME_LEN],
                        uint8_t key[CLI_TICKET_KEY_LEN])
{
    enum { RAW = CLI_TICKET_NAME_LEN + CLI_TICKET_KEY_LEN, HEX = 2 * RAW };
    uint8_t *buf = NULL;
    size_t n = 0;
    mode_t mode = 0;
    /* A little slack for trailing whitespace after the hex digits. */
    if (read_small_file("--ticket-key", path, HEX + 16, &buf, &n, &mode) != 0) return -1;
    int rc = -1;
    uint8_t raw[RAW];
    /* Whoever can read the key can decrypt every ticket (and the PSKs in
     * them); whoever can write it can choose it.  Same rule as ssh. */
    if ((mode & 077) != 0) {
        fprintf(stderr,
                "ferrule: --ticket-key %s: accessible by group or others (mode %04o); "
                "the file must be private (chmod 600)\n",
                path, (unsigned)(mode & 07777));
        goto out;
    }
    size_t hex_len = n;
    while (hex_len > 0 && (buf[hex_len - 1] == '\n' || buf[hex_len - 1] == '\r' ||
                           buf[hex_len - 1] == ' ' || buf[hex_len - 1] == '\t'))
        hex_len--;
    int all_hex = hex_len > 0;
    for (size_t i = 0; i < hex_len && all_hex; i++) all_hex = hexdigit(buf[i]) >= 0;
    if (n == RAW && !all_hex) {
        memcpy(raw, buf, RAW);
    } else if (hex_len == HEX && all_hex) {
        for (size_t i = 0; i < RAW; i++)
            raw[i] = (uint8_t)(hexdigit(buf[2 * i]) * 16 + hexdigit(buf[2 * i + 1]));
    } else {
        /* 48 hex digits is 24 bytes, not 48: most likely `openssl rand
         * -hex 24`; refuse instead of using the ASCII as key bytes. */
        fprintf(stderr,
                "ferrule: --ticket-key %s: expected 48 raw bytes or 96 hex digits "
                "(16-byte key name + 32-byte key), got %zu %s\n",
                path, all_hex ? hex_len : n, all_hex ? "hex digits" : "bytes");
        goto out;
    }
    memcpy(name, raw, CLI_TICKET_NAME_LEN);
    memcpy(key, raw + CLI_TICKET_NAME_LEN, CLI_TICKET_KEY_LEN);
    rc = 0;
out:
    cli_wipe(raw, sizeof raw);
    cli_wipe(buf, n);
    free(buf);
    return rc;
}
