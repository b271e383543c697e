/* test_key_update.c - KeyUpdate (RFC 8446 §4.6.3): the application API,
 * answering update_requested exactly once, crossing updates, the automatic
 * update before the AEAD limits (§5.5), the flood bound, and misuse. */
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "support_pair.h"
#include "testlib.h"

/* A connected in-memory pair; the client config may be customised. */
static int connect_with(pair *p, ferrule_config *cc) {
    ferrule_config *sc = pair_server_config("ecdsa-p256");
    if (cc == NULL) cc = pair_client_config();
    int ok = cc != NULL && sc != NULL && pair_new(p, cc, sc, NULL);
    int cs = -1, ss = -1;
    ok = ok && pair_handshake(p, &cs, &ss);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    if (!ok) fprintf(stderr, "  handshake failed: client %d server %d\n", cs, ss);
    return ok;
}
static int connect_pair(pair *p) { return connect_with(p, NULL); }

/* Write `msg` on `from`, deliver, and read it back on `to`. */
static int xfer(ferrule_conn *from, ferrule_conn *to, const char *msg) {
    size_t len = strlen(msg), n = 0;
    if (ferrule_conn_write(from, (const uint8_t *)msg, len, &n) != FERRULE_OK || n != len) {
        fprintf(stderr, "  write of \"%s\" failed\n", msg);
        return 0;
    }
    pair_move(from, to);
    uint8_t buf[256];
    int st = ferrule_conn_read(to, buf, sizeof(buf), &n);
    if (st != FERRULE_OK || n != len || memcmp(buf, msg, len) != 0) {
        fprintf(stderr, "  read of \"%s\" failed: status %d reason %s\n", msg, st,
                ferrule_reason_name(ferrule_conn_reason(to)));
        return 0;
    }
    return 1;
}

/* Deliver what `from` has queued and let `to` process it (no data). */
static int deliver(ferrule_conn *from, ferrule_conn *to) {
    pair_move(from, to);
    uint8_t buf[64];
    size_t n = 0;
    return ferrule_conn_read(to, buf, sizeof(buf), &n);
}

TEST(explicit_update_without_request) {
    pair p;
    CHECK(connect_pair(&p));
    CHECK(xfer(p.client, p.server, "before"));
    CHECK_EQ(ferrule_conn_key_update(p.client, 0), FERRULE_OK);
    CHECK_EQ(ferrule_conn_key_updates_sent(p.client), 1);
    CHECK(ferrule_conn_pending_output(p.client) > 0);
    CHECK(xfer(p.client, p.server, "after"));
    CHECK_EQ(ferrule_conn_key_updates_received(p.server), 1);
    /* update_not_requested: nothing owed. */
    CHECK_EQ(ferrule_conn_key_updates_sent(p.server), 0);
    CHECK_EQ(ferrule_conn_pending_output(p.server), 0);
    CHECK(xfer(p.server, p.client, "reply"));
    CHECK(xfer(p.client, p.server, "again"));
    CHECK_EQ(ferrule_conn_key_updates_received(p.client), 0);
    /* The server's side too. */
    CHECK_EQ(ferrule_conn_key_update(p.server, 0), FERRULE_OK);
    CHECK(xfer(p.server, p.client, "server updated"));
    CHECK_EQ(ferrule_conn_key_updates_received(p.client), 1);
    CHECK(xfer(p.client, p.server, "still fine"));
    pair_free(&p);
}

TEST(request_is_answered_exactly_once) {
    pair p;
    CHECK(connect_pair(&p));
    CHECK_EQ(ferrule_conn_key_update(p.client, 1), FERRULE_OK);
    CHECK(xfer(p.client, p.server, "please update"));
    CHECK_EQ(ferrule_conn_key_updates_received(p.server), 1);
    CHECK_EQ(ferrule_conn_key_updates_sent(p.server), 1); /* the answer */
    CHECK(xfer(p.server, p.client, "answered"));
    CHECK_EQ(ferrule_conn_key_updates_received(p.client), 1);
    /* The answer requested nothing: the client does not answer it. */
    CHECK_EQ(ferrule_conn_key_updates_sent(p.client), 1);
    CHECK_EQ(ferrule_conn_pending_output(p.client), 0);
    for (int i = 0; i < 3; i++) {
        CHECK(xfer(p.client, p.server, "ping"));
        CHECK(xfer(p.server, p.client, "pong"));
    }
    CHECK_EQ(ferrule_conn_key_updates_sent(p.server), 1);
    CHECK_EQ(ferrule_conn_key_updates_received(p.server), 1);
    CHECK_EQ(ferrule_conn_key_updates_sent(p.client), 1);
    CHECK_EQ(ferrule_conn_key_updates_received(p.client), 1);
    CHECK_EQ(atomic_load(&p.client->ku.requested), 0);
    pair_free(&p);
}

