/* test_neg_ccs.c - change_cipher_spec records (RFC 8446 §5, Appendix
 * D.4): the one legal form (a single 0x01, unprotected, between the first
 * ClientHello and the peer's Finished) is dropped, a bounded number of
 * times; everything else is unexpected_message.  One row per case, played
 * by support_neg.c. */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "record.h"
#include "support_neg.h"

NEG_EDIT(ccs_value) {
    x->f->r[1].data[0] = 2;
    return fx_flight_deliver(x);
}

NEG_EDIT(ccs_two_bytes) {
    x->f->r[1].data[1] = 1;
    x->f->r[1].len = 2;
    return fx_flight_deliver(x);
}

NEG_EDIT(ccs_repeated) {
    /* arg CCS records in a row before EncryptedExtensions. */
    for (int i = 1; i < arg; i++) CHECK(mf_insert_copy(x->f, 2, 1) != NULL);
    return fx_flight_deliver(x);
}

NEG_EDIT(ccs_to_fresh_server) {
    static const uint8_t ccs[6] = {20, 3, 3, 0, 1, 1};
    return fx_server_gets(x, ccs, sizeof(ccs));
}

NEG_EDIT(ccs_after_handshake) {
    static const uint8_t ccs[6] = {20, 3, 3, 0, 1, 1};
    CHECK(mitm_feed(CL(x), ccs, sizeof(ccs)));
    return fx_read(CL(x));
}

NEG_EDIT(ccs_inside_fragmented_message) {
    /* A CCS between two fragments of EncryptedExtensions. */
    mrec *tail = mf_insert_copy(x->f, 3, 2);
    CHECK(tail != NULL);
    if (tail == NULL) return -1;
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
    return fx_flight_deliver(x);
}

NEG_EDIT(ccs_protected) {
    /* change_cipher_spec is never protected (RFC 8446 §5). */
    mrec *r = mf_insert_copy(x->f, 2, 2);
    CHECK(r != NULL);
    if (r == NULL) return -1;
    r->inner = FR_CT_CHANGE_CIPHER_SPEC;
    r->data[0] = 1;
    r->len = 1;
    mf_remove(x->f, 1);
    return fx_flight_deliver(x);
}

NEG_EDIT(ccs_before_server_hello) {
    /* RFC 8446 §5 allows the CCS any time after the first ClientHello, so
     * also before ServerHello. */
    mrec *tmp = malloc(sizeof(mrec));
    memcpy(tmp, &x->f->r[0], sizeof(mrec));
    memcpy(&x->f->r[0], &x->f->r[1], sizeof(mrec));
    memcpy(&x->f->r[1], tmp, sizeof(mrec));
    free(tmp);
    return fx_flight_deliver(x);
}

NEG_POST(connect_then_server_writes) {
    CHECK(mitm_pass(CL(x), SV(x)));
    CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_OK);
    EXCHANGE(SV(x), CL(x), "ccs first");
}

#define CL_FLIGHT(edit, arg) NEG_FLIGHT, edit, arg, NEG_CLIENT
#define BAD_CCS NEG_FAILS(ALERT_SENT, BAD_CCS, UNEXPECTED_MESSAGE)

static const neg_row rows[] = {
    {"ccs_bad_value", CL_FLIGHT(ccs_value, 0), BAD_CCS, NEG_PEER_ALERT},
    {"ccs_two_bytes", CL_FLIGHT(ccs_two_bytes, 0), BAD_CCS, NEG_PEER_NONE},
    /* Every 0x01 change_cipher_spec before the peer's Finished is dropped
     * (a 0-RTT client answered by a HelloRetryRequest sends two, Appendix
     * D.4): two and FR_MAX_CCS in a row are fine. */
    {"ccs_twice_is_dropped/2", CL_FLIGHT(ccs_repeated, 2), NEG_GIVES(OK), NEG_PEER_NONE,
     .post = neg_post_connect},
    {"ccs_twice_is_dropped/max", CL_FLIGHT(ccs_repeated, FR_MAX_CCS), NEG_GIVES(OK),
     NEG_PEER_NONE, .post = neg_post_connect},
    /* More than FR_MAX_CCS: a flood, unexpected_message. */
    {"ccs_flood", CL_FLIGHT(ccs_repeated, FR_MAX_CCS + 1),
     NEG_FAILS(ALERT_SENT, TOO_MANY_EMPTY, UNEXPECTED_MESSAGE), NEG_PEER_ALERT},
    {"ccs_before_client_hello", NEG_SERVER_FRESH, ccs_to_fresh_server, 0, NEG_SERVER, BAD_CCS,
     NEG_PEER_ALERT},
    {"ccs_after_handshake", NEG_CONNECTED, ccs_after_handshake, 0, NEG_CLIENT, BAD_CCS,
     NEG_PEER_ALERT},
    {"ccs_inside_fragmented_message", CL_FLIGHT(ccs_inside_fragmented_message, 0), BAD_CCS,
     NEG_PEER_NONE},
    {"ccs_protected", CL_FLIGHT(ccs_protected, 0),
     NEG_FAILS(DECODE, BAD_CONTENT_TYPE, UNEXPECTED_MESSAGE), NEG_PEER_NONE},
    {"ccs_before_server_hello_is_dropped", CL_FLIGHT(ccs_before_server_hello, 0), NEG_GIVES(OK),
     NEG_PEER_NONE, .post = connect_then_server_writes},
};

NEG_MAIN("neg_ccs", rows)
