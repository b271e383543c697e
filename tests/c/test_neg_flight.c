/* test_neg_flight.c - the order of the server's encrypted flight (RFC 8446
 * §4, §2): messages out of order, missing, repeated or inserted before
 * Finished, a second Finished in the same record (spanning the key
 * change, §5.1) or under the next keys, and a close_notify before the
 * handshake completes.  One row per case, played by support_neg.c. */
#include <string.h>

#include "conn.h"
#include "record.h"
#include "support_neg.h"

NEG_EDIT(out_of_order) {
    mrec tmp;
    memcpy(&tmp, &x->f->r[2], sizeof(tmp));
    memcpy(&x->f->r[2], &x->f->r[3], sizeof(tmp));
    memcpy(&x->f->r[3], &tmp, sizeof(tmp));
    return fx_flight_deliver(x);
}

NEG_EDIT(missing_certificate_verify) {
    mf_remove(x->f, 4);
    return fx_flight_deliver(x);
}

NEG_EDIT(duplicate_encrypted_extensions) {
    CHECK(mf_insert_copy(x->f, 3, 2) != NULL);
    return fx_flight_deliver(x);
}

/* NewSessionTicket, KeyUpdate, CertificateRequest (not supported),
 * ClientHello and an unknown type, each before Finished. */
static const uint8_t inserted[5][9] = {
    {FR_HS_NEW_SESSION_TICKET, 0, 0, 5, 0, 0, 0, 0, 0},
    {FR_HS_KEY_UPDATE, 0, 0, 1, 0},
    {FR_HS_CERTIFICATE_REQUEST, 0, 0, 3, 0, 0, 0},
    {FR_HS_CLIENT_HELLO, 0, 0, 0},
    {99, 0, 0, 0},
};
static const size_t inserted_len[5] = {9, 5, 7, 4, 4};

NEG_EDIT(message_inserted) {
    mrec *r = mf_insert_copy(x->f, 5, 2);
    NEG_REQUIRE(r != NULL);
    memcpy(r->data, inserted[arg], inserted_len[arg]);
    r->len = inserted_len[arg];
    return fx_flight_deliver(x);
}

NEG_EDIT(duplicate_finished_same_record) {
    /* The second Finished would span the key change.  The client's
     * Finished (valid) precedes its alert: the server connects and then
     * reads the alert under the application keys. */
    mrec *r = &x->f->r[5];
    memcpy(r->data + r->len, r->data, r->len);
    r->len *= 2;
    return fx_flight_deliver(x);
}

NEG_EDIT(duplicate_finished_next_epoch) {
    /* A second Finished under the server's application keys: the handshake
     * completes, the next read meets the extra Finished. */
    mrec *r = mf_insert_copy(x->f, 6, 5);
    NEG_REQUIRE(r != NULL);
    r->key = SEC(x, SERVER, SAP);
    CHECK_EQ(fx_flight_deliver(x), FERRULE_OK);
    return fx_read(CL(x));
}

NEG_EDIT(close_notify_during_handshake) {
    /* A close_notify before the handshake completes aborts it; no answer
     * to an alert that ended the handshake. */
    mrec *r = mf_insert_copy(x->f, 3, 2);
    NEG_REQUIRE(r != NULL);
    r->inner = FR_CT_ALERT;
    r->data[0] = 1;
    r->data[1] = FERRULE_ALERT_CLOSE_NOTIFY;
    r->len = 2;
    return fx_flight_deliver(x);
}

#define FLIGHT(edit, arg) NEG_FLIGHT, edit, arg, NEG_CLIENT
#define UNEXPECTED NEG_FAILS(ALERT_SENT, UNEXPECTED_MESSAGE, UNEXPECTED_MESSAGE), NEG_PEER_ALERT

static const neg_row rows[] = {
    {"flight_out_of_order", FLIGHT(out_of_order, 0), UNEXPECTED},
    {"flight_missing_certificate_verify", FLIGHT(missing_certificate_verify, 0), UNEXPECTED},
    {"flight_duplicate_encrypted_extensions", FLIGHT(duplicate_encrypted_extensions, 0),
     UNEXPECTED},
    {"flight_unexpected_messages_inserted/new_session_ticket", FLIGHT(message_inserted, 0),
     UNEXPECTED},
    {"flight_unexpected_messages_inserted/key_update", FLIGHT(message_inserted, 1), UNEXPECTED},
    {"flight_unexpected_messages_inserted/certificate_request", FLIGHT(message_inserted, 2),
     UNEXPECTED},
    {"flight_unexpected_messages_inserted/client_hello", FLIGHT(message_inserted, 3), UNEXPECTED},
    {"flight_unexpected_messages_inserted/unknown_type", FLIGHT(message_inserted, 4), UNEXPECTED},
    {"flight_duplicate_finished_same_record", FLIGHT(duplicate_finished_same_record, 0),
     NEG_FAILS(ALERT_SENT, UNALIGNED_HANDSHAKE, UNEXPECTED_MESSAGE), NEG_PEER_ALERT},
    {"flight_duplicate_finished_next_epoch", FLIGHT(duplicate_finished_next_epoch, 0), UNEXPECTED},
    {"flight_close_notify_during_handshake", FLIGHT(close_notify_during_handshake, 0),
     NEG_FAILS(ALERT_RECEIVED, PEER_ALERT, CLOSE_NOTIFY), NEG_PEER_CCS_ONLY},
};

NEG_MAIN("neg_flight", rows)
