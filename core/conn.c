/*
 * conn.c - the connection engine: input buffering, record reception and
 * dispatch, output records, alerts, and the application data paths.
 * Sans-I/O: bytes arrive through fr_conn_in_* and leave through `out`.
 */
#include "conn.h"

/* ---- setup ---------------------------------------------------------------- */

fr_err fr_conn_init(ferrule_conn *c, ferrule_config *cfg, const char *server_name,
                    size_t memory_limit) {
    c->cfg = cfg;
    c->role = cfg->role;
    c->alert = -1;
    atomic_init(&c->pending_alert, -1);
    atomic_init(&c->pending_key_update, 0);
    atomic_init(&c->resume.pending_tickets, 0);
    fr_mem_init(&c->mem, &cfg->alloc, memory_limit != 0 ? memory_limit : cfg->memory_limit);
    fr_state_init(c);
    if (server_name != NULL) {
        size_t n = strlen(server_name);
        FR_ENSURE(n > 0 && n < sizeof(c->server_name), FERRULE_R_CONFIG_INVALID);
        memcpy(c->server_name, server_name, n + 1);
        c->has_server_name = 1;
    }
    c->in_cap = FR_MAX_RECORD;
    c->in = fr_mem_alloc(&c->mem, c->in_cap);
    FR_ENSURE(c->in != NULL, fr_mem_error(&c->mem, c->in_cap));
    return FR_OK;
}

void fr_conn_release(ferrule_conn *c) {
    fr_mem_free(&c->mem, c->in, c->in_cap);
    fr_mem_free(&c->mem, c->out, c->out_cap);
    fr_mem_free(&c->mem, c->hs_buf, c->hs_cap);
    fr_mem_free(&c->mem, c->ch_copy, c->ch_len);
    for (size_t i = 0; i < c->n_kex; i++) fr_kex_free(&c->kex[i]);
    for (size_t i = 0; i < c->n_peer_certs; i++) fr_cert_free(&c->mem, c->peer_certs[i]);
    fr_mem_free(&c->mem, c->peer_certs, c->peer_certs_cap * sizeof(*c->peer_certs));
    fr_verify_result_free(c->verify_result);
    fr_aead_free(&c->rd);
    fr_aead_free(&c->wr);
    fr_transcript_free(&c->th);
    fr_ks_wipe(&c->ks);
    fr_wipe(c->th_before, sizeof(c->th_before));
    fr_resume_conn_free(c);
    fr_early_conn_free(c);
}

/* ---- output --------------------------------------------------------------- */

fr_err fr_conn_out_reserve(ferrule_conn *c, size_t n) {
    if (c->out_off > 0 && n > c->out_cap - c->out_off - c->out_len) {
        memmove(c->out, c->out + c->out_off, c->out_len);
        c->out_off = 0;
    }
    if (n <= c->out_cap - c->out_off - c->out_len) return FR_OK;
    /* Grow by doubling, but never more than one maximum record beyond
     * what is needed, so a small ceiling still fits two records. */
    size_t want = c->out_len + n;
    size_t cap = c->out_cap < 4096 ? 4096 : c->out_cap;
    while (cap < want) cap *= 2;
    if (cap > want + FR_MAX_RECORD) cap = want + FR_MAX_RECORD;
    uint8_t *p = fr_mem_alloc(&c->mem, cap);
    FR_ENSURE(p != NULL, fr_mem_error(&c->mem, cap));
    if (c->out_len > 0) memcpy(p, c->out + c->out_off, c->out_len);
    fr_mem_free(&c->mem, c->out, c->out_cap);
    c->out = p;
    c->out_cap = cap;
    c->out_off = 0;
    return FR_OK;
}

void fr_conn_out_consume(ferrule_conn *c, size_t n) {
    if (n > c->out_len) n = c->out_len;
    c->out_off += n;
    c->out_len -= n;
    if (c->out_len == 0) c->out_off = 0;
}

