/* server_hello.c - ServerHello: the server's first flight, and the client's
 * checks of it (RFC 8446 §4.1.3, §4.2.1, §4.2.8, §7.1). */
#include "../conn.h"

/* RFC 8446 §4.1.3: SHA-256("HelloRetryRequest") */
static const uint8_t HRR_RANDOM[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};
/* RFC 8446 §4.1.3 downgrade sentinels in the last 8 bytes of random. */
static const uint8_t DOWNGRADE_TLS12[8] = {0x44, 0x4F, 0x57, 0x4E, 0x47, 0x52, 0x44, 0x01};
static const uint8_t DOWNGRADE_TLS11[8] = {0x44, 0x4F, 0x57, 0x4E, 0x47, 0x52, 0x44, 0x00};

/* Client: the PSK inside the session blob we offered (our copy, from
 * ferrule_conn_set_session) is dead once the ServerHello is processed,
 * whether the server resumed it or not: its binders and early traffic
 * secret are derived, and a second ClientHello only follows a
 * HelloRetryRequest (docs/secrets.md).  The rest of the blob (the
 * server's leaf, ALPN, SNI) stays for the resumed connection. */
static void forget_offered_psk(fr_conn *c) {
    fr_resume_conn *r = &c->resume;
    if (r->offer_blob == NULL || r->offer.psk == NULL) return;
    size_t off = (size_t)(r->offer.psk - r->offer_blob);
    if (off > r->offer_len || r->offer.psk_len > r->offer_len - off) return;
    fr_wipe(r->offer_blob + off, r->offer.psk_len);
}

