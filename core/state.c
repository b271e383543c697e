/*
 * state.c - the one transition table of the handshake and its dispatcher.
 * Only this file checks message types against the state and moves the
 * state; handlers never assign it.  docs/state-machine.md is generated
 * from this table by tests/c/test_state_doc.c, which also checks it.
 */
#include "conn.h"

typedef struct fr_transition {
    uint32_t role;
    uint32_t state;
    uint16_t msg; /* FR_HS_* or FR_HS_NONE for a send-only transition */
    fr_handler handler;
    uint32_t next;
    /* States the handler may choose instead by returning FR_NEXT_ALT1 /
     * FR_NEXT_ALT2 / FR_NEXT_ALT3; NO_ALT where there is none.  The dispatcher still does
     * the assignment, and only to a state listed here. */
    uint32_t alt[3];
    const char *what;
} fr_transition;

#define NO_ALT 0xffffffffu

#define C FERRULE_ROLE_CLIENT
#define S FERRULE_ROLE_SERVER

static const fr_transition TABLE[] = {
    /* client (RFC 8446 Appendix A.1) */
    {C, FERRULE_HS_START, FR_HS_NONE, fr_client_send_hello, FERRULE_HS_WAIT_SERVER_HELLO,
     {NO_ALT, NO_ALT, NO_ALT}, "send ClientHello"},
    {C, FERRULE_HS_WAIT_SERVER_HELLO, FR_HS_SERVER_HELLO, fr_client_on_server_hello,
     FERRULE_HS_WAIT_ENCRYPTED_EXTENSIONS, {FERRULE_HS_WAIT_SERVER_HELLO, NO_ALT, NO_ALT},
     "derive handshake keys; or, for a HelloRetryRequest, send the second ClientHello"},
    {C, FERRULE_HS_WAIT_ENCRYPTED_EXTENSIONS, FR_HS_ENCRYPTED_EXTENSIONS,
     fr_client_on_encrypted_extensions, FERRULE_HS_WAIT_CERTIFICATE_OR_REQUEST,
     {FERRULE_HS_WAIT_FINISHED, NO_ALT, NO_ALT}, "check extensions, ALPN; resumed: Finished next"},
    {C, FERRULE_HS_WAIT_CERTIFICATE_OR_REQUEST, FR_HS_CERTIFICATE_REQUEST,
     fr_client_on_certificate_request, FERRULE_HS_WAIT_CERTIFICATE, {NO_ALT, NO_ALT, NO_ALT},
     "note the request and choose our certificate"},
    {C, FERRULE_HS_WAIT_CERTIFICATE_OR_REQUEST, FR_HS_CERTIFICATE, fr_client_on_certificate,
     FERRULE_HS_WAIT_CERTIFICATE_VERIFY, {NO_ALT, NO_ALT, NO_ALT}, "verify the chain and the name"},
    {C, FERRULE_HS_WAIT_CERTIFICATE, FR_HS_CERTIFICATE, fr_client_on_certificate,
     FERRULE_HS_WAIT_CERTIFICATE_VERIFY, {NO_ALT, NO_ALT, NO_ALT}, "verify the chain and the name"},
    {C, FERRULE_HS_WAIT_CERTIFICATE_VERIFY, FR_HS_CERTIFICATE_VERIFY,
     fr_client_on_certificate_verify, FERRULE_HS_WAIT_FINISHED, {NO_ALT, NO_ALT, NO_ALT},
     "verify the signature"},
    {C, FERRULE_HS_WAIT_FINISHED, FR_HS_FINISHED, fr_client_on_finished, FERRULE_HS_CONNECTED,
     {NO_ALT, NO_ALT, NO_ALT}, "verify Finished, send [Certificate, CertificateVerify,] Finished"},
    {C, FERRULE_HS_CONNECTED, FR_HS_NEW_SESSION_TICKET, fr_on_new_session_ticket,
     FERRULE_HS_CONNECTED, {NO_ALT, NO_ALT, NO_ALT}, "store the ticket as the latest session"},
    {C, FERRULE_HS_CONNECTED, FR_HS_KEY_UPDATE, fr_on_key_update, FERRULE_HS_CONNECTED,
     {NO_ALT, NO_ALT, NO_ALT}, "update read keys, answer if requested"},
    /* server (RFC 8446 Appendix A.2) */
    {S, FERRULE_HS_WAIT_CLIENT_HELLO, FR_HS_CLIENT_HELLO, fr_server_on_client_hello,
     FERRULE_HS_WAIT_CLIENT_FINISHED,
     {FERRULE_HS_WAIT_SECOND_CLIENT_HELLO, FERRULE_HS_WAIT_CLIENT_CERTIFICATE,
      FERRULE_HS_WAIT_END_OF_EARLY_DATA},
     "select parameters; send ServerHello..Finished, or a HelloRetryRequest; 0-RTT accepted: "
     "read early data"},
    {S, FERRULE_HS_WAIT_SECOND_CLIENT_HELLO, FR_HS_CLIENT_HELLO, fr_server_on_client_hello,
     FERRULE_HS_WAIT_CLIENT_FINISHED, {NO_ALT, FERRULE_HS_WAIT_CLIENT_CERTIFICATE, NO_ALT},
     "check the second ClientHello against the first, send ServerHello..Finished"},
    {S, FERRULE_HS_WAIT_END_OF_EARLY_DATA, FR_HS_END_OF_EARLY_DATA,
     fr_server_on_end_of_early_data, FERRULE_HS_WAIT_CLIENT_FINISHED, {NO_ALT, NO_ALT, NO_ALT},
     "end of 0-RTT: read with the client's handshake keys"},
    {S, FERRULE_HS_WAIT_CLIENT_CERTIFICATE, FR_HS_CERTIFICATE, fr_server_on_certificate,
     FERRULE_HS_WAIT_CLIENT_CERTIFICATE_VERIFY, {FERRULE_HS_WAIT_CLIENT_FINISHED, NO_ALT, NO_ALT},
     "verify the client's chain (empty: per policy)"},
    {S, FERRULE_HS_WAIT_CLIENT_CERTIFICATE_VERIFY, FR_HS_CERTIFICATE_VERIFY,
     fr_server_on_certificate_verify, FERRULE_HS_WAIT_CLIENT_FINISHED, {NO_ALT, NO_ALT, NO_ALT},
     "verify the client's signature"},
    {S, FERRULE_HS_WAIT_CLIENT_FINISHED, FR_HS_FINISHED, fr_server_on_finished,
     FERRULE_HS_CONNECTED, {NO_ALT, NO_ALT, NO_ALT}, "verify Finished, application keys"},
    {S, FERRULE_HS_CONNECTED, FR_HS_KEY_UPDATE, fr_on_key_update, FERRULE_HS_CONNECTED,
     {NO_ALT, NO_ALT, NO_ALT}, "update read keys, answer if requested"},
};