/* One record of `type` under the current write protection. */
static fr_err send_record(ferrule_conn *c, uint8_t type, const uint8_t *data, size_t len);
fr_err fr_conn_send_record(ferrule_conn *c, uint8_t type, const uint8_t *data, size_t len) {
    FR_ENSURE(len <= FR_MAX_PLAINTEXT, FERRULE_R_INTERNAL);
    return send_record(c, type, data, len);
}
static fr_err send_record(ferrule_conn *c, uint8_t type, const uint8_t *data, size_t len) {
    size_t n = 0;
    if (fr_aead_active(&c->wr)) {
        FR_TRY(fr_conn_out_reserve(c, FR_RECORD_OVERHEAD + len));
        uint8_t *dst = c->out + c->out_off + c->out_len;
        FR_TRY(fr_record_seal(&c->wr, type, data, len, 0, dst, FR_RECORD_OVERHEAD + len, &n));
    } else {
        FR_TRY(fr_conn_out_reserve(c, FR_RECORD_HEADER_LEN + len));
        uint8_t *dst = c->out + c->out_off + c->out_len;
        FR_TRY(fr_record_write_plain(type, data, len, dst, FR_RECORD_HEADER_LEN + len, &n));
        /* RFC 8446 §5.1: an initial ClientHello may carry 0x0301 for
         * compatibility with middleboxes; everything else uses 0x0303. */
        if (type == FR_CT_HANDSHAKE && c->role == FERRULE_ROLE_CLIENT &&
            c->state == FERRULE_HS_START)
            dst[2] = 0x01;
    }
    c->out_len += n;
    return FR_OK;
}

/* Handshake bytes in records of at most 2^14 bytes (RFC 8446 §5.1), or
 * of the peer's record_size_limit once negotiated (RFC 8449 §4). */
static fr_err send_fragmented(ferrule_conn *c, const uint8_t *msg, size_t len) {
    size_t max = fr_rsl_max_fragment(c);
    for (size_t off = 0; off < len;) {
        size_t chunk = len - off < max ? len - off : max;
        FR_TRY(send_record(c, FR_CT_HANDSHAKE, msg + off, chunk));
        off += chunk;
    }
    return FR_OK;
}

fr_err fr_conn_send_handshake(ferrule_conn *c, const uint8_t *msg, size_t len) {
    if (c->th_ready) FR_TRY(fr_transcript_update(&c->th, msg, len));
    return send_fragmented(c, msg, len);
}

fr_err fr_conn_send_post_handshake(ferrule_conn *c, const uint8_t *msg, size_t len) {
    /* Post-handshake messages are not part of the handshake transcript
     * (the dispatcher leaves received ones out too, state.c).  A
     * NewSessionTicket may exceed a small record_size_limit. */
    return send_fragmented(c, msg, len);
}

fr_err fr_conn_send_ccs(ferrule_conn *c) {
    /* RFC 8446 §5 / D.4: a plaintext change_cipher_spec of one byte 0x01,
     * never protected. */
    static const uint8_t ccs[1] = {1};
    size_t n = 0;
    FR_TRY(fr_conn_out_reserve(c, FR_RECORD_HEADER_LEN + 1));
    FR_TRY(fr_record_write_plain(FR_CT_CHANGE_CIPHER_SPEC, ccs, 1,
                                 c->out + c->out_off + c->out_len, FR_RECORD_HEADER_LEN + 1, &n));
    c->out_len += n;
    return FR_OK;
}

static fr_err send_alert(ferrule_conn *c, uint8_t level, uint8_t desc) {
    const uint8_t body[2] = {level, desc};
    return send_record(c, FR_CT_ALERT, body, 2);
}

fr_err fr_conn_set_read_secret(ferrule_conn *c, const uint8_t *secret) {
    c->rd_epoch++;
    return fr_aead_init(&c->rd, c->suite, secret, 0);
}

fr_err fr_conn_set_write_secret(ferrule_conn *c, const uint8_t *secret) {
    return fr_aead_init(&c->wr, c->suite, secret, 1);
}

void fr_conn_keylog(ferrule_conn *c, const char *label, const uint8_t *secret) {
    fr_conn_keylog_len(c, label, secret, c->ks.hlen);
}

