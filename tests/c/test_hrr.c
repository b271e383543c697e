/* test_hrr.c - HelloRetryRequest (RFC 8446 §4.1.4): the whole exchange in
 * memory, the server's checks of the second ClientHello and its cookie, the
 * client's checks of the HelloRetryRequest, and the stateless cookie. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "record.h"
#include "support_mitm.h"
#include "support_pair.h"
#include "testlib.h"

static const uint16_t CLIENT_GROUPS[2] = {FERRULE_GROUP_X25519, FERRULE_GROUP_SECP384R1};
static const uint16_t SERVER_GROUP = FERRULE_GROUP_SECP384R1;

/* Client [x25519, secp384r1] (one share: x25519) vs server [secp384r1]. */
static int hrr_configs(ferrule_config **cc, ferrule_config **sc) {
    *cc = pair_client_config();
    *sc = pair_server_config("ecdsa-p256");
    return *cc != NULL && *sc != NULL &&
           ferrule_config_set_groups(*cc, CLIENT_GROUPS, 2) == FERRULE_OK &&
           ferrule_config_set_groups(*sc, &SERVER_GROUP, 1) == FERRULE_OK;
}

/* `c` failed with `reason` and queued exactly one plaintext fatal alert. */
static void expect_fail_at(int line, ferrule_conn *c, int st, uint32_t reason, int alert) {
    uint8_t buf[16];
    size_t n = 0;
    int bad = st == FERRULE_OK || st == FERRULE_WANT_READ ||
              ferrule_conn_reason(c) != reason || ferrule_conn_alert(c) != alert ||
              ferrule_conn_handshake_state(c) != FERRULE_HS_FAILED;
    const uint8_t want[7] = {21, 3, 3, 0, 2, 2, (uint8_t)alert};
    if (ferrule_conn_pending_output(c) != 7 || ferrule_conn_take(c, buf, sizeof(buf), &n) != 0 ||
        n != 7 || memcmp(buf, want, 7) != 0)
        bad = 1;
    if (bad) {
        fprintf(stderr, "  %s:%d: got %s / %s alert %d, want %s alert %d\n", __FILE__, line,
                ferrule_status_name(st), ferrule_reason_name(ferrule_conn_reason(c)),
                ferrule_conn_alert(c), ferrule_reason_name(reason), alert);
        tl_failures_in_test++;
    }
}
#define EXPECT_FAIL(c, st, reason, alert) expect_fail_at(__LINE__, (c), (st), (reason), (alert))

/* Like EXPECT_FAIL for a failure found after `c` had queued output of its
 * own (a HelloRetryRequest, a ClientHello): the alert ends that output. */
static void expect_fail_after_output_at(int line, ferrule_conn *c, int st, uint32_t reason,
                                        int alert) {
    uint8_t buf[4096];
    size_t n = 0;
    int bad = st == FERRULE_OK || st == FERRULE_WANT_READ ||
              ferrule_conn_reason(c) != reason || ferrule_conn_alert(c) != alert ||
              ferrule_conn_handshake_state(c) != FERRULE_HS_FAILED;
    const uint8_t want[7] = {21, 3, 3, 0, 2, 2, (uint8_t)alert};
    if (ferrule_conn_take(c, buf, sizeof(buf), &n) != 0 || n < 7 ||
        memcmp(buf + n - 7, want, 7) != 0 || ferrule_conn_pending_output(c) != 0)
        bad = 1;
    if (bad) {
        fprintf(stderr, "  %s:%d: got %s / %s alert %d, want %s alert %d at the end\n", __FILE__,
                line, ferrule_status_name(st), ferrule_reason_name(ferrule_conn_reason(c)),
                ferrule_conn_alert(c), ferrule_reason_name(reason), alert);
        tl_failures_in_test++;
    }
}
#define EXPECT_FAIL_AFTER_OUTPUT(c, st, reason, alert)                                             \
    expect_fail_after_output_at(__LINE__, (c), (st), (reason), (alert))

/* ---- the exchange up to the second ClientHello --------------------------- */

typedef struct hx {
    mitm m;
    mflight *f;  /* the server's HelloRetryRequest flight */
    mflight *f2; /* the client's CCS, then its second ClientHello */
    hello hrr;   /* parsed HelloRetryRequest */
    hello ch2;   /* parsed second ClientHello */
    uint8_t ch1[2048];
    size_t ch1_len;
} hx;

#define CL(x) ((x)->m.p.client)
#define SV(x) ((x)->m.p.server)

static void hx_free(hx *x) {
    if (x == NULL) return;
    mitm_free(&x->m);
    mf_free(x->f);
    mf_free(x->f2);
    free(x);
}

/* Run ClientHello1 -> server, capture the HRR flight (not yet delivered). */
static hx *hx_until_hrr(ferrule_config *cc, ferrule_config *sc) {
    hx *x = calloc(1, sizeof(*x));
    if (x == NULL) return NULL;
    x->f = mf_new();
    x->f2 = mf_new();
    mflight *ch = mf_new();
    int ok = x->f != NULL && x->f2 != NULL && ch != NULL && mitm_init(&x->m, cc, sc) &&
             ferrule_conn_handshake(CL(x)) == FERRULE_WANT_READ && mf_take(ch, CL(x)) &&
             ch->n == 1 && ch->r[0].len <= sizeof(x->ch1);
    if (ok) {
        memcpy(x->ch1, ch->r[0].data, ch->r[0].len);
        x->ch1_len = ch->r[0].len;
        ok = mf_send(ch, SV(x)) && ferrule_conn_handshake(SV(x)) == FERRULE_WANT_READ &&
             ferrule_conn_handshake_state(SV(x)) == FERRULE_HS_WAIT_SECOND_CLIENT_HELLO &&
             mf_take(x->f, SV(x));
    }
    /* HelloRetryRequest, then the one compatibility CCS (RFC 8446 D.4). */
    ok = ok && x->f->n == 2 && x->f->r[0].type == FR_CT_HANDSHAKE &&
         x->f->r[1].type == FR_CT_CHANGE_CIPHER_SPEC &&
         hello_parse(&x->hrr, x->f->r[0].data, x->f->r[0].len) && x->hrr.server;
    mf_free(ch);
    if (!ok) {
        fprintf(stderr, "  could not capture the HelloRetryRequest\n");
        hx_free(x);
        return NULL;
    }
    return x;
}

/* Deliver the (possibly edited) HRR; run the client. */
static int hx_deliver_hrr(hx *x) {
    size_t n = hello_encode(&x->hrr, x->f->r[0].data, MITM_REC_CAP);
    if (n == 0) return -1;
    x->f->r[0].len = n;
    if (!mf_send(x->f, CL(x))) return -1;
    return ferrule_conn_handshake(CL(x));
}

/* The client's answer to a HelloRetryRequest (RFC 8446 Appendix D.4): its
 * one compatibility change_cipher_spec, then the second ClientHello, which
 * is record CH2_REC of x->f2. */
#define CH2_REC 1

/* f2 is exactly the client's CCS (14 03 03 00 01 01), then one handshake
 * record holding the second ClientHello (parsed into x->ch2). */
static int hx_parse_ch2(hx *x) {
    return x->f2->n == 2 && mrec_is_ccs(&x->f2->r[0]) &&
           x->f2->r[CH2_REC].type == FR_CT_HANDSHAKE &&
           hello_parse(&x->ch2, x->f2->r[CH2_REC].data, x->f2->r[CH2_REC].len) &&
           !x->ch2.server;
}

