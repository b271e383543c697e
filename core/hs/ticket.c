/* ticket.c - the server's stateless tickets: the ticket-key ring, sealing
 * and opening (an AEAD under a per-ticket key), the sealed state's format,
 * and minting NewSessionTickets (RFC 8446 §4.6.1).  Format:
 * docs/resumption.md.  psk.c accepts what a ticket carries. */
#include "ticket.h"

/* Version 2 added max_early_data and the replay store's id, version 3 the
 * client's identity; older tickets still resume (version 1 without 0-RTT,
 * both without a client identity). */
#define TICKET_STATE_VERSION 3
/* key_name || nonce || AEAD(state) || tag */
#define TICKET_PREFIX (FR_TICKET_KEY_NAME_LEN + FR_TICKET_NONCE_LEN)
#define TICKET_OVERHEAD (TICKET_PREFIX + FR_AEAD_TAG_LEN)
/* The state without a client identity (its flag byte included). */
#define TICKET_STATE_MAX (1 + 2 + 1 + FR_MAX_HASH + 8 + 4 + 4 + 1 + 255 + 1 + 255 + 4 + 16 + 1)
/* The AEAD of the adapter is keyed from a "traffic secret"; ChaCha20-Poly1305
 * with a per-ticket secret derived from the ticket key and the nonce. */
#define TICKET_SUITE 0x1303 /* TLS_CHACHA20_POLY1305_SHA256 */

/* ---- config: the ticket-key ring ----------------------------------------- */

/* The ring is rotated (ferrule_config_set_ticket_key) while connections
 * seal and open tickets with it: every access holds the config's
 * FR_LOCK_CFG_TICKETS, and only copies of a key leave it. */

fr_err fr_resume_config_init(fr_config *cfg) {
    fr_resume_config *r = &cfg->resume;
    r->tickets = FR_TICKET_DEFAULT_COUNT;
    r->psk_modes = FERRULE_PSK_DHE_KE;
    uint8_t name[FR_TICKET_KEY_NAME_LEN], key[FR_TICKET_KEY_LEN];
    fr_err e = fr_random(name, sizeof(name));
    if (e == FR_OK) e = fr_random(key, sizeof(key));
    if (e == FR_OK) fr_resume_set_key(cfg, name, key);
    fr_wipe(key, sizeof(key));
    return e;
}

void fr_resume_config_free(fr_config *cfg) { fr_wipe(cfg->resume.keys, sizeof(cfg->resume.keys)); }

void fr_resume_set_key(fr_config *cfg, const uint8_t *name, const uint8_t *key) {
    fr_resume_config *r = &cfg->resume;
    fr_sync_lock(&cfg->sync, FR_LOCK_CFG_TICKETS);
    /* The shift overwrites the oldest key when the ring is full. */
    memmove(r->names[1], r->names[0], (FR_TICKET_KEYS - 1) * FR_TICKET_KEY_NAME_LEN);
    memmove(r->keys[1], r->keys[0], (FR_TICKET_KEYS - 1) * FR_TICKET_KEY_LEN);
    memcpy(r->names[0], name, FR_TICKET_KEY_NAME_LEN);
    memcpy(r->keys[0], key, FR_TICKET_KEY_LEN);
    if (r->n_keys < FR_TICKET_KEYS) r->n_keys++;
    fr_sync_unlock(&cfg->sync, FR_LOCK_CFG_TICKETS);
}

/* The current key and its name, which seal new tickets. */
static void ring_current(fr_config *cfg, uint8_t *name, uint8_t *key) {
    fr_sync_lock(&cfg->sync, FR_LOCK_CFG_TICKETS);
    memcpy(name, cfg->resume.names[0], FR_TICKET_KEY_NAME_LEN);
    memcpy(key, cfg->resume.keys[0], FR_TICKET_KEY_LEN);
    fr_sync_unlock(&cfg->sync, FR_LOCK_CFG_TICKETS);
}

/* The key named `name`, if the ring still holds it: 1 and *key, else 0
 * (an unknown or rotated-out key). */
