/* session.c - the client's side of a ticket: NewSessionTicket, the kept
 * ticket and the session blob the application stores and sets again
 * (RFC 8446 §4.6.1).  Format: docs/resumption.md.  psk.c offers it. */
#include "ticket.h"
#include "../x509/der.h"

/* The chain of a version 1 or 2 blob: u8 n_certs (at most
 * FR_MAX_PEER_CHAIN), then n_certs × opaque cert<1..2^24-1>.  Each is
 * framed and checked; a session keeps the first (the leaf) only. */
static fr_err parse_old_chain(fr_reader *r, fr_session *s) {
    uint8_t n;
    FR_TRY(fr_read_u8(r, &n));
    FR_ENSURE(n <= FR_MAX_PEER_CHAIN, FERRULE_R_DECODE_ERROR);
    for (size_t i = 0; i < n; i++) {
        fr_reader der;
        FR_TRY(fr_read_vec24(r, &der));
        FR_ENSURE(!fr_reader_empty(&der), FERRULE_R_DECODE_ERROR);
        if (i == 0) {
            s->leaf = der.p;
            s->leaf_len = fr_reader_left(&der);
        }
    }
    return FR_OK;
}

/* The stored leaf is one X.509 SIGNED{} frame (RFC 5280 §4.1.1): a cheap
 * structural check, no parse of its fields or key, so that a corrupted
 * blob is refused by ferrule_conn_set_session rather than surfacing when
 * the application parses the peer certificate. */
static fr_err check_leaf(const fr_session *s) {
    if (s->leaf_len == 0) return FR_OK;
    fr_der_tlv tbs, alg;
    const uint8_t *sig;
    size_t sig_len;
    return fr_x509_parse_signed(s->leaf, s->leaf_len, &tbs, &alg, &sig, &sig_len) == FR_OK
               ? FR_OK
               : FERRULE_R_DECODE_ERROR;
}

fr_err fr_session_parse(const uint8_t *blob, size_t len, fr_session *s) {
    memset(s, 0, sizeof(*s));
    fr_reader r = fr_reader_init(blob, len);
    uint8_t v;
    fr_reader psk, ticket, alpn, sni;
    uint64_t received;
    FR_TRY(fr_read_u8(&r, &v));
    /* Versions 1 (before 0-RTT, usable without early data) and 2 (the whole
     * chain) stay usable. */
    FR_ENSURE(v >= 1 && v <= FR_SESSION_VERSION, FERRULE_R_DECODE_ERROR);
    FR_TRY(fr_read_u16(&r, &s->suite));
    FR_TRY(fr_read_vec8(&r, &psk));
    FR_TRY(fr_resume_get_u64(&r, &received));
    FR_TRY(fr_read_u32(&r, &s->lifetime));
    FR_TRY(fr_read_u32(&r, &s->age_add));
    FR_TRY(fr_read_vec16(&r, &ticket));
    FR_TRY(fr_read_vec8(&r, &alpn));
    FR_TRY(fr_read_vec8(&r, &sni));
    if (v >= 3) {
        fr_reader leaf;
        FR_TRY(fr_read_vec24(&r, &leaf));
        s->leaf = leaf.p;
        s->leaf_len = fr_reader_left(&leaf);
    } else {
        FR_TRY(parse_old_chain(&r, s));
    }
    if (v >= 2) FR_TRY(fr_read_u32(&r, &s->max_early));
    FR_TRY(fr_read_done(&r));
    const fr_suite_info *si = fr_suite_lookup(s->suite);
    FR_ENSURE(si != NULL && fr_reader_left(&psk) == fr_hash_len(si->hash),
              FERRULE_R_DECODE_ERROR);
    FR_ENSURE(!fr_reader_empty(&ticket), FERRULE_R_DECODE_ERROR);
    FR_ENSURE(s->lifetime <= FR_TICKET_MAX_LIFETIME, FERRULE_R_DECODE_ERROR);
    FR_ENSURE(received <= (uint64_t)INT64_MAX, FERRULE_R_DECODE_ERROR);
    FR_ENSURE(fr_reader_left(&sni) < 256, FERRULE_R_DECODE_ERROR);
    FR_TRY(check_leaf(s));
    s->received = (int64_t)received;
    s->psk = psk.p;
    s->psk_len = fr_reader_left(&psk);
    s->ticket = ticket.p;
    s->ticket_len = fr_reader_left(&ticket);
    s->alpn = alpn.p;
    s->alpn_len = fr_reader_left(&alpn);
    s->sni = sni.p;
    s->sni_len = fr_reader_left(&sni);
    return FR_OK;
}

