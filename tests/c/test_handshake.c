/* test_handshake.c - whole handshakes in memory, client object against
 * server object, through the public ABI in buffer-I/O mode. */
#include <string.h>

#include "support_pair.h"
#include "testlib.h"

static const uint16_t SUITES[] = {FERRULE_TLS_AES_128_GCM_SHA256, FERRULE_TLS_AES_256_GCM_SHA384,
                                  FERRULE_TLS_CHACHA20_POLY1305_SHA256};
static const uint16_t GROUPS[] = {FERRULE_GROUP_X25519, FERRULE_GROUP_SECP256R1,
                                  FERRULE_GROUP_SECP384R1};

/* Send `msg` from a to b and check it arrives intact. */
static void exchange(ferrule_conn *a, ferrule_conn *b, const char *msg) {
    size_t n = 0, len = strlen(msg);
    CHECK_EQ(ferrule_conn_write(a, (const uint8_t *)msg, len, &n), FERRULE_OK);
    CHECK_EQ(n, len);
    pair_move(a, b);
    uint8_t buf[256];
    size_t got = 0;
    CHECK_EQ(ferrule_conn_read(b, buf, sizeof(buf), &got), FERRULE_OK);
    CHECK_EQ(got, len);
    CHECK_MEM(buf, msg, len);
}

static void close_both(pair *p) {
    uint8_t buf[16];
    size_t n;
    CHECK_EQ(ferrule_conn_close(p->client), FERRULE_OK);
    pair_move(p->client, p->server);
    CHECK_EQ(ferrule_conn_read(p->server, buf, sizeof(buf), &n), FERRULE_CLOSED);
    CHECK_EQ(ferrule_conn_close(p->server), FERRULE_OK);
    pair_move(p->server, p->client);
    CHECK_EQ(ferrule_conn_read(p->client, buf, sizeof(buf), &n), FERRULE_CLOSED);
}

TEST(every_suite_and_group) {
    for (size_t s = 0; s < 3; s++) {
        for (size_t g = 0; g < 3; g++) {
            ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
            CHECK(cc != NULL && sc != NULL);
            if (cc == NULL || sc == NULL) return;
            CHECK_EQ(ferrule_config_set_cipher_suites(cc, &SUITES[s], 1), FERRULE_OK);
            CHECK_EQ(ferrule_config_set_groups(cc, &GROUPS[g], 1), FERRULE_OK);
            pair p;
            CHECK(pair_new(&p, cc, sc, NULL));
            int cs, ss;
            CHECK(pair_handshake(&p, &cs, &ss));
            CHECK_EQ(cs, FERRULE_OK);
            CHECK_EQ(ss, FERRULE_OK);
            CHECK_EQ(ferrule_conn_version(p.client), FERRULE_TLS13);
            CHECK_EQ(ferrule_conn_cipher_suite(p.client), SUITES[s]);
            CHECK_EQ(ferrule_conn_cipher_suite(p.server), SUITES[s]);
            CHECK_EQ(ferrule_conn_group(p.client), GROUPS[g]);
            CHECK_EQ(ferrule_conn_group(p.server), GROUPS[g]);
            CHECK_EQ(ferrule_conn_peer_signature_scheme(p.client),
                     FERRULE_SIG_ECDSA_SECP256R1_SHA256);
            CHECK_EQ(ferrule_conn_handshake_state(p.client), FERRULE_HS_CONNECTED);
            exchange(p.client, p.server, "hello from the client");
            exchange(p.server, p.client, "hello from the server");
            close_both(&p);
            pair_free(&p);
            ferrule_config_free(cc);
            ferrule_config_free(sc);
        }
    }
}

