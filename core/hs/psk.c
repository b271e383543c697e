/* psk.c - the pre_shared_key exchange (RFC 8446 §4.2.9, §4.2.11, §7.1):
 * the server's acceptance of an offered ticket (modes, binders, the
 * identity a ticket carries) and the client's offer and binder. */
#include "ticket.h"

/* PskKeyExchangeMode (RFC 8446 §4.2.9). */
#define PSK_MODE_KE 0
#define PSK_MODE_DHE_KE 1

/* ---- server: accepting a PSK --------------------------------------------- */

/* Does a ticket's suite have the hash of the suite we chose? */
static int hash_compatible(const fr_conn *c, const fr_ticket_state *st) {
    const fr_suite_info *mine = fr_suite_lookup(c->suite), *theirs = fr_suite_lookup(st->suite);
    return mine != NULL && theirs != NULL && mine->hash == theirs->hash;
}

/* Forget a client identity taken from a ticket that is not used after all. */
static void drop_identity(fr_conn *c) {
    fr_conn_forget_peer_chain(c);
    fr_verify_result_free(c->verify_result);
    c->verify_result = NULL;
}

/* The client identity of a ticket, for a server that asks for client
 * certificates: a resumed handshake has no CertificateRequest (RFC 8446
 * §4.3.2), so the ticket is the only source.  Not asking: the identity is
 * ignored.  No identity: resumed unauthenticated (REQUEST), or not at all
 * (REQUIRE: the full handshake asks for a certificate).  A chain becomes
 * the peer chain and is validated like a client Certificate, now or, with
 * FERRULE_RESUME_IDENTITY_KEEP, as of the handshake that validated it, for
 * at most FR_TICKET_LIFETIME after it (resumed connections carry that time
 * on, so resuming again never extends it). */
static int identity_usable(fr_conn *c, const fr_ticket_state *s) {
    uint32_t mode = c->cfg->cauth.mode;
    if (mode == FERRULE_CLIENT_AUTH_NONE) return 1;
    if (s->n_certs == 0) return mode != FERRULE_CLIENT_AUTH_REQUIRE;
    int64_t now = fr_conn_now(c), at = now;
    if (c->cfg->resume.client_identity == FERRULE_RESUME_IDENTITY_KEEP) {
        if (now < s->identity_time || now - s->identity_time >= (int64_t)FR_TICKET_LIFETIME)
            return 0;
        at = s->identity_time;
    }
    /* (a ClientHello comes before any Certificate) */
    if (c->n_peer_certs != 0 || c->n_peer_ders != 0) return 0;
    fr_err e = FR_OK;
    fr_reader r = s->certs;
    for (size_t i = 0; i < s->n_certs && e == FR_OK; i++) {
        fr_reader der;
        fr_cert *cert = NULL;
        e = fr_read_vec24(&r, &der);
        if (e == FR_OK) e = fr_cert_parse(&c->mem, der.p, fr_reader_left(&der), &cert);
        if (e == FR_OK) e = fr_conn_add_peer_cert(c, cert);
    }
    /* The DER first: the application's verdict (ch_judge_identity) reads
     * the chain through the accessors; the parsed chain has no use after
     * the validation (a resumed handshake has no CertificateVerify). */
    if (e == FR_OK) e = fr_conn_keep_peer_ders(c);
    if (e == FR_OK) e = fr_verify_peer_chain_at(c, NULL, 0, at);
    if (e != FR_OK) {
        drop_identity(c);
        return 0;
    }
    fr_conn_drop_parsed_peer(c);
    c->resume.identity_time = s->identity_time;
    return 1;
}

/* Is the decrypted ticket usable for this connection? */
static int state_usable(fr_conn *c, const fr_ticket_state *s) {
    /* RFC 8446 §4.2.11: the PSK's hash must be the negotiated suite's. */
    if (!hash_compatible(c, s)) return 0;
    if (s->psk_len != fr_hash_len(fr_suite_lookup(s->suite)->hash)) return 0;
    /* RFC 8446 §4.6.1: never beyond seven days; not expired. */
    int64_t now = fr_conn_now(c);
    if (s->lifetime > FR_TICKET_MAX_LIFETIME || now < 0) return 0;
    if ((uint64_t)now < s->issued || (uint64_t)now - s->issued >= s->lifetime) return 0;
    /* The original SNI and ALPN constrain the resumed session. */
    size_t sni_len = c->has_server_name ? strlen(c->server_name) : 0;
    if (fr_reader_left(&s->sni) != sni_len || memcmp(s->sni.p, c->server_name, sni_len) != 0)
        return 0;
    if (fr_reader_left(&s->alpn) != c->alpn_len || memcmp(s->alpn.p, c->alpn, c->alpn_len) != 0)
        return 0;
    /* The client identity, the costly check (a chain validation), comes
     * after the binder (fr_server_try_psk). */
    return 1;
}

