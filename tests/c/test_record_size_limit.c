/* test_record_size_limit.c - the record_size_limit extension (RFC 8449).
 *
 * Whole connections run in memory.  A wire inspector walks every record
 * either side puts on the wire and records the largest TLSInnerPlaintext
 * (body minus the 16-byte tag) of the protected ones, so the tests assert
 * what really travels, not what the library says about itself.  A man in
 * the middle (support_mitm.c) edits hello messages and EncryptedExtensions
 * and forges protected records with the secrets of the key log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "record.h"
#include "support_fx.h"
#include "support_mitm.h"
#include "support_pair.h"
#include "testlib.h"

/* ---- configs ---------------------------------------------------------------- */

static ferrule_config *client_cfg(uint32_t limit) {
    ferrule_config *c = pair_client_config();
    if (c != NULL && limit != 0 && ferrule_config_set_record_size_limit(c, limit) != FERRULE_OK) {
        ferrule_config_free(c);
        return NULL;
    }
    return c;
}

/* tickets: NewSessionTickets per connection (the forging cases want 0 so
 * that the server's application records start at sequence number 0). */
static ferrule_config *server_cfg(const char *kind, uint32_t limit, uint32_t tickets) {
    ferrule_config *c = pair_server_config(kind);
    if (c == NULL) return NULL;
    if ((limit != 0 && ferrule_config_set_record_size_limit(c, limit) != FERRULE_OK) ||
        ferrule_config_set_tickets(c, tickets) != FERRULE_OK) {
        ferrule_config_free(c);
        return NULL;
    }
    return c;
}

/* ---- the wire inspector ----------------------------------------------------- */

typedef struct wire {
    /* Per sending role (FERRULE_ROLE_*): protected records seen, the
     * largest inner plaintext among them, and plaintext records seen. */
    size_t n_prot[3];
    size_t max_inner[3];
    size_t n_plain[3];
    int bad_framing;
} wire;

typedef struct sink {
    uint8_t *p;
    size_t len, cap;
} sink;

static void sink_free(sink *s) {
    free(s->p);
    memset(s, 0, sizeof(*s));
}

static int sink_add(sink *s, const uint8_t *p, size_t n) {
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n) cap *= 2;
        uint8_t *q = realloc(s->p, cap);
        if (q == NULL) return 0;
        s->p = q;
        s->cap = cap;
    }
    memcpy(s->p + s->len, p, n);
    s->len += n;
    return 1;
}

static void inspect(wire *w, uint32_t role, const uint8_t *p, size_t n) {
    size_t off = 0;
    while (n - off >= 5) {
        size_t len = ((size_t)p[off + 3] << 8) | p[off + 4];
        if (len > n - off - 5) break;
        if (p[off] == FR_CT_APPLICATION_DATA) {
            size_t inner = len >= FR_AEAD_TAG_LEN ? len - FR_AEAD_TAG_LEN : 0;
            w->n_prot[role]++;
            if (inner > w->max_inner[role]) w->max_inner[role] = inner;
        } else {
            w->n_plain[role]++;
        }
        off += 5 + len;
    }
    /* Output is always whole records. */
    if (off != n) w->bad_framing = 1;
}

/* Read everything `to` can deliver into `s`.  The reader drives the
 * handshake first when it is not complete.  Returns the last status
 * (FERRULE_WANT_READ when all was read). */
static int drain(ferrule_conn *to, sink *s) {
    uint8_t buf[4096];
    for (;;) {
        size_t n = 0;
        int st = ferrule_conn_read(to, buf, sizeof(buf), &n);
        if (st != FERRULE_OK) return st;
        if (s != NULL && !sink_add(s, buf, n)) return -1;
    }
}

/* Move all output of `from` to `to` through the inspector, letting `to`
 * process input between partial feeds (its input buffer holds one record).
 * Returns `to`'s last status: FERRULE_WANT_READ when all went well. */
static int pump(wire *w, ferrule_conn *from, ferrule_conn *to, sink *s) {
    size_t pending = ferrule_conn_pending_output(from), got = 0;
    uint8_t *buf = malloc(pending + 1);
    if (buf == NULL || ferrule_conn_take(from, buf, pending, &got) != FERRULE_OK ||
        got != pending) {
        free(buf);
        return -1;
    }
    if (w != NULL) inspect(w, ferrule_conn_role(from), buf, got);
    size_t off = 0;
    int st = FERRULE_WANT_READ;
    for (int guard = 0; guard < 100000; guard++) {
        size_t used = 0;
        if (off < got && ferrule_conn_feed(to, buf + off, got - off, &used) != FERRULE_OK) {
            st = -1;
            break;
        }
        off += used;
        st = drain(to, s);
        if (st != FERRULE_WANT_READ || off == got) break;
    }
    free(buf);
    return st;
}