/* Derive and install the handshake traffic secrets from the shared secret. */
static fr_err enter_handshake_keys(fr_conn *c, const uint8_t *shared, size_t shared_len) {
    const fr_suite_info *si = fr_suite_lookup(c->suite);
    FR_ENSURE(si != NULL, FERRULE_R_INTERNAL);
    uint8_t th[FR_MAX_HASH];
    FR_TRY(fr_transcript_current(&c->th, th));
    /* RFC 8446 §7.1: the Early Secret from the accepted PSK, if any. */
    FR_TRY(fr_ks_init(&c->ks, si->hash, c->resume.resumed ? c->resume.psk : NULL,
                      c->resume.resumed ? c->resume.psk_len : 0));
    fr_wipe(c->resume.psk, sizeof(c->resume.psk));
    forget_offered_psk(c);
    FR_TRY(fr_ks_handshake(&c->ks, shared, shared_len, th));
    fr_conn_keylog(c, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", c->ks.client_hs);
    fr_conn_keylog(c, "SERVER_HANDSHAKE_TRAFFIC_SECRET", c->ks.server_hs);
    int client = c->role == FERRULE_ROLE_CLIENT;
    FR_TRY(fr_conn_set_read_secret(c, client ? c->ks.server_hs : c->ks.client_hs));
    /* A client with 0-RTT pending keeps writing under the early keys until
     * EncryptedExtensions tells whether they were accepted. */
    if (client && fr_client_early_pending(c)) return FR_OK;
    /* RFC 8446 Appendix D.4: a client in compatibility mode sends its
     * change_cipher_spec before anything encrypted: its second flight, or
     * an alert about what the server sent. */
    if (client) FR_TRY(fr_client_compat_ccs(c));
    FR_TRY(fr_conn_set_write_secret(c, client ? c->ks.client_hs : c->ks.server_hs));
    return FR_OK;
}

/* After the server's Finished is in the transcript: application secrets. */
fr_err fr_enter_application_secrets(fr_conn *c);
fr_err fr_enter_application_secrets(fr_conn *c) {
    uint8_t th[FR_MAX_HASH];
    FR_TRY(fr_transcript_current(&c->th, th));
    FR_TRY(fr_ks_master(&c->ks, th));
    fr_conn_keylog(c, "CLIENT_TRAFFIC_SECRET_0", c->ks.client_ap);
    fr_conn_keylog(c, "SERVER_TRAFFIC_SECRET_0", c->ks.server_ap);
    fr_conn_keylog(c, "EXPORTER_SECRET", c->ks.exporter);
    return FR_OK;
}

/* RFC 8446 §7.1: psk_ke has no (EC)DHE input: Hash.length zeros. */
static fr_err psk_ke_secret(uint16_t suite, uint8_t *shared, size_t *shared_len) {
    const fr_suite_info *si = fr_suite_lookup(suite);
    FR_ENSURE(si != NULL, FERRULE_R_INTERNAL);
    *shared_len = fr_hash_len(si->hash);
    memset(shared, 0, *shared_len);
    return FR_OK;
}

/* Our key_share and the (EC)DHE shared secret, or, in psk_ke, no share
 * and no (EC)DHE input. */
static fr_err server_shared_secret(fr_conn *c, const uint8_t *peer_share, size_t peer_len,
                                   uint8_t *pub, size_t *pub_len, uint8_t *shared,
                                   size_t *shared_len) {
    *pub_len = 0;
    if (c->resume.psk_ke) {
        c->group = 0;
        return psk_ke_secret(c->suite, shared, shared_len);
    }
    /* ECDH: a key pair of ours for the group; X25519MLKEM768: an ML-KEM
     * encapsulation to the client's key plus X25519 (kex.c). */
    return fr_kex_respond(c->group, peer_share, peer_len, pub, FR_KEX_MAX_PUB, pub_len, shared,
                          FR_KEX_MAX_SECRET, shared_len);
}

/* What a ServerHello and a HelloRetryRequest begin with (RFC 8446
 * §4.1.3): legacy_version, random, legacy_session_id_echo, cipher_suite,
 * legacy_compression_method, then, in the extensions block it leaves
 * open, supported_versions. */
static void write_hello_head(fr_writer *w, const uint8_t *random, const uint8_t *sid,
                             size_t sid_len, uint16_t suite) {
    fr_write_u16(w, 0x0303);
    fr_write_bytes(w, random, 32);
    fr_write_open_vec(w, 1);
    fr_write_bytes(w, sid, sid_len);
    fr_write_close_vec(w);
    fr_write_u16(w, suite);
    fr_write_u8(w, 0);
    fr_write_open_vec(w, 2);
    fr_write_u16(w, FR_EXT_SUPPORTED_VERSIONS);
    fr_write_open_vec(w, 2);
    fr_write_u16(w, FERRULE_TLS13);
    fr_write_close_vec(w);
}

static fr_err send_server_hello(fr_conn *c, const uint8_t *pub, size_t pub_len) {
    fr_msgbuf m;
    FR_TRY(fr_msg_begin(c, &m, FR_HS_SERVER_HELLO, 512 + pub_len));
    fr_writer *w = &m.w;
    write_hello_head(w, c->server_random, c->session_id, c->session_id_len, c->suite);
    if (!c->resume.psk_ke) { /* RFC 8446 §4.2.8 */
        fr_write_u16(w, FR_EXT_KEY_SHARE);
        fr_write_open_vec(w, 2);
        fr_write_u16(w, c->group);
        fr_write_open_vec(w, 2);
        fr_write_bytes(w, pub, pub_len);
        fr_write_close_vec(w);
        fr_write_close_vec(w);
    }
    if (c->resume.resumed) { /* RFC 8446 §4.2.11: selected_identity */
        fr_write_u16(w, FR_EXT_PRE_SHARED_KEY);
        fr_write_open_vec(w, 2);
        fr_write_u16(w, c->resume.selected);
        fr_write_close_vec(w);
    }
    fr_write_close_vec(w);
    return fr_msg_send(c, &m);
}

fr_err fr_server_send_flight(fr_conn *c, const uint8_t *peer_share, size_t peer_len);
fr_err fr_server_send_flight(fr_conn *c, const uint8_t *peer_share, size_t peer_len) {
    uint8_t pub[FR_KEX_MAX_PUB], shared[FR_KEX_MAX_SECRET];
    size_t pub_len, shared_len;
    FR_TRY(fr_random(c->server_random, 32));
    fr_err e = server_shared_secret(c, peer_share, peer_len, pub, &pub_len, shared, &shared_len);
    if (e == FR_OK) e = send_server_hello(c, pub, pub_len);
    if (e == FR_OK) e = enter_handshake_keys(c, shared, shared_len);
    fr_wipe(shared, sizeof(shared));
    FR_TRY(e);
    /* RFC 8446 Appendix D.4: a client in compatibility mode (non-empty
     * session id) gets a change_cipher_spec after our first message --
     * the HelloRetryRequest, if there was one (sent there, not twice). */
    if (c->session_id_len > 0 && !c->hrr.done) FR_TRY(fr_conn_send_ccs(c));
    FR_TRY(fr_send_encrypted_extensions(c));
    /* RFC 8446 §2.2: a PSK handshake has no Certificate/CertificateVerify
     * (and we never request a client certificate then). */
    if (!c->resume.resumed) {
        if (fr_server_wants_client_cert(c)) FR_TRY(fr_send_certificate_request(c));
        FR_TRY(fr_send_certificate(c));
        FR_TRY(fr_send_certificate_verify(c));
    }
    FR_TRY(fr_send_finished(c));
    FR_TRY(fr_enter_application_secrets(c));
    /* Accepted 0-RTT: we read with the early keys until EndOfEarlyData. */
    if (c->early.accepted) FR_TRY(fr_server_start_early_read(c));
    /* We write application data from now on; we read with the client's
     * handshake keys until its Finished. */
    return fr_conn_set_write_secret(c, c->ks.server_ap);
}

void fr_hrr_write_body(fr_writer *w, const uint8_t *sid, size_t sid_len, uint16_t suite,
                       uint16_t group, const uint8_t *cookie, size_t cookie_len) {
    /* RFC 8446 §4.1.4: a ServerHello with the special random, carrying
     * supported_versions, key_share (selected_group only) and cookie. */
    write_hello_head(w, HRR_RANDOM, sid, sid_len, suite);
    fr_write_u16(w, FR_EXT_KEY_SHARE);
    fr_write_open_vec(w, 2);
    fr_write_u16(w, group);
    fr_write_close_vec(w);
    if (cookie_len > 0) {
        fr_write_u16(w, FR_EXT_COOKIE);
        fr_write_open_vec(w, 2);
        fr_write_open_vec(w, 2);
        fr_write_bytes(w, cookie, cookie_len);
        fr_write_close_vec(w);
        fr_write_close_vec(w);
    }
    fr_write_close_vec(w);
}

/* Does the block hold only extensions of the types in `allowed` (bits of
 * types below FR_EXT_SLOTS)?  Every other type counts as not allowed. */
static int only_types(const fr_exts *x, uint64_t allowed) {
    size_t slotted = 0;
    for (uint64_t p = x->present; p != 0; p &= p - 1) slotted++;
    return (x->present & ~allowed) == 0 && slotted == x->n;
}

/* Client: a HelloRetryRequest (RFC 8446 §4.1.4), whose legacy fields and
 * version were already checked like a ServerHello's. */
static fr_err client_on_hrr(fr_conn *c, uint16_t suite, fr_exts *x) {
    const fr_config *cfg = c->cfg;
    /* RFC 8446 §4.1.4: only one HelloRetryRequest per handshake. */
    FR_ENSURE(!c->hrr.done, FERRULE_R_UNEXPECTED_MESSAGE);
    /* Nothing can follow a HelloRetryRequest before our second ClientHello
     * (recv.c:hs_drain refuses it after any message that ends a flight);
     * refused before we answer, so that the alert is all the server gets. */
    FR_ENSURE(c->hs_after == 0, FERRULE_R_UNALIGNED_HANDSHAKE);
    FR_ENSURE(fr_exts_find(x, FR_EXT_RECORD_SIZE_LIMIT) == NULL || !c->rsl.offered,
              FERRULE_R_ILLEGAL_PARAMETER); /* RFC 8449 §4: not in a ServerHello */
    FR_ENSURE(only_types(x, 1ull << FR_EXT_SUPPORTED_VERSIONS | 1ull << FR_EXT_KEY_SHARE |
                                1ull << FR_EXT_COOKIE),
              FERRULE_R_UNSUPPORTED_EXTENSION);
    fr_ext *ks = fr_exts_find(x, FR_EXT_KEY_SHARE);
    fr_ext *ck = fr_exts_find(x, FR_EXT_COOKIE);
    /* RFC 8446 §4.1.4: an HRR that would not change the ClientHello. */
    FR_ENSURE(ks != NULL || ck != NULL, FERRULE_R_EMPTY_HRR);
    uint16_t group = 0;
    if (ks != NULL) {
        FR_TRY(fr_read_u16(&ks->body, &group));
        FR_TRY(fr_read_done(&ks->body));
        /* RFC 8446 §4.2.8: a group we offered in supported_groups, and
         * not one we already sent a share for (illegal_parameter). */
        FR_ENSURE(fr_u16_in(group, cfg->groups, cfg->n_groups), FERRULE_R_WRONG_GROUP);
        for (size_t i = 0; i < c->n_kex; i++)
            FR_ENSURE(c->kex[i].group != group, FERRULE_R_WRONG_GROUP);
    } else {
        /* Only a cookie: the same share again, for the same group. */
        FR_ENSURE(c->n_kex > 0, FERRULE_R_INTERNAL);
        group = c->kex[0].group;
    }
    fr_reader cookie = fr_reader_init(NULL, 0);
    if (ck != NULL) { /* RFC 8446 §4.2.2: opaque cookie<1..2^16-1> */
        FR_TRY(fr_read_vec16(&ck->body, &cookie));
        FR_TRY(fr_read_done(&ck->body));
        FR_ENSURE(!fr_reader_empty(&cookie), FERRULE_R_DECODE_ERROR);
    }
    const fr_suite_info *si = fr_suite_lookup(suite);
    FR_ENSURE(si != NULL, FERRULE_R_INTERNAL);
    FR_ENSURE(c->ch_copy != NULL, FERRULE_R_INTERNAL);

    /* RFC 8446 §4.4.1: message_hash(ClientHello1), then this HRR; the
     * second ClientHello joins when sent (th_ready). */
    uint8_t ch1_hash[FR_MAX_HASH];
    FR_TRY(fr_hash(si->hash, c->ch_copy, c->ch_len, ch1_hash));
    FR_TRY(fr_hrr_transcript_start(&c->th, si->hash, ch1_hash));
    c->th_ready = 1;
    FR_TRY(fr_transcript_update(&c->th, c->cur_msg, c->cur_msg_len));
    fr_mem_free(&c->mem, c->ch_copy, c->ch_len);
    c->ch_copy = NULL;
    c->ch_len = 0;
    c->hrr.done = 1;
    c->hrr.suite = suite;
    c->hrr.group = group;
    fr_client_early_on_hrr(c);
    return fr_client_send_second_hello(c, cookie.p, fr_reader_left(&cookie), ks != NULL);
}

/* A ServerHello or HelloRetryRequest (RFC 8446 §4.1.3), as sent. */
typedef struct server_hello {
    uint16_t legacy_version, suite;
    const uint8_t *random; /* 32 bytes */
    fr_reader sid;
    uint8_t comp;
    fr_exts x;
} server_hello;

/* Parse: the structure alone, no judgement. */
static fr_err parse_server_hello(fr_reader *body, server_hello *sh) {
    FR_TRY(fr_read_u16(body, &sh->legacy_version));
    FR_TRY(fr_read_bytes(body, 32, &sh->random));
    FR_TRY(fr_read_vec8(body, &sh->sid));
    FR_TRY(fr_read_u16(body, &sh->suite));
    FR_TRY(fr_read_u8(body, &sh->comp));
    sh->x.n = 0;
    sh->x.present = 0;
    if (!fr_reader_empty(body)) {
        fr_reader ext_block;
        FR_TRY(fr_read_vec16(body, &ext_block));
        FR_TRY(fr_exts_parse(&ext_block, &sh->x));
    }
    return fr_read_done(body);
}

/* Decide, for a ServerHello and a HelloRetryRequest alike: TLS 1.3, and
 * the legacy fields answer our ClientHello. */
static fr_err check_hello_fields(const fr_conn *c, server_hello *sh) {
    const fr_config *cfg = c->cfg;
    fr_ext *sv = fr_exts_find(&sh->x, FR_EXT_SUPPORTED_VERSIONS);
    /* RFC 8446 §4.1.4: after a HelloRetryRequest, the ServerHello keeps
     * its selected_version; a change (or none) is illegal_parameter. */
    FR_ENSURE(sv != NULL || !c->hrr.done, FERRULE_R_HRR_VERSION_CHANGED);
    if (sv == NULL) {
        /* The server chose TLS 1.2 or older.  RFC 8446 §4.1.3: a downgrade
         * sentinel means an attack; otherwise the versions do not meet. */
        if (memcmp(sh->random + 24, DOWNGRADE_TLS12, 8) == 0 ||
            memcmp(sh->random + 24, DOWNGRADE_TLS11, 8) == 0)
            return FERRULE_R_DOWNGRADE;
        return FERRULE_R_PROTOCOL_VERSION;
    }
    uint16_t selected;
    FR_TRY(fr_read_u16(&sv->body, &selected));
    FR_TRY(fr_read_done(&sv->body));
    /* RFC 8446 §4.2.1: a version we did not offer is illegal_parameter. */
    FR_ENSURE(selected == FERRULE_TLS13 || !c->hrr.done, FERRULE_R_HRR_VERSION_CHANGED);
    FR_ENSURE(selected == FERRULE_TLS13, FERRULE_R_ILLEGAL_PARAMETER);
    FR_ENSURE(sh->legacy_version == 0x0303, FERRULE_R_PROTOCOL_VERSION);
    /* RFC 8446 §4.1.3: echo of our session id, a suite we offered, no
     * compression (§4.1.4: the same checks for a HelloRetryRequest). */
    FR_ENSURE(fr_reader_left(&sh->sid) == c->session_id_len &&
                  memcmp(sh->sid.p, c->session_id, c->session_id_len) == 0,
              FERRULE_R_ILLEGAL_PARAMETER);
    FR_ENSURE(fr_u16_in(sh->suite, cfg->suites, cfg->n_suites), FERRULE_R_WRONG_CIPHER);
    FR_ENSURE(sh->comp == 0, FERRULE_R_ILLEGAL_PARAMETER);
    return FR_OK;
}

/* Decide, for a ServerHello: the suite, the extensions, the PSK answer. */
static fr_err check_server_hello(fr_conn *c, server_hello *sh) {
    /* RFC 8446 §4.1.4: after a HelloRetryRequest, the same suite. */
    FR_ENSURE(!c->hrr.done || sh->suite == c->hrr.suite, FERRULE_R_WRONG_CIPHER);
    /* RFC 8446 §4.2: only extensions we asked for and that may appear here;
     * one we sent that belongs elsewhere (RFC 8449 §4: EncryptedExtensions)
     * is illegal_parameter. */
    FR_ENSURE(fr_exts_find(&sh->x, FR_EXT_RECORD_SIZE_LIMIT) == NULL || !c->rsl.offered,
              FERRULE_R_ILLEGAL_PARAMETER);
    FR_ENSURE(only_types(&sh->x, 1ull << FR_EXT_SUPPORTED_VERSIONS | 1ull << FR_EXT_KEY_SHARE |
                                     1ull << FR_EXT_PRE_SHARED_KEY),
              FERRULE_R_UNSUPPORTED_EXTENSION);
    fr_ext *pskx = fr_exts_find(&sh->x, FR_EXT_PRE_SHARED_KEY);
    if (pskx != NULL) FR_TRY(fr_client_on_psk(c, &pskx->body, sh->suite));
    return FR_OK;
}

/* Decide: the (EC)DHE shared secret from the server's key_share, or the
 * psk_ke zeros; *group 0 for psk_ke. */
static fr_err client_shared_secret(fr_conn *c, server_hello *sh, uint8_t *shared,
                                   size_t *shared_len, uint16_t *group) {
    fr_ext *ks = fr_exts_find(&sh->x, FR_EXT_KEY_SHARE);
    *group = 0;
    if (ks == NULL) {
        /* RFC 8446 §4.2.9: no key_share only in psk_ke, which we must have
         * offered. */
        FR_ENSURE(c->resume.resumed && (c->cfg->resume.psk_modes & FERRULE_PSK_KE),
                  FERRULE_R_MISSING_KEY_SHARE);
        c->resume.psk_ke = 1;
        return psk_ke_secret(sh->suite, shared, shared_len);
    }
    fr_reader share;
    FR_TRY(fr_read_u16(&ks->body, group));
    FR_TRY(fr_read_vec16(&ks->body, &share));
    FR_TRY(fr_read_done(&ks->body));
    fr_kex *kex = NULL;
    for (size_t i = 0; i < c->n_kex; i++)
        if (c->kex[i].group == *group) kex = &c->kex[i];
    /* RFC 8446 §4.2.8: the group must be one we sent a share for
     * (illegal_parameter). */
    FR_ENSURE(kex != NULL, FERRULE_R_WRONG_GROUP);
    return fr_kex_derive(kex, share.p, fr_reader_left(&share), shared, FR_KEX_MAX_SECRET,
                         shared_len);
}

/* Apply: the negotiated parameters, the transcript, the handshake keys. */
static fr_err apply_server_hello(fr_conn *c, const server_hello *sh, uint16_t group,
                                 const uint8_t *shared, size_t shared_len) {
    memcpy(c->server_random, sh->random, 32);
    c->version = FERRULE_TLS13;
    c->suite = sh->suite;
    c->group = group;
    for (size_t i = 0; i < c->n_kex; i++) fr_kex_free(&c->kex[i]);
    c->n_kex = 0;
    const fr_suite_info *si = fr_suite_lookup(sh->suite);
    fr_err e = si != NULL ? FR_OK : FERRULE_R_INTERNAL;
    /* After a HelloRetryRequest the transcript is running already and
     * the dispatcher added this ServerHello to it. */
    if (e == FR_OK && !c->hrr.done) e = fr_transcript_init(&c->th, si->hash);
    if (e == FR_OK && !c->hrr.done) {
        c->th_ready = 1;
        e = fr_transcript_update(&c->th, c->ch_copy, c->ch_len);
    }
    if (e == FR_OK && !c->hrr.done) e = fr_transcript_update(&c->th, c->cur_msg, c->cur_msg_len);
    fr_mem_free(&c->mem, c->ch_copy, c->ch_len);
    c->ch_copy = NULL;
    c->ch_len = 0;
    FR_TRY(e);
    return enter_handshake_keys(c, shared, shared_len);
}

fr_err fr_client_on_server_hello(fr_conn *c, fr_reader *body, fr_branch *branch) {
    server_hello sh;
    FR_TRY(parse_server_hello(body, &sh));
    FR_TRY(check_hello_fields(c, &sh));
    if (memcmp(sh.random, HRR_RANDOM, 32) == 0) {
        FR_TRY(client_on_hrr(c, sh.suite, &sh.x));
        *branch = FR_BRANCH_HRR;
        return FR_OK;
    }
    FR_TRY(check_server_hello(c, &sh));
    uint8_t shared[FR_KEX_MAX_SECRET];
    size_t shared_len = 0;
    uint16_t group;
    fr_err e = client_shared_secret(c, &sh, shared, &shared_len, &group);
    if (e == FR_OK) e = apply_server_hello(c, &sh, group, shared, shared_len);
    fr_wipe(shared, sizeof(shared));
    return e;
}