fr_err fr_server_note_psk_modes(fr_conn *c, fr_ext *modes) {
    c->resume.peer_modes = 0;
    if (modes == NULL) return FR_OK;
    /* RFC 8446 §4.2.9: PskKeyExchangeMode ke_modes<1..255>.  We accept
     * psk_dhe_ke (forward secrecy) and, only if the config opts in,
     * psk_ke; unknown modes are ignored. */
    fr_reader ke_modes;
    FR_TRY(fr_read_vec8(&modes->body, &ke_modes));
    FR_TRY(fr_read_done(&modes->body));
    FR_ENSURE(!fr_reader_empty(&ke_modes), FERRULE_R_DECODE_ERROR);
    uint32_t allowed = c->cfg->resume.psk_modes, usable = 0;
    while (!fr_reader_empty(&ke_modes)) {
        uint8_t m;
        FR_TRY(fr_read_u8(&ke_modes, &m));
        if (m == PSK_MODE_DHE_KE) usable |= FERRULE_PSK_DHE_KE;
        if (m == PSK_MODE_KE) usable |= FERRULE_PSK_KE;
    }
    /* A server refusing resumption accepts no mode: it tries no ticket
     * and issues none (fr_server_schedule_tickets). */
    c->resume.peer_modes = c->cfg->resume.accept == FERRULE_RESUME_REFUSE ? 0 : usable & allowed;
    return FR_OK;
}

/* OfferedPsks (RFC 8446 §4.2.11): identities<7..2^16-1>,
 * binders<33..2^16-1>, validated in full (one linear pass each). */
typedef struct offered_psks {
    fr_reader ids, binders;
    const uint8_t *binders_start; /* where the binders list begins */
    size_t n;                     /* identities (= binders) */
} offered_psks;

static fr_err parse_offered(const fr_ext *psk, offered_psks *o) {
    fr_reader body = psk->body;
    FR_TRY(fr_read_vec16(&body, &o->ids));
    o->binders_start = body.p;
    FR_TRY(fr_read_vec16(&body, &o->binders));
    FR_TRY(fr_read_done(&body));
    FR_ENSURE(!fr_reader_empty(&o->ids) && !fr_reader_empty(&o->binders),
              FERRULE_R_DECODE_ERROR);
    size_t n_binders = 0;
    o->n = 0;
    for (fr_reader r = o->ids; !fr_reader_empty(&r); o->n++) {
        fr_reader id;
        uint32_t age;
        FR_TRY(fr_read_vec16(&r, &id));
        FR_TRY(fr_read_u32(&r, &age));
        FR_ENSURE(!fr_reader_empty(&id), FERRULE_R_DECODE_ERROR);
    }
    for (fr_reader r = o->binders; !fr_reader_empty(&r); n_binders++) {
        fr_reader b;
        FR_TRY(fr_read_vec8(&r, &b));
        FR_ENSURE(fr_reader_left(&b) >= 32, FERRULE_R_DECODE_ERROR);
    }
    /* Every identity needs a binder (§4.2.11: else illegal_parameter). */
    FR_ENSURE(o->n == n_binders, FERRULE_R_PSK_BINDER_COUNT);
    return FR_OK;
}

/* A pass over the identities of a validated offer, in order. */
typedef struct psk_walk {
    fr_reader r;
    size_t index;    /* of the identity after the one walk_next returned */
    unsigned trials; /* decryptions so far (ticket_open) */
    int capped;      /* FR_PSK_MAX_TRIALS ended the pass */
} psk_walk;

static void walk_start(psk_walk *w, fr_reader ids) {
    w->r = ids;
    w->index = 0;
    w->trials = 0;
    w->capped = 0;
}

