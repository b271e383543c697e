/* test_neg_record.c - the record layer (RFC 8446 §5): framing, sizes,
 * legacy versions, content types, protection, alerts and empty records.
 * One row per case, played by support_neg.c. */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "record.h"
#include "support_neg.h"

/* ---- framing and sizes ------------------------------------------------------ */

NEG_EDIT(truncated_header_then_eof) {
    static const uint8_t part[3] = {22, 3, 1};
    CHECK_EQ(fx_server_gets(x, part, sizeof(part)), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_feed_eof(SV(x)), FERRULE_OK);
    return ferrule_conn_handshake(SV(x));
}

NEG_EDIT(truncated_body_then_eof) {
    /* The client gets the server flight minus its last 10 bytes. */
    uint8_t *buf = malloc(65536);
    size_t n = mf_serialize(x->f, 0, buf, 65536);
    CHECK(n > 10);
    CHECK(mitm_feed(CL(x), buf, n - 10));
    free(buf);
    CHECK_EQ(ferrule_conn_handshake(CL(x)), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_handshake_state(CL(x)), FERRULE_HS_WAIT_FINISHED);
    CHECK_EQ(ferrule_conn_feed_eof(CL(x)), FERRULE_OK);
    return ferrule_conn_handshake(CL(x));
}

NEG_EDIT(overflow_header) {
    /* 2^14 + 257: one more than any TLSCiphertext (RFC 8446 §5.2). */
    static const uint8_t hdr[5] = {22, 3, 1, 0x41, 0x01};
    return fx_server_gets(x, hdr, sizeof(hdr));
}

NEG_EDIT(overflow_plaintext) {
    /* A plaintext record may carry at most 2^14 bytes (RFC 8446 §5.1). */
    size_t len = 16385;
    uint8_t *rec = calloc(1, 5 + len);
    rec[0] = 22;
    rec[1] = 3;
    rec[2] = 1;
    rec[3] = (uint8_t)(len >> 8);
    rec[4] = (uint8_t)len;
    rec[5] = 1;
    int st = fx_server_gets(x, rec, 5 + len);
    free(rec);
    return st;
}

NEG_EDIT(overflow_protected_inner) {
    /* A protected record whose TLSInnerPlaintext exceeds 2^14 + 1 bytes,
     * though its ciphertext length is legal (RFC 8446 §5.2). */
    mrec *ee = &x->f->r[2];
    memset(ee->data, 0, 16385);
    ee->data[0] = 1;
    ee->len = 16385; /* + type byte = 16386 */
    x->f->n = 3;
    return fx_flight_deliver(x);
}

NEG_EDIT(large_padding) {
    /* Padding counts against 2^14 + 1 but is otherwise fine (§5.4). */
    x->f->r[2].pad = 16384 - x->f->r[2].len;
    x->f->r[5].pad = 100;
    return fx_flight_deliver(x);
}

/* One whole record (bytes) to the fresh server. */
typedef struct raw {
    const uint8_t *p;
    size_t n;
} raw;
static const uint8_t unknown_type[7] = {0x63, 3, 3, 0, 2, 1, 0};
static const uint8_t bad_version[9] = {22, 2, 0, 0, 4, 1, 0, 0, 0};
static const uint8_t app_plain[10] = {23, 3, 3, 0, 5, 'h', 'e', 'l', 'l', 'o'};
static const uint8_t hs_empty[5] = {22, 3, 1, 0, 0};
static const uint8_t alert_one[6] = {21, 3, 3, 0, 1, 2};
static const uint8_t alert_three[8] = {21, 3, 3, 0, 3, 2, 40, 0};
static const uint8_t alert_zero[5] = {21, 3, 3, 0, 0};
static const raw raws[] = {
    {unknown_type, sizeof(unknown_type)}, {bad_version, sizeof(bad_version)},
    {app_plain, sizeof(app_plain)},       {hs_empty, sizeof(hs_empty)},
    {alert_one, sizeof(alert_one)},       {alert_three, sizeof(alert_three)},
    {alert_zero, sizeof(alert_zero)},
};
NEG_EDIT(server_gets_raw) { return fx_server_gets(x, raws[arg].p, raws[arg].n); }