static int ring_find(fr_config *cfg, const uint8_t *name, uint8_t *key) {
    const fr_resume_config *r = &cfg->resume;
    int found = 0;
    fr_sync_lock(&cfg->sync, FR_LOCK_CFG_TICKETS);
    for (size_t i = 0; i < r->n_keys && !found; i++) {
        if (memcmp(r->names[i], name, FR_TICKET_KEY_NAME_LEN) == 0) {
            memcpy(key, r->keys[i], FR_TICKET_KEY_LEN);
            found = 1;
        }
    }
    fr_sync_unlock(&cfg->sync, FR_LOCK_CFG_TICKETS);
    return found;
}

/* ---- sealing and opening --------------------------------------------------- */

/* Key the AEAD for one ticket: HKDF-Expand-Label(key, "fr ticket", nonce)
 * as the traffic secret, so each nonce gives its own key and iv. */
static fr_err ticket_aead(fr_aead *a, const uint8_t *key, const uint8_t *nonce, int encrypt) {
    uint8_t secret[32];
    fr_err e = fr_hkdf_expand_label(FR_HASH_SHA256, key, "fr ticket", nonce, FR_TICKET_NONCE_LEN,
                                    secret, sizeof(secret));
    if (e == FR_OK) e = fr_aead_init(a, TICKET_SUITE, secret, encrypt);
    fr_wipe(secret, sizeof(secret));
    return e;
}

/* Seal a ticket in place under the current key: `out` holds TICKET_PREFIX
 * bytes to fill (key_name || nonce), the n-byte state, then room for the
 * tag.  The key name is the additional data. */
static fr_err ticket_seal(fr_config *cfg, uint8_t *out, size_t n) {
    uint8_t key[FR_TICKET_KEY_LEN];
    ring_current(cfg, out, key);
    uint8_t *nonce = out + FR_TICKET_KEY_NAME_LEN;
    uint8_t *body = out + TICKET_PREFIX;
    fr_aead a;
    memset(&a, 0, sizeof(a));
    fr_err e = fr_random(nonce, FR_TICKET_NONCE_LEN);
    if (e == FR_OK) e = ticket_aead(&a, key, nonce, 1);
    if (e == FR_OK) e = fr_aead_seal(&a, out, FR_TICKET_KEY_NAME_LEN, body, n, body + n);
    fr_aead_free(&a);
    fr_wipe(key, sizeof(key));
    return e;
}

fr_err fr_ticket_seal_state(fr_config *cfg, const uint8_t *state, size_t n, uint8_t *out,
                            size_t cap, size_t *len) {
    FR_ENSURE(n <= cap && cap - n >= TICKET_OVERHEAD, FERRULE_R_BUFFER_TOO_SMALL);
    if (n > 0) memmove(out + TICKET_PREFIX, state, n);
    FR_TRY(ticket_seal(cfg, out, n));
    *len = n + TICKET_OVERHEAD;
    return FR_OK;
}

/* The connection's buffer for opened tickets, grown to n bytes. */
static fr_err open_buffer(fr_conn *c, size_t n) {
    fr_resume_conn *rc = &c->resume;
    if (n <= rc->open_cap) return FR_OK;
    uint8_t *grown = fr_mem_alloc(&c->mem, n);
    FR_ENSURE(grown != NULL, fr_mem_error(&c->mem, n));
    fr_mem_free(&c->mem, rc->open_buf, rc->open_cap);
    rc->open_buf = grown;
    rc->open_cap = n;
    return FR_OK;
}

