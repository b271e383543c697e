/* test_neg_reassembly.c - handshake messages over records (RFC 8446 §5.1):
 * fragmentation and coalescing, other records interleaved with a
 * fragmented message, messages spanning a key change, and the length a
 * message header announces (refused from the header when impossible for
 * the type, over the configured cap or over the memory ceiling).  One row
 * per case, played by support_neg.c. */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "record.h"
#include "support_neg.h"

/* ---- interleaving ----------------------------------------------------------- */

/* Split record `at` after `head` bytes (the tail becomes record at + 1)
 * and insert a copy of record `like` between the halves; returns it. */
static mrec *split_with(fx *x, size_t at, size_t head, size_t like) {
    mrec *tail = mf_insert_copy(x->f, at + 1, at);
    CHECK(tail != NULL);
    if (tail == NULL) return NULL;
    memmove(tail->data, tail->data + head, tail->len - head);
    tail->len -= head;
    x->f->r[at].len = head;
    return mf_insert_copy(x->f, at + 1, like);
}

NEG_EDIT(plain_alert_inside_fragmented_message) {
    mrec *a = split_with(x, 2, 3, 1);
    if (a == NULL) return -1;
    a->type = FR_CT_ALERT;
    a->data[0] = 2;
    a->data[1] = FERRULE_ALERT_HANDSHAKE_FAILURE;
    a->len = 2;
    return fx_flight_deliver(x);
}

NEG_EDIT(interleaved_alert_plain) {
    /* ClientHello split over two records with an alert between them. */
    static const uint8_t warn[2] = {1, FERRULE_ALERT_USER_CANCELED};
    mrec *a = split_with(x, 0, 10, 0);
    if (a == NULL) return -1;
    a->type = FR_CT_ALERT;
    memcpy(a->data, warn, 2);
    a->len = 2;
    return fx_to_server(x);
}

NEG_EDIT(interleaved_alert_protected) {
    /* EncryptedExtensions split, a protected (fatal) alert in between: the
     * interleaving is detected before the alert is acted upon. */
    mrec *a = split_with(x, 2, 3, 2);
    if (a == NULL) return -1;
    a->inner = FR_CT_ALERT;
    a->data[0] = 2;
    a->data[1] = FERRULE_ALERT_HANDSHAKE_FAILURE;
    a->len = 2;
    return fx_flight_deliver(x);
}

NEG_EDIT(interleaved_app_data) {
    /* KeyUpdate split over two records with application data in between. */
    static const uint8_t ku[5] = {FR_HS_KEY_UPDATE, 0, 0, 1, 0};
    const uint8_t *k = SEC(x, SERVER, SAP);
    mf_add_prot(x->f, FR_CT_HANDSHAKE, ku, 2, k);
    mf_add_prot(x->f, FR_CT_APPLICATION_DATA, (const uint8_t *)"x", 1, k);
    mf_add_prot(x->f, FR_CT_HANDSHAKE, ku + 2, 3, k);
    CHECK(mf_send(x->f, CL(x)));
    return fx_read(CL(x));
}

NEG_EDIT(message_spans_key_change) {
    /* ServerHello followed, in the same record, by a byte of the next
     * message (which must come under the new keys).  The client had
     * already switched to handshake keys: the server reads its alert. */
    x->f->r[0].data[x->f->r[0].len++] = FR_HS_ENCRYPTED_EXTENSIONS;
    return fx_flight_deliver(x);
}

/* ---- fragmentation (positive) ----------------------------------------------- */

NEG_EDIT(client_hello_one_byte_records) {
    /* The record layer reassembles a ClientHello sent one byte per record
     * (RFC 8446 §5.1 allows any fragmentation). */
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
    free(buf);
    return st;
}

