/* certificate_request.c - the server's CertificateRequest and its handling
 * of the client's Certificate (RFC 8446 §4.3.2, §4.4.2, §4.4.2.4).  The
 * client's CertificateVerify is checked in certificate_verify.c. */
#include "../conn.h"

int fr_server_wants_client_cert(const fr_conn *c) {
    /* RFC 8446 §4.3.2: never in a PSK handshake; the client's identity
     * then comes from the ticket (psk.c). */
    return c->cfg->cauth.mode != FERRULE_CLIENT_AUTH_NONE && !c->resume.resumed;
}

/* Total bytes the certificate_authorities list would take, or 0 if it is
 * empty or would exceed FR_CA_NAMES_MAX. */
static size_t ca_names_size(const fr_trust_store *t) {
    size_t total = 0;
    for (size_t i = 0; i < t->n; i++) {
        size_t len = t->certs[i]->subject_len;
        if (len == 0 || len > 0xffff) return 0;
        total += 2 + len;
        if (total > FR_CA_NAMES_MAX) return 0;
    }
    return total;
}

fr_err fr_send_certificate_request(fr_conn *c) {
    const fr_config *cfg = c->cfg;
    size_t names = ca_names_size(&cfg->trust);
    fr_msgbuf m;
    FR_TRY(fr_msg_begin(c, &m, FR_HS_CERTIFICATE_REQUEST, 64 + 4 * FR_MAX_SIGS + names));
    fr_writer *w = &m.w;
    /* RFC 8446 §4.3.2: the context of a request made during the handshake
     * is empty (non-empty contexts are for post-handshake requests). */
    fr_write_u8(w, 0);
    fr_write_open_vec(w, 2);
    /* signature_algorithms (mandatory) and signature_algorithms_cert. */
    size_t n_accept;
    const uint16_t *accept = fr_cfg_verify_sigs(cfg, &n_accept);
    fr_write_sig_alg_exts(w, accept, n_accept);
    /* certificate_authorities (RFC 8446 §4.2.4): the subject names of our
     * trust anchors, to help a client holding several chains choose.  It
     * is only a hint, so a store too large to list omits it. */
    if (names > 0) {
        fr_write_u16(w, FR_EXT_CERTIFICATE_AUTHORITIES);
        fr_write_open_vec(w, 2);
        fr_write_open_vec(w, 2);
        for (size_t i = 0; i < cfg->trust.n; i++) {
            const fr_cert *a = cfg->trust.certs[i];
            fr_write_open_vec(w, 2);
            fr_write_bytes(w, a->subject, a->subject_len);
            fr_write_close_vec(w);
        }
        fr_write_close_vec(w);
        fr_write_close_vec(w);
        c->cauth.ca_names = 1;
    }
    fr_write_close_vec(w);
    c->cauth.requested = 1;
    return fr_msg_send(c, &m);
}

fr_err fr_server_on_certificate(fr_conn *c, fr_reader *body, fr_branch *branch) {
    if (fr_dec_resuming(c)) return fr_verify_resume(c, body); /* after VERIFY */
    fr_reader ctx, list;
    FR_ENSURE(c->cauth.requested, FERRULE_R_UNEXPECTED_MESSAGE);
    FR_TRY(fr_read_vec8(body, &ctx));
    FR_TRY(fr_read_vec24(body, &list));
    FR_TRY(fr_read_done(body));
    /* RFC 8446 §4.4.2: the context echoes our request's, which is empty. */
    FR_ENSURE(fr_reader_empty(&ctx), FERRULE_R_ILLEGAL_PARAMETER);
    if (fr_reader_empty(&list)) {
        /* RFC 8446 §4.4.2.4: no certificate.  The server may continue
         * without client authentication, or abort with
         * certificate_required.  No CertificateVerify follows. */
        FR_ENSURE(c->cfg->cauth.mode != FERRULE_CLIENT_AUTH_REQUIRE, FERRULE_R_CERT_REQUIRED);
        c->cauth.anonymous = 1;
        *branch = FR_BRANCH_NO_CLIENT_CERT;
        return FR_OK;
    }
    /* Entry extensions answer extensions of our CertificateRequest, which
     * asks for none: any is unsupported_extension (RFC 8446 §4.4.2). */
    const uint8_t *staple;
    size_t staple_len;
    FR_TRY(fr_parse_certificate_list(c, &list, &staple, &staple_len));
    return fr_verify_peer_chain(c, staple, staple_len, branch);
}