TEST(every_certificate_kind) {
    static const struct {
        const char *kind;
        uint16_t scheme;
    } K[] = {{"ecdsa-p256", FERRULE_SIG_ECDSA_SECP256R1_SHA256},
             {"ecdsa-p384", FERRULE_SIG_ECDSA_SECP384R1_SHA384},
             {"rsa", FERRULE_SIG_RSA_PSS_RSAE_SHA256},
             {"rsa-pss", FERRULE_SIG_RSA_PSS_PSS_SHA256},
             {"ed25519", FERRULE_SIG_ED25519}};
    for (size_t i = 0; i < sizeof(K) / sizeof(K[0]); i++) {
        ferrule_config *cc = pair_client_config(), *sc = pair_server_config(K[i].kind);
        CHECK(cc != NULL && sc != NULL);
        if (cc == NULL || sc == NULL) return;
        pair p;
        CHECK(pair_new(&p, cc, sc, NULL));
        int cs, ss;
        CHECK(pair_handshake(&p, &cs, &ss));
        if (cs != FERRULE_OK) fprintf(stderr, "  kind %s: %s\n", K[i].kind,
                                      ferrule_conn_error_message(p.client));
        CHECK_EQ(ferrule_conn_peer_signature_scheme(p.client), K[i].scheme);
        CHECK_EQ(ferrule_conn_signature_scheme(p.server), K[i].scheme);
        CHECK_EQ(ferrule_conn_peer_cert_count(p.client), 2);
        exchange(p.client, p.server, "ping");
        pair_free(&p);
        ferrule_config_free(cc);
        ferrule_config_free(sc);
    }
}

TEST(alpn_and_sni) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;
    CHECK_EQ(ferrule_config_add_alpn(cc, (const uint8_t *)"h2", 2), FERRULE_OK);
    CHECK_EQ(ferrule_config_add_alpn(cc, (const uint8_t *)"http/1.1", 8), FERRULE_OK);
    CHECK_EQ(ferrule_config_add_alpn(sc, (const uint8_t *)"http/1.1", 8), FERRULE_OK);
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    CHECK(pair_handshake(&p, NULL, NULL));
    const uint8_t *proto;
    size_t len;
    ferrule_conn_alpn(p.client, &proto, &len);
    CHECK_EQ(len, 8);
    CHECK(proto != NULL && memcmp(proto, "http/1.1", 8) == 0);
    ferrule_conn_alpn(p.server, &proto, &len);
    CHECK_EQ(len, 8);
    CHECK(ferrule_conn_server_name(p.server) != NULL &&
          strcmp(ferrule_conn_server_name(p.server), "localhost") == 0);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(alpn_mismatch_is_no_application_protocol) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;
    CHECK_EQ(ferrule_config_add_alpn(cc, (const uint8_t *)"h2", 2), FERRULE_OK);
    CHECK_EQ(ferrule_config_add_alpn(sc, (const uint8_t *)"smtp", 4), FERRULE_OK);
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    int cs, ss;
    CHECK(!pair_handshake(&p, &cs, &ss));
    CHECK_EQ(ss, FERRULE_POLICY);
    CHECK_EQ(ferrule_conn_reason(p.server), FERRULE_R_NO_ALPN);
    CHECK_EQ(ferrule_conn_alert(p.server), FERRULE_ALERT_NO_APPLICATION_PROTOCOL);
    CHECK_EQ(cs, FERRULE_ALERT_RECEIVED);
    CHECK_EQ(ferrule_conn_alert(p.client), FERRULE_ALERT_NO_APPLICATION_PROTOCOL);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

static void expect_cert_failure(const char *server_kind, const char *name, int64_t (*now)(void *),
                                uint32_t reason, int alert) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config(server_kind);
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;
    if (now != NULL) CHECK_EQ(ferrule_config_set_time_callback(cc, now, NULL), FERRULE_OK);
    pair p;
    CHECK(pair_new(&p, cc, sc, name));
    int cs, ss;
    CHECK(!pair_handshake(&p, &cs, &ss));
    CHECK_EQ(cs, FERRULE_CERTIFICATE);
    CHECK_EQ(ferrule_conn_reason(p.client), reason);
    CHECK_EQ(ferrule_conn_alert(p.client), alert);
    CHECK_EQ(ss, FERRULE_ALERT_RECEIVED);
    CHECK_EQ(ferrule_conn_alert(p.server), alert);
    /* The handle stays valid for inspection and the error sticks. */
    uint8_t buf[8];
    size_t n;
    CHECK_EQ(ferrule_conn_read(p.client, buf, sizeof(buf), &n), FERRULE_CERTIFICATE);
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_CERTIFICATE);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

