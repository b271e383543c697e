/* early_data.c - 0-RTT (RFC 8446 §2.3, §4.2.10, §4.5, §8).
 *
 * Client: early_data in the first ClientHello when the application writes
 * early data with a session whose ticket allows it; records under
 * client_early_traffic_secret until the server's answer; EndOfEarlyData
 * after the server's Finished if accepted.
 *
 * Server: accepts only a resumed first ClientHello whose ticket allows
 * early data and names our replay store, with the ticket's suite, a fresh
 * ticket age, the application's consent, and a replay store that has seen
 * neither the ticket nor the ClientHello's binder: the consent and the
 * store are the host's decisions (EARLY_DATA, REPLAY: hs/decision.h).
 * Refused early data is skipped (trial decryption, bounded).
 * docs/early-data.md. */
#include "../conn.h"

/* ---- client ---------------------------------------------------------------- */

/* Does the offered session allow 0-RTT with this configuration?  The
 * session must also be offered at all (fr_client_session_usable). */
int fr_client_early_possible(fr_conn *c) {
    const fr_session *s = &c->resume.offer;
    if (!c->cfg->early.enabled || c->resume.offer_blob == NULL || s->max_early == 0) return 0;
    if (!fr_client_session_usable(c)) return 0;
    /* RFC 8446 §4.2.10: early data is sent under the original ALPN, so it
     * must be among the protocols we offer (any, if it had none). */
    if (s->alpn_len == 0) return 1;
    fr_reader ours = fr_reader_init(c->cfg->alpn, c->cfg->alpn_len);
    while (!fr_reader_empty(&ours)) {
        fr_reader p;
        if (fr_read_vec8(&ours, &p) != FR_OK) return 0;
        if (fr_reader_left(&p) == s->alpn_len && memcmp(p.p, s->alpn, s->alpn_len) == 0) return 1;
    }
    return 0;
}

void fr_client_write_early_data_ext(fr_conn *c, fr_writer *w) {
    /* Never in a second ClientHello (RFC 8446 §4.2.10). */
    if (!c->early.want || c->th_ready || !fr_client_early_possible(c)) return;
    fr_write_u16(w, FR_EXT_EARLY_DATA);
    fr_write_u16(w, 0); /* empty in a ClientHello */
    c->early.offered = 1;
    c->early.limit = c->resume.offer.max_early;
    c->early.status = FERRULE_EARLY_OFFERED;
}

fr_err fr_client_start_early_data(fr_conn *c, const uint8_t *ch, size_t ch_len) {
    /* The PSK must really be in the ClientHello (pre_shared_key written). */
    if (!c->early.offered) return FR_OK;
    FR_ENSURE(c->resume.offered, FERRULE_R_INTERNAL);
    const fr_session *s = &c->resume.offer;
    const fr_suite_info *si = fr_suite_lookup(s->suite);
    FR_ENSURE(si != NULL, FERRULE_R_INTERNAL);
    uint8_t th[FR_MAX_HASH];
    FR_TRY(fr_hash(si->hash, ch, ch_len, th));
    FR_TRY(fr_ks_early_traffic(si->hash, s->psk, s->psk_len, th, c->early.secret));
    fr_conn_keylog_len(c, "CLIENT_EARLY_TRAFFIC_SECRET", c->early.secret, s->psk_len);
    /* RFC 8446 Appendix D.4: with early data the compatibility CCS goes
     * right after the ClientHello. */
    FR_TRY(fr_client_compat_ccs(c));
    /* RFC 8446 §4.2.10: 0-RTT uses the suite of the PSK. */
    return fr_aead_init(&c->wr, s->suite, c->early.secret, 1);
}

