/*
 * state.c - the one transition table of the handshake and its dispatcher.
 * Only this file checks message types against the state and moves the
 * state; handlers never assign it.  A handler's return value is a reason
 * only: a handler whose step can end in more than one state reports which
 * through its fr_branch out-parameter, and the row names the state of each
 * branch.  A handler that asks the host for a decision reports the
 * branch FR_BRANCH_APP, whose state in the row is the row's own: the
 * message is dispatched again once the decision is answered
 * (hs/decision.h).  docs/state-machine.md is generated from these tables
 * by tests/c/test_state_doc.c, which also checks it.
 */
#include "conn.h"

typedef struct fr_transition {
    uint32_t role;
    uint32_t state;
    uint16_t msg; /* FR_HS_* or FR_HS_NONE for a send-only transition */
    /* Exactly one is set: a handler with one outcome (`next`), or one
     * that reports its branch. */
    fr_handler handler;
    fr_branch_handler branching;
    uint32_t next; /* FR_BRANCH_NEXT */
    /* The state of each other branch the handler may report, by name;
     * NONE where the row has no such branch.  The dispatcher still does
     * the assignment, and only to a state listed here. */
    uint32_t on[FR_BRANCH_COUNT];
    const char *what;
} fr_transition;

/* No transition enters `start` (it is only the client's first state), so
 * the zero of an unnamed branch means "none". */
#define NONE FERRULE_HS_START

#define C FERRULE_ROLE_CLIENT
#define S FERRULE_ROLE_SERVER

