/* test_buffer_api.c - the zero-copy buffer API (ferrule.h, "Zero-copy
 * buffer I/O"): borrow/ack in each direction, in-place reads, flags,
 * release of idle buffers, the batched process call, every misuse, and a
 * random interleaving with feed/take/read. */
#include <string.h>

#include "support_pair.h"
#include "testlib.h"

/* ---- moving bytes with the buffer API only -------------------------------------- */

/* Send from's output into to's input, output_buf/ack and input_buf/ack
 * only, in steps of at most `step` bytes, until all is sent or the
 * receiver's buffer is full.  Returns bytes moved, or -1. */
static long move_buf(ferrule_conn *from, ferrule_conn *to, size_t step) {
    long total = 0;
    for (;;) {
        const uint8_t *out;
        size_t len;
        uint8_t *in;
        size_t cap;
        if (ferrule_conn_output_buf(from, &out, &len) != FERRULE_OK) return -1;
        if (ferrule_conn_input_buf(to, &in, &cap) != FERRULE_OK) return -1;
        size_t n = len < cap ? len : cap;
        if (n > step) n = step;
        if (n > 0) memcpy(in, out, n);
        if (ferrule_conn_input_ack(to, n) != FERRULE_OK) return -1;
        if (ferrule_conn_output_ack(from, n) != FERRULE_OK) return -1;
        total += (long)n;
        if (n == 0) return total;
    }
}

/* Read everything readable from `c` with read_buf/read_ack into out. */
static size_t drain_read_buf(ferrule_conn *c, uint8_t *out, size_t cap, size_t piece) {
    size_t got = 0;
    for (;;) {
        const uint8_t *d;
        size_t len;
        if (ferrule_conn_read_buf(c, &d, &len) != FERRULE_OK) return got;
        size_t k = len < piece ? len : piece;
        if (k > cap - got) k = cap - got;
        memcpy(out + got, d, k);
        got += k;
        CHECK_EQ(ferrule_conn_read_ack(c, k), FERRULE_OK);
        if (got == cap) return got;
    }
}

static int handshake_buf(pair *p, size_t step) {
    for (int round = 0; round < 64; round++) {
        int c = ferrule_conn_handshake(p->client);
        if (move_buf(p->client, p->server, step) < 0) return 0;
        int s = ferrule_conn_handshake(p->server);
        if (move_buf(p->server, p->client, step) < 0) return 0;
        if (c == FERRULE_OK && s == FERRULE_OK) return 1;
        if ((c != FERRULE_OK && c != FERRULE_WANT_READ) || (s != FERRULE_OK && s != FERRULE_WANT_READ))
            return 0;
    }
    return 0;
}

static int new_pair(pair *p) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    int ok = cc != NULL && sc != NULL && pair_new(p, cc, sc, NULL);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    return ok;
}

static void fill_pattern(uint8_t *b, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(i * 31u + seed);
}

TEST(handshake_and_data_over_the_buffer_api_only) {
    pair p;
    REQUIRE(new_pair(&p));
    REQUIRE(handshake_buf(&p, 1u << 20));
    static uint8_t msg[40000], got[40000];
    fill_pattern(msg, sizeof(msg), 7);
    size_t n = 0, done = 0, r = 0;
    for (int i = 0; i < 64 && r < sizeof(got); i++) {
        if (done < sizeof(msg)) {
            int st = ferrule_conn_write(p.client, msg + done, sizeof(msg) - done, &n);
            CHECK(st == FERRULE_OK || st == FERRULE_WANT_WRITE);
            done += n;
        }
        REQUIRE(move_buf(p.client, p.server, 1u << 20) >= 0);
        r += drain_read_buf(p.server, got + r, sizeof(got) - r, 1u << 20);
    }
    CHECK_EQ(r, sizeof(msg));
    CHECK_MEM(got, msg, sizeof(msg));
    pair_free(&p);
}

TEST(drip_feed_one_byte_at_a_time) {
    pair p;
    REQUIRE(new_pair(&p));
    REQUIRE(handshake_buf(&p, 1));
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write(p.server, (const uint8_t *)"drip", 4, &n), FERRULE_OK);
    REQUIRE(move_buf(p.server, p.client, 1) > 0);
    uint8_t got[8];
    CHECK_EQ(drain_read_buf(p.client, got, sizeof(got), 1), 4);
    CHECK_MEM(got, "drip", 4);
    pair_free(&p);
}