NEG_POST(one_byte_records_then_connect) {
    CHECK_EQ(ferrule_conn_handshake_state(SV(x)), FERRULE_HS_WAIT_CLIENT_FINISHED);
    CHECK(mitm_pass(SV(x), CL(x)));
    CHECK_EQ(ferrule_conn_handshake(CL(x)), FERRULE_OK);
    CHECK(mitm_pass(CL(x), SV(x)));
    CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_OK);
    EXCHANGE(SV(x), CL(x), "reassembled");
}

NEG_EDIT(flight_coalesced) {
    /* EncryptedExtensions .. Finished in one record. */
    mflight *f = x->f;
    for (size_t i = 3; i < 6; i++) {
        memcpy(f->r[2].data + f->r[2].len, f->r[i].data, f->r[i].len);
        f->r[2].len += f->r[i].len;
    }
    f->n = 3;
    return fx_flight_deliver(x);
}

NEG_EDIT(flight_fragmented) {
    /* The Certificate in three pieces. */
    mflight *f = x->f;
    mrec *b = mf_insert_copy(f, 4, 3);
    mrec *c = mf_insert_copy(f, 5, 3);
    size_t len = f->r[3].len, a1 = 1, a2 = len / 2;
    memmove(b->data, b->data + a1, a2 - a1);
    b->len = a2 - a1;
    memmove(c->data, c->data + a2, len - a2);
    c->len = len - a2;
    f->r[3].len = a1;
    return fx_flight_deliver(x);
}

/* ---- announced lengths ------------------------------------------------------ */

NEG_CFG(client_cap_1024) {
    ferrule_config *cc = fx_client_config();
    CHECK(cc != NULL);
    if (cc != NULL) CHECK_EQ(ferrule_config_set_max_handshake_message(cc, 1024), FERRULE_OK);
    return cc;
}
NEG_CFG(rsa_server) { return pair_server_config("rsa"); }

NEG_EDIT(certificate_over_cap) {
    /* The client caps handshake messages at 1024 bytes; an RSA chain's
     * Certificate is larger. */
    CHECK(x->f->r[3].len > 1024 + 4);
    return fx_flight_deliver(x);
}

NEG_POST(cap_is_named) {
    CHECK(strstr(ferrule_reason_message(FERRULE_R_HANDSHAKE_TOO_LARGE), "max_handshake_message") !=
          NULL);
}

NEG_EDIT(unexpected_type_header) {
    /* A message type the state never takes is refused as soon as its
     * header is in, whatever length it announces (here 6.6 MB, "hello"
     * read as a header): nothing of it is buffered. */
    static const uint8_t rec[10] = {22, 3, 1, 0, 5, 'h', 'e', 'l', 'l', 'o'};
    return fx_server_gets(x, rec, sizeof(rec));
}