TEST(answer_precedes_application_data) {
    /* The server got a request and writes at once: the answer must be on
     * the wire before the data, so the client reads the data only if it
     * switched keys first (otherwise bad_record_mac). */
    pair p;
    CHECK(connect_pair(&p));
    CHECK_EQ(ferrule_conn_key_update(p.client, 1), FERRULE_OK);
    CHECK_EQ(deliver(p.client, p.server), FERRULE_WANT_READ);
    size_t n;
    CHECK_EQ(ferrule_conn_write(p.server, (const uint8_t *)"x", 1, &n), FERRULE_OK);
    pair_move(p.server, p.client);
    uint8_t buf[8];
    CHECK_EQ(ferrule_conn_read(p.client, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK(n == 1 && buf[0] == 'x');
    CHECK_EQ(ferrule_conn_key_updates_received(p.client), 1);
    pair_free(&p);
}

TEST(several_requests_one_answer) {
    /* RFC 8446 §4.6.3: a receiver of several update_requested KeyUpdates
     * "while it is silent" responds with a single update: three requests
     * in one flight get one answer, at the end of the pass over the input;
     * requests that arrive in separate passes get one each.  The answer
     * never requests in turn, so nothing loops. */
    pair p;
    CHECK(connect_pair(&p));
    for (int i = 0; i < 3; i++) CHECK_EQ(ferrule_conn_key_update(p.client, 1), FERRULE_OK);
    CHECK(xfer(p.client, p.server, "three"));
    CHECK_EQ(ferrule_conn_key_updates_received(p.server), 3);
    CHECK_EQ(ferrule_conn_key_updates_sent(p.server), 1);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(ferrule_conn_key_update(p.client, 1), FERRULE_OK);
        CHECK_EQ(deliver(p.client, p.server), FERRULE_WANT_READ);
    }
    CHECK_EQ(ferrule_conn_key_updates_received(p.server), 5);
    CHECK_EQ(ferrule_conn_key_updates_sent(p.server), 3);
    CHECK(xfer(p.server, p.client, "answers"));
    CHECK_EQ(ferrule_conn_key_updates_received(p.client), 3);
    CHECK_EQ(ferrule_conn_key_updates_sent(p.client), 5);
    CHECK_EQ(ferrule_conn_pending_output(p.client), 0);
    CHECK(xfer(p.client, p.server, "quiet"));
    CHECK(xfer(p.server, p.client, "still three"));
    CHECK_EQ(ferrule_conn_key_updates_sent(p.server), 3);
    pair_free(&p);
}

TEST(request_answered_while_waiting_for_more_data) {
    /* A request after part of an application message (tlsfuzzer's "app
     * data split"): the server has nothing to send until the rest comes,
     * and the peer waits for the answer before sending it.  The answer
     * goes at the end of the pass that read the request, not with our
     * next data, so the two do not wait for each other. */
    pair p;
    CHECK(connect_pair(&p));
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write(p.client, (const uint8_t *)"GET", 3, &n), FERRULE_OK);
    CHECK_EQ(ferrule_conn_key_update(p.client, 1), FERRULE_OK);
    pair_move(p.client, p.server);
    uint8_t buf[16];
    CHECK_EQ(ferrule_conn_read(p.server, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK(n == 3 && memcmp(buf, "GET", 3) == 0);
    CHECK_EQ(ferrule_conn_read(p.server, buf, sizeof(buf), &n), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_key_updates_sent(p.server), 1);
    CHECK(ferrule_conn_pending_output(p.server) > 0);
    CHECK_EQ(deliver(p.server, p.client), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_key_updates_received(p.client), 1);
    CHECK(xfer(p.client, p.server, " / HTTP/1.0"));
    CHECK(xfer(p.server, p.client, "reply"));
    pair_free(&p);
}

TEST(crossing_requests_each_answered_once) {
    pair p;
    CHECK(connect_pair(&p));
    CHECK_EQ(ferrule_conn_key_update(p.client, 1), FERRULE_OK);
    CHECK_EQ(ferrule_conn_key_update(p.server, 1), FERRULE_OK);
    /* Both requests are in flight at the same time. */
    pair_move(p.client, p.server);
    pair_move(p.server, p.client);
    uint8_t buf[16];
    size_t n;
    CHECK_EQ(ferrule_conn_read(p.client, buf, sizeof(buf), &n), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_read(p.server, buf, sizeof(buf), &n), FERRULE_WANT_READ);
    /* RFC 8446 §4.6.3: each received a request after sending its own, so
     * each owes (and sent) one update_not_requested answer. */
    CHECK_EQ(ferrule_conn_key_updates_sent(p.client), 2);
    CHECK_EQ(ferrule_conn_key_updates_sent(p.server), 2);
    CHECK(xfer(p.client, p.server, "c2s"));
    CHECK(xfer(p.server, p.client, "s2c"));
    CHECK_EQ(ferrule_conn_key_updates_received(p.client), 2);
    CHECK_EQ(ferrule_conn_key_updates_received(p.server), 2);
    /* No loop: more traffic, no more updates. */
    for (int i = 0; i < 3; i++) {
        CHECK(xfer(p.client, p.server, "ping"));
        CHECK(xfer(p.server, p.client, "pong"));
    }
    CHECK_EQ(ferrule_conn_key_updates_sent(p.client), 2);
    CHECK_EQ(ferrule_conn_key_updates_sent(p.server), 2);
    CHECK_EQ(ferrule_conn_pending_output(p.client), 0);
    CHECK_EQ(ferrule_conn_pending_output(p.server), 0);
    pair_free(&p);
}

TEST(request_answered_after_own_update_queued) {
    /* The client queued its own update (not yet delivered); then the
     * server's request arrives: our earlier update does not count as the
     * answer, one more KeyUpdate goes out before the client's next data. */
    pair p;
    CHECK(connect_pair(&p));
    CHECK_EQ(ferrule_conn_key_update(p.client, 0), FERRULE_OK);
    CHECK_EQ(ferrule_conn_key_update(p.server, 1), FERRULE_OK);
    CHECK_EQ(deliver(p.server, p.client), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_key_updates_sent(p.client), 2);
    CHECK(xfer(p.client, p.server, "both updates then data"));
    CHECK_EQ(ferrule_conn_key_updates_received(p.server), 2);
    CHECK_EQ(ferrule_conn_key_updates_sent(p.server), 1);
    CHECK(xfer(p.server, p.client, "fine"));
    pair_free(&p);
}

TEST(automatic_update_interval_10) {
    ferrule_config *cc = pair_client_config();
    CHECK(cc != NULL);
    CHECK_EQ(ferrule_config_set_key_update_interval(cc, 10), FERRULE_OK);
    pair p;
    CHECK(connect_with(&p, cc));
    for (int i = 0; i < 25; i++) {
        char msg[32];
        snprintf(msg, sizeof(msg), "record %d", i);
        CHECK(xfer(p.client, p.server, msg));
        /* Never more than 10 records under one key before the update. */
        CHECK(p.client->wr.seq <= 10);
    }
    /* 10 records, update, 10 records, update, 5 records. */
    CHECK_EQ(ferrule_conn_key_updates_sent(p.client), 2);
    CHECK_EQ(ferrule_conn_key_updates_received(p.server), 2);
    CHECK_EQ(p.client->wr.seq, 5);
    CHECK_EQ(ferrule_conn_key_updates_sent(p.server), 0); /* automatic ones request nothing */
    CHECK(xfer(p.server, p.client, "server unaffected"));
    pair_free(&p);
}

TEST(automatic_update_large_write) {
    /* One write of many records: the update happens between records of
     * the same write, and the data arrives intact. */
    ferrule_config *cc = pair_client_config();
    CHECK(cc != NULL);
    CHECK_EQ(ferrule_config_set_key_update_interval(cc, 2), FERRULE_OK);
    pair p;
    CHECK(connect_with(&p, cc));
    static uint8_t big[5 * 16384], got[5 * 16384];
    for (size_t i = 0; i < sizeof(big); i++) big[i] = (uint8_t)(i * 7 + 3);
    size_t sent = 0, recvd = 0;
    for (int round = 0; round < 64 && recvd < sizeof(big); round++) {
        size_t n = 0;
        if (sent < sizeof(big)) {
            int st = ferrule_conn_write(p.client, big + sent, sizeof(big) - sent, &n);
            CHECK(st == FERRULE_OK || st == FERRULE_WANT_WRITE);
            sent += n;
        }
        pair_move(p.client, p.server);
        while (recvd < sizeof(got)) {
            int st = ferrule_conn_read(p.server, got + recvd, sizeof(got) - recvd, &n);
            if (st != FERRULE_OK) {
                CHECK_EQ(st, FERRULE_WANT_READ);
                if (st != FERRULE_WANT_READ)
                    fprintf(stderr, "  reason %s (round %d)\n",
                            ferrule_reason_name(ferrule_conn_reason(p.server)), round);
                break;
            }
            recvd += n;
        }
    }
    CHECK_EQ(recvd, sizeof(big));
    CHECK(memcmp(big, got, sizeof(big)) == 0);
    /* 5 records at 2 per key: updates before records 3 and 5. */
    CHECK_EQ(ferrule_conn_key_updates_sent(p.client), 2);
    CHECK_EQ(ferrule_conn_key_updates_received(p.server), 2);
    pair_free(&p);
}

TEST(automatic_update_interval_1) {
    ferrule_config *cc = pair_client_config();
    CHECK(cc != NULL);
    CHECK_EQ(ferrule_config_set_key_update_interval(cc, 1), FERRULE_OK);
    pair p;
    CHECK(connect_with(&p, cc));
    for (int i = 0; i < 5; i++) CHECK(xfer(p.client, p.server, "one per key"));
    CHECK_EQ(ferrule_conn_key_updates_sent(p.client), 4);
    CHECK_EQ(ferrule_conn_key_updates_received(p.server), 4);
    pair_free(&p);
}

TEST(default_interval_no_update) {
    pair p;
    CHECK(connect_pair(&p));
    CHECK_EQ(fr_ku_interval(&p.client->cfg->ku), FR_KU_DEFAULT_INTERVAL);
    for (int i = 0; i < 40; i++) CHECK(xfer(p.client, p.server, "plenty of room"));
    CHECK_EQ(ferrule_conn_key_updates_sent(p.client), 0);
    /* Just below the default limit: no update; at the limit: one. */
    p.client->wr.seq = FR_KU_DEFAULT_INTERVAL - 1;
    CHECK_EQ(fr_ku_before_app_record(p.client), FR_OK);
    CHECK_EQ(ferrule_conn_key_updates_sent(p.client), 0);
    p.client->wr.seq = FR_KU_DEFAULT_INTERVAL;
    CHECK_EQ(fr_ku_before_app_record(p.client), FR_OK);
    CHECK_EQ(ferrule_conn_key_updates_sent(p.client), 1);
    CHECK_EQ(p.client->wr.seq, 0);
    pair_free(&p);
}

/* `n` unsolicited KeyUpdates from the server (internal sender). */
static int server_sends_updates(pair *p, int n) {
    for (int i = 0; i < n; i++)
        if (fr_send_key_update(p->server, 0) != FR_OK) return 0;
    return 1;
}

TEST(flood_of_33_is_cut_off) {
    pair p;
    CHECK(connect_pair(&p));
    CHECK(server_sends_updates(&p, (int)FR_KU_MAX_CONSECUTIVE + 1));
    pair_move(p.server, p.client);
    uint8_t buf[16];
    size_t n;
    int st = ferrule_conn_read(p.client, buf, sizeof(buf), &n);
    CHECK_EQ(st, FERRULE_ALERT_SENT);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_TOO_MANY_KEY_UPDATES);
    CHECK_EQ(ferrule_conn_alert(p.client), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    CHECK_EQ(ferrule_conn_key_updates_received(p.client), FR_KU_MAX_CONSECUTIVE);
    /* The connection is dead: an update is refused with its status. */
    CHECK_EQ(ferrule_conn_key_update(p.client, 0), FERRULE_ALERT_SENT);
    pair_free(&p);
}

TEST(flood_bound_resets_on_application_data) {
    pair p;
    CHECK(connect_pair(&p));
    for (int round = 0; round < 3; round++) {
        CHECK(server_sends_updates(&p, (int)FR_KU_MAX_CONSECUTIVE));
        CHECK(xfer(p.server, p.client, "data between bursts"));
    }
    CHECK_EQ(ferrule_conn_status(p.client), FERRULE_OK);
    CHECK_EQ(ferrule_conn_key_updates_received(p.client), 3 * FR_KU_MAX_CONSECUTIVE);
    CHECK(xfer(p.client, p.server, "client fine"));
    /* The count survives across reads: 32 now, one more later. */
    CHECK(server_sends_updates(&p, (int)FR_KU_MAX_CONSECUTIVE));
    pair_move(p.server, p.client);
    uint8_t buf[16];
    size_t n;
    CHECK_EQ(ferrule_conn_read(p.client, buf, sizeof(buf), &n), FERRULE_WANT_READ);
    CHECK(server_sends_updates(&p, 1));
    pair_move(p.server, p.client);
    CHECK_EQ(ferrule_conn_read(p.client, buf, sizeof(buf), &n), FERRULE_ALERT_SENT);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_TOO_MANY_KEY_UPDATES);
    pair_free(&p);
}

TEST(flood_bound_spares_answers_to_our_requests) {
    /* The client asked 40 times (the requests are dropped here so the
     * server cannot cut the client off); 40 answers plus 32 unsolicited
     * updates are accepted, the 33rd unsolicited one is not. */
    pair p;
    CHECK(connect_pair(&p));
    for (int i = 0; i < 40; i++) CHECK_EQ(ferrule_conn_key_update(p.client, 1), FERRULE_OK);
    uint8_t sink[4096];
    size_t n;
    CHECK_EQ(ferrule_conn_take(p.client, sink, sizeof(sink), &n), FERRULE_OK);
    CHECK_EQ(ferrule_conn_pending_output(p.client), 0);
    CHECK_EQ(atomic_load(&p.client->ku.requested), 40);
    CHECK(server_sends_updates(&p, 40 + (int)FR_KU_MAX_CONSECUTIVE));
    CHECK(xfer(p.server, p.client, "accepted"));
    CHECK_EQ(ferrule_conn_key_updates_received(p.client), 40 + FR_KU_MAX_CONSECUTIVE);
    CHECK_EQ(atomic_load(&p.client->ku.requested), 0);
    CHECK(server_sends_updates(&p, (int)FR_KU_MAX_CONSECUTIVE + 1));
    pair_move(p.server, p.client);
    uint8_t buf[16];
    CHECK_EQ(ferrule_conn_read(p.client, buf, sizeof(buf), &n), FERRULE_ALERT_SENT);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_TOO_MANY_KEY_UPDATES);
    pair_free(&p);
}

