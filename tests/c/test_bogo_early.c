/* test_bogo_early.c - 0-RTT, 0.5-RTT and resumption behaviour that
 * BoringSSL's test runner (BoGo) checks, as regression tests over
 * in-memory pairs.
 *
 * 0.5-RTT (RFC 8446 §2.3, §4.4.4): a server may send application data
 * once its Finished is sent, before the client's Finished.  ferrule_conn_write
 * takes it then without waiting for the client (found by BoGo's
 * EarlyData-Server-TLS13 and the other 0-RTT server tests, which expect
 * the early data echoed before the runner sends its Finished). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "support_pair.h"
#include "testlib.h"

static ferrule_config *early_client(void) {
    ferrule_config *c = pair_client_config();
    if (c != NULL && ferrule_config_set_early_data(c, NULL) != FERRULE_OK) return NULL;
    return c;
}

static ferrule_config *early_server(void) {
    ferrule_config *c = pair_server_config("ecdsa-p256");
    if (c != NULL && ferrule_config_set_early_data(c, NULL) != FERRULE_OK) return NULL;
    return c;
}


/* The server writes `msg` now, in state `want_state`, without input from
 * the client; the client reads it once its handshake completes. */
static void half_rtt_round_trip(pair *p, int want_state, const char *msg) {
    size_t n = 0, len = strlen(msg);
    CHECK_EQ(ferrule_conn_handshake_state(p->server), want_state);
    CHECK(ferrule_conn_flags(p->server) & FERRULE_FLAG_APP_WRITABLE);
    CHECK_EQ(ferrule_conn_write(p->server, (const uint8_t *)msg, len, &n), FERRULE_OK);
    CHECK_EQ(n, len);
    /* Written, not driven: the server still waits for the client. */
    CHECK_EQ(ferrule_conn_handshake_state(p->server), want_state);
    int cs, ss;
    CHECK(pair_handshake(p, &cs, &ss));
    uint8_t buf[64];
    CHECK_EQ(ferrule_conn_read(p->client, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK_EQ(n, len);
    CHECK(memcmp(buf, msg, len) == 0);
}

TEST(half_rtt_after_accepted_early_data) {
    ferrule_config *cc = early_client(), *sc = early_server();
    REQUIRE(cc != NULL && sc != NULL);
    static uint8_t sess[8192];
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    REQUIRE(sl > 0);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_set_session(p.client, sess, sl), FERRULE_OK);
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write_early_data(p.client, (const uint8_t *)"\x01\x02\x03\x04", 4,
                                           FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
             FERRULE_OK);
    pair_move(p.client, p.server);
    uint8_t buf[16];
    CHECK_EQ(ferrule_conn_read_early_data(p.server, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK_EQ(n, 4);
    /* The reply to the early data, before the client's EndOfEarlyData. */
    half_rtt_round_trip(&p, FERRULE_HS_WAIT_END_OF_EARLY_DATA, "\xfe\xfd\xfc\xfb");
    CHECK_EQ(ferrule_conn_early_data_status(p.client), FERRULE_EARLY_ACCEPTED);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(half_rtt_in_a_full_handshake) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    REQUIRE(cc != NULL && sc != NULL);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    /* Before its flight the server cannot write: the write drives the
     * handshake, which needs the ClientHello. */
    size_t n = 9;
    CHECK(!(ferrule_conn_flags(p.server) & FERRULE_FLAG_APP_WRITABLE));
    CHECK_EQ(ferrule_conn_write(p.server, (const uint8_t *)"x", 1, &n), FERRULE_WANT_READ);
    CHECK_EQ(n, 0);
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
    pair_move(p.client, p.server);
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_READ);
    half_rtt_round_trip(&p, FERRULE_HS_WAIT_CLIENT_FINISHED, "half-rtt");
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(half_rtt_before_the_client_certificate) {
    /* Documented: with client authentication requested, 0.5-RTT data goes
     * to a client that has not yet authenticated. */
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    REQUIRE(cc != NULL && sc != NULL);
    CHECK_EQ(ferrule_config_set_client_auth(sc, FERRULE_CLIENT_AUTH_REQUEST), FERRULE_OK);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
    pair_move(p.client, p.server);
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_READ);
    half_rtt_round_trip(&p, FERRULE_HS_WAIT_CLIENT_CERTIFICATE, "unauthenticated");
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(client_cannot_write_before_its_handshake_ends) {
    /* 0.5-RTT is the server's: a client's write still drives its handshake. */
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    REQUIRE(cc != NULL && sc != NULL);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    size_t n = 9;
    CHECK_EQ(ferrule_conn_write(p.client, (const uint8_t *)"x", 1, &n), FERRULE_WANT_READ);
    CHECK_EQ(n, 0);
    CHECK(!(ferrule_conn_flags(p.client) & FERRULE_FLAG_APP_WRITABLE));
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* ---- the client's checks of an accepted 0-RTT (RFC 8446 §4.2.10) ---------- */

/* Offsets in a session blob (core/hs/session.c): version, suite u16,
 * psk<1..255>, received u64, lifetime u32, age_add u32, ticket<1..2^16-1>,
 * alpn<0..255>, ... */
static size_t blob_alpn_offset(const uint8_t *b) {
    size_t off = 3 + 1 + b[3] + 8 + 4 + 4;
    size_t ticket_len = ((size_t)b[off] << 8) | b[off + 1];
    return off + 2 + ticket_len;
}

/* The server accepts 0-RTT for its ticket; the client's session blob,
 * edited, says the early data went under another suite or ALPN: the
 * client refuses the acceptance with illegal_parameter and its own reason
 * (BoGo EarlyData-CipherMismatch-Client-TLS13, -BadALPNMismatch-Client). */
static void accepted_with_a_mismatch(ferrule_config *cc, ferrule_config *sc, int edit_alpn,
                                     uint32_t want_reason) {
    static uint8_t sess[8192];
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    REQUIRE(sl > 0);
    if (edit_alpn) {
        size_t a = blob_alpn_offset(sess);
        REQUIRE(a + 1 < sl && sess[a] == 1 && sess[a + 1] == 'a');
        sess[a + 1] = 'b';
    } else {
        /* TLS_AES_128_GCM_SHA256 -> TLS_CHACHA20_POLY1305_SHA256 (same hash). */
        REQUIRE(sess[1] == 0x13 && sess[2] == 0x01);
        sess[2] = 0x03;
    }
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_set_session(p.client, sess, sl), FERRULE_OK);
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write_early_data(p.client, (const uint8_t *)"early", 5,
                                           FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
             FERRULE_OK);
    /* The server gets the ClientHello (and CCS) only: the early record,
     * under the edited suite, would not open there. */
    static uint8_t wire[16384];
    size_t wl = 0, k = 0;
    while (ferrule_conn_take(p.client, wire + wl, sizeof(wire) - wl, &k) == FERRULE_OK && k > 0)
        wl += k;
    size_t hello = 0;
    while (hello + 5 <= wl && wire[hello] != 23)
        hello += 5 + (((size_t)wire[hello + 3] << 8) | wire[hello + 4]);
    REQUIRE(hello > 0 && hello < wl);
    size_t used = 0;
    CHECK_EQ(ferrule_conn_feed(p.server, wire, hello, &used), FERRULE_OK);
    CHECK_EQ(used, hello);
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_early_data_status(p.server), FERRULE_EARLY_ACCEPTED);
    pair_move(p.server, p.client);
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_ALERT_SENT);
    CHECK_EQ(ferrule_conn_reason(p.client), want_reason);
    uint8_t alert = 0;
    uint32_t received = 1;
    CHECK(ferrule_conn_get_alert(p.client, &alert, &received));
    CHECK_EQ(alert, FERRULE_ALERT_ILLEGAL_PARAMETER);
    CHECK_EQ(received, 0);
    pair_free(&p);
}

TEST(accepted_early_data_under_another_suite) {
    ferrule_config *cc = early_client(), *sc = early_server();
    REQUIRE(cc != NULL && sc != NULL);
    accepted_with_a_mismatch(cc, sc, 0, FERRULE_R_EARLY_CIPHER_MISMATCH);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(accepted_early_data_under_another_alpn) {
    ferrule_config *cc = early_client(), *sc = early_server();
    REQUIRE(cc != NULL && sc != NULL);
    CHECK_EQ(ferrule_config_add_alpn(cc, (const uint8_t *)"a", 1), FERRULE_OK);
    CHECK_EQ(ferrule_config_add_alpn(cc, (const uint8_t *)"b", 1), FERRULE_OK);
    CHECK_EQ(ferrule_config_add_alpn(sc, (const uint8_t *)"a", 1), FERRULE_OK);
    accepted_with_a_mismatch(cc, sc, 1, FERRULE_R_EARLY_ALPN_MISMATCH);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* ---- resumption ------------------------------------------------------------- */

/* A resumption whose ServerHello `edit` changes in flight (the wire
 * bytes, record header first); the client must then fail with `reason`
 * and send illegal_parameter. */
typedef int (*sh_edit)(uint8_t *wire, size_t len);

static void resumed_server_hello_refused(sh_edit edit, uint32_t reason) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    REQUIRE(cc != NULL && sc != NULL);
    static uint8_t sess[8192];
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    REQUIRE(sl > 0 && sess[1] == 0x13 && sess[2] == 0x01);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_set_session(p.client, sess, sl), FERRULE_OK);
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
    pair_move(p.client, p.server);
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_READ);
    static uint8_t wire[16384];
    size_t wl = 0, k = 0;
    while (ferrule_conn_take(p.server, wire + wl, sizeof(wire) - wl, &k) == FERRULE_OK && k > 0)
        wl += k;
    REQUIRE(wl > 44 && wire[0] == 22 && wire[5] == 2);
    REQUIRE(edit(wire, wl));
    size_t used = 0;
    CHECK_EQ(ferrule_conn_feed(p.client, wire, wl, &used), FERRULE_OK);
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_ALERT_SENT);
    CHECK_EQ(ferrule_conn_reason(p.client), reason);
    uint8_t alert = 0;
    uint32_t received = 1;
    CHECK(ferrule_conn_get_alert(p.client, &alert, &received));
    CHECK_EQ(alert, FERRULE_ALERT_ILLEGAL_PARAMETER);
    CHECK_EQ(received, 0);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* cipher_suite 0x1301 -> 0x1302 (record header 5, handshake header 4,
 * legacy_version 2, random 32, session id <0..32>, then cipher_suite). */