/* The whole way to a captured second ClientHello. */
static hx *hx_until_ch2(void) {
    ferrule_config *cc, *sc;
    if (!hrr_configs(&cc, &sc)) return NULL;
    hx *x = hx_until_hrr(cc, sc);
    if (x == NULL) return NULL;
    int ok = hx_deliver_hrr(x) == FERRULE_WANT_READ && mf_take(x->f2, CL(x)) && hx_parse_ch2(x);
    if (!ok) {
        fprintf(stderr, "  could not capture the second ClientHello\n");
        hx_free(x);
        return NULL;
    }
    return x;
}

/* Re-encode the (edited) second ClientHello; run the server on the CCS
 * and it. */
static int hx_deliver_ch2(hx *x) {
    size_t n = hello_encode(&x->ch2, x->f2->r[CH2_REC].data, MITM_REC_CAP);
    if (n == 0) return -1;
    x->f2->r[CH2_REC].len = n;
    if (!mf_send(x->f2, SV(x))) return -1;
    return ferrule_conn_handshake(SV(x));
}

#define HX(x, make)                                                                                \
    hx *x = make;                                                                                  \
    CHECK(x != NULL);                                                                              \
    if (x == NULL) return

static void exchange(ferrule_conn *a, ferrule_conn *b, const char *msg) {
    size_t n = 0, len = strlen(msg);
    CHECK_EQ(ferrule_conn_write(a, (const uint8_t *)msg, len, &n), FERRULE_OK);
    pair_move(a, b);
    uint8_t buf[128];
    size_t got = 0;
    CHECK_EQ(ferrule_conn_read(b, buf, sizeof(buf), &got), FERRULE_OK);
    CHECK_EQ(got, len);
    CHECK_MEM(buf, msg, len);
}

/* ---- positive ------------------------------------------------------------ */

TEST(hrr_full_handshake) {
    ferrule_config *cc, *sc;
    CHECK(hrr_configs(&cc, &sc));
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    int cs = -1, ss = -1;
    CHECK(pair_handshake(&p, &cs, &ss));
    CHECK_EQ(cs, FERRULE_OK);
    CHECK_EQ(ss, FERRULE_OK);
    CHECK_EQ(ferrule_conn_hrr(p.client), 1);
    CHECK_EQ(ferrule_conn_hrr(p.server), 1);
    CHECK_EQ(ferrule_conn_group(p.client), FERRULE_GROUP_SECP384R1);
    CHECK_EQ(ferrule_conn_group(p.server), FERRULE_GROUP_SECP384R1);
    exchange(p.client, p.server, "after a retry");
    exchange(p.server, p.client, "and back");
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(no_hrr_when_first_group_accepted) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    CHECK(cc != NULL && sc != NULL);
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    int cs = -1, ss = -1;
    CHECK(pair_handshake(&p, &cs, &ss));
    CHECK_EQ(ferrule_conn_hrr(p.client), 0);
    CHECK_EQ(ferrule_conn_hrr(p.server), 0);
    CHECK_EQ(ferrule_conn_group(p.server), pair_default_group());
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(no_common_group_is_handshake_failure) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    CHECK(cc != NULL && sc != NULL);
    const uint16_t x = FERRULE_GROUP_X25519, p384 = FERRULE_GROUP_SECP384R1;
    CHECK_EQ(ferrule_config_set_groups(cc, &x, 1), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_groups(sc, &p384, 1), FERRULE_OK);
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
    pair_move(p.client, p.server);
    int st = ferrule_conn_handshake(p.server);
    EXPECT_FAIL(p.server, st, FERRULE_R_NO_SHARED_PARAMS, FERRULE_ALERT_HANDSHAKE_FAILURE);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(hrr_and_second_hello_shape) {
    HX(x, hx_until_ch2());
    /* HRR: special random, session id echo, key_share = selected_group. */
    hext *ks = hello_find(&x->hrr, FR_EXT_KEY_SHARE);
    CHECK(ks != NULL && ks->len == 2 && ks->body[0] == 0 && ks->body[1] == 0x18);
    CHECK(hello_find(&x->hrr, FR_EXT_COOKIE) != NULL);
    CHECK(hello_find(&x->hrr, FR_EXT_SUPPORTED_VERSIONS) != NULL);
    CHECK_EQ(x->hrr.n_ext, 3);
    /* CH2: same random and session id as CH1; one share, for P-384; the
     * cookie echoed byte for byte. */
    hello ch1;
    CHECK(hello_parse(&ch1, x->ch1, x->ch1_len));
    CHECK_MEM(x->ch2.random, ch1.random, 32);
    CHECK_EQ(x->ch2.sid_len, ch1.sid_len);
    CHECK_MEM(x->ch2.sid, ch1.sid, ch1.sid_len);
    CHECK_EQ(x->ch2.n_suites, ch1.n_suites);
    hext *ks2 = hello_find(&x->ch2, FR_EXT_KEY_SHARE);
    CHECK(ks2 != NULL && ks2->len == 2 + 4 + 97 && ks2->body[3] == 0x18);
    hext *c1 = hello_find(&x->hrr, FR_EXT_COOKIE), *c2 = hello_find(&x->ch2, FR_EXT_COOKIE);
    CHECK(c1 != NULL && c2 != NULL && c1->len == c2->len);
    if (c1 != NULL && c2 != NULL) CHECK_MEM(c1->body, c2->body, c1->len);
    CHECK(hello_find(&ch1, FR_EXT_COOKIE) == NULL);
    /* The client's one CCS precedes ClientHello2 (RFC 8446 D.4), checked
     * by hx_until_ch2: nothing else came with them. */
    CHECK_EQ(x->f2->n, 2);
    CHECK(mrec_is_ccs(&x->f2->r[0]));
    /* The rest of the handshake: no server CCS after the real ServerHello. */
    CHECK_EQ(hx_deliver_ch2(x), FERRULE_WANT_READ);
    mflight *f3 = mf_new();
    CHECK(f3 != NULL && mf_take(f3, SV(x)));
    if (f3 == NULL) {
        hx_free(x);
        return;
    }
    CHECK(f3->n >= 2 && f3->r[0].type == FR_CT_HANDSHAKE);
    for (size_t i = 1; i < f3->n; i++) CHECK_EQ(f3->r[i].type, FR_CT_APPLICATION_DATA);
    CHECK(mf_send(f3, CL(x)));
    CHECK_EQ(ferrule_conn_handshake(CL(x)), FERRULE_OK);
    CHECK(mitm_pass(CL(x), SV(x)));
    CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_OK);
    exchange(CL(x), SV(x), "ping");
    mf_free(f3);
    hx_free(x);
}

/* ---- the server's checks of ClientHello2 ---------------------------------- */

