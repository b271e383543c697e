/* client_hello.c - ClientHello: the client builds it, the server parses it
 * and selects the connection's parameters (RFC 8446 §4.1.2, §4.2). */
#include "../conn.h"

static int is_ip_literal(const char *name) {
    uint8_t buf[16];
    return fr_ip_parse(name, strlen(name), buf) != 0;
}

static void write_u16_list(fr_writer *w, const uint16_t *v, size_t n) {
    for (size_t i = 0; i < n; i++) fr_write_u16(w, v[i]);
}

/* Build and send a ClientHello with a share for c->kex[0..n_kex) (public
 * values in pubs) and, after a HelloRetryRequest, its cookie.  Everything
 * else is the same both times (RFC 8446 §4.1.2). */
static fr_err send_hello(ferrule_conn *c, uint8_t (*pubs)[FR_KEX_MAX_PUB], const size_t *pub_lens,
                         const uint8_t *cookie, size_t cookie_len) {
    const ferrule_config *cfg = c->cfg;
    fr_msgbuf m;
    /* Room for a PSK offer: the session we may offer, or after a
     * HelloRetryRequest the one we offered (fr_client_write_psk). */
    int may_offer = c->th_ready ? c->resume.offered : fr_client_session_usable(c);
    size_t psk_room = may_offer ? 256 + c->resume.offer.ticket_len : 0;
    FR_TRY(fr_msg_begin(c, &m, FR_HS_CLIENT_HELLO,
                        FR_CLIENT_HELLO_BASE + cfg->alpn_len + cookie_len + psk_room));
    fr_writer *w = &m.w;
    fr_write_u16(w, 0x0303); /* legacy_version */
    fr_write_bytes(w, c->client_random, 32);
    fr_write_open_vec(w, 1);
    fr_write_bytes(w, c->session_id, c->session_id_len);
    fr_write_close_vec(w);
    fr_write_open_vec(w, 2);
    write_u16_list(w, cfg->suites, cfg->n_suites);
    fr_write_close_vec(w);
    fr_write_u8(w, 1); /* legacy_compression_methods = { null } */
    fr_write_u8(w, 0);

    fr_write_open_vec(w, 2); /* extensions */
    /* RFC 6066 §3: no IP literals in server_name. */
    if (c->has_server_name && !is_ip_literal(c->server_name)) {
        size_t n = strlen(c->server_name);
        fr_write_u16(w, FR_EXT_SERVER_NAME);
        fr_write_open_vec(w, 2);
        fr_write_open_vec(w, 2);
        fr_write_u8(w, 0); /* host_name */
        fr_write_open_vec(w, 2);
        fr_write_bytes(w, (const uint8_t *)c->server_name, n);
        fr_write_close_vec(w);
        fr_write_close_vec(w);
        fr_write_close_vec(w);
        c->sent_sni = 1;
    }
    fr_write_u16(w, FR_EXT_SUPPORTED_VERSIONS);
    fr_write_open_vec(w, 2);
    fr_write_open_vec(w, 1);
    fr_write_u16(w, FERRULE_TLS13);
    fr_write_close_vec(w);
    fr_write_close_vec(w);

    fr_write_u16(w, FR_EXT_SUPPORTED_GROUPS);
    fr_write_open_vec(w, 2);
    fr_write_open_vec(w, 2);
    write_u16_list(w, cfg->groups, cfg->n_groups);
    fr_write_close_vec(w);
    fr_write_close_vec(w);

    fr_write_u16(w, FR_EXT_KEY_SHARE);
    fr_write_open_vec(w, 2);
    fr_write_open_vec(w, 2);
    for (size_t i = 0; i < c->n_kex; i++) {
        fr_write_u16(w, c->kex[i].group);
        fr_write_open_vec(w, 2);
        fr_write_bytes(w, pubs[i], pub_lens[i]);
        fr_write_close_vec(w);
    }
    fr_write_close_vec(w);
    fr_write_close_vec(w);

    fr_write_sig_alg_exts(w, cfg->sigs, cfg->n_sigs);

    /* RFC 6066 §8 / RFC 8446 §4.4.2.1: always ask for a stapled OCSP
     * response (status_type ocsp, no responder_id_list, no
     * request_extensions); whether one is required is our policy. */
    fr_write_u16(w, FR_EXT_STATUS_REQUEST);
    fr_write_open_vec(w, 2);
    fr_write_u8(w, 1); /* ocsp */
    fr_write_u16(w, 0);
    fr_write_u16(w, 0);
    fr_write_close_vec(w);
    c->sent_status_request = 1;

    if (cfg->alpn_len > 0) {
        fr_write_u16(w, FR_EXT_ALPN);
        fr_write_open_vec(w, 2);
        fr_write_open_vec(w, 2);
        fr_write_bytes(w, cfg->alpn, cfg->alpn_len);
        fr_write_close_vec(w);
        fr_write_close_vec(w);
        c->sent_alpn = 1;
    }
    fr_rsl_client_write(c, w); /* RFC 8449 */
    if (cookie_len > 0) { /* RFC 8446 §4.2.2: echo the server's cookie */
        fr_write_u16(w, FR_EXT_COOKIE);
        fr_write_open_vec(w, 2);
        fr_write_open_vec(w, 2);
        fr_write_bytes(w, cookie, cookie_len);
        fr_write_close_vec(w);
        fr_write_close_vec(w);
    }
    /* RFC 8446 §4.2.10: early_data (only with the PSK below). */
    fr_client_write_early_data_ext(c, w);
    /* RFC 8446 §4.2.11: pre_shared_key last, binder filled in below. */
    fr_err e = fr_client_write_psk(c, w);
    fr_write_close_vec(w); /* extensions */
    fr_write_close_vec(w); /* handshake body */

    if (e == FR_OK) e = fr_write_finish(w);
    if (e == FR_OK) e = fr_client_psk_binder(c, m.buf, w->len);
    if (e == FR_OK && c->th_ready) {
        /* Second ClientHello: the transcript runs already. */
        e = fr_conn_send_handshake(c, m.buf, w->len);
        fr_msg_abort(c, &m);
        return e;
    }
    if (e == FR_OK) {
        /* The transcript hash function is unknown until ServerHello: keep
         * our ClientHello for it. */
        c->ch_copy = fr_mem_alloc(&c->mem, w->len);
        e = c->ch_copy != NULL ? FR_OK : fr_mem_error(&c->mem, w->len);
    }
    if (e == FR_OK) {
        c->ch_len = w->len;
        memcpy(c->ch_copy, m.buf, w->len);
        e = fr_conn_send_handshake(c, m.buf, w->len);
    }
    fr_msg_abort(c, &m);
    return e;
}

