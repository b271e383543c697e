/* test_decisions.c - application decisions as pause/resume
 * (docs/decisions.md): every decision (certificate, ALPN, verify in both
 * roles, 0-RTT acceptance, the replay store) answered at once, on a later
 * turn, from another thread, never (the connection is freed), twice, for
 * the wrong decision and with invalid values; the effect of each answer on
 * the peer; with a HelloRetryRequest and with resumption.  Over in-memory
 * pairs and feed/take, through the public ABI only. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ferrule.h"
#include "support_pair.h"
#include "testlib.h"

/* ---- harness ------------------------------------------------------------------- */

static int failed(int st) {
    return st != FERRULE_OK && st != FERRULE_WANT_READ && st != FERRULE_WANT_APP;
}

/* Drive both sides until one pauses (1), or both finished or one failed
 * (0; the other side has seen what the failed one sent). */
static int run(pair *p, int *cs, int *ss) {
    *cs = *ss = FERRULE_WANT_READ;
    for (int round = 0; round < 24; round++) {
        *cs = ferrule_conn_handshake(p->client);
        pair_move(p->client, p->server);
        if (*cs == FERRULE_WANT_APP) return 1;
        *ss = ferrule_conn_handshake(p->server);
        pair_move(p->server, p->client);
        if (*ss == FERRULE_WANT_APP) return 1;
        if (failed(*cs) || failed(*ss)) {
            if (failed(*cs)) *ss = ferrule_conn_handshake(p->server);
            else *cs = ferrule_conn_handshake(p->client);
            return 0;
        }
        if (*cs == FERRULE_OK && *ss == FERRULE_OK) return 0;
    }
    return 0;
}

/* Configs: a server with the ecdsa-p256 and rsa chains, opting into
 * `decide`, no tickets unless asked; a client trusting root.pem. */
static ferrule_config *server_cfg(uint32_t decide, int tickets) {
    ferrule_config *sc = pair_server_config("ecdsa-p256");
    if (sc == NULL) return NULL;
    if (ferrule_config_add_cert_chain_file(sc, pair_pki("rsa.chain.pem"), pair_pki("rsa.key")) !=
            FERRULE_OK ||
        ferrule_config_set_tickets(sc, tickets ? 2 : 0) != FERRULE_OK ||
        ferrule_config_set_decisions(sc, decide) != FERRULE_OK) {
        ferrule_config_free(sc);
        return NULL;
    }
    return sc;
}

static ferrule_config *client_cfg(uint32_t decide, const char *alpn) {
    ferrule_config *cc = pair_client_config();
    if (cc == NULL) return NULL;
    int ok = ferrule_config_set_decisions(cc, decide) == FERRULE_OK;
    for (const char *p = alpn; ok && p != NULL && *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        ok = ferrule_config_add_alpn(cc, (const uint8_t *)p, n) == FERRULE_OK;
        p += n + (e ? 1 : 0);
    }
    if (!ok) {
        ferrule_config_free(cc);
        return NULL;
    }
    return cc;
}

/* The usage error an answer must give, with nothing else changed. */
static void expect_usage_at(int line, ferrule_conn *c, int st, uint32_t reason, uint32_t still) {
    if (st != FERRULE_USAGE || ferrule_conn_reason(c) != reason ||
        ferrule_conn_pending_decision(c) != still || ferrule_conn_status(c) != FERRULE_OK) {
        fprintf(stderr, "  line %d: st %d reason %s pending %u status %d\n", line, st,
                ferrule_reason_name(ferrule_conn_reason(c)), ferrule_conn_pending_decision(c),
                ferrule_conn_status(c));
        tl_failures_in_test++;
    }
}
#define EXPECT_USAGE(c, st, reason, still) expect_usage_at(__LINE__, c, st, reason, still)

static int alpn_is(ferrule_conn *c, const char *want) {
    const uint8_t *p;
    size_t n;
    ferrule_conn_alpn(c, &p, &n);
    if (want == NULL) return n == 0 && p == NULL;
    return n == strlen(want) && memcmp(p, want, n) == 0;
}

/* ---- certificate selection --------------------------------------------------- */