/* Handshake a pair through the inspector.  1 when both are connected. */
static int handshake(wire *w, pair *p, sink *cs, sink *ss) {
    if (ferrule_conn_handshake(p->client) != FERRULE_WANT_READ) return 0;
    for (int round = 0; round < 8; round++) {
        if (pump(w, p->client, p->server, ss) != FERRULE_WANT_READ) return 0;
        if (pump(w, p->server, p->client, cs) != FERRULE_WANT_READ) return 0;
        if (ferrule_conn_handshake_state(p->client) == FERRULE_HS_CONNECTED &&
            ferrule_conn_handshake_state(p->server) == FERRULE_HS_CONNECTED &&
            ferrule_conn_pending_output(p->client) == 0 &&
            ferrule_conn_pending_output(p->server) == 0)
            return 1;
    }
    return 0;
}

/* `a` writes `len` bytes of a pattern; `b` must read exactly them. */
static void transfer_at(int line, wire *w, ferrule_conn *a, ferrule_conn *b, size_t len) {
    uint8_t *data = malloc(len);
    sink got = {0};
    if (data == NULL) return;
    for (size_t i = 0; i < len; i++) data[i] = (uint8_t)(i * 7 + i / 251);
    size_t off = 0;
    for (int guard = 0; off < len && guard < 100000; guard++) {
        size_t n = 0;
        int st = ferrule_conn_write(a, data + off, len - off, &n);
        if (st != FERRULE_OK && st != FERRULE_WANT_WRITE) {
            FAILAT(line, "write: %s (%s)", ferrule_status_name(st),
                   ferrule_reason_name(ferrule_conn_reason(a)));
            break;
        }
        off += n;
        st = pump(w, a, b, &got);
        if (st != FERRULE_WANT_READ) {
            FAILAT(line, "read: %s (%s)", ferrule_status_name(st),
                   ferrule_reason_name(ferrule_conn_reason(b)));
            break;
        }
    }
    if (got.len != len || (len > 0 && memcmp(got.p, data, len) != 0))
        FAILAT(line, "received %zu bytes, want %zu intact", got.len, len);
    sink_free(&got);
    free(data);
}
#define TRANSFER(w, a, b, len) transfer_at(__LINE__, (w), (a), (b), (len))

/* ---- the setter and getter ---------------------------------------------------- */

TEST(setter_range_and_frozen) {
    ferrule_config *cfg = NULL;
    CHECK_EQ(ferrule_config_new(&cfg, FERRULE_ROLE_CLIENT, NULL), FERRULE_OK);
    if (cfg == NULL) return;
    static const uint32_t bad[] = {0, 1, 63, 16386, 65535, 65536 + 64, 0xffffffffu};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ(ferrule_config_set_record_size_limit(cfg, bad[i]), FERRULE_USAGE);
        CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_INVALID);
    }
    CHECK_EQ(cfg->rsl.limit, 0); /* untouched: the default */
    CHECK_EQ(ferrule_config_set_record_size_limit(cfg, 64), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_record_size_limit(cfg, 16385), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_record_size_limit(cfg, 1000), FERRULE_OK);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_NONE);
    CHECK_EQ(ferrule_config_set_record_size_limit(NULL, 1000), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_peer_record_size_limit(NULL), 0);

    ferrule_conn *conn = NULL;
    CHECK_EQ(ferrule_conn_new(&conn, cfg, NULL), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_record_size_limit(cfg, 2000), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_FROZEN);
    CHECK_EQ(cfg->rsl.limit, 1000);
    /* Nothing negotiated before a handshake. */
    CHECK_EQ(ferrule_conn_peer_record_size_limit(conn), 0);
    ferrule_conn_free(conn);
    ferrule_config_free(cfg);
}

/* ---- negotiation and fragmentation ---------------------------------------------- */

/* Both sides set a limit: every protected record on the wire obeys the
 * receiver's limit (the largest is exactly the limit: fragmentation uses
 * all of it), in the handshake, tickets, KeyUpdate, data and close. */
