/* test_neg_finished.c - Finished in both directions (RFC 8446 §4.4.4): the
 * server's (a corrupted MAC is decrypt_error, a wrong length decode_error)
 * and the client's, with what may not come in its place (application data,
 * an unsolicited Certificate).  The client's second flight is opened with
 * its handshake secret, edited and sent to the server, whose alert the
 * connected client reads under the application keys.  One row per case,
 * played by support_neg.c. */
#include <string.h>

#include "conn.h"
#include "record.h"
#include "support_neg.h"

NEG_EDIT(server_finished_corrupted) {
    mrec *r = &x->f->r[5];
    r->data[r->len - 1] ^= 1;
    return fx_flight_deliver(x);
}

NEG_EDIT(server_finished_length) {
    /* arg 0: one byte short; 1: one byte long. */
    mrec *r = &x->f->r[5];
    size_t body = r->len - 4;
    if (arg)
        r->data[r->len++] = 0;
    else
        r->len--;
    body = arg ? body + 1 : body - 1;
    r->data[3] = (uint8_t)body;
    return fx_flight_deliver(x);
}

NEG_EDIT(client_finished_corrupted) {
    x->f->r[1].data[4] ^= 0x40;
    return fx_to_server(x);
}

NEG_EDIT(client_finished_short) {
    mrec *r = &x->f->r[1];
    r->len--;
    r->data[3]--;
    return fx_to_server(x);
}

NEG_EDIT(client_app_data_before_finished) {
    /* Application data from the client before its Finished. */
    mrec *r = &x->f->r[1];
    r->inner = FR_CT_APPLICATION_DATA;
    memcpy(r->data, "GET /", 5);
    r->len = 5;
    return fx_to_server(x);
}

NEG_EDIT(client_certificate_unsolicited) {
    /* A Certificate instead of Finished (no CertificateRequest was sent). */
    static const uint8_t body[4] = {0, 0, 0, 0};
    fx_set_msg(&x->f->r[1], FR_HS_CERTIFICATE, body, sizeof(body));
    return fx_to_server(x);
}

#define SFIN(edit, arg) NEG_FLIGHT, edit, arg, NEG_CLIENT
/* The server writes under its application keys already; the connected
 * client reads them. */
#define CFIN(edit, arg) NEG_CLIENT_FINISHED, edit, arg, NEG_SERVER
#define DECODE_ERR NEG_FAILS(DECODE, DECODE_ERROR, DECODE_ERROR), NEG_PEER_ALERT
#define BAD_FINISHED NEG_FAILS(ALERT_SENT, BAD_FINISHED, DECRYPT_ERROR), NEG_PEER_ALERT
#define UNEXPECTED NEG_FAILS(ALERT_SENT, UNEXPECTED_MESSAGE, UNEXPECTED_MESSAGE), NEG_PEER_ALERT

static const neg_row rows[] = {
    {"finished_corrupted", SFIN(server_finished_corrupted, 0), BAD_FINISHED},
    {"finished_wrong_length/short", SFIN(server_finished_length, 0), DECODE_ERR},
    {"finished_wrong_length/long", SFIN(server_finished_length, 1), DECODE_ERR},
    {"client_finished_corrupted", CFIN(client_finished_corrupted, 0), BAD_FINISHED},
    {"client_finished_wrong_length", CFIN(client_finished_short, 0), DECODE_ERR},
    {"client_app_data_before_finished", CFIN(client_app_data_before_finished, 0), UNEXPECTED},
    {"client_certificate_unsolicited", CFIN(client_certificate_unsolicited, 0), UNEXPECTED},
};

NEG_MAIN("neg_finished", rows)
