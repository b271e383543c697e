/* test_early_data.c - 0-RTT (RFC 8446 §2.3, §4.2.10, §4.5, §8) over
 * in-memory pairs: early data accepted and delivered first; every refusal
 * (replayed ClientHello, reused ticket, stale ticket age, HelloRetryRequest,
 * another store, the application's veto) falls back to 1-RTT with the
 * early data skipped and reported as rejected; the size limits on both
 * sides; API misuse; and the built-in replay store's measured
 * false-positive rate and rotation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

#include "conn.h"
#include "../../abi/src/replay.h" /* the built-in replay store: test-only */
#include "record.h"
#include "support_mitm.h"
#include "support_pair.h"
#include "testlib.h"

static int64_t client_offset, server_offset;
static int64_t client_now(void *ctx) {
    (void)ctx;
    return (int64_t)time(NULL) + client_offset;
}
static int64_t server_now(void *ctx) {
    (void)ctx;
    return (int64_t)time(NULL) + server_offset;
}

static ferrule_config *client_cfg(int early) {
    ferrule_config *c = pair_client_config();
    if (c == NULL || ferrule_config_set_time_callback(c, client_now, NULL) != FERRULE_OK)
        return NULL;
    if (early && ferrule_config_set_early_data(c, NULL) != FERRULE_OK) return NULL;
    return c;
}

static ferrule_config *server_cfg(const ferrule_early_data_options *o) {
    ferrule_config *c = pair_server_config("ecdsa-p256");
    if (c == NULL || ferrule_config_set_time_callback(c, server_now, NULL) != FERRULE_OK)
        return NULL;
    if (o != NULL && ferrule_config_set_early_data(c, o) != FERRULE_OK) return NULL;
    return c;
}

static ferrule_early_data_options opts(uint32_t max) {
    ferrule_early_data_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = (uint32_t)sizeof(o);
    o.max_early_data_size = max;
    return o;
}


/* Drain `from`'s pending output into buf. */
static size_t take_all(ferrule_conn *from, uint8_t *buf, size_t cap) {
    size_t total = 0, n = 0;
    while (total < cap && ferrule_conn_take(from, buf + total, cap - total, &n) == FERRULE_OK &&
           n > 0)
        total += n;
    return total;
}

static int feed_all(ferrule_conn *to, const uint8_t *buf, size_t len) {
    size_t off = 0;
    for (int stalls = 0; off < len;) {
        size_t n = 0;
        if (ferrule_conn_feed(to, buf + off, len - off, &n) != FERRULE_OK) return 0;
        if (n == 0) {
            /* Input full (it holds a whole record): let the connection
             * consume records; accepted early data stays buffered. */
            int st = ferrule_conn_handshake(to);
            if (st != FERRULE_OK && st != FERRULE_WANT_READ) return 0;
            if (++stalls > 1000) return 0;
        }
        off += n;
    }
    return 1;
}

static const char EARLY[] = "GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n";

/* Read all early data the server has (until n == 0 or WANT_READ). */
static size_t read_early(ferrule_conn *s, uint8_t *buf, size_t cap, int *last) {
    size_t total = 0, n = 0;
    for (;;) {
        *last = ferrule_conn_read_early_data(s, buf + total, cap - total, &n);
        if (*last != FERRULE_OK || n == 0) break;
        total += n;
        if (total == cap) break;
    }
    return total;
}

/* One 0-RTT attempt: the client writes `len` early bytes, the server reads
 * what it can as early data, the handshake completes, then 1-RTT data.
 * Returns the number of early bytes the server delivered through
 * ferrule_conn_read_early_data. */
typedef struct attempt {
    int ok;             /* both handshakes completed */
    uint32_t c_status, s_status;
    int resumed;
    size_t early_read;  /* via read_early_data */
    uint8_t early[65536];
    size_t written;     /* accepted by write_early_data */
    int write_st;
    int s_fail;         /* server status if the handshake failed */
    uint32_t s_reason;
} attempt;

static void try_0rtt(attempt *a, ferrule_config *cc, ferrule_config *sc, const uint8_t *sess,
                     size_t sess_len, const uint8_t *data, size_t len) {
    memset(a, 0, sizeof(*a));
    pair p;
    if (!pair_new(&p, cc, sc, NULL)) return;
    if (ferrule_conn_set_session(p.client, sess, sess_len) != FERRULE_OK) goto out;
    /* The client's first flight: ClientHello, CCS, early data, taken
     * between writes (a write queues at most about one record).  (Heap:
     * attempts run on several threads at once.) */
    size_t cap = (size_t)1 << 21;
    uint8_t *flight = malloc(cap);
    if (flight == NULL) goto out;
    a->write_st = ferrule_conn_write_early_data(p.client, data, len,
                                                FERRULE_EARLY_DATA_REPLAY_SAFE, &a->written);
    size_t fl = take_all(p.client, flight, cap);
    while (a->write_st == FERRULE_OK && a->written < len) {
        size_t n = 0;
        int st = ferrule_conn_write_early_data(p.client, data + a->written, len - a->written,
                                               FERRULE_EARLY_DATA_REPLAY_SAFE, &n);
        if (st != FERRULE_OK || n == 0) break;
        a->written += n;
        fl += take_all(p.client, flight + fl, cap - fl);
    }
    int fed = feed_all(p.server, flight, fl);
    free(flight);
    if (!fed) {
        /* The server failed while taking the first flight. */
        a->s_fail = ferrule_conn_status(p.server);
        a->s_reason = ferrule_conn_reason(p.server);
        goto out;
    }
    int last = 0;
    a->early_read = read_early(p.server, a->early, sizeof(a->early), &last);
    int cs, ss;
    a->ok = pair_handshake(&p, &cs, &ss);
    a->s_fail = ferrule_conn_status(p.server);
    a->s_reason = ferrule_conn_reason(p.server);
    a->c_status = ferrule_conn_early_data_status(p.client);
    a->s_status = ferrule_conn_early_data_status(p.server);
    a->resumed = ferrule_conn_resumed(p.client) && ferrule_conn_resumed(p.server);
    if (a->ok) {
        /* 1-RTT data follows, and nothing of the early data is left over
         * when it was read early; a rejected attempt's data never appears. */
        size_t n = 0;
        uint8_t buf[256];
        if (ferrule_conn_write(p.client, (const uint8_t *)"after", 5, &n) != FERRULE_OK) a->ok = 0;
        pair_move(p.client, p.server);
        if (ferrule_conn_read(p.server, buf, sizeof(buf), &n) != FERRULE_OK || n != 5 ||
            memcmp(buf, "after", 5) != 0)
            a->ok = 0;
    }
out:
    pair_free(&p);
}