int fr_ticket_open(fr_conn *c, const uint8_t *t, size_t n, fr_reader *state, unsigned *trials) {
    uint8_t key[FR_TICKET_KEY_LEN];
    if (n < TICKET_OVERHEAD || !ring_find(c->cfg, t, key)) return FR_TICKET_NOT_OURS;
    /* Nothing between the nonce and the tag: no state, so not a ticket we
     * sealed (ours always carry one).  Refused before any decryption, and
     * not counted as one; it would also memcpy 0 bytes into the still
     * unallocated buffer (NULL), which is undefined behaviour (found by
     * fuzz_ticket, fuzz/crashers/fuzz_ticket/). */
    if (n == TICKET_OVERHEAD) {
        fr_wipe(key, sizeof(key));
        return FR_TICKET_BAD;
    }
    if (*trials >= FR_PSK_MAX_TRIALS) {
        fr_wipe(key, sizeof(key));
        return FR_TICKET_BUDGET;
    }
    ++*trials;
    fr_resume_conn *rc = &c->resume;
    size_t body_len = n - TICKET_OVERHEAD;
    fr_aead a;
    memset(&a, 0, sizeof(a));
    fr_err e = open_buffer(c, body_len);
    if (e == FR_OK) e = ticket_aead(&a, key, t + FR_TICKET_KEY_NAME_LEN, 0);
    fr_wipe(key, sizeof(key));
    if (e == FR_OK) {
        memcpy(rc->open_buf, t + TICKET_PREFIX, body_len);
        rc->open_len = body_len;
        e = fr_aead_open(&a, t, FR_TICKET_KEY_NAME_LEN, rc->open_buf, body_len,
                         t + n - FR_AEAD_TAG_LEN);
    }
    fr_aead_free(&a);
    if (e != FR_OK) return FR_TICKET_BAD; /* (the plaintext is wiped by fr_ticket_forget) */
    *state = fr_reader_init(rc->open_buf, body_len);
    return FR_TICKET_OPENED;
}

/* Wipe the plaintext of the last ticket opened (it holds the PSK). */
void fr_ticket_forget(fr_conn *c) {
    fr_wipe(c->resume.open_buf, c->resume.open_len);
    c->resume.open_len = 0;
}

/* ---- server: NewSessionTicket -------------------------------------------- */

/* The server needs resumption_master_secret only to mint the tickets it
 * schedules at the end of the handshake: wipe it once they are out. */
static void forget_resumption_secret(fr_conn *c) {
    fr_wipe(c->ks.resumption, sizeof(c->ks.resumption));
}

/* Bytes of the client identity in our ticket state: a flag, and with a
 * client chain its validation time and the chain as the client sent it
 * (what a full handshake's Certificate gave, or the ticket resumed). */
static size_t identity_size(const fr_conn *c) {
    if (c->n_peer_ders == 0) return 1;
    /* flag, identity_time, n_certs, a 3-byte length per certificate and
     * the bytes: c->peer_ders has 4 bytes of offset per certificate. */
    return 1 + 8 + 1 + c->peer_ders_size - c->n_peer_ders;
}

static void write_identity(fr_conn *c, fr_writer *w) {
    fr_write_u8(w, c->n_peer_ders > 0);
    if (c->n_peer_ders == 0) return;
    fr_resume_put_u64(w, c->resume.identity_time > 0 ? (uint64_t)c->resume.identity_time : 0);
    fr_write_u8(w, (uint8_t)c->n_peer_ders);
    for (size_t i = 0; i < c->n_peer_ders; i++) {
        const uint8_t *der;
        size_t len;
        (void)fr_conn_peer_der(c, i, &der, &len);
        fr_write_open_vec(w, 3);
        fr_write_bytes(w, der, len);
        fr_write_close_vec(w);
    }
}

/* RFC 8446 §4.6.1: opaque ticket<1..2^16-1>; and a client chain of at most
 * FR_MAX_PEER_CHAIN certificates (what a ticket's identity can hold). */
static int ticket_fits(const fr_conn *c) {
    return c->n_peer_ders <= FR_MAX_PEER_CHAIN &&
           TICKET_OVERHEAD + TICKET_STATE_MAX - 1 + identity_size(c) <= 0xffff;
}

void fr_server_schedule_tickets(fr_conn *c) {
    /* RFC 8446 §4.2.9: no tickets a client could not use, i.e. none to a
     * client that advertised no PSK mode we accept (also none at all, and
     * none while we refuse resumption: fr_server_note_psk_modes). */
    uint32_t n = c->resume.peer_modes != 0 ? c->cfg->resume.tickets : 0;
    /* The client's chain was validated in this handshake (a resumed one
     * carries the time of the handshake that did it).  A chain too large
     * for a ticket gets no ticket rather than one without it. */
    if (!c->resume.resumed) c->resume.identity_time = fr_conn_now(c);
    if (!ticket_fits(c)) n = 0;
    if (n == 0) {
        forget_resumption_secret(c);
        return;
    }
    atomic_store(&c->resume.pending_tickets, n);
    /* Buffer I/O: queue them now.  Callback I/O: they go out with the
     * server's next send-half call (ferrule_conn_write, also a flush with
     * len 0), never from inside the handshake call: a blocking send of
     * tickets there could deadlock against a client that writes first and
     * reads later. */
    if (!c->has_io) fr_conn_service_send(c);
}

