/* test_decisions_buf.c - application decisions (docs/decisions.md) over
 * the buffer API: ferrule_conn_process returns FERRULE_WANT_APP and
 * ferrule_conn_flags() reports FERRULE_FLAG_WANT_APP (without WANT_INPUT)
 * while a decision waits; records borrowed in with input_buf during the
 * pause stay unread until the answer; a client paused on the server's
 * Certificate resumes with the rest of the flight it already holds;
 * decisions answered by callbacks complete inside one process call; a
 * callback's invalid answer fails the connection and its alert still
 * leaves through `out`.  Also the flags over feed/take and the data calls
 * of a paused connection.  Public ABI only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferrule.h"
#include "support_pair.h"
#include "testlib.h"

/* ---- harness ------------------------------------------------------------------- */

/* Bytes in flight in one direction. */
typedef struct wire {
    uint8_t b[1 << 16];
    size_t n;
} wire;

/* One ferrule_conn_process call on `c`: what `in` holds goes in (the
 * consumed bytes leave it), the output is appended to `out`. */
static int step(ferrule_conn *c, wire *in, wire *out, uint32_t *flags) {
    size_t used = 0, written = 0;
    int st = ferrule_conn_process(c, in->b, in->n, &used, out->b + out->n, sizeof(out->b) - out->n,
                                  &written, flags);
    memmove(in->b, in->b + used, in->n - used);
    in->n -= used;
    out->n += written;
    return st;
}

/* The zero-copy transport: everything `from` has to send, borrowed with
 * output_buf and written straight into `to`'s borrowed input space. */
static size_t zc_move(ferrule_conn *from, ferrule_conn *to) {
    size_t moved = 0;
    for (;;) {
        const uint8_t *p;
        size_t len;
        uint8_t *q;
        size_t cap;
        if (ferrule_conn_output_buf(from, &p, &len) != FERRULE_OK) return moved;
        if (len == 0 || ferrule_conn_input_buf(to, &q, &cap) != FERRULE_OK) {
            int st = ferrule_conn_output_ack(from, 0);
            return st == FERRULE_OK ? moved : 0;
        }
        size_t k = len < cap ? len : cap;
        memcpy(q, p, k);
        int ok = ferrule_conn_input_ack(to, k) == FERRULE_OK &&
                 ferrule_conn_output_ack(from, k) == FERRULE_OK;
        moved += k;
        if (!ok || k == 0) return moved;
    }
}

static ferrule_config *server_cfg(uint32_t decide) {
    ferrule_config *sc = pair_server_config("ecdsa-p256");
    if (sc == NULL) return NULL;
    if (ferrule_config_add_cert_chain_file(sc, pair_pki("rsa.chain.pem"), pair_pki("rsa.key")) !=
            FERRULE_OK ||
        ferrule_config_set_tickets(sc, 0) != FERRULE_OK ||
        ferrule_config_set_decisions(sc, decide) != FERRULE_OK) {
        ferrule_config_free(sc);
        return NULL;
    }
    return sc;
}

static ferrule_config *client_cfg(uint32_t decide) {
    ferrule_config *cc = pair_client_config();
    if (cc == NULL) return NULL;
    if (ferrule_config_set_decisions(cc, decide) != FERRULE_OK ||
        ferrule_config_add_alpn(cc, (const uint8_t *)"h2", 2) != FERRULE_OK ||
        ferrule_config_add_alpn(cc, (const uint8_t *)"http/1.1", 8) != FERRULE_OK) {
        ferrule_config_free(cc);
        return NULL;
    }
    return cc;
}

static int alpn_is(ferrule_conn *c, const char *want) {
    const uint8_t *p;
    size_t n;
    ferrule_conn_alpn(c, &p, &n);
    return n == strlen(want) && memcmp(p, want, n) == 0;
}

/* Process both sides over two wires until both are connected, one fails,
 * or one stops at a decision (its status returned in *paused_st). */