TEST(in_place_reads_across_record_boundaries) {
    pair p;
    REQUIRE(new_pair(&p));
    REQUIRE(pair_handshake(&p, NULL, NULL));
    /* Three records: 16384 bytes, 100, 5; all buffered before reading. */
    static uint8_t a[16384 + 100 + 5];
    fill_pattern(a, sizeof(a), 3);
    size_t n = 0, sizes[3] = {16384, 100, 5}, off = 0;
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(ferrule_conn_write(p.client, a + off, sizes[i], &n), FERRULE_OK);
        CHECK_EQ(n, sizes[i]);
        off += sizes[i];
    }
    off = 0;
    for (int i = 0; i < 3; i++) {
        pair_move(p.client, p.server);
        const uint8_t *d;
        size_t len;
        REQUIRE(ferrule_conn_read_buf(p.server, &d, &len) == FERRULE_OK);
        /* One record's data at a time, where it was decrypted. */
        CHECK_EQ(len, sizes[i]);
        CHECK_MEM(d, a + off, len);
        /* Partly consumed: the rest is lent again at the same place. */
        size_t part = len / 2;
        CHECK_EQ(ferrule_conn_read_ack(p.server, part), FERRULE_OK);
        const uint8_t *d2;
        size_t len2;
        CHECK_EQ(ferrule_conn_read_buf(p.server, &d2, &len2), FERRULE_OK);
        CHECK(d2 == d + part);
        CHECK_EQ(len2, len - part);
        CHECK_EQ(ferrule_conn_read_ack(p.server, len2), FERRULE_OK);
        off += len;
    }
    const uint8_t *d;
    size_t len;
    CHECK_EQ(ferrule_conn_read_buf(p.server, &d, &len), FERRULE_WANT_READ);
    CHECK_EQ(len, 0);
    pair_free(&p);
}

/* ---- equivalence with feed / take / read ------------------------------------------ */

TEST(output_buf_is_byte_exact_with_take) {
    /* At every step, what output_buf lends is exactly what take copies. */
    pair p;
    REQUIRE(new_pair(&p));
    static uint8_t lent[65536], taken[65536];
    for (int round = 0; round < 8; round++) {
        ferrule_conn *cs[2] = {p.client, p.server};
        for (int k = 0; k < 2; k++) {
            int st = ferrule_conn_handshake(cs[k]);
            CHECK(st == FERRULE_OK || st == FERRULE_WANT_READ);
            const uint8_t *o;
            size_t len, got = 0;
            CHECK_EQ(ferrule_conn_output_buf(cs[k], &o, &len), FERRULE_OK);
            REQUIRE(len <= sizeof(lent));
            if (len > 0) memcpy(lent, o, len);
            CHECK_EQ(ferrule_conn_output_ack(cs[k], 0), FERRULE_OK);
            CHECK_EQ(ferrule_conn_pending_output(cs[k]), len);
            CHECK_EQ(ferrule_conn_take(cs[k], taken, sizeof(taken), &got), FERRULE_OK);
            CHECK_EQ(got, len);
            CHECK_MEM(lent, taken, len);
            size_t used = 0;
            CHECK_EQ(ferrule_conn_feed(cs[1 - k], taken, got, &used), FERRULE_OK);
            CHECK_EQ(used, got);
        }
    }
    CHECK_EQ(ferrule_conn_handshake_state(p.client), FERRULE_HS_CONNECTED);
    CHECK_EQ(ferrule_conn_handshake_state(p.server), FERRULE_HS_CONNECTED);
    pair_free(&p);
}

TEST(read_buf_and_read_give_the_same_stream) {
    pair p;
    REQUIRE(new_pair(&p));
    REQUIRE(pair_handshake(&p, NULL, NULL));
    static uint8_t msg[30000], a[30000], b[30000];
    fill_pattern(msg, sizeof(msg), 11);
    size_t n = 0;
    /* The same bytes twice: read with ferrule_conn_read, then read_buf. */
    for (int pass = 0; pass < 2; pass++) {
        size_t done = 0, got = 0;
        for (int i = 0; i < 64 && got < sizeof(msg); i++) {
            if (done < sizeof(msg)) {
                int st = ferrule_conn_write(p.client, msg + done, sizeof(msg) - done, &n);
                REQUIRE(st == FERRULE_OK || st == FERRULE_WANT_WRITE);
                done += n;
            }
            pair_move(p.client, p.server);
            if (pass == 0) {
                while (ferrule_conn_read(p.server, a + got, sizeof(a) - got, &n) == FERRULE_OK)
                    got += n;
            } else {
                got += drain_read_buf(p.server, b + got, sizeof(b) - got, 777);
            }
        }
        CHECK_EQ(got, sizeof(msg));
    }
    CHECK_MEM(a, msg, sizeof(msg));
    CHECK_MEM(b, msg, sizeof(msg));
    pair_free(&p);
}

/* ---- flags ----------------------------------------------------------------------------- */

