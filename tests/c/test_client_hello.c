/* test_client_hello.c - the server's reading of ClientHellos at the limits
 * RFC 8446 §4.1.2 allows: any number of extensions (§4.2 sets no count;
 * duplicates anywhere are refused), every peer-supplied list as long as the
 * message allows (each accepted, the handshake completes with the real
 * entries), the largest legal ClientHello under the default handshake
 * message cap, and a configured cap that refuses it with a reason naming
 * the cap.  The cost of these shapes is measured by tools/cost.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h" /* FR_* constants: test-only */
#include "support_bighello.h"
#include "support_mitm.h"
#include "support_pair.h"
#include "testlib.h"

static const uint8_t KEY_NAME[16] = {'f', 'e', 'r', 'r', 'u', 'l', 'e', '-',
                                     't', 'e', 's', 't', 'k', 'e', 'y', '1'};

static ferrule_config *server_cfg(void) { return bh_server_config(KEY_NAME); }
static ferrule_config *client_cfg(void) { return bh_client_config(); }

typedef int (*edit_fn)(bighello *h, void *arg);

typedef struct outcome {
    int server;      /* status after the ClientHello */
    uint32_t reason; /* server's reason */
    int alert;       /* server's alert */
    int done;        /* both sides completed the handshake */
    uint16_t group, suite;
    size_t alpn_len;
    int resumed;
    size_t size; /* the ClientHello's length */
} outcome;

/* Handshake whose first ClientHello `edit` changed; the client adopts the
 * edited hello so that both transcripts agree. */
static outcome run_edited(ferrule_config *cc, ferrule_config *sc, edit_fn edit, void *arg) {
    outcome o;
    memset(&o, 0, sizeof(o));
    o.server = -1;
    pair p;
    uint8_t *msg = NULL, *big = NULL;
    size_t len = 0;
    bighello h;
    memset(&h, 0, sizeof(h));
    if (cc == NULL || sc == NULL || !pair_new(&p, cc, sc, NULL)) return o;
    if (bh_capture_client_hello(p.client, &msg, &len) && bh_parse(&h, msg, len) && edit(&h, arg) &&
        (o.size = bh_encode(&h, &big)) > 0 && mitm_client_adopt_hello(p.client, big, o.size)) {
        o.server = bh_deliver(p.server, big, o.size);
        o.reason = ferrule_conn_reason(p.server);
        o.alert = ferrule_conn_alert(p.server);
        int cs = 0, ss = 0;
        if (o.server == FERRULE_WANT_READ) o.done = pair_handshake(&p, &cs, &ss);
        o.group = ferrule_conn_group(p.server);
        o.suite = ferrule_conn_cipher_suite(p.server);
        const uint8_t *a = NULL;
        ferrule_conn_alpn(p.server, &a, &o.alpn_len);
        o.resumed = ferrule_conn_resumed(p.server);
    }
    bh_free(&h);
    free(msg);
    free(big);
    pair_free(&p);
    return o;
}

/* ---- any number of extensions ----------------------------------------------- */

typedef struct many {
    size_t count;     /* unknown empty extensions to add (SIZE_MAX: as many as fit) */
    size_t dup_a, dup_b; /* positions that get the same type (dup_a == dup_b: none) */
    uint16_t dup_known;  /* a known type to repeat at the end (0: none) */
} many;

static int add_many(bighello *h, void *arg) {
    const many *m = arg;
    size_t count = m->count;
    if (count == SIZE_MAX) count = (0xffff - bh_exts_size(h)) / 4;
    for (size_t i = 0; i < count; i++) {
        uint16_t type = (uint16_t)(0x4000 + i);
        if (m->dup_a != m->dup_b && i == m->dup_b) type = (uint16_t)(0x4000 + m->dup_a);
        if (!bh_insert(h, i, type, NULL, 0)) return 0;
    }
    if (m->dup_known != 0) {
        bh_ext *e = bh_find(h, m->dup_known);
        if (e == NULL || !bh_insert(h, h->n_ext, m->dup_known, e->body, e->len)) return 0;
    }
    return 1;
}

