/* bench_pairs.h - the benchmarks' shared glue (bench/bench_pairs.c). */
#ifndef FERRULE_BENCH_PAIRS_H
#define FERRULE_BENCH_PAIRS_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#include "ferrule.h"

#define FIFO_CAP (1u << 17)
#define SESS_CAP 16384
#define EARLY_LEN 1024 /* early data per 0-RTT handshake */

/* The suites of the bulk phases; the handshakes use the first. */
#define NSUITES 3
extern const char *const SUITES[NSUITES];
extern const char *const SUITE_SHORT[NSUITES];

/* One direction of the transport. */
typedef struct fifo {
    uint8_t *buf;
    size_t off, len;
    int blocked; /* libssl's BIO: a write would block (no room on the "wire") */
} fifo;

typedef struct fr_pair {
    ferrule_conn *c, *s;
    fifo c2s, s2c;
} fr_pair;

typedef struct os_pair {
    SSL *c, *s;
    fifo c2s, s2c;
} os_pair;

/* Write-side data (all 'x' once main sets it) and read-side scratch. */
extern uint8_t g_plain[16384], g_sink[16384];

void die(const char *what);
/* 1 if libcrypto's allocations are being counted (CRYPTO_set_mem_functions). */
int bench_hooked(void);
/* Live heap bytes: libcrypto + libssl (either library's use) + ferrule's allocator. */
long heap_live(void);

void fifo_init(fifo *q);
void fifo_done(fifo *q);
uint8_t *fifo_space(fifo *q, size_t *cap);

/* A config of either library: suite index into SUITES, X25519, TLS 1.3;
 * server: `chain` and `key`, one ticket; client: trusts `trust` and
 * verifies the chain.  ferrule's allocations are counted. */
ferrule_config *fr_config_files(int server, int suite, const char *chain, const char *key, const char *trust);
SSL_CTX *os_config_files(int server, int suite, const char *chain, const char *key, const char *trust);

void fr_move(ferrule_conn *from, ferrule_conn *to, fifo *q);
void fr_take_all(ferrule_conn *from, fifo *q);
void fr_pair_new(fr_pair *p, ferrule_config *cc, ferrule_config *sc);
void fr_pair_free(fr_pair *p);
size_t fr_drain(ferrule_conn *c, ferrule_conn *peer, fifo *q, uint8_t *buf, size_t cap);
/* Handshake, then the client reads its ticket and (sess != NULL) keeps the session blob. */
void fr_handshake(fr_pair *p, uint8_t *sess, size_t *sess_len, int want_resumed);
void fr_handshake_early(fr_pair *p, const uint8_t *data, uint8_t *sess, size_t *sess_len);
void fr_write_read(fr_pair *p, size_t size);

void bench_bio_init(void);
void bench_bio_done(void);
BIO *bio_fifo(fifo *q);
void os_pair_new(os_pair *p, SSL_CTX *cc, SSL_CTX *sc);
void os_pair_free(os_pair *p);
int os_ok(SSL *ssl, int r);
size_t os_drain(SSL *ssl, uint8_t *buf, size_t cap);
void os_handshake(os_pair *p, SSL_SESSION **sess, int want_resumed);
void os_handshake_early(os_pair *p, const uint8_t *data, SSL_SESSION **sess);
void os_write_read(os_pair *p, size_t size);

#endif