TEST(certificate_answered_at_once) {
    ferrule_config *sc = server_cfg(FERRULE_DECIDE_CERTIFICATE, 0), *cc = client_cfg(0, NULL);
    pair p;
    REQUIRE(sc != NULL && cc != NULL && pair_new(&p, cc, sc, NULL));
    int cs, ss;
    REQUIRE(run(&p, &cs, &ss));
    CHECK_EQ(ss, FERRULE_WANT_APP);
    CHECK_EQ(ferrule_conn_pending_decision(p.server), FERRULE_DECISION_CERTIFICATE);
    CHECK_EQ(ferrule_conn_pending_decision(p.client), FERRULE_DECISION_NONE);
    const ferrule_client_hello *h = ferrule_conn_client_hello(p.server);
    REQUIRE(h != NULL);
    CHECK(strcmp(ferrule_client_hello_server_name(h), "localhost") == 0);
    CHECK(ferrule_client_hello_chain_fit(h, 1) & FERRULE_CHAIN_FIT_KEY);
    CHECK_EQ(ferrule_conn_select_certificate(p.server, 1), FERRULE_OK);
    CHECK_EQ(ferrule_conn_pending_decision(p.server), FERRULE_DECISION_NONE);
    CHECK(ferrule_conn_client_hello(p.server) == NULL);
    CHECK_EQ(run(&p, &cs, &ss), 0);
    CHECK_EQ(cs, FERRULE_OK);
    CHECK_EQ(ss, FERRULE_OK);
    /* The rsa chain: the client verified an RSA signature. */
    CHECK_EQ(ferrule_conn_cert_index(p.server), 1);
    uint16_t sig = ferrule_conn_peer_signature_scheme(p.client);
    CHECK(sig == FERRULE_SIG_RSA_PSS_RSAE_SHA256 || sig == FERRULE_SIG_RSA_PSS_RSAE_SHA384 ||
          sig == FERRULE_SIG_RSA_PSS_RSAE_SHA512);
    pair_free(&p);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

TEST(certificate_refusals) {
    /* REFUSE and UNRECOGNIZED_NAME end the handshake with their alerts;
     * the default is the default selection (chain 0 for this hello). */
    static const struct {
        int choice;
        int server_st;
        uint32_t reason;
        int alert;
    } rows[] = {
        {FERRULE_CERT_SELECT_REFUSE, FERRULE_POLICY, FERRULE_R_HANDSHAKE_REFUSED,
         FERRULE_ALERT_HANDSHAKE_FAILURE},
        {FERRULE_CERT_SELECT_UNRECOGNIZED_NAME, FERRULE_POLICY, FERRULE_R_UNRECOGNIZED_NAME,
         FERRULE_ALERT_UNRECOGNIZED_NAME},
        {FERRULE_CERT_SELECT_DEFAULT, FERRULE_OK, FERRULE_R_NONE, -1},
    };
    ferrule_config *sc = server_cfg(FERRULE_DECIDE_CERTIFICATE, 0), *cc = client_cfg(0, NULL);
    REQUIRE(sc != NULL && cc != NULL);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        pair p;
        int cs, ss;
        REQUIRE(pair_new(&p, cc, sc, NULL));
        REQUIRE(run(&p, &cs, &ss));
        CHECK_EQ(ferrule_conn_select_certificate(p.server, rows[i].choice), FERRULE_OK);
        CHECK_EQ(run(&p, &cs, &ss), 0);
        CHECK_EQ(ss, rows[i].server_st);
        if (rows[i].alert >= 0) {
            CHECK_EQ(ferrule_conn_reason(p.server), rows[i].reason);
            CHECK_EQ(cs, FERRULE_ALERT_RECEIVED);
            CHECK_EQ(ferrule_conn_alert(p.client), rows[i].alert);
        } else {
            CHECK_EQ(cs, FERRULE_OK);
            CHECK_EQ(ferrule_conn_cert_index(p.server), 0);
        }
        pair_free(&p);
    }
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

TEST(answered_later_after_other_turns) {
    /* Between the pause and the answer: more handshake calls (still
     * paused, nothing sent), reads and writes on both sides, bytes fed to
     * the paused server (kept, not read). */
    ferrule_config *sc = server_cfg(FERRULE_DECIDE_CERTIFICATE | FERRULE_DECIDE_ALPN, 0);
    ferrule_config *cc = client_cfg(0, "h2");
    pair p;
    REQUIRE(sc != NULL && cc != NULL && pair_new(&p, cc, sc, NULL));
    int cs, ss;
    REQUIRE(run(&p, &cs, &ss));
    CHECK_EQ(ferrule_conn_pending_decision(p.server), FERRULE_DECISION_ALPN);
    for (int turn = 0; turn < 5; turn++) {
        uint8_t buf[64];
        size_t n = 0;
        CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_APP);
        CHECK_EQ(ferrule_conn_read(p.server, buf, sizeof(buf), &n), FERRULE_WANT_APP);
        CHECK_EQ(ferrule_conn_write(p.server, buf, 4, &n), FERRULE_WANT_APP);
        CHECK_EQ(ferrule_conn_pending_output(p.server), 0);
        CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
        CHECK_EQ(ferrule_conn_pending_decision(p.server), FERRULE_DECISION_ALPN);
    }
    CHECK(ferrule_conn_client_hello(p.server) != NULL);
    CHECK_EQ(ferrule_conn_select_alpn(p.server, FERRULE_ALPN_SELECTED, (const uint8_t *)"h2", 2),
             FERRULE_OK);
    /* The next decision of the same ClientHello. */
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_APP);
    CHECK_EQ(ferrule_conn_pending_decision(p.server), FERRULE_DECISION_CERTIFICATE);
    CHECK(alpn_is(p.server, "h2")); /* chosen before the certificate */
    CHECK_EQ(ferrule_conn_select_certificate(p.server, 0), FERRULE_OK);
    CHECK_EQ(run(&p, &cs, &ss), 0);
    CHECK(cs == FERRULE_OK && ss == FERRULE_OK);
    CHECK(alpn_is(p.client, "h2"));
    pair_free(&p);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

typedef struct answerer {
    ferrule_conn *conn;
    int st;
} answerer;

static void *answer_cert_later(void *arg) {
    answerer *a = arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    a->st = ferrule_conn_select_certificate(a->conn, 1);
    return NULL;
}

TEST(answered_from_another_thread) {
    ferrule_config *sc = server_cfg(FERRULE_DECIDE_CERTIFICATE, 0), *cc = client_cfg(0, NULL);
    pair p;
    REQUIRE(sc != NULL && cc != NULL && pair_new(&p, cc, sc, NULL));
    int cs, ss;
    REQUIRE(run(&p, &cs, &ss));
    answerer a = {p.server, -1};
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, answer_cert_later, &a) == 0);
    /* The event loop keeps polling while the worker decides. */
    int st, polls = 0;
    while ((st = ferrule_conn_handshake(p.server)) == FERRULE_WANT_APP) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
        polls++;
    }
    pthread_join(t, NULL);
    CHECK_EQ(a.st, FERRULE_OK);
    CHECK_EQ(st, FERRULE_WANT_READ);
    CHECK(polls > 0);
    pair_move(p.server, p.client);
    CHECK_EQ(run(&p, &cs, &ss), 0);
    CHECK(cs == FERRULE_OK && ss == FERRULE_OK);
    CHECK_EQ(ferrule_conn_cert_index(p.server), 1);
    pair_free(&p);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

/* ---- misuse --------------------------------------------------------------------- */