fr_err fr_client_send_hello(ferrule_conn *c, fr_reader *unused) {
    const ferrule_config *cfg = c->cfg;
    uint8_t pubs[1][FR_KEX_MAX_PUB];
    size_t pub_lens[1];

    FR_TRY(fr_random(c->client_random, sizeof(c->client_random)));
    /* RFC 8446 Appendix D.4: middlebox compatibility mode sends a fresh
     * 32-byte legacy_session_id. */
    c->session_id_len = 32;
    FR_TRY(fr_random(c->session_id, c->session_id_len));
    /* A share for our first group only, all groups in supported_groups:
     * a server preferring another one asks for it with a
     * HelloRetryRequest (RFC 8446 §4.2.8), which saves key generation
     * and bytes in the common case. */
    FR_ENSURE(cfg->n_groups > 0, FERRULE_R_INTERNAL);
    FR_TRY(fr_kex_generate(&c->kex[0], cfg->groups[0], pubs[0], sizeof(pubs[0]), &pub_lens[0]));
    c->n_kex = 1;
    FR_TRY(send_hello(c, pubs, pub_lens, NULL, 0));
    return fr_client_start_early_data(c, c->ch_copy, c->ch_len);
}

fr_err fr_client_send_second_hello(ferrule_conn *c, const uint8_t *cookie, size_t cookie_len,
                                   int new_share) {
    uint8_t pubs[FR_MAX_GROUPS][FR_KEX_MAX_PUB];
    size_t pub_lens[FR_MAX_GROUPS];
    if (new_share) {
        /* RFC 8446 §4.1.2: the shares are replaced by one for the group
         * the HelloRetryRequest selected; the old private keys are dead. */
        for (size_t i = 0; i < c->n_kex; i++) fr_kex_free(&c->kex[i]);
        c->n_kex = 0;
        FR_TRY(
            fr_kex_generate(&c->kex[0], c->hrr.group, pubs[0], sizeof(pubs[0]), &pub_lens[0]));
        c->n_kex = 1;
    } else {
        /* A HelloRetryRequest without key_share (only a cookie): nothing
         * allows the shares to change, so they go again byte for byte. */
        for (size_t i = 0; i < c->n_kex; i++)
            FR_TRY(fr_kex_public(&c->kex[i], pubs[i], sizeof(pubs[i]), &pub_lens[i]));
    }
    return send_hello(c, pubs, pub_lens, cookie, cookie_len);
}