/* Wipe what the pass decrypted. */
static void walk_end(fr_conn *c) { fr_ticket_forget(c); }

/* The next identity that opens as one of our tickets, its state in *st
 * (which points into the connection's ticket buffer until the next call;
 * wipe it); 0 when none is left or the trial budget is spent. */
static int walk_next(fr_conn *c, psk_walk *w, fr_ticket_state *st, fr_reader *id,
                     uint32_t *age) {
    while (!fr_reader_empty(&w->r)) {
        if (fr_read_vec16(&w->r, id) != FR_OK || fr_read_u32(&w->r, age) != FR_OK) return 0;
        w->index++;
        fr_reader pr;
        int opened = fr_ticket_open(c, id->p, fr_reader_left(id), &pr, &w->trials);
        if (opened == FR_TICKET_BUDGET) {
            w->capped = 1;
            return 0;
        }
        if (opened == FR_TICKET_OPENED) {
            if (fr_ticket_parse_state(&pr, st) == FR_OK) return 1;
            fr_wipe(st, sizeof(*st));
        }
    }
    return 0;
}

/* SHA-256 over the identities (u16 length || bytes, in order) of an offer
 * that are our tickets compatible with the chosen suite (none, or psk NULL:
 * the digest of nothing); *complete: the whole offer was examined. */
static fr_err compatible_digest(fr_conn *c, fr_ext *psk, uint8_t out[FR_HRR_DIGEST_LEN],
                                int *complete) {
    *complete = 1;
    fr_transcript t = {0};
    FR_TRY(fr_transcript_init(&t, FR_HASH_SHA256));
    fr_err e = FR_OK;
    psk_walk w;
    walk_start(&w, fr_reader_init(NULL, 0));
    offered_psks o;
    if (psk != NULL) {
        e = parse_offered(psk, &o);
        if (e == FR_OK) walk_start(&w, o.ids);
    }
    fr_ticket_state st;
    fr_reader id;
    uint32_t age;
    while (e == FR_OK && walk_next(c, &w, &st, &id, &age)) {
        if (hash_compatible(c, &st)) {
            size_t len = fr_reader_left(&id);
            const uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};
            e = fr_transcript_update(&t, hdr, 2);
            if (e == FR_OK) e = fr_transcript_update(&t, id.p, len);
        }
        fr_wipe(&st, sizeof(st));
    }
    walk_end(c);
    if (e == FR_OK) e = fr_transcript_current(&t, out);
    fr_transcript_free(&t);
    *complete = !w.capped;
    return e;
}

fr_err fr_server_note_hrr_psks(fr_conn *c, fr_ext *psk) {
    c->hrr.psk_state = FR_HRR_PSK_NONE;
    if (psk == NULL) return FR_OK;
    int complete;
    FR_TRY(compatible_digest(c, psk, c->hrr.psk_digest, &complete));
    c->hrr.psk_state = complete ? FR_HRR_PSK_DIGEST : FR_HRR_PSK_UNCHECKED;
    return FR_OK;
}

fr_err fr_server_check_hrr_psks(fr_conn *c, fr_ext *psk) {
    /* RFC 8446 §4.1.2: the second ClientHello updates pre_shared_key "if
     * present": it may not add one. */
    if (c->hrr.psk_state == FR_HRR_PSK_NONE) {
        FR_ENSURE(psk == NULL, FERRULE_R_ILLEGAL_PARAMETER);
        return FR_OK;
    }
    if (c->hrr.psk_state != FR_HRR_PSK_DIGEST) return FR_OK;
    /* It may drop only PSKs that do not suit the HelloRetryRequest's
     * suite: every one of ours that does must come again, in order, and
     * none be added (dropping the extension drops them all). */
    uint8_t digest[FR_HRR_DIGEST_LEN];
    int complete;
    FR_TRY(compatible_digest(c, psk, digest, &complete));
    FR_ENSURE(complete && fr_ct_equal(digest, c->hrr.psk_digest, FR_HRR_DIGEST_LEN),
              FERRULE_R_ILLEGAL_PARAMETER);
    return FR_OK;
}

/* RFC 8446 §4.2.11.2: the binder of identity `index` over the ClientHello
 * up to (excluding) the binders list, compared in constant time. */