void fr_conn_keylog_len(ferrule_conn *c, const char *label, const uint8_t *secret, size_t len) {
    if (c->cfg->keylog == NULL || len > FR_MAX_HASH) return;
    /* NSS key log format: LABEL <client_random hex> <secret hex> */
    char line[64 + 2 * 32 + 2 * FR_MAX_HASH + 4];
    static const char HEX[] = "0123456789abcdef";
    size_t n = strlen(label);
    if (n > 63) return;
    memcpy(line, label, n);
    line[n++] = ' ';
    for (size_t i = 0; i < 32; i++) {
        line[n++] = HEX[c->client_random[i] >> 4];
        line[n++] = HEX[c->client_random[i] & 15];
    }
    line[n++] = ' ';
    for (size_t i = 0; i < len; i++) {
        line[n++] = HEX[secret[i] >> 4];
        line[n++] = HEX[secret[i] & 15];
    }
    line[n] = '\0';
    c->cfg->keylog(c->cfg->keylog_ctx, c, line);
    fr_wipe(line, sizeof(line));
}

/* ---- failure -------------------------------------------------------------- */

void fr_conn_do_pending(ferrule_conn *c) {
    int alert = atomic_exchange(&c->pending_alert, -1);
    if (alert >= 0 && !c->closed_sent) {
        c->closed_sent = 1;
        (void)send_alert(c, 2, (uint8_t)alert);
    }
    if (c->status != FERRULE_OK) {
        /* Dead connection: its secrets go now (the reader cannot wipe
         * what the send half may be using). */
        atomic_store(&c->pending_key_update, 0);
        fr_ks_wipe(&c->ks);
        return;
    }
    if (c->role == FERRULE_ROLE_SERVER) fr_server_send_pending_tickets(c);
    if (atomic_exchange(&c->pending_key_update, 0) && !c->closed_sent) {
        /* RFC 8446 §4.6.3: answered before our next application data. */
        fr_err e = fr_send_key_update(c, 0);
        if (e != FR_OK) (void)fr_conn_fail(c, e);
    }
}

void fr_conn_service_send(ferrule_conn *c) {
    if (c->has_io) {
        /* The send half may be blocked in its send callback while holding
         * the lock; waiting here could deadlock two peers. */
        if (pthread_mutex_trylock(&c->wr_lock) != 0) return;
    } else {
        pthread_mutex_lock(&c->wr_lock);
    }
    fr_conn_do_pending(c);
    pthread_mutex_unlock(&c->wr_lock);
}

fr_err fr_conn_fail(ferrule_conn *c, fr_err e) {
    int first = 0;
    pthread_mutex_lock(&c->err_lock);
    if (c->status == FERRULE_OK) {
        c->reason = e;
        if (e != FERRULE_R_PEER_ALERT) c->alert = fr_err_alert(e);
        c->status = fr_err_class(e);
        first = 1;
    }
    pthread_mutex_unlock(&c->err_lock);
    if (!first) return e;
    fr_state_fail(c);
    /* Fail closed (RFC 8446 §6.2): the alert goes out under the current
     * write keys, then nothing more. */
    if (c->alert >= 0 && e != FERRULE_R_PEER_ALERT) atomic_store(&c->pending_alert, c->alert);
    fr_conn_service_send(c);
    return e;
}

static fr_err peer_alert(ferrule_conn *c, uint8_t desc) {
    pthread_mutex_lock(&c->err_lock);
    if (c->status == FERRULE_OK) {
        c->reason = FERRULE_R_PEER_ALERT;
        c->alert = desc;
        c->status = FERRULE_ALERT_RECEIVED;
    }
    pthread_mutex_unlock(&c->err_lock);
    fr_state_fail(c);
    fr_conn_service_send(c);
    return FERRULE_R_PEER_ALERT;
}

/* ---- input ---------------------------------------------------------------- */

static void in_compact(ferrule_conn *c) {
    if (c->in_off == 0 || c->app_len > 0) return; /* app data points into `in` */
    memmove(c->in, c->in + c->in_off, c->in_len);
    c->in_off = 0;
}

