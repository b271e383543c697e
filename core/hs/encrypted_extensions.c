/* encrypted_extensions.c - EncryptedExtensions (RFC 8446 §4.3.1). */
#include "../conn.h"

fr_err fr_send_encrypted_extensions(fr_conn *c) {
    fr_msgbuf m;
    FR_TRY(fr_msg_begin(c, &m, FR_HS_ENCRYPTED_EXTENSIONS, 512));
    fr_writer *w = &m.w;
    fr_write_open_vec(w, 2);
    if (c->has_server_name && !c->resume.resumed) {
        /* RFC 6066 §3: an empty server_name acknowledges the client's;
         * "when resuming a session, the server MUST NOT include" it. */
        fr_write_u16(w, FR_EXT_SERVER_NAME);
        fr_write_u16(w, 0);
    }
    if (c->alpn_len > 0) {
        fr_write_u16(w, FR_EXT_ALPN);
        fr_write_open_vec(w, 2);
        fr_write_open_vec(w, 2);
        fr_write_open_vec(w, 1);
        fr_write_bytes(w, c->alpn, c->alpn_len);
        fr_write_close_vec(w);
        fr_write_close_vec(w);
        fr_write_close_vec(w);
    }
    if (c->early.accepted) { /* RFC 8446 §4.2.10: 0-RTT accepted */
        fr_write_u16(w, FR_EXT_EARLY_DATA);
        fr_write_u16(w, 0);
    }
    fr_rsl_server_write_ee(c, w);
    fr_write_close_vec(w);
    return fr_msg_send(c, &m);
}

static fr_err check_alpn(fr_conn *c, fr_reader *body) {
    /* RFC 7301 §3.1: exactly one protocol, one the client offered. */
    fr_reader list, proto;
    FR_TRY(fr_read_vec16(body, &list));
    FR_TRY(fr_read_done(body));
    FR_TRY(fr_read_vec8(&list, &proto));
    FR_TRY(fr_read_done(&list));
    size_t n = fr_reader_left(&proto);
    FR_ENSURE(n > 0, FERRULE_R_DECODE_ERROR);
    fr_reader ours = fr_reader_init(c->cfg->alpn, c->cfg->alpn_len);
    while (!fr_reader_empty(&ours)) {
        fr_reader mine;
        FR_TRY(fr_read_vec8(&ours, &mine));
        if (fr_reader_left(&mine) == n && memcmp(mine.p, proto.p, n) == 0) {
            memcpy(c->alpn, proto.p, n);
            c->alpn_len = n;
            return FR_OK;
        }
    }
    /* RFC 7301 §3.2: a protocol we did not offer (illegal_parameter). */
    return FERRULE_R_UNOFFERED_ALPN;
}

fr_err fr_client_on_encrypted_extensions(fr_conn *c, fr_reader *body, fr_branch *branch) {
    fr_reader block;
    fr_exts x;
    fr_ext *early = NULL;
    FR_TRY(fr_read_vec16(body, &block));
    FR_TRY(fr_read_done(body));
    FR_TRY(fr_exts_parse(&block, &x));
    fr_reader it = x.block;
    fr_ext ext, *e = &ext;
    while (fr_exts_next(&it, e)) {
        switch (e->type) {
        case FR_EXT_SERVER_NAME:
            FR_ENSURE(c->sent_sni, FERRULE_R_UNSUPPORTED_EXTENSION);
            FR_TRY(fr_ext_result(fr_read_done(&e->body))); /* must be empty */
            break;
        case FR_EXT_ALPN:
            FR_ENSURE(c->sent_alpn, FERRULE_R_UNSUPPORTED_EXTENSION);
            FR_TRY(fr_ext_result(check_alpn(c, &e->body)));
            break;
        case FR_EXT_RECORD_SIZE_LIMIT:
            FR_TRY(fr_rsl_client_on_ee(c, &e->body));
            break;
        case FR_EXT_SUPPORTED_GROUPS:
            /* RFC 8446 §4.2.7: informational; we may ignore it. */
            break;
        case FR_EXT_EARLY_DATA:
            early = fr_exts_find(&x, FR_EXT_EARLY_DATA); /* checked after ALPN is known */
            break;
        case FR_EXT_STATUS_REQUEST:
        case FR_EXT_SIGNATURE_ALGORITHMS:
        case FR_EXT_PADDING:
        case FR_EXT_PRE_SHARED_KEY:
        case FR_EXT_SUPPORTED_VERSIONS:
        case FR_EXT_COOKIE:
        case FR_EXT_PSK_KEY_EXCHANGE_MODES:
        case FR_EXT_CERTIFICATE_AUTHORITIES:
        case FR_EXT_OID_FILTERS:
        case FR_EXT_POST_HANDSHAKE_AUTH:
        case FR_EXT_SIGNATURE_ALGORITHMS_CERT:
        case FR_EXT_KEY_SHARE:
            /* RFC 8446 §4.2: recognised, but the table there places it in
             * other messages only (ClientHello, ServerHello, HRR,
             * CertificateRequest, Certificate): illegal_parameter, even
             * when it answers something we sent (status_request, a PSK). */
            return FERRULE_R_ILLEGAL_PARAMETER;
        default:
            /* RFC 8446 §4.2: a response to an extension we did not send. */
            return FERRULE_R_UNSUPPORTED_EXTENSION;
        }
    }
    FR_TRY(fr_client_on_early_data_ext(c, early));
    /* RFC 8446 §2.2: resumed, Finished follows (no Certificate). */
    if (c->resume.resumed) *branch = FR_BRANCH_RESUMED;
    return FR_OK;
}