static int run_process(pair *p, wire *c2s, wire *s2c, int *cs, int *ss) {
    uint32_t f;
    for (int round = 0; round < 16; round++) {
        *cs = step(p->client, s2c, c2s, &f);
        if (*cs == FERRULE_WANT_APP) return 1;
        *ss = step(p->server, c2s, s2c, &f);
        if (*ss == FERRULE_WANT_APP) return 1;
        if (*cs != FERRULE_OK || *ss != FERRULE_OK) return 0;
        if (ferrule_conn_handshake_state(p->client) == FERRULE_HS_CONNECTED &&
            ferrule_conn_handshake_state(p->server) == FERRULE_HS_CONNECTED && c2s->n == 0 &&
            s2c->n == 0)
            return 0;
    }
    return 0;
}

static wire c2s_w, s2c_w;

/* ---- process and flags ------------------------------------------------------------- */

TEST(process_returns_want_app_and_flags_show_it) {
    ferrule_config *sc = server_cfg(FERRULE_DECIDE_ALPN | FERRULE_DECIDE_CERTIFICATE);
    ferrule_config *cc = client_cfg(0);
    pair p;
    REQUIRE(sc != NULL && cc != NULL && pair_new(&p, cc, sc, NULL));
    wire *c2s = &c2s_w, *s2c = &s2c_w;
    c2s->n = s2c->n = 0;
    uint32_t f = 0;
    CHECK_EQ(step(p.client, s2c, c2s, &f), FERRULE_OK); /* the ClientHello */
    CHECK(c2s->n > 0);
    size_t hello = c2s->n;
    CHECK_EQ(step(p.server, c2s, s2c, &f), FERRULE_WANT_APP);
    CHECK_EQ(c2s->n, 0);  /* all consumed: the hello waits inside */
    CHECK_EQ(s2c->n, 0);  /* nothing sent while paused */
    CHECK(f & FERRULE_FLAG_WANT_APP);
    CHECK(!(f & FERRULE_FLAG_WANT_INPUT));
    CHECK_EQ(ferrule_conn_flags(p.server), f);
    CHECK_EQ(ferrule_conn_pending_decision(p.server), FERRULE_DECISION_ALPN);
    /* Again without an answer: the same, nothing moves. */
    CHECK_EQ(step(p.server, c2s, s2c, &f), FERRULE_WANT_APP);
    CHECK(f & FERRULE_FLAG_WANT_APP);
    CHECK_EQ(s2c->n, 0);
    CHECK_EQ(ferrule_conn_select_alpn(p.server, FERRULE_ALPN_SELECTED,
                                      (const uint8_t *)"http/1.1", 8),
             FERRULE_OK);
    /* Answered: neither a decision nor input is waited for, the paused
     * message is. */
    f = ferrule_conn_flags(p.server);
    CHECK(!(f & FERRULE_FLAG_WANT_APP));
    CHECK(!(f & FERRULE_FLAG_WANT_INPUT));
    CHECK_EQ(step(p.server, c2s, s2c, &f), FERRULE_WANT_APP);
    CHECK_EQ(ferrule_conn_pending_decision(p.server), FERRULE_DECISION_CERTIFICATE);
    CHECK(f & FERRULE_FLAG_WANT_APP);
    CHECK_EQ(ferrule_conn_select_certificate(p.server, 1), FERRULE_OK);
    CHECK_EQ(step(p.server, c2s, s2c, &f), FERRULE_OK);
    CHECK(s2c->n > hello); /* the server's flight */
    CHECK(!(f & FERRULE_FLAG_WANT_APP));
    CHECK(f & FERRULE_FLAG_WANT_INPUT); /* the client's Finished next */
    int cs, ss;
    CHECK_EQ(run_process(&p, c2s, s2c, &cs, &ss), 0);
    CHECK(cs == FERRULE_OK && ss == FERRULE_OK);
    CHECK_EQ(ferrule_conn_handshake_state(p.client), FERRULE_HS_CONNECTED);
    CHECK_EQ(ferrule_conn_handshake_state(p.server), FERRULE_HS_CONNECTED);
    CHECK(alpn_is(p.client, "http/1.1"));
    CHECK_EQ(ferrule_conn_cert_index(p.server), 1);
    pair_free(&p);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

/* A change_cipher_spec right behind the ClientHello, as middlebox-
 * compatible clients send it (RFC 8446 Appendix D.4): read before the
 * hello is answered it would be a CCS in a state that takes none (and
 * inside a buffered message), so the pause must leave it unread. */
static const uint8_t CCS[6] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01};