size_t fr_conn_in_space(ferrule_conn *c) {
    in_compact(c);
    return c->in_cap - c->in_off - c->in_len;
}

uint8_t *fr_conn_in_tail(ferrule_conn *c, size_t *space) {
    *space = fr_conn_in_space(c);
    return c->in + c->in_off + c->in_len;
}

void fr_conn_in_commit(ferrule_conn *c, size_t n) { c->in_len += n; }

void fr_conn_in_append(ferrule_conn *c, const uint8_t *p, size_t n) {
    size_t space;
    uint8_t *dst = fr_conn_in_tail(c, &space);
    if (n > space) n = space;
    if (n == 0) return; /* p may be NULL for an empty feed */
    memcpy(dst, p, n);
    c->in_len += n;
}

static void in_consume(ferrule_conn *c, size_t n) {
    c->in_off += n;
    c->in_len -= n;
    if (c->in_len == 0) c->in_off = 0;
}

static fr_err on_alert(ferrule_conn *c, const uint8_t *pt, size_t len) {
    /* RFC 8446 §6: an alert is exactly level + description. */
    FR_ENSURE(len == 2, FERRULE_R_DECODE_ERROR);
    FR_ENSURE(pt[0] == 1 || pt[0] == 2, FERRULE_R_ILLEGAL_PARAMETER);
    uint8_t desc = pt[1];
    if (desc == FERRULE_ALERT_CLOSE_NOTIFY && c->state == FERRULE_HS_CONNECTED) {
        /* RFC 8446 §6.1: data after close_notify is ignored. */
        c->peer_closed = 1;
        return FR_OK;
    }
    /* RFC 8446 §6.1: user_canceled is followed by close_notify. */
    if (desc == FERRULE_ALERT_USER_CANCELED && c->state != FERRULE_HS_CONNECTED) return FR_OK;
    /* RFC 8446 §6.2: every other alert is fatal whatever its level; a
     * close_notify during the handshake aborts it. */
    return peer_alert(c, desc);
}

/* Length (header included) of the message that begins the reassembly
 * buffer once `p` (n bytes) is appended, or 0 while its header is not yet
 * complete. */
static size_t first_message_len(const ferrule_conn *c, const uint8_t *p, size_t n) {
    uint8_t hdr[4];
    size_t have = c->hs_len < 4 ? c->hs_len : 4;
    if (have + n < 4) return 0;
    if (have > 0) memcpy(hdr, c->hs_buf, have); /* (no buffer yet when empty) */
    memcpy(hdr + have, p, 4 - have);
    return 4 + ((size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3]);
}

static fr_err hs_append(ferrule_conn *c, const uint8_t *p, size_t n) {
    size_t limit = c->cfg->max_hs_msg + 4 + FR_MAX_PLAINTEXT;
    FR_ENSURE(n <= limit - c->hs_len, FERRULE_R_HANDSHAKE_TOO_LARGE);
    if (c->hs_len + n > c->hs_cap) {
        /* Grow by doubling as bytes arrive (a header alone does not buy a
         * large buffer), but once the first message's announced length is
         * within one doubling, straight to it: no step beyond it, and no
         * further copy before it is complete. */
        size_t need = c->hs_len + n, want = first_message_len(c, p, n);
        size_t cap = c->hs_cap < 4096 ? 4096 : c->hs_cap;
        while (cap < need) cap *= 2;
        if (want >= need && cap > want / 2) cap = want;
        if (cap > limit) cap = limit;
        uint8_t *q = fr_mem_alloc(&c->mem, cap);
        FR_ENSURE(q != NULL, fr_mem_error(&c->mem, cap));
        if (c->hs_len > 0) memcpy(q, c->hs_buf, c->hs_len);
        fr_mem_free(&c->mem, c->hs_buf, c->hs_cap);
        c->hs_buf = q;
        c->hs_cap = cap;
    }
    memcpy(c->hs_buf + c->hs_len, p, n);
    c->hs_len += n;
    return FR_OK;
}

