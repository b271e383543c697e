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

/* The extensions that say what we are: server_name (RFC 6066 §3: never an
 * IP literal), supported_versions, supported_groups and key_share. */
static void write_identity_exts(fr_conn *c, fr_writer *w, uint8_t (*pubs)[FR_KEX_MAX_PUB],
                                const size_t *pub_lens) {
    const fr_config *cfg = c->cfg;
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
}

/* The extensions that ask for something: signature schemes, an OCSP
 * staple, ALPN, a record size limit, and after a HelloRetryRequest its
 * cookie. */
static void write_request_exts(fr_conn *c, fr_writer *w, const uint8_t *cookie,
                               size_t cookie_len) {
    const fr_config *cfg = c->cfg;
    size_t n_accept;
    const uint16_t *accept = fr_cfg_verify_sigs(cfg, &n_accept);
    fr_write_sig_alg_exts(w, accept, n_accept);
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
}

/* Send the finished ClientHello (len bytes).  The first one is
 * kept: the transcript hash function is unknown until ServerHello; a
 * second one joins the running transcript. */
static fr_err send_built_hello(fr_conn *c, const uint8_t *msg, size_t len) {
    if (c->th_ready) return fr_conn_send_handshake(c, msg, len);
    c->ch_copy = fr_mem_alloc(&c->mem, len);
    FR_ENSURE(c->ch_copy != NULL, fr_mem_error(&c->mem, len));
    c->ch_len = len;
    memcpy(c->ch_copy, msg, len);
    return fr_conn_send_handshake(c, msg, len);
}

/* Build and send a ClientHello with a share for c->kex[0..n_kex) (public
 * values in pubs) and, after a HelloRetryRequest, its cookie.  Everything
 * else is the same both times (RFC 8446 §4.1.2). */
static fr_err send_hello(fr_conn *c, uint8_t (*pubs)[FR_KEX_MAX_PUB], const size_t *pub_lens,
                         const uint8_t *cookie, size_t cookie_len) {
    const fr_config *cfg = c->cfg;
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
    write_identity_exts(c, w, pubs, pub_lens);
    write_request_exts(c, w, cookie, cookie_len);
    /* RFC 8446 §4.2.10: early_data (only with the PSK below). */
    fr_client_write_early_data_ext(c, w);
    /* RFC 8446 §4.2.11: pre_shared_key last, binder filled in below. */
    fr_err e = fr_client_write_psk(c, w);
    fr_write_close_vec(w); /* extensions */
    fr_write_close_vec(w); /* handshake body */

    if (e == FR_OK) e = fr_write_finish(w);
    if (e == FR_OK) e = fr_client_psk_binder(c, m.buf, w->len);
    if (e == FR_OK) e = send_built_hello(c, m.buf, w->len);
    fr_msg_abort(c, &m);
    return e;
}

/* 1 if the config lists `group`. */
static int cfg_has_group(const fr_config *cfg, uint16_t group) {
    for (size_t i = 0; i < cfg->n_groups; i++)
        if (cfg->groups[i] == group) return 1;
    return 0;
}

fr_err fr_client_send_hello(fr_conn *c, fr_reader *unused) {
    const fr_config *cfg = c->cfg;
    uint8_t pubs[FR_MAX_KEY_SHARES][FR_KEX_MAX_PUB];
    size_t pub_lens[FR_MAX_KEY_SHARES];

    FR_TRY(fr_random(c->client_random, sizeof(c->client_random)));
    /* RFC 8446 Appendix D.4: middlebox compatibility mode sends a fresh
     * 32-byte legacy_session_id. */
    c->session_id_len = 32;
    FR_TRY(fr_random(c->session_id, c->session_id_len));
    /* A share for our first group only, all groups in supported_groups:
     * a server preferring another one asks for it with a
     * HelloRetryRequest (RFC 8446 §4.2.8), which saves key generation
     * and bytes in the common case.  One exception: when the first group
     * is X25519MLKEM768 and x25519 is configured too, an x25519 share
     * goes second, so that a server without the hybrid answers at once
     * instead of costing a round trip (32 bytes and one X25519 key; what
     * Go's crypto/tls and Chrome send; docs/mlkem.md). */
    FR_ENSURE(cfg->n_groups > 0, FERRULE_R_INTERNAL);
    FR_TRY(fr_kex_generate(&c->kex[0], cfg->groups[0], pubs[0], sizeof(pubs[0]), &pub_lens[0]));
    c->n_kex = 1;
    if (cfg->groups[0] == FERRULE_GROUP_X25519MLKEM768 &&
        cfg_has_group(cfg, FERRULE_GROUP_X25519)) {
        FR_TRY(fr_kex_generate(&c->kex[1], FERRULE_GROUP_X25519, pubs[1], sizeof(pubs[1]),
                               &pub_lens[1]));
        c->n_kex = 2;
    }
    FR_TRY(send_hello(c, pubs, pub_lens, NULL, 0));
    return fr_client_start_early_data(c, c->ch_copy, c->ch_len);
}