TEST(update_after_close_is_usage) {
    pair p;
    CHECK(connect_pair(&p));
    CHECK_EQ(ferrule_conn_close(p.client), FERRULE_OK);
    CHECK_EQ(ferrule_conn_key_update(p.client, 0), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_WRONG_STATE);
    CHECK_EQ(ferrule_conn_key_update(p.client, 1), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_key_updates_sent(p.client), 0);
    /* The peer may still update after it received our close_notify. */
    pair_move(p.client, p.server);
    uint8_t buf[16];
    size_t n;
    CHECK_EQ(ferrule_conn_read(p.server, buf, sizeof(buf), &n), FERRULE_CLOSED);
    CHECK_EQ(ferrule_conn_key_update(p.server, 0), FERRULE_OK);
    pair_free(&p);
}

TEST(update_before_handshake_is_usage) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    pair p;
    CHECK(cc != NULL && sc != NULL && pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_key_update(p.client, 0), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_WRONG_STATE);
    CHECK_EQ(ferrule_conn_key_update(p.server, 1), FERRULE_USAGE);
    /* Mid-handshake too. */
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_key_update(p.client, 0), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_WRONG_STATE);
    CHECK_EQ(ferrule_conn_key_updates_sent(p.client), 0);
    CHECK_EQ(ferrule_conn_key_update(NULL, 0), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_key_updates_sent(NULL), 0);
    CHECK_EQ(ferrule_conn_key_updates_received(NULL), 0);
    /* The refused calls left the handshake intact. */
    int cs, ss;
    CHECK(pair_handshake(&p, &cs, &ss));
    CHECK(xfer(p.client, p.server, "ok"));
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(interval_setter) {
    ferrule_config *cc = pair_client_config();
    CHECK(cc != NULL);
    CHECK_EQ(ferrule_config_set_key_update_interval(cc, 0), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cc), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(ferrule_config_set_key_update_interval(cc, FR_KU_DEFAULT_INTERVAL + 1),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cc), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(ferrule_config_set_key_update_interval(cc, UINT64_MAX), FERRULE_USAGE);
    CHECK_EQ(cc->ku.interval, 0); /* refused values change nothing */
    CHECK_EQ(ferrule_config_set_key_update_interval(cc, FR_KU_DEFAULT_INTERVAL), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_key_update_interval(cc, 1), FERRULE_OK);
    CHECK_EQ(ferrule_config_reason(cc), 0);
    CHECK_EQ(fr_ku_interval(&cc->ku), 1);
    CHECK_EQ(ferrule_config_set_key_update_interval(NULL, 5), FERRULE_USAGE);
    /* Frozen once a connection uses it. */
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, cc, NULL), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_key_update_interval(cc, 100), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cc), FERRULE_R_CONFIG_FROZEN);
    CHECK_EQ(fr_ku_interval(&cc->ku), 1);
    ferrule_conn_free(c);
    ferrule_config_free(cc);
}