/* The sealed state (docs/resumption.md, version 3). */
static void write_state(fr_conn *c, fr_writer *w, const uint8_t *psk, uint32_t age_add) {
    fr_write_u8(w, TICKET_STATE_VERSION);
    fr_write_u16(w, c->suite);
    fr_write_open_vec(w, 1);
    fr_write_bytes(w, psk, c->ks.hlen);
    fr_write_close_vec(w);
    fr_resume_put_u64(w, (uint64_t)fr_conn_now(c));
    fr_write_u32(w, FR_TICKET_LIFETIME);
    fr_write_u32(w, age_add);
    fr_write_open_vec(w, 1);
    fr_write_bytes(w, c->alpn, c->alpn_len);
    fr_write_close_vec(w);
    fr_write_open_vec(w, 1);
    if (c->has_server_name)
        fr_write_bytes(w, (const uint8_t *)c->server_name, strlen(c->server_name));
    fr_write_close_vec(w);
    /* 0-RTT: the allowance and the store that will remember the ticket. */
    const fr_early_config *ec = &c->cfg->early;
    fr_write_u32(w, ec->enabled ? ec->max_size : 0);
    fr_write_bytes(w, ec->store_id, FR_REPLAY_ID_LEN);
    write_identity(c, w);
}

static fr_err send_ticket(fr_conn *c) {
    const fr_suite_info *si = fr_suite_lookup(c->suite);
    FR_ENSURE(si != NULL, FERRULE_R_INTERNAL);
    /* ticket_nonce: a per-connection counter, unique per ticket (§4.6.1). */
    uint8_t nonce[4];
    uint32_t ctr = c->resume.ticket_counter++;
    for (int i = 0; i < 4; i++) nonce[i] = (uint8_t)(ctr >> (24 - 8 * i));
    uint8_t psk[FR_MAX_HASH], age_add_b[4];
    FR_TRY(fr_random(age_add_b, 4));
    uint32_t age_add = (uint32_t)age_add_b[0] << 24 | (uint32_t)age_add_b[1] << 16 |
                       (uint32_t)age_add_b[2] << 8 | age_add_b[3];
    FR_TRY(fr_ks_ticket_psk(c->ks.hash, c->ks.resumption, nonce, sizeof(nonce), psk));

    /* RFC 8446 §4.6.1: NewSessionTicket, its ticket sealed in place. */
    size_t cap = 64 + TICKET_OVERHEAD + TICKET_STATE_MAX + identity_size(c);
    uint8_t *msg = fr_mem_alloc(&c->mem, cap);
    if (msg == NULL) {
        fr_wipe(psk, sizeof(psk));
        return fr_mem_error(&c->mem, cap);
    }
    static const uint8_t zeros[TICKET_PREFIX + FR_AEAD_TAG_LEN];
    fr_writer m;
    fr_writer_init(&m, msg, cap);
    fr_write_u8(&m, FR_HS_NEW_SESSION_TICKET);
    fr_write_open_vec(&m, 3);
    fr_write_u32(&m, FR_TICKET_LIFETIME);
    fr_write_u32(&m, age_add);
    fr_write_open_vec(&m, 1);
    fr_write_bytes(&m, nonce, sizeof(nonce));
    fr_write_close_vec(&m);
    fr_write_open_vec(&m, 2);
    size_t ticket_at = m.len;
    fr_write_bytes(&m, zeros, TICKET_PREFIX); /* key_name || nonce */
    write_state(c, &m, psk, age_add);
    fr_wipe(psk, sizeof(psk));
    size_t state_len = m.len - ticket_at - TICKET_PREFIX;
    fr_write_bytes(&m, zeros, FR_AEAD_TAG_LEN);
    fr_write_close_vec(&m);
    fr_write_open_vec(&m, 2); /* extensions */
    const fr_early_config *ec = &c->cfg->early;
    if (ec->enabled) { /* RFC 8446 §4.2.10: max_early_data_size */
        fr_write_u16(&m, FR_EXT_EARLY_DATA);
        fr_write_open_vec(&m, 2);
        fr_write_u32(&m, ec->max_size);
        fr_write_close_vec(&m);
    }
    fr_write_close_vec(&m);
    fr_write_close_vec(&m);
    fr_err e = fr_write_finish(&m);
    if (e == FR_OK) e = ticket_seal(c->cfg, msg + ticket_at, state_len);
    if (e == FR_OK) e = fr_conn_send_post_handshake(c, msg, m.len);
    fr_mem_free(&c->mem, msg, cap); /* wipes */
    return e;
}