fr_err fr_client_send_second_hello(fr_conn *c, const uint8_t *cookie, size_t cookie_len,
                                   int new_share) {
    uint8_t pubs[FR_MAX_KEY_SHARES][FR_KEX_MAX_PUB];
    size_t pub_lens[FR_MAX_KEY_SHARES];
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
    /* RFC 8446 Appendix D.4: the compatibility change_cipher_spec goes
     * before the second ClientHello. */
    FR_TRY(fr_client_compat_ccs(c));
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

static fr_err parse_server_name(fr_conn *c, fr_reader *body) {
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
static fr_err parse_status_request(fr_conn *c, fr_reader *body) {
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
static fr_err check_versions(uint16_t legacy_version, fr_exts *x) {
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
    return FR_OK;
}

/* Our most preferred cipher suite among the client's (0: none). */
static uint16_t choose_suite(const fr_config *cfg, fr_reader suites) {
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
static fr_err scan_shares(const fr_config *cfg, fr_reader groups, fr_ext *ks,
                          share_choice *out) {
    memset(out, 0, sizeof(*out));
    fr_reader shares;
    FR_TRY(fr_read_vec16(&ks->body, &shares));
    FR_TRY(fr_read_done(&ks->body));
    /* The groups the client named, less those a share was seen for: an
     * unlisted group is illegal_parameter, a second share for a listed
     * one DUPLICATE_KEY_SHARE (also illegal_parameter). */
    fr_u16_set unshared;
    fr_u16_set_clear(&unshared);
    const fr_reader listed = groups;
    for (uint16_t g; fr_read_u16(&groups, &g) == FR_OK;) fr_u16_set_add(&unshared, g);
    size_t rank = cfg->n_groups;
    while (!fr_reader_empty(&shares)) {
        uint16_t g;
        fr_reader key;
        FR_TRY(fr_read_u16(&shares, &g));
        FR_TRY(fr_read_vec16(&shares, &key));
        FR_ENSURE(!fr_reader_empty(&key), FERRULE_R_DECODE_ERROR);
        if (!fr_u16_set_has(&unshared, g)) /* (the failure path may take a pass) */
            return u16_list_has(listed, g) ? FERRULE_R_DUPLICATE_KEY_SHARE
                                           : FERRULE_R_ILLEGAL_PARAMETER;
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
static fr_err choose_group(fr_conn *c, fr_reader groups, const share_choice *sc, int second,
                           int *retry) {
    const fr_config *cfg = c->cfg;
    *retry = 0;
    if (second) {
        /* Not one share: illegal_parameter; no share for the selected
         * group: WRONG_GROUP (also illegal_parameter). */
        FR_ENSURE(sc->n_shares <= 1, FERRULE_R_ILLEGAL_PARAMETER);
        FR_ENSURE(sc->share != NULL && sc->group == c->group, FERRULE_R_WRONG_GROUP);
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
static fr_err note_requests(fr_conn *c, fr_exts *x) {
    fr_ext *e = fr_exts_find(x, FR_EXT_SERVER_NAME);
    if (e != NULL) FR_TRY(fr_ext_result(parse_server_name(c, &e->body)));
    e = fr_exts_find(x, FR_EXT_STATUS_REQUEST);
    if (e != NULL) FR_TRY(fr_ext_result(parse_status_request(c, &e->body)));
    e = fr_exts_find(x, FR_EXT_RECORD_SIZE_LIMIT);
    if (e != NULL) FR_TRY(fr_ext_result(fr_rsl_server_on_client_hello(c, &e->body)));
    /* post_handshake_auth (RFC 8446 §4.2.6): we never ask for it, but its
     * extension_data is zero length, and a type we recognise is held to
     * its syntax (found by fuzz/fuzz_diff_hello, docs/fuzzing.md). */
    e = fr_exts_find(x, FR_EXT_POST_HANDSHAKE_AUTH);
    if (e != NULL) FR_TRY(fr_read_done(&e->body));
    /* certificate_authorities: not used by the server's chain selection,
     * but held to its syntax like the other types we recognise (found by
     * fuzz/fuzz_diff_hello). */
    e = fr_exts_find(x, FR_EXT_CERTIFICATE_AUTHORITIES);
    if (e != NULL) {
        fr_reader cas;
        FR_TRY(fr_ext_result(fr_parse_authorities(&e->body, &cas)));
    }
    return FR_OK;
}

/* Resumption (RFC 8446 §4.2.11): in the ClientHello a ServerHello answers
 * (also a second one: its binder covers message_hash(CH1) and the
 * HelloRetryRequest), with client authentication from the ticket (see
 * docs/resumption.md).  Before a HelloRetryRequest, note which offered
 * PSKs we would accept, so that the second ClientHello can be held to
 * keeping them (§4.1.2). */
static fr_err consider_psk(fr_conn *c, fr_exts *x, int retry, int second) {
    FR_TRY(fr_server_note_psk_modes(c, fr_exts_find(x, FR_EXT_PSK_KEY_EXCHANGE_MODES)));
    fr_ext *psk = fr_exts_find(x, FR_EXT_PRE_SHARED_KEY);
    c->early.psk_offered = psk != NULL;
    if (retry) return fr_server_note_hrr_psks(c, psk);
    if (second) FR_TRY(fr_server_check_hrr_psks(c, psk));
    return psk != NULL ? fr_server_try_psk(c, psk) : FR_OK;
}

fr_err fr_server_send_flight(fr_conn *c, const uint8_t *peer_share, size_t peer_len);

/* A ClientHello as parsed, its fields read in place in the message. */
typedef struct fr_ch {
    uint16_t legacy_version;
    const uint8_t *random;
    fr_reader sid, suites, comp;
    fr_exts x;
} fr_ch;

/* Parse step: the syntax of a ClientHello and the rules that need nothing
 * but its bytes.  No side effects: a paused ClientHello is parsed again
 * when its handler resumes. */
/* The fixed fields and the extension block's framing (RFC 8446 §4.1.2):
 * legacy_session_id<0..32>, cipher_suites<2..2^16-2>,
 * legacy_compression_methods<1..2^8-1>, nothing after the extensions.
 * Any flaw here is BAD_CLIENT_HELLO (decode_error). */
static fr_err ch_parse_fields(fr_reader *body, fr_ch *ch, fr_reader *ext_block) {
    FR_TRY(fr_read_u16(body, &ch->legacy_version));
    FR_TRY(fr_read_bytes(body, 32, &ch->random));
    FR_TRY(fr_read_vec8(body, &ch->sid));
    FR_TRY(fr_read_vec16(body, &ch->suites));
    FR_TRY(fr_read_vec8(body, &ch->comp));
    FR_ENSURE(fr_reader_left(&ch->sid) <= 32, FERRULE_R_DECODE_ERROR);
    size_t ns = fr_reader_left(&ch->suites);
    FR_ENSURE(ns >= 2 && ns % 2 == 0, FERRULE_R_DECODE_ERROR);
    FR_ENSURE(fr_reader_left(&ch->comp) >= 1, FERRULE_R_DECODE_ERROR);
    /* A ClientHello without extensions cannot be TLS 1.3. */
    if (fr_reader_empty(body)) return FERRULE_R_PROTOCOL_VERSION;
    FR_TRY(fr_read_vec16(body, ext_block));
    return fr_read_done(body);
}

static fr_err ch_parse(fr_reader *body, fr_ch *ch) {
    fr_reader ext_block;
    fr_err e = ch_parse_fields(body, ch, &ext_block);
    FR_TRY(e == FERRULE_R_DECODE_ERROR ? FERRULE_R_BAD_CLIENT_HELLO : e);
    FR_TRY(fr_exts_parse(&ext_block, &ch->x));
    /* RFC 8446 §4.2.11: pre_shared_key must be the last extension. */
    fr_ext *psk = fr_exts_find(&ch->x, FR_EXT_PRE_SHARED_KEY);
    FR_ENSURE(psk == NULL || ch->x.last == FR_EXT_PRE_SHARED_KEY, FERRULE_R_PSK_NOT_LAST);
    /* RFC 8446 §4.2.9: a PSK offer without psk_key_exchange_modes. */
    FR_ENSURE(psk == NULL || fr_exts_find(&ch->x, FR_EXT_PSK_KEY_EXCHANGE_MODES) != NULL,
              FERRULE_R_MISSING_EXTENSION);
    FR_TRY(check_versions(ch->legacy_version, &ch->x));
    /* RFC 8446 §4.1.2: legacy_compression_methods must be exactly {0}. */
    FR_ENSURE(fr_reader_left(&ch->comp) == 1 && ch->comp.p[0] == 0,
              FERRULE_R_BAD_COMPRESSION_LIST);
    return FR_OK;
}

/* What a second ClientHello is compared on (RFC 8446 §4.1.2): the fields
 * as sent and the extension block, walked afresh. */
static fr_hello_view ch_view(const fr_ch *ch) {
    const fr_hello_view v = {ch->legacy_version, ch->random, ch->sid, ch->suites, ch->comp,
                             ch->x.block};
    return v;
}

/* Cipher suite: our preference among the client's offers; for a second
 * ClientHello the cookie's, which it must offer again (RFC 8446 §4.1.4). */
static fr_err ch_suite(fr_conn *c, fr_ch *ch, int second) {
    c->suite = choose_suite(c->cfg, ch->suites);
    /* (A second ClientHello without the HRR's suite: illegal_parameter
     * below.) */
    FR_ENSURE(c->suite != 0 || second, FERRULE_R_NO_SHARED_PARAMS);
    if (!second) return FR_OK;
    /* Cookie first: suite and group come from it (RFC 8446 §4.2.2). */
    const fr_hello_view view = ch_view(ch);
    FR_TRY(fr_server_check_second_hello(c, &view, fr_exts_find(&ch->x, FR_EXT_COOKIE)));
    FR_ENSURE(u16_list_has(ch->suites, c->suite), FERRULE_R_ILLEGAL_PARAMETER);
    return FR_OK;
}

/* Negotiate step, taken once per ClientHello: version, suite, group and
 * share (or a HelloRetryRequest), what the client asked for, and the
 * selection view.  Its results live in c and c->dec (the share points
 * into the buffered message, which stays put while a decision pauses). */
static fr_err ch_negotiate(fr_conn *c, fr_ch *ch) {
    fr_dec_conn *d = &c->dec;
    memcpy(c->client_random, ch->random, 32);
    c->version = FERRULE_TLS13;
    d->second = c->hrr.done; /* we sent a HelloRetryRequest */
    FR_TRY(ch_suite(c, ch, d->second));
    /* RFC 8446 §9.2: without PSK, signature_algorithms, supported_groups
     * and key_share are mandatory. */
    fr_ext *sa = fr_exts_find(&ch->x, FR_EXT_SIGNATURE_ALGORITHMS);
    fr_ext *sg = fr_exts_find(&ch->x, FR_EXT_SUPPORTED_GROUPS);
    fr_ext *ks = fr_exts_find(&ch->x, FR_EXT_KEY_SHARE);
    FR_ENSURE(sa != NULL, FERRULE_R_MISSING_EXTENSION);
    FR_ENSURE(sg != NULL, FERRULE_R_MISSING_GROUPS);
    FR_ENSURE(ks != NULL, FERRULE_R_MISSING_KEY_SHARE);
    fr_reader peer_sigs, groups;
    FR_TRY(fr_ext_result(open_u16_list(&sa->body, 2, &peer_sigs)));
    FR_TRY(fr_ext_result(open_u16_list(&sg->body, 2, &groups)));
    share_choice share;
    FR_TRY(scan_shares(c->cfg, groups, ks, &share));
    FR_TRY(choose_group(c, groups, &share, d->second, &d->retry));
    d->share = share.share;
    d->share_len = share.len;
    FR_TRY(note_requests(c, &ch->x));
    /* ALPN and signature_algorithms_cert validated for every ClientHello
     * (server_select.c); chosen for the one a ServerHello answers. */
    FR_TRY(fr_server_hello_view(c, &ch->x, peer_sigs, ch->suites));
    c->session_id_len = fr_reader_left(&ch->sid);
    memcpy(c->session_id, ch->sid.p, c->session_id_len);
    return FR_OK;
}

/* Undo the acceptance of a PSK (fr_server_try_psk): the connection makes
 * a full handshake, without the ticket's identity or 0-RTT. */
static void forget_psk(fr_conn *c) {
    fr_conn_forget_peer_chain(c);
    fr_verify_result_free(c->verify_result);
    c->verify_result = NULL;
    fr_wipe(c->resume.psk, sizeof(c->resume.psk));
    c->resume.psk_len = 0;
    c->resume.resumed = 0;
    c->resume.psk_ke = 0;
    c->resume.selected = 0;
    c->resume.identity_time = 0;
    c->early.psk_allows = 0;
}

/* A ticket that carries a client identity makes us resume only if the
 * application's verdict on it (VERIFY) accepts it; a refusal means a full
 * handshake, which asks for a certificate again (docs/resumption.md). */
static void ch_judge_identity(fr_conn *c, fr_branch *branch) {
    int verdict = FERRULE_VERIFY_ACCEPT;
    if (!fr_dec_take(c, FERRULE_DECISION_VERIFY, &verdict) && c->resume.resumed &&
        c->n_peer_ders > 0 && !c->cfg->no_verification &&
        fr_dec_host_answers(c, FERRULE_DECISION_VERIFY)) {
        fr_dec_ask(c, FERRULE_DECISION_VERIFY, branch);
        return;
    }
    if (verdict != FERRULE_VERIFY_ACCEPT) forget_psk(c);
}

/* The transcript starts (or, after a HelloRetryRequest, continues: the
 * cookie began it) with this ClientHello. */
static fr_err ch_transcript(fr_conn *c) {
    if (!c->dec.second) {
        const fr_suite_info *si = fr_suite_lookup(c->suite);
        FR_ENSURE(si != NULL, FERRULE_R_INTERNAL);
        FR_TRY(fr_transcript_init(&c->th, si->hash));
        c->th_ready = 1;
    }
    return fr_transcript_update(&c->th, c->cur_msg, c->cur_msg_len);
}

/* The branch of the ClientHello a ServerHello answered. */
static fr_branch answered_branch(const fr_conn *c) {
    if (c->early.accepted) return FR_BRANCH_EARLY;
    /* With a CertificateRequest the client's Certificate comes next. */
    return fr_server_wants_client_cert(c) ? FR_BRANCH_CLIENT_CERT : FR_BRANCH_NEXT;
}

/* ClientHello: parse, then negotiate and decide (a decision may pause for
 * the host, *branch FR_BRANCH_APP: the handler then runs again on the same
 * message and resumes after its last completed step, c->dec.step), then
 * send. */
fr_err fr_server_on_client_hello(fr_conn *c, fr_reader *body, fr_branch *branch) {
    fr_ch ch;
    FR_TRY(ch_parse(body, &ch));
    fr_dec_conn *d = &c->dec;
    if (d->step < FR_CH_STEP_NEGOTIATED) {
        FR_TRY(ch_negotiate(c, &ch));
        d->step = FR_CH_STEP_NEGOTIATED;
    }
    /* ALPN, then certificate and scheme, for the hello a ServerHello answers. */
    if (!d->retry) {
        FR_TRY(fr_server_select(c, branch));
        if (*branch == FR_BRANCH_APP) return FR_OK;
    }
    if (d->step < FR_CH_STEP_PSK) {
        FR_TRY(consider_psk(c, &ch.x, d->retry, d->second));
        d->step = FR_CH_STEP_PSK;
    }
    fr_ext *early = fr_exts_find(&ch.x, FR_EXT_EARLY_DATA);
    if (d->retry) {
        /* (Nothing asks the host for a ClientHello we retry.) */
        const fr_hello_view view = ch_view(&ch);
        FR_TRY(fr_server_early_decide(c, early, 1, 0, branch));
        FR_TRY(fr_server_send_hrr(c, &view));
        *branch = FR_BRANCH_HRR;
        return FR_OK;
    }
    if (d->step < FR_CH_STEP_IDENTITY) {
        ch_judge_identity(c, branch);
        if (*branch == FR_BRANCH_APP) return FR_OK;
        d->step = FR_CH_STEP_IDENTITY;
    }
    if (d->step < FR_CH_STEP_TRANSCRIPT) {
        FR_TRY(ch_transcript(c));
        d->step = FR_CH_STEP_TRANSCRIPT;
    }
    /* 0-RTT (RFC 8446 §4.2.10), with the transcript holding this hello. */
    FR_TRY(fr_server_early_decide(c, early, 0, d->second, branch));
    if (*branch == FR_BRANCH_APP) return FR_OK;
    FR_TRY(fr_server_send_flight(c, d->share, d->share_len));
    *branch = answered_branch(c);
    return FR_OK;
}