TEST(input_borrowed_during_a_pause_waits) {
    ferrule_config *sc = server_cfg(FERRULE_DECIDE_CERTIFICATE), *cc = client_cfg(0);
    pair p;
    REQUIRE(sc != NULL && cc != NULL && pair_new(&p, cc, sc, NULL));
    wire *c2s = &c2s_w, *s2c = &s2c_w;
    c2s->n = s2c->n = 0;
    uint32_t f;
    CHECK_EQ(step(p.client, s2c, c2s, &f), FERRULE_OK);
    CHECK_EQ(step(p.server, c2s, s2c, &f), FERRULE_WANT_APP);
    /* The input buffer can still be borrowed and filled meanwhile. */
    uint8_t *q;
    size_t cap;
    REQUIRE(ferrule_conn_input_buf(p.server, &q, &cap) == FERRULE_OK && cap >= sizeof(CCS));
    memcpy(q, CCS, sizeof(CCS));
    CHECK_EQ(ferrule_conn_input_ack(p.server, sizeof(CCS)), FERRULE_OK);
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_APP);
    CHECK_EQ(ferrule_conn_status(p.server), FERRULE_OK);
    CHECK(ferrule_conn_flags(p.server) & FERRULE_FLAG_WANT_APP);
    CHECK_EQ(ferrule_conn_select_certificate(p.server, 0), FERRULE_OK);
    /* Answered: the hello, then the CCS (dropped), in one call. */
    CHECK_EQ(step(p.server, c2s, s2c, &f), FERRULE_OK);
    CHECK_EQ(ferrule_conn_status(p.server), FERRULE_OK);
    CHECK(f & FERRULE_FLAG_WANT_INPUT);
    int cs, ss;
    CHECK_EQ(run_process(&p, c2s, s2c, &cs, &ss), 0);
    CHECK(cs == FERRULE_OK && ss == FERRULE_OK);
    CHECK_EQ(ferrule_conn_handshake_state(p.server), FERRULE_HS_CONNECTED);
    pair_free(&p);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

TEST(client_verdict_over_borrowed_buffers) {
    /* The client pauses on the server's Certificate with CertificateVerify
     * and Finished already buffered behind it; after the verdict it goes
     * on with them.  Every byte moves through output_buf / input_buf.
     * Before the pause it wrote only its compatibility change_cipher_spec
     * (RFC 8446 Appendix D.4: sent once the ServerHello is processed). */
    ferrule_config *sc = server_cfg(0), *cc = client_cfg(FERRULE_DECIDE_VERIFY);
    pair p;
    REQUIRE(sc != NULL && cc != NULL && pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
    CHECK(zc_move(p.client, p.server) > 0);
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_READ);
    CHECK(zc_move(p.server, p.client) > 0);
    uint32_t f = 0;
    size_t used, written;
    uint8_t out[256];
    CHECK_EQ(ferrule_conn_process(p.client, NULL, 0, &used, out, sizeof(out), &written, &f),
             FERRULE_WANT_APP);
    CHECK_EQ(written, sizeof(CCS));
    CHECK(written == sizeof(CCS) && memcmp(out, CCS, sizeof(CCS)) == 0);
    size_t k;
    CHECK_EQ(ferrule_conn_feed(p.server, out, written, &k), FERRULE_OK);
    CHECK_EQ(k, written);
    CHECK_EQ(ferrule_conn_pending_decision(p.client), FERRULE_DECISION_VERIFY);
    CHECK(f & FERRULE_FLAG_WANT_APP);
    CHECK(!(f & FERRULE_FLAG_WANT_INPUT));
    CHECK(ferrule_conn_verify_result(p.client) != NULL);
    CHECK_EQ(ferrule_conn_handshake_state(p.client), FERRULE_HS_WAIT_CERTIFICATE_OR_REQUEST);
    CHECK_EQ(ferrule_conn_verify_done(p.client, FERRULE_VERIFY_ACCEPT), FERRULE_OK);
    CHECK_EQ(ferrule_conn_process(p.client, NULL, 0, &used, out, sizeof(out), &written, &f),
             FERRULE_OK);
    CHECK_EQ(ferrule_conn_handshake_state(p.client), FERRULE_HS_CONNECTED);
    CHECK(written > 0); /* the client's Finished */
    CHECK(!(f & FERRULE_FLAG_WANT_APP));
    CHECK(written < sizeof(CCS) || memcmp(out, CCS, sizeof(CCS)) != 0); /* only one CCS */
    CHECK_EQ(ferrule_conn_feed(p.server, out, written, &k), FERRULE_OK);
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_OK);
    pair_free(&p);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