#undef C
#undef S

static const fr_transition *find(uint32_t role, uint32_t state, uint16_t msg) {
    for (size_t i = 0; i < sizeof(TABLE) / sizeof(TABLE[0]); i++) {
        const fr_transition *t = &TABLE[i];
        if (t->role == role && t->state == state && t->msg == msg) return t;
    }
    return NULL;
}

/* The state a handler's result selects: next, or one of the row's
 * declared alternatives. */
static fr_err choose_next(const fr_transition *t, fr_err e, uint32_t *next) {
    if (e == FR_OK) {
        *next = t->next;
        return FR_OK;
    }
    if (e != FR_NEXT_ALT1 && e != FR_NEXT_ALT2 && e != FR_NEXT_ALT3) return e;
    uint32_t alt = t->alt[e == FR_NEXT_ALT1 ? 0 : e == FR_NEXT_ALT2 ? 1 : 2];
    FR_ENSURE(alt != NO_ALT, FERRULE_R_INTERNAL);
    *next = alt;
    return FR_OK;
}

fr_err fr_dispatch_start(ferrule_conn *c) {
    const fr_transition *t = find(c->role, c->state, FR_HS_NONE);
    if (t == NULL) return FR_OK;
    uint32_t next;
    FR_TRY(choose_next(t, t->handler(c, NULL), &next));
    c->state = next;
    return FR_OK;
}

