/* certificate.c - Certificate (RFC 8446 §4.4.2) and the client's
 * verification of the server's chain. */
#include "../conn.h"

fr_err fr_send_certificate(ferrule_conn *c) {
    const fr_chain *ch = c->our_chain;
    size_t size = 64;
    for (size_t i = 0; i < ch->n; i++) size += ch->lens[i] + 5;
    fr_msgbuf m;
    FR_TRY(fr_msg_begin(c, &m, FR_HS_CERTIFICATE, size));
    fr_writer *w = &m.w;
    fr_write_u8(w, 0); /* certificate_request_context: empty for servers */
    fr_write_open_vec(w, 3);
    for (size_t i = 0; i < ch->n; i++) {
        fr_write_open_vec(w, 3);
        fr_write_bytes(w, ch->ders[i], ch->lens[i]);
        fr_write_close_vec(w);
        fr_write_u16(w, 0); /* no per-certificate extensions */
    }
    fr_write_close_vec(w);
    return fr_msg_send(c, &m);
}

fr_err fr_client_on_certificate(ferrule_conn *c, fr_reader *body) {
    fr_reader ctx, list;
    FR_TRY(fr_read_vec8(body, &ctx));
    FR_TRY(fr_read_vec24(body, &list));
    FR_TRY(fr_read_done(body));
    /* RFC 8446 §4.4.2: the server's request context is empty. */
    FR_ENSURE(fr_reader_empty(&ctx), FERRULE_R_ILLEGAL_PARAMETER);
    /* RFC 8446 §4.4.2.4: an empty server Certificate is decode_error. */
    FR_ENSURE(!fr_reader_empty(&list), FERRULE_R_CERT_MISSING);
    while (!fr_reader_empty(&list)) {
        fr_reader data, ext_block;
        fr_exts x;
        FR_TRY(fr_read_vec24(&list, &data));
        FR_TRY(fr_read_vec16(&list, &ext_block));
        FR_ENSURE(!fr_reader_empty(&data), FERRULE_R_DECODE_ERROR);
        FR_TRY(fr_exts_parse(&ext_block, &x));
        /* We request neither OCSP nor SCTs (yet): any entry extension
         * answers something we did not send. */
        FR_ENSURE(x.n == 0, FERRULE_R_UNSUPPORTED_EXTENSION);
        FR_ENSURE(c->n_peer_certs < FR_MAX_PEER_CERTS, FERRULE_R_CERT_TOO_MUCH_WORK);
        fr_cert *cert = NULL;
        FR_TRY(fr_cert_parse(&c->mem, data.p, fr_reader_left(&data), &cert));
        c->peer_certs[c->n_peer_certs++] = cert;
    }
    const ferrule_config *cfg = c->cfg;
    if (cfg->no_verification) return FR_OK;
    fr_verify_params p;
    fr_config_verify_params(cfg, &p);
    p.now = fr_conn_now(c);
    if (!cfg->no_hostname_check) {
        /* Without an expected name there is nothing to match: fail closed. */
        FR_ENSURE(c->has_server_name, FERRULE_R_CERT_NAME_MISMATCH);
        p.peer_name = c->server_name;
    }
    FR_TRY(fr_verify_chain_result(&cfg->trust, c->peer_certs, c->n_peer_certs, &p, &c->mem,
                                  &c->verify_result));
    /* The application may add restrictions, never lift ours: it is asked
     * only about a chain we accepted. */
    if (cfg->verify_cb != NULL && cfg->verify_cb(cfg->verify_cb_ctx, c, c->verify_result) != 0)
        return FERRULE_R_CERT_REJECTED;
    return FR_OK;
}