static fr_err check_binder(fr_conn *c, const offered_psks *o, size_t index,
                           const fr_ticket_state *st, fr_reader *binder) {
    fr_reader br = o->binders;
    for (size_t i = 0; i <= index; i++) FR_TRY(fr_read_vec8(&br, binder));
    uintptr_t msg0 = (uintptr_t)c->cur_msg, cut = (uintptr_t)o->binders_start;
    FR_ENSURE(c->cur_msg != NULL && cut > msg0 && cut - msg0 < c->cur_msg_len, FERRULE_R_INTERNAL);
    size_t partial = (size_t)(cut - msg0);
    const fr_suite_info *si = fr_suite_lookup(c->suite);
    FR_ENSURE(si != NULL, FERRULE_R_INTERNAL);
    uint8_t th[FR_MAX_HASH], want[FR_MAX_HASH];
    /* After a HelloRetryRequest the binder also covers message_hash(CH1)
     * and the HelloRetryRequest (RFC 8446 §4.2.11.2): the transcript so far. */
    fr_err e = c->hrr.done ? fr_transcript_peek(&c->th, c->cur_msg, partial, th)
                           : fr_hash(si->hash, c->cur_msg, partial, th);
    if (e == FR_OK) e = fr_ks_binder(si->hash, st->psk, st->psk_len, th, want);
    int ok = e == FR_OK && fr_reader_left(binder) == st->psk_len &&
             fr_ct_equal(binder->p, want, st->psk_len);
    fr_wipe(want, sizeof(want));
    FR_TRY(e);
    /* RFC 8446 §4.2.11: a binder that does not verify is decrypt_error. */
    return ok ? FR_OK : FERRULE_R_BAD_BINDER;
}

/* The identity a server accepts: its index, decrypted state, wire
 * identity and obfuscated age, and its binder. */
typedef struct psk_choice {
    size_t index;
    fr_ticket_state st;
    fr_reader id, binder;
    uint32_t age;
} psk_choice;

/* Decide: the first identity of the offer that opens as one of our
 * tickets, suits this connection, has a good binder and carries a usable
 * client identity (RFC 8446 §4.2.11: the server picks one).  *found 0
 * with FR_OK: a full handshake; a bad binder is an error.  The caller
 * wipes ch->st and ends the walk. */
static fr_err choose_psk(fr_conn *c, const offered_psks *o, psk_walk *w, psk_choice *ch,
                         int *found) {
    fr_err e = FR_OK;
    *found = 0;
    while (!*found && e == FR_OK && walk_next(c, w, &ch->st, &ch->id, &ch->age)) {
        /* The binder before the client identity carried by the ticket: a
         * chain validation only for a peer that holds the PSK. */
        if (state_usable(c, &ch->st)) {
            e = check_binder(c, o, w->index - 1, &ch->st, &ch->binder);
            *found = e == FR_OK && identity_usable(c, &ch->st);
        }
        if (!*found) fr_wipe(&ch->st, sizeof(ch->st));
    }
    ch->index = w->index - 1;
    return e;
}

/* Apply: resume with the chosen PSK, in psk_dhe_ke or psk_ke mode; what
 * the ticket says about 0-RTT is noted for fr_server_early_decide (RFC
 * 8446 §4.2.11.1: the age, age - age_add, matters only there). */
static fr_err accept_psk(fr_conn *c, const psk_choice *ch, int dhe) {
    const fr_ticket_state *st = &ch->st;
    memcpy(c->resume.psk, st->psk, st->psk_len);
    c->resume.psk_len = st->psk_len;
    c->resume.resumed = 1;
    c->resume.psk_ke = !dhe;
    c->resume.selected = (uint16_t)ch->index;
    return fr_server_note_psk_for_early(c, st->max_early, st->store_id, st->suite, st->issued,
                                        st->lifetime, ch->age - st->age_add, ch->id.p,
                                        fr_reader_left(&ch->id), ch->binder.p,
                                        fr_reader_left(&ch->binder));
}