TEST(misuse_changes_nothing) {
    ferrule_config *sc = server_cfg(FERRULE_DECIDE_CERTIFICATE | FERRULE_DECIDE_ALPN, 0);
    ferrule_config *cc = client_cfg(0, "h2,http/1.1");
    pair p;
    REQUIRE(sc != NULL && cc != NULL && pair_new(&p, cc, sc, NULL));
    /* Nothing pending yet. */
    EXPECT_USAGE(p.server, ferrule_conn_select_certificate(p.server, 0), FERRULE_R_NO_DECISION,
                 FERRULE_DECISION_NONE);
    EXPECT_USAGE(p.client, ferrule_conn_verify_done(p.client, FERRULE_VERIFY_ACCEPT),
                 FERRULE_R_NO_DECISION, FERRULE_DECISION_NONE);
    int cs, ss;
    REQUIRE(run(&p, &cs, &ss));
    REQUIRE(ferrule_conn_pending_decision(p.server) == FERRULE_DECISION_ALPN);
    /* The wrong decision, and invalid values for the right one. */
    EXPECT_USAGE(p.server, ferrule_conn_select_certificate(p.server, 0), FERRULE_R_WRONG_DECISION,
                 FERRULE_DECISION_ALPN);
    EXPECT_USAGE(p.server, ferrule_conn_early_accept(p.server, 1), FERRULE_R_WRONG_DECISION,
                 FERRULE_DECISION_ALPN);
    EXPECT_USAGE(p.server, ferrule_conn_replay_result(p.server, 1), FERRULE_R_WRONG_DECISION,
                 FERRULE_DECISION_ALPN);
    EXPECT_USAGE(p.server, ferrule_conn_verify_done(p.server, 0), FERRULE_R_WRONG_DECISION,
                 FERRULE_DECISION_ALPN);
    EXPECT_USAGE(p.server, ferrule_conn_select_alpn(p.server, 7, NULL, 0), FERRULE_R_BAD_ANSWER,
                 FERRULE_DECISION_ALPN);
    EXPECT_USAGE(p.server,
                 ferrule_conn_select_alpn(p.server, FERRULE_ALPN_SELECTED, (const uint8_t *)"h3",
                                          2),
                 FERRULE_R_ALPN_NOT_OFFERED, FERRULE_DECISION_ALPN);
    EXPECT_USAGE(p.server, ferrule_conn_select_alpn(p.server, FERRULE_ALPN_SELECTED, NULL, 2),
                 FERRULE_R_ALPN_NOT_OFFERED, FERRULE_DECISION_ALPN);
    const uint8_t *key;
    int64_t exp;
    EXPECT_USAGE(p.server, ferrule_conn_replay_key(p.server, &key, &exp), FERRULE_R_NO_DECISION,
                 FERRULE_DECISION_ALPN);
    CHECK(key == NULL);
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_APP); /* still waiting */
    CHECK_EQ(ferrule_conn_select_alpn(p.server, FERRULE_ALPN_SELECTED,
                                      (const uint8_t *)"http/1.1", 8),
             FERRULE_OK);
    /* Twice: the first answer stands. */
    EXPECT_USAGE(p.server,
                 ferrule_conn_select_alpn(p.server, FERRULE_ALPN_SELECTED, (const uint8_t *)"h2",
                                          2),
                 FERRULE_R_NO_DECISION, FERRULE_DECISION_NONE);
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_APP);
    REQUIRE(ferrule_conn_pending_decision(p.server) == FERRULE_DECISION_CERTIFICATE);
    EXPECT_USAGE(p.server, ferrule_conn_select_certificate(p.server, 2), FERRULE_R_BAD_ANSWER,
                 FERRULE_DECISION_CERTIFICATE);
    EXPECT_USAGE(p.server, ferrule_conn_select_certificate(p.server, -4), FERRULE_R_BAD_ANSWER,
                 FERRULE_DECISION_CERTIFICATE);
    CHECK_EQ(ferrule_conn_select_certificate(p.server, 1), FERRULE_OK);
    EXPECT_USAGE(p.server, ferrule_conn_select_certificate(p.server, 0), FERRULE_R_NO_DECISION,
                 FERRULE_DECISION_NONE);
    CHECK_EQ(run(&p, &cs, &ss), 0);
    CHECK(cs == FERRULE_OK && ss == FERRULE_OK);
    CHECK(alpn_is(p.client, "http/1.1"));
    CHECK_EQ(ferrule_conn_cert_index(p.server), 1);
    /* NULL handles, and config values. */
    CHECK_EQ(ferrule_conn_select_certificate(NULL, 0), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_replay_result(NULL, 1), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_pending_decision(NULL), FERRULE_DECISION_NONE);
    CHECK(ferrule_conn_client_hello(NULL) == NULL);
    CHECK_EQ(ferrule_config_set_decisions(sc, FERRULE_DECIDE_ALL), FERRULE_USAGE); /* frozen */
    ferrule_config *fresh = pair_client_config();
    REQUIRE(fresh != NULL);
    CHECK_EQ(ferrule_config_set_decisions(fresh, 0x20), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(fresh), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(ferrule_config_set_decisions(fresh, FERRULE_DECIDE_ALL), FERRULE_OK);
    ferrule_config_free(fresh);
    pair_free(&p);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

/* ---- ALPN -------------------------------------------------------------------- */

TEST(alpn_answers_reach_the_client) {
    ferrule_config *sc = server_cfg(FERRULE_DECIDE_ALPN, 0), *cc = client_cfg(0, "h2,http/1.1");
    REQUIRE(sc != NULL && cc != NULL);
    /* NONE: no ALPN; NO_OVERLAP: no_application_protocol; DEFAULT without
     * a server list: none. */
    static const int results[] = {FERRULE_ALPN_NONE, FERRULE_ALPN_NO_OVERLAP, FERRULE_ALPN_DEFAULT};
    for (size_t i = 0; i < 3; i++) {
        pair p;
        int cs, ss;
        REQUIRE(pair_new(&p, cc, sc, NULL));
        REQUIRE(run(&p, &cs, &ss));
        const ferrule_client_hello *h = ferrule_conn_client_hello(p.server);
        REQUIRE(h != NULL);
        CHECK_EQ(ferrule_client_hello_alpn_count(h), 2);
        CHECK_EQ(ferrule_conn_select_alpn(p.server, results[i], NULL, 0), FERRULE_OK);
        CHECK_EQ(run(&p, &cs, &ss), 0);
        if (results[i] == FERRULE_ALPN_NO_OVERLAP) {
            CHECK_EQ(ferrule_conn_reason(p.server), FERRULE_R_NO_ALPN);
            CHECK_EQ(ferrule_conn_alert(p.client), FERRULE_ALERT_NO_APPLICATION_PROTOCOL);
        } else {
            CHECK(cs == FERRULE_OK && ss == FERRULE_OK);
            CHECK(alpn_is(p.client, NULL));
        }
        pair_free(&p);
    }
    /* A client that offers no ALPN is never asked about it. */
    ferrule_config *plain = client_cfg(0, NULL);
    pair p;
    int cs, ss;
    REQUIRE(plain != NULL && pair_new(&p, plain, sc, NULL));
    CHECK_EQ(run(&p, &cs, &ss), 0);
    CHECK(cs == FERRULE_OK && ss == FERRULE_OK);
    pair_free(&p);
    ferrule_config_free(plain);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

/* ---- verify ------------------------------------------------------------------- */

TEST(client_verdict) {
    ferrule_config *sc = server_cfg(0, 0), *cc = client_cfg(FERRULE_DECIDE_VERIFY, NULL);
    REQUIRE(sc != NULL && cc != NULL);
    for (int reject = 0; reject < 2; reject++) {
        pair p;
        int cs, ss;
        REQUIRE(pair_new(&p, cc, sc, NULL));
        REQUIRE(run(&p, &cs, &ss));
        CHECK_EQ(cs, FERRULE_WANT_APP);
        CHECK_EQ(ferrule_conn_pending_decision(p.client), FERRULE_DECISION_VERIFY);
        /* The result of our own checks is there to judge. */
        const ferrule_verify_result *r = ferrule_conn_verify_result(p.client);
        REQUIRE(r != NULL);
        CHECK_EQ(ferrule_verify_result_path_length(r), 3);
        CHECK_EQ(ferrule_conn_peer_cert_count(p.client), 2);
        EXPECT_USAGE(p.client, ferrule_conn_verify_done(p.client, 2), FERRULE_R_BAD_ANSWER,
                     FERRULE_DECISION_VERIFY);
        CHECK_EQ(ferrule_conn_verify_done(p.client, reject ? FERRULE_VERIFY_REJECT
                                                           : FERRULE_VERIFY_ACCEPT),
                 FERRULE_OK);
        CHECK_EQ(run(&p, &cs, &ss), 0);
        if (reject) {
            CHECK_EQ(cs, FERRULE_CERTIFICATE);
            CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_CERT_REJECTED);
            CHECK_EQ(ss, FERRULE_ALERT_RECEIVED);
            CHECK_EQ(ferrule_conn_alert(p.server), FERRULE_ALERT_BAD_CERTIFICATE);
        } else {
            CHECK(cs == FERRULE_OK && ss == FERRULE_OK);
        }
        pair_free(&p);
    }
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

/* A server asking for client certificates (REQUIRE), with tickets. */
static ferrule_config *auth_server(uint32_t decide) {
    ferrule_config *sc = server_cfg(decide, 1);
    if (sc == NULL) return NULL;
    if (ferrule_config_set_client_auth(sc, FERRULE_CLIENT_AUTH_REQUIRE) != FERRULE_OK ||
        ferrule_config_add_trust_file(sc, pair_pki("root.pem")) != FERRULE_OK) {
        ferrule_config_free(sc);
        return NULL;
    }
    return sc;
}

static ferrule_config *auth_client(void) {
    ferrule_config *cc = client_cfg(0, NULL);
    if (cc != NULL &&
        ferrule_config_add_cert_chain_file(cc, pair_pki("ecdsa-p256.chain.pem"),
                                           pair_pki("ecdsa-p256.key")) != FERRULE_OK) {
        ferrule_config_free(cc);
        return NULL;
    }
    return cc;
}

/* The session a client got after the handshake (tickets read). */
static size_t session_of(pair *p, uint8_t *out, size_t cap) {
    uint8_t buf[16];
    size_t n, len = 0;
    pair_move(p->server, p->client);
    if (ferrule_conn_read(p->client, buf, sizeof(buf), &n) != FERRULE_WANT_READ) return 0;
    return ferrule_conn_session(p->client, out, cap, &len) == FERRULE_OK ? len : 0;
}

TEST(server_verdict_and_resumed_identity) {
    ferrule_config *sc = auth_server(FERRULE_DECIDE_VERIFY), *cc = auth_client();
    REQUIRE(sc != NULL && cc != NULL);
    /* Full handshake: asked at the client's Certificate. */
    pair p;
    int cs, ss;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    REQUIRE(run(&p, &cs, &ss));
    CHECK_EQ(ss, FERRULE_WANT_APP);
    CHECK_EQ(ferrule_conn_handshake_state(p.server), FERRULE_HS_WAIT_CLIENT_CERTIFICATE);
    CHECK(ferrule_conn_verify_result(p.server) != NULL);
    CHECK_EQ(ferrule_conn_verify_done(p.server, FERRULE_VERIFY_ACCEPT), FERRULE_OK);
    CHECK_EQ(run(&p, &cs, &ss), 0);
    CHECK(cs == FERRULE_OK && ss == FERRULE_OK);
    static uint8_t sess[8192];
    size_t sess_len = session_of(&p, sess, sizeof(sess));
    REQUIRE(sess_len > 0);
    pair_free(&p);
    /* Resumption: the ticket's identity is judged while the ClientHello is
     * processed; accepted, it resumes. */
    REQUIRE(pair_new(&p, cc, sc, NULL));
    REQUIRE(ferrule_conn_set_session(p.client, sess, sess_len) == FERRULE_OK);
    REQUIRE(run(&p, &cs, &ss));
    CHECK_EQ(ferrule_conn_handshake_state(p.server), FERRULE_HS_WAIT_CLIENT_HELLO);
    CHECK_EQ(ferrule_conn_pending_decision(p.server), FERRULE_DECISION_VERIFY);
    CHECK(ferrule_conn_verify_result(p.server) != NULL);
    CHECK_EQ(ferrule_conn_peer_cert_count(p.server), 2);
    CHECK_EQ(ferrule_conn_verify_done(p.server, FERRULE_VERIFY_ACCEPT), FERRULE_OK);
    CHECK_EQ(run(&p, &cs, &ss), 0);
    CHECK(cs == FERRULE_OK && ss == FERRULE_OK);
    CHECK(ferrule_conn_resumed(p.server) && ferrule_conn_resumed(p.client));
    pair_free(&p);
    /* Refused: a full handshake, which asks for the certificate again. */
    REQUIRE(pair_new(&p, cc, sc, NULL));
    REQUIRE(ferrule_conn_set_session(p.client, sess, sess_len) == FERRULE_OK);
    REQUIRE(run(&p, &cs, &ss));
    CHECK_EQ(ferrule_conn_handshake_state(p.server), FERRULE_HS_WAIT_CLIENT_HELLO);
    CHECK_EQ(ferrule_conn_verify_done(p.server, FERRULE_VERIFY_REJECT), FERRULE_OK);
    REQUIRE(run(&p, &cs, &ss));
    CHECK_EQ(ferrule_conn_handshake_state(p.server), FERRULE_HS_WAIT_CLIENT_CERTIFICATE);
    CHECK_EQ(ferrule_conn_verify_done(p.server, FERRULE_VERIFY_REJECT), FERRULE_OK);
    CHECK_EQ(run(&p, &cs, &ss), 0);
    CHECK_EQ(ss, FERRULE_CERTIFICATE);
    CHECK_EQ(ferrule_conn_reason(p.server), FERRULE_R_CERT_REJECTED);
    CHECK_EQ(ferrule_conn_resumed(p.server), 0);
    /* The client finished its flight first; it reads the alert. */
    uint8_t buf[16];
    size_t n;
    pair_move(p.server, p.client);
    CHECK_EQ(ferrule_conn_read(p.client, buf, sizeof(buf), &n), FERRULE_ALERT_RECEIVED);
    CHECK_EQ(ferrule_conn_alert(p.client), FERRULE_ALERT_BAD_CERTIFICATE);
    pair_free(&p);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

/* ---- 0-RTT and the replay store ------------------------------------------------- */

/* The application's own replay store: keys seen, counted. */
static uint8_t seen[64][32];
static int n_seen, store_calls;
static int store_check(const uint8_t *key) {
    store_calls++;
    for (int i = 0; i < n_seen; i++)
        if (memcmp(seen[i], key, 32) == 0) return 0;
    if (n_seen < 64) memcpy(seen[n_seen++], key, 32);
    return 1;
}

static ferrule_config *early_server(uint32_t decide) {
    ferrule_config *sc = server_cfg(decide, 1);
    if (sc == NULL || ferrule_config_set_early_data(sc, NULL) != FERRULE_OK) {
        ferrule_config_free(sc);
        return NULL;
    }
    return sc;
}

static const char EARLY[] = "GET / HTTP/1.1\r\n\r\n";

/* A resuming client that writes EARLY as 0-RTT data; runs until the
 * server pauses (1) or the handshake ends (0). */
static int early_start(pair *p, ferrule_config *cc, ferrule_config *sc, const uint8_t *sess,
                       size_t len, int *cs, int *ss) {
    size_t n = 0;
    if (!pair_new(p, cc, sc, NULL) ||
        ferrule_conn_set_session(p->client, sess, len) != FERRULE_OK ||
        ferrule_conn_write_early_data(p->client, (const uint8_t *)EARLY, sizeof(EARLY) - 1,
                                      FERRULE_EARLY_DATA_REPLAY_SAFE, &n) != FERRULE_OK ||
        n != sizeof(EARLY) - 1)
        return -1;
    return run(p, cs, ss);
}

/* Answer every REPLAY decision of `s` from our store until it stops
 * pausing for them; returns its last status. */
static int answer_replays(ferrule_conn *s) {
    int st = FERRULE_WANT_APP;
    while (st == FERRULE_WANT_APP && ferrule_conn_pending_decision(s) == FERRULE_DECISION_REPLAY) {
        const uint8_t *key;
        int64_t expires;
        if (ferrule_conn_replay_key(s, &key, &expires) != FERRULE_OK) return -1;
        if (expires <= (int64_t)time(NULL)) return -1;
        if (ferrule_conn_replay_result(s, store_check(key)) != FERRULE_OK) return -1;
        st = ferrule_conn_handshake(s);
    }
    return st;
}

static void finish(pair *p, int *cs, int *ss) {
    pair_move(p->server, p->client);
    (void)run(p, cs, ss);
}

TEST(early_data_and_replay_answered_by_the_application) {
    ferrule_config *sc = early_server(FERRULE_DECIDE_EARLY_DATA | FERRULE_DECIDE_REPLAY);
    ferrule_config *cc = client_cfg(0, NULL);
    REQUIRE(sc != NULL && cc != NULL && ferrule_config_set_early_data(cc, NULL) == FERRULE_OK);
    pair p;
    int cs, ss;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(run(&p, &cs, &ss), 0); /* a full handshake asks nothing */
    static uint8_t sess[8192];
    size_t sess_len = session_of(&p, sess, sizeof(sess));
    REQUIRE(sess_len > 0);
    pair_free(&p);
    n_seen = store_calls = 0;
    for (int use = 0; use < 3; use++) {
        /* 0: accepted; 1: the same ticket again (replay: refused by the
         * store); 2: the application refuses before the store. */
        REQUIRE(early_start(&p, cc, sc, sess, sess_len, &cs, &ss) == 1);
        CHECK_EQ(ferrule_conn_pending_decision(p.server), FERRULE_DECISION_EARLY_DATA);
        CHECK(ferrule_conn_server_name(p.server) != NULL);
        int calls = store_calls;
        CHECK_EQ(ferrule_conn_early_accept(p.server, use < 2), FERRULE_OK);
        int st = ferrule_conn_handshake(p.server);
        if (use < 2) {
            CHECK_EQ(st, FERRULE_WANT_APP);
            st = answer_replays(p.server);
        }
        CHECK_EQ(st, FERRULE_WANT_READ);
        /* Each key once: the ticket, then (fresh ticket only) the hello. */
        CHECK_EQ(store_calls - calls, use == 0 ? 2 : use == 1 ? 1 : 0);
        finish(&p, &cs, &ss);
        CHECK(cs == FERRULE_OK && ss == FERRULE_OK);
        CHECK(ferrule_conn_resumed(p.server));
        CHECK_EQ(ferrule_conn_early_data_status(p.server),
                 use == 0 ? FERRULE_EARLY_ACCEPTED : FERRULE_EARLY_REJECTED);
        CHECK_EQ(ferrule_conn_early_data_status(p.client),
                 use == 0 ? FERRULE_EARLY_ACCEPTED : FERRULE_EARLY_REJECTED);
        if (use == 0) {
            uint8_t buf[64];
            size_t n = 0;
            CHECK_EQ(ferrule_conn_read(p.server, buf, sizeof(buf), &n), FERRULE_OK);
            CHECK(n == sizeof(EARLY) - 1 && memcmp(buf, EARLY, n) == 0);
        }
        pair_free(&p);
    }
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

TEST(early_data_read_pauses_too) {
    /* ferrule_conn_read_early_data drives the handshake: it pauses alike,
     * and the built-in store answers REPLAY when it is not opted into. */
    ferrule_config *sc = early_server(FERRULE_DECIDE_EARLY_DATA), *cc = client_cfg(0, NULL);
    REQUIRE(sc != NULL && cc != NULL && ferrule_config_set_early_data(cc, NULL) == FERRULE_OK);
    pair p;
    int cs, ss;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(run(&p, &cs, &ss), 0);
    static uint8_t sess[8192];
    size_t sess_len = session_of(&p, sess, sizeof(sess));
    REQUIRE(sess_len > 0);
    pair_free(&p);
    size_t n = 0;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    REQUIRE(ferrule_conn_set_session(p.client, sess, sess_len) == FERRULE_OK);
    REQUIRE(ferrule_conn_write_early_data(p.client, (const uint8_t *)EARLY, sizeof(EARLY) - 1,
                                          FERRULE_EARLY_DATA_REPLAY_SAFE, &n) == FERRULE_OK);
    pair_move(p.client, p.server);
    uint8_t buf[64];
    CHECK_EQ(ferrule_conn_read_early_data(p.server, buf, sizeof(buf), &n), FERRULE_WANT_APP);
    CHECK_EQ(ferrule_conn_pending_decision(p.server), FERRULE_DECISION_EARLY_DATA);
    CHECK_EQ(ferrule_conn_early_accept(p.server, 1), FERRULE_OK);
    CHECK_EQ(ferrule_conn_read_early_data(p.server, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK(n == sizeof(EARLY) - 1 && memcmp(buf, EARLY, n) == 0);
    finish(&p, &cs, &ss);
    CHECK(cs == FERRULE_OK && ss == FERRULE_OK);
    CHECK_EQ(ferrule_conn_early_data_status(p.client), FERRULE_EARLY_ACCEPTED);
    pair_free(&p);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

/* ---- never answered: freed while paused (ASan: no leak) ------------------------- */

TEST(never_answered_connections_are_freed) {
    ferrule_config *sc = server_cfg(FERRULE_DECIDE_ALL, 0);
    ferrule_config *cc = client_cfg(FERRULE_DECIDE_ALL, "h2");
    REQUIRE(sc != NULL && cc != NULL);
    /* Paused at ALPN (the view's lists decoded), at CERTIFICATE, and a
     * client paused at VERIFY. */
    for (int at = 0; at < 3; at++) {
        pair p;
        int cs, ss;
        REQUIRE(pair_new(&p, cc, sc, NULL));
        REQUIRE(run(&p, &cs, &ss));
        const ferrule_client_hello *h = ferrule_conn_client_hello(p.server);
        size_t k = 0;
        REQUIRE(h != NULL);
        CHECK(ferrule_client_hello_signature_schemes(h, &k) != NULL && k > 0);
        if (at >= 1) {
            CHECK_EQ(ferrule_conn_select_alpn(p.server, FERRULE_ALPN_NONE, NULL, 0), FERRULE_OK);
            CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_APP);
            CHECK(ferrule_client_hello_cipher_suites(ferrule_conn_client_hello(p.server), &k));
        }
        if (at == 2) {
            CHECK_EQ(ferrule_conn_select_certificate(p.server, 0), FERRULE_OK);
            pair_move(p.server, p.client);
            CHECK_EQ(run(&p, &cs, &ss), 1);
            CHECK_EQ(ferrule_conn_pending_decision(p.client), FERRULE_DECISION_VERIFY);
        }
        size_t used = ferrule_conn_memory_used(p.server);
        CHECK(used > 0);
        pair_free(&p);
    }
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

/* ---- with a HelloRetryRequest and with resumption -------------------------------- */

TEST(after_hello_retry_request) {
    /* Selection is for the ClientHello a ServerHello answers: the second. */
    ferrule_config *sc = server_cfg(FERRULE_DECIDE_CERTIFICATE | FERRULE_DECIDE_ALPN, 0);
    ferrule_config *cc = client_cfg(0, "h2");
    static const uint16_t cg[2] = {FERRULE_GROUP_X25519, FERRULE_GROUP_SECP384R1};
    static const uint16_t sg = FERRULE_GROUP_SECP384R1;
    REQUIRE(sc != NULL && cc != NULL);
    REQUIRE(ferrule_config_set_groups(cc, cg, 2) == FERRULE_OK);
    REQUIRE(ferrule_config_set_groups(sc, &sg, 1) == FERRULE_OK);
    pair p;
    int cs, ss;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    REQUIRE(run(&p, &cs, &ss));
    CHECK(ferrule_conn_hrr(p.server));
    CHECK_EQ(ferrule_conn_handshake_state(p.server), FERRULE_HS_WAIT_SECOND_CLIENT_HELLO);
    CHECK_EQ(ferrule_conn_pending_decision(p.server), FERRULE_DECISION_ALPN);
    CHECK_EQ(ferrule_conn_select_alpn(p.server, FERRULE_ALPN_SELECTED, (const uint8_t *)"h2", 2),
             FERRULE_OK);
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_APP);
    CHECK_EQ(ferrule_conn_select_certificate(p.server, 1), FERRULE_OK);
    CHECK_EQ(run(&p, &cs, &ss), 0);
    CHECK(cs == FERRULE_OK && ss == FERRULE_OK);
    CHECK(ferrule_conn_hrr(p.client));
    CHECK(alpn_is(p.client, "h2"));
    CHECK_EQ(ferrule_conn_cert_index(p.server), 1);
    CHECK_EQ(ferrule_conn_group(p.client), FERRULE_GROUP_SECP384R1);
    pair_free(&p);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

TEST(resumption_after_hello_retry_request_with_decisions) {
    /* A resumed second ClientHello: its binder is checked once, after
     * the answers (a second check or transcript update would fail it). */
    ferrule_config *sc = server_cfg(FERRULE_DECIDE_CERTIFICATE, 1), *cc = client_cfg(0, NULL);
    static const uint16_t cg[2] = {FERRULE_GROUP_X25519, FERRULE_GROUP_SECP384R1};
    static const uint16_t sg = FERRULE_GROUP_SECP384R1;
    REQUIRE(sc != NULL && cc != NULL);
    REQUIRE(ferrule_config_set_groups(cc, cg, 2) == FERRULE_OK);
    REQUIRE(ferrule_config_set_groups(sc, &sg, 1) == FERRULE_OK);
    pair p;
    int cs, ss;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    REQUIRE(run(&p, &cs, &ss));
    CHECK_EQ(ferrule_conn_select_certificate(p.server, 0), FERRULE_OK);
    CHECK_EQ(run(&p, &cs, &ss), 0);
    static uint8_t sess[8192];
    size_t sess_len = session_of(&p, sess, sizeof(sess));
    REQUIRE(sess_len > 0);
    pair_free(&p);
    REQUIRE(pair_new(&p, cc, sc, NULL));
    REQUIRE(ferrule_conn_set_session(p.client, sess, sess_len) == FERRULE_OK);
    REQUIRE(run(&p, &cs, &ss));
    CHECK(ferrule_conn_hrr(p.server));
    CHECK_EQ(ferrule_conn_pending_decision(p.server), FERRULE_DECISION_CERTIFICATE);
    /* Turns in between; then the default. */
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_APP);
    CHECK_EQ(ferrule_conn_select_certificate(p.server, FERRULE_CERT_SELECT_DEFAULT), FERRULE_OK);
    CHECK_EQ(run(&p, &cs, &ss), 0);
    CHECK(cs == FERRULE_OK && ss == FERRULE_OK);
    CHECK(ferrule_conn_resumed(p.server) && ferrule_conn_resumed(p.client));
    CHECK_EQ(ferrule_conn_cert_index(p.server), -1); /* resumed: no certificate sent */
    pair_free(&p);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

/* ---- the callbacks are answers given at once -------------------------------------- */

static int cb_calls;
static int pick_rsa(void *ctx, const ferrule_conn *conn, const ferrule_client_hello *h) {
    (void)ctx;
    cb_calls++;
    /* The connection's view is the one the callback gets. */
    return ferrule_conn_client_hello(conn) == h ? 1 : FERRULE_CERT_SELECT_REFUSE;
}

TEST(opt_in_wins_over_a_callback) {
    ferrule_config *sc = server_cfg(0, 0), *cc = client_cfg(0, NULL);
    REQUIRE(sc != NULL && cc != NULL);
    REQUIRE(ferrule_config_set_cert_select_callback(sc, pick_rsa, NULL) == FERRULE_OK);
    pair p;
    int cs, ss;
    cb_calls = 0;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(run(&p, &cs, &ss), 0); /* the callback answered: no pause */
    CHECK(cs == FERRULE_OK && ss == FERRULE_OK);
    CHECK_EQ(cb_calls, 1);
    CHECK_EQ(ferrule_conn_cert_index(p.server), 1);
    pair_free(&p);
    ferrule_config_free(sc);
    /* Opted in: the application answers, the callback is not called. */
    sc = server_cfg(FERRULE_DECIDE_CERTIFICATE, 0);
    REQUIRE(sc != NULL);
    REQUIRE(ferrule_config_set_cert_select_callback(sc, pick_rsa, NULL) == FERRULE_OK);
    REQUIRE(pair_new(&p, cc, sc, NULL));
    REQUIRE(run(&p, &cs, &ss));
    CHECK_EQ(ferrule_conn_select_certificate(p.server, 0), FERRULE_OK);
    CHECK_EQ(run(&p, &cs, &ss), 0);
    CHECK_EQ(cb_calls, 1);
    CHECK_EQ(ferrule_conn_cert_index(p.server), 0);
    pair_free(&p);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

/* ---- every decision, every way of answering ---------------------------------------- */

enum { AT_ONCE, LATER, OTHER_THREAD, NEVER };

/* The answer the generic run gives each decision. */
static int answer_any(ferrule_conn *c) {
    const uint8_t *key;
    int64_t expires;
    switch (ferrule_conn_pending_decision(c)) {
    case FERRULE_DECISION_CERTIFICATE: return ferrule_conn_select_certificate(c, 1);
    case FERRULE_DECISION_ALPN:
        return ferrule_conn_select_alpn(c, FERRULE_ALPN_SELECTED, (const uint8_t *)"h2", 2);
    case FERRULE_DECISION_VERIFY: return ferrule_conn_verify_done(c, FERRULE_VERIFY_ACCEPT);
    case FERRULE_DECISION_EARLY_DATA: return ferrule_conn_early_accept(c, 1);
    case FERRULE_DECISION_REPLAY:
        if (ferrule_conn_replay_key(c, &key, &expires) != FERRULE_OK) return -1;
        return ferrule_conn_replay_result(c, store_check(key));
    default: return -1;
    }
}

static void *answer_any_later(void *arg) {
    answerer *a = arg;
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
    __atomic_store_n(&a->st, answer_any(a->conn), __ATOMIC_SEQ_CST);
    return NULL;
}

/* Answer the pause of `c` in `mode`; then the paused side has been driven
 * once more (its status in *st). */
static int answer_in_mode(pair *p, ferrule_conn *c, int mode, int *st) {
    if (mode == AT_ONCE) {
        if (answer_any(c) != FERRULE_OK) return 0;
        *st = ferrule_conn_handshake(c);
        return 1;
    }
    if (mode == LATER) {
        for (int turn = 0; turn < 3; turn++) {
            uint8_t buf[8];
            size_t n;
            if (ferrule_conn_handshake(c) != FERRULE_WANT_APP ||
                ferrule_conn_read(c, buf, sizeof(buf), &n) != FERRULE_WANT_APP)
                return 0;
            int other = ferrule_conn_handshake(c == p->client ? p->server : p->client);
            if (other != FERRULE_WANT_READ && other != FERRULE_OK) return 0;
        }
        if (answer_any(c) != FERRULE_OK) return 0;
        *st = ferrule_conn_handshake(c);
        return 1;
    }
    /* The event loop keeps driving until the worker's answer lands (then
     * the handshake goes on, or pauses for the next decision). */
    answerer a = {c, -1};
    pthread_t t;
    if (pthread_create(&t, NULL, answer_any_later, &a) != 0) return 0;
    while ((*st = ferrule_conn_handshake(c)) == FERRULE_WANT_APP &&
           __atomic_load_n(&a.st, __ATOMIC_SEQ_CST) == -1) {
        struct timespec ts = {0, 200 * 1000};
        nanosleep(&ts, NULL);
    }
    pthread_join(t, NULL);
    *st = ferrule_conn_handshake(c);
    return a.st == FERRULE_OK;
}

/* One handshake (0-RTT with `sess`) with every decision opted into, each
 * answered in `mode`, or (NEVER) freed at pause number `stop`.  Writes the
 * decisions asked, in order, as digits; 1 if both sides completed. */
static int all_decisions(ferrule_config *cc, ferrule_config *sc, const uint8_t *sess,
                         size_t sess_len, int mode, int stop, char *asked, size_t cap) {
    pair p;
    int cs, ss, pauses = 0, ok = 0;
    size_t n = 0, k = 0;
    asked[0] = '\0';
    if (!pair_new(&p, cc, sc, NULL)) return 0;
    if (sess_len > 0 && (ferrule_conn_set_session(p.client, sess, sess_len) != FERRULE_OK ||
                         ferrule_conn_write_early_data(p.client, (const uint8_t *)EARLY,
                                                       sizeof(EARLY) - 1,
                                                       FERRULE_EARLY_DATA_REPLAY_SAFE,
                                                       &n) != FERRULE_OK))
        goto out;
    while (run(&p, &cs, &ss)) {
        ferrule_conn *c = cs == FERRULE_WANT_APP ? p.client : p.server;
        if (k + 2 < cap) {
            asked[k++] = (char)('0' + ferrule_conn_pending_decision(c));
            asked[k] = '\0';
        }
        if (mode == NEVER && pauses == stop) goto out; /* freed while paused */
        pauses++;
        int st;
        if (!answer_in_mode(&p, c, mode == NEVER ? AT_ONCE : mode, &st)) goto out;
        pair_move(c, c == p.client ? p.server : p.client);
    }
    ok = cs == FERRULE_OK && ss == FERRULE_OK && ferrule_conn_cert_index(p.server) != 0 &&
         alpn_is(p.client, "h2");
out:
    pair_free(&p);
    return ok;
}

TEST(every_decision_every_way) {
    ferrule_config *sc = early_server(FERRULE_DECIDE_ALL);
    ferrule_config *cc = client_cfg(FERRULE_DECIDE_ALL, "h2");
    REQUIRE(sc != NULL && cc != NULL && ferrule_config_set_early_data(cc, NULL) == FERRULE_OK);
    static uint8_t sess[8192];
    char asked[32];
    n_seen = store_calls = 0;
    /* A full handshake: ALPN, CERTIFICATE (server), VERIFY (client). */
    pair p;
    int cs, ss;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    while (run(&p, &cs, &ss)) {
        ferrule_conn *c = cs == FERRULE_WANT_APP ? p.client : p.server;
        REQUIRE(answer_any(c) == FERRULE_OK);
    }
    REQUIRE(cs == FERRULE_OK && ss == FERRULE_OK);
    size_t sess_len = session_of(&p, sess, sizeof(sess));
    REQUIRE(sess_len > 0);
    pair_free(&p);
    for (int mode = AT_ONCE; mode <= OTHER_THREAD; mode++) {
        CHECK(all_decisions(cc, sc, NULL, 0, mode, 0, asked, sizeof(asked)));
        CHECK(strcmp(asked, "213") == 0);
        /* Resumed with 0-RTT: ALPN, CERTIFICATE, EARLY_DATA, and REPLAY for
         * the ticket and the hello; the same ticket again is a replay (the
         * store refuses it, the hello is not asked about). */
        n_seen = 0;
        CHECK(all_decisions(cc, sc, sess, sess_len, mode, 0, asked, sizeof(asked)));
        CHECK(strcmp(asked, "21455") == 0);
        CHECK(all_decisions(cc, sc, sess, sess_len, mode, 0, asked, sizeof(asked)));
        CHECK(strcmp(asked, "2145") == 0); /* replayed ticket: refused, no hello key */
    }
    /* Never answered, at each pause in turn (ASan: nothing leaks). */
    for (int stop = 0; stop < 5; stop++) {
        n_seen = 0;
        CHECK_EQ(all_decisions(cc, sc, sess, sess_len, NEVER, stop, asked, sizeof(asked)), 0);
        CHECK_EQ(strlen(asked), (size_t)stop + 1);
    }
    for (int stop = 0; stop < 3; stop++)
        CHECK_EQ(all_decisions(cc, sc, NULL, 0, NEVER, stop, asked, sizeof(asked)), 0);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

TEST_MAIN("decisions", TL_CASE(certificate_answered_at_once), TL_CASE(certificate_refusals),
          TL_CASE(answered_later_after_other_turns), TL_CASE(answered_from_another_thread),
          TL_CASE(misuse_changes_nothing), TL_CASE(alpn_answers_reach_the_client),
          TL_CASE(client_verdict), TL_CASE(server_verdict_and_resumed_identity),
          TL_CASE(early_data_and_replay_answered_by_the_application),
          TL_CASE(early_data_read_pauses_too), TL_CASE(never_answered_connections_are_freed),
          TL_CASE(after_hello_retry_request),
          TL_CASE(resumption_after_hello_retry_request_with_decisions),
          TL_CASE(opt_in_wins_over_a_callback), TL_CASE(every_decision_every_way))