TEST(flags_at_each_step) {
    pair p;
    REQUIRE(new_pair(&p));
    /* A new client has not started; a new server waits for a ClientHello. */
    CHECK_EQ(ferrule_conn_flags(p.client), 0);
    CHECK_EQ(ferrule_conn_flags(p.server), FERRULE_FLAG_WANT_INPUT);
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_flags(p.client), FERRULE_FLAG_WANT_INPUT | FERRULE_FLAG_HAS_OUTPUT);
    pair_move(p.client, p.server);
    CHECK_EQ(ferrule_conn_flags(p.client), FERRULE_FLAG_WANT_INPUT);
    /* A whole record is buffered: not wanting input, work to do. */
    CHECK_EQ(ferrule_conn_flags(p.server), 0);
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_READ);
    /* Its Finished is queued: it may write 0.5-RTT data (RFC 8446 §2.3). */
    CHECK_EQ(ferrule_conn_flags(p.server),
             FERRULE_FLAG_WANT_INPUT | FERRULE_FLAG_HAS_OUTPUT | FERRULE_FLAG_APP_WRITABLE);
    pair_move(p.server, p.client);
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_OK);
    CHECK_EQ(ferrule_conn_flags(p.client), FERRULE_FLAG_WANT_INPUT | FERRULE_FLAG_HAS_OUTPUT |
                                               FERRULE_FLAG_APP_WRITABLE);
    pair_move(p.client, p.server);
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_OK);
    /* Tickets owed: output, writable. */
    uint32_t sf = ferrule_conn_flags(p.server);
    CHECK_EQ(sf & ~FERRULE_FLAG_HAS_OUTPUT, FERRULE_FLAG_WANT_INPUT | FERRULE_FLAG_APP_WRITABLE);
    pair_move(p.server, p.client);
    CHECK_EQ(ferrule_conn_flags(p.server), FERRULE_FLAG_WANT_INPUT | FERRULE_FLAG_APP_WRITABLE);
    size_t n;
    CHECK_EQ(ferrule_conn_write(p.server, (const uint8_t *)"hi", 2, &n), FERRULE_OK);
    pair_move(p.server, p.client);
    /* Tickets and data buffered: records wait, then data is readable. */
    const uint8_t *d;
    size_t len;
    CHECK_EQ(ferrule_conn_read_buf(p.client, &d, &len), FERRULE_OK);
    CHECK_EQ(len, 2);
    CHECK_EQ(ferrule_conn_flags(p.client), FERRULE_FLAG_APP_READABLE | FERRULE_FLAG_APP_WRITABLE);
    CHECK_EQ(ferrule_conn_read_ack(p.client, 2), FERRULE_OK);
    CHECK_EQ(ferrule_conn_flags(p.client), FERRULE_FLAG_WANT_INPUT | FERRULE_FLAG_APP_WRITABLE);
    /* close_notify: the server's flags say closed, the client's no longer
     * writable. */
    CHECK_EQ(ferrule_conn_close(p.client), FERRULE_OK);
    CHECK_EQ(ferrule_conn_flags(p.client), FERRULE_FLAG_WANT_INPUT | FERRULE_FLAG_HAS_OUTPUT);
    pair_move(p.client, p.server);
    CHECK_EQ(ferrule_conn_read_buf(p.server, &d, &len), FERRULE_CLOSED);
    CHECK_EQ(ferrule_conn_flags(p.server), FERRULE_FLAG_CLOSED | FERRULE_FLAG_APP_WRITABLE);
    pair_free(&p);
}

TEST(failure_shows_in_flags_and_its_alert_is_lent) {
    pair p;
    REQUIRE(new_pair(&p));
    REQUIRE(pair_handshake(&p, NULL, NULL));
    /* A record with a corrupted tag. */
    size_t n;
    CHECK_EQ(ferrule_conn_write(p.client, (const uint8_t *)"data", 4, &n), FERRULE_OK);
    uint8_t rec[64];
    size_t len = 0;
    CHECK_EQ(ferrule_conn_take(p.client, rec, sizeof(rec), &len), FERRULE_OK);
    rec[len - 1] ^= 1;
    CHECK_EQ(ferrule_conn_feed(p.server, rec, len, &n), FERRULE_OK);
    const uint8_t *d;
    size_t dl;
    CHECK_EQ(ferrule_conn_read_buf(p.server, &d, &dl), FERRULE_DECODE);
    CHECK_EQ(ferrule_conn_reason(p.server), FERRULE_R_BAD_RECORD_MAC);
    CHECK_EQ(ferrule_conn_flags(p.server), FERRULE_FLAG_FAILED | FERRULE_FLAG_HAS_OUTPUT);
    /* The receive calls return the sticky status and lend nothing. */
    uint8_t *ip;
    size_t cap = 99;
    CHECK_EQ(ferrule_conn_input_buf(p.server, &ip, &cap), FERRULE_DECODE);
    CHECK(ip == NULL && cap == 0);
    CHECK_EQ(ferrule_conn_read_buf(p.server, &d, &dl), FERRULE_DECODE);
    /* The output is still lent: the bad_record_mac alert. */
    const uint8_t *o;
    size_t ol;
    CHECK_EQ(ferrule_conn_output_buf(p.server, &o, &ol), FERRULE_OK);
    CHECK(ol > 0);
    uint8_t copy[64];
    REQUIRE(ol <= sizeof(copy));
    memcpy(copy, o, ol);
    CHECK_EQ(ferrule_conn_output_ack(p.server, ol), FERRULE_OK);
    CHECK_EQ(ferrule_conn_flags(p.server), FERRULE_FLAG_FAILED);
    CHECK_EQ(ferrule_conn_feed(p.client, copy, ol, &n), FERRULE_OK);
    CHECK_EQ(ferrule_conn_read_buf(p.client, &d, &dl), FERRULE_ALERT_RECEIVED);
    CHECK_EQ(ferrule_conn_alert(p.client), 20); /* bad_record_mac */
    pair_free(&p);
}