static void both_limits_at(int line, const char *kind, uint32_t climit, uint32_t slimit) {
    pair p;
    ferrule_config *cc = client_cfg(climit), *sc = server_cfg(kind, slimit, 2);
    wire w;
    memset(&w, 0, sizeof(w));
    if (cc == NULL || sc == NULL || !pair_new(&p, cc, sc, NULL)) {
        FAILAT(line, "set-up failed");
        ferrule_config_free(cc);
        ferrule_config_free(sc);
        return;
    }
    if (!handshake(&w, &p, NULL, NULL)) FAILAT(line, "handshake failed");
    /* The server's protected handshake records were fragmented. */
    if (w.n_prot[FERRULE_ROLE_SERVER] <= 4)
        FAILAT(line, "server sent %zu protected records", w.n_prot[FERRULE_ROLE_SERVER]);
    if (ferrule_conn_peer_record_size_limit(p.client) != slimit)
        FAILAT(line, "client sees %u", ferrule_conn_peer_record_size_limit(p.client));
    if (ferrule_conn_peer_record_size_limit(p.server) != climit)
        FAILAT(line, "server sees %u", ferrule_conn_peer_record_size_limit(p.server));

    transfer_at(line, &w, p.server, p.client, 50000);
    transfer_at(line, &w, p.client, p.server, 50000);
    if (ferrule_conn_key_update(p.server, 1) != FERRULE_OK) FAILAT(line, "key update");
    if (pump(&w, p.server, p.client, NULL) != FERRULE_WANT_READ ||
        pump(&w, p.client, p.server, NULL) != FERRULE_WANT_READ)
        FAILAT(line, "key update exchange failed");
    transfer_at(line, &w, p.server, p.client, 3000);
    transfer_at(line, &w, p.client, p.server, 3000);
    if (ferrule_conn_close(p.client) != FERRULE_OK) FAILAT(line, "close");
    if (pump(&w, p.client, p.server, NULL) != FERRULE_CLOSED) FAILAT(line, "server not closed");

    if (w.bad_framing) FAILAT(line, "output was not whole records");
    if (w.max_inner[FERRULE_ROLE_SERVER] != climit)
        FAILAT(line, "largest server record inner %zu, client limit %u",
               w.max_inner[FERRULE_ROLE_SERVER], climit);
    if (w.max_inner[FERRULE_ROLE_CLIENT] != slimit)
        FAILAT(line, "largest client record inner %zu, server limit %u",
               w.max_inner[FERRULE_ROLE_CLIENT], slimit);
    if (ferrule_conn_key_updates_received(p.client) != 1 ||
        ferrule_conn_key_updates_received(p.server) != 1)
        FAILAT(line, "key updates not exchanged");
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(both_limits_small) { both_limits_at(__LINE__, "ecdsa-p256", 100, 256); }
TEST(both_limits_minimum) { both_limits_at(__LINE__, "rsa", 64, 64); }
TEST(both_limits_asymmetric) { both_limits_at(__LINE__, "ed25519", 4000, 1200); }
/* 2^14 + 1 (the default value, set explicitly): full records. */
TEST(both_limits_protocol_max) { both_limits_at(__LINE__, "ecdsa-p256", 16385, 16385); }

TEST(default_is_advertised) {
    pair p;
    ferrule_config *cc = client_cfg(0), *sc = server_cfg("ecdsa-p256", 0, 0);
    wire w;
    memset(&w, 0, sizeof(w));
    CHECK(cc != NULL && sc != NULL && pair_new(&p, cc, sc, NULL));
    if (p.client == NULL) goto out;
    CHECK(handshake(&w, &p, NULL, NULL));
    CHECK_EQ(ferrule_conn_peer_record_size_limit(p.client), 16385);
    CHECK_EQ(ferrule_conn_peer_record_size_limit(p.server), 16385);
    TRANSFER(&w, p.server, p.client, 40000);
    CHECK_EQ(w.max_inner[FERRULE_ROLE_SERVER], 16385);
    pair_free(&p);
out:
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* ---- man-in-the-middle fixtures -------------------------------------------------- */

/* The fixtures and expectations are support_fx.h's (fx_ch_begin,
 * fx_ch_deliver, fx_flight_begin, EXPECT_FAIL, ...); connected pairs come
 * from pair_handshake here, with the configs' own ticket counts. */

/* Both connected through the MITM (no edits); x->f is empty for forging. */
static fx *connected_begin(ferrule_config *cc, ferrule_config *sc) {
    fx *x = fx_new(cc, sc);
    if (x == NULL) return NULL;
    int cs = 0, ss = 0;
    int ok = pair_handshake(&x->m.p, &cs, &ss) && SEC(x, SERVER, SAP) != NULL &&
             SEC(x, CLIENT, CAP) != NULL;
    x->f->suite = ferrule_conn_cipher_suite(SV(x));
    if (!ok) {
        fprintf(stderr, "  could not connect (%d/%d)\n", cs, ss);
        fx_free(x);
        return NULL;
    }
    return x;
}

/* ---- only the client sends it: no limit ------------------------------------------ */

/* A server without RFC 8449 (modelled by removing the extension from the
 * ClientHello it receives, with the client's transcript following the
 * edit): it does not answer, so nothing is negotiated, the client accepts
 * records far above the limit it offered and sends full records itself. */
TEST(only_client_sends_no_limit) {
    fx *x = fx_ch_begin(client_cfg(64), server_cfg("rsa", 64, 2));
    if (x == NULL) {
        CHECK(0);
        return;
    }
    CHECK(hello_find(&x->h, FR_EXT_RECORD_SIZE_LIMIT) != NULL);
    CHECK(hello_remove(&x->h, FR_EXT_RECORD_SIZE_LIMIT));
    CHECK_EQ(fx_ch_deliver(x, 1), FERRULE_WANT_READ);
    wire w;
    memset(&w, 0, sizeof(w));
    CHECK_EQ(pump(&w, SV(x), CL(x), NULL), FERRULE_WANT_READ);
    CHECK_EQ(pump(&w, CL(x), SV(x), NULL), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_handshake(CL(x)), FERRULE_OK);
    CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_OK);
    CHECK_EQ(ferrule_conn_peer_record_size_limit(CL(x)), 0);
    CHECK_EQ(ferrule_conn_peer_record_size_limit(SV(x)), 0);
    /* The RSA Certificate travelled in one record far above 64. */
    CHECK(w.max_inner[FERRULE_ROLE_SERVER] > 500);
    TRANSFER(&w, SV(x), CL(x), 40000);
    TRANSFER(&w, CL(x), SV(x), 40000);
    CHECK_EQ(w.max_inner[FERRULE_ROLE_SERVER], 16385);
    CHECK_EQ(w.max_inner[FERRULE_ROLE_CLIENT], 16385);
    fx_free(x);
}

/* ---- a peer exceeding our advertised limit: record_overflow --------------------- */

/* Forge one application_data record from `role`'s side with `len` bytes
 * of content and `pad` zero bytes of padding, and deliver it. */
static int forge_app(fx *x, ferrule_conn *to, const uint8_t *secret, size_t len, size_t pad,
                     uint8_t *out, size_t cap, size_t *got) {
    static uint8_t data[FR_MAX_PLAINTEXT];
    memset(data, 'z', sizeof(data));
    x->f->n = 0;
    mrec *r = mf_add_prot(x->f, FR_CT_APPLICATION_DATA, data, len, secret);
    if (r == NULL) return -1;
    r->pad = pad;
    if (!mf_send(x->f, to)) return -1;
    *got = 0;
    return ferrule_conn_read(to, out, cap, got);
}

TEST(server_enforces_its_limit) {
    uint8_t buf[512];
    size_t n = 0;
    /* Exactly at the limit (99 bytes + type byte = 100): accepted. */
    fx *x = connected_begin(client_cfg(200), server_cfg("ecdsa-p256", 100, 0));
    if (x == NULL) {
        CHECK(0);
        return;
    }
    CHECK_EQ(forge_app(x, SV(x), SEC(x, CLIENT, CAP), 99, 0, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK_EQ(n, 99);
    fx_free(x);

    /* One byte over: record_overflow, and the client hears about it. */
    x = connected_begin(client_cfg(200), server_cfg("ecdsa-p256", 100, 0));
    if (x == NULL) return;
    int st = forge_app(x, SV(x), SEC(x, CLIENT, CAP), 100, 0, buf, sizeof(buf), &n);
    EXPECT_FAIL(SV(x), st, FERRULE_DECODE, FERRULE_R_RECORD_OVERFLOW,
                FERRULE_ALERT_RECORD_OVERFLOW);
    EXPECT_PEER_ALERT(SV(x), CL(x), FERRULE_ALERT_RECORD_OVERFLOW);
    fx_free(x);

    /* Padding counts (RFC 8449 §4: the whole TLSInnerPlaintext). */
    x = connected_begin(client_cfg(200), server_cfg("ecdsa-p256", 100, 0));
    if (x == NULL) return;
    st = forge_app(x, SV(x), SEC(x, CLIENT, CAP), 10, 90, buf, sizeof(buf), &n);
    EXPECT_FAIL(SV(x), st, FERRULE_DECODE, FERRULE_R_RECORD_OVERFLOW,
                FERRULE_ALERT_RECORD_OVERFLOW);
    fx_free(x);
}

TEST(client_enforces_its_limit) {
    uint8_t buf[512];
    size_t n = 0;
    fx *x = connected_begin(client_cfg(300), server_cfg("ecdsa-p256", 100, 0));
    if (x == NULL) {
        CHECK(0);
        return;
    }
    CHECK_EQ(forge_app(x, CL(x), SEC(x, SERVER, SAP), 299, 0, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK_EQ(n, 299);
    fx_free(x);

    x = connected_begin(client_cfg(300), server_cfg("ecdsa-p256", 100, 0));
    if (x == NULL) return;
    int st = forge_app(x, CL(x), SEC(x, SERVER, SAP), 300, 0, buf, sizeof(buf), &n);
    EXPECT_FAIL(CL(x), st, FERRULE_DECODE, FERRULE_R_RECORD_OVERFLOW,
                FERRULE_ALERT_RECORD_OVERFLOW);
    EXPECT_PEER_ALERT(CL(x), SV(x), FERRULE_ALERT_RECORD_OVERFLOW);
    fx_free(x);
}

/* Without negotiation the protocol maximum is the only bound: a full
 * 2^14-byte record is fine even though the client offered 64. */
TEST(no_enforcement_without_negotiation) {
    fx *x = fx_ch_begin(client_cfg(64), server_cfg("ecdsa-p256", 0, 0));
    if (x == NULL) {
        CHECK(0);
        return;
    }
    CHECK(hello_remove(&x->h, FR_EXT_RECORD_SIZE_LIMIT));
    CHECK_EQ(fx_ch_deliver(x, 1), FERRULE_WANT_READ);
    CHECK(mitm_pass(SV(x), CL(x)));
    CHECK_EQ(ferrule_conn_handshake(CL(x)), FERRULE_OK);
    CHECK(mitm_pass(CL(x), SV(x)));
    CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_OK);
    x->f->suite = ferrule_conn_cipher_suite(SV(x));
    static uint8_t buf[FR_MAX_PLAINTEXT];
    size_t n = 0;
    CHECK_EQ(forge_app(x, CL(x), SEC(x, SERVER, SAP), FR_MAX_PLAINTEXT, 0, buf, sizeof(buf), &n),
             FERRULE_OK);
    CHECK_EQ(n, FR_MAX_PLAINTEXT);
    fx_free(x);
}

/* ---- the extension in ClientHello (server side) ------------------------------------ */

static void ch_value_at(int line, const uint8_t *body, size_t len, int status, uint32_t reason,
                        int alert) {
    fx *x = fx_ch_begin(client_cfg(0), server_cfg("ecdsa-p256", 0, 0));
    if (x == NULL) {
        FAILAT(line, "set-up");
        return;
    }
    hext *e = hello_find(&x->h, FR_EXT_RECORD_SIZE_LIMIT);
    if (e == NULL) {
        FAILAT(line, "no record_size_limit in the ClientHello");
        fx_free(x);
        return;
    }
    if (len > 0) memcpy(e->body, body, len);
    e->len = len;
    int st = fx_ch_deliver(x, 0);
    expect_fail_at(__FILE__, line, SV(x), st, status, reason, alert);
    /* No keys yet: the alert goes out in the clear. */
    uint8_t wire_alert[16];
    size_t n = 0;
    if (ferrule_conn_take(SV(x), wire_alert, sizeof(wire_alert), &n) != FERRULE_OK || n != 7 ||
        wire_alert[0] != FR_CT_ALERT || wire_alert[6] != alert)
        FAILAT(line, "no clear alert %d on the wire", alert);
    fx_free(x);
}

TEST(client_hello_bad_values) {
    static const uint8_t v63[] = {0x00, 0x3f}, v0[] = {0x00, 0x00}, v1[] = {0x00, 0x01};
    ch_value_at(__LINE__, v63, 2, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    ch_value_at(__LINE__, v0, 2, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    ch_value_at(__LINE__, v1, 2, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
}

TEST(client_hello_bad_length) {
    static const uint8_t three[] = {0x00, 0x40, 0x00};
    static const uint8_t one[] = {0x40};
    /* A malformed extension body: BAD_EXTENSION, a decode_error alert. */
    ch_value_at(__LINE__, one, 1, FERRULE_DECODE, FERRULE_R_BAD_EXTENSION,
                FERRULE_ALERT_DECODE_ERROR);
    ch_value_at(__LINE__, three, 3, FERRULE_DECODE, FERRULE_R_BAD_EXTENSION,
                FERRULE_ALERT_DECODE_ERROR);
    ch_value_at(__LINE__, NULL, 0, FERRULE_DECODE, FERRULE_R_BAD_EXTENSION,
                FERRULE_ALERT_DECODE_ERROR);
}

TEST(client_hello_duplicate) {
    fx *x = fx_ch_begin(client_cfg(0), server_cfg("ecdsa-p256", 0, 0));
    if (x == NULL) {
        CHECK(0);
        return;
    }
    static const uint8_t v[] = {0x01, 0x00};
    CHECK(hello_add(&x->h, 0, FR_EXT_RECORD_SIZE_LIMIT, v, 2) != NULL);
    int st = fx_ch_deliver(x, 0);
    EXPECT_FAIL(SV(x), st, FERRULE_ALERT_SENT, FERRULE_R_DUPLICATE_EXTENSION,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

/* 64 is the smallest legal value; above 2^14 + 1 the server must not
 * enforce (RFC 8449 §4) and treats it as 2^14 + 1.  The handshakes
 * complete and the server honours what it understood. */
static void ch_accepted_at(int line, uint16_t value, uint32_t want_peer, size_t want_max) {
    fx *x = fx_ch_begin(client_cfg(0), server_cfg("ecdsa-p256", 0, 0));
    if (x == NULL) {
        FAILAT(line, "set-up");
        return;
    }
    hext *e = hello_find(&x->h, FR_EXT_RECORD_SIZE_LIMIT);
    if (e == NULL) {
        FAILAT(line, "no extension");
        fx_free(x);
        return;
    }
    e->body[0] = (uint8_t)(value >> 8);
    e->body[1] = (uint8_t)value;
    int st = fx_ch_deliver(x, 1);
    if (st != FERRULE_WANT_READ) FAILAT(line, "server: %s", ferrule_status_name(st));
    if (ferrule_conn_peer_record_size_limit(SV(x)) != want_peer)
        FAILAT(line, "server peer limit %u, want %u", ferrule_conn_peer_record_size_limit(SV(x)),
               want_peer);
    wire w;
    memset(&w, 0, sizeof(w));
    if (pump(&w, SV(x), CL(x), NULL) != FERRULE_WANT_READ ||
        pump(&w, CL(x), SV(x), NULL) != FERRULE_WANT_READ ||
        ferrule_conn_handshake(CL(x)) != FERRULE_OK || ferrule_conn_handshake(SV(x)) != FERRULE_OK)
        FAILAT(line, "handshake did not complete");
    transfer_at(line, &w, SV(x), CL(x), 20000);
    if (w.max_inner[FERRULE_ROLE_SERVER] != want_max)
        FAILAT(line, "largest server record %zu, want %zu", w.max_inner[FERRULE_ROLE_SERVER],
               want_max);
    fx_free(x);
}

TEST(client_hello_edge_values) {
    ch_accepted_at(__LINE__, 64, 64, 64);
    ch_accepted_at(__LINE__, 16385, 16385, 16385);
    ch_accepted_at(__LINE__, 16386, 16385, 16385);
    ch_accepted_at(__LINE__, 0xffff, 16385, 16385);
}

/* ---- the extension in EncryptedExtensions (client side) --------------------------- */

/* Rebuild EncryptedExtensions (record r[2]) with the record_size_limit
 * body replaced by `body`, or a second copy appended with `dup`. */
static int ee_edit(fx *x, const uint8_t *body, size_t len, int dup) {
    mrec *r = &x->f->r[2];
    uint8_t out[2048];
    size_t o = 6;
    fr_reader rd = fr_reader_init(r->data + 4, r->len - 4), block;
    if (fr_read_vec16(&rd, &block) != FR_OK) return 0;
    int found = 0;
    while (!fr_reader_empty(&block)) {
        uint16_t type;
        fr_reader eb;
        if (fr_read_u16(&block, &type) != FR_OK || fr_read_vec16(&block, &eb) != FR_OK) return 0;
        const uint8_t *p = eb.p;
        size_t n = fr_reader_left(&eb);
        if (type == FR_EXT_RECORD_SIZE_LIMIT) {
            found = 1;
            if (!dup) {
                p = body;
                n = len;
            }
        }
        if (o + 4 + n > sizeof(out)) return 0;
        out[o++] = (uint8_t)(type >> 8);
        out[o++] = (uint8_t)type;
        out[o++] = (uint8_t)(n >> 8);
        out[o++] = (uint8_t)n;
        if (n > 0) memcpy(out + o, p, n);
        o += n;
    }
    if (dup) {
        out[o++] = 0;
        out[o++] = FR_EXT_RECORD_SIZE_LIMIT;
        out[o++] = 0;
        out[o++] = (uint8_t)len;
        memcpy(out + o, body, len);
        o += len;
    }
    size_t blen = o - 6, mlen = o - 4;
    out[0] = FR_HS_ENCRYPTED_EXTENSIONS;
    out[1] = (uint8_t)(mlen >> 16);
    out[2] = (uint8_t)(mlen >> 8);
    out[3] = (uint8_t)mlen;
    out[4] = (uint8_t)(blen >> 8);
    out[5] = (uint8_t)blen;
    memcpy(r->data, out, o);
    r->len = o;
    return found;
}

static void ee_value_at(int line, const uint8_t *body, size_t len, int dup, int status,
                        uint32_t reason, int alert) {
    fx *x = fx_flight_begin(client_cfg(0), server_cfg("ecdsa-p256", 0, 0));
    if (x == NULL) {
        FAILAT(line, "set-up");
        return;
    }
    if (!ee_edit(x, body, len, dup)) FAILAT(line, "EncryptedExtensions lacks the extension");
    int st = mf_deliver(x->f, CL(x));
    expect_fail_at(__FILE__, line, CL(x), st, status, reason, alert);
    /* The client has handshake keys: the server reads the alert. */
    expect_peer_alert_at(__FILE__, line, CL(x), SV(x), alert);
    fx_free(x);
}

TEST(encrypted_extensions_bad_values) {
    static const uint8_t v63[] = {0x00, 0x3f}, v0[] = {0x00, 0x00};
    static const uint8_t v16386[] = {0x40, 0x02}, vmax[] = {0xff, 0xff};
    ee_value_at(__LINE__, v63, 2, 0, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    ee_value_at(__LINE__, v0, 2, 0, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    /* RFC 8449 §4: a client MAY abort above the protocol maximum; we do. */
    ee_value_at(__LINE__, v16386, 2, 0, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    ee_value_at(__LINE__, vmax, 2, 0, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
}

TEST(encrypted_extensions_bad_length) {
    static const uint8_t three[] = {0x01, 0x00, 0x00};
    ee_value_at(__LINE__, three, 1, 0, FERRULE_DECODE, FERRULE_R_DECODE_ERROR,
                FERRULE_ALERT_DECODE_ERROR);
    ee_value_at(__LINE__, three, 3, 0, FERRULE_DECODE, FERRULE_R_DECODE_ERROR,
                FERRULE_ALERT_DECODE_ERROR);
    ee_value_at(__LINE__, NULL, 0, 0, FERRULE_DECODE, FERRULE_R_DECODE_ERROR,
                FERRULE_ALERT_DECODE_ERROR);
}

TEST(encrypted_extensions_duplicate) {
    static const uint8_t v[] = {0x01, 0x00};
    ee_value_at(__LINE__, v, 2, 1, FERRULE_ALERT_SENT, FERRULE_R_DUPLICATE_EXTENSION,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
}

/* A response to an extension the client did not send (RFC 8446 §4.2). */
TEST(encrypted_extensions_unsolicited) {
    ferrule_config *cc = client_cfg(0);
    ferrule_conn *c = NULL;
    CHECK(cc != NULL && ferrule_conn_new(&c, cc, NULL) == FERRULE_OK);
    if (c != NULL) {
        static const uint8_t v[] = {0x01, 0x00};
        fr_reader r = fr_reader_init(v, 2);
        CHECK_EQ(c->rsl.offered, 0); /* no ClientHello yet */
        CHECK_EQ(fr_rsl_client_on_ee(c, &r), FERRULE_R_UNSUPPORTED_EXTENSION);
        CHECK_EQ(ferrule_conn_peer_record_size_limit(c), 0);
    }
    ferrule_conn_free(c);
    ferrule_config_free(cc);
}

/* ---- the extension in ServerHello / HelloRetryRequest -------------------------------- */

TEST(server_hello_carries_it) {
    fx *x = fx_flight_begin(client_cfg(0), server_cfg("ecdsa-p256", 0, 0));
    if (x == NULL) {
        CHECK(0);
        return;
    }
    static const uint8_t v[] = {0x40, 0x01};
    CHECK(hello_add(&x->h, x->h.n_ext, FR_EXT_RECORD_SIZE_LIMIT, v, 2) != NULL);
    size_t n = hello_encode(&x->h, x->f->r[0].data, MITM_REC_CAP);
    CHECK(n > 0);
    x->f->r[0].len = n;
    int st = mf_deliver(x->f, CL(x));
    /* RFC 8446 §4.2: recognised but not allowed in this message. */
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

TEST(hello_retry_request_carries_it) {
    /* The server only takes secp256r1; the client's first share is
     * x25519, so the server asks again. */
    ferrule_config *sc = server_cfg("ecdsa-p256", 0, 0);
    static const uint16_t p256[] = {FERRULE_GROUP_SECP256R1};
    if (sc != NULL) CHECK_EQ(ferrule_config_set_groups(sc, p256, 1), FERRULE_OK);
    fx *x = fx_ch_begin(client_cfg(0), sc);
    if (x == NULL) {
        CHECK(0);
        return;
    }
    CHECK_EQ(fx_ch_deliver(x, 0), FERRULE_WANT_READ);
    x->f->n = 0;
    CHECK(mf_take(x->f, SV(x)));
    CHECK(x->f->n >= 1 && hello_parse(&x->h, x->f->r[0].data, x->f->r[0].len) && x->h.server);
    static const uint8_t v[] = {0x40, 0x01};
    CHECK(hello_add(&x->h, x->h.n_ext, FR_EXT_RECORD_SIZE_LIMIT, v, 2) != NULL);
    size_t n = hello_encode(&x->h, x->f->r[0].data, MITM_REC_CAP);
    x->f->r[0].len = n;
    CHECK(mf_send(x->f, CL(x)));
    int st = ferrule_conn_handshake(CL(x));
    EXPECT_FAIL(CL(x), st, FERRULE_ALERT_SENT, FERRULE_R_ILLEGAL_PARAMETER,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

/* After a HelloRetryRequest the second ClientHello carries the same value
 * and the limits still apply. */
TEST(limits_after_hello_retry) {
    ferrule_config *sc = server_cfg("ecdsa-p256", 128, 1);
    static const uint16_t p256[] = {FERRULE_GROUP_SECP256R1};
    if (sc != NULL) CHECK_EQ(ferrule_config_set_groups(sc, p256, 1), FERRULE_OK);
    ferrule_config *cc = client_cfg(90);
    pair p;
    wire w;
    memset(&w, 0, sizeof(w));
    CHECK(cc != NULL && sc != NULL && pair_new(&p, cc, sc, NULL));
    if (p.client != NULL) {
        CHECK(handshake(&w, &p, NULL, NULL));
        CHECK_EQ(ferrule_conn_hrr(p.client), 1);
        CHECK_EQ(ferrule_conn_peer_record_size_limit(p.client), 128);
        CHECK_EQ(ferrule_conn_peer_record_size_limit(p.server), 90);
        TRANSFER(&w, p.client, p.server, 5000);
        TRANSFER(&w, p.server, p.client, 5000);
        CHECK_EQ(w.max_inner[FERRULE_ROLE_SERVER], 90);
        CHECK_EQ(w.max_inner[FERRULE_ROLE_CLIENT], 128);
        pair_free(&p);
    }
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* Resumption negotiates the limit again (RFC 8449 §4). */
TEST(limits_on_resumption) {
    ferrule_config *cc = client_cfg(200), *sc = server_cfg("ecdsa-p256", 300, 1);
    pair p;
    wire w;
    memset(&w, 0, sizeof(w));
    uint8_t blob[4096];
    size_t blob_len = 0;
    CHECK(cc != NULL && sc != NULL && pair_new(&p, cc, sc, NULL));
    if (p.client == NULL) goto out;
    CHECK(handshake(&w, &p, NULL, NULL));
    TRANSFER(&w, p.server, p.client, 10); /* delivers the ticket too */
    CHECK_EQ(ferrule_conn_session(p.client, blob, sizeof(blob), &blob_len), FERRULE_OK);
    pair_free(&p);
    memset(&w, 0, sizeof(w));
    CHECK(pair_new(&p, cc, sc, NULL));
    if (p.client == NULL) goto out;
    CHECK_EQ(ferrule_conn_set_session(p.client, blob, blob_len), FERRULE_OK);
    CHECK(handshake(&w, &p, NULL, NULL));
    CHECK_EQ(ferrule_conn_resumed(p.client), 1);
    CHECK_EQ(ferrule_conn_peer_record_size_limit(p.client), 300);
    CHECK_EQ(ferrule_conn_peer_record_size_limit(p.server), 200);
    TRANSFER(&w, p.server, p.client, 5000);
    TRANSFER(&w, p.client, p.server, 5000);
    CHECK_EQ(w.max_inner[FERRULE_ROLE_SERVER], 200);
    CHECK_EQ(w.max_inner[FERRULE_ROLE_CLIENT], 300);
    pair_free(&p);
out:
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* ---- the record-layer helper ------------------------------------------------------ */

TEST(record_inner_limit_helper) {
    CHECK_EQ(fr_record_check_inner_limit(100 + FR_AEAD_TAG_LEN, 100), FR_OK);
    CHECK_EQ(fr_record_check_inner_limit(101 + FR_AEAD_TAG_LEN, 100), FERRULE_R_RECORD_OVERFLOW);
    CHECK_EQ(fr_record_check_inner_limit(FR_MAX_CIPHERTEXT, 16385), FERRULE_R_RECORD_OVERFLOW);
    CHECK_EQ(fr_record_check_inner_limit(16385 + FR_AEAD_TAG_LEN, 16385), FR_OK);
    /* Too short for a tag: left to the AEAD (bad_record_mac). */
    CHECK_EQ(fr_record_check_inner_limit(3, 64), FR_OK);
}

TEST_MAIN("test_record_size_limit", TL_CASE(setter_range_and_frozen), TL_CASE(both_limits_small),
          TL_CASE(both_limits_minimum), TL_CASE(both_limits_asymmetric),
          TL_CASE(both_limits_protocol_max), TL_CASE(default_is_advertised),
          TL_CASE(only_client_sends_no_limit), TL_CASE(server_enforces_its_limit),
          TL_CASE(client_enforces_its_limit), TL_CASE(no_enforcement_without_negotiation),
          TL_CASE(client_hello_bad_values), TL_CASE(client_hello_bad_length),
          TL_CASE(client_hello_duplicate), TL_CASE(client_hello_edge_values),
          TL_CASE(encrypted_extensions_bad_values), TL_CASE(encrypted_extensions_bad_length),
          TL_CASE(encrypted_extensions_duplicate), TL_CASE(encrypted_extensions_unsolicited),
          TL_CASE(server_hello_carries_it), TL_CASE(hello_retry_request_carries_it),
          TL_CASE(limits_after_hello_retry), TL_CASE(limits_on_resumption),
          TL_CASE(record_inner_limit_helper))