/* ---- server side --------------------------------------------------------- */

/* Every check below is linear in what the client sent: lists are scanned
 * once, and membership of peer-chosen code points (extension types,
 * groups, shares) is tested against fr_u16_set bitmaps, never by scanning
 * another peer list.  A list is only ever compared element by element with
 * one of ours, whose length the configuration bounds. */

/* Open a u16 list vector (1- or 2-byte length) with an even, non-empty
 * body that fills the extension.  The list is scanned in place, never
 * copied, so lists of any legal length are read completely. */
static fr_err open_u16_list(fr_reader *body, int width, fr_reader *list) {
    FR_TRY(width == 1 ? fr_read_vec8(body, list) : fr_read_vec16(body, list));
    size_t left = fr_reader_left(list);
    FR_ENSURE(left >= 2 && left % 2 == 0, FERRULE_R_DECODE_ERROR);
    return fr_read_done(body);
}

/* 1 if the (validated) list contains v; unknown and GREASE values are
 * simply never matched. */
static int u16_list_has(fr_reader list, uint16_t v) {
    uint16_t x;
    while (fr_read_u16(&list, &x) == FR_OK)
        if (x == v) return 1;
    return 0;
}

static fr_err parse_server_name(ferrule_conn *c, fr_reader *body) {
    fr_reader list;
    FR_TRY(fr_read_vec16(body, &list));
    FR_TRY(fr_read_done(body));
    FR_ENSURE(!fr_reader_empty(&list), FERRULE_R_DECODE_ERROR);
    int seen = 0;
    while (!fr_reader_empty(&list)) {
        uint8_t type;
        fr_reader name;
        FR_TRY(fr_read_u8(&list, &type));
        FR_TRY(fr_read_vec16(&list, &name));
        if (type != 0) continue;
        /* RFC 6066 §3: at most one name per type; a host name is ASCII. */
        FR_ENSURE(!seen, FERRULE_R_ILLEGAL_PARAMETER);
        seen = 1;
        size_t n = fr_reader_left(&name);
        FR_ENSURE(n >= 1 && n < sizeof(c->server_name), FERRULE_R_DECODE_ERROR);
        for (size_t i = 0; i < n; i++)
            FR_ENSURE(name.p[i] > 0x20 && name.p[i] < 0x7f, FERRULE_R_ILLEGAL_PARAMETER);
        memcpy(c->server_name, name.p, n);
        c->server_name[n] = '\0';
        c->has_server_name = 1;
    }
    return FR_OK;
}

/* CertificateStatusRequest (RFC 6066 §8): status_type, then for ocsp(1)
 * OCSPStatusRequest { ResponderID responder_id_list<0..2^16-1>;
 * Extensions request_extensions<0..2^16-1> }.  Other status types are
 * ignored; we staple one preconfigured response whatever the responder
 * list says. */
static fr_err parse_status_request(ferrule_conn *c, fr_reader *body) {
    uint8_t type;
    FR_TRY(fr_read_u8(body, &type));
    if (type != 1) return FR_OK;
    fr_reader ids, exts;
    FR_TRY(fr_read_vec16(body, &ids));
    FR_TRY(fr_read_vec16(body, &exts));
    FR_TRY(fr_read_done(body));
    while (!fr_reader_empty(&ids)) { /* ResponderID responder_id<1..2^16-1> */
        fr_reader id;
        FR_TRY(fr_read_vec16(&ids, &id));
        FR_ENSURE(!fr_reader_empty(&id), FERRULE_R_DECODE_ERROR);
    }
    c->peer_wants_status = 1;
    return FR_OK;
}