/* ---- protection ------------------------------------------------------------- */

NEG_EDIT(flipped_ciphertext_bit) {
    /* arg: 0 the ciphertext, 1 the tag, 2 the header (the AAD). */
    uint8_t *buf = malloc(65536);
    size_t n = mf_serialize(x->f, 0, buf, 65536);
    /* The EE record starts after SH and CCS. */
    size_t ee = 5 + x->f->r[0].len + 6;
    size_t ee_len = (size_t)buf[ee + 3] << 8 | buf[ee + 4];
    if (arg == 0) buf[ee + 5] ^= 0x01;
    if (arg == 1) buf[ee + 5 + ee_len - 1] ^= 0x80;
    if (arg == 2) buf[ee + 2] = 0x01; /* 0x0303 -> 0x0301: still "TLS" */
    CHECK(mitm_feed(CL(x), buf, n));
    free(buf);
    return ferrule_conn_handshake(CL(x));
}

NEG_EDIT(short_protected_record) {
    /* A protected body shorter than tag + type byte cannot authenticate. */
    x->f->r[2].prot = 0;
    x->f->r[2].len = 16;
    memset(x->f->r[2].data, 0xaa, 16);
    x->f->n = 3;
    return fx_flight_deliver(x);
}

NEG_EDIT(plaintext_handshake_after_keys) {
    /* EncryptedExtensions sent in the clear once handshake keys are in use. */
    x->f->r[2].prot = 0;
    x->f->r[2].type = FR_CT_HANDSHAKE;
    x->f->r[2].version = 0x0303;
    return fx_flight_deliver(x);
}

NEG_EDIT(replayed_record) {
    /* The same protected record twice: the second uses the wrong nonce. */
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write(SV(x), (const uint8_t *)"once", 4, &n), FERRULE_OK);
    CHECK(mf_take(x->f, SV(x)));
    CHECK_EQ(x->f->n, 1);
    CHECK(mf_insert_copy(x->f, 1, 0) != NULL);
    CHECK(mf_send(x->f, CL(x)));
    uint8_t buf[16];
    CHECK_EQ(ferrule_conn_read(CL(x), buf, sizeof(buf), &n), FERRULE_OK);
    CHECK(n == 4 && memcmp(buf, "once", 4) == 0);
    return ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
}

/* ---- alerts ----------------------------------------------------------------- */

NEG_EDIT(plain_alert_in_flight) {
    /* A peer that fails before installing its handshake keys alerts in the
     * clear: during the handshake an unprotected two-byte alert is
     * accepted and reported as received (arg 2); only a well-formed
     * two-byte alert may come so (arg 3). */
    static const uint8_t alert[3] = {2, FERRULE_ALERT_HANDSHAKE_FAILURE, 0};
    x->f->n = 2;
    mf_add_plain(x->f, FR_CT_ALERT, alert, (size_t)arg);
    return fx_flight_deliver(x);
}

NEG_EDIT(plain_alert_after_handshake) {
    /* Once connected, an unprotected alert is a protocol violation. */
    static const uint8_t rec[7] = {21, 3, 3, 0, 2, 2, FERRULE_ALERT_HANDSHAKE_FAILURE};
    CHECK(mitm_feed(CL(x), rec, sizeof(rec)));
    return fx_read(CL(x));
}

NEG_EDIT(app_data_before_handshake_protected) {
    /* Application data under the handshake keys, before Finished. */
    mrec *r = mf_insert_copy(x->f, 3, 2);
    CHECK(r != NULL);
    if (r == NULL) return -1;
    r->inner = FR_CT_APPLICATION_DATA;
    memcpy(r->data, "early!", 6);
    r->len = 6;
    return fx_flight_deliver(x);
}

NEG_EDIT(protected_alert_wrong_length) {
    mrec *r = mf_insert_copy(x->f, 2, 2);
    CHECK(r != NULL);
    if (r == NULL) return -1;
    r->inner = FR_CT_ALERT;
    r->data[0] = 2;
    r->data[1] = 40;
    r->data[2] = 0;
    r->len = 3;
    return fx_flight_deliver(x);
}

/* ---- empty and odd inner plaintexts ---------------------------------------- */