TEST(ch2_cookie_tampered) {
    HX(x, hx_until_ch2());
    hext *ck = hello_find(&x->ch2, FR_EXT_COOKIE);
    CHECK(ck != NULL && ck->len > 10);
    if (ck == NULL) return;
    ck->body[5] ^= 0x01;
    EXPECT_FAIL(SV(x), hx_deliver_ch2(x), FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    hx_free(x);
}

TEST(ch2_cookie_tag_tampered) {
    HX(x, hx_until_ch2());
    hext *ck = hello_find(&x->ch2, FR_EXT_COOKIE);
    CHECK(ck != NULL && ck->len > 10);
    if (ck == NULL) return;
    ck->body[ck->len - 1] ^= 0x80;
    EXPECT_FAIL(SV(x), hx_deliver_ch2(x), FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    hx_free(x);
}

TEST(ch2_cookie_truncated) {
    HX(x, hx_until_ch2());
    hext *ck = hello_find(&x->ch2, FR_EXT_COOKIE);
    CHECK(ck != NULL && ck->len > 10);
    if (ck == NULL) return;
    ck->len = 2 + 20; /* a short but well-framed cookie */
    ck->body[0] = 0;
    ck->body[1] = 20;
    EXPECT_FAIL(SV(x), hx_deliver_ch2(x), FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    hx_free(x);
}

TEST(ch2_cookie_missing) {
    HX(x, hx_until_ch2());
    CHECK(hello_remove(&x->ch2, FR_EXT_COOKIE));
    EXPECT_FAIL(SV(x), hx_deliver_ch2(x), FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    hx_free(x);
}

TEST(ch2_cookie_from_another_handshake) {
    /* A genuine cookie, but issued for another ClientHello1. */
    HX(a, hx_until_ch2());
    HX(b, hx_until_ch2());
    hext *ca = hello_find(&a->ch2, FR_EXT_COOKIE), *cb = hello_find(&b->ch2, FR_EXT_COOKIE);
    CHECK(ca != NULL && cb != NULL);
    if (ca != NULL && cb != NULL) {
        memcpy(ca->body, cb->body, cb->len);
        ca->len = cb->len;
        EXPECT_FAIL(SV(a), hx_deliver_ch2(a), FERRULE_R_ILLEGAL_PARAMETER,
                    FERRULE_ALERT_ILLEGAL_PARAMETER);
    }
    hx_free(a);
    hx_free(b);
}

TEST(ch2_random_changed) {
    HX(x, hx_until_ch2());
    x->ch2.random[7] ^= 0x40;
    EXPECT_FAIL(SV(x), hx_deliver_ch2(x), FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    hx_free(x);
}

TEST(ch2_session_id_changed) {
    HX(x, hx_until_ch2());
    x->ch2.sid[0] ^= 1;
    EXPECT_FAIL(SV(x), hx_deliver_ch2(x), FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    hx_free(x);
}

TEST(ch2_cipher_suites_changed) {
    for (int mode = 0; mode < 2; mode++) {
        HX(x, hx_until_ch2());
        CHECK(x->ch2.n_suites >= 2);
        if (mode == 0) {
            x->ch2.n_suites--; /* drop the last */
        } else {               /* swap the first two */
            uint16_t t = x->ch2.suites[0];
            x->ch2.suites[0] = x->ch2.suites[1];
            x->ch2.suites[1] = t;
        }
        EXPECT_FAIL(SV(x), hx_deliver_ch2(x), FERRULE_R_ILLEGAL_PARAMETER,
                    FERRULE_ALERT_ILLEGAL_PARAMETER);
        hx_free(x);
    }
}

TEST(ch2_selected_suite_missing) {
    /* Only the suite the HRR chose is removed (and so the digest changes
     * too): either check refuses it. */
    HX(x, hx_until_ch2());
    CHECK_EQ(x->hrr.suites[0], x->ch2.suites[0]);
    memmove(x->ch2.suites, x->ch2.suites + 1, (x->ch2.n_suites - 1) * sizeof(uint16_t));
    x->ch2.n_suites--;
    EXPECT_FAIL(SV(x), hx_deliver_ch2(x), FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    hx_free(x);
}

TEST(ch2_no_common_suite_left) {
    HX(x, hx_until_ch2());
    x->ch2.suites[0] = 0x1304; /* CCM only: none of ours */
    x->ch2.n_suites = 1;
    EXPECT_FAIL(SV(x), hx_deliver_ch2(x), FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    hx_free(x);
}

TEST(ch2_extension_changed_or_dropped) {
    static const uint16_t types[] = {FR_EXT_SUPPORTED_GROUPS, FR_EXT_SIGNATURE_ALGORITHMS,
                                     FR_EXT_SERVER_NAME, FR_EXT_SUPPORTED_VERSIONS};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        for (int drop = 0; drop < 2; drop++) {
            HX(x, hx_until_ch2());
            hext *e = hello_find(&x->ch2, types[i]);
            CHECK(e != NULL && e->len > 2);
            if (e == NULL) return;
            if (drop) {
                CHECK(hello_remove(&x->ch2, types[i]));
            } else {
                e->body[e->len - 1] ^= 0x01;
            }
            int st = hx_deliver_ch2(x);
            if (types[i] == FR_EXT_SUPPORTED_VERSIONS && !drop) {
                /* 0x0304 -> 0x0305: no TLS 1.3 left. */
                EXPECT_FAIL(SV(x), st, FERRULE_R_PROTOCOL_VERSION,
                            FERRULE_ALERT_PROTOCOL_VERSION);
            } else if (drop && types[i] != FR_EXT_SERVER_NAME) {
                CHECK(st != FERRULE_OK && st != FERRULE_WANT_READ);
                CHECK_EQ(ferrule_conn_handshake_state(SV(x)), FERRULE_HS_FAILED);
            } else {
                EXPECT_FAIL(SV(x), st, FERRULE_R_ILLEGAL_PARAMETER,
                            FERRULE_ALERT_ILLEGAL_PARAMETER);
            }
            hx_free(x);
        }
    }
}

TEST(ch2_extension_added) {
    HX(x, hx_until_ch2());
    static const uint8_t alpn[] = {0, 3, 2, 'h', '2'};
    CHECK(hello_add(&x->ch2, 0, FR_EXT_ALPN, alpn, sizeof(alpn)) != NULL);
    EXPECT_FAIL(SV(x), hx_deliver_ch2(x), FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    hx_free(x);
}

TEST(ch2_early_data_added) {
    /* RFC 8446 §4.2.10: no early_data in the second ClientHello (the
     * cookie digest lets it change, the 0-RTT code refuses it). */
    HX(x, hx_until_ch2());
    CHECK(hello_add(&x->ch2, 0, FR_EXT_EARLY_DATA, NULL, 0) != NULL);
    EXPECT_FAIL(SV(x), hx_deliver_ch2(x), FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    hx_free(x);
}

TEST(ch2_key_share_wrong_group) {
    HX(x, hx_until_ch2());
    hext *ks = hello_find(&x->ch2, FR_EXT_KEY_SHARE);
    CHECK(ks != NULL);
    if (ks == NULL) return;
    /* One x25519 share (a valid-looking point) instead of P-384. */
    uint8_t body[2 + 4 + 32];
    body[0] = 0;
    body[1] = 36;
    body[2] = 0x00;
    body[3] = 0x1d;
    body[4] = 0;
    body[5] = 32;
    for (size_t i = 0; i < 32; i++) body[6 + i] = (uint8_t)(9 + i);
    memcpy(ks->body, body, sizeof(body));
    ks->len = sizeof(body);
    /* BoGo SecondClientHelloWrongCurve-TLS13. */
    EXPECT_FAIL(SV(x), hx_deliver_ch2(x), FERRULE_R_WRONG_GROUP,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    hx_free(x);
}

TEST(ch2_key_share_two_shares) {
    HX(x, hx_until_ch2());
    hext *ks = hello_find(&x->ch2, FR_EXT_KEY_SHARE);
    CHECK(ks != NULL && ks->len == 2 + 4 + 97);
    if (ks == NULL) return;
    /* The P-384 share followed by an x25519 one. */
    uint8_t *p = ks->body + ks->len;
    p[0] = 0x00;
    p[1] = 0x1d;
    p[2] = 0;
    p[3] = 32;
    for (size_t i = 0; i < 32; i++) p[4 + i] = (uint8_t)(9 + i);
    ks->len += 36;
    ks->body[0] = (uint8_t)((ks->len - 2) >> 8);
    ks->body[1] = (uint8_t)(ks->len - 2);
    EXPECT_FAIL(SV(x), hx_deliver_ch2(x), FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    hx_free(x);
}

TEST(ch2_key_share_missing_entries) {
    HX(x, hx_until_ch2());
    hext *ks = hello_find(&x->ch2, FR_EXT_KEY_SHARE);
    CHECK(ks != NULL);
    if (ks == NULL) return;
    ks->body[0] = 0;
    ks->body[1] = 0;
    ks->len = 2;
    /* No share for the selected group: WRONG_GROUP, illegal_parameter. */
    EXPECT_FAIL(SV(x), hx_deliver_ch2(x), FERRULE_R_WRONG_GROUP,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    hx_free(x);
}

TEST(ch2_replayed_first_hello) {
    /* ClientHello1 again instead of ClientHello2 (no cookie, no share for
     * the selected group). */
    HX(x, hx_until_ch2());
    mflight *f = mf_new();
    CHECK(f != NULL);
    if (f == NULL) {
        hx_free(x);
        return;
    }
    CHECK(mf_add_plain(f, FR_CT_HANDSHAKE, x->ch1, x->ch1_len) != NULL);
    CHECK(mf_send(f, SV(x)));
    EXPECT_FAIL(SV(x), ferrule_conn_handshake(SV(x)), FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    mf_free(f);
    hx_free(x);
}

/* ---- the client's checks of the HelloRetryRequest -------------------------- */

static hx *hx_hrr_default(void) {
    ferrule_config *cc, *sc;
    if (!hrr_configs(&cc, &sc)) return NULL;
    return hx_until_hrr(cc, sc);
}

static void set_selected_group(hx *x, uint16_t g) {
    hext *ks = hello_find(&x->hrr, FR_EXT_KEY_SHARE);
    CHECK(ks != NULL);
    if (ks == NULL) return;
    ks->body[0] = (uint8_t)(g >> 8);
    ks->body[1] = (uint8_t)g;
}

TEST(hrr_group_already_shared) {
    HX(x, hx_hrr_default());
    set_selected_group(x, FERRULE_GROUP_X25519);
    EXPECT_FAIL(CL(x), hx_deliver_hrr(x), FERRULE_R_WRONG_GROUP,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    hx_free(x);
}

TEST(hrr_group_not_offered) {
    HX(x, hx_hrr_default());
    set_selected_group(x, FERRULE_GROUP_SECP256R1); /* not in the client's list */
    /* BoGo DisabledCurve-HelloRetryRequest-TLS13. */
    EXPECT_FAIL(CL(x), hx_deliver_hrr(x), FERRULE_R_WRONG_GROUP,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    hx_free(x);
}

TEST(hrr_changes_nothing) {
    HX(x, hx_hrr_default());
    CHECK(hello_remove(&x->hrr, FR_EXT_KEY_SHARE));
    CHECK(hello_remove(&x->hrr, FR_EXT_COOKIE));
    /* BoGo HelloRetryRequest-Empty-TLS13. */
    EXPECT_FAIL(CL(x), hx_deliver_hrr(x), FERRULE_R_EMPTY_HRR,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    hx_free(x);
}

TEST(hrr_unexpected_extension) {
    HX(x, hx_hrr_default());
    static const uint8_t alpn[] = {0, 3, 2, 'h', '2'};
    CHECK(hello_add(&x->hrr, 1, FR_EXT_ALPN, alpn, sizeof(alpn)) != NULL);
    EXPECT_FAIL(CL(x), hx_deliver_hrr(x), FERRULE_R_UNSUPPORTED_EXTENSION,
                FERRULE_ALERT_UNSUPPORTED_EXTENSION);
    hx_free(x);
}

TEST(hrr_malformed_key_share_and_cookie) {
    for (int mode = 0; mode < 3; mode++) {
        HX(x, hx_hrr_default());
        hext *e = hello_find(&x->hrr, mode == 0 ? FR_EXT_KEY_SHARE : FR_EXT_COOKIE);
        CHECK(e != NULL);
        if (e == NULL) return;
        if (mode == 0) {
            e->len = 3; /* selected_group plus a stray byte */
            e->body[2] = 0;
        } else if (mode == 1) {
            e->len = 2; /* empty cookie<1..2^16-1> */
            e->body[0] = e->body[1] = 0;
        } else {
            e->len--; /* cookie vector longer than the extension */
        }
        EXPECT_FAIL(CL(x), hx_deliver_hrr(x), FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
        hx_free(x);
    }
}

TEST(hrr_wrong_session_id_or_suite) {
    for (int mode = 0; mode < 2; mode++) {
        HX(x, hx_hrr_default());
        if (mode == 0)
            x->hrr.sid[0] ^= 1;
        else
            x->hrr.suites[0] = 0x1304; /* CCM: not offered */
        EXPECT_FAIL(CL(x), hx_deliver_hrr(x),
                    mode == 0 ? FERRULE_R_ILLEGAL_PARAMETER : FERRULE_R_WRONG_CIPHER,
                    FERRULE_ALERT_ILLEGAL_PARAMETER);
        hx_free(x);
    }
}

TEST(second_hrr_is_unexpected) {
    HX(x, hx_until_ch2());
    /* The same HelloRetryRequest again, instead of a ServerHello. */
    mflight *f = mf_new();
    CHECK(f != NULL);
    if (f == NULL) {
        hx_free(x);
        return;
    }
    CHECK(mf_add_plain(f, FR_CT_HANDSHAKE, x->f->r[0].data, x->f->r[0].len) != NULL);
    CHECK(mf_send(f, CL(x)));
    EXPECT_FAIL(CL(x), ferrule_conn_handshake(CL(x)), FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    mf_free(f);
    hx_free(x);
}

TEST(server_hello_suite_differs_from_hrr) {
    HX(x, hx_until_ch2());
    CHECK_EQ(hx_deliver_ch2(x), FERRULE_WANT_READ);
    mflight *f = mf_new();
    hello sh;
    CHECK(f != NULL && mf_take(f, SV(x)) && f->n >= 1 &&
          hello_parse(&sh, f->r[0].data, f->r[0].len) && sh.server);
    if (f == NULL) {
        hx_free(x);
        return;
    }
    CHECK_EQ(sh.suites[0], FERRULE_TLS_AES_128_GCM_SHA256);
    sh.suites[0] = FERRULE_TLS_AES_256_GCM_SHA384; /* offered, but not the HRR's */
    size_t n = hello_encode(&sh, f->r[0].data, MITM_REC_CAP);
    CHECK(n > 0);
    f->r[0].len = n;
    f->n = 1;
    CHECK(mf_send(f, CL(x)));
    /* BoGo HelloRetryRequest-CipherChange-TLS13. */
    EXPECT_FAIL(CL(x), ferrule_conn_handshake(CL(x)), FERRULE_R_WRONG_CIPHER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    mf_free(f);
    hx_free(x);
}

/* RFC 8446 §4.1.4: the ServerHello after a HelloRetryRequest keeps its
 * selected_version; without supported_versions (mode 0) or with another
 * value (mode 1) it is illegal_parameter (BoGo
 * SecondServerHelloNoVersion-TLS13, SecondServerHelloWrongVersion-TLS13). */
TEST(server_hello_after_hrr_keeps_version) {
    for (int mode = 0; mode < 2; mode++) {
        HX(x, hx_until_ch2());
        CHECK_EQ(hx_deliver_ch2(x), FERRULE_WANT_READ);
        mflight *f = mf_new();
        hello sh;
        int ok = f != NULL && mf_take(f, SV(x)) && f->n >= 1 &&
                 hello_parse(&sh, f->r[0].data, f->r[0].len) && sh.server;
        CHECK(ok);
        hext *sv = ok ? hello_find(&sh, FR_EXT_SUPPORTED_VERSIONS) : NULL;
        CHECK(sv != NULL && sv->len == 2);
        if (sv == NULL) {
            mf_free(f);
            hx_free(x);
            return;
        }
        if (mode == 0) {
            CHECK(hello_remove(&sh, FR_EXT_SUPPORTED_VERSIONS));
        } else {
            sv->body[0] = 0x12;
            sv->body[1] = 0x34;
        }
        size_t n = hello_encode(&sh, f->r[0].data, MITM_REC_CAP);
        CHECK(n > 0);
        f->r[0].len = n;
        f->n = 1;
        CHECK(mf_send(f, CL(x)));
        EXPECT_FAIL(CL(x), ferrule_conn_handshake(CL(x)), FERRULE_R_HRR_VERSION_CHANGED,
                    FERRULE_ALERT_ILLEGAL_PARAMETER);
        mf_free(f);
        hx_free(x);
    }
}

/* ---- the stateless cookie ------------------------------------------------ */

static const uint8_t KEY_A[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

TEST(cookie_key_setter) {
    ferrule_config *sc = pair_server_config("ecdsa-p256");
    CHECK(sc != NULL);
    if (sc == NULL) return;
    CHECK_EQ(ferrule_config_set_cookie_key(NULL, KEY_A, 32), FERRULE_USAGE);
    CHECK(ferrule_config_set_cookie_key(sc, NULL, 32) != FERRULE_OK);
    CHECK_EQ(ferrule_config_reason(sc), FERRULE_R_NULL_ARGUMENT);
    CHECK(ferrule_config_set_cookie_key(sc, KEY_A, 31) != FERRULE_OK);
    CHECK_EQ(ferrule_config_reason(sc), FERRULE_R_CONFIG_INVALID);
    CHECK(ferrule_config_set_cookie_key(sc, KEY_A, 33) != FERRULE_OK);
    CHECK_EQ(ferrule_config_set_cookie_key(sc, KEY_A, 32), FERRULE_OK);
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, sc, NULL), FERRULE_OK); /* freezes sc */
    CHECK_EQ(ferrule_config_set_cookie_key(sc, KEY_A, 32), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(sc), FERRULE_R_CONFIG_FROZEN);
    ferrule_conn_free(c);
    ferrule_config_free(sc);
}

static fr_hrr_cookie sample_cookie(void) {
    fr_hrr_cookie ck;
    memset(&ck, 0, sizeof(ck));
    ck.suite = FERRULE_TLS_AES_256_GCM_SHA384;
    ck.group = FERRULE_GROUP_SECP384R1;
    ck.hash_len = 48;
    for (size_t i = 0; i < 48; i++) ck.ch1_hash[i] = (uint8_t)(0xa0 + i);
    for (size_t i = 0; i < 32; i++) ck.digest[i] = (uint8_t)(0x11 * i);
    return ck;
}

TEST(cookie_fleet_key) {
    /* Two servers of a fleet share the key: one opens the other's cookie;
     * a server with another key (here: its own random one) refuses it. */
    ferrule_config *a = pair_server_config("ecdsa-p256"), *b = pair_server_config("rsa"),
                   *other = pair_server_config("ecdsa-p256");
    CHECK(a != NULL && b != NULL && other != NULL);
    if (a == NULL || b == NULL || other == NULL) return;
    CHECK_EQ(ferrule_config_set_cookie_key(a, KEY_A, 32), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_cookie_key(b, KEY_A, 32), FERRULE_OK);
    fr_hrr_cookie ck = sample_cookie(), got;
    uint8_t buf[FR_HRR_COOKIE_MAX];
    size_t n = 0;
    CHECK_EQ(fr_hrr_cookie_seal(a, &ck, buf, sizeof(buf), &n), FR_OK);
    CHECK_EQ(n, 1 + 2 + 2 + 1 + 48 + 32 + 1 + 32);
    memset(&got, 0, sizeof(got));
    CHECK_EQ(fr_hrr_cookie_open(b, buf, n, &got), FR_OK);
    CHECK_EQ(got.suite, ck.suite);
    CHECK_EQ(got.group, ck.group);
    CHECK_EQ(got.hash_len, 48);
    CHECK_MEM(got.ch1_hash, ck.ch1_hash, 48);
    CHECK_MEM(got.digest, ck.digest, 32);
    CHECK_EQ(got.psk_state, FR_HRR_PSK_NONE);
    CHECK_EQ(buf[0], 3); /* sealed in the newest format */
    CHECK_EQ(got.format, 3);
    /* With the digest of ClientHello1's acceptable PSKs (formats 2, 3). */
    fr_hrr_cookie bound = sample_cookie();
    bound.psk_state = FR_HRR_PSK_DIGEST;
    for (size_t i = 0; i < 32; i++) bound.psk_digest[i] = (uint8_t)(0x80 ^ i);
    size_t bn = 0;
    CHECK_EQ(fr_hrr_cookie_seal(a, &bound, buf, sizeof(buf), &bn), FR_OK);
    CHECK_EQ(bn, n + 32);
    CHECK_EQ(fr_hrr_cookie_open(b, buf, bn, &got), FR_OK);
    CHECK_EQ(got.psk_state, FR_HRR_PSK_DIGEST);
    CHECK_MEM(got.psk_digest, bound.psk_digest, 32);
    bound.psk_state = FR_HRR_PSK_UNCHECKED;
    CHECK_EQ(fr_hrr_cookie_seal(a, &bound, buf, sizeof(buf), &bn), FR_OK);
    CHECK_EQ(bn, n);
    CHECK_EQ(fr_hrr_cookie_open(b, buf, bn, &got), FR_OK);
    CHECK_EQ(got.psk_state, FR_HRR_PSK_UNCHECKED);
    /* A format 1 cookie (no PSK fields), from a server of the fleet not yet
     * upgraded, still opens (PSKs unchecked); an unknown psk_state does not. */
    uint8_t v1[1 + 2 + 2 + 1 + 48 + 32 + 32];
    v1[0] = 1;
    v1[1] = (uint8_t)(ck.suite >> 8);
    v1[2] = (uint8_t)ck.suite;
    v1[3] = (uint8_t)(ck.group >> 8);
    v1[4] = (uint8_t)ck.group;
    v1[5] = 48;
    memcpy(v1 + 6, ck.ch1_hash, 48);
    memcpy(v1 + 54, ck.digest, 32);
    CHECK_EQ(fr_hmac(FR_HASH_SHA256, KEY_A, 32, v1, 86, v1 + 86), FR_OK);
    got.psk_state = FR_HRR_PSK_NONE;
    CHECK_EQ(fr_hrr_cookie_open(b, v1, sizeof(v1), &got), FR_OK);
    CHECK_EQ(got.psk_state, FR_HRR_PSK_UNCHECKED);
    CHECK_EQ(got.format, 1);
    CHECK_MEM(got.digest, ck.digest, 32);
    /* An unknown (future) format is refused, even when authentic. */
    v1[0] = 4;
    CHECK_EQ(fr_hmac(FR_HASH_SHA256, KEY_A, 32, v1, 86, v1 + 86), FR_OK);
    CHECK_EQ(fr_hrr_cookie_open(b, v1, sizeof(v1), &got), FERRULE_R_ILLEGAL_PARAMETER);
    uint8_t v2[sizeof(v1) + 1];
    memcpy(v2, v1, 86);
    v2[0] = 2;
    v2[86] = 3; /* psk_state */
    CHECK_EQ(fr_hmac(FR_HASH_SHA256, KEY_A, 32, v2, 87, v2 + 87), FR_OK);
    CHECK_EQ(fr_hrr_cookie_open(b, v2, sizeof(v2), &got), FERRULE_R_ILLEGAL_PARAMETER);
    v2[86] = 0;
    CHECK_EQ(fr_hmac(FR_HASH_SHA256, KEY_A, 32, v2, 87, v2 + 87), FR_OK);
    CHECK_EQ(fr_hrr_cookie_open(b, v2, sizeof(v2), &got), FR_OK);
    CHECK_EQ(fr_hrr_cookie_seal(a, &ck, buf, sizeof(buf), &n), FR_OK);
    CHECK_EQ(fr_hrr_cookie_open(other, buf, n, &got), FERRULE_R_ILLEGAL_PARAMETER);
    /* Every single-bit flip and every truncation is refused. */
    for (size_t i = 0; i < n; i++) {
        buf[i] ^= 0x04;
        CHECK_EQ(fr_hrr_cookie_open(b, buf, n, &got), FERRULE_R_ILLEGAL_PARAMETER);
        buf[i] ^= 0x04;
    }
    for (size_t len = 0; len < n; len++)
        CHECK_EQ(fr_hrr_cookie_open(b, buf, len, &got), FERRULE_R_ILLEGAL_PARAMETER);
    CHECK_EQ(fr_hrr_cookie_open(b, buf, n, &got), FR_OK);
    /* A hash length that does not fit the suite: authentic but refused. */
    ck.hash_len = 32;
    CHECK_EQ(fr_hrr_cookie_seal(a, &ck, buf, sizeof(buf), &n), FR_OK);
    CHECK_EQ(fr_hrr_cookie_open(b, buf, n, &got), FERRULE_R_ILLEGAL_PARAMETER);
    /* A buffer too small to seal into. */
    ck = sample_cookie();
    CHECK(fr_hrr_cookie_seal(a, &ck, buf, 100, &n) != FR_OK);
    ferrule_config_free(a);
    ferrule_config_free(b);
    ferrule_config_free(other);
}

TEST(cookie_key_generated_once) {
    /* Without a set key, the config's creation made one; it stays. */
    ferrule_config *sc = pair_server_config("ecdsa-p256");
    CHECK(sc != NULL);
    if (sc == NULL) return;
    const uint8_t *k1 = fr_hrr_cookie_key(sc);
    uint8_t copy[32];
    memcpy(copy, k1, 32);
    const uint8_t *k2 = fr_hrr_cookie_key(sc);
    CHECK(k1 == k2);
    CHECK_MEM(k2, copy, 32);
    static const uint8_t zero[32] = {0};
    CHECK(memcmp(copy, zero, 32) != 0);
    /* Another config has another key. */
    ferrule_config *other = pair_server_config("ecdsa-p256");
    CHECK(other != NULL);
    if (other != NULL) CHECK(memcmp(fr_hrr_cookie_key(other), copy, 32) != 0);
    ferrule_config_free(other);
    ferrule_config_free(sc);
}

TEST(message_hash_transcript) {
    /* RFC 8446 §4.4.1: 254, 00 00 Hash.length, Hash(CH1). */
    uint8_t ch1_hash[32], a[32], b[32];
    for (size_t i = 0; i < 32; i++) ch1_hash[i] = (uint8_t)i;
    fr_transcript t = {0}, u = {0};
    CHECK_EQ(fr_hrr_transcript_start(&t, FR_HASH_SHA256, ch1_hash), FR_OK);
    CHECK_EQ(fr_transcript_current(&t, a), FR_OK);
    uint8_t synth[4 + 32] = {254, 0, 0, 32};
    memcpy(synth + 4, ch1_hash, 32);
    CHECK_EQ(fr_hash(FR_HASH_SHA256, synth, sizeof(synth), b), FR_OK);
    CHECK_MEM(a, b, 32);
    CHECK_EQ(fr_transcript_init(&u, FR_HASH_SHA256), FR_OK);
    CHECK_EQ(fr_transcript_update(&u, synth, sizeof(synth)), FR_OK);
    CHECK_EQ(fr_transcript_current(&u, b), FR_OK);
    CHECK_MEM(a, b, 32);
    fr_transcript_free(&t);
    fr_transcript_free(&u);
}

TEST(hello_digest_invariants) {
    /* RFC 8446 §4.1.2: key_share, cookie, padding, early_data and
     * pre_shared_key may change (be added, dropped or moved); the other
     * extensions must come again, byte for byte.  Cookie format 3 compares
     * them in type order (moving one is allowed: wolfSSL 5.5's client does);
     * formats 1 and 2, from older servers of a fleet, in the order sent. */
    static const uint8_t rnd[32] = {7};
    static const uint8_t sidb[1] = {5}, suites[2] = {0x13, 0x01}, comp[1] = {0};
    /* supported_groups {x25519}, key_share (1 byte), ALPN "h2" */
    static const uint8_t b1[] = {0, 10, 0, 4, 0, 2, 0, 0x1d, 0, 51, 0, 1, 1,
                                 0, 16, 0, 5, 0, 3, 2, 'h', '2'};
    /* key_share moved and changed, padding and cookie added */
    static const uint8_t b2[] = {0, 51, 0, 2, 2, 3, 0, 21, 0, 2, 0, 0, 0, 10, 0, 4, 0, 2, 0,
                                 0x1d, 0, 44, 0, 2, 0, 0, 0, 16, 0, 5, 0, 3, 2, 'h', '2'};
    /* the invariant extensions swapped */
    static const uint8_t b3[] = {0, 16, 0, 5, 0, 3, 2, 'h', '2', 0, 10, 0, 4, 0, 2, 0, 0x1d};
    /* supported_groups changed */
    static const uint8_t b4[] = {0, 10, 0, 4, 0, 2, 0, 0x18, 0, 16, 0, 5, 0, 3, 2, 'h', '2'};
    fr_hello_view v = {0x0303, rnd, fr_reader_init(sidb, 1), fr_reader_init(suites, 2),
                       fr_reader_init(comp, 1), fr_reader_init(b1, sizeof(b1))};
    uint8_t d1[32], d[32], o1[32];
    CHECK_EQ(fr_hrr_hello_digest(&v, 3, d1), FR_OK);
    CHECK_EQ(fr_hrr_hello_digest(&v, 2, o1), FR_OK);
    v.exts = fr_reader_init(b2, sizeof(b2));
    CHECK_EQ(fr_hrr_hello_digest(&v, 3, d), FR_OK);
    CHECK_MEM(d1, d, 32);
    CHECK_EQ(fr_hrr_hello_digest(&v, 2, d), FR_OK);
    CHECK_MEM(o1, d, 32);
    v.exts = fr_reader_init(b3, sizeof(b3));
    CHECK_EQ(fr_hrr_hello_digest(&v, 3, d), FR_OK);
    CHECK_MEM(d1, d, 32);
    CHECK_EQ(fr_hrr_hello_digest(&v, 2, d), FR_OK);
    CHECK(memcmp(o1, d, 32) != 0);
    v.exts = fr_reader_init(b4, sizeof(b4));
    CHECK_EQ(fr_hrr_hello_digest(&v, 3, d), FR_OK);
    CHECK(memcmp(d1, d, 32) != 0);
    CHECK_EQ(fr_hrr_hello_digest(&v, 2, d), FR_OK);
    CHECK(memcmp(o1, d, 32) != 0);
    /* A changed legacy field, or a shifted boundary between two fields,
     * changes the digest. */
    v.exts = fr_reader_init(b1, sizeof(b1));
    v.legacy_version = 0x0301;
    CHECK_EQ(fr_hrr_hello_digest(&v, 3, d), FR_OK);
    CHECK(memcmp(d1, d, 32) != 0);
    v.legacy_version = 0x0303;
    static const uint8_t sid2[2] = {5, 0x13}, suites2[1] = {0x01};
    v.sid = fr_reader_init(sid2, 2);
    v.suites = fr_reader_init(suites2, 1);
    CHECK_EQ(fr_hrr_hello_digest(&v, 3, d), FR_OK);
    CHECK(memcmp(d1, d, 32) != 0);
}

TEST(hello_digest_set_limit) {
    /* Format 3 compares up to 128 invariant extensions as a set; past that
     * (no client sends so many) the digest is in wire order again, one
     * pass, so a large hello costs no sorting. */
    static const uint8_t rnd[32] = {7};
    static const uint8_t sidb[1] = {5}, suites[2] = {0x13, 0x01}, comp[1] = {0};
    enum { MAX_EXTS = 130 };
    static uint8_t b[MAX_EXTS * 4];
    static const size_t counts[2] = {128, MAX_EXTS};
    uint8_t d1[32], d2[32];
    for (size_t c = 0; c < 2; c++) {
        size_t count = counts[c];
        for (size_t i = 0; i < count; i++) {
            uint16_t type = (uint16_t)(0x1000 + i); /* unknown, distinct */
            b[4 * i] = (uint8_t)(type >> 8);
            b[4 * i + 1] = (uint8_t)type;
            b[4 * i + 2] = b[4 * i + 3] = 0;
        }
        fr_hello_view v = {0x0303, rnd, fr_reader_init(sidb, 1), fr_reader_init(suites, 2),
                           fr_reader_init(comp, 1), fr_reader_init(b, 4 * count)};
        CHECK_EQ(fr_hrr_hello_digest(&v, 3, d1), FR_OK);
        /* swap the first two extensions */
        uint8_t tmp[4];
        memcpy(tmp, b, 4);
        memcpy(b, b + 4, 4);
        memcpy(b + 4, tmp, 4);
        CHECK_EQ(fr_hrr_hello_digest(&v, 3, d2), FR_OK);
        if (count == 128)
            CHECK_MEM(d1, d2, 32);
        else
            CHECK(memcmp(d1, d2, 32) != 0);
    }
}

TEST(ch2_extensions_reordered) {
    /* An invariant extension moved in the second ClientHello, as wolfSSL
     * 5.5.4's client moves psk_key_exchange_modes (found by the interop
     * matrix, wolfssl/ferrule-server/hrr): the same content, so the
     * handshake goes on (RFC 8446 §4.2: extensions come in any order). */
    HX(x, hx_until_ch2());
    size_t i = hello_index(&x->ch2, FR_EXT_SUPPORTED_GROUPS);
    CHECK(i < x->ch2.n_ext);
    if (i >= x->ch2.n_ext) return;
    hext moved = x->ch2.ext[i];
    CHECK(hello_remove(&x->ch2, FR_EXT_SUPPORTED_GROUPS));
    size_t last = x->ch2.n_ext;
    CHECK(hello_add(&x->ch2, last, moved.type, moved.body, moved.len) != NULL);
    CHECK_EQ(hx_deliver_ch2(x), FERRULE_WANT_READ);
    hx_free(x);
}

TEST(ch2_extension_moved_and_changed) {
    /* Moved is fine; moved and changed is not. */
    HX(x, hx_until_ch2());
    size_t i = hello_index(&x->ch2, FR_EXT_SUPPORTED_GROUPS);
    CHECK(i < x->ch2.n_ext);
    if (i >= x->ch2.n_ext) return;
    hext moved = x->ch2.ext[i];
    uint8_t body[64];
    CHECK(moved.len <= sizeof(body));
    if (moved.len > sizeof(body)) return;
    memcpy(body, moved.body, moved.len);
    body[moved.len - 1] ^= 0x01; /* another group */
    CHECK(hello_remove(&x->ch2, FR_EXT_SUPPORTED_GROUPS));
    CHECK(hello_add(&x->ch2, x->ch2.n_ext, moved.type, body, moved.len) != NULL);
    EXPECT_FAIL(SV(x), hx_deliver_ch2(x), FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    hx_free(x);
}

TEST(ch2_psk_added) {
    /* RFC 8446 §4.1.2: pre_shared_key is updated "if present"; a second
     * ClientHello may not offer a PSK the first did not. */
    HX(x, hx_until_ch2());
    CHECK(hello_find(&x->ch2, FR_EXT_PRE_SHARED_KEY) == NULL);
    uint8_t psk[2 + 2 + 3 + 4 + 2 + 1 + 32];
    size_t n = 0;
    psk[n++] = 0;
    psk[n++] = 9; /* identities */
    psk[n++] = 0;
    psk[n++] = 3;
    memcpy(psk + n, "abc", 3);
    n += 3;
    memset(psk + n, 0, 4);
    n += 4;
    psk[n++] = 0;
    psk[n++] = 33; /* binders */
    psk[n++] = 32;
    memset(psk + n, 0x5a, 32);
    n += 32;
    CHECK(hello_add(&x->ch2, x->ch2.n_ext, FR_EXT_PRE_SHARED_KEY, psk, n) != NULL);
    EXPECT_FAIL(SV(x), hx_deliver_ch2(x), FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    hx_free(x);
}

/* Feed `msg` followed by `extra` bytes in one handshake record. */
static int send_with_trailer(ferrule_conn *to, const uint8_t *msg, size_t len,
                             const uint8_t *extra, size_t extra_len) {
    mflight *f = mf_new();
    uint8_t *buf = malloc(len + extra_len);
    int ok = f != NULL && buf != NULL;
    if (ok) {
        memcpy(buf, msg, len);
        memcpy(buf + len, extra, extra_len);
        ok = mf_add_plain(f, FR_CT_HANDSHAKE, buf, len + extra_len) != NULL && mf_send(f, to);
    }
    mf_free(f);
    free(buf);
    return ok;
}

TEST(bytes_after_first_hello_answered_by_hrr) {
    /* RFC 8446 §5.1: a ClientHello we answer with a HelloRetryRequest must
     * end its record: the second one cannot precede our answer.  Both a
     * whole premature ClientHello and a fragment are refused. */
    for (int whole = 0; whole < 2; whole++) {
        ferrule_config *cc, *sc;
        CHECK(hrr_configs(&cc, &sc));
        mitm m;
        mflight *ch = mf_new();
        REQUIRE(ch != NULL && mitm_init(&m, cc, sc));
        CHECK_EQ(ferrule_conn_handshake(m.p.client), FERRULE_WANT_READ);
        REQUIRE(mf_take(ch, m.p.client) && ch->n == 1);
        static const uint8_t frag[4] = {FR_HS_CLIENT_HELLO, 0, 1, 0};
        CHECK(send_with_trailer(m.p.server, ch->r[0].data, ch->r[0].len,
                                whole ? ch->r[0].data : frag, whole ? ch->r[0].len : 4));
        EXPECT_FAIL_AFTER_OUTPUT(m.p.server, ferrule_conn_handshake(m.p.server),
                                 FERRULE_R_UNALIGNED_HANDSHAKE, FERRULE_ALERT_UNEXPECTED_MESSAGE);
        mf_free(ch);
        mitm_free(&m);
    }
}

TEST(bytes_after_hrr) {
    /* The client's side: nothing may follow a HelloRetryRequest in its
     * record (no ServerHello can precede the second ClientHello).  It is
     * refused before the second ClientHello goes: the alert is all the
     * client sends (BoGo PartialServerHelloWithHelloRetryRequest). */
    HX(x, hx_hrr_default());
    static const uint8_t frag[4] = {FR_HS_SERVER_HELLO, 0, 0, 40};
    CHECK(send_with_trailer(CL(x), x->f->r[0].data, x->f->r[0].len, frag, sizeof(frag)));
    EXPECT_FAIL(CL(x), ferrule_conn_handshake(CL(x)), FERRULE_R_UNALIGNED_HANDSHAKE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    hx_free(x);
}

TEST(cookie_only_hrr_keeps_shares) {
    /* RFC 8446 §4.1.2: the shares are replaced only when the
     * HelloRetryRequest carries a key_share; after one with only a cookie
     * the second ClientHello repeats them byte for byte, with the cookie. */
    HX(x, hx_hrr_default());
    hello ch1;
    CHECK(hello_parse(&ch1, x->ch1, x->ch1_len));
    CHECK(hello_remove(&x->hrr, FR_EXT_KEY_SHARE));
    CHECK_EQ(hx_deliver_hrr(x), FERRULE_WANT_READ);
    CHECK(mf_take(x->f2, CL(x)));
    REQUIRE(hx_parse_ch2(x));
    hext *a = hello_find(&ch1, FR_EXT_KEY_SHARE), *b = hello_find(&x->ch2, FR_EXT_KEY_SHARE);
    REQUIRE(a != NULL && b != NULL);
    CHECK_EQ(a->len, b->len);
    CHECK(a->len == b->len && memcmp(a->body, b->body, a->len) == 0);
    CHECK(hello_find(&x->ch2, FR_EXT_COOKIE) != NULL);
    /* With a key_share the share is new (a fresh key for the new group). */
    hx *y = hx_until_ch2();
    REQUIRE(y != NULL);
    hello ch1y;
    CHECK(hello_parse(&ch1y, y->ch1, y->ch1_len));
    hext *c = hello_find(&ch1y, FR_EXT_KEY_SHARE), *d = hello_find(&y->ch2, FR_EXT_KEY_SHARE);
    CHECK(c != NULL && d != NULL && (c->len != d->len || memcmp(c->body, d->body, c->len) != 0));
    hx_free(y);
    hx_free(x);
}

TEST(client_ccs_then_second_hello) {
    /* RFC 8446 Appendix D.4: a client in compatibility mode (ferrule's
     * clients always send a legacy_session_id) sends its one
     * change_cipher_spec before the first record after its first
     * ClientHello; after a HelloRetryRequest that is the second ClientHello.
     * On the wire: 14 03 03 00 01 01, then the ClientHello2 record, and no
     * CCS again in the client's last flight. */
    HX(x, hx_hrr_default());
    hello ch1;
    REQUIRE(hello_parse(&ch1, x->ch1, x->ch1_len));
    CHECK(ch1.sid_len == 32);
    CHECK_EQ(hx_deliver_hrr(x), FERRULE_WANT_READ);
    static const uint8_t ccs[6] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01};
    uint8_t buf[4096];
    size_t n = 0;
    REQUIRE(ferrule_conn_take(CL(x), buf, sizeof(buf), &n) == FERRULE_OK);
    REQUIRE(n > sizeof(ccs) + 5 + 4);
    CHECK_MEM(buf, ccs, sizeof(ccs));
    const uint8_t *rec = buf + sizeof(ccs);
    CHECK_EQ(rec[0], FR_CT_HANDSHAKE);
    CHECK_EQ(sizeof(ccs) + 5 + ((size_t)rec[3] << 8 | rec[4]), n); /* one record */
    CHECK_EQ(rec[5], FR_HS_CLIENT_HELLO);
    CHECK(mitm_feed(SV(x), buf, n));
    CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_WANT_READ);
    CHECK(mitm_pass(SV(x), CL(x)));
    CHECK_EQ(ferrule_conn_handshake(CL(x)), FERRULE_OK);
    mflight *last = mf_new();
    REQUIRE(last != NULL);
    CHECK(mf_take(last, CL(x)) && last->n >= 1);
    CHECK_EQ(mf_count_ccs(last), 0);
    for (size_t i = 0; i < last->n; i++) CHECK_EQ(last->r[i].type, FR_CT_APPLICATION_DATA);
    CHECK(mf_send(last, SV(x)));
    CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_OK);
    exchange(CL(x), SV(x), "one ccs");
    mf_free(last);
    hx_free(x);
}

TEST_MAIN("hrr", TL_CASE(client_ccs_then_second_hello), TL_CASE(ch2_extensions_reordered), TL_CASE(hello_digest_set_limit), TL_CASE(ch2_extension_moved_and_changed), TL_CASE(ch2_psk_added), TL_CASE(bytes_after_first_hello_answered_by_hrr), TL_CASE(bytes_after_hrr), TL_CASE(cookie_only_hrr_keeps_shares), TL_CASE(hrr_full_handshake), TL_CASE(no_hrr_when_first_group_accepted),
          TL_CASE(no_common_group_is_handshake_failure), TL_CASE(hrr_and_second_hello_shape),
          TL_CASE(ch2_cookie_tampered), TL_CASE(ch2_cookie_tag_tampered),
          TL_CASE(ch2_cookie_truncated), TL_CASE(ch2_cookie_missing),
          TL_CASE(ch2_cookie_from_another_handshake), TL_CASE(ch2_random_changed),
          TL_CASE(ch2_session_id_changed), TL_CASE(ch2_cipher_suites_changed),
          TL_CASE(ch2_selected_suite_missing), TL_CASE(ch2_no_common_suite_left),
          TL_CASE(ch2_extension_changed_or_dropped),
          TL_CASE(ch2_extension_added), TL_CASE(ch2_early_data_added), TL_CASE(ch2_key_share_wrong_group),
          TL_CASE(ch2_key_share_two_shares), TL_CASE(ch2_key_share_missing_entries),
          TL_CASE(ch2_replayed_first_hello), TL_CASE(hrr_group_already_shared),
          TL_CASE(hrr_group_not_offered), TL_CASE(hrr_changes_nothing),
          TL_CASE(hrr_unexpected_extension), TL_CASE(hrr_malformed_key_share_and_cookie),
          TL_CASE(hrr_wrong_session_id_or_suite), TL_CASE(second_hrr_is_unexpected),
          TL_CASE(server_hello_suite_differs_from_hrr), TL_CASE(server_hello_after_hrr_keeps_version), TL_CASE(cookie_key_setter),
          TL_CASE(cookie_fleet_key), TL_CASE(cookie_key_generated_once),
          TL_CASE(message_hash_transcript), TL_CASE(hello_digest_invariants))