/* legacy_version and supported_versions (RFC 8446 §4.1.2, §4.2.1, D.5). */
static fr_err check_versions(ferrule_conn *c, uint16_t legacy_version, fr_exts *x) {
    /* RFC 8446 Appendix D.5: a Hello with legacy_version 0x0300 (SSL 3.0)
     * MUST be refused with protocol_version.  Values below it name no
     * version of TLS at all; they get the same answer (our choice, see
     * docs/rfc8446-matrix.md).  Above it, legacy_version plays no part in
     * negotiation when supported_versions is present (§4.2.1). */
    FR_ENSURE(legacy_version > 0x0300, FERRULE_R_PROTOCOL_VERSION);
    /* RFC 8446 §4.2.1: without supported_versions the client wants TLS 1.2
     * or older, which we do not speak. */
    fr_ext *sv = fr_exts_find(x, FR_EXT_SUPPORTED_VERSIONS);
    FR_ENSURE(sv != NULL, FERRULE_R_PROTOCOL_VERSION);
    fr_reader versions;
    FR_TRY(open_u16_list(&sv->body, 1, &versions));
    FR_ENSURE(u16_list_has(versions, FERRULE_TLS13), FERRULE_R_PROTOCOL_VERSION);
    c->version = FERRULE_TLS13;
    return FR_OK;
}

/* Our most preferred cipher suite among the client's (0: none). */
static uint16_t choose_suite(const ferrule_config *cfg, fr_reader suites) {
    for (size_t i = 0; i < cfg->n_suites; i++)
        if (u16_list_has(suites, cfg->suites[i])) return cfg->suites[i];
    return 0;
}

/* The key share a ClientHello offers for our group choice. */
typedef struct share_choice {
    const uint8_t *share; /* NULL: no usable share */
    size_t len;
    size_t n_shares;
    uint16_t group;
} share_choice;

/* key_share (RFC 8446 §4.2.8): every entry well formed and non-empty, at
 * most one per group, each group in supported_groups; the share of our
 * most preferred group wins.  `groups` is the validated supported_groups
 * list. */
static fr_err scan_shares(const ferrule_config *cfg, fr_reader groups, fr_ext *ks,
                          share_choice *out) {
    memset(out, 0, sizeof(*out));
    fr_reader shares;
    FR_TRY(fr_read_vec16(&ks->body, &shares));
    FR_TRY(fr_read_done(&ks->body));
    /* The groups the client named, less those a share was seen for: one
     * lookup refuses both an unlisted group and a second share. */
    fr_u16_set unshared;
    fr_u16_set_clear(&unshared);
    for (uint16_t g; fr_read_u16(&groups, &g) == FR_OK;) fr_u16_set_add(&unshared, g);
    size_t rank = cfg->n_groups;
    while (!fr_reader_empty(&shares)) {
        uint16_t g;
        fr_reader key;
        FR_TRY(fr_read_u16(&shares, &g));
        FR_TRY(fr_read_vec16(&shares, &key));
        FR_ENSURE(!fr_reader_empty(&key), FERRULE_R_DECODE_ERROR);
        FR_ENSURE(fr_u16_set_has(&unshared, g), FERRULE_R_ILLEGAL_PARAMETER);
        fr_u16_set_del(&unshared, g);
        out->n_shares++;
        for (size_t r = 0; r < rank; r++) {
            if (cfg->groups[r] == g) {
                rank = r;
                out->share = key.p;
                out->len = fr_reader_left(&key);
                out->group = g;
                break;
            }
        }
    }
    return FR_OK;
}

/* The group for the key exchange: the chosen share's, or after none a
 * HelloRetryRequest for our most preferred group among the client's
 * supported_groups (RFC 8446 §4.1.4); for a second ClientHello exactly one
 * share, for the group the HelloRetryRequest selected (§4.2.8). */