/* Can a message of `type` have a body of `len` bytes?  The lengths its
 * RFC 8446 syntax allows: exact for Finished (the hash's, §4.4.4),
 * KeyUpdate and EndOfEarlyData; at most what the length prefixes of the
 * others add up to (Certificate may use all 2^24-1).  Checked from the
 * 4-byte header, before any of the body is held; a wrong length is the
 * peer's decoding error, unlike one our cap refuses. */
static int hs_length_possible(const ferrule_conn *c, uint8_t type, size_t len) {
    switch (type) {
    case FR_HS_FINISHED: {
        const fr_suite_info *si = fr_suite_lookup(c->suite);
        return si != NULL && len == fr_hash_len(si->hash);
    }
    case FR_HS_KEY_UPDATE: return len == 1;
    case FR_HS_END_OF_EARLY_DATA: return len == 0;
    case FR_HS_CLIENT_HELLO: return len <= FR_MAX_CLIENT_HELLO;
    /* version, random, session id<0..32>, suite, compression, extensions */
    case FR_HS_SERVER_HELLO: return len <= 2 + 32 + (1 + 32) + 2 + 1 + (2 + 65535);
    case FR_HS_ENCRYPTED_EXTENSIONS: return len <= 2 + 65535;
    /* context<0..255>, extensions<2..2^16-1> */
    case FR_HS_CERTIFICATE_REQUEST: return len <= (1 + 255) + (2 + 65535);
    /* scheme, signature<0..2^16-1> */
    case FR_HS_CERTIFICATE_VERIFY: return len <= 2 + (2 + 65535);
    /* lifetime, age_add, nonce<0..255>, ticket<1..2^16-1>, extensions */
    case FR_HS_NEW_SESSION_TICKET: return len <= 4 + 4 + (1 + 255) + (2 + 65535) + (2 + 65535);
    default: return 1;
    }
}

/* Dispatch every complete handshake message in hs_buf. */
static fr_err hs_drain(ferrule_conn *c) {
    size_t off = 0;
    fr_err e = FR_OK;
    while (c->hs_len - off >= 4) {
        const uint8_t *m = c->hs_buf + off;
        size_t body = ((size_t)m[1] << 16) | ((size_t)m[2] << 8) | m[3];
        /* A message this state never takes is refused from its header,
         * before we hold any of its body (the dispatcher would refuse it
         * once complete, with the same reason). */
        if (!fr_state_accepts(c, m[0])) {
            e = FERRULE_R_UNEXPECTED_MESSAGE;
            break;
        }
        if (!hs_length_possible(c, m[0], body)) {
            e = FERRULE_R_DECODE_ERROR;
            break;
        }
        if (body > c->cfg->max_hs_msg) {
            e = FERRULE_R_HANDSHAKE_TOO_LARGE;
            break;
        }
        if (c->hs_len - off - 4 < body) break;
        unsigned epoch = c->rd_epoch;
        int hrr = c->hrr.done;
        e = fr_dispatch(c, m, 4 + body);
        off += 4 + body;
        if (e != FR_OK) break;
        /* RFC 8446 §5.1: handshake messages must not span a key change, so
         * a message before one ends its record.  So does one that the peer
         * cannot follow before our answer: a ClientHello we answer with a
         * HelloRetryRequest, or that HelloRetryRequest, which nothing may
         * follow before the second ClientHello. */
        if ((epoch != c->rd_epoch || hrr != c->hrr.done) && off != c->hs_len) {
            e = FERRULE_R_UNEXPECTED_MESSAGE;
            break;
        }
    }
    if (off > 0 && e == FR_OK) {
        memmove(c->hs_buf, c->hs_buf + off, c->hs_len - off);
        c->hs_len -= off;
    }
    /* Release the reassembly buffer when the handshake is over and empty. */
    if (e == FR_OK && c->hs_len == 0 && c->state == FERRULE_HS_CONNECTED && c->hs_buf != NULL) {
        fr_mem_free(&c->mem, c->hs_buf, c->hs_cap);
        c->hs_buf = NULL;
        c->hs_cap = 0;
    }
    return e;
}