fr_err fr_client_write_early(fr_conn *c, const uint8_t *buf, size_t len, size_t *n) {
    *n = 0;
    FR_ENSURE(c->early.offered && c->early.status == FERRULE_EARLY_OFFERED &&
                  c->state == FERRULE_HS_WAIT_SERVER_HELLO,
              FERRULE_R_WRONG_STATE);
    /* RFC 8446 §4.2.10: never more than the ticket's max_early_data_size. */
    FR_ENSURE(c->early.sent < c->early.limit, FERRULE_R_NO_EARLY_DATA);
    if (c->out_len >= FR_MAX_RECORD) return FR_OK; /* *n 0: the output is full */
    while (*n < len && c->early.sent < c->early.limit && c->out_len < FR_MAX_RECORD) {
        size_t chunk = len - *n;
        if (chunk > FR_MAX_PLAINTEXT) chunk = FR_MAX_PLAINTEXT;
        if (chunk > c->early.limit - c->early.sent) chunk = c->early.limit - c->early.sent;
        fr_err e = fr_conn_send_record(c, FR_CT_APPLICATION_DATA, buf + *n, chunk);
        if (e == FERRULE_R_MEMORY_LIMIT && (*n > 0 || c->out_len > 0))
            return FR_OK; /* back pressure (*n may be 0) */
        FR_TRY(e);
        *n += chunk;
        c->early.sent += chunk;
    }
    return FR_OK;
}

void fr_client_early_on_hrr(fr_conn *c) {
    if (!c->early.offered) return;
    /* RFC 8446 §4.1.4, §4.2.10: after a HelloRetryRequest 0-RTT is over;
     * the second ClientHello is sent in the clear. */
    c->early.status = FERRULE_EARLY_REJECTED;
    c->early.reason = FERRULE_EARLY_REASON_HRR;
    fr_aead_free(&c->wr);
    fr_wipe(c->early.secret, sizeof(c->early.secret));
}

int fr_client_early_pending(const fr_conn *c) {
    return c->early.offered && c->early.status == FERRULE_EARLY_OFFERED;
}

fr_err fr_client_on_early_data_ext(fr_conn *c, fr_ext *ext) {
    if (ext != NULL) {
        /* RFC 8446 §4.2.10: only in answer to our offer, empty. */
        FR_ENSURE(c->early.offered && c->early.status == FERRULE_EARLY_OFFERED,
                  FERRULE_R_UNSUPPORTED_EXTENSION);
        FR_TRY(fr_read_done(&ext->body));
        /* Accepted early data was sent with the first PSK's suite and ALPN:
         * the server must have resumed that PSK with them. */
        const fr_session *s = &c->resume.offer;
        FR_ENSURE(c->resume.resumed, FERRULE_R_EARLY_DATA_NOT_RESUMED);
        FR_ENSURE(c->suite == s->suite, FERRULE_R_EARLY_CIPHER_MISMATCH);
        FR_ENSURE(c->alpn_len == s->alpn_len && memcmp(c->alpn, s->alpn, s->alpn_len) == 0,
                  FERRULE_R_EARLY_ALPN_MISMATCH);
        c->early.status = FERRULE_EARLY_ACCEPTED;
        c->early.reason = FERRULE_EARLY_REASON_ACCEPTED;
        return FR_OK;
    }
    if (!fr_client_early_pending(c)) return FR_OK;
    /* Refused: nothing of it was delivered; from now on the handshake keys. */
    c->early.status = FERRULE_EARLY_REJECTED;
    c->early.reason = !c->resume.resumed ? FERRULE_EARLY_REASON_NOT_RESUMED
                                         : FERRULE_EARLY_REASON_PEER_DECLINED;
    fr_wipe(c->early.secret, sizeof(c->early.secret));
    return fr_conn_set_write_secret(c, c->ks.client_hs);
}

fr_err fr_client_end_early_data(fr_conn *c) {
    if (c->early.status == FERRULE_EARLY_ACCEPTED) {
        /* RFC 8446 §4.5: EndOfEarlyData under the early keys, part of the
         * transcript, before our Certificate/Finished. */
        static const uint8_t eoed[4] = {FR_HS_END_OF_EARLY_DATA, 0, 0, 0};
        FR_TRY(fr_conn_send_handshake(c, eoed, sizeof(eoed)));
        fr_wipe(c->early.secret, sizeof(c->early.secret));
        FR_TRY(fr_conn_set_write_secret(c, c->ks.client_hs));
    }
    return FR_OK;
}

/* ---- server ---------------------------------------------------------------- */