static fr_err choose_group(ferrule_conn *c, fr_reader groups, const share_choice *sc, int second,
                           int *retry) {
    const ferrule_config *cfg = c->cfg;
    *retry = 0;
    if (second) {
        FR_ENSURE(sc->n_shares == 1 && sc->share != NULL && sc->group == c->group,
                  FERRULE_R_ILLEGAL_PARAMETER);
        return FR_OK;
    }
    if (sc->share != NULL) {
        c->group = sc->group;
        return FR_OK;
    }
    for (size_t r = 0; r < cfg->n_groups; r++) {
        if (u16_list_has(groups, cfg->groups[r])) {
            c->group = cfg->groups[r];
            *retry = 1;
            return FR_OK;
        }
    }
    return FERRULE_R_NO_SHARED_PARAMS;
}

/* The extensions whose only effect is to note what the client asked for. */
static fr_err note_requests(ferrule_conn *c, fr_exts *x) {
    fr_ext *e = fr_exts_find(x, FR_EXT_SERVER_NAME);
    if (e != NULL) FR_TRY(parse_server_name(c, &e->body));
    e = fr_exts_find(x, FR_EXT_STATUS_REQUEST);
    if (e != NULL) FR_TRY(parse_status_request(c, &e->body));
    e = fr_exts_find(x, FR_EXT_RECORD_SIZE_LIMIT);
    if (e != NULL) FR_TRY(fr_rsl_server_on_client_hello(c, &e->body));
    return FR_OK;
}

/* Resumption (RFC 8446 §4.2.11): in the ClientHello a ServerHello answers
 * (also a second one: its binder covers message_hash(CH1) and the
 * HelloRetryRequest), with client authentication from the ticket (see
 * docs/resumption.md).  Before a HelloRetryRequest, note which offered
 * PSKs we would accept, so that the second ClientHello can be held to
 * keeping them (§4.1.2). */
static fr_err consider_psk(ferrule_conn *c, fr_exts *x, int retry, int second) {
    FR_TRY(fr_server_note_psk_modes(c, fr_exts_find(x, FR_EXT_PSK_KEY_EXCHANGE_MODES)));
    fr_ext *psk = fr_exts_find(x, FR_EXT_PRE_SHARED_KEY);
    if (retry) return fr_server_note_hrr_psks(c, psk);
    if (second) FR_TRY(fr_server_check_hrr_psks(c, psk));
    return psk != NULL ? fr_server_try_psk(c, psk) : FR_OK;
}

fr_err fr_server_send_flight(ferrule_conn *c, const uint8_t *peer_share, size_t peer_len);

