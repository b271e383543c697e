/*
 * early_data.h - 0-RTT (RFC 8446 §2.3, §4.2.10, §4.5, §8): the client's
 * early data and EndOfEarlyData, the server's acceptance decision with
 * anti-replay (single-use tickets, ClientHello recording, freshness), and
 * the built-in replay store.  Included by conn.h; the functions are in
 * hs/early_data.c and replay.c.  Policy and formats: docs/early-data.md.
 */
#ifndef FR_EARLY_DATA_H
#define FR_EARLY_DATA_H

#include <pthread.h>

#include "../common.h"
#include "../crypto/crypto.h"

#define FR_EARLY_DEFAULT_MAX 16384u
#define FR_EARLY_MAX_MAX (1u << 20)
#define FR_EARLY_DEFAULT_WINDOW_MS 10000u
#define FR_EARLY_MIN_WINDOW_MS 1000u
#define FR_EARLY_DEFAULT_CAPACITY 65536u
#define FR_EARLY_MIN_CAPACITY 1024u
#define FR_EARLY_MAX_CAPACITY (1u << 24)
/* Rejected early data is skipped up to max(configured max, this). */
#define FR_EARLY_SKIP_MIN 16384u
#define FR_REPLAY_KEY_LEN 32
#define FR_REPLAY_ID_LEN 16

/* The built-in replay store (replay.c): two Bloom filters that rotate
 * every `period` seconds; an entry lives between one and two periods. */
typedef struct fr_bloom {
    pthread_mutex_t lock;
    uint64_t *bits[2]; /* [0] current generation, [1] previous */
    size_t words;      /* per generation; nbits = 64 * words, a power of two */
    size_t count[2];
    size_t capacity;
    int64_t started; /* start of the current generation */
    int64_t period;
} fr_bloom;

typedef struct fr_early_config {
    int enabled;
    uint32_t max_size;
    uint32_t window_ms;
    /* The store: a custom one (check != NULL) or the built-in Bloom pair. */
    int (*check)(void *ctx, const uint8_t key[32], int64_t expires);
    void *check_ctx;
    uint8_t store_id[FR_REPLAY_ID_LEN];
    fr_bloom *bloom;
    int (*accept)(void *ctx, const ferrule_conn *conn);
    void *accept_ctx;
} fr_early_config;

typedef struct fr_early_conn {
    uint32_t status; /* FERRULE_EARLY_* */
    /* client */
    int want;            /* the application asked for 0-RTT before ClientHello */
    int offered;         /* our ClientHello carries early_data */
    int ccs_sent;        /* compatibility CCS already sent after ClientHello */
    uint32_t limit;      /* the ticket's max_early_data_size */
    size_t sent;         /* early bytes written */
    uint8_t secret[FR_MAX_HASH]; /* client_early_traffic_secret (until EOED) */
    /* server: facts about the accepted PSK, gathered by fr_server_try_psk */
    int psk_allows;        /* ticket carries max_early_data > 0 and our store id */
    uint16_t psk_suite;    /* the ticket's suite */
    uint32_t client_age_ms; /* obfuscated_ticket_age - ticket_age_add */
    int64_t issued;
    uint32_t lifetime;
    uint8_t ticket_key[FR_REPLAY_KEY_LEN]; /* replay keys */
    uint8_t hello_key[FR_REPLAY_KEY_LEN];
    /* server: reception */
    int accepted;
    int skipping;       /* offered but refused: skip what we cannot read */
    size_t skip_budget; /* bytes of early data we still skip */
    uint8_t *buf;       /* accepted early data not yet read */
    size_t cap, len, off;
    size_t received;    /* early bytes received in total */
} fr_early_conn;

struct ferrule_config;
struct ferrule_conn;
void fr_early_config_free(struct ferrule_config *cfg);
void fr_early_conn_free(struct ferrule_conn *c);

/* replay.c: the built-in store. */
FR_MUST_CHECK fr_err fr_bloom_new(fr_mem *m, size_t capacity, int64_t period, int64_t now,
                                  fr_bloom **out);
void fr_bloom_free(fr_mem *m, fr_bloom *b);
/* 1 fresh (now recorded), 0 seen, -1 cannot record (full, or an expiry
 * beyond what the rotation keeps). */
int fr_bloom_check_and_insert(fr_bloom *b, const uint8_t key[FR_REPLAY_KEY_LEN], int64_t expires,
                              int64_t now);
/* Bits per generation and hash count, for the documentation test. */
void fr_bloom_shape(const fr_bloom *b, size_t *nbits, unsigned *k);

#endif
