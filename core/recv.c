/*
 * recv.c - record reception: framing, the rules for records that arrive
 * before or outside protection, deprotection, and content dispatch
 * (alerts, handshake reassembly, application data left in place).
 * Sans-I/O: records are read from `in`, which the buffer API fills.
 */
#include "conn.h"

/* ---- the input buffer ----------------------------------------------------- */

fr_err fr_conn_in_ensure(fr_conn *c) {
    if (c->in != NULL) return FR_OK;
    /* One maximal record, taken back from the config's pool when the
     * connection (or another) gave one back (bufpool.c). */
    size_t used;
    fr_err e = FR_OK;
    c->in = fr_buf_get(c, &used, &e);
    FR_ENSURE(c->in != NULL, e);
    c->in_cap = FR_POOL_BUF;
    c->in_off = c->in_len = 0;
    c->in_used = used;
    return FR_OK;
}

void fr_conn_in_consume(fr_conn *c, size_t n) {
    c->in_off += n;
    c->in_len -= n;
    /* A lent tail stays where it was lent (buffers.c). */
    if (c->in_len == 0 && !c->in_lent) c->in_off = 0;
}

/* ---- alerts and handshake messages ---------------------------------------- */

static fr_err peer_alert(fr_conn *c, uint8_t desc) {
    fr_sync_lock(&c->sync, FR_LOCK_CONN_ERR);
    if (c->status == FERRULE_OK) {
        c->reason = FERRULE_R_PEER_ALERT;
        c->alert = desc;
        c->status = FERRULE_ALERT_RECEIVED;
    }
    fr_sync_unlock(&c->sync, FR_LOCK_CONN_ERR);
    fr_state_fail(c);
    fr_conn_service_send(c); /* the secrets go (fr_conn_do_pending) */
    return FERRULE_R_PEER_ALERT;
}

static fr_err on_alert(fr_conn *c, const uint8_t *pt, size_t len) {
    /* RFC 8446 §6: an alert is exactly level + description (and §5.1:
     * alerts are never fragmented nor two in one record). */
    FR_ENSURE(len == 2, FERRULE_R_BAD_ALERT_LENGTH);
    /* AlertLevel is warning(1) or fatal(2); any other is a field with
     * an illegal value. */
    FR_ENSURE(pt[0] == 1 || pt[0] == 2, FERRULE_R_BAD_ALERT_LEVEL);
    uint8_t desc = pt[1];
    if (desc == FERRULE_ALERT_CLOSE_NOTIFY && c->state == FERRULE_HS_CONNECTED) {
        /* RFC 8446 §6.1: data after close_notify is ignored. */
        c->peer_closed = 1;
        return FR_OK;
    }
    /* RFC 8446 §6.1: user_canceled is a closure alert, not an error alert
     * (§6.2), and "SHOULD be followed by a close_notify": we wait for that,
     * during the handshake or after it.  A run of them with nothing else
     * between is bounded like empty records. */
    if (desc == FERRULE_ALERT_USER_CANCELED) {
        FR_ENSURE(++c->user_canceled <= FR_MAX_USER_CANCELED, FERRULE_R_TOO_MANY_WARNINGS);
        return FR_OK;
    }
    /* RFC 8446 §6.2: every other alert is fatal whatever its level; a
     * close_notify during the handshake aborts it. */
    return peer_alert(c, desc);
}

/* Length (header included) of the message that begins the reassembly
 * buffer once `p` (n bytes) is appended, or 0 while its header is not yet
 * complete. */
static size_t first_message_len(const fr_conn *c, const uint8_t *p, size_t n) {
    uint8_t hdr[4];
    size_t have = c->hs_len < 4 ? c->hs_len : 4;
    if (have + n < 4) return 0;
    if (have > 0) memcpy(hdr, c->hs_buf, have); /* (no buffer yet when empty) */
    memcpy(hdr + have, p, 4 - have);
    return 4 + ((size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3]);
}