/*
 * Receive and process one record from `in`.  FR_OK when a record was
 * handled, FR_WANT_READ when a whole record is not buffered yet, FR_CLOSED
 * after close_notify, or a failure reason (not yet recorded).
 */
static fr_err next_record(ferrule_conn *c) {
    if (c->peer_closed) return FR_CLOSED;
    if (c->in_len < FR_RECORD_HEADER_LEN) return FR_WANT_READ;
    uint8_t *rec = c->in + c->in_off;
    uint8_t type;
    size_t body_len;
    FR_TRY(fr_record_header(rec, &type, &body_len));
    if (c->in_len - FR_RECORD_HEADER_LEN < body_len) return FR_WANT_READ;
    size_t rec_len = FR_RECORD_HEADER_LEN + body_len;

    if (type == FR_CT_CHANGE_CIPHER_SPEC) {
        /* RFC 8446 §5: an unprotected 0x01 between the first ClientHello
         * and the peer's Finished "MUST simply" be dropped, however many
         * (a 0-RTT client answered by a HelloRetryRequest sends two,
         * Appendix D.4); anything else is unexpected_message.  A handful
         * is plenty; more is a flood. */
        FR_ENSURE(fr_state_allows_ccs(c) && body_len == 1 && rec[5] == 1 &&
                      c->ccs_seen < FR_MAX_CCS && c->hs_len == 0,
                  FERRULE_R_BAD_CCS);
        c->ccs_seen++;
        in_consume(c, rec_len);
        return FR_OK;
    }

    uint8_t *pt;
    size_t pt_len;
    if (fr_aead_active(&c->rd) && type == FR_CT_ALERT && c->state != FERRULE_HS_CONNECTED &&
        body_len == 2) {
        /* A peer that rejects our flight before installing its handshake
         * keys (OpenSSL's client does) sends its alert unprotected.  An
         * alert can only end the handshake, which anyone on the path can
         * do by closing the transport, so we accept it instead of
         * misreporting the peer's reason. */
        FR_ENSURE(c->hs_len == 0, FERRULE_R_INTERLEAVED);
        fr_err e = on_alert(c, rec + FR_RECORD_HEADER_LEN, 2);
        in_consume(c, rec_len);
        return e;
    }
    if (c->early.skipping && type == FR_CT_APPLICATION_DATA && !fr_aead_active(&c->rd)) {
        /* Refused 0-RTT before a HelloRetryRequest's second ClientHello
         * (RFC 8446 §4.2.10): dropped, within the budget. */
        FR_TRY(fr_server_skip_early(c, body_len));
        in_consume(c, rec_len);
        return FR_OK;
    }
    if (fr_aead_active(&c->rd)) {
        /* RFC 8446 §5.2: once protected, every record is application_data
         * on the outside. */
        FR_ENSURE(type == FR_CT_APPLICATION_DATA, FERRULE_R_UNEXPECTED_MESSAGE);
        /* RFC 8449: our limit binds what the client sent after it saw it;
         * 0-RTT records (accepted, or skipped when refused) were sent
         * before, under the early keys. */
        int early_rec = c->early.skipping || c->state == FERRULE_HS_WAIT_END_OF_EARLY_DATA;
        if (!early_rec) FR_TRY(fr_rsl_check_received(c, body_len));
        fr_err oe = fr_record_open(&c->rd, rec, rec_len, &type, &pt, &pt_len);
        if (oe == FERRULE_R_BAD_RECORD_MAC && c->early.skipping) {
            /* Refused 0-RTT under keys we do not have: trial decryption
             * skips it until the first record that opens (§4.2.10). */
            FR_TRY(fr_server_skip_early(c, body_len));
            in_consume(c, rec_len);
            return FR_OK;
        }
        FR_TRY(oe);
        if (c->early.skipping) {
            c->early.skipping = 0;
            FR_TRY(fr_rsl_check_received(c, body_len));
        }
    } else {
        FR_ENSURE(type != FR_CT_APPLICATION_DATA, FERRULE_R_UNEXPECTED_MESSAGE);
        FR_ENSURE(body_len <= FR_MAX_PLAINTEXT, FERRULE_R_RECORD_OVERFLOW);
        pt = rec + FR_RECORD_HEADER_LEN;
        pt_len = body_len;
    }
    /* RFC 8446 §5.1: no other record type inside a fragmented handshake message. */
    FR_ENSURE(c->hs_len == 0 || type == FR_CT_HANDSHAKE, FERRULE_R_INTERLEAVED);

    if (pt_len == 0) {
        /* RFC 8446 §5.1: no zero-length handshake or alert fragments, with
         * or without padding (and an alert is exactly two bytes, §6): they
         * carry nothing a message could be made of, so unexpected_message.
         * Zero-length application data is allowed ("may be sent", §5.1),
         * but bounded so that it cannot spin us. */
        FR_ENSURE(type == FR_CT_APPLICATION_DATA && c->state == FERRULE_HS_CONNECTED,
                  FERRULE_R_UNEXPECTED_MESSAGE);
        FR_ENSURE(++c->empty_records <= FR_MAX_EMPTY_RECORDS, FERRULE_R_UNEXPECTED_MESSAGE);
        in_consume(c, rec_len);
        return FR_OK;
    }
    c->empty_records = 0;

    switch (type) {
    case FR_CT_ALERT: {
        fr_err e = on_alert(c, pt, pt_len);
        in_consume(c, rec_len);
        return e;
    }
    case FR_CT_HANDSHAKE:
        FR_ENSURE(fr_state_expects_handshake(c), FERRULE_R_UNEXPECTED_MESSAGE);
        FR_TRY(hs_append(c, pt, pt_len));
        in_consume(c, rec_len);
        return hs_drain(c);
    case FR_CT_APPLICATION_DATA:
        if (c->state == FERRULE_HS_WAIT_END_OF_EARLY_DATA) {
            /* Accepted 0-RTT data: buffered until the application reads it. */
            FR_TRY(fr_server_early_data_record(c, pt, pt_len));
            in_consume(c, rec_len);
            return FR_OK;
        }
        FR_ENSURE(c->state == FERRULE_HS_CONNECTED, FERRULE_R_UNEXPECTED_MESSAGE);
        c->ku.consecutive = 0; /* the KeyUpdate flood bound counts between data */
        c->app = pt;
        c->app_len = pt_len;
        c->app_rec = rec_len;
        return FR_OK;
    default:
        return FERRULE_R_BAD_CONTENT_TYPE;
    }
}

