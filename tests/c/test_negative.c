/* test_negative.c - negative handshake and record-layer tests.  Whole
 * handshakes run in memory between a client and a server object; a man in
 * the middle (support_mitm.c) edits plaintext records and hello messages
 * directly, and re-protects encrypted records with the traffic secrets the
 * key log reveals.  Every case asserts the status class, reason and alert on
 * the side that detects the problem, that the failure is sticky and the
 * handle usable, and (where the peer can read it) that the peer receives the
 * alert. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "record.h"
#include "support_mitm.h"
#include "support_pair.h"
#include "testlib.h"

/* ---- assertions ----------------------------------------------------------- */

#define FAILAT(line, ...)                                                                          \
    do {                                                                                           \
        fprintf(stderr, "  %s:%d: ", __FILE__, line);                                              \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        tl_failures_in_test++;                                                                     \
    } while (0)

/* `got` is what the failing call returned on `c`. */
static void expect_fail_at(int line, ferrule_conn *c, int got, int status, uint32_t reason,
                           int alert) {
    if (c == NULL) {
        FAILAT(line, "no connection");
        return;
    }
    if (got != status)
        FAILAT(line, "returned %s (%d), want %s", ferrule_status_name(got), got,
               ferrule_status_name(status));
    if (ferrule_conn_status(c) != status)
        FAILAT(line, "status %s, want %s", ferrule_status_name(ferrule_conn_status(c)),
               ferrule_status_name(status));
    if (ferrule_conn_reason(c) != reason)
        FAILAT(line, "reason %s (%u), want %s (%u)", ferrule_reason_name(ferrule_conn_reason(c)),
               ferrule_conn_reason(c), ferrule_reason_name(reason), reason);
    if (ferrule_conn_alert(c) != alert)
        FAILAT(line, "alert %d, want %d", ferrule_conn_alert(c), alert);
    if (ferrule_conn_handshake_state(c) != FERRULE_HS_FAILED)
        FAILAT(line, "state %s, want failed",
               ferrule_handshake_state_name(ferrule_conn_handshake_state(c)));
    /* Sticky: every driver returns the same class; nothing changes. */
    uint8_t buf[32];
    size_t n = 99;
    int st = ferrule_conn_handshake(c);
    if (st != status) FAILAT(line, "handshake again: %s", ferrule_status_name(st));
    st = ferrule_conn_read(c, buf, sizeof(buf), &n);
    if (st != status || n != 0) FAILAT(line, "read again: %s n=%zu", ferrule_status_name(st), n);
    n = 99;
    st = ferrule_conn_write(c, (const uint8_t *)"x", 1, &n);
    if (st != status || n != 0) FAILAT(line, "write again: %s n=%zu", ferrule_status_name(st), n);
    if (ferrule_conn_reason(c) != reason || ferrule_conn_alert(c) != alert)
        FAILAT(line, "reason/alert changed after more calls");
    const char *msg = ferrule_conn_error_message(c);
    if (msg == NULL || strcmp(msg, ferrule_reason_message(reason)) != 0)
        FAILAT(line, "error message '%s'", msg != NULL ? msg : "(null)");
}
#define EXPECT_FAIL(c, got, status, reason, alert)                                                 \
    expect_fail_at(__LINE__, (c), (got), (status), (reason), (alert))

/* Deliver `from`'s output to `to`, which must report the fatal alert. */
static void expect_peer_alert_at(int line, ferrule_conn *from, ferrule_conn *to, int alert) {
    if (ferrule_conn_pending_output(from) == 0) FAILAT(line, "no alert was queued");
    if (!mitm_pass(from, to)) FAILAT(line, "peer did not accept the bytes");
    uint8_t buf[64];
    size_t n = 0;
    int st = ferrule_conn_read(to, buf, sizeof(buf), &n);
    if (st != FERRULE_ALERT_RECEIVED)
        FAILAT(line, "peer got %s (%s), want alert-received", ferrule_status_name(st),
               ferrule_reason_name(ferrule_conn_reason(to)));
    if (ferrule_conn_reason(to) != FERRULE_R_PEER_ALERT)
        FAILAT(line, "peer reason %s", ferrule_reason_name(ferrule_conn_reason(to)));
    if (ferrule_conn_alert(to) != alert)
        FAILAT(line, "peer alert %d, want %d", ferrule_conn_alert(to), alert);
    if (ferrule_conn_handshake(to) != FERRULE_ALERT_RECEIVED) FAILAT(line, "peer not sticky");
    /* A peer that received a fatal alert sends nothing back. */
    if (ferrule_conn_pending_output(to) != 0) FAILAT(line, "peer answered an alert");
}
#define EXPECT_PEER_ALERT(from, to, alert) expect_peer_alert_at(__LINE__, (from), (to), (alert))

/* `from` must have queued exactly one plaintext fatal alert (it had no
 * write keys yet): checked on the wire, then delivered to the peer. */
static void expect_wire_alert_at(int line, ferrule_conn *from, ferrule_conn *peer, int alert) {
    uint8_t buf[64];
    size_t n = 0;
    size_t pending = ferrule_conn_pending_output(from);
    if (pending != 7) FAILAT(line, "pending output %zu, want one 7-byte alert record", pending);
    if (pending > sizeof(buf)) return;
    if (ferrule_conn_take(from, buf, sizeof(buf), &n) != FERRULE_OK || n != 7) {
        FAILAT(line, "take failed");
        return;
    }
    const uint8_t want[7] = {21, 3, 3, 0, 2, 2, (uint8_t)alert};
    if (memcmp(buf, want, 7) != 0)
        FAILAT(line, "wire %02x %02x%02x %02x%02x %02x %02x, want alert %d", buf[0], buf[1],
               buf[2], buf[3], buf[4], buf[5], buf[6], alert);
    /* The peer (reading under handshake keys) accepts the clear alert. */
    if (!mitm_feed(peer, buf, n)) FAILAT(line, "peer did not accept the alert");
    int st = ferrule_conn_handshake(peer);
    if (st != FERRULE_ALERT_RECEIVED || ferrule_conn_alert(peer) != alert)
        FAILAT(line, "peer got %s alert %d, want alert-received %d", ferrule_status_name(st),
               ferrule_conn_alert(peer), alert);
}
#define EXPECT_WIRE_ALERT(from, peer, alert)                                                       \
    expect_wire_alert_at(__LINE__, (from), (peer), (alert))

/* ---- fixtures ------------------------------------------------------------- */

typedef struct fx {
    mitm m;
    mflight *f;
    hello h;
} fx;

#define CL(x) ((x)->m.p.client)
#define SV(x) ((x)->m.p.server)
#define SEC(x, role, k) mitm_secret(&(x)->m, FERRULE_ROLE_##role, MK_##k)

static void fx_free(fx *x) {
    if (x == NULL) return;
    mitm_free(&x->m);
    mf_free(x->f);
    free(x);
}

static fx *fx_new(ferrule_config *cc, ferrule_config *sc) {
    fx *x = calloc(1, sizeof(*x));
    if (x == NULL) return NULL;
    if (cc == NULL) cc = pair_client_config();
    if (sc == NULL) {
        sc = pair_server_config("ecdsa-p256");
        /* The post-handshake cases count the server's records from
         * sequence number 0: no NewSessionTickets in between. */
        if (sc != NULL && ferrule_config_set_tickets(sc, 0) != FERRULE_OK) {
            ferrule_config_free(sc);
            sc = NULL;
        }
    }
    x->f = mf_new();
    if (!mitm_init(&x->m, cc, sc) || x->f == NULL) {
        fprintf(stderr, "  fixture set-up failed\n");
        fx_free(x);
        return NULL;
    }
    return x;
}

/* Write one handshake message (header + body) into a record's data. */
static void set_msg(mrec *r, uint8_t type, const uint8_t *body, size_t len) {
    r->data[0] = type;
    r->data[1] = (uint8_t)(len >> 16);
    r->data[2] = (uint8_t)(len >> 8);
    r->data[3] = (uint8_t)len;
    if (len > 0) memmove(r->data + 4, body, len);
    r->len = 4 + len;
}

/* Client produced its ClientHello; it is parsed into x->h, x->f->r[0]. */
static fx *ch_begin_cfg(ferrule_config *cc, ferrule_config *sc) {
    fx *x = fx_new(cc, sc);
    if (x == NULL) return NULL;
    int ok = ferrule_conn_handshake(CL(x)) == FERRULE_WANT_READ && mf_take(x->f, CL(x)) &&
             x->f->n == 1 && x->f->r[0].type == FR_CT_HANDSHAKE &&
             hello_parse(&x->h, x->f->r[0].data, x->f->r[0].len) && !x->h.server;
    if (!ok) {
        fprintf(stderr, "  could not capture the ClientHello\n");
        fx_free(x);
        return NULL;
    }
    return x;
}
static fx *ch_begin(void) { return ch_begin_cfg(NULL, NULL); }

/* Re-encode x->h into the ClientHello record and run the server on it. */
static int ch_deliver(fx *x) {
    size_t n = hello_encode(&x->h, x->f->r[0].data, MITM_REC_CAP);
    if (n == 0) return -1;
    x->f->r[0].len = n;
    if (!mf_send(x->f, SV(x))) return -1;
    return ferrule_conn_handshake(SV(x));
}

/* The server's first flight, captured and opened:
 * r[0] SH, r[1] CCS, r[2] EE, r[3] Certificate, r[4] CV, r[5] Finished. */
static fx *flight_begin_cfg(ferrule_config *cc, ferrule_config *sc) {
    fx *x = fx_new(cc, sc);
    if (x == NULL) return NULL;
    int ok = ferrule_conn_handshake(CL(x)) == FERRULE_WANT_READ && mitm_pass(CL(x), SV(x)) &&
             ferrule_conn_handshake(SV(x)) == FERRULE_WANT_READ;
    x->f->suite = ferrule_conn_cipher_suite(SV(x));
    ok = ok && mf_take(x->f, SV(x)) && x->f->n == 6 && x->f->r[0].type == FR_CT_HANDSHAKE &&
         x->f->r[1].type == FR_CT_CHANGE_CIPHER_SPEC && SEC(x, SERVER, SHS) != NULL &&
         mf_open(x->f, 2, 6, SEC(x, SERVER, SHS)) == 4;
    static const uint8_t types[6] = {FR_HS_SERVER_HELLO, 0, FR_HS_ENCRYPTED_EXTENSIONS,
                                     FR_HS_CERTIFICATE, FR_HS_CERTIFICATE_VERIFY, FR_HS_FINISHED};
    for (size_t i = 2; ok && i < 6; i++)
        ok = x->f->r[i].inner == FR_CT_HANDSHAKE && x->f->r[i].data[0] == types[i];
    ok = ok && x->f->r[0].data[0] == types[0] &&
         hello_parse(&x->h, x->f->r[0].data, x->f->r[0].len) && x->h.server;
    if (!ok) {
        fprintf(stderr, "  could not capture the server flight\n");
        fx_free(x);
        return NULL;
    }
    return x;
}
static fx *flight_begin(void) { return flight_begin_cfg(NULL, NULL); }

/* Re-protect the (edited) flight and run the client on it. */
static int flight_deliver(fx *x) { return mf_deliver(x->f, CL(x)); }

/* Re-encode x->h into the ServerHello record, then deliver the flight. */
static int sh_deliver(fx *x) {
    size_t n = hello_encode(&x->h, x->f->r[0].data, MITM_REC_CAP);
    if (n == 0) return -1;
    x->f->r[0].len = n;
    return flight_deliver(x);
}

/* Both sides connected through the MITM without edits; x->f is reset. */
static fx *connected_begin_cfg(ferrule_config *cc, ferrule_config *sc) {
    fx *x = flight_begin_cfg(cc, sc);
    if (x == NULL) return NULL;
    int ok = flight_deliver(x) == FERRULE_OK && mitm_pass(CL(x), SV(x)) &&
             ferrule_conn_handshake(SV(x)) == FERRULE_OK && SEC(x, SERVER, SAP) != NULL &&
             SEC(x, CLIENT, CAP) != NULL;
    uint16_t suite = x->f->suite;
    memset(x->f, 0, offsetof(mflight, r));
    x->f->suite = suite;
    if (!ok) {
        fprintf(stderr, "  could not connect\n");
        fx_free(x);
        return NULL;
    }
    return x;
}
static fx *connected_begin(void) { return connected_begin_cfg(NULL, NULL); }

/* a writes msg, b must read it. */
static void exchange_at(int line, ferrule_conn *a, ferrule_conn *b, const char *msg) {
    size_t n = 0, len = strlen(msg);
    int st = ferrule_conn_write(a, (const uint8_t *)msg, len, &n);
    if (st != FERRULE_OK || n != len) FAILAT(line, "write: %s", ferrule_status_name(st));
    if (!mitm_pass(a, b)) FAILAT(line, "move failed");
    uint8_t buf[256];
    size_t got = 0;
    st = ferrule_conn_read(b, buf, sizeof(buf), &got);
    if (st != FERRULE_OK || got != len || memcmp(buf, msg, len) != 0)
        FAILAT(line, "read: %s (%s), %zu bytes", ferrule_status_name(st),
               ferrule_reason_name(ferrule_conn_reason(b)), got);
}
#define EXCHANGE(a, b, msg) exchange_at(__LINE__, (a), (b), (msg))

/* Only the client has sent its ClientHello; the server is fresh. */
static fx *server_fresh(void) {
    fx *x = fx_new(NULL, NULL);
    if (x == NULL) return NULL;
    if (ferrule_conn_handshake(CL(x)) != FERRULE_WANT_READ) {
        fx_free(x);
        return NULL;
    }
    uint8_t sink[4096];
    size_t n;
    if (ferrule_conn_take(CL(x), sink, sizeof(sink), &n) != FERRULE_OK) {
        fx_free(x);
        return NULL;
    }
    return x;
}

/* Feed raw bytes to the server and run it. */
static int server_gets(fx *x, const uint8_t *p, size_t n) {
    if (!mitm_feed(SV(x), p, n)) return -1;
    return ferrule_conn_handshake(SV(x));
}

/* ========================================================================== */
/* Record layer                                                                */
/* ========================================================================== */

TEST(rec_truncated_header_then_eof) {
    fx *x = server_fresh();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t part[3] = {22, 3, 1};
    CHECK_EQ(server_gets(x, part, sizeof(part)), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_feed_eof(SV(x)), FERRULE_OK);
    int st = ferrule_conn_handshake(SV(x));
    EXPECT_FAIL(SV(x), st, FERRULE_TRUNCATED, FERRULE_R_TRUNCATED, -1);
    /* No alert on a transport EOF. */
    CHECK_EQ(ferrule_conn_pending_output(SV(x)), 0);
    fx_free(x);
}

TEST(rec_truncated_body_then_eof) {
    /* The client gets the server flight minus its last 10 bytes. */
    fx *x = flight_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    uint8_t *buf = malloc(65536);
    size_t n = mf_serialize(x->f, 0, buf, 65536);
    CHECK(n > 10);
    CHECK(mitm_feed(CL(x), buf, n - 10));
    CHECK_EQ(ferrule_conn_handshake(CL(x)), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_handshake_state(CL(x)), FERRULE_HS_WAIT_FINISHED);
    CHECK_EQ(ferrule_conn_feed_eof(CL(x)), FERRULE_OK);
    int st = ferrule_conn_handshake(CL(x));
    EXPECT_FAIL(CL(x), st, FERRULE_TRUNCATED, FERRULE_R_TRUNCATED, -1);
    free(buf);
    fx_free(x);
}

TEST(rec_overflow_header) {
    fx *x = server_fresh();
    CHECK(x != NULL);
    if (x == NULL) return;
    /* 2^14 + 257: one more than any TLSCiphertext (RFC 8446 §5.2). */
    static const uint8_t hdr[5] = {22, 3, 1, 0x41, 0x01};
    int st = server_gets(x, hdr, sizeof(hdr));
    EXPECT_FAIL(SV(x), st, FERRULE_DECODE, FERRULE_R_RECORD_OVERFLOW,
                FERRULE_ALERT_RECORD_OVERFLOW);
    EXPECT_PEER_ALERT(SV(x), CL(x), FERRULE_ALERT_RECORD_OVERFLOW);
    fx_free(x);
}

TEST(rec_overflow_plaintext) {
    /* A plaintext record may carry at most 2^14 bytes (RFC 8446 §5.1). */
    fx *x = server_fresh();
    CHECK(x != NULL);
    if (x == NULL) return;
    size_t len = 16385;
    uint8_t *rec = calloc(1, 5 + len);
    rec[0] = 22;
    rec[1] = 3;
    rec[2] = 1;
    rec[3] = (uint8_t)(len >> 8);
    rec[4] = (uint8_t)len;
    rec[5] = 1;
    int st = server_gets(x, rec, 5 + len);
    EXPECT_FAIL(SV(x), st, FERRULE_DECODE, FERRULE_R_RECORD_OVERFLOW,
                FERRULE_ALERT_RECORD_OVERFLOW);
    EXPECT_PEER_ALERT(SV(x), CL(x), FERRULE_ALERT_RECORD_OVERFLOW);
    free(rec);
    fx_free(x);
}