/* arg: inner content type << 16 | padding. */
NEG_EDIT(empty_protected_in_flight) {
    /* A protected record of that type with no content in the server's
     * flight, under its handshake keys. */
    mrec *r = mf_insert_copy(x->f, 2, 2);
    NEG_REQUIRE(r != NULL);
    r->inner = (uint8_t)(arg >> 16);
    r->len = 0;
    r->pad = (size_t)(arg & 0xffff);
    return fx_flight_deliver(x);
}

NEG_EDIT(empty_protected_connected) {
    /* The same once connected, under the server's application keys. */
    mrec *r = mf_add_prot(x->f, (uint8_t)(arg >> 16), NULL, 0, SEC(x, SERVER, SAP));
    NEG_REQUIRE(r != NULL);
    r->pad = (size_t)(arg & 0xffff);
    return fx_client_reads(x);
}
#define HS_PAD(pad) (FR_CT_HANDSHAKE << 16 | (pad))
#define AL_PAD(pad) (FR_CT_ALERT << 16 | (pad))

NEG_EDIT(zero_length_app_data) {
    /* RFC 8446 §5.1: zero-length application data may be sent; padded or
     * not, it is taken and the connection goes on. */
    CHECK(mf_add_prot(x->f, FR_CT_APPLICATION_DATA, NULL, 0, SEC(x, SERVER, SAP)) != NULL);
    mrec *r = mf_add_prot(x->f, FR_CT_APPLICATION_DATA, NULL, 0, SEC(x, SERVER, SAP));
    NEG_REQUIRE(r != NULL);
    r->pad = 50;
    CHECK(mf_add_prot(x->f, FR_CT_APPLICATION_DATA, (const uint8_t *)"data", 4,
                      SEC(x, SERVER, SAP)) != NULL);
    CHECK(mf_send(x->f, CL(x)));
    uint8_t buf[16];
    size_t n = 0;
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    CHECK(n == 4 && memcmp(buf, "data", 4) == 0);
    return st;
}

/* arg: count of empty records << 1 | followed by a data record. */
NEG_EDIT(empty_app_records) {
    size_t count = (size_t)arg >> 1;
    int then_data = arg & 1;
    for (size_t i = 0; i < count; i++)
        CHECK(mf_add_prot(x->f, FR_CT_APPLICATION_DATA, NULL, 0, SEC(x, SERVER, SAP)) != NULL);
    if (then_data)
        CHECK(mf_add_prot(x->f, FR_CT_APPLICATION_DATA, (const uint8_t *)"data", 4,
                          SEC(x, SERVER, SAP)) != NULL);
    CHECK(mf_send(x->f, CL(x)));
    uint8_t buf[16];
    size_t n = 0;
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    if (count <= FR_MAX_EMPTY_RECORDS && then_data) CHECK(n == 4 && memcmp(buf, "data", 4) == 0);
    return st;
}

NEG_EDIT(inner_plaintext) {
    /* arg 0: all zeros (no content type at all); 1: an unknown type. */
    static const uint8_t zeros[8] = {0};
    if (arg == 0)
        CHECK(mf_add_prot(x->f, 0, zeros, sizeof(zeros), SEC(x, SERVER, SAP)) != NULL);
    else
        CHECK(mf_add_prot(x->f, 0x63, (const uint8_t *)"abc", 3, SEC(x, SERVER, SAP)) != NULL);
    return fx_client_reads(x);
}

/* ---- the table -------------------------------------------------------------- */

#define SV_FRESH(edit, arg) NEG_SERVER_FRESH, edit, arg, NEG_SERVER
#define CL_FLIGHT(edit, arg) NEG_FLIGHT, edit, arg, NEG_CLIENT
#define CL_CONN(edit, arg) NEG_CONNECTED, edit, arg, NEG_CLIENT
#define UNEXPECTED NEG_FAILS(ALERT_SENT, UNEXPECTED_MESSAGE, UNEXPECTED_MESSAGE)
#define BAD_MAC NEG_FAILS(DECODE, BAD_RECORD_MAC, BAD_RECORD_MAC)
#define OVERFLOW NEG_FAILS(DECODE, RECORD_OVERFLOW, RECORD_OVERFLOW)
/* Too long once deprotected (or as a plaintext record), not by its header. */
#define PT_OVERFLOW NEG_FAILS(DECODE, PLAINTEXT_OVERFLOW, RECORD_OVERFLOW)
#define OUTER_TYPE NEG_FAILS(DECODE, BAD_OUTER_TYPE, UNEXPECTED_MESSAGE)
#define ALERT_LEN NEG_FAILS(DECODE, BAD_ALERT_LENGTH, DECODE_ERROR)
#define DECODE_ERR NEG_FAILS(DECODE, DECODE_ERROR, DECODE_ERROR)