static fr_err replay_key(const char *label, const uint8_t *p, size_t n, uint8_t *out) {
    fr_transcript t;
    memset(&t, 0, sizeof(t));
    fr_err e = fr_transcript_init(&t, FR_HASH_SHA256);
    if (e == FR_OK) e = fr_transcript_update(&t, (const uint8_t *)label, strlen(label) + 1);
    if (e == FR_OK) e = fr_transcript_update(&t, p, n);
    if (e == FR_OK) e = fr_transcript_current(&t, out);
    fr_transcript_free(&t);
    return e;
}

fr_err fr_server_note_psk_for_early(fr_conn *c, uint32_t max_early, const uint8_t *store_id,
                                    uint16_t suite, uint64_t issued, uint32_t lifetime,
                                    uint32_t client_age_ms, const uint8_t *identity,
                                    size_t identity_len, const uint8_t *binder,
                                    size_t binder_len) {
    const fr_early_config *ec = &c->cfg->early;
    fr_early_conn *ed = &c->early;
    ed->psk_allows = ec->enabled && max_early > 0 && store_id != NULL &&
                     memcmp(store_id, ec->store_id, FR_REPLAY_ID_LEN) == 0;
    if (!ed->psk_allows) return FR_OK;
    ed->psk_suite = suite;
    ed->issued = issued > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)issued;
    ed->lifetime = lifetime;
    ed->client_age_ms = client_age_ms;
    /* Single-use tickets: the ticket itself; ClientHello recording: the
     * binder, unique per ClientHello (RFC 8446 §8.1, §8.2). */
    FR_TRY(replay_key("ferrule 0-RTT ticket", identity, identity_len, ed->ticket_key));
    return replay_key("ferrule 0-RTT hello", binder, binder_len, ed->hello_key);
}

/* RFC 8446 §8.3: the client's view of the ticket age must match ours
 * within the window (plus one second: our clock counts seconds). */
static int fresh(fr_conn *c, int64_t now) {
    const fr_early_conn *ed = &c->early;
    if (now < ed->issued) return 0;
    uint64_t ours = (uint64_t)(now - ed->issued) * 1000u;
    uint64_t theirs = ed->client_age_ms;
    uint64_t diff = ours > theirs ? ours - theirs : theirs - ours;
    return diff <= (uint64_t)c->cfg->early.window_ms + 1000u;
}

/* RFC 8446 §4.2.10: 0-RTT only with the first identity, its suite, and no
 * HelloRetryRequest (the ALPN and SNI equal the ticket's:
 * fr_server_try_psk checked them), with a fresh ticket age. */
static int eligible(fr_conn *c, int hrr, int64_t now) {
    const fr_early_conn *ed = &c->early;
    return c->cfg->early.enabled && !hrr && c->resume.resumed && c->resume.selected == 0 &&
           ed->psk_allows && ed->psk_suite == c->suite && fresh(c, now);
}

/* Why 0-RTT is refused, the first failing check in the order of
 * FERRULE_EARLY_REASON_* (ACCEPTED when every check passes). */
static uint32_t server_reason(fr_conn *c, const fr_ext *ext, int hrr, int64_t now) {
    const fr_early_conn *ed = &c->early;
    if (!c->cfg->early.enabled) return FERRULE_EARLY_REASON_DISABLED;
    if (!ed->psk_offered) return FERRULE_EARLY_REASON_NO_PSK_OFFERED;
    if (!c->resume.resumed) return FERRULE_EARLY_REASON_NOT_RESUMED;
    if (!ed->psk_allows || c->resume.selected != 0 || ed->psk_suite != c->suite)
        return FERRULE_EARLY_REASON_TICKET;
    if (ext == NULL) return FERRULE_EARLY_REASON_PEER_DECLINED;
    if (!fresh(c, now)) return FERRULE_EARLY_REASON_TICKET_AGE;
    if (hrr) return FERRULE_EARLY_REASON_HRR;
    return FERRULE_EARLY_REASON_ACCEPTED;
}

/* Decide step: eligibility, then the application's consent (decision
 * EARLY_DATA, if the host answers it).  The expiries of the replay keys
 * are fixed now: the ticket once, the ClientHello within the window. */