static int to_aes256(uint8_t *wire, size_t wl) {
    size_t suite = 5 + 4 + 2 + 32 + 1 + wire[5 + 4 + 2 + 32];
    if (suite + 2 >= wl || wire[suite] != 0x13 || wire[suite + 1] != 0x01) return 0;
    wire[suite + 1] = 0x02;
    return 1;
}

/* pre_shared_key in the ServerHello (00 29, length 2, selected 0) -> 1. */
static int select_identity_1(uint8_t *wire, size_t wl) {
    size_t rec = 5 + ((size_t)wire[3] << 8 | wire[4]), at = 0;
    for (size_t i = 5; i + 6 <= rec && i + 6 <= wl; i++)
        if (wire[i] == 0 && wire[i + 1] == 0x29 && wire[i + 2] == 0 && wire[i + 3] == 2 &&
            wire[i + 4] == 0 && wire[i + 5] == 0)
            at = i + 5;
    if (at == 0) return 0;
    wire[at] = 1;
    return 1;
}

TEST(resumed_under_a_suite_of_another_hash) {
    /* Our SHA-256 PSK resumed under TLS_AES_256_GCM_SHA384: psk_hash_mismatch
     * (RFC 8446 §4.2.11; BoGo Resume-Client-PRFMismatch-TLS13). */
    resumed_server_hello_refused(to_aes256, FERRULE_R_PSK_HASH_MISMATCH);
}

