/*
 * fuzz_common.h - helpers shared by the fuzz targets (header-only so that each
 * target is one translation unit plus this file).
 *
 *  - A deterministic random source.  The library draws randomness through
 *    libcrypto (RAND_bytes, and RAND_priv_bytes inside key generation and
 *    ECDSA signing).  Installing a RAND_METHOD replaces every one of those
 *    draws with a counter-based stream that each fuzz input resets, so that
 *    (1) a crash reproduces byte for byte, and (2) seeds recorded from a
 *    real handshake against the same deterministic peer stay valid: the
 *    recorded Finished messages and encrypted records decrypt, and the
 *    fuzzer mutates the handshake *past* the key exchange instead of stopping
 *    at the first bad_record_mac.  fuzz/gen_seeds.c records those seeds.
 *    Two independent streams (client, server) let gen_seeds.c run both
 *    roles in one process while each sees exactly the draws it sees alone.
 *  - The status checks every conn target makes.
 *  - The chunked feeding loop of fuzz_server and fuzz_client.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

/* RAND_set_rand_method is deprecated in OpenSSL 3.0 but still honoured by
 * RAND_bytes_ex / RAND_priv_bytes_ex, which is all we need here. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferrule.h"
#include "test_cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort (a crash for libFuzzer and the replay driver) with a message. */
#define FUZZ_CHECK(cond)                                                              \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                           \
            abort();                                                                  \
        }                                                                             \
    } while (0)

/* Not every target uses every helper. */
#define FUZZ_FN static __attribute__((unused))

/* ---- deterministic randomness ------------------------------------------- */

#define FUZZ_RNG_CLIENT 0
#define FUZZ_RNG_SERVER 1

FUZZ_FN uint64_t fuzz_rng_state[2];
FUZZ_FN int fuzz_rng_sel;