fr_err fr_server_try_psk(fr_conn *c, fr_ext *psk) {
    offered_psks o;
    FR_TRY(parse_offered(psk, &o));
    if (c->resume.peer_modes == 0) return FR_OK; /* full handshake */
    FR_ENSURE(o.n <= 0xffff, FERRULE_R_DECODE_ERROR);
    /* psk_dhe_ke wins when both modes are possible. */
    int dhe = (c->resume.peer_modes & FERRULE_PSK_DHE_KE) != 0;
    psk_walk w;
    walk_start(&w, o.ids);
    psk_choice ch;
    int found;
    fr_err e = choose_psk(c, &o, &w, &ch, &found);
    if (e == FR_OK && found) e = accept_psk(c, &ch, dhe);
    fr_wipe(&ch.st, sizeof(ch.st));
    walk_end(c);
    return e;
}

/* Bytes of our pre_shared_key extension for session s: type, length,
 * identities<7..2^16-1> with one PskIdentity { identity<1..2^16-1>;
 * obfuscated_ticket_age }, binders<33..2^16-1> with one binder<32..255>
 * (RFC 8446 §4.2.11). */
static size_t psk_ext_size(const fr_session *s) {
    return 4 + 2 + 2 + s->ticket_len + 4 + 2 + 1 + s->psk_len;
}

/* RFC 8446 §4.1.2: extensions<8..2^16-1>.  A ticket may be up to 2^16-1
 * bytes (§4.6.1), more than a ClientHello can offer beside our other
 * extensions, which take less than FR_CLIENT_HELLO_BASE plus the ALPN list
 * (and the cookie, checked when the second ClientHello is written). */
static int offer_fits(const fr_conn *c, const fr_session *s) {
    return psk_ext_size(s) + FR_CLIENT_HELLO_BASE + c->cfg->alpn_len <= 0xffff;
}

/* Is the stored session usable for this ClientHello? */
int fr_client_session_usable(fr_conn *c) {
    const fr_session *s = &c->resume.offer;
    if (c->resume.offer_blob == NULL) return 0;
    if (!offer_fits(c, s)) return 0;
    if (!fr_u16_in(s->suite, c->cfg->suites, c->cfg->n_suites)) return 0;
    int64_t now = fr_conn_now(c);
    if (now < s->received || now - s->received >= (int64_t)s->lifetime) return 0;
    size_t sni_len = c->has_server_name ? strlen(c->server_name) : 0;
    if (s->sni_len != sni_len || memcmp(s->sni, c->server_name, sni_len) != 0) return 0;
    return 1;
}

static void write_psk_modes(fr_conn *c, fr_writer *w) {
    /* RFC 8446 §4.2.9: psk_dhe_ke, and psk_ke only if the config opts in. */
    uint32_t modes = c->cfg->resume.psk_modes;
    fr_write_u16(w, FR_EXT_PSK_KEY_EXCHANGE_MODES);
    fr_write_open_vec(w, 2);
    fr_write_open_vec(w, 1);
    if (modes & FERRULE_PSK_DHE_KE) fr_write_u8(w, PSK_MODE_DHE_KE);
    if (modes & FERRULE_PSK_KE) fr_write_u8(w, PSK_MODE_KE);
    fr_write_close_vec(w);
    fr_write_close_vec(w);
}