static fr_err no_more_input(ferrule_conn *c) {
    /* RFC 8446 §6.1: an EOF without close_notify is truncation, never a
     * clean end of stream. */
    if (c->eof) return fr_conn_fail(c, FERRULE_R_TRUNCATED);
    return FR_WANT_READ;
}

/* One handshake record: FR_OK to go on, anything else ends the drive
 * (recorded as the connection's failure where it is one). */
static fr_err handshake_step(ferrule_conn *c) {
    fr_err e = next_record(c);
    if (e == FR_WANT_READ) return no_more_input(c);
    if (e == FR_CLOSED) return fr_conn_fail(c, FERRULE_R_UNEXPECTED_MESSAGE);
    if (e != FR_OK) return e == FERRULE_R_PEER_ALERT ? e : fr_conn_fail(c, e);
    /* Application data before the handshake is done (never 0-RTT data:
     * that is buffered on its own). */
    if (c->app_len > 0) return fr_conn_fail(c, FERRULE_R_UNEXPECTED_MESSAGE);
    return FR_OK;
}

fr_err fr_conn_advance(ferrule_conn *c) {
    if (c->status != FERRULE_OK) return c->reason;
    if (c->state == FERRULE_HS_START) {
        fr_err e = fr_dispatch_start(c);
        if (e != FR_OK) return fr_conn_fail(c, e);
    }
    while (c->state != FERRULE_HS_CONNECTED) FR_TRY(handshake_step(c));
    return FR_OK;
}