static void early_consent(fr_conn *c, int hrr, fr_branch *branch) {
    fr_dec_conn *d = &c->dec;
    int yes;
    if (fr_dec_take(c, FERRULE_DECISION_EARLY_DATA, &yes)) {
        d->early_ok = yes == 1;
        if (!d->early_ok) c->early.reason = FERRULE_EARLY_REASON_APPLICATION;
        return;
    }
    int64_t now = fr_conn_now(c);
    d->early_ok = eligible(c, hrr, now);
    if (!d->early_ok) return;
    d->ticket_expires = c->early.issued + (int64_t)c->early.lifetime;
    d->hello_expires = now + (int64_t)(c->cfg->early.window_ms / 1000u) + 2;
    if (fr_dec_host_answers(c, FERRULE_DECISION_EARLY_DATA))
        fr_dec_ask(c, FERRULE_DECISION_EARLY_DATA, branch);
}

/* Decide step: the replay store's check-and-insert of `key` (decision
 * REPLAY, always the host's: the store is shared by connections).  Each
 * key is presented once, however often the handler resumes. */
static void replay_check(fr_conn *c, unsigned step, const uint8_t *key, int64_t expires,
                         fr_branch *branch) {
    fr_dec_conn *d = &c->dec;
    int fresh_key;
    if (d->step >= step) return;
    if (fr_dec_take(c, FERRULE_DECISION_REPLAY, &fresh_key)) {
        d->early_ok = fresh_key == 1;
        if (!d->early_ok) c->early.reason = FERRULE_EARLY_REASON_REPLAY;
    } else if (d->early_ok) {
        d->replay_key = key;
        d->replay_expires = expires;
        fr_dec_ask(c, FERRULE_DECISION_REPLAY, branch);
        return;
    }
    d->step = step;
}

/* Send step's preparation: skip refused early data, or derive the early
 * keys for accepted data. */
static fr_err early_conclude(fr_conn *c) {
    fr_early_conn *ed = &c->early;
    const fr_early_config *ec = &c->cfg->early;
    if (!c->dec.early_ok) {
        /* RFC 8446 §4.2.10: skip what the client sends under keys we do
         * not have, up to the configured size. */
        ed->status = FERRULE_EARLY_REJECTED;
        ed->skipping = 1;
        ed->skip_budget = ec->enabled && ec->max_size > FR_EARLY_SKIP_MIN ? ec->max_size
                                                                           : FR_EARLY_SKIP_MIN;
        return FR_OK;
    }
    ed->accepted = 1;
    ed->status = FERRULE_EARLY_ACCEPTED;
    /* client_early_traffic_secret over Hash(ClientHello): the transcript
     * holds exactly the ClientHello now. */
    uint8_t th[FR_MAX_HASH];
    FR_TRY(fr_transcript_current(&c->th, th));
    const fr_suite_info *si = fr_suite_lookup(c->suite);
    FR_ENSURE(si != NULL, FERRULE_R_INTERNAL);
    FR_TRY(fr_ks_early_traffic(si->hash, c->resume.psk, c->resume.psk_len, th, ed->secret));
    fr_conn_keylog_len(c, "CLIENT_EARLY_TRAFFIC_SECRET", ed->secret, c->resume.psk_len);
    return FR_OK;
}