/* ---- callbacks inside one process call ---------------------------------------------- */

static int cb_calls;
static int pick_rsa(void *ctx, const ferrule_conn *conn, const ferrule_client_hello *h) {
    (void)ctx;
    (void)conn;
    (void)h;
    cb_calls++;
    return 1;
}

static int pick_unoffered(void *ctx, const ferrule_conn *conn, const ferrule_client_hello *h,
                          const uint8_t **proto, size_t *len) {
    (void)ctx;
    (void)conn;
    (void)h;
    cb_calls++;
    *proto = (const uint8_t *)"spdy/3";
    *len = 6;
    return FERRULE_ALPN_SELECTED;
}

TEST(callbacks_answer_inside_one_process_call) {
    /* Not opted in: the callback answers the pause at once, so one call
     * takes the ClientHello and produces the whole flight. */
    ferrule_config *sc = server_cfg(0), *cc = client_cfg(0);
    REQUIRE(sc != NULL && cc != NULL);
    REQUIRE(ferrule_config_set_cert_select_callback(sc, pick_rsa, NULL) == FERRULE_OK);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    wire *c2s = &c2s_w, *s2c = &s2c_w;
    c2s->n = s2c->n = 0;
    uint32_t f;
    cb_calls = 0;
    CHECK_EQ(step(p.client, s2c, c2s, &f), FERRULE_OK);
    CHECK_EQ(step(p.server, c2s, s2c, &f), FERRULE_OK);
    CHECK_EQ(cb_calls, 1);
    CHECK(s2c->n > 0);
    CHECK(!(f & FERRULE_FLAG_WANT_APP));
    CHECK_EQ(ferrule_conn_pending_decision(p.server), FERRULE_DECISION_NONE);
    int cs, ss;
    CHECK_EQ(run_process(&p, c2s, s2c, &cs, &ss), 0);
    CHECK(cs == FERRULE_OK && ss == FERRULE_OK);
    CHECK_EQ(ferrule_conn_cert_index(p.server), 1);
    pair_free(&p);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

TEST(callback_failure_inside_process_sends_its_alert) {
    ferrule_config *sc = server_cfg(0), *cc = client_cfg(0);
    REQUIRE(sc != NULL && cc != NULL);
    REQUIRE(ferrule_config_set_alpn_select_callback(sc, pick_unoffered, NULL) == FERRULE_OK);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    wire *c2s = &c2s_w, *s2c = &s2c_w;
    c2s->n = s2c->n = 0;
    uint32_t f;
    CHECK_EQ(step(p.client, s2c, c2s, &f), FERRULE_OK);
    CHECK_EQ(step(p.server, c2s, s2c, &f), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.server), FERRULE_R_ALPN_NOT_OFFERED);
    CHECK(f & FERRULE_FLAG_FAILED);
    CHECK(!(f & FERRULE_FLAG_WANT_APP));
    CHECK_EQ(s2c->n, 7); /* the plaintext internal_error alert */
    CHECK_EQ(step(p.client, s2c, c2s, &f), FERRULE_ALERT_RECEIVED);
    CHECK_EQ(ferrule_conn_alert(p.client), FERRULE_ALERT_INTERNAL_ERROR);
    pair_free(&p);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

/* ---- feed / take ------------------------------------------------------------------------ */

TEST(flags_and_data_calls_over_feed_and_take) {
    ferrule_config *sc = server_cfg(FERRULE_DECIDE_CERTIFICATE), *cc = client_cfg(0);
    pair p;
    REQUIRE(sc != NULL && cc != NULL && pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
    CHECK(pair_move(p.client, p.server) > 0);
    CHECK(ferrule_conn_flags(p.server) == 0); /* a whole record waits */
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_APP);
    uint32_t f = ferrule_conn_flags(p.server);
    CHECK(f & FERRULE_FLAG_WANT_APP);
    CHECK(!(f & (FERRULE_FLAG_WANT_INPUT | FERRULE_FLAG_HAS_OUTPUT | FERRULE_FLAG_FAILED)));
    /* Every driving call says the same while the decision waits. */
    uint8_t buf[32];
    const uint8_t *bp;
    size_t n, bl;
    CHECK_EQ(ferrule_conn_read(p.server, buf, sizeof(buf), &n), FERRULE_WANT_APP);
    CHECK_EQ(ferrule_conn_read_buf(p.server, &bp, &bl), FERRULE_WANT_APP);
    CHECK_EQ(bl, 0);
    CHECK_EQ(ferrule_conn_write(p.server, buf, 4, &n), FERRULE_WANT_APP);
    CHECK_EQ(n, 0);
    CHECK_EQ(ferrule_conn_take(p.server, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK_EQ(n, 0);
    CHECK(ferrule_conn_flags(p.server) & FERRULE_FLAG_WANT_APP);
    CHECK_EQ(ferrule_conn_select_certificate(p.server, 0), FERRULE_OK);
    CHECK(!(ferrule_conn_flags(p.server) & (FERRULE_FLAG_WANT_APP | FERRULE_FLAG_WANT_INPUT)));
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_READ);
    f = ferrule_conn_flags(p.server);
    CHECK(f & FERRULE_FLAG_HAS_OUTPUT);
    CHECK(f & FERRULE_FLAG_WANT_INPUT);
    CHECK(!(f & FERRULE_FLAG_WANT_APP));
    int cs, ss;
    CHECK(pair_handshake(&p, &cs, &ss));
    CHECK_EQ(ferrule_conn_flags(p.server) & FERRULE_FLAG_WANT_APP, 0);
    pair_free(&p);
    ferrule_config_free(sc);
    ferrule_config_free(cc);
}

TEST(decide_bits_are_checked) {
    ferrule_config *sc = pair_server_config("ecdsa-p256");
    REQUIRE(sc != NULL);
    CHECK_EQ(ferrule_config_set_decisions(sc, FERRULE_DECIDE_ALL + 1), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(sc), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(ferrule_config_set_decisions(sc, 1u << 31), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_decisions(sc, FERRULE_DECIDE_ALL), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_decisions(NULL, 0), FERRULE_USAGE);
    CHECK(strcmp(ferrule_status_name(FERRULE_WANT_APP), "want-app") == 0);
    CHECK(strcmp(ferrule_reason_name(FERRULE_R_NO_DECISION), "no_decision") == 0);
    CHECK(strcmp(ferrule_reason_name(FERRULE_R_WRONG_DECISION), "wrong_decision") == 0);
    CHECK(strcmp(ferrule_reason_name(FERRULE_R_BAD_ANSWER), "bad_answer") == 0);
    ferrule_config_free(sc);
}

TEST_MAIN("decisions_buf", TL_CASE(process_returns_want_app_and_flags_show_it),
          TL_CASE(input_borrowed_during_a_pause_waits),
          TL_CASE(client_verdict_over_borrowed_buffers),
          TL_CASE(callbacks_answer_inside_one_process_call),
          TL_CASE(callback_failure_inside_process_sends_its_alert),
          TL_CASE(flags_and_data_calls_over_feed_and_take), TL_CASE(decide_bits_are_checked))
