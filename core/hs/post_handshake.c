/* post_handshake.c - NewSessionTicket (RFC 8446 §4.6.1) and KeyUpdate
 * (RFC 8446 §4.6.3) after the handshake. */
#include "../conn.h"

fr_err fr_on_new_session_ticket(ferrule_conn *c, fr_reader *body) {
    uint32_t lifetime, age_add;
    fr_reader nonce, ticket, exts_block;
    fr_exts x;
    FR_TRY(fr_read_u32(body, &lifetime));
    FR_TRY(fr_read_u32(body, &age_add));
    FR_TRY(fr_read_vec8(body, &nonce));
    FR_TRY(fr_read_vec16(body, &ticket));
    FR_TRY(fr_read_vec16(body, &exts_block));
    FR_TRY(fr_read_done(body));
    FR_ENSURE(!fr_reader_empty(&ticket), FERRULE_R_DECODE_ERROR);
    FR_TRY(fr_exts_parse(&exts_block, &x));
    /* RFC 8446 §4.6.1: at most seven days. */
    FR_ENSURE(lifetime <= 604800, FERRULE_R_ILLEGAL_PARAMETER);
    /* Resumption arrives with issue 4: the ticket is validated and dropped. */
    return FR_OK;
}

fr_err fr_send_key_update(ferrule_conn *c, int request) {
    fr_msgbuf m;
    FR_TRY(fr_msg_begin(c, &m, FR_HS_KEY_UPDATE, 8));
    fr_write_u8(&m.w, request ? 1 : 0);
    FR_TRY(fr_msg_send(c, &m));
    /* RFC 8446 §4.6.3: our next records use the next generation. */
    uint8_t *mine = c->role == FERRULE_ROLE_CLIENT ? c->ks.client_ap : c->ks.server_ap;
    FR_TRY(fr_ks_update_secret(c->ks.hash, mine));
    return fr_conn_set_write_secret(c, mine);
}

fr_err fr_on_key_update(ferrule_conn *c, fr_reader *body) {
    uint8_t request;
    FR_TRY(fr_read_u8(body, &request));
    FR_TRY(fr_read_done(body));
    FR_ENSURE(request <= 1, FERRULE_R_ILLEGAL_PARAMETER);
    uint8_t *peer = c->role == FERRULE_ROLE_CLIENT ? c->ks.server_ap : c->ks.client_ap;
    FR_TRY(fr_ks_update_secret(c->ks.hash, peer));
    FR_TRY(fr_conn_set_read_secret(c, peer));
    if (request == 0) return FR_OK;
    /* Answer once (RFC 8446 §4.6.3), from the send half: see
     * fr_conn_service_send for why the reader never waits for it. */
    atomic_store(&c->pending_key_update, 1);
    fr_conn_service_send(c);
    return FR_OK;
}