static const neg_row rows[] = {
    /* A transport EOF mid-record: truncated, and no alert. */
    {"rec_truncated_header_then_eof", SV_FRESH(truncated_header_then_eof, 0), FERRULE_TRUNCATED,
     FERRULE_R_TRUNCATED, -1, NEG_PEER_SILENT},
    {"rec_truncated_body_then_eof", CL_FLIGHT(truncated_body_then_eof, 0), FERRULE_TRUNCATED,
     FERRULE_R_TRUNCATED, -1, NEG_PEER_NONE},
    {"rec_overflow_header", SV_FRESH(overflow_header, 0), OVERFLOW, NEG_PEER_ALERT},
    {"rec_overflow_plaintext", SV_FRESH(overflow_plaintext, 0), PT_OVERFLOW, NEG_PEER_ALERT},
    {"rec_overflow_protected_inner", CL_FLIGHT(overflow_protected_inner, 0), PT_OVERFLOW,
     NEG_PEER_ALERT},
    {"rec_large_padding_is_accepted", CL_FLIGHT(large_padding, 0), NEG_GIVES(OK), NEG_PEER_NONE,
     .post = neg_post_connect},
    {"rec_unknown_content_type", SV_FRESH(server_gets_raw, 0),
     NEG_FAILS(DECODE, BAD_CONTENT_TYPE, UNEXPECTED_MESSAGE), NEG_PEER_ALERT},
    {"rec_bad_legacy_version", SV_FRESH(server_gets_raw, 1),
     NEG_FAILS(DECODE, BAD_RECORD_VERSION, DECODE_ERROR), NEG_PEER_ALERT},
    {"rec_flipped_ciphertext_bit/ciphertext", CL_FLIGHT(flipped_ciphertext_bit, 0), BAD_MAC,
     NEG_PEER_ALERT},
    {"rec_flipped_ciphertext_bit/tag", CL_FLIGHT(flipped_ciphertext_bit, 1), BAD_MAC,
     NEG_PEER_ALERT},
    {"rec_flipped_ciphertext_bit/header", CL_FLIGHT(flipped_ciphertext_bit, 2), BAD_MAC,
     NEG_PEER_ALERT},
    {"rec_short_protected_record", CL_FLIGHT(short_protected_record, 0), BAD_MAC, NEG_PEER_ALERT},
    {"rec_plaintext_handshake_after_keys", CL_FLIGHT(plaintext_handshake_after_keys, 0),
     OUTER_TYPE, NEG_PEER_ALERT},
    {"rec_plaintext_alert_during_handshake", CL_FLIGHT(plain_alert_in_flight, 2),
     NEG_FAILS(ALERT_RECEIVED, PEER_ALERT, HANDSHAKE_FAILURE), NEG_PEER_CCS_ONLY},
    {"rec_plaintext_alert_wrong_length_after_keys", CL_FLIGHT(plain_alert_in_flight, 3),
     OUTER_TYPE, NEG_PEER_ALERT},
    {"rec_plaintext_alert_after_handshake", CL_CONN(plain_alert_after_handshake, 0), OUTER_TYPE,
     NEG_PEER_ALERT},
    {"rec_app_data_before_handshake_plain", SV_FRESH(server_gets_raw, 2),
     NEG_FAILS(DECODE, BAD_CONTENT_TYPE, UNEXPECTED_MESSAGE), NEG_PEER_ALERT},
    {"rec_app_data_before_handshake_protected",
     CL_FLIGHT(app_data_before_handshake_protected, 0), UNEXPECTED, NEG_PEER_ALERT},
    /* RFC 8446 §5.1: no zero-length handshake fragments: nothing a message
     * can be made of, unexpected_message (not a decoding error). */
    {"rec_zero_length_handshake_plain", SV_FRESH(server_gets_raw, 3), UNEXPECTED,
     NEG_PEER_ALERT},
    {"rec_zero_length_handshake_protected/flight", CL_FLIGHT(empty_protected_in_flight, HS_PAD(0)),
     UNEXPECTED, NEG_PEER_ALERT},
    {"rec_zero_length_handshake_protected/flight_padded",
     CL_FLIGHT(empty_protected_in_flight, HS_PAD(7)), UNEXPECTED, NEG_PEER_ALERT},
    {"rec_zero_length_handshake_protected/connected",
     CL_CONN(empty_protected_connected, HS_PAD(0)), UNEXPECTED, NEG_PEER_ALERT},
    {"rec_zero_length_handshake_protected/connected_padded",
     CL_CONN(empty_protected_connected, HS_PAD(100)), UNEXPECTED, NEG_PEER_ALERT},
    /* An alert is exactly two bytes (RFC 8446 §6); an empty one, padded or
     * not, under handshake or application keys: unexpected_message. */
    {"rec_zero_length_alert_protected/flight", CL_FLIGHT(empty_protected_in_flight, AL_PAD(0)),
     UNEXPECTED, NEG_PEER_ALERT},
    {"rec_zero_length_alert_protected/flight_padded",
     CL_FLIGHT(empty_protected_in_flight, AL_PAD(9)), UNEXPECTED, NEG_PEER_ALERT},
    {"rec_zero_length_alert_protected/connected", CL_CONN(empty_protected_connected, AL_PAD(0)),
     UNEXPECTED, NEG_PEER_ALERT},
    {"rec_zero_length_alert_protected/connected_padded",
     CL_CONN(empty_protected_connected, AL_PAD(200)), UNEXPECTED, NEG_PEER_ALERT},
    {"rec_zero_length_app_data_accepted", CL_CONN(zero_length_app_data, 0), NEG_GIVES(OK),
     NEG_PEER_NONE, .post = neg_post_exchange},
    /* One or three bytes: a malformed alert; none: no alert at all
     * (RFC 8446 §5.1, as for handshake fragments). */
    {"rec_alert_wrong_length/one_byte", SV_FRESH(server_gets_raw, 4), ALERT_LEN,
     NEG_PEER_ALERT},
    {"rec_alert_wrong_length/three_bytes", SV_FRESH(server_gets_raw, 5), ALERT_LEN,
     NEG_PEER_ALERT},
    {"rec_alert_wrong_length/empty", SV_FRESH(server_gets_raw, 6), UNEXPECTED, NEG_PEER_ALERT},
    {"rec_protected_alert_wrong_length", CL_FLIGHT(protected_alert_wrong_length, 0), ALERT_LEN,
     NEG_PEER_ALERT},
    {"rec_33_empty_app_records", CL_CONN(empty_app_records, 33 << 1 | 1),
     NEG_FAILS(ALERT_SENT, TOO_MANY_EMPTY, UNEXPECTED_MESSAGE), NEG_PEER_ALERT},
    {"rec_32_empty_app_records_are_tolerated/then_data", CL_CONN(empty_app_records, 32 << 1 | 1),
     NEG_GIVES(OK), NEG_PEER_NONE, .post = neg_post_exchange},
    {"rec_32_empty_app_records_are_tolerated/alone", CL_CONN(empty_app_records, 32 << 1),
     NEG_GIVES(WANT_READ), NEG_PEER_NONE, .post = neg_post_exchange},
    {"rec_inner_plaintext_all_zeros", CL_CONN(inner_plaintext, 0),
     NEG_FAILS(DECODE, NO_CONTENT_TYPE, UNEXPECTED_MESSAGE), NEG_PEER_ALERT},
    {"rec_inner_unknown_type", CL_CONN(inner_plaintext, 1),
     NEG_FAILS(DECODE, BAD_CONTENT_TYPE, UNEXPECTED_MESSAGE), NEG_PEER_ALERT},
    {"rec_replayed_record", CL_CONN(replayed_record, 0), BAD_MAC, NEG_PEER_ALERT},
};

NEG_MAIN("neg_record", rows)