fr_err fr_session_blob_max_early(const uint8_t *blob, size_t len, uint32_t *max) {
    fr_session s;
    *max = 0;
    FR_TRY(fr_session_parse(blob, len, &s));
    *max = s.max_early;
    return FR_OK;
}

/* A NewSessionTicket's fields (RFC 8446 §4.6.1), pointing into the message. */
typedef struct fr_nst {
    uint32_t lifetime, age_add;
    fr_reader nonce, ticket;
    uint32_t max_early; /* early_data's max_early_data_size; 0: none */
} fr_nst;

static fr_err parse_nst(fr_reader *body, fr_nst *t) {
    fr_reader exts_block;
    fr_exts x;
    FR_TRY(fr_read_u32(body, &t->lifetime));
    FR_TRY(fr_read_u32(body, &t->age_add));
    FR_TRY(fr_read_vec8(body, &t->nonce));
    FR_TRY(fr_read_vec16(body, &t->ticket));
    FR_TRY(fr_read_vec16(body, &exts_block));
    FR_TRY(fr_read_done(body));
    FR_ENSURE(!fr_reader_empty(&t->ticket), FERRULE_R_DECODE_ERROR);
    FR_TRY(fr_exts_parse(&exts_block, &x));
    /* RFC 8446 §4.2: of the extensions we know, only early_data belongs in
     * a NewSessionTicket. */
    FR_TRY(fr_exts_known_only(&x, 1ull << FR_EXT_EARLY_DATA));
    /* RFC 8446 §4.2.10: early_data { uint32 max_early_data_size; }; other
     * extensions are ignored (§4.6.1). */
    t->max_early = 0;
    fr_ext *ed = fr_exts_find(&x, FR_EXT_EARLY_DATA);
    if (ed != NULL) {
        FR_TRY(fr_read_u32(&ed->body, &t->max_early));
        FR_TRY(fr_read_done(&ed->body));
    }
    /* RFC 8446 §4.6.1: at most seven days. */
    FR_ENSURE(t->lifetime <= FR_TICKET_MAX_LIFETIME, FERRULE_R_ILLEGAL_PARAMETER);
    return FR_OK;
}

/* Room for a ticket of n bytes in the kept ticket's buffer: *grown is a
 * larger buffer to swap in (NULL if the current one does), growing by
 * doubling so that a flood of tickets costs at most a handful of
 * allocations, whatever their sizes. */
static fr_err ticket_room(fr_conn *c, size_t n, uint8_t **grown, size_t *grown_cap) {
    *grown = NULL;
    *grown_cap = c->resume.kept.ticket_cap;
    if (n <= *grown_cap) return FR_OK;
    if (*grown_cap < 256) *grown_cap = 256;
    while (*grown_cap < n) *grown_cap *= 2;
    *grown = fr_mem_alloc(&c->mem, *grown_cap);
    FR_ENSURE(*grown != NULL, fr_mem_error(&c->mem, *grown_cap));
    return FR_OK;
}

/* Keep the newest ticket (RFC 8446 §4.6.1: a server may send any number):
 * its bytes replace the previous ticket's, so a flood of tickets costs
 * O(their size).  The application reads the kept ticket from its own
 * thread (ferrule_conn_session): the swap holds FR_LOCK_CONN_ERR. */
static fr_err keep_ticket(fr_conn *c, const fr_nst *nst) {
    fr_kept_ticket *t = &c->resume.kept;
    size_t n = fr_reader_left(&nst->ticket);
    uint8_t *grown;
    size_t grown_cap;
    FR_TRY(ticket_room(c, n, &grown, &grown_cap));
    /* RFC 8446 §4.6.1: PSK = HKDF-Expand-Label(resumption_master_secret,
     * "resumption", ticket_nonce, Hash.length). */
    uint8_t psk[FR_MAX_HASH];
    fr_err e = fr_ks_ticket_psk(c->ks.hash, c->ks.resumption, nst->nonce.p,
                                fr_reader_left(&nst->nonce), psk);
    if (e != FR_OK) {
        fr_mem_free(&c->mem, grown, grown_cap);
        return e;
    }
    int64_t now = fr_conn_now(c);
    fr_sync_lock(&c->sync, FR_LOCK_CONN_ERR);
    uint8_t *old = NULL;
    size_t old_cap = 0;
    if (grown != NULL) {
        old = t->ticket;
        old_cap = t->ticket_cap;
        t->ticket = grown;
        t->ticket_cap = grown_cap;
    }
    memcpy(t->ticket, nst->ticket.p, n);
    t->ticket_len = n;
    memcpy(t->psk, psk, sizeof(psk));
    t->psk_len = c->ks.hlen;
    t->received = now > 0 ? now : 0;
    t->lifetime = nst->lifetime;
    t->age_add = nst->age_add;
    t->max_early = nst->max_early;
    c->resume.have_kept = 1;
    c->resume.tickets_received++;
    fr_sync_unlock(&c->sync, FR_LOCK_CONN_ERR);
    fr_wipe(psk, sizeof(psk));
    fr_mem_free(&c->mem, old, old_cap); /* wipes the older ticket */
    return FR_OK;
}