TEST(any_number_of_extensions) {
    /* RFC 8446 §4.2: unknown extensions are ignored, whatever their
     * number (the cap of 64 is gone); the largest count fills the 2^16-1
     * byte block with empty ones. */
    const size_t counts[4] = {64, 65, 1000, SIZE_MAX};
    for (size_t i = 0; i < 4; i++) {
        ferrule_config *cc = client_cfg(), *sc = server_cfg();
        many m = {counts[i], 0, 0, 0};
        outcome o = run_edited(cc, sc, add_many, &m);
        CHECK_EQ(o.server, FERRULE_WANT_READ);
        CHECK(o.done);
        CHECK_EQ(o.group, pair_default_group());
        if (counts[i] == SIZE_MAX) CHECK(o.size > 65535);
        ferrule_config_free(cc);
        ferrule_config_free(sc);
    }
}

TEST(duplicate_extensions_anywhere) {
    /* RFC 8446 §4.2: one extension of a type at most, found at any
     * distance: first and last of 2,000, neighbours in the middle, beyond
     * the old cap, and a known type repeated after all of them. */
    const many cases[4] = {
        {2000, 0, 1999, 0}, {2000, 1000, 1001, 0}, {100, 70, 90, 0}, {3000, 0, 0, FR_EXT_KEY_SHARE}};
    for (size_t i = 0; i < 4; i++) {
        ferrule_config *cc = client_cfg(), *sc = server_cfg();
        outcome o = run_edited(cc, sc, add_many, (void *)&cases[i]);
        CHECK_EQ(o.server, FERRULE_ALERT_SENT);
        CHECK_EQ(o.reason, FERRULE_R_DUPLICATE_EXTENSION);
        CHECK_EQ(o.alert, FERRULE_ALERT_ILLEGAL_PARAMETER);
        ferrule_config_free(cc);
        ferrule_config_free(sc);
    }
}

