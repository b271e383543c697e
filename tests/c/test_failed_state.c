/* test_failed_state.c - ferrule_conn_failed_state: after a fatal error, the
 * handshake state the connection failed in (which message the error is
 * about), while ferrule_conn_handshake_state says FERRULE_HS_FAILED. */
#include <string.h>

#include "support_pair.h"
#include "testlib.h"

TEST(before_any_failure_it_is_the_current_state) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    CHECK(cc != NULL && sc != NULL);
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_failed_state(p.client), FERRULE_HS_START);
    CHECK_EQ(ferrule_conn_failed_state(p.server), FERRULE_HS_WAIT_CLIENT_HELLO);
    CHECK(pair_handshake(&p, NULL, NULL));
    CHECK_EQ(ferrule_conn_failed_state(p.client), FERRULE_HS_CONNECTED);
    CHECK_EQ(ferrule_conn_failed_state(p.server), FERRULE_HS_CONNECTED);
    CHECK_EQ(ferrule_conn_failed_state(NULL), FERRULE_HS_FAILED);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(a_refused_client_hello_fails_in_wait_client_hello) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    CHECK(cc != NULL && sc != NULL);
    const uint16_t x = FERRULE_GROUP_X25519, p384 = FERRULE_GROUP_SECP384R1;
    CHECK_EQ(ferrule_config_set_groups(cc, &x, 1), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_groups(sc, &p384, 1), FERRULE_OK);
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
    pair_move(p.client, p.server);
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_POLICY);
    CHECK_EQ(ferrule_conn_handshake_state(p.server), FERRULE_HS_FAILED);
    CHECK_EQ(ferrule_conn_failed_state(p.server), FERRULE_HS_WAIT_CLIENT_HELLO);
    /* The client learns of it from the alert, waiting for the ServerHello. */
    pair_move(p.server, p.client);
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_ALERT_RECEIVED);
    CHECK_EQ(ferrule_conn_failed_state(p.client), FERRULE_HS_WAIT_SERVER_HELLO);
    /* Later calls do not move it. */
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_ALERT_RECEIVED);
    CHECK_EQ(ferrule_conn_failed_state(p.client), FERRULE_HS_WAIT_SERVER_HELLO);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(a_failure_after_the_handshake_fails_in_connected) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    CHECK(cc != NULL && sc != NULL);
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    CHECK(pair_handshake(&p, NULL, NULL));
    /* Corrupt the server's next record on its way: bad_record_mac. */
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write(p.server, (const uint8_t *)"data", 4, &n), FERRULE_OK);
    uint8_t rec[128];
    size_t len = 0;
    CHECK_EQ(ferrule_conn_take(p.server, rec, sizeof(rec), &len), FERRULE_OK);
    CHECK(len > 6);
    rec[len - 1] ^= 1;
    size_t used = 0;
    CHECK_EQ(ferrule_conn_feed(p.client, rec, len, &used), FERRULE_OK);
    uint8_t buf[16];
    size_t got = 0;
    CHECK_EQ(ferrule_conn_read(p.client, buf, sizeof(buf), &got), FERRULE_DECODE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_BAD_RECORD_MAC);
    CHECK_EQ(ferrule_conn_failed_state(p.client), FERRULE_HS_CONNECTED);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST_MAIN("failed_state", TL_CASE(before_any_failure_it_is_the_current_state),
          TL_CASE(a_refused_client_hello_fails_in_wait_client_hello),
          TL_CASE(a_failure_after_the_handshake_fails_in_connected))