TEST(key_update_answer_shows_as_output_while_output_is_lent) {
    /* The receive half owes a KeyUpdate answer (RFC 8446 §4.6.3) while the
     * send half has its output borrowed (a send in progress): the answer
     * cannot be queued then, but the flags say output is due, and it comes
     * with the next borrow, without a write from the application. */
    pair p;
    REQUIRE(new_pair(&p));
    REQUIRE(pair_handshake(&p, NULL, NULL));
    pair_move(p.server, p.client); /* tickets */
    const uint8_t *o;
    size_t ol, n;
    uint8_t junk[64];
    CHECK_EQ(ferrule_conn_read(p.client, junk, sizeof(junk), &n), FERRULE_WANT_READ);
    /* The server's send half lends a record it is sending. */
    CHECK_EQ(ferrule_conn_write(p.server, (const uint8_t *)"old", 3, &n), FERRULE_OK);
    CHECK_EQ(ferrule_conn_output_buf(p.server, &o, &ol), FERRULE_OK);
    REQUIRE(ol > 0 && ol <= sizeof(junk));
    uint8_t lent[64];
    memcpy(lent, o, ol);
    size_t lent_len = ol;
    CHECK_EQ(ferrule_conn_key_update(p.client, 1), FERRULE_OK);
    pair_move(p.client, p.server);
    CHECK_EQ(ferrule_conn_read(p.server, junk, sizeof(junk), &n), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_status(p.server), FERRULE_OK);
    CHECK_EQ(ferrule_conn_key_updates_received(p.server), 1);
    CHECK(ferrule_conn_flags(p.server) & FERRULE_FLAG_HAS_OUTPUT);
    CHECK_MEM(o, lent, lent_len); /* the loan did not move */
    CHECK_EQ(ferrule_conn_pending_output(p.server), lent_len);
    CHECK_EQ(ferrule_conn_output_ack(p.server, lent_len), FERRULE_OK);
    /* Sent; the answer was made at the ack. */
    CHECK(ferrule_conn_flags(p.server) & FERRULE_FLAG_HAS_OUTPUT);
    CHECK(ferrule_conn_pending_output(p.server) > 0);
    CHECK_EQ(ferrule_conn_feed(p.client, lent, lent_len, &n), FERRULE_OK);
    CHECK_EQ(ferrule_conn_read(p.client, junk, sizeof(junk), &n), FERRULE_OK);
    CHECK_EQ(n, 3);
    pair_move(p.server, p.client);
    CHECK_EQ(ferrule_conn_read(p.client, junk, sizeof(junk), &n), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_key_updates_received(p.client), 1);
    /* Traffic both ways under the new keys. */
    CHECK_EQ(ferrule_conn_write(p.server, (const uint8_t *)"new", 3, &n), FERRULE_OK);
    pair_move(p.server, p.client);
    CHECK_EQ(ferrule_conn_read(p.client, junk, sizeof(junk), &n), FERRULE_OK);
    CHECK_EQ(n, 3);
    pair_free(&p);
}

/* ---- release ----------------------------------------------------------------------------- */