fr_err fr_server_on_client_hello(ferrule_conn *c, fr_reader *body, fr_branch *branch) {
    const ferrule_config *cfg = c->cfg;
    uint16_t legacy_version;
    const uint8_t *random;
    fr_reader sid, suites, comp, ext_block;
    FR_TRY(fr_read_u16(body, &legacy_version));
    FR_TRY(fr_read_bytes(body, 32, &random));
    FR_TRY(fr_read_vec8(body, &sid));
    FR_TRY(fr_read_vec16(body, &suites));
    FR_TRY(fr_read_vec8(body, &comp));
    /* A ClientHello without extensions cannot be TLS 1.3. */
    if (fr_reader_empty(body)) return FERRULE_R_PROTOCOL_VERSION;
    FR_TRY(fr_read_vec16(body, &ext_block));
    FR_TRY(fr_read_done(body));
    FR_ENSURE(fr_reader_left(&sid) <= 32, FERRULE_R_DECODE_ERROR);
    size_t ns = fr_reader_left(&suites);
    FR_ENSURE(ns >= 2 && ns % 2 == 0, FERRULE_R_DECODE_ERROR);
    FR_ENSURE(fr_reader_left(&comp) >= 1, FERRULE_R_DECODE_ERROR);
    memcpy(c->client_random, random, 32);

    fr_exts x;
    FR_TRY(fr_exts_parse(&ext_block, &x));
    /* What a second ClientHello is compared on (RFC 8446 §4.1.2): the
     * fields as sent and the extension block, walked afresh. */
    const fr_hello_view view = {legacy_version, random, sid, suites, comp, x.block};
    const int second = c->hrr.done; /* we sent a HelloRetryRequest */
    /* RFC 8446 §4.2.11: pre_shared_key must be the last extension. */
    fr_ext *psk = fr_exts_find(&x, FR_EXT_PRE_SHARED_KEY);
    FR_ENSURE(psk == NULL || x.last == FR_EXT_PRE_SHARED_KEY, FERRULE_R_ILLEGAL_PARAMETER);
    /* RFC 8446 §4.2.9: a PSK offer without psk_key_exchange_modes. */
    FR_ENSURE(psk == NULL || fr_exts_find(&x, FR_EXT_PSK_KEY_EXCHANGE_MODES) != NULL,
              FERRULE_R_MISSING_EXTENSION);
    FR_TRY(check_versions(c, legacy_version, &x));
    /* RFC 8446 §4.1.2: legacy_compression_methods must be exactly {0}. */
    FR_ENSURE(fr_reader_left(&comp) == 1 && comp.p[0] == 0, FERRULE_R_ILLEGAL_PARAMETER);

    /* Cipher suite: our preference among the client's offers. */
    c->suite = choose_suite(cfg, suites);
    /* (A second ClientHello without the HRR's suite: illegal_parameter
     * below.) */
    FR_ENSURE(c->suite != 0 || second, FERRULE_R_NO_SHARED_PARAMS);
    if (second) {
        /* Cookie first: suite and group come from it (RFC 8446 §4.2.2). */
        FR_TRY(fr_server_check_second_hello(c, &view, fr_exts_find(&x, FR_EXT_COOKIE)));
        /* RFC 8446 §4.1.4: the suite of the HelloRetryRequest again. */
        FR_ENSURE(u16_list_has(suites, c->suite), FERRULE_R_ILLEGAL_PARAMETER);
    }

    /* RFC 8446 §9.2: without PSK, signature_algorithms, supported_groups
     * and key_share are mandatory. */
    fr_ext *sa = fr_exts_find(&x, FR_EXT_SIGNATURE_ALGORITHMS);
    fr_ext *sg = fr_exts_find(&x, FR_EXT_SUPPORTED_GROUPS);
    fr_ext *ks = fr_exts_find(&x, FR_EXT_KEY_SHARE);
    FR_ENSURE(sa != NULL && sg != NULL && ks != NULL, FERRULE_R_MISSING_EXTENSION);
    fr_reader peer_sigs, groups;
    FR_TRY(open_u16_list(&sa->body, 2, &peer_sigs));
    FR_TRY(open_u16_list(&sg->body, 2, &groups));
    share_choice share;
    int retry;
    FR_TRY(scan_shares(cfg, groups, ks, &share));
    FR_TRY(choose_group(c, groups, &share, second, &retry));
    FR_TRY(note_requests(c, &x));

    /* ALPN, certificate and scheme (server_select.c): validated now,
     * chosen for the ClientHello a ServerHello answers. */
    FR_TRY(fr_server_select(c, &x, peer_sigs, suites, !retry));

    c->session_id_len = fr_reader_left(&sid);
    memcpy(c->session_id, sid.p, c->session_id_len);
    FR_TRY(consider_psk(c, &x, retry, second));

    if (retry) {
        FR_TRY(fr_server_early_decide(c, fr_exts_find(&x, FR_EXT_EARLY_DATA), 1, 0));
        FR_TRY(fr_server_send_hrr(c, &view));
        *branch = FR_BRANCH_HRR;
        return FR_OK;
    }
    if (!second) { /* after an HRR, fr_server_check_second_hello began it */
        const fr_suite_info *si = fr_suite_lookup(c->suite);
        FR_ENSURE(si != NULL, FERRULE_R_INTERNAL);
        FR_TRY(fr_transcript_init(&c->th, si->hash));
        c->th_ready = 1;
    }
    FR_TRY(fr_transcript_update(&c->th, c->cur_msg, c->cur_msg_len));
    /* 0-RTT (RFC 8446 §4.2.10), with the transcript holding this hello. */
    FR_TRY(fr_server_early_decide(c, fr_exts_find(&x, FR_EXT_EARLY_DATA), 0, second));
    FR_TRY(fr_server_send_flight(c, share.share, share.len));
    /* With a CertificateRequest the client's Certificate comes next. */
    if (c->early.accepted)
        *branch = FR_BRANCH_EARLY;
    else if (fr_server_wants_client_cert(c))
        *branch = FR_BRANCH_CLIENT_CERT;
    return FR_OK;
}
