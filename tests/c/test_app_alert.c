/* test_app_alert.c - two public calls an application (and the BoGo shim)
 * uses: ferrule_conn_send_alert, which ends a connection with a fatal alert
 * of the application's choosing (RFC 8446 §6), and
 * ferrule_session_max_early_data, which tells whether a session blob's
 * ticket allows 0-RTT (RFC 8446 §4.6.1 max_early_data_size). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support_pair.h"
#include "testlib.h"

static const uint8_t COMPAT_CCS[6] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01};

/* Both configs, connected, the server's tickets read by the client. */
static int connected(pair *p, ferrule_config **cc, ferrule_config **sc) {
    *cc = pair_client_config();
    *sc = pair_server_config("ecdsa-p256");
    if (*cc == NULL || *sc == NULL || !pair_new(p, *cc, *sc, NULL)) return 0;
    int cs, ss;
    if (!pair_handshake(p, &cs, &ss)) return 0;
    pair_move(p->server, p->client);
    uint8_t buf[16];
    size_t n = 0;
    return ferrule_conn_read(p->client, buf, sizeof(buf), &n) == FERRULE_WANT_READ &&
           ferrule_conn_pending_output(p->client) == 0 &&
           ferrule_conn_pending_output(p->server) == 0;
}

static void done(pair *p, ferrule_config *cc, ferrule_config *sc) {
    pair_free(p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* `from` queued exactly one protected record; moved to `to`, which then
 * reports `alert` as a received fatal alert (sticky). */
static void expect_one_protected_alert_at(int line, ferrule_conn *from, ferrule_conn *to,
                                          int alert) {
    uint8_t buf[256];
    size_t n = 0;
    tl_checks++;
    int bad = ferrule_conn_take(from, buf, sizeof(buf), &n) != FERRULE_OK ||
              ferrule_conn_pending_output(from) != 0 || n < 5 + 2 + 1 + 16;
    /* 17 03 03 len: one application_data record holding the whole output;
     * the inner plaintext is the 2-byte alert, its type byte and the tag. */
    if (!bad)
        bad = buf[0] != 23 || buf[1] != 3 || buf[2] != 3 ||
              5 + ((size_t)buf[3] << 8 | buf[4]) != n || n != 5 + 2 + 1 + 16;
    if (bad) {
        fprintf(stderr, "  %s:%d: output %zu bytes, want one 24-byte protected record\n",
                __FILE__, line, n);
        tl_failures_in_test++;
        return;
    }
    size_t k = 0;
    uint8_t out[64];
    size_t got = 99;
    int st = FERRULE_OK;
    if (ferrule_conn_feed(to, buf, n, &k) != FERRULE_OK || k != n)
        bad = 1;
    else
        st = ferrule_conn_read(to, out, sizeof(out), &got);
    if (bad || st != FERRULE_ALERT_RECEIVED || ferrule_conn_reason(to) != FERRULE_R_PEER_ALERT ||
        ferrule_conn_alert(to) != alert || ferrule_conn_status(to) != FERRULE_ALERT_RECEIVED ||
        ferrule_conn_pending_output(to) != 0) {
        fprintf(stderr, "  %s:%d: peer got %s / %s alert %d, want alert-received %d\n", __FILE__,
                line, ferrule_status_name(st), ferrule_reason_name(ferrule_conn_reason(to)),
                ferrule_conn_alert(to), alert);
        tl_failures_in_test++;
    }
}
#define EXPECT_ONE_PROTECTED_ALERT(from, to, alert)                                                \
    expect_one_protected_alert_at(__LINE__, (from), (to), (alert))

/* The sender after its alert: failed with policy / application_alert,
 * reporting the alert it sent, and nothing more goes either way. */
static void expect_ended_by_app_at(int line, ferrule_conn *c, int alert) {
    size_t n = 0;
    uint8_t buf[16];
    tl_checks++;
    int w = ferrule_conn_write(c, (const uint8_t *)"late", 4, &n);
    int r = ferrule_conn_read(c, buf, sizeof(buf), &n);
    if (ferrule_conn_status(c) != FERRULE_POLICY || ferrule_conn_reason(c) != FERRULE_R_APP_ALERT ||
        ferrule_conn_alert(c) != alert || w != FERRULE_POLICY || r != FERRULE_POLICY ||
        ferrule_conn_handshake(c) != FERRULE_POLICY || ferrule_conn_pending_output(c) != 0) {
        fprintf(stderr,
                "  %s:%d: status %s reason %s alert %d, write %s, read %s, pending %zu; want "
                "policy / app_alert %d\n",
                __FILE__, line, ferrule_status_name(ferrule_conn_status(c)),
                ferrule_reason_name(ferrule_conn_reason(c)), ferrule_conn_alert(c),
                ferrule_status_name(w), ferrule_status_name(r), ferrule_conn_pending_output(c),
                alert);
        tl_failures_in_test++;
    }
}
#define EXPECT_ENDED_BY_APP(c, alert) expect_ended_by_app_at(__LINE__, (c), (alert))

/* ---- ferrule_conn_send_alert ---------------------------------------------------------- */

TEST(send_alert_after_handshake_client_to_server) {
    pair p;
    ferrule_config *cc, *sc;
    REQUIRE(connected(&p, &cc, &sc));
    CHECK_EQ(ferrule_conn_send_alert(p.client, FERRULE_ALERT_ACCESS_DENIED), FERRULE_OK);
    EXPECT_ONE_PROTECTED_ALERT(p.client, p.server, FERRULE_ALERT_ACCESS_DENIED);
    EXPECT_ENDED_BY_APP(p.client, FERRULE_ALERT_ACCESS_DENIED);
    done(&p, cc, sc);
}

TEST(send_alert_after_handshake_server_to_client) {
    pair p;
    ferrule_config *cc, *sc;
    REQUIRE(connected(&p, &cc, &sc));
    /* Data already exchanged does not matter: the alert is the next record. */
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write(p.server, (const uint8_t *)"hi", 2, &n), FERRULE_OK);
    pair_move(p.server, p.client);
    uint8_t buf[8];
    CHECK_EQ(ferrule_conn_read(p.client, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(ferrule_conn_send_alert(p.server, FERRULE_ALERT_DECOMPRESSION_FAILURE), FERRULE_OK);
    EXPECT_ONE_PROTECTED_ALERT(p.server, p.client, FERRULE_ALERT_DECOMPRESSION_FAILURE);
    EXPECT_ENDED_BY_APP(p.server, FERRULE_ALERT_DECOMPRESSION_FAILURE);
    done(&p, cc, sc);
}

TEST(send_alert_close_notify_and_null_are_usage) {
    CHECK_EQ(ferrule_conn_send_alert(NULL, FERRULE_ALERT_ACCESS_DENIED), FERRULE_USAGE);
    pair p;
    ferrule_config *cc, *sc;
    REQUIRE(connected(&p, &cc, &sc));
    CHECK_EQ(ferrule_conn_send_alert(p.client, FERRULE_ALERT_CLOSE_NOTIFY), FERRULE_USAGE);
    /* A usage error: nothing queued, the connection goes on. */
    CHECK_EQ(ferrule_conn_pending_output(p.client), 0);
    CHECK_EQ(ferrule_conn_status(p.client), FERRULE_OK);
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write(p.client, (const uint8_t *)"still", 5, &n), FERRULE_OK);
    pair_move(p.client, p.server);
    uint8_t buf[8];
    CHECK_EQ(ferrule_conn_read(p.server, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK_EQ(n, 5);
    done(&p, cc, sc);
}

TEST(send_alert_after_a_failure_returns_it) {
    /* The server fails first (a record it cannot open: bad_record_mac),
     * then the application asks for another alert: the earlier failure's
     * status, and no second alert. */
    pair p;
    ferrule_config *cc, *sc;
    REQUIRE(connected(&p, &cc, &sc));
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write(p.client, (const uint8_t *)"data", 4, &n), FERRULE_OK);
    uint8_t rec[128];
    REQUIRE(ferrule_conn_take(p.client, rec, sizeof(rec), &n) == FERRULE_OK && n > 5 + 16);
    rec[n - 1] ^= 1; /* the tag */
    size_t k = 0;
    CHECK_EQ(ferrule_conn_feed(p.server, rec, n, &k), FERRULE_OK);
    uint8_t buf[8];
    int st = ferrule_conn_read(p.server, buf, sizeof(buf), &n);
    CHECK(st != FERRULE_OK && st != FERRULE_WANT_READ && st != FERRULE_POLICY);
    CHECK_EQ(ferrule_conn_alert(p.server), FERRULE_ALERT_BAD_RECORD_MAC);
    uint32_t reason = ferrule_conn_reason(p.server);
    size_t pending = ferrule_conn_pending_output(p.server);
    CHECK(pending > 0); /* its bad_record_mac alert */
    CHECK_EQ(ferrule_conn_send_alert(p.server, FERRULE_ALERT_ACCESS_DENIED), st);
    CHECK_EQ(ferrule_conn_status(p.server), st);
    CHECK_EQ(ferrule_conn_reason(p.server), reason);
    CHECK_EQ(ferrule_conn_alert(p.server), FERRULE_ALERT_BAD_RECORD_MAC);
    CHECK_EQ(ferrule_conn_pending_output(p.server), pending);
    /* The client receives only the first alert. */
    EXPECT_ONE_PROTECTED_ALERT(p.server, p.client, FERRULE_ALERT_BAD_RECORD_MAC);
    done(&p, cc, sc);
}

TEST(send_alert_twice_sends_one) {
    /* A second call after the connection ended by the first queues
     * nothing, changes nothing and returns the failure (FERRULE_POLICY). */
    pair p;
    ferrule_config *cc, *sc;
    REQUIRE(connected(&p, &cc, &sc));
    CHECK_EQ(ferrule_conn_send_alert(p.server, FERRULE_ALERT_ACCESS_DENIED), FERRULE_OK);
    size_t pending = ferrule_conn_pending_output(p.server);
    CHECK_EQ(ferrule_conn_send_alert(p.server, FERRULE_ALERT_DECOMPRESSION_FAILURE), FERRULE_POLICY);
    CHECK_EQ(ferrule_conn_pending_output(p.server), pending);
    CHECK_EQ(ferrule_conn_status(p.server), FERRULE_POLICY);
    CHECK_EQ(ferrule_conn_reason(p.server), FERRULE_R_APP_ALERT);
    CHECK_EQ(ferrule_conn_alert(p.server), FERRULE_ALERT_ACCESS_DENIED);
    EXPECT_ONE_PROTECTED_ALERT(p.server, p.client, FERRULE_ALERT_ACCESS_DENIED);
    EXPECT_ENDED_BY_APP(p.server, FERRULE_ALERT_ACCESS_DENIED);
    done(&p, cc, sc);
}

TEST(send_alert_before_keys_is_plaintext) {
    /* The client has sent its ClientHello and not yet read the ServerHello:
     * no keys, so the alert goes in the clear (15 03 03 00 02 02 desc), and
     * the server, waiting for the client's Finished after its own flight,
     * still reports it (RFC 8446 §6.2: it may come before handshake keys). */
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    pair p;
    REQUIRE(cc != NULL && sc != NULL && pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
    CHECK(pair_move(p.client, p.server) > 0);
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_READ);
    CHECK(ferrule_conn_pending_output(p.server) > 0); /* its flight, not delivered */
    CHECK_EQ(ferrule_conn_send_alert(p.client, FERRULE_ALERT_ACCESS_DENIED), FERRULE_OK);
    uint8_t buf[64];
    size_t n = 0;
    CHECK_EQ(ferrule_conn_take(p.client, buf, sizeof(buf), &n), FERRULE_OK);
    /* No compatibility CCS either: the client has not sent anything since
     * its ClientHello and has processed no ServerHello. */
    const uint8_t want[7] = {21, 3, 3, 0, 2, 2, FERRULE_ALERT_ACCESS_DENIED};
    CHECK_EQ(n, sizeof(want));
    CHECK(n == sizeof(want) && memcmp(buf, want, sizeof(want)) == 0);
    CHECK(n < sizeof(COMPAT_CCS) || memcmp(buf, COMPAT_CCS, sizeof(COMPAT_CCS)) != 0);
    EXPECT_ENDED_BY_APP(p.client, FERRULE_ALERT_ACCESS_DENIED);
    CHECK_EQ(ferrule_conn_handshake_state(p.client), FERRULE_HS_FAILED);
    size_t k = 0;
    CHECK_EQ(ferrule_conn_feed(p.server, buf, n, &k), FERRULE_OK);
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_ALERT_RECEIVED);
    CHECK_EQ(ferrule_conn_reason(p.server), FERRULE_R_PEER_ALERT);
    CHECK_EQ(ferrule_conn_alert(p.server), FERRULE_ALERT_ACCESS_DENIED);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* ---- ferrule_session_max_early_data ----------------------------------------------- */

static ferrule_config *server_with_early(int early, uint32_t max) {
    ferrule_config *c = pair_server_config("ecdsa-p256");
    if (c == NULL || !early) return c;
    ferrule_early_data_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = (uint32_t)sizeof(o);
    o.max_early_data_size = max;
    if (ferrule_config_set_early_data(c, &o) != FERRULE_OK) {
        ferrule_config_free(c);
        return NULL;
    }
    return c;
}

/* A full handshake with `sc`; the client's session blob in out. */
static size_t session_from(ferrule_config *sc, uint8_t *out, size_t cap) {
    ferrule_config *cc = pair_client_config();
    size_t len = 0;
    if (cc != NULL && ferrule_config_set_early_data(cc, NULL) == FERRULE_OK)
        len = pair_session(cc, sc, out, cap);
    ferrule_config_free(cc);
    return len;
}

static uint8_t blob[8192];

TEST(session_max_early_data_reports_the_ticket) {
    /* Default (max_early_data_size 0 in the options: 16384), a configured
     * value, and a server without 0-RTT (0). */
    const struct {
        int early;
        uint32_t configured, want;
    } cases[] = {{1, 0, 16384}, {1, 1000, 1000}, {1, 70000, 70000}, {0, 0, 0}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ferrule_config *sc = server_with_early(cases[i].early, cases[i].configured);
        REQUIRE(sc != NULL);
        size_t len = session_from(sc, blob, sizeof(blob));
        CHECK(len > 0);
        uint32_t max = 12345;
        CHECK_EQ(ferrule_session_max_early_data(blob, len, &max), FERRULE_OK);
        if (max != cases[i].want)
            fprintf(stderr, "  case %zu: max %u, want %u\n", i, max, cases[i].want);
        CHECK_EQ(max, cases[i].want);
        ferrule_config_free(sc);
    }
}

TEST(session_max_early_data_refuses_what_is_not_a_session) {
    ferrule_config *sc = server_with_early(1, 0);
    REQUIRE(sc != NULL);
    size_t len = session_from(sc, blob, sizeof(blob));
    REQUIRE(len > 8);
    uint32_t max = 1;
    CHECK_EQ(ferrule_session_max_early_data(blob, len, &max), FERRULE_OK);
    CHECK_EQ(max, 16384);
    /* Every truncation. */
    for (size_t cut = 0; cut < len; cut++) {
        max = 7;
        int st = ferrule_session_max_early_data(blob, cut, &max);
        if (st != FERRULE_USAGE || max != 0) {
            fprintf(stderr, "  truncated to %zu of %zu: %s, max %u\n", cut, len,
                    ferrule_status_name(st), max);
            tl_failures_in_test++;
            break;
        }
    }
    tl_checks++;
    /* Garbage of the same length, and a trailing byte. */
    uint8_t junk[8192];
    for (size_t i = 0; i < len; i++) junk[i] = (uint8_t)(0xa5 ^ (i * 37));
    max = 7;
    CHECK_EQ(ferrule_session_max_early_data(junk, len, &max), FERRULE_USAGE);
    CHECK_EQ(max, 0);
    memcpy(junk, blob, len);
    junk[len] = 0;
    max = 7;
    CHECK_EQ(ferrule_session_max_early_data(junk, len + 1, &max), FERRULE_USAGE);
    CHECK_EQ(max, 0);
    /* NULL blob or NULL max. */
    max = 7;
    CHECK_EQ(ferrule_session_max_early_data(NULL, len, &max), FERRULE_USAGE);
    CHECK_EQ(max, 0);
    CHECK_EQ(ferrule_session_max_early_data(blob, len, NULL), FERRULE_USAGE);
    ferrule_config_free(sc);
}

TEST_MAIN("app_alert", TL_CASE(send_alert_after_handshake_client_to_server),
          TL_CASE(send_alert_after_handshake_server_to_client),
          TL_CASE(send_alert_close_notify_and_null_are_usage),
          TL_CASE(send_alert_after_a_failure_returns_it), TL_CASE(send_alert_twice_sends_one),
          TL_CASE(send_alert_before_keys_is_plaintext),
          TL_CASE(session_max_early_data_reports_the_ticket),
          TL_CASE(session_max_early_data_refuses_what_is_not_a_session))