int fr_conn_in_early_phase(const ferrule_conn *c) {
    if (c->role != FERRULE_ROLE_SERVER || c->status != FERRULE_OK) return 0;
    return c->state == FERRULE_HS_WAIT_CLIENT_HELLO ||
           c->state == FERRULE_HS_WAIT_END_OF_EARLY_DATA;
}

fr_err fr_conn_advance_early(ferrule_conn *c) {
    if (c->status != FERRULE_OK) return c->reason;
    while (fr_conn_in_early_phase(c) && c->early.len == c->early.off) FR_TRY(handshake_step(c));
    return FR_OK;
}

static fr_err read_app(ferrule_conn *c, uint8_t *buf, size_t cap, size_t *n) {
    *n = 0;
    /* Early data first: it precedes everything else in the stream. */
    if (c->status == FERRULE_OK && (*n = fr_early_take(c, buf, cap)) > 0) return FR_OK;
    for (;;) {
        if (c->status != FERRULE_OK) return c->reason;
        if (c->app_len > 0) {
            size_t k = cap < c->app_len ? cap : c->app_len;
            memcpy(buf, c->app, k);
            fr_wipe(c->app, k);
            c->app += k;
            c->app_len -= k;
            *n = k;
            if (c->app_len == 0) {
                c->app = NULL;
                in_consume(c, c->app_rec);
            }
            return FR_OK;
        }
        fr_err e = next_record(c);
        if (e == FR_WANT_READ) return no_more_input(c);
        if (e == FR_CLOSED) return FR_CLOSED;
        if (e != FR_OK) return e == FERRULE_R_PEER_ALERT ? e : fr_conn_fail(c, e);
    }
}

fr_err fr_conn_read_app(ferrule_conn *c, uint8_t *buf, size_t cap, size_t *n) {
    fr_err e = read_app(c, buf, cap, n);
    /* RFC 8446 §4.6.3: the answer to update_requested goes before our next
     * application data; the requests of one pass over the input share it
     * (one flag), and it goes at the end of the pass rather than with our
     * next data: a peer may wait for it before it sends more, while we
     * wait for more before we answer (a partial request). */
    if (atomic_load(&c->pending_key_update)) fr_conn_service_send(c);
    return e;
}

fr_err fr_conn_write_app(ferrule_conn *c, const uint8_t *buf, size_t len, size_t *n) {
    *n = 0;
    fr_conn_do_pending(c);
    if (c->status != FERRULE_OK) return c->reason;
    FR_ENSURE(!c->closed_sent, FERRULE_R_WRONG_STATE);
    /* Bound buffered output: accept more only while less than one full
     * record is waiting. */
    if (c->out_len >= FR_MAX_RECORD) return FR_WANT_WRITE;
    size_t max = fr_rsl_max_fragment(c); /* 2^14, or RFC 8449's limit */
    while (*n < len && c->out_len < FR_MAX_RECORD) {
        size_t chunk = len - *n < max ? len - *n : max;
        /* RFC 8446 §5.5: retire the write key before its AEAD limit. */
        fr_err e = fr_ku_before_app_record(c);
        if (e == FR_OK) e = send_record(c, FR_CT_APPLICATION_DATA, buf + *n, chunk);
        /* The memory ceiling refuses a second queued record: that is back
         * pressure, not a failure, once something was accepted or queued. */
        if (e == FERRULE_R_MEMORY_LIMIT && (*n > 0 || c->out_len > 0))
            return *n > 0 ? FR_OK : FR_WANT_WRITE;
        if (e != FR_OK) return fr_conn_fail(c, e);
        *n += chunk;
    }
    return FR_OK;
}

fr_err fr_conn_queue_close(ferrule_conn *c) {
    fr_conn_do_pending(c);
    if (c->closed_sent) return FR_OK;
    c->closed_sent = 1;
    /* RFC 8446 §6.1: close_notify, then no more data from us. */
    fr_err e = send_alert(c, 1, FERRULE_ALERT_CLOSE_NOTIFY);
    if (e != FR_OK) return fr_conn_fail(c, e);
    return FR_OK;
}