TEST(bad_key_update_value_still_rejected) {
    /* Only 0 and 1 exist (RFC 8446 §4.6.3): a crafted 2 fails before any
     * counter or key changes. */
    pair p;
    CHECK(connect_pair(&p));
    static const uint8_t ku[5] = {FR_HS_KEY_UPDATE, 0, 0, 1, 2};
    CHECK_EQ(fr_conn_send_post_handshake(p.server, ku, sizeof(ku)), FR_OK);
    pair_move(p.server, p.client);
    uint8_t buf[16];
    size_t n;
    CHECK_EQ(ferrule_conn_read(p.client, buf, sizeof(buf), &n), FERRULE_ALERT_SENT);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_BAD_KEY_UPDATE);
    CHECK_EQ(ferrule_conn_alert(p.client), FERRULE_ALERT_ILLEGAL_PARAMETER);
    CHECK_EQ(ferrule_conn_key_updates_received(p.client), 0);
    pair_free(&p);
}

TEST_MAIN("key_update", TL_CASE(explicit_update_without_request),
          TL_CASE(request_is_answered_exactly_once), TL_CASE(answer_precedes_application_data),
          TL_CASE(several_requests_one_answer), TL_CASE(request_answered_while_waiting_for_more_data), TL_CASE(crossing_requests_each_answered_once),
          TL_CASE(request_answered_after_own_update_queued), TL_CASE(automatic_update_interval_10),
          TL_CASE(automatic_update_large_write), TL_CASE(automatic_update_interval_1),
          TL_CASE(default_interval_no_update), TL_CASE(flood_of_33_is_cut_off),
          TL_CASE(flood_bound_resets_on_application_data),
          TL_CASE(flood_bound_spares_answers_to_our_requests), TL_CASE(update_after_close_is_usage),
          TL_CASE(update_before_handshake_is_usage), TL_CASE(interval_setter),
          TL_CASE(bad_key_update_value_still_rejected))