static int64_t far_future(void *ctx) { (void)ctx; return 4102444800; /* 2100-01-01 */ }
static int64_t far_past(void *ctx) { (void)ctx; return 946684800; /* 2000-01-01 */ }

TEST(wrong_hostname) {
    expect_cert_failure("ecdsa-p256", "example.com", NULL, FERRULE_R_CERT_NAME_MISMATCH,
                        FERRULE_ALERT_BAD_CERTIFICATE);
    expect_cert_failure("wrongname", NULL, NULL, FERRULE_R_CERT_NAME_MISMATCH,
                        FERRULE_ALERT_BAD_CERTIFICATE);
}
TEST(untrusted_chain) {
    expect_cert_failure("untrusted", NULL, NULL, FERRULE_R_CERT_UNKNOWN_ISSUER,
                        FERRULE_ALERT_UNKNOWN_CA);
}
TEST(expired_chain) {
    expect_cert_failure("ecdsa-p256", NULL, far_future, FERRULE_R_CERT_EXPIRED,
                        FERRULE_ALERT_CERTIFICATE_EXPIRED);
}
TEST(not_yet_valid_chain) {
    expect_cert_failure("ecdsa-p256", NULL, far_past, FERRULE_R_CERT_NOT_YET_VALID,
                        FERRULE_ALERT_BAD_CERTIFICATE);
}

TEST(ip_address_name) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;
    pair p;
    CHECK(pair_new(&p, cc, sc, "127.0.0.1"));
    CHECK(pair_handshake(&p, NULL, NULL));
    /* RFC 6066 §3: no SNI for an IP literal. */
    CHECK(ferrule_conn_server_name(p.server) == NULL);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(truncation_is_not_a_clean_close) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    CHECK(pair_handshake(&p, NULL, NULL));
    exchange(p.server, p.client, "data");
    CHECK_EQ(ferrule_conn_feed_eof(p.client), FERRULE_OK);
    uint8_t buf[16];
    size_t n;
    CHECK_EQ(ferrule_conn_read(p.client, buf, sizeof(buf), &n), FERRULE_TRUNCATED);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_TRUNCATED);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(large_transfer_both_ways) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("rsa");
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    CHECK(pair_handshake(&p, NULL, NULL));
    static uint8_t big[100000], got[100000];
    for (size_t i = 0; i < sizeof(big); i++) big[i] = (uint8_t)(i * 7);
    size_t sent = 0, recvd = 0;
    int guard = 0;
    while (recvd < sizeof(big) && guard++ < 10000) {
        size_t n = 0;
        if (sent < sizeof(big)) {
            int st = ferrule_conn_write(p.client, big + sent, sizeof(big) - sent, &n);
            CHECK(st == FERRULE_OK || st == FERRULE_WANT_WRITE);
            sent += n;
        }
        pair_move(p.client, p.server);
        while (recvd < sizeof(got)) {
            size_t r = 0;
            int st = ferrule_conn_read(p.server, got + recvd, sizeof(got) - recvd, &r);
            if (st != FERRULE_OK) {
                CHECK_EQ(st, FERRULE_WANT_READ);
                break;
            }
            recvd += r;
        }
    }
    CHECK_EQ(recvd, sizeof(big));
    CHECK_MEM(got, big, sizeof(big));
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST_MAIN("handshake", TL_CASE(every_suite_and_group), TL_CASE(every_certificate_kind),
          TL_CASE(alpn_and_sni), TL_CASE(alpn_mismatch_is_no_application_protocol),
          TL_CASE(wrong_hostname), TL_CASE(untrusted_chain), TL_CASE(expired_chain),
          TL_CASE(not_yet_valid_chain), TL_CASE(ip_address_name),
          TL_CASE(truncation_is_not_a_clean_close), TL_CASE(large_transfer_both_ways))