fr_err fr_dispatch(ferrule_conn *c, const uint8_t *msg, size_t len) {
    const fr_transition *t = find(c->role, c->state, msg[0]);
    FR_ENSURE(t != NULL, FERRULE_R_UNEXPECTED_MESSAGE);
    /* Handlers see the transcript hash before their message in th_before
     * and the transcript including it (RFC 8446 §4.4.1).  The first
     * message of each role (ClientHello / ServerHello) starts it. */
    if (c->th_ready && msg[0] != FR_HS_NEW_SESSION_TICKET && msg[0] != FR_HS_KEY_UPDATE) {
        FR_TRY(fr_transcript_current(&c->th, c->th_before));
        FR_TRY(fr_transcript_update(&c->th, msg, len));
    }
    c->cur_msg = msg;
    c->cur_msg_len = len;
    fr_reader body = fr_reader_init(msg + 4, len - 4);
    fr_err e = t->handler(c, &body);
    c->cur_msg = NULL;
    uint32_t next;
    FR_TRY(choose_next(t, e, &next));
    FR_TRY(fr_read_done(&body));
    c->state = next;
    return FR_OK;
}

int fr_state_accepts(const ferrule_conn *c, uint8_t msg) {
    return find(c->role, c->state, msg) != NULL;
}

int fr_state_expects_handshake(const ferrule_conn *c) {
    return c->state != FERRULE_HS_START && c->state != FERRULE_HS_FAILED &&
           c->state != FERRULE_HS_CLOSED;
}

int fr_state_allows_ccs(const ferrule_conn *c) {
    /* RFC 8446 §5: after the first ClientHello and before the peer's Finished. */
    if (c->role == FERRULE_ROLE_CLIENT)
        return (c->state >= FERRULE_HS_WAIT_SERVER_HELLO && c->state <= FERRULE_HS_WAIT_FINISHED) ||
               c->state == FERRULE_HS_WAIT_CERTIFICATE_OR_REQUEST;
    return c->state == FERRULE_HS_WAIT_CLIENT_FINISHED ||
           c->state == FERRULE_HS_WAIT_SECOND_CLIENT_HELLO ||
           c->state == FERRULE_HS_WAIT_END_OF_EARLY_DATA ||
           c->state == FERRULE_HS_WAIT_CLIENT_CERTIFICATE ||
           c->state == FERRULE_HS_WAIT_CLIENT_CERTIFICATE_VERIFY;
}

/* Walk the table for documentation tooling. */
size_t fr_state_table_size(void);
void fr_state_table_row(size_t i, uint32_t *role, uint32_t *state, uint16_t *msg, uint32_t *next,
                        const char **what);
/* Alternative next state k (0..2) of row i (NO_ALT = none). */
uint32_t fr_state_table_alt(size_t i, size_t k);
uint32_t fr_state_table_alt(size_t i, size_t k) { return k < 3 ? TABLE[i].alt[k] : NO_ALT; }
size_t fr_state_table_size(void) { return sizeof(TABLE) / sizeof(TABLE[0]); }
void fr_state_table_row(size_t i, uint32_t *role, uint32_t *state, uint16_t *msg, uint32_t *next,
                        const char **what) {
    *role = TABLE[i].role;
    *state = TABLE[i].state;
    *msg = TABLE[i].msg;
    *next = TABLE[i].next;
    *what = TABLE[i].what;
}