static uint8_t sess[8192];

TEST(accepted_and_read_before_the_handshake_ends) {
    ferrule_early_data_options o = opts(0);
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o);
    CHECK(cc != NULL && sc != NULL);
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    CHECK(sl > 0);
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_set_session(p.client, sess, sl), FERRULE_OK);
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write_early_data(p.client, (const uint8_t *)EARLY, sizeof(EARLY) - 1,
                                           FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
             FERRULE_OK);
    CHECK_EQ(n, sizeof(EARLY) - 1);
    CHECK_EQ(ferrule_conn_early_data_status(p.client), FERRULE_EARLY_OFFERED);
    /* A second early write is fine until the ServerHello. */
    CHECK_EQ(ferrule_conn_write_early_data(p.client, (const uint8_t *)"X", 1,
                                           FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
             FERRULE_OK);
    pair_move(p.client, p.server);
    uint8_t buf[256];
    size_t got = 0;
    int last;
    got = read_early(p.server, buf, sizeof(buf), &last);
    CHECK_EQ(got, sizeof(EARLY));
    CHECK(memcmp(buf, EARLY, sizeof(EARLY) - 1) == 0 && buf[sizeof(EARLY) - 1] == 'X');
    /* The server has not seen the client's Finished yet. */
    CHECK_EQ(ferrule_conn_handshake_state(p.server), FERRULE_HS_WAIT_END_OF_EARLY_DATA);
    CHECK_EQ(last, FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_early_data_status(p.server), FERRULE_EARLY_ACCEPTED);
    int cs, ss;
    CHECK(pair_handshake(&p, &cs, &ss));
    CHECK_EQ(ferrule_conn_early_data_status(p.client), FERRULE_EARLY_ACCEPTED);
    CHECK_EQ(ferrule_conn_early_data_len(p.client), sizeof(EARLY));
    CHECK_EQ(ferrule_conn_early_data_len(p.server), sizeof(EARLY));
    CHECK(ferrule_conn_resumed(p.client) && ferrule_conn_resumed(p.server));
    /* After the handshake: no more early data, and 1-RTT both ways. */
    CHECK_EQ(ferrule_conn_read_early_data(p.server, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(ferrule_conn_write(p.server, (const uint8_t *)"200", 3, &n), FERRULE_OK);
    pair_move(p.server, p.client);
    CHECK_EQ(ferrule_conn_read(p.client, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK(n == 3 && memcmp(buf, "200", 3) == 0);
    /* Early data is off on the client's write path now. */
    CHECK_EQ(ferrule_conn_write_early_data(p.client, (const uint8_t *)"Y", 1,
                                           FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_WRONG_STATE);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(unread_early_data_comes_first_from_read) {
    ferrule_early_data_options o = opts(0);
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o);
    CHECK(cc != NULL && sc != NULL);
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_set_session(p.client, sess, sl), FERRULE_OK);
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write_early_data(p.client, (const uint8_t *)"early|", 6,
                                           FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
             FERRULE_OK);
    int cs, ss;
    CHECK(pair_handshake(&p, &cs, &ss));
    CHECK_EQ(ferrule_conn_write(p.client, (const uint8_t *)"late", 4, &n), FERRULE_OK);
    pair_move(p.client, p.server);
    uint8_t buf[64];
    size_t total = 0;
    while (total < 10 && ferrule_conn_read(p.server, buf + total, 3, &n) == FERRULE_OK)
        total += n;
    CHECK_EQ(total, 10);
    CHECK(memcmp(buf, "early|late", 10) == 0);
    CHECK_EQ(ferrule_conn_early_data_len(p.server), 6);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(replayed_client_hello_is_refused) {
    /* An attacker records the client's first flight and sends it again to
     * the same server: the early data must not be delivered twice. */
    ferrule_early_data_options o = opts(0);
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o);
    CHECK(cc != NULL && sc != NULL);
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_set_session(p.client, sess, sl), FERRULE_OK);
    size_t n;
    CHECK_EQ(ferrule_conn_write_early_data(p.client, (const uint8_t *)EARLY, sizeof(EARLY) - 1,
                                           FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
             FERRULE_OK);
    static uint8_t flight[65536];
    size_t fl = take_all(p.client, flight, sizeof(flight));
    CHECK(fl > 0);
    CHECK(feed_all(p.server, flight, fl));
    uint8_t buf[256];
    int last;
    CHECK_EQ(read_early(p.server, buf, sizeof(buf), &last), sizeof(EARLY) - 1);
    CHECK_EQ(ferrule_conn_early_data_status(p.server), FERRULE_EARLY_ACCEPTED);
    /* The replay, on a new server connection of the same config. */
    ferrule_conn *s2 = NULL;
    CHECK_EQ(ferrule_conn_new(&s2, sc, NULL), FERRULE_OK);
    CHECK(feed_all(s2, flight, fl));
    CHECK_EQ(ferrule_conn_read_early_data(s2, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK_EQ(n, 0); /* nothing delivered */
    CHECK_EQ(ferrule_conn_early_data_status(s2), FERRULE_EARLY_REJECTED);
    /* The replayed early records were skipped, not treated as an error:
     * the server waits for a Finished the attacker cannot make. */
    CHECK_EQ(ferrule_conn_handshake(s2), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_early_data_len(s2), 0);
    ferrule_conn_free(s2);
    /* The original connection still completes. */
    int cs, ss;
    CHECK(pair_handshake(&p, &cs, &ss));
    CHECK_EQ(ferrule_conn_early_data_status(p.client), FERRULE_EARLY_ACCEPTED);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(ticket_carries_0rtt_once) {
    ferrule_early_data_options o = opts(0);
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o);
    CHECK(cc != NULL && sc != NULL);
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    static attempt a;
    try_0rtt(&a, cc, sc, sess, sl, (const uint8_t *)EARLY, sizeof(EARLY) - 1);
    CHECK(a.ok && a.resumed);
    CHECK_EQ(a.s_status, FERRULE_EARLY_ACCEPTED);
    CHECK_EQ(a.early_read, sizeof(EARLY) - 1);
    /* The same ticket again (a new ClientHello): resumed, 0-RTT refused,
     * the client is told so it can resend. */
    try_0rtt(&a, cc, sc, sess, sl, (const uint8_t *)EARLY, sizeof(EARLY) - 1);
    CHECK(a.ok && a.resumed);
    CHECK_EQ(a.c_status, FERRULE_EARLY_REJECTED);
    CHECK_EQ(a.s_status, FERRULE_EARLY_REJECTED);
    CHECK_EQ(a.early_read, 0);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(stale_ticket_age_is_refused) {
    ferrule_early_data_options o = opts(0);
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o);
    CHECK(cc != NULL && sc != NULL);
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    static attempt a;
    /* The client believes the ticket is 30 s older than the server does
     * (a ClientHello held back by an attacker looks like this). */
    client_offset = 30;
    try_0rtt(&a, cc, sc, sess, sl, (const uint8_t *)EARLY, sizeof(EARLY) - 1);
    client_offset = 0;
    CHECK(a.ok && a.resumed);
    CHECK_EQ(a.c_status, FERRULE_EARLY_REJECTED);
    CHECK_EQ(a.early_read, 0);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

static uint64_t be_get(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

TEST(client_ticket_age_never_exceeds_the_real_one) {
    /* RFC 8446 §4.2.11.1: obfuscated_ticket_age is the age in ms.  Our
     * clock counts whole seconds, so a ticket received D clock seconds ago
     * is between D-1 and D+1 s old: the client claims D-1, never more than
     * the truth.  Claiming D let the age run ahead of the server's view
     * whenever a second boundary fell between the ticket and the resumption,
     * and GnuTLS refuses such 0-RTT as a replay (found by the interop matrix,
     * gnutls/ferrule-client/early-data, in 1 run of 2 to 6). */
    ferrule_early_data_options o = opts(0);
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o);
    CHECK(cc != NULL && sc != NULL);
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    REQUIRE(sl > 16);
    /* Blob: version, suite u16, psk<1..255>, received u64, lifetime u32,
     * age_add u32 (core/hs/session.c). */
    size_t at = 3 + 1 + sess[3];
    int64_t received = (int64_t)be_get(sess + at, 8);
    uint32_t age_add = (uint32_t)be_get(sess + at + 12, 4);
    static uint8_t flight[16384];
    uint32_t claimed = 0;
    int measured = 0;
    for (int tries = 0; tries < 5 && !measured; tries++) {
        int64_t t0 = (int64_t)time(NULL);
        client_offset = received + 7 - t0; /* the client's clock: received + 7 s */
        pair p;
        REQUIRE(pair_new(&p, cc, sc, NULL));
        CHECK_EQ(ferrule_conn_set_session(p.client, sess, sl), FERRULE_OK);
        size_t n = 0;
        CHECK_EQ(ferrule_conn_write_early_data(p.client, (const uint8_t *)"x", 1,
                                               FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
                 FERRULE_OK);
        size_t fl = take_all(p.client, flight, sizeof(flight));
        int64_t t1 = (int64_t)time(NULL);
        pair_free(&p);
        if (t1 != t0) continue; /* a second boundary: the clock moved, measure again */
        /* The ClientHello record: 5-byte header, then the message. */
        hello h;
        REQUIRE(fl > 9);
        size_t msg_len = 4 + (size_t)be_get(flight + 6, 3);
        REQUIRE(5 + msg_len <= fl && hello_parse(&h, flight + 5, msg_len));
        hext *psk = hello_find(&h, FR_EXT_PRE_SHARED_KEY);
        REQUIRE(psk != NULL && psk->len > 8);
        /* identities<7..>: identity<1..> then obfuscated_ticket_age u32 */
        size_t id_len = (size_t)be_get(psk->body + 2, 2);
        REQUIRE(4 + id_len + 4 <= psk->len);
        claimed = (uint32_t)be_get(psk->body + 4 + id_len, 4) - age_add;
        measured = 1;
    }
    client_offset = 0;
    CHECK(measured);
    CHECK_EQ(claimed, 6000u);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(other_store_or_restart_refuses) {
    /* Same ticket key, but a new config (a restarted server, or another
     * server of a fleet without a shared store): resumption works, 0-RTT
     * does not. */
    ferrule_early_data_options o = opts(0);
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o), *sc2 = server_cfg(&o);
    CHECK(cc != NULL && sc != NULL && sc2 != NULL);
    uint8_t name[16] = {1}, key[32] = {2};
    CHECK_EQ(ferrule_config_set_ticket_key(sc, name, key), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_ticket_key(sc2, name, key), FERRULE_OK);
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    static attempt a;
    try_0rtt(&a, cc, sc2, sess, sl, (const uint8_t *)EARLY, sizeof(EARLY) - 1);
    CHECK(a.ok && a.resumed);
    CHECK_EQ(a.c_status, FERRULE_EARLY_REJECTED);
    CHECK_EQ(a.early_read, 0);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    ferrule_config_free(sc2);
}

static int fleet_calls;
static uint8_t fleet_seen[64][32];
static int fleet_n;
static int fleet_check(void *ctx, const uint8_t key[32], int64_t expires) {
    (void)ctx;
    (void)expires;
    fleet_calls++;
    for (int i = 0; i < fleet_n; i++)
        if (memcmp(fleet_seen[i], key, 32) == 0) return 0;
    if (fleet_n == 64) return -1;
    memcpy(fleet_seen[fleet_n++], key, 32);
    return 1;
}

TEST(shared_store_serves_a_fleet) {
    /* Two servers with the same ticket keys and one store (same id):
     * a ticket from A carries 0-RTT at B, once. */
    ferrule_replay_store st;
    memset(&st, 0, sizeof(st));
    st.struct_size = (uint32_t)sizeof(st);
    st.check_and_insert = fleet_check;
    memset(st.id, 7, sizeof(st.id));
    ferrule_early_data_options o = opts(0);
    o.store = &st;
    ferrule_config *cc = client_cfg(1), *a_cfg = server_cfg(&o), *b_cfg = server_cfg(&o);
    CHECK(cc != NULL && a_cfg != NULL && b_cfg != NULL);
    uint8_t name[16] = {3}, key[32] = {4};
    CHECK_EQ(ferrule_config_set_ticket_key(a_cfg, name, key), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_ticket_key(b_cfg, name, key), FERRULE_OK);
    size_t sl = pair_session(cc, a_cfg, sess, sizeof(sess));
    static attempt a;
    fleet_calls = 0;
    try_0rtt(&a, cc, b_cfg, sess, sl, (const uint8_t *)EARLY, sizeof(EARLY) - 1);
    CHECK(a.ok && a.resumed);
    CHECK_EQ(a.s_status, FERRULE_EARLY_ACCEPTED);
    CHECK_EQ(fleet_calls, 2); /* the ticket and the ClientHello */
    try_0rtt(&a, cc, a_cfg, sess, sl, (const uint8_t *)EARLY, sizeof(EARLY) - 1);
    CHECK_EQ(a.s_status, FERRULE_EARLY_REJECTED);
    CHECK(a.ok);
    ferrule_config_free(cc);
    ferrule_config_free(a_cfg);
    ferrule_config_free(b_cfg);
}

static int failing_check(void *ctx, const uint8_t key[32], int64_t expires) {
    (void)ctx;
    (void)key;
    (void)expires;
    return -1;
}

TEST(failing_store_refuses) {
    ferrule_replay_store st;
    memset(&st, 0, sizeof(st));
    st.struct_size = (uint32_t)sizeof(st);
    st.check_and_insert = failing_check;
    ferrule_early_data_options o = opts(0);
    o.store = &st;
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o);
    CHECK(cc != NULL && sc != NULL);
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    static attempt a;
    try_0rtt(&a, cc, sc, sess, sl, (const uint8_t *)EARLY, sizeof(EARLY) - 1);
    CHECK(a.ok && a.resumed);
    CHECK_EQ(a.s_status, FERRULE_EARLY_REJECTED);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

static char veto_sni[256];
static int veto(void *ctx, const ferrule_conn *conn) {
    (void)ctx;
    const char *sni = ferrule_conn_server_name(conn);
    snprintf(veto_sni, sizeof(veto_sni), "%s", sni != NULL ? sni : "");
    return 0;
}

TEST(application_callback_can_refuse) {
    ferrule_early_data_options o = opts(0);
    o.accept = veto;
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o);
    CHECK(cc != NULL && sc != NULL);
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    static attempt a;
    try_0rtt(&a, cc, sc, sess, sl, (const uint8_t *)EARLY, sizeof(EARLY) - 1);
    CHECK(a.ok && a.resumed);
    CHECK_EQ(a.s_status, FERRULE_EARLY_REJECTED);
    CHECK_EQ(a.c_status, FERRULE_EARLY_REJECTED);
    CHECK(strcmp(veto_sni, "localhost") == 0);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(hello_retry_request_refuses) {
    ferrule_early_data_options o = opts(0);
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o);
    CHECK(cc != NULL && sc != NULL);
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    ferrule_conn_free(NULL);
    /* A server that only takes secp384r1: the client's x25519 share draws
     * a HelloRetryRequest. */
    ferrule_config *sc2 = server_cfg(&o);
    uint16_t g = 0x0018;
    CHECK_EQ(ferrule_config_set_groups(sc2, &g, 1), FERRULE_OK);
    uint8_t name[16] = {9}, key[32] = {9};
    CHECK_EQ(ferrule_config_set_ticket_key(sc, name, key), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_ticket_key(sc2, name, key), FERRULE_OK);
    sl = pair_session(cc, sc, sess, sizeof(sess));
    static attempt a;
    try_0rtt(&a, cc, sc2, sess, sl, (const uint8_t *)EARLY, sizeof(EARLY) - 1);
    CHECK(a.ok);
    CHECK_EQ(a.c_status, FERRULE_EARLY_REJECTED);
    CHECK_EQ(a.s_status, FERRULE_EARLY_REJECTED);
    CHECK_EQ(a.early_read, 0);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    ferrule_config_free(sc2);
}

TEST(client_stops_at_max_early_data_size) {
    ferrule_early_data_options o = opts(1000);
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o);
    CHECK(cc != NULL && sc != NULL);
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    static uint8_t big[5000];
    memset(big, 'a', sizeof(big));
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_set_session(p.client, sess, sl), FERRULE_OK);
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write_early_data(p.client, big, sizeof(big),
                                           FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
             FERRULE_OK);
    CHECK_EQ(n, 1000);
    CHECK_EQ(ferrule_conn_write_early_data(p.client, big, 1, FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_NO_EARLY_DATA);
    int cs, ss;
    CHECK(pair_handshake(&p, &cs, &ss));
    CHECK_EQ(ferrule_conn_early_data_len(p.server), 1000);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* The blob's last 4 bytes are the ticket's max_early_data_size: a client
 * that ignores the limit is played by raising it. */
static void raise_blob_limit(uint8_t *blob, size_t len, uint32_t v) {
    for (int i = 0; i < 4; i++) blob[len - 4 + (size_t)i] = (uint8_t)(v >> (24 - 8 * i));
}

TEST(server_refuses_more_than_max_early_data_size) {
    ferrule_early_data_options o = opts(1000);
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o);
    CHECK(cc != NULL && sc != NULL);
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    raise_blob_limit(sess, sl, 100000);
    static uint8_t big[3000];
    memset(big, 'b', sizeof(big));
    static attempt a;
    try_0rtt(&a, cc, sc, sess, sl, big, sizeof(big));
    CHECK_EQ(a.written, sizeof(big));
    CHECK(!a.ok);
    CHECK_EQ(a.s_fail, FERRULE_ALERT_SENT);
    CHECK_EQ(a.s_reason, FERRULE_R_EARLY_DATA_LIMIT);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(skipping_refused_early_data_is_bounded) {
    /* Refused (the ticket was used before), and the client sends more than
     * the skip budget (max(max_early_data_size, 16384)). */
    ferrule_early_data_options o = opts(1000);
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o);
    CHECK(cc != NULL && sc != NULL);
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    static attempt a;
    try_0rtt(&a, cc, sc, sess, sl, (const uint8_t *)"x", 1); /* uses the ticket */
    CHECK_EQ(a.s_status, FERRULE_EARLY_ACCEPTED);
    raise_blob_limit(sess, sl, 100000);
    static uint8_t big[40000];
    memset(big, 'c', sizeof(big));
    try_0rtt(&a, cc, sc, sess, sl, big, sizeof(big));
    CHECK(!a.ok);
    CHECK_EQ(a.s_fail, FERRULE_ALERT_SENT);
    CHECK_EQ(a.s_reason, FERRULE_R_SKIPPED_EARLY_DATA_LIMIT);
    /* Within the budget the refused data is skipped and 1-RTT works. */
    try_0rtt(&a, cc, sc, sess, sl, big, 16000);
    CHECK(a.ok);
    CHECK_EQ(a.s_status, FERRULE_EARLY_REJECTED);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(server_without_0rtt_skips_early_data) {
    /* Tickets from an early-data server, presented to one without 0-RTT
     * (same ticket keys): resumed, refused, skipped. */
    ferrule_early_data_options o = opts(0);
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o), *plain = server_cfg(NULL);
    CHECK(cc != NULL && sc != NULL && plain != NULL);
    uint8_t name[16] = {5}, key[32] = {6};
    CHECK_EQ(ferrule_config_set_ticket_key(sc, name, key), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_ticket_key(plain, name, key), FERRULE_OK);
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    static attempt a;
    try_0rtt(&a, cc, plain, sess, sl, (const uint8_t *)EARLY, sizeof(EARLY) - 1);
    CHECK(a.ok && a.resumed);
    CHECK_EQ(a.c_status, FERRULE_EARLY_REJECTED);
    CHECK_EQ(a.s_status, FERRULE_EARLY_REJECTED);
    /* And its tickets never allow 0-RTT. */
    sl = pair_session(cc, plain, sess, sizeof(sess));
    pair p;
    CHECK(pair_new(&p, cc, plain, NULL));
    CHECK_EQ(ferrule_conn_set_session(p.client, sess, sl), FERRULE_OK);
    size_t n;
    CHECK_EQ(ferrule_conn_write_early_data(p.client, (const uint8_t *)"x", 1,
                                           FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_NO_EARLY_DATA);
    /* Nothing was sent: a normal handshake still works. */
    CHECK_EQ(ferrule_conn_handshake_state(p.client), FERRULE_HS_START);
    int cs, ss;
    CHECK(pair_handshake(&p, &cs, &ss));
    CHECK_EQ(ferrule_conn_early_data_status(p.client), FERRULE_EARLY_NOT_OFFERED);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    ferrule_config_free(plain);
}

/* A 0-RTT attempt with every record the client sends parsed into `out`,
 * in order.  Returns 1 when both handshakes completed; the client's early
 * data status in *early. */
static int client_records(ferrule_config *cc, ferrule_config *sc, const uint8_t *s, size_t sl,
                          mflight *out, uint32_t *early) {
    pair p;
    int ok = 0;
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap);
    if (buf == NULL || !pair_new(&p, cc, sc, NULL)) {
        free(buf);
        return 0;
    }
    if (ferrule_conn_set_session(p.client, s, sl) != FERRULE_OK ||
        ferrule_conn_write_early_data(p.client, (const uint8_t *)EARLY, sizeof(EARLY) - 1,
                                      FERRULE_EARLY_DATA_REPLAY_SAFE, &n) != FERRULE_OK)
        goto out;
    int cs = FERRULE_WANT_READ, ss = FERRULE_WANT_READ;
    for (int round = 0; round < 10 && !ok; round++) {
        size_t len = take_all(p.client, buf, cap);
        if (len > 0 && (!mf_parse(out, buf, len) || !feed_all(p.server, buf, len))) break;
        ss = ferrule_conn_handshake(p.server);
        ok = cs == FERRULE_OK && ss == FERRULE_OK;
        pair_move(p.server, p.client);
        if (!ok) cs = ferrule_conn_handshake(p.client);
    }
    *early = ferrule_conn_early_data_status(p.client);
out:
    pair_free(&p);
    free(buf);
    return ok;
}

TEST(compat_ccs_once_right_after_client_hello) {
    /* RFC 8446 Appendix D.4: with 0-RTT the client's one change_cipher_spec
     * (14 03 03 00 01 01) follows the ClientHello, before the early data,
     * and none follows later: not when the early data is accepted, not
     * when a server without 0-RTT refuses it, not before the second
     * ClientHello when a HelloRetryRequest refuses it. */
    ferrule_early_data_options o = opts(0);
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o), *plain = server_cfg(NULL),
                   *p384 = server_cfg(&o);
    REQUIRE(cc != NULL && sc != NULL && plain != NULL && p384 != NULL);
    uint16_t g = FERRULE_GROUP_SECP384R1;
    CHECK_EQ(ferrule_config_set_groups(p384, &g, 1), FERRULE_OK);
    uint8_t name[16] = {3}, key[32] = {4};
    CHECK_EQ(ferrule_config_set_ticket_key(sc, name, key), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_ticket_key(plain, name, key), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_ticket_key(p384, name, key), FERRULE_OK);
    ferrule_config *servers[3] = {sc, plain, p384};
    const uint32_t want[3] = {FERRULE_EARLY_ACCEPTED, FERRULE_EARLY_REJECTED,
                              FERRULE_EARLY_REJECTED};
    for (int i = 0; i < 3; i++) {
        size_t sl = pair_session(cc, sc, sess, sizeof(sess));
        REQUIRE(sl > 0);
        mflight *f = mf_new();
        REQUIRE(f != NULL);
        uint32_t early = 0;
        CHECK(client_records(cc, servers[i], sess, sl, f, &early));
        CHECK_EQ(early, want[i]);
        CHECK(f->n >= 4);
        if (f->n >= 4) {
            CHECK_EQ(f->r[0].type, FR_CT_HANDSHAKE);
            CHECK_EQ(f->r[0].data[0], FR_HS_CLIENT_HELLO);
            CHECK(mrec_is_ccs(&f->r[1]));
            CHECK_EQ(f->r[2].type, FR_CT_APPLICATION_DATA); /* the early data */
        }
        CHECK_EQ(mf_count_ccs(f), 1);
        if (i == 2) { /* after the HelloRetryRequest: ClientHello2, no CCS */
            CHECK(f->n >= 4 && f->r[3].type == FR_CT_HANDSHAKE &&
                  f->r[3].data[0] == FR_HS_CLIENT_HELLO);
        }
        mf_free(f);
    }
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    ferrule_config_free(plain);
    ferrule_config_free(p384);
}

TEST(api_misuse) {
    ferrule_early_data_options o = opts(0);
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o), *cc_off = client_cfg(0);
    CHECK(cc != NULL && sc != NULL && cc_off != NULL);
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    size_t n = 99;
    uint8_t buf[8];
    /* Not declared replay-safe; unknown flags. */
    CHECK_EQ(ferrule_conn_write_early_data(p.client, buf, 1, 0, &n), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_NOT_REPLAY_SAFE);
    CHECK_EQ(n, 0);
    CHECK_EQ(ferrule_conn_write_early_data(p.client, buf, 1, 3, &n), FERRULE_USAGE);
    /* No session. */
    CHECK_EQ(ferrule_conn_write_early_data(p.client, buf, 1, FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_NO_EARLY_DATA);
    CHECK_EQ(ferrule_conn_write_early_data(NULL, buf, 1, FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_write_early_data(p.client, NULL, 1, FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
             FERRULE_USAGE);
    /* Wrong role. */
    CHECK_EQ(ferrule_conn_write_early_data(p.server, buf, 1, FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_read_early_data(p.client, buf, sizeof(buf), &n), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_WRONG_STATE);
    CHECK_EQ(ferrule_conn_read_early_data(p.server, buf, 0, &n), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_read_early_data(p.server, NULL, 8, &n), FERRULE_USAGE);
    pair_free(&p);
    /* Early data not enabled on the client's config. */
    CHECK(pair_new(&p, cc_off, sc, NULL));
    CHECK_EQ(ferrule_conn_set_session(p.client, sess, sl), FERRULE_OK);
    CHECK_EQ(ferrule_conn_write_early_data(p.client, buf, 1, FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_NO_EARLY_DATA);
    pair_free(&p);
    /* Bad options. */
    ferrule_config *x = pair_server_config("ecdsa-p256");
    ferrule_early_data_options bad = opts(FR_EARLY_MAX_MAX + 1);
    CHECK_EQ(ferrule_config_set_early_data(x, &bad), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(x), FERRULE_R_CONFIG_INVALID);
    bad = opts(0);
    bad.window_ms = 10;
    CHECK_EQ(ferrule_config_set_early_data(x, &bad), FERRULE_USAGE);
    bad = opts(0);
    bad.capacity = 5;
    CHECK_EQ(ferrule_config_set_early_data(x, &bad), FERRULE_USAGE);
    bad = opts(0);
    bad.reserved0 = 1;
    CHECK_EQ(ferrule_config_set_early_data(x, &bad), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(x), FERRULE_R_BAD_STRUCT);
    ferrule_replay_store st;
    memset(&st, 0, sizeof(st));
    st.struct_size = (uint32_t)sizeof(st);
    bad = opts(0);
    bad.store = &st; /* no function */
    CHECK_EQ(ferrule_config_set_early_data(x, &bad), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_early_data(NULL, NULL), FERRULE_USAGE);
    /* Twice is fine (the store is replaced); frozen once in use. */
    CHECK_EQ(ferrule_config_set_early_data(x, NULL), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_early_data(x, NULL), FERRULE_OK);
    ferrule_conn *s = NULL;
    CHECK_EQ(ferrule_conn_new(&s, x, NULL), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_early_data(x, NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(x), FERRULE_R_CONFIG_FROZEN);
    CHECK_EQ(ferrule_conn_early_data_status(NULL), FERRULE_EARLY_NOT_OFFERED);
    CHECK_EQ(ferrule_conn_early_data_len(NULL), 0);
    CHECK_EQ(ferrule_sizeof_early_data_options(), sizeof(ferrule_early_data_options));
    CHECK_EQ(ferrule_sizeof_replay_store(), sizeof(ferrule_replay_store));
    ferrule_conn_free(s);
    ferrule_config_free(x);
    ferrule_config_free(cc);
    ferrule_config_free(cc_off);
    ferrule_config_free(sc);
}

TEST(alpn_must_match_the_session) {
    ferrule_early_data_options o = opts(0);
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o), *cc2 = client_cfg(1);
    CHECK(cc != NULL && sc != NULL && cc2 != NULL);
    CHECK_EQ(ferrule_config_add_alpn(cc, (const uint8_t *)"h2", 2), FERRULE_OK);
    CHECK_EQ(ferrule_config_add_alpn(sc, (const uint8_t *)"h2", 2), FERRULE_OK);
    CHECK_EQ(ferrule_config_add_alpn(sc, (const uint8_t *)"http/1.1", 8), FERRULE_OK);
    CHECK_EQ(ferrule_config_add_alpn(cc2, (const uint8_t *)"http/1.1", 8), FERRULE_OK);
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    /* Same ALPN: accepted. */
    static attempt a;
    try_0rtt(&a, cc, sc, sess, sl, (const uint8_t *)EARLY, sizeof(EARLY) - 1);
    CHECK_EQ(a.s_status, FERRULE_EARLY_ACCEPTED);
    /* A client that would not offer the session's protocol may not send
     * early data with it. */
    sl = pair_session(cc, sc, sess, sizeof(sess));
    pair p;
    CHECK(pair_new(&p, cc2, sc, NULL));
    CHECK_EQ(ferrule_conn_set_session(p.client, sess, sl), FERRULE_OK);
    size_t n;
    CHECK_EQ(ferrule_conn_write_early_data(p.client, (const uint8_t *)"x", 1,
                                           FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_NO_EARLY_DATA);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(cc2);
    ferrule_config_free(sc);
}

TEST(record_size_limit_does_not_bind_early_data) {
    /* RFC 8449: a limit binds records sent after the peer saw it; 0-RTT
     * records were sent before the client learnt the server's limit. */
    ferrule_early_data_options o = opts(0);
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o);
    CHECK(cc != NULL && sc != NULL);
    CHECK_EQ(ferrule_config_set_record_size_limit(sc, 512), FERRULE_OK);
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    static uint8_t big[4000];
    memset(big, 'r', sizeof(big));
    static attempt a;
    try_0rtt(&a, cc, sc, sess, sl, big, sizeof(big));
    CHECK(a.ok && a.resumed);
    CHECK_EQ(a.s_status, FERRULE_EARLY_ACCEPTED);
    CHECK_EQ(a.early_read, sizeof(big));
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(large_early_data_arrives_intact) {
    /* 40,000 bytes of 0-RTT data under a 65,536-byte allowance: several
     * records, the server's buffer grows as they come, the bytes are
     * delivered in order. */
    ferrule_early_data_options o = opts(65536);
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o);
    CHECK(cc != NULL && sc != NULL);
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    static uint8_t big[40000];
    for (size_t i = 0; i < sizeof(big); i++) big[i] = (uint8_t)(i * 7 + i / 251);
    static attempt a;
    try_0rtt(&a, cc, sc, sess, sl, big, sizeof(big));
    CHECK(a.ok && a.resumed);
    CHECK_EQ(a.s_status, FERRULE_EARLY_ACCEPTED);
    CHECK_EQ(a.written, sizeof(big));
    CHECK_EQ(a.early_read, sizeof(big));
    CHECK(memcmp(a.early, big, sizeof(big)) == 0);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* Concurrent 0-RTT with one ticket: the store admits exactly one. */
typedef struct race {
    ferrule_config *cc, *sc;
    const uint8_t *sess;
    size_t sl;
    attempt a;
} race;

static void *race_one(void *arg) {
    race *r = arg;
    try_0rtt(&r->a, r->cc, r->sc, r->sess, r->sl, (const uint8_t *)EARLY, sizeof(EARLY) - 1);
    return NULL;
}

TEST(concurrent_replays_admit_one) {
    ferrule_early_data_options o = opts(0);
    ferrule_config *cc = client_cfg(1), *sc = server_cfg(&o);
    CHECK(cc != NULL && sc != NULL);
    static uint8_t blob[8192];
    size_t sl = pair_session(cc, sc, blob, sizeof(blob));
    enum { N = 8 };
    static race r[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        r[i].cc = cc;
        r[i].sc = sc;
        r[i].sess = blob;
        r[i].sl = sl;
        CHECK_EQ(pthread_create(&th[i], NULL, race_one, &r[i]), 0);
    }
    int accepted = 0, ok = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        accepted += r[i].a.s_status == FERRULE_EARLY_ACCEPTED;
        ok += r[i].a.ok && r[i].a.resumed;
    }
    CHECK_EQ(accepted, 1);
    CHECK_EQ(ok, N);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* ---- the built-in store ---------------------------------------------------- */

static void key_of(uint32_t i, uint32_t salt, uint8_t out[32]) {
    uint8_t in[8];
    for (int k = 0; k < 4; k++) {
        in[k] = (uint8_t)(i >> (8 * k));
        in[4 + k] = (uint8_t)(salt >> (8 * k));
    }
    if (fr_hash(FR_HASH_SHA256, in, sizeof(in), out) != FR_OK) memset(out, 0, 32);
}

TEST(bloom_false_positive_rate_measured) {
    /* 1638 entries in 16384 bits (10.0 bits per entry, the densest shape
     * the store uses), k = 7: theory (1 - e^(-7/10))^7 = 0.82%. */
    fr_mem m;
    fr_mem_init(&m, NULL, SIZE_MAX);
    fr_bloom *b = NULL;
    CHECK_EQ(fr_bloom_new(&m, 1638, 1000, 0, &b), FR_OK);
    if (b == NULL) return;
    size_t nbits;
    unsigned k;
    fr_bloom_shape(b, &nbits, &k);
    CHECK_EQ(nbits, 16384);
    CHECK_EQ(k, 7);
    uint8_t key[32];
    /* Fill to capacity (a key may already test positive while filling:
     * a false positive, skipped). */
    uint32_t inserted = 0, next = 0, fill_fp = 0;
    while (inserted < 1638) {
        key_of(next++, 1, key);
        int r = fr_bloom_check_and_insert(b, key, 10, 1);
        CHECK(r == 1 || r == 0);
        if (r == 1) inserted++;
        else fill_fp++;
    }
    CHECK(fill_fp < 50);
    /* At capacity: no more insertions (fail closed). */
    key_of(5000, 1, key);
    int full = fr_bloom_check_and_insert(b, key, 10, 1);
    CHECK(full == -1 || full == 0);
    /* Every inserted key is found (no false negatives). */
    for (uint32_t i = 0; i < next; i++) {
        key_of(i, 1, key);
        CHECK_EQ(fr_bloom_check_and_insert(b, key, 10, 1), 0);
    }
    /* False positives over 200,000 keys never inserted. */
    size_t fp = 0, trials = 200000;
    for (uint32_t i = 0; i < trials; i++) {
        key_of(i, 2, key);
        if (fr_bloom_check_and_insert(b, key, 10, 1) == 0) fp++;
    }
    double rate = (double)fp / (double)trials;
    printf("  bloom at capacity: %zu false positives in %zu (%.3f%%; theory 0.82%%)\n", fp,
           trials, 100.0 * rate);
    CHECK(rate > 0.004 && rate < 0.012);
    fr_bloom_free(&m, b);
}

TEST(bloom_rotation_keeps_entries_one_period) {
    fr_mem m;
    fr_mem_init(&m, NULL, SIZE_MAX);
    fr_bloom *b = NULL;
    CHECK_EQ(fr_bloom_new(&m, 1024, 100, 1000, &b), FR_OK);
    if (b == NULL) return;
    uint8_t key[32];
    key_of(1, 9, key);
    CHECK_EQ(fr_bloom_check_and_insert(b, key, 1090, 1050), 1);
    /* One rotation later (t = 1120): still remembered. */
    CHECK_EQ(fr_bloom_check_and_insert(b, key, 1090, 1120), 0);
    /* Expiry further than the rotation can keep: refused. */
    key_of(2, 9, key);
    CHECK_EQ(fr_bloom_check_and_insert(b, key, 1120 + 200, 1120), -1);
    /* Two periods after the insertion's generation: forgotten. */
    key_of(1, 9, key);
    CHECK_EQ(fr_bloom_check_and_insert(b, key, 1300, 1200), 1);
    /* A long pause clears both generations. */
    key_of(3, 9, key);
    CHECK_EQ(fr_bloom_check_and_insert(b, key, 1250, 1210), 1);
    CHECK_EQ(fr_bloom_check_and_insert(b, key, 5050, 5000), 1);
    fr_bloom_free(&m, b);
}

TEST_MAIN("early_data", TL_CASE(compat_ccs_once_right_after_client_hello),
          TL_CASE(accepted_and_read_before_the_handshake_ends),
          TL_CASE(unread_early_data_comes_first_from_read),
          TL_CASE(replayed_client_hello_is_refused), TL_CASE(ticket_carries_0rtt_once),
          TL_CASE(stale_ticket_age_is_refused), TL_CASE(client_ticket_age_never_exceeds_the_real_one), TL_CASE(other_store_or_restart_refuses),
          TL_CASE(shared_store_serves_a_fleet), TL_CASE(failing_store_refuses),
          TL_CASE(application_callback_can_refuse), TL_CASE(hello_retry_request_refuses),
          TL_CASE(client_stops_at_max_early_data_size),
          TL_CASE(server_refuses_more_than_max_early_data_size),
          TL_CASE(skipping_refused_early_data_is_bounded),
          TL_CASE(server_without_0rtt_skips_early_data), TL_CASE(api_misuse),
          TL_CASE(alpn_must_match_the_session),
          TL_CASE(record_size_limit_does_not_bind_early_data), TL_CASE(concurrent_replays_admit_one),
          TL_CASE(large_early_data_arrives_intact), TL_CASE(bloom_false_positive_rate_measured),
          TL_CASE(bloom_rotation_keeps_entries_one_period))
