/*
 * early_data.h - 0-RTT (RFC 8446 §2.3, §4.2.10, §4.5, §8): the client's
 * early data and EndOfEarlyData, the server's acceptance decision with
 * anti-replay (single-use tickets, ClientHello recording, freshness), and
 * the replay store (the host's: decision REPLAY).  Included by conn.h;
 * the functions are in hs/early_data.c.  Policy and formats: docs/early-data.md.
 */
#ifndef FR_EARLY_DATA_H
#define FR_EARLY_DATA_H

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

typedef struct fr_early_config {
    int enabled;
    uint32_t max_size;
    uint32_t window_ms;
    uint8_t store_id[FR_REPLAY_ID_LEN];
    /* Host data kept here until the host has its own config wrapper; the
     * core never calls them: the store answers decision REPLAY (a custom
     * one if check != NULL, else the built-in Bloom pair the host keeps in
     * its block of the config, abi/src/replay.c) and `accept` decision
     * EARLY_DATA (abi/src/decisions.c). */
    int (*check)(void *ctx, const uint8_t key[32], int64_t expires);
    void *check_ctx;
    int (*accept)(void *ctx, const fr_conn *conn);
    void *accept_ctx;
} fr_early_config;

typedef struct fr_early_conn {
    uint32_t status; /* FERRULE_EARLY_* */
    uint32_t reason; /* FERRULE_EARLY_REASON_* */
    int psk_offered; /* server: the ClientHello carried pre_shared_key */
    /* client */
    int want;            /* the application asked for 0-RTT before ClientHello */
    int offered;         /* our ClientHello carries early_data */
    int ccs_sent;        /* client: its compatibility CCS went (fr_client_compat_ccs) */
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

struct ferrule_conn;
void fr_early_conn_free(struct ferrule_conn *c);

#endif