fr_err fr_on_new_session_ticket(fr_conn *c, fr_reader *body) {
    fr_nst nst;
    FR_TRY(parse_nst(body, &nst));
    /* Lifetime zero: discard immediately (RFC 8446 §4.6.1). */
    if (nst.lifetime == 0) return FR_OK;
    return keep_ticket(c, &nst);
}

/* The server's leaf as the blob stores it (none: empty).  The blob keeps
 * the leaf only, as OpenSSL's serialized sessions do: a session's size and
 * a resumption's cost do not grow with the original chain, and the leaf is
 * what identifies the server (docs/resumption.md). */
static void blob_leaf(const fr_conn *c, const uint8_t **der, size_t *len) {
    if (!fr_conn_peer_der(c, 0, der, len)) {
        *der = NULL;
        *len = 0;
    }
}

static size_t blob_size(const fr_conn *c) {
    const fr_kept_ticket *t = &c->resume.kept;
    size_t sni_len = c->has_server_name ? strlen(c->server_name) : 0;
    const uint8_t *leaf;
    size_t leaf_len;
    blob_leaf(c, &leaf, &leaf_len);
    /* version, suite, psk<1..255>, received, lifetime, age_add,
     * ticket<1..2^16-1>, alpn<0..255>, sni<0..255>, leaf<0..2^24-1>,
     * max_early */
    return 1 + 2 + 1 + t->psk_len + 8 + 4 + 4 + 2 + t->ticket_len + 1 + c->alpn_len + 1 +
           sni_len + 3 + leaf_len + 4;
}

fr_err fr_client_session_blob(fr_conn *c, uint8_t *out, size_t cap, size_t *len) {
    const fr_kept_ticket *t = &c->resume.kept;
    *len = 0;
    FR_ENSURE(c->role == FERRULE_ROLE_CLIENT && c->resume.have_kept, FERRULE_R_WRONG_STATE);
    *len = blob_size(c);
    FR_ENSURE(out != NULL && cap >= *len, FERRULE_R_BUFFER_TOO_SMALL);
    fr_writer w;
    fr_writer_init(&w, out, *len);
    fr_write_u8(&w, FR_SESSION_VERSION);
    fr_write_u16(&w, c->suite);
    fr_write_open_vec(&w, 1);
    fr_write_bytes(&w, t->psk, t->psk_len);
    fr_write_close_vec(&w);
    fr_resume_put_u64(&w, (uint64_t)t->received);
    fr_write_u32(&w, t->lifetime);
    fr_write_u32(&w, t->age_add);
    fr_write_open_vec(&w, 2);
    fr_write_bytes(&w, t->ticket, t->ticket_len);
    fr_write_close_vec(&w);
    fr_write_open_vec(&w, 1);
    fr_write_bytes(&w, c->alpn, c->alpn_len);
    fr_write_close_vec(&w);
    fr_write_open_vec(&w, 1);
    if (c->has_server_name)
        fr_write_bytes(&w, (const uint8_t *)c->server_name, strlen(c->server_name));
    fr_write_close_vec(&w);
    const uint8_t *leaf;
    size_t leaf_len;
    blob_leaf(c, &leaf, &leaf_len);
    fr_write_open_vec(&w, 3);
    fr_write_bytes(&w, leaf, leaf_len);
    fr_write_close_vec(&w);
    fr_write_u32(&w, t->max_early);
    fr_err e = fr_write_finish(&w);
    if (e == FR_OK && w.len != *len) e = FERRULE_R_INTERNAL;
    if (e != FR_OK) fr_wipe(out, *len);
    return e;
}

void fr_resume_conn_free(fr_conn *c) {
    fr_resume_conn *r = &c->resume;
    fr_mem_free(&c->mem, r->kept.ticket, r->kept.ticket_cap);
    fr_mem_free(&c->mem, r->open_buf, r->open_cap);
    if (r->offer_blob != NULL) fr_mem_free(&c->mem, r->offer_blob, r->offer_len);
    r->kept.ticket = r->offer_blob = r->open_buf = NULL;
    r->have_kept = 0;
    fr_wipe(r->kept.psk, sizeof(r->kept.psk));
    fr_wipe(r->psk, sizeof(r->psk));
}