static const fr_transition TABLE[] = {
    /* client (RFC 8446 Appendix A.1) */
    {.role = C, .state = FERRULE_HS_START, .msg = FR_HS_NONE, .handler = fr_client_send_hello,
     .next = FERRULE_HS_WAIT_SERVER_HELLO, .what = "send ClientHello"},
    {.role = C, .state = FERRULE_HS_WAIT_SERVER_HELLO, .msg = FR_HS_SERVER_HELLO,
     .branching = fr_client_on_server_hello, .next = FERRULE_HS_WAIT_ENCRYPTED_EXTENSIONS,
     .on = {[FR_BRANCH_HRR] = FERRULE_HS_WAIT_SERVER_HELLO},
     .what = "derive handshake keys; or, for a HelloRetryRequest, send the second ClientHello"},
    {.role = C, .state = FERRULE_HS_WAIT_ENCRYPTED_EXTENSIONS, .msg = FR_HS_ENCRYPTED_EXTENSIONS,
     .branching = fr_client_on_encrypted_extensions,
     .next = FERRULE_HS_WAIT_CERTIFICATE_OR_REQUEST,
     .on = {[FR_BRANCH_RESUMED] = FERRULE_HS_WAIT_FINISHED},
     .what = "check extensions, ALPN; resumed: Finished next"},
    {.role = C, .state = FERRULE_HS_WAIT_CERTIFICATE_OR_REQUEST, .msg = FR_HS_CERTIFICATE_REQUEST,
     .handler = fr_client_on_certificate_request, .next = FERRULE_HS_WAIT_CERTIFICATE,
     .what = "note the request and choose our certificate"},
    {.role = C, .state = FERRULE_HS_WAIT_CERTIFICATE_OR_REQUEST, .msg = FR_HS_CERTIFICATE,
     .branching = fr_client_on_certificate, .next = FERRULE_HS_WAIT_CERTIFICATE_VERIFY,
     .on = {[FR_BRANCH_APP] = FERRULE_HS_WAIT_CERTIFICATE_OR_REQUEST},
     .what = "verify the chain and the name; the application's verdict may pause"},
    {.role = C, .state = FERRULE_HS_WAIT_CERTIFICATE, .msg = FR_HS_CERTIFICATE,
     .branching = fr_client_on_certificate, .next = FERRULE_HS_WAIT_CERTIFICATE_VERIFY,
     .on = {[FR_BRANCH_APP] = FERRULE_HS_WAIT_CERTIFICATE},
     .what = "verify the chain and the name; the application's verdict may pause"},
    {.role = C, .state = FERRULE_HS_WAIT_CERTIFICATE_VERIFY, .msg = FR_HS_CERTIFICATE_VERIFY,
     .handler = fr_client_on_certificate_verify, .next = FERRULE_HS_WAIT_FINISHED,
     .what = "verify the signature"},
    {.role = C, .state = FERRULE_HS_WAIT_FINISHED, .msg = FR_HS_FINISHED,
     .handler = fr_client_on_finished, .next = FERRULE_HS_CONNECTED,
     .what = "verify Finished, send [Certificate, CertificateVerify,] Finished"},
    {.role = C, .state = FERRULE_HS_CONNECTED, .msg = FR_HS_NEW_SESSION_TICKET,
     .handler = fr_on_new_session_ticket, .next = FERRULE_HS_CONNECTED,
     .what = "store the ticket as the latest session"},
    {.role = C, .state = FERRULE_HS_CONNECTED, .msg = FR_HS_KEY_UPDATE, .handler = fr_on_key_update,
     .next = FERRULE_HS_CONNECTED, .what = "update read keys, answer if requested"},
    /* server (RFC 8446 Appendix A.2) */
    {.role = S, .state = FERRULE_HS_WAIT_CLIENT_HELLO, .msg = FR_HS_CLIENT_HELLO,
     .branching = fr_server_on_client_hello, .next = FERRULE_HS_WAIT_CLIENT_FINISHED,
     .on = {[FR_BRANCH_HRR] = FERRULE_HS_WAIT_SECOND_CLIENT_HELLO,
            [FR_BRANCH_CLIENT_CERT] = FERRULE_HS_WAIT_CLIENT_CERTIFICATE,
            [FR_BRANCH_EARLY] = FERRULE_HS_WAIT_END_OF_EARLY_DATA,
            [FR_BRANCH_APP] = FERRULE_HS_WAIT_CLIENT_HELLO},
     .what = "select parameters; send ServerHello..Finished, or a HelloRetryRequest; 0-RTT "
             "accepted: read early data; the application's decisions may pause"},
    {.role = S, .state = FERRULE_HS_WAIT_SECOND_CLIENT_HELLO, .msg = FR_HS_CLIENT_HELLO,
     .branching = fr_server_on_client_hello, .next = FERRULE_HS_WAIT_CLIENT_FINISHED,
     .on = {[FR_BRANCH_CLIENT_CERT] = FERRULE_HS_WAIT_CLIENT_CERTIFICATE,
            [FR_BRANCH_APP] = FERRULE_HS_WAIT_SECOND_CLIENT_HELLO},
     .what = "check the second ClientHello against the first, send ServerHello..Finished; "
             "the application's decisions may pause"},
    {.role = S, .state = FERRULE_HS_WAIT_END_OF_EARLY_DATA, .msg = FR_HS_END_OF_EARLY_DATA,
     .handler = fr_server_on_end_of_early_data, .next = FERRULE_HS_WAIT_CLIENT_FINISHED,
     .what = "end of 0-RTT: read with the client's handshake keys"},
    {.role = S, .state = FERRULE_HS_WAIT_CLIENT_CERTIFICATE, .msg = FR_HS_CERTIFICATE,
     .branching = fr_server_on_certificate, .next = FERRULE_HS_WAIT_CLIENT_CERTIFICATE_VERIFY,
     .on = {[FR_BRANCH_NO_CLIENT_CERT] = FERRULE_HS_WAIT_CLIENT_FINISHED,
            [FR_BRANCH_APP] = FERRULE_HS_WAIT_CLIENT_CERTIFICATE},
     .what = "verify the client's chain (empty: per policy); the application's verdict may "
             "pause"},
    {.role = S, .state = FERRULE_HS_WAIT_CLIENT_CERTIFICATE_VERIFY, .msg = FR_HS_CERTIFICATE_VERIFY,
     .handler = fr_server_on_certificate_verify, .next = FERRULE_HS_WAIT_CLIENT_FINISHED,
     .what = "verify the client's signature"},
    {.role = S, .state = FERRULE_HS_WAIT_CLIENT_FINISHED, .msg = FR_HS_FINISHED,
     .handler = fr_server_on_finished, .next = FERRULE_HS_CONNECTED,
     .what = "verify Finished, application keys"},
    {.role = S, .state = FERRULE_HS_CONNECTED, .msg = FR_HS_KEY_UPDATE, .handler = fr_on_key_update,
     .next = FERRULE_HS_CONNECTED, .what = "update read keys, answer if requested"},
};

/* What each state allows at the record layer, beside the messages the
 * table lists.  A state not listed (start, failed, closed) allows nothing. */