TEST(any_number_of_extensions_after_hrr) {
    /* The same 1,000 unknown extensions in both ClientHellos, in the same
     * places: the second is accepted (a P-384-only server asks the x25519
     * client for another share).  The client did not send them, so only
     * the server's acceptance is looked at. */
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    REQUIRE(cc != NULL && sc != NULL);
    const uint16_t p384[1] = {FERRULE_GROUP_SECP384R1};
    CHECK_EQ(ferrule_config_set_groups(sc, p384, 1), FERRULE_OK);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    uint8_t *msg = NULL, *big = NULL;
    size_t len = 0, n = 0;
    bighello h;
    many m = {1000, 0, 0, 0};
    REQUIRE(bh_capture_client_hello(p.client, &msg, &len) && bh_parse(&h, msg, len) &&
            add_many(&h, &m) && (n = bh_encode(&h, &big)) > 0);
    CHECK(mitm_client_adopt_hello(p.client, big, n));
    CHECK_EQ(bh_deliver(p.server, big, n), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_handshake_state(p.server), FERRULE_HS_WAIT_SECOND_CLIENT_HELLO);
    bh_free(&h);
    free(msg);
    free(big);
    pair_move(p.server, p.client);
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
    /* The client's output: [change_cipher_spec (RFC 8446 D.4),] ClientHello2. */
    uint8_t out[4096];
    size_t got = 0;
    CHECK_EQ(ferrule_conn_take(p.client, out, sizeof(out), &got), FERRULE_OK);
    size_t at = got > 6 && out[0] == 20 ? 6 : 0;
    REQUIRE(got > at + 5 && out[at] == 22);
    at += 5;
    size_t ch2_len = got - at;
    REQUIRE(bh_parse(&h, out + at, ch2_len) && add_many(&h, &m) && (n = bh_encode(&h, &big)) > 0);
    CHECK_EQ(bh_deliver(p.server, big, n), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_status(p.server), FERRULE_OK);
    CHECK_EQ(ferrule_conn_handshake_state(p.server), FERRULE_HS_WAIT_CLIENT_FINISHED);
    CHECK_EQ(ferrule_conn_hrr(p.server), 1);
    bh_free(&h);
    free(big);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* ---- every list at its largest ---------------------------------------------- */

typedef struct shaped {
    int shape;
    size_t total; /* 0: the largest the extension block allows */
} shaped;

static int make_shape(bighello *h, void *arg) {
    const shaped *s = arg;
    size_t total = s->total;
    /* The message with a full 2^16-1 byte extension block. */
    if (total == 0) total = bh_size(h) - bh_exts_size(h) + 0xffff;
    return bh_make_shape(h, s->shape, total, KEY_NAME);
}

TEST(every_list_at_its_largest) {
    /* Each list as long as the message allows, the real entries last: the
     * server accepts every one and negotiates what it would for the plain
     * hello (its default group, ALPN h2, no resumption). */
    for (int shape = 0; shape < BH_SHAPES; shape++) {
        ferrule_config *cc = client_cfg(), *sc = server_cfg();
        shaped s = {shape, shape == BH_SUITES ? 65600 : 0};
        outcome o = run_edited(cc, sc, make_shape, &s);
        if (!o.done)
            fprintf(stderr, "  shape %s: status %d reason %s (%zu bytes)\n", bh_shape_name(shape),
                    o.server, ferrule_reason_name(o.reason), o.size);
        CHECK_EQ(o.server, FERRULE_WANT_READ);
        CHECK(o.done);
        CHECK(o.size >= 65000);
        CHECK_EQ(o.group, pair_default_group());
        CHECK_EQ(o.alpn_len, 2);
        CHECK_EQ(o.resumed, 0);
        ferrule_config_free(cc);
        ferrule_config_free(sc);
    }
}

/* The largest ClientHello a server can accept: cipher_suites of 2^16-2
 * bytes and a 2^16-1 byte extension block (legacy_compression_methods must
 * be {null}, RFC 8446 §4.1.2, so it is 254 bytes short of the cap). */
static int largest(bighello *h, void *arg) {
    (void)arg;
    size_t suites = 32767 - h->n_suites;
    uint16_t *v = malloc(2 * 32767);
    if (v == NULL) return 0;
    for (size_t i = 0; i < suites; i++) v[i] = (uint16_t)(0x2000 + i);
    memcpy(v + suites, h->suites, 2 * h->n_suites);
    int ok = bh_set_suites(h, v, 32767);
    free(v);
    return ok && bh_pad_to(h, bh_size(h) - bh_exts_size(h) + 0xffff);
}

TEST(largest_legal_hello_under_the_default_cap) {
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    outcome o = run_edited(cc, sc, largest, NULL);
    CHECK_EQ(o.size, 4 + FR_MAX_CLIENT_HELLO - 254);
    CHECK_EQ(o.server, FERRULE_WANT_READ);
    CHECK(o.done);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(configured_cap_refuses_with_its_reason) {
    /* A cap set below it refuses it as a policy of ours, not as the
     * peer's decoding error: the reason names the cap. */
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    REQUIRE(sc != NULL);
    CHECK_EQ(ferrule_config_set_max_handshake_message(sc, 65536), FERRULE_OK);
    outcome o = run_edited(cc, sc, largest, NULL);
    CHECK_EQ(o.server, FERRULE_POLICY);
    CHECK_EQ(o.reason, FERRULE_R_HANDSHAKE_TOO_LARGE);
    CHECK_EQ(o.alert, FERRULE_ALERT_HANDSHAKE_FAILURE);
    CHECK(strstr(ferrule_reason_message(o.reason), "max_handshake_message") != NULL);
    /* The same hello one byte under the cap passes. */
    ferrule_config *sc2 = server_cfg();
    REQUIRE(sc2 != NULL);
    CHECK_EQ(ferrule_config_set_max_handshake_message(sc2, o.size - 4), FERRULE_OK);
    o = run_edited(cc, sc2, largest, NULL);
    CHECK(o.done);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    ferrule_config_free(sc2);
}

TEST_MAIN("client_hello", TL_CASE(any_number_of_extensions), TL_CASE(any_number_of_extensions_after_hrr), TL_CASE(duplicate_extensions_anywhere),
          TL_CASE(every_list_at_its_largest), TL_CASE(largest_legal_hello_under_the_default_cap),
          TL_CASE(configured_cap_refuses_with_its_reason))