fr_err fr_client_write_psk(fr_conn *c, fr_writer *w) {
    int offered_before = c->resume.offered;
    c->resume.offered = 0;
    const fr_session *s = &c->resume.offer;
    /* RFC 8446 §4.2.9: servers send tickets only for the modes a client
     * advertises, so every ClientHello carries them, offering a PSK or not
     * (the second ClientHello repeats the first's, §4.1.2). */
    write_psk_modes(c, w);
    if (c->th_ready) {
        /* Second ClientHello (RFC 8446 §4.1.2): the PSK again, with a new
         * age and binder, if its hash suits the HelloRetryRequest's suite
         * (the only reason §4.1.2 gives to drop it: it was usable a moment
         * ago, and a server may hold us to offering it again). */
        if (!offered_before) return FR_OK;
        const fr_suite_info *a = fr_suite_lookup(s->suite), *b = fr_suite_lookup(c->hrr.suite);
        if (a == NULL || b == NULL || a->hash != b->hash) return FR_OK;
    } else if (!fr_client_session_usable(c)) {
        return FR_OK;
    }
    /* The extensions block written so far (the innermost open vector)
     * must leave room for the offer: after a HelloRetryRequest it also
     * holds the server's cookie. */
    FR_ENSURE(w->depth > 0, FERRULE_R_INTERNAL);
    size_t exts = w->len - w->open_at[w->depth - 1] - w->open_width[w->depth - 1];
    if (exts + psk_ext_size(s) > 0xffff) return FR_OK;
    /* RFC 8446 §4.2.11.1: obfuscated_ticket_age = age in ms + age_add.
     * The clock counts whole seconds: D seconds on it mean a real age
     * between D-1 and D+1 s.  Claim the lower bound, so the age we send never
     * runs ahead of the server's own view (servers such as GnuTLS refuse
     * 0-RTT whose claimed age exceeds the time since they issued the
     * ticket); the server's freshness window absorbs the rest. */
    int64_t d = fr_conn_now(c) - s->received;
    uint64_t age_ms = d > 1 ? (uint64_t)(d - 1) * 1000u : 0;
    uint32_t obf = (uint32_t)(age_ms + s->age_add);
    fr_write_u16(w, FR_EXT_PRE_SHARED_KEY); /* last (§4.2.11) */
    fr_write_open_vec(w, 2);
    fr_write_open_vec(w, 2);
    fr_write_open_vec(w, 2);
    fr_write_bytes(w, s->ticket, s->ticket_len);
    fr_write_close_vec(w);
    fr_write_u32(w, obf);
    fr_write_close_vec(w);
    fr_write_open_vec(w, 2);
    fr_write_open_vec(w, 1);
    uint8_t zero[FR_MAX_HASH] = {0}; /* filled by fr_client_psk_binder */
    fr_write_bytes(w, zero, s->psk_len);
    fr_write_close_vec(w);
    fr_write_close_vec(w);
    fr_write_close_vec(w);
    c->resume.offered = 1;
    return FR_OK;
}

fr_err fr_client_psk_binder(fr_conn *c, uint8_t *msg, size_t len) {
    if (!c->resume.offered) return FR_OK;
    const fr_session *s = &c->resume.offer;
    const fr_suite_info *si = fr_suite_lookup(s->suite);
    FR_ENSURE(si != NULL, FERRULE_R_INTERNAL);
    size_t hlen = s->psk_len;
    /* The binders list is the last thing: u16 len, u8 len, binder. */
    FR_ENSURE(len > hlen + 3, FERRULE_R_INTERNAL);
    uint8_t th[FR_MAX_HASH];
    /* After a HelloRetryRequest: over message_hash(CH1) || HRR || the
     * truncated second ClientHello (RFC 8446 §4.2.11.2). */
    if (c->th_ready)
        FR_TRY(fr_transcript_peek(&c->th, msg, len - hlen - 3, th));
    else
        FR_TRY(fr_hash(si->hash, msg, len - hlen - 3, th));
    return fr_ks_binder(si->hash, s->psk, s->psk_len, th, msg + len - hlen);
}

fr_err fr_client_on_psk(fr_conn *c, fr_reader *body, uint16_t suite) {
    /* RFC 8446 §4.2.11: only in answer to our offer. */
    FR_ENSURE(c->resume.offered, FERRULE_R_UNSUPPORTED_EXTENSION);
    uint16_t selected;
    FR_TRY(fr_read_u16(body, &selected));
    FR_TRY(fr_read_done(body));
    FR_ENSURE(selected == 0, FERRULE_R_PSK_IDENTITY_UNKNOWN); /* we offered one */
    const fr_session *s = &c->resume.offer;
    const fr_suite_info *a = fr_suite_lookup(suite), *b = fr_suite_lookup(s->suite);
    /* RFC 8446 §4.2.11: the PSK's hash must be the suite's. */
    FR_ENSURE(a != NULL && b != NULL && a->hash == b->hash, FERRULE_R_PSK_HASH_MISMATCH);
    /* The original leaf, for introspection: it was verified when the
     * ticket's connection was established.  Kept as DER, never parsed in
     * the handshake (ferrule_conn_peer_cert_parse parses it on demand). */
    FR_TRY(fr_conn_set_peer_ders(c, &s->leaf, &s->leaf_len, s->leaf_len > 0));
    memcpy(c->resume.psk, s->psk, s->psk_len);
    c->resume.psk_len = s->psk_len;
    c->resume.resumed = 1;
    return FR_OK;
}