TEST(release_buffers_on_an_idle_connection_then_traffic) {
    pair p;
    REQUIRE(new_pair(&p));
    REQUIRE(pair_handshake(&p, NULL, NULL));
    pair_move(p.server, p.client);
    size_t n;
    uint8_t buf[64];
    CHECK_EQ(ferrule_conn_read(p.client, buf, sizeof(buf), &n), FERRULE_WANT_READ);
    /* Idle: nothing buffered, so nothing but the struct and peer state. */
    size_t idle_c = ferrule_conn_memory_used(p.client), idle_s = ferrule_conn_memory_used(p.server);
    CHECK(idle_c < ferrule_max_ciphertext_record());
    CHECK(idle_s < ferrule_max_ciphertext_record());
    /* Borrowing brings the input buffer back; an unused borrow and an
     * explicit release give it back. */
    uint8_t *ip;
    size_t cap;
    CHECK_EQ(ferrule_conn_input_buf(p.server, &ip, &cap), FERRULE_OK);
    CHECK_EQ(cap, ferrule_max_ciphertext_record());
    CHECK(ferrule_conn_memory_used(p.server) >= idle_s + cap);
    /* Not while lent. */
    CHECK_EQ(ferrule_conn_release_buffers(p.server), FERRULE_OK);
    CHECK(ferrule_conn_memory_used(p.server) >= idle_s + cap);
    CHECK_EQ(ferrule_conn_input_ack(p.server, 0), FERRULE_OK);
    CHECK_EQ(ferrule_conn_memory_used(p.server), idle_s);
    CHECK_EQ(ferrule_conn_release_buffers(p.server), FERRULE_OK);
    CHECK_EQ(ferrule_conn_release_buffers(p.client), FERRULE_OK);
    CHECK_EQ(ferrule_conn_memory_used(p.server), idle_s);
    /* Pending output is kept by a release. */
    CHECK_EQ(ferrule_conn_write(p.client, (const uint8_t *)"after", 5, &n), FERRULE_OK);
    size_t pending = ferrule_conn_pending_output(p.client);
    CHECK(pending > 0);
    CHECK_EQ(ferrule_conn_release_buffers(p.client), FERRULE_OK);
    CHECK_EQ(ferrule_conn_pending_output(p.client), pending);
    /* Traffic resumes both ways. */
    pair_move(p.client, p.server);
    CHECK_EQ(ferrule_conn_read(p.server, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK_EQ(n, 5);
    CHECK_MEM(buf, "after", 5);
    CHECK_EQ(ferrule_conn_write(p.server, buf, n, &n), FERRULE_OK);
    pair_move(p.server, p.client);
    CHECK_EQ(ferrule_conn_read(p.client, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK_EQ(n, 5);
    CHECK_EQ(ferrule_conn_memory_used(p.client), idle_c);
    CHECK_EQ(ferrule_conn_memory_used(p.server), idle_s);
    pair_free(&p);
}

/* ---- the batched call ------------------------------------------------------------------- */

/* One process() crossing per "socket read" of up to `chunk` bytes. */
static int process_pump(ferrule_conn *from, ferrule_conn *to, uint8_t *wire, size_t *wire_len,
                        size_t chunk, uint32_t *flags) {
    static uint8_t out[1 << 16];
    size_t off = 0;
    do {
        size_t k = *wire_len - off < chunk ? *wire_len - off : chunk, used = 0, w = 0;
        int st = ferrule_conn_process(to, wire + off, k, &used, out, sizeof(out), &w, flags);
        if (st != FERRULE_OK) return st;
        off += used;
        if (w > 0) {
            size_t fed = 0;
            if (ferrule_conn_feed(from, out, w, &fed) != FERRULE_OK || fed != w) return -1;
        }
        if (used == 0 && w == 0) break;
    } while (off < *wire_len);
    memmove(wire, wire + off, *wire_len - off);
    *wire_len -= off;
    return FERRULE_OK;
}

TEST(handshake_and_data_with_process) {
    pair p;
    REQUIRE(new_pair(&p));
    static uint8_t wire[1 << 16], out[1 << 16];
    size_t wl = 0, w = 0, used = 0;
    uint32_t cf = 0, sf = 0;
    /* The client starts: no input, its ClientHello comes out. */
    CHECK_EQ(ferrule_conn_process(p.client, NULL, 0, &used, wire, sizeof(wire), &wl, &cf),
             FERRULE_OK);
    CHECK(wl > 0);
    CHECK_EQ(cf, FERRULE_FLAG_WANT_INPUT);
    /* Server: ClientHello in, its flight out (into the client directly). */
    CHECK_EQ(ferrule_conn_process(p.server, wire, wl, &used, out, sizeof(out), &w, &sf),
             FERRULE_OK);
    CHECK_EQ(used, wl);
    CHECK_EQ(sf, FERRULE_FLAG_WANT_INPUT | FERRULE_FLAG_APP_WRITABLE); /* 0.5-RTT */
    /* Client: the server's flight in 100-byte reads; its Finished out. */
    memcpy(wire, out, w);
    wl = w;
    CHECK_EQ(process_pump(p.server, p.client, wire, &wl, 100, &cf), FERRULE_OK);
    CHECK_EQ(wl, 0);
    /* The server processes the Finished it was fed: no new input. */
    CHECK_EQ(ferrule_conn_process(p.server, NULL, 0, &used, out, sizeof(out), &w, &sf),
             FERRULE_OK);
    CHECK(w > 0); /* its tickets */
    CHECK_EQ(sf, FERRULE_FLAG_WANT_INPUT | FERRULE_FLAG_APP_WRITABLE);
    CHECK_EQ(ferrule_conn_handshake_state(p.client), FERRULE_HS_CONNECTED);
    CHECK_EQ(ferrule_conn_handshake_state(p.server), FERRULE_HS_CONNECTED);
    CHECK(cf & FERRULE_FLAG_APP_WRITABLE);
    /* Data, with the server's tickets in front: one crossing, the data is
     * left for read_buf. */
    size_t n;
    CHECK_EQ(ferrule_conn_write(p.server, (const uint8_t *)"pong", 4, &n), FERRULE_OK);
    memcpy(wire, out, w);
    size_t more = 0;
    CHECK_EQ(ferrule_conn_take(p.server, wire + w, sizeof(wire) - w, &more), FERRULE_OK);
    wl = w + more;
    CHECK_EQ(ferrule_conn_process(p.client, wire, wl, &used, out, sizeof(out), &w, &cf),
             FERRULE_OK);
    CHECK_EQ(used, wl);
    CHECK_EQ(w, 0);
    CHECK_EQ(cf, FERRULE_FLAG_APP_READABLE | FERRULE_FLAG_APP_WRITABLE);
    const uint8_t *d;
    size_t dl;
    CHECK_EQ(ferrule_conn_read_buf(p.client, &d, &dl), FERRULE_OK);
    CHECK_EQ(dl, 4);
    CHECK_MEM(d, "pong", 4);
    /* process() while data is lent is a misuse. */
    CHECK_EQ(ferrule_conn_process(p.client, NULL, 0, &used, out, sizeof(out), &w, &cf),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_BUFFER_LENT);
    CHECK_EQ(ferrule_conn_read_ack(p.client, 4), FERRULE_OK);
    pair_free(&p);
}

TEST(process_drains_the_alert_of_a_failure) {
    pair p;
    REQUIRE(new_pair(&p));
    static uint8_t junk[64], out[4096];
    memset(junk, 0x16, sizeof(junk)); /* handshake records of garbage */
    size_t used = 0, w = 0;
    uint32_t f = 0;
    CHECK_EQ(ferrule_conn_process(p.server, junk, sizeof(junk), &used, out, sizeof(out), &w, &f),
             FERRULE_DECODE);
    CHECK(w > 0); /* the alert */
    CHECK_EQ(f, FERRULE_FLAG_FAILED);
    CHECK_EQ(out[0], 21); /* alert record */
    pair_free(&p);
}

/* ---- misuse --------------------------------------------------------------------------------- */

/* A usage error with this reason, and the memory use unchanged. */
#define CHECK_MISUSE(conn, call, r)                                                                \
    do {                                                                                           \
        size_t mu_ = ferrule_conn_memory_used(conn);                                               \
        CHECK_EQ((call), FERRULE_USAGE);                                                           \
        CHECK_EQ(ferrule_conn_reason(conn), (r));                                                  \
        CHECK_EQ(ferrule_conn_status(conn), FERRULE_OK);                                           \
        CHECK_EQ(ferrule_conn_memory_used(conn), mu_);                                             \
    } while (0)

TEST(every_misuse_is_a_usage_error_that_changes_nothing) {
    pair p;
    REQUIRE(new_pair(&p));
    REQUIRE(pair_handshake(&p, NULL, NULL));
    pair_move(p.server, p.client);
    ferrule_conn *c = p.client, *s = p.server;
    uint8_t *ip, buf[64];
    const uint8_t *op, *dp;
    size_t cap, len, n;
    /* NULL. */
    CHECK_EQ(ferrule_conn_input_buf(NULL, &ip, &cap), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_input_ack(NULL, 0), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_output_buf(NULL, &op, &len), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_output_ack(NULL, 0), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_read_buf(NULL, &dp, &len), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_read_ack(NULL, 0), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_release_buffers(NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_flags(NULL), 0);
    CHECK_EQ(ferrule_conn_process(NULL, NULL, 0, &n, buf, 1, &len, NULL), FERRULE_USAGE);
    CHECK_MISUSE(c, ferrule_conn_input_buf(c, NULL, &cap), FERRULE_R_NULL_ARGUMENT);
    CHECK_MISUSE(c, ferrule_conn_input_buf(c, &ip, NULL), FERRULE_R_NULL_ARGUMENT);
    CHECK_MISUSE(c, ferrule_conn_output_buf(c, NULL, &len), FERRULE_R_NULL_ARGUMENT);
    CHECK_MISUSE(c, ferrule_conn_read_buf(c, &dp, NULL), FERRULE_R_NULL_ARGUMENT);
    CHECK_MISUSE(c, ferrule_conn_process(c, NULL, 5, &n, buf, 1, &len, NULL),
                 FERRULE_R_NULL_ARGUMENT);
    CHECK_MISUSE(c, ferrule_conn_process(c, NULL, 0, NULL, buf, 1, &len, NULL),
                 FERRULE_R_NULL_ARGUMENT);
    /* Acks without a borrow. */
    CHECK_MISUSE(c, ferrule_conn_input_ack(c, 0), FERRULE_R_BUFFER_NOT_LENT);
    CHECK_MISUSE(c, ferrule_conn_output_ack(c, 0), FERRULE_R_BUFFER_NOT_LENT);
    CHECK_MISUSE(c, ferrule_conn_read_ack(c, 0), FERRULE_R_BUFFER_NOT_LENT);
    /* Input: borrowed twice, acked beyond, feed and process meanwhile. */
    CHECK_EQ(ferrule_conn_input_buf(c, &ip, &cap), FERRULE_OK);
    uint8_t *ip2 = (uint8_t *)buf;
    size_t cap2 = 7;
    CHECK_MISUSE(c, ferrule_conn_input_buf(c, &ip2, &cap2), FERRULE_R_BUFFER_LENT);
    CHECK(ip2 == NULL && cap2 == 0);
    CHECK_MISUSE(c, ferrule_conn_input_ack(c, cap + 1), FERRULE_R_ACK_TOO_LARGE);
    CHECK_MISUSE(c, ferrule_conn_feed(c, buf, 1, &n), FERRULE_R_BUFFER_LENT);
    CHECK_MISUSE(c, ferrule_conn_process(c, NULL, 0, &n, buf, 1, &len, NULL),
                 FERRULE_R_BUFFER_LENT);
    /* Still lent after the misuse: the ack works. */
    CHECK_EQ(ferrule_conn_input_ack(c, 0), FERRULE_OK);
    /* Output: borrowed twice, acked beyond, producers meanwhile. */
    CHECK_EQ(ferrule_conn_write(c, (const uint8_t *)"x", 1, &n), FERRULE_OK);
    CHECK_EQ(ferrule_conn_output_buf(c, &op, &len), FERRULE_OK);
    CHECK(len > 0);
    const uint8_t *op2;
    size_t len2;
    CHECK_MISUSE(c, ferrule_conn_output_buf(c, &op2, &len2), FERRULE_R_BUFFER_LENT);
    CHECK_MISUSE(c, ferrule_conn_output_ack(c, len + 1), FERRULE_R_ACK_TOO_LARGE);
    CHECK_MISUSE(c, ferrule_conn_take(c, buf, sizeof(buf), &n), FERRULE_R_BUFFER_LENT);
    CHECK_MISUSE(c, ferrule_conn_write(c, (const uint8_t *)"y", 1, &n), FERRULE_R_BUFFER_LENT);
    CHECK_MISUSE(c, ferrule_conn_key_update(c, 0), FERRULE_R_BUFFER_LENT);
    CHECK_MISUSE(c, ferrule_conn_close(c), FERRULE_R_BUFFER_LENT);
    CHECK_MISUSE(c, ferrule_conn_flush(c), FERRULE_R_BUFFER_LENT);
    CHECK_EQ(ferrule_conn_pending_output(c), len);
    CHECK_EQ(ferrule_conn_output_ack(c, 0), FERRULE_OK);
    CHECK_EQ(ferrule_conn_pending_output(c), len);
    pair_move(c, s);
    /* Application data: borrowed twice, acked beyond, read meanwhile. */
    CHECK_EQ(ferrule_conn_read_buf(s, &dp, &len), FERRULE_OK);
    CHECK_EQ(len, 1);
    CHECK_MISUSE(s, ferrule_conn_read_buf(s, &op2, &len2), FERRULE_R_BUFFER_LENT);
    CHECK_MISUSE(s, ferrule_conn_read_ack(s, 2), FERRULE_R_ACK_TOO_LARGE);
    CHECK_MISUSE(s, ferrule_conn_read(s, buf, sizeof(buf), &n), FERRULE_R_BUFFER_LENT);
    CHECK_EQ(*dp, 'x');
    CHECK_EQ(ferrule_conn_read_ack(s, 1), FERRULE_OK);
    CHECK_EQ(ferrule_conn_read(s, buf, sizeof(buf), &n), FERRULE_WANT_READ);
    /* The connection still works. */
    CHECK_EQ(ferrule_conn_write(s, (const uint8_t *)"ok", 2, &n), FERRULE_OK);
    pair_move(s, c);
    CHECK_EQ(ferrule_conn_read(c, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK_EQ(n, 2);
    pair_free(&p);
}

static long io_send(void *ctx, const uint8_t *d, size_t n) {
    (void)ctx;
    (void)d;
    return (long)n;
}
static long io_recv(void *ctx, uint8_t *b, size_t n) {
    (void)ctx;
    (void)b;
    (void)n;
    return FERRULE_IO_WOULD_BLOCK;
}

/* The ciphertext loans and process are for buffer I/O; the plaintext
 * loan also works with callback I/O (test_callback_io:
 * blocking_socketpair_read_in_place). */
TEST(ciphertext_loans_are_refused_with_callback_io) {
    pair p;
    REQUIRE(new_pair(&p));
    ferrule_io_callbacks io;
    memset(&io, 0, sizeof(io));
    io.struct_size = sizeof(io);
    io.send = io_send;
    io.recv = io_recv;
    CHECK_EQ(ferrule_conn_set_io(p.client, &io), FERRULE_OK);
    uint8_t *ip, buf[8];
    const uint8_t *op;
    size_t cap, n;
    CHECK_MISUSE(p.client, ferrule_conn_input_buf(p.client, &ip, &cap), FERRULE_R_WRONG_STATE);
    CHECK_MISUSE(p.client, ferrule_conn_output_buf(p.client, &op, &cap), FERRULE_R_WRONG_STATE);
    CHECK_MISUSE(p.client, ferrule_conn_input_ack(p.client, 0), FERRULE_R_WRONG_STATE);
    CHECK_MISUSE(p.client, ferrule_conn_process(p.client, NULL, 0, &n, buf, 8, &cap, NULL),
                 FERRULE_R_WRONG_STATE);
    pair_free(&p);
}

/* ---- random interleaving ------------------------------------------------------------------- */

static uint64_t rng_state;
static unsigned rnd(unsigned n) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)((rng_state >> 33) % n);
}

/* Move some of from's output to `to`, by a random method and amount:
 * output_buf/ack or take out, input_buf/ack or feed in. */
static void random_move(ferrule_conn *from, ferrule_conn *to) {
    static uint8_t tmp[1 << 15];
    const uint8_t *src = NULL;
    uint8_t *dst;
    size_t len = 0, cap = 0, n = 0;
    int zero_copy_out = (int)rnd(2), zero_copy_in = (int)rnd(2);
    if (zero_copy_out) {
        REQUIRE(ferrule_conn_output_buf(from, &src, &len) == FERRULE_OK);
    } else {
        len = ferrule_conn_pending_output(from);
    }
    REQUIRE(ferrule_conn_input_buf(to, &dst, &cap) == FERRULE_OK);
    size_t k = len < cap ? len : cap;
    if (k > 0 && rnd(4) != 0) k = 1 + rnd((unsigned)(k < 3000 ? k : 3000));
    if (!zero_copy_in) {
        /* Borrowed only to learn the room; fed by copy below. */
        CHECK_EQ(ferrule_conn_input_ack(to, 0), FERRULE_OK);
        dst = tmp;
    }
    if (zero_copy_out) {
        if (k > 0) memcpy(dst, src, k);
    } else if (k > 0) {
        REQUIRE(ferrule_conn_take(from, dst, k, &n) == FERRULE_OK);
        CHECK_EQ(n, k);
    }
    if (zero_copy_in) {
        CHECK_EQ(ferrule_conn_input_ack(to, k), FERRULE_OK);
    } else if (k > 0) {
        REQUIRE(ferrule_conn_feed(to, tmp, k, &n) == FERRULE_OK);
        CHECK_EQ(n, k);
    }
    if (zero_copy_out) CHECK_EQ(ferrule_conn_output_ack(from, k), FERRULE_OK);
    /* A misuse now and then: refused, nothing changes. */
    if (rnd(8) == 0) CHECK_EQ(ferrule_conn_output_ack(from, 1), FERRULE_USAGE);
    if (rnd(8) == 0) CHECK_EQ(ferrule_conn_input_ack(to, 0), FERRULE_USAGE);
}

/* Read what `c` has, by read or read_buf, into sink. */
static void random_read(ferrule_conn *c, uint8_t *sink, size_t *got, size_t cap) {
    for (int i = 0; i < 8; i++) {
        size_t n = 0;
        if (rnd(2)) {
            size_t want = 1 + rnd(20000);
            if (want > cap - *got) want = cap - *got;
            if (want == 0 || ferrule_conn_read(c, sink + *got, want, &n) != FERRULE_OK) return;
        } else {
            const uint8_t *d;
            size_t len;
            if (ferrule_conn_read_buf(c, &d, &len) != FERRULE_OK) return;
            n = rnd(2) ? len : rnd((unsigned)len + 1);
            if (n > cap - *got) n = cap - *got;
            memcpy(sink + *got, d, n);
            CHECK_EQ(ferrule_conn_read_ack(c, n), FERRULE_OK);
        }
        *got += n;
    }
}

static void interleave_once(uint64_t seed) {
    rng_state = seed;
    pair p;
    REQUIRE(new_pair(&p));
    /* The handshake, moving bytes at random. */
    for (int i = 0; i < 400 && (ferrule_conn_handshake_state(p.client) != FERRULE_HS_CONNECTED ||
                                ferrule_conn_handshake_state(p.server) != FERRULE_HS_CONNECTED);
         i++) {
        int st = ferrule_conn_handshake(rnd(2) ? p.client : p.server);
        REQUIRE(st == FERRULE_OK || st == FERRULE_WANT_READ);
        random_move(p.client, p.server);
        random_move(p.server, p.client);
    }
    REQUIRE(ferrule_conn_handshake(p.client) == FERRULE_OK);
    REQUIRE(ferrule_conn_handshake(p.server) == FERRULE_OK);
    /* Data both ways, with random KeyUpdates and releases. */
    static uint8_t msg[2][50000], sink[2][50000];
    fill_pattern(msg[0], sizeof(msg[0]), (unsigned)seed);
    fill_pattern(msg[1], sizeof(msg[1]), (unsigned)seed + 1);
    size_t sent[2] = {0, 0}, got[2] = {0, 0};
    ferrule_conn *side[2] = {p.client, p.server};
    for (int i = 0; i < 3000 && (got[0] < sizeof(msg[0]) || got[1] < sizeof(msg[1])); i++) {
        int k = (int)rnd(2);
        ferrule_conn *a = side[k], *b = side[1 - k];
        switch (rnd(6)) {
        case 0:
        case 1: {
            size_t n = 0, want = 1 + rnd(20000);
            if (want > sizeof(msg[k]) - sent[k]) want = sizeof(msg[k]) - sent[k];
            if (want == 0) break;
            int st = ferrule_conn_write(a, msg[k] + sent[k], want, &n);
            CHECK(st == FERRULE_OK || st == FERRULE_WANT_WRITE);
            sent[k] += n;
            break;
        }
        case 2:
        case 3: random_move(a, b); break;
        case 4: random_read(b, sink[k], &got[k], sizeof(sink[k])); break;
        default:
            if (rnd(3) == 0) CHECK_EQ(ferrule_conn_key_update(a, (int)rnd(2)), FERRULE_OK);
            else CHECK_EQ(ferrule_conn_release_buffers(a), FERRULE_OK);
        }
    }
    CHECK_EQ(ferrule_conn_status(p.client), FERRULE_OK);
    CHECK_EQ(ferrule_conn_status(p.server), FERRULE_OK);
    CHECK_EQ(got[0], sizeof(msg[0]));
    CHECK_EQ(got[1], sizeof(msg[1]));
    CHECK_MEM(sink[0], msg[0], got[0]);
    CHECK_MEM(sink[1], msg[1], got[1]);
    pair_free(&p);
}

TEST(random_interleaving_of_buffer_api_and_feed_take) {
    for (uint64_t seed = 1; seed <= 24; seed++) interleave_once(seed);
}

TEST_MAIN("buffer_api", TL_CASE(handshake_and_data_over_the_buffer_api_only),
          TL_CASE(drip_feed_one_byte_at_a_time), TL_CASE(in_place_reads_across_record_boundaries),
          TL_CASE(output_buf_is_byte_exact_with_take),
          TL_CASE(read_buf_and_read_give_the_same_stream), TL_CASE(flags_at_each_step),
          TL_CASE(failure_shows_in_flags_and_its_alert_is_lent),
          TL_CASE(key_update_answer_shows_as_output_while_output_is_lent),
          TL_CASE(release_buffers_on_an_idle_connection_then_traffic),
          TL_CASE(handshake_and_data_with_process), TL_CASE(process_drains_the_alert_of_a_failure),
          TL_CASE(every_misuse_is_a_usage_error_that_changes_nothing),
          TL_CASE(ciphertext_loans_are_refused_with_callback_io),
          TL_CASE(random_interleaving_of_buffer_api_and_feed_take))