fr_err fr_server_early_decide(fr_conn *c, fr_ext *ext, int hrr, int second,
                              fr_branch *branch) {
    fr_early_conn *ed = &c->early;
    if (second) {
        /* Early data sent before the first ClientHello's HRR is over. */
        ed->skipping = 0;
        /* RFC 8446 §4.2.10: never in the second ClientHello. */
        FR_ENSURE(ext == NULL, FERRULE_R_ILLEGAL_PARAMETER);
        /* Its PSK, checked now, would not have resumed either. */
        if (ed->reason == FERRULE_EARLY_REASON_HRR && !c->resume.resumed)
            ed->reason = FERRULE_EARLY_REASON_NOT_RESUMED;
        return FR_OK;
    }
    if (c->dec.step < FR_CH_STEP_EARLY) {
        /* (A ClientHello we answer with HelloRetryRequest has its PSKs
         * checked only in the second one.) */
        if (hrr)
            ed->reason = !c->cfg->early.enabled ? FERRULE_EARLY_REASON_DISABLED
                         : !ed->psk_offered     ? FERRULE_EARLY_REASON_NO_PSK_OFFERED
                         : ext == NULL          ? FERRULE_EARLY_REASON_PEER_DECLINED
                                                : FERRULE_EARLY_REASON_HRR;
        else
            ed->reason = server_reason(c, ext, 0, fr_conn_now(c));
    }
    if (ext == NULL) return FR_OK;
    if (c->dec.step < FR_CH_STEP_EARLY) {
        FR_TRY(fr_read_done(&ext->body)); /* empty in a ClientHello */
        early_consent(c, hrr, branch);
        if (*branch == FR_BRANCH_APP) return FR_OK;
        c->dec.step = FR_CH_STEP_EARLY;
    }
    /* The ticket once, the ClientHello within the window. */
    replay_check(c, FR_CH_STEP_REPLAY1, ed->ticket_key, c->dec.ticket_expires, branch);
    if (*branch == FR_BRANCH_APP) return FR_OK;
    replay_check(c, FR_CH_STEP_REPLAY2, ed->hello_key, c->dec.hello_expires, branch);
    if (*branch == FR_BRANCH_APP) return FR_OK;
    return early_conclude(c);
}

fr_err fr_server_start_early_read(fr_conn *c) {
    return fr_conn_set_read_secret(c, c->early.secret);
}

fr_err fr_server_on_end_of_early_data(fr_conn *c, fr_reader *body) {
    /* RFC 8446 §4.5: struct {} EndOfEarlyData. */
    FR_ENSURE(fr_reader_empty(body), FERRULE_R_DECODE_ERROR);
    fr_wipe(c->early.secret, sizeof(c->early.secret));
    /* RFC 8446 §4.5: from now on the client's handshake keys. */
    return fr_conn_set_read_secret(c, c->ks.client_hs);
}

fr_err fr_server_early_data_record(fr_conn *c, const uint8_t *pt, size_t len) {
    fr_early_conn *ed = &c->early;
    uint32_t max = c->cfg->early.max_size;
    /* RFC 8446 §4.2.10: more than max_early_data_size is unexpected_message. */
    FR_ENSURE(len <= max - ed->received, FERRULE_R_EARLY_DATA_LIMIT);
    if (ed->off > 0) {
        memmove(ed->buf, ed->buf + ed->off, ed->len - ed->off);
        ed->len -= ed->off;
        ed->off = 0;
    }
    if (len > ed->cap - ed->len) {
        /* Grow by doubling (from 4 KiB), never beyond max_early_data_size:
         * a large allowance costs memory only when a client uses it. */
        size_t cap = ed->cap < 4096 ? 4096 : ed->cap;
        while (cap < ed->len + len) cap *= 2;
        if (cap > max) cap = max;
        uint8_t *nb = fr_mem_alloc(&c->mem, cap);
        FR_ENSURE(nb != NULL, fr_mem_error(&c->mem, cap));
        if (ed->len > 0) memcpy(nb, ed->buf, ed->len);
        if (ed->buf != NULL) {
            fr_wipe(ed->buf, ed->cap);
            fr_mem_free(&c->mem, ed->buf, ed->cap);
        }
        ed->buf = nb;
        ed->cap = cap;
    }
    FR_ENSURE(len <= ed->cap - ed->len, FERRULE_R_INTERNAL);
    memcpy(ed->buf + ed->len, pt, len);
    ed->len += len;
    ed->received += len;
    return FR_OK;
}

fr_err fr_server_skip_early(fr_conn *c, size_t body_len) {
    FR_ENSURE(body_len <= c->early.skip_budget, FERRULE_R_SKIPPED_EARLY_DATA_LIMIT);
    c->early.skip_budget -= body_len;
    return FR_OK;
}

size_t fr_early_take(fr_conn *c, uint8_t *buf, size_t cap) {
    fr_early_conn *ed = &c->early;
    size_t k = ed->len - ed->off;
    if (k > cap) k = cap;
    if (k == 0) return 0;
    memcpy(buf, ed->buf + ed->off, k);
    fr_wipe(ed->buf + ed->off, k);
    ed->off += k;
    if (ed->off == ed->len) ed->off = ed->len = 0;
    return k;
}

