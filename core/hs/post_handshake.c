/* post_handshake.c - NewSessionTicket (RFC 8446 §4.6.1) and KeyUpdate
 * (RFC 8446 §4.6.3) after the handshake. */
#include "../conn.h"

/* fr_on_new_session_ticket is in session.c. */

fr_err fr_send_key_update(fr_conn *c, int request) {
    /* RFC 8446 §4.6.3: KeyUpdate { KeyUpdateRequest request_update; }. */
    const uint8_t msg[5] = {FR_HS_KEY_UPDATE, 0, 0, 1, request ? 1 : 0};
    FR_TRY(fr_conn_send_post_handshake(c, msg, sizeof(msg)));
    /* RFC 8446 §4.6.3: our next records use the next generation. */
    uint8_t *mine = c->role == FERRULE_ROLE_CLIENT ? c->ks.client_ap : c->ks.server_ap;
    FR_TRY(fr_ks_update_secret(c->ks.hash, mine));
    FR_TRY(fr_conn_set_write_secret(c, mine));
    atomic_fetch_add(&c->ku.sent, 1);
    if (request && atomic_load(&c->ku.requested) < FR_KU_MAX_REQUESTED)
        atomic_fetch_add(&c->ku.requested, 1);
    return FR_OK;
}

/* 1 if a KeyUpdate just received answers an update_requested of ours. */
static int answers_our_request(fr_conn *c) {
    uint32_t n = atomic_load(&c->ku.requested);
    while (n > 0) {
        if (atomic_compare_exchange_weak(&c->ku.requested, &n, n - 1)) return 1;
    }
    return 0;
}

fr_err fr_on_key_update(fr_conn *c, fr_reader *body) {
    uint8_t request;
    FR_TRY(fr_read_u8(body, &request));
    FR_TRY(fr_read_done(body));
    /* RFC 8446 §4.6.3: any other value is illegal_parameter. */
    FR_ENSURE(request <= 1, FERRULE_R_BAD_KEY_UPDATE);
    /* Flood bound (docs/key-update.md): at most FR_KU_MAX_CONSECUTIVE
     * KeyUpdates of the peer's own initiative between two application data
     * records.  Answers to our own requests are not counted: we caused
     * them. */
    if (!answers_our_request(c))
        FR_ENSURE(++c->ku.consecutive <= FR_KU_MAX_CONSECUTIVE, FERRULE_R_TOO_MANY_KEY_UPDATES);
    uint8_t *peer = c->role == FERRULE_ROLE_CLIENT ? c->ks.server_ap : c->ks.client_ap;
    FR_TRY(fr_ks_update_secret(c->ks.hash, peer));
    FR_TRY(fr_conn_set_read_secret(c, peer));
    atomic_fetch_add(&c->ku.received, 1);
    if (request == 0) return FR_OK;
    /* RFC 8446 §4.6.3: answer with update_not_requested "prior to sending
     * its next Application Data record", so that a receiver of several
     * requests while it is silent responds with a single update: the
     * answer is owed (one flag, however many requests) and the send half
     * sends it at the end of this pass over the input (fr_conn_read_app),
     * or before any record we send first (fr_conn_do_pending).  Even when
     * this KeyUpdate crosses one of ours that requested an update, it is
     * answered (our earlier update was sent before this request arrived);
     * the answer never requests, so two peers cannot loop. */
    atomic_store(&c->pending_key_update, 1);
    return FR_OK;
}