static fr_err hs_append(fr_conn *c, const uint8_t *p, size_t n) {
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
static int hs_length_possible(const fr_conn *c, uint8_t type, size_t len) {
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

/* Why the message whose header starts `m` cannot be taken, or FR_OK. */
static fr_err hs_header_check(const fr_conn *c, const uint8_t *m, size_t *body) {
    fr_reader r = fr_reader_init(m + 1, 3);
    uint32_t len;
    FR_TRY(fr_read_u24(&r, &len));
    *body = len;
    /* A message this state never takes is refused from its header, before
     * we hold any of its body (the dispatcher would refuse it once
     * complete, with the same reason). */
    FR_ENSURE(fr_state_accepts(c, m[0]), FERRULE_R_UNEXPECTED_MESSAGE);
    FR_ENSURE(hs_length_possible(c, m[0], len), FERRULE_R_DECODE_ERROR);
    FR_ENSURE(len <= c->cfg->max_hs_msg, FERRULE_R_HANDSHAKE_TOO_LARGE);
    return FR_OK;
}

/* Dispatch every complete handshake message in hs_buf, from the one a
 * decision paused if any.  *pr WANT_APP when a message paused. */
static fr_err hs_drain(fr_conn *c, fr_progress *pr) {
    size_t off = c->dec.paused ? c->dec.hs_off : 0;
    fr_err e = FR_OK;
    *pr = FR_PROGRESS_DONE;
    while (c->hs_len - off >= 4) {
        const uint8_t *m = c->hs_buf + off;
        size_t body = 0;
        if ((e = hs_header_check(c, m, &body)) != FR_OK) break;
        if (c->hs_len - off - 4 < body) break;
        unsigned epoch = c->rd_epoch;
        int hrr = c->hrr.done;
        /* What follows this message in what we hold: a handler whose
         * message nothing may follow refuses it before answering. */
        c->hs_after = c->hs_len - off - 4 - body;
        e = fr_dispatch(c, m, 4 + body, pr);
        if (e == FR_OK && *pr == FR_PROGRESS_WANT_APP) {
            /* The message stays where it is, and so does everything
             * pointing into it, until the answer (no input is read). */
            c->dec.hs_off = off;
            return FR_OK;
        }
        off += 4 + body;
        if (e != FR_OK) break;
        /* RFC 8446 §5.1: handshake messages must not span a key change, so
         * a message before one ends its record.  So does one that the peer
         * cannot follow before our answer: a ClientHello we answer with a
         * HelloRetryRequest, or that HelloRetryRequest, which nothing may
         * follow before the second ClientHello. */
        if ((epoch != c->rd_epoch || hrr != c->hrr.done) && off != c->hs_len) {
            e = FERRULE_R_UNALIGNED_HANDSHAKE;
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

/* ---- one record ------------------------------------------------------------ */

/* A record as it arrived: its bytes in `in`, its outer header. */
typedef struct rx_record {
    uint8_t *p;
    size_t len;  /* header included */
    size_t body; /* len - header */
    uint8_t type;
} rx_record;

/* Records handled before (or instead of) deprotection.  *done when the
 * record was consumed here: the change_cipher_spec records RFC 8446 §5
 * drops, an unprotected alert during the handshake, refused 0-RTT data
 * sent in the clear-text phase. */
static fr_err pre_protection(fr_conn *c, const rx_record *r, int *done) {
    *done = 1;
    if (r->type == FR_CT_CHANGE_CIPHER_SPEC) {
        /* RFC 8446 §5: an unprotected 0x01 between the first ClientHello
         * and the peer's Finished "MUST simply" be dropped, however many
         * (a 0-RTT client answered by a HelloRetryRequest sends two,
         * Appendix D.4); anything else is unexpected_message.  A handful
         * is plenty; more is a flood. */
        FR_ENSURE(fr_state_allows_ccs(c) && r->body == 1 && r->p[5] == 1 && c->hs_len == 0,
                  FERRULE_R_BAD_CCS);
        FR_ENSURE(c->ccs_seen < FR_MAX_CCS, FERRULE_R_TOO_MANY_EMPTY);
        c->ccs_seen++;
        fr_conn_in_consume(c, r->len);
        return FR_OK;
    }
    if (fr_aead_active(&c->rd) && r->type == FR_CT_ALERT && c->state != FERRULE_HS_CONNECTED &&
        r->body == 2) {
        /* A peer that rejects our flight before installing its handshake
         * keys (OpenSSL's client does) sends its alert unprotected.  An
         * alert can only end the handshake, which anyone on the path can
         * do by closing the transport, so we accept it instead of
         * misreporting the peer's reason. */
        FR_ENSURE(c->hs_len == 0, FERRULE_R_INTERLEAVED);
        fr_err e = on_alert(c, r->p + FR_RECORD_HEADER_LEN, 2);
        fr_conn_in_consume(c, r->len);
        return e;
    }
    if (c->early.skipping && r->type == FR_CT_APPLICATION_DATA && !fr_aead_active(&c->rd)) {
        /* Refused 0-RTT before a HelloRetryRequest's second ClientHello
         * (RFC 8446 §4.2.10): dropped, within the budget -- but not in the
         * middle of that ClientHello: handshake messages are not
         * interleaved with other records (§5.1). */
        FR_ENSURE(c->hs_len == 0, FERRULE_R_INTERLEAVED);
        FR_TRY(fr_server_skip_early(c, r->body));
        fr_conn_in_consume(c, r->len);
        return FR_OK;
    }
    *done = 0;
    return FR_OK;
}

/* Accepted 0-RTT records are read in this state (fr_state_reads_early_data).
 * Early data ends before the handshake does (RFC 8446 §4.2.10, §4.5), so
 * the established state, that of nearly every record, skips the table. */
static int reads_early(const fr_conn *c) {
    return c->state != FERRULE_HS_CONNECTED && fr_state_reads_early_data(c);
}

/* Open a protected record in place, or check a plaintext one: *type, *pt
 * and *pt_len describe its content.  *done when it was refused 0-RTT data
 * skipped by trial decryption (RFC 8446 §4.2.10). */
static fr_err deprotect(fr_conn *c, rx_record *r, uint8_t **pt, size_t *pt_len, int *done) {
    *done = 0;
    if (!fr_aead_active(&c->rd)) {
        /* No application data before there are keys to protect it: a
         * record type this phase never carries (RFC 8446 §5). */
        FR_ENSURE(r->type != FR_CT_APPLICATION_DATA, FERRULE_R_BAD_CONTENT_TYPE);
        /* RFC 8446 §5.1: a TLSPlaintext fragment is at most 2^14 bytes. */
        FR_ENSURE(r->body <= FR_MAX_PLAINTEXT, FERRULE_R_PLAINTEXT_OVERFLOW);
        *pt = r->p + FR_RECORD_HEADER_LEN;
        *pt_len = r->body;
        return FR_OK;
    }
    /* RFC 8446 §5.2: once protected, every record is application_data on
     * the outside; another type is unexpected (§5). */
    FR_ENSURE(r->type == FR_CT_APPLICATION_DATA, FERRULE_R_BAD_OUTER_TYPE);
    /* RFC 8449: our limit binds what the client sent after it saw it;
     * 0-RTT records (accepted, or skipped when refused) were sent before,
     * under the early keys. */
    int early_rec = c->early.skipping || reads_early(c);
    if (!early_rec) FR_TRY(fr_rsl_check_received(c, r->body));
    fr_err oe = fr_record_open(&c->rd, r->p, r->len, &r->type, pt, pt_len);
    if (oe == FERRULE_R_BAD_RECORD_MAC && c->early.skipping) {
        /* Refused 0-RTT under keys we do not have: trial decryption skips
         * it until the first record that opens (never inside a handshake
         * message, RFC 8446 §5.1). */
        FR_ENSURE(c->hs_len == 0, FERRULE_R_INTERLEAVED);
        FR_TRY(fr_server_skip_early(c, r->body));
        fr_conn_in_consume(c, r->len);
        *done = 1;
        return FR_OK;
    }
    FR_TRY(oe);
    if (c->early.skipping) {
        c->early.skipping = 0;
        FR_TRY(fr_rsl_check_received(c, r->body));
    }
    return FR_OK;
}

/* Act on a record's content.  Application data stays in `in` (c->app)
 * until the application has read it. */
static fr_err dispatch_content(fr_conn *c, const rx_record *r, uint8_t *pt, size_t pt_len,
                               fr_progress *pr) {
    /* RFC 8446 §5.1: no other record type inside a fragmented handshake message. */
    FR_ENSURE(c->hs_len == 0 || r->type == FR_CT_HANDSHAKE, FERRULE_R_INTERLEAVED);
    if (pt_len == 0) {
        /* RFC 8446 §5.1: no zero-length handshake or alert fragments, with
         * or without padding (and an alert is exactly two bytes, §6): they
         * carry nothing a message could be made of, so unexpected_message.
         * Zero-length application data is allowed ("may be sent", §5.1),
         * but bounded so that it cannot spin us. */
        FR_ENSURE(r->type == FR_CT_APPLICATION_DATA && c->state == FERRULE_HS_CONNECTED,
                  FERRULE_R_UNEXPECTED_MESSAGE);
        FR_ENSURE(++c->empty_records <= FR_MAX_EMPTY_RECORDS, FERRULE_R_TOO_MANY_EMPTY);
        fr_conn_in_consume(c, r->len);
        return FR_OK;
    }
    c->empty_records = 0;
    /* Only an alert continues a run of user_canceled alerts. */
    if (r->type != FR_CT_ALERT) c->user_canceled = 0;
    switch (r->type) {
    case FR_CT_ALERT: {
        fr_err e = on_alert(c, pt, pt_len);
        fr_conn_in_consume(c, r->len);
        return e;
    }
    case FR_CT_HANDSHAKE:
        FR_ENSURE(fr_state_expects_handshake(c), FERRULE_R_UNEXPECTED_MESSAGE);
        FR_TRY(hs_append(c, pt, pt_len));
        fr_conn_in_consume(c, r->len);
        return hs_drain(c, pr);
    case FR_CT_APPLICATION_DATA:
        if (reads_early(c)) {
            /* Accepted 0-RTT data: buffered until the application reads it.
             * Its decrypted copy here is dead at once: wiped, so that the
             * early data exists only where fr_early_take wipes it as it is
             * read out (docs/secrets.md). */
            FR_TRY(fr_server_early_data_record(c, pt, pt_len));
            fr_wipe(pt, pt_len);
            fr_conn_in_consume(c, r->len);
            return FR_OK;
        }
        FR_ENSURE(c->state == FERRULE_HS_CONNECTED, FERRULE_R_UNEXPECTED_MESSAGE);
        c->ku.consecutive = 0; /* the KeyUpdate flood bound counts between data */
        c->app = pt;
        c->app_len = pt_len;
        c->app_rec = r->len;
        return FR_OK;
    default:
        return FERRULE_R_BAD_CONTENT_TYPE;
    }
}

fr_err fr_conn_next_record(fr_conn *c, fr_progress *pr) {
    *pr = FR_PROGRESS_DONE;
    if (c->dec.paused) {
        /* A handshake message waits for a decision: nothing moves until
         * it is answered; then it is dispatched again (its handler resumes
         * at its saved step), with the messages buffered after it. */
        if (c->dec.answered == FERRULE_DECISION_NONE) {
            *pr = FR_PROGRESS_WANT_APP;
            return FR_OK;
        }
        return hs_drain(c, pr);
    }
    if (c->peer_closed) {
        *pr = FR_PROGRESS_PEER_CLOSED;
        return FR_OK;
    }
    rx_record r;
    if (c->in_len < FR_RECORD_HEADER_LEN) {
        *pr = FR_PROGRESS_NEED_INPUT;
        return FR_OK;
    }
    r.p = c->in + c->in_off;
    FR_TRY(fr_record_header(r.p, &r.type, &r.body));
    if (c->in_len - FR_RECORD_HEADER_LEN < r.body) {
        *pr = FR_PROGRESS_NEED_INPUT;
        return FR_OK;
    }
    r.len = FR_RECORD_HEADER_LEN + r.body;
    int done = 0;
    FR_TRY(pre_protection(c, &r, &done));
    if (done) return FR_OK;
    uint8_t *pt = NULL;
    size_t pt_len = 0;
    FR_TRY(deprotect(c, &r, &pt, &pt_len, &done));
    if (done) return FR_OK;
    return dispatch_content(c, &r, pt, pt_len, pr);
}