/* ---- what the host calls (engine.h, "0-RTT") ---------------------------------- */

uint32_t fr_engine_ticket_lifetime(void) { return FR_TICKET_LIFETIME; }

fr_err fr_early_setup_check(fr_early_setup *s) {
    if (s->max_size == 0) s->max_size = FR_EARLY_DEFAULT_MAX;
    if (s->window_ms == 0) s->window_ms = FR_EARLY_DEFAULT_WINDOW_MS;
    if (s->capacity == 0) s->capacity = FR_EARLY_DEFAULT_CAPACITY;
    /* The window cannot outlast the tickets it admits early data on. */
    FR_ENSURE(s->max_size <= FR_EARLY_MAX_MAX && s->window_ms >= FR_EARLY_MIN_WINDOW_MS &&
                  s->window_ms <= FR_TICKET_LIFETIME * 1000u &&
                  s->capacity >= FR_EARLY_MIN_CAPACITY && s->capacity <= FR_EARLY_MAX_CAPACITY,
              FERRULE_R_CONFIG_INVALID);
    return FR_OK;
}

fr_err fr_cfg_set_early_data(fr_config *cfg, const fr_early_setup *s) {
    fr_early_config *ec = &cfg->early;
    if (cfg->role == FERRULE_ROLE_SERVER) {
        uint8_t id[FR_REPLAY_ID_LEN];
        if (s->store_id != NULL)
            memcpy(id, s->store_id, sizeof(id));
        else /* A fresh store has a fresh identity: tickets from before (a
              * restart, another server) never carry 0-RTT here. */
            FR_TRY(fr_random(id, sizeof(id)));
        memcpy(ec->store_id, id, sizeof(id));
        ec->check = s->store_id != NULL ? s->check : NULL;
        ec->check_ctx = s->store_id != NULL ? s->check_ctx : NULL;
        ec->accept = s->accept;
        ec->accept_ctx = s->accept_ctx;
    }
    ec->enabled = 1;
    ec->max_size = s->max_size;
    ec->window_ms = s->window_ms;
    return FR_OK;
}

fr_err fr_conn_write_early(fr_conn *c, const uint8_t *buf, size_t len, size_t *done) {
    *done = 0;
    if (c->state == FERRULE_HS_START) {
        FR_ENSURE(fr_client_early_possible(c), FERRULE_R_NO_EARLY_DATA);
        /* Send the ClientHello now, with early_data. */
        c->early.want = 1;
        fr_err e = fr_dispatch_start(c);
        if (e != FR_OK) return fr_conn_fail(c, e);
    }
    FR_ENSURE(fr_client_early_pending(c),
              c->early.offered ? FERRULE_R_WRONG_STATE : FERRULE_R_NO_EARLY_DATA);
    FR_ENSURE(c->state == FERRULE_HS_WAIT_SERVER_HELLO, FERRULE_R_WRONG_STATE);
    fr_err e = fr_client_write_early(c, buf, len, done);
    if (e != FR_OK && e != FERRULE_R_NO_EARLY_DATA && e != FERRULE_R_WRONG_STATE)
        e = fr_conn_fail(c, e);
    return e;
}

uint32_t fr_conn_early_status(const fr_conn *c) { return c->early.status; }

uint32_t fr_conn_early_reason(const fr_conn *c) { return c->early.reason; }

size_t fr_conn_early_len(const fr_conn *c) {
    return c->role == FERRULE_ROLE_CLIENT ? c->early.sent : c->early.received;
}

/* ---- lifetime -------------------------------------------------------------- */

void fr_early_conn_free(fr_conn *c) {
    fr_early_conn *ed = &c->early;
    if (ed->buf != NULL) {
        fr_wipe(ed->buf, ed->cap);
        fr_mem_free(&c->mem, ed->buf, ed->cap);
        ed->buf = NULL;
    }
    fr_wipe(ed->secret, sizeof(ed->secret));
}