TEST(rec_overflow_protected_inner) {
    /* A protected record whose TLSInnerPlaintext exceeds 2^14 + 1 bytes,
     * though its ciphertext length is legal (RFC 8446 §5.2). */
    fx *x = flight_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *ee = &x->f->r[2];
    memset(ee->data, 0, 16385);
    ee->data[0] = 1;
    ee->len = 16385; /* + type byte = 16386 */
    x->f->n = 3;
    int st = flight_deliver(x);
    EXPECT_FAIL(CL(x), st, FERRULE_DECODE, FERRULE_R_RECORD_OVERFLOW,
                FERRULE_ALERT_RECORD_OVERFLOW);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_RECORD_OVERFLOW);
    fx_free(x);
}

TEST(rec_large_padding_is_accepted) {
    /* Padding counts against 2^14 + 1 but is otherwise fine (§5.4). */
    fx *x = flight_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    x->f->r[2].pad = 16384 - x->f->r[2].len;
    x->f->r[5].pad = 100;
    CHECK_EQ(flight_deliver(x), FERRULE_OK);
    CHECK(mitm_pass(CL(x), SV(x)));
    CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_OK);
    EXCHANGE(CL(x), SV(x), "padded");
    fx_free(x);
}

TEST(rec_unknown_content_type) {
    fx *x = server_fresh();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t rec[7] = {0x63, 3, 3, 0, 2, 1, 0};
    int st = server_gets(x, rec, sizeof(rec));
    EXPECT_FAIL(SV(x), st, FERRULE_DECODE, FERRULE_R_BAD_CONTENT_TYPE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(SV(x), CL(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(rec_bad_legacy_version) {
    fx *x = server_fresh();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t rec[9] = {22, 2, 0, 0, 4, 1, 0, 0, 0};
    int st = server_gets(x, rec, sizeof(rec));
    EXPECT_FAIL(SV(x), st, FERRULE_DECODE, FERRULE_R_BAD_RECORD_VERSION,
                FERRULE_ALERT_DECODE_ERROR);
    EXPECT_PEER_ALERT(SV(x), CL(x), FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

TEST(rec_flipped_ciphertext_bit) {
    /* Three places: the ciphertext, the tag, and the header (the AAD). */
    for (int where = 0; where < 3; where++) {
        fx *x = flight_begin();
        CHECK(x != NULL);
        if (x == NULL) return;
        uint8_t *buf = malloc(65536);
        size_t n = mf_serialize(x->f, 0, buf, 65536);
        /* The EE record starts after SH and CCS. */
        size_t ee = 5 + x->f->r[0].len + 6;
        size_t ee_len = (size_t)buf[ee + 3] << 8 | buf[ee + 4];
        if (where == 0) buf[ee + 5] ^= 0x01;
        if (where == 1) buf[ee + 5 + ee_len - 1] ^= 0x80;
        if (where == 2) buf[ee + 2] = 0x01; /* 0x0303 -> 0x0301: still "TLS" */
        CHECK(mitm_feed(CL(x), buf, n));
        int st = ferrule_conn_handshake(CL(x));
        EXPECT_FAIL(CL(x), st, FERRULE_DECODE, FERRULE_R_BAD_RECORD_MAC,
                    FERRULE_ALERT_BAD_RECORD_MAC);
        EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_BAD_RECORD_MAC);
        free(buf);
        fx_free(x);
    }
}

TEST(rec_short_protected_record) {
    /* A protected body shorter than tag + type byte cannot authenticate. */
    fx *x = flight_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    x->f->r[2].prot = 0;
    x->f->r[2].len = 16;
    memset(x->f->r[2].data, 0xaa, 16);
    x->f->n = 3;
    int st = flight_deliver(x);
    EXPECT_FAIL(CL(x), st, FERRULE_DECODE, FERRULE_R_BAD_RECORD_MAC, FERRULE_ALERT_BAD_RECORD_MAC);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_BAD_RECORD_MAC);
    fx_free(x);
}

TEST(rec_plaintext_handshake_after_keys) {
    /* EncryptedExtensions sent in the clear once handshake keys are in use. */
    fx *x = flight_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    x->f->r[2].prot = 0;
    x->f->r[2].type = FR_CT_HANDSHAKE;
    x->f->r[2].version = 0x0303;
    int st = flight_deliver(x);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(rec_plaintext_alert_during_handshake) {
    /* A peer that fails before installing its handshake keys alerts in the
     * clear; during the handshake an unprotected two-byte alert is
     * accepted and reported as received. */
    fx *x = flight_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t alert[2] = {2, FERRULE_ALERT_HANDSHAKE_FAILURE};
    x->f->n = 2;
    mf_add_plain(x->f, FR_CT_ALERT, alert, 2);
    int st = flight_deliver(x);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_RECEIVED, FERRULE_R_PEER_ALERT,
                FERRULE_ALERT_HANDSHAKE_FAILURE);
    CHECK_EQ(ferrule_conn_pending_output(CL(x)), 0);
    fx_free(x);
}

TEST(rec_plaintext_alert_wrong_length_after_keys) {
    /* Only a well-formed two-byte alert may come unprotected. */
    fx *x = flight_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t alert[3] = {2, FERRULE_ALERT_HANDSHAKE_FAILURE, 0};
    x->f->n = 2;
    mf_add_plain(x->f, FR_CT_ALERT, alert, 3);
    int st = flight_deliver(x);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(rec_plaintext_alert_inside_fragmented_message) {
    fx *x = flight_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *tail = mf_insert_copy(x->f, 3, 2);
    CHECK(tail != NULL);
    if (tail == NULL) return;
    memmove(tail->data, tail->data + 3, tail->len - 3);
    tail->len -= 3;
    x->f->r[2].len = 3;
    mrec *a = mf_insert_copy(x->f, 3, 1);
    a->type = FR_CT_ALERT;
    a->data[0] = 2;
    a->data[1] = FERRULE_ALERT_HANDSHAKE_FAILURE;
    a->len = 2;
    int st = flight_deliver(x);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_INTERLEAVED,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(rec_plaintext_alert_after_handshake) {
    /* Once connected, an unprotected alert is a protocol violation. */
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t rec[7] = {21, 3, 3, 0, 2, 2, FERRULE_ALERT_HANDSHAKE_FAILURE};
    CHECK(mitm_feed(CL(x), rec, sizeof(rec)));
    uint8_t buf[16];
    size_t n;
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(rec_app_data_before_handshake_plain) {
    fx *x = server_fresh();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t rec[10] = {23, 3, 3, 0, 5, 'h', 'e', 'l', 'l', 'o'};
    int st = server_gets(x, rec, sizeof(rec));
    EXPECT_FAIL(SV(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(SV(x), CL(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(rec_app_data_before_handshake_protected) {
    /* Application data under the handshake keys, before Finished. */
    fx *x = flight_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *r = mf_insert_copy(x->f, 3, 2);
    CHECK(r != NULL);
    if (r == NULL) return;
    r->inner = FR_CT_APPLICATION_DATA;
    memcpy(r->data, "early!", 6);
    r->len = 6;
    int st = flight_deliver(x);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(ccs_bad_value) {
    fx *x = flight_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    x->f->r[1].data[0] = 2;
    int st = flight_deliver(x);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_BAD_CCS,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(ccs_two_bytes) {
    fx *x = flight_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    x->f->r[1].data[1] = 1;
    x->f->r[1].len = 2;
    int st = flight_deliver(x);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_BAD_CCS,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(ccs_twice_is_dropped) {
    /* RFC 8446 §5: every 0x01 change_cipher_spec before the peer's Finished
     * is simply dropped (a 0-RTT client answered by a HelloRetryRequest
     * sends two, Appendix D.4): two and FR_MAX_CCS in a row are fine. */
    for (int n = 2; n <= FR_MAX_CCS; n += FR_MAX_CCS - 2) {
        fx *x = flight_begin();
        REQUIRE(x != NULL);
        for (int i = 1; i < n; i++) CHECK(mf_insert_copy(x->f, 2, 1) != NULL);
        CHECK_EQ(flight_deliver(x), FERRULE_OK);
        CHECK(mitm_pass(CL(x), SV(x)));
        CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_OK);
        EXCHANGE(CL(x), SV(x), "after two or more CCS");
        fx_free(x);
    }
}

TEST(ccs_flood) {
    /* More than FR_MAX_CCS: a flood, unexpected_message. */
    fx *x = flight_begin();
    REQUIRE(x != NULL);
    for (int i = 0; i < FR_MAX_CCS; i++) CHECK(mf_insert_copy(x->f, 2, 1) != NULL);
    int st = flight_deliver(x);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_BAD_CCS,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(ccs_before_client_hello) {
    fx *x = server_fresh();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t ccs[6] = {20, 3, 3, 0, 1, 1};
    int st = server_gets(x, ccs, sizeof(ccs));
    EXPECT_FAIL(SV(x), st, FERRULE_ALERT_SENT, FERRULE_R_BAD_CCS,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(SV(x), CL(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(ccs_after_handshake) {
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t ccs[6] = {20, 3, 3, 0, 1, 1};
    CHECK(mitm_feed(CL(x), ccs, sizeof(ccs)));
    uint8_t buf[16];
    size_t n;
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_BAD_CCS,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(ccs_inside_fragmented_message) {
    /* A CCS between two fragments of EncryptedExtensions. */
    fx *x = flight_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *tail = mf_insert_copy(x->f, 3, 2);
    CHECK(tail != NULL);
    if (tail == NULL) return;
    memmove(tail->data, tail->data + 2, tail->len - 2);
    tail->len -= 2;
    x->f->r[2].len = 2;
    /* Drop the first CCS so that only the misplaced one counts. */
    mf_remove(x->f, 1);
    CHECK(mf_insert_copy(x->f, 2, 2) != NULL);
    x->f->r[2].prot = 0;
    x->f->r[2].type = FR_CT_CHANGE_CIPHER_SPEC;
    x->f->r[2].data[0] = 1;
    x->f->r[2].len = 1;
    int st = flight_deliver(x);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_BAD_CCS,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(ccs_protected) {
    /* change_cipher_spec is never protected (RFC 8446 §5). */
    fx *x = flight_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *r = mf_insert_copy(x->f, 2, 2);
    CHECK(r != NULL);
    if (r == NULL) return;
    r->inner = FR_CT_CHANGE_CIPHER_SPEC;
    r->data[0] = 1;
    r->len = 1;
    mf_remove(x->f, 1);
    int st = flight_deliver(x);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(rec_zero_length_handshake_plain) {
    /* RFC 8446 §5.1: no zero-length handshake fragments: nothing a message
     * can be made of, unexpected_message (not a decoding error). */
    fx *x = server_fresh();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t rec[5] = {22, 3, 1, 0, 0};
    int st = server_gets(x, rec, sizeof(rec));
    EXPECT_FAIL(SV(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(SV(x), CL(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

/* A protected record of inner type `inner` with no content (and `pad`
 * bytes of zero padding) in the server's flight, under its handshake keys. */
static void empty_protected_in_flight(uint8_t inner, size_t pad) {
    fx *x = flight_begin();
    REQUIRE(x != NULL);
    mrec *r = mf_insert_copy(x->f, 2, 2);
    REQUIRE(r != NULL);
    r->inner = inner;
    r->len = 0;
    r->pad = pad;
    int st = flight_deliver(x);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

/* The same once connected, under the server's application keys. */
static void empty_protected_connected(uint8_t inner, size_t pad) {
    fx *x = connected_begin();
    REQUIRE(x != NULL);
    mrec *r = mf_add_prot(x->f, inner, NULL, 0, SEC(x, SERVER, SAP));
    REQUIRE(r != NULL);
    r->pad = pad;
    CHECK(mf_send(x->f, CL(x)));
    uint8_t buf[16];
    size_t n = 0;
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(rec_zero_length_handshake_protected) {
    empty_protected_in_flight(FR_CT_HANDSHAKE, 0);
    empty_protected_in_flight(FR_CT_HANDSHAKE, 7);
    empty_protected_connected(FR_CT_HANDSHAKE, 0);
    empty_protected_connected(FR_CT_HANDSHAKE, 100);
}

TEST(rec_zero_length_alert_protected) {
    /* An alert is exactly two bytes (RFC 8446 §6); an empty one, padded or
     * not, under handshake or application keys: unexpected_message. */
    empty_protected_in_flight(FR_CT_ALERT, 0);
    empty_protected_in_flight(FR_CT_ALERT, 9);
    empty_protected_connected(FR_CT_ALERT, 0);
    empty_protected_connected(FR_CT_ALERT, 200);
}

TEST(rec_zero_length_app_data_accepted) {
    /* RFC 8446 §5.1: zero-length application data may be sent; padded or
     * not, it is taken and the connection goes on. */
    fx *x = connected_begin();
    REQUIRE(x != NULL);
    CHECK(mf_add_prot(x->f, FR_CT_APPLICATION_DATA, NULL, 0, SEC(x, SERVER, SAP)) != NULL);
    mrec *r = mf_add_prot(x->f, FR_CT_APPLICATION_DATA, NULL, 0, SEC(x, SERVER, SAP));
    REQUIRE(r != NULL);
    r->pad = 50;
    CHECK(mf_add_prot(x->f, FR_CT_APPLICATION_DATA, (const uint8_t *)"data", 4,
                      SEC(x, SERVER, SAP)) != NULL);
    CHECK(mf_send(x->f, CL(x)));
    uint8_t buf[16];
    size_t n = 0;
    CHECK_EQ(ferrule_conn_read(CL(x), buf, sizeof(buf), &n), FERRULE_OK);
    CHECK(n == 4 && memcmp(buf, "data", 4) == 0);
    EXCHANGE(CL(x), SV(x), "still fine");
    fx_free(x);
}

TEST(rec_alert_wrong_length) {
    static const uint8_t one[6] = {21, 3, 3, 0, 1, 2};
    static const uint8_t three[8] = {21, 3, 3, 0, 3, 2, 40, 0};
    static const uint8_t zero[5] = {21, 3, 3, 0, 0};
    const uint8_t *recs[3] = {one, three, zero};
    size_t lens[3] = {sizeof(one), sizeof(three), sizeof(zero)};
    for (size_t i = 0; i < 3; i++) {
        fx *x = server_fresh();
        CHECK(x != NULL);
        if (x == NULL) return;
        int st = server_gets(x, recs[i], lens[i]);
        /* One or three bytes: a malformed alert; none: no alert at all
         * (RFC 8446 §5.1, as for handshake fragments). */
        int alert = i < 2 ? FERRULE_ALERT_DECODE_ERROR : FERRULE_ALERT_UNEXPECTED_MESSAGE;
        EXPECT_FAIL(SV(x), st, i < 2 ? FERRULE_DECODE : FERRULE_ALERT_SENT,
                    i < 2 ? FERRULE_R_DECODE_ERROR : FERRULE_R_UNEXPECTED_MESSAGE, alert);
        EXPECT_PEER_ALERT(SV(x), CL(x), alert);
        fx_free(x);
    }
}

TEST(rec_protected_alert_wrong_length) {
    fx *x = flight_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *r = mf_insert_copy(x->f, 2, 2);
    CHECK(r != NULL);
    if (r == NULL) return;
    r->inner = FR_CT_ALERT;
    r->data[0] = 2;
    r->data[1] = 40;
    r->data[2] = 0;
    r->len = 3;
    int st = flight_deliver(x);
    EXPECT_FAIL(CL(x), st, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

static void empty_app_records(size_t count, int then_data) {
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    for (size_t i = 0; i < count; i++)
        CHECK(mf_add_prot(x->f, FR_CT_APPLICATION_DATA, NULL, 0, SEC(x, SERVER, SAP)) != NULL);
    if (then_data)
        CHECK(mf_add_prot(x->f, FR_CT_APPLICATION_DATA, (const uint8_t *)"data", 4,
                          SEC(x, SERVER, SAP)) != NULL);
    CHECK(mf_send(x->f, CL(x)));
    uint8_t buf[16];
    size_t n = 0;
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    if (count <= FR_MAX_EMPTY_RECORDS) {
        CHECK_EQ(st, then_data ? FERRULE_OK : FERRULE_WANT_READ);
        if (then_data) CHECK(n == 4 && memcmp(buf, "data", 4) == 0);
        EXCHANGE(CL(x), SV(x), "still fine");
    } else {
        EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                    FERRULE_ALERT_UNEXPECTED_MESSAGE);
        EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    }
    fx_free(x);
}

TEST(rec_33_empty_app_records) { empty_app_records(33, 1); }
TEST(rec_32_empty_app_records_are_tolerated) {
    empty_app_records(32, 1);
    empty_app_records(32, 0);
}

TEST(rec_inner_plaintext_all_zeros) {
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t zeros[8] = {0};
    CHECK(mf_add_prot(x->f, 0, zeros, sizeof(zeros), SEC(x, SERVER, SAP)) != NULL);
    CHECK(mf_send(x->f, CL(x)));
    uint8_t buf[16];
    size_t n;
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(rec_inner_unknown_type) {
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    CHECK(mf_add_prot(x->f, 0x63, (const uint8_t *)"abc", 3, SEC(x, SERVER, SAP)) != NULL);
    CHECK(mf_send(x->f, CL(x)));
    uint8_t buf[16];
    size_t n;
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(rec_replayed_record) {
    /* The same protected record twice: the second uses the wrong nonce. */
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write(SV(x), (const uint8_t *)"once", 4, &n), FERRULE_OK);
    CHECK(mf_take(x->f, SV(x)));
    CHECK_EQ(x->f->n, 1);
    CHECK(mf_insert_copy(x->f, 1, 0) != NULL);
    CHECK(mf_send(x->f, CL(x)));
    uint8_t buf[16];
    CHECK_EQ(ferrule_conn_read(CL(x), buf, sizeof(buf), &n), FERRULE_OK);
    CHECK(n == 4 && memcmp(buf, "once", 4) == 0);
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    EXPECT_FAIL(CL(x), st, FERRULE_DECODE, FERRULE_R_BAD_RECORD_MAC, FERRULE_ALERT_BAD_RECORD_MAC);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_BAD_RECORD_MAC);
    fx_free(x);
}

TEST(rec_interleaved_alert_plain) {
    /* ClientHello split over two records with an alert between them. */
    fx *x = ch_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t warn[2] = {1, FERRULE_ALERT_USER_CANCELED};
    mrec *tail = mf_insert_copy(x->f, 1, 0);
    CHECK(tail != NULL);
    if (tail == NULL) return;
    memmove(tail->data, tail->data + 10, tail->len - 10);
    tail->len -= 10;
    x->f->r[0].len = 10;
    mrec *a = mf_insert_copy(x->f, 1, 0);
    a->type = FR_CT_ALERT;
    memcpy(a->data, warn, 2);
    a->len = 2;
    CHECK(mf_send(x->f, SV(x)));
    int st = ferrule_conn_handshake(SV(x));
    EXPECT_FAIL(SV(x), st, FERRULE_ALERT_SENT, FERRULE_R_INTERLEAVED,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(SV(x), CL(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(rec_interleaved_alert_protected) {
    /* EncryptedExtensions split, a protected (fatal) alert in between: the
     * interleaving is detected before the alert is acted upon. */
    fx *x = flight_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *tail = mf_insert_copy(x->f, 3, 2);
    CHECK(tail != NULL);
    if (tail == NULL) return;
    memmove(tail->data, tail->data + 3, tail->len - 3);
    tail->len -= 3;
    x->f->r[2].len = 3;
    mrec *a = mf_insert_copy(x->f, 3, 2);
    a->inner = FR_CT_ALERT;
    a->data[0] = 2;
    a->data[1] = FERRULE_ALERT_HANDSHAKE_FAILURE;
    a->len = 2;
    int st = flight_deliver(x);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_INTERLEAVED,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(rec_interleaved_app_data) {
    /* KeyUpdate split over two records with application data in between. */
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t ku[5] = {FR_HS_KEY_UPDATE, 0, 0, 1, 0};
    const uint8_t *k = SEC(x, SERVER, SAP);
    mf_add_prot(x->f, FR_CT_HANDSHAKE, ku, 2, k);
    mf_add_prot(x->f, FR_CT_APPLICATION_DATA, (const uint8_t *)"x", 1, k);
    mf_add_prot(x->f, FR_CT_HANDSHAKE, ku + 2, 3, k);
    CHECK(mf_send(x->f, CL(x)));
    uint8_t buf[16];
    size_t n;
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_INTERLEAVED,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(rec_fragmented_client_hello_one_byte_records) {
    /* Positive: the record layer reassembles a ClientHello sent one byte
     * per record (RFC 8446 §5.1 allows any fragmentation). */
    fx *x = ch_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    const mrec *ch = &x->f->r[0];
    uint8_t *buf = malloc(6 * ch->len);
    size_t off = 0;
    for (size_t i = 0; i < ch->len; i++) {
        const uint8_t rec[6] = {22, 3, 1, 0, 1, ch->data[i]};
        memcpy(buf + off, rec, 6);
        off += 6;
    }
    /* The input buffer holds one maximal record: feed in slices. */
    int st = FERRULE_WANT_READ;
    for (size_t i = 0; i < off && st == FERRULE_WANT_READ; i += 6000) {
        size_t k = off - i < 6000 ? off - i : 6000;
        CHECK(mitm_feed(SV(x), buf + i, k));
        st = ferrule_conn_handshake(SV(x));
    }
    CHECK_EQ(st, FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_handshake_state(SV(x)), FERRULE_HS_WAIT_CLIENT_FINISHED);
    CHECK(mitm_pass(SV(x), CL(x)));
    CHECK_EQ(ferrule_conn_handshake(CL(x)), FERRULE_OK);
    CHECK(mitm_pass(CL(x), SV(x)));
    CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_OK);
    EXCHANGE(SV(x), CL(x), "reassembled");
    free(buf);
    fx_free(x);
}

TEST(rec_flight_coalesced_and_fragmented) {
    /* Positive: EE..Finished in one record; and Certificate in 3 pieces. */
    for (int mode = 0; mode < 2; mode++) {
        fx *x = flight_begin();
        CHECK(x != NULL);
        if (x == NULL) return;
        mflight *f = x->f;
        if (mode == 0) {
            for (size_t i = 3; i < 6; i++) {
                memcpy(f->r[2].data + f->r[2].len, f->r[i].data, f->r[i].len);
                f->r[2].len += f->r[i].len;
            }
            f->n = 3;
        } else {
            mrec *b = mf_insert_copy(f, 4, 3);
            mrec *c = mf_insert_copy(f, 5, 3);
            size_t len = f->r[3].len, a1 = 1, a2 = len / 2;
            memmove(b->data, b->data + a1, a2 - a1);
            b->len = a2 - a1;
            memmove(c->data, c->data + a2, len - a2);
            c->len = len - a2;
            f->r[3].len = a1;
        }
        CHECK_EQ(flight_deliver(x), FERRULE_OK);
        CHECK(mitm_pass(CL(x), SV(x)));
        CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_OK);
        EXCHANGE(CL(x), SV(x), "ok");
        fx_free(x);
    }
}

TEST(rec_handshake_too_large_certificate) {
    /* The client caps handshake messages at 1024 bytes; an RSA chain's
     * Certificate is larger. */
    ferrule_config *cc = pair_client_config();
    CHECK(cc != NULL);
    if (cc == NULL) return;
    CHECK_EQ(ferrule_config_set_max_handshake_message(cc, 1024), FERRULE_OK);
    fx *x = flight_begin_cfg(cc, pair_server_config("rsa"));
    CHECK(x != NULL);
    if (x == NULL) return;
    CHECK(x->f->r[3].len > 1024 + 4);
    int st = flight_deliver(x);
    /* Our cap, not a malformed message of the peer's: a policy refusal
     * whose reason names the cap, with handshake_failure. */
    EXPECT_FAIL(CL(x), st, FERRULE_POLICY, FERRULE_R_HANDSHAKE_TOO_LARGE,
                FERRULE_ALERT_HANDSHAKE_FAILURE);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_HANDSHAKE_FAILURE);
    CHECK(strstr(ferrule_reason_message(FERRULE_R_HANDSHAKE_TOO_LARGE), "max_handshake_message") !=
          NULL);
    fx_free(x);
}

TEST(rec_handshake_unexpected_type_refused_from_its_header) {
    /* A message type the state never takes is refused as soon as its
     * header is in, whatever length it announces (here 6.6 MB, "hello"
     * read as a header): nothing of it is buffered. */
    fx *x = server_fresh();
    REQUIRE(x != NULL);
    static const uint8_t rec[10] = {22, 3, 1, 0, 5, 'h', 'e', 'l', 'l', 'o'};
    int st = server_gets(x, rec, sizeof(rec));
    EXPECT_FAIL(SV(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(SV(x), CL(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(rec_handshake_too_large_forged_header) {
    /* The largest ClientHello RFC 8446 §4.1.2 allows is 131,396 bytes (every
     * list at its maximum), also the default cap.  A header announcing one
     * byte more is malformed by syntax (decode_error); one announcing
     * exactly that just waits for more. */
    CHECK_EQ(FR_MAX_CLIENT_HELLO, 131396);
    for (int over = 0; over < 2; over++) {
        fx *x = server_fresh();
        CHECK(x != NULL);
        if (x == NULL) return;
        size_t len = FR_MAX_CLIENT_HELLO + (size_t)over;
        const uint8_t rec[9] = {22,           3, 1, 0, 4, 1, (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                                (uint8_t)len};
        int st = server_gets(x, rec, sizeof(rec));
        if (over) {
            EXPECT_FAIL(SV(x), st, FERRULE_DECODE, FERRULE_R_DECODE_ERROR,
                        FERRULE_ALERT_DECODE_ERROR);
            EXPECT_PEER_ALERT(SV(x), CL(x), FERRULE_ALERT_DECODE_ERROR);
        } else {
            CHECK_EQ(st, FERRULE_WANT_READ);
            CHECK_EQ(ferrule_conn_status(SV(x)), FERRULE_OK);
        }
        fx_free(x);
    }
}

TEST(rec_handshake_over_a_configured_cap) {
    /* Below the syntax limit but above a configured cap: our policy, named
     * as such (handshake_too_large, handshake_failure), from the header. */
    ferrule_config *sc = pair_server_config("ecdsa-p256");
    REQUIRE(sc != NULL);
    CHECK_EQ(ferrule_config_set_max_handshake_message(sc, 65536), FERRULE_OK);
    fx *x = fx_new(NULL, sc);
    REQUIRE(x != NULL);
    uint8_t sink[4096];
    size_t n;
    CHECK_EQ(ferrule_conn_handshake(CL(x)), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_take(CL(x), sink, sizeof(sink), &n), FERRULE_OK);
    const uint8_t rec[9] = {22, 3, 1, 0, 4, 1, 1, 0, 1}; /* 65,537 bytes */
    int st = server_gets(x, rec, sizeof(rec));
    EXPECT_FAIL(SV(x), st, FERRULE_POLICY, FERRULE_R_HANDSHAKE_TOO_LARGE,
                FERRULE_ALERT_HANDSHAKE_FAILURE);
    EXPECT_PEER_ALERT(SV(x), CL(x), FERRULE_ALERT_HANDSHAKE_FAILURE);
    fx_free(x);
}

TEST(rec_handshake_length_impossible_for_its_type) {
    /* From the 4-byte header, before any body is held: a Finished of any
     * length but the hash's (RFC 8446 §4.4.4), a KeyUpdate of other than
     * one byte, a CertificateVerify or EncryptedExtensions longer than
     * their length prefixes allow: decode_error (tlsfuzzer's Finished
     * "pad_right 196608" got handshake_failure from our cap). */
    static const struct {
        int where; /* 0: in the server's flight (client reads), 1: connected */
        uint8_t hdr[4];
    } cases[] = {
        {0, {FR_HS_ENCRYPTED_EXTENSIONS, 0x01, 0x00, 0x02}}, /* 65,538 */
        {0, {FR_HS_ENCRYPTED_EXTENSIONS, 0x03, 0x00, 0x00}}, /* 196,608 */
        {1, {FR_HS_KEY_UPDATE, 0, 0, 2}},
        {1, {FR_HS_KEY_UPDATE, 0, 0, 0}},
        {1, {FR_HS_KEY_UPDATE, 0x03, 0x00, 0x00}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fx *x = cases[i].where == 0 ? flight_begin() : connected_begin();
        REQUIRE(x != NULL);
        int st;
        if (cases[i].where == 0) {
            memcpy(x->f->r[2].data, cases[i].hdr, 4); /* EncryptedExtensions' header */
            st = flight_deliver(x);
        } else {
            CHECK(mf_add_prot(x->f, FR_CT_HANDSHAKE, cases[i].hdr, 4, SEC(x, SERVER, SAP)) != NULL);
            CHECK(mf_send(x->f, CL(x)));
            uint8_t buf[16];
            size_t n = 0;
            st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
        }
        EXPECT_FAIL(CL(x), st, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
        fx_free(x);
    }
}

TEST(rec_finished_length_from_its_header) {
    /* The client's Finished (the server reads it) announcing 196,608 bytes
     * or the hash length + 1: decode_error from the header, whatever the
     * cap, and nothing of the body is waited for. */
    const size_t lens[2] = {196608, 33};
    for (size_t i = 0; i < 2; i++) {
        fx *x = flight_begin();
        REQUIRE(x != NULL);
        CHECK_EQ(flight_deliver(x), FERRULE_OK);
        /* The client's last flight: [CCS,] Finished under its handshake keys. */
        mflight *g = mf_new();
        REQUIRE(g != NULL);
        g->suite = x->f->suite;
        CHECK(mf_take(g, CL(x)));
        size_t k = g->n > 0 && g->r[0].type == FR_CT_CHANGE_CIPHER_SPEC ? 1 : 0;
        REQUIRE(g->n == k + 1 && mf_open(g, k, k + 1, SEC(x, CLIENT, CHS)) == 1);
        g->r[k].data[1] = (uint8_t)(lens[i] >> 16);
        g->r[k].data[2] = (uint8_t)(lens[i] >> 8);
        g->r[k].data[3] = (uint8_t)lens[i];
        g->r[k].len = 4;
        CHECK(mf_send(g, SV(x)));
        int st = ferrule_conn_handshake(SV(x));
        EXPECT_FAIL(SV(x), st, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
        mf_free(g);
        fx_free(x);
    }
}

TEST(rec_message_spans_key_change) {
    /* RFC 8446 §5.1: ServerHello followed, in the same record, by a byte of
     * the next message (which must come under the new keys). */
    fx *x = flight_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    x->f->r[0].data[x->f->r[0].len++] = FR_HS_ENCRYPTED_EXTENSIONS;
    int st = flight_deliver(x);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    /* The client had already switched to handshake keys. */
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

/* ========================================================================== */
/* ClientHello (server side)                                                   */
/* ========================================================================== */

/* Run an edited ClientHello; the server must fail as given and the client
 * must receive the alert. */
static void ch_expect_at(int line, fx *x, int status, uint32_t reason, int alert) {
    int st = ch_deliver(x);
    expect_fail_at(line, SV(x), st, status, reason, alert);
    expect_peer_alert_at(line, SV(x), CL(x), alert);
}
#define CH_EXPECT(x, status, reason, alert) ch_expect_at(__LINE__, (x), (status), (reason), (alert))

#define CH_BEGIN(x)                                                                                \
    fx *x = ch_begin();                                                                            \
    CHECK(x != NULL);                                                                              \
    if (x == NULL) return

TEST(ch_missing_supported_versions) {
    CH_BEGIN(x);
    CHECK(hello_remove(&x->h, FR_EXT_SUPPORTED_VERSIONS));
    CH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_PROTOCOL_VERSION, FERRULE_ALERT_PROTOCOL_VERSION);
    fx_free(x);
}

TEST(ch_supported_versions_without_tls13) {
    CH_BEGIN(x);
    hext *sv = hello_find(&x->h, FR_EXT_SUPPORTED_VERSIONS);
    CHECK(sv != NULL);
    if (sv == NULL) return;
    static const uint16_t v[2] = {0x0303, 0x0302};
    sv->len = u16_vec(sv->body, 1, v, 2);
    CH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_PROTOCOL_VERSION, FERRULE_ALERT_PROTOCOL_VERSION);
    fx_free(x);
}

TEST(ch_no_extensions) {
    /* A TLS 1.2-style ClientHello without an extensions block at all. */
    CH_BEGIN(x);
    x->h.has_exts = 0;
    x->h.n_ext = 0;
    CH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_PROTOCOL_VERSION, FERRULE_ALERT_PROTOCOL_VERSION);
    fx_free(x);
}

TEST(ch_duplicate_extension) {
    CH_BEGIN(x);
    size_t i = hello_index(&x->h, FR_EXT_SUPPORTED_GROUPS);
    CHECK(i < x->h.n_ext);
    if (i >= x->h.n_ext) return;
    hext copy = x->h.ext[i];
    CHECK(hello_add(&x->h, x->h.n_ext, copy.type, copy.body, copy.len) != NULL);
    CH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_DUPLICATE_EXTENSION,
              FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(ch_duplicate_unknown_extension) {
    CH_BEGIN(x);
    static const uint8_t body[3] = {1, 2, 3};
    CHECK(hello_add(&x->h, 0, 0xfe77, body, 3) != NULL);
    CHECK(hello_add(&x->h, x->h.n_ext, 0xfe77, body, 1) != NULL);
    CH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_DUPLICATE_EXTENSION,
              FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(ch_pre_shared_key_not_last) {
    CH_BEGIN(x);
    /* identities<7..>: one identity "id" with age 0; binders<33..>: one
     * 32-byte binder.  Well formed, but followed by other extensions. */
    uint8_t psk[64];
    size_t n = 0;
    psk[n++] = 0;
    psk[n++] = 8;
    psk[n++] = 0;
    psk[n++] = 2;
    psk[n++] = 'i';
    psk[n++] = 'd';
    memset(psk + n, 0, 4);
    n += 4;
    psk[n++] = 0;
    psk[n++] = 33;
    psk[n++] = 32;
    memset(psk + n, 0x5a, 32);
    n += 32;
    CHECK(hello_add(&x->h, 0, FR_EXT_PRE_SHARED_KEY, psk, n) != NULL);
    CH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER, FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(ch_compression_methods) {
    static const uint8_t bad[3][2] = {{1, 0}, {0, 1}, {0, 0}};
    static const size_t len[3] = {1, 2, 2};
    for (size_t i = 0; i < 3; i++) {
        CH_BEGIN(x);
        memcpy(x->h.comp, bad[i], len[i]);
        x->h.n_comp = len[i];
        CH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                  FERRULE_ALERT_ILLEGAL_PARAMETER);
        fx_free(x);
    }
}

TEST(ch_empty_compression_methods) {
    CH_BEGIN(x);
    x->h.n_comp = 0;
    CH_EXPECT(x, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

TEST(ch_no_common_cipher_suite) {
    CH_BEGIN(x);
    /* TLS_AES_128_CCM_SHA256 and a TLS 1.2 suite only. */
    x->h.suites[0] = 0x1304;
    x->h.suites[1] = 0xc02b;
    x->h.n_suites = 2;
    CH_EXPECT(x, FERRULE_POLICY, FERRULE_R_NO_SHARED_PARAMS, FERRULE_ALERT_HANDSHAKE_FAILURE);
    fx_free(x);
}

TEST(ch_empty_or_odd_cipher_suites) {
    for (int odd = 0; odd < 2; odd++) {
        CH_BEGIN(x);
        /* Built by hand: the u16 list cannot express an odd length. */
        x->h.n_suites = 0;
        uint8_t *m = x->f->r[0].data;
        size_t n = hello_encode(&x->h, m, MITM_REC_CAP);
        CHECK(n > 0);
        /* Suites vector sits after version(2) random(32) sid(1+32). */
        size_t at = 4 + 2 + 32 + 1 + x->h.sid_len;
        CHECK(m[at] == 0 && m[at + 1] == 0);
        if (odd) {
            memmove(m + at + 3, m + at + 2, n - at - 2);
            m[at + 1] = 1;
            m[at + 2] = 0x13;
            n++;
            size_t body = n - 4;
            m[1] = (uint8_t)(body >> 16);
            m[2] = (uint8_t)(body >> 8);
            m[3] = (uint8_t)body;
        }
        x->f->r[0].len = n;
        CHECK(mf_send(x->f, SV(x)));
        int st = ferrule_conn_handshake(SV(x));
        EXPECT_FAIL(SV(x), st, FERRULE_DECODE, FERRULE_R_DECODE_ERROR,
                    FERRULE_ALERT_DECODE_ERROR);
        EXPECT_PEER_ALERT(SV(x), CL(x), FERRULE_ALERT_DECODE_ERROR);
        fx_free(x);
    }
}

TEST(ch_missing_signature_algorithms) {
    CH_BEGIN(x);
    CHECK(hello_remove(&x->h, FR_EXT_SIGNATURE_ALGORITHMS));
    CH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_MISSING_EXTENSION,
              FERRULE_ALERT_MISSING_EXTENSION);
    fx_free(x);
}

TEST(ch_missing_key_share) {
    CH_BEGIN(x);
    CHECK(hello_remove(&x->h, FR_EXT_KEY_SHARE));
    CH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_MISSING_EXTENSION,
              FERRULE_ALERT_MISSING_EXTENSION);
    fx_free(x);
}

TEST(ch_missing_supported_groups) {
    CH_BEGIN(x);
    CHECK(hello_remove(&x->h, FR_EXT_SUPPORTED_GROUPS));
    CH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_MISSING_EXTENSION,
              FERRULE_ALERT_MISSING_EXTENSION);
    fx_free(x);
}

TEST(ch_key_share_group_not_in_supported_groups) {
    CH_BEGIN(x);
    hext *sg = hello_find(&x->h, FR_EXT_SUPPORTED_GROUPS);
    CHECK(sg != NULL);
    if (sg == NULL) return;
    /* The x25519 share remains; x25519 is no longer listed. */
    static const uint16_t g[2] = {FERRULE_GROUP_SECP256R1, FERRULE_GROUP_SECP384R1};
    sg->len = u16_vec(sg->body, 2, g, 2);
    CH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER, FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(ch_duplicate_key_share_group) {
    CH_BEGIN(x);
    hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
    CHECK(ks != NULL && ks->len >= 2 + 4 + 32);
    if (ks == NULL) return;
    /* The first (only) entry is x25519 (2 + 2 + 32 bytes): append it again. */
    CHECK(ks->body[2] == 0x00 && ks->body[3] == 0x1d);
    memcpy(ks->body + ks->len, ks->body + 2, 36);
    ks->len += 36;
    size_t list = ks->len - 2;
    ks->body[0] = (uint8_t)(list >> 8);
    ks->body[1] = (uint8_t)list;
    CH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER, FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(ch_truncated) {
    /* Cut the body at many offsets, with the lengths of the handshake
     * header and record made consistent: every cut is decode_error. */
    fx *probe = ch_begin();
    CHECK(probe != NULL);
    if (probe == NULL) return;
    size_t full = probe->f->r[0].len - 4;
    size_t comp_end = 2 + 32 + 1 + probe->h.sid_len + 2 + 2 * probe->h.n_suites + 1 +
                      probe->h.n_comp;
    fx_free(probe);
    size_t cuts[] = {0, 1, 2, 20, 34, 35, 50, 67, 69, comp_end - 1, comp_end + 1, comp_end + 2,
                     comp_end + 5, full / 2, full - 40, full - 1};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        CH_BEGIN(x);
        size_t cut = cuts[i];
        uint8_t *m = x->f->r[0].data;
        m[1] = (uint8_t)(cut >> 16);
        m[2] = (uint8_t)(cut >> 8);
        m[3] = (uint8_t)cut;
        x->f->r[0].len = 4 + cut;
        CHECK(mf_send(x->f, SV(x)));
        int st = ferrule_conn_handshake(SV(x));
        if (st != FERRULE_DECODE) fprintf(stderr, "  cut at %zu of %zu\n", cut, full);
        EXPECT_FAIL(SV(x), st, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
        EXPECT_PEER_ALERT(SV(x), CL(x), FERRULE_ALERT_DECODE_ERROR);
        fx_free(x);
    }
}

TEST(ch_trailing_byte) {
    CH_BEGIN(x);
    x->h.trailing[0] = 0;
    x->h.n_trailing = 1;
    CH_EXPECT(x, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

TEST(ch_trailing_byte_inside_extension) {
    /* supported_versions with a byte after its list. */
    CH_BEGIN(x);
    hext *sv = hello_find(&x->h, FR_EXT_SUPPORTED_VERSIONS);
    CHECK(sv != NULL);
    if (sv == NULL) return;
    sv->body[sv->len++] = 0;
    CH_EXPECT(x, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

TEST(ch_session_id_33_bytes) {
    CH_BEGIN(x);
    x->h.sid_len = 33;
    CH_EXPECT(x, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

/* Positive tolerance: the edited ClientHello is also adopted by the client
 * so that both transcripts agree; the handshake must succeed. */
static void ch_expect_success_at(int line, fx *x) {
    size_t n = hello_encode(&x->h, x->f->r[0].data, MITM_REC_CAP);
    if (n == 0) FAILAT(line, "encode failed");
    x->f->r[0].len = n;
    if (!mitm_client_adopt_hello(CL(x), x->f->r[0].data, n)) FAILAT(line, "adopt failed");
    if (!mf_send(x->f, SV(x))) FAILAT(line, "feed failed");
    int st = ferrule_conn_handshake(SV(x));
    if (st != FERRULE_WANT_READ)
        FAILAT(line, "server: %s (%s)", ferrule_status_name(st),
               ferrule_reason_name(ferrule_conn_reason(SV(x))));
    mitm_pass(SV(x), CL(x));
    st = ferrule_conn_handshake(CL(x));
    if (st != FERRULE_OK)
        FAILAT(line, "client: %s (%s)", ferrule_status_name(st),
               ferrule_reason_name(ferrule_conn_reason(CL(x))));
    mitm_pass(CL(x), SV(x));
    st = ferrule_conn_handshake(SV(x));
    if (st != FERRULE_OK)
        FAILAT(line, "server finish: %s (%s)", ferrule_status_name(st),
               ferrule_reason_name(ferrule_conn_reason(SV(x))));
    exchange_at(line, CL(x), SV(x), "tolerated");
}
#define CH_EXPECT_SUCCESS(x) ch_expect_success_at(__LINE__, (x))

TEST(ch_grease_is_ignored) {
    CH_BEGIN(x);
    hello *h = &x->h;
    /* RFC 8701: GREASE cipher suite first. */
    memmove(h->suites + 1, h->suites, h->n_suites * sizeof(uint16_t));
    h->suites[0] = 0x0a0a;
    h->n_suites++;
    /* GREASE group listed first, with a one-byte GREASE key share. */
    hext *sg = hello_find(h, FR_EXT_SUPPORTED_GROUPS);
    hext *ks = hello_find(h, FR_EXT_KEY_SHARE);
    hext *sa = hello_find(h, FR_EXT_SIGNATURE_ALGORITHMS);
    hext *sv = hello_find(h, FR_EXT_SUPPORTED_VERSIONS);
    CHECK(sg != NULL && ks != NULL && sa != NULL && sv != NULL);
    if (sg == NULL || ks == NULL || sa == NULL || sv == NULL) return;
    static const uint16_t groups[4] = {0x1a1a, FERRULE_GROUP_X25519, FERRULE_GROUP_SECP256R1,
                                       FERRULE_GROUP_SECP384R1};
    sg->len = u16_vec(sg->body, 2, groups, 4);
    memmove(ks->body + 2 + 5, ks->body + 2, ks->len - 2);
    ks->body[2] = 0x1a;
    ks->body[3] = 0x1a;
    ks->body[4] = 0;
    ks->body[5] = 1;
    ks->body[6] = 0;
    ks->len += 5;
    ks->body[0] = (uint8_t)((ks->len - 2) >> 8);
    ks->body[1] = (uint8_t)(ks->len - 2);
    /* GREASE signature scheme and version. */
    memmove(sa->body + 4, sa->body + 2, sa->len - 2);
    sa->body[2] = 0x0a;
    sa->body[3] = 0x0a;
    sa->len += 2;
    sa->body[0] = (uint8_t)((sa->len - 2) >> 8);
    sa->body[1] = (uint8_t)(sa->len - 2);
    static const uint16_t versions[2] = {0x3a3a, FERRULE_TLS13};
    sv->len = u16_vec(sv->body, 1, versions, 2);
    /* A GREASE extension with a random body, first and last. */
    uint8_t body[17];
    for (size_t i = 0; i < sizeof(body); i++) body[i] = (uint8_t)(i * 37 + 11);
    CHECK(hello_add(h, 0, 0x1a1a, body, sizeof(body)) != NULL);
    CHECK(hello_add(h, h->n_ext, 0xfafa, NULL, 0) != NULL);
    CH_EXPECT_SUCCESS(x);
    CHECK_EQ(ferrule_conn_cipher_suite(SV(x)), FERRULE_TLS_AES_128_GCM_SHA256);
    CHECK_EQ(ferrule_conn_group(SV(x)), FERRULE_GROUP_X25519);
    fx_free(x);
}

TEST(ch_unknown_extension_is_ignored) {
    CH_BEGIN(x);
    static const uint8_t body[4] = {0xde, 0xad, 0xbe, 0xef};
    CHECK(hello_add(&x->h, 1, 0xfe77, body, sizeof(body)) != NULL);
    /* Extensions the server does not implement (signed_certificate_timestamp,
     * padding).  (status_request is implemented, and our client sends it.) */
    CHECK(hello_add(&x->h, 2, FR_EXT_SCT, NULL, 0) != NULL);
    static const uint8_t pad[40] = {0};
    CHECK(hello_add(&x->h, x->h.n_ext, FR_EXT_PADDING, pad, sizeof(pad)) != NULL);
    CH_EXPECT_SUCCESS(x);
    fx_free(x);
}

TEST(ch_second_client_hello_separate_record) {
    fx *x = ch_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    CHECK(mf_insert_copy(x->f, 1, 0) != NULL);
    CHECK(mf_send(x->f, SV(x)));
    int st = ferrule_conn_handshake(SV(x));
    EXPECT_FAIL(SV(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(ch_second_client_hello_same_record) {
    fx *x = ch_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *r = &x->f->r[0];
    memcpy(r->data + r->len, r->data, r->len);
    r->len *= 2;
    CHECK(mf_send(x->f, SV(x)));
    int st = ferrule_conn_handshake(SV(x));
    EXPECT_FAIL(SV(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(ch_second_client_hello_protected) {
    /* After the flight: a ClientHello under the client handshake keys. */
    fx *x = ch_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec saved = x->f->r[0];
    CHECK(mf_send(x->f, SV(x)));
    CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_WANT_READ);
    memset(x->f, 0, offsetof(mflight, r));
    x->f->suite = ferrule_conn_cipher_suite(SV(x));
    CHECK(mf_add_prot(x->f, FR_CT_HANDSHAKE, saved.data, saved.len, SEC(x, SERVER, CHS)) != NULL);
    CHECK(mf_send(x->f, SV(x)));
    int st = ferrule_conn_handshake(SV(x));
    EXPECT_FAIL(SV(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(ch_not_a_client_hello) {
    /* The first message is a Finished. */
    fx *x = server_fresh();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t rec[5 + 4 + 32] = {22, 3, 1, 0, 36, FR_HS_FINISHED, 0, 0, 32};
    int st = server_gets(x, rec, sizeof(rec));
    EXPECT_FAIL(SV(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(SV(x), CL(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

/* A well-formed pre_shared_key body: one identity "id", one 32-byte binder. */
static size_t psk_body(uint8_t *psk) {
    size_t n = 0;
    psk[n++] = 0;
    psk[n++] = 8;
    psk[n++] = 0;
    psk[n++] = 2;
    psk[n++] = 'i';
    psk[n++] = 'd';
    memset(psk + n, 0, 4);
    n += 4;
    psk[n++] = 0;
    psk[n++] = 33;
    psk[n++] = 32;
    memset(psk + n, 0x5a, 32);
    return n + 32;
}

TEST(ch_psk_without_kex_modes) {
    /* RFC 8446 §4.2.9: "If clients offer 'pre_shared_key' without a
     * 'psk_key_exchange_modes' extension, servers MUST abort the
     * handshake"; §9.2 names the alert: missing_extension. */
    CH_BEGIN(x);
    CHECK(hello_remove(&x->h, FR_EXT_PSK_KEY_EXCHANGE_MODES));
    uint8_t psk[64];
    size_t n = psk_body(psk);
    CHECK(hello_add(&x->h, x->h.n_ext, FR_EXT_PRE_SHARED_KEY, psk, n) != NULL);
    CH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_MISSING_EXTENSION,
              FERRULE_ALERT_MISSING_EXTENSION);
    fx_free(x);
}

TEST(ch_early_data_not_empty) {
    /* RFC 8446 §4.2.10: early_data in a ClientHello has an empty body. */
    CH_BEGIN(x);
    static const uint8_t body[4] = {0, 0, 0x40, 0};
    CHECK(hello_add(&x->h, 0, FR_EXT_EARLY_DATA, body, sizeof(body)) != NULL);
    CH_EXPECT(x, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

TEST(ch_early_data_without_psk_is_ignored) {
    /* Positive: early_data without a PSK cannot be accepted; the
     * handshake goes on in 1-RTT (RFC 8446 §4.2.10). */
    CH_BEGIN(x);
    CHECK(hello_add(&x->h, 0, FR_EXT_EARLY_DATA, NULL, 0) != NULL);
    CH_EXPECT_SUCCESS(x);
    fx_free(x);
}

TEST(end_of_early_data_without_0rtt) {
    /* RFC 8446 §4.5: EndOfEarlyData only after accepted 0-RTT; here under
     * the client handshake keys of an ordinary handshake. */
    fx *x = ch_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    CHECK(mf_send(x->f, SV(x)));
    CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_WANT_READ);
    memset(x->f, 0, offsetof(mflight, r));
    x->f->suite = ferrule_conn_cipher_suite(SV(x));
    static const uint8_t eoed[4] = {FR_HS_END_OF_EARLY_DATA, 0, 0, 0};
    CHECK(mf_add_prot(x->f, FR_CT_HANDSHAKE, eoed, sizeof(eoed), SEC(x, SERVER, CHS)) != NULL);
    CHECK(mf_send(x->f, SV(x)));
    int st = ferrule_conn_handshake(SV(x));
    EXPECT_FAIL(SV(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(ch_psk_declined_full_handshake) {
    /* Positive: an offered PSK the server cannot use is declined and a
     * full handshake follows (RFC 8446 §4.2.11). */
    CH_BEGIN(x);
    /* Our client's hello carries psk_dhe_ke already. */
    hext *modes = hello_find(&x->h, FR_EXT_PSK_KEY_EXCHANGE_MODES);
    CHECK(modes != NULL && modes->len == 2 && modes->body[0] == 1 && modes->body[1] == 1);
    uint8_t psk[64];
    size_t n = psk_body(psk);
    CHECK(hello_add(&x->h, x->h.n_ext, FR_EXT_PRE_SHARED_KEY, psk, n) != NULL);
    CH_EXPECT_SUCCESS(x);
    CHECK_EQ(ferrule_conn_resumed(SV(x)), 0);
    fx_free(x);
}

TEST(ch_legacy_version_ignored) {
    /* RFC 8446 §4.2.1: with supported_versions present the server MUST NOT
     * use legacy_version for negotiation. */
    CH_BEGIN(x);
    x->h.version = 0x0301;
    CH_EXPECT_SUCCESS(x);
    CHECK_EQ(ferrule_conn_version(SV(x)), FERRULE_TLS13);
    fx_free(x);
}

TEST(ch_legacy_version_ssl3_or_lower) {
    /* RFC 8446 Appendix D.5: a ClientHello with legacy_version 0x0300 MUST
     * be refused with protocol_version, supported_versions or not.  Values
     * below it name no TLS version: the same (docs/rfc8446-matrix.md). */
    static const uint16_t bad[4] = {0x0300, 0x02ff, 0x0200, 0x0000};
    for (size_t i = 0; i < 4; i++) {
        CH_BEGIN(x);
        x->h.version = bad[i];
        CH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_PROTOCOL_VERSION,
                  FERRULE_ALERT_PROTOCOL_VERSION);
        fx_free(x);
    }
    /* Above 0x0300 it plays no part (§4.2.1): TLS 1.3 all the same. */
    static const uint16_t good[3] = {0x0302, 0x0304, 0x7f7f};
    for (size_t i = 0; i < 3; i++) {
        CH_BEGIN(x);
        x->h.version = good[i];
        CH_EXPECT_SUCCESS(x);
        CHECK_EQ(ferrule_conn_version(SV(x)), FERRULE_TLS13);
        fx_free(x);
    }
}

TEST(ch_invalid_key_share) {
    CH_BEGIN(x);
    hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
    CHECK(ks != NULL && ks->body[3] == 0x1d && ks->body[5] == 32);
    if (ks == NULL) return;
    memset(ks->body + 6, 0, 32); /* x25519 all-zero (low order) point */
    CH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_BAD_KEY_SHARE, FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(ch_empty_key_share_entry) {
    CH_BEGIN(x);
    hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
    CHECK(ks != NULL);
    if (ks == NULL) return;
    static const uint8_t body[6] = {0, 4, 0, 0x1d, 0, 0};
    memcpy(ks->body, body, sizeof(body));
    ks->len = sizeof(body);
    CH_EXPECT(x, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

TEST(ch_alpn_empty_protocol) {
    /* RFC 7301 §3.1: empty protocol names MUST NOT be included. */
    CH_BEGIN(x);
    static const uint8_t alpn[6] = {0, 4, 2, 'h', '2', 0};
    CHECK(hello_add(&x->h, 1, FR_EXT_ALPN, alpn, sizeof(alpn)) != NULL);
    CH_EXPECT(x, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

TEST(ch_no_common_signature_scheme) {
    /* Only schemes that may not sign TLS 1.3 handshakes: no certificate of
     * ours can answer. */
    CH_BEGIN(x);
    hext *sa = hello_find(&x->h, FR_EXT_SIGNATURE_ALGORITHMS);
    CHECK(sa != NULL);
    if (sa == NULL) return;
    static const uint16_t v[2] = {FERRULE_SIG_RSA_PKCS1_SHA256, 0x0203 /* ecdsa_sha1 */};
    sa->len = u16_vec(sa->body, 2, v, 2);
    CH_EXPECT(x, FERRULE_POLICY, FERRULE_R_UNSUPPORTED_CERT, FERRULE_ALERT_HANDSHAKE_FAILURE);
    fx_free(x);
}

TEST(ch_empty_supported_versions) {
    CH_BEGIN(x);
    hext *sv = hello_find(&x->h, FR_EXT_SUPPORTED_VERSIONS);
    CHECK(sv != NULL);
    if (sv == NULL) return;
    sv->body[0] = 0;
    sv->len = 1;
    CH_EXPECT(x, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

TEST(ch_empty_session_id) {
    /* Positive: a client not in middlebox-compatibility mode (empty
     * legacy_session_id) gets no change_cipher_spec (RFC 8446 D.4). */
    CH_BEGIN(x);
    x->h.sid_len = 0;
    size_t n = hello_encode(&x->h, x->f->r[0].data, MITM_REC_CAP);
    CHECK(n > 0);
    x->f->r[0].len = n;
    CHECK(mitm_client_adopt_hello(CL(x), x->f->r[0].data, n));
    CL(x)->session_id_len = 0;
    CHECK(mf_send(x->f, SV(x)));
    CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_WANT_READ);
    mflight *g = mf_new();
    CHECK(mf_take(g, SV(x)));
    for (size_t i = 0; i < g->n; i++) CHECK(g->r[i].type != FR_CT_CHANGE_CIPHER_SPEC);
    CHECK(mf_send(g, CL(x)));
    CHECK_EQ(ferrule_conn_handshake(CL(x)), FERRULE_OK);
    memset(g, 0, offsetof(mflight, r));
    CHECK(mf_take(g, CL(x)));
    for (size_t i = 0; i < g->n; i++) CHECK(g->r[i].type != FR_CT_CHANGE_CIPHER_SPEC);
    CHECK(mf_send(g, SV(x)));
    CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_OK);
    EXCHANGE(CL(x), SV(x), "no ccs");
    mf_free(g);
    fx_free(x);
}

/* Long but legal lists: the value that matters sits after 70 unknown
 * ones.  The handshake must succeed. */
static void long_list_case(uint16_t ext, int width, uint16_t wanted) {
    CH_BEGIN(x);
    hext *e = hello_find(&x->h, ext);
    CHECK(e != NULL);
    if (e == NULL) return;
    uint16_t v[80];
    size_t n = 0;
    for (; n < 70; n++) v[n] = (uint16_t)(0x0a0a + 0x1000 * (n % 16) + (n / 16)); /* unknown */
    if (ext == FR_EXT_SUPPORTED_GROUPS) {
        v[n++] = FERRULE_GROUP_X25519;
        v[n++] = FERRULE_GROUP_SECP256R1;
        v[n++] = FERRULE_GROUP_SECP384R1;
    } else {
        v[n++] = wanted;
    }
    e->len = u16_vec(e->body, width, v, n);
    ch_expect_success_at(__LINE__, x);
    fx_free(x);
}

TEST(ch_long_lists_are_read_completely) {
    /* Lists longer than any fixed copy (RFC 8446 §4.2.1, §4.2.3, §4.2.7
     * allow up to 2^16 bytes): the useful entries come last and must still
     * be found. */
    long_list_case(FR_EXT_SUPPORTED_GROUPS, 2, 0);
    long_list_case(FR_EXT_SIGNATURE_ALGORITHMS, 2, FERRULE_SIG_ECDSA_SECP256R1_SHA256);
    long_list_case(FR_EXT_SUPPORTED_VERSIONS, 1, FERRULE_TLS13);
}

TEST(rec_reassembly_memory_ceiling) {
    /* A ClientHello of 131,071 bytes (legal, and under the default cap)
     * cannot be reassembled under a 96 KiB memory ceiling: a clean POLICY
     * failure, not a crash. */
    ferrule_config *sc = pair_server_config("ecdsa-p256");
    CHECK(sc != NULL);
    if (sc == NULL) return;
    CHECK_EQ(ferrule_config_set_memory_limit(sc, 96 * 1024), FERRULE_OK);
    fx *x = fx_new(NULL, sc);
    CHECK(x != NULL);
    if (x == NULL) return;
    uint8_t sink[4096];
    size_t n;
    CHECK_EQ(ferrule_conn_handshake(CL(x)), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_take(CL(x), sink, sizeof(sink), &n), FERRULE_OK);
    uint8_t *rec = calloc(1, 5 + 16384);
    rec[0] = 22;
    rec[1] = 3;
    rec[2] = 3;
    rec[3] = 0x40;
    rec[4] = 0;
    rec[5] = FR_HS_CLIENT_HELLO;
    rec[6] = 0x01;
    rec[7] = 0xff;
    rec[8] = 0xff;
    int st = FERRULE_WANT_READ;
    for (int i = 0; i < 8 && st == FERRULE_WANT_READ; i++) {
        CHECK(mitm_feed(SV(x), rec, 5 + 16384));
        st = ferrule_conn_handshake(SV(x));
        rec[5] = 0x42; /* later records: message continuation */
    }
    EXPECT_FAIL(SV(x), st, FERRULE_POLICY, FERRULE_R_MEMORY_LIMIT, FERRULE_ALERT_INTERNAL_ERROR);
    CHECK(ferrule_conn_memory_used(SV(x)) <= 96 * 1024);
    EXPECT_PEER_ALERT(SV(x), CL(x), FERRULE_ALERT_INTERNAL_ERROR);
    free(rec);
    fx_free(x);
}

TEST(ccs_before_server_hello_is_dropped) {
    /* Positive: RFC 8446 §5 allows the CCS any time after the first
     * ClientHello, so also before ServerHello. */
    fx *x = flight_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *tmp = malloc(sizeof(mrec));
    memcpy(tmp, &x->f->r[0], sizeof(mrec));
    memcpy(&x->f->r[0], &x->f->r[1], sizeof(mrec));
    memcpy(&x->f->r[1], tmp, sizeof(mrec));
    free(tmp);
    CHECK_EQ(flight_deliver(x), FERRULE_OK);
    CHECK(mitm_pass(CL(x), SV(x)));
    CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_OK);
    EXCHANGE(SV(x), CL(x), "ccs first");
    fx_free(x);
}

/* ========================================================================== */
/* ServerHello (client side)                                                   */
/* ========================================================================== */

/* The client fails on the edited ServerHello: it has no write keys yet, so
 * its alert goes out in the clear. */
static void sh_expect_at(int line, fx *x, int status, uint32_t reason, int alert) {
    int st = sh_deliver(x);
    expect_fail_at(line, CL(x), st, status, reason, alert);
    expect_wire_alert_at(line, CL(x), SV(x), alert);
}
#define SH_EXPECT(x, status, reason, alert) sh_expect_at(__LINE__, (x), (status), (reason), (alert))

#define SH_BEGIN(x)                                                                                \
    fx *x = flight_begin();                                                                        \
    CHECK(x != NULL);                                                                              \
    if (x == NULL) return

TEST(sh_suite_not_offered) {
    /* The client offers only AES-128-GCM; the server "picks" AES-256-GCM. */
    ferrule_config *cc = pair_client_config();
    CHECK(cc != NULL);
    if (cc == NULL) return;
    const uint16_t one = FERRULE_TLS_AES_128_GCM_SHA256;
    CHECK_EQ(ferrule_config_set_cipher_suites(cc, &one, 1), FERRULE_OK);
    fx *x = flight_begin_cfg(cc, NULL);
    CHECK(x != NULL);
    if (x == NULL) return;
    x->h.suites[0] = FERRULE_TLS_AES_256_GCM_SHA384;
    SH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER, FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(sh_unknown_suite) {
    SH_BEGIN(x);
    x->h.suites[0] = 0x1304;
    SH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER, FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(sh_session_id_echo_changed) {
    for (int mode = 0; mode < 2; mode++) {
        SH_BEGIN(x);
        if (mode == 0)
            x->h.sid[31] ^= 1;
        else
            x->h.sid_len = 0;
        SH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                  FERRULE_ALERT_ILLEGAL_PARAMETER);
        fx_free(x);
    }
}

TEST(sh_compression) {
    SH_BEGIN(x);
    x->h.comp[0] = 1;
    SH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER, FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(sh_legacy_version_not_tls12) {
    /* RFC 8446 §4.1.3: a TLS 1.3 ServerHello has legacy_version 0x0303;
     * Appendix D.5: 0x0300 or lower MUST get protocol_version, and so does
     * any other value (a ServerHello cannot be "newer" on this field). */
    static const uint16_t bad[5] = {0x0300, 0x0200, 0x0000, 0x0301, 0x0304};
    for (size_t i = 0; i < 5; i++) {
        SH_BEGIN(x);
        x->h.version = bad[i];
        SH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_PROTOCOL_VERSION,
                  FERRULE_ALERT_PROTOCOL_VERSION);
        fx_free(x);
    }
}

TEST(sh_supported_versions_tls12) {
    SH_BEGIN(x);
    hext *sv = hello_find(&x->h, FR_EXT_SUPPORTED_VERSIONS);
    CHECK(sv != NULL && sv->len == 2);
    if (sv == NULL) return;
    sv->body[1] = 0x03;
    SH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER, FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(sh_downgrade_sentinel) {
    static const char *const sentinels[2] = {"DOWNGRD\x01", "DOWNGRD\x00"};
    for (int i = 0; i < 2; i++) {
        SH_BEGIN(x);
        CHECK(hello_remove(&x->h, FR_EXT_SUPPORTED_VERSIONS));
        memcpy(x->h.random + 24, sentinels[i], 8);
        SH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_DOWNGRADE, FERRULE_ALERT_ILLEGAL_PARAMETER);
        fx_free(x);
    }
}

TEST(sh_tls12_without_sentinel) {
    SH_BEGIN(x);
    CHECK(hello_remove(&x->h, FR_EXT_SUPPORTED_VERSIONS));
    x->h.random[31] = 0x02; /* never a sentinel */
    SH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_PROTOCOL_VERSION, FERRULE_ALERT_PROTOCOL_VERSION);
    fx_free(x);
}

TEST(sh_key_share_group_not_offered) {
    /* The client offers x25519 only; the answer claims P-256. */
    ferrule_config *cc = pair_client_config();
    CHECK(cc != NULL);
    if (cc == NULL) return;
    const uint16_t g = FERRULE_GROUP_X25519;
    CHECK_EQ(ferrule_config_set_groups(cc, &g, 1), FERRULE_OK);
    fx *x = flight_begin_cfg(cc, NULL);
    CHECK(x != NULL);
    if (x == NULL) return;
    hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
    CHECK(ks != NULL && ks->body[1] == 0x1d);
    if (ks == NULL) return;
    ks->body[1] = 0x17;
    SH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER, FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(sh_key_share_missing) {
    SH_BEGIN(x);
    CHECK(hello_remove(&x->h, FR_EXT_KEY_SHARE));
    SH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_MISSING_EXTENSION, FERRULE_ALERT_MISSING_EXTENSION);
    fx_free(x);
}

TEST(sh_extra_extension) {
    static const uint16_t types[3] = {FR_EXT_SERVER_NAME, FR_EXT_ALPN, 0xfe77};
    for (size_t i = 0; i < 3; i++) {
        SH_BEGIN(x);
        CHECK(hello_add(&x->h, 1, types[i], NULL, 0) != NULL);
        SH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_UNSUPPORTED_EXTENSION,
                  FERRULE_ALERT_UNSUPPORTED_EXTENSION);
        fx_free(x);
    }
}

TEST(sh_duplicate_extension) {
    SH_BEGIN(x);
    hext copy = *hello_find(&x->h, FR_EXT_SUPPORTED_VERSIONS);
    CHECK(hello_add(&x->h, x->h.n_ext, copy.type, copy.body, copy.len) != NULL);
    SH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_DUPLICATE_EXTENSION,
              FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(sh_trailing_byte) {
    SH_BEGIN(x);
    x->h.trailing[0] = 0;
    x->h.n_trailing = 1;
    SH_EXPECT(x, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

TEST(sh_hello_retry_request_random) {
    static const uint8_t hrr[32] = {0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11,
                                    0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
                                    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E,
                                    0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};
    SH_BEGIN(x);
    memcpy(x->h.random, hrr, 32);
    /* A well-formed HelloRetryRequest key_share (selected_group only) for
     * x25519, which the client already sent a share for (RFC 8446 §4.1.4). */
    hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
    CHECK(ks != NULL);
    if (ks == NULL) return;
    ks->body[0] = 0x00;
    ks->body[1] = 0x1d;
    ks->len = 2;
    SH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER, FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(sh_invalid_key_share) {
    /* x25519: all-zero point (low order), and a short share. */
    for (int mode = 0; mode < 2; mode++) {
        SH_BEGIN(x);
        hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
        CHECK(ks != NULL && ks->len == 36 && ks->body[1] == 0x1d);
        if (ks == NULL) return;
        memset(ks->body + 4, 0, 32);
        if (mode == 1) {
            ks->body[3] = 31;
            ks->len = 35;
        }
        SH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_BAD_KEY_SHARE, FERRULE_ALERT_ILLEGAL_PARAMETER);
        fx_free(x);
    }
}

TEST(sh_invalid_p256_point) {
    for (int mode = 0; mode < 2; mode++) {
        ferrule_config *cc = pair_client_config();
        CHECK(cc != NULL);
        if (cc == NULL) return;
        const uint16_t g = FERRULE_GROUP_SECP256R1;
        CHECK_EQ(ferrule_config_set_groups(cc, &g, 1), FERRULE_OK);
        fx *x = flight_begin_cfg(cc, NULL);
        CHECK(x != NULL);
        if (x == NULL) return;
        hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
        CHECK(ks != NULL && ks->len == 4 + 65 && ks->body[4] == 4);
        if (ks == NULL) return;
        if (mode == 0)
            ks->body[4 + 64] ^= 1; /* y no longer matches x: off the curve */
        else
            ks->body[4] = 2; /* compressed form is not allowed */
        SH_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_BAD_KEY_SHARE, FERRULE_ALERT_ILLEGAL_PARAMETER);
        fx_free(x);
    }
}

/* ========================================================================== */
/* The encrypted server flight (client side)                                   */
/* ========================================================================== */

/* Deliver the edited flight; the client fails as given and the server,
 * which reads under the client's handshake keys, receives the alert. */
static void flight_expect_at(int line, fx *x, int status, uint32_t reason, int alert) {
    int st = flight_deliver(x);
    expect_fail_at(line, CL(x), st, status, reason, alert);
    expect_peer_alert_at(line, CL(x), SV(x), alert);
}
#define FLIGHT_EXPECT(x, status, reason, alert)                                                    \
    flight_expect_at(__LINE__, (x), (status), (reason), (alert))

static void set_ee(fx *x, const uint8_t *exts, size_t len) {
    uint8_t body[512];
    body[0] = (uint8_t)(len >> 8);
    body[1] = (uint8_t)len;
    memcpy(body + 2, exts, len);
    set_msg(&x->f->r[2], FR_HS_ENCRYPTED_EXTENSIONS, body, 2 + len);
}

TEST(ee_duplicate_extension) {
    SH_BEGIN(x);
    static const uint8_t exts[8] = {0, 0, 0, 0, 0, 0, 0, 0}; /* server_name twice */
    set_ee(x, exts, sizeof(exts));
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_DUPLICATE_EXTENSION,
                  FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(ee_alpn_not_requested) {
    SH_BEGIN(x);
    static const uint8_t exts[9] = {0, 16, 0, 5, 0, 3, 2, 'h', '2'};
    set_ee(x, exts, sizeof(exts));
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_UNSUPPORTED_EXTENSION,
                  FERRULE_ALERT_UNSUPPORTED_EXTENSION);
    fx_free(x);
}

TEST(ee_alpn_not_offered) {
    /* The client offered h2; the server "selects" h3, which the client
     * never offered. */
    ferrule_config *cc = pair_client_config();
    CHECK(cc != NULL);
    if (cc == NULL) return;
    CHECK_EQ(ferrule_config_add_alpn(cc, (const uint8_t *)"h2", 2), FERRULE_OK);
    fx *x = flight_begin_cfg(cc, NULL);
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t exts[9] = {0, 16, 0, 5, 0, 3, 2, 'h', '3'};
    set_ee(x, exts, sizeof(exts));
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                  FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(ee_key_share) {
    SH_BEGIN(x);
    static const uint8_t exts[8] = {0, 51, 0, 4, 0, 0x1d, 0, 0};
    set_ee(x, exts, sizeof(exts));
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                  FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(ee_unknown_extension) {
    SH_BEGIN(x);
    static const uint8_t exts[5] = {0xfe, 0x77, 0, 1, 0};
    set_ee(x, exts, sizeof(exts));
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_UNSUPPORTED_EXTENSION,
                  FERRULE_ALERT_UNSUPPORTED_EXTENSION);
    fx_free(x);
}

TEST(ee_trailing_byte) {
    SH_BEGIN(x);
    mrec *r = &x->f->r[2];
    r->data[r->len++] = 0;
    r->data[3]++;
    FLIGHT_EXPECT(x, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

TEST(ee_server_name_not_empty) {
    /* RFC 6066 §3: the server's server_name "SHALL be empty". */
    SH_BEGIN(x);
    static const uint8_t exts[5] = {0, 0, 0, 1, 0};
    set_ee(x, exts, sizeof(exts));
    FLIGHT_EXPECT(x, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

TEST(cert_malformed_leaf) {
    SH_BEGIN(x);
    mrec *r = &x->f->r[3];
    /* body: context(1) list<3>; first entry: cert_data<3> starting 0x30. */
    CHECK_EQ(r->data[11], 0x30);
    r->data[11] = 0x31;
    FLIGHT_EXPECT(x, FERRULE_CERTIFICATE, FERRULE_R_CERT_MALFORMED,
                  FERRULE_ALERT_BAD_CERTIFICATE);
    fx_free(x);
}

TEST(cert_entry_extension_unsolicited) {
    /* An SCT entry extension, though the client asked for none
     * (RFC 8446 §4.4.2: entry extensions must answer ClientHello ones). */
    SH_BEGIN(x);
    mrec *r = &x->f->r[3];
    size_t cert_len = (size_t)r->data[8] << 16 | (size_t)r->data[9] << 8 | r->data[10];
    size_t at = 11 + cert_len; /* the entry's extensions<2> */
    CHECK(r->data[at] == 0 && r->data[at + 1] == 0);
    static const uint8_t ext[6] = {0, 4, 0, FR_EXT_SCT, 0, 0};
    memmove(r->data + at + 6, r->data + at + 2, r->len - at - 2);
    memcpy(r->data + at, ext, 6);
    r->len += 4;
    size_t body = r->len - 4, list = body - 4;
    r->data[1] = (uint8_t)(body >> 16);
    r->data[2] = (uint8_t)(body >> 8);
    r->data[3] = (uint8_t)body;
    r->data[5] = (uint8_t)(list >> 16);
    r->data[6] = (uint8_t)(list >> 8);
    r->data[7] = (uint8_t)list;
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_UNSUPPORTED_EXTENSION,
                  FERRULE_ALERT_UNSUPPORTED_EXTENSION);
    fx_free(x);
}

TEST(cert_nonempty_request_context) {
    SH_BEGIN(x);
    mrec *r = &x->f->r[3];
    uint8_t *body = malloc(r->len + 8);
    size_t blen = r->len - 4;
    body[0] = 2;
    body[1] = 0xab;
    body[2] = 0xcd;
    memcpy(body + 3, r->data + 4 + 1, blen - 1);
    set_msg(r, FR_HS_CERTIFICATE, body, blen + 2);
    free(body);
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                  FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(cert_empty_list) {
    SH_BEGIN(x);
    static const uint8_t body[4] = {0, 0, 0, 0};
    set_msg(&x->f->r[3], FR_HS_CERTIFICATE, body, sizeof(body));
    FLIGHT_EXPECT(x, FERRULE_CERTIFICATE, FERRULE_R_CERT_MISSING, FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

/* Replace the server's Certificate (record 3) by one whose list is the
 * leaf followed by `copies` copies of the next certificate, spread over
 * as many protected records as it takes. */
static int long_certificate(fx *x, size_t copies) {
    mrec *r = &x->f->r[3];
    fr_reader body = fr_reader_init(r->data + 4, r->len - 4), ctx, list, leaf, next, ext;
    if (fr_read_vec8(&body, &ctx) != FR_OK || fr_read_vec24(&body, &list) != FR_OK) return 0;
    const uint8_t *leaf_at = list.p;
    if (fr_read_vec24(&list, &leaf) != FR_OK || fr_read_vec16(&list, &ext) != FR_OK) return 0;
    size_t leaf_entry = (size_t)(list.p - leaf_at);
    const uint8_t *next_at = list.p;
    if (fr_read_vec24(&list, &next) != FR_OK || fr_read_vec16(&list, &ext) != FR_OK) return 0;
    size_t next_entry = (size_t)(list.p - next_at);
    size_t list_len = leaf_entry + copies * next_entry, len = 4 + 1 + 3 + list_len;
    uint8_t *msg = malloc(len);
    if (msg == NULL) return 0;
    size_t n = 0;
    msg[n++] = FR_HS_CERTIFICATE;
    msg[n++] = (uint8_t)((len - 4) >> 16);
    msg[n++] = (uint8_t)((len - 4) >> 8);
    msg[n++] = (uint8_t)(len - 4);
    msg[n++] = 0;
    msg[n++] = (uint8_t)(list_len >> 16);
    msg[n++] = (uint8_t)(list_len >> 8);
    msg[n++] = (uint8_t)list_len;
    memcpy(msg + n, leaf_at, leaf_entry);
    n += leaf_entry;
    for (size_t i = 0; i < copies; i++, n += next_entry) memcpy(msg + n, next_at, next_entry);
    /* 16,384 bytes per record: the first in record 3, the rest after it. */
    size_t pos = 3;
    for (size_t off = 0; off < len; off += 16384, pos++) {
        size_t chunk = len - off < 16384 ? len - off : 16384;
        mrec *rec = pos == 3 ? r : mf_insert_copy(x->f, pos, 3);
        if (rec == NULL) {
            free(msg);
            return 0;
        }
        memcpy(rec->data, msg + off, chunk);
        rec->len = chunk;
    }
    free(msg);
    return 1;
}

TEST(cert_peer_chain_cap) {
    /* The cap on certificates taken from a peer is a documented,
     * configurable limit (ferrule_config_set_max_peer_certificates, default
     * 64), distinct from the path builder's budget.  The edited Certificate
     * invalidates the server's CertificateVerify, so a list the client
     * accepts ends there (bad_signature), one over the cap ends at the
     * Certificate (cert_chain_too_long). */
    struct {
        size_t certs;  /* in the Certificate */
        uint32_t cap;  /* 0: default */
        int verify;    /* chain verification on */
        uint32_t reason;
    } cases[] = {
        {51, 0, 0, FERRULE_R_BAD_SIGNATURE},      /* was cert_too_much_work (cap 16) */
        {51, 0, 1, FERRULE_R_BAD_SIGNATURE},      /* a path is found among them */
        {64, 0, 0, FERRULE_R_BAD_SIGNATURE},
        {65, 0, 0, FERRULE_R_CERT_CHAIN_TOO_LONG},
        {65, 0, 1, FERRULE_R_CERT_CHAIN_TOO_LONG},
        {4, 3, 0, FERRULE_R_CERT_CHAIN_TOO_LONG},
        {3, 3, 0, FERRULE_R_BAD_SIGNATURE},
        {120, 256, 0, FERRULE_R_BAD_SIGNATURE},
        /* Within the cap, the memory ceiling still bounds what is held. */
        {250, 256, 0, FERRULE_R_MEMORY_LIMIT},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ferrule_config *cc = pair_client_config();
        REQUIRE(cc != NULL);
        if (cases[i].cap != 0)
            CHECK_EQ(ferrule_config_set_max_peer_certificates(cc, cases[i].cap), FERRULE_OK);
        if (!cases[i].verify) CHECK_EQ(ferrule_config_dangerous_no_verification(cc), FERRULE_OK);
        fx *x = flight_begin_cfg(cc, NULL);
        REQUIRE(x != NULL);
        REQUIRE(long_certificate(x, cases[i].certs - 1));
        int st = flight_deliver(x);
        if (ferrule_conn_reason(CL(x)) != cases[i].reason)
            fprintf(stderr, "  case %zu: %s\n", i, ferrule_reason_name(ferrule_conn_reason(CL(x))));
        CHECK_EQ(ferrule_conn_reason(CL(x)), cases[i].reason);
        if (cases[i].reason == FERRULE_R_CERT_CHAIN_TOO_LONG) {
            CHECK_EQ(st, FERRULE_CERTIFICATE);
            CHECK_EQ(ferrule_conn_alert(CL(x)), FERRULE_ALERT_BAD_CERTIFICATE);
            CHECK_EQ(ferrule_conn_peer_cert_count(CL(x)), cases[i].cap ? cases[i].cap : 64);
        } else if (cases[i].reason == FERRULE_R_BAD_SIGNATURE) {
            CHECK_EQ(ferrule_conn_peer_cert_count(CL(x)), cases[i].certs);
        }
        fx_free(x);
    }
    /* The setter's range: 1 .. 256. */
    ferrule_config *cfg = pair_client_config();
    REQUIRE(cfg != NULL);
    CHECK_EQ(ferrule_config_set_max_peer_certificates(cfg, 0), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(ferrule_config_set_max_peer_certificates(cfg, 257), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_max_peer_certificates(cfg, 256), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_max_peer_certificates(NULL, 5), FERRULE_USAGE);
    ferrule_config_free(cfg);
}

TEST(cert_list_length_mismatch) {
    SH_BEGIN(x);
    mrec *r = &x->f->r[3];
    r->data[4 + 1 + 2] ^= 1; /* low byte of certificate_list length */
    FLIGHT_EXPECT(x, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

static void corrupt_cv(const char *kind) {
    fx *x = flight_begin_cfg(NULL, pair_server_config(kind));
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *r = &x->f->r[4];
    /* Flip a bit in the middle of the signature: for ECDSA that lands in
     * r or s, keeping the DER well formed. */
    size_t sig_len = (size_t)r->data[6] << 8 | r->data[7];
    CHECK(8 + sig_len == r->len);
    r->data[8 + sig_len - 3] ^= 0x10;
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_BAD_SIGNATURE, FERRULE_ALERT_DECRYPT_ERROR);
    fx_free(x);
}

TEST(cv_signature_corrupted) {
    corrupt_cv("ecdsa-p256");
    corrupt_cv("ed25519");
    corrupt_cv("rsa");
}

TEST(cv_signature_garbage_encoding) {
    /* An ECDSA "signature" that is not DER at all. */
    SH_BEGIN(x);
    static const uint8_t body[2 + 2 + 5] = {0x04, 0x03, 0, 5, 1, 2, 3, 4, 5};
    set_msg(&x->f->r[4], FR_HS_CERTIFICATE_VERIFY, body, sizeof(body));
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_BAD_SIGNATURE, FERRULE_ALERT_DECRYPT_ERROR);
    fx_free(x);
}

TEST(cv_scheme_not_offered) {
    SH_BEGIN(x);
    /* rsa_pkcs1_sha256 is never allowed in CertificateVerify. */
    x->f->r[4].data[4] = 0x04;
    x->f->r[4].data[5] = 0x01;
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                  FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(cv_scheme_excluded_by_client_config) {
    /* The client offers ecdsa_secp256r1_sha256 only; the CertificateVerify
     * claims ed25519, a scheme allowed in TLS 1.3 but not offered. */
    ferrule_config *cc = pair_client_config();
    CHECK(cc != NULL);
    if (cc == NULL) return;
    const uint16_t only = FERRULE_SIG_ECDSA_SECP256R1_SHA256;
    CHECK_EQ(ferrule_config_set_signature_schemes(cc, &only, 1), FERRULE_OK);
    fx *x = flight_begin_cfg(cc, NULL);
    CHECK(x != NULL);
    if (x == NULL) return;
    CHECK(x->f->r[4].data[4] == 0x04 && x->f->r[4].data[5] == 0x03);
    x->f->r[4].data[4] = 0x08;
    x->f->r[4].data[5] = 0x07;
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                  FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(cv_scheme_does_not_match_key) {
    /* ecdsa_secp384r1_sha384 (offered) with a P-256 certificate. */
    SH_BEGIN(x);
    x->f->r[4].data[4] = 0x05;
    x->f->r[4].data[5] = 0x03;
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                  FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(finished_corrupted) {
    SH_BEGIN(x);
    mrec *r = &x->f->r[5];
    r->data[r->len - 1] ^= 1;
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_BAD_FINISHED, FERRULE_ALERT_DECRYPT_ERROR);
    fx_free(x);
}

TEST(finished_wrong_length) {
    for (int longer = 0; longer < 2; longer++) {
        SH_BEGIN(x);
        mrec *r = &x->f->r[5];
        size_t body = r->len - 4;
        if (longer)
            r->data[r->len++] = 0;
        else
            r->len--;
        body = longer ? body + 1 : body - 1;
        r->data[3] = (uint8_t)body;
        FLIGHT_EXPECT(x, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
        fx_free(x);
    }
}

TEST(flight_out_of_order) {
    SH_BEGIN(x);
    mrec tmp;
    memcpy(&tmp, &x->f->r[2], sizeof(tmp));
    memcpy(&x->f->r[2], &x->f->r[3], sizeof(tmp));
    memcpy(&x->f->r[3], &tmp, sizeof(tmp));
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                  FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(flight_missing_certificate_verify) {
    SH_BEGIN(x);
    mf_remove(x->f, 4);
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                  FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(flight_duplicate_encrypted_extensions) {
    SH_BEGIN(x);
    CHECK(mf_insert_copy(x->f, 3, 2) != NULL);
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                  FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

/* A CertificateRequest inserted after EncryptedExtensions (RFC 8446 §4.3.2). */
static void insert_certificate_request(fx *x, size_t pos, const uint8_t *body, size_t len) {
    mrec *r = mf_insert_copy(x->f, pos, 2);
    CHECK(r != NULL);
    if (r != NULL) set_msg(r, FR_HS_CERTIFICATE_REQUEST, body, len);
}

TEST(cr_nonempty_context) {
    /* "certificate_request_context ... SHALL be zero length" in the handshake. */
    static const uint8_t body[] = {1, 7, 0, 8, 0, 13, 0, 4, 0, 2, 4, 3};
    SH_BEGIN(x);
    insert_certificate_request(x, 3, body, sizeof(body));
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                  FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(cr_missing_signature_algorithms) {
    static const uint8_t body[] = {0, 0, 4, 0xfe, 0x77, 0, 0};
    SH_BEGIN(x);
    insert_certificate_request(x, 3, body, sizeof(body));
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_MISSING_EXTENSION,
                  FERRULE_ALERT_MISSING_EXTENSION);
    fx_free(x);
}

TEST(cr_duplicate_extension) {
    static const uint8_t body[] = {0, 0, 16, 0, 13, 0, 4, 0, 2, 4, 3, 0, 13, 0, 4, 0, 2, 4, 3};
    SH_BEGIN(x);
    insert_certificate_request(x, 3, body, sizeof(body));
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_DUPLICATE_EXTENSION,
                  FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(cr_odd_signature_algorithms) {
    static const uint8_t body[] = {0, 0, 7, 0, 13, 0, 3, 0, 1, 4};
    SH_BEGIN(x);
    insert_certificate_request(x, 3, body, sizeof(body));
    FLIGHT_EXPECT(x, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

TEST(cr_twice) {
    static const uint8_t body[] = {0, 0, 8, 0, 13, 0, 4, 0, 2, 4, 3};
    SH_BEGIN(x);
    insert_certificate_request(x, 3, body, sizeof(body));
    insert_certificate_request(x, 4, body, sizeof(body));
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                  FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(cr_after_certificate) {
    static const uint8_t body[] = {0, 0, 8, 0, 13, 0, 4, 0, 2, 4, 3};
    SH_BEGIN(x);
    insert_certificate_request(x, 4, body, sizeof(body));
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                  FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(cr_unknown_extension_is_ignored_then_transcript_decides) {
    /* A well-formed request with an unknown extension parses; since the
     * real server never sent it, the client's transcript differs and the
     * server's CertificateVerify (which signs the transcript) cannot
     * verify: bad_signature, not a parse error. */
    static const uint8_t body[] = {0, 0, 12, 0xfe, 0x77, 0, 0, 0, 13, 0, 4, 0, 2, 4, 3};
    SH_BEGIN(x);
    insert_certificate_request(x, 3, body, sizeof(body));
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_BAD_SIGNATURE, FERRULE_ALERT_DECRYPT_ERROR);
    fx_free(x);
}

TEST(cr_many_unknown_extensions_are_ignored) {
    /* RFC 8446 §4.3.2: clients MUST ignore unrecognized extensions, and the
     * RFC sets no count: 1,000 of them (beyond the old cap of 64) parse,
     * and again the transcript decides (bad_signature). */
    uint8_t body[3 + 4 * 1000 + 8];
    size_t n = 0;
    body[n++] = 0; /* context */
    size_t exts = 4 * 1000 + 8;
    body[n++] = (uint8_t)(exts >> 8);
    body[n++] = (uint8_t)exts;
    for (unsigned i = 0; i < 1000; i++) {
        body[n++] = (uint8_t)((0x6000 + i) >> 8);
        body[n++] = (uint8_t)(0x6000 + i);
        body[n++] = 0;
        body[n++] = 0;
    }
    static const uint8_t sa[8] = {0, 13, 0, 4, 0, 2, 4, 3};
    memcpy(body + n, sa, sizeof(sa));
    n += sizeof(sa);
    SH_BEGIN(x);
    insert_certificate_request(x, 3, body, n);
    FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_BAD_SIGNATURE, FERRULE_ALERT_DECRYPT_ERROR);
    fx_free(x);
}

TEST(flight_unexpected_messages_inserted) {
    /* NewSessionTicket, KeyUpdate, CertificateRequest (not supported),
     * ClientHello and an unknown type, each before Finished. */
    static const uint8_t msgs[5][9] = {
        {FR_HS_NEW_SESSION_TICKET, 0, 0, 5, 0, 0, 0, 0, 0},
        {FR_HS_KEY_UPDATE, 0, 0, 1, 0},
        {FR_HS_CERTIFICATE_REQUEST, 0, 0, 3, 0, 0, 0},
        {FR_HS_CLIENT_HELLO, 0, 0, 0},
        {99, 0, 0, 0},
    };
    static const size_t lens[5] = {9, 5, 7, 4, 4};
    for (size_t i = 0; i < 5; i++) {
        SH_BEGIN(x);
        mrec *r = mf_insert_copy(x->f, 5, 2);
        CHECK(r != NULL);
        if (r == NULL) return;
        memcpy(r->data, msgs[i], lens[i]);
        r->len = lens[i];
        FLIGHT_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                      FERRULE_ALERT_UNEXPECTED_MESSAGE);
        fx_free(x);
    }
}

TEST(flight_duplicate_finished_same_record) {
    /* RFC 8446 §5.1: the second Finished would span the key change. */
    SH_BEGIN(x);
    mrec *r = &x->f->r[5];
    memcpy(r->data + r->len, r->data, r->len);
    r->len *= 2;
    int st = flight_deliver(x);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    /* The client's Finished (valid) precedes its alert: the server connects
     * and then reads the alert under the application keys. */
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(flight_duplicate_finished_next_epoch) {
    /* A second Finished under the server's application keys: the handshake
     * completes, the next read meets the extra Finished. */
    SH_BEGIN(x);
    mrec *r = mf_insert_copy(x->f, 6, 5);
    CHECK(r != NULL);
    if (r == NULL) return;
    r->key = SEC(x, SERVER, SAP);
    CHECK_EQ(flight_deliver(x), FERRULE_OK);
    uint8_t buf[16];
    size_t n;
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(flight_close_notify_during_handshake) {
    /* A close_notify before the handshake completes aborts it. */
    SH_BEGIN(x);
    mrec *r = mf_insert_copy(x->f, 3, 2);
    CHECK(r != NULL);
    if (r == NULL) return;
    r->inner = FR_CT_ALERT;
    r->data[0] = 1;
    r->data[1] = FERRULE_ALERT_CLOSE_NOTIFY;
    r->len = 2;
    int st = flight_deliver(x);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_RECEIVED, FERRULE_R_PEER_ALERT,
                FERRULE_ALERT_CLOSE_NOTIFY);
    /* No answer to an alert that ended the handshake. */
    CHECK_EQ(ferrule_conn_pending_output(CL(x)), 0);
    fx_free(x);
}

/* ========================================================================== */
/* The client's Finished (server side)                                         */
/* ========================================================================== */

/* The client is connected; x->f holds its second flight (CCS, Finished)
 * opened with the client handshake secret. */
static fx *client_finished_begin(void) {
    fx *x = flight_begin();
    if (x == NULL) return NULL;
    uint16_t suite = x->f->suite;
    int ok = flight_deliver(x) == FERRULE_OK;
    memset(x->f, 0, offsetof(mflight, r));
    x->f->suite = suite;
    ok = ok && mf_take(x->f, CL(x)) && x->f->n == 2 &&
         x->f->r[0].type == FR_CT_CHANGE_CIPHER_SPEC &&
         mf_open(x->f, 1, 2, SEC(x, CLIENT, CHS)) == 1 && x->f->r[1].data[0] == FR_HS_FINISHED;
    if (!ok) {
        fprintf(stderr, "  could not capture the client Finished\n");
        fx_free(x);
        return NULL;
    }
    return x;
}

static void client_finished_expect_at(int line, fx *x, int status, uint32_t reason, int alert) {
    if (!mf_send(x->f, SV(x))) FAILAT(line, "feed failed");
    int st = ferrule_conn_handshake(SV(x));
    expect_fail_at(line, SV(x), st, status, reason, alert);
    /* The server writes under its application keys already; the connected
     * client reads them. */
    expect_peer_alert_at(line, SV(x), CL(x), alert);
}
#define CFIN_EXPECT(x, status, reason, alert)                                                      \
    client_finished_expect_at(__LINE__, (x), (status), (reason), (alert))

TEST(client_finished_corrupted) {
    fx *x = client_finished_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *r = &x->f->r[1];
    r->data[4] ^= 0x40;
    CFIN_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_BAD_FINISHED, FERRULE_ALERT_DECRYPT_ERROR);
    fx_free(x);
}

TEST(client_finished_wrong_length) {
    fx *x = client_finished_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *r = &x->f->r[1];
    r->len--;
    r->data[3]--;
    CFIN_EXPECT(x, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

TEST(client_app_data_before_finished) {
    /* Application data from the client before its Finished. */
    fx *x = client_finished_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    mrec *r = &x->f->r[1];
    r->inner = FR_CT_APPLICATION_DATA;
    memcpy(r->data, "GET /", 5);
    r->len = 5;
    CFIN_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(client_certificate_unsolicited) {
    /* A Certificate instead of Finished (no CertificateRequest was sent). */
    fx *x = client_finished_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t body[4] = {0, 0, 0, 0};
    set_msg(&x->f->r[1], FR_HS_CERTIFICATE, body, sizeof(body));
    CFIN_EXPECT(x, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

/* ========================================================================== */
/* Post-handshake                                                              */
/* ========================================================================== */

/* One handshake message from the server, sealed with its application
 * secret at sequence number 0 (the server has written nothing since). */
static int server_injects(fx *x, const uint8_t *msg, size_t len) {
    if (mf_add_prot(x->f, FR_CT_HANDSHAKE, msg, len, SEC(x, SERVER, SAP)) == NULL) return 0;
    return mf_send(x->f, CL(x));
}

/* A NewSessionTicket carrying early_data with `ext_len` bytes of body. */
static size_t nst_with_early_data(uint8_t *m, size_t ext_len) {
    size_t n = 0;
    m[n++] = FR_HS_NEW_SESSION_TICKET;
    size_t body_at = n;
    n += 3;
    static const uint8_t fixed[] = {0, 0, 0x0e, 0x10, /* lifetime 3600 */
                                    1, 2, 3, 4,       /* ticket_age_add */
                                    1, 0,             /* ticket_nonce */
                                    0, 2, 0xaa, 0xbb}; /* ticket */
    memcpy(m + n, fixed, sizeof(fixed));
    n += sizeof(fixed);
    m[n++] = 0;
    m[n++] = (uint8_t)(4 + ext_len);
    m[n++] = 0;
    m[n++] = FR_EXT_EARLY_DATA;
    m[n++] = 0;
    m[n++] = (uint8_t)ext_len;
    for (size_t i = 0; i < ext_len; i++) m[n++] = (uint8_t)(i == ext_len - 1 ? 0x40 : 0);
    size_t body = n - 4;
    m[body_at] = 0;
    m[body_at + 1] = (uint8_t)(body >> 8);
    m[body_at + 2] = (uint8_t)body;
    return n;
}

TEST(post_ticket_early_data_bad_length) {
    /* RFC 8446 §4.2.10: in a NewSessionTicket, early_data is exactly a
     * uint32 max_early_data_size. */
    static const size_t bad[] = {0, 3, 5};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fx *x = connected_begin();
        CHECK(x != NULL);
        if (x == NULL) return;
        uint8_t m[64];
        CHECK(server_injects(x, m, nst_with_early_data(m, bad[i])));
        uint8_t buf[16];
        size_t n;
        int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
        EXPECT_FAIL(CL(x), st, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
        fx_free(x);
    }
}

TEST(post_ticket_early_data_is_kept) {
    /* Positive: a well-formed early_data (max 64) is stored with the
     * session; the connection goes on. */
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    uint8_t m[64];
    CHECK(server_injects(x, m, nst_with_early_data(m, 4)));
    uint8_t buf[16], blob[8192];
    size_t n = 0, len = 0;
    CHECK_EQ(ferrule_conn_read(CL(x), buf, sizeof(buf), &n), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_session(CL(x), blob, sizeof(blob), &len), FERRULE_OK);
    /* The blob ends with the ticket's max_early_data_size. */
    CHECK(len > 4 && blob[len - 4] == 0 && blob[len - 3] == 0 && blob[len - 2] == 0 &&
          blob[len - 1] == 0x40);
    fx_free(x);
}

TEST(post_key_update_bad_value) {
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t ku[5] = {FR_HS_KEY_UPDATE, 0, 0, 1, 2};
    CHECK(server_injects(x, ku, sizeof(ku)));
    uint8_t buf[16];
    size_t n;
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(post_key_update_bad_length) {
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t ku[6] = {FR_HS_KEY_UPDATE, 0, 0, 2, 0, 0};
    CHECK(server_injects(x, ku, sizeof(ku)));
    uint8_t buf[16];
    size_t n;
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    EXPECT_FAIL(CL(x), st, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

TEST(post_key_update_spans_key_change) {
    /* Two KeyUpdates in one record: the second would span the change. */
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t ku[10] = {FR_HS_KEY_UPDATE, 0, 0, 1, 0, FR_HS_KEY_UPDATE, 0, 0, 1, 0};
    CHECK(server_injects(x, ku, sizeof(ku)));
    uint8_t buf[16];
    size_t n;
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

static size_t nst(uint8_t *out, uint32_t lifetime, size_t ticket_len) {
    size_t n = 0;
    out[n++] = FR_HS_NEW_SESSION_TICKET;
    size_t body = 4 + 4 + 1 + 4 + 2 + ticket_len + 2;
    out[n++] = 0;
    out[n++] = (uint8_t)(body >> 8);
    out[n++] = (uint8_t)body;
    for (int s = 24; s >= 0; s -= 8) out[n++] = (uint8_t)(lifetime >> s);
    memcpy(out + n, "\x12\x34\x56\x78", 4); /* ticket_age_add */
    n += 4;
    out[n++] = 4; /* nonce */
    memcpy(out + n, "\x00\x00\x00\x01", 4);
    n += 4;
    out[n++] = (uint8_t)(ticket_len >> 8);
    out[n++] = (uint8_t)ticket_len;
    memset(out + n, 0x7e, ticket_len);
    n += ticket_len;
    out[n++] = 0; /* extensions */
    out[n++] = 0;
    return n;
}

TEST(post_new_session_ticket_lifetime) {
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    uint8_t m[64];
    size_t n = nst(m, 604801, 16);
    CHECK(server_injects(x, m, n));
    uint8_t buf[16];
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(post_new_session_ticket_empty_ticket) {
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    uint8_t m[64];
    size_t n = nst(m, 3600, 0);
    CHECK(server_injects(x, m, n));
    uint8_t buf[16];
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    EXPECT_FAIL(CL(x), st, FERRULE_DECODE, FERRULE_R_DECODE_ERROR, FERRULE_ALERT_DECODE_ERROR);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_DECODE_ERROR);
    fx_free(x);
}

TEST(post_new_session_ticket_valid_is_accepted) {
    /* Boundary: exactly seven days is allowed; data keeps flowing. */
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    uint8_t m[64];
    size_t n = nst(m, 604800, 16);
    CHECK(server_injects(x, m, n));
    uint8_t buf[16];
    CHECK_EQ(ferrule_conn_read(CL(x), buf, sizeof(buf), &n), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_status(CL(x)), FERRULE_OK);
    /* The injected record used the server's sequence number 0. */
    SV(x)->wr.seq++;
    EXCHANGE(SV(x), CL(x), "after ticket");
    EXCHANGE(CL(x), SV(x), "and back");
    fx_free(x);
}

TEST(post_new_session_ticket_many_unknown_extensions) {
    /* RFC 8446 §4.6.1: unknown NewSessionTicket extensions are ignored,
     * however many (1,000: beyond the old cap of 64); a duplicate among
     * them is still refused. */
    for (int dup = 0; dup < 2; dup++) {
        fx *x = connected_begin();
        REQUIRE(x != NULL);
        uint8_t m[64 + 4 * 1000];
        size_t n = nst(m, 3600, 16);
        size_t exts = 4 * 1000;
        m[n - 2] = (uint8_t)(exts >> 8);
        m[n - 1] = (uint8_t)exts;
        for (unsigned i = 0; i < 1000; i++) {
            unsigned t = dup && i == 999 ? 0x6000 : 0x6000 + i;
            m[n++] = (uint8_t)(t >> 8);
            m[n++] = (uint8_t)t;
            m[n++] = 0;
            m[n++] = 0;
        }
        size_t body = n - 4;
        m[1] = (uint8_t)(body >> 16);
        m[2] = (uint8_t)(body >> 8);
        m[3] = (uint8_t)body;
        CHECK(server_injects(x, m, n));
        uint8_t buf[16];
        size_t got = 0;
        int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &got);
        if (!dup) {
            CHECK_EQ(st, FERRULE_WANT_READ);
            CHECK_EQ(ferrule_conn_status(CL(x)), FERRULE_OK);
            uint8_t blob[8192];
            size_t len = 0;
            CHECK_EQ(ferrule_conn_session(CL(x), blob, sizeof(blob), &len), FERRULE_OK);
        } else {
            EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_DUPLICATE_EXTENSION,
                        FERRULE_ALERT_ILLEGAL_PARAMETER);
        }
        fx_free(x);
    }
}

TEST(post_new_session_ticket_from_client) {
    /* Only servers send tickets. */
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    uint8_t m[64];
    size_t n = nst(m, 3600, 8);
    CHECK(mf_add_prot(x->f, FR_CT_HANDSHAKE, m, n, SEC(x, CLIENT, CAP)) != NULL);
    CHECK(mf_send(x->f, SV(x)));
    uint8_t buf[16];
    int st = ferrule_conn_read(SV(x), buf, sizeof(buf), &n);
    EXPECT_FAIL(SV(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    EXPECT_PEER_ALERT(SV(x), CL(x), FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(post_handshake_message_after_handshake) {
    /* A second server Finished after the handshake. */
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    uint8_t fin[4 + 32] = {FR_HS_FINISHED, 0, 0, 32};
    CHECK(server_injects(x, fin, sizeof(fin)));
    uint8_t buf[16];
    size_t n;
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_UNEXPECTED_MESSAGE,
                FERRULE_ALERT_UNEXPECTED_MESSAGE);
    fx_free(x);
}

TEST(post_key_update_requested_round_trip) {
    /* Positive: the server asks for an update; the client updates its read
     * keys, answers with update_not_requested and updates its write keys;
     * data flows both ways under the new generation. */
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    EXCHANGE(SV(x), CL(x), "before");
    uint8_t old_c[FR_MAX_HASH], old_s[FR_MAX_HASH];
    memcpy(old_c, CL(x)->ks.client_ap, sizeof(old_c));
    memcpy(old_s, CL(x)->ks.server_ap, sizeof(old_s));
    unsigned epoch = CL(x)->rd_epoch;
    CHECK_EQ(fr_send_key_update(SV(x), 1), FR_OK);
    CHECK(mitm_pass(SV(x), CL(x)));
    uint8_t buf[16];
    size_t n;
    CHECK_EQ(ferrule_conn_read(CL(x), buf, sizeof(buf), &n), FERRULE_WANT_READ);
    CHECK_EQ(CL(x)->rd_epoch, epoch + 1);
    CHECK(memcmp(old_s, CL(x)->ks.server_ap, sizeof(old_s)) != 0);
    CHECK(memcmp(old_c, CL(x)->ks.client_ap, sizeof(old_c)) != 0);
    /* The answer: one record holding KeyUpdate(update_not_requested). */
    mflight *g = mf_new();
    g->suite = x->f->suite;
    CHECK(mf_take(g, CL(x)));
    CHECK_EQ(g->n, 1);
    CHECK_EQ(mf_open(g, 0, 1, SEC(x, CLIENT, CAP)), 1);
    static const uint8_t answer[5] = {FR_HS_KEY_UPDATE, 0, 0, 1, 0};
    CHECK(g->r[0].inner == FR_CT_HANDSHAKE && g->r[0].len == 5 &&
          memcmp(g->r[0].data, answer, 5) == 0);
    CHECK(mf_send(g, SV(x)));
    mf_free(g);
    CHECK_EQ(ferrule_conn_read(SV(x), buf, sizeof(buf), &n), FERRULE_WANT_READ);
    /* The server must not answer an update_not_requested. */
    CHECK_EQ(ferrule_conn_pending_output(SV(x)), 0);
    CHECK(memcmp(SV(x)->ks.client_ap, CL(x)->ks.client_ap, sizeof(old_c)) == 0);
    EXCHANGE(SV(x), CL(x), "after update, server to client");
    EXCHANGE(CL(x), SV(x), "after update, client to server");
    /* Another round, initiated by the client without a request. */
    CHECK_EQ(fr_send_key_update(CL(x), 0), FR_OK);
    CHECK(mitm_pass(CL(x), SV(x)));
    CHECK_EQ(ferrule_conn_read(SV(x), buf, sizeof(buf), &n), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_pending_output(SV(x)), 0);
    EXCHANGE(CL(x), SV(x), "second generation");
    EXCHANGE(SV(x), CL(x), "unchanged server keys");
    fx_free(x);
}

TEST(post_old_keys_rejected_after_key_update) {
    /* After the client processed a KeyUpdate, a record under the old server
     * keys fails authentication. */
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t ku[5] = {FR_HS_KEY_UPDATE, 0, 0, 1, 0};
    CHECK(mf_add_prot(x->f, FR_CT_HANDSHAKE, ku, 5, SEC(x, SERVER, SAP)) != NULL);
    CHECK(mf_add_prot(x->f, FR_CT_APPLICATION_DATA, (const uint8_t *)"old", 3,
                      SEC(x, SERVER, SAP)) != NULL);
    CHECK(mf_send(x->f, CL(x)));
    uint8_t buf[16];
    size_t n;
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    EXPECT_FAIL(CL(x), st, FERRULE_DECODE, FERRULE_R_BAD_RECORD_MAC, FERRULE_ALERT_BAD_RECORD_MAC);
    fx_free(x);
}

TEST(post_data_after_close_notify_is_ignored) {
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t cn[2] = {1, 0};
    const uint8_t *k = SEC(x, SERVER, SAP);
    mf_add_prot(x->f, FR_CT_APPLICATION_DATA, (const uint8_t *)"last", 4, k);
    mf_add_prot(x->f, FR_CT_ALERT, cn, 2, k);
    mf_add_prot(x->f, FR_CT_APPLICATION_DATA, (const uint8_t *)"ghost", 5, k);
    CHECK(mf_send(x->f, CL(x)));
    uint8_t buf[16];
    size_t n;
    CHECK_EQ(ferrule_conn_read(CL(x), buf, sizeof(buf), &n), FERRULE_OK);
    CHECK(n == 4 && memcmp(buf, "last", 4) == 0);
    CHECK_EQ(ferrule_conn_read(CL(x), buf, sizeof(buf), &n), FERRULE_CLOSED);
    CHECK_EQ(n, 0);
    CHECK_EQ(ferrule_conn_read(CL(x), buf, sizeof(buf), &n), FERRULE_CLOSED);
    fx_free(x);
}

TEST(post_fatal_alert_received) {
    /* A protected fatal alert after the handshake: the client reports it. */
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t al[2] = {2, FERRULE_ALERT_INTERNAL_ERROR};
    CHECK(mf_add_prot(x->f, FR_CT_ALERT, al, 2, SEC(x, SERVER, SAP)) != NULL);
    CHECK(mf_send(x->f, CL(x)));
    uint8_t buf[16];
    size_t n;
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_RECEIVED, FERRULE_R_PEER_ALERT,
                FERRULE_ALERT_INTERNAL_ERROR);
    /* Nothing is sent in reply to a fatal alert. */
    CHECK_EQ(ferrule_conn_pending_output(CL(x)), 0);
    fx_free(x);
}

TEST(post_warning_level_alert_is_fatal) {
    /* RFC 8446 §6: the level is ignored; every alert but close_notify and
     * user_canceled ends the connection. */
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    static const uint8_t al[2] = {1, FERRULE_ALERT_HANDSHAKE_FAILURE};
    CHECK(mf_add_prot(x->f, FR_CT_ALERT, al, 2, SEC(x, SERVER, SAP)) != NULL);
    CHECK(mf_send(x->f, CL(x)));
    uint8_t buf[16];
    size_t n;
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_RECEIVED, FERRULE_R_PEER_ALERT,
                FERRULE_ALERT_HANDSHAKE_FAILURE);
    fx_free(x);
}

TEST(post_ticket_split_across_records) {
    /* Positive: a post-handshake message fragmented over two records. */
    fx *x = connected_begin();
    CHECK(x != NULL);
    if (x == NULL) return;
    uint8_t m[64];
    size_t n = nst(m, 3600, 20);
    const uint8_t *k = SEC(x, SERVER, SAP);
    CHECK(mf_add_prot(x->f, FR_CT_HANDSHAKE, m, 3, k) != NULL);
    CHECK(mf_add_prot(x->f, FR_CT_HANDSHAKE, m + 3, n - 3, k) != NULL);
    CHECK(mf_send(x->f, CL(x)));
    uint8_t buf[16];
    CHECK_EQ(ferrule_conn_read(CL(x), buf, sizeof(buf), &n), FERRULE_WANT_READ);
    SV(x)->wr.seq += 2;
    EXCHANGE(SV(x), CL(x), "after split ticket");
    fx_free(x);
}

TEST_MAIN("negative",
          /* record layer */
          TL_CASE(rec_truncated_header_then_eof), TL_CASE(rec_truncated_body_then_eof),
          TL_CASE(rec_overflow_header), TL_CASE(rec_overflow_plaintext),
          TL_CASE(rec_overflow_protected_inner), TL_CASE(rec_large_padding_is_accepted),
          TL_CASE(rec_unknown_content_type), TL_CASE(rec_bad_legacy_version),
          TL_CASE(rec_flipped_ciphertext_bit), TL_CASE(rec_short_protected_record),
          TL_CASE(rec_plaintext_handshake_after_keys), TL_CASE(rec_plaintext_alert_during_handshake),
          TL_CASE(rec_plaintext_alert_wrong_length_after_keys),
          TL_CASE(rec_plaintext_alert_inside_fragmented_message),
          TL_CASE(rec_plaintext_alert_after_handshake),
          TL_CASE(rec_app_data_before_handshake_plain),
          TL_CASE(rec_app_data_before_handshake_protected), TL_CASE(ccs_bad_value),
          TL_CASE(ccs_two_bytes), TL_CASE(ccs_twice_is_dropped), TL_CASE(ccs_flood), TL_CASE(rec_zero_length_alert_protected), TL_CASE(rec_zero_length_app_data_accepted), TL_CASE(ccs_before_client_hello),
          TL_CASE(ccs_after_handshake), TL_CASE(ccs_inside_fragmented_message),
          TL_CASE(ccs_protected), TL_CASE(rec_zero_length_handshake_plain),
          TL_CASE(rec_zero_length_handshake_protected), TL_CASE(rec_alert_wrong_length),
          TL_CASE(rec_protected_alert_wrong_length), TL_CASE(rec_33_empty_app_records),
          TL_CASE(rec_32_empty_app_records_are_tolerated), TL_CASE(rec_inner_plaintext_all_zeros),
          TL_CASE(rec_inner_unknown_type), TL_CASE(rec_replayed_record),
          TL_CASE(rec_interleaved_alert_plain), TL_CASE(rec_interleaved_alert_protected),
          TL_CASE(rec_interleaved_app_data), TL_CASE(rec_fragmented_client_hello_one_byte_records),
          TL_CASE(rec_flight_coalesced_and_fragmented),
          TL_CASE(rec_handshake_too_large_certificate),
          TL_CASE(rec_handshake_too_large_forged_header), TL_CASE(rec_handshake_over_a_configured_cap), TL_CASE(rec_handshake_length_impossible_for_its_type), TL_CASE(rec_finished_length_from_its_header), TL_CASE(rec_handshake_unexpected_type_refused_from_its_header), TL_CASE(rec_message_spans_key_change),
          /* ClientHello */
          TL_CASE(ch_missing_supported_versions), TL_CASE(ch_supported_versions_without_tls13),
          TL_CASE(ch_no_extensions), TL_CASE(ch_duplicate_extension),
          TL_CASE(ch_duplicate_unknown_extension), TL_CASE(ch_pre_shared_key_not_last),
          TL_CASE(ch_compression_methods), TL_CASE(ch_empty_compression_methods),
          TL_CASE(ch_no_common_cipher_suite), TL_CASE(ch_empty_or_odd_cipher_suites),
          TL_CASE(ch_missing_signature_algorithms), TL_CASE(ch_missing_key_share),
          TL_CASE(ch_missing_supported_groups), TL_CASE(ch_key_share_group_not_in_supported_groups),
          TL_CASE(ch_duplicate_key_share_group), TL_CASE(ch_truncated), TL_CASE(ch_trailing_byte),
          TL_CASE(ch_trailing_byte_inside_extension), TL_CASE(ch_session_id_33_bytes),
          TL_CASE(ch_grease_is_ignored), TL_CASE(ch_unknown_extension_is_ignored),
          TL_CASE(ch_second_client_hello_separate_record),
          TL_CASE(ch_second_client_hello_same_record), TL_CASE(ch_second_client_hello_protected),
          TL_CASE(ch_not_a_client_hello), TL_CASE(ch_psk_without_kex_modes),
          TL_CASE(ch_psk_declined_full_handshake), TL_CASE(ch_early_data_not_empty),
          TL_CASE(ch_early_data_without_psk_is_ignored), TL_CASE(end_of_early_data_without_0rtt), TL_CASE(ch_legacy_version_ignored), TL_CASE(ch_legacy_version_ssl3_or_lower), TL_CASE(sh_legacy_version_not_tls12),
          TL_CASE(ch_invalid_key_share), TL_CASE(ch_empty_key_share_entry),
          TL_CASE(ch_alpn_empty_protocol), TL_CASE(ch_no_common_signature_scheme),
          TL_CASE(ch_empty_supported_versions), TL_CASE(ch_empty_session_id),
          TL_CASE(ch_long_lists_are_read_completely), TL_CASE(rec_reassembly_memory_ceiling), TL_CASE(ccs_before_server_hello_is_dropped),
          /* ServerHello */
          TL_CASE(sh_suite_not_offered), TL_CASE(sh_unknown_suite),
          TL_CASE(sh_session_id_echo_changed), TL_CASE(sh_compression),
          TL_CASE(sh_supported_versions_tls12), TL_CASE(sh_downgrade_sentinel),
          TL_CASE(sh_tls12_without_sentinel), TL_CASE(sh_key_share_group_not_offered),
          TL_CASE(sh_key_share_missing), TL_CASE(sh_extra_extension),
          TL_CASE(sh_duplicate_extension), TL_CASE(sh_trailing_byte),
          TL_CASE(sh_hello_retry_request_random), TL_CASE(sh_invalid_key_share),
          TL_CASE(sh_invalid_p256_point),
          /* encrypted flight */
          TL_CASE(ee_duplicate_extension), TL_CASE(ee_alpn_not_requested),
          TL_CASE(ee_alpn_not_offered), TL_CASE(ee_key_share), TL_CASE(ee_unknown_extension),
          TL_CASE(ee_trailing_byte), TL_CASE(ee_server_name_not_empty),
          TL_CASE(cert_malformed_leaf), TL_CASE(cert_entry_extension_unsolicited),
          TL_CASE(cert_nonempty_request_context),
          TL_CASE(cert_empty_list), TL_CASE(cert_peer_chain_cap), TL_CASE(cr_many_unknown_extensions_are_ignored), TL_CASE(post_new_session_ticket_many_unknown_extensions), TL_CASE(cert_list_length_mismatch),
          TL_CASE(cv_signature_corrupted), TL_CASE(cv_signature_garbage_encoding),
          TL_CASE(cv_scheme_not_offered), TL_CASE(cv_scheme_excluded_by_client_config),
          TL_CASE(cv_scheme_does_not_match_key), TL_CASE(finished_corrupted),
          TL_CASE(finished_wrong_length), TL_CASE(flight_out_of_order),
          TL_CASE(flight_missing_certificate_verify),
          TL_CASE(flight_duplicate_encrypted_extensions),
          TL_CASE(cr_nonempty_context), TL_CASE(cr_missing_signature_algorithms), TL_CASE(cr_duplicate_extension), TL_CASE(cr_odd_signature_algorithms), TL_CASE(cr_twice), TL_CASE(cr_after_certificate), TL_CASE(cr_unknown_extension_is_ignored_then_transcript_decides),
          TL_CASE(flight_unexpected_messages_inserted),
          TL_CASE(flight_duplicate_finished_same_record),
          TL_CASE(flight_duplicate_finished_next_epoch),
          TL_CASE(flight_close_notify_during_handshake),
          /* client Finished */
          TL_CASE(client_finished_corrupted), TL_CASE(client_finished_wrong_length),
          TL_CASE(client_app_data_before_finished),
          TL_CASE(client_certificate_unsolicited),
          /* post-handshake */
          TL_CASE(post_ticket_early_data_bad_length), TL_CASE(post_ticket_early_data_is_kept),
          TL_CASE(post_key_update_bad_value), TL_CASE(post_key_update_bad_length),
          TL_CASE(post_key_update_spans_key_change), TL_CASE(post_new_session_ticket_lifetime),
          TL_CASE(post_new_session_ticket_empty_ticket),
          TL_CASE(post_new_session_ticket_valid_is_accepted),
          TL_CASE(post_new_session_ticket_from_client),
          TL_CASE(post_handshake_message_after_handshake),
          TL_CASE(post_key_update_requested_round_trip),
          TL_CASE(post_old_keys_rejected_after_key_update),
          TL_CASE(post_data_after_close_notify_is_ignored), TL_CASE(post_fatal_alert_received),
          TL_CASE(post_warning_level_alert_is_fatal), TL_CASE(post_ticket_split_across_records))