/* splitmix64: tiny, full-period, good enough to feed key generation. */
FUZZ_FN uint64_t fuzz_rng_next(void) {
    uint64_t z = (fuzz_rng_state[fuzz_rng_sel] += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

FUZZ_FN int fuzz_rand_bytes(unsigned char *buf, int num) {
    for (int i = 0; i < num; i += 8) {
        uint64_t v = fuzz_rng_next();
        for (int j = 0; j < 8 && i + j < num; j++) buf[i + j] = (unsigned char)(v >> (8 * j));
    }
    return 1;
}
FUZZ_FN int fuzz_rand_status(void) { return 1; }

FUZZ_FN RAND_METHOD fuzz_rand_method = {
    NULL, fuzz_rand_bytes, NULL, NULL, fuzz_rand_bytes, fuzz_rand_status,
};

/* Install the method (once) and reset both streams: call at the start of
 * every input, before creating connections. */
FUZZ_FN void fuzz_rng_reset(void) {
    static int installed;
    if (!installed) {
        FUZZ_CHECK(RAND_set_rand_method(&fuzz_rand_method) == 1);
        installed = 1;
    }
    fuzz_rng_state[FUZZ_RNG_CLIENT] = 0x636c69656e74ull; /* "client" */
    fuzz_rng_state[FUZZ_RNG_SERVER] = 0x736572766572ull; /* "server" */
    fuzz_rng_sel = FUZZ_RNG_CLIENT;
}
FUZZ_FN void fuzz_rng_select(int which) { fuzz_rng_sel = which; }

/* ---- configurations --------------------------------------------------------- */

FUZZ_FN int64_t fuzz_now(void *ctx) {
    (void)ctx;
    return FUZZ_NOW;
}

/* The fuzzed server's replay store admits everything: libFuzzer runs the
 * same input many times, and a real store would turn every 0-RTT seed into
 * a refusal after its first run.  Anti-replay itself is tested in
 * tests/c/test_early_data.c. */
FUZZ_FN int fuzz_replay_check(void *ctx, const uint8_t key[32], int64_t expires) {
    (void)ctx;
    (void)key;
    (void)expires;
    return 1;
}

/* The server configuration every fuzz_server input meets (built once and
 * shared: a config is frozen and reference counted once a conn uses it).
 * Build it right after fuzz_rng_reset() (as fuzz_server.c and gen_seeds.c
 * do): its ticket key comes from the random stream, and the 0-RTT seeds
 * hold tickets sealed under it. */
FUZZ_FN ferrule_config *fuzz_server_config(void) {
    static ferrule_config *cfg;
    if (cfg != NULL) return cfg;
    static const uint8_t h2[] = {'h', '2'}, h11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
    FUZZ_CHECK(ferrule_config_new(&cfg, FERRULE_ROLE_SERVER, NULL) == FERRULE_OK);
    FUZZ_CHECK(ferrule_config_add_cert_chain_pem(
                   cfg, (const uint8_t *)FUZZ_LEAF_CHAIN_PEM, sizeof(FUZZ_LEAF_CHAIN_PEM) - 1,
                   (const uint8_t *)FUZZ_LEAF_KEY_PEM, sizeof(FUZZ_LEAF_KEY_PEM) - 1) ==
               FERRULE_OK);
    FUZZ_CHECK(ferrule_config_add_alpn(cfg, h2, sizeof(h2)) == FERRULE_OK);
    FUZZ_CHECK(ferrule_config_add_alpn(cfg, h11, sizeof(h11)) == FERRULE_OK);
    FUZZ_CHECK(ferrule_config_set_time_callback(cfg, fuzz_now, NULL) == FERRULE_OK);
    /* 0-RTT on: the recorded 0-RTT seeds are accepted (early data, then
     * EndOfEarlyData), mutations reach the refusal and trial-decryption
     * paths. */
    static ferrule_replay_store store;
    store.struct_size = (uint32_t)sizeof(store);
    store.check_and_insert = fuzz_replay_check;
    memset(store.id, 0x46, sizeof(store.id));
    ferrule_early_data_options eo;
    memset(&eo, 0, sizeof(eo));
    eo.struct_size = (uint32_t)sizeof(eo);
    eo.store = &store;
    FUZZ_CHECK(ferrule_config_set_early_data(cfg, &eo) == FERRULE_OK);
    return cfg;
}

/* The client configuration of fuzz_client: trusts the embedded root and
 * verifies the server as "localhost" at FUZZ_NOW, so that the certificate
 * path code runs on every seed that gets that far. */
FUZZ_FN ferrule_config *fuzz_client_config(void) {
    static ferrule_config *cfg;
    if (cfg != NULL) return cfg;
    static const uint8_t h2[] = {'h', '2'}, h11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
    FUZZ_CHECK(ferrule_config_new(&cfg, FERRULE_ROLE_CLIENT, NULL) == FERRULE_OK);
    FUZZ_CHECK(ferrule_config_add_trust_pem(cfg, (const uint8_t *)FUZZ_ROOT_PEM,
                                            sizeof(FUZZ_ROOT_PEM) - 1) == FERRULE_OK);
    FUZZ_CHECK(ferrule_config_add_alpn(cfg, h2, sizeof(h2)) == FERRULE_OK);
    FUZZ_CHECK(ferrule_config_add_alpn(cfg, h11, sizeof(h11)) == FERRULE_OK);
    FUZZ_CHECK(ferrule_config_set_time_callback(cfg, fuzz_now, NULL) == FERRULE_OK);
    return cfg;
}

FUZZ_FN ferrule_conn *fuzz_client_conn(void) {
    ferrule_conn_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = (uint32_t)sizeof(o);
    o.server_name = "localhost";
    ferrule_conn *c = NULL;
    FUZZ_CHECK(ferrule_conn_new(&c, fuzz_client_config(), &o) == FERRULE_OK);
    return c;
}

FUZZ_FN ferrule_conn *fuzz_server_conn(void) {
    ferrule_conn *c = NULL;
    FUZZ_CHECK(ferrule_conn_new(&c, fuzz_server_config(), NULL) == FERRULE_OK);
    return c;
}

/* The fixed traffic secret of fuzz_record (and of the record seeds that
 * gen_seeds.c seals with it). */
FUZZ_FN void fuzz_record_secret(uint8_t *s, size_t n) {
    for (size_t i = 0; i < n; i++) s[i] = (uint8_t)(0xa5 ^ (i * 13));
}

/* ---- status checks --------------------------------------------------------- */

FUZZ_FN int fuzz_status_valid(int s) { return s >= FERRULE_OK && s <= FERRULE_INTERNAL; }

/* Classes after which the connection is dead for good ("the first fatal
 * error of a connection sticks"). */
FUZZ_FN int fuzz_status_fatal(int s) {
    return s == FERRULE_DECODE || s == FERRULE_ALERT_SENT || s == FERRULE_ALERT_RECEIVED ||
           s == FERRULE_CERTIFICATE || s == FERRULE_POLICY || s == FERRULE_INTERNAL;
}

/* Track one driver result: valid class, never USAGE for a correct caller,
 * and once fatal, every later driver call reports the same class. */
typedef struct fuzz_track {
    int fatal; /* first fatal class seen, 0 if none */
} fuzz_track;

FUZZ_FN void fuzz_track_status(fuzz_track *t, int s) {
    FUZZ_CHECK(fuzz_status_valid(s));
    FUZZ_CHECK(s != FERRULE_USAGE);
    if (t->fatal != 0) FUZZ_CHECK(s == t->fatal);
    if (fuzz_status_fatal(s)) {
        if (t->fatal == 0) t->fatal = s;
    }
}

/* Drop everything the connection wants to send (the fuzzer plays a peer
 * that never reads). */
FUZZ_FN void fuzz_drain(ferrule_conn *c, uint8_t *sink, size_t sink_cap) {
    for (int i = 0; i < 64 && ferrule_conn_pending_output(c) > 0; i++) {
        size_t n = 0;
        int s = ferrule_conn_take(c, sink, sink_cap, &n);
        FUZZ_CHECK(fuzz_status_valid(s));
        if (s != FERRULE_OK || n == 0) break;
    }
}

/* Drive once: handshake until it stops asking for writes, then read
 * application data while there is any.  Returns the last status. */
FUZZ_FN int fuzz_drive(ferrule_conn *c, fuzz_track *t, uint8_t *buf, size_t cap) {
    int s = FERRULE_WANT_READ;
    for (int i = 0; i < 8; i++) {
        s = ferrule_conn_handshake(c);
        fuzz_track_status(t, s);
        fuzz_drain(c, buf, cap);
        if (s != FERRULE_WANT_WRITE) break;
    }
    if (s != FERRULE_OK) return s;
    FUZZ_CHECK(ferrule_conn_handshake_state(c) == FERRULE_HS_CONNECTED ||
               ferrule_conn_handshake_state(c) == FERRULE_HS_CLOSED);
    for (int i = 0; i < 256; i++) {
        size_t n = 0;
        s = ferrule_conn_read(c, buf, cap, &n);
        fuzz_track_status(t, s);
        fuzz_drain(c, buf, cap);
        if (s == FERRULE_OK) {
            FUZZ_CHECK(n > 0 && n <= cap);
            continue;
        }
        FUZZ_CHECK(n == 0);
        break;
    }
    return s;
}

/* Once the handshake is complete: the getters, the exporter and one write
 * (queued behind whatever the peer made us send). */
FUZZ_FN void fuzz_connected(ferrule_conn *c, uint8_t *buf, size_t cap) {
    FUZZ_CHECK(ferrule_conn_version(c) == FERRULE_TLS13);
    FUZZ_CHECK(ferrule_cipher_suite_name(ferrule_conn_cipher_suite(c)) != NULL);
    FUZZ_CHECK(ferrule_group_name(ferrule_conn_group(c)) != NULL);
    const uint8_t *proto = NULL;
    size_t plen = 0;
    ferrule_conn_alpn(c, &proto, &plen);
    FUZZ_CHECK(plen == 0 || proto != NULL);
    for (size_t i = 0; i < ferrule_conn_peer_cert_count(c); i++) {
        const uint8_t *der = NULL;
        size_t len = 0;
        FUZZ_CHECK(ferrule_conn_peer_cert(c, i, &der, &len) == FERRULE_OK);
        FUZZ_CHECK(der != NULL && len > 0);
    }
    uint8_t ekm[32];
    FUZZ_CHECK(ferrule_conn_export_keying_material(c, "EXPORTER-fuzz", 13, NULL, 0, ekm,
                                                   sizeof(ekm)) == FERRULE_OK);
    size_t n = 0;
    int s = ferrule_conn_write(c, (const uint8_t *)"fuzz", 4, &n);
    FUZZ_CHECK(fuzz_status_valid(s));
    FUZZ_CHECK(n <= 4);
    fuzz_drain(c, buf, cap);
}

/* Feed `data` to `c` in chunks.  The first input byte picks the split
 * points: 0 = as large as the connection accepts, otherwise chunk sizes
 * are drawn from an LCG seeded with b in 1 .. 8b, so small values give
 * many tiny chunks (record and handshake reassembly across feeds) and
 * large values a few big ones.  After every chunk the connection is driven; at
 * the end comes a transport EOF and one more drive. */
FUZZ_FN void fuzz_feed_all(ferrule_conn *c, const uint8_t *data, size_t size) {
    static uint8_t buf[32768];
    fuzz_track t = {0};
    uint8_t b = 0;
    if (size > 0) {
        b = data[0];
        data++;
        size--;
    }
    size_t off = 0;
    unsigned stalls = 0;
    uint32_t x = b;
    int wrote = 0;
    while (off < size) {
        size_t want = size - off;
        if (b != 0) {
            x = x * 1103515245u + 12345u;
            size_t k = 1 + (size_t)((x >> 8) % ((uint32_t)b * 8u));
            if (k < want) want = k;
        }
        size_t used = 0;
        int s = ferrule_conn_feed(c, data + off, want, &used);
        FUZZ_CHECK(fuzz_status_valid(s));
        FUZZ_CHECK(used <= want);
        off += used;
        int d = fuzz_drive(c, &t, buf, sizeof(buf));
        if (!wrote && t.fatal == 0 && ferrule_conn_handshake_state(c) == FERRULE_HS_CONNECTED) {
            wrote = 1;
            fuzz_connected(c, buf, sizeof(buf));
        }
        if (t.fatal != 0 || d == FERRULE_CLOSED || d == FERRULE_TRUNCATED) break;
        if (s != FERRULE_OK) break;
        /* The input buffer holds one maximum record: if a drive could not
         * make room, the connection is stuck waiting for something only
         * a full record would bring.  A few stalls in a row end the run. */
        if (used == 0 && ++stalls > 4) break;
        if (used != 0) stalls = 0;
    }
    int s = ferrule_conn_feed_eof(c);
    FUZZ_CHECK(fuzz_status_valid(s));
    (void)fuzz_drive(c, &t, buf, sizeof(buf));
    s = ferrule_conn_status(c);
    FUZZ_CHECK(fuzz_status_valid(s));
    if (t.fatal != 0) FUZZ_CHECK(s == t.fatal);
    /* FUZZ_DEBUG=1: where did this input take the connection?  (Used to
     * check that recorded seeds still complete the handshake.) */
    if (getenv("FUZZ_DEBUG") != NULL)
        fprintf(stderr, "fuzz: %zu/%zu bytes fed, state %s, status %s, reason %s, connected %d\n",
                off, size, ferrule_handshake_state_name(ferrule_conn_handshake_state(c)),
                ferrule_status_name(s), ferrule_reason_name(ferrule_conn_reason(c)), wrote);
    fuzz_drain(c, buf, sizeof(buf));
}

#endif