NEG_EDIT(client_hello_header_of_length) {
    /* The largest ClientHello RFC 8446 §4.1.2 allows is 131,396 bytes
     * (every list at its maximum), also the default cap: a header
     * announcing one byte more (arg 1) is malformed by syntax; one
     * announcing exactly that (arg 0) just waits for more. */
    if (arg == 0) CHECK_EQ(FR_MAX_CLIENT_HELLO, 131396);
    size_t len = FR_MAX_CLIENT_HELLO + (size_t)arg;
    const uint8_t rec[9] = {22, 3, 1, 0, 4, 1, (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                            (uint8_t)len};
    return fx_server_gets(x, rec, sizeof(rec));
}

NEG_POST(still_fine) { CHECK_EQ(ferrule_conn_status(SV(x)), FERRULE_OK); }

NEG_CFG(server_cap_65536) {
    ferrule_config *sc = fx_server_config();
    NEG_REQUIRE_CFG(sc);
    CHECK_EQ(ferrule_config_set_max_handshake_message(sc, 65536), FERRULE_OK);
    return sc;
}

NEG_EDIT(client_hello_over_configured_cap) {
    /* Below the syntax limit but above a configured cap: our policy, named
     * as such (handshake_too_large, handshake_failure), from the header. */
    const uint8_t rec[9] = {22, 3, 1, 0, 4, 1, 1, 0, 1}; /* 65,537 bytes */
    return fx_server_gets(x, rec, sizeof(rec));
}

/* From the 4-byte header, before any body is held: a KeyUpdate of other
 * than one byte, an EncryptedExtensions longer than its length prefix
 * allows: decode_error (tlsfuzzer's Finished "pad_right 196608" got
 * handshake_failure from our cap). */
static const uint8_t impossible[5][4] = {
    {FR_HS_ENCRYPTED_EXTENSIONS, 0x01, 0x00, 0x02}, /* 65,538 */
    {FR_HS_ENCRYPTED_EXTENSIONS, 0x03, 0x00, 0x00}, /* 196,608 */
    {FR_HS_KEY_UPDATE, 0, 0, 2},
    {FR_HS_KEY_UPDATE, 0, 0, 0},
    {FR_HS_KEY_UPDATE, 0x03, 0x00, 0x00},
};

NEG_EDIT(ee_header_impossible) {
    memcpy(x->f->r[2].data, impossible[arg], 4); /* EncryptedExtensions' header */
    return fx_flight_deliver(x);
}

NEG_EDIT(post_handshake_header_impossible) {
    CHECK(mf_add_prot(x->f, FR_CT_HANDSHAKE, impossible[arg], 4, SEC(x, SERVER, SAP)) != NULL);
    return fx_client_reads(x);
}

NEG_EDIT(client_finished_header) {
    /* The client's Finished (the server reads it) announcing arg bytes:
     * decode_error from the header, whatever the cap, and nothing of the
     * body is waited for. */
    size_t len = (size_t)arg;
    mrec *r = &x->f->r[1];
    r->data[1] = (uint8_t)(len >> 16);
    r->data[2] = (uint8_t)(len >> 8);
    r->data[3] = (uint8_t)len;
    r->len = 4;
    return fx_to_server(x);
}

NEG_CFG(server_memory_96k) {
    ferrule_config *sc = fx_server_config();
    NEG_REQUIRE_CFG(sc);
    CHECK_EQ(ferrule_config_set_memory_limit(sc, 96 * 1024), FERRULE_OK);
    return sc;
}

NEG_EDIT(client_hello_over_memory_ceiling) {
    /* A ClientHello of 131,071 bytes (legal, and under the default cap)
     * cannot be reassembled under a 96 KiB memory ceiling: a clean POLICY
     * failure, not a crash. */
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
    free(rec);
    return st;
}

NEG_POST(within_ceiling) { CHECK(ferrule_conn_memory_used(SV(x)) <= 96 * 1024); }

/* ---- the table -------------------------------------------------------------- */

#define CL_FLIGHT(edit, arg) NEG_FLIGHT, edit, arg, NEG_CLIENT
#define SV_FRESH(edit, arg) NEG_SERVER_FRESH, edit, arg, NEG_SERVER
#define INTERLEAVED NEG_FAILS(ALERT_SENT, INTERLEAVED, UNEXPECTED_MESSAGE)
#define DECODE_ERR NEG_FAILS(DECODE, DECODE_ERROR, DECODE_ERROR)
#define TOO_LARGE NEG_FAILS(POLICY, HANDSHAKE_TOO_LARGE, HANDSHAKE_FAILURE)

static const neg_row rows[] = {
    {"rec_plaintext_alert_inside_fragmented_message",
     CL_FLIGHT(plain_alert_inside_fragmented_message, 0), INTERLEAVED, NEG_PEER_ALERT},
    {"rec_interleaved_alert_plain", NEG_CLIENT_HELLO, interleaved_alert_plain, 0, NEG_SERVER,
     INTERLEAVED, NEG_PEER_ALERT},
    {"rec_interleaved_alert_protected", CL_FLIGHT(interleaved_alert_protected, 0), INTERLEAVED,
     NEG_PEER_ALERT},
    {"rec_interleaved_app_data", NEG_CONNECTED, interleaved_app_data, 0, NEG_CLIENT, INTERLEAVED,
     NEG_PEER_ALERT},
    {"rec_message_spans_key_change", CL_FLIGHT(message_spans_key_change, 0),
     NEG_FAILS(ALERT_SENT, UNALIGNED_HANDSHAKE, UNEXPECTED_MESSAGE), NEG_PEER_ALERT},
    {"rec_fragmented_client_hello_one_byte_records", NEG_CLIENT_HELLO,
     client_hello_one_byte_records, 0, NEG_SERVER, NEG_GIVES(WANT_READ), NEG_PEER_NONE,
     .post = one_byte_records_then_connect},
    {"rec_flight_coalesced_and_fragmented/coalesced", CL_FLIGHT(flight_coalesced, 0),
     NEG_GIVES(OK), NEG_PEER_NONE, .post = neg_post_connect},
    {"rec_flight_coalesced_and_fragmented/fragmented", CL_FLIGHT(flight_fragmented, 0),
     NEG_GIVES(OK), NEG_PEER_NONE, .post = neg_post_connect},
    /* Our cap, not a malformed message of the peer's: a policy refusal
     * whose reason names the cap, with handshake_failure. */
    {"rec_handshake_too_large_certificate", CL_FLIGHT(certificate_over_cap, 0), TOO_LARGE,
     NEG_PEER_ALERT, client_cap_1024, rsa_server, cap_is_named},
    {"rec_handshake_unexpected_type_refused_from_its_header", SV_FRESH(unexpected_type_header, 0),
     NEG_FAILS(ALERT_SENT, UNEXPECTED_MESSAGE, UNEXPECTED_MESSAGE), NEG_PEER_ALERT},
    {"rec_handshake_too_large_forged_header/exact", SV_FRESH(client_hello_header_of_length, 0),
     NEG_GIVES(WANT_READ), NEG_PEER_NONE, .post = still_fine},
    {"rec_handshake_too_large_forged_header/over", SV_FRESH(client_hello_header_of_length, 1),
     DECODE_ERR, NEG_PEER_ALERT},
    {"rec_handshake_over_a_configured_cap", SV_FRESH(client_hello_over_configured_cap, 0),
     TOO_LARGE, NEG_PEER_ALERT, .server_cfg = server_cap_65536},
    {"rec_handshake_length_impossible_for_its_type/ee_65538", CL_FLIGHT(ee_header_impossible, 0),
     DECODE_ERR, NEG_PEER_NONE},
    {"rec_handshake_length_impossible_for_its_type/ee_196608",
     CL_FLIGHT(ee_header_impossible, 1), DECODE_ERR, NEG_PEER_NONE},
    {"rec_handshake_length_impossible_for_its_type/key_update_2", NEG_CONNECTED,
     post_handshake_header_impossible, 2, NEG_CLIENT, DECODE_ERR, NEG_PEER_NONE},
    {"rec_handshake_length_impossible_for_its_type/key_update_0", NEG_CONNECTED,
     post_handshake_header_impossible, 3, NEG_CLIENT, DECODE_ERR, NEG_PEER_NONE},
    {"rec_handshake_length_impossible_for_its_type/key_update_196608", NEG_CONNECTED,
     post_handshake_header_impossible, 4, NEG_CLIENT, DECODE_ERR, NEG_PEER_NONE},
    {"rec_finished_length_from_its_header/196608", NEG_CLIENT_FINISHED, client_finished_header,
     196608, NEG_SERVER, DECODE_ERR, NEG_PEER_NONE},
    {"rec_finished_length_from_its_header/hash_plus_1", NEG_CLIENT_FINISHED,
     client_finished_header, 33, NEG_SERVER, DECODE_ERR, NEG_PEER_NONE},
    {"rec_reassembly_memory_ceiling", SV_FRESH(client_hello_over_memory_ceiling, 0),
     NEG_FAILS(POLICY, MEMORY_LIMIT, INTERNAL_ERROR), NEG_PEER_ALERT,
     .server_cfg = server_memory_96k, .post = within_ceiling},
};

NEG_MAIN("neg_reassembly", rows)