void fr_server_send_pending_tickets(fr_conn *c) {
    unsigned n = atomic_exchange(&c->resume.pending_tickets, 0);
    for (unsigned i = 0; i < n && !c->closed_sent; i++) {
        fr_err e = send_ticket(c);
        if (e != FR_OK) {
            (void)fr_conn_fail(c, e);
            return;
        }
    }
    if (n > 0) forget_resumption_secret(c);
}

/* ---- the sealed state, read back ------------------------------------------ */

/* u8 has_identity; then u64 identity_time, u8 n_certs (1..FR_MAX_PEER_CHAIN), n_certs
 * times opaque cert<1..2^24-1>. */
static fr_err parse_identity(fr_reader *r, fr_ticket_state *s) {
    uint8_t has, n;
    uint64_t at;
    FR_TRY(fr_read_u8(r, &has));
    FR_ENSURE(has <= 1, FERRULE_R_DECODE_ERROR);
    if (!has) return FR_OK;
    FR_TRY(fr_resume_get_u64(r, &at));
    FR_TRY(fr_read_u8(r, &n));
    FR_ENSURE(at <= (uint64_t)INT64_MAX && n >= 1 && n <= FR_MAX_PEER_CHAIN,
              FERRULE_R_DECODE_ERROR);
    s->identity_time = (int64_t)at;
    s->certs = *r;
    for (size_t i = 0; i < n; i++) {
        fr_reader der;
        FR_TRY(fr_read_vec24(r, &der));
        FR_ENSURE(!fr_reader_empty(&der), FERRULE_R_DECODE_ERROR);
    }
    s->n_certs = n;
    return FR_OK;
}

fr_err fr_ticket_parse_state(fr_reader *r, fr_ticket_state *s) {
    uint8_t v;
    fr_reader psk;
    FR_TRY(fr_read_u8(r, &v));
    FR_ENSURE(v >= 1 && v <= TICKET_STATE_VERSION, FERRULE_R_DECODE_ERROR);
    FR_TRY(fr_read_u16(r, &s->suite));
    FR_TRY(fr_read_vec8(r, &psk));
    s->psk_len = fr_reader_left(&psk);
    FR_ENSURE(s->psk_len > 0 && s->psk_len <= FR_MAX_HASH, FERRULE_R_DECODE_ERROR);
    memcpy(s->psk, psk.p, s->psk_len);
    FR_TRY(fr_resume_get_u64(r, &s->issued));
    FR_TRY(fr_read_u32(r, &s->lifetime));
    FR_TRY(fr_read_u32(r, &s->age_add));
    FR_TRY(fr_read_vec8(r, &s->alpn));
    FR_TRY(fr_read_vec8(r, &s->sni));
    s->max_early = 0;
    memset(s->store_id, 0, sizeof(s->store_id));
    s->n_certs = 0;
    s->identity_time = 0;
    if (v >= 2) {
        const uint8_t *id;
        FR_TRY(fr_read_u32(r, &s->max_early));
        FR_TRY(fr_read_bytes(r, FR_REPLAY_ID_LEN, &id));
        memcpy(s->store_id, id, FR_REPLAY_ID_LEN);
    }
    if (v >= 3) FR_TRY(parse_identity(r, s));
    return fr_read_done(r);
}
