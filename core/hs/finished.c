/* finished.c - Finished (RFC 8446 §4.4.4) and the switch to application
 * traffic keys. */
#include "../conn.h"

fr_err fr_enter_application_secrets(fr_conn *c);

fr_err fr_send_finished(fr_conn *c) {
    const uint8_t *base = c->role == FERRULE_ROLE_CLIENT ? c->ks.client_hs : c->ks.server_hs;
    uint8_t th[FR_MAX_HASH], verify[FR_MAX_HASH];
    FR_TRY(fr_transcript_current(&c->th, th));
    FR_TRY(fr_ks_finished(c->ks.hash, base, th, verify));
    fr_msgbuf m;
    fr_err e = fr_msg_begin(c, &m, FR_HS_FINISHED, 16 + c->ks.hlen);
    if (e == FR_OK) {
        fr_write_bytes(&m.w, verify, c->ks.hlen);
        e = fr_msg_send(c, &m);
    }
    fr_wipe(verify, sizeof(verify));
    return e;
}

fr_err fr_check_finished(fr_conn *c, fr_reader *body, const uint8_t *base_key) {
    const uint8_t *got;
    uint8_t want[FR_MAX_HASH];
    /* RFC 8446 §4.4.4: verify_data is exactly Hash.length bytes. */
    FR_ENSURE(fr_reader_left(body) == c->ks.hlen, FERRULE_R_DECODE_ERROR);
    FR_TRY(fr_read_bytes(body, c->ks.hlen, &got));
    FR_TRY(fr_ks_finished(c->ks.hash, base_key, c->th_before, want));
    int ok = fr_ct_equal(got, want, c->ks.hlen);
    fr_wipe(want, sizeof(want));
    return ok ? FR_OK : FERRULE_R_BAD_FINISHED;
}

/* Handshake secrets are dead once both Finished messages are done. */
static void wipe_handshake_secrets(fr_conn *c) {
    fr_wipe(c->ks.client_hs, sizeof(c->ks.client_hs));
    fr_wipe(c->ks.server_hs, sizeof(c->ks.server_hs));
    fr_wipe(c->ks.handshake_secret, sizeof(c->ks.handshake_secret));
    fr_wipe(c->ks.early_secret, sizeof(c->ks.early_secret));
    /* The transcript ends with the resumption secret (RFC 8446 §7.1):
     * post-handshake messages stay out of it (state.c), so its hash context
     * goes now rather than staying with every idle connection. */
    fr_transcript_free(&c->th);
    c->th_ready = 0;
}

fr_err fr_client_on_finished(fr_conn *c, fr_reader *body) {
    FR_TRY(fr_check_finished(c, body, c->ks.server_hs));
    FR_TRY(fr_enter_application_secrets(c));
    /* RFC 8446 §4.5: EndOfEarlyData if our 0-RTT was accepted. */
    FR_TRY(fr_client_end_early_data(c));
    /* The compatibility change_cipher_spec went when the ServerHello was
     * processed (fr_client_compat_ccs). */
    /* RFC 8446 §4.4.2, §4.4.3: a requested client Certificate comes first,
     * then (only if it is not empty) our CertificateVerify. */
    if (c->cert_requested) {
        FR_TRY(fr_send_certificate(c));
        if (c->our_chain != NULL) FR_TRY(fr_send_certificate_verify(c));
    }
    FR_TRY(fr_send_finished(c));
    uint8_t th[FR_MAX_HASH];
    FR_TRY(fr_transcript_current(&c->th, th));
    FR_TRY(fr_ks_resumption(&c->ks, th));
    FR_TRY(fr_conn_set_write_secret(c, c->ks.client_ap));
    FR_TRY(fr_conn_set_read_secret(c, c->ks.server_ap));
    wipe_handshake_secrets(c);
    return FR_OK;
}

fr_err fr_server_on_finished(fr_conn *c, fr_reader *body) {
    FR_TRY(fr_check_finished(c, body, c->ks.client_hs));
    uint8_t th[FR_MAX_HASH];
    FR_TRY(fr_transcript_current(&c->th, th));
    FR_TRY(fr_ks_resumption(&c->ks, th));
    FR_TRY(fr_conn_set_read_secret(c, c->ks.client_ap));
    wipe_handshake_secrets(c);
    /* RFC 8446 §4.6.1: tickets after the client's Finished, from the send
     * half. */
    fr_server_schedule_tickets(c);
    return FR_OK;
}