typedef struct fr_state_rules {
    uint32_t role;
    uint32_t state;
    /* Handshake records may arrive (a message or a fragment of one). */
    unsigned handshake : 1;
    /* RFC 8446 §5: an unprotected change_cipher_spec is dropped between
     * the first ClientHello and the peer's Finished. */
    unsigned ccs : 1;
    /* RFC 8446 §4.2.10: the server reads accepted 0-RTT application data. */
    unsigned early : 1;
} fr_state_rules;

static const fr_state_rules RULES[] = {
    {C, FERRULE_HS_WAIT_SERVER_HELLO, 1, 1, 0},
    {C, FERRULE_HS_WAIT_ENCRYPTED_EXTENSIONS, 1, 1, 0},
    {C, FERRULE_HS_WAIT_CERTIFICATE_OR_REQUEST, 1, 1, 0},
    {C, FERRULE_HS_WAIT_CERTIFICATE, 1, 1, 0},
    {C, FERRULE_HS_WAIT_CERTIFICATE_VERIFY, 1, 1, 0},
    {C, FERRULE_HS_WAIT_FINISHED, 1, 1, 0},
    {C, FERRULE_HS_CONNECTED, 1, 0, 0},
    {S, FERRULE_HS_WAIT_CLIENT_HELLO, 1, 0, 0},
    {S, FERRULE_HS_WAIT_SECOND_CLIENT_HELLO, 1, 1, 0},
    {S, FERRULE_HS_WAIT_END_OF_EARLY_DATA, 1, 1, 1},
    {S, FERRULE_HS_WAIT_CLIENT_CERTIFICATE, 1, 1, 0},
    {S, FERRULE_HS_WAIT_CLIENT_CERTIFICATE_VERIFY, 1, 1, 0},
    {S, FERRULE_HS_WAIT_CLIENT_FINISHED, 1, 1, 0},
    {S, FERRULE_HS_CONNECTED, 1, 0, 0},
};

#undef C
#undef S

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const fr_transition *find(uint32_t role, uint32_t state, uint16_t msg) {
    for (size_t i = 0; i < COUNT(TABLE); i++) {
        const fr_transition *t = &TABLE[i];
        if (t->role == role && t->state == state && t->msg == msg) return t;
    }
    return NULL;
}

static const fr_state_rules *rules_of(const fr_conn *c) {
    uint32_t state = c->state;
    for (size_t i = 0; i < COUNT(RULES); i++)
        if (RULES[i].role == c->role && RULES[i].state == state) return &RULES[i];
    return NULL;
}

/* Run the row's handler; *b: the branch it reported, *next: the state
 * that branch selects. */
static fr_err run(const fr_transition *t, fr_conn *c, fr_reader *body, fr_branch *b,
                  uint32_t *next) {
    *b = FR_BRANCH_NEXT;
    FR_TRY(t->branching != NULL ? t->branching(c, body, b) : t->handler(c, body));
    if (*b == FR_BRANCH_NEXT) {
        *next = t->next;
        return FR_OK;
    }
    /* A branch the row does not name is a bug in the handler; so is a
     * pause that would leave the state. */
    FR_ENSURE(*b < FR_BRANCH_COUNT && t->on[*b] != NONE, FERRULE_R_INTERNAL);
    FR_ENSURE(*b != FR_BRANCH_APP || t->on[*b] == t->state, FERRULE_R_INTERNAL);
    *next = t->on[*b];
    return FR_OK;
}

void fr_state_init(fr_conn *c) {
    c->state = c->role == FERRULE_ROLE_CLIENT ? FERRULE_HS_START : FERRULE_HS_WAIT_CLIENT_HELLO;
}

void fr_state_fail(fr_conn *c) {
    uint32_t was = c->state;
    if (was != FERRULE_HS_FAILED) c->failed_in = was;
    c->state = FERRULE_HS_FAILED;
}

fr_err fr_dispatch_start(fr_conn *c) {
    const fr_transition *t = find(c->role, c->state, FR_HS_NONE);
    if (t == NULL) return FR_OK;
    uint32_t next;
    fr_branch b;
    FR_TRY(run(t, c, NULL, &b, &next));
    c->state = next;
    return FR_OK;
}