TEST(server_selects_an_identity_not_offered) {
    /* selected_identity 1 when we offered one PSK: psk_identity_unknown
     * (RFC 8446 §4.2.11; BoGo InvalidPSKIdentity-TLS13). */
    resumed_server_hello_refused(select_identity_1, FERRULE_R_PSK_IDENTITY_UNKNOWN);
}

/* ---- why 0-RTT was accepted or refused (ferrule_conn_early_data_reason) ---- */

static int64_t server_skew;
static int64_t skewed_now(void *ctx) {
    (void)ctx;
    return (int64_t)time(NULL) + server_skew;
}

/* One resumption: the client writes early data if `early`; both
 * handshakes complete; the reasons of both sides are returned. */
static void resume_once(ferrule_config *cc, ferrule_config *sc, const uint8_t *sess, size_t sl,
                        int early, uint32_t *creason, uint32_t *sreason) {
    pair p;
    *creason = *sreason = 99;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    if (sess != NULL) CHECK_EQ(ferrule_conn_set_session(p.client, sess, sl), FERRULE_OK);
    size_t n = 0;
    if (early)
        CHECK_EQ(ferrule_conn_write_early_data(p.client, (const uint8_t *)"e", 1,
                                               FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
                 FERRULE_OK);
    int cs, ss;
    CHECK(pair_handshake(&p, &cs, &ss));
    *creason = ferrule_conn_early_data_reason(p.client);
    *sreason = ferrule_conn_early_data_reason(p.server);
    pair_free(&p);
}

TEST(early_data_reasons) {
    ferrule_config *cc = early_client(), *sc = early_server();
    ferrule_config *plain = pair_server_config("ecdsa-p256");
    ferrule_config *skewed = early_server();
    REQUIRE(cc != NULL && sc != NULL && plain != NULL && skewed != NULL);
    CHECK_EQ(ferrule_config_set_time_callback(skewed, skewed_now, NULL), FERRULE_OK);
    uint32_t cr, sr;
    /* No PSK offered; 0-RTT not enabled on the server. */
    resume_once(cc, sc, NULL, 0, 0, &cr, &sr);
    CHECK_EQ(sr, FERRULE_EARLY_REASON_NO_PSK_OFFERED);
    CHECK_EQ(cr, FERRULE_EARLY_REASON_NONE);
    resume_once(cc, plain, NULL, 0, 0, &cr, &sr);
    CHECK_EQ(sr, FERRULE_EARLY_REASON_DISABLED);
    static uint8_t sess[8192];
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    REQUIRE(sl > 0);
    /* Resumed without an offer: declined by the peer. */
    resume_once(cc, sc, sess, sl, 0, &cr, &sr);
    CHECK_EQ(sr, FERRULE_EARLY_REASON_PEER_DECLINED);
    CHECK_EQ(cr, FERRULE_EARLY_REASON_NONE);
    /* Accepted. */
    sl = pair_session(cc, sc, sess, sizeof(sess));
    resume_once(cc, sc, sess, sl, 1, &cr, &sr);
    CHECK_EQ(sr, FERRULE_EARLY_REASON_ACCEPTED);
    CHECK_EQ(cr, FERRULE_EARLY_REASON_ACCEPTED);
    /* The same ticket again: the replay store refuses it. */
    resume_once(cc, sc, sess, sl, 1, &cr, &sr);
    CHECK_EQ(sr, FERRULE_EARLY_REASON_REPLAY);
    CHECK_EQ(cr, FERRULE_EARLY_REASON_PEER_DECLINED);
    /* The server's clock a minute ahead of the ticket's age. */
    server_skew = 0;
    sl = pair_session(cc, skewed, sess, sizeof(sess));
    REQUIRE(sl > 0);
    server_skew = 60;
    resume_once(cc, skewed, sess, sl, 1, &cr, &sr);
    CHECK_EQ(sr, FERRULE_EARLY_REASON_TICKET_AGE);
    CHECK_EQ(cr, FERRULE_EARLY_REASON_PEER_DECLINED);
    /* A server that does not resume (tickets of another key). */
    sl = pair_session(cc, sc, sess, sizeof(sess));
    ferrule_config *other = early_server();
    REQUIRE(other != NULL);
    resume_once(cc, other, sess, sl, 1, &cr, &sr);
    CHECK_EQ(sr, FERRULE_EARLY_REASON_NOT_RESUMED);
    CHECK_EQ(cr, FERRULE_EARLY_REASON_NOT_RESUMED);
    ferrule_config_free(other);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    ferrule_config_free(plain);
    ferrule_config_free(skewed);
}

/* ---- skipping refused 0-RTT ------------------------------------------------ */

TEST(skipped_early_data_inside_the_second_client_hello) {
    /* After a HelloRetryRequest the server drops the refused 0-RTT records,
     * but an application_data record between two fragments of the second
     * ClientHello is interleaving (RFC 8446 §5.1): interleaved_handshake
     * (BoGo SkipEarlyData-HRR-Interleaved-TLS13). */
    ferrule_config *cc = early_client(), *sc = early_server(), *sc2 = early_server();
    REQUIRE(cc != NULL && sc != NULL && sc2 != NULL);
    uint8_t name[16] = {7}, key[32] = {7};
    CHECK_EQ(ferrule_config_set_ticket_key(sc, name, key), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_ticket_key(sc2, name, key), FERRULE_OK);
    uint16_t g = 0x0018; /* secp384r1 only: the client's x25519 share draws an HRR */
    CHECK_EQ(ferrule_config_set_groups(sc2, &g, 1), FERRULE_OK);
    static uint8_t sess[8192];
    size_t sl = pair_session(cc, sc, sess, sizeof(sess));
    REQUIRE(sl > 0);
    pair p;
    REQUIRE(pair_new(&p, cc, sc2, NULL));
    CHECK_EQ(ferrule_conn_set_session(p.client, sess, sl), FERRULE_OK);
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write_early_data(p.client, (const uint8_t *)"early", 5,
                                           FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
             FERRULE_OK);
    pair_move(p.client, p.server);
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_READ);
    REQUIRE(ferrule_conn_hrr(p.server));
    pair_move(p.server, p.client);
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
    static uint8_t wire[16384], cut[16384 + 64];
    size_t wl = 0, k = 0;
    while (ferrule_conn_take(p.client, wire + wl, sizeof(wire) - wl, &k) == FERRULE_OK && k > 0)
        wl += k;
    /* The second ClientHello, one record: split it after 16 bytes of its
     * body, with an application_data record of 20 bytes between. */
    size_t at = 0;
    while (at + 5 <= wl && wire[at] != 22) at += 5 + (((size_t)wire[at + 3] << 8) | wire[at + 4]);
    REQUIRE(at + 5 <= wl);
    size_t body = ((size_t)wire[at + 3] << 8) | wire[at + 4];
    REQUIRE(body > 16 && at + 5 + body == wl);
    size_t cl = 0;
    memcpy(cut, wire, at + 5 + 16);
    cut[at + 3] = 0;
    cut[at + 4] = 16;
    cl = at + 5 + 16;
    static const uint8_t fake_hdr[5] = {23, 3, 3, 0, 20};
    memcpy(cut + cl, fake_hdr, 5);
    memset(cut + cl + 5, 0xab, 20);
    cl += 25;
    cut[cl] = 22;
    cut[cl + 1] = 3;
    cut[cl + 2] = 3;
    cut[cl + 3] = (uint8_t)((body - 16) >> 8);
    cut[cl + 4] = (uint8_t)(body - 16);
    memcpy(cut + cl + 5, wire + at + 5 + 16, body - 16);
    cl += 5 + body - 16;
    size_t used = 0;
    CHECK_EQ(ferrule_conn_feed(p.server, cut, cl, &used), FERRULE_OK);
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_ALERT_SENT);
    CHECK_EQ(ferrule_conn_reason(p.server), FERRULE_R_INTERLEAVED);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    ferrule_config_free(sc2);
}

TEST_MAIN("bogo_early", TL_CASE(skipped_early_data_inside_the_second_client_hello), TL_CASE(early_data_reasons), TL_CASE(resumed_under_a_suite_of_another_hash), TL_CASE(server_selects_an_identity_not_offered), TL_CASE(accepted_early_data_under_another_suite),
          TL_CASE(accepted_early_data_under_another_alpn), TL_CASE(half_rtt_after_accepted_early_data),
          TL_CASE(half_rtt_in_a_full_handshake), TL_CASE(half_rtt_before_the_client_certificate),
          TL_CASE(client_cannot_write_before_its_handshake_ends))