fr_err fr_dispatch(fr_conn *c, const uint8_t *msg, size_t len, fr_progress *pr) {
    *pr = FR_PROGRESS_DONE;
    const fr_transition *t = find(c->role, c->state, msg[0]);
    FR_ENSURE(t != NULL, FERRULE_R_UNEXPECTED_MESSAGE);
    /* Handlers see the transcript hash before their message in th_before
     * and the transcript including it (RFC 8446 §4.4.1).  The first
     * message of each role (ClientHello / ServerHello) starts it.  A
     * message dispatched again after a decision paused it is in already. */
    if (c->th_ready && !fr_dec_resuming(c) && msg[0] != FR_HS_NEW_SESSION_TICKET &&
        msg[0] != FR_HS_KEY_UPDATE) {
        FR_TRY(fr_transcript_current(&c->th, c->th_before));
        FR_TRY(fr_transcript_update(&c->th, msg, len));
    }
    c->cur_msg = msg;
    c->cur_msg_len = len;
    fr_reader body = fr_reader_init(msg + 4, len - 4);
    uint32_t next;
    fr_branch b;
    fr_err e = run(t, c, &body, &b, &next);
    c->cur_msg = NULL;
    if (e == FR_OK && b == FR_BRANCH_APP) {
        /* Paused for the host: no transition yet (hs/decision.h). */
        *pr = FR_PROGRESS_WANT_APP;
        return FR_OK;
    }
    fr_dec_finish(c);
    FR_TRY(e);
    FR_TRY(fr_read_done(&body));
    c->state = next;
    return FR_OK;
}

int fr_state_accepts(const fr_conn *c, uint8_t msg) {
    return find(c->role, c->state, msg) != NULL;
}

int fr_state_expects_handshake(const fr_conn *c) {
    const fr_state_rules *r = rules_of(c);
    return r != NULL && r->handshake;
}

int fr_state_allows_ccs(const fr_conn *c) {
    const fr_state_rules *r = rules_of(c);
    return r != NULL && r->ccs;
}

int fr_state_reads_early_data(const fr_conn *c) {
    const fr_state_rules *r = rules_of(c);
    return r != NULL && r->early;
}

/* ---- the tables for documentation tooling (tests/c/test_state_doc.c) ---- */

size_t fr_state_table_size(void);
void fr_state_table_row(size_t i, uint32_t *role, uint32_t *state, uint16_t *msg, uint32_t *next,
                        const char **what);
/* Number of branches, the name of branch k, and the state branch k
 * (1 .. count-1) of row i leads to (FR_STATE_NO_ALT: none). */
#define FR_STATE_NO_ALT 0xffffffffu
size_t fr_state_branch_count(void);
const char *fr_state_branch_name(size_t k);
uint32_t fr_state_table_alt(size_t i, size_t k);
/* The record-level rules: row i of the per-state table. */
size_t fr_state_rules_size(void);
void fr_state_rules_row(size_t i, uint32_t *role, uint32_t *state, int *handshake, int *ccs,
                        int *early);

size_t fr_state_table_size(void) { return COUNT(TABLE); }

void fr_state_table_row(size_t i, uint32_t *role, uint32_t *state, uint16_t *msg, uint32_t *next,
                        const char **what) {
    *role = TABLE[i].role;
    *state = TABLE[i].state;
    *msg = TABLE[i].msg;
    *next = TABLE[i].next;
    *what = TABLE[i].what;
}

size_t fr_state_branch_count(void) { return FR_BRANCH_COUNT; }

const char *fr_state_branch_name(size_t k) {
    static const char *const NAMES[FR_BRANCH_COUNT] = {
        [FR_BRANCH_NEXT] = "next",
        [FR_BRANCH_HRR] = "hello_retry_request",
        [FR_BRANCH_RESUMED] = "resumed",
        [FR_BRANCH_CLIENT_CERT] = "client_certificate_requested",
        [FR_BRANCH_NO_CLIENT_CERT] = "no_client_certificate",
        [FR_BRANCH_EARLY] = "early_data_accepted",
        [FR_BRANCH_APP] = "application_decision",
    };
    return k < FR_BRANCH_COUNT ? NAMES[k] : "?";
}

uint32_t fr_state_table_alt(size_t i, size_t k) {
    if (k == FR_BRANCH_NEXT || k >= FR_BRANCH_COUNT || TABLE[i].on[k] == NONE)
        return FR_STATE_NO_ALT;
    return TABLE[i].on[k];
}

size_t fr_state_rules_size(void) { return COUNT(RULES); }

void fr_state_rules_row(size_t i, uint32_t *role, uint32_t *state, int *handshake, int *ccs,
                        int *early) {
    *role = RULES[i].role;
    *state = RULES[i].state;
    *handshake = RULES[i].handshake;
    *ccs = RULES[i].ccs;
    *early = RULES[i].early;
}
